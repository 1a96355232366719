/*
 * sources.h — per-source-address connection limits (limits.per_source in moat.yaml):
 * how many connections one client address may hold open, and how fast it may open
 * new ones.
 *
 * One table per server, shared by every worker thread under one mutex: an admitted
 * connection takes it twice (admit, release), a refused one once. A source is an IPv4
 * address, or an IPv6 address cut to a prefix (a host is usually given a whole /64, so
 * counting single addresses would let it through); IPv4-mapped IPv6 addresses count as
 * IPv4. The rate is a token bucket: a full bucket holds `rate` connections and refills
 * at `rate` per period, so a source may open `rate` at once, then `rate` per period.
 *
 * Memory: an entry exists while its source has connections open or its bucket is not
 * yet full again (it opened some within the last period), so the table holds at most
 * the open connections plus the sources admitted in the last period. Buckets are
 * chosen by SipHash under a random key, so no one can aim many sources at one chain.
 */
#ifndef MOAT_PROXY_SOURCES_H
#define MOAT_PROXY_SOURCES_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

typedef struct px_sources px_sources;

typedef enum {
    PX_SOURCE_OK,        /* admitted and counted: px_sources_release it when it closes */
    PX_SOURCE_TOO_MANY,  /* the source has max_connections open */
    PX_SOURCE_TOO_FAST,  /* the source's rate bucket is empty */
    PX_SOURCE_NO_MEMORY, /* no room to track the source: refused too */
} px_source_verdict;

typedef struct {
    unsigned max_connections; /* 0: no limit */
    uint32_t rate;            /* connections per period_ms; 0: no limit */
    uint64_t period_ms;
} px_source_limits;

/* A source: family (4 or 6) and the address bytes that count (zeroed past a prefix). */
typedef struct {
    uint8_t family;
    uint8_t addr[16];
} px_source_key;

/* NULL when out of memory. */
px_sources *px_sources_new(void);
void px_sources_free(px_sources *t);

/* The source of a peer address; ipv6_prefix 32..128 bits. False for anything that is not
 * IPv4 or IPv6 (such a peer is not limited). */
bool px_source_key_of(const struct sockaddr_storage *ss, unsigned ipv6_prefix, px_source_key *key);
/* "192.0.2.7" or "2001:db8:1:2::/64", for logs. */
void px_source_key_format(const px_source_key *key, unsigned ipv6_prefix, char *buf, size_t cap);

/* Admits one connection from key under lim at now_ms. */
px_source_verdict px_sources_admit(px_sources *t, const px_source_key *key,
                                   const px_source_limits *lim, uint64_t now_ms);
/* One admitted connection from key has closed. */
void px_sources_release(px_sources *t, const px_source_key *key, const px_source_limits *lim,
                        uint64_t now_ms);
/* Entries held (tests). */
size_t px_sources_size(px_sources *t);

#endif
