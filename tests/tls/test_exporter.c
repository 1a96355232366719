/*
 * test_exporter.c — keying material exporters (RFC 5705, RFC 8446 §7.5) through the
 * public API: the engine's client and server, connected in memory, export the same
 * bytes; different labels, contexts and versions give different bytes; misuse is
 * refused. (Agreement with OpenSSL is tests/interop/exporter.sh.)
 */
#include <string.h>

#include "tests/lib/enginepair.h"
#include "tests/lib/unit.h"
#include "tls/tls.h"

/* An engine client and server over the ECDSA P-256 test CA, both limited to version. */
static void pair_open(engine_pair *p, uint16_t version, bool connect)
{
    uint16_t versions[1] = {version};
    tls_server_config_params sp = {.certs = &end_ck[KT_P256], .n_certs = 1};
    tls_client_config_params cp = {.roots = roots[KT_P256], .versions = versions, .n_versions = 1};

    engine_pair_init(p, engine_client_config(&cp), engine_server_config(&sp), "localhost");
    if (connect) {
        engine_shuttle(p);
        engine_assert_ok(p);
        ck_assert(!tls_conn_is_handshaking(p->c));
        ck_assert(!tls_conn_is_handshaking(p->s));
        ck_assert_uint_eq(tls_conn_version(p->s), version);
    }
}

static void export_both(engine_pair *p, const char *label, const uint8_t *ctx, size_t ctx_len,
                        bool use_ctx, uint8_t *out, size_t len)
{
    uint8_t other[128];
    ck_assert_int_eq(tls_conn_export_keying_material(p->s, label, ctx, ctx_len, use_ctx, out, len),
                     TLS_OK);
    ck_assert_int_eq(
        tls_conn_export_keying_material(p->c, label, ctx, ctx_len, use_ctx, other, len), TLS_OK);
    ck_assert_mem_eq(out, other, len);
}

static void check_version(uint16_t version)
{
    static const uint8_t ctx[] = "context value";
    uint8_t a[64], b[64], c[64], d[64], e[64];
    engine_pair p;
    pair_open(&p, version, true);
    export_both(&p, "EXPERIMENTAL a", NULL, 0, false, a, sizeof a);
    export_both(&p, "EXPERIMENTAL b", NULL, 0, false, b, sizeof b);
    export_both(&p, "EXPERIMENTAL a", ctx, sizeof ctx, true, c, sizeof c);
    export_both(&p, "EXPERIMENTAL a", NULL, 0, true, d, sizeof d);
    export_both(&p, "EXPERIMENTAL a", NULL, 0, false, e, 17);
    ck_assert(memcmp(a, b, sizeof a) != 0); /* label matters */
    ck_assert(memcmp(a, c, sizeof a) != 0); /* context matters */
    if (version == TLS_VERSION_1_3) {
        /* HKDF-Expand-Label binds the length: a shorter export is not a prefix. And
         * "no context" is the same as an empty one (§7.5). */
        ck_assert(memcmp(a, e, 17) != 0);
        ck_assert_mem_eq(a, d, sizeof a);
    } else {
        /* The TLS 1.2 PRF streams: a shorter export is a prefix. RFC 5705 keeps "no
         * context" and an empty context apart. */
        ck_assert_mem_eq(a, e, 17);
        ck_assert(memcmp(a, d, sizeof a) != 0);
    }
    engine_pair_free(&p);
}

START_TEST(test_exporter_export_tls13_client_and_server_agree)
{
    check_version(TLS_VERSION_1_3);
}
END_TEST

START_TEST(test_exporter_export_tls12_client_and_server_agree)
{
    check_version(TLS_VERSION_1_2);
}
END_TEST

START_TEST(test_exporter_export_each_connection_differs)
{
    uint8_t a[32], b[32];
    engine_pair p, q;
    pair_open(&p, TLS_VERSION_1_3, true);
    pair_open(&q, TLS_VERSION_1_3, true);
    export_both(&p, "EXPERIMENTAL", NULL, 0, false, a, sizeof a);
    export_both(&q, "EXPERIMENTAL", NULL, 0, false, b, sizeof b);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    engine_pair_free(&p);
    engine_pair_free(&q);
}
END_TEST

START_TEST(test_exporter_export_before_handshake_refused)
{
    uint8_t out[16];
    engine_pair p;
    pair_open(&p, TLS_VERSION_1_3, false);
    ck_assert_int_eq(tls_conn_export_keying_material(p.s, "EXPERIMENTAL", NULL, 0, false, out,
                                                     sizeof out),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_export_keying_material(p.c, "EXPERIMENTAL", NULL, 0, false, out,
                                                     sizeof out),
                     TLS_ERR_INVALID_ARGUMENT);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_exporter_export_tls12_reserved_label_refused)
{
    uint8_t out[16];
    engine_pair p;
    pair_open(&p, TLS_VERSION_1_2, true);
    ck_assert_int_eq(tls_conn_export_keying_material(p.s, "key expansion", NULL, 0, false, out,
                                                     sizeof out),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_export_keying_material(p.s, "master secret", NULL, 0, false, out,
                                                     sizeof out),
                     TLS_ERR_INVALID_ARGUMENT);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_exporter_export_bad_arguments_refused)
{
    uint8_t out[16];
    engine_pair p;
    pair_open(&p, TLS_VERSION_1_3, true);
    ck_assert_int_eq(tls_conn_export_keying_material(p.s, NULL, NULL, 0, false, out, sizeof out),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_export_keying_material(p.s, "EXPERIMENTAL", NULL, 0, false, out, 0),
                     TLS_ERR_INVALID_ARGUMENT);
    engine_pair_free(&p);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("exporter");
    TCase *tc = tcase_create("export");
    tcase_set_timeout(tc, 30);
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_exporter_export_tls13_client_and_server_agree);
    tcase_add_test(tc, test_exporter_export_tls12_client_and_server_agree);
    tcase_add_test(tc, test_exporter_export_each_connection_differs);
    tcase_add_test(tc, test_exporter_export_before_handshake_refused);
    tcase_add_test(tc, test_exporter_export_tls12_reserved_label_refused);
    tcase_add_test(tc, test_exporter_export_bad_arguments_refused);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
