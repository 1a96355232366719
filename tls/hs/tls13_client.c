/*
 * tls13_client.c — the TLS 1.3 client handshake (RFC 8446 §2, §4), and the point where
 * a ServerHello hands a TLS 1.2 handshake over to tls12_client.c.
 *
 * One handler per state (hs_expect_*), one dispatch point that refuses any message the
 * state does not expect, and one place where the state changes (set_state).
 *
 * Implementation notes:
 * - The ServerHello picks the version: without supported_versions it is TLS 1.2 or
 *   older, which, after the §4.1.3 downgrade check, belongs to the 1.2 client.
 * - The transcript starts once the suite (so the hash) is known: with ClientHello1 at
 *   the ServerHello, or with message_hash(ClientHello1) at a HelloRetryRequest (§4.4.1).
 * - Keys: the handshake keys both ways right after the ServerHello (our dummy CCS goes
 *   out first, §D.4, so that everything we send later, alerts included, is protected);
 *   the server's application keys after its Finished, ours after our Finished.
 * - Secrets live in this struct only while needed: the handshake secrets until our
 *   Finished, the key schedule until our Finished (resumption_master_secret needs it),
 *   the application secrets for KeyUpdate and, with a session store,
 *   resumption_master_secret for NewSessionTickets until tls__hs13_client_clear.
 * - Resumption (§2.2, §4.2.11): the ticket offered (client_common.c) makes the key
 *   schedule start from its PSK when the ServerHello selects it; the server then proves
 *   itself with the Finished alone (no Certificate, CertificateVerify or
 *   CertificateRequest may come, §4.3.2). Without pre_shared_key the handshake is a
 *   full one and the ticket is simply spent.
 * - 0-RTT (§2.3, §4.2.10) moves the write keys: ClientHello1 in plaintext, the §D.4
 *   CCS, then client_early_traffic_secret; they stay while early data may still be
 *   accepted. A refusal (a ServerHello without our PSK, an HRR, EncryptedExtensions
 *   without early_data) switches to the handshake keys (plaintext again after an HRR,
 *   for ClientHello2); an acceptance keeps them until EndOfEarlyData, sent after the
 *   server's Finished (§4.5), then the handshake keys carry our Finished.
 * - Client authentication (§4.3.2, §4.4.2, §4.4.3): a CertificateRequest picks, once,
 *   the scheme our CertificateVerify will use (tls__sig_scheme_for_key: the config's
 *   client certificate against the request's signature_algorithms); our second flight
 *   then carries Certificate (the request's empty context echoed; our chain, or none
 *   when no scheme fits or we have no certificate), CertificateVerify when the chain was
 *   sent, and Finished. certificate_authorities is not consulted; post_handshake_auth is
 *   never offered, so a request after the handshake is unexpected_message.
 */
#include <string.h>

#include "../conn.h"
#include "../record.h"
#include "hs.h"

/* §4.1.3: the last 8 bytes of ServerHello.random from a TLS 1.3 server that negotiated
 * TLS 1.2 (…01) or TLS 1.1 and below (…00). */
static const uint8_t downgrade_sentinel[7] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44};

static void set_state(tls_conn *c, tls13_client_state next)
{
    c->hs.client.v13.state = next;
}

static bool has_ext(uint32_t seen, uint16_t type)
{
    return (seen & tls__ext_bit(type)) != 0;
}

static bool is_rsa_pkcs1(uint16_t scheme)
{
    return scheme == TLS_SIG_RSA_PKCS1_SHA256 || scheme == TLS_SIG_RSA_PKCS1_SHA384 ||
           scheme == TLS_SIG_RSA_PKCS1_SHA512;
}

/* 0-RTT is over without having been accepted: nothing more may be sent early, and the
 * early keys stop being the write keys. What was sent was not delivered (§4.2.10: the
 * caller may send it again once connected). */
static void early_data_refused(tls_conn *c)
{
    c->hs.client.offer.early_open = false;
    c->early_data_left = 0;
    c->early_data_accepted = false;
}

/* ---- the ServerHello ---------------------------------------------------------------------- */

/* No supported_versions: the server speaks TLS 1.2 or older (§4.2.1). */
static tls_error server_chose_tls12_or_older(tls_conn *c, const tls_server_hello *sh,
                                             const uint8_t *msg, size_t len)
{
    tls_client_offer *o = &c->hs.client.offer;

    /* §4.1.4: after a HelloRetryRequest the version may not change. */
    ENSURE(!c->did_hrr, TLS_ERR_ILLEGAL_PARAMETER);
    /* §D.3: a TLS 1.2 server does not skip 0-RTT records (it will most likely fail on
     * them); our own messages from here on are 1.2's, in plaintext until its CCS. */
    if (o->early_open) {
        early_data_refused(c);
        tls__conn_clear_write_secret(c);
    }
    /* §4.1.3: a TLS 1.3 server only says 1.2 or below when a man in the middle
     * stripped our 1.3 offer, and then it marks its random to say so. */
    ENSURE(!o->tls13 || memcmp(sh->random + 24, downgrade_sentinel, sizeof downgrade_sentinel) ||
               sh->random[31] > 1,
           TLS_ERR_DOWNGRADE_DETECTED);
    /* We never speak TLS 1.1 or older, nor a legacy_version we do not know. */
    ENSURE(sh->legacy_version == TLS_VERSION_1_2 && o->tls12, TLS_ERR_PROTOCOL_VERSION);
    return tls__hs12_client_server_hello(c, msg, len);
}

/* What a TLS 1.3 ServerHello and HelloRetryRequest both must satisfy (§4.1.3, §4.1.4). */
static tls_error check_tls13_server_hello(const tls_conn *c, const tls_server_hello *sh)
{
    const tls_client_offer *o = &c->hs.client.offer;
    const tls13_client_hs *hs = &c->hs.client.v13;
    uint32_t allowed = tls__ext_bit(TLS_EXT_SUPPORTED_VERSIONS) | tls__ext_bit(TLS_EXT_KEY_SHARE);

    if (sh->is_hrr)
        allowed |= tls__ext_bit(TLS_EXT_COOKIE);
    else if (o->psk_in_hello)
        allowed |= tls__ext_bit(TLS_EXT_PRE_SHARED_KEY);
    /* supported_versions answers only a TLS 1.3 offer; pre_shared_key only our offer of
     * one, and never in a HelloRetryRequest (§4.2). */
    ENSURE(o->tls13 && !(sh->ext.seen & ~allowed), TLS_ERR_UNSOLICITED_EXTENSION);
    /* §4.2.1: a version we did not offer, or one before TLS 1.3, is illegal_parameter. */
    ENSURE(sh->ext.selected_version == TLS_VERSION_1_3, TLS_ERR_SELECTED_UNOFFERED);
    ENSURE(sh->legacy_version == TLS_VERSION_1_2, TLS_ERR_ILLEGAL_PARAMETER);
    ENSURE(sh->session_id.len == o->session_id_len &&
               !memcmp(sh->session_id.p, o->session_id, o->session_id_len),
           TLS_ERR_ILLEGAL_PARAMETER);
    ENSURE(tls__client_offered_suite(c, sh->cipher_suite, TLS_VERSION_1_3),
           TLS_ERR_SELECTED_UNOFFERED);
    ENSURE(sh->compression == 0, TLS_ERR_SELECTED_UNOFFERED);
    /* §4.1.4: the ServerHello keeps the suite of the HelloRetryRequest. */
    ENSURE(!hs->suite || hs->suite->id == sh->cipher_suite, TLS_ERR_ILLEGAL_PARAMETER);
    return TLS_OK;
}

/* The suite is known: the hash of the transcript and the key schedule are too. */
static void start_transcript(tls_conn *c, uint16_t suite)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    tls_client_offer *o = &c->hs.client.offer;

    c->version = TLS_VERSION_1_3;
    hs->suite = c->suite = tls__suite_find(suite);
    hs->ks.hash = hs->suite->hash;
    hs->ks.hash_len = tls__hash_len(hs->suite->hash);
    tls__transcript_start(&hs->transcript, hs->suite->hash);
    tls__transcript_add(&hs->transcript, o->hello, o->hello_len);
    tls__free(o->hello, o->hello_len);
    o->hello = NULL;
    o->hello_len = 0;
}

static tls_error handle_hello_retry_request(tls_conn *c, const tls_server_hello *sh,
                                            const uint8_t *msg, size_t len)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    tls_client_offer *o = &c->hs.client.offer;
    bool new_group = has_ext(sh->ext.seen, TLS_EXT_KEY_SHARE);
    uint8_t *hello2;
    size_t hello2_len;

    /* §4.1.4: an HRR that would not change the ClientHello is illegal_parameter. */
    ENSURE(new_group || has_ext(sh->ext.seen, TLS_EXT_COOKIE), TLS_ERR_ILLEGAL_PARAMETER);
    if (new_group) {
        /* §4.2.8: a group we support, and not the one we already sent a share for. */
        ENSURE(tls__client_offered_group(c, sh->ext.key_share_group), TLS_ERR_SELECTED_UNOFFERED);
        ENSURE(sh->ext.key_share_group != o->kx_group, TLS_ERR_ILLEGAL_PARAMETER);
    }
    start_transcript(c, sh->cipher_suite);
    c->did_hrr = true;
    tls__transcript_to_message_hash(&hs->transcript);
    tls__transcript_add(&hs->transcript, msg, len);
    if (new_group) {
        tls__kx_free(o->kx);
        o->kx = NULL;
        o->kx_group = sh->ext.key_share_group;
        TRY(tls__kx_new(o->kx_group, &o->kx));
    }
    /* §4.2.10: an HRR refuses 0-RTT; ClientHello2 goes in plaintext. */
    if (o->early_open) {
        early_data_refused(c);
        tls__conn_clear_write_secret(c);
    }
    /* §4.1.4: a PSK whose hash is not the chosen suite's is of no use any more. */
    if (o->psk_in_hello && o->psk_suite->hash != hs->suite->hash)
        o->psk_in_hello = false;
    TRY(tls__client_send_compat_ccs(c));
    /* §4.1.2: the same hello but for the share, the cookie, no early_data and a new
     * ticket age and binder. */
    TRY(tls__client_send_hello(c, sh->ext.cookie, &hello2, &hello2_len));
    tls__transcript_add(&hs->transcript, hello2, hello2_len);
    tls__free(hello2, hello2_len);
    set_state(c, HS13C_EXPECT_SERVER_HELLO);
    return TLS_OK;
}

static tls_error derive_handshake_secrets(tls_conn *c, const tls_server_hello *sh)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    tls_client_offer *o = &c->hs.client.offer;
    uint8_t shared[TLS_MAX_KX_SECRET_LEN], thash[TLS_MAX_HASH_LEN];
    size_t shared_len = 0;

    tls_error err = tls__kx_agree(o->kx, sh->ext.key_share.p, sh->ext.key_share.len, shared,
                                  sizeof shared, &shared_len);
    tls__kx_free(o->kx);
    o->kx = NULL;
    /* §7.1: the early secret is made from the PSK when the server selected it. */
    if (err == TLS_OK && c->resumed)
        err = tls13_keysched_init(&hs->ks, hs->suite->hash, o->ticket13->psk, o->ticket13->psk_len);
    else if (err == TLS_OK)
        err = tls13_keysched_init(&hs->ks, hs->suite->hash, NULL, 0);
    if (err == TLS_OK)
        err = tls13_keysched_handshake(&hs->ks, shared, shared_len);
    tls__wipe(shared, sizeof shared);
    TRY(err);
    tls__transcript_current(&hs->transcript, thash);
    TRY(tls13_keysched_derive(&hs->ks, "c hs traffic", thash, hs->client_hs_secret));
    return tls13_keysched_derive(&hs->ks, "s hs traffic", thash, hs->server_hs_secret);
}

static tls_error handle_server_hello(tls_conn *c, const tls_server_hello *sh, const uint8_t *msg,
                                     size_t len)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    tls_client_offer *o = &c->hs.client.offer;
    bool psk = has_ext(sh->ext.seen, TLS_EXT_PRE_SHARED_KEY);

    if (psk) {
        /* §4.2.11: we offered one identity; the suite must have the PSK's hash; and
         * psk_dhe_ke, the only mode we offer, needs the server's key_share. */
        ENSURE(sh->ext.psk_identity == 0, TLS_ERR_ILLEGAL_PARAMETER);
        ENSURE(tls__suite_find(sh->cipher_suite)->hash == o->psk_suite->hash,
               TLS_ERR_ILLEGAL_PARAMETER);
        ENSURE(has_ext(sh->ext.seen, TLS_EXT_KEY_SHARE), TLS_ERR_ILLEGAL_PARAMETER);
    }
    /* §4.2.8: without a PSK, (EC)DHE is the only key exchange there is. */
    ENSURE(has_ext(sh->ext.seen, TLS_EXT_KEY_SHARE), TLS_ERR_MISSING_EXTENSION);
    /* §4.2.8: for the group we sent our share for (after an HRR, the one it asked). */
    ENSURE(o->kx && sh->ext.key_share_group == o->kx_group, TLS_ERR_SELECTED_UNOFFERED);
    if (!c->did_hrr)
        start_transcript(c, sh->cipher_suite);
    tls__transcript_add(&hs->transcript, msg, len);
    c->group = sh->ext.key_share_group;
    c->resumed = psk;
    TRY(derive_handshake_secrets(c, sh));
    TRY(tls__client_send_compat_ccs(c));
    TRY(tls__conn_set_read_secret(c, hs->suite, hs->server_hs_secret));
    /* §4.2.10: without our PSK there is no 0-RTT; with it, EncryptedExtensions says. */
    if (o->early_open && !psk)
        early_data_refused(c);
    if (!o->early_open)
        TRY(tls__conn_set_write_secret(c, hs->suite, hs->client_hs_secret));
    set_state(c, HS13C_EXPECT_ENCRYPTED_EXTENSIONS);
    return TLS_OK;
}

static tls_error hs_expect_server_hello(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls_server_hello sh;

    TRY(tls__server_hello_parse(msg + 4, len - 4, &sh));
    if (!has_ext(sh.ext.seen, TLS_EXT_SUPPORTED_VERSIONS))
        return server_chose_tls12_or_older(c, &sh, msg, len);
    /* §4.1.4: a second HelloRetryRequest is unexpected_message. */
    ENSURE(!(sh.is_hrr && c->did_hrr), TLS_ERR_UNEXPECTED_HANDSHAKE);
    TRY(check_tls13_server_hello(c, &sh));
    if (sh.is_hrr)
        return handle_hello_retry_request(c, &sh, msg, len);
    return handle_server_hello(c, &sh, msg, len);
}

/* ---- the server's encrypted flight ---------------------------------------------------------- */

/* §4.2.10: the server took our 0-RTT: it selected our PSK (identity 0, checked at the
 * ServerHello), and the connection must run with what the ticket's connection agreed. */
static tls_error accept_early_data(tls_conn *c)
{
    const tls_client_ticket13 *t = c->hs.client.offer.ticket13;

    ENSURE(c->resumed && c->suite->id == t->suite, TLS_ERR_ILLEGAL_PARAMETER);
    ENSURE(c->alpn[0] == t->alpn[0] && !memcmp(c->alpn + 1, t->alpn + 1, t->alpn[0]),
           TLS_ERR_ILLEGAL_PARAMETER);
    c->early_data_accepted = true;
    return TLS_OK;
}

static tls_error hs_expect_encrypted_extensions(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    tls_client_offer *o = &c->hs.client.offer;
    uint32_t allowed = tls__ext_bit(TLS_EXT_SERVER_NAME) | tls__ext_bit(TLS_EXT_ALPN) |
                       tls__ext_bit(TLS_EXT_SUPPORTED_GROUPS);
    tls_server_exts ee;

    if (o->early_open)
        allowed |= tls__ext_bit(TLS_EXT_EARLY_DATA);
    TRY(tls__encrypted_extensions_parse(msg + 4, len - 4, &ee));
    /* §4.3.1 and §4.2: only answers to what we offered; supported_groups is the
     * server's preference, informative only. An empty server_name (RFC 6066 §3) only
     * acknowledges a name we sent; early_data only the early_data of this very hello. */
    ENSURE(!(ee.seen & ~allowed), TLS_ERR_UNSOLICITED_EXTENSION);
    ENSURE(!has_ext(ee.seen, TLS_EXT_SERVER_NAME) || tls__client_sends_sni(c),
           TLS_ERR_UNSOLICITED_EXTENSION);
    if (has_ext(ee.seen, TLS_EXT_ALPN))
        TRY(tls__client_accept_alpn(c, ee.alpn));
    if (has_ext(ee.seen, TLS_EXT_EARLY_DATA)) {
        TRY(accept_early_data(c));
    } else if (o->early_open) {
        early_data_refused(c);
        TRY(tls__conn_set_write_secret(c, hs->suite, hs->client_hs_secret));
    }
    tls__transcript_add(&hs->transcript, msg, len);
    /* §2.2: a resumed server authenticates with its Finished alone. */
    set_state(c, c->resumed ? HS13C_EXPECT_FINISHED : HS13C_EXPECT_CERTIFICATE_OR_REQUEST);
    return TLS_OK;
}

static tls_error hs_expect_certificate_request(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    tls_certificate_request_msg cr;

    TRY(tls__certificate_request_parse(msg + 4, len - 4, &cr));
    ENSURE(cr.has_sig_algs, TLS_ERR_MISSING_EXTENSION);
    /* §4.3.2: the context is empty during the handshake (we offer no post-handshake
     * authentication, so there is no other time). */
    ENSURE(cr.context.len == 0, TLS_ERR_ILLEGAL_PARAMETER);
    hs->cert_requested = true;
    /* certificate_authorities and signature_algorithms_cert are hints we do not act on:
     * with one certificate there is nothing to choose, and the server judges it (rustls
     * sends its one certificate the same way). */
    hs->client_auth_scheme =
        tls__sig_scheme_for_key(c->client_cfg->client_cert, cr.sig_algs, TLS_VERSION_1_3);
    tls__transcript_add(&hs->transcript, msg, len);
    set_state(c, HS13C_EXPECT_CERTIFICATE);
    return TLS_OK;
}

static tls_error hs_expect_certificate(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    tls_certificate_msg cert;

    TRY(tls__certificate_parse(msg + 4, len - 4, true, &cert));
    /* §4.4.2: the context is empty for server authentication. */
    ENSURE(cert.context.len == 0, TLS_ERR_ILLEGAL_PARAMETER);
    TRY(tls__client_verify_chain(c, &cert));
    TRY(tls__conn_set_peer_scts(c, cert.scts)); /* RFC 6962 §3.3, offered in every hello */
    tls__transcript_add(&hs->transcript, msg, len);
    set_state(c, HS13C_EXPECT_CERTIFICATE_VERIFY);
    return TLS_OK;
}

static tls_error hs_expect_certificate_verify(tls_conn *c, const uint8_t *msg, size_t len)
{
    static const char context[] = "TLS 1.3, server CertificateVerify";
    tls13_client_hs *hs = &c->hs.client.v13;
    uint8_t content[64 + sizeof context + TLS_MAX_HASH_LEN];
    tls_certificate_verify_msg cv;

    TRY(tls__certificate_verify_parse(msg + 4, len - 4, &cv));
    /* §4.4.3: a scheme we offered; §4.2.3: never RSA PKCS#1 v1.5 in TLS 1.3. */
    ENSURE(tls__client_offered_sig_scheme(cv.scheme) && !is_rsa_pkcs1(cv.scheme),
           TLS_ERR_SELECTED_UNOFFERED);
    /* §4.4.3: 64 spaces, the context string, a zero byte, Hash(ClientHello..Certificate). */
    memset(content, 0x20, 64);
    memcpy(content + 64, context, sizeof context);
    tls__transcript_current(&hs->transcript, content + 64 + sizeof context);
    TRY(tls__client_verify_signature(c, cv.scheme, content, 64 + sizeof context + hs->ks.hash_len,
                                     cv.signature));
    c->sig_scheme = cv.scheme;
    tls__transcript_add(&hs->transcript, msg, len);
    set_state(c, HS13C_EXPECT_FINISHED);
    return TLS_OK;
}

/* §4.5: accepted 0-RTT ends with EndOfEarlyData under the early keys; then the
 * handshake keys are ours. */
static tls_error send_end_of_early_data(tls_conn *c)
{
    static const uint8_t eoed[4] = {TLS_HS_END_OF_EARLY_DATA, 0, 0, 0};
    tls13_client_hs *hs = &c->hs.client.v13;

    tls__transcript_add(&hs->transcript, eoed, sizeof eoed);
    TRY(tls__conn_send_handshake(c, eoed, sizeof eoed));
    c->hs.client.offer.early_open = false;
    c->early_data_left = 0;
    return tls__conn_set_write_secret(c, hs->suite, hs->client_hs_secret);
}

/* §4.4.3: our CertificateVerify, over Transcript-Hash(ClientHello .. our Certificate)
 * with the scheme the request allowed; appended to w and to the transcript. */
static tls_error write_certificate_verify(tls_conn *c, tls_writer *w, const tls_certified_key *ck)
{
    static const char context[] = "TLS 1.3, client CertificateVerify";
    tls13_client_hs *hs = &c->hs.client.v13;
    uint8_t content[64 + sizeof context + TLS_MAX_HASH_LEN];
    size_t mark = w->len;

    memset(content, 0x20, 64);
    memcpy(content + 64, context, sizeof context);
    tls__transcript_current(&hs->transcript, content + 64 + sizeof context);
    TRY(tls__client_write_certificate_verify(w, ck, hs->client_auth_scheme, content,
                                             64 + sizeof context + hs->ks.hash_len));
    tls__transcript_add(&hs->transcript, w->buf + mark, w->len - mark);
    return TLS_OK;
}

/* [Certificate, [CertificateVerify]] and Finished under our handshake keys, then our
 * application keys (§4.4; §4.4.2: without a certificate that fits the request, an empty
 * Certificate and no CertificateVerify). */
static tls_error write_client_flight(tls_conn *c, tls_writer *w)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    const tls_certified_key *ck = hs->client_auth_scheme ? c->client_cfg->client_cert : NULL;
    const tls_slice context = {NULL, 0}; /* the request's, which is empty (§4.3.2) */
    uint8_t thash[TLS_MAX_HASH_LEN], mac[TLS_MAX_HASH_LEN];
    size_t mark;

    if (hs->cert_requested) {
        tls__client_write_certificate(w, ck, context, true);
        ENSURE(tls_writer_ok(w), TLS_ERR_INTERNAL);
        tls__transcript_add(&hs->transcript, w->buf, w->len);
        if (ck)
            TRY(write_certificate_verify(c, w, ck));
    }
    tls__transcript_current(&hs->transcript, thash);
    TRY(tls13_finished_mac(hs->ks.hash, hs->client_hs_secret, thash, mac));
    mark = w->len;
    tls__hs_begin(w, TLS_HS_FINISHED);
    tls_write_bytes(w, mac, hs->ks.hash_len);
    tls__hs_end(w);
    tls__wipe(mac, sizeof mac);
    ENSURE(tls_writer_ok(w), TLS_ERR_INTERNAL);
    tls__transcript_add(&hs->transcript, w->buf + mark, w->len - mark);
    return TLS_OK;
}

static tls_error send_client_flight(tls_conn *c)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    const tls_certified_key *ck = hs->client_auth_scheme ? c->client_cfg->client_cert : NULL;
    uint8_t thash[TLS_MAX_HASH_LEN];
    size_t cap = 16 + TLS_MAX_HASH_LEN;
    tls_writer w;

    if (c->hs.client.offer.early_open)
        TRY(send_end_of_early_data(c));
    if (hs->cert_requested)
        cap += tls__client_certificate_size(ck, 0) + 8 + TLS_MAX_SIGNATURE_LEN;
    uint8_t *flight = tls__alloc(cap);
    ENSURE(flight, TLS_ERR_NO_MEMORY);
    tls_writer_init(&w, flight, cap);
    tls_error err = write_client_flight(c, &w);
    if (err == TLS_OK)
        err = tls__conn_send_handshake(c, flight, w.len);
    tls__wipe(flight, w.len); /* verify_data */
    tls__free(flight, cap);
    TRY(err);
    TRY(tls__conn_set_write_secret(c, hs->suite, hs->client_app_secret));
    /* §7.1: resumption_master_secret covers the transcript through our Finished. */
    if (c->client_cfg->sessions) {
        tls__transcript_current(&hs->transcript, thash);
        TRY(tls13_keysched_derive(&hs->ks, "res master", thash, hs->res_master));
        hs->have_res_master = true;
    }
    return TLS_OK;
}

static tls_error hs_expect_finished(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    uint8_t thash[TLS_MAX_HASH_LEN], expected[TLS_MAX_HASH_LEN];
    size_t n = hs->ks.hash_len;

    ENSURE(len - 4 == n, TLS_ERR_DECODE);
    tls__transcript_current(&hs->transcript, thash);
    TRY(tls13_finished_mac(hs->ks.hash, hs->server_hs_secret, thash, expected));
    bool ok = tls__ct_equal(msg + 4, expected, n);
    tls__wipe(expected, sizeof expected);
    ENSURE(ok, TLS_ERR_BAD_FINISHED);
    tls__transcript_add(&hs->transcript, msg, len);

    /* §7.1: the application secrets cover the transcript through the server Finished. */
    tls__transcript_current(&hs->transcript, thash);
    TRY(tls13_keysched_master(&hs->ks));
    TRY(tls13_keysched_derive(&hs->ks, "c ap traffic", thash, hs->client_app_secret));
    TRY(tls13_keysched_derive(&hs->ks, "s ap traffic", thash, hs->server_app_secret));
    TRY(tls__conn_set_exporter13(c, &hs->ks, thash));
    TRY(tls__conn_set_read_secret(c, hs->suite, hs->server_app_secret));
    TRY(send_client_flight(c));
    tls13_keysched_clear(&hs->ks);
    tls__wipe(hs->client_hs_secret, sizeof hs->client_hs_secret);
    tls__wipe(hs->server_hs_secret, sizeof hs->server_hs_secret);
    /* The ticket offered is spent, accepted or not. */
    tls__client_ticket13_free(c->hs.client.offer.ticket13);
    c->hs.client.offer.ticket13 = NULL;
    set_state(c, HS13C_CONNECTED);
    return tls__conn_handshake_complete(c);
}

/* ---- after the handshake -------------------------------------------------------------------- */

/* §4.6.1: a ticket is parsed (so a malformed one is refused) and, with a session
 * store, kept under the name this connection was made for, with its PSK
 * HKDF-Expand-Label(resumption_master_secret, "resumption", ticket_nonce, Hash.length)
 * and what 0-RTT with it would have to match (suite, ALPN). A lifetime of 0 means
 * "discard at once". */
static tls_error hs_connected_new_session_ticket(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    tls_new_session_ticket_msg nst;
    tls_client_ticket13 *t;

    TRY(tls__new_session_ticket_parse(msg + 4, len - 4, &nst));
    if (!hs->have_res_master || nst.lifetime == 0)
        return TLS_OK;
    t = tls__client_ticket13_new(nst.ticket.len);
    ENSURE(t, TLS_ERR_NO_MEMORY);
    t->psk_len = tls__hash_len(hs->suite->hash);
    tls_error err = tls13_hkdf_expand_label(hs->suite->hash, hs->res_master, "resumption",
                                            nst.nonce.p, nst.nonce.len, t->psk, t->psk_len);
    if (err != TLS_OK) {
        tls__client_ticket13_free(t);
        return err;
    }
    t->suite = hs->suite->id;
    t->group = c->group;
    memcpy(t->ticket, nst.ticket.p, nst.ticket.len);
    t->age_add = nst.age_add;
    t->lifetime_s = nst.lifetime;
    t->max_early_data = nst.has_early_data ? nst.max_early_data : 0;
    t->received_ms = tls__client_now_ms();
    memcpy(t->alpn, c->alpn, (size_t)c->alpn[0] + 1);
    tls__client_sessions_put13(c->client_cfg->sessions, c->server_name, t);
    return TLS_OK;
}

tls_error tls__hs13_client_send_key_update(tls_conn *c, bool update_requested)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    uint8_t msg[5] = {TLS_HS_KEY_UPDATE, 0, 0, 1, update_requested ? 1 : 0};

    TRY(tls__conn_send_handshake(c, msg, sizeof msg));
    TRY(tls13_next_traffic_secret(hs->suite->hash, hs->client_app_secret));
    return tls__conn_set_write_secret(c, hs->suite, hs->client_app_secret);
}

static tls_error hs_connected_key_update(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_client_hs *hs = &c->hs.client.v13;

    ENSURE(len == 5, TLS_ERR_DECODE);
    /* §4.6.3: request_update is 0 or 1; anything else is illegal_parameter. */
    ENSURE(msg[4] <= 1, TLS_ERR_BAD_KEY_UPDATE);
    ENSURE(++c->key_updates_in_row <= c->limits->key_updates, TLS_ERR_TOO_MANY_KEY_UPDATES);
    TRY(tls13_next_traffic_secret(hs->suite->hash, hs->server_app_secret));
    TRY(tls__conn_set_read_secret(c, hs->suite, hs->server_app_secret));
    if (msg[4] == 1 && !c->close_sent)
        return tls__hs13_client_send_key_update(c, false);
    return TLS_OK;
}

/* ---- dispatch ------------------------------------------------------------------------------- */

tls_error tls__hs13_client_handle(tls_conn *c, const uint8_t *msg, size_t len)
{
    uint8_t type = msg[0];
    switch (c->hs.client.v13.state) {
    case HS13C_EXPECT_SERVER_HELLO:
        ENSURE(type == TLS_HS_SERVER_HELLO, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_server_hello(c, msg, len);
    case HS13C_EXPECT_ENCRYPTED_EXTENSIONS:
        ENSURE(type == TLS_HS_ENCRYPTED_EXTENSIONS, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_encrypted_extensions(c, msg, len);
    case HS13C_EXPECT_CERTIFICATE_OR_REQUEST:
        if (type == TLS_HS_CERTIFICATE_REQUEST)
            return hs_expect_certificate_request(c, msg, len);
        ENSURE(type == TLS_HS_CERTIFICATE, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_certificate(c, msg, len);
    case HS13C_EXPECT_CERTIFICATE:
        ENSURE(type == TLS_HS_CERTIFICATE, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_certificate(c, msg, len);
    case HS13C_EXPECT_CERTIFICATE_VERIFY:
        ENSURE(type == TLS_HS_CERTIFICATE_VERIFY, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_certificate_verify(c, msg, len);
    case HS13C_EXPECT_FINISHED:
        ENSURE(type == TLS_HS_FINISHED, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_finished(c, msg, len);
    case HS13C_CONNECTED:
        if (type == TLS_HS_NEW_SESSION_TICKET)
            return hs_connected_new_session_ticket(c, msg, len);
        ENSURE(type == TLS_HS_KEY_UPDATE, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_connected_key_update(c, msg, len);
    default:
        return TLS_ERR_INTERNAL;
    }
}

void tls__hs13_client_clear(tls13_client_hs *hs)
{
    tls__transcript_clear(&hs->transcript);
    tls13_keysched_clear(&hs->ks);
    tls__wipe(hs, sizeof *hs); /* the traffic and resumption secrets with it */
}

/* ---- 0-RTT ---------------------------------------------------------------------------------- */

/* How many TLS bytes may wait in conn->out before early data stops being taken (as
 * conn.c bounds application writes). */
#define EARLY_OUT_LIMIT (64 * 1024)

tls_error tls__hs13_client_start_early_data(tls_conn *c)
{
    tls_client_offer *o = &c->hs.client.offer;
    const tls_suite *suite = o->psk_suite;
    uint8_t thash[TLS_MAX_HASH_LEN], secret[TLS_MAX_HASH_LEN];
    tls13_keysched early;

    /* §7.1: client_early_traffic_secret = Derive-Secret(Early Secret, "c e traffic",
     * ClientHello1), with the ticket's suite (§4.2.10). */
    tls__hash(suite->hash, o->hello, o->hello_len, thash);
    tls_error err =
        tls13_keysched_init(&early, suite->hash, o->ticket13->psk, o->ticket13->psk_len);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&early, "c e traffic", thash, secret);
    tls13_keysched_clear(&early);
    /* §D.4: the compatibility CCS goes right after ClientHello1 when 0-RTT follows. */
    if (err == TLS_OK)
        err = tls__client_send_compat_ccs(c);
    if (err == TLS_OK)
        err = tls__conn_set_write_secret(c, suite, secret);
    tls__wipe(secret, sizeof secret);
    TRY(err);
    o->early_open = true;
    return TLS_OK;
}

size_t tls__client_early_data_capacity(const tls_conn *c)
{
    return c->hs.client.offer.early_open && !c->close_sent ? c->early_data_left : 0;
}

tls_error tls__client_write_early_data(tls_conn *c, const uint8_t *buf, size_t len, size_t *n)
{
    *n = 0;
    ENSURE(tls__client_early_data_capacity(c) > 0, TLS_ERR_INVALID_ARGUMENT);
    if (len > c->early_data_left)
        len = c->early_data_left;
    while (*n < len && c->out.len < EARLY_OUT_LIMIT) {
        size_t chunk = len - *n;
        if (chunk > c->max_fragment_size)
            chunk = c->max_fragment_size;
        TRY(tls__conn_send_early_data(c, buf + *n, chunk));
        *n += chunk;
        c->early_data_left -= (uint32_t)chunk;
    }
    return TLS_OK;
}
