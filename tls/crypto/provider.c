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

/* ---- routes ---------------------------------------------------------------------- */

static const tls_crypto_routes mbedtls_only = {
    .name = "mbedtls",
    .hash = {&tls__crypto_mbedtls, &tls__crypto_mbedtls, &tls__crypto_mbedtls},
    .aead = {&tls__crypto_mbedtls, &tls__crypto_mbedtls, &tls__crypto_mbedtls},
    .x25519 = &tls__crypto_mbedtls,
    .secp256r1 = &tls__crypto_mbedtls,
    .secp384r1 = &tls__crypto_mbedtls,
    .sign = {&tls__crypto_mbedtls, &tls__crypto_mbedtls, &tls__crypto_mbedtls},
    .parse = &tls__crypto_mbedtls,
};

#ifdef MOAT_CRYPTO_FAST
/* The fastest back end per algorithm, from bench/primitives on this project's
 * machines (bench/results/primitives.md has the figures; docs/crypto.md the reasons). */
static const tls_crypto_routes fastest = {
    .name = "default",
    .hash = {&tls__crypto_nettle, &tls__crypto_nettle, &tls__crypto_nettle},
    .aead = {[TLS_AEAD_AES_128_GCM] = &tls__crypto_gcrypt,
             [TLS_AEAD_AES_256_GCM] = &tls__crypto_gcrypt,
             [TLS_AEAD_CHACHA20_POLY1305] = &tls__crypto_gcrypt},
    .x25519 = &tls__crypto_sodium,
    .secp256r1 = &tls__crypto_nettle,
    .secp384r1 = &tls__crypto_nettle,
    /* RSA stays with mbedTLS: nettle signs only ~10% faster, not worth a second path. */
    .sign = {[TLS_KEY_RSA] = &tls__crypto_mbedtls,
             [TLS_KEY_ECDSA_P256] = &tls__crypto_nettle,
             [TLS_KEY_ECDSA_P384] = &tls__crypto_nettle},
    .parse = &tls__crypto_mbedtls,
};
#endif

static pthread_once_t routes_once = PTHREAD_ONCE_INIT;
static const tls_crypto_routes *routes;

static void select_routes(void)
{
    routes = &mbedtls_only;
#ifdef MOAT_CRYPTO_FAST
    const char *want = getenv("MOAT_CRYPTO");
    if (want && strcmp(want, "mbedtls") == 0)
        return;
    /* A library that fails to initialise leaves the complete mbedTLS baseline. */
    if (tls__crypto_gcrypt_init() && tls__crypto_sodium_init())
        routes = &fastest;
#endif
}

void tls__crypto_init(void)
{
    /* pthread_once only fails on invalid arguments, which would be our bug. */
    if (pthread_once(&routes_once, select_routes) != 0)
        abort();
}

const tls_crypto_routes *tls__crypto(void)
{
    tls__crypto_init();
    return routes;
}

const tls_crypto_provider *tls__crypto_for_group(uint16_t group)
{
    const tls_crypto_routes *r = tls__crypto();
    switch (group) {
    case TLS_GROUP_X25519:
        return r->x25519;
    case TLS_GROUP_SECP256R1:
        return r->secp256r1;
    case TLS_GROUP_SECP384R1:
        return r->secp384r1;
    default:
        return NULL;
    }
}

static const tls_crypto_provider *hash_backend(tls_hash_id id)
{
    if ((unsigned)id >= 3)
        abort(); /* not a tls_hash_id: a caller bug */
    return tls__crypto()->hash[id];
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
    const tls_crypto_provider *b = hash_backend(id);
    b->hash_init(ctx, id);
    ctx->id = id;
    ctx->impl = b;
}

void tls__hash_update(tls_hash_ctx *ctx, const uint8_t *data, size_t len)
{
    ctx->impl->hash_update(ctx, data, len);
}

void tls__hash_final(tls_hash_ctx *ctx, uint8_t *out)
{
    ctx->impl->hash_final(ctx, out);
}

void tls__hash_clone(tls_hash_ctx *dst, const tls_hash_ctx *src)
{
    src->impl->hash_clone(dst, src);
    dst->id = src->id;
    dst->impl = src->impl;
}

void tls__hash_clear(tls_hash_ctx *ctx)
{
    /* A context never initialised (impl NULL) holds nothing to wipe but its bytes. */
    if (ctx->impl)
        ctx->impl->hash_clear(ctx);
    else
        tls__wipe(ctx->opaque, sizeof ctx->opaque);
}

void tls__hash(tls_hash_id id, const uint8_t *data, size_t len, uint8_t *out)
{
    tls_hash_ctx ctx;
    tls__hash_init(&ctx, id);
    tls__hash_update(&ctx, data, len);
    tls__hash_final(&ctx, out);
}

tls_error tls__hmac_parts(tls_hash_id id, const uint8_t *key, size_t key_len,
                          const uint8_t *const *parts, const size_t *part_lens, size_t n_parts,
                          uint8_t *out)
{
    return hash_backend(id)->hmac(id, key, key_len, parts, part_lens, n_parts, out);
}

tls_error tls__hmac(tls_hash_id id, const uint8_t *key, size_t key_len, const uint8_t *msg,
                    size_t msg_len, uint8_t *out)
{
    const uint8_t *parts[1] = {msg};
    const size_t lens[1] = {msg_len};
    return tls__hmac_parts(id, key, key_len, parts, lens, 1, out);
}

tls_error tls__hkdf_extract(tls_hash_id id, const uint8_t *salt, size_t salt_len,
                            const uint8_t *ikm, size_t ikm_len, uint8_t *prk)
{
    return hash_backend(id)->hkdf_extract(id, salt, salt_len, ikm, ikm_len, prk);
}

tls_error tls__hkdf_expand(tls_hash_id id, const uint8_t *prk, size_t prk_len, const uint8_t *info,
                           size_t info_len, uint8_t *out, size_t out_len)
{
    return hash_backend(id)->hkdf_expand(id, prk, prk_len, info, info_len, out, out_len);
}

/* ---- AEAD --------------------------------------------------------------------------- */

tls_error tls__aead_new(tls_aead_id id, const uint8_t *key, size_t key_len, tls_aead **out)
{
    *out = NULL;
    if ((unsigned)id >= 3)
        return TLS_ERR_INVALID_ARGUMENT;
    const tls_crypto_provider *b = tls__crypto()->aead[id];
    tls_error err = b->aead_new(id, key, key_len, out);
    if (err == TLS_OK)
        (*out)->impl = b;
    return err;
}

tls_error tls__aead_seal(tls_aead *aead, const uint8_t nonce[12], const uint8_t *aad,
                         size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    return aead->impl->aead_seal(aead, nonce, aad, aad_len, in, in_len, out);
}

tls_error tls__aead_open(tls_aead *aead, const uint8_t nonce[12], const uint8_t *aad,
                         size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    return aead->impl->aead_open(aead, nonce, aad, aad_len, in, in_len, out);
}

void tls__aead_free(tls_aead *aead)
{
    if (aead)
        aead->impl->aead_free(aead);
}

/* ---- key exchange ------------------------------------------------------------------- */

tls_error tls__kx_new(uint16_t group, tls_kx **out)
{
    *out = NULL;
    const tls_crypto_provider *b = tls__crypto_for_group(group);
    if (!b)
        return TLS_ERR_CONFIG;
    tls_error err = b->kx_new(group, out);
    if (err == TLS_OK)
        (*out)->impl = b;
    return err;
}

tls_error tls__kx_new_from_private(uint16_t group, const uint8_t *priv, size_t len, tls_kx **out)
{
    *out = NULL;
    const tls_crypto_provider *b = tls__crypto_for_group(group);
    if (!b)
        return TLS_ERR_CONFIG;
    if (!b->kx_new_from_private)
        return TLS_ERR_INTERNAL;
    tls_error err = b->kx_new_from_private(group, priv, len, out);
    if (err == TLS_OK)
        (*out)->impl = b;
    return err;
}

tls_error tls__kx_public(const tls_kx *kx, uint8_t *out, size_t cap, size_t *len)
{
    return kx->impl->kx_public(kx, out, cap, len);
}

tls_error tls__kx_agree(tls_kx *kx, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                        size_t cap, size_t *len)
{
    return kx->impl->kx_agree(kx, peer, peer_len, secret, cap, len);
}

void tls__kx_free(tls_kx *kx)
{
    if (kx)
        kx->impl->kx_free(kx);
}

/* ---- signatures --------------------------------------------------------------------- */

/* The key as parsed (type, certificate match) and, when another back end signs this
 * type faster, the same key imported there. */
struct tls_signing_key {
    tls_key_type type;
    const tls_crypto_provider *parser, *signer;
    tls_backend_key *parsed;
    tls_backend_key *signing; /* == parsed when signer == parser */
};

void tls__signing_key_free(tls_signing_key *key)
{
    if (!key)
        return;
    if (key->signing && key->signing != key->parsed)
        key->signer->signing_key_free(key->signing);
    if (key->parsed)
        key->parser->signing_key_free(key->parsed);
    tls__wipe(key, sizeof *key);
    tls__free(key, sizeof *key);
}

/* Imports the parsed key into the back end that signs its type fastest. */
static tls_error import_for_signing(tls_signing_key *key)
{
    const tls_crypto_provider *signer = tls__crypto()->sign[key->type];
    if (signer == key->parser || !signer->signing_key_import || !key->parser->signing_key_export)
        return TLS_OK;
    uint8_t priv[TLS_MAX_KX_SECRET_LEN];
    size_t n = 0;
    tls_error err = key->parser->signing_key_export(key->parsed, priv, sizeof priv, &n);
    if (err == TLS_OK)
        err = signer->signing_key_import(key->type, priv, n, &key->signing);
    tls__wipe(priv, sizeof priv);
    if (err == TLS_OK)
        key->signer = signer;
    return err;
}

tls_error tls__signing_key_parse(const uint8_t *der_or_pem, size_t len, tls_signing_key **out)
{
    *out = NULL;
    tls_signing_key *key = tls__calloc(sizeof *key);
    if (!key)
        return TLS_ERR_NO_MEMORY;
    key->parser = key->signer = tls__crypto()->parse;
    tls_error err = key->parser->signing_key_parse(der_or_pem, len, &key->parsed);
    if (err == TLS_OK) {
        key->type = key->parser->signing_key_type(key->parsed);
        key->signing = key->parsed;
        err = import_for_signing(key);
    }
    if (err != TLS_OK) {
        tls__signing_key_free(key);
        return err;
    }
    *out = key;
    return TLS_OK;
}

tls_key_type tls__signing_key_type(const tls_signing_key *key)
{
    return key->type;
}

bool tls__signing_key_matches_cert(const tls_signing_key *key, const uint8_t *cert_der,
                                   size_t cert_len)
{
    return key->parser->signing_key_matches_cert(key->parsed, cert_der, cert_len);
}

tls_error tls__sign(const tls_signing_key *key, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                    uint8_t *sig, size_t cap, size_t *sig_len)
{
    return key->signer->sign(key->signing, scheme, msg, msg_len, sig, cap, sig_len);
}

tls_error tls__verify(const uint8_t *cert_der, size_t cert_len, uint16_t scheme, const uint8_t *msg,
                      size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    return tls__crypto()->parse->verify(cert_der, cert_len, scheme, msg, msg_len, sig, sig_len);
}

tls_error tls__random(uint8_t *buf, size_t len)
{
    return tls__crypto_mbedtls.random(buf, len); /* getrandom(2), whatever the routes */
}

tls_error tls__verify_spki(const uint8_t *spki, size_t spki_len, tls_x509_sig_kind kind,
                           tls_hash_id hash, const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                           size_t sig_len)
{
    const tls_crypto_provider *p = tls__crypto()->parse;
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
