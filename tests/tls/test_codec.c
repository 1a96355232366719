/*
 * test_codec.c — unit tests for tls/codec.c: the bounded reader and the back-patching writer.
 *
 * Reader cases check, for every read: the exact-length success, the one-byte-short failure,
 * that a failure latches (a later read of even 0 bytes fails), and big-endian decoding.
 * Vector cases cover each bound (min, max, available bytes, truncated prefix) and that a
 * sub-reader is confined to exactly its vector. Writer cases compare exact encodings and
 * check, with canary bytes just past the capacity, that an overflowing writer never writes
 * outside the region it was given.
 */
#include "tests/lib/unit.h"
#include "tls/codec.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define CANARY 0xA5

/* Asserts that r has latched its failure: reads of any size, even 0, now fail. */
static void assert_reader_failed(tls_reader *r)
{
    uint8_t b = 0;
    const uint8_t *s = NULL;
    tls_reader rest;

    ck_assert(tls_reader_failed(r));
    ck_assert(!tls_reader_done(r));
    ck_assert_uint_eq(tls_reader_left(r), 0);
    ck_assert(!tls_read_bytes(r, &b, 0));
    ck_assert(!tls_read_skip(r, 0));
    ck_assert(!tls_read_slice(r, 0, &s));
    ck_assert(!tls_read_u8(r, &b));
    tls_read_rest(r, &rest);
    ck_assert(tls_reader_failed(&rest));
    ck_assert(tls_reader_failed(r));
}

static void fill_canary(uint8_t *p, size_t n)
{
    memset(p, CANARY, n);
}

static void assert_canary(const uint8_t *p, size_t n)
{
    for (size_t i = 0; i < n; i++)
        ck_assert_msg(p[i] == CANARY, "canary byte %zu was overwritten", i);
}

/* ---- fixed-width reads ---------------------------------------------------------------- */

START_TEST(test_codec_read_u8_exact)
{
    static const uint8_t in[] = {0xab};
    tls_reader r;
    uint8_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert_uint_eq(tls_reader_left(&r), 1);
    ck_assert(!tls_reader_done(&r));
    ck_assert(tls_read_u8(&r, &v));
    ck_assert_uint_eq(v, 0xab);
    ck_assert_uint_eq(tls_reader_left(&r), 0);
    ck_assert(tls_reader_done(&r));
    ck_assert(!tls_reader_failed(&r));
}
END_TEST

START_TEST(test_codec_read_u8_short)
{
    tls_reader r;
    uint8_t v = 0;

    tls_reader_init(&r, NULL, 0);
    ck_assert(tls_reader_done(&r));
    ck_assert(!tls_read_u8(&r, &v));
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_u16_exact_big_endian)
{
    static const uint8_t in[] = {0x12, 0x34, 0xff, 0xfe};
    tls_reader r;
    uint16_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_u16(&r, &v));
    ck_assert_uint_eq(v, 0x1234);
    ck_assert_uint_eq(tls_reader_left(&r), 2);
    ck_assert(tls_read_u16(&r, &v));
    ck_assert_uint_eq(v, 0xfffe);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_u16_short)
{
    static const uint8_t in[] = {0x12};
    tls_reader r;
    uint16_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_u16(&r, &v));
    /* the byte that was there is not readable any more either */
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_u24_exact_big_endian)
{
    static const uint8_t in[] = {0x01, 0x02, 0x03, 0xff, 0xff, 0xfe};
    tls_reader r;
    uint32_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_u24(&r, &v));
    ck_assert_uint_eq(v, 0x010203);
    ck_assert(tls_read_u24(&r, &v));
    ck_assert_uint_eq(v, 0xfffffe);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_u24_short)
{
    static const uint8_t in[] = {0x01, 0x02};
    tls_reader r;
    uint32_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_u24(&r, &v));
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_u32_exact_big_endian)
{
    static const uint8_t in[] = {0xde, 0xad, 0xbe, 0xef, 0x01, 0x02, 0x03, 0x04};
    tls_reader r;
    uint32_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_u32(&r, &v));
    ck_assert_uint_eq(v, 0xdeadbeefu);
    ck_assert(tls_read_u32(&r, &v));
    ck_assert_uint_eq(v, 0x01020304u);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_u32_short)
{
    static const uint8_t in[] = {0xde, 0xad, 0xbe};
    tls_reader r;
    uint32_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_u32(&r, &v));
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_mixed_widths_in_order)
{
    static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08, 0x09, 0x0a};
    tls_reader r;
    uint8_t a = 0;
    uint16_t b = 0;
    uint32_t c = 0, d = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_u8(&r, &a));
    ck_assert(tls_read_u16(&r, &b));
    ck_assert(tls_read_u24(&r, &c));
    ck_assert(tls_read_u32(&r, &d));
    ck_assert_uint_eq(a, 0x01);
    ck_assert_uint_eq(b, 0x0203);
    ck_assert_uint_eq(c, 0x040506);
    ck_assert_uint_eq(d, 0x0708090a);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_u8_after_failure_fails)
{
    /* three bytes remain, but a failed u32 read latches: the u8 that would fit fails too */
    static const uint8_t in[] = {0x01, 0x02, 0x03};
    tls_reader r;
    uint32_t v32 = 0;
    uint16_t v16 = 0;
    uint8_t v8 = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_u32(&r, &v32));
    ck_assert(!tls_read_u8(&r, &v8));
    ck_assert(!tls_read_u16(&r, &v16));
    ck_assert(!tls_read_u24(&r, &v32));
    assert_reader_failed(&r);
}
END_TEST

/* ---- bytes, slice, skip ---------------------------------------------------------------- */

START_TEST(test_codec_read_bytes_exact)
{
    static const uint8_t in[] = {0x10, 0x20, 0x30, 0x40};
    uint8_t out[4] = {0};
    tls_reader r;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_bytes(&r, out, sizeof out));
    ck_assert_mem_eq(out, in, sizeof in);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_bytes_short)
{
    static const uint8_t in[] = {0x10, 0x20, 0x30, 0x40};
    uint8_t out[5] = {0};
    tls_reader r;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_bytes(&r, out, sizeof out));
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_bytes_zero_at_end)
{
    static const uint8_t in[] = {0x10};
    uint8_t out = 0x77;
    tls_reader r;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_bytes(&r, &out, 1));
    ck_assert(tls_read_bytes(&r, &out, 0));
    ck_assert_uint_eq(out, 0x10);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_bytes_huge_length)
{
    static const uint8_t in[] = {0x10, 0x20};
    uint8_t out[2] = {0};
    tls_reader r;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_bytes(&r, out, SIZE_MAX));
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_slice_borrows)
{
    static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04, 0x05};
    const uint8_t *s = NULL;
    tls_reader r;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_slice(&r, 2, &s));
    ck_assert_ptr_eq(s, in);
    ck_assert(tls_read_slice(&r, 3, &s));
    ck_assert_ptr_eq(s, in + 2);
    ck_assert(tls_reader_done(&r));
    ck_assert(tls_read_slice(&r, 0, &s));
    ck_assert_ptr_eq(s, in + 5);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_slice_short)
{
    static const uint8_t in[] = {0x01, 0x02, 0x03};
    const uint8_t *s = NULL;
    tls_reader r;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_slice(&r, 1, &s));
    ck_assert(!tls_read_slice(&r, 3, &s));
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_skip_to_end)
{
    static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04};
    tls_reader r;
    uint8_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_skip(&r, 3));
    ck_assert_uint_eq(tls_reader_left(&r), 1);
    ck_assert(tls_read_u8(&r, &v));
    ck_assert_uint_eq(v, 0x04);
    ck_assert(tls_read_skip(&r, 0));
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_skip_short)
{
    static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04};
    tls_reader r;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_skip(&r, 5));
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_skip_huge_length)
{
    static const uint8_t in[] = {0x01, 0x02};
    tls_reader r;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_skip(&r, 1));
    ck_assert(!tls_read_skip(&r, SIZE_MAX));
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_reader_init_null_empty)
{
    /* a NULL buffer (e.g. an absent extension's zeroed slice) is an empty reader: 0-byte
     * reads succeed and stay defined C (checked by clang's UBSan), 1-byte reads fail */
    tls_reader r, rest;
    const uint8_t *s = NULL;
    uint8_t v = 0x77;

    tls_reader_init(&r, NULL, 0);
    ck_assert_uint_eq(tls_reader_left(&r), 0);
    ck_assert(tls_reader_done(&r));
    ck_assert(tls_read_bytes(&r, &v, 0));
    ck_assert(tls_read_skip(&r, 0));
    ck_assert(tls_read_slice(&r, 0, &s));
    tls_read_rest(&r, &rest);
    ck_assert(tls_reader_done(&rest));
    ck_assert(tls_read_skip(&rest, 0));
    ck_assert(tls_reader_done(&r));
    ck_assert_uint_eq(v, 0x77);
    ck_assert(!tls_read_u8(&r, &v));
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_reader_done_trailing_bytes)
{
    static const uint8_t in[] = {0x00, 0x01, 0x02};
    tls_reader r;
    uint16_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_u16(&r, &v));
    ck_assert(!tls_reader_done(&r));
    ck_assert(!tls_reader_failed(&r));
    ck_assert_uint_eq(tls_reader_left(&r), 1);
}
END_TEST

/* ---- vectors --------------------------------------------------------------------------- */

START_TEST(test_codec_read_vec8_normal)
{
    static const uint8_t in[] = {0x03, 0xaa, 0xbb, 0xcc, 0xdd};
    tls_reader r, body;
    uint8_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec8(&r, 1, 255, &body));
    ck_assert(!tls_reader_failed(&body));
    ck_assert_uint_eq(tls_reader_left(&body), 3);
    ck_assert_ptr_eq(body.p, in + 1);
    ck_assert_mem_eq(body.p, in + 1, 3);
    /* the parent is left at the byte after the vector */
    ck_assert(!tls_reader_done(&r));
    ck_assert(tls_read_u8(&r, &v));
    ck_assert_uint_eq(v, 0xdd);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_vec16_normal)
{
    static const uint8_t in[] = {0x00, 0x02, 0x13, 0x01, 0xee};
    tls_reader r, body;
    uint16_t suite = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec16(&r, 2, 0xfffe, &body));
    ck_assert_uint_eq(tls_reader_left(&body), 2);
    ck_assert(tls_read_u16(&body, &suite));
    ck_assert_uint_eq(suite, 0x1301);
    ck_assert(tls_reader_done(&body));
    ck_assert_uint_eq(tls_reader_left(&r), 1);
}
END_TEST

START_TEST(test_codec_read_vec24_normal)
{
    static const uint8_t in[] = {0x00, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04, 0xee};
    tls_reader r, body;
    uint32_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec24(&r, 1, 0xffffff, &body));
    ck_assert_uint_eq(tls_reader_left(&body), 4);
    ck_assert(tls_read_u32(&body, &v));
    ck_assert_uint_eq(v, 0x01020304);
    ck_assert(tls_reader_done(&body));
    ck_assert_uint_eq(tls_reader_left(&r), 1);
}
END_TEST

START_TEST(test_codec_read_vec16_length_big_endian)
{
    /* prefix 0x0100 is 256; read little-endian it would be 1 */
    uint8_t in[2 + 256 + 1];
    tls_reader r, body;

    in[0] = 0x01;
    in[1] = 0x00;
    for (size_t i = 0; i < 256; i++)
        in[2 + i] = (uint8_t)i;
    in[2 + 256] = 0xee;
    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec16(&r, 0, 0xffff, &body));
    ck_assert_uint_eq(tls_reader_left(&body), 256);
    ck_assert_mem_eq(body.p, in + 2, 256);
    ck_assert_uint_eq(tls_reader_left(&r), 1);
}
END_TEST

START_TEST(test_codec_read_vec24_length_big_endian)
{
    /* prefix 0x000102 is 258 */
    uint8_t in[3 + 258];
    tls_reader r, body;

    memset(in, 0x5a, sizeof in);
    in[0] = 0x00;
    in[1] = 0x01;
    in[2] = 0x02;
    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec24(&r, 0, 0xffffff, &body));
    ck_assert_uint_eq(tls_reader_left(&body), 258);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_vec8_empty_min0)
{
    static const uint8_t in[] = {0x00};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec8(&r, 0, 32, &body));
    ck_assert(tls_reader_done(&body));
    ck_assert_uint_eq(tls_reader_left(&body), 0);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_vec16_empty_min0)
{
    static const uint8_t in[] = {0x00, 0x00};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec16(&r, 0, 0xffff, &body));
    ck_assert(tls_reader_done(&body));
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_vec24_empty_min0)
{
    static const uint8_t in[] = {0x00, 0x00, 0x00};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec24(&r, 0, 0xffffff, &body));
    ck_assert(tls_reader_done(&body));
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_vec8_empty_min1)
{
    static const uint8_t in[] = {0x00, 0x01};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec8(&r, 1, 255, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec16_empty_min1)
{
    static const uint8_t in[] = {0x00, 0x00, 0x01};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec16(&r, 1, 0xffff, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec24_empty_min1)
{
    static const uint8_t in[] = {0x00, 0x00, 0x00, 0x01};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec24(&r, 1, 0xffffff, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec8_min_max_inclusive)
{
    static const uint8_t in[] = {0x02, 0x01, 0x02, 0x03, 0x01, 0x02, 0x03};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec8(&r, 2, 3, &body)); /* length == min */
    ck_assert_uint_eq(tls_reader_left(&body), 2);
    ck_assert(tls_read_vec8(&r, 2, 3, &body)); /* length == max */
    ck_assert_uint_eq(tls_reader_left(&body), 3);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_vec8_below_min)
{
    static const uint8_t in[] = {0x02, 0x01, 0x02};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec8(&r, 3, 255, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec16_below_min)
{
    /* a cipher_suites vector must hold at least one 2-byte suite */
    static const uint8_t in[] = {0x00, 0x01, 0x13};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec16(&r, 2, 0xfffe, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec24_below_min)
{
    static const uint8_t in[] = {0x00, 0x00, 0x02, 0x01, 0x02};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec24(&r, 3, 0xffffff, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec8_above_max)
{
    /* the bytes are all there; only the bound rejects it */
    static const uint8_t in[] = {0x04, 0x01, 0x02, 0x03, 0x04};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec8(&r, 0, 3, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec16_above_max)
{
    static const uint8_t in[] = {0x00, 0x04, 0x01, 0x02, 0x03, 0x04};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec16(&r, 0, 3, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec24_above_max)
{
    static const uint8_t in[] = {0x00, 0x00, 0x04, 0x01, 0x02, 0x03, 0x04};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec24(&r, 0, 3, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec8_truncated_body)
{
    static const uint8_t in[] = {0x05, 0x01, 0x02, 0x03, 0x04};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec8(&r, 0, 255, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec16_truncated_body)
{
    static const uint8_t in[] = {0x00, 0x05, 0x01, 0x02, 0x03, 0x04};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec16(&r, 0, 0xffff, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec24_truncated_body)
{
    static const uint8_t in[] = {0x00, 0x00, 0x05, 0x01, 0x02, 0x03, 0x04};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec24(&r, 0, 0xffffff, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec24_huge_length)
{
    /* 0xffffff is within max but far past the input */
    static const uint8_t in[] = {0xff, 0xff, 0xff, 0x01};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec24(&r, 0, 0xffffff, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec8_truncated_prefix)
{
    tls_reader r, body;

    tls_reader_init(&r, NULL, 0);
    ck_assert(!tls_read_vec8(&r, 0, 255, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec16_truncated_prefix)
{
    static const uint8_t in[] = {0x00};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec16(&r, 0, 0xffff, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec24_truncated_prefix)
{
    static const uint8_t in[] = {0x00, 0x00};
    tls_reader r, body;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_vec24(&r, 0, 0xffffff, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec8_after_failure)
{
    /* a well-formed vector after a failed read is still refused */
    static const uint8_t in[] = {0x01, 0xaa};
    tls_reader r, body;
    uint32_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_u24(&r, &v));
    ck_assert(!tls_read_vec8(&r, 0, 255, &body));
    assert_reader_failed(&body);
    assert_reader_failed(&r);
}
END_TEST

START_TEST(test_codec_read_vec8_body_bounded)
{
    static const uint8_t in[] = {0x02, 0x11, 0x22, 0x33, 0x44};
    tls_reader r, body;
    uint32_t v24 = 0;
    uint16_t v16 = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec8(&r, 0, 255, &body));
    /* three bytes would be available in the parent's buffer, but not in the vector */
    ck_assert(!tls_read_u24(&body, &v24));
    assert_reader_failed(&body);
    /* the parent is untouched by the body's failure */
    ck_assert(!tls_reader_failed(&r));
    ck_assert_uint_eq(tls_reader_left(&r), 2);
    ck_assert(tls_read_u16(&r, &v16));
    ck_assert_uint_eq(v16, 0x3344);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_vec16_body_bounded)
{
    static const uint8_t in[] = {0x00, 0x03, 0x11, 0x22, 0x33, 0x44};
    tls_reader r, body;
    uint8_t out[4] = {0};
    uint8_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec16(&r, 0, 0xffff, &body));
    ck_assert(!tls_read_bytes(&body, out, 4));
    assert_reader_failed(&body);
    ck_assert(!tls_reader_failed(&r));
    ck_assert(tls_read_u8(&r, &v));
    ck_assert_uint_eq(v, 0x44);
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_vec24_body_bounded)
{
    static const uint8_t in[] = {0x00, 0x00, 0x01, 0x11, 0x22};
    tls_reader r, body;
    const uint8_t *s = NULL;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec24(&r, 0, 0xffffff, &body));
    ck_assert(tls_read_slice(&body, 1, &s));
    ck_assert_ptr_eq(s, in + 3);
    ck_assert(tls_reader_done(&body));
    ck_assert(!tls_read_skip(&body, 1));
    assert_reader_failed(&body);
    ck_assert(!tls_reader_failed(&r));
    ck_assert_uint_eq(tls_reader_left(&r), 1);
}
END_TEST

START_TEST(test_codec_read_vec8_body_trailing_bytes)
{
    static const uint8_t in[] = {0x03, 0x00, 0x01, 0x02};
    tls_reader r, body;
    uint16_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec8(&r, 0, 255, &body));
    ck_assert(tls_read_u16(&body, &v));
    ck_assert(!tls_reader_done(&body));
    ck_assert(!tls_reader_failed(&body));
    ck_assert(tls_reader_done(&r));
}
END_TEST

/* Extensions-style nesting: vec16 { u16 type; vec16 data }*. */
START_TEST(test_codec_read_vec16_nested)
{
    static const uint8_t in[] = {
        0x00, 0x0b,                   /* extensions length 11 */
        0x00, 0x2b, 0x00, 0x03, 0x02, /* supported_versions: vec8 of one version */
        0x03, 0x04,                   /*   TLS 1.3 */
        0x00, 0x00, 0x00, 0x00,       /* server_name, empty */
    };
    tls_reader r, exts, data, versions;
    uint16_t type = 0, version = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec16(&r, 0, 0xffff, &exts));
    ck_assert(tls_reader_done(&r));

    ck_assert(tls_read_u16(&exts, &type));
    ck_assert_uint_eq(type, 0x002b);
    ck_assert(tls_read_vec16(&exts, 0, 0xffff, &data));
    ck_assert(tls_read_vec8(&data, 2, 254, &versions));
    ck_assert(tls_reader_done(&data));
    ck_assert(tls_read_u16(&versions, &version));
    ck_assert_uint_eq(version, 0x0304);
    ck_assert(tls_reader_done(&versions));

    ck_assert(tls_read_u16(&exts, &type));
    ck_assert_uint_eq(type, 0x0000);
    ck_assert(tls_read_vec16(&exts, 0, 0xffff, &data));
    ck_assert(tls_reader_done(&data));
    ck_assert(tls_reader_done(&exts));
}
END_TEST

START_TEST(test_codec_read_vec16_nested_overruns_outer)
{
    /* The inner length (4) fits the whole input but not the outer vector (3 bytes): the
     * inner read must fail within the outer body and must not borrow the parent's bytes. */
    static const uint8_t in[] = {0x00, 0x03, 0x00, 0x04, 0xaa, 0xbb, 0xcc};
    tls_reader r, outer, inner;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_vec16(&r, 0, 0xffff, &outer));
    ck_assert(!tls_read_vec16(&outer, 0, 0xffff, &inner));
    assert_reader_failed(&inner);
    assert_reader_failed(&outer);
    ck_assert(!tls_reader_failed(&r));
    ck_assert_uint_eq(tls_reader_left(&r), 2);
}
END_TEST

/* ---- read_rest ------------------------------------------------------------------------- */

START_TEST(test_codec_read_rest_remaining)
{
    static const uint8_t in[] = {0x01, 0x02, 0x03, 0x04};
    tls_reader r, rest;
    uint8_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_u8(&r, &v));
    tls_read_rest(&r, &rest);
    ck_assert(tls_reader_done(&r));
    ck_assert(!tls_reader_failed(&rest));
    ck_assert_uint_eq(tls_reader_left(&rest), 3);
    ck_assert_ptr_eq(rest.p, in + 1);
    ck_assert_mem_eq(rest.p, in + 1, 3);
}
END_TEST

START_TEST(test_codec_read_rest_empty)
{
    static const uint8_t in[] = {0x01};
    tls_reader r, rest;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(tls_read_skip(&r, 1));
    tls_read_rest(&r, &rest);
    ck_assert(tls_reader_done(&rest));
    ck_assert(tls_reader_done(&r));
}
END_TEST

START_TEST(test_codec_read_rest_after_failure)
{
    static const uint8_t in[] = {0x01, 0x02};
    tls_reader r, rest;
    uint32_t v = 0;

    tls_reader_init(&r, in, sizeof in);
    ck_assert(!tls_read_u32(&r, &v));
    tls_read_rest(&r, &rest);
    assert_reader_failed(&rest);
    assert_reader_failed(&r);
}
END_TEST

/* ---- decoder-style chains -------------------------------------------------------------- */

struct toy_hello {
    uint16_t version;
    uint8_t random[4];
    tls_reader session_id, suites;
};

/* The shape STYLE.md prescribes: chain reads, test once, end with tls_reader_done. */
static bool toy_hello_decode(tls_reader *msg, struct toy_hello *h)
{
    return tls_read_u16(msg, &h->version) && tls_read_bytes(msg, h->random, sizeof h->random) &&
           tls_read_vec8(msg, 0, 32, &h->session_id) &&
           tls_read_vec16(msg, 2, 0xfffe, &h->suites) && tls_reader_done(msg);
}

/* The same decoder without short-circuiting: every read runs, the failure is checked once. */
static bool toy_hello_decode_unchecked(tls_reader *msg, struct toy_hello *h)
{
    (void)tls_read_u16(msg, &h->version);
    (void)tls_read_bytes(msg, h->random, sizeof h->random);
    (void)tls_read_vec8(msg, 0, 32, &h->session_id);
    (void)tls_read_vec16(msg, 2, 0xfffe, &h->suites);
    return tls_reader_done(msg);
}

static const uint8_t toy_hello_msg[] = {
    0x03, 0x03,                         /* legacy_version */
    0x01, 0x02, 0x03, 0x04,             /* random */
    0x02, 0xaa, 0xbb,                   /* session_id */
    0x00, 0x04, 0x13, 0x01, 0x13, 0x02, /* cipher_suites */
};

START_TEST(test_codec_decoder_chain_valid)
{
    static const uint8_t random[] = {0x01, 0x02, 0x03, 0x04};
    static const uint8_t sid[] = {0xaa, 0xbb};
    static const uint8_t suites[] = {0x13, 0x01, 0x13, 0x02};
    struct toy_hello h;
    tls_reader msg;

    tls_reader_init(&msg, toy_hello_msg, sizeof toy_hello_msg);
    ck_assert(toy_hello_decode(&msg, &h));
    ck_assert_uint_eq(h.version, 0x0303);
    ck_assert_mem_eq(h.random, random, sizeof random);
    ck_assert_uint_eq(tls_reader_left(&h.session_id), sizeof sid);
    ck_assert_mem_eq(h.session_id.p, sid, sizeof sid);
    ck_assert_uint_eq(tls_reader_left(&h.suites), sizeof suites);
    ck_assert_mem_eq(h.suites.p, suites, sizeof suites);

    tls_reader_init(&msg, toy_hello_msg, sizeof toy_hello_msg);
    ck_assert(toy_hello_decode_unchecked(&msg, &h));
    ck_assert_uint_eq(h.version, 0x0303);
}
END_TEST

START_TEST(test_codec_decoder_chain_every_truncation)
{
    /* Each proper prefix of the message fails; with ASan this also shows no read past it. */
    for (size_t n = 0; n < sizeof toy_hello_msg; n++) {
        uint8_t *copy = malloc(n ? n : 1);
        struct toy_hello h;
        tls_reader msg;

        ck_assert_ptr_nonnull(copy);
        memcpy(copy, toy_hello_msg, n);
        tls_reader_init(&msg, copy, n);
        ck_assert_msg(!toy_hello_decode(&msg, &h), "prefix of %zu bytes accepted", n);
        ck_assert(tls_reader_failed(&msg));

        tls_reader_init(&msg, copy, n);
        ck_assert_msg(!toy_hello_decode_unchecked(&msg, &h), "prefix of %zu bytes accepted", n);
        assert_reader_failed(&msg);
        free(copy);
    }
}
END_TEST

START_TEST(test_codec_decoder_chain_trailing_byte)
{
    uint8_t in[sizeof toy_hello_msg + 1];
    struct toy_hello h;
    tls_reader msg;

    memcpy(in, toy_hello_msg, sizeof toy_hello_msg);
    in[sizeof toy_hello_msg] = 0x00;
    tls_reader_init(&msg, in, sizeof in);
    ck_assert(!toy_hello_decode(&msg, &h));
    /* every field parsed; only the exact-consumption check rejected it */
    ck_assert(!tls_reader_failed(&msg));
    ck_assert_uint_eq(tls_reader_left(&msg), 1);
}
END_TEST

START_TEST(test_codec_decoder_chain_fails_once_early)
{
    /* session_id length 33 exceeds max 32: the failure latches and every later read, though
     * its bytes are present, fails too; one check at the end sees it. */
    uint8_t in[2 + 4 + 1 + 33 + 4];
    struct toy_hello h;
    tls_reader msg;

    memset(in, 0x13, sizeof in);
    in[6] = 33;
    in[40] = 0x00;
    in[41] = 0x02;
    tls_reader_init(&msg, in, sizeof in);
    ck_assert(!toy_hello_decode_unchecked(&msg, &h));
    assert_reader_failed(&msg);
    assert_reader_failed(&h.session_id);
    assert_reader_failed(&h.suites);
}
END_TEST

/* ---- writer ---------------------------------------------------------------------------- */

START_TEST(test_codec_write_uint_big_endian)
{
    static const uint8_t want[] = {0xab, 0x12, 0x34, 0x56, 0x78, 0x9a, 0xde, 0xad, 0xbe, 0xef};
    uint8_t buf[sizeof want + 4];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, sizeof want);
    tls_write_u8(&w, 0xab);
    tls_write_u16(&w, 0x1234);
    tls_write_u24(&w, 0x56789a);
    tls_write_u32(&w, 0xdeadbeef);
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, sizeof want);
    ck_assert_mem_eq(buf, want, sizeof want);
    assert_canary(buf + sizeof want, 4);
}
END_TEST

START_TEST(test_codec_write_bytes_and_empty)
{
    static const uint8_t data[] = {0x01, 0x02, 0x03};
    uint8_t buf[8];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, sizeof buf);
    tls_write_bytes(&w, NULL, 0);
    tls_write_bytes(&w, data, sizeof data);
    tls_write_bytes(&w, data, 0);
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, 3);
    ck_assert_mem_eq(buf, data, sizeof data);
    assert_canary(buf + 3, sizeof buf - 3);
}
END_TEST

START_TEST(test_codec_writer_end_nested_backpatch)
{
    /* vec16 { u16 type; vec8 { 2 bytes }; vec24 {} } followed by a vec16 of one suite */
    static const uint8_t want[] = {
        0x00, 0x0a,             /* outer vec16: 10 bytes */
        0x00, 0x2b,             /*   type */
        0x02, 0x03, 0x04,       /*   vec8 */
        0x00, 0x00, 0x00,       /*   empty vec24 */
        0x00, 0x00,             /*   u16 after the inner vectors */
        0x00, 0x02, 0x13, 0x01, /* second vec16 */
    };
    uint8_t buf[sizeof want + 4];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, sizeof want);
    tls_write_vec16_begin(&w);
    tls_write_u16(&w, 0x002b);
    tls_write_vec8_begin(&w);
    tls_write_u16(&w, 0x0304);
    tls_writer_end(&w);
    tls_write_vec24_begin(&w);
    ck_assert(!tls_writer_ok(&w));
    tls_writer_end(&w);
    tls_write_u16(&w, 0x0000);
    tls_writer_end(&w);
    tls_write_vec16_begin(&w);
    tls_write_u16(&w, 0x1301);
    tls_writer_end(&w);
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, sizeof want);
    ck_assert_mem_eq(buf, want, sizeof want);
    assert_canary(buf + sizeof want, 4);
}
END_TEST

START_TEST(test_codec_writer_end_vec24_large_body)
{
    /* a body of 0x010203 bytes checks all three prefix bytes are patched big-endian */
    const size_t body = 0x010203;
    uint8_t *buf = malloc(3 + body);
    tls_writer w;

    ck_assert_ptr_nonnull(buf);
    tls_writer_init(&w, buf, 3 + body);
    tls_write_vec24_begin(&w);
    ck_assert_ptr_nonnull(tls_write_reserve(&w, body));
    tls_writer_end(&w);
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(buf[0], 0x01);
    ck_assert_uint_eq(buf[1], 0x02);
    ck_assert_uint_eq(buf[2], 0x03);
    free(buf);
}
END_TEST

START_TEST(test_codec_write_vec8_convenience)
{
    static const uint8_t data[] = {0xaa, 0xbb, 0xcc};
    static const uint8_t want[] = {0x03, 0xaa, 0xbb, 0xcc, 0x00};
    uint8_t buf[sizeof want + 4];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, sizeof want);
    tls_write_vec8(&w, data, sizeof data);
    tls_write_vec8(&w, NULL, 0);
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, sizeof want);
    ck_assert_mem_eq(buf, want, sizeof want);
    assert_canary(buf + sizeof want, 4);
}
END_TEST

START_TEST(test_codec_write_vec16_convenience)
{
    static const uint8_t data[] = {0x13, 0x01, 0x13, 0x03};
    static const uint8_t want[] = {0x00, 0x04, 0x13, 0x01, 0x13, 0x03, 0x00, 0x00};
    uint8_t buf[sizeof want + 4];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, sizeof want);
    tls_write_vec16(&w, data, sizeof data);
    tls_write_vec16(&w, NULL, 0);
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, sizeof want);
    ck_assert_mem_eq(buf, want, sizeof want);
    assert_canary(buf + sizeof want, 4);
}
END_TEST

START_TEST(test_codec_write_vec16_length_big_endian)
{
    uint8_t data[256];
    uint8_t buf[2 + 256];
    tls_writer w;

    memset(data, 0x42, sizeof data);
    tls_writer_init(&w, buf, sizeof buf);
    tls_write_vec16(&w, data, sizeof data);
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(buf[0], 0x01);
    ck_assert_uint_eq(buf[1], 0x00);
    ck_assert_mem_eq(buf + 2, data, sizeof data);
}
END_TEST

START_TEST(test_codec_write_vec8_max_body)
{
    uint8_t data[255];
    uint8_t buf[1 + 255];
    tls_writer w;

    memset(data, 0x42, sizeof data);
    tls_writer_init(&w, buf, sizeof buf);
    tls_write_vec8(&w, data, sizeof data);
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, sizeof buf);
    ck_assert_uint_eq(buf[0], 0xff);
}
END_TEST

START_TEST(test_codec_write_vec8_body_too_long)
{
    uint8_t data[256];
    uint8_t buf[1 + 256 + 8];
    tls_writer w;

    memset(data, 0x42, sizeof data);
    tls_writer_init(&w, buf, sizeof buf);
    tls_write_vec8(&w, data, sizeof data);
    ck_assert(w.failed);
    ck_assert(!tls_writer_ok(&w));
    /* and the writer stays failed */
    tls_write_u8(&w, 0x00);
    ck_assert(!tls_writer_ok(&w));
}
END_TEST

START_TEST(test_codec_writer_end_vec8_nested_body_too_long)
{
    /* the inner vec16 is fine; the enclosing vec8 ends up 257 bytes long */
    uint8_t buf[1 + 2 + 255];
    tls_writer w;

    tls_writer_init(&w, buf, sizeof buf);
    tls_write_vec8_begin(&w);
    tls_write_vec16_begin(&w);
    ck_assert_ptr_nonnull(tls_write_reserve(&w, 255));
    tls_writer_end(&w);
    ck_assert(!w.failed);
    tls_writer_end(&w);
    ck_assert(w.failed);
    ck_assert(!tls_writer_ok(&w));
}
END_TEST

START_TEST(test_codec_write_vec16_body_too_long)
{
    const size_t body = 0x10000;
    uint8_t *buf = malloc(2 + body);
    tls_writer w;

    ck_assert_ptr_nonnull(buf);
    tls_writer_init(&w, buf, 2 + body);
    tls_write_vec16_begin(&w);
    ck_assert_ptr_nonnull(tls_write_reserve(&w, body));
    tls_writer_end(&w);
    ck_assert(!tls_writer_ok(&w));
    free(buf);
}
END_TEST

START_TEST(test_codec_write_u8_overflow)
{
    uint8_t buf[4 + 8];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, 4);
    tls_write_u32(&w, 0x01020304);
    ck_assert(tls_writer_ok(&w));
    tls_write_u8(&w, 0xff);
    ck_assert(w.failed);
    ck_assert(!tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, 4);
    assert_canary(buf + 4, 8);
}
END_TEST

START_TEST(test_codec_write_u32_overflow_partial_room)
{
    /* 3 bytes of room, a u32 needs 4: nothing of it is written */
    uint8_t buf[4 + 8];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, 4);
    tls_write_u8(&w, 0x01);
    tls_write_u32(&w, 0xdeadbeef);
    ck_assert(!tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, 1);
    assert_canary(buf + 4, 8);
}
END_TEST

START_TEST(test_codec_write_bytes_overflow_latches)
{
    /* after an overflow, even writes that would fit in the room left are refused */
    static const uint8_t data[8] = {1, 2, 3, 4, 5, 6, 7, 8};
    uint8_t buf[8 + 8];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, 8);
    tls_write_u32(&w, 0x01020304);
    tls_write_bytes(&w, data, 5);
    ck_assert(w.failed);
    ck_assert_uint_eq(w.len, 4);
    tls_write_u8(&w, 0xff);
    tls_write_u16(&w, 0xffff);
    tls_write_u24(&w, 0xffffff);
    tls_write_bytes(&w, data, 1);
    tls_write_vec8(&w, data, 1);
    ck_assert_ptr_null(tls_write_reserve(&w, 0));
    ck_assert(!tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, 4);
    /* the 4 bytes of room left and the region past the capacity are untouched */
    assert_canary(buf + 4, 12);
}
END_TEST

START_TEST(test_codec_write_bytes_huge_length)
{
    static const uint8_t data[1] = {0};
    uint8_t buf[4 + 4];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, 4);
    tls_write_u8(&w, 0x01);
    tls_write_bytes(&w, data, SIZE_MAX);
    ck_assert(!tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, 1);
    assert_canary(buf + 1, 7);
}
END_TEST

START_TEST(test_codec_write_vec16_begin_overflow)
{
    uint8_t buf[1 + 8];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, 1);
    tls_write_vec16_begin(&w);
    ck_assert(w.failed);
    tls_writer_end(&w);
    ck_assert(!tls_writer_ok(&w));
    assert_canary(buf, sizeof buf);
}
END_TEST

START_TEST(test_codec_write_vec8_overflow_inside_vector)
{
    static const uint8_t data[4] = {1, 2, 3, 4};
    uint8_t buf[4 + 8];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, 4);
    tls_write_vec8(&w, data, sizeof data);
    ck_assert(!tls_writer_ok(&w));
    assert_canary(buf + 4, 8);
}
END_TEST

START_TEST(test_codec_writer_end_unbalanced)
{
    uint8_t buf[8];
    tls_writer w;

    tls_writer_init(&w, buf, sizeof buf);
    tls_writer_end(&w);
    ck_assert(w.failed);
    ck_assert(!tls_writer_ok(&w));

    tls_writer_init(&w, buf, sizeof buf);
    tls_write_vec8_begin(&w);
    tls_writer_end(&w);
    ck_assert(tls_writer_ok(&w));
    tls_writer_end(&w);
    ck_assert(w.failed);
    ck_assert(!tls_writer_ok(&w));
}
END_TEST

START_TEST(test_codec_writer_ok_unclosed_vector)
{
    uint8_t buf[8];
    tls_writer w;

    tls_writer_init(&w, buf, sizeof buf);
    ck_assert(tls_writer_ok(&w));
    tls_write_vec16_begin(&w);
    tls_write_u8(&w, 0x01);
    ck_assert(!w.failed);
    ck_assert(!tls_writer_ok(&w));
    tls_writer_end(&w);
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(buf[0], 0x00);
    ck_assert_uint_eq(buf[1], 0x01);
    ck_assert_uint_eq(buf[2], 0x01);
}
END_TEST

START_TEST(test_codec_write_vec8_begin_max_depth)
{
    /* TLS_WRITER_MAX_DEPTH nested vectors encode; each prefix holds what it encloses */
    uint8_t want[TLS_WRITER_MAX_DEPTH];
    uint8_t buf[TLS_WRITER_MAX_DEPTH + 4];
    tls_writer w;

    for (int i = 0; i < TLS_WRITER_MAX_DEPTH; i++)
        want[i] = (uint8_t)(TLS_WRITER_MAX_DEPTH - 1 - i);
    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, TLS_WRITER_MAX_DEPTH);
    for (int i = 0; i < TLS_WRITER_MAX_DEPTH; i++)
        tls_write_vec8_begin(&w);
    ck_assert(!w.failed);
    for (int i = 0; i < TLS_WRITER_MAX_DEPTH; i++)
        tls_writer_end(&w);
    ck_assert(tls_writer_ok(&w));
    ck_assert_mem_eq(buf, want, sizeof want);
    assert_canary(buf + TLS_WRITER_MAX_DEPTH, 4);
}
END_TEST

START_TEST(test_codec_write_vec8_begin_beyond_max_depth)
{
    uint8_t buf[64];
    tls_writer w;

    tls_writer_init(&w, buf, sizeof buf);
    for (int i = 0; i < TLS_WRITER_MAX_DEPTH; i++)
        tls_write_vec8_begin(&w);
    ck_assert(!w.failed);
    tls_write_vec8_begin(&w);
    ck_assert(w.failed);
    for (int i = 0; i < TLS_WRITER_MAX_DEPTH + 1; i++)
        tls_writer_end(&w);
    ck_assert(!tls_writer_ok(&w));
}
END_TEST

START_TEST(test_codec_write_reserve)
{
    uint8_t buf[6 + 4];
    tls_writer w;
    uint8_t *p;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, 6);
    tls_write_u8(&w, 0x01);
    p = tls_write_reserve(&w, 3);
    ck_assert_ptr_eq(p, buf + 1);
    ck_assert_uint_eq(w.len, 4);
    p[0] = 0xaa;
    p[1] = 0xbb;
    p[2] = 0xcc;
    p = tls_write_reserve(&w, 0);
    ck_assert_ptr_eq(p, buf + 4);
    p = tls_write_reserve(&w, 2); /* exactly the room left */
    ck_assert_ptr_eq(p, buf + 4);
    p[0] = 0xdd;
    p[1] = 0xee;
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, 6);
    {
        static const uint8_t want[] = {0x01, 0xaa, 0xbb, 0xcc, 0xdd, 0xee};
        ck_assert_mem_eq(buf, want, sizeof want);
    }
    assert_canary(buf + 6, 4);
}
END_TEST

START_TEST(test_codec_write_reserve_overflow)
{
    uint8_t buf[4 + 4];
    tls_writer w;

    fill_canary(buf, sizeof buf);
    tls_writer_init(&w, buf, 4);
    ck_assert_ptr_nonnull(tls_write_reserve(&w, 2));
    ck_assert_ptr_null(tls_write_reserve(&w, 3));
    ck_assert(w.failed);
    ck_assert_uint_eq(w.len, 2);
    ck_assert_ptr_null(tls_write_reserve(&w, 1));
    ck_assert_ptr_null(tls_write_reserve(&w, SIZE_MAX));
    ck_assert(!tls_writer_ok(&w));
    assert_canary(buf + 2, 6);
}
END_TEST

START_TEST(test_codec_write_roundtrip_through_reader)
{
    /* what the writer encodes, the reader decodes to the same values */
    static const uint8_t sid[] = {0x0a, 0x0b};
    uint8_t buf[64];
    tls_writer w;
    tls_reader r, v8, v16, v24;
    uint8_t a = 0;
    uint16_t b = 0;
    uint32_t c = 0, d = 0;

    tls_writer_init(&w, buf, sizeof buf);
    tls_write_u8(&w, 0x7f);
    tls_write_vec16_begin(&w);
    tls_write_vec8(&w, sid, sizeof sid);
    tls_write_vec24_begin(&w);
    tls_write_u16(&w, 0xbeef);
    tls_write_u24(&w, 0xabcdef);
    tls_writer_end(&w);
    tls_writer_end(&w);
    tls_write_u32(&w, 0xcafef00d);
    ck_assert(tls_writer_ok(&w));

    tls_reader_init(&r, buf, w.len);
    ck_assert(tls_read_u8(&r, &a));
    ck_assert_uint_eq(a, 0x7f);
    ck_assert(tls_read_vec16(&r, 0, 0xffff, &v16));
    ck_assert_uint_eq(tls_reader_left(&v16), 3 + 3 + 5);
    ck_assert(tls_read_vec8(&v16, 0, 255, &v8));
    ck_assert_uint_eq(tls_reader_left(&v8), sizeof sid);
    ck_assert_mem_eq(v8.p, sid, sizeof sid);
    ck_assert(tls_read_vec24(&v16, 0, 0xffffff, &v24));
    ck_assert(tls_reader_done(&v16));
    ck_assert(tls_read_u16(&v24, &b));
    ck_assert(tls_read_u24(&v24, &c));
    ck_assert(tls_reader_done(&v24));
    ck_assert_uint_eq(b, 0xbeef);
    ck_assert_uint_eq(c, 0xabcdef);
    ck_assert(tls_read_u32(&r, &d));
    ck_assert_uint_eq(d, 0xcafef00d);
    ck_assert(tls_reader_done(&r));
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("codec");
    TCase *ints = tcase_create("read_uint");
    TCase *bytes = tcase_create("read_bytes");
    TCase *vec = tcase_create("read_vec");
    TCase *chain = tcase_create("decoder_chain");
    TCase *writer = tcase_create("writer");

    tcase_add_test(ints, test_codec_read_u8_exact);
    tcase_add_test(ints, test_codec_read_u8_short);
    tcase_add_test(ints, test_codec_read_u16_exact_big_endian);
    tcase_add_test(ints, test_codec_read_u16_short);
    tcase_add_test(ints, test_codec_read_u24_exact_big_endian);
    tcase_add_test(ints, test_codec_read_u24_short);
    tcase_add_test(ints, test_codec_read_u32_exact_big_endian);
    tcase_add_test(ints, test_codec_read_u32_short);
    tcase_add_test(ints, test_codec_read_mixed_widths_in_order);
    tcase_add_test(ints, test_codec_read_u8_after_failure_fails);
    suite_add_tcase(s, ints);

    tcase_add_test(bytes, test_codec_read_bytes_exact);
    tcase_add_test(bytes, test_codec_read_bytes_short);
    tcase_add_test(bytes, test_codec_read_bytes_zero_at_end);
    tcase_add_test(bytes, test_codec_read_bytes_huge_length);
    tcase_add_test(bytes, test_codec_read_slice_borrows);
    tcase_add_test(bytes, test_codec_read_slice_short);
    tcase_add_test(bytes, test_codec_read_skip_to_end);
    tcase_add_test(bytes, test_codec_read_skip_short);
    tcase_add_test(bytes, test_codec_read_skip_huge_length);
    tcase_add_test(bytes, test_codec_reader_init_null_empty);
    tcase_add_test(bytes, test_codec_reader_done_trailing_bytes);
    tcase_add_test(bytes, test_codec_read_rest_remaining);
    tcase_add_test(bytes, test_codec_read_rest_empty);
    tcase_add_test(bytes, test_codec_read_rest_after_failure);
    suite_add_tcase(s, bytes);

    tcase_add_test(vec, test_codec_read_vec8_normal);
    tcase_add_test(vec, test_codec_read_vec16_normal);
    tcase_add_test(vec, test_codec_read_vec24_normal);
    tcase_add_test(vec, test_codec_read_vec16_length_big_endian);
    tcase_add_test(vec, test_codec_read_vec24_length_big_endian);
    tcase_add_test(vec, test_codec_read_vec8_empty_min0);
    tcase_add_test(vec, test_codec_read_vec16_empty_min0);
    tcase_add_test(vec, test_codec_read_vec24_empty_min0);
    tcase_add_test(vec, test_codec_read_vec8_empty_min1);
    tcase_add_test(vec, test_codec_read_vec16_empty_min1);
    tcase_add_test(vec, test_codec_read_vec24_empty_min1);
    tcase_add_test(vec, test_codec_read_vec8_min_max_inclusive);
    tcase_add_test(vec, test_codec_read_vec8_below_min);
    tcase_add_test(vec, test_codec_read_vec16_below_min);
    tcase_add_test(vec, test_codec_read_vec24_below_min);
    tcase_add_test(vec, test_codec_read_vec8_above_max);
    tcase_add_test(vec, test_codec_read_vec16_above_max);
    tcase_add_test(vec, test_codec_read_vec24_above_max);
    tcase_add_test(vec, test_codec_read_vec8_truncated_body);
    tcase_add_test(vec, test_codec_read_vec16_truncated_body);
    tcase_add_test(vec, test_codec_read_vec24_truncated_body);
    tcase_add_test(vec, test_codec_read_vec24_huge_length);
    tcase_add_test(vec, test_codec_read_vec8_truncated_prefix);
    tcase_add_test(vec, test_codec_read_vec16_truncated_prefix);
    tcase_add_test(vec, test_codec_read_vec24_truncated_prefix);
    tcase_add_test(vec, test_codec_read_vec8_after_failure);
    tcase_add_test(vec, test_codec_read_vec8_body_bounded);
    tcase_add_test(vec, test_codec_read_vec16_body_bounded);
    tcase_add_test(vec, test_codec_read_vec24_body_bounded);
    tcase_add_test(vec, test_codec_read_vec8_body_trailing_bytes);
    tcase_add_test(vec, test_codec_read_vec16_nested);
    tcase_add_test(vec, test_codec_read_vec16_nested_overruns_outer);
    suite_add_tcase(s, vec);

    tcase_add_test(chain, test_codec_decoder_chain_valid);
    tcase_add_test(chain, test_codec_decoder_chain_every_truncation);
    tcase_add_test(chain, test_codec_decoder_chain_trailing_byte);
    tcase_add_test(chain, test_codec_decoder_chain_fails_once_early);
    suite_add_tcase(s, chain);

    tcase_add_test(writer, test_codec_write_uint_big_endian);
    tcase_add_test(writer, test_codec_write_bytes_and_empty);
    tcase_add_test(writer, test_codec_writer_end_nested_backpatch);
    tcase_add_test(writer, test_codec_writer_end_vec24_large_body);
    tcase_add_test(writer, test_codec_write_vec8_convenience);
    tcase_add_test(writer, test_codec_write_vec16_convenience);
    tcase_add_test(writer, test_codec_write_vec16_length_big_endian);
    tcase_add_test(writer, test_codec_write_vec8_max_body);
    tcase_add_test(writer, test_codec_write_vec8_body_too_long);
    tcase_add_test(writer, test_codec_writer_end_vec8_nested_body_too_long);
    tcase_add_test(writer, test_codec_write_vec16_body_too_long);
    tcase_add_test(writer, test_codec_write_u8_overflow);
    tcase_add_test(writer, test_codec_write_u32_overflow_partial_room);
    tcase_add_test(writer, test_codec_write_bytes_overflow_latches);
    tcase_add_test(writer, test_codec_write_bytes_huge_length);
    tcase_add_test(writer, test_codec_write_vec16_begin_overflow);
    tcase_add_test(writer, test_codec_write_vec8_overflow_inside_vector);
    tcase_add_test(writer, test_codec_writer_end_unbalanced);
    tcase_add_test(writer, test_codec_writer_ok_unclosed_vector);
    tcase_add_test(writer, test_codec_write_vec8_begin_max_depth);
    tcase_add_test(writer, test_codec_write_vec8_begin_beyond_max_depth);
    tcase_add_test(writer, test_codec_write_reserve);
    tcase_add_test(writer, test_codec_write_reserve_overflow);
    tcase_add_test(writer, test_codec_write_roundtrip_through_reader);
    suite_add_tcase(s, writer);

    return s;
}

TEST_MAIN(make_suite)
