/*
 * record.c — record framing and record protection for TLS 1.3 and TLS 1.2.
 *
 * Implementation notes:
 * - TLS 1.3 and TLS 1.2 ChaCha20-Poly1305 (RFC 7905): the nonce is the static IV
 *   XOR the big-endian sequence number padded to 12 bytes (RFC 8446 §5.3).
 * - TLS 1.2 AES-GCM (RFC 5288): the nonce is the 4-byte salt followed by an 8-byte
 *   explicit part carried in the record. We always send the sequence number there:
 *   never random, never repeated.
 * - The sequence number never wraps: at 2^64 - 1 the connection fails rather than
 *   reuse a nonce.
 * - TLS 1.3 protected records carry outer type application_data and legacy version
 *   0x0303; the additional data is the 5-byte header of the protected record (§5.2).
 *   TLS 1.2's additional data is seq_num || type || version || plaintext length.
 */
#include "record.h"

#include <string.h>

#include "keysched.h"

tls_error tls__record_cipher_install(tls_record_cipher *rc, const tls_suite *suite,
                                     const uint8_t *traffic_secret)
{
    uint8_t key[TLS_MAX_AEAD_KEY_LEN];
    tls_aead *aead = NULL;
    tls_error err = tls13_traffic_key_iv(suite->hash, traffic_secret, suite->key_len, key, rc->iv);
    if (err == TLS_OK)
        err = tls__aead_new(suite->aead, key, suite->key_len, &aead);
    tls__wipe(key, sizeof key);
    if (err != TLS_OK) {
        tls__record_cipher_clear(rc);
        return err;
    }
    tls__aead_free(rc->aead);
    rc->aead = aead;
    rc->suite = suite;
    rc->seq = 0;
    rc->tls12 = false;
    return TLS_OK;
}

tls_error tls__record_cipher_install12(tls_record_cipher *rc, const tls_suite *suite,
                                       const uint8_t *key, const uint8_t *iv)
{
    tls_aead *aead = NULL;
    ENSURE(suite->fixed_iv_len == 4 || suite->fixed_iv_len == TLS_AEAD_NONCE_LEN, TLS_ERR_INTERNAL);
    TRY(tls__aead_new(suite->aead, key, suite->key_len, &aead));
    tls__aead_free(rc->aead);
    rc->aead = aead;
    rc->suite = suite;
    rc->seq = 0;
    rc->tls12 = true;
    memset(rc->iv, 0, sizeof rc->iv);
    memcpy(rc->iv, iv, suite->fixed_iv_len);
    return TLS_OK;
}

void tls__record_cipher_clear(tls_record_cipher *rc)
{
    tls__aead_free(rc->aead);
    tls__wipe(rc, sizeof *rc);
    rc->aead = NULL;
    rc->suite = NULL;
}

bool tls__record_cipher_active(const tls_record_cipher *rc)
{
    return rc->aead != NULL;
}

static void write_header(uint8_t *p, uint8_t type, size_t len)
{
    p[0] = type;
    p[1] = 0x03;
    p[2] = 0x03;
    p[3] = (uint8_t)(len >> 8);
    p[4] = (uint8_t)len;
}

static void put_u64(uint8_t *p, uint64_t v)
{
    for (int i = 7; i >= 0; i--, v >>= 8)
        p[i] = (uint8_t)v;
}

/* Takes the next sequence number and its nonce; fails instead of wrapping. */
static tls_error next_nonce(tls_record_cipher *rc, uint8_t nonce[TLS_AEAD_NONCE_LEN], uint64_t *seq)
{
    ENSURE(rc->seq != UINT64_MAX, TLS_ERR_INTERNAL);
    *seq = rc->seq++;
    memcpy(nonce, rc->iv, TLS_AEAD_NONCE_LEN);
    if (rc->tls12 && rc->suite->fixed_iv_len == 4) {
        put_u64(nonce + 4, *seq); /* RFC 5288 §3: salt || explicit nonce */
        return TLS_OK;
    }
    for (int i = 0; i < 8; i++)
        nonce[TLS_AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(*seq >> (8 * i));
    return TLS_OK;
}

static size_t explicit_nonce_len(const tls_record_cipher *rc)
{
    return rc->tls12 && rc->suite->fixed_iv_len == 4 ? 8 : 0;
}

/* RFC 5246 §6.2.3.3: seq_num || type || version || length of the plaintext. */
static void tls12_aad(uint8_t aad[13], uint64_t seq, uint8_t type, const uint8_t version[2],
                      size_t len)
{
    put_u64(aad, seq);
    aad[8] = type;
    aad[9] = version[0];
    aad[10] = version[1];
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
}

static tls_error open12(tls_record_cipher *rc, tls_record *rec, uint8_t *out)
{
    uint8_t nonce[TLS_AEAD_NONCE_LEN], aad[13];
    uint64_t seq;
    size_t explicit_len = explicit_nonce_len(rc);

    ENSURE(rec->len >= explicit_len + TLS_AEAD_TAG_LEN, TLS_ERR_DECRYPT);
    size_t plain_len = rec->len - explicit_len - TLS_AEAD_TAG_LEN;
    ENSURE(plain_len <= TLS_MAX_PLAINTEXT, TLS_ERR_RECORD_OVERFLOW);
    TRY(next_nonce(rc, nonce, &seq));
    if (explicit_len) /* the peer chooses the explicit part; only its uniqueness matters */
        memcpy(nonce + 4, rec->body, 8);
    tls12_aad(aad, seq, rec->type, rec->body - 4, plain_len);
    uint8_t *ciphertext = rec->body + explicit_len;
    uint8_t *plaintext = out ? out : ciphertext;
    TRY(tls__aead_open(rc->aead, nonce, aad, sizeof aad, ciphertext, rec->len - explicit_len,
                       plaintext));
    rec->body = plaintext;
    rec->len = plain_len;
    return TLS_OK;
}

tls_error tls__record_peek(uint8_t *buf, size_t len, tls_record *rec, bool *complete)
{
    tls_reader r;
    uint8_t type;
    uint16_t version, body_len;

    *complete = false;
    tls_reader_init(&r, buf, len);
    /* Judge the type and version as soon as they arrive, so garbage is refused
     * without waiting for a length's worth of bytes that may never come. */
    if (!tls_read_u8(&r, &type))
        return TLS_OK;
    ENSURE(type >= TLS_CT_CHANGE_CIPHER_SPEC && type <= TLS_CT_APPLICATION_DATA,
           TLS_ERR_INVALID_CONTENT_TYPE);
    if (len >= 2 && buf[1] != 0x03)
        return TLS_ERR_BAD_RECORD_VERSION;
    if (!tls_read_u16(&r, &version) || !tls_read_u16(&r, &body_len))
        return TLS_OK;
    ENSURE(body_len <= TLS_MAX_CIPHERTEXT, TLS_ERR_RECORD_OVERFLOW);
    if (tls_reader_left(&r) < body_len)
        return TLS_OK;
    rec->type = type;
    rec->body = buf + TLS_RECORD_HEADER_LEN;
    rec->len = body_len;
    rec->total = TLS_RECORD_HEADER_LEN + (size_t)body_len;
    *complete = true;
    return TLS_OK;
}

tls_error tls__record_open(tls_record_cipher *rc, tls_record *rec)
{
    return tls__record_open_to(rc, rec, NULL);
}

tls_error tls__record_open_to(tls_record_cipher *rc, tls_record *rec, uint8_t *out)
{
    uint8_t nonce[TLS_AEAD_NONCE_LEN], aad[TLS_RECORD_HEADER_LEN];
    uint64_t seq;

    if (rc->tls12)
        return open12(rc, rec, out);
    ENSURE(rec->len >= TLS_AEAD_TAG_LEN, TLS_ERR_DECRYPT);
    /* §5.2: the additional data is the header exactly as received (tls__record_peek
     * guarantees the body follows its header). */
    memcpy(aad, rec->body - TLS_RECORD_HEADER_LEN, TLS_RECORD_HEADER_LEN);
    TRY(next_nonce(rc, nonce, &seq));
    uint8_t *plaintext = out ? out : rec->body;
    TRY(tls__aead_open(rc->aead, nonce, aad, sizeof aad, rec->body, rec->len, plaintext));
    rec->body = plaintext;
    size_t n = rec->len - TLS_AEAD_TAG_LEN;
    ENSURE(n <= TLS_MAX_PLAINTEXT + 1, TLS_ERR_RECORD_OVERFLOW);
    /* The content type is the last non-zero byte; what follows it is padding (§5.4). */
    while (n > 0 && rec->body[n - 1] == 0)
        n--;
    ENSURE(n > 0, TLS_ERR_UNEXPECTED_MESSAGE);
    rec->type = rec->body[n - 1];
    rec->len = n - 1;
    return TLS_OK;
}

size_t tls__record_size(const tls_record_cipher *rc, size_t len, size_t pad)
{
    if (!tls__record_cipher_active(rc))
        return TLS_RECORD_HEADER_LEN + len;
    if (rc->tls12)
        return TLS_RECORD_HEADER_LEN + explicit_nonce_len(rc) + len + TLS_AEAD_TAG_LEN;
    return TLS_RECORD_HEADER_LEN + len + 1 + pad + TLS_AEAD_TAG_LEN;
}

static tls_error seal12(tls_record_cipher *rc, uint8_t type, const uint8_t *data, size_t len,
                        const uint8_t nonce[TLS_AEAD_NONCE_LEN], uint64_t seq, uint8_t *out,
                        size_t total, size_t *written)
{
    static const uint8_t version[2] = {0x03, 0x03};
    uint8_t aad[13];
    size_t explicit_len = explicit_nonce_len(rc);
    uint8_t *ciphertext = out + TLS_RECORD_HEADER_LEN + explicit_len;

    write_header(out, type, total - TLS_RECORD_HEADER_LEN);
    if (explicit_len)
        memcpy(out + TLS_RECORD_HEADER_LEN, nonce + 4, 8);
    if (len)
        memmove(ciphertext, data, len);
    tls12_aad(aad, seq, type, version, len);
    TRY(tls__aead_seal(rc->aead, nonce, aad, sizeof aad, ciphertext, len, ciphertext));
    *written = total;
    return TLS_OK;
}

tls_error tls__record_seal(tls_record_cipher *rc, uint8_t type, const uint8_t *data, size_t len,
                           size_t pad, uint8_t *out, size_t cap, size_t *written)
{
    uint8_t nonce[TLS_AEAD_NONCE_LEN];
    uint64_t seq;

    ENSURE(len <= TLS_MAX_PLAINTEXT, TLS_ERR_INTERNAL);
    /* Bounded before any size arithmetic, so a huge pad cannot wrap it. */
    ENSURE(!tls__record_cipher_active(rc) || pad <= TLS_MAX_PLAINTEXT - len, TLS_ERR_INTERNAL);
    size_t total = tls__record_size(rc, len, pad);
    ENSURE(total <= cap, TLS_ERR_INTERNAL);
    if (!tls__record_cipher_active(rc)) {
        write_header(out, type, len);
        if (len)
            memmove(out + TLS_RECORD_HEADER_LEN, data, len);
        *written = total;
        return TLS_OK;
    }
    TRY(next_nonce(rc, nonce, &seq)); /* first: an exhausted sequence writes nothing */
    if (rc->tls12)
        return seal12(rc, type, data, len, nonce, seq, out, total, written);
    uint8_t *body = out + TLS_RECORD_HEADER_LEN;
    size_t body_len = total - TLS_RECORD_HEADER_LEN;
    write_header(out, TLS_CT_APPLICATION_DATA, body_len);
    if (len)
        memmove(body, data, len);
    body[len] = type;
    memset(body + len + 1, 0, pad);
    TRY(tls__aead_seal(rc->aead, nonce, out, TLS_RECORD_HEADER_LEN, body, len + 1 + pad, body));
    *written = total;
    return TLS_OK;
}
