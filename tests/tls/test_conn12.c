/*
 * test_conn12.c — the TLS 1.2 server engine end to end through its public pipe API
 * (tls/conn.c, tls/hs/tls12_server.c, version choice in tls/hs/tls13_server.c), driven by
 * the scripted in-memory TLS 1.2 client in tests/lib/testclient12.c.
 *
 * Happy paths cover every TLS 1.2 suite × group × matching key type, bulk data, 1-byte
 * feeding, early server writes, fragment size, close_notify both ways. Negotiation covers
 * signature schemes, curves, EMS (RFC 7627), the downgrade sentinel (RFC 8446 §4.1.3),
 * FALLBACK_SCSV (RFC 7507), secure renegotiation signalling (RFC 5746), ec_point_formats
 * (RFC 8422), ALPN and SNI. The adversarial set sends what a hostile or broken client would
 * — misordered flights, bad points, bad Finished, tampered records — and asserts both the
 * exact tls_error the server latches and the alert it put on the wire, with whether that
 * alert was protected.
 *
 * Certified keys are loaded once, in the parent process (an unchecked fixture); each test
 * runs forked.
 */
#include "tests/lib/testclient12.h"
#include "tests/lib/unit.h"
#include "tls/conn.h"
#include "tls/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERTS "tests/certs/"

enum { KT_RSA, KT_P256, KT_P384, KT_COUNT };

static const char *const kt_dirs[KT_COUNT] = {"rsa2048", "ecdsa-p256", "ecdsa-p384"};
static const uint16_t kt_schemes[KT_COUNT] = {
    TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ECDSA_SECP384R1_SHA384};
static tls_certified_key *end_ck[KT_COUNT], *other_ck[KT_COUNT];

static const uint16_t rsa_suites[] = {TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                                      TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                                      TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256};
static const uint16_t ecdsa_suites[] = {TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                                        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                                        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256};
static const uint16_t all_groups[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1, TLS_GROUP_SECP384R1};
static const uint16_t only12[] = {TLS_VERSION_1_2};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- fixture -------------------------------------------------------------------------------- */

static tls_certified_key *load(const char *dir, const char *name)
{
    char chain[256], key[256], err[256] = "";
    tls_certified_key *ck = NULL;

    snprintf(chain, sizeof chain, CERTS "%s/%s.fullchain", dir, name);
    snprintf(key, sizeof key, CERTS "%s/%s.key", dir, name);
    tls_error e = tls_certified_key_load(chain, key, &ck, err, sizeof err);
    if (e != TLS_OK) {
        fprintf(stderr, "loading %s: %s (%s)\n", chain, tls_error_name(e), err);
        abort();
    }
    return ck;
}

static void load_certs(void)
{
    for (int i = 0; i < KT_COUNT; i++) {
        end_ck[i] = load(kt_dirs[i], "end");
        other_ck[i] = load(kt_dirs[i], "other");
    }
}

static void free_certs(void)
{
    for (int i = 0; i < KT_COUNT; i++) {
        tls_certified_key_unref(end_ck[i]);
        tls_certified_key_unref(other_ck[i]);
        end_ck[i] = other_ck[i] = NULL;
    }
}

/* ---- helpers -------------------------------------------------------------------------------- */

typedef struct {
    tls_server_config *cfg;
    tls_conn *s;
    t12_client *c;
} pair;

static tls_server_config_params params_for(int kt)
{
    tls_server_config_params p;
    memset(&p, 0, sizeof p);
    p.certs = &end_ck[kt];
    p.n_certs = 1;
    return p;
}

static void pair_init(pair *p, const tls_server_config_params *params, const t12_options *opts)
{
    char err[256] = "";
    tls_error e = tls_server_config_new(params, &p->cfg, err, sizeof err);
    ck_assert_msg(e == TLS_OK, "config: %s (%s)", tls_error_name(e), err);
    ck_assert_int_eq(tls_server_conn_new(p->cfg, &p->s), TLS_OK);
    p->c = t12_client_new(opts);
}

/* A default server (TLS 1.3 and 1.2) with a P-256 or RSA key. */
static void pair_kt(pair *p, int kt, const t12_options *opts)
{
    tls_server_config_params params = params_for(kt);
    pair_init(p, &params, opts);
}

static void pair_free(pair *p)
{
    t12_client_free(p->c);
    tls_conn_free(p->s);
    tls_server_config_unref(p->cfg);
    memset(p, 0, sizeof *p);
}

static void assert_client_ok(const t12_client *c)
{
    ck_assert_msg(!c->failed, "client: %s", c->error);
}

static void assert_server_ok(tls_error err)
{
    ck_assert_msg(err == TLS_OK, "server: %s", tls_error_name(err));
}

/* Runs the whole handshake; both ends must be connected with nothing to complain of. */
static void handshake(pair *p, size_t feed)
{
    t12_start(p->c);
    assert_server_ok(t12_pump(p->c, p->s, feed));
    assert_client_ok(p->c);
    ck_assert_int_eq(p->c->state, T12_STATE_CONNECTED);
    ck_assert(!tls_conn_is_handshaking(p->s));
    ck_assert_int_eq(tls_conn_error(p->s), TLS_OK);
    ck_assert_uint_eq(p->c->n_alerts, 0);
    ck_assert_uint_eq(tls_conn_version(p->s), TLS_VERSION_1_2);
    ck_assert_uint_eq(p->c->server_ccs, 1);
}

/* Runs until the client has verified the server's first flight (manual flight). */
static void handshake_until_server_done(pair *p)
{
    p->c->opts.flight = T12_FLIGHT_MANUAL;
    t12_start(p->c);
    assert_server_ok(t12_pump(p->c, p->s, 0));
    assert_client_ok(p->c);
    ck_assert_int_eq(p->c->state, T12_STATE_SERVER_DONE);
    ck_assert(tls_conn_is_handshaking(p->s));
}

/* The server failed with `want` (returned by the pump and latched) and sent exactly one
 * alert, fatal, `alert` (or nothing for TLS_ALERT_NONE), protected or not as `encrypted`. */
static void assert_failed_enc(pair *p, tls_error got, tls_error want, int alert, bool encrypted)
{
    ck_assert_msg(got == want, "server returned %s, expected %s", tls_error_name(got),
                  tls_error_name(want));
    ck_assert_msg(tls_conn_error(p->s) == want, "latched %s, expected %s",
                  tls_error_name(tls_conn_error(p->s)), tls_error_name(want));
    if (alert == TLS_ALERT_NONE) {
        ck_assert_uint_eq(p->c->n_alerts, 0);
        return;
    }
    ck_assert_msg(p->c->n_alerts == 1, "client saw %u alerts (client: %s)", p->c->n_alerts,
                  p->c->failed ? p->c->error : "ok");
    ck_assert_msg(p->c->alerts[0].desc == alert, "alert %s, expected %s",
                  tls_alert_name(p->c->alerts[0].desc), tls_alert_name(alert));
    ck_assert_uint_eq(p->c->alerts[0].level, 2);
    ck_assert_msg(p->c->alerts[0].encrypted == encrypted, "alert %s protected",
                  p->c->alerts[0].encrypted ? "was" : "was not");
    uint8_t b[16];
    ck_assert_uint_eq(tls_conn_write_tls(p->s, b, sizeof b), 0);
}

static void assert_failed(pair *p, tls_error got, tls_error want, int alert)
{
    assert_failed_enc(p, got, want, alert, false);
}

static tls_error run_hello(pair *p)
{
    t12_start(p->c);
    return t12_pump(p->c, p->s, 0);
}

static void fill_pattern(uint8_t *p, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        p[i] = (uint8_t)x;
    }
}

static void server_drain(tls_conn *s, uint8_t *buf, size_t cap, size_t *got)
{
    size_t n;
    do {
        ck_assert_int_eq(tls_conn_read(s, buf + *got, cap - *got, &n), TLS_OK);
        *got += n;
    } while (n && *got < cap);
}

/* Client → server: len bytes, delivered `feed` bytes per read_tls, compared exactly. */
static void send_up(pair *p, size_t len, size_t feed, uint32_t seed)
{
    uint8_t *want = malloc(len), *got = malloc(len + 1);
    size_t n = 0;

    ck_assert(want && got);
    fill_pattern(want, len, seed);
    t12_write(p->c, want, len);
    for (int i = 0; i < 10000 && n < len; i++) {
        assert_server_ok(t12_pump(p->c, p->s, feed));
        server_drain(p->s, got, len + 1, &n);
    }
    assert_client_ok(p->c);
    ck_assert_uint_eq(n, len);
    ck_assert(memcmp(want, got, len) == 0);
    free(want);
    free(got);
}

/* Server → client: len bytes through tls_conn_write (which may take part), compared. */
static void send_down(pair *p, size_t len, size_t feed, uint32_t seed)
{
    uint8_t *want = malloc(len), *got = malloc(len + 1);
    size_t sent = 0, n = 0;

    ck_assert(want && got);
    fill_pattern(want, len, seed);
    for (int i = 0; i < 10000 && (sent < len || n < len); i++) {
        size_t k = 0;
        if (sent < len)
            ck_assert_int_eq(tls_conn_write(p->s, want + sent, len - sent, &k), TLS_OK);
        sent += k;
        assert_server_ok(t12_pump(p->c, p->s, feed));
        n += t12_read(p->c, got + n, len + 1 - n);
    }
    assert_client_ok(p->c);
    ck_assert_uint_eq(n, len);
    ck_assert(memcmp(want, got, len) == 0);
    free(want);
    free(got);
}

static void exchange(pair *p, size_t len, size_t feed)
{
    send_up(p, len, feed, (uint32_t)len + 1);
    send_down(p, len, feed, (uint32_t)len + 2);
}

static void assert_end_entity(const t12_client *c, const tls_certified_key *ck)
{
    ck_assert_uint_eq(c->end_entity_len, ck->chain_len[0]);
    ck_assert(memcmp(c->end_entity, ck->chain[0], ck->chain_len[0]) == 0);
    ck_assert_uint_eq(c->n_certs, ck->n_chain);
}

static bool sh_has_ext(const t12_client *c, uint16_t type)
{
    for (size_t i = 0; i < c->n_sh_exts; i++)
        if (c->sh_ext_types[i] == type)
            return true;
    return false;
}

/* ---- full handshakes ------------------------------------------------------------------------ */

static void run_matrix(int kt)
{
    const uint16_t *suites = kt == KT_RSA ? rsa_suites : ecdsa_suites;
    for (size_t i = 0; i < 3; i++) {
        for (size_t j = 0; j < COUNT(all_groups); j++) {
            tls_server_config_params params = params_for(kt);
            pair p;

            params.cipher_suites = &suites[i];
            params.n_cipher_suites = 1;
            params.groups = &all_groups[j];
            params.n_groups = 1;
            pair_init(&p, &params, NULL);
            handshake(&p, 0);

            ck_assert_uint_eq(tls_conn_version(p.s), TLS_VERSION_1_2);
            ck_assert_uint_eq(tls_conn_cipher_suite(p.s), suites[i]);
            ck_assert_uint_eq(tls_conn_group(p.s), all_groups[j]);
            ck_assert_uint_eq(tls_conn_sig_scheme(p.s), kt_schemes[kt]);
            ck_assert(tls_conn_ems(p.s));
            ck_assert_ptr_null(tls_conn_server_name(p.s));
            size_t alpn_len = 99;
            ck_assert_ptr_null(tls_conn_alpn(p.s, &alpn_len));
            ck_assert_uint_eq(alpn_len, 0);
            ck_assert(!tls_conn_did_hrr(p.s));

            ck_assert_uint_eq(p.c->version, TLS_VERSION_1_2);
            ck_assert_uint_eq(p.c->suite, suites[i]);
            ck_assert_uint_eq(p.c->group, all_groups[j]);
            ck_assert_uint_eq(p.c->sig_scheme, kt_schemes[kt]);
            ck_assert(p.c->ems);
            ck_assert(p.c->reneg_info);
            ck_assert_uint_eq(p.c->reneg_info_len, 0);
            ck_assert(!p.c->sni_acked);
            ck_assert_uint_eq(p.c->alpn_len, 0);
            assert_end_entity(p.c, end_ck[kt]);

            exchange(&p, 1000 + i * 3 + j, 0);
            pair_free(&p);
        }
    }
}

START_TEST(test_conn12_handshake_rsa_all_suites_groups)
{
    run_matrix(KT_RSA);
}
END_TEST

START_TEST(test_conn12_handshake_p256_all_suites_groups)
{
    run_matrix(KT_P256);
}
END_TEST

START_TEST(test_conn12_handshake_p384_all_suites_groups)
{
    run_matrix(KT_P384);
}
END_TEST

START_TEST(test_conn12_data_100k_each_way)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    unsigned before = p.c->records;
    exchange(&p, 100 * 1024, 0);
    ck_assert_uint_ge(p.c->records - before, 7); /* 100 KiB down: seven 16 KiB records */
    ck_assert_uint_le(p.c->max_record_plaintext, TLS_MAX_PLAINTEXT);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_input_one_byte_at_a_time)
{
    pair p;
    pair_kt(&p, KT_RSA, NULL);
    handshake(&p, 1);
    exchange(&p, 20000, 1);
    pair_free(&p);
}
END_TEST

/* Every handshake message of ours split across 7-byte records. */
START_TEST(test_conn12_client_handshake_in_tiny_records)
{
    t12_options opts = {.record_size = 7};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    handshake(&p, 0);
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_server_write_before_handshake_delivered_after)
{
    static const char early[] = "written before the ClientHello";
    static const char later[] = "written before the client's Finished";
    uint8_t buf[128];
    size_t n;
    pair p;

    pair_kt(&p, KT_P256, NULL);
    ck_assert_int_eq(tls_conn_write(p.s, (const uint8_t *)early, sizeof early, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof early);
    ck_assert(!tls_conn_wants_write(p.s));
    handshake_until_server_done(&p);
    ck_assert_int_eq(tls_conn_write(p.s, (const uint8_t *)later, sizeof later, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof later);
    t12_send_client_key_exchange(p.c);
    t12_send_ccs(p.c);
    t12_send_finished(p.c);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert_int_eq(p.c->state, T12_STATE_CONNECTED);
    ck_assert_uint_eq(p.c->app_before_connected, 0);
    ck_assert_uint_eq(t12_read(p.c, buf, sizeof buf), sizeof early + sizeof later);
    ck_assert(memcmp(buf, early, sizeof early) == 0);
    ck_assert(memcmp(buf + sizeof early, later, sizeof later) == 0);
    exchange(&p, 10, 0);
    pair_free(&p);
}
END_TEST

/* RFC 5288 §3: the explicit nonce of every server AES-GCM record is its sequence number:
 * Finished is 0, then 1, 2, ... — never random, never repeated. */
START_TEST(test_conn12_explicit_nonce_is_sequence_number)
{
    static const struct {
        int kt;
        uint16_t suite;
    } cases[] = {
        {KT_RSA, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256},
        {KT_RSA, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384},
        {KT_P256, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256},
        {KT_P384, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384},
    };
    for (size_t i = 0; i < COUNT(cases); i++) {
        tls_server_config_params params = params_for(cases[i].kt);
        pair p;
        params.cipher_suites = &cases[i].suite;
        params.n_cipher_suites = 1;
        params.max_fragment_size = 1000;
        pair_init(&p, &params, NULL);
        handshake(&p, 0);
        send_down(&p, 50000, 0, 9);
        tls_conn_send_close_notify(p.s);
        assert_server_ok(t12_pump(p.c, p.s, 0));
        ck_assert(p.c->close_notify);
        ck_assert_uint_ge(p.c->n_explicit_nonces, 52); /* Finished + 50 records + alert */
        ck_assert_uint_eq(p.c->n_explicit_nonces, p.c->protected_records);
        for (size_t k = 0; k < p.c->n_explicit_nonces; k++)
            ck_assert_msg(p.c->explicit_nonces[k] == k, "record %zu carries nonce %llu", k,
                          (unsigned long long)p.c->explicit_nonces[k]);
        pair_free(&p);
    }
}
END_TEST

/* RFC 7905: ChaCha20-Poly1305 records carry no explicit nonce (the client opens them with
 * the 12-byte fixed IV XOR the sequence number). */
START_TEST(test_conn12_chacha_records_have_no_explicit_nonce)
{
    static const uint16_t suite = TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256;
    tls_server_config_params params = params_for(KT_P256);
    pair p;
    params.cipher_suites = &suite;
    params.n_cipher_suites = 1;
    pair_init(&p, &params, NULL);
    handshake(&p, 0);
    exchange(&p, 3000, 0);
    ck_assert_uint_eq(p.c->n_explicit_nonces, 0);
    ck_assert_uint_ge(p.c->protected_records, 2);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_max_fragment_size_512)
{
    tls_server_config_params params = params_for(KT_RSA);
    pair p;
    params.max_fragment_size = 512;
    pair_init(&p, &params, NULL);
    handshake(&p, 0); /* the server's certificate flight spans records too */
    ck_assert_uint_le(p.c->max_record_plaintext, 512);
    send_down(&p, 10000, 0, 3);
    ck_assert_uint_le(p.c->max_record_plaintext, 512);
    ck_assert_uint_ge(p.c->records, 20);
    send_up(&p, 10000, 0, 4); /* what the server accepts is not limited */
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_client_close_notify)
{
    uint8_t b[16];
    size_t n = 1;
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    send_up(&p, 100, 0, 1);
    t12_send_close_notify(p.c);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    ck_assert(tls_conn_peer_closed(p.s));
    ck_assert_int_eq(tls_conn_error(p.s), TLS_OK);
    ck_assert_int_eq(tls_conn_read(p.s, b, sizeof b, &n), TLS_OK);
    ck_assert_uint_eq(n, 0);
    /* The server may still write, then close its side. */
    send_down(&p, 100, 0, 2);
    tls_conn_send_close_notify(p.s);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    ck_assert(p.c->close_notify);
    ck_assert_uint_eq(p.c->n_alerts, 1);
    ck_assert_uint_eq(p.c->alerts[0].level, 1);
    ck_assert(p.c->alerts[0].encrypted);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_server_close_notify)
{
    size_t n = 0;
    pair p;
    pair_kt(&p, KT_RSA, NULL);
    handshake(&p, 0);
    tls_conn_send_close_notify(p.s);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    ck_assert(p.c->close_notify);
    ck_assert_uint_eq(p.c->alerts[0].level, 1);
    ck_assert(p.c->alerts[0].encrypted);
    ck_assert_int_eq(tls_conn_write(p.s, (const uint8_t *)"x", 1, &n), TLS_ERR_CLOSED);
    /* The client's data still arrives, then its close_notify. */
    send_up(&p, 500, 0, 5);
    t12_send_close_notify(p.c);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    ck_assert(tls_conn_peer_closed(p.s));
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_key_update_api_refused)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    ck_assert_int_eq(tls_conn_send_key_update(p.s, false), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_send_key_update(p.s, true), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_error(p.s), TLS_OK);
    ck_assert(!tls_conn_wants_write(p.s));
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

/*
 * TLS 1.2 cannot rekey: at RECORDS_BEFORE_KEY_UPDATE (2^23) records the engine ends its
 * side cleanly with close_notify instead of writing more under the same AES-GCM key. A
 * clean close of our side must not destroy the read side: plaintext already decrypted
 * stays readable, more still arrives, and tls_conn_error stays TLS_OK, as after
 * tls_conn_send_close_notify.
 */
START_TEST(test_conn12_write_limit_closes_cleanly)
{
    static const char up[] = "already received";
    uint8_t b[64];
    size_t n = 1;
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    t12_write(p.c, (const uint8_t *)up, sizeof up);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    p.s->wr.seq = 1ull << 23;
    p.c->rd.seq = 1ull << 23;
    tls_error err = tls_conn_write(p.s, (const uint8_t *)"x", 1, &n);
    ck_assert_msg(err == TLS_OK || err == TLS_ERR_CLOSED, "write at the limit: %s",
                  tls_error_name(err));
    ck_assert_uint_eq(n, 0); /* not a byte more under this key */
    ck_assert_int_eq(tls_conn_write(p.s, (const uint8_t *)"x", 1, &n), TLS_ERR_CLOSED);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert(p.c->close_notify);
    ck_assert_uint_eq(p.c->n_alerts, 1);
    ck_assert_uint_eq(p.c->alerts[0].level, 1);
    ck_assert(p.c->alerts[0].encrypted);
    ck_assert_uint_eq(t12_read(p.c, b, sizeof b), 0);
    ck_assert_msg(tls_conn_error(p.s) == TLS_OK, "a clean close latched %s",
                  tls_error_name(tls_conn_error(p.s)));
    ck_assert_int_eq(tls_conn_read(p.s, b, sizeof b, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof up);
    ck_assert(memcmp(b, up, sizeof up) == 0);
    send_up(&p, 3000, 0, 8); /* the client may go on sending */
    pair_free(&p);
}
END_TEST

/* ---- negotiation ---------------------------------------------------------------------------- */

START_TEST(test_conn12_rsa_pss_chosen_when_offered)
{
    static const uint16_t algs[] = {TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_RSA_PKCS1_SHA384,
                                    TLS_SIG_RSA_PSS_RSAE_SHA384};
    t12_options opts = {.sig_algs = algs, .n_sig_algs = COUNT(algs)};
    pair p;
    pair_kt(&p, KT_RSA, &opts);
    handshake(&p, 0);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.s), TLS_SIG_RSA_PSS_RSAE_SHA384);
    ck_assert_uint_eq(p.c->sig_scheme, TLS_SIG_RSA_PSS_RSAE_SHA384);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_rsa_pkcs1_when_only_pkcs1_offered)
{
    static const uint16_t sha256[] = {TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_RSA_PKCS1_SHA256};
    static const uint16_t sha512[] = {TLS_SIG_RSA_PKCS1_SHA512};
    static const struct {
        const uint16_t *algs;
        size_t n;
        uint16_t want;
    } cases[] = {{sha256, COUNT(sha256), TLS_SIG_RSA_PKCS1_SHA256},
                 {sha512, COUNT(sha512), TLS_SIG_RSA_PKCS1_SHA512}};
    for (size_t i = 0; i < COUNT(cases); i++) {
        t12_options opts = {.sig_algs = cases[i].algs, .n_sig_algs = cases[i].n};
        pair p;
        pair_kt(&p, KT_RSA, &opts);
        handshake(&p, 0);
        ck_assert_uint_eq(tls_conn_sig_scheme(p.s), cases[i].want);
        ck_assert_uint_eq(p.c->sig_scheme, cases[i].want);
        exchange(&p, 10, 0);
        pair_free(&p);
    }
}
END_TEST

/* RFC 5246 §7.4.1.4.1: no signature_algorithms means SHA-1, which the server never uses. */
START_TEST(test_conn12_rsa_no_signature_algorithms)
{
    t12_options opts = {.omit_sig_algs = true};
    pair p;
    pair_kt(&p, KT_RSA, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_SIG_SCHEMES_IN_COMMON,
                  TLS_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_sha1_only_signature_algorithms)
{
    static const uint16_t sha1[] = {0x0201 /* rsa_pkcs1_sha1 */, 0x0203 /* ecdsa_sha1 */};
    for (int kt = 0; kt < KT_COUNT; kt++) {
        t12_options opts = {.sig_algs = sha1, .n_sig_algs = COUNT(sha1)};
        pair p;
        pair_kt(&p, kt, &opts);
        assert_failed(&p, run_hello(&p), TLS_ERR_NO_SIG_SCHEMES_IN_COMMON,
                      TLS_ALERT_HANDSHAKE_FAILURE);
        pair_free(&p);
    }
}
END_TEST

/* A pre-extensions hello: no signature_algorithms, so nothing we would sign with. */
START_TEST(test_conn12_hello_without_extensions)
{
    t12_options opts = {.no_extensions = true};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_SIG_SCHEMES_IN_COMMON,
                  TLS_ALERT_HANDSHAKE_FAILURE);
    ck_assert_uint_eq(tls_conn_version(p.s), TLS_VERSION_1_2);
    pair_free(&p);
}
END_TEST

/* RFC 8422 §5.1: an ECDHE_ECDSA suite needs the client to support the key's curve. */
START_TEST(test_conn12_ecdsa_p256_client_without_secp256r1)
{
    static const uint16_t groups[] = {TLS_GROUP_X25519, TLS_GROUP_SECP384R1};
    t12_options opts = {.groups = groups, .n_groups = COUNT(groups)};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_CIPHER_SUITES_IN_COMMON,
                  TLS_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_ecdsa_p384_client_without_secp384r1)
{
    static const uint16_t groups[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1};
    t12_options opts = {.groups = groups, .n_groups = COUNT(groups)};
    pair p;
    pair_kt(&p, KT_P384, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_CIPHER_SUITES_IN_COMMON,
                  TLS_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
}
END_TEST

/* RFC 8422 §4: without supported_groups the server picks any curve (its first). */
START_TEST(test_conn12_ecdsa_without_supported_groups)
{
    t12_options opts = {.omit_groups = true};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    handshake(&p, 0);
    ck_assert_uint_eq(tls_conn_group(p.s), TLS_GROUP_X25519);
    ck_assert_uint_eq(p.c->group, TLS_GROUP_X25519);
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_rsa_key_client_offers_ecdsa_suites_only)
{
    t12_options opts = {.suites = ecdsa_suites, .n_suites = COUNT(ecdsa_suites)};
    pair p;
    pair_kt(&p, KT_RSA, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_CIPHER_SUITES_IN_COMMON,
                  TLS_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_no_common_group)
{
    static const uint16_t server_groups[] = {TLS_GROUP_X25519};
    static const uint16_t client_groups[] = {TLS_GROUP_SECP384R1};
    tls_server_config_params params = params_for(KT_RSA);
    t12_options opts = {.groups = client_groups, .n_groups = 1};
    pair p;
    params.groups = server_groups;
    params.n_groups = 1;
    pair_init(&p, &params, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_KX_GROUPS_IN_COMMON, TLS_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
}
END_TEST

/* Server preference: AES-256 before AES-128 by default; X25519 first among groups. */
START_TEST(test_conn12_server_preference)
{
    static const uint16_t groups[] = {TLS_GROUP_SECP384R1, TLS_GROUP_SECP256R1, TLS_GROUP_X25519};
    t12_options opts = {.groups = groups, .n_groups = COUNT(groups)};
    pair p;
    pair_kt(&p, KT_RSA, &opts);
    handshake(&p, 0);
    ck_assert_uint_eq(tls_conn_cipher_suite(p.s), TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384);
    ck_assert_uint_eq(tls_conn_group(p.s), TLS_GROUP_X25519);
    pair_free(&p);
}
END_TEST

/* A 1.2 client also offering TLS 1.3 suites gets a TLS 1.2 suite. */
START_TEST(test_conn12_client_offering_tls13_suites_too)
{
    static const uint16_t suites[] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
                                      TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256};
    t12_options opts = {.suites = suites, .n_suites = COUNT(suites)};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    handshake(&p, 0);
    ck_assert_uint_eq(tls_conn_cipher_suite(p.s), TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_server_hello_shape)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    ck_assert_uint_eq(p.c->version, TLS_VERSION_1_2);
    ck_assert_uint_eq(p.c->session_id_len, 0);
    ck_assert(!sh_has_ext(p.c, TLS_EXT_SUPPORTED_VERSIONS));
    ck_assert(!sh_has_ext(p.c, TLS_EXT_KEY_SHARE));
    ck_assert_uint_eq(p.c->server_msgs, 5); /* SH, Certificate, SKE, SHD, Finished */
    pair_free(&p);
}
END_TEST

/* ---- extended master secret (RFC 7627) ---- */

START_TEST(test_conn12_ems_used_when_offered)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    ck_assert(tls_conn_ems(p.s));
    ck_assert(p.c->ems);
    ck_assert(sh_has_ext(p.c, TLS_EXT_EXTENDED_MASTER_SECRET));
    pair_free(&p);
}
END_TEST

/* Both sides compute the RFC 5246 master secret (the Finished exchange proves they agree). */
START_TEST(test_conn12_ems_not_used_when_not_offered)
{
    t12_options opts = {.omit_ems = true};
    pair p;
    pair_kt(&p, KT_RSA, &opts);
    ck_assert(!tls_conn_ems(p.s));
    handshake(&p, 0);
    ck_assert(!tls_conn_ems(p.s));
    ck_assert(!p.c->ems);
    ck_assert(!sh_has_ext(p.c, TLS_EXT_EXTENDED_MASTER_SECRET));
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_require_ems_refuses_client_without_it)
{
    tls_server_config_params params = params_for(KT_P256);
    t12_options opts = {.omit_ems = true};
    pair p;
    params.require_ems = true;
    pair_init(&p, &params, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_EMS_REQUIRED, TLS_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_require_ems_accepts_client_with_it)
{
    tls_server_config_params params = params_for(KT_P256);
    pair p;
    params.require_ems = true;
    pair_init(&p, &params, NULL);
    handshake(&p, 0);
    ck_assert(tls_conn_ems(p.s));
    pair_free(&p);
}
END_TEST

/* ---- downgrade protection (RFC 8446 §4.1.3, RFC 7507) ---- */

/* What a TLS 1.3 client whose supported_versions was stripped by a middlebox sees. */
START_TEST(test_conn12_sentinel_when_tls13_enabled)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    ck_assert(p.c->sentinel_tls12);
    ck_assert(!p.c->sentinel_tls11);
    pair_free(&p);
}
END_TEST

/* supported_versions offering only 1.2 also gets 1.2 — with the sentinel. */
START_TEST(test_conn12_sentinel_with_supported_versions_tls12)
{
    t12_options opts = {.versions = only12, .n_versions = 1};
    pair p;
    pair_kt(&p, KT_RSA, &opts);
    handshake(&p, 0);
    ck_assert(p.c->sentinel_tls12);
    ck_assert(!sh_has_ext(p.c, TLS_EXT_SUPPORTED_VERSIONS));
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_no_sentinel_when_tls12_only)
{
    tls_server_config_params params = params_for(KT_P256);
    pair p;
    params.versions = only12;
    params.n_versions = 1;
    pair_init(&p, &params, NULL);
    handshake(&p, 0);
    ck_assert(!p.c->sentinel_tls12);
    ck_assert(!p.c->sentinel_tls11);
    pair_free(&p);
}
END_TEST

/* TLS 1.3 enabled but no TLS 1.3 suite: 1.3 could not have been agreed, so no sentinel,
 * and a fallback retry is not inappropriate. */
START_TEST(test_conn12_no_sentinel_without_tls13_suites)
{
    tls_server_config_params params = params_for(KT_P256);
    t12_options opts = {.fallback_scsv = true};
    pair p;
    params.cipher_suites = ecdsa_suites;
    params.n_cipher_suites = COUNT(ecdsa_suites);
    pair_init(&p, &params, &opts);
    handshake(&p, 0);
    ck_assert(!p.c->sentinel_tls12);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_fallback_scsv_refused_when_tls13_enabled)
{
    t12_options opts = {.fallback_scsv = true};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_INAPPROPRIATE_FALLBACK,
                  TLS_ALERT_INAPPROPRIATE_FALLBACK);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_fallback_scsv_with_supported_versions_tls12_refused)
{
    t12_options opts = {.fallback_scsv = true, .versions = only12, .n_versions = 1};
    pair p;
    pair_kt(&p, KT_RSA, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_INAPPROPRIATE_FALLBACK,
                  TLS_ALERT_INAPPROPRIATE_FALLBACK);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_fallback_scsv_accepted_on_tls12_only_server)
{
    tls_server_config_params params = params_for(KT_P256);
    t12_options opts = {.fallback_scsv = true};
    pair p;
    params.versions = only12;
    params.n_versions = 1;
    pair_init(&p, &params, &opts);
    handshake(&p, 0);
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_legacy_tls10_tls11_refused)
{
    static const uint16_t legacy[] = {TLS_VERSION_1_0, TLS_VERSION_1_1};
    for (size_t i = 0; i < COUNT(legacy); i++) {
        for (int no_exts = 0; no_exts < 2; no_exts++) {
            t12_options opts = {.legacy_version = legacy[i], .no_extensions = no_exts};
            pair p;
            pair_kt(&p, KT_P256, &opts);
            assert_failed(&p, run_hello(&p), TLS_ERR_PROTOCOL_VERSION,
                          TLS_ALERT_PROTOCOL_VERSION);
            pair_free(&p);
        }
    }
}
END_TEST

/* RFC 7507 §3: a TLS 1.1 fallback retry to a server whose best is 1.2 is inappropriate,
 * and says so rather than protocol_version. */
START_TEST(test_conn12_fallback_scsv_from_tls11_on_tls12_only_server)
{
    tls_server_config_params params = params_for(KT_P256);
    t12_options opts = {.fallback_scsv = true, .legacy_version = TLS_VERSION_1_1};
    pair p;
    params.versions = only12;
    params.n_versions = 1;
    pair_init(&p, &params, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_INAPPROPRIATE_FALLBACK,
                  TLS_ALERT_INAPPROPRIATE_FALLBACK);
    pair_free(&p);
}
END_TEST

/* TLS 1.2 enabled but no TLS 1.2 suite configured: a 1.2-only client is refused by version. */
START_TEST(test_conn12_no_tls12_suites_configured)
{
    static const uint16_t suites13[] = {TLS_AES_128_GCM_SHA256};
    tls_server_config_params params = params_for(KT_P256);
    pair p;
    params.cipher_suites = suites13;
    params.n_cipher_suites = 1;
    pair_init(&p, &params, NULL);
    assert_failed(&p, run_hello(&p), TLS_ERR_PROTOCOL_VERSION, TLS_ALERT_PROTOCOL_VERSION);
    pair_free(&p);
}
END_TEST

/* ---- compression, renegotiation_info, ec_point_formats ---- */

START_TEST(test_conn12_compression_deflate_only_refused)
{
    static const uint8_t deflate[] = {1};
    t12_options opts = {.compression = deflate, .n_compression = 1};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NULL_COMPRESSION_REQUIRED,
                  tls_error_alert(TLS_ERR_NULL_COMPRESSION_REQUIRED));
    pair_free(&p);
}
END_TEST

/* TLS 1.2 (unlike 1.3) may list other methods beside null; null is chosen. */
START_TEST(test_conn12_compression_deflate_and_null_accepted)
{
    static const uint8_t both[] = {1, 0};
    t12_options opts = {.compression = both, .n_compression = 2};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    handshake(&p, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_nonempty_renegotiation_info_refused)
{
    t12_options opts = {.reneg = T12_RI_NONEMPTY};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_BAD_RENEGOTIATION_INFO, TLS_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
}
END_TEST

/* RFC 5746 §3.6: SCSV or an empty extension → an empty renegotiation_info back. */
START_TEST(test_conn12_renegotiation_signal_acked)
{
    static const t12_reneg_mode modes[] = {T12_RI_EXT, T12_RI_SCSV};
    for (size_t i = 0; i < COUNT(modes); i++) {
        t12_options opts = {.reneg = modes[i]};
        pair p;
        pair_kt(&p, KT_P256, &opts);
        handshake(&p, 0);
        ck_assert(p.c->reneg_info);
        ck_assert_uint_eq(p.c->reneg_info_len, 0);
        pair_free(&p);
    }
}
END_TEST

START_TEST(test_conn12_no_renegotiation_signal_no_ext)
{
    t12_options opts = {.reneg = T12_RI_NONE};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    handshake(&p, 0);
    ck_assert(!p.c->reneg_info);
    ck_assert(!sh_has_ext(p.c, TLS_EXT_RENEGOTIATION_INFO));
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_point_formats_compressed_only_refused)
{
    t12_options opts = {.point_formats = T12_EPF_COMPRESSED_ONLY};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_UNCOMPRESSED_POINTS_REQUIRED,
                  TLS_ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_point_formats_echoed_or_absent)
{
    t12_options with = {.point_formats = T12_EPF_UNCOMPRESSED};
    t12_options without = {.point_formats = T12_EPF_OMIT};
    pair p;
    pair_kt(&p, KT_P256, &with);
    handshake(&p, 0);
    ck_assert(p.c->point_formats_seen);
    ck_assert(p.c->point_formats_uncompressed);
    pair_free(&p);
    pair_kt(&p, KT_P256, &without);
    handshake(&p, 0);
    ck_assert(!p.c->point_formats_seen);
    ck_assert(!sh_has_ext(p.c, TLS_EXT_EC_POINT_FORMATS));
    pair_free(&p);
}
END_TEST

/* ---- ALPN, SNI ---- */

START_TEST(test_conn12_alpn_server_preference)
{
    static const char *const server[] = {"h2", "http/1.1"};
    static const char *const client[] = {"http/1.1", "h2"};
    tls_server_config_params params = params_for(KT_P256);
    t12_options opts = {.alpn = client, .n_alpn = 2};
    size_t len;
    pair p;
    params.alpn = server;
    params.n_alpn = 2;
    pair_init(&p, &params, &opts);
    handshake(&p, 0);
    const uint8_t *proto = tls_conn_alpn(p.s, &len);
    ck_assert_uint_eq(len, 2);
    ck_assert(memcmp(proto, "h2", 2) == 0);
    ck_assert_str_eq(p.c->alpn, "h2");
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_alpn_no_overlap)
{
    static const char *const server[] = {"h2"};
    static const char *const client[] = {"spdy/3", "http/1.0"};
    tls_server_config_params params = params_for(KT_P256);
    t12_options opts = {.alpn = client, .n_alpn = 2};
    pair p;
    params.alpn = server;
    params.n_alpn = 1;
    pair_init(&p, &params, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_APPLICATION_PROTOCOL,
                  TLS_ALERT_NO_APPLICATION_PROTOCOL);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_alpn_not_configured_ignored)
{
    static const char *const client[] = {"h2"};
    t12_options opts = {.alpn = client, .n_alpn = 1};
    size_t len = 9;
    pair p;
    pair_kt(&p, KT_P256, &opts);
    handshake(&p, 0);
    ck_assert_ptr_null(tls_conn_alpn(p.s, &len));
    ck_assert(!sh_has_ext(p.c, TLS_EXT_ALPN));
    pair_free(&p);
}
END_TEST

static void pair_sni(pair *p, const t12_options *opts, bool strict)
{
    static tls_certified_key *certs[2];
    tls_server_config_params params = params_for(KT_P256);
    certs[0] = end_ck[KT_P256];
    certs[1] = other_ck[KT_P256];
    params.certs = certs;
    params.n_certs = 2;
    params.sni_strict = strict;
    pair_init(p, &params, opts);
}

START_TEST(test_conn12_sni_acked_and_selects_cert)
{
    t12_options opts = {.sni = "other.test"};
    pair p;
    pair_sni(&p, &opts, true);
    handshake(&p, 0);
    ck_assert(p.c->sni_acked);
    assert_end_entity(p.c, other_ck[KT_P256]);
    ck_assert_str_eq(tls_conn_server_name(p.s), "other.test");
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_sni_absent_not_acked)
{
    pair p;
    pair_sni(&p, NULL, false);
    handshake(&p, 0);
    ck_assert(!p.c->sni_acked);
    assert_end_entity(p.c, end_ck[KT_P256]);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_sni_strict_unknown_name)
{
    t12_options opts = {.sni = "unknown.example"};
    pair p;
    pair_sni(&p, &opts, true);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_CERTIFICATE_FOR_NAME, TLS_ALERT_UNRECOGNIZED_NAME);
    ck_assert_str_eq(tls_conn_server_name(p.s), "unknown.example");
    pair_free(&p);
}
END_TEST

/* ---- the client's second flight, misbehaving ------------------------------------------------- */

START_TEST(test_conn12_finished_before_ccs)
{
    t12_options opts = {.flight = T12_FLIGHT_FINISHED_BEFORE_CCS};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_ccs_before_client_key_exchange)
{
    t12_options opts = {.flight = T12_FLIGHT_CCS_BEFORE_CKE};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

/* A second CCS, under the new keys as a real stack would send it. */
START_TEST(test_conn12_second_ccs)
{
    t12_options opts = {.flight = T12_FLIGHT_CCS_TWICE};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

/* A second CCS in plaintext after the first switched keys: not a record of the new epoch. */
START_TEST(test_conn12_second_ccs_plaintext)
{
    static const uint8_t one = 1;
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake_until_server_done(&p);
    t12_send_client_key_exchange(p.c);
    t12_send_ccs(p.c);
    t12_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_DECRYPT, TLS_ALERT_BAD_RECORD_MAC);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_ccs_after_handshake)
{
    static const uint8_t one = 1;
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    t12_inject_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    assert_failed_enc(&p, t12_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                      TLS_ALERT_UNEXPECTED_MESSAGE, true);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_ccs_value_2)
{
    static const uint8_t two = 2;
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake_until_server_done(&p);
    t12_send_client_key_exchange(p.c);
    t12_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &two, 1);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_INVALID_CCS, TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

/* §5.1-style rule: a CCS may not split a handshake message. */
START_TEST(test_conn12_ccs_inside_fragmented_client_key_exchange)
{
    static const uint8_t partial[] = {16, 0, 0, 33, 32, 1, 2, 3};
    static const uint8_t one = 1;
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake_until_server_done(&p);
    t12_inject_plain_record(p.c, TLS_CT_HANDSHAKE, partial, sizeof partial);
    t12_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_client_key_exchange_twice)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake_until_server_done(&p);
    t12_send_client_key_exchange(p.c);
    t12_send_client_key_exchange(p.c);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_finished_instead_of_client_key_exchange)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake_until_server_done(&p);
    t12_send_finished(p.c);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_bad_client_finished)
{
    t12_options opts = {.corrupt_finished = true};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_BAD_FINISHED, TLS_ALERT_DECRYPT_ERROR);
    ck_assert(tls_conn_is_handshaking(p.s));
    ck_assert_uint_eq(p.c->server_ccs, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_client_finished_wrong_length)
{
    static const uint8_t fin[] = {TLS_HS_FINISHED, 0, 0, 13, 1, 2, 3, 4, 5, 6,
                                  7,               8, 9, 10, 11, 12, 13};
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake_until_server_done(&p);
    t12_send_client_key_exchange(p.c);
    t12_send_ccs(p.c);
    t12_inject_record(p.c, TLS_CT_HANDSHAKE, fin, sizeof fin);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR);
    pair_free(&p);
}
END_TEST

/* Application data under the new keys, before the client's Finished. */
START_TEST(test_conn12_application_data_before_finished)
{
    static const char data[] = "too early";
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake_until_server_done(&p);
    t12_send_client_key_exchange(p.c);
    t12_send_ccs(p.c);
    t12_write(p.c, (const uint8_t *)data, sizeof data);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_plaintext_application_data_before_ccs)
{
    static const char data[] = "plaintext";
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake_until_server_done(&p);
    t12_inject_plain_record(p.c, TLS_CT_APPLICATION_DATA, data, sizeof data);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

/* ---- ClientKeyExchange points ---- */

static void cke_refused(int kt, uint16_t group, const uint8_t *body, size_t len, tls_error want,
                        int alert)
{
    tls_server_config_params params = params_for(kt);
    t12_options opts = {.cke_body = body, .cke_body_len = len};
    pair p;
    params.groups = &group;
    params.n_groups = 1;
    pair_init(&p, &params, &opts);
    assert_failed(&p, run_hello(&p), want, alert);
    ck_assert_uint_eq(tls_conn_group(p.s), group);
    pair_free(&p);
}

/* A fresh public share of `group` in ClientKeyExchange form (length byte first). */
static size_t cke_point(uint16_t group, uint8_t *out)
{
    tls_kx *kx = NULL;
    size_t len = 0;
    ck_assert_int_eq(tls__kx_new(group, &kx), TLS_OK);
    ck_assert_int_eq(tls__kx_public(kx, out + 1, TLS_MAX_KX_PUBLIC_LEN, &len), TLS_OK);
    tls__kx_free(kx);
    out[0] = (uint8_t)len;
    return len + 1;
}

START_TEST(test_conn12_cke_x25519_wrong_length)
{
    uint8_t body[1 + TLS_MAX_KX_PUBLIC_LEN];
    size_t n = cke_point(TLS_GROUP_X25519, body);
    body[0] = (uint8_t)(n - 2); /* 31 bytes */
    cke_refused(KT_P256, TLS_GROUP_X25519, body, n - 1, TLS_ERR_INVALID_KEY_SHARE,
                TLS_ALERT_ILLEGAL_PARAMETER);
    /* 33 bytes */
    n = cke_point(TLS_GROUP_X25519, body);
    body[0] = (uint8_t)n;
    body[n] = 0x42;
    cke_refused(KT_P256, TLS_GROUP_X25519, body, n + 1, TLS_ERR_INVALID_KEY_SHARE,
                TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_conn12_cke_x25519_all_zero)
{
    uint8_t body[33] = {32};
    cke_refused(KT_RSA, TLS_GROUP_X25519, body, sizeof body, TLS_ERR_INVALID_KEY_SHARE,
                TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_conn12_cke_p256_not_on_curve)
{
    uint8_t body[1 + TLS_MAX_KX_PUBLIC_LEN];
    size_t n = cke_point(TLS_GROUP_SECP256R1, body);
    ck_assert_uint_eq(n, 66);
    body[n - 1] ^= 0x01; /* y changed: off the curve */
    cke_refused(KT_P256, TLS_GROUP_SECP256R1, body, n, TLS_ERR_INVALID_KEY_SHARE,
                TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_conn12_cke_p384_not_on_curve)
{
    uint8_t body[1 + TLS_MAX_KX_PUBLIC_LEN];
    size_t n = cke_point(TLS_GROUP_SECP384R1, body);
    ck_assert_uint_eq(n, 98);
    body[40] ^= 0x04; /* x changed */
    cke_refused(KT_RSA, TLS_GROUP_SECP384R1, body, n, TLS_ERR_INVALID_KEY_SHARE,
                TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_conn12_cke_p256_wrong_length_or_form)
{
    uint8_t body[1 + TLS_MAX_KX_PUBLIC_LEN];
    /* Compressed form: 0x02/0x03 || x, 33 bytes. */
    size_t n = cke_point(TLS_GROUP_SECP256R1, body);
    ck_assert_uint_eq(n, 66);
    body[0] = 33;
    body[1] = 0x02 | (body[65] & 1);
    cke_refused(KT_P256, TLS_GROUP_SECP256R1, body, 34, TLS_ERR_INVALID_KEY_SHARE,
                TLS_ALERT_ILLEGAL_PARAMETER);
    /* The right length with a compressed-form first byte. */
    n = cke_point(TLS_GROUP_SECP256R1, body);
    body[1] = 0x02;
    cke_refused(KT_P256, TLS_GROUP_SECP256R1, body, n, TLS_ERR_INVALID_KEY_SHARE,
                TLS_ALERT_ILLEGAL_PARAMETER);
    /* An X25519-sized share on P-256. */
    n = cke_point(TLS_GROUP_X25519, body);
    cke_refused(KT_P256, TLS_GROUP_SECP256R1, body, n, TLS_ERR_INVALID_KEY_SHARE,
                TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_conn12_cke_trailing_bytes)
{
    t12_options opts = {.cke_trailing = 1};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_cke_malformed_vectors)
{
    static const uint8_t empty_point[] = {0};
    static const uint8_t truncated[] = {32, 1, 2, 3};
    static const uint8_t nothing[] = {0};
    cke_refused(KT_P256, TLS_GROUP_X25519, empty_point, sizeof empty_point, TLS_ERR_DECODE,
                TLS_ALERT_DECODE_ERROR);
    cke_refused(KT_P256, TLS_GROUP_X25519, truncated, sizeof truncated, TLS_ERR_DECODE,
                TLS_ALERT_DECODE_ERROR);
    cke_refused(KT_P256, TLS_GROUP_X25519, nothing, 0, TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR);
}
END_TEST

/* ---- after the handshake ---- */

/* RFC 5746 §4.4 / RFC 5246 §7.2.2: renegotiation is refused with a warning, protected, and
 * the connection carries on both ways. Asking again is abuse: the second attempt is fatal
 * (TLS_ERR_RENEGOTIATION_REPEATED, unexpected_message). */
START_TEST(test_conn12_renegotiation_refused_with_warning)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    exchange(&p, 100, 0);
    t12_send_renegotiation_hello(p.c);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert_uint_eq(p.c->n_alerts, 1);
    ck_assert_uint_eq(p.c->alerts[0].level, 1);
    ck_assert_uint_eq(p.c->alerts[0].desc, TLS_ALERT_NO_RENEGOTIATION);
    ck_assert(p.c->alerts[0].encrypted);
    ck_assert_int_eq(tls_conn_error(p.s), TLS_OK);
    ck_assert(!tls_conn_is_handshaking(p.s));
    exchange(&p, 5000, 0);

    t12_send_renegotiation_hello(p.c);
    tls_error err = t12_pump(p.c, p.s, 0);
    ck_assert_msg(err == TLS_ERR_RENEGOTIATION_REPEATED, "second attempt: %s",
                  tls_error_name(err));
    ck_assert_int_eq(tls_conn_error(p.s), TLS_ERR_RENEGOTIATION_REPEATED);
    ck_assert_uint_eq(p.c->n_alerts, 2);
    ck_assert_uint_eq(p.c->alerts[1].level, 2);
    ck_assert_uint_eq(p.c->alerts[1].desc, TLS_ALERT_UNEXPECTED_MESSAGE);
    ck_assert(p.c->alerts[1].encrypted);
    pair_free(&p);
}
END_TEST

/* RFC 5246 §7.2: in TLS 1.2 a fatal alert is fatal whatever it says, close_notify too. */
START_TEST(test_conn12_fatal_close_notify_is_fatal)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    t12_send_alert(p.c, 2, TLS_ALERT_CLOSE_NOTIFY);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_ALERT_RECEIVED, TLS_ALERT_NONE);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_CLOSE_NOTIFY);
    pair_free(&p);
}
END_TEST

/* close_notify asked for while early plaintext waits for the handshake: the plaintext
 * goes first, then the alert, both after the server's Finished. */
START_TEST(test_conn12_close_notify_during_handshake_waits_for_data)
{
    static const char early[] = "written before the handshake";
    uint8_t b[64];
    size_t n;
    pair p;
    pair_kt(&p, KT_RSA, NULL);
    ck_assert_int_eq(tls_conn_write(p.s, (const uint8_t *)early, sizeof early, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof early);
    tls_conn_send_close_notify(p.s);
    ck_assert_int_eq(tls_conn_write(p.s, (const uint8_t *)early, 1, &n), TLS_ERR_CLOSED);
    t12_start(p.c);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert_int_eq(p.c->state, T12_STATE_CONNECTED);
    ck_assert_uint_eq(p.c->app_before_connected, 0);
    ck_assert_uint_eq(t12_read(p.c, b, sizeof b), sizeof early);
    ck_assert(memcmp(b, early, sizeof early) == 0);
    ck_assert(p.c->close_notify);
    ck_assert_uint_eq(p.c->n_alerts, 1);
    ck_assert(p.c->alerts[0].encrypted);
    ck_assert_int_eq(tls_conn_error(p.s), TLS_OK);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_key_update_message_refused)
{
    static const uint8_t ku[] = {TLS_HS_KEY_UPDATE, 0, 0, 1, 0};
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    t12_inject_record(p.c, TLS_CT_HANDSHAKE, ku, sizeof ku);
    assert_failed_enc(&p, t12_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE,
                      TLS_ALERT_UNEXPECTED_MESSAGE, true);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_corrupted_application_record)
{
    static const char data[] = "tampered";
    uint8_t b[16];
    size_t n = 1;
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    t12_write(p.c, (const uint8_t *)data, sizeof data);
    t12_flip_out_bit(p.c, 1, 0x80); /* last tag byte */
    assert_failed_enc(&p, t12_pump(p.c, p.s, 0), TLS_ERR_DECRYPT, TLS_ALERT_BAD_RECORD_MAC, true);
    ck_assert_int_eq(tls_conn_read(p.s, b, sizeof b, &n), TLS_ERR_DECRYPT);
    ck_assert_uint_eq(n, 0);
    pair_free(&p);
}
END_TEST

/* The additional data covers the record's type and version (RFC 5246 §6.2.3.3). */
START_TEST(test_conn12_record_header_tampered)
{
    static const char data[] = "header";
    static const struct {
        size_t offset;
        uint8_t mask;
    } flips[] = {{0, 0x01} /* 23 → 22 */, {2, 0x01} /* 0x0303 → 0x0302 */};
    for (size_t i = 0; i < COUNT(flips); i++) {
        size_t len;
        pair p;
        pair_kt(&p, KT_P256, NULL);
        handshake(&p, 0);
        t12_write(p.c, (const uint8_t *)data, sizeof data);
        t12_out(p.c, &len);
        t12_flip_out_bit(p.c, len - flips[i].offset, flips[i].mask);
        assert_failed_enc(&p, t12_pump(p.c, p.s, 0), TLS_ERR_DECRYPT, TLS_ALERT_BAD_RECORD_MAC,
                          true);
        pair_free(&p);
    }
}
END_TEST

/* After the client's CCS everything must be protected: a plaintext close_notify is a
 * forgery (a truncation attack). */
START_TEST(test_conn12_plaintext_alert_after_handshake)
{
    static const uint8_t close_notify[] = {1, 0};
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    t12_inject_plain_record(p.c, TLS_CT_ALERT, close_notify, sizeof close_notify);
    assert_failed_enc(&p, t12_pump(p.c, p.s, 0), TLS_ERR_DECRYPT, TLS_ALERT_BAD_RECORD_MAC, true);
    ck_assert(!tls_conn_peer_closed(p.s));
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_client_warning_alert_tolerated)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    t12_send_alert(p.c, 1, TLS_ALERT_NO_RENEGOTIATION);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    ck_assert_int_eq(tls_conn_error(p.s), TLS_OK);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_NONE);
    ck_assert_uint_eq(p.c->n_alerts, 0);
    exchange(&p, 1000, 0);
    pair_free(&p);
}
END_TEST

/* A warning in the middle of the handshake (plaintext, before our CCS) is tolerated too. */
START_TEST(test_conn12_client_warning_alert_during_handshake_tolerated)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake_until_server_done(&p);
    t12_send_alert(p.c, 1, TLS_ALERT_UNRECOGNIZED_NAME);
    t12_send_client_key_exchange(p.c);
    t12_send_ccs(p.c);
    t12_send_finished(p.c);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert_int_eq(p.c->state, T12_STATE_CONNECTED);
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_client_fatal_alert)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    t12_send_alert(p.c, 2, TLS_ALERT_INTERNAL_ERROR);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_ALERT_RECEIVED, TLS_ALERT_NONE);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_INTERNAL_ERROR);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_client_fatal_alert_during_handshake)
{
    pair p;
    pair_kt(&p, KT_RSA, NULL);
    handshake_until_server_done(&p);
    t12_send_alert(p.c, 2, TLS_ALERT_BAD_CERTIFICATE);
    assert_failed(&p, t12_pump(p.c, p.s, 0), TLS_ERR_ALERT_RECEIVED, TLS_ALERT_NONE);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_BAD_CERTIFICATE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_error_latches)
{
    uint8_t b[8];
    size_t n = 1;
    t12_options opts = {.corrupt_finished = true};
    pair p;
    pair_kt(&p, KT_P256, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_BAD_FINISHED, TLS_ALERT_DECRYPT_ERROR);
    ck_assert_int_eq(tls_conn_process(p.s), TLS_ERR_BAD_FINISHED);
    ck_assert_int_eq(tls_conn_read_tls(p.s, b, 1, &n), TLS_ERR_BAD_FINISHED);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(tls_conn_write(p.s, b, 1, &n), TLS_ERR_BAD_FINISHED);
    ck_assert_int_eq(tls_conn_read(p.s, b, 1, &n), TLS_ERR_BAD_FINISHED);
    pair_free(&p);
}
END_TEST

/* Application data right behind the client's Finished, in the same flight. */
START_TEST(test_conn12_client_data_in_finished_flight)
{
    static const char data[] = "right behind Finished";
    uint8_t b[64];
    size_t n = 0;
    pair p;
    pair_kt(&p, KT_RSA, NULL);
    handshake_until_server_done(&p);
    t12_send_client_key_exchange(p.c);
    t12_send_ccs(p.c);
    t12_send_finished(p.c);
    t12_write(p.c, (const uint8_t *)data, sizeof data);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert_int_eq(p.c->state, T12_STATE_CONNECTED);
    server_drain(p.s, b, sizeof b, &n);
    ck_assert_uint_eq(n, sizeof data);
    ck_assert(memcmp(b, data, sizeof data) == 0);
    pair_free(&p);
}
END_TEST

/* A 1.3-capable client meets a 1.2-only server: 1.2, and rightly no sentinel. */
START_TEST(test_conn12_tls13_capable_client_on_tls12_only_server)
{
    static const uint16_t versions[] = {TLS_VERSION_1_3, TLS_VERSION_1_2};
    tls_server_config_params params = params_for(KT_P256);
    t12_options opts = {.versions = versions, .n_versions = 2};
    pair p;
    params.versions = only12;
    params.n_versions = 1;
    pair_init(&p, &params, &opts);
    handshake(&p, 0);
    ck_assert(!p.c->sentinel_tls12);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn12_protected_alert_of_three_bytes)
{
    static const uint8_t alert[] = {1, 0, 0};
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake(&p, 0);
    t12_inject_record(p.c, TLS_CT_ALERT, alert, sizeof alert);
    assert_failed_enc(&p, t12_pump(p.c, p.s, 0), TLS_ERR_INVALID_ALERT, TLS_ALERT_DECODE_ERROR,
                      true);
    pair_free(&p);
}
END_TEST

/*
 * RFC 5246 §7.2.1 / RFC 8446 §6.1: nothing follows our close_notify. Closed in the middle
 * of the handshake (nothing written yet), the server still takes the client's Finished but
 * must not answer it — no ChangeCipherSpec, no Finished, no records at all.
 */
START_TEST(test_conn12_nothing_after_close_notify_during_handshake)
{
    pair p;
    pair_kt(&p, KT_P256, NULL);
    handshake_until_server_done(&p);
    tls_conn_send_close_notify(p.s);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    ck_assert(p.c->close_notify);
    ck_assert(!p.c->alerts[0].encrypted);
    unsigned records = p.c->records;
    t12_send_client_key_exchange(p.c);
    t12_send_ccs(p.c);
    t12_send_finished(p.c);
    assert_server_ok(t12_pump(p.c, p.s, 0));
    ck_assert_msg(p.c->records == records, "%u record(s) after close_notify, %u of them CCS",
                  p.c->records - records, p.c->server_ccs);
    ck_assert_uint_eq(p.c->server_ccs, 0);
    pair_free(&p);
}
END_TEST

/* ---- suite ---------------------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("conn12");
    TCase *tc;

#define ADD(test) tcase_add_test(tc, test)
    tc = tcase_create("handshake");
    tcase_add_unchecked_fixture(tc, load_certs, free_certs);
    tcase_set_timeout(tc, 60);
    ADD(test_conn12_handshake_rsa_all_suites_groups);
    ADD(test_conn12_handshake_p256_all_suites_groups);
    ADD(test_conn12_handshake_p384_all_suites_groups);
    ADD(test_conn12_data_100k_each_way);
    ADD(test_conn12_input_one_byte_at_a_time);
    ADD(test_conn12_client_handshake_in_tiny_records);
    ADD(test_conn12_server_write_before_handshake_delivered_after);
    ADD(test_conn12_explicit_nonce_is_sequence_number);
    ADD(test_conn12_chacha_records_have_no_explicit_nonce);
    ADD(test_conn12_max_fragment_size_512);
    ADD(test_conn12_client_close_notify);
    ADD(test_conn12_server_close_notify);
    ADD(test_conn12_key_update_api_refused);
    ADD(test_conn12_write_limit_closes_cleanly);
    ADD(test_conn12_close_notify_during_handshake_waits_for_data);
    ADD(test_conn12_nothing_after_close_notify_during_handshake);
    suite_add_tcase(s, tc);

    tc = tcase_create("negotiation");
    tcase_add_unchecked_fixture(tc, load_certs, free_certs);
    tcase_set_timeout(tc, 30);
    ADD(test_conn12_rsa_pss_chosen_when_offered);
    ADD(test_conn12_rsa_pkcs1_when_only_pkcs1_offered);
    ADD(test_conn12_rsa_no_signature_algorithms);
    ADD(test_conn12_sha1_only_signature_algorithms);
    ADD(test_conn12_hello_without_extensions);
    ADD(test_conn12_ecdsa_p256_client_without_secp256r1);
    ADD(test_conn12_ecdsa_p384_client_without_secp384r1);
    ADD(test_conn12_ecdsa_without_supported_groups);
    ADD(test_conn12_rsa_key_client_offers_ecdsa_suites_only);
    ADD(test_conn12_no_common_group);
    ADD(test_conn12_server_preference);
    ADD(test_conn12_client_offering_tls13_suites_too);
    ADD(test_conn12_server_hello_shape);
    ADD(test_conn12_ems_used_when_offered);
    ADD(test_conn12_ems_not_used_when_not_offered);
    ADD(test_conn12_require_ems_refuses_client_without_it);
    ADD(test_conn12_require_ems_accepts_client_with_it);
    ADD(test_conn12_sentinel_when_tls13_enabled);
    ADD(test_conn12_sentinel_with_supported_versions_tls12);
    ADD(test_conn12_no_sentinel_when_tls12_only);
    ADD(test_conn12_no_sentinel_without_tls13_suites);
    ADD(test_conn12_fallback_scsv_refused_when_tls13_enabled);
    ADD(test_conn12_fallback_scsv_with_supported_versions_tls12_refused);
    ADD(test_conn12_fallback_scsv_accepted_on_tls12_only_server);
    ADD(test_conn12_tls13_capable_client_on_tls12_only_server);
    ADD(test_conn12_fallback_scsv_from_tls11_on_tls12_only_server);
    ADD(test_conn12_no_tls12_suites_configured);
    ADD(test_conn12_legacy_tls10_tls11_refused);
    ADD(test_conn12_compression_deflate_only_refused);
    ADD(test_conn12_compression_deflate_and_null_accepted);
    ADD(test_conn12_nonempty_renegotiation_info_refused);
    ADD(test_conn12_renegotiation_signal_acked);
    ADD(test_conn12_no_renegotiation_signal_no_ext);
    ADD(test_conn12_point_formats_compressed_only_refused);
    ADD(test_conn12_point_formats_echoed_or_absent);
    ADD(test_conn12_alpn_server_preference);
    ADD(test_conn12_alpn_no_overlap);
    ADD(test_conn12_alpn_not_configured_ignored);
    ADD(test_conn12_sni_acked_and_selects_cert);
    ADD(test_conn12_sni_absent_not_acked);
    ADD(test_conn12_sni_strict_unknown_name);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_unchecked_fixture(tc, load_certs, free_certs);
    tcase_set_timeout(tc, 30);
    ADD(test_conn12_finished_before_ccs);
    ADD(test_conn12_ccs_before_client_key_exchange);
    ADD(test_conn12_second_ccs);
    ADD(test_conn12_second_ccs_plaintext);
    ADD(test_conn12_ccs_after_handshake);
    ADD(test_conn12_ccs_value_2);
    ADD(test_conn12_ccs_inside_fragmented_client_key_exchange);
    ADD(test_conn12_client_key_exchange_twice);
    ADD(test_conn12_finished_instead_of_client_key_exchange);
    ADD(test_conn12_bad_client_finished);
    ADD(test_conn12_client_finished_wrong_length);
    ADD(test_conn12_application_data_before_finished);
    ADD(test_conn12_plaintext_application_data_before_ccs);
    ADD(test_conn12_cke_x25519_wrong_length);
    ADD(test_conn12_cke_x25519_all_zero);
    ADD(test_conn12_cke_p256_not_on_curve);
    ADD(test_conn12_cke_p384_not_on_curve);
    ADD(test_conn12_cke_p256_wrong_length_or_form);
    ADD(test_conn12_cke_trailing_bytes);
    ADD(test_conn12_cke_malformed_vectors);
    ADD(test_conn12_renegotiation_refused_with_warning);
    ADD(test_conn12_fatal_close_notify_is_fatal);
    ADD(test_conn12_key_update_message_refused);
    ADD(test_conn12_corrupted_application_record);
    ADD(test_conn12_record_header_tampered);
    ADD(test_conn12_plaintext_alert_after_handshake);
    ADD(test_conn12_client_warning_alert_tolerated);
    ADD(test_conn12_client_warning_alert_during_handshake_tolerated);
    ADD(test_conn12_client_fatal_alert);
    ADD(test_conn12_client_fatal_alert_during_handshake);
    ADD(test_conn12_error_latches);
    ADD(test_conn12_client_data_in_finished_flight);
    ADD(test_conn12_protected_alert_of_three_bytes);
    suite_add_tcase(s, tc);
#undef ADD
    return s;
}

TEST_MAIN(make_suite)
