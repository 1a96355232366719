/*
 * test_conn.c — the TLS 1.3 server engine end to end through its public pipe API
 * (tls/conn.c, tls/hs/tls13_server.c and everything under them), driven by the scripted
 * in-memory client in tests/lib/testclient.c.
 *
 * Happy paths cover every key type × suite × group, fragmentation both ways, HRR,
 * negotiation preferences, SNI and ALPN. The adversarial set sends what a hostile or broken
 * client would and asserts both the exact tls_error the server latches and the alert it
 * put on the wire (decrypted by the client under whatever keys a real client would hold).
 *
 * Certified keys are loaded once, in the parent process (an unchecked fixture); each test
 * runs forked. tls_set_allocator is process-global and is deliberately not used here.
 */
#include "tests/lib/testclient.h"
#include "tests/lib/unit.h"
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

static const uint16_t all_suites[] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
                                      TLS_CHACHA20_POLY1305_SHA256};
static const uint16_t all_groups[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1, TLS_GROUP_SECP384R1};

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
    tc_client *c;
} pair;

static tls_server_config_params params_for(int kt)
{
    tls_server_config_params p;
    memset(&p, 0, sizeof p);
    p.certs = &end_ck[kt];
    p.n_certs = 1;
    return p;
}

static void pair_init(pair *p, const tls_server_config_params *params, const tc_options *opts)
{
    char err[256] = "";
    tls_error e = tls_server_config_new(params, &p->cfg, err, sizeof err);
    ck_assert_msg(e == TLS_OK, "config: %s (%s)", tls_error_name(e), err);
    ck_assert_int_eq(tls_server_conn_new(p->cfg, &p->s), TLS_OK);
    p->c = tc_client_new(opts);
}

/* A P-256 server with default settings and a client with `opts`. */
static void pair_default(pair *p, const tc_options *opts)
{
    tls_server_config_params params = params_for(KT_P256);
    pair_init(p, &params, opts);
}

static void pair_free(pair *p)
{
    tc_client_free(p->c);
    tls_conn_free(p->s);
    tls_server_config_unref(p->cfg);
    memset(p, 0, sizeof *p);
}

static void assert_client_ok(const tc_client *c)
{
    ck_assert_msg(!c->failed, "client: %s", c->error);
}

static void assert_server_ok(tls_error err)
{
    ck_assert_msg(err == TLS_OK, "server: %s", tls_error_name(err));
}

/* Runs the whole handshake; the client must end connected with nothing to complain of. */
static void handshake(pair *p, size_t feed)
{
    tc_start(p->c);
    assert_server_ok(tc_pump(p->c, p->s, feed));
    assert_client_ok(p->c);
    ck_assert_int_eq(p->c->state, TC_STATE_CONNECTED);
    ck_assert(!tls_conn_is_handshaking(p->s));
    ck_assert_int_eq(tls_conn_error(p->s), TLS_OK);
    ck_assert_uint_eq(p->c->n_alerts, 0);
}

/* Runs until the client holds its Finished (server flight verified). */
static void handshake_until_held(pair *p)
{
    p->c->opts.hold_finished = true;
    tc_start(p->c);
    assert_server_ok(tc_pump(p->c, p->s, 0));
    assert_client_ok(p->c);
    ck_assert_int_eq(p->c->state, TC_STATE_FINISHED_HELD);
    ck_assert(tls_conn_is_handshaking(p->s));
}

/* The server failed with `want` (returned by the pump and latched) and sent exactly one
 * alert, fatal, `alert` (or nothing for TLS_ALERT_NONE). */
static void assert_failed(pair *p, tls_error got, tls_error want, int alert)
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
    /* Nothing more comes once the alert is out. */
    uint8_t b[16];
    ck_assert_uint_eq(tls_conn_write_tls(p->s, b, sizeof b), 0);
}

/* Starts the client's handshake and runs it to the first server error. */
static tls_error run_hello(pair *p)
{
    tc_start(p->c);
    return tc_pump(p->c, p->s, 0);
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

/* Reads everything the server has decrypted into buf[*got..cap). */
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
    tc_write(p->c, want, len);
    for (int i = 0; i < 10000 && n < len; i++) {
        assert_server_ok(tc_pump(p->c, p->s, feed));
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
        assert_server_ok(tc_pump(p->c, p->s, feed));
        n += tc_read(p->c, got + n, len + 1 - n);
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

static void assert_end_entity(const tc_client *c, const tls_certified_key *ck)
{
    ck_assert_uint_eq(c->end_entity_len, ck->chain_len[0]);
    ck_assert(memcmp(c->end_entity, ck->chain[0], ck->chain_len[0]) == 0);
    ck_assert_uint_eq(c->n_certs, ck->n_chain);
}

/* ---- full handshakes ------------------------------------------------------------------------ */

static void run_matrix(int kt)
{
    for (size_t i = 0; i < COUNT(all_suites); i++) {
        for (size_t j = 0; j < COUNT(all_groups); j++) {
            tls_server_config_params params = params_for(kt);
            tc_options opts;
            pair p;

            params.cipher_suites = &all_suites[i];
            params.n_cipher_suites = 1;
            params.groups = &all_groups[j];
            params.n_groups = 1;
            memset(&opts, 0, sizeof opts);
            opts.share_groups = &all_groups[j];
            opts.n_share_groups = 1;
            pair_init(&p, &params, &opts);
            handshake(&p, 0);

            ck_assert_uint_eq(tls_conn_version(p.s), TLS_VERSION_1_3);
            ck_assert_uint_eq(tls_conn_cipher_suite(p.s), all_suites[i]);
            ck_assert_uint_eq(tls_conn_group(p.s), all_groups[j]);
            ck_assert_uint_eq(tls_conn_sig_scheme(p.s), kt_schemes[kt]);
            ck_assert_ptr_null(tls_conn_server_name(p.s));
            size_t alpn_len = 99;
            ck_assert_ptr_null(tls_conn_alpn(p.s, &alpn_len));
            ck_assert_uint_eq(alpn_len, 0);
            ck_assert(!tls_conn_did_hrr(p.s));

            ck_assert_uint_eq(p.c->suite, all_suites[i]);
            ck_assert_uint_eq(p.c->group, all_groups[j]);
            ck_assert_uint_eq(p.c->sig_scheme, kt_schemes[kt]);
            ck_assert(!p.c->did_hrr);
            ck_assert(!p.c->sni_acked);
            ck_assert_uint_eq(p.c->alpn_len, 0);
            ck_assert_uint_eq(p.c->server_ccs, 0);
            assert_end_entity(p.c, end_ck[kt]);

            exchange(&p, 1000 + i * 3 + j, 0);
            pair_free(&p);
        }
    }
}

START_TEST(test_conn_handshake_rsa_all_suites_groups)
{
    run_matrix(KT_RSA);
}
END_TEST

START_TEST(test_conn_handshake_p256_all_suites_groups)
{
    run_matrix(KT_P256);
}
END_TEST

START_TEST(test_conn_handshake_p384_all_suites_groups)
{
    run_matrix(KT_P384);
}
END_TEST

START_TEST(test_conn_data_100k_each_way)
{
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    unsigned before = p.c->records;
    exchange(&p, 100 * 1024, 0);
    /* 100 KiB down needs at least seven 16 KiB records. */
    ck_assert_uint_ge(p.c->records - before, 7);
    ck_assert_uint_le(p.c->max_record_plaintext, TLS_MAX_PLAINTEXT);
    pair_free(&p);
}
END_TEST

/* Zero-copy reading: peek shows what tls_conn_read would return, consume drops it in
 * any steps, and consuming lets held-back records through (backpressure). */
START_TEST(test_conn_peek_consume_plaintext)
{
    enum { LEN = 200 * 1024 };
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    uint8_t *want = malloc(LEN), *got = malloc(LEN);
    fill_pattern(want, LEN, 7);
    size_t len, n = 0;
    ck_assert_ptr_null(tls_conn_peek_plaintext(p.s, &len));
    ck_assert_uint_eq(len, 0);
    tc_write(p.c, want, LEN);
    for (int round = 0; round < 1000 && n < LEN; round++) {
        ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
        const uint8_t *view = tls_conn_peek_plaintext(p.s, &len);
        ck_assert(len == 0 || view != NULL);
        ck_assert_uint_le(len, 65536); /* the default max_buffered_plaintext */
        ck_assert_uint_le(n + len, LEN);
        /* Odd steps, and 0 (which only lets held-back records through). */
        size_t step = len > 3000 ? 3000 : len;
        memcpy(got + n, view, step);
        ck_assert_int_eq(tls_conn_consume_plaintext(p.s, step), TLS_OK);
        ck_assert_int_eq(tls_conn_consume_plaintext(p.s, 0), TLS_OK);
        n += step;
    }
    ck_assert_uint_eq(n, LEN);
    ck_assert(!memcmp(got, want, LEN));
    ck_assert_ptr_null(tls_conn_peek_plaintext(p.s, &len));
    /* Consuming more than there is drops what there is, no more. */
    tc_write(p.c, (const uint8_t *)"xyz", 3);
    ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
    ck_assert_ptr_nonnull(tls_conn_peek_plaintext(p.s, &len));
    ck_assert_uint_eq(len, 3);
    ck_assert_int_eq(tls_conn_consume_plaintext(p.s, 100), TLS_OK);
    ck_assert_ptr_null(tls_conn_peek_plaintext(p.s, &len));
    free(want);
    free(got);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_server_write_before_handshake_is_buffered)
{
    static const char early[] = "written before the ClientHello";
    static const char later[] = "written after the handshake";
    uint8_t buf[128];
    size_t n;
    pair p;

    pair_default(&p, NULL);
    ck_assert_int_eq(tls_conn_write(p.s, (const uint8_t *)early, sizeof early, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof early);
    ck_assert(!tls_conn_wants_write(p.s));
    handshake_until_held(&p);
    ck_assert_uint_eq(p.c->app.len, 0);
    ck_assert_int_eq(tls_conn_write(p.s, (const uint8_t *)later, 5, &n), TLS_OK);
    ck_assert_uint_eq(n, 5);

    ck_assert(tc_send_finished(p.c));
    assert_server_ok(tc_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert(!tls_conn_is_handshaking(p.s));
    ck_assert_uint_eq(p.c->app_before_finished, 0);
    ck_assert_int_eq(tls_conn_write(p.s, (const uint8_t *)later + 5, sizeof later - 5, &n), TLS_OK);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    ck_assert_uint_eq(tc_read(p.c, buf, sizeof buf), sizeof early + sizeof later);
    ck_assert(memcmp(buf, early, sizeof early) == 0);
    ck_assert(memcmp(buf + sizeof early, later, sizeof later) == 0);
    pair_free(&p);
}
END_TEST

/*
 * 64 KiB written before the handshake with 512-byte fragments: flushing it at the client's
 * Finished crosses the engine's 64 KiB output threshold part way through (each 512-byte
 * record costs 534 bytes), and every byte must still arrive, in order, before anything
 * written after the handshake.
 */
START_TEST(test_conn_server_write_before_handshake_small_fragments)
{
    tls_server_config_params params = params_for(KT_P256);
    size_t len = 64 * 1024, n = 0, got = 0;
    uint8_t *want = malloc(len + 100), *buf = malloc(len + 200);
    pair p;

    ck_assert(want && buf);
    params.max_fragment_size = 512;
    pair_init(&p, &params, NULL);
    fill_pattern(want, len + 100, 7);
    ck_assert_int_eq(tls_conn_write(p.s, want, len, &n), TLS_OK);
    ck_assert_uint_eq(n, len);
    handshake(&p, 0);
    for (int i = 0; i < 100; i++) {
        assert_server_ok(tc_pump(p.c, p.s, 0));
        got += tc_read(p.c, buf + got, len + 200 - got);
    }
    ck_assert_int_eq(tls_conn_write(p.s, want + len, 100, &n), TLS_OK);
    ck_assert_uint_eq(n, 100);
    for (int i = 0; i < 100; i++) {
        assert_server_ok(tc_pump(p.c, p.s, 0));
        got += tc_read(p.c, buf + got, len + 200 - got);
    }
    ck_assert_msg(got == len + 100, "client received %zu of %zu bytes", got, len + 100);
    ck_assert(memcmp(buf, want, len + 100) == 0);
    free(want);
    free(buf);
    pair_free(&p);
}
END_TEST

/* ---- framing -------------------------------------------------------------------------------- */

START_TEST(test_conn_input_one_byte_at_a_time)
{
    tls_server_config_params params = params_for(KT_RSA);
    pair p;
    pair_init(&p, &params, NULL);
    handshake(&p, 1);
    exchange(&p, 20000, 1);
    tc_send_key_update(p.c, true);
    assert_server_ok(tc_pump(p.c, p.s, 1));
    ck_assert_uint_eq(p.c->key_updates, 1);
    exchange(&p, 300, 1);
    pair_free(&p);
}
END_TEST

/* The client's whole second flight — CCS, Finished, data, KeyUpdate, more data,
 * close_notify — arrives in one read_tls and one process call. */
START_TEST(test_conn_client_flight_in_one_read)
{
    static const char d1[] = "first", d2[] = "second";
    uint8_t buf[64];
    size_t len, consumed = 0, n = 0;
    tc_options opts = {.send_ccs = true};
    pair p;

    pair_default(&p, &opts);
    handshake_until_held(&p);
    ck_assert(tc_send_finished(p.c));
    tc_write(p.c, (const uint8_t *)d1, sizeof d1);
    tc_send_key_update(p.c, false);
    tc_write(p.c, (const uint8_t *)d2, sizeof d2);
    tc_send_close_notify(p.c);
    ck_assert_uint_ge(p.c->records_sent, 6);
    const uint8_t *out = tc_out(p.c, &len);
    ck_assert_int_eq(tls_conn_read_tls(p.s, out, len, &consumed), TLS_OK);
    ck_assert_uint_eq(consumed, len);
    tc_out_consume(p.c, consumed);
    ck_assert_int_eq(tls_conn_process(p.s), TLS_OK);
    ck_assert(!tls_conn_is_handshaking(p.s));
    ck_assert(tls_conn_peer_closed(p.s));
    server_drain(p.s, buf, sizeof buf, &n);
    ck_assert_uint_eq(n, sizeof d1 + sizeof d2);
    ck_assert(memcmp(buf, d1, sizeof d1) == 0);
    ck_assert(memcmp(buf + sizeof d1, d2, sizeof d2) == 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_client_hello_in_three_records)
{
    tc_options opts = {.client_hello_records = 3};
    pair p;
    pair_default(&p, &opts);
    tc_start(p.c);
    ck_assert_uint_eq(p.c->records_sent, 3);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert_int_eq(p.c->state, TC_STATE_CONNECTED);
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

/* Tiny records for every client handshake message, fed one byte at a time. */
START_TEST(test_conn_client_handshake_in_tiny_records)
{
    tc_options opts = {.record_size = 7, .sni = "localhost"};
    pair p;
    pair_default(&p, &opts);
    tc_start(p.c);
    ck_assert_uint_gt(p.c->records_sent, 20);
    assert_server_ok(tc_pump(p.c, p.s, 1));
    assert_client_ok(p.c);
    ck_assert_int_eq(p.c->state, TC_STATE_CONNECTED);
    ck_assert(!tls_conn_is_handshaking(p.s));
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

/* The server's flight: EncryptedExtensions .. Finished share one record. */
START_TEST(test_conn_server_flight_several_messages_per_record)
{
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    ck_assert_uint_ge(p.c->max_msgs_per_record, 4);
    pair_free(&p);
}
END_TEST

/* RFC 8446 §5.1: a message that precedes a key change must end its record. Finished and
 * a KeyUpdate in one record is two messages per record where one changes keys. */
START_TEST(test_conn_finished_and_key_update_in_one_record)
{
    uint8_t msgs[4 + TLS_MAX_HASH_LEN + 5];
    pair p;
    pair_default(&p, NULL);
    handshake_until_held(&p);
    size_t n = p.c->ks.hash_len;
    msgs[0] = TLS_HS_FINISHED;
    msgs[1] = msgs[2] = 0;
    msgs[3] = (uint8_t)n;
    memcpy(msgs + 4, p.c->finished, n);
    memcpy(msgs + 4 + n, (const uint8_t[]){TLS_HS_KEY_UPDATE, 0, 0, 1, 0}, 5);
    tc_inject_record(p.c, TLS_CT_HANDSHAKE, msgs, 4 + n + 5, 0);
    tls_error err = tc_pump(p.c, p.s, 0);
    /* The server switched to application keys after its Finished, and so did the client. */
    assert_failed(&p, err, TLS_ERR_KEY_EPOCH_WITH_PENDING_FRAGMENT, TLS_ALERT_UNEXPECTED_MESSAGE);
    ck_assert_int_eq(p.c->alerts[0].epoch, TC_EPOCH_APPLICATION);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_two_key_updates_in_one_record)
{
    static const uint8_t two[10] = {TLS_HS_KEY_UPDATE, 0, 0, 1, 0, TLS_HS_KEY_UPDATE, 0, 0, 1, 0};
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tc_inject_record(p.c, TLS_CT_HANDSHAKE, two, sizeof two, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_KEY_EPOCH_WITH_PENDING_FRAGMENT,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

/* ---- HelloRetryRequest ---------------------------------------------------------------------- */

static const uint16_t x25519_p384[] = {TLS_GROUP_X25519, TLS_GROUP_SECP384R1};
static const uint16_t only_p384[] = {TLS_GROUP_SECP384R1};
static const uint16_t only_x25519[] = {TLS_GROUP_X25519};

static void pair_hrr(pair *p, tc_options *opts)
{
    tls_server_config_params params = params_for(KT_P256);
    params.groups = only_p384;
    params.n_groups = 1;
    opts->groups = x25519_p384;
    opts->n_groups = 2;
    opts->share_groups = only_x25519;
    opts->n_share_groups = 1;
    pair_init(p, &params, opts);
}

START_TEST(test_conn_hrr_completes)
{
    tc_options opts = {0};
    pair p;
    pair_hrr(&p, &opts);
    handshake(&p, 0);
    ck_assert(p.c->did_hrr);
    ck_assert_uint_eq(p.c->hrr_group, TLS_GROUP_SECP384R1);
    ck_assert_uint_gt(p.c->cookie_len, 0);
    ck_assert(tls_conn_did_hrr(p.s));
    ck_assert_uint_eq(tls_conn_group(p.s), TLS_GROUP_SECP384R1);
    ck_assert_uint_eq(p.c->group, TLS_GROUP_SECP384R1);
    ck_assert_uint_eq(p.c->server_ccs, 0);
    exchange(&p, 2000, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_hrr_without_cookie)
{
    tc_options opts = {.hrr_cookie = TC_COOKIE_OMIT};
    pair p;
    pair_hrr(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_BAD_COOKIE, TLS_ALERT_ILLEGAL_PARAMETER);
    ck_assert(p.c->did_hrr);
    ck_assert_int_eq(p.c->alerts[0].epoch, TC_EPOCH_PLAINTEXT);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_hrr_wrong_cookie)
{
    tc_options opts = {.hrr_cookie = TC_COOKIE_CORRUPT};
    pair p;
    pair_hrr(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_BAD_COOKIE, TLS_ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_hrr_share_for_wrong_group)
{
    tc_options opts = {.hrr_share_groups = only_x25519, .n_hrr_share_groups = 1};
    pair p;
    pair_hrr(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_HRR_UNACCEPTABLE, TLS_ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_hrr_two_shares)
{
    static const uint16_t both[] = {TLS_GROUP_SECP384R1, TLS_GROUP_X25519};
    tc_options opts = {.hrr_share_groups = both, .n_hrr_share_groups = 2};
    pair p;
    pair_hrr(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_HRR_UNACCEPTABLE, TLS_ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_no_common_group)
{
    tls_server_config_params params = params_for(KT_P256);
    tc_options opts = {.groups = only_x25519, .n_groups = 1};
    pair p;
    params.groups = only_p384;
    params.n_groups = 1;
    pair_init(&p, &params, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_KX_GROUPS_IN_COMMON, TLS_ALERT_HANDSHAKE_FAILURE);
    ck_assert(!p.c->did_hrr);
    pair_free(&p);
}
END_TEST

/* ---- negotiation ---------------------------------------------------------------------------- */

START_TEST(test_conn_suite_server_preference)
{
    static const uint16_t server[] = {TLS_AES_256_GCM_SHA384, TLS_AES_128_GCM_SHA256};
    static const uint16_t client[] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384};
    tls_server_config_params params = params_for(KT_P256);
    tc_options opts = {.suites = client, .n_suites = 2};
    pair p;
    params.cipher_suites = server;
    params.n_cipher_suites = 2;
    pair_init(&p, &params, &opts);
    handshake(&p, 0);
    ck_assert_uint_eq(tls_conn_cipher_suite(p.s), TLS_AES_256_GCM_SHA384);
    ck_assert_uint_eq(p.c->suite, TLS_AES_256_GCM_SHA384);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_group_server_preference_among_shares)
{
    static const uint16_t server[] = {TLS_GROUP_SECP256R1, TLS_GROUP_X25519};
    static const uint16_t shares[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1};
    tls_server_config_params params = params_for(KT_P256);
    tc_options opts = {.share_groups = shares, .n_share_groups = 2};
    pair p;
    params.groups = server;
    params.n_groups = 2;
    pair_init(&p, &params, &opts);
    handshake(&p, 0);
    ck_assert_uint_eq(tls_conn_group(p.s), TLS_GROUP_SECP256R1);
    ck_assert(!tls_conn_did_hrr(p.s));
    pair_free(&p);
}
END_TEST

static const char *const server_alpn[] = {"h2", "http/1.1"};

static void pair_alpn(pair *p, tc_options *opts)
{
    tls_server_config_params params = params_for(KT_P256);
    params.alpn = server_alpn;
    params.n_alpn = 2;
    pair_init(p, &params, opts);
}

START_TEST(test_conn_alpn_server_preference)
{
    static const char *const client[] = {"http/1.1", "h2"};
    tc_options opts = {.alpn = client, .n_alpn = 2};
    size_t len = 0;
    pair p;
    pair_alpn(&p, &opts);
    handshake(&p, 0);
    const uint8_t *proto = tls_conn_alpn(p.s, &len);
    ck_assert_ptr_nonnull(proto);
    ck_assert_uint_eq(len, 2);
    ck_assert(memcmp(proto, "h2", 2) == 0);
    ck_assert_str_eq((const char *)p.c->alpn, "h2");
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_alpn_no_overlap)
{
    static const char *const client[] = {"spdy/3", "imap"};
    tc_options opts = {.alpn = client, .n_alpn = 2};
    pair p;
    pair_alpn(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_APPLICATION_PROTOCOL,
                  TLS_ALERT_NO_APPLICATION_PROTOCOL);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_alpn_client_offers_none)
{
    size_t len = 99;
    pair p;
    pair_alpn(&p, NULL);
    handshake(&p, 0);
    ck_assert_ptr_null(tls_conn_alpn(p.s, &len));
    ck_assert_uint_eq(len, 0);
    ck_assert_uint_eq(p.c->alpn_len, 0);
    for (size_t i = 0; i < p.c->n_ee_exts; i++)
        ck_assert_uint_ne(p.c->ee_ext_types[i], TLS_EXT_ALPN);
    pair_free(&p);
}
END_TEST

static void pair_sni(pair *p, tc_options *opts, bool strict)
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

START_TEST(test_conn_sni_selects_other_cert)
{
    tc_options opts = {.sni = "other.test"};
    pair p;
    pair_sni(&p, &opts, false);
    handshake(&p, 0);
    assert_end_entity(p.c, other_ck[KT_P256]);
    ck_assert(p.c->sni_acked);
    ck_assert_str_eq(tls_conn_server_name(p.s), "other.test");
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_sni_unknown_name_gets_default)
{
    tc_options opts = {.sni = "unknown.example"};
    pair p;
    pair_sni(&p, &opts, false);
    handshake(&p, 0);
    assert_end_entity(p.c, end_ck[KT_P256]);
    ck_assert_str_eq(tls_conn_server_name(p.s), "unknown.example");
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_sni_none_gets_default)
{
    pair p;
    pair_sni(&p, NULL, true);
    handshake(&p, 0);
    assert_end_entity(p.c, end_ck[KT_P256]);
    ck_assert(!p.c->sni_acked);
    ck_assert_ptr_null(tls_conn_server_name(p.s));
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_sni_strict_unknown_name)
{
    tc_options opts = {.sni = "unknown.example"};
    pair p;
    pair_sni(&p, &opts, true);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_CERTIFICATE_FOR_NAME, TLS_ALERT_UNRECOGNIZED_NAME);
    ck_assert_int_eq(p.c->alerts[0].epoch, TC_EPOCH_PLAINTEXT);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_sni_wildcard)
{
    tc_options opts = {.sni = "a.wild.test"};
    pair p;
    pair_sni(&p, &opts, true);
    handshake(&p, 0);
    assert_end_entity(p.c, end_ck[KT_P256]);
    ck_assert_str_eq(tls_conn_server_name(p.s), "a.wild.test");
    pair_free(&p);
}
END_TEST

/* Records held back while the plaintext buffer was full are processed when the
 * caller reads, even if the peer never sends another byte (a finished upload). */
START_TEST(test_conn_backpressure_held_records_processed_on_read)
{
    enum { RECORD = 16384, RECORDS = 4 };
    static uint8_t data[RECORD * RECORDS], got[RECORD * RECORDS];
    pair p;
    size_t len, used, n, total = 0;
    pair_default(&p, NULL);
    handshake(&p, 0);
    for (size_t i = 0; i < sizeof data; i++)
        data[i] = (uint8_t)(i * 7 + 1);
    tc_write(p.c, data, sizeof data);
    const uint8_t *wire = tc_out(p.c, &len);
    /* The caller feeds everything first, without reading in between. */
    size_t off = 0;
    while (off < len) {
        ck_assert_int_eq(tls_conn_read_tls(p.s, wire + off, len - off, &used), TLS_OK);
        ck_assert_int_eq(tls_conn_process(p.s), TLS_OK);
        if (used == 0) {
            ck_assert_int_eq(tls_conn_read(p.s, got + total, sizeof got - total, &n), TLS_OK);
            total += n;
            ck_assert_uint_gt(n, 0);
        }
        off += used;
    }
    tc_out_consume(p.c, len);
    /* No more input: reading alone must yield every byte. */
    do {
        ck_assert_int_eq(tls_conn_read(p.s, got + total, sizeof got - total, &n), TLS_OK);
        total += n;
    } while (n);
    ck_assert_uint_eq(total, sizeof data);
    ck_assert_mem_eq(got, data, sizeof data);
    pair_free(&p);
}
END_TEST

/* close_notify asked for during the handshake goes out after the plaintext written
 * before it, never ahead of it. */
START_TEST(test_conn_close_notify_during_handshake_after_pending_data)
{
    static const uint8_t msg[] = "RESPONSE";
    pair p;
    size_t n;
    uint8_t buf[64];
    pair_default(&p, NULL);
    tc_start(p.c);
    ck_assert_int_eq(tls_conn_write(p.s, msg, sizeof msg, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof msg);
    tls_conn_send_close_notify(p.s);
    ck_assert_int_eq(tls_conn_write(p.s, msg, sizeof msg, &n), TLS_ERR_CLOSED);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    ck_assert_int_eq(p.c->state, TC_STATE_CONNECTED);
    ck_assert_uint_eq(tc_read(p.c, buf, sizeof buf), sizeof msg);
    ck_assert_mem_eq(buf, msg, sizeof msg);
    ck_assert_int_eq(tc_last_alert(p.c), TLS_ALERT_CLOSE_NOTIFY);
    pair_free(&p);
}
END_TEST

/* ---- hostile ClientHellos ------------------------------------------------------------------- */

/* A server restricted to TLS 1.3 refuses a 1.2-only client by version. */
START_TEST(test_conn_tls12_only_client)
{
    static const uint16_t only13[] = {TLS_VERSION_1_3};
    tls_server_config_params params = params_for(KT_P256);
    tc_options opts = {.omit_versions = true, .legacy_version = TLS_VERSION_1_2};
    pair p;
    params.versions = only13;
    params.n_versions = 1;
    pair_init(&p, &params, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_PROTOCOL_VERSION, TLS_ALERT_PROTOCOL_VERSION);
    ck_assert_int_eq(p.c->alerts[0].epoch, TC_EPOCH_PLAINTEXT);
    pair_free(&p);
}
END_TEST

/* A default server speaks 1.2 to it, but not with TLS 1.3-only suites. */
START_TEST(test_conn_tls12_client_with_tls13_suites_only)
{
    tc_options opts = {.omit_versions = true, .legacy_version = TLS_VERSION_1_2};
    pair p;
    pair_default(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_CIPHER_SUITES_IN_COMMON,
                  TLS_ALERT_HANDSHAKE_FAILURE);
    ck_assert_uint_eq(tls_conn_version(p.s), TLS_VERSION_1_2);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_tls10_tls11_only_client)
{
    static const uint16_t legacy[] = {TLS_VERSION_1_0, TLS_VERSION_1_1};
    for (size_t i = 0; i < COUNT(legacy); i++) {
        for (int no_exts = 0; no_exts < 2; no_exts++) {
            tc_options opts = {
                .omit_versions = true, .legacy_version = legacy[i], .no_extensions = no_exts};
            pair p;
            pair_default(&p, &opts);
            assert_failed(&p, run_hello(&p), TLS_ERR_PROTOCOL_VERSION, TLS_ALERT_PROTOCOL_VERSION);
            pair_free(&p);
        }
    }
}
END_TEST

START_TEST(test_conn_supported_versions_tls12_only)
{
    static const uint16_t v12[] = {TLS_VERSION_1_2};
    static const uint16_t only13[] = {TLS_VERSION_1_3};
    tls_server_config_params params = params_for(KT_P256);
    tc_options opts = {.versions = v12, .n_versions = 1};
    pair p;
    params.versions = only13;
    params.n_versions = 1;
    pair_init(&p, &params, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_PROTOCOL_VERSION, TLS_ALERT_PROTOCOL_VERSION);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_no_common_suite)
{
    static const uint16_t s256[] = {TLS_AES_256_GCM_SHA384};
    static const uint16_t c128[] = {TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256};
    tls_server_config_params params = params_for(KT_P256);
    tc_options opts = {.suites = c128, .n_suites = 2};
    pair p;
    params.cipher_suites = s256;
    params.n_cipher_suites = 1;
    pair_init(&p, &params, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_CIPHER_SUITES_IN_COMMON,
                  TLS_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_compression_not_null_only)
{
    static const uint8_t comp[] = {1, 0};
    tc_options opts = {.compression = comp, .n_compression = 2};
    pair p;
    pair_default(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_NULL_COMPRESSION_REQUIRED,
                  TLS_ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_missing_signature_algorithms)
{
    tc_options opts = {.omit_sig_algs = true};
    pair p;
    pair_default(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_MISSING_EXTENSION, TLS_ALERT_MISSING_EXTENSION);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_key_share_without_supported_groups)
{
    tc_options opts = {.omit_groups = true, .share_groups = only_x25519, .n_share_groups = 1};
    pair p;
    pair_default(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_MISSING_EXTENSION, TLS_ALERT_MISSING_EXTENSION);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_signature_algorithms_no_match)
{
    static const uint16_t pkcs1_only[] = {TLS_SIG_RSA_PKCS1_SHA256};
    tc_options opts = {.sig_algs = pkcs1_only, .n_sig_algs = 1};
    tls_server_config_params params = params_for(KT_RSA);
    pair p;
    pair_init(&p, &params, &opts);
    /* RFC 8446 §4.2.3: RSASSA-PKCS1-v1_5 is not for TLS 1.3 CertificateVerify. */
    assert_failed(&p, run_hello(&p), TLS_ERR_NO_SIG_SCHEMES_IN_COMMON, TLS_ALERT_HANDSHAKE_FAILURE);
    pair_free(&p);
}
END_TEST

/* ---- hostile records ------------------------------------------------------------------------ */

START_TEST(test_conn_garbage_http_request)
{
    static const char req[] = "GET / HTTP/1.1\r\n";
    pair p;
    pair_default(&p, NULL);
    tc_inject_raw(p.c, req, sizeof req - 1);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_INVALID_CONTENT_TYPE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_plaintext_record_over_2_14)
{
    uint8_t *body = calloc(1, TLS_MAX_PLAINTEXT + 1);
    pair p;
    ck_assert_ptr_nonnull(body);
    pair_default(&p, NULL);
    tc_inject_plain_record(p.c, TLS_CT_HANDSHAKE, body, TLS_MAX_PLAINTEXT + 1);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_RECORD_OVERFLOW, TLS_ALERT_RECORD_OVERFLOW);
    free(body);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_record_header_over_2_14_plus_256)
{
    size_t len = TLS_MAX_PLAINTEXT + 257;
    uint8_t header[5] = {TLS_CT_APPLICATION_DATA, 3, 3, (uint8_t)(len >> 8), (uint8_t)len};
    pair p;
    pair_default(&p, NULL);
    /* Refused on the header alone: the body never has to arrive. */
    tc_inject_raw(p.c, header, sizeof header);
    assert_failed(&p, tc_pump(p.c, p.s, 1), TLS_ERR_RECORD_OVERFLOW, TLS_ALERT_RECORD_OVERFLOW);
    pair_free(&p);
}
END_TEST

/*
 * The server has switched to its application keys once its Finished is out (RFC 8446 §7.2),
 * and a client that just computed its own Finished reads with the server's application keys
 * too, so that is where the decrypt_error alert must be readable.
 */
START_TEST(test_conn_bad_client_finished)
{
    tc_options opts = {.corrupt_finished = true};
    pair p;
    pair_default(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_BAD_FINISHED, TLS_ALERT_DECRYPT_ERROR);
    ck_assert_int_eq(p.c->alerts[0].epoch, TC_EPOCH_APPLICATION);
    assert_client_ok(p.c);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_finished_wrong_length)
{
    uint8_t msg[4 + TLS_MAX_HASH_LEN + 1];
    pair p;
    pair_default(&p, NULL);
    handshake_until_held(&p);
    size_t n = p.c->ks.hash_len + 1;
    msg[0] = TLS_HS_FINISHED;
    msg[1] = msg[2] = 0;
    msg[3] = (uint8_t)n;
    memcpy(msg + 4, p.c->finished, n - 1);
    msg[3 + n] = 0;
    tc_inject_record(p.c, TLS_CT_HANDSHAKE, msg, 4 + n, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_client_hello_again_after_server_hello)
{
    size_t len;
    pair p;
    pair_default(&p, NULL);
    handshake_until_held(&p);
    const uint8_t *ch = tc_client_hello(p.c, &len);
    tc_inject_record(p.c, TLS_CT_HANDSHAKE, ch, len, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_certificate_instead_of_finished)
{
    static const uint8_t cert[] = {TLS_HS_CERTIFICATE, 0, 0, 4, 0, 0, 0, 0};
    pair p;
    pair_default(&p, NULL);
    handshake_until_held(&p);
    tc_inject_record(p.c, TLS_CT_HANDSHAKE, cert, sizeof cert, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_client_hello_after_handshake)
{
    size_t len;
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    const uint8_t *ch = tc_client_hello(p.c, &len);
    tc_inject_record(p.c, TLS_CT_HANDSHAKE, ch, len, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    ck_assert_int_eq(p.c->alerts[0].epoch, TC_EPOCH_APPLICATION);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_plaintext_handshake_after_keys)
{
    uint8_t msg[4 + TLS_MAX_HASH_LEN];
    pair p;
    pair_default(&p, NULL);
    handshake_until_held(&p);
    size_t n = p.c->ks.hash_len;
    msg[0] = TLS_HS_FINISHED;
    msg[1] = msg[2] = 0;
    msg[3] = (uint8_t)n;
    memcpy(msg + 4, p.c->finished, n);
    tc_inject_plain_record(p.c, TLS_CT_HANDSHAKE, msg, 4 + n);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_application_data_before_finished)
{
    static const char data[] = "too early";
    pair p;
    pair_default(&p, NULL);
    handshake_until_held(&p);
    /* Under the client's handshake keys: decrypts, then is refused for its type. */
    tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, data, sizeof data, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_corrupted_application_record)
{
    static const char data[] = "tampered";
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tc_write(p.c, (const uint8_t *)data, sizeof data);
    tc_flip_out_bit(p.c, 1, 0x80); /* last tag byte */
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_DECRYPT, TLS_ALERT_BAD_RECORD_MAC);
    size_t n = 1;
    uint8_t b[16];
    ck_assert_int_eq(tls_conn_read(p.s, b, sizeof b, &n), TLS_ERR_DECRYPT);
    ck_assert_uint_eq(n, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_empty_handshake_record_plaintext)
{
    pair p;
    pair_default(&p, NULL);
    tc_inject_plain_record(p.c, TLS_CT_HANDSHAKE, NULL, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_EMPTY_FRAGMENT, TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_empty_handshake_record_protected)
{
    pair p;
    pair_default(&p, NULL);
    handshake_until_held(&p);
    tc_inject_record(p.c, TLS_CT_HANDSHAKE, NULL, 0, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_EMPTY_FRAGMENT, TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

/* The server changes its read keys after the ClientHello: a byte of a next message in the
 * same record would straddle that change (RFC 8446 §5.1). */
START_TEST(test_conn_client_hello_plus_one_byte)
{
    static const uint8_t extra = TLS_HS_FINISHED;
    pair p;
    pair_default(&p, NULL);
    tc_cork(p.c);
    tc_start(p.c);
    tc_inject_handshake(p.c, &extra, 1);
    tc_uncork(p.c);
    ck_assert_uint_eq(p.c->records_sent, 1);
    tls_error err = tc_pump(p.c, p.s, 0);
    /* The ServerHello went out before the key change failed: the alert is under the
     * server's handshake keys, which the client derived from that ServerHello. */
    assert_failed(&p, err, TLS_ERR_KEY_EPOCH_WITH_PENDING_FRAGMENT, TLS_ALERT_UNEXPECTED_MESSAGE);
    ck_assert_int_eq(p.c->alerts[0].epoch, TC_EPOCH_HANDSHAKE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_alert_inside_fragmented_handshake)
{
    static const uint8_t warning[2] = {1, TLS_ALERT_USER_CANCELED};
    size_t len;
    pair p;
    pair_default(&p, NULL);
    tc_cork(p.c); /* build the ClientHello without framing it */
    tc_start(p.c);
    tc_cork_discard(p.c);
    const uint8_t *ch = tc_client_hello(p.c, &len);
    tc_inject_plain_record(p.c, TLS_CT_HANDSHAKE, ch, 10);
    tc_inject_plain_record(p.c, TLS_CT_ALERT, warning, sizeof warning);
    tc_inject_plain_record(p.c, TLS_CT_HANDSHAKE, ch + 10, len - 10);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_ccs_inside_fragmented_handshake)
{
    static const uint8_t one = 1;
    size_t len;
    pair p;
    pair_default(&p, NULL);
    tc_cork(p.c);
    tc_start(p.c);
    tc_cork_discard(p.c);
    const uint8_t *ch = tc_client_hello(p.c, &len);
    tc_inject_plain_record(p.c, TLS_CT_HANDSHAKE, ch, 10);
    tc_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    tc_inject_plain_record(p.c, TLS_CT_HANDSHAKE, ch + 10, len - 10);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_ccs_value_2)
{
    static const uint8_t two = 2;
    pair p;
    pair_default(&p, NULL);
    tc_start(p.c);
    tc_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &two, 1);
    tls_error err = tc_pump(p.c, p.s, 0);
    assert_failed(&p, err, TLS_ERR_INVALID_CCS, TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_ccs_before_client_hello)
{
    static const uint8_t one = 1;
    pair p;
    pair_default(&p, NULL);
    tc_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    tc_start(p.c);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_one_ccs_accepted_second_rejected)
{
    static const uint8_t one = 1;
    pair p;
    pair_default(&p, NULL);
    tc_start(p.c);
    tc_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert_int_eq(p.c->state, TC_STATE_CONNECTED);
    /* After the handshake a CCS is never valid. */
    tc_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_two_ccs_during_handshake)
{
    static const uint8_t one = 1;
    pair p;
    pair_default(&p, NULL);
    tc_start(p.c);
    tc_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    ck_assert_int_eq(p.c->state, TC_STATE_CONNECTED);
    pair_free(&p);

    pair_default(&p, NULL);
    handshake_until_held(&p);
    tc_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    tc_inject_plain_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_protected_ccs)
{
    static const uint8_t one = 1;
    pair p;
    pair_default(&p, NULL);
    handshake_until_held(&p);
    tc_inject_record(p.c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_too_many_empty_records)
{
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    for (int i = 0; i < 32; i++)
        tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0, i % 3);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_TOO_MANY_EMPTY_RECORDS,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_empty_records_reset_by_data)
{
    static const uint8_t x = 'x';
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    for (int round = 0; round < 3; round++) {
        for (int i = 0; i < 32; i++)
            tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0, 0);
        tc_write(p.c, &x, 1);
    }
    assert_server_ok(tc_pump(p.c, p.s, 0));
    uint8_t buf[8];
    size_t n = 0;
    server_drain(p.s, buf, sizeof buf, &n);
    ck_assert_uint_eq(n, 3);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_client_fatal_alert)
{
    pair p;
    pair_default(&p, NULL);
    handshake_until_held(&p);
    tc_send_alert(p.c, 2, TLS_ALERT_HANDSHAKE_FAILURE);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_ALERT_RECEIVED, TLS_ALERT_NONE);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_HANDSHAKE_FAILURE);
    ck_assert(!tls_conn_wants_write(p.s));
    pair_free(&p);
}
END_TEST

/* A client that cannot use our ServerHello has no keys yet: its plaintext alert counts. */
START_TEST(test_conn_client_plaintext_alert_after_server_hello)
{
    static const uint8_t alert[2] = {2, TLS_ALERT_ILLEGAL_PARAMETER};
    pair p;
    pair_default(&p, NULL);
    handshake_until_held(&p);
    tc_inject_plain_record(p.c, TLS_CT_ALERT, alert, sizeof alert);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_ALERT_RECEIVED, TLS_ALERT_NONE);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}
END_TEST

/*
 * Once the server has decrypted a record of the client's, a plaintext alert cannot be
 * the client's: anyone on the path could forge it. A forged close_notify is a truncation
 * attack (the proxy would pass a clean end of stream upstream). rustls allows plaintext
 * alerts only before it has decrypted anything from the peer.
 */
START_TEST(test_conn_plaintext_close_notify_after_handshake)
{
    static const uint8_t close_notify[2] = {1, TLS_ALERT_CLOSE_NOTIFY};
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tc_inject_plain_record(p.c, TLS_CT_ALERT, close_notify, sizeof close_notify);
    tls_error err = tc_pump(p.c, p.s, 0);
    ck_assert_msg(!tls_conn_peer_closed(p.s), "an unauthenticated close_notify closed the "
                                              "connection");
    assert_failed(&p, err, TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_plaintext_fatal_alert_after_handshake)
{
    static const uint8_t alert[2] = {2, TLS_ALERT_BAD_RECORD_MAC};
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tc_inject_plain_record(p.c, TLS_CT_ALERT, alert, sizeof alert);
    tls_error err = tc_pump(p.c, p.s, 0);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_NONE);
    assert_failed(&p, err, TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_alert_of_three_bytes)
{
    static const uint8_t alert[3] = {2, TLS_ALERT_HANDSHAKE_FAILURE, 0};
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tc_inject_record(p.c, TLS_CT_ALERT, alert, sizeof alert, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_INVALID_ALERT, TLS_ALERT_DECODE_ERROR);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_NONE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_key_update_value_2)
{
    static const uint8_t ku[5] = {TLS_HS_KEY_UPDATE, 0, 0, 1, 2};
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tc_inject_record(p.c, TLS_CT_HANDSHAKE, ku, sizeof ku, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_BAD_KEY_UPDATE, TLS_ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_error_latches_for_every_call)
{
    static const char req[] = "GET / HTTP/1.1\r\n";
    uint8_t buf[16];
    size_t n = 99;
    pair p;
    pair_default(&p, NULL);
    tc_inject_raw(p.c, req, sizeof req - 1);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_INVALID_CONTENT_TYPE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    const tls_error want = TLS_ERR_INVALID_CONTENT_TYPE;
    ck_assert_int_eq(tls_conn_process(p.s), want);
    ck_assert_int_eq(tls_conn_read_tls(p.s, buf, sizeof buf, &n), want);
    ck_assert_uint_eq(n, 0);
    n = 99;
    ck_assert_int_eq(tls_conn_read(p.s, buf, sizeof buf, &n), want);
    ck_assert_uint_eq(n, 0);
    n = 99;
    ck_assert_int_eq(tls_conn_write(p.s, buf, sizeof buf, &n), want);
    ck_assert_uint_eq(n, 0);
    ck_assert_int_eq(tls_conn_send_key_update(p.s, false), want);
    tls_conn_send_close_notify(p.s);
    ck_assert(!tls_conn_wants_write(p.s));
    ck_assert(!tls_conn_wants_read(p.s));
    ck_assert_int_eq(tls_conn_error(p.s), want);
    pair_free(&p);
}
END_TEST

/* ---- more hostile ClientHellos (crafted extensions) ----------------------------------------- */

/* Appends one extension (type, length, body) at p; returns its size. */
static size_t put_ext(uint8_t *p, uint16_t type, const uint8_t *body, size_t len)
{
    p[0] = (uint8_t)(type >> 8);
    p[1] = (uint8_t)type;
    p[2] = (uint8_t)(len >> 8);
    p[3] = (uint8_t)len;
    if (len)
        memcpy(p + 4, body, len);
    return 4 + len;
}

/* A pre_shared_key extension body: one 1-byte identity, one 32-byte binder. */
static size_t psk_body(uint8_t *b)
{
    static const uint8_t body[] = {0, 7,  0, 1, 0x42, 0, 0, 0, 0, /* identities */
                                   0, 33, 32};                    /* binders */
    memcpy(b, body, sizeof body);
    memset(b + sizeof body, 0xab, 32);
    return sizeof body + 32;
}

START_TEST(test_conn_large_client_hello_spans_records)
{
    static uint8_t exts[4 + 20000];
    size_t n = put_ext(exts, TLS_EXT_PADDING, NULL, 0);
    memset(exts + 4, 0, 20000);
    exts[2] = (uint8_t)(20000 >> 8);
    exts[3] = (uint8_t)(20000 & 0xff);
    n += 20000;
    tc_options opts = {.extra_exts = exts, .extra_exts_len = n};
    pair p;
    pair_default(&p, &opts);
    handshake(&p, 0);
    ck_assert_uint_ge(p.c->records_sent, 3); /* two for the ClientHello, one Finished */
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_handshake_message_too_large)
{
    static const uint8_t header[4] = {TLS_HS_CLIENT_HELLO, 0x01, 0x00, 0x01}; /* 65537 */
    pair p;
    pair_default(&p, NULL);
    tc_inject_plain_record(p.c, TLS_CT_HANDSHAKE, header, sizeof header);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_HANDSHAKE_TOO_LARGE, TLS_ALERT_DECODE_ERROR);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_bad_record_version)
{
    static const uint8_t rec[] = {TLS_CT_HANDSHAKE, 0x02, 0x00, 0x00, 0x04, 1, 0, 0, 0};
    pair p;
    pair_default(&p, NULL);
    tc_inject_raw(p.c, rec, sizeof rec);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_BAD_RECORD_VERSION, TLS_ALERT_DECODE_ERROR);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_protected_record_all_padding)
{
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tc_inject_record(p.c, 0, NULL, 0, 10); /* inner plaintext: eleven zero bytes */
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_protected_record_unknown_inner_type)
{
    static const uint8_t body[3] = {1, 2, 3};
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tc_inject_record(p.c, 99, body, sizeof body, 0);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_UNEXPECTED_MESSAGE,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_protected_record_shorter_than_tag)
{
    static const uint8_t body[15] = {0};
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tc_inject_plain_record(p.c, TLS_CT_APPLICATION_DATA, body, sizeof body);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_DECRYPT, TLS_ALERT_BAD_RECORD_MAC);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_duplicate_extension)
{
    static const uint8_t v13[] = {2, 0x03, 0x04};
    uint8_t exts[16];
    size_t n = put_ext(exts, TLS_EXT_SUPPORTED_VERSIONS, v13, sizeof v13);
    tc_options opts = {.extra_exts = exts, .extra_exts_len = n};
    pair p;
    pair_default(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_DUPLICATE_EXTENSION, TLS_ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_key_share_for_unlisted_group)
{
    static const uint16_t p256_only[] = {TLS_GROUP_SECP256R1};
    static const uint16_t shares[] = {TLS_GROUP_X25519};
    tc_options opts = {
        .groups = p256_only, .n_groups = 1, .share_groups = shares, .n_share_groups = 1};
    pair p;
    pair_default(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_KEY_SHARE_NOT_OFFERED_GROUP,
                  TLS_ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}
END_TEST

/* X25519 shares the server must refuse: wrong length, and the all-zero (low order) point
 * whose shared secret is all zeros (RFC 8446 §7.4.2). */
START_TEST(test_conn_invalid_x25519_share)
{
    static const size_t lens[] = {31, 32};
    for (size_t i = 0; i < COUNT(lens); i++) {
        uint8_t body[2 + 4 + 32] = {0}, exts[64];
        size_t len = lens[i];
        body[0] = 0;
        body[1] = (uint8_t)(4 + len);
        body[2] = 0;
        body[3] = (uint8_t)TLS_GROUP_X25519;
        body[4] = 0;
        body[5] = (uint8_t)len;
        size_t n = put_ext(exts, TLS_EXT_KEY_SHARE, body, 6 + len);
        tc_options opts = {.omit_key_share = true, .extra_exts = exts, .extra_exts_len = n};
        pair p;
        pair_default(&p, &opts);
        assert_failed(&p, run_hello(&p), TLS_ERR_INVALID_KEY_SHARE, TLS_ALERT_ILLEGAL_PARAMETER);
        pair_free(&p);
    }
}
END_TEST

/* §4.1.2: the second ClientHello must drop early_data. */
START_TEST(test_conn_hrr_second_hello_keeps_early_data)
{
    uint8_t exts[8];
    size_t n = put_ext(exts, TLS_EXT_EARLY_DATA, NULL, 0);
    tc_options opts = {.extra_exts = exts, .extra_exts_len = n};
    pair p;
    pair_hrr(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_HRR_UNACCEPTABLE, TLS_ALERT_ILLEGAL_PARAMETER);
    ck_assert(p.c->did_hrr);
    pair_free(&p);
}
END_TEST

/* Rejected 0-RTT is skipped only up to a budget (64 KiB). */
START_TEST(test_conn_early_data_budget)
{
    tc_options opts = {.early_data = true};
    pair p;
    pair_default(&p, &opts);
    tc_start(p.c);
    for (int i = 0; i < 5; i++)
        tc_inject_undecryptable(p.c, 16000);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_DECRYPT, TLS_ALERT_BAD_RECORD_MAC);
    pair_free(&p);
}
END_TEST

/* RFC 8701: unknown (GREASE) suites, groups, versions and extensions are ignored. */
START_TEST(test_conn_grease_values_ignored)
{
    static const uint16_t suites[] = {0x0a0a, TLS_AES_128_GCM_SHA256};
    static const uint16_t groups[] = {0x1a1a, TLS_GROUP_X25519};
    static const uint16_t shares[] = {TLS_GROUP_X25519};
    static const uint16_t versions[] = {0x2a2a, TLS_VERSION_1_3, TLS_VERSION_1_2};
    static const uint16_t sigs[] = {0x3a3a, TLS_SIG_ECDSA_SECP256R1_SHA256};
    uint8_t exts[16];
    size_t n = put_ext(exts, 0x4a4a, NULL, 0);
    n += put_ext(exts + n, 0x5a5a, (const uint8_t *)"\0", 1);
    tc_options opts = {.suites = suites,
                       .n_suites = 2,
                       .groups = groups,
                       .n_groups = 2,
                       .share_groups = shares,
                       .n_share_groups = 1,
                       .versions = versions,
                       .n_versions = 3,
                       .sig_algs = sigs,
                       .n_sig_algs = 2,
                       .extra_exts = exts,
                       .extra_exts_len = n};
    pair p;
    pair_default(&p, &opts);
    handshake(&p, 0);
    ck_assert_uint_eq(tls_conn_cipher_suite(p.s), TLS_AES_128_GCM_SHA256);
    ck_assert_uint_eq(tls_conn_group(p.s), TLS_GROUP_X25519);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_sni_ip_literal_ignored)
{
    tc_options opts = {.sni = "127.0.0.1"};
    pair p;
    pair_sni(&p, &opts, true);
    handshake(&p, 0);
    ck_assert_ptr_null(tls_conn_server_name(p.s));
    ck_assert(!p.c->sni_acked);
    assert_end_entity(p.c, end_ck[KT_P256]);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_psk_without_modes)
{
    uint8_t body[64], exts[80];
    size_t n = put_ext(exts, TLS_EXT_PRE_SHARED_KEY, body, psk_body(body));
    tc_options opts = {.extra_exts = exts, .extra_exts_len = n};
    pair p;
    pair_default(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_MISSING_EXTENSION, TLS_ALERT_MISSING_EXTENSION);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_psk_not_last)
{
    static const uint8_t modes[] = {1, 1};
    uint8_t body[64], exts[96];
    size_t n = put_ext(exts, TLS_EXT_PSK_KEY_EXCHANGE_MODES, modes, sizeof modes);
    n += put_ext(exts + n, TLS_EXT_PRE_SHARED_KEY, body, psk_body(body));
    n += put_ext(exts + n, TLS_EXT_PADDING, NULL, 0);
    tc_options opts = {.extra_exts = exts, .extra_exts_len = n};
    pair p;
    pair_default(&p, &opts);
    assert_failed(&p, run_hello(&p), TLS_ERR_PSK_NOT_LAST, TLS_ALERT_ILLEGAL_PARAMETER);
    pair_free(&p);
}
END_TEST

/* A ticket the server cannot use: the PSK is ignored and a full handshake follows. */
START_TEST(test_conn_unknown_psk_gives_full_handshake)
{
    static const uint8_t modes[] = {1, 1}; /* psk_dhe_ke */
    uint8_t body[64], exts[96];
    size_t n = put_ext(exts, TLS_EXT_PSK_KEY_EXCHANGE_MODES, modes, sizeof modes);
    n += put_ext(exts + n, TLS_EXT_PRE_SHARED_KEY, body, psk_body(body));
    tc_options opts = {.extra_exts = exts, .extra_exts_len = n};
    pair p;
    pair_default(&p, &opts);
    handshake(&p, 0);
    assert_end_entity(p.c, end_ck[KT_P256]);
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_rsa_pss_scheme_follows_client)
{
    static const uint16_t pss384[] = {TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_RSA_PSS_RSAE_SHA384};
    tls_server_config_params params = params_for(KT_RSA);
    tc_options opts = {.sig_algs = pss384, .n_sig_algs = 2};
    pair p;
    pair_init(&p, &params, &opts);
    handshake(&p, 0);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.s), TLS_SIG_RSA_PSS_RSAE_SHA384);
    ck_assert_uint_eq(p.c->sig_scheme, TLS_SIG_RSA_PSS_RSAE_SHA384);
    pair_free(&p);
}
END_TEST

/* ---- KeyUpdate ------------------------------------------------------------------------------ */

START_TEST(test_conn_key_update_requested)
{
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    exchange(&p, 100, 0);
    tc_send_key_update(p.c, true);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert_uint_eq(p.c->key_updates, 1);
    exchange(&p, 5000, 0);
    tc_send_key_update(p.c, false);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    ck_assert_uint_eq(p.c->key_updates, 1);
    exchange(&p, 5000, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_server_key_update)
{
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    ck_assert_int_eq(tls_conn_send_key_update(p.s, true), TLS_OK);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert_uint_eq(p.c->key_updates, 1);
    exchange(&p, 3000, 0);
    ck_assert_int_eq(tls_conn_send_key_update(p.s, false), TLS_OK);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    ck_assert_uint_eq(p.c->key_updates, 2);
    exchange(&p, 3000, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_key_update_before_handshake_done)
{
    pair p;
    pair_default(&p, NULL);
    ck_assert_int_eq(tls_conn_send_key_update(p.s, false), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_error(p.s), TLS_OK);
    handshake(&p, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_too_many_key_updates)
{
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    for (int i = 0; i < 16; i++)
        tc_send_key_update(p.c, false);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    /* Data resets the count. */
    exchange(&p, 10, 0);
    for (int i = 0; i < 16; i++)
        tc_send_key_update(p.c, false);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    tc_send_key_update(p.c, false);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_TOO_MANY_KEY_UPDATES,
                  TLS_ALERT_UNEXPECTED_MESSAGE);
    pair_free(&p);
}
END_TEST

/* ---- closure -------------------------------------------------------------------------------- */

START_TEST(test_conn_client_close_notify)
{
    static const char last[] = "last words";
    uint8_t buf[64];
    size_t n = 0;
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tc_write(p.c, (const uint8_t *)last, sizeof last);
    tc_send_close_notify(p.c);
    tc_write(p.c, (const uint8_t *)"ignored", 7);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    ck_assert(tls_conn_peer_closed(p.s));
    ck_assert_int_eq(tls_conn_error(p.s), TLS_OK);
    server_drain(p.s, buf, sizeof buf, &n);
    ck_assert_uint_eq(n, sizeof last);
    ck_assert(memcmp(buf, last, sizeof last) == 0);
    /* Later bytes, even garbage, are ignored. */
    tc_inject_raw(p.c, "GET / HTTP/1.1\r\n", 16);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    ck_assert_int_eq(tls_conn_error(p.s), TLS_OK);
    n = 0;
    server_drain(p.s, buf, sizeof buf, &n);
    ck_assert_uint_eq(n, 0);
    /* The server may still send (half close). */
    send_down(&p, 100, 0, 5);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_server_close_notify)
{
    size_t n = 99;
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    tls_conn_send_close_notify(p.s);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert(p.c->close_notify);
    ck_assert_uint_eq(p.c->n_alerts, 1);
    ck_assert_uint_eq(p.c->alerts[0].level, 1);
    ck_assert_int_eq(p.c->alerts[0].epoch, TC_EPOCH_APPLICATION);
    ck_assert_int_eq(tls_conn_write(p.s, (const uint8_t *)"x", 1, &n), TLS_ERR_CLOSED);
    ck_assert_uint_eq(n, 0);
    /* The client may still send. */
    send_up(&p, 100, 0, 9);
    pair_free(&p);
}
END_TEST

/* ---- middlebox compatibility and 0-RTT ------------------------------------------------------ */

START_TEST(test_conn_compat_mode_session_id_and_ccs)
{
    tc_options opts = {.session_id_len = 32, .send_ccs = true};
    pair p;
    pair_default(&p, &opts);
    handshake(&p, 0);
    ck_assert(p.c->session_id_echoed);
    ck_assert_uint_eq(p.c->server_ccs, 1);
    ck_assert_uint_eq(p.c->ccs_after_msgs, 1); /* right after the ServerHello */
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_no_ccs_without_session_id)
{
    pair p;
    pair_default(&p, NULL);
    handshake(&p, 0);
    ck_assert(p.c->session_id_echoed);
    ck_assert_uint_eq(p.c->server_ccs, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_compat_mode_with_hrr_one_ccs)
{
    tc_options opts = {.session_id_len = 32, .send_ccs = true};
    pair p;
    pair_hrr(&p, &opts);
    handshake(&p, 0);
    ck_assert(p.c->did_hrr);
    ck_assert(p.c->session_id_echoed);
    ck_assert_uint_eq(p.c->server_ccs, 1);
    ck_assert_uint_eq(p.c->ccs_after_msgs, 1); /* right after the HelloRetryRequest */
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

static bool ee_has(const tc_client *c, uint16_t type)
{
    for (size_t i = 0; i < c->n_ee_exts; i++)
        if (c->ee_ext_types[i] == type)
            return true;
    return false;
}

START_TEST(test_conn_early_data_skipped)
{
    tc_options opts = {.early_data = true};
    pair p;
    pair_default(&p, &opts);
    tc_start(p.c);
    tc_inject_undecryptable(p.c, 200); /* 0-RTT data right behind the ClientHello */
    tc_inject_undecryptable(p.c, 1000);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert_int_eq(p.c->state, TC_STATE_CONNECTED);
    ck_assert(!p.c->early_data_accepted);
    ck_assert(!ee_has(p.c, TLS_EXT_EARLY_DATA));
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_early_data_skipped_before_finished)
{
    tc_options opts = {.early_data = true};
    pair p;
    pair_default(&p, &opts);
    handshake_until_held(&p);
    ck_assert(!p.c->early_data_accepted);
    tc_inject_undecryptable(p.c, 300);
    ck_assert(tc_send_finished(p.c));
    assert_server_ok(tc_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert(!tls_conn_is_handshaking(p.s));
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

/* After the Finished decrypts, skipping is over: an undecryptable record is an attack. */
START_TEST(test_conn_early_data_skipping_ends_at_finished)
{
    tc_options opts = {.early_data = true};
    pair p;
    pair_default(&p, &opts);
    handshake(&p, 0);
    tc_inject_undecryptable(p.c, 100);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_DECRYPT, TLS_ALERT_BAD_RECORD_MAC);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_undecryptable_record_without_early_data)
{
    pair p;
    pair_default(&p, NULL);
    tc_start(p.c);
    tc_inject_undecryptable(p.c, 200);
    assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_DECRYPT, TLS_ALERT_BAD_RECORD_MAC);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_early_data_with_hrr)
{
    tc_options opts = {.early_data = true};
    pair p;
    pair_hrr(&p, &opts);
    tc_start(p.c);
    tc_inject_undecryptable(p.c, 500); /* sent before the HRR arrives: plaintext phase */
    assert_server_ok(tc_pump(p.c, p.s, 0));
    assert_client_ok(p.c);
    ck_assert(p.c->did_hrr);
    ck_assert_int_eq(p.c->state, TC_STATE_CONNECTED);
    ck_assert(!ee_has(p.c, TLS_EXT_EARLY_DATA));
    exchange(&p, 100, 0);
    pair_free(&p);
}
END_TEST

/* ---- flow control and fragment size --------------------------------------------------------- */

START_TEST(test_conn_backpressure)
{
    size_t len = 300 * 1024, n = 0;
    uint8_t *want = malloc(len), *got = malloc(len);
    pair p;

    ck_assert(want && got);
    pair_default(&p, NULL);
    handshake(&p, 0);
    fill_pattern(want, len, 42);
    tc_write(p.c, want, len);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    size_t left;
    tc_out(p.c, &left);
    ck_assert_uint_gt(left, 0); /* the server stopped taking bytes */
    ck_assert_uint_gt(p.c->server_partial_reads, 0);
    ck_assert(!tls_conn_wants_read(p.s));
    size_t consumed = 99;
    const uint8_t *out = tc_out(p.c, &left);
    ck_assert_int_eq(tls_conn_read_tls(p.s, out, left, &consumed), TLS_OK);
    ck_assert_uint_eq(consumed, 0);
    for (int i = 0; i < 1000 && n < len; i++) {
        server_drain(p.s, got, len, &n);
        assert_server_ok(tc_pump(p.c, p.s, 0));
    }
    server_drain(p.s, got, len, &n);
    ck_assert_uint_eq(n, len);
    ck_assert(memcmp(want, got, len) == 0);
    free(want);
    free(got);
    pair_free(&p);
}
END_TEST

START_TEST(test_conn_max_fragment_size)
{
    tls_server_config_params params = params_for(KT_RSA);
    pair p;
    params.max_fragment_size = 512;
    pair_init(&p, &params, NULL);
    handshake(&p, 0);
    send_down(&p, 10000, 0, 3);
    ck_assert_uint_le(p.c->max_record_plaintext, 512);
    ck_assert_uint_ge(p.c->records, 20);
    tls_conn_send_close_notify(p.s);
    assert_server_ok(tc_pump(p.c, p.s, 0));
    ck_assert(p.c->close_notify);
    ck_assert_uint_le(p.c->max_record_plaintext, 512);
    pair_free(&p);
}
END_TEST

/* ---- suite ---------------------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("conn");
    TCase *tc;

#define ADD(test) tcase_add_test(tc, test)
    tc = tcase_create("handshake");
    tcase_add_unchecked_fixture(tc, load_certs, free_certs);
    tcase_set_timeout(tc, 60);
    ADD(test_conn_handshake_rsa_all_suites_groups);
    ADD(test_conn_handshake_p256_all_suites_groups);
    ADD(test_conn_handshake_p384_all_suites_groups);
    ADD(test_conn_data_100k_each_way);
    ADD(test_conn_peek_consume_plaintext);
    ADD(test_conn_server_write_before_handshake_is_buffered);
    ADD(test_conn_server_write_before_handshake_small_fragments);
    suite_add_tcase(s, tc);

    tc = tcase_create("framing");
    tcase_add_unchecked_fixture(tc, load_certs, free_certs);
    tcase_set_timeout(tc, 60);
    ADD(test_conn_input_one_byte_at_a_time);
    ADD(test_conn_client_flight_in_one_read);
    ADD(test_conn_client_hello_in_three_records);
    ADD(test_conn_client_handshake_in_tiny_records);
    ADD(test_conn_server_flight_several_messages_per_record);
    ADD(test_conn_finished_and_key_update_in_one_record);
    ADD(test_conn_two_key_updates_in_one_record);
    suite_add_tcase(s, tc);

    tc = tcase_create("negotiation");
    tcase_add_unchecked_fixture(tc, load_certs, free_certs);
    ADD(test_conn_hrr_completes);
    ADD(test_conn_hrr_without_cookie);
    ADD(test_conn_hrr_wrong_cookie);
    ADD(test_conn_hrr_share_for_wrong_group);
    ADD(test_conn_hrr_two_shares);
    ADD(test_conn_no_common_group);
    ADD(test_conn_suite_server_preference);
    ADD(test_conn_group_server_preference_among_shares);
    ADD(test_conn_alpn_server_preference);
    ADD(test_conn_alpn_no_overlap);
    ADD(test_conn_alpn_client_offers_none);
    ADD(test_conn_sni_selects_other_cert);
    ADD(test_conn_sni_unknown_name_gets_default);
    ADD(test_conn_sni_none_gets_default);
    ADD(test_conn_sni_strict_unknown_name);
    ADD(test_conn_sni_wildcard);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_unchecked_fixture(tc, load_certs, free_certs);
    ADD(test_conn_tls12_only_client);
    ADD(test_conn_backpressure_held_records_processed_on_read);
    ADD(test_conn_close_notify_during_handshake_after_pending_data);
    ADD(test_conn_tls12_client_with_tls13_suites_only);
    ADD(test_conn_tls10_tls11_only_client);
    ADD(test_conn_supported_versions_tls12_only);
    ADD(test_conn_no_common_suite);
    ADD(test_conn_compression_not_null_only);
    ADD(test_conn_missing_signature_algorithms);
    ADD(test_conn_key_share_without_supported_groups);
    ADD(test_conn_signature_algorithms_no_match);
    ADD(test_conn_garbage_http_request);
    ADD(test_conn_plaintext_record_over_2_14);
    ADD(test_conn_record_header_over_2_14_plus_256);
    ADD(test_conn_bad_client_finished);
    ADD(test_conn_finished_wrong_length);
    ADD(test_conn_client_hello_again_after_server_hello);
    ADD(test_conn_certificate_instead_of_finished);
    ADD(test_conn_client_hello_after_handshake);
    ADD(test_conn_plaintext_handshake_after_keys);
    ADD(test_conn_application_data_before_finished);
    ADD(test_conn_corrupted_application_record);
    ADD(test_conn_empty_handshake_record_plaintext);
    ADD(test_conn_empty_handshake_record_protected);
    ADD(test_conn_client_hello_plus_one_byte);
    ADD(test_conn_alert_inside_fragmented_handshake);
    ADD(test_conn_ccs_inside_fragmented_handshake);
    ADD(test_conn_ccs_value_2);
    ADD(test_conn_ccs_before_client_hello);
    ADD(test_conn_one_ccs_accepted_second_rejected);
    ADD(test_conn_two_ccs_during_handshake);
    ADD(test_conn_protected_ccs);
    ADD(test_conn_too_many_empty_records);
    ADD(test_conn_empty_records_reset_by_data);
    ADD(test_conn_client_fatal_alert);
    ADD(test_conn_client_plaintext_alert_after_server_hello);
    ADD(test_conn_plaintext_close_notify_after_handshake);
    ADD(test_conn_plaintext_fatal_alert_after_handshake);
    ADD(test_conn_alert_of_three_bytes);
    ADD(test_conn_key_update_value_2);
    ADD(test_conn_error_latches_for_every_call);
    ADD(test_conn_large_client_hello_spans_records);
    ADD(test_conn_handshake_message_too_large);
    ADD(test_conn_bad_record_version);
    ADD(test_conn_protected_record_all_padding);
    ADD(test_conn_protected_record_unknown_inner_type);
    ADD(test_conn_protected_record_shorter_than_tag);
    ADD(test_conn_duplicate_extension);
    ADD(test_conn_key_share_for_unlisted_group);
    ADD(test_conn_invalid_x25519_share);
    ADD(test_conn_hrr_second_hello_keeps_early_data);
    ADD(test_conn_early_data_budget);
    ADD(test_conn_grease_values_ignored);
    ADD(test_conn_sni_ip_literal_ignored);
    ADD(test_conn_psk_without_modes);
    ADD(test_conn_psk_not_last);
    ADD(test_conn_unknown_psk_gives_full_handshake);
    ADD(test_conn_rsa_pss_scheme_follows_client);
    suite_add_tcase(s, tc);

    tc = tcase_create("lifecycle");
    tcase_add_unchecked_fixture(tc, load_certs, free_certs);
    ADD(test_conn_key_update_requested);
    ADD(test_conn_server_key_update);
    ADD(test_conn_key_update_before_handshake_done);
    ADD(test_conn_too_many_key_updates);
    ADD(test_conn_client_close_notify);
    ADD(test_conn_server_close_notify);
    ADD(test_conn_compat_mode_session_id_and_ccs);
    ADD(test_conn_no_ccs_without_session_id);
    ADD(test_conn_compat_mode_with_hrr_one_ccs);
    ADD(test_conn_early_data_skipped);
    ADD(test_conn_early_data_skipped_before_finished);
    ADD(test_conn_early_data_skipping_ends_at_finished);
    ADD(test_conn_undecryptable_record_without_early_data);
    ADD(test_conn_early_data_with_hrr);
    ADD(test_conn_backpressure);
    ADD(test_conn_max_fragment_size);
    suite_add_tcase(s, tc);
#undef ADD
    return s;
}

TEST_MAIN(make_suite)
