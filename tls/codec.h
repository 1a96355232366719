/*
 * codec.h — bounded reader and back-patching writer over byte slices.
 *
 * Every byte from the network is read through tls_reader: each read checks the
 * length first and fails (returns false) instead of reading past the end. Failure is
 * sticky: once a read fails, every later read on that reader fails too, so a decoder
 * may chain reads and test once. A reader borrows its bytes and never owns them.
 *
 * tls_writer appends into a caller-owned buffer of fixed capacity. Overflowing it is
 * our bug, never the peer's: the writer latches `failed` and callers report
 * TLS_ERR_INTERNAL. Length prefixes are reserved by *_begin and back-patched by
 * tls_writer_end.
 */
#ifndef MOAT_TLS_CODEC_H
#define MOAT_TLS_CODEC_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef struct {
    const uint8_t *p, *end;
    bool failed;
} tls_reader;

void tls_reader_init(tls_reader *r, const uint8_t *buf, size_t len);
size_t tls_reader_left(const tls_reader *r);
/* True when every byte was consumed and no read failed. */
bool tls_reader_done(const tls_reader *r);
bool tls_reader_failed(const tls_reader *r);

bool tls_read_u8(tls_reader *r, uint8_t *out);
bool tls_read_u16(tls_reader *r, uint16_t *out);
bool tls_read_u24(tls_reader *r, uint32_t *out);
bool tls_read_u32(tls_reader *r, uint32_t *out);
bool tls_read_bytes(tls_reader *r, uint8_t *out, size_t n);
/* Borrows the next n bytes (*out points into the reader's buffer). */
bool tls_read_slice(tls_reader *r, size_t n, const uint8_t **out);
bool tls_read_skip(tls_reader *r, size_t n);
/* Reads an 8/16/24-bit length L with min <= L <= max and L bytes available, and
 * gives a sub-reader over exactly those L bytes. */
bool tls_read_vec8(tls_reader *r, size_t min, size_t max, tls_reader *body);
bool tls_read_vec16(tls_reader *r, size_t min, size_t max, tls_reader *body);
bool tls_read_vec24(tls_reader *r, size_t min, size_t max, tls_reader *body);
/* The rest of the reader as a sub-reader (consumes it). */
void tls_read_rest(tls_reader *r, tls_reader *body);
/* DER tags (X.690 §8.1.2) of the universal types certificates and keys use. */
#define TLS_DER_INTEGER 0x02
#define TLS_DER_BIT_STRING 0x03
#define TLS_DER_OCTET_STRING 0x04
#define TLS_DER_OID 0x06
#define TLS_DER_SEQUENCE 0x30

/* DER (X.690 §10): one element with the given single-byte tag and a definite length in
 * its shortest form (at most 2^24 - 1 bytes); body covers its contents. Any other tag,
 * an indefinite or non-minimal length, or too few bytes fails the reader. */
bool tls_read_der(tls_reader *r, uint8_t tag, tls_reader *body);
/* The tag of the next DER element, without consuming it; false at the end. */
bool tls_peek_der_tag(const tls_reader *r, uint8_t *tag);

#define TLS_WRITER_MAX_DEPTH 8

typedef struct {
    uint8_t *buf;
    size_t cap, len;
    bool failed;
    /* open length prefixes: offset of the prefix and its width in bytes */
    size_t open_at[TLS_WRITER_MAX_DEPTH];
    uint8_t open_width[TLS_WRITER_MAX_DEPTH];
    int depth;
} tls_writer;

void tls_writer_init(tls_writer *w, uint8_t *buf, size_t cap);
/* True when nothing overflowed and every prefix was closed. */
bool tls_writer_ok(const tls_writer *w);
void tls_write_u8(tls_writer *w, uint8_t v);
void tls_write_u16(tls_writer *w, uint16_t v);
void tls_write_u24(tls_writer *w, uint32_t v);
void tls_write_u32(tls_writer *w, uint32_t v);
void tls_write_bytes(tls_writer *w, const uint8_t *p, size_t n);
/* Reserves n bytes and returns where they start (NULL and failed on overflow). */
uint8_t *tls_write_reserve(tls_writer *w, size_t n);
/* Opens a length prefix of 1, 2 or 3 bytes; tls_writer_end fills it in. */
void tls_write_vec8_begin(tls_writer *w);
void tls_write_vec16_begin(tls_writer *w);
void tls_write_vec24_begin(tls_writer *w);
void tls_writer_end(tls_writer *w);
/* Convenience: a vector with its prefix in one call. */
void tls_write_vec8(tls_writer *w, const uint8_t *p, size_t n);
void tls_write_vec16(tls_writer *w, const uint8_t *p, size_t n);

#endif
