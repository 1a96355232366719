/*
 * primitives.c — the raw speed of each primitive a handshake or a record needs, for the
 * engine's crypto provider (tls/crypto/crypto.h over mbedTLS) and for OpenSSL's
 * libcrypto (EVP, called the way libssl calls it), side by side.
 *
 * Each operation is what one side of a handshake does with it:
 * - key exchange: a fresh key pair, its encoded public share, and the shared secret
 *   with a peer's share (decoded and checked each time, as a handshake must);
 * - sign / verify: SHA-256 and the signature over a 130-byte message, the size of a
 *   TLS 1.3 CertificateVerify input; OpenSSL sets up an EVP_MD_CTX per signature as
 *   libssl does; verification uses the public key only (our verify_spki, OpenSSL's
 *   certificate key);
 * - AEAD: one 16 KiB record with a 5-byte AAD, separate input and output buffers, key
 *   schedule kept (ours: tls_aead; OpenSSL: one EVP_CIPHER_CTX, new IV per record).
 * Signatures to verify are made once by OpenSSL (the bytes do not depend on who made
 * them). Rates are per CPU second of this thread, the best of three runs.
 */
#include "engine.h"

#include <mbedtls/x509_crt.h>
#include <openssl/evp.h>
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

/* ---- our provider ---------------------------------------------------------------------- */

typedef struct {
    uint16_t group;
    uint8_t peer[TLS_MAX_KX_PUBLIC_LEN];
    size_t peer_len;
} moat_kx_arg;

static bool moat_kx(void *v)
{
    moat_kx_arg *a = v;
    tls_kx *kx = NULL;
    uint8_t pub[TLS_MAX_KX_PUBLIC_LEN], secret[TLS_MAX_KX_SECRET_LEN];
    size_t pub_len, secret_len;
    bool ok = tls__kx_new(a->group, &kx) == TLS_OK &&
              tls__kx_public(kx, pub, sizeof pub, &pub_len) == TLS_OK &&
              tls__kx_agree(kx, a->peer, a->peer_len, secret, sizeof secret, &secret_len) == TLS_OK;
    tls__kx_free(kx);
    return ok;
}

typedef struct {
    tls_signing_key *key;
    uint16_t scheme;
} moat_sign_arg;

static bool moat_sign(void *v)
{
    moat_sign_arg *a = v;
    uint8_t sig[TLS_MAX_SIGNATURE_LEN];
    size_t len;
    return tls__sign(a->key, a->scheme, msg, sizeof msg, sig, sizeof sig, &len) == TLS_OK;
}

typedef struct {
    const uint8_t *spki;
    size_t spki_len;
    tls_x509_sig_kind kind;
    const uint8_t *sig;
    size_t sig_len;
} moat_verify_arg;

static bool moat_verify(void *v)
{
    moat_verify_arg *a = v;
    return tls__verify_spki(a->spki, a->spki_len, a->kind, TLS_HASH_SHA256, msg, sizeof msg, a->sig,
                            a->sig_len) == TLS_OK;
}

static bool moat_seal(void *v)
{
    return tls__aead_seal(v, nonce, aad, sizeof aad, rec_in, REC, rec_out) == TLS_OK;
}

static bool moat_open(void *v)
{
    return tls__aead_open(v, nonce, aad, sizeof aad, rec_ct, REC + 16, rec_out) == TLS_OK;
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
    int padding; /* 0: not RSA */
    unsigned char sig[512];
    size_t sig_len;
} ossl_sig_arg;

static bool ossl_sign_into(ossl_sig_arg *a, unsigned char *sig, size_t *len)
{
    EVP_MD_CTX *m = EVP_MD_CTX_new();
    EVP_PKEY_CTX *p = NULL;
    bool ok = m && EVP_DigestSignInit_ex(m, &p, "SHA256", NULL, NULL, a->key, NULL) > 0;
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

/* Seal and open MB/s of aeads[i] on one back end; the record to open is sealed by ours
 * (so OpenSSL opening it cross-checks the set-up). False when anything fails. */
static bool aead_rates(int i, bool ossl, double min_s, double *seal, double *open)
{
    tls_aead *m = NULL;
    EVP_CIPHER *ciph = NULL;
    EVP_CIPHER_CTX *c = NULL;
    double scale = REC / 1e6;
    bool ok = false;

    for (size_t j = 0; j < sizeof rec_in; j++)
        rec_in[j] = (uint8_t)(j * 7);
    *seal = *open = 0;
    if (tls__aead_new(aeads[i].id, key32, aeads[i].key_len, &m) != TLS_OK ||
        tls__aead_seal(m, nonce, aad, sizeof aad, rec_in, REC, rec_ct) != TLS_OK)
        goto out;
    if (!ossl) {
        *seal = rate(moat_seal, m, min_s) * scale;
        *open = rate(moat_open, m, min_s) * scale;
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
    tls__aead_free(m);
    EVP_CIPHER_CTX_free(c);
    EVP_CIPHER_free(ciph);
    return ok;
}

bool bench_aead_rates(int prim_seal, bool ossl, double min_s, double *seal, double *open)
{
    for (int i = 0; i < 3; i++)
        if (aeads[i].seal == prim_seal)
            return aead_rates(i, ossl, min_s, seal, open);
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

static tls_signing_key *moat_load_key(const char *dir)
{
    char path[256];
    size_t len;
    snprintf(path, sizeof path, "tests/certs/%s/end.key", dir);
    uint8_t *pem = bench_read_file(path, &len);
    tls_signing_key *k = NULL;
    if (pem && tls__signing_key_parse(pem, len + 1, &k) != TLS_OK)
        k = NULL;
    free(pem);
    return k;
}

/* A peer's public share for `group`, made by our provider. */
static bool peer_share(uint16_t group, uint8_t *out, size_t *len)
{
    tls_kx *kx = NULL;
    bool ok = tls__kx_new(group, &kx) == TLS_OK &&
              tls__kx_public(kx, out, TLS_MAX_KX_PUBLIC_LEN, len) == TLS_OK;
    tls__kx_free(kx);
    return ok;
}

bool bench_primitives_run(double min_s, bench_prim out[PRIM_COUNT], char *err, size_t errlen)
{
    static const char *const names[PRIM_COUNT] = {
        [PRIM_X25519] = "X25519 keygen+agree",
        [PRIM_P256_ECDH] = "P-256 ECDH keygen+agree",
        [PRIM_ECDSA_SIGN] = "ECDSA P-256 sign (SHA-256)",
        [PRIM_ECDSA_VERIFY] = "ECDSA P-256 verify",
        [PRIM_RSA_SIGN] = "RSA-2048 PSS sign (SHA-256)",
        [PRIM_RSA_VERIFY_PSS] = "RSA-2048 PSS verify",
        [PRIM_RSA_VERIFY_PKCS1] = "RSA-2048 PKCS#1 verify",
        [PRIM_AES128_SEAL] = "AES-128-GCM seal 16 KiB",
        [PRIM_AES128_OPEN] = "AES-128-GCM open 16 KiB",
        [PRIM_AES256_SEAL] = "AES-256-GCM seal 16 KiB",
        [PRIM_AES256_OPEN] = "AES-256-GCM open 16 KiB",
        [PRIM_CHACHA_SEAL] = "ChaCha20-Poly1305 seal 16 KiB",
        [PRIM_CHACHA_OPEN] = "ChaCha20-Poly1305 open 16 KiB",
    };
    bool ok = false;
    tls_signing_key *mkey[KEY_COUNT] = {0};
    EVP_PKEY *okey[KEY_COUNT] = {0};
    X509 *ocert[KEY_COUNT] = {0};
    mbedtls_x509_crt crt[KEY_COUNT];

    for (int i = 0; i < KEY_COUNT; i++)
        mbedtls_x509_crt_init(&crt[i]);
    memset(out, 0, PRIM_COUNT * sizeof *out);
    for (int i = 0; i < PRIM_COUNT; i++) {
        out[i].name = names[i];
        out[i].bulk = i >= PRIM_AES128_SEAL;
    }
    for (size_t i = 0; i < sizeof msg; i++)
        msg[i] = i < 64 ? 0x20 : (uint8_t)i;

    for (int k = 0; k < KEY_COUNT; k++) {
        char path[256];
        snprintf(path, sizeof path, "tests/certs/%s/end.cert", bench_key_dir[k]);
        if (!(mkey[k] = moat_load_key(bench_key_dir[k])) ||
            !(okey[k] = ossl_load_key(bench_key_dir[k])) ||
            !(ocert[k] = ossl_load_cert(bench_key_dir[k])) ||
            mbedtls_x509_crt_parse_file(&crt[k], path) != 0) {
            snprintf(err, errlen, "cannot load the %s key or certificate", bench_key_dir[k]);
            goto out;
        }
    }

    /* Key exchange. */
    for (int g = 0; g < 2; g++) {
        uint16_t group = g == 0 ? TLS_GROUP_X25519 : TLS_GROUP_SECP256R1;
        moat_kx_arg ma = {.group = group};
        ossl_kx_arg oa = {.alg = g == 0 ? "X25519" : "EC", .group = g == 0 ? "X25519" : "P-256"};
        if (!peer_share(group, ma.peer, &ma.peer_len)) {
            snprintf(err, errlen, "key exchange setup failed");
            goto out;
        }
        memcpy(oa.peer, ma.peer, ma.peer_len);
        oa.peer_len = ma.peer_len;
        int i = g == 0 ? PRIM_X25519 : PRIM_P256_ECDH;
        out[i].moat = rate(moat_kx, &ma, min_s);
        out[i].ossl = rate(ossl_kx, &oa, min_s);
    }

    /* Signatures. */
    {
        moat_sign_arg ms = {mkey[KEY_P256], TLS_SIG_ECDSA_SECP256R1_SHA256};
        ossl_sig_arg os = {.key = okey[KEY_P256]};
        out[PRIM_ECDSA_SIGN].moat = rate(moat_sign, &ms, min_s);
        out[PRIM_ECDSA_SIGN].ossl = rate(ossl_sign, &os, min_s);
        moat_sign_arg mr = {mkey[KEY_RSA2048], TLS_SIG_RSA_PSS_RSAE_SHA256};
        ossl_sig_arg orr = {.key = okey[KEY_RSA2048], .padding = RSA_PKCS1_PSS_PADDING};
        out[PRIM_RSA_SIGN].moat = rate(moat_sign, &mr, min_s);
        out[PRIM_RSA_SIGN].ossl = rate(ossl_sign, &orr, min_s);
    }
    {
        static const struct {
            int prim, key, padding;
            tls_x509_sig_kind kind;
        } v[] = {
            {PRIM_ECDSA_VERIFY, KEY_P256, 0, TLS_X509_SIG_ECDSA},
            {PRIM_RSA_VERIFY_PSS, KEY_RSA2048, RSA_PKCS1_PSS_PADDING, TLS_X509_SIG_RSA_PSS},
            {PRIM_RSA_VERIFY_PKCS1, KEY_RSA2048, RSA_PKCS1_PADDING, TLS_X509_SIG_RSA_PKCS1},
        };
        for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
            ossl_sig_arg s = {.key = okey[v[i].key], .padding = v[i].padding};
            s.sig_len = sizeof s.sig;
            if (!ossl_sign_into(&s, s.sig, &s.sig_len)) {
                snprintf(err, errlen, "cannot make a signature to verify");
                goto out;
            }
            moat_verify_arg mv = {crt[v[i].key].pk_raw.p, crt[v[i].key].pk_raw.len, v[i].kind,
                                  s.sig, s.sig_len};
            ossl_verify_arg ov = {X509_get0_pubkey(ocert[v[i].key]), v[i].padding, s.sig,
                                  s.sig_len};
            out[v[i].prim].moat = rate(moat_verify, &mv, min_s);
            out[v[i].prim].ossl = rate(ossl_verify, &ov, min_s);
        }
    }

    /* AEAD, 16 KiB records. */
    for (int i = 0; i < 3; i++) {
        int p = aeads[i].seal;
        if (!aead_rates(i, false, min_s, &out[p].moat, &out[p + 1].moat) ||
            !aead_rates(i, true, min_s, &out[p].ossl, &out[p + 1].ossl)) {
            snprintf(err, errlen, "%s failed", aeads[i].ossl);
            goto out;
        }
    }
    ok = true;
    for (int i = 0; i < PRIM_COUNT; i++)
        if (out[i].moat <= 0 || out[i].ossl <= 0) {
            snprintf(err, errlen, "%s failed (%s)", names[i],
                     out[i].moat <= 0 ? "ours" : "OpenSSL");
            ok = false;
        }

out:
    for (int k = 0; k < KEY_COUNT; k++) {
        tls__signing_key_free(mkey[k]);
        EVP_PKEY_free(okey[k]);
        X509_free(ocert[k]);
        mbedtls_x509_crt_free(&crt[k]);
    }
    return ok;
}
