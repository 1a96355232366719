/*
 * keysched.c — TLS 1.3 key schedule. Every intermediate secret lives in a stack
 * buffer that is wiped before return.
 */
#include "keysched.h"

#include <string.h>

tls_error tls13_hkdf_expand_label(tls_hash_id hash, const uint8_t *secret, const char *label,
                                  const uint8_t *context, size_t context_len, uint8_t *out,
                                  size_t out_len)
{
    /* struct { uint16 length; opaque label<7..255> = "tls13 " + Label;
     *          opaque context<0..255>; } HkdfLabel;  (RFC 8446 §7.1) */
    static const char prefix[] = "tls13 ";
    size_t label_len = strlen(label);
    uint8_t info[2 + 1 + 255 + 1 + 255];
    tls_writer w;

    ENSURE(out_len <= 0xffff && label_len + sizeof prefix - 1 <= 255 && context_len <= 255,
           TLS_ERR_INTERNAL);
    tls_writer_init(&w, info, sizeof info);
    tls_write_u16(&w, (uint16_t)out_len);
    tls_write_vec8_begin(&w);
    tls_write_bytes(&w, (const uint8_t *)prefix, sizeof prefix - 1);
    tls_write_bytes(&w, (const uint8_t *)label, label_len);
    tls_writer_end(&w);
    tls_write_vec8(&w, context, context_len);
    ENSURE(tls_writer_ok(&w), TLS_ERR_INTERNAL);
    return tls__hkdf_expand(hash, secret, tls__hash_len(hash), info, w.len, out, out_len);
}

tls_error tls13_derive_secret(tls_hash_id hash, const uint8_t *secret, const char *label,
                              const uint8_t *transcript_hash, uint8_t *out)
{
    size_t n = tls__hash_len(hash);
    return tls13_hkdf_expand_label(hash, secret, label, transcript_hash, n, out, n);
}

tls_error tls13_keysched_init(tls13_keysched *ks, tls_hash_id hash, const uint8_t *psk,
                              size_t psk_len)
{
    uint8_t zeros[TLS_MAX_HASH_LEN] = {0};
    ks->hash = hash;
    ks->hash_len = tls__hash_len(hash);
    if (!psk) {
        psk = zeros;
        psk_len = ks->hash_len;
    }
    return tls__hkdf_extract(hash, zeros, ks->hash_len, psk, psk_len, ks->secret);
}

/* Extract(Derive-Secret(current, "derived", Hash("")), ikm) becomes the next stage. */
static tls_error next_stage(tls13_keysched *ks, const uint8_t *ikm, size_t ikm_len)
{
    uint8_t empty_hash[TLS_MAX_HASH_LEN], derived[TLS_MAX_HASH_LEN];
    tls__hash(ks->hash, NULL, 0, empty_hash);
    tls_error err = tls13_derive_secret(ks->hash, ks->secret, "derived", empty_hash, derived);
    if (err == TLS_OK)
        err = tls__hkdf_extract(ks->hash, derived, ks->hash_len, ikm, ikm_len, ks->secret);
    tls__wipe(derived, sizeof derived);
    return err;
}

tls_error tls13_keysched_handshake(tls13_keysched *ks, const uint8_t *shared, size_t shared_len)
{
    return next_stage(ks, shared, shared_len);
}

tls_error tls13_keysched_master(tls13_keysched *ks)
{
    uint8_t zeros[TLS_MAX_HASH_LEN] = {0};
    return next_stage(ks, zeros, ks->hash_len);
}

tls_error tls13_keysched_derive(const tls13_keysched *ks, const char *label,
                                const uint8_t *transcript_hash, uint8_t *out)
{
    return tls13_derive_secret(ks->hash, ks->secret, label, transcript_hash, out);
}

void tls13_keysched_clear(tls13_keysched *ks)
{
    tls__wipe(ks->secret, sizeof ks->secret);
}

tls_error tls13_finished_mac(tls_hash_id hash, const uint8_t *base_secret,
                             const uint8_t *transcript_hash, uint8_t *out)
{
    size_t n = tls__hash_len(hash);
    uint8_t finished_key[TLS_MAX_HASH_LEN];
    tls_error err =
        tls13_hkdf_expand_label(hash, base_secret, "finished", NULL, 0, finished_key, n);
    if (err == TLS_OK)
        err = tls__hmac(hash, finished_key, n, transcript_hash, n, out);
    tls__wipe(finished_key, sizeof finished_key);
    return err;
}

tls_error tls13_traffic_key_iv(tls_hash_id hash, const uint8_t *traffic_secret, size_t key_len,
                               uint8_t *key, uint8_t iv[12])
{
    TRY(tls13_hkdf_expand_label(hash, traffic_secret, "key", NULL, 0, key, key_len));
    return tls13_hkdf_expand_label(hash, traffic_secret, "iv", NULL, 0, iv, 12);
}

tls_error tls13_next_traffic_secret(tls_hash_id hash, uint8_t *traffic_secret)
{
    uint8_t next[TLS_MAX_HASH_LEN];
    size_t n = tls__hash_len(hash);
    tls_error err = tls13_hkdf_expand_label(hash, traffic_secret, "traffic upd", NULL, 0, next, n);
    if (err == TLS_OK)
        memcpy(traffic_secret, next, n);
    tls__wipe(next, sizeof next);
    return err;
}

tls_error tls12_prf(tls_hash_id hash, const uint8_t *secret, size_t secret_len, const char *label,
                    const uint8_t *seed1, size_t seed1_len, const uint8_t *seed2, size_t seed2_len,
                    uint8_t *out, size_t out_len)
{
    size_t n = tls__hash_len(hash), label_len = strlen(label);
    uint8_t a[TLS_MAX_HASH_LEN], block[TLS_MAX_HASH_LEN];
    const uint8_t *seed_parts[4] = {NULL, (const uint8_t *)label, seed1, seed2};
    size_t seed_lens[4] = {0, label_len, seed1_len, seed2_len};
    tls_error err;

    /* A(1) = HMAC(secret, label || seed) */
    err = tls__hmac_parts(hash, secret, secret_len, seed_parts + 1, seed_lens + 1, 3, a);
    while (err == TLS_OK && out_len) {
        /* output block = HMAC(secret, A(i) || label || seed) */
        seed_parts[0] = a;
        seed_lens[0] = n;
        err = tls__hmac_parts(hash, secret, secret_len, seed_parts, seed_lens, 4, block);
        if (err != TLS_OK)
            break;
        size_t take = out_len < n ? out_len : n;
        memcpy(out, block, take);
        out += take;
        out_len -= take;
        const uint8_t *prev[1] = {a};
        size_t prev_len[1] = {n};
        err = tls__hmac_parts(hash, secret, secret_len, prev, prev_len, 1, a); /* A(i+1) */
    }
    tls__wipe(a, sizeof a);
    tls__wipe(block, sizeof block);
    return err;
}

tls_error tls12_master_secret(tls_hash_id hash, const uint8_t *pre_master, size_t pre_master_len,
                              const uint8_t *session_hash, const uint8_t client_random[32],
                              const uint8_t server_random[32],
                              uint8_t master[TLS12_MASTER_SECRET_LEN])
{
    if (session_hash)
        return tls12_prf(hash, pre_master, pre_master_len, "extended master secret", session_hash,
                         tls__hash_len(hash), NULL, 0, master, TLS12_MASTER_SECRET_LEN);
    return tls12_prf(hash, pre_master, pre_master_len, "master secret", client_random, 32,
                     server_random, 32, master, TLS12_MASTER_SECRET_LEN);
}
