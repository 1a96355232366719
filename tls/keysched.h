/*
 * keysched.h — the TLS 1.3 key schedule (RFC 8446 §7.1) and traffic keys (§7.3).
 *
 * A tls13_keysched holds the current stage secret (early → handshake → master) and
 * the hash of the negotiated suite. Traffic secrets are derived out of it into
 * caller memory; callers wipe what they derive (tls__wipe). tls13_keysched_clear
 * wipes the schedule.
 */
#ifndef MOAT_TLS_KEYSCHED_H
#define MOAT_TLS_KEYSCHED_H

#include "internal.h"

typedef struct {
    tls_hash_id hash;
    size_t hash_len;
    uint8_t secret[TLS_MAX_HASH_LEN];
} tls13_keysched;

/* HKDF-Expand-Label(secret, "tls13 " + label, context, out_len). */
TLS_MUST_CHECK tls_error tls13_hkdf_expand_label(tls_hash_id hash, const uint8_t *secret,
                                                 const char *label, const uint8_t *context,
                                                 size_t context_len, uint8_t *out, size_t out_len);
/* Derive-Secret with an already computed transcript hash (hash_len bytes). */
TLS_MUST_CHECK tls_error tls13_derive_secret(tls_hash_id hash, const uint8_t *secret,
                                             const char *label, const uint8_t *transcript_hash,
                                             uint8_t *out);

/* Early secret = HKDF-Extract(0, psk or zeros). */
TLS_MUST_CHECK tls_error tls13_keysched_init(tls13_keysched *ks, tls_hash_id hash,
                                             const uint8_t *psk, size_t psk_len);
/* Early → handshake secret with the (EC)DHE shared secret. */
TLS_MUST_CHECK tls_error tls13_keysched_handshake(tls13_keysched *ks, const uint8_t *shared,
                                                  size_t shared_len);
/* Handshake → master secret. */
TLS_MUST_CHECK tls_error tls13_keysched_master(tls13_keysched *ks);
/* Derive-Secret(current stage secret, label, transcript hash). */
TLS_MUST_CHECK tls_error tls13_keysched_derive(const tls13_keysched *ks, const char *label,
                                               const uint8_t *transcript_hash, uint8_t *out);
void tls13_keysched_clear(tls13_keysched *ks);

/* Finished verify_data = HMAC(finished_key(base_secret), transcript_hash) (§4.4.4). */
TLS_MUST_CHECK tls_error tls13_finished_mac(tls_hash_id hash, const uint8_t *base_secret,
                                            const uint8_t *transcript_hash, uint8_t *out);
/* Record key and IV of a traffic secret (§7.3). */
TLS_MUST_CHECK tls_error tls13_traffic_key_iv(tls_hash_id hash, const uint8_t *traffic_secret,
                                              size_t key_len, uint8_t *key, uint8_t iv[12]);
/* application_traffic_secret_N+1 in place (§7.2). */
TLS_MUST_CHECK tls_error tls13_next_traffic_secret(tls_hash_id hash, uint8_t *traffic_secret);

/* ---- TLS 1.2 ------------------------------------------------------------------ */

/* PRF(secret, label, seed1 || seed2) of RFC 5246 §5 with the suite's hash (P_hash). */
TLS_MUST_CHECK tls_error tls12_prf(tls_hash_id hash, const uint8_t *secret, size_t secret_len,
                                   const char *label, const uint8_t *seed1, size_t seed1_len,
                                   const uint8_t *seed2, size_t seed2_len, uint8_t *out,
                                   size_t out_len);

#define TLS12_MASTER_SECRET_LEN 48
#define TLS12_VERIFY_DATA_LEN 12

/* The master secret: RFC 7627 §4 when session_hash is given (extended master secret),
 * else RFC 5246 §8.1 from the two randoms. */
TLS_MUST_CHECK tls_error tls12_master_secret(tls_hash_id hash, const uint8_t *pre_master,
                                             size_t pre_master_len, const uint8_t *session_hash,
                                             const uint8_t client_random[32],
                                             const uint8_t server_random[32],
                                             uint8_t master[TLS12_MASTER_SECRET_LEN]);

#endif
