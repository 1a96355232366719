/*
 * provider.c — provider selection, the tls__* dispatch wrappers, constant-time helpers
 * and the engine's allocation hook (see crypto.h for the contract).
 *
 * Implementation notes:
 * - The provider pointer is written once, inside pthread_once, and only read after.
 *   Every wrapper goes through tls__crypto(), which runs the pthread_once itself, so no
 *   caller needs an explicit init call; after the first call pthread_once is an acquire
 *   load, cheap enough for per-record use.
 * - The allocator table is the one other static. tls_set_allocator() is documented as
 *   "set once, before any other call": it is not synchronised, and swapping allocators
 *   while objects are live would hand blocks to the wrong free.
 */
#include "crypto.h"

#include <mbedtls/constant_time.h>
#include <mbedtls/platform_util.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

/* ---- provider selection ---------------------------------------------------------- */

static pthread_once_t provider_once = PTHREAD_ONCE_INIT;
static const tls_crypto_provider *provider;

static void select_default_provider(void)
{
    provider = &tls__crypto_mbedtls;
}

void tls__crypto_init(void)
{
    /* pthread_once only fails on invalid arguments, which would be our bug. */
    if (pthread_once(&provider_once, select_default_provider) != 0)
        abort();
}

const tls_crypto_provider *tls__crypto(void)
{
    tls__crypto_init();
    return provider;
}

/* ---- sizes -------------------------------------------------------------------------- */

size_t tls__hash_len(tls_hash_id id)
{
    switch (id) {
    case TLS_HASH_SHA256:
        return 32;
    case TLS_HASH_SHA384:
        return 48;
    case TLS_HASH_SHA512:
        return 64;
    default:
        abort(); /* not a tls_hash_id: a caller bug, and a wrong length would be worse */
    }
}

size_t tls__aead_key_len(tls_aead_id id)
{
    switch (id) {
    case TLS_AEAD_AES_128_GCM:
        return 16;
    case TLS_AEAD_AES_256_GCM:
    case TLS_AEAD_CHACHA20_POLY1305:
        return 32;
    default:
        abort();
    }
}

/* ---- hashes ------------------------------------------------------------------------- */

void tls__hash_init(tls_hash_ctx *ctx, tls_hash_id id)
{
    tls__crypto()->hash_init(ctx, id);
}

void tls__hash_update(tls_hash_ctx *ctx, const uint8_t *data, size_t len)
{
    tls__crypto()->hash_update(ctx, data, len);
}

void tls__hash_final(tls_hash_ctx *ctx, uint8_t *out)
{
    tls__crypto()->hash_final(ctx, out);
}

void tls__hash_clone(tls_hash_ctx *dst, const tls_hash_ctx *src)
{
    tls__crypto()->hash_clone(dst, src);
}

void tls__hash_clear(tls_hash_ctx *ctx)
{
    tls__crypto()->hash_clear(ctx);
}

void tls__hash(tls_hash_id id, const uint8_t *data, size_t len, uint8_t *out)
{
    const tls_crypto_provider *p = tls__crypto();
    tls_hash_ctx ctx;
    p->hash_init(&ctx, id);
    p->hash_update(&ctx, data, len);
    p->hash_final(&ctx, out);
}

tls_error tls__hmac(tls_hash_id id, const uint8_t *key, size_t key_len, const uint8_t *msg,
                    size_t msg_len, uint8_t *out)
{
    const uint8_t *parts[1] = {msg};
    const size_t lens[1] = {msg_len};
    return tls__crypto()->hmac(id, key, key_len, parts, lens, 1, out);
}

tls_error tls__hkdf_extract(tls_hash_id id, const uint8_t *salt, size_t salt_len,
                            const uint8_t *ikm, size_t ikm_len, uint8_t *prk)
{
    return tls__crypto()->hkdf_extract(id, salt, salt_len, ikm, ikm_len, prk);
}

tls_error tls__hkdf_expand(tls_hash_id id, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                           size_t info_len, uint8_t *out, size_t out_len)
{
    return tls__crypto()->hkdf_expand(id, prk, prk_len, info, info_len, out, out_len);
}

/* ---- AEAD --------------------------------------------------------------------------- */

tls_error tls__aead_new(tls_aead_id id, const uint8_t *key, size_t key_len, tls_aead **out)
{
    return tls__crypto()->aead_new(id, key, key_len, out);
}

tls_error tls__aead_seal(tls_aead *aead, const uint8_t nonce[12], const uint8_t *aad,
                         size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    return tls__crypto()->aead_seal(aead, nonce, aad, aad_len, in, in_len, out);
}

tls_error tls__aead_open(tls_aead *aead, const uint8_t nonce[12], const uint8_t *aad,
                         size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    return tls__crypto()->aead_open(aead, nonce, aad, aad_len, in, in_len, out);
}

void tls__aead_free(tls_aead *aead)
{
    if (aead)
        tls__crypto()->aead_free(aead);
}

/* ---- key exchange ------------------------------------------------------------------- */

tls_error tls__kx_new(uint16_t group, tls_kx **out)
{
    return tls__crypto()->kx_new(group, out);
}

tls_error tls__kx_new_from_private(uint16_t group, const uint8_t *priv, size_t len, tls_kx **out)
{
    const tls_crypto_provider *p = tls__crypto();
    if (!p->kx_new_from_private)
        return TLS_ERR_INTERNAL;
    return p->kx_new_from_private(group, priv, len, out);
}

tls_error tls__kx_public(const tls_kx *kx, uint8_t *out, size_t cap, size_t *len)
{
    return tls__crypto()->kx_public(kx, out, cap, len);
}

tls_error tls__kx_agree(tls_kx *kx, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                        size_t cap, size_t *len)
{
    return tls__crypto()->kx_agree(kx, peer, peer_len, secret, cap, len);
}

void tls__kx_free(tls_kx *kx)
{
    if (kx)
        tls__crypto()->kx_free(kx);
}

/* ---- signatures --------------------------------------------------------------------- */

tls_error tls__signing_key_parse(const uint8_t *key, size_t len, tls_signing_key **out)
{
    return tls__crypto()->signing_key_parse(key, len, out);
}

tls_key_type tls__signing_key_type(const tls_signing_key *key)
{
    return tls__crypto()->signing_key_type(key);
}

bool tls__signing_key_matches_cert(const tls_signing_key *key, const uint8_t *cert_der,
                                   size_t cert_len)
{
    return tls__crypto()->signing_key_matches_cert(key, cert_der, cert_len);
}

tls_error tls__sign(const tls_signing_key *key, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                    uint8_t *sig, size_t cap, size_t *sig_len)
{
    return tls__crypto()->sign(key, scheme, msg, msg_len, sig, cap, sig_len);
}

void tls__signing_key_free(tls_signing_key *key)
{
    if (key)
        tls__crypto()->signing_key_free(key);
}

tls_error tls__verify(const uint8_t *cert_der, size_t cert_len, uint16_t scheme, const uint8_t *msg,
                      size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    return tls__crypto()->verify(cert_der, cert_len, scheme, msg, msg_len, sig, sig_len);
}

tls_error tls__random(uint8_t *buf, size_t len)
{
    return tls__crypto()->random(buf, len);
}

tls_error tls__verify_spki(const uint8_t *spki, size_t spki_len, tls_x509_sig_kind kind,
                           tls_hash_id hash, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                           size_t sig_len)
{
    const tls_crypto_provider *p = tls__crypto();
    if (!p->verify_spki)
        return TLS_ERR_INTERNAL;
    return p->verify_spki(spki, spki_len, kind, hash, msg, msg_len, sig, sig_len);
}

/* ---- constant time and wiping ------------------------------------------------------- */

bool tls__ct_equal(const uint8_t *a, const uint8_t *b, size_t len)
{
    return mbedtls_ct_memcmp(a, b, len) == 0;
}

void tls__wipe(void *p, size_t len)
{
    if (p && len)
        mbedtls_platform_zeroize(p, len);
}

/* ---- allocation --------------------------------------------------------------------- */

static void *default_alloc(void *arg, size_t size)
{
    (void)arg;
    return malloc(size);
}

static void default_free(void *arg, void *ptr, size_t size)
{
    (void)arg;
    (void)size;
    free(ptr);
}

static tls_allocator allocator = {default_alloc, default_free, NULL};

void tls_set_allocator(const tls_allocator *a)
{
    if (a && a->alloc && a->free) {
        allocator = *a;
    } else {
        /* NULL (or a half-filled table) restores malloc/free. */
        allocator.alloc = default_alloc;
        allocator.free = default_free;
        allocator.arg = NULL;
    }
}

void *tls__alloc(size_t size)
{
    /* size 0 gets a real block (malloc(0) may return NULL, which callers read as OOM). */
    return allocator.alloc(allocator.arg, size ? size : 1);
}

void *tls__calloc(size_t size)
{
    void *p = tls__alloc(size);
    if (p)
        memset(p, 0, size ? size : 1);
    return p;
}

void tls__free(void *p, size_t size)
{
    if (p)
        allocator.free(allocator.arg, p, size ? size : 1);
}
