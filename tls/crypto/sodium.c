/*
 * sodium.c — the libsodium back end: X25519 key exchange.
 *
 * libsodium 1.0.18's X25519 is the fastest on this project's machines (about 1.6×
 * nettle's, 15× mbedTLS's; bench/results/primitives.md), and a TLS 1.3 handshake does
 * two of them per side, resumptions included (psk_dhe_ke). Every other slot is NULL.
 *
 * Implementation notes:
 * - tls__crypto_sodium_init (provider.c, once, inside its pthread_once) runs
 *   sodium_init, which picks the CPU-specific implementation.
 * - Private keys are 32 random bytes from getrandom(2); crypto_scalarmult clamps
 *   them (RFC 7748 §5), so the stored scalar is the raw one, as RFC 7748 prints its
 *   test keys. crypto_scalarmult masks the peer's top bit and fails on an all-zero
 *   result (a small-order point), which is the check RFC 8446 §7.4.2 asks for.
 * - Secrets (the scalar, the shared secret on failure) are wiped with tls__wipe.
 */
#include "crypto.h"

#include <sodium.h>

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

const tls_crypto_provider tls__crypto_sodium = {
    .name = "sodium",
    .kx_new = kx_new,
    .kx_public = kx_public,
    .kx_agree = kx_agree,
    .kx_free = kx_free,
    .kx_new_from_private = kx_new_from_private,
};
