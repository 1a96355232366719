/*
 * session_cache.c — see session_cache.h.
 *
 * A chained hash table over the ids with a doubly linked recency list through the
 * same entries. Ids are our own random values (we pick every id we store), so a
 * simple hash spreads them; lookups with client-chosen ids only read.
 *
 * An entry is allocated to fit: the state's client_chain (its last member, up to 8 KiB
 * for mTLS sessions) is cut to the bytes in use, so sessions without a client
 * certificate cost what they did before. State copies in and out go through
 * state_size(), never a struct assignment.
 */
#include <pthread.h>
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "session_cache.h"

typedef struct entry {
    struct entry *next_in_bucket;
    struct entry *newer, *older; /* recency list */
    uint8_t id[TLS_SESSION_ID_MAX];
    size_t id_len;
    size_t size;         /* bytes allocated for this entry */
    tls_ticket_state st; /* last: only state_size(&st) bytes of it exist */
} entry;

/* Bytes of a state up to the end of its client chain in use. */
static size_t state_size(const tls_ticket_state *st)
{
    return offsetof(tls_ticket_state, client_chain) + st->client_chain_len;
}

struct tls_session_cache {
    pthread_mutex_t lock;
    tls_ticket_clock_fn now;
    size_t capacity, count, n_buckets;
    entry **buckets;
    entry *newest, *oldest;
};

static int64_t wall_clock(void)
{
    return (int64_t)time(NULL);
}

tls_error tls__session_cache_new(size_t capacity, tls_ticket_clock_fn now, tls_session_cache **out)
{
    tls_session_cache *c;
    *out = NULL;
    ENSURE(capacity >= 1 && capacity <= (SIZE_MAX / sizeof(entry *)) / 2, TLS_ERR_INTERNAL);
    c = tls__calloc(sizeof *c);
    ENSURE(c, TLS_ERR_NO_MEMORY);
    c->capacity = capacity;
    c->n_buckets = capacity < 16 ? 16 : capacity;
    c->buckets = tls__calloc(c->n_buckets * sizeof *c->buckets);
    c->now = now ? now : wall_clock;
    if (!c->buckets || pthread_mutex_init(&c->lock, NULL) != 0) {
        tls_error err = c->buckets ? TLS_ERR_INTERNAL : TLS_ERR_NO_MEMORY;
        tls__free(c->buckets, c->n_buckets * sizeof *c->buckets);
        tls__free(c, sizeof *c);
        return err;
    }
    *out = c;
    return TLS_OK;
}

static size_t bucket_of(const tls_session_cache *c, const uint8_t *id, size_t len)
{
    uint64_t h = 1469598103934665603ull; /* FNV-1a */
    for (size_t i = 0; i < len; i++)
        h = (h ^ id[i]) * 1099511628211ull;
    return (size_t)(h % c->n_buckets);
}

static void unlink_recency(tls_session_cache *c, entry *e)
{
    if (e->newer)
        e->newer->older = e->older;
    else
        c->newest = e->older;
    if (e->older)
        e->older->newer = e->newer;
    else
        c->oldest = e->newer;
    e->newer = e->older = NULL;
}

static void push_newest(tls_session_cache *c, entry *e)
{
    e->older = c->newest;
    e->newer = NULL;
    if (c->newest)
        c->newest->newer = e;
    c->newest = e;
    if (!c->oldest)
        c->oldest = e;
}

/* The slot pointing at the entry for id, or at the bucket's terminating NULL. */
static entry **find_slot(tls_session_cache *c, const uint8_t *id, size_t len)
{
    entry **slot = &c->buckets[bucket_of(c, id, len)];
    while (*slot && ((*slot)->id_len != len || memcmp((*slot)->id, id, len) != 0))
        slot = &(*slot)->next_in_bucket;
    return slot;
}

static void remove_at(tls_session_cache *c, entry **slot)
{
    entry *e = *slot;
    *slot = e->next_in_bucket;
    unlink_recency(c, e);
    c->count--;
    size_t size = e->size;
    tls__wipe(e, size);
    tls__free(e, size);
}

void tls__session_cache_free(tls_session_cache *c)
{
    if (!c)
        return;
    while (c->oldest)
        remove_at(c, find_slot(c, c->oldest->id, c->oldest->id_len));
    tls__free(c->buckets, c->n_buckets * sizeof *c->buckets);
    pthread_mutex_destroy(&c->lock);
    tls__free(c, sizeof *c);
}

int64_t tls__session_cache_now(const tls_session_cache *c)
{
    return c->now();
}

tls_error tls__session_cache_put(tls_session_cache *c, const uint8_t *id, size_t id_len,
                                 tls_ticket_state *st)
{
    ENSURE(id_len >= 1 && id_len <= TLS_SESSION_ID_MAX, TLS_ERR_INTERNAL);
    ENSURE(st->client_chain_len <= sizeof st->client_chain, TLS_ERR_INTERNAL);
    size_t size = offsetof(entry, st) + state_size(st);
    entry *e = tls__calloc(size);
    ENSURE(e, TLS_ERR_NO_MEMORY);
    e->size = size;
    memcpy(e->id, id, id_len);
    e->id_len = id_len;
    pthread_mutex_lock(&c->lock);
    st->issued = c->now();
    if (!st->origin)
        st->origin = st->issued;
    memcpy(&e->st, st, state_size(st));
    entry **slot = find_slot(c, id, id_len);
    if (*slot)
        remove_at(c, slot);
    else if (c->count == c->capacity)
        remove_at(c, find_slot(c, c->oldest->id, c->oldest->id_len));
    slot = find_slot(c, id, id_len);
    *slot = e;
    push_newest(c, e);
    c->count++;
    pthread_mutex_unlock(&c->lock);
    return TLS_OK;
}

static bool lookup(tls_session_cache *c, const uint8_t *id, size_t id_len, tls_ticket_state *st,
                   bool take)
{
    bool found = false;
    memset(st, 0, sizeof *st);
    if (id_len < 1 || id_len > TLS_SESSION_ID_MAX)
        return false;
    pthread_mutex_lock(&c->lock);
    entry **slot = find_slot(c, id, id_len);
    if (*slot) {
        entry *e = *slot;
        int64_t age = c->now() - e->st.issued;
        if (tls__ticket_state_live(&e->st, c->now())) {
            memcpy(st, &e->st, state_size(&e->st));
            found = true;
            if (!take) {
                unlink_recency(c, e);
                push_newest(c, e);
            }
        }
        /* An entry from the future (the clock stepped back) is missed, not dropped. */
        if (take || (!found && age >= 0))
            remove_at(c, slot);
    }
    pthread_mutex_unlock(&c->lock);
    return found;
}

bool tls__session_cache_get(tls_session_cache *c, const uint8_t *id, size_t id_len,
                            tls_ticket_state *st)
{
    return lookup(c, id, id_len, st, false);
}

bool tls__session_cache_take(tls_session_cache *c, const uint8_t *id, size_t id_len,
                             tls_ticket_state *st)
{
    return lookup(c, id, id_len, st, true);
}

size_t tls__session_cache_count(tls_session_cache *c)
{
    pthread_mutex_lock(&c->lock);
    size_t n = c->count;
    pthread_mutex_unlock(&c->lock);
    return n;
}
