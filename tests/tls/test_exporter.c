/*
 * test_exporter.c — keying material exporters (RFC 5705, RFC 8446 §7.5) through the
 * public API: the engine's client and server, connected in memory, export the same
 * bytes; different labels, contexts and versions give different bytes; misuse is
 * refused. (Agreement with OpenSSL is tests/interop/exporter.sh.)
 */
#include <string.h>

#include "tests/lib/unit.h"
#include "tls/tls.h"

#define CERTS "tests/certs/ecdsa-p256/"

typedef struct {
    tls_server_config *scfg;
    tls_client_config *ccfg;
    tls_conn *s, *c;
} pair;

/* Moves TLS bytes both ways until neither side has anything to send. */
static void pump(pair *p)
{
    uint8_t buf[32768];
    for (int round = 0; round < 64; round++) {
        size_t moved = 0, n, used;
        while ((n = tls_conn_write_tls(p->c, buf, sizeof buf)) > 0) {
            moved += n;
            ck_assert_int_eq(tls_conn_read_tls(p->s, buf, n, &used), TLS_OK);
            ck_assert_uint_eq(used, n);
            ck_assert_int_eq(tls_conn_process(p->s), TLS_OK);
        }
        while ((n = tls_conn_write_tls(p->s, buf, sizeof buf)) > 0) {
            moved += n;
            ck_assert_int_eq(tls_conn_read_tls(p->c, buf, n, &used), TLS_OK);
            ck_assert_uint_eq(used, n);
            ck_assert_int_eq(tls_conn_process(p->c), TLS_OK);
        }
        if (!moved)
            return;
    }
    ck_abort_msg("handshake did not settle");
}

static void pair_open(pair *p, uint16_t version, bool connect)
{
    tls_certified_key *ck;
    tls_root_store *roots;
    char err[256];
    uint16_t versions[1] = {version};

    memset(p, 0, sizeof *p);
    ck_assert_int_eq(tls_certified_key_load(CERTS "end.fullchain", CERTS "end.key", &ck, err,
                                            sizeof err),
                     TLS_OK);
    ck_assert_int_eq(tls_root_store_load(CERTS "ca.cert", &roots, err, sizeof err), TLS_OK);
    tls_server_config_params sp = {.certs = &ck, .n_certs = 1};
    tls_client_config_params cp = {.roots = roots, .versions = versions, .n_versions = 1};
    ck_assert_int_eq(tls_server_config_new(&sp, &p->scfg, err, sizeof err), TLS_OK);
    ck_assert_int_eq(tls_client_config_new(&cp, &p->ccfg, err, sizeof err), TLS_OK);
    tls_certified_key_unref(ck);
    tls_root_store_unref(roots);
    ck_assert_int_eq(tls_server_conn_new(p->scfg, &p->s), TLS_OK);
    ck_assert_int_eq(tls_client_conn_new(p->ccfg, "localhost", &p->c), TLS_OK);
    if (connect) {
        pump(p);
        ck_assert(!tls_conn_is_handshaking(p->c));
        ck_assert(!tls_conn_is_handshaking(p->s));
        ck_assert_uint_eq(tls_conn_version(p->s), version);
    }
}

static void pair_close(pair *p)
{
    tls_conn_free(p->c);
    tls_conn_free(p->s);
    tls_client_config_unref(p->ccfg);
    tls_server_config_unref(p->scfg);
}

static void export_both(pair *p, const char *label, const uint8_t *ctx, size_t ctx_len,
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
    pair p;
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
    pair_close(&p);
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
    pair p, q;
    pair_open(&p, TLS_VERSION_1_3, true);
    pair_open(&q, TLS_VERSION_1_3, true);
    export_both(&p, "EXPERIMENTAL", NULL, 0, false, a, sizeof a);
    export_both(&q, "EXPERIMENTAL", NULL, 0, false, b, sizeof b);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    pair_close(&p);
    pair_close(&q);
}
END_TEST

START_TEST(test_exporter_export_before_handshake_refused)
{
    uint8_t out[16];
    pair p;
    pair_open(&p, TLS_VERSION_1_3, false);
    ck_assert_int_eq(tls_conn_export_keying_material(p.s, "EXPERIMENTAL", NULL, 0, false, out,
                                                     sizeof out),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_export_keying_material(p.c, "EXPERIMENTAL", NULL, 0, false, out,
                                                     sizeof out),
                     TLS_ERR_INVALID_ARGUMENT);
    pair_close(&p);
}
END_TEST

START_TEST(test_exporter_export_tls12_reserved_label_refused)
{
    uint8_t out[16];
    pair p;
    pair_open(&p, TLS_VERSION_1_2, true);
    ck_assert_int_eq(tls_conn_export_keying_material(p.s, "key expansion", NULL, 0, false, out,
                                                     sizeof out),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_export_keying_material(p.s, "master secret", NULL, 0, false, out,
                                                     sizeof out),
                     TLS_ERR_INVALID_ARGUMENT);
    pair_close(&p);
}
END_TEST

START_TEST(test_exporter_export_bad_arguments_refused)
{
    uint8_t out[16];
    pair p;
    pair_open(&p, TLS_VERSION_1_3, true);
    ck_assert_int_eq(tls_conn_export_keying_material(p.s, NULL, NULL, 0, false, out, sizeof out),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_export_keying_material(p.s, "EXPERIMENTAL", NULL, 0, false, out, 0),
                     TLS_ERR_INVALID_ARGUMENT);
    pair_close(&p);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("exporter");
    TCase *tc = tcase_create("export");
    tcase_set_timeout(tc, 30);
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
