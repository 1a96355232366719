/*
 * conn.c — the per-connection pump: client TCP ⇄ TLS engine ⇄ upstream server.
 *
 * Implementation notes:
 * - States (pxc_state) change only through set_state; each names what the
 *   connection waits for. Directions end independently (half-close): the client's
 *   close_notify or FIN becomes a FIN to the upstream once everything it sent was
 *   written; the upstream's FIN becomes our close_notify. The connection finishes
 *   when both directions have ended.
 * - Backpressure: the client is not read while the upstream's write queue is above
 *   HIGH_WATER (limits.max_buffered; plaintext then waits inside the TLS engine, whose
 *   buffers are capped at a quarter of it, and unconsumed TLS bytes in `backlog`); the
 *   upstream is not read while the client's write queue is above HIGH_WATER. Neither
 *   side's buffers grow without bound.
 * - Limits: a connection counts toward limits.max_handshakes from accept until its
 *   handshake completes or it starts to end (handshake_over), and toward its source's
 *   limits.per_source count until it is freed; a source over its limits is refused at
 *   accept with a reset, before any byte is read.
 * - Writes copy their bytes (px_write), so engine buffers drain at once and a
 *   write request never points into memory that may move.
 * - The connection owns its client handle, its timer and at most one live upstream
 *   attempt at a time (earlier failed attempts may still be closing); it is freed
 *   when open_handles drops to zero.
 * - 0-RTT (listeners with early_data): once the engine has accepted early data the
 *   backend is connected at once, before the client's Finished, so the request can be
 *   on its way a round trip sooner. Order is kept by reading early data before 1-RTT
 *   data on every pass (the engine holds 1-RTT data back until EndOfEarlyData, so
 *   none can overtake). Until the handshake completes nothing flows back: the backend
 *   is not read (the engine could only buffer the answer), a client FIN still means
 *   "closed during the handshake", and the handshake deadline still applies. Backends
 *   spoken to over TLS are connected after the handshake as usual: their own handshake
 *   may bring plaintext that could not be sent on yet.
 */
#include "conn.h"

#include <arpa/inet.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/un.h>

#include "proxy_protocol.h"

#define PX_CONN_MAGIC 0x636f6e6eu     /* "conn" */
#define PX_UPSTREAM_MAGIC 0x7570636eu /* "upcn" */
#define LINGER_MS 2000

typedef enum {
    PXC_PROXY_HEADER, /* waiting for the load balancer's PROXY header */
    PXC_HANDSHAKE,    /* TLS handshake in progress */
    PXC_CONNECTING,   /* trying backend servers in turn; the handshake is done, or
                         still running with 0-RTT accepted */
    PXC_PROXYING,     /* data flows (only toward the backend while the handshake still
                         runs); each direction may already have ended */
    PXC_FINISHING,    /* flushing our last bytes, then waiting briefly for the client's FIN */
    PXC_CLOSED,       /* handles closing; freed by the last close callback */
} pxc_state;

typedef struct px_upstream {
    uint32_t magic;
    struct px_conn *conn; /* NULL once the connection let go of this attempt */
    union {
        uv_handle_t handle;
        uv_stream_t stream;
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    uv_connect_t connect_req;
    uv_shutdown_t shutdown_req;
    int server;
    bool closing;
} px_upstream;

typedef struct px_conn {
    uint32_t magic;
    px_worker *worker;
    px_runtime *rt;
    const cfg_listener *listener;
    pxc_state state;
    uv_tcp_t client;
    uv_timer_t timer;
    uv_shutdown_t client_shutdown_req;
    tls_conn *tls;
    struct px_conn *prev, *next;
    int open_handles;

    struct sockaddr_storage client_addr, local_addr;
    uint8_t *header; /* PROXY header bytes received so far */
    size_t header_len;
    uint8_t *backlog; /* TLS bytes the engine could not take yet */
    size_t backlog_len;

    px_upstream *up;
    tls_conn *up_tls; /* the engine's client, for backends spoken to over TLS */
    size_t backend;
    int server; /* index of the server we are connected to, or -1 */
    uint64_t tried;
    char connect_error[160];
    bool up_tcp;       /* the TCP connection to the current server is up */
    bool up_connected; /* ... and (TLS backends) its handshake is done: plaintext flows */

    bool client_reading, up_reading;
    bool client_done; /* no more plaintext will come from the client */
    bool client_fin;  /* the client's TCP FIN arrived */
    bool client_notified; /* ... and it had sent close_notify first */
    bool engine_drained;  /* the engine held no plaintext at the last look */
    bool up_done;         /* the upstream's FIN arrived */
    bool up_shutdown, up_shutdown_complete;
    bool sent_close_notify;
    bool client_shutdown;
    bool in_handshake;   /* counted in the server's handshakes (max_handshakes) */
    bool source_counted; /* counted in the per-source table under `source` */
    px_source_key source;
    size_t client_wq, up_wq;

    uint64_t start_ms, last_activity_ms;
    uint64_t handshake_deadline_ms; /* still enforced past PXC_HANDSHAKE with 0-RTT */
    uint64_t connect_deadline_ms;   /* of the current attempt */
    uint64_t bytes_in, bytes_out;
    uint64_t early_bytes; /* of bytes_in, how many arrived as 0-RTT early data */
    char end[256];
} px_conn;

typedef struct {
    uv_write_t req;
    px_conn *conn;
    size_t len;
    bool to_client;
    uint8_t data[];
} px_write;

/* HIGH_WATER: bytes queued toward one side before the other side is no longer read. */
static size_t high_water(const px_conn *c)
{
    return c->rt->cfg->max_buffered;
}

static void set_state(px_conn *c, pxc_state next)
{
    c->state = next;
}

static px_conn *conn_of(void *data)
{
    px_conn *c = data;
    if (!c || c->magic != PX_CONN_MAGIC)
        abort(); /* a handle that outlived its connection: a bug, never continue */
    return c;
}

static void set_end(px_conn *c, const char *reason)
{
    if (!c->end[0])
        snprintf(c->end, sizeof c->end, "%s", reason);
}

static void format_addr(const struct sockaddr_storage *ss, char *out, size_t cap)
{
    char host[INET6_ADDRSTRLEN] = "?";
    if (ss->ss_family == AF_INET) {
        const struct sockaddr_in *a = (const struct sockaddr_in *)ss;
        inet_ntop(AF_INET, &a->sin_addr, host, sizeof host);
        snprintf(out, cap, "%s:%u", host, ntohs(a->sin_port));
    } else if (ss->ss_family == AF_INET6) {
        const struct sockaddr_in6 *a = (const struct sockaddr_in6 *)ss;
        inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof host);
        snprintf(out, cap, "[%s]:%u", host, ntohs(a->sin6_port));
    } else {
        snprintf(out, cap, "-");
    }
}

static void finish(px_conn *c, const char *reason);
static void close_all(px_conn *c);
static void update_reading(px_conn *c);
static void try_next_server(px_conn *c);
static void feed_backlog(px_conn *c);
static void on_timer(uv_timer_t *t);
static void arm_timer(px_conn *c);
static void start_timer(px_conn *c, uint64_t ms);

/* ---- limits -------------------------------------------------------------------- */

static px_source_limits source_limits(const cfg_config *cfg)
{
    return (px_source_limits){.max_connections = cfg->per_source_max_connections,
                              .rate = cfg->per_source_rate,
                              .period_ms = cfg->per_source_period_ms};
}

/* The connection no longer takes one of the max_handshakes places. */
static void handshake_over(px_conn *c)
{
    if (!c->in_handshake)
        return;
    c->in_handshake = false;
    atomic_fetch_sub(&c->worker->server->handshakes, 1);
    px_worker_handshake_over(c->worker);
}

/* ---- freeing ------------------------------------------------------------------- */

static void log_access(px_conn *c)
{
    char client[64], server[160] = "-";
    size_t alpn_len = 0;
    const uint8_t *alpn = tls_conn_alpn(c->tls, &alpn_len);
    const char *sni = tls_conn_server_name(c->tls);
    uint16_t version = tls_conn_version(c->tls), suite = tls_conn_cipher_suite(c->tls);
    const cfg_config *cfg = c->rt->cfg;

    /* The client's certificate: sent on this connection, or carried by the resumed
     * session; its CN quoted, with quotes and backslashes made harmless. */
    const char *cert = tls_conn_peer_cert_sent(c->tls)       ? "conn"
                       : tls_conn_peer_cert_verified(c->tls) ? "session"
                                                             : "none";
    const char *cn = tls_conn_peer_cn(c->tls);
    char cn_field[72] = "-";
    if (cn) {
        size_t k = 0;
        cn_field[k++] = '"';
        for (size_t i = 0; cn[i] && k < sizeof cn_field - 2; i++)
            cn_field[k++] = cn[i] == '"' || cn[i] == '\\' ? '?' : cn[i];
        cn_field[k++] = '"';
        cn_field[k] = '\0';
    }
    format_addr(&c->client_addr, client, sizeof client);
    if (c->server >= 0)
        snprintf(server, sizeof server, "%s/%s", cfg->backends[c->backend].name,
                 cfg->backends[c->backend].servers[c->server].text);
    px_log_access(&c->rt->log,
                  "client=%s listener=%s sni=%s alpn=%.*s version=%s suite=%s resumed=%s "
                  "early_data=%llu client_cert=%s client_cn=%s backend=%s bytes_in=%llu "
                  "bytes_out=%llu duration_ms=%llu end=\"%s\"",
                  client, c->listener->address.text, sni ? sni : "-",
                  alpn ? (int)alpn_len : 1, alpn ? (const char *)alpn : "-",
                  version ? tls_version_name(version) : "-",
                  suite ? tls_cipher_suite_name(suite) : "-",
                  tls_conn_resumed(c->tls) ? "yes" : "no", (unsigned long long)c->early_bytes, cert,
                  cn_field, server,
                  (unsigned long long)c->bytes_in, (unsigned long long)c->bytes_out,
                  (unsigned long long)(px_now_ms() - c->start_ms), c->end[0] ? c->end : "closed");
}

static void conn_free(px_conn *c)
{
    px_worker *w = c->worker;
    log_access(c);
    if (c->prev)
        c->prev->next = c->next;
    else
        w->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    w->n_conns--;
    atomic_fetch_sub(&w->server->connections, 1);
    handshake_over(c);
    if (c->source_counted) {
        px_source_limits lim = source_limits(c->rt->cfg);
        px_sources_release(w->server->sources, &c->source, &lim, px_now_ms());
    }
    tls_conn_free(c->tls);
    free(c->header);
    free(c->backlog);
    px_runtime_unref(c->rt);
    c->magic = 0;
    free(c);
    px_worker_conn_closed(w);
}

static void on_handle_closed(uv_handle_t *h)
{
    px_conn *c = conn_of(h->data);
    if (--c->open_handles == 0)
        conn_free(c);
}

static void on_upstream_closed(uv_handle_t *h)
{
    px_upstream *u = h->data;
    px_conn *c = conn_of(u->conn);
    u->magic = 0;
    free(u);
    if (--c->open_handles == 0)
        conn_free(c);
}

/* Lets go of the current upstream attempt; its handle closes on its own. */
static void drop_upstream(px_conn *c)
{
    px_upstream *u = c->up;
    if (!u)
        return;
    c->up = NULL;
    if (c->up_connected && c->server >= 0)
        px_upstream_release(&c->rt->upstreams[c->backend], c->server);
    c->up_connected = false;
    c->up_tcp = false;
    c->up_reading = false;
    tls_conn_free(c->up_tls);
    c->up_tls = NULL;
    u->closing = true;
    uv_close(&u->h.handle, on_upstream_closed);
}

static void close_all(px_conn *c)
{
    if (c->state == PXC_CLOSED)
        return;
    set_state(c, PXC_CLOSED);
    handshake_over(c);
    drop_upstream(c);
    uv_timer_stop(&c->timer);
    uv_close((uv_handle_t *)&c->timer, on_handle_closed);
    uv_close((uv_handle_t *)&c->client, on_handle_closed);
}

/* ---- writing ------------------------------------------------------------------- */

static void on_client_write(uv_write_t *req, int status);
static void on_upstream_write(uv_write_t *req, int status);

static bool queue_write(px_conn *c, bool to_client, const uint8_t *data, size_t len)
{
    /* Nothing queued on that socket: write straight from the caller's buffer (often
     * the TLS engine's), and copy only what the kernel does not take now. Order is
     * kept because this runs only while no earlier write is pending. */
    uv_stream_t *stream = to_client ? (uv_stream_t *)&c->client : &c->up->h.stream;
    if ((to_client ? c->client_wq : c->up_wq) == 0) {
        uv_buf_t direct = uv_buf_init((char *)(uintptr_t)data, (unsigned)len);
        int n = uv_try_write(stream, &direct, 1);
        if (n > 0) {
            data += n;
            len -= (size_t)n;
            if (to_client)
                c->last_activity_ms = px_now_ms(); /* as on_client_write would */
        }
        if (len == 0)
            return true;
    }
    px_write *w = malloc(sizeof *w + len);
    if (!w) {
        set_end(c, "out of memory");
        close_all(c);
        return false;
    }
    w->conn = c;
    w->len = len;
    w->to_client = to_client;
    memcpy(w->data, data, len);
    uv_buf_t buf = uv_buf_init((char *)w->data, (unsigned)len);
    int r = uv_write(&w->req, stream, &buf, 1, to_client ? on_client_write : on_upstream_write);
    if (r < 0) {
        free(w);
        set_end(c, to_client ? "client write failed" : "backend write failed");
        close_all(c);
        return false;
    }
    if (to_client)
        c->client_wq += len;
    else
        c->up_wq += len;
    return true;
}

/* Moves every TLS byte the engine has for the client into write requests. */
static bool flush_client(px_conn *c)
{
    size_t len;
    const uint8_t *p;
    while (c->state != PXC_CLOSED && (p = tls_conn_peek_tls(c->tls, &len)) != NULL && len) {
        if (!queue_write(c, true, p, len))
            return false;
        tls_conn_consume_tls(c->tls, len);
    }
    return c->state != PXC_CLOSED;
}

static void on_client_shutdown(uv_shutdown_t *req, int status)
{
    px_conn *c = conn_of(req->data);
    (void)status;
    if (c->state == PXC_CLOSED)
        return;
    /* Wait briefly for the client's FIN, so closing cannot turn into an RST that
     * destroys the alert or close_notify we just sent. */
    if (c->client_fin)
        close_all(c);
}

static void start_client_shutdown(px_conn *c)
{
    if (c->client_shutdown || c->client_wq)
        return;
    c->client_shutdown = true;
    uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
    c->client_shutdown_req.data = c;
    if (uv_shutdown(&c->client_shutdown_req, (uv_stream_t *)&c->client, on_client_shutdown) < 0)
        close_all(c);
}

/* ---- the end of a connection -------------------------------------------------------- */

/* Ends the connection gracefully: the upstream goes, the client gets close_notify
 * (or the pending alert), our FIN, and a short wait for its own FIN. */
static void finish(px_conn *c, const char *reason)
{
    if (c->state >= PXC_FINISHING)
        return;
    set_end(c, reason);
    set_state(c, PXC_FINISHING);
    handshake_over(c);
    drop_upstream(c);
    if (!tls_conn_is_handshaking(c->tls) && tls_conn_error(c->tls) == TLS_OK &&
        !c->sent_close_notify) {
        tls_conn_send_close_notify(c->tls);
        c->sent_close_notify = true;
    }
    if (!flush_client(c))
        return;
    /* A slow client gets the idle timeout to take what is queued, then LINGER_MS. */
    uv_timer_start(&c->timer, on_timer, c->rt->cfg->idle_timeout_ms, 0);
    start_client_shutdown(c);
    update_reading(c);
}

static void tls_failed(px_conn *c, tls_error err)
{
    char reason[160];
    if (err == TLS_ERR_ALERT_RECEIVED)
        snprintf(reason, sizeof reason, "tls error: %s (peer sent %s)", tls_error_name(err),
                 tls_alert_name(tls_conn_peer_alert(c->tls)));
    else if (tls_error_alert(err) != TLS_ALERT_NONE)
        snprintf(reason, sizeof reason, "tls error: %s (sent %s)", tls_error_name(err),
                 tls_alert_name(tls_error_alert(err)));
    else
        snprintf(reason, sizeof reason, "tls error: %s", tls_error_name(err));
    px_log_msg(&c->rt->log, CFG_LOG_DEBUG, "connection %p: %s", (void *)c, reason);
    finish(c, reason);
}

/* ---- plaintext toward the upstream ---------------------------------------------------- */

/* Moves the backend engine's TLS bytes into write requests on the upstream socket. */
static bool flush_upstream_tls(px_conn *c)
{
    size_t len;
    const uint8_t *p;
    while (c->up_tls && c->state != PXC_CLOSED && (p = tls_conn_peek_tls(c->up_tls, &len)) &&
           len) {
        if (!queue_write(c, false, p, len))
            return false;
        tls_conn_consume_tls(c->up_tls, len);
    }
    return c->state != PXC_CLOSED;
}

static void backend_tls_failed(px_conn *c, tls_error err);

/* Plaintext for the backend: straight to the socket, or through the backend engine,
 * whose output is flushed as it goes so it always has room for more. */
static bool send_upstream(px_conn *c, const uint8_t *data, size_t len)
{
    if (!c->up_tls)
        return queue_write(c, false, data, len);
    while (len) {
        size_t taken = 0;
        tls_error err = tls_conn_write(c->up_tls, data, len, &taken);
        if (err != TLS_OK) {
            backend_tls_failed(c, err);
            return false;
        }
        if (!flush_upstream_tls(c))
            return false;
        if (taken == 0) {
            finish(c, "internal error: the backend TLS engine refused plaintext");
            return false;
        }
        data += taken;
        len -= taken;
    }
    return true;
}

static bool early_data_on(const px_conn *c)
{
    return c->listener->early_data && tls_conn_early_data_accepted(c->tls);
}

static void pump_to_upstream(px_conn *c)
{
    uint8_t buf[16384];
    size_t n;
    if (c->state != PXC_PROXYING || !c->up_connected || c->up_shutdown)
        return;
    while (c->up_wq < high_water(c)) {
        /* Early data first, always: it precedes every 1-RTT byte on the wire. */
        tls_error err = early_data_on(c) ? tls_conn_read_early_data(c->tls, buf, sizeof buf, &n)
                                         : (n = 0, TLS_OK);
        bool early = err == TLS_OK && n > 0;
        const uint8_t *data = buf;
        if (err == TLS_OK && !early) {
            /* 1-RTT data goes out from the engine's own buffer: no copy here. */
            data = tls_conn_peek_plaintext(c->tls, &n);
            if (n > sizeof buf)
                n = sizeof buf; /* one record's worth between high-water checks */
            if (n == 0)
                err = tls_conn_consume_plaintext(c->tls, 0); /* a latched error */
        }
        if (err != TLS_OK) {
            tls_failed(c, err);
            return;
        }
        c->engine_drained = n == 0;
        if (n == 0)
            break;
        c->bytes_in += n;
        if (early)
            c->early_bytes += n;
        if (!send_upstream(c, data, n))
            return;
        if (!early && (err = tls_conn_consume_plaintext(c->tls, n)) != TLS_OK) {
            tls_failed(c, err);
            return;
        }
    }
    if (c->up_wq >= high_water(c))
        c->engine_drained = false;
    /* Reading may have let the engine process held-back records: a close_notify,
     * or a KeyUpdate whose answer must go out. */
    if (tls_conn_peer_closed(c->tls) && !c->client_done)
        c->client_done = c->client_notified = true;
    flush_client(c);
}

static void on_upstream_shutdown(uv_shutdown_t *req, int status)
{
    px_upstream *u = req->data;
    if (!u->conn || u->closing)
        return;
    px_conn *c = conn_of(u->conn);
    (void)status;
    c->up_shutdown_complete = true;
    if (c->client_done && c->up_done)
        finish(c, c->client_notified ? "closed" : "client closed without close_notify");
}

/* Ends directions whose source is exhausted; finishes when both are. */
static void check_done(px_conn *c)
{
    if (c->state != PXC_PROXYING)
        return;
    if (c->client_done && !c->up_shutdown && c->engine_drained && !c->backlog_len &&
        c->up_connected) {
        c->up_shutdown = true;
        if (c->up_tls) {
            tls_conn_send_close_notify(c->up_tls);
            if (!flush_upstream_tls(c))
                return;
        }
        c->up->shutdown_req.data = c->up;
        if (uv_shutdown(&c->up->shutdown_req, &c->up->h.stream, on_upstream_shutdown) < 0)
            c->up_shutdown_complete = true;
    }
    if (c->up_done && !c->sent_close_notify) {
        tls_conn_send_close_notify(c->tls);
        c->sent_close_notify = true;
        if (!flush_client(c))
            return;
    }
    if (c->client_done && c->up_done && c->up_shutdown_complete)
        finish(c, c->client_notified ? "closed" : "client closed without close_notify");
}

/* ---- routing and connecting ------------------------------------------------------------ */

static bool sni_matches(const char *pattern, const char *name)
{
    if (!name)
        return false;
    if (pattern[0] == '*' && pattern[1] == '.') {
        const char *dot = strchr(name, '.');
        return dot && dot != name && !strcasecmp(dot, pattern + 1);
    }
    return !strcasecmp(pattern, name);
}

static size_t choose_backend(const px_conn *c)
{
    size_t alpn_len = 0;
    const uint8_t *alpn = tls_conn_alpn(c->tls, &alpn_len);
    const char *sni = tls_conn_server_name(c->tls);
    for (size_t i = 0; i < c->listener->n_routes; i++) {
        const cfg_route *r = &c->listener->routes[i];
        if (r->sni && !sni_matches(r->sni, sni))
            continue;
        if (r->alpn &&
            !(alpn && strlen(r->alpn) == alpn_len && !memcmp(r->alpn, alpn, alpn_len)))
            continue;
        return r->backend;
    }
    return c->listener->backend;
}

static void send_proxy_header(px_conn *c)
{
    const cfg_backend *b = &c->rt->cfg->backends[c->backend];
    uint8_t header[PX_PROXY_MAX_HEADER];
    size_t n = 0, alpn_len = 0;
    const uint8_t *alpn = tls_conn_alpn(c->tls, &alpn_len);
    px_proxy_tlvs tlvs = {
        .sni = tls_conn_server_name(c->tls),
        .alpn = alpn,
        .alpn_len = alpn_len,
        .tls_version = tls_version_name(tls_conn_version(c->tls)),
        .tls_cipher = tls_cipher_suite_name(tls_conn_cipher_suite(c->tls)),
        .early_data = early_data_on(c),
        .client_cert_conn = tls_conn_peer_cert_sent(c->tls),
        .client_cert_sess = tls_conn_peer_cert_verified(c->tls),
        .client_cert_verified = tls_conn_peer_cert_verified(c->tls),
        .client_cn = tls_conn_peer_cn(c->tls),
    };
    if (b->proxy_protocol == CFG_PROXY_V1)
        n = px_proxy_v1_write((struct sockaddr *)&c->client_addr,
                              (struct sockaddr *)&c->local_addr, header, sizeof header);
    else if (b->proxy_protocol == CFG_PROXY_V2)
        n = px_proxy_v2_write((struct sockaddr *)&c->client_addr,
                              (struct sockaddr *)&c->local_addr, &tlvs, header, sizeof header);
    if (b->proxy_protocol != CFG_PROXY_OFF && n == 0) {
        finish(c, "internal error: cannot build the PROXY header");
        return;
    }
    if (n)
        queue_write(c, false, header, n);
}

static void on_upstream_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_upstream_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

/* The server is ready for plaintext: TCP connected and, for TLS backends, the
 * handshake done. */
static void upstream_ready(px_conn *c)
{
    px_upstream_set *set = &c->rt->upstreams[c->backend];
    px_upstream_report(set, c->up->server, true, px_now_ms());
    px_upstream_acquire(set, c->up->server);
    c->server = c->up->server;
    c->up_connected = true;
    uv_timer_stop(&c->timer);
    set_state(c, PXC_PROXYING);
    c->last_activity_ms = px_now_ms();
    start_timer(c, c->rt->cfg->idle_timeout_ms);
    feed_backlog(c);
    pump_to_upstream(c);
    check_done(c);
    update_reading(c);
}

/* A failed attempt: counted against the server, then the next one is tried. */
static void attempt_failed(px_conn *c, const char *why)
{
    const cfg_backend *b = &c->rt->cfg->backends[c->backend];
    int server = c->up->server;
    px_upstream_report(&c->rt->upstreams[c->backend], server, false, px_now_ms());
    snprintf(c->connect_error, sizeof c->connect_error, "%s: %s", b->servers[server].text, why);
    px_log_msg(&c->rt->log, CFG_LOG_WARN, "backend %s server %s: %s", b->name,
               b->servers[server].text, why);
    drop_upstream(c);
    try_next_server(c);
}

static void backend_tls_failed(px_conn *c, tls_error err)
{
    char why[128], reason[160];
    if (err == TLS_ERR_ALERT_RECEIVED)
        snprintf(why, sizeof why, "tls error: %s (backend sent %s)", tls_error_name(err),
                 tls_alert_name(tls_conn_peer_alert(c->up_tls)));
    else
        snprintf(why, sizeof why, "tls error: %s", tls_error_name(err));
    flush_upstream_tls(c); /* our alert, best effort */
    if (c->state == PXC_CONNECTING) {
        attempt_failed(c, why);
        return;
    }
    snprintf(reason, sizeof reason, "backend %s", why);
    finish(c, reason);
}

/* The name a TLS backend's certificate must carry: the configured one, or the
 * server's own host (an IP literal is checked against the certificate's IP SANs). */
static void backend_tls_name(const cfg_backend *b, int server, char *out, size_t cap)
{
    const char *text = b->servers[server].text;
    if (b->tls_server_name) {
        snprintf(out, cap, "%s", b->tls_server_name);
        return;
    }
    const char *start = text[0] == '[' ? text + 1 : text;
    const char *end = text[0] == '[' ? strchr(start, ']') : strrchr(start, ':');
    size_t n = end ? (size_t)(end - start) : strlen(start);
    snprintf(out, cap, "%.*s", (int)n, start);
}

static void on_connect(uv_connect_t *req, int status)
{
    px_upstream *u = req->data;
    if (!u->conn || u->closing)
        return; /* the connection gave up on this attempt */
    px_conn *c = conn_of(u->conn);
    const cfg_backend *b = &c->rt->cfg->backends[c->backend];

    if (status < 0) {
        attempt_failed(c, uv_strerror(status));
        return;
    }
    c->up_tcp = true;
    send_proxy_header(c); /* the PROXY header always travels in the clear, first */
    if (c->state != PXC_CONNECTING)
        return;
    if (!b->tls) {
        upstream_ready(c);
        return;
    }
    char name[256];
    backend_tls_name(b, u->server, name, sizeof name);
    tls_error err = tls_client_conn_new(b->server_tls[u->server], name, &c->up_tls);
    if (err != TLS_OK) {
        attempt_failed(c, tls_error_name(err));
        return;
    }
    if (flush_upstream_tls(c)) /* the ClientHello */
        update_reading(c);
}

static void try_next_server(px_conn *c)
{
    px_upstream_set *set = &c->rt->upstreams[c->backend];
    const cfg_backend *b = &c->rt->cfg->backends[c->backend];

    for (;;) {
        int s = px_upstream_pick(set, c->tried, px_now_ms());
        if (s < 0) {
            char reason[256];
            snprintf(reason, sizeof reason, "no backend available: %zu of %zu servers failed (last: %s)",
                     b->n_servers, b->n_servers, c->connect_error[0] ? c->connect_error : "-");
            finish(c, reason);
            return;
        }
        c->tried |= (uint64_t)1 << s;
        px_upstream *u = calloc(1, sizeof *u);
        if (!u) {
            finish(c, "out of memory");
            return;
        }
        u->magic = PX_UPSTREAM_MAGIC;
        u->conn = c;
        u->server = s;
        u->h.handle.data = u;
        u->connect_req.data = u;
        const cfg_address *a = &b->servers[s];
        int r = a->is_unix ? uv_pipe_init(&c->worker->loop, &u->h.pipe, 0)
                           : uv_tcp_init(&c->worker->loop, &u->h.tcp);
        if (r < 0) {
            free(u);
            finish(c, "cannot create a socket for the backend");
            return;
        }
        u->h.handle.data = u;
        c->open_handles++;
        c->up = u;
        if (a->is_unix) {
            /* uv_pipe_connect reports every error through on_connect. */
            uv_pipe_connect(&u->connect_req, &u->h.pipe,
                            ((const struct sockaddr_un *)&a->addr)->sun_path, on_connect);
        } else {
            uv_tcp_nodelay(&u->h.tcp, 1);
            r = uv_tcp_connect(&u->connect_req, &u->h.tcp, (const struct sockaddr *)&a->addr,
                               on_connect);
        }
        if (r < 0) {
            px_upstream_report(set, s, false, px_now_ms());
            snprintf(c->connect_error, sizeof c->connect_error, "%s: %s", a->text, uv_strerror(r));
            drop_upstream(c);
            continue;
        }
        c->connect_deadline_ms = px_now_ms() + c->rt->cfg->connect_timeout_ms;
        start_timer(c, c->rt->cfg->connect_timeout_ms);
        return;
    }
}

static void start_connect(px_conn *c)
{
    set_state(c, PXC_CONNECTING);
    c->backend = choose_backend(c);
    try_next_server(c);
}

/* ---- TLS bytes from the client ----------------------------------------------------------- */

/* 0-RTT accepted: the backend may be connected before the handshake completes
 * (not a TLS backend: see the implementation notes). */
static bool connect_early(const px_conn *c)
{
    return early_data_on(c) && !c->rt->cfg->backends[choose_backend(c)].tls;
}

static void after_tls_progress(px_conn *c)
{
    if (!tls_conn_is_handshaking(c->tls))
        handshake_over(c);
    if (c->state == PXC_HANDSHAKE && !tls_conn_is_handshaking(c->tls)) {
        uv_timer_stop(&c->timer);
        start_connect(c);
    } else if (c->state == PXC_HANDSHAKE && connect_early(c)) {
        px_log_msg(&c->rt->log, CFG_LOG_DEBUG,
                   "connection %p: 0-RTT accepted: connecting to the backend before the "
                   "handshake completes",
                   (void *)c);
        start_connect(c); /* the handshake deadline stays: see start_timer */
    }
    if (c->state >= PXC_FINISHING)
        return;
    if (tls_conn_peer_closed(c->tls) && !c->client_done) {
        c->client_done = true;
        c->client_notified = true;
    }
    pump_to_upstream(c);
    if (c->state >= PXC_FINISHING || !flush_client(c))
        return;
    check_done(c);
}

/* Feeds TLS bytes to the engine; keeps what it cannot take in the backlog. */
static void feed_tls(px_conn *c, const uint8_t *data, size_t n)
{
    bool retried = false;
    while (n && c->state < PXC_FINISHING) {
        size_t used = 0;
        tls_error err = tls_conn_read_tls(c->tls, data, n, &used);
        if (err == TLS_OK)
            err = tls_conn_process(c->tls);
        if (err != TLS_OK) {
            tls_failed(c, err);
            return;
        }
        after_tls_progress(c);
        if (used == 0 && !retried) {
            /* after_tls_progress may just have drained the engine straight into the
             * backend's socket, and no write callback would then come to feed a
             * backlog: offer the bytes once more before keeping them. */
            retried = true;
            continue;
        }
        if (used == 0) {
            uint8_t *keep = malloc(n);
            if (!keep) {
                finish(c, "out of memory");
                return;
            }
            memcpy(keep, data, n);
            free(c->backlog);
            c->backlog = keep;
            c->backlog_len = n;
            return;
        }
        retried = false;
        data += used;
        n -= used;
    }
}

static void feed_backlog(px_conn *c)
{
    uint8_t *data = c->backlog;
    size_t n = c->backlog_len;
    if (!data)
        return;
    c->backlog = NULL;
    c->backlog_len = 0;
    feed_tls(c, data, n);
    free(data);
}

static void on_proxy_header_bytes(px_conn *c, const uint8_t *data, size_t n)
{
    px_proxy_header h;
    size_t header_len = 0;
    /* Bounded: one read (PX_READ_BUF_SIZE) past a header that is still incomplete
     * at PX_PROXY_MAX_INPUT bytes is the most this can hold. */
    uint8_t *grown = realloc(c->header, c->header_len + n);
    if (!grown) {
        finish(c, "out of memory");
        return;
    }
    c->header = grown;
    memcpy(c->header + c->header_len, data, n);
    c->header_len += n;
    switch (px_proxy_parse(c->header, c->header_len, &h, &header_len)) {
    case PX_PROXY_NEED_MORE:
        if (c->header_len >= PX_PROXY_MAX_INPUT)
            finish(c, "PROXY header refused: too long");
        return;
    case PX_PROXY_INVALID: {
        char reason[160];
        snprintf(reason, sizeof reason, "PROXY header refused: %s", h.error);
        finish(c, reason);
        return;
    }
    case PX_PROXY_OK:
        break;
    default:
        abort();
    }
    if (h.has_addresses) {
        c->client_addr = h.src;
        c->local_addr = h.dst;
    }
    set_state(c, PXC_HANDSHAKE);
    arm_timer(c); /* the handshake gets its own full timeout after the header */
    uint8_t *rest = c->header;
    size_t rest_len = c->header_len - header_len;
    c->header = NULL;
    c->header_len = 0;
    feed_tls(c, rest + header_len, rest_len);
    free(rest);
}

static void on_client_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    px_conn *c = conn_of(h->data);
    (void)suggested;
    *buf = uv_buf_init((char *)c->worker->read_buf, PX_READ_BUF_SIZE);
}

static void on_client_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    px_conn *c = conn_of(s->data);
    if (nread == 0 || c->state == PXC_CLOSED)
        return;
    if (nread < 0) {
        c->client_fin = true;
        c->client_reading = false;
        uv_read_stop(s);
        if (nread != UV_EOF) {
            set_end(c, c->state == PXC_FINISHING ? "closed" : "client connection reset");
            close_all(c);
            return;
        }
        switch (c->state) {
        case PXC_FINISHING:
            if (c->client_shutdown && !c->client_wq)
                close_all(c);
            return;
        case PXC_PROXY_HEADER:
        case PXC_HANDSHAKE:
            set_end(c, "client closed during the handshake");
            close_all(c);
            return;
        default:
            if (tls_conn_is_handshaking(c->tls)) { /* connected early for 0-RTT */
                set_end(c, "client closed during the handshake");
                close_all(c);
                return;
            }
            if (!c->client_done)
                c->client_done = true; /* a FIN without close_notify: a truncation */
            check_done(c);
            update_reading(c);
            return;
        }
    }
    c->last_activity_ms = px_now_ms();
    if (c->state == PXC_FINISHING)
        return; /* lingering: what the client still sends is discarded */
    if (c->client_done)
        return; /* after close_notify nothing more is read (RFC 8446 §6.1) */
    if (c->state == PXC_PROXY_HEADER)
        on_proxy_header_bytes(c, (const uint8_t *)buf->base, (size_t)nread);
    else
        feed_tls(c, (const uint8_t *)buf->base, (size_t)nread);
    if (c->state < PXC_CLOSED)
        update_reading(c);
}

static void on_client_write(uv_write_t *req, int status)
{
    px_write *w = (px_write *)req;
    px_conn *c = conn_of(w->conn);
    c->client_wq -= w->len;
    c->last_activity_ms = px_now_ms(); /* a slow reader taking data is not idle */
    free(w);
    if (c->state == PXC_CLOSED)
        return;
    if (status < 0) {
        set_end(c, "client write failed");
        close_all(c);
        return;
    }
    if (c->state == PXC_FINISHING) {
        start_client_shutdown(c);
        return;
    }
    update_reading(c);
}

/* ---- bytes from the upstream ----------------------------------------------------------------- */

static void on_upstream_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    px_upstream *u = h->data;
    px_conn *c = conn_of(u->conn);
    (void)suggested;
    *buf = uv_buf_init((char *)c->worker->read_buf, PX_READ_BUF_SIZE);
}

/* Plaintext from the backend toward the client, through the client's engine. */
static bool send_client(px_conn *c, const uint8_t *p, size_t left)
{
    c->bytes_out += left;
    while (left) {
        size_t taken = 0;
        tls_error err = tls_conn_write(c->tls, p, left, &taken);
        if (err != TLS_OK) {
            tls_failed(c, err);
            return false;
        }
        if (!flush_client(c))
            return false;
        if (taken == 0) {
            finish(c, "internal error: the TLS engine refused plaintext");
            return false;
        }
        p += taken;
        left -= taken;
    }
    return true;
}

/* TLS bytes from a TLS backend: handshake progress, then plaintext for the client. */
static bool feed_backend_tls(px_conn *c, const uint8_t *data, size_t n)
{
    while (n) {
        size_t used = 0, got;
        tls_error err = tls_conn_read_tls(c->up_tls, data, n, &used);
        if (err == TLS_OK)
            err = tls_conn_process(c->up_tls);
        if (err != TLS_OK) {
            backend_tls_failed(c, err);
            return false;
        }
        if (!flush_upstream_tls(c))
            return false;
        if (c->state == PXC_CONNECTING && !tls_conn_is_handshaking(c->up_tls)) {
            upstream_ready(c);
            if (c->state != PXC_PROXYING)
                return false;
        }
        /* The backend's plaintext goes to the client's engine from where it was
         * decrypted: no copy here. */
        const uint8_t *plain;
        do {
            plain = tls_conn_peek_plaintext(c->up_tls, &got);
            if (got && !send_client(c, plain, got))
                return false;
            if ((err = tls_conn_consume_plaintext(c->up_tls, got)) != TLS_OK) {
                backend_tls_failed(c, err);
                return false;
            }
        } while (got);
        if (tls_conn_peer_closed(c->up_tls))
            c->up_done = true;
        data += used;
        n -= used;
    }
    return true;
}

static void on_upstream_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    px_upstream *u = s->data;
    if (!u->conn || u->closing || nread == 0)
        return;
    px_conn *c = conn_of(u->conn);
    if (nread < 0) {
        uv_read_stop(s);
        c->up_reading = false;
        if (c->state == PXC_CONNECTING) { /* the TLS handshake with the backend broke off */
            attempt_failed(c, nread == UV_EOF ? "closed during the TLS handshake"
                                              : uv_strerror((int)nread));
            return;
        }
        if (nread != UV_EOF) {
            char reason[120];
            snprintf(reason, sizeof reason, "backend read failed: %s", uv_strerror((int)nread));
            finish(c, reason);
            return;
        }
        if (c->up_tls && !tls_conn_peer_closed(c->up_tls)) {
            /* A truncation: the client must not get a close_notify that would vouch
             * for a complete response, so it sees the cut too. */
            c->sent_close_notify = true;
            finish(c, "backend closed without close_notify");
            return;
        }
        c->up_done = true;
        check_done(c);
        if (c->state < PXC_CLOSED)
            update_reading(c);
        return;
    }
    c->last_activity_ms = px_now_ms();
    if (c->up_tls) {
        if (!feed_backend_tls(c, (const uint8_t *)buf->base, (size_t)nread))
            return;
        check_done(c);
    } else if (!send_client(c, (const uint8_t *)buf->base, (size_t)nread)) {
        return;
    }
    if (c->state < PXC_CLOSED)
        update_reading(c);
}

static void on_upstream_write(uv_write_t *req, int status)
{
    px_write *w = (px_write *)req;
    px_conn *c = conn_of(w->conn);
    c->up_wq -= w->len;
    c->last_activity_ms = px_now_ms();
    free(w);
    if (c->state >= PXC_FINISHING)
        return;
    if (status < 0) {
        char reason[120];
        snprintf(reason, sizeof reason, "backend write failed: %s", uv_strerror(status));
        finish(c, reason);
        return;
    }
    if (c->up_wq < high_water(c) / 2) {
        feed_backlog(c);
        pump_to_upstream(c);
        check_done(c);
    }
    if (c->state < PXC_CLOSED)
        update_reading(c);
}

/* ---- reading control and timers ------------------------------------------------------------ */

static void update_reading(px_conn *c)
{
    if (c->state == PXC_CLOSED)
        return;
    bool want_client = !c->client_fin && !c->backlog_len &&
                       (c->state == PXC_FINISHING ||
                        (!c->client_done && c->up_wq < high_water(c) &&
                         c->client_wq < high_water(c)));
    if (want_client != c->client_reading) {
        if (want_client)
            uv_read_start((uv_stream_t *)&c->client, on_client_alloc, on_client_read);
        else
            uv_read_stop((uv_stream_t *)&c->client);
        c->client_reading = want_client;
    }
    bool want_up = c->up && !c->up_done &&
                   ((c->up_connected && c->state == PXC_PROXYING && c->client_wq < high_water(c) &&
                     !tls_conn_is_handshaking(c->tls)) ||
                    (c->up_tls && c->up_tcp && c->state == PXC_CONNECTING));
    if (c->up && want_up != c->up_reading) {
        if (want_up)
            uv_read_start(&c->up->h.stream, on_upstream_alloc, on_upstream_read);
        else
            uv_read_stop(&c->up->h.stream);
        c->up_reading = want_up;
    }
}

/* The handshake outlived its deadline after the backend was connected early. */
static bool handshake_overdue(const px_conn *c, uint64_t now)
{
    return tls_conn_is_handshaking(c->tls) && now >= c->handshake_deadline_ms;
}

/* Runs the timer for ms, or less when the connection moved past PXC_HANDSHAKE with
 * its handshake still running (0-RTT) and the handshake deadline comes first. */
static void start_timer(px_conn *c, uint64_t ms)
{
    if (c->state > PXC_HANDSHAKE && tls_conn_is_handshaking(c->tls)) {
        uint64_t now = px_now_ms();
        uint64_t left = c->handshake_deadline_ms > now ? c->handshake_deadline_ms - now : 0;
        if (left < ms)
            ms = left;
    }
    uv_timer_start(&c->timer, on_timer, ms, 0);
}

/* One timer per connection; what it means depends on the state. */
static void on_timer(uv_timer_t *t)
{
    px_conn *c = conn_of(t->data);
    const cfg_config *cfg = c->rt->cfg;
    uint64_t now = px_now_ms();
    switch (c->state) {
    case PXC_PROXY_HEADER:
    case PXC_HANDSHAKE:
        finish(c, "handshake timeout");
        break;
    case PXC_CONNECTING:
        if (handshake_overdue(c, now)) {
            finish(c, "handshake timeout");
            break;
        }
        if (now < c->connect_deadline_ms) { /* woken for the handshake deadline, since met */
            start_timer(c, c->connect_deadline_ms - now);
            break;
        }
        if (c->up) {
            attempt_failed(c, c->up_tls ? "TLS handshake timed out" : "connect timed out");
            break;
        }
        try_next_server(c);
        break;
    case PXC_PROXYING:
        if (handshake_overdue(c, now))
            finish(c, "handshake timeout");
        else if (now - c->last_activity_ms >= cfg->idle_timeout_ms)
            finish(c, "idle timeout");
        else
            start_timer(c, cfg->idle_timeout_ms - (now - c->last_activity_ms));
        break;
    case PXC_FINISHING:
        /* Still flushing to a client that keeps taking data: wait on. */
        if (!c->client_shutdown && now - c->last_activity_ms < cfg->idle_timeout_ms)
            uv_timer_start(t, on_timer, cfg->idle_timeout_ms - (now - c->last_activity_ms), 0);
        else
            close_all(c);
        break;
    case PXC_CLOSED:
        break;
    default:
        abort();
    }
}

/* Arms the timer for the state just entered. */
static void arm_timer(px_conn *c)
{
    const cfg_config *cfg = c->rt->cfg;
    switch (c->state) {
    case PXC_PROXY_HEADER:
    case PXC_HANDSHAKE:
        c->handshake_deadline_ms = px_now_ms() + cfg->handshake_timeout_ms;
        uv_timer_start(&c->timer, on_timer, cfg->handshake_timeout_ms, 0);
        break;
    case PXC_PROXYING:
        uv_timer_start(&c->timer, on_timer, cfg->idle_timeout_ms, 0);
        break;
    default:
        break;
    }
}

/* ---- accepting --------------------------------------------------------------------------------- */

static void on_refused_closed(uv_handle_t *h)
{
    px_conn *c = conn_of(h->data);
    c->magic = 0;
    free(c);
}

/* limits.per_source, right after accept: counts c under its source, or refuses it with a
 * reset (nothing read, nothing logged per connection) and frees it in the close callback. */
static bool refused_by_source(px_worker *w, px_conn *c, const cfg_config *cfg)
{
    int len = sizeof c->client_addr;

    if (!cfg->per_source_max_connections && !cfg->per_source_rate)
        return false;
    if (uv_tcp_getpeername(&c->client, (struct sockaddr *)&c->client_addr, &len) != 0 ||
        !px_source_key_of(&c->client_addr, cfg->per_source_ipv6_prefix, &c->source))
        return false;
    px_source_limits lim = source_limits(cfg);
    px_source_verdict v = px_sources_admit(w->server->sources, &c->source, &lim, px_now_ms());
    if (v == PX_SOURCE_OK) {
        c->source_counted = true;
        return false;
    }
    px_worker_source_refused(w, &c->source, v);
    if (uv_tcp_close_reset(&c->client, on_refused_closed) != 0)
        uv_close((uv_handle_t *)&c->client, on_refused_closed);
    return true;
}

int px_conn_accept(px_worker *w, px_listen_slot *slot)
{
    px_runtime *rt = w->runtime;
    int index = slot->start_index < rt->n_slots ? rt->slot_listener[slot->start_index] : -1;
    px_conn *c = calloc(1, sizeof *c);
    if (!c)
        return UV_ENOMEM;
    c->magic = PX_CONN_MAGIC;
    c->worker = w;
    c->server = -1;
    c->start_ms = c->last_activity_ms = px_now_ms();
    int r = uv_tcp_init(&w->loop, &c->client);
    if (r < 0) {
        free(c);
        return r;
    }
    c->client.data = c;
    c->open_handles = 1;
    r = uv_accept((uv_stream_t *)&slot->handle, (uv_stream_t *)&c->client);
    if (r == 0 && index < 0)
        r = UV_ECONNABORTED; /* this listener was removed by a reload */
    if (r == 0 && refused_by_source(w, c, rt->cfg))
        return 0;
    if (r == 0) {
        c->rt = px_runtime_ref(rt);
        c->listener = &rt->cfg->listeners[index];
        if (tls_server_conn_new(c->listener->tls, &c->tls) != TLS_OK)
            r = UV_ENOMEM;
    }
    /* Linked in before any failure path so conn_free's bookkeeping is uniform. */
    c->next = w->conns;
    if (w->conns)
        w->conns->prev = c;
    w->conns = c;
    w->n_conns++;
    atomic_fetch_add(&w->server->connections, 1);
    if (r < 0 || !c->rt) {
        if (!c->rt)
            c->rt = px_runtime_ref(rt), c->listener = &rt->cfg->listeners[0];
        set_end(c, "accept failed");
        uv_timer_init(&w->loop, &c->timer);
        c->timer.data = c;
        c->open_handles++;
        if (!c->tls && tls_server_conn_new(c->listener->tls, &c->tls) != TLS_OK)
            abort(); /* cannot even log: out of memory at start */
        close_all(c);
        return r;
    }
    uv_timer_init(&w->loop, &c->timer);
    c->timer.data = c;
    c->open_handles++;
    uv_tcp_nodelay(&c->client, 1);
    int len = sizeof c->client_addr;
    uv_tcp_getpeername(&c->client, (struct sockaddr *)&c->client_addr, &len);
    len = sizeof c->local_addr;
    uv_tcp_getsockname(&c->client, (struct sockaddr *)&c->local_addr, &len);
    c->in_handshake = true;
    atomic_fetch_add(&w->server->handshakes, 1);
    set_state(c, c->listener->proxy_protocol_in ? PXC_PROXY_HEADER : PXC_HANDSHAKE);
    arm_timer(c);
    update_reading(c);
    return 0;
}

px_conn *px_conn_next(px_conn *c)
{
    return c->next;
}

void px_conn_abort(px_conn *c, const char *reason)
{
    if (c->state >= PXC_FINISHING) {
        close_all(c);
        return;
    }
    finish(c, reason);
    if (c->state == PXC_FINISHING) /* at shutdown nobody waits for a slow reader */
        uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
}
