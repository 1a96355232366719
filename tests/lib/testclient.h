/*
 * testclient.h — a scripted, in-memory TLS 1.3 client for unit tests and benchmarks.
 *
 * It drives the server engine through its public pipe API and is built on the engine's
 * own internal modules (codec, crypto provider, key schedule, record protection,
 * transcript), so it re-implements no cryptography. It is test code: never linked into
 * the daemon, and written to misbehave on request.
 *
 * Model. A tc_client holds two byte queues: `out` (TLS bytes for the server) and what it
 * has parsed from the server. tc_start() queues the ClientHello; tc_receive() (or
 * tc_pump(), which moves bytes both ways) feeds it server bytes, and the client answers
 * as a correct client would: HelloRetryRequest → second ClientHello, server flight →
 * Finished (unless hold_finished), KeyUpdate(update_requested) → KeyUpdate. Everything
 * the server sent is recorded in the public fields below (alerts with the keys they
 * were protected under, CCS records, negotiated values, the end-entity certificate,
 * application data) for tests to assert on.
 *
 * Injection. tc_inject_* queue arbitrary bytes, plaintext records or records protected
 * under the client's current write keys, in order with everything else in `out`.
 * tc_cork()/tc_uncork() gather handshake messages so several share one record.
 *
 * Problems the client finds in what the server sent (bad signature, bad Finished, a
 * record it cannot decrypt, an unexpected message) latch `failed` with a sentence in
 * `error`; tests assert `!c->failed` on the happy path.
 *
 * Ownership: the option arrays and strings are borrowed and must outlive the client.
 * Every buffer the client returns a pointer to is owned by the client.
 */
#ifndef MOAT_TESTS_TESTCLIENT_H
#define MOAT_TESTS_TESTCLIENT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "tls/hs/hs.h"
#include "tls/record.h"
#include "tls/tls.h"

typedef enum {
    TC_COOKIE_ECHO,    /* second ClientHello echoes the HRR cookie */
    TC_COOKIE_OMIT,    /* ... leaves the cookie extension out */
    TC_COOKIE_CORRUPT, /* ... echoes it with one bit flipped */
} tc_cookie_mode;

/* Which keys protected a record (read side: the server's; write side: ours). */
typedef enum {
    TC_EPOCH_PLAINTEXT,
    TC_EPOCH_HANDSHAKE,
    TC_EPOCH_APPLICATION,
} tc_epoch;

typedef enum {
    TC_STATE_START,             /* nothing sent */
    TC_STATE_WAIT_SERVER_HELLO, /* ClientHello (1 or 2) sent */
    TC_STATE_WAIT_ENCRYPTED_EXTENSIONS,
    TC_STATE_WAIT_CERTIFICATE,
    TC_STATE_WAIT_CERTIFICATE_VERIFY,
    TC_STATE_WAIT_FINISHED,
    TC_STATE_FINISHED_HELD, /* server Finished verified; ours waits for tc_send_finished */
    TC_STATE_CONNECTED,     /* our Finished sent; application keys both ways */
} tc_state;

/* A NewSessionTicket the client kept (RFC 8446 §4.6.1), with the PSK it derived from
 * resumption_master_secret and the ticket's nonce. */
/* Room for a ticket that carries a client certificate chain (mTLS sessions). */
#define TC_MAX_TICKET_LEN 10240
typedef struct {
    uint16_t suite; /* of the connection that received it */
    uint8_t psk[TLS_MAX_HASH_LEN];
    size_t psk_len;
    uint32_t lifetime, age_add;
    uint8_t ticket[TC_MAX_TICKET_LEN];
    size_t ticket_len;
} tc_ticket;

typedef struct {
    /* ClientHello contents. NULL/0 lists mean the defaults given. */
    const uint16_t *suites; /* default: AES_128_GCM, AES_256_GCM, CHACHA20 */
    size_t n_suites;
    const uint16_t *groups; /* supported_groups; default: X25519, secp256r1, secp384r1 */
    size_t n_groups;
    bool omit_groups;             /* no supported_groups extension */
    const uint16_t *share_groups; /* key shares; default: the first of groups */
    size_t n_share_groups;
    bool empty_key_share;     /* key_share extension with no entries */
    bool omit_key_share;      /* no key_share extension */
    const uint16_t *sig_algs; /* default: ECDSA P-256/P-384, RSA-PSS x3, PKCS#1 x3 */
    size_t n_sig_algs;
    bool omit_sig_algs;
    const char *sni;         /* NULL: no server_name extension */
    const char *const *alpn; /* NULL/0: no ALPN extension */
    size_t n_alpn;
    size_t session_id_len;    /* 0 or 32 (32 = middlebox compatibility mode) */
    const uint16_t *versions; /* supported_versions; default: {0x0304} */
    size_t n_versions;
    bool omit_versions;         /* no supported_versions extension */
    uint16_t legacy_version;    /* 0: 0x0303 */
    const uint8_t *compression; /* default: {0} */
    size_t n_compression;
    bool early_data;           /* early_data extension in the first ClientHello */
    bool no_extensions;        /* no extensions block at all (pre-TLS 1.2 style) */
    const uint8_t *extra_exts; /* raw extensions (type, length, body)... appended last */
    size_t extra_exts_len;

    /* How our handshake messages are framed. */
    size_t record_size;          /* most handshake bytes per record; 0: 16384 */
    size_t client_hello_records; /* split each ClientHello into this many records; 0: 1 */

    /* HelloRetryRequest answers. */
    tc_cookie_mode hrr_cookie;
    const uint16_t *hrr_share_groups; /* NULL: one share, for the group the HRR names */
    size_t n_hrr_share_groups;

    /* Flow. */
    bool send_ccs;             /* one CCS before our second flight (RFC 8446 §D.4) */
    bool hold_finished;        /* stop in TC_STATE_FINISHED_HELD: call tc_send_finished */
    bool corrupt_finished;     /* flip one bit of our verify_data */
    bool no_key_update_answer; /* ignore update_requested in server KeyUpdates */

    /* Resumption. With `resume`, every ClientHello ends with psk_key_exchange_modes
     * [psk_dhe_ke] and pre_shared_key offering that ticket (after a HelloRetryRequest
     * only if the chosen suite has the ticket's hash), with a correct binder. Both come
     * after extra_exts. */
    const tc_ticket *resume;
    bool psk_dhe_ke;        /* psk_key_exchange_modes [psk_dhe_ke] even without `resume`:
                               what a client sends to be given tickets */
    uint32_t ticket_age_ms; /* the age we claim (obfuscated with age_add) */
    bool corrupt_binder;    /* flip one bit of the binder */

    /* Client authentication (RFC 8446 §4.4.2, §4.4.3). A CertificateRequest is recorded
     * (cert_requested and the fields after it) and answered when our Finished goes
     * out (tc_send_finished): Certificate with client_cert's chain (NULL: an empty
     * Certificate), then CertificateVerify signed with its key, then Finished over
     * them. */
    const tls_certified_key *client_cert;
    uint16_t client_sig_scheme;  /* 0: ECDSA by curve, rsa_pss_rsae_sha256 for RSA */
    bool corrupt_client_cv;      /* flip one bit of our CertificateVerify signature */
    bool omit_client_cv;         /* send the Certificate but no CertificateVerify */
    bool omit_client_auth;       /* ignore the CertificateRequest: Finished directly */
} tc_options;

typedef struct {
    uint8_t level, desc;
    tc_epoch epoch; /* keys the alert record was protected under */
} tc_alert;

typedef struct {
    uint8_t *p;
    size_t len, cap;
} tc_buf;

#define TC_MAX_SHARES 8
#define TC_MAX_TICKETS 4
#define TC_MAX_ALERTS 8

typedef struct {
    tc_options opts;
    tc_state state;
    bool failed;
    char error[256];

    /* ---- what the server sent (read these in tests) ---- */
    bool did_hrr;
    uint16_t hrr_group;
    bool session_id_echoed; /* ServerHello (and HRR) echoed our legacy_session_id */
    uint16_t version, suite, group;
    bool sni_acked;
    bool early_data_accepted; /* early_data in EncryptedExtensions (must stay false) */
    uint8_t alpn[256];        /* negotiated protocol, NUL-terminated; "" when none */
    size_t alpn_len;
    uint16_t ee_ext_types[32];
    size_t n_ee_exts;
    uint8_t *end_entity; /* DER of the first certificate (owned) */
    uint8_t *ee_exts;    /* the first CertificateEntry's extensions block body (owned) */
    size_t ee_exts_len;
    size_t end_entity_len;
    size_t n_certs;
    uint16_t sig_scheme;     /* from CertificateVerify, verified */
    unsigned server_ccs;     /* plaintext CCS records received */
    unsigned ccs_after_msgs; /* server handshake messages received before the first CCS */
    unsigned server_msgs;    /* handshake messages received */
    unsigned max_msgs_per_record;
    tc_alert alerts[TC_MAX_ALERTS];
    unsigned n_alerts;
    bool close_notify;           /* the server sent close_notify */
    unsigned key_updates;        /* KeyUpdates received */
    unsigned records;            /* records received */
    size_t max_record_plaintext; /* largest record content received (type byte excluded) */
    size_t app_before_finished;  /* application bytes received before we sent Finished */
    bool psk_accepted;           /* ServerHello carried pre_shared_key */
    uint16_t psk_identity;       /* ... selecting this identity */
    tc_ticket tickets[TC_MAX_TICKETS]; /* NewSessionTickets received (first ones kept) */
    unsigned n_tickets;                /* all received, even past TC_MAX_TICKETS */
    tc_buf app;                  /* application data received, not yet taken */
    bool cert_requested;         /* a CertificateRequest came (answered per opts) */
    size_t cr_context_len;       /* its certificate_request_context length */
    bool cr_sig_algs;            /* ... it had signature_algorithms */
    size_t cr_authorities;       /* ... and this many certificate_authorities names */
    bool client_auth_sent;       /* tc_send_client_auth ran */
    unsigned records_sent;       /* records we queued (handshake, CCS, alerts, data, injected) */

    /* ---- pump statistics ---- */
    unsigned server_partial_reads; /* tls_conn_read_tls took fewer bytes than offered */

    /* ---- internals ---- */
    tc_buf out, in, hs_in, cork;
    bool corked;
    uint8_t random[32], session_id[32];
    tls_kx *kx[TC_MAX_SHARES];
    uint16_t kx_group[TC_MAX_SHARES];
    size_t n_kx;
    uint8_t cookie[512];
    size_t cookie_len;
    uint8_t *ch1; /* the first ClientHello, for the transcript */
    size_t ch1_len;
    const tls_suite *cs;
    tls_transcript transcript;
    tls13_keysched ks;
    uint8_t c_hs[TLS_MAX_HASH_LEN], s_hs[TLS_MAX_HASH_LEN];
    uint8_t c_ap[TLS_MAX_HASH_LEN], s_ap[TLS_MAX_HASH_LEN];
    uint8_t finished[TLS_MAX_HASH_LEN]; /* our verify_data */
    uint8_t res_master[TLS_MAX_HASH_LEN]; /* resumption_master_secret, once connected */
    tls_record_cipher rd, wr;
    tc_epoch rd_epoch, wr_epoch;
} tc_client;

/* Makes a client (opts copied shallowly; NULL = all defaults). Aborts on OOM. */
tc_client *tc_client_new(const tc_options *opts);
void tc_client_free(tc_client *c);

/* Builds and queues the first ClientHello. */
void tc_start(tc_client *c);
/* The first ClientHello as sent (header included); NULL before tc_start. */
const uint8_t *tc_client_hello(const tc_client *c, size_t *len);
/* Feeds bytes the server wrote; the client reacts (queues answers into out). */
void tc_receive(tc_client *c, const uint8_t *buf, size_t len);

/* In TC_STATE_FINISHED_HELD: queues [CCS if send_ccs] + Finished, switches to
 * application keys. False in any other state. */
bool tc_send_finished(tc_client *c);
/* Queues our Certificate (opts.client_cert's chain, or empty) and, unless it is empty or
 * omit_client_cv, CertificateVerify, into the transcript; tc_send_finished does this by
 * itself when a CertificateRequest came, so call it only to misorder messages. */
void tc_send_client_auth(tc_client *c);

/* Queues application data under the current write keys (records of <= 16384 bytes). */
void tc_write(tc_client *c, const uint8_t *data, size_t len);
/* Moves up to cap received application bytes into buf; returns how many. */
size_t tc_read(tc_client *c, uint8_t *buf, size_t cap);
/* Queues a KeyUpdate and moves our write keys to the next generation. */
void tc_send_key_update(tc_client *c, bool update_requested);
/* Queues an alert under the current write keys (plaintext before any). */
void tc_send_alert(tc_client *c, uint8_t level, uint8_t desc);
void tc_send_close_notify(tc_client *c);

/* ---- injection ---- */
/* Raw bytes, exactly as given. */
void tc_inject_raw(tc_client *c, const void *bytes, size_t len);
/* A plaintext record with any body length (header written here, up to 0xffff). */
void tc_inject_plain_record(tc_client *c, uint8_t type, const void *body, size_t len);
/* A record under the current write keys (plaintext if none yet) with inner content type
 * `type` and `pad` zero padding bytes; len <= 16384. */
void tc_inject_record(tc_client *c, uint8_t type, const void *body, size_t len, size_t pad);
/* An application_data record of len random bytes: a record under keys nobody has
 * (what rejected 0-RTT data looks like to the server). */
void tc_inject_undecryptable(tc_client *c, size_t len);
/* Handshake bytes through the handshake path (fragmented per record_size, corked if
 * corked), not added to the transcript. */
void tc_inject_handshake(tc_client *c, const void *msg, size_t len);
/* Flips bits `mask` in the byte `back` bytes before the end of out (1 = last byte). */
void tc_flip_out_bit(tc_client *c, size_t back, uint8_t mask);
/* While corked, our handshake messages collect instead of being framed; tc_uncork frames
 * them together (several messages per record) under the write keys current at that
 * moment, so do not cork across a key change of ours (Finished, KeyUpdate): inject such
 * records by hand with tc_inject_record. tc_cork_discard drops what collected (to frame a
 * ClientHello by hand from tc_client_hello's bytes). */
void tc_cork(tc_client *c);
void tc_uncork(tc_client *c);
void tc_cork_discard(tc_client *c);

/* ---- output queue ---- */
/* Pending bytes for the server (valid until the next call on c). */
const uint8_t *tc_out(const tc_client *c, size_t *len);
void tc_out_consume(tc_client *c, size_t n);

/* ---- what the server said ---- */
/* The last alert's description, or TLS_ALERT_NONE. */
int tc_last_alert(const tc_client *c);
const tc_alert *tc_last_alert_info(const tc_client *c);

/*
 * Moves bytes until neither side makes progress: client out → tls_conn_read_tls (at most
 * `feed` bytes per call, so 1 splits every record across reads; 0 = all queued bytes at
 * once, i.e. many records per read, as many as the engine takes) with tls_conn_process
 * after every call,
 * then tls_conn_write_tls → tc_receive. Does not read the server's plaintext. Returns the
 * first error tls_conn_read_tls/tls_conn_process returned (TLS_OK if none); bytes the
 * server does not take (backpressure, an error, close_notify) stay in out.
 */
tls_error tc_pump(tc_client *c, tls_conn *server, size_t feed);

#endif
