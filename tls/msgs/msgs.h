/*
 * msgs.h — decoding and encoding of handshake message bodies and extensions.
 *
 * Decoders fill structs whose tls_slice fields borrow from the message buffer: the
 * struct is valid only while that buffer is. Every vector is length-checked against
 * its RFC bounds; every decoder ends by requiring that nothing is left over.
 * Encoders append to a tls_writer; overflow is our bug (TLS_ERR_INTERNAL).
 */
#ifndef MOAT_TLS_MSGS_H
#define MOAT_TLS_MSGS_H

#include "../internal.h"

/* RFC 8446 §4.1.2, with the extensions a server cares about. */
typedef struct {
    uint16_t legacy_version;
    const uint8_t *random; /* 32 bytes */
    tls_slice session_id;
    tls_slice cipher_suites; /* u16 list */
    bool null_compression_only;
    bool null_compression_offered;
    bool has_extensions;

    bool has_server_name;
    char server_name[256]; /* lower case, trailing dot removed; "" if not a host name */
    bool has_supported_versions;
    tls_slice supported_versions; /* u16 list */
    bool has_groups;
    tls_slice groups; /* u16 list */
    bool has_sig_algs;
    tls_slice sig_algs; /* u16 list */
    bool has_sig_algs_cert;
    tls_slice sig_algs_cert;
    bool has_key_share;
    tls_slice key_shares; /* KeyShareEntry list, validated */
    bool has_psk_modes;
    tls_slice psk_modes; /* u8 list */
    bool has_psk;
    tls_slice psk_identities; /* PskIdentity list, validated */
    tls_slice psk_binders;    /* PskBinderEntry list, validated */
    size_t psk_binders_offset; /* offset of the binders vector in the message body */
    bool has_alpn;
    tls_slice alpn; /* ProtocolNameList body, validated */
    bool has_cookie;
    tls_slice cookie;
    bool has_early_data;
    bool has_extended_master_secret;
    bool has_renegotiation_info;
    tls_slice renegotiation_info;
    bool has_session_ticket;
    tls_slice session_ticket;
    bool has_status_request;
    bool has_sct;
    bool has_ec_point_formats;
    tls_slice ec_point_formats; /* u8 list (RFC 8422 §5.1.2) */
} tls_client_hello;

/*
 * Decodes a ClientHello body (after the 4-byte handshake header). Errors:
 * TLS_ERR_DECODE (truncated, lengths out of bounds, malformed extension bodies),
 * TLS_ERR_TRAILING_DATA, TLS_ERR_DUPLICATE_EXTENSION, TLS_ERR_PSK_NOT_LAST,
 * TLS_ERR_ILLEGAL_PARAMETER (two key shares for one group, a bad host name).
 */
TLS_MUST_CHECK tls_error tls__client_hello_parse(const uint8_t *body, size_t len,
                                                 tls_client_hello *ch);
/* The key share the client offered for `group`, if any. */
bool tls__client_hello_key_share(const tls_client_hello *ch, uint16_t group, tls_slice *share);

/* Handshake message framing: type, then a 24-bit length back-patched by _end. */
void tls__hs_begin(tls_writer *w, uint8_t type);
void tls__hs_end(tls_writer *w);

/* The special ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3). */
extern const uint8_t tls__hrr_random[32];

#endif
