/*
 * client_common.c — what the TLS 1.3 and TLS 1.2 client handshakes share: the server
 * name, the ClientHello (built from the config, kept for whichever transcript the
 * ServerHello picks), checks of the server's answers against what we offered, and
 * certificate verification.
 *
 * Implementation notes:
 * - One ClientHello offers every enabled version (RFC 8446 §4.1.2, §4.2.1): TLS 1.3
 *   suites first, then TLS 1.2 suites and TLS_EMPTY_RENEGOTIATION_INFO_SCSV; TLS 1.2
 *   extensions (extended_master_secret, renegotiation_info, ec_point_formats) only when
 *   1.2 is offered, TLS 1.3 ones (supported_versions, key_share, psk_key_exchange_modes)
 *   only when 1.3 is. A TLS 1.3 offer uses middlebox compatibility mode (§D.4): a
 *   32-byte legacy_session_id and one dummy ChangeCipherSpec before our second flight.
 * - One key share, for the first configured group (or, when a stored ticket is offered,
 *   the group of the connection that got it, so that no HelloRetryRequest is needed);
 *   a HelloRetryRequest may ask for another (§4.2.8). The second ClientHello is rebuilt
 *   from the same config and offer, so it differs from the first only where §4.1.2
 *   allows: key_share, cookie, no early_data, and pre_shared_key's age and binder.
 * - Resumption (client_sessions.h): with a session store, the newest live TLS 1.3
 *   ticket whose hash one of our TLS 1.3 suites has is taken out of the store and
 *   offered (psk_dhe_ke, one identity, pre_shared_key last; its binder is written over
 *   the zeros the encoder leaves, §4.2.11.2); the TLS 1.2 session, if any, lends its
 *   session id to legacy_session_id (a random 32 when it has only a ticket, so that an
 *   echo still means "resumed") and its ticket to session_ticket (RFC 5077 §3.4).
 */
#include <arpa/inet.h>
#include <string.h>
#include <time.h>

#include "../conn.h"
#include "hs.h"

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* signature_algorithms, in preference order. PKCS#1 v1.5 is for TLS 1.2 handshakes and
 * for certificates only: a TLS 1.3 CertificateVerify may not use it (§4.2.3). ed25519
 * only when a crypto back end verifies it (never in the mbedTLS-only engine); the list
 * then also covers Ed25519-signed certificates (§4.2.3: without signature_algorithms_cert,
 * signature_algorithms applies to certificates as well). */
static const uint16_t sig_schemes[] = {
    TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ECDSA_SECP384R1_SHA384, TLS_SIG_RSA_PSS_RSAE_SHA256,
    TLS_SIG_RSA_PSS_RSAE_SHA384,    TLS_SIG_RSA_PSS_RSAE_SHA512,    TLS_SIG_RSA_PKCS1_SHA256,
    TLS_SIG_RSA_PKCS1_SHA384,       TLS_SIG_RSA_PKCS1_SHA512,
};
static const uint16_t sig_schemes_ed25519[] = {
    TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ECDSA_SECP384R1_SHA384, TLS_SIG_ED25519,
    TLS_SIG_RSA_PSS_RSAE_SHA256,    TLS_SIG_RSA_PSS_RSAE_SHA384,    TLS_SIG_RSA_PSS_RSAE_SHA512,
    TLS_SIG_RSA_PKCS1_SHA256,       TLS_SIG_RSA_PKCS1_SHA384,       TLS_SIG_RSA_PKCS1_SHA512,
};

/* The list we offer, fixed once the crypto routes are chosen. */
static const uint16_t *our_sig_schemes(size_t *n)
{
    if (tls__crypto_has_ed25519()) {
        *n = COUNT(sig_schemes_ed25519);
        return sig_schemes_ed25519;
    }
    *n = COUNT(sig_schemes);
    return sig_schemes;
}

/* ---- the server's name -------------------------------------------------------------------- */

static bool is_ip_literal(const char *name)
{
    uint8_t addr[16];
    return inet_pton(AF_INET, name, addr) == 1 || inet_pton(AF_INET6, name, addr) == 1;
}

static bool is_digit(char ch)
{
    return ch >= '0' && ch <= '9';
}

static bool is_label_char(char ch)
{
    return (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || is_digit(ch) || ch == '-' ||
           ch == '_';
}

/* RFC 1035 §2.3.4 and RFC 5890 A-labels: at most 253 bytes of labels of 1..63 letters,
 * digits and hyphens, a hyphen at neither end of a label; underscores are allowed as in
 * practice (and by rustls). A name whose last label is all digits is neither a host
 * name nor, since inet_pton refused it, an address ("1.2.3", "999.1.1.1"). */
static bool is_dns_name(const char *name, size_t len)
{
    size_t label = 0;
    bool all_digits = true;

    if (len == 0 || len > 253)
        return false;
    for (size_t i = 0; i < len; i++) {
        char ch = name[i];
        if (ch == '.') {
            if (label == 0 || name[i - 1] == '-')
                return false;
            label = 0;
            all_digits = true;
            continue;
        }
        if (!is_label_char(ch) || (ch == '-' && label == 0) || ++label > 63)
            return false;
        all_digits &= is_digit(ch);
    }
    return label > 0 && name[len - 1] != '-' && !all_digits;
}

/* The name without a trailing dot ("example.com." is "example.com": what SNI carries,
 * RFC 6066 §3, and what the certificate names). */
static tls_error set_server_name(tls_conn *c, const char *server_name)
{
    size_t n = strnlen(server_name, sizeof c->server_name);
    ENSURE(n < sizeof c->server_name, TLS_ERR_INVALID_ARGUMENT);
    if (n > 1 && server_name[n - 1] == '.')
        n--;
    memcpy(c->server_name, server_name, n);
    c->server_name[n] = '\0';
    ENSURE(is_ip_literal(c->server_name) || is_dns_name(c->server_name, n),
           TLS_ERR_INVALID_ARGUMENT);
    return TLS_OK;
}

bool tls__client_sends_sni(const tls_conn *c)
{
    /* RFC 6066 §3: literal addresses are not permitted in host_name. */
    return !c->client_cfg->disable_sni && !is_ip_literal(c->server_name);
}

/* ---- resumption ---------------------------------------------------------------------------- */

/* §4.2.11: a ticket's PSK goes with its hash; one of our TLS 1.3 suites must have it. */
static bool ticket13_usable(const void *arg, const tls_client_ticket13 *t)
{
    const tls_client_config *cfg = ((const tls_conn *)arg)->client_cfg;
    const tls_suite *ts = tls__suite_find(t->suite);

    for (size_t i = 0; ts && i < cfg->n_suites; i++) {
        const tls_suite *s = tls__suite_find(cfg->suites[i]);
        if (s->version == TLS_VERSION_1_3 && s->hash == ts->hash)
            return true;
    }
    return false;
}

/* What the store has for this server and this config may offer: the TLS 1.3 ticket
 * leaves the store (used once), the TLS 1.2 session is copied. */
static void take_stored_sessions(tls_conn *c)
{
    const tls_client_config *cfg = c->client_cfg;
    tls_client_offer *o = &c->hs.client.offer;
    int64_t now = tls__client_now_ms();

    if (o->tls13) {
        o->ticket13 =
            tls__client_sessions_take13(cfg->sessions, c->server_name, now, ticket13_usable, c);
        if (o->ticket13) {
            o->psk_suite = tls__suite_find(o->ticket13->suite);
            o->psk_in_hello = true;
        }
    }
    if (o->tls12) {
        o->session12 = tls__client_sessions_get12(cfg->sessions, c->server_name, now);
        /* A session of a suite we no longer offer cannot be resumed (RFC 5246 §7.4.1.3). */
        if (o->session12 && !tls__client_offered_suite(c, o->session12->suite, TLS_VERSION_1_2)) {
            tls__client_session12_free(o->session12);
            o->session12 = NULL;
        }
        o->ticket12_ext = !cfg->no_tickets;
    }
}

/* ALPN name (wire form) among those we offer. */
static bool alpn_offered(const tls_client_config *cfg, const uint8_t *alpn)
{
    for (size_t i = 0; i < cfg->n_alpn; i++)
        if (cfg->alpn[i][0] == alpn[0] && !memcmp(cfg->alpn[i] + 1, alpn + 1, alpn[0]))
            return true;
    return false;
}

/* §4.2.10: 0-RTT runs with the ticket's suite and ALPN, so this hello must offer both
 * (the server accepts early data only when it selects them again); and it is offered
 * only when no HelloRetryRequest is expected (our key share is for the group the
 * ticket's connection used), since an HRR refuses it. */
static bool early_data_possible(const tls_conn *c)
{
    const tls_client_config *cfg = c->client_cfg;
    const tls_client_offer *o = &c->hs.client.offer;
    const tls_client_ticket13 *t = o->ticket13;

    if (!cfg->enable_early_data || !t || t->max_early_data == 0 ||
        !tls__client_offered_suite(c, t->suite, TLS_VERSION_1_3) || o->kx_group != t->group)
        return false;
    return t->alpn[0] ? alpn_offered(cfg, t->alpn) : cfg->n_alpn == 0;
}

/* §4.2.11.1: the age in milliseconds plus ticket_age_add, modulo 2^32. */
static uint32_t obfuscated_age(const tls_client_ticket13 *t, int64_t now_ms)
{
    int64_t age = now_ms - t->received_ms;
    if (age < 0) /* the clock went back: the ticket is new, not from the future */
        age = 0;
    return (uint32_t)((uint64_t)age + t->age_add);
}

/* §4.2.11.2: binder = HMAC(finished_key(Derive-Secret(Early Secret, "res binder", "")),
 * Transcript-Hash(Truncated(ClientHello))), where the transcript, after a
 * HelloRetryRequest, starts with message_hash(ClientHello1) and the HRR (§4.1.4) — the
 * running transcript at this point, whose hash is the PSK's (an HRR of another hash
 * dropped the PSK). Written over the last hash_len bytes of msg. */
static tls_error write_binder(tls_conn *c, uint8_t *msg, size_t len)
{
    const tls_client_offer *o = &c->hs.client.offer;
    tls_hash_id hash = o->psk_suite->hash;
    size_t n = tls__hash_len(hash);
    uint8_t thash[TLS_MAX_HASH_LEN], empty[TLS_MAX_HASH_LEN], binder_key[TLS_MAX_HASH_LEN];
    tls13_keysched early;
    tls_hash_ctx ctx;

    ENSURE(len > TLS_PSK_BINDERS_LEN(n), TLS_ERR_INTERNAL);
    if (c->did_hrr) {
        ENSURE(c->hs.client.v13.transcript.started && c->hs.client.v13.suite->hash == hash,
               TLS_ERR_INTERNAL);
        tls__hash_clone(&ctx, &c->hs.client.v13.transcript.ctx);
    } else {
        tls__hash_init(&ctx, hash);
    }
    tls__hash_update(&ctx, msg, len - TLS_PSK_BINDERS_LEN(n));
    tls__hash_final(&ctx, thash);
    tls__hash(hash, NULL, 0, empty);
    tls_error err = tls13_keysched_init(&early, hash, o->ticket13->psk, o->ticket13->psk_len);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&early, "res binder", empty, binder_key);
    if (err == TLS_OK)
        err = tls13_finished_mac(hash, binder_key, thash, msg + len - n);
    tls13_keysched_clear(&early);
    tls__wipe(binder_key, sizeof binder_key);
    return err;
}

/* ---- the ClientHello -------------------------------------------------------------------- */

tls_error tls__client_send_hello(tls_conn *c, tls_slice cookie, uint8_t **msg, size_t *len)
{
    const tls_client_config *cfg = c->client_cfg;
    const tls_client_offer *o = &c->hs.client.offer;
    uint16_t suites[COUNT(cfg->suites) + 1], versions[2];
    uint8_t share[TLS_MAX_KX_PUBLIC_LEN];
    tls_client_hello_spec spec;
    size_t n_suites = 0, n_versions = 0;
    tls_writer w;

    *msg = NULL;
    *len = 0;
    memset(&spec, 0, sizeof spec);
    for (size_t i = 0; o->tls13 && i < cfg->n_suites; i++)
        if (tls__suite_find(cfg->suites[i])->version == TLS_VERSION_1_3)
            suites[n_suites++] = cfg->suites[i];
    for (size_t i = 0; o->tls12 && i < cfg->n_suites; i++)
        if (tls__suite_find(cfg->suites[i])->version == TLS_VERSION_1_2)
            suites[n_suites++] = cfg->suites[i];
    if (o->tls12) /* RFC 5746 §3.4 */
        suites[n_suites++] = TLS_EMPTY_RENEGOTIATION_INFO_SCSV;
    if (o->tls13) { /* §4.2.1: a TLS 1.2-only client sends no supported_versions */
        versions[n_versions++] = TLS_VERSION_1_3;
        if (o->tls12)
            versions[n_versions++] = TLS_VERSION_1_2;
    }
    if (o->kx) {
        TRY(tls__kx_public(o->kx, share, sizeof share, &spec.share_len));
        spec.key_share = true;
        spec.share_group = o->kx_group;
        spec.share = share;
    }
    spec.random = o->random;
    spec.session_id = o->session_id;
    spec.session_id_len = o->session_id_len;
    spec.suites = suites;
    spec.n_suites = n_suites;
    spec.server_name = tls__client_sends_sni(c) ? c->server_name : NULL;
    spec.versions = versions;
    spec.n_versions = n_versions;
    spec.groups = cfg->groups;
    spec.n_groups = cfg->n_groups;
    spec.sig_schemes = our_sig_schemes(&spec.n_sig_schemes);
    spec.alpn = cfg->alpn;
    spec.n_alpn = cfg->n_alpn;
    spec.cookie = cookie;
    spec.psk_modes = o->tls13;
    spec.tls12 = o->tls12;
    spec.sct = true; /* tls_conn_peer_scts: kept, structure-checked */
    if (o->ticket12_ext) {
        spec.session_ticket = true;
        if (o->session12) {
            spec.ticket12.p = o->session12->ticket;
            spec.ticket12.len = o->session12->ticket_len;
        }
    }
    /* §4.1.2: a second ClientHello never carries early_data. */
    spec.early_data = c->early_data_offered && !c->did_hrr;
    if (o->psk_in_hello) {
        spec.psk_identity.p = o->ticket13->ticket;
        spec.psk_identity.len = o->ticket13->ticket_len;
        spec.psk_obfuscated_age = obfuscated_age(o->ticket13, tls__client_now_ms());
        spec.psk_binder_len = tls__hash_len(o->psk_suite->hash);
    }

    /* Everything but the names, the ALPN list, the cookie and the tickets fits in 1 KiB. */
    size_t cap = 1024 + sizeof c->server_name + TLS_MAX_ALPN * 256 + cookie.len +
                 spec.ticket12.len + spec.psk_identity.len + spec.psk_binder_len;
    uint8_t *buf = tls__alloc(cap);
    ENSURE(buf, TLS_ERR_NO_MEMORY);
    tls_writer_init(&w, buf, cap);
    tls__client_hello_write(&w, &spec);
    tls_error err = tls_writer_ok(&w) ? TLS_OK : TLS_ERR_INTERNAL;
    if (err == TLS_OK && o->psk_in_hello)
        err = write_binder(c, buf, w.len);
    if (err == TLS_OK)
        err = tls__conn_send_handshake(c, buf, w.len);
    if (err != TLS_OK) {
        tls__free(buf, cap);
        return err;
    }
    /* Shrunk to the message, so that the owner frees it knowing only its length. */
    *msg = tls__alloc(w.len);
    if (*msg)
        memcpy(*msg, buf, w.len);
    tls__free(buf, cap);
    ENSURE(*msg, TLS_ERR_NO_MEMORY);
    *len = w.len;
    return TLS_OK;
}

tls_error tls__client_start(tls_conn *c, const char *server_name)
{
    const tls_client_config *cfg = c->client_cfg;
    tls_client_offer *o = &c->hs.client.offer;
    tls_slice no_cookie = {NULL, 0};

    TRY(set_server_name(c, server_name));
    o->tls13 = tls__client_config_offers(cfg, TLS_VERSION_1_3);
    o->tls12 = tls__client_config_offers(cfg, TLS_VERSION_1_2);
    TRY(tls__random(o->random, sizeof o->random));
    if (cfg->sessions)
        take_stored_sessions(c);
    if (o->session12 && o->session12->session_id_len) {
        o->session_id_len = o->session12->session_id_len;
        memcpy(o->session_id, o->session12->session_id, o->session_id_len);
    } else if (o->tls13 || o->session12) {
        o->session_id_len = sizeof o->session_id;
        TRY(tls__random(o->session_id, sizeof o->session_id));
    }
    if (o->tls13) {
        o->kx_group = cfg->groups[0];
        if (o->ticket13 && tls__client_offered_group(c, o->ticket13->group))
            o->kx_group = o->ticket13->group;
        TRY(tls__kx_new(o->kx_group, &o->kx));
    }
    if (early_data_possible(c)) {
        c->early_data_offered = true;
        c->early_data_left = o->ticket13->max_early_data;
    }
    TRY(tls__client_send_hello(c, no_cookie, &o->hello, &o->hello_len));
    return c->early_data_offered ? tls__hs13_client_start_early_data(c) : TLS_OK;
}

tls_error tls__client_send_compat_ccs(tls_conn *c)
{
    tls_client_offer *o = &c->hs.client.offer;
    if (!o->tls13 || o->sent_ccs)
        return TLS_OK;
    o->sent_ccs = true;
    return tls__conn_send_ccs(c);
}

/* ---- what we offered ---------------------------------------------------------------------- */

bool tls__client_offered_suite(const tls_conn *c, uint16_t suite, uint16_t version)
{
    const tls_client_config *cfg = c->client_cfg;
    const tls_suite *s = tls__suite_find(suite);
    const tls_client_offer *o = &c->hs.client.offer;

    if (!s || s->version != version ||
        !(version == TLS_VERSION_1_3 ? o->tls13 : version == TLS_VERSION_1_2 && o->tls12))
        return false;
    for (size_t i = 0; i < cfg->n_suites; i++)
        if (cfg->suites[i] == suite)
            return true;
    return false;
}

bool tls__client_offered_group(const tls_conn *c, uint16_t group)
{
    for (size_t i = 0; i < c->client_cfg->n_groups; i++)
        if (c->client_cfg->groups[i] == group)
            return true;
    return false;
}

bool tls__client_offered_sig_scheme(uint16_t scheme)
{
    size_t n;
    const uint16_t *schemes = our_sig_schemes(&n);
    for (size_t i = 0; i < n; i++)
        if (schemes[i] == scheme)
            return true;
    return false;
}

tls_error tls__client_accept_alpn(tls_conn *c, tls_slice list)
{
    const tls_client_config *cfg = c->client_cfg;
    tls_reader r, name;

    ENSURE(cfg->n_alpn, TLS_ERR_UNSOLICITED_EXTENSION);
    /* RFC 7301 §3.1: the server's list holds exactly one protocol. */
    tls_reader_init(&r, list.p, list.len);
    ENSURE(tls_read_vec8(&r, 1, 255, &name) && tls_reader_done(&r), TLS_ERR_ILLEGAL_PARAMETER);
    size_t n = tls_reader_left(&name);
    for (size_t i = 0; i < cfg->n_alpn; i++) {
        if (cfg->alpn[i][0] == n && !memcmp(cfg->alpn[i] + 1, name.p, n)) {
            memcpy(c->alpn, cfg->alpn[i], n + 1);
            return TLS_OK;
        }
    }
    return TLS_ERR_SELECTED_UNOFFERED;
}

/* ---- the server's certificate --------------------------------------------------------------- */

tls_error tls__client_verify_chain(tls_conn *c, const tls_certificate_msg *cert)
{
    const tls_client_config *cfg = c->client_cfg;
    tls_client_hs *hs = &c->hs.client;
    tls_error err = TLS_OK;

    ENSURE(cert->n_certs > 0, TLS_ERR_NO_CERTIFICATES_PRESENTED);
    if (!cfg->dangerous_skip_server_cert_verification) {
        int64_t now = (int64_t)time(NULL);
        if (cfg->verifier)
            err = cfg->verifier(cfg->verifier_arg, cert->certs, cert->cert_lens, cert->n_certs,
                                c->server_name, now);
        else
            err = tls_verify_server_cert(cfg->roots, cert->certs, cert->cert_lens, cert->n_certs,
                                         c->server_name, now);
        /* A callback's answer is latched as it is; one outside the table fails closed. */
        if ((unsigned)err >= TLS_ERR__COUNT)
            err = TLS_ERR_INTERNAL;
        TRY(err);
    }
    if (hs->end_entity)
        tls__free(hs->end_entity, hs->end_entity_len);
    hs->end_entity_len = cert->cert_lens[0];
    hs->end_entity = tls__alloc(hs->end_entity_len);
    ENSURE(hs->end_entity, TLS_ERR_NO_MEMORY);
    memcpy(hs->end_entity, cert->certs[0], hs->end_entity_len);
    return TLS_OK;
}

tls_error tls__client_verify_signature(tls_conn *c, uint16_t scheme, const uint8_t *msg,
                                       size_t msg_len, tls_slice sig)
{
    tls_client_hs *hs = &c->hs.client;

    ENSURE(hs->end_entity, TLS_ERR_INTERNAL);
    tls_error err =
        tls__verify(hs->end_entity, hs->end_entity_len, scheme, msg, msg_len, sig.p, sig.len);
    /* The key is proven (or not): the certificate is not needed any more. */
    tls__free(hs->end_entity, hs->end_entity_len);
    hs->end_entity = NULL;
    hs->end_entity_len = 0;
    switch (err) {
    case TLS_OK:
    case TLS_ERR_NO_MEMORY:
        return err;
    case TLS_ERR_CERT_PARSE: /* only reachable when no verifier looked at it */
        return TLS_ERR_CERT_BAD_ENCODING;
    default: /* a bad signature, or a scheme that does not fit the key */
        return TLS_ERR_BAD_CERTIFICATE_VERIFY;
    }
}

/* ---- our certificate (client authentication) ---------------------------------------------- */

tls_error tls__client_write_certificate_verify(tls_writer *w, const tls_certified_key *ck,
                                               uint16_t scheme, const uint8_t *content,
                                               size_t content_len)
{
    uint8_t sig[TLS_MAX_SIGNATURE_LEN];
    size_t sig_len = 0;
    tls_error err = tls__sign(ck->key, scheme, content, content_len, sig, sizeof sig, &sig_len);
    /* The scheme was chosen for this key: a refusal is our bug, not the server's. */
    ENSURE(err != TLS_ERR_CONFIG, TLS_ERR_INTERNAL);
    TRY(err);
    tls__hs_begin(w, TLS_HS_CERTIFICATE_VERIFY);
    tls_write_u16(w, scheme);
    tls_write_vec16(w, sig, sig_len);
    tls__hs_end(w);
    ENSURE(tls_writer_ok(w), TLS_ERR_INTERNAL);
    return TLS_OK;
}

size_t tls__client_certificate_size(const tls_certified_key *ck, size_t context_len)
{
    size_t n = 4 + 1 + context_len + 3;
    for (size_t i = 0; ck && i < ck->n_chain; i++)
        n += 3 + ck->chain_len[i] + 2;
    return n;
}

void tls__client_write_certificate(tls_writer *w, const tls_certified_key *ck, tls_slice context,
                                   bool tls13)
{
    tls__hs_begin(w, TLS_HS_CERTIFICATE);
    if (tls13) /* §4.4.2: the request's certificate_request_context, echoed */
        tls_write_vec8(w, context.p, context.len);
    tls_write_vec24_begin(w);
    for (size_t i = 0; ck && i < ck->n_chain; i++) {
        tls_write_vec24_begin(w);
        tls_write_bytes(w, ck->chain[i], ck->chain_len[i]);
        tls_writer_end(w);
        if (tls13)
            tls_write_u16(w, 0); /* no per-certificate extensions */
    }
    tls_writer_end(w);
    tls__hs_end(w);
}

void tls__client_hs_clear(tls_client_hs *hs, uint16_t version)
{
    if (version == TLS_VERSION_1_2)
        tls__hs12_client_clear(&hs->v12);
    else
        tls__hs13_client_clear(&hs->v13);
    tls__kx_free(hs->offer.kx);
    tls__free(hs->offer.hello, hs->offer.hello_len);
    tls__client_ticket13_free(hs->offer.ticket13);
    tls__client_session12_free(hs->offer.session12);
    tls__free(hs->end_entity, hs->end_entity_len);
    tls__wipe(hs, sizeof *hs);
}
