/*
 * upstream.c — backend server selection and passive health checking.
 *
 * Implementation notes:
 * - Every field is touched only through C11 atomics with memory_order_relaxed. Nothing is
 *   published through these fields (each is a self-contained counter or deadline that is
 *   only ever compared, never used to find other memory), so no ordering between them is
 *   needed; relaxed atomics still guarantee each field on its own is never torn and every
 *   read-modify-write is applied exactly once.
 * - Reports for one server from several threads may interleave (a success resets the
 *   counter while a failure increments it). Each field stays consistent on its own; the
 *   worst outcome is a down period that starts or ends one report early or late, which
 *   passive health checking tolerates by design.
 * - Selection only considers the first 64 servers: `tried` has 64 bits. The config caps a
 *   backend at 64 servers; should a larger one reach us, the rest are never picked, but
 *   their health records exist so report/acquire/release on them stay in bounds.
 * - The round-robin cursor is a 32-bit counter that wraps; at a wrap the rotation skips
 *   ahead by 2^32 mod n once, which is harmless.
 * - consecutive_failures saturates rather than wraps, so a server that fails forever is
 *   never mistaken for one that has just come back. down_until_ms only moves forward on
 *   failure (a stale report with an earlier clock cannot shorten a newer down period) and
 *   is reset to 0 only by a success.
 */
#include "proxy/upstream.h"

#include <assert.h>
#include <limits.h>
#include <stdlib.h>

#define MAX_PICKABLE 64

int px_upstream_set_init(px_upstream_set *set, const cfg_backend *backend)
{
    size_t n = backend->n_servers;

    set->backend = backend;
    set->servers = NULL;
    atomic_init(&set->next, 0);
    if (n == 0)
        return 0;
    set->servers = calloc(n, sizeof *set->servers);
    if (set->servers == NULL)
        return -1;
    for (size_t i = 0; i < n; i++) {
        atomic_init(&set->servers[i].consecutive_failures, 0);
        atomic_init(&set->servers[i].down_until_ms, 0);
        atomic_init(&set->servers[i].active, 0);
    }
    return 0;
}

void px_upstream_set_clear(px_upstream_set *set)
{
    free(set->servers);
    set->servers = NULL;
    set->backend = NULL;
}

/* A caller passing an index it did not get from pick (or for another set) is our bug. */
static px_upstream_health *health(const px_upstream_set *set, int server)
{
    assert(server >= 0 && (size_t)server < set->backend->n_servers);
    return &set->servers[server];
}

static bool least_connections(const px_upstream_set *set)
{
    switch (set->backend->balance) {
    case CFG_BALANCE_ROUND_ROBIN:
        return false;
    case CFG_BALANCE_LEAST_CONNECTIONS:
        return true;
    default:
        /* The config loader only produces the values above: this is memory corruption. */
        abort();
    }
}

int px_upstream_pick(px_upstream_set *set, uint64_t tried, uint64_t now_ms)
{
    size_t n = set->backend->n_servers;
    bool least;
    size_t start;
    int best = -1, fallback = -1;
    unsigned best_active = 0;
    uint_fast64_t fallback_until = 0;

    if (n > MAX_PICKABLE)
        n = MAX_PICKABLE;
    if (n == 0)
        return -1;
    least = least_connections(set);
    /* Least connections takes the cursor too: it decides ties, so equal loads spread. */
    start = atomic_fetch_add_explicit(&set->next, 1, memory_order_relaxed) % n;

    for (size_t k = 0; k < n; k++) {
        size_t i = (start + k) % n;
        px_upstream_health *h = &set->servers[i];
        uint_fast64_t until;
        unsigned active;

        if (tried & (UINT64_C(1) << i))
            continue;
        until = atomic_load_explicit(&h->down_until_ms, memory_order_relaxed);
        if (until > now_ms) {
            if (fallback < 0 || until < fallback_until) {
                fallback = (int)i;
                fallback_until = until;
            }
            continue;
        }
        if (!least)
            return (int)i;
        active = atomic_load_explicit(&h->active, memory_order_relaxed);
        if (best < 0 || active < best_active) {
            best = (int)i;
            best_active = active;
            if (active == 0)
                break; /* nothing later in the scan can beat it */
        }
    }
    return best >= 0 ? best : fallback;
}

void px_upstream_report(px_upstream_set *set, int server, bool connected, uint64_t now_ms)
{
    px_upstream_health *h = health(set, server);
    unsigned failures;
    uint_fast64_t until, cur;

    if (connected) {
        atomic_store_explicit(&h->consecutive_failures, 0, memory_order_relaxed);
        atomic_store_explicit(&h->down_until_ms, 0, memory_order_relaxed);
        return;
    }

    failures = atomic_load_explicit(&h->consecutive_failures, memory_order_relaxed);
    while (failures < UINT_MAX &&
           !atomic_compare_exchange_weak_explicit(&h->consecutive_failures, &failures, failures + 1,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
    if (failures < UINT_MAX)
        failures++;
    if (failures < PX_UPSTREAM_MAX_FAILURES)
        return;

    until = now_ms + PX_UPSTREAM_DOWN_MS;
    cur = atomic_load_explicit(&h->down_until_ms, memory_order_relaxed);
    while (cur < until &&
           !atomic_compare_exchange_weak_explicit(&h->down_until_ms, &cur, until,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

void px_upstream_acquire(px_upstream_set *set, int server)
{
    atomic_fetch_add_explicit(&health(set, server)->active, 1, memory_order_relaxed);
}

void px_upstream_release(px_upstream_set *set, int server)
{
    px_upstream_health *h = health(set, server);
    unsigned active = atomic_load_explicit(&h->active, memory_order_relaxed);

    /* An unmatched release is a caller bug, but must not make a server look loaded. */
    while (active > 0 &&
           !atomic_compare_exchange_weak_explicit(&h->active, &active, active - 1,
                                                  memory_order_relaxed, memory_order_relaxed))
        ;
}

bool px_upstream_is_down(const px_upstream_set *set, int server, uint64_t now_ms)
{
    return atomic_load_explicit(&health(set, server)->down_until_ms, memory_order_relaxed) > now_ms;
}
