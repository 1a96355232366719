/*
 * sodium.c — the libsodium back end: X25519 key exchange and Ed25519 signatures.
 *
 * libsodium 1.0.18's X25519 is the fastest on this project's machines (about 1.6×
 * nettle's, 15× mbedTLS's; bench/results/primitives.md), and a TLS 1.3 handshake does
 * two of them per side, resumptions included (psk_dhe_ke). Its Ed25519 signs about
 * 41,000/s (issue 9), and mbedTLS 2.28 has no Ed25519 at all. Every other slot is NULL.
 *
 * Implementation notes:
 * - tls__crypto_sodium_init (provider.c, once, inside its pthread_once) runs
 *   sodium_init, which picks the CPU-specific implementation.
 * - Private keys are 32 random bytes from getrandom(2); crypto_scalarmult clamps
 *   them (RFC 7748 §5), so the stored scalar is the raw one, as RFC 7748 prints its
 *   test keys. crypto_scalarmult masks the peer's top bit and fails on an all-zero
 *   result (a small-order point), which is the check RFC 8446 §7.4.2 asks for.
 * - Secrets (the scalar, the shared secret on failure) are wiped with tls__wipe.
 * - Ed25519 (RFC 8032 PureEdDSA): a key is imported from its 32-byte seed (provider.c
 *   reads it from PKCS#8) and expanded once by crypto_sign_seed_keypair; the expanded
 *   secret key is wiped on free. The key is only read after import, so one key signs
 *   on any number of threads at once. Signatures cover the whole message (no
 *   pre-hash). crypto_sign_verify_detached refuses a non-canonical S, a small-order
 *   or non-canonical public key and a small-order R: stricter than RFC 8032 §5.1.7
 *   requires, and what a TLS peer's honest signature always satisfies.
 * - Public keys come from certificates and SPKIs through provider.c's bounded DER
 *   walk (tls__x509_parts, tls__ed25519_spki_key), never from mbedTLS.
 */
#include "crypto.h"

#include <sodium.h>

#include <assert.h>
#include <string.h>

#define X25519_LEN 32

typedef struct {
    tls_kx base; /* first: the provider hands us tls_kx pointers */
    uint8_t scalar[X25519_LEN];
    uint8_t public_key[X25519_LEN];
} sodium_kx;

bool tls__crypto_sodium_init(void)
{
    return sodium_init() >= 0; /* 1: already initialised, also fine */
}

static void kx_free(tls_kx *kx)
{
    sodium_kx *k = (sodium_kx *)kx;
    if (!k)
        return;
    tls__wipe(k, sizeof *k);
    tls__free(k, sizeof *k);
}

static tls_error kx_from_scalar(const uint8_t scalar[X25519_LEN], tls_kx **out)
{
    sodium_kx *k = tls__calloc(sizeof *k);
    if (!k)
        return TLS_ERR_NO_MEMORY;
    memcpy(k->scalar, scalar, X25519_LEN);
    if (crypto_scalarmult_curve25519_base(k->public_key, k->scalar) != 0) {
        kx_free(&k->base);
        return TLS_ERR_CRYPTO;
    }
    *out = &k->base;
    return TLS_OK;
}

static tls_error kx_new(uint16_t group, tls_kx **out)
{
    *out = NULL;
    if (group != TLS_GROUP_X25519)
        return TLS_ERR_CONFIG;
    uint8_t scalar[X25519_LEN];
    tls_error err = tls__random(scalar, sizeof scalar);
    if (err == TLS_OK)
        err = kx_from_scalar(scalar, out);
    tls__wipe(scalar, sizeof scalar);
    return err;
}

static tls_error kx_new_from_private(uint16_t group, const uint8_t *priv, size_t len, tls_kx **out)
{
    *out = NULL;
    if (group != TLS_GROUP_X25519)
        return TLS_ERR_CONFIG;
    if (len != X25519_LEN)
        return TLS_ERR_INVALID_ARGUMENT;
    return kx_from_scalar(priv, out);
}

static tls_error kx_public(const tls_kx *kx, uint8_t *out, size_t cap, size_t *len)
{
    const sodium_kx *k = (const sodium_kx *)kx;
    if (cap < X25519_LEN)
        return TLS_ERR_INTERNAL; /* our buffer, our bug */
    memcpy(out, k->public_key, X25519_LEN);
    *len = X25519_LEN;
    return TLS_OK;
}

static tls_error kx_agree(tls_kx *kx, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                          size_t cap, size_t *len)
{
    const sodium_kx *k = (const sodium_kx *)kx;
    if (peer_len != X25519_LEN) /* RFC 8446 §4.2.8.2: exactly 32 bytes */
        return TLS_ERR_INVALID_KEY_SHARE;
    if (cap < X25519_LEN)
        return TLS_ERR_INTERNAL;
    if (crypto_scalarmult_curve25519(secret, k->scalar, peer) != 0) {
        tls__wipe(secret, X25519_LEN);
        return TLS_ERR_INVALID_KEY_SHARE; /* all-zero shared secret */
    }
    *len = X25519_LEN;
    return TLS_OK;
}

/* ---- Ed25519 ------------------------------------------------------------------------ */

typedef struct {
    tls_key_type type; /* always TLS_KEY_ED25519 */
    uint8_t sk[crypto_sign_ed25519_SECRETKEYBYTES];
    uint8_t pk[crypto_sign_ed25519_PUBLICKEYBYTES];
} sodium_key;

static_assert(crypto_sign_ed25519_SEEDBYTES == TLS_ED25519_SEED_LEN &&
                  crypto_sign_ed25519_PUBLICKEYBYTES == TLS_ED25519_PUBLIC_LEN &&
                  crypto_sign_ed25519_BYTES == TLS_ED25519_SIG_LEN,
              "libsodium's Ed25519 sizes are RFC 8032's");

static void signing_key_free(tls_backend_key *key)
{
    sodium_key *k = (sodium_key *)key;
    if (!k)
        return;
    tls__wipe(k, sizeof *k);
    tls__free(k, sizeof *k);
}

static tls_error signing_key_import(tls_key_type type, const uint8_t *priv, size_t len,
                                    tls_backend_key **out)
{
    *out = NULL;
    if (type != TLS_KEY_ED25519)
        return TLS_ERR_KEY_UNSUPPORTED;
    if (len != TLS_ED25519_SEED_LEN)
        return TLS_ERR_KEY_PARSE;
    sodium_key *k = tls__calloc(sizeof *k);
    if (!k)
        return TLS_ERR_NO_MEMORY;
    k->type = TLS_KEY_ED25519;
    /* Every 32-byte string is a valid seed (RFC 8032 §5.1.5). */
    if (crypto_sign_ed25519_seed_keypair(k->pk, k->sk, priv) != 0) {
        signing_key_free((tls_backend_key *)k);
        return TLS_ERR_CRYPTO;
    }
    *out = (tls_backend_key *)k;
    return TLS_OK;
}

static tls_key_type signing_key_type(const tls_backend_key *key)
{
    return ((const sodium_key *)key)->type;
}

/* The Ed25519 public key of a DER certificate; false: not an Ed25519 certificate. */
static bool cert_ed25519_key(const uint8_t *cert_der, size_t cert_len,
                             uint8_t pub[TLS_ED25519_PUBLIC_LEN])
{
    tls_x509_parts parts;
    return tls__x509_parts(cert_der, cert_len, &parts) == TLS_OK && parts.ed25519_key &&
           tls__ed25519_spki_key(parts.spki, parts.spki_len, pub);
}

static bool signing_key_matches_cert(const tls_backend_key *key, const uint8_t *cert_der,
                                     size_t cert_len)
{
    const sodium_key *k = (const sodium_key *)key;
    uint8_t pub[TLS_ED25519_PUBLIC_LEN];
    return cert_ed25519_key(cert_der, cert_len, pub) && memcmp(pub, k->pk, sizeof pub) == 0;
}

static tls_error sign(const tls_backend_key *key, uint16_t scheme, const uint8_t *msg,
                      size_t msg_len, uint8_t *sig, size_t cap, size_t *sig_len)
{
    const sodium_key *k = (const sodium_key *)key;
    if (scheme != TLS_SIG_ED25519 || k->type != TLS_KEY_ED25519)
        return TLS_ERR_CONFIG;
    if (cap < TLS_ED25519_SIG_LEN)
        return TLS_ERR_INTERNAL; /* our buffer, our bug */
    if (crypto_sign_ed25519_detached(sig, NULL, msg, msg_len, k->sk) != 0)
        return TLS_ERR_CRYPTO;
    *sig_len = TLS_ED25519_SIG_LEN;
    return TLS_OK;
}

static tls_error verify_with(const uint8_t pub[TLS_ED25519_PUBLIC_LEN], const uint8_t *msg,
                             size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    if (sig_len != TLS_ED25519_SIG_LEN)
        return TLS_ERR_DECRYPT;
    return crypto_sign_ed25519_verify_detached(sig, msg, msg_len, pub) == 0 ? TLS_OK
                                                                            : TLS_ERR_DECRYPT;
}

static tls_error verify(const uint8_t *cert_der, size_t cert_len, uint16_t scheme,
                        const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    if (scheme != TLS_SIG_ED25519)
        return TLS_ERR_INVALID_ARGUMENT; /* provider.c routes only Ed25519 here */
    tls_x509_parts parts;
    uint8_t pub[TLS_ED25519_PUBLIC_LEN];
    if (tls__x509_parts(cert_der, cert_len, &parts) != TLS_OK)
        return TLS_ERR_CERT_PARSE;
    /* A certificate of another key type cannot have made an Ed25519 signature. */
    if (!parts.ed25519_key || !tls__ed25519_spki_key(parts.spki, parts.spki_len, pub))
        return TLS_ERR_DECRYPT;
    return verify_with(pub, msg, msg_len, sig, sig_len);
}

static tls_error verify_spki(const uint8_t *spki, size_t spki_len, tls_x509_sig_kind kind,
                             tls_hash_id hash, const uint8_t *msg, size_t msg_len,
                             const uint8_t *sig, size_t sig_len)
{
    (void)hash; /* PureEdDSA hashes inside the algorithm (RFC 8410 §6) */
    if (kind != TLS_X509_SIG_ED25519)
        return TLS_ERR_KEY_UNSUPPORTED; /* as nettle: mbedTLS answers for other kinds */
    uint8_t pub[TLS_ED25519_PUBLIC_LEN];
    if (!tls__ed25519_spki_key(spki, spki_len, pub))
        return TLS_ERR_KEY_UNSUPPORTED; /* another kind of key (or none) */
    return verify_with(pub, msg, msg_len, sig, sig_len);
}

const tls_crypto_provider tls__crypto_sodium = {
    .name = "sodium",
    .kx_new = kx_new,
    .kx_public = kx_public,
    .kx_agree = kx_agree,
    .kx_free = kx_free,
    .kx_new_from_private = kx_new_from_private,
    .signing_key_type = signing_key_type,
    .signing_key_matches_cert = signing_key_matches_cert,
    .signing_key_import = signing_key_import,
    .sign = sign,
    .signing_key_free = signing_key_free,
    .verify = verify,
    .verify_spki = verify_spki,
};
