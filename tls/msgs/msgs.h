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
    tls_slice psk_identities;  /* PskIdentity list, validated */
    tls_slice psk_binders;     /* PskBinderEntry list, validated */
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
    bool status_request_ocsp; /* status_type ocsp with a well-formed OCSPStatusRequest */
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

/* What a client puts in its ClientHello (RFC 8446 §4.1.2). Borrowed for the call. */
typedef struct {
    const uint8_t *random; /* 32 bytes */
    const uint8_t *session_id;
    size_t session_id_len;
    const uint16_t *suites; /* as sent: TLS_EMPTY_RENEGOTIATION_INFO_SCSV included */
    size_t n_suites;
    const char *server_name;  /* host_name for SNI; NULL: no server_name extension */
    const uint16_t *versions; /* supported_versions; none: no extension */
    size_t n_versions;
    const uint16_t *groups;
    size_t n_groups;
    const uint16_t *sig_schemes;
    size_t n_sig_schemes;
    bool key_share; /* a key_share extension with the one entry below */
    uint16_t share_group;
    const uint8_t *share;
    size_t share_len;
    uint8_t *const *alpn; /* wire form: a length byte, then the name */
    size_t n_alpn;
    tls_slice cookie; /* from a HelloRetryRequest; len 0: no cookie extension */
    bool psk_modes;   /* psk_key_exchange_modes [psk_dhe_ke] */
    bool tls12;       /* extended_master_secret, renegotiation_info, ec_point_formats */
    /* RFC 5077 §3.2: session_ticket carrying `ticket12` (len 0: asking for one). */
    bool session_ticket;
    tls_slice ticket12;
    bool early_data; /* §4.2.10: an empty early_data */
    bool sct;        /* RFC 6962 §3.3.1: an empty signed_certificate_timestamp */
    /* §4.2.11: pre_shared_key, last, with one PskIdentity (none when psk_identity.len is
     * 0) and one binder of psk_binder_len zero bytes: the caller computes the binder over
     * the message minus its last TLS_PSK_BINDERS_LEN(psk_binder_len) bytes (the
     * truncated ClientHello, §4.2.11.2) and writes it over the message's last
     * psk_binder_len bytes. */
    tls_slice psk_identity;
    uint32_t psk_obfuscated_age;
    size_t psk_binder_len;
} tls_client_hello_spec;

/* The binders vector of a one-binder pre_shared_key: u16 length, u8 length, binder. */
#define TLS_PSK_BINDERS_LEN(binder_len) (2 + 1 + (binder_len))

/* Appends a whole ClientHello message (header included). Overflow latches in w. */
void tls__client_hello_write(tls_writer *w, const tls_client_hello_spec *spec);

/* ---- what a server sends (server_hello.c, server_msgs.c) -------------------------- */

/* One bit per extension type the decoders know, TLS_EXTBIT_OTHER for every other type:
 * a client checks the set a server sent against the set it may send there. */
#define TLS_EXTBIT_OTHER (1u << 31)
uint32_t tls__ext_bit(uint16_t type);

/* Extensions of a ServerHello, HelloRetryRequest or EncryptedExtensions. Each field is
 * meaningful only when its bit is in `seen`; bodies are validated as far as their own
 * syntax goes, never against what was offered. */
typedef struct {
    uint32_t seen;
    uint16_t selected_version; /* supported_versions */
    uint16_t key_share_group;  /* key_share: KeyShareEntry, or a NamedGroup in an HRR */
    tls_slice key_share;       /* the server's share; empty in an HRR */
    tls_slice cookie;
    uint16_t psk_identity;
    tls_slice alpn;               /* ProtocolNameList body (well-formed, >= 1 name) */
    tls_slice groups;             /* supported_groups (u16 list) */
    tls_slice renegotiation_info; /* renegotiated_connection */
    tls_slice ec_point_formats;   /* u8 list */
    tls_slice scts; /* signed_certificate_timestamp: a well-formed SCT list (TLS 1.2) */
} tls_server_exts;

/* RFC 8446 §4.1.3 (and RFC 5246 §7.4.1.3: a TLS 1.2 ServerHello may have no extensions). */
typedef struct {
    uint16_t legacy_version;
    const uint8_t *random; /* 32 bytes */
    tls_slice session_id;
    uint16_t cipher_suite;
    uint8_t compression;
    bool is_hrr; /* random is tls__hrr_random */
    tls_server_exts ext;
} tls_server_hello;

/* Decodes a ServerHello or HelloRetryRequest body. Errors: TLS_ERR_DECODE,
 * TLS_ERR_TRAILING_DATA, TLS_ERR_DUPLICATE_EXTENSION. */
TLS_MUST_CHECK tls_error tls__server_hello_parse(const uint8_t *body, size_t len,
                                                 tls_server_hello *sh);
/* EncryptedExtensions (§4.3.1). Errors as tls__server_hello_parse. */
TLS_MUST_CHECK tls_error tls__encrypted_extensions_parse(const uint8_t *body, size_t len,
                                                         tls_server_exts *ext);

/* Longest certificate chain we take from a server; longer is refused. */
#define TLS_MAX_PEER_CHAIN 16

/* Certificate: TLS 1.3 (§4.4.2, with a request context and per-entry extensions, which
 * are length-checked and ignored) or TLS 1.2 (RFC 5246 §7.4.2). The certificates borrow
 * from the message; n_certs may be 0 (the caller decides what an empty list means). */
typedef struct {
    tls_slice context;
    const uint8_t *certs[TLS_MAX_PEER_CHAIN];
    size_t cert_lens[TLS_MAX_PEER_CHAIN];
    size_t n_certs;
    /* TLS 1.3: the first entry's signed_certificate_timestamp extension (RFC 6962 §3.3;
     * RFC 8446 §4.4.2), a well-formed SCT list; len 0 when absent. */
    tls_slice scts;
} tls_certificate_msg;

/* Errors: TLS_ERR_DECODE (also an empty certificate entry, a malformed SCT list),
 * TLS_ERR_DUPLICATE_EXTENSION (in one entry), TLS_ERR_TRAILING_DATA,
 * TLS_ERR_CERT_BAD_ENCODING (more than TLS_MAX_PEER_CHAIN certificates). */
TLS_MUST_CHECK tls_error tls__certificate_parse(const uint8_t *body, size_t len, bool tls13,
                                                tls_certificate_msg *cert);

/* CertificateVerify (§4.4.3); also TLS 1.2's DigitallySigned. */
typedef struct {
    uint16_t scheme;
    tls_slice signature;
} tls_certificate_verify_msg;

TLS_MUST_CHECK tls_error tls__certificate_verify_parse(const uint8_t *body, size_t len,
                                                       tls_certificate_verify_msg *cv);

/* CertificateRequest (§4.3.2). has_sig_algs false: the mandatory extension is missing. */
typedef struct {
    tls_slice context;
    bool has_sig_algs;
    tls_slice sig_algs; /* u16 list */
} tls_certificate_request_msg;

TLS_MUST_CHECK tls_error tls__certificate_request_parse(const uint8_t *body, size_t len,
                                                        tls_certificate_request_msg *cr);

/* NewSessionTicket (§4.6.1). */
typedef struct {
    uint32_t lifetime, age_add;
    tls_slice nonce, ticket;
    bool has_early_data;
    uint32_t max_early_data;
} tls_new_session_ticket_msg;

/* Errors: TLS_ERR_DECODE, TLS_ERR_TRAILING_DATA, TLS_ERR_DUPLICATE_EXTENSION,
 * TLS_ERR_ILLEGAL_PARAMETER (a lifetime over 7 days, §4.6.1). */
TLS_MUST_CHECK tls_error tls__new_session_ticket_parse(const uint8_t *body, size_t len,
                                                       tls_new_session_ticket_msg *nst);

/* ---- TLS 1.2 server messages (server_msgs.c) ------------------------------------------- */

/* NewSessionTicket of RFC 5077 §3.3 (handshake type 4 in TLS 1.2 too). The ticket may
 * be empty: the server promised one in its ServerHello and then chose not to issue it. */
typedef struct {
    uint32_t lifetime_hint; /* seconds; 0: unspecified */
    tls_slice ticket;
} tls_new_session_ticket12_msg;

/* Errors: TLS_ERR_DECODE, TLS_ERR_TRAILING_DATA. */
TLS_MUST_CHECK tls_error tls__new_session_ticket12_parse(const uint8_t *body, size_t len,
                                                         tls_new_session_ticket12_msg *nst);

/* ServerKeyExchange for the ECDHE suites (RFC 8422 §5.4): ServerECDHParams, then a
 * DigitallySigned (RFC 5246 §4.7), which has CertificateVerify's syntax. */
typedef struct {
    uint16_t group;
    tls_slice point;  /* ECPoint, 1..255 bytes; not checked against the group */
    tls_slice params; /* curve_type .. point: what the signature covers after the randoms */
    tls_certificate_verify_msg sig;
} tls_server_key_exchange_msg;

/* Errors: TLS_ERR_DECODE, TLS_ERR_TRAILING_DATA, TLS_ERR_ILLEGAL_PARAMETER (a curve_type
 * other than named_curve: explicit curves are deprecated by RFC 8422 §5.4 and were never
 * offered, and their syntax is not parsed). */
TLS_MUST_CHECK tls_error tls__server_key_exchange_parse(const uint8_t *body, size_t len,
                                                        tls_server_key_exchange_msg *ske);

/* CertificateRequest of TLS 1.2 (RFC 5246 §7.4.4). */
typedef struct {
    tls_slice certificate_types; /* u8 list, >= 1 */
    tls_slice sig_algs;          /* u16 list, >= 1 */
    tls_slice authorities;       /* DistinguishedName list (each 1..2^16-1), validated */
} tls_certificate_request12_msg;

/* Errors: TLS_ERR_DECODE, TLS_ERR_TRAILING_DATA. */
TLS_MUST_CHECK tls_error tls__certificate_request12_parse(const uint8_t *body, size_t len,
                                                          tls_certificate_request12_msg *cr);

/* ---- what a server asks of a client (server_msgs.c) ------------------------------------- */

/* TLS 1.3 CertificateRequest (§4.3.2): an empty certificate_request_context (§4.3.2: it
 * is empty in the main handshake), signature_algorithms (schemes), and
 * certificate_authorities (§4.2.4) when authorities (DistinguishedName entries, each
 * with its u16 length, back to back) is not empty. Overflow latches in w. */
void tls__certificate_request_write(tls_writer *w, const uint16_t *schemes, size_t n_schemes,
                                    tls_slice authorities);
/* TLS 1.2 CertificateRequest (RFC 5246 §7.4.4): certificate_types, then
 * supported_signature_algorithms and certificate_authorities as above. */
void tls__certificate_request12_write(tls_writer *w, const uint8_t *types, size_t n_types,
                                      const uint16_t *schemes, size_t n_schemes,
                                      tls_slice authorities);

/* Handshake message framing: type, then a 24-bit length back-patched by _end. */
void tls__hs_begin(tls_writer *w, uint8_t type);
void tls__hs_end(tls_writer *w);

/* The special ServerHello.random of a HelloRetryRequest (RFC 8446 §4.1.3). */
extern const uint8_t tls__hrr_random[32];

#endif
