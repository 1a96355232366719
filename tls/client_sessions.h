/*
 * client_sessions.h — what the client keeps to resume with (the tls_client_session_store
 * of tls.h) and how the handshakes reach it.
 *
 * Per server name (the name a connection was made for, as conn->server_name holds it):
 * up to TLS_CLIENT_TICKETS_PER_SERVER TLS 1.3 tickets, each taken out of the store when
 * a ClientHello offers it (RFC 8446 §C.4: a ticket is used once), and one TLS 1.2
 * session (RFC 5246 session ID and/or RFC 5077 ticket), which stays until a newer one
 * replaces it or a server declines it. The store holds at most max_servers names and
 * forgets the least recently used first.
 *
 * Entries handed out (take/get) and handed in (put) are whole allocations the receiver
 * owns; every free wipes the secrets. All store functions lock the store's mutex; none
 * calls back into the caller while holding it.
 */
#ifndef MOAT_TLS_CLIENT_SESSIONS_H
#define MOAT_TLS_CLIENT_SESSIONS_H

#include "keysched.h"

#define TLS_CLIENT_TICKETS_PER_SERVER 4
/* TLS 1.2 sessions carry no lifetime of their own (a ticket's lifetime_hint at most):
 * servers keep sessions for hours, so offering one older than a day is pointless. */
#define TLS_CLIENT_SESSION12_MAX_AGE_S 86400u

/* A TLS 1.3 ticket (RFC 8446 §4.6.1) and what the connection that got it agreed. */
typedef struct {
    uint16_t suite; /* the suite of that connection: the PSK's hash, 0-RTT's cipher */
    uint16_t group; /* its key exchange group: our next key share, so no HRR is needed */
    uint8_t psk[TLS_MAX_HASH_LEN]; /* HKDF-Expand-Label(res_master, "resumption", nonce) */
    size_t psk_len;                /* the suite's hash length */
    uint8_t *ticket;               /* tls__alloc'd, 1..65535 bytes */
    size_t ticket_len;
    uint32_t age_add, lifetime_s;
    uint32_t max_early_data; /* 0: no 0-RTT with this ticket */
    int64_t received_ms;     /* wall clock at receipt (§4.2.11.1: the age is since then) */
    uint8_t alpn[256];       /* wire form (length byte first); alpn[0] == 0: none */
} tls_client_ticket13;

/* A TLS 1.2 session. Only sessions with the extended master secret are kept: we never
 * resume without it (RFC 7627 §5.3). */
typedef struct {
    uint16_t suite;
    uint8_t session_id[32]; /* the server's; may be empty when a ticket came */
    size_t session_id_len;
    uint8_t *ticket; /* RFC 5077 ticket (tls__alloc'd), or NULL */
    size_t ticket_len;
    uint32_t lifetime_s; /* how long it may be offered: the hint, capped */
    uint8_t master[TLS12_MASTER_SECRET_LEN];
    bool ems;
    int64_t received_ms;
} tls_client_session12;

/* Milliseconds since the Unix epoch (the wall clock: ages must survive a restart). */
int64_t tls__client_now_ms(void);

/* Allocation with a ticket buffer of ticket_len bytes (may be 0); NULL: no memory. */
tls_client_ticket13 *tls__client_ticket13_new(size_t ticket_len);
void tls__client_ticket13_free(tls_client_ticket13 *t); /* wipes; NULL is fine */
tls_client_session12 *tls__client_session12_new(size_t ticket_len);
void tls__client_session12_free(tls_client_session12 *s);
/* Whether an entry may still be offered at now_ms. */
bool tls__client_ticket13_live(const tls_client_ticket13 *t, int64_t now_ms);
bool tls__client_session12_live(const tls_client_session12 *s, int64_t now_ms);

/* Takes out the newest live TLS 1.3 ticket for name that usable(arg, ticket) accepts
 * (expired ones met on the way are dropped), or NULL. */
tls_client_ticket13 *
tls__client_sessions_take13(tls_client_session_store *store, const char *name, int64_t now_ms,
                            bool (*usable)(const void *arg, const tls_client_ticket13 *t),
                            const void *arg);
/* Adds a ticket for name (ownership passes; the oldest of a full set goes). */
void tls__client_sessions_put13(tls_client_session_store *store, const char *name,
                                tls_client_ticket13 *t);
/* A copy of the live TLS 1.2 session for name, or NULL. */
tls_client_session12 *tls__client_sessions_get12(tls_client_session_store *store, const char *name,
                                                 int64_t now_ms);
/* Replaces name's TLS 1.2 session (ownership passes). */
void tls__client_sessions_put12(tls_client_session_store *store, const char *name,
                                tls_client_session12 *s);
/* Drops name's TLS 1.2 session (a server that declined it). */
void tls__client_sessions_forget12(tls_client_session_store *store, const char *name);
/* What the store holds for name (tests): TLS 1.3 tickets, and whether a 1.2 session;
 * false when the name is not in the store at all. */
bool tls__client_sessions_peek(tls_client_session_store *store, const char *name,
                               size_t *n_tickets13, bool *has_session12);

#endif
