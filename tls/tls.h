/*
 * tls.h — the engine's only public header.
 *
 * The engine is a sans-IO "encrypted pipe" (the rustls model): the caller moves
 * TLS bytes in with tls_conn_read_tls() and out with tls_conn_write_tls(), calls
 * tls_conn_process() after each read, and moves plaintext with tls_conn_read() and
 * tls_conn_write(). The engine never does I/O, never blocks, and keeps no global
 * mutable state beyond the crypto provider's one-time initialisation.
 *
 * Ownership: configs are immutable once built and reference-counted; every
 * connection holds a reference. Certified keys are reference-counted too and may be
 * shared between configs. A connection belongs to one thread at a time.
 */
#ifndef MOAT_TLS_H
#define MOAT_TLS_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#if defined(__GNUC__)
/* Ignoring an engine error is always a bug; let the compiler say so. */
#define TLS_MUST_CHECK __attribute__((warn_unused_result))
#else
#define TLS_MUST_CHECK
#endif

/* ---- protocol constants ------------------------------------------------- */

#define TLS_VERSION_1_0 0x0301
#define TLS_VERSION_1_1 0x0302
#define TLS_VERSION_1_2 0x0303
#define TLS_VERSION_1_3 0x0304

#define TLS_AES_128_GCM_SHA256 0x1301
#define TLS_AES_256_GCM_SHA384 0x1302
#define TLS_CHACHA20_POLY1305_SHA256 0x1303
#define TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256 0xc02b
#define TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384 0xc02c
#define TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256 0xc02f
#define TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384 0xc030
#define TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256 0xcca8
#define TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256 0xcca9

#define TLS_GROUP_SECP256R1 0x0017
#define TLS_GROUP_SECP384R1 0x0018
#define TLS_GROUP_X25519 0x001d

#define TLS_SIG_RSA_PKCS1_SHA256 0x0401
#define TLS_SIG_RSA_PKCS1_SHA384 0x0501
#define TLS_SIG_RSA_PKCS1_SHA512 0x0601
#define TLS_SIG_ECDSA_SECP256R1_SHA256 0x0403
#define TLS_SIG_ECDSA_SECP384R1_SHA384 0x0503
#define TLS_SIG_RSA_PSS_RSAE_SHA256 0x0804
#define TLS_SIG_RSA_PSS_RSAE_SHA384 0x0805
#define TLS_SIG_RSA_PSS_RSAE_SHA512 0x0806
/* RFC 8446 §4.2.3 (TLS 1.3) and RFC 8422 §5.1.3 (TLS 1.2): PureEdDSA, RFC 8032. */
#define TLS_SIG_ED25519 0x0807

/* Alert descriptions (RFC 8446 §6). */
#define TLS_ALERT_TABLE(X)                                                                         \
    X(CLOSE_NOTIFY, 0, "close_notify")                                                             \
    X(UNEXPECTED_MESSAGE, 10, "unexpected_message")                                                \
    X(BAD_RECORD_MAC, 20, "bad_record_mac")                                                        \
    X(RECORD_OVERFLOW, 22, "record_overflow")                                                      \
    X(HANDSHAKE_FAILURE, 40, "handshake_failure")                                                  \
    X(BAD_CERTIFICATE, 42, "bad_certificate")                                                      \
    X(UNSUPPORTED_CERTIFICATE, 43, "unsupported_certificate")                                      \
    X(CERTIFICATE_REVOKED, 44, "certificate_revoked")                                              \
    X(CERTIFICATE_EXPIRED, 45, "certificate_expired")                                              \
    X(CERTIFICATE_UNKNOWN, 46, "certificate_unknown")                                              \
    X(ILLEGAL_PARAMETER, 47, "illegal_parameter")                                                  \
    X(UNKNOWN_CA, 48, "unknown_ca")                                                                \
    X(ACCESS_DENIED, 49, "access_denied")                                                          \
    X(DECODE_ERROR, 50, "decode_error")                                                            \
    X(DECRYPT_ERROR, 51, "decrypt_error")                                                          \
    X(PROTOCOL_VERSION, 70, "protocol_version")                                                    \
    X(INSUFFICIENT_SECURITY, 71, "insufficient_security")                                          \
    X(INTERNAL_ERROR, 80, "internal_error")                                                        \
    X(INAPPROPRIATE_FALLBACK, 86, "inappropriate_fallback")                                        \
    X(USER_CANCELED, 90, "user_canceled")                                                          \
    X(NO_RENEGOTIATION, 100, "no_renegotiation")                                                   \
    X(MISSING_EXTENSION, 109, "missing_extension")                                                 \
    X(UNSUPPORTED_EXTENSION, 110, "unsupported_extension")                                         \
    X(UNRECOGNIZED_NAME, 112, "unrecognized_name")                                                 \
    X(BAD_CERTIFICATE_STATUS_RESPONSE, 113, "bad_certificate_status_response")                     \
    X(UNKNOWN_PSK_IDENTITY, 115, "unknown_psk_identity")                                           \
    X(CERTIFICATE_REQUIRED, 116, "certificate_required")                                           \
    X(NO_APPLICATION_PROTOCOL, 120, "no_application_protocol")

enum {
#define TLS_ALERT_ENUM(name, code, str) TLS_ALERT_##name = code,
    TLS_ALERT_TABLE(TLS_ALERT_ENUM)
#undef TLS_ALERT_ENUM
        TLS_ALERT_NONE = 256 /* not a wire value: "no alert" */
};

/* Name of an alert description ("decode_error"), or "unknown_alert". */
const char *tls_alert_name(int alert);

/* ---- errors ---------------------------------------------------------------
 * One table: enum value, name (rustls-style), and the alert we send for it
 * (TLS_ALERT_NONE: nothing is sent, e.g. because the peer already alerted us).
 */
#define TLS_ERROR_TABLE(X)                                                                         \
    X(TLS_OK, "Ok", TLS_ALERT_NONE)                                                                \
    X(TLS_ERR_INTERNAL, "General(InternalError)", TLS_ALERT_INTERNAL_ERROR)                        \
    X(TLS_ERR_NO_MEMORY, "General(OutOfMemory)", TLS_ALERT_INTERNAL_ERROR)                         \
    X(TLS_ERR_CRYPTO, "General(CryptoFailure)", TLS_ALERT_INTERNAL_ERROR)                          \
    X(TLS_ERR_BUFFER_FULL, "General(BufferFull)", TLS_ALERT_NONE)                                  \
    X(TLS_ERR_INVALID_ARGUMENT, "General(InvalidArgument)", TLS_ALERT_NONE)                        \
    X(TLS_ERR_CLOSED, "General(ConnectionClosed)", TLS_ALERT_NONE)                                 \
    X(TLS_ERR_CONFIG, "General(InvalidConfig)", TLS_ALERT_NONE)                                    \
    X(TLS_ERR_DECODE, "InvalidMessage(Decode)", TLS_ALERT_DECODE_ERROR)                            \
    X(TLS_ERR_TRAILING_DATA, "InvalidMessage(TrailingData)", TLS_ALERT_DECODE_ERROR)               \
    X(TLS_ERR_EMPTY_FRAGMENT, "InvalidMessage(InvalidEmptyPayload)", TLS_ALERT_UNEXPECTED_MESSAGE) \
    X(TLS_ERR_INVALID_CONTENT_TYPE, "InvalidMessage(InvalidContentType)",                          \
      TLS_ALERT_UNEXPECTED_MESSAGE)                                                                \
    X(TLS_ERR_BAD_RECORD_VERSION, "InvalidMessage(UnknownProtocolVersion)",                        \
      TLS_ALERT_DECODE_ERROR)                                                                      \
    X(TLS_ERR_HANDSHAKE_TOO_LARGE, "InvalidMessage(HandshakePayloadTooLarge)",                     \
      TLS_ALERT_DECODE_ERROR)                                                                      \
    X(TLS_ERR_INVALID_CCS, "InvalidMessage(InvalidCcs)", TLS_ALERT_UNEXPECTED_MESSAGE)             \
    X(TLS_ERR_INVALID_ALERT, "InvalidMessage(InvalidAlert)", TLS_ALERT_DECODE_ERROR)               \
    X(TLS_ERR_RECORD_OVERFLOW, "PeerSentOversizedRecord", TLS_ALERT_RECORD_OVERFLOW)               \
    X(TLS_ERR_DECRYPT, "DecryptError", TLS_ALERT_BAD_RECORD_MAC)                                   \
    X(TLS_ERR_UNEXPECTED_MESSAGE, "InappropriateMessage", TLS_ALERT_UNEXPECTED_MESSAGE)            \
    X(TLS_ERR_UNEXPECTED_HANDSHAKE, "InappropriateHandshakeMessage", TLS_ALERT_UNEXPECTED_MESSAGE) \
    X(TLS_ERR_KEY_EPOCH_WITH_PENDING_FRAGMENT, "PeerMisbehaved(KeyEpochWithPendingFragment)",      \
      TLS_ALERT_UNEXPECTED_MESSAGE)                                                                \
    X(TLS_ERR_DUPLICATE_EXTENSION, "PeerMisbehaved(DuplicateExtension)",                           \
      TLS_ALERT_ILLEGAL_PARAMETER)                                                                 \
    X(TLS_ERR_ILLEGAL_PARAMETER, "PeerMisbehaved(IllegalParameter)", TLS_ALERT_ILLEGAL_PARAMETER)  \
    X(TLS_ERR_NULL_COMPRESSION_REQUIRED, "PeerIncompatible(NullCompressionRequired)",              \
      TLS_ALERT_ILLEGAL_PARAMETER)                                                                 \
    X(TLS_ERR_PSK_NOT_LAST, "PeerMisbehaved(PskExtensionNotLast)", TLS_ALERT_ILLEGAL_PARAMETER)    \
    X(TLS_ERR_INVALID_KEY_SHARE, "PeerMisbehaved(InvalidKeyShare)", TLS_ALERT_ILLEGAL_PARAMETER)   \
    X(TLS_ERR_KEY_SHARE_NOT_OFFERED_GROUP, "PeerMisbehaved(KeyShareGroupNotOffered)",              \
      TLS_ALERT_ILLEGAL_PARAMETER)                                                                 \
    X(TLS_ERR_HRR_UNACCEPTABLE, "PeerMisbehaved(SecondClientHelloUnacceptable)",                   \
      TLS_ALERT_ILLEGAL_PARAMETER)                                                                 \
    X(TLS_ERR_BAD_COOKIE, "PeerMisbehaved(InvalidCookie)", TLS_ALERT_ILLEGAL_PARAMETER)            \
    X(TLS_ERR_BAD_FINISHED, "PeerMisbehaved(IncorrectFinished)", TLS_ALERT_DECRYPT_ERROR)          \
    X(TLS_ERR_BAD_KEY_UPDATE, "PeerMisbehaved(InvalidKeyUpdate)", TLS_ALERT_ILLEGAL_PARAMETER)     \
    X(TLS_ERR_TOO_MANY_KEY_UPDATES, "PeerMisbehaved(TooManyKeyUpdates)",                           \
      TLS_ALERT_UNEXPECTED_MESSAGE)                                                                \
    X(TLS_ERR_TOO_MANY_EMPTY_RECORDS, "PeerMisbehaved(TooManyEmptyFragments)",                     \
      TLS_ALERT_UNEXPECTED_MESSAGE)                                                                \
    X(TLS_ERR_MISSING_EXTENSION, "PeerMisbehaved(MissingExtension)", TLS_ALERT_MISSING_EXTENSION)  \
    X(TLS_ERR_UNSOLICITED_EXTENSION, "PeerMisbehaved(UnsolicitedExtension)",                       \
      TLS_ALERT_UNSUPPORTED_EXTENSION)                                                             \
    X(TLS_ERR_PROTOCOL_VERSION, "PeerIncompatible(NoSupportedVersion)",                            \
      TLS_ALERT_PROTOCOL_VERSION)                                                                  \
    X(TLS_ERR_NO_CIPHER_SUITES_IN_COMMON, "PeerIncompatible(NoCipherSuitesInCommon)",              \
      TLS_ALERT_HANDSHAKE_FAILURE)                                                                 \
    X(TLS_ERR_NO_KX_GROUPS_IN_COMMON, "PeerIncompatible(NoKxGroupsInCommon)",                      \
      TLS_ALERT_HANDSHAKE_FAILURE)                                                                 \
    X(TLS_ERR_NO_SIG_SCHEMES_IN_COMMON, "PeerIncompatible(NoSignatureSchemesInCommon)",            \
      TLS_ALERT_HANDSHAKE_FAILURE)                                                                 \
    X(TLS_ERR_NO_PSK_MODE_DHE, "PeerIncompatible(PskKeyExchangeModeDheRequired)",                  \
      TLS_ALERT_HANDSHAKE_FAILURE)                                                                 \
    X(TLS_ERR_NO_APPLICATION_PROTOCOL, "NoApplicationProtocol", TLS_ALERT_NO_APPLICATION_PROTOCOL) \
    X(TLS_ERR_NO_CERTIFICATE_FOR_NAME, "General(NoCertificateForServerName)",                      \
      TLS_ALERT_UNRECOGNIZED_NAME)                                                                 \
    X(TLS_ERR_INAPPROPRIATE_FALLBACK, "PeerMisbehaved(InappropriateFallback)",                     \
      TLS_ALERT_INAPPROPRIATE_FALLBACK)                                                            \
    X(TLS_ERR_EMS_REQUIRED, "PeerIncompatible(ExtendedMasterSecretExtensionRequired)",             \
      TLS_ALERT_HANDSHAKE_FAILURE)                                                                 \
    X(TLS_ERR_BAD_RENEGOTIATION_INFO, "PeerMisbehaved(NonEmptyRenegotiationInfo)",                 \
      TLS_ALERT_HANDSHAKE_FAILURE)                                                                 \
    X(TLS_ERR_UNCOMPRESSED_POINTS_REQUIRED, "PeerIncompatible(UncompressedEcPointsRequired)",      \
      TLS_ALERT_ILLEGAL_PARAMETER)                                                                 \
    X(TLS_ERR_RENEGOTIATION_REPEATED, "PeerMisbehaved(RenegotiationRepeated)",                     \
      TLS_ALERT_UNEXPECTED_MESSAGE)                                                                \
    X(TLS_ERR_ALERT_RECEIVED, "AlertReceived", TLS_ALERT_NONE)                                     \
    X(TLS_ERR_CERT_UNKNOWN_ISSUER, "InvalidCertificate(UnknownIssuer)", TLS_ALERT_UNKNOWN_CA)      \
    X(TLS_ERR_CERT_NOT_VALID_FOR_NAME, "InvalidCertificate(NotValidForName)",                      \
      TLS_ALERT_BAD_CERTIFICATE)                                                                   \
    X(TLS_ERR_CERT_EXPIRED, "InvalidCertificate(Expired)", TLS_ALERT_CERTIFICATE_EXPIRED)          \
    X(TLS_ERR_CERT_NOT_VALID_YET, "InvalidCertificate(NotValidYet)",                               \
      TLS_ALERT_CERTIFICATE_EXPIRED)                                                               \
    X(TLS_ERR_CERT_BAD_SIGNATURE, "InvalidCertificate(BadSignature)", TLS_ALERT_DECRYPT_ERROR)     \
    X(TLS_ERR_CERT_UNSUPPORTED_SIGNATURE_ALGORITHM,                                                \
      "InvalidCertificate(UnsupportedSignatureAlgorithm)", TLS_ALERT_BAD_CERTIFICATE)              \
    X(TLS_ERR_CERT_CA_USED_AS_END_ENTITY, "InvalidCertificate(CaUsedAsEndEntity)",                 \
      TLS_ALERT_BAD_CERTIFICATE)                                                                   \
    X(TLS_ERR_CERT_END_ENTITY_USED_AS_CA, "InvalidCertificate(EndEntityUsedAsCa)",                 \
      TLS_ALERT_BAD_CERTIFICATE)                                                                   \
    X(TLS_ERR_CERT_PATH_LEN_EXCEEDED, "InvalidCertificate(PathLenConstraintViolated)",             \
      TLS_ALERT_BAD_CERTIFICATE)                                                                   \
    X(TLS_ERR_CERT_INVALID_PURPOSE, "InvalidCertificate(InvalidPurpose)",                          \
      TLS_ALERT_UNSUPPORTED_CERTIFICATE)                                                           \
    X(TLS_ERR_CERT_BAD_ENCODING, "InvalidCertificate(BadEncoding)", TLS_ALERT_BAD_CERTIFICATE)     \
    X(TLS_ERR_NO_CERTIFICATES_PRESENTED, "NoCertificatesPresented", TLS_ALERT_DECODE_ERROR)        \
    X(TLS_ERR_BAD_CERTIFICATE_VERIFY, "PeerMisbehaved(InvalidCertificateVerify)",                  \
      TLS_ALERT_DECRYPT_ERROR)                                                                     \
    X(TLS_ERR_SELECTED_UNOFFERED, "PeerMisbehaved(SelectedUnofferedParameter)",                    \
      TLS_ALERT_ILLEGAL_PARAMETER)                                                                 \
    X(TLS_ERR_DOWNGRADE_DETECTED, "PeerMisbehaved(AttemptedDowngradeToTls12WhenTls13IsSupported)", \
      TLS_ALERT_ILLEGAL_PARAMETER)                                                                 \
    X(TLS_ERR_CERT_FILE, "CertificateLoad(FileUnreadable)", TLS_ALERT_NONE)                        \
    X(TLS_ERR_CERT_PARSE, "CertificateLoad(InvalidCertificate)", TLS_ALERT_NONE)                   \
    X(TLS_ERR_KEY_PARSE, "CertificateLoad(InvalidPrivateKey)", TLS_ALERT_NONE)                     \
    X(TLS_ERR_KEY_UNSUPPORTED, "CertificateLoad(UnsupportedKeyType)", TLS_ALERT_NONE)              \
    X(TLS_ERR_KEY_MISMATCH, "CertificateLoad(KeyDoesNotMatchCertificate)", TLS_ALERT_NONE)         \
    X(TLS_ERR_TICKET_KEY_FILE, "TicketKeys(FileUnreadable)", TLS_ALERT_NONE)                       \
    X(TLS_ERR_TICKET_KEY_PARSE, "TicketKeys(InvalidKeyFile)", TLS_ALERT_NONE)                      \
    X(TLS_ERR_SESSION_FILE, "SessionStore(FileUnusable)", TLS_ALERT_NONE)                          \
    X(TLS_ERR_RESUMPTION_EMS_MISMATCH,                                                             \
      "PeerMisbehaved(ResumptionOfferedWithoutExtendedMasterSecret)", TLS_ALERT_HANDSHAKE_FAILURE) \
    X(TLS_ERR_RESUMPTION_MISMATCH, "PeerMisbehaved(ResumedSessionParametersChanged)",              \
      TLS_ALERT_ILLEGAL_PARAMETER)                                                                 \
    X(TLS_ERR_TOO_MUCH_EARLY_DATA, "PeerMisbehaved(TooMuchEarlyDataReceived)",                     \
      TLS_ALERT_UNEXPECTED_MESSAGE)                                                                \
    X(TLS_ERR_CERT_REVOKED, "InvalidCertificate(Revoked)", TLS_ALERT_CERTIFICATE_REVOKED)          \
    X(TLS_ERR_CERTIFICATE_REQUIRED, "NoCertificatesPresented(CertificateRequired)",                \
      TLS_ALERT_CERTIFICATE_REQUIRED)                                                              \
    X(TLS_ERR_CERTIFICATE_REQUIRED12, "NoCertificatesPresented(HandshakeFailure)",                 \
      TLS_ALERT_HANDSHAKE_FAILURE)                                                                 \
    X(TLS_ERR_CRL_PARSE, "CertificateRevocationListLoad(InvalidCrl)", TLS_ALERT_NONE)              \
    X(TLS_ERR_OCSP_RESPONSE, "CertificateStatus(InvalidOcspResponse)", TLS_ALERT_NONE)             \
    X(TLS_ERR_SCT_LIST, "CertificateStatus(InvalidSctList)", TLS_ALERT_NONE)

typedef enum {
#define TLS_ERROR_ENUM(name, str, alert) name,
    TLS_ERROR_TABLE(TLS_ERROR_ENUM)
#undef TLS_ERROR_ENUM
        TLS_ERR__COUNT
} tls_error;

/* "PeerIncompatible(NoCipherSuitesInCommon)"; never NULL. */
const char *tls_error_name(tls_error err);
/* The alert this error makes us send, or TLS_ALERT_NONE. */
int tls_error_alert(tls_error err);

/* ---- certificates ---------------------------------------------------------- */

typedef struct tls_certified_key tls_certified_key;

/*
 * Loads a PEM certificate chain (end entity first) and its private key (PKCS#8,
 * PKCS#1 RSA or SEC1 EC; PEM or DER). On failure returns TLS_ERR_CERT_FILE,
 * TLS_ERR_CERT_PARSE, TLS_ERR_KEY_PARSE, TLS_ERR_KEY_UNSUPPORTED or
 * TLS_ERR_KEY_MISMATCH and writes a sentence naming the file and the problem into
 * errbuf (may be NULL). The result starts with one reference.
 */
TLS_MUST_CHECK tls_error tls_certified_key_load(const char *chain_path, const char *key_path,
                                                tls_certified_key **out, char *errbuf,
                                                size_t errlen);
/* Same, from memory (PEM or DER buffers; a PEM buffer must be NUL-terminated). */
TLS_MUST_CHECK tls_error tls_certified_key_parse(const uint8_t *chain, size_t chain_len,
                                                 const uint8_t *key, size_t key_len,
                                                 tls_certified_key **out, char *errbuf,
                                                 size_t errlen);
tls_certified_key *tls_certified_key_ref(tls_certified_key *ck);
void tls_certified_key_unref(tls_certified_key *ck);
/* True when the end-entity certificate covers host name `name` (exact or wildcard). */
bool tls_certified_key_covers(const tls_certified_key *ck, const char *name);

/* OCSP stapling (RFC 6066 §8; RFC 8446 §4.4.2.1). Sets the DER OCSPResponse (RFC 6960
 * §4.2.1) stapled for ck's end-entity certificate, replacing the previous one; NULL/0
 * removes it. Checked here: responseStatus successful, a BasicOCSPResponse whose
 * SingleResponse matches the certificate (CertID: issuer name/key hashes with SHA-1 or
 * SHA-256, serial; the issuer is ck's chain[1], or `issuer_der` when the chain has none),
 * certStatus good, signed by the issuer or by a responder certificate the issuer signed
 * with id-kp-OCSPSigning, and thisUpdate <= now < nextUpdate (nextUpdate required).
 * Errors: TLS_ERR_OCSP_RESPONSE (with a sentence in err). Thread-safe: connections
 * being served keep the staple they started with (reference-counted). A staple is
 * served only to clients that ask (status_request, status_type ocsp) and only while
 * the handshake's clock is before its nextUpdate: an expired staple is never sent. */
TLS_MUST_CHECK tls_error tls_certified_key_set_ocsp(tls_certified_key *ck, const uint8_t *der,
                                                    size_t len, const uint8_t *issuer_der,
                                                    size_t issuer_len, int64_t now, char *err,
                                                    size_t errlen);
/* The current staple's thisUpdate / nextUpdate (Unix seconds); false when none. */
bool tls_certified_key_ocsp_validity(const tls_certified_key *ck, int64_t *this_update,
                                     int64_t *next_update);
/* A DER OCSPRequest (RFC 6960 §4.1, one CertID with SHA-1, no nonce, unsigned) for ck's
 * end-entity certificate, and the responder URL from its AuthorityInfoAccess
 * (id-ad-ocsp, an http:// URI) copied into url (NUL-terminated). TLS_ERR_OCSP_RESPONSE
 * when the certificate names no responder or has no issuer (chain[1], else
 * issuer_der); TLS_ERR_BUFFER_FULL when out or url is too small. */
TLS_MUST_CHECK tls_error tls_certified_key_ocsp_request(const tls_certified_key *ck,
                                                        const uint8_t *issuer_der,
                                                        size_t issuer_len, uint8_t *out, size_t cap,
                                                        size_t *len, char *url, size_t url_cap);
/* SCT stapling (RFC 6962 §3.3): a SignedCertificateTimestampList (the TLS-encoded
 * list: u16 length, then u16-length-prefixed SCTs, each non-empty) served in the
 * signed_certificate_timestamp extension to clients that offer it. Structure checked
 * (TLS_ERR_SCT_LIST); NULL/0 removes it. Thread-safe like set_ocsp. */
TLS_MUST_CHECK tls_error tls_certified_key_set_scts(tls_certified_key *ck, const uint8_t *list,
                                                    size_t len);

/* ---- session tickets (server) --------------------------------------------------
 *
 * A ticketer seals resumption state into tickets (TLS 1.3 NewSessionTicket, TLS 1.2
 * RFC 5077 tickets) under AES-256-GCM keys only the server knows, and opens them
 * again. It is thread-safe and reference-counted: share one between configs, and keep
 * it across configuration reloads, so tickets outlive a reload. It also keeps the
 * record that makes each ticket usable for 0-RTT at most once (RFC 8446 §8.1).
 */
typedef struct tls_ticketer tls_ticketer;

/* Random keys, a new one every rotate_s seconds (>= 1, else TLS_ERR_INVALID_ARGUMENT):
 * a ticket opens under the key that sealed it and the next one, so it survives one
 * rotation and not two. TLS_ERR_NO_MEMORY, TLS_ERR_CRYPTO (no randomness). */
TLS_MUST_CHECK tls_error tls_ticketer_new(unsigned rotate_s, tls_ticketer **out);
/*
 * Keys shared by a fleet (every instance behind one load balancer loads the same
 * file, so a ticket from one instance resumes on another). The file is text: one key
 * per line, 64 hex digits (32 random bytes: `openssl rand -hex 32`); blank lines and
 * lines starting with '#' are ignored; 1 to 16 keys. The first key seals, every key
 * opens. Such a ticketer never rotates by itself: rotate by putting a new key first,
 * keeping the old ones after it, and reloading. TLS_ERR_TICKET_KEY_FILE (unreadable,
 * or readable by group/other) or TLS_ERR_TICKET_KEY_PARSE with "path:line: what is
 * wrong" in errbuf.
 */
TLS_MUST_CHECK tls_error tls_ticketer_load(const char *path, tls_ticketer **out, char *errbuf,
                                           size_t errlen);
tls_ticketer *tls_ticketer_ref(tls_ticketer *t);
void tls_ticketer_unref(tls_ticketer *t); /* wipes the keys with the last reference */

/* ---- server configuration ---------------------------------------------------- */

/* Bounds of the resource limits in the config params below (bytes). */
#define TLS_MIN_HANDSHAKE_LIMIT 1024
#define TLS_MIN_BUFFER_LIMIT 16384
#define TLS_MAX_LIMIT_SIZE (16u * 1024u * 1024u)
/* Upper bound of the flood limits (max_empty_records, max_key_updates). */
#define TLS_MAX_FLOOD_LIMIT 4096u

typedef struct tls_server_config tls_server_config;

/* Whether the server asks for a client certificate (rustls's client cert verifiers). */
typedef enum {
    TLS_CLIENT_AUTH_NONE = 0, /* no CertificateRequest (NoClientAuth) */
    /* A CertificateRequest; an empty Certificate is accepted and the connection is
     * anonymous, a non-empty one must verify (AllowAnyAnonymousOrAuthenticatedClient). */
    TLS_CLIENT_AUTH_OPTIONAL,
    /* A verified client certificate is mandatory (AllowAnyAuthenticatedClient): an
     * empty Certificate fails with TLS_ERR_CERTIFICATE_REQUIRED (TLS 1.3,
     * certificate_required) or TLS_ERR_CERTIFICATE_REQUIRED12 (TLS 1.2,
     * handshake_failure). */
    TLS_CLIENT_AUTH_REQUIRED,
} tls_client_auth_mode;

/* What a certificate resolver sees of the ClientHello. Borrowed for the call only. */
typedef struct {
    const char *server_name;     /* NUL-terminated, lower case; NULL when absent */
    const uint16_t *sig_schemes; /* as offered, in client order */
    size_t n_sig_schemes;
    const uint8_t *alpn; /* raw ProtocolNameList body, may be NULL */
    size_t alpn_len;
} tls_client_hello_info;

/* Returns a borrowed certified key (it must outlive the call), or NULL: no certificate. */
typedef const tls_certified_key *(*tls_cert_resolver_fn)(void *arg,
                                                         const tls_client_hello_info *hello);

typedef struct {
    /* Server preference order. NULL/0 means the defaults. */
    const uint16_t *versions;
    size_t n_versions;
    const uint16_t *cipher_suites;
    size_t n_cipher_suites;
    const uint16_t *groups;
    size_t n_groups;
    /* ALPN protocols in server preference order; none configured = ALPN ignored. */
    const char *const *alpn;
    size_t n_alpn;
    /* Built-in resolver: SNI picks by exact then wildcard name; the first is the default. */
    tls_certified_key *const *certs;
    size_t n_certs;
    bool sni_strict; /* refuse (unrecognized_name) names no certificate covers */
    /* Or a callback resolver (takes precedence over certs when set). */
    tls_cert_resolver_fn resolver;
    void *resolver_arg;
    /* Largest plaintext fragment we send (64..16384); 0 = 16384. */
    size_t max_fragment_size;
    /* Secret for HelloRetryRequest cookies; NULL = random per config. */
    const uint8_t *cookie_secret;
    size_t cookie_secret_len;
    /* TLS 1.2: refuse clients that do not offer extended_master_secret (RFC 7627). */
    bool require_ems;
    /* TLS 1.3 session resumption with stateless tickets (RFC 8446 §4.6.1), psk_dhe_ke
     * only. 0 values below mean the defaults. */
    bool tickets;
    uint32_t ticket_lifetime_s; /* advertised and enforced lifetime; 7200, at most 604800 */
    unsigned ticket_rotate_s;   /* ticket key rotation period; 43200 */
    unsigned n_tickets;         /* NewSessionTickets per full handshake; 2, at most 8 */
    /* A ticketer to use (referenced) instead of the one `tickets` makes: shared between
     * configs and kept across reloads, or loaded from a fleet's key file. Setting it
     * turns tickets on (TLS 1.3, and RFC 5077 tickets in TLS 1.2). */
    tls_ticketer *ticketer;
    /* Stateful resumption: a bounded, thread-safe in-memory store of this many
     * sessions (0: none). It serves TLS 1.2 session IDs and, when tickets are off,
     * TLS 1.3 tickets that name a stored session (each usable once). */
    size_t session_cache_size;
    /* TLS 1.3 0-RTT: accept up to this many bytes (at most 1 MiB) of early data on a
     * resumed connection (0: refuse early data; it is then skipped and the client
     * resends). Needs tickets or a session cache, and not a ticketer loaded from a
     * file (other instances would accept a replay). A ticket is good for 0-RTT once. */
    uint32_t max_early_data_size;
    /* Resource limits per connection (0: the default, which is the engine's behaviour
     * without limits configured). Out of range: TLS_ERR_CONFIG.
     * - max_handshake_message_size: the largest handshake message accepted from the
     *   peer, 1024 .. 16 MiB (TLS_MAX_LIMIT_SIZE); default 65536. A larger one fails with
     *   TLS_ERR_HANDSHAKE_TOO_LARGE (decode_error) as soon as its 4-byte header arrives,
     *   before any of its body is buffered.
     * - max_buffered_plaintext: decrypted data held for tls_conn_read (records are left
     *   undecrypted, and tls_conn_read_tls takes no more, while another record might not
     *   fit) and plaintext tls_conn_write takes before the handshake completes;
     *   16 KiB .. 16 MiB, default 65536.
     * - max_buffered_ciphertext: tls_conn_write takes no more plaintext while this many
     *   TLS bytes wait for tls_conn_write_tls; 16 KiB .. 16 MiB, default 65536. (Input
     *   is held to two records whatever this says; handshake flights and alerts may pass
     *   the mark, up to four times the larger of the two buffered limits, 256 KiB at
     *   least.) */
    size_t max_handshake_message_size;
    size_t max_buffered_plaintext;
    size_t max_buffered_ciphertext;
    /* Flood bounds (0: the default; 1 .. TLS_MAX_FLOOD_LIMIT, else TLS_ERR_CONFIG):
     * - max_empty_records: records in a row that carry nothing (empty application
     *   data, warning alerts such as user_canceled, CCS-like no-ops) before the
     *   connection closes with TLS_ERR_TOO_MANY_EMPTY_RECORDS; default 32.
     * - max_key_updates: TLS 1.3 KeyUpdates in a row with no application data between
     *   them before TLS_ERR_TOO_MANY_KEY_UPDATES; default 16. */
    uint32_t max_empty_records;
    uint32_t max_key_updates;
    /* Client authentication (mTLS, RFC 8446 §4.3.2 / RFC 5246 §7.4.4), see
     * tls_client_auth_mode. With OPTIONAL or REQUIRED, client_roots (referenced) is
     * required: client chains must lead to one of its anchors (their subjects are sent
     * as certificate_authorities), and the end entity must allow clientAuth (EKU, when
     * it has one) and digitalSignature (keyUsage); no name is checked.
     * client_crls: paths of CRL files (DER, or PEM with one or more X509 CRL blocks),
     * read by tls_server_config_new (reload = a new config). A certificate on the
     * client's path that a CRL of its issuer (signature checked) lists is refused with
     * certificate_revoked; issuers without a CRL are not checked (rustls's
     * allow_unknown_revocation_status) and a CRL's nextUpdate is not enforced (its
     * default expiration policy). Unreadable or invalid files:
     * TLS_ERR_CERT_FILE / TLS_ERR_CRL_PARSE with "path: reason" in errbuf.
     * max_certificate_chain_size: the largest Certificate message taken from the
     * client, 1024 .. 16 MiB; default max_handshake_message_size. */
    tls_client_auth_mode client_auth;
    struct tls_root_store *client_roots;
    const char *const *client_crls;
    size_t n_client_crls;
    size_t max_certificate_chain_size;
} tls_server_config_params;

/*
 * Validates params and builds an immutable config (one reference). Unknown suite,
 * group or version values, or neither certs nor resolver, give TLS_ERR_CONFIG with
 * a sentence in errbuf. Certified keys are referenced, not copied.
 */
TLS_MUST_CHECK tls_error tls_server_config_new(const tls_server_config_params *params,
                                               tls_server_config **out, char *errbuf,
                                               size_t errlen);
tls_server_config *tls_server_config_ref(tls_server_config *cfg);
void tls_server_config_unref(tls_server_config *cfg);

/* Name <-> value helpers for command lines and configs ("TLS13_AES_128_GCM_SHA256"
 * or the IANA "TLS_AES_128_GCM_SHA256"; "X25519"/"secp256r1"/"P-256"). 0 if unknown. */
uint16_t tls_cipher_suite_from_name(const char *name);
const char *tls_cipher_suite_name(uint16_t suite);
uint16_t tls_group_from_name(const char *name);
const char *tls_group_name(uint16_t group);
const char *tls_sig_scheme_name(uint16_t scheme);
const char *tls_version_name(uint16_t version);

/* ---- client configuration and certificate verification --------------------------- */

typedef struct tls_root_store tls_root_store;

/* Loads the trust anchors of a PEM file (every CERTIFICATE block; one or more).
 * TLS_ERR_CERT_FILE / TLS_ERR_CERT_PARSE with a sentence in errbuf. One reference. */
TLS_MUST_CHECK tls_error tls_root_store_load(const char *pem_path, tls_root_store **out,
                                             char *errbuf, size_t errlen);
/* The system bundle (/etc/ssl/certs/ca-certificates.crt). */
TLS_MUST_CHECK tls_error tls_root_store_load_system(tls_root_store **out, char *errbuf,
                                                    size_t errlen);
tls_root_store *tls_root_store_ref(tls_root_store *roots);
void tls_root_store_unref(tls_root_store *roots);

/*
 * A server certificate verifier (rustls's ServerCertVerifier): chain[0] is the end
 * entity, then whatever intermediates the server sent (DER, borrowed for the call);
 * server_name is the DNS name or IP literal the client wants; now is Unix time.
 * Returns TLS_OK or a TLS_ERR_CERT_* / TLS_ERR_NO_CERTIFICATES_PRESENTED error.
 */
typedef tls_error (*tls_verify_fn)(void *arg, const uint8_t *const *chain, const size_t *chain_lens,
                                   size_t n_chain, const char *server_name, int64_t now);

/* The default verifier over a root store: path building, validity, basicConstraints
 * and pathLen, keyUsage/extendedKeyUsage serverAuth, subjectAltName (DNS with RFC 6125
 * wildcards, IP addresses), safe signature algorithms only. */
TLS_MUST_CHECK tls_error tls_verify_server_cert(const tls_root_store *roots,
                                                const uint8_t *const *chain,
                                                const size_t *chain_lens, size_t n_chain,
                                                const char *server_name, int64_t now);

/* The default client certificate verifier (rustls's WebPkiClientVerifier), as the
 * server uses it: the checks of tls_verify_server_cert with extendedKeyUsage
 * clientAuth instead of serverAuth and no name check. Revocation is checked by the
 * server config's CRLs, not here. */
TLS_MUST_CHECK tls_error tls_verify_client_cert(const tls_root_store *roots,
                                                const uint8_t *const *chain,
                                                const size_t *chain_lens, size_t n_chain,
                                                int64_t now);

/*
 * The client's store of sessions to resume (rustls's ClientSessionMemoryCache):
 * thread-safe, bounded to max_servers server names (least recently used goes first),
 * a few TLS 1.3 tickets per name (each used once) and one TLS 1.2 session. Share one
 * between client configs and connections.
 */
typedef struct tls_client_session_store tls_client_session_store;
TLS_MUST_CHECK tls_error tls_client_session_store_new(size_t max_servers,
                                                      tls_client_session_store **out);
tls_client_session_store *tls_client_session_store_ref(tls_client_session_store *store);
void tls_client_session_store_unref(tls_client_session_store *store);
/* Persistence (tlsclient --cache FILE). The file holds session secrets: it is written
 * mode 0600, atomically (temporary file, then rename). Loading skips expired
 * sessions. TLS_ERR_SESSION_FILE with a sentence in errbuf; a missing file on load is
 * not an error (the store stays empty). */
TLS_MUST_CHECK tls_error tls_client_session_store_save(tls_client_session_store *store,
                                                       const char *path, char *errbuf,
                                                       size_t errlen);
TLS_MUST_CHECK tls_error tls_client_session_store_load(tls_client_session_store *store,
                                                       const char *path, char *errbuf,
                                                       size_t errlen);

typedef struct tls_client_config tls_client_config;

typedef struct {
    /* Preference order; NULL/0 = defaults (as the server's). The first group gets a
     * key share in the ClientHello (X25519 by default), the others on HelloRetryRequest. */
    const uint16_t *versions;
    size_t n_versions;
    const uint16_t *cipher_suites;
    size_t n_cipher_suites;
    const uint16_t *groups;
    size_t n_groups;
    const char *const *alpn;
    size_t n_alpn;
    /* Verification: the default verifier over roots, or a custom verifier. One of the
     * two is required; there is no way to switch verification off here. */
    tls_root_store *roots;
    tls_verify_fn verifier;
    void *verifier_arg;
    bool disable_sni; /* SNI is never sent for IP addresses anyway */
    size_t max_fragment_size;
    /* Resumption: sessions are stored and offered through this store (referenced;
     * NULL: every handshake is a full one). no_tickets: keep TLS 1.2 sessions by
     * session ID only (no RFC 5077 session_ticket extension). */
    tls_client_session_store *sessions;
    bool no_tickets;
    /* Offer 0-RTT when a stored TLS 1.3 ticket allows it (tls_conn_write_early_data). */
    bool enable_early_data;
    /* Client authentication (rustls's with_client_auth_cert): the chain and key presented
     * when a server sends a CertificateRequest (referenced, not copied; RSA, ECDSA P-256 or
     * P-384, Ed25519). It goes out only when its key fits the request: a signature scheme
     * the server listed (TLS 1.3: RSA signs with PSS only) and, in TLS 1.2, a certificate
     * type it listed (rsa_sign; ecdsa_sign for ECDSA and Ed25519, RFC 8422 §5.5); if not,
     * or when this is NULL, the Certificate is empty and the server decides.
     * certificate_authorities is not consulted (the one certificate is sent whatever the
     * server names). A resumed session does not send it again. Post-handshake
     * authentication is not offered. */
    tls_certified_key *client_cert;
    /* Resource limits, as the server's (0: the default). max_certificate_chain_size is
     * the largest Certificate message (the server's chain) accepted, 1024 .. 16 MiB;
     * default: max_handshake_message_size. It may be larger than that: only
     * Certificate messages may then be that large. */
    size_t max_handshake_message_size;
    size_t max_certificate_chain_size;
    size_t max_buffered_plaintext;
    size_t max_buffered_ciphertext;
    uint32_t max_empty_records;
    uint32_t max_key_updates;
} tls_client_config_params;

TLS_MUST_CHECK tls_error tls_client_config_new(const tls_client_config_params *params,
                                               tls_client_config **out, char *errbuf,
                                               size_t errlen);
/* DANGEROUS: a client config that accepts any certificate for any name (tlsclient
 * --insecure). The handshake still checks that the server holds the key of the
 * certificate it sent. Never use it to protect real traffic. */
TLS_MUST_CHECK tls_error tls_client_config_new_dangerous_unverified(
    const tls_client_config_params *params, tls_client_config **out, char *errbuf, size_t errlen);
tls_client_config *tls_client_config_ref(tls_client_config *cfg);
void tls_client_config_unref(tls_client_config *cfg);

/* ---- connections ------------------------------------------------------------- */

typedef struct tls_conn tls_conn;

TLS_MUST_CHECK tls_error tls_server_conn_new(tls_server_config *cfg, tls_conn **out);
/* A client connection to server_name (a DNS name or an IP literal; it is verified
 * against the certificate and sent as SNI unless it is an IP address or SNI is
 * disabled). The ClientHello is queued at once: call tls_conn_write_tls first. */
TLS_MUST_CHECK tls_error tls_client_conn_new(tls_client_config *cfg, const char *server_name,
                                             tls_conn **out);
void tls_conn_free(tls_conn *conn); /* wipes keys; NULL is fine */

/*
 * Copies up to len TLS bytes in; *consumed says how many were taken (fewer than len
 * when the engine's input buffer is full: call tls_conn_process and read plaintext
 * first). Returns the latched error if the connection has failed.
 */
TLS_MUST_CHECK tls_error tls_conn_read_tls(tls_conn *conn, const uint8_t *buf, size_t len,
                                           size_t *consumed);
/*
 * Processes buffered TLS bytes: handshake progress, decryption. On a fatal error the
 * error latches, the alert is queued for write_tls and every later call returns it.
 */
TLS_MUST_CHECK tls_error tls_conn_process(tls_conn *conn);
/* Copies up to cap pending TLS bytes out; returns how many. */
size_t tls_conn_write_tls(tls_conn *conn, uint8_t *buf, size_t cap);
/* Pending TLS bytes without copying: *len bytes at the returned pointer, valid until
 * the next call on conn; then tls_conn_consume_tls(conn, n). */
const uint8_t *tls_conn_peek_tls(tls_conn *conn, size_t *len);
void tls_conn_consume_tls(tls_conn *conn, size_t n);

/* Reads decrypted application data; *n == 0 means none is available now. */
TLS_MUST_CHECK tls_error tls_conn_read(tls_conn *conn, uint8_t *buf, size_t cap, size_t *n);
/* The same without copying: the next *len bytes tls_conn_read would return, at the
 * returned pointer (NULL with *len 0 when there are none, or once an error latched),
 * valid until the next call on conn. tls_conn_consume_plaintext(conn, n) then drops
 * the first n of them (n <= *len) and, like tls_conn_read, processes records held
 * back while the buffer was full; its error latches as tls_conn_read's would. */
const uint8_t *tls_conn_peek_plaintext(tls_conn *conn, size_t *len);
TLS_MUST_CHECK tls_error tls_conn_consume_plaintext(tls_conn *conn, size_t n);
/* Queues plaintext for encryption (buffered until the handshake completes, up to a cap:
 * *n may be less than len). */
TLS_MUST_CHECK tls_error tls_conn_write(tls_conn *conn, const uint8_t *buf, size_t len, size_t *n);
/*
 * 0-RTT (RFC 8446 §2.3, §4.2.10). Early data can be replayed by an attacker: the
 * server keeps it apart from 1-RTT data so the caller decides what it may do with it.
 *
 * Client: right after tls_client_conn_new, tls_conn_early_data_capacity says how many
 * bytes may be sent as early data (0: none, because no stored ticket allows it or the
 * config does not enable it); tls_conn_write_early_data queues up to that many. Once
 * the handshake completes, tls_conn_early_data_accepted says whether the server took
 * them; if not, they were not delivered and the caller resends them with
 * tls_conn_write.
 *
 * Server: tls_conn_read_early_data returns accepted early data (before and after the
 * handshake completes, until drained); tls_conn_early_data_accepted is true once the
 * server accepted 0-RTT for this connection.
 */
size_t tls_conn_early_data_capacity(const tls_conn *conn);
TLS_MUST_CHECK tls_error tls_conn_write_early_data(tls_conn *conn, const uint8_t *buf, size_t len,
                                                   size_t *n);
TLS_MUST_CHECK tls_error tls_conn_read_early_data(tls_conn *conn, uint8_t *buf, size_t cap,
                                                  size_t *n);
bool tls_conn_early_data_accepted(const tls_conn *conn);
/* Queues a close_notify alert; later writes fail with TLS_ERR_CLOSED. */
void tls_conn_send_close_notify(tls_conn *conn);
/* Queues a KeyUpdate for our sending keys (update_requested asks the peer too).
 * TLS 1.3 only: TLS_ERR_INVALID_ARGUMENT on a TLS 1.2 connection. */
TLS_MUST_CHECK tls_error tls_conn_send_key_update(tls_conn *conn, bool update_requested);

bool tls_conn_wants_read(const tls_conn *conn);
bool tls_conn_wants_write(const tls_conn *conn);
bool tls_conn_is_handshaking(const tls_conn *conn);
/* The peer sent close_notify: no more plaintext will arrive. */
bool tls_conn_peer_closed(const tls_conn *conn);
/* The latched fatal error, or TLS_OK. */
tls_error tls_conn_error(const tls_conn *conn);
/* Alert the peer sent us (TLS_ALERT_NONE if none). */
int tls_conn_peer_alert(const tls_conn *conn);

/* Negotiated parameters; 0 / NULL before they are known. */
uint16_t tls_conn_version(const tls_conn *conn);
uint16_t tls_conn_cipher_suite(const tls_conn *conn);
uint16_t tls_conn_group(const tls_conn *conn);
uint16_t tls_conn_sig_scheme(const tls_conn *conn);
const char *tls_conn_server_name(const tls_conn *conn);
/* Borrowed, not NUL-terminated; NULL when no protocol was agreed. */
const uint8_t *tls_conn_alpn(const tls_conn *conn, size_t *len);
/* True if the handshake went through a HelloRetryRequest. */
bool tls_conn_did_hrr(const tls_conn *conn);
/*
 * Keying material exporter (RFC 5705; RFC 8446 §7.5): out_len bytes for label and,
 * when use_context, the context value. Available once the handshake completed;
 * TLS_ERR_INVALID_ARGUMENT before that, for a label TLS 1.2 reserves for itself
 * ("key expansion", ...), or for lengths the PRF cannot produce.
 */
TLS_MUST_CHECK tls_error tls_conn_export_keying_material(tls_conn *conn, const char *label,
                                                         const uint8_t *context, size_t context_len,
                                                         bool use_context, uint8_t *out,
                                                         size_t out_len);
/* TLS 1.2: true when the extended master secret (RFC 7627) was negotiated. TLS 1.3
 * always binds its secrets to the transcript, so this is true there too. */
bool tls_conn_ems(const tls_conn *conn);
/* True when the handshake resumed a session (TLS 1.3 PSK, TLS 1.2 session ID or
 * ticket), on either side. */
bool tls_conn_resumed(const tls_conn *conn);

/*
 * The client's identity on a server connection with client authentication (mTLS).
 * Meaningful once the handshake completed; before that, and on client connections,
 * every answer is false / NULL / 0.
 * - tls_conn_peer_cert_verified: a client chain verified against the config's
 *   client_roots and CRLs, on this connection's full handshake or, resumed, on the
 *   session's full handshake and re-checked against the current roots and CRLs now
 *   (PROXY v2: PP2_CLIENT_CERT_SESS, and verify = 0).
 * - tls_conn_peer_cert_sent: the client sent that certificate on this connection,
 *   i.e. a verified full handshake (PP2_CLIENT_CERT_CONN); false when resumed.
 * - tls_conn_peer_cert: DER certificate `index` of the chain as the client presented
 *   it (0: the end entity); NULL past the end. Resumed sessions keep the chain only
 *   while it fits in a ticket (TLS_TICKET_MAX_CLIENT_CHAIN): its end entity always.
 * - tls_conn_peer_cn: the end entity's subject commonName (the last one when there
 *   are several), NUL-terminated, at most 64 bytes; NULL when unverified or when the
 *   subject has none. It is printable ASCII or UTF-8 as the certificate encoded it,
 *   with control characters replaced by '?' so it can be logged as it is.
 * Pointers are borrowed from conn and valid until tls_conn_free.
 */
bool tls_conn_peer_cert_verified(const tls_conn *conn);
bool tls_conn_peer_cert_sent(const tls_conn *conn);
const uint8_t *tls_conn_peer_cert(const tls_conn *conn, size_t index, size_t *len);
const char *tls_conn_peer_cn(const tls_conn *conn);

/* Client connections: the SignedCertificateTimestampList (RFC 6962 §3.3) the server
 * sent (TLS 1.3: in the end-entity CertificateEntry; TLS 1.2: in the ServerHello),
 * structure-checked but not verified against any log; borrowed from conn, valid until
 * tls_conn_free. NULL with *len 0 when none. The client offers
 * signed_certificate_timestamp in every ClientHello. */
const uint8_t *tls_conn_peer_scts(const tls_conn *conn, size_t *len);

/* ---- memory accounting --------------------------------------------------------- */

/* All engine allocations go through these hooks (default: malloc/free). Set once,
 * before any other call; used by benchmarks to count bytes per connection. */
typedef struct {
    void *(*alloc)(void *arg, size_t size);
    void (*free)(void *arg, void *ptr, size_t size);
    void *arg;
} tls_allocator;
void tls_set_allocator(const tls_allocator *allocator);

#endif
