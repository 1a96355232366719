/*
 * tlsserver.c — the engine's example server (rustls's tlsserver-mio, on libuv).
 *
 * Accepts TCP connections, runs each through a tls_conn and hands the plaintext to one
 * of three modes: echo it back, answer one HTTP request, or forward it to a backend on
 * 127.0.0.1. It shows how a caller drives the sans-IO pipe of tls/tls.h (the only engine
 * header used here) and is the server the interop tests run against real clients.
 *
 * Implementation notes
 *  - The pump: TLS bytes from the socket go into the engine in a loop, because the engine
 *    takes fewer than offered when its buffer is full; tls_conn_process and a complete
 *    plaintext drain run between rounds so it always has room again. Whatever the engine
 *    wants to send is copied into one heap buffer per uv_write, freed in the write callback.
 *  - Backpressure is applied only by not reading a socket. Plaintext is always drained
 *    from the engine at once, so the engine can never wedge waiting for us; a sink's write
 *    queue may overshoot HIGH_WATER by at most one read's worth.
 *  - A conn owns up to three handles (client, timer, backend) and is freed in the last
 *    close callback. libuv runs every pending write, shutdown and connect callback (with
 *    UV_ECANCELED) before the close callbacks, so those callbacks may still use the conn.
 *  - The read and plaintext buffers are shared by all connections: libuv calls read_cb
 *    right after alloc_cb on the one loop thread, and every byte is consumed before
 *    read_cb returns.
 */
#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <uv.h>

#include "tls/tls.h"

#ifndef MOAT_VERSION
#define MOAT_VERSION "0.1.0"
#endif

#define CONN_MAGIC 0x6d6f6174u     /* "moat"; zeroed on free so stale pointers trip */
#define HIGH_WATER (256u * 1024)   /* stop reading the source above this much queued */
#define LOW_WATER (64u * 1024)     /* ...and resume below this: hysteresis, no flapping */
#define HANDSHAKE_TIMEOUT_MS 10000 /* a silent client must not hold a conn forever */
#define DRAIN_TIMEOUT_MS 5000      /* nor one that never reads our last bytes or FIN */
#define MAX_LIST 32                /* repeats of --suite, --group, --proto, --protover */

#define HTTP_BODY "Hello from moat tlsserver\r\n"
_Static_assert(sizeof HTTP_BODY - 1 == 27, "Content-Length below must match HTTP_BODY");
static const char http_response[] = "HTTP/1.1 200 OK\r\n"
                                    "Content-Type: text/plain\r\n"
                                    "Content-Length: 27\r\n"
                                    "Connection: close\r\n"
                                    "\r\n" HTTP_BODY;

typedef enum { MODE_ECHO, MODE_HTTP, MODE_FORWARD } run_mode;

typedef enum {
    CS_HANDSHAKE, /* TLS handshake running; the timer bounds it */
    CS_OPEN,      /* plaintext flows */
    CS_DRAINING,  /* done: last TLS bytes and FIN are queued; we read only to see EOF */
    CS_CLOSED,    /* handles are closing; freed in the last close callback */
} conn_state;

typedef enum {
    BE_NONE,       /* no backend handle (not forward mode, or its init failed) */
    BE_CONNECTING, /* writes queue inside libuv until the connect completes */
    BE_OPEN,       /* connected */
    BE_GONE,       /* connect failed or handle closing */
} backend_state;

typedef struct {
    const char *certs, *key, *address;
    struct sockaddr_storage addr;
    uint16_t suites[MAX_LIST], groups[MAX_LIST], versions[MAX_LIST];
    size_t n_suites, n_groups, n_versions;
    const char *protos[MAX_LIST];
    size_t n_protos;
    unsigned long port, fport, max_frag;
    bool verbose;
    bool require_ems;
    bool tickets;
    bool resumption;
    unsigned long max_early_data;
    const char *export_label;
    unsigned long export_len;
    const char *auth;  /* --auth CAFILE: client certificate roots */
    bool require_auth; /* --require-auth */
    const char *crls[MAX_LIST];
    size_t n_crls;
    const char *ocsp; /* --ocsp FILE: DER OCSPResponse to staple */
    const char *sct;  /* --sct FILE: SignedCertificateTimestampList to staple */
    run_mode mode;
} options;

typedef struct conn conn;

typedef struct {
    uv_loop_t loop;
    uv_tcp_t listener;
    uv_signal_t sigint, sigterm;
    tls_server_config *cfg;
    run_mode mode;
    int fport;
    bool verbose;
    bool stopping;
    const char *export_label; /* --keymatexport: log this exporter's output per connection */
    size_t export_len;
    bool client_auth; /* --auth: log each connection's client certificate */
    unsigned long next_id;
    conn *conns; /* every live conn, so shutdown can reach them */
    char readbuf[64 * 1024];
    uint8_t plainbuf[16 * 1024];
} server;

struct conn {
    uint32_t magic;
    uv_tcp_t tcp; /* the client */
    uv_timer_t timer;
    uv_tcp_t backend;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req, backend_shutdown_req;
    server *srv;
    tls_conn *tls;
    conn *prev, *next;
    unsigned long id;
    char peer[64];
    conn_state state;
    backend_state be;
    int live_handles;
    bool client_reading, backend_reading;
    bool client_eof; /* TCP FIN (or reset) from the client */
    bool shut_done;  /* our FIN to the client went out */
    /* Forward mode closes each direction on its own (TLS 1.3 allows half-close). */
    bool up_done;       /* client -> backend finished; the backend got FIN */
    bool down_done;     /* backend -> client finished; the client got close_notify */
    size_t early_bytes; /* 0-RTT plaintext received */
    bool early_logged;
};

/* One uv_write and the bytes it carries, in a single allocation. */
typedef struct {
    uv_write_t req; /* first, so the request pointer is the block's pointer */
    uv_buf_t buf;
    char data[];
} wbuf;

static void on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_backend_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);
static void on_timer(uv_timer_t *t);
static void conn_finish(conn *c);
static void conn_fail(conn *c, tls_error err);

static conn *conn_of(void *data)
{
    conn *c = data;
    if (c == NULL || c->magic != CONN_MAGIC) {
        fprintf(stderr, "tlsserver: handle data is not a live connection\n");
        abort();
    }
    return c;
}

__attribute__((format(printf, 2, 3))) static void conn_log(const conn *c, const char *fmt, ...)
{
    va_list ap;
    if (!c->srv->verbose)
        return;
    fprintf(stderr, "tlsserver: conn %lu from %s: ", c->id, c->peer);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
}

static const char *or_dash(const char *s)
{
    return s != NULL && s[0] != '\0' ? s : "-";
}

/* "1.2.3.4:443" or "[::1]:443", the forms tests and humans parse. */
static void format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        uv_ip6_name(a, host, sizeof host);
        snprintf(out, cap, "[%s]:%u", host, (unsigned)ntohs(a->sin6_port));
    } else if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        uv_ip4_name(a, host, sizeof host);
        snprintf(out, cap, "%s:%u", host, (unsigned)ntohs(a->sin_port));
    } else {
        snprintf(out, cap, "?");
    }
}

/* ---- connection lifetime ------------------------------------------------------ */

/* States only move forward; this is the one place to hook a trace of them. */
static void conn_set_state(conn *c, conn_state s)
{
    if (s > c->state)
        c->state = s;
}

static void conn_free(conn *c)
{
    if (c->prev != NULL)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next != NULL)
        c->next->prev = c->prev;
    tls_conn_free(c->tls);
    c->magic = 0;
    free(c);
}

static void on_handle_closed(uv_handle_t *h)
{
    conn *c = conn_of(h->data);
    if (--c->live_handles == 0)
        conn_free(c);
}

static void close_handle(uv_handle_t *h)
{
    if (!uv_is_closing(h))
        uv_close(h, on_handle_closed);
}

/* Hard close: pending writes are dropped. Idempotent. */
static void conn_close_handles(conn *c)
{
    if (c->state == CS_CLOSED)
        return;
    conn_set_state(c, CS_CLOSED);
    close_handle((uv_handle_t *)&c->tcp);
    close_handle((uv_handle_t *)&c->timer);
    if (c->be != BE_NONE) {
        c->be = BE_GONE;
        close_handle((uv_handle_t *)&c->backend);
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = conn_of(h->data);
    (void)suggested;
    *buf = uv_buf_init(c->srv->readbuf, sizeof c->srv->readbuf);
}

static void set_reading(uv_stream_t *s, bool *reading, bool want, uv_read_cb cb)
{
    if (*reading == want)
        return;
    if ((want ? uv_read_start(s, on_alloc, cb) : uv_read_stop(s)) == 0)
        *reading = want;
}

/* Hysteresis around the watermarks, judged on the sink's write queue. */
static bool sink_has_room(bool reading_now, uv_stream_t *sink)
{
    size_t queued = uv_stream_get_write_queue_size(sink);
    return reading_now ? queued <= HIGH_WATER : queued < LOW_WATER;
}

/* Decides which sockets to read from; call after anything that moves bytes. */
static void conn_update_reading(conn *c)
{
    uv_stream_t *client = (uv_stream_t *)&c->tcp, *backend = (uv_stream_t *)&c->backend;
    bool want = !c->client_eof;
    if (c->state >= CS_DRAINING)
        return;
    if (c->srv->mode == MODE_ECHO)
        want = want && sink_has_room(c->client_reading, client);
    if (c->srv->mode == MODE_FORWARD && c->be != BE_NONE)
        want = want && sink_has_room(c->client_reading, backend);
    set_reading(client, &c->client_reading, want, on_client_read);
    /* Backend bytes wait for the handshake: the engine only buffers a little plaintext
     * before it has keys, and a backend that speaks first would overflow it. */
    if (c->be == BE_OPEN)
        set_reading(backend, &c->backend_reading,
                    !c->down_done && c->state == CS_OPEN &&
                        sink_has_room(c->backend_reading, client),
                    on_backend_read);
}

/* ---- writing ------------------------------------------------------------------ */

/* Queues a copy of data on s. False when it could not; the caller tears down. */
static bool queue_write(uv_stream_t *s, const void *data, size_t len, uv_write_cb cb)
{
    wbuf *w = malloc(sizeof *w + len);
    if (w == NULL)
        return false;
    memcpy(w->data, data, len);
    w->buf = uv_buf_init(w->data, (unsigned)len);
    if (uv_write(&w->req, s, &w->buf, 1, cb) != 0) {
        free(w);
        return false;
    }
    return true;
}

static void on_client_written(uv_write_t *req, int status)
{
    conn *c = conn_of(req->handle->data);
    free((wbuf *)req);
    if (status < 0 && status != UV_ECANCELED) {
        conn_log(c, "write failed: %s", uv_strerror(status));
        conn_close_handles(c);
        return;
    }
    conn_update_reading(c);
}

/* Moves everything the engine wants to send into the client's write queue; returns how
 * many bytes moved. Peeking (rather than tls_conn_write_tls into a guessed size) sizes
 * each heap copy exactly. Once draining, our FIN has sealed the queue: nothing moves. */
static size_t conn_flush(conn *c)
{
    size_t len, moved = 0;
    const uint8_t *p;
    while (c->state < CS_DRAINING && (p = tls_conn_peek_tls(c->tls, &len)) != NULL && len > 0) {
        if (!queue_write((uv_stream_t *)&c->tcp, p, len, on_client_written)) {
            conn_log(c, "cannot queue %zu bytes for the client", len);
            conn_close_handles(c);
            break;
        }
        tls_conn_consume_tls(c->tls, len);
        moved += len;
    }
    return moved;
}

/* Encrypts plaintext for the client, flushing whenever the engine's send buffer fills. */
static void conn_send_plain(conn *c, const uint8_t *p, size_t len)
{
    while (len > 0 && c->state < CS_DRAINING) {
        size_t n = 0;
        tls_error err = tls_conn_write(c->tls, p, len, &n);
        if (err != TLS_OK) {
            conn_fail(c, err);
            return;
        }
        p += n;
        len -= n;
        if (n == 0 && conn_flush(c) == 0 && c->state < CS_DRAINING) {
            conn_log(c, "engine takes no plaintext and sends nothing; giving up");
            conn_close_handles(c);
        }
    }
}

/* ---- forward mode's backend ------------------------------------------------------ */

static void on_backend_shutdown(uv_shutdown_t *req, int status)
{
    conn *c = conn_of(req->handle->data);
    if (status < 0 && status != UV_ECANCELED)
        conn_log(c, "backend shutdown: %s", uv_strerror(status));
}

static void backend_shutdown(conn *c)
{
    int rc = uv_shutdown(&c->backend_shutdown_req, (uv_stream_t *)&c->backend, on_backend_shutdown);
    if (rc != 0)
        conn_log(c, "backend shutdown: %s", uv_strerror(rc));
}

static void backend_failed(conn *c, int rc)
{
    conn_log(c, "backend 127.0.0.1:%d unreachable: %s", c->srv->fport, uv_strerror(rc));
    tls_conn_send_close_notify(c->tls);
    conn_finish(c);
}

static void on_backend_connected(uv_connect_t *req, int status)
{
    conn *c = conn_of(req->handle->data);
    if (status == UV_ECANCELED || c->state >= CS_DRAINING)
        return;
    if (status < 0) {
        backend_failed(c, status);
        return;
    }
    c->be = BE_OPEN;
    uv_tcp_nodelay(&c->backend, 1);
    /* A shutdown queued while connecting could be lost (libuv stops polling for
     * writability at connect time when no write is queued), so it waits until now. */
    if (c->up_done)
        backend_shutdown(c);
    conn_update_reading(c);
}

static void backend_start(conn *c)
{
    struct sockaddr_in sa;
    int rc = uv_tcp_init(&c->srv->loop, &c->backend);
    if (rc == 0) {
        c->backend.data = c;
        c->live_handles++;
        c->be = BE_CONNECTING;
        rc = uv_ip4_addr("127.0.0.1", c->srv->fport, &sa);
    }
    if (rc == 0)
        rc = uv_tcp_connect(&c->connect_req, &c->backend, (const struct sockaddr *)&sa,
                            on_backend_connected);
    if (rc != 0)
        backend_failed(c, rc);
}

static void on_backend_written(uv_write_t *req, int status)
{
    conn *c = conn_of(req->handle->data);
    free((wbuf *)req);
    if (status < 0 && status != UV_ECANCELED && c->state < CS_DRAINING) {
        conn_log(c, "backend write failed: %s", uv_strerror(status));
        tls_conn_send_close_notify(c->tls);
        conn_finish(c);
        return;
    }
    conn_update_reading(c);
}

/* The backend will send no more: pass that on as close_notify. */
static void backend_done(conn *c)
{
    if (c->down_done)
        return;
    c->down_done = true;
    tls_conn_send_close_notify(c->tls);
    conn_flush(c);
    if (c->up_done)
        conn_finish(c);
}

static void on_backend_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = conn_of(s->data);
    if (nread > 0 && c->state < CS_DRAINING) {
        conn_send_plain(c, (const uint8_t *)buf->base, (size_t)nread);
        conn_flush(c);
        conn_update_reading(c);
    } else if (nread < 0) {
        c->backend_reading = false; /* libuv stops reading on EOF and errors */
        if (nread != UV_EOF)
            conn_log(c, "backend read: %s", uv_strerror((int)nread));
        backend_done(c);
    }
}

/* ---- the pump ----------------------------------------------------------------- */

/* The client will send no more plaintext: it sent close_notify, or only a TCP FIN
 * (then there is no one to answer with close_notify, except in forward mode, where the
 * backend's answer may still be on its way and ends with one). */
static void client_done(conn *c, bool close_notify)
{
    if (c->srv->mode != MODE_FORWARD) {
        if (close_notify)
            tls_conn_send_close_notify(c->tls);
        conn_finish(c);
        return;
    }
    if (c->up_done)
        return;
    c->up_done = true;
    if (c->be == BE_OPEN)
        backend_shutdown(c);
    if (c->down_done)
        conn_finish(c);
}

static void on_plaintext(conn *c, const uint8_t *p, size_t n)
{
    switch (c->srv->mode) {
    case MODE_ECHO:
        conn_send_plain(c, p, n);
        break;
    case MODE_HTTP:
        /* Whatever the request says, one answer and goodbye. */
        conn_send_plain(c, (const uint8_t *)http_response, sizeof http_response - 1);
        tls_conn_send_close_notify(c->tls);
        conn_finish(c);
        break;
    case MODE_FORWARD:
        if (c->up_done || c->be == BE_GONE)
            break;
        if (!queue_write((uv_stream_t *)&c->backend, p, n, on_backend_written)) {
            conn_log(c, "cannot queue %zu bytes for the backend", n);
            tls_conn_send_close_notify(c->tls);
            conn_finish(c);
        }
        break;
    default:
        abort();
    }
}

static void log_handshake(const conn *c)
{
    size_t alpn_len = 0;
    const uint8_t *alpn = tls_conn_alpn(c->tls, &alpn_len);
    conn_log(c,
             "handshake done version=%s suite=%s group=%s sig=%s sni=%s alpn=%.*s hrr=%s "
             "resumed=%s early_data=%s(%zu bytes)",
             or_dash(tls_version_name(tls_conn_version(c->tls))),
             or_dash(tls_cipher_suite_name(tls_conn_cipher_suite(c->tls))),
             or_dash(tls_group_name(tls_conn_group(c->tls))),
             or_dash(tls_conn_sig_scheme(c->tls) != 0 /* none when resumed */
                         ? tls_sig_scheme_name(tls_conn_sig_scheme(c->tls))
                         : NULL),
             or_dash(tls_conn_server_name(c->tls)), alpn != NULL ? (int)alpn_len : 1,
             alpn != NULL ? (const char *)alpn : "-", tls_conn_did_hrr(c->tls) ? "yes" : "no",
             tls_conn_resumed(c->tls) ? "yes" : "no",
             tls_conn_early_data_accepted(c->tls) ? "accepted" : "no", c->early_bytes);
    if (tls_conn_peer_cert_verified(c->tls))
        conn_log(c, "client certificate verified cn=%s (%s)", or_dash(tls_conn_peer_cn(c->tls)),
                 tls_conn_peer_cert_sent(c->tls) ? "sent on this connection"
                                                 : "from the resumed session");
    else if (c->srv->client_auth)
        conn_log(c, "no client certificate");
    if (c->srv->export_label) {
        uint8_t key[255];
        char hex[2 * sizeof key + 1];
        size_t n = c->srv->export_len;
        tls_error err =
            tls_conn_export_keying_material(c->tls, c->srv->export_label, NULL, 0, false, key, n);
        for (size_t i = 0; err == TLS_OK && i < n; i++)
            snprintf(hex + 2 * i, 3, "%02X", key[i]);
        conn_log(c, "exporter label=%s: %s", c->srv->export_label,
                 err == TLS_OK ? hex : tls_error_name(err));
    }
}

/* After each tls_conn_process: notice the handshake ending, drain all plaintext, notice
 * close_notify. Draining fully is what guarantees the engine room for the next bytes. */
static void conn_progress(conn *c)
{
    /* Said as soon as the engine takes 0-RTT, before the handshake can complete: the
     * anti-replay tests replay a ClientHello that can never complete. */
    if (!c->early_logged && tls_conn_early_data_accepted(c->tls)) {
        c->early_logged = true;
        conn_log(c, "0-RTT accepted");
    }
    bool handshake_ended = false;
    if (c->state == CS_HANDSHAKE && !tls_conn_is_handshaking(c->tls)) {
        conn_set_state(c, CS_OPEN);
        uv_timer_stop(&c->timer);
        handshake_ended = true;
    }
    /* 0-RTT data comes first in the stream; tlsserver treats it like the rest (a
     * real service must only do with it what is safe to replay) once the handshake
     * is done, when a forward mode backend is connected. The engine holds it until
     * then (at most --max-early-data bytes). */
    while (c->state == CS_OPEN && tls_conn_early_data_accepted(c->tls)) {
        size_t n = 0;
        tls_error err =
            tls_conn_read_early_data(c->tls, c->srv->plainbuf, sizeof c->srv->plainbuf, &n);
        if (err != TLS_OK) {
            conn_fail(c, err);
            return;
        }
        if (n == 0)
            break;
        c->early_bytes += n;
        on_plaintext(c, c->srv->plainbuf, n);
    }
    if (handshake_ended) {
        log_handshake(c);
        conn_update_reading(c);
    }
    while (c->state < CS_DRAINING) {
        size_t n = 0;
        tls_error err = tls_conn_read(c->tls, c->srv->plainbuf, sizeof c->srv->plainbuf, &n);
        /* tls.h does not say whether reading after close_notify is an error; it is not. */
        if (err == TLS_ERR_CLOSED && tls_conn_peer_closed(c->tls))
            break;
        if (err != TLS_OK) {
            conn_fail(c, err);
            return;
        }
        if (n == 0)
            break;
        on_plaintext(c, c->srv->plainbuf, n);
    }
    if (c->state < CS_DRAINING && tls_conn_peer_closed(c->tls))
        client_done(c, true);
}

static void conn_feed(conn *c, const uint8_t *p, size_t len)
{
    int stalls = 0;
    while (len > 0 && c->state < CS_DRAINING) {
        size_t used = 0;
        tls_error err = tls_conn_read_tls(c->tls, p, len, &used);
        if (err == TLS_OK)
            err = tls_conn_process(c->tls);
        if (err != TLS_OK) {
            conn_fail(c, err);
            return;
        }
        p += used;
        len -= used;
        conn_progress(c);
        /* A full engine may refuse bytes once and accept them after the process and
         * drain above; refusing round after round means it never will, and looping on
         * would hang every connection on this loop. */
        stalls = used == 0 ? stalls + 1 : 0;
        if (stalls > 4) {
            conn_log(c, "engine takes no more TLS bytes; giving up");
            conn_close_handles(c);
            return;
        }
    }
    conn_flush(c);
}

static void on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = conn_of(s->data);
    if (nread > 0 && c->state < CS_DRAINING) {
        conn_feed(c, (const uint8_t *)buf->base, (size_t)nread);
        conn_update_reading(c);
    } else if (nread < 0) {
        c->client_reading = false; /* libuv stops reading on EOF and errors */
        c->client_eof = true;
        if (c->state >= CS_DRAINING) {
            if (c->shut_done || nread != UV_EOF)
                conn_close_handles(c);
        } else if (nread == UV_EOF) {
            client_done(c, false);
        } else {
            conn_log(c, "read failed: %s", uv_strerror((int)nread));
            conn_close_handles(c);
        }
    }
    /* Bytes arriving while draining are dropped: we only wait for the client's EOF. */
}

static void on_client_shutdown(uv_shutdown_t *req, int status)
{
    conn *c = conn_of(req->handle->data);
    c->shut_done = true;
    if (status < 0 || c->client_eof)
        conn_close_handles(c);
}

/* Sends what the engine has queued (alert, close_notify), then FIN, then closes.
 * Closing only after the client's EOF (bounded by the timer) keeps the kernel from
 * answering late client bytes with a RST that could destroy our last records. */
static void conn_finish(conn *c)
{
    if (c->state >= CS_DRAINING)
        return;
    conn_flush(c);
    if (c->state >= CS_DRAINING)
        return;
    conn_set_state(c, CS_DRAINING);
    if (c->be != BE_NONE) {
        c->be = BE_GONE;
        close_handle((uv_handle_t *)&c->backend);
    }
    uv_timer_start(&c->timer, on_timer, DRAIN_TIMEOUT_MS, 0);
    set_reading((uv_stream_t *)&c->tcp, &c->client_reading, !c->client_eof, on_client_read);
    if (uv_shutdown(&c->shutdown_req, (uv_stream_t *)&c->tcp, on_client_shutdown) != 0)
        conn_close_handles(c);
}

static void conn_fail(conn *c, tls_error err)
{
    int alert = tls_error_alert(err);
    if (err == TLS_ERR_ALERT_RECEIVED)
        conn_log(c, "error %s (peer alert %s)", tls_error_name(err),
                 tls_alert_name(tls_conn_peer_alert(c->tls)));
    else if (alert != TLS_ALERT_NONE)
        conn_log(c, "error %s (sent alert %s)", tls_error_name(err), tls_alert_name(alert));
    else
        conn_log(c, "error %s (no alert sent)", tls_error_name(err));
    conn_finish(c);
}

static void on_timer(uv_timer_t *t)
{
    conn *c = conn_of(t->data);
    if (c->state == CS_HANDSHAKE)
        conn_log(c, "handshake timed out after %d s", HANDSHAKE_TIMEOUT_MS / 1000);
    conn_close_handles(c);
}

static void on_connection(uv_stream_t *listener, int status)
{
    server *srv = listener->data;
    struct sockaddr_storage ss;
    int len = sizeof ss;
    conn *c;
    if (status < 0) {
        if (srv->verbose)
            fprintf(stderr, "tlsserver: accept: %s\n", uv_strerror(status));
        return;
    }
    /* Without memory there is no handle to accept into, and libuv offers no further
     * connection until one is accepted: the server stalls, which beats crashing. */
    c = calloc(1, sizeof *c);
    if (c == NULL || uv_tcp_init(&srv->loop, &c->tcp) != 0) {
        fprintf(stderr, "tlsserver: out of memory accepting a connection\n");
        free(c);
        return;
    }
    c->magic = CONN_MAGIC;
    c->srv = srv;
    c->id = ++srv->next_id;
    snprintf(c->peer, sizeof c->peer, "?");
    c->tcp.data = c;
    uv_timer_init(&srv->loop, &c->timer);
    c->timer.data = c;
    c->live_handles = 2;
    c->next = srv->conns;
    if (srv->conns != NULL)
        srv->conns->prev = c;
    srv->conns = c;

    if (uv_accept(listener, (uv_stream_t *)&c->tcp) != 0) {
        conn_close_handles(c);
        return;
    }
    if (uv_tcp_getpeername(&c->tcp, (struct sockaddr *)&ss, &len) == 0)
        format_addr(&ss, c->peer, sizeof c->peer);
    if (tls_server_conn_new(srv->cfg, &c->tls) != TLS_OK) {
        conn_log(c, "cannot create a TLS connection");
        conn_close_handles(c);
        return;
    }
    uv_tcp_nodelay(&c->tcp, 1);
    uv_timer_start(&c->timer, on_timer, HANDSHAKE_TIMEOUT_MS, 0);
    conn_update_reading(c);
    if (srv->mode == MODE_FORWARD)
        backend_start(c);
}

/* ---- shutdown ----------------------------------------------------------------- */

static void on_signal(uv_signal_t *sig, int signum)
{
    server *srv = sig->data;
    (void)signum;
    if (srv->stopping)
        return;
    srv->stopping = true;
    uv_close((uv_handle_t *)&srv->listener, NULL);
    uv_close((uv_handle_t *)&srv->sigint, NULL);
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
    /* Safe to walk: conns are freed only in close callbacks, which run later. */
    for (conn *c = srv->conns; c != NULL; c = c->next)
        conn_close_handles(c);
}

static void close_any(uv_handle_t *h, void *arg)
{
    (void)arg;
    if (!uv_is_closing(h))
        uv_close(h, NULL);
}

/* ---- startup ------------------------------------------------------------------ */

static const char usage_text[] =
    "Runs a TLS server on ADDR:PORT [default: 0.0.0.0:443]. `echo' echoes received data,\n"
    "`http' sends one HTTP response per connection, `forward' forwards plaintext to a\n"
    "connection made to 127.0.0.1:FPORT.\n"
    "\n"
    "Usage:\n"
    "  tlsserver --certs CERTFILE --key KEYFILE [--suite SUITE]... [--group GROUP]...\n"
    "            [--proto PROTO]... [--protover VERSION]... [options] echo|http|forward FPORT\n"
    "  tlsserver (--version | -v)\n"
    "  tlsserver (--help | -h)\n"
    "\n"
    "Options:\n"
    "    -p, --port PORT     Listen on PORT [default: 443]; 0 lets the kernel pick.\n"
    "    --address ADDR      Listen on IPv4 or IPv6 literal ADDR [default: 0.0.0.0].\n"
    "    --certs CERTFILE    Read the PEM certificate chain, end entity first.\n"
    "    --key KEYFILE       Read the private key (PKCS#8, PKCS#1 RSA or SEC1 EC;\n"
    "                        Ed25519 in PKCS#8).\n"
    "    --suite SUITE       Use SUITE instead of the default cipher suites. Repeatable.\n"
    "    --group GROUP       Use GROUP instead of the default key exchange groups. Repeatable.\n"
    "    --proto PROTOCOL    Negotiate PROTOCOL using ALPN, in preference order. Repeatable.\n"
    "    --protover VERSION  Use VERSION (1.2 or 1.3) instead of the defaults. Repeatable.\n"
    "    --max-frag-size N   Limit outgoing TLS plaintext fragments to N bytes.\n"
    "    --require-ems       Refuse TLS 1.2 clients without extended master secret.\n"
    "    --tickets           Issue session tickets (TLS 1.3, and RFC 5077 in TLS 1.2) and\n"
    "                        resume sessions from them.\n"
    "    --resumption        Keep sessions in a server-side cache: TLS 1.2 session IDs, and\n"
    "                        TLS 1.3 single-use tickets when --tickets is not given.\n"
    "    --max-early-data N  Accept up to N bytes of TLS 1.3 0-RTT data on resumed\n"
    "                        connections (needs --tickets or --resumption) [default: 0].\n"
    "    --auth CAFILE       Ask clients for a certificate and verify it against the PEM\n"
    "                        roots in CAFILE (clientAuth); clients without one are\n"
    "                        still served. With --verbose, log the client's CN.\n"
    "    --require-auth      With --auth, refuse clients without a valid certificate.\n"
    "    --crl CRLFILE       With --auth, refuse client certificates this CRL (DER or PEM)\n"
    "                        revokes. Repeatable.\n"
    "    --ocsp FILE         Staple the DER OCSP response in FILE (checked at startup:\n"
    "                        successful, good, signed by the issuer or its delegated\n"
    "                        responder, current) for clients that ask (status_request);\n"
    "                        it is no longer sent once its nextUpdate has passed.\n"
    "    --sct FILE          Send the TLS-encoded SignedCertificateTimestampList in FILE\n"
    "                        (RFC 6962) to clients that offer signed_certificate_timestamp.\n"
    "    --keymatexport LABEL  With --verbose, log each connection's exported keying\n"
    "                        material for LABEL (RFC 5705 / RFC 8446 section 7.5).\n"
    "    --keymatexportlen N Bytes to export [default: 20].\n"
    "    --verbose           Log handshakes and connection errors to stderr.\n"
    "    --version, -v       Show tool version.\n"
    "    --help, -h          Show this screen.\n";

__attribute__((format(printf, 1, 2))) static int usage_error(const char *fmt, ...)
{
    va_list ap;
    fputs("tlsserver: ", stderr);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputs("\nTry 'tlsserver --help' for more information.\n", stderr);
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

/* Returns -1 to go on, or the exit status (0 after --help/--version). */
static int parse_args(int argc, char **argv, options *o)
{
    /* Long-only options use letters missing from the short option string as codes. */
    static const struct option longopts[] = {
        {"certs", required_argument, NULL, 'C'},
        {"key", required_argument, NULL, 'K'},
        {"suite", required_argument, NULL, 'S'},
        {"group", required_argument, NULL, 'G'},
        {"proto", required_argument, NULL, 'P'},
        {"protover", required_argument, NULL, 'V'},
        {"max-frag-size", required_argument, NULL, 'F'},
        {"require-ems", no_argument, NULL, 'E'},
        {"tickets", no_argument, NULL, 'T'},
        {"resumption", no_argument, NULL, 'R'},
        {"max-early-data", required_argument, NULL, 'D'},
        {"keymatexport", required_argument, NULL, 'X'},
        {"keymatexportlen", required_argument, NULL, 'L'},
        {"auth", required_argument, NULL, 'U'},
        {"require-auth", no_argument, NULL, 'Q'},
        {"crl", required_argument, NULL, 'Y'},
        {"ocsp", required_argument, NULL, 'O'},
        {"sct", required_argument, NULL, 'Z'},
        {"port", required_argument, NULL, 'p'},
        {"address", required_argument, NULL, 'A'},
        {"verbose", no_argument, NULL, 'B'},
        {"version", no_argument, NULL, 'v'},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    int ch, rc = -1;
    memset(o, 0, sizeof *o);
    o->port = 443;
    o->address = "0.0.0.0";
    while (rc < 0 && (ch = getopt_long(argc, argv, "p:vh", longopts, NULL)) != -1) {
        switch (ch) {
        case 'C':
            o->certs = optarg;
            break;
        case 'K':
            o->key = optarg;
            break;
        case 'A':
            o->address = optarg;
            break;
        case 'B':
            o->verbose = true;
            break;
        case 'E':
            o->require_ems = true;
            break;
        case 'T':
            o->tickets = true;
            break;
        case 'R':
            o->resumption = true;
            break;
        case 'D':
            if (!parse_ulong(optarg, 0, 1024 * 1024, &o->max_early_data))
                rc = usage_error("--max-early-data wants 0..1048576, not '%s'", optarg);
            break;
        case 'X':
            o->export_label = optarg;
            break;
        case 'L':
            if (!parse_ulong(optarg, 1, 255, &o->export_len))
                rc = usage_error("--keymatexportlen wants 1..255, not '%s'", optarg);
            break;
        case 'U':
            o->auth = optarg;
            break;
        case 'Q':
            o->require_auth = true;
            break;
        case 'Y':
            if (o->n_crls == MAX_LIST)
                rc = usage_error("too many --crl options");
            else
                o->crls[o->n_crls++] = optarg;
            break;
        case 'O':
            o->ocsp = optarg;
            break;
        case 'Z':
            o->sct = optarg;
            break;
        case 'h':
            fputs(usage_text, stdout);
            return 0;
        case 'v':
            printf("tlsserver (moat) %s\n", MOAT_VERSION);
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
            if (!parse_ulong(optarg, 0, 65535, &o->port))
                rc = usage_error("--port wants 0..65535, not '%s'", optarg);
            break;
        default: /* getopt_long has said what was wrong */
            fputs("Try 'tlsserver --help' for more information.\n", stderr);
            rc = 2;
        }
    }
    if (rc >= 0)
        return rc;
    if (uv_ip4_addr(o->address, (int)o->port, (struct sockaddr_in *)&o->addr) != 0 &&
        uv_ip6_addr(o->address, (int)o->port, (struct sockaddr_in6 *)&o->addr) != 0)
        return usage_error("--address '%s' is not an IPv4 or IPv6 address", o->address);
    if (o->certs == NULL || o->key == NULL)
        return usage_error("--certs and --key are required");
    if ((o->require_auth || o->n_crls) && o->auth == NULL)
        return usage_error("--require-auth and --crl need --auth CAFILE");
    argv += optind;
    argc -= optind;
    if (argc == 1 && strcmp(argv[0], "echo") == 0)
        o->mode = MODE_ECHO;
    else if (argc == 1 && strcmp(argv[0], "http") == 0)
        o->mode = MODE_HTTP;
    else if (argc == 2 && strcmp(argv[0], "forward") == 0)
        o->mode = MODE_FORWARD;
    else
        return usage_error("give one mode: echo, http or forward FPORT");
    if (o->mode == MODE_FORWARD && !parse_ulong(argv[1], 1, 65535, &o->fport))
        return usage_error("forward wants a port 1..65535, not '%s'", argv[1]);
    return -1;
}

/* Reads a whole small file (at most 1 MiB) into a malloc'd buffer; NULL with errno. */
static uint8_t *read_small_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 1024 * 1024, n;

    if (f == NULL)
        return NULL;
    buf = malloc(cap);
    if (buf == NULL) {
        fclose(f);
        errno = ENOMEM;
        return NULL;
    }
    n = fread(buf, 1, cap, f);
    if (ferror(f) || !feof(f)) {
        int e = ferror(f) ? EIO : EFBIG;
        free(buf);
        fclose(f);
        errno = e;
        return NULL;
    }
    fclose(f);
    *len = n;
    return buf;
}

/* --ocsp and --sct: the staples of ck; false after saying why. */
static bool load_staples(tls_certified_key *ck, const options *o)
{
    char err[256] = "";
    uint8_t *buf;
    size_t len = 0;
    tls_error e;

    if (o->ocsp != NULL) {
        buf = read_small_file(o->ocsp, &len);
        if (buf == NULL) {
            fprintf(stderr, "tlsserver: cannot read %s: %s\n", o->ocsp, strerror(errno));
            return false;
        }
        e = tls_certified_key_set_ocsp(ck, buf, len, NULL, 0, (int64_t)time(NULL), err, sizeof err);
        free(buf);
        if (e != TLS_OK) {
            fprintf(stderr, "tlsserver: %s: %s\n", o->ocsp, err[0] ? err : tls_error_name(e));
            return false;
        }
    }
    if (o->sct != NULL) {
        buf = read_small_file(o->sct, &len);
        if (buf == NULL) {
            fprintf(stderr, "tlsserver: cannot read %s: %s\n", o->sct, strerror(errno));
            return false;
        }
        e = tls_certified_key_set_scts(ck, buf, len);
        free(buf);
        if (e != TLS_OK) {
            fprintf(stderr,
                    "tlsserver: %s: not a SignedCertificateTimestampList (RFC 6962 section "
                    "3.3: u16 length, then u16-length-prefixed non-empty SCTs)\n",
                    o->sct);
            return false;
        }
    }
    return true;
}

static bool server_listen(server *srv, const options *o)
{
    struct sockaddr_storage ss;
    int len = sizeof ss, rc;
    char where[INET6_ADDRSTRLEN + 16];
    srv->listener.data = srv; /* libuv never touches data, so init may come after */
    if ((rc = uv_tcp_init(&srv->loop, &srv->listener)) != 0 ||
        (rc = uv_tcp_bind(&srv->listener, (const struct sockaddr *)&o->addr, 0)) != 0 ||
        (rc = uv_listen((uv_stream_t *)&srv->listener, SOMAXCONN, on_connection)) != 0 ||
        (rc = uv_tcp_getsockname(&srv->listener, (struct sockaddr *)&ss, &len)) != 0) {
        format_addr(&o->addr, where, sizeof where);
        fprintf(stderr, "tlsserver: cannot listen on %s: %s\n", where, uv_strerror(rc));
        return false;
    }
    format_addr(&ss, where, sizeof where);
    printf("listening on %s\n", where);
    fflush(stdout);
    return true;
}

int main(int argc, char **argv)
{
    options opt;
    tls_certified_key *ck = NULL;
    tls_root_store *client_roots = NULL;
    tls_server_config_params params;
    server *srv = NULL;
    bool loop_ready = false;
    char err[512] = "";
    int status = parse_args(argc, argv, &opt);
    if (status >= 0)
        return status;
    status = 1;
    /* A client that resets mid-write must cost us an EPIPE, not the process. */
    signal(SIGPIPE, SIG_IGN);

    if (tls_certified_key_load(opt.certs, opt.key, &ck, err, sizeof err) != TLS_OK) {
        fprintf(stderr, "tlsserver: %s\n", err[0] ? err : "cannot load certificate and key");
        goto out;
    }
    if (!load_staples(ck, &opt))
        goto out;
    if (opt.auth != NULL &&
        tls_root_store_load(opt.auth, &client_roots, err, sizeof err) != TLS_OK) {
        fprintf(stderr, "tlsserver: %s\n", err[0] ? err : "cannot load --auth roots");
        goto out;
    }
    srv = calloc(1, sizeof *srv);
    if (srv == NULL) {
        fprintf(stderr, "tlsserver: out of memory\n");
        goto out;
    }
    memset(&params, 0, sizeof params);
    params.versions = opt.versions;
    params.n_versions = opt.n_versions;
    params.cipher_suites = opt.suites;
    params.n_cipher_suites = opt.n_suites;
    params.groups = opt.groups;
    params.n_groups = opt.n_groups;
    params.require_ems = opt.require_ems;
    params.tickets = opt.tickets;
    params.session_cache_size = opt.resumption ? 10000 : 0;
    params.max_early_data_size = (uint32_t)opt.max_early_data;
    params.alpn = opt.protos;
    params.n_alpn = opt.n_protos;
    params.certs = &ck;
    params.n_certs = 1;
    params.max_fragment_size = opt.max_frag;
    if (client_roots != NULL) {
        params.client_auth = opt.require_auth ? TLS_CLIENT_AUTH_REQUIRED : TLS_CLIENT_AUTH_OPTIONAL;
        params.client_roots = client_roots;
        params.client_crls = opt.crls;
        params.n_client_crls = opt.n_crls;
    }
    if (tls_server_config_new(&params, &srv->cfg, err, sizeof err) != TLS_OK) {
        fprintf(stderr, "tlsserver: %s\n", err[0] ? err : "invalid TLS configuration");
        status = 2;
        goto out;
    }
    srv->mode = opt.mode;
    srv->fport = (int)opt.fport;
    srv->verbose = opt.verbose;
    srv->export_label = opt.export_label;
    srv->export_len = opt.export_len ? opt.export_len : 20;
    srv->client_auth = client_roots != NULL;
    if (uv_loop_init(&srv->loop) != 0) {
        fprintf(stderr, "tlsserver: cannot create the event loop\n");
        goto out;
    }
    loop_ready = true;
    if (!server_listen(srv, &opt))
        goto out;
    srv->sigint.data = srv;
    srv->sigterm.data = srv;
    if (uv_signal_init(&srv->loop, &srv->sigint) != 0 ||
        uv_signal_init(&srv->loop, &srv->sigterm) != 0 ||
        uv_signal_start(&srv->sigint, on_signal, SIGINT) != 0 ||
        uv_signal_start(&srv->sigterm, on_signal, SIGTERM) != 0) {
        fprintf(stderr, "tlsserver: cannot install signal handlers\n");
        goto out;
    }
    uv_run(&srv->loop, UV_RUN_DEFAULT);
    status = 0;
out:
    if (loop_ready) {
        /* After a clean stop nothing is left; after a failed start, the listener is. */
        uv_walk(&srv->loop, close_any, NULL);
        uv_run(&srv->loop, UV_RUN_DEFAULT);
        if (uv_loop_close(&srv->loop) != 0) {
            fprintf(stderr, "tlsserver: handles still open at exit\n");
            status = 1;
        }
    }
    /* tls.h does not promise that unref(NULL) is a no-op. */
    if (srv != NULL && srv->cfg != NULL)
        tls_server_config_unref(srv->cfg);
    if (ck != NULL)
        tls_certified_key_unref(ck);
    if (client_roots != NULL)
        tls_root_store_unref(client_roots); /* the config keeps its own reference */
    free(srv);
    uv_library_shutdown();
    return status;
}
