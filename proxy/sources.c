/*
 * sources.c — per-source-address connection limits (see sources.h).
 *
 * Implementation notes:
 * - A chained hash table under one mutex. Chains are short: the table doubles when it
 *   holds twice as many entries as buckets, after a sweep of the entries that no longer
 *   say anything (no connection open, bucket full again) has not made room.
 * - The rate bucket counts in "connection-milliseconds": a full bucket holds
 *   rate * period_ms, a connection costs period_ms, and each elapsed millisecond adds
 *   rate. Integers only; elapsed time is clamped to one period before multiplying, so
 *   nothing overflows (rate <= 10^6, period <= 1 h).
 * - Limits are passed on every call, so a reload that changes them applies at once;
 *   credit above the new capacity is cut to it.
 */
#include "sources.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>
#include <time.h>
#include <unistd.h>
#include <uv.h>

#define INITIAL_BUCKETS 256

typedef struct entry {
    struct entry *next;
    px_source_key key;
    unsigned open;   /* connections open */
    uint64_t credit; /* rate bucket, connection-milliseconds */
    uint64_t last_ms;
} entry;

struct px_sources {
    uv_mutex_t lock;
    entry **buckets;
    size_t n_buckets, n_entries;
    uint64_t k0, k1; /* SipHash key */
};

/* ---- SipHash-1-3 (Aumasson, Bernstein), 64-bit output ---------------------------------- */

#define ROTL(x, b) (uint64_t)(((x) << (b)) | ((x) >> (64 - (b))))
#define SIPROUND                                                                                   \
    do {                                                                                           \
        v0 += v1;                                                                                  \
        v1 = ROTL(v1, 13);                                                                         \
        v1 ^= v0;                                                                                  \
        v0 = ROTL(v0, 32);                                                                         \
        v2 += v3;                                                                                  \
        v3 = ROTL(v3, 16);                                                                         \
        v3 ^= v2;                                                                                  \
        v0 += v3;                                                                                  \
        v3 = ROTL(v3, 21);                                                                         \
        v3 ^= v0;                                                                                  \
        v2 += v1;                                                                                  \
        v1 = ROTL(v1, 17);                                                                         \
        v1 ^= v2;                                                                                  \
        v2 = ROTL(v2, 32);                                                                         \
    } while (0)

static uint64_t load64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | p[i];
    return v;
}

static uint64_t siphash13(uint64_t k0, uint64_t k1, const uint8_t *in, size_t len)
{
    uint64_t v0 = 0x736f6d6570736575ull ^ k0, v1 = 0x646f72616e646f6dull ^ k1;
    uint64_t v2 = 0x6c7967656e657261ull ^ k0, v3 = 0x7465646279746573ull ^ k1;
    uint64_t b = (uint64_t)len << 56;
    size_t i = 0;

    for (; i + 8 <= len; i += 8) {
        uint64_t m = load64(in + i);
        v3 ^= m;
        SIPROUND;
        v0 ^= m;
    }
    for (size_t j = 0; i + j < len; j++)
        b |= (uint64_t)in[i + j] << (8 * j);
    v3 ^= b;
    SIPROUND;
    v0 ^= b;
    v2 ^= 0xff;
    SIPROUND;
    SIPROUND;
    SIPROUND;
    return v0 ^ v1 ^ v2 ^ v3;
}

static size_t bucket_of(const px_sources *t, const px_source_key *key, size_t n_buckets)
{
    return (size_t)(siphash13(t->k0, t->k1, (const uint8_t *)key, sizeof *key) & (n_buckets - 1));
}

/* ---- the table ---------------------------------------------------------------------------- */

px_sources *px_sources_new(void)
{
    px_sources *t = calloc(1, sizeof *t);
    uint64_t k[2];

    if (!t)
        return NULL;
    t->n_buckets = INITIAL_BUCKETS;
    t->buckets = calloc(t->n_buckets, sizeof *t->buckets);
    if (!t->buckets) {
        free(t);
        return NULL;
    }
    if (getrandom(k, sizeof k, 0) != (ssize_t)sizeof k) { /* never seen; still not fixed */
        k[0] = (uint64_t)time(NULL) * 0x9e3779b97f4a7c15ull;
        k[1] = (uint64_t)getpid() ^ (uint64_t)(uintptr_t)t;
    }
    t->k0 = k[0];
    t->k1 = k[1];
    uv_mutex_init(&t->lock);
    return t;
}

void px_sources_free(px_sources *t)
{
    if (!t)
        return;
    for (size_t i = 0; i < t->n_buckets; i++) {
        entry *e = t->buckets[i];
        while (e) {
            entry *next = e->next;
            free(e);
            e = next;
        }
    }
    free(t->buckets);
    uv_mutex_destroy(&t->lock);
    free(t);
}

static uint64_t capacity(const px_source_limits *lim)
{
    return lim->rate ? (uint64_t)lim->rate * lim->period_ms : 0;
}

/* Brings e's bucket up to now_ms. */
static void refill(entry *e, const px_source_limits *lim, uint64_t now_ms)
{
    uint64_t cap = capacity(lim);
    uint64_t elapsed = now_ms > e->last_ms ? now_ms - e->last_ms : 0;
    if (elapsed > lim->period_ms)
        elapsed = lim->period_ms; /* a full period refills any bucket */
    e->last_ms = now_ms;
    e->credit += elapsed * lim->rate;
    if (e->credit > cap)
        e->credit = cap;
}

/* An entry that says nothing any more: no connection open, a full bucket. */
static bool idle(entry *e, const px_source_limits *lim, uint64_t now_ms)
{
    if (e->open)
        return false;
    refill(e, lim, now_ms);
    return e->credit >= capacity(lim);
}

static void sweep(px_sources *t, const px_source_limits *lim, uint64_t now_ms)
{
    for (size_t i = 0; i < t->n_buckets; i++) {
        for (entry **pp = &t->buckets[i]; *pp;) {
            entry *e = *pp;
            if (idle(e, lim, now_ms)) {
                *pp = e->next;
                free(e);
                t->n_entries--;
            } else {
                pp = &e->next;
            }
        }
    }
}

/* Doubles the buckets; on allocation failure the chains just grow longer. */
static void grow(px_sources *t)
{
    size_t n = t->n_buckets * 2;
    entry **b = calloc(n, sizeof *b);
    if (!b)
        return;
    for (size_t i = 0; i < t->n_buckets; i++) {
        entry *e = t->buckets[i];
        while (e) {
            entry *next = e->next;
            size_t j = bucket_of(t, &e->key, n);
            e->next = b[j];
            b[j] = e;
            e = next;
        }
    }
    free(t->buckets);
    t->buckets = b;
    t->n_buckets = n;
}

static entry *find(px_sources *t, const px_source_key *key, entry ***slot)
{
    entry **pp = &t->buckets[bucket_of(t, key, t->n_buckets)];
    for (; *pp; pp = &(*pp)->next) {
        if (!memcmp(&(*pp)->key, key, sizeof *key)) {
            if (slot)
                *slot = pp;
            return *pp;
        }
    }
    if (slot)
        *slot = pp;
    return NULL;
}

px_source_verdict px_sources_admit(px_sources *t, const px_source_key *key,
                                   const px_source_limits *lim, uint64_t now_ms)
{
    px_source_verdict v = PX_SOURCE_OK;

    uv_mutex_lock(&t->lock);
    entry *e = find(t, key, NULL);
    if (!e) {
        if (t->n_entries >= 2 * t->n_buckets) {
            sweep(t, lim, now_ms);
            if (t->n_entries >= t->n_buckets)
                grow(t);
        }
        e = calloc(1, sizeof *e);
        if (!e) {
            uv_mutex_unlock(&t->lock);
            return PX_SOURCE_NO_MEMORY;
        }
        e->key = *key;
        e->credit = capacity(lim);
        e->last_ms = now_ms;
        size_t i = bucket_of(t, key, t->n_buckets);
        e->next = t->buckets[i];
        t->buckets[i] = e;
        t->n_entries++;
    }
    refill(e, lim, now_ms);
    if (lim->max_connections && e->open >= lim->max_connections)
        v = PX_SOURCE_TOO_MANY;
    else if (lim->rate && e->credit < lim->period_ms)
        v = PX_SOURCE_TOO_FAST;
    if (v == PX_SOURCE_OK) {
        e->open++;
        if (lim->rate)
            e->credit -= lim->period_ms;
    }
    uv_mutex_unlock(&t->lock);
    return v;
}

void px_sources_release(px_sources *t, const px_source_key *key, const px_source_limits *lim,
                        uint64_t now_ms)
{
    entry **slot;

    uv_mutex_lock(&t->lock);
    entry *e = find(t, key, &slot);
    if (e && e->open)
        e->open--;
    if (e && idle(e, lim, now_ms)) {
        *slot = e->next;
        free(e);
        t->n_entries--;
    }
    uv_mutex_unlock(&t->lock);
}

size_t px_sources_size(px_sources *t)
{
    uv_mutex_lock(&t->lock);
    size_t n = t->n_entries;
    uv_mutex_unlock(&t->lock);
    return n;
}

/* ---- addresses ---------------------------------------------------------------------------- */

bool px_source_key_of(const struct sockaddr_storage *ss, unsigned ipv6_prefix, px_source_key *key)
{
    static const uint8_t v4_mapped[12] = {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0xff, 0xff};

    memset(key, 0, sizeof *key);
    if (ss->ss_family == AF_INET) {
        key->family = 4;
        memcpy(key->addr, &((const struct sockaddr_in *)ss)->sin_addr, 4);
        return true;
    }
    if (ss->ss_family != AF_INET6)
        return false;
    const uint8_t *a = ((const struct sockaddr_in6 *)ss)->sin6_addr.s6_addr;
    if (!memcmp(a, v4_mapped, sizeof v4_mapped)) {
        key->family = 4;
        memcpy(key->addr, a + 12, 4);
        return true;
    }
    key->family = 6;
    if (ipv6_prefix > 128)
        ipv6_prefix = 128;
    memcpy(key->addr, a, ipv6_prefix / 8);
    if (ipv6_prefix % 8)
        key->addr[ipv6_prefix / 8] = (uint8_t)(a[ipv6_prefix / 8] & (0xff00 >> (ipv6_prefix % 8)));
    return true;
}

void px_source_key_format(const px_source_key *key, unsigned ipv6_prefix, char *buf, size_t cap)
{
    char text[INET6_ADDRSTRLEN] = "?";

    if (key->family == 4) {
        inet_ntop(AF_INET, key->addr, text, sizeof text);
        snprintf(buf, cap, "%s", text);
    } else {
        inet_ntop(AF_INET6, key->addr, text, sizeof text);
        snprintf(buf, cap, "%s/%u", text, ipv6_prefix);
    }
}
