/*
 * test_server_client_auth.c — client authentication (mTLS) on the server: the
 * CertificateRequest of tls/hs/tls13_server.c and tls12_server.c, the client chain and
 * CertificateVerify checks of tls/hs/server_common.c, clientAuth verification and CRLs
 * in tls/verify.c, the identity API of tls/conn.c, and the client identity resumption
 * carries (tls/ticket.c format 4, tls/session_cache.c).
 *
 * The peer is the scripted clients of tests/lib (testclient.h, testclient12.h), which
 * answer a CertificateRequest with a chosen certified key (or an empty Certificate) and
 * can misbehave on request. The test PKI is tests/certs/client-auth (mkclientauth.sh);
 * the server presents tests/certs/ecdsa-p256.
 *
 * Cases: required / optional / none; empty Certificate (certificate_required in TLS 1.3,
 * handshake_failure in TLS 1.2); another CA (unknown_ca); expired; serverAuth-only EKU;
 * revoked by a CRL (DER and PEM); a bad CertificateVerify signature (decrypt_error); a
 * CertificateVerify scheme we did not list; wrong-state messages (unexpected_message);
 * an oversized Certificate (max_certificate_chain_size); the identity API; resumption
 * keeps the identity and is refused after a CRL or roots change or when the config now
 * requires a certificate the session lacks; config validation.
 */
#include "tests/lib/enginepair.h"
#include "tests/lib/testclient.h"
#include "tests/lib/testclient12.h"
#include "tests/lib/unit.h"
#include "tls/conn.h"
#include "tls/verify.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CA_DIR "tests/certs/client-auth/"

enum { C_CLIENT, C_RSA, C_EXPIRED, C_SERVERONLY, C_REVOKED, C_OTHER, C_COUNT };
static const char *const c_names[C_COUNT] = {"client",     "client-rsa", "expired",
                                             "serveronly", "revoked",    "other"};
static tls_certified_key *cks[C_COUNT];
static tls_root_store *client_roots, *other_roots;
static const char *const inter_crl_pem[] = {CA_DIR "inter.crl.pem"};
static const char *const inter_crl_der[] = {CA_DIR "inter.crl.der"};
static const char *const root_crl[] = {CA_DIR "ca.crl.pem"};

static void load_fixture(void)
{
    char chain[256], key[256], err[256];
    engine_load_fixture();
    for (int i = 0; i < C_COUNT; i++) {
        snprintf(chain, sizeof chain, CA_DIR "%s.fullchain", c_names[i]);
        snprintf(key, sizeof key, CA_DIR "%s.key", c_names[i]);
        if (tls_certified_key_load(chain, key, &cks[i], err, sizeof err) != TLS_OK) {
            fprintf(stderr, "%s\n", err);
            abort();
        }
    }
    if (tls_root_store_load(CA_DIR "ca.cert", &client_roots, err, sizeof err) != TLS_OK ||
        tls_root_store_load(CA_DIR "other-ca.cert", &other_roots, err, sizeof err) != TLS_OK) {
        fprintf(stderr, "%s\n", err);
        abort();
    }
}

static void free_fixture(void)
{
    for (int i = 0; i < C_COUNT; i++)
        tls_certified_key_unref(cks[i]);
    tls_root_store_unref(client_roots);
    tls_root_store_unref(other_roots);
    engine_free_fixture();
}

static tls_server_config_params params(tls_client_auth_mode mode)
{
    tls_server_config_params p;
    memset(&p, 0, sizeof p);
    p.certs = &end_ck[KT_P256];
    p.n_certs = 1;
    p.client_auth = mode;
    if (mode != TLS_CLIENT_AUTH_NONE)
        p.client_roots = client_roots;
    return p;
}

static tls_server_config *server(tls_client_auth_mode mode)
{
    tls_server_config_params p = params(mode);
    return engine_server_config(&p);
}

static tls_server_config *server_crl(tls_client_auth_mode mode, const char *const *crl)
{
    tls_server_config_params p = params(mode);
    p.client_crls = crl;
    p.n_client_crls = 1;
    return engine_server_config(&p);
}

/* A TLS 1.3 handshake with the scripted client presenting `ck` (NULL: empty). */
static tls_error run13(tls_server_config *sc, const tc_options *o, tc_client **out,
                       tls_conn **s)
{
    *out = tc_client_new(o);
    ck_assert_int_eq(tls_server_conn_new(sc, s), TLS_OK);
    tc_start(*out);
    return tc_pump(*out, *s, 0);
}

static tls_error run12(tls_server_config *sc, const t12_options *o, t12_client **out,
                       tls_conn **s)
{
    *out = t12_client_new(o);
    ck_assert_int_eq(tls_server_conn_new(sc, s), TLS_OK);
    t12_start(*out);
    return t12_pump(*out, *s, 0);
}

static tc_options opts13(const tls_certified_key *ck)
{
    tc_options o;
    memset(&o, 0, sizeof o);
    o.client_cert = ck;
    return o;
}

static t12_options opts12(const tls_certified_key *ck)
{
    t12_options o;
    memset(&o, 0, sizeof o);
    o.client_cert = ck;
    return o;
}

/* One TLS 1.3 connection: the server error and the alert the client saw. */
static void expect13(tls_server_config *sc, const tls_certified_key *ck, tls_error want,
                     int alert)
{
    tc_options o = opts13(ck);
    tc_client *c;
    tls_conn *s;
    tls_error err = run13(sc, &o, &c, &s);
    ck_assert_msg(err == want, "server said %s, want %s", tls_error_name(err),
                  tls_error_name(want));
    if (want == TLS_OK) {
        ck_assert(!c->failed);
        ck_assert_int_eq(c->state, TC_STATE_CONNECTED);
        ck_assert(!tls_conn_is_handshaking(s));
    } else {
        ck_assert_int_eq(tc_last_alert(c), alert);
        ck_assert(!tls_conn_peer_cert_verified(s));
    }
    tc_client_free(c);
    tls_conn_free(s);
}

static void expect12(tls_server_config *sc, const tls_certified_key *ck, tls_error want,
                     int alert)
{
    t12_options o = opts12(ck);
    t12_client *c;
    tls_conn *s;
    tls_error err = run12(sc, &o, &c, &s);
    ck_assert_msg(err == want, "server said %s, want %s", tls_error_name(err),
                  tls_error_name(want));
    if (want == TLS_OK) {
        ck_assert_msg(!c->failed, "%s", c->error);
        ck_assert_int_eq(c->state, T12_STATE_CONNECTED);
    } else {
        ck_assert_int_eq(t12_last_alert(c), alert);
        ck_assert(!tls_conn_peer_cert_verified(s));
    }
    t12_client_free(c);
    tls_conn_free(s);
}

/* ---- modes ------------------------------------------------------------------------- */

/* Required: the CertificateRequest has an empty context, signature_algorithms and one
 * certificate_authorities name (our one root); the client's chain verifies; the identity
 * API says who it is. */
START_TEST(test_server_client_auth13_required_ok)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_REQUIRED);
    tc_options o = opts13(cks[C_CLIENT]);
    tc_client *c;
    tls_conn *s;
    size_t len = 0;

    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert(c->cert_requested);
    ck_assert_uint_eq(c->cr_context_len, 0);
    ck_assert(c->cr_sig_algs);
    ck_assert_uint_eq(c->cr_authorities, 1);
    ck_assert(!tls_conn_is_handshaking(s));
    ck_assert(tls_conn_peer_cert_verified(s));
    ck_assert(tls_conn_peer_cert_sent(s));
    ck_assert_str_eq(tls_conn_peer_cn(s), "client.test");
    const uint8_t *ee = tls_conn_peer_cert(s, 0, &len);
    ck_assert_ptr_nonnull(ee);
    ck_assert_uint_eq(len, cks[C_CLIENT]->chain_len[0]);
    ck_assert(!memcmp(ee, cks[C_CLIENT]->chain[0], len));
    ck_assert_ptr_nonnull(tls_conn_peer_cert(s, 1, &len)); /* the intermediate */
    ck_assert_uint_eq(len, cks[C_CLIENT]->chain_len[1]);
    ck_assert_ptr_null(tls_conn_peer_cert(s, 2, &len));
    ck_assert_uint_eq(len, 0);
    /* Data flows both ways once authenticated. */
    tc_write(c, (const uint8_t *)"ping", 4);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_OK);
    uint8_t buf[8];
    size_t n = 0;
    ck_assert_int_eq(tls_conn_read(s, buf, sizeof buf, &n), TLS_OK);
    ck_assert_uint_eq(n, 4);
    tc_client_free(c);
    tls_conn_free(s);
    tls_server_config_unref(sc);
}
END_TEST

START_TEST(test_server_client_auth13_rsa_client)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_REQUIRED);
    expect13(sc, cks[C_RSA], TLS_OK, TLS_ALERT_NONE);
    tls_server_config_unref(sc);
}
END_TEST

/* §4.4.2.4: required + an empty Certificate is certificate_required. */
START_TEST(test_server_client_auth13_required_empty)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_REQUIRED);
    expect13(sc, NULL, TLS_ERR_CERTIFICATE_REQUIRED, TLS_ALERT_CERTIFICATE_REQUIRED);
    tls_server_config_unref(sc);
}
END_TEST

/* Optional: an empty Certificate is an anonymous client; a certificate still verifies. */
START_TEST(test_server_client_auth13_optional)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_OPTIONAL);
    tc_options o = opts13(NULL);
    tc_client *c;
    tls_conn *s;

    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_OK);
    ck_assert(c->cert_requested);
    ck_assert(!tls_conn_is_handshaking(s));
    ck_assert(!tls_conn_peer_cert_verified(s));
    ck_assert(!tls_conn_peer_cert_sent(s));
    ck_assert_ptr_null(tls_conn_peer_cn(s));
    tc_client_free(c);
    tls_conn_free(s);
    expect13(sc, cks[C_CLIENT], TLS_OK, TLS_ALERT_NONE);
    expect13(sc, cks[C_OTHER], TLS_ERR_CERT_UNKNOWN_ISSUER, TLS_ALERT_UNKNOWN_CA);
    tls_server_config_unref(sc);
}
END_TEST

/* None: no CertificateRequest, and a Certificate sent anyway is unexpected. */
START_TEST(test_server_client_auth13_none)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_NONE);
    tc_options o = opts13(cks[C_CLIENT]);
    o.hold_finished = true;
    tc_client *c;
    tls_conn *s;

    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_OK);
    ck_assert(!c->cert_requested);
    ck_assert_int_eq(c->state, TC_STATE_FINISHED_HELD);
    tc_send_client_auth(c);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE);
    ck_assert_int_eq(tc_last_alert(c), TLS_ALERT_UNEXPECTED_MESSAGE);
    tc_client_free(c);
    tls_conn_free(s);
    tls_server_config_unref(sc);
}
END_TEST

/* ---- refused certificates ---------------------------------------------------------------- */

START_TEST(test_server_client_auth13_bad_certificates)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_REQUIRED);
    expect13(sc, cks[C_OTHER], TLS_ERR_CERT_UNKNOWN_ISSUER, TLS_ALERT_UNKNOWN_CA);
    expect13(sc, cks[C_EXPIRED], TLS_ERR_CERT_EXPIRED, TLS_ALERT_CERTIFICATE_EXPIRED);
    /* EKU serverAuth only: not a client certificate. */
    expect13(sc, cks[C_SERVERONLY], TLS_ERR_CERT_INVALID_PURPOSE,
             TLS_ALERT_UNSUPPORTED_CERTIFICATE);
    /* A server's certificate (serverAuth, another CA) is refused for its purpose first:
     * the end entity's own checks come before path building (rustls's order). */
    expect13(sc, end_ck[KT_P256], TLS_ERR_CERT_INVALID_PURPOSE,
             TLS_ALERT_UNSUPPORTED_CERTIFICATE);
    tls_server_config_unref(sc);
}
END_TEST

START_TEST(test_server_client_auth12_bad_certificates)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_REQUIRED);
    expect12(sc, cks[C_OTHER], TLS_ERR_CERT_UNKNOWN_ISSUER, TLS_ALERT_UNKNOWN_CA);
    expect12(sc, cks[C_EXPIRED], TLS_ERR_CERT_EXPIRED, TLS_ALERT_CERTIFICATE_EXPIRED);
    expect12(sc, cks[C_SERVERONLY], TLS_ERR_CERT_INVALID_PURPOSE,
             TLS_ALERT_UNSUPPORTED_CERTIFICATE);
    tls_server_config_unref(sc);
}
END_TEST

/* A certificate that does not parse is bad_certificate. */
START_TEST(test_server_client_auth13_malformed_certificate)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_REQUIRED);
    tc_options o = opts13(NULL);
    o.omit_client_auth = true;
    o.hold_finished = true;
    tc_client *c;
    tls_conn *s;
    static const uint8_t msg[] = {TLS_HS_CERTIFICATE, 0, 0, 12, 0, 0, 0, 8, 0, 0, 3,
                                  0x30,               1, 2, 0, 0};

    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_OK);
    tc_inject_handshake(c, msg, sizeof msg);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_ERR_CERT_BAD_ENCODING);
    ck_assert_int_eq(tc_last_alert(c), TLS_ALERT_BAD_CERTIFICATE);
    tc_client_free(c);
    tls_conn_free(s);
    tls_server_config_unref(sc);
}
END_TEST

/* CRLs: the intermediate's CRL (PEM or DER) revokes revoked.cert; the root's revokes
 * nothing. Without a CRL the same certificate is accepted. */
START_TEST(test_server_client_auth_revoked)
{
    tls_server_config *pem = server_crl(TLS_CLIENT_AUTH_REQUIRED, inter_crl_pem);
    tls_server_config *der = server_crl(TLS_CLIENT_AUTH_REQUIRED, inter_crl_der);
    tls_server_config *root = server_crl(TLS_CLIENT_AUTH_REQUIRED, root_crl);
    tls_server_config *none = server(TLS_CLIENT_AUTH_REQUIRED);

    expect13(pem, cks[C_REVOKED], TLS_ERR_CERT_REVOKED, TLS_ALERT_CERTIFICATE_REVOKED);
    expect13(der, cks[C_REVOKED], TLS_ERR_CERT_REVOKED, TLS_ALERT_CERTIFICATE_REVOKED);
    expect12(pem, cks[C_REVOKED], TLS_ERR_CERT_REVOKED, TLS_ALERT_CERTIFICATE_REVOKED);
    expect13(pem, cks[C_CLIENT], TLS_OK, TLS_ALERT_NONE);
    expect12(der, cks[C_CLIENT], TLS_OK, TLS_ALERT_NONE);
    expect13(root, cks[C_REVOKED], TLS_OK, TLS_ALERT_NONE);
    expect13(none, cks[C_REVOKED], TLS_OK, TLS_ALERT_NONE);
    tls_server_config_unref(pem);
    tls_server_config_unref(der);
    tls_server_config_unref(root);
    tls_server_config_unref(none);
}
END_TEST

/* ---- CertificateVerify ------------------------------------------------------------------- */

START_TEST(test_server_client_auth13_bad_signature)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_REQUIRED);
    tc_options o = opts13(cks[C_CLIENT]);
    o.corrupt_client_cv = true;
    tc_client *c;
    tls_conn *s;

    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_ERR_BAD_CERTIFICATE_VERIFY);
    ck_assert_int_eq(tc_last_alert(c), TLS_ALERT_DECRYPT_ERROR);
    ck_assert(!tls_conn_peer_cert_verified(s));
    tc_client_free(c);
    tls_conn_free(s);
    /* §4.4.3: RSA PKCS#1 v1.5 is never a TLS 1.3 CertificateVerify. */
    o = opts13(cks[C_RSA]);
    o.client_sig_scheme = TLS_SIG_RSA_PKCS1_SHA256;
    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_ERR_ILLEGAL_PARAMETER);
    ck_assert_int_eq(tc_last_alert(c), TLS_ALERT_ILLEGAL_PARAMETER);
    tc_client_free(c);
    tls_conn_free(s);
    tls_server_config_unref(sc);
}
END_TEST

START_TEST(test_server_client_auth12_bad_signature)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_REQUIRED);
    t12_options o = opts12(cks[C_CLIENT]);
    o.corrupt_client_cv = true;
    t12_client *c;
    tls_conn *s;

    ck_assert_int_eq(run12(sc, &o, &c, &s), TLS_ERR_BAD_CERTIFICATE_VERIFY);
    ck_assert_int_eq(t12_last_alert(c), TLS_ALERT_DECRYPT_ERROR);
    t12_client_free(c);
    tls_conn_free(s);
    /* TLS 1.2 takes PKCS#1 v1.5 (RFC 5246 §7.4.8 with our list). */
    o = opts12(cks[C_RSA]);
    o.client_sig_scheme = TLS_SIG_RSA_PKCS1_SHA256;
    ck_assert_int_eq(run12(sc, &o, &c, &s), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    t12_client_free(c);
    tls_conn_free(s);
    tls_server_config_unref(sc);
}
END_TEST

/* ---- TLS 1.2 ------------------------------------------------------------------------------ */

START_TEST(test_server_client_auth12_modes)
{
    tls_server_config *req = server(TLS_CLIENT_AUTH_REQUIRED);
    tls_server_config *opt = server(TLS_CLIENT_AUTH_OPTIONAL);
    t12_options o = opts12(cks[C_CLIENT]);
    t12_client *c;
    tls_conn *s;

    ck_assert_int_eq(run12(req, &o, &c, &s), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert(c->cert_requested);
    ck_assert_uint_eq(c->cr_types, 2);
    ck_assert_uint_ge(c->cr_sig_algs, 8);
    ck_assert_uint_eq(c->cr_authorities, 1);
    ck_assert(tls_conn_peer_cert_verified(s));
    ck_assert(tls_conn_peer_cert_sent(s));
    ck_assert_str_eq(tls_conn_peer_cn(s), "client.test");
    t12_client_free(c);
    tls_conn_free(s);
    expect12(req, cks[C_RSA], TLS_OK, TLS_ALERT_NONE);
    /* RFC 5246 §7.4.6: an empty Certificate where one is required: handshake_failure. */
    expect12(req, NULL, TLS_ERR_CERTIFICATE_REQUIRED12, TLS_ALERT_HANDSHAKE_FAILURE);
    expect12(opt, NULL, TLS_OK, TLS_ALERT_NONE);
    expect12(opt, cks[C_CLIENT], TLS_OK, TLS_ALERT_NONE);
    tls_server_config_unref(req);
    tls_server_config_unref(opt);
}
END_TEST

/* Wrong-state messages in TLS 1.2: ClientKeyExchange before the Certificate, CCS before
 * the CertificateVerify, a CertificateVerify after an empty Certificate. */
START_TEST(test_server_client_auth12_wrong_state)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_OPTIONAL);
    t12_options o = opts12(cks[C_CLIENT]);
    o.flight = T12_FLIGHT_MANUAL;
    t12_client *c;
    tls_conn *s;

    ck_assert_int_eq(run12(sc, &o, &c, &s), TLS_OK);
    t12_send_client_key_exchange(c);
    ck_assert_int_eq(t12_pump(c, s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE);
    ck_assert_int_eq(t12_last_alert(c), TLS_ALERT_UNEXPECTED_MESSAGE);
    t12_client_free(c);
    tls_conn_free(s);

    ck_assert_int_eq(run12(sc, &o, &c, &s), TLS_OK);
    t12_send_client_certificate(c);
    t12_send_client_key_exchange(c);
    t12_send_ccs(c);
    ck_assert_int_eq(t12_pump(c, s, 0), TLS_ERR_UNEXPECTED_MESSAGE);
    ck_assert_int_eq(t12_last_alert(c), TLS_ALERT_UNEXPECTED_MESSAGE);
    t12_client_free(c);
    tls_conn_free(s);

    o.client_cert = NULL;
    ck_assert_int_eq(run12(sc, &o, &c, &s), TLS_OK);
    t12_send_client_certificate(c); /* empty */
    t12_send_client_key_exchange(c);
    o.client_cert = cks[C_CLIENT];
    c->opts.client_cert = cks[C_CLIENT];
    t12_send_certificate_verify(c);
    ck_assert_int_eq(t12_pump(c, s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE);
    t12_client_free(c);
    tls_conn_free(s);
    tls_server_config_unref(sc);
}
END_TEST

/* ---- TLS 1.3 wrong state and limits -------------------------------------------------------- */

/* The Finished without the requested Certificate; CertificateVerify without a
 * Certificate; CertificateVerify after an empty Certificate; Finished without the
 * CertificateVerify of a non-empty Certificate. */
START_TEST(test_server_client_auth13_wrong_state)
{
    tls_server_config *sc = server(TLS_CLIENT_AUTH_OPTIONAL);
    tc_options o = opts13(cks[C_CLIENT]);
    tc_client *c;
    tls_conn *s;
    uint8_t cv[] = {TLS_HS_CERTIFICATE_VERIFY, 0, 0, 6, 0x04, 0x03, 0, 2, 0x30, 0};

    o.omit_client_auth = true;
    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_ERR_UNEXPECTED_HANDSHAKE);
    ck_assert_int_eq(tc_last_alert(c), TLS_ALERT_UNEXPECTED_MESSAGE);
    tc_client_free(c);
    tls_conn_free(s);

    o.hold_finished = true;
    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_OK);
    tc_inject_handshake(c, cv, sizeof cv);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE);
    tc_client_free(c);
    tls_conn_free(s);

    o = opts13(NULL);
    o.hold_finished = true;
    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_OK);
    tc_send_client_auth(c); /* empty */
    tc_inject_handshake(c, cv, sizeof cv);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_ERR_UNEXPECTED_HANDSHAKE);
    tc_client_free(c);
    tls_conn_free(s);

    o = opts13(cks[C_CLIENT]);
    o.omit_client_cv = true;
    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_ERR_UNEXPECTED_HANDSHAKE);
    ck_assert_int_eq(tc_last_alert(c), TLS_ALERT_UNEXPECTED_MESSAGE);
    tc_client_free(c);
    tls_conn_free(s);
    tls_server_config_unref(sc);
}
END_TEST

/* max_certificate_chain_size bounds the client's Certificate: refused as soon as its
 * header arrives (decode_error), while other messages keep the message limit. */
START_TEST(test_server_client_auth_chain_limit)
{
    tls_server_config_params p = params(TLS_CLIENT_AUTH_REQUIRED);
    p.max_handshake_message_size = 1024;
    p.max_certificate_chain_size = 2048;
    tls_server_config *sc = engine_server_config(&p);
    tc_options o = opts13(NULL);
    o.omit_client_auth = true;
    o.hold_finished = true;
    tc_client *c;
    tls_conn *s;
    uint8_t hdr[4] = {TLS_HS_CERTIFICATE, 0, 0x08, 0x01}; /* 2049 bytes follow */

    ck_assert_int_eq(run13(sc, &o, &c, &s), TLS_OK);
    tc_inject_handshake(c, hdr, sizeof hdr);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_ERR_HANDSHAKE_TOO_LARGE);
    ck_assert_int_eq(tc_last_alert(c), TLS_ALERT_DECODE_ERROR);
    tc_client_free(c);
    tls_conn_free(s);
    /* A real chain (about 1.1 KB here) over the message limit but under the chain one. */
    expect13(sc, cks[C_CLIENT], TLS_OK, TLS_ALERT_NONE);
    tls_server_config_unref(sc);
}
END_TEST

/* ---- resumption ---------------------------------------------------------------------------- */

/* A full TLS 1.3 handshake on sc1 with ck; then one resuming its first ticket on sc2. */
static void resume13(tls_server_config *sc1, tls_server_config *sc2, const tls_certified_key *ck,
                     bool want_resumed, const char *want_cn)
{
    tc_options o = opts13(ck);
    o.psk_dhe_ke = true;
    tc_client *c, *c2;
    tls_conn *s, *s2;

    ck_assert_int_eq(run13(sc1, &o, &c, &s), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert_uint_ge(c->n_tickets, 1);
    o.resume = &c->tickets[0];
    tls_error err = run13(sc2, &o, &c2, &s2);
    ck_assert_msg(err == TLS_OK, "%s", tls_error_name(err));
    ck_assert_msg(!c2->failed, "%s", c2->error);
    ck_assert_int_eq(tls_conn_resumed(s2), want_resumed);
    ck_assert_int_eq(c2->psk_accepted, want_resumed);
    if (want_cn) {
        ck_assert(tls_conn_peer_cert_verified(s2));
        ck_assert_int_eq(tls_conn_peer_cert_sent(s2), !want_resumed);
        ck_assert_str_eq(tls_conn_peer_cn(s2), want_cn);
    } else {
        ck_assert(!tls_conn_peer_cert_verified(s2));
    }
    tc_client_free(c);
    tc_client_free(c2);
    tls_conn_free(s);
    tls_conn_free(s2);
}

static tls_server_config *ticket_server(tls_client_auth_mode mode, tls_ticketer *tk,
                                        tls_root_store *rs, const char *const *crl)
{
    tls_server_config_params p = params(mode);
    p.ticketer = tk;
    if (mode != TLS_CLIENT_AUTH_NONE)
        p.client_roots = rs;
    p.client_crls = crl;
    p.n_client_crls = crl ? 1 : 0;
    return engine_server_config(&p);
}

START_TEST(test_server_client_auth13_resumption)
{
    tls_ticketer *tk = NULL;
    ck_assert_int_eq(tls_ticketer_new(3600, &tk), TLS_OK);
    tls_server_config *req = ticket_server(TLS_CLIENT_AUTH_REQUIRED, tk, client_roots, NULL);
    tls_server_config *opt = ticket_server(TLS_CLIENT_AUTH_OPTIONAL, tk, client_roots, NULL);
    tls_server_config *crl =
        ticket_server(TLS_CLIENT_AUTH_REQUIRED, tk, client_roots, inter_crl_pem);
    tls_server_config *moved = ticket_server(TLS_CLIENT_AUTH_OPTIONAL, tk, other_roots, NULL);

    /* The identity comes back with the session (not "sent" on the resumed one). */
    resume13(req, req, cks[C_CLIENT], true, "client.test");
    /* A certificate a CRL now lists: no resumption; the full handshake then refuses it,
     * which the optional config below shows without failing the run. */
    tls_server_config *none = ticket_server(TLS_CLIENT_AUTH_NONE, tk, NULL, NULL);
    /* A config without client auth resumes the session, with no identity to report. */
    resume13(req, none, cks[C_REVOKED], true, NULL);
    tls_server_config_unref(none);
    {
        tc_options o = opts13(cks[C_REVOKED]);
        o.psk_dhe_ke = true;
        tc_client *c, *c2;
        tls_conn *s, *s2;
        ck_assert_int_eq(run13(req, &o, &c, &s), TLS_OK);
        o.resume = &c->tickets[0];
        ck_assert_int_eq(run13(crl, &o, &c2, &s2), TLS_ERR_CERT_REVOKED);
        ck_assert(!c2->psk_accepted);
        ck_assert(!tls_conn_resumed(s2));
        tc_client_free(c);
        tc_client_free(c2);
        tls_conn_free(s);
        tls_conn_free(s2);
    }
    /* The client CA removed (roots replaced): a full handshake, with a certificate the new
     * roots do not know; an anonymous session where a certificate is now required: a full
     * handshake too. */
    {
        tc_options o = opts13(cks[C_CLIENT]);
        o.psk_dhe_ke = true;
        tc_client *c, *c2;
        tls_conn *s, *s2;
        ck_assert_int_eq(run13(req, &o, &c, &s), TLS_OK);
        o.resume = &c->tickets[0];
        ck_assert_int_eq(run13(moved, &o, &c2, &s2), TLS_ERR_CERT_UNKNOWN_ISSUER);
        ck_assert(!c2->psk_accepted);
        tc_client_free(c);
        tc_client_free(c2);
        tls_conn_free(s);
        tls_conn_free(s2);
    }
    resume13(opt, opt, NULL, true, NULL);
    {
        /* An anonymous session where a certificate is now required: a full handshake. */
        tc_options o = opts13(NULL);
        o.psk_dhe_ke = true;
        tc_client *c, *c2;
        tls_conn *s, *s2;
        ck_assert_int_eq(run13(opt, &o, &c, &s), TLS_OK);
        ck_assert_uint_ge(c->n_tickets, 1);
        o.resume = &c->tickets[0];
        o.client_cert = cks[C_CLIENT];
        ck_assert_int_eq(run13(req, &o, &c2, &s2), TLS_OK);
        ck_assert(!c2->psk_accepted);
        ck_assert(!tls_conn_resumed(s2));
        ck_assert(tls_conn_peer_cert_sent(s2));
        tc_client_free(c);
        tc_client_free(c2);
        tls_conn_free(s);
        tls_conn_free(s2);
    }
    tls_server_config_unref(req);
    tls_server_config_unref(opt);
    tls_server_config_unref(crl);
    tls_server_config_unref(moved);
    tls_ticketer_unref(tk);
}
END_TEST

/* Stateful TLS 1.3 tickets (the session cache) carry the identity too. */
START_TEST(test_server_client_auth13_resumption_cache)
{
    tls_server_config_params p = params(TLS_CLIENT_AUTH_REQUIRED);
    p.session_cache_size = 8;
    tls_server_config *sc = engine_server_config(&p);
    resume13(sc, sc, cks[C_CLIENT], true, "client.test");
    resume13(sc, sc, cks[C_RSA], true, "rsa.client.test");
    tls_server_config_unref(sc);
}
END_TEST

/* TLS 1.2: a ticket of a session with a client certificate resumes (the scripted client
 * cannot finish an abbreviated handshake: the server's choice is what is checked), and
 * does not once a CRL lists the certificate. */
START_TEST(test_server_client_auth12_resumption)
{
    tls_ticketer *tk = NULL;
    ck_assert_int_eq(tls_ticketer_new(3600, &tk), TLS_OK);
    tls_server_config *req = ticket_server(TLS_CLIENT_AUTH_REQUIRED, tk, client_roots, NULL);
    tls_server_config *crl =
        ticket_server(TLS_CLIENT_AUTH_REQUIRED, tk, client_roots, inter_crl_pem);
    t12_options o = opts12(cks[C_REVOKED]);
    o.session_ticket = true;
    t12_client *c, *c2;
    tls_conn *s, *s2;

    ck_assert_int_eq(run12(req, &o, &c, &s), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert_uint_gt(c->new_ticket_len, 0);
    o.ticket = c->new_ticket;
    o.ticket_len = c->new_ticket_len;
    ck_assert_int_eq(run12(req, &o, &c2, &s2), TLS_OK);
    ck_assert(tls_conn_resumed(s2));
    t12_client_free(c2);
    tls_conn_free(s2);
    ck_assert_int_eq(run12(crl, &o, &c2, &s2), TLS_ERR_CERT_REVOKED);
    ck_assert(!tls_conn_resumed(s2));
    t12_client_free(c2);
    tls_conn_free(s2);
    t12_client_free(c);
    tls_conn_free(s);
    tls_server_config_unref(req);
    tls_server_config_unref(crl);
    tls_ticketer_unref(tk);
}
END_TEST

/* ---- config ----------------------------------------------------------------------------------- */

START_TEST(test_server_client_auth_config)
{
    tls_server_config_params p = params(TLS_CLIENT_AUTH_REQUIRED);
    tls_server_config *sc = NULL;
    char err[256];
    static const char *const missing[] = {CA_DIR "no-such.crl"};
    static const char *const not_crl[] = {CA_DIR "ca.cert"};

    p.client_roots = NULL;
    ck_assert_int_eq(tls_server_config_new(&p, &sc, err, sizeof err), TLS_ERR_CONFIG);
    p = params(TLS_CLIENT_AUTH_NONE);
    p.client_roots = client_roots;
    ck_assert_int_eq(tls_server_config_new(&p, &sc, err, sizeof err), TLS_ERR_CONFIG);
    p = params((tls_client_auth_mode)7);
    ck_assert_int_eq(tls_server_config_new(&p, &sc, err, sizeof err), TLS_ERR_CONFIG);
    p = params(TLS_CLIENT_AUTH_OPTIONAL);
    p.client_crls = missing;
    p.n_client_crls = 1;
    ck_assert_int_eq(tls_server_config_new(&p, &sc, err, sizeof err), TLS_ERR_CERT_FILE);
    ck_assert_ptr_nonnull(strstr(err, "no-such.crl"));
    p.client_crls = not_crl;
    ck_assert_int_eq(tls_server_config_new(&p, &sc, err, sizeof err), TLS_ERR_CRL_PARSE);
    ck_assert_ptr_nonnull(strstr(err, "ca.cert"));
    ck_assert_ptr_null(sc);
}
END_TEST

/* The public verifier: clientAuth, not serverAuth; no name. */
START_TEST(test_server_client_auth_verify_client_cert)
{
    const tls_certified_key *ck = cks[C_CLIENT];
    ck_assert_int_eq(tls_verify_client_cert(client_roots, (const uint8_t *const *)ck->chain,
                                            ck->chain_len, ck->n_chain, 1700000000),
                     TLS_OK);
    ck = cks[C_SERVERONLY];
    ck_assert_int_eq(tls_verify_client_cert(client_roots, (const uint8_t *const *)ck->chain,
                                            ck->chain_len, ck->n_chain, 1700000000),
                     TLS_ERR_CERT_INVALID_PURPOSE);
    ck_assert_int_eq(tls_verify_server_cert(client_roots, (const uint8_t *const *)ck->chain,
                                            ck->chain_len, ck->n_chain, "localhost", 1700000000),
                     TLS_ERR_CERT_NOT_VALID_FOR_NAME);
    ck = cks[C_EXPIRED];
    ck_assert_int_eq(tls_verify_client_cert(client_roots, (const uint8_t *const *)ck->chain,
                                            ck->chain_len, ck->n_chain, 1590000000),
                     TLS_OK);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("server_client_auth");
    TCase *tc = tcase_create("client auth");
    tcase_add_unchecked_fixture(tc, load_fixture, free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_server_client_auth13_required_ok);
    tcase_add_test(tc, test_server_client_auth13_rsa_client);
    tcase_add_test(tc, test_server_client_auth13_required_empty);
    tcase_add_test(tc, test_server_client_auth13_optional);
    tcase_add_test(tc, test_server_client_auth13_none);
    tcase_add_test(tc, test_server_client_auth13_bad_certificates);
    tcase_add_test(tc, test_server_client_auth12_bad_certificates);
    tcase_add_test(tc, test_server_client_auth13_malformed_certificate);
    tcase_add_test(tc, test_server_client_auth_revoked);
    tcase_add_test(tc, test_server_client_auth13_bad_signature);
    tcase_add_test(tc, test_server_client_auth12_bad_signature);
    tcase_add_test(tc, test_server_client_auth12_modes);
    tcase_add_test(tc, test_server_client_auth12_wrong_state);
    tcase_add_test(tc, test_server_client_auth13_wrong_state);
    tcase_add_test(tc, test_server_client_auth_chain_limit);
    tcase_add_test(tc, test_server_client_auth13_resumption);
    tcase_add_test(tc, test_server_client_auth13_resumption_cache);
    tcase_add_test(tc, test_server_client_auth12_resumption);
    tcase_add_test(tc, test_server_client_auth_config);
    tcase_add_test(tc, test_server_client_auth_verify_client_cert);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
