/*
 * test_record.c — unit tests for tls/record.c: record framing (tls__record_peek) and
 * TLS 1.3 record protection (tls__record_seal / tls__record_open), RFC 8446 §5.
 *
 * Protection cases run once per suite (loop index into suite_ids): a sender and a
 * receiver cipher are installed from the same traffic secret, sealed records are
 * opened by the other side. Records the engine must refuse but would never write itself
 * (an all-zero inner plaintext, an oversized inner plaintext) are built here with
 * tls__aead_seal directly, from the key and IV tls13_traffic_key_iv derives and the
 * nonce RFC 8446 §5.3 defines (IV XOR the big-endian sequence number).
 *
 * The byte-exact record vectors of RFC 8448 are in test_keysched.c.
 *
 * The "tls12" case covers TLS 1.2 protection (tls__record_cipher_install12): AES-GCM with
 * an 8-byte explicit nonce equal to the sequence number (RFC 5288), ChaCha20-Poly1305 with
 * IV XOR sequence (RFC 7905), and the additional data seq || type || version || length
 * (RFC 5246 §6.2.3.3), against records built independently with tls__aead_seal.
 */
#include "tests/lib/unit.h"
#include "tls/keysched.h"
#include "tls/record.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CANARY 0xA5
#define MAX_INNER (TLS_MAX_PLAINTEXT + 1) /* content + type + padding, §5.4 */

static const uint16_t suite_ids[] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
                                     TLS_CHACHA20_POLY1305_SHA256};
#define N_SUITES ((int)(sizeof suite_ids / sizeof suite_ids[0]))

/* Room for the largest record plus slack, so tampered lengths still have bytes to read. */
static uint8_t buf[2 * TLS_MAX_RECORD];
static uint8_t data[2 * TLS_MAX_RECORD];

static const tls_suite *suite_at(int i)
{
    const tls_suite *s = tls__suite_find(suite_ids[i]);
    ck_assert_ptr_nonnull(s);
    return s;
}

/* A traffic secret long enough for any suite's hash. */
static const uint8_t *test_secret(uint8_t salt)
{
    static uint8_t secret[TLS_MAX_HASH_LEN];
    for (size_t i = 0; i < sizeof secret; i++)
        secret[i] = (uint8_t)(i * 7 + 1 + salt);
    return secret;
}

static void fill_data(size_t len)
{
    for (size_t i = 0; i < len; i++)
        data[i] = (uint8_t)(i * 13 + 5);
}

/* tx and rx keyed from the same secret: what tx seals, rx opens. */
static void install_pair(int i, tls_record_cipher *tx, tls_record_cipher *rx)
{
    memset(tx, 0, sizeof *tx);
    memset(rx, 0, sizeof *rx);
    ck_assert_int_eq(tls__record_cipher_install(tx, suite_at(i), test_secret(0)), TLS_OK);
    ck_assert_int_eq(tls__record_cipher_install(rx, suite_at(i), test_secret(0)), TLS_OK);
    ck_assert(tls__record_cipher_active(tx));
    ck_assert(tls__record_cipher_active(rx));
}

static void clear_pair(tls_record_cipher *tx, tls_record_cipher *rx)
{
    tls__record_cipher_clear(tx);
    tls__record_cipher_clear(rx);
}

static size_t seal_ok(tls_record_cipher *rc, uint8_t type, size_t len, size_t pad, uint8_t *out)
{
    size_t written = 0;
    ck_assert_int_eq(tls__record_seal(rc, type, data, len, pad, out, TLS_MAX_RECORD, &written),
                     TLS_OK);
    ck_assert_uint_eq(written, tls__record_size(rc, len, pad));
    return written;
}

/* Peeks buf[0..len) and, if a complete record is there, opens it. *complete reports
 * whether peek found one; the return value is the first error. */
static tls_error peek_open(tls_record_cipher *rx, uint8_t *p, size_t len, tls_record *rec,
                           bool *complete)
{
    tls_error err = tls__record_peek(p, len, rec, complete);
    if (err != TLS_OK || !*complete)
        return err;
    return tls__record_open(rx, rec);
}

/* Opens buf[0..len), which must hold exactly one record. */
static tls_error open_exact(tls_record_cipher *rx, uint8_t *p, size_t len, tls_record *rec)
{
    bool complete;
    tls_error err = tls__record_peek(p, len, rec, &complete);
    ck_assert_int_eq(err, TLS_OK);
    ck_assert(complete);
    ck_assert_uint_eq(rec->total, len);
    return tls__record_open(rx, rec);
}

/* ---- records built around the engine --------------------------------------------------- */

typedef struct {
    tls_aead *aead;
    uint8_t iv[TLS_AEAD_NONCE_LEN];
} raw_key;

static void raw_key_init(int i, raw_key *k)
{
    const tls_suite *s = suite_at(i);
    uint8_t key[TLS_MAX_AEAD_KEY_LEN];
    ck_assert_int_eq(tls13_traffic_key_iv(s->hash, test_secret(0), s->key_len, key, k->iv), TLS_OK);
    ck_assert_int_eq(tls__aead_new(s->aead, key, s->key_len, &k->aead), TLS_OK);
}

/* RFC 8446 §5.3: the 64-bit sequence number, big-endian, left-padded to the IV length,
 * XORed with the static IV. */
static void rfc_nonce(const raw_key *k, uint64_t seq, uint8_t nonce[TLS_AEAD_NONCE_LEN])
{
    memcpy(nonce, k->iv, TLS_AEAD_NONCE_LEN);
    for (int b = 0; b < 8; b++)
        nonce[TLS_AEAD_NONCE_LEN - 8 + b] ^= (uint8_t)(seq >> (56 - 8 * b));
}

/* A protected record whose inner plaintext (content || type || padding) is inner[0..n). */
static size_t raw_seal(const raw_key *k, uint64_t seq, const uint8_t *inner, size_t n, uint8_t *out)
{
    uint8_t nonce[TLS_AEAD_NONCE_LEN];
    size_t body = n + TLS_AEAD_TAG_LEN;
    out[0] = TLS_CT_APPLICATION_DATA;
    out[1] = 0x03;
    out[2] = 0x03;
    out[3] = (uint8_t)(body >> 8);
    out[4] = (uint8_t)body;
    memmove(out + TLS_RECORD_HEADER_LEN, inner, n);
    rfc_nonce(k, seq, nonce);
    ck_assert_int_eq(tls__aead_seal(k->aead, nonce, out, TLS_RECORD_HEADER_LEN,
                                    out + TLS_RECORD_HEADER_LEN, n, out + TLS_RECORD_HEADER_LEN),
                     TLS_OK);
    return TLS_RECORD_HEADER_LEN + body;
}

/* ---- peek: framing ---------------------------------------------------------------------- */

START_TEST(test_record_peek_complete_record)
{
    static uint8_t rec_bytes[] = {0x16, 0x03, 0x03, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04};
    tls_record rec;
    bool complete = false;

    ck_assert_int_eq(tls__record_peek(rec_bytes, sizeof rec_bytes, &rec, &complete), TLS_OK);
    ck_assert(complete);
    ck_assert_uint_eq(rec.type, TLS_CT_HANDSHAKE);
    ck_assert_ptr_eq(rec.body, rec_bytes + 5);
    ck_assert_uint_eq(rec.len, 4);
    ck_assert_uint_eq(rec.total, 9);
}
END_TEST

/* Every content type the record layer knows is framed; legacy_record_version 0x0301 (a
 * ClientHello's) and any other 0x03xx is accepted. */
START_TEST(test_record_peek_known_types_and_minor_versions_accepted)
{
    for (unsigned type = TLS_CT_CHANGE_CIPHER_SPEC; type <= TLS_CT_APPLICATION_DATA; type++) {
        for (unsigned minor = 0; minor <= 0xff; minor++) {
            uint8_t b[] = {(uint8_t)type, 0x03, (uint8_t)minor, 0x00, 0x01, 0xee};
            tls_record rec;
            bool complete = false;
            ck_assert_int_eq(tls__record_peek(b, sizeof b, &rec, &complete), TLS_OK);
            ck_assert(complete);
            ck_assert_uint_eq(rec.type, type);
            ck_assert_uint_eq(rec.len, 1);
        }
    }
}
END_TEST

START_TEST(test_record_peek_header_split_incomplete)
{
    static uint8_t rec_bytes[] = {0x17, 0x03, 0x03, 0x00, 0x02, 0xaa, 0xbb};
    for (size_t n = 0; n < TLS_RECORD_HEADER_LEN; n++) {
        tls_record rec;
        bool complete = true;
        ck_assert_int_eq(tls__record_peek(rec_bytes, n, &rec, &complete), TLS_OK);
        ck_assert_msg(!complete, "complete with %zu header bytes", n);
    }
}
END_TEST

START_TEST(test_record_peek_body_partial_incomplete)
{
    static uint8_t rec_bytes[5 + 300] = {0x17, 0x03, 0x03, 0x01, 0x2c};
    tls_record rec;
    bool complete;

    for (size_t n = TLS_RECORD_HEADER_LEN; n < sizeof rec_bytes; n++) {
        complete = true;
        ck_assert_int_eq(tls__record_peek(rec_bytes, n, &rec, &complete), TLS_OK);
        ck_assert_msg(!complete, "complete with %zu of %zu bytes", n, sizeof rec_bytes);
    }
    ck_assert_int_eq(tls__record_peek(rec_bytes, sizeof rec_bytes, &rec, &complete), TLS_OK);
    ck_assert(complete);
    ck_assert_uint_eq(rec.len, 300);
}
END_TEST

START_TEST(test_record_peek_two_records_in_one_buffer)
{
    static uint8_t two[] = {0x16, 0x03, 0x03, 0x00, 0x02, 0x0a, 0x0b,       /* first */
                            0x15, 0x03, 0x03, 0x00, 0x03, 0x0c, 0x0d, 0x0e, /* second */
                            0x17, 0x03};                                    /* third, partial */
    tls_record rec;
    bool complete;
    size_t off = 0;

    ck_assert_int_eq(tls__record_peek(two, sizeof two, &rec, &complete), TLS_OK);
    ck_assert(complete);
    ck_assert_uint_eq(rec.type, TLS_CT_HANDSHAKE);
    ck_assert_uint_eq(rec.total, 7);
    ck_assert_mem_eq(rec.body, "\x0a\x0b", 2);
    off += rec.total;

    ck_assert_int_eq(tls__record_peek(two + off, sizeof two - off, &rec, &complete), TLS_OK);
    ck_assert(complete);
    ck_assert_uint_eq(rec.type, TLS_CT_ALERT);
    ck_assert_uint_eq(rec.len, 3);
    ck_assert_ptr_eq(rec.body, two + off + 5);
    ck_assert_mem_eq(rec.body, "\x0c\x0d\x0e", 3);
    off += rec.total;

    ck_assert_int_eq(tls__record_peek(two + off, sizeof two - off, &rec, &complete), TLS_OK);
    ck_assert(!complete);
}
END_TEST

/* A plaintext HTTP request sent to the TLS port is refused on its first byte. */
START_TEST(test_record_peek_http_request_rejected_after_one_byte)
{
    static uint8_t get[] = "GET / HTTP/1.1\r\nHost: example\r\n\r\n";
    tls_record rec;
    bool complete = true;

    ck_assert_int_eq(tls__record_peek(get, 1, &rec, &complete), TLS_ERR_INVALID_CONTENT_TYPE);
    ck_assert(!complete);
    ck_assert_int_eq(tls__record_peek(get, sizeof get - 1, &rec, &complete),
                     TLS_ERR_INVALID_CONTENT_TYPE);
}
END_TEST

START_TEST(test_record_peek_type_19_and_24_rejected)
{
    static const uint8_t types[] = {19, 24};
    for (size_t i = 0; i < sizeof types; i++) {
        uint8_t b[] = {types[i], 0x03, 0x03, 0x00, 0x01, 0x00};
        tls_record rec;
        bool complete;
        ck_assert_int_eq(tls__record_peek(b, 1, &rec, &complete), TLS_ERR_INVALID_CONTENT_TYPE);
        ck_assert_int_eq(tls__record_peek(b, sizeof b, &rec, &complete),
                         TLS_ERR_INVALID_CONTENT_TYPE);
    }
}
END_TEST

START_TEST(test_record_peek_unknown_type_rejected)
{
    for (unsigned t = 0; t <= 0xff; t++) {
        if (t >= TLS_CT_CHANGE_CIPHER_SPEC && t <= TLS_CT_APPLICATION_DATA)
            continue;
        uint8_t b[] = {(uint8_t)t, 0x03, 0x03, 0x00, 0x00};
        tls_record rec;
        bool complete;
        ck_assert_int_eq(tls__record_peek(b, 1, &rec, &complete), TLS_ERR_INVALID_CONTENT_TYPE);
        ck_assert_int_eq(tls__record_peek(b, sizeof b, &rec, &complete),
                         TLS_ERR_INVALID_CONTENT_TYPE);
    }
}
END_TEST

START_TEST(test_record_peek_major_version_04_rejected)
{
    uint8_t b[] = {0x16, 0x04, 0x03, 0x00, 0x01, 0x00};
    tls_record rec;
    bool complete;
    ck_assert_int_eq(tls__record_peek(b, 2, &rec, &complete), TLS_ERR_BAD_RECORD_VERSION);
    ck_assert_int_eq(tls__record_peek(b, sizeof b, &rec, &complete), TLS_ERR_BAD_RECORD_VERSION);
}
END_TEST

/* 0x16 0x16: e.g. a handshake byte where the version should be. */
START_TEST(test_record_peek_major_version_16_rejected)
{
    uint8_t b[] = {0x16, 0x16, 0x03, 0x00, 0x01, 0x00};
    tls_record rec;
    bool complete;
    ck_assert_int_eq(tls__record_peek(b, 2, &rec, &complete), TLS_ERR_BAD_RECORD_VERSION);
    ck_assert_int_eq(tls__record_peek(b, sizeof b, &rec, &complete), TLS_ERR_BAD_RECORD_VERSION);
}
END_TEST

START_TEST(test_record_peek_any_other_major_version_rejected)
{
    for (unsigned major = 0; major <= 0xff; major++) {
        if (major == 0x03)
            continue;
        uint8_t b[] = {0x17, (uint8_t)major, 0x03, 0x00, 0x00};
        tls_record rec;
        bool complete;
        ck_assert_int_eq(tls__record_peek(b, 2, &rec, &complete), TLS_ERR_BAD_RECORD_VERSION);
    }
}
END_TEST

/* §5.2: a TLSCiphertext may be 2^14 + 256 bytes long, and no more; the length is judged
 * as soon as the header is in. */
START_TEST(test_record_peek_length_max_ciphertext_accepted)
{
    tls_record rec;
    bool complete = true;
    memset(buf, 0, sizeof buf);
    buf[0] = 0x17;
    buf[1] = 0x03;
    buf[2] = 0x03;
    buf[3] = (uint8_t)(TLS_MAX_CIPHERTEXT >> 8);
    buf[4] = (uint8_t)TLS_MAX_CIPHERTEXT;
    ck_assert_uint_eq(TLS_MAX_CIPHERTEXT, 16384 + 256);

    ck_assert_int_eq(tls__record_peek(buf, TLS_RECORD_HEADER_LEN, &rec, &complete), TLS_OK);
    ck_assert(!complete);
    ck_assert_int_eq(tls__record_peek(buf, TLS_MAX_RECORD - 1, &rec, &complete), TLS_OK);
    ck_assert(!complete);
    ck_assert_int_eq(tls__record_peek(buf, TLS_MAX_RECORD, &rec, &complete), TLS_OK);
    ck_assert(complete);
    ck_assert_uint_eq(rec.len, TLS_MAX_CIPHERTEXT);
}
END_TEST

START_TEST(test_record_peek_length_over_max_rejected)
{
    static const unsigned lens[] = {16384 + 257, 0x8000, 0xffff};
    for (size_t i = 0; i < sizeof lens / sizeof lens[0]; i++) {
        uint8_t b[] = {0x17, 0x03, 0x03, (uint8_t)(lens[i] >> 8), (uint8_t)lens[i]};
        tls_record rec;
        bool complete = true;
        ck_assert_int_eq(tls__record_peek(b, sizeof b, &rec, &complete), TLS_ERR_RECORD_OVERFLOW);
        ck_assert(!complete);
    }
}
END_TEST

/* ---- protection: round trips --------------------------------------------------------------- */

START_TEST(test_record_seal_open_round_trip_preserves_content_and_type)
{
    static const uint8_t types[] = {TLS_CT_HANDSHAKE, TLS_CT_APPLICATION_DATA, TLS_CT_ALERT};
    static const size_t lens[] = {0, 1, 2, 100, 1000, TLS_MAX_PLAINTEXT};
    tls_record_cipher tx, rx;

    install_pair(_i, &tx, &rx);
    fill_data(TLS_MAX_PLAINTEXT);
    for (size_t t = 0; t < sizeof types; t++) {
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            tls_record rec;
            size_t n = seal_ok(&tx, types[t], lens[l], 0, buf);
            ck_assert_uint_eq(buf[0], TLS_CT_APPLICATION_DATA); /* outer type hides the inner */
            ck_assert_uint_eq(buf[1], 0x03);
            ck_assert_uint_eq(buf[2], 0x03);
            ck_assert_uint_eq((size_t)buf[3] << 8 | buf[4], n - TLS_RECORD_HEADER_LEN);
            ck_assert_uint_eq(n, TLS_RECORD_HEADER_LEN + lens[l] + 1 + TLS_AEAD_TAG_LEN);
            ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
            ck_assert_uint_eq(rec.type, types[t]);
            ck_assert_uint_eq(rec.len, lens[l]);
            ck_assert_ptr_eq(rec.body, buf + TLS_RECORD_HEADER_LEN); /* decrypted in place */
            ck_assert_mem_eq(rec.body, data, lens[l]);
        }
    }
    ck_assert_uint_eq(tx.seq, rx.seq);
    clear_pair(&tx, &rx);
}
END_TEST

START_TEST(test_record_seal_open_padding_removed)
{
    static const size_t lens[] = {0, 10, 1000};
    tls_record_cipher tx, rx;

    install_pair(_i, &tx, &rx);
    fill_data(TLS_MAX_PLAINTEXT);
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        /* The largest pad makes the inner plaintext exactly 2^14 + 1 bytes. */
        size_t pads[] = {0, 1, 100, MAX_INNER - 1 - lens[l]};
        for (size_t p = 0; p < sizeof pads / sizeof pads[0]; p++) {
            tls_record rec;
            size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, lens[l], pads[p], buf);
            ck_assert_uint_eq(n, TLS_RECORD_HEADER_LEN + lens[l] + 1 + pads[p] + TLS_AEAD_TAG_LEN);
            ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
            ck_assert_uint_eq(rec.type, TLS_CT_APPLICATION_DATA);
            ck_assert_uint_eq(rec.len, lens[l]);
            ck_assert_mem_eq(rec.body, data, lens[l]);
        }
    }
    clear_pair(&tx, &rx);
}
END_TEST

/* Content that itself ends in zero bytes keeps them: only what follows the type goes. */
START_TEST(test_record_seal_open_trailing_zero_content_kept)
{
    tls_record_cipher tx, rx;
    tls_record rec;

    install_pair(_i, &tx, &rx);
    memset(data, 0, 50);
    data[0] = 1;
    size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 50, 7, buf);
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
    ck_assert_uint_eq(rec.type, TLS_CT_APPLICATION_DATA);
    ck_assert_uint_eq(rec.len, 50);
    ck_assert_mem_eq(rec.body, data, 50);
    clear_pair(&tx, &rx);
}
END_TEST

START_TEST(test_record_seal_sequence_advances_and_nonce_differs)
{
    static uint8_t first[TLS_MAX_RECORD];
    tls_record_cipher tx, rx;
    tls_record rec;

    install_pair(_i, &tx, &rx);
    fill_data(64);
    ck_assert_uint_eq(tx.seq, 0);
    size_t n1 = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 64, 0, first);
    ck_assert_uint_eq(tx.seq, 1);
    size_t n2 = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 64, 0, buf);
    ck_assert_uint_eq(tx.seq, 2);
    ck_assert_uint_eq(n1, n2);
    ck_assert_mem_eq(first, buf, TLS_RECORD_HEADER_LEN); /* same header ... */
    ck_assert_mem_ne(first + TLS_RECORD_HEADER_LEN, buf + TLS_RECORD_HEADER_LEN,
                     n1 - TLS_RECORD_HEADER_LEN); /* ... different ciphertext */

    /* Out of order fails: the second record does not open as the first. */
    static uint8_t copy[TLS_MAX_RECORD];
    memcpy(copy, buf, n2);
    ck_assert_int_eq(open_exact(&rx, copy, n2, &rec), TLS_ERR_DECRYPT);
    rx.seq = 0;
    ck_assert_int_eq(open_exact(&rx, first, n1, &rec), TLS_OK);
    ck_assert_uint_eq(rx.seq, 1);
    ck_assert_int_eq(open_exact(&rx, buf, n2, &rec), TLS_OK);
    ck_assert_uint_eq(rx.seq, 2);
    ck_assert_mem_eq(rec.body, data, 64);
    clear_pair(&tx, &rx);
}
END_TEST

/* The engine's nonce is the one §5.3 defines, checked at sequence numbers that exercise
 * every byte position of the XOR. */
START_TEST(test_record_seal_nonce_is_iv_xor_sequence)
{
    static const uint64_t seqs[] = {0, 1, 0xff, 0x0102030405060708u, UINT64_MAX - 1};
    tls_record_cipher tx, rx;
    raw_key k;

    install_pair(_i, &tx, &rx);
    raw_key_init(_i, &k);
    ck_assert_mem_eq(tx.iv, k.iv, sizeof k.iv);
    fill_data(33);
    for (size_t s = 0; s < sizeof seqs / sizeof seqs[0]; s++) {
        uint8_t nonce[TLS_AEAD_NONCE_LEN];
        tx.seq = seqs[s];
        size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 33, 2, buf);
        rfc_nonce(&k, seqs[s], nonce);
        ck_assert_int_eq(tls__aead_open(k.aead, nonce, buf, TLS_RECORD_HEADER_LEN,
                                        buf + TLS_RECORD_HEADER_LEN, n - TLS_RECORD_HEADER_LEN,
                                        buf + TLS_RECORD_HEADER_LEN),
                         TLS_OK);
        ck_assert_mem_eq(buf + TLS_RECORD_HEADER_LEN, data, 33);
        ck_assert_uint_eq(buf[TLS_RECORD_HEADER_LEN + 33], TLS_CT_APPLICATION_DATA);
        ck_assert_mem_eq(buf + TLS_RECORD_HEADER_LEN + 34, "\0\0", 2);
    }
    tls__aead_free(k.aead);
    clear_pair(&tx, &rx);
}
END_TEST

/* ---- protection: tampering ----------------------------------------------------------------- */

/* A small sealed record at sequence number 0, placed at the start of buf with CANARY
 * bytes behind it (so a length made longer by tampering still finds bytes to read). */
static size_t tamper_base(tls_record_cipher *tx, uint8_t *base)
{
    fill_data(20);
    tx->seq = 0;
    size_t n = seal_ok(tx, TLS_CT_APPLICATION_DATA, 20, 3, base);
    return n;
}

/* XORs byte `at` of a copy of base with mask and runs peek + open over the whole of buf. */
static tls_error tamper_mask(tls_record_cipher *rx, const uint8_t *base, size_t n, size_t at,
                             uint8_t mask, bool *complete)
{
    tls_record rec;
    memset(buf, CANARY, sizeof buf);
    memcpy(buf, base, n);
    buf[at] ^= mask;
    rx->seq = 0;
    return peek_open(rx, buf, sizeof buf, &rec, complete);
}

static tls_error tamper(tls_record_cipher *rx, const uint8_t *base, size_t n, size_t at,
                        unsigned bit, bool *complete)
{
    return tamper_mask(rx, base, n, at, (uint8_t)(1u << bit), complete);
}

START_TEST(test_record_open_flipped_ciphertext_or_tag_byte_rejected)
{
    static uint8_t base[TLS_MAX_RECORD];
    tls_record_cipher tx, rx;

    install_pair(_i, &tx, &rx);
    size_t n = tamper_base(&tx, base);
    for (size_t at = TLS_RECORD_HEADER_LEN; at < n; at++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            bool complete;
            tls_error err = tamper(&rx, base, n, at, bit, &complete);
            ck_assert_msg(err == TLS_ERR_DECRYPT, "byte %zu bit %u: got %s", at, bit,
                          tls_error_name(err));
        }
    }
    bool complete;
    ck_assert_int_eq(tamper_mask(&rx, base, n, 0, 0, &complete), TLS_OK); /* control */
    ck_assert(complete);
    clear_pair(&tx, &rx);
}
END_TEST

/* The outer type is in the additional data: 0x17 turned into another known type fails
 * to decrypt, into an unknown one fails to frame. */
START_TEST(test_record_open_flipped_type_byte_rejected)
{
    static uint8_t base[TLS_MAX_RECORD];
    tls_record_cipher tx, rx;

    install_pair(_i, &tx, &rx);
    size_t n = tamper_base(&tx, base);
    for (unsigned bit = 0; bit < 8; bit++) {
        bool complete;
        uint8_t t = (uint8_t)(TLS_CT_APPLICATION_DATA ^ (1u << bit));
        tls_error want = t >= TLS_CT_CHANGE_CIPHER_SPEC && t <= TLS_CT_APPLICATION_DATA
                             ? TLS_ERR_DECRYPT
                             : TLS_ERR_INVALID_CONTENT_TYPE;
        tls_error err = tamper(&rx, base, n, 0, bit, &complete);
        ck_assert_msg(err == want, "type 0x%02x: got %s, want %s", t, tls_error_name(err),
                      tls_error_name(want));
    }
    clear_pair(&tx, &rx);
}
END_TEST

START_TEST(test_record_open_flipped_major_version_rejected)
{
    static uint8_t base[TLS_MAX_RECORD];
    tls_record_cipher tx, rx;

    install_pair(_i, &tx, &rx);
    size_t n = tamper_base(&tx, base);
    for (unsigned bit = 0; bit < 8; bit++) {
        bool complete;
        ck_assert_int_eq(tamper(&rx, base, n, 1, bit, &complete), TLS_ERR_BAD_RECORD_VERSION);
    }
    clear_pair(&tx, &rx);
}
END_TEST

/* §5.2: additional_data = opaque_type || legacy_record_version || length as received,
 * so a changed minor version must fail authentication like any other header byte. */
START_TEST(test_record_open_flipped_minor_version_rejected)
{
    static uint8_t base[TLS_MAX_RECORD];
    tls_record_cipher tx, rx;

    install_pair(_i, &tx, &rx);
    size_t n = tamper_base(&tx, base);
    for (unsigned bit = 0; bit < 8; bit++) {
        bool complete;
        tls_error err = tamper(&rx, base, n, 2, bit, &complete);
        ck_assert_msg(err == TLS_ERR_DECRYPT,
                      "legacy_record_version 0x03%02x: got %s%s, want TLS_ERR_DECRYPT",
                      0x03 ^ (1u << bit), tls_error_name(err),
                      err == TLS_OK ? " (the tampered record opened)" : "");
    }
    clear_pair(&tx, &rx);
}
END_TEST

/* A changed length either overflows the limit or covers other bytes: never plaintext. */
START_TEST(test_record_open_flipped_length_byte_rejected)
{
    static uint8_t base[TLS_MAX_RECORD];
    tls_record_cipher tx, rx;

    install_pair(_i, &tx, &rx);
    size_t n = tamper_base(&tx, base);
    for (size_t at = 3; at <= 4; at++) {
        for (unsigned bit = 0; bit < 8; bit++) {
            bool complete;
            size_t len = (size_t)base[3] << 8 | base[4];
            len ^= (size_t)1 << (bit + (at == 3 ? 8 : 0));
            tls_error want = len > TLS_MAX_CIPHERTEXT ? TLS_ERR_RECORD_OVERFLOW : TLS_ERR_DECRYPT;
            tls_error err = tamper(&rx, base, n, at, bit, &complete);
            ck_assert_msg(err == want, "length %zu: got %s, want %s", len, tls_error_name(err),
                          tls_error_name(want));
        }
    }
    clear_pair(&tx, &rx);
}
END_TEST

START_TEST(test_record_open_shorter_than_tag_rejected)
{
    tls_record_cipher tx, rx;

    install_pair(_i, &tx, &rx);
    for (size_t len = 0; len < TLS_AEAD_TAG_LEN; len++) {
        tls_record rec;
        memset(buf, 0x42, sizeof buf);
        buf[0] = TLS_CT_APPLICATION_DATA;
        buf[1] = 0x03;
        buf[2] = 0x03;
        buf[3] = 0;
        buf[4] = (uint8_t)len;
        rx.seq = 0;
        ck_assert_int_eq(open_exact(&rx, buf, TLS_RECORD_HEADER_LEN + len, &rec), TLS_ERR_DECRYPT);
    }
    clear_pair(&tx, &rx);
}
END_TEST

/* §5.4: an inner plaintext of only zeros (or of nothing) has no content type. */
START_TEST(test_record_open_all_zero_inner_plaintext_rejected)
{
    static const size_t zero_lens[] = {0, 1, 10, MAX_INNER};
    static uint8_t zeros[MAX_INNER];
    tls_record_cipher tx, rx;
    tls_record rec;
    raw_key k;

    install_pair(_i, &tx, &rx);
    raw_key_init(_i, &k);
    for (size_t z = 0; z < sizeof zero_lens / sizeof zero_lens[0]; z++) {
        size_t n = raw_seal(&k, rx.seq, zeros, zero_lens[z], buf);
        ck_assert_msg(open_exact(&rx, buf, n, &rec) == TLS_ERR_UNEXPECTED_MESSAGE, "%zu zero bytes",
                      zero_lens[z]);
    }
    /* The same through seal: content type 0 with no content, with and without padding. */
    for (size_t pad = 0; pad <= 5; pad += 5) {
        size_t written;
        ck_assert_int_eq(tls__record_seal(&tx, 0, data, 0, pad, buf, sizeof buf, &written), TLS_OK);
        rx.seq = tx.seq - 1;
        ck_assert_int_eq(open_exact(&rx, buf, written, &rec), TLS_ERR_UNEXPECTED_MESSAGE);
    }
    tls__aead_free(k.aead);
    clear_pair(&tx, &rx);
}
END_TEST

/* §5.4: the inner plaintext (content, type and padding) may be 2^14 + 1 bytes, no more,
 * whether the excess is content or padding. */
START_TEST(test_record_open_inner_plaintext_over_max_rejected)
{
    static uint8_t inner[MAX_INNER + 1];
    tls_record_cipher tx, rx;
    tls_record rec;
    raw_key k;

    install_pair(_i, &tx, &rx);
    raw_key_init(_i, &k);

    /* Exactly at the limit, built by hand: accepted. */
    memset(inner, 'x', sizeof inner);
    inner[MAX_INNER - 1] = TLS_CT_APPLICATION_DATA;
    size_t n = raw_seal(&k, 0, inner, MAX_INNER, buf);
    rx.seq = 0;
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
    ck_assert_uint_eq(rec.len, TLS_MAX_PLAINTEXT);

    /* 2^14 + 1 content bytes and the type. */
    memset(inner, 'x', sizeof inner);
    inner[MAX_INNER] = TLS_CT_APPLICATION_DATA;
    n = raw_seal(&k, 0, inner, MAX_INNER + 1, buf);
    rx.seq = 0;
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_ERR_RECORD_OVERFLOW);

    /* Ten content bytes, the type, and too much padding. */
    memset(inner, 0, sizeof inner);
    memset(inner, 'y', 10);
    inner[10] = TLS_CT_APPLICATION_DATA;
    n = raw_seal(&k, 0, inner, MAX_INNER + 1, buf);
    rx.seq = 0;
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_ERR_RECORD_OVERFLOW);

    tls__aead_free(k.aead);
    clear_pair(&tx, &rx);
}
END_TEST

/* ---- seal: plaintext records, sizes and refusals --------------------------------------------- */

START_TEST(test_record_seal_inactive_writes_plaintext_record)
{
    static const uint8_t types[] = {TLS_CT_ALERT, TLS_CT_HANDSHAKE, TLS_CT_APPLICATION_DATA};
    static const size_t lens[] = {0, 1, 300, TLS_MAX_PLAINTEXT};
    tls_record_cipher rc;

    memset(&rc, 0, sizeof rc);
    ck_assert(!tls__record_cipher_active(&rc));
    fill_data(TLS_MAX_PLAINTEXT);
    for (size_t t = 0; t < sizeof types; t++) {
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            size_t written = 0;
            const uint8_t header[] = {types[t], 0x03, 0x03, (uint8_t)(lens[l] >> 8),
                                      (uint8_t)lens[l]};
            /* Padding is a protected-record feature: a plaintext record ignores it. */
            ck_assert_uint_eq(tls__record_size(&rc, lens[l], 9), TLS_RECORD_HEADER_LEN + lens[l]);
            ck_assert_int_eq(
                tls__record_seal(&rc, types[t], data, lens[l], 0, buf, sizeof buf, &written),
                TLS_OK);
            ck_assert_uint_eq(written, TLS_RECORD_HEADER_LEN + lens[l]);
            ck_assert_mem_eq(buf, header, sizeof header);
            ck_assert_mem_eq(buf + TLS_RECORD_HEADER_LEN, data, lens[l]);
        }
    }
    ck_assert_uint_eq(rc.seq, 0);
}
END_TEST

START_TEST(test_record_size_matches_seal)
{
    static const size_t lens[] = {0, 1, 100, 5000, TLS_MAX_PLAINTEXT};
    static const size_t pads[] = {0, 1, 100};
    tls_record_cipher tx, rx;

    install_pair(_i, &tx, &rx);
    fill_data(TLS_MAX_PLAINTEXT);
    for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
        for (size_t p = 0; p < sizeof pads / sizeof pads[0]; p++) {
            if (lens[l] + 1 + pads[p] > MAX_INNER)
                continue;
            size_t written = 0, want = tls__record_size(&tx, lens[l], pads[p]);
            ck_assert_uint_eq(want,
                              TLS_RECORD_HEADER_LEN + lens[l] + 1 + pads[p] + TLS_AEAD_TAG_LEN);
            ck_assert_int_eq(tls__record_seal(&tx, TLS_CT_APPLICATION_DATA, data, lens[l], pads[p],
                                              buf, want, &written),
                             TLS_OK);
            ck_assert_uint_eq(written, want);
        }
    }
    clear_pair(&tx, &rx);
}
END_TEST

/* Our own buffer being too small is our bug: TLS_ERR_INTERNAL, nothing written, no
 * sequence number spent. */
START_TEST(test_record_seal_buffer_too_small_rejected)
{
    tls_record_cipher tx, rx, plain;

    install_pair(_i, &tx, &rx);
    memset(&plain, 0, sizeof plain);
    fill_data(100);
    for (int active = 0; active <= 1; active++) {
        tls_record_cipher *rc = active ? &tx : &plain;
        size_t need = tls__record_size(rc, 100, 0), written = 0;
        memset(buf, CANARY, sizeof buf);
        ck_assert_int_eq(
            tls__record_seal(rc, TLS_CT_APPLICATION_DATA, data, 100, 0, buf, need - 1, &written),
            TLS_ERR_INTERNAL);
        for (size_t i = 0; i < need; i++)
            ck_assert_msg(buf[i] == CANARY, "byte %zu written", i);
        ck_assert_uint_eq(rc->seq, 0);
        ck_assert_int_eq(
            tls__record_seal(rc, TLS_CT_APPLICATION_DATA, data, 100, 0, buf, need, &written),
            TLS_OK);
        ck_assert_uint_eq(written, need);
    }
    clear_pair(&tx, &rx);
}
END_TEST

START_TEST(test_record_seal_content_over_max_rejected)
{
    tls_record_cipher tx, rx, plain;
    size_t written;

    install_pair(_i, &tx, &rx);
    memset(&plain, 0, sizeof plain);
    ck_assert_int_eq(tls__record_seal(&tx, TLS_CT_APPLICATION_DATA, data, TLS_MAX_PLAINTEXT + 1, 0,
                                      buf, sizeof buf, &written),
                     TLS_ERR_INTERNAL);
    ck_assert_int_eq(tls__record_seal(&plain, TLS_CT_APPLICATION_DATA, data, TLS_MAX_PLAINTEXT + 1,
                                      0, buf, sizeof buf, &written),
                     TLS_ERR_INTERNAL);
    ck_assert_uint_eq(tx.seq, 0);
    clear_pair(&tx, &rx);
}
END_TEST

/* Content + type + padding over 2^14 + 1 is refused, by one byte and by an amount that
 * wraps size_t arithmetic. */
START_TEST(test_record_seal_padding_over_max_rejected)
{
    tls_record_cipher tx, rx;
    size_t written;

    install_pair(_i, &tx, &rx);
    ck_assert_int_eq(tls__record_seal(&tx, TLS_CT_APPLICATION_DATA, data, 10, MAX_INNER - 10, buf,
                                      sizeof buf, &written),
                     TLS_ERR_INTERNAL);
    ck_assert_int_eq(tls__record_seal(&tx, TLS_CT_APPLICATION_DATA, data, 0, MAX_INNER, buf,
                                      sizeof buf, &written),
                     TLS_ERR_INTERNAL);
    ck_assert_uint_eq(tx.seq, 0);
    clear_pair(&tx, &rx);
}
END_TEST

START_TEST(test_record_seal_padding_wraparound_rejected)
{
    tls_record_cipher tx, rx;
    size_t written;

    install_pair(_i, &tx, &rx);
    ck_assert_int_eq(tls__record_seal(&tx, TLS_CT_APPLICATION_DATA, data, 10, SIZE_MAX, buf,
                                      sizeof buf, &written),
                     TLS_ERR_INTERNAL);
    clear_pair(&tx, &rx);
}
END_TEST

/* §5.3: the sequence number must not wrap; the last nonce used is for 2^64 - 2. */
START_TEST(test_record_seal_sequence_exhausted_refused)
{
    tls_record_cipher tx, rx;
    tls_record rec;
    size_t written;

    install_pair(_i, &tx, &rx);
    fill_data(16);
    tx.seq = UINT64_MAX - 1;
    size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 16, 0, buf);
    ck_assert_uint_eq(tx.seq, UINT64_MAX);
    ck_assert_int_eq(tls__record_seal(&tx, TLS_CT_APPLICATION_DATA, data, 16, 0, buf + n,
                                      sizeof buf - n, &written),
                     TLS_ERR_INTERNAL);
    ck_assert_uint_eq(tx.seq, UINT64_MAX);

    rx.seq = UINT64_MAX - 1;
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
    ck_assert_mem_eq(rec.body, data, 16);
    ck_assert_uint_eq(rx.seq, UINT64_MAX);
    clear_pair(&tx, &rx);
}
END_TEST

START_TEST(test_record_open_sequence_exhausted_refused)
{
    tls_record_cipher tx, rx;
    tls_record rec;

    install_pair(_i, &tx, &rx);
    fill_data(16);
    size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 16, 0, buf);
    static uint8_t copy[TLS_MAX_RECORD];
    memcpy(copy, buf, n);
    rx.seq = UINT64_MAX;
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_ERR_INTERNAL);
    ck_assert_uint_eq(rx.seq, UINT64_MAX);
    ck_assert_mem_eq(buf, copy, n); /* refused before touching the record */
    clear_pair(&tx, &rx);
}
END_TEST

/* ---- cipher state ------------------------------------------------------------------------------
 */

START_TEST(test_record_cipher_clear_leaves_inactive)
{
    static const uint8_t zero_iv[TLS_AEAD_NONCE_LEN] = {0};
    tls_record_cipher tx, rx;
    size_t written;

    install_pair(_i, &tx, &rx);
    fill_data(8);
    seal_ok(&tx, TLS_CT_APPLICATION_DATA, 8, 0, buf);
    tls__record_cipher_clear(&tx);
    ck_assert(!tls__record_cipher_active(&tx));
    ck_assert_ptr_null(tx.suite);
    ck_assert_ptr_null(tx.aead);
    ck_assert_uint_eq(tx.seq, 0);
    ck_assert_mem_eq(tx.iv, zero_iv, sizeof zero_iv);
    /* It writes plaintext records again. */
    ck_assert_uint_eq(tls__record_size(&tx, 8, 0), TLS_RECORD_HEADER_LEN + 8);
    ck_assert_int_eq(tls__record_seal(&tx, TLS_CT_HANDSHAKE, data, 8, 0, buf, sizeof buf, &written),
                     TLS_OK);
    ck_assert_uint_eq(written, TLS_RECORD_HEADER_LEN + 8);
    ck_assert_uint_eq(buf[0], TLS_CT_HANDSHAKE);
    ck_assert_mem_eq(buf + TLS_RECORD_HEADER_LEN, data, 8);
    /* Clearing twice, or clearing a never-installed cipher, is harmless. */
    tls__record_cipher_clear(&tx);
    clear_pair(&tx, &rx);
}
END_TEST

/* Installing over an active cipher replaces the key and restarts the sequence. */
START_TEST(test_record_cipher_install_replaces_key_and_resets_sequence)
{
    tls_record_cipher tx, rx;
    tls_record rec;

    install_pair(_i, &tx, &rx);
    fill_data(8);
    seal_ok(&tx, TLS_CT_APPLICATION_DATA, 8, 0, buf);
    seal_ok(&tx, TLS_CT_APPLICATION_DATA, 8, 0, buf);
    ck_assert_uint_eq(tx.seq, 2);
    ck_assert_int_eq(tls__record_cipher_install(&tx, suite_at(_i), test_secret(1)), TLS_OK);
    ck_assert_uint_eq(tx.seq, 0);
    size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 8, 0, buf);
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_ERR_DECRYPT); /* old key */
    ck_assert_int_eq(tls__record_cipher_install(&rx, suite_at(_i), test_secret(1)), TLS_OK);
    n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 8, 0, buf);
    rx.seq = 1;
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
    ck_assert_mem_eq(rec.body, data, 8);
    clear_pair(&tx, &rx);
}
END_TEST

/* ---- TLS 1.2 record protection (RFC 5246 §6.2.3.3, RFC 5288 §3, RFC 7905 §2) ------------ */

static const uint16_t suite12_ids[] = {TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
                                       TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
                                       TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256};
#define N_SUITES12 ((int)(sizeof suite12_ids / sizeof suite12_ids[0]))

static const tls_suite *suite12_at(int i)
{
    const tls_suite *s = tls__suite_find(suite12_ids[i]);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->version, TLS_VERSION_1_2);
    return s;
}

/* A write key and fixed IV as they would come out of a key block. */
static const uint8_t *key12(void)
{
    static uint8_t key[TLS_MAX_AEAD_KEY_LEN];
    for (size_t i = 0; i < sizeof key; i++)
        key[i] = (uint8_t)(i * 11 + 3);
    return key;
}

static const uint8_t *iv12(void)
{
    static uint8_t iv[TLS_AEAD_NONCE_LEN];
    for (size_t i = 0; i < sizeof iv; i++)
        iv[i] = (uint8_t)(0xf0 - i * 5);
    return iv;
}

static size_t explicit_len12(int i)
{
    return suite12_at(i)->fixed_iv_len == 4 ? 8 : 0;
}

static void install12_pair(int i, tls_record_cipher *tx, tls_record_cipher *rx)
{
    memset(tx, 0, sizeof *tx);
    memset(rx, 0, sizeof *rx);
    ck_assert_int_eq(tls__record_cipher_install12(tx, suite12_at(i), key12(), iv12()), TLS_OK);
    ck_assert_int_eq(tls__record_cipher_install12(rx, suite12_at(i), key12(), iv12()), TLS_OK);
    ck_assert(tls__record_cipher_active(tx) && tx->tls12 && rx->tls12);
}

static void put_be64(uint8_t *p, uint64_t v)
{
    for (int b = 7; b >= 0; b--, v >>= 8)
        p[b] = (uint8_t)v;
}

/* RFC 5246 §6.2.3.3: seq_num(8) || type(1) || version(2) || length(2). */
static void aad12(uint8_t aad[13], uint64_t seq, uint8_t type, uint16_t version, size_t len)
{
    put_be64(aad, seq);
    aad[8] = type;
    aad[9] = (uint8_t)(version >> 8);
    aad[10] = (uint8_t)version;
    aad[11] = (uint8_t)(len >> 8);
    aad[12] = (uint8_t)len;
}

/*
 * A TLS 1.2 record built without the record layer: header, then (GCM) the explicit nonce
 * `explicit_part`, then tls__aead_seal's output under nonce salt || explicit_part (RFC 5288
 * §3) or fixed IV XOR seq (RFC 7905 §2), with additional data `aad` as given.
 */
static size_t raw_seal12(int i, uint64_t seq, uint64_t explicit_part, uint8_t type,
                         const uint8_t aad[13], const uint8_t *plain, size_t n, uint8_t *out)
{
    const tls_suite *s = suite12_at(i);
    size_t ex = explicit_len12(i), body = ex + n + TLS_AEAD_TAG_LEN;
    uint8_t nonce[TLS_AEAD_NONCE_LEN];
    tls_aead *aead = NULL;

    memcpy(nonce, iv12(), TLS_AEAD_NONCE_LEN);
    if (ex) {
        put_be64(nonce + 4, explicit_part);
    } else {
        for (int b = 0; b < 8; b++)
            nonce[4 + b] ^= (uint8_t)(seq >> (56 - 8 * b));
    }
    out[0] = type;
    out[1] = 0x03;
    out[2] = 0x03;
    out[3] = (uint8_t)(body >> 8);
    out[4] = (uint8_t)body;
    if (ex)
        put_be64(out + TLS_RECORD_HEADER_LEN, explicit_part);
    memmove(out + TLS_RECORD_HEADER_LEN + ex, plain, n);
    ck_assert_int_eq(tls__aead_new(s->aead, key12(), s->key_len, &aead), TLS_OK);
    ck_assert_int_eq(tls__aead_seal(aead, nonce, aad, 13, out + TLS_RECORD_HEADER_LEN + ex, n,
                                    out + TLS_RECORD_HEADER_LEN + ex),
                     TLS_OK);
    tls__aead_free(aead);
    return TLS_RECORD_HEADER_LEN + body;
}

START_TEST(test_record_tls12_seal_open_round_trip)
{
    static const uint8_t types[] = {TLS_CT_HANDSHAKE, TLS_CT_APPLICATION_DATA, TLS_CT_ALERT,
                                    TLS_CT_CHANGE_CIPHER_SPEC};
    static const size_t lens[] = {0, 1, 100, TLS_MAX_PLAINTEXT};
    tls_record_cipher tx, rx;
    tls_record rec;

    install12_pair(_i, &tx, &rx);
    fill_data(TLS_MAX_PLAINTEXT);
    for (size_t t = 0; t < sizeof types; t++) {
        for (size_t l = 0; l < sizeof lens / sizeof lens[0]; l++) {
            size_t n = seal_ok(&tx, types[t], lens[l], 0, buf);
            ck_assert_uint_eq(n, TLS_RECORD_HEADER_LEN + explicit_len12(_i) + lens[l] +
                                     TLS_AEAD_TAG_LEN);
            /* TLS 1.2 keeps the real content type and 0x0303 in the header. */
            ck_assert_uint_eq(buf[0], types[t]);
            ck_assert_uint_eq(buf[1], 0x03);
            ck_assert_uint_eq(buf[2], 0x03);
            ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
            ck_assert_uint_eq(rec.type, types[t]);
            ck_assert_uint_eq(rec.len, lens[l]);
            if (lens[l])
                ck_assert_mem_eq(rec.body, data, lens[l]);
            ck_assert_uint_eq(rx.seq, tx.seq);
        }
    }
    clear_pair(&tx, &rx);
}
END_TEST

/* What the engine seals is byte for byte the independently built record whose explicit
 * nonce is the sequence number. */
START_TEST(test_record_tls12_seal_matches_independent_record)
{
    static const uint64_t seqs[] = {0, 1, 0xff, 0x0102030405060708u, UINT64_MAX - 1};
    static uint8_t mine[TLS_MAX_RECORD];
    tls_record_cipher tx, rx;
    uint8_t aad[13];

    install12_pair(_i, &tx, &rx);
    fill_data(77);
    for (size_t s = 0; s < sizeof seqs / sizeof seqs[0]; s++) {
        tx.seq = seqs[s];
        size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 77, 0, buf);
        aad12(aad, seqs[s], TLS_CT_APPLICATION_DATA, 0x0303, 77);
        size_t m = raw_seal12(_i, seqs[s], seqs[s], TLS_CT_APPLICATION_DATA, aad, data, 77, mine);
        ck_assert_uint_eq(n, m);
        ck_assert_mem_eq(buf, mine, n);
    }
    clear_pair(&tx, &rx);
}
END_TEST

/* RFC 5288 §3 lets the explicit nonce be anything unique; we always send the sequence
 * number, never a random value. ChaCha20 records carry none (RFC 7905 §2). */
START_TEST(test_record_tls12_explicit_nonce_is_sequence_number)
{
    tls_record_cipher tx, rx;
    tls_record rec;

    install12_pair(_i, &tx, &rx);
    fill_data(10);
    for (uint64_t seq = 0; seq < 300; seq++) {
        size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 10, 0, buf);
        if (explicit_len12(_i)) {
            uint8_t want[8];
            put_be64(want, seq);
            ck_assert_mem_eq(buf + TLS_RECORD_HEADER_LEN, want, 8);
        } else {
            ck_assert_uint_eq(n, TLS_RECORD_HEADER_LEN + 10 + TLS_AEAD_TAG_LEN);
        }
        ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
    }
    tx.seq = 0x1122334455667788u;
    seal_ok(&tx, TLS_CT_HANDSHAKE, 10, 0, buf);
    if (explicit_len12(_i))
        ck_assert_mem_eq(buf + TLS_RECORD_HEADER_LEN, "\x11\x22\x33\x44\x55\x66\x77\x88", 8);
    clear_pair(&tx, &rx);
}
END_TEST

/* A record from an independent implementation opens — including (GCM) one whose explicit
 * nonce is not our sequence number: the peer chooses it, the AAD still uses the sequence. */
START_TEST(test_record_tls12_independent_record_opens)
{
    static const uint64_t explicit_parts[] = {5, 0xdeadbeefcafef00du, 0};
    tls_record_cipher tx, rx;
    tls_record rec;
    uint8_t aad[13];

    install12_pair(_i, &tx, &rx);
    fill_data(300);
    for (size_t e = 0; e < sizeof explicit_parts / sizeof explicit_parts[0]; e++) {
        rx.seq = 5;
        aad12(aad, 5, TLS_CT_HANDSHAKE, 0x0303, 300);
        size_t n = raw_seal12(_i, 5, explicit_parts[e], TLS_CT_HANDSHAKE, aad, data, 300, buf);
        ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
        ck_assert_uint_eq(rec.type, TLS_CT_HANDSHAKE);
        ck_assert_uint_eq(rec.len, 300);
        ck_assert_mem_eq(rec.body, data, 300);
        ck_assert_uint_eq(rx.seq, 6);
    }
    clear_pair(&tx, &rx);
}
END_TEST

/* Every field of the additional data is authenticated: a record sealed with any one of
 * them different from what the receiver derives is refused. */
START_TEST(test_record_tls12_aad_covers_seq_type_version_length)
{
    static const struct {
        uint64_t seq;
        uint8_t type;
        uint16_t version;
        size_t len;
        tls_error want;
    } cases[] = {
        {9, TLS_CT_APPLICATION_DATA, 0x0303, 40, TLS_OK}, /* control */
        {10, TLS_CT_APPLICATION_DATA, 0x0303, 40, TLS_ERR_DECRYPT},
        {9, TLS_CT_HANDSHAKE, 0x0303, 40, TLS_ERR_DECRYPT},
        {9, TLS_CT_APPLICATION_DATA, 0x0301, 40, TLS_ERR_DECRYPT},
        {9, TLS_CT_APPLICATION_DATA, 0x0303, 41, TLS_ERR_DECRYPT},
        {9, TLS_CT_APPLICATION_DATA, 0x0303, SIZE_MAX, TLS_ERR_DECRYPT}, /* record length */
    };
    tls_record_cipher tx, rx;
    tls_record rec;
    uint8_t aad[13];

    install12_pair(_i, &tx, &rx);
    fill_data(40);
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        rx.seq = 9;
        size_t len = cases[c].len == SIZE_MAX ? explicit_len12(_i) + 40 + TLS_AEAD_TAG_LEN
                                              : cases[c].len;
        aad12(aad, cases[c].seq, cases[c].type, cases[c].version, len);
        size_t n = raw_seal12(_i, 9, 9, TLS_CT_APPLICATION_DATA, aad, data, 40, buf);
        ck_assert_msg(open_exact(&rx, buf, n, &rec) == cases[c].want, "case %zu", c);
    }
    clear_pair(&tx, &rx);
}
END_TEST

/* The same through the header of an engine-sealed record: the type, the version bytes and
 * (GCM) the explicit nonce are all bound to the tag. */
START_TEST(test_record_tls12_tampered_header_or_explicit_nonce_rejected)
{
    static uint8_t base[TLS_MAX_RECORD];
    static const struct {
        size_t at;
        uint8_t mask;
    } flips[] = {{0, 0x01}, {2, 0x01}, {2, 0x02}, {5, 0x01}, {12, 0x80}};
    tls_record_cipher tx, rx;
    tls_record rec;

    install12_pair(_i, &tx, &rx);
    fill_data(20);
    size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 20, 0, base);
    for (size_t f = 0; f < sizeof flips / sizeof flips[0]; f++) {
        memcpy(buf, base, n);
        buf[flips[f].at] ^= flips[f].mask;
        rx.seq = 0;
        ck_assert_msg(open_exact(&rx, buf, n, &rec) == TLS_ERR_DECRYPT, "flip at %zu",
                      flips[f].at);
    }
    memcpy(buf, base, n);
    rx.seq = 0;
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
    clear_pair(&tx, &rx);
}
END_TEST

/* Shorter than explicit nonce + tag: refused before any decryption, sequence untouched. */
START_TEST(test_record_tls12_open_shorter_than_explicit_nonce_plus_tag_rejected)
{
    tls_record_cipher tx, rx;
    tls_record rec;
    size_t min = explicit_len12(_i) + TLS_AEAD_TAG_LEN;

    install12_pair(_i, &tx, &rx);
    for (size_t len = 0; len < min; len++) {
        memset(buf, 0x5a, TLS_RECORD_HEADER_LEN + len);
        buf[0] = TLS_CT_APPLICATION_DATA;
        buf[1] = 0x03;
        buf[2] = 0x03;
        buf[3] = 0;
        buf[4] = (uint8_t)len;
        rx.seq = 3;
        ck_assert_int_eq(open_exact(&rx, buf, TLS_RECORD_HEADER_LEN + len, &rec),
                         TLS_ERR_DECRYPT);
        ck_assert_uint_eq(rx.seq, 3);
    }
    /* Exactly explicit nonce + tag is an empty record: it opens when genuine. */
    size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 0, 0, buf);
    ck_assert_uint_eq(n, TLS_RECORD_HEADER_LEN + min);
    rx.seq = 0;
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
    ck_assert_uint_eq(rec.len, 0);
    clear_pair(&tx, &rx);
}
END_TEST

/* A genuine record (valid tag) carrying 2^14 + 1 bytes of plaintext: record_overflow. */
START_TEST(test_record_tls12_open_plaintext_over_max_rejected)
{
    tls_record_cipher tx, rx;
    tls_record rec;
    uint8_t aad[13];

    install12_pair(_i, &tx, &rx);
    fill_data(TLS_MAX_PLAINTEXT + 1);
    aad12(aad, 0, TLS_CT_APPLICATION_DATA, 0x0303, TLS_MAX_PLAINTEXT + 1);
    size_t n = raw_seal12(_i, 0, 0, TLS_CT_APPLICATION_DATA, aad, data, TLS_MAX_PLAINTEXT + 1,
                          buf);
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_ERR_RECORD_OVERFLOW);
    /* 2^14 exactly is fine. */
    rx.seq = 0;
    aad12(aad, 0, TLS_CT_APPLICATION_DATA, 0x0303, TLS_MAX_PLAINTEXT);
    n = raw_seal12(_i, 0, 0, TLS_CT_APPLICATION_DATA, aad, data, TLS_MAX_PLAINTEXT, buf);
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
    ck_assert_uint_eq(rec.len, TLS_MAX_PLAINTEXT);
    ck_assert_mem_eq(rec.body, data, TLS_MAX_PLAINTEXT);
    clear_pair(&tx, &rx);
}
END_TEST

START_TEST(test_record_tls12_seal_content_over_max_rejected)
{
    tls_record_cipher tx, rx;
    size_t written = 0;

    install12_pair(_i, &tx, &rx);
    fill_data(TLS_MAX_PLAINTEXT + 1);
    ck_assert_int_eq(tls__record_seal(&tx, TLS_CT_APPLICATION_DATA, data, TLS_MAX_PLAINTEXT + 1,
                                      0, buf, sizeof buf, &written),
                     TLS_ERR_INTERNAL);
    ck_assert_uint_eq(tx.seq, 0);
    clear_pair(&tx, &rx);
}
END_TEST

START_TEST(test_record_tls12_sequence_exhausted_refused)
{
    tls_record_cipher tx, rx;
    tls_record rec;
    size_t written;

    install12_pair(_i, &tx, &rx);
    fill_data(16);
    tx.seq = UINT64_MAX - 1;
    size_t n = seal_ok(&tx, TLS_CT_APPLICATION_DATA, 16, 0, buf);
    ck_assert_int_eq(tls__record_seal(&tx, TLS_CT_APPLICATION_DATA, data, 16, 0, buf + n,
                                      sizeof buf - n, &written),
                     TLS_ERR_INTERNAL);
    rx.seq = UINT64_MAX - 1;
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
    ck_assert_uint_eq(rx.seq, UINT64_MAX);
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_ERR_INTERNAL); /* nothing after it */
    ck_assert_uint_eq(rx.seq, UINT64_MAX);
    clear_pair(&tx, &rx);
}
END_TEST

/* Installing keys again starts a new epoch: sequence 0, fixed IV replaced (GCM: only the
 * 4-byte salt, the rest zero). */
START_TEST(test_record_tls12_install_resets_sequence_and_iv)
{
    static const uint8_t other_iv[TLS_AEAD_NONCE_LEN] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
    const tls_suite *s = suite12_at(_i);
    tls_record_cipher tx, rx;

    install12_pair(_i, &tx, &rx);
    ck_assert_mem_eq(tx.iv, iv12(), s->fixed_iv_len);
    for (size_t b = s->fixed_iv_len; b < TLS_AEAD_NONCE_LEN; b++)
        ck_assert_uint_eq(tx.iv[b], 0);
    tx.seq = 77;
    ck_assert_int_eq(tls__record_cipher_install12(&tx, s, key12(), other_iv), TLS_OK);
    ck_assert_uint_eq(tx.seq, 0);
    ck_assert(tx.tls12);
    ck_assert_mem_eq(tx.iv, other_iv, s->fixed_iv_len);
    ck_assert_uint_eq(tls__record_size(&tx, 100, 0),
                      TLS_RECORD_HEADER_LEN + explicit_len12(_i) + 100 + TLS_AEAD_TAG_LEN);
    clear_pair(&tx, &rx);
}
END_TEST

/* record.h: installing replaces the previous protection entirely. A cipher that carried
 * TLS 1.2 records and is then installed from a TLS 1.3 traffic secret must produce TLS 1.3
 * records (outer type application_data, inner type byte, nonce IV XOR sequence), which a
 * freshly installed TLS 1.3 receiver opens. */
START_TEST(test_record_tls12_then_tls13_install_switches_format)
{
    tls_record_cipher tx, rx;
    tls_record rec;

    install12_pair(0, &tx, &rx);
    tls__record_cipher_clear(&rx);
    memset(&rx, 0, sizeof rx);
    ck_assert_int_eq(tls__record_cipher_install(&tx, suite_at(0), test_secret(0)), TLS_OK);
    ck_assert_int_eq(tls__record_cipher_install(&rx, suite_at(0), test_secret(0)), TLS_OK);
    ck_assert(!tx.tls12);
    fill_data(30);
    size_t n = seal_ok(&tx, TLS_CT_HANDSHAKE, 30, 0, buf);
    ck_assert_uint_eq(buf[0], TLS_CT_APPLICATION_DATA);
    ck_assert_uint_eq(n, TLS_RECORD_HEADER_LEN + 30 + 1 + TLS_AEAD_TAG_LEN);
    ck_assert_int_eq(open_exact(&rx, buf, n, &rec), TLS_OK);
    ck_assert_uint_eq(rec.type, TLS_CT_HANDSHAKE);
    ck_assert_mem_eq(rec.body, data, 30);
    clear_pair(&tx, &rx);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("record");
    TCase *tc;

    tc = tcase_create("peek");
    tcase_add_test(tc, test_record_peek_complete_record);
    tcase_add_test(tc, test_record_peek_known_types_and_minor_versions_accepted);
    tcase_add_test(tc, test_record_peek_header_split_incomplete);
    tcase_add_test(tc, test_record_peek_body_partial_incomplete);
    tcase_add_test(tc, test_record_peek_two_records_in_one_buffer);
    tcase_add_test(tc, test_record_peek_http_request_rejected_after_one_byte);
    tcase_add_test(tc, test_record_peek_type_19_and_24_rejected);
    tcase_add_test(tc, test_record_peek_unknown_type_rejected);
    tcase_add_test(tc, test_record_peek_major_version_04_rejected);
    tcase_add_test(tc, test_record_peek_major_version_16_rejected);
    tcase_add_test(tc, test_record_peek_any_other_major_version_rejected);
    tcase_add_test(tc, test_record_peek_length_max_ciphertext_accepted);
    tcase_add_test(tc, test_record_peek_length_over_max_rejected);
    suite_add_tcase(s, tc);

    tc = tcase_create("protection");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_record_seal_open_round_trip_preserves_content_and_type, 0,
                        N_SUITES);
    tcase_add_loop_test(tc, test_record_seal_open_padding_removed, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_seal_open_trailing_zero_content_kept, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_seal_sequence_advances_and_nonce_differs, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_seal_nonce_is_iv_xor_sequence, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_open_flipped_ciphertext_or_tag_byte_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_open_flipped_type_byte_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_open_flipped_major_version_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_open_flipped_minor_version_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_open_flipped_length_byte_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_open_shorter_than_tag_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_open_all_zero_inner_plaintext_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_open_inner_plaintext_over_max_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_open_sequence_exhausted_refused, 0, N_SUITES);
    suite_add_tcase(s, tc);

    tc = tcase_create("seal");
    tcase_add_test(tc, test_record_seal_inactive_writes_plaintext_record);
    tcase_add_loop_test(tc, test_record_size_matches_seal, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_seal_buffer_too_small_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_seal_content_over_max_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_seal_padding_over_max_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_seal_padding_wraparound_rejected, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_seal_sequence_exhausted_refused, 0, N_SUITES);
    suite_add_tcase(s, tc);

    tc = tcase_create("cipher");
    tcase_add_loop_test(tc, test_record_cipher_clear_leaves_inactive, 0, N_SUITES);
    tcase_add_loop_test(tc, test_record_cipher_install_replaces_key_and_resets_sequence, 0,
                        N_SUITES);
    suite_add_tcase(s, tc);

    tc = tcase_create("tls12");
    tcase_set_timeout(tc, 30);
    tcase_add_loop_test(tc, test_record_tls12_seal_open_round_trip, 0, N_SUITES12);
    tcase_add_loop_test(tc, test_record_tls12_seal_matches_independent_record, 0, N_SUITES12);
    tcase_add_loop_test(tc, test_record_tls12_explicit_nonce_is_sequence_number, 0, N_SUITES12);
    tcase_add_loop_test(tc, test_record_tls12_independent_record_opens, 0, N_SUITES12);
    tcase_add_loop_test(tc, test_record_tls12_aad_covers_seq_type_version_length, 0, N_SUITES12);
    tcase_add_loop_test(tc, test_record_tls12_tampered_header_or_explicit_nonce_rejected, 0,
                        N_SUITES12);
    tcase_add_loop_test(tc, test_record_tls12_open_shorter_than_explicit_nonce_plus_tag_rejected,
                        0, N_SUITES12);
    tcase_add_loop_test(tc, test_record_tls12_open_plaintext_over_max_rejected, 0, N_SUITES12);
    tcase_add_loop_test(tc, test_record_tls12_seal_content_over_max_rejected, 0, N_SUITES12);
    tcase_add_loop_test(tc, test_record_tls12_sequence_exhausted_refused, 0, N_SUITES12);
    tcase_add_loop_test(tc, test_record_tls12_install_resets_sequence_and_iv, 0, N_SUITES12);
    tcase_add_test(tc, test_record_tls12_then_tls13_install_switches_format);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
