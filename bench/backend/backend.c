/*
 * backend.c — a small loopback backend that moat's `make run`, integration tests and
 * benchmarks put behind the proxy. Usage and output formats: bench/backend/README.md.
 *
 * Implementation notes
 * - One process, one libuv loop. Each connection is one `conn` that embeds its stream
 *   handle and a timer; conn_close() is the only place that starts closing them, and the
 *   conn is freed in the second close callback. libuv runs a stream's pending write and
 *   shutdown callbacks (with UV_ECANCELED) before its close callback, so those callbacks
 *   may still look at the conn: they see ST_CLOSED and only do bookkeeping.
 * - `in` holds received bytes not yet consumed: a PROXY header, request heads (pipelined
 *   ones too) and body bytes, which are consumed as they arrive. It grows on demand to the
 *   cap of the current state (a few hundred bytes for PROXY, 16 KiB for a request head,
 *   64 KiB for bulk data) and an idle keep-alive connection gives it back.
 * - HTTP: reading stops while a response is in progress (ST_RESPOND), so a client that
 *   pipelines can never make us buffer more than one head; the next request is taken from
 *   `in` once the response's last write has completed. /bytes is streamed from one static
 *   pattern block with at most BYTES_INFLIGHT writes queued (backpressure: the next chunk
 *   is queued from a write callback), so N up to 2^40 costs no memory.
 * - Small writes go through uv_try_write first; only what the socket did not take is copied
 *   into a heap write request, so the caller's buffer can live on the stack.
 * - Out of memory aborts: this is a test tool, not the daemon.
 */
#include <arpa/inet.h>
#include <errno.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/un.h>
#include <unistd.h>

#include <uv.h>

#define HEAD_MAX 16384u   /* request line + headers, final blank line included */
#define HEAD_BASE 4096u   /* first allocation for a request head */
#define BULK_BUF 65536u   /* read buffer for bodies, echo and sink */
#define PROXY_BASE 256u   /* first allocation while waiting for a PROXY header */
#define PROXY_V1_MAX 107u /* the v1 spec's longest line, CRLF included */
#define PROXY_V2_MAX (16u + 65535u)
#define PROXY_TIMEOUT_MS 10000u   /* a connection must send its PROXY header by then */
#define LINGER_MS 2000u           /* after our FIN, how long we keep discarding input */
#define ECHO_HIGH (1024u * 1024u) /* echo: stop reading above this many unsent bytes... */
#define ECHO_LOW (256u * 1024u)   /* ...and resume once the queue has drained below this */
#define BYTES_CHUNK 65536u
#define BYTES_INFLIGHT 16u /* /bytes: at most 16 x 64 KiB queued at once */
#define BYTES_MAX (UINT64_C(1) << 40)
#define SLOW_MAX_MS UINT64_C(86400000)
#define TLV_MAX 255u /* longest ALPN/authority/TLS string we keep */
#define ADDR_STR 64u /* "[v6 address]:port" fits */
#define BACKEND_NAME_MAX 255u
#define CONN_MAGIC 0x6261636bu /* "back" */
#define LISTEN_BACKLOG 1024

#if defined(__GNUC__)
#define PRINTF_LIKE(a, b) __attribute__((format(printf, a, b)))
#else
#define PRINTF_LIKE(a, b)
#endif

/* ---------------------------------------------------------------------------------------- */
/* Small helpers                                                                            */

static const char *log_name = "backend";
static bool log_quiet;

static void say(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void say(const char *fmt, ...)
{
    char line[1024];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(line, sizeof line, fmt, ap);
    va_end(ap);
    fprintf(stderr, "backend[%s]: %s\n", log_name, line);
}

static void *xrealloc(void *p, size_t n)
{
    void *q = realloc(p, n);
    if (q == NULL) {
        fprintf(stderr, "backend[%s]: out of memory\n", log_name);
        abort();
    }
    return q;
}

static void *xcalloc(size_t n)
{
    void *p = calloc(1, n);
    if (p == NULL) {
        fprintf(stderr, "backend[%s]: out of memory\n", log_name);
        abort();
    }
    return p;
}

static uint32_t load_be32(const uint8_t *p)
{
    return (uint32_t)p[0] << 24 | (uint32_t)p[1] << 16 | (uint32_t)p[2] << 8 | p[3];
}

static void store_be32(uint8_t *p, uint32_t v)
{
    p[0] = (uint8_t)(v >> 24);
    p[1] = (uint8_t)(v >> 16);
    p[2] = (uint8_t)(v >> 8);
    p[3] = (uint8_t)v;
}

static char ascii_lower(char c)
{
    return c >= 'A' && c <= 'Z' ? (char)(c - 'A' + 'a') : c;
}

/* Case-insensitive comparison of a counted string with a lowercase literal. */
static bool span_ieq(const char *p, size_t n, const char *lit)
{
    size_t i;
    for (i = 0; i < n; i++)
        if (lit[i] == '\0' || ascii_lower(p[i]) != lit[i])
            return false;
    return lit[i] == '\0';
}

/* Decimal without sign or leading garbage; false on empty, non-digit or > max. */
static bool parse_u64(const char *p, size_t n, uint64_t max, uint64_t *out)
{
    uint64_t v = 0;
    if (n == 0 || n > 20)
        return false;
    for (size_t i = 0; i < n; i++) {
        if (p[i] < '0' || p[i] > '9')
            return false;
        unsigned d = (unsigned)(p[i] - '0');
        if (v > (UINT64_MAX - d) / 10)
            return false;
        v = v * 10 + d;
    }
    if (v > max)
        return false;
    *out = v;
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* SHA-256 (FIPS 180-4)                                                                     */

typedef struct {
    uint32_t h[8];
    uint64_t total; /* bytes hashed so far */
    uint8_t block[64];
    size_t fill;
} sha256_ctx;

static const uint32_t sha256_k[64] = {
    0x428a2f98, 0x71374491, 0xb5c0fbcf, 0xe9b5dba5, 0x3956c25b, 0x59f111f1, 0x923f82a4, 0xab1c5ed5,
    0xd807aa98, 0x12835b01, 0x243185be, 0x550c7dc3, 0x72be5d74, 0x80deb1fe, 0x9bdc06a7, 0xc19bf174,
    0xe49b69c1, 0xefbe4786, 0x0fc19dc6, 0x240ca1cc, 0x2de92c6f, 0x4a7484aa, 0x5cb0a9dc, 0x76f988da,
    0x983e5152, 0xa831c66d, 0xb00327c8, 0xbf597fc7, 0xc6e00bf3, 0xd5a79147, 0x06ca6351, 0x14292967,
    0x27b70a85, 0x2e1b2138, 0x4d2c6dfc, 0x53380d13, 0x650a7354, 0x766a0abb, 0x81c2c92e, 0x92722c85,
    0xa2bfe8a1, 0xa81a664b, 0xc24b8b70, 0xc76c51a3, 0xd192e819, 0xd6990624, 0xf40e3585, 0x106aa070,
    0x19a4c116, 0x1e376c08, 0x2748774c, 0x34b0bcb5, 0x391c0cb3, 0x4ed8aa4a, 0x5b9cca4f, 0x682e6ff3,
    0x748f82ee, 0x78a5636f, 0x84c87814, 0x8cc70208, 0x90befffa, 0xa4506ceb, 0xbef9a3f7, 0xc67178f2,
};

static uint32_t ror32(uint32_t x, unsigned n)
{
    return (x >> n) | (x << (32 - n));
}

static void sha256_compress(uint32_t st[8], const uint8_t *p)
{
    uint32_t w[64];
    for (int i = 0; i < 16; i++)
        w[i] = load_be32(p + 4 * i);
    for (int i = 16; i < 64; i++) {
        uint32_t s0 = ror32(w[i - 15], 7) ^ ror32(w[i - 15], 18) ^ (w[i - 15] >> 3);
        uint32_t s1 = ror32(w[i - 2], 17) ^ ror32(w[i - 2], 19) ^ (w[i - 2] >> 10);
        w[i] = w[i - 16] + s0 + w[i - 7] + s1;
    }
    uint32_t a = st[0], b = st[1], c = st[2], d = st[3];
    uint32_t e = st[4], f = st[5], g = st[6], h = st[7];
    for (int i = 0; i < 64; i++) {
        uint32_t t1 = h + (ror32(e, 6) ^ ror32(e, 11) ^ ror32(e, 25)) + ((e & f) ^ (~e & g)) +
                      sha256_k[i] + w[i];
        uint32_t t2 = (ror32(a, 2) ^ ror32(a, 13) ^ ror32(a, 22)) + ((a & b) ^ (a & c) ^ (b & c));
        h = g;
        g = f;
        f = e;
        e = d + t1;
        d = c;
        c = b;
        b = a;
        a = t1 + t2;
    }
    st[0] += a;
    st[1] += b;
    st[2] += c;
    st[3] += d;
    st[4] += e;
    st[5] += f;
    st[6] += g;
    st[7] += h;
}

static void sha256_init(sha256_ctx *s)
{
    static const uint32_t iv[8] = {0x6a09e667, 0xbb67ae85, 0x3c6ef372, 0xa54ff53a,
                                   0x510e527f, 0x9b05688c, 0x1f83d9ab, 0x5be0cd19};
    memcpy(s->h, iv, sizeof iv);
    s->total = 0;
    s->fill = 0;
}

static void sha256_update(sha256_ctx *s, const void *data, size_t n)
{
    const uint8_t *p = data;
    s->total += n;
    if (s->fill > 0) {
        size_t take = 64 - s->fill < n ? 64 - s->fill : n;
        memcpy(s->block + s->fill, p, take);
        s->fill += take;
        p += take;
        n -= take;
        if (s->fill < 64)
            return;
        sha256_compress(s->h, s->block);
        s->fill = 0;
    }
    for (; n >= 64; p += 64, n -= 64)
        sha256_compress(s->h, p);
    memcpy(s->block, p, n);
    s->fill = n;
}

/* Writes 64 lowercase hex digits and a NUL. */
static void sha256_final_hex(sha256_ctx *s, char hex[65])
{
    uint64_t bits = s->total * 8;
    s->block[s->fill++] = 0x80;
    if (s->fill > 56) {
        memset(s->block + s->fill, 0, 64 - s->fill);
        sha256_compress(s->h, s->block);
        s->fill = 0;
    }
    memset(s->block + s->fill, 0, 56 - s->fill);
    store_be32(s->block + 56, (uint32_t)(bits >> 32));
    store_be32(s->block + 60, (uint32_t)bits);
    sha256_compress(s->h, s->block);
    for (int i = 0; i < 8; i++)
        snprintf(hex + 8 * i, 9, "%08" PRIx32, s->h[i]);
}

/* CRC-32C (Castagnoli), for the PROXY v2 CRC32C TLV. Chainable: pass the previous value. */
static uint32_t crc32c_update(uint32_t crc, const uint8_t *p, size_t n)
{
    crc = ~crc;
    while (n--) {
        crc ^= *p++;
        for (int k = 0; k < 8; k++)
            crc = (crc >> 1) ^ (0x82f63b78u & (0u - (crc & 1u)));
    }
    return ~crc;
}

/* ---------------------------------------------------------------------------------------- */
/* Bounded reader over untrusted bytes (STYLE.md: exact consumption)                        */

typedef struct {
    const uint8_t *p, *end;
} reader;

static bool rd_u8(reader *r, uint8_t *out)
{
    if (r->end - r->p < 1)
        return false;
    *out = *r->p++;
    return true;
}

static bool rd_u16(reader *r, uint16_t *out)
{
    if (r->end - r->p < 2)
        return false;
    *out = (uint16_t)(r->p[0] << 8 | r->p[1]);
    r->p += 2;
    return true;
}

static bool rd_sub(reader *r, size_t n, reader *sub)
{
    if ((size_t)(r->end - r->p) < n)
        return false;
    sub->p = r->p;
    sub->end = r->p + n;
    r->p += n;
    return true;
}

static bool rd_bytes(reader *r, void *out, size_t n)
{
    reader sub;
    if (!rd_sub(r, n, &sub))
        return false;
    memcpy(out, sub.p, n);
    return true;
}

static bool rd_done(const reader *r)
{
    return r->p == r->end;
}

/* ---------------------------------------------------------------------------------------- */
/* PROXY protocol v1/v2 receiver (haproxy's proxy-protocol.txt)                              */

#define PP2_TYPE_ALPN 0x01
#define PP2_TYPE_AUTHORITY 0x02
#define PP2_TYPE_CRC32C 0x03
#define PP2_TYPE_SSL 0x20
#define PP2_SUBTYPE_SSL_VERSION 0x21
#define PP2_SUBTYPE_SSL_CN 0x22
#define PP2_SUBTYPE_SSL_CIPHER 0x23

typedef struct {
    bool set;
    uint8_t len; /* 1..TLV_MAX when set */
    uint8_t data[TLV_MAX];
} tlv_str;

/* What a received header said; the conn owns one once a header has been accepted. */
typedef struct {
    int version;                       /* 1 or 2 */
    char src[ADDR_STR], dst[ADDR_STR]; /* "IP:PORT", "[IP6]:PORT", or "-" (LOCAL/UNKNOWN/UNSPEC) */
    tlv_str alpn, authority, tls_version, tls_cipher;
    /* PP2_TYPE_SSL's client field and verify, and the client certificate's CN. */
    uint8_t ssl_client;
    uint32_t ssl_verify;
    tlv_str tls_cn;
} proxy_info;

typedef enum {
    PP_OK,        /* a complete, valid header of *hdr_len bytes */
    PP_NEED_MORE, /* a valid prefix so far */
    PP_INVALID,   /* refuse the connection; *why says why */
} pp_status;

static const uint8_t pp_v2_sig[12] = {0x0d, 0x0a, 0x0d, 0x0a, 0x00, 0x0d,
                                      0x0a, 0x51, 0x55, 0x49, 0x54, 0x0a};

static void fmt_ip_port(int af, const void *addr, unsigned port, char out[ADDR_STR])
{
    char ip[INET6_ADDRSTRLEN];
    if (inet_ntop(af, addr, ip, sizeof ip) == NULL)
        snprintf(out, ADDR_STR, "-");
    else if (af == AF_INET6)
        snprintf(out, ADDR_STR, "[%s]:%u", ip, port);
    else
        snprintf(out, ADDR_STR, "%s:%u", ip, port);
}

static void fmt_sockaddr(const struct sockaddr *sa, char out[ADDR_STR])
{
    if (sa->sa_family == AF_INET) {
        const struct sockaddr_in *s4 = (const struct sockaddr_in *)sa;
        fmt_ip_port(AF_INET, &s4->sin_addr, ntohs(s4->sin_port), out);
    } else if (sa->sa_family == AF_INET6) {
        const struct sockaddr_in6 *s6 = (const struct sockaddr_in6 *)sa;
        fmt_ip_port(AF_INET6, &s6->sin6_addr, ntohs(s6->sin6_port), out);
    } else {
        snprintf(out, ADDR_STR, "-");
    }
}

/* v1 ports: decimal 0..65535 without leading zeros. */
static bool pp_v1_port(const uint8_t *p, size_t n, unsigned *out)
{
    uint64_t v;
    if (n > 1 && p[0] == '0')
        return false;
    if (!parse_u64((const char *)p, n, 65535, &v))
        return false;
    *out = (unsigned)v;
    return true;
}

static bool pp_v1_addr(int af, const uint8_t *p, size_t n, void *out)
{
    char tmp[INET6_ADDRSTRLEN];
    if (n == 0 || n >= sizeof tmp)
        return false;
    memcpy(tmp, p, n);
    tmp[n] = '\0';
    return inet_pton(af, tmp, out) == 1;
}

/* "PROXY TCP4 1.2.3.4 5.6.7.8 1111 2222\r\n" or "PROXY UNKNOWN...\r\n"; buf starts with a
 * prefix of "PROXY " (checked by the caller). */
static pp_status pp_parse_v1(const uint8_t *buf, size_t len, proxy_info *pi, size_t *hdr_len,
                             const char **why)
{
    size_t lim = len < PROXY_V1_MAX ? len : PROXY_V1_MAX;
    size_t cr;
    for (cr = 0; cr < lim && buf[cr] != '\r'; cr++) {
        if (buf[cr] < 0x20 || buf[cr] > 0x7e) {
            *why = "v1: control or non-ASCII byte in the header line";
            return PP_INVALID;
        }
    }
    if (cr + 2 > PROXY_V1_MAX) {
        *why = "v1: no CRLF within 107 bytes";
        return PP_INVALID;
    }
    if (cr + 2 > len)
        return PP_NEED_MORE;
    if (buf[cr + 1] != '\n') {
        *why = "v1: CR not followed by LF";
        return PP_INVALID;
    }
    *hdr_len = cr + 2;
    if (cr < 6) { /* "PROXY\r\n" */
        *why = "v1: no protocol";
        return PP_INVALID;
    }

    /* Split what follows "PROXY " at single spaces: proto src dst sport dport. */
    const uint8_t *tok[6];
    size_t tlen[6], ntok = 0, i = 6;
    while (i <= cr) {
        size_t s = i;
        while (i < cr && buf[i] != ' ')
            i++;
        if (ntok == 6) {
            ntok++;
            break;
        }
        tok[ntok] = buf + s;
        tlen[ntok++] = i - s;
        i++; /* past the space, or past cr to end the loop */
    }
    pi->version = 1;
    snprintf(pi->src, sizeof pi->src, "-");
    snprintf(pi->dst, sizeof pi->dst, "-");
    if (tlen[0] == 7 && memcmp(tok[0], "UNKNOWN", 7) == 0)
        return PP_OK; /* the rest of the line is ignored, as the spec says */

    int af;
    if (tlen[0] == 4 && memcmp(tok[0], "TCP4", 4) == 0)
        af = AF_INET;
    else if (tlen[0] == 4 && memcmp(tok[0], "TCP6", 4) == 0)
        af = AF_INET6;
    else {
        *why = "v1: protocol is not TCP4, TCP6 or UNKNOWN";
        return PP_INVALID;
    }
    uint8_t src[16], dst[16];
    unsigned sport, dport;
    if (ntok != 5) {
        *why = "v1: expected exactly: proto src dst sport dport";
        return PP_INVALID;
    }
    if (!pp_v1_addr(af, tok[1], tlen[1], src) || !pp_v1_addr(af, tok[2], tlen[2], dst)) {
        *why = "v1: bad address for the protocol";
        return PP_INVALID;
    }
    if (!pp_v1_port(tok[3], tlen[3], &sport) || !pp_v1_port(tok[4], tlen[4], &dport)) {
        *why = "v1: bad port";
        return PP_INVALID;
    }
    fmt_ip_port(af, src, sport, pi->src);
    fmt_ip_port(af, dst, dport, pi->dst);
    return PP_OK;
}

/* Keeps a TLV's value; refuses empty, over-long and repeated values. */
static bool pp_take_str(const reader *v, tlv_str *s)
{
    size_t n = (size_t)(v->end - v->p);
    if (s->set || n == 0 || n > TLV_MAX)
        return false;
    memcpy(s->data, v->p, n);
    s->len = (uint8_t)n;
    s->set = true;
    return true;
}

/* PP2_TYPE_SSL: client (1), verify (4), then sub-TLVs. */
static bool pp_parse_ssl(reader *v, proxy_info *pi, const char **why)
{
    uint8_t client, verify[4];
    if (!rd_u8(v, &client) || !rd_bytes(v, verify, sizeof verify)) {
        *why = "v2: SSL TLV shorter than 5 bytes";
        return false;
    }
    pi->ssl_client = client;
    pi->ssl_verify = (uint32_t)verify[0] << 24 | (uint32_t)verify[1] << 16 |
                     (uint32_t)verify[2] << 8 | verify[3];
    while (!rd_done(v)) {
        uint8_t type;
        uint16_t n;
        reader sub;
        if (!rd_u8(v, &type) || !rd_u16(v, &n) || !rd_sub(v, n, &sub)) {
            *why = "v2: truncated SSL sub-TLV";
            return false;
        }
        if ((type == PP2_SUBTYPE_SSL_VERSION && !pp_take_str(&sub, &pi->tls_version)) ||
            (type == PP2_SUBTYPE_SSL_CIPHER && !pp_take_str(&sub, &pi->tls_cipher)) ||
            (type == PP2_SUBTYPE_SSL_CN && !pp_take_str(&sub, &pi->tls_cn))) {
            *why = "v2: SSL version/cipher/CN empty, over 255 bytes or repeated";
            return false;
        }
    }
    return true;
}

static bool pp_parse_tlvs(reader *r, const uint8_t *hdr, size_t hdr_len, proxy_info *pi,
                          const char **why)
{
    while (!rd_done(r)) {
        uint8_t type;
        uint16_t n;
        reader v;
        if (!rd_u8(r, &type) || !rd_u16(r, &n) || !rd_sub(r, n, &v)) {
            *why = "v2: truncated TLV";
            return false;
        }
        switch (type) {
        case PP2_TYPE_ALPN:
            if (!pp_take_str(&v, &pi->alpn)) {
                *why = "v2: ALPN TLV empty, over 255 bytes or repeated";
                return false;
            }
            break;
        case PP2_TYPE_AUTHORITY:
            if (!pp_take_str(&v, &pi->authority)) {
                *why = "v2: AUTHORITY TLV empty, over 255 bytes or repeated";
                return false;
            }
            break;
        case PP2_TYPE_CRC32C: {
            /* The checksum covers the whole header with this field taken as zero. */
            static const uint8_t zero[4];
            size_t off = (size_t)(v.p - hdr);
            if (n != 4) {
                *why = "v2: CRC32C TLV is not 4 bytes";
                return false;
            }
            uint32_t crc = crc32c_update(0, hdr, off);
            crc = crc32c_update(crc, zero, 4);
            crc = crc32c_update(crc, hdr + off + 4, hdr_len - off - 4);
            if (crc != load_be32(v.p)) {
                *why = "v2: CRC32C mismatch";
                return false;
            }
            break;
        }
        case PP2_TYPE_SSL:
            if (!pp_parse_ssl(&v, pi, why))
                return false;
            break;
        default: /* NOOP, UNIQUE_ID, NETNS and unknown types are skipped, as the spec says */
            break;
        }
    }
    return true;
}

static pp_status pp_parse_v2(const uint8_t *buf, size_t len, proxy_info *pi, size_t *hdr_len,
                             const char **why)
{
    if (len < 16)
        return PP_NEED_MORE;
    uint8_t ver_cmd = buf[12], fam = buf[13];
    size_t body = (size_t)buf[14] << 8 | buf[15];
    if (ver_cmd >> 4 != 2) {
        *why = "v2: version is not 2";
        return PP_INVALID;
    }
    if ((ver_cmd & 0x0f) > 1) {
        *why = "v2: command is neither LOCAL nor PROXY";
        return PP_INVALID;
    }
    if (len < 16 + body)
        return PP_NEED_MORE;
    *hdr_len = 16 + body;
    pi->version = 2;
    snprintf(pi->src, sizeof pi->src, "-");
    snprintf(pi->dst, sizeof pi->dst, "-");
    if ((ver_cmd & 0x0f) == 0)
        return PP_OK; /* LOCAL (health checks): the whole block is ignored */

    reader r = {buf + 16, buf + 16 + body};
    uint16_t sport, dport;
    switch (fam) {
    case 0x00: /* UNSPEC: no addresses, the connection's own apply */
        break;
    case 0x11: { /* TCP over IPv4 */
        uint8_t s[4], d[4];
        if (!rd_bytes(&r, s, 4) || !rd_bytes(&r, d, 4) || !rd_u16(&r, &sport) ||
            !rd_u16(&r, &dport)) {
            *why = "v2: address block too short for TCP4";
            return PP_INVALID;
        }
        fmt_ip_port(AF_INET, s, sport, pi->src);
        fmt_ip_port(AF_INET, d, dport, pi->dst);
        break;
    }
    case 0x21: { /* TCP over IPv6 */
        uint8_t s[16], d[16];
        if (!rd_bytes(&r, s, 16) || !rd_bytes(&r, d, 16) || !rd_u16(&r, &sport) ||
            !rd_u16(&r, &dport)) {
            *why = "v2: address block too short for TCP6";
            return PP_INVALID;
        }
        fmt_ip_port(AF_INET6, s, sport, pi->src);
        fmt_ip_port(AF_INET6, d, dport, pi->dst);
        break;
    }
    default:
        *why = "v2: family/protocol is not TCP4, TCP6 or UNSPEC";
        return PP_INVALID;
    }
    return pp_parse_tlvs(&r, buf, *hdr_len, pi, why) ? PP_OK : PP_INVALID;
}

/* Parses a PROXY header at the start of buf (len bytes received so far). On PP_OK *pi is
 * filled and *hdr_len bytes belong to the header; on PP_INVALID *why is a static string. */
static pp_status pp_parse(const uint8_t *buf, size_t len, proxy_info *pi, size_t *hdr_len,
                          const char **why)
{
    memset(pi, 0, sizeof *pi);
    if (len == 0)
        return PP_NEED_MORE;
    if (buf[0] == 'P') {
        if (memcmp(buf, "PROXY ", len < 6 ? len : 6) != 0) {
            *why = "not a PROXY header";
            return PP_INVALID;
        }
        return len < 6 ? PP_NEED_MORE : pp_parse_v1(buf, len, pi, hdr_len, why);
    }
    if (memcmp(buf, pp_v2_sig, len < 12 ? len : 12) != 0) {
        *why = "not a PROXY header";
        return PP_INVALID;
    }
    return pp_parse_v2(buf, len, pi, hdr_len, why);
}

/* ---------------------------------------------------------------------------------------- */
/* Server and connection state                                                              */

typedef enum { MODE_HTTP, MODE_ECHO, MODE_SINK } run_mode;

typedef struct {
    const char *listen;
    const char *name;
    bool proxy_protocol;
    bool quiet;
    run_mode mode;
} options;

typedef struct conn conn;

typedef struct {
    uv_loop_t loop;
    options opt;
    bool is_unix;
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } listener;
    uv_signal_t sigterm, sigint;
    bool stopping;
    conn *conns; /* every connection not yet closing, for SIGTERM */
    char unix_path[sizeof(((struct sockaddr_un *)0)->sun_path)];
} server;

typedef enum {
    ST_PROXY,   /* waiting for the PROXY header (--proxy-protocol); timer = header deadline */
    ST_HEAD,    /* http: reading a request head */
    ST_BODY,    /* http: consuming a Content-Length body (hashed for /sha256) */
    ST_RESPOND, /* http: a response is being written or (/slow) waited for; not reading */
    ST_ECHO,    /* echo: every byte read is written back */
    ST_SINK,    /* sink: bytes read are counted and hashed */
    ST_LINGER,  /* our side is finished and shut down (FIN); input is discarded until the
                 * peer's EOF or the timer, so the peer sees our last bytes, not a reset */
    ST_CLOSED,  /* uv_close called; waiting for the two close callbacks */
} conn_state;

typedef enum {
    EP_ROOT,
    EP_PROXY,
    EP_BYTES,
    EP_SHA256,
    EP_SLOW,
    EP_CLOSE,
    EP_NOT_FOUND,
    EP_ERROR, /* answered with req.status */
} endpoint;

typedef struct {
    endpoint ep;
    int status;      /* EP_ERROR only */
    bool head_only;  /* HEAD: the headers GET would get */
    bool keep_alive; /* false: shut down after the response */
    bool expect_continue;
    bool framed;  /* the head parsed: body length and keep-alive are known */
    uint64_t arg; /* n for /bytes, ms for /slow */
    uint64_t body_len, body_left;
    char line[100]; /* the request line, truncated, for the log */
} request;

struct conn {
    uint32_t magic;
    server *srv;
    conn *prev, *next;
    union {
        uv_tcp_t tcp;
        uv_pipe_t pipe;
    } h;
    uv_timer_t timer;
    uv_shutdown_t shut;
    int open_handles; /* freed when the last close callback brings this to 0 */
    conn_state state;
    bool reading, peer_eof, in_process, echo_paused, timer_wait;
    char *in;
    size_t in_len, in_cap, head_scan; /* head_scan: where the head search resumes */
    unsigned writes_pending;          /* uv_write requests whose callback has not run */
    request req;
    uint64_t bytes_left, bytes_off; /* /bytes streaming */
    uint64_t count;                 /* sink */
    sha256_ctx sha;                 /* /sha256 body or the sink stream */
    proxy_info *pinfo;              /* NULL unless a PROXY header was accepted */
    char peer[ADDR_STR];            /* TCP peer as "IP:PORT", "-" for unix sockets */
};

/* A write whose bytes the caller did not keep: data[] holds them (len 0 for /bytes chunks,
 * which point into the static pattern). req is first so the callback can cast back. */
typedef struct {
    uv_write_t req;
    conn *c;
    char data[];
} wreq;

/* (i * 31 + 7) & 0xff repeats every 256 bytes, so a chunk starting at any offset is a slice
 * of this block starting at offset % 256. */
static uint8_t pattern[BYTES_CHUNK + 256];

static void conn_process(conn *c);
static void conn_close(conn *c);
static void conn_shutdown(conn *c);
static void on_write(uv_write_t *req, int status);

static conn *conn_check(void *p)
{
    conn *c = p;
    if (c == NULL || c->magic != CONN_MAGIC) {
        fprintf(stderr, "backend[%s]: corrupt connection pointer\n", log_name);
        abort();
    }
    return c;
}

static uv_stream_t *conn_stream(conn *c)
{
    return (uv_stream_t *)&c->h;
}

/* The one place a connection changes state (a trace line here shows every transition). */
static void conn_set_state(conn *c, conn_state st)
{
    c->state = st;
}

static bool conn_wants_read(const conn *c)
{
    if (c->peer_eof)
        return false;
    switch (c->state) {
    case ST_PROXY:
    case ST_HEAD:
    case ST_BODY:
    case ST_SINK:
    case ST_LINGER:
        return true;
    case ST_ECHO:
        return !c->echo_paused;
    case ST_RESPOND:
    case ST_CLOSED:
        return false;
    default:
        abort();
    }
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf);
static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf);

static void conn_update_reading(conn *c)
{
    if (c->state == ST_CLOSED)
        return;
    bool want = conn_wants_read(c);
    if (want == c->reading)
        return;
    if (want) {
        int rc = uv_read_start(conn_stream(c), on_alloc, on_read);
        if (rc < 0) {
            if (!log_quiet)
                say("%s: read_start: %s", c->peer, uv_strerror(rc));
            conn_close(c);
            return;
        }
    } else {
        uv_read_stop(conn_stream(c));
    }
    c->reading = want;
}

static void consume(conn *c, size_t n)
{
    memmove(c->in, c->in + n, c->in_len - n);
    c->in_len -= n;
    c->head_scan = 0;
}

/* ---------------------------------------------------------------------------------------- */
/* Writing                                                                                  */

/* Writes len bytes that the caller may reuse on return: uv_try_write first, the rest copied
 * into a write request. 0 or a UV_E* code (then the caller closes). */
static int send_block(conn *c, const void *data, size_t len)
{
    uv_stream_t *s = conn_stream(c);
    size_t off = 0;
    uv_buf_t b = uv_buf_init((char *)data, (unsigned)len);
    int n = uv_try_write(s, &b, 1);
    if (n >= 0)
        off = (size_t)n;
    else if (n != UV_EAGAIN)
        return n;
    if (off == len)
        return 0;
    wreq *w = xrealloc(NULL, sizeof *w + (len - off));
    w->c = c;
    memcpy(w->data, (const char *)data + off, len - off);
    b = uv_buf_init(w->data, (unsigned)(len - off));
    int rc = uv_write(&w->req, s, &b, 1, on_write);
    if (rc < 0) {
        free(w);
        return rc;
    }
    c->writes_pending++;
    return 0;
}

/* Queues the next /bytes chunks until BYTES_INFLIGHT writes are pending or the unsent
 * queue reaches BYTES_INFLIGHT chunks; on_write calls again. 0 or a UV_E* code. */
static int pump_bytes(conn *c)
{
    uv_stream_t *s = conn_stream(c);
    while (c->bytes_left > 0 && c->writes_pending < BYTES_INFLIGHT &&
           uv_stream_get_write_queue_size(s) < (size_t)BYTES_INFLIGHT * BYTES_CHUNK) {
        size_t n = c->bytes_left < BYTES_CHUNK ? (size_t)c->bytes_left : BYTES_CHUNK;
        wreq *w = xrealloc(NULL, sizeof *w);
        w->c = c;
        uv_buf_t b = uv_buf_init((char *)pattern + (c->bytes_off & 0xff), (unsigned)n);
        int rc = uv_write(&w->req, s, &b, 1, on_write);
        if (rc < 0) {
            free(w);
            return rc;
        }
        c->writes_pending++;
        c->bytes_left -= n;
        c->bytes_off += n;
    }
    return 0;
}

static const char *status_text(int status)
{
    switch (status) {
    case 200:
        return "OK";
    case 400:
        return "Bad Request";
    case 404:
        return "Not Found";
    case 431:
        return "Request Header Fields Too Large";
    case 501:
        return "Not Implemented";
    default:
        return "Unknown";
    }
}

/* Head (and body unless HEAD) of a response; content_length may exceed body_len when the
 * caller streams the rest. 0 or a UV_E* code. */
static int send_response(conn *c, int status, const char *ctype, const char *body, size_t body_len,
                         uint64_t content_length)
{
    char out[10240];
    int hl = snprintf(out, sizeof out,
                      "HTTP/1.1 %d %s\r\n"
                      "Content-Type: %s\r\n"
                      "Content-Length: %" PRIu64 "\r\n"
                      "X-Backend: %s\r\n"
                      "%s"
                      "\r\n",
                      status, status_text(status), ctype, content_length, c->srv->opt.name,
                      c->req.keep_alive ? "" : "Connection: close\r\n");
    if (hl < 0 || (size_t)hl > sizeof out - 1)
        return UV_ENOBUFS; /* cannot happen: the name is at most 255 bytes */
    size_t len = (size_t)hl;
    if (!c->req.head_only && body_len > 0) {
        if (body_len > sizeof out - len)
            return UV_ENOBUFS; /* our bug: bodies built here are bounded well below */
        memcpy(out + len, body, body_len);
        len += body_len;
    }
    if (!log_quiet)
        say("%s \"%s\" %d %" PRIu64, c->peer, c->req.line, status, content_length);
    return send_block(c, out, len);
}

static int send_text(conn *c, int status, const char *text)
{
    size_t n = strlen(text);
    return send_response(c, status, "text/plain", text, n, n);
}

/* ---------------------------------------------------------------------------------------- */
/* HTTP/1.1                                                                                 */

typedef struct {
    char *p;
    size_t len, cap;
} sbuf;

static void sb_printf(sbuf *b, const char *fmt, ...) PRINTF_LIKE(2, 3);
static void sb_printf(sbuf *b, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(b->p + b->len, b->cap - b->len, fmt, ap);
    va_end(ap);
    if (n > 0)
        b->len += (size_t)n < b->cap - b->len ? (size_t)n : b->cap - b->len - 1;
}

/* Printable ASCII as is, anything else (and the backslash) as \xNN. */
static void sb_tlv_line(sbuf *b, const char *key, const tlv_str *v)
{
    sb_printf(b, "%s: ", key);
    if (v == NULL || !v->set)
        sb_printf(b, "-");
    else
        for (size_t i = 0; i < v->len; i++) {
            uint8_t ch = v->data[i];
            if (ch >= 0x20 && ch < 0x7f && ch != '\\')
                sb_printf(b, "%c", ch);
            else
                sb_printf(b, "\\x%02x", ch);
        }
    sb_printf(b, "\n");
}

static int respond_proxy(conn *c)
{
    char body[8192]; /* 4 values of at most 4 x 255 bytes escaped, addresses, keys */
    sbuf b = {body, 0, sizeof body};
    const proxy_info *pi = c->pinfo;
    sb_printf(&b, "version: %s\n", pi == NULL ? "none" : pi->version == 1 ? "1" : "2");
    sb_printf(&b, "src: %s\n", pi ? pi->src : "-");
    sb_printf(&b, "dst: %s\n", pi ? pi->dst : "-");
    sb_tlv_line(&b, "alpn", pi ? &pi->alpn : NULL);
    sb_tlv_line(&b, "authority", pi ? &pi->authority : NULL);
    sb_tlv_line(&b, "tls_version", pi ? &pi->tls_version : NULL);
    sb_tlv_line(&b, "tls_cipher", pi ? &pi->tls_cipher : NULL);
    /* Only when the client presented a certificate (mTLS), so other answers keep
     * their shape: the client bits (0x02 this connection, 0x04 the session),
     * verify, and the CN. */
    if (pi && (pi->ssl_client & 0x06)) {
        sb_printf(&b, "tls_client_cert:%s%s verify=%u\n", pi->ssl_client & 0x02 ? " conn" : "",
                  pi->ssl_client & 0x04 ? " session" : "", (unsigned)pi->ssl_verify);
        sb_tlv_line(&b, "tls_cn", &pi->tls_cn);
    }
    sb_printf(&b, "peer: %s\n", c->peer);
    return send_response(c, 200, "text/plain", body, b.len, b.len);
}

static void maybe_finish_response(conn *c)
{
    if (c->state != ST_RESPOND || c->timer_wait || c->bytes_left > 0 || c->writes_pending > 0)
        return;
    if (!c->req.keep_alive) {
        conn_shutdown(c);
        return;
    }
    conn_set_state(c, ST_HEAD);
    if (!c->in_process)
        conn_process(c);
}

static void on_timer(uv_timer_t *t);

static void start_response(conn *c)
{
    request *r = &c->req;
    char body[512];
    int rc = 0;
    conn_set_state(c, ST_RESPOND);
    switch (r->ep) {
    case EP_ROOT:
        snprintf(body, sizeof body, "hello from %s\n", c->srv->opt.name);
        rc = send_text(c, 200, body);
        break;
    case EP_PROXY:
        rc = respond_proxy(c);
        break;
    case EP_BYTES:
        rc = send_response(c, 200, "application/octet-stream", NULL, 0, r->arg);
        c->bytes_left = r->head_only ? 0 : r->arg;
        c->bytes_off = 0;
        if (rc == 0)
            rc = pump_bytes(c);
        break;
    case EP_SHA256: {
        char hex[65];
        sha256_final_hex(&c->sha, hex);
        snprintf(body, sizeof body, "%s %" PRIu64 "\n", hex, r->body_len);
        rc = send_text(c, 200, body);
        break;
    }
    case EP_SLOW:
        c->timer_wait = true;
        rc = uv_timer_start(&c->timer, on_timer, r->arg, 0);
        break;
    case EP_CLOSE:
        if (!log_quiet)
            say("%s \"%s\" closed without answering", c->peer, r->line);
        conn_close(c);
        return;
    case EP_NOT_FOUND:
        rc = send_text(c, 404, "Not Found\n");
        break;
    case EP_ERROR:
        snprintf(body, sizeof body, "%s\n", status_text(r->status));
        rc = send_text(c, r->status, body);
        break;
    default:
        abort();
    }
    if (rc < 0) {
        if (!log_quiet)
            say("%s: write: %s", c->peer, uv_strerror(rc));
        conn_close(c);
        return;
    }
    maybe_finish_response(c);
}

static bool is_tchar(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
           (ch != '\0' && strchr("!#$%&'*+-.^_`|~", ch) != NULL);
}

/* The value of `key` in a query string "a=1&n=5"; false when absent or not a number <= max. */
static bool query_u64(const char *q, size_t qlen, const char *key, uint64_t max, uint64_t *out)
{
    size_t klen = strlen(key);
    size_t i = 0;
    while (i < qlen) {
        size_t s = i;
        while (i < qlen && q[i] != '&')
            i++;
        if (i - s > klen && memcmp(q + s, key, klen) == 0 && q[s + klen] == '=')
            return parse_u64(q + s + klen + 1, i - s - klen - 1, max, out);
        i++;
    }
    return false;
}

/* The request line (or what came first) for the log: truncated, non-printables as '?'. */
static void set_log_line(request *r, const char *l, size_t ll)
{
    if (ll > 0 && l[ll - 1] == '\r')
        ll--;
    size_t n = ll < sizeof r->line - 1 ? ll : sizeof r->line - 1;
    for (size_t i = 0; i < n; i++)
        r->line[i] = (unsigned char)l[i] < 0x20 || (unsigned char)l[i] >= 0x7f ? '?' : l[i];
    r->line[n] = '\0';
}

typedef struct {
    size_t mlen;     /* method: l[0..mlen) */
    size_t ts, tlen; /* target: l[ts..ts+tlen) */
    bool http11;     /* else HTTP/1.0 */
} request_line;

/* method SP target SP HTTP/1.x (RFC 9112 §3), l[0..ll) without the line ending. */
static bool parse_request_line(const char *l, size_t ll, request_line *rl)
{
    size_t i = 0;
    while (i < ll && is_tchar(l[i]))
        i++;
    rl->mlen = i;
    if (rl->mlen == 0 || rl->mlen > 16 || i >= ll || l[i] != ' ')
        return false;
    rl->ts = ++i;
    while (i < ll && l[i] > 0x20 && l[i] < 0x7f)
        i++;
    rl->tlen = i - rl->ts;
    if (rl->tlen == 0 || i >= ll || l[i] != ' ')
        return false;
    i++;
    if (ll - i != 8 || memcmp(l + i, "HTTP/1.", 7) != 0 || (l[i + 7] != '0' && l[i + 7] != '1'))
        return false;
    rl->http11 = l[i + 7] == '1';
    return true;
}

/* Fills c->req from a complete head h[0..len) (ending in its blank line). A head we cannot
 * frame gets EP_ERROR with keep_alive false, and its body (if any) is never read. */
static void parse_request(conn *c, const char *h, size_t len)
{
    request *r = &c->req;
    memset(r, 0, sizeof *r);
    r->ep = EP_ERROR;
    r->status = 400;

    /* Request line: method SP target SP HTTP/1.x (RFC 9112 §3). */
    const char *nl = memchr(h, '\n', len);
    size_t ll = (size_t)(nl - h);
    size_t pos = ll + 1;
    if (ll > 0 && h[ll - 1] == '\r')
        ll--;
    set_log_line(r, h, ll);
    request_line rl;
    if (!parse_request_line(h, ll, &rl))
        return;
    size_t mlen = rl.mlen, ts = rl.ts, tlen = rl.tlen;
    bool http11 = rl.http11;

    /* Header fields (RFC 9112 §5), up to the blank line. */
    bool has_cl = false, te = false, conn_close_tok = false, conn_keep_tok = false;
    uint64_t cl = 0;
    for (;;) {
        nl = memchr(h + pos, '\n', len - pos);
        const char *l = h + pos;
        ll = (size_t)(nl - l);
        pos += ll + 1;
        if (ll > 0 && l[ll - 1] == '\r')
            ll--;
        if (ll == 0)
            break;
        size_t k = 0;
        while (k < ll && is_tchar(l[k]))
            k++;
        if (k == 0 || k >= ll || l[k] != ':')
            return; /* also obs-fold continuation lines, which start with SP/HT */
        const char *v = l + k + 1, *ve = l + ll;
        while (v < ve && (*v == ' ' || *v == '\t'))
            v++;
        while (ve > v && (ve[-1] == ' ' || ve[-1] == '\t'))
            ve--;
        for (const char *p = v; p < ve; p++)
            if (((unsigned char)*p < 0x20 && *p != '\t') || *p == 0x7f)
                return;
        size_t vlen = (size_t)(ve - v);
        if (span_ieq(l, k, "content-length")) {
            uint64_t n;
            if (!parse_u64(v, vlen, UINT64_MAX / 2, &n) || (has_cl && n != cl))
                return;
            has_cl = true;
            cl = n;
        } else if (span_ieq(l, k, "transfer-encoding")) {
            te = true;
        } else if (span_ieq(l, k, "connection")) {
            size_t j = 0;
            while (j < vlen) {
                size_t s = j;
                while (j < vlen && v[j] != ',')
                    j++;
                size_t e = j++;
                while (s < e && (v[s] == ' ' || v[s] == '\t'))
                    s++;
                while (e > s && (v[e - 1] == ' ' || v[e - 1] == '\t'))
                    e--;
                conn_close_tok |= span_ieq(v + s, e - s, "close");
                conn_keep_tok |= span_ieq(v + s, e - s, "keep-alive");
            }
        } else if (span_ieq(l, k, "expect")) {
            r->expect_continue = span_ieq(v, vlen, "100-continue");
        }
    }
    if (te) {
        r->status = 501; /* chunked (or any transfer coding) is not implemented */
        return;
    }

    r->framed = true;
    r->keep_alive = http11 ? !conn_close_tok : conn_keep_tok && !conn_close_tok;
    r->body_len = r->body_left = cl;

    const char *target = h + ts;
    const char *q = memchr(target, '?', tlen);
    size_t plen = q ? (size_t)(q - target) : tlen;
    size_t qlen = q ? tlen - plen - 1 : 0;
    q = q ? q + 1 : "";
    bool get = (mlen == 3 && memcmp(h, "GET", 3) == 0);
    r->head_only = (mlen == 4 && memcmp(h, "HEAD", 4) == 0);
    get = get || r->head_only;
    bool post = (mlen == 4 && memcmp(h, "POST", 4) == 0);
#define PATH_IS(lit) (plen == sizeof(lit) - 1 && memcmp(target, lit, plen) == 0)
    if (get && PATH_IS("/"))
        r->ep = EP_ROOT;
    else if (get && PATH_IS("/proxy"))
        r->ep = EP_PROXY;
    else if (get && PATH_IS("/bytes"))
        r->ep = query_u64(q, qlen, "n", BYTES_MAX, &r->arg) ? EP_BYTES : EP_ERROR;
    else if (post && PATH_IS("/sha256"))
        r->ep = EP_SHA256;
    else if (get && PATH_IS("/slow"))
        r->ep = query_u64(q, qlen, "ms", SLOW_MAX_MS, &r->arg) ? EP_SLOW : EP_ERROR;
    else if (get && PATH_IS("/close"))
        r->ep = EP_CLOSE;
    else
        r->ep = EP_NOT_FOUND;
#undef PATH_IS
    /* EP_ERROR here is a bad query on a well-framed request: 400, connection kept. */
}

/* Finds the blank line ending a head; *end is the offset just past it. */
static bool find_head_end(conn *c, size_t *end)
{
    size_t pos = c->head_scan;
    for (;;) {
        const char *nl = memchr(c->in + pos, '\n', c->in_len - pos);
        if (nl == NULL) {
            c->head_scan = pos;
            return false;
        }
        size_t next = (size_t)(nl - c->in) + 1;
        size_t ll = next - pos - 1;
        if (ll > 0 && c->in[pos + ll - 1] == '\r')
            ll--;
        if (ll == 0 && pos > 0) {
            *end = next;
            return true;
        }
        pos = next;
    }
}

static void request_error(conn *c, int status)
{
    memset(&c->req, 0, sizeof c->req);
    c->req.ep = EP_ERROR;
    c->req.status = status;
    const char *nl = memchr(c->in, '\n', c->in_len);
    set_log_line(&c->req, c->in, nl ? (size_t)(nl - c->in) : c->in_len);
    start_response(c);
}

/* The step functions return true when the state changed and another step may progress. */

static bool step_head(conn *c)
{
    size_t skip = 0, end;
    /* RFC 9112 §2.2: empty lines before a request line are ignored. */
    while (skip < c->in_len && (c->in[skip] == '\r' || c->in[skip] == '\n'))
        skip++;
    if (skip > 0)
        consume(c, skip);
    if (c->in_len == 0)
        return false;
    if (!find_head_end(c, &end)) {
        /* A bad request line is refused as soon as it is complete, not at HEAD_MAX. */
        const char *nl = memchr(c->in, '\n', c->in_len);
        request_line rl;
        if (nl != NULL) {
            size_t ll = (size_t)(nl - c->in);
            if (ll > 0 && c->in[ll - 1] == '\r')
                ll--;
            if (!parse_request_line(c->in, ll, &rl)) {
                request_error(c, 400);
                return true;
            }
        }
        if (c->in_len < HEAD_MAX)
            return false;
        request_error(c, 431);
        return true;
    }
    if (end > HEAD_MAX) {
        request_error(c, 431);
        return true;
    }
    parse_request(c, c->in, end);
    consume(c, end);
    request *r = &c->req;
    if (r->ep == EP_SHA256)
        sha256_init(&c->sha);
    if (!r->framed || r->ep == EP_CLOSE) {
        /* Where the next request would start is unknown (or irrelevant): answer, then close. */
        r->body_left = 0;
        r->keep_alive = false;
    }
    if (r->body_left > 0) {
        if (r->expect_continue) {
            static const char cont[] = "HTTP/1.1 100 Continue\r\n\r\n";
            int rc = send_block(c, cont, sizeof cont - 1);
            if (rc < 0) {
                conn_close(c);
                return false;
            }
        }
        conn_set_state(c, ST_BODY);
        return true;
    }
    start_response(c);
    return true;
}

static bool step_body(conn *c)
{
    if (c->in_len == 0)
        return false;
    size_t take = c->req.body_left < c->in_len ? (size_t)c->req.body_left : c->in_len;
    if (c->req.ep == EP_SHA256)
        sha256_update(&c->sha, c->in, take);
    c->req.body_left -= take;
    consume(c, take);
    if (c->req.body_left > 0)
        return false;
    start_response(c);
    return true;
}

/* ---------------------------------------------------------------------------------------- */
/* PROXY header, echo and sink                                                              */

static conn_state mode_state(const server *srv)
{
    switch (srv->opt.mode) {
    case MODE_HTTP:
        return ST_HEAD;
    case MODE_ECHO:
        return ST_ECHO;
    case MODE_SINK:
        return ST_SINK;
    default:
        abort();
    }
}

static bool step_proxy(conn *c)
{
    proxy_info pi;
    size_t hdr_len = 0;
    const char *why = "";
    switch (pp_parse((const uint8_t *)c->in, c->in_len, &pi, &hdr_len, &why)) {
    case PP_NEED_MORE:
        return false;
    case PP_INVALID:
        if (!log_quiet)
            say("%s: refused: %s", c->peer, why);
        conn_close(c);
        return false;
    case PP_OK:
        uv_timer_stop(&c->timer);
        c->pinfo = xrealloc(NULL, sizeof pi);
        *c->pinfo = pi;
        consume(c, hdr_len);
        if (c->srv->opt.mode == MODE_SINK)
            sha256_init(&c->sha);
        conn_set_state(c, mode_state(c->srv));
        return true;
    default:
        abort();
    }
}

static bool step_echo(conn *c)
{
    if (c->in_len == 0)
        return false;
    int rc = send_block(c, c->in, c->in_len);
    c->in_len = 0;
    if (rc < 0) {
        if (!log_quiet)
            say("%s: write: %s", c->peer, uv_strerror(rc));
        conn_close(c);
        return false;
    }
    if (uv_stream_get_write_queue_size(conn_stream(c)) > ECHO_HIGH)
        c->echo_paused = true;
    return false;
}

static bool step_sink(conn *c)
{
    c->count += c->in_len;
    sha256_update(&c->sha, c->in, c->in_len);
    c->in_len = 0;
    return false;
}

static void sink_finish(conn *c)
{
    char hex[65], line[96];
    sha256_final_hex(&c->sha, hex);
    int n = snprintf(line, sizeof line, "%" PRIu64 " %s\n", c->count, hex);
    if (!log_quiet)
        say("%s: sink: %s", c->peer, hex);
    int rc = send_block(c, line, (size_t)n);
    if (rc < 0) {
        conn_close(c);
        return;
    }
    conn_shutdown(c);
}

/* ---------------------------------------------------------------------------------------- */
/* Connection I/O                                                                           */

static void conn_process(conn *c)
{
    if (c->in_process)
        return;
    c->in_process = true;
    bool again = true;
    while (again) {
        switch (c->state) {
        case ST_PROXY:
            again = step_proxy(c);
            break;
        case ST_HEAD:
            again = step_head(c);
            break;
        case ST_BODY:
            again = step_body(c);
            break;
        case ST_ECHO:
            again = step_echo(c);
            break;
        case ST_SINK:
            again = step_sink(c);
            break;
        case ST_LINGER:
            c->in_len = 0;
            again = false;
            break;
        case ST_RESPOND:
        case ST_CLOSED:
            again = false;
            break;
        default:
            abort();
        }
    }
    c->in_process = false;
    if (c->state == ST_HEAD && c->in_len == 0 && c->in != NULL) {
        free(c->in); /* an idle keep-alive connection holds no buffer */
        c->in = NULL;
        c->in_cap = 0;
    }
    conn_update_reading(c);
}

static void on_alloc(uv_handle_t *h, size_t suggested, uv_buf_t *buf)
{
    conn *c = conn_check(h->data);
    size_t base, lim;
    (void)suggested;
    switch (c->state) {
    case ST_PROXY:
        base = PROXY_BASE;
        lim = PROXY_V2_MAX;
        break;
    case ST_HEAD:
        base = HEAD_BASE;
        lim = HEAD_MAX;
        break;
    case ST_LINGER: /* discarding: whatever buffer is there will do */
        base = lim = c->in_cap > 0 ? c->in_cap : HEAD_BASE;
        break;
    default:
        base = lim = BULK_BUF;
        break;
    }
    if (c->in_cap < lim && (c->in_cap < base || c->in_len == c->in_cap)) {
        size_t ncap = c->in_cap < base ? base : c->in_cap * 2;
        c->in_cap = ncap < lim ? ncap : lim;
        c->in = xrealloc(c->in, c->in_cap);
    }
    /* Full at the state's cap cannot happen (the steps act first); libuv then reports
     * UV_ENOBUFS and the connection closes. */
    buf->base = c->in + c->in_len;
    buf->len = c->in_cap - c->in_len;
}

static void on_read(uv_stream_t *s, ssize_t nread, const uv_buf_t *buf)
{
    conn *c = conn_check(s->data);
    (void)buf; /* always c->in + c->in_len */
    if (nread > 0) {
        c->in_len += (size_t)nread;
        conn_process(c);
        return;
    }
    if (nread == 0)
        return;
    if (nread != UV_EOF) {
        if (!log_quiet && nread != UV_ECONNRESET)
            say("%s: read: %s", c->peer, uv_strerror((int)nread));
        conn_close(c);
        return;
    }
    /* libuv has stopped reading on EOF. */
    c->peer_eof = true;
    c->reading = false;
    if (c->state == ST_PROXY && !log_quiet)
        say("%s: refused: EOF before a complete PROXY header", c->peer);
    if (c->state == ST_ECHO)
        conn_shutdown(c); /* FIN after the queued echo writes */
    else if (c->state == ST_SINK)
        sink_finish(c);
    else
        conn_close(c); /* http between or inside requests, PROXY, linger */
}

static void on_write(uv_write_t *req, int status)
{
    wreq *w = (wreq *)req;
    conn *c = conn_check(w->c);
    free(w);
    c->writes_pending--;
    if (c->state == ST_CLOSED)
        return;
    if (status < 0) {
        if (!log_quiet && status != UV_EPIPE && status != UV_ECONNRESET)
            say("%s: write: %s", c->peer, uv_strerror(status));
        conn_close(c);
        return;
    }
    if (c->state == ST_RESPOND) {
        int rc = pump_bytes(c);
        if (rc < 0) {
            conn_close(c);
            return;
        }
        maybe_finish_response(c);
    } else if (c->state == ST_ECHO && c->echo_paused &&
               uv_stream_get_write_queue_size(conn_stream(c)) <= ECHO_LOW) {
        c->echo_paused = false;
        conn_update_reading(c);
    }
}

static void on_timer(uv_timer_t *t)
{
    conn *c = conn_check(t->data);
    if (c->state == ST_PROXY) {
        if (!log_quiet)
            say("%s: refused: no PROXY header within %u ms", c->peer, PROXY_TIMEOUT_MS);
        conn_close(c);
    } else if (c->state == ST_RESPOND && c->timer_wait) {
        char body[64];
        c->timer_wait = false;
        snprintf(body, sizeof body, "slept %" PRIu64 " ms\n", c->req.arg);
        int rc = send_text(c, 200, body);
        if (rc < 0) {
            conn_close(c);
            return;
        }
        maybe_finish_response(c);
    } else if (c->state == ST_LINGER) {
        conn_close(c);
    }
}

static void on_shutdown(uv_shutdown_t *req, int status)
{
    conn *c = conn_check(req->data);
    if (c->state == ST_CLOSED)
        return;
    if (status < 0 || c->peer_eof) {
        conn_close(c);
        return;
    }
    uv_timer_start(&c->timer, on_timer, LINGER_MS, 0);
}

/* Sends FIN after every queued write, then lingers (ST_LINGER) until the peer closes. */
static void conn_shutdown(conn *c)
{
    uv_timer_stop(&c->timer);
    conn_set_state(c, ST_LINGER);
    c->shut.data = c;
    int rc = uv_shutdown(&c->shut, conn_stream(c), on_shutdown);
    if (rc < 0) {
        conn_close(c);
        return;
    }
    c->in_len = 0;
    if (!c->in_process)
        conn_update_reading(c);
}

static void on_conn_close(uv_handle_t *h)
{
    conn *c = conn_check(h->data);
    if (--c->open_handles > 0)
        return;
    free(c->in);
    free(c->pinfo);
    c->magic = 0;
    free(c);
}

static void conn_close(conn *c)
{
    if (c->state == ST_CLOSED)
        return;
    conn_set_state(c, ST_CLOSED);
    c->reading = false;
    if (c->prev)
        c->prev->next = c->next;
    else
        c->srv->conns = c->next;
    if (c->next)
        c->next->prev = c->prev;
    c->prev = c->next = NULL;
    uv_close((uv_handle_t *)conn_stream(c), on_conn_close);
    uv_close((uv_handle_t *)&c->timer, on_conn_close);
}

static void on_connection(uv_stream_t *ls, int status)
{
    server *srv = ls->data;
    if (status < 0) {
        say("accept: %s", uv_strerror(status));
        return;
    }
    conn *c = xcalloc(sizeof *c);
    c->magic = CONN_MAGIC;
    c->srv = srv;
    if (srv->is_unix)
        uv_pipe_init(&srv->loop, &c->h.pipe, 0);
    else
        uv_tcp_init(&srv->loop, &c->h.tcp);
    conn_stream(c)->data = c;
    uv_timer_init(&srv->loop, &c->timer);
    c->timer.data = c;
    c->open_handles = 2;
    c->next = srv->conns;
    if (srv->conns)
        srv->conns->prev = c;
    srv->conns = c;
    snprintf(c->peer, sizeof c->peer, "-");
    conn_set_state(c, srv->opt.proxy_protocol ? ST_PROXY : mode_state(srv));

    int rc = uv_accept(ls, conn_stream(c));
    if (rc < 0) {
        say("accept: %s", uv_strerror(rc));
        conn_close(c);
        return;
    }
    if (!srv->is_unix) {
        struct sockaddr_storage ss;
        int sl = sizeof ss;
        uv_tcp_nodelay(&c->h.tcp, 1);
        if (uv_tcp_getpeername(&c->h.tcp, (struct sockaddr *)&ss, &sl) == 0)
            fmt_sockaddr((const struct sockaddr *)&ss, c->peer);
    }
    if (c->state == ST_PROXY)
        uv_timer_start(&c->timer, on_timer, PROXY_TIMEOUT_MS, 0);
    if (c->state == ST_SINK)
        sha256_init(&c->sha);
    conn_update_reading(c);
}

/* ---------------------------------------------------------------------------------------- */
/* Listener, signals, main                                                                  */

static void on_signal(uv_signal_t *sig, int signum)
{
    server *srv = sig->data;
    if (srv->stopping)
        return;
    srv->stopping = true;
    if (!log_quiet)
        say("%s: exiting", signum == SIGTERM ? "SIGTERM" : "SIGINT");
    uv_close((uv_handle_t *)&srv->listener, NULL);
    uv_close((uv_handle_t *)&srv->sigterm, NULL);
    uv_close((uv_handle_t *)&srv->sigint, NULL);
    while (srv->conns)
        conn_close(srv->conns);
}

/* "127.0.0.1:PORT", "[::1]:PORT" (any IPv4/IPv6 literal; "localhost" = 127.0.0.1). */
static bool parse_tcp_addr(const char *a, struct sockaddr_storage *ss)
{
    char host[INET6_ADDRSTRLEN + 16];
    const char *port;
    bool v6 = a[0] == '[';
    if (v6) {
        const char *close = strchr(a, ']');
        if (close == NULL || close[1] != ':' || (size_t)(close - a - 1) >= sizeof host)
            return false;
        memcpy(host, a + 1, (size_t)(close - a - 1));
        host[close - a - 1] = '\0';
        port = close + 2;
    } else {
        const char *colon = strrchr(a, ':');
        if (colon == NULL || (size_t)(colon - a) >= sizeof host)
            return false;
        memcpy(host, a, (size_t)(colon - a));
        host[colon - a] = '\0';
        port = colon + 1;
        if (strcmp(host, "localhost") == 0)
            snprintf(host, sizeof host, "127.0.0.1");
    }
    uint64_t p;
    if (!parse_u64(port, strlen(port), 65535, &p))
        return false;
    memset(ss, 0, sizeof *ss);
    if (v6)
        return uv_ip6_addr(host, (int)p, (struct sockaddr_in6 *)ss) == 0;
    return uv_ip4_addr(host, (int)p, (struct sockaddr_in *)ss) == 0;
}

/* A unix socket file nobody accepts on is left over from a killed run: safe to remove. */
static bool unix_socket_is_stale(const char *path)
{
    struct stat st;
    struct sockaddr_un sa;
    if (lstat(path, &st) != 0 || !S_ISSOCK(st.st_mode))
        return false;
    int fd = socket(AF_UNIX, SOCK_STREAM, 0);
    if (fd < 0)
        return false;
    memset(&sa, 0, sizeof sa);
    sa.sun_family = AF_UNIX;
    snprintf(sa.sun_path, sizeof sa.sun_path, "%s", path);
    bool stale = connect(fd, (struct sockaddr *)&sa, sizeof sa) != 0 && errno == ECONNREFUSED;
    close(fd);
    return stale;
}

/* Binds and listens; prints the bound address into out. 0 or a UV_E* code (*what says
 * which step failed). */
static int server_listen(server *srv, char *out, size_t cap, const char **what)
{
    const char *a = srv->opt.listen;
    int rc;
    if (strncmp(a, "unix:", 5) == 0) {
        const char *path = a + 5;
        *what = "address";
        if (path[0] == '\0' || strlen(path) >= sizeof srv->unix_path)
            return UV_EINVAL;
        srv->is_unix = true;
        uv_pipe_init(&srv->loop, &srv->listener.pipe, 0);
        srv->listener.pipe.data = srv;
        *what = "bind";
        rc = uv_pipe_bind(&srv->listener.pipe, path);
        if (rc == UV_EADDRINUSE && unix_socket_is_stale(path)) {
            unlink(path);
            rc = uv_pipe_bind(&srv->listener.pipe, path);
        }
        if (rc < 0)
            return rc;
        snprintf(srv->unix_path, sizeof srv->unix_path, "%s", path);
        *what = "listen";
        rc = uv_listen((uv_stream_t *)&srv->listener.pipe, LISTEN_BACKLOG, on_connection);
        snprintf(out, cap, "unix:%s", path);
        return rc;
    }
    struct sockaddr_storage ss;
    int sl = sizeof ss;
    uv_tcp_init(&srv->loop, &srv->listener.tcp);
    srv->listener.tcp.data = srv;
    *what = "address";
    if (!parse_tcp_addr(a, &ss))
        return UV_EINVAL;
    *what = "bind";
    rc = uv_tcp_bind(&srv->listener.tcp, (const struct sockaddr *)&ss, 0);
    if (rc < 0)
        return rc;
    *what = "listen";
    rc = uv_listen((uv_stream_t *)&srv->listener.tcp, LISTEN_BACKLOG, on_connection);
    if (rc < 0)
        return rc;
    *what = "getsockname";
    rc = uv_tcp_getsockname(&srv->listener.tcp, (struct sockaddr *)&ss, &sl);
    if (rc == 0)
        fmt_sockaddr((const struct sockaddr *)&ss, out);
    (void)cap;
    return rc;
}

static void usage(FILE *f)
{
    fprintf(f, "usage: backend [--listen ADDR] [--name NAME] [--proxy-protocol]\n"
               "               [--mode http|echo|sink] [--quiet]\n"
               "  ADDR: 127.0.0.1:PORT (PORT 0: any), [::1]:PORT or unix:/path"
               " (default 127.0.0.1:8080)\n"
               "  prints \"listening on ADDR\" on stdout once listening; see "
               "bench/backend/README.md\n");
}

/* 0, or 2 after printing why (the exit status for usage errors). */
static int parse_options(int argc, char **argv, options *o)
{
    o->listen = "127.0.0.1:8080";
    o->name = "backend";
    o->mode = MODE_HTTP;
    for (int i = 1; i < argc; i++) {
        const char *arg = argv[i], *val = NULL;
        bool needs_val = strcmp(arg, "--listen") == 0 || strcmp(arg, "--name") == 0 ||
                         strcmp(arg, "--mode") == 0;
        if (needs_val) {
            if (i + 1 >= argc) {
                fprintf(stderr, "backend: %s needs a value\n", arg);
                return 2;
            }
            val = argv[++i];
        }
        if (strcmp(arg, "--listen") == 0) {
            o->listen = val;
        } else if (strcmp(arg, "--name") == 0) {
            size_t n = strlen(val);
            bool ok = n > 0 && n <= BACKEND_NAME_MAX;
            for (size_t k = 0; k < n; k++)
                ok = ok && val[k] >= 0x20 && val[k] < 0x7f;
            if (!ok) {
                fprintf(stderr, "backend: --name: 1 to %u printable ASCII characters\n",
                        BACKEND_NAME_MAX);
                return 2;
            }
            o->name = val;
        } else if (strcmp(arg, "--mode") == 0) {
            if (strcmp(val, "http") == 0)
                o->mode = MODE_HTTP;
            else if (strcmp(val, "echo") == 0)
                o->mode = MODE_ECHO;
            else if (strcmp(val, "sink") == 0)
                o->mode = MODE_SINK;
            else {
                fprintf(stderr, "backend: --mode: http, echo or sink\n");
                return 2;
            }
        } else if (strcmp(arg, "--proxy-protocol") == 0) {
            o->proxy_protocol = true;
        } else if (strcmp(arg, "--quiet") == 0) {
            o->quiet = true;
        } else if (strcmp(arg, "--help") == 0 || strcmp(arg, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else {
            fprintf(stderr, "backend: unknown argument '%s'\n", arg);
            usage(stderr);
            return 2;
        }
    }
    return 0;
}

int main(int argc, char **argv)
{
    static server srv; /* static: big (a loop and handles), and reached from callbacks */
    char bound[ADDR_STR + sizeof srv.unix_path];
    const char *what = "";
    int status = 0;

    if (parse_options(argc, argv, &srv.opt) != 0)
        return 2;
    log_name = srv.opt.name;
    log_quiet = srv.opt.quiet;
    signal(SIGPIPE, SIG_IGN);
    for (size_t i = 0; i < sizeof pattern; i++)
        pattern[i] = (uint8_t)((i * 31 + 7) & 0xff);

    int rc = uv_loop_init(&srv.loop);
    if (rc < 0) {
        fprintf(stderr, "backend: uv_loop_init: %s\n", uv_strerror(rc));
        return 1;
    }
    rc = server_listen(&srv, bound, sizeof bound, &what);
    if (rc < 0) {
        fprintf(stderr, "backend: cannot listen on %s: %s: %s\n", srv.opt.listen, what,
                uv_strerror(rc));
        status = 1;
        if (((uv_handle_t *)&srv.listener)->loop != NULL) /* initialised */
            uv_close((uv_handle_t *)&srv.listener, NULL);
        uv_run(&srv.loop, UV_RUN_DEFAULT);
        if (srv.unix_path[0] != '\0')
            unlink(srv.unix_path);
        uv_loop_close(&srv.loop);
        return status;
    }
    printf("listening on %s\n", bound);
    fflush(stdout);

    uv_signal_init(&srv.loop, &srv.sigterm);
    uv_signal_init(&srv.loop, &srv.sigint);
    srv.sigterm.data = srv.sigint.data = &srv;
    uv_signal_start(&srv.sigterm, on_signal, SIGTERM);
    uv_signal_start(&srv.sigint, on_signal, SIGINT);

    uv_run(&srv.loop, UV_RUN_DEFAULT);
    rc = uv_loop_close(&srv.loop);
    if (rc < 0) {
        fprintf(stderr, "backend: uv_loop_close: %s\n", uv_strerror(rc));
        status = 1;
    }
    if (srv.unix_path[0] != '\0')
        unlink(srv.unix_path);
    return status;
}
