/*
 * fuzz_msgs.c — the codec (tls/codec.c) and every handshake message decoder of
 * tls/msgs/msgs.h on arbitrary bytes.
 *
 * Input: byte 0 picks the mode (modulo MODE_COUNT), the rest is the message body (the
 * bytes after the 4-byte handshake header) in an exact-size heap copy, so ASan sees any
 * read past it. On success every tls_slice a decoder returns must lie inside the body
 * and is read whole. Two modes are differential:
 * - MODE_CODEC runs a little program of reader and writer operations and checks the
 *   codec's contract (exact consumption, sticky failure, sub-readers inside their
 *   parent, back-patched lengths that read back);
 * - MODE_CH_ROUNDTRIP builds a tls_client_hello_spec from the bytes (within the RFC's
 *   bounds), writes it with tls__client_hello_write and parses it back: every field
 *   must come back as written.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "tls/msgs/msgs.h"

enum {
    MODE_CLIENT_HELLO,
    MODE_SERVER_HELLO,
    MODE_ENCRYPTED_EXTENSIONS,
    MODE_CERTIFICATE13,
    MODE_CERTIFICATE12,
    MODE_CERTIFICATE_VERIFY,
    MODE_CERTIFICATE_REQUEST13,
    MODE_NEW_SESSION_TICKET13,
    MODE_NEW_SESSION_TICKET12,
    MODE_SERVER_KEY_EXCHANGE,
    MODE_CERTIFICATE_REQUEST12,
    MODE_CODEC,
    MODE_CH_ROUNDTRIP,
    MODE_COUNT
};

static const uint8_t *body_start, *body_end;

/* A slice a decoder returned: inside the body, and readable whole. */
static void check_slice(tls_slice s)
{
    if (s.len == 0)
        return;
    FUZZ_CHECK(s.p >= body_start && s.p <= body_end && s.len <= (size_t)(body_end - s.p));
    fuzz_consume(s.p, s.len);
}

static void check_ptr(const uint8_t *p, size_t len)
{
    tls_slice s = {p, len};
    check_slice(s);
}

static void check_server_exts(const tls_server_exts *x)
{
    check_slice(x->key_share);
    check_slice(x->cookie);
    check_slice(x->alpn);
    check_slice(x->groups);
    check_slice(x->renegotiation_info);
    check_slice(x->ec_point_formats);
}

static void run_client_hello(const uint8_t *b, size_t n)
{
    static const uint16_t groups[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1, TLS_GROUP_SECP384R1,
                                      0x0100, 0xffff};
    tls_client_hello ch;
    tls_slice share;

    if (tls__client_hello_parse(b, n, &ch) != TLS_OK)
        return;
    check_ptr(ch.random, 32);
    check_slice(ch.session_id);
    check_slice(ch.cipher_suites);
    FUZZ_CHECK(ch.cipher_suites.len % 2 == 0 && ch.cipher_suites.len >= 2);
    FUZZ_CHECK(memchr(ch.server_name, '\0', sizeof ch.server_name) != NULL);
    check_slice(ch.supported_versions);
    check_slice(ch.groups);
    check_slice(ch.sig_algs);
    check_slice(ch.sig_algs_cert);
    check_slice(ch.key_shares);
    check_slice(ch.psk_modes);
    check_slice(ch.psk_identities);
    check_slice(ch.psk_binders);
    check_slice(ch.alpn);
    check_slice(ch.cookie);
    check_slice(ch.renegotiation_info);
    check_slice(ch.session_ticket);
    check_slice(ch.ec_point_formats);
    if (ch.has_psk) {
        /* The binders vector: its length prefix at the offset, running to the end. */
        FUZZ_CHECK(ch.psk_binders_offset + 2 + ch.psk_binders.len == n);
        FUZZ_CHECK(b + ch.psk_binders_offset + 2 == ch.psk_binders.p);
    }
    for (size_t i = 0; i < sizeof groups / sizeof groups[0]; i++)
        if (tls__client_hello_key_share(&ch, groups[i], &share)) {
            FUZZ_CHECK(share.len > 0);
            check_slice(share);
        }
}

static void run_server_hello(const uint8_t *b, size_t n)
{
    tls_server_hello sh;
    if (tls__server_hello_parse(b, n, &sh) != TLS_OK)
        return;
    check_ptr(sh.random, 32);
    check_slice(sh.session_id);
    FUZZ_CHECK(sh.is_hrr == (memcmp(sh.random, tls__hrr_random, 32) == 0));
    check_server_exts(&sh.ext);
}

static void run_certificate(const uint8_t *b, size_t n, bool tls13)
{
    tls_certificate_msg cert;
    if (tls__certificate_parse(b, n, tls13, &cert) != TLS_OK)
        return;
    check_slice(cert.context);
    FUZZ_CHECK(cert.n_certs <= TLS_MAX_PEER_CHAIN);
    for (size_t i = 0; i < cert.n_certs; i++) {
        FUZZ_CHECK(cert.cert_lens[i] > 0);
        check_ptr(cert.certs[i], cert.cert_lens[i]);
    }
}

static void run_decoder(int mode, const uint8_t *b, size_t n)
{
    switch (mode) {
    case MODE_CLIENT_HELLO:
        run_client_hello(b, n);
        break;
    case MODE_SERVER_HELLO:
        run_server_hello(b, n);
        break;
    case MODE_ENCRYPTED_EXTENSIONS: {
        tls_server_exts x;
        if (tls__encrypted_extensions_parse(b, n, &x) == TLS_OK)
            check_server_exts(&x);
        break;
    }
    case MODE_CERTIFICATE13:
        run_certificate(b, n, true);
        break;
    case MODE_CERTIFICATE12:
        run_certificate(b, n, false);
        break;
    case MODE_CERTIFICATE_VERIFY: {
        tls_certificate_verify_msg cv;
        if (tls__certificate_verify_parse(b, n, &cv) == TLS_OK) {
            FUZZ_CHECK(cv.signature.len > 0);
            check_slice(cv.signature);
        }
        break;
    }
    case MODE_CERTIFICATE_REQUEST13: {
        tls_certificate_request_msg cr;
        if (tls__certificate_request_parse(b, n, &cr) == TLS_OK) {
            check_slice(cr.context);
            check_slice(cr.sig_algs);
            FUZZ_CHECK(!cr.has_sig_algs || (cr.sig_algs.len >= 2 && cr.sig_algs.len % 2 == 0));
        }
        break;
    }
    case MODE_NEW_SESSION_TICKET13: {
        tls_new_session_ticket_msg nst;
        if (tls__new_session_ticket_parse(b, n, &nst) == TLS_OK) {
            check_slice(nst.nonce);
            check_slice(nst.ticket);
            FUZZ_CHECK(nst.ticket.len > 0 && nst.lifetime <= 604800);
        }
        break;
    }
    case MODE_NEW_SESSION_TICKET12: {
        tls_new_session_ticket12_msg nst;
        if (tls__new_session_ticket12_parse(b, n, &nst) == TLS_OK)
            check_slice(nst.ticket);
        break;
    }
    case MODE_SERVER_KEY_EXCHANGE: {
        tls_server_key_exchange_msg ske;
        if (tls__server_key_exchange_parse(b, n, &ske) == TLS_OK) {
            check_slice(ske.point);
            check_slice(ske.params);
            check_slice(ske.sig.signature);
            FUZZ_CHECK(ske.params.p == b && ske.params.len == 4 + ske.point.len);
            FUZZ_CHECK(ske.point.len >= 1);
        }
        break;
    }
    case MODE_CERTIFICATE_REQUEST12: {
        tls_certificate_request12_msg cr;
        if (tls__certificate_request12_parse(b, n, &cr) == TLS_OK) {
            check_slice(cr.certificate_types);
            check_slice(cr.sig_algs);
            check_slice(cr.authorities);
        }
        break;
    }
    default:
        abort();
    }
}

/* ---- codec programs ---------------------------------------------------------------------- */

#define STACK 6

static size_t read_be(const uint8_t *p, int width)
{
    size_t v = 0;
    for (int i = 0; i < width; i++)
        v = v << 8 | p[i];
    return v;
}

/* Checks one read of `n` bytes from r, whose state before it was `before`. */
static void check_take(const tls_reader *before, const tls_reader *after, bool ok, size_t n)
{
    if (ok) {
        FUZZ_CHECK(!before->failed && (size_t)(before->end - before->p) >= n);
        FUZZ_CHECK(after->p == before->p + n && !after->failed);
    } else {
        FUZZ_CHECK(after->failed);
        FUZZ_CHECK(before->failed || (size_t)(before->end - before->p) < n);
        FUZZ_CHECK(tls_reader_left(after) == 0 && !tls_reader_done(after));
    }
}

static void run_reader_program(const uint8_t *prog, size_t plen, const uint8_t *data, size_t dlen)
{
    tls_reader st[STACK];
    int top = 0;
    uint8_t tmp[64];

    tls_reader_init(&st[0], data, dlen);
    for (size_t i = 0; i + 1 < plen; i += 2) {
        tls_reader *r = &st[top], before = *r;
        uint8_t op = prog[i] % 16, arg = prog[i + 1];
        bool ok;
        switch (op) {
        case 0: {
            uint8_t v;
            ok = tls_read_u8(r, &v);
            check_take(&before, r, ok, 1);
            if (ok)
                FUZZ_CHECK(v == before.p[0]);
            break;
        }
        case 1: {
            uint16_t v;
            ok = tls_read_u16(r, &v);
            check_take(&before, r, ok, 2);
            if (ok)
                FUZZ_CHECK(v == read_be(before.p, 2));
            break;
        }
        case 2: {
            uint32_t v;
            ok = tls_read_u24(r, &v);
            check_take(&before, r, ok, 3);
            if (ok)
                FUZZ_CHECK(v == read_be(before.p, 3));
            break;
        }
        case 3: {
            uint32_t v;
            ok = tls_read_u32(r, &v);
            check_take(&before, r, ok, 4);
            if (ok)
                FUZZ_CHECK(v == read_be(before.p, 4));
            break;
        }
        case 4: {
            size_t n = arg % sizeof tmp;
            ok = tls_read_bytes(r, tmp, n);
            check_take(&before, r, ok, n);
            if (ok)
                FUZZ_CHECK(n == 0 || memcmp(tmp, before.p, n) == 0);
            break;
        }
        case 5: {
            const uint8_t *s = NULL;
            ok = tls_read_slice(r, arg, &s);
            check_take(&before, r, ok, arg);
            if (ok)
                FUZZ_CHECK(s == before.p);
            break;
        }
        case 6:
            ok = tls_read_skip(r, arg);
            check_take(&before, r, ok, arg);
            break;
        case 7:
        case 8:
        case 9: {
            int width = op - 6;
            size_t min = arg & 7, max = arg >> 3 ? (size_t)(arg >> 3) * 37 : 0xffffff;
            tls_reader body;
            if (width == 1)
                ok = tls_read_vec8(r, min, max, &body);
            else if (width == 2)
                ok = tls_read_vec16(r, min, max, &body);
            else
                ok = tls_read_vec24(r, min, max, &body);
            if (ok) {
                size_t len = read_be(before.p, width);
                FUZZ_CHECK(len >= min && len <= max);
                FUZZ_CHECK(body.p == before.p + width && body.end == body.p + len);
                FUZZ_CHECK(r->p == body.end && !body.failed);
                if (top + 1 < STACK)
                    st[++top] = body;
            } else {
                FUZZ_CHECK(r->failed && body.failed && tls_reader_left(&body) == 0);
            }
            break;
        }
        case 10: {
            tls_reader body;
            tls_read_rest(r, &body);
            if (!before.failed) {
                FUZZ_CHECK(body.p == before.p && body.end == before.end && r->p == r->end);
                if (top + 1 < STACK)
                    st[++top] = body;
            } else {
                FUZZ_CHECK(body.failed);
            }
            break;
        }
        case 11:
            if (top > 0)
                top--;
            break;
        case 12:
            FUZZ_CHECK(tls_reader_done(r) == (!r->failed && r->p == r->end));
            FUZZ_CHECK(tls_reader_failed(r) == r->failed);
            break;
        default: {
            size_t left = tls_reader_left(r);
            FUZZ_CHECK(r->failed ? left == 0 : left == (size_t)(r->end - r->p));
            break;
        }
        }
        /* Every live reader stays inside the input. */
        for (int k = 0; k <= top; k++)
            if (!st[k].failed)
                FUZZ_CHECK(st[k].p >= data && st[k].p <= st[k].end && st[k].end <= data + dlen);
    }
}

/* Writer programs: build nested vectors, then read them back with the reader. */
static void run_writer_program(const uint8_t *prog, size_t plen, const uint8_t *data, size_t dlen)
{
    uint8_t *buf;
    size_t cap = plen ? prog[0] * 4u : 0;
    tls_writer w;
    int depth = 0;
    size_t open_at[TLS_WRITER_MAX_DEPTH + 2];
    int open_w[TLS_WRITER_MAX_DEPTH + 2];
    bool model_fail = false;

    buf = malloc(cap ? cap : 1);
    if (!buf)
        abort();
    tls_writer_init(&w, buf, cap);
    for (size_t i = 1; i + 1 < plen; i += 2) {
        uint8_t op = prog[i] % 8, arg = prog[i + 1];
        size_t before = w.len;
        bool was_failed = w.failed;
        switch (op) {
        case 0:
            tls_write_u8(&w, arg);
            break;
        case 1:
            tls_write_u16(&w, (uint16_t)(arg * 257));
            break;
        case 2:
            tls_write_u24(&w, (uint32_t)arg << 12);
            break;
        case 3:
            tls_write_u32(&w, (uint32_t)arg * 16843009u);
            break;
        case 4: {
            size_t n = arg < dlen ? arg : dlen;
            tls_write_bytes(&w, data, n);
            if (!w.failed)
                FUZZ_CHECK(w.len == before + n && (n == 0 || !memcmp(buf + before, data, n)));
            break;
        }
        case 5: {
            int width = 1 + arg % 3;
            if (width == 1)
                tls_write_vec8_begin(&w);
            else if (width == 2)
                tls_write_vec16_begin(&w);
            else
                tls_write_vec24_begin(&w);
            if (depth >= TLS_WRITER_MAX_DEPTH)
                model_fail = true;
            else if (!w.failed) {
                open_at[depth] = before;
                open_w[depth] = width;
                depth++;
            }
            break;
        }
        case 6:
            tls_writer_end(&w);
            if (depth == 0) {
                model_fail = true;
            } else {
                depth--;
                if (!w.failed) {
                    size_t body = w.len - open_at[depth] - (size_t)open_w[depth];
                    FUZZ_CHECK(read_be(buf + open_at[depth], open_w[depth]) == body);
                }
            }
            break;
        default: {
            uint8_t *p = tls_write_reserve(&w, arg);
            if (p) {
                FUZZ_CHECK(p == buf + before && w.len == before + arg);
                memset(p, 0xa5, arg);
            }
            break;
        }
        }
        FUZZ_CHECK(!was_failed || w.failed); /* failure is sticky */
        FUZZ_CHECK(w.len <= w.cap);
        if (model_fail)
            FUZZ_CHECK(w.failed);
        if (w.failed)
            break;
    }
    FUZZ_CHECK(tls_writer_ok(&w) == (!w.failed && w.depth == 0));
    free(buf);
}

static void run_codec(const uint8_t *b, size_t n)
{
    if (n < 1)
        return;
    size_t plen = b[0] < n - 1 ? b[0] : n - 1;
    const uint8_t *prog = b + 1, *data = b + 1 + plen;
    size_t dlen = n - 1 - plen;
    uint8_t *d = fuzz_dup(data, dlen);
    run_reader_program(prog, plen, d, dlen);
    run_writer_program(prog, plen, d, dlen);
    free(d);
}

/* ---- ClientHello round trip ------------------------------------------------------------- */

typedef struct {
    const uint8_t *p;
    size_t left;
} source;

static uint8_t take_u8(source *s)
{
    if (!s->left)
        return 0;
    s->left--;
    return *s->p++;
}

static uint16_t take_u16(source *s)
{
    uint16_t hi = take_u8(s);
    return (uint16_t)(hi << 8 | take_u8(s));
}

/* n bytes, zero-filled past the end of the input. */
static void take_bytes(source *s, uint8_t *out, size_t n)
{
    size_t k = n < s->left ? n : s->left;
    memcpy(out, s->p, k);
    memset(out + k, 0, n - k);
    s->p += k;
    s->left -= k;
}

static bool list_equals(tls_slice got, const uint16_t *v, size_t n)
{
    if (got.len != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (got.p[2 * i] != (v[i] >> 8) || got.p[2 * i + 1] != (v[i] & 0xff))
            return false;
    return true;
}

static bool slice_equals(tls_slice got, const uint8_t *p, size_t n)
{
    return got.len == n && (n == 0 || memcmp(got.p, p, n) == 0);
}

static void run_ch_roundtrip(const uint8_t *b, size_t n)
{
    static const char host_chars[] = "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789-._";
    source s = {b, n};
    tls_client_hello_spec spec;
    uint8_t random[32], sid[32], share[128], cookie[300], ticket[300], ident[300];
    uint16_t suites[24], versions[8], groups[8], schemes[8];
    char name[80], expect_name[80];
    uint8_t alpn_store[4][40], *alpn[4];
    uint8_t flags = take_u8(&s), flags2 = take_u8(&s);

    memset(&spec, 0, sizeof spec);
    take_bytes(&s, random, sizeof random);
    spec.random = random;
    spec.session_id_len = take_u8(&s) % 33;
    take_bytes(&s, sid, spec.session_id_len);
    spec.session_id = sid;
    spec.n_suites = 1 + take_u8(&s) % 24;
    for (size_t i = 0; i < spec.n_suites; i++)
        suites[i] = take_u16(&s);
    spec.suites = suites;
    if (flags & 1) {
        size_t len = 1 + take_u8(&s) % 60;
        name[0] = 'x'; /* never an IP literal */
        for (size_t i = 1; i < len; i++)
            name[i] = host_chars[take_u8(&s) % (sizeof host_chars - 1)];
        name[len] = '\0';
        size_t e = len;
        if (e > 1 && name[e - 1] == '.')
            e--;
        for (size_t i = 0; i < e; i++)
            expect_name[i] = (char)(name[i] >= 'A' && name[i] <= 'Z' ? name[i] + 32 : name[i]);
        expect_name[e] = '\0';
        spec.server_name = name;
    }
    spec.n_versions = (flags & 2) ? 1 + take_u8(&s) % 8 : 0;
    for (size_t i = 0; i < spec.n_versions; i++)
        versions[i] = take_u16(&s);
    spec.versions = versions;
    spec.n_groups = 1 + take_u8(&s) % 8;
    for (size_t i = 0; i < spec.n_groups; i++)
        groups[i] = take_u16(&s);
    spec.groups = groups;
    spec.n_sig_schemes = 1 + take_u8(&s) % 8;
    for (size_t i = 0; i < spec.n_sig_schemes; i++)
        schemes[i] = take_u16(&s);
    spec.sig_schemes = schemes;
    if (flags & 4) {
        spec.key_share = true;
        spec.share_group = take_u16(&s);
        spec.share_len = 1 + take_u8(&s) % sizeof share;
        take_bytes(&s, share, spec.share_len);
        spec.share = share;
    }
    spec.n_alpn = (flags & 8) ? 1 + take_u8(&s) % 4 : 0;
    for (size_t i = 0; i < spec.n_alpn; i++) {
        alpn_store[i][0] = (uint8_t)(1 + take_u8(&s) % 39);
        take_bytes(&s, alpn_store[i] + 1, alpn_store[i][0]);
        alpn[i] = alpn_store[i];
    }
    spec.alpn = alpn;
    if (flags & 16) {
        spec.cookie.len = 1 + take_u16(&s) % sizeof cookie;
        take_bytes(&s, cookie, spec.cookie.len);
        spec.cookie.p = cookie;
    }
    spec.psk_modes = flags & 32;
    spec.tls12 = flags & 64;
    spec.early_data = flags & 128;
    if (flags2 & 1) {
        spec.session_ticket = true;
        spec.ticket12.len = take_u16(&s) % sizeof ticket;
        take_bytes(&s, ticket, spec.ticket12.len);
        spec.ticket12.p = ticket;
    }
    if (flags2 & 2) {
        spec.psk_identity.len = 1 + take_u16(&s) % sizeof ident;
        take_bytes(&s, ident, spec.psk_identity.len);
        spec.psk_identity.p = ident;
        spec.psk_obfuscated_age = (uint32_t)take_u16(&s) << 16 | take_u16(&s);
        spec.psk_binder_len = 32 + take_u8(&s) % 224;
    }

    size_t cap = 8192;
    uint8_t *buf = malloc(cap);
    tls_writer w;
    tls_client_hello ch;
    if (!buf)
        abort();
    tls_writer_init(&w, buf, cap);
    tls__client_hello_write(&w, &spec);
    FUZZ_CHECK(tls_writer_ok(&w));
    FUZZ_CHECK(w.len >= 4 && buf[0] == 1 && read_be(buf + 1, 3) == w.len - 4);
    const uint8_t *body = buf + 4;
    size_t len = w.len - 4;
    body_start = body;
    body_end = body + len;
    tls_error err = tls__client_hello_parse(body, len, &ch);
    FUZZ_CHECK(err == TLS_OK);
    FUZZ_CHECK(ch.legacy_version == TLS_VERSION_1_2 && !memcmp(ch.random, random, 32));
    FUZZ_CHECK(slice_equals(ch.session_id, sid, spec.session_id_len));
    FUZZ_CHECK(list_equals(ch.cipher_suites, suites, spec.n_suites));
    FUZZ_CHECK(ch.null_compression_only && ch.has_extensions);
    FUZZ_CHECK(ch.has_server_name == (spec.server_name != NULL));
    if (spec.server_name)
        FUZZ_CHECK(strcmp(ch.server_name, expect_name) == 0);
    FUZZ_CHECK(ch.has_supported_versions == (spec.n_versions > 0));
    if (spec.n_versions)
        FUZZ_CHECK(list_equals(ch.supported_versions, versions, spec.n_versions));
    FUZZ_CHECK(ch.has_groups && list_equals(ch.groups, groups, spec.n_groups));
    FUZZ_CHECK(ch.has_sig_algs && list_equals(ch.sig_algs, schemes, spec.n_sig_schemes));
    FUZZ_CHECK(ch.has_key_share == spec.key_share);
    if (spec.key_share) {
        tls_slice got;
        FUZZ_CHECK(tls__client_hello_key_share(&ch, spec.share_group, &got));
        FUZZ_CHECK(slice_equals(got, share, spec.share_len));
    }
    FUZZ_CHECK(ch.has_alpn == (spec.n_alpn > 0));
    if (spec.n_alpn) {
        size_t off = 0;
        for (size_t i = 0; i < spec.n_alpn; i++) {
            FUZZ_CHECK(off + 1 + alpn[i][0] <= ch.alpn.len);
            FUZZ_CHECK(!memcmp(ch.alpn.p + off, alpn[i], 1 + (size_t)alpn[i][0]));
            off += 1 + (size_t)alpn[i][0];
        }
        FUZZ_CHECK(off == ch.alpn.len);
    }
    FUZZ_CHECK(ch.has_cookie == (spec.cookie.len > 0));
    if (spec.cookie.len)
        FUZZ_CHECK(slice_equals(ch.cookie, cookie, spec.cookie.len));
    FUZZ_CHECK(ch.has_psk_modes == spec.psk_modes);
    FUZZ_CHECK(ch.has_extended_master_secret == spec.tls12 &&
               ch.has_renegotiation_info == spec.tls12 && ch.has_ec_point_formats == spec.tls12);
    FUZZ_CHECK(ch.has_early_data == spec.early_data);
    FUZZ_CHECK(ch.has_session_ticket == spec.session_ticket);
    if (spec.session_ticket)
        FUZZ_CHECK(slice_equals(ch.session_ticket, ticket, spec.ticket12.len));
    FUZZ_CHECK(ch.has_psk == (spec.psk_identity.len > 0));
    if (spec.psk_identity.len) {
        /* One identity (u16 length, identity, u32 age) and the binders at the end. */
        FUZZ_CHECK(ch.psk_identities.len == 2 + spec.psk_identity.len + 4);
        FUZZ_CHECK(!memcmp(ch.psk_identities.p + 2, ident, spec.psk_identity.len));
        FUZZ_CHECK(read_be(ch.psk_identities.p + 2 + spec.psk_identity.len, 4) ==
                   spec.psk_obfuscated_age);
        FUZZ_CHECK(ch.psk_binders_offset + TLS_PSK_BINDERS_LEN(spec.psk_binder_len) == len);
    }
    free(buf);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    int mode = data[0] % MODE_COUNT;
    uint8_t *b = fuzz_dup(data + 1, size - 1);
    size_t n = size - 1;
    body_start = b;
    body_end = b + n;
    if (mode == MODE_CODEC)
        run_codec(b, n);
    else if (mode == MODE_CH_ROUNDTRIP)
        run_ch_roundtrip(b, n);
    else
        run_decoder(mode, b, n);
    free(b);
    return 0;
}
