/*
 * server.c — listening sockets, worker threads, reloads and graceful shutdown
 * (see server.h for the threading and ownership rules).
 *
 * Implementation notes:
 * - At max_connections, or with max_handshakes connections in their handshake, a
 *   worker stops calling uv_accept: libuv then stops polling that listener and new
 *   connections wait in the kernel's queue, while established ones go on. A short retry
 *   timer (and every connection that ends or finishes its handshake) resumes accepting
 *   when there is room again. Both limits count over the whole process.
 * - Logs about limits are rate-limited per worker (LIMIT_LOG_MS), so a flood cannot
 *   turn into a flood of log lines.
 * - Sockets inherited from systemd are matched to listeners by their bound address;
 *   every worker listens on a duplicate of the inherited descriptor.
 */
#include "server.h"

#include <errno.h>
#include <netinet/in.h>
#include <stdlib.h>
#include <string.h>
#include <systemd/sd-daemon.h>
#include <unistd.h>

#include "conn.h"

#define LISTEN_BACKLOG 1024
#define ACCEPT_RETRY_MS 50
#define LIMIT_LOG_MS 10000

/* ---- sockets ---------------------------------------------------------------------- */

static bool same_address(const struct sockaddr_storage *a, const struct sockaddr_storage *b)
{
    if (a->ss_family != b->ss_family)
        return false;
    if (a->ss_family == AF_INET) {
        const struct sockaddr_in *x = (const struct sockaddr_in *)a;
        const struct sockaddr_in *y = (const struct sockaddr_in *)b;
        return x->sin_port == y->sin_port && x->sin_addr.s_addr == y->sin_addr.s_addr;
    }
    if (a->ss_family == AF_INET6) {
        const struct sockaddr_in6 *x = (const struct sockaddr_in6 *)a;
        const struct sockaddr_in6 *y = (const struct sockaddr_in6 *)b;
        return x->sin6_port == y->sin6_port &&
               !memcmp(&x->sin6_addr, &y->sin6_addr, sizeof x->sin6_addr);
    }
    return false;
}

/* A descriptor passed by systemd (LISTEN_FDS) bound to addr, or -1. */
static int inherited_socket(int n_fds, const cfg_address *addr)
{
    for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n_fds; fd++) {
        struct sockaddr_storage ss;
        socklen_t len = sizeof ss;
        if (sd_is_socket(fd, addr->addr.ss_family, SOCK_STREAM, 1) <= 0)
            continue;
        if (getsockname(fd, (struct sockaddr *)&ss, &len) == 0 && same_address(&ss, &addr->addr))
            return fd;
    }
    return -1;
}

/* A socket systemd passed that no listener claims would leave its clients hanging. */
static void warn_unused_inherited(int n_fds, const cfg_config *cfg, const px_log *log)
{
    for (int fd = SD_LISTEN_FDS_START; fd < SD_LISTEN_FDS_START + n_fds; fd++) {
        bool used = false;
        for (size_t i = 0; i < cfg->n_listeners && !used; i++)
            used = inherited_socket(n_fds, &cfg->listeners[i].address) == fd;
        if (!used)
            px_log_msg(log, CFG_LOG_WARN,
                       "inherited socket (fd %d) matches no listener in the configuration: "
                       "its connections will not be served",
                       fd);
    }
}

static int open_listen_socket(const cfg_address *addr, char *err, size_t errlen)
{
    int one = 1;
    int fd = socket(addr->addr.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        snprintf(err, errlen, "%s: cannot create a socket: %s", addr->text, strerror(errno));
        return -1;
    }
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof one);
    if (setsockopt(fd, SOL_SOCKET, SO_REUSEPORT, &one, sizeof one) < 0 ||
        (addr->addr.ss_family == AF_INET6 &&
         setsockopt(fd, IPPROTO_IPV6, IPV6_V6ONLY, &one, sizeof one) < 0) ||
        bind(fd, (const struct sockaddr *)&addr->addr, addr->addr_len) < 0 ||
        listen(fd, LISTEN_BACKLOG) < 0) {
        snprintf(err, errlen, "%s: cannot listen: %s", addr->text, strerror(errno));
        close(fd);
        return -1;
    }
    return fd;
}

/* Points each start-up socket at the listener of cfg with the same address. */
static int map_slots(px_server *s, px_runtime *rt, char *err, size_t errlen)
{
    rt->n_slots = s->n_start;
    rt->slot_listener = calloc(s->n_start ? s->n_start : 1, sizeof *rt->slot_listener);
    if (!rt->slot_listener) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    for (size_t i = 0; i < s->n_start; i++) {
        rt->slot_listener[i] = -1;
        for (size_t j = 0; j < rt->cfg->n_listeners; j++)
            if (same_address(&s->start_addresses[i].addr, &rt->cfg->listeners[j].address.addr))
                rt->slot_listener[i] = (int)j;
    }
    for (size_t j = 0; j < rt->cfg->n_listeners; j++) {
        bool open = false;
        for (size_t i = 0; i < s->n_start; i++)
            open |= rt->slot_listener[i] == (int)j;
        if (!open)
            px_log_msg(&rt->log, CFG_LOG_WARN,
                       "listener %s is new: it will open when moat restarts",
                       rt->cfg->listeners[j].address.text);
    }
    return 0;
}

int px_server_bind(cfg_config *cfg, px_server **out, char *err, size_t errlen)
{
    px_server *s = calloc(1, sizeof *s);
    int n_fds = sd_listen_fds(1);
    *out = NULL;
    if (!s) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    s->n_workers = cfg->workers ? cfg->workers : 1;
    s->max_connections = cfg->max_connections;
    s->drain_ms = cfg->drain_timeout_ms;
    s->generation = 1;
    atomic_init(&s->connections, 0);
    atomic_init(&s->handshakes, 0);
    atomic_init(&s->stopping, false);
    uv_mutex_init(&s->lock);
    s->n_start = cfg->n_listeners;
    s->start_addresses = calloc(cfg->n_listeners, sizeof *s->start_addresses);
    s->workers = calloc(s->n_workers, sizeof *s->workers);
    s->sources = px_sources_new();
    if (!s->start_addresses || !s->workers || !s->sources)
        goto oom;
    for (size_t i = 0; i < cfg->n_listeners; i++)
        s->start_addresses[i] = cfg->listeners[i].address; /* sockaddr only: text stays cfg's */
    for (unsigned w = 0; w < s->n_workers; w++) {
        px_worker *wk = &s->workers[w];
        wk->magic = PX_WORKER_MAGIC;
        wk->server = s;
        wk->index = w;
        wk->n_slots = cfg->n_listeners;
        wk->slots = calloc(cfg->n_listeners, sizeof *wk->slots);
        if (!wk->slots)
            goto oom;
        for (size_t i = 0; i < cfg->n_listeners; i++)
            wk->slots[i].fd = -1;
    }
    for (size_t i = 0; i < cfg->n_listeners; i++) {
        const cfg_address *addr = &cfg->listeners[i].address;
        int inherited = n_fds > 0 ? inherited_socket(n_fds, addr) : -1;
        for (unsigned w = 0; w < s->n_workers; w++) {
            px_listen_slot *slot = &s->workers[w].slots[i];
            slot->magic = PX_WORKER_MAGIC;
            slot->worker = &s->workers[w];
            slot->start_index = i;
            slot->fd = inherited >= 0 ? dup(inherited) : open_listen_socket(addr, err, errlen);
            if (slot->fd < 0) {
                if (inherited >= 0)
                    snprintf(err, errlen, "%s: cannot duplicate the inherited socket: %s",
                             addr->text, strerror(errno));
                goto fail;
            }
        }
    }
    if (px_runtime_new(cfg, s->generation, &s->runtime, err, errlen) != 0 ||
        map_slots(s, s->runtime, err, errlen) != 0)
        goto fail;
    warn_unused_inherited(n_fds, cfg, &s->runtime->log);
    *out = s;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
fail:
    s->n_workers = s->workers ? s->n_workers : 0;
    px_server_join_and_free(s);
    return -1;
}

/* ---- workers ---------------------------------------------------------------------- */

static void on_retry_timer(uv_timer_t *t);

/* The limit that keeps this worker from accepting now (its value in *limit), or NULL. */
static const char *accept_limit(const px_worker *w, unsigned *limit)
{
    px_server *s = w->server;
    unsigned max_handshakes = w->runtime->cfg->max_handshakes;

    if (atomic_load(&s->connections) >= s->max_connections) {
        *limit = s->max_connections;
        return "max_connections";
    }
    if (max_handshakes && atomic_load(&s->handshakes) >= max_handshakes) {
        *limit = max_handshakes;
        return "max_handshakes";
    }
    return NULL;
}

static void try_accept(px_listen_slot *slot)
{
    px_worker *w = slot->worker;
    unsigned limit = 0;
    if (w->stopping)
        return;
    const char *why = accept_limit(w, &limit);
    if (why) {
        /* Leave the connection in the kernel queue; libuv stops polling until we accept. */
        uint64_t now = px_now_ms();
        if (!slot->paused && (!w->pause_logged_ms || now - w->pause_logged_ms >= LIMIT_LOG_MS)) {
            w->pause_logged_ms = now;
            px_log_msg(&w->runtime->log, CFG_LOG_WARN, "%s (%u) reached: accepting paused", why,
                       limit);
        }
        slot->paused = true;
        if (!uv_is_active((uv_handle_t *)&w->retry_timer))
            uv_timer_start(&w->retry_timer, on_retry_timer, ACCEPT_RETRY_MS, 0);
        return;
    }
    slot->paused = false;
    int r = px_conn_accept(w, slot);
    if (r < 0)
        px_log_msg(&w->runtime->log, CFG_LOG_WARN, "accept failed: %s", uv_strerror(r));
}

static void on_connection(uv_stream_t *listener, int status)
{
    px_listen_slot *slot = listener->data;
    if (!slot || slot->magic != PX_WORKER_MAGIC)
        abort();
    if (status < 0) {
        px_log_msg(&slot->worker->runtime->log, CFG_LOG_WARN, "listener %zu: %s",
                   slot->start_index, uv_strerror(status));
        return;
    }
    try_accept(slot);
}

static void resume_paused(px_worker *w)
{
    for (size_t i = 0; i < w->n_slots; i++)
        if (w->slots[i].paused && w->slots[i].open)
            try_accept(&w->slots[i]);
}

static void on_retry_timer(uv_timer_t *t)
{
    resume_paused(t->data);
}

static void close_worker_handles(px_worker *w)
{
    if (w->handles_closed)
        return;
    w->handles_closed = true;
    uv_close((uv_handle_t *)&w->wakeup, NULL);
    uv_close((uv_handle_t *)&w->retry_timer, NULL);
    uv_close((uv_handle_t *)&w->drain_timer, NULL);
}

static void on_drain_deadline(uv_timer_t *t)
{
    px_worker *w = t->data;
    struct px_conn *next;
    if (w->n_conns)
        px_log_msg(&w->runtime->log, CFG_LOG_WARN,
                   "worker %u: drain timeout: closing %u connections", w->index, w->n_conns);
    for (struct px_conn *c = w->conns; c; c = next) {
        next = px_conn_next(c);
        px_conn_abort(c, "shutdown: drain timeout");
    }
}

static void begin_stop(px_worker *w)
{
    if (w->stopping)
        return;
    w->stopping = true;
    for (size_t i = 0; i < w->n_slots; i++) {
        if (w->slots[i].open) {
            uv_close((uv_handle_t *)&w->slots[i].handle, NULL);
            w->slots[i].open = false;
        }
    }
    if (w->n_conns == 0)
        close_worker_handles(w);
    else
        uv_timer_start(&w->drain_timer, on_drain_deadline, w->server->drain_ms, 0);
}

void px_worker_conn_closed(px_worker *w)
{
    if (w->stopping) {
        if (w->n_conns == 0)
            close_worker_handles(w);
        return;
    }
    resume_paused(w);
}

void px_worker_handshake_over(px_worker *w)
{
    if (w->stopping || w->handles_closed)
        return;
    for (size_t i = 0; i < w->n_slots; i++) {
        if (w->slots[i].paused) {
            /* Not from here: the caller is in the middle of a connection's callback. */
            uv_timer_start(&w->retry_timer, on_retry_timer, 0, 0);
            return;
        }
    }
}

void px_worker_source_refused(px_worker *w, const px_source_key *source, px_source_verdict why)
{
    const cfg_config *cfg = w->runtime->cfg;
    uint64_t now = px_now_ms();
    char text[64], limit[64];

    w->refusals_untold++;
    if (w->refusal_logged_ms && now - w->refusal_logged_ms < LIMIT_LOG_MS)
        return;
    px_source_key_format(source, cfg->per_source_ipv6_prefix, text, sizeof text);
    if (why == PX_SOURCE_TOO_MANY)
        snprintf(limit, sizeof limit, "max_connections (%u)", cfg->per_source_max_connections);
    else if (why == PX_SOURCE_TOO_FAST)
        snprintf(limit, sizeof limit, "rate (%u per %llu ms)", (unsigned)cfg->per_source_rate,
                 (unsigned long long)cfg->per_source_period_ms);
    else
        snprintf(limit, sizeof limit, "out of memory");
    px_log_msg(&w->runtime->log, CFG_LOG_WARN,
               "per_source %s reached by %s: connection refused (%u refused by this worker "
               "since the last such message)",
               limit, text, w->refusals_untold);
    w->refusal_logged_ms = now;
    w->refusals_untold = 0;
}

static void on_wakeup(uv_async_t *a)
{
    px_worker *w = a->data;
    px_server *s = w->server;
    if (atomic_load(&s->stopping)) {
        begin_stop(w);
        return;
    }
    uv_mutex_lock(&s->lock);
    if (s->runtime != w->runtime) {
        px_runtime *old = w->runtime;
        w->runtime = px_runtime_ref(s->runtime);
        px_runtime_unref(old);
    }
    uv_mutex_unlock(&s->lock);
}

static void worker_main(void *arg)
{
    px_worker *w = arg;
    uv_run(&w->loop, UV_RUN_DEFAULT);
}

static int start_worker(px_server *s, px_worker *w, char *err, size_t errlen)
{
    int r = uv_loop_init(&w->loop);
    if (r < 0)
        goto fail;
    w->read_buf = malloc(PX_READ_BUF_SIZE);
    if (!w->read_buf) {
        r = UV_ENOMEM;
        goto fail;
    }
    w->runtime = px_server_runtime(s);
    uv_async_init(&w->loop, &w->wakeup, on_wakeup);
    w->wakeup.data = w;
    uv_timer_init(&w->loop, &w->retry_timer);
    w->retry_timer.data = w;
    uv_timer_init(&w->loop, &w->drain_timer);
    w->drain_timer.data = w;
    for (size_t i = 0; i < w->n_slots; i++) {
        px_listen_slot *slot = &w->slots[i];
        if ((r = uv_tcp_init(&w->loop, &slot->handle)) < 0)
            goto fail;
        slot->handle.data = slot;
        slot->open = true;
        if ((r = uv_tcp_open(&slot->handle, slot->fd)) < 0)
            goto fail;
        slot->fd = -1; /* the handle owns it now */
        if ((r = uv_listen((uv_stream_t *)&slot->handle, LISTEN_BACKLOG, on_connection)) < 0)
            goto fail;
    }
    if ((r = uv_thread_create(&w->thread, worker_main, w)) < 0)
        goto fail;
    return 0;
fail:
    snprintf(err, errlen, "worker %u: %s", w->index, uv_strerror(r));
    return -1;
}

int px_server_run(px_server *s, char *err, size_t errlen)
{
    for (unsigned i = 0; i < s->n_workers; i++) {
        if (start_worker(s, &s->workers[i], err, errlen) != 0) {
            /* Workers already running are told to stop; the caller frees the server. */
            px_server_stop(s);
            return -1;
        }
        s->workers[i].started = true;
    }
    return 0;
}

/* ---- control from the main thread ----------------------------------------------------- */

px_runtime *px_server_runtime(px_server *s)
{
    uv_mutex_lock(&s->lock);
    px_runtime *rt = px_runtime_ref(s->runtime);
    uv_mutex_unlock(&s->lock);
    return rt;
}

int px_server_reload(px_server *s, cfg_config *cfg, char *err, size_t errlen)
{
    px_runtime *rt, *old;
    if (px_runtime_new(cfg, s->generation + 1, &rt, err, errlen) != 0)
        return -1;
    if (map_slots(s, rt, err, errlen) != 0) {
        px_runtime_unref(rt);
        return -1;
    }
    s->generation++;
    uv_mutex_lock(&s->lock);
    old = s->runtime;
    s->runtime = rt;
    uv_mutex_unlock(&s->lock);
    px_runtime_unref(old);
    for (unsigned i = 0; i < s->n_workers; i++)
        if (s->workers[i].started)
            uv_async_send(&s->workers[i].wakeup);
    return 0;
}

void px_server_stop(px_server *s)
{
    atomic_store(&s->stopping, true);
    for (unsigned i = 0; i < s->n_workers; i++)
        if (s->workers[i].started)
            uv_async_send(&s->workers[i].wakeup);
}

unsigned px_server_connections(px_server *s)
{
    return atomic_load(&s->connections);
}

void px_server_join_and_free(px_server *s)
{
    if (!s)
        return;
    for (unsigned i = 0; i < s->n_workers; i++) {
        px_worker *w = &s->workers[i];
        if (w->started) {
            uv_thread_join(&w->thread);
        } else if (w->read_buf) {
            /* Initialised but never run: close what was opened, then finish the loop. */
            for (size_t j = 0; j < w->n_slots; j++)
                if (w->slots[j].open)
                    uv_close((uv_handle_t *)&w->slots[j].handle, NULL);
            close_worker_handles(w);
            uv_run(&w->loop, UV_RUN_DEFAULT);
        }
        if (w->read_buf)
            uv_loop_close(&w->loop);
        for (size_t j = 0; j < w->n_slots; j++)
            if (w->slots && w->slots[j].fd >= 0)
                close(w->slots[j].fd);
        free(w->slots);
        free(w->read_buf);
        px_runtime_unref(w->runtime);
    }
    free(s->workers);
    free(s->start_addresses);
    px_sources_free(s->sources);
    px_runtime_unref(s->runtime);
    uv_mutex_destroy(&s->lock);
    free(s);
}
