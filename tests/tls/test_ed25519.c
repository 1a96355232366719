/*
 * test_ed25519.c — Ed25519 server authentication (issue 9): the provider's Ed25519
 * signing and verification (RFC 8032 §7.1 vectors), RFC 8410 PKCS#8 keys, certified keys
 * and chain verification with the ed25519 test CA, and engine-to-engine TLS 1.3 and
 * TLS 1.2 handshakes.
 *
 * Every test runs in both builds. With a back end that has Ed25519 (the default build)
 * they assert that it works; in the mbedTLS-only engine (make CRYPTO=mbedtls, or
 * MOAT_CRYPTO=mbedtls) they assert that Ed25519 is refused cleanly instead: keys are
 * TLS_ERR_KEY_UNSUPPORTED, Ed25519 certificate signatures an unsupported algorithm, and
 * the handshake tests check that and stop (mbedTLS 2.28 has no Ed25519).
 *
 * No unchecked fixture: the crypto routes are chosen once per process, and the
 * MOAT_CRYPTO test must be the first to choose them in its (forked) process.
 */
#include <check.h>
#include <mbedtls/base64.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tests/lib/enginepair.h"
#include "tests/lib/testclient.h"
#include "tests/lib/testclient12.h"
#include "tests/lib/unit.h"
#include "tests/lib/vectors.h"
#include "tls/crypto/crypto.h"
#include "tls/internal.h"
#include "tls/tls.h"

#define ED "tests/certs/ed25519/"

/* ---- helpers ----------------------------------------------------------------------- */

/* RFC 8410 §7: OneAsymmetricKey v1 with id-Ed25519 and a 32-byte CurvePrivateKey. */
static const uint8_t pkcs8_prefix[] = {0x30, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                       0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
/* RFC 8410 §4: SubjectPublicKeyInfo with id-Ed25519 and the 32-byte key. */
static const uint8_t spki_prefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                      0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};

static size_t make_pkcs8(const uint8_t seed[32], uint8_t out[48])
{
    memcpy(out, pkcs8_prefix, sizeof pkcs8_prefix);
    memcpy(out + sizeof pkcs8_prefix, seed, 32);
    return sizeof pkcs8_prefix + 32;
}

static size_t make_spki(const uint8_t pub[32], uint8_t out[44])
{
    memcpy(out, spki_prefix, sizeof spki_prefix);
    memcpy(out + sizeof spki_prefix, pub, 32);
    return sizeof spki_prefix + 32;
}

/* A NUL-terminated "PRIVATE KEY" PEM of der (as tls__signing_key_parse wants PEM). */
static size_t make_pem(const uint8_t *der, size_t der_len, char *out, size_t cap)
{
    char b64[256];
    size_t n = 0;
    ck_assert_int_eq(mbedtls_base64_encode((unsigned char *)b64, sizeof b64, &n, der, der_len), 0);
    int len =
        snprintf(out, cap, "-----BEGIN PRIVATE KEY-----\n%s\n-----END PRIVATE KEY-----\n", b64);
    ck_assert(len > 0 && (size_t)len < cap);
    return (size_t)len + 1; /* the NUL counts */
}

static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    uint8_t *buf = malloc(65536);
    ck_assert_ptr_nonnull(buf);
    *len = fread(buf, 1, 65535, f);
    fclose(f);
    buf[*len] = '\0';
    return buf;
}

/* The first certificate of a PEM file, as DER. */
static size_t pem_cert_der(const char *path, uint8_t *out, size_t cap)
{
    size_t len, b64_len, n = 0;
    uint8_t *pem = read_all(path, &len);
    char *begin = strstr((char *)pem, "-----BEGIN CERTIFICATE-----");
    ck_assert_ptr_nonnull(begin);
    begin += strlen("-----BEGIN CERTIFICATE-----");
    char *end = strstr(begin, "-----END CERTIFICATE-----");
    ck_assert_ptr_nonnull(end);
    b64_len = (size_t)(end - begin);
    char *b64 = malloc(b64_len + 1);
    size_t k = 0;
    for (size_t i = 0; i < b64_len; i++)
        if (begin[i] != '\n' && begin[i] != '\r')
            b64[k++] = begin[i];
    ck_assert_int_eq(mbedtls_base64_decode(out, cap, &n, (const unsigned char *)b64, k), 0);
    free(b64);
    free(pem);
    return n;
}

static bool have_ed25519(void)
{
    return tls__crypto_has_ed25519();
}

/* ---- RFC 8032 §7.1 through the provider ----------------------------------------------- */

static const struct {
    const char *seed, *pub, *msg, *sig;
} rfc8032[] = {
    {/* TEST 1 */
     "9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
     "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
     "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e065224901555fb8821590a33bacc61e3970"
     "1cf9b46bd25bf5f0595bbe24655141438e7a100b"},
    {/* TEST 2 */
     "4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
     "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
     "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da085ac1e43e15996e458f3613"
     "d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
    {/* TEST 3 */
     "c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
     "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
     "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac18ff9b538d16f290ae67f760"
     "984dc6594a7c15e9716ed28dc027beceea1ec40a"},
};

START_TEST(test_ed25519_sign_verify_rfc8032_vectors)
{
    uint8_t seed[32], pub[32], msg[8], want[64], der[48], spki[44], sig[TLS_MAX_SIGNATURE_LEN];
    size_t msg_len, sig_len = 0;
    unhex(rfc8032[_i].seed, seed, sizeof seed);
    unhex(rfc8032[_i].pub, pub, sizeof pub);
    msg_len = unhex(rfc8032[_i].msg, msg, sizeof msg);
    unhex(rfc8032[_i].sig, want, sizeof want);
    size_t der_len = make_pkcs8(seed, der), spki_len = make_spki(pub, spki);

    tls_signing_key *key = NULL;
    tls_error err = tls__signing_key_parse(der, der_len, &key);
    if (!have_ed25519()) {
        /* mbedTLS alone: no Ed25519 anywhere. */
        ck_assert_int_eq(err, TLS_ERR_KEY_UNSUPPORTED);
        ck_assert_ptr_null(key);
        ck_assert_int_eq(tls__verify_spki(spki, spki_len, TLS_X509_SIG_ED25519, TLS_HASH_SHA512,
                                          msg, msg_len, want, sizeof want),
                         TLS_ERR_KEY_UNSUPPORTED);
        return;
    }
    ck_assert_int_eq(err, TLS_OK);
    ck_assert_int_eq(tls__signing_key_type(key), TLS_KEY_ED25519);
    ck_assert_int_eq(tls__sign(key, TLS_SIG_ED25519, msg, msg_len, sig, sizeof sig, &sig_len),
                     TLS_OK);
    ck_assert_uint_eq(sig_len, 64);
    ck_assert_mem_eq(sig, want, 64);
    /* PureEdDSA only: any other scheme does not fit the key. */
    ck_assert_int_eq(
        tls__sign(key, TLS_SIG_ECDSA_SECP256R1_SHA256, msg, msg_len, sig, sizeof sig, &sig_len),
        TLS_ERR_CONFIG);
    tls__signing_key_free(key);

    ck_assert_int_eq(tls__verify_spki(spki, spki_len, TLS_X509_SIG_ED25519, TLS_HASH_SHA512, msg,
                                      msg_len, want, sizeof want),
                     TLS_OK);
    want[63] ^= 0x01;
    ck_assert_int_eq(tls__verify_spki(spki, spki_len, TLS_X509_SIG_ED25519, TLS_HASH_SHA512, msg,
                                      msg_len, want, sizeof want),
                     TLS_ERR_DECRYPT);
    want[63] ^= 0x01;
    ck_assert_int_eq(tls__verify_spki(spki, spki_len, TLS_X509_SIG_ED25519, TLS_HASH_SHA512, msg,
                                      msg_len, want, 63),
                     TLS_ERR_DECRYPT);
    /* The Ed25519 SPKI is no ECDSA key. */
    ck_assert_int_eq(tls__verify_spki(spki, spki_len, TLS_X509_SIG_ECDSA, TLS_HASH_SHA256, msg,
                                      msg_len, want, sizeof want),
                     TLS_ERR_KEY_UNSUPPORTED);
}
END_TEST

/* tls__verify over a real certificate: sign with end.key, verify with end.cert. */
START_TEST(test_ed25519_verify_cert_signature)
{
    uint8_t cert[2048], sig[TLS_MAX_SIGNATURE_LEN];
    static const uint8_t msg[] = "TLS 1.3, server CertificateVerify";
    size_t cert_len = pem_cert_der(ED "end.cert", cert, sizeof cert), key_len, sig_len = 0;
    uint8_t *pem = read_all(ED "end.key", &key_len);
    tls_signing_key *key = NULL;
    tls_error err = tls__signing_key_parse(pem, key_len + 1, &key);
    free(pem);
    if (!have_ed25519()) {
        ck_assert_int_eq(err, TLS_ERR_KEY_UNSUPPORTED);
        ck_assert_int_eq(tls__verify(cert, cert_len, TLS_SIG_ED25519, msg, sizeof msg, sig, 64),
                         TLS_ERR_INVALID_ARGUMENT);
        return;
    }
    ck_assert_int_eq(err, TLS_OK);
    ck_assert(tls__signing_key_matches_cert(key, cert, cert_len));
    ck_assert_int_eq(tls__sign(key, TLS_SIG_ED25519, msg, sizeof msg, sig, sizeof sig, &sig_len),
                     TLS_OK);
    tls__signing_key_free(key);
    ck_assert_int_eq(tls__verify(cert, cert_len, TLS_SIG_ED25519, msg, sizeof msg, sig, sig_len),
                     TLS_OK);
    /* Another scheme cannot have made a signature with an Ed25519 key. */
    ck_assert_int_eq(
        tls__verify(cert, cert_len, TLS_SIG_ECDSA_SECP256R1_SHA256, msg, sizeof msg, sig, sig_len),
        TLS_ERR_DECRYPT);
    sig[0] ^= 0x80;
    ck_assert_int_eq(tls__verify(cert, cert_len, TLS_SIG_ED25519, msg, sizeof msg, sig, sig_len),
                     TLS_ERR_DECRYPT);
    /* An ECDSA certificate does not verify an Ed25519 signature. */
    cert_len = pem_cert_der("tests/certs/ecdsa-p256/end.cert", cert, sizeof cert);
    sig[0] ^= 0x80;
    ck_assert_int_eq(tls__verify(cert, cert_len, TLS_SIG_ED25519, msg, sizeof msg, sig, sig_len),
                     TLS_ERR_DECRYPT);
}
END_TEST

/* ---- PKCS#8 (RFC 8410 §7) ------------------------------------------------------------------ */

static tls_error parse(const uint8_t *key, size_t len)
{
    tls_signing_key *k = NULL;
    tls_error err = tls__signing_key_parse(key, len, &k);
    ck_assert(err == TLS_OK ? k != NULL : k == NULL);
    if (k)
        ck_assert_int_eq(tls__signing_key_type(k), TLS_KEY_ED25519);
    tls__signing_key_free(k);
    return err;
}

START_TEST(test_ed25519_pkcs8_files_pem_and_der)
{
    tls_error want = have_ed25519() ? TLS_OK : TLS_ERR_KEY_UNSUPPORTED;
    size_t len;
    uint8_t *pem = read_all(ED "end.key", &len);
    ck_assert_int_eq(parse(pem, len + 1), want); /* PEM: the NUL counts */
    free(pem);
    uint8_t *der = read_all(ED "end.der.key", &len);
    ck_assert_uint_eq(len, 48);
    ck_assert_int_eq(parse(der, len), want);
    ck_assert_int_eq(parse(der, len + 1), want); /* DER followed by the NUL a loader adds */
    der[len] = 0x01;
    ck_assert_int_eq(parse(der, len + 1), TLS_ERR_KEY_PARSE); /* trailing garbage */
    free(der);
}
END_TEST

START_TEST(test_ed25519_pkcs8_truncated)
{
    uint8_t seed[32], der[48];
    memset(seed, 0x5a, sizeof seed);
    size_t len = make_pkcs8(seed, der);
    for (size_t n = 0; n < len; n++)
        ck_assert_msg(parse(der, n) == TLS_ERR_KEY_PARSE, "truncated to %zu bytes: %s", n,
                      tls_error_name(parse(der, n)));
    /* Truncated inside the base64 of a PEM. */
    char pem[512];
    size_t pem_len = make_pem(der, len, pem, sizeof pem);
    char *footer = strstr(pem, "-----END");
    memmove(footer - 9, footer, strlen(footer) + 1);
    ck_assert_int_eq(parse((const uint8_t *)pem, strlen(pem) + 1), TLS_ERR_KEY_PARSE);
    (void)pem_len;
}
END_TEST

START_TEST(test_ed25519_pkcs8_wrong_oid_and_bad_shapes)
{
    uint8_t seed[32], der[64];
    char pem[512];
    memset(seed, 0x11, sizeof seed);
    size_t len = make_pkcs8(seed, der);

    /* id-Ed448 (1.3.101.113) and id-X25519 (1.3.101.110): keys, but not ours to sign. */
    for (uint8_t last = 0x6e; last <= 0x71; last += 3) {
        der[11] = last;
        size_t pem_len = make_pem(der, len, pem, sizeof pem);
        ck_assert_int_eq(parse((const uint8_t *)pem, pem_len), TLS_ERR_KEY_UNSUPPORTED);
        ck_assert_int_ne(parse(der, len), TLS_OK);
    }
    der[11] = 0x70;
    ck_assert_int_eq(parse(der, len), have_ed25519() ? TLS_OK : TLS_ERR_KEY_UNSUPPORTED);

    /* RFC 8410 §3: parameters MUST be absent (here a NULL). */
    static const uint8_t with_null[] = {0x30, 0x30, 0x02, 0x01, 0x00, 0x30, 0x07, 0x06, 0x03,
                                        0x2b, 0x65, 0x70, 0x05, 0x00, 0x04, 0x22, 0x04, 0x20};
    uint8_t buf[64];
    memcpy(buf, with_null, sizeof with_null);
    memcpy(buf + sizeof with_null, seed, 32);
    ck_assert_int_eq(parse(buf, sizeof with_null + 32), TLS_ERR_KEY_PARSE);

    /* A 31-byte CurvePrivateKey. */
    static const uint8_t short_key[] = {0x30, 0x2d, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                        0x03, 0x2b, 0x65, 0x70, 0x04, 0x21, 0x04, 0x1f};
    memcpy(buf, short_key, sizeof short_key);
    memcpy(buf + sizeof short_key, seed, 31);
    ck_assert_int_eq(parse(buf, sizeof short_key + 31), TLS_ERR_KEY_PARSE);

    /* Version 2 (not 0 or 1). */
    memcpy(buf, der, len);
    buf[4] = 2;
    ck_assert_int_eq(parse(buf, len), TLS_ERR_KEY_PARSE);
    /* A long-form length where the short form fits (not DER). */
    static const uint8_t long_form[] = {0x30, 0x81, 0x2e, 0x02, 0x01, 0x00, 0x30, 0x05, 0x06,
                                        0x03, 0x2b, 0x65, 0x70, 0x04, 0x22, 0x04, 0x20};
    memcpy(buf, long_form, sizeof long_form);
    memcpy(buf + sizeof long_form, seed, 32);
    ck_assert_int_eq(parse(buf, sizeof long_form + 32), TLS_ERR_KEY_PARSE);
}
END_TEST

/* ---- certified keys ------------------------------------------------------------------------ */

static tls_error load_ck(const char *chain, const char *key, tls_certified_key **ck, char *err,
                         size_t errlen)
{
    *ck = NULL;
    err[0] = '\0';
    return tls_certified_key_load(chain, key, ck, err, errlen);
}

START_TEST(test_ed25519_certkey_load)
{
    char err[256];
    tls_certified_key *ck;
    tls_error e = load_ck(ED "end.fullchain", ED "end.key", &ck, err, sizeof err);
    if (!have_ed25519()) {
        ck_assert_int_eq(e, TLS_ERR_KEY_UNSUPPORTED);
        ck_assert_ptr_null(ck);
        ck_assert_msg(strstr(err, "Ed25519") != NULL, "%s", err);
        ck_assert_ptr_nonnull(strstr(err, ED "end.key"));
        return;
    }
    ck_assert_msg(e == TLS_OK, "%s: %s", tls_error_name(e), err);
    ck_assert_int_eq(ck->key_type, TLS_KEY_ED25519);
    ck_assert_uint_eq(ck->n_chain, 3);
    /* The chain keeps the original DER, not what mbedTLS was shown. */
    uint8_t der[2048];
    size_t der_len = pem_cert_der(ED "end.cert", der, sizeof der);
    ck_assert_uint_eq(ck->chain_len[0], der_len);
    ck_assert_mem_eq(ck->chain[0], der, der_len);
    der_len = pem_cert_der(ED "ca.cert", der, sizeof der);
    ck_assert_uint_eq(ck->chain_len[2], der_len);
    ck_assert_mem_eq(ck->chain[2], der, der_len);
    ck_assert(tls_certified_key_covers(ck, "testserver.com"));
    ck_assert(tls_certified_key_covers(ck, "a.wild.test"));
    ck_assert(!tls_certified_key_covers(ck, "other.test"));
    tls_certified_key_unref(ck);

    /* The DER key works as well. */
    e = load_ck(ED "end.fullchain", ED "end.der.key", &ck, err, sizeof err);
    ck_assert_msg(e == TLS_OK, "%s: %s", tls_error_name(e), err);
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_ed25519_certkey_mismatch)
{
    char err[256];
    tls_certified_key *ck;
    /* An ECDSA key with the Ed25519 certificate: both builds read both. */
    ck_assert_int_eq(
        load_ck(ED "end.fullchain", "tests/certs/ecdsa-p256/end.key", &ck, err, sizeof err),
        TLS_ERR_KEY_MISMATCH);
    ck_assert_ptr_null(ck);
    if (!have_ed25519())
        return;
    /* Another Ed25519 key. */
    ck_assert_int_eq(load_ck(ED "end.fullchain", ED "other.key", &ck, err, sizeof err),
                     TLS_ERR_KEY_MISMATCH);
    ck_assert_ptr_nonnull(strstr(err, "does not match"));
    /* The Ed25519 key with an ECDSA certificate. */
    ck_assert_int_eq(
        load_ck("tests/certs/ecdsa-p256/end.fullchain", ED "end.key", &ck, err, sizeof err),
        TLS_ERR_KEY_MISMATCH);
    /* The other end entity loads with its own key. */
    ck_assert_int_eq(load_ck(ED "other.fullchain", ED "other.key", &ck, err, sizeof err), TLS_OK);
    tls_certified_key_unref(ck);
}
END_TEST

/* ---- chain verification ---------------------------------------------------------------------- */

START_TEST(test_ed25519_verify_chain)
{
    char err[256] = "";
    tls_root_store *roots_ed = NULL;
    uint8_t certs[3][2048];
    const uint8_t *chain[3] = {certs[0], certs[1], certs[2]};
    size_t lens[3];
    const int64_t now = 1767225600; /* 2026-01-01 */

    ck_assert_int_eq(tls_root_store_load(ED "ca.cert", &roots_ed, err, sizeof err), TLS_OK);
    lens[0] = pem_cert_der(ED "end.cert", certs[0], sizeof certs[0]);
    lens[1] = pem_cert_der(ED "inter.cert", certs[1], sizeof certs[1]);
    tls_error want = have_ed25519() ? TLS_OK : TLS_ERR_CERT_UNSUPPORTED_SIGNATURE_ALGORITHM;
    ck_assert_int_eq(tls_verify_server_cert(roots_ed, chain, lens, 2, "testserver.com", now), want);
    ck_assert_int_eq(tls_verify_server_cert(roots_ed, chain, lens, 2, "127.0.0.1", now), want);
    if (have_ed25519()) {
        ck_assert_int_eq(tls_verify_server_cert(roots_ed, chain, lens, 2, "other.test", now),
                         TLS_ERR_CERT_NOT_VALID_FOR_NAME);
        ck_assert_int_eq(tls_verify_server_cert(roots_ed, chain, lens, 2, "testserver.com",
                                                2398377600 /* 2046 */),
                         TLS_ERR_CERT_EXPIRED);
        /* The intermediate is missing. */
        ck_assert_int_eq(tls_verify_server_cert(roots_ed, chain, lens, 1, "testserver.com", now),
                         TLS_ERR_CERT_UNKNOWN_ISSUER);
        /* A flipped bit in the end entity's signature. */
        certs[0][lens[0] - 1] ^= 0x01;
        ck_assert_int_eq(tls_verify_server_cert(roots_ed, chain, lens, 2, "testserver.com", now),
                         TLS_ERR_CERT_BAD_SIGNATURE);
        certs[0][lens[0] - 1] ^= 0x01;
    }
    /* Another CA does not vouch for it, and the Ed25519 CA not for an ECDSA chain. */
    tls_root_store *roots_p256 = NULL;
    ck_assert_int_eq(
        tls_root_store_load("tests/certs/ecdsa-p256/ca.cert", &roots_p256, err, sizeof err),
        TLS_OK);
    /* (Without Ed25519 the search stops earlier, at the end entity's signature.) */
    ck_assert_int_eq(tls_verify_server_cert(roots_p256, chain, lens, 2, "testserver.com", now),
                     have_ed25519() ? TLS_ERR_CERT_UNKNOWN_ISSUER : want);
    lens[0] = pem_cert_der("tests/certs/ecdsa-p256/end.cert", certs[0], sizeof certs[0]);
    lens[1] = pem_cert_der("tests/certs/ecdsa-p256/inter.cert", certs[1], sizeof certs[1]);
    ck_assert_int_eq(tls_verify_server_cert(roots_ed, chain, lens, 2, "testserver.com", now),
                     TLS_ERR_CERT_UNKNOWN_ISSUER);
    ck_assert_int_eq(tls_verify_server_cert(roots_p256, chain, lens, 2, "testserver.com", now),
                     TLS_OK);
    tls_root_store_unref(roots_p256);
    tls_root_store_unref(roots_ed);
}
END_TEST

/* A certificate whose SPKI says Ed25519 with parameters present is refused as badly
 * encoded, not parsed around. */
START_TEST(test_ed25519_verify_spki_with_parameters_refused)
{
    uint8_t cert[2048], bad[2100];
    size_t len = pem_cert_der(ED "end.cert", cert, sizeof cert);
    static const uint8_t alg[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    /* Find the SPKI's AlgorithmIdentifier (the first one followed by the BIT STRING). */
    size_t at = 0;
    for (size_t i = 0; i + sizeof alg <= len; i++)
        if (memcmp(cert + i, alg, sizeof alg) == 0)
            at = i;
    ck_assert_uint_gt(at, 0);
    tls_x509_parts parts;
    ck_assert_int_eq(tls__x509_parts(cert, len, &parts), TLS_OK);
    ck_assert(parts.ed25519_key && parts.ed25519_sig);
    ck_assert_uint_eq(parts.spki_len, 44);
    ck_assert_uint_eq(parts.sig_len, 64);
    /* Truncation anywhere: never a walk that succeeds. */
    for (size_t n = 0; n < len; n += 7)
        ck_assert_int_eq(tls__x509_parts(cert, n, &parts), TLS_ERR_CERT_PARSE);
    /* The SPKI's OID with the key's BIT STRING turned into an OCTET STRING. */
    memcpy(bad, cert, len);
    bad[at + 7] = 0x04;
    ck_assert_int_eq(tls__x509_parts(bad, len, &parts), TLS_ERR_CERT_PARSE);
    const uint8_t *chain[1] = {bad};
    tls_root_store *r = NULL;
    char err[256];
    ck_assert_int_eq(tls_root_store_load(ED "ca.cert", &r, err, sizeof err), TLS_OK);
    ck_assert_int_ne(tls_verify_server_cert(r, chain, &len, 1, "testserver.com", 1767225600),
                     TLS_OK);
    tls_root_store_unref(r);
}
END_TEST

/* ---- handshakes ------------------------------------------------------------------------------ */

static tls_certified_key *load_end(void)
{
    char err[256];
    tls_certified_key *ck;
    tls_error e = load_ck(ED "end.fullchain", ED "end.key", &ck, err, sizeof err);
    ck_assert_msg(e == TLS_OK, "%s: %s", tls_error_name(e), err);
    return ck;
}

/* In the mbedTLS-only engine: the reason the handshake tests cannot run, asserted. */
static bool skip_without_ed25519(void)
{
    if (have_ed25519())
        return false;
    char err[256];
    tls_certified_key *ck;
    ck_assert_msg(load_ck(ED "end.fullchain", ED "end.key", &ck, err, sizeof err) ==
                      TLS_ERR_KEY_UNSUPPORTED,
                  "skipped: mbedTLS alone has no Ed25519, so no Ed25519 server can exist");
    return true;
}

static void engine_handshake(uint16_t version)
{
    if (skip_without_ed25519())
        return;
    tls_certified_key *ck = load_end();
    tls_root_store *r = NULL;
    char err[256];
    ck_assert_int_eq(tls_root_store_load(ED "ca.cert", &r, err, sizeof err), TLS_OK);
    uint16_t versions[1] = {version};
    tls_server_config_params sp = {0};
    sp.certs = &ck;
    sp.n_certs = 1;
    sp.versions = versions;
    sp.n_versions = 1;
    tls_client_config_params cp = {0};
    cp.roots = r;
    cp.versions = versions;
    cp.n_versions = 1;
    engine_pair p;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), "testserver.com");
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(!tls_conn_is_handshaking(p.c));
    ck_assert(!tls_conn_is_handshaking(p.s));
    ck_assert_uint_eq(tls_conn_version(p.c), version);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.c), TLS_SIG_ED25519);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.s), TLS_SIG_ED25519);
    engine_transfer(&p, p.c, p.s, 3000, 1);
    engine_transfer(&p, p.s, p.c, 3000, 2);
    engine_pair_free(&p);
    tls_root_store_unref(r);
    tls_certified_key_unref(ck);
}

START_TEST(test_ed25519_handshake_tls13)
{
    engine_handshake(TLS_VERSION_1_3);
}
END_TEST

START_TEST(test_ed25519_handshake_tls12)
{
    engine_handshake(TLS_VERSION_1_2);
}
END_TEST

static tls_server_config *ed25519_server(tls_certified_key *ck)
{
    tls_server_config_params sp = {0};
    sp.certs = &ck;
    sp.n_certs = 1;
    return engine_server_config(&sp);
}

/* RFC 8446 §4.4.2.2 / RFC 8422 §5.1.3: no ed25519 in signature_algorithms, no
 * handshake with an Ed25519-only server: a clean handshake_failure. */
START_TEST(test_ed25519_client_without_ed25519_tls13)
{
    if (skip_without_ed25519())
        return;
    tls_certified_key *ck = load_end();
    tls_server_config *cfg = ed25519_server(ck);
    tls_conn *s = NULL;
    ck_assert_int_eq(tls_server_conn_new(cfg, &s), TLS_OK);
    tc_client *c = tc_client_new(NULL); /* ECDSA, RSA-PSS, PKCS#1: no ed25519 */
    tc_start(c);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_ERR_NO_SIG_SCHEMES_IN_COMMON);
    ck_assert_int_eq(tc_last_alert(c), TLS_ALERT_HANDSHAKE_FAILURE);
    tc_client_free(c);
    tls_conn_free(s);

    /* The same server takes a client that offers it. */
    static const uint16_t ed[] = {TLS_SIG_ED25519};
    tc_options o = {0};
    o.sig_algs = ed;
    o.n_sig_algs = 1;
    ck_assert_int_eq(tls_server_conn_new(cfg, &s), TLS_OK);
    c = tc_client_new(&o);
    tc_start(c);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert_int_eq(c->state, TC_STATE_CONNECTED);
    ck_assert_uint_eq(c->sig_scheme, TLS_SIG_ED25519);
    tc_client_free(c);
    tls_conn_free(s);
    tls_server_config_unref(cfg);
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_ed25519_client_without_ed25519_tls12)
{
    if (skip_without_ed25519())
        return;
    tls_certified_key *ck = load_end();
    tls_server_config *cfg = ed25519_server(ck);
    tls_conn *s = NULL;
    ck_assert_int_eq(tls_server_conn_new(cfg, &s), TLS_OK);
    t12_client *c = t12_client_new(NULL);
    t12_start(c);
    ck_assert_int_eq(t12_pump(c, s, 0), TLS_ERR_NO_SIG_SCHEMES_IN_COMMON);
    ck_assert_int_eq(t12_last_alert(c), TLS_ALERT_HANDSHAKE_FAILURE);
    t12_client_free(c);
    tls_conn_free(s);
    tls_server_config_unref(cfg);
    tls_certified_key_unref(ck);
}
END_TEST

/* Whether the ClientHello record's signature_algorithms (RFC 8446 §4.2.3) lists ed25519. */
static bool offers_ed25519(const uint8_t *rec, size_t len)
{
    tls_reader r, skip, exts, body, list;
    uint16_t type, scheme;
    tls_reader_init(&r, rec, len);
    ck_assert(tls_read_skip(&r, 5 + 4 + 2 + 32) && tls_read_vec8(&r, 0, 32, &skip) &&
              tls_read_vec16(&r, 2, 0xfffe, &skip) && tls_read_vec8(&r, 1, 255, &skip) &&
              tls_read_vec16(&r, 0, 0xffff, &exts));
    while (tls_reader_left(&exts) > 0) {
        ck_assert(tls_read_u16(&exts, &type) && tls_read_vec16(&exts, 0, 0xffff, &body));
        if (type != 13)
            continue;
        ck_assert(tls_read_vec16(&body, 2, 0xfffe, &list));
        while (tls_read_u16(&list, &scheme))
            if (scheme == TLS_SIG_ED25519)
                return true;
        return false;
    }
    ck_abort_msg("no signature_algorithms");
    return false;
}

/* The engine client offers ed25519 only when it can verify it. */
START_TEST(test_ed25519_client_offers_only_with_back_end)
{
    tls_root_store *r = NULL;
    char err[256];
    ck_assert_int_eq(tls_root_store_load(ED "ca.cert", &r, err, sizeof err), TLS_OK);
    tls_client_config_params cp = {0};
    cp.roots = r;
    tls_client_config *cfg = engine_client_config(&cp);
    tls_conn *c = NULL;
    ck_assert_int_eq(tls_client_conn_new(cfg, "testserver.com", &c), TLS_OK);
    size_t len = 0;
    const uint8_t *hello = tls_conn_peek_tls(c, &len);
    ck_assert(offers_ed25519(hello, len) == have_ed25519());
    ck_assert(tls__client_offered_sig_scheme(TLS_SIG_ED25519) == have_ed25519());
    tls_conn_free(c);
    tls_client_config_unref(cfg);
    tls_root_store_unref(r);
}
END_TEST

/* MOAT_CRYPTO=mbedtls at run time: the default build behaves as the mbedTLS-only one. */
START_TEST(test_ed25519_moat_crypto_mbedtls_env)
{
    const char *fork = getenv("CK_FORK");
    if (fork && strcmp(fork, "no") == 0)
        return; /* the routes may already be chosen in this process */
    setenv("MOAT_CRYPTO", "mbedtls", 1);
    ck_assert(!tls__crypto_has_ed25519());
    char err[256];
    tls_certified_key *ck;
    ck_assert_int_eq(load_ck(ED "end.fullchain", ED "end.key", &ck, err, sizeof err),
                     TLS_ERR_KEY_UNSUPPORTED);
    ck_assert(!tls__client_offered_sig_scheme(TLS_SIG_ED25519));
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("ed25519");
    TCase *crypto = tcase_create("crypto");
    tcase_add_loop_test(crypto, test_ed25519_sign_verify_rfc8032_vectors, 0, 3);
    tcase_add_test(crypto, test_ed25519_verify_cert_signature);
    tcase_add_test(crypto, test_ed25519_moat_crypto_mbedtls_env);
    suite_add_tcase(s, crypto);

    TCase *pkcs8 = tcase_create("pkcs8");
    tcase_add_test(pkcs8, test_ed25519_pkcs8_files_pem_and_der);
    tcase_add_test(pkcs8, test_ed25519_pkcs8_truncated);
    tcase_add_test(pkcs8, test_ed25519_pkcs8_wrong_oid_and_bad_shapes);
    suite_add_tcase(s, pkcs8);

    TCase *certs = tcase_create("certificates");
    tcase_add_test(certs, test_ed25519_certkey_load);
    tcase_add_test(certs, test_ed25519_certkey_mismatch);
    tcase_add_test(certs, test_ed25519_verify_chain);
    tcase_add_test(certs, test_ed25519_verify_spki_with_parameters_refused);
    suite_add_tcase(s, certs);

    TCase *hs = tcase_create("handshake");
    tcase_add_test(hs, test_ed25519_handshake_tls13);
    tcase_add_test(hs, test_ed25519_handshake_tls12);
    tcase_add_test(hs, test_ed25519_client_without_ed25519_tls13);
    tcase_add_test(hs, test_ed25519_client_without_ed25519_tls12);
    tcase_add_test(hs, test_ed25519_client_offers_only_with_back_end);
    suite_add_tcase(s, hs);
    return s;
}

TEST_MAIN(make_suite)
