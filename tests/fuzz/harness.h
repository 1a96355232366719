/*
 * harness.h — the engine connection harness shared by fuzz_server.c, fuzz_client.c and
 * seedgen.c, so that a recorded seed replays exactly: the target does to its one
 * connection what seedgen did to that side of a real engine pair.
 *
 * Input format of the connection targets:
 *   byte 0       config flags (FH_S_* for the server target, FH_C_* for the client's)
 *   then chunks  u16 big-endian header: FH_CHUNK_* flags | length (13 bits), then that
 *                many bytes (fewer if the input ends): what the peer sent in one read
 * A chunk flagged FH_CHUNK_NEWCONN first starts a new connection on the same config
 * (session cache, ticketer, client session store are shared: resumption, 0-RTT and
 * replays span connections), at most FH_MAX_CONNS per input. FH_CHUNK_KEYUPDATE and
 * FH_CHUNK_CLOSE make our side send a KeyUpdate (update_requested) or close_notify
 * after the chunk's bytes.
 *
 * Every connection k starts with its own random stream seed and the clock at
 * FUZZ_NOW + 60 k (fuzz.h), so the same input gives the same bytes every time.
 */
#ifndef MOAT_TESTS_FUZZ_HARNESS_H
#define MOAT_TESTS_FUZZ_HARNESS_H

#include "tests/fuzz/fuzz.h"
#include "tls/tls.h"

typedef struct {
    uint8_t *p;
    size_t len, cap;
} fh_buf;

void fh_buf_put(fh_buf *b, const void *p, size_t n);
void fh_buf_free(fh_buf *b);

#define FH_CHUNK_NEWCONN 0x8000u
#define FH_CHUNK_KEYUPDATE 0x4000u
#define FH_CHUNK_CLOSE 0x2000u
#define FH_CHUNK_LEN_MASK 0x1fffu
#define FH_MAX_CONNS 4

typedef struct {
    const uint8_t *p;
    size_t len;
    unsigned flags;
} fh_chunk;

typedef struct {
    const uint8_t *p;
    size_t left;
} fh_input;

/* Next chunk of the input; false at its end. */
bool fh_next_chunk(fh_input *in, fh_chunk *c);
/* Appends p[0..n) as one or more chunks (flags on the first only). */
void fh_put_chunk(fh_buf *seed, unsigned flags, const uint8_t *p, size_t n);

/* Test certificates and the test CAs' root store, loaded once (aborts on failure). */
void fh_fixture_load(void);

/* Server config flags (first input byte of fuzz_server). */
#define FH_S_CERT_MASK 0x03 /* 0 P-256, 1 RSA, 2 P-384, 3 RSA then P-256 */
#define FH_S_TICKETS 0x04   /* a ticketer (TLS 1.3 tickets, RFC 5077 tickets) */
#define FH_S_CACHE 0x08     /* a session cache of 8 */
#define FH_S_EARLY 0x10     /* 0-RTT up to 16384 bytes (tickets if neither of the above) */
#define FH_S_VERSIONS(f) (((f) >> 5) & 3)
/* 0: TLS 1.3 and 1.2; 1: TLS 1.3 only; 2: TLS 1.2 only; 3: both, but only secp384r1 and
 * the AES-128/ChaCha20 suites (so most clients get a HelloRetryRequest) */
#define FH_S_EXTRAS 0x80 /* ALPN h2/http1.1, strict SNI, EMS required, 512-byte fragments */

typedef struct {
    tls_server_config *cfg;
} fh_server_env;

/* False when the engine refuses the config (then nothing is held). */
bool fh_server_env_init(fh_server_env *e, uint8_t flags);
void fh_server_env_clear(fh_server_env *e);

/* Client config flags (first input byte of fuzz_client). */
#define FH_C_VERIFY 0x01     /* verify against the test CAs (else: dangerous, unverified) */
#define FH_C_STORE 0x02      /* a session store: resumption across connections */
#define FH_C_EARLY 0x04      /* offer 0-RTT (with a store) */
#define FH_C_NO_TICKETS 0x08 /* TLS 1.2 session IDs only */
#define FH_C_VERSIONS(f) (((f) >> 4) & 3)
/* 0: defaults; 1: TLS 1.3 only; 2: TLS 1.2 only; 3: groups secp384r1 then X25519 */
#define FH_C_ALPN 0x40 /* offer h2, http/1.1 */
#define FH_C_IP 0x80   /* connect to 127.0.0.1 (no SNI; IP SAN) instead of localhost */

typedef struct {
    tls_client_config *cfg;
    tls_client_session_store *store;
    const char *name;
    bool early;
} fh_client_env;

bool fh_client_env_init(fh_client_env *e, uint8_t flags);
void fh_client_env_clear(fh_client_env *e);

/* One side of a connection. What it sends goes to *out (NULL: dropped). The server echoes
 * every plaintext byte (1-RTT and early data); the client sends 0-RTT data when it can
 * and "ping" once the handshake is done, and reads whatever arrives. */
typedef struct {
    tls_conn *c;
    bool is_client;
    bool saw_done;
    fh_buf *out;
} fh_conn;

/* Connection number k (0-based) on a config; false if the engine refused to make one. */
bool fh_server_conn_start(fh_server_env *e, unsigned k, fh_conn *fc, fh_buf *out);
bool fh_client_conn_start(fh_client_env *e, unsigned k, fh_conn *fc, fh_buf *out);
/* Hands the peer's bytes to the connection, then does what `actions` asks. */
void fh_conn_feed(fh_conn *fc, const uint8_t *p, size_t n, unsigned actions);
void fh_conn_end(fh_conn *fc);

/* Whole inputs, as the targets run them. */
void fh_run_server(const uint8_t *data, size_t size);
void fh_run_client(const uint8_t *data, size_t size);

#endif
