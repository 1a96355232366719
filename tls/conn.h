/*
 * conn.h — the connection object behind the public pipe API, and the services the
 * handshake state machines use to send messages and change keys.
 *
 * Buffers grow on demand up to fixed caps and are freed when they drain, so an idle
 * connection holds little memory. A tls_conn belongs to one thread at a time.
 */
#ifndef MOAT_TLS_CONN_H
#define MOAT_TLS_CONN_H

#include "hs/hs.h"
#include "record.h"

/* Rejected 0-RTT data we are willing to skip (RFC 8446 §4.2.10). */
#define TLS_EARLY_DATA_SKIP_BUDGET (64 * 1024)

typedef struct {
    uint8_t *p;
    size_t off, len, cap; /* live bytes are p[off .. off+len) */
    size_t dirty;         /* p[0 .. dirty) may hold bytes written since allocation */
    /* Holds only bytes that cross the wire as they are (ciphertext, or handshake
     * records before keys exist): nothing to wipe when its memory is released. */
    bool public_bytes;
} tls_buf;

/* A client's verified identity on a server (mTLS): its chain as presented (or as a
 * resumed session kept it) and the end entity's subject CN. */
typedef struct {
    uint8_t *der; /* the certificates back to back (tls__alloc, der_len bytes) */
    size_t der_len;
    size_t offs[TLS_MAX_PEER_CHAIN + 1]; /* certificate i is der[offs[i] .. offs[i + 1]) */
    size_t n_certs;
    bool sent;   /* sent on this connection's (full) handshake */
    bool has_cn; /* cn holds the subject's commonName */
    char cn[65]; /* X.520 ub-common-name is 64 */
} tls_peer_identity;

struct tls_conn {
    bool is_client;
    tls_server_config *cfg;        /* the server's; NULL for a client */
    tls_client_config *client_cfg; /* the client's; NULL for a server */
    size_t max_fragment_size;      /* from whichever config */
    const tls_limits *limits;      /* from whichever config (which outlives us) */
    tls_error err;                 /* first fatal error; never overwritten */
    int peer_alert;
    bool peer_closed, close_sent, handshake_done;
    bool close_after_handshake; /* close_notify asked for while plaintext waits */

    tls_buf in;       /* TLS bytes not yet deframed */
    tls_buf hs_in;    /* the start of one handshake message split across records */
    size_t hs_unread; /* while a message is handled: bytes of its record after it */
    tls_buf app_in;   /* decrypted application data for tls_conn_read */
    tls_buf out;      /* TLS bytes for tls_conn_write_tls */
    tls_buf pending;  /* plaintext written before the handshake completed */

    tls_record_cipher rd, wr;
    unsigned idle_records; /* consecutive records that carried nothing */
    bool ccs_seen;
    bool decrypted_any; /* a protected record from the client has opened */
    /* Rejected 0-RTT: records we cannot decrypt are skipped, up to a budget. */
    bool skip_undecryptable;
    bool skip_app_records;
    size_t skip_budget;

    uint16_t version, group, sig_scheme; /* version 0 until it is chosen */
    const tls_suite *suite;
    bool ems;              /* TLS 1.2 extended master secret in use */
    char server_name[256]; /* server: the client's SNI; client: the name we asked for */
    uint8_t alpn[256];     /* length-prefixed; alpn[0] == 0: none */
    bool did_hrr;
    bool resumed; /* a session was resumed (either version, either side) */
    /* 0-RTT (RFC 8446 §4.2.10). Server: accepted early data waiting for
     * tls_conn_read_early_data, and how many more bytes the client may send. Client:
     * how many bytes the ticket still allows us to send. */
    tls_buf early_in;
    uint32_t early_data_left;
    bool early_data_offered;  /* the ClientHello carried early_data */
    bool early_data_accepted; /* the server took it (EncryptedExtensions said so) */
    /* Keying-material exporters, ready once the handshake completes: TLS 1.3's
     * exporter_master_secret, or TLS 1.2's master secret and both randoms (RFC 5705). */
    uint8_t exporter_secret[TLS_MAX_HASH_LEN];
    uint8_t exporter_randoms[64];
    bool exporter_ready;
    unsigned key_updates_in_row;
    unsigned renegotiations_refused;
    tls_peer_identity *peer; /* server, client auth: the verified client (tls__alloc) */
    uint8_t *peer_scts;      /* client: the server's SCT list (tls__alloc), or NULL */
    size_t peer_scts_len;

    /* Server: the handshake of the version chosen (v13 until then: its state 0 expects
     * the first ClientHello). Client: `client`. */
    union {
        tls13_server_hs v13;
        tls12_server_hs v12;
        tls_client_hs client;
    } hs;
};

/* Frames a handshake flight (whole messages, back to back) into records under the
 * current write keys. */
TLS_MUST_CHECK tls_error tls__conn_send_handshake(struct tls_conn *conn, const uint8_t *msgs,
                                                  size_t len);
/* Client 0-RTT: application data records under the early write keys (§4.2.10),
 * framed like everything else, before the handshake completes. */
TLS_MUST_CHECK tls_error tls__conn_send_early_data(struct tls_conn *conn, const uint8_t *data,
                                                   size_t len);
/* Back to plaintext writing: 0-RTT was refused by an HRR or a TLS 1.2 ServerHello. */
void tls__conn_clear_write_secret(struct tls_conn *conn);
/* The middlebox-compatibility ChangeCipherSpec record (RFC 8446 §D.4). */
TLS_MUST_CHECK tls_error tls__conn_send_ccs(struct tls_conn *conn);
/* Installs new keys for receiving. Fails with TLS_ERR_KEY_EPOCH_WITH_PENDING_FRAGMENT
 * when handshake bytes under the old keys are still waiting (§5.1). */
TLS_MUST_CHECK tls_error tls__conn_set_read_secret(struct tls_conn *conn, const tls_suite *suite,
                                                   const uint8_t *secret);
TLS_MUST_CHECK tls_error tls__conn_set_write_secret(struct tls_conn *conn, const tls_suite *suite,
                                                    const uint8_t *secret);
/* Keeps what the exporters need: TLS 1.3 derives exporter_master_secret from the
 * master secret and the transcript hash through the server Finished (§7.1); TLS 1.2
 * keeps the master secret and client_random || server_random. */
TLS_MUST_CHECK tls_error tls__conn_set_exporter13(struct tls_conn *conn, const tls13_keysched *ks,
                                                  const uint8_t *transcript_hash);
void tls__conn_set_exporter12(struct tls_conn *conn, const uint8_t *master,
                              const uint8_t client_random[32], const uint8_t server_random[32]);
/* A warning-level alert that does not end the connection (TLS 1.2's no_renegotiation). */
TLS_MUST_CHECK tls_error tls__conn_send_warning(struct tls_conn *conn, int alert);
/* Records the client's verified chain (copied; n >= 1, at most TLS_MAX_PEER_CHAIN),
 * replacing any earlier one. sent: it came in this handshake's Certificate. */
TLS_MUST_CHECK tls_error tls__conn_set_peer(struct tls_conn *conn, const uint8_t *const *chain,
                                            const size_t *lens, size_t n, bool sent);
/* Client: keeps a copy of the server's SignedCertificateTimestampList (len 0: none). */
TLS_MUST_CHECK tls_error tls__conn_set_peer_scts(struct tls_conn *conn, tls_slice scts);
/* Called by the handshake when it completes: flushes plaintext written early. */
TLS_MUST_CHECK tls_error tls__conn_handshake_complete(struct tls_conn *conn);

#endif
