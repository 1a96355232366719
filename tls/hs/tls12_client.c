/*
 * tls12_client.c — the TLS 1.2 client handshake, rustls's safe subset (RFC 5246, RFC 8422,
 * RFC 7627, RFC 5746, RFC 7905): ECDHE key exchange with AEAD suites only; resumption by
 * session id and RFC 5077 ticket, of sessions with the extended master secret only;
 * renegotiation refused. The mirror image of tls12_server.c.
 *
 * tls13_client.c hands a ServerHello without supported_versions to
 * tls__hs12_client_server_hello (see hs.h for what it has checked); from then on one
 * handler per state (hs_expect_*), one dispatch point, one place where the state changes
 * (set_state). The server's ChangeCipherSpec arrives as a record through
 * tls__hs12_client_ccs.
 *
 * Implementation notes:
 * - The transcript starts at the ServerHello (the suite names the PRF hash) with the
 *   ClientHello the offer kept. Our TLS 1.3 key share, if any, is useless here: freed.
 * - The ServerKeyExchange signature is checked against the end entity's public key
 *   directly (tls__verify_spki), not through tls__client_verify_signature: in TLS 1.2 an
 *   ECDSA scheme names the hash only, not the curve (RFC 5246 §7.4.1.4.1; RFC 8446 binds
 *   them for 1.3 only), and servers do sign with ecdsa_secp256r1_sha256 from a P-384 key
 *   (OpenSSL picks the first ECDSA scheme in our list, whatever its key's curve). rustls
 *   accepts the same pairs.
 * - Our ECDHE key is made, used and freed inside the ServerHelloDone handler; the
 *   pre-master secret never outlives it. The master secret and key block live until the
 *   server's Finished verifies (RFC 7627 §3: with EMS, the session hash runs through
 *   ClientKeyExchange, so nothing can be derived earlier).
 * - No False Start: application data waits for the server's Finished.
 * - Resumption (RFC 5246 §7.3, RFC 5077 §3.1, RFC 7627 §5.3): the ServerHello echoing
 *   the session id we offered (client_common.c: the stored session's, or a random one
 *   next to its ticket) means an abbreviated handshake: same suite, same EMS, the
 *   stored master secret with the new randoms; [NewSessionTicket], the server's CCS and
 *   Finished, then ours. Any other session id means a full handshake, and the stored
 *   session is forgotten. The Finished we expect is computed when it arrives, since a
 *   NewSessionTicket may enter the transcript before it.
 * - A completed full handshake with EMS is stored (the server's session id and/or the
 *   ticket of its NewSessionTicket); a resumed one replaces the stored ticket with a
 *   new one if the server sent it.
 * - Client authentication (RFC 5246 §7.4.4, §7.4.6, §7.4.8): CertificateVerify signs the
 *   handshake messages themselves, and our signers (tls__sign) hash what they are given
 *   (or, for Ed25519, hash nothing first), so the running transcript hash cannot serve.
 *   With a client certificate configured, a full handshake therefore keeps a copy of
 *   every message (transcript_add, the one way messages enter the transcript) until the
 *   CertificateVerify is signed, or until the CertificateRequest (or its absence at
 *   ServerHelloDone) shows it will not be; then the copy is freed. Without a client
 *   certificate, or when resuming, nothing is copied. Our certificate goes out when the
 *   request lists its type (rsa_sign; ecdsa_sign for ECDSA and Ed25519, RFC 8422 §5.5)
 *   and a scheme for its key; otherwise the Certificate is empty and nothing is signed.
 *   The EMS session hash ends at ClientKeyExchange (RFC 7627 §3), before the
 *   CertificateVerify; the Finished covers it.
 */
#include <string.h>

#include "../conn.h"
#include "hs.h"

/* RFC 5077 §3.3: how long a ticket may be offered is the server's hint, capped. */
#define SESSION_LIFETIME(hint)                                                                     \
    ((hint) && (hint) < TLS_CLIENT_SESSION12_MAX_AGE_S ? (hint) : TLS_CLIENT_SESSION12_MAX_AGE_S)

enum {
    TLS_HS_HELLO_REQUEST = 0,
    TLS_HS_SERVER_KEY_EXCHANGE = 12,
    TLS_HS_SERVER_HELLO_DONE = 14,
    TLS_HS_CLIENT_KEY_EXCHANGE = 16,
};

/* HelloRequests answered with a no_renegotiation warning before we give up on the server
 * (each costs us an encrypted alert; a server that keeps asking will not take no). */
#define MAX_RENEGOTIATION_REFUSALS 3

static void set_state(tls_conn *c, tls12_client_state next)
{
    c->hs.client.v12.state = next;
}

static bool has_ext(uint32_t seen, uint16_t type)
{
    return (seen & tls__ext_bit(type)) != 0;
}

/* ---- the transcript (and, for client authentication, the messages themselves) ---------- */

/* Every handshake message goes through here: into the transcript hash and, while a
 * CertificateVerify may still be needed, into the log it will sign. */
static tls_error transcript_add(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_client_hs *hs = &c->hs.client.v12;

    tls__transcript_add(&hs->transcript, msg, len);
    return hs->auth_log.p ? tls__msg_log_add(&hs->auth_log, msg, len) : TLS_OK;
}

/* ---- the ServerHello ---------------------------------------------------------------------- */

/* RFC 5246 §7.4.1.3 and §7.4.1.4: what we offered, and nothing else. */
static tls_error check_server_hello(tls_conn *c, const tls_server_hello *sh)
{
    /* Answers to the extensions a ClientHello offering TLS 1.2 carries: renegotiation_info,
     * extended_master_secret and ec_point_formats always, server_name and ALPN when we
     * sent them. key_share, supported_versions and the rest answer nothing we asked of a
     * TLS 1.2 server. */
    uint32_t allowed = tls__ext_bit(TLS_EXT_RENEGOTIATION_INFO) |
                       tls__ext_bit(TLS_EXT_EXTENDED_MASTER_SECRET) |
                       tls__ext_bit(TLS_EXT_EC_POINT_FORMATS) | tls__ext_bit(TLS_EXT_ALPN);
    if (tls__client_sends_sni(c))
        allowed |= tls__ext_bit(TLS_EXT_SERVER_NAME); /* RFC 6066 §3: an empty ack */
    if (c->hs.client.offer.ticket12_ext)
        allowed |= tls__ext_bit(TLS_EXT_SESSION_TICKET); /* RFC 5077 §3.2: an empty ack */
    allowed |= tls__ext_bit(TLS_EXT_SCT);                /* always offered (RFC 6962 §3.3.1) */

    /* A suite we offered for TLS 1.2 (a TLS 1.3 suite here is one we did not). */
    ENSURE(tls__client_offered_suite(c, sh->cipher_suite, TLS_VERSION_1_2),
           TLS_ERR_SELECTED_UNOFFERED);
    ENSURE(sh->compression == 0, TLS_ERR_SELECTED_UNOFFERED); /* we offer null only */
    ENSURE(!(sh->ext.seen & ~allowed), TLS_ERR_UNSOLICITED_EXTENSION);
    /* RFC 5746 §3.4: on an initial handshake renegotiated_connection is empty. Its absence
     * is tolerated (§3.4 lets the client go on; we never renegotiate anyway). */
    ENSURE(!has_ext(sh->ext.seen, TLS_EXT_RENEGOTIATION_INFO) ||
               sh->ext.renegotiation_info.len == 0,
           TLS_ERR_BAD_RENEGOTIATION_INFO);
    /* RFC 8422 §5.2: if the server lists point formats, uncompressed must be among them. */
    ENSURE(!has_ext(sh->ext.seen, TLS_EXT_EC_POINT_FORMATS) ||
               memchr(sh->ext.ec_point_formats.p, 0, sh->ext.ec_point_formats.len) != NULL,
           TLS_ERR_UNCOMPRESSED_POINTS_REQUIRED);
    if (has_ext(sh->ext.seen, TLS_EXT_ALPN))
        TRY(tls__client_accept_alpn(c, sh->ext.alpn));
    return TLS_OK;
}

/* Key block layout (RFC 5246 §6.3; AEAD suites have no MAC keys). */
static const uint8_t *client_key(const tls12_client_hs *hs)
{
    return hs->key_block;
}

static const uint8_t *server_key(const tls12_client_hs *hs, const tls_suite *s)
{
    return hs->key_block + s->key_len;
}

static const uint8_t *client_iv(const tls12_client_hs *hs, const tls_suite *s)
{
    return hs->key_block + 2 * s->key_len;
}

static const uint8_t *server_iv(const tls12_client_hs *hs, const tls_suite *s)
{
    return hs->key_block + 2 * s->key_len + s->fixed_iv_len;
}

/* key_block = PRF(master, "key expansion", server_random || client_random) (§6.3). */
static tls_error make_key_block(tls_conn *c)
{
    tls12_client_hs *hs = &c->hs.client.v12;
    const tls_suite *suite = c->suite;
    return tls12_prf(suite->hash, hs->master, sizeof hs->master, "key expansion", hs->server_random,
                     32, c->hs.client.offer.random, 32, hs->key_block,
                     2 * suite->key_len + 2 * suite->fixed_iv_len);
}

/* RFC 5246 §7.4.1.3: the server echoing the session id we offered resumes that session,
 * which must then keep its suite and (RFC 7627 §5.3) its extended master secret. An id
 * of ours with no session behind it (a random §D.4 one) cannot be resumed at all. */
static tls_error check_resumption(tls_conn *c, const tls_server_hello *sh, bool *resuming)
{
    tls_client_offer *o = &c->hs.client.offer;

    *resuming = sh->session_id.len > 0 && sh->session_id.len == o->session_id_len &&
                !memcmp(sh->session_id.p, o->session_id, o->session_id_len);
    if (!*resuming) {
        if (o->session12) /* declined: offering it again is pointless */
            tls__client_sessions_forget12(c->client_cfg->sessions, c->server_name);
        return TLS_OK;
    }
    ENSURE(o->session12, TLS_ERR_ILLEGAL_PARAMETER);
    ENSURE(sh->cipher_suite == o->session12->suite, TLS_ERR_RESUMPTION_MISMATCH);
    ENSURE(c->ems == o->session12->ems, TLS_ERR_RESUMPTION_EMS_MISMATCH);
    return TLS_OK;
}

tls_error tls__hs12_client_server_hello(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_client_hs *hs = &c->hs.client.v12;
    tls_client_offer *o = &c->hs.client.offer;
    tls_server_hello sh;
    bool resuming;

    /* From here on cleanup and alerts are TLS 1.2's. */
    memset(hs, 0, sizeof *hs);
    c->version = TLS_VERSION_1_2;
    tls__kx_free(o->kx);
    o->kx = NULL;

    TRY(tls__server_hello_parse(msg + 4, len - 4, &sh));
    TRY(check_server_hello(c, &sh));
    TRY(tls__conn_set_peer_scts(c, sh.ext.scts));
    c->suite = tls__suite_find(sh.cipher_suite);
    /* RFC 7627 §5.2: we always offer it; the server's echo decides. Without it the
     * handshake goes on with the RFC 5246 master secret (no client option requires EMS). */
    c->ems = has_ext(sh.ext.seen, TLS_EXT_EXTENDED_MASTER_SECRET);
    TRY(check_resumption(c, &sh, &resuming));
    memcpy(hs->server_random, sh.random, sizeof hs->server_random);
    hs->session_id_len = sh.session_id.len;
    memcpy(hs->session_id, sh.session_id.p, sh.session_id.len);
    /* RFC 5077 §3.3: the server's session_ticket promises a NewSessionTicket. */
    hs->ticket_expected = has_ext(sh.ext.seen, TLS_EXT_SESSION_TICKET);

    tls__transcript_start(&hs->transcript, c->suite->hash);
    /* Only a full handshake can bring a CertificateRequest (an abbreviated one keeps the
     * session's authentication, RFC 5246 §7.3). */
    if (!resuming && c->client_cfg->client_cert) {
        TRY(tls__msg_log_start(&hs->auth_log));
    }
    TRY(transcript_add(c, o->hello, o->hello_len));
    tls__free(o->hello, o->hello_len);
    o->hello = NULL;
    o->hello_len = 0;
    TRY(transcript_add(c, msg, len));
    if (!resuming) {
        set_state(c, HS12C_EXPECT_CERTIFICATE);
        return TLS_OK;
    }
    hs->resuming = true;
    c->resumed = true;
    memcpy(hs->master, o->session12->master, sizeof hs->master);
    TRY(make_key_block(c));
    set_state(c, hs->ticket_expected ? HS12C_EXPECT_NEW_SESSION_TICKET
                                     : HS12C_EXPECT_CHANGE_CIPHER_SPEC);
    return TLS_OK;
}

/* ---- the server's authentication ---------------------------------------------------------- */

static tls_error hs_expect_certificate(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls_certificate_msg cert;

    TRY(tls__certificate_parse(msg + 4, len - 4, false, &cert));
    TRY(tls__client_verify_chain(c, &cert));
    TRY(transcript_add(c, msg, len));
    set_state(c, HS12C_EXPECT_SERVER_KEY_EXCHANGE);
    return TLS_OK;
}

/* One DER TLV of tag `tag`: *tlv spans header and contents, *contents the contents. Only
 * the lengths are checked: whoever reads the contents parses them properly. */
static bool der_read(tls_reader *r, uint8_t tag, tls_slice *tlv, tls_reader *contents)
{
    const uint8_t *start = r->p;
    uint8_t t, first;
    size_t n = 0;

    if (!tls_read_u8(r, &t) || t != tag || !tls_read_u8(r, &first))
        return false;
    if (first < 0x80) {
        n = first;
    } else {
        size_t bytes = first & 0x7f;
        if (bytes == 0 || bytes > 3) /* indefinite or absurdly long for a certificate */
            return false;
        while (bytes--) {
            uint8_t b;
            if (!tls_read_u8(r, &b))
                return false;
            n = (n << 8) | b;
        }
    }
    if (tls_reader_left(r) < n)
        return false;
    tls_reader_init(contents, r->p, n);
    if (!tls_read_skip(r, n))
        return false;
    tlv->p = start;
    tlv->len = (size_t)(r->p - start);
    return true;
}

/* RFC 5280 §4.1: the subjectPublicKeyInfo of a certificate, header included. */
static bool certificate_spki(const uint8_t *der, size_t len, tls_slice *spki)
{
    static const uint8_t before_spki[] = {0x02, 0x30, 0x30, 0x30, 0x30}; /* serialNumber,
                                                      signature, issuer, validity, subject */
    tls_reader r, cert, tbs, skip;
    tls_slice tlv;

    tls_reader_init(&r, der, len);
    if (!der_read(&r, 0x30, &tlv, &cert) || !der_read(&cert, 0x30, &tlv, &tbs))
        return false;
    if (tls_reader_left(&tbs) && tbs.p[0] == 0xa0 && !der_read(&tbs, 0xa0, &tlv, &skip))
        return false; /* [0] version */
    for (size_t i = 0; i < sizeof before_spki; i++)
        if (!der_read(&tbs, before_spki[i], &tlv, &skip))
            return false;
    return der_read(&tbs, 0x30, spki, &skip);
}

/* What each TLS 1.2 signature scheme we offer asks of the key: its kind and hash. */
static const struct {
    uint16_t scheme;
    tls_x509_sig_kind kind;
    tls_hash_id hash;
} scheme_kinds[] = {
    {TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_X509_SIG_ECDSA, TLS_HASH_SHA256}, /* any curve */
    {TLS_SIG_ECDSA_SECP384R1_SHA384, TLS_X509_SIG_ECDSA, TLS_HASH_SHA384},
    {TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_X509_SIG_RSA_PSS, TLS_HASH_SHA256},
    {TLS_SIG_RSA_PSS_RSAE_SHA384, TLS_X509_SIG_RSA_PSS, TLS_HASH_SHA384},
    {TLS_SIG_RSA_PSS_RSAE_SHA512, TLS_X509_SIG_RSA_PSS, TLS_HASH_SHA512},
    {TLS_SIG_RSA_PKCS1_SHA256, TLS_X509_SIG_RSA_PKCS1, TLS_HASH_SHA256},
    {TLS_SIG_RSA_PKCS1_SHA384, TLS_X509_SIG_RSA_PKCS1, TLS_HASH_SHA384},
    {TLS_SIG_RSA_PKCS1_SHA512, TLS_X509_SIG_RSA_PKCS1, TLS_HASH_SHA512},
    /* PureEdDSA: the hash is not used (offered only with a back end that has it). */
    {TLS_SIG_ED25519, TLS_X509_SIG_ED25519, TLS_HASH_SHA512},
};

/* False for a scheme we never offer. */
static bool scheme_kind(uint16_t scheme, tls_x509_sig_kind *kind, tls_hash_id *hash)
{
    for (size_t i = 0; i < sizeof scheme_kinds / sizeof scheme_kinds[0]; i++) {
        if (scheme_kinds[i].scheme == scheme) {
            *kind = scheme_kinds[i].kind;
            *hash = scheme_kinds[i].hash;
            return true;
        }
    }
    return false;
}

/* Checks the ServerKeyExchange signature with the kept end entity's key, which it then
 * frees (proven or not, it is not needed any more). Errors as
 * tls__client_verify_signature's. */
static tls_error verify_signature(tls_conn *c, tls_x509_sig_kind kind, tls_hash_id hash,
                                  const uint8_t *content, size_t content_len, tls_slice sig)
{
    tls_client_hs *hs = &c->hs.client;
    tls_error err = TLS_ERR_CERT_BAD_ENCODING; /* only reachable when no verifier looked */
    tls_slice spki;

    ENSURE(hs->end_entity, TLS_ERR_INTERNAL);
    if (certificate_spki(hs->end_entity, hs->end_entity_len, &spki))
        err = tls__verify_spki(spki.p, spki.len, kind, hash, content, content_len, sig.p, sig.len);
    tls__free(hs->end_entity, hs->end_entity_len);
    hs->end_entity = NULL;
    hs->end_entity_len = 0;
    switch (err) {
    case TLS_OK:
    case TLS_ERR_NO_MEMORY:
    case TLS_ERR_CERT_BAD_ENCODING:
    case TLS_ERR_INTERNAL:
        return err;
    case TLS_ERR_CERT_PARSE: /* the SPKI is not a public key */
        return TLS_ERR_CERT_BAD_ENCODING;
    default: /* a bad signature, or a key the scheme does not fit (or of an unsafe size) */
        return TLS_ERR_BAD_CERTIFICATE_VERIFY;
    }
}

/* RFC 8422 §5.4: the server's ECDHE parameters, signed over both randoms. */
static tls_error hs_expect_server_key_exchange(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_client_hs *hs = &c->hs.client.v12;
    const tls_client_offer *o = &c->hs.client.offer;
    uint8_t content[64 + 4 + 255];
    tls_server_key_exchange_msg ske;
    tls_x509_sig_kind kind;
    tls_hash_id hash;

    TRY(tls__server_key_exchange_parse(msg + 4, len - 4, &ske));
    /* RFC 8422 §5.4: a curve from our supported_groups. */
    ENSURE(tls__client_offered_group(c, ske.group), TLS_ERR_SELECTED_UNOFFERED);
    /* RFC 5246 §7.4.3: a scheme from our signature_algorithms... */
    ENSURE(tls__client_offered_sig_scheme(ske.sig.scheme) &&
               scheme_kind(ske.sig.scheme, &kind, &hash),
           TLS_ERR_SELECTED_UNOFFERED);
    /* ...of the kind the suite names: ECDHE_ECDSA signs with ECDSA or EdDSA, ECDHE_RSA
     * with RSA (RFC 8422 §2). With the key check below, this also holds the certificate
     * to it. */
    ENSURE((kind == TLS_X509_SIG_ECDSA || kind == TLS_X509_SIG_ED25519) ==
               (c->suite->auth == TLS_AUTH_ECDSA),
           TLS_ERR_ILLEGAL_PARAMETER);
    ENSURE(ske.params.len <= sizeof content - 64, TLS_ERR_INTERNAL); /* 4 + a vec8 */
    memcpy(content, o->random, 32);
    memcpy(content + 32, hs->server_random, 32);
    memcpy(content + 64, ske.params.p, ske.params.len);
    TRY(verify_signature(c, kind, hash, content, 64 + ske.params.len, ske.sig.signature));
    /* Longer than any group's point: tls__kx_agree would say the same at ServerHelloDone. */
    ENSURE(ske.point.len <= sizeof hs->server_point, TLS_ERR_INVALID_KEY_SHARE);
    memcpy(hs->server_point, ske.point.p, ske.point.len);
    hs->server_point_len = ske.point.len;
    c->group = ske.group;
    c->sig_scheme = ske.sig.scheme;
    TRY(transcript_add(c, msg, len));
    set_state(c, HS12C_EXPECT_SERVER_HELLO_DONE);
    return TLS_OK;
}

/* RFC 5246 §7.4.4 and RFC 8422 §5.5: the certificate type our key needs, rsa_sign (1) or
 * ecdsa_sign (64), which also covers Ed25519 keys. */
static bool cert_type_listed(const tls_certified_key *ck, tls_slice types)
{
    uint8_t want = ck->key_type == TLS_KEY_RSA ? 1 : 64;
    return types.len && memchr(types.p, want, types.len) != NULL;
}

/* RFC 5246 §7.4.4: our certificate goes out if the server takes its key type and one of
 * our schemes for it; certificate_authorities is a hint we do not act on (we have one
 * certificate; the server judges it). */
static tls_error hs_expect_certificate_request(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_client_hs *hs = &c->hs.client.v12;
    const tls_certified_key *ck = c->client_cfg->client_cert;
    tls_certificate_request12_msg cr;

    TRY(tls__certificate_request12_parse(msg + 4, len - 4, &cr));
    hs->cert_requested = true;
    if (ck && cert_type_listed(ck, cr.certificate_types))
        hs->client_auth_scheme = tls__sig_scheme_for_key(ck, cr.sig_algs, TLS_VERSION_1_2);
    if (!hs->client_auth_scheme)
        tls__msg_log_free(&hs->auth_log); /* nothing will be signed */
    return transcript_add(c, msg, len);
}

/* ---- our flight --------------------------------------------------------------------------- */

/* RFC 5246 §7.4.9: PRF(master, label, Hash(handshake messages so far)). */
static tls_error finished_data(const tls12_client_hs *hs, const tls_suite *suite, const char *label,
                               uint8_t out[TLS12_VERIFY_DATA_LEN])
{
    uint8_t thash[TLS_MAX_HASH_LEN];
    tls__transcript_current(&hs->transcript, thash);
    return tls12_prf(suite->hash, hs->master, sizeof hs->master, label, thash,
                     tls__hash_len(suite->hash), NULL, 0, out, TLS12_VERIFY_DATA_LEN);
}

/* Our ECDHE key for the server's group: ClientKeyExchange's point and the pre-master. */
static tls_error key_exchange(tls_conn *c, uint8_t *share, size_t *share_len, uint8_t *pre_master,
                              size_t *pre_master_len)
{
    const tls12_client_hs *hs = &c->hs.client.v12;
    tls_kx *kx = NULL;

    TRY(tls__kx_new(c->group, &kx));
    tls_error err = tls__kx_public(kx, share, TLS_MAX_KX_PUBLIC_LEN, share_len);
    if (err == TLS_OK)
        err = tls__kx_agree(kx, hs->server_point, hs->server_point_len, pre_master,
                            TLS_MAX_KX_SECRET_LEN, pre_master_len);
    tls__kx_free(kx);
    return err;
}

/* ChangeCipherSpec and Finished under the new keys: the end of our flight, in a full
 * handshake and in an abbreviated one (RFC 5246 §7.3, §7.4.9). */
static tls_error send_ccs_and_finished(tls_conn *c)
{
    tls12_client_hs *hs = &c->hs.client.v12;
    uint8_t fin[4 + TLS12_VERIFY_DATA_LEN] = {TLS_HS_FINISHED, 0, 0, TLS12_VERIFY_DATA_LEN};

    TRY(tls__conn_send_ccs(c));
    TRY(tls__record_cipher_install12(&c->wr, c->suite, client_key(hs), client_iv(hs, c->suite)));
    tls_error err = finished_data(hs, c->suite, "client finished", fin + 4);
    if (err == TLS_OK)
        err = transcript_add(c, fin, sizeof fin);
    if (err == TLS_OK)
        err = tls__conn_send_handshake(c, fin, sizeof fin);
    tls__wipe(fin, sizeof fin);
    return err;
}

/* RFC 5246 §7.4.8: CertificateVerify signs handshake_messages, everything from the
 * ClientHello through our ClientKeyExchange: the log, which ends there. Appended to w and
 * (only) to the transcript hash. */
static tls_error write_certificate_verify(tls_conn *c, tls_writer *w, const tls_certified_key *ck)
{
    tls12_client_hs *hs = &c->hs.client.v12;
    size_t mark = w->len;

    ENSURE(hs->auth_log.p, TLS_ERR_INTERNAL);
    tls_error err = tls__client_write_certificate_verify(w, ck, hs->client_auth_scheme,
                                                         hs->auth_log.p, hs->auth_log.len);
    tls__msg_log_free(&hs->auth_log);
    TRY(err);
    return transcript_add(c, w->buf + mark, w->len - mark);
}

/* [Certificate,] ClientKeyExchange, [CertificateVerify,] ChangeCipherSpec, Finished
 * (RFC 5246 §7.3); the master secret and key block on the way. The Certificate is empty
 * when ours does not fit the request or we have none (§7.4.6). */
static tls_error send_client_flight(tls_conn *c)
{
    tls12_client_hs *hs = &c->hs.client.v12;
    const tls_client_offer *o = &c->hs.client.offer;
    const tls_suite *suite = c->suite;
    const tls_certified_key *ck = hs->client_auth_scheme ? c->client_cfg->client_cert : NULL;
    const tls_slice no_context = {NULL, 0};
    uint8_t share[TLS_MAX_KX_PUBLIC_LEN];
    uint8_t pre_master[TLS_MAX_KX_SECRET_LEN], session_hash[TLS_MAX_HASH_LEN];
    size_t share_len = 0, pre_master_len = 0, cap = 16 + TLS_MAX_KX_PUBLIC_LEN;
    uint8_t *flight = NULL;
    tls_writer w;

    if (hs->cert_requested)
        cap += tls__client_certificate_size(ck, 0) + 8 + TLS_MAX_SIGNATURE_LEN;
    tls_error err = key_exchange(c, share, &share_len, pre_master, &pre_master_len);
    if (err != TLS_OK)
        goto out;
    flight = tls__alloc(cap);
    if (!flight) {
        err = TLS_ERR_NO_MEMORY;
        goto out;
    }
    tls_writer_init(&w, flight, cap);
    if (hs->cert_requested)
        tls__client_write_certificate(&w, ck, no_context, false);
    tls__hs_begin(&w, TLS_HS_CLIENT_KEY_EXCHANGE);
    tls_write_vec8(&w, share, share_len); /* RFC 8422 §5.7: ECPoint ecdh_Yc */
    tls__hs_end(&w);
    err = tls_writer_ok(&w) ? transcript_add(c, flight, w.len) : TLS_ERR_INTERNAL;
    if (err != TLS_OK)
        goto out;
    /* RFC 7627 §3: the session hash covers everything through ClientKeyExchange. */
    tls__transcript_current(&hs->transcript, session_hash);
    err = tls12_master_secret(suite->hash, pre_master, pre_master_len, c->ems ? session_hash : NULL,
                              o->random, hs->server_random, hs->master);
    if (err == TLS_OK)
        err = make_key_block(c);
    if (err == TLS_OK && ck)
        err = write_certificate_verify(c, &w, ck);
    if (err == TLS_OK)
        err = tls__conn_send_handshake(c, flight, w.len);
out:
    tls__wipe(pre_master, sizeof pre_master);
    tls__msg_log_free(&hs->auth_log); /* used, or never to be */
    tls__free(flight, cap);
    TRY(err);
    return send_ccs_and_finished(c);
}

static tls_error hs_expect_server_hello_done(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_client_hs *hs = &c->hs.client.v12;

    ENSURE(len == 4, TLS_ERR_DECODE); /* RFC 5246 §7.4.5: an empty body */
    TRY(transcript_add(c, msg, len));
    TRY(send_client_flight(c));
    set_state(c, hs->ticket_expected ? HS12C_EXPECT_NEW_SESSION_TICKET
                                     : HS12C_EXPECT_CHANGE_CIPHER_SPEC);
    return TLS_OK;
}

/* RFC 5077 §3.3: the ticket promised by the ServerHello, before the server's CCS; part
 * of the transcript its Finished covers. An empty ticket: the server changed its mind. */
static tls_error hs_expect_new_session_ticket(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_client_hs *hs = &c->hs.client.v12;
    tls_new_session_ticket12_msg nst;

    TRY(tls__new_session_ticket12_parse(msg + 4, len - 4, &nst));
    if (nst.ticket.len && c->client_cfg->sessions) {
        hs->new_ticket = tls__alloc(nst.ticket.len);
        ENSURE(hs->new_ticket, TLS_ERR_NO_MEMORY);
        memcpy(hs->new_ticket, nst.ticket.p, nst.ticket.len);
        hs->new_ticket_len = nst.ticket.len;
        hs->new_ticket_lifetime = nst.lifetime_hint;
    }
    TRY(transcript_add(c, msg, len));
    set_state(c, HS12C_EXPECT_CHANGE_CIPHER_SPEC);
    return TLS_OK;
}

/* ---- the server's Finished ---------------------------------------------------------------- */

tls_error tls__hs12_client_ccs(tls_conn *c)
{
    tls12_client_hs *hs = &c->hs.client.v12;

    ENSURE(hs->state == HS12C_EXPECT_CHANGE_CIPHER_SPEC, TLS_ERR_UNEXPECTED_MESSAGE);
    TRY(tls__record_cipher_install12(&c->rd, c->suite, server_key(hs, c->suite),
                                     server_iv(hs, c->suite)));
    set_state(c, HS12C_EXPECT_FINISHED);
    return TLS_OK;
}

/* The session this handshake leaves for the next one (a full handshake's, or the
 * resumed one with the server's new ticket), or NULL when there is none to keep: no
 * EMS (RFC 7627 §5.3: we never resume without it), or neither id nor ticket. */
static tls_client_session12 *session_to_store(const tls_conn *c)
{
    const tls12_client_hs *hs = &c->hs.client.v12;
    const tls_client_offer *o = &c->hs.client.offer;
    tls_client_session12 *s;

    if (!c->ems || (hs->resuming && !hs->new_ticket) ||
        (!hs->resuming && !hs->session_id_len && !hs->new_ticket))
        return NULL;
    s = tls__client_session12_new(hs->new_ticket_len);
    if (!s)
        return NULL; /* only a later resumption is lost */
    s->suite = c->suite->id;
    /* Resuming, the id is the one we offered (the server echoed it). */
    s->session_id_len = hs->resuming ? o->session12->session_id_len : hs->session_id_len;
    memcpy(s->session_id, hs->resuming ? o->session12->session_id : hs->session_id,
           s->session_id_len);
    if (hs->new_ticket_len)
        memcpy(s->ticket, hs->new_ticket, hs->new_ticket_len);
    s->lifetime_s =
        hs->new_ticket ? SESSION_LIFETIME(hs->new_ticket_lifetime) : TLS_CLIENT_SESSION12_MAX_AGE_S;
    memcpy(s->master, hs->master, sizeof s->master);
    s->ems = true;
    s->received_ms = tls__client_now_ms();
    return s;
}

static tls_error hs_expect_finished(tls_conn *c, const uint8_t *msg, size_t len)
{
    tls12_client_hs *hs = &c->hs.client.v12;
    tls_client_session_store *store = c->client_cfg->sessions;
    uint8_t expected[TLS12_VERIFY_DATA_LEN];

    ENSURE(len == 4 + TLS12_VERIFY_DATA_LEN, TLS_ERR_DECODE);
    TRY(finished_data(hs, c->suite, "server finished", expected));
    bool ok = tls__ct_equal(msg + 4, expected, TLS12_VERIFY_DATA_LEN);
    tls__wipe(expected, sizeof expected);
    ENSURE(ok, TLS_ERR_BAD_FINISHED);
    if (hs->resuming) { /* RFC 5246 §7.3: the server went first; now our CCS and Finished */
        TRY(transcript_add(c, msg, len));
        TRY(send_ccs_and_finished(c));
    }
    if (store) {
        tls_client_session12 *s = session_to_store(c);
        if (s)
            tls__client_sessions_put12(store, c->server_name, s);
        else if (!hs->resuming)
            tls__client_sessions_forget12(store, c->server_name);
    }
    /* The exporter keeps the master secret; the record ciphers hold the keys. */
    tls__conn_set_exporter12(c, hs->master, c->hs.client.offer.random, hs->server_random);
    tls__wipe(hs->master, sizeof hs->master);
    tls__wipe(hs->key_block, sizeof hs->key_block);
    tls__transcript_clear(&hs->transcript);
    tls__client_session12_free(c->hs.client.offer.session12);
    c->hs.client.offer.session12 = NULL;
    set_state(c, HS12C_CONNECTED);
    return tls__conn_handshake_complete(c);
}

/* RFC 5246 §7.4.1.1 and RFC 5746 §4.2: we never renegotiate; a warning keeps the
 * connection usable. A server that keeps asking is refused a few times, then dropped. */
static tls_error hs_connected_hello_request(tls_conn *c, const uint8_t *msg, size_t len)
{
    (void)msg;
    ENSURE(len == 4, TLS_ERR_DECODE); /* HelloRequest is empty */
    ENSURE(++c->renegotiations_refused <= MAX_RENEGOTIATION_REFUSALS,
           TLS_ERR_RENEGOTIATION_REPEATED);
    return tls__conn_send_warning(c, TLS_ALERT_NO_RENEGOTIATION);
}

/* ---- dispatch ------------------------------------------------------------------------------- */

tls_error tls__hs12_client_handle(tls_conn *c, const uint8_t *msg, size_t len)
{
    const tls12_client_hs *hs = &c->hs.client.v12;
    uint8_t type = msg[0];

    /* A HelloRequest during the handshake (§7.4.1.1 lets a client ignore it) is refused as
     * rustls refuses it: no server has a reason to send one before we are connected. */
    switch (hs->state) {
    case HS12C_EXPECT_CERTIFICATE:
        ENSURE(type == TLS_HS_CERTIFICATE, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_certificate(c, msg, len);
    case HS12C_EXPECT_SERVER_KEY_EXCHANGE:
        ENSURE(type == TLS_HS_SERVER_KEY_EXCHANGE, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_server_key_exchange(c, msg, len);
    case HS12C_EXPECT_SERVER_HELLO_DONE:
        if (type == TLS_HS_CERTIFICATE_REQUEST && !hs->cert_requested)
            return hs_expect_certificate_request(c, msg, len);
        ENSURE(type == TLS_HS_SERVER_HELLO_DONE, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_server_hello_done(c, msg, len);
    case HS12C_EXPECT_NEW_SESSION_TICKET:
        ENSURE(type == TLS_HS_NEW_SESSION_TICKET, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_new_session_ticket(c, msg, len);
    case HS12C_EXPECT_CHANGE_CIPHER_SPEC:
        return TLS_ERR_UNEXPECTED_HANDSHAKE; /* a Finished before the ChangeCipherSpec, say */
    case HS12C_EXPECT_FINISHED:
        ENSURE(type == TLS_HS_FINISHED, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_expect_finished(c, msg, len);
    case HS12C_CONNECTED:
        ENSURE(type == TLS_HS_HELLO_REQUEST, TLS_ERR_UNEXPECTED_HANDSHAKE);
        return hs_connected_hello_request(c, msg, len);
    default:
        return TLS_ERR_INTERNAL;
    }
}

void tls__hs12_client_clear(tls12_client_hs *hs)
{
    tls__transcript_clear(&hs->transcript);
    tls__msg_log_free(&hs->auth_log);
    if (hs->new_ticket) {
        tls__wipe(hs->new_ticket, hs->new_ticket_len);
        tls__free(hs->new_ticket, hs->new_ticket_len);
    }
    tls__wipe(hs, sizeof *hs);
}
