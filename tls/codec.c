/*
 * codec.c — bounded reader and back-patching writer (see codec.h for the contract).
 */
#include "codec.h"

#include <string.h>

void tls_reader_init(tls_reader *r, const uint8_t *buf, size_t len)
{
    /* A NULL buffer (an absent optional field) gives an empty reader over a real object:
     * take()'s p += 0 and end - p on NULL are undefined in C (clang's UBSan reports
     * "applying zero offset to null pointer" on a 0-byte read). */
    static const uint8_t empty;
    if (!buf) {
        buf = &empty;
        len = 0;
    }
    r->p = buf;
    r->end = buf + len;
    r->failed = false;
}

size_t tls_reader_left(const tls_reader *r)
{
    return r->failed ? 0 : (size_t)(r->end - r->p);
}

bool tls_reader_done(const tls_reader *r)
{
    return !r->failed && r->p == r->end;
}

bool tls_reader_failed(const tls_reader *r)
{
    return r->failed;
}

/* The single place that decides whether n more bytes may be consumed. */
static bool take(tls_reader *r, size_t n, const uint8_t **out)
{
    if (r->failed || (size_t)(r->end - r->p) < n) {
        r->failed = true;
        return false;
    }
    *out = r->p;
    r->p += n;
    return true;
}

bool tls_read_u8(tls_reader *r, uint8_t *out)
{
    const uint8_t *p;
    if (!take(r, 1, &p))
        return false;
    *out = p[0];
    return true;
}

bool tls_read_u16(tls_reader *r, uint16_t *out)
{
    const uint8_t *p;
    if (!take(r, 2, &p))
        return false;
    *out = (uint16_t)((p[0] << 8) | p[1]);
    return true;
}

bool tls_read_u24(tls_reader *r, uint32_t *out)
{
    const uint8_t *p;
    if (!take(r, 3, &p))
        return false;
    *out = ((uint32_t)p[0] << 16) | ((uint32_t)p[1] << 8) | p[2];
    return true;
}

bool tls_read_u32(tls_reader *r, uint32_t *out)
{
    const uint8_t *p;
    if (!take(r, 4, &p))
        return false;
    *out = ((uint32_t)p[0] << 24) | ((uint32_t)p[1] << 16) | ((uint32_t)p[2] << 8) | p[3];
    return true;
}

bool tls_read_bytes(tls_reader *r, uint8_t *out, size_t n)
{
    const uint8_t *p;
    if (!take(r, n, &p))
        return false;
    if (n)
        memcpy(out, p, n);
    return true;
}

bool tls_read_slice(tls_reader *r, size_t n, const uint8_t **out)
{
    return take(r, n, out);
}

bool tls_read_skip(tls_reader *r, size_t n)
{
    const uint8_t *p;
    return take(r, n, &p);
}

static bool read_vec(tls_reader *r, size_t len, size_t min, size_t max, tls_reader *body)
{
    const uint8_t *p;
    if (len < min || len > max) {
        r->failed = true;
        body->p = body->end = NULL;
        body->failed = true;
        return false;
    }
    if (!take(r, len, &p)) {
        body->p = body->end = NULL;
        body->failed = true;
        return false;
    }
    tls_reader_init(body, p, len);
    return true;
}

bool tls_read_vec8(tls_reader *r, size_t min, size_t max, tls_reader *body)
{
    uint8_t len = 0;
    if (!tls_read_u8(r, &len))
        return read_vec(r, 0, 1, 0, body);
    return read_vec(r, len, min, max, body);
}

bool tls_read_vec16(tls_reader *r, size_t min, size_t max, tls_reader *body)
{
    uint16_t len = 0;
    if (!tls_read_u16(r, &len))
        return read_vec(r, 0, 1, 0, body);
    return read_vec(r, len, min, max, body);
}

bool tls_read_vec24(tls_reader *r, size_t min, size_t max, tls_reader *body)
{
    uint32_t len = 0;
    if (!tls_read_u24(r, &len))
        return read_vec(r, 0, 1, 0, body);
    return read_vec(r, len, min, max, body);
}

void tls_read_rest(tls_reader *r, tls_reader *body)
{
    if (r->failed) {
        body->p = body->end = NULL;
        body->failed = true;
        return;
    }
    tls_reader_init(body, r->p, (size_t)(r->end - r->p));
    r->p = r->end;
}

bool tls_read_der(tls_reader *r, uint8_t tag, tls_reader *body)
{
    uint8_t got = 0, first = 0;
    if (!tls_read_u8(r, &got) || got != tag || !tls_read_u8(r, &first))
        return read_vec(r, 0, 1, 0, body);
    size_t len = first;
    if (first & 0x80) {
        /* Long form: 1..3 length bytes, no leading zero, and only for lengths >= 128. */
        size_t n = first & 0x7f;
        uint8_t b = 0;
        if (n == 0 || n > 3)
            return read_vec(r, 0, 1, 0, body);
        len = 0;
        for (size_t i = 0; i < n; i++) {
            if (!tls_read_u8(r, &b) || (i == 0 && b == 0))
                return read_vec(r, 0, 1, 0, body);
            len = len << 8 | b;
        }
        if (len < 0x80)
            return read_vec(r, 0, 1, 0, body);
    }
    return read_vec(r, len, 0, len, body);
}

bool tls_peek_der_tag(const tls_reader *r, uint8_t *tag)
{
    if (r->failed || r->p == r->end)
        return false;
    *tag = r->p[0];
    return true;
}

void tls_writer_init(tls_writer *w, uint8_t *buf, size_t cap)
{
    w->buf = buf;
    w->cap = cap;
    w->len = 0;
    w->failed = false;
    w->depth = 0;
}

bool tls_writer_ok(const tls_writer *w)
{
    return !w->failed && w->depth == 0;
}

uint8_t *tls_write_reserve(tls_writer *w, size_t n)
{
    if (w->failed || w->cap - w->len < n) {
        w->failed = true;
        return NULL;
    }
    uint8_t *p = w->buf + w->len;
    w->len += n;
    return p;
}

static void put_be(uint8_t *p, uint32_t v, int width)
{
    for (int i = width - 1; i >= 0; i--) {
        p[i] = (uint8_t)v;
        v >>= 8;
    }
}

static void write_be(tls_writer *w, uint32_t v, int width)
{
    uint8_t *p = tls_write_reserve(w, (size_t)width);
    if (p)
        put_be(p, v, width);
}

void tls_write_u8(tls_writer *w, uint8_t v)
{
    write_be(w, v, 1);
}
void tls_write_u16(tls_writer *w, uint16_t v)
{
    write_be(w, v, 2);
}
void tls_write_u24(tls_writer *w, uint32_t v)
{
    write_be(w, v, 3);
}
void tls_write_u32(tls_writer *w, uint32_t v)
{
    write_be(w, v, 4);
}

void tls_write_bytes(tls_writer *w, const uint8_t *p, size_t n)
{
    uint8_t *dst = tls_write_reserve(w, n);
    if (dst && n)
        memcpy(dst, p, n);
}

static void vec_begin(tls_writer *w, uint8_t width)
{
    if (w->depth >= TLS_WRITER_MAX_DEPTH) {
        w->failed = true;
        return;
    }
    size_t at = w->len;
    if (!tls_write_reserve(w, width))
        return;
    w->open_at[w->depth] = at;
    w->open_width[w->depth] = width;
    w->depth++;
}

void tls_write_vec8_begin(tls_writer *w)
{
    vec_begin(w, 1);
}
void tls_write_vec16_begin(tls_writer *w)
{
    vec_begin(w, 2);
}
void tls_write_vec24_begin(tls_writer *w)
{
    vec_begin(w, 3);
}

void tls_writer_end(tls_writer *w)
{
    if (w->depth <= 0) {
        w->failed = true;
        return;
    }
    w->depth--;
    if (w->failed)
        return;
    size_t at = w->open_at[w->depth];
    int width = w->open_width[w->depth];
    size_t body = w->len - at - (size_t)width;
    if (body >> (8 * width)) {
        w->failed = true;
        return;
    }
    put_be(w->buf + at, (uint32_t)body, width);
}

void tls_write_vec8(tls_writer *w, const uint8_t *p, size_t n)
{
    tls_write_vec8_begin(w);
    tls_write_bytes(w, p, n);
    tls_writer_end(w);
}

void tls_write_vec16(tls_writer *w, const uint8_t *p, size_t n)
{
    tls_write_vec16_begin(w);
    tls_write_bytes(w, p, n);
    tls_writer_end(w);
}
