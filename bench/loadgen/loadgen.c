/*
 * loadgen.c — the TLS load generator of the proxy bench (bench/proxy.sh). The client side is
 * OpenSSL's libssl, the same for every proxy measured; it is a bench-only dependency
 * (libssl-dev, `make bench`), never linked into moat. Usage: loadgen --help.
 *
 * Modes (each connection speaks HTTP/1.1 to build/backend through the proxy):
 *   handshake  connect, full handshake (or, with --resume, offer the last saved session),
 *              one GET PATH, read the answer, close_notify, close; again. The answer makes
 *              both ends finish the handshake (TLS 1.3 tickets arrive before it) and proves
 *              the path to the backend works. Rate: connections/s, each one handshake.
 *   request    --conns keep-alive connections, each sending GET PATH and reading the answer
 *              in a loop. Rate: requests/s; latency per request.
 *   bulk       --conns keep-alive connections, each repeating GET /bytes?n=SIZE (or, with
 *              --upload, POST /sha256 with a SIZE-byte body). Rate: MB/s (10^6 bytes) of
 *              application data, counted as it moves.
 *   idle       open --conns connections (at most --inflight handshaking at once), each
 *              doing its handshake and one GET PATH; print "ready ..." and hold them until
 *              SIGUSR1/SIGTERM/SIGINT or --hold seconds, then report.
 * Output: exactly one result line on stdout, "loadgen key=value ...". Exit status 0 when
 * something was measured and nothing failed, 1 when errors occurred, 2 for usage errors.
 *
 * Implementation notes
 * - T threads (--threads), each with its own epoll loop, connections, saved session and
 *   counters; the SSL_CTX is shared and read-only once the threads run. Sockets are
 *   non-blocking and registered edge-triggered for input and output once; drive() runs a
 *   connection's state machine until OpenSSL wants I/O (it only says so after read() or
 *   write() returned EAGAIN, which edge triggering needs) or the connection ends.
 * - A run lasts --duration seconds; an operation counts only if it completed inside that
 *   window, bytes count as they move. Operations in flight at the end are dropped.
 * - Latency: handshake = connect() to SSL_connect() done; request = request written to
 *   last response byte read. Samples are kept per thread and sorted once at the end
 *   (nearest-rank percentiles).
 * - Resumption is checked, never assumed: `resumed` counts what SSL_session_reused() says.
 */
#include <errno.h>
#include <fcntl.h>
#include <inttypes.h>
#include <limits.h>
#include <netdb.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <pthread.h>
#include <signal.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/epoll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include <openssl/err.h>
#include <openssl/ssl.h>

#define HDR_MAX 2048u /* response head (status line + headers) */
#define IO_BUF 65536u /* per-thread read buffer; response bytes are not kept */
#define REQ_MAX 512u  /* request head */
#define EVENTS 512
#define MAX_CONNS 1000000
#define MAX_THREADS 64
#define ERR_LEN 160

typedef enum { M_HANDSHAKE, M_REQUEST, M_BULK, M_IDLE } run_mode;

typedef struct {
    const char *connect;
    run_mode mode;
    int conns, threads, inflight;
    double duration, hold;
    bool resume, upload, verify, idle_request;
    uint64_t size;
    const char *path, *sni, *cafile, *suites, *ciphers, *groups, *label, *tls;
    struct sockaddr_storage addr;
    socklen_t addr_len;
} options;

typedef enum {
    C_CONNECTING, /* non-blocking connect() in progress */
    C_HANDSHAKE,  /* SSL_connect() */
    C_SEND,       /* request head, then (upload) the body */
    C_RECV,       /* response head, then body */
    C_IDLE,       /* idle mode: answered, now held open */
} conn_state;

struct worker;

typedef struct conn {
    struct worker *w;
    struct conn *prev, *next; /* the worker's open connections */
    int fd;
    SSL *ssl;
    conn_state state;
    uint64_t t0;       /* connect() or request start, ns */
    uint64_t hs_ns;    /* how long the handshake took */
    size_t req_off;    /* request head bytes written */
    uint64_t body_out; /* upload body bytes still to write */
    char hdr[HDR_MAX];
    size_t hdr_len;
    bool in_body;
    uint64_t body_left;
} conn;

typedef struct {
    uint64_t handshakes, resumed, requests, bytes_in, bytes_out, errors, dropped;
} counters;

typedef struct worker {
    int id, epfd;
    pthread_t thread;
    int target; /* connections to keep open (idle: to open, once) */
    int open, opened, idle, failed;
    int established; /* idle: connections that reached C_IDLE, drops not deducted */
    conn *conns;
    SSL_SESSION *session; /* the last one the server gave us (--resume) */
    counters n;
    uint64_t *lat;
    size_t n_lat, cap_lat;
    uint64_t backoff_until;
    char first_err[ERR_LEN];
    atomic_int ready; /* idle: every connection opened or failed */
    uint8_t *buf;
} worker;

static options opt;
static SSL_CTX *ctx;
static char request[REQ_MAX];
static size_t request_len;
static uint8_t pattern[IO_BUF];
static uint64_t t_start, t_deadline;
static atomic_int g_stop; /* lock-free, so a signal handler may store to it */
static int session_idx = -1;

static uint64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

static void die(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("loadgen: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    exit(2);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fputs("loadgen: out of memory\n", stderr);
        abort();
    }
    return q;
}

static bool in_window(void)
{
    return now_ns() < t_deadline && !g_stop;
}

static void lat_add(worker *w, uint64_t ns)
{
    if (w->n_lat == w->cap_lat) {
        w->cap_lat = w->cap_lat ? w->cap_lat * 2 : 4096;
        w->lat = xrealloc(w->lat, w->cap_lat * sizeof *w->lat);
    }
    w->lat[w->n_lat++] = ns;
}

/* Records the first error of this worker (later ones are only counted). */
static void fail_note(worker *w, const char *fmt, ...)
{
    w->n.errors++;
    if (w->first_err[0] != '\0')
        return;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(w->first_err, sizeof w->first_err, fmt, ap);
    va_end(ap);
}

/* Why an SSL call failed, in words: the OpenSSL error queue, else errno. */
static void ssl_fail(conn *c, const char *what, int ret)
{
    int e = SSL_get_error(c->ssl, ret);
    unsigned long q = ERR_peek_last_error();
    char msg[120];
    if (q != 0)
        ERR_error_string_n(q, msg, sizeof msg);
    else if (e == SSL_ERROR_SYSCALL && errno != 0)
        snprintf(msg, sizeof msg, "%s", strerror(errno));
    else if (e == SSL_ERROR_SYSCALL || e == SSL_ERROR_ZERO_RETURN)
        snprintf(msg, sizeof msg, "connection closed by peer");
    else
        snprintf(msg, sizeof msg, "SSL_get_error %d", e);
    ERR_clear_error();
    fail_note(c->w, "%s: %s", what, msg);
}

/* ---------------------------------------------------------------------------------------- */
/* Connections                                                                              */

static void conn_free(conn *c)
{
    worker *w = c->w;
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    if (c->ssl)
        SSL_free(c->ssl); /* before close(): SSL_free may still look at the fd's BIO */
    close(c->fd);
    w->open--;
    free(c);
}

/* A clean end: close_notify (not waiting for the peer's), then FIN. */
static void conn_finish(conn *c)
{
    SSL_shutdown(c->ssl);
    ERR_clear_error();
    conn_free(c);
}

static int on_new_session(SSL *ssl, SSL_SESSION *s)
{
    conn *c = SSL_get_ex_data(ssl, session_idx);
    if (c == NULL || !opt.resume)
        return 0;
    if (c->w->session)
        SSL_SESSION_free(c->w->session);
    c->w->session = s;
    return 1; /* we keep the reference */
}

static void conn_open(worker *w)
{
    w->opened++;
    int fd = socket(opt.addr.ss_family, SOCK_STREAM | SOCK_NONBLOCK | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        fail_note(w, "socket: %s", strerror(errno));
        w->backoff_until = now_ns() + 10000000u;
        if (opt.mode == M_IDLE)
            w->failed++;
        return;
    }
    int one = 1;
    setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one, sizeof one);
    conn *c = calloc(1, sizeof *c);
    if (c == NULL)
        abort();
    c->w = w;
    c->fd = fd;
    c->t0 = now_ns();
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->open++;
    if (connect(fd, (struct sockaddr *)&opt.addr, opt.addr_len) != 0 && errno != EINPROGRESS) {
        fail_note(w, "connect: %s", strerror(errno));
        w->backoff_until = now_ns() + 10000000u; /* e.g. EADDRNOTAVAIL: ports in TIME_WAIT */
        if (opt.mode == M_IDLE)
            w->failed++;
        conn_free(c);
        return;
    }
    c->ssl = SSL_new(ctx);
    if (c->ssl == NULL || SSL_set_fd(c->ssl, fd) != 1)
        die("SSL_new/SSL_set_fd failed");
    SSL_set_ex_data(c->ssl, session_idx, c);
    SSL_set_tlsext_host_name(c->ssl, opt.sni);
    if (opt.verify && SSL_set1_host(c->ssl, opt.sni) != 1)
        die("SSL_set1_host failed");
    if (opt.resume && w->session)
        SSL_set_session(c->ssl, w->session);
    SSL_set_connect_state(c->ssl);
    c->state = C_CONNECTING;
    struct epoll_event ev = {.events = EPOLLIN | EPOLLOUT | EPOLLRDHUP | EPOLLET, .data.ptr = c};
    if (epoll_ctl(w->epfd, EPOLL_CTL_ADD, fd, &ev) != 0)
        die("epoll_ctl: %s", strerror(errno));
}

static void request_start(conn *c)
{
    c->state = C_SEND;
    c->req_off = 0;
    c->body_out = opt.mode == M_BULK && opt.upload ? opt.size : 0;
    c->hdr_len = 0;
    c->in_body = false;
    c->t0 = now_ns();
}

/* A connection failed or the peer closed it: counted, freed. */
static void conn_lost(conn *c)
{
    worker *w = c->w;
    if (opt.mode == M_IDLE) {
        if (c->state == C_IDLE) {
            w->n.dropped++;
            w->idle--;
        } else {
            w->failed++;
        }
    }
    conn_free(c);
}

/* The response is complete. false: the connection is gone. */
static bool response_done(conn *c)
{
    worker *w = c->w;
    uint64_t t = now_ns();
    bool counted = t < t_deadline && !g_stop;
    switch (opt.mode) {
    case M_HANDSHAKE:
        if (counted) {
            w->n.handshakes++;
            w->n.requests++;
            w->n.resumed += SSL_session_reused(c->ssl) == 1;
            lat_add(w, c->hs_ns);
        }
        conn_finish(c);
        return false;
    case M_REQUEST:
    case M_BULK:
        if (counted) {
            w->n.requests++;
            lat_add(w, t - c->t0);
        }
        if (!counted) {
            conn_free(c);
            return false;
        }
        request_start(c);
        return true;
    case M_IDLE:
        c->state = C_IDLE;
        w->idle++;
        w->established++;
        return true;
    default:
        abort();
    }
}

/* Consumes n response bytes; <0 on a protocol error, 1 when the response ended, else 0. */
static int parse_response(conn *c, const uint8_t *p, size_t n)
{
    if (!c->in_body) {
        size_t take = n;
        if (c->hdr_len + take > sizeof c->hdr - 1)
            take = sizeof c->hdr - 1 - c->hdr_len;
        memcpy(c->hdr + c->hdr_len, p, take);
        size_t old = c->hdr_len;
        c->hdr_len += take;
        c->hdr[c->hdr_len] = '\0';
        char *end = strstr(c->hdr, "\r\n\r\n");
        if (end == NULL) {
            if (c->hdr_len >= sizeof c->hdr - 1) {
                fail_note(c->w, "response head over %u bytes", HDR_MAX);
                return -1;
            }
            return 0;
        }
        size_t head = (size_t)(end - c->hdr) + 4;
        if (strncmp(c->hdr, "HTTP/1.1 200 ", 13) != 0) {
            char *eol = strstr(c->hdr, "\r\n");
            fail_note(c->w, "response: %.*s", (int)(eol - c->hdr), c->hdr);
            return -1;
        }
        const char *cl = NULL;
        for (char *l = strstr(c->hdr, "\r\n"); l && l < end; l = strstr(l + 2, "\r\n"))
            if (strncasecmp(l + 2, "content-length:", 15) == 0) {
                cl = l + 17;
                break;
            }
        if (cl == NULL) {
            fail_note(c->w, "response without Content-Length");
            return -1;
        }
        c->body_left = strtoull(cl, NULL, 10);
        c->in_body = true;
        size_t used = head - old; /* bytes of p that belonged to the head */
        p += used;
        n -= used;
    }
    if (n > c->body_left) {
        fail_note(c->w, "%zu bytes after the response", n - (size_t)c->body_left);
        return -1;
    }
    c->body_left -= n;
    return c->body_left == 0;
}

/* Runs the state machine until OpenSSL wants I/O or the connection ends. */
static void drive(conn *c, uint32_t events)
{
    worker *w = c->w;
    for (;;) {
        switch (c->state) {
        case C_CONNECTING: {
            int err = 0;
            socklen_t len = sizeof err;
            if (!(events & (EPOLLOUT | EPOLLERR | EPOLLHUP)))
                return;
            getsockopt(c->fd, SOL_SOCKET, SO_ERROR, &err, &len);
            if (err != 0) {
                fail_note(w, "connect: %s", strerror(err));
                w->backoff_until = now_ns() + 10000000u;
                conn_lost(c);
                return;
            }
            c->state = C_HANDSHAKE;
            break;
        }
        case C_HANDSHAKE: {
            int r = SSL_connect(c->ssl);
            if (r != 1) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    return;
                ssl_fail(c, "handshake", r);
                conn_lost(c);
                return;
            }
            uint64_t t = now_ns();
            c->hs_ns = t - c->t0;
            if (opt.mode != M_HANDSHAKE && t < t_deadline && !g_stop) {
                w->n.handshakes++;
                w->n.resumed += SSL_session_reused(c->ssl) == 1;
                if (opt.mode == M_IDLE)
                    lat_add(w, c->hs_ns);
            }
            if (opt.mode == M_IDLE && !opt.idle_request) {
                c->state = C_IDLE;
                w->idle++;
                w->established++;
                break;
            }
            request_start(c);
            break;
        }
        case C_SEND: {
            const void *p;
            size_t n;
            if (c->req_off < request_len) {
                p = request + c->req_off;
                n = request_len - c->req_off;
            } else if (c->body_out > 0) {
                p = pattern;
                n = c->body_out < sizeof pattern ? (size_t)c->body_out : sizeof pattern;
            } else {
                c->state = C_RECV;
                break;
            }
            int r = SSL_write(c->ssl, p, (int)n);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    return;
                ssl_fail(c, "write", r);
                conn_lost(c);
                return;
            }
            if (in_window())
                w->n.bytes_out += (uint64_t)r;
            if (c->req_off < request_len)
                c->req_off += (size_t)r;
            else
                c->body_out -= (uint64_t)r;
            break;
        }
        case C_RECV:
        case C_IDLE: {
            int r = SSL_read(c->ssl, w->buf, IO_BUF);
            if (r <= 0) {
                int e = SSL_get_error(c->ssl, r);
                if (e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE)
                    return;
                if (c->state == C_IDLE && g_stop) {
                    conn_free(c);
                    return;
                }
                ssl_fail(c, c->state == C_IDLE ? "idle connection" : "read", r);
                conn_lost(c);
                return;
            }
            if (c->state == C_IDLE) {
                fail_note(w, "%d unexpected bytes on an idle connection", r);
                conn_lost(c);
                return;
            }
            if (in_window())
                w->n.bytes_in += (uint64_t)r;
            int done = parse_response(c, w->buf, (size_t)r);
            if (done < 0) {
                conn_lost(c);
                return;
            }
            if (done == 1 && !response_done(c))
                return;
            break;
        }
        default:
            abort();
        }
    }
}

/* ---------------------------------------------------------------------------------------- */
/* Workers                                                                                  */

static bool idle_phase_over(const worker *w)
{
    return w->established + w->failed >= w->target || now_ns() >= t_deadline;
}

static void *worker_run(void *arg)
{
    worker *w = arg;
    struct epoll_event evs[EVENTS];
    int cap = opt.mode == M_IDLE ? opt.inflight / opt.threads + 1 : INT_MAX;

    w->buf = xrealloc(NULL, IO_BUF);
    for (;;) {
        uint64_t now = now_ns();
        if (g_stop || (opt.mode != M_IDLE && now >= t_deadline))
            break;
        if (opt.mode == M_IDLE) {
            while (!w->ready && w->opened < w->target && w->opened - w->idle - w->failed < cap &&
                   now >= w->backoff_until && now < t_deadline)
                conn_open(w);
            if (!w->ready && idle_phase_over(w))
                w->ready = 1;
        } else {
            while (w->open < w->target && now >= w->backoff_until)
                conn_open(w);
        }
        int timeout = 50;
        if (opt.mode != M_IDLE) {
            uint64_t left_ms = (t_deadline - now) / 1000000u + 1;
            if (left_ms < (uint64_t)timeout)
                timeout = (int)left_ms;
        }
        if (w->backoff_until > now && (w->backoff_until - now) / 1000000u < (uint64_t)timeout)
            timeout = (int)((w->backoff_until - now) / 1000000u) + 1;
        int k = epoll_wait(w->epfd, evs, EVENTS, timeout);
        if (k < 0 && errno != EINTR)
            die("epoll_wait: %s", strerror(errno));
        for (int i = 0; i < k; i++)
            drive(evs[i].data.ptr, evs[i].events);
    }
    while (w->conns)
        conn_free(w->conns);
    return NULL;
}

/* ---------------------------------------------------------------------------------------- */
/* Setup, report, main                                                                      */

static void on_signal(int sig)
{
    (void)sig;
    g_stop = 1;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: loadgen --connect HOST:PORT [--mode handshake|request|bulk|idle]\n"
               "               [-c|--conns N] [-d|--duration SECONDS] [-t|--threads N]\n"
               "               [--resume] [--size BYTES] [--upload] [--path PATH]\n"
               "               [--inflight N] [--hold SECONDS] [--no-request]\n"
               "               [--sni NAME] [--cafile FILE] [--tls 1.3|1.2]\n"
               "               [--suites LIST] [--ciphers LIST] [--groups LIST] [--label NAME]\n"
               "defaults: mode handshake, 16 connections (bulk 4, idle 10000), 5 s (idle: 60 s\n"
               "to open them all), 1 thread, TLS 1.3, TLS_AES_128_GCM_SHA256, X25519, SNI\n"
               "localhost, path /, bulk size 16 MiB, idle: 100 in flight, held up to 600 s.\n"
               "Without --cafile the chain is not verified (the server's CertificateVerify\n"
               "signature still is). Prints one line: loadgen key=value ...\n");
}

static bool parse_num(const char *s, double lo, double hi, double *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno != 0 || end == s || *end != '\0' || !(v >= lo && v <= hi))
        return false;
    *out = v;
    return true;
}

static void parse_options(int argc, char **argv)
{
    double v;
    int conns = -1;
    opt.mode = M_HANDSHAKE;
    opt.threads = 1;
    opt.duration = -1;
    opt.hold = 600;
    opt.inflight = 100;
    opt.size = 16u << 20;
    opt.path = "/";
    opt.sni = "localhost";
    opt.suites = "TLS_AES_128_GCM_SHA256";
    opt.ciphers = "ECDHE-ECDSA-AES128-GCM-SHA256:ECDHE-RSA-AES128-GCM-SHA256";
    opt.groups = "X25519";
    opt.label = "-";
    opt.tls = "1.3";
    opt.idle_request = true;
    for (int i = 1; i < argc; i++) {
        const char *a = argv[i];
        bool flag = strcmp(a, "--resume") == 0 || strcmp(a, "--upload") == 0 ||
                    strcmp(a, "--no-request") == 0 || strcmp(a, "--help") == 0 ||
                    strcmp(a, "-h") == 0;
        const char *val = NULL;
        if (!flag) {
            if (i + 1 >= argc)
                die("%s needs a value (--help)", a);
            val = argv[++i];
        }
        if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(a, "--resume") == 0) {
            opt.resume = true;
        } else if (strcmp(a, "--upload") == 0) {
            opt.upload = true;
        } else if (strcmp(a, "--no-request") == 0) {
            opt.idle_request = false;
        } else if (strcmp(a, "--connect") == 0) {
            opt.connect = val;
        } else if (strcmp(a, "--mode") == 0) {
            if (strcmp(val, "handshake") == 0)
                opt.mode = M_HANDSHAKE;
            else if (strcmp(val, "request") == 0)
                opt.mode = M_REQUEST;
            else if (strcmp(val, "bulk") == 0)
                opt.mode = M_BULK;
            else if (strcmp(val, "idle") == 0)
                opt.mode = M_IDLE;
            else
                die("--mode: handshake, request, bulk or idle");
        } else if (strcmp(a, "-c") == 0 || strcmp(a, "--conns") == 0) {
            if (!parse_num(val, 1, MAX_CONNS, &v))
                die("--conns: 1 to %d", MAX_CONNS);
            conns = (int)v;
        } else if (strcmp(a, "-d") == 0 || strcmp(a, "--duration") == 0) {
            if (!parse_num(val, 0.01, 86400, &opt.duration))
                die("--duration: 0.01 to 86400 seconds");
        } else if (strcmp(a, "-t") == 0 || strcmp(a, "--threads") == 0) {
            if (!parse_num(val, 1, MAX_THREADS, &v))
                die("--threads: 1 to %d", MAX_THREADS);
            opt.threads = (int)v;
        } else if (strcmp(a, "--size") == 0) {
            if (!parse_num(val, 0, 1e15, &v))
                die("--size: 0 to 10^15 bytes");
            opt.size = (uint64_t)v;
        } else if (strcmp(a, "--inflight") == 0) {
            if (!parse_num(val, 1, MAX_CONNS, &v))
                die("--inflight: 1 to %d", MAX_CONNS);
            opt.inflight = (int)v;
        } else if (strcmp(a, "--hold") == 0) {
            if (!parse_num(val, 0, 86400, &opt.hold))
                die("--hold: 0 to 86400 seconds");
        } else if (strcmp(a, "--path") == 0) {
            opt.path = val;
        } else if (strcmp(a, "--sni") == 0) {
            opt.sni = val;
        } else if (strcmp(a, "--cafile") == 0) {
            opt.cafile = val;
            opt.verify = true;
        } else if (strcmp(a, "--suites") == 0) {
            opt.suites = val;
        } else if (strcmp(a, "--ciphers") == 0) {
            opt.ciphers = val;
        } else if (strcmp(a, "--groups") == 0) {
            opt.groups = val;
        } else if (strcmp(a, "--label") == 0) {
            opt.label = val;
        } else if (strcmp(a, "--tls") == 0) {
            if (strcmp(val, "1.3") != 0 && strcmp(val, "1.2") != 0)
                die("--tls: 1.3 or 1.2");
            opt.tls = val;
        } else {
            usage(stderr);
            die("unknown argument '%s'", a);
        }
    }
    if (opt.connect == NULL) {
        usage(stderr);
        die("--connect HOST:PORT is required");
    }
    if (conns < 0)
        conns = opt.mode == M_IDLE ? 10000 : opt.mode == M_BULK ? 4 : 16;
    opt.conns = conns;
    if (opt.duration < 0)
        opt.duration = opt.mode == M_IDLE ? 60 : 5;
    if (opt.threads > opt.conns)
        opt.threads = opt.conns;
    for (const char *p = opt.path; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            die("--path: no spaces or control characters");
    for (const char *p = opt.label; *p; p++)
        if (*p <= ' ' || *p == 0x7f)
            die("--label: no spaces or control characters");

    /* HOST:PORT, HOST an IPv4 literal or [IPv6] */
    char host[128];
    const char *colon = strrchr(opt.connect, ':');
    if (colon == NULL || colon == opt.connect || (size_t)(colon - opt.connect) >= sizeof host)
        die("--connect: HOST:PORT");
    memcpy(host, opt.connect, (size_t)(colon - opt.connect));
    host[colon - opt.connect] = '\0';
    char *h = host;
    if (h[0] == '[' && h[strlen(h) - 1] == ']') {
        h[strlen(h) - 1] = '\0';
        h++;
    }
    struct addrinfo hints = {.ai_socktype = SOCK_STREAM,
                             .ai_flags = AI_NUMERICHOST | AI_NUMERICSERV};
    struct addrinfo *res;
    if (getaddrinfo(h, colon + 1, &hints, &res) != 0)
        die("--connect: '%s' is not an IP literal and port", opt.connect);
    memcpy(&opt.addr, res->ai_addr, res->ai_addrlen);
    opt.addr_len = res->ai_addrlen;
    freeaddrinfo(res);
}

static void build_request(void)
{
    int n;
    if (opt.mode == M_BULK && opt.upload)
        n = snprintf(request, sizeof request,
                     "POST /sha256 HTTP/1.1\r\nHost: %s\r\nContent-Length: %" PRIu64 "\r\n\r\n",
                     opt.sni, opt.size);
    else if (opt.mode == M_BULK)
        n = snprintf(request, sizeof request,
                     "GET /bytes?n=%" PRIu64 " HTTP/1.1\r\nHost: %s\r\n\r\n", opt.size, opt.sni);
    else
        n = snprintf(request, sizeof request, "GET %s HTTP/1.1\r\nHost: %s\r\n\r\n", opt.path,
                     opt.sni);
    if (n < 0 || (size_t)n >= sizeof request)
        die("request head over %u bytes", REQ_MAX);
    request_len = (size_t)n;
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)((i * 31 + 7) & 0xff);
}

static void setup_tls(void)
{
    ctx = SSL_CTX_new(TLS_client_method());
    if (ctx == NULL)
        die("SSL_CTX_new failed");
    int ver = strcmp(opt.tls, "1.3") == 0 ? TLS1_3_VERSION : TLS1_2_VERSION;
    if (SSL_CTX_set_min_proto_version(ctx, ver) != 1 ||
        SSL_CTX_set_max_proto_version(ctx, ver) != 1)
        die("cannot set TLS version %s", opt.tls);
    if (SSL_CTX_set_ciphersuites(ctx, opt.suites) != 1)
        die("--suites '%s' refused by OpenSSL", opt.suites);
    if (SSL_CTX_set_cipher_list(ctx, opt.ciphers) != 1)
        die("--ciphers '%s' refused by OpenSSL", opt.ciphers);
    if (SSL_CTX_set1_groups_list(ctx, opt.groups) != 1)
        die("--groups '%s' refused by OpenSSL", opt.groups);
    SSL_CTX_set_mode(ctx, SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER);
    if (opt.mode == M_IDLE)
        SSL_CTX_set_mode(ctx, SSL_MODE_RELEASE_BUFFERS); /* our side of 10,000 idle conns */
    if (opt.verify) {
        if (SSL_CTX_load_verify_locations(ctx, opt.cafile, NULL) != 1)
            die("--cafile %s: cannot load", opt.cafile);
        SSL_CTX_set_verify(ctx, SSL_VERIFY_PEER, NULL);
    } else {
        SSL_CTX_set_verify(ctx, SSL_VERIFY_NONE, NULL);
    }
    session_idx = SSL_get_ex_new_index(0, NULL, NULL, NULL, NULL);
    if (opt.resume) {
        SSL_CTX_set_session_cache_mode(ctx,
                                       SSL_SESS_CACHE_CLIENT | SSL_SESS_CACHE_NO_INTERNAL_STORE);
        SSL_CTX_sess_set_new_cb(ctx, on_new_session);
    }
}

/* Lets us hold --conns sockets (plus a few): soft limit up to the hard one. */
static void raise_nofile(void)
{
    struct rlimit rl;
    if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
        return;
    rlim_t need = (rlim_t)opt.conns + 64;
    if (rl.rlim_cur < need) {
        rl.rlim_cur = rl.rlim_max == RLIM_INFINITY || rl.rlim_max >= need ? need : rl.rlim_max;
        setrlimit(RLIMIT_NOFILE, &rl);
        getrlimit(RLIMIT_NOFILE, &rl);
    }
    if (rl.rlim_cur < need)
        die("--conns %d needs %llu file descriptors, the limit is %llu", opt.conns,
            (unsigned long long)need, (unsigned long long)rl.rlim_cur);
}

static int cmp_u64(const void *a, const void *b)
{
    uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
    return x < y ? -1 : x > y;
}

static double pct_ms(const uint64_t *v, size_t n, double p)
{
    if (n == 0)
        return -1;
    size_t k = (size_t)(p * (double)n + 0.999999999);
    if (k < 1)
        k = 1;
    return (double)v[k - 1] / 1e6;
}

int main(int argc, char **argv)
{
    static worker workers[MAX_THREADS];
    parse_options(argc, argv);
    raise_nofile();
    build_request();
    setup_tls();
    signal(SIGPIPE, SIG_IGN);

    struct sigaction sa = {.sa_handler = on_signal};
    sigemptyset(&sa.sa_mask);
    sigaction(SIGUSR1, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
    sigaction(SIGINT, &sa, NULL);
    sigset_t block, old;
    sigemptyset(&block);
    sigaddset(&block, SIGUSR1);
    sigaddset(&block, SIGTERM);
    sigaddset(&block, SIGINT);
    pthread_sigmask(SIG_BLOCK, &block, &old); /* the workers inherit this mask */

    t_start = now_ns();
    t_deadline = t_start + (uint64_t)(opt.duration * 1e9);
    for (int i = 0; i < opt.threads; i++) {
        worker *w = &workers[i];
        w->id = i;
        w->target = opt.conns / opt.threads + (i < opt.conns % opt.threads);
        w->epfd = epoll_create1(EPOLL_CLOEXEC);
        if (w->epfd < 0)
            die("epoll_create1: %s", strerror(errno));
        if (pthread_create(&w->thread, NULL, worker_run, w) != 0)
            die("pthread_create failed");
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);

    double open_secs = 0;
    int established = 0;
    if (opt.mode == M_IDLE) {
        struct timespec tick = {0, 10000000};
        for (;;) {
            int r = 0;
            for (int i = 0; i < opt.threads; i++)
                r += workers[i].ready != 0;
            if (r == opt.threads || g_stop)
                break;
            nanosleep(&tick, NULL);
        }
        open_secs = (double)(now_ns() - t_start) / 1e9;
        int failed = 0;
        for (int i = 0; i < opt.threads; i++) {
            established += workers[i].established;
            failed += workers[i].failed;
        }
        printf("ready established=%d failed=%d secs=%.3f\n", established, failed, open_secs);
        fflush(stdout);
        uint64_t hold_end = now_ns() + (uint64_t)(opt.hold * 1e9);
        while (!g_stop && now_ns() < hold_end)
            nanosleep(&tick, NULL);
    } else {
        struct timespec tick = {0, 10000000};
        while (!g_stop && now_ns() < t_deadline)
            nanosleep(&tick, NULL);
    }
    uint64_t t_end = now_ns();
    g_stop = 1;
    for (int i = 0; i < opt.threads; i++)
        pthread_join(workers[i].thread, NULL);

    counters n = {0};
    size_t n_lat = 0;
    const char *err = NULL;
    for (int i = 0; i < opt.threads; i++) {
        worker *w = &workers[i];
        n.handshakes += w->n.handshakes;
        n.resumed += w->n.resumed;
        n.requests += w->n.requests;
        n.bytes_in += w->n.bytes_in;
        n.bytes_out += w->n.bytes_out;
        n.errors += w->n.errors;
        n.dropped += w->n.dropped;
        n_lat += w->n_lat;
        if (err == NULL && w->first_err[0] != '\0')
            err = w->first_err;
    }
    uint64_t *lat = xrealloc(NULL, (n_lat ? n_lat : 1) * sizeof *lat);
    size_t k = 0;
    for (int i = 0; i < opt.threads; i++) {
        memcpy(lat + k, workers[i].lat, workers[i].n_lat * sizeof *lat);
        k += workers[i].n_lat;
    }
    qsort(lat, n_lat, sizeof *lat, cmp_u64);

    /* Rates are over the measurement window: the whole --duration unless stopped early. */
    double secs = opt.mode == M_IDLE ? (double)(t_end - t_start) / 1e9 : opt.duration;
    if (opt.mode != M_IDLE && t_end < t_deadline)
        secs = (double)(t_end - t_start) / 1e9;
    uint64_t hs = n.handshakes;
    static const char *names[] = {"handshake", "request", "bulk", "idle"};
    char errbuf[ERR_LEN];
    snprintf(errbuf, sizeof errbuf, "%s", err ? err : "-");
    for (char *p = errbuf; *p; p++)
        if (*p == ' ')
            *p = '_';
    printf("loadgen label=%s mode=%s%s resume=%d tls=%s conns=%d threads=%d secs=%.3f "
           "handshakes=%" PRIu64 " resumed=%" PRIu64 " hs_per_s=%.1f requests=%" PRIu64
           " req_per_s=%.1f bytes_in=%" PRIu64 " bytes_out=%" PRIu64 " mb_per_s=%.2f "
           "lat=%s p50_ms=%.3f p99_ms=%.3f samples=%zu",
           opt.label, names[opt.mode], opt.mode == M_BULK ? (opt.upload ? "-up" : "-down") : "",
           opt.resume, opt.tls, opt.conns, opt.threads, secs, n.handshakes, n.resumed,
           (double)hs / secs, n.requests, (double)n.requests / secs, n.bytes_in, n.bytes_out,
           (double)(n.bytes_in + n.bytes_out) / secs / 1e6,
           opt.mode == M_REQUEST ? "request"
           : opt.mode == M_BULK  ? "transfer"
                                 : "handshake",
           pct_ms(lat, n_lat, 0.50), pct_ms(lat, n_lat, 0.99), n_lat);
    if (opt.mode == M_IDLE)
        printf(" established=%d open_secs=%.3f dropped=%" PRIu64, established, open_secs,
               n.dropped);
    printf(" errors=%" PRIu64 " err=%s\n", n.errors, errbuf);
    fflush(stdout);

    for (int i = 0; i < opt.threads; i++) {
        if (workers[i].session)
            SSL_SESSION_free(workers[i].session);
        free(workers[i].lat);
        free(workers[i].buf);
        close(workers[i].epfd);
    }
    free(lat);
    SSL_CTX_free(ctx);
    bool measured = opt.mode == M_IDLE ? established > 0 : hs > 0 || n.requests > 0;
    return measured && n.errors == 0 ? 0 : 1;
}
