/*
 * fuzz_record.c — the record deframer (tls__record_peek) and record protection
 * (tls__record_open) on arbitrary bytes, with fixed keys.
 *
 * Input: byte 0 picks the read state (CIPHERS below: plaintext, or one of the TLS 1.3
 * and TLS 1.2 AEADs keyed from a fixed secret); the rest is a stream of records as a
 * peer would send them. Records are deframed one by one as conn.c does; each protected
 * one is opened in place (the first failure ends the stream: it would end the
 * connection). Every record that opens is sealed again by a sender with the same keys
 * and opened by a second receiver: the plaintext, type and sizes must round-trip, and
 * tls__record_size must be what tls__record_seal writes. seedgen.c writes the seeds:
 * records sealed with these very keys.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "tls/record.h"

typedef struct {
    uint16_t suite;
    bool tls12;
} cipher_choice;

static const cipher_choice CIPHERS[] = {
    {0, false}, /* plaintext records */
    {TLS_AES_128_GCM_SHA256, false},
    {TLS_AES_256_GCM_SHA384, false},
    {TLS_CHACHA20_POLY1305_SHA256, false},
    {TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true},
    {TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, true},
    {TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true},
};
#define N_CIPHERS (sizeof CIPHERS / sizeof CIPHERS[0])

/* The fixed keys seedgen.c seals its records with. */
static const uint8_t SECRET[TLS_MAX_HASH_LEN] = FUZZ_RECORD_SECRET;
static const uint8_t KEY12[32] = FUZZ_RECORD_KEY12;
static const uint8_t IV12[12] = FUZZ_RECORD_IV12;

static bool install(tls_record_cipher *rc, const cipher_choice *c)
{
    memset(rc, 0, sizeof *rc);
    if (!c->suite)
        return true;
    const tls_suite *suite = tls__suite_find(c->suite);
    FUZZ_CHECK(suite != NULL);
    tls_error err = c->tls12 ? tls__record_cipher_install12(rc, suite, KEY12, IV12)
                             : tls__record_cipher_install(rc, suite, SECRET);
    return err == TLS_OK;
}

/* Seals what was opened and opens it again with fresh state at the same sequence. */
static void roundtrip(tls_record_cipher *tx, tls_record_cipher *rx2, uint8_t type,
                      const uint8_t *plain, size_t len, size_t pad)
{
    uint8_t *out = malloc(TLS_MAX_RECORD + 64);
    size_t written = 0;
    tls_record rec;
    bool complete;

    if (!out)
        abort();
    size_t expect = tls__record_size(tx, len, pad);
    tls_error err = tls__record_seal(tx, type, plain, len, pad, out, TLS_MAX_RECORD + 64, &written);
    FUZZ_CHECK(err == TLS_OK);
    FUZZ_CHECK(written == expect);
    FUZZ_CHECK(tls__record_peek(out, written, &rec, &complete) == TLS_OK && complete);
    FUZZ_CHECK(rec.total == written);
    if (tls__record_cipher_active(rx2)) {
        err = tls__record_open(rx2, &rec);
        FUZZ_CHECK(err == TLS_OK);
    }
    FUZZ_CHECK(rec.type == type && rec.len == len);
    FUZZ_CHECK(len == 0 || memcmp(rec.body, plain, len) == 0);
    free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tls_record_cipher rx, tx, rx2;

    if (size < 1)
        return 0;
    const cipher_choice *c = &CIPHERS[data[0] % N_CIPHERS];
    if (!install(&rx, c) || !install(&tx, c) || !install(&rx2, c))
        abort();
    uint8_t *buf = fuzz_dup(data + 1, size - 1);
    size_t len = size - 1, off = 0;

    for (;;) {
        tls_record rec;
        bool complete = false;
        tls_error err = tls__record_peek(buf + off, len - off, &rec, &complete);
        if (err != TLS_OK || !complete)
            break;
        FUZZ_CHECK(rec.total == TLS_RECORD_HEADER_LEN + rec.len && rec.total <= len - off);
        FUZZ_CHECK(rec.body == buf + off + TLS_RECORD_HEADER_LEN);
        FUZZ_CHECK(rec.len <= TLS_MAX_CIPHERTEXT);
        size_t total = rec.total;
        /* TLS 1.3 protects only outer application_data records (a CCS stays plain);
         * TLS 1.2 protects every record once keys are on. */
        if (tls__record_cipher_active(&rx) && (c->tls12 || rec.type == 23)) {
            uint8_t *body0 = rec.body;
            err = tls__record_open(&rx, &rec);
            if (err != TLS_OK)
                break;
            FUZZ_CHECK(rec.body >= body0 && rec.body + rec.len <= buf + off + total);
            FUZZ_CHECK(rec.len <= TLS_MAX_PLAINTEXT);
            fuzz_consume(rec.body, rec.len);
            /* The padding the peer used, for TLS 1.3 (what follows the content type). */
            size_t pad = 0;
            if (!c->tls12)
                pad = total - TLS_RECORD_HEADER_LEN - TLS_AEAD_TAG_LEN - rec.len - 1;
            if (rec.len + pad <= TLS_MAX_PLAINTEXT)
                roundtrip(&tx, &rx2, rec.type, rec.body, rec.len, pad);
        } else if (!tls__record_cipher_active(&rx) && rec.len <= TLS_MAX_PLAINTEXT) {
            roundtrip(&tx, &rx2, rec.type, rec.body, rec.len, 0);
        }
        off += total;
    }
    tls__record_cipher_clear(&rx);
    tls__record_cipher_clear(&tx);
    tls__record_cipher_clear(&rx2);
    free(buf);
    return 0;
}
