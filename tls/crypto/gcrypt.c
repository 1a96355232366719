/*
 * gcrypt.c — the libgcrypt back end: AES-128-GCM, AES-256-GCM and ChaCha20-Poly1305.
 *
 * Only the AEADs: libgcrypt 1.10 has the fastest of both on this project's machines
 * (VAES/VPCLMUL AES-GCM and AVX2/AVX-512 ChaCha20; bench/results/primitives.md). Every
 * other slot is NULL, so the provider never routes anything else here.
 *
 * Implementation notes:
 * - Initialisation (tls__crypto_gcrypt_init, called once by provider.c inside its
 *   pthread_once): the version check libgcrypt requires before any other call, and
 *   secure memory off (we wipe our own secrets; libgcrypt's secure heap would need
 *   mlock limits a container does not grant). If the process already initialised
 *   libgcrypt for its own use, that initialisation is kept.
 * - One cipher handle per tls_aead, keyed once; a record sets the nonce, the AAD,
 *   encrypts or decrypts, and reads or checks the tag (gcry_cipher_checktag compares
 *   in constant time). A handle is used by one thread at a time, as the engine's
 *   contract for a tls_aead says (the ticketer serialises its own under its mutex).
 * - libgcrypt works in place (input NULL) or between disjoint buffers. The record
 *   layer opens TLS 1.2 GCM records 8 bytes below their ciphertext, so overlapping
 *   buffers are first moved to `out` and processed there in place.
 * - gcry_cipher_close wipes the key schedule before freeing it.
 */
#include "crypto.h"

#include <gcrypt.h>

#include <string.h>

typedef struct {
    tls_aead base; /* first: the provider hands us tls_aead pointers */
    gcry_cipher_hd_t hd;
} gc_aead;

bool tls__crypto_gcrypt_init(void)
{
    if (gcry_control(GCRYCTL_INITIALIZATION_FINISHED_P))
        return true;
    if (!gcry_check_version(GCRYPT_VERSION)) /* the runtime is older than our headers */
        return false;
    gcry_control(GCRYCTL_DISABLE_SECMEM, 0);
    gcry_control(GCRYCTL_INITIALIZATION_FINISHED, 0);
    return true;
}

static void aead_free(tls_aead *a)
{
    gc_aead *g = (gc_aead *)a;
    if (!g)
        return;
    gcry_cipher_close(g->hd);
    tls__wipe(g, sizeof *g);
    tls__free(g, sizeof *g);
}

static tls_error aead_new(tls_aead_id id, const uint8_t *key, size_t key_len, tls_aead **out)
{
    int algo, mode;
    *out = NULL;
    switch (id) {
    case TLS_AEAD_AES_128_GCM:
        algo = GCRY_CIPHER_AES128;
        mode = GCRY_CIPHER_MODE_GCM;
        break;
    case TLS_AEAD_AES_256_GCM:
        algo = GCRY_CIPHER_AES256;
        mode = GCRY_CIPHER_MODE_GCM;
        break;
    case TLS_AEAD_CHACHA20_POLY1305:
        algo = GCRY_CIPHER_CHACHA20;
        mode = GCRY_CIPHER_MODE_POLY1305;
        break;
    default:
        return TLS_ERR_INVALID_ARGUMENT;
    }
    if (key_len != tls__aead_key_len(id))
        return TLS_ERR_INVALID_ARGUMENT;
    gc_aead *g = tls__calloc(sizeof *g);
    if (!g)
        return TLS_ERR_NO_MEMORY;
    if (gcry_cipher_open(&g->hd, algo, mode, 0) != 0) {
        tls__free(g, sizeof *g);
        return TLS_ERR_CRYPTO;
    }
    if (gcry_cipher_setkey(g->hd, key, key_len) != 0) {
        aead_free(&g->base);
        return TLS_ERR_CRYPTO;
    }
    *out = &g->base;
    return TLS_OK;
}

typedef enum { DISJOINT, SAME, OUT_BELOW, OUT_AHEAD } layout;

/* Compared as integers: relational operators on pointers into different objects are
 * undefined. Like mbedtls.c, an output starting inside the input ahead of it is
 * refused: no caller does that, and it would be a bug to hide. */
static layout buffers(const uint8_t *in, const uint8_t *out, size_t len)
{
    uintptr_t i = (uintptr_t)in, o = (uintptr_t)out;
    if (o == i)
        return SAME;
    if (o + len <= i || i + len <= o)
        return DISJOINT;
    return o < i ? OUT_BELOW : OUT_AHEAD;
}

/* Nonce and AAD for one record; the whole record is the last (only) chunk. */
static gcry_error_t start(gc_aead *g, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len)
{
    gcry_error_t e = gcry_cipher_setiv(g->hd, nonce, TLS_AEAD_NONCE_LEN);
    if (!e && aad_len)
        e = gcry_cipher_authenticate(g->hd, aad, aad_len);
    if (!e)
        e = gcry_cipher_final(g->hd);
    return e;
}

static tls_error aead_seal(tls_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                           const uint8_t *in, size_t in_len, uint8_t *out)
{
    gc_aead *g = (gc_aead *)a;
    layout l = buffers(in, out, in_len);
    if (l == OUT_AHEAD)
        return TLS_ERR_INVALID_ARGUMENT;
    gcry_error_t e = start(g, nonce, aad, aad_len);
    if (!e) {
        if (l != DISJOINT) {
            if (l == OUT_BELOW)
                memmove(out, in, in_len);
            e = gcry_cipher_encrypt(g->hd, out, in_len, NULL, 0);
        } else {
            e = gcry_cipher_encrypt(g->hd, out, in_len, in, in_len);
        }
    }
    if (!e)
        e = gcry_cipher_gettag(g->hd, out + in_len, TLS_AEAD_TAG_LEN);
    if (e) {
        tls__wipe(out, in_len + TLS_AEAD_TAG_LEN);
        return TLS_ERR_CRYPTO;
    }
    return TLS_OK;
}

static tls_error aead_open(tls_aead *a, const uint8_t nonce[12], const uint8_t *aad, size_t aad_len,
                           const uint8_t *in, size_t in_len, uint8_t *out)
{
    gc_aead *g = (gc_aead *)a;
    if (in_len < TLS_AEAD_TAG_LEN)
        return TLS_ERR_DECRYPT;
    size_t ct_len = in_len - TLS_AEAD_TAG_LEN;
    layout l = buffers(in, out, in_len);
    if (l == OUT_AHEAD) {
        tls__wipe(out, ct_len);
        return TLS_ERR_INVALID_ARGUMENT;
    }
    uint8_t tag[TLS_AEAD_TAG_LEN];
    memcpy(tag, in + ct_len, sizeof tag); /* before an overlapping move can overwrite it */
    gcry_error_t e = start(g, nonce, aad, aad_len);
    if (!e) {
        if (l != DISJOINT) {
            if (l == OUT_BELOW)
                memmove(out, in, ct_len);
            e = gcry_cipher_decrypt(g->hd, out, ct_len, NULL, 0);
        } else {
            e = gcry_cipher_decrypt(g->hd, out, ct_len, in, ct_len);
        }
    }
    tls_error err = TLS_ERR_CRYPTO;
    if (!e) {
        e = gcry_cipher_checktag(g->hd, tag, sizeof tag);
        err = !e ? TLS_OK : gcry_err_code(e) == GPG_ERR_CHECKSUM ? TLS_ERR_DECRYPT : TLS_ERR_CRYPTO;
    }
    if (err != TLS_OK)
        tls__wipe(out, ct_len); /* unauthenticated plaintext never leaves */
    return err;
}

const tls_crypto_provider tls__crypto_gcrypt = {
    .name = "gcrypt",
    .aead_new = aead_new,
    .aead_seal = aead_seal,
    .aead_open = aead_open,
    .aead_free = aead_free,
};
