/*
 * testserver.h — a scripted, in-memory TLS 1.3 server for the client engine's tests.
 *
 * The mirror image of testclient.h: built on the engine's internal modules (codec,
 * crypto provider, key schedule, record protection, transcript), so it re-implements no
 * cryptography, and written to misbehave on request. Test code only: never linked into
 * the daemon.
 *
 * Model. ts_receive() takes the client's bytes (plaintext records until ts_server_hello
 * installs the client's handshake keys for reading; an application_data record is
 * always decrypted, anything else taken as plaintext, as an alert after a failed
 * ServerHello is). Each step of the server's side is one call that queues records in
 * `out`: ts_server_hello (a ServerHello or HelloRetryRequest, with any field wrong),
 * ts_flight (EncryptedExtensions … Finished, each optionally wrong), ts_send_handshake /
 * ts_send_record for anything else. ts_pump() moves bytes both ways between a ts_server
 * and an engine client connection.
 *
 * What the client sent is recorded in the public fields: its ClientHellos (parsed),
 * CCS records, alerts (with whether they were protected), handshake messages after the
 * first flight, whether its Finished verified, and application data.
 *
 * Problems in what the client sent latch `failed` with a sentence in `error`.
 */
#ifndef MOAT_TESTS_TESTSERVER_H
#define MOAT_TESTS_TESTSERVER_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/hs/hs.h"
#include "tls/internal.h"
#include "tls/record.h"
#include "tls/tls.h"

typedef struct {
    uint8_t *p;
    size_t len, cap;
} ts_buf;

/* A ServerHello or HelloRetryRequest; zero fields mean "what a correct server sends". */
typedef struct {
    bool hrr;
    uint16_t legacy_version;   /* 0: 0x0303 */
    const uint8_t *random;     /* NULL: fresh random (an HRR always has its own) */
    bool wrong_session_id;     /* echo a legacy_session_id that is not the client's */
    uint16_t suite;            /* 0: the first TLS 1.3 suite the client offers */
    uint8_t compression;
    bool omit_versions;        /* no supported_versions (a TLS 1.2 ServerHello) */
    uint16_t version;          /* 0: 0x0304 */
    bool omit_key_share;
    uint16_t group;            /* 0: SH: the client's share's group; HRR: no key_share */
    const uint8_t *cookie;     /* HRR only; NULL: no cookie */
    size_t cookie_len;
    const uint8_t *extra_exts; /* raw extensions appended */
    size_t extra_exts_len;
} ts_hello_opts;

/* A CertificateRequest (§4.3.2) for client authentication tests; zero fields mean what
 * ts_flight's cert_request sends: an empty context and signature_algorithms
 * ecdsa_secp256r1_sha256, rsa_pss_rsae_sha256. */
typedef struct {
    const uint8_t *context; /* certificate_request_context (len 0: empty) */
    size_t context_len;
    const uint16_t *sig_algs; /* signature_algorithms; NULL: the default pair */
    size_t n_sig_algs;
    bool omit_sig_algs; /* no signature_algorithms at all */
    bool authorities;   /* a certificate_authorities extension naming one DN */
} ts_cert_request_opts;

/* The encrypted flight; zero fields mean a correct one. */
typedef struct {
    const tls_certified_key *ck; /* chain sent and key signing CertificateVerify */
    const uint8_t *ee_exts;      /* raw extensions in EncryptedExtensions */
    size_t ee_exts_len;
    bool ack_sni;              /* an empty server_name in EncryptedExtensions */
    const char *alpn;          /* select this protocol in EncryptedExtensions */
    bool cert_request;         /* a CertificateRequest before the Certificate */
    /* When set: this CertificateRequest instead of cert_request's. */
    const ts_cert_request_opts *cert_request_with;
    bool empty_certificate;    /* a Certificate with no entries */
    uint16_t scheme;           /* 0: by the key type (RSA: PSS-SHA256) */
    bool corrupt_cv;           /* flip a bit of the signature */
    bool corrupt_finished;     /* flip a bit of verify_data */
    bool stop_after_cv;        /* no Finished */
} ts_flight_opts;

typedef struct {
    uint8_t level, desc;
    bool protected_; /* arrived in a protected record */
} ts_alert;

#define TS_MAX_ALERTS 8
#define TS_MAX_MSGS 32

typedef struct {
    bool failed;
    char error[256];

    /* ---- what the client sent ---- */
    uint8_t *hello[2]; /* ClientHello 1 and 2 as sent (owned) */
    size_t hello_len[2];
    unsigned n_hellos;
    tls_client_hello ch; /* the last one, parsed (borrows from hello[n_hellos - 1]) */
    unsigned ccs;        /* plaintext CCS records */
    unsigned ccs_before_hello2; /* CCS records before the second ClientHello */
    ts_alert alerts[TS_MAX_ALERTS];
    unsigned n_alerts;
    uint8_t msgs[TS_MAX_MSGS]; /* handshake message types after the ClientHellos */
    unsigned n_msgs;
    bool finished_ok;    /* the client's Finished verified */
    unsigned key_updates;
    ts_buf app;          /* application data received */
    /* The client's last Certificate and CertificateVerify before its Finished (whole
     * messages), and the transcript hash the CertificateVerify signs: see
     * ts_client_auth_check. */
    ts_buf client_cert, client_cv;
    uint8_t client_cv_thash[TLS_MAX_HASH_LEN];

    /* ---- internals ---- */
    ts_buf out, in, hs_in;
    const tls_suite *suite;
    tls_transcript transcript;
    tls13_keysched ks;
    uint8_t c_hs[TLS_MAX_HASH_LEN], s_hs[TLS_MAX_HASH_LEN];
    uint8_t c_ap[TLS_MAX_HASH_LEN], s_ap[TLS_MAX_HASH_LEN];
    uint8_t expected_finished[TLS_MAX_HASH_LEN];
    bool sent_finished;
    tls_record_cipher rd, wr;
} ts_server;

ts_server *ts_new(void);
void ts_free(ts_server *s);

/* Feeds bytes the client wrote. */
void ts_receive(ts_server *s, const uint8_t *buf, size_t len);
/* Queues a ServerHello / HelloRetryRequest answering the last ClientHello; a correct
 * ServerHello also installs handshake keys both ways. */
void ts_server_hello(ts_server *s, const ts_hello_opts *opts);
/* Queues the encrypted flight (needs a correct ServerHello first); then the server's
 * application keys are in place for writing. */
void ts_flight(ts_server *s, const ts_flight_opts *opts);
/* A whole handshake message under the current write keys (not in the transcript). */
void ts_send_handshake(ts_server *s, const uint8_t *msg, size_t len);
/* A record of inner type `type` under the current write keys (plaintext if none). */
void ts_send_record(ts_server *s, uint8_t type, const void *body, size_t len);
/* A plaintext record whatever keys are current (a CCS, or a forgery). */
void ts_send_plain_record(ts_server *s, uint8_t type, const void *body, size_t len);
/* Queues a KeyUpdate and moves our write keys on. */
void ts_send_key_update(ts_server *s, bool update_requested);
/* Queues application data. */
void ts_write(ts_server *s, const void *data, size_t len);

/* The last alert the client sent (TLS_ALERT_NONE: none). */
int ts_last_alert(const ts_server *s);

/* Queues a CertificateRequest under the current write keys, into the transcript (NULL:
 * the default one). Any time: in the flight (ts_flight's cert_request_with), or where no
 * correct server sends one. */
void ts_send_cert_request(ts_server *s, const ts_cert_request_opts *opts);

/* What the client answered a CertificateRequest with (TLS 1.3 here; TLS 1.2 through
 * ts12_client_auth_check). */
typedef struct {
    bool certificate;     /* a Certificate message came */
    tls_error decode;     /* tls__certificate_parse's verdict on it */
    uint8_t context[255]; /* its certificate_request_context (TLS 1.3) */
    size_t context_len;
    size_t n_certs;
    bool chain_matches;      /* the certificates are exactly `expect`'s chain */
    bool certificate_verify; /* a CertificateVerify came */
    uint16_t scheme;
    /* tls__verify of its signature with the client's end-entity certificate over what
     * the RFC says it signs (TLS 1.3 §4.4.3: the "client CertificateVerify" content;
     * TLS 1.2 §7.4.8: the handshake messages before it); TLS_ERR_INTERNAL when there
     * is nothing to verify. */
    tls_error verify;
} ts_client_auth;

/* Fills *out from what the client sent; expect (may be NULL) is the certified key the
 * client was configured with. */
void ts_client_auth_check(const ts_server *s, const tls_certified_key *expect, ts_client_auth *out);
/* Internal, shared with testserver12.c: the TLS 1.2 Certificate message's part of *out
 * (cert: the parsed message, borrowing from cert_msg). */
void ts__check_client_certificate(const ts_buf *cert_msg, const tls_certified_key *expect,
                                  tls_certificate_msg *cert, ts_client_auth *out);

/*
 * Moves bytes until neither side moves: the client's tls_conn_write_tls → ts_receive,
 * then `out` → tls_conn_read_tls + tls_conn_process. Returns the first error the
 * client's read_tls/process returned (TLS_OK if none).
 */
tls_error ts_pump(ts_server *s, tls_conn *client);

#endif
