/*
 * runtime.c — configuration snapshots (see runtime.h).
 */
#include "runtime.h"

#include <stdlib.h>

int px_runtime_new(cfg_config *cfg, unsigned generation, px_runtime **out, char *err,
                   size_t errlen)
{
    px_runtime *rt = calloc(1, sizeof *rt);
    *out = NULL;
    if (!rt) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    atomic_init(&rt->refs, 1);
    rt->cfg = cfg_ref(cfg);
    rt->generation = generation;
    rt->upstreams = calloc(cfg->n_backends ? cfg->n_backends : 1, sizeof *rt->upstreams);
    if (!rt->upstreams)
        goto oom;
    for (size_t i = 0; i < cfg->n_backends; i++)
        if (px_upstream_set_init(&rt->upstreams[i], &cfg->backends[i]) != 0)
            goto oom;
    if (px_log_init(&rt->log, cfg, err, errlen) != 0) {
        px_runtime_unref(rt);
        return -1;
    }
    *out = rt;
    return 0;
oom:
    snprintf(err, errlen, "out of memory");
    px_runtime_unref(rt);
    return -1;
}

px_runtime *px_runtime_ref(px_runtime *rt)
{
    atomic_fetch_add(&rt->refs, 1);
    return rt;
}

void px_runtime_unref(px_runtime *rt)
{
    if (!rt || atomic_fetch_sub(&rt->refs, 1) != 1)
        return;
    if (rt->upstreams)
        for (size_t i = 0; i < rt->cfg->n_backends; i++)
            px_upstream_set_clear(&rt->upstreams[i]);
    free(rt->upstreams);
    free(rt->slot_listener);
    px_log_clear(&rt->log);
    cfg_unref(rt->cfg);
    free(rt);
}
