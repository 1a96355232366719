/*
 * test_backends.c — each crypto back end's table on its own (tls/crypto/mbedtls.c, nettle.c,
 * gcrypt.c, sodium.c), called directly rather than through provider.c's routes.
 *
 * Issue 9: every primitive of every back end passes the same known-answer tests, and every
 * fast back end is equivalent to the mbedTLS baseline.
 * - Known answers (FIPS 180-2, RFC 4231, RFC 5869, the GCM specification's test cases,
 *   RFC 8439, RFC 7748, RFC 5903, RFC 6979, RFC 8032) run on each back end that fills the
 *   slot; every ECDSA signature made by any back end is checked by every ECDSA verifier. Which
 *   back end fills which slot is pinned by test_backends_slots_as_documented, so the
 *   per-family lists below cannot silently leave a back end out.
 * - Equivalence (MOAT_CRYPTO_FAST builds only): for a few hundred pseudo-random inputs a fast
 *   back end's output equals mbedTLS's byte for byte or, for ECDSA (nettle's nonces are
 *   random, mbedTLS's RFC 6979), verifies with mbedTLS. Inputs come from a fixed-seed
 *   generator, so a failure names its seed and iteration and reproduces; the environment
 *   variable MOAT_BACKENDS_SEED=<number> runs another seed. Ed25519 has no mbedTLS
 *   counterpart (mbedTLS 2.28 has none): known answers only.
 *
 * Calling a table directly means doing what provider.c does for its callers: setting the
 * impl header of each object made (aead_make, kx_make) and initialising libgcrypt and
 * libsodium (setup), which the provider skips under MOAT_CRYPTO=mbedtls.
 *
 * The P-256/P-384 keys and certificates are test_crypto.c's fixtures, the Ed25519 ones
 * tests/certs/ed25519/end.{cert,key}. Values marked
 * "computed" (not from an RFC) were computed once with Python's pyca/cryptography.
 */
#include "tls/crypto/crypto.h"

#include "tests/lib/unit.h"
#include "tests/lib/vectors.h"

#include <mbedtls/ecdsa.h>
#include <mbedtls/pem.h>
#include <mbedtls/x509_crt.h>

#include <inttypes.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- fixtures ------------------------------------------------------------------------ */

static const uint8_t MSG[] = "TLS 1.3, server CertificateVerify\0 and some bytes after the NUL";

/* ---- failure context and checks ------------------------------------------------------ */

/* What the running check is about (back end, vector; seed and iteration when random):
 * every failure message starts with it. */
static char where[256];

__attribute__((format(printf, 1, 2))) static void at(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(where, sizeof where, fmt, ap);
    va_end(ap);
}

static void to_hex(const uint8_t *p, size_t n, char *out)
{
    for (size_t i = 0; i < n; i++)
        snprintf(out + 2 * i, 3, "%02x", p[i]);
    out[2 * n] = '\0';
}

static void expect_err(tls_error got, tls_error want, const char *what)
{
    ck_assert_msg(got == want, "%s: %s returned %s, want %s", where, what, tls_error_name(got),
                  tls_error_name(want));
}

static void expect_true(bool cond, const char *what)
{
    ck_assert_msg(cond, "%s: %s", where, what);
}

static void expect_len(size_t got, size_t want, const char *what)
{
    ck_assert_msg(got == want, "%s: %s is %zu bytes, want %zu", where, what, got, want);
}

static void expect_mem(const void *got, const void *want, size_t n, const char *what)
{
    const uint8_t *g = got, *w = want;
    size_t i = 0;
    while (i < n && g[i] == w[i])
        i++;
    if (i == n)
        return;
    char gh[2 * 24 + 1], wh[2 * 24 + 1];
    size_t show = n - i < 24 ? n - i : 24;
    to_hex(g + i, show, gh);
    to_hex(w + i, show, wh);
    ck_abort_msg("%s: %s differs from byte %zu of %zu: got %s..., want %s...", where, what, i, n,
                 gh, wh);
}

static bool all_zero(const uint8_t *p, size_t n)
{
    uint8_t acc = 0;
    for (size_t i = 0; i < n; i++)
        acc |= p[i];
    return acc == 0;
}

/* ---- the back ends and their slots --------------------------------------------------- */

static const tls_crypto_provider *const BACKENDS[] = {
    &tls__crypto_mbedtls,
#ifdef MOAT_CRYPTO_FAST
    &tls__crypto_nettle,
    &tls__crypto_gcrypt,
    &tls__crypto_sodium,
#endif
};
#define N_BACKENDS (sizeof BACKENDS / sizeof BACKENDS[0])

enum {
    SLOT_HASH_INIT,
    SLOT_HASH_UPDATE,
    SLOT_HASH_FINAL,
    SLOT_HASH_CLONE,
    SLOT_HASH_CLEAR,
    SLOT_HMAC,
    SLOT_HKDF_EXTRACT,
    SLOT_HKDF_EXPAND,
    SLOT_AEAD_NEW,
    SLOT_AEAD_SEAL,
    SLOT_AEAD_OPEN,
    SLOT_AEAD_FREE,
    SLOT_KX_NEW,
    SLOT_KX_PUBLIC,
    SLOT_KX_AGREE,
    SLOT_KX_FREE,
    SLOT_KX_NEW_FROM_PRIVATE,
    SLOT_KEY_PARSE,
    SLOT_KEY_TYPE,
    SLOT_KEY_MATCHES_CERT,
    SLOT_KEY_EXPORT,
    SLOT_KEY_IMPORT,
    SLOT_SIGN,
    SLOT_KEY_FREE,
    SLOT_VERIFY,
    SLOT_RANDOM,
    SLOT_VERIFY_SPKI,
    N_SLOTS
};

static const char *const SLOT_NAMES[N_SLOTS] = {
    "hash_init",
    "hash_update",
    "hash_final",
    "hash_clone",
    "hash_clear",
    "hmac",
    "hkdf_extract",
    "hkdf_expand",
    "aead_new",
    "aead_seal",
    "aead_open",
    "aead_free",
    "kx_new",
    "kx_public",
    "kx_agree",
    "kx_free",
    "kx_new_from_private",
    "signing_key_parse",
    "signing_key_type",
    "signing_key_matches_cert",
    "signing_key_export",
    "signing_key_import",
    "sign",
    "signing_key_free",
    "verify",
    "random",
    "verify_spki",
};

enum {
    ALL_SLOTS = (1 << N_SLOTS) - 1,
    HASH_SLOTS = (1 << SLOT_HASH_INIT) | (1 << SLOT_HASH_UPDATE) | (1 << SLOT_HASH_FINAL) |
                 (1 << SLOT_HASH_CLONE) | (1 << SLOT_HASH_CLEAR) | (1 << SLOT_HMAC) |
                 (1 << SLOT_HKDF_EXTRACT) | (1 << SLOT_HKDF_EXPAND),
    AEAD_SLOTS = (1 << SLOT_AEAD_NEW) | (1 << SLOT_AEAD_SEAL) | (1 << SLOT_AEAD_OPEN) |
                 (1 << SLOT_AEAD_FREE),
    KX_SLOTS = (1 << SLOT_KX_NEW) | (1 << SLOT_KX_PUBLIC) | (1 << SLOT_KX_AGREE) |
               (1 << SLOT_KX_FREE) | (1 << SLOT_KX_NEW_FROM_PRIVATE),
    /* What signing with a key needs (provider.c's tls__sign and tls__signing_key_free). */
    SIGN_SLOTS = (1 << SLOT_KEY_TYPE) | (1 << SLOT_SIGN) | (1 << SLOT_KEY_FREE),
    VERIFY_SLOTS = (1 << SLOT_VERIFY) | (1 << SLOT_VERIFY_SPKI),
    /* What the key-parsing back end (tls__crypto()->parse) needs. */
    PARSE_SLOTS = (1 << SLOT_KEY_PARSE) | (1 << SLOT_KEY_TYPE) | (1 << SLOT_KEY_MATCHES_CERT) |
                  (1 << SLOT_KEY_EXPORT) | (1 << SLOT_KEY_FREE) | (1 << SLOT_VERIFY) |
                  (1 << SLOT_VERIFY_SPKI),
};

static unsigned filled_slots(const tls_crypto_provider *b)
{
    const bool filled[N_SLOTS] = {
        [SLOT_HASH_INIT] = b->hash_init != NULL,
        [SLOT_HASH_UPDATE] = b->hash_update != NULL,
        [SLOT_HASH_FINAL] = b->hash_final != NULL,
        [SLOT_HASH_CLONE] = b->hash_clone != NULL,
        [SLOT_HASH_CLEAR] = b->hash_clear != NULL,
        [SLOT_HMAC] = b->hmac != NULL,
        [SLOT_HKDF_EXTRACT] = b->hkdf_extract != NULL,
        [SLOT_HKDF_EXPAND] = b->hkdf_expand != NULL,
        [SLOT_AEAD_NEW] = b->aead_new != NULL,
        [SLOT_AEAD_SEAL] = b->aead_seal != NULL,
        [SLOT_AEAD_OPEN] = b->aead_open != NULL,
        [SLOT_AEAD_FREE] = b->aead_free != NULL,
        [SLOT_KX_NEW] = b->kx_new != NULL,
        [SLOT_KX_PUBLIC] = b->kx_public != NULL,
        [SLOT_KX_AGREE] = b->kx_agree != NULL,
        [SLOT_KX_FREE] = b->kx_free != NULL,
        [SLOT_KX_NEW_FROM_PRIVATE] = b->kx_new_from_private != NULL,
        [SLOT_KEY_PARSE] = b->signing_key_parse != NULL,
        [SLOT_KEY_TYPE] = b->signing_key_type != NULL,
        [SLOT_KEY_MATCHES_CERT] = b->signing_key_matches_cert != NULL,
        [SLOT_KEY_EXPORT] = b->signing_key_export != NULL,
        [SLOT_KEY_IMPORT] = b->signing_key_import != NULL,
        [SLOT_SIGN] = b->sign != NULL,
        [SLOT_KEY_FREE] = b->signing_key_free != NULL,
        [SLOT_VERIFY] = b->verify != NULL,
        [SLOT_RANDOM] = b->random != NULL,
        [SLOT_VERIFY_SPKI] = b->verify_spki != NULL,
    };
    unsigned mask = 0;
    for (int s = 0; s < N_SLOTS; s++) {
        if (filled[s])
            mask |= 1u << s;
    }
    return mask;
}

/* The slots each back end fills, as crypto.h and the back ends' headers describe them. */
static const struct {
    const tls_crypto_provider *b;
    unsigned slots;
} DOCUMENTED[] = {
    /* The complete baseline; it parses key files, so it imports nothing. */
    {&tls__crypto_mbedtls, ALL_SLOTS & ~(1 << SLOT_KEY_IMPORT)},
#ifdef MOAT_CRYPTO_FAST
    /* ECDSA verification too (TLS and certificate signatures). */
    {&tls__crypto_nettle,
     HASH_SLOTS | KX_SLOTS | SIGN_SLOTS | VERIFY_SLOTS | (1 << SLOT_KEY_IMPORT)},
    {&tls__crypto_gcrypt, AEAD_SLOTS},
    /* X25519, and Ed25519 signing and verification. */
    {&tls__crypto_sodium,
     KX_SLOTS | SIGN_SLOTS | VERIFY_SLOTS | (1 << SLOT_KEY_IMPORT) | (1 << SLOT_KEY_MATCHES_CERT)},
#endif
};

/* Per algorithm family, the back ends implementing it; mbedTLS, the reference of the
 * equivalence tests, is always entry 0. */
static const tls_crypto_provider *const HASHERS[] = {
    /* hashes, HMAC, HKDF */
    &tls__crypto_mbedtls,
#ifdef MOAT_CRYPTO_FAST
    &tls__crypto_nettle,
#endif
};
static const tls_crypto_provider *const AEADS[] = {
    &tls__crypto_mbedtls,
#ifdef MOAT_CRYPTO_FAST
    &tls__crypto_gcrypt,
#endif
};
/* ECDSA on P-256 and P-384: signers and verifiers. */
static const tls_crypto_provider *const SIGNERS[] = {
    &tls__crypto_mbedtls,
#ifdef MOAT_CRYPTO_FAST
    &tls__crypto_nettle,
#endif
};
static const tls_crypto_provider *const ECDSA_VERIFIERS[] = {
    &tls__crypto_mbedtls,
#ifdef MOAT_CRYPTO_FAST
    &tls__crypto_nettle,
#endif
};
#ifdef MOAT_CRYPTO_FAST
/* Ed25519: signs and verifies (mbedTLS 2.28 has no Ed25519). */
static const tls_crypto_provider *const ED25519_IMPLS[] = {&tls__crypto_sodium};
#endif

/* The key types each importing back end takes from signing_key_import. */
static const struct {
    const tls_crypto_provider *b;
    tls_key_type type;
} IMPORTS[] = {
#ifdef MOAT_CRYPTO_FAST
    {&tls__crypto_nettle, TLS_KEY_ECDSA_P256},
    {&tls__crypto_nettle, TLS_KEY_ECDSA_P384},
    {&tls__crypto_sodium, TLS_KEY_ED25519},
#endif
    {NULL, TLS_KEY_RSA}, /* none: nothing faster signs with RSA */
};

typedef struct {
    const tls_crypto_provider *b;
    uint16_t group;
} kx_impl;

static const kx_impl X25519_IMPLS[] = {
    {&tls__crypto_mbedtls, TLS_GROUP_X25519},
#ifdef MOAT_CRYPTO_FAST
    {&tls__crypto_sodium, TLS_GROUP_X25519},
#endif
};
/* mbedTLS's two first (entries 0 and 1), then the fast back ends'. */
static const kx_impl NIST_IMPLS[] = {
    {&tls__crypto_mbedtls, TLS_GROUP_SECP256R1},
    {&tls__crypto_mbedtls, TLS_GROUP_SECP384R1},
#ifdef MOAT_CRYPTO_FAST
    {&tls__crypto_nettle, TLS_GROUP_SECP256R1},
    {&tls__crypto_nettle, TLS_GROUP_SECP384R1},
#endif
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static bool listed(const tls_crypto_provider *const *list, size_t n, const tls_crypto_provider *b)
{
    for (size_t i = 0; i < n; i++) {
        if (list[i] == b)
            return true;
    }
    return false;
}

static bool kx_listed(const tls_crypto_provider *b, uint16_t group)
{
    for (size_t i = 0; i < COUNT(X25519_IMPLS); i++) {
        if (X25519_IMPLS[i].b == b && X25519_IMPLS[i].group == group)
            return true;
    }
    for (size_t i = 0; i < COUNT(NIST_IMPLS); i++) {
        if (NIST_IMPLS[i].b == b && NIST_IMPLS[i].group == group)
            return true;
    }
    return false;
}

/* Checked fixture: what provider.c does once before it routes anything to these. */
static void setup(void)
{
#ifdef MOAT_CRYPTO_FAST
    ck_assert(tls__crypto_gcrypt_init());
    ck_assert(tls__crypto_sodium_init());
#endif
}

START_TEST(test_backends_slots_as_documented)
{
    ck_assert_uint_eq(COUNT(DOCUMENTED), N_BACKENDS);
    for (size_t i = 0; i < N_BACKENDS; i++) {
        const tls_crypto_provider *b = BACKENDS[i];
        ck_assert_ptr_eq(DOCUMENTED[i].b, b);
        at("%s", b->name);
        unsigned got = filled_slots(b), want = DOCUMENTED[i].slots;
        for (int s = 0; s < N_SLOTS; s++) {
            bool g = got >> s & 1, w = want >> s & 1;
            ck_assert_msg(g == w, "%s: slot %s is %s but documented %s", b->name, SLOT_NAMES[s],
                          g ? "filled" : "NULL", w ? "filled" : "NULL");
        }
        /* The family lists name exactly the back ends that fill the family's slots. */
        expect_true(listed(HASHERS, COUNT(HASHERS), b) == ((got & HASH_SLOTS) == HASH_SLOTS),
                    "HASHERS lists it iff it fills the hash slots");
        expect_true(listed(AEADS, COUNT(AEADS), b) == ((got & AEAD_SLOTS) == AEAD_SLOTS),
                    "AEADS lists it iff it fills the AEAD slots");
        bool ed25519 = false;
#ifdef MOAT_CRYPTO_FAST
        ed25519 = listed(ED25519_IMPLS, COUNT(ED25519_IMPLS), b);
#endif
        expect_true((listed(SIGNERS, COUNT(SIGNERS), b) || ed25519) ==
                        ((got & SIGN_SLOTS) == SIGN_SLOTS),
                    "a signer list names it iff it fills the signing slots");
        expect_true((listed(ECDSA_VERIFIERS, COUNT(ECDSA_VERIFIERS), b) || ed25519) ==
                        ((got & VERIFY_SLOTS) == VERIFY_SLOTS),
                    "a verifier list names it iff it fills the verifying slots");
        expect_true(((got & KX_SLOTS) == KX_SLOTS) ==
                        (kx_listed(b, TLS_GROUP_X25519) || kx_listed(b, TLS_GROUP_SECP256R1) ||
                         kx_listed(b, TLS_GROUP_SECP384R1)),
                    "a kx list names it iff it fills the key-exchange slots");
        /* A signer either parses key files itself or imports what mbedTLS parsed. */
        if (got & (1 << SLOT_SIGN))
            expect_true(b->signing_key_parse || b->signing_key_import, "a signer makes keys");
    }
}
END_TEST

/* Each key-exchange back end makes keys for the groups listed for it and answers
 * TLS_ERR_CONFIG for every other. */
START_TEST(test_backends_kx_groups_as_listed)
{
    static const uint16_t groups[] = {TLS_GROUP_X25519,    TLS_GROUP_SECP256R1,
                                      TLS_GROUP_SECP384R1, 0x0019 /* secp521r1 */,
                                      0x001e /* x448 */,   0x0000};
    uint8_t priv[48];
    memset(priv, 0x01, sizeof priv); /* in range for every group */
    for (size_t i = 0; i < N_BACKENDS; i++) {
        const tls_crypto_provider *b = BACKENDS[i];
        if (!b->kx_new)
            continue;
        for (size_t g = 0; g < COUNT(groups); g++) {
            at("%s, group 0x%04x", b->name, groups[g]);
            bool ok = kx_listed(b, groups[g]);
            size_t priv_len = groups[g] == TLS_GROUP_SECP384R1 ? 48 : 32;
            tls_kx *kx = (tls_kx *)priv; /* must come back NULL on failure */
            tls_error err = b->kx_new(groups[g], &kx);
            expect_err(err, ok ? TLS_OK : TLS_ERR_CONFIG, "kx_new");
            if (ok)
                b->kx_free(kx);
            else
                expect_true(kx == NULL, "kx_new leaves *out NULL");
            kx = (tls_kx *)priv;
            err = b->kx_new_from_private(groups[g], priv, priv_len, &kx);
            expect_err(err, ok ? TLS_OK : TLS_ERR_CONFIG, "kx_new_from_private");
            if (ok)
                b->kx_free(kx);
            else
                expect_true(kx == NULL, "kx_new_from_private leaves *out NULL");
        }
    }
}
END_TEST

/* Each importing back end takes the key types listed for it and answers
 * TLS_ERR_KEY_UNSUPPORTED for every other. */
START_TEST(test_backends_import_types_as_listed)
{
    static const tls_key_type types[] = {TLS_KEY_RSA, TLS_KEY_ECDSA_P256, TLS_KEY_ECDSA_P384,
                                         TLS_KEY_ED25519};
    uint8_t priv[48];
    memset(priv, 0x01, sizeof priv); /* a valid scalar or seed for each type */
    for (size_t i = 0; i < N_BACKENDS; i++) {
        const tls_crypto_provider *b = BACKENDS[i];
        if (!b->signing_key_import)
            continue;
        for (size_t t = 0; t < COUNT(types); t++) {
            at("%s, key type %d", b->name, (int)types[t]);
            bool ok = false;
            for (size_t k = 0; k < COUNT(IMPORTS); k++)
                ok |= IMPORTS[k].b == b && IMPORTS[k].type == types[t];
            size_t len = types[t] == TLS_KEY_ECDSA_P384 ? 48 : 32;
            tls_backend_key *key = (tls_backend_key *)priv;
            expect_err(b->signing_key_import(types[t], priv, len, &key),
                       ok ? TLS_OK : TLS_ERR_KEY_UNSUPPORTED, "signing_key_import");
            if (ok) {
                expect_true(b->signing_key_type(key) == types[t], "signing_key_type");
                b->signing_key_free(key);
            } else {
                expect_true(key == NULL, "*out is NULL");
            }
        }
    }
}
END_TEST

/* With the fast back ends built in and no MOAT_CRYPTO, the routes are the fast ones
 * (provider.c's `fastest`); otherwise every route is mbedTLS. Either way each route's back
 * end fills the slots the provider calls on it. */
START_TEST(test_backends_routes_match_build)
{
    const tls_crypto_routes *r = tls__crypto();
    const tls_crypto_provider *m = &tls__crypto_mbedtls;
    const tls_crypto_provider *hash = m, *aead = m, *x25519 = m, *nist = m;
#ifdef MOAT_CRYPTO_FAST
    const char *env = getenv("MOAT_CRYPTO");
    if (!(env && strcmp(env, "mbedtls") == 0)) {
        hash = &tls__crypto_nettle;
        aead = &tls__crypto_gcrypt;
        x25519 = &tls__crypto_sodium;
        nist = &tls__crypto_nettle;
    }
#endif
    at("routes %s", r->name);
    for (int i = 0; i < 3; i++) {
        ck_assert_ptr_eq(r->hash[i], hash);
        ck_assert_ptr_eq(r->aead[i], aead);
        expect_true((filled_slots(r->hash[i]) & HASH_SLOTS) == HASH_SLOTS, "hash route complete");
        expect_true((filled_slots(r->aead[i]) & AEAD_SLOTS) == AEAD_SLOTS, "AEAD route complete");
    }
    ck_assert_ptr_eq(r->x25519, x25519);
    ck_assert_ptr_eq(r->secp256r1, nist);
    ck_assert_ptr_eq(r->secp384r1, nist);
    ck_assert_ptr_eq(tls__crypto_for_group(TLS_GROUP_X25519), x25519);
    ck_assert_ptr_eq(tls__crypto_for_group(TLS_GROUP_SECP256R1), nist);
    ck_assert_ptr_eq(tls__crypto_for_group(TLS_GROUP_SECP384R1), nist);
    ck_assert(kx_listed(r->x25519, TLS_GROUP_X25519));
    ck_assert(kx_listed(r->secp256r1, TLS_GROUP_SECP256R1));
    ck_assert(kx_listed(r->secp384r1, TLS_GROUP_SECP384R1));
    ck_assert_ptr_eq(r->sign[TLS_KEY_RSA], m);
    ck_assert_ptr_eq(r->sign[TLS_KEY_ECDSA_P256], nist);
    ck_assert_ptr_eq(r->sign[TLS_KEY_ECDSA_P384], nist);
    /* Ed25519: the fast routes' only, and the handshake offers it only then. */
    const tls_crypto_provider *ed25519 = nist == m ? NULL : r->sign[TLS_KEY_ED25519];
#ifdef MOAT_CRYPTO_FAST
    if (nist != m)
        ck_assert_ptr_eq(ed25519, &tls__crypto_sodium);
#endif
    ck_assert_ptr_eq(r->sign[TLS_KEY_ED25519], ed25519);
    ck_assert(tls__crypto_has_ed25519() == (ed25519 != NULL));
    if (ed25519)
        expect_true((filled_slots(ed25519) & (SIGN_SLOTS | VERIFY_SLOTS)) ==
                        (SIGN_SLOTS | VERIFY_SLOTS),
                    "Ed25519 route signs and verifies");
    static const tls_key_type routed[] = {TLS_KEY_RSA, TLS_KEY_ECDSA_P256, TLS_KEY_ECDSA_P384,
                                          TLS_KEY_ED25519};
    for (size_t i = 0; i < COUNT(routed); i++) {
        int k = routed[i];
        if (!r->sign[k])
            continue;
        expect_true((filled_slots(r->sign[k]) & SIGN_SLOTS) == SIGN_SLOTS, "sign route complete");
        /* provider.c imports the parsed key into a signer other than the parser. */
        expect_true(r->sign[k] == r->parse || r->sign[k]->signing_key_import,
                    "a signer other than the parser imports keys");
    }
    ck_assert_ptr_eq(r->parse, m);
    expect_true((filled_slots(r->parse) & PARSE_SLOTS) == PARSE_SLOTS, "parse route complete");
}
END_TEST

/* ---- hashes -------------------------------------------------------------------------- */

static const char MSG_2BLOCK_256[] = "abcdbcdecdefdefgefghfghighijhijkijkljklmklmnlmnomnopnopq";
static const char MSG_2BLOCK_512[] = "abcdefghbcdefghicdefghijdefghijkefghijklfghijklmghijklmn"
                                     "hijklmnoijklmnopjklmnopqklmnopqrlmnopqrsmnopqrstnopqrstu";

typedef struct {
    tls_hash_id id;
    const char *name, *msg, *digest;
} hash_vector;

/* FIPS 180-2 Appendix B.1, B.2 (SHA-256), C.1, C.2 (SHA-512), D.1, D.2 (SHA-384). */
static const hash_vector HASH_VECTORS[] = {
    {TLS_HASH_SHA256, "SHA-256 \"abc\"", "abc",
     "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"},
    {TLS_HASH_SHA256, "SHA-256 two blocks", MSG_2BLOCK_256,
     "248d6a61d20638b8e5c026930c3e6039a33ce45964ff2167f6ecedd419db06c1"},
    {TLS_HASH_SHA384, "SHA-384 \"abc\"", "abc",
     "cb00753f45a35e8bb5a03d699ac65007272c32ab0eded1631a8b605a43ff5bed"
     "8086072ba1e7cc2358baeca134c825a7"},
    {TLS_HASH_SHA384, "SHA-384 two blocks", MSG_2BLOCK_512,
     "09330c33f71147e83d192fc782cd1b4753111b173b3b05d22fa08086e3b0f712"
     "fcc7c71a557e2db966c3e9fa91746039"},
    {TLS_HASH_SHA512, "SHA-512 \"abc\"", "abc",
     "ddaf35a193617abacc417349ae20413112e6fa4e89a97ea20a9eeee64b55d39a"
     "2192992a274fc1a836ba3c23a3feebbd454d4423643ce80e2a9ac94fa54ca49f"},
    {TLS_HASH_SHA512, "SHA-512 two blocks", MSG_2BLOCK_512,
     "8e959b75dae313da8cf4f72814fc143f8f7779c6eb9f7fa17299aeadb6889018"
     "501d289e4900f7e4331b99dec4b5433ac7d329eeb6dd26545e96e55b874be909"},
};

static void hash_start(const tls_crypto_provider *b, tls_hash_ctx *ctx, tls_hash_id id)
{
    memset(ctx, 0xa5, sizeof *ctx); /* init must not depend on what was there */
    b->hash_init(ctx, id);
    ctx->id = id;
    ctx->impl = b; /* as tls__hash_init does */
}

static void hash_finish(const tls_crypto_provider *b, tls_hash_ctx *ctx, uint8_t *out)
{
    b->hash_final(ctx, out);
    expect_true(all_zero(ctx->opaque, sizeof ctx->opaque), "hash_final wipes the context");
}

static void hash_clone_of(const tls_crypto_provider *b, tls_hash_ctx *dst, const tls_hash_ctx *src)
{
    memset(dst, 0x5a, sizeof *dst);
    b->hash_clone(dst, src);
    dst->id = src->id; /* as tls__hash_clone does */
    dst->impl = b;
}

/* Feeds msg in pieces of `piece` bytes (0: one update), with an empty update first. */
static void hash_feed(const tls_crypto_provider *b, tls_hash_ctx *ctx, const uint8_t *msg,
                      size_t len, size_t piece)
{
    b->hash_update(ctx, NULL, 0);
    for (size_t off = 0; off < len;) {
        size_t n = piece && len - off > piece ? piece : len - off;
        b->hash_update(ctx, msg + off, n);
        off += n;
    }
}

/* Loop test over HASHERS: whole, byte by byte, and in pieces that end on and around the
 * 64- and 128-byte block boundaries. */
START_TEST(test_backend_hash_fips180_vectors)
{
    const tls_crypto_provider *b = HASHERS[_i];
    static const size_t pieces[] = {0, 1, 3, 55, 56, 63, 64, 65, 111, 112, 127, 128};
    for (size_t v = 0; v < COUNT(HASH_VECTORS); v++) {
        const hash_vector *hv = &HASH_VECTORS[v];
        uint8_t want[64], got[64];
        size_t n = unhex(hv->digest, want, sizeof want);
        ck_assert_uint_eq(n, tls__hash_len(hv->id));
        for (size_t p = 0; p < COUNT(pieces); p++) {
            at("%s, %s, pieces of %zu", b->name, hv->name, pieces[p]);
            tls_hash_ctx ctx;
            hash_start(b, &ctx, hv->id);
            hash_feed(b, &ctx, (const uint8_t *)hv->msg, strlen(hv->msg), pieces[p]);
            memset(got, 0, sizeof got);
            hash_finish(b, &ctx, got);
            expect_mem(got, want, n, "digest");
        }
    }
}
END_TEST

/* FIPS 180-2 B.3, C.3, D.3: one million 'a', fed in uneven pieces. */
START_TEST(test_backend_hash_million_a)
{
    const tls_crypto_provider *b = HASHERS[_i];
    static const struct {
        tls_hash_id id;
        const char *digest;
    } cases[] = {
        {TLS_HASH_SHA256, "cdc76e5c9914fb9281a1c7e284d73e67f1809a48a497200e046d39ccc7112cd0"},
        {TLS_HASH_SHA384, "9d0e1809716474cb086e834e310a4a1ced149e9c00f248527972cec5704c2a5b"
                          "07b8b3dc38ecc4ebae97ddd87f3d8985"},
        {TLS_HASH_SHA512, "e718483d0ce769644e2e42c7bc15b4638e1f98b13b2044285632a803afa973eb"
                          "de0ff244877ea60a4cb0432ce577c31beb009c5c2c49aa2e4eadb217ad8cc09b"},
    };
    static uint8_t a[1000];
    memset(a, 'a', sizeof a);
    for (size_t c = 0; c < COUNT(cases); c++) {
        at("%s, hash %d of a million 'a'", b->name, (int)cases[c].id);
        uint8_t want[64], got[64];
        size_t n = unhex(cases[c].digest, want, sizeof want);
        tls_hash_ctx ctx;
        hash_start(b, &ctx, cases[c].id);
        size_t fed = 0;
        for (size_t k = 0; fed < 1000000; k++) {
            size_t piece = 1 + k * 37 % 997;
            if (piece > 1000000 - fed)
                piece = 1000000 - fed;
            b->hash_update(&ctx, a, piece);
            fed += piece;
        }
        hash_finish(b, &ctx, got);
        expect_mem(got, want, n, "digest");
    }
}
END_TEST

/* A clone taken mid-stream finishes to the same digest as the original, and the original
 * keeps working after being cloned. */
START_TEST(test_backend_hash_clone_mid_stream)
{
    const tls_crypto_provider *b = HASHERS[_i];
    for (size_t v = 0; v < COUNT(HASH_VECTORS); v++) {
        const hash_vector *hv = &HASH_VECTORS[v];
        const uint8_t *msg = (const uint8_t *)hv->msg;
        size_t len = strlen(hv->msg);
        uint8_t want[64], got[64];
        size_t n = unhex(hv->digest, want, sizeof want);
        const size_t cuts[] = {0, 1, len / 2, len - 1, len};
        for (size_t c = 0; c < COUNT(cuts); c++) {
            at("%s, %s, clone after %zu bytes", b->name, hv->name, cuts[c]);
            tls_hash_ctx src, dst;
            hash_start(b, &src, hv->id);
            hash_feed(b, &src, msg, cuts[c], 0);
            hash_clone_of(b, &dst, &src);
            hash_feed(b, &src, msg + cuts[c], len - cuts[c], 0);
            hash_finish(b, &src, got);
            expect_mem(got, want, n, "original's digest");
            hash_feed(b, &dst, msg + cuts[c], len - cuts[c], 1);
            hash_finish(b, &dst, got);
            expect_mem(got, want, n, "clone's digest");
        }
    }
}
END_TEST

START_TEST(test_backend_hash_clear_wipes)
{
    const tls_crypto_provider *b = HASHERS[_i];
    for (tls_hash_id id = TLS_HASH_SHA256; id <= TLS_HASH_SHA512; id++) {
        at("%s, hash %d", b->name, (int)id);
        tls_hash_ctx ctx;
        hash_start(b, &ctx, id);
        b->hash_update(&ctx, (const uint8_t *)"abc", 3);
        b->hash_clear(&ctx);
        expect_true(all_zero(ctx.opaque, sizeof ctx.opaque), "hash_clear wipes the context");
    }
}
END_TEST

/* ---- HMAC ---------------------------------------------------------------------------- */

typedef struct {
    int rfc_case;
    const char *key; /* NULL: key_len bytes of key_fill */
    uint8_t key_fill;
    size_t key_len;
    const char *data;
    const char *mac[3]; /* by tls_hash_id */
} hmac_vector;

/* RFC 4231 test cases 1, 2 and 6 (a 131-byte key: longer than both block sizes). */
static const hmac_vector HMAC_VECTORS[] = {
    {1,
     NULL,
     0x0b,
     20,
     "Hi There",
     {"b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7",
      "afd03944d84895626b0825f4ab46907f15f9dadbe4101ec6"
      "82aa034c7cebc59cfaea9ea9076ede7f4af152e8b2fa9cb6",
      "87aa7cdea5ef619d4ff0b4241a1d6cb02379f4e2ce4ec2787ad0b30545e17cde"
      "daa833b7d6b8a702038b274eaea3f4e4be9d914eeb61f1702e696c203a126854"}},
    {2,
     "Jefe",
     0,
     4,
     "what do ya want for nothing?",
     {"5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
      "af45d2e376484031617f78d2b58a6b1b9c7ef464f5a01b47"
      "e42ec3736322445e8e2240ca5e69e2c78b3239ecfab21649",
      "164b7a7bfcf819e2e395fbe73b56e0a387bd64222e831fd610270cd7ea250554"
      "9758bf75c05a994a6d034f65f8f0e6fdcaeab1a34d4a6b4b636e070a38bce737"}},
    {6,
     NULL,
     0xaa,
     131,
     "Test Using Larger Than Block-Size Key - Hash Key First",
     {"60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
      "4ece084485813e9088d2c63a041bc5b44f9ef1012a2b588f"
      "3cd11f05033ac4c60c2ef6ab4030fe8296248df163f44952",
      "80b24263c7c1a3ebb71493c1dd7be8b49b46d1f41b4aeec1121b013783f8f352"
      "6b56d037e05f2598bd0fd2215d6a1e5295e64f73f63f0aec8b915a985d786598"}},
};

/* Loop test over HASHERS: each vector as one part, as three parts (one of them empty) and
 * one byte per part. */
START_TEST(test_backend_hmac_rfc4231)
{
    const tls_crypto_provider *b = HASHERS[_i];
    for (size_t v = 0; v < COUNT(HMAC_VECTORS); v++) {
        const hmac_vector *hv = &HMAC_VECTORS[v];
        uint8_t key[131];
        if (hv->key)
            memcpy(key, hv->key, hv->key_len);
        else
            memset(key, hv->key_fill, hv->key_len);
        const uint8_t *data = (const uint8_t *)hv->data;
        size_t len = strlen(hv->data);
        const uint8_t *parts[64];
        size_t lens[64];
        ck_assert_uint_le(len, COUNT(parts));
        for (tls_hash_id id = TLS_HASH_SHA256; id <= TLS_HASH_SHA512; id++) {
            uint8_t want[64], got[64];
            size_t n = unhex(hv->mac[id], want, sizeof want);
            ck_assert_uint_eq(n, tls__hash_len(id));
            at("%s, RFC 4231 case %d, hash %d, one part", b->name, hv->rfc_case, (int)id);
            parts[0] = data;
            lens[0] = len;
            expect_err(b->hmac(id, key, hv->key_len, parts, lens, 1, got), TLS_OK, "hmac");
            expect_mem(got, want, n, "MAC");

            at("%s, RFC 4231 case %d, hash %d, three parts", b->name, hv->rfc_case, (int)id);
            parts[0] = data;
            lens[0] = 1;
            parts[1] = NULL;
            lens[1] = 0;
            parts[2] = data + 1;
            lens[2] = len - 1;
            memset(got, 0, sizeof got);
            expect_err(b->hmac(id, key, hv->key_len, parts, lens, 3, got), TLS_OK, "hmac");
            expect_mem(got, want, n, "MAC");

            at("%s, RFC 4231 case %d, hash %d, byte per part", b->name, hv->rfc_case, (int)id);
            for (size_t i = 0; i < len; i++) {
                parts[i] = data + i;
                lens[i] = 1;
            }
            memset(got, 0, sizeof got);
            expect_err(b->hmac(id, key, hv->key_len, parts, lens, len, got), TLS_OK, "hmac");
            expect_mem(got, want, n, "MAC");
        }
    }
    at("%s, unknown hash", b->name);
    uint8_t out[64];
    const uint8_t *parts[1] = {(const uint8_t *)"x"};
    const size_t lens[1] = {1};
    expect_err(b->hmac((tls_hash_id)7, (const uint8_t *)"k", 1, parts, lens, 1, out),
               TLS_ERR_INVALID_ARGUMENT, "hmac");
}
END_TEST

/* ---- HKDF ---------------------------------------------------------------------------- */

typedef struct {
    int rfc_case;
    const char *ikm, *salt, *info, *prk, *okm; /* hex */
} hkdf_vector;

/* RFC 5869 Appendix A, test cases 1-3 (SHA-256); case 3 has an empty salt and info. */
static const hkdf_vector HKDF_VECTORS[] = {
    {1, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "000102030405060708090a0b0c",
     "f0f1f2f3f4f5f6f7f8f9", "077709362c2e32df0ddc3f0dc47bba6390b6c73bb50f9c3122ec844ad7c2b3e5",
     "3cb25f25faacd57a90434f64d0362f2a2d2d0a90cf1a5a4c5db02d56ecc4c5bf34007208d5b887185865"},
    {2,
     "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
     "202122232425262728292a2b2c2d2e2f303132333435363738393a3b3c3d3e3f"
     "404142434445464748494a4b4c4d4e4f",
     "606162636465666768696a6b6c6d6e6f707172737475767778797a7b7c7d7e7f"
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f"
     "a0a1a2a3a4a5a6a7a8a9aaabacadaeaf",
     "b0b1b2b3b4b5b6b7b8b9babbbcbdbebfc0c1c2c3c4c5c6c7c8c9cacbcccdcecf"
     "d0d1d2d3d4d5d6d7d8d9dadbdcdddedfe0e1e2e3e4e5e6e7e8e9eaebecedeeef"
     "f0f1f2f3f4f5f6f7f8f9fafbfcfdfeff",
     "06a6b88c5853361a06104c9ceb35b45cef760014904671014a193f40c15fc244",
     "b11e398dc80327a1c8e7f78c596a49344f012eda2d4efad8a050cc4c19afa97c"
     "59045a99cac7827271cb41c65e590e09da3275600c2f09b8367793a9aca3db71"
     "cc30c58179ec3e87c14c01d5c1f3434f1d87"},
    {3, "0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b0b", "", "",
     "19ef24a32c717b167f33a91d6f648bdf96596776afdb6377ac434c1c293ccb04",
     "8da4e775a563c18f715f802a063c5a31b8a11f5c5ee1879ec3454e5f3c738d2d9d201395faa4b61a96c8"},
};

START_TEST(test_backend_hkdf_rfc5869)
{
    const tls_crypto_provider *b = HASHERS[_i];
    for (size_t v = 0; v < COUNT(HKDF_VECTORS); v++) {
        const hkdf_vector *hv = &HKDF_VECTORS[v];
        at("%s, RFC 5869 case %d", b->name, hv->rfc_case);
        uint8_t ikm[80], salt[80], info[80], want_prk[32], want_okm[82], prk[32], okm[82];
        size_t ikm_len = unhex(hv->ikm, ikm, sizeof ikm);
        size_t salt_len = unhex(hv->salt, salt, sizeof salt);
        size_t info_len = unhex(hv->info, info, sizeof info);
        unhex(hv->prk, want_prk, sizeof want_prk);
        size_t okm_len = unhex(hv->okm, want_okm, sizeof want_okm);
        expect_err(
            b->hkdf_extract(TLS_HASH_SHA256, salt_len ? salt : NULL, salt_len, ikm, ikm_len, prk),
            TLS_OK, "hkdf_extract");
        expect_mem(prk, want_prk, 32, "PRK");
        expect_err(b->hkdf_expand(TLS_HASH_SHA256, prk, 32, info_len ? info : NULL, info_len, okm,
                                  okm_len),
                   TLS_OK, "hkdf_expand");
        expect_mem(okm, want_okm, okm_len, "OKM");
        /* A shorter output is a prefix of a longer one (RFC 5869 §2.3). */
        memset(okm, 0, sizeof okm);
        expect_err(b->hkdf_expand(TLS_HASH_SHA256, prk, 32, info, info_len, okm, 1), TLS_OK,
                   "hkdf_expand of 1 byte");
        expect_mem(okm, want_okm, 1, "OKM's first byte");
        expect_true(all_zero(okm + 1, sizeof okm - 1), "hkdf_expand writes only out_len bytes");
    }
}
END_TEST

/* RFC 5869 §2.2: no salt is HashLen zero bytes. */
START_TEST(test_backend_hkdf_extract_empty_salt_is_zeros)
{
    const tls_crypto_provider *b = HASHERS[_i];
    static const uint8_t zeros[64];
    const uint8_t ikm[] = "input keying material";
    for (tls_hash_id id = TLS_HASH_SHA256; id <= TLS_HASH_SHA512; id++) {
        at("%s, hash %d", b->name, (int)id);
        uint8_t a[64], z[64];
        size_t n = tls__hash_len(id);
        expect_err(b->hkdf_extract(id, NULL, 0, ikm, sizeof ikm, a), TLS_OK, "extract, no salt");
        expect_err(b->hkdf_extract(id, zeros, n, ikm, sizeof ikm, z), TLS_OK, "extract, zeros");
        expect_mem(a, z, n, "PRK");
    }
}
END_TEST

/* RFC 5869 §2.3: 0 < L <= 255 * HashLen, and a PRK of at least HashLen bytes. */
START_TEST(test_backend_hkdf_expand_bad_arguments)
{
    const tls_crypto_provider *b = HASHERS[_i];
    static uint8_t out[255 * 64 + 1];
    uint8_t prk[64];
    memset(prk, 0x0b, sizeof prk);
    for (tls_hash_id id = TLS_HASH_SHA256; id <= TLS_HASH_SHA512; id++) {
        at("%s, hash %d", b->name, (int)id);
        size_t n = tls__hash_len(id);
        expect_err(b->hkdf_expand(id, prk, n, NULL, 0, out, 0), TLS_ERR_INVALID_ARGUMENT,
                   "out_len 0");
        expect_err(b->hkdf_expand(id, prk, n, NULL, 0, out, 255 * n + 1), TLS_ERR_INVALID_ARGUMENT,
                   "out_len 255 * HashLen + 1");
        expect_err(b->hkdf_expand(id, prk, n - 1, NULL, 0, out, n), TLS_ERR_INVALID_ARGUMENT,
                   "prk_len HashLen - 1");
        expect_err(b->hkdf_expand(id, prk, 0, NULL, 0, out, n), TLS_ERR_INVALID_ARGUMENT,
                   "prk_len 0");
        expect_err(b->hkdf_expand(id, prk, n, NULL, 0, out, 255 * n), TLS_OK,
                   "out_len 255 * HashLen");
        expect_err(b->hkdf_expand(id, prk, sizeof prk, NULL, 0, out, n), TLS_OK,
                   "a PRK longer than HashLen");
    }
    at("%s, unknown hash", b->name);
    expect_err(b->hkdf_extract((tls_hash_id)7, NULL, 0, prk, 32, out), TLS_ERR_INVALID_ARGUMENT,
               "hkdf_extract");
    expect_err(b->hkdf_expand((tls_hash_id)7, prk, 64, NULL, 0, out, 32), TLS_ERR_INVALID_ARGUMENT,
               "hkdf_expand");
}
END_TEST

/* ---- AEAD ---------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    tls_aead_id id;
    const char *key, *nonce, *aad, *pt, *ct_tag; /* hex */
} aead_vector;

#define ZEROS12 "000000000000000000000000"
#define ZEROS16 "00000000000000000000000000000000"
static const char GCM_K[] = "feffe9928665731c6d6a8f9467308308";
static const char GCM_IV[] = "cafebabefacedbaddecaf888";
static const char GCM_AAD[] = "feedfacedeadbeeffeedfacedeadbeefabaddad2";
/* McGrew & Viega, "The Galois/Counter Mode of Operation", test cases 1-4 (AES-128) and
 * 13-16 (AES-256), all with 96-bit IVs; RFC 8439 §2.8.2. */
static const aead_vector AEAD_VECTORS[] = {
    {"GCM test case 1", TLS_AEAD_AES_128_GCM, ZEROS16, ZEROS12, "", "",
     "58e2fccefa7e3061367f1d57a4e7455a"},
    {"GCM test case 2", TLS_AEAD_AES_128_GCM, ZEROS16, ZEROS12, "", ZEROS16,
     "0388dace60b6a392f328c2b971b2fe78ab6e47d42cec13bdf53a67b21257bddf"},
    {"GCM test case 3", TLS_AEAD_AES_128_GCM, GCM_K, GCM_IV, "", GCM_PT,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091473f5985"
     "4d5c2af327cd64a62cf35abd2ba6fab4"},
    {"GCM test case 4", TLS_AEAD_AES_128_GCM, GCM_K, GCM_IV, GCM_AAD, GCM_PT60,
     "42831ec2217774244b7221b784d0d49ce3aa212f2c02a4e035c17e2329aca12e"
     "21d514b25466931c7d8f6a5aac84aa051ba30b396a0aac973d58e091"
     "5bc94fbc3221a5db94fae95ae7121a47"},
    {"GCM test case 13", TLS_AEAD_AES_256_GCM, ZEROS16 ZEROS16, ZEROS12, "", "",
     "530f8afbc74536b9a963b4f1c4cb738b"},
    {"GCM test case 14", TLS_AEAD_AES_256_GCM, ZEROS16 ZEROS16, ZEROS12, "", ZEROS16,
     "cea7403d4d606b6e074ec5d3baf39d18d0d1c8a799996bf0265b98b5d48ab919"},
    {"GCM test case 15", TLS_AEAD_AES_256_GCM,
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", GCM_IV, "", GCM_PT,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662898015ad"
     "b094dac5d93471bdec1a502270e3cc6c"},
    {"GCM test case 16", TLS_AEAD_AES_256_GCM,
     "feffe9928665731c6d6a8f9467308308feffe9928665731c6d6a8f9467308308", GCM_IV, GCM_AAD, GCM_PT60,
     "522dc1f099567d07f47f37a32a84427d643a8cdcbfe5c0c97598a2bd2555d1aa"
     "8cb08e48590dbb3da7b08b1056828838c5f61e6393ba7a0abcc9f662"
     "76fc6ece0f4e1768cddf8853bb2d551b"},
    {"RFC 8439 section 2.8.2", TLS_AEAD_CHACHA20_POLY1305,
     "808182838485868788898a8b8c8d8e8f909192939495969798999a9b9c9d9e9f", "070000004041424344454647",
     "50515253c0c1c2c3c4c5c6c7",
     /* "Ladies and Gentlemen of the class of '99: If I could offer you only one tip for
      * the future, sunscreen would be it." */
     "4c616469657320616e642047656e746c656d656e206f662074686520636c6173"
     "73206f66202739393a204966204920636f756c64206f6666657220796f75206f"
     "6e6c79206f6e652074697020666f7220746865206675747572652c2073756e73"
     "637265656e20776f756c642062652069742e",
     "d31a8d34648e60db7b86afbc53ef7ec2a4aded51296e08fea9e2b5a736ee62d6"
     "3dbea45e8ca9671282fafb69da92728b1a71de0a9e060b2905d6a5b67ecd3b36"
     "92ddbd7f2d778b8c9803aee328091b58fab324e4fad675945585808b4831d7bc"
     "3ff4def08e4b7a9de576d26586cec64b6116"
     "1ae10b594f09e26a7e902ecbd0600691"},
};
#define N_AEAD_VECTORS COUNT(AEAD_VECTORS)

static tls_aead *aead_make(const tls_crypto_provider *b, tls_aead_id id, const uint8_t *key,
                           size_t key_len)
{
    tls_aead *a = NULL;
    expect_err(b->aead_new(id, key, key_len, &a), TLS_OK, "aead_new");
    ck_assert_ptr_nonnull(a);
    a->impl = b; /* as tls__aead_new does */
    return a;
}

typedef struct {
    uint8_t key[32], nonce[12], aad[32], pt[128], ct[160];
    size_t key_len, aad_len, pt_len, ct_len;
} aead_case;

static void aead_case_load(const aead_vector *v, aead_case *c)
{
    memset(c, 0, sizeof *c);
    c->key_len = unhex(v->key, c->key, sizeof c->key);
    ck_assert_uint_eq(c->key_len, tls__aead_key_len(v->id));
    ck_assert_uint_eq(unhex(v->nonce, c->nonce, sizeof c->nonce), 12);
    c->aad_len = unhex(v->aad, c->aad, sizeof c->aad);
    c->pt_len = unhex(v->pt, c->pt, sizeof c->pt);
    c->ct_len = unhex(v->ct_tag, c->ct, sizeof c->ct);
    ck_assert_uint_eq(c->ct_len, c->pt_len + TLS_AEAD_TAG_LEN);
}

/* Loop test over AEADS x AEAD_VECTORS: seal and open, out of place, in place and with the
 * output 8 bytes below the input (the TLS 1.2 record layer's explicit-nonce layout). */
START_TEST(test_backend_aead_known_answers)
{
    const tls_crypto_provider *b = AEADS[_i / N_AEAD_VECTORS];
    const aead_vector *v = &AEAD_VECTORS[_i % N_AEAD_VECTORS];
    aead_case c;
    aead_case_load(v, &c);
    tls_aead *a = aead_make(b, v->id, c.key, c.key_len);
    uint8_t out[160], buf[8 + 160];

    at("%s, %s, out of place", b->name, v->name);
    expect_err(b->aead_seal(a, c.nonce, c.aad, c.aad_len, c.pt, c.pt_len, out), TLS_OK, "seal");
    expect_mem(out, c.ct, c.ct_len, "ciphertext and tag");
    memset(out, 0, sizeof out);
    expect_err(b->aead_open(a, c.nonce, c.aad, c.aad_len, c.ct, c.ct_len, out), TLS_OK, "open");
    expect_mem(out, c.pt, c.pt_len, "plaintext");

    at("%s, %s, in place", b->name, v->name);
    memcpy(buf, c.pt, c.pt_len);
    expect_err(b->aead_seal(a, c.nonce, c.aad, c.aad_len, buf, c.pt_len, buf), TLS_OK, "seal");
    expect_mem(buf, c.ct, c.ct_len, "ciphertext and tag");
    expect_err(b->aead_open(a, c.nonce, c.aad, c.aad_len, buf, c.ct_len, buf), TLS_OK, "open");
    expect_mem(buf, c.pt, c.pt_len, "plaintext");

    at("%s, %s, output 8 bytes below the input", b->name, v->name);
    memcpy(buf + 8, c.pt, c.pt_len);
    expect_err(b->aead_seal(a, c.nonce, c.aad, c.aad_len, buf + 8, c.pt_len, buf), TLS_OK, "seal");
    expect_mem(buf, c.ct, c.ct_len, "ciphertext and tag");
    memcpy(buf + 8, c.ct, c.ct_len);
    expect_err(b->aead_open(a, c.nonce, c.aad, c.aad_len, buf + 8, c.ct_len, buf), TLS_OK, "open");
    expect_mem(buf, c.pt, c.pt_len, "plaintext");

    /* The key schedule is kept: the same object seals again. */
    at("%s, %s, second record", b->name, v->name);
    expect_err(b->aead_seal(a, c.nonce, c.aad, c.aad_len, c.pt, c.pt_len, out), TLS_OK, "seal");
    expect_mem(out, c.ct, c.ct_len, "ciphertext and tag");
    b->aead_free(a);
}
END_TEST

/* Loop test over AEADS x AEAD_VECTORS: any damage gives TLS_ERR_DECRYPT and the output,
 * wherever it is, holds no plaintext. */
START_TEST(test_backend_aead_open_tampered)
{
    const tls_crypto_provider *b = AEADS[_i / N_AEAD_VECTORS];
    const aead_vector *v = &AEAD_VECTORS[_i % N_AEAD_VECTORS];
    aead_case c;
    aead_case_load(v, &c);
    tls_aead *a = aead_make(b, v->id, c.key, c.key_len);
    static const char *const damages[] = {"last tag bit",      "first tag byte",
                                          "ciphertext byte",   "one more AAD byte",
                                          "one AAD byte less", "nonce"};
    for (size_t d = 0; d < COUNT(damages); d++) {
        uint8_t in[160], aad[33], nonce[12], out[160], buf[8 + 160];
        size_t aad_len = c.aad_len;
        memcpy(in, c.ct, c.ct_len);
        memcpy(aad, c.aad, c.aad_len);
        memcpy(nonce, c.nonce, 12);
        switch (d) {
        case 0:
            in[c.ct_len - 1] ^= 0x80;
            break;
        case 1:
            in[c.pt_len] ^= 0x01;
            break;
        case 2:
            if (c.pt_len == 0)
                continue;
            in[c.pt_len / 2] ^= 0x01;
            break;
        case 3:
            aad[aad_len++] = 0x00;
            break;
        case 4:
            if (aad_len == 0)
                continue;
            aad_len--;
            break;
        default:
            nonce[11] ^= 0x01;
            break;
        }
        at("%s, %s, %s changed", b->name, v->name, damages[d]);
        memset(out, 0xee, sizeof out);
        expect_err(b->aead_open(a, nonce, aad, aad_len, in, c.ct_len, out), TLS_ERR_DECRYPT,
                   "open, out of place");
        expect_true(all_zero(out, c.pt_len), "the output is wiped");
        memcpy(buf, in, c.ct_len);
        expect_err(b->aead_open(a, nonce, aad, aad_len, buf, c.ct_len, buf), TLS_ERR_DECRYPT,
                   "open, in place");
        expect_true(all_zero(buf, c.pt_len), "the buffer is wiped");
        memcpy(buf + 8, in, c.ct_len);
        expect_err(b->aead_open(a, nonce, aad, aad_len, buf + 8, c.ct_len, buf), TLS_ERR_DECRYPT,
                   "open, 8 bytes below");
        expect_true(all_zero(buf, c.pt_len), "the output is wiped");
    }
    at("%s, %s, shorter than a tag", b->name, v->name);
    uint8_t out[160];
    expect_err(b->aead_open(a, c.nonce, c.aad, c.aad_len, c.ct, 15, out), TLS_ERR_DECRYPT, "open");
    expect_err(b->aead_open(a, c.nonce, c.aad, c.aad_len, c.ct, 0, out), TLS_ERR_DECRYPT, "open");
    /* Failures leave the object usable. */
    at("%s, %s, after failures", b->name, v->name);
    expect_err(b->aead_open(a, c.nonce, c.aad, c.aad_len, c.ct, c.ct_len, out), TLS_OK, "open");
    expect_mem(out, c.pt, c.pt_len, "plaintext");
    b->aead_free(a);
}
END_TEST

/* Loop test over AEADS: bad keys and ids; an output ahead inside the input is refused. */
START_TEST(test_backend_aead_misuse)
{
    const tls_crypto_provider *b = AEADS[_i];
    uint8_t key[33] = {0}, nonce[12] = {0}, buf[100] = {0};
    static const struct {
        tls_aead_id id;
        size_t key_len;
    } bad[] = {{TLS_AEAD_AES_128_GCM, 32},       {TLS_AEAD_AES_128_GCM, 15},
               {TLS_AEAD_AES_256_GCM, 16},       {TLS_AEAD_CHACHA20_POLY1305, 16},
               {TLS_AEAD_CHACHA20_POLY1305, 33}, {(tls_aead_id)99, 16}};
    for (size_t i = 0; i < COUNT(bad); i++) {
        at("%s, id %d with a %zu-byte key", b->name, (int)bad[i].id, bad[i].key_len);
        tls_aead *a = (tls_aead *)key;
        expect_err(b->aead_new(bad[i].id, key, bad[i].key_len, &a), TLS_ERR_INVALID_ARGUMENT,
                   "aead_new");
        expect_true(a == NULL, "*out is NULL");
    }
    b->aead_free(NULL);
    static const tls_aead_id ids[] = {TLS_AEAD_AES_128_GCM, TLS_AEAD_AES_256_GCM,
                                      TLS_AEAD_CHACHA20_POLY1305};
    for (size_t i = 0; i < COUNT(ids); i++) {
        at("%s, id %d, overlapping buffers", b->name, (int)ids[i]);
        tls_aead *a = aead_make(b, ids[i], key, tls__aead_key_len(ids[i]));
        memset(buf, 0x11, sizeof buf);
        expect_err(b->aead_seal(a, nonce, NULL, 0, buf, 64, buf + 1), TLS_ERR_INVALID_ARGUMENT,
                   "seal with the output 1 byte ahead");
        expect_err(b->aead_seal(a, nonce, NULL, 0, buf, 64, buf), TLS_OK, "seal in place");
        expect_err(b->aead_open(a, nonce, NULL, 0, buf, 80, buf + 8), TLS_ERR_INVALID_ARGUMENT,
                   "open with the output 8 bytes ahead");
        expect_true(all_zero(buf + 8, 64), "the output is wiped");
        b->aead_free(a);
    }
}
END_TEST

/* ---- key exchange -------------------------------------------------------------------- */

static tls_kx *kx_make(const tls_crypto_provider *b, uint16_t group, const uint8_t *priv,
                       size_t len)
{
    tls_kx *kx = NULL;
    expect_err(b->kx_new_from_private(group, priv, len, &kx), TLS_OK, "kx_new_from_private");
    ck_assert_ptr_nonnull(kx);
    kx->impl = b; /* as tls__kx_new_from_private does */
    return kx;
}

static tls_kx *kx_make_hex(const tls_crypto_provider *b, uint16_t group, const char *hex)
{
    uint8_t priv[48];
    size_t n = unhex(hex, priv, sizeof priv);
    return kx_make(b, group, priv, n);
}

static tls_kx *kx_fresh(const tls_crypto_provider *b, uint16_t group)
{
    tls_kx *kx = NULL;
    expect_err(b->kx_new(group, &kx), TLS_OK, "kx_new");
    ck_assert_ptr_nonnull(kx);
    kx->impl = b;
    return kx;
}

static size_t kx_share(const tls_crypto_provider *b, const tls_kx *kx, uint8_t *out, size_t cap)
{
    size_t len = 0;
    expect_err(b->kx_public(kx, out, cap, &len), TLS_OK, "kx_public");
    return len;
}

static void expect_public(const tls_crypto_provider *b, const tls_kx *kx, const char *hex)
{
    uint8_t want[97], got[97];
    size_t n = unhex(hex, want, sizeof want);
    expect_len(kx_share(b, kx, got, sizeof got), n, "public share");
    expect_mem(got, want, n, "public share");
}

/* Agrees with a hex peer share and compares with a hex secret. */
static void expect_agree(const tls_crypto_provider *b, tls_kx *kx, const char *peer_hex,
                         const char *secret_hex)
{
    uint8_t peer[97], want[48], got[48];
    size_t peer_len = unhex(peer_hex, peer, sizeof peer), n = unhex(secret_hex, want, sizeof want);
    size_t len = 0;
    expect_err(b->kx_agree(kx, peer, peer_len, got, sizeof got, &len), TLS_OK, "kx_agree");
    expect_len(len, n, "shared secret");
    expect_mem(got, want, n, "shared secret");
}

/* kx_agree that must fail with TLS_ERR_INVALID_KEY_SHARE and leave *len alone. */
static void expect_bad_share(const tls_crypto_provider *b, tls_kx *kx, const uint8_t *peer,
                             size_t peer_len, const char *what)
{
    uint8_t secret[48];
    size_t len = 0;
    expect_err(b->kx_agree(kx, peer, peer_len, secret, sizeof secret, &len),
               TLS_ERR_INVALID_KEY_SHARE, what);
    expect_len(len, 0, "*len after a refused share");
}

/* ---- X25519 -------------------------------------------------------------------------- */

/* RFC 7748 §6.1. */
START_TEST(test_backend_x25519_rfc7748_6_1)
{
    const tls_crypto_provider *b = X25519_IMPLS[_i].b;
    at("%s, RFC 7748 6.1", b->name);
    tls_kx *a = kx_make_hex(b, TLS_GROUP_X25519, A_PRIV);
    tls_kx *k = kx_make_hex(b, TLS_GROUP_X25519, B_PRIV);
    expect_public(b, a, A_PUB);
    expect_public(b, k, B_PUB);
    expect_agree(b, a, B_PUB, K);
    expect_agree(b, k, A_PUB, K);
    b->kx_free(a);
    b->kx_free(k);
}
END_TEST

/* RFC 7748 §5.2: the two single-step vectors (unclamped scalars; the second u has its top
 * bit set), then the iterated one after 1 and 1,000 steps. */
START_TEST(test_backend_x25519_rfc7748_5_2)
{
    const tls_crypto_provider *b = X25519_IMPLS[_i].b;
    static const struct {
        const char *scalar, *u, *out;
    } vectors[] = {
        {"a546e36bf0527c9d3b16154b82465edd62144c0ac1fc5a18506a2244ba449ac4",
         "e6db6867583030db3594c1a424b15f7c726624ec26b3353b10a903a6d0ab1c4c",
         "c3da55379de9c6908e94ea4df28d084f32eccf03491c71f754b4075577a28552"},
        {"4b66e9d4d1b4673c5ad22691957d6af5c11b6421e0ea01d42ca4169e7918ba0d",
         "e5210f12786811d3f4b7959d0538ae2c31dbe7106fc03c3efc4cd549c715a493",
         "95cbde9476e8907d7aade45cb4b873f88b595a68799fa152e6f8f7647aac7957"},
    };
    for (size_t v = 0; v < COUNT(vectors); v++) {
        at("%s, RFC 7748 5.2 vector %zu", b->name, v + 1);
        tls_kx *kx = kx_make_hex(b, TLS_GROUP_X25519, vectors[v].scalar);
        expect_agree(b, kx, vectors[v].u, vectors[v].out);
        b->kx_free(kx);
    }
    uint8_t k[32] = {9}, u[32] = {9}, r[32], want1[32], want1000[32];
    unhex("422c8e7a6227d7bca1350b3e2bb7279f7897b87bb6854b783c60e80311ae3079", want1, 32);
    unhex("684cf59ba83309552800ef566f2f4d3c1c3887c49360e3875f2eb94d99532c51", want1000, 32);
    for (int i = 1; i <= 1000; i++) {
        at("%s, RFC 7748 5.2 iteration %d", b->name, i);
        tls_kx *kx = kx_make(b, TLS_GROUP_X25519, k, 32);
        size_t len = 0;
        expect_err(b->kx_agree(kx, u, 32, r, sizeof r, &len), TLS_OK, "kx_agree");
        b->kx_free(kx);
        memcpy(u, k, 32);
        memcpy(k, r, 32);
        if (i == 1)
            expect_mem(k, want1, 32, "result after 1 iteration");
    }
    expect_mem(k, want1000, 32, "result after 1,000 iterations");
}
END_TEST

/* RFC 7748 §6.1 / RFC 8446 §7.4.2: low-order points give the all-zero secret, which is
 * refused; so are shares of any length but 32. */
START_TEST(test_backend_x25519_rejects_bad_shares)
{
    const tls_crypto_provider *b = X25519_IMPLS[_i].b;
    static const char *const low_order[] = {
        "0000000000000000000000000000000000000000000000000000000000000000",
        "0100000000000000000000000000000000000000000000000000000000000000",
        "e0eb7a7c3b41b8ae1656e3faf19fc46ada098deb9c32b1fd866205165f49b800",
        "5f9c95bca3508c24b1d0b1559c83ef5b04445cc4581c8e86d8224eddd09f1157",
        "ecffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "edffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
        "eeffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff7f",
    };
    tls_kx *kx = kx_fresh(b, TLS_GROUP_X25519);
    for (size_t i = 0; i < COUNT(low_order); i++) {
        at("%s, low-order u %s", b->name, low_order[i]);
        uint8_t peer[32];
        unhex(low_order[i], peer, sizeof peer);
        expect_bad_share(b, kx, peer, 32, "kx_agree");
    }
    at("%s, share lengths", b->name);
    uint8_t share[33];
    size_t len = kx_share(b, kx, share, sizeof share);
    expect_len(len, 32, "public share");
    share[32] = 0;
    expect_bad_share(b, kx, share, 31, "a 31-byte share");
    expect_bad_share(b, kx, share, 33, "a 33-byte share");
    expect_bad_share(b, kx, share, 0, "an empty share");
    uint8_t secret[32];
    expect_err(b->kx_agree(kx, share, 32, secret, sizeof secret, &len), TLS_OK, "our own share");
    b->kx_free(kx);
}
END_TEST

/* RFC 7748 §5: the top bit of u is ignored, and u >= p is accepted and reduced. */
START_TEST(test_backend_x25519_high_bit_and_non_canonical)
{
    const tls_crypto_provider *b = X25519_IMPLS[_i].b;
    at("%s", b->name);
    uint8_t priv[32], u[32] = {9}, z[32], z2[32], pub[32];
    size_t n;
    for (size_t i = 0; i < sizeof priv; i++)
        priv[i] = (uint8_t)(i + 1);
    tls_kx *kx = kx_make(b, TLS_GROUP_X25519, priv, 32);
    expect_err(b->kx_agree(kx, u, 32, z, 32, &n), TLS_OK, "agree with the base point");
    kx_share(b, kx, pub, sizeof pub);
    expect_mem(z, pub, 32, "X25519(k, 9), the public key");
    u[31] |= 0x80;
    expect_err(b->kx_agree(kx, u, 32, z2, 32, &n), TLS_OK, "agree, top bit set");
    expect_mem(z2, z, 32, "secret with the top bit set");
    memset(u, 0xff, sizeof u); /* p + 9 = 2^255 - 10 */
    u[0] = 0xf6;
    u[31] = 0x7f;
    expect_err(b->kx_agree(kx, u, 32, z2, 32, &n), TLS_OK, "agree with p + 9");
    expect_mem(z2, z, 32, "secret for p + 9");
    b->kx_free(kx);
}
END_TEST

START_TEST(test_backend_x25519_fresh_keys_and_misuse)
{
    const tls_crypto_provider *b = X25519_IMPLS[_i].b;
    at("%s", b->name);
    tls_kx *x = kx_fresh(b, TLS_GROUP_X25519), *y = kx_fresh(b, TLS_GROUP_X25519);
    uint8_t px[97], py[97], sx[48], sy[48];
    size_t lx = kx_share(b, x, px, sizeof px), ly = kx_share(b, y, py, sizeof py), nx = 0, ny = 0;
    expect_len(lx, 32, "public share");
    expect_true(memcmp(px, py, 32) != 0, "two fresh keys differ");
    expect_err(b->kx_agree(x, py, ly, sx, sizeof sx, &nx), TLS_OK, "kx_agree");
    expect_err(b->kx_agree(y, px, lx, sy, sizeof sy, &ny), TLS_OK, "kx_agree");
    expect_len(nx, 32, "secret");
    expect_len(ny, 32, "secret");
    expect_mem(sx, sy, 32, "the two sides' secrets");
    expect_true(!all_zero(sx, 32), "a non-zero secret");
    expect_err(b->kx_public(x, px, 31, &lx), TLS_ERR_INTERNAL, "kx_public into 31 bytes");
    expect_err(b->kx_agree(x, py, 32, sx, 31, &nx), TLS_ERR_INTERNAL, "kx_agree into 31 bytes");
    b->kx_free(x);
    b->kx_free(y);
    b->kx_free(NULL);
    uint8_t priv[33] = {1};
    tls_kx *kx = (tls_kx *)priv;
    expect_err(b->kx_new_from_private(TLS_GROUP_X25519, priv, 31, &kx), TLS_ERR_INVALID_ARGUMENT,
               "kx_new_from_private of 31 bytes");
    expect_true(kx == NULL, "*out is NULL");
    expect_err(b->kx_new_from_private(TLS_GROUP_X25519, priv, 33, &kx), TLS_ERR_INVALID_ARGUMENT,
               "kx_new_from_private of 33 bytes");
}
END_TEST

/* ---- P-256 and P-384 ----------------------------------------------------------------- */

typedef struct {
    const char *name;
    uint16_t group, scheme, other_scheme;
    tls_key_type type;
    size_t n; /* bytes per coordinate and scalar */
    const char *p, *order, *gx, *gy, *neg_gy;
    /* RFC 5903 §8.1 / §8.2. */
    const char *i, *gi, *r, *gr, *z;
    /* A point with a tiny x (computed), the same with x + p, and the secret with i. */
    const char *small_x, *small_x_plus_p, *small_x_secret;
    /* ECDSA: test_crypto.c's key and certificate, and RFC 6979 A.2.5 / A.2.6 (message
     * "sample", SHA-256 / SHA-384). */
    const char *key_pem, *cert_pem, *key_d;
    tls_hash_id hash;
    const char *rfc6979_x, *rfc6979_ux, *rfc6979_uy, *rfc6979_r, *rfc6979_s;
} curve_info;

static const curve_info P256 = {
    .name = "P-256",
    .group = TLS_GROUP_SECP256R1,
    .scheme = TLS_SIG_ECDSA_SECP256R1_SHA256,
    .other_scheme = TLS_SIG_ECDSA_SECP384R1_SHA384,
    .type = TLS_KEY_ECDSA_P256,
    .n = 32,
    .p = "ffffffff00000001000000000000000000000000ffffffffffffffffffffffff",
    .order = "ffffffff00000000ffffffffffffffffbce6faada7179e84f3b9cac2fc632551",
    .gx = "6b17d1f2e12c4247f8bce6e563a440f277037d812deb33a0f4a13945d898c296",
    .gy = "4fe342e2fe1a7f9b8ee7eb4a7c0f9e162bce33576b315ececbb6406837bf51f5",
    .neg_gy = "b01cbd1c01e58065711814b583f061e9d431cca994cea1313449bf97c840ae0a",
    .i = "c88f01f510d9ac3f70a292daa2316de544e9aab8afe84049c62a9c57862d1433",
    .gi = "04dad0b65394221cf9b051e1feca5787d098dfe637fc90b9ef945d0c3772581180"
          "5271a0461cdb8252d61f1c456fa3e59ab1f45b33accf5f58389e0577b8990bb3",
    .r = "c6ef9c5d78ae012a011164acb397ce2088685d8f06bf9be0b283ab46476bee53",
    .gr = "04d12dfb5289c8d4f81208b70270398c342296970a0bccb74c736fc7554494bf63"
          "56fbf3ca366cc23e8157854c13c58d6aac23f046ada30f8353e74f33039872ab",
    .z = "d6840f6b42f6edafd13116e0e12565202fef8e9ece7dce03812464d04b9442de",
    .small_x = "040000000000000000000000000000000000000000000000000000000000000005"
               "459243b9aa581806fe913bce99817ade11ca503c64d9a3c533415c083248fbcc",
    .small_x_plus_p = "04ffffffff00000001000000000000000000000001000000000000000000000004"
                      "459243b9aa581806fe913bce99817ade11ca503c64d9a3c533415c083248fbcc",
    .small_x_secret = "eb3c22782b1adddb15b360d833e4d29b816b549aed8547d8665dfd8d9ddde8dc",
    .key_pem = KEY_P256_SEC1,
    .cert_pem = CERT_P256,
    .key_d = "d54d42d51b3c852858dac9c6dfe7a9ae3b9d2d6498940c2196d3456803de56d0",
    .hash = TLS_HASH_SHA256,
    .rfc6979_x = "c9afa9d845ba75166b5c215767b1d6934e50c3db36e89b127b8a622b120f6721",
    .rfc6979_ux = "60fed4ba255a9d31c961eb74c6356d68c049b8923b61fa6ce669622e60f29fb6",
    .rfc6979_uy = "7903fe1008b8bc99a41ae9e95628bc64f2f1b20c2d7e9f5177a3c294d4462299",
    .rfc6979_r = "efd48b2aacb6a8fd1140dd9cd45e81d69d2c877b56aaf991c34d0ea84eaf3716",
    .rfc6979_s = "f7cb1c942d657c41d436c7a1b6e29f65f3e900dbb9aff4064dc4ab2f843acda8",
};

static const curve_info P384 = {
    .name = "P-384",
    .group = TLS_GROUP_SECP384R1,
    .scheme = TLS_SIG_ECDSA_SECP384R1_SHA384,
    .other_scheme = TLS_SIG_ECDSA_SECP256R1_SHA256,
    .type = TLS_KEY_ECDSA_P384,
    .n = 48,
    .p = "fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffe"
         "ffffffff0000000000000000ffffffff",
    .order = "ffffffffffffffffffffffffffffffffffffffffffffffffc7634d81f4372ddf"
             "581a0db248b0a77aecec196accc52973",
    .gx = "aa87ca22be8b05378eb1c71ef320ad746e1d3b628ba79b9859f741e082542a38"
          "5502f25dbf55296c3a545e3872760ab7",
    .gy = "3617de4a96262c6f5d9e98bf9292dc29f8f41dbd289a147ce9da3113b5f0b8c0"
          "0a60b1ce1d7e819d7a431d7c90ea0e5f",
    .neg_gy = "c9e821b569d9d390a26167406d6d23d6070be242d765eb831625ceec4a0f473e"
              "f59f4e30e2817e6285bce2846f15f1a0",
    .i = "099f3c7034d4a2c699884d73a375a67f7624ef7c6b3c0f160647b67414dce655"
         "e35b538041e649ee3faef896783ab194",
    .gi = "04667842d7d180ac2cde6f74f37551f55755c7645c20ef73e31634fe72b4c55ee6"
          "de3ac808acb4bdb4c88732aee95f41aa"
          "9482ed1fc0eeb9cafc4984625ccfc23f65032149e0e144ada024181535a0f38e"
          "eb9fcff3c2c947dae69b4c634573a81c",
    .r = "41cb0779b4bdb85d47846725fbec3c9430fab46cc8dc5060855cc9bda0aa2942"
         "e0308312916b8ed2960e4bd55a7448fc",
    .gr = "04e558dbef53eecde3d3fccfc1aea08a89a987475d12fd950d83cfa41732bc509d"
          "0d1ac43a0336def96fda41d0774a3571"
          "dcfbec7aacf3196472169e838430367f66eebe3c6e70c416dd5f0c68759dd1ff"
          "f83fa40142209dff5eaad96db9e6386c",
    .z = "11187331c279962d93d604243fd592cb9d0a926f422e47187521287e7156c5c4"
         "d603135569b9e9d09cf5d4a270f59746",
    .small_x = "04000000000000000000000000000000000000000000000000000000000000000"
               "000000000000000000000000000000002"
               "8cdeadbbd04911a3c1931e26df3fa6439dca9c7eb286fbd46fc319f0e2bb7802"
               "32baf57825fc0c1912ada2fefe84024c",
    .small_x_plus_p = "04fffffffffffffffffffffffffffffffffffffffffffffffffffffffffffffff"
                      "effffffff000000000000000100000001"
                      "8cdeadbbd04911a3c1931e26df3fa6439dca9c7eb286fbd46fc319f0e2bb7802"
                      "32baf57825fc0c1912ada2fefe84024c",
    .small_x_secret = "683e08e36552ec7b313648444c91567141080f7121a45508991fdc07ea5b79c0"
                      "77ffc2b6ec4dfd25a18c80af1bff2024",
    .key_pem = KEY_P384_SEC1,
    .cert_pem = CERT_P384,
    .key_d = "aefa633a3a91405c5148089e6c933046276b3dff6460237205026a98e9425860"
             "ca301a7f2ad28ce600ef3683c79e1e0d",
    .hash = TLS_HASH_SHA384,
    .rfc6979_x = "6b9d3dad2e1b8c1c05b19875b6659f4de23c3b667bf297ba9aa47740787137d8"
                 "96d5724e4c70a825f872c9ea60d2edf5",
    .rfc6979_ux = "ec3a4e415b4e19a4568618029f427fa5da9a8bc4ae92e02e06aae5286b300c64"
                  "def8f0ea9055866064a254515480bc13",
    .rfc6979_uy = "8015d9b72d7d57244ea8ef9ac0c621896708a59367f9dfb9f54ca84b3f1c9db1"
                  "288b231c3ae0d4fe7344fd2533264720",
    .rfc6979_r = "94edbb92a5ecb8aad4736e56c691916b3f88140666ce9fa73d64c4ea95ad133c"
                 "81a648152e44acf96e36dd1e80fabe46",
    .rfc6979_s = "99ef4aeb15f178cea1fe40db2603138f130e740a19624526203b6351d0a3a94f"
                 "a329c145786e679e7b82c71a38628ac8",
};

static const curve_info *const CURVES[] = {&P256, &P384};

static const curve_info *curve_for_group(uint16_t group)
{
    return group == TLS_GROUP_SECP256R1 ? &P256 : &P384;
}

/* Hex of 0x04 || x || y. */
static void point_hex(const char *x, const char *y, char *out, size_t cap)
{
    snprintf(out, cap, "04%s%s", x, y);
}

/* RFC 5903 §8.1 (P-256) and §8.2 (P-384): both parties' shares and the shared x. */
START_TEST(test_backend_ecdh_rfc5903)
{
    const tls_crypto_provider *b = NIST_IMPLS[_i].b;
    const curve_info *c = curve_for_group(NIST_IMPLS[_i].group);
    at("%s, %s, RFC 5903", b->name, c->name);
    tls_kx *i = kx_make_hex(b, c->group, c->i), *r = kx_make_hex(b, c->group, c->r);
    expect_public(b, i, c->gi);
    expect_public(b, r, c->gr);
    expect_agree(b, i, c->gr, c->z);
    expect_agree(b, r, c->gi, c->z);
    b->kx_free(i);
    b->kx_free(r);
}
END_TEST

/* Scalars 1 and n - 1 (public G and -G), a peer with a tiny x coordinate, and scalars out
 * of range. */
START_TEST(test_backend_ecdh_scalar_edges)
{
    const tls_crypto_provider *b = NIST_IMPLS[_i].b;
    const curve_info *c = curve_for_group(NIST_IMPLS[_i].group);
    char g[2 + 4 * 48 + 1], neg_g[2 + 4 * 48 + 1];
    point_hex(c->gx, c->gy, g, sizeof g);
    point_hex(c->gx, c->neg_gy, neg_g, sizeof neg_g);
    uint8_t d[49], order[48];
    unhex(c->order, order, sizeof order);

    at("%s, %s, scalar 1", b->name, c->name);
    memset(d, 0, sizeof d);
    d[c->n - 1] = 1;
    tls_kx *kx = kx_make(b, c->group, d, c->n);
    expect_public(b, kx, g);
    /* 1 * Q = Q: the secret is the peer's x. */
    char gr_x[2 * 48 + 1];
    snprintf(gr_x, sizeof gr_x, "%.*s", (int)(2 * c->n), c->gr + 2);
    expect_agree(b, kx, c->gr, gr_x);
    b->kx_free(kx);

    at("%s, %s, scalar n - 1", b->name, c->name);
    memcpy(d, order, c->n);
    d[c->n - 1] -= 1; /* n is odd */
    kx = kx_make(b, c->group, d, c->n);
    expect_public(b, kx, neg_g);
    b->kx_free(kx);

    at("%s, %s, a peer with a tiny x", b->name, c->name);
    kx = kx_make_hex(b, c->group, c->i);
    expect_agree(b, kx, c->small_x, c->small_x_secret);
    b->kx_free(kx);

    static const char *const bad_names[] = {
        "zero", "n", "n + 1", "all ones", "one byte short", "one byte long"};
    for (size_t k = 0; k < COUNT(bad_names); k++) {
        size_t len = c->n;
        memset(d, 0, sizeof d);
        if (k == 1 || k == 2) {
            memcpy(d, order, c->n);
            d[c->n - 1] += (uint8_t)(k - 1); /* the order's last byte is not 0xff */
        } else if (k == 3) {
            memset(d, 0xff, c->n);
        } else if (k == 4) {
            d[0] = 1;
            len = c->n - 1;
        } else if (k == 5) {
            d[c->n] = 1;
            len = c->n + 1;
        }
        at("%s, %s, scalar %s", b->name, c->name, bad_names[k]);
        kx = (tls_kx *)d;
        expect_err(b->kx_new_from_private(c->group, d, len, &kx), TLS_ERR_INVALID_ARGUMENT,
                   "kx_new_from_private");
        expect_true(kx == NULL, "*out is NULL");
    }
}
END_TEST

/* RFC 8446 §4.2.8.2: only an uncompressed point on the curve, coordinates < p, exactly
 * 1 + 2 * n bytes long. */
START_TEST(test_backend_ecdh_rejects_bad_points)
{
    const tls_crypto_provider *b = NIST_IMPLS[_i].b;
    const curve_info *c = curve_for_group(NIST_IMPLS[_i].group);
    tls_kx *kx = kx_make_hex(b, c->group, c->i);
    uint8_t good[98], bad[98], p[48];
    size_t len = unhex(c->gr, good, sizeof good), n = c->n;
    unhex(c->p, p, sizeof p);

    at("%s, %s, bad points", b->name, c->name);
    /* The tiny-x point is accepted (test_backend_ecdh_scalar_edges); x + p, the same point
     * mod p, is not. */
    unhex(c->small_x_plus_p, bad, sizeof bad);
    expect_bad_share(b, kx, bad, len, "x + p");
    memcpy(bad, good, len);
    memcpy(bad + 1 + n, p, n);
    expect_bad_share(b, kx, bad, len, "y = p");
    memcpy(bad, good, len);
    memcpy(bad + 1, p, n);
    expect_bad_share(b, kx, bad, len, "x = p");
    memcpy(bad, good, len);
    bad[len - 1] ^= 0x01;
    expect_bad_share(b, kx, bad, len, "y changed: off the curve");
    memcpy(bad, good, len);
    bad[1] ^= 0x01;
    expect_bad_share(b, kx, bad, len, "x changed: off the curve");
    memset(bad + 1, 0xff, len - 1);
    expect_bad_share(b, kx, bad, len, "all-ones coordinates");
    memset(bad + 1, 0x00, len - 1);
    expect_bad_share(b, kx, bad, len, "all-zero coordinates");
    /* Compressed (0x02/0x03 || X, with the right parity, so it does name the point) and
     * other prefixes on a full-length share. */
    bad[0] = (uint8_t)(0x02 | (good[len - 1] & 1));
    memcpy(bad + 1, good + 1, n);
    expect_bad_share(b, kx, bad, 1 + n, "compressed, right parity");
    bad[0] ^= 0x01;
    expect_bad_share(b, kx, bad, 1 + n, "compressed, wrong parity");
    static const uint8_t prefixes[] = {0x00, 0x02, 0x03, 0x05, 0x06, 0x07, 0x84};
    for (size_t k = 0; k < sizeof prefixes; k++) {
        memcpy(bad, good, len);
        bad[0] = prefixes[k];
        expect_bad_share(b, kx, bad, len, "full length, prefix not 0x04");
    }
    memcpy(bad, good, len);
    bad[len] = 0;
    expect_bad_share(b, kx, bad, len - 1, "one byte short");
    expect_bad_share(b, kx, bad, len + 1, "one byte long");
    expect_bad_share(b, kx, bad, 0, "empty");
    bad[0] = 0x00;
    expect_bad_share(b, kx, bad, 1, "the point at infinity's one-byte encoding");
    /* Nothing above damaged the key. */
    expect_agree(b, kx, c->gr, c->z);
    b->kx_free(kx);
}
END_TEST

START_TEST(test_backend_ecdh_fresh_keys_and_misuse)
{
    const tls_crypto_provider *b = NIST_IMPLS[_i].b;
    const curve_info *c = curve_for_group(NIST_IMPLS[_i].group);
    at("%s, %s", b->name, c->name);
    tls_kx *x = kx_fresh(b, c->group), *y = kx_fresh(b, c->group);
    uint8_t px[97], py[97], sx[48], sy[48];
    size_t lx = kx_share(b, x, px, sizeof px), ly = kx_share(b, y, py, sizeof py), nx = 0, ny = 0;
    expect_len(lx, 1 + 2 * c->n, "public share");
    expect_true(px[0] == 0x04, "uncompressed form");
    expect_true(memcmp(px, py, lx) != 0, "two fresh keys differ");
    expect_err(b->kx_agree(x, py, ly, sx, sizeof sx, &nx), TLS_OK, "kx_agree");
    expect_err(b->kx_agree(y, px, lx, sy, sizeof sy, &ny), TLS_OK, "kx_agree");
    expect_len(nx, c->n, "secret");
    expect_len(ny, c->n, "secret");
    expect_mem(sx, sy, c->n, "the two sides' secrets");
    expect_err(b->kx_public(x, px, 2 * c->n, &lx), TLS_ERR_INTERNAL, "kx_public, 1 byte short");
    expect_err(b->kx_agree(x, py, ly, sx, c->n - 1, &nx), TLS_ERR_INTERNAL,
               "kx_agree, 1 byte short");
    b->kx_free(x);
    b->kx_free(y);
    b->kx_free(NULL);
}
END_TEST

/* ---- ECDSA --------------------------------------------------------------------------- */

/* Strict DER Ecdsa-Sig-Value: minimal positive INTEGERs r, s in [1, 2^(8n)), nothing
 * after. Other TLS stacks (BoringSSL, Go) refuse anything looser, even where mbedTLS's
 * verifier accepts it. r and s come back left-padded to n bytes. */
static bool der_sig_parse(const uint8_t *sig, size_t len, size_t n, uint8_t *r, uint8_t *s)
{
    if (len < 2 || sig[0] != 0x30 || (sig[1] & 0x80) || sig[1] != len - 2)
        return false;
    size_t off = 2;
    for (int k = 0; k < 2; k++) {
        if (off + 2 > len || sig[off] != 0x02)
            return false;
        size_t l = sig[off + 1];
        const uint8_t *v = sig + off + 2;
        if (l == 0 || (l & 0x80) || off + 2 + l > len || (v[0] & 0x80))
            return false; /* empty, long form, overrunning or negative */
        off += 2 + l;
        if (v[0] == 0) {
            if (l == 1 || !(v[1] & 0x80))
                return false; /* zero, or a leading zero byte that is not needed */
            v++;
            l--;
        }
        if (l > n)
            return false;
        uint8_t *out = k == 0 ? r : s;
        memset(out, 0, n);
        memcpy(out + n - l, v, l);
    }
    return off == len;
}

/* DER of (r, s), each n big-endian bytes. */
static size_t der_sig_encode(const uint8_t *r, const uint8_t *s, size_t n, uint8_t *out)
{
    size_t off = 2;
    for (int k = 0; k < 2; k++) {
        const uint8_t *v = k == 0 ? r : s;
        size_t l = n;
        while (l > 1 && *v == 0) {
            v++;
            l--;
        }
        bool pad = *v & 0x80;
        out[off] = 0x02;
        out[off + 1] = (uint8_t)(l + pad);
        out[off + 2] = 0;
        memcpy(out + off + 2 + pad, v, l);
        off += 2 + pad + l;
    }
    out[0] = 0x30;
    out[1] = (uint8_t)(off - 2);
    return off;
}

/* SubjectPublicKeyInfo of an uncompressed point (RFC 5480). */
static size_t spki_of_point(const curve_info *c, const uint8_t *point, uint8_t *out)
{
    static const uint8_t p256[] = {0x30, 0x59, 0x30, 0x13, 0x06, 0x07, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x02, 0x01, 0x06, 0x08, 0x2a, 0x86, 0x48,
                                   0xce, 0x3d, 0x03, 0x01, 0x07, 0x03, 0x42, 0x00};
    static const uint8_t p384[] = {0x30, 0x76, 0x30, 0x10, 0x06, 0x07, 0x2a, 0x86,
                                   0x48, 0xce, 0x3d, 0x02, 0x01, 0x06, 0x05, 0x2b,
                                   0x81, 0x04, 0x00, 0x22, 0x03, 0x62, 0x00};
    const uint8_t *prefix = c->n == 32 ? p256 : p384;
    size_t plen = c->n == 32 ? sizeof p256 : sizeof p384;
    memcpy(out, prefix, plen);
    memcpy(out + plen, point, 1 + 2 * c->n);
    return plen + 1 + 2 * c->n;
}

/* The SPKI for scalar d, its public point computed by mbedTLS's key exchange. */
static size_t spki_of_scalar(const curve_info *c, const uint8_t *d, uint8_t *out)
{
    const tls_crypto_provider *m = &tls__crypto_mbedtls;
    tls_kx *kx = kx_make(m, c->group, d, c->n);
    uint8_t point[97];
    expect_len(kx_share(m, kx, point, sizeof point), 1 + 2 * c->n, "public point");
    m->kx_free(kx);
    return spki_of_point(c, point, out);
}

/* SEC1 ECPrivateKey DER without the optional public key: mbedTLS computes it. */
static size_t sec1_of_scalar(const curve_info *c, const uint8_t *d, uint8_t *out)
{
    static const uint8_t p256[] = {0x06, 0x08, 0x2a, 0x86, 0x48, 0xce, 0x3d, 0x03, 0x01, 0x07};
    static const uint8_t p384[] = {0x06, 0x05, 0x2b, 0x81, 0x04, 0x00, 0x22};
    const uint8_t *oid = c->n == 32 ? p256 : p384;
    size_t oid_len = c->n == 32 ? sizeof p256 : sizeof p384;
    size_t off = 0;
    out[off++] = 0x30;
    out[off++] = (uint8_t)(3 + 2 + c->n + 2 + oid_len);
    memcpy(out + off, "\x02\x01\x01\x04", 4);
    off += 4;
    out[off++] = (uint8_t)c->n;
    memcpy(out + off, d, c->n);
    off += c->n;
    out[off++] = 0xa0;
    out[off++] = (uint8_t)oid_len;
    memcpy(out + off, oid, oid_len);
    return off + oid_len;
}

/* b's key for the scalar d: imported where b imports (nettle), parsed from SEC1 DER where
 * b parses key files (mbedTLS). */
static tls_backend_key *signer_key(const tls_crypto_provider *b, const curve_info *c,
                                   const uint8_t *d)
{
    tls_backend_key *key = NULL;
    if (b->signing_key_import) {
        expect_err(b->signing_key_import(c->type, d, c->n, &key), TLS_OK, "signing_key_import");
    } else {
        uint8_t der[80];
        size_t len = sec1_of_scalar(c, d, der);
        expect_err(b->signing_key_parse(der, len, &key), TLS_OK, "signing_key_parse of SEC1");
    }
    ck_assert_ptr_nonnull(key);
    expect_true(b->signing_key_type(key) == c->type, "signing_key_type");
    return key;
}

/* Signs and checks the signature is strict DER; r and s come back if wanted. */
static size_t sign_strict(const tls_crypto_provider *b, const tls_backend_key *key,
                          const curve_info *c, const uint8_t *msg, size_t msg_len, uint8_t *sig,
                          uint8_t *r, uint8_t *s)
{
    size_t len = 0;
    uint8_t rr[48], ss[48];
    expect_err(b->sign(key, c->scheme, msg, msg_len, sig, TLS_MAX_SIGNATURE_LEN, &len), TLS_OK,
               "sign");
    expect_true(der_sig_parse(sig, len, c->n, r ? r : rr, s ? s : ss),
                "the signature is a strict DER Ecdsa-Sig-Value");
    return len;
}

typedef struct {
    uint8_t der[2048];
    size_t len;
    uint8_t spki[256];
    size_t spki_len;
} cert_der;

static void load_cert(const char *pem, cert_der *out)
{
    mbedtls_x509_crt crt;
    mbedtls_x509_crt_init(&crt);
    ck_assert_int_eq(mbedtls_x509_crt_parse(&crt, (const unsigned char *)pem, strlen(pem) + 1), 0);
    ck_assert_uint_le(crt.raw.len, sizeof out->der);
    ck_assert_uint_le(crt.pk_raw.len, sizeof out->spki);
    memcpy(out->der, crt.raw.p, crt.raw.len);
    out->len = crt.raw.len;
    memcpy(out->spki, crt.pk_raw.p, crt.pk_raw.len);
    out->spki_len = crt.pk_raw.len;
    mbedtls_x509_crt_free(&crt);
}

/* The fixture key's scalar, by mbedTLS's parse and export. */
static void fixture_scalar(const curve_info *c, uint8_t *d)
{
    const tls_crypto_provider *m = &tls__crypto_mbedtls;
    tls_backend_key *key = NULL;
    expect_err(m->signing_key_parse((const uint8_t *)c->key_pem, strlen(c->key_pem) + 1, &key),
               TLS_OK, "signing_key_parse");
    size_t n = 0;
    expect_err(m->signing_key_export(key, d, 48, &n), TLS_OK, "signing_key_export");
    expect_len(n, c->n, "exported scalar");
    m->signing_key_free(key);
}

/* Every ECDSA verifier's verify_spki answers `want` for sig over msg. */
static void expect_verify_spki(const curve_info *c, const uint8_t *spki, size_t spki_len,
                               tls_hash_id hash, const uint8_t *msg, size_t msg_len,
                               const uint8_t *sig, size_t sig_len, tls_error want, const char *what)
{
    for (size_t v = 0; v < COUNT(ECDSA_VERIFIERS); v++) {
        const tls_crypto_provider *vb = ECDSA_VERIFIERS[v];
        char label[160];
        snprintf(label, sizeof label, "%s's verify_spki, %s %s", vb->name, c->name, what);
        expect_err(
            vb->verify_spki(spki, spki_len, TLS_X509_SIG_ECDSA, hash, msg, msg_len, sig, sig_len),
            want, label);
    }
}

/* Every ECDSA verifier's verify (with a certificate) answers `want`. */
static void expect_verify_cert(const cert_der *cert, uint16_t scheme, const uint8_t *msg,
                               size_t msg_len, const uint8_t *sig, size_t sig_len, tls_error want,
                               const char *what)
{
    for (size_t v = 0; v < COUNT(ECDSA_VERIFIERS); v++) {
        const tls_crypto_provider *vb = ECDSA_VERIFIERS[v];
        char label[160];
        snprintf(label, sizeof label, "%s's verify, %s", vb->name, what);
        expect_err(vb->verify(cert->der, cert->len, scheme, msg, msg_len, sig, sig_len), want,
                   label);
    }
}

/* Loop test over SIGNERS x CURVES: the fixture key signs; every verifier accepts it with the
 * certificate (verify) and with its SPKI (verify_spki), and refuses a changed message or
 * signature, trailing bytes, and the other curve's certificate. */
START_TEST(test_backend_ecdsa_sign_verifies_everywhere)
{
    const tls_crypto_provider *b = SIGNERS[_i / 2];
    const curve_info *c = CURVES[_i % 2];
    at("%s, %s, fixture key", b->name, c->name);
    cert_der cert, other_cert;
    load_cert(c->cert_pem, &cert);
    load_cert(CURVES[1 - _i % 2]->cert_pem, &other_cert);
    uint8_t d[48], spki[256];
    fixture_scalar(c, d);
    /* Our SPKI construction agrees with the certificate's. */
    size_t spki_len = spki_of_scalar(c, d, spki);
    expect_len(spki_len, cert.spki_len, "SPKI");
    expect_mem(spki, cert.spki, spki_len, "SPKI");
    tls_backend_key *key = signer_key(b, c, d);
    static const size_t lens[] = {sizeof MSG, 0, 1};
    for (size_t k = 0; k < COUNT(lens); k++) {
        at("%s, %s, fixture key, %zu-byte message", b->name, c->name, lens[k]);
        uint8_t sig[TLS_MAX_SIGNATURE_LEN], msg[sizeof MSG];
        size_t len = sign_strict(b, key, c, MSG, lens[k], sig, NULL, NULL);
        expect_verify_cert(&cert, c->scheme, MSG, lens[k], sig, len, TLS_OK, "the signature");
        expect_verify_spki(c, cert.spki, cert.spki_len, c->hash, MSG, lens[k], sig, len, TLS_OK,
                           "the signature");
        memcpy(msg, MSG, sizeof msg);
        msg[0] ^= 0x01;
        size_t other_len = lens[k] ? lens[k] : 1;
        expect_verify_cert(&cert, c->scheme, msg, other_len, sig, len, TLS_ERR_DECRYPT,
                           "a changed message");
        expect_verify_spki(c, cert.spki, cert.spki_len, c->hash, msg, other_len, sig, len,
                           TLS_ERR_DECRYPT, "a changed message");
        expect_verify_cert(&other_cert, c->scheme, MSG, lens[k], sig, len, TLS_ERR_DECRYPT,
                           "the other curve's certificate");
        sig[len] = 0x00;
        expect_verify_cert(&cert, c->scheme, MSG, lens[k], sig, len + 1, TLS_ERR_DECRYPT,
                           "a byte after the signature");
        expect_verify_spki(c, cert.spki, cert.spki_len, c->hash, MSG, lens[k], sig, len + 1,
                           TLS_ERR_DECRYPT, "a byte after the signature");
        expect_verify_spki(c, cert.spki, cert.spki_len, c->hash, MSG, lens[k], sig, 0,
                           TLS_ERR_DECRYPT, "an empty signature");
        sig[len - 1] ^= 0x01;
        expect_verify_cert(&cert, c->scheme, MSG, lens[k], sig, len, TLS_ERR_DECRYPT,
                           "a changed signature");
        expect_verify_spki(c, cert.spki, cert.spki_len, c->hash, MSG, lens[k], sig, len,
                           TLS_ERR_DECRYPT, "a changed signature");
    }
    b->signing_key_free(key);
}
END_TEST

/* Loop test over SIGNERS x CURVES: RFC 6979 A.2.5 / A.2.6's key signs "sample" verifiably;
 * a deterministic signer (mbedTLS built with MBEDTLS_ECDSA_DETERMINISTIC) gives the RFC's
 * own (r, s). */
START_TEST(test_backend_ecdsa_rfc6979_key)
{
    const tls_crypto_provider *b = SIGNERS[_i / 2], *m = &tls__crypto_mbedtls;
    const curve_info *c = CURVES[_i % 2];
    at("%s, %s, RFC 6979 key", b->name, c->name);
    uint8_t d[48], point[97], spki[256], sig[TLS_MAX_SIGNATURE_LEN], r[48], s[48], want[48];
    unhex(c->rfc6979_x, d, sizeof d);
    point[0] = 0x04;
    unhex(c->rfc6979_ux, point + 1, 48);
    unhex(c->rfc6979_uy, point + 1 + c->n, 48);
    size_t spki_len = spki_of_point(c, point, spki);
    uint8_t computed[256];
    expect_len(spki_of_scalar(c, d, computed), spki_len, "SPKI");
    expect_mem(computed, spki, spki_len, "SPKI of the RFC's public key");
    tls_backend_key *key = signer_key(b, c, d);
    const uint8_t *msg = (const uint8_t *)"sample";
    size_t len = sign_strict(b, key, c, msg, 6, sig, r, s);
    expect_verify_spki(c, spki, spki_len, c->hash, msg, 6, sig, len, TLS_OK, "\"sample\"");
#ifdef MBEDTLS_ECDSA_DETERMINISTIC
    if (b == m) {
        unhex(c->rfc6979_r, want, sizeof want);
        expect_mem(r, want, c->n, "r");
        unhex(c->rfc6979_s, want, sizeof want);
        expect_mem(s, want, c->n, "s");
    }
#else
    (void)want;
#endif
    b->signing_key_free(key);
}
END_TEST

/* Loop test over ECDSA_VERIFIERS x CURVES: RFC 6979's published signature verifies, and
 * does not under another hash, with s changed, or with the other curve's key; an RSA
 * signature kind is TLS_ERR_KEY_UNSUPPORTED for an EC key. */
START_TEST(test_backend_ecdsa_verify_rfc6979)
{
    const tls_crypto_provider *v = ECDSA_VERIFIERS[_i / 2];
    const curve_info *c = CURVES[_i % 2], *other = CURVES[1 - _i % 2];
    at("%s, %s, RFC 6979 signature", v->name, c->name);
    uint8_t point[97], spki[256], other_spki[256], r[48], s[48], sig[120], d[48];
    point[0] = 0x04;
    unhex(c->rfc6979_ux, point + 1, 48);
    unhex(c->rfc6979_uy, point + 1 + c->n, 48);
    size_t spki_len = spki_of_point(c, point, spki);
    unhex(other->rfc6979_x, d, sizeof d);
    size_t other_len = spki_of_scalar(other, d, other_spki);
    unhex(c->rfc6979_r, r, sizeof r);
    unhex(c->rfc6979_s, s, sizeof s);
    size_t len = der_sig_encode(r, s, c->n, sig);
    const uint8_t *msg = (const uint8_t *)"sample";
    const tls_x509_sig_kind ec = TLS_X509_SIG_ECDSA;
    expect_err(v->verify_spki(spki, spki_len, ec, c->hash, msg, 6, sig, len), TLS_OK,
               "verify_spki");
    expect_err(v->verify_spki(spki, spki_len, ec, TLS_HASH_SHA512, msg, 6, sig, len),
               TLS_ERR_DECRYPT, "verify_spki under SHA-512");
    expect_err(v->verify_spki(spki, spki_len, ec, c->hash, msg, 5, sig, len), TLS_ERR_DECRYPT,
               "verify_spki of \"sampl\"");
    expect_err(v->verify_spki(other_spki, other_len, ec, c->hash, msg, 6, sig, len),
               TLS_ERR_DECRYPT, "verify_spki with the other curve's key");
    expect_err(v->verify_spki(spki, spki_len, TLS_X509_SIG_RSA_PKCS1, c->hash, msg, 6, sig, len),
               TLS_ERR_KEY_UNSUPPORTED, "verify_spki of an RSA kind with an EC key");
    s[c->n - 1] ^= 0x01;
    len = der_sig_encode(r, s, c->n, sig);
    expect_err(v->verify_spki(spki, spki_len, ec, c->hash, msg, 6, sig, len), TLS_ERR_DECRYPT,
               "verify_spki with s changed");
}
END_TEST

/* Loop test over SIGNERS x CURVES: a scheme that does not fit the key is TLS_ERR_CONFIG;
 * too small a buffer is TLS_ERR_INTERNAL and leaves the key usable. */
START_TEST(test_backend_ecdsa_wrong_scheme_and_small_buffer)
{
    const tls_crypto_provider *b = SIGNERS[_i / 2];
    const curve_info *c = CURVES[_i % 2];
    uint8_t d[48], sig[TLS_MAX_SIGNATURE_LEN];
    fixture_scalar(c, d);
    tls_backend_key *key = signer_key(b, c, d);
    const uint16_t wrong[] = {c->other_scheme,
                              TLS_SIG_RSA_PSS_RSAE_SHA256,
                              TLS_SIG_RSA_PKCS1_SHA256,
                              TLS_SIG_RSA_PSS_RSAE_SHA384,
                              0x0603 /* ecdsa_secp521r1_sha512 */,
                              0x0807 /* ed25519 */,
                              0x0203 /* ecdsa_sha1 */,
                              0};
    for (size_t k = 0; k < COUNT(wrong); k++) {
        at("%s, %s key, scheme 0x%04x", b->name, c->name, wrong[k]);
        size_t len = 0;
        expect_err(b->sign(key, wrong[k], MSG, sizeof MSG, sig, sizeof sig, &len), TLS_ERR_CONFIG,
                   "sign");
    }
    at("%s, %s key, 8-byte buffer", b->name, c->name);
    size_t len = 0;
    expect_err(b->sign(key, c->scheme, MSG, sizeof MSG, sig, 8, &len), TLS_ERR_INTERNAL, "sign");
    sign_strict(b, key, c, MSG, sizeof MSG, sig, NULL, NULL);
    b->signing_key_free(key);
    b->signing_key_free(NULL);
}
END_TEST

/* Loop test over the SIGNERS that import keys, x CURVES: scalars outside [1, n - 1] and of
 * the wrong length are TLS_ERR_KEY_PARSE, an RSA "scalar" TLS_ERR_KEY_UNSUPPORTED; 1 and
 * n - 1 sign for G and -G. */
START_TEST(test_backend_signing_key_import_range)
{
    const tls_crypto_provider *b = SIGNERS[_i / 2];
    const curve_info *c = CURVES[_i % 2];
    uint8_t order[48], d[49];
    unhex(c->order, order, sizeof order);
    static const char *const bad_names[] = {"zero",        "n",           "n + 1", "all ones",
                                            "n bytes + 1", "n bytes - 1", "empty"};
    for (size_t k = 0; k < COUNT(bad_names); k++) {
        size_t len = c->n;
        memset(d, 0, sizeof d);
        if (k == 1 || k == 2) {
            memcpy(d, order, c->n);
            d[c->n - 1] += (uint8_t)(k - 1);
        } else if (k == 3) {
            memset(d, 0xff, c->n);
        } else if (k == 4) {
            d[c->n] = 1;
            len = c->n + 1;
        } else if (k == 5) {
            d[0] = 1;
            len = c->n - 1;
        } else if (k == 6) {
            len = 0;
        }
        at("%s, %s, scalar %s", b->name, c->name, bad_names[k]);
        tls_backend_key *key = (tls_backend_key *)d;
        expect_err(b->signing_key_import(c->type, d, len, &key), TLS_ERR_KEY_PARSE,
                   "signing_key_import");
        expect_true(key == NULL, "*out is NULL");
    }
    at("%s, RSA", b->name);
    tls_backend_key *key = (tls_backend_key *)d;
    memset(d, 1, sizeof d);
    expect_err(b->signing_key_import(TLS_KEY_RSA, d, c->n, &key), TLS_ERR_KEY_UNSUPPORTED,
               "signing_key_import");
    expect_true(key == NULL, "*out is NULL");

    for (int k = 0; k < 2; k++) {
        at("%s, %s, scalar %s", b->name, c->name, k ? "n - 1" : "1");
        memset(d, 0, sizeof d);
        if (k) {
            memcpy(d, order, c->n);
            d[c->n - 1] -= 1;
        } else {
            d[c->n - 1] = 1;
        }
        uint8_t point[97], spki[256], sig[TLS_MAX_SIGNATURE_LEN];
        point[0] = 0x04;
        unhex(c->gx, point + 1, 48);
        unhex(k ? c->neg_gy : c->gy, point + 1 + c->n, 48);
        size_t spki_len = spki_of_point(c, point, spki);
        key = signer_key(b, c, d);
        size_t len = sign_strict(b, key, c, MSG, sizeof MSG, sig, NULL, NULL);
        expect_verify_spki(c, spki, spki_len, c->hash, MSG, sizeof MSG, sig, len, TLS_OK,
                           "the signature");
        b->signing_key_free(key);
    }
}
END_TEST

/* ---- Ed25519 ------------------------------------------------------------------------- */

#ifdef MOAT_CRYPTO_FAST

/* tests/certs/ed25519/end.cert and the seed of end.key (RFC 8410 PKCS#8). */
static const char CERT_ED25519[] =
    "-----BEGIN CERTIFICATE-----\n"
    "MIIB4zCCAZWgAwIBAgIUMbk9OklfUCSdf8pbmdoJMjPLhYkwBQYDK2VwMEMxEzAR\n"
    "BgNVBAoMCm1vYXQgdGVzdHMxLDAqBgNVBAMMI21vYXQgdGVzdCBpbnRlcm1lZGlh\n"
    "dGUgQ0EgKGVkMjU1MTkpMB4XDTIwMDEwMTAwMDAwMFoXDTQ1MTIzMTIzNTk1OVow\n"
    "LjETMBEGA1UECgwKbW9hdCB0ZXN0czEXMBUGA1UEAwwOdGVzdHNlcnZlci5jb20w\n"
    "KjAFBgMrZXADIQBs6Xv76p6qu+XjgUxSiCdjwLPuZ7advZFiR4SRgcuGq6OBrzCB\n"
    "rDAMBgNVHRMBAf8EAjAAMA4GA1UdDwEB/wQEAwIHgDATBgNVHSUEDDAKBggrBgEF\n"
    "BQcDATAdBgNVHQ4EFgQUFcz98IK7IqeyQ36vJMvA7Iv2lf0wHwYDVR0jBBgwFoAU\n"
    "DhCcfQJlK03wz9bV6cUqSRLLGLIwNwYDVR0RBDAwLoIJbG9jYWxob3N0gg50ZXN0\n"
    "c2VydmVyLmNvbYILKi53aWxkLnRlc3SHBH8AAAEwBQYDK2VwA0EAK5+pAAGBqwYj\n"
    "T/O1vdmtn8g/cJVneGYdyratPhh2x3cGEVeSVviHJj7nrMB2ojSQ8rPlHy9QsaYp\n"
    "H82cILd1Cg==\n"
    "-----END CERTIFICATE-----\n";
static const char ED25519_SEED[] =
    "ef998181749eafdf59f7b632ac6f04ed945304f4412f0f7879a5455dc2e69d9f";

/* RFC 8410 §4 SubjectPublicKeyInfo of a raw Ed25519 public key. */
static size_t spki_of_ed25519(const uint8_t pub[32], uint8_t out[44])
{
    static const uint8_t prefix[] = {0x30, 0x2a, 0x30, 0x05, 0x06, 0x03,
                                     0x2b, 0x65, 0x70, 0x03, 0x21, 0x00};
    memcpy(out, prefix, sizeof prefix);
    memcpy(out + sizeof prefix, pub, 32);
    return sizeof prefix + 32;
}

/* DER of a PEM certificate, decoded without parsing it (mbedTLS 2.28 cannot). */
static void load_cert_der(const char *pem, cert_der *out)
{
    mbedtls_pem_context ctx;
    size_t used = 0;
    mbedtls_pem_init(&ctx);
    ck_assert_int_eq(mbedtls_pem_read_buffer(&ctx, "-----BEGIN CERTIFICATE-----",
                                             "-----END CERTIFICATE-----",
                                             (const unsigned char *)pem, NULL, 0, &used),
                     0);
    ck_assert_uint_le(ctx.buflen, sizeof out->der);
    memcpy(out->der, ctx.buf, ctx.buflen);
    out->len = ctx.buflen;
    out->spki_len = 0;
    mbedtls_pem_free(&ctx);
}

static tls_backend_key *ed25519_key(const tls_crypto_provider *b, const uint8_t seed[32])
{
    tls_backend_key *key = NULL;
    expect_err(b->signing_key_import(TLS_KEY_ED25519, seed, 32, &key), TLS_OK,
               "signing_key_import");
    ck_assert_ptr_nonnull(key);
    expect_true(b->signing_key_type(key) == TLS_KEY_ED25519, "signing_key_type");
    return key;
}

/* Loop test over ED25519_IMPLS: RFC 8032 §7.1 TEST 1-3 (empty, one- and two-byte
 * messages): the public key, the exact signature (Ed25519 is deterministic), and
 * verification of it and of damaged copies. */
START_TEST(test_backend_ed25519_rfc8032)
{
    const tls_crypto_provider *b = ED25519_IMPLS[_i];
    static const struct {
        const char *seed, *pub, *msg, *sig;
    } vectors[] = {
        {"9d61b19deffd5a60ba844af492ec2cc44449c5697b326919703bac031cae7f60",
         "d75a980182b10ab7d54bfed3c964073a0ee172f3daa62325af021a68f707511a", "",
         "e5564300c360ac729086e2cc806e828a84877f1eb8e5d974d873e06522490155"
         "5fb8821590a33bacc61e39701cf9b46bd25bf5f0595bbe24655141438e7a100b"},
        {"4ccd089b28ff96da9db6c346ec114e0f5b8a319f35aba624da8cf6ed4fb8a6fb",
         "3d4017c3e843895a92b70aa74d1b7ebc9c982ccf2ec4968cc0cd55f12af4660c", "72",
         "92a009a9f0d4cab8720e820b5f642540a2b27b5416503f8fb3762223ebdb69da"
         "085ac1e43e15996e458f3613d0f11d8c387b2eaeb4302aeeb00d291612bb0c00"},
        {"c5aa8df43f9f837bedb7442f31dcb7b166d38535076f094b85ce3a2e0b4458f7",
         "fc51cd8e6218a1a38da47ed00230f0580816ed13ba3303ac5deb911548908025", "af82",
         "6291d657deec24024827e69c3abe01a30ce548a284743a445e3680d7db5ac3ac"
         "18ff9b538d16f290ae67f760984dc6594a7c15e9716ed28dc027beceea1ec40a"},
    };
    for (size_t v = 0; v < COUNT(vectors); v++) {
        at("%s, RFC 8032 TEST %zu", b->name, v + 1);
        uint8_t seed[32], pub[32], msg[3], want[64], sig[TLS_MAX_SIGNATURE_LEN], spki[44];
        unhex(vectors[v].seed, seed, sizeof seed);
        unhex(vectors[v].pub, pub, sizeof pub);
        size_t msg_len = unhex(vectors[v].msg, msg, sizeof msg);
        unhex(vectors[v].sig, want, sizeof want);
        size_t spki_len = spki_of_ed25519(pub, spki);
        tls_backend_key *key = ed25519_key(b, seed);
        size_t len = 0;
        expect_err(b->sign(key, TLS_SIG_ED25519, msg, msg_len, sig, sizeof sig, &len), TLS_OK,
                   "sign");
        expect_len(len, 64, "signature");
        expect_mem(sig, want, 64, "signature");
        const tls_x509_sig_kind ed = TLS_X509_SIG_ED25519;
        expect_err(b->verify_spki(spki, spki_len, ed, TLS_HASH_SHA256, msg, msg_len, sig, 64),
                   TLS_OK, "verify_spki");
        expect_err(b->verify_spki(spki, spki_len, ed, TLS_HASH_SHA256, msg, msg_len + 1, sig, 64),
                   TLS_ERR_DECRYPT, "verify_spki of a longer message");
        expect_err(b->verify_spki(spki, spki_len, ed, TLS_HASH_SHA256, msg, msg_len, sig, 63),
                   TLS_ERR_DECRYPT, "verify_spki of 63 bytes");
        sig[64] = 0;
        expect_err(b->verify_spki(spki, spki_len, ed, TLS_HASH_SHA256, msg, msg_len, sig, 65),
                   TLS_ERR_DECRYPT, "verify_spki of 65 bytes");
        for (size_t pos = 0; pos < 64; pos += 21) {
            sig[pos] ^= 0x04;
            expect_err(b->verify_spki(spki, spki_len, ed, TLS_HASH_SHA256, msg, msg_len, sig, 64),
                       TLS_ERR_DECRYPT, "verify_spki of a changed signature");
            sig[pos] ^= 0x04;
        }
        pub[0] ^= 0x01;
        spki_of_ed25519(pub, spki);
        expect_err(b->verify_spki(spki, spki_len, ed, TLS_HASH_SHA256, msg, msg_len, sig, 64),
                   TLS_ERR_DECRYPT, "verify_spki with another public key");
        b->signing_key_free(key);
    }
}
END_TEST

/* Loop test over ED25519_IMPLS: a key and its certificate; verify with certificates of
 * the right and the wrong kind; scheme, buffer and import misuse. */
START_TEST(test_backend_ed25519_cert_and_misuse)
{
    const tls_crypto_provider *b = ED25519_IMPLS[_i];
    at("%s, Ed25519 certificate", b->name);
    cert_der cert, p256;
    load_cert_der(CERT_ED25519, &cert);
    load_cert(CERT_P256, &p256);
    uint8_t seed[33], sig[TLS_MAX_SIGNATURE_LEN];
    unhex(ED25519_SEED, seed, sizeof seed);
    tls_backend_key *key = ed25519_key(b, seed);
    expect_true(b->signing_key_matches_cert(key, cert.der, cert.len), "matches its certificate");
    expect_true(!b->signing_key_matches_cert(key, p256.der, p256.len),
                "does not match a P-256 certificate");
    expect_true(!b->signing_key_matches_cert(key, cert.der, cert.len - 1),
                "does not match a truncated certificate");
    size_t len = 0;
    expect_err(b->sign(key, TLS_SIG_ED25519, MSG, sizeof MSG, sig, sizeof sig, &len), TLS_OK,
               "sign");
    expect_len(len, 64, "signature");
    expect_err(b->verify(cert.der, cert.len, TLS_SIG_ED25519, MSG, sizeof MSG, sig, len), TLS_OK,
               "verify");
    expect_err(b->verify(cert.der, cert.len, TLS_SIG_ED25519, MSG, sizeof MSG - 1, sig, len),
               TLS_ERR_DECRYPT, "verify of a changed message");
    expect_err(b->verify(p256.der, p256.len, TLS_SIG_ED25519, MSG, sizeof MSG, sig, len),
               TLS_ERR_DECRYPT, "verify with a P-256 certificate");
    expect_err(b->verify(cert.der, cert.len - 1, TLS_SIG_ED25519, MSG, sizeof MSG, sig, len),
               TLS_ERR_CERT_PARSE, "verify with a truncated certificate");
    expect_err(b->verify_spki(p256.spki, p256.spki_len, TLS_X509_SIG_ED25519, TLS_HASH_SHA256, MSG,
                              sizeof MSG, sig, len),
               TLS_ERR_KEY_UNSUPPORTED, "verify_spki with a P-256 key");

    static const uint16_t wrong[] = {TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_RSA_PSS_RSAE_SHA256,
                                     0x0808 /* ed448 */, 0};
    for (size_t k = 0; k < COUNT(wrong); k++) {
        at("%s, Ed25519 key, scheme 0x%04x", b->name, wrong[k]);
        expect_err(b->sign(key, wrong[k], MSG, sizeof MSG, sig, sizeof sig, &len), TLS_ERR_CONFIG,
                   "sign");
    }
    at("%s, Ed25519 key, 63-byte buffer", b->name);
    expect_err(b->sign(key, TLS_SIG_ED25519, MSG, sizeof MSG, sig, 63, &len), TLS_ERR_INTERNAL,
               "sign");
    b->signing_key_free(key);
    b->signing_key_free(NULL);

    at("%s, Ed25519 import", b->name);
    static const size_t bad_lens[] = {0, 31, 33, 64};
    uint8_t buf[64] = {0};
    for (size_t k = 0; k < COUNT(bad_lens); k++) {
        tls_backend_key *bad = (tls_backend_key *)buf;
        expect_err(b->signing_key_import(TLS_KEY_ED25519, buf, bad_lens[k], &bad),
                   TLS_ERR_KEY_PARSE, "signing_key_import of a wrong length");
        expect_true(bad == NULL, "*out is NULL");
    }
}
END_TEST

#endif /* MOAT_CRYPTO_FAST */

/* ---- mbedTLS alone: key files, export, randomness ------------------------------------ */

/* Loop test over CURVES: export gives the SEC1 file's scalar; the key matches its own
 * certificate only. */
START_TEST(test_mbedtls_signing_key_export_scalar)
{
    const tls_crypto_provider *m = &tls__crypto_mbedtls;
    const curve_info *c = CURVES[_i], *other = CURVES[1 - _i];
    at("mbedtls, %s", c->name);
    tls_backend_key *key = NULL;
    expect_err(m->signing_key_parse((const uint8_t *)c->key_pem, strlen(c->key_pem) + 1, &key),
               TLS_OK, "signing_key_parse");
    expect_true(m->signing_key_type(key) == c->type, "signing_key_type");
    uint8_t d[48], want[48];
    size_t n = 0;
    unhex(c->key_d, want, sizeof want);
    expect_err(m->signing_key_export(key, d, sizeof d, &n), TLS_OK, "signing_key_export");
    expect_len(n, c->n, "scalar");
    expect_mem(d, want, c->n, "scalar");
    expect_err(m->signing_key_export(key, d, c->n - 1, &n), TLS_ERR_INTERNAL,
               "signing_key_export, 1 byte short");
    cert_der mine, theirs;
    load_cert(c->cert_pem, &mine);
    load_cert(other->cert_pem, &theirs);
    expect_true(m->signing_key_matches_cert(key, mine.der, mine.len), "matches its certificate");
    expect_true(!m->signing_key_matches_cert(key, theirs.der, theirs.len),
                "does not match the other certificate");
    m->signing_key_free(key);
}
END_TEST

START_TEST(test_mbedtls_random_fills)
{
    const tls_crypto_provider *m = &tls__crypto_mbedtls;
    at("mbedtls");
    uint8_t a[64] = {0}, b[64] = {0};
    expect_err(m->random(a, sizeof a), TLS_OK, "random");
    expect_err(m->random(b, sizeof b), TLS_OK, "random");
    expect_true(memcmp(a, b, sizeof a) != 0, "two draws differ");
    expect_true(!all_zero(a + 32, 32), "the draw's end is filled");
    expect_err(m->random(a, 0), TLS_OK, "random of 0 bytes");
}
END_TEST

/* ---- equivalence with mbedTLS -------------------------------------------------------- */

#ifdef MOAT_CRYPTO_FAST

enum { ITERATIONS = 200 };

/* splitmix64: tiny, fixed-seed, and good enough to pick lengths and bytes. */
typedef struct {
    uint64_t state, seed;
} prng;

static void prng_init(prng *r, uint64_t salt)
{
    const char *env = getenv("MOAT_BACKENDS_SEED");
    r->seed = env && *env ? strtoull(env, NULL, 0) : UINT64_C(0x6d6f6174);
    r->state = r->seed ^ (salt * UINT64_C(0x9e3779b97f4a7c15));
}

static uint64_t prng_next(prng *r)
{
    uint64_t z = (r->state += UINT64_C(0x9e3779b97f4a7c15));
    z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
    z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
    return z ^ (z >> 31);
}

/* Uniform enough in [0, n). */
static size_t prng_below(prng *r, size_t n)
{
    return n ? (size_t)(prng_next(r) % n) : 0;
}

static void prng_fill(prng *r, uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)prng_next(r);
}

/* Half the time one of the edge lengths, otherwise uniform in [0, max]. */
static size_t pick_len(prng *r, const size_t *edges, size_t n_edges, size_t max)
{
    if (prng_below(r, 2))
        return edges[prng_below(r, n_edges)];
    return prng_below(r, max + 1);
}

static void at_iteration(const tls_crypto_provider *b, const char *what, const prng *r, int it)
{
    at("%s vs mbedtls, %s, MOAT_BACKENDS_SEED=%#" PRIx64 " iteration %d", b->name, what, r->seed,
       it);
}

/* Feeds msg in random pieces (some empty, mostly short, now and then long). */
static void hash_feed_random(const tls_crypto_provider *b, prng *r, tls_hash_ctx *ctx,
                             const uint8_t *msg, size_t len)
{
    for (size_t off = 0; off < len;) {
        size_t left = len - off;
        size_t n = prng_below(r, 4) ? prng_below(r, (left < 150 ? left : 150) + 1)
                                    : prng_below(r, left + 1);
        b->hash_update(ctx, n ? msg + off : NULL, n);
        off += n;
    }
}

/* b's digest of msg in random pieces, and that of a clone taken after `cut` bytes. */
static void hash_random(const tls_crypto_provider *b, prng *r, tls_hash_id id, const uint8_t *msg,
                        size_t len, size_t cut, uint8_t *out, uint8_t *clone_out)
{
    tls_hash_ctx ctx, copy;
    hash_start(b, &ctx, id);
    hash_feed_random(b, r, &ctx, msg, cut);
    hash_clone_of(b, &copy, &ctx);
    hash_feed_random(b, r, &ctx, msg + cut, len - cut);
    hash_finish(b, &ctx, out);
    hash_feed_random(b, r, &copy, msg + cut, len - cut);
    hash_finish(b, &copy, clone_out);
}

/* Loop test over HASHERS[1..]: digests of random messages (0-3000 bytes) fed in random
 * pieces, and of clones taken at a random point, equal mbedTLS's. */
START_TEST(test_equiv_hash)
{
    const tls_crypto_provider *b = HASHERS[_i], *m = &tls__crypto_mbedtls;
    static const size_t edges[] = {0, 1, 55, 56, 63, 64, 65, 111, 112, 127, 128, 129, 3000};
    static uint8_t msg[3000];
    prng r;
    prng_init(&r, 1);
    for (int it = 0; it < ITERATIONS; it++) {
        at_iteration(b, "hash", &r, it);
        tls_hash_id id = (tls_hash_id)prng_below(&r, 3);
        size_t len = pick_len(&r, edges, COUNT(edges), sizeof msg), cut = prng_below(&r, len + 1);
        prng_fill(&r, msg, len);
        uint8_t want[64], want_clone[64], got[64], got_clone[64];
        hash_random(m, &r, id, msg, len, cut, want, want_clone);
        hash_random(b, &r, id, msg, len, cut, got, got_clone);
        size_t n = tls__hash_len(id);
        expect_mem(want_clone, want, n, "mbedtls's clone's digest");
        expect_mem(got, want, n, "digest");
        expect_mem(got_clone, want, n, "clone's digest");
    }
}
END_TEST

/* Loop test over HASHERS[1..]: HMAC with random keys (across both block sizes) over random
 * messages in random parts equals mbedTLS's. */
START_TEST(test_equiv_hmac)
{
    const tls_crypto_provider *b = HASHERS[_i], *m = &tls__crypto_mbedtls;
    static const size_t key_edges[] = {0, 1, 32, 48, 63, 64, 65, 127, 128, 129, 300};
    static uint8_t key[300], data[5 * 700];
    prng r;
    prng_init(&r, 2);
    for (int it = 0; it < ITERATIONS; it++) {
        at_iteration(b, "hmac", &r, it);
        tls_hash_id id = (tls_hash_id)prng_below(&r, 3);
        size_t key_len = pick_len(&r, key_edges, COUNT(key_edges), sizeof key);
        prng_fill(&r, key, key_len);
        size_t n_parts = prng_below(&r, 6), off = 0;
        const uint8_t *parts[5];
        size_t lens[5];
        for (size_t p = 0; p < n_parts; p++) {
            lens[p] = prng_below(&r, 4) ? prng_below(&r, 100) : prng_below(&r, 700);
            parts[p] = lens[p] ? data + off : NULL;
            prng_fill(&r, data + off, lens[p]);
            off += lens[p];
        }
        uint8_t want[64], got[64];
        expect_err(m->hmac(id, key, key_len, parts, lens, n_parts, want), TLS_OK, "mbedtls hmac");
        expect_err(b->hmac(id, key, key_len, parts, lens, n_parts, got), TLS_OK, "hmac");
        expect_mem(got, want, tls__hash_len(id), "MAC");
    }
}
END_TEST

/* Loop test over HASHERS[1..]: HKDF-Extract with random salts (empty included) and
 * HKDF-Expand with random PRKs, infos and lengths up to 255 * HashLen equal mbedTLS's. */
START_TEST(test_equiv_hkdf)
{
    const tls_crypto_provider *b = HASHERS[_i], *m = &tls__crypto_mbedtls;
    static const size_t salt_edges[] = {0, 1, 32, 48, 64, 128, 129, 200};
    static uint8_t salt[200], ikm[200], info[300], prk[64 + 64], want[255 * 64], got[255 * 64];
    prng r;
    prng_init(&r, 3);
    for (int it = 0; it < ITERATIONS; it++) {
        at_iteration(b, "hkdf", &r, it);
        tls_hash_id id = (tls_hash_id)prng_below(&r, 3);
        size_t n = tls__hash_len(id);
        size_t salt_len = pick_len(&r, salt_edges, COUNT(salt_edges), sizeof salt);
        size_t ikm_len = prng_below(&r, sizeof ikm + 1);
        prng_fill(&r, salt, salt_len);
        prng_fill(&r, ikm, ikm_len);
        uint8_t want_prk[64], got_prk[64];
        expect_err(m->hkdf_extract(id, salt, salt_len, ikm, ikm_len, want_prk), TLS_OK,
                   "mbedtls hkdf_extract");
        expect_err(b->hkdf_extract(id, salt, salt_len, ikm, ikm_len, got_prk), TLS_OK,
                   "hkdf_extract");
        expect_mem(got_prk, want_prk, n, "PRK");

        /* Expand from that PRK, or from a random one, perhaps longer than HashLen. */
        size_t prk_len = n;
        if (prng_below(&r, 2)) {
            prk_len = n + prng_below(&r, 65);
            prng_fill(&r, prk, prk_len);
        } else {
            memcpy(prk, want_prk, n);
        }
        const size_t out_edges[] = {1, n - 1, n, n + 1, 2 * n, 255 * n - 1, 255 * n};
        size_t out_len = prng_below(&r, 2) ? out_edges[prng_below(&r, COUNT(out_edges))]
                                           : 1 + prng_below(&r, 1000);
        size_t info_len = prng_below(&r, sizeof info + 1);
        prng_fill(&r, info, info_len);
        expect_err(m->hkdf_expand(id, prk, prk_len, info, info_len, want, out_len), TLS_OK,
                   "mbedtls hkdf_expand");
        expect_err(b->hkdf_expand(id, prk, prk_len, info, info_len, got, out_len), TLS_OK,
                   "hkdf_expand");
        expect_mem(got, want, out_len, "OKM");
    }
}
END_TEST

enum { AEAD_MAX_PT = 17000 };

/* Loop test over AEADS[1..] x the three AEADs: sealing random plaintexts (0-17000 bytes)
 * with random keys, nonces and AAD gives mbedTLS's bytes; each opens the other's; both
 * refuse the same damaged record. The fast back end's buffers rotate through the three
 * layouts: disjoint, in place, output 8 bytes below the input. */
START_TEST(test_equiv_aead)
{
    const tls_crypto_provider *b = AEADS[1 + _i / 3], *m = &tls__crypto_mbedtls;
    tls_aead_id id = (tls_aead_id)(_i % 3);
    static const size_t pt_edges[] = {0,    1,    15,    16,    17,    255,  256,
                                      4095, 4096, 16383, 16384, 16385, 17000};
    static const size_t aad_edges[] = {0, 1, 5, 13, 16, 17, 600};
    static uint8_t pt[AEAD_MAX_PT], aad[600], want[AEAD_MAX_PT + 16], got[8 + AEAD_MAX_PT + 16],
        back[8 + AEAD_MAX_PT + 16];
    static const char *const layouts[] = {"disjoint", "in place", "output 8 bytes below"};
    prng r;
    prng_init(&r, 4 + (uint64_t)id);
    for (int it = 0; it < ITERATIONS; it++) {
        int layout = it % 3;
        char what[64];
        snprintf(what, sizeof what, "AEAD %d, %s", (int)id, layouts[layout]);
        at_iteration(b, what, &r, it);
        uint8_t key[32], nonce[12];
        size_t key_len = tls__aead_key_len(id);
        prng_fill(&r, key, key_len);
        prng_fill(&r, nonce, sizeof nonce);
        size_t pt_len = pick_len(&r, pt_edges, COUNT(pt_edges), AEAD_MAX_PT);
        size_t aad_len = pick_len(&r, aad_edges, COUNT(aad_edges), 64);
        prng_fill(&r, pt, pt_len);
        prng_fill(&r, aad, aad_len);
        tls_aead *ref = aead_make(m, id, key, key_len), *fast = aead_make(b, id, key, key_len);
        size_t ct_len = pt_len + TLS_AEAD_TAG_LEN;

        expect_err(m->aead_seal(ref, nonce, aad, aad_len, pt, pt_len, want), TLS_OK,
                   "mbedtls seal");
        /* in: where the fast back end reads; out: where it writes (got). */
        uint8_t *in = layout == 0 ? pt : layout == 1 ? got : got + 8;
        if (layout)
            memcpy(in, pt, pt_len);
        expect_err(b->aead_seal(fast, nonce, aad, aad_len, in, pt_len, got), TLS_OK, "seal");
        expect_mem(got, want, ct_len, "ciphertext and tag");

        expect_err(m->aead_open(ref, nonce, aad, aad_len, got, ct_len, back), TLS_OK,
                   "mbedtls opens the fast back end's record");
        expect_mem(back, pt, pt_len, "plaintext");
        in = layout == 0 ? want : layout == 1 ? back : back + 8;
        if (layout)
            memcpy(in, want, ct_len);
        expect_err(b->aead_open(fast, nonce, aad, aad_len, in, ct_len, back), TLS_OK,
                   "open mbedtls's record");
        expect_mem(back, pt, pt_len, "plaintext");

        /* One flipped bit in the record or the AAD: both refuse and wipe. */
        size_t pos = prng_below(&r, ct_len + aad_len);
        uint8_t bit = (uint8_t)(1u << prng_below(&r, 8));
        if (pos < ct_len)
            want[pos] ^= bit;
        else
            aad[pos - ct_len] ^= bit;
        memset(got, 0xee, ct_len + 8);
        expect_err(m->aead_open(ref, nonce, aad, aad_len, want, ct_len, got), TLS_ERR_DECRYPT,
                   "mbedtls open of a damaged record");
        expect_true(all_zero(got, pt_len), "mbedtls wipes the output");
        in = layout == 0 ? want : layout == 1 ? back : back + 8;
        if (layout)
            memcpy(in, want, ct_len);
        if (layout == 0)
            memset(back, 0xee, ct_len);
        expect_err(b->aead_open(fast, nonce, aad, aad_len, in, ct_len, back), TLS_ERR_DECRYPT,
                   "open of a damaged record");
        expect_true(all_zero(back, pt_len), "the output is wiped");
        m->aead_free(ref);
        b->aead_free(fast);
    }
}
END_TEST

/* Agrees with peer; the error, and on success the secret, go to err/secret/len. */
static tls_error agree_raw(const tls_crypto_provider *b, tls_kx *kx, const uint8_t *peer,
                           size_t peer_len, uint8_t *secret, size_t *len)
{
    *len = 0;
    return b->kx_agree(kx, peer, peer_len, secret, TLS_MAX_KX_SECRET_LEN, len);
}

/* Loop test over X25519_IMPLS[1..]: from the same random private key, the same public
 * share; against a random peer (a real public key, or any 32 bytes, top bit included) the
 * same answer and secret. */
START_TEST(test_equiv_x25519)
{
    const tls_crypto_provider *b = X25519_IMPLS[_i].b, *m = &tls__crypto_mbedtls;
    prng r;
    prng_init(&r, 10);
    for (int it = 0; it < ITERATIONS; it++) {
        at_iteration(b, "X25519", &r, it);
        uint8_t priv[32], peer[32], want[97], got[97];
        prng_fill(&r, priv, sizeof priv);
        tls_kx *ref = kx_make(m, TLS_GROUP_X25519, priv, 32);
        tls_kx *fast = kx_make(b, TLS_GROUP_X25519, priv, 32);
        expect_len(kx_share(b, fast, got, sizeof got), 32, "public share");
        kx_share(m, ref, want, sizeof want);
        expect_mem(got, want, 32, "public share");

        if (prng_below(&r, 4)) {
            uint8_t peer_priv[32];
            prng_fill(&r, peer_priv, sizeof peer_priv);
            tls_kx *p = kx_make(m, TLS_GROUP_X25519, peer_priv, 32);
            kx_share(m, p, peer, sizeof peer);
            m->kx_free(p);
            if (prng_below(&r, 2))
                peer[31] |= 0x80; /* ignored (RFC 7748 §5) */
        } else {
            prng_fill(&r, peer, sizeof peer);
        }
        size_t want_len, got_len;
        tls_error want_err = agree_raw(m, ref, peer, 32, want, &want_len);
        tls_error got_err = agree_raw(b, fast, peer, 32, got, &got_len);
        expect_err(got_err, want_err, "kx_agree, against mbedtls's answer");
        if (want_err == TLS_OK) {
            expect_len(got_len, want_len, "secret");
            expect_mem(got, want, want_len, "secret");
        }
        m->kx_free(ref);
        b->kx_free(fast);
    }
}
END_TEST

/* Loop test over NIST_IMPLS[2..]: from the same private key (random, or an edge: 1, 2,
 * n - 1, n - 2, short ones with leading zero bytes), the same public share; against a
 * random mbedTLS peer, the same secret; a damaged peer share, the same refusal. */
START_TEST(test_equiv_ecdh)
{
    const tls_crypto_provider *b = NIST_IMPLS[_i].b, *m = &tls__crypto_mbedtls;
    const curve_info *c = curve_for_group(NIST_IMPLS[_i].group);
    size_t n = c->n, share_len = 1 + 2 * n;
    uint8_t order[48];
    unhex(c->order, order, sizeof order);
    prng r;
    prng_init(&r, 20 + c->group);
    for (int it = 0; it < ITERATIONS; it++) {
        char what[32];
        snprintf(what, sizeof what, "%s ECDH", c->name);
        at_iteration(b, what, &r, it);
        uint8_t priv[48], peer_priv[48], peer[97], want[97], got[97];
        memset(priv, 0, sizeof priv);
        switch (it) {
        case 0:
        case 1:
            priv[n - 1] = (uint8_t)(it + 1);
            break;
        case 2:
        case 3:
            memcpy(priv, order, n);
            priv[n - 1] -= (uint8_t)(it - 1);
            break;
        default:
            prng_fill(&r, priv, n);
            if (it % 8 == 0) /* a short scalar: leading zero bytes */
                memset(priv, 0, 1 + prng_below(&r, n - 1));
            break;
        }
        tls_kx *ref = NULL, *fast = NULL;
        tls_error want_err = m->kx_new_from_private(c->group, priv, n, &ref);
        tls_error got_err = b->kx_new_from_private(c->group, priv, n, &fast);
        expect_err(got_err, want_err, "kx_new_from_private, against mbedtls's answer");
        if (want_err != TLS_OK)
            continue; /* a random scalar >= n: refused by both */
        ref->impl = m;
        fast->impl = b;
        expect_len(kx_share(b, fast, got, sizeof got), share_len, "public share");
        kx_share(m, ref, want, sizeof want);
        expect_mem(got, want, share_len, "public share");

        prng_fill(&r, peer_priv, n);
        peer_priv[0] &= 0x7f; /* below n */
        tls_kx *p = kx_make(m, c->group, peer_priv, n);
        kx_share(m, p, peer, sizeof peer);
        m->kx_free(p);
        if (it % 8 == 7) /* one flipped bit: off the curve, or not 0x04 */
            peer[prng_below(&r, share_len)] ^= (uint8_t)(1u << prng_below(&r, 8));
        size_t want_len, got_len;
        want_err = agree_raw(m, ref, peer, share_len, want, &want_len);
        got_err = agree_raw(b, fast, peer, share_len, got, &got_len);
        expect_err(got_err, want_err, "kx_agree, against mbedtls's answer");
        if (it % 8 == 7)
            expect_err(got_err, TLS_ERR_INVALID_KEY_SHARE, "kx_agree with a damaged share");
        if (want_err == TLS_OK) {
            expect_len(got_len, want_len, "secret");
            expect_mem(got, want, want_len, "secret");
        }
        m->kx_free(ref);
        b->kx_free(fast);
    }
}
END_TEST

/* Fresh keys (kx_new) of a fast back end and of mbedTLS agree, both ways. */
static void equiv_kx_fresh(const tls_crypto_provider *b, uint16_t group, uint64_t salt)
{
    const tls_crypto_provider *m = &tls__crypto_mbedtls;
    prng r; /* nothing random here but the keys; the seed only names the run */
    prng_init(&r, salt);
    for (int it = 0; it < ITERATIONS / 4; it++) {
        at_iteration(b, "fresh keys", &r, it);
        tls_kx *ref = kx_fresh(m, group), *fast = kx_fresh(b, group);
        uint8_t pr[97], pf[97], sr[48], sf[48];
        size_t lr = kx_share(m, ref, pr, sizeof pr), lf = kx_share(b, fast, pf, sizeof pf), nr, nf;
        expect_len(lf, lr, "public share");
        expect_err(agree_raw(m, ref, pf, lf, sr, &nr), TLS_OK, "mbedtls agrees with ours");
        expect_err(agree_raw(b, fast, pr, lr, sf, &nf), TLS_OK, "we agree with mbedtls's");
        expect_len(nf, nr, "secret");
        expect_mem(sf, sr, nr, "secret");
        m->kx_free(ref);
        b->kx_free(fast);
    }
}

START_TEST(test_equiv_x25519_fresh_keys)
{
    equiv_kx_fresh(X25519_IMPLS[_i].b, TLS_GROUP_X25519, 30);
}
END_TEST

START_TEST(test_equiv_ecdh_fresh_keys)
{
    equiv_kx_fresh(NIST_IMPLS[_i].b, NIST_IMPLS[_i].group, 31);
}
END_TEST

/* Loop test over SIGNERS[1..] x CURVES: for random keys and messages, the fast back end's
 * signatures are strict DER and verify with every verifier (mbedTLS's and the fast ones),
 * as mbedTLS's own do, and neither verifies for another message. */
START_TEST(test_equiv_ecdsa)
{
    const tls_crypto_provider *b = SIGNERS[1 + _i / 2], *m = &tls__crypto_mbedtls;
    const curve_info *c = CURVES[_i % 2];
    static uint8_t msg[1001];
    prng r;
    prng_init(&r, 40 + (uint64_t)_i);
    uint8_t d[48], spki[256];
    size_t spki_len = 0;
    tls_backend_key *ref = NULL, *fast = NULL;
    for (int it = 0; it < ITERATIONS; it++) {
        char what[32];
        snprintf(what, sizeof what, "%s ECDSA", c->name);
        at_iteration(b, what, &r, it);
        if (it % 20 == 0) { /* a new key now and then: parsing one is not free */
            if (ref) {
                m->signing_key_free(ref);
                b->signing_key_free(fast);
            }
            prng_fill(&r, d, c->n);
            d[0] &= 0x7f; /* below n */
            d[0] |= 0x01; /* not zero */
            spki_len = spki_of_scalar(c, d, spki);
            ref = signer_key(m, c, d);
            fast = signer_key(b, c, d);
        }
        size_t msg_len = prng_below(&r, sizeof msg);
        prng_fill(&r, msg, msg_len + 1);
        uint8_t sig[TLS_MAX_SIGNATURE_LEN], ref_sig[TLS_MAX_SIGNATURE_LEN];
        size_t len = sign_strict(b, fast, c, msg, msg_len, sig, NULL, NULL);
        size_t ref_len = sign_strict(m, ref, c, msg, msg_len, ref_sig, NULL, NULL);
        expect_verify_spki(c, spki, spki_len, c->hash, msg, msg_len, sig, len, TLS_OK,
                           "our signature");
        expect_verify_spki(c, spki, spki_len, c->hash, msg, msg_len, ref_sig, ref_len, TLS_OK,
                           "mbedtls's signature");
        /* msg_len + 1: one more byte of the message. */
        expect_verify_spki(c, spki, spki_len, c->hash, msg, msg_len + 1, sig, len, TLS_ERR_DECRYPT,
                           "our signature for another message");
        expect_verify_spki(c, spki, spki_len, c->hash, msg, msg_len + 1, ref_sig, ref_len,
                           TLS_ERR_DECRYPT, "mbedtls's signature for another message");
        /* A flipped bit in s's last byte keeps the DER well-formed. */
        sig[len - 1] ^= (uint8_t)(1u << prng_below(&r, 8));
        expect_verify_spki(c, spki, spki_len, c->hash, msg, msg_len, sig, len, TLS_ERR_DECRYPT,
                           "our signature, changed");
    }
    m->signing_key_free(ref);
    b->signing_key_free(fast);
}
END_TEST

#endif /* MOAT_CRYPTO_FAST */

/* ---- suite --------------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("backends");
    TCase *tc;
    const int n_curves = (int)COUNT(CURVES);

    tc = tcase_create("slots");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_test(tc, test_backends_slots_as_documented);
    tcase_add_test(tc, test_backends_kx_groups_as_listed);
    tcase_add_test(tc, test_backends_import_types_as_listed);
    tcase_add_test(tc, test_backends_routes_match_build);
    suite_add_tcase(s, tc);

    tc = tcase_create("hash");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60); /* a million bytes, three times, under ASan */
    tcase_add_loop_test(tc, test_backend_hash_fips180_vectors, 0, (int)COUNT(HASHERS));
    tcase_add_loop_test(tc, test_backend_hash_million_a, 0, (int)COUNT(HASHERS));
    tcase_add_loop_test(tc, test_backend_hash_clone_mid_stream, 0, (int)COUNT(HASHERS));
    tcase_add_loop_test(tc, test_backend_hash_clear_wipes, 0, (int)COUNT(HASHERS));
    tcase_add_loop_test(tc, test_backend_hmac_rfc4231, 0, (int)COUNT(HASHERS));
    tcase_add_loop_test(tc, test_backend_hkdf_rfc5869, 0, (int)COUNT(HASHERS));
    tcase_add_loop_test(tc, test_backend_hkdf_extract_empty_salt_is_zeros, 0, (int)COUNT(HASHERS));
    tcase_add_loop_test(tc, test_backend_hkdf_expand_bad_arguments, 0, (int)COUNT(HASHERS));
    suite_add_tcase(s, tc);

    int n_aead_cases = (int)(COUNT(AEADS) * N_AEAD_VECTORS);
    tc = tcase_create("aead");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_add_loop_test(tc, test_backend_aead_known_answers, 0, n_aead_cases);
    tcase_add_loop_test(tc, test_backend_aead_open_tampered, 0, n_aead_cases);
    tcase_add_loop_test(tc, test_backend_aead_misuse, 0, (int)COUNT(AEADS));
    suite_add_tcase(s, tc);

    tc = tcase_create("kx");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 120); /* 1,000 mbedTLS X25519 steps under ASan */
    int n_x = (int)COUNT(X25519_IMPLS), n_nist = (int)COUNT(NIST_IMPLS);
    tcase_add_loop_test(tc, test_backend_x25519_rfc7748_6_1, 0, n_x);
    tcase_add_loop_test(tc, test_backend_x25519_rfc7748_5_2, 0, n_x);
    tcase_add_loop_test(tc, test_backend_x25519_rejects_bad_shares, 0, n_x);
    tcase_add_loop_test(tc, test_backend_x25519_high_bit_and_non_canonical, 0, n_x);
    tcase_add_loop_test(tc, test_backend_x25519_fresh_keys_and_misuse, 0, n_x);
    tcase_add_loop_test(tc, test_backend_ecdh_rfc5903, 0, n_nist);
    tcase_add_loop_test(tc, test_backend_ecdh_scalar_edges, 0, n_nist);
    tcase_add_loop_test(tc, test_backend_ecdh_rejects_bad_points, 0, n_nist);
    tcase_add_loop_test(tc, test_backend_ecdh_fresh_keys_and_misuse, 0, n_nist);
    suite_add_tcase(s, tc);

    tc = tcase_create("ecdsa");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 60);
    int n_sign = (int)COUNT(SIGNERS) * n_curves;
    tcase_add_loop_test(tc, test_backend_ecdsa_sign_verifies_everywhere, 0, n_sign);
    tcase_add_loop_test(tc, test_backend_ecdsa_rfc6979_key, 0, n_sign);
    tcase_add_loop_test(tc, test_backend_ecdsa_wrong_scheme_and_small_buffer, 0, n_sign);
    for (int i = 0; i < (int)COUNT(SIGNERS); i++) {
        if (SIGNERS[i]->signing_key_import)
            tcase_add_loop_test(tc, test_backend_signing_key_import_range, i * n_curves,
                                (i + 1) * n_curves);
    }
    tcase_add_loop_test(tc, test_backend_ecdsa_verify_rfc6979, 0,
                        (int)COUNT(ECDSA_VERIFIERS) * n_curves);
    tcase_add_loop_test(tc, test_mbedtls_signing_key_export_scalar, 0, n_curves);
    tcase_add_test(tc, test_mbedtls_random_fills);
#ifdef MOAT_CRYPTO_FAST
    tcase_add_loop_test(tc, test_backend_ed25519_rfc8032, 0, (int)COUNT(ED25519_IMPLS));
    tcase_add_loop_test(tc, test_backend_ed25519_cert_and_misuse, 0, (int)COUNT(ED25519_IMPLS));
#endif
    suite_add_tcase(s, tc);

#ifdef MOAT_CRYPTO_FAST
    /* Entry 0 of each list is mbedTLS, the reference: the loops start after it. */
    tc = tcase_create("equivalence");
    tcase_add_checked_fixture(tc, setup, NULL);
    tcase_set_timeout(tc, 300); /* hundreds of mbedTLS ECDH and ECDSA operations under ASan */
    tcase_add_loop_test(tc, test_equiv_hash, 1, (int)COUNT(HASHERS));
    tcase_add_loop_test(tc, test_equiv_hmac, 1, (int)COUNT(HASHERS));
    tcase_add_loop_test(tc, test_equiv_hkdf, 1, (int)COUNT(HASHERS));
    tcase_add_loop_test(tc, test_equiv_aead, 0, 3 * ((int)COUNT(AEADS) - 1));
    tcase_add_loop_test(tc, test_equiv_x25519, 1, n_x);
    tcase_add_loop_test(tc, test_equiv_x25519_fresh_keys, 1, n_x);
    tcase_add_loop_test(tc, test_equiv_ecdh, 2, n_nist);
    tcase_add_loop_test(tc, test_equiv_ecdh_fresh_keys, 2, n_nist);
    tcase_add_loop_test(tc, test_equiv_ecdsa, 0, ((int)COUNT(SIGNERS) - 1) * n_curves);
    suite_add_tcase(s, tc);
#endif
    return s;
}

TEST_MAIN(make_suite)
