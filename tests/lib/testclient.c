/*
 * testclient.c — the scripted TLS 1.3 client (see testclient.h).
 *
 * Implementation notes:
 * - The first ClientHello is kept verbatim: the transcript hash is only known once the
 *   server names the suite, then it starts with ClientHello1 (or, after an HRR, with
 *   message_hash(ClientHello1), RFC 8446 §4.4.1).
 * - Read keys change at message boundaries exactly as a real client's do: handshake keys
 *   after ServerHello, server application keys after the server's Finished. Write keys:
 *   handshake keys after ServerHello, application keys after our Finished.
 * - Nothing here aborts on a server mistake: the first one latches `failed`, later
 *   handshake messages are ignored, and records keep being parsed so alerts that
 *   follow are still seen.
 */
#include "tests/lib/testclient.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/codec.h"
#include "tls/keysched.h"
#include "tls/msgs/msgs.h"

static const uint16_t default_suites[] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
                                          TLS_CHACHA20_POLY1305_SHA256};
static const uint16_t default_groups[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1,
                                          TLS_GROUP_SECP384R1};
static const uint16_t default_sig_algs[] = {
    TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ECDSA_SECP384R1_SHA384, TLS_SIG_RSA_PSS_RSAE_SHA256,
    TLS_SIG_RSA_PSS_RSAE_SHA384,    TLS_SIG_RSA_PSS_RSAE_SHA512,    TLS_SIG_RSA_PKCS1_SHA256,
    TLS_SIG_RSA_PKCS1_SHA384,       TLS_SIG_RSA_PKCS1_SHA512,
};
static const uint16_t default_versions[] = {TLS_VERSION_1_3};
static const uint8_t default_compression[] = {0};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- small helpers -------------------------------------------------------------------------- */

static void tc_fail(tc_client *c, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void tc_fail(tc_client *c, const char *fmt, ...)
{
    va_list ap;
    if (c->failed)
        return;
    c->failed = true;
    va_start(ap, fmt);
    vsnprintf(c->error, sizeof c->error, fmt, ap);
    va_end(ap);
}

static void buf_reserve(tc_buf *b, size_t need)
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

static void buf_append(tc_buf *b, const void *data, size_t len)
{
    buf_reserve(b, len);
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}

static void buf_consume(tc_buf *b, size_t n)
{
    if (n > b->len)
        n = b->len;
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static void buf_free(tc_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

static void check(tc_client *c, tls_error err, const char *what)
{
    if (err != TLS_OK)
        tc_fail(c, "%s: %s", what, tls_error_name(err));
}

/* ---- lifetime ------------------------------------------------------------------------------- */

tc_client *tc_client_new(const tc_options *opts)
{
    tc_client *c = calloc(1, sizeof *c);
    if (!c)
        abort();
    if (opts)
        c->opts = *opts;
    tc_options *o = &c->opts;
    if (!o->suites || !o->n_suites) {
        o->suites = default_suites;
        o->n_suites = COUNT(default_suites);
    }
    if (!o->groups || !o->n_groups) {
        o->groups = default_groups;
        o->n_groups = COUNT(default_groups);
    }
    if (!o->share_groups || !o->n_share_groups) {
        o->share_groups = o->groups;
        o->n_share_groups = 1;
    }
    if (!o->sig_algs || !o->n_sig_algs) {
        o->sig_algs = default_sig_algs;
        o->n_sig_algs = COUNT(default_sig_algs);
    }
    if (!o->versions || !o->n_versions) {
        o->versions = default_versions;
        o->n_versions = COUNT(default_versions);
    }
    if (!o->compression || !o->n_compression) {
        o->compression = default_compression;
        o->n_compression = COUNT(default_compression);
    }
    if (o->session_id_len > 32)
        o->session_id_len = 32;
    c->state = TC_STATE_START;
    if (tls__random(c->random, sizeof c->random) != TLS_OK ||
        tls__random(c->session_id, sizeof c->session_id) != TLS_OK)
        abort();
    return c;
}

static void free_shares(tc_client *c)
{
    for (size_t i = 0; i < c->n_kx; i++)
        tls__kx_free(c->kx[i]);
    c->n_kx = 0;
}

void tc_client_free(tc_client *c)
{
    if (!c)
        return;
    free_shares(c);
    buf_free(&c->out);
    buf_free(&c->in);
    buf_free(&c->hs_in);
    buf_free(&c->cork);
    buf_free(&c->app);
    free(c->end_entity);
    free(c->ee_exts);
    free(c->ch1);
    tls__transcript_clear(&c->transcript);
    tls13_keysched_clear(&c->ks);
    tls__record_cipher_clear(&c->rd);
    tls__record_cipher_clear(&c->wr);
    tls__wipe(c, sizeof *c);
    free(c);
}

/* ---- sending -------------------------------------------------------------------------------- */

static void put_record(tc_client *c, uint8_t type, const uint8_t *data, size_t len, size_t pad,
                       bool protect)
{
    tls_record_cipher plain;
    tls_record_cipher *rc = protect ? &c->wr : &plain;
    size_t written = 0;

    memset(&plain, 0, sizeof plain);
    size_t size = tls__record_size(rc, len, pad);
    buf_reserve(&c->out, size);
    tls_error err =
        tls__record_seal(rc, type, data, len, pad, c->out.p + c->out.len, size, &written);
    if (err != TLS_OK) {
        tc_fail(c, "sealing a record of %zu bytes: %s", len, tls_error_name(err));
        return;
    }
    c->out.len += written;
    c->records_sent++;
}

static void frame_handshake(tc_client *c, const uint8_t *msg, size_t len, size_t per_record)
{
    if (per_record == 0 || per_record > TLS_MAX_PLAINTEXT)
        per_record = TLS_MAX_PLAINTEXT;
    do {
        size_t n = len < per_record ? len : per_record;
        put_record(c, TLS_CT_HANDSHAKE, msg, n, 0, true);
        msg += n;
        len -= n;
    } while (len);
}

static void send_handshake_framed(tc_client *c, const uint8_t *msg, size_t len, size_t per_record)
{
    if (c->corked) {
        buf_append(&c->cork, msg, len);
        return;
    }
    frame_handshake(c, msg, len, per_record);
}

/* A message of ours: into the transcript (once it has started), then onto the wire. */
static void send_handshake(tc_client *c, const uint8_t *msg, size_t len)
{
    if (c->transcript.started)
        tls__transcript_add(&c->transcript, msg, len);
    send_handshake_framed(c, msg, len, c->opts.record_size);
}

static void put_ccs(tc_client *c)
{
    static const uint8_t one = 1;
    put_record(c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1, 0, false);
}

/* ---- ClientHello ---------------------------------------------------------------------------- */

static bool make_share(tc_client *c, uint16_t group, tls_writer *w)
{
    uint8_t pub[TLS_MAX_KX_PUBLIC_LEN];
    size_t pub_len = 0;
    tls_kx *kx = NULL;

    if (c->n_kx == TC_MAX_SHARES) {
        tc_fail(c, "too many key shares");
        return false;
    }
    tls_error err = tls__kx_new(group, &kx);
    if (err == TLS_OK)
        err = tls__kx_public(kx, pub, sizeof pub, &pub_len);
    if (err != TLS_OK) {
        tls__kx_free(kx);
        tc_fail(c, "key share for group 0x%04x: %s", group, tls_error_name(err));
        return false;
    }
    c->kx[c->n_kx] = kx;
    c->kx_group[c->n_kx++] = group;
    tls_write_u16(w, group);
    tls_write_vec16(w, pub, pub_len);
    return true;
}

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

static bool offers_psk(const tc_client *c, bool second)
{
    const tc_ticket *t = c->opts.resume;
    const tls_suite *ts = t ? tls__suite_find(t->suite) : NULL;
    return ts && (!second || (c->cs && c->cs->hash == ts->hash));
}

/* RFC 8446 §4.1.2. The second hello (after HRR) keeps everything but the shares, adds
 * the cookie and drops early_data (§4.1.2's list of allowed changes). */
static void write_client_hello(tc_client *c, tls_writer *w, bool second)
{
    const tc_options *o = &c->opts;

    tls__hs_begin(w, TLS_HS_CLIENT_HELLO);
    tls_write_u16(w, o->legacy_version ? o->legacy_version : TLS_VERSION_1_2);
    tls_write_bytes(w, c->random, 32);
    tls_write_vec8(w, c->session_id, o->session_id_len);
    tls_write_vec16_begin(w);
    for (size_t i = 0; i < o->n_suites; i++)
        tls_write_u16(w, o->suites[i]);
    tls_writer_end(w);
    tls_write_vec8(w, o->compression, o->n_compression);
    if (o->no_extensions) {
        tls__hs_end(w);
        return;
    }
    tls_write_vec16_begin(w);
    if (o->sni) {
        size_t n = strlen(o->sni);
        tls_write_u16(w, TLS_EXT_SERVER_NAME);
        tls_write_vec16_begin(w);
        tls_write_vec16_begin(w);
        tls_write_u8(w, 0); /* host_name */
        tls_write_vec16(w, (const uint8_t *)o->sni, n);
        tls_writer_end(w);
        tls_writer_end(w);
    }
    if (!o->omit_groups)
        write_u16_list_ext(w, TLS_EXT_SUPPORTED_GROUPS, o->groups, o->n_groups);
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
    if (!o->omit_versions) {
        tls_write_u16(w, TLS_EXT_SUPPORTED_VERSIONS);
        tls_write_vec16_begin(w);
        tls_write_vec8_begin(w);
        for (size_t i = 0; i < o->n_versions; i++)
            tls_write_u16(w, o->versions[i]);
        tls_writer_end(w);
        tls_writer_end(w);
    }
    if (!o->omit_key_share) {
        const uint16_t *groups = o->share_groups;
        size_t n = o->n_share_groups;
        uint16_t asked = c->hrr_group;
        if (second) {
            groups = o->hrr_share_groups ? o->hrr_share_groups : &asked;
            n = o->hrr_share_groups ? o->n_hrr_share_groups : 1;
        }
        if (o->empty_key_share && !second)
            n = 0;
        tls_write_u16(w, TLS_EXT_KEY_SHARE);
        tls_write_vec16_begin(w);
        tls_write_vec16_begin(w);
        for (size_t i = 0; i < n; i++)
            if (!make_share(c, groups[i], w))
                break;
        tls_writer_end(w);
        tls_writer_end(w);
    }
    if (second && o->hrr_cookie != TC_COOKIE_OMIT) {
        uint8_t cookie[sizeof c->cookie];
        memcpy(cookie, c->cookie, c->cookie_len);
        if (o->hrr_cookie == TC_COOKIE_CORRUPT && c->cookie_len)
            cookie[c->cookie_len / 2] ^= 0x10;
        tls_write_u16(w, TLS_EXT_COOKIE);
        tls_write_vec16_begin(w);
        tls_write_vec16(w, cookie, c->cookie_len);
        tls_writer_end(w);
    }
    if (o->early_data && !second) {
        tls_write_u16(w, TLS_EXT_EARLY_DATA);
        tls_write_u16(w, 0);
    }
    if (o->extra_exts_len)
        tls_write_bytes(w, o->extra_exts, o->extra_exts_len);
    if (o->psk_dhe_ke || o->resume) {
        tls_write_u16(w, TLS_EXT_PSK_KEY_EXCHANGE_MODES);
        tls_write_u16(w, 2);
        tls_write_u8(w, 1);
        tls_write_u8(w, 1); /* psk_dhe_ke */
    }
    if (offers_psk(c, second)) {
        const tc_ticket *t = o->resume;
        size_t n = tls__hash_len(tls__suite_find(t->suite)->hash);
        /* §4.2.11: last; the binder is zeros here, filled in by send_client_hello. */
        tls_write_u16(w, TLS_EXT_PRE_SHARED_KEY);
        tls_write_vec16_begin(w);
        tls_write_vec16_begin(w);
        tls_write_vec16(w, t->ticket, t->ticket_len);
        tls_write_u32(w, o->ticket_age_ms + t->age_add);
        tls_writer_end(w);
        tls_write_vec16_begin(w);
        tls_write_vec8_begin(w);
        for (size_t i = 0; i < n; i++)
            tls_write_u8(w, 0);
        tls_writer_end(w);
        tls_writer_end(w);
        tls_writer_end(w);
    }
    tls_writer_end(w);
    tls__hs_end(w);
}

/* §4.2.11.2: the binder over the transcript before this hello and the hello up to
 * its binders list (2-byte length, 1-byte binder length, the binder). */
static void fill_binder(tc_client *c, uint8_t *msg, size_t len, bool second)
{
    const tc_ticket *t = c->opts.resume;
    tls_hash_id hash = tls__suite_find(t->suite)->hash;
    size_t n = tls__hash_len(hash);
    uint8_t thash[TLS_MAX_HASH_LEN], empty[TLS_MAX_HASH_LEN], key[TLS_MAX_HASH_LEN];
    tls13_keysched early;
    tls_hash_ctx h;

    if (second)
        tls__hash_clone(&h, &c->transcript.ctx);
    else
        tls__hash_init(&h, hash);
    tls__hash_update(&h, msg, len - (2 + 1 + n));
    tls__hash_final(&h, thash);
    tls__hash(hash, NULL, 0, empty);
    tls_error err = tls13_keysched_init(&early, hash, t->psk, t->psk_len);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&early, "res binder", empty, key);
    if (err == TLS_OK)
        err = tls13_finished_mac(hash, key, thash, msg + len - n);
    check(c, err, "PSK binder");
    if (c->opts.corrupt_binder)
        msg[len - 1] ^= 0x01;
    tls13_keysched_clear(&early);
}

static void send_client_hello(tc_client *c, bool second)
{
    size_t cap = 4096 + c->opts.extra_exts_len;
    uint8_t *msg = malloc(cap);
    tls_writer w;

    if (!msg)
        abort();
    tls_writer_init(&w, msg, cap);
    write_client_hello(c, &w, second);
    if (!tls_writer_ok(&w)) {
        tc_fail(c, "ClientHello does not fit %zu bytes", cap);
        free(msg);
        return;
    }
    if (offers_psk(c, second))
        fill_binder(c, msg, w.len, second);
    size_t per_record = c->opts.record_size;
    if (c->opts.client_hello_records > 1)
        per_record = (w.len + c->opts.client_hello_records - 1) / c->opts.client_hello_records;
    if (!second) {
        c->ch1 = malloc(w.len);
        if (!c->ch1)
            abort();
        memcpy(c->ch1, msg, w.len);
        c->ch1_len = w.len;
    } else {
        tls__transcript_add(&c->transcript, msg, w.len);
    }
    send_handshake_framed(c, msg, w.len, per_record);
    free(msg);
    c->state = TC_STATE_WAIT_SERVER_HELLO;
}

void tc_start(tc_client *c)
{
    if (c->state != TC_STATE_START) {
        tc_fail(c, "tc_start called twice");
        return;
    }
    send_client_hello(c, false);
}

const uint8_t *tc_client_hello(const tc_client *c, size_t *len)
{
    *len = c->ch1_len;
    return c->ch1;
}

/* ---- the server's handshake messages -------------------------------------------------------- */

static tls_kx *find_share(tc_client *c, uint16_t group)
{
    for (size_t i = 0; i < c->n_kx; i++)
        if (c->kx_group[i] == group)
            return c->kx[i];
    return NULL;
}

static bool offered(const uint16_t *list, size_t n, uint16_t v)
{
    for (size_t i = 0; i < n; i++)
        if (list[i] == v)
            return true;
    return false;
}

static void install(tc_client *c, tls_record_cipher *rc, const uint8_t *secret, tc_epoch *epoch,
                    tc_epoch next, const char *what)
{
    tls_error err = tls__record_cipher_install(rc, c->cs, secret);
    check(c, err, what);
    if (err == TLS_OK)
        *epoch = next;
}

static void handle_hello_retry_request(tc_client *c, const uint8_t *msg, size_t len, uint16_t group,
                                       tls_reader *cookie)
{
    if (c->did_hrr) {
        tc_fail(c, "a second HelloRetryRequest");
        return;
    }
    if (tls_reader_left(cookie) == 0 || tls_reader_left(cookie) > sizeof c->cookie) {
        tc_fail(c, "HelloRetryRequest without a usable cookie");
        return;
    }
    c->did_hrr = true;
    c->hrr_group = group;
    c->cookie_len = tls_reader_left(cookie);
    memcpy(c->cookie, cookie->p, c->cookie_len);
    if (!offered(c->opts.groups, c->opts.n_groups, group))
        tc_fail(c, "HelloRetryRequest asks for group 0x%04x we do not support", group);
    if (find_share(c, group))
        tc_fail(c, "HelloRetryRequest asks for group 0x%04x we already sent a share for", group);
    tls__transcript_start(&c->transcript, c->cs->hash);
    tls__transcript_add(&c->transcript, c->ch1, c->ch1_len);
    tls__transcript_to_message_hash(&c->transcript);
    tls__transcript_add(&c->transcript, msg, len);
    free_shares(c);
    if (c->opts.send_ccs)
        put_ccs(c);
    send_client_hello(c, true);
}

static void handle_server_hello(tc_client *c, const uint8_t *msg, size_t len)
{
    tls_reader r, sid, exts, ext, body, share, cookie;
    const uint8_t *random = NULL;
    uint16_t legacy, suite, type, version = 0, group = 0;
    uint8_t comp;
    bool has_share = false;

    tls_reader_init(&r, msg + 4, len - 4);
    memset(&cookie, 0, sizeof cookie);
    memset(&share, 0, sizeof share);
    if (!tls_read_u16(&r, &legacy) || !tls_read_slice(&r, 32, &random) ||
        !tls_read_vec8(&r, 0, 32, &sid) || !tls_read_u16(&r, &suite) || !tls_read_u8(&r, &comp) ||
        !tls_read_vec16(&r, 0, 0xffff, &exts) || !tls_reader_done(&r)) {
        tc_fail(c, "malformed ServerHello");
        return;
    }
    bool hrr = !memcmp(random, tls__hrr_random, 32);
    while (tls_reader_left(&exts)) {
        if (!tls_read_u16(&exts, &type) || !tls_read_vec16(&exts, 0, 0xffff, &ext)) {
            tc_fail(c, "malformed ServerHello extensions");
            return;
        }
        switch (type) {
        case TLS_EXT_SUPPORTED_VERSIONS:
            if (!tls_read_u16(&ext, &version) || !tls_reader_done(&ext))
                tc_fail(c, "malformed supported_versions");
            break;
        case TLS_EXT_KEY_SHARE:
            if (!tls_read_u16(&ext, &group))
                tc_fail(c, "malformed key_share");
            if (!hrr) {
                has_share = tls_read_vec16(&ext, 1, 0xffff, &share);
                if (!has_share)
                    tc_fail(c, "malformed key_share");
            }
            if (!tls_reader_done(&ext))
                tc_fail(c, "trailing bytes in key_share");
            break;
        case TLS_EXT_PRE_SHARED_KEY:
            if (hrr || !c->opts.resume || !tls_read_u16(&ext, &c->psk_identity) ||
                !tls_reader_done(&ext) || c->psk_identity != 0)
                tc_fail(c, "unexpected or malformed pre_shared_key");
            else
                c->psk_accepted = true;
            break;
        case TLS_EXT_COOKIE:
            if (!hrr || !tls_read_vec16(&ext, 1, 0xffff, &body) || !tls_reader_done(&ext))
                tc_fail(c, "unexpected or malformed cookie");
            else
                cookie = body;
            break;
        default:
            tc_fail(c, "unexpected extension %u in %s", type, hrr ? "HRR" : "ServerHello");
        }
    }
    if (c->failed)
        return;
    if (legacy != TLS_VERSION_1_2 || comp != 0 || version != TLS_VERSION_1_3 || group == 0) {
        tc_fail(c,
                "ServerHello: legacy_version 0x%04x, compression %u, version 0x%04x, "
                "group 0x%04x",
                legacy, comp, version, group);
        return;
    }
    c->session_id_echoed = tls_reader_left(&sid) == c->opts.session_id_len &&
                           !memcmp(sid.p, c->session_id, c->opts.session_id_len);
    if (!c->session_id_echoed) {
        tc_fail(c, "legacy_session_id not echoed");
        return;
    }
    const tls_suite *cs = tls__suite_find(suite);
    if (!cs || !offered(c->opts.suites, c->opts.n_suites, suite)) {
        tc_fail(c, "server chose suite 0x%04x we did not offer", suite);
        return;
    }
    if (c->cs && c->cs != cs) {
        tc_fail(c, "ServerHello suite differs from the HelloRetryRequest's");
        return;
    }
    c->cs = cs;
    c->suite = suite;
    c->version = version;
    if (hrr) {
        handle_hello_retry_request(c, msg, len, group, &cookie);
        return;
    }
    if (c->did_hrr && group != c->hrr_group) {
        tc_fail(c, "ServerHello group 0x%04x is not the one the HRR asked for", group);
        return;
    }
    tls_kx *kx = find_share(c, group);
    if (!kx) {
        tc_fail(c, "ServerHello picks group 0x%04x we sent no share for", group);
        return;
    }
    c->group = group;
    if (!c->transcript.started) {
        tls__transcript_start(&c->transcript, cs->hash);
        tls__transcript_add(&c->transcript, c->ch1, c->ch1_len);
    }
    tls__transcript_add(&c->transcript, msg, len);

    uint8_t shared[TLS_MAX_KX_SECRET_LEN], thash[TLS_MAX_HASH_LEN];
    size_t shared_len = 0;
    tls_error err =
        tls__kx_agree(kx, share.p, tls_reader_left(&share), shared, sizeof shared, &shared_len);
    if (c->psk_accepted && (tls__suite_find(c->opts.resume->suite)->hash != cs->hash)) {
        tc_fail(c, "server resumed with a suite of another hash");
        return;
    }
    if (err == TLS_OK)
        err = c->psk_accepted
                  ? tls13_keysched_init(&c->ks, cs->hash, c->opts.resume->psk,
                                        c->opts.resume->psk_len)
                  : tls13_keysched_init(&c->ks, cs->hash, NULL, 0);
    if (err == TLS_OK)
        err = tls13_keysched_handshake(&c->ks, shared, shared_len);
    tls__wipe(shared, sizeof shared);
    tls__transcript_current(&c->transcript, thash);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&c->ks, "c hs traffic", thash, c->c_hs);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&c->ks, "s hs traffic", thash, c->s_hs);
    check(c, err, "handshake key schedule");
    if (c->failed)
        return;
    install(c, &c->rd, c->s_hs, &c->rd_epoch, TC_EPOCH_HANDSHAKE, "server handshake keys");
    install(c, &c->wr, c->c_hs, &c->wr_epoch, TC_EPOCH_HANDSHAKE, "client handshake keys");
    c->state = TC_STATE_WAIT_ENCRYPTED_EXTENSIONS;
}

static void handle_encrypted_extensions(tc_client *c, const uint8_t *msg, size_t len)
{
    tls_reader r, exts, ext, list, name;
    uint16_t type;

    tls_reader_init(&r, msg + 4, len - 4);
    if (!tls_read_vec16(&r, 0, 0xffff, &exts) || !tls_reader_done(&r)) {
        tc_fail(c, "malformed EncryptedExtensions");
        return;
    }
    while (tls_reader_left(&exts)) {
        if (!tls_read_u16(&exts, &type) || !tls_read_vec16(&exts, 0, 0xffff, &ext)) {
            tc_fail(c, "malformed EncryptedExtensions entry");
            return;
        }
        if (c->n_ee_exts < COUNT(c->ee_ext_types))
            c->ee_ext_types[c->n_ee_exts++] = type;
        switch (type) {
        case TLS_EXT_SERVER_NAME:
            if (tls_reader_left(&ext) != 0)
                tc_fail(c, "server_name ack with a body");
            if (!c->opts.sni)
                tc_fail(c, "server_name ack for a name we did not send");
            c->sni_acked = true;
            break;
        case TLS_EXT_ALPN:
            if (!tls_read_vec16(&ext, 2, 0xffff, &list) || !tls_reader_done(&ext) ||
                !tls_read_vec8(&list, 1, 255, &name) || !tls_reader_done(&list)) {
                tc_fail(c, "malformed ALPN in EncryptedExtensions");
                break;
            }
            c->alpn_len = tls_reader_left(&name);
            memcpy(c->alpn, name.p, c->alpn_len);
            c->alpn[c->alpn_len] = 0;
            bool ok = false;
            for (size_t i = 0; i < c->opts.n_alpn; i++)
                ok |= strlen(c->opts.alpn[i]) == c->alpn_len &&
                      !memcmp(c->opts.alpn[i], c->alpn, c->alpn_len);
            if (!ok)
                tc_fail(c, "server selected ALPN \"%s\" we did not offer", (char *)c->alpn);
            break;
        case TLS_EXT_EARLY_DATA:
            c->early_data_accepted = true;
            break;
        default:
            break; /* recorded in ee_ext_types for tests to judge */
        }
    }
    tls__transcript_add(&c->transcript, msg, len);
    /* §2.2: a resumed handshake has no Certificate or CertificateVerify. */
    c->state = c->psk_accepted ? TC_STATE_WAIT_FINISHED : TC_STATE_WAIT_CERTIFICATE;
}

static void handle_certificate(tc_client *c, const uint8_t *msg, size_t len)
{
    tls_reader r, ctx, list, cert, exts;

    tls_reader_init(&r, msg + 4, len - 4);
    if (!tls_read_vec8(&r, 0, 255, &ctx) || !tls_read_vec24(&r, 0, 0xffffff, &list) ||
        !tls_reader_done(&r) || tls_reader_left(&ctx) != 0) {
        tc_fail(c, "malformed Certificate");
        return;
    }
    while (tls_reader_left(&list)) {
        if (!tls_read_vec24(&list, 1, 0xffffff, &cert) ||
            !tls_read_vec16(&list, 0, 0xffff, &exts)) {
            tc_fail(c, "malformed CertificateEntry");
            return;
        }
        if (c->n_certs++ == 0) {
            c->end_entity_len = tls_reader_left(&cert);
            c->end_entity = malloc(c->end_entity_len);
            if (!c->end_entity)
                abort();
            memcpy(c->end_entity, cert.p, c->end_entity_len);
            c->ee_exts_len = tls_reader_left(&exts);
            c->ee_exts = malloc(c->ee_exts_len + 1);
            if (!c->ee_exts)
                abort();
            memcpy(c->ee_exts, exts.p, c->ee_exts_len);
        }
    }
    if (c->n_certs == 0) {
        tc_fail(c, "empty Certificate");
        return;
    }
    tls__transcript_add(&c->transcript, msg, len);
    c->state = TC_STATE_WAIT_CERTIFICATE_VERIFY;
}

static void handle_certificate_verify(tc_client *c, const uint8_t *msg, size_t len)
{
    static const char context[] = "TLS 1.3, server CertificateVerify";
    uint8_t content[64 + sizeof context + TLS_MAX_HASH_LEN];
    tls_reader r, sig;
    uint16_t scheme;
    size_t n = c->ks.hash_len;

    tls_reader_init(&r, msg + 4, len - 4);
    if (!tls_read_u16(&r, &scheme) || !tls_read_vec16(&r, 1, 0xffff, &sig) ||
        !tls_reader_done(&r)) {
        tc_fail(c, "malformed CertificateVerify");
        return;
    }
    if (!offered(c->opts.sig_algs, c->opts.n_sig_algs, scheme)) {
        tc_fail(c, "CertificateVerify with scheme 0x%04x we did not offer", scheme);
        return;
    }
    /* RFC 8446 §4.4.3: 64 spaces, the context string, a zero byte, Hash(CH..Certificate). */
    memset(content, 0x20, 64);
    memcpy(content + 64, context, sizeof context);
    tls__transcript_current(&c->transcript, content + 64 + sizeof context);
    tls_error err = tls__verify(c->end_entity, c->end_entity_len, scheme, content,
                                64 + sizeof context + n, sig.p, tls_reader_left(&sig));
    if (err != TLS_OK) {
        tc_fail(c, "CertificateVerify does not verify (%s)", tls_error_name(err));
        return;
    }
    c->sig_scheme = scheme;
    tls__transcript_add(&c->transcript, msg, len);
    c->state = TC_STATE_WAIT_FINISHED;
}

static void handle_finished(tc_client *c, const uint8_t *msg, size_t len)
{
    uint8_t thash[TLS_MAX_HASH_LEN], expected[TLS_MAX_HASH_LEN];
    size_t n = c->ks.hash_len;

    if (len - 4 != n) {
        tc_fail(c, "server Finished of %zu bytes", len - 4);
        return;
    }
    tls__transcript_current(&c->transcript, thash);
    tls_error err = tls13_finished_mac(c->cs->hash, c->s_hs, thash, expected);
    check(c, err, "server finished_mac");
    if (err != TLS_OK)
        return;
    if (!tls__ct_equal(expected, msg + 4, n)) {
        tc_fail(c, "server Finished does not verify");
        return;
    }
    tls__transcript_add(&c->transcript, msg, len);
    tls__transcript_current(&c->transcript, thash);
    err = tls13_finished_mac(c->cs->hash, c->c_hs, thash, c->finished);
    if (err == TLS_OK)
        err = tls13_keysched_master(&c->ks);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&c->ks, "c ap traffic", thash, c->c_ap);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&c->ks, "s ap traffic", thash, c->s_ap);
    check(c, err, "application key schedule");
    if (c->failed)
        return;
    install(c, &c->rd, c->s_ap, &c->rd_epoch, TC_EPOCH_APPLICATION, "server application keys");
    c->state = TC_STATE_FINISHED_HELD;
    if (!c->opts.hold_finished)
        tc_send_finished(c);
}

static void handle_key_update(tc_client *c, const uint8_t *msg, size_t len)
{
    if (len != 5 || msg[4] > 1) {
        tc_fail(c, "malformed KeyUpdate");
        return;
    }
    c->key_updates++;
    tls_error err = tls13_next_traffic_secret(c->cs->hash, c->s_ap);
    check(c, err, "server traffic secret update");
    if (err != TLS_OK)
        return;
    install(c, &c->rd, c->s_ap, &c->rd_epoch, TC_EPOCH_APPLICATION, "updated server keys");
    if (msg[4] == 1 && !c->opts.no_key_update_answer)
        tc_send_key_update(c, false);
}

/* §4.6.1: kept with PSK = HKDF-Expand-Label(resumption_master_secret, "resumption",
 * ticket_nonce, Hash.length). */
static void handle_new_session_ticket(tc_client *c, const uint8_t *msg, size_t len)
{
    tls_new_session_ticket_msg nst;
    tls_error err = tls__new_session_ticket_parse(msg + 4, len - 4, &nst);
    check(c, err, "NewSessionTicket");
    if (err != TLS_OK)
        return;
    if (c->n_tickets++ >= TC_MAX_TICKETS)
        return;
    tc_ticket *t = &c->tickets[c->n_tickets - 1];
    if (nst.ticket.len > sizeof t->ticket) {
        tc_fail(c, "ticket of %zu bytes", nst.ticket.len);
        return;
    }
    t->suite = c->suite;
    t->psk_len = c->ks.hash_len;
    t->lifetime = nst.lifetime;
    t->age_add = nst.age_add;
    t->ticket_len = nst.ticket.len;
    memcpy(t->ticket, nst.ticket.p, nst.ticket.len);
    check(c,
          tls13_hkdf_expand_label(c->cs->hash, c->res_master, "resumption", nst.nonce.p,
                                  nst.nonce.len, t->psk, t->psk_len),
          "ticket PSK");
}

/* §4.3.2: recorded for tests, into the transcript; answered by tc_send_finished. */
static void handle_certificate_request(tc_client *c, const uint8_t *msg, size_t len)
{
    tls_certificate_request_msg cr;
    tls_reader exts, ext, list, dn;
    uint16_t type;

    check(c, tls__certificate_request_parse(msg + 4, len - 4, &cr), "CertificateRequest");
    if (c->failed)
        return;
    c->cert_requested = true;
    c->cr_context_len = cr.context.len;
    c->cr_sig_algs = cr.has_sig_algs;
    /* The parser skips certificate_authorities: count its names here. */
    tls_reader_init(&exts, msg + 4 + 1 + cr.context.len + 2,
                    len - 4 - 1 - cr.context.len - 2);
    while (tls_read_u16(&exts, &type) && tls_read_vec16(&exts, 0, 0xffff, &ext))
        if (type == TLS_EXT_CERTIFICATE_AUTHORITIES && tls_read_vec16(&ext, 3, 0xffff, &list))
            while (tls_read_vec16(&list, 1, 0xffff, &dn))
                c->cr_authorities++;
    tls__transcript_add(&c->transcript, msg, len);
}

static void handle_server_message(tc_client *c, const uint8_t *msg, size_t len)
{
    uint8_t type = msg[0];

    c->server_msgs++;
    if (c->failed)
        return;
    switch (c->state) {
    case TC_STATE_WAIT_SERVER_HELLO:
        if (type != TLS_HS_SERVER_HELLO)
            break;
        handle_server_hello(c, msg, len);
        return;
    case TC_STATE_WAIT_ENCRYPTED_EXTENSIONS:
        if (type != TLS_HS_ENCRYPTED_EXTENSIONS)
            break;
        handle_encrypted_extensions(c, msg, len);
        return;
    case TC_STATE_WAIT_CERTIFICATE:
        if (type == TLS_HS_CERTIFICATE_REQUEST && !c->cert_requested) {
            handle_certificate_request(c, msg, len);
            return;
        }
        if (type != TLS_HS_CERTIFICATE)
            break;
        handle_certificate(c, msg, len);
        return;
    case TC_STATE_WAIT_CERTIFICATE_VERIFY:
        if (type != TLS_HS_CERTIFICATE_VERIFY)
            break;
        handle_certificate_verify(c, msg, len);
        return;
    case TC_STATE_WAIT_FINISHED:
        if (type != TLS_HS_FINISHED)
            break;
        handle_finished(c, msg, len);
        return;
    case TC_STATE_FINISHED_HELD:
    case TC_STATE_CONNECTED:
        if (type == TLS_HS_KEY_UPDATE) {
            handle_key_update(c, msg, len);
            return;
        }
        if (type == TLS_HS_NEW_SESSION_TICKET) {
            if (c->state == TC_STATE_CONNECTED)
                handle_new_session_ticket(c, msg, len);
            return;
        }
        break;
    case TC_STATE_START:
    default:
        break;
    }
    tc_fail(c, "unexpected handshake message %u in client state %d", type, (int)c->state);
}

static void handle_server_handshake_bytes(tc_client *c, const uint8_t *body, size_t len)
{
    unsigned msgs = 0;

    if (len == 0) {
        tc_fail(c, "empty handshake record");
        return;
    }
    buf_append(&c->hs_in, body, len);
    while (c->hs_in.len >= 4) {
        size_t n =
            4 + (((size_t)c->hs_in.p[1] << 16) | ((size_t)c->hs_in.p[2] << 8) | c->hs_in.p[3]);
        if (c->hs_in.len < n)
            break;
        uint8_t *msg = malloc(n);
        if (!msg)
            abort();
        memcpy(msg, c->hs_in.p, n);
        buf_consume(&c->hs_in, n);
        handle_server_message(c, msg, n);
        free(msg);
        msgs++;
    }
    if (msgs > c->max_msgs_per_record)
        c->max_msgs_per_record = msgs;
}

static void handle_server_record(tc_client *c, tls_record *rec)
{
    tc_epoch epoch = TC_EPOCH_PLAINTEXT;

    if (rec->type == TLS_CT_APPLICATION_DATA && tls__record_cipher_active(&c->rd)) {
        tls_error err = tls__record_open(&c->rd, rec);
        if (err != TLS_OK) {
            tc_fail(c, "cannot open a server record of %zu bytes: %s", rec->len,
                    tls_error_name(err));
            return;
        }
        epoch = c->rd_epoch;
    } else if (tls__record_cipher_active(&c->rd) && rec->type == TLS_CT_HANDSHAKE) {
        tc_fail(c, "plaintext handshake record after the server's keys changed");
        return;
    } else if (rec->type == TLS_CT_APPLICATION_DATA) {
        tc_fail(c, "application data before any keys");
        return;
    }
    c->records++;
    if (rec->len > c->max_record_plaintext)
        c->max_record_plaintext = rec->len;
    switch (rec->type) {
    case TLS_CT_CHANGE_CIPHER_SPEC:
        if (epoch != TC_EPOCH_PLAINTEXT || rec->len != 1 || rec->body[0] != 1)
            tc_fail(c, "bad ChangeCipherSpec from the server");
        if (c->server_ccs++ == 0)
            c->ccs_after_msgs = c->server_msgs;
        break;
    case TLS_CT_ALERT:
        if (rec->len != 2) {
            tc_fail(c, "alert record of %zu bytes", rec->len);
            break;
        }
        if (c->n_alerts < TC_MAX_ALERTS) {
            tc_alert *a = &c->alerts[c->n_alerts++];
            a->level = rec->body[0];
            a->desc = rec->body[1];
            a->epoch = epoch;
        }
        if (rec->body[1] == TLS_ALERT_CLOSE_NOTIFY)
            c->close_notify = true;
        break;
    case TLS_CT_HANDSHAKE:
        handle_server_handshake_bytes(c, rec->body, rec->len);
        break;
    case TLS_CT_APPLICATION_DATA:
        if (c->state != TC_STATE_CONNECTED)
            c->app_before_finished += rec->len;
        buf_append(&c->app, rec->body, rec->len);
        break;
    default:
        tc_fail(c, "record of content type %u", rec->type);
    }
}

void tc_receive(tc_client *c, const uint8_t *buf, size_t len)
{
    buf_append(&c->in, buf, len);
    size_t off = 0;
    while (off < c->in.len) {
        tls_record rec;
        bool complete = false;
        tls_error err = tls__record_peek(c->in.p + off, c->in.len - off, &rec, &complete);
        if (err != TLS_OK) {
            tc_fail(c, "bad record from the server: %s", tls_error_name(err));
            c->in.len = off; /* drop the garbage */
            break;
        }
        if (!complete)
            break;
        handle_server_record(c, &rec);
        off += rec.total;
    }
    buf_consume(&c->in, off);
}

/* ---- the client's later messages ------------------------------------------------------------ */

static uint16_t client_scheme(const tc_client *c)
{
    if (c->opts.client_sig_scheme)
        return c->opts.client_sig_scheme;
    switch (c->opts.client_cert->key_type) {
    case TLS_KEY_ECDSA_P256:
        return TLS_SIG_ECDSA_SECP256R1_SHA256;
    case TLS_KEY_ECDSA_P384:
        return TLS_SIG_ECDSA_SECP384R1_SHA384;
    case TLS_KEY_ED25519:
        return TLS_SIG_ED25519;
    default:
        return TLS_SIG_RSA_PSS_RSAE_SHA256;
    }
}

void tc_send_client_auth(tc_client *c)
{
    static const char context[] = "TLS 1.3, client CertificateVerify";
    const tls_certified_key *ck = c->opts.client_cert;
    size_t cap = 1024 + TLS_MAX_SIGNATURE_LEN, sig_len = 0;
    uint8_t content[64 + sizeof context + TLS_MAX_HASH_LEN], sig[TLS_MAX_SIGNATURE_LEN];
    tls_writer w;

    c->client_auth_sent = true;
    for (size_t i = 0; ck && i < ck->n_chain; i++)
        cap += ck->chain_len[i] + 5;
    uint8_t *msg = malloc(cap);
    if (!msg)
        abort();
    tls_writer_init(&w, msg, cap);
    tls__hs_begin(&w, TLS_HS_CERTIFICATE);
    tls_write_vec8(&w, NULL, 0);
    tls_write_vec24_begin(&w);
    for (size_t i = 0; ck && i < ck->n_chain; i++) {
        tls_write_vec24_begin(&w);
        tls_write_bytes(&w, ck->chain[i], ck->chain_len[i]);
        tls_writer_end(&w);
        tls_write_u16(&w, 0);
    }
    tls_writer_end(&w);
    tls__hs_end(&w);
    send_handshake(c, msg, w.len);
    if (ck && !c->opts.omit_client_cv) {
        uint16_t scheme = client_scheme(c);
        memset(content, 0x20, 64);
        memcpy(content + 64, context, sizeof context);
        tls__transcript_current(&c->transcript, content + 64 + sizeof context);
        check(c,
              tls__sign(ck->key, scheme, content, 64 + sizeof context + c->ks.hash_len, sig,
                        sizeof sig, &sig_len),
              "client CertificateVerify");
        if (c->opts.corrupt_client_cv)
            sig[sig_len / 2] ^= 0x01;
        tls_writer_init(&w, msg, cap);
        tls__hs_begin(&w, TLS_HS_CERTIFICATE_VERIFY);
        tls_write_u16(&w, scheme);
        tls_write_vec16(&w, sig, sig_len);
        tls__hs_end(&w);
        send_handshake(c, msg, w.len);
    }
    free(msg);
    /* §4.4.4: our Finished covers what we just sent. */
    uint8_t thash[TLS_MAX_HASH_LEN];
    tls__transcript_current(&c->transcript, thash);
    check(c, tls13_finished_mac(c->cs->hash, c->c_hs, thash, c->finished), "client finished_mac");
}

bool tc_send_finished(tc_client *c)
{
    uint8_t msg[4 + TLS_MAX_HASH_LEN];
    size_t n = c->ks.hash_len;

    if (c->state != TC_STATE_FINISHED_HELD)
        return false;
    if (c->opts.send_ccs && !c->did_hrr)
        put_ccs(c);
    if (c->cert_requested && !c->opts.omit_client_auth && !c->client_auth_sent)
        tc_send_client_auth(c);
    msg[0] = TLS_HS_FINISHED;
    msg[1] = 0;
    msg[2] = 0;
    msg[3] = (uint8_t)n;
    memcpy(msg + 4, c->finished, n);
    if (c->opts.corrupt_finished)
        msg[4] ^= 0x01;
    send_handshake(c, msg, 4 + n);
    install(c, &c->wr, c->c_ap, &c->wr_epoch, TC_EPOCH_APPLICATION, "client application keys");
    uint8_t thash[TLS_MAX_HASH_LEN];
    tls__transcript_current(&c->transcript, thash);
    check(c, tls13_keysched_derive(&c->ks, "res master", thash, c->res_master), "res master");
    c->state = TC_STATE_CONNECTED;
    return true;
}

void tc_write(tc_client *c, const uint8_t *data, size_t len)
{
    do {
        size_t n = len < TLS_MAX_PLAINTEXT ? len : TLS_MAX_PLAINTEXT;
        put_record(c, TLS_CT_APPLICATION_DATA, data, n, 0, true);
        data += n;
        len -= n;
    } while (len);
}

size_t tc_read(tc_client *c, uint8_t *buf, size_t cap)
{
    size_t n = c->app.len < cap ? c->app.len : cap;
    memcpy(buf, c->app.p, n);
    buf_consume(&c->app, n);
    return n;
}

void tc_send_key_update(tc_client *c, bool update_requested)
{
    uint8_t msg[5] = {TLS_HS_KEY_UPDATE, 0, 0, 1, update_requested ? 1 : 0};

    if (!c->cs || c->wr_epoch != TC_EPOCH_APPLICATION) {
        tc_fail(c, "KeyUpdate before application keys");
        return;
    }
    send_handshake_framed(c, msg, sizeof msg, c->opts.record_size);
    tls_error err = tls13_next_traffic_secret(c->cs->hash, c->c_ap);
    check(c, err, "client traffic secret update");
    if (err == TLS_OK)
        install(c, &c->wr, c->c_ap, &c->wr_epoch, TC_EPOCH_APPLICATION, "updated client keys");
}

void tc_send_alert(tc_client *c, uint8_t level, uint8_t desc)
{
    uint8_t body[2] = {level, desc};
    put_record(c, TLS_CT_ALERT, body, sizeof body, 0, true);
}

void tc_send_close_notify(tc_client *c)
{
    tc_send_alert(c, 1, TLS_ALERT_CLOSE_NOTIFY);
}

/* ---- injection ------------------------------------------------------------------------------ */

void tc_inject_raw(tc_client *c, const void *bytes, size_t len)
{
    buf_append(&c->out, bytes, len);
}

void tc_inject_plain_record(tc_client *c, uint8_t type, const void *body, size_t len)
{
    uint8_t header[5] = {type, 0x03, 0x03, (uint8_t)(len >> 8), (uint8_t)len};
    buf_append(&c->out, header, sizeof header);
    buf_append(&c->out, body, len);
    c->records_sent++;
}

void tc_inject_record(tc_client *c, uint8_t type, const void *body, size_t len, size_t pad)
{
    put_record(c, type, body, len, pad, true);
}

void tc_inject_undecryptable(tc_client *c, size_t len)
{
    uint8_t *body = malloc(len ? len : 1);
    if (!body || tls__random(body, len) != TLS_OK)
        abort();
    tc_inject_plain_record(c, TLS_CT_APPLICATION_DATA, body, len);
    free(body);
}

void tc_inject_handshake(tc_client *c, const void *msg, size_t len)
{
    send_handshake_framed(c, msg, len, c->opts.record_size);
}

void tc_flip_out_bit(tc_client *c, size_t back, uint8_t mask)
{
    if (back == 0 || back > c->out.len) {
        tc_fail(c, "tc_flip_out_bit(%zu) with %zu bytes queued", back, c->out.len);
        return;
    }
    c->out.p[c->out.len - back] ^= mask;
}

void tc_cork(tc_client *c)
{
    c->corked = true;
}

void tc_uncork(tc_client *c)
{
    c->corked = false;
    if (c->cork.len)
        frame_handshake(c, c->cork.p, c->cork.len, c->opts.record_size);
    c->cork.len = 0;
}

void tc_cork_discard(tc_client *c)
{
    c->corked = false;
    c->cork.len = 0;
}

const uint8_t *tc_out(const tc_client *c, size_t *len)
{
    *len = c->out.len;
    return c->out.p;
}

void tc_out_consume(tc_client *c, size_t n)
{
    buf_consume(&c->out, n);
}

int tc_last_alert(const tc_client *c)
{
    return c->n_alerts ? c->alerts[c->n_alerts - 1].desc : TLS_ALERT_NONE;
}

const tc_alert *tc_last_alert_info(const tc_client *c)
{
    return c->n_alerts ? &c->alerts[c->n_alerts - 1] : NULL;
}

/* ---- pump ----------------------------------------------------------------------------------- */

tls_error tc_pump(tc_client *c, tls_conn *s, size_t feed)
{
    tls_error first = TLS_OK;
    uint8_t buf[8192];

    for (;;) {
        bool progress = false;
        /* Records held back by backpressure may be processable now. */
        tls_error err = tls_conn_process(s);
        while (err == TLS_OK && c->out.len) {
            size_t n = feed && feed < c->out.len ? feed : c->out.len;
            size_t consumed = 0;
            err = tls_conn_read_tls(s, c->out.p, n, &consumed);
            if (err == TLS_OK && consumed < n)
                c->server_partial_reads++;
            if (consumed) {
                buf_consume(&c->out, consumed);
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
            tc_receive(c, buf, n);
            progress = true;
        }
        if (!progress)
            break;
    }
    return first;
}
