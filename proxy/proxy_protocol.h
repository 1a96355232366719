/*
 * proxy_protocol.h — the HAProxy PROXY protocol, versions 1 (text) and 2 (binary).
 *
 * moat writes a header to a backend (so it learns the real client address and, in
 * v2, the TLS parameters) and may read one from a load balancer in front of it.
 * Pure functions over caller buffers; parsing goes through tls/codec's bounded
 * reader, so a hostile header can never make us read out of bounds.
 */
#ifndef MOAT_PROXY_PROTOCOL_H
#define MOAT_PROXY_PROTOCOL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/socket.h>

/* v1 headers are at most 107 bytes; v2 with our TLVs stays well under 1 KiB. */
#define PX_PROXY_MAX_HEADER 1024
/* A v2 header we accept may carry TLVs up to this size in total. */
#define PX_PROXY_MAX_INPUT (16 + 65535)

/* What a v2 header carries besides addresses (all optional; NULL/0 = absent). */
typedef struct {
    const char *sni;         /* PP2_TYPE_AUTHORITY */
    const uint8_t *alpn;     /* PP2_TYPE_ALPN */
    size_t alpn_len;
    const char *tls_version; /* PP2_SUBTYPE_SSL_VERSION inside PP2_TYPE_SSL, e.g. "TLSv1.3" */
    const char *tls_cipher;  /* PP2_SUBTYPE_SSL_CIPHER, e.g. "TLS13_AES_128_GCM_SHA256" */
    /* PX_PP2_TYPE_EARLY_DATA: the client's first bytes came as TLS 1.3 0-RTT early data,
     * which an attacker may replay (RFC 8446 §8); the backend decides what is safe. */
    bool early_data;
    /* Client certificates (mutual TLS), in PP2_TYPE_SSL: the client field's
     * PP2_CLIENT_CERT_CONN (presented on this connection) or PP2_CLIENT_CERT_SESS
     * (carried by the resumed session), verify = 0 when the certificate verified
     * (non-zero otherwise), and PP2_SUBTYPE_SSL_CN with the subject's common name. */
    bool client_cert_conn, client_cert_sess, client_cert_verified;
    const char *client_cn;
} px_proxy_tlvs;

/* moat's own TLV, in the range §2.2.8 reserves for custom use (0xE0-0xEF): one byte,
 * PX_PP2_EARLY_DATA_ACCEPTED, present only when 0-RTT early data was accepted. */
#define PX_PP2_TYPE_EARLY_DATA 0xE0
#define PX_PP2_EARLY_DATA_ACCEPTED 0x01

/*
 * Writes a v1 header ("PROXY TCP4 src dst sport dport\r\n"; "PROXY UNKNOWN\r\n" when
 * the addresses are not both IPv4 or both IPv6). Returns the length, or 0 if cap is
 * too small.
 */
size_t px_proxy_v1_write(const struct sockaddr *src, const struct sockaddr *dst, uint8_t *out,
                         size_t cap);
/*
 * Writes a v2 header (PROXY command, TCP over IPv4/IPv6, or LOCAL/UNSPEC when the
 * families differ or are not IP) with the given TLVs (tlvs may be NULL). The SSL TLV's
 * client field has PP2_CLIENT_SSL set and verify = 0. Returns the length, or 0 if
 * cap is too small.
 */
size_t px_proxy_v2_write(const struct sockaddr *src, const struct sockaddr *dst,
                         const px_proxy_tlvs *tlvs, uint8_t *out, size_t cap);

typedef enum {
    PX_PROXY_OK,         /* a complete, valid header: see *header_len */
    PX_PROXY_NEED_MORE,  /* a valid prefix so far: read more bytes */
    PX_PROXY_INVALID,    /* not a PROXY header, or a malformed one: refuse the connection */
} px_proxy_status;

/* What a received header said. For LOCAL (v2) or UNKNOWN (v1) has_addresses is false
 * and the connection's own addresses apply. */
typedef struct {
    int version; /* 1 or 2 */
    bool has_addresses;
    struct sockaddr_storage src, dst;
    char error[96]; /* why a header was refused, for the log */
} px_proxy_header;

/*
 * Parses a PROXY header at the start of buf (len bytes received so far). v1: the
 * line must end in CRLF within 107 bytes, "TCP4"/"TCP6"/"UNKNOWN", addresses and
 * ports valid. v2: 12-byte signature, version 2, command LOCAL or PROXY, family
 * AF_INET/AF_INET6/AF_UNSPEC with protocol STREAM or UNSPEC, address block long
 * enough for the family; TLVs are skipped (length-checked). Anything else is
 * PX_PROXY_INVALID with a reason in out->error.
 */
px_proxy_status px_proxy_parse(const uint8_t *buf, size_t len, px_proxy_header *out,
                               size_t *header_len);

#endif
