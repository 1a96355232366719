/*
 * client_hello.c — ClientHello decoding (RFC 8446 §4.1.2, §4.2; RFC 6066 §3;
 * RFC 7301 §3.1).
 *
 * Implementation notes:
 * - Duplicate detection covers every extension type, known or not, with a 64 Kibit
 *   map on the stack: a hostile hello may carry thousands of extensions and a
 *   pairwise comparison would be quadratic.
 * - Extension bodies are validated here even when the handshake will not use them,
 *   so a malformed hello is refused the same way whatever the server's config.
 */
#include <string.h>

#include "msgs.h"

const uint8_t tls__hrr_random[32] = {
    0xcf, 0x21, 0xad, 0x74, 0xe5, 0x9a, 0x61, 0x11, 0xbe, 0x1d, 0x8c, 0x02, 0x1e, 0x65, 0xb8, 0x91,
    0xc2, 0xa2, 0x11, 0x16, 0x7a, 0xbb, 0x8c, 0x5e, 0x07, 0x9e, 0x09, 0xe2, 0xc8, 0xa8, 0x33, 0x9c,
};

void tls__hs_begin(tls_writer *w, uint8_t type)
{
    tls_write_u8(w, type);
    tls_write_vec24_begin(w);
}

void tls__hs_end(tls_writer *w)
{
    tls_writer_end(w);
}

/* Sets v's bit in a 64 Kibit map; false if it was already set. */
static bool mark_first_sighting(uint8_t map[65536 / 8], uint16_t v)
{
    uint8_t bit = (uint8_t)(1u << (v % 8));
    if (map[v / 8] & bit)
        return false;
    map[v / 8] |= bit;
    return true;
}

static tls_slice slice_of(const tls_reader *r)
{
    tls_slice s = {r->p, (size_t)(r->end - r->p)};
    return s;
}

/* A list of u16 values: even length within [min, max]. */
static bool read_u16_list(tls_reader *ext, size_t min, tls_slice *out)
{
    tls_reader list;
    if (!tls_read_vec16(ext, min, 0xfffe, &list) || tls_reader_left(&list) % 2 ||
        !tls_reader_done(ext))
        return false;
    *out = slice_of(&list);
    return true;
}

static bool host_name_char(uint8_t c)
{
    return (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') || c == '-' ||
           c == '.' || c == '_';
}

static bool hex_digit(uint8_t c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* An IPv4 literal (digits and dots) or an IPv6 one (hex digits, dots, at least one
 * colon, optionally in brackets). */
static bool ip_literal(const uint8_t *p, size_t n)
{
    bool only_v4 = true, only_v6 = true, colon = false;
    if (n >= 2 && p[0] == '[' && p[n - 1] == ']')
        p++, n -= 2;
    for (size_t i = 0; i < n; i++) {
        if (!((p[i] >= '0' && p[i] <= '9') || p[i] == '.'))
            only_v4 = false;
        if (!(hex_digit(p[i]) || p[i] == '.' || p[i] == ':'))
            only_v6 = false;
        colon |= p[i] == ':';
    }
    return only_v4 || (only_v6 && colon);
}

/* RFC 6066 §3: one host_name entry; IP literals are not host names, so they are
 * treated as if no name was sent (some clients send them anyway). */
static tls_error parse_server_name(tls_reader *ext, tls_client_hello *ch)
{
    tls_reader list, name;
    uint8_t type;
    bool seen_host = false;

    ENSURE(tls_read_vec16(ext, 1, 0xffff, &list) && tls_reader_done(ext), TLS_ERR_DECODE);
    while (tls_reader_left(&list)) {
        ENSURE(tls_read_u8(&list, &type) && tls_read_vec16(&list, 1, 0xffff, &name),
               TLS_ERR_DECODE);
        if (type != 0)
            continue; /* unknown name types are skipped */
        ENSURE(!seen_host, TLS_ERR_ILLEGAL_PARAMETER);
        seen_host = true;
        size_t n = tls_reader_left(&name);
        const uint8_t *p = name.p;
        if (p[n - 1] == '.')
            n--;
        ENSURE(n > 0 && n < sizeof ch->server_name, TLS_ERR_ILLEGAL_PARAMETER);
        if (ip_literal(p, n))
            continue;
        for (size_t i = 0; i < n; i++)
            ENSURE(host_name_char(p[i]), TLS_ERR_ILLEGAL_PARAMETER);
        for (size_t i = 0; i < n; i++)
            ch->server_name[i] = (char)((p[i] >= 'A' && p[i] <= 'Z') ? p[i] + 32 : p[i]);
        ch->server_name[n] = '\0';
    }
    return TLS_OK;
}

static tls_error parse_key_shares(tls_reader *ext, tls_client_hello *ch)
{
    tls_reader list, share;
    uint16_t group;
    uint8_t seen[65536 / 8];

    ENSURE(tls_read_vec16(ext, 0, 0xffff, &list) && tls_reader_done(ext), TLS_ERR_DECODE);
    ch->key_shares = slice_of(&list);
    memset(seen, 0, sizeof seen);
    while (tls_reader_left(&list)) {
        ENSURE(tls_read_u16(&list, &group) && tls_read_vec16(&list, 1, 0xffff, &share),
               TLS_ERR_DECODE);
        /* §4.2.8: no two KeyShareEntry values for the same group. */
        ENSURE(mark_first_sighting(seen, group), TLS_ERR_ILLEGAL_PARAMETER);
    }
    return TLS_OK;
}

bool tls__client_hello_key_share(const tls_client_hello *ch, uint16_t group, tls_slice *share)
{
    tls_reader list, body;
    uint16_t g;

    tls_reader_init(&list, ch->key_shares.p, ch->key_shares.len);
    while (tls_reader_left(&list)) {
        if (!tls_read_u16(&list, &g) || !tls_read_vec16(&list, 1, 0xffff, &body))
            return false;
        if (g == group) {
            *share = slice_of(&body);
            return true;
        }
    }
    return false;
}

static tls_error parse_psk(tls_reader *ext, const uint8_t *msg_start, tls_client_hello *ch)
{
    tls_reader ids, id, binders, binder;
    uint32_t age;
    size_t n_ids = 0, n_binders = 0;

    ENSURE(tls_read_vec16(ext, 7, 0xffff, &ids), TLS_ERR_DECODE);
    ch->psk_identities = slice_of(&ids);
    while (tls_reader_left(&ids)) {
        ENSURE(tls_read_vec16(&ids, 1, 0xffff, &id) && tls_read_u32(&ids, &age), TLS_ERR_DECODE);
        n_ids++;
    }
    ch->psk_binders_offset = (size_t)(ext->p - msg_start);
    ENSURE(tls_read_vec16(ext, 33, 0xffff, &binders) && tls_reader_done(ext), TLS_ERR_DECODE);
    ch->psk_binders = slice_of(&binders);
    while (tls_reader_left(&binders)) {
        ENSURE(tls_read_vec8(&binders, 32, 255, &binder), TLS_ERR_DECODE);
        n_binders++;
    }
    /* §4.2.11: one binder per identity. */
    ENSURE(n_ids == n_binders, TLS_ERR_ILLEGAL_PARAMETER);
    return TLS_OK;
}

static tls_error parse_alpn(tls_reader *ext, tls_client_hello *ch)
{
    tls_reader list, name;
    ENSURE(tls_read_vec16(ext, 2, 0xffff, &list) && tls_reader_done(ext), TLS_ERR_DECODE);
    ch->alpn = slice_of(&list);
    while (tls_reader_left(&list))
        ENSURE(tls_read_vec8(&list, 1, 255, &name), TLS_ERR_DECODE); /* RFC 7301: no empty names */
    return TLS_OK;
}

static tls_error parse_extension(uint16_t type, tls_reader *ext, const uint8_t *msg_start,
                                 tls_client_hello *ch)
{
    tls_reader body;

    switch (type) {
    case TLS_EXT_SERVER_NAME:
        ch->has_server_name = true;
        return parse_server_name(ext, ch);
    case TLS_EXT_SUPPORTED_VERSIONS:
        ch->has_supported_versions = true;
        ENSURE(tls_read_vec8(ext, 2, 254, &body) && tls_reader_left(&body) % 2 == 0 &&
                   tls_reader_done(ext),
               TLS_ERR_DECODE);
        ch->supported_versions = slice_of(&body);
        return TLS_OK;
    case TLS_EXT_SUPPORTED_GROUPS:
        ch->has_groups = true;
        ENSURE(read_u16_list(ext, 2, &ch->groups), TLS_ERR_DECODE);
        return TLS_OK;
    case TLS_EXT_SIGNATURE_ALGORITHMS:
        ch->has_sig_algs = true;
        ENSURE(read_u16_list(ext, 2, &ch->sig_algs), TLS_ERR_DECODE);
        return TLS_OK;
    case TLS_EXT_SIGNATURE_ALGORITHMS_CERT:
        ch->has_sig_algs_cert = true;
        ENSURE(read_u16_list(ext, 2, &ch->sig_algs_cert), TLS_ERR_DECODE);
        return TLS_OK;
    case TLS_EXT_KEY_SHARE:
        ch->has_key_share = true;
        return parse_key_shares(ext, ch);
    case TLS_EXT_PSK_KEY_EXCHANGE_MODES:
        ch->has_psk_modes = true;
        ENSURE(tls_read_vec8(ext, 1, 255, &body) && tls_reader_done(ext), TLS_ERR_DECODE);
        ch->psk_modes = slice_of(&body);
        return TLS_OK;
    case TLS_EXT_PRE_SHARED_KEY:
        ch->has_psk = true;
        return parse_psk(ext, msg_start, ch);
    case TLS_EXT_ALPN:
        ch->has_alpn = true;
        return parse_alpn(ext, ch);
    case TLS_EXT_COOKIE:
        ch->has_cookie = true;
        ENSURE(tls_read_vec16(ext, 1, 0xffff, &body) && tls_reader_done(ext), TLS_ERR_DECODE);
        ch->cookie = slice_of(&body);
        return TLS_OK;
    case TLS_EXT_EARLY_DATA:
        ch->has_early_data = true;
        ENSURE(tls_reader_done(ext), TLS_ERR_DECODE);
        return TLS_OK;
    case TLS_EXT_EXTENDED_MASTER_SECRET:
        ch->has_extended_master_secret = true;
        ENSURE(tls_reader_done(ext), TLS_ERR_DECODE);
        return TLS_OK;
    case TLS_EXT_RENEGOTIATION_INFO:
        ch->has_renegotiation_info = true;
        ENSURE(tls_read_vec8(ext, 0, 255, &body) && tls_reader_done(ext), TLS_ERR_DECODE);
        ch->renegotiation_info = slice_of(&body);
        return TLS_OK;
    case TLS_EXT_SESSION_TICKET:
        ch->has_session_ticket = true;
        tls_read_rest(ext, &body);
        ch->session_ticket = slice_of(&body);
        return TLS_OK;
    case TLS_EXT_EC_POINT_FORMATS:
        ch->has_ec_point_formats = true;
        ENSURE(tls_read_vec8(ext, 1, 255, &body) && tls_reader_done(ext), TLS_ERR_DECODE);
        ch->ec_point_formats = slice_of(&body);
        return TLS_OK;
    case TLS_EXT_STATUS_REQUEST:
        /* RFC 6066 §8: CertificateStatusRequest; only ocsp(1) has a known body
         * (OCSPStatusRequest: responder_id_list<0..2^16-1>, request_extensions
         * <0..2^16-1>). Other types are ignored, as unknown extensions are. */
        ch->has_status_request = true;
        {
            uint8_t status_type;
            tls_reader ids, req_exts;

            ENSURE(tls_read_u8(ext, &status_type), TLS_ERR_DECODE);
            if (status_type != 1)
                return TLS_OK;
            ENSURE(tls_read_vec16(ext, 0, 0xffff, &ids) &&
                       tls_read_vec16(ext, 0, 0xffff, &req_exts) && tls_reader_done(ext),
                   TLS_ERR_DECODE);
            ch->status_request_ocsp = true;
        }
        return TLS_OK;
    case TLS_EXT_SCT:
        ch->has_sct = true;
        ENSURE(tls_reader_done(ext), TLS_ERR_DECODE);
        return TLS_OK;
    default:
        return TLS_OK; /* unknown extensions are ignored (§4.2) */
    }
}

tls_error tls__client_hello_parse(const uint8_t *msg, size_t len, tls_client_hello *ch)
{
    tls_reader r, session_id, suites, compression, exts, ext;
    uint8_t seen[65536 / 8];

    memset(ch, 0, sizeof *ch);
    tls_reader_init(&r, msg, len);
    ENSURE(tls_read_u16(&r, &ch->legacy_version) && tls_read_slice(&r, 32, &ch->random) &&
               tls_read_vec8(&r, 0, 32, &session_id) && tls_read_vec16(&r, 2, 0xfffe, &suites) &&
               tls_read_vec8(&r, 1, 255, &compression),
           TLS_ERR_DECODE);
    ENSURE(tls_reader_left(&suites) % 2 == 0, TLS_ERR_DECODE);
    ch->session_id = slice_of(&session_id);
    ch->cipher_suites = slice_of(&suites);
    ch->null_compression_only = tls_reader_left(&compression) == 1 && compression.p[0] == 0;
    ch->null_compression_offered = memchr(compression.p, 0, tls_reader_left(&compression)) != NULL;

    if (tls_reader_left(&r) == 0)
        return TLS_OK; /* a hello without extensions (TLS 1.2 and older allow it) */
    ch->has_extensions = true;
    ENSURE(tls_read_vec16(&r, 0, 0xffff, &exts), TLS_ERR_DECODE);
    ENSURE(tls_reader_done(&r), TLS_ERR_TRAILING_DATA);
    memset(seen, 0, sizeof seen);
    while (tls_reader_left(&exts)) {
        uint16_t type;
        ENSURE(!ch->has_psk, TLS_ERR_PSK_NOT_LAST); /* §4.2.11: pre_shared_key comes last */
        ENSURE(tls_read_u16(&exts, &type) && tls_read_vec16(&exts, 0, 0xffff, &ext),
               TLS_ERR_DECODE);
        ENSURE(mark_first_sighting(seen, type), TLS_ERR_DUPLICATE_EXTENSION);
        TRY(parse_extension(type, &ext, msg, ch));
    }
    return TLS_OK;
}

/* ---- encoding (the client side) ------------------------------------------------------- */

static void write_u16_list(tls_writer *w, const uint16_t *v, size_t n)
{
    tls_write_vec16_begin(w);
    for (size_t i = 0; i < n; i++)
        tls_write_u16(w, v[i]);
    tls_writer_end(w);
}

/* Extension order follows no rule but one (pre_shared_key last, §4.2.11), and we send
 * no pre_shared_key yet. */
void tls__client_hello_write(tls_writer *w, const tls_client_hello_spec *s)
{
    tls__hs_begin(w, TLS_HS_CLIENT_HELLO);
    tls_write_u16(w, TLS_VERSION_1_2); /* legacy_version (§4.1.2) */
    tls_write_bytes(w, s->random, 32);
    tls_write_vec8(w, s->session_id, s->session_id_len);
    write_u16_list(w, s->suites, s->n_suites);
    tls_write_u8(w, 1); /* legacy_compression_methods: null only */
    tls_write_u8(w, 0);
    tls_write_vec16_begin(w);
    if (s->server_name) { /* RFC 6066 §3: one host_name */
        tls_write_u16(w, TLS_EXT_SERVER_NAME);
        tls_write_vec16_begin(w);
        tls_write_vec16_begin(w);
        tls_write_u8(w, 0);
        tls_write_vec16(w, (const uint8_t *)s->server_name, strlen(s->server_name));
        tls_writer_end(w);
        tls_writer_end(w);
    }
    if (s->tls12) { /* RFC 8422 §5.1.2: uncompressed points only */
        tls_write_u16(w, TLS_EXT_EC_POINT_FORMATS);
        tls_write_u16(w, 2);
        tls_write_u8(w, 1);
        tls_write_u8(w, 0);
    }
    tls_write_u16(w, TLS_EXT_SUPPORTED_GROUPS);
    tls_write_vec16_begin(w);
    write_u16_list(w, s->groups, s->n_groups);
    tls_writer_end(w);
    tls_write_u16(w, TLS_EXT_SIGNATURE_ALGORITHMS);
    tls_write_vec16_begin(w);
    write_u16_list(w, s->sig_schemes, s->n_sig_schemes);
    tls_writer_end(w);
    if (s->n_alpn) { /* RFC 7301 §3.1 */
        tls_write_u16(w, TLS_EXT_ALPN);
        tls_write_vec16_begin(w);
        tls_write_vec16_begin(w);
        for (size_t i = 0; i < s->n_alpn; i++)
            tls_write_bytes(w, s->alpn[i], (size_t)s->alpn[i][0] + 1);
        tls_writer_end(w);
        tls_writer_end(w);
    }
    if (s->tls12) {
        tls_write_u16(w, TLS_EXT_EXTENDED_MASTER_SECRET); /* RFC 7627 */
        tls_write_u16(w, 0);
        tls_write_u16(w, TLS_EXT_RENEGOTIATION_INFO); /* RFC 5746 §3.4: empty */
        tls_write_u16(w, 1);
        tls_write_u8(w, 0);
    }
    if (s->session_ticket) { /* RFC 5077 §3.2: the ticket itself, or empty */
        tls_write_u16(w, TLS_EXT_SESSION_TICKET);
        tls_write_vec16(w, s->ticket12.p, s->ticket12.len);
    }
    if (s->n_versions) {
        tls_write_u16(w, TLS_EXT_SUPPORTED_VERSIONS);
        tls_write_vec16_begin(w);
        tls_write_vec8_begin(w);
        for (size_t i = 0; i < s->n_versions; i++)
            tls_write_u16(w, s->versions[i]);
        tls_writer_end(w);
        tls_writer_end(w);
    }
    if (s->key_share) {
        tls_write_u16(w, TLS_EXT_KEY_SHARE);
        tls_write_vec16_begin(w);
        tls_write_vec16_begin(w);
        tls_write_u16(w, s->share_group);
        tls_write_vec16(w, s->share, s->share_len);
        tls_writer_end(w);
        tls_writer_end(w);
    }
    if (s->psk_modes) {
        tls_write_u16(w, TLS_EXT_PSK_KEY_EXCHANGE_MODES);
        tls_write_u16(w, 2);
        tls_write_u8(w, 1);
        tls_write_u8(w, 1); /* psk_dhe_ke */
    }
    if (s->cookie.len) { /* §4.2.2: echoed verbatim */
        tls_write_u16(w, TLS_EXT_COOKIE);
        tls_write_vec16_begin(w);
        tls_write_vec16(w, s->cookie.p, s->cookie.len);
        tls_writer_end(w);
    }
    if (s->early_data) {
        tls_write_u16(w, TLS_EXT_EARLY_DATA);
        tls_write_u16(w, 0);
    }
    if (s->sct) {
        tls_write_u16(w, TLS_EXT_SCT);
        tls_write_u16(w, 0);
    }
    if (s->psk_identity.len) { /* §4.2.11: MUST be the last extension */
        tls_write_u16(w, TLS_EXT_PRE_SHARED_KEY);
        tls_write_vec16_begin(w);
        tls_write_vec16_begin(w); /* identities */
        tls_write_vec16(w, s->psk_identity.p, s->psk_identity.len);
        tls_write_u32(w, s->psk_obfuscated_age);
        tls_writer_end(w);
        tls_write_vec16_begin(w); /* binders: zeros, filled in by the caller */
        tls_write_vec8_begin(w);
        uint8_t *binder = tls_write_reserve(w, s->psk_binder_len);
        if (binder)
            memset(binder, 0, s->psk_binder_len);
        tls_writer_end(w);
        tls_writer_end(w);
        tls_writer_end(w);
    }
    tls_writer_end(w);
    tls__hs_end(w);
}
