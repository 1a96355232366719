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
 *   Finished, the key schedule until the application secrets are derived (no tickets
 *   or exporters yet), the application secrets for KeyUpdate until tls__hs13_client_clear.
 */
#include <string.h>

#include "../conn.h"
#include "hs.h"

/* KeyUpdates tolerated between two application data records (as the server). */
#define MAX_KEY_UPDATES_IN_ROW 16

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

/* ---- the ServerHello ---------------------------------------------------------------------- */

/* No supported_versions: the server speaks TLS 1.2 or older (§4.2.1). */
static tls_error server_chose_tls12_or_older(tls_conn *c, const tls_server_hello *sh,
                                             const uint8_t *msg, size_t len)
{
    const tls_client_offer *o = &c->hs.client.offer;

    /* §4.1.4: after a HelloRetryRequest the version may not change. */
    ENSURE(!c->did_hrr, TLS_ERR_ILLEGAL_PARAMETER);
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
    /* supported_versions answers only a TLS 1.3 offer; we offer no pre_shared_key. */
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
    TRY(tls__client_send_compat_ccs(c));
    /* §4.1.2: the same hello but for the share and the cookie (we send no early_data). */
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
    if (err == TLS_OK)
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
    const tls_client_offer *o = &c->hs.client.offer;

    /* §4.2.8: without a PSK, (EC)DHE is the only key exchange there is. */
    ENSURE(has_ext(sh->ext.seen, TLS_EXT_KEY_SHARE), TLS_ERR_MISSING_EXTENSION);
    /* §4.2.8: for the group we sent our share for (after an HRR, the one it asked). */
    ENSURE(o->kx && sh->ext.key_share_group == o->kx_group, TLS_ERR_SELECTED_UNOFFERED);
    if (!c->did_hrr)
        start_transcript(c, sh->cipher_suite);
    tls__transcript_add(&hs->transcript, msg, len);
    c->group = sh->ext.key_share_group;
    TRY(derive_handshake_secrets(c, sh));
    TRY(tls__client_send_compat_ccs(c));
    TRY(tls__conn_set_read_secret(c, hs->suite, hs->server_hs_secret));
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

static tls_error hs_expect_encrypted_extensions(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    uint32_t allowed = tls__ext_bit(TLS_EXT_SERVER_NAME) | tls__ext_bit(TLS_EXT_ALPN) |
                       tls__ext_bit(TLS_EXT_SUPPORTED_GROUPS);
    tls_server_exts ee;

    TRY(tls__encrypted_extensions_parse(msg + 4, len - 4, &ee));
    /* §4.3.1 and §4.2: only answers to what we offered; supported_groups is the
     * server's preference, informative only. An empty server_name (RFC 6066 §3) only
     * acknowledges a name we sent. */
    ENSURE(!(ee.seen & ~allowed), TLS_ERR_UNSOLICITED_EXTENSION);
    ENSURE(!has_ext(ee.seen, TLS_EXT_SERVER_NAME) || tls__client_sends_sni(c),
           TLS_ERR_UNSOLICITED_EXTENSION);
    if (has_ext(ee.seen, TLS_EXT_ALPN))
        TRY(tls__client_accept_alpn(c, ee.alpn));
    tls__transcript_add(&hs->transcript, msg, len);
    set_state(c, HS13C_EXPECT_CERTIFICATE_OR_REQUEST);
    return TLS_OK;
}

static tls_error hs_expect_certificate_request(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    tls_certificate_request_msg cr;

    TRY(tls__certificate_request_parse(msg + 4, len - 4, &cr));
    ENSURE(cr.has_sig_algs, TLS_ERR_MISSING_EXTENSION);
    /* §4.3.2: the context is empty during the handshake. */
    ENSURE(cr.context.len == 0, TLS_ERR_ILLEGAL_PARAMETER);
    hs->cert_requested = true;
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
    TRY(tls__client_verify_signature(c, cv.scheme, content,
                                     64 + sizeof context + hs->ks.hash_len, cv.signature));
    c->sig_scheme = cv.scheme;
    tls__transcript_add(&hs->transcript, msg, len);
    set_state(c, HS13C_EXPECT_FINISHED);
    return TLS_OK;
}

/* [empty Certificate] and Finished under our handshake keys, then our application keys
 * (§4.4, §4.4.2: a client without a certificate answers a request with an empty one). */
static tls_error send_client_flight(tls_conn *c)
{
    tls13_client_hs *hs = &c->hs.client.v13;
    uint8_t flight[16 + TLS_MAX_HASH_LEN], thash[TLS_MAX_HASH_LEN], mac[TLS_MAX_HASH_LEN];
    tls_writer w;
    size_t mark;

    tls_writer_init(&w, flight, sizeof flight);
    if (hs->cert_requested) {
        tls__hs_begin(&w, TLS_HS_CERTIFICATE);
        tls_write_vec8(&w, NULL, 0); /* certificate_request_context, as the request's */
        tls_write_vec24_begin(&w);
        tls_writer_end(&w);
        tls__hs_end(&w);
        tls__transcript_add(&hs->transcript, flight, w.len);
    }
    tls__transcript_current(&hs->transcript, thash);
    TRY(tls13_finished_mac(hs->ks.hash, hs->client_hs_secret, thash, mac));
    mark = w.len;
    tls__hs_begin(&w, TLS_HS_FINISHED);
    tls_write_bytes(&w, mac, hs->ks.hash_len);
    tls__hs_end(&w);
    tls__wipe(mac, sizeof mac);
    ENSURE(tls_writer_ok(&w), TLS_ERR_INTERNAL);
    tls__transcript_add(&hs->transcript, flight + mark, w.len - mark);
    TRY(tls__conn_send_handshake(c, flight, w.len));
    return tls__conn_set_write_secret(c, hs->suite, hs->client_app_secret);
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
    tls13_keysched_clear(&hs->ks); /* no resumption needs the master secret yet */
    TRY(tls__conn_set_read_secret(c, hs->suite, hs->server_app_secret));
    TRY(send_client_flight(c));
    tls__wipe(hs->client_hs_secret, sizeof hs->client_hs_secret);
    tls__wipe(hs->server_hs_secret, sizeof hs->server_hs_secret);
    set_state(c, HS13C_CONNECTED);
    return tls__conn_handshake_complete(c);
}

/* ---- after the handshake -------------------------------------------------------------------- */

/* §4.6.1: tickets are parsed (so a malformed one is refused) and dropped until
 * resumption lands. */
static tls_error hs_connected_new_session_ticket(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls_new_session_ticket_msg nst;
    (void)c;
    return tls__new_session_ticket_parse(msg + 4, len - 4, &nst);
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
    ENSURE(++c->key_updates_in_row <= MAX_KEY_UPDATES_IN_ROW, TLS_ERR_TOO_MANY_KEY_UPDATES);
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
    tls__wipe(hs, sizeof *hs);
}

/* 0-RTT is not offered yet: nothing may be sent early. */
size_t tls__client_early_data_capacity(const tls_conn *c)
{
    (void)c;
    return 0;
}

tls_error tls__client_write_early_data(tls_conn *c, const uint8_t *buf, size_t len, size_t *n)
{
    (void)c, (void)buf, (void)len;
    *n = 0;
    return TLS_ERR_INVALID_ARGUMENT;
}
