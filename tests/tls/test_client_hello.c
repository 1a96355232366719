/*
 * test_client_hello.c — unit tests for tls/msgs/client_hello.c: tls__client_hello_parse and
 * tls__client_hello_key_share.
 *
 * Most cases start from one valid hello made by the builder below (hello_default) and apply
 * exactly one mutation to it: an extension body replaced, an extension moved or repeated, a
 * length field patched, a byte appended. The builder records where it put every field, so
 * valid cases check that each tls_slice points at exactly the bytes it should (pointer and
 * contents), not merely at equal bytes somewhere. Every parse runs over an exactly sized heap
 * copy of the message, so ASan reports any read past its end.
 *
 * Two real hellos from RFC 8448 are checked too: §3's (no PSK) and §4's resumption hello,
 * whose "ClientHello prefix" given by the RFC fixes where psk_binders_offset must point.
 * They are kept inline as hex rather than under tests/vectors/ because this suite is
 * changed alone (one file) while other files are being edited; moving them is mechanical.
 */
#include "tests/lib/unit.h"
#include "tls/msgs/msgs.h"

#include <ctype.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define assert_tls_err(got, want)                                                                  \
    do {                                                                                           \
        tls_error got_ = (got), want_ = (want);                                                    \
        ck_assert_msg(got_ == want_, "got %s, want %s", tls_error_name(got_),                      \
                      tls_error_name(want_));                                                      \
    } while (0)

enum {
    GROUP_X25519 = 0x001d,
    GROUP_SECP256R1 = 0x0017,
    GROUP_SECP384R1 = 0x0018,
    EXT_GREASE = 0x7a7a,
};

/* ---- hello builder ---------------------------------------------------------------------- */

#define MAX_EXTS 24
#define EXT_BODY_MAX 1024
#define WIRE_MAX 16384

typedef struct {
    uint16_t type;
    size_t len;
    uint8_t body[EXT_BODY_MAX];
} hello_ext;

/* A ClientHello as fields; hello_encode turns it into wire bytes. */
typedef struct {
    uint16_t legacy_version;
    uint8_t random[32];
    size_t session_id_len;
    uint8_t session_id[64];
    size_t suites_len;
    uint8_t suites[64];
    size_t compression_len;
    uint8_t compression[8];
    bool omit_extensions; /* no extensions block at all, not even its length */
    size_t n_exts;
    hello_ext exts[MAX_EXTS];
    size_t trailing_len; /* bytes after the extensions block */
    uint8_t trailing[8];
} hello_spec;

/* The encoded body and where the builder put things (offsets into msg). */
typedef struct {
    uint8_t *msg; /* exactly len bytes, malloc'd: ASan catches any over-read */
    size_t len;
    size_t compression_end;  /* just past the compression methods */
    size_t exts_len_at;      /* the extensions block's u16 length */
    size_t ext_at[MAX_EXTS]; /* each extension's type field */
} hello_wire;

static const uint8_t x25519_share[32] = {
    0xa0, 0xa1, 0xa2, 0xa3, 0xa4, 0xa5, 0xa6, 0xa7, 0xa8, 0xa9, 0xaa, 0xab, 0xac, 0xad, 0xae, 0xaf,
    0xb0, 0xb1, 0xb2, 0xb3, 0xb4, 0xb5, 0xb6, 0xb7, 0xb8, 0xb9, 0xba, 0xbb, 0xbc, 0xbd, 0xbe, 0xbf,
};
static const uint8_t psk_identity[8] = {'t', 'i', 'c', 'k', 'e', 't', '-', '1'};
static const uint8_t cookie_bytes[16] = {0xc0, 0xc1, 0xc2, 0xc3, 0xc4, 0xc5, 0xc6, 0xc7,
                                         0xc8, 0xc9, 0xca, 0xcb, 0xcc, 0xcd, 0xce, 0xcf};

static size_t spec_index(const hello_spec *s, uint16_t type)
{
    for (size_t i = 0; i < s->n_exts; i++)
        if (s->exts[i].type == type)
            return i;
    ck_abort_msg("extension %#x not in the hello", (unsigned)type);
    return 0;
}

static void spec_insert(hello_spec *s, size_t at, uint16_t type, const uint8_t *body, size_t len)
{
    ck_assert_uint_lt(s->n_exts, MAX_EXTS);
    ck_assert_uint_le(at, s->n_exts);
    ck_assert_uint_le(len, EXT_BODY_MAX);
    memmove(&s->exts[at + 1], &s->exts[at], (s->n_exts - at) * sizeof s->exts[0]);
    s->n_exts++;
    s->exts[at].type = type;
    s->exts[at].len = len;
    if (len)
        memcpy(s->exts[at].body, body, len);
}

static void spec_remove(hello_spec *s, uint16_t type)
{
    size_t i = spec_index(s, type);
    memmove(&s->exts[i], &s->exts[i + 1], (s->n_exts - i - 1) * sizeof s->exts[0]);
    s->n_exts--;
}

/* Replaces the body of the (single) extension of this type. */
static void spec_set(hello_spec *s, uint16_t type, const uint8_t *body, size_t len)
{
    hello_ext *e = &s->exts[spec_index(s, type)];
    ck_assert_uint_le(len, EXT_BODY_MAX);
    e->len = len;
    if (len)
        memcpy(e->body, body, len);
}

/* Body writers: open a writer over an extension's body, then record its length. */
static hello_ext *ext_begin(hello_spec *s, uint16_t type, tls_writer *w)
{
    hello_ext *e = &s->exts[spec_index(s, type)];
    tls_writer_init(w, e->body, sizeof e->body);
    return e;
}

static void ext_end(hello_ext *e, const tls_writer *w)
{
    ck_assert(tls_writer_ok(w));
    e->len = w->len;
}

/* server_name with a single host_name entry (RFC 6066 §3). */
static void set_host_name(hello_spec *s, const void *name, size_t n)
{
    tls_writer w;
    hello_ext *e = ext_begin(s, TLS_EXT_SERVER_NAME, &w);
    tls_write_vec16_begin(&w);
    tls_write_u8(&w, 0);
    tls_write_vec16(&w, name, n);
    tls_writer_end(&w);
    ext_end(e, &w);
}

/* pre_shared_key with n_ids copies of psk_identity and n_binders binders of binder_len. */
static void set_psk(hello_spec *s, size_t n_ids, size_t n_binders, size_t binder_len)
{
    tls_writer w;
    uint8_t binder[255];
    hello_ext *e = ext_begin(s, TLS_EXT_PRE_SHARED_KEY, &w);

    tls_write_vec16_begin(&w);
    for (size_t i = 0; i < n_ids; i++) {
        tls_write_vec16(&w, psk_identity, sizeof psk_identity);
        tls_write_u32(&w, 0x01020304 + (uint32_t)i);
    }
    tls_writer_end(&w);
    tls_write_vec16_begin(&w);
    for (size_t i = 0; i < n_binders; i++) {
        memset(binder, 0xe0 + (int)i, sizeof binder);
        tls_write_vec8(&w, binder, binder_len);
    }
    tls_writer_end(&w);
    ext_end(e, &w);
}

/* The valid hello every case starts from. */
static void hello_default(hello_spec *s)
{
    static const uint8_t suites[] = {0x13, 0x01, 0x13, 0x02, 0x13, 0x03};
    static const uint8_t alpn_h2[] = {'h', '2'},
                         alpn_h11[] = {'h', 't', 't', 'p', '/', '1', '.', '1'};
    static const uint16_t exts[] = {
        TLS_EXT_SERVER_NAME,
        TLS_EXT_SUPPORTED_VERSIONS,
        TLS_EXT_SUPPORTED_GROUPS,
        TLS_EXT_SIGNATURE_ALGORITHMS,
        TLS_EXT_SIGNATURE_ALGORITHMS_CERT,
        TLS_EXT_KEY_SHARE,
        TLS_EXT_PSK_KEY_EXCHANGE_MODES,
        TLS_EXT_ALPN,
        TLS_EXT_COOKIE,
        TLS_EXT_EARLY_DATA,
        TLS_EXT_PADDING,
        EXT_GREASE,
        TLS_EXT_PRE_SHARED_KEY,
    };
    tls_writer w;
    hello_ext *e;

    memset(s, 0, sizeof *s);
    s->legacy_version = 0x0303;
    for (size_t i = 0; i < sizeof s->random; i++)
        s->random[i] = (uint8_t)(0x10 + i);
    s->session_id_len = 32;
    for (size_t i = 0; i < s->session_id_len; i++)
        s->session_id[i] = (uint8_t)(0x50 + i);
    memcpy(s->suites, suites, sizeof suites);
    s->suites_len = sizeof suites;
    s->compression_len = 1; /* [null] */
    for (size_t i = 0; i < sizeof exts / sizeof exts[0]; i++)
        spec_insert(s, s->n_exts, exts[i], NULL, 0);

    set_host_name(s, "example.com", 11);

    e = ext_begin(s, TLS_EXT_SUPPORTED_VERSIONS, &w);
    tls_write_vec8_begin(&w);
    tls_write_u16(&w, 0x0304);
    tls_write_u16(&w, 0x0303);
    tls_writer_end(&w);
    ext_end(e, &w);

    e = ext_begin(s, TLS_EXT_SUPPORTED_GROUPS, &w);
    tls_write_vec16_begin(&w);
    tls_write_u16(&w, GROUP_X25519);
    tls_write_u16(&w, GROUP_SECP256R1);
    tls_writer_end(&w);
    ext_end(e, &w);

    e = ext_begin(s, TLS_EXT_SIGNATURE_ALGORITHMS, &w);
    tls_write_vec16_begin(&w);
    tls_write_u16(&w, 0x0403); /* ecdsa_secp256r1_sha256 */
    tls_write_u16(&w, 0x0804); /* rsa_pss_rsae_sha256 */
    tls_write_u16(&w, 0x0401); /* rsa_pkcs1_sha256 */
    tls_writer_end(&w);
    ext_end(e, &w);

    e = ext_begin(s, TLS_EXT_SIGNATURE_ALGORITHMS_CERT, &w);
    tls_write_vec16_begin(&w);
    tls_write_u16(&w, 0x0403);
    tls_write_u16(&w, 0x0401);
    tls_writer_end(&w);
    ext_end(e, &w);

    e = ext_begin(s, TLS_EXT_KEY_SHARE, &w);
    tls_write_vec16_begin(&w);
    tls_write_u16(&w, GROUP_X25519);
    tls_write_vec16(&w, x25519_share, sizeof x25519_share);
    tls_writer_end(&w);
    ext_end(e, &w);

    e = ext_begin(s, TLS_EXT_PSK_KEY_EXCHANGE_MODES, &w);
    tls_write_vec8_begin(&w);
    tls_write_u8(&w, 1); /* psk_dhe_ke */
    tls_writer_end(&w);
    ext_end(e, &w);

    e = ext_begin(s, TLS_EXT_ALPN, &w);
    tls_write_vec16_begin(&w);
    tls_write_vec8(&w, alpn_h2, sizeof alpn_h2);
    tls_write_vec8(&w, alpn_h11, sizeof alpn_h11);
    tls_writer_end(&w);
    ext_end(e, &w);

    e = ext_begin(s, TLS_EXT_COOKIE, &w);
    tls_write_vec16(&w, cookie_bytes, sizeof cookie_bytes);
    ext_end(e, &w);

    /* early_data: empty body, already so. padding: zeros (RFC 7685). */
    e = ext_begin(s, TLS_EXT_PADDING, &w);
    for (int i = 0; i < 16; i++)
        tls_write_u8(&w, 0);
    ext_end(e, &w);

    e = ext_begin(s, EXT_GREASE, &w);
    tls_write_u8(&w, 0xde);
    tls_write_u8(&w, 0xad);
    ext_end(e, &w);

    set_psk(s, 1, 1, 32);
}

static void hello_encode(const hello_spec *s, hello_wire *out)
{
    static uint8_t buf[WIRE_MAX];
    tls_writer w;

    memset(out, 0, sizeof *out);
    tls_writer_init(&w, buf, sizeof buf);
    tls_write_u16(&w, s->legacy_version);
    tls_write_bytes(&w, s->random, sizeof s->random);
    tls_write_vec8(&w, s->session_id, s->session_id_len);
    tls_write_vec16(&w, s->suites, s->suites_len);
    tls_write_vec8(&w, s->compression, s->compression_len);
    out->compression_end = w.len;
    if (!s->omit_extensions) {
        out->exts_len_at = w.len;
        tls_write_vec16_begin(&w);
        for (size_t i = 0; i < s->n_exts; i++) {
            out->ext_at[i] = w.len;
            tls_write_u16(&w, s->exts[i].type);
            tls_write_vec16(&w, s->exts[i].body, s->exts[i].len);
        }
        tls_writer_end(&w);
    }
    tls_write_bytes(&w, s->trailing, s->trailing_len);
    ck_assert(tls_writer_ok(&w));

    out->len = w.len;
    out->msg = malloc(out->len);
    ck_assert_ptr_nonnull(out->msg);
    memcpy(out->msg, buf, out->len);
}

static void wire_free(hello_wire *w)
{
    free(w->msg);
    w->msg = NULL;
}

/* Where extension `type`'s body starts in the encoded message. */
static const uint8_t *wire_body(const hello_wire *w, const hello_spec *s, uint16_t type)
{
    return w->msg + w->ext_at[spec_index(s, type)] + 4;
}

static uint16_t get16(const uint8_t *p)
{
    return (uint16_t)(p[0] << 8 | p[1]);
}

static void put16(uint8_t *p, size_t v)
{
    p[0] = (uint8_t)(v >> 8);
    p[1] = (uint8_t)v;
}

/* Encodes s, parses it and checks the result is exactly `want`. */
static void assert_parse(const hello_spec *s, tls_error want)
{
    hello_wire w;
    tls_client_hello ch;

    hello_encode(s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), want);
    wire_free(&w);
}

/* Parses the first n bytes of msg from an exactly sized copy. */
static tls_error parse_prefix(const uint8_t *msg, size_t n, tls_client_hello *ch)
{
    uint8_t *copy = malloc(n ? n : 1);
    ck_assert_ptr_nonnull(copy);
    if (n)
        memcpy(copy, msg, n);
    tls_error err = tls__client_hello_parse(copy, n, ch);
    free(copy);
    return err;
}

static size_t hex_decode(const char *hex, uint8_t *out, size_t cap)
{
    size_t n = 0;
    unsigned hi = 0;
    bool have_hi = false;

    for (const char *c = hex; *c; c++) {
        if (isspace((unsigned char)*c))
            continue;
        ck_assert(isxdigit((unsigned char)*c));
        unsigned v = (unsigned)(isdigit((unsigned char)*c) ? *c - '0' : (tolower(*c) - 'a' + 10));
        if (!have_hi) {
            hi = v;
            have_hi = true;
            continue;
        }
        ck_assert_uint_lt(n, cap);
        out[n++] = (uint8_t)(hi << 4 | v);
        have_hi = false;
    }
    ck_assert(!have_hi);
    return n;
}

/* ---- RFC 8448 vectors -------------------------------------------------------------------- */

/* §3 "{client} construct a ClientHello handshake message" (196 octets, header included). */
static const char rfc8448_simple_hello[] =
    "01 00 00 c0 03 03 66 60 26 1f f9 47 ce"
    "a4 9c ce 6c fa d6 87 f4 57 cf 1b 14 53 1b a1 41 31 a0 e8 f3 09"
    "a1 d0 b9 c4 00 00 06 13 01 13 03 13 02 01 00 00 91 00 00 00 0b"
    "00 09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 14 00"
    "12 00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 23"
    "00 00 00 33 00 26 00 24 00 1d 00 20 4c fd fc d1 78 b7 84 bf 32"
    "8c ae 79 3b 13 6f 2a ed ce 00 5f f1 83 d7 bb 14 95 20 72 36 64"
    "70 37 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03"
    "02 03 08 04 08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02 06"
    "02 02 02 00 2d 00 02 01 01 00 1c 00 02 40 01";

/* The random of that hello (bytes 6..37 of the message as the RFC prints it). */
static const char rfc8448_simple_random[] = "66 60 26 1f f9 47 ce a4 9c ce 6c fa d6 87 f4 57"
                                            "cf 1b 14 53 1b a1 41 31 a0 e8 f3 09 a1 d0 b9 c4";

/* §3 "{client} create an ephemeral x25519 key pair": public key. */
static const char rfc8448_simple_x25519_pub[] =
    "4c fd fc d1 78 b7 84 bf 32 8c ae 79 3b 13"
    "6f 2a ed ce 00 5f f1 83 d7 bb 14 95 20 72 36 64 70 37";

/* §4 "{client} send handshake record": the resumption hello (512 octets, header included). */
static const char rfc8448_resumed_hello[] =
    "01 00 01 fc 03 03 75 0e 18 4c 0c 28 d3 65"
    "ff ab 68 b7 4c b2 02 fd b4 95 ad 19 f5 27 c6 e6 ce be c3 5b 44"
    "3b 9b 35 00 00 06 13 01 13 03 13 02 01 00 01 cd 00 00 00 0b 00"
    "09 00 00 06 73 65 72 76 65 72 ff 01 00 01 00 00 0a 00 14 00 12"
    "00 1d 00 17 00 18 00 19 01 00 01 01 01 02 01 03 01 04 00 33 00"
    "26 00 24 00 1d 00 20 58 39 e3 2b 2b 0e 47 21 1f f3 09 8d 99 8e"
    "d0 37 9a 07 b2 99 b8 46 58 5b 7f ab 62 c6 13 57 d1 74 00 2a 00"
    "00 00 2b 00 03 02 03 04 00 0d 00 20 00 1e 04 03 05 03 06 03 02"
    "03 08 04 08 05 08 06 04 01 05 01 06 01 02 01 04 02 05 02 06 02"
    "02 02 00 2d 00 02 01 01 00 1c 00 02 40 01 00 15 00 57 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00 00"
    "00 29 00 dd 00 b8 00 b2 f3 5e da e4 e6 04 04 d6 f4 0f a1 7f 00"
    "00 00 00 83 93 d1 63 fb 4f 5f 10 5f e2 05 6c ae b3 2a c7 00 70"
    "70 04 59 31 02 6d b0 7d 58 dd 58 09 0d 62 9a f5 9e cb 7f ba 35"
    "3d 5d 96 53 a7 08 fb cf 0f 51 5c 1b 82 db 6b 08 97 71 79 df c6"
    "84 d2 2f cf 7b d5 c1 22 22 ab 63 ff d9 d2 bc 46 17 6d 14 4a e9"
    "8a d9 34 16 89 48 22 ac 50 64 06 5f 92 99 5a 6f 05 2f a3 a7 31"
    "70 36 57 81 7e a7 a8 de 73 14 86 61 76 8f 7f 62 09 8f b4 5c 0a"
    "9d de 04 a9 cf 1a a4 20 6f 13 dd 05 5d f3 ed 5f a6 81 bb f8 76"
    "e3 62 ad 9c 0a 68 d2 b5 26 6c 79 aa 80 6c bf e6 11 3b 93 3d 09"
    "37 00 21 20 71 8c d8 f2 2e 8e d7 1d 1a 23 f7 c8 8f 63 d4 54 87"
    "af e5 81 57 cb c5 7e 66 bd 13 23 e4 1a 8c d8";

/* §4 "{client} calculate PSK binder": the binder is computed over a 477-octet prefix of the
 * handshake message, i.e. everything before the binders length field. */
#define RFC8448_RESUMED_PREFIX_LEN 477
/* §4 "finished" of the binder computation: the binder the hello carries. */
static const char rfc8448_resumed_binder[] =
    "71 8c d8 f2 2e 8e d7 1d 1a 23 f7 c8 8f 63"
    "d4 54 87 af e5 81 57 cb c5 7e 66 bd 13 23 e4 1a 8c d8";

/* Decodes a vector's hex, checks and strips the 4-byte handshake header; the body is
 * malloc'd with exactly its length. */
static uint8_t *vector_body(const char *hex, size_t *len)
{
    uint8_t raw[1024];
    size_t n = hex_decode(hex, raw, sizeof raw);

    ck_assert_uint_ge(n, 4);
    ck_assert_uint_eq(raw[0], TLS_HS_CLIENT_HELLO);
    ck_assert_uint_eq((size_t)raw[1] << 16 | (size_t)raw[2] << 8 | raw[3], n - 4);
    uint8_t *body = malloc(n - 4);
    ck_assert_ptr_nonnull(body);
    memcpy(body, raw + 4, n - 4);
    *len = n - 4;
    return body;
}

/* ---- valid hellos ------------------------------------------------------------------------ */

START_TEST(test_client_hello_parse_valid_all_fields)
{
    static const uint8_t versions[] = {0x03, 0x04, 0x03, 0x03};
    static const uint8_t groups[] = {0x00, 0x1d, 0x00, 0x17};
    static const uint8_t sig_algs[] = {0x04, 0x03, 0x08, 0x04, 0x04, 0x01};
    static const uint8_t sig_algs_cert[] = {0x04, 0x03, 0x04, 0x01};
    static const uint8_t alpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;
    const uint8_t *b;

    hello_default(&s);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);

    ck_assert_uint_eq(ch.legacy_version, 0x0303);
    ck_assert_ptr_eq(ch.random, w.msg + 2);
    ck_assert_mem_eq(ch.random, s.random, 32);
    ck_assert_ptr_eq(ch.session_id.p, w.msg + 35);
    ck_assert_uint_eq(ch.session_id.len, 32);
    ck_assert_mem_eq(ch.session_id.p, s.session_id, 32);
    ck_assert_ptr_eq(ch.cipher_suites.p, w.msg + 35 + 32 + 2);
    ck_assert_uint_eq(ch.cipher_suites.len, s.suites_len);
    ck_assert_mem_eq(ch.cipher_suites.p, s.suites, s.suites_len);
    ck_assert(ch.null_compression_only);
    ck_assert(ch.null_compression_offered);
    ck_assert(ch.has_extensions);

    ck_assert(ch.has_server_name);
    ck_assert_str_eq(ch.server_name, "example.com");

    ck_assert(ch.has_supported_versions);
    b = wire_body(&w, &s, TLS_EXT_SUPPORTED_VERSIONS);
    ck_assert_ptr_eq(ch.supported_versions.p, b + 1);
    ck_assert_uint_eq(ch.supported_versions.len, sizeof versions);
    ck_assert_mem_eq(ch.supported_versions.p, versions, sizeof versions);

    ck_assert(ch.has_groups);
    b = wire_body(&w, &s, TLS_EXT_SUPPORTED_GROUPS);
    ck_assert_ptr_eq(ch.groups.p, b + 2);
    ck_assert_uint_eq(ch.groups.len, sizeof groups);
    ck_assert_mem_eq(ch.groups.p, groups, sizeof groups);

    ck_assert(ch.has_sig_algs);
    b = wire_body(&w, &s, TLS_EXT_SIGNATURE_ALGORITHMS);
    ck_assert_ptr_eq(ch.sig_algs.p, b + 2);
    ck_assert_uint_eq(ch.sig_algs.len, sizeof sig_algs);
    ck_assert_mem_eq(ch.sig_algs.p, sig_algs, sizeof sig_algs);

    ck_assert(ch.has_sig_algs_cert);
    b = wire_body(&w, &s, TLS_EXT_SIGNATURE_ALGORITHMS_CERT);
    ck_assert_ptr_eq(ch.sig_algs_cert.p, b + 2);
    ck_assert_uint_eq(ch.sig_algs_cert.len, sizeof sig_algs_cert);
    ck_assert_mem_eq(ch.sig_algs_cert.p, sig_algs_cert, sizeof sig_algs_cert);

    ck_assert(ch.has_key_share);
    b = wire_body(&w, &s, TLS_EXT_KEY_SHARE);
    ck_assert_ptr_eq(ch.key_shares.p, b + 2);
    ck_assert_uint_eq(ch.key_shares.len, 2 + 2 + 32);
    ck_assert_uint_eq(get16(ch.key_shares.p), GROUP_X25519);
    ck_assert_uint_eq(get16(ch.key_shares.p + 2), 32);
    ck_assert_mem_eq(ch.key_shares.p + 4, x25519_share, 32);

    ck_assert(ch.has_psk_modes);
    b = wire_body(&w, &s, TLS_EXT_PSK_KEY_EXCHANGE_MODES);
    ck_assert_ptr_eq(ch.psk_modes.p, b + 1);
    ck_assert_uint_eq(ch.psk_modes.len, 1);
    ck_assert_uint_eq(ch.psk_modes.p[0], 1);

    ck_assert(ch.has_alpn);
    b = wire_body(&w, &s, TLS_EXT_ALPN);
    ck_assert_ptr_eq(ch.alpn.p, b + 2);
    ck_assert_uint_eq(ch.alpn.len, sizeof alpn);
    ck_assert_mem_eq(ch.alpn.p, alpn, sizeof alpn);

    ck_assert(ch.has_cookie);
    b = wire_body(&w, &s, TLS_EXT_COOKIE);
    ck_assert_ptr_eq(ch.cookie.p, b + 2);
    ck_assert_uint_eq(ch.cookie.len, sizeof cookie_bytes);
    ck_assert_mem_eq(ch.cookie.p, cookie_bytes, sizeof cookie_bytes);

    ck_assert(ch.has_early_data);

    ck_assert(ch.has_psk);
    b = wire_body(&w, &s, TLS_EXT_PRE_SHARED_KEY);
    size_t ids_len = 2 + sizeof psk_identity + 4;
    ck_assert_ptr_eq(ch.psk_identities.p, b + 2);
    ck_assert_uint_eq(ch.psk_identities.len, ids_len);
    ck_assert_uint_eq(get16(ch.psk_identities.p), sizeof psk_identity);
    ck_assert_mem_eq(ch.psk_identities.p + 2, psk_identity, sizeof psk_identity);
    ck_assert_ptr_eq(ch.psk_binders.p, b + 2 + ids_len + 2);
    ck_assert_uint_eq(ch.psk_binders.len, 1 + 32);
    ck_assert_uint_eq(ch.psk_binders.p[0], 32);
    ck_assert_uint_eq(ch.psk_binders_offset, (size_t)(b - w.msg) + 2 + ids_len);

    /* Extensions the hello does not carry stay absent. */
    ck_assert(!ch.has_extended_master_secret);
    ck_assert(!ch.has_renegotiation_info);
    ck_assert(!ch.has_session_ticket);
    ck_assert(!ch.has_status_request);
    ck_assert(!ch.has_sct);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_empty_session_id)
{
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    s.session_id_len = 0;
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert_uint_eq(ch.session_id.len, 0);
    ck_assert_ptr_eq(ch.cipher_suites.p, w.msg + 35 + 2);
    ck_assert_mem_eq(ch.cipher_suites.p, s.suites, s.suites_len);
    ck_assert_str_eq(ch.server_name, "example.com");
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_compression_null_among_others)
{
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    s.compression[0] = 1; /* DEFLATE, then null */
    s.compression[1] = 0;
    s.compression_len = 2;
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert(!ch.null_compression_only);
    ck_assert(ch.null_compression_offered);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_lowercased_trailing_dot_removed)
{
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    set_host_name(&s, "WWW.Ex-am_ple.COM.", 18);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert(ch.has_server_name);
    ck_assert_str_eq(ch.server_name, "www.ex-am_ple.com");
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_ipv4_literal_is_no_name)
{
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    set_host_name(&s, "192.0.2.1", 9);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert(ch.has_server_name);
    ck_assert_str_eq(ch.server_name, "");
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_ipv6_literal_is_no_name)
{
    static const char *const literals[] = {"::1", "2001:db8::1", "[::1]", "::ffff:192.0.2.1"};
    for (size_t i = 0; i < sizeof literals / sizeof literals[0]; i++) {
        hello_spec s;
        hello_wire w;
        tls_client_hello ch;

        hello_default(&s);
        set_host_name(&s, literals[i], strlen(literals[i]));
        hello_encode(&s, &w);
        assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
        ck_assert(ch.has_server_name);
        ck_assert_str_eq(ch.server_name, "");
        wire_free(&w);
    }
}
END_TEST

START_TEST(test_client_hello_parse_server_name_colon_in_host_name_rejected)
{
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    set_host_name(&s, "example.com:443", 15);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_ERR_ILLEGAL_PARAMETER);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_255_bytes)
{
    char name[255];
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    memset(name, 'a', sizeof name);
    for (size_t i = 63; i < sizeof name; i += 64)
        name[i] = '.';
    hello_default(&s);
    set_host_name(&s, name, sizeof name);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert_uint_eq(strlen(ch.server_name), sizeof name);
    ck_assert_mem_eq(ch.server_name, name, sizeof name);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_unknown_name_type_skipped)
{
    /* name_type 1 (not host_name) before the host_name entry. */
    static const uint8_t body[] = {0x00, 0x0b, 0x01, 0x00, 0x01, 'x', 0x00,
                                   0x00, 0x04, 'h',  'o',  's',  't'};
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SERVER_NAME, body, sizeof body);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert_str_eq(ch.server_name, "host");
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_unknown_extensions_ignored)
{
    /* Unknown types with bodies no known extension would accept. */
    static const uint8_t junk[] = {0xff, 0xff, 0xff};
    hello_spec s;
    hello_wire w, plain_w;
    tls_client_hello ch, plain;

    hello_default(&s);
    spec_remove(&s, EXT_GREASE);
    hello_encode(&s, &plain_w);
    assert_tls_err(tls__client_hello_parse(plain_w.msg, plain_w.len, &plain), TLS_OK);

    spec_insert(&s, 0, EXT_GREASE, junk, sizeof junk);
    spec_insert(&s, 3, 0xfe0d, junk, sizeof junk);
    spec_insert(&s, 5, 0x4469, NULL, 0);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert_str_eq(ch.server_name, plain.server_name);
    ck_assert(ch.has_groups && ch.has_sig_algs && ch.has_key_share && ch.has_alpn && ch.has_psk);
    ck_assert_uint_eq(ch.groups.len, plain.groups.len);
    ck_assert_mem_eq(ch.groups.p, plain.groups.p, plain.groups.len);
    ck_assert_uint_eq(ch.key_shares.len, plain.key_shares.len);
    ck_assert_mem_eq(ch.key_shares.p, plain.key_shares.p, plain.key_shares.len);
    ck_assert_uint_eq(ch.psk_binders_offset, plain.psk_binders_offset + 2 * (4 + 3) + 4);
    wire_free(&w);
    wire_free(&plain_w);
}
END_TEST

START_TEST(test_client_hello_parse_no_extensions_block)
{
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    s.omit_extensions = true;
    hello_encode(&s, &w);
    ck_assert_uint_eq(w.len, w.compression_end);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert(!ch.has_extensions);
    ck_assert_uint_eq(ch.legacy_version, 0x0303);
    ck_assert_mem_eq(ch.cipher_suites.p, s.suites, s.suites_len);
    ck_assert(ch.null_compression_only);
    ck_assert(!ch.has_server_name && !ch.has_supported_versions && !ch.has_key_share &&
              !ch.has_psk);
    ck_assert_str_eq(ch.server_name, "");
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_empty_extensions_block)
{
    /* TLS 1.2 allows extensions<0..2^16-1>; the parser accepts an empty block. */
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    s.n_exts = 0;
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert(ch.has_extensions);
    ck_assert(!ch.has_supported_versions);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_key_share_empty_list)
{
    /* RFC 8446 §4.2.8: client_shares<0..2^16-1>; empty asks for a HelloRetryRequest. */
    static const uint8_t body[] = {0x00, 0x00};
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;
    tls_slice share;

    hello_default(&s);
    spec_set(&s, TLS_EXT_KEY_SHARE, body, sizeof body);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert(ch.has_key_share);
    ck_assert_uint_eq(ch.key_shares.len, 0);
    ck_assert(!tls__client_hello_key_share(&ch, GROUP_X25519, &share));
    wire_free(&w);
}
END_TEST

/* ---- tls__client_hello_key_share ------------------------------------------------------------ */

/* key_share with x25519, then a 65-byte secp256r1 share. */
static void set_two_key_shares(hello_spec *s, uint8_t *p256)
{
    tls_writer w;
    hello_ext *e = ext_begin(s, TLS_EXT_KEY_SHARE, &w);

    p256[0] = 0x04;
    for (size_t i = 1; i < 65; i++)
        p256[i] = (uint8_t)(0x30 + i);
    tls_write_vec16_begin(&w);
    tls_write_u16(&w, GROUP_X25519);
    tls_write_vec16(&w, x25519_share, sizeof x25519_share);
    tls_write_u16(&w, GROUP_SECP256R1);
    tls_write_vec16(&w, p256, 65);
    tls_writer_end(&w);
    ext_end(e, &w);
}

START_TEST(test_client_hello_key_share_finds_group)
{
    uint8_t p256[65];
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;
    tls_slice share;

    hello_default(&s);
    set_two_key_shares(&s, p256);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    const uint8_t *b = wire_body(&w, &s, TLS_EXT_KEY_SHARE);

    ck_assert(tls__client_hello_key_share(&ch, GROUP_X25519, &share));
    ck_assert_ptr_eq(share.p, b + 2 + 4);
    ck_assert_uint_eq(share.len, 32);
    ck_assert_mem_eq(share.p, x25519_share, 32);

    ck_assert(tls__client_hello_key_share(&ch, GROUP_SECP256R1, &share));
    ck_assert_ptr_eq(share.p, b + 2 + 4 + 32 + 4);
    ck_assert_uint_eq(share.len, 65);
    ck_assert_mem_eq(share.p, p256, 65);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_key_share_absent_group)
{
    uint8_t p256[65];
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;
    tls_slice share = {NULL, 12345};

    hello_default(&s);
    set_two_key_shares(&s, p256);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert(!tls__client_hello_key_share(&ch, GROUP_SECP384R1, &share));
    ck_assert(!tls__client_hello_key_share(&ch, 0x0000, &share));
    ck_assert_ptr_null(share.p);
    ck_assert_uint_eq(share.len, 12345);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_key_share_no_extension)
{
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;
    tls_slice share;

    hello_default(&s);
    spec_remove(&s, TLS_EXT_KEY_SHARE);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert(!ch.has_key_share);
    ck_assert(!tls__client_hello_key_share(&ch, GROUP_X25519, &share));
    wire_free(&w);
}
END_TEST

/* ---- RFC 8448 ------------------------------------------------------------------------------- */

START_TEST(test_client_hello_parse_rfc8448_simple)
{
    static const uint8_t suites[] = {0x13, 0x01, 0x13, 0x03, 0x13, 0x02};
    static const uint8_t groups[] = {0x00, 0x1d, 0x00, 0x17, 0x00, 0x18, 0x00, 0x19, 0x01,
                                     0x00, 0x01, 0x01, 0x01, 0x02, 0x01, 0x03, 0x01, 0x04};
    static const uint8_t sig_algs[] = {0x04, 0x03, 0x05, 0x03, 0x06, 0x03, 0x02, 0x03, 0x08, 0x04,
                                       0x08, 0x05, 0x08, 0x06, 0x04, 0x01, 0x05, 0x01, 0x06, 0x01,
                                       0x02, 0x01, 0x04, 0x02, 0x05, 0x02, 0x06, 0x02, 0x02, 0x02};
    static const uint8_t versions[] = {0x03, 0x04};
    uint8_t pub[32], random[32];
    size_t len;
    tls_client_hello ch;
    tls_slice share;
    uint8_t *body = vector_body(rfc8448_simple_hello, &len);

    ck_assert_uint_eq(hex_decode(rfc8448_simple_x25519_pub, pub, sizeof pub), 32);
    ck_assert_uint_eq(len, 192);
    assert_tls_err(tls__client_hello_parse(body, len, &ch), TLS_OK);

    ck_assert_uint_eq(ch.legacy_version, 0x0303);
    ck_assert_ptr_eq(ch.random, body + 2);
    ck_assert_uint_eq(hex_decode(rfc8448_simple_random, random, sizeof random), 32);
    ck_assert_mem_eq(ch.random, random, 32);
    ck_assert_uint_eq(ch.session_id.len, 0);
    ck_assert_uint_eq(ch.cipher_suites.len, sizeof suites);
    ck_assert_mem_eq(ch.cipher_suites.p, suites, sizeof suites);
    ck_assert(ch.null_compression_only);
    ck_assert(ch.has_extensions);

    ck_assert(ch.has_server_name);
    ck_assert_str_eq(ch.server_name, "server");
    ck_assert(ch.has_renegotiation_info);
    ck_assert_uint_eq(ch.renegotiation_info.len, 0);
    ck_assert(ch.has_groups);
    ck_assert_uint_eq(ch.groups.len, sizeof groups);
    ck_assert_mem_eq(ch.groups.p, groups, sizeof groups);
    ck_assert(ch.has_session_ticket);
    ck_assert_uint_eq(ch.session_ticket.len, 0);
    ck_assert(ch.has_key_share);
    ck_assert_uint_eq(ch.key_shares.len, 36);
    ck_assert(tls__client_hello_key_share(&ch, GROUP_X25519, &share));
    ck_assert_uint_eq(share.len, 32);
    ck_assert_mem_eq(share.p, pub, 32);
    ck_assert(!tls__client_hello_key_share(&ch, GROUP_SECP256R1, &share));
    ck_assert(ch.has_supported_versions);
    ck_assert_uint_eq(ch.supported_versions.len, sizeof versions);
    ck_assert_mem_eq(ch.supported_versions.p, versions, sizeof versions);
    ck_assert(ch.has_sig_algs);
    ck_assert_uint_eq(ch.sig_algs.len, sizeof sig_algs);
    ck_assert_mem_eq(ch.sig_algs.p, sig_algs, sizeof sig_algs);
    ck_assert(ch.has_psk_modes);
    ck_assert_uint_eq(ch.psk_modes.len, 1);
    ck_assert_uint_eq(ch.psk_modes.p[0], 1);

    /* record_size_limit (0x1c) is unknown to the parser and ignored. */
    ck_assert(!ch.has_sig_algs_cert);
    ck_assert(!ch.has_psk);
    ck_assert(!ch.has_early_data);
    ck_assert(!ch.has_alpn);
    ck_assert(!ch.has_cookie);
    ck_assert(!ch.has_extended_master_secret);
    free(body);
}
END_TEST

START_TEST(test_client_hello_parse_rfc8448_resumed_psk)
{
    uint8_t binder[32];
    size_t len;
    tls_client_hello ch;
    uint8_t *body = vector_body(rfc8448_resumed_hello, &len);

    ck_assert_uint_eq(hex_decode(rfc8448_resumed_binder, binder, sizeof binder), 32);
    ck_assert_uint_eq(len, 508);
    assert_tls_err(tls__client_hello_parse(body, len, &ch), TLS_OK);

    ck_assert_str_eq(ch.server_name, "server");
    ck_assert(ch.has_early_data);
    ck_assert(ch.has_psk);
    ck_assert_uint_eq(ch.psk_identities.len, 0xb8);
    ck_assert_uint_eq(get16(ch.psk_identities.p), 0xb2);
    ck_assert_uint_eq(ch.psk_identities.p[2], 0xf3); /* first ticket byte */
    /* The RFC's binder prefix is the 4-byte header plus body[0 .. psk_binders_offset). */
    ck_assert_uint_eq(ch.psk_binders_offset + 4, RFC8448_RESUMED_PREFIX_LEN);
    ck_assert_uint_eq(get16(body + ch.psk_binders_offset), 33);
    ck_assert_ptr_eq(ch.psk_binders.p, body + ch.psk_binders_offset + 2);
    ck_assert_uint_eq(ch.psk_binders.len, 33);
    ck_assert_uint_eq(ch.psk_binders.p[0], 32);
    ck_assert_mem_eq(ch.psk_binders.p + 1, binder, 32);
    ck_assert_uint_eq(ch.psk_binders_offset + 2 + 33, len);
    free(body);
}
END_TEST

/* ---- truncation and trailing bytes ------------------------------------------------------- */

/* Every proper prefix fails with TLS_ERR_DECODE, except the one ending right after the
 * compression methods: that is a complete hello without extensions. */
static void assert_every_truncation(const uint8_t *msg, size_t len, size_t compression_end)
{
    tls_client_hello ch;

    for (size_t n = 0; n < len; n++) {
        tls_error err = parse_prefix(msg, n, &ch);
        tls_error want = n == compression_end ? TLS_OK : TLS_ERR_DECODE;
        ck_assert_msg(err == want, "prefix of %zu/%zu bytes: got %s, want %s", n, len,
                      tls_error_name(err), tls_error_name(want));
        if (n == compression_end)
            ck_assert(!ch.has_extensions);
    }
    assert_tls_err(parse_prefix(msg, len, &ch), TLS_OK);
}

START_TEST(test_client_hello_parse_truncated_every_offset)
{
    hello_spec s;
    hello_wire w;

    hello_default(&s);
    hello_encode(&s, &w);
    assert_every_truncation(w.msg, w.len, w.compression_end);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_rfc8448_truncated_every_offset)
{
    size_t len;
    uint8_t *body = vector_body(rfc8448_resumed_hello, &len);

    /* version 2 + random 32 + session id 1 + suites 2+6 + compression 1+1 */
    assert_every_truncation(body, len, 45);
    free(body);
    body = vector_body(rfc8448_simple_hello, &len);
    assert_every_truncation(body, len, 45);
    free(body);
}
END_TEST

START_TEST(test_client_hello_parse_trailing_byte_after_extensions)
{
    hello_spec s;

    hello_default(&s);
    s.trailing_len = 1;
    assert_parse(&s, TLS_ERR_TRAILING_DATA);
}
END_TEST

START_TEST(test_client_hello_parse_one_byte_after_compression)
{
    /* Too short to be an extensions length: a truncation, not trailing data. */
    hello_spec s;

    hello_default(&s);
    s.omit_extensions = true;
    s.trailing_len = 1;
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

/* ---- fixed fields ------------------------------------------------------------------------ */

START_TEST(test_client_hello_parse_session_id_33_bytes)
{
    hello_spec s;

    hello_default(&s);
    s.session_id_len = 33;
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_cipher_suites_empty)
{
    hello_spec s;

    hello_default(&s);
    s.suites_len = 0;
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_cipher_suites_odd_length)
{
    hello_spec s;

    hello_default(&s);
    s.suites_len = 5;
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_compression_empty)
{
    hello_spec s;

    hello_default(&s);
    s.compression_len = 0;
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

/* ---- extensions block -------------------------------------------------------------------- */

START_TEST(test_client_hello_parse_extensions_length_past_end)
{
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    hello_encode(&s, &w);
    put16(w.msg + w.exts_len_at, get16(w.msg + w.exts_len_at) + 1u);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_ERR_DECODE);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_extension_length_past_block_end)
{
    /* supported_groups' length runs one byte past the block, which ends the message. */
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    hello_encode(&s, &w);
    size_t at = w.ext_at[spec_index(&s, TLS_EXT_SUPPORTED_GROUPS)];
    put16(w.msg + at + 2, w.len - (at + 4) + 1);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_ERR_DECODE);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_extension_length_past_block_inside_message)
{
    /* The block is one byte shorter than its extensions, and that byte follows the block:
     * the message has trailing data whatever the last extension's length says. */
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    hello_encode(&s, &w);
    put16(w.msg + w.exts_len_at, get16(w.msg + w.exts_len_at) - 1u);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_ERR_TRAILING_DATA);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_extension_header_truncated_in_block)
{
    /* Three bytes of an extension header close the block. */
    static const uint8_t stub[] = {0x7a};
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    spec_remove(&s, TLS_EXT_PRE_SHARED_KEY);
    spec_insert(&s, s.n_exts, 0x1234, stub, sizeof stub);
    hello_encode(&s, &w);
    /* Drop the last 2 bytes from block and message: the last extension is cut to its type
     * and the first byte of its length. */
    w.len -= 2;
    put16(w.msg + w.exts_len_at, get16(w.msg + w.exts_len_at) - 2u);
    assert_tls_err(parse_prefix(w.msg, w.len, &ch), TLS_ERR_DECODE);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_duplicate_known_extension)
{
    hello_spec s;
    hello_ext *groups;

    hello_default(&s);
    groups = &s.exts[spec_index(&s, TLS_EXT_SUPPORTED_GROUPS)];
    spec_insert(&s, spec_index(&s, EXT_GREASE), TLS_EXT_SUPPORTED_GROUPS, groups->body,
                groups->len);
    assert_parse(&s, TLS_ERR_DUPLICATE_EXTENSION);
}
END_TEST

START_TEST(test_client_hello_parse_duplicate_unknown_extension)
{
    hello_spec s;

    hello_default(&s);
    spec_insert(&s, 0, EXT_GREASE, NULL, 0);
    assert_parse(&s, TLS_ERR_DUPLICATE_EXTENSION);
}
END_TEST

START_TEST(test_client_hello_parse_psk_not_last)
{
    hello_spec s;

    hello_default(&s);
    spec_remove(&s, EXT_GREASE);
    spec_insert(&s, s.n_exts, EXT_GREASE, NULL, 0);
    assert_parse(&s, TLS_ERR_PSK_NOT_LAST);
}
END_TEST

START_TEST(test_client_hello_parse_psk_first)
{
    hello_spec s;
    hello_ext psk;

    hello_default(&s);
    psk = s.exts[spec_index(&s, TLS_EXT_PRE_SHARED_KEY)];
    spec_remove(&s, TLS_EXT_PRE_SHARED_KEY);
    spec_insert(&s, 0, psk.type, psk.body, psk.len);
    assert_parse(&s, TLS_ERR_PSK_NOT_LAST);
}
END_TEST

/* ---- supported_versions, supported_groups, signature_algorithms ---------------------------- */

START_TEST(test_client_hello_parse_supported_versions_odd_length)
{
    static const uint8_t body[] = {0x03, 0x03, 0x04, 0x03};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SUPPORTED_VERSIONS, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_supported_versions_empty)
{
    static const uint8_t body[] = {0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SUPPORTED_VERSIONS, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_supported_versions_no_body)
{
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SUPPORTED_VERSIONS, NULL, 0);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_supported_versions_trailing_bytes)
{
    static const uint8_t body[] = {0x02, 0x03, 0x04, 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SUPPORTED_VERSIONS, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_supported_groups_empty)
{
    static const uint8_t body[] = {0x00, 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SUPPORTED_GROUPS, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_supported_groups_odd_length)
{
    static const uint8_t body[] = {0x00, 0x03, 0x00, 0x1d, 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SUPPORTED_GROUPS, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_supported_groups_trailing_bytes)
{
    static const uint8_t body[] = {0x00, 0x02, 0x00, 0x1d, 0x00, 0x17};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SUPPORTED_GROUPS, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_signature_algorithms_empty)
{
    static const uint8_t body[] = {0x00, 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SIGNATURE_ALGORITHMS, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_signature_algorithms_cert_odd_length)
{
    static const uint8_t body[] = {0x00, 0x01, 0x04};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SIGNATURE_ALGORITHMS_CERT, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

/* ---- key_share ----------------------------------------------------------------------------- */

START_TEST(test_client_hello_parse_key_share_empty_key_exchange)
{
    static const uint8_t body[] = {0x00, 0x04, 0x00, 0x1d, 0x00, 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_KEY_SHARE, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_key_share_same_group_twice)
{
    hello_spec s;
    tls_writer w;
    hello_ext *e;

    hello_default(&s);
    e = ext_begin(&s, TLS_EXT_KEY_SHARE, &w);
    tls_write_vec16_begin(&w);
    tls_write_u16(&w, GROUP_X25519);
    tls_write_vec16(&w, x25519_share, sizeof x25519_share);
    tls_write_u16(&w, GROUP_X25519);
    tls_write_vec16(&w, x25519_share, sizeof x25519_share);
    tls_writer_end(&w);
    ext_end(e, &w);
    assert_parse(&s, TLS_ERR_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hello_parse_key_share_list_shorter_than_extension)
{
    hello_spec s;
    hello_ext *e;

    hello_default(&s);
    e = &s.exts[spec_index(&s, TLS_EXT_KEY_SHARE)];
    put16(e->body, get16(e->body) - 1u);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_key_share_list_longer_than_extension)
{
    hello_spec s;
    hello_ext *e;

    hello_default(&s);
    e = &s.exts[spec_index(&s, TLS_EXT_KEY_SHARE)];
    put16(e->body, get16(e->body) + 1u);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_key_share_trailing_byte_in_extension)
{
    hello_spec s;
    hello_ext *e;

    hello_default(&s);
    e = &s.exts[spec_index(&s, TLS_EXT_KEY_SHARE)];
    e->body[e->len++] = 0x00;
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_key_share_entry_truncated_in_list)
{
    /* list of 3 bytes: a group and one byte of a length */
    static const uint8_t body[] = {0x00, 0x03, 0x00, 0x1d, 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_KEY_SHARE, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

/* ---- server_name --------------------------------------------------------------------------- */

START_TEST(test_client_hello_parse_server_name_empty_list)
{
    static const uint8_t body[] = {0x00, 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SERVER_NAME, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_host_name_empty)
{
    hello_spec s;

    hello_default(&s);
    set_host_name(&s, "", 0);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_only_a_dot)
{
    hello_spec s;

    hello_default(&s);
    set_host_name(&s, ".", 1);
    assert_parse(&s, TLS_ERR_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_two_host_names)
{
    static const uint8_t body[] = {0x00, 0x0f, 0x00, 0x00, 0x04, 'h', 'o', 's', 't',
                                   0x00, 0x00, 0x05, 'o',  't',  'h', 'e', 'r'};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SERVER_NAME, body, sizeof body);
    assert_parse(&s, TLS_ERR_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_nul_byte)
{
    hello_spec s;

    hello_default(&s);
    set_host_name(&s, "exa\0mple.com", 12);
    assert_parse(&s, TLS_ERR_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_space)
{
    hello_spec s;

    hello_default(&s);
    set_host_name(&s, "exa mple.com", 12);
    assert_parse(&s, TLS_ERR_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_slash)
{
    hello_spec s;

    hello_default(&s);
    set_host_name(&s, "example.com/x", 13);
    assert_parse(&s, TLS_ERR_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_256_bytes)
{
    char name[256];
    hello_spec s;

    memset(name, 'a', sizeof name);
    for (size_t i = 63; i < sizeof name; i += 64)
        name[i] = '.';
    name[sizeof name - 1] = 'a'; /* no trailing dot to strip */
    hello_default(&s);
    set_host_name(&s, name, sizeof name);
    assert_parse(&s, TLS_ERR_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_300_bytes)
{
    char name[300];
    hello_spec s;

    memset(name, 'b', sizeof name);
    hello_default(&s);
    set_host_name(&s, name, sizeof name);
    assert_parse(&s, TLS_ERR_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hello_parse_server_name_list_trailing_byte)
{
    static const uint8_t body[] = {0x00, 0x07, 0x00, 0x00, 0x04, 'h', 'o', 's', 't', 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_SERVER_NAME, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

/* ---- ALPN, early_data, cookie, psk_key_exchange_modes -------------------------------------- */

START_TEST(test_client_hello_parse_alpn_empty_protocol_name)
{
    static const uint8_t body[] = {0x00, 0x04, 0x02, 'h', '2', 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_ALPN, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_alpn_empty_list)
{
    static const uint8_t body[] = {0x00, 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_ALPN, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_alpn_name_past_list)
{
    /* The list is 3 bytes; its one name claims 5. */
    static const uint8_t body[] = {0x00, 0x03, 0x05, 'h', '2'};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_ALPN, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_early_data_non_empty)
{
    static const uint8_t body[] = {0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_EARLY_DATA, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_cookie_empty)
{
    static const uint8_t body[] = {0x00, 0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_COOKIE, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_psk_modes_empty)
{
    static const uint8_t body[] = {0x00};
    hello_spec s;

    hello_default(&s);
    spec_set(&s, TLS_EXT_PSK_KEY_EXCHANGE_MODES, body, sizeof body);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

/* ---- pre_shared_key ------------------------------------------------------------------------ */

START_TEST(test_client_hello_parse_psk_more_identities_than_binders)
{
    hello_spec s;

    hello_default(&s);
    set_psk(&s, 2, 1, 32);
    assert_parse(&s, TLS_ERR_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hello_parse_psk_more_binders_than_identities)
{
    hello_spec s;

    hello_default(&s);
    set_psk(&s, 1, 2, 32);
    assert_parse(&s, TLS_ERR_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hello_parse_psk_binder_31_bytes)
{
    hello_spec s;

    hello_default(&s);
    set_psk(&s, 1, 1, 31);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_psk_second_binder_31_bytes)
{
    /* The binders list (32+1 + 31+1 bytes) is long enough: only the entry is short. */
    hello_spec s;
    tls_writer w;
    uint8_t binder[32];
    hello_ext *e;

    memset(binder, 0xee, sizeof binder);
    hello_default(&s);
    e = ext_begin(&s, TLS_EXT_PRE_SHARED_KEY, &w);
    tls_write_vec16_begin(&w);
    for (int i = 0; i < 2; i++) {
        tls_write_vec16(&w, psk_identity, sizeof psk_identity);
        tls_write_u32(&w, 0);
    }
    tls_writer_end(&w);
    tls_write_vec16_begin(&w);
    tls_write_vec8(&w, binder, 32);
    tls_write_vec8(&w, binder, 31);
    tls_writer_end(&w);
    ext_end(e, &w);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_hello_parse_psk_binders_offset)
{
    hello_spec s;
    hello_wire w;
    tls_client_hello ch;

    hello_default(&s);
    set_psk(&s, 2, 2, 48);
    hello_encode(&s, &w);
    assert_tls_err(tls__client_hello_parse(w.msg, w.len, &ch), TLS_OK);
    ck_assert_uint_lt(ch.psk_binders_offset + 2, w.len);
    ck_assert_uint_eq(get16(w.msg + ch.psk_binders_offset), 2 * (1 + 48));
    ck_assert_ptr_eq(ch.psk_binders.p, w.msg + ch.psk_binders_offset + 2);
    ck_assert_uint_eq(ch.psk_binders.len, 2 * (1 + 48));
    /* The binders close the message (pre_shared_key is last). */
    ck_assert_uint_eq(ch.psk_binders_offset + 2 + ch.psk_binders.len, w.len);
    ck_assert_uint_eq(ch.psk_binders.p[0], 48);
    ck_assert_uint_eq(ch.psk_binders.p[1], 0xe0);
    ck_assert_uint_eq(ch.psk_binders.p[49], 48);
    ck_assert_uint_eq(ch.psk_binders.p[50], 0xe1);
    wire_free(&w);
}
END_TEST

START_TEST(test_client_hello_parse_psk_empty_identity)
{
    hello_spec s;
    tls_writer w;
    uint8_t binder[32] = {0};
    hello_ext *e;

    hello_default(&s);
    e = ext_begin(&s, TLS_EXT_PRE_SHARED_KEY, &w);
    tls_write_vec16_begin(&w);
    tls_write_vec16(&w, NULL, 0); /* identity<1..2^16-1> */
    tls_write_u32(&w, 0);
    tls_write_u8(&w, 0); /* pad the list to its 7-byte minimum */
    tls_writer_end(&w);
    tls_write_vec16_begin(&w);
    tls_write_vec8(&w, binder, sizeof binder);
    tls_writer_end(&w);
    ext_end(e, &w);
    assert_parse(&s, TLS_ERR_DECODE);
}
END_TEST

/* ---- hostile sizes ------------------------------------------------------------------------- */

enum { HOSTILE_EXTS = 10000 };

/* A hello with HOSTILE_EXTS empty extensions of distinct unknown types; if last_dup, the
 * last one repeats the first one's type. */
static uint8_t *hostile_hello(bool last_dup, size_t *len)
{
    static const uint8_t suites[] = {0x13, 0x01};
    size_t cap = 2 + 32 + 1 + 2 + sizeof suites + 2 + 2 + 4 * HOSTILE_EXTS;
    uint8_t random[32] = {0}, null_compression = 0;
    uint8_t *buf = malloc(cap);
    tls_writer w;

    ck_assert_ptr_nonnull(buf);
    tls_writer_init(&w, buf, cap);
    tls_write_u16(&w, 0x0303);
    tls_write_bytes(&w, random, sizeof random);
    tls_write_vec8(&w, NULL, 0);
    tls_write_vec16(&w, suites, sizeof suites);
    tls_write_vec8(&w, &null_compression, 1);
    tls_write_vec16_begin(&w);
    for (unsigned i = 0; i < HOSTILE_EXTS; i++) {
        /* 0x1000.. steers clear of every type the parser knows */
        tls_write_u16(&w, (uint16_t)(last_dup && i == HOSTILE_EXTS - 1 ? 0x1000 : 0x1000 + i));
        tls_write_u16(&w, 0);
    }
    tls_writer_end(&w);
    ck_assert(tls_writer_ok(&w));
    ck_assert_uint_eq(w.len, cap);
    *len = w.len;
    return buf;
}

START_TEST(test_client_hello_parse_10000_unknown_extensions)
{
    size_t len;
    tls_client_hello ch;
    uint8_t *msg = hostile_hello(false, &len);

    assert_tls_err(tls__client_hello_parse(msg, len, &ch), TLS_OK);
    ck_assert(ch.has_extensions);
    free(msg);
}
END_TEST

START_TEST(test_client_hello_parse_10000_extensions_last_duplicates_first)
{
    size_t len;
    tls_client_hello ch;
    uint8_t *msg = hostile_hello(true, &len);

    assert_tls_err(tls__client_hello_parse(msg, len, &ch), TLS_ERR_DUPLICATE_EXTENSION);
    free(msg);
}
END_TEST

/* ---- suite --------------------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("client_hello");
    TCase *valid = tcase_create("valid");
    TCase *key_share = tcase_create("key_share");
    TCase *rfc = tcase_create("rfc8448");
    TCase *framing = tcase_create("framing");
    TCase *exts = tcase_create("extensions");
    TCase *hostile = tcase_create("hostile");

    tcase_add_test(valid, test_client_hello_parse_valid_all_fields);
    tcase_add_test(valid, test_client_hello_parse_empty_session_id);
    tcase_add_test(valid, test_client_hello_parse_compression_null_among_others);
    tcase_add_test(valid, test_client_hello_parse_server_name_lowercased_trailing_dot_removed);
    tcase_add_test(valid, test_client_hello_parse_server_name_ipv4_literal_is_no_name);
    tcase_add_test(valid, test_client_hello_parse_server_name_ipv6_literal_is_no_name);
    tcase_add_test(valid, test_client_hello_parse_server_name_colon_in_host_name_rejected);
    tcase_add_test(valid, test_client_hello_parse_server_name_255_bytes);
    tcase_add_test(valid, test_client_hello_parse_server_name_unknown_name_type_skipped);
    tcase_add_test(valid, test_client_hello_parse_unknown_extensions_ignored);
    tcase_add_test(valid, test_client_hello_parse_no_extensions_block);
    tcase_add_test(valid, test_client_hello_parse_empty_extensions_block);
    tcase_add_test(valid, test_client_hello_parse_key_share_empty_list);
    tcase_add_test(valid, test_client_hello_parse_psk_binders_offset);
    suite_add_tcase(s, valid);

    tcase_add_test(key_share, test_client_hello_key_share_finds_group);
    tcase_add_test(key_share, test_client_hello_key_share_absent_group);
    tcase_add_test(key_share, test_client_hello_key_share_no_extension);
    suite_add_tcase(s, key_share);

    tcase_add_test(rfc, test_client_hello_parse_rfc8448_simple);
    tcase_add_test(rfc, test_client_hello_parse_rfc8448_resumed_psk);
    tcase_add_test(rfc, test_client_hello_parse_rfc8448_truncated_every_offset);
    suite_add_tcase(s, rfc);

    tcase_add_test(framing, test_client_hello_parse_truncated_every_offset);
    tcase_add_test(framing, test_client_hello_parse_trailing_byte_after_extensions);
    tcase_add_test(framing, test_client_hello_parse_one_byte_after_compression);
    tcase_add_test(framing, test_client_hello_parse_session_id_33_bytes);
    tcase_add_test(framing, test_client_hello_parse_cipher_suites_empty);
    tcase_add_test(framing, test_client_hello_parse_cipher_suites_odd_length);
    tcase_add_test(framing, test_client_hello_parse_compression_empty);
    tcase_add_test(framing, test_client_hello_parse_extensions_length_past_end);
    tcase_add_test(framing, test_client_hello_parse_extension_length_past_block_end);
    tcase_add_test(framing, test_client_hello_parse_extension_length_past_block_inside_message);
    tcase_add_test(framing, test_client_hello_parse_extension_header_truncated_in_block);
    tcase_add_test(framing, test_client_hello_parse_duplicate_known_extension);
    tcase_add_test(framing, test_client_hello_parse_duplicate_unknown_extension);
    tcase_add_test(framing, test_client_hello_parse_psk_not_last);
    tcase_add_test(framing, test_client_hello_parse_psk_first);
    suite_add_tcase(s, framing);

    tcase_add_test(exts, test_client_hello_parse_supported_versions_odd_length);
    tcase_add_test(exts, test_client_hello_parse_supported_versions_empty);
    tcase_add_test(exts, test_client_hello_parse_supported_versions_no_body);
    tcase_add_test(exts, test_client_hello_parse_supported_versions_trailing_bytes);
    tcase_add_test(exts, test_client_hello_parse_supported_groups_empty);
    tcase_add_test(exts, test_client_hello_parse_supported_groups_odd_length);
    tcase_add_test(exts, test_client_hello_parse_supported_groups_trailing_bytes);
    tcase_add_test(exts, test_client_hello_parse_signature_algorithms_empty);
    tcase_add_test(exts, test_client_hello_parse_signature_algorithms_cert_odd_length);
    tcase_add_test(exts, test_client_hello_parse_key_share_empty_key_exchange);
    tcase_add_test(exts, test_client_hello_parse_key_share_same_group_twice);
    tcase_add_test(exts, test_client_hello_parse_key_share_list_shorter_than_extension);
    tcase_add_test(exts, test_client_hello_parse_key_share_list_longer_than_extension);
    tcase_add_test(exts, test_client_hello_parse_key_share_trailing_byte_in_extension);
    tcase_add_test(exts, test_client_hello_parse_key_share_entry_truncated_in_list);
    tcase_add_test(exts, test_client_hello_parse_server_name_empty_list);
    tcase_add_test(exts, test_client_hello_parse_server_name_host_name_empty);
    tcase_add_test(exts, test_client_hello_parse_server_name_only_a_dot);
    tcase_add_test(exts, test_client_hello_parse_server_name_two_host_names);
    tcase_add_test(exts, test_client_hello_parse_server_name_nul_byte);
    tcase_add_test(exts, test_client_hello_parse_server_name_space);
    tcase_add_test(exts, test_client_hello_parse_server_name_slash);
    tcase_add_test(exts, test_client_hello_parse_server_name_256_bytes);
    tcase_add_test(exts, test_client_hello_parse_server_name_300_bytes);
    tcase_add_test(exts, test_client_hello_parse_server_name_list_trailing_byte);
    tcase_add_test(exts, test_client_hello_parse_alpn_empty_protocol_name);
    tcase_add_test(exts, test_client_hello_parse_alpn_empty_list);
    tcase_add_test(exts, test_client_hello_parse_alpn_name_past_list);
    tcase_add_test(exts, test_client_hello_parse_early_data_non_empty);
    tcase_add_test(exts, test_client_hello_parse_cookie_empty);
    tcase_add_test(exts, test_client_hello_parse_psk_modes_empty);
    tcase_add_test(exts, test_client_hello_parse_psk_more_identities_than_binders);
    tcase_add_test(exts, test_client_hello_parse_psk_more_binders_than_identities);
    tcase_add_test(exts, test_client_hello_parse_psk_binder_31_bytes);
    tcase_add_test(exts, test_client_hello_parse_psk_second_binder_31_bytes);
    tcase_add_test(exts, test_client_hello_parse_psk_empty_identity);
    suite_add_tcase(s, exts);

    tcase_add_test(hostile, test_client_hello_parse_10000_unknown_extensions);
    tcase_add_test(hostile, test_client_hello_parse_10000_extensions_last_duplicates_first);
    suite_add_tcase(s, hostile);

    return s;
}

TEST_MAIN(make_suite)
