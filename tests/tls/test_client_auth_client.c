/*
 * test_client_auth_client.c — client authentication on the engine's client side (issue 10):
 * tls_client_config_params.client_cert, the CertificateRequest handling of
 * tls/hs/tls13_client.c and tls/hs/tls12_client.c, and the helpers of
 * tls/hs/client_common.c (tls__sig_scheme_for_key, tls__client_write_certificate).
 *
 * The client runs against the scripted servers of tests/lib/testserver.c (TLS 1.3) and
 * tests/lib/testserver12.c (TLS 1.2), which record its Certificate and CertificateVerify;
 * ts_client_auth_check / ts12_client_auth_check verify the signature with tls__verify
 * and the client certificate's own key, over what RFC 8446 §4.4.3 (the "TLS 1.3, client
 * CertificateVerify" content) and RFC 5246 §7.4.8 (the handshake messages) say it
 * signs. The client certificates are tests/certs/clientauth-client/ (ECDSA P-256, RSA
 * 2048 and, where the engine has an Ed25519 back end, Ed25519).
 *
 * Cases: every key type in both versions (chain sent as configured, the scheme the
 * request allows in our order, the signature verifies, the server's check of our
 * Finished passes, so the transcript includes what we sent); no fitting scheme or
 * certificate type, and no client certificate at all, give an empty Certificate and no
 * CertificateVerify; certificate_authorities does not stop us; the context is echoed
 * (empty; a non-empty one in the handshake is illegal_parameter); no
 * signature_algorithms is missing_extension; a CertificateRequest in the wrong state
 * (before EncryptedExtensions, after the handshake, before the ServerKeyExchange, twice)
 * is unexpected_message; a SHA-384 suite in TLS 1.2 (the signature's hash is the
 * scheme's, not the PRF's); resumption with a client certificate configured (engine
 * pair, both versions) completes without one.
 */
#include "tests/lib/enginepair.h"
#include "tests/lib/testserver.h"
#include "tests/lib/testserver12.h"
#include "tests/lib/unit.h"
#include "tls/conn.h"
#include "tls/internal.h"
#include "tls/msgs/msgs.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "testserver.com"
#define DIR "tests/certs/clientauth-client/"
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

enum { CK_ECDSA, CK_RSA, CK_ED25519, CK_COUNT };
static const char *const ck_names[CK_COUNT] = {"ecdsa", "rsa", "ed25519"};
static tls_certified_key *client_ck[CK_COUNT]; /* Ed25519: NULL without a back end */

static const uint16_t only_tls13[] = {TLS_VERSION_1_3};
static const uint16_t only_tls12[] = {TLS_VERSION_1_2};

static void load_fixture(void)
{
    engine_load_fixture();
    tls__crypto_init();
    for (int i = 0; i < CK_COUNT; i++) {
        char chain[256], key[256], err[256] = "";
        if (i == CK_ED25519 && !tls__crypto_has_ed25519())
            continue;
        snprintf(chain, sizeof chain, DIR "%s.fullchain", ck_names[i]);
        snprintf(key, sizeof key, DIR "%s.key", ck_names[i]);
        tls_error e = tls_certified_key_load(chain, key, &client_ck[i], err, sizeof err);
        if (e != TLS_OK) {
            fprintf(stderr, "loading %s: %s (%s)\n", chain, tls_error_name(e), err);
            abort();
        }
    }
}

static void free_fixture(void)
{
    for (int i = 0; i < CK_COUNT; i++) {
        tls_certified_key_unref(client_ck[i]);
        client_ck[i] = NULL;
    }
    engine_free_fixture();
}

static tls_error accept_all(void *arg, const uint8_t *const *chain, const size_t *lens, size_t n,
                            const char *name, int64_t now)
{
    (void)arg, (void)chain, (void)lens, (void)n, (void)name, (void)now;
    return TLS_OK;
}

/* A client that accepts any server certificate, of one version, presenting ck. */
static tls_client_config *client_config(tls_certified_key *ck, bool tls13)
{
    tls_client_config_params p;
    memset(&p, 0, sizeof p);
    p.verifier = accept_all;
    p.versions = tls13 ? only_tls13 : only_tls12;
    p.n_versions = 1;
    p.client_cert = ck;
    return engine_client_config(&p);
}

/* ---- TLS 1.3 ------------------------------------------------------------------------------ */

typedef struct {
    tls_client_config *cfg;
    tls_conn *c;
    ts_server *ts;
    tls_error err;
} sc13;

static void sc13_init(sc13 *sc, tls_certified_key *ck)
{
    memset(sc, 0, sizeof *sc);
    sc->cfg = client_config(ck, true);
    ck_assert_int_eq(tls_client_conn_new(sc->cfg, NAME, &sc->c), TLS_OK);
    sc->ts = ts_new();
    ck_assert_int_eq(ts_pump(sc->ts, sc->c), TLS_OK);
    ck_assert_uint_eq(sc->ts->n_hellos, 1);
}

static void sc13_free(sc13 *sc)
{
    ts_free(sc->ts);
    tls_conn_free(sc->c);
    tls_client_config_unref(sc->cfg);
}

static void sc13_pump(sc13 *sc)
{
    tls_error e = ts_pump(sc->ts, sc->c);
    if (sc->err == TLS_OK)
        sc->err = e;
}

/* ServerHello and a flight with the CertificateRequest cr, pumped; the handshake must
 * complete (our Finished verified by the server). */
static void sc13_handshake(sc13 *sc, const ts_cert_request_opts *cr)
{
    ts_cert_request_opts def;
    memset(&def, 0, sizeof def);
    ts_flight_opts f = {.ck = end_ck[KT_P256], .cert_request_with = cr ? cr : &def};
    ts_server_hello(sc->ts, NULL);
    ts_flight(sc->ts, &f);
    sc13_pump(sc);
    ck_assert_msg(sc->err == TLS_OK, "client: %s", tls_error_name(sc->err));
    ck_assert_msg(!sc->ts->failed, "server: %s", sc->ts->error);
    ck_assert(sc->ts->finished_ok);
    ck_assert(!tls_conn_is_handshaking(sc->c));
}

/* The client failed with want, one fatal alert `alert` (protected: TLS 1.3 after the
 * ServerHello), latched. */
static void sc13_assert_failed(sc13 *sc, tls_error want, int alert)
{
    ck_assert_msg(sc->err == want, "client returned %s, expected %s", tls_error_name(sc->err),
                  tls_error_name(want));
    ck_assert_int_eq(tls_conn_error(sc->c), want);
    ck_assert_msg(!sc->ts->failed, "server: %s", sc->ts->error);
    ck_assert_uint_eq(sc->ts->n_alerts, 1);
    ck_assert_msg(sc->ts->alerts[0].desc == alert, "alert %s, expected %s",
                  tls_alert_name(sc->ts->alerts[0].desc), tls_alert_name(alert));
    ck_assert_uint_eq(sc->ts->alerts[0].level, 2);
    ck_assert(sc->ts->alerts[0].protected_);
    ck_assert_int_eq(tls_conn_process(sc->c), want);
}

/* Certificate (our chain), CertificateVerify with `scheme` that verifies, Finished. */
static void assert_sent_cert13(const sc13 *sc, const tls_certified_key *ck, uint16_t scheme)
{
    ts_client_auth a;
    ts_client_auth_check(sc->ts, ck, &a);
    ck_assert_uint_eq(sc->ts->n_msgs, 3);
    ck_assert_uint_eq(sc->ts->msgs[0], TLS_HS_CERTIFICATE);
    ck_assert_uint_eq(sc->ts->msgs[1], TLS_HS_CERTIFICATE_VERIFY);
    ck_assert_uint_eq(sc->ts->msgs[2], TLS_HS_FINISHED);
    ck_assert(a.certificate);
    ck_assert_int_eq(a.decode, TLS_OK);
    ck_assert_uint_eq(a.context_len, 0); /* the request's, echoed */
    ck_assert_uint_eq(a.n_certs, ck->n_chain);
    ck_assert(a.chain_matches);
    ck_assert(a.certificate_verify);
    ck_assert_msg(a.scheme == scheme, "scheme 0x%04x, expected 0x%04x", a.scheme, scheme);
    ck_assert_msg(a.verify == TLS_OK, "CertificateVerify: %s", tls_error_name(a.verify));
}

/* An empty Certificate (context echoed), no CertificateVerify, Finished. */
static void assert_sent_empty13(const sc13 *sc)
{
    ts_client_auth a;
    ts_client_auth_check(sc->ts, NULL, &a);
    ck_assert_uint_eq(sc->ts->n_msgs, 2);
    ck_assert_uint_eq(sc->ts->msgs[0], TLS_HS_CERTIFICATE);
    ck_assert_uint_eq(sc->ts->msgs[1], TLS_HS_FINISHED);
    ck_assert(a.certificate);
    ck_assert_int_eq(a.decode, TLS_OK);
    ck_assert_uint_eq(a.context_len, 0);
    ck_assert_uint_eq(a.n_certs, 0);
    ck_assert(!a.certificate_verify);
    /* The exact bytes: type 11, length 4, context <0>, certificate_list <0>. */
    static const uint8_t empty[] = {TLS_HS_CERTIFICATE, 0, 0, 4, 0, 0, 0, 0};
    ck_assert_uint_eq(sc->ts->client_cert.len, sizeof empty);
    ck_assert(!memcmp(sc->ts->client_cert.p, empty, sizeof empty));
}

/* Full TLS 1.3 handshake with client key k and a request listing algs. */
static void run13(int k, const uint16_t *algs, size_t n_algs, uint16_t want_scheme)
{
    ts_cert_request_opts cr = {.sig_algs = algs, .n_sig_algs = n_algs};
    sc13 sc;
    sc13_init(&sc, client_ck[k]);
    sc13_handshake(&sc, &cr);
    if (want_scheme)
        assert_sent_cert13(&sc, client_ck[k], want_scheme);
    else
        assert_sent_empty13(&sc);
    sc13_free(&sc);
}

START_TEST(test_client_auth13_ecdsa)
{
    static const uint16_t algs[] = {TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_SIG_ECDSA_SECP256R1_SHA256};
    run13(CK_ECDSA, algs, COUNT(algs), TLS_SIG_ECDSA_SECP256R1_SHA256);
}
END_TEST

START_TEST(test_client_auth13_ecdsa_default_request)
{
    sc13 sc;
    sc13_init(&sc, client_ck[CK_ECDSA]);
    sc13_handshake(&sc, NULL);
    assert_sent_cert13(&sc, client_ck[CK_ECDSA], TLS_SIG_ECDSA_SECP256R1_SHA256);
    sc13_free(&sc);
}
END_TEST

/* §4.2.3: RSA signs with PSS in TLS 1.3, even when the server lists PKCS#1 first. */
START_TEST(test_client_auth13_rsa_pss_not_pkcs1)
{
    static const uint16_t algs[] = {TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_ECDSA_SECP256R1_SHA256,
                                    TLS_SIG_RSA_PSS_RSAE_SHA384};
    run13(CK_RSA, algs, COUNT(algs), TLS_SIG_RSA_PSS_RSAE_SHA384);
}
END_TEST

START_TEST(test_client_auth13_rsa_pkcs1_only_empty)
{
    static const uint16_t algs[] = {TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_RSA_PKCS1_SHA384};
    run13(CK_RSA, algs, COUNT(algs), 0);
}
END_TEST

START_TEST(test_client_auth13_ed25519)
{
    static const uint16_t algs[] = {TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ED25519};
    if (!client_ck[CK_ED25519])
        return; /* no Ed25519 back end in this build: nothing to present */
    run13(CK_ED25519, algs, COUNT(algs), TLS_SIG_ED25519);
}
END_TEST

START_TEST(test_client_auth13_ed25519_not_listed_empty)
{
    static const uint16_t algs[] = {TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_RSA_PSS_RSAE_SHA256};
    if (!client_ck[CK_ED25519])
        return;
    run13(CK_ED25519, algs, COUNT(algs), 0);
}
END_TEST

/* A P-256 key needs ecdsa_secp256r1_sha256 (§4.2.3 binds the curve in 1.3). */
START_TEST(test_client_auth13_no_fitting_scheme_empty)
{
    static const uint16_t algs[] = {TLS_SIG_ECDSA_SECP384R1_SHA384, TLS_SIG_RSA_PSS_RSAE_SHA256};
    run13(CK_ECDSA, algs, COUNT(algs), 0);
}
END_TEST

START_TEST(test_client_auth13_no_client_cert_empty)
{
    sc13 sc;
    sc13_init(&sc, NULL);
    sc13_handshake(&sc, NULL);
    assert_sent_empty13(&sc);
    sc13_free(&sc);
}
END_TEST

START_TEST(test_client_auth13_authorities_still_sent)
{
    ts_cert_request_opts cr = {.authorities = true};
    sc13 sc;
    sc13_init(&sc, client_ck[CK_ECDSA]);
    sc13_handshake(&sc, &cr);
    assert_sent_cert13(&sc, client_ck[CK_ECDSA], TLS_SIG_ECDSA_SECP256R1_SHA256);
    sc13_free(&sc);
}
END_TEST

/* Without a request, nothing of ours is sent even with a certificate configured. */
START_TEST(test_client_auth13_not_requested_not_sent)
{
    ts_flight_opts f = {.ck = end_ck[KT_P256]};
    sc13 sc;
    sc13_init(&sc, client_ck[CK_ECDSA]);
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    sc13_pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert(sc.ts->finished_ok);
    ck_assert_uint_eq(sc.ts->n_msgs, 1);
    ck_assert_uint_eq(sc.ts->msgs[0], TLS_HS_FINISHED);
    sc13_free(&sc);
}
END_TEST

/* Application data flows both ways after client authentication. */
START_TEST(test_client_auth13_data_after)
{
    uint8_t buf[64];
    size_t n = 0;
    sc13 sc;
    sc13_init(&sc, client_ck[CK_ECDSA]);
    sc13_handshake(&sc, NULL);
    ck_assert_int_eq(tls_conn_write(sc.c, (const uint8_t *)"ping", 4, &n), TLS_OK);
    ts_write(sc.ts, "pong", 4);
    sc13_pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert_uint_eq(sc.ts->app.len, 4);
    ck_assert(!memcmp(sc.ts->app.p, "ping", 4));
    ck_assert_int_eq(tls_conn_read(sc.c, buf, sizeof buf, &n), TLS_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert(!memcmp(buf, "pong", 4));
    sc13_free(&sc);
}
END_TEST

/* §4.3.2: the context is empty in the handshake (it names post-handshake requests). */
START_TEST(test_client_auth13_nonempty_context_refused)
{
    static const uint8_t ctx[] = {1, 2, 3};
    ts_cert_request_opts cr = {.context = ctx, .context_len = sizeof ctx};
    ts_flight_opts f = {.ck = end_ck[KT_P256], .cert_request_with = &cr};
    sc13 sc;
    sc13_init(&sc, client_ck[CK_ECDSA]);
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    sc13_pump(&sc);
    sc13_assert_failed(&sc, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
    ck_assert_uint_eq(sc.ts->n_msgs, 0); /* no Certificate went out */
    sc13_free(&sc);
}
END_TEST

/* §4.3.2: signature_algorithms MUST be there (another extension keeps the list
 * non-empty); with no extension at all the list is shorter than its <2..> bound. */
static void request_fails(const ts_cert_request_opts *cr, tls_error want, int alert)
{
    ts_flight_opts f = {.ck = end_ck[KT_P256], .cert_request_with = cr};
    sc13 sc;
    sc13_init(&sc, client_ck[CK_ECDSA]);
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    sc13_pump(&sc);
    sc13_assert_failed(&sc, want, alert);
    ck_assert_uint_eq(sc.ts->n_msgs, 0);
    sc13_free(&sc);
}

START_TEST(test_client_auth13_missing_sig_algs)
{
    ts_cert_request_opts cr = {.omit_sig_algs = true, .authorities = true};
    request_fails(&cr, TLS_ERR_MISSING_EXTENSION, TLS_ALERT_MISSING_EXTENSION);
}
END_TEST

START_TEST(test_client_auth13_no_extensions)
{
    ts_cert_request_opts cr = {.omit_sig_algs = true};
    request_fails(&cr, TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR);
}
END_TEST

/* Before EncryptedExtensions: the wrong state. */
START_TEST(test_client_auth13_request_before_ee)
{
    sc13 sc;
    sc13_init(&sc, client_ck[CK_ECDSA]);
    ts_server_hello(sc.ts, NULL);
    ts_send_cert_request(sc.ts, NULL);
    sc13_pump(&sc);
    sc13_assert_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE);
    sc13_free(&sc);
}
END_TEST

/* §4.6.2: we never offer post_handshake_auth, so a request after the handshake is
 * unexpected_message. */
START_TEST(test_client_auth13_post_handshake_request)
{
    sc13 sc;
    sc13_init(&sc, client_ck[CK_ECDSA]);
    sc13_handshake(&sc, NULL);
    ts_send_cert_request(sc.ts, NULL);
    sc13_pump(&sc);
    sc13_assert_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE);
    sc13_free(&sc);
}
END_TEST

/* The ClientHello does not offer post-handshake authentication (extension 49). */
START_TEST(test_client_auth13_no_post_handshake_auth_offered)
{
    sc13 sc;
    sc13_init(&sc, client_ck[CK_ECDSA]);
    const uint8_t *p = sc.ts->hello[0];
    size_t len = sc.ts->hello_len[0];
    /* Walk the extensions: after the fixed part and the three vectors. */
    tls_reader r, v, exts;
    uint16_t u16;
    tls_reader_init(&r, p + 4, len - 4);
    ck_assert(tls_read_u16(&r, &u16) && tls_read_skip(&r, 32) && tls_read_vec8(&r, 0, 32, &v) &&
              tls_read_vec16(&r, 2, 0xfffe, &v) && tls_read_vec8(&r, 1, 255, &v) &&
              tls_read_vec16(&r, 0, 0xffff, &exts));
    while (tls_reader_left(&exts)) {
        uint16_t type;
        ck_assert(tls_read_u16(&exts, &type) && tls_read_vec16(&exts, 0, 0xffff, &v));
        ck_assert_uint_ne(type, 49); /* post_handshake_auth */
    }
    sc13_free(&sc);
}
END_TEST

/* ---- TLS 1.2 ------------------------------------------------------------------------------ */

typedef struct {
    tls_client_config *cfg;
    tls_conn *c;
    ts12_server *ts;
    tls_error err;
} sc12;

static void sc12_init(sc12 *sc, tls_certified_key *ck)
{
    memset(sc, 0, sizeof *sc);
    sc->cfg = client_config(ck, false);
    ck_assert_int_eq(tls_client_conn_new(sc->cfg, NAME, &sc->c), TLS_OK);
    sc->ts = ts12_new();
    ck_assert_int_eq(ts12_pump(sc->ts, sc->c), TLS_OK);
    ck_assert_uint_eq(sc->ts->n_hellos, 1);
}

static void sc12_free(sc12 *sc)
{
    ts12_free(sc->ts);
    tls_conn_free(sc->c);
    tls_client_config_unref(sc->cfg);
}

static void sc12_pump(sc12 *sc)
{
    tls_error e = ts12_pump(sc->ts, sc->c);
    if (sc->err == TLS_OK)
        sc->err = e;
}

/* ServerHello (suite: 0 for the default ECDHE_ECDSA one), the P-256 server's flight with
 * the CertificateRequest cr, the client's flight, our CCS and Finished: connected. */
static void sc12_handshake(sc12 *sc, uint16_t suite, const ts12_cert_request_opts *cr)
{
    ts12_cert_request_opts def;
    memset(&def, 0, sizeof def);
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256, .suite = suite};
    ts12_flight_opts f = {.ck = end_ck[KT_P256], .cert_request_with = cr ? cr : &def};
    ts12_server_hello(sc->ts, &h);
    ts12_flight(sc->ts, &f);
    sc12_pump(sc);
    ck_assert_msg(sc->err == TLS_OK, "client: %s", tls_error_name(sc->err));
    ck_assert_msg(!sc->ts->failed, "server: %s", sc->ts->error);
    ck_assert(sc->ts->finished_ok);
    ts12_finish(sc->ts, NULL);
    sc12_pump(sc);
    ck_assert_msg(sc->err == TLS_OK, "client: %s", tls_error_name(sc->err));
    ck_assert(!tls_conn_is_handshaking(sc->c));
    ck_assert_uint_eq(tls_conn_version(sc->c), TLS_VERSION_1_2);
}

static void sc12_assert_failed(sc12 *sc, tls_error want, int alert)
{
    ck_assert_msg(sc->err == want, "client returned %s, expected %s", tls_error_name(sc->err),
                  tls_error_name(want));
    ck_assert_int_eq(tls_conn_error(sc->c), want);
    ck_assert_msg(!sc->ts->failed, "server: %s", sc->ts->error);
    ck_assert_uint_eq(sc->ts->n_alerts, 1);
    ck_assert_msg(sc->ts->alerts[0].desc == alert, "alert %s, expected %s",
                  tls_alert_name(sc->ts->alerts[0].desc), tls_alert_name(alert));
    ck_assert_uint_eq(sc->ts->alerts[0].level, 2);
    ck_assert(!sc->ts->alerts[0].protected_);
    ck_assert_int_eq(tls_conn_process(sc->c), want);
}

/* RFC 5246 §7.3: Certificate, ClientKeyExchange, CertificateVerify, Finished. */
static void assert_sent_cert12(const sc12 *sc, const tls_certified_key *ck, uint16_t scheme)
{
    ts_client_auth a;
    ts12_client_auth_check(sc->ts, ck, &a);
    ck_assert_uint_eq(sc->ts->n_msgs, 4);
    ck_assert_uint_eq(sc->ts->msgs[0], TLS_HS_CERTIFICATE);
    ck_assert_uint_eq(sc->ts->msgs[1], 16); /* ClientKeyExchange */
    ck_assert_uint_eq(sc->ts->msgs[2], TLS_HS_CERTIFICATE_VERIFY);
    ck_assert_uint_eq(sc->ts->msgs[3], TLS_HS_FINISHED);
    ck_assert(a.certificate);
    ck_assert_int_eq(a.decode, TLS_OK);
    ck_assert_uint_eq(a.n_certs, ck->n_chain);
    ck_assert(a.chain_matches);
    ck_assert(a.certificate_verify);
    ck_assert_msg(a.scheme == scheme, "scheme 0x%04x, expected 0x%04x", a.scheme, scheme);
    ck_assert_msg(a.verify == TLS_OK, "CertificateVerify: %s", tls_error_name(a.verify));
}

/* RFC 5246 §7.4.6: an empty Certificate, then ClientKeyExchange, Finished. */
static void assert_sent_empty12(const sc12 *sc)
{
    static const uint8_t empty[] = {TLS_HS_CERTIFICATE, 0, 0, 3, 0, 0, 0};
    ck_assert_uint_eq(sc->ts->n_msgs, 3);
    ck_assert_uint_eq(sc->ts->msgs[0], TLS_HS_CERTIFICATE);
    ck_assert_uint_eq(sc->ts->msgs[1], 16);
    ck_assert_uint_eq(sc->ts->msgs[2], TLS_HS_FINISHED);
    ck_assert_uint_eq(sc->ts->client_cert.len, sizeof empty);
    ck_assert(!memcmp(sc->ts->client_cert.p, empty, sizeof empty));
    ck_assert_uint_eq(sc->ts->client_cv.len, 0);
}

static const uint8_t type_ecdsa[] = {64};
static const uint8_t type_rsa[] = {1};
static const uint8_t type_both[] = {1, 64};

static void run12(int k, const uint8_t *types, size_t n_types, const uint16_t *algs, size_t n_algs,
                  uint16_t want_scheme)
{
    ts12_cert_request_opts cr = {.certificate_types = types,
                                 .n_certificate_types = n_types,
                                 .sig_algs = algs,
                                 .n_sig_algs = n_algs};
    sc12 sc;
    sc12_init(&sc, client_ck[k]);
    sc12_handshake(&sc, 0, &cr);
    if (want_scheme)
        assert_sent_cert12(&sc, client_ck[k], want_scheme);
    else
        assert_sent_empty12(&sc);
    sc12_free(&sc);
}

START_TEST(test_client_auth12_ecdsa)
{
    static const uint16_t algs[] = {TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_ECDSA_SECP256R1_SHA256};
    run12(CK_ECDSA, type_both, sizeof type_both, algs, COUNT(algs), TLS_SIG_ECDSA_SECP256R1_SHA256);
}
END_TEST

START_TEST(test_client_auth12_ecdsa_default_request)
{
    sc12 sc;
    sc12_init(&sc, client_ck[CK_ECDSA]);
    sc12_handshake(&sc, 0, NULL);
    assert_sent_cert12(&sc, client_ck[CK_ECDSA], TLS_SIG_ECDSA_SECP256R1_SHA256);
    sc12_free(&sc);
}
END_TEST

/* A SHA-384 PRF: the signature's hash is the scheme's (SHA-256), not the suite's. */
START_TEST(test_client_auth12_ecdsa_sha384_suite)
{
    sc12 sc;
    sc12_init(&sc, client_ck[CK_ECDSA]);
    sc12_handshake(&sc, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, NULL);
    ck_assert_uint_eq(tls_conn_cipher_suite(sc.c), TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
    assert_sent_cert12(&sc, client_ck[CK_ECDSA], TLS_SIG_ECDSA_SECP256R1_SHA256);
    sc12_free(&sc);
}
END_TEST

/* TLS 1.2 allows PKCS#1 v1.5; PSS first where both are listed. */
START_TEST(test_client_auth12_rsa_pkcs1)
{
    static const uint16_t algs[] = {TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_RSA_PKCS1_SHA384};
    run12(CK_RSA, type_rsa, sizeof type_rsa, algs, COUNT(algs), TLS_SIG_RSA_PKCS1_SHA384);
}
END_TEST

START_TEST(test_client_auth12_rsa_pss_preferred)
{
    static const uint16_t algs[] = {TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_RSA_PSS_RSAE_SHA256};
    run12(CK_RSA, type_both, sizeof type_both, algs, COUNT(algs), TLS_SIG_RSA_PSS_RSAE_SHA256);
}
END_TEST

/* RFC 8422 §5.5: Ed25519 goes under ecdsa_sign. */
START_TEST(test_client_auth12_ed25519)
{
    static const uint16_t algs[] = {TLS_SIG_ED25519, TLS_SIG_ECDSA_SECP256R1_SHA256};
    if (!client_ck[CK_ED25519])
        return;
    run12(CK_ED25519, type_ecdsa, sizeof type_ecdsa, algs, COUNT(algs), TLS_SIG_ED25519);
}
END_TEST

START_TEST(test_client_auth12_rsa_type_not_listed_empty)
{
    static const uint16_t algs[] = {TLS_SIG_RSA_PKCS1_SHA256, TLS_SIG_ECDSA_SECP256R1_SHA256};
    run12(CK_RSA, type_ecdsa, sizeof type_ecdsa, algs, COUNT(algs), 0);
}
END_TEST

START_TEST(test_client_auth12_ecdsa_type_not_listed_empty)
{
    static const uint16_t algs[] = {TLS_SIG_ECDSA_SECP256R1_SHA256};
    run12(CK_ECDSA, type_rsa, sizeof type_rsa, algs, COUNT(algs), 0);
}
END_TEST

START_TEST(test_client_auth12_no_fitting_scheme_empty)
{
    static const uint16_t algs[] = {TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_SIG_ECDSA_SECP384R1_SHA384};
    run12(CK_ECDSA, type_both, sizeof type_both, algs, COUNT(algs), 0);
}
END_TEST

START_TEST(test_client_auth12_no_client_cert_empty)
{
    sc12 sc;
    sc12_init(&sc, NULL);
    sc12_handshake(&sc, 0, NULL);
    assert_sent_empty12(&sc);
    sc12_free(&sc);
}
END_TEST

START_TEST(test_client_auth12_authorities_still_sent)
{
    ts12_cert_request_opts cr = {.authorities = true};
    sc12 sc;
    sc12_init(&sc, client_ck[CK_ECDSA]);
    sc12_handshake(&sc, 0, &cr);
    assert_sent_cert12(&sc, client_ck[CK_ECDSA], TLS_SIG_ECDSA_SECP256R1_SHA256);
    sc12_free(&sc);
}
END_TEST

START_TEST(test_client_auth12_not_requested_not_sent)
{
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256};
    ts12_flight_opts f = {.ck = end_ck[KT_P256]};
    sc12 sc;
    sc12_init(&sc, client_ck[CK_ECDSA]);
    ts12_server_hello(sc.ts, &h);
    ts12_flight(sc.ts, &f);
    sc12_pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert(sc.ts->finished_ok);
    ck_assert_uint_eq(sc.ts->n_msgs, 2);
    ck_assert_uint_eq(sc.ts->msgs[0], 16);
    ck_assert_uint_eq(sc.ts->msgs[1], TLS_HS_FINISHED);
    sc12_free(&sc);
}
END_TEST

/* A CertificateRequest before the ServerKeyExchange: the wrong state. */
START_TEST(test_client_auth12_request_before_ske)
{
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256};
    ts12_flight_opts f = {
        .ck = end_ck[KT_P256], .omit_server_key_exchange = true, .omit_server_hello_done = true};
    sc12 sc;
    sc12_init(&sc, client_ck[CK_ECDSA]);
    ts12_server_hello(sc.ts, &h);
    ts12_flight(sc.ts, &f);
    ts12_send_cert_request(sc.ts, NULL);
    sc12_pump(&sc);
    sc12_assert_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE);
    sc12_free(&sc);
}
END_TEST

START_TEST(test_client_auth12_second_request)
{
    ts12_hello_opts h = {.key_type = TLS_KEY_ECDSA_P256};
    ts12_flight_opts f = {
        .ck = end_ck[KT_P256], .cert_request = true, .omit_server_hello_done = true};
    sc12 sc;
    sc12_init(&sc, client_ck[CK_ECDSA]);
    ts12_server_hello(sc.ts, &h);
    ts12_flight(sc.ts, &f);
    ts12_send_cert_request(sc.ts, NULL);
    sc12_pump(&sc);
    sc12_assert_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE);
    sc12_free(&sc);
}
END_TEST

/* After the handshake a CertificateRequest is no HelloRequest: unexpected_message. */
START_TEST(test_client_auth12_request_after_handshake)
{
    sc12 sc;
    sc12_init(&sc, client_ck[CK_ECDSA]);
    sc12_handshake(&sc, 0, NULL);
    ts12_send_cert_request(sc.ts, NULL);
    sc12_pump(&sc);
    ck_assert_int_eq(sc.err, TLS_ERR_UNEXPECTED_HANDSHAKE);
    ck_assert_int_eq(ts12_last_alert(sc.ts), TLS_ALERT_UNEXPECTED_MESSAGE);
    sc12_free(&sc);
}
END_TEST

/* ---- helpers and config ---------------------------------------------------------------------- */

static tls_slice list_of(const uint8_t *p, size_t len)
{
    tls_slice s = {p, len};
    return s;
}

START_TEST(test_client_auth_scheme_choice)
{
    static const uint8_t all[] = {0x04, 0x01, 0x05, 0x01, 0x08, 0x04, 0x04,
                                  0x03, 0x05, 0x03, 0x08, 0x07, 0x08, 0x05};
    static const uint8_t pkcs1[] = {0x04, 0x01};
    tls_slice l = list_of(all, sizeof all);
    ck_assert_uint_eq(tls__sig_scheme_for_key(NULL, l, TLS_VERSION_1_3), 0);
    ck_assert_uint_eq(tls__sig_scheme_for_key(client_ck[CK_ECDSA], l, TLS_VERSION_1_3),
                      TLS_SIG_ECDSA_SECP256R1_SHA256);
    ck_assert_uint_eq(tls__sig_scheme_for_key(client_ck[CK_RSA], l, TLS_VERSION_1_3),
                      TLS_SIG_RSA_PSS_RSAE_SHA256);
    ck_assert_uint_eq(tls__sig_scheme_for_key(client_ck[CK_RSA], l, TLS_VERSION_1_2),
                      TLS_SIG_RSA_PSS_RSAE_SHA256);
    l = list_of(pkcs1, sizeof pkcs1);
    ck_assert_uint_eq(tls__sig_scheme_for_key(client_ck[CK_RSA], l, TLS_VERSION_1_3), 0);
    ck_assert_uint_eq(tls__sig_scheme_for_key(client_ck[CK_RSA], l, TLS_VERSION_1_2),
                      TLS_SIG_RSA_PKCS1_SHA256);
    ck_assert_uint_eq(
        tls__sig_scheme_for_key(end_ck[KT_P384], list_of(all, sizeof all), TLS_VERSION_1_3),
        TLS_SIG_ECDSA_SECP384R1_SHA384);
    ck_assert_uint_eq(
        tls__sig_scheme_for_key(client_ck[CK_ECDSA], list_of(NULL, 0), TLS_VERSION_1_3), 0);
    if (client_ck[CK_ED25519])
        ck_assert_uint_eq(tls__sig_scheme_for_key(client_ck[CK_ED25519], list_of(all, sizeof all),
                                                  TLS_VERSION_1_2),
                          TLS_SIG_ED25519);
}
END_TEST

/* The config holds its own reference: the caller may drop the key right away. */
START_TEST(test_client_auth_config_references_key)
{
    tls_certified_key *ck = tls_certified_key_ref(client_ck[CK_ECDSA]);
    tls_client_config *cfg = client_config(ck, true);
    tls_certified_key_unref(ck);
    sc13 sc;
    memset(&sc, 0, sizeof sc);
    sc.cfg = cfg;
    ck_assert_int_eq(tls_client_conn_new(cfg, NAME, &sc.c), TLS_OK);
    sc.ts = ts_new();
    sc13_pump(&sc);
    sc13_handshake(&sc, NULL);
    assert_sent_cert13(&sc, client_ck[CK_ECDSA], TLS_SIG_ECDSA_SECP256R1_SHA256);
    sc13_free(&sc);
}
END_TEST

/* ---- resumption -------------------------------------------------------------------------------
 */

/* A resumed handshake (TLS 1.3 ticket, TLS 1.2 session id) with a client certificate
 * configured completes: no CertificateRequest can come (RFC 8446 §4.3.2 forbids it with a
 * PSK, RFC 5246 §7.3's abbreviated handshake has none), and nothing is sent for it. */
static void resume_with_client_cert(bool tls13)
{
    tls_client_session_store *st = NULL;
    tls_client_config_params cp;
    tls_server_config_params sp;
    engine_pair p;

    ck_assert_int_eq(tls_client_session_store_new(8, &st), TLS_OK);
    memset(&cp, 0, sizeof cp);
    cp.roots = roots[KT_P256];
    cp.sessions = st;
    cp.client_cert = client_ck[CK_ECDSA];
    cp.versions = tls13 ? only_tls13 : only_tls12;
    cp.n_versions = 1;
    memset(&sp, 0, sizeof sp);
    sp.certs = &end_ck[KT_P256];
    sp.n_certs = 1;
    sp.tickets = tls13;
    sp.session_cache_size = tls13 ? 0 : 16;
    tls_server_config *scfg = engine_server_config(&sp);
    tls_client_config *ccfg = engine_client_config(&cp);

    for (int round = 0; round < 2; round++) {
        engine_pair_init(&p, tls_client_config_ref(ccfg), tls_server_config_ref(scfg), NAME);
        engine_shuttle(&p);
        engine_assert_ok(&p);
        ck_assert(!tls_conn_is_handshaking(p.c));
        ck_assert_int_eq(tls_conn_resumed(p.c), round == 1);
        engine_transfer(&p, p.c, p.s, 1000, 7);
        engine_pair_free(&p);
    }
    tls_client_config_unref(ccfg);
    tls_server_config_unref(scfg);
    tls_client_session_store_unref(st);
}

START_TEST(test_client_auth13_resumption)
{
    resume_with_client_cert(true);
}
END_TEST

START_TEST(test_client_auth12_resumption)
{
    resume_with_client_cert(false);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("client_auth_client");
    TCase *tc = tcase_create("tls13");
    tcase_add_unchecked_fixture(tc, load_fixture, free_fixture);
    tcase_add_test(tc, test_client_auth13_ecdsa);
    tcase_add_test(tc, test_client_auth13_ecdsa_default_request);
    tcase_add_test(tc, test_client_auth13_rsa_pss_not_pkcs1);
    tcase_add_test(tc, test_client_auth13_rsa_pkcs1_only_empty);
    tcase_add_test(tc, test_client_auth13_ed25519);
    tcase_add_test(tc, test_client_auth13_ed25519_not_listed_empty);
    tcase_add_test(tc, test_client_auth13_no_fitting_scheme_empty);
    tcase_add_test(tc, test_client_auth13_no_client_cert_empty);
    tcase_add_test(tc, test_client_auth13_authorities_still_sent);
    tcase_add_test(tc, test_client_auth13_not_requested_not_sent);
    tcase_add_test(tc, test_client_auth13_data_after);
    tcase_add_test(tc, test_client_auth13_nonempty_context_refused);
    tcase_add_test(tc, test_client_auth13_missing_sig_algs);
    tcase_add_test(tc, test_client_auth13_no_extensions);
    tcase_add_test(tc, test_client_auth13_request_before_ee);
    tcase_add_test(tc, test_client_auth13_post_handshake_request);
    tcase_add_test(tc, test_client_auth13_no_post_handshake_auth_offered);
    tcase_add_test(tc, test_client_auth13_resumption);
    suite_add_tcase(s, tc);

    tc = tcase_create("tls12");
    tcase_add_unchecked_fixture(tc, load_fixture, free_fixture);
    tcase_add_test(tc, test_client_auth12_ecdsa);
    tcase_add_test(tc, test_client_auth12_ecdsa_default_request);
    tcase_add_test(tc, test_client_auth12_ecdsa_sha384_suite);
    tcase_add_test(tc, test_client_auth12_rsa_pkcs1);
    tcase_add_test(tc, test_client_auth12_rsa_pss_preferred);
    tcase_add_test(tc, test_client_auth12_ed25519);
    tcase_add_test(tc, test_client_auth12_rsa_type_not_listed_empty);
    tcase_add_test(tc, test_client_auth12_ecdsa_type_not_listed_empty);
    tcase_add_test(tc, test_client_auth12_no_fitting_scheme_empty);
    tcase_add_test(tc, test_client_auth12_no_client_cert_empty);
    tcase_add_test(tc, test_client_auth12_authorities_still_sent);
    tcase_add_test(tc, test_client_auth12_not_requested_not_sent);
    tcase_add_test(tc, test_client_auth12_request_before_ske);
    tcase_add_test(tc, test_client_auth12_second_request);
    tcase_add_test(tc, test_client_auth12_request_after_handshake);
    tcase_add_test(tc, test_client_auth12_resumption);
    suite_add_tcase(s, tc);

    tc = tcase_create("helpers");
    tcase_add_unchecked_fixture(tc, load_fixture, free_fixture);
    tcase_add_test(tc, test_client_auth_scheme_choice);
    tcase_add_test(tc, test_client_auth_config_references_key);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
