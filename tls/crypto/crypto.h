/*
 * crypto.h — the crypto provider interface: every primitive the engine uses.
 *
 * The engine calls only the tls__* functions below. Each *back end* (one file per
 * library: mbedtls.c, nettle.c, gcrypt.c, sodium.c) is a table of function pointers
 * (tls_crypto_provider) that fills only the slots its library does best and leaves
 * the rest NULL; mbedTLS fills every slot and works alone. The *provider* the engine
 * uses (provider.c) routes each algorithm to one back end: a constructor (hash_init,
 * aead_new, kx_new, key parsing) goes to the back end chosen for that algorithm, and
 * the object it returns remembers its back end (the `impl` header below), so later
 * calls on the object go straight to it. The routing table is chosen once
 * (tls__crypto_init, idempotent and thread-safe through pthread_once; environment
 * variable MOAT_CRYPTO=mbedtls selects the mbedTLS-only provider in a build that has
 * the fast back ends) and is read-only after: the only global the engine has.
 * `make CRYPTO=mbedtls` builds without the other libraries at all.
 *
 * Ownership: objects returned by *_new are owned by the caller and released with
 * the matching *_free, which wipes any secret they hold. Hash contexts live in
 * caller memory (tls_hash_ctx) and are wiped by tls__hash_final / tls__hash_clear.
 *
 * Randomness comes from getrandom(2): the kernel CSPRNG is safe to call from any
 * number of threads without shared mutable state in our process.
 */
#ifndef MOAT_TLS_CRYPTO_H
#define MOAT_TLS_CRYPTO_H

#include <stdalign.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "../tls.h"

typedef enum { TLS_HASH_SHA256 = 0, TLS_HASH_SHA384 = 1, TLS_HASH_SHA512 = 2 } tls_hash_id;

#define TLS_MAX_HASH_LEN 64
/* Largest ECDH/X25519 public share (uncompressed P-384 point) and shared secret. */
#define TLS_MAX_KX_PUBLIC_LEN 97
#define TLS_MAX_KX_SECRET_LEN 48
#define TLS_MAX_SIGNATURE_LEN 1024 /* RSA up to 8192 bits */
#define TLS_AEAD_TAG_LEN 16
#define TLS_AEAD_NONCE_LEN 12
#define TLS_MAX_AEAD_KEY_LEN 32

struct tls_crypto_provider;

/* Streaming hash state in caller memory; big enough for any back end's context.
 * impl is set by tls__hash_init: the back end that owns `opaque`. */
typedef struct {
    alignas(16) unsigned char opaque[512];
    tls_hash_id id;
    const struct tls_crypto_provider *impl;
} tls_hash_ctx;

typedef enum {
    TLS_AEAD_AES_128_GCM,
    TLS_AEAD_AES_256_GCM,
    TLS_AEAD_CHACHA20_POLY1305,
} tls_aead_id;

/* Keyed objects. Each back end's own object type starts with one of these headers;
 * the provider sets `impl` to the back end that made the object. */
typedef struct tls_aead { /* keyed AEAD, key schedule kept */
    const struct tls_crypto_provider *impl;
} tls_aead;
typedef struct tls_kx { /* an ephemeral key pair for one group */
    const struct tls_crypto_provider *impl;
} tls_kx;
/* A back end's private key. The engine sees tls_signing_key (provider.c), which pairs
 * the key as parsed (by mbedTLS: type, certificate match) with the same key imported
 * into the back end that signs fastest for its type. */
typedef struct tls_backend_key tls_backend_key;
typedef struct tls_signing_key tls_signing_key;

typedef enum {
    TLS_KEY_RSA,
    TLS_KEY_ECDSA_P256,
    TLS_KEY_ECDSA_P384,
    TLS_KEY_ED25519, /* RFC 8032; mbedTLS 2.28 has none: only a fast back end signs */
} tls_key_type;
#define TLS_KEY_TYPE_COUNT 4

/* Ed25519 sizes (RFC 8032 §5.1.5, §5.1.6). */
#define TLS_ED25519_SEED_LEN 32
#define TLS_ED25519_PUBLIC_LEN 32
#define TLS_ED25519_SIG_LEN 64

/* What an X.509 signatureAlgorithm asks of the issuer's key (verify_spki below). */
typedef enum {
    TLS_X509_SIG_RSA_PKCS1, /* RSASSA-PKCS1-v1_5 */
    TLS_X509_SIG_RSA_PSS,   /* RSASSA-PSS, MGF1 with the same hash, salt = hash length */
    TLS_X509_SIG_ECDSA,     /* ECDSA, DER Ecdsa-Sig-Value */
    TLS_X509_SIG_ED25519,   /* PureEdDSA (RFC 8410 §6): the hash argument is ignored */
} tls_x509_sig_kind;

typedef struct tls_crypto_provider {
    const char *name;

    void (*hash_init)(tls_hash_ctx *ctx, tls_hash_id id);
    void (*hash_update)(tls_hash_ctx *ctx, const uint8_t *data, size_t len);
    /* Writes tls__hash_len(id) bytes and wipes ctx. */
    void (*hash_final)(tls_hash_ctx *ctx, uint8_t *out);
    void (*hash_clone)(tls_hash_ctx *dst, const tls_hash_ctx *src);
    void (*hash_clear)(tls_hash_ctx *ctx);

    /* HMAC over the concatenation of n_parts buffers; out gets hash_len bytes. */
    tls_error (*hmac)(tls_hash_id id, const uint8_t *key, size_t key_len,
                      const uint8_t *const *parts, const size_t *part_lens, size_t n_parts,
                      uint8_t *out);
    tls_error (*hkdf_extract)(tls_hash_id id, const uint8_t *salt, size_t salt_len,
                              const uint8_t *ikm, size_t ikm_len, uint8_t *prk);
    tls_error (*hkdf_expand)(tls_hash_id id, const uint8_t *prk, size_t prk_len,
                             const uint8_t *info, size_t info_len, uint8_t *out, size_t out_len);

    tls_error (*aead_new)(tls_aead_id id, const uint8_t *key, size_t key_len, tls_aead **out);
    /* out may equal in. Writes in_len + 16 bytes (ciphertext then tag). */
    tls_error (*aead_seal)(tls_aead *aead, const uint8_t nonce[12], const uint8_t *aad,
                           size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out);
    /* in_len includes the 16-byte tag; writes in_len - 16 bytes. out may equal in.
     * TLS_ERR_DECRYPT when the tag does not verify (out then holds no plaintext). */
    tls_error (*aead_open)(tls_aead *aead, const uint8_t nonce[12], const uint8_t *aad,
                           size_t aad_len, const uint8_t *in, size_t in_len, uint8_t *out);
    void (*aead_free)(tls_aead *aead);

    /* Generates a fresh key pair for `group` (TLS_GROUP_*). TLS_ERR_CONFIG: unknown group. */
    tls_error (*kx_new)(uint16_t group, tls_kx **out);
    /* Our public share as sent on the wire: 32 bytes for X25519, 0x04||X||Y otherwise. */
    tls_error (*kx_public)(const tls_kx *kx, uint8_t *out, size_t cap, size_t *len);
    /* Computes the shared secret from the peer's share. TLS_ERR_INVALID_KEY_SHARE when
     * the share has the wrong length, is not an uncompressed point on the curve, or
     * (X25519) yields the all-zero secret (RFC 8446 §7.4.2). */
    tls_error (*kx_agree)(tls_kx *kx, const uint8_t *peer, size_t peer_len, uint8_t *secret,
                          size_t cap, size_t *len);
    void (*kx_free)(tls_kx *kx);

    /* Parses a private key (PKCS#8, PKCS#1, SEC1; PEM needs a NUL-terminated buffer
     * with len counting the NUL, as mbedtls_pk_parse_key wants). TLS_ERR_KEY_PARSE or
     * TLS_ERR_KEY_UNSUPPORTED (only RSA >= 2048 bits, P-256 and P-384). */
    tls_error (*signing_key_parse)(const uint8_t *key, size_t len, tls_backend_key **out);
    tls_key_type (*signing_key_type)(const tls_backend_key *key);
    /* True when the key pairs with the public key in the DER certificate. */
    bool (*signing_key_matches_cert)(const tls_backend_key *key, const uint8_t *cert_der,
                                     size_t cert_len);
    /* The raw private key, to import it into another back end: ECDSA, the big-endian
     * scalar padded to the group size (32/48 bytes). TLS_ERR_KEY_UNSUPPORTED for RSA
     * (nothing faster signs with it). The caller wipes `out`. */
    tls_error (*signing_key_export)(const tls_backend_key *key, uint8_t *out, size_t cap,
                                    size_t *len);
    /* A key from signing_key_export's bytes; TLS_ERR_KEY_UNSUPPORTED for a type this back
     * end does not sign with, TLS_ERR_KEY_PARSE for a scalar out of range. Ed25519: the
     * 32-byte seed (RFC 8032 §5.1.5's private key), as provider.c reads it from PKCS#8. */
    tls_error (*signing_key_import)(tls_key_type type, const uint8_t *priv, size_t len,
                                    tls_backend_key **out);
    /* Signs msg (the whole message; hashing is done here) with `scheme` (TLS_SIG_*).
     * RSA-PSS uses salt length = hash length (RFC 8446 §4.2.3); ECDSA output is DER;
     * Ed25519 is PureEdDSA over msg itself (64 bytes, RFC 8032 §5.1.6).
     * TLS_ERR_CONFIG if the scheme does not fit the key. */
    tls_error (*sign)(const tls_backend_key *key, uint16_t scheme, const uint8_t *msg,
                      size_t msg_len, uint8_t *sig, size_t cap, size_t *sig_len);
    void (*signing_key_free)(tls_backend_key *key);
    /* Verifies a signature made with the public key of a DER certificate.
     * TLS_ERR_DECRYPT on a bad signature, TLS_ERR_CERT_PARSE on a bad certificate. */
    tls_error (*verify)(const uint8_t *cert_der, size_t cert_len, uint16_t scheme,
                        const uint8_t *msg, size_t msg_len, const uint8_t *sig, size_t sig_len);

    /* Fills buf with cryptographically secure random bytes. */
    tls_error (*random)(uint8_t *buf, size_t len);

    /* Known-answer tests only (RFC 7748 §6.1, RFC 8448): a key pair from a fixed private
     * key instead of a fresh one. X25519: the 32 raw bytes as RFC 7748 prints them
     * (clamped here); P-256/P-384: the big-endian scalar, 32/48 bytes. TLS_ERR_CONFIG:
     * unknown group; TLS_ERR_INVALID_ARGUMENT: wrong length or scalar out of range.
     * Never use it for a live handshake: the key is not ephemeral. */
    tls_error (*kx_new_from_private)(uint16_t group, const uint8_t *priv, size_t len, tls_kx **out);

    /* Certificate signatures (verify.c): verifies sig over msg (hashed here with `hash`)
     * with the public key of a DER SubjectPublicKeyInfo. Unlike verify(), ECDSA takes any
     * of the three hashes on either curve (CAs do sign with P-384 and SHA-256), and the
     * key comes from an SPKI, so an issuer whose certificate mbedTLS would refuse to
     * parse whole can still be used. Keys: RSA of 2048 to 8192 bits, P-256, P-384, and
     * Ed25519 (RFC 8410 SPKI) with kind TLS_X509_SIG_ED25519 in a back end that has it.
     * TLS_ERR_DECRYPT: the signature does not verify; TLS_ERR_KEY_UNSUPPORTED: the key is
     * of another kind, curve or size; TLS_ERR_CERT_PARSE: spki is not a public key. */
    tls_error (*verify_spki)(const uint8_t *spki, size_t spki_len, tls_x509_sig_kind kind,
                             tls_hash_id hash, const uint8_t *msg, size_t msg_len,
                             const uint8_t *sig, size_t sig_len);
} tls_crypto_provider;

/* The back ends. mbedTLS is always built; the others unless `make CRYPTO=mbedtls`
 * (then MOAT_CRYPTO_FAST is not defined and they are absent). */
extern const tls_crypto_provider tls__crypto_mbedtls;
#ifdef MOAT_CRYPTO_FAST
extern const tls_crypto_provider tls__crypto_nettle; /* hashes, HMAC, HKDF, P-256/P-384 */
extern const tls_crypto_provider tls__crypto_gcrypt; /* AES-GCM, ChaCha20-Poly1305 */
extern const tls_crypto_provider tls__crypto_sodium; /* X25519, Ed25519 */
/* Library initialisation some back ends need before first use (libgcrypt's version
 * check and secure-memory setup, sodium_init); provider.c calls them once. False when
 * a library refuses: the provider then keeps the mbedTLS-only routes. */
bool tls__crypto_gcrypt_init(void);
bool tls__crypto_sodium_init(void);
#endif

/* Which back end serves each algorithm. */
typedef struct {
    const char *name;                   /* "default" or "mbedtls" */
    const tls_crypto_provider *hash[3]; /* by tls_hash_id: hashes, HMAC, HKDF */
    const tls_crypto_provider *aead[3]; /* by tls_aead_id */
    const tls_crypto_provider *x25519, *secp256r1, *secp384r1;
    /* By tls_key_type. sign[TLS_KEY_ED25519] also verifies Ed25519 signatures (the
     * certificate parser, mbedTLS, has no Ed25519); NULL: Ed25519 is unavailable. */
    const tls_crypto_provider *sign[TLS_KEY_TYPE_COUNT];
    const tls_crypto_provider *parse; /* key parsing; signatures the others do not take */
    /* ECDSA P-256/P-384 signature checks (certificates, CertificateVerify); a back end
     * other than `parse` answers only "valid" or "bad signature", anything else goes
     * to `parse` for its verdict. */
    const tls_crypto_provider *verify_ecdsa;
} tls_crypto_routes;

/* Selects the routes once; safe to call from any thread, any number of times. */
void tls__crypto_init(void);
const tls_crypto_routes *tls__crypto(void);
/* The back end for one key-exchange group, or NULL for an unknown group. */
const tls_crypto_provider *tls__crypto_for_group(uint16_t group);
/* True when the routes can sign and verify Ed25519: the handshake offers and accepts
 * TLS_SIG_ED25519 only then. False in a CRYPTO=mbedtls build or with MOAT_CRYPTO=mbedtls. */
bool tls__crypto_has_ed25519(void);

/* ---- Ed25519 in X.509 and PKCS#8 (RFC 8410), which mbedTLS 2.28 cannot parse --------- */

/* The parts of a DER certificate its signature and key checks need, found by a bounded
 * DER walk (provider.c). Slices point into the certificate. */
typedef struct {
    const uint8_t *tbs; /* the whole TBSCertificate element: what the issuer signed */
    size_t tbs_len;
    const uint8_t *spki; /* the whole SubjectPublicKeyInfo element */
    size_t spki_len;
    const uint8_t *sig; /* signatureValue's bits (after the unused-bits byte, which is 0) */
    size_t sig_len;
    bool ed25519_key; /* the SPKI's algorithm is id-Ed25519 (1.3.101.112) */
    bool ed25519_sig; /* the signatureAlgorithm is id-Ed25519 */
} tls_x509_parts;

/* Walks a DER certificate: one outer SEQUENCE making up all of der, a TBSCertificate
 * up to its SPKI, signatureAlgorithm and signatureValue. Only the Ed25519 encodings
 * are checked in full (RFC 8410 §3: parameters absent; §4: a 32-byte key; the
 * inner and outer signature algorithms identical when either is Ed25519); the rest is
 * left to the real parser. TLS_ERR_CERT_PARSE: not that shape. */
TLS_MUST_CHECK tls_error tls__x509_parts(const uint8_t *der, size_t len, tls_x509_parts *out);

/* For a certificate tls__x509_parts marks ed25519_key or ed25519_sig: a copy (tls__alloc,
 * *out_len bytes, the caller frees it) that mbedTLS 2.28 parses, with an Ed25519 SPKI
 * replaced by a fixed P-256 key whose private key nobody knows and an Ed25519
 * signatureAlgorithm (both places) replaced by ecdsa-with-SHA256. Everything else
 * (names, validity, extensions) is byte-for-byte the original. The copy is for reading
 * those fields only: its key and signature are meaningless and must never be used.
 * TLS_ERR_CERT_PARSE, TLS_ERR_NO_MEMORY. */
TLS_MUST_CHECK tls_error tls__x509_ed25519_stand_in(const uint8_t *der, size_t len, uint8_t **out,
                                                    size_t *out_len);

/* True when key (as tls__signing_key_parse takes it) is a well-formed Ed25519 PKCS#8
 * private key, whether or not a back end can use it: for error messages. */
bool tls__is_ed25519_key(const uint8_t *key, size_t len);

/* The 32-byte public key of an Ed25519 SubjectPublicKeyInfo (RFC 8410 §4), or false
 * when spki is not exactly that. */
bool tls__ed25519_spki_key(const uint8_t *spki, size_t spki_len,
                           uint8_t pub[TLS_ED25519_PUBLIC_LEN]);

/* ---- convenience wrappers (dispatch through tls__crypto()) ---------------------- */

size_t tls__hash_len(tls_hash_id id);
void tls__hash_init(tls_hash_ctx *ctx, tls_hash_id id);
void tls__hash_update(tls_hash_ctx *ctx, const uint8_t *data, size_t len);
void tls__hash_final(tls_hash_ctx *ctx, uint8_t *out);
void tls__hash_clone(tls_hash_ctx *dst, const tls_hash_ctx *src);
void tls__hash_clear(tls_hash_ctx *ctx);
/* One-shot hash of one buffer. */
void tls__hash(tls_hash_id id, const uint8_t *data, size_t len, uint8_t *out);
TLS_MUST_CHECK tls_error tls__hmac(tls_hash_id id, const uint8_t *key, size_t key_len,
                                   const uint8_t *msg, size_t msg_len, uint8_t *out);
/* HMAC over the concatenation of n_parts buffers. */
TLS_MUST_CHECK tls_error tls__hmac_parts(tls_hash_id id, const uint8_t *key, size_t key_len,
                                         const uint8_t *const *parts, const size_t *part_lens,
                                         size_t n_parts, uint8_t *out);
TLS_MUST_CHECK tls_error tls__hkdf_extract(tls_hash_id id, const uint8_t *salt, size_t salt_len,
                                           const uint8_t *ikm, size_t ikm_len, uint8_t *prk);
TLS_MUST_CHECK tls_error tls__hkdf_expand(tls_hash_id id, const uint8_t *prk, size_t prk_len,
                                          const uint8_t *info, size_t info_len, uint8_t *out,
                                          size_t out_len);
size_t tls__aead_key_len(tls_aead_id id);
TLS_MUST_CHECK tls_error tls__aead_new(tls_aead_id id, const uint8_t *key, size_t key_len,
                                       tls_aead **out);
TLS_MUST_CHECK tls_error tls__aead_seal(tls_aead *aead, const uint8_t nonce[12], const uint8_t *aad,
                                        size_t aad_len, const uint8_t *in, size_t in_len,
                                        uint8_t *out);
TLS_MUST_CHECK tls_error tls__aead_open(tls_aead *aead, const uint8_t nonce[12], const uint8_t *aad,
                                        size_t aad_len, const uint8_t *in, size_t in_len,
                                        uint8_t *out);
void tls__aead_free(tls_aead *aead);
TLS_MUST_CHECK tls_error tls__kx_new(uint16_t group, tls_kx **out);
TLS_MUST_CHECK tls_error tls__kx_public(const tls_kx *kx, uint8_t *out, size_t cap, size_t *len);
TLS_MUST_CHECK tls_error tls__kx_agree(tls_kx *kx, const uint8_t *peer, size_t peer_len,
                                       uint8_t *secret, size_t cap, size_t *len);
void tls__kx_free(tls_kx *kx);
/* Test hook: see kx_new_from_private above. */
TLS_MUST_CHECK tls_error tls__kx_new_from_private(uint16_t group, const uint8_t *priv, size_t len,
                                                  tls_kx **out);
TLS_MUST_CHECK tls_error tls__signing_key_parse(const uint8_t *key, size_t len,
                                                tls_signing_key **out);
tls_key_type tls__signing_key_type(const tls_signing_key *key);
bool tls__signing_key_matches_cert(const tls_signing_key *key, const uint8_t *cert_der,
                                   size_t cert_len);
TLS_MUST_CHECK tls_error tls__sign(const tls_signing_key *key, uint16_t scheme, const uint8_t *msg,
                                   size_t msg_len, uint8_t *sig, size_t cap, size_t *sig_len);
void tls__signing_key_free(tls_signing_key *key);
TLS_MUST_CHECK tls_error tls__verify(const uint8_t *cert_der, size_t cert_len, uint16_t scheme,
                                     const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                     size_t sig_len);
TLS_MUST_CHECK tls_error tls__random(uint8_t *buf, size_t len);
/* See verify_spki above; TLS_ERR_INTERNAL when the provider lacks it. */
TLS_MUST_CHECK tls_error tls__verify_spki(const uint8_t *spki, size_t spki_len,
                                          tls_x509_sig_kind kind, tls_hash_id hash,
                                          const uint8_t *msg, size_t msg_len, const uint8_t *sig,
                                          size_t sig_len);

/* Constant-time comparison: true when equal. */
bool tls__ct_equal(const uint8_t *a, const uint8_t *b, size_t len);
/* Wipes secrets in a way the compiler cannot drop. */
void tls__wipe(void *p, size_t len);

/* All engine allocations (see tls_set_allocator). tls__free wipes nothing; callers
 * wipe secrets first. tls__free(NULL, n) is fine. */
void *tls__alloc(size_t size);
void *tls__calloc(size_t size);
void tls__free(void *p, size_t size);

#endif
