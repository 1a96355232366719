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
 * - Ed25519 (RFC 8032, RFC 8410). mbedTLS 2.28, the key and certificate parser, knows
 *   no Ed25519 at all, so this file reads the three encodings itself with a small DER
 *   reader over tls_reader (definite lengths of at most 3 bytes, low tag numbers, no
 *   recursion): PKCS#8 private keys (a seed for the Ed25519 back end), SPKIs, and the
 *   skeleton of a certificate (tls__x509_parts: where its TBS, SPKI and signature are).
 *   Key parsing asks mbedTLS first and reads the key as Ed25519 only when mbedTLS
 *   refuses it, so every other key type still goes through exactly the old path.
 *   Signing and verifying with Ed25519 go to routes->sign[TLS_KEY_ED25519]; without it
 *   (mbedTLS-only) an Ed25519 key is TLS_ERR_KEY_UNSUPPORTED and Ed25519 is never
 *   offered. certkey.c and verify.c hand mbedTLS a "stand-in" copy of a certificate
 *   that carries Ed25519 (tls__x509_ed25519_stand_in): same names, validity and
 *   extensions, but a P-256 key whose private key nobody knows (x = SHA-256 of a fixed
 *   string, stepped to the first point on the curve) and ecdsa-with-SHA256 as the
 *   signature algorithm. They take the key and the signature from the original DER.
 */
#include "crypto.h"

#include "../codec.h"

#include <mbedtls/constant_time.h>
#include <mbedtls/pem.h>
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
    .sign = {[TLS_KEY_RSA] = &tls__crypto_mbedtls,
             [TLS_KEY_ECDSA_P256] = &tls__crypto_mbedtls,
             [TLS_KEY_ECDSA_P384] = &tls__crypto_mbedtls,
             [TLS_KEY_ED25519] = NULL}, /* mbedTLS 2.28 has no Ed25519 */
    .parse = &tls__crypto_mbedtls,
    .verify_ecdsa = &tls__crypto_mbedtls,
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
             [TLS_KEY_ECDSA_P384] = &tls__crypto_nettle,
             /* libsodium: ~41,000 signatures/s, 2x OpenSSL (issue 9's table). */
             [TLS_KEY_ED25519] = &tls__crypto_sodium},
    .parse = &tls__crypto_mbedtls,
    /* nettle: ~24x mbedTLS's ECDSA verify, which made the client's handshake slow. */
    .verify_ecdsa = &tls__crypto_nettle,
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

bool tls__crypto_has_ed25519(void)
{
    return tls__crypto()->sign[TLS_KEY_ED25519] != NULL;
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

/* ---- DER for Ed25519 (RFC 8410) ---------------------------------------------------- */

#define DER_CTX0_CONSTRUCTED 0xa0 /* [0] EXPLICIT (version) / [0] IMPLICIT SET (attributes) */
#define DER_CTX1_PRIMITIVE 0x81   /* [1] IMPLICIT BIT STRING (OneAsymmetricKey publicKey) */

/* id-Ed25519 OBJECT IDENTIFIER ::= { 1 3 101 112 } (RFC 8410 §3), with its
 * AlgorithmIdentifier: the parameters MUST be absent. */
static const uint8_t ed25519_oid[] = {0x2b, 0x65, 0x70};
static const uint8_t ed25519_alg[] = {0x30, 0x05, 0x06, 0x03, 0x2b, 0x65, 0x70};
/* ecdsa-with-SHA256 (RFC 5758 §3.2): the stand-in's signature algorithm. */
static const uint8_t ecdsa_sha256_alg[] = {0x30, 0x0a, 0x06, 0x08, 0x2a, 0x86,
                                           0x48, 0xce, 0x3d, 0x04, 0x03, 0x02};
/* The stand-in's P-256 SPKI (uncompressed point). x: SHA-256 of "moat: stand-in key for
 * an Ed25519 SPKI (never used)" read big-endian mod p, then the first x from there on
 * with x^3 - 3x + b a square mod p; y = (x^3 - 3x + b)^((p+1)/4) mod p. Nobody knows
 * the discrete logarithm of such a point, so no one can sign for it. */
static const uint8_t stand_in_spki[91] = {
    0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a,
    0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00, 0x04, 0x14, 0xe1, 0xfb, 0xb8, 0xb8,
    0xa8, 0x2c, 0x63, 0xbc, 0xa9, 0xd1, 0x01, 0x1f, 0xfe, 0x4a, 0xf6, 0xde, 0x39, 0x57, 0x73, 0xb0,
    0x2f, 0xf8, 0x08, 0xc6, 0xfa, 0x1e, 0xfc, 0xe7, 0x89, 0xdd, 0x6c, 0x93, 0x39, 0xa6, 0x65, 0xf9,
    0x83, 0x09, 0x50, 0x37, 0x1c, 0x1b, 0x2f, 0x05, 0xad, 0x5a, 0x04, 0x89, 0x1e, 0xa1, 0xcc, 0x46,
    0x2f, 0x4f, 0x48, 0x3e, 0x7f, 0x02, 0x83, 0x80, 0x48, 0xc4, 0xcf};

/* The next element, which must have tag `want` (tls_read_der: definite, minimal
 * lengths of at most three bytes); *whole spans the element, *body its content. */
static bool der_expect(tls_reader *r, uint8_t want, tls_reader *body, tls_reader *whole)
{
    const uint8_t *start = r->p;
    if (!tls_read_der(r, want, body))
        return false;
    tls_reader_init(whole, start, (size_t)(r->p - start));
    return true;
}

/* The next element, whatever its (single-byte) tag. */
static bool der_next(tls_reader *r, uint8_t *tag, tls_reader *body, tls_reader *whole)
{
    return tls_peek_der_tag(r, tag) && (*tag & 0x1f) != 0x1f && der_expect(r, *tag, body, whole);
}

static bool reader_is(const tls_reader *r, const uint8_t *bytes, size_t n)
{
    return tls_reader_left(r) == n && memcmp(r->p, bytes, n) == 0;
}

/* Whether an AlgorithmIdentifier element names id-Ed25519; *exact: and is in the one
 * form RFC 8410 §3 allows (no parameters). False: not an AlgorithmIdentifier. */
static bool alg_is_ed25519(tls_reader alg, bool *is, bool *exact)
{
    tls_reader seq, oid, whole, all = alg;
    if (!der_expect(&alg, TLS_DER_SEQUENCE, &seq, &whole) || !tls_reader_done(&alg) ||
        !der_expect(&seq, TLS_DER_OID, &oid, &whole))
        return false;
    *is = reader_is(&oid, ed25519_oid, sizeof ed25519_oid);
    *exact = reader_is(&all, ed25519_alg, sizeof ed25519_alg);
    return true;
}

bool tls__ed25519_spki_key(const uint8_t *spki, size_t spki_len,
                           uint8_t pub[TLS_ED25519_PUBLIC_LEN])
{
    /* SubjectPublicKeyInfo ::= SEQUENCE { algorithm AlgorithmIdentifier,
     *     subjectPublicKey BIT STRING } with the key's 32 bytes as the bits (§4). */
    tls_reader r, seq, alg, alg_whole, bits, whole;
    uint8_t unused;
    tls_reader_init(&r, spki, spki_len);
    if (!der_expect(&r, TLS_DER_SEQUENCE, &seq, &whole) || !tls_reader_done(&r) ||
        !der_expect(&seq, TLS_DER_SEQUENCE, &alg, &alg_whole) ||
        !reader_is(&alg_whole, ed25519_alg, sizeof ed25519_alg) ||
        !der_expect(&seq, TLS_DER_BIT_STRING, &bits, &whole) || !tls_reader_done(&seq) ||
        !tls_read_u8(&bits, &unused) || unused != 0 ||
        !tls_read_bytes(&bits, pub, TLS_ED25519_PUBLIC_LEN) || !tls_reader_done(&bits))
        return false;
    return true;
}

/* Where a certificate's parts are (tls__x509_parts), with the pieces the stand-in
 * rebuilds around. */
typedef struct {
    tls_x509_parts pub;
    tls_reader tbs_body;  /* TBSCertificate's content */
    tls_reader inner_alg; /* TBSCertificate.signature */
    tls_reader outer_alg; /* Certificate.signatureAlgorithm */
    tls_reader sig_value; /* the signatureValue element */
} cert_walk;

static tls_error walk_cert(const uint8_t *der, size_t len, cert_walk *w)
{
    /* RFC 5280 §4.1. */
    tls_reader r, cert, cert_whole, tbs, spki, x, xw, bits;
    uint8_t tag, unused;
    memset(w, 0, sizeof *w);
    tls_reader_init(&r, der, len);
    if (!der_expect(&r, TLS_DER_SEQUENCE, &cert, &cert_whole) || !tls_reader_done(&r) ||
        !der_expect(&cert, TLS_DER_SEQUENCE, &tbs, &xw))
        return TLS_ERR_CERT_PARSE;
    w->pub.tbs = xw.p;
    w->pub.tbs_len = tls_reader_left(&xw);
    w->tbs_body = tbs;
    if (!der_next(&tbs, &tag, &x, &xw)) /* version [0] EXPLICIT, or the serial number */
        return TLS_ERR_CERT_PARSE;
    if (tag == DER_CTX0_CONSTRUCTED && !der_expect(&tbs, TLS_DER_INTEGER, &x, &xw))
        return TLS_ERR_CERT_PARSE;
    else if (tag != DER_CTX0_CONSTRUCTED && tag != TLS_DER_INTEGER)
        return TLS_ERR_CERT_PARSE;
    if (!der_expect(&tbs, TLS_DER_SEQUENCE, &x, &w->inner_alg) || /* signature */
        !der_expect(&tbs, TLS_DER_SEQUENCE, &x, &xw) ||           /* issuer */
        !der_expect(&tbs, TLS_DER_SEQUENCE, &x, &xw) ||           /* validity */
        !der_expect(&tbs, TLS_DER_SEQUENCE, &x, &xw) ||           /* subject */
        !der_expect(&tbs, TLS_DER_SEQUENCE, &spki, &xw))          /* subjectPublicKeyInfo */
        return TLS_ERR_CERT_PARSE;
    w->pub.spki = xw.p;
    w->pub.spki_len = tls_reader_left(&xw);
    if (!der_expect(&cert, TLS_DER_SEQUENCE, &x, &w->outer_alg) ||
        !der_expect(&cert, TLS_DER_BIT_STRING, &bits, &w->sig_value) || !tls_reader_done(&cert) ||
        !tls_read_u8(&bits, &unused) || unused != 0)
        return TLS_ERR_CERT_PARSE;
    w->pub.sig = bits.p;
    w->pub.sig_len = tls_reader_left(&bits);

    bool is, exact, inner_is, inner_exact, outer_is, outer_exact;
    tls_reader spki_alg;
    if (!der_expect(&spki, TLS_DER_SEQUENCE, &x, &spki_alg) ||
        !alg_is_ed25519(spki_alg, &is, &exact))
        return TLS_ERR_CERT_PARSE;
    if (is) {
        uint8_t pub[TLS_ED25519_PUBLIC_LEN];
        if (!tls__ed25519_spki_key(w->pub.spki, w->pub.spki_len, pub))
            return TLS_ERR_CERT_PARSE;
        w->pub.ed25519_key = true;
    }
    if (!alg_is_ed25519(w->inner_alg, &inner_is, &inner_exact) ||
        !alg_is_ed25519(w->outer_alg, &outer_is, &outer_exact))
        return TLS_ERR_CERT_PARSE;
    if (inner_is || outer_is) {
        /* RFC 5280 §4.1.1.2: the two MUST be the same; RFC 8410 §3: no parameters. */
        if (!inner_exact || !outer_exact)
            return TLS_ERR_CERT_PARSE;
        w->pub.ed25519_sig = true;
    }
    return TLS_OK;
}

tls_error tls__x509_parts(const uint8_t *der, size_t len, tls_x509_parts *out)
{
    cert_walk w;
    tls_error err = walk_cert(der, len, &w);
    if (err == TLS_OK)
        *out = w.pub;
    return err;
}

/* Bytes of a DER header for content of `len` (< 16 MiB: tls_read_der's bound). */
static size_t der_header_len(size_t len)
{
    return len < 0x80 ? 2 : len < 0x100 ? 3 : len < 0x10000 ? 4 : 5;
}

static uint8_t *der_put_header(uint8_t *p, uint8_t tag, size_t len)
{
    *p++ = tag;
    size_t n = der_header_len(len) - 2;
    if (n == 0) {
        *p++ = (uint8_t)len;
        return p;
    }
    *p++ = (uint8_t)(0x80 | n);
    for (size_t i = n; i > 0; i--)
        *p++ = (uint8_t)(len >> (8 * (i - 1)));
    return p;
}

static uint8_t *put(uint8_t *p, const uint8_t *from, size_t n)
{
    memcpy(p, from, n);
    return p + n;
}

tls_error tls__x509_ed25519_stand_in(const uint8_t *der, size_t len, uint8_t **out, size_t *out_len)
{
    *out = NULL;
    *out_len = 0;
    cert_walk w;
    tls_error err = walk_cert(der, len, &w);
    if (err != TLS_OK)
        return err;
    if (!w.pub.ed25519_key && !w.pub.ed25519_sig)
        return TLS_ERR_INVALID_ARGUMENT; /* nothing to stand in for: a caller bug */
    const uint8_t *alg = w.pub.ed25519_sig ? ecdsa_sha256_alg : w.inner_alg.p;
    size_t alg_len = w.pub.ed25519_sig ? sizeof ecdsa_sha256_alg : tls_reader_left(&w.inner_alg);
    const uint8_t *key = w.pub.ed25519_key ? stand_in_spki : w.pub.spki;
    size_t key_len = w.pub.ed25519_key ? sizeof stand_in_spki : w.pub.spki_len;

    /* TBSCertificate: [version, serial] alg [issuer, validity, subject] key [rest]. */
    const uint8_t *tbs = w.tbs_body.p, *tbs_end = w.tbs_body.end;
    const uint8_t *spki_end = w.pub.spki + w.pub.spki_len;
    size_t head = (size_t)(w.inner_alg.p - tbs);
    size_t names = (size_t)(w.pub.spki - w.inner_alg.end);
    size_t rest = (size_t)(tbs_end - spki_end);
    size_t tbs_len = head + alg_len + names + key_len + rest;
    size_t sig_len = tls_reader_left(&w.sig_value);
    size_t cert_len = der_header_len(tbs_len) + tbs_len + alg_len + sig_len;
    size_t total = der_header_len(cert_len) + cert_len;
    if (cert_len >= 0x1000000)
        return TLS_ERR_CERT_PARSE;

    uint8_t *buf = tls__alloc(total), *p = buf;
    if (!buf)
        return TLS_ERR_NO_MEMORY;
    p = der_put_header(p, TLS_DER_SEQUENCE, cert_len);
    p = der_put_header(p, TLS_DER_SEQUENCE, tbs_len);
    p = put(p, tbs, head);
    p = put(p, alg, alg_len);
    p = put(p, w.inner_alg.end, names);
    p = put(p, key, key_len);
    p = put(p, spki_end, rest);
    p = put(p, alg, alg_len);
    p = put(p, w.sig_value.p, sig_len);
    if ((size_t)(p - buf) != total)
        abort(); /* the sizes above are wrong: our bug, and memory is already at stake */
    *out = buf;
    *out_len = total;
    return TLS_OK;
}

/*
 * An Ed25519 private key in PKCS#8 (RFC 5958 OneAsymmetricKey, RFC 8410 §7): PEM
 * "PRIVATE KEY" (NUL-terminated, as signing_key_parse's contract has it) or DER, which
 * may be followed by that NUL and nothing else.
 *   SEQUENCE { version INTEGER (0 | 1), privateKeyAlgorithm AlgorithmIdentifier,
 *              privateKey OCTET STRING { CurvePrivateKey ::= OCTET STRING (32) },
 *              attributes [0] OPTIONAL, publicKey [1] BIT STRING OPTIONAL (v2 only) }
 * *is_ed25519: the algorithm is id-Ed25519 (only then is the result meaningful).
 * TLS_ERR_KEY_PARSE: an Ed25519 key, badly encoded. An optional publicKey is checked
 * for shape only: certkey.c pairs the key with its certificate anyway.
 */
static tls_error ed25519_pkcs8_der(const uint8_t *der, size_t len, uint8_t seed[32],
                                   bool *is_ed25519)
{
    tls_reader r, key, version, alg, alg_whole, priv, inner, x, xw, after;
    uint8_t v, tag, unused;
    bool exact;
    *is_ed25519 = false;
    tls_reader_init(&r, der, len);
    if (!der_expect(&r, TLS_DER_SEQUENCE, &key, &xw) ||
        !der_expect(&key, TLS_DER_INTEGER, &version, &xw) ||
        !der_expect(&key, TLS_DER_SEQUENCE, &alg, &alg_whole) ||
        !alg_is_ed25519(alg_whole, is_ed25519, &exact) || !*is_ed25519)
        return TLS_ERR_KEY_PARSE;
    if (!exact || !tls_read_u8(&version, &v) || !tls_reader_done(&version) || v > 1 ||
        !der_expect(&key, TLS_DER_OCTET_STRING, &priv, &xw) ||
        !der_expect(&priv, TLS_DER_OCTET_STRING, &inner, &xw) || !tls_reader_done(&priv) ||
        tls_reader_left(&inner) != TLS_ED25519_SEED_LEN)
        return TLS_ERR_KEY_PARSE;
    /* [0] attributes then [1] publicKey (v2 only), each at most once, in that order. */
    int last = -1;
    while (tls_reader_left(&key) > 0) {
        if (!der_next(&key, &tag, &x, &xw))
            return TLS_ERR_KEY_PARSE;
        int which = tag == DER_CTX0_CONSTRUCTED ? 0 : tag == DER_CTX1_PRIMITIVE ? 1 : -1;
        if (which <= last || (which == 1 && v != 1))
            return TLS_ERR_KEY_PARSE;
        if (which == 1 && (!tls_read_u8(&x, &unused) || unused != 0 ||
                           tls_reader_left(&x) != TLS_ED25519_PUBLIC_LEN))
            return TLS_ERR_KEY_PARSE;
        last = which;
    }
    tls_read_rest(&r, &after);
    if (tls_reader_left(&after) > 1 || (tls_reader_left(&after) == 1 && after.p[0] != 0))
        return TLS_ERR_KEY_PARSE;
    memcpy(seed, inner.p, TLS_ED25519_SEED_LEN);
    return TLS_OK;
}

#define PEM_PKCS8_HEADER "-----BEGIN PRIVATE KEY-----"
#define PEM_PKCS8_FOOTER "-----END PRIVATE KEY-----"

static tls_error ed25519_pkcs8_seed(const uint8_t *in, size_t len, uint8_t seed[32],
                                    bool *is_ed25519)
{
    *is_ed25519 = false;
    if (len == 0)
        return TLS_ERR_KEY_PARSE;
    /* Like mbedTLS: PEM only in a NUL-terminated buffer. */
    if (in[len - 1] != '\0' || !strstr((const char *)in, PEM_PKCS8_HEADER))
        return ed25519_pkcs8_der(in, len, seed, is_ed25519);
    mbedtls_pem_context pem;
    size_t used = 0;
    mbedtls_pem_init(&pem);
    int ret = mbedtls_pem_read_buffer(&pem, PEM_PKCS8_HEADER, PEM_PKCS8_FOOTER, in, NULL, 0, &used);
    tls_error err =
        ret == 0 ? ed25519_pkcs8_der(pem.buf, pem.buflen, seed, is_ed25519) : TLS_ERR_KEY_PARSE;
    mbedtls_pem_free(&pem); /* wipes the decoded key */
    return err;
}

bool tls__is_ed25519_key(const uint8_t *key, size_t len)
{
    uint8_t seed[TLS_ED25519_SEED_LEN];
    bool is_ed25519 = false;
    tls_error err = ed25519_pkcs8_seed(key, len, seed, &is_ed25519);
    tls__wipe(seed, sizeof seed);
    return err == TLS_OK && is_ed25519;
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

/* An Ed25519 seed into the back end that signs Ed25519; none: KEY_UNSUPPORTED. */
static tls_error ed25519_import(tls_signing_key *key, const uint8_t seed[TLS_ED25519_SEED_LEN])
{
    const tls_crypto_provider *b = tls__crypto()->sign[TLS_KEY_ED25519];
    if (!b || !b->signing_key_import)
        return TLS_ERR_KEY_UNSUPPORTED;
    tls_error err =
        b->signing_key_import(TLS_KEY_ED25519, seed, TLS_ED25519_SEED_LEN, &key->parsed);
    if (err != TLS_OK)
        return err;
    key->type = TLS_KEY_ED25519;
    key->parser = key->signer = b;
    key->signing = key->parsed;
    return TLS_OK;
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
    } else if (err == TLS_ERR_KEY_UNSUPPORTED || err == TLS_ERR_KEY_PARSE) {
        /* mbedTLS refuses Ed25519 PKCS#8: as unknown (PEM) or as garbage (DER, where it
         * tries every format in turn). Anything not Ed25519 keeps mbedTLS's answer. */
        uint8_t seed[TLS_ED25519_SEED_LEN];
        bool is_ed25519 = false;
        tls_error ed = ed25519_pkcs8_seed(der_or_pem, len, seed, &is_ed25519);
        if (is_ed25519)
            err = ed == TLS_OK ? ed25519_import(key, seed) : ed;
        tls__wipe(seed, sizeof seed);
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

/* For a certificate with Ed25519 only in its signature (an ECDSA or RSA leaf under an
 * Ed25519 CA): the mbedTLS-parsable stand-in, which keeps the real key. *copy NULL:
 * the certificate has no Ed25519 and goes to mbedTLS as it is. */
static tls_error stand_in_for_key(const uint8_t *cert_der, size_t cert_len, bool *ed25519_key,
                                  uint8_t **copy, size_t *copy_len)
{
    tls_x509_parts parts;
    *ed25519_key = false;
    *copy = NULL;
    *copy_len = 0;
    /* A certificate we cannot walk goes to mbedTLS, which reports it as before. */
    if (tls__x509_parts(cert_der, cert_len, &parts) != TLS_OK)
        return TLS_OK;
    *ed25519_key = parts.ed25519_key;
    if (parts.ed25519_key || !parts.ed25519_sig)
        return TLS_OK;
    return tls__x509_ed25519_stand_in(cert_der, cert_len, copy, copy_len);
}

bool tls__signing_key_matches_cert(const tls_signing_key *key, const uint8_t *cert_der,
                                   size_t cert_len)
{
    if (key->type == TLS_KEY_ED25519)
        return key->parser->signing_key_matches_cert(key->parsed, cert_der, cert_len);
    uint8_t *copy;
    size_t copy_len;
    bool ed25519_key;
    if (stand_in_for_key(cert_der, cert_len, &ed25519_key, &copy, &copy_len) != TLS_OK ||
        ed25519_key)
        return false;
    bool ok = key->parser->signing_key_matches_cert(key->parsed, copy ? copy : cert_der,
                                                    copy ? copy_len : cert_len);
    tls__free(copy, copy_len);
    return ok;
}

tls_error tls__sign(const tls_signing_key *key, uint16_t scheme, const uint8_t *msg, size_t msg_len,
                    uint8_t *sig, size_t cap, size_t *sig_len)
{
    return key->signer->sign(key->signing, scheme, msg, msg_len, sig, cap, sig_len);
}

tls_error tls__verify(const uint8_t *cert_der, size_t cert_len, uint16_t scheme, const uint8_t *msg,
                      size_t msg_len, const uint8_t *sig, size_t sig_len)
{
    if (scheme == TLS_SIG_ED25519) {
        const tls_crypto_provider *b = tls__crypto()->sign[TLS_KEY_ED25519];
        if (!b || !b->verify)
            return TLS_ERR_INVALID_ARGUMENT; /* never offered without a back end */
        return b->verify(cert_der, cert_len, scheme, msg, msg_len, sig, sig_len);
    }
    const tls_crypto_provider *fast = tls__crypto()->verify_ecdsa;
    if ((scheme == TLS_SIG_ECDSA_SECP256R1_SHA256 || scheme == TLS_SIG_ECDSA_SECP384R1_SHA384) &&
        fast != tls__crypto()->parse) {
        tls_error verdict = fast->verify(cert_der, cert_len, scheme, msg, msg_len, sig, sig_len);
        if (verdict == TLS_OK || verdict == TLS_ERR_DECRYPT)
            return verdict;
    }
    uint8_t *copy;
    size_t copy_len;
    bool ed25519_key;
    tls_error err = stand_in_for_key(cert_der, cert_len, &ed25519_key, &copy, &copy_len);
    if (err != TLS_OK)
        return err;
    /* Another scheme cannot have made a valid signature with an Ed25519 key. */
    if (ed25519_key)
        return TLS_ERR_DECRYPT;
    err = tls__crypto()->parse->verify(copy ? copy : cert_der, copy ? copy_len : cert_len, scheme,
                                       msg, msg_len, sig, sig_len);
    tls__free(copy, copy_len);
    return err;
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
    if (kind == TLS_X509_SIG_ED25519) {
        p = tls__crypto()->sign[TLS_KEY_ED25519];
        if (!p)
            return TLS_ERR_KEY_UNSUPPORTED; /* the caller reports an unsupported algorithm */
    }
    const tls_crypto_provider *fast = tls__crypto()->verify_ecdsa;
    if (kind == TLS_X509_SIG_ECDSA && fast != p) {
        tls_error verdict =
            fast->verify_spki(spki, spki_len, kind, hash, msg, msg_len, sig, sig_len);
        if (verdict == TLS_OK || verdict == TLS_ERR_DECRYPT)
            return verdict;
    }
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
