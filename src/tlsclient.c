/*
 * tlsclient.c — the engine's example client (rustls's tlsclient-mio, on libuv).
 *
 * Connects to HOSTNAME:PORT (or --connect ADDR), verifies the server's certificate for
 * HOSTNAME, sends standard input (or, with --http, one GET request) and copies what the
 * server sends to standard output until the server's close_notify. It shows the client
 * side of the sans-IO pipe of tls/tls.h (the only engine header used here) and is the
 * client the interop tests run against OpenSSL, GnuTLS and tlsserver.
 *
 * Implementation notes
 *  - One connection per process, so the client is one struct and its handles: the TCP
 *    socket, a timer that bounds the final drain, and a stream (pipe, tty) or file
 *    reader for standard input. uv_run returns once every handle is closed.
 *  - The ClientHello is queued by tls_client_conn_new before the socket exists; nothing
 *    is written until the connect succeeds, so a failed address can be closed and the
 *    next one tried without losing queued bytes.
 *  - Standard input is read while connecting: the engine buffers plaintext until the
 *    handshake completes (up to its cap, then we stop reading). Afterwards the TCP write
 *    queue is the backpressure: stdin is read only while it is below HIGH_WATER.
 *  - At stdin EOF we send close_notify but keep reading: a TLS half-close (RFC 8446
 *    §6.1), as openssl s_client and gnutls-cli do. rustls's tlsclient-mio never closes
 *    first, which leaves it hanging on an echo server. With --http nothing is read and
 *    the server is left to close first.
 *  - Only the server's close_notify is a clean end (exit 0). A TCP EOF before it is a
 *    truncation (rustls's reader reports UnexpectedEof): "TLS error: unexpected EOF".
 *  - Plaintext goes to stdout with blocking writes: a slow consumer slows the
 *    connection down, which is the backpressure we want for a one-connection tool.
 *  - --cache FILE: a session store loaded before connecting and saved (mode 0600,
 *    atomically) when the process ends, whatever the outcome: a ticket offered is
 *    spent either way, and tickets that arrived are worth keeping.
 *  - --early-data FILE: the file is read whole before connecting; as much as the stored
 *    ticket allows goes out as 0-RTT right behind the ClientHello. Standard input (or
 *    --http's request) waits until the file has been handed over: once the handshake
 *    is done, the part not sent early (all of it if the server refused 0-RTT) goes
 *    first, so the server always sees the file, then the rest, in order.
 */
#include <errno.h>
#include <getopt.h>
#include <poll.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <uv.h>

#include "tls/tls.h"

#ifndef MOAT_VERSION
#define MOAT_VERSION "0.1.0"
#endif

#define HIGH_WATER (256u * 1024) /* stop reading stdin above this much queued for TCP */
#define LOW_WATER (64u * 1024)   /* ...and resume below this */
#define DRAIN_TIMEOUT_MS 2000    /* how long we wait for the server's FIN at the end */
#define MAX_LIST 32              /* repeats of --suite, --group, --proto, --protover */
#define HOST_MAX 256
#define CACHE_SERVERS 64                   /* server names a --cache file keeps */
#define EARLY_DATA_MAX (16u * 1024 * 1024) /* largest --early-data FILE */

typedef enum {
    ST_RESOLVING,  /* uv_getaddrinfo runs */
    ST_CONNECTING, /* TCP connect to the current address; the ClientHello waits */
    ST_HANDSHAKE,  /* connected; TLS handshake running */
    ST_OPEN,       /* plaintext flows (our side may have sent close_notify already) */
    ST_DRAINING,   /* done: last records and FIN queued; we read only to see EOF */
    ST_CLOSED,     /* handles are closing; uv_run returns when they are */
} client_state;

typedef enum {
    IN_HTTP,   /* --http: the request is canned, stdin is not read */
    IN_STREAM, /* a pipe, socket or terminal, read with uv_read_start */
    IN_FILE,   /* a regular file or device, read with uv_fs_read */
    IN_NONE,   /* stdin is closed: immediate EOF */
} input_kind;

typedef struct {
    const char *hostname, *connect, *cafile, *cache, *early_data, *auth_key, *auth_certs;
    uint16_t suites[MAX_LIST], groups[MAX_LIST], versions[MAX_LIST];
    size_t n_suites, n_groups, n_versions;
    const char *protos[MAX_LIST];
    size_t n_protos;
    unsigned long port, max_frag;
    bool http, no_sni, insecure, verbose, no_tickets;
} options;

typedef struct {
    uv_loop_t loop;
    uv_tcp_t tcp;
    uv_timer_t timer;
    union {
        uv_pipe_t pipe;
        uv_tty_t tty;
    } in;
    uv_fs_t in_req;
    uv_getaddrinfo_t gai_req;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    const options *opt;
    tls_conn *tls;
    client_state state;
    int status; /* exit status; the first failure sets it */
    char peer[INET6_ADDRSTRLEN + 16];
    /* Addresses still to try; the list is owned by us once uv_getaddrinfo returns. */
    struct addrinfo *ai_list, *ai_next;
    struct sockaddr_storage literal;
    int last_connect_error;
    /* Handles and requests in flight, so teardown knows what to wait for. */
    bool tcp_open, in_open, gai_busy, in_req_busy;
    bool tcp_reading, tcp_eof, shut_done;
    /* Standard input: bytes read but not yet taken by the engine. */
    input_kind in_kind;
    bool in_reading, in_eof, close_sent;
    size_t in_off, in_len;
    /* --early-data: the file; how much of it went as 0-RTT, and how much of the rest the
     * engine has taken since the handshake (early_done: all of it). */
    uint8_t *early;
    size_t early_len, early_sent, early_off;
    bool early_done;
    uint8_t inbuf[64 * 1024];
    char readbuf[64 * 1024];
    uint8_t plainbuf[16 * 1024];
} client;

static void on_tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_stdin_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_stdin_file_read(uv_fs_t *req);
static void try_next_address(client *c);
static void client_finish(client *c, int status);
static void close_all(client *c);

__attribute__((format(printf, 2, 3))) static void vlog(const client *c, const char *fmt, ...)
{
    va_list ap;
    if (!c->opt->verbose)
        return;
    fputs("tlsclient: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *or_dash(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : "-";
}

/* "1.2.3.4:443" or "[::1]:443". */
static void format_addr(const struct sockaddr *sa, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)sa;
        uv_ip6_name(a, host, sizeof host);
        snprintf(out, cap, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    } else if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)sa;
        uv_ip4_name(a, host, sizeof host);
        snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(a->sin_port));
    } else {
        snprintf(out, cap, "?");
    }
}

/* States only move forward; this is the one place to hook a trace of them. */
static void set_state(client *c, client_state s)
{
    if (s > c->state)
        c->state = s;
}

/* ---- failures ------------------------------------------------------------------- */

static void tls_fail(client *c, tls_error err)
{
    if (c->state >= ST_DRAINING)
        return;
    if (err == TLS_ERR_ALERT_RECEIVED)
        /* rustls prints AlertReceived(HandshakeFailure): which alert is the point. */
        fprintf(stderr, "TLS error: %s(%s)\n", tls_error_name(err),
                tls_alert_name(tls_conn_peer_alert(c->tls)));
    else
        fprintf(stderr, "TLS error: %s\n", tls_error_name(err));
    if (tls_error_alert(err) != TLS_ALERT_NONE)
        vlog(c, "sent alert %s", tls_alert_name(tls_error_alert(err)));
    client_finish(c, 1);
}

static void connection_fail(client *c, int uverr)
{
    if (c->state >= ST_DRAINING)
        return;
    fprintf(stderr, "connection error: %s\n", uv_strerror(uverr));
    client_finish(c, 1);
}

/* ---- stdout ----------------------------------------------------------------------- */

/* Blocking write of all of p; tolerates a non-blocking stdout (shared with stdin). */
static int write_stdout(const uint8_t *p, size_t len)
{
    while (len > 0) {
        ssize_t n = write(STDOUT_FILENO, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0 && (errno == EAGAIN || errno == EWOULDBLOCK)) {
            struct pollfd pfd = {.fd = STDOUT_FILENO, .events = POLLOUT};
            (void)poll(&pfd, 1, -1);
            continue;
        }
        if (n < 0)
            return -errno;
        p += n;
        len -= (size_t)n;
    }
    return 0;
}

/* ---- writing to the server --------------------------------------------------------- */

/* One uv_write and the bytes it carries, in a single allocation. */
typedef struct {
    uv_write_t req; /* first, so the request pointer is the block's pointer */
    uv_buf_t buf;
    char data[];
} wbuf;

static void update_reading(client *c);

static void on_tcp_written(uv_write_t *req, int status)
{
    client *c = req->handle->data;
    free((wbuf *)req);
    if (status < 0 && status != UV_ECANCELED) {
        connection_fail(c, status);
        return;
    }
    update_reading(c);
}

/* Moves everything the engine wants to send into the TCP write queue; returns how many
 * bytes moved. Nothing moves before the connect completes, or once our FIN is queued. */
static size_t flush_tls(client *c)
{
    size_t len, moved = 0;
    const uint8_t *p;
    if (c->state < ST_HANDSHAKE)
        return 0;
    while (c->state < ST_DRAINING && (p = tls_conn_peek_tls(c->tls, &len)) != NULL && len > 0) {
        wbuf *w = malloc(sizeof *w + len);
        int rc = UV_ENOMEM;
        if (w != NULL) {
            memcpy(w->data, p, len);
            w->buf = uv_buf_init(w->data, (unsigned)len);
            rc = uv_write(&w->req, (uv_stream_t *)&c->tcp, &w->buf, 1, on_tcp_written);
        }
        if (rc != 0) {
            /* Not even queued: the socket is unusable, so no goodbye can be sent
             * either. Closing at once (not client_finish, which would flush again). */
            free(w);
            if (c->state < ST_DRAINING)
                fprintf(stderr, "connection error: %s\n", uv_strerror(rc));
            c->status = 1;
            close_all(c);
            break;
        }
        tls_conn_consume_tls(c->tls, len);
        moved += len;
    }
    return moved;
}

/* ---- standard input ------------------------------------------------------------------ */

/* All input is in the engine and the handshake is over: our half of the conversation
 * ends with close_notify (never for --http: there the server closes first). */
static void maybe_close_input(client *c)
{
    if (c->in_kind == IN_HTTP || !c->in_eof || c->in_len > 0 || c->close_sent ||
        c->state != ST_OPEN || !c->early_done)
        return;
    c->close_sent = true;
    tls_conn_send_close_notify(c->tls);
    vlog(c, "end of input: sent close_notify");
}

/* Hands the --early-data file's unsent part to the engine once the handshake is over;
 * true when all of it is in. */
static bool push_early_rest(client *c)
{
    while (!c->early_done && c->state == ST_OPEN && !c->close_sent) {
        size_t n = 0;
        tls_error err;
        if (c->early_off == c->early_len) {
            c->early_done = true;
            break;
        }
        err = tls_conn_write(c->tls, c->early + c->early_off, c->early_len - c->early_off, &n);
        if (err != TLS_OK) {
            tls_fail(c, err);
            return false;
        }
        c->early_off += n;
        if (n == 0 && flush_tls(c) == 0)
            break;
    }
    return c->early_done;
}

/* Hands buffered input to the engine, flushing whenever its send buffer fills. */
static void push_input(client *c)
{
    if (!c->early_done && !push_early_rest(c)) {
        flush_tls(c);
        update_reading(c);
        return;
    }
    while (c->in_len > 0 && c->state <= ST_OPEN && !c->close_sent) {
        size_t n = 0;
        tls_error err = tls_conn_write(c->tls, c->inbuf + c->in_off, c->in_len, &n);
        if (err != TLS_OK) {
            tls_fail(c, err);
            return;
        }
        c->in_off += n;
        c->in_len -= n;
        /* Before the handshake ends the engine's buffer is simply full: wait for it. */
        if (n == 0 && flush_tls(c) == 0)
            break;
    }
    if (c->in_len == 0)
        c->in_off = 0;
    maybe_close_input(c);
    flush_tls(c);
    update_reading(c);
}

static void on_stdin_eof(client *c)
{
    c->in_eof = true;
    vlog(c, "end of input");
    push_input(c);
}

static void stdin_failed(client *c, int uverr)
{
    fprintf(stderr, "tlsclient: reading standard input: %s\n", uv_strerror(uverr));
    client_finish(c, 1);
}

static void on_stdin_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    client *c = h->data;
    (void)suggested;
    /* Reading runs only while inbuf is empty (update_reading), so all of it is free. */
    *buf = uv_buf_init((char *)c->inbuf, sizeof c->inbuf);
}

static void on_stdin_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    client *c = s->data;
    (void)buf;
    if (nread > 0) {
        c->in_off = 0;
        c->in_len = (size_t)nread;
        push_input(c);
    } else if (nread == UV_EOF) {
        c->in_reading = false; /* libuv stops reading on EOF and errors */
        on_stdin_eof(c);
    } else if (nread < 0) {
        c->in_reading = false;
        stdin_failed(c, (int)nread);
    }
}

static void on_stdin_file_read(uv_fs_t *req)
{
    client *c = req->data;
    ssize_t n = req->result;
    uv_fs_req_cleanup(req);
    c->in_req_busy = false;
    c->in_reading = false;
    if (c->state >= ST_DRAINING)
        return;
    if (n > 0) {
        c->in_off = 0;
        c->in_len = (size_t)n;
        push_input(c);
    } else if (n == 0) {
        on_stdin_eof(c);
    } else {
        stdin_failed(c, (int)n);
    }
}

static bool stdin_wanted(const client *c)
{
    size_t queued;
    if (c->in_eof || c->in_len > 0 || c->close_sent || c->state >= ST_DRAINING || !c->early_done)
        return false;
    if (c->state < ST_HANDSHAKE)
        return true; /* the engine's own buffer bounds what we read ahead */
    queued = uv_stream_get_write_queue_size((const uv_stream_t *)&c->tcp);
    return c->in_reading ? queued <= HIGH_WATER : queued < LOW_WATER;
}

/* Decides whether to read stdin and the socket; call after anything that moves bytes. */
static void update_reading(client *c)
{
    bool want = stdin_wanted(c);
    if (c->in_kind == IN_STREAM && c->in_open && want != c->in_reading) {
        int rc = want ? uv_read_start((uv_stream_t *)&c->in, on_stdin_alloc, on_stdin_read)
                      : uv_read_stop((uv_stream_t *)&c->in);
        if (rc == 0)
            c->in_reading = want;
        else if (want)
            stdin_failed(c, rc);
    } else if (c->in_kind == IN_FILE && want && !c->in_req_busy) {
        uv_buf_t b = uv_buf_init((char *)c->inbuf, sizeof c->inbuf);
        int rc;
        c->in_req.data = c;
        rc = uv_fs_read(&c->loop, &c->in_req, STDIN_FILENO, &b, 1, -1, on_stdin_file_read);
        if (rc != 0) {
            stdin_failed(c, rc);
            return;
        }
        c->in_req_busy = true;
        c->in_reading = true;
    }
    if (c->tcp_open && c->state >= ST_HANDSHAKE && c->state < ST_CLOSED && !c->tcp_eof &&
        !c->tcp_reading) {
        if (uv_read_start((uv_stream_t *)&c->tcp, on_tcp_alloc, on_tcp_read) == 0)
            c->tcp_reading = true;
    }
}

/* ---- teardown ------------------------------------------------------------------------ */

static void on_closed(uv_handle_t *h)
{
    (void)h;
}

static void close_all(client *c)
{
    if (c->state == ST_CLOSED)
        return;
    set_state(c, ST_CLOSED);
    if (c->tcp_open && !uv_is_closing((uv_handle_t *)&c->tcp))
        uv_close((uv_handle_t *)&c->tcp, on_closed);
    if (!uv_is_closing((uv_handle_t *)&c->timer))
        uv_close((uv_handle_t *)&c->timer, on_closed);
    if (c->in_open && !uv_is_closing((uv_handle_t *)&c->in))
        uv_close((uv_handle_t *)&c->in, on_closed);
    /* A getaddrinfo that already runs cannot be cancelled; its callback sees CLOSED. */
    if (c->gai_busy)
        (void)uv_cancel((uv_req_t *)&c->gai_req);
}

static void on_drain_timer(uv_timer_t *t)
{
    client *c = t->data;
    vlog(c, "no FIN from the server within %d ms; closing", DRAIN_TIMEOUT_MS);
    close_all(c);
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    client *c = req->handle->data;
    c->shut_done = true;
    if (status < 0 || c->tcp_eof)
        close_all(c);
}

/* Ends the conversation: queues what the engine still has (an alert, close_notify),
 * then FIN, and closes once the server's EOF arrives (or the timer fires). Waiting
 * for EOF keeps our kernel from answering late server bytes with a RST that could
 * destroy our last records before the server reads them. */
static void client_finish(client *c, int status)
{
    if (c->state >= ST_DRAINING)
        return;
    c->status = status;
    flush_tls(c);
    if (c->state >= ST_DRAINING) /* the flush failed and closed everything */
        return;
    if (c->in_kind == IN_STREAM && c->in_open && c->in_reading)
        uv_read_stop((uv_stream_t *)&c->in);
    c->in_reading = false;
    if (c->state < ST_HANDSHAKE) {
        close_all(c);
        return;
    }
    set_state(c, ST_DRAINING);
    uv_timer_start(&c->timer, on_drain_timer, DRAIN_TIMEOUT_MS, 0);
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_shutdown) != 0)
        close_all(c);
}

/* ---- the pump ---------------------------------------------------------------------- */

static void log_handshake(const client *c)
{
    size_t alpn_len = 0;
    const uint8_t *alpn = tls_conn_alpn(c->tls, &alpn_len);
    vlog(c, "handshake done version=%s suite=%s group=%s sig=%s alpn=%.*s hrr=%s",
         or_dash(tls_version_name(tls_conn_version(c->tls))),
         or_dash(tls_cipher_suite_name(tls_conn_cipher_suite(c->tls))),
         tls_conn_group(c->tls) ? tls_group_name(tls_conn_group(c->tls)) : "-",
         /* a resumed handshake has no signature */
         tls_conn_sig_scheme(c->tls) ? tls_sig_scheme_name(tls_conn_sig_scheme(c->tls)) : "-",
         alpn != NULL ? (int)alpn_len : 1, alpn != NULL ? (const char *)alpn : "-",
         tls_conn_did_hrr(c->tls) ? "yes" : "no");
    vlog(c, "%s", tls_conn_resumed(c->tls) ? "resumed" : "full handshake");
    size_t sct_len = 0, n_scts = 0;
    const uint8_t *scts = tls_conn_peer_scts(c->tls, &sct_len);
    /* The engine checked the list's framing (RFC 6962 §3.3): u16 length, then u16-length
     * prefixed SCTs. */
    for (size_t off = 2; scts != NULL && off + 2 <= sct_len; n_scts++)
        off += 2 + ((size_t)scts[off] << 8 | scts[off + 1]);
    if (scts != NULL)
        vlog(c, "signed certificate timestamps: %zu", n_scts);
    if (c->opt->early_data == NULL)
        return;
    if (c->early_sent == 0)
        vlog(c, "early data not sent (no ticket allows it); %zu bytes sent after the handshake",
             c->early_len);
    else if (tls_conn_early_data_accepted(c->tls))
        vlog(c, "early data accepted (%zu bytes)", c->early_sent);
    else
        vlog(c, "early data not accepted; %zu bytes sent again after the handshake", c->early_sent);
}

/* After each tls_conn_process: notice the handshake ending, drain all plaintext to
 * stdout, notice close_notify. Draining fully keeps room in the engine. */
static void progress(client *c)
{
    if (c->state == ST_HANDSHAKE && !tls_conn_is_handshaking(c->tls)) {
        set_state(c, ST_OPEN);
        log_handshake(c);
        /* §4.2.10: refused early data was not delivered; it goes again, first. */
        if (!c->early_done && !tls_conn_early_data_accepted(c->tls))
            c->early_off = 0;
        push_input(c);
    }
    while (c->state < ST_DRAINING) {
        size_t n = 0;
        int rc;
        tls_error err = tls_conn_read(c->tls, c->plainbuf, sizeof c->plainbuf, &n);
        if (err == TLS_ERR_CLOSED && tls_conn_peer_closed(c->tls))
            break;
        if (err != TLS_OK) {
            tls_fail(c, err);
            return;
        }
        if (n == 0)
            break;
        if ((rc = write_stdout(c->plainbuf, n)) != 0) {
            fprintf(stderr, "tlsclient: writing standard output: %s\n", strerror(-rc));
            client_finish(c, 1);
            return;
        }
    }
    if (c->state < ST_DRAINING && tls_conn_peer_closed(c->tls)) {
        if (c->state < ST_OPEN) {
            /* Nothing was authenticated yet: that is a refusal, not a clean end. */
            fprintf(stderr, "TLS error: %s(close_notify)\n",
                    tls_error_name(TLS_ERR_ALERT_RECEIVED));
            client_finish(c, 1);
            return;
        }
        vlog(c, "server sent close_notify");
        if (!c->close_sent) {
            c->close_sent = true;
            tls_conn_send_close_notify(c->tls);
        }
        client_finish(c, 0);
    }
}

static void feed(client *c, const uint8_t *p, size_t len)
{
    int stalls = 0;
    while (len > 0 && c->state < ST_DRAINING) {
        size_t used = 0;
        tls_error err = tls_conn_read_tls(c->tls, p, len, &used);
        if (err == TLS_OK)
            err = tls_conn_process(c->tls);
        if (err != TLS_OK) {
            tls_fail(c, err);
            return;
        }
        p += used;
        len -= used;
        progress(c);
        /* A full engine may refuse bytes once and take them after the drain above;
         * refusing round after round means it never will. */
        stalls = used == 0 ? stalls + 1 : 0;
        if (stalls > 4) {
            fprintf(stderr, "tlsclient: the engine takes no more TLS bytes; giving up\n");
            client_finish(c, 1);
            return;
        }
    }
    flush_tls(c);
}

static void on_tcp_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    client *c = h->data;
    (void)suggested;
    *buf = uv_buf_init(c->readbuf, sizeof c->readbuf);
}

static void on_tcp_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    client *c = s->data;
    if (nread > 0 && c->state < ST_DRAINING) {
        feed(c, (const uint8_t *)buf->base, (size_t)nread);
        update_reading(c);
        return;
    }
    /* Nothing, or bytes while draining: then we only wait for EOF. */
    if (nread >= 0)
        return;
    c->tcp_reading = false; /* libuv stops reading on EOF and errors */
    c->tcp_eof = true;
    if (c->state >= ST_DRAINING) {
        /* Closing before our FIN went out could drop the records still queued. */
        if (c->shut_done || nread != UV_EOF)
            close_all(c);
    } else if (nread == UV_EOF) {
        /* rustls's reader: a TCP EOF without close_notify is a truncation attack. */
        fprintf(stderr, "TLS error: unexpected EOF\n");
        vlog(c, "the server closed TCP without close_notify");
        client_finish(c, 1);
    } else {
        connection_fail(c, (int)nread);
    }
}

/* ---- connecting ------------------------------------------------------------------------ */

static void on_connected(uv_connect_t *req, int status)
{
    client *c = req->handle->data;
    if (status == UV_ECANCELED || c->state >= ST_DRAINING)
        return;
    if (status < 0) {
        vlog(c, "connect to %s: %s", c->peer, uv_strerror(status));
        c->last_connect_error = status;
        try_next_address(c);
        return;
    }
    vlog(c, "connected to %s", c->peer);
    set_state(c, ST_HANDSHAKE);
    uv_tcp_nodelay(&c->tcp, 1);
    flush_tls(c); /* the ClientHello */
    update_reading(c);
}

static void connect_to(client *c, const struct sockaddr *sa)
{
    int rc;
    format_addr(sa, c->peer, sizeof c->peer);
    vlog(c, "connecting to %s", c->peer);
    rc = uv_tcp_init(&c->loop, &c->tcp);
    if (rc != 0) {
        connection_fail(c, rc);
        return;
    }
    c->tcp.data = c;
    c->tcp_open = true;
    rc = uv_tcp_connect(&c->connect_req, &c->tcp, sa, on_connected);
    if (rc != 0) {
        c->last_connect_error = rc;
        try_next_address(c);
    }
}

/* The failed attempt's handle is closed first: its socket may be of another family. */
static void on_attempt_closed(uv_handle_t *h)
{
    client *c = h->data;
    c->tcp_open = false;
    if (c->state >= ST_DRAINING)
        return;
    while (c->ai_next != NULL && c->ai_next->ai_family != AF_INET &&
           c->ai_next->ai_family != AF_INET6)
        c->ai_next = c->ai_next->ai_next;
    if (c->ai_next == NULL) {
        connection_fail(c, c->last_connect_error != 0 ? c->last_connect_error : UV_EAI_NONAME);
        return;
    }
    struct addrinfo *ai = c->ai_next;
    c->ai_next = ai->ai_next;
    connect_to(c, ai->ai_addr);
}

static void try_next_address(client *c)
{
    if (c->tcp_open) {
        uv_close((uv_handle_t *)&c->tcp, on_attempt_closed);
        return;
    }
    c->tcp.data = c;
    on_attempt_closed((uv_handle_t *)&c->tcp);
}

static void on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    client *c = req->data;
    c->gai_busy = false;
    c->ai_list = res;
    c->ai_next = res;
    if (c->state >= ST_DRAINING)
        return;
    if (status < 0) {
        connection_fail(c, status);
        return;
    }
    set_state(c, ST_CONNECTING);
    try_next_address(c);
}

static int start_connecting(client *c)
{
    const char *target = c->opt->connect != NULL ? c->opt->connect : c->opt->hostname;
    char port[8];
    struct addrinfo hints;
    int rc;
    if (uv_ip4_addr(target, (int)c->opt->port, (struct sockaddr_in *)&c->literal) == 0 ||
        uv_ip6_addr(target, (int)c->opt->port, (struct sockaddr_in6 *)&c->literal) == 0) {
        set_state(c, ST_CONNECTING);
        connect_to(c, (const struct sockaddr *)&c->literal);
        return 0;
    }
    memset(&hints, 0, sizeof hints);
    hints.ai_family = AF_UNSPEC;
    hints.ai_socktype = SOCK_STREAM;
    hints.ai_protocol = IPPROTO_TCP;
    snprintf(port, sizeof port, "%lu", c->opt->port);
    vlog(c, "resolving %s", target);
    c->gai_req.data = c;
    rc = uv_getaddrinfo(&c->loop, &c->gai_req, on_resolved, target, port, &hints);
    if (rc == 0)
        c->gai_busy = true;
    return rc;
}

/* ---- startup ----------------------------------------------------------------------- */

static const char usage_text[] =
    "Connects to the TLS server at HOSTNAME:PORT [default PORT: 443], sends standard input\n"
    "(to EOF, then close_notify) or, with --http, a GET request for /, and copies what the\n"
    "server sends to standard output until it sends close_notify.\n"
    "\n"
    "Without --cafile the system's trusted CA certificates are used.\n"
    "\n"
    "Usage:\n"
    "  tlsclient [options] [--suite SUITE]... [--group GROUP]... [--proto PROTO]...\n"
    "            [--protover VERSION]... HOSTNAME\n"
    "  tlsclient (--version | -v)\n"
    "  tlsclient (--help | -h)\n"
    "\n"
    "Options:\n"
    "    -p, --port PORT     Connect to PORT [default: 443].\n"
    "    --connect ADDR      Connect to ADDR (address or name) instead of HOSTNAME;\n"
    "                        the certificate is still verified for HOSTNAME.\n"
    "    --http              Send a basic HTTP GET request for / instead of stdin.\n"
    "    --cafile CAFILE     Read root certificates from the PEM file CAFILE.\n"
    "    --suite SUITE       Use SUITE instead of the default cipher suites. Repeatable.\n"
    "    --group GROUP       Use GROUP instead of the default key exchange groups. Repeatable.\n"
    "    --proto PROTOCOL    Send ALPN extension containing PROTOCOL. Repeatable.\n"
    "    --protover VERSION  Use VERSION (1.2 or 1.3) instead of the defaults. Repeatable.\n"
    "    --no-sni            Do not send server name indication.\n"
    "    --insecure          Disable certificate verification. Dangerous.\n"
    "    --auth-key KEY      Read client authentication key from KEY.\n"
    "    --auth-certs CERTS  Read client authentication certificates from CERTS.\n"
    "                        CERTS must match up with KEY.\n"
    "    --max-frag-size M   Limit outgoing TLS plaintext fragments to M bytes.\n"
    "    --cache FILE        Resume sessions: load them from FILE, save them there at exit.\n"
    "    --no-tickets        Resume TLS 1.2 sessions by session ID only (no RFC 5077 tickets).\n"
    "    --early-data FILE   Send FILE as TLS 1.3 0-RTT data when a cached ticket allows it\n"
    "                        (else, or if refused, right after the handshake), then stdin.\n"
    "    --verbose           Log connection progress and negotiated parameters to stderr.\n"
    "    --version, -v       Show tool version.\n"
    "    --help, -h          Show this screen.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("tlsclient: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'tlsclient --help' for more information.\n", stderr);
    return 2;
}

static bool parse_ulong(const char *s, unsigned long min, unsigned long max, unsigned long *out)
{
    char *end;
    errno = 0;
    *out = strtoul(s, &end, 10);
    return s[0] >= '0' && s[0] <= '9' && errno == 0 && *end == '\0' && *out >= min && *out <= max;
}

/* Appends a looked-up name's value; -1 on success, else the exit status. */
static int push_value(uint16_t *list, size_t *n, uint16_t v, const char *what, const char *name)
{
    if (v == 0)
        return usage_error("unknown %s '%s'", what, name);
    if (*n == MAX_LIST)
        return usage_error("too many %s options", what);
    list[(*n)++] = v;
    return -1;
}

static uint16_t version_from_name(const char *s)
{
    if (strcmp(s, "1.3") == 0 || strcmp(s, "TLSv1.3") == 0)
        return TLS_VERSION_1_3;
    if (strcmp(s, "1.2") == 0 || strcmp(s, "TLSv1.2") == 0)
        return TLS_VERSION_1_2;
    return 0;
}

/* "[::1]" -> "::1" in place: the bracketed form is how URLs write IPv6 literals. */
static const char *strip_brackets(char *s)
{
    size_t n = strlen(s);
    if (n >= 2 && s[0] == '[' && s[n - 1] == ']') {
        s[n - 1] = '\0';
        return s + 1;
    }
    return s;
}

/* Returns -1 to go on, or the exit status (0 after --help/--version). */
static int parse_args(int argc, char **argv, options *o)
{
    /* Long-only options use letters missing from the short option string as codes. */
    static const struct option longopts[] = {
        {"port", required_argument, NULL, 'p'},
        {"connect", required_argument, NULL, 'A'},
        {"http", no_argument, NULL, 'H'},
        {"cafile", required_argument, NULL, 'C'},
        {"suite", required_argument, NULL, 'S'},
        {"group", required_argument, NULL, 'G'},
        {"proto", required_argument, NULL, 'P'},
        {"protover", required_argument, NULL, 'V'},
        {"no-sni", no_argument, NULL, 'N'},
        {"insecure", no_argument, NULL, 'I'},
        {"auth-key", required_argument, NULL, 'k'},
        {"auth-certs", required_argument, NULL, 'c'},
        {"max-frag-size", required_argument, NULL, 'F'},
        {"cache", required_argument, NULL, 'K'},
        {"no-tickets", no_argument, NULL, 'T'},
        {"early-data", required_argument, NULL, 'E'},
        {"verbose", no_argument, NULL, 'B'},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, rc = -1;
    memset(o, 0, sizeof *o);
    o->port = 443;
    while (rc < 0 && (ch = getopt_long(argc, argv, "p:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'A':
            o->connect = strip_brackets(optarg);
            break;
        case 'H':
            o->http = true;
            break;
        case 'C':
            o->cafile = optarg;
            break;
        case 'N':
            o->no_sni = true;
            break;
        case 'I':
            o->insecure = true;
            break;
        case 'k':
            o->auth_key = optarg;
            break;
        case 'c':
            o->auth_certs = optarg;
            break;
        case 'B':
            o->verbose = true;
            break;
        case 'K':
            o->cache = optarg;
            break;
        case 'T':
            o->no_tickets = true;
            break;
        case 'E':
            o->early_data = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'v':
            printf("tlsclient (moat) %s\n", MOAT_VERSION);
            return 0;
        case 'S':
            rc = push_value(o->suites, &o->n_suites, tls_cipher_suite_from_name(optarg),
                            "cipher suite", optarg);
            break;
        case 'G':
            rc = push_value(o->groups, &o->n_groups, tls_group_from_name(optarg),
                            "key exchange group", optarg);
            break;
        case 'V':
            rc = push_value(o->versions, &o->n_versions, version_from_name(optarg),
                            "protocol version (want 1.2 or 1.3)", optarg);
            break;
        case 'P':
            if (strlen(optarg) < 1 || strlen(optarg) > 255) /* RFC 7301 §3.1 */
                rc = usage_error("ALPN protocol '%s' must be 1 to 255 bytes", optarg);
            else if (o->n_protos == MAX_LIST)
                rc = usage_error("too many --proto options");
            else
                o->protos[o->n_protos++] = optarg;
            break;
        case 'F':
            if (!parse_ulong(optarg, 1, 16384, &o->max_frag))
                rc = usage_error("--max-frag-size wants 1..16384, not '%s'", optarg);
            break;
        case 'p':
            if (!parse_ulong(optarg, 1, 65535, &o->port))
                rc = usage_error("--port wants 1..65535, not '%s'", optarg);
            break;
        default: /* getopt_long has said what was wrong */
            fputs("Try 'tlsclient --help' for more information.\n", stderr);
            rc = 2;
        }
    }
    if (rc >= 0)
        return rc;
    if (argc - optind != 1)
        return usage_error(argc - optind == 0 ? "HOSTNAME is missing" : "give one HOSTNAME");
    o->hostname = strip_brackets(argv[optind]);
    if (o->hostname[0] == '\0' || strlen(o->hostname) >= HOST_MAX)
        return usage_error("HOSTNAME must be 1 to %d bytes", HOST_MAX - 1);
    if (o->connect != NULL && o->connect[0] == '\0')
        return usage_error("--connect wants an address or a name");
    if (o->cache != NULL && o->cache[0] == '\0')
        return usage_error("--cache wants a file name");
    if ((o->auth_key == NULL) != (o->auth_certs == NULL))
        return usage_error("--auth-key and --auth-certs go together: give both or neither");
    if (o->auth_key != NULL && (o->auth_key[0] == '\0' || o->auth_certs[0] == '\0'))
        return usage_error("--auth-key and --auth-certs want file names");
    return -1;
}

/* The --cache store, loaded; returns 0, or the exit status. */
static int load_cache(const options *o, tls_client_session_store **store)
{
    char err[512] = "";
    tls_error rc;
    if (o->cache == NULL)
        return 0;
    rc = tls_client_session_store_new(CACHE_SERVERS, store);
    if (rc == TLS_OK)
        rc = tls_client_session_store_load(*store, o->cache, err, sizeof err);
    if (rc != TLS_OK) {
        /* Not saved over at exit either: a file we cannot read may still be wanted. */
        fprintf(stderr, "tlsclient: %s\n", err[0] ? err : tls_error_name(rc));
        if (*store != NULL)
            tls_client_session_store_unref(*store);
        *store = NULL;
        return 1;
    }
    return 0;
}

/* The --auth-certs chain and its --auth-key, or NULL without them; returns 0, or the
 * exit status (the loader's sentence names the file and what is wrong with it). */
static int load_client_cert(const options *o, tls_certified_key **ck)
{
    char err[512] = "";
    tls_error rc;
    *ck = NULL;
    if (o->auth_key == NULL)
        return 0;
    rc = tls_certified_key_load(o->auth_certs, o->auth_key, ck, err, sizeof err);
    if (rc != TLS_OK) {
        fprintf(stderr, "tlsclient: client certificate: %s\n", err[0] ? err : tls_error_name(rc));
        return 1;
    }
    return 0;
}

/* Builds the client config; returns 0, or the exit status. */
static int make_config(const options *o, tls_client_session_store *store, tls_root_store **roots,
                       tls_client_config **cfg)
{
    tls_client_config_params params;
    tls_certified_key *client_cert = NULL;
    char err[512] = "";
    tls_error rc;
    int status;
    if ((status = load_client_cert(o, &client_cert)) != 0)
        return status;
    memset(&params, 0, sizeof params);
    params.client_cert = client_cert; /* the config takes its own reference */
    params.sessions = store;
    params.no_tickets = o->no_tickets;
    params.enable_early_data = o->early_data != NULL;
    params.versions = o->versions;
    params.n_versions = o->n_versions;
    params.cipher_suites = o->suites;
    params.n_cipher_suites = o->n_suites;
    params.groups = o->groups;
    params.n_groups = o->n_groups;
    params.alpn = o->protos;
    params.n_alpn = o->n_protos;
    params.disable_sni = o->no_sni;
    params.max_fragment_size = o->max_frag;
    if (o->insecure) {
        fprintf(stderr, "tlsclient: WARNING: --insecure: the server's certificate is NOT "
                        "verified; this connection is not secure\n");
        rc = tls_client_config_new_dangerous_unverified(&params, cfg, err, sizeof err);
    } else {
        rc = o->cafile != NULL ? tls_root_store_load(o->cafile, roots, err, sizeof err)
                               : tls_root_store_load_system(roots, err, sizeof err);
        if (rc != TLS_OK) {
            fprintf(stderr, "tlsclient: %s\n", err[0] ? err : tls_error_name(rc));
            tls_certified_key_unref(client_cert);
            return 1;
        }
        params.roots = *roots;
        rc = tls_client_config_new(&params, cfg, err, sizeof err);
    }
    tls_certified_key_unref(client_cert);
    if (rc != TLS_OK) {
        fprintf(stderr, "tlsclient: %s\n", err[0] ? err : "invalid TLS configuration");
        return 2;
    }
    return 0;
}

/* Reads the --early-data file and sends what the engine takes of it as 0-RTT; returns
 * 0, or the exit status. */
static int start_early_data(client *c)
{
    const char *path = c->opt->early_data;
    FILE *f;
    size_t cap = 0, n;
    c->early_done = path == NULL;
    if (path == NULL)
        return 0;
    if ((f = fopen(path, "rb")) == NULL) {
        fprintf(stderr, "tlsclient: cannot read %s: %s\n", path, strerror(errno));
        return 1;
    }
    for (;;) {
        if (c->early_len == cap) {
            uint8_t *p;
            cap = cap ? 2 * cap : 64 * 1024;
            if (cap > EARLY_DATA_MAX + 1 || (p = realloc(c->early, cap)) == NULL) {
                fprintf(stderr, "tlsclient: %s: too large for --early-data\n", path);
                fclose(f);
                return 1;
            }
            c->early = p;
        }
        n = fread(c->early + c->early_len, 1, cap - c->early_len, f);
        c->early_len += n;
        if (n == 0)
            break;
    }
    if (ferror(f)) {
        fprintf(stderr, "tlsclient: cannot read %s: %s\n", path, strerror(errno));
        fclose(f);
        return 1;
    }
    fclose(f);
    if (tls_conn_early_data_capacity(c->tls) > 0 && c->early_len > 0) {
        tls_error err = tls_conn_write_early_data(c->tls, c->early, c->early_len, &c->early_sent);
        if (err != TLS_OK) {
            fprintf(stderr, "TLS error: %s\n", tls_error_name(err));
            return 1;
        }
        vlog(c, "sending %zu bytes of early data", c->early_sent);
    }
    c->early_off = c->early_sent;
    return 0;
}

/* --http's request, or a stdin reader; returns 0 or a libuv error. */
static int setup_input(client *c)
{
    const options *o = c->opt;
    int rc = 0, n;
    if (o->http) {
        /* An IPv6 literal needs its brackets in Host (RFC 9110 §7.2, RFC 3986). */
        bool v6 = strchr(o->hostname, ':') != NULL;
        n = snprintf((char *)c->inbuf, sizeof c->inbuf,
                     "GET / HTTP/1.1\r\nHost: %s%s%s\r\nConnection: close\r\n"
                     "Accept-Encoding: identity\r\n\r\n",
                     v6 ? "[" : "", o->hostname, v6 ? "]" : "");
        c->in_kind = IN_HTTP;
        c->in_len = (size_t)n;
        c->in_eof = true;
        return 0;
    }
    switch (uv_guess_handle(STDIN_FILENO)) {
    case UV_TTY:
        c->in_kind = IN_STREAM;
        rc = uv_tty_init(&c->loop, &c->in.tty, STDIN_FILENO, 1);
        break;
    case UV_NAMED_PIPE:
    case UV_TCP:
    case UV_UDP:
        c->in_kind = IN_STREAM;
        rc = uv_pipe_init(&c->loop, &c->in.pipe, 0);
        if (rc == 0) {
            c->in_open = true;
            rc = uv_pipe_open(&c->in.pipe, STDIN_FILENO);
        }
        break;
    case UV_FILE:
        c->in_kind = IN_FILE;
        return 0;
    default: /* closed stdin: nothing to send */
        c->in_kind = IN_NONE;
        c->in_eof = true;
        return 0;
    }
    if (rc == 0)
        c->in_open = true;
    ((uv_handle_t *)&c->in)->data = c;
    return rc;
}

int main(int argc, char **argv)
{
    options opt;
    tls_client_session_store *store = NULL;
    tls_root_store *roots = NULL;
    tls_client_config *cfg = NULL;
    client *c = NULL;
    bool loop_ready = false;
    tls_error terr;
    int rc, status = parse_args(argc, argv, &opt);
    if (status >= 0)
        return status;
    /* A server that resets mid-write must cost us an EPIPE, not the process. */
    signal(SIGPIPE, SIG_IGN);
    if ((status = load_cache(&opt, &store)) != 0 ||
        (status = make_config(&opt, store, &roots, &cfg)) != 0)
        goto out;
    status = 1;
    c = calloc(1, sizeof *c);
    if (c == NULL) {
        fprintf(stderr, "tlsclient: out of memory\n");
        goto out;
    }
    c->opt = &opt;
    c->status = 1; /* until the server's close_notify says otherwise */
    terr = tls_client_conn_new(cfg, opt.hostname, &c->tls);
    if (terr != TLS_OK) {
        fprintf(stderr, "TLS error: %s\n", tls_error_name(terr));
        goto out;
    }
    if (start_early_data(c) != 0)
        goto out;
    if (uv_loop_init(&c->loop) != 0) {
        fprintf(stderr, "tlsclient: cannot create the event loop\n");
        goto out;
    }
    loop_ready = true;
    uv_timer_init(&c->loop, &c->timer);
    c->timer.data = c;
    if ((rc = setup_input(c)) != 0) {
        fprintf(stderr, "tlsclient: standard input: %s\n", uv_strerror(rc));
        goto out;
    }
    if ((rc = start_connecting(c)) != 0) {
        connection_fail(c, rc);
    } else {
        push_input(c); /* --http's request into the engine; or start reading stdin */
        update_reading(c);
    }
    uv_run(&c->loop, UV_RUN_DEFAULT);
    status = c->status;
out:
    if (loop_ready) {
        /* After a normal end nothing is left; after a failed start, some handles are. */
        if (c->state != ST_CLOSED)
            close_all(c);
        uv_run(&c->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&c->loop) != 0) {
            fprintf(stderr, "tlsclient: handles still open at exit\n");
            status = 1;
        }
    }
    if (c != NULL) {
        if (c->ai_list != NULL)
            uv_freeaddrinfo(c->ai_list);
        tls_conn_free(c->tls);
        free(c->early);
    }
    if (store != NULL) {
        char err[512] = "";
        if (tls_client_session_store_save(store, opt.cache, err, sizeof err) != TLS_OK) {
            fprintf(stderr, "tlsclient: %s\n", err);
            status = status ? status : 1;
        }
        tls_client_session_store_unref(store);
    }
    /* tls.h does not promise that unref(NULL) is a no-op. */
    if (cfg != NULL)
        tls_client_config_unref(cfg);
    if (roots != NULL)
        tls_root_store_unref(roots);
    free(c);
    uv_library_shutdown();
    return status;
}
