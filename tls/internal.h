/*
 * internal.h — types and helpers shared by the engine's modules; never installed.
 *
 * Ownership notes: a tls_server_config and a tls_certified_key are immutable after
 * construction and shared by every connection and thread; only their reference
 * counts change (atomically), and a certified key's staples (OCSP response, SCT
 * list), which are swapped under its staple_lock (ocsp.c).
 */
#ifndef MOAT_TLS_INTERNAL_H
#define MOAT_TLS_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "codec.h"
#include "crypto/crypto.h"
#include "tls.h"

/* The two hidden-control-flow macros the style guide allows. */
#define TRY(expr)                                                                                  \
    do {                                                                                           \
        tls_error try_err_ = (expr);                                                               \
        if (try_err_ != TLS_OK)                                                                    \
            return try_err_;                                                                       \
    } while (0)
#define ENSURE(cond, err)                                                                          \
    do {                                                                                           \
        if (!(cond))                                                                               \
            return (err);                                                                          \
    } while (0)

/* RFC 8446 §5.1 / §5.2 record limits. */
#define TLS_RECORD_HEADER_LEN 5
#define TLS_MAX_PLAINTEXT 16384
#define TLS_MAX_CIPHERTEXT (TLS_MAX_PLAINTEXT + 256)
#define TLS_MAX_RECORD (TLS_RECORD_HEADER_LEN + TLS_MAX_CIPHERTEXT)
/* Largest handshake message accepted by default (a ClientHello with big key shares
 * fits); configs may set another (tls_limits). */
#define TLS_MAX_HANDSHAKE_MESSAGE TLS_DEFAULT_HANDSHAKE_LIMIT

enum {
    TLS_CT_CHANGE_CIPHER_SPEC = 20,
    TLS_CT_ALERT = 21,
    TLS_CT_HANDSHAKE = 22,
    TLS_CT_APPLICATION_DATA = 23,
};

enum {
    TLS_HS_CLIENT_HELLO = 1,
    TLS_HS_SERVER_HELLO = 2,
    TLS_HS_NEW_SESSION_TICKET = 4,
    TLS_HS_END_OF_EARLY_DATA = 5,
    TLS_HS_ENCRYPTED_EXTENSIONS = 8,
    TLS_HS_CERTIFICATE = 11,
    TLS_HS_CERTIFICATE_REQUEST = 13,
    TLS_HS_CERTIFICATE_VERIFY = 15,
    TLS_HS_FINISHED = 20,
    TLS_HS_CERTIFICATE_STATUS = 22, /* TLS 1.2, RFC 6066 §8 */
    TLS_HS_KEY_UPDATE = 24,
    TLS_HS_MESSAGE_HASH = 254,
};

enum {
    TLS_EXT_SERVER_NAME = 0,
    TLS_EXT_STATUS_REQUEST = 5,
    TLS_EXT_SUPPORTED_GROUPS = 10,
    TLS_EXT_EC_POINT_FORMATS = 11,
    TLS_EXT_SIGNATURE_ALGORITHMS = 13,
    TLS_EXT_ALPN = 16,
    TLS_EXT_SCT = 18,
    TLS_EXT_PADDING = 21,
    TLS_EXT_EXTENDED_MASTER_SECRET = 23,
    TLS_EXT_SESSION_TICKET = 35,
    TLS_EXT_PRE_SHARED_KEY = 41,
    TLS_EXT_EARLY_DATA = 42,
    TLS_EXT_SUPPORTED_VERSIONS = 43,
    TLS_EXT_COOKIE = 44,
    TLS_EXT_PSK_KEY_EXCHANGE_MODES = 45,
    TLS_EXT_CERTIFICATE_AUTHORITIES = 47,
    TLS_EXT_SIGNATURE_ALGORITHMS_CERT = 50,
    TLS_EXT_KEY_SHARE = 51,
    TLS_EXT_RENEGOTIATION_INFO = 0xff01,
};

/* A borrowed run of bytes. */
typedef struct {
    const uint8_t *p;
    size_t len;
} tls_slice;

/* ---- cipher suites ------------------------------------------------------------ */

/* TLS 1.2 suites authenticate the ECDHE exchange with one kind of certificate key. */
typedef enum { TLS_AUTH_ANY, TLS_AUTH_ECDSA, TLS_AUTH_RSA } tls_suite_auth;

typedef struct {
    uint16_t id;
    const char *name;         /* "TLS13_AES_128_GCM_SHA256" (rustls's spelling) */
    const char *iana_name;    /* "TLS_AES_128_GCM_SHA256" */
    const char *openssl_name; /* "ECDHE-ECDSA-AES128-GCM-SHA256" (1.2 only), or NULL */
    uint16_t version;         /* TLS_VERSION_1_3 or TLS_VERSION_1_2 */
    tls_aead_id aead;
    size_t key_len;
    tls_hash_id hash;    /* HKDF hash (1.3) or PRF hash (1.2) */
    tls_suite_auth auth; /* 1.2: which certificate key the suite needs */
    size_t fixed_iv_len; /* 1.2: 4 (GCM salt, explicit nonce in records) or 12 (ChaCha20) */
} tls_suite;

#define TLS_EMPTY_RENEGOTIATION_INFO_SCSV 0x00ff
#define TLS_FALLBACK_SCSV 0x5600

const tls_suite *tls__suite_find(uint16_t id);

/* ---- certified keys (certkey.c) ------------------------------------------------- */

#define TLS_MAX_CHAIN 10

struct tls_certified_key {
    atomic_uint refs;
    /* DER certificates, end entity first; each buffer owned (tls__alloc). */
    uint8_t *chain[TLS_MAX_CHAIN];
    size_t chain_len[TLS_MAX_CHAIN];
    size_t n_chain;
    tls_signing_key *key;
    tls_key_type key_type;
    /* dNSName SANs of the end entity (lower case, NUL-terminated, owned); when the
     * certificate has no SAN, its subject CN. "*.example.com" entries are wildcards. */
    char **names;
    size_t n_names;
    /* The only mutable part: the OCSP staple and SCT list (ocsp.c), swapped under
     * staple_lock by tls_certified_key_set_ocsp / _set_scts; a handshake takes
     * references under the lock (tls__certified_key_staples) and keeps what it took. */
    pthread_mutex_t staple_lock;
    struct tls_staple *ocsp;
    struct tls_staple *scts;
};

/* An immutable, reference-counted blob a certified key staples: a DER OCSPResponse
 * with its validity, or a SignedCertificateTimestampList. */
typedef struct tls_staple {
    atomic_uint refs;
    int64_t this_update, next_update; /* OCSP only */
    size_t len;
    uint8_t data[];
} tls_staple;

void tls__staple_unref(tls_staple *s); /* NULL is fine */
/* References to what ck staples for a handshake at `now`: the OCSP response only while
 * now < nextUpdate (want_ocsp false: none), the SCT list (want_scts false: none). NULL
 * when there is nothing; the caller unrefs both. */
void tls__certified_key_staples(const tls_certified_key *ck, int64_t now, bool want_ocsp,
                                bool want_scts, tls_staple **ocsp, tls_staple **scts);
/* Structure of a SignedCertificateTimestampList (RFC 6962 §3.3): a u16-prefixed list
 * of at least one u16-prefixed, non-empty SCT, nothing after it. */
bool tls__sct_list_ok(const uint8_t *list, size_t len);

/* Built-in resolver over cfg->certs: exact name, then wildcard (one left-most label),
 * then the default certificates (the first, and any other with the same names)
 * unless strict. Several certificates may serve one name (RSA and ECDSA, say): among
 * the best-matching ones, rank (when not NULL) scores each for this client (0: it
 * cannot use it) and the highest score wins, the first of equals. NULL: no
 * certificate for this name. */
typedef int (*tls_cert_rank_fn)(const void *arg, const tls_certified_key *ck);
const tls_certified_key *tls__resolve_cert(tls_certified_key *const *certs, size_t n_certs,
                                           bool strict, const char *server_name,
                                           tls_cert_rank_fn rank, const void *rank_arg);

/* ---- resource limits (config.c) -------------------------------------------------- */

/* Per-connection limits, resolved from a config's params (defaults filled in). A
 * connection points at its config's, which outlives it. */
typedef struct {
    size_t handshake_message; /* largest handshake message body accepted */
    size_t certificate_chain; /* ... for a Certificate message */
    size_t plaintext;         /* app_in and pending caps */
    size_t ciphertext;        /* out: tls_conn_write stops taking plaintext above this */
    size_t out_cap;           /* out: never more than this (flights, alerts, flushes) */
    unsigned empty_records;   /* records in a row that carry nothing */
    unsigned key_updates;     /* TLS 1.3 KeyUpdates in a row */
} tls_limits;

/* Defaults: the engine's behaviour before limits were configurable. */
#define TLS_DEFAULT_HANDSHAKE_LIMIT 65536
#define TLS_DEFAULT_BUFFER_LIMIT 65536
#define TLS_MIN_OUT_CAP (256 * 1024)
#define TLS_DEFAULT_EMPTY_RECORDS 32
#define TLS_DEFAULT_KEY_UPDATES 16

/* The limits a config's params ask for (the same fields in server and client params;
 * 0 = the default, chain 0 = handshake_message). */
typedef struct {
    size_t handshake_message, certificate_chain, plaintext, ciphertext;
    uint32_t empty_records, key_updates;
} tls_limit_request;

/* Fills l from req and checks the bounds of tls.h: TLS_ERR_CONFIG with a sentence naming
 * the parameter. */
TLS_MUST_CHECK tls_error tls__limits_init(tls_limits *l, const tls_limit_request *req, char *errbuf,
                                          size_t errlen);

/* ---- server config (config.c) --------------------------------------------------- */

#define TLS_MAX_ALPN 16

struct tls_server_config {
    atomic_uint refs;
    uint16_t versions[4];
    size_t n_versions;
    uint16_t suites[16];
    size_t n_suites;
    uint16_t groups[8];
    size_t n_groups;
    /* ALPN protocols, each with a length byte in front (wire form). */
    uint8_t *alpn[TLS_MAX_ALPN];
    size_t n_alpn;
    tls_certified_key **certs;
    size_t n_certs;
    bool sni_strict;
    tls_cert_resolver_fn resolver;
    void *resolver_arg;
    size_t max_fragment_size;
    uint8_t cookie_secret[32];
    bool require_ems;
    /* Session tickets: NULL when disabled (ticket.h). */
    struct tls_ticketer *ticketer;
    uint32_t ticket_lifetime_s;
    unsigned n_tickets;
    /* Stateful resumption (session_cache.h): NULL when disabled. */
    struct tls_session_cache *session_cache;
    uint32_t max_early_data_size; /* 0: 0-RTT refused */
    tls_limits limits;
    /* Client authentication (verify.h): the mode, the roots (referenced; NULL with
     * TLS_CLIENT_AUTH_NONE) and the CRLs (owned; NULL when none were given). */
    tls_client_auth_mode client_auth;
    tls_root_store *client_roots;
    struct tls_crl_set *client_crls;
};

/* Largest max_early_data_size a server config takes (1 MiB). */
#define TLS_MAX_EARLY_DATA (1024u * 1024u)

/* Defaults shared by server and client configs, in preference order. */
#define TLS_N_DEFAULT_VERSIONS 2
#define TLS_N_DEFAULT_SUITES 9
#define TLS_N_DEFAULT_GROUPS 3
extern const uint16_t tls__default_versions[TLS_N_DEFAULT_VERSIONS];
extern const uint16_t tls__default_suites[TLS_N_DEFAULT_SUITES];
extern const uint16_t tls__default_groups[TLS_N_DEFAULT_GROUPS];
bool tls__known_version(uint16_t v);
bool tls__known_suite(uint16_t v);
bool tls__known_group(uint16_t v);
/* Copies a caller list (or, when empty, the defaults) into dst (cap entries),
 * refusing unknown and repeated values: false with the offender in *bad. */
bool tls__copy_id_list(uint16_t *dst, size_t *n_dst, size_t cap, const uint16_t *src, size_t n_src,
                       const uint16_t *defaults, size_t n_defaults, bool (*known)(uint16_t),
                       uint16_t *bad);
/* ALPN names into wire form (length byte first), tls__alloc'd into out[0..*n_out);
 * on error what was allocated stays there for the caller to free. TLS_ERR_CONFIG
 * with a sentence, or TLS_ERR_NO_MEMORY. */
TLS_MUST_CHECK tls_error tls__alpn_copy(const char *const *alpn, size_t n_alpn, uint8_t **out,
                                        size_t *n_out, char *errbuf, size_t errlen);

/* True when version is enabled and at least one enabled suite serves it. */
bool tls__config_has_version(const struct tls_server_config *cfg, uint16_t version);

/* ---- client config (client_config.c) --------------------------------------------- */

struct tls_client_config {
    atomic_uint refs;
    uint16_t versions[4];
    size_t n_versions;
    uint16_t suites[16];
    size_t n_suites;
    uint16_t groups[8]; /* groups[0] gets the key share of the first ClientHello */
    size_t n_groups;
    uint8_t *alpn[TLS_MAX_ALPN]; /* wire form, as the server config's */
    size_t n_alpn;
    /* Exactly one of roots (referenced) and verifier is set, unless
     * dangerous_skip_server_cert_verification is. */
    tls_root_store *roots;
    tls_verify_fn verifier;
    void *verifier_arg;
    /* tls_client_config_new_dangerous_unverified: the server's chain and name are not
     * checked at all. CertificateVerify and Finished still are. */
    bool dangerous_skip_server_cert_verification;
    bool disable_sni;
    size_t max_fragment_size;
    /* Resumption (client_sessions.h): the store (referenced), or NULL for full
     * handshakes only. no_tickets: no RFC 5077 session_ticket extension in TLS 1.2.
     * enable_early_data: offer 0-RTT when a stored TLS 1.3 ticket allows it. */
    tls_client_session_store *sessions;
    bool no_tickets;
    bool enable_early_data;
    /* The certificate presented when a server asks for one (referenced), or NULL. */
    tls_certified_key *client_cert;
    tls_limits limits;
};

/* True when version is enabled and at least one enabled suite serves it: what the
 * ClientHello offers. */
bool tls__client_config_offers(const struct tls_client_config *cfg, uint16_t version);

/* ---- little helpers --------------------------------------------------------------- */

#if defined(__GNUC__)
#define TLS_PRINTF_LIKE(fmt_arg, first_arg) __attribute__((format(printf, fmt_arg, first_arg)))
#else
#define TLS_PRINTF_LIKE(fmt_arg, first_arg)
#endif

/* Writes a sentence into errbuf (which may be NULL). */
void tls__set_err(char *errbuf, size_t errlen, const char *fmt, ...) TLS_PRINTF_LIKE(3, 4);
/* Reads a whole file of at most max_size bytes into *buf (tls__alloc'd, *size bytes,
 * wiped and freed by the caller) and NUL-terminates it: *len counts the data and the
 * NUL. TLS_ERR_CERT_FILE ("cannot read PATH: reason", "PATH: file too large") or
 * TLS_ERR_NO_MEMORY, with the sentence in errbuf. */
TLS_MUST_CHECK tls_error tls__read_file(const char *path, size_t max_size, uint8_t **buf,
                                        size_t *size, size_t *len, char *errbuf, size_t errlen);

/* True when `v` is one of the big-endian u16 values in list (even length). */
bool tls__u16_list_has(tls_slice list, uint16_t v);
/* The scheme we sign with for key ck among the peer's `schemes`, in our preference
 * order (TLS 1.3: RSA-PSS only); 0 when none fits (certkey.c). */
uint16_t tls__sig_scheme_for_key(const tls_certified_key *ck, tls_slice schemes, uint16_t version);

#endif
