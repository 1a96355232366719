/*
 * ocsp.c — OCSP staplers and their small HTTP/1.1 client (see ocsp.h).
 *
 * Implementation notes
 * - A stapler owns one timer and at most one fetch in flight. Times are wall-clock
 *   milliseconds (thisUpdate and nextUpdate are wall-clock instants); the timer is
 *   re-armed after every event for the earliest of "fetch due" and "staple expires".
 * - A fetch (struct http_fetch) lives apart from its stapler: stopping a stapler
 *   abandons its fetch (owner = NULL), and the fetch frees itself once its handles
 *   are closed and its getaddrinfo request has returned. Its callbacks check
 *   `finished` first, since a cancelled connect or write still calls back.
 * - The response is read into one buffer of MAX_RESPONSE + 1 bytes: one byte more
 *   than allowed tells "too large" from "exactly the limit". It is complete at
 *   Content-Length bytes, at the last chunk (chunked), or at EOF (neither header).
 * - RFC 6960 Appendix A.1: POST with Content-Type application/ocsp-request; only
 *   http:// responders (OCSP responses are signed, so TLS adds nothing there).
 */
#include "ocsp.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#include "log.h"

#define STAPLER_MAGIC 0x6f637370u /* "ocsp" */
#define FETCH_MAGIC 0x68747470u   /* "http" */

#define FETCH_TIMEOUT_MS 10000
#define MAX_RESPONSE (64u * 1024u)
#define RETRY_MIN_MS 1000
#define RETRY_MAX_MS (5 * 60 * 1000)
#define REFRESH_MAX_MS ((int64_t)12 * 60 * 60 * 1000)
/* A responder handing out responses already past half their life is not asked again
 * at once: the next refresh waits this long at least. */
#define REFRESH_MIN_MS ((int64_t)10 * 1000)

typedef struct stapler stapler;
typedef struct http_fetch http_fetch;

struct stapler {
    uint32_t magic;
    uv_timer_t timer;
    tls_certified_key *ck; /* one reference */
    char *name;            /* the certificate file, for logs and reloads */
    uint8_t *issuer;
    size_t issuer_len;
    bool fetch;       /* ocsp: fetch (else ocsp: FILE, only watched for expiry) */
    uint8_t *request; /* DER OCSPRequest */
    size_t request_len;
    char url[CFG_OCSP_URL_MAX];
    uint8_t *staple; /* the last fetched staple installed (DER), for reloads */
    size_t staple_len;
    int64_t next_update_ms; /* of the staple in place; 0: none */
    int64_t fetch_at_ms;    /* when to fetch next; 0: never */
    uint64_t backoff_ms;
    http_fetch *inflight;
    bool stopping;
};

struct px_ocsp {
    stapler **staplers;
    size_t n;
};

typedef void (*fetch_done_fn)(stapler *st, const char *err, const uint8_t *body, size_t len);

struct http_fetch {
    uint32_t magic;
    stapler *owner; /* NULL once abandoned */
    fetch_done_fn done;
    char host[256], port[8];
    uint8_t *out; /* the request: head and body */
    size_t out_len;
    uv_getaddrinfo_t gai;
    bool gai_busy;
    uv_tcp_t tcp;
    bool tcp_init;
    uv_connect_t connect;
    uv_write_t write;
    uv_timer_t deadline;
    unsigned open_handles;
    uint8_t *in; /* MAX_RESPONSE + 1 bytes */
    size_t in_len;
    bool finished;
};

static int64_t wall_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_REALTIME, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* "2026-11-23T16:32:00Z" */
static void format_time(int64_t unix_s, char *buf, size_t cap)
{
    time_t t = (time_t)unix_s;
    struct tm tm;
    if (!gmtime_r(&t, &tm) || !strftime(buf, cap, "%Y-%m-%dT%H:%M:%SZ", &tm))
        snprintf(buf, cap, "%" PRId64, unix_s);
}

/* ---- the HTTP client ---------------------------------------------------------------- */

static void fetch_maybe_free(http_fetch *f)
{
    if (f->open_handles || f->gai_busy)
        return;
    f->magic = 0;
    free(f->out);
    free(f->in);
    free(f);
}

static void fetch_on_close(uv_handle_t *h)
{
    http_fetch *f = h->data;
    f->open_handles--;
    fetch_maybe_free(f);
}

/* Reports the outcome once (err, or the body, which points into f->in), then tears
 * the fetch down. */
static void fetch_finish(http_fetch *f, const char *err, const uint8_t *body, size_t len)
{
    if (f->finished)
        return;
    f->finished = true;
    if (f->owner) {
        f->owner->inflight = NULL;
        f->done(f->owner, err, body, len);
        f->owner = NULL;
    }
    if (f->gai_busy)
        uv_cancel((uv_req_t *)&f->gai); /* a running lookup still calls back */
    if (f->tcp_init)
        uv_close((uv_handle_t *)&f->tcp, fetch_on_close);
    uv_close((uv_handle_t *)&f->deadline, fetch_on_close);
}

static void fetch_failf(http_fetch *f, const char *fmt, ...) PX_PRINTF(2, 3);
static void fetch_failf(http_fetch *f, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    fetch_finish(f, msg, NULL, 0);
}

/* Case-insensitive "name:" at the start of a header line; the value after it. */
static const char *header_value(const char *line, size_t len, const char *name)
{
    size_t n = strlen(name);
    if (len <= n || strncasecmp(line, name, n) != 0 || line[n] != ':')
        return NULL;
    line += n + 1;
    while (*line == ' ' || *line == '\t')
        line++;
    return line;
}

/* Decodes a chunked body (RFC 9112 §7.1) in place. 1 done (*len set), 0 more bytes
 * needed, -1 malformed. Trailers after the last chunk are not read: the last chunk
 * ends the body. */
static int dechunk(uint8_t *p, size_t avail, size_t *len, const char **err)
{
    size_t in = 0, out = 0;

    for (;;) {
        size_t size = 0, digits = 0;
        while (in < avail && digits < 8) {
            int c = p[in], v = c >= '0' && c <= '9'   ? c - '0'
                               : c >= 'a' && c <= 'f' ? c - 'a' + 10
                               : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                                      : -1;
            if (v < 0)
                break;
            size = size * 16 + (size_t)v;
            digits++;
            in++;
        }
        if (in == avail)
            return 0;
        if (!digits || size > MAX_RESPONSE) {
            *err = "malformed chunked body";
            return -1;
        }
        while (in < avail && p[in] != '\n') /* chunk extensions */
            in++;
        if (in == avail)
            return 0;
        in++;
        if (size == 0) {
            *len = out;
            return 1;
        }
        if (avail - in < size + 2)
            return 0;
        memmove(p + out, p + in, size);
        out += size;
        in += size;
        if (p[in] != '\r' || p[in + 1] != '\n') {
            *err = "malformed chunked body";
            return -1;
        }
        in += 2;
    }
}

/* 1 with the body, 0 when more bytes are needed, -1 with *err. */
static int parse_response(http_fetch *f, bool eof, uint8_t **body, size_t *len, const char **err)
{
    char *text = (char *)f->in, *head_end, *line;
    unsigned long long content_length = 0;
    bool have_length = false, chunked = false;
    size_t head_len, avail;
    int status = 0, rc;

    f->in[f->in_len] = '\0'; /* room for it: in holds MAX_RESPONSE + 1 bytes plus one */
    head_end = strstr(text, "\r\n\r\n");
    if (!head_end) {
        *err = eof ? "connection closed before the response headers ended" : NULL;
        return eof ? -1 : 0;
    }
    head_len = (size_t)(head_end - text) + 4;
    if (sscanf(text, "HTTP/1.%*[01] %3d", &status) != 1) {
        *err = "not an HTTP/1.x response";
        return -1;
    }
    if (status != 200) {
        static char msg[64]; /* main thread only */
        snprintf(msg, sizeof msg, "the responder answered HTTP %d", status);
        *err = msg;
        return -1;
    }
    for (line = strstr(text, "\r\n") + 2; line < head_end;) {
        char *eol = strstr(line, "\r\n");
        const char *v;
        if ((v = header_value(line, (size_t)(eol - line), "content-length")) != NULL) {
            char *end;
            content_length = strtoull(v, &end, 10);
            if (end == v || (*end != '\r' && *end != ' ' && *end != '\t')) {
                *err = "malformed Content-Length";
                return -1;
            }
            have_length = true;
        } else if ((v = header_value(line, (size_t)(eol - line), "transfer-encoding")) != NULL) {
            chunked = strncasecmp(v, "chunked", 7) == 0;
            if (!chunked) {
                *err = "unsupported Transfer-Encoding";
                return -1;
            }
        }
        line = eol + 2;
    }
    *body = f->in + head_len;
    avail = f->in_len - head_len;
    if (chunked) {
        rc = dechunk(*body, avail, len, err);
        if (rc == 0 && eof) {
            *err = "connection closed inside the chunked body";
            return -1;
        }
    } else if (have_length) {
        if (content_length > MAX_RESPONSE) {
            *err = "response larger than 64 KiB";
            return -1;
        }
        rc = avail >= content_length ? 1 : 0;
        *len = (size_t)content_length;
        if (!rc && eof) {
            *err = "connection closed before Content-Length bytes arrived";
            return -1;
        }
    } else {
        rc = eof ? 1 : 0;
        *len = avail;
    }
    if (rc == 1 && *len == 0) {
        *err = "empty response body";
        return -1;
    }
    return rc;
}

static void fetch_on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    http_fetch *f = h->data;
    (void)suggested;
    *buf = uv_buf_init((char *)f->in + f->in_len, (unsigned)(MAX_RESPONSE + 1 - f->in_len));
}

static void fetch_on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    http_fetch *f = s->data;
    const char *err = NULL;
    uint8_t *body = NULL;
    size_t len = 0;
    int rc;

    (void)buf;
    if (f->finished || nread == 0)
        return;
    if (nread < 0 && nread != UV_EOF) {
        fetch_failf(f, "reading the response: %s", uv_strerror((int)nread));
        return;
    }
    if (nread > 0)
        f->in_len += (size_t)nread;
    if (f->in_len > MAX_RESPONSE) {
        fetch_finish(f, "response larger than 64 KiB", NULL, 0);
        return;
    }
    rc = parse_response(f, nread == UV_EOF, &body, &len, &err);
    if (rc < 0)
        fetch_finish(f, err, NULL, 0);
    else if (rc > 0)
        fetch_finish(f, NULL, body, len);
}

static void fetch_on_written(uv_write_t *req, int status)
{
    http_fetch *f = req->data;
    if (!f->finished && status < 0)
        fetch_failf(f, "sending the request: %s", uv_strerror(status));
}

static void fetch_on_connect(uv_connect_t *req, int status)
{
    http_fetch *f = req->data;
    uv_buf_t b;
    int rc;

    if (f->finished)
        return;
    if (status < 0) {
        fetch_failf(f, "cannot connect to %s port %s: %s", f->host, f->port, uv_strerror(status));
        return;
    }
    b = uv_buf_init((char *)f->out, (unsigned)f->out_len);
    f->write.data = f;
    if ((rc = uv_write(&f->write, (uv_stream_t *)&f->tcp, &b, 1, fetch_on_written)) < 0 ||
        (rc = uv_read_start((uv_stream_t *)&f->tcp, fetch_on_alloc, fetch_on_read)) < 0)
        fetch_failf(f, "sending the request: %s", uv_strerror(rc));
}

static void fetch_on_resolved(uv_getaddrinfo_t *req, int status, struct addrinfo *res)
{
    http_fetch *f = req->data;
    int rc;

    f->gai_busy = false;
    if (f->finished) {
        uv_freeaddrinfo(res);
        fetch_maybe_free(f);
        return;
    }
    if (status < 0 || !res) {
        uv_freeaddrinfo(res);
        fetch_failf(f, "cannot resolve %s: %s", f->host,
                    uv_strerror(status < 0 ? status : UV_ENOENT));
        return;
    }
    rc = uv_tcp_init(req->loop, &f->tcp);
    if (rc == 0) {
        f->tcp_init = true;
        f->open_handles++;
        f->tcp.data = f;
        f->connect.data = f;
        rc = uv_tcp_connect(&f->connect, &f->tcp, res->ai_addr, fetch_on_connect);
    }
    uv_freeaddrinfo(res);
    if (rc < 0)
        fetch_failf(f, "cannot connect to %s port %s: %s", f->host, f->port, uv_strerror(rc));
}

static void fetch_on_deadline(uv_timer_t *t)
{
    http_fetch *f = t->data;
    fetch_failf(f, "no complete answer within %d s", FETCH_TIMEOUT_MS / 1000);
}

/* Splits "http://host[:port][/path]" ("[v6]" hosts too). 0, or -1 when malformed. */
static int split_url(const char *url, char *host, size_t host_cap, char *port, size_t port_cap,
                     const char **path)
{
    const char *h = url + 7, *end, *colon = NULL;
    size_t n;

    if (strncmp(url, "http://", 7) != 0)
        return -1;
    end = h + strcspn(h, "/?#");
    *path = *end == '/' ? end : "/";
    if (*h == '[') {
        const char *close = memchr(h, ']', (size_t)(end - h));
        if (!close)
            return -1;
        colon = close + 1 < end && close[1] == ':' ? close + 1 : NULL;
        if (!colon && close + 1 != end)
            return -1;
        n = (size_t)(close - h - 1);
        h++;
    } else {
        colon = memchr(h, ':', (size_t)(end - h));
        n = (size_t)((colon ? colon : end) - h);
    }
    if (n == 0 || n >= host_cap)
        return -1;
    memcpy(host, h, n);
    host[n] = '\0';
    n = colon ? (size_t)(end - colon - 1) : 2;
    if (n == 0 || n >= port_cap)
        return -1;
    if (colon) {
        memcpy(port, colon + 1, n);
        port[n] = '\0';
        if (strspn(port, "0123456789") != n)
            return -1;
    } else {
        memcpy(port, "80", 3);
    }
    return 0;
}

/* Starts a POST of st's request to st's URL; done() is called exactly once (unless the
 * stapler stops first). 0 or a negative UV_E* code / -1 with a message in err. */
static int fetch_start(uv_loop_t *loop, stapler *st, fetch_done_fn done, char *err, size_t errlen)
{
    http_fetch *f = calloc(1, sizeof *f);
    const char *path = NULL;
    char head[CFG_OCSP_URL_MAX + 512];
    int n, rc;

    if (!f || !(f->in = malloc(MAX_RESPONSE + 2))) {
        free(f);
        snprintf(err, errlen, "out of memory");
        return UV_ENOMEM;
    }
    f->magic = FETCH_MAGIC;
    f->done = done;
    if (split_url(st->url, f->host, sizeof f->host, f->port, sizeof f->port, &path) != 0) {
        snprintf(err, errlen, "malformed responder URL");
        free(f->in);
        free(f);
        return -1;
    }
    bool v6 = strchr(f->host, ':') != NULL, default_port = !strcmp(f->port, "80");
    n = snprintf(head, sizeof head,
                 "POST %s HTTP/1.1\r\n"
                 "Host: %s%s%s%s%s\r\n"
                 "User-Agent: moat\r\n"
                 "Content-Type: application/ocsp-request\r\n"
                 "Accept: application/ocsp-response\r\n"
                 "Content-Length: %zu\r\n"
                 "Connection: close\r\n\r\n",
                 path, v6 ? "[" : "", f->host, v6 ? "]" : "", default_port ? "" : ":",
                 default_port ? "" : f->port, st->request_len);
    if (n < 0 || (size_t)n >= sizeof head || !(f->out = malloc((size_t)n + st->request_len))) {
        snprintf(err, errlen, "cannot build the request");
        free(f->in);
        free(f);
        return -1;
    }
    memcpy(f->out, head, (size_t)n);
    memcpy(f->out + n, st->request, st->request_len);
    f->out_len = (size_t)n + st->request_len;

    uv_timer_init(loop, &f->deadline);
    f->deadline.data = f;
    f->open_handles = 1;
    uv_timer_start(&f->deadline, fetch_on_deadline, FETCH_TIMEOUT_MS, 0);
    f->gai.data = f;
    struct addrinfo hints = {.ai_family = AF_UNSPEC, .ai_socktype = SOCK_STREAM};
    rc = uv_getaddrinfo(loop, &f->gai, fetch_on_resolved, f->host, f->port, &hints);
    if (rc < 0) {
        snprintf(err, errlen, "cannot resolve %s: %s", f->host, uv_strerror(rc));
        f->finished = true;
        uv_close((uv_handle_t *)&f->deadline, fetch_on_close);
        return rc;
    }
    f->gai_busy = true;
    f->owner = st;
    st->inflight = f;
    return 0;
}

/* ---- staplers ----------------------------------------------------------------------- */

static void stapler_arm(stapler *st);

static int64_t refresh_at_ms(int64_t this_update, int64_t next_update, int64_t now)
{
    int64_t at = (this_update + (next_update - this_update) / 2) * 1000;
    if (at > now + REFRESH_MAX_MS)
        at = now + REFRESH_MAX_MS;
    if (at < now + REFRESH_MIN_MS)
        at = now + REFRESH_MIN_MS;
    return at;
}

static void stapler_failed(stapler *st, const char *why)
{
    char until[32];

    st->fetch_at_ms = wall_ms() + (int64_t)st->backoff_ms;
    if (st->next_update_ms)
        format_time(st->next_update_ms / 1000, until, sizeof until);
    px_log_msg(NULL, CFG_LOG_WARN,
               "OCSP staple for %s: fetch from %s failed: %s; retrying in %llu s (%s%s)", st->name,
               st->url, why, (unsigned long long)(st->backoff_ms / 1000),
               st->next_update_ms ? "the current staple is valid until " : "no staple",
               st->next_update_ms ? until : "");
    st->backoff_ms = st->backoff_ms * 2 > RETRY_MAX_MS ? RETRY_MAX_MS : st->backoff_ms * 2;
}

static void stapler_fetched(stapler *st, const char *err, const uint8_t *body, size_t len)
{
    char msg[256] = "", until[32];
    int64_t now = wall_ms(), this_update = 0, next_update = 0;
    uint8_t *copy;
    tls_error e;

    if (err) {
        stapler_failed(st, err);
        goto out;
    }
    e = tls_certified_key_set_ocsp(st->ck, body, len, st->issuer, st->issuer_len, now / 1000, msg,
                                   sizeof msg);
    if (e != TLS_OK) {
        snprintf(msg + strlen(msg), sizeof msg - strlen(msg), "%s",
                 msg[0] ? "" : tls_error_name(e));
        stapler_failed(st, msg);
        goto out;
    }
    if (!tls_certified_key_ocsp_validity(st->ck, &this_update, &next_update)) {
        stapler_failed(st, "the engine kept no staple");
        goto out;
    }
    if ((copy = malloc(len)) != NULL) {
        memcpy(copy, body, len);
        free(st->staple);
        st->staple = copy;
        st->staple_len = len;
    }
    st->next_update_ms = next_update * 1000;
    st->fetch_at_ms = refresh_at_ms(this_update, next_update, now);
    st->backoff_ms = RETRY_MIN_MS;
    format_time(next_update, until, sizeof until);
    px_log_msg(NULL, CFG_LOG_INFO,
               "OCSP staple for %s refreshed, valid until %s (next refresh in %lld s)", st->name,
               until, (long long)((st->fetch_at_ms - now + 999) / 1000));
out:
    stapler_arm(st);
}

/* The staple reached its nextUpdate without a newer one: take it down. */
static void stapler_expire(stapler *st)
{
    char msg[256] = "", when[32];
    tls_error e =
        tls_certified_key_set_ocsp(st->ck, NULL, 0, NULL, 0, wall_ms() / 1000, msg, sizeof msg);

    format_time(st->next_update_ms / 1000, when, sizeof when);
    if (e != TLS_OK)
        px_log_msg(NULL, CFG_LOG_ERROR,
                   "OCSP staple for %s expired at %s but cannot be removed: %s", st->name, when,
                   msg[0] ? msg : tls_error_name(e));
    else
        px_log_msg(NULL, CFG_LOG_WARN, "OCSP staple for %s expired at %s: no longer stapled",
                   st->name, when);
    st->next_update_ms = 0;
    free(st->staple);
    st->staple = NULL;
    st->staple_len = 0;
}

static void stapler_on_timer(uv_timer_t *t)
{
    stapler *st = t->data;
    int64_t now = wall_ms();
    char err[512];

    if (st->magic != STAPLER_MAGIC || st->stopping)
        return;
    if (st->next_update_ms && now >= st->next_update_ms)
        stapler_expire(st);
    if (st->fetch && !st->inflight && st->fetch_at_ms && now >= st->fetch_at_ms) {
        st->fetch_at_ms = 0;
        if (fetch_start(t->loop, st, stapler_fetched, err, sizeof err) != 0)
            stapler_failed(st, err);
    }
    stapler_arm(st);
}

static void stapler_arm(stapler *st)
{
    int64_t now = wall_ms(), wake = INT64_MAX;

    if (st->stopping)
        return;
    if (st->fetch && !st->inflight && st->fetch_at_ms)
        wake = st->fetch_at_ms;
    if (st->next_update_ms && st->next_update_ms < wake)
        wake = st->next_update_ms;
    if (wake == INT64_MAX) {
        uv_timer_stop(&st->timer);
        return;
    }
    uv_timer_start(&st->timer, stapler_on_timer, wake > now ? (uint64_t)(wake - now) : 0, 0);
}

static void stapler_on_close(uv_handle_t *h)
{
    stapler *st = h->data;
    st->magic = 0;
    tls_certified_key_unref(st->ck);
    free(st->name);
    free(st->issuer);
    free(st->request);
    free(st->staple);
    free(st);
}

static void stapler_stop(stapler *st)
{
    st->stopping = true;
    if (st->inflight) {
        http_fetch *f = st->inflight;
        st->inflight = NULL;
        f->owner = NULL;
        fetch_finish(f, NULL, NULL, 0);
    }
    uv_close((uv_handle_t *)&st->timer, stapler_on_close);
}

/* The fetched staple prev held for the same certificate file, if the engine takes it
 * for st's key (the file may hold a renewed certificate by now). */
static bool adopt_previous(stapler *st, const px_ocsp *prev)
{
    char msg[256] = "", until[32];
    int64_t now = wall_ms(), this_update = 0, next_update = 0;

    for (size_t i = 0; prev && i < prev->n; i++) {
        const stapler *old = prev->staplers[i];
        if (!old->fetch || !old->staple || strcmp(old->name, st->name) || !old->next_update_ms ||
            old->next_update_ms <= now)
            continue;
        if (tls_certified_key_set_ocsp(st->ck, old->staple, old->staple_len, st->issuer,
                                       st->issuer_len, now / 1000, msg, sizeof msg) != TLS_OK ||
            !tls_certified_key_ocsp_validity(st->ck, &this_update, &next_update))
            return false;
        if (!(st->staple = malloc(old->staple_len)))
            return true; /* installed; only the next reload will not carry it */
        memcpy(st->staple, old->staple, old->staple_len);
        st->staple_len = old->staple_len;
        st->next_update_ms = next_update * 1000;
        st->fetch_at_ms = refresh_at_ms(this_update, next_update, now);
        if (old->fetch_at_ms && old->fetch_at_ms < st->fetch_at_ms)
            st->fetch_at_ms = old->fetch_at_ms; /* a retry that was due anyway */
        format_time(next_update, until, sizeof until);
        px_log_msg(NULL, CFG_LOG_INFO, "OCSP staple for %s kept across the reload, valid until %s",
                   st->name, until);
        return true;
    }
    return false;
}

static int stapler_new(uv_loop_t *loop, const cfg_certificate *c, const px_ocsp *prev,
                       stapler **out)
{
    stapler *st = calloc(1, sizeof *st);
    int64_t this_update = 0, next_update = 0;
    tls_error e;

    *out = NULL;
    if (!st)
        return UV_ENOMEM;
    st->magic = STAPLER_MAGIC;
    st->ck = tls_certified_key_ref(c->key);
    st->fetch = c->ocsp == CFG_OCSP_FETCH;
    st->backoff_ms = RETRY_MIN_MS;
    /* File staplers only log; naming the file tells them from a fetcher of the same
     * certificate. */
    if (st->fetch) {
        st->name = strdup(c->cert_path);
    } else if ((st->name = malloc(strlen(c->cert_path) + strlen(c->ocsp_path) + 16)) != NULL) {
        sprintf(st->name, "%s (ocsp: %s)", c->cert_path, c->ocsp_path);
    }
    st->issuer = malloc(c->issuer_len ? c->issuer_len : 1);
    if (!st->name || !st->issuer || (st->fetch && !(st->request = malloc(CFG_OCSP_REQUEST_MAX)))) {
        uv_timer_init(loop, &st->timer);
        st->timer.data = st;
        uv_close((uv_handle_t *)&st->timer, stapler_on_close);
        return UV_ENOMEM;
    }
    memcpy(st->issuer, c->issuer, c->issuer_len);
    st->issuer_len = c->issuer_len;
    uv_timer_init(loop, &st->timer);
    st->timer.data = st;
    if (st->fetch) {
        e = tls_certified_key_ocsp_request(st->ck, st->issuer, st->issuer_len, st->request,
                                           CFG_OCSP_REQUEST_MAX, &st->request_len, st->url,
                                           sizeof st->url);
        if (e != TLS_OK) { /* cfg_load has made one already: not expected */
            px_log_msg(NULL, CFG_LOG_ERROR, "OCSP staple for %s: cannot make a request: %s",
                       st->name, tls_error_name(e));
            st->fetch = false;
        } else if (!adopt_previous(st, prev)) {
            st->fetch_at_ms = wall_ms();
        }
    }
    if (!st->fetch && tls_certified_key_ocsp_validity(st->ck, &this_update, &next_update))
        st->next_update_ms = next_update * 1000;
    *out = st;
    return 0;
}

int px_ocsp_start(uv_loop_t *loop, const cfg_config *cfg, const px_ocsp *prev, px_ocsp **out)
{
    px_ocsp *set = NULL;
    size_t cap = 0;
    int rc = 0;

    *out = NULL;
    for (size_t i = 0; i < cfg->n_listeners; i++)
        cap += cfg->listeners[i].n_certificates;
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        const cfg_listener *l = &cfg->listeners[i];
        for (size_t j = 0; j < l->n_certificates; j++) {
            const cfg_certificate *c = &l->certificates[j];
            bool known = false;
            stapler *st;
            if (c->ocsp == CFG_OCSP_NONE)
                continue;
            for (size_t k = 0; set && k < set->n && !known; k++)
                known = set->staplers[k]->ck == c->key; /* a key shared by listeners */
            if (known)
                continue;
            if (!set && (!(set = calloc(1, sizeof *set)) ||
                         !(set->staplers = calloc(cap, sizeof *set->staplers)))) {
                free(set);
                return UV_ENOMEM;
            }
            if ((rc = stapler_new(loop, c, prev, &st)) != 0) {
                px_ocsp_stop(set);
                return rc;
            }
            set->staplers[set->n++] = st;
        }
    }
    for (size_t i = 0; set && i < set->n; i++)
        stapler_arm(set->staplers[i]);
    *out = set;
    return 0;
}

void px_ocsp_stop(px_ocsp *set)
{
    if (!set)
        return;
    for (size_t i = 0; i < set->n; i++)
        stapler_stop(set->staplers[i]);
    free(set->staplers);
    free(set);
}
