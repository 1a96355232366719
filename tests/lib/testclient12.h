/*
 * testclient12.h — a scripted, in-memory TLS 1.2 client for unit tests (prefix t12_).
 *
 * The TLS 1.2 counterpart of testclient.h: it drives the server engine through its public
 * pipe API and is built on the engine's internal modules (codec, crypto provider, the
 * TLS 1.2 PRF and master secret, TLS 1.2 record protection, transcript), so it
 * re-implements no cryptography. It is test code: never linked into the daemon, and
 * written to misbehave on request.
 *
 * Model. t12_start() queues the ClientHello; t12_receive() (or t12_pump(), which moves
 * bytes both ways) feeds it server bytes. The client parses ServerHello, Certificate,
 * ServerKeyExchange (signature verified against the end-entity certificate) and
 * ServerHelloDone, then answers with its flight as opts.flight says: normally
 * ClientKeyExchange, ChangeCipherSpec, Finished; or one of the misordered flights; or
 * nothing (T12_FLIGHT_MANUAL: the test calls t12_send_client_key_exchange,
 * t12_send_ccs and t12_send_finished itself, in any order). It then checks the server's
 * ChangeCipherSpec and Finished (after a NewSessionTicket, when it offered session_ticket
 * and the server acknowledged it) and is connected: application data flows both ways.
 *
 * Everything the server sent is recorded in the public fields (negotiated values, the
 * ServerHello extensions, the downgrade sentinel, alerts with whether they were
 * protected, the explicit nonce of every AES-GCM record) for tests to assert on.
 * Problems found in what the server sent latch `failed` with a sentence in `error`.
 *
 * Ownership: option arrays and strings are borrowed and must outlive the client.
 */
#ifndef MOAT_TESTS_TESTCLIENT12_H
#define MOAT_TESTS_TESTCLIENT12_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/lib/testclient.h" /* tc_buf */
#include "tls/hs/hs.h"
#include "tls/record.h"
#include "tls/tls.h"

/* How the ClientHello signals secure renegotiation (RFC 5746 §3.4). */
typedef enum {
    T12_RI_EXT,      /* an empty renegotiation_info extension (the default) */
    T12_RI_SCSV,     /* TLS_EMPTY_RENEGOTIATION_INFO_SCSV in the suite list */
    T12_RI_NONE,     /* neither */
    T12_RI_NONEMPTY, /* a non-empty renegotiation_info: wrong in an initial hello */
} t12_reneg_mode;

/* The ec_point_formats extension (RFC 8422 §5.1.2). */
typedef enum {
    T12_EPF_UNCOMPRESSED,    /* [uncompressed] (the default) */
    T12_EPF_OMIT,            /* no extension */
    T12_EPF_COMPRESSED_ONLY, /* [ansiX962_compressed_prime] only */
} t12_point_formats;

/* The client's second flight, sent once ServerHelloDone arrives. */
typedef enum {
    T12_FLIGHT_NORMAL,             /* ClientKeyExchange, CCS, Finished */
    T12_FLIGHT_MANUAL,             /* nothing: the test sends the pieces itself */
    T12_FLIGHT_FINISHED_BEFORE_CCS, /* ClientKeyExchange, Finished (plaintext), CCS */
    T12_FLIGHT_CCS_BEFORE_CKE,     /* CCS, ClientKeyExchange, Finished */
    T12_FLIGHT_CCS_TWICE,          /* CKE, CCS, CCS (protected, as a real stack would), Fin */
} t12_flight;

typedef enum {
    T12_STATE_START,
    T12_STATE_WAIT_SERVER_HELLO,
    T12_STATE_WAIT_CERTIFICATE,
    T12_STATE_WAIT_SERVER_KEY_EXCHANGE,
    T12_STATE_WAIT_SERVER_HELLO_DONE,
    T12_STATE_SERVER_DONE,      /* server flight verified; our flight not (fully) sent */
    T12_STATE_WAIT_SERVER_CCS,  /* our Finished sent */
    T12_STATE_WAIT_SERVER_FINISHED,
    T12_STATE_CONNECTED,        /* server Finished verified */
} t12_state;

typedef struct {
    /* ClientHello contents. NULL/0 lists mean the defaults given. */
    const uint16_t *suites; /* default: the six ECDHE AEAD suites */
    size_t n_suites;
    const uint16_t *groups; /* supported_groups; default: X25519, secp256r1, secp384r1 */
    size_t n_groups;
    bool omit_groups;
    const uint16_t *sig_algs; /* default: ECDSA P-256/P-384, RSA-PSS x3, PKCS#1 x3 */
    size_t n_sig_algs;
    bool omit_sig_algs;
    const char *sni;         /* NULL: no server_name */
    const char *const *alpn; /* NULL/0: no ALPN */
    size_t n_alpn;
    bool omit_ems;           /* leave out extended_master_secret (offered by default) */
    t12_reneg_mode reneg;
    bool fallback_scsv;         /* TLS_FALLBACK_SCSV at the end of the suite list */
    const uint8_t *compression; /* default: {0} */
    size_t n_compression;
    t12_point_formats point_formats;
    uint16_t legacy_version;    /* 0: 0x0303 */
    const uint16_t *versions;   /* a supported_versions extension; NULL/0: none */
    size_t n_versions;
    bool no_extensions;         /* no extensions block at all */
    const uint8_t *extra_exts;  /* raw extensions appended last */
    size_t extra_exts_len;
    size_t record_size;         /* most handshake bytes per record; 0: 16384 */
    /* Resumption offers (RFC 5246 §7.4.1.2, RFC 5077 §3.1). This client cannot run an
     * abbreviated handshake: these are for tests of how the server treats the offer. */
    const uint8_t *session_id;  /* legacy_session_id; NULL/0: empty */
    size_t session_id_len;      /* at most 32 */
    bool session_ticket;        /* send the session_ticket extension (after EMS) ... */
    const uint8_t *ticket;      /* ... with this ticket; NULL/0: empty (asking for one) */
    size_t ticket_len;

    /* Second flight. */
    t12_flight flight;
    bool corrupt_finished;     /* flip one bit of our verify_data */
    const uint8_t *cke_body;   /* replaces the whole ClientKeyExchange body (keys are then
                                * not derived: the server is expected to refuse it) */
    size_t cke_body_len;
    size_t cke_trailing;       /* zero bytes appended after a valid ClientKeyExchange point */

    /* Client authentication (RFC 5246 §7.4.4, §7.4.6, §7.4.8): a CertificateRequest is
     * recorded and, in T12_FLIGHT_NORMAL, answered with Certificate (client_cert's chain;
     * NULL: empty) before the ClientKeyExchange and CertificateVerify (unless the
     * Certificate is empty) after it. T12_FLIGHT_MANUAL: t12_send_client_certificate and
     * t12_send_certificate_verify. */
    const tls_certified_key *client_cert;
    uint16_t client_sig_scheme; /* 0: ECDSA by curve, rsa_pss_rsae_sha256 for RSA */
    bool corrupt_client_cv;     /* flip one bit of our CertificateVerify signature */
} t12_options;

typedef struct {
    uint8_t level, desc;
    bool encrypted; /* arrived under the server's record protection */
} t12_alert;

#define T12_MAX_ALERTS 8
#define T12_MAX_NONCES 512

typedef struct {
    t12_options opts;
    t12_state state;
    bool failed;
    char error[256];

    /* ---- what the server sent ---- */
    uint16_t version, suite, group, sig_scheme;
    uint8_t server_random[32];
    bool sentinel_tls12;  /* server_random ends with "DOWNGRD\x01" (RFC 8446 §4.1.3) */
    bool sentinel_tls11;  /* ... with "DOWNGRD\x00" */
    size_t session_id_len;
    uint16_t sh_ext_types[32]; /* ServerHello extensions, in order */
    bool session_ticket_acked; /* session_ticket in ServerHello (only if we sent it) */
    uint8_t *new_ticket;       /* the NewSessionTicket's ticket (owned; RFC 5077 §3.3) */
    size_t new_ticket_len;
    unsigned new_tickets;      /* NewSessionTickets received */
    size_t n_sh_exts;
    bool ems;              /* extended_master_secret acknowledged (and used) */
    bool reneg_info;       /* renegotiation_info present in ServerHello */
    size_t reneg_info_len; /* its renegotiated_connection length (0 on a first handshake) */
    bool sni_acked;
    bool point_formats_seen;
    bool point_formats_uncompressed; /* the server's list holds uncompressed (0) */
    char alpn[256];                  /* negotiated protocol; "" when none */
    size_t alpn_len;
    uint8_t *end_entity;  /* DER of the first certificate (owned) */
    uint8_t *cert_status; /* a CertificateStatus message's body (owned; RFC 6066 §8) */
    size_t cert_status_len;
    size_t end_entity_len;
    size_t n_certs;
    unsigned server_ccs;  /* CCS records received */
    unsigned server_msgs; /* handshake messages received */
    t12_alert alerts[T12_MAX_ALERTS];
    unsigned n_alerts;
    bool close_notify;
    unsigned records;            /* records received */
    unsigned protected_records;  /* ... of them under the server's keys */
    size_t max_record_plaintext; /* largest record content received */
    size_t app_before_connected; /* application bytes received before server Finished */
    /* Explicit nonces of the server's AES-GCM records, in order (RFC 5288 §3). */
    uint64_t explicit_nonces[T12_MAX_NONCES];
    size_t n_explicit_nonces;
    tc_buf app; /* application data received, not yet taken */
    bool cert_requested;       /* a CertificateRequest came */
    size_t cr_types, cr_sig_algs, cr_authorities; /* its list lengths (entries) */
    tc_buf hs_log;             /* every handshake message so far (for CertificateVerify) */

    /* ---- internals ---- */
    tc_buf out, in, hs_in;
    uint8_t client_random[32];
    uint8_t *ch; /* our ClientHello, for the transcript */
    size_t ch_len;
    const tls_suite *cs;
    tls_transcript transcript;
    uint8_t server_point[TLS_MAX_KX_PUBLIC_LEN];
    size_t server_point_len;
    bool keys_ready; /* master secret and key block derived */
    bool cke_sent, ccs_sent, finished_sent;
    uint8_t master[TLS12_MASTER_SECRET_LEN];
    uint8_t key_block[2 * TLS_MAX_AEAD_KEY_LEN + 2 * TLS_AEAD_NONCE_LEN];
    uint8_t client_verify[TLS12_VERIFY_DATA_LEN]; /* our Finished (RFC 5746 needs it) */
    tls_record_cipher rd, wr;
} t12_client;

/* Makes a client (opts copied shallowly; NULL = all defaults). Aborts on OOM. */
t12_client *t12_client_new(const t12_options *opts);
void t12_client_free(t12_client *c);

/* Builds and queues the ClientHello. */
void t12_start(t12_client *c);
/* Feeds bytes the server wrote; the client reacts (queues answers into out). */
void t12_receive(t12_client *c, const uint8_t *buf, size_t len);

/* The pieces of the second flight, for T12_FLIGHT_MANUAL (each usable once, in any
 * order; state checks are deliberately absent). The ClientKeyExchange derives the keys;
 * the CCS switches our write keys if they exist (else it is just a plaintext CCS); the
 * Finished goes out under whatever write state is current. */
void t12_send_client_key_exchange(t12_client *c);
/* Client authentication: our Certificate (opts.client_cert's chain, or empty) and our
 * CertificateVerify over every handshake message so far. */
void t12_send_client_certificate(t12_client *c);
void t12_send_certificate_verify(t12_client *c);
void t12_send_ccs(t12_client *c);
void t12_send_finished(t12_client *c);

/* Queues application data under the current write keys (records of <= 16384 bytes). */
void t12_write(t12_client *c, const uint8_t *data, size_t len);
size_t t12_read(t12_client *c, uint8_t *buf, size_t cap);
/* A renegotiation ClientHello (RFC 5746 §3.5: renegotiation_info carries our
 * verify_data) under the current write keys. */
void t12_send_renegotiation_hello(t12_client *c);
void t12_send_alert(t12_client *c, uint8_t level, uint8_t desc);
void t12_send_close_notify(t12_client *c);

/* ---- injection ---- */
void t12_inject_raw(t12_client *c, const void *bytes, size_t len);
void t12_inject_plain_record(t12_client *c, uint8_t type, const void *body, size_t len);
/* A record under the current write keys (plaintext if none yet); len <= 16384. */
void t12_inject_record(t12_client *c, uint8_t type, const void *body, size_t len);
/* Flips bits `mask` in the byte `back` bytes before the end of out (1 = last byte). */
void t12_flip_out_bit(t12_client *c, size_t back, uint8_t mask);

/* ---- output queue and results ---- */
const uint8_t *t12_out(const t12_client *c, size_t *len);
void t12_out_consume(t12_client *c, size_t n);
int t12_last_alert(const t12_client *c);

/*
 * Moves bytes until neither side makes progress, exactly as tc_pump: client out →
 * tls_conn_read_tls (at most `feed` bytes per call; 0 = all) with tls_conn_process after
 * every call, then tls_conn_write_tls → t12_receive. Returns the first error the server
 * returned (TLS_OK if none).
 */
tls_error t12_pump(t12_client *c, tls_conn *server, size_t feed);

#endif
