/*
 * runtime.h — one configuration snapshot as the proxy uses it: the validated
 * config, a health-tracked upstream set per backend, and the log.
 *
 * Snapshots are immutable apart from atomics (health records) and reference
 * counted: each worker holds the current one for new connections, and each
 * connection holds the one it was accepted under, so a reload never changes a
 * connection in flight. The last reference frees the snapshot.
 */
#ifndef MOAT_PROXY_RUNTIME_H
#define MOAT_PROXY_RUNTIME_H

#include "config/config.h"
#include "log.h"
#include "upstream.h"

typedef struct px_runtime {
    atomic_uint refs;
    cfg_config *cfg;
    px_upstream_set *upstreams; /* one per cfg->backends entry */
    px_log log;
    unsigned generation;
    /* For each listening socket opened at start (by start index), the index of the
     * listener in cfg that it serves, or -1 when this config dropped it. */
    int *slot_listener;
    size_t n_slots;
} px_runtime;

/* Builds a snapshot over cfg (takes its own reference). 0, or -1 with err. */
int px_runtime_new(cfg_config *cfg, unsigned generation, px_runtime **out, char *err,
                   size_t errlen);
px_runtime *px_runtime_ref(px_runtime *rt);
void px_runtime_unref(px_runtime *rt);

#endif
