/*
 * test_ocsp.c — unit tests for tls/ocsp.c: OCSP staples (every check of
 * tls_certified_key_set_ocsp, set/replace/remove, the validity getter), the OCSP request
 * builder, SCT list structure, and serving both staples in TLS 1.3 (CertificateEntry
 * extensions) and TLS 1.2 (ServerHello extensions, CertificateStatus), plus the engine
 * client's tls_conn_peer_scts.
 *
 * The responses under tests/certs/ocsp/ come from `openssl ocsp` (tests/certs/mkocsp.sh);
 * their thisUpdate is when the script ran, so every check passes `now` explicitly: NOW
 * (2040-01-01) lies inside every long-lived response and the responder certificates, and after
 * expired.der's nextUpdate. Times inside expired.der's one-minute window are read from the file
 * itself (tls__ocsp_response_times).
 */
#include "tests/lib/enginepair.h"
#include "tests/lib/testclient.h"
#include "tests/lib/testclient12.h"
#include "tests/lib/unit.h"
#include "tls/ocsp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERTS "tests/certs/"
#define OCSP_DIR CERTS "ocsp/"
#define NOW ((int64_t)2208988800)  /* 2040-01-01T00:00:00Z */
#define PAST ((int64_t)1577836800) /* 2020-01-01T00:00:00Z */

/* ---- helpers ---------------------------------------------------------------------------- */

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = malloc(1 << 20);

    ck_assert_msg(f != NULL, "cannot open %s", path);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, 1 << 20, f);
    fclose(f);
    ck_assert_uint_gt(*len, 0);
    return buf;
}

static tls_certified_key *load_ck(const char *chain, const char *key)
{
    tls_certified_key *ck = NULL;
    char err[256] = "";

    ck_assert_msg(tls_certified_key_load(chain, key, &ck, err, sizeof err) == TLS_OK, "%s", err);
    return ck;
}

static tls_certified_key *end_p256(void)
{
    return load_ck(CERTS "ecdsa-p256/end.fullchain", CERTS "ecdsa-p256/end.key");
}

/* Sets OCSP_DIR/name on ck at now; returns the error and leaves the sentence in err. */
static tls_error set_file(tls_certified_key *ck, const char *name, int64_t now, char *err,
                          size_t errlen)
{
    char path[256];
    size_t len;
    uint8_t *der;
    tls_error e;

    snprintf(path, sizeof path, OCSP_DIR "%s", name);
    der = read_all(path, &len);
    e = tls_certified_key_set_ocsp(ck, der, len, NULL, 0, now, err, errlen);
    free(der);
    return e;
}

static void assert_refused(const char *name, int64_t now, const char *why)
{
    tls_certified_key *ck = end_p256();
    char err[256] = "";

    ck_assert_int_eq(set_file(ck, name, now, err, sizeof err), TLS_ERR_OCSP_RESPONSE);
    ck_assert_msg(strstr(err, why) != NULL, "%s: '%s' lacks '%s'", name, err, why);
    ck_assert(!tls_certified_key_ocsp_validity(ck, NULL, NULL));
    tls_certified_key_unref(ck);
}

static void file_times(const char *name, int64_t *this_update, int64_t *next_update)
{
    char path[256];
    size_t len;
    uint8_t *der;

    snprintf(path, sizeof path, OCSP_DIR "%s", name);
    der = read_all(path, &len);
    ck_assert(tls__ocsp_response_times(der, len, this_update, next_update));
    free(der);
}

/* ---- verification -------------------------------------------------------------------------- */

START_TEST(test_ocsp_set_good_variants)
{
    static const char *const good[] = {"good.der", "good-issuer.der", "good-sha256.der",
                                       "good-bykey.der"};
    tls_certified_key *ck = end_p256();
    int64_t t = 0, n = 0, ft, fn;
    char err[256];

    ck_assert(!tls_certified_key_ocsp_validity(ck, &t, &n));
    for (size_t i = 0; i < sizeof good / sizeof good[0]; i++) {
        err[0] = '\0';
        ck_assert_msg(set_file(ck, good[i], NOW, err, sizeof err) == TLS_OK, "%s: %s", good[i],
                      err);
        file_times(good[i], &ft, &fn);
        ck_assert(tls_certified_key_ocsp_validity(ck, &t, &n));
        ck_assert_int_eq(t, ft);
        ck_assert_int_eq(n, fn);
        ck_assert_int_gt(n, NOW);
    }
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_ocsp_set_revoked)
{
    assert_refused("revoked.der", NOW, "revoked");
}
END_TEST

START_TEST(test_ocsp_set_unknown)
{
    assert_refused("unknown.der", NOW, "unknown");
}
END_TEST

START_TEST(test_ocsp_set_expired)
{
    assert_refused("expired.der", NOW, "expired");
}
END_TEST

START_TEST(test_ocsp_set_not_yet_valid)
{
    assert_refused("good.der", PAST, "in the future");
}
END_TEST

START_TEST(test_ocsp_set_no_next_update)
{
    assert_refused("nonext.der", NOW, "nextUpdate");
}
END_TEST

START_TEST(test_ocsp_set_wrong_cert)
{
    assert_refused("wrongcert.der", NOW, "CertID");
}
END_TEST

START_TEST(test_ocsp_set_responder_without_eku)
{
    assert_refused("noeku.der", NOW, "id-kp-OCSPSigning");
}
END_TEST

START_TEST(test_ocsp_set_responder_not_issued_by_issuer)
{
    assert_refused("rogue.der", NOW, "not signed by the certificate's issuer");
}
END_TEST

START_TEST(test_ocsp_set_unsuccessful_status)
{
    static const uint8_t try_later[] = {0x30, 0x03, 0x0a, 0x01, 0x03};
    tls_certified_key *ck = end_p256();
    char err[256] = "";

    ck_assert_int_eq(
        tls_certified_key_set_ocsp(ck, try_later, sizeof try_later, NULL, 0, NOW, err, sizeof err),
        TLS_ERR_OCSP_RESPONSE);
    ck_assert_msg(strstr(err, "tryLater") != NULL, "%s", err);
    tls_certified_key_unref(ck);
}
END_TEST

/* Truncation at every length, a trailing byte, and a flipped signature bit. */
START_TEST(test_ocsp_set_adversarial)
{
    tls_certified_key *ck = end_p256();
    size_t len;
    uint8_t *der = read_all(OCSP_DIR "good.der", &len);
    uint8_t *copy = malloc(len + 1);
    char err[256];

    for (size_t n = 1; n < len; n++) {
        memcpy(copy, der, n);
        ck_assert_int_eq(tls_certified_key_set_ocsp(ck, copy, n, NULL, 0, NOW, err, sizeof err),
                         TLS_ERR_OCSP_RESPONSE);
    }
    memcpy(copy, der, len);
    copy[len] = 0;
    ck_assert_int_eq(tls_certified_key_set_ocsp(ck, copy, len + 1, NULL, 0, NOW, err, sizeof err),
                     TLS_ERR_OCSP_RESPONSE);
    /* The signature is the BIT STRING before the responder certificate; good.der signs
     * with ECDSA, whose DER signature ends the ResponseData's signature... flip a byte of
     * the TBS instead: any change there breaks the signature or the structure. */
    memcpy(copy, der, len);
    copy[40] ^= 0x01;
    ck_assert_int_eq(tls_certified_key_set_ocsp(ck, copy, len, NULL, 0, NOW, err, sizeof err),
                     TLS_ERR_OCSP_RESPONSE);
    ck_assert(!tls_certified_key_ocsp_validity(ck, NULL, NULL));
    free(copy);
    free(der);
    tls_certified_key_unref(ck);
}
END_TEST

/* The issuer comes from chain[1], else issuer_der. */
START_TEST(test_ocsp_set_issuer_argument)
{
    tls_certified_key *ck = load_ck(CERTS "ecdsa-p256/end.cert", CERTS "ecdsa-p256/end.key");
    tls_certified_key *inter = load_ck(CERTS "ecdsa-p256/inter.cert", CERTS "ecdsa-p256/inter.key");
    tls_certified_key *other = load_ck(CERTS "ecdsa-p256/ca.cert", CERTS "ecdsa-p256/ca.key");
    size_t len;
    uint8_t *der = read_all(OCSP_DIR "good.der", &len);
    char err[256] = "";

    ck_assert_int_eq(tls_certified_key_set_ocsp(ck, der, len, NULL, 0, NOW, err, sizeof err),
                     TLS_ERR_OCSP_RESPONSE);
    ck_assert_msg(strstr(err, "no issuer") != NULL, "%s", err);
    ck_assert_int_eq(tls_certified_key_set_ocsp(ck, der, len, other->chain[0], other->chain_len[0],
                                                NOW, err, sizeof err),
                     TLS_ERR_OCSP_RESPONSE);
    ck_assert_msg(strstr(err, "did not issue") != NULL, "%s", err);
    ck_assert_int_eq(tls_certified_key_set_ocsp(ck, der, len, inter->chain[0], inter->chain_len[0],
                                                NOW, err, sizeof err),
                     TLS_OK);
    ck_assert(tls_certified_key_ocsp_validity(ck, NULL, NULL));
    free(der);
    tls_certified_key_unref(ck);
    tls_certified_key_unref(inter);
    tls_certified_key_unref(other);
}
END_TEST

START_TEST(test_ocsp_set_replace_remove)
{
    tls_certified_key *ck = end_p256();
    int64_t t, n, et, en;
    char err[256] = "";

    file_times("expired.der", &et, &en);
    ck_assert_int_eq(set_file(ck, "good.der", NOW, err, sizeof err), TLS_OK);
    /* A refused response leaves the current staple in place. */
    ck_assert_int_eq(set_file(ck, "revoked.der", NOW, err, sizeof err), TLS_ERR_OCSP_RESPONSE);
    ck_assert(tls_certified_key_ocsp_validity(ck, &t, &n));
    ck_assert_int_gt(n, NOW);
    /* Replaced by a response current at its own time. */
    ck_assert_int_eq(set_file(ck, "expired.der", et + 1, err, sizeof err), TLS_OK);
    ck_assert(tls_certified_key_ocsp_validity(ck, &t, &n));
    ck_assert_int_eq(t, et);
    ck_assert_int_eq(n, en);
    ck_assert_int_eq(tls_certified_key_set_ocsp(ck, NULL, 0, NULL, 0, NOW, err, sizeof err),
                     TLS_OK);
    ck_assert(!tls_certified_key_ocsp_validity(ck, &t, &n));
    tls_certified_key_unref(ck);
}
END_TEST

/* ---- requests ----------------------------------------------------------------------------- */

START_TEST(test_ocsp_request_matches_openssl)
{
    tls_certified_key *ck = load_ck(OCSP_DIR "aia.fullchain", OCSP_DIR "aia.key");
    uint8_t out[512];
    char url[128];
    size_t len = 0, want_len;
    uint8_t *want = read_all(OCSP_DIR "aia-req.der", &want_len);

    ck_assert_int_eq(
        tls_certified_key_ocsp_request(ck, NULL, 0, out, sizeof out, &len, url, sizeof url),
        TLS_OK);
    ck_assert_uint_eq(len, want_len);
    ck_assert_mem_eq(out, want, len);
    ck_assert_str_eq(url, "http://127.0.0.1:8889/");
    /* Too small a buffer for either output. */
    ck_assert_int_eq(
        tls_certified_key_ocsp_request(ck, NULL, 0, out, len - 1, &len, url, sizeof url),
        TLS_ERR_BUFFER_FULL);
    ck_assert_int_eq(tls_certified_key_ocsp_request(ck, NULL, 0, out, sizeof out, &len, url, 10),
                     TLS_ERR_BUFFER_FULL);
    free(want);
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_ocsp_request_no_responder_or_issuer)
{
    tls_certified_key *ck = end_p256(); /* no AuthorityInfoAccess */
    tls_certified_key *lone = load_ck(OCSP_DIR "aia.cert", OCSP_DIR "aia.key");
    uint8_t out[512];
    char url[128];
    size_t len;

    ck_assert_int_eq(
        tls_certified_key_ocsp_request(ck, NULL, 0, out, sizeof out, &len, url, sizeof url),
        TLS_ERR_OCSP_RESPONSE);
    ck_assert_int_eq(
        tls_certified_key_ocsp_request(lone, NULL, 0, out, sizeof out, &len, url, sizeof url),
        TLS_ERR_OCSP_RESPONSE);
    /* With the issuer given, the same bytes as the full chain gives. */
    tls_certified_key *inter = load_ck(CERTS "ecdsa-p256/inter.cert", CERTS "ecdsa-p256/inter.key");
    size_t want_len;
    uint8_t *want = read_all(OCSP_DIR "aia-req.der", &want_len);
    ck_assert_int_eq(tls_certified_key_ocsp_request(lone, inter->chain[0], inter->chain_len[0], out,
                                                    sizeof out, &len, url, sizeof url),
                     TLS_OK);
    ck_assert_uint_eq(len, want_len);
    ck_assert_mem_eq(out, want, len);
    free(want);
    tls_certified_key_unref(inter);
    tls_certified_key_unref(lone);
    tls_certified_key_unref(ck);
}
END_TEST

/* ---- SCT lists ---------------------------------------------------------------------------- */

START_TEST(test_ocsp_scts_structure)
{
    static const uint8_t empty_list[] = {0, 0};
    static const uint8_t empty_sct[] = {0, 2, 0, 0};
    static const uint8_t short_outer[] = {0, 5, 0, 2, 0xaa, 0xbb};
    static const uint8_t long_outer[] = {0, 4, 0, 1, 0xaa, 0xbb};
    static const uint8_t trailing[] = {0, 3, 0, 1, 0xaa, 0xbb};
    static const uint8_t inner_over[] = {0, 3, 0, 2, 0xaa};
    static const uint8_t one_byte[] = {0};
    static const uint8_t ok[] = {0, 3, 0, 1, 0xaa};
    tls_certified_key *ck = end_p256();
    size_t len;
    uint8_t *list = read_all(OCSP_DIR "sct.list", &len);

    ck_assert_int_eq(tls_certified_key_set_scts(ck, list, len), TLS_OK);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, ok, sizeof ok), TLS_OK);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, empty_list, sizeof empty_list),
                     TLS_ERR_SCT_LIST);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, empty_sct, sizeof empty_sct), TLS_ERR_SCT_LIST);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, short_outer, sizeof short_outer),
                     TLS_ERR_SCT_LIST);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, long_outer, sizeof long_outer),
                     TLS_ERR_SCT_LIST);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, trailing, sizeof trailing), TLS_ERR_SCT_LIST);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, inner_over, sizeof inner_over),
                     TLS_ERR_SCT_LIST);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, one_byte, sizeof one_byte), TLS_ERR_SCT_LIST);
    for (size_t n = 1; n < len; n++)
        ck_assert_int_eq(tls_certified_key_set_scts(ck, list, n), TLS_ERR_SCT_LIST);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, NULL, 0), TLS_OK);
    free(list);
    tls_certified_key_unref(ck);
}
END_TEST

/* ---- serving ------------------------------------------------------------------------------ */

/* status_request (ocsp, no responder ids, no extensions) and signed_certificate_timestamp. */
static const uint8_t ask_both[] = {0, 5, 0, 5, 1, 0, 0, 0, 0, 0, 18, 0, 0};
static const uint8_t ask_ocsp[] = {0, 5, 0, 5, 1, 0, 0, 0, 0};

static tls_server_config *server_for(tls_certified_key *ck)
{
    tls_server_config_params p;

    memset(&p, 0, sizeof p);
    p.certs = &ck;
    p.n_certs = 1;
    return engine_server_config(&p);
}

/* The body of extension `type` in a raw extension list; NULL when absent. */
static const uint8_t *find_ext(const uint8_t *exts, size_t len, uint16_t type, size_t *body_len)
{
    size_t off = 0;

    while (off + 4 <= len) {
        uint16_t t = (uint16_t)(exts[off] << 8 | exts[off + 1]);
        size_t n = (size_t)(exts[off + 2] << 8 | exts[off + 3]);

        ck_assert_uint_le(off + 4 + n, len);
        if (t == type) {
            *body_len = n;
            return exts + off + 4;
        }
        off += 4 + n;
    }
    return NULL;
}

/* A CertificateStatus body (RFC 6066 §8) equal to ocsp(1), u24 length, der. */
static void assert_status_body(const uint8_t *body, size_t len, const uint8_t *der, size_t der_len)
{
    ck_assert_uint_eq(len, 4 + der_len);
    ck_assert_uint_eq(body[0], 1);
    ck_assert_uint_eq((size_t)(body[1] << 16 | body[2] << 8 | body[3]), der_len);
    ck_assert_mem_eq(body + 4, der, der_len);
}

static tc_client *run13(tls_certified_key *ck, const uint8_t *ask, size_t ask_len)
{
    tls_server_config *cfg = server_for(ck);
    tls_conn *s = NULL;
    tc_options o;
    tc_client *c;

    memset(&o, 0, sizeof o);
    o.extra_exts = ask;
    o.extra_exts_len = ask_len;
    c = tc_client_new(&o);
    ck_assert_int_eq(tls_server_conn_new(cfg, &s), TLS_OK);
    tc_start(c);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert_int_eq(c->state, TC_STATE_CONNECTED);
    tls_conn_free(s);
    tls_server_config_unref(cfg);
    return c;
}

START_TEST(test_ocsp_serve_tls13)
{
    tls_certified_key *ck = end_p256();
    size_t der_len, sct_len, n;
    uint8_t *der = read_all(OCSP_DIR "good.der", &der_len);
    uint8_t *scts = read_all(OCSP_DIR "sct.list", &sct_len);
    const uint8_t *body;
    char err[256] = "";
    tc_client *c;

    ck_assert_int_eq(tls_certified_key_set_ocsp(ck, der, der_len, NULL, 0, NOW, err, sizeof err),
                     TLS_OK);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, scts, sct_len), TLS_OK);
    c = run13(ck, ask_both, sizeof ask_both);
    body = find_ext(c->ee_exts, c->ee_exts_len, 5, &n);
    ck_assert_ptr_nonnull(body);
    assert_status_body(body, n, der, der_len);
    body = find_ext(c->ee_exts, c->ee_exts_len, 18, &n);
    ck_assert_ptr_nonnull(body);
    ck_assert_uint_eq(n, sct_len);
    ck_assert_mem_eq(body, scts, sct_len);
    tc_client_free(c);
    /* Only what was asked for. */
    c = run13(ck, ask_ocsp, sizeof ask_ocsp);
    ck_assert_ptr_nonnull(find_ext(c->ee_exts, c->ee_exts_len, 5, &n));
    ck_assert_ptr_null(find_ext(c->ee_exts, c->ee_exts_len, 18, &n));
    tc_client_free(c);
    c = run13(ck, NULL, 0);
    ck_assert_uint_eq(c->ee_exts_len, 0);
    tc_client_free(c);
    free(der);
    free(scts);
    tls_certified_key_unref(ck);
}
END_TEST

/* A staple current when set but expired at handshake time is never served. */
START_TEST(test_ocsp_serve_never_expired)
{
    tls_certified_key *ck = end_p256();
    int64_t et, en;
    size_t n;
    char err[256] = "";
    tc_client *c;
    t12_client *c12;
    t12_options o12;
    tls_server_config *cfg;
    tls_conn *s = NULL;

    file_times("expired.der", &et, &en);
    ck_assert_int_eq(set_file(ck, "expired.der", et, err, sizeof err), TLS_OK);
    ck_assert(tls_certified_key_ocsp_validity(ck, NULL, NULL));
    c = run13(ck, ask_both, sizeof ask_both);
    ck_assert_ptr_null(find_ext(c->ee_exts, c->ee_exts_len, 5, &n));
    tc_client_free(c);

    memset(&o12, 0, sizeof o12);
    o12.extra_exts = ask_ocsp;
    o12.extra_exts_len = sizeof ask_ocsp;
    cfg = server_for(ck);
    c12 = t12_client_new(&o12);
    ck_assert_int_eq(tls_server_conn_new(cfg, &s), TLS_OK);
    t12_start(c12);
    ck_assert_int_eq(t12_pump(c12, s, 0), TLS_OK);
    ck_assert_msg(!c12->failed, "%s", c12->error);
    ck_assert_ptr_null(c12->cert_status);
    for (size_t i = 0; i < c12->n_sh_exts; i++)
        ck_assert_uint_ne(c12->sh_ext_types[i], 5);
    t12_client_free(c12);
    tls_conn_free(s);
    tls_server_config_unref(cfg);
    tls_certified_key_unref(ck);
}
END_TEST

static t12_client *run12(tls_certified_key *ck, const uint8_t *ask, size_t ask_len)
{
    tls_server_config *cfg = server_for(ck);
    tls_conn *s = NULL;
    t12_options o;
    t12_client *c;

    memset(&o, 0, sizeof o);
    o.extra_exts = ask;
    o.extra_exts_len = ask_len;
    c = t12_client_new(&o);
    ck_assert_int_eq(tls_server_conn_new(cfg, &s), TLS_OK);
    t12_start(c);
    ck_assert_int_eq(t12_pump(c, s, 0), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert_int_eq(c->state, T12_STATE_CONNECTED);
    tls_conn_free(s);
    tls_server_config_unref(cfg);
    return c;
}

static bool sh_has(const t12_client *c, uint16_t type)
{
    for (size_t i = 0; i < c->n_sh_exts; i++)
        if (c->sh_ext_types[i] == type)
            return true;
    return false;
}

START_TEST(test_ocsp_serve_tls12)
{
    tls_certified_key *ck = end_p256();
    size_t der_len, sct_len;
    uint8_t *der = read_all(OCSP_DIR "good.der", &der_len);
    uint8_t *scts = read_all(OCSP_DIR "sct.list", &sct_len);
    char err[256] = "";
    t12_client *c;

    ck_assert_int_eq(tls_certified_key_set_ocsp(ck, der, der_len, NULL, 0, NOW, err, sizeof err),
                     TLS_OK);
    ck_assert_int_eq(tls_certified_key_set_scts(ck, scts, sct_len), TLS_OK);
    c = run12(ck, ask_both, sizeof ask_both);
    ck_assert(sh_has(c, 5));
    ck_assert(sh_has(c, 18));
    ck_assert_ptr_nonnull(c->cert_status);
    assert_status_body(c->cert_status, c->cert_status_len, der, der_len);
    t12_client_free(c);
    c = run12(ck, NULL, 0);
    ck_assert(!sh_has(c, 5));
    ck_assert(!sh_has(c, 18));
    ck_assert_ptr_null(c->cert_status);
    t12_client_free(c);
    free(der);
    free(scts);
    tls_certified_key_unref(ck);
}
END_TEST

/* The engine client offers signed_certificate_timestamp and keeps the list, both versions. */
START_TEST(test_ocsp_client_peer_scts)
{
    static const uint16_t v13[] = {TLS_VERSION_1_3}, v12[] = {TLS_VERSION_1_2};
    const uint16_t *versions[] = {v13, v12};
    tls_certified_key *ck = end_p256();
    size_t sct_len, got_len;
    uint8_t *scts = read_all(OCSP_DIR "sct.list", &sct_len);

    engine_load_fixture();
    for (int with = 0; with < 2; with++) {
        ck_assert_int_eq(tls_certified_key_set_scts(ck, with ? scts : NULL, with ? sct_len : 0),
                         TLS_OK);
        for (size_t v = 0; v < 2; v++) {
            tls_client_config_params cp;
            engine_pair p;

            memset(&cp, 0, sizeof cp);
            cp.roots = roots[KT_P256];
            cp.versions = versions[v];
            cp.n_versions = 1;
            engine_pair_init(&p, engine_client_config(&cp), server_for(ck), "localhost");
            engine_shuttle(&p);
            engine_assert_ok(&p);
            ck_assert(!tls_conn_is_handshaking(p.c));
            const uint8_t *got = tls_conn_peer_scts(p.c, &got_len);
            if (with) {
                ck_assert_ptr_nonnull(got);
                ck_assert_uint_eq(got_len, sct_len);
                ck_assert_mem_eq(got, scts, sct_len);
            } else {
                ck_assert_ptr_null(got);
                ck_assert_uint_eq(got_len, 0);
            }
            ck_assert_ptr_null(tls_conn_peer_scts(p.s, &got_len));
            engine_pair_free(&p);
        }
    }
    engine_free_fixture();
    free(scts);
    tls_certified_key_unref(ck);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("ocsp");
    TCase *t = tcase_create("verify");

    tcase_add_test(t, test_ocsp_set_good_variants);
    tcase_add_test(t, test_ocsp_set_revoked);
    tcase_add_test(t, test_ocsp_set_unknown);
    tcase_add_test(t, test_ocsp_set_expired);
    tcase_add_test(t, test_ocsp_set_not_yet_valid);
    tcase_add_test(t, test_ocsp_set_no_next_update);
    tcase_add_test(t, test_ocsp_set_wrong_cert);
    tcase_add_test(t, test_ocsp_set_responder_without_eku);
    tcase_add_test(t, test_ocsp_set_responder_not_issued_by_issuer);
    tcase_add_test(t, test_ocsp_set_unsuccessful_status);
    tcase_add_test(t, test_ocsp_set_adversarial);
    tcase_add_test(t, test_ocsp_set_issuer_argument);
    tcase_add_test(t, test_ocsp_set_replace_remove);
    suite_add_tcase(s, t);
    t = tcase_create("request");
    tcase_add_test(t, test_ocsp_request_matches_openssl);
    tcase_add_test(t, test_ocsp_request_no_responder_or_issuer);
    suite_add_tcase(s, t);
    t = tcase_create("scts");
    tcase_add_test(t, test_ocsp_scts_structure);
    suite_add_tcase(s, t);
    t = tcase_create("serve");
    tcase_set_timeout(t, 30);
    tcase_add_test(t, test_ocsp_serve_tls13);
    tcase_add_test(t, test_ocsp_serve_tls12);
    tcase_add_test(t, test_ocsp_serve_never_expired);
    tcase_add_test(t, test_ocsp_client_peer_scts);
    suite_add_tcase(s, t);
    return s;
}

TEST_MAIN(make_suite)
