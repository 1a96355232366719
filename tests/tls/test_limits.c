/*
 * test_limits.c — the engine's per-connection resource limits (tls_limits: tls/config.c,
 * tls/client_config.c, tls/conn.c) and its flood bounds, on both sides and both versions.
 *
 * - Configs: defaults equal the engine's fixed caps of before (64 KiB each, 256 KiB for
 *   the output's hard cap), bounds are enforced with a sentence naming the parameter.
 * - max_handshake_message_size: a ClientHello one byte over the limit fails with
 *   HandshakePayloadTooLarge and decode_error, one at the limit completes; the check
 *   fires on the 4-byte header, before any body is buffered; a raised limit admits what
 *   the default refuses.
 * - max_certificate_chain_size (client): a chain over it fails the same way; it may be
 *   larger than the message limit, which then still holds for every other message.
 * - max_buffered_plaintext / max_buffered_ciphertext: what tls_conn_write takes before
 *   and after the handshake, and what is decrypted ahead of tls_conn_read, stay within
 *   the limit while every byte still arrives.
 * - Floods: records that carry nothing (empty data, user_canceled, TLS 1.2 warnings) and
 *   KeyUpdates (requested or not) are counted in a row and close the connection with
 *   unexpected_message on the 33rd / 17th; neither kind resets the other's count, and only
 *   application data resets both. Server and client, TLS 1.3 and TLS 1.2.
 *
 * Certified keys and root stores are loaded once per test process (unchecked fixture).
 */
#include "tests/lib/enginepair.h"
#include "tests/lib/testclient.h"
#include "tests/lib/testclient12.h"
#include "tests/lib/testserver.h"
#include "tests/lib/testserver12.h"
#include "tests/lib/unit.h"
#include "tls/conn.h"
#include "tls/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "testserver.com"
#define MAX_IDLE 32        /* records that carry nothing, tolerated in a row */
#define MAX_KEY_UPDATES 16 /* KeyUpdates tolerated in a row */

static const uint16_t only_tls12[] = {TLS_VERSION_1_2};

/* ---- helpers ------------------------------------------------------------------------------- */

static tls_server_config_params server_params(int kt)
{
    tls_server_config_params p;
    memset(&p, 0, sizeof p);
    p.certs = &end_ck[kt];
    p.n_certs = 1;
    return p;
}

static tls_client_config_params client_params(int kt)
{
    tls_client_config_params p;
    memset(&p, 0, sizeof p);
    p.roots = roots[kt];
    return p;
}

static tls_error server_config_error(const tls_server_config_params *p, char *msg, size_t cap)
{
    tls_server_config *cfg = NULL;
    msg[0] = '\0';
    tls_error e = tls_server_config_new(p, &cfg, msg, cap);
    tls_server_config_unref(cfg);
    return e;
}

static tls_error client_config_error(const tls_client_config_params *p, char *msg, size_t cap)
{
    tls_client_config *cfg = NULL;
    msg[0] = '\0';
    tls_error e = tls_client_config_new(p, &cfg, msg, cap);
    tls_client_config_unref(cfg);
    return e;
}

/* A tc client against an engine server built from params. */
typedef struct {
    tls_server_config *cfg;
    tls_conn *s;
    tc_client *c;
} tc_pair;

static void tc_pair_init(tc_pair *p, const tls_server_config_params *params, const tc_options *o)
{
    p->cfg = engine_server_config(params);
    ck_assert_int_eq(tls_server_conn_new(p->cfg, &p->s), TLS_OK);
    p->c = tc_client_new(o);
}

static void tc_pair_free(tc_pair *p)
{
    tc_client_free(p->c);
    tls_conn_free(p->s);
    tls_server_config_unref(p->cfg);
    memset(p, 0, sizeof *p);
}

static void tc_handshake(tc_pair *p)
{
    tc_start(p->c);
    tls_error e = tc_pump(p->c, p->s, 0);
    ck_assert_msg(e == TLS_OK, "server: %s", tls_error_name(e));
    ck_assert_msg(!p->c->failed, "client: %s", p->c->error);
    ck_assert_int_eq(p->c->state, TC_STATE_CONNECTED);
    ck_assert(!tls_conn_is_handshaking(p->s));
}

/* The server failed with `want` (returned and latched) and sent one fatal `alert`. */
static void tc_assert_failed(tc_pair *p, tls_error got, tls_error want, int alert)
{
    ck_assert_msg(got == want, "server returned %s, expected %s", tls_error_name(got),
                  tls_error_name(want));
    ck_assert_int_eq(tls_conn_error(p->s), want);
    ck_assert_msg(p->c->n_alerts == 1, "client saw %u alerts", p->c->n_alerts);
    ck_assert_msg(p->c->alerts[0].desc == alert, "alert %s, expected %s",
                  tls_alert_name(p->c->alerts[0].desc), tls_alert_name(alert));
    ck_assert_uint_eq(p->c->alerts[0].level, 2);
    uint8_t b[16];
    ck_assert_uint_eq(tls_conn_write_tls(p->s, b, sizeof b), 0);
}

/* The body length of the default tc ClientHello. */
static size_t base_hello_body(void)
{
    tc_client *c = tc_client_new(NULL);
    size_t len = 0;
    tc_start(c);
    ck_assert_ptr_nonnull(tc_client_hello(c, &len));
    tc_client_free(c);
    return len - 4;
}

/* Options for a ClientHello whose body is exactly `body` bytes: a padding extension
 * (RFC 7685) makes up the difference. exts must hold body bytes. */
static tc_options padded_hello(uint8_t *exts, size_t body)
{
    size_t base = base_hello_body();
    ck_assert_uint_ge(body, base + 4);
    size_t n = body - base - 4;
    exts[0] = 0;
    exts[1] = TLS_EXT_PADDING;
    exts[2] = (uint8_t)(n >> 8);
    exts[3] = (uint8_t)n;
    memset(exts + 4, 0, n);
    tc_options o;
    memset(&o, 0, sizeof o);
    o.extra_exts = exts;
    o.extra_exts_len = n + 4;
    return o;
}

/* ==== configs ================================================================================= */

START_TEST(test_limits_config_defaults_are_the_old_caps)
{
    tls_server_config_params sp = server_params(KT_P256);
    tls_client_config_params cp = client_params(KT_P256);
    tls_server_config *s = engine_server_config(&sp);
    tls_client_config *c = engine_client_config(&cp);

    ck_assert_uint_eq(s->limits.handshake_message, 65536);
    ck_assert_uint_eq(s->limits.certificate_chain, 65536);
    ck_assert_uint_eq(s->limits.plaintext, 65536);
    ck_assert_uint_eq(s->limits.ciphertext, 65536);
    ck_assert_uint_eq(s->limits.out_cap, 256 * 1024);
    ck_assert(!memcmp(&s->limits, &c->limits, sizeof s->limits));
    tls_server_config_unref(s);
    tls_client_config_unref(c);
}
END_TEST

START_TEST(test_limits_config_bounds)
{
    static const struct {
        size_t hs, plain, cipher;
        uint32_t empty, updates;
        const char *name; /* NULL: accepted */
    } cases[] = {
        {1023, 0, 0, 0, 0, "max_handshake_message_size"},
        {1024, 0, 0, 0, 0, NULL},
        {TLS_MAX_LIMIT_SIZE, 0, 0, 0, 0, NULL},
        {TLS_MAX_LIMIT_SIZE + 1, 0, 0, 0, 0, "max_handshake_message_size"},
        {0, 16383, 0, 0, 0, "max_buffered_plaintext"},
        {0, 16384, 0, 0, 0, NULL},
        {0, TLS_MAX_LIMIT_SIZE + 1, 0, 0, 0, "max_buffered_plaintext"},
        {0, 0, 16383, 0, 0, "max_buffered_ciphertext"},
        {0, 0, TLS_MAX_LIMIT_SIZE, 0, 0, NULL},
        {0, 0, (size_t)-1, 0, 0, "max_buffered_ciphertext"},
        {0, 0, 0, 1, 1, NULL},
        {0, 0, 0, TLS_MAX_FLOOD_LIMIT, TLS_MAX_FLOOD_LIMIT, NULL},
        {0, 0, 0, TLS_MAX_FLOOD_LIMIT + 1, 0, "max_empty_records"},
        {0, 0, 0, 0, TLS_MAX_FLOOD_LIMIT + 1, "max_key_updates"},
        {0, 0, 0, UINT32_MAX, 0, "max_empty_records"},
    };
    char msg[256];

    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        tls_server_config_params sp = server_params(KT_P256);
        tls_client_config_params cp = client_params(KT_P256);
        sp.max_handshake_message_size = cp.max_handshake_message_size = cases[i].hs;
        sp.max_buffered_plaintext = cp.max_buffered_plaintext = cases[i].plain;
        sp.max_buffered_ciphertext = cp.max_buffered_ciphertext = cases[i].cipher;
        sp.max_empty_records = cp.max_empty_records = cases[i].empty;
        sp.max_key_updates = cp.max_key_updates = cases[i].updates;
        tls_error want = cases[i].name ? TLS_ERR_CONFIG : TLS_OK;
        ck_assert_msg(server_config_error(&sp, msg, sizeof msg) == want, "server case %zu: %s", i,
                      msg);
        if (cases[i].name)
            ck_assert_msg(strstr(msg, cases[i].name), "case %zu: %s", i, msg);
        ck_assert_msg(client_config_error(&cp, msg, sizeof msg) == want, "client case %zu: %s", i,
                      msg);
        if (cases[i].name)
            ck_assert_msg(strstr(msg, cases[i].name), "case %zu: %s", i, msg);
    }
}
END_TEST

START_TEST(test_limits_config_certificate_chain)
{
    tls_client_config_params cp = client_params(KT_P256);
    char msg[256];
    tls_client_config *c;

    cp.max_certificate_chain_size = 1023;
    ck_assert_int_eq(client_config_error(&cp, msg, sizeof msg), TLS_ERR_CONFIG);
    ck_assert_msg(strstr(msg, "max_certificate_chain_size"), "%s", msg);

    /* Default: the message limit, whatever it is. */
    cp.max_certificate_chain_size = 0;
    cp.max_handshake_message_size = 4096;
    c = engine_client_config(&cp);
    ck_assert_uint_eq(c->limits.certificate_chain, 4096);
    tls_client_config_unref(c);

    /* Larger than the message limit is allowed: it is the Certificate's own limit. */
    cp.max_certificate_chain_size = 1 << 20;
    c = engine_client_config(&cp);
    ck_assert_uint_eq(c->limits.certificate_chain, 1 << 20);
    ck_assert_uint_eq(c->limits.handshake_message, 4096);
    tls_client_config_unref(c);
}
END_TEST

START_TEST(test_limits_config_out_cap_scales)
{
    tls_server_config_params sp = server_params(KT_P256);
    sp.max_buffered_plaintext = 1 << 20;
    tls_server_config *s = engine_server_config(&sp);
    ck_assert_uint_eq(s->limits.out_cap, 4u << 20);
    tls_server_config_unref(s);

    sp.max_buffered_plaintext = 16384;
    sp.max_buffered_ciphertext = 16384;
    s = engine_server_config(&sp);
    ck_assert_uint_eq(s->limits.out_cap, 256 * 1024); /* never below the old hard cap */
    tls_server_config_unref(s);
}
END_TEST

/* ==== handshake message size (server) ============================================================
 */

/* A ClientHello of exactly `body` bytes against a server whose limit is `limit`. */
static void hello_of_size(size_t limit, size_t body, bool want_ok)
{
    uint8_t *exts = malloc(body);
    tls_server_config_params sp = server_params(KT_P256);
    tc_options o = padded_hello(exts, body);
    tc_pair p;

    sp.max_handshake_message_size = limit;
    tc_pair_init(&p, &sp, &o);
    if (want_ok) {
        tc_handshake(&p);
    } else {
        tc_start(p.c);
        tc_assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_HANDSHAKE_TOO_LARGE,
                         TLS_ALERT_DECODE_ERROR);
    }
    tc_pair_free(&p);
    free(exts);
}

START_TEST(test_limits_client_hello_at_limit_completes)
{
    hello_of_size(2048, 2048, true);
}
END_TEST

START_TEST(test_limits_client_hello_over_limit_decode_error)
{
    hello_of_size(2048, 2049, false);
}
END_TEST

START_TEST(test_limits_client_hello_over_default_refused)
{
    /* The largest ClientHello the extensions block allows is just over 64 KiB. */
    hello_of_size(0, 65560, false);
}
END_TEST

START_TEST(test_limits_client_hello_raised_limit_admits)
{
    hello_of_size(128 * 1024, 65560, true);
}
END_TEST

/* The header alone decides, even split over two records; nothing of the body is kept. */
START_TEST(test_limits_header_over_limit_fails_before_body)
{
    static const uint8_t head1[2] = {TLS_HS_CLIENT_HELLO, 0x00};
    static const uint8_t head2[2] = {0x08, 0x01}; /* 2049 */
    tls_server_config_params sp = server_params(KT_P256);
    tc_pair p;

    sp.max_handshake_message_size = 2048;
    tc_pair_init(&p, &sp, NULL);
    tc_inject_plain_record(p.c, TLS_CT_HANDSHAKE, head1, sizeof head1);
    ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
    ck_assert_uint_eq(p.s->hs_in.len, 2);
    tc_inject_plain_record(p.c, TLS_CT_HANDSHAKE, head2, sizeof head2);
    tc_assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_HANDSHAKE_TOO_LARGE, TLS_ALERT_DECODE_ERROR);
    tc_pair_free(&p);
}
END_TEST

/* A message under the limit split over many records is gathered in hs_in, which never
 * holds more than the message (the limit plus its header). */
START_TEST(test_limits_split_message_buffer_bounded)
{
    uint8_t *exts = malloc(3000);
    tls_server_config_params sp = server_params(KT_P256);
    tc_options o = padded_hello(exts, 3000);
    tc_pair p;

    o.client_hello_records = 7;
    sp.max_handshake_message_size = 3000;
    tc_pair_init(&p, &sp, &o);
    tc_start(p.c);
    /* Feed 200 bytes at a time: hs_in grows only to the message. */
    size_t len = 0;
    const uint8_t *out = tc_out(p.c, &len);
    uint8_t *hello = malloc(len);
    memcpy(hello, out, len);
    tc_out_consume(p.c, len);
    for (size_t off = 0, used = 0; off < len; off += used) {
        size_t k = len - off < 200 ? len - off : 200;
        ck_assert_int_eq(tls_conn_read_tls(p.s, hello + off, k, &used), TLS_OK);
        ck_assert_uint_eq(used, k);
        ck_assert_int_eq(tls_conn_process(p.s), TLS_OK);
        ck_assert_uint_le(p.s->hs_in.cap, 3004);
        ck_assert_uint_le(p.s->hs_in.len, 3004);
    }
    free(hello);
    ck_assert(tls_conn_wants_write(p.s)); /* the ClientHello was whole: an answer is ready */
    ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
    ck_assert_msg(!p.c->failed, "client: %s", p.c->error);
    ck_assert_int_eq(p.c->state, TC_STATE_CONNECTED);
    ck_assert_ptr_null(p.s->hs_in.p); /* released once the message was handled */
    tc_pair_free(&p);
    free(exts);
}
END_TEST

/* ==== certificate chain size (client)
 * ============================================================== */

/* An engine client with limits against an engine server of key type kt (RSA: a ~2.7 KiB
 * chain), TLS 1.3 or TLS 1.2 only. */
static void chain_pair(engine_pair *p, int kt, bool tls12, size_t hs, size_t chain)
{
    tls_client_config_params cp = client_params(kt);
    tls_server_config_params sp = server_params(kt);
    cp.max_handshake_message_size = hs;
    cp.max_certificate_chain_size = chain;
    if (tls12) {
        cp.versions = only_tls12;
        cp.n_versions = 1;
    }
    engine_pair_init(p, engine_client_config(&cp), engine_server_config(&sp), NAME);
}

static size_t chain_message_len(int kt)
{
    size_t n = 3; /* certificate_list length; TLS 1.3 adds a context byte and extensions */
    for (size_t i = 0; i < end_ck[kt]->n_chain; i++)
        n += 3 + end_ck[kt]->chain_len[i] + 2;
    return n + 1;
}

static void chain_refused(bool tls12)
{
    engine_pair p;
    ck_assert_uint_gt(chain_message_len(KT_RSA), 2048 + 500);
    chain_pair(&p, KT_RSA, tls12, 0, 2048);
    engine_shuttle(&p);
    ck_assert_msg(p.cerr == TLS_ERR_HANDSHAKE_TOO_LARGE, "client: %s", tls_error_name(p.cerr));
    ck_assert_int_eq(p.serr, TLS_ERR_ALERT_RECEIVED);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_DECODE_ERROR);
    engine_pair_free(&p);
}

START_TEST(test_limits_chain_over_limit_refused_tls13)
{
    chain_refused(false);
}
END_TEST

START_TEST(test_limits_chain_over_limit_refused_tls12)
{
    chain_refused(true);
}
END_TEST

/* The chain limit above the message limit: the Certificate passes, every other message
 * of the flight (sent together in one record) is held to 1024 bytes and passes too. */
START_TEST(test_limits_chain_limit_above_message_limit)
{
    for (int v = 0; v < 2; v++) {
        engine_pair p;
        chain_pair(&p, KT_RSA, v == 1, 1024, 8192);
        engine_shuttle(&p);
        engine_assert_ok(&p);
        ck_assert(!tls_conn_is_handshaking(p.c));
        engine_transfer(&p, p.s, p.c, 5000, 7);
        engine_pair_free(&p);
    }
}
END_TEST

/* A message limit below the chain, without a chain limit: the chain is refused. */
START_TEST(test_limits_chain_follows_message_limit)
{
    engine_pair p;
    chain_pair(&p, KT_RSA, false, 2048, 0);
    engine_shuttle(&p);
    ck_assert_int_eq(p.cerr, TLS_ERR_HANDSHAKE_TOO_LARGE);
    engine_pair_free(&p);
}
END_TEST

/* ==== buffered plaintext and ciphertext
 * ============================================================= */

static uint8_t big[1 << 20];

START_TEST(test_limits_pending_plaintext_capped)
{
    static const size_t limits[] = {0, 16384, 100000};
    static const size_t want[] = {65536, 16384, 100000};
    for (size_t i = 0; i < 3; i++) {
        tls_server_config_params sp = server_params(KT_P256);
        tc_pair p;
        size_t n = 0;
        uint8_t got[100001];

        sp.max_buffered_plaintext = limits[i];
        tc_pair_init(&p, &sp, NULL);
        engine_fill_pattern(big, sizeof big, (uint32_t)i);
        ck_assert_int_eq(tls_conn_write(p.s, big, sizeof big, &n), TLS_OK);
        ck_assert_uint_eq(n, want[i]);
        ck_assert_int_eq(tls_conn_write(p.s, big, sizeof big, &n), TLS_OK);
        ck_assert_uint_eq(n, 0); /* full until the handshake completes */
        tc_handshake(&p);
        ck_assert_uint_eq(tc_read(p.c, got, sizeof got), want[i]);
        ck_assert(!memcmp(got, big, want[i]));
        tc_pair_free(&p);
    }
}
END_TEST

/* Decrypted data waiting for tls_conn_read never exceeds the limit; reads are partial
 * (backpressure) and every byte arrives in order. */
START_TEST(test_limits_received_plaintext_capped)
{
    static const size_t limits[] = {16384, 40000};
    for (size_t i = 0; i < 2; i++) {
        const size_t total = 300000;
        tls_server_config_params sp = server_params(KT_P256);
        uint8_t *got = malloc(total);
        size_t n = 0, k;
        tc_pair p;

        sp.max_buffered_plaintext = limits[i];
        tc_pair_init(&p, &sp, NULL);
        tc_handshake(&p);
        engine_fill_pattern(big, total, 99);
        tc_write(p.c, big, total);
        for (int round = 0; round < 1000 && n < total; round++) {
            ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
            ck_assert_uint_le(p.s->app_in.len, limits[i]);
            /* Records are decrypted into app_in's tail: its memory may pass the limit
             * by a TLS 1.3 record's padding and type (256 bytes), its data never. */
            ck_assert_uint_le(p.s->app_in.cap, limits[i] + 256);
            if (p.s->app_in.len && p.s->app_in.len + 16385 > limits[i])
                ck_assert(!tls_conn_wants_read(p.s));
            /* Read a little at a time so the buffer is often near full. */
            ck_assert_int_eq(tls_conn_read(p.s, got + n, 7000 < total - n ? 7000 : total - n, &k),
                             TLS_OK);
            n += k;
        }
        ck_assert_uint_eq(n, total);
        ck_assert(!memcmp(got, big, total));
        ck_assert_uint_gt(p.c->server_partial_reads, 0);
        tc_pair_free(&p);
        free(got);
    }
}
END_TEST

START_TEST(test_limits_ciphertext_write_mark)
{
    static const size_t limits[] = {0, 16384, 1 << 20};
    static const size_t want[] = {65536, 16384, 1 << 20};
    for (size_t i = 0; i < 3; i++) {
        tls_server_config_params sp = server_params(KT_P256);
        tc_pair p;
        size_t n = 0, pending = 0;

        sp.max_buffered_ciphertext = limits[i];
        tc_pair_init(&p, &sp, NULL);
        tc_handshake(&p);
        ck_assert_ptr_null(tls_conn_peek_tls(p.s, &pending));
        ck_assert_int_eq(tls_conn_write(p.s, big, sizeof big, &n), TLS_OK);
        ck_assert_uint_eq(n, want[i]);
        tls_conn_peek_tls(p.s, &pending);
        ck_assert_uint_ge(pending, want[i]);
        ck_assert_uint_lt(pending, want[i] + 16384 + 22);
        ck_assert_int_eq(tls_conn_write(p.s, big, sizeof big, &n), TLS_OK);
        ck_assert_uint_eq(n, 0);
        ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
        ck_assert_uint_eq(p.c->app.len, want[i]);
        tc_pair_free(&p);
    }
}
END_TEST

/* ==== floods: TLS 1.3 server
 * ======================================================================= */

static void tc_default(tc_pair *p)
{
    tls_server_config_params sp = server_params(KT_P256);
    tc_pair_init(p, &sp, NULL);
    tc_handshake(p);
}

START_TEST(test_limits_user_canceled_flood)
{
    tc_pair p;
    tc_default(&p);
    for (int i = 0; i < MAX_IDLE; i++)
        tc_send_alert(p.c, 1, TLS_ALERT_USER_CANCELED);
    ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
    tc_send_alert(p.c, 1, TLS_ALERT_USER_CANCELED);
    tc_assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_TOO_MANY_EMPTY_RECORDS,
                     TLS_ALERT_UNEXPECTED_MESSAGE);
    ck_assert_int_eq(p.c->alerts[0].epoch, TC_EPOCH_APPLICATION);
    tc_pair_free(&p);
}
END_TEST

START_TEST(test_limits_empty_records_and_warnings_count_together)
{
    tc_pair p;
    tc_default(&p);
    for (int i = 0; i < MAX_IDLE; i++) {
        if (i % 2)
            tc_send_alert(p.c, 1, TLS_ALERT_USER_CANCELED);
        else
            tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0, 0);
    }
    ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
    tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0, 0);
    tc_assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_TOO_MANY_EMPTY_RECORDS,
                     TLS_ALERT_UNEXPECTED_MESSAGE);
    tc_pair_free(&p);
}
END_TEST

/* Each requested KeyUpdate is answered (our output stays bounded by the count). */
START_TEST(test_limits_requested_key_update_flood)
{
    tc_pair p;
    tc_default(&p);
    for (int i = 0; i < MAX_KEY_UPDATES; i++)
        tc_send_key_update(p.c, true);
    ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
    ck_assert_uint_eq(p.c->key_updates, MAX_KEY_UPDATES);
    tc_send_key_update(p.c, true);
    tc_assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_TOO_MANY_KEY_UPDATES,
                     TLS_ALERT_UNEXPECTED_MESSAGE);
    ck_assert_uint_eq(p.c->key_updates, MAX_KEY_UPDATES);
    tc_pair_free(&p);
}
END_TEST

START_TEST(test_limits_empty_records_do_not_reset_key_updates)
{
    tc_pair p;
    tc_default(&p);
    for (int i = 0; i < MAX_KEY_UPDATES; i++) {
        tc_send_key_update(p.c, false);
        tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0, 0);
    }
    ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
    tc_send_key_update(p.c, false);
    tc_assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_TOO_MANY_KEY_UPDATES,
                     TLS_ALERT_UNEXPECTED_MESSAGE);
    tc_pair_free(&p);
}
END_TEST

START_TEST(test_limits_key_updates_do_not_reset_empty_records)
{
    tc_pair p;
    tc_default(&p);
    for (int i = 0; i < MAX_IDLE; i++) {
        tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0, 0);
        if (i % 4 == 0)
            tc_send_key_update(p.c, false);
    }
    ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
    tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0, 0);
    tc_assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_TOO_MANY_EMPTY_RECORDS,
                     TLS_ALERT_UNEXPECTED_MESSAGE);
    tc_pair_free(&p);
}
END_TEST

/* The flood bounds are the config's: lower and higher than the defaults. */
START_TEST(test_limits_configured_empty_records)
{
    static const uint32_t limits[] = {4, 100};
    for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
        tls_server_config_params sp = server_params(KT_P256);
        sp.max_empty_records = limits[k];
        tc_pair p;
        tc_pair_init(&p, &sp, NULL);
        tc_handshake(&p);
        for (uint32_t i = 0; i < limits[k]; i++)
            tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0, 0);
        ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
        tc_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0, 0);
        tc_assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_TOO_MANY_EMPTY_RECORDS,
                         TLS_ALERT_UNEXPECTED_MESSAGE);
        tc_pair_free(&p);
    }
}
END_TEST

START_TEST(test_limits_configured_key_updates)
{
    static const uint32_t limits[] = {3, 40};
    for (size_t k = 0; k < sizeof limits / sizeof limits[0]; k++) {
        tls_server_config_params sp = server_params(KT_P256);
        sp.max_key_updates = limits[k];
        tc_pair p;
        tc_pair_init(&p, &sp, NULL);
        tc_handshake(&p);
        for (uint32_t i = 0; i < limits[k]; i++)
            tc_send_key_update(p.c, true);
        ck_assert_int_eq(tc_pump(p.c, p.s, 0), TLS_OK);
        ck_assert_uint_eq(p.c->key_updates, limits[k]);
        tc_send_key_update(p.c, true);
        tc_assert_failed(&p, tc_pump(p.c, p.s, 0), TLS_ERR_TOO_MANY_KEY_UPDATES,
                         TLS_ALERT_UNEXPECTED_MESSAGE);
        tc_pair_free(&p);
    }
}
END_TEST

/* ==== floods: TLS 1.2 server
 * ======================================================================== */

typedef struct {
    tls_server_config *cfg;
    tls_conn *s;
    t12_client *c;
} t12_pair;

static void t12_default(t12_pair *p)
{
    tls_server_config_params sp = server_params(KT_P256);
    p->cfg = engine_server_config(&sp);
    ck_assert_int_eq(tls_server_conn_new(p->cfg, &p->s), TLS_OK);
    p->c = t12_client_new(NULL);
    t12_start(p->c);
    ck_assert_int_eq(t12_pump(p->c, p->s, 0), TLS_OK);
    ck_assert_msg(!p->c->failed, "client: %s", p->c->error);
    ck_assert_int_eq(p->c->state, T12_STATE_CONNECTED);
    ck_assert_uint_eq(tls_conn_version(p->s), TLS_VERSION_1_2);
}

static void t12_pair_free(t12_pair *p)
{
    t12_client_free(p->c);
    tls_conn_free(p->s);
    tls_server_config_unref(p->cfg);
}

static void t12_assert_flood_closed(t12_pair *p, tls_error got)
{
    ck_assert_msg(got == TLS_ERR_TOO_MANY_EMPTY_RECORDS, "server: %s", tls_error_name(got));
    ck_assert_int_eq(tls_conn_error(p->s), TLS_ERR_TOO_MANY_EMPTY_RECORDS);
    ck_assert_uint_eq(p->c->n_alerts, 1);
    ck_assert_uint_eq(p->c->alerts[0].level, 2);
    ck_assert_uint_eq(p->c->alerts[0].desc, TLS_ALERT_UNEXPECTED_MESSAGE);
    ck_assert(p->c->alerts[0].encrypted);
}

START_TEST(test_limits_tls12_empty_records_flood)
{
    static const uint8_t x = 'x';
    t12_pair p;
    t12_default(&p);
    /* Data resets the count. */
    for (int i = 0; i < MAX_IDLE; i++)
        t12_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0);
    t12_write(p.c, &x, 1);
    for (int i = 0; i < MAX_IDLE; i++)
        t12_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0);
    ck_assert_int_eq(t12_pump(p.c, p.s, 0), TLS_OK);
    t12_inject_record(p.c, TLS_CT_APPLICATION_DATA, NULL, 0);
    t12_assert_flood_closed(&p, t12_pump(p.c, p.s, 0));
    t12_pair_free(&p);
}
END_TEST

START_TEST(test_limits_tls12_warning_alert_flood)
{
    t12_pair p;
    t12_default(&p);
    for (int i = 0; i < MAX_IDLE; i++)
        t12_send_alert(p.c, 1, TLS_ALERT_NO_RENEGOTIATION);
    ck_assert_int_eq(t12_pump(p.c, p.s, 0), TLS_OK);
    t12_send_alert(p.c, 1, TLS_ALERT_USER_CANCELED);
    t12_assert_flood_closed(&p, t12_pump(p.c, p.s, 0));
    t12_pair_free(&p);
}
END_TEST

/* ==== floods: clients
 * ================================================================================ */

static tls_error accept_all(void *arg, const uint8_t *const *chain, const size_t *lens, size_t n,
                            const char *name, int64_t now)
{
    (void)arg, (void)chain, (void)lens, (void)n, (void)name, (void)now;
    return TLS_OK;
}

static tls_client_config *accepting_client(const uint16_t *versions, size_t n_versions)
{
    tls_client_config_params cp;
    memset(&cp, 0, sizeof cp);
    cp.verifier = accept_all;
    cp.versions = versions;
    cp.n_versions = n_versions;
    return engine_client_config(&cp);
}

START_TEST(test_limits_client_empty_records_flood)
{
    static const uint8_t x = 'x';
    tls_client_config *cfg = accepting_client(NULL, 0);
    ts_flight_opts f = {.ck = end_ck[KT_P256]};
    ts_server *ts = ts_new();
    tls_conn *c;

    ck_assert_int_eq(tls_client_conn_new(cfg, NAME, &c), TLS_OK);
    ck_assert_int_eq(ts_pump(ts, c), TLS_OK);
    ts_server_hello(ts, NULL);
    ts_flight(ts, &f);
    ck_assert_int_eq(ts_pump(ts, c), TLS_OK);
    ck_assert(!tls_conn_is_handshaking(c));
    for (int i = 0; i < MAX_IDLE; i++)
        ts_send_record(ts, TLS_CT_APPLICATION_DATA, NULL, 0);
    ts_write(ts, &x, 1);
    for (int i = 0; i < MAX_IDLE; i++)
        ts_send_record(ts, TLS_CT_APPLICATION_DATA, NULL, 0);
    ck_assert_int_eq(ts_pump(ts, c), TLS_OK);
    ts_send_record(ts, TLS_CT_APPLICATION_DATA, NULL, 0);
    ck_assert_int_eq(ts_pump(ts, c), TLS_ERR_TOO_MANY_EMPTY_RECORDS);
    ck_assert_int_eq(tls_conn_error(c), TLS_ERR_TOO_MANY_EMPTY_RECORDS);
    ck_assert_uint_eq(ts->n_alerts, 1);
    ck_assert_uint_eq(ts->alerts[0].desc, TLS_ALERT_UNEXPECTED_MESSAGE);
    ck_assert_uint_eq(ts->alerts[0].level, 2);
    ck_assert(ts->alerts[0].protected_);
    ts_free(ts);
    tls_conn_free(c);
    tls_client_config_unref(cfg);
}
END_TEST

START_TEST(test_limits_client12_empty_records_flood)
{
    tls_client_config *cfg = accepting_client(only_tls12, 1);
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256};
    ts12_flight_opts f = {.ck = end_ck[KT_P256]};
    ts12_server *ts = ts12_new();
    tls_conn *c;

    ck_assert_int_eq(tls_client_conn_new(cfg, NAME, &c), TLS_OK);
    ck_assert_int_eq(ts12_pump(ts, c), TLS_OK);
    ts12_server_hello(ts, &h);
    ts12_flight(ts, &f);
    ck_assert_int_eq(ts12_pump(ts, c), TLS_OK);
    ts12_finish(ts, NULL);
    ck_assert_int_eq(ts12_pump(ts, c), TLS_OK);
    ck_assert_msg(!ts->failed, "server: %s", ts->error);
    ck_assert(!tls_conn_is_handshaking(c));
    for (int i = 0; i < MAX_IDLE; i++)
        ts12_send_record(ts, TLS_CT_APPLICATION_DATA, NULL, 0);
    ck_assert_int_eq(ts12_pump(ts, c), TLS_OK);
    ts12_send_record(ts, TLS_CT_APPLICATION_DATA, NULL, 0);
    ck_assert_int_eq(ts12_pump(ts, c), TLS_ERR_TOO_MANY_EMPTY_RECORDS);
    ck_assert_uint_eq(ts->n_alerts, 1);
    ck_assert_uint_eq(ts->alerts[0].desc, TLS_ALERT_UNEXPECTED_MESSAGE);
    ck_assert_uint_eq(ts->alerts[0].level, 2);
    ck_assert(ts->alerts[0].protected_);
    ts12_free(ts);
    tls_conn_free(c);
    tls_client_config_unref(cfg);
}
END_TEST

/* ==== the suite
 * ============================================================================================ */

static Suite *make_suite(void)
{
    Suite *s = suite_create("limits");
    TCase *tc;

    tc = tcase_create("config");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_limits_config_defaults_are_the_old_caps);
    tcase_add_test(tc, test_limits_config_bounds);
    tcase_add_test(tc, test_limits_config_certificate_chain);
    tcase_add_test(tc, test_limits_config_out_cap_scales);
    suite_add_tcase(s, tc);

    tc = tcase_create("handshake_message");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_limits_client_hello_at_limit_completes);
    tcase_add_test(tc, test_limits_client_hello_over_limit_decode_error);
    tcase_add_test(tc, test_limits_client_hello_over_default_refused);
    tcase_add_test(tc, test_limits_client_hello_raised_limit_admits);
    tcase_add_test(tc, test_limits_header_over_limit_fails_before_body);
    tcase_add_test(tc, test_limits_split_message_buffer_bounded);
    suite_add_tcase(s, tc);

    tc = tcase_create("certificate_chain");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_limits_chain_over_limit_refused_tls13);
    tcase_add_test(tc, test_limits_chain_over_limit_refused_tls12);
    tcase_add_test(tc, test_limits_chain_limit_above_message_limit);
    tcase_add_test(tc, test_limits_chain_follows_message_limit);
    suite_add_tcase(s, tc);

    tc = tcase_create("buffers");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 30);
    tcase_add_test(tc, test_limits_pending_plaintext_capped);
    tcase_add_test(tc, test_limits_received_plaintext_capped);
    tcase_add_test(tc, test_limits_ciphertext_write_mark);
    suite_add_tcase(s, tc);

    tc = tcase_create("floods");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_limits_user_canceled_flood);
    tcase_add_test(tc, test_limits_empty_records_and_warnings_count_together);
    tcase_add_test(tc, test_limits_requested_key_update_flood);
    tcase_add_test(tc, test_limits_empty_records_do_not_reset_key_updates);
    tcase_add_test(tc, test_limits_key_updates_do_not_reset_empty_records);
    tcase_add_test(tc, test_limits_configured_empty_records);
    tcase_add_test(tc, test_limits_configured_key_updates);
    tcase_add_test(tc, test_limits_tls12_empty_records_flood);
    tcase_add_test(tc, test_limits_tls12_warning_alert_flood);
    tcase_add_test(tc, test_limits_client_empty_records_flood);
    tcase_add_test(tc, test_limits_client12_empty_records_flood);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
