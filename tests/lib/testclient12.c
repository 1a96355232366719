/*
 * testclient12.c — the scripted TLS 1.2 client (see testclient12.h).
 *
 * Implementation notes:
 * - The ClientHello is kept verbatim: the transcript hash is the suite's PRF hash, known
 *   only once ServerHello names the suite; the transcript then starts with the hello.
 * - Keys follow RFC 5246 §6.3 / §8.1 and RFC 7627 §4: the pre-master secret is our
 *   ECDHE agreement with the ServerKeyExchange point; with extended_master_secret the
 *   session hash is the transcript through ClientKeyExchange. Our write keys switch at
 *   our ChangeCipherSpec, the server's at its ChangeCipherSpec.
 * - Nothing here aborts on a server mistake: the first one latches `failed`, later
 *   handshake messages are ignored, and records keep being parsed so alerts that follow
 *   are still seen.
 */
#include "tests/lib/testclient12.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/codec.h"
#include "tls/keysched.h"
#include "tls/msgs/msgs.h"

/* RFC 5246 §7.4 message types the TLS 1.3 list in internal.h lacks. */
enum {
    HS_SERVER_KEY_EXCHANGE = 12,
    HS_SERVER_HELLO_DONE = 14,
    HS_CLIENT_KEY_EXCHANGE = 16,
};

static const uint16_t default_suites[] = {
    TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,       TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
    TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
    TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,         TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
};
static const uint16_t default_groups[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1,
                                          TLS_GROUP_SECP384R1};
static const uint16_t default_sig_algs[] = {
    TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ECDSA_SECP384R1_SHA384, TLS_SIG_RSA_PSS_RSAE_SHA256,
    TLS_SIG_RSA_PSS_RSAE_SHA384,    TLS_SIG_RSA_PSS_RSAE_SHA512,    TLS_SIG_RSA_PKCS1_SHA256,
    TLS_SIG_RSA_PKCS1_SHA384,       TLS_SIG_RSA_PKCS1_SHA512,
};
static const uint8_t default_compression[] = {0};
/* RFC 8446 §4.1.3. */
static const uint8_t sentinel12[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};
static const uint8_t sentinel11[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x00};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- small helpers -------------------------------------------------------------------------- */

static void t12_fail(t12_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void t12_fail(t12_client *c, const char *fmt, ...)
{
    va_list ap;
    if (c->failed)
        return;
    c->failed = true;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
}

static void b_reserve(tc_buf *b, size_t need)
{
    if (b->len + need <= b->cap)
        return;
    size_t cap = b->cap ? b->cap : 4096;
    while (cap < b->len + need)
        cap *= 2;
    uint8_t *p = realloc(b->p, cap);
    if (!p)
        abort();
    b->p = p;
    b->cap = cap;
}

static void b_append(tc_buf *b, const void *data, size_t len)
{
    b_reserve(b, len);
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}

static void b_consume(tc_buf *b, size_t n)
{
    if (n > b->len)
        n = b->len;
    if (b->len > n)
        memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static void b_free(tc_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static bool check(t12_client *c, tls_error err, const char *what)
{
    if (err != TLS_OK)
        t12_fail(c, "%s: %s", what, tls_error_name(err));
    return err == TLS_OK;
}

static bool offered(const uint16_t *list, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return true;
    return false;
}

static uint64_t get_u64(const uint8_t *p)
{
    uint64_t v = 0;
    for (int i = 0; i < 8; i++)
        v = (v << 8) | p[i];
    return v;
}

/* ---- lifetime ------------------------------------------------------------------------------- */

t12_client *t12_client_new(const t12_options *opts)
{
    t12_client *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    if (opts)
        c->opts = *opts;
    t12_options *o = &c->opts;
    if (!o->suites || !o->n_suites) {
        o->suites = default_suites;
        o->n_suites = COUNT(default_suites);
    }
    if (!o->groups || !o->n_groups) {
        o->groups = default_groups;
        o->n_groups = COUNT(default_groups);
    }
    if (!o->sig_algs || !o->n_sig_algs) {
        o->sig_algs = default_sig_algs;
        o->n_sig_algs = COUNT(default_sig_algs);
    }
    if (!o->compression || !o->n_compression) {
        o->compression = default_compression;
        o->n_compression = COUNT(default_compression);
    }
    c->state = T12_STATE_START;
    if (tls__random(c->client_random, sizeof c->client_random) != TLS_OK)
        abort();
    return c;
}

void t12_client_free(t12_client *c)
{
    if (!c)
        return;
    b_free(&c->out);
    b_free(&c->in);
    b_free(&c->hs_in);
    b_free(&c->hs_log);
    b_free(&c->app);
    free(c->end_entity);
    free(c->cert_status);
    free(c->new_ticket);
    free(c->ch);
    tls__transcript_clear(&c->transcript);
    tls__record_cipher_clear(&c->rd);
    tls__record_cipher_clear(&c->wr);
    tls__wipe(c, sizeof *c);
    free(c);
}

/* ---- sending -------------------------------------------------------------------------------- */

/* One record under the current write state (protect) or in plaintext. */
static void put_record(t12_client *c, uint8_t type, const uint8_t *data, size_t len, bool protect)
{
    tls_record_cipher plain;
    tls_record_cipher *rc = protect && tls__record_cipher_active(&c->wr) ? &c->wr : &plain;
    size_t written = 0;

    memset(&plain, 0, sizeof plain);
    size_t size = tls__record_size(rc, len, 0);
    b_reserve(&c->out, size);
    tls_error err = tls__record_seal(rc, type, data, len, 0, c->out.p + c->out.len, size, &written);
    if (check(c, err, "sealing a record"))
        c->out.len += written;
}

static void send_handshake_raw(t12_client *c, const uint8_t *msg, size_t len)
{
    size_t per = c->opts.record_size;
    if (per == 0 || per > TLS_MAX_PLAINTEXT)
        per = TLS_MAX_PLAINTEXT;
    do {
        size_t n = len < per ? len : per;
        put_record(c, TLS_CT_HANDSHAKE, msg, n, true);
        msg += n;
        len -= n;
    } while (len);
}

/* A message of ours: into the transcript (once it has started), then onto the wire. */
static void send_handshake(t12_client *c, const uint8_t *msg, size_t len)
{
    if (c->transcript.started)
        b_append(&c->hs_log, msg, len);
    if (c->transcript.started)
        tls__transcript_add(&c->transcript, msg, len);
    send_handshake_raw(c, msg, len);
}

/* ---- ClientHello ---------------------------------------------------------------------------- */

static void write_u16_list_ext(tls_writer *w, uint16_t type, const uint16_t *v, size_t n)
{
    tls_write_u16(w, type);
    tls_write_vec16_begin(w);
    tls_write_vec16_begin(w);
    for (size_t i = 0; i < n; i++)
        tls_write_u16(w, v[i]);
    tls_writer_end(w);
    tls_writer_end(w);
}

/* RFC 5246 §7.4.1.2 with the extensions of RFC 6066, 8422, 5246 §7.4.1.4.1, 7301, 7627 and
 * 5746. A renegotiation hello (RFC 5746 §3.5) carries our verify_data and never the SCSV. */
static void write_client_hello(t12_client *c, tls_writer *w, bool renegotiation)
{
    const t12_options *o = &c->opts;
    uint8_t random[32];

    memcpy(random, c->client_random, sizeof random);
    if (renegotiation && tls__random(random, sizeof random) != TLS_OK)
        abort();
    tls__hs_begin(w, TLS_HS_CLIENT_HELLO);
    tls_write_u16(w, o->legacy_version ? o->legacy_version : TLS_VERSION_1_2);
    tls_write_bytes(w, random, 32);
    tls_write_vec8(w, o->session_id, o->session_id_len);
    tls_write_vec16_begin(w);
    for (size_t i = 0; i < o->n_suites; i++)
        tls_write_u16(w, o->suites[i]);
    if (o->reneg == T12_RI_SCSV && !renegotiation)
        tls_write_u16(w, TLS_EMPTY_RENEGOTIATION_INFO_SCSV);
    if (o->fallback_scsv)
        tls_write_u16(w, TLS_FALLBACK_SCSV);
    tls_writer_end(w);
    tls_write_vec8(w, o->compression, o->n_compression);
    if (o->no_extensions) {
        tls__hs_end(w);
        return;
    }
    tls_write_vec16_begin(w);
    if (o->sni) {
        tls_write_u16(w, TLS_EXT_SERVER_NAME);
        tls_write_vec16_begin(w);
        tls_write_vec16_begin(w);
        tls_write_u8(w, 0); /* host_name */
        tls_write_vec16(w, (const uint8_t *)o->sni, strlen(o->sni));
        tls_writer_end(w);
        tls_writer_end(w);
    }
    if (!o->omit_groups)
        write_u16_list_ext(w, TLS_EXT_SUPPORTED_GROUPS, o->groups, o->n_groups);
    if (o->point_formats != T12_EPF_OMIT) {
        tls_write_u16(w, TLS_EXT_EC_POINT_FORMATS);
        tls_write_u16(w, 2);
        tls_write_u8(w, 1);
        tls_write_u8(w, o->point_formats == T12_EPF_COMPRESSED_ONLY ? 1 : 0);
    }
    if (!o->omit_sig_algs)
        write_u16_list_ext(w, TLS_EXT_SIGNATURE_ALGORITHMS, o->sig_algs, o->n_sig_algs);
    if (o->n_alpn) {
        tls_write_u16(w, TLS_EXT_ALPN);
        tls_write_vec16_begin(w);
        tls_write_vec16_begin(w);
        for (size_t i = 0; i < o->n_alpn; i++)
            tls_write_vec8(w, (const uint8_t *)o->alpn[i], strlen(o->alpn[i]));
        tls_writer_end(w);
        tls_writer_end(w);
    }
    if (!o->omit_ems) {
        tls_write_u16(w, TLS_EXT_EXTENDED_MASTER_SECRET);
        tls_write_u16(w, 0);
    }
    if (o->session_ticket && !renegotiation) {
        tls_write_u16(w, TLS_EXT_SESSION_TICKET);
        tls_write_vec16(w, o->ticket, o->ticket_len);
    }
    if (renegotiation) {
        tls_write_u16(w, TLS_EXT_RENEGOTIATION_INFO);
        tls_write_vec16_begin(w);
        tls_write_vec8(w, c->client_verify, sizeof c->client_verify);
        tls_writer_end(w);
    } else if (o->reneg == T12_RI_EXT || o->reneg == T12_RI_NONEMPTY) {
        static const uint8_t junk[TLS12_VERIFY_DATA_LEN] = {0x55, 0x55, 0x55, 0x55, 0x55, 0x55,
                                                            0x55, 0x55, 0x55, 0x55, 0x55, 0x55};
        tls_write_u16(w, TLS_EXT_RENEGOTIATION_INFO);
        tls_write_vec16_begin(w);
        tls_write_vec8(w, junk, o->reneg == T12_RI_NONEMPTY ? sizeof junk : 0);
        tls_writer_end(w);
    }
    if (o->n_versions) {
        tls_write_u16(w, TLS_EXT_SUPPORTED_VERSIONS);
        tls_write_vec16_begin(w);
        tls_write_vec8_begin(w);
        for (size_t i = 0; i < o->n_versions; i++)
            tls_write_u16(w, o->versions[i]);
        tls_writer_end(w);
        tls_writer_end(w);
    }
    if (o->extra_exts_len)
        tls_write_bytes(w, o->extra_exts, o->extra_exts_len);
    tls_writer_end(w);
    tls__hs_end(w);
}

static size_t build_client_hello(t12_client *c, uint8_t **out, bool renegotiation)
{
    size_t cap = 4096 + c->opts.extra_exts_len + c->opts.ticket_len;
    uint8_t *msg = malloc(cap);
    tls_writer w;

    if (!msg)
        abort();
    tls_writer_init(&w, msg, cap);
    write_client_hello(c, &w, renegotiation);
    if (!tls_writer_ok(&w)) {
        t12_fail(c, "ClientHello does not fit %zu bytes", cap);
        free(msg);
        *out = NULL;
        return 0;
    }
    *out = msg;
    return w.len;
}

void t12_start(t12_client *c)
{
    if (c->state != T12_STATE_START) {
        t12_fail(c, "t12_start called twice");
        return;
    }
    c->ch_len = build_client_hello(c, &c->ch, false);
    if (!c->ch)
        return;
    send_handshake_raw(c, c->ch, c->ch_len);
    c->state = T12_STATE_WAIT_SERVER_HELLO;
}

void t12_send_renegotiation_hello(t12_client *c)
{
    uint8_t *msg;
    size_t len = build_client_hello(c, &msg, true);
    if (!msg)
        return;
    send_handshake_raw(c, msg, len);
    free(msg);
}

/* ---- the server's flight -------------------------------------------------------------------- */

static void handle_server_hello_ext(t12_client *c, uint16_t type, tls_reader *body)
{
    const t12_options *o = &c->opts;
    tls_reader list, name;

    switch (type) {
    case TLS_EXT_RENEGOTIATION_INFO:
        if (o->reneg == T12_RI_NONE || !tls_read_vec8(body, 0, 255, &list) ||
            !tls_reader_done(body)) {
            t12_fail(c, "bad or unsolicited renegotiation_info");
            return;
        }
        c->reneg_info = true;
        c->reneg_info_len = tls_reader_left(&list);
        return;
    case TLS_EXT_SESSION_TICKET: /* RFC 5077 §3.2: empty, announcing NewSessionTicket */
        if (!o->session_ticket || tls_reader_left(body)) {
            t12_fail(c, "bad or unsolicited session_ticket");
            return;
        }
        c->session_ticket_acked = true;
        return;
    case TLS_EXT_EXTENDED_MASTER_SECRET:
        if (o->omit_ems || tls_reader_left(body)) {
            t12_fail(c, "bad or unsolicited extended_master_secret");
            return;
        }
        c->ems = true;
        return;
    case TLS_EXT_SERVER_NAME:
        if (!o->sni || tls_reader_left(body)) { /* RFC 6066 §3: empty */
            t12_fail(c, "bad or unsolicited server_name");
            return;
        }
        c->sni_acked = true;
        return;
    case TLS_EXT_EC_POINT_FORMATS:
        if (o->point_formats == T12_EPF_OMIT || !tls_read_vec8(body, 1, 255, &list) ||
            !tls_reader_done(body)) {
            t12_fail(c, "bad or unsolicited ec_point_formats");
            return;
        }
        c->point_formats_seen = true;
        c->point_formats_uncompressed = memchr(list.p, 0, tls_reader_left(&list)) != NULL;
        return;
    case TLS_EXT_ALPN:
        if (!o->n_alpn || !tls_read_vec16(body, 2, 0xffff, &list) || !tls_reader_done(body) ||
            !tls_read_vec8(&list, 1, 255, &name) || !tls_reader_done(&list)) {
            t12_fail(c, "bad or unsolicited ALPN");
            return;
        }
        c->alpn_len = tls_reader_left(&name);
        memcpy(c->alpn, name.p, c->alpn_len);
        c->alpn[c->alpn_len] = '\0';
        bool ok = false;
        for (size_t i = 0; i < o->n_alpn; i++)
            ok |= strlen(o->alpn[i]) == c->alpn_len && !memcmp(o->alpn[i], name.p, c->alpn_len);
        if (!ok)
            t12_fail(c, "server selected ALPN \"%s\" we did not offer", c->alpn);
        return;
    case TLS_EXT_STATUS_REQUEST: /* RFC 6066 §8: empty; only offered through extra_exts */
    case TLS_EXT_SCT:            /* RFC 6962 §3.3 */
        if (!o->extra_exts_len) {
            t12_fail(c, "unsolicited ServerHello extension %u", type);
            return;
        }
        return;
    default:
        t12_fail(c, "unsolicited ServerHello extension %u", type);
        return;
    }
}

static void handle_server_hello(t12_client *c, const uint8_t *msg, size_t len)
{
    tls_reader r, sid, exts, body;
    const uint8_t *random;
    uint16_t suite, type;
    uint8_t comp;

    tls_reader_init(&r, msg + 4, len - 4);
    if (!tls_read_u16(&r, &c->version) || !tls_read_slice(&r, 32, &random) ||
        !tls_read_vec8(&r, 0, 32, &sid) || !tls_read_u16(&r, &suite) || !tls_read_u8(&r, &comp)) {
        t12_fail(c, "malformed ServerHello");
        return;
    }
    memset(&exts, 0, sizeof exts);
    if (tls_reader_left(&r) && (!tls_read_vec16(&r, 0, 0xffff, &exts) || !tls_reader_done(&r))) {
        t12_fail(c, "malformed ServerHello extensions");
        return;
    }
    memcpy(c->server_random, random, 32);
    c->sentinel_tls12 = !memcmp(random + 24, sentinel12, 8);
    c->sentinel_tls11 = !memcmp(random + 24, sentinel11, 8);
    c->session_id_len = tls_reader_left(&sid);
    c->suite = suite;
    if (c->version != TLS_VERSION_1_2) {
        t12_fail(c, "ServerHello version 0x%04x", c->version);
        return;
    }
    c->cs = tls__suite_find(suite);
    if (!c->cs || c->cs->version != TLS_VERSION_1_2 ||
        !offered(c->opts.suites, c->opts.n_suites, suite)) {
        t12_fail(c, "server chose suite 0x%04x we did not offer", suite);
        return;
    }
    if (comp != 0) {
        t12_fail(c, "server chose compression %u", comp);
        return;
    }
    while (tls_reader_left(&exts) && !c->failed) {
        if (!tls_read_u16(&exts, &type) || !tls_read_vec16(&exts, 0, 0xffff, &body)) {
            t12_fail(c, "malformed ServerHello extension");
            return;
        }
        if (c->n_sh_exts < COUNT(c->sh_ext_types))
            c->sh_ext_types[c->n_sh_exts++] = type;
        handle_server_hello_ext(c, type, &body);
    }
    if (c->failed)
        return;
    tls__transcript_start(&c->transcript, c->cs->hash);
    tls__transcript_add(&c->transcript, c->ch, c->ch_len);
    tls__transcript_add(&c->transcript, msg, len);
    c->state = T12_STATE_WAIT_CERTIFICATE;
}

static void handle_certificate(t12_client *c, const uint8_t *msg, size_t len)
{
    tls_reader r, list, cert;

    tls_reader_init(&r, msg + 4, len - 4);
    if (!tls_read_vec24(&r, 0, 0xffffff, &list) || !tls_reader_done(&r)) {
        t12_fail(c, "malformed Certificate");
        return;
    }
    while (tls_reader_left(&list)) {
        if (!tls_read_vec24(&list, 1, 0xffffff, &cert)) {
            t12_fail(c, "malformed ASN.1Cert");
            return;
        }
        if (c->n_certs++ == 0) {
            c->end_entity_len = tls_reader_left(&cert);
            c->end_entity = malloc(c->end_entity_len);
            if (!c->end_entity)
                abort();
            memcpy(c->end_entity, cert.p, c->end_entity_len);
        }
    }
    if (c->n_certs == 0) {
        t12_fail(c, "empty Certificate");
        return;
    }
    tls__transcript_add(&c->transcript, msg, len);
    c->state = T12_STATE_WAIT_SERVER_KEY_EXCHANGE;
}

/* RFC 8422 §5.4: ServerECDHParams, then a signature over both randoms and the params. */
static void handle_server_key_exchange(t12_client *c, const uint8_t *msg, size_t len)
{
    tls_reader r, point, sig;
    uint8_t curve_type;
    uint16_t group, scheme;

    tls_reader_init(&r, msg + 4, len - 4);
    if (!tls_read_u8(&r, &curve_type) || !tls_read_u16(&r, &group) ||
        !tls_read_vec8(&r, 1, 255, &point)) {
        t12_fail(c, "malformed ServerKeyExchange params");
        return;
    }
    size_t params_len = (size_t)(r.p - (msg + 4));
    if (!tls_read_u16(&r, &scheme) || !tls_read_vec16(&r, 1, 0xffff, &sig) ||
        !tls_reader_done(&r)) {
        t12_fail(c, "malformed ServerKeyExchange signature");
        return;
    }
    if (curve_type != 3) {
        t12_fail(c, "ServerKeyExchange curve_type %u", curve_type);
        return;
    }
    if (!c->opts.omit_groups && !offered(c->opts.groups, c->opts.n_groups, group)) {
        t12_fail(c, "ServerKeyExchange group 0x%04x we did not offer", group);
        return;
    }
    if (c->opts.omit_sig_algs || !offered(c->opts.sig_algs, c->opts.n_sig_algs, scheme)) {
        t12_fail(c, "ServerKeyExchange signed with 0x%04x we did not offer", scheme);
        return;
    }
    if (tls_reader_left(&point) > sizeof c->server_point) {
        t12_fail(c, "ServerKeyExchange point of %zu bytes", tls_reader_left(&point));
        return;
    }
    uint8_t *signed_data = malloc(64 + params_len);
    if (!signed_data)
        abort();
    memcpy(signed_data, c->client_random, 32);
    memcpy(signed_data + 32, c->server_random, 32);
    memcpy(signed_data + 64, msg + 4, params_len);
    tls_error err = tls__verify(c->end_entity, c->end_entity_len, scheme, signed_data,
                                64 + params_len, sig.p, tls_reader_left(&sig));
    free(signed_data);
    if (err != TLS_OK) {
        t12_fail(c, "ServerKeyExchange signature does not verify (%s)", tls_error_name(err));
        return;
    }
    c->group = group;
    c->sig_scheme = scheme;
    c->server_point_len = tls_reader_left(&point);
    memcpy(c->server_point, point.p, c->server_point_len);
    tls__transcript_add(&c->transcript, msg, len);
    c->state = T12_STATE_WAIT_SERVER_HELLO_DONE;
}

static void send_flight(t12_client *c)
{
    switch (c->opts.flight) {
    case T12_FLIGHT_NORMAL:
        if (c->cert_requested)
            t12_send_client_certificate(c);
        t12_send_client_key_exchange(c);
        if (c->cert_requested && c->opts.client_cert)
            t12_send_certificate_verify(c);
        t12_send_ccs(c);
        t12_send_finished(c);
        return;
    case T12_FLIGHT_MANUAL:
        return;
    case T12_FLIGHT_FINISHED_BEFORE_CCS:
        t12_send_client_key_exchange(c);
        t12_send_finished(c);
        t12_send_ccs(c);
        return;
    case T12_FLIGHT_CCS_BEFORE_CKE:
        t12_send_ccs(c);
        t12_send_client_key_exchange(c);
        t12_send_finished(c);
        return;
    case T12_FLIGHT_CCS_TWICE:
        t12_send_client_key_exchange(c);
        t12_send_ccs(c);
        t12_send_ccs(c);
        t12_send_finished(c);
        return;
    default:
        t12_fail(c, "unknown flight %d", (int)c->opts.flight);
        return;
    }
}

static void handle_server_hello_done(t12_client *c, const uint8_t *msg, size_t len)
{
    if (len != 4) {
        t12_fail(c, "ServerHelloDone with a body");
        return;
    }
    tls__transcript_add(&c->transcript, msg, len);
    c->state = T12_STATE_SERVER_DONE;
    send_flight(c);
}

static tls_error finished_data(t12_client *c, const char *label, uint8_t out[TLS12_VERIFY_DATA_LEN])
{
    uint8_t thash[TLS_MAX_HASH_LEN];
    tls__transcript_current(&c->transcript, thash);
    return tls12_prf(c->cs->hash, c->master, sizeof c->master, label, thash,
                     tls__hash_len(c->cs->hash), NULL, 0, out, TLS12_VERIFY_DATA_LEN);
}

static void handle_server_finished(t12_client *c, const uint8_t *msg, size_t len)
{
    uint8_t expected[TLS12_VERIFY_DATA_LEN];

    if (len != 4 + TLS12_VERIFY_DATA_LEN) {
        t12_fail(c, "server Finished of %zu bytes", len - 4);
        return;
    }
    if (!check(c, finished_data(c, "server finished", expected), "server verify_data"))
        return;
    if (!tls__ct_equal(expected, msg + 4, sizeof expected)) {
        t12_fail(c, "server Finished does not verify");
        return;
    }
    tls__transcript_add(&c->transcript, msg, len);
    c->state = T12_STATE_CONNECTED;
}

/* RFC 5077 §3.3: after our Finished, before the server's CCS; in the transcript. */
static void handle_new_session_ticket(t12_client *c, const uint8_t *msg, size_t len)
{
    tls_reader r, ticket;
    uint32_t lifetime_hint;

    tls_reader_init(&r, msg + 4, len - 4);
    if (!tls_read_u32(&r, &lifetime_hint) || !tls_read_vec16(&r, 0, 0xffff, &ticket) ||
        !tls_reader_done(&r)) {
        t12_fail(c, "malformed NewSessionTicket");
        return;
    }
    free(c->new_ticket);
    c->new_ticket_len = tls_reader_left(&ticket);
    c->new_ticket = malloc(c->new_ticket_len ? c->new_ticket_len : 1);
    if (!c->new_ticket)
        abort();
    if (c->new_ticket_len)
        memcpy(c->new_ticket, ticket.p, c->new_ticket_len);
    c->new_tickets++;
    tls__transcript_add(&c->transcript, msg, len);
}

/* RFC 5246 §7.4.4: recorded, into the transcript; answered by the flight. */
static void handle_certificate_request(t12_client *c, const uint8_t *msg, size_t len)
{
    tls_certificate_request12_msg cr;
    tls_reader list, dn;

    if (!check(c, tls__certificate_request12_parse(msg + 4, len - 4, &cr), "CertificateRequest"))
        return;
    c->cert_requested = true;
    c->cr_types = cr.certificate_types.len;
    c->cr_sig_algs = cr.sig_algs.len / 2;
    tls_reader_init(&list, cr.authorities.p, cr.authorities.len);
    while (tls_read_vec16(&list, 1, 0xffff, &dn))
        c->cr_authorities++;
    tls__transcript_add(&c->transcript, msg, len);
}

static void handle_server_message(t12_client *c, const uint8_t *msg, size_t len)
{
    uint8_t type = msg[0];

    if (c->hs_log.len == 0 && c->ch)
        b_append(&c->hs_log, c->ch, c->ch_len);
    b_append(&c->hs_log, msg, len);
    c->server_msgs++;
    if (c->failed)
        return;
    switch (c->state) {
    case T12_STATE_WAIT_SERVER_HELLO:
        if (type != TLS_HS_SERVER_HELLO)
            break;
        handle_server_hello(c, msg, len);
        return;
    case T12_STATE_WAIT_CERTIFICATE:
        if (type != TLS_HS_CERTIFICATE)
            break;
        handle_certificate(c, msg, len);
        return;
    case T12_STATE_WAIT_SERVER_KEY_EXCHANGE:
        if (type == 22 && c->cert_status == NULL) { /* CertificateStatus, RFC 6066 §8 */
            c->cert_status_len = len - 4;
            c->cert_status = malloc(len);
            if (!c->cert_status)
                abort();
            memcpy(c->cert_status, msg + 4, len - 4);
            tls__transcript_add(&c->transcript, msg, len);
            return;
        }
        if (type != HS_SERVER_KEY_EXCHANGE)
            break;
        handle_server_key_exchange(c, msg, len);
        return;
    case T12_STATE_WAIT_SERVER_HELLO_DONE:
        if (type == TLS_HS_CERTIFICATE_REQUEST && !c->cert_requested) {
            handle_certificate_request(c, msg, len);
            return;
        }
        if (type != HS_SERVER_HELLO_DONE)
            break;
        handle_server_hello_done(c, msg, len);
        return;
    case T12_STATE_WAIT_SERVER_FINISHED:
        if (type != TLS_HS_FINISHED)
            break;
        handle_server_finished(c, msg, len);
        return;
    case T12_STATE_WAIT_SERVER_CCS:
        if (type != TLS_HS_NEW_SESSION_TICKET || !c->session_ticket_acked || c->new_tickets)
            break;
        handle_new_session_ticket(c, msg, len);
        return;
    case T12_STATE_START:
    case T12_STATE_SERVER_DONE:
    case T12_STATE_CONNECTED:
    default:
        break;
    }
    t12_fail(c, "unexpected handshake message %u in client state %d", type, (int)c->state);
}

static void handle_server_handshake_bytes(t12_client *c, const uint8_t *body, size_t len)
{
    if (len == 0) {
        t12_fail(c, "empty handshake record");
        return;
    }
    b_append(&c->hs_in, body, len);
    while (c->hs_in.len >= 4) {
        size_t n =
            4 + (((size_t)c->hs_in.p[1] << 16) | ((size_t)c->hs_in.p[2] << 8) | c->hs_in.p[3]);
        if (c->hs_in.len < n)
            break;
        uint8_t *msg = malloc(n);
        if (!msg)
            abort();
        memcpy(msg, c->hs_in.p, n);
        b_consume(&c->hs_in, n);
        handle_server_message(c, msg, n);
        free(msg);
    }
}

/* Key block layout (RFC 5246 §6.3; AEAD suites have no MAC keys). */
static const uint8_t *key_at(const t12_client *c, bool server)
{
    return c->key_block + (server ? c->cs->key_len : 0);
}

static const uint8_t *iv_at(const t12_client *c, bool server)
{
    return c->key_block + 2 * c->cs->key_len + (server ? c->cs->fixed_iv_len : 0);
}

static void handle_server_ccs(t12_client *c, const tls_record *rec, bool encrypted)
{
    c->server_ccs++;
    if (encrypted || rec->len != 1 || rec->body[0] != 1) {
        t12_fail(c, "bad ChangeCipherSpec from the server");
        return;
    }
    if (c->state != T12_STATE_WAIT_SERVER_CCS || !c->keys_ready) {
        t12_fail(c, "ChangeCipherSpec from the server in client state %d", (int)c->state);
        return;
    }
    if (c->hs_in.len) {
        t12_fail(c, "server ChangeCipherSpec inside a handshake message");
        return;
    }
    if (check(c, tls__record_cipher_install12(&c->rd, c->cs, key_at(c, true), iv_at(c, true)),
              "installing the server's keys"))
        c->state = T12_STATE_WAIT_SERVER_FINISHED;
}

static void handle_server_record(t12_client *c, tls_record *rec)
{
    bool encrypted = tls__record_cipher_active(&c->rd);

    if (encrypted) {
        if (c->rd.suite->fixed_iv_len == 4 && rec->len >= 8 &&
            c->n_explicit_nonces < T12_MAX_NONCES)
            c->explicit_nonces[c->n_explicit_nonces++] = get_u64(rec->body);
        tls_error err = tls__record_open(&c->rd, rec);
        if (err != TLS_OK) {
            t12_fail(c, "cannot open a server record of %zu bytes: %s", rec->len,
                     tls_error_name(err));
            return;
        }
        c->protected_records++;
    } else if (rec->type == TLS_CT_APPLICATION_DATA) {
        t12_fail(c, "application data before the server's keys");
        return;
    }
    c->records++;
    if (rec->len > c->max_record_plaintext)
        c->max_record_plaintext = rec->len;
    switch (rec->type) {
    case TLS_CT_CHANGE_CIPHER_SPEC:
        handle_server_ccs(c, rec, encrypted);
        break;
    case TLS_CT_ALERT:
        if (rec->len != 2) {
            t12_fail(c, "alert record of %zu bytes", rec->len);
            break;
        }
        if (c->n_alerts < T12_MAX_ALERTS) {
            t12_alert *a = &c->alerts[c->n_alerts++];
            a->level = rec->body[0];
            a->desc = rec->body[1];
            a->encrypted = encrypted;
        }
        if (rec->body[1] == TLS_ALERT_CLOSE_NOTIFY)
            c->close_notify = true;
        break;
    case TLS_CT_HANDSHAKE:
        handle_server_handshake_bytes(c, rec->body, rec->len);
        break;
    case TLS_CT_APPLICATION_DATA:
        if (c->state != T12_STATE_CONNECTED)
            c->app_before_connected += rec->len;
        b_append(&c->app, rec->body, rec->len);
        break;
    default:
        t12_fail(c, "record of content type %u", rec->type);
    }
}

void t12_receive(t12_client *c, const uint8_t *buf, size_t len)
{
    b_append(&c->in, buf, len);
    size_t off = 0;
    while (off < c->in.len) {
        tls_record rec;
        bool complete = false;
        tls_error err = tls__record_peek(c->in.p + off, c->in.len - off, &rec, &complete);
        if (err != TLS_OK) {
            t12_fail(c, "bad record from the server: %s", tls_error_name(err));
            c->in.len = off; /* drop the garbage */
            break;
        }
        if (!complete)
            break;
        handle_server_record(c, &rec);
        off += rec.total;
    }
    b_consume(&c->in, off);
}

/* ---- the client's second flight ------------------------------------------------------------- */

/* Master secret and key block from the pre-master secret, after ClientKeyExchange is in the
 * transcript (RFC 7627 §3: the session hash covers it). */
static void derive_keys(t12_client *c, const uint8_t *pre_master, size_t pre_master_len)
{
    uint8_t session_hash[TLS_MAX_HASH_LEN];
    const tls_suite *s = c->cs;

    tls__transcript_current(&c->transcript, session_hash);
    tls_error err = tls12_master_secret(s->hash, pre_master, pre_master_len,
                                        c->ems ? session_hash : NULL, c->client_random,
                                        c->server_random, c->master);
    if (err == TLS_OK)
        err = tls12_prf(s->hash, c->master, sizeof c->master, "key expansion", c->server_random,
                        32, c->client_random, 32, c->key_block,
                        2 * s->key_len + 2 * s->fixed_iv_len);
    if (check(c, err, "client key schedule"))
        c->keys_ready = true;
}

void t12_send_client_key_exchange(t12_client *c)
{
    uint8_t msg[4 + 1 + TLS_MAX_KX_PUBLIC_LEN + 256], pub[TLS_MAX_KX_PUBLIC_LEN];
    uint8_t pre_master[TLS_MAX_KX_SECRET_LEN];
    size_t pub_len = 0, pre_master_len = 0;
    tls_kx *kx = NULL;
    tls_writer w;

    c->cke_sent = true;
    tls_writer_init(&w, msg, sizeof msg);
    tls__hs_begin(&w, HS_CLIENT_KEY_EXCHANGE);
    if (c->opts.cke_body) {
        tls_write_bytes(&w, c->opts.cke_body, c->opts.cke_body_len);
        tls__hs_end(&w);
        if (!tls_writer_ok(&w))
            t12_fail(c, "ClientKeyExchange body of %zu bytes is too long", c->opts.cke_body_len);
        else
            send_handshake(c, msg, w.len);
        return;
    }
    if (!c->cs || !c->server_point_len) {
        t12_fail(c, "ClientKeyExchange before ServerKeyExchange");
        return;
    }
    tls_error err = tls__kx_new(c->group, &kx);
    if (err == TLS_OK)
        err = tls__kx_public(kx, pub, sizeof pub, &pub_len);
    if (err == TLS_OK)
        err = tls__kx_agree(kx, c->server_point, c->server_point_len, pre_master,
                            sizeof pre_master, &pre_master_len);
    tls__kx_free(kx);
    if (!check(c, err, "our ECDHE key exchange"))
        return;
    tls_write_vec8(&w, pub, pub_len);
    for (size_t i = 0; i < c->opts.cke_trailing; i++)
        tls_write_u8(&w, 0);
    tls__hs_end(&w);
    if (!tls_writer_ok(&w)) {
        t12_fail(c, "ClientKeyExchange does not fit");
        return;
    }
    send_handshake(c, msg, w.len);
    derive_keys(c, pre_master, pre_master_len);
    tls__wipe(pre_master, sizeof pre_master);
}

void t12_send_client_certificate(t12_client *c)
{
    const tls_certified_key *ck = c->opts.client_cert;
    size_t cap = 64;
    tls_writer w;

    for (size_t i = 0; ck && i < ck->n_chain; i++)
        cap += ck->chain_len[i] + 3;
    uint8_t *msg = malloc(cap);
    if (!msg)
        abort();
    tls_writer_init(&w, msg, cap);
    tls__hs_begin(&w, TLS_HS_CERTIFICATE);
    tls_write_vec24_begin(&w);
    for (size_t i = 0; ck && i < ck->n_chain; i++) {
        tls_write_vec24_begin(&w);
        tls_write_bytes(&w, ck->chain[i], ck->chain_len[i]);
        tls_writer_end(&w);
    }
    tls_writer_end(&w);
    tls__hs_end(&w);
    send_handshake(c, msg, w.len);
    free(msg);
}

void t12_send_certificate_verify(t12_client *c)
{
    const tls_certified_key *ck = c->opts.client_cert;
    uint8_t msg[4 + 4 + TLS_MAX_SIGNATURE_LEN], sig[TLS_MAX_SIGNATURE_LEN];
    size_t sig_len = 0;
    uint16_t scheme = c->opts.client_sig_scheme;
    tls_writer w;

    if (!ck) {
        t12_fail(c, "CertificateVerify without a client_cert");
        return;
    }
    if (!scheme)
        scheme = ck->key_type == TLS_KEY_ECDSA_P256   ? TLS_SIG_ECDSA_SECP256R1_SHA256
                 : ck->key_type == TLS_KEY_ECDSA_P384 ? TLS_SIG_ECDSA_SECP384R1_SHA384
                 : ck->key_type == TLS_KEY_ED25519    ? TLS_SIG_ED25519
                                                      : TLS_SIG_RSA_PSS_RSAE_SHA256;
    if (!check(c, tls__sign(ck->key, scheme, c->hs_log.p, c->hs_log.len, sig, sizeof sig, &sig_len),
               "client CertificateVerify"))
        return;
    if (c->opts.corrupt_client_cv)
        sig[sig_len / 2] ^= 0x01;
    tls_writer_init(&w, msg, sizeof msg);
    tls__hs_begin(&w, TLS_HS_CERTIFICATE_VERIFY);
    tls_write_u16(&w, scheme);
    tls_write_vec16(&w, sig, sig_len);
    tls__hs_end(&w);
    send_handshake(c, msg, w.len);
}

void t12_send_ccs(t12_client *c)
{
    static const uint8_t one = 1;
    bool first = !c->ccs_sent;

    put_record(c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1, true);
    c->ccs_sent = true;
    if (first && c->keys_ready)
        check(c, tls__record_cipher_install12(&c->wr, c->cs, key_at(c, false), iv_at(c, false)),
              "installing our keys");
}

void t12_send_finished(t12_client *c)
{
    uint8_t msg[4 + TLS12_VERIFY_DATA_LEN] = {TLS_HS_FINISHED, 0, 0, TLS12_VERIFY_DATA_LEN};

    if (c->keys_ready)
        check(c, finished_data(c, "client finished", c->client_verify), "our verify_data");
    memcpy(msg + 4, c->client_verify, TLS12_VERIFY_DATA_LEN);
    if (c->opts.corrupt_finished)
        msg[4] ^= 0x01;
    send_handshake(c, msg, sizeof msg);
    c->finished_sent = true;
    if (c->state == T12_STATE_SERVER_DONE)
        c->state = T12_STATE_WAIT_SERVER_CCS;
}

/* ---- application data, alerts, injection ---------------------------------------------------- */

void t12_write(t12_client *c, const uint8_t *data, size_t len)
{
    do {
        size_t n = len < TLS_MAX_PLAINTEXT ? len : TLS_MAX_PLAINTEXT;
        put_record(c, TLS_CT_APPLICATION_DATA, data, n, true);
        data += n;
        len -= n;
    } while (len);
}

size_t t12_read(t12_client *c, uint8_t *buf, size_t cap)
{
    size_t n = c->app.len < cap ? c->app.len : cap;
    if (n)
        memcpy(buf, c->app.p, n);
    b_consume(&c->app, n);
    return n;
}

void t12_send_alert(t12_client *c, uint8_t level, uint8_t desc)
{
    uint8_t body[2] = {level, desc};
    put_record(c, TLS_CT_ALERT, body, sizeof body, true);
}

void t12_send_close_notify(t12_client *c)
{
    t12_send_alert(c, 1, TLS_ALERT_CLOSE_NOTIFY);
}

void t12_inject_raw(t12_client *c, const void *bytes, size_t len)
{
    b_append(&c->out, bytes, len);
}

void t12_inject_plain_record(t12_client *c, uint8_t type, const void *body, size_t len)
{
    uint8_t header[5] = {type, 0x03, 0x03, (uint8_t)(len >> 8), (uint8_t)len};
    b_append(&c->out, header, sizeof header);
    b_append(&c->out, body, len);
}

void t12_inject_record(t12_client *c, uint8_t type, const void *body, size_t len)
{
    put_record(c, type, body, len, true);
}

void t12_flip_out_bit(t12_client *c, size_t back, uint8_t mask)
{
    if (back == 0 || back > c->out.len) {
        t12_fail(c, "t12_flip_out_bit(%zu) with %zu bytes queued", back, c->out.len);
        return;
    }
    c->out.p[c->out.len - back] ^= mask;
}

const uint8_t *t12_out(const t12_client *c, size_t *len)
{
    *len = c->out.len;
    return c->out.p;
}

void t12_out_consume(t12_client *c, size_t n)
{
    b_consume(&c->out, n);
}

int t12_last_alert(const t12_client *c)
{
    return c->n_alerts ? c->alerts[c->n_alerts - 1].desc : TLS_ALERT_NONE;
}

/* ---- pump ----------------------------------------------------------------------------------- */

tls_error t12_pump(t12_client *c, tls_conn *s, size_t feed)
{
    tls_error first = TLS_OK;
    uint8_t buf[8192];

    for (;;) {
        bool progress = false;
        tls_error err = tls_conn_process(s); /* records held back by backpressure */
        while (err == TLS_OK && c->out.len) {
            size_t n = feed && feed < c->out.len ? feed : c->out.len;
            size_t consumed = 0;
            err = tls_conn_read_tls(s, c->out.p, n, &consumed);
            if (consumed) {
                b_consume(&c->out, consumed);
                progress = true;
            }
            if (err == TLS_OK)
                err = tls_conn_process(s);
            if (consumed == 0)
                break;
        }
        if (err != TLS_OK && first == TLS_OK)
            first = err;
        size_t n;
        while ((n = tls_conn_write_tls(s, buf, sizeof buf)) > 0) {
            t12_receive(c, buf, n);
            progress = true;
        }
        if (!progress)
            break;
    }
    return first;
}
