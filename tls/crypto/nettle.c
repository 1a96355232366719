/*
 * nettle.c — the nettle back end: SHA-2, HMAC, HKDF, P-256/P-384 ECDH and ECDSA signing.
 *
 * nettle 3.8 (with GMP, through libhogweed) is the fastest of Debian's libraries on
 * this project's machines for the NIST curves (ECDSA P-256 signing ~9×, ECDH ~6×
 * mbedTLS) and, using the CPU's SHA extensions, for SHA-256; its HMAC also runs
 * without the heap allocations mbedTLS's generic md layer makes per call, which is
 * most of the cost of the tiny HMACs the TLS 1.3 key schedule is made of
 * (bench/results/latest.md), and for ECDSA verification (~24x mbedTLS). Key parsing
 * and RSA stay with mbedTLS: the provider imports a parsed ECDSA key's scalar here
 * (signing_key_import), so this file never parses key files; for verification it
 * reads only an EC SubjectPublicKeyInfo and the DER Ecdsa-Sig-Value, with tls/codec's
 * bounded DER reader, and leaves every other answer to mbedTLS.
 *
 * Implementation notes:
 * - tls_hash_ctx.opaque holds nettle's sha256_ctx or sha512_ctx (SHA-384 uses the
 *   latter), copied with memcpy; nettle is a separate library, so no aliasing hazard.
 * - Secrets held by GMP-allocated limbs (an ecc_scalar, the shared point of an ECDH)
 *   are wiped through the limb pointer before nettle frees them: nettle documents
 *   that both structs' limbs are allocated with GMP's functions, which do not wipe.
 *   The shared secret is read from the result point's limbs (affine x, then y, in
 *   normal representation, ecc_size() limbs each) rather than through an mpz_t, so
 *   no secret is copied into memory we cannot wipe. Public values (peer shares, our
 *   share, signature r and s) go through mpz_t.
 * - Randomness: nettle asks for bytes through a callback that cannot fail, so a
 *   getrandom(2) failure is recorded in the callback's context, the bytes filled with
 *   a constant (which keeps nettle's retry loops finite), and the result discarded.
 * - ECDSA nonces are random (nettle has no RFC 6979), unlike mbedTLS's deterministic
 *   ones: both are valid signatures of the same key, which the equivalence tests
 *   check by cross-verification rather than byte equality.
 */
#include "crypto.h"

#include "../codec.h"

#include <nettle/ecc-curve.h>
#include <nettle/ecc.h>
#include <nettle/ecdsa.h>
#include <nettle/hmac.h>
#include <nettle/sha2.h>

#include <assert.h>
#include <string.h>

static_assert(sizeof(struct sha512_ctx) <= sizeof(((tls_hash_ctx *)0)->opaque),
              "tls_hash_ctx too small for nettle's SHA-512 context");
static_assert(sizeof(struct sha256_ctx) <= sizeof(((tls_hash_ctx *)0)->opaque),
              "tls_hash_ctx too small for nettle's SHA-256 context");

/* ---- streaming hashes ---------------------------------------------------------------- */

static void hash_init(tls_hash_ctx *ctx, tls_hash_id id)
{
    switch (id) {
    case TLS_HASH_SHA256:
        sha256_init((struct sha256_ctx *)ctx->opaque);
        break;
    case TLS_HASH_SHA384:
        sha384_init((struct sha512_ctx *)ctx->opaque);
        break;
    default:
        sha512_init((struct sha512_ctx *)ctx->opaque);
        break;
    }
    ctx->id = id;
}

static void hash_update(tls_hash_ctx *ctx, const uint8_t *data, size_t len)
{
    if (len == 0)
        return;
    switch (ctx->id) {
    case TLS_HASH_SHA256:
        sha256_update((struct sha256_ctx *)ctx->opaque, len, data);
        break;
    case TLS_HASH_SHA384:
        sha384_update((struct sha512_ctx *)ctx->opaque, len, data);
        break;
    default:
        sha512_update((struct sha512_ctx *)ctx->opaque, len, data);
        break;
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
        sha256_digest((struct sha256_ctx *)ctx->opaque, SHA256_DIGEST_SIZE, out);
        break;
    case TLS_HASH_SHA384:
        sha384_digest((struct sha512_ctx *)ctx->opaque, SHA384_DIGEST_SIZE, out);
        break;
    default:
        sha512_digest((struct sha512_ctx *)ctx->opaque, SHA512_DIGEST_SIZE, out);
        break;
    }
    hash_clear(ctx);
}

static void hash_clone(tls_hash_ctx *dst, const tls_hash_ctx *src)
{
    memcpy(dst->opaque, src->opaque, sizeof dst->opaque);
    dst->id = src->id;
}

/* ---- HMAC and HKDF --------------------------------------------------------------------- */

/* Both HMAC contexts in one object, so HKDF can keep one on its stack and wipe it. */
typedef union {
    struct hmac_sha256_ctx sha256;
    struct hmac_sha512_ctx sha512; /* also SHA-384 */
} hmac_ctx;

static void hmac_start(hmac_ctx *c, tls_hash_id id, const uint8_t *key, size_t key_len)
{
    switch (id) {
    case TLS_HASH_SHA256:
        hmac_sha256_set_key(&c->sha256, key_len, key);
        break;
    case TLS_HASH_SHA384:
        hmac_sha384_set_key(&c->sha512, key_len, key);
        break;
    default:
        hmac_sha512_set_key(&c->sha512, key_len, key);
        break;
    }
}

static void hmac_add(hmac_ctx *c, tls_hash_id id, const uint8_t *data, size_t len)
{
    if (len == 0)
        return;
    if (id == TLS_HASH_SHA256)
        hmac_sha256_update(&c->sha256, len, data);
    else /* hmac_sha384_update is hmac_sha512_update */
        hmac_sha512_update(&c->sha512, len, data);
}

/* Writes the MAC and leaves c ready for another message under the same key. */
static void hmac_finish(hmac_ctx *c, tls_hash_id id, uint8_t *out)
{
    switch (id) {
    case TLS_HASH_SHA256:
        hmac_sha256_digest(&c->sha256, SHA256_DIGEST_SIZE, out);
        break;
    case TLS_HASH_SHA384:
        hmac_sha384_digest(&c->sha512, SHA384_DIGEST_SIZE, out);
        break;
    default:
        hmac_sha512_digest(&c->sha512, SHA512_DIGEST_SIZE, out);
        break;
    }
}

static bool valid_hash(tls_hash_id id)
{
    return id == TLS_HASH_SHA256 || id == TLS_HASH_SHA384 || id == TLS_HASH_SHA512;
}

static tls_error hmac(tls_hash_id id, const uint8_t *key, size_t key_len,
                      const uint8_t *const *parts, const size_t *part_lens, size_t n_parts,
                      uint8_t *out)
{
    if (!valid_hash(id))
        return TLS_ERR_INVALID_ARGUMENT;
    hmac_ctx c;
    hmac_start(&c, id, key, key_len);
    for (size_t i = 0; i < n_parts; i++)
        hmac_add(&c, id, parts[i], part_lens[i]);
    hmac_finish(&c, id, out);
    tls__wipe(&c, sizeof c);
    return TLS_OK;
}

/* RFC 5869 §2.2: PRK = HMAC(salt, IKM); an absent salt is HashLen zero bytes. */
static tls_error hkdf_extract(tls_hash_id id, const uint8_t *salt, size_t salt_len,
                              const uint8_t *ikm, size_t ikm_len, uint8_t *prk)
{
    if (!valid_hash(id))
        return TLS_ERR_INVALID_ARGUMENT;
    static const uint8_t zeros[TLS_MAX_HASH_LEN];
    if (salt_len == 0) {
        salt = zeros;
        salt_len = tls__hash_len(id);
    }
    const uint8_t *parts[1] = {ikm};
    const size_t lens[1] = {ikm_len};
    return hmac(id, salt, salt_len, parts, lens, 1, prk);
}

/* RFC 5869 §2.3: T(i) = HMAC(PRK, T(i-1) | info | i), at most 255 blocks. */
static tls_error hkdf_expand(tls_hash_id id, const uint8_t *prk, size_t prk_len,
                             const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len)
{
    if (!valid_hash(id))
        return TLS_ERR_INVALID_ARGUMENT;
    size_t n = tls__hash_len(id);
    /* RFC 5869 §2.3: 0 < L <= 255 * HashLen, and the PRK is at least HashLen bytes. */
    if (out_len == 0 || out_len > 255 * n || prk_len < n)
        return TLS_ERR_INVALID_ARGUMENT;
    hmac_ctx keyed, c;
    uint8_t t[TLS_MAX_HASH_LEN];
    hmac_start(&keyed, id, prk, prk_len);
    size_t done = 0;
    for (uint8_t counter = 1; done < out_len; counter++) {
        c = keyed; /* the keyed state: no key schedule per block */
        if (counter > 1)
            hmac_add(&c, id, t, n);
        hmac_add(&c, id, info, info_len);
        hmac_add(&c, id, &counter, 1);
        hmac_finish(&c, id, t);
        size_t take = out_len - done < n ? out_len - done : n;
        memcpy(out + done, t, take);
        done += take;
    }
    tls__wipe(&keyed, sizeof keyed);
    tls__wipe(&c, sizeof c);
    tls__wipe(t, sizeof t);
    return TLS_OK;
}

/* ---- curves, scalars and randomness ---------------------------------------------------- */

typedef struct {
    bool failed;
} rng_state;

/* nettle_random_func over getrandom(2); see the notes at the top for failures. */
static void rng(void *ctx, size_t len, uint8_t *dst)
{
    if (tls__random(dst, len) != TLS_OK) {
        ((rng_state *)ctx)->failed = true;
        memset(dst, 1, len);
    }
}

static const struct ecc_curve *curve_for_group(uint16_t group, size_t *coord_len)
{
    switch (group) {
    case TLS_GROUP_SECP256R1:
        *coord_len = 32;
        return nettle_get_secp_256r1();
    case TLS_GROUP_SECP384R1:
        *coord_len = 48;
        return nettle_get_secp_384r1();
    default:
        return NULL;
    }
}

static void scalar_wipe_clear(struct ecc_scalar *s)
{
    if (s->p)
        tls__wipe(s->p, (size_t)ecc_size(s->ecc) * sizeof(mp_limb_t));
    ecc_scalar_clear(s);
}

static void point_wipe_clear(struct ecc_point *p)
{
    if (p->p)
        tls__wipe(p->p, 2 * (size_t)ecc_size(p->ecc) * sizeof(mp_limb_t));
    ecc_point_clear(p);
}

/* Big-endian bytes of n limbs, zero-padded on the left to len bytes. */
static void limbs_to_be(const mp_limb_t *limbs, size_t n, uint8_t *out, size_t len)
{
    for (size_t i = 0; i < len; i++) {
        size_t byte = len - 1 - i; /* significance of out[i] */
        size_t limb = byte / sizeof(mp_limb_t);
        out[i] = limb < n ? (uint8_t)(limbs[limb] >> (8 * (byte % sizeof(mp_limb_t)))) : 0;
    }
}

/* Sets s from a big-endian scalar of exactly coord_len bytes; false when out of range
 * (0 or >= the group order). The limb copy lives on our stack and is wiped. */
static bool scalar_from_be(struct ecc_scalar *s, const uint8_t *be, size_t len)
{
    enum { MAX_LIMBS = (48 + sizeof(mp_limb_t) - 1) / sizeof(mp_limb_t) };
    mp_limb_t limbs[MAX_LIMBS] = {0};
    size_t n = (len + sizeof(mp_limb_t) - 1) / sizeof(mp_limb_t);
    if (n > MAX_LIMBS)
        return false;
    for (size_t i = 0; i < len; i++) {
        size_t byte = len - 1 - i;
        limbs[byte / sizeof(mp_limb_t)] |= (mp_limb_t)be[i] << (8 * (byte % sizeof(mp_limb_t)));
    }
    mpz_t z;
    mpz_roinit_n(z, limbs, (mp_size_t)n); /* normalises; reads our limbs, allocates nothing */
    bool ok = ecc_scalar_set(s, z) != 0;
    tls__wipe(limbs, sizeof limbs);
    return ok;
}

/* Sets p (initialised on its curve) from X || Y, n bytes each, big-endian (public
 * values). ecc_point_set refuses coordinates >= p and points off the curve; the NIST
 * curves have cofactor 1, so every curve point other than infinity (which has no
 * affine encoding) is in the prime-order group. */
static bool point_from_be(struct ecc_point *p, const uint8_t *xy, size_t n)
{
    mpz_t x, y;
    mpz_init(x);
    mpz_init(y);
    mpz_import(x, n, 1, 1, 0, 0, xy);
    mpz_import(y, n, 1, 1, 0, 0, xy + n);
    bool ok = ecc_point_set(p, x, y) != 0;
    mpz_clear(x);
    mpz_clear(y);
    return ok;
}

/* ---- key exchange (P-256, P-384) ------------------------------------------------------- */

typedef struct {
    tls_kx base; /* first: the provider hands us tls_kx pointers */
    size_t coord_len;
    struct ecc_scalar key;
    struct ecc_point pub;
} nettle_kx;

static void kx_free(tls_kx *kx)
{
    nettle_kx *k = (nettle_kx *)kx;
    if (!k)
        return;
    scalar_wipe_clear(&k->key);
    ecc_point_clear(&k->pub); /* public */
    tls__wipe(k, sizeof *k);
    tls__free(k, sizeof *k);
}

static tls_error kx_alloc(uint16_t group, nettle_kx **out)
{
    size_t coord_len;
    const struct ecc_curve *curve = curve_for_group(group, &coord_len);
    *out = NULL;
    if (!curve)
        return TLS_ERR_CONFIG;
    nettle_kx *k = tls__calloc(sizeof *k);
    if (!k)
        return TLS_ERR_NO_MEMORY;
    k->coord_len = coord_len;
    ecc_scalar_init(&k->key, curve); /* GMP aborts rather than return on OOM */
    ecc_point_init(&k->pub, curve);
    *out = k;
    return TLS_OK;
}

static tls_error kx_new(uint16_t group, tls_kx **out)
{
    nettle_kx *k;
    tls_error err = kx_alloc(group, &k);
    *out = NULL;
    if (err != TLS_OK)
        return err;
    rng_state r = {false};
    ecdsa_generate_keypair(&k->pub, &k->key, &r, rng); /* d uniform in [1, q-1], Q = dG */
    if (r.failed) {
        kx_free(&k->base);
        return TLS_ERR_CRYPTO;
    }
    *out = &k->base;
    return TLS_OK;
}

static tls_error kx_new_from_private(uint16_t group, const uint8_t *priv, size_t len, tls_kx **out)
{
    nettle_kx *k;
    tls_error err = kx_alloc(group, &k);
    *out = NULL;
    if (err != TLS_OK)
        return err;
    if (len != k->coord_len || !scalar_from_be(&k->key, priv, len)) {
        kx_free(&k->base);
        return TLS_ERR_INVALID_ARGUMENT;
    }
    ecc_point_mul_g(&k->pub, &k->key);
    *out = &k->base;
    return TLS_OK;
}

static tls_error kx_public(const tls_kx *kx, uint8_t *out, size_t cap, size_t *len)
{
    const nettle_kx *k = (const nettle_kx *)kx;
    size_t n = k->coord_len, limbs = (size_t)ecc_size(k->pub.ecc);
    if (cap < 1 + 2 * n)
        return TLS_ERR_INTERNAL; /* our buffer, our bug */
    out[0] = 0x04;               /* uncompressed: 0x04 || X || Y (RFC 8446 §4.2.8.2) */
    limbs_to_be(k->pub.p, limbs, out + 1, n);
    limbs_to_be(k->pub.p + limbs, limbs, out + 1 + n, n);
    *len = 1 + 2 * n;
    return TLS_OK;
}

static tls_error kx_agree(tls_kx *kx, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                          size_t cap, size_t *len)
{
    nettle_kx *k = (nettle_kx *)kx;
    size_t n = k->coord_len;
    /* RFC 8446 §4.2.8.2: exact length, uncompressed form only. */
    if (peer_len != 1 + 2 * n || peer[0] != 0x04)
        return TLS_ERR_INVALID_KEY_SHARE;
    if (cap < n)
        return TLS_ERR_INTERNAL;
    struct ecc_point theirs, shared;
    ecc_point_init(&theirs, k->pub.ecc);
    ecc_point_init(&shared, k->pub.ecc);
    tls_error err = TLS_ERR_INVALID_KEY_SHARE;
    if (point_from_be(&theirs, peer + 1, n)) {
        ecc_point_mul(&shared, &k->key, &theirs);
        limbs_to_be(shared.p, (size_t)ecc_size(shared.ecc), secret, n); /* affine x */
        *len = n;
        err = TLS_OK;
    }
    point_wipe_clear(&shared);
    ecc_point_clear(&theirs);
    return err;
}

/* ---- ECDSA signing ------------------------------------------------------------------- */

typedef struct {
    tls_key_type type;
    struct ecc_scalar d;
} nettle_key;

static void signing_key_free(tls_backend_key *key)
{
    nettle_key *k = (nettle_key *)key;
    if (!k)
        return;
    scalar_wipe_clear(&k->d);
    tls__wipe(k, sizeof *k);
    tls__free(k, sizeof *k);
}

static tls_error signing_key_import(tls_key_type type, const uint8_t *priv, size_t len,
                                    tls_backend_key **out)
{
    size_t coord_len;
    const struct ecc_curve *curve;
    *out = NULL;
    if (type == TLS_KEY_ECDSA_P256)
        curve = curve_for_group(TLS_GROUP_SECP256R1, &coord_len);
    else if (type == TLS_KEY_ECDSA_P384)
        curve = curve_for_group(TLS_GROUP_SECP384R1, &coord_len);
    else
        return TLS_ERR_KEY_UNSUPPORTED;
    if (len != coord_len)
        return TLS_ERR_KEY_PARSE;
    nettle_key *k = tls__calloc(sizeof *k);
    if (!k)
        return TLS_ERR_NO_MEMORY;
    k->type = type;
    ecc_scalar_init(&k->d, curve);
    if (!scalar_from_be(&k->d, priv, len)) {
        signing_key_free((tls_backend_key *)k);
        return TLS_ERR_KEY_PARSE;
    }
    *out = (tls_backend_key *)k;
    return TLS_OK;
}

static tls_key_type signing_key_type(const tls_backend_key *key)
{
    return ((const nettle_key *)key)->type;
}

/* Appends DER INTEGER z (non-negative) at *p; returns the bytes written. */
static size_t der_integer(const mpz_t z, uint8_t *p)
{
    uint8_t mag[64];
    size_t n = 0;
    mpz_export(mag, &n, 1, 1, 1, 0, z);
    if (n == 0) /* zero: one 0x00 content byte */
        mag[n++] = 0;
    size_t pad = (mag[0] & 0x80) ? 1 : 0; /* keep it positive */
    p[0] = 0x02;
    p[1] = (uint8_t)(n + pad);
    p[2] = 0;
    memcpy(p + 2 + pad, mag, n);
    return 2 + pad + n;
}

static tls_error sign(const tls_backend_key *key, uint16_t scheme, const uint8_t *msg,
                      size_t msg_len, uint8_t *sig, size_t cap, size_t *sig_len)
{
    const nettle_key *k = (const nettle_key *)key;
    tls_hash_id hash;
    if (scheme == TLS_SIG_ECDSA_SECP256R1_SHA256 && k->type == TLS_KEY_ECDSA_P256)
        hash = TLS_HASH_SHA256;
    else if (scheme == TLS_SIG_ECDSA_SECP384R1_SHA384 && k->type == TLS_KEY_ECDSA_P384)
        hash = TLS_HASH_SHA384;
    else
        return TLS_ERR_CONFIG;
    uint8_t digest[TLS_MAX_HASH_LEN];
    tls_hash_ctx h;
    hash_init(&h, hash);
    hash_update(&h, msg, msg_len);
    hash_final(&h, digest);

    struct dsa_signature rs;
    dsa_signature_init(&rs);
    rng_state r = {false};
    ecdsa_sign(&k->d, &r, rng, tls__hash_len(hash), digest, &rs);
    tls_error err = TLS_ERR_CRYPTO;
    if (!r.failed) {
        /* Ecdsa-Sig-Value ::= SEQUENCE { r INTEGER, s INTEGER }: at most 2 + 2 * 51
         * bytes for P-384, so every length is in short form. */
        uint8_t der[2 + 2 * (2 + 1 + 48)];
        size_t body = der_integer(rs.r, der + 2);
        body += der_integer(rs.s, der + 2 + body);
        der[0] = 0x30;
        der[1] = (uint8_t)body;
        if (2 + body > cap) {
            err = TLS_ERR_INTERNAL;
        } else {
            memcpy(sig, der, 2 + body);
            *sig_len = 2 + body;
            err = TLS_OK;
        }
    }
    dsa_signature_clear(&rs); /* r and s are public */
    tls__wipe(digest, sizeof digest);
    return err;
}

/* ---- ECDSA verification ---------------------------------------------------------------- */

/* DER OIDs (contents only): id-ecPublicKey (RFC 5480 §2.1.1) and the two curves. */
static const uint8_t oid_ec_public_key[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01};
static const uint8_t oid_p256[] = {0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
static const uint8_t oid_p384[] = {0x2b, 0x81, 0x04, 0x00, 0x22};

static bool reader_is(const tls_reader *r, const uint8_t *want, size_t len)
{
    return tls_reader_left(r) == len && memcmp(r->p, want, len) == 0;
}

/* The uncompressed point of an EC SubjectPublicKeyInfo on P-256 or P-384. Another
 * algorithm, curve or point form: TLS_ERR_KEY_UNSUPPORTED (mbedTLS then answers);
 * malformed DER: TLS_ERR_CERT_PARSE. */
static tls_error spki_point(const uint8_t *spki, size_t spki_len, const struct ecc_curve **curve,
                            const uint8_t **point, size_t *coord_len)
{
    tls_reader in, info, alg, oid, curve_oid, bits;
    tls_reader_init(&in, spki, spki_len);
    if (!tls_read_der(&in, TLS_DER_SEQUENCE, &info) || !tls_reader_done(&in) ||
        !tls_read_der(&info, TLS_DER_SEQUENCE, &alg) || !tls_read_der(&alg, TLS_DER_OID, &oid))
        return TLS_ERR_CERT_PARSE;
    if (!reader_is(&oid, oid_ec_public_key, sizeof oid_ec_public_key))
        return TLS_ERR_KEY_UNSUPPORTED;
    if (!tls_read_der(&alg, TLS_DER_OID, &curve_oid) || !tls_reader_done(&alg) ||
        !tls_read_der(&info, TLS_DER_BIT_STRING, &bits) || !tls_reader_done(&info))
        return TLS_ERR_CERT_PARSE;
    if (reader_is(&curve_oid, oid_p256, sizeof oid_p256))
        *curve = curve_for_group(TLS_GROUP_SECP256R1, coord_len);
    else if (reader_is(&curve_oid, oid_p384, sizeof oid_p384))
        *curve = curve_for_group(TLS_GROUP_SECP384R1, coord_len);
    else
        return TLS_ERR_KEY_UNSUPPORTED;
    uint8_t unused = 0, form = 0;
    if (!tls_read_u8(&bits, &unused) || unused != 0 || !tls_read_u8(&bits, &form))
        return TLS_ERR_CERT_PARSE;
    if (form != 0x04 || tls_reader_left(&bits) != 2 * *coord_len)
        return TLS_ERR_KEY_UNSUPPORTED; /* compressed or hybrid forms */
    *point = bits.p;
    return TLS_OK;
}

/* A DER INTEGER that is positive and minimally encoded (X.690 §8.3.2), into z. */
static bool der_positive_integer(tls_reader *r, size_t max_len, mpz_t z)
{
    tls_reader v;
    if (!tls_read_der(r, TLS_DER_INTEGER, &v))
        return false;
    size_t n = tls_reader_left(&v);
    if (n == 0 || n > max_len + 1 || (v.p[0] & 0x80))
        return false;
    if (n > 1 && v.p[0] == 0 && !(v.p[1] & 0x80))
        return false;
    mpz_import(z, n, 1, 1, 0, 0, v.p);
    return true;
}

/* Certificate signatures with an EC key (see crypto.h). Stricter than mbedTLS in one
 * way: the Ecdsa-Sig-Value must be DER, not just BER. */
static tls_error verify_spki(const uint8_t *spki, size_t spki_len, tls_x509_sig_kind kind,
                             tls_hash_id hash, const uint8_t *msg, size_t msg_len,
                             const uint8_t *sig, size_t sig_len)
{
    if (kind != TLS_X509_SIG_ECDSA)
        return TLS_ERR_KEY_UNSUPPORTED;
    if (!valid_hash(hash))
        return TLS_ERR_INVALID_ARGUMENT;
    const struct ecc_curve *curve = NULL;
    const uint8_t *point = NULL;
    size_t n = 0;
    tls_error err = spki_point(spki, spki_len, &curve, &point, &n);
    if (err != TLS_OK)
        return err;

    struct ecc_point pub;
    ecc_point_init(&pub, curve);
    struct dsa_signature rs;
    dsa_signature_init(&rs);
    if (!point_from_be(&pub, point, n)) {
        err = TLS_ERR_CERT_PARSE; /* not on the curve */
        goto out;
    }
    tls_reader in, seq;
    tls_reader_init(&in, sig, sig_len);
    err = TLS_ERR_DECRYPT;
    if (!tls_read_der(&in, TLS_DER_SEQUENCE, &seq) || !tls_reader_done(&in) ||
        !der_positive_integer(&seq, n, rs.r) || !der_positive_integer(&seq, n, rs.s) ||
        !tls_reader_done(&seq))
        goto out;
    uint8_t digest[TLS_MAX_HASH_LEN];
    tls_hash_ctx h;
    hash_init(&h, hash);
    hash_update(&h, msg, msg_len);
    hash_final(&h, digest);
    /* Checks 0 < r, s < q; a longer digest is truncated to the order's bit length. */
    if (ecdsa_verify(&pub, tls__hash_len(hash), digest, &rs))
        err = TLS_OK;
out:
    dsa_signature_clear(&rs);
    ecc_point_clear(&pub);
    return err;
}

/* A TLS signature (CertificateVerify, ServerKeyExchange) with the key of a DER
 * certificate. ECDSA schemes only; the scheme names the curve (RFC 8446 §4.2.3). */
static tls_error verify(const uint8_t *cert_der, size_t cert_len, uint16_t scheme,
                        const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    tls_hash_id hash;
    size_t want;
    if (scheme == TLS_SIG_ECDSA_SECP256R1_SHA256) {
        hash = TLS_HASH_SHA256;
        want = 32;
    } else if (scheme == TLS_SIG_ECDSA_SECP384R1_SHA384) {
        hash = TLS_HASH_SHA384;
        want = 48;
    } else {
        return TLS_ERR_KEY_UNSUPPORTED;
    }
    /* The certificate was parsed whole when its chain was verified; only the way to
     * its SubjectPublicKeyInfo is walked here. */
    tls_x509_parts parts;
    const uint8_t *point;
    size_t n = 0;
    const struct ecc_curve *curve;
    if (tls__x509_parts(cert_der, cert_len, &parts) != TLS_OK)
        return TLS_ERR_CERT_PARSE;
    tls_error err = spki_point(parts.spki, parts.spki_len, &curve, &point, &n);
    if (err != TLS_OK)
        return err;
    if (n != want) /* a key on another curve cannot have made this signature */
        return TLS_ERR_DECRYPT;
    return verify_spki(parts.spki, parts.spki_len, TLS_X509_SIG_ECDSA, hash, msg, msg_len, sig,
                       sig_len);
}

const tls_crypto_provider tls__crypto_nettle = {
    .name = "nettle",
    .hash_init = hash_init,
    .hash_update = hash_update,
    .hash_final = hash_final,
    .hash_clone = hash_clone,
    .hash_clear = hash_clear,
    .hmac = hmac,
    .hkdf_extract = hkdf_extract,
    .hkdf_expand = hkdf_expand,
    .kx_new = kx_new,
    .kx_public = kx_public,
    .kx_agree = kx_agree,
    .kx_free = kx_free,
    .kx_new_from_private = kx_new_from_private,
    .signing_key_import = signing_key_import,
    .signing_key_type = signing_key_type,
    .sign = sign,
    .signing_key_free = signing_key_free,
    .verify = verify,
    .verify_spki = verify_spki,
};
