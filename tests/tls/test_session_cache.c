/*
 * test_session_cache.c — the server's bounded, thread-safe session store
 * (tls/session_cache.c): TLS 1.2 session IDs (RFC 5246 §7.4.1.2) and TLS 1.3 stateful
 * tickets (RFC 8446 §4.6.1), good once.
 *
 * The cache's clock is fake_clock, driven by the static fake_now; each test runs forked,
 * so the fake time (and the counting allocator, which is process-global) is per test.
 */
#include "tests/lib/unit.h"
#include "tls/internal.h"
#include "tls/session_cache.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <stddef.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

static int64_t fake_now = 1000000;

static int64_t fake_clock(void)
{
    return fake_now;
}

/* For the thread tests: a clock that takes a while, as on a loaded machine, so that a
 * thread inside the cache's critical section is likely to be overtaken by another one.
 * Without the lock the threads then meet inside the lists and the table. */
static int64_t slow_clock(void)
{
    usleep(20);
    return fake_now;
}

static tls_session_cache *cache_new(size_t capacity)
{
    tls_session_cache *c = NULL;
    ck_assert_int_eq(tls__session_cache_new(capacity, fake_clock, &c), TLS_OK);
    ck_assert_ptr_nonnull(c);
    ck_assert_uint_eq(tls__session_cache_count(c), 0);
    return c;
}

/* A 32-byte id whose bytes all depend on n (ids that differ in one byte would also do,
 * but these spread over the buckets like our random ids). */
static void make_id(uint8_t id[TLS_SESSION_ID_MAX], unsigned n)
{
    for (size_t i = 0; i < TLS_SESSION_ID_MAX; i++)
        id[i] = (uint8_t)(n * 31u + i * 7u + (n >> 8));
    id[0] = (uint8_t)n;
    id[1] = (uint8_t)(n >> 8);
}

/* A state whose every field is set from n, so states for different n differ everywhere. */
static tls_ticket_state make_state(unsigned n, uint32_t lifetime)
{
    tls_ticket_state st;
    memset(&st, 0, sizeof st);
    st.version = (n & 1) ? TLS_VERSION_1_2 : TLS_VERSION_1_3;
    st.suite = (n & 1) ? TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 : TLS_AES_128_GCM_SHA256;
    st.psk_len = (n & 1) ? 48 : 32;
    for (size_t i = 0; i < st.psk_len; i++)
        st.psk[i] = (uint8_t)(n + i * 13u + 1);
    st.ems = (n & 1) != 0;
    st.issued = -12345; /* overwritten by put */
    st.age_add = 0x9e3779b9u * (n + 1);
    st.lifetime = lifetime;
    st.max_early_data = (n & 1) ? 0 : 16384 + n;
    snprintf(st.sni, sizeof st.sni, "host%u.example.com", n);
    st.alpn[0] = 2;
    memcpy(st.alpn + 1, (n & 1) ? "h2" : "h3", 2);
    return st;
}

static void assert_same_state(const tls_ticket_state *got, const tls_ticket_state *want)
{
    ck_assert_uint_eq(got->version, want->version);
    ck_assert_uint_eq(got->suite, want->suite);
    ck_assert_uint_eq(got->psk_len, want->psk_len);
    ck_assert(!memcmp(got->psk, want->psk, want->psk_len));
    ck_assert_int_eq(got->ems, want->ems);
    ck_assert_int_eq(got->issued, want->issued);
    ck_assert_uint_eq(got->age_add, want->age_add);
    ck_assert_uint_eq(got->lifetime, want->lifetime);
    ck_assert_uint_eq(got->max_early_data, want->max_early_data);
    ck_assert_str_eq(got->sni, want->sni);
    ck_assert_uint_eq(got->alpn[0], want->alpn[0]);
    ck_assert(!memcmp(got->alpn, want->alpn, (size_t)want->alpn[0] + 1));
}

/* Puts make_state(n) under make_id(n) and returns what was stored (issued set). */
static tls_ticket_state put_n(tls_session_cache *c, unsigned n, uint32_t lifetime)
{
    uint8_t id[TLS_SESSION_ID_MAX];
    tls_ticket_state st = make_state(n, lifetime);
    make_id(id, n);
    ck_assert_int_eq(tls__session_cache_put(c, id, sizeof id, &st), TLS_OK);
    ck_assert_int_eq(st.issued, fake_now);
    return st;
}

static bool get_n(tls_session_cache *c, unsigned n)
{
    uint8_t id[TLS_SESSION_ID_MAX];
    tls_ticket_state st;
    make_id(id, n);
    bool found = tls__session_cache_get(c, id, sizeof id, &st);
    if (found) {
        tls_ticket_state want = make_state(n, st.lifetime);
        want.issued = st.issued;
        assert_same_state(&st, &want); /* never another id's state */
    }
    return found;
}

static bool take_n(tls_session_cache *c, unsigned n)
{
    uint8_t id[TLS_SESSION_ID_MAX];
    tls_ticket_state st;
    make_id(id, n);
    bool found = tls__session_cache_take(c, id, sizeof id, &st);
    if (found) {
        tls_ticket_state want = make_state(n, st.lifetime);
        want.issued = st.issued;
        assert_same_state(&st, &want);
    }
    return found;
}

/* ---- construction ------------------------------------------------------------------------ */

START_TEST(test_session_cache_new_bad_capacity)
{
    tls_session_cache *c = (tls_session_cache *)&c; /* must be reset to NULL */
    ck_assert_int_eq(tls__session_cache_new(0, fake_clock, &c), TLS_ERR_INTERNAL);
    ck_assert_ptr_null(c);
    c = (tls_session_cache *)&c;
    ck_assert_int_eq(tls__session_cache_new(SIZE_MAX, fake_clock, &c), TLS_ERR_INTERNAL);
    ck_assert_ptr_null(c);
    tls__session_cache_free(NULL);
}
END_TEST

START_TEST(test_session_cache_new_clock)
{
    tls_session_cache *c = cache_new(4);
    ck_assert_int_eq(tls__session_cache_now(c), fake_now);
    fake_now += 77;
    ck_assert_int_eq(tls__session_cache_now(c), fake_now);
    tls__session_cache_free(c);

    /* NULL: the wall clock. */
    ck_assert_int_eq(tls__session_cache_new(4, NULL, &c), TLS_OK);
    int64_t before = (int64_t)time(NULL), now = tls__session_cache_now(c);
    ck_assert_int_ge(now, before);
    ck_assert_int_le(now, (int64_t)time(NULL));
    tls__session_cache_free(c);
}
END_TEST

/* ---- put / get / take -------------------------------------------------------------------- */

START_TEST(test_session_cache_put_get_round_trip)
{
    tls_session_cache *c = cache_new(8);
    uint8_t id[TLS_SESSION_ID_MAX];
    tls_ticket_state st = make_state(2, 7200), got;
    make_id(id, 2);

    fake_now = 5000000;
    ck_assert_int_eq(tls__session_cache_put(c, id, sizeof id, &st), TLS_OK);
    ck_assert_int_eq(st.issued, 5000000); /* from the cache clock, written back */
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    fake_now += 100;
    memset(&got, 0xa5, sizeof got);
    ck_assert(tls__session_cache_get(c, id, sizeof id, &got));
    assert_same_state(&got, &st);
    ck_assert_int_eq(got.issued, 5000000); /* put time, not get time */

    /* The cache keeps a copy: changing the caller's state afterwards changes nothing. */
    st.psk[0] ^= 0xff;
    strcpy(st.sni, "evil.example");
    ck_assert(tls__session_cache_get(c, id, sizeof id, &got));
    ck_assert_uint_eq(got.psk[0], make_state(2, 7200).psk[0]);
    ck_assert_str_eq(got.sni, "host2.example.com");
    tls__session_cache_free(c);
}
END_TEST

/* Short ids are keys of their own: an id is matched on its length as well as its bytes. */
START_TEST(test_session_cache_put_get_short_ids)
{
    tls_session_cache *c = cache_new(8);
    static const uint8_t id[4] = {1, 2, 3, 4};
    tls_ticket_state a = make_state(1, 100), b = make_state(2, 100), got;

    ck_assert_int_eq(tls__session_cache_put(c, id, 1, &a), TLS_OK);
    ck_assert_int_eq(tls__session_cache_put(c, id, 3, &b), TLS_OK);
    ck_assert_uint_eq(tls__session_cache_count(c), 2);
    ck_assert(tls__session_cache_get(c, id, 1, &got));
    assert_same_state(&got, &a);
    ck_assert(tls__session_cache_get(c, id, 3, &got));
    assert_same_state(&got, &b);
    ck_assert(!tls__session_cache_get(c, id, 2, &got)); /* a prefix of one, of the other */
    ck_assert(!tls__session_cache_get(c, id, 4, &got));
    static const uint8_t other[3] = {1, 2, 9}; /* same length, last byte differs */
    ck_assert(!tls__session_cache_get(c, other, 3, &got));
    ck_assert_uint_eq(tls__session_cache_count(c), 2); /* misses remove nothing */
    tls__session_cache_free(c);

    /* Prefixes of a stored id, over enough ids that some share its bucket, still miss. */
    c = cache_new(1);
    for (unsigned x = 0; x < 256; x++) {
        const uint8_t id3[3] = {(uint8_t)x, (uint8_t)(x ^ 0x5a), 7};
        ck_assert_int_eq(tls__session_cache_put(c, id3, 3, &a), TLS_OK);
        ck_assert(!tls__session_cache_get(c, id3, 1, &got));
        ck_assert(!tls__session_cache_get(c, id3, 2, &got));
        ck_assert(tls__session_cache_get(c, id3, 3, &got));
    }
    tls__session_cache_free(c);
}
END_TEST

START_TEST(test_session_cache_get_keeps_entry)
{
    tls_session_cache *c = cache_new(8);
    put_n(c, 3, 100);
    put_n(c, 4, 100);
    for (int i = 0; i < 5; i++)
        ck_assert(get_n(c, 3));
    ck_assert_uint_eq(tls__session_cache_count(c), 2);
    ck_assert(get_n(c, 4));
    tls__session_cache_free(c);
}
END_TEST

START_TEST(test_session_cache_take_removes)
{
    tls_session_cache *c = cache_new(8);
    uint8_t id[TLS_SESSION_ID_MAX];
    tls_ticket_state st, want3 = put_n(c, 3, 100);
    put_n(c, 4, 100);
    make_id(id, 3);

    ck_assert(tls__session_cache_take(c, id, sizeof id, &st));
    assert_same_state(&st, &want3);
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    ck_assert(!tls__session_cache_take(c, id, sizeof id, &st)); /* good once */
    ck_assert(!tls__session_cache_get(c, id, sizeof id, &st));
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    ck_assert(get_n(c, 4)); /* the neighbour is untouched */
    ck_assert(take_n(c, 4));
    ck_assert(!take_n(c, 4));
    ck_assert_uint_eq(tls__session_cache_count(c), 0);
    /* Taking from an empty cache is a miss, and a taken id can be stored again. */
    ck_assert(!take_n(c, 4));
    put_n(c, 3, 100);
    ck_assert(take_n(c, 3));
    tls__session_cache_free(c);
}
END_TEST

/* Ids of 0 and 33 bytes are our bug at put, and a peer's garbage at get and take. */
START_TEST(test_session_cache_bad_id_len)
{
    tls_session_cache *c = cache_new(8);
    uint8_t id[TLS_SESSION_ID_MAX + 1];
    tls_ticket_state st = make_state(5, 100);
    memset(id, 0x5a, sizeof id);

    ck_assert_int_eq(tls__session_cache_put(c, id, 0, &st), TLS_ERR_INTERNAL);
    ck_assert_int_eq(tls__session_cache_put(c, id, TLS_SESSION_ID_MAX + 1, &st), TLS_ERR_INTERNAL);
    ck_assert_uint_eq(tls__session_cache_count(c), 0);
    ck_assert(!tls__session_cache_get(c, id, 0, &st));
    ck_assert(!tls__session_cache_get(c, id, TLS_SESSION_ID_MAX + 1, &st));

    /* With the 32-byte prefix stored, a 33-byte lookup still misses (it must not be
     * cut to 32), and so does the empty id. */
    st = make_state(5, 100);
    ck_assert_int_eq(tls__session_cache_put(c, id, TLS_SESSION_ID_MAX, &st), TLS_OK);
    ck_assert(!tls__session_cache_get(c, id, TLS_SESSION_ID_MAX + 1, &st));
    ck_assert(!tls__session_cache_take(c, id, TLS_SESSION_ID_MAX + 1, &st));
    ck_assert(!tls__session_cache_get(c, id, 0, &st));
    ck_assert(!tls__session_cache_take(c, id, 0, &st));
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    ck_assert(tls__session_cache_get(c, id, TLS_SESSION_ID_MAX, &st));
    tls__session_cache_free(c);
}
END_TEST

START_TEST(test_session_cache_put_same_id_replaces)
{
    tls_session_cache *c = cache_new(8);
    uint8_t id[TLS_SESSION_ID_MAX];
    tls_ticket_state a = make_state(6, 100), b = make_state(7, 300), got;
    make_id(id, 6);

    ck_assert_int_eq(tls__session_cache_put(c, id, sizeof id, &a), TLS_OK);
    fake_now += 50;
    ck_assert_int_eq(tls__session_cache_put(c, id, sizeof id, &b), TLS_OK);
    ck_assert_int_eq(b.issued, fake_now);
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    ck_assert(tls__session_cache_get(c, id, sizeof id, &got));
    assert_same_state(&got, &b);
    /* The replacement's lifetime and issued time count, not the old one's. */
    fake_now += 299;
    ck_assert(tls__session_cache_get(c, id, sizeof id, &got));
    ck_assert(tls__session_cache_take(c, id, sizeof id, &got));
    ck_assert(!tls__session_cache_take(c, id, sizeof id, &got)); /* no older copy behind */
    ck_assert_uint_eq(tls__session_cache_count(c), 0);
    tls__session_cache_free(c);
}
END_TEST

/* ---- the bound: least recently used goes first ------------------------------------------- */

START_TEST(test_session_cache_evicts_oldest)
{
    tls_session_cache *c = cache_new(3);
    put_n(c, 1, 100);
    put_n(c, 2, 100);
    put_n(c, 3, 100);
    ck_assert_uint_eq(tls__session_cache_count(c), 3);
    put_n(c, 4, 100);
    ck_assert_uint_eq(tls__session_cache_count(c), 3);
    ck_assert(!get_n(c, 1));
    ck_assert(get_n(c, 2));
    ck_assert(get_n(c, 3));
    ck_assert(get_n(c, 4));
    tls__session_cache_free(c);
}
END_TEST

/* A get makes an entry the most recently used: the one never read since goes instead
 * (insertion order would evict 1 here). */
START_TEST(test_session_cache_get_refreshes_recency)
{
    tls_session_cache *c = cache_new(3);
    put_n(c, 1, 100);
    put_n(c, 2, 100);
    put_n(c, 3, 100);
    ck_assert(get_n(c, 1)); /* order, oldest first: 2 3 1 */
    put_n(c, 4, 100);       /* evicts 2: 3 1 4 */
    ck_assert_uint_eq(tls__session_cache_count(c), 3);
    ck_assert(!get_n(c, 2));
    ck_assert(get_n(c, 3)); /* 1 4 3 */
    ck_assert(get_n(c, 1)); /* 4 3 1 */
    put_n(c, 5, 100);       /* evicts 4: 3 1 5 */
    ck_assert(!get_n(c, 4));
    ck_assert(get_n(c, 3));
    ck_assert(get_n(c, 1));
    ck_assert(get_n(c, 5));
    ck_assert_uint_eq(tls__session_cache_count(c), 3);
    tls__session_cache_free(c);
}
END_TEST

/* Replacing an entry makes it the newest too. */
START_TEST(test_session_cache_put_refreshes_recency)
{
    tls_session_cache *c = cache_new(3);
    put_n(c, 1, 100);
    put_n(c, 2, 100);
    put_n(c, 3, 100);
    put_n(c, 1, 100); /* 2 3 1 */
    ck_assert_uint_eq(tls__session_cache_count(c), 3);
    put_n(c, 4, 100); /* evicts 2 */
    ck_assert(!get_n(c, 2));
    ck_assert(get_n(c, 1));
    ck_assert(get_n(c, 3));
    ck_assert(get_n(c, 4));
    tls__session_cache_free(c);
}
END_TEST

/* A take frees a place: the next put evicts nothing. */
START_TEST(test_session_cache_take_frees_room)
{
    tls_session_cache *c = cache_new(3);
    put_n(c, 1, 100);
    put_n(c, 2, 100);
    put_n(c, 3, 100);
    ck_assert(take_n(c, 2)); /* from the middle of the recency list */
    put_n(c, 4, 100);
    ck_assert_uint_eq(tls__session_cache_count(c), 3);
    ck_assert(get_n(c, 1));
    ck_assert(get_n(c, 3));
    ck_assert(get_n(c, 4));
    put_n(c, 5, 100); /* now full again: 1 was refreshed first, so 1 goes */
    ck_assert(!get_n(c, 1));
    ck_assert(take_n(c, 5)); /* the newest end */
    ck_assert(take_n(c, 3)); /* the oldest end */
    ck_assert(take_n(c, 4)); /* the last one */
    ck_assert_uint_eq(tls__session_cache_count(c), 0);
    put_n(c, 6, 100); /* the lists are usable after emptying */
    put_n(c, 7, 100);
    ck_assert(get_n(c, 6));
    ck_assert(get_n(c, 7));
    tls__session_cache_free(c);
}
END_TEST

/* Many more ids than places, in a table with few buckets: chains form, evictions and
 * removals come from their middles, and exactly the newest `capacity` ids remain. */
START_TEST(test_session_cache_evicts_many)
{
    enum { CAP = 8, N = 200 };
    tls_session_cache *c = cache_new(CAP);
    for (unsigned n = 0; n < N; n++) {
        put_n(c, n, 1000);
        ck_assert_uint_eq(tls__session_cache_count(c), n + 1 < CAP ? n + 1 : CAP);
    }
    for (unsigned n = 0; n < N; n++)
        ck_assert_int_eq(get_n(c, n), n >= N - CAP);
    tls__session_cache_free(c);

    /* Capacity larger than the bucket count's floor: all stay, every other one taken. */
    c = cache_new(100);
    for (unsigned n = 0; n < 100; n++)
        put_n(c, n, 1000);
    for (unsigned n = 0; n < 100; n += 2)
        ck_assert(take_n(c, n));
    ck_assert_uint_eq(tls__session_cache_count(c), 50);
    for (unsigned n = 0; n < 100; n++)
        ck_assert_int_eq(get_n(c, n), n % 2 == 1);
    tls__session_cache_free(c);
}
END_TEST

START_TEST(test_session_cache_capacity_one)
{
    tls_session_cache *c = cache_new(1);
    put_n(c, 1, 100);
    ck_assert(get_n(c, 1));
    put_n(c, 2, 100);
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    ck_assert(!get_n(c, 1));
    ck_assert(get_n(c, 2));
    put_n(c, 2, 100); /* replacing the only entry evicts nothing else */
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    ck_assert(get_n(c, 2));
    ck_assert(take_n(c, 2));
    ck_assert_uint_eq(tls__session_cache_count(c), 0);
    ck_assert(!get_n(c, 2));
    put_n(c, 3, 100);
    put_n(c, 4, 100);
    ck_assert(!take_n(c, 3));
    ck_assert(take_n(c, 4));
    ck_assert_uint_eq(tls__session_cache_count(c), 0);
    tls__session_cache_free(c);
}
END_TEST

/* ---- expiry ------------------------------------------------------------------------------ */

/* Lifetime 10: live at age 9, gone at age 10 (RFC 8446 §4.6.1: not used beyond its
 * lifetime). */
START_TEST(test_session_cache_expiry_boundary)
{
    tls_session_cache *c = cache_new(8);
    put_n(c, 1, 10);
    put_n(c, 2, 10);
    fake_now += 9;
    ck_assert(get_n(c, 1));
    ck_assert(take_n(c, 2));
    put_n(c, 2, 10); /* issued 9 later than 1 */
    fake_now += 1;
    ck_assert(!get_n(c, 1));
    ck_assert(get_n(c, 2));
    fake_now += 8;
    ck_assert(get_n(c, 2)); /* age 9 */
    fake_now += 1;
    ck_assert(!take_n(c, 2)); /* age 10 */
    ck_assert_uint_eq(tls__session_cache_count(c), 0);
    tls__session_cache_free(c);
}
END_TEST

/* An expired entry found by a lookup is dropped, by get as by take; live ones stay. */
START_TEST(test_session_cache_expired_dropped)
{
    tls_session_cache *c = cache_new(8);
    put_n(c, 1, 10);
    put_n(c, 2, 10);
    put_n(c, 3, 1000);
    ck_assert_uint_eq(tls__session_cache_count(c), 3);
    fake_now += 10;
    ck_assert(!get_n(c, 1));
    ck_assert_uint_eq(tls__session_cache_count(c), 2);
    ck_assert(!take_n(c, 2));
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    /* Dropped for good: going back in time does not bring them back. */
    fake_now -= 10;
    ck_assert(!get_n(c, 1));
    ck_assert(!get_n(c, 2));
    ck_assert(get_n(c, 3));
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    tls__session_cache_free(c);
}
END_TEST

/* A clock that went backwards gives a negative age: not a live entry, but kept (a
 * clock step back must not throw every session away); take still removes. */
START_TEST(test_session_cache_clock_backwards)
{
    tls_session_cache *c = cache_new(8);
    put_n(c, 1, 1000);
    put_n(c, 2, 1000);
    fake_now -= 1;
    ck_assert(!get_n(c, 1));
    ck_assert(!take_n(c, 2));
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    fake_now += 1;
    ck_assert(get_n(c, 1));
    put_n(c, 3, 1000);
    fake_now -= 1000000;
    ck_assert(!get_n(c, 3));
    tls__session_cache_free(c);
}
END_TEST

/* Lifetime 0 (RFC 8446 §4.6.1: "should not be cached"): never found, even at age 0. */
START_TEST(test_session_cache_lifetime_zero)
{
    tls_session_cache *c = cache_new(8);
    put_n(c, 1, 0);
    ck_assert(!get_n(c, 1));
    ck_assert_uint_eq(tls__session_cache_count(c), 0);
    put_n(c, 2, UINT32_MAX); /* the longest lifetime does not overflow the age check, */
    fake_now += TLS_SESSION_MAX_AGE_S - 1;
    ck_assert(get_n(c, 2));
    fake_now += 1; /* and a session never outlives seven days (RFC 8446 §4.6.1) */
    ck_assert(!get_n(c, 2));
    tls__session_cache_free(c);
}
END_TEST

/* ---- memory: bounded, released, wiped ---------------------------------------------------- */

/* The counting allocator also looks into every block freed for a PSK byte pattern that
 * only the stored states carry: finding it means a secret went back to the heap. */
static size_t live_bytes, live_blocks, secret_blocks_freed;
static bool fail_allocs;

static const uint8_t SECRET[16] = {0xde, 0xad, 0xbe, 0xef, 0x5e, 0xc2, 0xe7, 0x01,
                                   0x13, 0x37, 0xc0, 0xde, 0xfa, 0xce, 0xb0, 0x0c};

static void *count_alloc(void *arg, size_t size)
{
    (void)arg;
    if (fail_allocs)
        return NULL;
    live_bytes += size;
    live_blocks++;
    return malloc(size ? size : 1);
}

static void count_free(void *arg, void *p, size_t size)
{
    (void)arg;
    if (!p)
        return;
    for (size_t i = 0; i + sizeof SECRET <= size; i++)
        if (!memcmp((const uint8_t *)p + i, SECRET, sizeof SECRET)) {
            secret_blocks_freed++;
            break;
        }
    live_bytes -= size;
    live_blocks--;
    free(p);
}

static const tls_allocator counting = {count_alloc, count_free, NULL};

static tls_ticket_state secret_state(unsigned n, uint32_t lifetime)
{
    tls_ticket_state st = make_state(n, lifetime);
    memcpy(st.psk + 8, SECRET, sizeof SECRET);
    return st;
}

static void put_secret(tls_session_cache *c, unsigned n, uint32_t lifetime)
{
    uint8_t id[TLS_SESSION_ID_MAX];
    tls_ticket_state st = secret_state(n, lifetime);
    make_id(id, n);
    ck_assert_int_eq(tls__session_cache_put(c, id, sizeof id, &st), TLS_OK);
}

/* Takes id n without comparing the state (the secret states differ from make_state). */
static bool take_raw(tls_session_cache *c, unsigned n)
{
    uint8_t id[TLS_SESSION_ID_MAX];
    tls_ticket_state st;
    make_id(id, n);
    bool found = tls__session_cache_take(c, id, sizeof id, &st);
    tls__wipe(&st, sizeof st); /* a stack copy, but keep the rule */
    return found;
}

static bool get_raw(tls_session_cache *c, unsigned n)
{
    uint8_t id[TLS_SESSION_ID_MAX];
    tls_ticket_state st;
    make_id(id, n);
    bool found = tls__session_cache_get(c, id, sizeof id, &st);
    tls__wipe(&st, sizeof st);
    return found;
}

/* Entries cost memory only while they live, and everything goes with the cache. */
START_TEST(test_session_cache_free_with_entries)
{
    tls_set_allocator(&counting);
    tls_session_cache *c = cache_new(16);
    size_t empty = live_bytes, empty_blocks = live_blocks;
    ck_assert_uint_gt(empty, 0);
    for (unsigned n = 0; n < 10; n++)
        put_secret(c, n, 100);
    ck_assert_uint_eq(live_blocks, empty_blocks + 10);
    size_t per_entry = (live_bytes - empty) / 10;
    /* Entries are cut to the client chain they hold (none here). */
    ck_assert_uint_ge(per_entry, offsetof(tls_ticket_state, client_chain));
    ck_assert_uint_lt(per_entry, sizeof(tls_ticket_state));
    ck_assert(take_raw(c, 0));
    ck_assert(take_raw(c, 1));
    ck_assert_uint_eq(live_bytes, empty + 8 * per_entry);
    tls__session_cache_free(c);
    ck_assert_uint_eq(live_bytes, 0);
    ck_assert_uint_eq(live_blocks, 0);
    tls_set_allocator(NULL);
}
END_TEST

/* Memory follows use up to the bound, never past it. */
START_TEST(test_session_cache_memory_bounded)
{
    tls_set_allocator(&counting);
    tls_session_cache *c = cache_new(4);
    size_t empty = live_bytes;
    for (unsigned n = 0; n < 4; n++)
        put_secret(c, n, 100);
    size_t full = live_bytes;
    ck_assert_uint_gt(full, empty);
    for (unsigned n = 4; n < 1000; n++)
        put_secret(c, n, 100);
    ck_assert_uint_eq(live_bytes, full);
    tls__session_cache_free(c);
    ck_assert_uint_eq(live_bytes, 0);
    tls_set_allocator(NULL);
}
END_TEST

/* Every way an entry leaves — take, replace, evict, expire, the cache's free — wipes
 * its secrets before the memory goes back. */
START_TEST(test_session_cache_wipes_entries)
{
    tls_set_allocator(&counting);
    tls_session_cache *c = cache_new(2);
    put_secret(c, 1, 10);
    ck_assert(take_raw(c, 1));
    ck_assert_uint_eq(tls__session_cache_count(c), 0);
    put_secret(c, 2, 10);
    put_secret(c, 2, 10); /* replace */
    put_secret(c, 3, 10);
    put_secret(c, 4, 10); /* evicts 2 */
    ck_assert_uint_eq(tls__session_cache_count(c), 2);
    fake_now += 10;
    ck_assert(!get_raw(c, 3)); /* expired: dropped */
    ck_assert_uint_eq(tls__session_cache_count(c), 1);
    fake_now -= 10;
    put_secret(c, 5, 10);
    tls__session_cache_free(c); /* 4 and 5 still in it */
    ck_assert_uint_eq(live_blocks, 0);
    ck_assert_uint_eq(secret_blocks_freed, 0);
    tls_set_allocator(NULL);
}
END_TEST

/* The checker itself: a block freed with the pattern in it is seen. */
START_TEST(test_session_cache_wipe_checker_sees_secrets)
{
    tls_set_allocator(&counting);
    tls_ticket_state *st = tls__calloc(sizeof *st);
    ck_assert_ptr_nonnull(st);
    *st = secret_state(1, 10);
    tls__free(st, sizeof *st);
    ck_assert_uint_eq(secret_blocks_freed, 1);
    tls_set_allocator(NULL);
}
END_TEST

/* Out of memory: put says so and the cache is as it was (the old entry under the same
 * id is still there; nothing was evicted to make room). */
START_TEST(test_session_cache_put_no_memory)
{
    tls_set_allocator(&counting);
    tls_session_cache *c = cache_new(2);
    put_n(c, 1, 100);
    put_n(c, 2, 100);
    uint8_t id[TLS_SESSION_ID_MAX];
    tls_ticket_state st = make_state(3, 100);
    make_id(id, 1);
    fail_allocs = true;
    ck_assert_int_eq(tls__session_cache_put(c, id, sizeof id, &st), TLS_ERR_NO_MEMORY);
    make_id(id, 3);
    ck_assert_int_eq(tls__session_cache_put(c, id, sizeof id, &st), TLS_ERR_NO_MEMORY);
    fail_allocs = false;
    ck_assert_uint_eq(tls__session_cache_count(c), 2);
    ck_assert(get_n(c, 1)); /* still make_state(1), not 3 */
    ck_assert(get_n(c, 2));
    ck_assert(!get_n(c, 3));
    tls__session_cache_free(c);

    fail_allocs = true;
    c = (tls_session_cache *)&c;
    ck_assert_int_eq(tls__session_cache_new(4, fake_clock, &c), TLS_ERR_NO_MEMORY);
    ck_assert_ptr_null(c);
    fail_allocs = false;
    ck_assert_uint_eq(live_bytes, 0);
    tls_set_allocator(NULL);
}
END_TEST

/* ---- threads ----------------------------------------------------------------------------- */

enum { MIX_THREADS = 4, MIX_OPS = 2000, MIX_IDS = 100, MIX_CAP = 64 };

static tls_session_cache *mix_cache;
static atomic_uint mix_hits;
static pthread_barrier_t mix_start;

/* Overlapping ids (every thread uses all MIX_IDS, more than the capacity), so puts
 * replace and evict what other threads are reading and taking. get_n/take_n check that
 * a hit returns exactly that id's state. */
static void *mix(void *arg)
{
    unsigned seed = (unsigned)(uintptr_t)arg * 2654435761u + 1;
    unsigned hits = 0;
    pthread_barrier_wait(&mix_start); /* all at once, not one after another */
    for (unsigned i = 0; i < MIX_OPS; i++) {
        seed = seed * 1103515245u + 12345u;
        unsigned n = (seed >> 8) % MIX_IDS;
        switch ((seed >> 20) % 3) {
        case 0:
            put_n(mix_cache, n, 1000);
            break;
        case 1:
            hits += get_n(mix_cache, n);
            break;
        default:
            hits += take_n(mix_cache, n);
            break;
        }
    }
    atomic_fetch_add(&mix_hits, hits);
    return NULL;
}

START_TEST(test_session_cache_threads_mixed)
{
    pthread_t th[MIX_THREADS];
    ck_assert_int_eq(tls__session_cache_new(MIX_CAP, slow_clock, &mix_cache), TLS_OK);
    ck_assert_int_eq(pthread_barrier_init(&mix_start, NULL, MIX_THREADS), 0);
    for (uintptr_t i = 0; i < MIX_THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, mix, (void *)i), 0);
    for (size_t i = 0; i < MIX_THREADS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    pthread_barrier_destroy(&mix_start);

    size_t n = tls__session_cache_count(mix_cache);
    ck_assert_uint_le(n, MIX_CAP);
    ck_assert_uint_gt(atomic_load(&mix_hits), 0); /* the threads did meet */
    /* The count agrees with what the table holds, and the lists still work. */
    size_t found = 0;
    for (unsigned id = 0; id < MIX_IDS; id++)
        found += get_n(mix_cache, id);
    ck_assert_uint_eq(found, n);
    for (unsigned id = 0; id < MIX_IDS; id++)
        take_n(mix_cache, id);
    ck_assert_uint_eq(tls__session_cache_count(mix_cache), 0);
    for (unsigned id = 0; id < MIX_CAP + 5; id++)
        put_n(mix_cache, id, 1000);
    ck_assert_uint_eq(tls__session_cache_count(mix_cache), MIX_CAP);
    tls__session_cache_free(mix_cache);
}
END_TEST

enum { RACE_THREADS = 8, RACE_ROUNDS = 200 };

static tls_session_cache *race_cache;
static pthread_barrier_t race_start, race_end;
static atomic_uint race_wins[RACE_ROUNDS];

/* Every round, all threads take the round's id at once: a stateful ticket is good once
 * (RFC 8446 §8.1), so exactly one of them may have it. */
static void *race(void *arg)
{
    (void)arg;
    for (unsigned r = 0; r < RACE_ROUNDS; r++) {
        pthread_barrier_wait(&race_start);
        if (take_n(race_cache, r))
            atomic_fetch_add(&race_wins[r], 1);
        pthread_barrier_wait(&race_end);
    }
    return NULL;
}

START_TEST(test_session_cache_threads_take_once)
{
    pthread_t th[RACE_THREADS];
    ck_assert_int_eq(tls__session_cache_new(RACE_ROUNDS, slow_clock, &race_cache), TLS_OK);
    for (unsigned r = 0; r < RACE_ROUNDS; r++)
        put_n(race_cache, r, 1000);
    ck_assert_int_eq(pthread_barrier_init(&race_start, NULL, RACE_THREADS), 0);
    ck_assert_int_eq(pthread_barrier_init(&race_end, NULL, RACE_THREADS), 0);
    for (uintptr_t i = 0; i < RACE_THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, race, (void *)i), 0);
    for (size_t i = 0; i < RACE_THREADS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (unsigned r = 0; r < RACE_ROUNDS; r++)
        ck_assert_msg(atomic_load(&race_wins[r]) == 1, "round %u: %u takes won", r,
                      atomic_load(&race_wins[r]));
    ck_assert_uint_eq(tls__session_cache_count(race_cache), 0);
    pthread_barrier_destroy(&race_start);
    pthread_barrier_destroy(&race_end);
    tls__session_cache_free(race_cache);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("session_cache");
    TCase *tc;

#define ADD(test) tcase_add_test(tc, test)
    tc = tcase_create("store");
    ADD(test_session_cache_new_bad_capacity);
    ADD(test_session_cache_new_clock);
    ADD(test_session_cache_put_get_round_trip);
    ADD(test_session_cache_put_get_short_ids);
    ADD(test_session_cache_get_keeps_entry);
    ADD(test_session_cache_take_removes);
    ADD(test_session_cache_bad_id_len);
    ADD(test_session_cache_put_same_id_replaces);
    suite_add_tcase(s, tc);

    tc = tcase_create("bound");
    ADD(test_session_cache_evicts_oldest);
    ADD(test_session_cache_get_refreshes_recency);
    ADD(test_session_cache_put_refreshes_recency);
    ADD(test_session_cache_take_frees_room);
    ADD(test_session_cache_evicts_many);
    ADD(test_session_cache_capacity_one);
    suite_add_tcase(s, tc);

    tc = tcase_create("expiry");
    ADD(test_session_cache_expiry_boundary);
    ADD(test_session_cache_expired_dropped);
    ADD(test_session_cache_clock_backwards);
    ADD(test_session_cache_lifetime_zero);
    suite_add_tcase(s, tc);

    tc = tcase_create("memory");
    ADD(test_session_cache_free_with_entries);
    ADD(test_session_cache_memory_bounded);
    ADD(test_session_cache_wipes_entries);
    ADD(test_session_cache_wipe_checker_sees_secrets);
    ADD(test_session_cache_put_no_memory);
    suite_add_tcase(s, tc);

    tc = tcase_create("threads");
    tcase_set_timeout(tc, 60);
    ADD(test_session_cache_threads_mixed);
    ADD(test_session_cache_threads_take_once);
    suite_add_tcase(s, tc);
#undef ADD
    return s;
}

TEST_MAIN(make_suite)
