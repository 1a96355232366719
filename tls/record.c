/*
 * record.c — record framing and TLS 1.3 record protection.
 *
 * Implementation notes:
 * - The per-record nonce is the static IV XOR the big-endian sequence number padded
 *   to 12 bytes (RFC 8446 §5.3); the sequence number never wraps: at 2^64 - 1 the
 *   connection fails rather than reuse a nonce.
 * - Protected records carry outer type application_data and legacy version 0x0303;
 *   the additional data is the 5-byte header of the protected record (§5.2).
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

/* Takes the next nonce; fails instead of wrapping the sequence number. */
static tls_error next_nonce(tls_record_cipher *rc, uint8_t nonce[TLS_AEAD_NONCE_LEN])
{
    ENSURE(rc->seq != UINT64_MAX, TLS_ERR_INTERNAL);
    memcpy(nonce, rc->iv, TLS_AEAD_NONCE_LEN);
    for (int i = 0; i < 8; i++)
        nonce[TLS_AEAD_NONCE_LEN - 1 - i] ^= (uint8_t)(rc->seq >> (8 * i));
    rc->seq++;
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
    uint8_t nonce[TLS_AEAD_NONCE_LEN], aad[TLS_RECORD_HEADER_LEN];

    ENSURE(rec->len >= TLS_AEAD_TAG_LEN, TLS_ERR_DECRYPT);
    /* §5.2: the additional data is the header exactly as received (tls__record_peek
     * guarantees the body follows its header). */
    memcpy(aad, rec->body - TLS_RECORD_HEADER_LEN, TLS_RECORD_HEADER_LEN);
    TRY(next_nonce(rc, nonce));
    TRY(tls__aead_open(rc->aead, nonce, aad, sizeof aad, rec->body, rec->len, rec->body));
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
    return TLS_RECORD_HEADER_LEN + len + 1 + pad + TLS_AEAD_TAG_LEN;
}

tls_error tls__record_seal(tls_record_cipher *rc, uint8_t type, const uint8_t *data, size_t len,
                           size_t pad, uint8_t *out, size_t cap, size_t *written)
{
    uint8_t nonce[TLS_AEAD_NONCE_LEN];

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
    TRY(next_nonce(rc, nonce)); /* first: an exhausted sequence writes nothing */
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
