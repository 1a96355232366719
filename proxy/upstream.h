/*
 * upstream.h — backend server selection and passive health checking.
 *
 * A px_upstream_set holds, for one backend of one config snapshot, a health record
 * per server. It is shared by every worker thread: all fields are atomics, so
 * picking a server and reporting an outcome take no lock. Selection skips servers
 * marked down; a server is marked down for PX_UPSTREAM_DOWN_MS after
 * PX_UPSTREAM_MAX_FAILURES consecutive failed connects, and comes back (on probation:
 * one more failure takes it down again) when that time has passed.
 */
#ifndef MOAT_PROXY_UPSTREAM_H
#define MOAT_PROXY_UPSTREAM_H

#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "config/config.h"

#define PX_UPSTREAM_MAX_FAILURES 3
#define PX_UPSTREAM_DOWN_MS 10000

typedef struct {
    atomic_uint consecutive_failures;
    atomic_uint_fast64_t down_until_ms; /* monotonic ms; 0 = up */
    atomic_uint active;                 /* connections now open to this server */
} px_upstream_health;

typedef struct {
    const cfg_backend *backend; /* borrowed from the config snapshot */
    px_upstream_health *servers; /* backend->n_servers entries */
    atomic_uint next;            /* round-robin cursor */
} px_upstream_set;

/* 0, or -1 (out of memory). */
int px_upstream_set_init(px_upstream_set *set, const cfg_backend *backend);
void px_upstream_set_clear(px_upstream_set *set);

/*
 * Picks the server to try for attempt number `attempt` (0, 1, ...) of one
 * connection; `tried` is a bitmask (bit i = server i already tried for this
 * connection; backends have at most 64 servers). Honours the balance mode (round
 * robin; least connections by `active`, ties broken round-robin), skips servers that
 * are down or already tried; if every untried server is down, returns the untried one
 * whose down period ends first (a request is better than a certain failure). Returns
 * the server index, or -1 when every server has been tried.
 */
int px_upstream_pick(px_upstream_set *set, uint64_t tried, uint64_t now_ms);
/* Outcome of a connect attempt: resets or counts consecutive failures. */
void px_upstream_report(px_upstream_set *set, int server, bool connected, uint64_t now_ms);
/* Connection accounting for least-connections. */
void px_upstream_acquire(px_upstream_set *set, int server);
void px_upstream_release(px_upstream_set *set, int server);
/* True when the server is currently marked down. */
bool px_upstream_is_down(const px_upstream_set *set, int server, uint64_t now_ms);

#endif
