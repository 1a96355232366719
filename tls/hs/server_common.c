/*
 * server_common.c — server-side choices shared by the TLS 1.3 and TLS 1.2
 * handshakes: the certificate for the client's name, the ALPN protocol, and client
 * authentication (what a CertificateRequest lists, the client's chain and signature,
 * and the client identity a resumed session carries).
 */
#include <string.h>
#include <time.h>

#include "../conn.h"
#include "../ticket.h"
#include "../verify.h"
#include "hs.h"

typedef struct {
    const tls_conn *conn;
    const tls_client_hello *ch;
    tls_server_cert_usable_fn usable;
} rank_ctx;

static int rank_for_client(const void *arg, const tls_certified_key *ck)
{
    const rank_ctx *r = arg;
    if (!r->usable(r->conn, r->ch, ck))
        return 0;
    return ck->key_type == TLS_KEY_RSA ? 1 : 2;
}

tls_error tls__server_resolve_cert(tls_conn *c, const tls_client_hello *ch,
                                   tls_server_cert_usable_fn usable, const tls_certified_key **out)
{
    const tls_server_config *cfg = c->cfg;
    const char *name = ch->server_name[0] ? ch->server_name : NULL;
    if (cfg->resolver) {
        uint16_t schemes[128];
        tls_client_hello_info info = {name, schemes, 0, ch->alpn.p, ch->alpn.len};
        for (size_t i = 0; i + 1 < ch->sig_algs.len && info.n_sig_schemes < 128; i += 2)
            schemes[info.n_sig_schemes++] =
                (uint16_t)((ch->sig_algs.p[i] << 8) | ch->sig_algs.p[i + 1]);
        *out = cfg->resolver(cfg->resolver_arg, &info);
    } else {
        rank_ctx r = {c, ch, usable};
        *out =
            tls__resolve_cert(cfg->certs, cfg->n_certs, cfg->sni_strict, name, rank_for_client, &r);
    }
    return *out ? TLS_OK : TLS_ERR_NO_CERTIFICATE_FOR_NAME;
}

/* RFC 7301 §3.2: the server's most preferred protocol the client also offers. */
tls_error tls__server_choose_alpn(tls_conn *c, const tls_client_hello *ch)
{
    if (!c->cfg->n_alpn || !ch->has_alpn)
        return TLS_OK;
    for (size_t i = 0; i < c->cfg->n_alpn; i++) {
        const uint8_t *ours = c->cfg->alpn[i];
        tls_reader list, name;
        tls_reader_init(&list, ch->alpn.p, ch->alpn.len);
        while (tls_read_vec8(&list, 1, 255, &name)) {
            size_t n = tls_reader_left(&name);
            if (n == ours[0] && !memcmp(name.p, ours + 1, n)) {
                memcpy(c->alpn, ours, n + 1);
                return TLS_OK;
            }
        }
    }
    return TLS_ERR_NO_APPLICATION_PROTOCOL;
}

/* ---- client authentication (mTLS) --------------------------------------------------------- */

size_t tls__server_client_schemes(bool tls13, uint16_t *out)
{
    size_t n = 0;
    out[n++] = TLS_SIG_ECDSA_SECP256R1_SHA256;
    out[n++] = TLS_SIG_ECDSA_SECP384R1_SHA384;
    if (tls__crypto_has_ed25519())
        out[n++] = TLS_SIG_ED25519;
    out[n++] = TLS_SIG_RSA_PSS_RSAE_SHA256;
    out[n++] = TLS_SIG_RSA_PSS_RSAE_SHA384;
    out[n++] = TLS_SIG_RSA_PSS_RSAE_SHA512;
    /* RFC 8446 §4.2.3: in TLS 1.3 these only say which certificate signatures we take
     * (the verifier takes them); a CertificateVerify may not use them (§4.4.3). */
    out[n++] = TLS_SIG_RSA_PKCS1_SHA256;
    out[n++] = TLS_SIG_RSA_PKCS1_SHA384;
    out[n++] = TLS_SIG_RSA_PKCS1_SHA512;
    (void)tls13;
    return n;
}

tls_error tls__server_ca_names(const tls_conn *c, uint8_t **out, size_t *len)
{
    const tls_root_store *roots = c->cfg->client_roots;
    size_t n = tls__root_store_len(roots), total = 0;
    tls_writer w;

    *out = NULL;
    *len = 0;
    for (size_t i = 0; i < n; i++)
        total += 2 + tls__root_store_subject(roots, i).len;
    /* RFC 8446 §4.2.4 / RFC 5246 §7.4.4: one u16 vector. A store too big for it (a
     * system bundle, say) is not named at all: the list is only a hint (§4.2.4). */
    if (total == 0 || total > 0xffff)
        return TLS_OK;
    ENSURE(*out = tls__alloc(total), TLS_ERR_NO_MEMORY);
    tls_writer_init(&w, *out, total);
    for (size_t i = 0; i < n; i++) {
        tls_slice dn = tls__root_store_subject(roots, i);
        tls_write_vec16(&w, dn.p, dn.len);
    }
    *len = total;
    return tls_writer_ok(&w) ? TLS_OK : TLS_ERR_INTERNAL;
}

tls_error tls__server_verify_client_chain(tls_conn *c, const tls_certificate_msg *cert)
{
    ENSURE(cert->n_certs > 0, TLS_ERR_INTERNAL);
    TRY(tls__verify_client_chain(c->cfg->client_roots, c->cfg->client_crls, cert->certs,
                                 cert->cert_lens, cert->n_certs, (int64_t)time(NULL)));
    return tls__conn_set_peer(c, cert->certs, cert->cert_lens, cert->n_certs, true);
}

tls_error tls__server_verify_client_signature(tls_conn *c, bool tls13, uint16_t scheme,
                                              const uint8_t *msg, size_t msg_len, tls_slice sig)
{
    uint16_t ours[TLS_SERVER_MAX_CLIENT_SCHEMES];
    size_t n = tls__server_client_schemes(tls13, ours);
    bool listed = false;
    size_t ee_len;

    for (size_t i = 0; i < n; i++)
        listed |= ours[i] == scheme;
    ENSURE(listed, TLS_ERR_ILLEGAL_PARAMETER);
    ENSURE(!tls13 || (scheme != TLS_SIG_RSA_PKCS1_SHA256 && scheme != TLS_SIG_RSA_PKCS1_SHA384 &&
                      scheme != TLS_SIG_RSA_PKCS1_SHA512),
           TLS_ERR_ILLEGAL_PARAMETER);
    ENSURE(c->peer && c->peer->n_certs, TLS_ERR_INTERNAL);
    ee_len = c->peer->offs[1];
    tls_error err = tls__verify(c->peer->der, ee_len, scheme, msg, msg_len, sig.p, sig.len);
    switch (err) {
    case TLS_OK:
    case TLS_ERR_NO_MEMORY:
        return err;
    default: /* a bad signature, or a scheme that does not fit the key */
        return TLS_ERR_BAD_CERTIFICATE_VERIFY;
    }
}

/* The stored chain's certificates (borrowed from st). False: malformed or empty. */
static bool stored_chain(const tls_ticket_state *st, const uint8_t **certs, size_t *lens, size_t *n)
{
    tls_reader r, cert;
    *n = 0;
    tls_reader_init(&r, st->client_chain, st->client_chain_len);
    while (tls_reader_left(&r)) {
        if (*n == TLS_MAX_PEER_CHAIN || !tls_read_vec24(&r, 1, 0xffffff, &cert))
            return false;
        certs[*n] = cert.p;
        lens[(*n)++] = tls_reader_left(&cert);
    }
    return *n > 0;
}

tls_error tls__server_session_identity_ok(tls_conn *c, const tls_ticket_state *st, bool *ok)
{
    const uint8_t *certs[TLS_MAX_PEER_CHAIN];
    size_t lens[TLS_MAX_PEER_CHAIN], n;

    *ok = false;
    if (c->cfg->client_auth == TLS_CLIENT_AUTH_NONE) {
        *ok = true;
        return TLS_OK;
    }
    if (!st->client_chain_len) {
        *ok = c->cfg->client_auth == TLS_CLIENT_AUTH_OPTIONAL;
        return TLS_OK;
    }
    if (!stored_chain(st, certs, lens, &n))
        return TLS_OK;
    /* A CA removed on reload, a CRL that now lists the certificate, or its expiry:
     * whatever a full handshake would refuse now, resumption refuses too. */
    tls_error err = tls__verify_client_chain(c->cfg->client_roots, c->cfg->client_crls, certs, lens,
                                             n, (int64_t)time(NULL));
    if (err == TLS_ERR_NO_MEMORY)
        return err;
    *ok = err == TLS_OK;
    return TLS_OK;
}

tls_error tls__server_restore_identity(tls_conn *c, const tls_ticket_state *st)
{
    const uint8_t *certs[TLS_MAX_PEER_CHAIN];
    size_t lens[TLS_MAX_PEER_CHAIN], n;

    if (c->cfg->client_auth == TLS_CLIENT_AUTH_NONE || !stored_chain(st, certs, lens, &n))
        return TLS_OK;
    return tls__conn_set_peer(c, certs, lens, n, false);
}

bool tls__server_save_identity(const tls_conn *c, tls_ticket_state *st)
{
    const tls_peer_identity *p = c->peer;
    tls_writer w;

    st->client_chain_len = 0;
    if (!p)
        return true;
    tls_writer_init(&w, st->client_chain, sizeof st->client_chain);
    for (size_t i = 0; i < p->n_certs; i++) {
        size_t len = p->offs[i + 1] - p->offs[i];
        if (w.len + 3 + len > sizeof st->client_chain)
            break; /* the intermediates that do not fit: re-verification may then fail */
        tls_write_vec24_begin(&w);
        tls_write_bytes(&w, p->der + p->offs[i], len);
        tls_writer_end(&w);
    }
    if (!tls_writer_ok(&w) || w.len == 0)
        return false;
    st->client_chain_len = w.len;
    return true;
}
