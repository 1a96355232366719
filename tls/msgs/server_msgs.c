/*
 * server_msgs.c — decoding of the server's authentication and post-handshake messages:
 * Certificate (RFC 8446 §4.4.2; RFC 5246 §7.4.2), CertificateVerify (§4.4.3),
 * CertificateRequest (§4.3.2) and NewSessionTicket (§4.6.1; RFC 5077 §3.3 for TLS 1.2).
 *
 * Syntax only, as everywhere under msgs/: whether a scheme was offered or a chain is
 * trusted is the handshake's business.
 */
#include <string.h>

#include "msgs.h"

static tls_slice slice_of(const tls_reader *r)
{
    tls_slice s = {r->p, (size_t)(r->end - r->p)};
    return s;
}

/* A well-formed extension list (type, vec16 body)*; the bodies are not looked at. */
static bool extension_list_ok(tls_reader *list)
{
    tls_reader body;
    uint16_t type;
    while (tls_reader_left(list))
        if (!tls_read_u16(list, &type) || !tls_read_vec16(list, 0, 0xffff, &body))
            return false;
    return true;
}

/* The end entity's extensions: well-formed, no type twice, and its SCT list kept. Other
 * types are left to the handshake (which ignores them). */
static tls_error first_entry_extensions(tls_reader *list, tls_certificate_msg *cert)
{
    tls_reader body;
    uint16_t type, seen_sct = 0;

    while (tls_reader_left(list)) {
        ENSURE(tls_read_u16(list, &type) && tls_read_vec16(list, 0, 0xffff, &body), TLS_ERR_DECODE);
        if (type != TLS_EXT_SCT)
            continue;
        ENSURE(!seen_sct++, TLS_ERR_DUPLICATE_EXTENSION);
        ENSURE(tls__sct_list_ok(body.p, tls_reader_left(&body)), TLS_ERR_DECODE);
        cert->scts = slice_of(&body);
    }
    return TLS_OK;
}

tls_error tls__certificate_parse(const uint8_t *body, size_t len, bool tls13,
                                 tls_certificate_msg *cert)
{
    tls_reader r, ctx, list, data, exts;

    memset(cert, 0, sizeof *cert);
    tls_reader_init(&r, body, len);
    if (tls13) {
        ENSURE(tls_read_vec8(&r, 0, 255, &ctx), TLS_ERR_DECODE);
        cert->context = slice_of(&ctx);
    }
    ENSURE(tls_read_vec24(&r, 0, 0xffffff, &list), TLS_ERR_DECODE);
    ENSURE(tls_reader_done(&r), TLS_ERR_TRAILING_DATA);
    while (tls_reader_left(&list)) {
        /* §4.4.2: opaque cert_data<1..2^24-1>; extensions<0..2^16-1>. */
        ENSURE(tls_read_vec24(&list, 1, 0xffffff, &data), TLS_ERR_DECODE);
        if (tls13) {
            ENSURE(tls_read_vec16(&list, 0, 0xffff, &exts), TLS_ERR_DECODE);
            if (cert->n_certs == 0)
                TRY(first_entry_extensions(&exts, cert));
            else
                ENSURE(extension_list_ok(&exts), TLS_ERR_DECODE);
        }
        ENSURE(cert->n_certs < TLS_MAX_PEER_CHAIN, TLS_ERR_CERT_BAD_ENCODING);
        cert->certs[cert->n_certs] = data.p;
        cert->cert_lens[cert->n_certs++] = tls_reader_left(&data);
    }
    return TLS_OK;
}

tls_error tls__certificate_verify_parse(const uint8_t *body, size_t len,
                                        tls_certificate_verify_msg *cv)
{
    tls_reader r, sig;

    memset(cv, 0, sizeof *cv);
    tls_reader_init(&r, body, len);
    ENSURE(tls_read_u16(&r, &cv->scheme) && tls_read_vec16(&r, 1, 0xffff, &sig), TLS_ERR_DECODE);
    ENSURE(tls_reader_done(&r), TLS_ERR_TRAILING_DATA);
    cv->signature = slice_of(&sig);
    return TLS_OK;
}

tls_error tls__certificate_request_parse(const uint8_t *body, size_t len,
                                         tls_certificate_request_msg *cr)
{
    uint8_t seen[65536 / 8];
    tls_reader r, ctx, exts, ext, list;
    uint16_t type;

    memset(cr, 0, sizeof *cr);
    memset(seen, 0, sizeof seen);
    tls_reader_init(&r, body, len);
    ENSURE(tls_read_vec8(&r, 0, 255, &ctx) && tls_read_vec16(&r, 2, 0xffff, &exts), TLS_ERR_DECODE);
    ENSURE(tls_reader_done(&r), TLS_ERR_TRAILING_DATA);
    cr->context = slice_of(&ctx);
    while (tls_reader_left(&exts)) {
        ENSURE(tls_read_u16(&exts, &type) && tls_read_vec16(&exts, 0, 0xffff, &ext),
               TLS_ERR_DECODE);
        uint8_t bit = (uint8_t)(1u << (type % 8));
        ENSURE(!(seen[type / 8] & bit), TLS_ERR_DUPLICATE_EXTENSION);
        seen[type / 8] |= bit;
        if (type == TLS_EXT_SIGNATURE_ALGORITHMS) {
            ENSURE(tls_read_vec16(&ext, 2, 0xfffe, &list) && tls_reader_left(&list) % 2 == 0 &&
                       tls_reader_done(&ext),
                   TLS_ERR_DECODE);
            cr->has_sig_algs = true;
            cr->sig_algs = slice_of(&list);
        }
    }
    return TLS_OK;
}

/* §4.6.1: servers MUST NOT use any value greater than 604800 seconds (7 days). */
#define MAX_TICKET_LIFETIME 604800u

tls_error tls__new_session_ticket_parse(const uint8_t *body, size_t len,
                                        tls_new_session_ticket_msg *nst)
{
    uint8_t seen[65536 / 8];
    tls_reader r, nonce, ticket, exts, ext;
    uint16_t type;

    memset(nst, 0, sizeof *nst);
    memset(seen, 0, sizeof seen);
    tls_reader_init(&r, body, len);
    ENSURE(tls_read_u32(&r, &nst->lifetime) && tls_read_u32(&r, &nst->age_add) &&
               tls_read_vec8(&r, 0, 255, &nonce) && tls_read_vec16(&r, 1, 0xffff, &ticket) &&
               tls_read_vec16(&r, 0, 0xfffe, &exts),
           TLS_ERR_DECODE);
    ENSURE(tls_reader_done(&r), TLS_ERR_TRAILING_DATA);
    nst->nonce = slice_of(&nonce);
    nst->ticket = slice_of(&ticket);
    while (tls_reader_left(&exts)) {
        ENSURE(tls_read_u16(&exts, &type) && tls_read_vec16(&exts, 0, 0xffff, &ext),
               TLS_ERR_DECODE);
        uint8_t bit = (uint8_t)(1u << (type % 8));
        ENSURE(!(seen[type / 8] & bit), TLS_ERR_DUPLICATE_EXTENSION);
        seen[type / 8] |= bit;
        if (type == TLS_EXT_EARLY_DATA) { /* §4.2.10: max_early_data_size */
            ENSURE(tls_read_u32(&ext, &nst->max_early_data) && tls_reader_done(&ext),
                   TLS_ERR_DECODE);
            nst->has_early_data = true;
        }
    }
    ENSURE(nst->lifetime <= MAX_TICKET_LIFETIME, TLS_ERR_ILLEGAL_PARAMETER);
    return TLS_OK;
}

/* ---- TLS 1.2 ------------------------------------------------------------------------------ */

tls_error tls__new_session_ticket12_parse(const uint8_t *body, size_t len,
                                          tls_new_session_ticket12_msg *nst)
{
    tls_reader r, ticket;

    memset(nst, 0, sizeof *nst);
    tls_reader_init(&r, body, len);
    ENSURE(tls_read_u32(&r, &nst->lifetime_hint) && tls_read_vec16(&r, 0, 0xffff, &ticket),
           TLS_ERR_DECODE);
    ENSURE(tls_reader_done(&r), TLS_ERR_TRAILING_DATA);
    nst->ticket = slice_of(&ticket);
    return TLS_OK;
}

/* RFC 8422 §5.4: ECCurveType named_curve. */
#define EC_CURVE_TYPE_NAMED_CURVE 3

tls_error tls__server_key_exchange_parse(const uint8_t *body, size_t len,
                                         tls_server_key_exchange_msg *ske)
{
    tls_reader r, point;
    uint8_t curve_type;

    memset(ske, 0, sizeof *ske);
    tls_reader_init(&r, body, len);
    ENSURE(tls_read_u8(&r, &curve_type), TLS_ERR_DECODE);
    ENSURE(curve_type == EC_CURVE_TYPE_NAMED_CURVE, TLS_ERR_ILLEGAL_PARAMETER);
    ENSURE(tls_read_u16(&r, &ske->group) && tls_read_vec8(&r, 1, 255, &point), TLS_ERR_DECODE);
    ske->point = slice_of(&point);
    ske->params.p = body;
    ske->params.len = (size_t)(r.p - body);
    return tls__certificate_verify_parse(r.p, tls_reader_left(&r), &ske->sig);
}

tls_error tls__certificate_request12_parse(const uint8_t *body, size_t len,
                                           tls_certificate_request12_msg *cr)
{
    tls_reader r, types, algs, cas, dn;

    memset(cr, 0, sizeof *cr);
    tls_reader_init(&r, body, len);
    ENSURE(tls_read_vec8(&r, 1, 255, &types) && tls_read_vec16(&r, 2, 0xfffe, &algs) &&
               tls_reader_left(&algs) % 2 == 0 && tls_read_vec16(&r, 0, 0xffff, &cas),
           TLS_ERR_DECODE);
    ENSURE(tls_reader_done(&r), TLS_ERR_TRAILING_DATA);
    cr->certificate_types = slice_of(&types);
    cr->sig_algs = slice_of(&algs);
    cr->authorities = slice_of(&cas);
    while (tls_reader_left(&cas))
        ENSURE(tls_read_vec16(&cas, 1, 0xffff, &dn), TLS_ERR_DECODE);
    return TLS_OK;
}

/* ---- CertificateRequest writers (the server's side of client authentication) ---------- */

static void write_u16s(tls_writer *w, const uint16_t *v, size_t n)
{
    tls_write_vec16_begin(w);
    for (size_t i = 0; i < n; i++)
        tls_write_u16(w, v[i]);
    tls_writer_end(w);
}

void tls__certificate_request_write(tls_writer *w, const uint16_t *schemes, size_t n_schemes,
                                    tls_slice authorities)
{
    tls__hs_begin(w, TLS_HS_CERTIFICATE_REQUEST);
    tls_write_vec8(w, NULL, 0); /* certificate_request_context */
    tls_write_vec16_begin(w);   /* extensions */
    tls_write_u16(w, TLS_EXT_SIGNATURE_ALGORITHMS);
    tls_write_vec16_begin(w);
    write_u16s(w, schemes, n_schemes);
    tls_writer_end(w);
    if (authorities.len) { /* §4.2.4: DistinguishedName authorities<3..2^16-1> */
        tls_write_u16(w, TLS_EXT_CERTIFICATE_AUTHORITIES);
        tls_write_vec16_begin(w);
        tls_write_vec16(w, authorities.p, authorities.len);
        tls_writer_end(w);
    }
    tls_writer_end(w);
    tls__hs_end(w);
}

void tls__certificate_request12_write(tls_writer *w, const uint8_t *types, size_t n_types,
                                      const uint16_t *schemes, size_t n_schemes,
                                      tls_slice authorities)
{
    tls__hs_begin(w, TLS_HS_CERTIFICATE_REQUEST);
    tls_write_vec8(w, types, n_types);
    write_u16s(w, schemes, n_schemes);
    tls_write_vec16(w, authorities.p, authorities.len);
    tls__hs_end(w);
}
