/*
 * hs.h — what the handshake state machines share: the transcript hash and the
 * entry points tls/conn.c calls.
 */
#ifndef MOAT_TLS_HS_H
#define MOAT_TLS_HS_H

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

/* TLS 1.3 server handshake state (tls13_server.c). */
typedef enum {
    HS13_EXPECT_CLIENT_HELLO,
    HS13_EXPECT_CLIENT_HELLO_AFTER_HRR,
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
} tls13_server_hs;

/* TLS 1.2 server handshake state (tls12_server.c). */
typedef enum {
    HS12_EXPECT_CLIENT_KEY_EXCHANGE,
    HS12_EXPECT_CHANGE_CIPHER_SPEC,
    HS12_EXPECT_FINISHED,
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
} tls12_server_hs;

struct tls_conn;
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
TLS_MUST_CHECK tls_error tls__server_resolve_cert(struct tls_conn *conn, const tls_client_hello *ch,
                                                  const tls_certified_key **out);
TLS_MUST_CHECK tls_error tls__server_choose_alpn(struct tls_conn *conn, const tls_client_hello *ch);
/* Sends a KeyUpdate and moves our sending keys to the next generation (§4.6.3). */
TLS_MUST_CHECK tls_error tls__hs13_send_key_update(struct tls_conn *conn, bool update_requested);
void tls__hs13_server_clear(tls13_server_hs *hs);

#endif
