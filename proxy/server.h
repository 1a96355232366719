/*
 * server.h — the proxy process: listening sockets, worker threads, reloads and
 * graceful shutdown.
 *
 * Each worker thread runs its own libuv loop with its own listening socket per
 * listener (SO_REUSEPORT, so the kernel spreads connections), or a duplicate of a
 * socket inherited from systemd. Workers share only the server struct: the current
 * runtime snapshot (swapped under a mutex on reload and picked up through
 * uv_async_send), the connection and handshake counters and the stop flag (atomics),
 * and the per-source table (its own mutex).
 *
 * Ownership: the server owns its workers; a worker owns its loop, its listening
 * handles and its connections; a connection is freed in its last close callback.
 */
#ifndef MOAT_PROXY_SERVER_H
#define MOAT_PROXY_SERVER_H

#include <stdatomic.h>
#include <uv.h>

#include "runtime.h"
#include "sources.h"

#define PX_WORKER_MAGIC 0x6d6f6174u /* "moat" */
/* Reads land in one buffer per worker: every read is consumed before the next. */
#define PX_READ_BUF_SIZE 65536

typedef struct px_server px_server;
typedef struct px_worker px_worker;
struct px_conn;

/* One listening socket of one worker. */
typedef struct {
    uint32_t magic;
    px_worker *worker;
    size_t start_index; /* which listener of the start-up config it was opened for */
    int fd;
    uv_tcp_t handle;
    bool open;   /* handle initialised (must be closed) */
    bool paused; /* a connection waits in the kernel: at max_connections or max_handshakes */
} px_listen_slot;

struct px_worker {
    uint32_t magic;
    px_server *server;
    unsigned index;
    uv_thread_t thread;
    uv_loop_t loop;
    uv_async_t wakeup;
    uv_timer_t retry_timer; /* retries paused accepts */
    uv_timer_t drain_timer; /* cuts connections still open at the drain deadline */
    px_listen_slot *slots;
    size_t n_slots;
    px_runtime *runtime; /* snapshot for new connections */
    struct px_conn *conns; /* open connections (doubly linked) */
    unsigned n_conns;
    bool stopping;
    bool handles_closed;
    bool started; /* its thread runs */
    uint8_t *read_buf;  /* PX_READ_BUF_SIZE bytes */
    /* Logs about limits are rate-limited: when one was last written, and how many
     * per-source refusals it has not told of yet. */
    uint64_t pause_logged_ms;
    uint64_t refusal_logged_ms;
    unsigned refusals_untold;
};

struct px_server {
    px_worker *workers;
    unsigned n_workers;
    uv_mutex_t lock; /* guards runtime */
    px_runtime *runtime;
    unsigned generation;
    atomic_uint connections;
    atomic_uint handshakes; /* connections in their TLS handshake (limits.max_handshakes) */
    atomic_bool stopping;
    unsigned max_connections;
    uint64_t drain_ms;
    /* Listener addresses of the start-up config, to map reloaded configs onto the
     * sockets already open. */
    cfg_address *start_addresses;
    size_t n_start;
    px_sources *sources; /* limits.per_source, kept across reloads */
};

/* Opens every listening socket (inherited from systemd where one matches) for
 * cfg->workers workers; no thread runs yet, so privileges may be dropped after this.
 * 0, or -1 with "address: reason" in err. */
int px_server_bind(cfg_config *cfg, px_server **out, char *err, size_t errlen);
/* Starts the worker threads. 0 or -1 with err. */
int px_server_run(px_server *s, char *err, size_t errlen);
/* Makes cfg the config for new connections; open connections keep theirs.
 * 0, or -1 with err (the old config stays). */
int px_server_reload(px_server *s, cfg_config *cfg, char *err, size_t errlen);
/* Stops accepting and lets connections drain for the config's drain timeout. */
void px_server_stop(px_server *s);
/* Waits for every worker to finish, then frees the server. */
void px_server_join_and_free(px_server *s);
unsigned px_server_connections(px_server *s);
/* The runtime snapshot now in force (a new reference). */
px_runtime *px_server_runtime(px_server *s);

/* Called by connections (proxy/conn.c) when they end: may resume paused accepts. */
void px_worker_conn_closed(px_worker *w);
/* Called by a connection whose handshake ended (done or not): accepts paused at
 * max_handshakes resume on the next loop iteration. */
void px_worker_handshake_over(px_worker *w);
/* A connection from source was refused by limits.per_source (logged, rate-limited). */
void px_worker_source_refused(px_worker *w, const px_source_key *source, px_source_verdict why);

#endif
