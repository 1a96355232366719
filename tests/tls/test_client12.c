/*
 * test_client12.c — the TLS 1.2 client engine end to end through its public pipe API
 * (tls/hs/tls12_client.c, the hand-over in tls/hs/tls13_client.c, the TLS 1.2 server
 * message decoders in tls/msgs/server_msgs.c, and the TLS 1.2 client side of tls/conn.c).
 *
 * Happy paths run an engine client against an engine server in memory: every TLS 1.2
 * suite × group × matching key type verified against the test CA, from a TLS 1.2-only
 * client (to a TLS 1.3 server, which marks its random with the downgrade sentinel a 1.2
 * client must ignore) and from a TLS 1.2+1.3 client (to a TLS 1.2-only server); EMS,
 * ALPN, SNI, bulk data, close_notify.
 *
 * The adversarial set runs the client against the scripted TLS 1.2 server of
 * tests/lib/testserver12.c, which sends whatever is asked of it, and asserts the exact
 * tls_error the client latches and the alert it put on the wire, with whether that alert
 * was protected.
 *
 * Certified keys and root stores are loaded once, in the parent process (an unchecked
 * fixture); each test runs forked.
 */
#include "tests/lib/enginepair.h"
#include "tests/lib/testserver12.h"
#include "tests/lib/unit.h"
#include "tls/conn.h"
#include "tls/internal.h"
#include "tls/msgs/msgs.h"
#include "tls/record.h"

#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERTS "tests/certs/"
#define NAME "testserver.com"

/* What the engine server signs ServerKeyExchange with, by key type. */
static const uint16_t kt_schemes[KT_COUNT] = {
    TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ECDSA_SECP384R1_SHA384};

static const uint16_t rsa_suites[] = {TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                                      TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
                                      TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256};
static const uint16_t ecdsa_suites[] = {TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                                        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                                        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256};
static const uint16_t all_groups[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1, TLS_GROUP_SECP384R1};
static const uint16_t only_tls12[] = {TLS_VERSION_1_2};
static const uint8_t sentinel12[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum {
    HS_HELLO_REQUEST = 0,
    HS_SERVER_KEY_EXCHANGE = 12,
    HS_SERVER_HELLO_DONE = 14,
    HS_CLIENT_KEY_EXCHANGE = 16
};

/* ---- a verifier callback that says what it is told to ------------------------------------- */

static struct {
    tls_error answer;
    unsigned calls;
} verifier;

static tls_error test_verifier(void *arg, const uint8_t *const *chain, const size_t *lens, size_t n,
                               const char *name, int64_t now)
{
    (void)arg, (void)chain, (void)lens, (void)n, (void)name, (void)now;
    verifier.calls++;
    return verifier.answer;
}

/* ---- configs and pairs ---------------------------------------------------------------------- */

/* Trusts kt's CA; TLS 1.2 only unless `with13`. */
static tls_client_config_params client_params(int kt, bool with13)
{
    tls_client_config_params p;
    memset(&p, 0, sizeof p);
    p.roots = roots[kt];
    if (!with13)
        p.versions = only_tls12, p.n_versions = 1;
    return p;
}

/* A TLS 1.2-only client config whose verifier accepts everything (for the scripted
 * server); base may be NULL. */
static tls_client_config *accepting_config(const tls_client_config_params *base)
{
    tls_client_config_params p;
    if (base) {
        p = *base;
    } else {
        memset(&p, 0, sizeof p);
        p.versions = only_tls12, p.n_versions = 1;
    }
    p.roots = NULL;
    p.verifier = test_verifier;
    memset(&verifier, 0, sizeof verifier);
    return engine_client_config(&p);
}

/* Key type kt; TLS 1.2 only unless `with13`. */
static tls_server_config_params server_params(int kt, bool with13)
{
    tls_server_config_params p;
    memset(&p, 0, sizeof p);
    p.certs = &end_ck[kt];
    p.n_certs = 1;
    if (!with13)
        p.versions = only_tls12, p.n_versions = 1;
    return p;
}

/* A TLS 1.2-only client (roots of kt) and a TLS 1.2-only server (key type kt). */
static void pair_default(engine_pair *p, int kt, const char *name)
{
    tls_client_config_params cp = client_params(kt, false);
    tls_server_config_params sp = server_params(kt, false);
    engine_pair_init(p, engine_client_config(&cp), engine_server_config(&sp), name);
}

static void handshake(engine_pair *p)
{
    engine_shuttle(p);
    engine_assert_ok(p);
    ck_assert(!tls_conn_is_handshaking(p->c));
    ck_assert(!tls_conn_is_handshaking(p->s));
    ck_assert_uint_eq(tls_conn_version(p->c), TLS_VERSION_1_2);
    ck_assert_uint_eq(tls_conn_version(p->s), TLS_VERSION_1_2);
}

/* ---- scripted-server helpers ------------------------------------------------------------------
 */

typedef struct {
    tls_client_config *cfg;
    tls_conn *c;
    ts12_server *ts;
    tls_error err; /* first error the client returned */
} scripted;

static void scripted_init(scripted *sc, tls_client_config *cfg, const char *name)
{
    memset(sc, 0, sizeof *sc);
    sc->cfg = cfg;
    ck_assert_int_eq(tls_client_conn_new(cfg, name, &sc->c), TLS_OK);
    sc->ts = ts12_new();
    ck_assert_int_eq(ts12_pump(sc->ts, sc->c), TLS_OK);
    ck_assert_uint_eq(sc->ts->n_hellos, 1);
}

static void scripted_free(scripted *sc)
{
    ts12_free(sc->ts);
    tls_conn_free(sc->c);
    tls_client_config_unref(sc->cfg);
    memset(sc, 0, sizeof *sc);
}

static void pump(scripted *sc)
{
    tls_error e = ts12_pump(sc->ts, sc->c);
    if (sc->err == TLS_OK)
        sc->err = e;
}

static void assert_scripted_ok(const scripted *sc)
{
    ck_assert_msg(sc->err == TLS_OK, "client: %s", tls_error_name(sc->err));
    ck_assert_msg(!sc->ts->failed, "server: %s", sc->ts->error);
}

/* The ServerHello (h, its key type forced to P-256's when f is NULL) and flight f (NULL:
 * a correct one with the P-256 certificate), pumped: the client's flight is out. */
static void scripted_to_client_flight(scripted *sc, const ts12_hello_opts *h,
                                      const ts12_flight_opts *f)
{
    ts12_hello_opts hello = {.key_type = TLS_KEY_ECDSA_P256};
    ts12_flight_opts flight = {.ck = end_ck[KT_P256]};
    ts12_server_hello(sc->ts, h ? h : &hello);
    ts12_flight(sc->ts, f ? f : &flight);
    pump(sc);
    assert_scripted_ok(sc);
    ck_assert(sc->ts->finished_ok);
    ck_assert(tls_conn_is_handshaking(sc->c));
}

/* ... then the server's CCS and Finished: connected. */
static void scripted_handshake(scripted *sc, const ts12_hello_opts *h, const ts12_flight_opts *f)
{
    scripted_to_client_flight(sc, h, f);
    ts12_finish(sc->ts, NULL);
    pump(sc);
    assert_scripted_ok(sc);
    ck_assert(!tls_conn_is_handshaking(sc->c));
    ck_assert_uint_eq(tls_conn_version(sc->c), TLS_VERSION_1_2);
}

/* The client failed with `want` (returned and latched) and sent exactly one alert, fatal,
 * `alert`, protected iff `protected_`; nothing follows it. */
static void assert_client_failed(scripted *sc, tls_error want, int alert, bool protected_)
{
    ck_assert_msg(sc->err == want, "client returned %s, expected %s", tls_error_name(sc->err),
                  tls_error_name(want));
    ck_assert_msg(tls_conn_error(sc->c) == want, "latched %s",
                  tls_error_name(tls_conn_error(sc->c)));
    ck_assert_msg(!sc->ts->failed, "server: %s", sc->ts->error);
    ck_assert_msg(sc->ts->n_alerts == 1, "%u alerts", sc->ts->n_alerts);
    ck_assert_msg(sc->ts->alerts[0].desc == alert, "alert %s, expected %s",
                  tls_alert_name(sc->ts->alerts[0].desc), tls_alert_name(alert));
    ck_assert_uint_eq(sc->ts->alerts[0].level, 2);
    ck_assert_int_eq(sc->ts->alerts[0].protected_, protected_);
    uint8_t b[16];
    ck_assert_uint_eq(tls_conn_write_tls(sc->c, b, sizeof b), 0);
    size_t n;
    ck_assert_int_eq(tls_conn_process(sc->c), want);
    ck_assert_int_eq(tls_conn_write(sc->c, (const uint8_t *)"x", 1, &n), want);
}

/* A scripted ServerHello (nothing else) to a default accepting client (cp NULL). */
static void hello_fails(const ts12_hello_opts *h, const tls_client_config_params *cp,
                        const char *name, tls_error want, int alert)
{
    scripted sc;
    scripted_init(&sc, accepting_config(cp), name ? name : NAME);
    ts12_server_hello(sc.ts, h);
    pump(&sc);
    assert_client_failed(&sc, want, alert, false);
    scripted_free(&sc);
}

/* A correct ServerHello for f's key type, then flight f (ck defaults to P-256's). */
static void flight_fails(ts12_flight_opts f, const tls_client_config_params *cp, tls_error want,
                         int alert)
{
    scripted sc;
    if (!f.ck)
        f.ck = end_ck[KT_P256];
    ts12_hello_opts h = {.key_type = f.ck->key_type};
    scripted_init(&sc, accepting_config(cp), NAME);
    ts12_server_hello(sc.ts, &h);
    ts12_flight(sc.ts, &f);
    pump(&sc);
    assert_client_failed(&sc, want, alert, false);
    scripted_free(&sc);
}

/* ---- a ServerKeyExchange signer of the test's choosing ------------------------------------- */

typedef struct {
    const char *key_path;        /* sign with this key through mbedTLS directly... */
    mbedtls_md_type_t md;        /* ...hashing with this */
    const tls_certified_key *ck; /* or with this key through the engine... */
    uint16_t scheme;             /* ...and this scheme */
} signer;

static int rng(void *arg, unsigned char *buf, size_t len)
{
    (void)arg;
    return tls__random(buf, len) == TLS_OK ? 0 : -1;
}

static bool sign_with(void *arg, const uint8_t *msg, size_t len, uint8_t *sig, size_t cap,
                      size_t *sig_len)
{
    const signer *sg = arg;
    if (sg->ck)
        return tls__sign(sg->ck->key, sg->scheme, msg, len, sig, cap, sig_len) == TLS_OK;

    /* An ECDSA hash/curve engine_pair the engine's own signer refuses (it binds them as TLS 1.3
     * does), made the way OpenSSL makes it for TLS 1.2. */
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(sg->md);
    unsigned char hash[64];
    mbedtls_pk_context pk;
    bool ok = false;

    mbedtls_pk_init(&pk);
    if (md && mbedtls_md(md, msg, len, hash) == 0 &&
        mbedtls_pk_parse_keyfile(&pk, sg->key_path, NULL) == 0 &&
        cap >= MBEDTLS_PK_SIGNATURE_MAX_SIZE)
        ok = mbedtls_pk_sign(&pk, sg->md, hash, mbedtls_md_get_size(md), sig, sig_len, rng, NULL) ==
             0;
    mbedtls_pk_free(&pk);
    return ok;
}

/* ==== engine ⇄ engine
 * ===================================================================================== */

/* Key type and suite of each matrix row: RSA suites with the RSA key, ECDSA suites with
 * both ECDSA keys. */
static void matrix_row(int row, int *kt, uint16_t *suite)
{
    if (row < 3) {
        *kt = KT_RSA;
        *suite = rsa_suites[row];
    } else {
        *kt = row < 6 ? KT_P256 : KT_P384;
        *suite = ecdsa_suites[row % 3];
    }
}

/* 9 (key type, suite) rows × 3 groups × 2 modes: a TLS 1.2-only client and a default
 * (TLS 1.3 and 1.2) server, whose ServerHello then carries the downgrade sentinel; or a
 * default client and a TLS 1.2-only server, which sends none. */
START_TEST(test_client12_handshake_matrix)
{
    bool client13 = _i >= 27;
    int kt;
    uint16_t suite, group = all_groups[_i % 3];
    matrix_row((_i % 27) / 3, &kt, &suite);
    tls_client_config_params cp = client_params(kt, client13);
    tls_server_config_params sp = server_params(kt, !client13);
    engine_pair p;

    cp.cipher_suites = &suite, cp.n_cipher_suites = 1;
    if (client13) { /* a TLS 1.3 suite too, or TLS 1.3 would not be offered */
        static uint16_t suites[2] = {TLS_AES_128_GCM_SHA256};
        suites[1] = suite;
        cp.cipher_suites = suites, cp.n_cipher_suites = 2;
    }
    /* RFC 8422 §5.1: supported_groups also names the curves we can verify ECDSA on, so an
     * ECDSA key's curve must be offered; the server's single group picks the exchange. */
    uint16_t groups[2] = {group, kt == KT_P384 ? TLS_GROUP_SECP384R1 : TLS_GROUP_SECP256R1};
    cp.groups = groups, cp.n_groups = kt == KT_RSA || groups[0] == groups[1] ? 1 : 2;
    sp.groups = &group, sp.n_groups = 1;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    ck_assert(p.c->hs.client.offer.tls13 == client13);
    handshake(&p);
    /* The sentinel is there exactly when the server could have spoken TLS 1.3. */
    ck_assert_int_eq(!memcmp(p.s->hs.v12.server_random + 24, sentinel12, 8), !client13);
    ck_assert_uint_eq(tls_conn_cipher_suite(p.c), suite);
    ck_assert_uint_eq(tls_conn_cipher_suite(p.s), suite);
    ck_assert_uint_eq(tls_conn_group(p.c), group);
    ck_assert_uint_eq(tls_conn_group(p.s), group);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.c), kt_schemes[kt]);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.s), kt_schemes[kt]);
    ck_assert(tls_conn_ems(p.c));
    ck_assert(tls_conn_ems(p.s));
    ck_assert(!tls_conn_did_hrr(p.c));
    ck_assert_str_eq(tls_conn_server_name(p.c), NAME);
    ck_assert_str_eq(tls_conn_server_name(p.s), NAME);
    engine_transfer(&p, p.c, p.s, 1000, (uint32_t)_i);
    engine_transfer(&p, p.s, p.c, 1000, (uint32_t)_i + 100);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_defaults)
{
    size_t alpn_len;
    engine_pair p;
    pair_default(&p, KT_RSA, NAME);
    handshake(&p);
    /* The server's preferences among what we offer: AES-256 for an RSA key, X25519. */
    ck_assert_uint_eq(tls_conn_cipher_suite(p.c), TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384);
    ck_assert_uint_eq(tls_conn_group(p.c), TLS_GROUP_X25519);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.c), TLS_SIG_RSA_PSS_RSAE_SHA256);
    ck_assert_ptr_null(tls_conn_alpn(p.c, &alpn_len));
    ck_assert_uint_eq(tls_conn_peer_alert(p.s), TLS_ALERT_NONE);
    /* Secrets the handshake no longer needs are gone. */
    static const uint8_t zero[TLS12_MASTER_SECRET_LEN];
    ck_assert(!memcmp(p.c->hs.client.v12.master, zero, sizeof zero));
    ck_assert(!memcmp(p.c->hs.client.v12.key_block, zero, sizeof zero));
    ck_assert_ptr_null(p.c->hs.client.offer.hello);
    ck_assert_ptr_null(p.c->hs.client.offer.kx);
    ck_assert_ptr_null(p.c->hs.client.end_entity);
    engine_pair_free(&p);
}
END_TEST

/* The default client (TLS 1.3 offered) against a server that has only TLS 1.2. */
START_TEST(test_client12_tls13_client_gets_tls12)
{
    tls_client_config_params cp = client_params(KT_P256, true);
    tls_server_config_params sp = server_params(KT_P256, false);
    engine_pair p;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    handshake(&p);
    ck_assert(memcmp(p.s->hs.v12.server_random + 24, sentinel12, 7));
    ck_assert_uint_eq(tls_conn_cipher_suite(p.c), TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
    /* No TLS 1.3 middlebox-compatibility CCS went out: the one CCS was our key change. */
    ck_assert(!p.c->hs.client.offer.sent_ccs);
    engine_transfer(&p, p.c, p.s, 5000, 1);
    engine_transfer(&p, p.s, p.c, 5000, 2);
    engine_pair_free(&p);
}
END_TEST

/* EMS with a server that insists on it and one that does not (RFC 7627). */
START_TEST(test_client12_ems)
{
    for (int require = 0; require < 2; require++) {
        tls_client_config_params cp = client_params(KT_P256, false);
        tls_server_config_params sp = server_params(KT_P256, false);
        engine_pair p;
        sp.require_ems = require;
        engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
        handshake(&p);
        ck_assert(tls_conn_ems(p.c));
        ck_assert(tls_conn_ems(p.s));
        engine_transfer(&p, p.c, p.s, 2000, 3);
        engine_pair_free(&p);
    }
}
END_TEST

START_TEST(test_client12_alpn)
{
    static const char *const ours[] = {"h2", "http/1.1"};
    static const char *const theirs[] = {"http/1.1", "spdy/3"};
    tls_client_config_params cp = client_params(KT_P256, false);
    tls_server_config_params sp = server_params(KT_P256, false);
    const uint8_t *alpn;
    size_t len;
    engine_pair p;

    cp.alpn = ours, cp.n_alpn = 2;
    sp.alpn = theirs, sp.n_alpn = 2;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    handshake(&p);
    alpn = tls_conn_alpn(p.c, &len);
    ck_assert(alpn && len == 8 && !memcmp(alpn, "http/1.1", 8));
    alpn = tls_conn_alpn(p.s, &len);
    ck_assert(alpn && len == 8 && !memcmp(alpn, "http/1.1", 8));
    engine_pair_free(&p);

    /* A server without ALPN: nothing agreed, and that is fine. */
    sp = server_params(KT_P256, false);
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    handshake(&p);
    ck_assert_ptr_null(tls_conn_alpn(p.c, &len));
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_alpn_no_overlap)
{
    static const char *const ours[] = {"h2"};
    static const char *const theirs[] = {"http/1.1"};
    tls_client_config_params cp = client_params(KT_P256, false);
    tls_server_config_params sp = server_params(KT_P256, false);
    engine_pair p;

    cp.alpn = ours, cp.n_alpn = 1;
    sp.alpn = theirs, sp.n_alpn = 1;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    engine_shuttle(&p);
    ck_assert_int_eq(p.serr, TLS_ERR_NO_APPLICATION_PROTOCOL);
    ck_assert_int_eq(p.cerr, TLS_ERR_ALERT_RECEIVED);
    ck_assert_int_eq(tls_conn_peer_alert(p.c), TLS_ALERT_NO_APPLICATION_PROTOCOL);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_sni_seen_by_server)
{
    engine_pair p;
    pair_default(&p, KT_P256, "TestServer.com.");
    handshake(&p);
    ck_assert_str_eq(tls_conn_server_name(p.s), NAME);
    ck_assert_str_eq(tls_conn_server_name(p.c), "TestServer.com");
    engine_pair_free(&p);

    /* The server's SNI resolver picks the certificate the name asks for. */
    tls_client_config_params cp = client_params(KT_RSA, false);
    tls_server_config_params sp = server_params(KT_RSA, false);
    tls_certified_key *both[] = {end_ck[KT_RSA], other_ck[KT_RSA]};
    sp.certs = both, sp.n_certs = 2;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), "other.test");
    handshake(&p);
    ck_assert_str_eq(tls_conn_server_name(p.s), "other.test");
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_ip_literal_verified_without_sni)
{
    engine_pair p;
    pair_default(&p, KT_P384, "127.0.0.1");
    handshake(&p);
    ck_assert_ptr_null(tls_conn_server_name(p.s));
    ck_assert_str_eq(tls_conn_server_name(p.c), "127.0.0.1");
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_data_100k_both_ways)
{
    engine_pair p;
    pair_default(&p, KT_P256, NAME);
    handshake(&p);
    engine_transfer(&p, p.c, p.s, 100 * 1024, 7);
    engine_transfer(&p, p.s, p.c, 100 * 1024, 8);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_data_written_before_handshake)
{
    uint8_t got[64];
    size_t n, total = 0;
    engine_pair p;
    pair_default(&p, KT_RSA, NAME);
    ck_assert_int_eq(tls_conn_write(p.c, (const uint8_t *)"early bird", 10, &n), TLS_OK);
    ck_assert_uint_eq(n, 10);
    handshake(&p);
    do {
        ck_assert_int_eq(tls_conn_read(p.s, got + total, sizeof got - total, &n), TLS_OK);
        total += n;
    } while (n);
    ck_assert_uint_eq(total, 10);
    ck_assert(!memcmp(got, "early bird", 10));
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_close_notify)
{
    uint8_t buf[16];
    size_t n;
    engine_pair p;
    pair_default(&p, KT_P256, NAME);
    handshake(&p);
    engine_transfer(&p, p.c, p.s, 100, 1);
    tls_conn_send_close_notify(p.c);
    ck_assert_int_eq(tls_conn_write(p.c, (const uint8_t *)"x", 1, &n), TLS_ERR_CLOSED);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(tls_conn_peer_closed(p.s));
    /* The other direction stays open until the server closes too. */
    engine_transfer(&p, p.s, p.c, 100, 2);
    tls_conn_send_close_notify(p.s);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(tls_conn_peer_closed(p.c));
    ck_assert_int_eq(tls_conn_read(p.c, buf, sizeof buf, &n), TLS_OK);
    ck_assert_uint_eq(n, 0);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_small_fragments)
{
    tls_client_config_params cp = client_params(KT_RSA, false);
    tls_server_config_params sp = server_params(KT_RSA, false);
    engine_pair p;
    cp.max_fragment_size = 64;
    sp.max_fragment_size = 64; /* the server's flight arrives in many records */
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    handshake(&p);
    engine_transfer(&p, p.c, p.s, 5000, 3);
    engine_transfer(&p, p.s, p.c, 5000, 4);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_key_update_refused)
{
    engine_pair p;
    pair_default(&p, KT_P256, NAME);
    handshake(&p);
    ck_assert_int_eq(tls_conn_send_key_update(p.c, false), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_send_key_update(p.c, true), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_error(p.c), TLS_OK);
    engine_transfer(&p, p.c, p.s, 100, 5);
    engine_pair_free(&p);
}
END_TEST

/* ==== certificate verification
 * ======================================================================= */

START_TEST(test_client12_roots_wrong_name)
{
    engine_pair p;
    pair_default(&p, KT_P256, "other.test");
    engine_shuttle(&p);
    ck_assert_int_eq(p.cerr, TLS_ERR_CERT_NOT_VALID_FOR_NAME);
    ck_assert_int_eq(tls_conn_error(p.c), TLS_ERR_CERT_NOT_VALID_FOR_NAME);
    ck_assert_int_eq(p.serr, TLS_ERR_ALERT_RECEIVED);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_BAD_CERTIFICATE);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_roots_unknown_issuer)
{
    tls_client_config_params cp = client_params(KT_RSA, false); /* trusts the RSA CA only */
    tls_server_config_params sp = server_params(KT_P256, false);
    engine_pair p;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    engine_shuttle(&p);
    ck_assert_int_eq(p.cerr, TLS_ERR_CERT_UNKNOWN_ISSUER);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_UNKNOWN_CA);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client12_verifier_rejects)
{
    ts12_flight_opts f = {.ck = end_ck[KT_P256]};
    tls_client_config *cfg = accepting_config(NULL);
    verifier.answer = TLS_ERR_CERT_EXPIRED;
    scripted sc;
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256};
    scripted_init(&sc, cfg, NAME);
    ts12_server_hello(sc.ts, &h);
    ts12_flight(sc.ts, &f);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_CERT_EXPIRED, TLS_ALERT_CERTIFICATE_EXPIRED, false);
    ck_assert_uint_eq(verifier.calls, 1);
    scripted_free(&sc);
}
END_TEST

/* The dangerous config checks no chain, but still the key behind it. */
START_TEST(test_client12_dangerous_still_checks_signature)
{
    tls_client_config_params cp = client_params(KT_P256, false);
    tls_client_config *cfg = NULL;
    char err[256];
    scripted sc;
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256};
    ts12_flight_opts f = {.ck = end_ck[KT_P256], .corrupt_signature = true};

    cp.roots = NULL;
    ck_assert_int_eq(tls_client_config_new_dangerous_unverified(&cp, &cfg, err, sizeof err),
                     TLS_OK);
    scripted_init(&sc, cfg, "wrong.name");
    ts12_server_hello(sc.ts, &h);
    ts12_flight(sc.ts, &f);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_BAD_CERTIFICATE_VERIFY, TLS_ALERT_DECRYPT_ERROR, false);
    scripted_free(&sc);

    /* And with a correct signature, a wrong name goes through. */
    cp.roots = NULL;
    ck_assert_int_eq(tls_client_config_new_dangerous_unverified(&cp, &cfg, err, sizeof err),
                     TLS_OK);
    scripted_init(&sc, cfg, "wrong.name");
    scripted_handshake(&sc, NULL, NULL);
    scripted_free(&sc);
}
END_TEST

/* ==== against the scripted server: what a client must accept
 * ========================================== */

START_TEST(test_client12_scripted_handshake)
{
    uint8_t buf[64];
    size_t n;
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    ck_assert(sc.ts->ch.has_extended_master_secret && sc.ts->ch.has_renegotiation_info);
    ck_assert(tls__u16_list_has(sc.ts->ch.cipher_suites, TLS_EMPTY_RENEGOTIATION_INFO_SCSV));
    ck_assert_uint_eq(sc.ts->ch.session_id.len, 0); /* no TLS 1.3: no compatibility id */
    scripted_handshake(&sc, NULL, NULL);
    ck_assert_uint_eq(verifier.calls, 1);
    ck_assert_uint_eq(sc.ts->n_msgs, 2);
    ck_assert_uint_eq(sc.ts->msgs[0], HS_CLIENT_KEY_EXCHANGE);
    ck_assert_uint_eq(sc.ts->msgs[1], TLS_HS_FINISHED);
    ck_assert_uint_eq(sc.ts->ccs, 1);
    ck_assert(tls_conn_ems(sc.c));
    ck_assert_uint_eq(tls_conn_group(sc.c), TLS_GROUP_X25519);
    ck_assert_uint_eq(tls_conn_sig_scheme(sc.c), TLS_SIG_ECDSA_SECP256R1_SHA256);
    ck_assert_uint_eq(tls_conn_cipher_suite(sc.c), TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);

    ts12_write(sc.ts, "hello client", 12);
    ck_assert_int_eq(tls_conn_write(sc.c, (const uint8_t *)"hello server", 12, &n), TLS_OK);
    pump(&sc);
    assert_scripted_ok(&sc);
    ck_assert_int_eq(tls_conn_read(sc.c, buf, sizeof buf, &n), TLS_OK);
    ck_assert(n == 12 && !memcmp(buf, "hello client", 12));
    ck_assert(sc.ts->app.len == 12 && !memcmp(sc.ts->app.p, "hello server", 12));
    scripted_free(&sc);
}
END_TEST

/* A server that does not echo extended_master_secret: the RFC 5246 master secret (the
 * scripted server derives it the same way, or the Finished messages would not verify). */
START_TEST(test_client12_without_ems)
{
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256, .omit_ems = true};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc, &h, NULL);
    ck_assert(!tls_conn_ems(sc.c));
    scripted_free(&sc);
}
END_TEST

/* RFC 5246 §7.4.6: a CertificateRequest is answered with an empty Certificate. */
START_TEST(test_client12_certificate_request_answered_empty)
{
    ts12_flight_opts f = {.ck = end_ck[KT_P256], .cert_request = true};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc, NULL, &f);
    ck_assert_uint_eq(sc.ts->n_msgs, 3);
    ck_assert_uint_eq(sc.ts->msgs[0], TLS_HS_CERTIFICATE);
    ck_assert_uint_eq(sc.ts->cert_len, 3); /* an empty certificate_list */
    ck_assert_uint_eq(sc.ts->msgs[1], HS_CLIENT_KEY_EXCHANGE);
    ck_assert_uint_eq(sc.ts->msgs[2], TLS_HS_FINISHED);
    scripted_free(&sc);
}
END_TEST

/* ServerHello variations a correct server may send. */
START_TEST(test_client12_server_hello_variations)
{
    static const uint8_t formats[] = {2, 1, 0}; /* uncompressed among others */
    static const uint8_t ext_point_formats[] = {0x00, 0x0b, 0, 2, 1, 0};
    ts12_hello_opts variants[] = {
        {.key_type = TLS_KEY_ECDSA_P256, .omit_reneg_info = true}, /* RFC 5746 §3.4: tolerated */
        {.key_type = TLS_KEY_ECDSA_P256, .session_id = true},      /* offers resumption: ignored */
        {.key_type = TLS_KEY_ECDSA_P256, .point_formats = formats, .n_point_formats = 3},
        {.key_type = TLS_KEY_ECDSA_P256, .ack_sni = true},
        {.key_type = TLS_KEY_ECDSA_P256,
         .extra_exts = ext_point_formats,
         .extra_exts_len = sizeof ext_point_formats},
    };
    for (size_t i = 0; i < COUNT(variants); i++) {
        scripted sc;
        scripted_init(&sc, accepting_config(NULL), NAME);
        scripted_handshake(&sc, &variants[i], NULL);
        scripted_free(&sc);
    }
}
END_TEST

/* A TLS 1.2-only client ignores the RFC 8446 §4.1.3 sentinel: only a TLS 1.3 client can
 * have been downgraded. */
START_TEST(test_client12_sentinel_ignored_without_tls13)
{
    uint8_t random[32];
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256, .random = random};
    scripted sc;

    memset(random, 0x11, sizeof random);
    memcpy(random + 24, sentinel12, 8);
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc, &h, NULL);
    scripted_free(&sc);

    /* Offering TLS 1.3 too, the same ServerHello is a downgrade. */
    tls_client_config_params cp;
    memset(&cp, 0, sizeof cp);
    scripted_init(&sc, accepting_config(&cp), NAME);
    ts12_server_hello(sc.ts, &h);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_DOWNGRADE_DETECTED, TLS_ALERT_ILLEGAL_PARAMETER, false);
    scripted_free(&sc);
}
END_TEST

/* The default client offers TLS 1.3 with a compatibility session id and a key share; a
 * TLS 1.2 ServerHello takes over without a compatibility CCS. */
START_TEST(test_client12_scripted_from_tls13_offer)
{
    tls_client_config_params cp;
    scripted sc;
    memset(&cp, 0, sizeof cp);
    scripted_init(&sc, accepting_config(&cp), NAME);
    ck_assert_uint_eq(sc.ts->ch.session_id.len, 32);
    ck_assert(sc.ts->ch.has_key_share);
    scripted_handshake(&sc, NULL, NULL);
    ck_assert_uint_eq(sc.ts->ccs, 1);
    scripted_free(&sc);
}
END_TEST

/* In TLS 1.2 an ECDSA scheme names the hash, not the curve: OpenSSL signs with
 * ecdsa_secp256r1_sha256 from a P-384 key when it is first in our list. */
START_TEST(test_client12_ecdsa_hash_not_bound_to_curve)
{
    signer p384_sha256 = {.key_path = CERTS "ecdsa-p384/end.key", .md = MBEDTLS_MD_SHA256};
    signer p256_sha384 = {.key_path = CERTS "ecdsa-p256/end.key", .md = MBEDTLS_MD_SHA384};
    ts12_flight_opts f1 = {.ck = end_ck[KT_P384],
                           .scheme = TLS_SIG_ECDSA_SECP256R1_SHA256,
                           .sign = sign_with,
                           .sign_arg = &p384_sha256};
    ts12_flight_opts f2 = {.ck = end_ck[KT_P256],
                           .scheme = TLS_SIG_ECDSA_SECP384R1_SHA384,
                           .sign = sign_with,
                           .sign_arg = &p256_sha384};
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P384};
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc, &h, &f1);
    ck_assert_uint_eq(tls_conn_sig_scheme(sc.c), TLS_SIG_ECDSA_SECP256R1_SHA256);
    scripted_free(&sc);

    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc, &h, &f2);
    ck_assert_uint_eq(tls_conn_sig_scheme(sc.c), TLS_SIG_ECDSA_SECP384R1_SHA384);
    scripted_free(&sc);
}
END_TEST

/* RSA: every PSS and PKCS#1 v1.5 scheme we offer (PKCS#1 is fine in TLS 1.2). */
START_TEST(test_client12_rsa_schemes)
{
    static const uint16_t schemes[] = {TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_SIG_RSA_PSS_RSAE_SHA384,
                                       TLS_SIG_RSA_PSS_RSAE_SHA512, TLS_SIG_RSA_PKCS1_SHA256,
                                       TLS_SIG_RSA_PKCS1_SHA384,    TLS_SIG_RSA_PKCS1_SHA512};
    signer sg = {.ck = end_ck[KT_RSA], .scheme = schemes[_i]};
    ts12_flight_opts f = {
        .ck = end_ck[KT_RSA], .scheme = schemes[_i], .sign = sign_with, .sign_arg = &sg};
    ts12_hello_opts h = {.key_type = TLS_KEY_RSA};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc, &h, &f);
    ck_assert_uint_eq(tls_conn_sig_scheme(sc.c), schemes[_i]);
    scripted_free(&sc);
}
END_TEST

/* RFC 5746 §4.2: HelloRequest gets a no_renegotiation warning, a few times. */
START_TEST(test_client12_hello_request_refused)
{
    static const uint8_t hr[] = {HS_HELLO_REQUEST, 0, 0, 0};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc, NULL, NULL);
    for (unsigned i = 1; i <= 3; i++) {
        ts12_send_handshake(sc.ts, hr, sizeof hr);
        pump(&sc);
        assert_scripted_ok(&sc);
        ck_assert_uint_eq(sc.ts->n_alerts, i);
        ck_assert_uint_eq(sc.ts->alerts[i - 1].level, 1);
        ck_assert_uint_eq(sc.ts->alerts[i - 1].desc, TLS_ALERT_NO_RENEGOTIATION);
        ck_assert(sc.ts->alerts[i - 1].protected_);
        ts12_write(sc.ts, "still here", 10); /* and the connection goes on */
        pump(&sc);
        assert_scripted_ok(&sc);
    }
    uint8_t buf[64];
    size_t n;
    ck_assert_int_eq(tls_conn_read(sc.c, buf, sizeof buf, &n), TLS_OK);
    ck_assert_uint_eq(n, 30);
    ts12_send_handshake(sc.ts, hr, sizeof hr);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_ERR_RENEGOTIATION_REPEATED);
    ck_assert_uint_eq(sc.ts->n_alerts, 4);
    ck_assert_uint_eq(sc.ts->alerts[3].level, 2);
    ck_assert_uint_eq(sc.ts->alerts[3].desc, TLS_ALERT_UNEXPECTED_MESSAGE);
    scripted_free(&sc);
}
END_TEST

/* ==== against the scripted server: hostile ServerHellos
 * ================================================= */

START_TEST(test_client12_sh_tls13_suite)
{
    ts12_hello_opts h = {.suite = TLS_AES_128_GCM_SHA256};
    tls_client_config_params cp;
    hello_fails(&h, NULL, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
    /* Also when TLS 1.3 (and so the suite) was offered: a 1.2 ServerHello takes 1.2 suites. */
    memset(&cp, 0, sizeof cp);
    hello_fails(&h, &cp, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client12_sh_unoffered_suite)
{
    static const uint16_t one_suite[] = {TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256};
    static const uint16_t picks[] = {
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, /* known, not offered */
        0x009c,                                  /* TLS_RSA_WITH_AES_128_GCM_SHA256 */
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV,       /* in our list, but not a suite */
        0x0000,                                  /* TLS_NULL_WITH_NULL_NULL */
    };
    tls_client_config_params cp;
    memset(&cp, 0, sizeof cp);
    cp.versions = only_tls12, cp.n_versions = 1;
    cp.cipher_suites = one_suite, cp.n_cipher_suites = 1;
    for (size_t i = 0; i < COUNT(picks); i++) {
        ts12_hello_opts h = {.suite = picks[i]};
        if (!picks[i])
            continue; /* 0 means "default" to the scripted server */
        hello_fails(&h, &cp, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
    }
}
END_TEST

START_TEST(test_client12_sh_compression)
{
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256, .compression = 1};
    hello_fails(&h, NULL, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client12_sh_nonempty_renegotiation_info)
{
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256, .nonempty_reneg_info = true};
    hello_fails(&h, NULL, NULL, TLS_ERR_BAD_RENEGOTIATION_INFO, TLS_ALERT_HANDSHAKE_FAILURE);
}
END_TEST

START_TEST(test_client12_sh_unsolicited_extension)
{
    static const uint8_t exts[][9] = {
        {0x00, 0x23, 0, 0},                      /* session_ticket: never offered */
        {0x00, 0x05, 0, 0},                      /* status_request */
        {0x12, 0x34, 0, 0},                      /* unknown */
        {0x00, 0x33, 0, 5, 0, 0x1d, 0, 1, 0x42}, /* key_share: TLS 1.3's */
    };
    static const size_t lens[] = {4, 4, 4, 9};
    for (size_t i = 0; i < COUNT(exts); i++) {
        ts12_hello_opts h = {
            .key_type = TLS_KEY_ECDSA_P256, .extra_exts = exts[i], .extra_exts_len = lens[i]};
        hello_fails(&h, NULL, NULL, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    }
    /* ALPN when we offered none; a server_name ack when we sent no name. */
    ts12_hello_opts alpn = {.key_type = TLS_KEY_ECDSA_P256, .alpn = "h2"};
    hello_fails(&alpn, NULL, NULL, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    ts12_hello_opts sni = {.key_type = TLS_KEY_ECDSA_P256, .ack_sni = true};
    hello_fails(&sni, NULL, "127.0.0.1", TLS_ERR_UNSOLICITED_EXTENSION,
                TLS_ALERT_UNSUPPORTED_EXTENSION);
}
END_TEST

/* signed_certificate_timestamp is always offered (RFC 6962 §3.3.1): the server's must
 * be a well-formed SignedCertificateTimestampList, and it is kept (tls_conn_peer_scts). */
START_TEST(test_client12_sh_sct_malformed)
{
    static const uint8_t exts[][9] = {
        {0x00, 0x12, 0, 0},                   /* empty */
        {0x00, 0x12, 0, 2, 0, 0},             /* an empty list */
        {0x00, 0x12, 0, 4, 0, 2, 0, 0},       /* an empty SCT */
        {0x00, 0x12, 0, 5, 0, 4, 0, 1, 0x42}, /* a list longer than its body */
    };
    static const size_t lens[] = {4, 6, 8, 9};
    for (size_t i = 0; i < COUNT(exts); i++) {
        ts12_hello_opts h = {
            .key_type = TLS_KEY_ECDSA_P256, .extra_exts = exts[i], .extra_exts_len = lens[i]};
        hello_fails(&h, NULL, NULL, TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR);
    }
}
END_TEST

START_TEST(test_client12_sh_alpn_unoffered)
{
    static const char *const ours[] = {"h2"};
    tls_client_config_params cp;
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256, .alpn = "http/1.1"};
    memset(&cp, 0, sizeof cp);
    cp.versions = only_tls12, cp.n_versions = 1;
    cp.alpn = ours, cp.n_alpn = 1;
    hello_fails(&h, &cp, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);

    /* The protocol we offered is accepted. */
    scripted sc;
    const uint8_t *alpn;
    size_t len;
    h.alpn = "h2";
    scripted_init(&sc, accepting_config(&cp), NAME);
    scripted_handshake(&sc, &h, NULL);
    alpn = tls_conn_alpn(sc.c, &len);
    ck_assert(alpn && len == 2 && !memcmp(alpn, "h2", 2));
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_sh_point_formats_without_uncompressed)
{
    static const uint8_t compressed[] = {1, 2};
    ts12_hello_opts h = {
        .key_type = TLS_KEY_ECDSA_P256, .point_formats = compressed, .n_point_formats = 2};
    hello_fails(&h, NULL, NULL, TLS_ERR_UNCOMPRESSED_POINTS_REQUIRED, TLS_ALERT_ILLEGAL_PARAMETER);
    /* An empty list is not even well-formed (RFC 8422 §5.2: <1..2^8-1>). */
    h.n_point_formats = 0;
    hello_fails(&h, NULL, NULL, TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR);
}
END_TEST

START_TEST(test_client12_sh_duplicate_extension)
{
    static const uint8_t ems[] = {0x00, 0x17, 0, 0};
    ts12_hello_opts h = {
        .key_type = TLS_KEY_ECDSA_P256, .extra_exts = ems, .extra_exts_len = sizeof ems};
    hello_fails(&h, NULL, NULL, TLS_ERR_DUPLICATE_EXTENSION, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

/* ==== against the scripted server: hostile flights
 * ===================================================== */

START_TEST(test_client12_empty_certificate)
{
    ts12_flight_opts f = {.empty_certificate = true};
    flight_fails(f, NULL, TLS_ERR_NO_CERTIFICATES_PRESENTED, TLS_ALERT_DECODE_ERROR);
}
END_TEST

START_TEST(test_client12_ske_unoffered_group)
{
    static const uint16_t x25519[] = {TLS_GROUP_X25519};
    tls_client_config_params cp;
    memset(&cp, 0, sizeof cp);
    cp.versions = only_tls12, cp.n_versions = 1;
    cp.groups = x25519, cp.n_groups = 1;
    ts12_flight_opts f = {.group = TLS_GROUP_SECP384R1};
    flight_fails(f, &cp, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
    f.group = 0x0019; /* secp521r1: never offered */
    flight_fails(f, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client12_ske_bad_signature)
{
    ts12_flight_opts f = {.ck = end_ck[_i], .corrupt_signature = true};
    flight_fails(f, NULL, TLS_ERR_BAD_CERTIFICATE_VERIFY, TLS_ALERT_DECRYPT_ERROR);
}
END_TEST

START_TEST(test_client12_ske_unoffered_scheme)
{
    static const uint16_t schemes[] = {0x0201 /* rsa_pkcs1_sha1 */, 0x0203 /* ecdsa_sha1 */,
                                       0x0603 /* ecdsa_secp521r1_sha512 */, 0x0808 /* ed448 */,
                                       0x0809 /* rsa_pss_pss_sha256 */};
    for (size_t i = 0; i < COUNT(schemes); i++) {
        ts12_flight_opts f = {.scheme = schemes[i]};
        flight_fails(f, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
    }
}
END_TEST

/* ECDHE_ECDSA signs with ECDSA and ECDHE_RSA with RSA (RFC 8422 §2). */
START_TEST(test_client12_ske_scheme_of_the_wrong_kind)
{
    ts12_flight_opts f = {.ck = end_ck[KT_P256], .scheme = TLS_SIG_RSA_PSS_RSAE_SHA256};
    flight_fails(f, NULL, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
    f.ck = end_ck[KT_RSA];
    f.scheme = TLS_SIG_ECDSA_SECP256R1_SHA256;
    flight_fails(f, NULL, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

/* An ECDHE_RSA suite with an ECDSA certificate: the RSA scheme fits the suite, but not
 * the key. */
START_TEST(test_client12_ske_key_does_not_fit_suite)
{
    scripted sc;
    ts12_hello_opts h = {.suite = TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256};
    ts12_flight_opts f = {.ck = end_ck[KT_P256], .scheme = TLS_SIG_RSA_PSS_RSAE_SHA256};
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts12_server_hello(sc.ts, &h);
    ts12_flight(sc.ts, &f);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_BAD_CERTIFICATE_VERIFY, TLS_ALERT_DECRYPT_ERROR, false);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_ske_explicit_curve)
{
    ts12_flight_opts f = {.curve_type = 1}; /* explicit_prime */
    flight_fails(f, NULL, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
    f.curve_type = 2; /* explicit_char2 */
    flight_fails(f, NULL, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

/* A signed point that is not on the curve: refused when we compute with it. */
START_TEST(test_client12_ske_bad_point)
{
    ts12_flight_opts f = {.group = all_groups[_i], .bad_point = true};
    flight_fails(f, NULL, TLS_ERR_INVALID_KEY_SHARE, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

/* Every truncation of a ServerKeyExchange body is a decode error; a byte more is trailing. */
START_TEST(test_client12_ske_truncated_at_every_length)
{
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256};
    ts12_flight_opts cert_only = {
        .ck = end_ck[KT_P256], .omit_server_key_exchange = true, .omit_server_hello_done = true};
    ts12_flight_opts ske_only = {
        .ck = end_ck[KT_P256], .omit_certificate = true, .omit_server_hello_done = true};
    size_t full_body = 1;

    /* The signature covers this connection's randoms, so each round makes its own
     * ServerKeyExchange, takes it back off the wire (the last record queued) and sends a
     * cut or lengthened copy. ECDSA signatures vary in length: so does the message. */
    for (size_t body = 0; body <= full_body + 1; body++) {
        uint8_t msg[1024];
        scripted sc;
        scripted_init(&sc, accepting_config(NULL), NAME);
        ts12_server_hello(sc.ts, &h);
        ts12_flight(sc.ts, &cert_only);
        size_t mark = sc.ts->out.len;
        ts12_flight(sc.ts, &ske_only);
        size_t full_len = sc.ts->out.len - mark - TLS_RECORD_HEADER_LEN;
        ck_assert(full_len < sizeof msg);
        memcpy(msg, sc.ts->out.p + mark + TLS_RECORD_HEADER_LEN, full_len);
        ck_assert_uint_eq(msg[0], HS_SERVER_KEY_EXCHANGE);
        sc.ts->out.len = mark;
        full_body = full_len - 4;
        msg[full_len] = 0; /* the byte too many */
        msg[1] = (uint8_t)(body >> 16), msg[2] = (uint8_t)(body >> 8), msg[3] = (uint8_t)body;
        ts12_send_handshake(sc.ts, msg, 4 + body);
        pump(&sc);
        if (body == full_body)
            ck_assert_msg(sc.err == TLS_OK, "intact: %s", tls_error_name(sc.err));
        else if (body > full_body)
            assert_client_failed(&sc, TLS_ERR_TRAILING_DATA, TLS_ALERT_DECODE_ERROR, false);
        else
            assert_client_failed(&sc, TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR, false);
        scripted_free(&sc);
    }
}
END_TEST

START_TEST(test_client12_messages_out_of_order)
{
    /* No Certificate: the ServerKeyExchange comes first. */
    ts12_flight_opts f = {.omit_certificate = true};
    flight_fails(f, NULL, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE);
    /* No ServerKeyExchange (an RSA key exchange would look like this). */
    ts12_flight_opts g = {.omit_server_key_exchange = true};
    flight_fails(g, NULL, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE);
}
END_TEST

START_TEST(test_client12_server_hello_done_not_empty)
{
    ts12_flight_opts f = {.server_hello_done_body = true};
    flight_fails(f, NULL, TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR);
}
END_TEST

START_TEST(test_client12_certificate_request_checked)
{
    static const uint8_t cr[] = {
        TLS_HS_CERTIFICATE_REQUEST, 0, 0, 10, 1, 64, 0, 4, 4, 3, 8, 4, 0, 0};
    static const uint8_t cr_no_types[] = {TLS_HS_CERTIFICATE_REQUEST, 0, 0, 7, 0, 0, 2, 4, 3, 0, 0};
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256};
    ts12_flight_opts f = {
        .ck = end_ck[KT_P256], .cert_request = true, .omit_server_hello_done = true};
    ts12_flight_opts before = {.ck = end_ck[KT_P256], .omit_server_hello_done = true};
    scripted sc;

    /* Two CertificateRequests. */
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts12_server_hello(sc.ts, &h);
    ts12_flight(sc.ts, &f);
    ts12_send_handshake(sc.ts, cr, sizeof cr);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE, false);
    scripted_free(&sc);

    /* A CertificateRequest with no certificate types. */
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts12_server_hello(sc.ts, &h);
    ts12_flight(sc.ts, &before);
    ts12_send_handshake(sc.ts, cr_no_types, sizeof cr_no_types);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR, false);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_bad_server_finished)
{
    ts12_finish_opts o = {.corrupt_finished = true};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_to_client_flight(&sc, NULL, NULL);
    ts12_finish(sc.ts, &o);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_BAD_FINISHED, TLS_ALERT_DECRYPT_ERROR, true);
    ck_assert(tls_conn_is_handshaking(sc.c));
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_finished_before_ccs)
{
    ts12_finish_opts o = {.finished_before_ccs = true};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_to_client_flight(&sc, NULL, NULL);
    ts12_finish(sc.ts, &o);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE, true);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_finished_wrong_length)
{
    static const uint8_t fin[] = {
        TLS_HS_FINISHED, 0, 0, 13, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13};
    ts12_finish_opts o = {.omit_finished = true};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_to_client_flight(&sc, NULL, NULL);
    ts12_finish(sc.ts, &o);
    ts12_send_handshake(sc.ts, fin, sizeof fin);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR, true);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_ccs_rules)
{
    static const uint8_t one = 1, two = 2;
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256};
    scripted sc;

    /* Right after the ServerHello: no keys to change to yet. */
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts12_server_hello(sc.ts, &h);
    ts12_send_plain_record(sc.ts, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE, false);
    scripted_free(&sc);

    /* A CCS whose value is not 1. */
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_to_client_flight(&sc, NULL, NULL);
    ts12_send_plain_record(sc.ts, TLS_CT_CHANGE_CIPHER_SPEC, &two, 1);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_INVALID_CCS, TLS_ALERT_UNEXPECTED_MESSAGE, true);
    scripted_free(&sc);

    /* Once connected, a (protected) CCS is unexpected. */
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc, NULL, NULL);
    ts12_send_record(sc.ts, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE, true);
    scripted_free(&sc);
}
END_TEST

/* Application data before the server's Finished. */
START_TEST(test_client12_app_data_before_finished)
{
    ts12_finish_opts o = {.omit_finished = true};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_to_client_flight(&sc, NULL, NULL);
    ts12_finish(sc.ts, &o);
    ts12_write(sc.ts, "too soon", 8);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE, true);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_hello_request_during_handshake)
{
    static const uint8_t hr[] = {HS_HELLO_REQUEST, 0, 0, 0};
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts12_server_hello(sc.ts, &h);
    ts12_send_handshake(sc.ts, hr, sizeof hr);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE, false);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_connected_rejects_unexpected)
{
    static const uint8_t msgs[][8] = {
        {HS_HELLO_REQUEST, 0, 0, 1, 0},       /* a HelloRequest with a body */
        {TLS_HS_NEW_SESSION_TICKET, 0, 0, 0}, /* a ticket we never asked for */
        {HS_SERVER_HELLO_DONE, 0, 0, 0},
        {TLS_HS_KEY_UPDATE, 0, 0, 1, 0}, /* TLS 1.3's */
    };
    static const size_t lens[] = {5, 4, 4, 5};
    static const tls_error want[] = {TLS_ERR_DECODE, TLS_ERR_UNEXPECTED_HANDSHAKE,
                                     TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ERR_UNEXPECTED_HANDSHAKE};
    static const int alert[] = {TLS_ALERT_DECODE_ERROR, TLS_ALERT_UNEXPECTED_MESSAGE,
                                TLS_ALERT_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE};
    for (size_t i = 0; i < COUNT(msgs); i++) {
        scripted sc;
        scripted_init(&sc, accepting_config(NULL), NAME);
        scripted_handshake(&sc, NULL, NULL);
        ts12_send_handshake(sc.ts, msgs[i], lens[i]);
        pump(&sc);
        assert_client_failed(&sc, want[i], alert[i], true);
        scripted_free(&sc);
    }
}
END_TEST

START_TEST(test_client12_server_alert_during_handshake)
{
    static const uint8_t alert[] = {2, TLS_ALERT_HANDSHAKE_FAILURE};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_to_client_flight(&sc, NULL, NULL);
    ts12_send_record(sc.ts, TLS_CT_ALERT, alert, sizeof alert);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_ERR_ALERT_RECEIVED);
    ck_assert_int_eq(tls_conn_peer_alert(sc.c), TLS_ALERT_HANDSHAKE_FAILURE);
    ck_assert_uint_eq(sc.ts->n_alerts, 0); /* nothing answers an alert */
    scripted_free(&sc);
}
END_TEST

/* ==== decoders
 * ============================================================================================ */

START_TEST(test_client12_decoders)
{
    static const uint8_t ske[] = {3, 0x00, 0x1d, 2, 0xaa, 0xbb, 0x04, 0x03, 0, 2, 0x30, 0x00};
    static const uint8_t cr[] = {1, 64, 0, 4, 4, 3, 8, 4, 0, 5, 0, 3, 0x30, 0x01, 0x00};
    tls_server_key_exchange_msg k;
    tls_certificate_request12_msg r;

    ck_assert_int_eq(tls__server_key_exchange_parse(ske, sizeof ske, &k), TLS_OK);
    ck_assert_uint_eq(k.group, TLS_GROUP_X25519);
    ck_assert(k.point.len == 2 && k.point.p == ske + 4);
    ck_assert(k.params.p == ske && k.params.len == 6);
    ck_assert_uint_eq(k.sig.scheme, TLS_SIG_ECDSA_SECP256R1_SHA256);
    ck_assert_uint_eq(k.sig.signature.len, 2);
    ck_assert_int_eq(tls__certificate_request12_parse(cr, sizeof cr, &r), TLS_OK);
    ck_assert_uint_eq(r.certificate_types.len, 1);
    ck_assert_uint_eq(r.sig_algs.len, 4);
    ck_assert_uint_eq(r.authorities.len, 5);
    for (size_t n = 0; n < sizeof ske; n++)
        ck_assert_int_eq(tls__server_key_exchange_parse(ske, n, &k), TLS_ERR_DECODE);
    for (size_t n = 0; n < sizeof cr; n++)
        ck_assert_int_eq(tls__certificate_request12_parse(cr, n, &r), TLS_ERR_DECODE);

    uint8_t longer[sizeof cr + 1];
    memcpy(longer, ske, sizeof ske);
    longer[sizeof ske] = 0;
    ck_assert_int_eq(tls__server_key_exchange_parse(longer, sizeof ske + 1, &k),
                     TLS_ERR_TRAILING_DATA);
    memcpy(longer, cr, sizeof cr);
    longer[sizeof cr] = 0;
    ck_assert_int_eq(tls__certificate_request12_parse(longer, sizeof cr + 1, &r),
                     TLS_ERR_TRAILING_DATA);
    /* An empty ECPoint; an explicit curve; an empty DistinguishedName; odd sig_algs. */
    static const uint8_t ske_empty_point[] = {3, 0x00, 0x1d, 0, 0x04, 0x03, 0, 1, 0};
    ck_assert_int_eq(tls__server_key_exchange_parse(ske_empty_point, sizeof ske_empty_point, &k),
                     TLS_ERR_DECODE);
    static const uint8_t ske_explicit[] = {1, 0x00, 0x1d, 1, 0, 0x04, 0x03, 0, 1, 0};
    ck_assert_int_eq(tls__server_key_exchange_parse(ske_explicit, sizeof ske_explicit, &k),
                     TLS_ERR_ILLEGAL_PARAMETER);
    static const uint8_t cr_empty_dn[] = {1, 64, 0, 2, 4, 3, 0, 2, 0, 0};
    ck_assert_int_eq(tls__certificate_request12_parse(cr_empty_dn, sizeof cr_empty_dn, &r),
                     TLS_ERR_DECODE);
    static const uint8_t cr_odd[] = {1, 64, 0, 3, 4, 3, 8, 0, 0};
    ck_assert_int_eq(tls__certificate_request12_parse(cr_odd, sizeof cr_odd, &r), TLS_ERR_DECODE);
}
END_TEST

/* ==== the suite
 * ============================================================================================ */

static Suite *make_suite(void)
{
    Suite *s = suite_create("client12");
    TCase *tc;

    tc = tcase_create("handshake");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_client12_handshake_matrix, 0, 54);
    tcase_add_test(tc, test_client12_defaults);
    tcase_add_test(tc, test_client12_tls13_client_gets_tls12);
    tcase_add_test(tc, test_client12_ems);
    tcase_add_test(tc, test_client12_alpn);
    tcase_add_test(tc, test_client12_alpn_no_overlap);
    tcase_add_test(tc, test_client12_sni_seen_by_server);
    tcase_add_test(tc, test_client12_ip_literal_verified_without_sni);
    tcase_add_test(tc, test_client12_data_100k_both_ways);
    tcase_add_test(tc, test_client12_data_written_before_handshake);
    tcase_add_test(tc, test_client12_close_notify);
    tcase_add_test(tc, test_client12_small_fragments);
    tcase_add_test(tc, test_client12_key_update_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("verification");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_client12_roots_wrong_name);
    tcase_add_test(tc, test_client12_roots_unknown_issuer);
    tcase_add_test(tc, test_client12_verifier_rejects);
    tcase_add_test(tc, test_client12_dangerous_still_checks_signature);
    suite_add_tcase(s, tc);

    tc = tcase_create("scripted");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_client12_scripted_handshake);
    tcase_add_test(tc, test_client12_without_ems);
    tcase_add_test(tc, test_client12_certificate_request_answered_empty);
    tcase_add_test(tc, test_client12_server_hello_variations);
    tcase_add_test(tc, test_client12_sentinel_ignored_without_tls13);
    tcase_add_test(tc, test_client12_scripted_from_tls13_offer);
    tcase_add_test(tc, test_client12_ecdsa_hash_not_bound_to_curve);
    tcase_add_loop_test(tc, test_client12_rsa_schemes, 0, 6);
    tcase_add_test(tc, test_client12_hello_request_refused);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_client12_sh_tls13_suite);
    tcase_add_test(tc, test_client12_sh_unoffered_suite);
    tcase_add_test(tc, test_client12_sh_compression);
    tcase_add_test(tc, test_client12_sh_nonempty_renegotiation_info);
    tcase_add_test(tc, test_client12_sh_unsolicited_extension);
    tcase_add_test(tc, test_client12_sh_sct_malformed);
    tcase_add_test(tc, test_client12_sh_alpn_unoffered);
    tcase_add_test(tc, test_client12_sh_point_formats_without_uncompressed);
    tcase_add_test(tc, test_client12_sh_duplicate_extension);
    tcase_add_test(tc, test_client12_empty_certificate);
    tcase_add_test(tc, test_client12_ske_unoffered_group);
    tcase_add_loop_test(tc, test_client12_ske_bad_signature, 0, KT_COUNT);
    tcase_add_test(tc, test_client12_ske_unoffered_scheme);
    tcase_add_test(tc, test_client12_ske_scheme_of_the_wrong_kind);
    tcase_add_test(tc, test_client12_ske_key_does_not_fit_suite);
    tcase_add_test(tc, test_client12_ske_explicit_curve);
    tcase_add_loop_test(tc, test_client12_ske_bad_point, 0, 3);
    tcase_add_test(tc, test_client12_ske_truncated_at_every_length);
    tcase_add_test(tc, test_client12_messages_out_of_order);
    tcase_add_test(tc, test_client12_server_hello_done_not_empty);
    tcase_add_test(tc, test_client12_certificate_request_checked);
    tcase_add_test(tc, test_client12_bad_server_finished);
    tcase_add_test(tc, test_client12_finished_before_ccs);
    tcase_add_test(tc, test_client12_finished_wrong_length);
    tcase_add_test(tc, test_client12_ccs_rules);
    tcase_add_test(tc, test_client12_app_data_before_finished);
    tcase_add_test(tc, test_client12_hello_request_during_handshake);
    tcase_add_test(tc, test_client12_connected_rejects_unexpected);
    tcase_add_test(tc, test_client12_server_alert_during_handshake);
    tcase_add_test(tc, test_client12_decoders);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
