/*
 * tls12_server.c — the TLS 1.2 server handshake, rustls's safe subset (RFC 5246,
 * RFC 8422, RFC 7627, RFC 5746, RFC 7905): ECDHE key exchange with AEAD suites only,
 * resumption by session ID (the config's session cache) and by RFC 5077 ticket (the
 * config's ticketer), renegotiation refused.
 *
 * One handler per state (hs12_expect_*), one dispatch point, one place where the
 * state changes (set_state). The client's ChangeCipherSpec arrives as a record and
 * enters through tls__hs12_server_ccs.
 *
 * Implementation notes:
 * - The suite is chosen after the certificate (SNI), since an ECDHE_ECDSA suite
 *   needs an ECDSA key and an ECDHE_RSA suite an RSA key.
 * - When TLS 1.3 is enabled too, ServerHello.random ends with the RFC 8446 §4.1.3
 *   downgrade sentinel, so a 1.3 client pushed down to 1.2 notices.
 * - The extended master secret is used whenever the client offers it; the session
 *   hash is the transcript through ClientKeyExchange (RFC 7627 §3).
 * - Only sessions with an extended master secret are ever stored (a session without
 *   one is open to the triple handshake attack), so RFC 7627 §5.3 reduces to: a
 *   client resuming one of our sessions without offering EMS is refused.
 * - A session resumes only for the same SNI (RFC 6066 §3), with a suite the client
 *   offers and we still enable; anything else about it not fitting means a full
 *   handshake. A ticket wins over a session id; a full handshake issues a ticket when
 *   the client asked for one, else a cache entry when a cache is configured.
 * - Client authentication (RFC 5246 §7.4.4, §7.4.6, §7.4.8): on a full handshake with
 *   a config that asks, a CertificateRequest precedes ServerHelloDone; the client's
 *   flight is then Certificate, ClientKeyExchange, CertificateVerify (unless the
 *   Certificate was empty), ChangeCipherSpec, Finished. CertificateVerify signs the raw
 *   handshake messages with a hash of the client's choosing, so they are kept
 *   (hs->msgs) until it arrives. A session keeps its client's chain (ticket.h); a
 *   resumption re-verifies it, and never asks again (RFC 5246 §7.3).
 */
#include <stddef.h>
#include <string.h>
#include <time.h>

#include "../conn.h"
#include "../session_cache.h"
#include "../ticket.h"
#include "hs.h"

/* RFC 8446 §4.1.3: the last 8 bytes of ServerHello.random when 1.3 could have been. */
static const uint8_t downgrade_sentinel[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};

enum {
    TLS_HS_SERVER_KEY_EXCHANGE = 12,
    TLS_HS_SERVER_HELLO_DONE = 14,
    TLS_HS_CLIENT_KEY_EXCHANGE = 16
};

static void set_state(tls_conn *c, tls12_server_state next)
{
    c->hs.v12.state = next;
}

/* Whether this (full) handshake asks for a client certificate. */
static bool asks_client_cert(const tls_conn *c)
{
    return c->cfg->client_auth != TLS_CLIENT_AUTH_NONE && !c->resumed;
}

/* ---- negotiation ------------------------------------------------------------------------- */

/* RFC 8422 §5.1: an ECDHE_ECDSA suite only if the client supports our key's curve.
 * An EdDSA key has no curve in supported_groups: the client says it takes one with
 * ed25519 in signature_algorithms (§5.1.3), which choose_sig_scheme checks. */
static bool client_takes_key(const tls_client_hello *ch, tls_key_type key)
{
    if (key == TLS_KEY_RSA || key == TLS_KEY_ED25519 || !ch->has_groups)
        return true;
    return tls__u16_list_has(ch->groups,
                             key == TLS_KEY_ECDSA_P256 ? TLS_GROUP_SECP256R1 : TLS_GROUP_SECP384R1);
}

static tls_error choose_suite(const tls_conn *c, const tls_client_hello *ch, tls_key_type key,
                              const tls_suite **out)
{
    /* RFC 8422 §2: ECDHE_ECDSA suites carry EdDSA certificates too. */
    tls_suite_auth auth = key == TLS_KEY_RSA ? TLS_AUTH_RSA : TLS_AUTH_ECDSA;
    ENSURE(client_takes_key(ch, key), TLS_ERR_NO_CIPHER_SUITES_IN_COMMON);
    for (size_t i = 0; i < c->cfg->n_suites; i++) {
        const tls_suite *s = tls__suite_find(c->cfg->suites[i]);
        if (s->version == TLS_VERSION_1_2 && s->auth == auth &&
            tls__u16_list_has(ch->cipher_suites, s->id)) {
            *out = s;
            return TLS_OK;
        }
    }
    return TLS_ERR_NO_CIPHER_SUITES_IN_COMMON;
}

/* RFC 8422 §4: without supported_groups the client accepts any curve we pick. */
static tls_error choose_group(const tls_conn *c, const tls_client_hello *ch, uint16_t *out)
{
    for (size_t i = 0; i < c->cfg->n_groups; i++) {
        if (!ch->has_groups || tls__u16_list_has(ch->groups, c->cfg->groups[i])) {
            *out = c->cfg->groups[i];
            return TLS_OK;
        }
    }
    return TLS_ERR_NO_KX_GROUPS_IN_COMMON;
}

/* The schemes we sign ServerKeyExchange with, by key type, in our preference order. */
static tls_error choose_sig_scheme(const tls_certified_key *ck, const tls_client_hello *ch,
                                   uint16_t *out)
{
    /* Without signature_algorithms a 1.2 client means SHA-1 (RFC 5246 §7.4.1.4.1),
     * which we never sign with. */
    *out = ch->has_sig_algs ? tls__sig_scheme_for_key(ck, ch->sig_algs, TLS_VERSION_1_2) : 0;
    return *out ? TLS_OK : TLS_ERR_NO_SIG_SCHEMES_IN_COMMON;
}

/* What a TLS 1.2 ClientHello must satisfy before we answer it. */
static tls_error check_tls12_hello(const tls_conn *c, const tls_client_hello *ch)
{
    ENSURE(ch->null_compression_offered, TLS_ERR_NULL_COMPRESSION_REQUIRED);
    /* RFC 5746 §3.6: on an initial handshake the extension must be empty. */
    ENSURE(!ch->has_renegotiation_info || ch->renegotiation_info.len == 0,
           TLS_ERR_BAD_RENEGOTIATION_INFO);
    /* RFC 8422 §5.1.2: we only speak uncompressed points. */
    ENSURE(!ch->has_ec_point_formats ||
               memchr(ch->ec_point_formats.p, 0, ch->ec_point_formats.len) != NULL,
           TLS_ERR_UNCOMPRESSED_POINTS_REQUIRED);
    ENSURE(ch->has_extended_master_secret || !c->cfg->require_ems, TLS_ERR_EMS_REQUIRED);
    return TLS_OK;
}

static bool cert_usable(const tls_conn *c, const tls_client_hello *ch, const tls_certified_key *ck)
{
    const tls_suite *suite;
    uint16_t scheme;
    return choose_suite(c, ch, ck->key_type, &suite) == TLS_OK &&
           choose_sig_scheme(ck, ch, &scheme) == TLS_OK;
}

/* ---- the server's flight ------------------------------------------------------------------- */

static void write_server_hello(tls_writer *w, const tls_conn *c, const tls_client_hello *ch,
                               const uint8_t *random, const tls_staple *ocsp,
                               const tls_staple *scts)
{
    const tls12_server_hs *hs = &c->hs.v12;
    tls__hs_begin(w, TLS_HS_SERVER_HELLO);
    tls_write_u16(w, TLS_VERSION_1_2);
    tls_write_bytes(w, random, 32);
    tls_write_vec8(w, hs->session_id, hs->session_id_len);
    tls_write_u16(w, c->suite->id);
    tls_write_u8(w, 0); /* null compression */
    tls_write_vec16_begin(w);
    if (ch->has_renegotiation_info ||
        tls__u16_list_has(ch->cipher_suites, TLS_EMPTY_RENEGOTIATION_INFO_SCSV)) {
        tls_write_u16(w, TLS_EXT_RENEGOTIATION_INFO);
        tls_write_u16(w, 1);
        tls_write_u8(w, 0); /* empty renegotiated_connection */
    }
    if (c->ems) {
        tls_write_u16(w, TLS_EXT_EXTENDED_MASTER_SECRET);
        tls_write_u16(w, 0);
    }
    if (hs->send_ticket) { /* RFC 5077 §3.2: empty, announcing NewSessionTicket */
        tls_write_u16(w, TLS_EXT_SESSION_TICKET);
        tls_write_u16(w, 0);
    }
    if (ch->server_name[0] && !c->resumed) { /* RFC 6066 §3: not when resuming */
        tls_write_u16(w, TLS_EXT_SERVER_NAME);
        tls_write_u16(w, 0);
    }
    if (ch->has_ec_point_formats) {
        tls_write_u16(w, TLS_EXT_EC_POINT_FORMATS);
        tls_write_u16(w, 2);
        tls_write_u8(w, 1);
        tls_write_u8(w, 0); /* uncompressed */
    }
    if (c->alpn[0]) {
        tls_write_u16(w, TLS_EXT_ALPN);
        tls_write_vec16_begin(w);
        tls_write_vec16(w, c->alpn, (size_t)c->alpn[0] + 1);
        tls_writer_end(w);
    }
    if (ocsp) { /* RFC 6066 §8: empty, announcing CertificateStatus */
        tls_write_u16(w, TLS_EXT_STATUS_REQUEST);
        tls_write_u16(w, 0);
    }
    if (scts) { /* RFC 6962 §3.3 */
        tls_write_u16(w, TLS_EXT_SCT);
        tls_write_vec16(w, scts->data, scts->len);
    }
    tls_writer_end(w);
    tls__hs_end(w);
}

/* RFC 6066 §8: CertificateStatus { ocsp(1), OCSPResponse<1..2^24-1> }, after Certificate. */
static void write_certificate_status(tls_writer *w, const tls_staple *ocsp)
{
    tls__hs_begin(w, TLS_HS_CERTIFICATE_STATUS);
    tls_write_u8(w, 1);
    tls_write_vec24_begin(w);
    tls_write_bytes(w, ocsp->data, ocsp->len);
    tls_writer_end(w);
    tls__hs_end(w);
}

static void write_certificate(tls_writer *w, const tls_certified_key *ck)
{
    tls__hs_begin(w, TLS_HS_CERTIFICATE);
    tls_write_vec24_begin(w);
    for (size_t i = 0; i < ck->n_chain; i++) {
        tls_write_vec24_begin(w);
        tls_write_bytes(w, ck->chain[i], ck->chain_len[i]);
        tls_writer_end(w);
    }
    tls_writer_end(w);
    tls__hs_end(w);
}

/* RFC 8422 §5.4: named-curve parameters and our share, signed over both randoms. */
static tls_error write_server_key_exchange(tls_writer *w, tls_conn *c, const tls_certified_key *ck)
{
    tls12_server_hs *hs = &c->hs.v12;
    uint8_t params[4 + TLS_MAX_KX_PUBLIC_LEN], signed_data[64 + sizeof params];
    uint8_t sig[TLS_MAX_SIGNATURE_LEN];
    size_t share_len, sig_len;

    TRY(tls__kx_new(c->group, &hs->kx));
    TRY(tls__kx_public(hs->kx, params + 4, TLS_MAX_KX_PUBLIC_LEN, &share_len));
    params[0] = 3; /* named_curve */
    params[1] = (uint8_t)(c->group >> 8);
    params[2] = (uint8_t)c->group;
    params[3] = (uint8_t)share_len;
    memcpy(signed_data, hs->client_random, 32);
    memcpy(signed_data + 32, hs->server_random, 32);
    memcpy(signed_data + 64, params, 4 + share_len);
    TRY(tls__sign(ck->key, c->sig_scheme, signed_data, 64 + 4 + share_len, sig, sizeof sig,
                  &sig_len));
    tls__hs_begin(w, TLS_HS_SERVER_KEY_EXCHANGE);
    tls_write_bytes(w, params, 4 + share_len);
    tls_write_u16(w, c->sig_scheme);
    tls_write_vec16(w, sig, sig_len);
    tls__hs_end(w);
    return TLS_OK;
}

static tls_error send_server_flight(tls_conn *c, const tls_client_hello *ch,
                                    const tls_certified_key *ck)
{
    tls12_server_hs *hs = &c->hs.v12;
    /* RFC 5246 §7.4.4 with RFC 8422 §5.5: rsa_sign, ecdsa_sign (Ed25519 keys too). */
    static const uint8_t cert_types[] = {1, 64};
    uint16_t schemes[TLS_SERVER_MAX_CLIENT_SCHEMES];
    size_t n_schemes = 0, ca_len = 0;
    uint8_t *ca_names = NULL;
    size_t cap = 1024 + TLS_MAX_SIGNATURE_LEN + TLS_MAX_KX_PUBLIC_LEN;
    if (asks_client_cert(c)) {
        TRY(tls__server_ca_names(c, &ca_names, &ca_len));
        n_schemes = tls__server_client_schemes(false, schemes);
        cap += 64 + 2 * n_schemes + ca_len;
    }
    for (size_t i = 0; i < ck->n_chain; i++)
        cap += ck->chain_len[i] + 3;
    /* Full handshakes only: a resumed one sends no Certificate (RFC 6066 §8). */
    tls_staple *ocsp = NULL, *scts = NULL;
    tls__certified_key_staples(ck, (int64_t)time(NULL), ch->status_request_ocsp, ch->has_sct, &ocsp,
                               &scts);
    cap += (ocsp ? ocsp->len + 12 : 0) + (scts ? scts->len + 4 : 0);
    uint8_t *flight = tls__alloc(cap);
    tls_writer w;
    if (!flight) {
        tls__free(ca_names, ca_len);
        tls__staple_unref(ocsp);
        tls__staple_unref(scts);
        return TLS_ERR_NO_MEMORY;
    }
    tls_writer_init(&w, flight, cap);
    write_server_hello(&w, c, ch, hs->server_random, ocsp, scts);
    write_certificate(&w, ck);
    if (ocsp)
        write_certificate_status(&w, ocsp);
    tls__staple_unref(ocsp);
    tls__staple_unref(scts);
    tls_error err = write_server_key_exchange(&w, c, ck);
    if (err == TLS_OK && n_schemes)
        tls__certificate_request12_write(&w, cert_types, sizeof cert_types, schemes, n_schemes,
                                         (tls_slice){ca_names, ca_len});
    tls__free(ca_names, ca_len);
    if (err == TLS_OK) {
        tls__hs_begin(&w, TLS_HS_SERVER_HELLO_DONE);
        tls__hs_end(&w);
        err = tls_writer_ok(&w) ? TLS_OK : TLS_ERR_INTERNAL;
    }
    if (err == TLS_OK && n_schemes)
        err = tls__msg_log_add(&hs->msgs, flight, w.len);
    if (err == TLS_OK) {
        tls__transcript_add(&hs->transcript, flight, w.len);
        err = tls__conn_send_handshake(c, flight, w.len);
    }
    tls__free(flight, cap);
    return err;
}

/* ---- resumption ------------------------------------------------------------------------ */

/* The session the client offers: its ticket when it sent one and we issue tickets,
 * else its session id in our cache. False: none that we know. */
static bool find_session(tls_conn *c, const tls_client_hello *ch, tls_ticket_state *st)
{
    if (ch->has_session_ticket && ch->session_ticket.len && c->cfg->ticketer &&
        tls__ticketer_open(c->cfg->ticketer, ch->session_ticket.p, ch->session_ticket.len, st) ==
            TLS_OK) {
        if (tls__ticket_state_live(st, tls__ticketer_now(c->cfg->ticketer)))
            return true;
        tls__wipe(st, sizeof *st);
    }
    return ch->session_id.len && c->cfg->session_cache &&
           tls__session_cache_get(c->cfg->session_cache, ch->session_id.p, ch->session_id.len, st);
}

/* Whether the offered session can be resumed by this ClientHello. */
static tls_error session_fits(tls_conn *c, const tls_client_hello *ch, const tls_ticket_state *st,
                              bool *fits)
{
    const tls_suite *s = tls__suite_find(st->suite);
    const tls_certified_key *ck;
    bool enabled = false;
    *fits = false;
    for (size_t i = 0; i < c->cfg->n_suites; i++)
        enabled |= c->cfg->suites[i] == st->suite;
    /* The resolver must still serve the name here (another config sharing the
     * ticketer may have issued the ticket, or the name left the config). */
    if (!enabled || st->version != TLS_VERSION_1_2 || !st->ems || !s ||
        s->version != TLS_VERSION_1_2 || st->psk_len != TLS12_MASTER_SECRET_LEN ||
        strcmp(st->sni, ch->server_name) != 0 || !tls__u16_list_has(ch->cipher_suites, st->suite) ||
        tls__server_resolve_cert(c, ch, cert_usable, &ck) != TLS_OK)
        return TLS_OK;
    /* RFC 7627 §5.3: the session had an extended master secret and this hello does
     * not offer one: abort rather than fall back, it is a downgrade attempt. */
    ENSURE(ch->has_extended_master_secret, TLS_ERR_RESUMPTION_EMS_MISMATCH);
    /* Its client must still be one this config accepts (roots, CRLs, mode). */
    return tls__server_session_identity_ok(c, st, fits);
}

/* The session this handshake made or resumed: master secret, suite, EMS, SNI, the
 * client's chain, and its age (origin 0 for a new one: sealing or storing it stamps
 * it). The caller wipes. False: the client's certificate does not fit in a session,
 * which is then not kept. */
static bool session_state(const tls_conn *c, tls_ticket_state *st)
{
    const tls12_server_hs *hs = &c->hs.v12;
    memset(st, 0, offsetof(tls_ticket_state, client_chain));
    st->version = TLS_VERSION_1_2;
    st->origin = hs->origin;
    st->suite = c->suite->id;
    memcpy(st->psk, hs->master, sizeof hs->master);
    st->psk_len = sizeof hs->master;
    st->ems = c->ems;
    st->lifetime = c->cfg->ticket_lifetime_s;
    memcpy(st->sni, c->server_name, sizeof st->sni);
    st->sni[sizeof st->sni - 1] = '\0';
    return tls__server_save_identity(c, st);
}

/* Seals the session into an RFC 5077 NewSessionTicket (an empty ticket, §3.3, when
 * the session cannot be kept). */
static tls_error write_new_session_ticket(tls_writer *w, tls_conn *c)
{
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    size_t ticket_len = 0;
    tls_ticket_state st;

    tls_error err = session_state(c, &st) ? tls__ticketer_seal(c->cfg->ticketer, &st, ticket,
                                                               sizeof ticket, &ticket_len)
                                          : TLS_OK;
    tls__wipe(&st, sizeof st);
    TRY(err);
    tls__hs_begin(w, TLS_HS_NEW_SESSION_TICKET);
    tls_write_u32(w, c->cfg->ticket_lifetime_s); /* ticket_lifetime_hint */
    tls_write_vec16(w, ticket, ticket_len);
    tls__hs_end(w);
    return TLS_OK;
}

/* What a full handshake leaves for later (decided before the ServerHello, which
 * announces it): a ticket if the client asked, else a cache entry. Never without EMS. */
static tls_error plan_session(tls_conn *c, const tls_client_hello *ch)
{
    tls12_server_hs *hs = &c->hs.v12;
    if (!c->ems)
        return TLS_OK;
    hs->send_ticket = ch->has_session_ticket && c->cfg->ticketer;
    if (!hs->send_ticket && c->cfg->session_cache) {
        hs->cache_session = true;
        hs->session_id_len = sizeof hs->session_id;
        TRY(tls__random(hs->session_id, sizeof hs->session_id));
    }
    return TLS_OK;
}

/* Keeps the full handshake's session: into the cache (the ticket went out before). */
static tls_error store_session(tls_conn *c)
{
    tls12_server_hs *hs = &c->hs.v12;
    tls_ticket_state st;
    if (!hs->cache_session)
        return TLS_OK;
    tls_error err =
        session_state(c, &st)
            ? tls__session_cache_put(c->cfg->session_cache, hs->session_id, hs->session_id_len, &st)
            : TLS_OK;
    tls__wipe(&st, sizeof st);
    return err;
}

static tls_error derive_key_block(tls12_server_hs *hs, const tls_suite *suite);
static uint8_t *server_key(tls12_server_hs *hs, const tls_suite *s);
static uint8_t *server_iv(tls12_server_hs *hs, const tls_suite *s);
static tls_error finished_data(tls12_server_hs *hs, const tls_suite *suite, const char *label,
                               uint8_t out[TLS12_VERIFY_DATA_LEN]);

/* RFC 5246 §7.3 abbreviated handshake: ServerHello, [NewSessionTicket], our CCS and
 * Finished; the client answers with its CCS and Finished. */
static tls_error resume(tls_conn *c, const tls_client_hello *ch, const uint8_t *msg, size_t len,
                        const tls_ticket_state *st)
{
    tls12_server_hs *hs = &c->hs.v12;
    uint8_t flight[512 + TLS_TICKET_MAX_LEN];
    uint8_t verify[TLS12_VERIFY_DATA_LEN + 4] = {TLS_HS_FINISHED, 0, 0, TLS12_VERIFY_DATA_LEN};
    tls_writer w;

    c->resumed = true;
    hs->origin = st->origin;
    TRY(tls__server_restore_identity(c, st));
    c->suite = tls__suite_find(st->suite);
    c->ems = true;
    memcpy(hs->master, st->psk, sizeof hs->master);
    /* RFC 5077 §3.4 / RFC 5246 §7.4.1.3: echo the client's session id. */
    memcpy(hs->session_id, ch->session_id.p, ch->session_id.len);
    hs->session_id_len = ch->session_id.len;
    /* A ticket is reissued under the current key, so a session outlives rotations
     * while it is in use. */
    hs->send_ticket = ch->has_session_ticket && c->cfg->ticketer;
    TRY(tls__server_choose_alpn(c, ch));
    tls__transcript_start(&hs->transcript, c->suite->hash);
    tls__transcript_add(&hs->transcript, msg, len);
    tls_writer_init(&w, flight, sizeof flight);
    write_server_hello(&w, c, ch, hs->server_random, NULL, NULL); /* no staples when resuming */
    tls_error err = hs->send_ticket ? write_new_session_ticket(&w, c) : TLS_OK;
    if (err == TLS_OK && !tls_writer_ok(&w))
        err = TLS_ERR_INTERNAL;
    if (err == TLS_OK) {
        tls__transcript_add(&hs->transcript, flight, w.len);
        err = tls__conn_send_handshake(c, flight, w.len);
    }
    TRY(err);
    TRY(derive_key_block(hs, c->suite));
    TRY(finished_data(hs, c->suite, "server finished", verify + 4));
    tls__transcript_add(&hs->transcript, verify, sizeof verify);
    TRY(tls__conn_send_ccs(c));
    TRY(tls__record_cipher_install12(&c->wr, c->suite, server_key(hs, c->suite),
                                     server_iv(hs, c->suite)));
    TRY(tls__conn_send_handshake(c, verify, sizeof verify));
    TRY(finished_data(hs, c->suite, "client finished", hs->expected_finished));
    set_state(c, HS12_EXPECT_RESUMED_CHANGE_CIPHER_SPEC);
    return TLS_OK;
}

tls_error tls__hs12_server_start(tls_conn *c, const tls_client_hello *ch, const uint8_t *msg,
                                 size_t len)
{
    tls12_server_hs *hs = &c->hs.v12;
    const tls_certified_key *ck;

    memset(hs, 0, sizeof *hs); /* the union held the 1.3 handshake's initial state */
    c->version = TLS_VERSION_1_2;
    TRY(check_tls12_hello(c, ch));
    memcpy(hs->client_random, ch->random, 32);
    TRY(tls__random(hs->server_random, 32));
    if (tls__config_has_version(c->cfg, TLS_VERSION_1_3))
        memcpy(hs->server_random + 24, downgrade_sentinel, sizeof downgrade_sentinel);
    {
        tls_ticket_state st;
        bool fits = false;
        tls_error err = TLS_OK;
        if (find_session(c, ch, &st))
            err = session_fits(c, ch, &st, &fits);
        if (err == TLS_OK && fits)
            err = resume(c, ch, msg, len, &st);
        tls__wipe(&st, sizeof st);
        if (err != TLS_OK || fits)
            return err;
    }
    TRY(tls__server_resolve_cert(c, ch, cert_usable, &ck));
    TRY(choose_suite(c, ch, ck->key_type, &c->suite));
    TRY(choose_group(c, ch, &c->group));
    TRY(choose_sig_scheme(ck, ch, &c->sig_scheme));
    TRY(tls__server_choose_alpn(c, ch));
    c->ems = ch->has_extended_master_secret;
    TRY(plan_session(c, ch));
    tls__transcript_start(&hs->transcript, c->suite->hash);
    tls__transcript_add(&hs->transcript, msg, len);
    if (asks_client_cert(c))
        TRY(tls__msg_log_add(&hs->msgs, msg, len));
    TRY(send_server_flight(c, ch, ck));
    set_state(c, asks_client_cert(c) ? HS12_EXPECT_CERTIFICATE : HS12_EXPECT_CLIENT_KEY_EXCHANGE);
    return TLS_OK;
}

/* ---- the client's flight --------------------------------------------------------------------- */

/* Key block layout (RFC 5246 §6.3, AEAD suites have no MAC keys). */
static uint8_t *client_key(tls12_server_hs *hs)
{
    return hs->key_block;
}

static uint8_t *server_key(tls12_server_hs *hs, const tls_suite *s)
{
    return hs->key_block + s->key_len;
}

static uint8_t *client_iv(tls12_server_hs *hs, const tls_suite *s)
{
    return hs->key_block + 2 * s->key_len;
}

static uint8_t *server_iv(tls12_server_hs *hs, const tls_suite *s)
{
    return hs->key_block + 2 * s->key_len + s->fixed_iv_len;
}

static tls_error finished_data(tls12_server_hs *hs, const tls_suite *suite, const char *label,
                               uint8_t out[TLS12_VERIFY_DATA_LEN])
{
    uint8_t thash[TLS_MAX_HASH_LEN];
    tls__transcript_current(&hs->transcript, thash);
    return tls12_prf(suite->hash, hs->master, sizeof hs->master, label, thash,
                     tls__hash_len(suite->hash), NULL, 0, out, TLS12_VERIFY_DATA_LEN);
}

/* key_block = PRF(master, "key expansion", server_random || client_random) */
static tls_error derive_key_block(tls12_server_hs *hs, const tls_suite *suite)
{
    return tls12_prf(suite->hash, hs->master, sizeof hs->master, "key expansion", hs->server_random,
                     32, hs->client_random, 32, hs->key_block,
                     2 * suite->key_len + 2 * suite->fixed_iv_len);
}

static tls_error hs12_expect_client_key_exchange(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_server_hs *hs = &c->hs.v12;
    const tls_suite *suite = c->suite;
    uint8_t pre_master[TLS_MAX_KX_SECRET_LEN], session_hash[TLS_MAX_HASH_LEN];
    size_t pre_master_len = 0;
    tls_reader r, point;

    tls_reader_init(&r, msg + 4, len - 4);
    ENSURE(tls_read_vec8(&r, 1, 255, &point) && tls_reader_done(&r), TLS_ERR_DECODE);
    tls_error err = tls__kx_agree(hs->kx, point.p, tls_reader_left(&point), pre_master,
                                  sizeof pre_master, &pre_master_len);
    tls__kx_free(hs->kx);
    hs->kx = NULL;
    TRY(err);
    tls__transcript_add(&hs->transcript, msg, len);
    tls__transcript_current(&hs->transcript, session_hash);
    err = tls12_master_secret(suite->hash, pre_master, pre_master_len, c->ems ? session_hash : NULL,
                              hs->client_random, hs->server_random, hs->master);
    tls__wipe(pre_master, sizeof pre_master);
    TRY(err);
    TRY(derive_key_block(hs, suite));
    if (c->peer) { /* a client certificate: its CertificateVerify signs up to here */
        TRY(tls__msg_log_add(&hs->msgs, msg, len));
        set_state(c, HS12_EXPECT_CERTIFICATE_VERIFY);
        return TLS_OK;
    }
    tls__msg_log_free(&hs->msgs);
    TRY(finished_data(hs, suite, "client finished", hs->expected_finished));
    set_state(c, HS12_EXPECT_CHANGE_CIPHER_SPEC);
    return TLS_OK;
}

/* RFC 5246 §7.4.6: the client's Certificate, answering our CertificateRequest. */
static tls_error hs12_expect_certificate(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_server_hs *hs = &c->hs.v12;
    tls_certificate_msg cert;

    TRY(tls__certificate_parse(msg + 4, len - 4, false, &cert));
    /* §7.4.6: a client with no suitable certificate sends an empty list; a server that
     * requires one MAY answer with a fatal handshake_failure. */
    if (cert.n_certs == 0)
        ENSURE(c->cfg->client_auth == TLS_CLIENT_AUTH_OPTIONAL, TLS_ERR_CERTIFICATE_REQUIRED12);
    else
        TRY(tls__server_verify_client_chain(c, &cert));
    TRY(tls__msg_log_add(&hs->msgs, msg, len));
    tls__transcript_add(&hs->transcript, msg, len);
    set_state(c, HS12_EXPECT_CLIENT_KEY_EXCHANGE);
    return TLS_OK;
}

/* RFC 5246 §7.4.8: a signature over every handshake message before this one. */
static tls_error hs12_expect_certificate_verify(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_server_hs *hs = &c->hs.v12;
    tls_certificate_verify_msg cv;

    TRY(tls__certificate_verify_parse(msg + 4, len - 4, &cv));
    TRY(tls__server_verify_client_signature(c, false, cv.scheme, hs->msgs.p, hs->msgs.len,
                                            cv.signature));
    tls__msg_log_free(&hs->msgs);
    tls__transcript_add(&hs->transcript, msg, len);
    TRY(finished_data(hs, c->suite, "client finished", hs->expected_finished));
    set_state(c, HS12_EXPECT_CHANGE_CIPHER_SPEC);
    return TLS_OK;
}

tls_error tls__hs12_server_ccs(tls_conn *c)
{
    tls12_server_hs *hs = &c->hs.v12;
    ENSURE(hs->state == HS12_EXPECT_CHANGE_CIPHER_SPEC ||
               hs->state == HS12_EXPECT_RESUMED_CHANGE_CIPHER_SPEC,
           TLS_ERR_UNEXPECTED_MESSAGE);
    TRY(tls__record_cipher_install12(&c->rd, c->suite, client_key(hs), client_iv(hs, c->suite)));
    set_state(c, hs->state == HS12_EXPECT_CHANGE_CIPHER_SPEC ? HS12_EXPECT_FINISHED
                                                             : HS12_EXPECT_RESUMED_FINISHED);
    return TLS_OK;
}

/* The handshake is over, full or abbreviated: keep what the exporters need, wipe
 * the rest. */
static tls_error finish(tls_conn *c)
{
    tls12_server_hs *hs = &c->hs.v12;
    tls__wipe(hs->key_block, sizeof hs->key_block);
    tls__wipe(hs->expected_finished, sizeof hs->expected_finished);
    tls__conn_set_exporter12(c, hs->master, hs->client_random, hs->server_random);
    tls__wipe(hs->master, sizeof hs->master); /* the exporter keeps its own copy */
    set_state(c, HS12_CONNECTED);
    return tls__conn_handshake_complete(c);
}

static tls_error hs12_expect_resumed_finished(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_server_hs *hs = &c->hs.v12;
    ENSURE(len == 4 + TLS12_VERIFY_DATA_LEN, TLS_ERR_DECODE);
    ENSURE(tls__ct_equal(msg + 4, hs->expected_finished, TLS12_VERIFY_DATA_LEN),
           TLS_ERR_BAD_FINISHED);
    return finish(c);
}

static tls_error hs12_expect_finished(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_server_hs *hs = &c->hs.v12;
    const tls_suite *suite = c->suite;
    uint8_t verify[TLS12_VERIFY_DATA_LEN + 4] = {TLS_HS_FINISHED, 0, 0, TLS12_VERIFY_DATA_LEN};

    ENSURE(len == 4 + TLS12_VERIFY_DATA_LEN, TLS_ERR_DECODE);
    ENSURE(tls__ct_equal(msg + 4, hs->expected_finished, TLS12_VERIFY_DATA_LEN),
           TLS_ERR_BAD_FINISHED);
    tls__transcript_add(&hs->transcript, msg, len);
    if (hs->send_ticket) { /* RFC 5077 §3.3: before our CCS, and in the transcript */
        uint8_t nst[16 + TLS_TICKET_MAX_LEN];
        tls_writer w;
        tls_writer_init(&w, nst, sizeof nst);
        TRY(write_new_session_ticket(&w, c));
        ENSURE(tls_writer_ok(&w), TLS_ERR_INTERNAL);
        tls__transcript_add(&hs->transcript, nst, w.len);
        TRY(tls__conn_send_handshake(c, nst, w.len));
    }
    TRY(finished_data(hs, suite, "server finished", verify + 4));
    TRY(tls__conn_send_ccs(c));
    TRY(tls__record_cipher_install12(&c->wr, suite, server_key(hs, suite), server_iv(hs, suite)));
    TRY(tls__conn_send_handshake(c, verify, sizeof verify));
    TRY(store_session(c));
    return finish(c);
}

/* RFC 5746 §4.4 / RFC 5246 §7.2.2: we never renegotiate; a warning keeps the
 * connection usable for the client that asked. Asking again is abuse (each refusal
 * costs us an encrypted alert), so the second attempt ends the connection. */
static tls_error hs12_connected(tls_conn *c, const uint8_t *msg, size_t len)
{
    (void)msg, (void)len;
    ENSURE(++c->renegotiations_refused <= 1, TLS_ERR_RENEGOTIATION_REPEATED);
    return tls__conn_send_warning(c, TLS_ALERT_NO_RENEGOTIATION);
}

tls_error tls__hs12_server_handle(tls_conn *c, const uint8_t *msg, size_t len)
{
    uint8_t type = msg[0];
    switch (c->hs.v12.state) {
    case HS12_EXPECT_CERTIFICATE:
        ENSURE(type == TLS_HS_CERTIFICATE, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs12_expect_certificate(c, msg, len);
    case HS12_EXPECT_CLIENT_KEY_EXCHANGE:
        ENSURE(type == TLS_HS_CLIENT_KEY_EXCHANGE, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs12_expect_client_key_exchange(c, msg, len);
    case HS12_EXPECT_CERTIFICATE_VERIFY:
        ENSURE(type == TLS_HS_CERTIFICATE_VERIFY, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs12_expect_certificate_verify(c, msg, len);
    case HS12_EXPECT_CHANGE_CIPHER_SPEC:
        return TLS_ERR_UNEXPECTED_HANDSHAKE; /* Finished before ChangeCipherSpec */
    case HS12_EXPECT_FINISHED:
        ENSURE(type == TLS_HS_FINISHED, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs12_expect_finished(c, msg, len);
    case HS12_EXPECT_RESUMED_CHANGE_CIPHER_SPEC:
        return TLS_ERR_UNEXPECTED_HANDSHAKE;
    case HS12_EXPECT_RESUMED_FINISHED:
        ENSURE(type == TLS_HS_FINISHED, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs12_expect_resumed_finished(c, msg, len);
    case HS12_CONNECTED:
        ENSURE(type == TLS_HS_CLIENT_HELLO, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs12_connected(c, msg, len);
    default:
        return TLS_ERR_INTERNAL;
    }
}

void tls__hs12_server_clear(tls12_server_hs *hs)
{
    tls__msg_log_free(&hs->msgs);
    tls__kx_free(hs->kx);
    tls__transcript_clear(&hs->transcript);
    tls__wipe(hs, sizeof *hs);
}
