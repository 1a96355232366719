/*
 * proxy_protocol.c — the HAProxy PROXY protocol v1/v2 writers and parser (see
 * proxy_protocol.h for the contract; the spec is HAProxy's doc/proxy-protocol.txt).
 *
 * Implementation notes:
 * - The parser keeps no state: the caller hands it everything received so far, again
 *   after every read. It answers NEED_MORE only while those bytes are a prefix of some
 *   valid header, and INVALID at the first byte no valid header could contain (§2.1:
 *   "abort the connection as soon as possible"), so a garbage peer is refused at once
 *   rather than when a timeout fires. A TLS ClientHello (0x16) fails on its first byte.
 * - Every received byte is read through tls_reader. Peeking copies the reader (it is a
 *   plain value); nothing indexes the caller's buffer directly.
 * - v1: the line, CRLF included, is at most 107 bytes (§2.1). A partial line is checked
 *   field by field as far as it goes: protocol, ports and IPv4 addresses as exact
 *   prefixes, IPv6 addresses by alphabet and length only (inet_pton judges the complete
 *   field). "UNKNOWN" lines are accepted and the rest before CRLF is ignored, as §2.1
 *   requires of receivers.
 * - v2: the fixed 16 bytes are always checked (version 2, command LOCAL/PROXY, a defined
 *   family, transport STREAM or UNSPEC), each as soon as it arrives. For PROXY the
 *   address block's layout is known for AF_INET, AF_INET6 and AF_UNIX: the length must
 *   cover it and the TLVs after it must fill the rest exactly. The rest of the time the
 *   block is skipped whole, by its length: for AF_UNSPEC it may hold address data of
 *   unknown form (§2.2: "it may or may not decide to log the address information if
 *   present"), and LOCAL "must" be accepted with "the protocol block including the
 *   family" discarded. Addresses are reported only for PROXY over TCP4/TCP6.
 */
#include "proxy/proxy_protocol.h"

#include "tls/codec.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <stdio.h>
#include <string.h>

#define PX_MUST_CHECK __attribute__((warn_unused_result))

/* §2.2: the 12-byte v2 signature, and the 16-byte fixed part it starts. */
static const uint8_t v2_sig[12] = {0x0D, 0x0A, 0x0D, 0x0A, 0x00, 0x0D,
                                   0x0A, 0x51, 0x55, 0x49, 0x54, 0x0A};
#define V2_FIXED_LEN 16
#define V2_VERSION 0x2
#define V2_CMD_LOCAL 0x0
#define V2_CMD_PROXY 0x1
#define V2_FAM_UNSPEC 0x0
#define V2_FAM_INET 0x1
#define V2_FAM_INET6 0x2
#define V2_FAM_UNIX 0x3
#define V2_PROTO_UNSPEC 0x0
#define V2_PROTO_STREAM 0x1
#define V2_PROTO_DGRAM 0x2
#define V2_ADDR_LEN_INET (2 * 4 + 2 * 2)
#define V2_ADDR_LEN_INET6 (2 * 16 + 2 * 2)
#define V2_ADDR_LEN_UNIX (2 * 108)

/* §2.2: TLV types. 0x22 is PP2_SUBTYPE_SSL_CN; the cipher is 0x23. */
#define PP2_TYPE_ALPN 0x01
#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_SSL 0x20
#define PP2_SUBTYPE_SSL_VERSION 0x21
#define PP2_SUBTYPE_SSL_CN 0x22
#define PP2_SUBTYPE_SSL_CIPHER 0x23
#define PP2_CLIENT_SSL 0x01
#define PP2_CLIENT_CERT_CONN 0x02
#define PP2_CLIENT_CERT_SESS 0x04

/* §2.1: "PROXY " starts every v1 line, which is at most 107 bytes with its CRLF. */
static const uint8_t v1_magic[6] = {'P', 'R', 'O', 'X', 'Y', ' '};
#define V1_MAX_LINE 107
/* The longest v1 field is an IPv6 address in text: INET6_ADDRSTRLEN - 1. */
#define V1_MAX_FIELD 45

/* ---- writing ------------------------------------------------------------------------ */

/* AF_INET or AF_INET6 when both addresses are of that family, else AF_UNSPEC. */
static int common_family(const struct sockaddr *src, const struct sockaddr *dst)
{
    if (!src || !dst || src->sa_family != dst->sa_family)
        return AF_UNSPEC;
    if (src->sa_family == AF_INET || src->sa_family == AF_INET6)
        return src->sa_family;
    return AF_UNSPEC;
}

size_t px_proxy_v1_write(const struct sockaddr *src, const struct sockaddr *dst, uint8_t *out,
                         size_t cap)
{
    char line[V1_MAX_LINE + 1];
    char s[INET6_ADDRSTRLEN], d[INET6_ADDRSTRLEN];
    int n = -1;

    /* memcpy rather than a cast: the caller's object is only known to be a sockaddr. */
    switch (common_family(src, dst)) {
    case AF_INET: {
        struct sockaddr_in a, b;
        memcpy(&a, src, sizeof a);
        memcpy(&b, dst, sizeof b);
        if (inet_ntop(AF_INET, &a.sin_addr, s, sizeof s) &&
            inet_ntop(AF_INET, &b.sin_addr, d, sizeof d))
            n = snprintf(line, sizeof line, "PROXY TCP4 %s %s %u %u\r\n", s, d,
                         (unsigned)ntohs(a.sin_port), (unsigned)ntohs(b.sin_port));
        break;
    }
    case AF_INET6: {
        struct sockaddr_in6 a, b;
        memcpy(&a, src, sizeof a);
        memcpy(&b, dst, sizeof b);
        if (inet_ntop(AF_INET6, &a.sin6_addr, s, sizeof s) &&
            inet_ntop(AF_INET6, &b.sin6_addr, d, sizeof d))
            n = snprintf(line, sizeof line, "PROXY TCP6 %s %s %u %u\r\n", s, d,
                         (unsigned)ntohs(a.sin6_port), (unsigned)ntohs(b.sin6_port));
        break;
    }
    default:
        break;
    }
    if (n < 0)
        n = snprintf(line, sizeof line, "PROXY UNKNOWN\r\n");
    if (n < 0 || (size_t)n >= sizeof line || (size_t)n > cap)
        return 0;
    memcpy(out, line, (size_t)n);
    return (size_t)n;
}

static void write_tlv(tls_writer *w, uint8_t type, const void *value, size_t len)
{
    tls_write_u8(w, type);
    tls_write_vec16(w, value, len);
}

size_t px_proxy_v2_write(const struct sockaddr *src, const struct sockaddr *dst,
                         const px_proxy_tlvs *tlvs, uint8_t *out, size_t cap)
{
    tls_writer w;
    int family = common_family(src, dst);

    tls_writer_init(&w, out, cap);
    tls_write_bytes(&w, v2_sig, sizeof v2_sig);
    tls_write_u8(&w,
                 (uint8_t)(V2_VERSION << 4 | (family == AF_UNSPEC ? V2_CMD_LOCAL : V2_CMD_PROXY)));
    switch (family) {
    case AF_INET: {
        struct sockaddr_in a, b;
        memcpy(&a, src, sizeof a);
        memcpy(&b, dst, sizeof b);
        tls_write_u8(&w, V2_FAM_INET << 4 | V2_PROTO_STREAM);
        tls_write_vec16_begin(&w);
        tls_write_bytes(&w, (const uint8_t *)&a.sin_addr, 4);
        tls_write_bytes(&w, (const uint8_t *)&b.sin_addr, 4);
        tls_write_u16(&w, ntohs(a.sin_port));
        tls_write_u16(&w, ntohs(b.sin_port));
        break;
    }
    case AF_INET6: {
        struct sockaddr_in6 a, b;
        memcpy(&a, src, sizeof a);
        memcpy(&b, dst, sizeof b);
        tls_write_u8(&w, V2_FAM_INET6 << 4 | V2_PROTO_STREAM);
        tls_write_vec16_begin(&w);
        tls_write_bytes(&w, a.sin6_addr.s6_addr, 16);
        tls_write_bytes(&w, b.sin6_addr.s6_addr, 16);
        tls_write_u16(&w, ntohs(a.sin6_port));
        tls_write_u16(&w, ntohs(b.sin6_port));
        break;
    }
    default:
        /* §2.2: LOCAL with AF_UNSPEC/UNSPEC and no address block. */
        tls_write_u8(&w, V2_FAM_UNSPEC << 4 | V2_PROTO_UNSPEC);
        tls_write_vec16_begin(&w);
        break;
    }

    if (tlvs) {
        if (tlvs->alpn && tlvs->alpn_len)
            write_tlv(&w, PP2_TYPE_ALPN, tlvs->alpn, tlvs->alpn_len);
        if (tlvs->sni)
            write_tlv(&w, PP2_TYPE_AUTHORITY, tlvs->sni, strlen(tlvs->sni));
        if (tlvs->tls_version || tlvs->tls_cipher) {
            /* struct pp2_tlv_ssl: client, verify, then sub-TLVs (§2.2.6). verify is 0
             * when no certificate was asked for (as HAProxy sends) or the client's
             * verified; a presented certificate that did not verify never gets this
             * far (the handshake fails), but the field says so if it ever does. */
            bool cert = tlvs->client_cert_conn || tlvs->client_cert_sess;
            uint8_t client = PP2_CLIENT_SSL | (tlvs->client_cert_conn ? PP2_CLIENT_CERT_CONN : 0) |
                             (tlvs->client_cert_sess ? PP2_CLIENT_CERT_SESS : 0);
            tls_write_u8(&w, PP2_TYPE_SSL);
            tls_write_vec16_begin(&w);
            tls_write_u8(&w, client);
            tls_write_u32(&w, cert && !tlvs->client_cert_verified ? 1 : 0);
            if (tlvs->tls_version)
                write_tlv(&w, PP2_SUBTYPE_SSL_VERSION, tlvs->tls_version,
                          strlen(tlvs->tls_version));
            if (cert && tlvs->client_cn)
                write_tlv(&w, PP2_SUBTYPE_SSL_CN, tlvs->client_cn, strlen(tlvs->client_cn));
            if (tlvs->tls_cipher)
                write_tlv(&w, PP2_SUBTYPE_SSL_CIPHER, tlvs->tls_cipher, strlen(tlvs->tls_cipher));
            tls_writer_end(&w);
        }
        if (tlvs->early_data) {
            static const uint8_t accepted = PX_PP2_EARLY_DATA_ACCEPTED;
            write_tlv(&w, PX_PP2_TYPE_EARLY_DATA, &accepted, 1);
        }
    }
    tls_writer_end(&w); /* the 16-bit length after fam */
    return tls_writer_ok(&w) ? w.len : 0;
}

/* ---- parsing: shared ---------------------------------------------------------------- */

static px_proxy_status invalid(px_proxy_header *out, const char *why)
{
    snprintf(out->error, sizeof out->error, "%s", why);
    return PX_PROXY_INVALID;
}

enum match { MATCH_NO, MATCH_PREFIX, MATCH_FULL };

/* Compares the start of r with magic: MATCH_FULL (and consumes it), MATCH_PREFIX when r
 * ends before magic does but agrees so far, MATCH_NO at the first differing byte. */
static enum match match_magic(tls_reader *r, const uint8_t *magic, size_t n)
{
    tls_reader peek = *r;
    for (size_t i = 0; i < n; i++) {
        uint8_t c;
        if (!tls_read_u8(&peek, &c))
            return MATCH_PREFIX;
        if (c != magic[i])
            return MATCH_NO;
    }
    *r = peek;
    return MATCH_FULL;
}

static void set_v4(struct sockaddr_storage *ss, const uint8_t addr[4], uint16_t port)
{
    struct sockaddr_in sin;
    memset(&sin, 0, sizeof sin);
    sin.sin_family = AF_INET;
    memcpy(&sin.sin_addr, addr, 4);
    sin.sin_port = htons(port);
    memcpy(ss, &sin, sizeof sin);
}

static void set_v6(struct sockaddr_storage *ss, const uint8_t addr[16], uint16_t port)
{
    struct sockaddr_in6 sin6;
    memset(&sin6, 0, sizeof sin6);
    sin6.sin6_family = AF_INET6;
    memcpy(sin6.sin6_addr.s6_addr, addr, 16);
    sin6.sin6_port = htons(port);
    memcpy(ss, &sin6, sizeof sin6);
}

/* ---- parsing: v1 -------------------------------------------------------------------- */

enum v1_field { V1_PROTO, V1_SRC, V1_DST, V1_SPORT, V1_DPORT };

static const char *const v1_field_error[] = {
    [V1_PROTO] = "v1 header has a bad protocol",
    [V1_SRC] = "v1 header has a bad source address",
    [V1_DST] = "v1 header has a bad destination address",
    [V1_SPORT] = "v1 header has a bad source port",
    [V1_DPORT] = "v1 header has a bad destination port",
};

/* How a field ended: at a space (consumed), at the end of a complete line, or at the end
 * of what has arrived of an incomplete one. */
enum field_end { END_SPACE, END_LINE, END_PARTIAL };

/* Copies the next field into field[] (NUL-terminated). False when it is longer than any
 * valid field or holds a byte no field may (a NUL would hide the rest from the string
 * checks that follow). */
static PX_MUST_CHECK bool v1_next_field(tls_reader *line, bool complete,
                                        char field[V1_MAX_FIELD + 1], enum field_end *end)
{
    size_t n = 0;
    for (;;) {
        uint8_t c;
        if (!tls_read_u8(line, &c)) {
            *end = complete ? END_LINE : END_PARTIAL;
            break;
        }
        if (c == ' ') {
            *end = END_SPACE;
            break;
        }
        if (n == V1_MAX_FIELD || c < 0x21 || c > 0x7e)
            return false;
        field[n++] = (char)c;
    }
    field[n] = '\0';
    return true;
}

static bool is_digit(char c)
{
    return c >= '0' && c <= '9';
}

/* A decimal port without sign or heading zeroes (§2.1), at most 65535; with `partial`,
 * whether f can still grow into one. */
static bool v1_port_ok(const char *f, bool partial, uint16_t *port)
{
    size_t n = strlen(f);
    unsigned long v = 0;
    if (n == 0)
        return partial;
    if (n > 5 || (f[0] == '0' && n > 1))
        return false;
    for (size_t i = 0; i < n; i++) {
        if (!is_digit(f[i]))
            return false;
        v = v * 10 + (unsigned long)(f[i] - '0');
    }
    if (v > 65535)
        return false;
    *port = (uint16_t)v;
    return true;
}

/* Whether f is a prefix of a dotted quad without heading zeroes (§2.1). */
static bool v1_ipv4_prefix_ok(const char *f)
{
    unsigned octets = 1, digits = 0, value = 0;
    char first = 0;
    for (const char *p = f; *p; p++) {
        if (*p == '.') {
            if (digits == 0 || ++octets > 4)
                return false;
            digits = value = 0;
        } else if (is_digit(*p)) {
            if (digits == 0)
                first = *p;
            else if (first == '0')
                return false;
            value = value * 10 + (unsigned)(*p - '0');
            if (++digits > 3 || value > 255)
                return false;
        } else {
            return false;
        }
    }
    return true;
}

/* IPv6 text alphabet (an embedded IPv4 tail brings digits and dots). */
static bool v1_ipv6_alphabet_ok(const char *f)
{
    for (const char *p = f; *p; p++) {
        char c = *p;
        if (!is_digit(c) && !(c >= 'a' && c <= 'f') && !(c >= 'A' && c <= 'F') && c != ':' &&
            c != '.')
            return false;
    }
    return true;
}

/* An address of `family`, complete (stored into addr) or, with `partial`, still a
 * possible prefix of one. */
static bool v1_addr_ok(const char *f, int family, bool partial, uint8_t addr[16])
{
    if (family == AF_INET) {
        if (!v1_ipv4_prefix_ok(f))
            return false;
    } else if (!v1_ipv6_alphabet_ok(f)) {
        return false;
    }
    return partial || inet_pton(family, f, addr) == 1;
}

static bool is_prefix_of(const char *f, const char *word)
{
    size_t n = strlen(f);
    return n <= strlen(word) && memcmp(f, word, n) == 0;
}

/* The fields after "PROXY ": line holds what has arrived of them, up to (not including)
 * the CRLF when `complete`. */
static PX_MUST_CHECK px_proxy_status v1_fields(tls_reader *line, bool complete,
                                               px_proxy_header *out)
{
    char f[V1_MAX_FIELD + 1];
    enum field_end end;
    int family = AF_UNSPEC;
    uint8_t src[16] = {0}, dst[16] = {0};
    uint16_t sport = 0, dport = 0;

    for (int i = V1_PROTO; i <= V1_DPORT; i++) {
        bool partial, ok;

        if (!v1_next_field(line, complete, f, &end))
            return invalid(out, v1_field_error[i]);
        partial = end == END_PARTIAL;
        if (f[0] == '\0' && !partial)
            return invalid(out, "v1 header fields must be separated by exactly one space");

        switch ((enum v1_field)i) {
        case V1_PROTO:
            if (partial) {
                ok = is_prefix_of(f, "TCP4") || is_prefix_of(f, "TCP6") ||
                     is_prefix_of(f, "UNKNOWN");
            } else if (strcmp(f, "UNKNOWN") == 0) {
                /* §2.1: the receiver ignores the rest of an UNKNOWN line. */
                return complete ? PX_PROXY_OK : PX_PROXY_NEED_MORE;
            } else {
                if (strcmp(f, "TCP4") == 0)
                    family = AF_INET;
                else if (strcmp(f, "TCP6") == 0)
                    family = AF_INET6;
                ok = family != AF_UNSPEC;
            }
            break;
        case V1_SRC:
            ok = v1_addr_ok(f, family, partial, src);
            break;
        case V1_DST:
            ok = v1_addr_ok(f, family, partial, dst);
            break;
        case V1_SPORT:
            ok = v1_port_ok(f, partial, &sport);
            break;
        case V1_DPORT:
            ok = v1_port_ok(f, partial, &dport);
            break;
        default:
            return invalid(out, "internal error: unknown v1 field");
        }
        if (!ok)
            return invalid(out, v1_field_error[i]);
        if (partial)
            return PX_PROXY_NEED_MORE;
        if (end == END_LINE && i != V1_DPORT)
            return invalid(out, "v1 header ends before its last field");
        if (end == END_SPACE && i == V1_DPORT)
            return invalid(out, "v1 header has data after the destination port");
    }

    out->has_addresses = true;
    if (family == AF_INET) {
        set_v4(&out->src, src, sport);
        set_v4(&out->dst, dst, dport);
    } else {
        set_v6(&out->src, src, sport);
        set_v6(&out->dst, dst, dport);
    }
    return PX_PROXY_OK;
}

/* r is just past "PROXY ". */
static PX_MUST_CHECK px_proxy_status parse_v1(tls_reader *r, px_proxy_header *out,
                                              size_t *header_len)
{
    tls_reader scan = *r, line;
    const uint8_t *text;
    size_t n = 0; /* bytes after "PROXY " and before the CR */
    bool complete, cr_pending = false;
    px_proxy_status st;

    out->version = 1;
    for (;;) {
        uint8_t c, lf;
        /* Even a CRLF as the next two bytes would not end the line in time. */
        if (sizeof v1_magic + n + 2 > V1_MAX_LINE)
            return invalid(out, "v1 header has no CRLF within 107 bytes");
        if (!tls_read_u8(&scan, &c)) {
            complete = false;
            break;
        }
        if (c == '\r') {
            if (!tls_read_u8(&scan, &lf)) {
                complete = false;
                cr_pending = true;
                break;
            }
            if (lf != '\n')
                return invalid(out, "v1 header has a CR not followed by LF");
            complete = true;
            break;
        }
        if (c == '\n')
            return invalid(out, "v1 header has a LF without CR");
        n++;
    }

    if (!tls_read_slice(r, n, &text))
        return invalid(out, "internal error: v1 line shorter than scanned");
    tls_reader_init(&line, text, n);
    /* With the CR here and its LF still to come, the fields are already all there: judge
     * them as a complete line, so "...1\r" missing its destination port fails now. */
    st = v1_fields(&line, complete || cr_pending, out);
    if (st == PX_PROXY_OK && cr_pending) {
        memset(out, 0, sizeof *out);
        out->version = 1;
        return PX_PROXY_NEED_MORE;
    }
    if (st == PX_PROXY_OK)
        *header_len = sizeof v1_magic + n + 2;
    return st;
}

/* ---- parsing: v2 -------------------------------------------------------------------- */

/* r is just past the 12-byte signature. */
static PX_MUST_CHECK px_proxy_status parse_v2(tls_reader *r, px_proxy_header *out,
                                              size_t *header_len)
{
    uint8_t ver_cmd, fam, src[16] = {0}, dst[16] = {0};
    uint16_t len, sport = 0, dport = 0;
    unsigned cmd, family, proto;
    size_t addr_len;
    const uint8_t *block;
    tls_reader body;

    out->version = 2;
    /* Each fixed byte is judged as soon as it arrives. */
    if (!tls_read_u8(r, &ver_cmd))
        return PX_PROXY_NEED_MORE;
    if (ver_cmd >> 4 != V2_VERSION)
        return invalid(out, "v2 header has an unsupported version");
    cmd = ver_cmd & 0x0f;
    if (cmd != V2_CMD_LOCAL && cmd != V2_CMD_PROXY)
        return invalid(out, "v2 header has an unknown command");

    if (!tls_read_u8(r, &fam))
        return PX_PROXY_NEED_MORE;
    family = fam >> 4;
    proto = fam & 0x0f;
    switch (family) {
    case V2_FAM_UNSPEC:
        addr_len = 0;
        break;
    case V2_FAM_INET:
        addr_len = V2_ADDR_LEN_INET;
        break;
    case V2_FAM_INET6:
        addr_len = V2_ADDR_LEN_INET6;
        break;
    case V2_FAM_UNIX:
        addr_len = V2_ADDR_LEN_UNIX;
        break;
    default:
        return invalid(out, "v2 header has an unknown address family");
    }
    if (proto == V2_PROTO_DGRAM)
        return invalid(out, "v2 header is for a datagram transport");
    if (proto != V2_PROTO_UNSPEC && proto != V2_PROTO_STREAM)
        return invalid(out, "v2 header has an unknown transport");

    if (!tls_read_u16(r, &len))
        return PX_PROXY_NEED_MORE;
    if (cmd == V2_CMD_PROXY && len < addr_len)
        return invalid(out, "v2 header is too short for its address family");
    /* §2.2: the receiver must not parse the addresses before the whole block is here. */
    if (!tls_read_slice(r, len, &block))
        return PX_PROXY_NEED_MORE;
    tls_reader_init(&body, block, len);

    if (cmd == V2_CMD_PROXY && family != V2_FAM_UNSPEC) {
        if (family == V2_FAM_INET) {
            if (!tls_read_bytes(&body, src, 4) || !tls_read_bytes(&body, dst, 4) ||
                !tls_read_u16(&body, &sport) || !tls_read_u16(&body, &dport))
                return invalid(out, "internal error: v2 address block");
        } else if (family == V2_FAM_INET6) {
            if (!tls_read_bytes(&body, src, 16) || !tls_read_bytes(&body, dst, 16) ||
                !tls_read_u16(&body, &sport) || !tls_read_u16(&body, &dport))
                return invalid(out, "internal error: v2 address block");
        } else if (!tls_read_skip(&body, addr_len)) {
            return invalid(out, "internal error: v2 address block");
        }
        /* struct pp2_tlv { type; length_hi; length_lo; value[] } until the block ends. */
        while (tls_reader_left(&body) > 0) {
            uint8_t type;
            tls_reader value;
            if (!tls_read_u8(&body, &type) || !tls_read_vec16(&body, 0, 0xffff, &value))
                return invalid(out, "v2 header has a TLV running past its end");
        }
    }

    if (cmd == V2_CMD_PROXY && proto == V2_PROTO_STREAM &&
        (family == V2_FAM_INET || family == V2_FAM_INET6)) {
        out->has_addresses = true;
        if (family == V2_FAM_INET) {
            set_v4(&out->src, src, sport);
            set_v4(&out->dst, dst, dport);
        } else {
            set_v6(&out->src, src, sport);
            set_v6(&out->dst, dst, dport);
        }
    }
    *header_len = V2_FIXED_LEN + (size_t)len;
    return PX_PROXY_OK;
}

px_proxy_status px_proxy_parse(const uint8_t *buf, size_t len, px_proxy_header *out,
                               size_t *header_len)
{
    tls_reader r;
    enum match v1, v2;

    memset(out, 0, sizeof *out);
    *header_len = 0;
    tls_reader_init(&r, buf, len);

    /* The two magics differ in their first byte, so at most one can still match. */
    v1 = match_magic(&r, v1_magic, sizeof v1_magic);
    if (v1 == MATCH_FULL)
        return parse_v1(&r, out, header_len);
    v2 = match_magic(&r, v2_sig, sizeof v2_sig);
    if (v2 == MATCH_FULL)
        return parse_v2(&r, out, header_len);
    if (v1 == MATCH_PREFIX || v2 == MATCH_PREFIX)
        return PX_PROXY_NEED_MORE;
    return invalid(out, "not a PROXY protocol header");
}
