/*
 * server_hello.c — decoding of what a server says about extensions: ServerHello and
 * HelloRetryRequest (RFC 8446 §4.1.3, §4.1.4; RFC 5246 §7.4.1.3) and
 * EncryptedExtensions (§4.3.1).
 *
 * Implementation notes:
 * - The decoders check syntax only: the body of every extension that may appear in the
 *   message is validated against its own grammar, duplicates of any type are refused,
 *   and the set of types seen is reported (tls__ext_bit) so that the client, which knows
 *   what it offered and which version was chosen, decides what is unsolicited. Types
 *   that may not appear in EncryptedExtensions at all (key_share, say) are only
 *   reported there: their refusal is unsupported_extension, not a decode error.
 * - Duplicate detection uses a 64 Kibit map on the stack, as the ClientHello decoder
 *   does: a hostile message may carry thousands of extensions.
 */
#include <string.h>

#include "msgs.h"

uint32_t tls__ext_bit(uint16_t type)
{
    switch (type) {
    case TLS_EXT_SERVER_NAME:
        return 1u << 0;
    case TLS_EXT_STATUS_REQUEST:
        return 1u << 1;
    case TLS_EXT_SUPPORTED_GROUPS:
        return 1u << 2;
    case TLS_EXT_EC_POINT_FORMATS:
        return 1u << 3;
    case TLS_EXT_SIGNATURE_ALGORITHMS:
        return 1u << 4;
    case TLS_EXT_ALPN:
        return 1u << 5;
    case TLS_EXT_SCT:
        return 1u << 6;
    case TLS_EXT_PADDING:
        return 1u << 7;
    case TLS_EXT_EXTENDED_MASTER_SECRET:
        return 1u << 8;
    case TLS_EXT_SESSION_TICKET:
        return 1u << 9;
    case TLS_EXT_PRE_SHARED_KEY:
        return 1u << 10;
    case TLS_EXT_EARLY_DATA:
        return 1u << 11;
    case TLS_EXT_SUPPORTED_VERSIONS:
        return 1u << 12;
    case TLS_EXT_COOKIE:
        return 1u << 13;
    case TLS_EXT_PSK_KEY_EXCHANGE_MODES:
        return 1u << 14;
    case TLS_EXT_CERTIFICATE_AUTHORITIES:
        return 1u << 15;
    case TLS_EXT_SIGNATURE_ALGORITHMS_CERT:
        return 1u << 16;
    case TLS_EXT_KEY_SHARE:
        return 1u << 17;
    case TLS_EXT_RENEGOTIATION_INFO:
        return 1u << 18;
    default:
        return TLS_EXTBIT_OTHER;
    }
}

static tls_slice slice_of(const tls_reader *r)
{
    tls_slice s = {r->p, (size_t)(r->end - r->p)};
    return s;
}

static bool mark_first_sighting(uint8_t map[65536 / 8], uint16_t v)
{
    uint8_t bit = (uint8_t)(1u << (v % 8));
    if (map[v / 8] & bit)
        return false;
    map[v / 8] |= bit;
    return true;
}

/* RFC 7301 §3.1: a ProtocolNameList of non-empty names. */
static bool read_alpn(tls_reader *ext, tls_slice *out)
{
    tls_reader list, name;
    if (!tls_read_vec16(ext, 2, 0xffff, &list) || !tls_reader_done(ext))
        return false;
    *out = slice_of(&list);
    while (tls_reader_left(&list))
        if (!tls_read_vec8(&list, 1, 255, &name))
            return false;
    return true;
}

/* Where the extensions are: their bodies' grammar depends on it. */
typedef enum { IN_SERVER_HELLO, IN_HELLO_RETRY_REQUEST, IN_ENCRYPTED_EXTENSIONS } ext_context;

/* §4.2's table: what EncryptedExtensions may carry (and we understand). */
static bool allowed_in_ee(uint16_t type)
{
    return type == TLS_EXT_SERVER_NAME || type == TLS_EXT_SUPPORTED_GROUPS ||
           type == TLS_EXT_ALPN || type == TLS_EXT_EARLY_DATA;
}

static tls_error parse_extension(uint16_t type, tls_reader *ext, ext_context where,
                                 tls_server_exts *x)
{
    bool hrr = where == IN_HELLO_RETRY_REQUEST;
    tls_reader body;

    if (where == IN_ENCRYPTED_EXTENSIONS && !allowed_in_ee(type))
        return TLS_OK; /* reported through `seen` */
    switch (type) {
    case TLS_EXT_SUPPORTED_VERSIONS: /* §4.2.1: the selected version alone */
        ENSURE(tls_read_u16(ext, &x->selected_version) && tls_reader_done(ext), TLS_ERR_DECODE);
        return TLS_OK;
    case TLS_EXT_KEY_SHARE: /* §4.2.8: a NamedGroup in an HRR, else a KeyShareEntry */
        ENSURE(tls_read_u16(ext, &x->key_share_group), TLS_ERR_DECODE);
        if (!hrr) {
            ENSURE(tls_read_vec16(ext, 1, 0xffff, &body), TLS_ERR_DECODE);
            x->key_share = slice_of(&body);
        }
        ENSURE(tls_reader_done(ext), TLS_ERR_DECODE);
        return TLS_OK;
    case TLS_EXT_COOKIE: /* §4.2.2 */
        ENSURE(tls_read_vec16(ext, 1, 0xffff, &body) && tls_reader_done(ext), TLS_ERR_DECODE);
        x->cookie = slice_of(&body);
        return TLS_OK;
    case TLS_EXT_PRE_SHARED_KEY: /* §4.2.11: the selected identity */
        ENSURE(tls_read_u16(ext, &x->psk_identity) && tls_reader_done(ext), TLS_ERR_DECODE);
        return TLS_OK;
    case TLS_EXT_ALPN:
        ENSURE(read_alpn(ext, &x->alpn), TLS_ERR_DECODE);
        return TLS_OK;
    case TLS_EXT_SUPPORTED_GROUPS:
        ENSURE(tls_read_vec16(ext, 2, 0xfffe, &body) && tls_reader_left(&body) % 2 == 0 &&
                   tls_reader_done(ext),
               TLS_ERR_DECODE);
        x->groups = slice_of(&body);
        return TLS_OK;
    case TLS_EXT_RENEGOTIATION_INFO: /* RFC 5746 §3.2 */
        ENSURE(tls_read_vec8(ext, 0, 255, &body) && tls_reader_done(ext), TLS_ERR_DECODE);
        x->renegotiation_info = slice_of(&body);
        return TLS_OK;
    case TLS_EXT_EC_POINT_FORMATS: /* RFC 8422 §5.2 */
        ENSURE(tls_read_vec8(ext, 1, 255, &body) && tls_reader_done(ext), TLS_ERR_DECODE);
        x->ec_point_formats = slice_of(&body);
        return TLS_OK;
    case TLS_EXT_SCT: /* RFC 6962 §3.3 (TLS 1.2 ServerHello) */
        ENSURE(tls__sct_list_ok(ext->p, tls_reader_left(ext)), TLS_ERR_DECODE);
        x->scts = slice_of(ext);
        return TLS_OK;
    case TLS_EXT_SERVER_NAME:            /* RFC 6066 §3: the server's ack is empty */
    case TLS_EXT_EXTENDED_MASTER_SECRET: /* RFC 7627 §5.1 */
    case TLS_EXT_SESSION_TICKET:         /* RFC 5077 §3.2: the server's ack is empty */
    case TLS_EXT_EARLY_DATA:             /* §4.2.10: empty in EncryptedExtensions */
        ENSURE(tls_reader_done(ext), TLS_ERR_DECODE);
        return TLS_OK;
    default:
        return TLS_OK; /* reported through `seen`; the caller judges */
    }
}

static tls_error parse_extensions(tls_reader *exts, ext_context where, tls_server_exts *x)
{
    uint8_t seen[65536 / 8];
    tls_reader ext;
    uint16_t type;

    memset(seen, 0, sizeof seen);
    while (tls_reader_left(exts)) {
        ENSURE(tls_read_u16(exts, &type) && tls_read_vec16(exts, 0, 0xffff, &ext), TLS_ERR_DECODE);
        /* §4.2: no two extensions of one type. */
        ENSURE(mark_first_sighting(seen, type), TLS_ERR_DUPLICATE_EXTENSION);
        x->seen |= tls__ext_bit(type);
        TRY(parse_extension(type, &ext, where, x));
    }
    return TLS_OK;
}

tls_error tls__server_hello_parse(const uint8_t *body, size_t len, tls_server_hello *sh)
{
    tls_reader r, sid, exts;

    memset(sh, 0, sizeof *sh);
    tls_reader_init(&r, body, len);
    ENSURE(tls_read_u16(&r, &sh->legacy_version) && tls_read_slice(&r, 32, &sh->random) &&
               tls_read_vec8(&r, 0, 32, &sid) && tls_read_u16(&r, &sh->cipher_suite) &&
               tls_read_u8(&r, &sh->compression),
           TLS_ERR_DECODE);
    sh->session_id = slice_of(&sid);
    sh->is_hrr = !memcmp(sh->random, tls__hrr_random, 32);
    if (tls_reader_left(&r) == 0)
        return TLS_OK; /* RFC 5246 §7.4.1.3: extensions may be absent altogether */
    ENSURE(tls_read_vec16(&r, 0, 0xffff, &exts), TLS_ERR_DECODE);
    ENSURE(tls_reader_done(&r), TLS_ERR_TRAILING_DATA);
    return parse_extensions(&exts, sh->is_hrr ? IN_HELLO_RETRY_REQUEST : IN_SERVER_HELLO, &sh->ext);
}

tls_error tls__encrypted_extensions_parse(const uint8_t *body, size_t len, tls_server_exts *ext)
{
    tls_reader r, exts;

    memset(ext, 0, sizeof *ext);
    tls_reader_init(&r, body, len);
    ENSURE(tls_read_vec16(&r, 0, 0xffff, &exts), TLS_ERR_DECODE);
    ENSURE(tls_reader_done(&r), TLS_ERR_TRAILING_DATA);
    return parse_extensions(&exts, IN_ENCRYPTED_EXTENSIONS, ext);
}
