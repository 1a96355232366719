/*
 * tls13_server.c — the TLS 1.3 server handshake (RFC 8446 §2, §4).
 *
 * One handler per state (hs_expect_*), one dispatch point that refuses any message
 * the state does not expect, and one place where the state changes (set_state).
 *
 * Implementation notes:
 * - Choices follow server preference: version, suite, key-exchange group (the first
 *   of ours for which the client sent a share; else a HelloRetryRequest for the first
 *   of ours the client supports), signature scheme (by certificate key type), ALPN.
 * - The HRR cookie is an HMAC over the first ClientHello's hash and our choices; the
 *   second ClientHello must echo it, keep the suite and offer exactly one share for
 *   the group we asked for.
 * - Secrets are derived into this struct and wiped as soon as they are not needed:
 *   handshake secrets and the master secret at the client's Finished (the master
 *   secret waits for it: resumption_master_secret covers the client's Finished),
 *   everything at tls__hs13_server_clear.
 * - Resumption (RFC 8446 §2.2, §4.2.11): psk_dhe_ke only, from our own stateless
 *   tickets (ticket.h). The first offered identity (of at most MAX_PSK_IDENTITIES)
 *   that opens, has the suite's hash, the ClientHello's SNI and a plausible age is
 *   used; its binder must then verify or the handshake fails (decrypt_error). Tickets
 *   that do not open, or do not fit, just mean a full handshake. After a
 *   HelloRetryRequest the binders cover message_hash(CH1) || HRR || CH2-truncated,
 *   which the running transcript gives us for free. Without a ticketer, a session
 *   cache makes stateful tickets: the ticket is a random key into the cache, and
 *   taking the entry out makes each ticket single-use.
 * - 0-RTT (§2.3, §4.2.10, §8): accepted only when the config allows it, for the first
 *   identity, with the ticket's suite and ALPN, without HRR, and once per ticket
 *   (the ticketer's anti-replay record, or the single-use stateful ticket). Early
 *   data goes to conn->early_in, apart from 1-RTT data, until EndOfEarlyData.
 * - Client authentication (§4.3.2, §4.4.2–§4.4.3): on a full handshake with a config
 *   that asks, a CertificateRequest follows EncryptedExtensions; the client then owes
 *   Certificate, CertificateVerify (unless the Certificate was empty) and Finished,
 *   each checked before the next is taken, so the Finished we expect is computed only
 *   once the client's authentication messages are in the transcript. A resumed
 *   handshake never asks (§4.3.2); the session's client (ticket.h) is re-verified
 *   against the current roots and CRLs before its PSK is accepted.
 */
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "../conn.h"
#include "../session_cache.h"
#include "../ticket.h"
#include "hs.h"

/* Room for EncryptedExtensions, the message headers, CertificateVerify and Finished
 * around the certificate chain of our first flight. */
#define FLIGHT_OVERHEAD (1024 + TLS_MAX_SIGNATURE_LEN)
/* Offered PSK identities we try; the rest are ignored. */
#define MAX_PSK_IDENTITIES 8
/* How far the client's idea of a ticket's age may stray from ours (§8.3 suggests a
 * window of seconds; ours counts in whole seconds, hence the extra second). */
#define TICKET_AGE_TOLERANCE_MS 11000
#define PSK_MODE_DHE_KE 1

static void set_state(tls_conn *c, tls13_server_state next)
{
    c->hs.v13.state = next;
}

/* ---- negotiation ----------------------------------------------------------------- */

/* The highest version the client says it supports. */
static uint16_t client_max_version(const tls_client_hello *ch)
{
    uint16_t best = 0;
    if (!ch->has_supported_versions)
        return ch->legacy_version;
    for (size_t i = 0; i + 1 < ch->supported_versions.len; i += 2) {
        uint16_t v =
            (uint16_t)((ch->supported_versions.p[i] << 8) | ch->supported_versions.p[i + 1]);
        if (v <= TLS_VERSION_1_3 && v > best) /* GREASE values lie above */
            best = v;
    }
    return best;
}

static tls_error choose_version(const tls_conn *c, const tls_client_hello *ch, uint16_t *out)
{
    bool ours13 = tls__config_has_version(c->cfg, TLS_VERSION_1_3);
    bool ours12 = tls__config_has_version(c->cfg, TLS_VERSION_1_2);
    uint16_t our_max = ours13 ? TLS_VERSION_1_3 : TLS_VERSION_1_2;

    /* RFC 7507 §3: a fallback retry that is below what we could have agreed. */
    ENSURE(!tls__u16_list_has(ch->cipher_suites, TLS_FALLBACK_SCSV) ||
               client_max_version(ch) >= our_max,
           TLS_ERR_INAPPROPRIATE_FALLBACK);
    /* §4.2.1: with supported_versions present, legacy_version is not looked at. */
    if (ch->has_supported_versions) {
        if (ours13 && tls__u16_list_has(ch->supported_versions, TLS_VERSION_1_3))
            *out = TLS_VERSION_1_3;
        else if (ours12 && tls__u16_list_has(ch->supported_versions, TLS_VERSION_1_2))
            *out = TLS_VERSION_1_2;
        else
            return TLS_ERR_PROTOCOL_VERSION;
        return TLS_OK;
    }
    /* A TLS 1.2 (or older) client; 1.0 and 1.1 are never spoken. */
    ENSURE(ours12 && ch->legacy_version >= TLS_VERSION_1_2, TLS_ERR_PROTOCOL_VERSION);
    *out = TLS_VERSION_1_2;
    return TLS_OK;
}

static tls_error choose_suite(const tls_conn *c, const tls_client_hello *ch, const tls_suite **out)
{
    for (size_t i = 0; i < c->cfg->n_suites; i++) {
        const tls_suite *suite = tls__suite_find(c->cfg->suites[i]);
        if (suite->version == TLS_VERSION_1_3 &&
            tls__u16_list_has(ch->cipher_suites, c->cfg->suites[i])) {
            *out = suite;
            return TLS_OK;
        }
    }
    return TLS_ERR_NO_CIPHER_SUITES_IN_COMMON;
}

/* The share to use now, or (found == false) the group to ask for in an HRR. */
static tls_error choose_group(const tls_conn *c, const tls_client_hello *ch, uint16_t *group,
                              tls_slice *share, bool *found)
{
    *found = false;
    for (size_t i = 0; i < c->cfg->n_groups; i++) {
        if (tls__u16_list_has(ch->groups, c->cfg->groups[i]) &&
            tls__client_hello_key_share(ch, c->cfg->groups[i], share)) {
            *group = c->cfg->groups[i];
            *found = true;
            return TLS_OK;
        }
    }
    for (size_t i = 0; i < c->cfg->n_groups; i++) {
        if (tls__u16_list_has(ch->groups, c->cfg->groups[i])) {
            *group = c->cfg->groups[i];
            return TLS_OK;
        }
    }
    return TLS_ERR_NO_KX_GROUPS_IN_COMMON;
}

static tls_error choose_sig_scheme(const tls_certified_key *ck, const tls_client_hello *ch,
                                   uint16_t *out)
{
    *out = tls__sig_scheme_for_key(ck, ch->sig_algs, TLS_VERSION_1_3);
    return *out ? TLS_OK : TLS_ERR_NO_SIG_SCHEMES_IN_COMMON;
}

static bool cert_usable(const tls_conn *c, const tls_client_hello *ch, const tls_certified_key *ck)
{
    uint16_t scheme;
    (void)c;
    return choose_sig_scheme(ck, ch, &scheme) == TLS_OK;
}

/* §9.2 and §4.2: what every TLS 1.3 ClientHello must satisfy. */
static tls_error check_tls13_hello(const tls_client_hello *ch)
{
    ENSURE(ch->null_compression_only, TLS_ERR_NULL_COMPRESSION_REQUIRED);
    ENSURE(ch->has_groups == ch->has_key_share, TLS_ERR_MISSING_EXTENSION);
    ENSURE(ch->has_psk || (ch->has_groups && ch->has_sig_algs), TLS_ERR_MISSING_EXTENSION);
    ENSURE(!ch->has_psk || ch->has_psk_modes, TLS_ERR_MISSING_EXTENSION);
    /* §4.2.8: every share must be for a group the client lists as supported. A bitmap
     * keeps this linear: a hostile hello may list thousands of both. */
    uint8_t listed[65536 / 8];
    tls_reader shares, key;
    uint16_t group;
    memset(listed, 0, sizeof listed);
    for (size_t i = 0; i + 1 < ch->groups.len; i += 2) {
        uint16_t g = (uint16_t)((ch->groups.p[i] << 8) | ch->groups.p[i + 1]);
        listed[g / 8] |= (uint8_t)(1u << (g % 8));
    }
    tls_reader_init(&shares, ch->key_shares.p, ch->key_shares.len);
    while (tls_reader_left(&shares)) {
        ENSURE(tls_read_u16(&shares, &group) && tls_read_vec16(&shares, 1, 0xffff, &key),
               TLS_ERR_DECODE);
        ENSURE(listed[group / 8] & (1u << (group % 8)), TLS_ERR_KEY_SHARE_NOT_OFFERED_GROUP);
    }
    return TLS_OK;
}

/* ---- message builders --------------------------------------------------------------- */

static void write_server_hello(tls_writer *w, const tls13_server_hs *hs, const uint8_t *random,
                               uint16_t group, const uint8_t *share, size_t share_len, bool is_hrr)
{
    tls__hs_begin(w, TLS_HS_SERVER_HELLO);
    tls_write_u16(w, TLS_VERSION_1_2); /* legacy_version (§4.1.3) */
    tls_write_bytes(w, random, 32);
    tls_write_vec8(w, hs->session_id, hs->session_id_len);
    tls_write_u16(w, hs->suite->id);
    tls_write_u8(w, 0); /* legacy_compression_method */
    tls_write_vec16_begin(w);
    tls_write_u16(w, TLS_EXT_SUPPORTED_VERSIONS);
    tls_write_u16(w, 2);
    tls_write_u16(w, TLS_VERSION_1_3);
    tls_write_u16(w, TLS_EXT_KEY_SHARE);
    tls_write_vec16_begin(w);
    tls_write_u16(w, group);
    if (!is_hrr)
        tls_write_vec16(w, share, share_len);
    tls_writer_end(w);
    if (!is_hrr && hs->psk_len) { /* §4.2.11: selected_identity */
        tls_write_u16(w, TLS_EXT_PRE_SHARED_KEY);
        tls_write_u16(w, 2);
        tls_write_u16(w, hs->psk_identity);
    }
    if (is_hrr) {
        tls_write_u16(w, TLS_EXT_COOKIE);
        tls_write_vec16_begin(w);
        tls_write_vec16(w, hs->cookie, sizeof hs->cookie);
        tls_writer_end(w);
    }
    tls_writer_end(w);
    tls__hs_end(w);
}

static void write_encrypted_extensions(tls_writer *w, const tls_conn *c, bool ack_sni)
{
    tls__hs_begin(w, TLS_HS_ENCRYPTED_EXTENSIONS);
    tls_write_vec16_begin(w);
    if (c->early_data_accepted) { /* §4.2.10: empty, in EncryptedExtensions */
        tls_write_u16(w, TLS_EXT_EARLY_DATA);
        tls_write_u16(w, 0);
    }
    if (ack_sni) { /* RFC 6066 §3: an empty server_name says the name was used */
        tls_write_u16(w, TLS_EXT_SERVER_NAME);
        tls_write_u16(w, 0);
    }
    if (c->alpn[0]) {
        tls_write_u16(w, TLS_EXT_ALPN);
        tls_write_vec16_begin(w);
        tls_write_vec16(w, c->alpn, (size_t)c->alpn[0] + 1);
        tls_writer_end(w);
    }
    tls_writer_end(w);
    tls__hs_end(w);
}

/* §4.4.2: the staples ride in the end entity's CertificateEntry extensions, and only
 * when the client asked for them (§4.4.2.1; RFC 6962 §3.3). */
static void write_certificate(tls_writer *w, const tls_certified_key *ck, const tls_staple *ocsp,
                              const tls_staple *scts)
{
    tls__hs_begin(w, TLS_HS_CERTIFICATE);
    tls_write_vec8(w, NULL, 0); /* certificate_request_context */
    tls_write_vec24_begin(w);
    for (size_t i = 0; i < ck->n_chain; i++) {
        tls_write_vec24_begin(w);
        tls_write_bytes(w, ck->chain[i], ck->chain_len[i]);
        tls_writer_end(w);
        tls_write_vec16_begin(w);
        if (i == 0 && ocsp) { /* CertificateStatus (RFC 6066 §8): ocsp(1), the response */
            tls_write_u16(w, TLS_EXT_STATUS_REQUEST);
            tls_write_vec16_begin(w);
            tls_write_u8(w, 1);
            tls_write_vec24_begin(w);
            tls_write_bytes(w, ocsp->data, ocsp->len);
            tls_writer_end(w);
            tls_writer_end(w);
        }
        if (i == 0 && scts) { /* the SignedCertificateTimestampList as stored */
            tls_write_u16(w, TLS_EXT_SCT);
            tls_write_vec16(w, scts->data, scts->len);
        }
        tls_writer_end(w);
    }
    tls_writer_end(w);
    tls__hs_end(w);
}

/* §4.4.3: 64 spaces, the context string, a zero byte, the transcript hash. */
static tls_error write_certificate_verify(tls_writer *w, const tls_certified_key *ck,
                                          uint16_t scheme, const uint8_t *thash, size_t hash_len)
{
    static const char context[] = "TLS 1.3, server CertificateVerify";
    uint8_t content[64 + sizeof context + TLS_MAX_HASH_LEN];
    uint8_t sig[TLS_MAX_SIGNATURE_LEN];
    size_t sig_len;

    memset(content, 0x20, 64);
    memcpy(content + 64, context, sizeof context); /* includes the zero byte */
    memcpy(content + 64 + sizeof context, thash, hash_len);
    TRY(tls__sign(ck->key, scheme, content, 64 + sizeof context + hash_len, sig, sizeof sig,
                  &sig_len));
    tls__hs_begin(w, TLS_HS_CERTIFICATE_VERIFY);
    tls_write_u16(w, scheme);
    tls_write_vec16(w, sig, sig_len);
    tls__hs_end(w);
    return TLS_OK;
}

/* ---- HelloRetryRequest ------------------------------------------------------------------ */

static tls_error compute_cookie(const tls_conn *c, const uint8_t *hello_hash, uint16_t group,
                                uint8_t out[32])
{
    uint8_t input[TLS_MAX_HASH_LEN + 4];
    size_t n = c->hs.v13.ks.hash_len;
    memcpy(input, hello_hash, n);
    input[n] = (uint8_t)(c->hs.v13.suite->id >> 8);
    input[n + 1] = (uint8_t)c->hs.v13.suite->id;
    input[n + 2] = (uint8_t)(group >> 8);
    input[n + 3] = (uint8_t)group;
    return tls__hmac(TLS_HASH_SHA256, c->cfg->cookie_secret, sizeof c->cfg->cookie_secret, input,
                     n + 4, out);
}

static tls_error send_hello_retry_request(tls_conn *c, uint16_t group)
{
    tls13_server_hs *hs = &c->hs.v13;
    uint8_t hello_hash[TLS_MAX_HASH_LEN], msg[512];
    tls_writer w;

    tls__transcript_current(&hs->transcript, hello_hash);
    TRY(compute_cookie(c, hello_hash, group, hs->cookie));
    tls__transcript_to_message_hash(&hs->transcript);
    tls_writer_init(&w, msg, sizeof msg);
    write_server_hello(&w, hs, tls__hrr_random, group, NULL, 0, true);
    ENSURE(tls_writer_ok(&w), TLS_ERR_INTERNAL);
    tls__transcript_add(&hs->transcript, msg, w.len);
    TRY(tls__conn_send_handshake(c, msg, w.len));
    if (hs->session_id_len && !hs->sent_ccs) {
        TRY(tls__conn_send_ccs(c));
        hs->sent_ccs = true;
    }
    hs->hrr_group = group;
    c->did_hrr = true;
    set_state(c, HS13_EXPECT_CLIENT_HELLO_AFTER_HRR);
    return TLS_OK;
}

/* ---- the server's flight ---------------------------------------------------------------- */

static tls_error derive_and_install(tls_conn *c, const uint8_t *thash, const char *client_label,
                                    const char *server_label, uint8_t *client_secret_out,
                                    uint8_t *server_secret_out)
{
    tls13_server_hs *hs = &c->hs.v13;
    uint8_t server_secret[TLS_MAX_HASH_LEN];
    tls_error err = tls13_keysched_derive(&hs->ks, client_label, thash, client_secret_out);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&hs->ks, server_label, thash, server_secret);
    if (err == TLS_OK)
        err = tls__conn_set_write_secret(c, hs->suite, server_secret);
    if (err == TLS_OK && server_secret_out)
        memcpy(server_secret_out, server_secret, hs->ks.hash_len);
    tls__wipe(server_secret, sizeof server_secret);
    return err;
}

static tls_error send_server_hello(tls_conn *c, uint16_t group, tls_slice client_share)
{
    tls13_server_hs *hs = &c->hs.v13;
    uint8_t random[32], share[TLS_MAX_KX_PUBLIC_LEN], shared[TLS_MAX_KX_SECRET_LEN];
    uint8_t msg[512], thash[TLS_MAX_HASH_LEN];
    size_t share_len = 0, shared_len = 0;
    tls_kx *kx = NULL;
    tls_writer w;

    uint8_t hello_hash[TLS_MAX_HASH_LEN], early_secret[TLS_MAX_HASH_LEN];
    tls__transcript_current(&hs->transcript, hello_hash); /* for "c e traffic" */
    tls_error err = tls__random(random, sizeof random);
    if (err == TLS_OK)
        err = tls__kx_new(group, &kx);
    if (err == TLS_OK)
        err = tls__kx_public(kx, share, sizeof share, &share_len);
    if (err == TLS_OK)
        err =
            tls__kx_agree(kx, client_share.p, client_share.len, shared, sizeof shared, &shared_len);
    tls__kx_free(kx);
    if (err == TLS_OK) {
        tls_writer_init(&w, msg, sizeof msg);
        write_server_hello(&w, hs, random, group, share, share_len, false);
        err = tls_writer_ok(&w) ? TLS_OK : TLS_ERR_INTERNAL;
    }
    if (err == TLS_OK) {
        tls__transcript_add(&hs->transcript, msg, w.len);
        err = tls__conn_send_handshake(c, msg, w.len);
    }
    if (err == TLS_OK && hs->session_id_len && !hs->sent_ccs) {
        err = tls__conn_send_ccs(c);
        hs->sent_ccs = true;
    }
    if (err == TLS_OK)
        err = tls13_keysched_init(&hs->ks, hs->suite->hash, hs->psk_len ? hs->psk : NULL,
                                  hs->psk_len);
    tls__wipe(hs->psk, sizeof hs->psk);
    /* §7.1: client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic",
     * ClientHello); early data is read under it until EndOfEarlyData. */
    if (err == TLS_OK && c->early_data_accepted)
        err = tls13_keysched_derive(&hs->ks, "c e traffic", hello_hash, early_secret);
    if (err == TLS_OK)
        err = tls13_keysched_handshake(&hs->ks, shared, shared_len);
    tls__wipe(shared, sizeof shared);
    if (err == TLS_OK) {
        c->group = group;
        tls__transcript_current(&hs->transcript, thash);
        err = derive_and_install(c, thash, "c hs traffic", "s hs traffic", hs->client_hs_secret,
                                 hs->server_hs_secret);
    }
    if (err == TLS_OK)
        err = tls__conn_set_read_secret(
            c, hs->suite, c->early_data_accepted ? early_secret : hs->client_hs_secret);
    tls__wipe(early_secret, sizeof early_secret);
    return err;
}

/* Whether this handshake asks for a client certificate: full handshakes only. */
static bool asks_client_cert(const tls_conn *c)
{
    return c->cfg->client_auth != TLS_CLIENT_AUTH_NONE && !c->resumed;
}

/* EncryptedExtensions, [CertificateRequest], Certificate, CertificateVerify, Finished,
 * then the application traffic keys (§4.3–§4.4, §7.1). A resumed handshake (ck NULL)
 * is authenticated by the PSK: no Certificate, no CertificateVerify (§2.2). */

static tls_error send_server_flight(tls_conn *c, const tls_client_hello *ch,
                                    const tls_certified_key *ck)
{
    tls13_server_hs *hs = &c->hs.v13;
    size_t n = hs->ks.hash_len;
    uint8_t thash[TLS_MAX_HASH_LEN], mac[TLS_MAX_HASH_LEN];
    size_t flight_cap = FLIGHT_OVERHEAD, mark, ca_len = 0;
    uint8_t *ca_names = NULL;
    uint16_t schemes[TLS_SERVER_MAX_CLIENT_SCHEMES];
    size_t n_schemes = 0;
    tls_writer w;
    tls_error err;

    if (ck && asks_client_cert(c)) {
        TRY(tls__server_ca_names(c, &ca_names, &ca_len));
        n_schemes = tls__server_client_schemes(true, schemes);
        flight_cap += 64 + 2 * n_schemes + ca_len;
    }
    for (size_t i = 0; ck && i < ck->n_chain; i++)
        flight_cap += ck->chain_len[i] + 5; /* 24-bit length, empty extensions */
    tls_staple *ocsp = NULL, *scts = NULL;
    if (ck)
        tls__certified_key_staples(ck, (int64_t)time(NULL), ch->status_request_ocsp, ch->has_sct,
                                   &ocsp, &scts);
    flight_cap += (ocsp ? ocsp->len + 8 : 0) + (scts ? scts->len + 4 : 0);
    uint8_t *flight = tls__alloc(flight_cap);
    if (!flight) {
        tls__free(ca_names, ca_len);
        tls__staple_unref(ocsp);
        tls__staple_unref(scts);
        return TLS_ERR_NO_MEMORY;
    }
    tls_writer_init(&w, flight, flight_cap);
    write_encrypted_extensions(&w, c, ch->server_name[0] != '\0');
    if (n_schemes) /* §4.3.2: after EncryptedExtensions, before our Certificate */
        tls__certificate_request_write(&w, schemes, n_schemes, (tls_slice){ca_names, ca_len});
    tls__free(ca_names, ca_len);
    if (ck)
        write_certificate(&w, ck, ocsp, scts);
    tls__staple_unref(ocsp);
    tls__staple_unref(scts);
    if (!tls_writer_ok(&w)) {
        tls__free(flight, flight_cap);
        return TLS_ERR_INTERNAL;
    }
    tls__transcript_add(&hs->transcript, flight, w.len);
    tls__transcript_current(&hs->transcript, thash);
    mark = w.len;
    err = ck ? write_certificate_verify(&w, ck, c->sig_scheme, thash, n) : TLS_OK;
    if (err == TLS_OK) {
        tls__transcript_add(&hs->transcript, flight + mark, w.len - mark);
        tls__transcript_current(&hs->transcript, thash);
        err = tls13_finished_mac(hs->ks.hash, hs->server_hs_secret, thash, mac);
    }
    if (err == TLS_OK) {
        mark = w.len;
        tls__hs_begin(&w, TLS_HS_FINISHED);
        tls_write_bytes(&w, mac, n);
        tls__hs_end(&w);
        err = tls_writer_ok(&w) ? TLS_OK : TLS_ERR_INTERNAL;
    }
    if (err == TLS_OK) {
        tls__transcript_add(&hs->transcript, flight + mark, w.len - mark);
        err = tls__conn_send_handshake(c, flight, w.len);
    }
    tls__free(flight, flight_cap);
    TRY(err);

    /* The client's Finished covers everything up to and including ours. */
    tls__transcript_current(&hs->transcript, thash);
    TRY(tls13_finished_mac(hs->ks.hash, hs->client_hs_secret, thash, hs->expected_finished));
    tls__wipe(hs->server_hs_secret, sizeof hs->server_hs_secret);
    TRY(tls13_keysched_master(&hs->ks));
    err = derive_and_install(c, thash, "c ap traffic", "s ap traffic", hs->client_app_secret,
                             hs->server_app_secret);
    if (err == TLS_OK)
        err = tls__conn_set_exporter13(c, &hs->ks, thash);
    if (!hs->send_tickets)
        tls13_keysched_clear(&hs->ks); /* else kept for resumption_master_secret */
    return err;
}

/* ---- resumption --------------------------------------------------------------------- */

static bool psk_dhe_offered(const tls_client_hello *ch)
{
    for (size_t i = 0; ch->has_psk_modes && i < ch->psk_modes.len; i++)
        if (ch->psk_modes.p[i] == PSK_MODE_DHE_KE)
            return true;
    return false;
}

/* §4.2.11.2: HMAC(finished_key(Derive-Secret(Early Secret, "res binder", "")),
 * Transcript-Hash(what came before this hello || the hello up to its binders)). The
 * transcript holds nothing yet (first hello) or message_hash(CH1) || HRR. */
static tls_error compute_binder(const tls13_server_hs *hs, const uint8_t *psk, size_t psk_len,
                                const uint8_t *hello, size_t truncated_len, uint8_t *out)
{
    uint8_t thash[TLS_MAX_HASH_LEN], empty[TLS_MAX_HASH_LEN], binder_key[TLS_MAX_HASH_LEN];
    tls13_keysched early;
    tls_hash_ctx h;

    tls__hash_clone(&h, &hs->transcript.ctx);
    tls__hash_update(&h, hello, truncated_len);
    tls__hash_final(&h, thash);
    tls__hash(hs->ks.hash, NULL, 0, empty);
    tls_error err = tls13_keysched_init(&early, hs->ks.hash, psk, psk_len);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&early, "res binder", empty, binder_key);
    if (err == TLS_OK)
        err = tls13_finished_mac(hs->ks.hash, binder_key, thash, out);
    tls13_keysched_clear(&early);
    tls__wipe(binder_key, sizeof binder_key);
    return err;
}

/* The clock tickets are issued and aged by: the ticketer's, else the cache's. */
static int64_t ticket_clock(const tls_conn *c)
{
    return c->cfg->ticketer ? tls__ticketer_now(c->cfg->ticketer)
                            : tls__session_cache_now(c->cfg->session_cache);
}

/* The session an offered identity names: a sealed ticket, or (stateful) a key into
 * the session cache, looked at here and taken out only once everything about it
 * checked out (claim_identity), so a hello that cannot use it cannot destroy it. */
static bool open_identity(const tls_conn *c, const uint8_t *id, size_t len, tls_ticket_state *st)
{
    if (c->cfg->ticketer)
        return tls__ticketer_open(c->cfg->ticketer, id, len, st) == TLS_OK;
    return tls__session_cache_get(c->cfg->session_cache, id, len, st);
}

/* A stateful ticket is good once: the take that succeeds is the one use (two
 * connections racing with one ticket: one resumes, the other does a full handshake). */
static bool claim_identity(const tls_conn *c, const uint8_t *id, size_t len)
{
    tls_ticket_state st;
    if (c->cfg->ticketer)
        return true;
    bool taken = tls__session_cache_take(c->cfg->session_cache, id, len, &st);
    tls__wipe(&st, sizeof st);
    return taken;
}

/* The client's age of the ticket (obfuscated_ticket_age - ticket_age_add, §4.2.11.1)
 * against ours, and ours against the lifetime. */
static bool ticket_age_ok(const tls_conn *c, const tls_ticket_state *st, uint32_t obfuscated)
{
    /* Compared before subtracting: far-apart 64-bit times would overflow. A ticket
     * from the future (our clock stepped back) counts as age 0. */
    int64_t now = ticket_clock(c);
    int64_t ours = now > st->issued ? (int64_t)((uint64_t)now - (uint64_t)st->issued) : 0;
    int64_t theirs_ms = (int64_t)(uint32_t)(obfuscated - st->age_add);
    if (ours < 0 || ours >= (int64_t)st->lifetime || now < st->origin ||
        (uint64_t)now - (uint64_t)st->origin >= TLS_SESSION_MAX_AGE_S) /* §4.6.1: 7 days */
        return false;
    int64_t diff = theirs_ms - ours * 1000;
    return diff >= -TICKET_AGE_TOLERANCE_MS && diff <= TICKET_AGE_TOLERANCE_MS;
}

/* §4.2.10: what the ticket itself must allow for 0-RTT; the ALPN check and the
 * single-use claim come once the ALPN is chosen (accept_early_data). */
static void note_early_candidate(tls_conn *c, const tls_client_hello *ch,
                                 const tls_ticket_state *st, const uint8_t *ticket,
                                 size_t ticket_len, uint16_t index)
{
    tls13_server_hs *hs = &c->hs.v13;
    /* The client may send what the ticket announced: a config that now allows less
     * (lowered on reload, or another config sharing the ticketer) refuses 0-RTT
     * rather than fail a client that kept to the ticket's word. */
    if (!ch->has_early_data || c->did_hrr || index != 0 || !st->max_early_data ||
        st->max_early_data > c->cfg->max_early_data_size || st->suite != hs->suite->id)
        return;
    hs->early_candidate = true;
    hs->early_max = st->max_early_data;
    memcpy(hs->early_alpn, st->alpn, sizeof hs->early_alpn);
    hs->early_single_use = !c->cfg->ticketer;
    tls__hash(TLS_HASH_SHA256, ticket, ticket_len, hs->early_fingerprint);
    hs->early_until = st->issued + (int64_t)st->lifetime;
}

static void accept_early_data(tls_conn *c)
{
    tls13_server_hs *hs = &c->hs.v13;
    if (!hs->early_candidate || memcmp(hs->early_alpn, c->alpn, (size_t)c->alpn[0] + 1) != 0 ||
        (!hs->early_single_use &&
         !tls__ticketer_claim_early(c->cfg->ticketer, hs->early_fingerprint, hs->early_until)))
        return;
    c->early_data_accepted = true;
    c->early_data_left = hs->early_max;
}

/* Picks the PSK to resume with (hs->psk, hs->psk_identity, c->resumed), or none. Must
 * run before `hello` (the whole message) joins the transcript. Errors: TLS_ERR_BAD_FINISHED
 * (decrypt_error: a binder that does not verify for a ticket we accepted). */
static tls_error choose_psk(tls_conn *c, const tls_client_hello *ch, const uint8_t *hello)
{
    tls13_server_hs *hs = &c->hs.v13;
    uint8_t binder[TLS_MAX_HASH_LEN];
    tls_reader ids, binders, id, offered;
    tls_ticket_state st;
    uint32_t obfuscated;
    tls_error err = TLS_OK;

    const tls_certified_key *ck;
    if ((!c->cfg->ticketer && !c->cfg->session_cache) || !ch->has_psk || !psk_dhe_offered(ch))
        return TLS_OK;
    /* A session resumes only where a full handshake for its name would succeed: the
     * resolver (or sni_strict) may refuse the name on this config, though another
     * config sharing the ticketer issued the ticket. */
    if (tls__server_resolve_cert(c, ch, cert_usable, &ck) != TLS_OK)
        return TLS_OK;
    tls_reader_init(&ids, ch->psk_identities.p, ch->psk_identities.len);
    tls_reader_init(&binders, ch->psk_binders.p, ch->psk_binders.len);
    for (uint16_t i = 0; i < MAX_PSK_IDENTITIES && tls_reader_left(&ids); i++) {
        /* The parser checked both lists and that they pair up. */
        ENSURE(tls_read_vec16(&ids, 1, 0xffff, &id) && tls_read_u32(&ids, &obfuscated) &&
                   tls_read_vec8(&binders, 32, 255, &offered),
               TLS_ERR_INTERNAL);
        if (!open_identity(c, id.p, tls_reader_left(&id), &st))
            continue;
        const tls_suite *ts = tls__suite_find(st.suite);
        /* §4.2.11: the PSK's hash must be the suite's; §4.6.1 and RFC 6066 §3: a
         * session belongs to the name it was made for. */
        bool fits = st.version == TLS_VERSION_1_3 && ts && ts->version == TLS_VERSION_1_3 &&
                    ts->hash == hs->suite->hash && st.psk_len == hs->ks.hash_len &&
                    !strcmp(st.sni, ch->server_name) && ticket_age_ok(c, &st, obfuscated);
        /* The session's client must still be one this config accepts. */
        if (fits)
            err = tls__server_session_identity_ok(c, &st, &fits);
        if (err != TLS_OK) {
            tls__wipe(&st, sizeof st);
            return err;
        }
        if (fits) {
            err = compute_binder(hs, st.psk, st.psk_len, hello, 4 + ch->psk_binders_offset, binder);
            if (err == TLS_OK && (tls_reader_left(&offered) != hs->ks.hash_len ||
                                  !tls__ct_equal(offered.p, binder, hs->ks.hash_len)))
                err = TLS_ERR_BAD_FINISHED;
            if (err == TLS_OK && !claim_identity(c, id.p, tls_reader_left(&id))) {
                tls__wipe(&st, sizeof st);
                return TLS_OK; /* another connection used it first: a full handshake */
            }
            if (err == TLS_OK)
                err = tls__server_restore_identity(c, &st);
            if (err == TLS_OK) {
                memcpy(hs->psk, st.psk, st.psk_len);
                hs->psk_len = st.psk_len;
                hs->psk_identity = i;
                hs->psk_origin = st.origin;
                c->resumed = true;
                note_early_candidate(c, ch, &st, id.p, tls_reader_left(&id), i);
            }
        }
        tls__wipe(&st, sizeof st);
        tls__wipe(binder, sizeof binder);
        if (fits)
            return err;
    }
    return TLS_OK;
}

/* A stateless ticket from the ticketer, or a stateful one: 32 random bytes naming
 * the session in the cache. */
static tls_error seal_ticket(tls_conn *c, tls_ticket_state *st, uint8_t *out, size_t cap,
                             size_t *len)
{
    if (c->cfg->ticketer)
        return tls__ticketer_seal(c->cfg->ticketer, st, out, cap, len);
    ENSURE(cap >= TLS_SESSION_ID_MAX, TLS_ERR_INTERNAL);
    TRY(tls__random(out, TLS_SESSION_ID_MAX));
    *len = TLS_SESSION_ID_MAX;
    return tls__session_cache_put(c->cfg->session_cache, out, TLS_SESSION_ID_MAX, st);
}

/* §4.6.1: n_tickets NewSessionTickets, each with its own nonce and PSK
 * HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length).
 * The transcript runs through the client's Finished. */
static tls_error send_new_session_tickets(tls_conn *c)
{
    tls13_server_hs *hs = &c->hs.v13;
    size_t n = hs->ks.hash_len;
    uint8_t thash[TLS_MAX_HASH_LEN], res_master[TLS_MAX_HASH_LEN];
    uint8_t ticket[TLS_TICKET_MAX_LEN], msg[TLS_TICKET_MAX_LEN + 32];
    tls_ticket_state st;
    size_t ticket_len = 0;
    tls_writer w;

    tls__transcript_current(&hs->transcript, thash);
    tls_error err = tls13_keysched_derive(&hs->ks, "res master", thash, res_master);
    for (unsigned i = 0; err == TLS_OK && i < c->cfg->n_tickets; i++) {
        uint8_t nonce = (uint8_t)i, age_add[4];
        memset(&st, 0, offsetof(tls_ticket_state, client_chain));
        /* A client whose certificate does not fit in a ticket gets none: a session
         * must carry its client's identity (resumption re-verifies it). */
        if (!tls__server_save_identity(c, &st))
            break;
        st.version = TLS_VERSION_1_3;
        st.origin = hs->psk_origin; /* a resumed session keeps its age (0: new) */
        st.suite = hs->suite->id;
        st.psk_len = n;
        st.lifetime = c->cfg->ticket_lifetime_s;
        memcpy(st.sni, c->server_name, sizeof st.sni);
        st.sni[sizeof st.sni - 1] = '\0';
        memcpy(st.alpn, c->alpn, sizeof st.alpn);
        err = tls13_hkdf_expand_label(hs->ks.hash, res_master, "resumption", &nonce, 1, st.psk, n);
        if (err == TLS_OK)
            err = tls__random(age_add, sizeof age_add);
        if (err == TLS_OK) {
            st.age_add = (uint32_t)age_add[0] << 24 | (uint32_t)age_add[1] << 16 |
                         (uint32_t)age_add[2] << 8 | age_add[3];
            st.max_early_data = c->cfg->max_early_data_size;
            err = seal_ticket(c, &st, ticket, sizeof ticket, &ticket_len);
        }
        if (err == TLS_OK) {
            tls_writer_init(&w, msg, sizeof msg);
            tls__hs_begin(&w, TLS_HS_NEW_SESSION_TICKET);
            tls_write_u32(&w, st.lifetime);
            tls_write_u32(&w, st.age_add);
            tls_write_vec8(&w, &nonce, 1);
            tls_write_vec16(&w, ticket, ticket_len);
            tls_write_vec16_begin(&w);
            if (st.max_early_data) { /* §4.2.10: max_early_data_size */
                tls_write_u16(&w, TLS_EXT_EARLY_DATA);
                tls_write_u16(&w, 4);
                tls_write_u32(&w, st.max_early_data);
            }
            tls_writer_end(&w);
            tls__hs_end(&w);
            err = tls_writer_ok(&w) ? TLS_OK : TLS_ERR_INTERNAL;
        }
        if (err == TLS_OK)
            err = tls__conn_send_handshake(c, msg, w.len);
        tls__wipe(&st, sizeof st);
    }
    tls__wipe(res_master, sizeof res_master);
    return err;
}

/* Everything after the group is settled: shared by both ClientHello states. */
static tls_error complete_hello(tls_conn *c, const tls_client_hello *ch, uint16_t group,
                                tls_slice share)
{
    const tls_certified_key *ck = NULL;
    c->hs.v13.send_tickets =
        (c->cfg->ticketer || c->cfg->session_cache) && c->cfg->n_tickets && psk_dhe_offered(ch);
    if (!c->resumed) {
        TRY(tls__server_resolve_cert(c, ch, cert_usable, &ck));
        TRY(choose_sig_scheme(ck, ch, &c->sig_scheme));
    }
    TRY(tls__server_choose_alpn(c, ch));
    accept_early_data(c);
    TRY(send_server_hello(c, group, share));
    TRY(send_server_flight(c, ch, ck));
    if (c->early_data_accepted) {
        set_state(c, HS13_EXPECT_END_OF_EARLY_DATA);
        return TLS_OK;
    }
    /* A client whose 0-RTT we refuse sends it under keys we never derive: skip it. */
    c->skip_undecryptable = ch->has_early_data && !c->did_hrr;
    set_state(c, asks_client_cert(c) ? HS13_EXPECT_CERTIFICATE : HS13_EXPECT_FINISHED);
    return TLS_OK;
}

/* ---- state handlers ----------------------------------------------------------------------- */

static tls_error hs_expect_client_hello(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_server_hs *hs = &c->hs.v13;
    tls_client_hello ch;
    uint16_t group = 0;
    tls_slice share = {NULL, 0};
    bool have_share;

    uint16_t version;

    TRY(tls__client_hello_parse(msg + 4, len - 4, &ch));
    memcpy(c->server_name, ch.server_name, sizeof c->server_name); /* logged even if refused */
    TRY(choose_version(c, &ch, &version));
    if (version == TLS_VERSION_1_2)
        return tls__hs12_server_start(c, &ch, msg, len);
    TRY(check_tls13_hello(&ch));
    TRY(choose_suite(c, &ch, &hs->suite));
    c->suite = hs->suite;
    TRY(choose_group(c, &ch, &group, &share, &have_share));
    c->version = TLS_VERSION_1_3;
    memcpy(hs->session_id, ch.session_id.p, ch.session_id.len);
    hs->session_id_len = ch.session_id.len;
    hs->ks.hash = hs->suite->hash;
    hs->ks.hash_len = tls__hash_len(hs->suite->hash);
    tls__transcript_start(&hs->transcript, hs->suite->hash);
    if (have_share) /* after a HelloRetryRequest, the second hello's PSKs count */
        TRY(choose_psk(c, &ch, msg));
    tls__transcript_add(&hs->transcript, msg, len);
    if (!have_share) {
        c->skip_app_records = ch.has_early_data;
        c->skip_budget = ch.has_early_data ? TLS_EARLY_DATA_SKIP_BUDGET : 0;
        return send_hello_retry_request(c, group);
    }
    c->skip_budget = ch.has_early_data ? TLS_EARLY_DATA_SKIP_BUDGET : 0;
    return complete_hello(c, &ch, group, share);
}

static tls_error hs_expect_client_hello_after_hrr(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_server_hs *hs = &c->hs.v13;
    tls_client_hello ch;
    tls_slice share;

    c->skip_app_records = false;
    TRY(tls__client_hello_parse(msg + 4, len - 4, &ch));
    ENSURE(ch.has_supported_versions && tls__u16_list_has(ch.supported_versions, TLS_VERSION_1_3),
           TLS_ERR_HRR_UNACCEPTABLE);
    TRY(check_tls13_hello(&ch));
    /* §4.1.2: the second hello answers ours; it may not change what we settled. */
    ENSURE(ch.session_id.len == hs->session_id_len &&
               !memcmp(ch.session_id.p, hs->session_id, hs->session_id_len),
           TLS_ERR_HRR_UNACCEPTABLE);
    ENSURE(tls__u16_list_has(ch.cipher_suites, hs->suite->id), TLS_ERR_HRR_UNACCEPTABLE);
    ENSURE(!ch.has_early_data, TLS_ERR_HRR_UNACCEPTABLE);
    ENSURE(ch.has_cookie && ch.cookie.len == sizeof hs->cookie &&
               tls__ct_equal(ch.cookie.p, hs->cookie, sizeof hs->cookie),
           TLS_ERR_BAD_COOKIE);
    /* §4.2.8: exactly one share, for the group we asked for. */
    ENSURE(tls__client_hello_key_share(&ch, hs->hrr_group, &share) &&
               ch.key_shares.len == 4 + share.len,
           TLS_ERR_HRR_UNACCEPTABLE);
    TRY(choose_psk(c, &ch, msg));
    tls__transcript_add(&hs->transcript, msg, len);
    return complete_hello(c, &ch, hs->hrr_group, share);
}

/* §4.5: the end of accepted early data, under the early keys; the client's Finished
 * then covers it, and its handshake keys take over. */
static tls_error hs_expect_end_of_early_data(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_server_hs *hs = &c->hs.v13;
    uint8_t thash[TLS_MAX_HASH_LEN];

    ENSURE(len == 4, TLS_ERR_DECODE);
    tls__transcript_add(&hs->transcript, msg, len);
    tls__transcript_current(&hs->transcript, thash);
    TRY(tls13_finished_mac(hs->ks.hash, hs->client_hs_secret, thash, hs->expected_finished));
    TRY(tls__conn_set_read_secret(c, hs->suite, hs->client_hs_secret));
    set_state(c, HS13_EXPECT_FINISHED);
    return TLS_OK;
}

/* The client's Finished covers its authentication messages too (§4.4.4). */
static tls_error expect_client_finished(tls_conn *c)
{
    tls13_server_hs *hs = &c->hs.v13;
    uint8_t thash[TLS_MAX_HASH_LEN];

    tls__transcript_current(&hs->transcript, thash);
    TRY(tls13_finished_mac(hs->ks.hash, hs->client_hs_secret, thash, hs->expected_finished));
    set_state(c, HS13_EXPECT_FINISHED);
    return TLS_OK;
}

/* §4.4.2: the client's Certificate, answering our CertificateRequest. */
static tls_error hs_expect_certificate(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_server_hs *hs = &c->hs.v13;
    tls_certificate_msg cert;

    TRY(tls__certificate_parse(msg + 4, len - 4, true, &cert));
    /* §4.4.2: the context of the request it answers, ours being empty. */
    ENSURE(cert.context.len == 0, TLS_ERR_ILLEGAL_PARAMETER);
    if (cert.n_certs == 0) {
        /* §4.4.2.4: a server that requires one MAY abort with certificate_required. */
        ENSURE(c->cfg->client_auth == TLS_CLIENT_AUTH_OPTIONAL, TLS_ERR_CERTIFICATE_REQUIRED);
        tls__transcript_add(&hs->transcript, msg, len);
        return expect_client_finished(c);
    }
    TRY(tls__server_verify_client_chain(c, &cert));
    tls__transcript_add(&hs->transcript, msg, len);
    set_state(c, HS13_EXPECT_CERTIFICATE_VERIFY);
    return TLS_OK;
}

/* §4.4.3: the client's signature over the transcript through its Certificate. */
static tls_error hs_expect_certificate_verify(tls_conn *c, const uint8_t *msg, size_t len)
{
    static const char context[] = "TLS 1.3, client CertificateVerify";
    tls13_server_hs *hs = &c->hs.v13;
    uint8_t content[64 + sizeof context + TLS_MAX_HASH_LEN];
    tls_certificate_verify_msg cv;

    TRY(tls__certificate_verify_parse(msg + 4, len - 4, &cv));
    memset(content, 0x20, 64);
    memcpy(content + 64, context, sizeof context); /* includes the zero byte */
    tls__transcript_current(&hs->transcript, content + 64 + sizeof context);
    TRY(tls__server_verify_client_signature(c, true, cv.scheme, content,
                                            64 + sizeof context + hs->ks.hash_len, cv.signature));
    tls__transcript_add(&hs->transcript, msg, len);
    return expect_client_finished(c);
}

static tls_error hs_expect_finished(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_server_hs *hs = &c->hs.v13;
    size_t n = hs->ks.hash_len;

    ENSURE(len - 4 == n, TLS_ERR_DECODE);
    ENSURE(tls__ct_equal(msg + 4, hs->expected_finished, n), TLS_ERR_BAD_FINISHED);
    tls__transcript_add(&hs->transcript, msg, len);
    TRY(tls__conn_set_read_secret(c, hs->suite, hs->client_app_secret));
    tls__wipe(hs->client_hs_secret, sizeof hs->client_hs_secret);
    tls__wipe(hs->expected_finished, sizeof hs->expected_finished);
    if (hs->send_tickets)
        TRY(send_new_session_tickets(c));
    tls13_keysched_clear(&hs->ks);
    c->skip_undecryptable = false;
    set_state(c, HS13_CONNECTED);
    return tls__conn_handshake_complete(c);
}

tls_error tls__hs13_send_key_update(tls_conn *c, bool update_requested)
{
    tls13_server_hs *hs = &c->hs.v13;
    uint8_t msg[5] = {TLS_HS_KEY_UPDATE, 0, 0, 1, update_requested ? 1 : 0};

    TRY(tls__conn_send_handshake(c, msg, sizeof msg));
    TRY(tls13_next_traffic_secret(hs->suite->hash, hs->server_app_secret));
    return tls__conn_set_write_secret(c, hs->suite, hs->server_app_secret);
}

static tls_error hs_connected_key_update(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_server_hs *hs = &c->hs.v13;

    ENSURE(len == 5, TLS_ERR_DECODE);
    /* §4.6.3: request_update is 0 or 1; anything else is illegal_parameter. */
    ENSURE(msg[4] <= 1, TLS_ERR_BAD_KEY_UPDATE);
    ENSURE(++c->key_updates_in_row <= c->limits->key_updates, TLS_ERR_TOO_MANY_KEY_UPDATES);
    TRY(tls13_next_traffic_secret(hs->suite->hash, hs->client_app_secret));
    TRY(tls__conn_set_read_secret(c, hs->suite, hs->client_app_secret));
    if (msg[4] == 1 && !c->close_sent)
        return tls__hs13_send_key_update(c, false);
    return TLS_OK;
}

tls_error tls__hs13_server_handle(tls_conn *c, const uint8_t *msg, size_t len)
{
    uint8_t type = msg[0];
    switch (c->hs.v13.state) {
    case HS13_EXPECT_CLIENT_HELLO:
        ENSURE(type == TLS_HS_CLIENT_HELLO, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_client_hello(c, msg, len);
    case HS13_EXPECT_CLIENT_HELLO_AFTER_HRR:
        ENSURE(type == TLS_HS_CLIENT_HELLO, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_client_hello_after_hrr(c, msg, len);
    case HS13_EXPECT_END_OF_EARLY_DATA:
        ENSURE(type == TLS_HS_END_OF_EARLY_DATA, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_end_of_early_data(c, msg, len);
    case HS13_EXPECT_CERTIFICATE:
        ENSURE(type == TLS_HS_CERTIFICATE, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_certificate(c, msg, len);
    case HS13_EXPECT_CERTIFICATE_VERIFY:
        ENSURE(type == TLS_HS_CERTIFICATE_VERIFY, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_certificate_verify(c, msg, len);
    case HS13_EXPECT_FINISHED:
        ENSURE(type == TLS_HS_FINISHED, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_finished(c, msg, len);
    case HS13_CONNECTED:
        ENSURE(type == TLS_HS_KEY_UPDATE, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_connected_key_update(c, msg, len);
    default:
        return TLS_ERR_INTERNAL;
    }
}

void tls__hs13_server_clear(tls13_server_hs *hs)
{
    tls__transcript_clear(&hs->transcript);
    tls13_keysched_clear(&hs->ks);
    tls__wipe(hs, sizeof *hs);
}
