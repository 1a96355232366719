/*
 * ticket.h — stateless TLS 1.3 session tickets (RFC 8446 §4.6.1, §2.2).
 *
 * A tls_ticketer seals a resumption state into an opaque ticket under an AES-256-GCM
 * key only this server knows, and opens tickets the client offers back. It is owned
 * by a server config (reference-counted) and shared by every thread using the config:
 * sealing, opening and key rotation happen under its mutex.
 *
 * Keys, random (tls_ticketer_new): one key seals for one rotation period and still
 * opens for the next one, so a ticket sealed before one rotation opens after it and
 * not after two. A ticket's useful life is therefore the smaller of its lifetime and
 * one to two periods.
 *
 * Keys from a fleet's file (tls_ticketer_load): the first seals, all open, none ever
 * rotates. The key id and the AES-256-GCM key are both derived from the file's key
 * (HKDF-SHA256, distinct labels), so every process loading the file agrees on them
 * and the id, which travels in clear, says nothing about the AEAD key.
 *
 * Ticket = key_id (4) || nonce (12) || AEAD(plaintext, aad = key_id). Nonces are
 * random per ticket: with 96-bit random nonces a key stays safe for 2^32 tickets
 * (NIST SP 800-38D §8.3), far more than one rotation period ever seals. A fleet key
 * that is never rotated shares that budget across every instance: rotate it.
 */
#ifndef MOAT_TLS_TICKET_H
#define MOAT_TLS_TICKET_H

#include "internal.h"

/* Seconds since the Unix epoch; replaced by tests to drive rotation and ages. */
typedef int64_t (*tls_ticket_clock_fn)(void);

typedef struct tls_ticketer tls_ticketer;

/* The client's chain a session keeps (mTLS): certificates as they were presented,
 * each with a u24 length, the end entity first, as many as fit in this many bytes. */
#define TLS_TICKET_MAX_CLIENT_CHAIN 8192

/* What a ticket carries. sni is NUL-terminated; alpn is wire form (alpn[0]: length, 0
 * when none), both kept for later 0-RTT checks. */
typedef struct tls_ticket_state {
    /* TLS_VERSION_1_3: psk is a resumption PSK (§4.6.1); TLS_VERSION_1_2: psk is the
     * 48-byte master secret and ems says whether it is an extended one (RFC 7627). A
     * ticket is only ever used by the version that made it. */
    uint16_t version;
    uint16_t suite;
    uint8_t psk[TLS_MAX_HASH_LEN];
    size_t psk_len;
    bool ems;
    int64_t issued; /* the ticketer clock at sealing */
    /* When the full handshake this session comes from was made (0 when sealing or
     * storing it means "now"). Tickets reissued on resumption keep it, so a session
     * cannot be stretched forever (RFC 8446 §4.6.1: seven days at most). */
    int64_t origin;
    uint32_t age_add, lifetime;
    uint32_t max_early_data; /* TLS 1.3: what the NewSessionTicket allowed; 0: no 0-RTT */
    char sni[256];
    uint8_t alpn[256];
    /* Client authentication: the verified client's chain (see
     * TLS_TICKET_MAX_CLIENT_CHAIN); client_chain_len 0: the session has no client
     * certificate. client_chain stays the last member: the session cache stores only
     * the client_chain_len bytes of it in use. */
    size_t client_chain_len;
    uint8_t client_chain[TLS_TICKET_MAX_CLIENT_CHAIN];
} tls_ticket_state;

/* Largest sealed ticket (sni, alpn and the client chain at their longest): key id,
 * nonce, format version, protocol version, suite, psk, ems, issued, origin, age_add,
 * lifetime, max_early_data, sni, alpn, client chain, tag. */
#define TLS_TICKET_MAX_LEN                                                                         \
    (4 + 12 + 1 + 2 + 2 + 1 + TLS_MAX_HASH_LEN + 1 + 8 + 8 + 4 + 4 + 4 + 1 + 255 + 1 + 255 + 2 +   \
     TLS_TICKET_MAX_CLIENT_CHAIN + 16)

/* The longest a session lives, counted from its full handshake, however often it is
 * resumed and its ticket reissued (RFC 8446 §4.6.1). */
#define TLS_SESSION_MAX_AGE_S 604800

/* True while `now` is within the session's lifetime since it was issued and within
 * TLS_SESSION_MAX_AGE_S of its full handshake; false for a clock that went back. */
bool tls__ticket_state_live(const tls_ticket_state *st, int64_t now);

/* tls_ticketer_new with a clock: a ticketer with a fresh random key (one reference).
 * rotate_s >= 1. now: NULL for time(NULL). TLS_ERR_NO_MEMORY, TLS_ERR_CRYPTO,
 * TLS_ERR_INTERNAL (rotate_s 0, mutex). References: tls_ticketer_ref/unref (tls.h). */
TLS_MUST_CHECK tls_error tls__ticketer_new(unsigned rotate_s, tls_ticket_clock_fn now,
                                           tls_ticketer **out);
/* The ticketer's clock (what `issued` and ticket ages are measured against). */
int64_t tls__ticketer_now(tls_ticketer *t);
/* Replaces the clock and restarts the current key's period at its present time (tests
 * only; before the ticketer is shared). */
void tls__ticketer_set_clock(tls_ticketer *t, tls_ticket_clock_fn now);

/* True for a ticketer whose keys came from a file (tls_ticketer_load): other
 * processes, and this one after a restart, open its tickets too. */
bool tls__ticketer_is_shared(const tls_ticketer *t);

/* Seals st (st->issued is set here from the clock, and st->origin when it is 0) into out (cap >=
 * TLS_TICKET_MAX_LEN is always enough). TLS_ERR_INTERNAL (cap too small, or a bad state: version
 * neither TLS 1.2 nor 1.3, psk_len 0 or over TLS_MAX_HASH_LEN, a TLS 1.2 psk that is not 48 bytes),
 * TLS_ERR_CRYPTO. */
TLS_MUST_CHECK tls_error tls__ticketer_seal(tls_ticketer *t, tls_ticket_state *st, uint8_t *out,
                                            size_t cap, size_t *len);
/* Opens a ticket into *st. TLS_ERR_DECRYPT for anything not sealed by a live key of
 * ours (unknown key id, tampered, too short, bad plaintext, an older format): never
 * fatal to a handshake, the caller falls back to a full one. *st is wiped on failure. */
TLS_MUST_CHECK tls_error tls__ticketer_open(tls_ticketer *t, const uint8_t *ticket, size_t len,
                                            tls_ticket_state *st);

/*
 * 0-RTT anti-replay (RFC 8446 §8.1, single-use tickets): records that the ticket whose
 * SHA-256 is `fingerprint` was used for early data, until `expires` (ticketer clock:
 * the ticket's own expiry). True the first time; false for a replay, and also when
 * the record is full of unexpired entries (0-RTT is then refused, never a replay
 * accepted). Thread-safe: every worker sharing the ticketer sees one record.
 */
/* The record holds this many fingerprints; its ~400 KiB are allocated by the first claim,
 * so a ticketer that never sees 0-RTT costs nothing. Also false: `expires` not after the
 * ticketer clock's now (an expired ticket gets no early data), or no memory. */
#define TLS_TICKET_EARLY_RECORD_SIZE 8192
bool tls__ticketer_claim_early(tls_ticketer *t, const uint8_t fingerprint[32], int64_t expires);

#endif
