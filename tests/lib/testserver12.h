/*
 * testserver12.h — a scripted, in-memory TLS 1.2 server for the client engine's tests
 * (prefix ts12_).
 *
 * The TLS 1.2 counterpart of testserver.h: built on the engine's internal modules (codec,
 * crypto provider, TLS 1.2 PRF and master secret, TLS 1.2 record protection, transcript),
 * so it re-implements no cryptography, and written to misbehave on request. Test code
 * only: never linked into the daemon.
 *
 * Model. ts12_receive() takes the client's bytes (plaintext until the client's
 * ChangeCipherSpec, protected after it). Each step of the server's side is one call that
 * queues records in `out`: ts12_server_hello (any field wrong), ts12_flight (Certificate,
 * ServerKeyExchange, [CertificateRequest], ServerHelloDone, each optionally wrong),
 * ts12_finish (ChangeCipherSpec and Finished, once the client's flight arrived), and
 * ts12_send_handshake / ts12_send_record for anything else. ts12_pump() moves bytes both
 * ways between a ts12_server and an engine client connection.
 *
 * When the client's ClientKeyExchange arrives the server derives the master secret (with
 * EMS when its ServerHello echoed it) and key block from the ECDHE key of its
 * ServerKeyExchange; the client's ChangeCipherSpec installs the client's keys for reading,
 * and its Finished is checked (finished_ok).
 *
 * Problems in what the client sent latch `failed` with a sentence in `error`.
 */
#ifndef MOAT_TESTS_TESTSERVER12_H
#define MOAT_TESTS_TESTSERVER12_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tests/lib/testserver.h" /* ts_buf, ts_alert */
#include "tls/hs/hs.h"
#include "tls/internal.h"
#include "tls/record.h"
#include "tls/tls.h"

/* The ServerHello; zero fields mean "what a correct server sends". */
typedef struct {
    uint16_t legacy_version; /* 0: 0x0303 */
    const uint8_t *random;   /* NULL: fresh random (no downgrade sentinel) */
    uint16_t suite;          /* 0: the first TLS 1.2 suite the client offers for key_type */
    tls_key_type key_type;   /* picks the default suite (RSA is 0: set it for ECDSA keys) */
    uint8_t compression;
    bool session_id;      /* a fresh 32-byte session id (as a caching server sends) */
    bool omit_reneg_info; /* no renegotiation_info */
    bool nonempty_reneg_info;
    bool omit_ems;                /* extended_master_secret not echoed (and not used) */
    bool ack_sni;                 /* an empty server_name */
    const char *alpn;             /* select this protocol */
    const uint8_t *point_formats; /* an ec_point_formats list; NULL: no extension */
    size_t n_point_formats;
    const uint8_t *extra_exts; /* raw extensions appended */
    size_t extra_exts_len;
} ts12_hello_opts;

/* Signs `msg` for a ServerKeyExchange instead of the certified key (a test's own
 * signer, e.g. a hash/curve pair the engine's signer refuses). */
typedef bool (*ts12_sign_fn)(void *arg, const uint8_t *msg, size_t len, uint8_t *sig, size_t cap,
                             size_t *sig_len);

/* A TLS 1.2 CertificateRequest (RFC 5246 §7.4.4); zero fields mean what ts12_flight's
 * cert_request sends: ecdsa_sign, two schemes (ecdsa_secp256r1_sha256,
 * rsa_pss_rsae_sha256), no authorities. */
typedef struct {
    const uint8_t *certificate_types; /* NULL: {64} (ecdsa_sign) */
    size_t n_certificate_types;
    const uint16_t *sig_algs; /* NULL: the default pair */
    size_t n_sig_algs;
    bool authorities; /* one DistinguishedName */
} ts12_cert_request_opts;

/* The server's flight after the ServerHello; zero fields mean a correct one. */
typedef struct {
    const tls_certified_key *ck; /* chain sent and key signing ServerKeyExchange */
    bool empty_certificate;      /* a Certificate with no entries */
    bool omit_certificate;
    bool omit_server_key_exchange;
    uint16_t group;     /* 0: the first group of the client's supported_groups */
    uint8_t curve_type; /* 0: named_curve (3) */
    bool bad_point;     /* a point of the right length that is not on the curve */
    uint16_t scheme;    /* 0: by key type (RSA: PSS-SHA256); what the wire says */
    ts12_sign_fn sign;  /* NULL: ck's key signs with its own scheme, whatever `scheme` says */
    void *sign_arg;
    bool corrupt_signature;
    bool cert_request;           /* a CertificateRequest before ServerHelloDone */
    bool server_hello_done_body; /* a ServerHelloDone that is not empty */
    bool omit_server_hello_done;
    /* When set: this CertificateRequest instead of cert_request's. */
    const ts12_cert_request_opts *cert_request_with;
} ts12_flight_opts;

/* The server's ChangeCipherSpec and Finished. */
typedef struct {
    bool corrupt_finished;    /* flip a bit of verify_data */
    bool finished_before_ccs; /* Finished (plaintext, as no keys are on), then CCS */
    bool omit_finished;       /* CCS only */
} ts12_finish_opts;

typedef struct {
    bool failed;
    char error[256];

    /* ---- what the client sent ---- */
    uint8_t *hello; /* its ClientHello as sent (owned) */
    size_t hello_len;
    unsigned n_hellos;
    tls_client_hello ch; /* parsed (borrows from hello) */
    unsigned ccs;        /* CCS records */
    ts_alert alerts[TS_MAX_ALERTS];
    unsigned n_alerts;
    uint8_t msgs[TS_MAX_MSGS]; /* handshake message types after the ClientHello */
    unsigned n_msgs;
    size_t cert_len;  /* body length of the client's Certificate, if it sent one */
    bool finished_ok; /* the client's Finished verified */
    ts_buf app;       /* application data received */
    /* Client authentication: every handshake message in transcript order (what a TLS 1.2
     * CertificateVerify signs), how much of it preceded the client's CertificateVerify,
     * and the client's Certificate and CertificateVerify (whole messages). */
    ts_buf log;
    size_t cv_log_len;
    ts_buf client_cert, client_cv;

    /* ---- internals ---- */
    ts_buf out, in, hs_in;
    const tls_suite *suite;
    bool ems;
    uint16_t group;
    tls_kx *kx; /* the ServerKeyExchange's key, until the ClientKeyExchange */
    tls_transcript transcript;
    uint8_t client_random[32], server_random[32];
    bool keys_ready;
    uint8_t master[TLS12_MASTER_SECRET_LEN];
    uint8_t key_block[2 * TLS_MAX_AEAD_KEY_LEN + 2 * TLS_AEAD_NONCE_LEN];
    uint8_t expected_finished[TLS12_VERIFY_DATA_LEN];
    tls_record_cipher rd, wr;
} ts12_server;

ts12_server *ts12_new(void);
void ts12_free(ts12_server *s);

/* Feeds bytes the client wrote. */
void ts12_receive(ts12_server *s, const uint8_t *buf, size_t len);
/* Queues a ServerHello answering the ClientHello (and starts the transcript). */
void ts12_server_hello(ts12_server *s, const ts12_hello_opts *opts);
/* Queues Certificate, ServerKeyExchange, [CertificateRequest], ServerHelloDone. */
void ts12_flight(ts12_server *s, const ts12_flight_opts *opts);
/* Queues ChangeCipherSpec and Finished (needs the client's flight); then our write keys
 * are on. NULL: a correct pair. */
void ts12_finish(ts12_server *s, const ts12_finish_opts *opts);
/* A whole handshake message under the current write keys (not in the transcript). */
void ts12_send_handshake(ts12_server *s, const uint8_t *msg, size_t len);
/* A record under the current write keys (plaintext if none). */
void ts12_send_record(ts12_server *s, uint8_t type, const void *body, size_t len);
/* A plaintext record whatever keys are current. */
void ts12_send_plain_record(ts12_server *s, uint8_t type, const void *body, size_t len);
/* Queues application data. */
void ts12_write(ts12_server *s, const void *data, size_t len);

/* The last alert the client sent (TLS_ALERT_NONE: none). */
int ts12_last_alert(const ts12_server *s);

/* Queues a CertificateRequest, into the transcript (NULL: the default one). */
void ts12_send_cert_request(ts12_server *s, const ts12_cert_request_opts *opts);
/* As ts_client_auth_check, for TLS 1.2 (no context; the CertificateVerify is checked
 * over the handshake messages before it). */
void ts12_client_auth_check(const ts12_server *s, const tls_certified_key *expect,
                            ts_client_auth *out);

/* As ts_pump: moves bytes until neither side moves; the first error the client's
 * read_tls/process returned (TLS_OK if none). */
tls_error ts12_pump(ts12_server *s, tls_conn *client);

#endif
