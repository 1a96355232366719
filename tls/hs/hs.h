/*
 * hs.h — what the handshake state machines share: the transcript hash and the
 * entry points tls/conn.c calls.
 */
#ifndef MOAT_TLS_HS_H
#define MOAT_TLS_HS_H

#include "../client_sessions.h"
#include "../keysched.h"
#include "../msgs/msgs.h"

/* Running hash of the handshake messages (RFC 8446 §4.4.1). Before the suite (and so
 * the hash) is known nothing is hashed: the server learns the hash from the very
 * ClientHello it then adds. */
typedef struct {
    tls_hash_ctx ctx;
    bool started;
} tls_transcript;

void tls__transcript_start(tls_transcript *t, tls_hash_id hash);
void tls__transcript_add(tls_transcript *t, const uint8_t *msg, size_t len);
/* Hash of everything added so far; the transcript goes on. */
void tls__transcript_current(const tls_transcript *t, uint8_t *out);
/* Replaces the transcript with message_hash(Hash(ClientHello1)) (§4.4.1, after HRR). */
void tls__transcript_to_message_hash(tls_transcript *t);
void tls__transcript_clear(tls_transcript *t);

/* TLS 1.2 client authentication: the handshake messages themselves, which
 * CertificateVerify signs (RFC 5246 §7.4.8) with a hash the signer picks (Ed25519 hashes
 * nothing first), so the running transcript hash will not do. Memory from tls__alloc;
 * p is NULL until the log starts. Handshake messages are not secret: freed unwiped. */
typedef struct {
    uint8_t *p;
    size_t len, cap;
} tls_msg_log;
/* Allocates the log's first block, so that p says it is being kept. */
TLS_MUST_CHECK tls_error tls__msg_log_start(tls_msg_log *log);
/* Appends one message (starting the log if needed), growing it by doubling. */
TLS_MUST_CHECK tls_error tls__msg_log_add(tls_msg_log *log, const uint8_t *msg, size_t len);
void tls__msg_log_free(tls_msg_log *log);

/* TLS 1.3 server handshake state (tls13_server.c). */
typedef enum {
    HS13_EXPECT_CLIENT_HELLO,
    HS13_EXPECT_CLIENT_HELLO_AFTER_HRR,
    HS13_EXPECT_END_OF_EARLY_DATA,  /* 0-RTT accepted: early data, then EndOfEarlyData */
    HS13_EXPECT_CERTIFICATE,        /* we sent a CertificateRequest (§4.3.2, §4.4.2) */
    HS13_EXPECT_CERTIFICATE_VERIFY, /* the client's Certificate was not empty (§4.4.3) */
    HS13_EXPECT_FINISHED,
    HS13_CONNECTED,
} tls13_server_state;

typedef struct {
    tls13_server_state state;
    const tls_suite *suite;
    tls_transcript transcript;
    tls13_keysched ks;
    uint8_t client_hs_secret[TLS_MAX_HASH_LEN];
    uint8_t server_hs_secret[TLS_MAX_HASH_LEN];
    uint8_t client_app_secret[TLS_MAX_HASH_LEN];
    uint8_t server_app_secret[TLS_MAX_HASH_LEN];
    uint8_t expected_finished[TLS_MAX_HASH_LEN];
    uint8_t session_id[32]; /* legacy_session_id of ClientHello1, echoed and compared */
    size_t session_id_len;
    uint16_t hrr_group;
    uint8_t cookie[32];
    bool sent_ccs;
    /* Resumption (RFC 8446 §4.2.11): the accepted ticket's PSK, wiped once the early
     * secret is made; and whether to issue tickets after the client's Finished. */
    uint8_t psk[TLS_MAX_HASH_LEN];
    size_t psk_len; /* 0: full handshake */
    uint16_t psk_identity;
    int64_t psk_origin; /* the resumed session's full-handshake time; 0: full handshake */
    bool send_tickets;
    /* 0-RTT (§4.2.10): the first identity's ticket allowed it; accepted once the ALPN
     * matches what the ticket was issued with and the ticket's one 0-RTT use is
     * claimed (fingerprint: SHA-256 of the ticket; until: its expiry). */
    bool early_candidate;
    uint32_t early_max;
    uint8_t early_alpn[256];
    uint8_t early_fingerprint[32];
    int64_t early_until;
    bool early_single_use; /* a stateful ticket: taking it was the claim */
} tls13_server_hs;

/* TLS 1.2 server handshake state (tls12_server.c). */
typedef enum {
    HS12_EXPECT_CERTIFICATE, /* we sent a CertificateRequest (RFC 5246 §7.4.4, §7.4.6) */
    HS12_EXPECT_CLIENT_KEY_EXCHANGE,
    HS12_EXPECT_CERTIFICATE_VERIFY, /* the client's Certificate was not empty (§7.4.8) */
    HS12_EXPECT_CHANGE_CIPHER_SPEC,
    HS12_EXPECT_FINISHED,
    /* Abbreviated handshake (RFC 5246 §7.3): our CCS and Finished went first. */
    HS12_EXPECT_RESUMED_CHANGE_CIPHER_SPEC,
    HS12_EXPECT_RESUMED_FINISHED,
    HS12_CONNECTED,
} tls12_server_state;

typedef struct {
    tls12_server_state state;
    tls_transcript transcript;
    tls_kx *kx; /* our ephemeral key, until the ClientKeyExchange */
    uint8_t client_random[32], server_random[32];
    uint8_t master[48];
    uint8_t key_block[2 * TLS_MAX_AEAD_KEY_LEN + 2 * TLS_AEAD_NONCE_LEN];
    uint8_t expected_finished[12];
    /* Resumption: the ServerHello's session id (ours on a full handshake when the
     * session goes into the cache; the client's echoed when resuming), and what the
     * full handshake leaves behind: a cache entry and/or an RFC 5077 ticket. */
    uint8_t session_id[32];
    size_t session_id_len;
    bool cache_session;
    bool send_ticket;
    int64_t origin; /* a resumed session's full-handshake time (reissued tickets keep it) */
    /* Client authentication: the handshake messages so far (tls__alloc), kept from the
     * ClientHello until the client's CertificateVerify, which signs them all (RFC 5246
     * §7.4.8) with a hash the client picks, so the running transcript will not do. */
    tls_msg_log msgs;
} tls12_server_hs;

/* ---- the client --------------------------------------------------------------------- */

/* TLS 1.3 client handshake state (tls13_client.c). */
typedef enum {
    HS13C_EXPECT_SERVER_HELLO, /* a ServerHello, or (once) a HelloRetryRequest */
    HS13C_EXPECT_ENCRYPTED_EXTENSIONS,
    HS13C_EXPECT_CERTIFICATE_OR_REQUEST, /* a CertificateRequest may come first (§4.3.2) */
    /* (resumed: EncryptedExtensions is followed by the Finished directly, §2.2) */
    HS13C_EXPECT_CERTIFICATE,
    HS13C_EXPECT_CERTIFICATE_VERIFY,
    HS13C_EXPECT_FINISHED,
    HS13C_CONNECTED, /* NewSessionTicket and KeyUpdate only */
} tls13_client_state;

typedef struct {
    tls13_client_state state;
    const tls_suite *suite; /* set by the first ServerHello or HelloRetryRequest */
    tls_transcript transcript;
    tls13_keysched ks;
    uint8_t client_hs_secret[TLS_MAX_HASH_LEN];
    uint8_t server_hs_secret[TLS_MAX_HASH_LEN];
    uint8_t client_app_secret[TLS_MAX_HASH_LEN];
    uint8_t server_app_secret[TLS_MAX_HASH_LEN];
    /* A CertificateRequest came (its context is empty during the handshake, §4.3.2).
     * client_auth_scheme: the scheme our CertificateVerify signs with (the config's
     * client certificate fits the request), or 0: the Certificate we answer with is
     * empty and no CertificateVerify follows (§4.4.2). */
    bool cert_requested;
    uint16_t client_auth_scheme;
    /* resumption_master_secret (§7.1), kept while connected when a session store is
     * configured: each NewSessionTicket's PSK derives from it (§4.6.1). */
    uint8_t res_master[TLS_MAX_HASH_LEN];
    bool have_res_master;
} tls13_client_hs;

/* TLS 1.2 client handshake state (tls12_client.c). The 1.3 client hands over before
 * writing anything here; the ServerHello leaves us expecting the Certificate. */
typedef enum {
    HS12C_EXPECT_CERTIFICATE,
    HS12C_EXPECT_SERVER_KEY_EXCHANGE,
    HS12C_EXPECT_SERVER_HELLO_DONE, /* CertificateRequest may come first: 5246 §7.4.4 */
    /* The server acknowledged session_ticket: its NewSessionTicket comes before its CCS
     * (RFC 5077 §3.3), after our flight or, resuming, right after the ServerHello. */
    HS12C_EXPECT_NEW_SESSION_TICKET,
    HS12C_EXPECT_CHANGE_CIPHER_SPEC, /* our flight is out (or resuming); the server's CCS */
    HS12C_EXPECT_FINISHED,
    HS12C_CONNECTED, /* HelloRequest only, and it is refused (RFC 5746 §4.2) */
} tls12_client_state;

typedef struct {
    tls12_client_state state;
    tls_transcript transcript;
    uint8_t server_random[32]; /* ours is offer.random */
    /* The server's ECDHE share (RFC 8422 §5.4), signed and kept until ServerHelloDone. */
    uint8_t server_point[TLS_MAX_KX_PUBLIC_LEN];
    size_t server_point_len;
    /* A CertificateRequest came; client_auth_scheme: the scheme our CertificateVerify
     * signs with, or 0: an empty Certificate answers it (RFC 5246 §7.4.6). */
    bool cert_requested;
    uint16_t client_auth_scheme;
    /* RFC 5246 §7.4.8: CertificateVerify signs the handshake messages themselves, and the
     * signer hashes what it signs (Ed25519 hashes nothing first): with a client
     * certificate configured, a full handshake keeps a copy of every message from
     * ClientHello on (tls__alloc'd) until our CertificateVerify is made, or until the
     * ServerHelloDone shows it will not be. NULL: not kept. */
    tls_msg_log auth_log;
    /* Abbreviated handshake (RFC 5246 §7.3): the server echoed the session id we offered
     * with offer.session12, whose master secret is used. */
    bool resuming;
    bool ticket_expected; /* the ServerHello acknowledged session_ticket (RFC 5077) */
    /* What to store once the handshake completes: the server's session id and the
     * ticket of its NewSessionTicket (tls__alloc'd; NULL: none, or an empty one). */
    uint8_t session_id[32];
    size_t session_id_len;
    uint8_t *new_ticket;
    size_t new_ticket_len;
    uint32_t new_ticket_lifetime;
    /* Secrets from ServerHelloDone (or the resuming ServerHello) until the handshake
     * completes; then wiped. */
    uint8_t master[TLS12_MASTER_SECRET_LEN];
    uint8_t key_block[2 * TLS_MAX_AEAD_KEY_LEN + 2 * TLS_AEAD_NONCE_LEN];
} tls12_client_hs;

/* What the client offered in its first ClientHello (client_common.c). The ServerHello
 * is checked against it, and whichever version the server picks starts its transcript
 * with `hello`. */
typedef struct {
    uint8_t random[32];
    uint8_t session_id[32]; /* RFC 8446 §D.4: 32 random bytes whenever TLS 1.3 is offered */
    size_t session_id_len;
    uint8_t *hello; /* ClientHello1, header included (tls__alloc); NULL once taken */
    size_t hello_len;
    tls_kx *kx; /* our one key share (TLS 1.3 offered), until the ServerHello uses it */
    uint16_t kx_group;
    bool tls13, tls12; /* the versions offered */
    bool sent_ccs;     /* the §D.4 dummy ChangeCipherSpec went out */
    /* Resumption (client_sessions.h); entries owned here until the handshake is freed.
     * ticket13: the TLS 1.3 ticket offered (taken out of the store: used once), psk_suite
     * its suite; psk_in_hello: the latest ClientHello carries it (an HRR whose suite has
     * another hash drops it, §4.1.4). early_open: 0-RTT was offered and our early
     * traffic keys are still the write keys (until EndOfEarlyData or a refusal). */
    tls_client_ticket13 *ticket13;
    const tls_suite *psk_suite;
    bool psk_in_hello;
    bool early_open;
    /* The TLS 1.2 session offered (a copy; its session id is session_id above), and
     * whether the ClientHello carries the session_ticket extension. */
    tls_client_session12 *session12;
    bool ticket12_ext;
} tls_client_offer;

/* A client's handshake: what both versions share, then the chosen version's state
 * (v13 until a TLS 1.2 ServerHello hands over to v12). */
typedef struct {
    tls_client_offer offer;
    /* The server's end-entity certificate (DER, tls__alloc), kept from the Certificate
     * message until the signature that proves its key (CertificateVerify in TLS 1.3,
     * ServerKeyExchange in TLS 1.2). */
    uint8_t *end_entity;
    size_t end_entity_len;
    union {
        tls13_client_hs v13;
        tls12_client_hs v12;
    };
} tls_client_hs;

struct tls_conn;

/* Shared client machinery (client_common.c). */

/* Validates server_name (a DNS name or an IP literal; TLS_ERR_INVALID_ARGUMENT) into
 * conn->server_name, makes the offer and queues ClientHello1. */
TLS_MUST_CHECK tls_error tls__client_start(struct tls_conn *conn, const char *server_name);
/* Builds a ClientHello from the config and the offer (its key share: offer.kx) with
 * `cookie` (len 0: none) and queues it. *msg (tls__alloc, *len bytes) is the caller's. */
TLS_MUST_CHECK tls_error tls__client_send_hello(struct tls_conn *conn, tls_slice cookie,
                                                uint8_t **msg, size_t *len);
/* Queues the §D.4 dummy ChangeCipherSpec once, when TLS 1.3 was offered. */
TLS_MUST_CHECK tls_error tls__client_send_compat_ccs(struct tls_conn *conn);
/* What the ClientHello offered. */
bool tls__client_sends_sni(const struct tls_conn *conn);
bool tls__client_offered_suite(const struct tls_conn *conn, uint16_t suite, uint16_t version);
bool tls__client_offered_group(const struct tls_conn *conn, uint16_t group);
bool tls__client_offered_sig_scheme(uint16_t scheme);
/* The server's ALPN answer (a ProtocolNameList body) into conn->alpn. Errors:
 * TLS_ERR_UNSOLICITED_EXTENSION (we offered none), TLS_ERR_ILLEGAL_PARAMETER (not
 * exactly one name), TLS_ERR_SELECTED_UNOFFERED (a name we did not offer). */
TLS_MUST_CHECK tls_error tls__client_accept_alpn(struct tls_conn *conn, tls_slice list);
/* Verifies the server's chain as the config says (roots, callback, or not at all when
 * dangerous) for conn->server_name, and keeps the end entity. Errors:
 * TLS_ERR_NO_CERTIFICATES_PRESENTED, the verifier's TLS_ERR_CERT_*, TLS_ERR_NO_MEMORY. */
TLS_MUST_CHECK tls_error tls__client_verify_chain(struct tls_conn *conn,
                                                  const tls_certificate_msg *cert);
/* Checks sig over msg with the kept end entity's key. Errors:
 * TLS_ERR_BAD_CERTIFICATE_VERIFY, TLS_ERR_CERT_BAD_ENCODING (a certificate no verifier
 * looked at, under the dangerous config, that does not parse). */
TLS_MUST_CHECK tls_error tls__client_verify_signature(struct tls_conn *conn, uint16_t scheme,
                                                      const uint8_t *msg, size_t msg_len,
                                                      tls_slice sig);
/* Client authentication (client_common.c). The scheme our CertificateVerify signs with
 * for a request listing `schemes` (a u16 list), given our key's type and the version
 * (TLS 1.3: RSA-PSS only, ECDSA bound to its curve; TLS 1.2: PSS, then PKCS#1), in our
 * order of preference; 0 when none fits. */
/* Appends a Certificate message (header included) carrying ck's chain, or an empty list
 * when ck is NULL: TLS 1.3 form (with `context` and empty per-entry extensions) or
 * TLS 1.2 form. Overflow latches in w. */
void tls__client_write_certificate(tls_writer *w, const tls_certified_key *ck, tls_slice context,
                                   bool tls13);
/* Bytes tls__client_write_certificate needs at most for ck (NULL: an empty one). */
size_t tls__client_certificate_size(const tls_certified_key *ck, size_t context_len);
/* Signs content with ck's key under scheme (chosen for that key) and appends the
 * CertificateVerify message, the same shape in TLS 1.2 and 1.3. */
TLS_MUST_CHECK tls_error tls__client_write_certificate_verify(tls_writer *w,
                                                              const tls_certified_key *ck,
                                                              uint16_t scheme,
                                                              const uint8_t *content,
                                                              size_t content_len);
/* 0-RTT on the client (tls13_client.c). Right after ClientHello1 went out with
 * early_data: the §D.4 ChangeCipherSpec, then client_early_traffic_secret (§7.1) as the
 * write keys. Then: bytes the offered ticket still lets us send (0 when early data was
 * not offered or is over), and queueing them under the early traffic keys.
 * TLS_ERR_INVALID_ARGUMENT when no early data can be sent now. */
TLS_MUST_CHECK tls_error tls__hs13_client_start_early_data(struct tls_conn *conn);
size_t tls__client_early_data_capacity(const struct tls_conn *conn);
TLS_MUST_CHECK tls_error tls__client_write_early_data(struct tls_conn *conn, const uint8_t *buf,
                                                      size_t len, size_t *n);
/* Wipes and frees a client handshake of either version. */
void tls__client_hs_clear(tls_client_hs *hs, uint16_t version);

/* The client's handshake entry point (conn.c): the version chosen by the ServerHello
 * routes each message. */
TLS_MUST_CHECK tls_error tls__hs_client_handle(struct tls_conn *conn, const uint8_t *msg,
                                               size_t len);
TLS_MUST_CHECK tls_error tls__hs13_client_handle(struct tls_conn *conn, const uint8_t *msg,
                                                 size_t len);
/* Sends a KeyUpdate and moves the client's sending keys on (§4.6.3). */
TLS_MUST_CHECK tls_error tls__hs13_client_send_key_update(struct tls_conn *conn,
                                                          bool update_requested);
void tls__hs13_client_clear(tls13_client_hs *hs);

/*
 * The TLS 1.2 client (tls12_client.c). tls13_client.c calls tls__hs12_client_server_hello
 * with the whole ServerHello message (header included) when it has no supported_versions
 * extension, after checking legacy_version is 0x0303, that TLS 1.2 was offered and (if
 * TLS 1.3 was offered too) the RFC 8446 §4.1.3 downgrade sentinel, and put the write
 * keys back to plaintext if 0-RTT had been offered. At that point:
 * conn->version is 0; conn->hs.client.offer holds our random, session id and ClientHello1
 * bytes (`hello`: take it for the transcript and set it NULL, or leave it for
 * tls__client_hs_clear), a 1.3 key share (`kx`, useless to 1.2: free it) and the 1.2
 * session offered, if any (`session12`, freed by tls__client_hs_clear);
 * conn->hs.client.v12 is zeroed; nothing else of the ServerHello has been judged.
 * From then on conn->version == TLS_VERSION_1_2 routes handshake messages to
 * tls__hs12_client_handle and the server's ChangeCipherSpec to tls__hs12_client_ccs.
 */
TLS_MUST_CHECK tls_error tls__hs12_client_server_hello(struct tls_conn *conn, const uint8_t *msg,
                                                       size_t len);
TLS_MUST_CHECK tls_error tls__hs12_client_handle(struct tls_conn *conn, const uint8_t *msg,
                                                 size_t len);
TLS_MUST_CHECK tls_error tls__hs12_client_ccs(struct tls_conn *conn);
void tls__hs12_client_clear(tls12_client_hs *hs);

/* ---- the server -------------------------------------------------------------------- */

/* Handles one complete handshake message (header included): the first ClientHello
 * (which picks the version), then whatever the chosen version's state expects. */
TLS_MUST_CHECK tls_error tls__hs_server_handle(struct tls_conn *conn, const uint8_t *msg,
                                               size_t len);
TLS_MUST_CHECK tls_error tls__hs13_server_handle(struct tls_conn *conn, const uint8_t *msg,
                                                 size_t len);
TLS_MUST_CHECK tls_error tls__hs12_server_handle(struct tls_conn *conn, const uint8_t *msg,
                                                 size_t len);
/* Takes over after tls13_server.c chose TLS 1.2 for this ClientHello. */
TLS_MUST_CHECK tls_error tls__hs12_server_start(struct tls_conn *conn, const tls_client_hello *ch,
                                                const uint8_t *msg, size_t len);
/* The client's ChangeCipherSpec (a record, not a handshake message). */
TLS_MUST_CHECK tls_error tls__hs12_server_ccs(struct tls_conn *conn);
void tls__hs12_server_clear(tls12_server_hs *hs);

/* Shared server choices (server_common.c). */
/* Whether this client can be served with ck (a signature scheme, and in TLS 1.2 a
 * suite, in common). */
typedef bool (*tls_server_cert_usable_fn)(const struct tls_conn *conn, const tls_client_hello *ch,
                                          const tls_certified_key *ck);
/* The certificate for the client's name; where several serve it, one the client can
 * use, ECDSA or Ed25519 before RSA (smaller, cheaper handshakes). */
TLS_MUST_CHECK tls_error tls__server_resolve_cert(struct tls_conn *conn, const tls_client_hello *ch,
                                                  tls_server_cert_usable_fn usable,
                                                  const tls_certified_key **out);
TLS_MUST_CHECK tls_error tls__server_choose_alpn(struct tls_conn *conn, const tls_client_hello *ch);

/* Client authentication (server_common.c). */
/* The signature schemes a CertificateRequest lists (tls13: for TLS 1.3), into out
 * (room for TLS_SERVER_MAX_CLIENT_SCHEMES); returns how many. */
#define TLS_SERVER_MAX_CLIENT_SCHEMES 12
size_t tls__server_client_schemes(bool tls13, uint16_t *out);
/* The certificate_authorities body for the config's client roots (tls__alloc, *len bytes;
 * NULL with *len 0 when the names would not fit in one extension). */
TLS_MUST_CHECK tls_error tls__server_ca_names(const struct tls_conn *conn, uint8_t **out,
                                              size_t *len);
/* Verifies the client's non-empty chain against the config's roots and CRLs and keeps it
 * as the connection's peer identity. The verifier's TLS_ERR_CERT_* errors. */
TLS_MUST_CHECK tls_error tls__server_verify_client_chain(struct tls_conn *conn,
                                                         const tls_certificate_msg *cert);
/* Checks the client's CertificateVerify signature over msg with the kept end entity's
 * key: TLS_ERR_ILLEGAL_PARAMETER (a scheme we did not list, or RSA PKCS#1 v1.5 in
 * TLS 1.3: §4.4.3), TLS_ERR_BAD_CERTIFICATE_VERIFY. */
TLS_MUST_CHECK tls_error tls__server_verify_client_signature(struct tls_conn *conn, bool tls13,
                                                             uint16_t scheme, const uint8_t *msg,
                                                             size_t msg_len, tls_slice sig);
/* Resumption (ticket.h's state). Whether a stored session may resume under the config's
 * client authentication now: without client auth, yes (anonymously); a session without
 * a client certificate only when it is optional; a session with one only when its
 * stored chain verifies again against the current roots and CRLs. *ok false: do a full
 * handshake. TLS_ERR_NO_MEMORY. */
struct tls_ticket_state;
TLS_MUST_CHECK tls_error tls__server_session_identity_ok(struct tls_conn *conn,
                                                         const struct tls_ticket_state *st,
                                                         bool *ok);
/* Then, once the session resumes: its client becomes the connection's peer identity. */
TLS_MUST_CHECK tls_error tls__server_restore_identity(struct tls_conn *conn,
                                                      const struct tls_ticket_state *st);
/* Puts the connection's peer chain into st for a ticket or cache entry. False: the end
 * entity alone does not fit (TLS_TICKET_MAX_CLIENT_CHAIN): the session is not kept. */
bool tls__server_save_identity(const struct tls_conn *conn, struct tls_ticket_state *st);
/* Sends a KeyUpdate and moves our sending keys to the next generation (§4.6.3). */
TLS_MUST_CHECK tls_error tls__hs13_send_key_update(struct tls_conn *conn, bool update_requested);
void tls__hs13_server_clear(tls13_server_hs *hs);

#endif
