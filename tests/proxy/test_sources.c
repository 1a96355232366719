/*
 * test_sources.c — unit tests for proxy/sources.c: the per-source-address limits
 * (limits.per_source).
 *
 * Time is explicit now_ms values, so the rate bucket is checked to the millisecond.
 * Sources are built from sockaddrs as the proxy does: IPv4, IPv6 cut to a prefix, IPv4-
 * mapped IPv6. The table's memory bound is checked by its size: an entry lives while
 * its source has connections open or a bucket not yet full again. The concurrency case
 * runs four threads admitting and releasing over shared sources and checks, afterwards,
 * that every count went back to zero and every entry left.
 */
#include "proxy/sources.h"
#include "tests/lib/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>

#define T0 100000 /* an arbitrary monotonic start time */

static px_source_key v4(const char *text)
{
    struct sockaddr_storage ss;
    struct sockaddr_in *sin = (struct sockaddr_in *)&ss;
    px_source_key key;

    memset(&ss, 0, sizeof ss);
    sin->sin_family = AF_INET;
    ck_assert_int_eq(inet_pton(AF_INET, text, &sin->sin_addr), 1);
    ck_assert(px_source_key_of(&ss, 64, &key));
    return key;
}

static px_source_key v6(const char *text, unsigned prefix)
{
    struct sockaddr_storage ss;
    struct sockaddr_in6 *sin6 = (struct sockaddr_in6 *)&ss;
    px_source_key key;

    memset(&ss, 0, sizeof ss);
    sin6->sin6_family = AF_INET6;
    ck_assert_int_eq(inet_pton(AF_INET6, text, &sin6->sin6_addr), 1);
    ck_assert(px_source_key_of(&ss, prefix, &key));
    return key;
}

static bool same(px_source_key a, px_source_key b)
{
    return !memcmp(&a, &b, sizeof a);
}

static char *fmt(px_source_key k, unsigned prefix)
{
    static char buf[80];
    px_source_key_format(&k, prefix, buf, sizeof buf);
    return buf;
}

/* ---- keys ------------------------------------------------------------------------------ */

START_TEST(test_sources_key_ipv4)
{
    ck_assert(same(v4("192.0.2.7"), v4("192.0.2.7")));
    ck_assert(!same(v4("192.0.2.7"), v4("192.0.2.8")));
    ck_assert_str_eq(fmt(v4("192.0.2.7"), 64), "192.0.2.7");
}
END_TEST

START_TEST(test_sources_key_ipv6_prefix)
{
    /* One /64: one source. */
    ck_assert(same(v6("2001:db8:1:2::1", 64), v6("2001:db8:1:2:ffff:ffff:ffff:ffff", 64)));
    ck_assert(!same(v6("2001:db8:1:2::1", 64), v6("2001:db8:1:3::1", 64)));
    ck_assert_str_eq(fmt(v6("2001:db8:1:2:abcd::1", 64), 64), "2001:db8:1:2::/64");
    /* A prefix that is not a whole number of bytes. */
    ck_assert(same(v6("2001:db8:1:20::", 60), v6("2001:db8:1:2f::", 60)));
    ck_assert(!same(v6("2001:db8:1:20::", 60), v6("2001:db8:1:30::", 60)));
    /* /128: single addresses. */
    ck_assert(!same(v6("2001:db8::1", 128), v6("2001:db8::2", 128)));
    ck_assert_str_eq(fmt(v6("2001:db8::2", 128), 128), "2001:db8::2/128");
}
END_TEST

START_TEST(test_sources_key_v4_mapped_is_ipv4)
{
    ck_assert(same(v6("::ffff:192.0.2.7", 64), v4("192.0.2.7")));
    ck_assert(!same(v6("::ffff:192.0.2.7", 64), v4("192.0.2.8")));
}
END_TEST

START_TEST(test_sources_key_other_family)
{
    struct sockaddr_storage ss;
    px_source_key key;
    memset(&ss, 0, sizeof ss);
    ss.ss_family = AF_UNIX;
    ck_assert(!px_source_key_of(&ss, 64, &key));
}
END_TEST

/* ---- max_connections ----------------------------------------------------------------------- */

START_TEST(test_sources_max_connections)
{
    px_sources *t = px_sources_new();
    px_source_limits lim = {.max_connections = 3, .period_ms = 1000};
    px_source_key a = v4("198.51.100.1"), b = v4("198.51.100.2");

    for (int i = 0; i < 3; i++)
        ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_TOO_MANY);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 60000), PX_SOURCE_TOO_MANY);
    /* Another source is not affected. */
    ck_assert_int_eq(px_sources_admit(t, &b, &lim, T0), PX_SOURCE_OK);
    /* One closes: one more may open. */
    px_sources_release(t, &a, &lim, T0 + 1);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 2), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 2), PX_SOURCE_TOO_MANY);
    ck_assert_uint_eq(px_sources_size(t), 2);
    /* All closed: no entry stays behind. */
    for (int i = 0; i < 3; i++)
        px_sources_release(t, &a, &lim, T0 + 3);
    px_sources_release(t, &b, &lim, T0 + 3);
    ck_assert_uint_eq(px_sources_size(t), 0);
    /* A release for a source never admitted is harmless. */
    px_sources_release(t, &a, &lim, T0 + 4);
    ck_assert_uint_eq(px_sources_size(t), 0);
    px_sources_free(t);
}
END_TEST

START_TEST(test_sources_ipv6_prefix_shares_the_limit)
{
    px_sources *t = px_sources_new();
    px_source_limits lim = {.max_connections = 2, .period_ms = 1000};
    px_source_key a = v6("2001:db8:5:6::1", 64), b = v6("2001:db8:5:6::99", 64);
    px_source_key c = v6("2001:db8:5:7::1", 64);

    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &b, &lim, T0), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_TOO_MANY);
    ck_assert_int_eq(px_sources_admit(t, &c, &lim, T0), PX_SOURCE_OK);
    px_sources_free(t);
}
END_TEST

/* ---- rate --------------------------------------------------------------------------------------
 */

START_TEST(test_sources_rate_bucket)
{
    px_sources *t = px_sources_new();
    px_source_limits lim = {.rate = 5, .period_ms = 1000};
    px_source_key a = v4("203.0.113.5");

    /* A burst of rate, then nothing until a token comes back (every 200 ms). */
    for (int i = 0; i < 5; i++) {
        ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_OK);
        px_sources_release(t, &a, &lim, T0); /* closing does not give tokens back */
    }
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_TOO_FAST);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 199), PX_SOURCE_TOO_FAST);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 200), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 200), PX_SOURCE_TOO_FAST);
    /* Refusals do not use tokens: one period later the bucket is full again. */
    for (int i = 0; i < 100; i++)
        ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 300), PX_SOURCE_TOO_FAST);
    for (int i = 0; i < 5; i++)
        ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 1200), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 1200), PX_SOURCE_TOO_FAST);
    px_sources_free(t);
}
END_TEST

START_TEST(test_sources_rate_per_minute)
{
    px_sources *t = px_sources_new();
    px_source_limits lim = {.rate = 2, .period_ms = 60000};
    px_source_key a = v4("203.0.113.6");

    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 29999), PX_SOURCE_TOO_FAST);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0 + 30000), PX_SOURCE_OK);
    px_sources_free(t);
}
END_TEST

/* Count first: a refusal for the count does not spend a token. */
START_TEST(test_sources_both_limits)
{
    px_sources *t = px_sources_new();
    px_source_limits lim = {.max_connections = 1, .rate = 2, .period_ms = 1000};
    px_source_key a = v4("203.0.113.7");

    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_OK);
    for (int i = 0; i < 10; i++)
        ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_TOO_MANY);
    px_sources_release(t, &a, &lim, T0);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_OK);
    px_sources_release(t, &a, &lim, T0);
    ck_assert_int_eq(px_sources_admit(t, &a, &lim, T0), PX_SOURCE_TOO_FAST);
    px_sources_free(t);
}
END_TEST

/* An entry stays while its bucket refills, then goes (on release or in a sweep). */
START_TEST(test_sources_entries_expire)
{
    px_sources *t = px_sources_new();
    px_source_limits lim = {.rate = 10, .period_ms = 1000};
    char text[32];

    for (int i = 0; i < 2000; i++) {
        snprintf(text, sizeof text, "10.%d.%d.1", i / 256, i % 256);
        px_source_key k = v4(text);
        ck_assert_int_eq(px_sources_admit(t, &k, &lim, T0), PX_SOURCE_OK);
        px_sources_release(t, &k, &lim, T0);
    }
    ck_assert_uint_eq(px_sources_size(t), 2000); /* buckets not full: remembered */
    /* A period later, new sources sweep the old ones out. */
    for (int i = 0; i < 2000; i++) {
        snprintf(text, sizeof text, "172.16.%d.%d", i / 256, i % 256);
        px_source_key k = v4(text);
        ck_assert_int_eq(px_sources_admit(t, &k, &lim, T0 + 1000), PX_SOURCE_OK);
    }
    ck_assert_uint_le(px_sources_size(t), 2000 + 512);
    px_sources_free(t);
}
END_TEST

/* Many open sources: the table grows and finds every one. */
START_TEST(test_sources_many_open)
{
    px_sources *t = px_sources_new();
    px_source_limits lim = {.max_connections = 1, .period_ms = 1000};
    char text[64];

    for (int i = 0; i < 20000; i++) {
        snprintf(text, sizeof text, "2001:db8:%x:%x::1", i / 65536, i % 65536);
        px_source_key k = v6(text, 64);
        ck_assert_int_eq(px_sources_admit(t, &k, &lim, T0), PX_SOURCE_OK);
    }
    ck_assert_uint_eq(px_sources_size(t), 20000);
    for (int i = 0; i < 20000; i++) {
        snprintf(text, sizeof text, "2001:db8:%x:%x::2", i / 65536, i % 65536);
        px_source_key k = v6(text, 64);
        ck_assert_int_eq(px_sources_admit(t, &k, &lim, T0), PX_SOURCE_TOO_MANY);
        px_sources_release(t, &k, &lim, T0);
    }
    ck_assert_uint_eq(px_sources_size(t), 0);
    px_sources_free(t);
}
END_TEST

/* Limits change with a reload: credit above the new capacity is cut. */
START_TEST(test_sources_limits_change)
{
    px_sources *t = px_sources_new();
    px_source_limits big = {.rate = 100, .period_ms = 1000}, small = {.rate = 2, .period_ms = 1000};
    px_source_key a = v4("192.0.2.99");

    ck_assert_int_eq(px_sources_admit(t, &a, &big, T0), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &a, &small, T0), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &a, &small, T0), PX_SOURCE_OK);
    ck_assert_int_eq(px_sources_admit(t, &a, &small, T0), PX_SOURCE_TOO_FAST);
    px_sources_free(t);
}
END_TEST

/* ---- threads
 * ------------------------------------------------------------------------------------- */

static px_sources *shared;

static void *hammer(void *arg)
{
    px_source_limits lim = {.max_connections = 1000000, .period_ms = 1000};
    unsigned id = (unsigned)(uintptr_t)arg;
    char text[32];

    for (int i = 0; i < 20000; i++) {
        snprintf(text, sizeof text, "10.9.%u.%d", (unsigned)(i % 7), (int)((i + id) % 50));
        px_source_key k = v4(text);
        if (px_sources_admit(shared, &k, &lim, T0) == PX_SOURCE_OK)
            px_sources_release(shared, &k, &lim, T0);
    }
    return NULL;
}

START_TEST(test_sources_threads)
{
    pthread_t th[4];
    shared = px_sources_new();
    for (uintptr_t i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, (void *)i), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    ck_assert_uint_eq(px_sources_size(shared), 0);
    px_sources_free(shared);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("sources");
    TCase *keys = tcase_create("keys"), *lim = tcase_create("limits");

    tcase_add_test(keys, test_sources_key_ipv4);
    tcase_add_test(keys, test_sources_key_ipv6_prefix);
    tcase_add_test(keys, test_sources_key_v4_mapped_is_ipv4);
    tcase_add_test(keys, test_sources_key_other_family);
    suite_add_tcase(s, keys);

    tcase_set_timeout(lim, 30);
    tcase_add_test(lim, test_sources_max_connections);
    tcase_add_test(lim, test_sources_ipv6_prefix_shares_the_limit);
    tcase_add_test(lim, test_sources_rate_bucket);
    tcase_add_test(lim, test_sources_rate_per_minute);
    tcase_add_test(lim, test_sources_both_limits);
    tcase_add_test(lim, test_sources_entries_expire);
    tcase_add_test(lim, test_sources_many_open);
    tcase_add_test(lim, test_sources_limits_change);
    tcase_add_test(lim, test_sources_threads);
    suite_add_tcase(s, lim);
    return s;
}

TEST_MAIN(make_suite)
