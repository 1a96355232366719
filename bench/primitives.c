/*
 * primitives.c — the raw speed of each primitive a handshake or a record needs, for each
 * of the engine's crypto back ends (tls/crypto/: mbedTLS, and in the default build
 * nettle, libgcrypt, libsodium), each called directly through its own
 * tls_crypto_provider table, and for OpenSSL's libcrypto (EVP, called the way libssl
 * calls it), side by side. A back end whose table leaves a primitive's slot NULL (or
 * that refuses the algorithm) gets no cell. Each primitive also records which back end
 * the running provider routes it to (tls__crypto()), so the table can show what the
 * engine gets and its speed-up over mbedTLS.
 *
 * Each operation is what one side of a handshake does with it:
 * - key exchange: a fresh key pair, its encoded public share, and the shared secret
 *   with a peer's share (decoded and checked each time, as a handshake must);
 * - sign / verify: the hash and the signature over a 130-byte message, the size of a
 *   TLS 1.3 CertificateVerify input; OpenSSL sets up an EVP_MD_CTX per signature as
 *   libssl does; verification uses the public key only (our verify_spki, OpenSSL's
 *   certificate key). Back ends other than mbedTLS sign with the same key, exported
 *   from mbedTLS and imported as the provider does;
 * - AEAD: one 16 KiB record with a 5-byte AAD, separate input and output buffers, key
 *   schedule kept (ours: tls_aead; OpenSSL: one EVP_CIPHER_CTX, new IV per record);
 *   the record each back end opens is sealed by mbedTLS (a cross-check);
 * - SHA-256 of 16 KiB; HMAC-SHA256 of 32 bytes (a Finished MAC; OpenSSL: an EVP_MAC_CTX
 *   per MAC); HKDF-Expand of a 54-byte HkdfLabel to 32 bytes (a traffic secret;
 *   OpenSSL: its TLS13-KDF fetched and used as libssl 3.0 does for each label).
 * Signatures to verify are made once by OpenSSL (the bytes do not depend on who made
 * them). Rates are per CPU second of this thread, the best of three runs.
 */
#include "engine.h"

#include <mbedtls/x509_crt.h>
#include <openssl/core_names.h>
#include <openssl/evp.h>
#include <openssl/kdf.h>
#include <openssl/pem.h>
#include <openssl/rsa.h>
#include <openssl/x509.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/crypto/crypto.h"

#define REC 16384
#define MSG_LEN 130

static uint8_t msg[MSG_LEN];
static uint8_t rec_in[REC], rec_out[REC + 16], rec_ct[REC + 16];
static const uint8_t nonce[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
static const uint8_t aad[5] = {0x17, 0x03, 0x03, 0x40, 0x11};
static const uint8_t key32[32] = {0x42};

/* ---- timing harness ------------------------------------------------------------------- */

typedef bool (*op_fn)(void *arg);

/* Operations per CPU second: best of three runs of min_s / 3, clock read per batch. */
static double rate(op_fn fn, void *arg, double min_s)
{
    if (!fn(arg))
        return 0;
    double t0 = bench_cpu();
    if (!fn(arg))
        return 0;
    double one = bench_cpu() - t0;
    unsigned long batch = one > 0 ? (unsigned long)(0.002 / one) : 1000;
    if (batch < 1)
        batch = 1;
    double best = 0;
    for (int run = 0; run < 3; run++) {
        unsigned long n = 0;
        double el;
        t0 = bench_cpu();
        do {
            for (unsigned long i = 0; i < batch; i++)
                if (!fn(arg))
                    return 0;
            n += batch;
        } while ((el = bench_cpu() - t0) < min_s / 3);
        if (n / el > best)
            best = n / el;
    }
    return best;
}

/* ---- our back ends, each called through its own table ---------------------------------- */

const char *const bench_be_name[BE_COUNT] = {"mbedtls", "nettle", "gcrypt", "sodium"};

/* The back ends this build has (NULL: not built, CRYPTO=mbedtls). */
static const tls_crypto_provider *const backends[BE_COUNT] = {
    &tls__crypto_mbedtls,
#ifdef MOAT_CRYPTO_FAST
    &tls__crypto_nettle,
    &tls__crypto_gcrypt,
    &tls__crypto_sodium,
#endif
};

/* BE_* of a routed back end, or -1. */
static int be_index(const tls_crypto_provider *p)
{
    for (int i = 0; i < BE_COUNT; i++)
        if (p && backends[i] == p)
            return i;
    return -1;
}

typedef struct {
    const tls_crypto_provider *be;
    uint16_t group;
    uint8_t peer[TLS_MAX_KX_PUBLIC_LEN];
    size_t peer_len;
} moat_kx_arg;

static bool moat_kx(void *v)
{
    moat_kx_arg *a = v;
    const tls_crypto_provider *be = a->be;
    tls_kx *kx = NULL;
    uint8_t pub[TLS_MAX_KX_PUBLIC_LEN], secret[TLS_MAX_KX_SECRET_LEN];
    size_t pub_len, secret_len;
    if (be->kx_new(a->group, &kx) != TLS_OK)
        return false;
    kx->impl = be;
    bool ok = be->kx_public(kx, pub, sizeof pub, &pub_len) == TLS_OK &&
              be->kx_agree(kx, a->peer, a->peer_len, secret, sizeof secret, &secret_len) == TLS_OK;
    be->kx_free(kx);
    return ok;
}

/* True when the back end does key exchange on `group` (kx_new set and not refusing it). */
static bool kx_supported(const tls_crypto_provider *be, uint16_t group)
{
    tls_kx *kx = NULL;
    if (!be->kx_new || be->kx_new(group, &kx) != TLS_OK)
        return false;
    kx->impl = be;
    be->kx_free(kx);
    return true;
}

typedef struct {
    const tls_crypto_provider *be;
    tls_backend_key *key;
    uint16_t scheme;
} moat_sign_arg;

static bool moat_sign(void *v)
{
    moat_sign_arg *a = v;
    uint8_t sig[TLS_MAX_SIGNATURE_LEN];
    size_t len;
    return a->be->sign(a->key, a->scheme, msg, sizeof msg, sig, sizeof sig, &len) == TLS_OK;
}

typedef struct {
    const tls_crypto_provider *be;
    const uint8_t *spki;
    size_t spki_len;
    tls_x509_sig_kind kind;
    const uint8_t *sig;
    size_t sig_len;
} moat_verify_arg;

static bool moat_verify(void *v)
{
    moat_verify_arg *a = v;
    return a->be->verify_spki(a->spki, a->spki_len, a->kind, TLS_HASH_SHA256, msg, sizeof msg,
                              a->sig, a->sig_len) == TLS_OK;
}

typedef struct {
    const tls_crypto_provider *be;
    tls_aead *aead;
} moat_aead_arg;

static bool moat_seal(void *v)
{
    moat_aead_arg *a = v;
    return a->be->aead_seal(a->aead, nonce, aad, sizeof aad, rec_in, REC, rec_out) == TLS_OK;
}

static bool moat_open(void *v)
{
    moat_aead_arg *a = v;
    return a->be->aead_open(a->aead, nonce, aad, sizeof aad, rec_ct, REC + 16, rec_out) == TLS_OK;
}

static bool moat_sha256(void *v)
{
    const tls_crypto_provider *be = v;
    tls_hash_ctx ctx;
    uint8_t out[TLS_MAX_HASH_LEN];
    be->hash_init(&ctx, TLS_HASH_SHA256);
    ctx.impl = be;
    be->hash_update(&ctx, rec_in, REC);
    be->hash_final(&ctx, out);
    return true;
}

static bool moat_hmac(void *v)
{
    const tls_crypto_provider *be = v;
    const uint8_t *parts[1] = {msg};
    size_t lens[1] = {32};
    uint8_t out[TLS_MAX_HASH_LEN];
    return be->hmac(TLS_HASH_SHA256, key32, sizeof key32, parts, lens, 1, out) == TLS_OK;
}

/* RFC 8446 §7.1 HkdfLabel for "c hs traffic" with a SHA-256 transcript hash: 54 bytes. */
static uint8_t hkdf_info[2 + 1 + 18 + 1 + 32];
static void make_hkdf_info(void)
{
    static const char label[] = "tls13 c hs traffic";
    uint8_t *p = hkdf_info;
    *p++ = 0;
    *p++ = 32;
    *p++ = (uint8_t)(sizeof label - 1);
    memcpy(p, label, sizeof label - 1);
    p += sizeof label - 1;
    *p++ = 32;
    memset(p, 0x5a, 32);
}

static bool moat_hkdf(void *v)
{
    const tls_crypto_provider *be = v;
    uint8_t out[32];
    return be->hkdf_expand(TLS_HASH_SHA256, key32, sizeof key32, hkdf_info, sizeof hkdf_info, out,
                           sizeof out) == TLS_OK;
}

/* ---- OpenSSL's libcrypto --------------------------------------------------------------- */

typedef struct {
    const char *alg, *group;
    uint8_t peer[TLS_MAX_KX_PUBLIC_LEN];
    size_t peer_len;
} ossl_kx_arg;

/* As libssl 3.0 does: ssl_generate_pkey_group, ssl_generate_param_group + the peer's
 * encoded point, ssl_derive. */
static bool ossl_kx(void *v)
{
    ossl_kx_arg *a = v;
    EVP_PKEY *key = NULL, *peer = NULL;
    EVP_PKEY_CTX *kctx = EVP_PKEY_CTX_new_from_name(NULL, a->alg, NULL), *pctx = NULL, *dctx = NULL;
    unsigned char *pub = NULL, secret[64];
    size_t secret_len = sizeof secret;
    bool ok = kctx && EVP_PKEY_keygen_init(kctx) > 0 &&
              EVP_PKEY_CTX_set_group_name(kctx, a->group) > 0 && EVP_PKEY_keygen(kctx, &key) > 0 &&
              EVP_PKEY_get1_encoded_public_key(key, &pub) > 0;
    ok = ok && (pctx = EVP_PKEY_CTX_new_from_name(NULL, a->alg, NULL)) != NULL &&
         EVP_PKEY_paramgen_init(pctx) > 0 && EVP_PKEY_CTX_set_group_name(pctx, a->group) > 0 &&
         EVP_PKEY_paramgen(pctx, &peer) > 0 &&
         EVP_PKEY_set1_encoded_public_key(peer, a->peer, a->peer_len) > 0;
    ok = ok && (dctx = EVP_PKEY_CTX_new_from_pkey(NULL, key, NULL)) != NULL &&
         EVP_PKEY_derive_init(dctx) > 0 && EVP_PKEY_derive_set_peer(dctx, peer) > 0 &&
         EVP_PKEY_derive(dctx, secret, &secret_len) > 0;
    OPENSSL_free(pub);
    EVP_PKEY_CTX_free(kctx);
    EVP_PKEY_CTX_free(pctx);
    EVP_PKEY_CTX_free(dctx);
    EVP_PKEY_free(key);
    EVP_PKEY_free(peer);
    return ok;
}

typedef struct {
    EVP_PKEY *key;
    int padding;    /* 0: not RSA */
    const char *md; /* NULL: SHA256 */
    unsigned char sig[512];
    size_t sig_len;
} ossl_sig_arg;

static bool ossl_sign_into(ossl_sig_arg *a, unsigned char *sig, size_t *len)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    bool ok =
        m && EVP_DigestSignInit_ex(m, &p, a->md ? a->md : "SHA256", NULL, NULL, a->key, NULL) > 0;
    if (ok && a->padding)
        ok = EVP_PKEY_CTX_set_rsa_padding(p, a->padding) > 0 &&
             (a->padding != RSA_PKCS1_PSS_PADDING ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(p, RSA_PSS_SALTLEN_DIGEST) > 0);
    ok = ok && EVP_DigestSign(m, sig, len, msg, sizeof msg) > 0;
    EVP_MD_CTX_free(m);
    return ok;
}

static bool ossl_sign(void *v)
{
    unsigned char sig[512];
    size_t len = sizeof sig;
    return ossl_sign_into(v, sig, &len);
}

typedef struct {
    EVP_PKEY *pub;
    int padding;
    const unsigned char *sig;
    size_t sig_len;
} ossl_verify_arg;

static bool ossl_verify(void *v)
{
    ossl_verify_arg *a = v;
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    bool ok = m && EVP_DigestVerifyInit_ex(m, &p, "SHA256", NULL, NULL, a->pub, NULL) > 0;
    if (ok && a->padding)
        ok = EVP_PKEY_CTX_set_rsa_padding(p, a->padding) > 0 &&
             (a->padding != RSA_PKCS1_PSS_PADDING ||
              EVP_PKEY_CTX_set_rsa_pss_saltlen(p, RSA_PSS_SALTLEN_DIGEST) > 0);
    ok = ok && EVP_DigestVerify(m, a->sig, a->sig_len, msg, sizeof msg) == 1;
    EVP_MD_CTX_free(m);
    return ok;
}

static bool ossl_seal(void *v)
{
    EVP_CIPHER_CTX *c = v;
    int n = 0, f = 0;
    return EVP_EncryptInit_ex2(c, NULL, NULL, nonce, NULL) == 1 &&
           EVP_EncryptUpdate(c, NULL, &n, aad, sizeof aad) == 1 &&
           EVP_EncryptUpdate(c, rec_out, &n, rec_in, REC) == 1 &&
           EVP_EncryptFinal_ex(c, rec_out + n, &f) == 1 &&
           EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_GET_TAG, 16, rec_out + REC) == 1;
}

static bool ossl_open(void *v)
{
    EVP_CIPHER_CTX *c = v;
    int n = 0, f = 0;
    return EVP_DecryptInit_ex2(c, NULL, NULL, nonce, NULL) == 1 &&
           EVP_DecryptUpdate(c, NULL, &n, aad, sizeof aad) == 1 &&
           EVP_DecryptUpdate(c, rec_out, &n, rec_ct, REC) == 1 &&
           EVP_CIPHER_CTX_ctrl(c, EVP_CTRL_AEAD_SET_TAG, 16, rec_ct + REC) == 1 &&
           EVP_DecryptFinal_ex(c, rec_out + n, &f) == 1;
}

/* SHA-256 of one 16 KiB buffer, the digest fetched once. */
static bool ossl_sha256(void *v)
{
    unsigned char out[EVP_MAX_MD_SIZE];
    unsigned int len;
    return EVP_Digest(rec_in, REC, out, &len, v, NULL) == 1;
}

/* HMAC-SHA256 of 32 bytes: a MAC context per call from the fetched HMAC, as libssl 3.0
 * computes a Finished MAC. */
static bool ossl_hmac(void *v)
{
    EVP_MAC_CTX *c = EVP_MAC_CTX_new(v);
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_utf8_string(OSSL_MAC_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_end(),
    };
    unsigned char out[EVP_MAX_MD_SIZE];
    size_t len;
    bool ok = c && EVP_MAC_init(c, key32, sizeof key32, params) == 1 &&
              EVP_MAC_update(c, msg, 32) == 1 && EVP_MAC_final(c, out, &len, sizeof out) == 1;
    EVP_MAC_CTX_free(c);
    return ok;
}

/* HKDF-Expand-Label as libssl 3.0's tls13_hkdf_expand: fetch TLS13-KDF, a new context,
 * EXPAND_ONLY with prefix "tls13 ", the label and the transcript hash. */
static bool ossl_hkdf(void *v)
{
    (void)v;
    EVP_KDF *kdf = EVP_KDF_fetch(NULL, OSSL_KDF_NAME_TLS1_3_KDF, NULL);
    EVP_KDF_CTX *c = kdf ? EVP_KDF_CTX_new(kdf) : NULL;
    EVP_KDF_free(kdf);
    int mode = EVP_KDF_HKDF_MODE_EXPAND_ONLY;
    OSSL_PARAM params[] = {
        OSSL_PARAM_construct_int(OSSL_KDF_PARAM_MODE, &mode),
        OSSL_PARAM_construct_utf8_string(OSSL_KDF_PARAM_DIGEST, (char *)"SHA256", 0),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_KEY, (void *)key32, sizeof key32),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_PREFIX, (void *)"tls13 ", 6),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_LABEL, (void *)"c hs traffic", 12),
        OSSL_PARAM_construct_octet_string(OSSL_KDF_PARAM_DATA, hkdf_info + 22, 32),
        OSSL_PARAM_construct_end(),
    };
    unsigned char out[32];
    bool ok = c && EVP_KDF_derive(c, out, sizeof out, params) > 0;
    EVP_KDF_CTX_free(c);
    return ok;
}

/* ---- AEAD set-up, shared with the bulk cells --------------------------------------------- */

static const struct {
    tls_aead_id id;
    const char *ossl;
    size_t key_len;
    int seal; /* PRIM_*_SEAL; the open is the next one */
} aeads[3] = {
    {TLS_AEAD_AES_128_GCM, "AES-128-GCM", 16, PRIM_AES128_SEAL},
    {TLS_AEAD_AES_256_GCM, "AES-256-GCM", 32, PRIM_AES256_SEAL},
    {TLS_AEAD_CHACHA20_POLY1305, "ChaCha20-Poly1305", 32, PRIM_CHACHA_SEAL},
};

/* A keyed AEAD from one back end, its impl set as the provider would. */
static tls_aead *be_aead_new(const tls_crypto_provider *be, int i)
{
    tls_aead *a = NULL;
    if (!be->aead_new || be->aead_new(aeads[i].id, key32, aeads[i].key_len, &a) != TLS_OK)
        return NULL;
    a->impl = be;
    return a;
}

/* Seal and open MB/s of aeads[i] on one back end (be; NULL: OpenSSL). The record to open
 * is sealed by mbedTLS, so every other back end opening it cross-checks the set-up.
 * False when anything fails. */
static bool aead_rates(int i, const tls_crypto_provider *be, double min_s, double *seal,
                       double *open)
{
    const tls_crypto_provider *mb = &tls__crypto_mbedtls;
    tls_aead *ref = NULL;
    moat_aead_arg m = {be, NULL};
    EVP_CIPHER *ciph = NULL;
    EVP_CIPHER_CTX *c = NULL;
    double scale = REC / 1e6;
    bool ok = false;

    for (size_t j = 0; j < sizeof rec_in; j++)
        rec_in[j] = (uint8_t)(j * 7);
    *seal = *open = 0;
    if (!(ref = be_aead_new(mb, i)) ||
        mb->aead_seal(ref, nonce, aad, sizeof aad, rec_in, REC, rec_ct) != TLS_OK)
        goto out;
    if (be) {
        if (!(m.aead = be_aead_new(be, i)))
            goto out;
        *seal = rate(moat_seal, &m, min_s) * scale;
        *open = rate(moat_open, &m, min_s) * scale;
    } else {
        if (!(ciph = EVP_CIPHER_fetch(NULL, aeads[i].ossl, NULL)) || !(c = EVP_CIPHER_CTX_new()) ||
            EVP_CipherInit_ex2(c, ciph, key32, nonce, 1, NULL) != 1)
            goto out;
        *seal = rate(ossl_seal, c, min_s) * scale;
        if (EVP_CipherInit_ex2(c, NULL, NULL, NULL, 0, NULL) != 1)
            goto out;
        *open = rate(ossl_open, c, min_s) * scale;
    }
    ok = *seal > 0 && *open > 0;
out:
    if (m.aead)
        be->aead_free(m.aead);
    if (ref)
        mb->aead_free(ref);
    EVP_CIPHER_CTX_free(c);
    EVP_CIPHER_free(ciph);
    return ok;
}

bool bench_aead_rates(int prim_seal, bool ossl, double min_s, double *seal, double *open)
{
    for (int i = 0; i < 3; i++)
        if (aeads[i].seal == prim_seal)
            return aead_rates(i, ossl ? NULL : tls__crypto()->aead[aeads[i].id], min_s, seal, open);
    *seal = *open = 0;
    return false;
}

/* ---- setup ----------------------------------------------------------------------------- */

static EVP_PKEY *ossl_load_key(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "tests/certs/%s/end.key", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    EVP_PKEY *k = PEM_read_PrivateKey(f, NULL, NULL, NULL);
    fclose(f);
    return k;
}

static X509 *ossl_load_cert(const char *dir)
{
    char path[256];
    snprintf(path, sizeof path, "tests/certs/%s/end.cert", dir);
    FILE *f = fopen(path, "r");
    if (!f)
        return NULL;
    X509 *x = PEM_read_X509(f, NULL, NULL, NULL);
    fclose(f);
    return x;
}

/* The key in tests/certs/DIR/end.key as the mbedTLS back end parses it. */
static tls_backend_key *mbed_load_key(const char *dir)
{
    char path[256];
    size_t len;
    snprintf(path, sizeof path, "tests/certs/%s/end.key", dir);
    uint8_t *pem = bench_read_file(path, &len);
    tls_backend_key *k = NULL;
    if (pem && tls__crypto_mbedtls.signing_key_parse(pem, len + 1, &k) != TLS_OK)
        k = NULL;
    free(pem);
    return k;
}

/* The same key in another back end: mbedTLS exports the scalar, `be` imports it. NULL
 * when `be` does not sign with this key type (or has no import). */
static tls_backend_key *be_import_key(const tls_crypto_provider *be, const tls_backend_key *mk)
{
    const tls_crypto_provider *mb = &tls__crypto_mbedtls;
    uint8_t priv[64];
    size_t n = 0;
    tls_backend_key *k = NULL;
    if (be == mb)
        return NULL; /* the caller uses mk itself */
    if (!be->signing_key_import || !be->sign ||
        mb->signing_key_export(mk, priv, sizeof priv, &n) != TLS_OK ||
        be->signing_key_import(mb->signing_key_type(mk), priv, n, &k) != TLS_OK)
        k = NULL;
    tls__wipe(priv, sizeof priv);
    return k;
}

/* A peer's public share for `group`, made by the mbedTLS back end. */
static bool peer_share(uint16_t group, uint8_t *out, size_t *len)
{
    const tls_crypto_provider *mb = &tls__crypto_mbedtls;
    tls_kx *kx = NULL;
    if (mb->kx_new(group, &kx) != TLS_OK)
        return false;
    kx->impl = mb;
    bool ok = mb->kx_public(kx, out, TLS_MAX_KX_PUBLIC_LEN, len) == TLS_OK;
    mb->kx_free(kx);
    return ok;
}

bool bench_primitives_run(double min_s, bench_prim out[PRIM_COUNT], char *err, size_t errlen)
{
    static const char *const names[PRIM_COUNT] = {
        [PRIM_X25519] = "X25519 keygen+agree",
        [PRIM_P256_ECDH] = "P-256 ECDH keygen+agree",
        [PRIM_P384_ECDH] = "P-384 ECDH keygen+agree",
        [PRIM_ECDSA_SIGN] = "ECDSA P-256 sign (SHA-256)",
        [PRIM_ECDSA384_SIGN] = "ECDSA P-384 sign (SHA-384)",
        [PRIM_RSA_SIGN] = "RSA-2048 PSS sign (SHA-256)",
        [PRIM_ECDSA_VERIFY] = "ECDSA P-256 verify",
        [PRIM_RSA_VERIFY_PSS] = "RSA-2048 PSS verify",
        [PRIM_RSA_VERIFY_PKCS1] = "RSA-2048 PKCS#1 verify",
        [PRIM_AES128_SEAL] = "AES-128-GCM seal 16 KiB",
        [PRIM_AES128_OPEN] = "AES-128-GCM open 16 KiB",
        [PRIM_AES256_SEAL] = "AES-256-GCM seal 16 KiB",
        [PRIM_AES256_OPEN] = "AES-256-GCM open 16 KiB",
        [PRIM_CHACHA_SEAL] = "ChaCha20-Poly1305 seal 16 KiB",
        [PRIM_CHACHA_OPEN] = "ChaCha20-Poly1305 open 16 KiB",
        [PRIM_SHA256] = "SHA-256 16 KiB",
        [PRIM_HMAC] = "HMAC-SHA256 of 32 bytes",
        [PRIM_HKDF_EXPAND] = "HKDF-Expand-Label (SHA-256, 32 B)",
    };
    enum { K_RSA, K_P256, K_P384, K_COUNT };
    static const char *const kdir[K_COUNT] = {"rsa2048", "ecdsa-p256", "ecdsa-p384"};
    const tls_crypto_routes *routes = tls__crypto();
    bool ok = false;
    tls_backend_key *mkey[K_COUNT] = {0};
    EVP_PKEY *okey[K_COUNT] = {0};
    X509 *ocert[K_COUNT] = {0};
    mbedtls_x509_crt crt[K_COUNT];
    EVP_MD *sha256 = NULL;
    EVP_MAC *hmac = NULL;

#ifdef MOAT_CRYPTO_FAST
    /* The provider initialises them only when it routes to them (not under MOAT_CRYPTO=
     * mbedtls); their columns are measured either way. */
    if (!tls__crypto_gcrypt_init() || !tls__crypto_sodium_init()) {
        snprintf(err, errlen, "libgcrypt or libsodium failed to initialise");
        return false;
    }
#endif
    for (int i = 0; i < K_COUNT; i++)
        mbedtls_x509_crt_init(&crt[i]);
    memset(out, 0, PRIM_COUNT * sizeof *out);
    for (int i = 0; i < PRIM_COUNT; i++) {
        out[i].name = names[i];
        out[i].bulk = (i >= PRIM_AES128_SEAL && i <= PRIM_CHACHA_OPEN) || i == PRIM_SHA256;
        for (int b = 0; b < BE_COUNT; b++)
            out[i].be[b] = BENCH_NA;
    }
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = i < 64 ? 0x20 : (uint8_t)i;
    make_hkdf_info();

    /* The route of each primitive in the running provider. */
    out[PRIM_X25519].route = be_index(routes->x25519);
    out[PRIM_P256_ECDH].route = be_index(routes->secp256r1);
    out[PRIM_P384_ECDH].route = be_index(routes->secp384r1);
    out[PRIM_ECDSA_SIGN].route = be_index(routes->sign[TLS_KEY_ECDSA_P256]);
    out[PRIM_ECDSA384_SIGN].route = be_index(routes->sign[TLS_KEY_ECDSA_P384]);
    out[PRIM_RSA_SIGN].route = be_index(routes->sign[TLS_KEY_RSA]);
    out[PRIM_ECDSA_VERIFY].route = be_index(routes->verify_ecdsa);
    out[PRIM_RSA_VERIFY_PSS].route = out[PRIM_RSA_VERIFY_PKCS1].route = be_index(routes->parse);
    for (int i = 0; i < 3; i++)
        out[aeads[i].seal].route = out[aeads[i].seal + 1].route =
            be_index(routes->aead[aeads[i].id]);
    out[PRIM_SHA256].route = out[PRIM_HMAC].route = out[PRIM_HKDF_EXPAND].route =
        be_index(routes->hash[TLS_HASH_SHA256]);

    for (int k = 0; k < K_COUNT; k++) {
        char path[256];
        snprintf(path, sizeof path, "tests/certs/%s/end.cert", kdir[k]);
        if (!(mkey[k] = mbed_load_key(kdir[k])) || !(okey[k] = ossl_load_key(kdir[k])) ||
            !(ocert[k] = ossl_load_cert(kdir[k])) ||
            mbedtls_x509_crt_parse_file(&crt[k], path) != 0) {
            snprintf(err, errlen, "cannot load the %s key or certificate", kdir[k]);
            goto out;
        }
    }

    /* Key exchange. */
    {
        static const struct {
            int prim;
            uint16_t group;
            const char *alg, *name;
        } g[] = {
            {PRIM_X25519, TLS_GROUP_X25519, "X25519", "X25519"},
            {PRIM_P256_ECDH, TLS_GROUP_SECP256R1, "EC", "P-256"},
            {PRIM_P384_ECDH, TLS_GROUP_SECP384R1, "EC", "P-384"},
        };
        for (size_t i = 0; i < sizeof g / sizeof g[0]; i++) {
            moat_kx_arg ma = {.group = g[i].group};
            ossl_kx_arg oa = {.alg = g[i].alg, .group = g[i].name};
            if (!peer_share(g[i].group, ma.peer, &ma.peer_len)) {
                snprintf(err, errlen, "key exchange setup failed");
                goto out;
            }
            memcpy(oa.peer, ma.peer, ma.peer_len);
            oa.peer_len = ma.peer_len;
            for (int b = 0; b < BE_COUNT; b++)
                if (backends[b] && kx_supported(backends[b], g[i].group)) {
                    ma.be = backends[b];
                    out[g[i].prim].be[b] = rate(moat_kx, &ma, min_s);
                }
            out[g[i].prim].ossl = rate(ossl_kx, &oa, min_s);
        }
    }

    /* Signatures: mbedTLS with the key it parsed, the others with the same key imported. */
    {
        static const struct {
            int prim, key, padding;
            uint16_t scheme;
            const char *md;
        } sg[] = {
            {PRIM_ECDSA_SIGN, K_P256, 0, TLS_SIG_ECDSA_SECP256R1_SHA256, "SHA256"},
            {PRIM_ECDSA384_SIGN, K_P384, 0, TLS_SIG_ECDSA_SECP384R1_SHA384, "SHA384"},
            {PRIM_RSA_SIGN, K_RSA, RSA_PKCS1_PSS_PADDING, TLS_SIG_RSA_PSS_RSAE_SHA256, "SHA256"},
        };
        for (size_t i = 0; i < sizeof sg / sizeof sg[0]; i++) {
            for (int b = 0; b < BE_COUNT; b++) {
                const tls_crypto_provider *be = backends[b];
                tls_backend_key *k = !be               ? NULL
                                     : b == BE_MBEDTLS ? mkey[sg[i].key]
                                                       : be_import_key(be, mkey[sg[i].key]);
                if (!k)
                    continue;
                moat_sign_arg ms = {be, k, sg[i].scheme};
                out[sg[i].prim].be[b] = rate(moat_sign, &ms, min_s);
                if (b != BE_MBEDTLS)
                    be->signing_key_free(k);
            }
            ossl_sig_arg os = {.key = okey[sg[i].key], .padding = sg[i].padding, .md = sg[i].md};
            out[sg[i].prim].ossl = rate(ossl_sign, &os, min_s);
        }
    }
    {
        static const struct {
            int prim, key, padding;
            tls_x509_sig_kind kind;
        } v[] = {
            {PRIM_ECDSA_VERIFY, K_P256, 0, TLS_X509_SIG_ECDSA},
            {PRIM_RSA_VERIFY_PSS, K_RSA, RSA_PKCS1_PSS_PADDING, TLS_X509_SIG_RSA_PSS},
            {PRIM_RSA_VERIFY_PKCS1, K_RSA, RSA_PKCS1_PADDING, TLS_X509_SIG_RSA_PKCS1},
        };
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            ossl_sig_arg s = {.key = okey[v[i].key], .padding = v[i].padding};
            s.sig_len = sizeof s.sig;
            if (!ossl_sign_into(&s, s.sig, &s.sig_len)) {
                snprintf(err, errlen, "cannot make a signature to verify");
                goto out;
            }
            for (int b = 0; b < BE_COUNT; b++) {
                if (!backends[b] || !backends[b]->verify_spki)
                    continue;
                moat_verify_arg mv = {
                    backends[b], crt[v[i].key].pk_raw.p, crt[v[i].key].pk_raw.len, v[i].kind, s.sig,
                    s.sig_len};
                /* A back end that verifies other kinds of key only has no cell. */
                if (backends[b]->verify_spki(mv.spki, mv.spki_len, mv.kind, TLS_HASH_SHA256, msg,
                                             sizeof msg, mv.sig,
                                             mv.sig_len) == TLS_ERR_KEY_UNSUPPORTED)
                    continue;
                out[v[i].prim].be[b] = rate(moat_verify, &mv, min_s);
            }
            ossl_verify_arg ov = {X509_get0_pubkey(ocert[v[i].key]), v[i].padding, s.sig,
                                  s.sig_len};
            out[v[i].prim].ossl = rate(ossl_verify, &ov, min_s);
        }
    }

    /* AEAD, 16 KiB records. */
    for (int i = 0; i < 3; i++) {
        int p = aeads[i].seal;
        for (int b = 0; b < BE_COUNT; b++) {
            tls_aead *probe = backends[b] ? be_aead_new(backends[b], i) : NULL;
            if (!probe)
                continue;
            backends[b]->aead_free(probe);
            if (!aead_rates(i, backends[b], min_s, &out[p].be[b], &out[p + 1].be[b])) {
                snprintf(err, errlen, "%s failed (%s)", aeads[i].ossl, bench_be_name[b]);
                goto out;
            }
        }
        if (!aead_rates(i, NULL, min_s, &out[p].ossl, &out[p + 1].ossl)) {
            snprintf(err, errlen, "%s failed (OpenSSL)", aeads[i].ossl);
            goto out;
        }
    }

    /* Hash, HMAC, HKDF-Expand (SHA-256). */
    for (int b = 0; b < BE_COUNT; b++) {
        const tls_crypto_provider *be = backends[b];
        if (be && be->hash_init)
            out[PRIM_SHA256].be[b] = rate(moat_sha256, (void *)be, min_s) * (REC / 1e6);
        if (be && be->hmac)
            out[PRIM_HMAC].be[b] = rate(moat_hmac, (void *)be, min_s);
        if (be && be->hkdf_expand)
            out[PRIM_HKDF_EXPAND].be[b] = rate(moat_hkdf, (void *)be, min_s);
    }
    if (!(sha256 = EVP_MD_fetch(NULL, "SHA256", NULL)) ||
        !(hmac = EVP_MAC_fetch(NULL, "HMAC", NULL))) {
        snprintf(err, errlen, "OpenSSL: cannot fetch SHA256 or HMAC");
        goto out;
    }
    out[PRIM_SHA256].ossl = rate(ossl_sha256, sha256, min_s) * (REC / 1e6);
    out[PRIM_HMAC].ossl = rate(ossl_hmac, hmac, min_s);
    out[PRIM_HKDF_EXPAND].ossl = rate(ossl_hkdf, NULL, min_s);

    ok = true;
    for (int i = 0; i < PRIM_COUNT; i++) {
        int r = out[i].route;
        out[i].moat = r >= 0 && out[i].be[r] > 0 ? out[i].be[r] : 0;
        for (int b = 0; b < BE_COUNT; b++)
            if (out[i].be[b] == 0) {
                snprintf(err, errlen, "%s failed (%s)", names[i], bench_be_name[b]);
                ok = false;
            }
        if (out[i].moat <= 0 || out[i].ossl <= 0) {
            snprintf(err, errlen, "%s failed (%s)", names[i],
                     out[i].moat <= 0 ? "the routed back end" : "OpenSSL");
            ok = false;
        }
    }

out:
    for (int k = 0; k < K_COUNT; k++) {
        if (mkey[k])
            tls__crypto_mbedtls.signing_key_free(mkey[k]);
        EVP_PKEY_free(okey[k]);
        X509_free(ocert[k]);
        mbedtls_x509_crt_free(&crt[k]);
    }
    EVP_MD_free(sha256);
    EVP_MAC_free(hmac);
    return ok;
}
