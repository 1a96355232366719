/*
 * test_proxy_protocol.c — unit tests for proxy/proxy_protocol.c: the PROXY protocol v1/v2
 * writers and the parser.
 *
 * Writer cases compare exact output (every byte of the v2 example). Round trips check
 * that parse(write(x)) gives back x's addresses and the written length, leaving payload
 * after the header alone. The adversarial set feeds the parser every prefix of valid
 * headers (NEED_MORE), garbage (INVALID at the first wrong byte) and malformed v1/v2
 * headers, asserting the exact status. Every parse gets a heap copy of exactly the bytes
 * under test, so ASan reports any read past what "arrived".
 */
#include "proxy/proxy_protocol.h"
#include "tests/lib/unit.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>
#include <sys/un.h>

static const uint8_t SIG[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};

static struct sockaddr_in v4(const char *addr, uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    sin.sin_port = htons(port);
    ck_assert_int_eq(inet_pton(AF_INET, addr, &sin.sin_addr), 1);
    return sin;
}

static struct sockaddr_in6 v6(const char *addr, uint16_t port)
{
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    sin6.sin6_port = htons(port);
    ck_assert_int_eq(inet_pton(AF_INET6, addr, &sin6.sin6_addr), 1);
    return sin6;
}

static void assert_v4(const struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
    struct sockaddr_in sin;
    char text[INET_ADDRSTRLEN];
    ck_assert_int_eq(ss->ss_family, AF_INET);
    memcpy(&sin, ss, sizeof sin);
    ck_assert_ptr_nonnull(inet_ntop(AF_INET, &sin.sin_addr, text, sizeof text));
    ck_assert_str_eq(text, addr);
    ck_assert_uint_eq(ntohs(sin.sin_port), port);
}

static void assert_v6(const struct sockaddr_storage *ss, const char *addr, uint16_t port)
{
    struct sockaddr_in6 sin6, want = v6(addr, port);
    ck_assert_int_eq(ss->ss_family, AF_INET6);
    memcpy(&sin6, ss, sizeof sin6);
    ck_assert_mem_eq(sin6.sin6_addr.s6_addr, want.sin6_addr.s6_addr, 16);
    ck_assert_uint_eq(ntohs(sin6.sin6_port), port);
}

/* Parses a heap copy of exactly len bytes of buf. */
static px_proxy_status parse(const void *buf, size_t len, px_proxy_header *h, size_t *hlen)
{
    uint8_t *copy = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(copy);
    if (len)
        memcpy(copy, buf, len);
    px_proxy_status st = px_proxy_parse(copy, len, h, hlen);
    free(copy);
    return st;
}

static px_proxy_status parse_str(const char *s, px_proxy_header *h, size_t *hlen)
{
    return parse(s, strlen(s), h, hlen);
}

/* Asserts s is refused, with a reason. */
static void assert_invalid(const void *buf, size_t len)
{
    px_proxy_header h;
    size_t hlen = 99;
    ck_assert_int_eq(parse(buf, len, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_uint_gt(strlen(h.error), 0);
    ck_assert_uint_eq(hlen, 0);
}

static void assert_invalid_str(const char *s, const char *why)
{
    px_proxy_header h;
    size_t hlen;
    ck_assert_int_eq(parse_str(s, &h, &hlen), PX_PROXY_INVALID);
    if (why)
        ck_assert_str_eq(h.error, why);
}

/* Every proper prefix of buf (including the empty one) is NEED_MORE; all of it is OK. */
static void assert_prefixes_need_more(const uint8_t *buf, size_t len)
{
    px_proxy_header h;
    size_t hlen;
    for (size_t n = 0; n < len; n++)
        ck_assert_msg(parse(buf, n, &h, &hlen) == PX_PROXY_NEED_MORE,
                      "prefix of %zu/%zu bytes was not NEED_MORE (error: %s)", n, len, h.error);
    ck_assert_int_eq(parse(buf, len, &h, &hlen), PX_PROXY_OK);
    ck_assert_uint_eq(hlen, len);
}

static const px_proxy_tlvs example_tlvs = {
    .sni = "example.com",
    .alpn = (const uint8_t *)"h2",
    .alpn_len = 2,
    .tls_version = "TLSv1.3",
    .tls_cipher = "TLS_AES_128_GCM_SHA256",
};

/* ---- v1 writer -------------------------------------------------------------------- */

START_TEST(test_proxy_protocol_v1_write_ipv4)
{
    struct sockaddr_in s = v4("192.0.2.1", 56324), d = v4("198.51.100.7", 443);
    uint8_t out[PX_PROXY_MAX_HEADER];
    const char *want = "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n";

    size_t n = px_proxy_v1_write((struct sockaddr *)&s, (struct sockaddr *)&d, out, sizeof out);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_mem_eq(out, want, n);
}
END_TEST

START_TEST(test_proxy_protocol_v1_write_ipv6)
{
    struct sockaddr_in6 s = v6("2001:db8::1", 1), d = v6("2001:db8:0:0:1::2", 65535);
    uint8_t out[PX_PROXY_MAX_HEADER];
    const char *want = "PROXY TCP6 2001:db8::1 2001:db8::1:0:0:2 1 65535\r\n";

    size_t n = px_proxy_v1_write((struct sockaddr *)&s, (struct sockaddr *)&d, out, sizeof out);
    ck_assert_uint_eq(n, strlen(want));
    ck_assert_mem_eq(out, want, n);
}
END_TEST

START_TEST(test_proxy_protocol_v1_write_longest_ipv6)
{
    const char *a = "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff";
    struct sockaddr_in6 s = v6(a, 65535), d = v6(a, 65535);
    uint8_t out[104];
    px_proxy_header h;
    size_t hlen;

    /* §2.1's longest TCP6 line is 104 bytes. */
    size_t n = px_proxy_v1_write((struct sockaddr *)&s, (struct sockaddr *)&d, out, sizeof out);
    ck_assert_uint_eq(n, 104);
    ck_assert_int_eq(parse(out, n, &h, &hlen), PX_PROXY_OK);
    ck_assert_uint_eq(hlen, 104);
    assert_v6(&h.src, a, 65535);
}
END_TEST

START_TEST(test_proxy_protocol_v1_write_mixed_families_unknown)
{
    struct sockaddr_in s = v4("192.0.2.1", 1234);
    struct sockaddr_in6 d = v6("2001:db8::1", 443);
    uint8_t out[PX_PROXY_MAX_HEADER];

    size_t n = px_proxy_v1_write((struct sockaddr *)&s, (struct sockaddr *)&d, out, sizeof out);
    ck_assert_uint_eq(n, 15);
    ck_assert_mem_eq(out, "PROXY UNKNOWN\r\n", 15);
}
END_TEST

START_TEST(test_proxy_protocol_v1_write_unix_unknown)
{
    struct sockaddr_un s, d;
    uint8_t out[PX_PROXY_MAX_HEADER];
    memset(&s, 0, sizeof s);
    s.sun_family = AF_UNIX;
    d = s;

    size_t n = px_proxy_v1_write((struct sockaddr *)&s, (struct sockaddr *)&d, out, sizeof out);
    ck_assert_uint_eq(n, 15);
    ck_assert_mem_eq(out, "PROXY UNKNOWN\r\n", 15);
}
END_TEST

START_TEST(test_proxy_protocol_v1_write_cap_too_small)
{
    struct sockaddr_in s = v4("192.0.2.1", 56324), d = v4("198.51.100.7", 443);
    const size_t need = strlen("PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n");
    uint8_t out[128];

    for (size_t cap = 0; cap < need; cap++) {
        memset(out, 0xA5, sizeof out);
        ck_assert_uint_eq(px_proxy_v1_write((struct sockaddr *)&s, (struct sockaddr *)&d, out, cap),
                          0);
        for (size_t i = cap; i < sizeof out; i++)
            ck_assert_uint_eq(out[i], 0xA5);
    }
    ck_assert_uint_eq(px_proxy_v1_write((struct sockaddr *)&s, (struct sockaddr *)&d, out, need),
                      need);
    ck_assert_uint_eq(px_proxy_v1_write(NULL, NULL, out, 14), 0);
    ck_assert_uint_eq(px_proxy_v1_write(NULL, NULL, out, 15), 15);
}
END_TEST

/* ---- v2 writer -------------------------------------------------------------------- */

START_TEST(test_proxy_protocol_v2_write_ipv4_tlvs_exact)
{
    struct sockaddr_in s = v4("192.0.2.1", 56324), d = v4("198.51.100.7", 443);
    /* clang-format off */
    static const uint8_t want[] = {
        /* signature */
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
        0x21,       /* version 2, PROXY */
        0x11,       /* AF_INET, STREAM */
        0x00, 0x4A, /* 12 addresses + 5 ALPN + 14 AUTHORITY + 43 SSL = 74 */
        192, 0, 2, 1, 198, 51, 100, 7, 0xDC, 0x04, 0x01, 0xBB,
        /* PP2_TYPE_ALPN "h2" */
        0x01, 0x00, 0x02, 'h', '2',
        /* PP2_TYPE_AUTHORITY "example.com" */
        0x02, 0x00, 0x0B, 'e', 'x', 'a', 'm', 'p', 'l', 'e', '.', 'c', 'o', 'm',
        /* PP2_TYPE_SSL: client = PP2_CLIENT_SSL, verify = 0, 2 sub-TLVs (5 + 10 + 25) */
        0x20, 0x00, 0x28, 0x01, 0x00, 0x00, 0x00, 0x00,
        /* PP2_SUBTYPE_SSL_VERSION "TLSv1.3" */
        0x21, 0x00, 0x07, 'T', 'L', 'S', 'v', '1', '.', '3',
        /* PP2_SUBTYPE_SSL_CIPHER "TLS_AES_128_GCM_SHA256" */
        0x23, 0x00, 0x16, 'T', 'L', 'S', '_', 'A', 'E', 'S', '_', '1', '2', '8', '_', 'G', 'C', 'M',
        '_', 'S', 'H', 'A', '2', '5', '6'};
    /* clang-format on */
    uint8_t out[PX_PROXY_MAX_HEADER];

    size_t n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &example_tlvs, out,
                                 sizeof out);
    ck_assert_uint_eq(n, sizeof want);
    ck_assert_uint_eq(n, 16 + 0x4A);
    for (size_t i = 0; i < sizeof want; i++)
        ck_assert_msg(out[i] == want[i], "byte %zu: got 0x%02x, want 0x%02x", i, out[i], want[i]);
}
END_TEST

START_TEST(test_proxy_protocol_v2_write_ipv6_exact)
{
    struct sockaddr_in6 s = v6("2001:db8::1", 0x1234), d = v6("2001:db8::2", 443);
    /* clang-format off */
    static const uint8_t want[] = {
        0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A,
        0x21,       /* version 2, PROXY */
        0x21,       /* AF_INET6, STREAM */
        0x00, 0x24, /* 36: addresses only */
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x01,
        0x20, 0x01, 0x0d, 0xb8, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0x02,
        0x12, 0x34, 0x01, 0xBB};
    /* clang-format on */
    uint8_t out[PX_PROXY_MAX_HEADER];

    size_t n =
        px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, NULL, out, sizeof out);
    ck_assert_uint_eq(n, sizeof want);
    ck_assert_mem_eq(out, want, sizeof want);
}
END_TEST

START_TEST(test_proxy_protocol_v2_write_mixed_families_local)
{
    struct sockaddr_in s = v4("192.0.2.1", 1234);
    struct sockaddr_in6 d = v6("2001:db8::1", 443);
    static const uint8_t want[] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D, 0x0A, 0x51,
                                   0x55, 0x49, 0x54, 0x0A, 0x20, 0x00, 0x00, 0x00};
    uint8_t out[PX_PROXY_MAX_HEADER];
    px_proxy_header h;
    size_t hlen;

    size_t n =
        px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, NULL, out, sizeof out);
    ck_assert_uint_eq(n, sizeof want);
    ck_assert_mem_eq(out, want, sizeof want);

    /* With TLVs: still LOCAL/UNSPEC, and the TLVs follow right after the fixed part. */
    n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &example_tlvs, out,
                          sizeof out);
    ck_assert_uint_eq(n, 16 + 74 - 12);
    ck_assert_uint_eq(out[12], 0x20);
    ck_assert_uint_eq(out[13], 0x00);
    ck_assert_uint_eq(out[14], 0x00);
    ck_assert_uint_eq(out[15], 74 - 12);
    ck_assert_uint_eq(out[16], 0x01); /* PP2_TYPE_ALPN */
    ck_assert_int_eq(parse(out, n, &h, &hlen), PX_PROXY_OK);
    ck_assert(!h.has_addresses);
    ck_assert_uint_eq(hlen, n);
}
END_TEST

START_TEST(test_proxy_protocol_v2_write_partial_tlvs)
{
    struct sockaddr_in s = v4("192.0.2.1", 1), d = v4("192.0.2.2", 2);
    px_proxy_tlvs none = {0}, cipher_only = {.tls_cipher = "X"};
    uint8_t out[PX_PROXY_MAX_HEADER];

    /* All fields absent: no TLVs at all. */
    size_t n =
        px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &none, out, sizeof out);
    ck_assert_uint_eq(n, 28);
    ck_assert_uint_eq(out[15], 12);

    n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &cipher_only, out,
                          sizeof out);
    static const uint8_t ssl[] = {0x20, 0x00, 0x09, 0x01, 0, 0, 0, 0, 0x23, 0x00, 0x01, 'X'};
    ck_assert_uint_eq(n, 28 + sizeof ssl);
    ck_assert_uint_eq(out[15], 12 + sizeof ssl);
    ck_assert_mem_eq(out + 28, ssl, sizeof ssl);
}
END_TEST

/* moat's early-data TLV (0xE0, custom range) comes last, one byte 0x01; absent when
 * the connection carried no early data. */
START_TEST(test_proxy_protocol_v2_write_early_data_tlv)
{
    struct sockaddr_in s = v4("192.0.2.1", 1), d = v4("192.0.2.2", 2);
    px_proxy_tlvs early = example_tlvs, only = {.early_data = true};
    uint8_t out[PX_PROXY_MAX_HEADER], plain[PX_PROXY_MAX_HEADER];
    static const uint8_t tlv[] = {PX_PP2_TYPE_EARLY_DATA, 0x00, 0x01, PX_PP2_EARLY_DATA_ACCEPTED};
    px_proxy_header h;
    size_t hlen;

    early.early_data = true;
    size_t n0 = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &example_tlvs,
                                  plain, sizeof plain);
    size_t n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &early, out,
                                 sizeof out);
    ck_assert_uint_eq(n, n0 + sizeof tlv);
    ck_assert_mem_eq(out + 16, plain + 16, n0 - 16); /* the rest is unchanged */
    ck_assert_mem_eq(out + n0, tlv, sizeof tlv);
    ck_assert_uint_eq((size_t)out[14] << 8 | out[15], n - 16);
    ck_assert_int_eq(parse(out, n, &h, &hlen), PX_PROXY_OK);
    ck_assert_uint_eq(hlen, n);

    n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &only, out, sizeof out);
    ck_assert_uint_eq(n, 28 + sizeof tlv);
    ck_assert_mem_eq(out + 28, tlv, sizeof tlv);
}
END_TEST

/* Client certificates in PP2_TYPE_SSL: client bits CERT_CONN/CERT_SESS, verify 0 when
 * verified, and PP2_SUBTYPE_SSL_CN after the version; no CN without a certificate. */
START_TEST(test_proxy_protocol_v2_write_client_cert)
{
    struct sockaddr_in s = v4("192.0.2.1", 1), d = v4("192.0.2.2", 2);
    uint8_t out[PX_PROXY_MAX_HEADER];
    px_proxy_tlvs conn = {.tls_version = "V",
                          .client_cert_conn = true,
                          .client_cert_verified = true,
                          .client_cn = "alice"};
    static const uint8_t conn_ssl[] = {0x20, 0x00, 0x11, 0x03, 0,   0,   0,   0,   0x21, 0x00,
                                       0x01, 'V',  0x22, 0x00, 0x05, 'a', 'l', 'i', 'c',  'e'};
    size_t n =
        px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &conn, out, sizeof out);
    ck_assert_uint_eq(n, 28 + sizeof conn_ssl);
    ck_assert_mem_eq(out + 28, conn_ssl, sizeof conn_ssl);

    px_proxy_tlvs sess = conn;
    sess.client_cert_conn = false;
    sess.client_cert_sess = true;
    n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &sess, out, sizeof out);
    ck_assert_uint_eq(out[28 + 3], 0x05);

    px_proxy_tlvs unverified = conn;
    unverified.client_cert_verified = false;
    n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &unverified, out,
                          sizeof out);
    ck_assert_uint_eq(out[28 + 7], 1); /* verify, big-endian: non-zero */

    px_proxy_tlvs no_cert = {.tls_version = "V", .client_cn = "ignored"};
    n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &no_cert, out,
                          sizeof out);
    static const uint8_t plain_ssl[] = {0x20, 0x00, 0x09, 0x01, 0, 0, 0, 0, 0x21, 0x00, 0x01, 'V'};
    ck_assert_uint_eq(n, 28 + sizeof plain_ssl);
    ck_assert_mem_eq(out + 28, plain_ssl, sizeof plain_ssl);
}
END_TEST

START_TEST(test_proxy_protocol_v2_write_cap_too_small)
{
    struct sockaddr_in s = v4("192.0.2.1", 56324), d = v4("198.51.100.7", 443);
    uint8_t out[128];
    const size_t need = 90;

    for (size_t cap = 0; cap < need; cap++) {
        memset(out, 0xA5, sizeof out);
        ck_assert_uint_eq(px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d,
                                            &example_tlvs, out, cap),
                          0);
        for (size_t i = cap; i < sizeof out; i++)
            ck_assert_msg(out[i] == 0xA5, "cap %zu: byte %zu written", cap, i);
    }
    ck_assert_uint_eq(
        px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &example_tlvs, out, need),
        need);
}
END_TEST

/* ---- round trips ------------------------------------------------------------------ */

static const char payload[] = "GET / HTTP/1.1\r\nHost: x\r\n\r\n";

/* Appends the payload after the header and checks parse gives back header_len = n and
 * the payload untouched where header_len points. */
static void round_trip(uint8_t *buf, size_t n, int version, px_proxy_header *h)
{
    size_t hlen;
    memcpy(buf + n, payload, sizeof payload);
    ck_assert_int_eq(parse(buf, n + sizeof payload, h, &hlen), PX_PROXY_OK);
    ck_assert_int_eq(h->version, version);
    ck_assert_uint_eq(hlen, n);
    ck_assert_mem_eq(buf + hlen, payload, sizeof payload);
    ck_assert_str_eq(h->error, "");
}

START_TEST(test_proxy_protocol_parse_v1_round_trip_ipv4)
{
    struct sockaddr_in s = v4("203.0.113.9", 0), d = v4("10.0.0.1", 8443);
    uint8_t buf[PX_PROXY_MAX_HEADER + sizeof payload];
    px_proxy_header h;

    size_t n =
        px_proxy_v1_write((struct sockaddr *)&s, (struct sockaddr *)&d, buf, PX_PROXY_MAX_HEADER);
    ck_assert_uint_gt(n, 0);
    round_trip(buf, n, 1, &h);
    ck_assert(h.has_addresses);
    assert_v4(&h.src, "203.0.113.9", 0);
    assert_v4(&h.dst, "10.0.0.1", 8443);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v1_round_trip_ipv6)
{
    struct sockaddr_in6 s = v6("::ffff:192.0.2.1", 40000), d = v6("fe80::1", 443);
    uint8_t buf[PX_PROXY_MAX_HEADER + sizeof payload];
    px_proxy_header h;

    size_t n =
        px_proxy_v1_write((struct sockaddr *)&s, (struct sockaddr *)&d, buf, PX_PROXY_MAX_HEADER);
    ck_assert_uint_gt(n, 0);
    round_trip(buf, n, 1, &h);
    ck_assert(h.has_addresses);
    assert_v6(&h.src, "::ffff:192.0.2.1", 40000);
    assert_v6(&h.dst, "fe80::1", 443);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v1_round_trip_unknown)
{
    struct sockaddr_in s = v4("192.0.2.1", 1);
    struct sockaddr_in6 d = v6("::1", 2);
    uint8_t buf[PX_PROXY_MAX_HEADER + sizeof payload];
    px_proxy_header h;

    size_t n =
        px_proxy_v1_write((struct sockaddr *)&s, (struct sockaddr *)&d, buf, PX_PROXY_MAX_HEADER);
    round_trip(buf, n, 1, &h);
    ck_assert(!h.has_addresses);
    ck_assert_int_eq(h.src.ss_family, AF_UNSPEC);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_round_trip_ipv4)
{
    struct sockaddr_in s = v4("192.0.2.1", 56324), d = v4("198.51.100.7", 443);
    uint8_t buf[PX_PROXY_MAX_HEADER + sizeof payload];
    px_proxy_header h;

    size_t n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &example_tlvs, buf,
                                 PX_PROXY_MAX_HEADER);
    ck_assert_uint_eq(n, 90);
    round_trip(buf, n, 2, &h);
    ck_assert(h.has_addresses);
    assert_v4(&h.src, "192.0.2.1", 56324);
    assert_v4(&h.dst, "198.51.100.7", 443);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_round_trip_ipv6)
{
    struct sockaddr_in6 s = v6("2001:db8::1", 65535), d = v6("2001:db8::2", 0);
    uint8_t buf[PX_PROXY_MAX_HEADER + sizeof payload];
    px_proxy_header h;

    size_t n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &example_tlvs, buf,
                                 PX_PROXY_MAX_HEADER);
    ck_assert_uint_eq(n, 16 + 36 + 62);
    round_trip(buf, n, 2, &h);
    ck_assert(h.has_addresses);
    assert_v6(&h.src, "2001:db8::1", 65535);
    assert_v6(&h.dst, "2001:db8::2", 0);
}
END_TEST

/* ---- prefixes: NEED_MORE until complete ------------------------------------------- */

START_TEST(test_proxy_protocol_parse_v1_every_prefix_need_more)
{
    static const char *const lines[] = {
        "PROXY TCP4 192.0.2.1 198.51.100.7 56324 443\r\n",
        "PROXY TCP4 0.0.0.0 255.255.255.255 0 65535\r\n",
        "PROXY TCP6 2001:db8::1 ::ffff:192.0.2.1 1 2\r\n",
        "PROXY TCP6 ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
        "PROXY UNKNOWN\r\n",
        "PROXY UNKNOWN ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff "
        "ffff:ffff:ffff:ffff:ffff:ffff:ffff:ffff 65535 65535\r\n",
    };
    for (size_t i = 0; i < sizeof lines / sizeof lines[0]; i++)
        assert_prefixes_need_more((const uint8_t *)lines[i], strlen(lines[i]));
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_every_prefix_need_more)
{
    struct sockaddr_in s4 = v4("192.0.2.1", 56324), d4 = v4("198.51.100.7", 443);
    struct sockaddr_in6 s6 = v6("2001:db8::1", 1), d6 = v6("2001:db8::2", 2);
    uint8_t buf[PX_PROXY_MAX_HEADER];
    size_t n;

    n = px_proxy_v2_write((struct sockaddr *)&s4, (struct sockaddr *)&d4, &example_tlvs, buf,
                          sizeof buf);
    assert_prefixes_need_more(buf, n);
    n = px_proxy_v2_write((struct sockaddr *)&s6, (struct sockaddr *)&d6, &example_tlvs, buf,
                          sizeof buf);
    assert_prefixes_need_more(buf, n);
    n = px_proxy_v2_write((struct sockaddr *)&s4, (struct sockaddr *)&d6, NULL, buf, sizeof buf);
    assert_prefixes_need_more(buf, n);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_max_length_partial_need_more)
{
    size_t total = 16 + 65535;
    uint8_t *buf = calloc(1, total);
    px_proxy_header h;
    size_t hlen;

    ck_assert_ptr_nonnull(buf);
    memcpy(buf, SIG, 12);
    buf[12] = 0x21;
    buf[13] = 0x11;
    buf[14] = 0xFF;
    buf[15] = 0xFF;
    /* addresses (zeros) and one PP2_TYPE_NOOP TLV filling the rest */
    buf[28] = 0x04;
    buf[29] = (uint8_t)((65535 - 12 - 3) >> 8);
    buf[30] = (uint8_t)(65535 - 12 - 3);
    ck_assert_int_eq(parse(buf, 16, &h, &hlen), PX_PROXY_NEED_MORE);
    ck_assert_int_eq(parse(buf, 4096, &h, &hlen), PX_PROXY_NEED_MORE);
    ck_assert_int_eq(parse(buf, total - 1, &h, &hlen), PX_PROXY_NEED_MORE);
    ck_assert_int_eq(parse(buf, total, &h, &hlen), PX_PROXY_OK);
    ck_assert_uint_eq(hlen, total);
    ck_assert(h.has_addresses);
    assert_v4(&h.src, "0.0.0.0", 0);
    free(buf);
}
END_TEST

/* ---- garbage ---------------------------------------------------------------------- */

START_TEST(test_proxy_protocol_parse_http_invalid)
{
    px_proxy_header h;
    size_t hlen;

    ck_assert_int_eq(parse_str("G", &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, "not a PROXY protocol header");
    ck_assert_int_eq(parse_str("GET / HTTP/1.1\r\n\r\n", &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, "not a PROXY protocol header");
}
END_TEST

START_TEST(test_proxy_protocol_parse_client_hello_invalid_first_byte)
{
    static const uint8_t ch[] = {0x16, 0x03, 0x01, 0x00, 0xC8, 0x01, 0x00, 0x00, 0xC4};
    px_proxy_header h;
    size_t hlen;

    ck_assert_int_eq(parse(ch, 1, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, "not a PROXY protocol header");
    assert_invalid(ch, sizeof ch);
}
END_TEST

START_TEST(test_proxy_protocol_parse_near_magic_invalid)
{
    static const uint8_t sig_off[] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                      0x0A, 0x51, 0x55, 0x49, 0x54, 0x0B};
    /* Prefixes of each magic are NEED_MORE; the first wrong byte is INVALID. */
    assert_invalid_str("proxy TCP4 1.2.3.4 1.2.3.4 1 1\r\n", "not a PROXY protocol header");
    assert_invalid_str("p", "not a PROXY protocol header");
    assert_invalid_str("PROXZ", "not a PROXY protocol header");
    assert_invalid_str("PROXY\t", "not a PROXY protocol header");
    assert_invalid_str("\r\n\r\n\x01", "not a PROXY protocol header");
    assert_invalid(sig_off, sizeof sig_off);
    assert_invalid("\0", 1);
}
END_TEST

/* ---- hostile v1 ------------------------------------------------------------------- */

START_TEST(test_proxy_protocol_parse_v1_double_space_invalid)
{
    const char *why = "v1 header fields must be separated by exactly one space";
    assert_invalid_str("PROXY  TCP4 1.2.3.4 5.6.7.8 1 2\r\n", why);
    assert_invalid_str("PROXY TCP4  1.2.3.4 5.6.7.8 1 2\r\n", why);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8  1 2\r\n", why);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1  2\r\n", why);
    /* caught before the CRLF arrives */
    assert_invalid_str("PROXY TCP4 1.2.3.4  ", why);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 \r\n",
                       "v1 header has data after the destination port");
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2 ",
                       "v1 header has data after the destination port");
    assert_invalid_str("PROXY \r\n", why);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v1_no_crlf_within_107_invalid)
{
    char line[200];
    px_proxy_header h;
    size_t hlen;

    /* 107 bytes, no CRLF */
    memset(line, 'a', sizeof line);
    memcpy(line, "PROXY UNKNOWN ", 14);
    ck_assert_int_eq(parse(line, 107, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, "v1 header has no CRLF within 107 bytes");
    /* 106 bytes without a CR can no longer end within 107 */
    ck_assert_int_eq(parse(line, 106, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_int_eq(parse(line, 105, &h, &hlen), PX_PROXY_NEED_MORE);
    ck_assert_int_eq(parse(line, sizeof line, &h, &hlen), PX_PROXY_INVALID);

    /* exactly 107 with CRLF: accepted; 108: refused, even once the CR is there */
    memcpy(line + 105, "\r\n", 2);
    ck_assert_int_eq(parse(line, 107, &h, &hlen), PX_PROXY_OK);
    ck_assert_uint_eq(hlen, 107);
    ck_assert(!h.has_addresses);
    line[105] = 'a';
    memcpy(line + 106, "\r\n", 2);
    ck_assert_int_eq(parse(line, 107, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_int_eq(parse(line, 108, &h, &hlen), PX_PROXY_INVALID);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v1_bad_line_end_invalid)
{
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\n", "v1 header has a LF without CR");
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\rX",
                       "v1 header has a CR not followed by LF");
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2\r\r\n",
                       "v1 header has a CR not followed by LF");
    assert_invalid_str("PROXY UNKNOWN \n\r\n", "v1 header has a LF without CR");
    /* the CR arrived, its LF has not: the fields before it must already be complete */
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1\r", "v1 header ends before its last field");
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1\r\n", "v1 header ends before its last field");
    assert_invalid_str("PROXY TCP4\r\n", "v1 header ends before its last field");
}
END_TEST

START_TEST(test_proxy_protocol_parse_v1_bad_port_invalid)
{
    const char *sport = "v1 header has a bad source port";
    const char *dport = "v1 header has a bad destination port";
    px_proxy_header h;
    size_t hlen;

    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 65536 2\r\n", sport);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 65536\r\n", dport);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 08x 2\r\n", sport);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 08 2\r\n", sport);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 +2\r\n", dport);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 -1 2\r\n", sport);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 2x\r\n", dport);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 0x10\r\n", dport);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 1 100000\r\n", dport);
    /* refused as soon as the port can no longer be valid */
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 65536", sport);
    ck_assert_int_eq(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 0", &h, &hlen), PX_PROXY_NEED_MORE);
    assert_invalid_str("PROXY TCP4 1.2.3.4 5.6.7.8 00", sport);

    ck_assert_int_eq(parse_str("PROXY TCP4 1.2.3.4 5.6.7.8 0 65535\r\n", &h, &hlen), PX_PROXY_OK);
    assert_v4(&h.src, "1.2.3.4", 0);
    assert_v4(&h.dst, "5.6.7.8", 65535);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v1_bad_address_invalid)
{
    const char *src = "v1 header has a bad source address";
    const char *dst = "v1 header has a bad destination address";

    assert_invalid_str("PROXY TCP4 ::1 5.6.7.8 1 2\r\n", src);
    assert_invalid_str("PROXY TCP4 1.2.3.4 2001:db8::1 1 2\r\n", dst);
    assert_invalid_str("PROXY TCP6 1.2.3.4 ::1 1 2\r\n", src);
    assert_invalid_str("PROXY TCP4 1.2.3.256 5.6.7.8 1 2\r\n", src);
    assert_invalid_str("PROXY TCP4 1.2.3 5.6.7.8 1 2\r\n", src);
    assert_invalid_str("PROXY TCP4 01.2.3.4 5.6.7.8 1 2\r\n", src);
    assert_invalid_str("PROXY TCP4 1.2.3.4.5 5.6.7.8 1 2\r\n", src);
    assert_invalid_str("PROXY TCP4 1..3.4 5.6.7.8 1 2\r\n", src);
    assert_invalid_str("PROXY TCP6 ::1 1::2::3 1 2\r\n", dst);
    assert_invalid_str("PROXY TCP6 ::g 1::2 1 2\r\n", src);
    assert_invalid_str("PROXY TCP6 ::1 ::1%eth0 1 2\r\n", dst);
    /* an embedded NUL must not cut the field short for inet_pton */
    static const char nul[] = "PROXY TCP4 1.2.3.4\0 5.6.7.8 1 2\r\n";
    assert_invalid(nul, sizeof nul - 1);
    /* refused before the CRLF */
    assert_invalid_str("PROXY TCP4 ::", src);
    assert_invalid_str("PROXY TCP4 1.2.3.4 256", dst);
    /* an over-long field */
    assert_invalid_str("PROXY TCP6 0000:0000:0000:0000:0000:0000:0000:0000:00000000", src);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v1_bad_protocol_invalid)
{
    const char *why = "v1 header has a bad protocol";
    assert_invalid_str("PROXY TCP5 1.2.3.4 5.6.7.8 1 2\r\n", why);
    assert_invalid_str("PROXY TCP5", why);
    assert_invalid_str("PROXY tcp4 1.2.3.4 5.6.7.8 1 2\r\n", why);
    assert_invalid_str("PROXY UDP4 1.2.3.4 5.6.7.8 1 2\r\n", why);
    assert_invalid_str("PROXY TCP44 1.2.3.4 5.6.7.8 1 2\r\n", why);
    assert_invalid_str("PROXY UNKNOWNX\r\n", why);
    assert_invalid_str("PROXY UNKNOWN4", why);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v1_unknown_ok)
{
    px_proxy_header h;
    size_t hlen;

    ck_assert_int_eq(parse_str("PROXY UNKNOWN\r\nrest", &h, &hlen), PX_PROXY_OK);
    ck_assert_int_eq(h.version, 1);
    ck_assert(!h.has_addresses);
    ck_assert_uint_eq(hlen, 15);
    /* §2.1: the receiver ignores what follows UNKNOWN */
    ck_assert_int_eq(parse_str("PROXY UNKNOWN whatever it says\r\n", &h, &hlen), PX_PROXY_OK);
    ck_assert(!h.has_addresses);
    ck_assert_uint_eq(hlen, 32);
}
END_TEST

/* ---- hostile v2 ------------------------------------------------------------------- */

/* A v2 header: signature, ver_cmd, fam, len, then body (body_len bytes of it). */
static size_t v2_build(uint8_t *buf, uint8_t ver_cmd, uint8_t fam, uint16_t len,
                       const uint8_t *body, size_t body_len)
{
    memcpy(buf, SIG, 12);
    buf[12] = ver_cmd;
    buf[13] = fam;
    buf[14] = (uint8_t)(len >> 8);
    buf[15] = (uint8_t)len;
    if (body_len)
        memcpy(buf + 16, body, body_len);
    return 16 + body_len;
}

static const uint8_t v4_block[12] = {192, 0, 2, 1, 198, 51, 100, 7, 0xDC, 0x04, 0x01, 0xBB};

START_TEST(test_proxy_protocol_parse_v2_bad_version_invalid)
{
    uint8_t buf[64];
    px_proxy_header h;
    size_t hlen;

    for (unsigned v = 0; v < 16; v++) {
        if (v == 2)
            continue;
        size_t n = v2_build(buf, (uint8_t)(v << 4 | 1), 0x11, 12, v4_block, 12);
        /* refused on the 13th byte */
        ck_assert_int_eq(parse(buf, 13, &h, &hlen), PX_PROXY_INVALID);
        ck_assert_str_eq(h.error, "v2 header has an unsupported version");
        ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_INVALID);
    }
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_bad_command_invalid)
{
    uint8_t buf[64];
    px_proxy_header h;
    size_t hlen;

    for (unsigned c = 2; c < 16; c++) {
        size_t n = v2_build(buf, (uint8_t)(0x20 | c), 0x11, 12, v4_block, 12);
        ck_assert_int_eq(parse(buf, 13, &h, &hlen), PX_PROXY_INVALID);
        ck_assert_str_eq(h.error, "v2 header has an unknown command");
        ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_INVALID);
    }
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_bad_family_invalid)
{
    uint8_t buf[64];
    px_proxy_header h;
    size_t hlen;

    v2_build(buf, 0x21, 0x12, 12, v4_block, 12); /* UDP over IPv4 */
    ck_assert_int_eq(parse(buf, 14, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, "v2 header is for a datagram transport");
    v2_build(buf, 0x21, 0x22, 36, NULL, 0); /* UDP over IPv6 */
    ck_assert_int_eq(parse(buf, 14, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, "v2 header is for a datagram transport");
    v2_build(buf, 0x21, 0x13, 12, v4_block, 12);
    ck_assert_int_eq(parse(buf, 28, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, "v2 header has an unknown transport");
    v2_build(buf, 0x21, 0x41, 12, v4_block, 12);
    ck_assert_int_eq(parse(buf, 28, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, "v2 header has an unknown address family");
    v2_build(buf, 0x21, 0xF1, 12, v4_block, 12);
    ck_assert_int_eq(parse(buf, 14, &h, &hlen), PX_PROXY_INVALID);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_length_short_for_family_invalid)
{
    uint8_t buf[300] = {0};
    px_proxy_header h;
    size_t hlen;
    const char *why = "v2 header is too short for its address family";

    /* refused on the 16th byte, before the block arrives */
    v2_build(buf, 0x21, 0x11, 11, NULL, 0);
    ck_assert_int_eq(parse(buf, 16, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, why);
    v2_build(buf, 0x21, 0x21, 35, NULL, 0);
    ck_assert_int_eq(parse(buf, 16, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, why);
    v2_build(buf, 0x21, 0x21, 12, v4_block, 12); /* an IPv4 block labelled IPv6 */
    ck_assert_int_eq(parse(buf, 28, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, why);
    v2_build(buf, 0x21, 0x31, 215, NULL, 0);
    ck_assert_int_eq(parse(buf, 16 + 215, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, why);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_tlv_overflow_invalid)
{
    uint8_t body[32], buf[64];
    px_proxy_header h;
    size_t hlen, n;
    const char *why = "v2 header has a TLV running past its end";

    memcpy(body, v4_block, 12);
    /* a TLV claiming 10 value bytes where 2 remain */
    memcpy(body + 12, (const uint8_t[]){0x02, 0x00, 0x0A, 'a', 'b'}, 5);
    n = v2_build(buf, 0x21, 0x11, 17, body, 17);
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, why);
    /* ... even though the bytes after the header would cover it */
    memcpy(buf + n, "cdefghijkl", 10);
    ck_assert_int_eq(parse(buf, n + 10, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, why);
    /* a TLV header cut short: 1 and 2 bytes */
    for (uint16_t extra = 1; extra <= 2; extra++) {
        n = v2_build(buf, 0x21, 0x11, (uint16_t)(12 + extra), body, 12 + extra);
        ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_INVALID);
        ck_assert_str_eq(h.error, why);
    }
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_tlv_length_past_block_invalid)
{
    struct sockaddr_in s = v4("192.0.2.1", 1), d = v4("192.0.2.2", 2);
    uint8_t buf[PX_PROXY_MAX_HEADER];
    px_proxy_header h;
    size_t hlen;

    size_t n = px_proxy_v2_write((struct sockaddr *)&s, (struct sockaddr *)&d, &example_tlvs, buf,
                                 sizeof buf);
    ck_assert_uint_eq(n, 90);
    /* the header's length shortened by one: the last TLV now overruns it */
    buf[15]--;
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, "v2 header has a TLV running past its end");
    /* the SSL TLV's own length grown by one: overruns the header */
    buf[15]++;
    buf[16 + 12 + 5 + 14 + 2]++;
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_INVALID);
    /* TLV contents are not interpreted, only length-checked */
    buf[16 + 12 + 5 + 14 + 2]--;
    buf[16 + 12 + 5 + 14 + 3] = 0xFF; /* client byte */
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_OK);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_local_ok_no_addresses)
{
    uint8_t buf[64];
    px_proxy_header h;
    size_t hlen, n;

    n = v2_build(buf, 0x20, 0x00, 0, NULL, 0);
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_OK);
    ck_assert_int_eq(h.version, 2);
    ck_assert(!h.has_addresses);
    ck_assert_int_eq(h.src.ss_family, AF_UNSPEC);
    ck_assert_uint_eq(hlen, 16);

    /* LOCAL with an address block: valid, the addresses are discarded (§2.2) */
    n = v2_build(buf, 0x20, 0x11, 12, v4_block, 12);
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_OK);
    ck_assert(!h.has_addresses);
    ck_assert_uint_eq(hlen, 28);

    /* ... and the block is skipped unread: a LOCAL family need not match its length */
    n = v2_build(buf, 0x20, 0x21, 5, (const uint8_t[]){0x04, 0x00, 0x09, 0, 0}, 5);
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_OK);
    ck_assert(!h.has_addresses);
    ck_assert_uint_eq(hlen, 21);

    /* the fixed bytes are still checked */
    n = v2_build(buf, 0x20, 0x12, 0, NULL, 0);
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_INVALID);
    ck_assert_str_eq(h.error, "v2 header is for a datagram transport");
    n = v2_build(buf, 0x20, 0x40, 0, NULL, 0);
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_INVALID);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_non_tcp_ok_no_addresses)
{
    uint8_t buf[300] = {0}, junk[7] = {1, 2, 3, 4, 5, 6, 7};
    px_proxy_header h;
    size_t hlen, n;

    /* PROXY over AF_UNSPEC: the block is skipped whole, whatever it holds */
    n = v2_build(buf, 0x21, 0x00, sizeof junk, junk, sizeof junk);
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_OK);
    ck_assert(!h.has_addresses);
    ck_assert_uint_eq(hlen, 16 + sizeof junk);

    /* PROXY over IPv4 with transport UNSPEC: addresses ignored */
    n = v2_build(buf, 0x21, 0x10, 12, v4_block, 12);
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_OK);
    ck_assert(!h.has_addresses);

    /* UNIX stream: 216 address bytes, then TLVs */
    memset(buf, 0, sizeof buf);
    v2_build(buf, 0x21, 0x31, 216 + 3, NULL, 0);
    buf[16 + 216] = 0x04; /* PP2_TYPE_NOOP, empty */
    ck_assert_int_eq(parse(buf, 16 + 219, &h, &hlen), PX_PROXY_OK);
    ck_assert(!h.has_addresses);
    ck_assert_uint_eq(hlen, 16 + 219);
}
END_TEST

START_TEST(test_proxy_protocol_parse_v2_ipv4_trailing_noop_ok)
{
    uint8_t body[32], buf[64];
    px_proxy_header h;
    size_t hlen, n;

    memcpy(body, v4_block, 12);
    memcpy(body + 12, (const uint8_t[]){0x04, 0x00, 0x00}, 3);
    n = v2_build(buf, 0x21, 0x11, 15, body, 15);
    ck_assert_int_eq(parse(buf, n, &h, &hlen), PX_PROXY_OK);
    ck_assert(h.has_addresses);
    assert_v4(&h.src, "192.0.2.1", 56324);
    assert_v4(&h.dst, "198.51.100.7", 443);
    ck_assert_uint_eq(hlen, 31);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("proxy_protocol");
    TCase *w = tcase_create("write");
    TCase *rt = tcase_create("round_trip");
    TCase *adv = tcase_create("adversarial");

    tcase_add_test(w, test_proxy_protocol_v1_write_ipv4);
    tcase_add_test(w, test_proxy_protocol_v1_write_ipv6);
    tcase_add_test(w, test_proxy_protocol_v1_write_longest_ipv6);
    tcase_add_test(w, test_proxy_protocol_v1_write_mixed_families_unknown);
    tcase_add_test(w, test_proxy_protocol_v1_write_unix_unknown);
    tcase_add_test(w, test_proxy_protocol_v1_write_cap_too_small);
    tcase_add_test(w, test_proxy_protocol_v2_write_ipv4_tlvs_exact);
    tcase_add_test(w, test_proxy_protocol_v2_write_ipv6_exact);
    tcase_add_test(w, test_proxy_protocol_v2_write_mixed_families_local);
    tcase_add_test(w, test_proxy_protocol_v2_write_partial_tlvs);
    tcase_add_test(w, test_proxy_protocol_v2_write_early_data_tlv);
    tcase_add_test(w, test_proxy_protocol_v2_write_client_cert);
    tcase_add_test(w, test_proxy_protocol_v2_write_cap_too_small);
    suite_add_tcase(s, w);

    tcase_add_test(rt, test_proxy_protocol_parse_v1_round_trip_ipv4);
    tcase_add_test(rt, test_proxy_protocol_parse_v1_round_trip_ipv6);
    tcase_add_test(rt, test_proxy_protocol_parse_v1_round_trip_unknown);
    tcase_add_test(rt, test_proxy_protocol_parse_v2_round_trip_ipv4);
    tcase_add_test(rt, test_proxy_protocol_parse_v2_round_trip_ipv6);
    tcase_add_test(rt, test_proxy_protocol_parse_v1_unknown_ok);
    tcase_add_test(rt, test_proxy_protocol_parse_v2_local_ok_no_addresses);
    tcase_add_test(rt, test_proxy_protocol_parse_v2_non_tcp_ok_no_addresses);
    tcase_add_test(rt, test_proxy_protocol_parse_v2_ipv4_trailing_noop_ok);
    suite_add_tcase(s, rt);

    tcase_add_test(adv, test_proxy_protocol_parse_v1_every_prefix_need_more);
    tcase_add_test(adv, test_proxy_protocol_parse_v2_every_prefix_need_more);
    tcase_add_test(adv, test_proxy_protocol_parse_v2_max_length_partial_need_more);
    tcase_add_test(adv, test_proxy_protocol_parse_http_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_client_hello_invalid_first_byte);
    tcase_add_test(adv, test_proxy_protocol_parse_near_magic_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v1_double_space_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v1_no_crlf_within_107_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v1_bad_line_end_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v1_bad_port_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v1_bad_address_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v1_bad_protocol_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v2_bad_version_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v2_bad_command_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v2_bad_family_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v2_length_short_for_family_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v2_tlv_overflow_invalid);
    tcase_add_test(adv, test_proxy_protocol_parse_v2_tlv_length_past_block_invalid);
    suite_add_tcase(s, adv);
    return s;
}

TEST_MAIN(make_suite)
