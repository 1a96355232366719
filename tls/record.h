/*
 * record.h — the record layer: the only code that reads or writes the 5-byte record
 * header (RFC 8446 §5). Pure functions over caller buffers; tls/conn.c owns the
 * buffers and decides which cipher state applies.
 *
 * A tls_record_cipher is one direction's protection state: the suite's AEAD keyed
 * from a traffic secret, the static IV and the 64-bit sequence number (§5.3). It is
 * inactive (plaintext records) until installed; installing replaces and wipes the
 * previous key and resets the sequence number. A cipher starts zero-initialised;
 * tls__record_open needs an active one.
 */
#ifndef MOAT_TLS_RECORD_H
#define MOAT_TLS_RECORD_H

#include "internal.h"

typedef struct {
    const tls_suite *suite; /* NULL while records are plaintext */
    tls_aead *aead;
    uint8_t iv[TLS_AEAD_NONCE_LEN]; /* 1.2 GCM: only the 4-byte salt is used */
    uint64_t seq;
    bool tls12; /* TLS 1.2 record protection (RFC 5288, RFC 7905) */
} tls_record_cipher;

/* A record found in a receive buffer. body points into that buffer (writable, so
 * it can be decrypted in place); total is header + body. */
typedef struct {
    uint8_t type;
    uint8_t *body;
    size_t len;
    size_t total;
} tls_record;

TLS_MUST_CHECK tls_error tls__record_cipher_install(tls_record_cipher *rc, const tls_suite *suite,
                                                    const uint8_t *traffic_secret);
/* TLS 1.2: keys straight from the key block (suite->key_len and suite->fixed_iv_len
 * bytes). */
TLS_MUST_CHECK tls_error tls__record_cipher_install12(tls_record_cipher *rc, const tls_suite *suite,
                                                      const uint8_t *key, const uint8_t *iv);
void tls__record_cipher_clear(tls_record_cipher *rc);
bool tls__record_cipher_active(const tls_record_cipher *rc);

/*
 * Finds the first record in buf. *complete is false (and TLS_OK returned) while the
 * header or body is still partial. Errors: TLS_ERR_INVALID_CONTENT_TYPE (unknown
 * type: also what garbage such as an HTTP request looks like),
 * TLS_ERR_BAD_RECORD_VERSION (major version not 3), TLS_ERR_RECORD_OVERFLOW (length
 * past 2^14 + 256, §5.2).
 */
TLS_MUST_CHECK tls_error tls__record_peek(uint8_t *buf, size_t len, tls_record *rec,
                                          bool *complete);

/*
 * Decrypts a protected record in place (§5.2). On success rec->type is the inner
 * content type and rec->len the content length with padding removed (TLS 1.2: the
 * type stays the outer one, and rec->body may move past the explicit nonce). Errors:
 * TLS_ERR_DECRYPT (bad tag, or too short to hold one), TLS_ERR_RECORD_OVERFLOW
 * (inner plaintext over 2^14 + 1), TLS_ERR_UNEXPECTED_MESSAGE (all padding, no
 * content type), TLS_ERR_INTERNAL (sequence number exhausted).
 */
TLS_MUST_CHECK tls_error tls__record_open(tls_record_cipher *rc, tls_record *rec);
/* The same, with the plaintext written to `out` (room for rec->len bytes, not
 * overlapping the record) instead of in place; rec->body then points into out. */
TLS_MUST_CHECK tls_error tls__record_open_to(tls_record_cipher *rc, tls_record *rec, uint8_t *out);

/* Bytes a record carrying len plaintext bytes plus pad padding bytes takes
 * (len + pad <= 2^14). */
size_t tls__record_size(const tls_record_cipher *rc, size_t len, size_t pad);

/*
 * Writes one record (header included) of content type `type` carrying data[0..len)
 * into out; protected if rc is active (with `pad` zero bytes of inner padding),
 * plaintext otherwise. len must be <= 2^14. *written gets the record size.
 */
TLS_MUST_CHECK tls_error tls__record_seal(tls_record_cipher *rc, uint8_t type, const uint8_t *data,
                                          size_t len, size_t pad, uint8_t *out, size_t cap,
                                          size_t *written);

#endif
