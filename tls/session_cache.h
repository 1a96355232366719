/*
 * session_cache.h — the server's bounded, thread-safe in-memory session store
 * (stateful resumption): TLS 1.2 session IDs (RFC 5246 §7.4.1.2) and, when tickets
 * are off, TLS 1.3 tickets that are only a key into this store (RFC 8446 §4.6.1).
 *
 * Owned by one server config and shared by every thread using it; one mutex guards
 * it. Entries are allocated on insertion and freed (wiped: they hold master secrets
 * and PSKs) on eviction, expiry or removal, so memory follows use up to the bound.
 * When full, the least recently used entry makes room.
 */
#ifndef MOAT_TLS_SESSION_CACHE_H
#define MOAT_TLS_SESSION_CACHE_H

#include "ticket.h"

#define TLS_SESSION_ID_MAX 32

typedef struct tls_session_cache tls_session_cache;

/* capacity >= 1. now: NULL for time(NULL). TLS_ERR_NO_MEMORY, TLS_ERR_INTERNAL. */
TLS_MUST_CHECK tls_error tls__session_cache_new(size_t capacity, tls_ticket_clock_fn now,
                                                tls_session_cache **out);
void tls__session_cache_free(tls_session_cache *cache); /* NULL is fine */
int64_t tls__session_cache_now(const tls_session_cache *cache);
/* Stores a copy of st under id (1..32 bytes; st->issued is set from the cache clock),
 * replacing an entry with the same id. TLS_ERR_NO_MEMORY, TLS_ERR_INTERNAL (bad id). */
TLS_MUST_CHECK tls_error tls__session_cache_put(tls_session_cache *cache, const uint8_t *id,
                                                size_t id_len, tls_ticket_state *st);
/* Copies the live entry for id into *st (TLS 1.2: a session ID may be reused until
 * it expires). False when absent or expired (an expired entry is dropped). */
bool tls__session_cache_get(tls_session_cache *cache, const uint8_t *id, size_t id_len,
                            tls_ticket_state *st);
/* Like get, and removes the entry: a TLS 1.3 stateful ticket is good once. */
bool tls__session_cache_take(tls_session_cache *cache, const uint8_t *id, size_t id_len,
                             tls_ticket_state *st);
size_t tls__session_cache_count(tls_session_cache *cache);

#endif
