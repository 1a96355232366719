/*
 * server_common.c — server-side choices shared by the TLS 1.3 and TLS 1.2
 * handshakes: the certificate for the client's name, and the ALPN protocol.
 */
#include <string.h>

#include "../conn.h"
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
