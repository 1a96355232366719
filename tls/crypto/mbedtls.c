/*
 * mbedtls.c — the crypto provider over mbedTLS 2.28 (libmbedcrypto and libmbedx509
 * only; its TLS layer is never used).
 *
 * Implementation notes:
 *
 * - Randomness. Every f_rng handed to mbedTLS (key generation, ECDSA and RSA
 *   blinding, ECDH blinding) is rng_getrandom(), backed by getrandom(2). There is no
 *   DRBG, so no shared RNG state and no per-call mutex; the module has no global
 *   mutable state at all.
 *
 * - Signing keys are shared by every connection on every thread, but no mbedTLS key
 *   context is safe for concurrent private operations, and "reading" a key writes to
 *   it: an ECP group caches its fixed-base comb table (grp->T) on the first
 *   multiplication by G, an RSA private operation updates the blinding pair (Vi, Vf)
 *   and the Montgomery caches (RN, RP, RQ), and the RSA padding mode and MGF1 hash are
 *   fields of the context (mbedtls_rsa_set_padding). So the parsed key (`pk`) is
 *   frozen after parsing: only read (export, mpi_copy, check_pair), never used to
 *   sign. Each signature borrows a private working context from the key's pool (mutex
 *   held only to pop or push a pointer), sets the padding it needs, signs, and gives
 *   it back. A pooled context keeps its warm comb table and blinding values, which
 *   roughly halves ECDSA signing cost against building a context per signature
 *   (measured here: P-256 2,900/s warm vs 1,370/s cold). A new working context is
 *   built from the key material (rsa_export + rsa_import + rsa_complete, or
 *   ecp_group_load + mpi_copy), never with mbedtls_rsa_copy, which would duplicate
 *   the blinding values into two contexts. A mutex around one shared context was
 *   rejected: mbedtls_rsa_private already holds the context mutex for the whole
 *   operation, which serialises every RSA handshake of a key onto one core.
 *
 * - AEAD in place. mbedTLS 2.28 documents in-place GCM encryption but forbids
 *   in-place GCM decryption ("the output buffer cannot be the same as input
 *   buffer"), and ChaCha20-Poly1305 says nothing. So when in and out overlap, data is
 *   processed in chunks through a stack buffer: each chunk is read from `in` before
 *   its bytes of `out` are written, which is safe for out == in (and out below in).
 *   Disjoint buffers go straight through. open() compares the tag with
 *   mbedtls_ct_memcmp and wipes `out` on any failure.
 *
 * - tls_hash_ctx.opaque holds the mbedtls SHA context. Only libmbedcrypto (a separate
 *   library, never inlined here) accesses it through the context type; this file
 *   copies it with memcpy, so there is no aliasing hazard in our code.
 *
 * - Allocations: our objects go through tls__alloc. mbedTLS's own allocations (MPIs,
 *   the GCM cipher context, HMAC pads) use its calloc/free: Debian builds it without
 *   MBEDTLS_PLATFORM_MEMORY, so they cannot be routed through the hook.
 */
#include "crypto.h"

#include <mbedtls/chachapoly.h>
#include <mbedtls/constant_time.h>
#include <mbedtls/ecdh.h>
#include <mbedtls/ecdsa.h>
#include <mbedtls/ecp.h>
#include <mbedtls/entropy.h>
#include <mbedtls/gcm.h>
#include <mbedtls/hkdf.h>
#include <mbedtls/md.h>
#include <mbedtls/pk.h>
#include <mbedtls/rsa.h>
#include <mbedtls/sha256.h>
#include <mbedtls/sha512.h>
#include <mbedtls/x509_crt.h>

#include <assert.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/random.h>

static_assert(sizeof(mbedtls_sha256_context) <= sizeof(((tls_hash_ctx *)0)->opaque),
              "tls_hash_ctx.opaque too small for mbedtls_sha256_context");
static_assert(sizeof(mbedtls_sha512_context) <= sizeof(((tls_hash_ctx *)0)->opaque),
              "tls_hash_ctx.opaque too small for mbedtls_sha512_context");
static_assert(alignof(mbedtls_sha256_context) <= 16 && alignof(mbedtls_sha512_context) <= 16,
              "tls_hash_ctx.opaque under-aligned");

/* Idle working contexts a signing key keeps; more concurrent signers just build and
 * free their own. Above the worker-thread count this would only waste memory. */
#define SIGN_POOL_MAX 64

/* Chunk for overlapping AEAD input/output; a multiple of 16 as GCM's update needs. */
#define AEAD_CHUNK 1024

/* ---- errors and randomness ----------------------------------------------------------- */

/* mbedTLS error codes are a high-level part (bits 7..14) plus a low-level part (0..6). */
static bool is_alloc_failure(int ret)
{
    int high = -((-ret) & 0x7F80), low = -((-ret) & 0x007F);
    return high == MBEDTLS_ERR_MD_ALLOC_FAILED || high == MBEDTLS_ERR_CIPHER_ALLOC_FAILED ||
           high == MBEDTLS_ERR_PK_ALLOC_FAILED || high == MBEDTLS_ERR_ECP_ALLOC_FAILED ||
           high == MBEDTLS_ERR_X509_ALLOC_FAILED || low == MBEDTLS_ERR_MPI_ALLOC_FAILED ||
           low == MBEDTLS_ERR_ASN1_ALLOC_FAILED;
}

static tls_error from_mbedtls(int ret)
{
    if (ret == 0)
        return TLS_OK;
    return is_alloc_failure(ret) ? TLS_ERR_NO_MEMORY : TLS_ERR_CRYPTO;
}

static tls_error random_bytes(uint8_t *buf, size_t len)
{
    while (len > 0) {
        ssize_t n = getrandom(buf, len, 0);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return TLS_ERR_CRYPTO;
        buf += n;
        len -= (size_t)n;
    }
    return TLS_OK;
}

/* The f_rng for every mbedTLS call: stateless, so safe on any thread. */
static int rng_getrandom(void *unused, unsigned char *buf, size_t len)
{
    (void)unused;
    return random_bytes(buf, len) == TLS_OK ? 0 : MBEDTLS_ERR_ENTROPY_SOURCE_FAILED;
}

static const mbedtls_md_info_t *md_for(tls_hash_id id)
{
    switch (id) {
    case TLS_HASH_SHA256:
        return mbedtls_md_info_from_type(MBEDTLS_MD_SHA256);
    case TLS_HASH_SHA384:
        return mbedtls_md_info_from_type(MBEDTLS_MD_SHA384);
    case TLS_HASH_SHA512:
        return mbedtls_md_info_from_type(MBEDTLS_MD_SHA512);
    default:
        return NULL;
    }
}

/* ---- streaming hashes ---------------------------------------------------------------- */

/* Software SHA cannot fail on valid arguments; a failure here is our bug. */
static void must(int ret)
{
    if (ret != 0)
        abort();
}

static void hash_init(tls_hash_ctx *ctx, tls_hash_id id)
{
    ctx->id = id;
    switch (id) {
    case TLS_HASH_SHA256: {
        mbedtls_sha256_context *c = (mbedtls_sha256_context *)(void *)ctx->opaque;
        mbedtls_sha256_init(c);
        must(mbedtls_sha256_starts_ret(c, 0));
        break;
    }
    case TLS_HASH_SHA384:
    case TLS_HASH_SHA512: {
        mbedtls_sha512_context *c = (mbedtls_sha512_context *)(void *)ctx->opaque;
        mbedtls_sha512_init(c);
        must(mbedtls_sha512_starts_ret(c, id == TLS_HASH_SHA384));
        break;
    }
    default:
        abort();
    }
}

static void hash_update(tls_hash_ctx *ctx, const uint8_t *data, size_t len)
{
    if (len == 0)
        return;
    switch (ctx->id) {
    case TLS_HASH_SHA256:
        must(mbedtls_sha256_update_ret((mbedtls_sha256_context *)(void *)ctx->opaque, data, len));
        break;
    case TLS_HASH_SHA384:
    case TLS_HASH_SHA512:
        must(mbedtls_sha512_update_ret((mbedtls_sha512_context *)(void *)ctx->opaque, data, len));
        break;
    default:
        abort();
    }
}

static void hash_clear(tls_hash_ctx *ctx)
{
    tls__wipe(ctx->opaque, sizeof ctx->opaque);
}

static void hash_final(tls_hash_ctx *ctx, uint8_t *out)
{
    switch (ctx->id) {
    case TLS_HASH_SHA256:
        must(mbedtls_sha256_finish_ret((mbedtls_sha256_context *)(void *)ctx->opaque, out));
        break;
    case TLS_HASH_SHA384: {
        /* SHA-384 is SHA-512's context; finish writes 64 bytes, we give out 48. */
        uint8_t full[64];
        must(mbedtls_sha512_finish_ret((mbedtls_sha512_context *)(void *)ctx->opaque, full));
        memcpy(out, full, 48);
        tls__wipe(full, sizeof full);
        break;
    }
    case TLS_HASH_SHA512:
        must(mbedtls_sha512_finish_ret((mbedtls_sha512_context *)(void *)ctx->opaque, out));
        break;
    default:
        abort();
    }
    hash_clear(ctx);
}

static void hash_clone(tls_hash_ctx *dst, const tls_hash_ctx *src)
{
    /* The SHA contexts are plain data (mbedtls_sha*_clone is a struct assignment). */
    if (dst != src)
        memcpy(dst, src, sizeof *dst);
}

/* ---- HMAC and HKDF ------------------------------------------------------------------- */

static tls_error hmac(tls_hash_id id, const uint8_t *key, size_t key_len,
                      const uint8_t *const *parts, const size_t *part_lens, size_t n_parts,
                      uint8_t *out)
{
    const mbedtls_md_info_t *md = md_for(id);
    if (!md)
        return TLS_ERR_INVALID_ARGUMENT;
    mbedtls_md_context_t c;
    mbedtls_md_init(&c);
    int ret = mbedtls_md_setup(&c, md, 1);
    if (ret == 0)
        ret = mbedtls_md_hmac_starts(&c, key, key_len);
    for (size_t i = 0; ret == 0 && i < n_parts; i++) {
        if (part_lens[i] > 0)
            ret = mbedtls_md_hmac_update(&c, parts[i], part_lens[i]);
    }
    if (ret == 0)
        ret = mbedtls_md_hmac_finish(&c, out);
    mbedtls_md_free(&c); /* wipes the pads and the inner hash state */
    if (ret != 0)
        tls__wipe(out, mbedtls_md_get_size(md));
    return from_mbedtls(ret);
}

static tls_error hkdf_extract(tls_hash_id id, const uint8_t *salt, size_t salt_len,
                              const uint8_t *ikm, size_t ikm_len, uint8_t *prk)
{
    const mbedtls_md_info_t *md = md_for(id);
    if (!md)
        return TLS_ERR_INVALID_ARGUMENT;
    /* RFC 5869 §2.2: an absent salt is HashLen zeros; mbedTLS does that for salt NULL. */
    return from_mbedtls(
        mbedtls_hkdf_extract(md, salt_len ? salt : NULL, salt_len, ikm, ikm_len, prk));
}

static tls_error hkdf_expand(tls_hash_id id, const uint8_t *prk, size_t prk_len,
                             const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    const mbedtls_md_info_t *md = md_for(id);
    if (!md)
        return TLS_ERR_INVALID_ARGUMENT;
    /* RFC 5869 §2.3: L <= 255 * HashLen, and the PRK is at least HashLen bytes. */
    if (out_len == 0 || out_len > 255u * mbedtls_md_get_size(md) ||
        prk_len < mbedtls_md_get_size(md))
        return TLS_ERR_INVALID_ARGUMENT;
    return from_mbedtls(mbedtls_hkdf_expand(md, prk, prk_len, info, info_len, out, out_len));
}

/* ---- AEAD ---------------------------------------------------------------------------- */

typedef struct {
    tls_aead base; /* first: the provider hands us tls_aead pointers */
    tls_aead_id id;
    union {
        mbedtls_gcm_context gcm;
        mbedtls_chachapoly_context chachapoly;
    } u;
} mbed_aead;

static void aead_free(mbed_aead *a)
{
    if (!a)
        return;
    if (a->id == TLS_AEAD_CHACHA20_POLY1305)
        mbedtls_chachapoly_free(&a->u.chachapoly);
    else
        mbedtls_gcm_free(&a->u.gcm); /* wipes and frees the AES key schedule */
    tls__wipe(a, sizeof *a);
    tls__free(a, sizeof *a);
}

static tls_error aead_new(tls_aead_id id, const uint8_t *key, size_t key_len, tls_aead **out)
{
    *out = NULL;
    if (id != TLS_AEAD_AES_128_GCM && id != TLS_AEAD_AES_256_GCM &&
        id != TLS_AEAD_CHACHA20_POLY1305)
        return TLS_ERR_INVALID_ARGUMENT;
    if (key_len != tls__aead_key_len(id))
        return TLS_ERR_INVALID_ARGUMENT;
    mbed_aead *a = tls__calloc(sizeof *a);
    if (!a)
        return TLS_ERR_NO_MEMORY;
    a->id = id;
    int ret;
    if (id == TLS_AEAD_CHACHA20_POLY1305) {
        mbedtls_chachapoly_init(&a->u.chachapoly);
        ret = mbedtls_chachapoly_setkey(&a->u.chachapoly, key);
    } else {
        mbedtls_gcm_init(&a->u.gcm);
        ret = mbedtls_gcm_setkey(&a->u.gcm, MBEDTLS_CIPHER_ID_AES, key, (unsigned int)key_len * 8);
    }
    if (ret != 0) {
        aead_free(a);
        return from_mbedtls(ret);
    }
    *out = &a->base;
    return TLS_OK;
}

static int aead_starts(mbed_aead *a, bool encrypt, const uint8_t nonce[12], const uint8_t *aad,
                       size_t aad_len)
{
    if (a->id == TLS_AEAD_CHACHA20_POLY1305) {
        int ret = mbedtls_chachapoly_starts(&a->u.chachapoly, nonce,
                                            encrypt ? MBEDTLS_CHACHAPOLY_ENCRYPT
                                                    : MBEDTLS_CHACHAPOLY_DECRYPT);
        if (ret == 0 && aad_len > 0)
            ret = mbedtls_chachapoly_update_aad(&a->u.chachapoly, aad, aad_len);
        return ret;
    }
    return mbedtls_gcm_starts(&a->u.gcm, encrypt ? MBEDTLS_GCM_ENCRYPT : MBEDTLS_GCM_DECRYPT, nonce,
                              TLS_AEAD_NONCE_LEN, aad, aad_len);
}

static int aead_update(mbed_aead *a, const uint8_t *in, size_t len, uint8_t *out)
{
    if (a->id == TLS_AEAD_CHACHA20_POLY1305)
        return mbedtls_chachapoly_update(&a->u.chachapoly, len, in, out);
    return mbedtls_gcm_update(&a->u.gcm, len, in, out);
}

static int aead_finish(mbed_aead *a, uint8_t tag[16])
{
    if (a->id == TLS_AEAD_CHACHA20_POLY1305)
        return mbedtls_chachapoly_finish(&a->u.chachapoly, tag);
    return mbedtls_gcm_finish(&a->u.gcm, tag, TLS_AEAD_TAG_LEN);
}

/* Encrypts or decrypts len bytes; see the notes at the top for overlapping buffers. */
static tls_error aead_crypt(mbed_aead *a, const uint8_t *in, size_t len, uint8_t *out)
{
    if (len == 0)
        return TLS_OK;
    /* uintptr_t: comparing pointers into possibly different objects. */
    uintptr_t i = (uintptr_t)in, o = (uintptr_t)out;
    if (o + len <= i || i + len <= o)
        return from_mbedtls(aead_update(a, in, len, out));
    if (o > i)
        return TLS_ERR_INVALID_ARGUMENT; /* would overwrite input not yet read */
    uint8_t chunk[AEAD_CHUNK];
    int ret = 0;
    for (size_t off = 0; ret == 0 && off < len; off += AEAD_CHUNK) {
        size_t n = len - off < AEAD_CHUNK ? len - off : AEAD_CHUNK;
        ret = aead_update(a, in + off, n, chunk);
        if (ret == 0)
            memmove(out + off, chunk, n);
    }
    tls__wipe(chunk, sizeof chunk);
    return from_mbedtls(ret);
}

static tls_error aead_seal(mbed_aead *a, const uint8_t nonce[12], const uint8_t *aad,
                           size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    tls_error err = from_mbedtls(aead_starts(a, true, nonce, aad, aad_len));
    if (err == TLS_OK)
        err = aead_crypt(a, in, in_len, out);
    if (err == TLS_OK)
        err = from_mbedtls(aead_finish(a, out + in_len));
    return err;
}

static tls_error aead_open(mbed_aead *a, const uint8_t nonce[12], const uint8_t *aad,
                           size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    if (in_len < TLS_AEAD_TAG_LEN)
        return TLS_ERR_DECRYPT;
    size_t ct_len = in_len - TLS_AEAD_TAG_LEN;
    uint8_t tag[TLS_AEAD_TAG_LEN], expect[TLS_AEAD_TAG_LEN];
    memcpy(tag, in + ct_len, sizeof tag); /* before out (maybe == in) is written */

    tls_error err = from_mbedtls(aead_starts(a, false, nonce, aad, aad_len));
    if (err == TLS_OK)
        err = aead_crypt(a, in, ct_len, out);
    if (err == TLS_OK)
        err = from_mbedtls(aead_finish(a, expect));
    if (err == TLS_OK && mbedtls_ct_memcmp(tag, expect, sizeof tag) != 0)
        err = TLS_ERR_DECRYPT;
    if (err != TLS_OK)
        tls__wipe(out, ct_len); /* unauthenticated plaintext never leaves */
    tls__wipe(expect, sizeof expect);
    return err;
}

/* ---- key exchange -------------------------------------------------------------------- */

typedef struct {
    tls_kx base; /* first: the provider hands us tls_kx pointers */
    uint16_t group;
    size_t share_len, secret_len;
    mbedtls_ecp_group grp; /* this object's own: mbedTLS groups cache tables on use */
    mbedtls_mpi d;
    mbedtls_ecp_point Q;
} mbed_kx;

static bool group_params(uint16_t group, mbedtls_ecp_group_id *id, size_t *share_len,
                         size_t *secret_len)
{
    switch (group) {
    case TLS_GROUP_X25519:
        *id = MBEDTLS_ECP_DP_CURVE25519;
        *secret_len = 32;
        *share_len = 32;
        return true;
    case TLS_GROUP_SECP256R1:
        *id = MBEDTLS_ECP_DP_SECP256R1;
        *secret_len = 32;
        *share_len = 1 + 2 * 32;
        return true;
    case TLS_GROUP_SECP384R1:
        *id = MBEDTLS_ECP_DP_SECP384R1;
        *secret_len = 48;
        *share_len = 1 + 2 * 48;
        return true;
    default:
        return false;
    }
}

static void kx_free(mbed_kx *kx)
{
    if (!kx)
        return;
    mbedtls_mpi_free(&kx->d); /* mbedtls_mpi_free wipes the limbs */
    mbedtls_ecp_point_free(&kx->Q);
    mbedtls_ecp_group_free(&kx->grp);
    tls__wipe(kx, sizeof *kx);
    tls__free(kx, sizeof *kx);
}

static tls_error kx_alloc(uint16_t group, mbed_kx **out)
{
    mbedtls_ecp_group_id id;
    size_t share_len, secret_len;
    *out = NULL;
    if (!group_params(group, &id, &share_len, &secret_len))
        return TLS_ERR_CONFIG;
    mbed_kx *kx = tls__calloc(sizeof *kx);
    if (!kx)
        return TLS_ERR_NO_MEMORY;
    kx->group = group;
    kx->share_len = share_len;
    kx->secret_len = secret_len;
    mbedtls_ecp_group_init(&kx->grp);
    mbedtls_mpi_init(&kx->d);
    mbedtls_ecp_point_init(&kx->Q);
    int ret = mbedtls_ecp_group_load(&kx->grp, id);
    if (ret != 0) {
        kx_free(kx);
        return from_mbedtls(ret);
    }
    *out = kx;
    return TLS_OK;
}

static tls_error kx_new(uint16_t group, mbed_kx **out)
{
    mbed_kx *kx;
    tls_error err = kx_alloc(group, &kx);
    if (err != TLS_OK)
        return err;
    /* For X25519 this draws a clamped scalar (RFC 7748 §5). */
    err = from_mbedtls(mbedtls_ecp_gen_keypair(&kx->grp, &kx->d, &kx->Q, rng_getrandom, NULL));
    if (err != TLS_OK) {
        kx_free(kx);
        return err;
    }
    *out = kx;
    return TLS_OK;
}

static tls_error kx_new_from_private(uint16_t group, const uint8_t *priv, size_t len, mbed_kx **out)
{
    mbed_kx *kx;
    tls_error err = kx_alloc(group, &kx);
    if (err != TLS_OK)
        return err;
    int ret;
    if (len != kx->secret_len) {
        err = TLS_ERR_INVALID_ARGUMENT;
        goto out;
    }
    if (group == TLS_GROUP_X25519) {
        /* RFC 7748 §5 decodeScalar25519; mbedTLS rejects unclamped Montgomery scalars. */
        uint8_t k[32];
        memcpy(k, priv, sizeof k);
        k[0] &= 248;
        k[31] &= 127;
        k[31] |= 64;
        ret = mbedtls_mpi_read_binary_le(&kx->d, k, sizeof k);
        tls__wipe(k, sizeof k);
    } else {
        ret = mbedtls_mpi_read_binary(&kx->d, priv, len);
    }
    if (ret != 0) {
        err = from_mbedtls(ret);
        goto out;
    }
    if (mbedtls_ecp_check_privkey(&kx->grp, &kx->d) != 0) {
        err = TLS_ERR_INVALID_ARGUMENT;
        goto out;
    }
    err = from_mbedtls(mbedtls_ecp_mul(&kx->grp, &kx->Q, &kx->d, &kx->grp.G, rng_getrandom, NULL));
out:
    if (err != TLS_OK) {
        kx_free(kx);
        return err;
    }
    *out = kx;
    return TLS_OK;
}

static tls_error kx_public(const mbed_kx *kx, uint8_t *out, size_t cap, size_t *len)
{
    size_t olen = 0;
    if (cap < kx->share_len)
        return TLS_ERR_INTERNAL; /* our buffer, our bug */
    /* Montgomery curves: the 32-byte little-endian u-coordinate; Weierstrass: 0x04||X||Y. */
    int ret = mbedtls_ecp_point_write_binary(&kx->grp, &kx->Q, MBEDTLS_ECP_PF_UNCOMPRESSED, &olen,
                                             out, cap);
    if (ret != 0)
        return from_mbedtls(ret);
    if (olen != kx->share_len)
        return TLS_ERR_INTERNAL;
    *len = olen;
    return TLS_OK;
}

static tls_error kx_agree(mbed_kx *kx, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                          size_t cap, size_t *len)
{
    /* RFC 8446 §4.2.8.2: exact length; uncompressed points only (legacy_form = 4). */
    if (peer_len != kx->share_len)
        return TLS_ERR_INVALID_KEY_SHARE;
    if (kx->group != TLS_GROUP_X25519 && peer[0] != 0x04)
        return TLS_ERR_INVALID_KEY_SHARE;
    if (cap < kx->secret_len)
        return TLS_ERR_INTERNAL;

    tls_error err = TLS_OK;
    mbedtls_ecp_point P;
    mbedtls_mpi z;
    mbedtls_ecp_point_init(&P);
    mbedtls_mpi_init(&z);
    int ret = mbedtls_ecp_point_read_binary(&kx->grp, &P, peer, peer_len);
    if (ret != 0) {
        err = is_alloc_failure(ret) ? TLS_ERR_NO_MEMORY : TLS_ERR_INVALID_KEY_SHARE;
        goto out;
    }
    /* On the curve, not the point at infinity; for X25519 also rejects the known
     * low-order u-coordinates. */
    if (mbedtls_ecp_check_pubkey(&kx->grp, &P) != 0) {
        err = TLS_ERR_INVALID_KEY_SHARE;
        goto out;
    }
    ret = mbedtls_ecdh_compute_shared(&kx->grp, &z, &P, &kx->d, rng_getrandom, NULL);
    if (ret != 0) {
        err = is_alloc_failure(ret)                ? TLS_ERR_NO_MEMORY
              : ret == MBEDTLS_ERR_ECP_INVALID_KEY ? TLS_ERR_INVALID_KEY_SHARE
                                                   : TLS_ERR_CRYPTO;
        goto out;
    }
    /* X25519: little-endian u (RFC 7748 §5); NIST curves: big-endian x, fixed length
     * (RFC 8446 §7.4.2). */
    if (kx->group == TLS_GROUP_X25519)
        ret = mbedtls_mpi_write_binary_le(&z, secret, kx->secret_len);
    else
        ret = mbedtls_mpi_write_binary(&z, secret, kx->secret_len);
    if (ret != 0) {
        err = from_mbedtls(ret);
        goto out;
    }
    if (kx->group == TLS_GROUP_X25519) {
        /* RFC 8446 §7.4.2 / RFC 7748 §6.1: reject the all-zero value. */
        uint8_t acc = 0;
        for (size_t i = 0; i < kx->secret_len; i++)
            acc |= secret[i];
        if (acc == 0) {
            err = TLS_ERR_INVALID_KEY_SHARE;
            goto out;
        }
    }
    *len = kx->secret_len;
out:
    if (err != TLS_OK)
        tls__wipe(secret, cap < kx->secret_len ? cap : kx->secret_len);
    mbedtls_mpi_free(&z);
    mbedtls_ecp_point_free(&P);
    return err;
}

/* ---- signing keys -------------------------------------------------------------------- */

/* A private working context: used by one signer at a time (see the notes at the top). */
typedef struct sign_ctx {
    struct sign_ctx *next;
    union {
        mbedtls_rsa_context rsa;
        mbedtls_ecdsa_context ec;
    } u;
} sign_ctx;

typedef struct {
    pthread_mutex_t lock;
    sign_ctx *idle;
    size_t n_idle;
} sign_pool;

typedef struct {
    tls_key_type type;
    mbedtls_pk_context pk; /* frozen after parsing: read, never used to sign */
    /* Behind a pointer so a const key can still lend contexts: the pool is a cache,
     * not part of the key's value. */
    sign_pool *pool;
} mbed_key;

static void sign_ctx_free(const mbed_key *key, sign_ctx *c)
{
    if (!c)
        return;
    if (key->type == TLS_KEY_RSA)
        mbedtls_rsa_free(&c->u.rsa); /* frees (and wipes) every MPI */
    else
        mbedtls_ecdsa_free(&c->u.ec);
    tls__wipe(c, sizeof *c);
    tls__free(c, sizeof *c);
}

static tls_error sign_ctx_new(const mbed_key *key, sign_ctx **out)
{
    sign_ctx *c = tls__calloc(sizeof *c);
    if (!c)
        return TLS_ERR_NO_MEMORY;
    int ret;
    if (key->type == TLS_KEY_RSA) {
        /* Rebuilt from N, P, Q, D, E so the new context starts with its own blinding. */
        enum { N, P, Q, D, E, N_PARAMS };
        mbedtls_mpi m[N_PARAMS];
        for (int i = 0; i < N_PARAMS; i++)
            mbedtls_mpi_init(&m[i]);
        mbedtls_rsa_init(&c->u.rsa, MBEDTLS_RSA_PKCS_V15, 0);
        ret = mbedtls_rsa_export(mbedtls_pk_rsa(key->pk), &m[N], &m[P], &m[Q], &m[D], &m[E]);
        if (ret == 0)
            ret = mbedtls_rsa_import(&c->u.rsa, &m[N], &m[P], &m[Q], &m[D], &m[E]);
        if (ret == 0)
            ret = mbedtls_rsa_complete(&c->u.rsa);
        for (int i = 0; i < N_PARAMS; i++)
            mbedtls_mpi_free(&m[i]); /* wipes */
    } else {
        const mbedtls_ecp_keypair *src = mbedtls_pk_ec(key->pk);
        mbedtls_ecdsa_init(&c->u.ec);
        ret = mbedtls_ecp_group_load(&c->u.ec.grp, src->grp.id);
        if (ret == 0)
            ret = mbedtls_mpi_copy(&c->u.ec.d, &src->d);
        if (ret == 0)
            ret = mbedtls_ecp_copy(&c->u.ec.Q, &src->Q);
    }
    if (ret != 0) {
        sign_ctx_free(key, c);
        return from_mbedtls(ret);
    }
    *out = c;
    return TLS_OK;
}

static tls_error sign_ctx_take(const mbed_key *key, sign_ctx **out)
{
    sign_pool *pool = key->pool;
    if (pthread_mutex_lock(&pool->lock) != 0)
        return TLS_ERR_INTERNAL;
    sign_ctx *c = pool->idle;
    if (c) {
        pool->idle = c->next;
        pool->n_idle--;
    }
    if (pthread_mutex_unlock(&pool->lock) != 0)
        abort(); /* we hold it: failing to unlock is unrecoverable */
    if (c) {
        c->next = NULL;
        *out = c;
        return TLS_OK;
    }
    return sign_ctx_new(key, out);
}

static void sign_ctx_give_back(const mbed_key *key, sign_ctx *c)
{
    sign_pool *pool = key->pool;
    if (pthread_mutex_lock(&pool->lock) != 0) {
        sign_ctx_free(key, c);
        return;
    }
    if (pool->n_idle < SIGN_POOL_MAX) {
        c->next = pool->idle;
        pool->idle = c;
        pool->n_idle++;
        c = NULL;
    }
    if (pthread_mutex_unlock(&pool->lock) != 0)
        abort();
    sign_ctx_free(key, c);
}

static void signing_key_free(mbed_key *key)
{
    if (!key)
        return;
    if (key->pool) {
        sign_ctx *c = key->pool->idle;
        while (c) {
            sign_ctx *next = c->next;
            sign_ctx_free(key, c);
            c = next;
        }
        pthread_mutex_destroy(&key->pool->lock);
        tls__free(key->pool, sizeof *key->pool);
    }
    mbedtls_pk_free(&key->pk); /* frees and wipes the key material */
    tls__wipe(key, sizeof *key);
    tls__free(key, sizeof *key);
}

/* Parse failures that mean "a key, but not one mbedTLS knows" rather than garbage. */
static bool is_unsupported_key_error(int ret)
{
    int high = -((-ret) & 0x7F80);
    return high == MBEDTLS_ERR_PK_UNKNOWN_PK_ALG || high == MBEDTLS_ERR_PK_UNKNOWN_NAMED_CURVE ||
           high == MBEDTLS_ERR_ECP_FEATURE_UNAVAILABLE;
}

static tls_error classify_key(const mbedtls_pk_context *pk, tls_key_type *type)
{
    switch (mbedtls_pk_get_type(pk)) {
    case MBEDTLS_PK_RSA: {
        size_t bits = mbedtls_pk_get_bitlen(pk);
        /* >= 2048 by policy; <= 8192 so a signature fits TLS_MAX_SIGNATURE_LEN. */
        if (bits < 2048 || bits > 8 * TLS_MAX_SIGNATURE_LEN)
            return TLS_ERR_KEY_UNSUPPORTED;
        *type = TLS_KEY_RSA;
        return TLS_OK;
    }
    case MBEDTLS_PK_ECKEY:
    case MBEDTLS_PK_ECDSA:
        switch (mbedtls_pk_ec(*pk)->grp.id) {
        case MBEDTLS_ECP_DP_SECP256R1:
            *type = TLS_KEY_ECDSA_P256;
            return TLS_OK;
        case MBEDTLS_ECP_DP_SECP384R1:
            *type = TLS_KEY_ECDSA_P384;
            return TLS_OK;
        default:
            return TLS_ERR_KEY_UNSUPPORTED;
        }
    default: /* ECDH-only keys, RSA-alt, anything else */
        return TLS_ERR_KEY_UNSUPPORTED;
    }
}

static tls_error signing_key_parse(const uint8_t *der_or_pem, size_t len, mbed_key **out)
{
    *out = NULL;
    mbed_key *key = tls__calloc(sizeof *key);
    if (!key)
        return TLS_ERR_NO_MEMORY;
    mbedtls_pk_init(&key->pk);
    tls_error err;
    int ret = mbedtls_pk_parse_key(&key->pk, der_or_pem, len, NULL, 0);
    if (ret != 0) {
        err = is_alloc_failure(ret)           ? TLS_ERR_NO_MEMORY
              : is_unsupported_key_error(ret) ? TLS_ERR_KEY_UNSUPPORTED
                                              : TLS_ERR_KEY_PARSE;
        goto out;
    }
    err = classify_key(&key->pk, &key->type);
    if (err != TLS_OK)
        goto out;
    key->pool = tls__calloc(sizeof *key->pool);
    if (!key->pool) {
        err = TLS_ERR_NO_MEMORY;
        goto out;
    }
    if (pthread_mutex_init(&key->pool->lock, NULL) != 0) {
        tls__free(key->pool, sizeof *key->pool);
        key->pool = NULL;
        err = TLS_ERR_NO_MEMORY;
        goto out;
    }
out:
    if (err != TLS_OK) {
        signing_key_free(key);
        return err;
    }
    *out = key;
    return TLS_OK;
}

static tls_key_type signing_key_type(const mbed_key *key)
{
    return key->type;
}

static bool signing_key_matches_cert(const mbed_key *key, const uint8_t *cert_der, size_t cert_len)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    /* check_pair only reads the private key (the EC check multiplies in its own copy of
     * the group), so it is safe on the shared key. */
    bool ok = mbedtls_x509_crt_parse_der(&crt, cert_der, cert_len) == 0 &&
              mbedtls_pk_check_pair(&crt.pk, &key->pk) == 0;
    mbedtls_x509_crt_free(&crt);
    return ok;
}

static tls_error signing_key_export(const mbed_key *key, uint8_t *out, size_t cap, size_t *len)
{
    if (key->type == TLS_KEY_RSA)
        return TLS_ERR_KEY_UNSUPPORTED;
    const mbedtls_ecp_keypair *ec = mbedtls_pk_ec(key->pk);
    size_t n = key->type == TLS_KEY_ECDSA_P256 ? 32 : 48;
    if (cap < n)
        return TLS_ERR_INTERNAL;
    int ret = mbedtls_mpi_write_binary(&ec->d, out, n);
    if (ret != 0) {
        tls__wipe(out, n);
        return from_mbedtls(ret);
    }
    *len = n;
    return TLS_OK;
}

typedef struct {
    uint16_t scheme;
    tls_key_type key;
    mbedtls_md_type_t md;
    bool pss;
} scheme_info;

static const scheme_info schemes[] = {
    {TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_KEY_RSA, MBEDTLS_MD_SHA256, true},
    {TLS_SIG_RSA_PSS_RSAE_SHA384, TLS_KEY_RSA, MBEDTLS_MD_SHA384, true},
    {TLS_SIG_RSA_PSS_RSAE_SHA512, TLS_KEY_RSA, MBEDTLS_MD_SHA512, true},
    {TLS_SIG_RSA_PKCS1_SHA256, TLS_KEY_RSA, MBEDTLS_MD_SHA256, false},
    {TLS_SIG_RSA_PKCS1_SHA384, TLS_KEY_RSA, MBEDTLS_MD_SHA384, false},
    {TLS_SIG_RSA_PKCS1_SHA512, TLS_KEY_RSA, MBEDTLS_MD_SHA512, false},
    {TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_KEY_ECDSA_P256, MBEDTLS_MD_SHA256, false},
    {TLS_SIG_ECDSA_SECP384R1_SHA384, TLS_KEY_ECDSA_P384, MBEDTLS_MD_SHA384, false},
};

static const scheme_info *find_scheme(uint16_t scheme)
{
    for (size_t i = 0; i < sizeof schemes / sizeof schemes[0]; i++) {
        if (schemes[i].scheme == scheme)
            return &schemes[i];
    }
    return NULL;
}

/* Hashes msg for si; *hlen gets the digest length. */
static tls_error digest(const scheme_info *si, const uint8_t *msg, size_t msg_len,
                        uint8_t hash[TLS_MAX_HASH_LEN], size_t *hlen)
{
    const mbedtls_md_info_t *md = mbedtls_md_info_from_type(si->md);
    if (!md)
        return TLS_ERR_INTERNAL;
    *hlen = mbedtls_md_get_size(md);
    return from_mbedtls(mbedtls_md(md, msg, msg_len, hash));
}

static tls_error sign(const mbed_key *key, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                      uint8_t *sig, size_t cap, size_t *sig_len)
{
    const scheme_info *si = find_scheme(scheme);
    if (!si || si->key != key->type)
        return TLS_ERR_CONFIG;
    uint8_t hash[TLS_MAX_HASH_LEN];
    size_t hlen;
    tls_error err = digest(si, msg, msg_len, hash, &hlen);
    if (err != TLS_OK)
        return err;
    sign_ctx *c;
    err = sign_ctx_take(key, &c);
    if (err != TLS_OK)
        return err;

    int ret;
    if (key->type == TLS_KEY_RSA) {
        size_t n = mbedtls_rsa_get_len(&c->u.rsa);
        if (cap < n) {
            err = TLS_ERR_INTERNAL;
            goto out;
        }
        if (si->pss) {
            /* The context's hash_id selects MGF1's hash; this context is ours alone. */
            mbedtls_rsa_set_padding(&c->u.rsa, MBEDTLS_RSA_PKCS_V21, si->md);
            /* RFC 8446 §4.2.3: salt length = digest length. */
            ret = mbedtls_rsa_rsassa_pss_sign_ext(&c->u.rsa, rng_getrandom, NULL, si->md,
                                                  (unsigned int)hlen, hash, (int)hlen, sig);
        } else {
            mbedtls_rsa_set_padding(&c->u.rsa, MBEDTLS_RSA_PKCS_V15, si->md);
            ret = mbedtls_rsa_rsassa_pkcs1_v15_sign(&c->u.rsa, rng_getrandom, NULL,
                                                    MBEDTLS_RSA_PRIVATE, si->md, (unsigned int)hlen,
                                                    hash, sig);
        }
        if (ret == 0)
            *sig_len = n;
    } else {
        uint8_t der[MBEDTLS_ECDSA_MAX_LEN];
        size_t n = 0;
        /* Deterministic ECDSA (RFC 6979) in this build; the RNG blinds the arithmetic. */
        ret = mbedtls_ecdsa_write_signature(&c->u.ec, si->md, hash, hlen, der, &n, rng_getrandom,
                                            NULL);
        if (ret == 0) {
            if (n > cap) {
                err = TLS_ERR_INTERNAL;
                goto out;
            }
            memcpy(sig, der, n);
            *sig_len = n;
        }
    }
    err = from_mbedtls(ret);
out:
    tls__wipe(hash, sizeof hash);
    if (err == TLS_OK || err == TLS_ERR_INTERNAL)
        sign_ctx_give_back(key, c);
    else
        sign_ctx_free(key, c); /* a failed private operation: don't trust its state */
    return err;
}

static tls_error verify(const uint8_t *cert_der, size_t cert_len, uint16_t scheme,
                        const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    const scheme_info *si = find_scheme(scheme);
    if (!si)
        return TLS_ERR_INVALID_ARGUMENT; /* the handshake only passes schemes it offered */
    uint8_t hash[TLS_MAX_HASH_LEN];
    size_t hlen;
    tls_error err = digest(si, msg, msg_len, hash, &hlen);
    if (err != TLS_OK)
        return err;

    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    int ret = mbedtls_x509_crt_parse_der(&crt, cert_der, cert_len);
    if (ret != 0) {
        err = is_alloc_failure(ret) ? TLS_ERR_NO_MEMORY : TLS_ERR_CERT_PARSE;
        goto out;
    }
    /* A scheme that doesn't fit the certificate's key cannot have produced a valid
     * signature with it: same answer as a bad signature. */
    err = TLS_ERR_DECRYPT;
    mbedtls_pk_type_t type = mbedtls_pk_get_type(&crt.pk);
    if (si->key == TLS_KEY_RSA) {
        if (type != MBEDTLS_PK_RSA)
            goto out;
        /* crt is ours alone, so setting its padding is safe. */
        mbedtls_rsa_context *rsa = mbedtls_pk_rsa(crt.pk);
        if (sig_len != mbedtls_rsa_get_len(rsa))
            goto out;
        if (si->pss) {
            mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, si->md);
            ret =
                mbedtls_rsa_rsassa_pss_verify_ext(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, si->md,
                                                  (unsigned int)hlen, hash, si->md, (int)hlen, sig);
        } else {
            ret = mbedtls_rsa_rsassa_pkcs1_v15_verify(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, si->md,
                                                      (unsigned int)hlen, hash, sig);
        }
    } else {
        if (type != MBEDTLS_PK_ECKEY && type != MBEDTLS_PK_ECDSA)
            goto out;
        mbedtls_ecp_keypair *ec = mbedtls_pk_ec(crt.pk);
        mbedtls_ecp_group_id want =
            si->key == TLS_KEY_ECDSA_P256 ? MBEDTLS_ECP_DP_SECP256R1 : MBEDTLS_ECP_DP_SECP384R1;
        if (ec->grp.id != want)
            goto out;
        /* Parses the DER Ecdsa-Sig-Value and fails (MBEDTLS_ERR_ECP_SIG_LEN_MISMATCH)
         * when bytes follow it, even if the signature itself verifies. */
        ret = mbedtls_ecdsa_read_signature(ec, hash, hlen, sig, sig_len);
    }
    if (ret == 0)
        err = TLS_OK;
    else if (is_alloc_failure(ret))
        err = TLS_ERR_NO_MEMORY;
out:
    mbedtls_x509_crt_free(&crt);
    return err;
}

/* ---- certificate signatures ------------------------------------------------------------ */

static tls_error verify_spki(const uint8_t *spki, size_t spki_len, tls_x509_sig_kind kind,
                             tls_hash_id hash, const uint8_t *msg, size_t msg_len,
                             const uint8_t *sig, size_t sig_len)
{
    const mbedtls_md_info_t *md = md_for(hash);
    if (!md || (kind != TLS_X509_SIG_RSA_PKCS1 && kind != TLS_X509_SIG_RSA_PSS &&
                kind != TLS_X509_SIG_ECDSA))
        return TLS_ERR_INVALID_ARGUMENT;
    mbedtls_md_type_t md_type = mbedtls_md_get_type(md);
    size_t hlen = mbedtls_md_get_size(md);
    uint8_t h[TLS_MAX_HASH_LEN];
    int ret = mbedtls_md(md, msg, msg_len, h);
    if (ret != 0)
        return from_mbedtls(ret);

    mbedtls_pk_context pk;
    mbedtls_pk_init(&pk);
    tls_error err;
    ret = mbedtls_pk_parse_public_key(&pk, spki, spki_len);
    if (ret != 0) {
        err = is_alloc_failure(ret)           ? TLS_ERR_NO_MEMORY
              : is_unsupported_key_error(ret) ? TLS_ERR_KEY_UNSUPPORTED
                                              : TLS_ERR_CERT_PARSE;
        goto out;
    }
    err = TLS_ERR_KEY_UNSUPPORTED;
    mbedtls_pk_type_t type = mbedtls_pk_get_type(&pk);
    if (kind == TLS_X509_SIG_ECDSA) {
        if (type != MBEDTLS_PK_ECKEY && type != MBEDTLS_PK_ECDSA)
            goto out;
        mbedtls_ecp_keypair *ec = mbedtls_pk_ec(pk);
        if (ec->grp.id != MBEDTLS_ECP_DP_SECP256R1 && ec->grp.id != MBEDTLS_ECP_DP_SECP384R1)
            goto out;
        /* ECDSA truncates a hash longer than the group order (SEC 1 §4.1.4). */
        ret = mbedtls_ecdsa_read_signature(ec, h, hlen, sig, sig_len);
    } else {
        size_t bits = mbedtls_pk_get_bitlen(&pk);
        if (type != MBEDTLS_PK_RSA || bits < 2048 || bits > 8 * TLS_MAX_SIGNATURE_LEN)
            goto out;
        /* pk is ours alone, so setting its padding is safe. */
        mbedtls_rsa_context *rsa = mbedtls_pk_rsa(pk);
        err = TLS_ERR_DECRYPT;
        if (sig_len != mbedtls_rsa_get_len(rsa))
            goto out;
        if (kind == TLS_X509_SIG_RSA_PSS) {
            mbedtls_rsa_set_padding(rsa, MBEDTLS_RSA_PKCS_V21, md_type);
            ret = mbedtls_rsa_rsassa_pss_verify_ext(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md_type,
                                                    (unsigned int)hlen, h, md_type, (int)hlen, sig);
        } else {
            ret = mbedtls_rsa_rsassa_pkcs1_v15_verify(rsa, NULL, NULL, MBEDTLS_RSA_PUBLIC, md_type,
                                                      (unsigned int)hlen, h, sig);
        }
    }
    err = ret == 0 ? TLS_OK : is_alloc_failure(ret) ? TLS_ERR_NO_MEMORY : TLS_ERR_DECRYPT;
out:
    mbedtls_pk_free(&pk);
    return err;
}

/* ---- the table ----------------------------------------------------------------------- */

/* The provider passes the header types; each object is one of ours (its impl says so). */
static tls_error slot_aead_new(tls_aead_id id, const uint8_t *key, size_t key_len, tls_aead **out)
{
    return aead_new(id, key, key_len, out);
}

static tls_error slot_aead_seal(tls_aead *a, const uint8_t nonce[12], const uint8_t *aad,
                                size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    return aead_seal((mbed_aead *)a, nonce, aad, aad_len, in, in_len, out);
}

static tls_error slot_aead_open(tls_aead *a, const uint8_t nonce[12], const uint8_t *aad,
                                size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out)
{
    return aead_open((mbed_aead *)a, nonce, aad, aad_len, in, in_len, out);
}

static void slot_aead_free(tls_aead *a)
{
    aead_free((mbed_aead *)a);
}

static tls_error slot_kx_new(uint16_t group, tls_kx **out)
{
    mbed_kx *kx = NULL;
    tls_error err = kx_new(group, &kx);
    *out = kx ? &kx->base : NULL;
    return err;
}

static tls_error slot_kx_new_from_private(uint16_t group, const uint8_t *priv, size_t len,
                                          tls_kx **out)
{
    mbed_kx *kx = NULL;
    tls_error err = kx_new_from_private(group, priv, len, &kx);
    *out = kx ? &kx->base : NULL;
    return err;
}

static tls_error slot_kx_public(const tls_kx *kx, uint8_t *out, size_t cap, size_t *len)
{
    return kx_public((const mbed_kx *)kx, out, cap, len);
}

static tls_error slot_kx_agree(tls_kx *kx, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                               size_t cap, size_t *len)
{
    return kx_agree((mbed_kx *)kx, peer, peer_len, secret, cap, len);
}

static void slot_kx_free(tls_kx *kx)
{
    kx_free((mbed_kx *)kx);
}

static tls_error slot_signing_key_parse(const uint8_t *der_or_pem, size_t len,
                                        tls_backend_key **out)
{
    mbed_key *key = NULL;
    tls_error err = signing_key_parse(der_or_pem, len, &key);
    *out = (tls_backend_key *)key;
    return err;
}

static tls_key_type slot_signing_key_type(const tls_backend_key *key)
{
    return signing_key_type((const mbed_key *)key);
}

static bool slot_signing_key_matches_cert(const tls_backend_key *key, const uint8_t *cert_der,
                                          size_t cert_len)
{
    return signing_key_matches_cert((const mbed_key *)key, cert_der, cert_len);
}

static tls_error slot_signing_key_export(const tls_backend_key *key, uint8_t *out, size_t cap,
                                         size_t *len)
{
    return signing_key_export((const mbed_key *)key, out, cap, len);
}

static tls_error slot_sign(const tls_backend_key *key, uint16_t scheme, const uint8_t *msg,
                           size_t msg_len, uint8_t *sig, size_t cap, size_t *sig_len)
{
    return sign((const mbed_key *)key, scheme, msg, msg_len, sig, cap, sig_len);
}

static void slot_signing_key_free(tls_backend_key *key)
{
    signing_key_free((mbed_key *)key);
}

const tls_crypto_provider tls__crypto_mbedtls = {
    .name = "mbedtls",
    .hash_init = hash_init,
    .hash_update = hash_update,
    .hash_final = hash_final,
    .hash_clone = hash_clone,
    .hash_clear = hash_clear,
    .hmac = hmac,
    .hkdf_extract = hkdf_extract,
    .hkdf_expand = hkdf_expand,
    .aead_new = slot_aead_new,
    .aead_seal = slot_aead_seal,
    .aead_open = slot_aead_open,
    .aead_free = slot_aead_free,
    .kx_new = slot_kx_new,
    .kx_public = slot_kx_public,
    .kx_agree = slot_kx_agree,
    .kx_free = slot_kx_free,
    .signing_key_parse = slot_signing_key_parse,
    .signing_key_type = slot_signing_key_type,
    .signing_key_matches_cert = slot_signing_key_matches_cert,
    .sign = slot_sign,
    .signing_key_free = slot_signing_key_free,
    .signing_key_export = slot_signing_key_export,
    .verify = verify,
    .random = random_bytes,
    .kx_new_from_private = slot_kx_new_from_private,
    .verify_spki = verify_spki,
};
