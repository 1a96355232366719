/*
 * testserver12.c — the scripted TLS 1.2 server (see testserver12.h).
 *
 * Implementation notes:
 * - The transcript starts at the ServerHello with the ClientHello; every handshake
 *   message either side sends after that is added, until the client's Finished (which
 *   the server Finished covers).
 * - A hostile ServerHello may name a suite that is not a TLS 1.2 one (or none at all):
 *   the transcript then hashes with SHA-256 so that later steps still run; the client is
 *   expected to have given up by then.
 * - Keys: the client's ClientKeyExchange derives the master secret and key block; its
 *   ChangeCipherSpec installs its keys for reading; ts12_finish installs ours for writing
 *   right after our ChangeCipherSpec.
 */
#include "tests/lib/testserver12.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/codec.h"
#include "tls/conn.h"
#include "tls/keysched.h"
#include "tls/msgs/msgs.h"

enum {
    TS12_HS_SERVER_KEY_EXCHANGE = 12,
    TS12_HS_SERVER_HELLO_DONE = 14,
    TS12_HS_CLIENT_KEY_EXCHANGE = 16,
};

/* ---- small helpers -------------------------------------------------------------------------- */

static void ts12_fail(ts12_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ts12_fail(ts12_server *s, const char *fmt, ...)
{
    va_list ap;
    if (s->failed)
        return;
    s->failed = true;
    va_start(ap, fmt);
    vsnprintf(s->error, sizeof s->error, fmt, ap);
    va_end(ap);
}

static void buf_append(ts_buf *b, const void *data, size_t len)
{
    if (b->len + len > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + len)
            cap *= 2;
        uint8_t *p = realloc(b->p, cap);
        if (!p)
            abort();
        b->p = p;
        b->cap = cap;
    }
    if (len)
        memcpy(b->p + b->len, data, len);
    b->len += len;
}

static void buf_consume(ts_buf *b, size_t n)
{
    memmove(b->p, b->p + n, b->len - n);
    b->len -= n;
}

static void buf_free(ts_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

/* Into the transcript hash and the log of messages (what a CertificateVerify signs). */
static void transcript_add(ts12_server *s, const uint8_t *msg, size_t len)
{
    tls__transcript_add(&s->transcript, msg, len);
    buf_append(&s->log, msg, len);
}

static uint16_t u16_at(const uint8_t *p)
{
    return (uint16_t)((p[0] << 8) | p[1]);
}

ts12_server *ts12_new(void)
{
    ts12_server *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    return s;
}

void ts12_free(ts12_server *s)
{
    if (!s)
        return;
    free(s->hello);
    buf_free(&s->out);
    buf_free(&s->in);
    buf_free(&s->hs_in);
    buf_free(&s->app);
    buf_free(&s->log);
    buf_free(&s->client_cert);
    buf_free(&s->client_cv);
    tls__kx_free(s->kx);
    tls__transcript_clear(&s->transcript);
    tls__record_cipher_clear(&s->rd);
    tls__record_cipher_clear(&s->wr);
    tls__wipe(s, sizeof *s);
    free(s);
}

/* Key block layout (RFC 5246 §6.3). */
static const uint8_t *client_key(const ts12_server *s)
{
    return s->key_block;
}

static const uint8_t *server_key(const ts12_server *s)
{
    return s->key_block + s->suite->key_len;
}

static const uint8_t *client_iv(const ts12_server *s)
{
    return s->key_block + 2 * s->suite->key_len;
}

static const uint8_t *server_iv(const ts12_server *s)
{
    return s->key_block + 2 * s->suite->key_len + s->suite->fixed_iv_len;
}

static void finished_data(ts12_server *s, const char *label, uint8_t out[TLS12_VERIFY_DATA_LEN])
{
    uint8_t thash[TLS_MAX_HASH_LEN];
    tls__transcript_current(&s->transcript, thash);
    if (tls12_prf(s->suite->hash, s->master, sizeof s->master, label, thash,
                  tls__hash_len(s->suite->hash), NULL, 0, out, TLS12_VERIFY_DATA_LEN) != TLS_OK)
        ts12_fail(s, "PRF for %s", label);
}

/* ---- sending -------------------------------------------------------------------------------- */

static void seal(ts12_server *s, tls_record_cipher *rc, uint8_t type, const void *body, size_t len)
{
    size_t size = tls__record_size(rc, len, 0), written = 0;
    uint8_t *rec = malloc(size);
    if (!rec)
        abort();
    tls_error err = tls__record_seal(rc, type, body, len, 0, rec, size, &written);
    if (err != TLS_OK)
        ts12_fail(s, "sealing a record: %s", tls_error_name(err));
    else
        buf_append(&s->out, rec, written);
    free(rec);
}

void ts12_send_record(ts12_server *s, uint8_t type, const void *body, size_t len)
{
    seal(s, &s->wr, type, body, len);
}

void ts12_send_plain_record(ts12_server *s, uint8_t type, const void *body, size_t len)
{
    tls_record_cipher plain;
    memset(&plain, 0, sizeof plain);
    seal(s, &plain, type, body, len);
}

void ts12_send_handshake(ts12_server *s, const uint8_t *msg, size_t len)
{
    while (len) {
        size_t n = len < TLS_MAX_PLAINTEXT ? len : TLS_MAX_PLAINTEXT;
        ts12_send_record(s, TLS_CT_HANDSHAKE, msg, n);
        msg += n;
        len -= n;
    }
}

/* Into the transcript, then onto the wire. */
static void send_message(ts12_server *s, const uint8_t *msg, size_t len)
{
    if (s->transcript.started)
        transcript_add(s, msg, len);
    ts12_send_handshake(s, msg, len);
}

void ts12_write(ts12_server *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        size_t n = len < TLS_MAX_PLAINTEXT ? len : TLS_MAX_PLAINTEXT;
        ts12_send_record(s, TLS_CT_APPLICATION_DATA, p, n);
        p += n;
        len -= n;
    }
}

/* ---- ServerHello ---------------------------------------------------------------------------- */

static uint16_t default_suite(const ts12_server *s, tls_key_type kt)
{
    tls_suite_auth auth = kt == TLS_KEY_RSA ? TLS_AUTH_RSA : TLS_AUTH_ECDSA;
    for (size_t i = 0; i + 1 < s->ch.cipher_suites.len; i += 2) {
        uint16_t v = u16_at(s->ch.cipher_suites.p + i);
        const tls_suite *suite = tls__suite_find(v);
        if (suite && suite->version == TLS_VERSION_1_2 && suite->auth == auth)
            return v;
    }
    return 0;
}

void ts12_server_hello(ts12_server *s, const ts12_hello_opts *opts)
{
    ts12_hello_opts none;
    uint8_t msg[2048], session_id[32];
    tls_writer w;

    memset(&none, 0, sizeof none);
    const ts12_hello_opts *o = opts ? opts : &none;
    if (!s->n_hellos) {
        ts12_fail(s, "ts12_server_hello before the ClientHello");
        return;
    }
    uint16_t suite = o->suite ? o->suite : default_suite(s, o->key_type);
    if (o->random)
        memcpy(s->server_random, o->random, 32);
    else if (tls__random(s->server_random, 32) != TLS_OK)
        abort();
    if (o->session_id && tls__random(session_id, sizeof session_id) != TLS_OK)
        abort();
    s->ems = s->ch.has_extended_master_secret && !o->omit_ems;

    tls_writer_init(&w, msg, sizeof msg);
    tls__hs_begin(&w, TLS_HS_SERVER_HELLO);
    tls_write_u16(&w, o->legacy_version ? o->legacy_version : TLS_VERSION_1_2);
    tls_write_bytes(&w, s->server_random, 32);
    tls_write_vec8(&w, session_id, o->session_id ? sizeof session_id : 0);
    tls_write_u16(&w, suite);
    tls_write_u8(&w, o->compression);
    tls_write_vec16_begin(&w);
    if (!o->omit_reneg_info) {
        static const uint8_t junk[12] = {1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12};
        tls_write_u16(&w, TLS_EXT_RENEGOTIATION_INFO);
        tls_write_vec16_begin(&w);
        tls_write_vec8(&w, junk, o->nonempty_reneg_info ? sizeof junk : 0);
        tls_writer_end(&w);
    }
    if (s->ems) {
        tls_write_u16(&w, TLS_EXT_EXTENDED_MASTER_SECRET);
        tls_write_u16(&w, 0);
    }
    if (o->ack_sni) {
        tls_write_u16(&w, TLS_EXT_SERVER_NAME);
        tls_write_u16(&w, 0);
    }
    if (o->point_formats) {
        tls_write_u16(&w, TLS_EXT_EC_POINT_FORMATS);
        tls_write_vec16_begin(&w);
        tls_write_vec8(&w, o->point_formats, o->n_point_formats);
        tls_writer_end(&w);
    }
    if (o->alpn) {
        tls_write_u16(&w, TLS_EXT_ALPN);
        tls_write_vec16_begin(&w);
        tls_write_vec16_begin(&w);
        tls_write_vec8(&w, (const uint8_t *)o->alpn, strlen(o->alpn));
        tls_writer_end(&w);
        tls_writer_end(&w);
    }
    if (o->extra_exts_len)
        tls_write_bytes(&w, o->extra_exts, o->extra_exts_len);
    tls_writer_end(&w);
    tls__hs_end(&w);
    if (!tls_writer_ok(&w)) {
        ts12_fail(s, "ServerHello does not fit");
        return;
    }

    const tls_suite *cs = tls__suite_find(suite);
    s->suite = cs && cs->version == TLS_VERSION_1_2 ? cs : NULL;
    tls__transcript_start(&s->transcript, s->suite ? s->suite->hash : TLS_HASH_SHA256);
    transcript_add(s, s->hello, s->hello_len);
    send_message(s, msg, w.len);
}

/* ---- the rest of the server's flight -------------------------------------------------------- */

static uint16_t scheme_for(const tls_certified_key *ck)
{
    switch (ck->key_type) {
    case TLS_KEY_ECDSA_P256:
        return TLS_SIG_ECDSA_SECP256R1_SHA256;
    case TLS_KEY_ECDSA_P384:
        return TLS_SIG_ECDSA_SECP384R1_SHA384;
    default:
        return TLS_SIG_RSA_PSS_RSAE_SHA256;
    }
}

static void send_certificate(ts12_server *s, const ts12_flight_opts *o, uint8_t *msg, size_t cap)
{
    tls_writer w;
    tls_writer_init(&w, msg, cap);
    tls__hs_begin(&w, TLS_HS_CERTIFICATE);
    tls_write_vec24_begin(&w);
    for (size_t i = 0; o->ck && !o->empty_certificate && i < o->ck->n_chain; i++) {
        tls_write_vec24_begin(&w);
        tls_write_bytes(&w, o->ck->chain[i], o->ck->chain_len[i]);
        tls_writer_end(&w);
    }
    tls_writer_end(&w);
    tls__hs_end(&w);
    if (!tls_writer_ok(&w))
        ts12_fail(s, "Certificate does not fit");
    else
        send_message(s, msg, w.len);
}

static void send_server_key_exchange(ts12_server *s, const ts12_flight_opts *o)
{
    uint8_t params[4 + TLS_MAX_KX_PUBLIC_LEN], content[64 + sizeof params];
    uint8_t sig[TLS_MAX_SIGNATURE_LEN], msg[sizeof params + TLS_MAX_SIGNATURE_LEN + 16];
    size_t share_len = 0, sig_len = 0;
    tls_writer w;

    tls__kx_free(s->kx); /* a second ServerKeyExchange replaces the first */
    s->kx = NULL;
    s->group = o->group;
    for (size_t i = 0; !s->group && i + 1 < s->ch.groups.len; i += 2)
        s->group = u16_at(s->ch.groups.p + i);
    if (tls__kx_new(s->group, &s->kx) != TLS_OK ||
        tls__kx_public(s->kx, params + 4, TLS_MAX_KX_PUBLIC_LEN, &share_len) != TLS_OK) {
        /* A group we cannot compute with: a share-shaped filler. */
        tls__kx_free(s->kx);
        s->kx = NULL;
        memset(params + 4, 0x42, 32);
        share_len = 32;
    }
    if (o->bad_point && s->group == TLS_GROUP_X25519) {
        memset(params + 4, 0, share_len); /* u = 1: a small-order point, all-zero secret */
        params[4] = 1;
    } else if (o->bad_point) {
        memset(params + 4 + 1, 0xff, share_len - 1); /* x, y past the field prime */
    }
    params[0] = o->curve_type ? o->curve_type : 3;
    params[1] = (uint8_t)(s->group >> 8);
    params[2] = (uint8_t)s->group;
    params[3] = (uint8_t)share_len;
    memcpy(content, s->client_random, 32);
    memcpy(content + 32, s->server_random, 32);
    memcpy(content + 64, params, 4 + share_len);
    uint16_t scheme = o->scheme ? o->scheme : scheme_for(o->ck);
    bool signed_ok;
    if (o->sign)
        signed_ok = o->sign(o->sign_arg, content, 64 + 4 + share_len, sig, sizeof sig, &sig_len);
    else
        signed_ok = tls__sign(o->ck->key, scheme_for(o->ck), content, 64 + 4 + share_len, sig,
                              sizeof sig, &sig_len) == TLS_OK;
    if (!signed_ok) {
        ts12_fail(s, "signing the ServerKeyExchange");
        return;
    }
    if (o->corrupt_signature)
        sig[sig_len / 2] ^= 0x01;
    tls_writer_init(&w, msg, sizeof msg);
    tls__hs_begin(&w, TS12_HS_SERVER_KEY_EXCHANGE);
    tls_write_bytes(&w, params, 4 + share_len);
    tls_write_u16(&w, scheme);
    tls_write_vec16(&w, sig, sig_len);
    tls__hs_end(&w);
    if (!tls_writer_ok(&w))
        ts12_fail(s, "ServerKeyExchange does not fit");
    else
        send_message(s, msg, w.len);
}

void ts12_flight(ts12_server *s, const ts12_flight_opts *o)
{
    size_t cap = 16384;
    for (size_t i = 0; o->ck && i < o->ck->n_chain; i++)
        cap += o->ck->chain_len[i] + 3;
    uint8_t *msg = malloc(cap);
    if (!msg)
        abort();
    if (!o->ck) {
        ts12_fail(s, "ts12_flight without a certified key");
        free(msg);
        return;
    }
    if (!o->omit_certificate)
        send_certificate(s, o, msg, cap);
    if (!o->omit_server_key_exchange)
        send_server_key_exchange(s, o);
    if (o->cert_request_with) {
        ts12_send_cert_request(s, o->cert_request_with);
    } else if (o->cert_request) {
        static const uint8_t cr[] = {TLS_HS_CERTIFICATE_REQUEST,
                                     0,
                                     0,
                                     10,
                                     1,
                                     64, /* ecdsa_sign */
                                     0,
                                     4,
                                     4,
                                     3,
                                     8,
                                     4, /* two schemes */
                                     0,
                                     0}; /* no authorities */
        send_message(s, cr, sizeof cr);
    }
    if (!o->omit_server_hello_done) {
        static const uint8_t shd[] = {TS12_HS_SERVER_HELLO_DONE, 0, 0, 0};
        static const uint8_t shd_body[] = {TS12_HS_SERVER_HELLO_DONE, 0, 0, 1, 0};
        if (o->server_hello_done_body)
            send_message(s, shd_body, sizeof shd_body);
        else
            send_message(s, shd, sizeof shd);
    }
    free(msg);
}

void ts12_finish(ts12_server *s, const ts12_finish_opts *opts)
{
    static const uint8_t one = 1;
    ts12_finish_opts none;
    uint8_t fin[4 + TLS12_VERIFY_DATA_LEN] = {TLS_HS_FINISHED, 0, 0, TLS12_VERIFY_DATA_LEN};

    memset(&none, 0, sizeof none);
    const ts12_finish_opts *o = opts ? opts : &none;
    if (!s->finished_ok) {
        ts12_fail(s, "ts12_finish before the client's Finished");
        return;
    }
    finished_data(s, "server finished", fin + 4);
    if (o->corrupt_finished)
        fin[4] ^= 0x80;
    if (o->finished_before_ccs)
        send_message(s, fin, sizeof fin);
    ts12_send_plain_record(s, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    if (tls__record_cipher_install12(&s->wr, s->suite, server_key(s), server_iv(s)) != TLS_OK)
        ts12_fail(s, "installing our keys");
    if (!o->finished_before_ccs && !o->omit_finished)
        send_message(s, fin, sizeof fin);
}

/* ---- receiving ------------------------------------------------------------------------------ */

static void handle_client_hello(ts12_server *s, const uint8_t *msg, size_t len)
{
    if (s->n_hellos) {
        ts12_fail(s, "a second ClientHello");
        return;
    }
    s->hello = malloc(len);
    if (!s->hello)
        abort();
    memcpy(s->hello, msg, len);
    s->hello_len = len;
    s->n_hellos = 1;
    tls_error err = tls__client_hello_parse(s->hello + 4, len - 4, &s->ch);
    if (err != TLS_OK)
        ts12_fail(s, "ClientHello does not parse: %s", tls_error_name(err));
    else
        memcpy(s->client_random, s->ch.random, 32);
}

static void handle_client_key_exchange(ts12_server *s, const uint8_t *msg, size_t len)
{
    uint8_t pre_master[TLS_MAX_KX_SECRET_LEN], session_hash[TLS_MAX_HASH_LEN];
    size_t pre_master_len = 0;
    tls_reader r, point;

    transcript_add(s, msg, len);
    tls_reader_init(&r, msg + 4, len - 4);
    if (!s->kx || !s->suite || !tls_read_vec8(&r, 1, 255, &point) || !tls_reader_done(&r) ||
        tls__kx_agree(s->kx, point.p, tls_reader_left(&point), pre_master, sizeof pre_master,
                      &pre_master_len) != TLS_OK) {
        ts12_fail(s, "the client's ClientKeyExchange is unusable");
        return;
    }
    tls__kx_free(s->kx);
    s->kx = NULL;
    tls__transcript_current(&s->transcript, session_hash);
    if (tls12_master_secret(s->suite->hash, pre_master, pre_master_len,
                            s->ems ? session_hash : NULL, s->client_random, s->server_random,
                            s->master) != TLS_OK ||
        tls12_prf(s->suite->hash, s->master, sizeof s->master, "key expansion", s->server_random,
                  32, s->client_random, 32, s->key_block,
                  2 * s->suite->key_len + 2 * s->suite->fixed_iv_len) != TLS_OK) {
        ts12_fail(s, "deriving keys");
        return;
    }
    tls__wipe(pre_master, sizeof pre_master);
    finished_data(s, "client finished", s->expected_finished);
    s->keys_ready = true;
}

static void handle_message(ts12_server *s, const uint8_t *msg, size_t len)
{
    if (msg[0] == TLS_HS_CLIENT_HELLO && !s->n_hellos) {
        handle_client_hello(s, msg, len);
        return;
    }
    if (s->n_msgs < TS_MAX_MSGS)
        s->msgs[s->n_msgs++] = msg[0];
    switch (msg[0]) {
    case TS12_HS_CLIENT_KEY_EXCHANGE:
        handle_client_key_exchange(s, msg, len);
        break;
    case TLS_HS_FINISHED:
        if (!s->keys_ready || len != 4 + TLS12_VERIFY_DATA_LEN ||
            !tls__ct_equal(msg + 4, s->expected_finished, TLS12_VERIFY_DATA_LEN)) {
            ts12_fail(s, "the client's Finished does not verify");
            return;
        }
        if (!tls__record_cipher_active(&s->rd)) {
            ts12_fail(s, "the client's Finished came before its ChangeCipherSpec");
            return;
        }
        transcript_add(s, msg, len);
        s->finished_ok = true;
        break;
    case TLS_HS_CERTIFICATE:
        s->cert_len = len - 4;
        s->client_cert.len = 0;
        buf_append(&s->client_cert, msg, len);
        transcript_add(s, msg, len);
        break;
    case TLS_HS_CERTIFICATE_VERIFY:
        s->client_cv.len = 0;
        buf_append(&s->client_cv, msg, len);
        s->cv_log_len = s->log.len;
        transcript_add(s, msg, len);
        /* The client's Finished covers its CertificateVerify too. */
        if (s->keys_ready)
            finished_data(s, "client finished", s->expected_finished);
        break;
    default:
        if (s->transcript.started && !s->finished_ok)
            transcript_add(s, msg, len);
    }
}

static void handle_ccs(ts12_server *s)
{
    s->ccs++;
    if (!s->keys_ready) {
        ts12_fail(s, "a ChangeCipherSpec before the ClientKeyExchange");
        return;
    }
    if (tls__record_cipher_install12(&s->rd, s->suite, client_key(s), client_iv(s)) != TLS_OK)
        ts12_fail(s, "installing the client's keys");
}

static void handle_record(ts12_server *s, tls_record *rec)
{
    bool protected_ = false;
    if (tls__record_cipher_active(&s->rd)) {
        tls_error err = tls__record_open(&s->rd, rec);
        if (err != TLS_OK) {
            ts12_fail(s, "a client record does not decrypt: %s", tls_error_name(err));
            return;
        }
        protected_ = true;
    }
    switch (rec->type) {
    case TLS_CT_CHANGE_CIPHER_SPEC:
        if (protected_ || rec->len != 1 || rec->body[0] != 1)
            ts12_fail(s, "a malformed or protected ChangeCipherSpec");
        else
            handle_ccs(s);
        break;
    case TLS_CT_ALERT:
        if (rec->len == 2 && s->n_alerts < TS_MAX_ALERTS) {
            ts_alert a = {rec->body[0], rec->body[1], protected_};
            s->alerts[s->n_alerts++] = a;
        }
        break;
    case TLS_CT_APPLICATION_DATA:
        if (!protected_)
            ts12_fail(s, "plaintext application data");
        buf_append(&s->app, rec->body, rec->len);
        break;
    case TLS_CT_HANDSHAKE:
        buf_append(&s->hs_in, rec->body, rec->len);
        while (s->hs_in.len >= 4) {
            size_t n = ((size_t)s->hs_in.p[1] << 16) | ((size_t)s->hs_in.p[2] << 8) | s->hs_in.p[3];
            if (s->hs_in.len < 4 + n)
                break;
            handle_message(s, s->hs_in.p, 4 + n);
            buf_consume(&s->hs_in, 4 + n);
        }
        break;
    default:
        ts12_fail(s, "record of type %u", rec->type);
    }
}

void ts12_receive(ts12_server *s, const uint8_t *buf, size_t len)
{
    buf_append(&s->in, buf, len);
    while (s->in.len) {
        tls_record rec;
        bool complete;
        if (tls__record_peek(s->in.p, s->in.len, &rec, &complete) != TLS_OK) {
            ts12_fail(s, "the client sent something that is not a record");
            s->in.len = 0;
            return;
        }
        if (!complete)
            return;
        size_t total = rec.total;
        handle_record(s, &rec);
        buf_consume(&s->in, total);
    }
}

int ts12_last_alert(const ts12_server *s)
{
    return s->n_alerts ? s->alerts[s->n_alerts - 1].desc : TLS_ALERT_NONE;
}

tls_error ts12_pump(ts12_server *s, tls_conn *client)
{
    tls_error first = TLS_OK;
    bool moved;
    do {
        uint8_t buf[4096];
        size_t n;
        moved = false;
        while ((n = tls_conn_write_tls(client, buf, sizeof buf)) > 0) {
            ts12_receive(s, buf, n);
            moved = true;
        }
        if (s->out.len) {
            size_t consumed = 0;
            tls_error err = tls_conn_read_tls(client, s->out.p, s->out.len, &consumed);
            buf_consume(&s->out, consumed);
            if (err == TLS_OK)
                err = tls_conn_process(client);
            if (err != TLS_OK && first == TLS_OK)
                first = err;
            if (err != TLS_OK)
                s->out.len = 0; /* a failed client takes nothing more */
            moved |= consumed > 0;
        }
    } while (moved);
    return first;
}

/* ---- client authentication ------------------------------------------------------------------ */

void ts12_send_cert_request(ts12_server *s, const ts12_cert_request_opts *opts)
{
    static const uint8_t default_types[] = {64}; /* ecdsa_sign */
    static const uint16_t default_algs[] = {TLS_SIG_ECDSA_SECP256R1_SHA256,
                                            TLS_SIG_RSA_PSS_RSAE_SHA256};
    /* DER of SEQUENCE { SET { SEQUENCE { OID commonName, UTF8String "ca" } } } */
    static const uint8_t dn[] = {0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
                                 0x55, 0x04, 0x03, 0x0c, 0x02, 'c',  'a'};
    ts12_cert_request_opts none;
    uint8_t msg[1024];
    tls_writer w;

    memset(&none, 0, sizeof none);
    const ts12_cert_request_opts *o = opts ? opts : &none;
    const uint16_t *algs = o->sig_algs ? o->sig_algs : default_algs;
    size_t n_algs = o->sig_algs ? o->n_sig_algs : 2;

    tls_writer_init(&w, msg, sizeof msg);
    tls__hs_begin(&w, TLS_HS_CERTIFICATE_REQUEST);
    if (o->certificate_types)
        tls_write_vec8(&w, o->certificate_types, o->n_certificate_types);
    else
        tls_write_vec8(&w, default_types, sizeof default_types);
    tls_write_vec16_begin(&w);
    for (size_t i = 0; i < n_algs; i++)
        tls_write_u16(&w, algs[i]);
    tls_writer_end(&w);
    tls_write_vec16_begin(&w);
    if (o->authorities)
        tls_write_vec16(&w, dn, sizeof dn);
    tls_writer_end(&w);
    tls__hs_end(&w);
    if (!tls_writer_ok(&w)) {
        ts12_fail(s, "CertificateRequest does not fit");
        return;
    }
    send_message(s, msg, w.len);
}

void ts12_client_auth_check(const ts12_server *s, const tls_certified_key *expect,
                            ts_client_auth *out)
{
    tls_certificate_verify_msg cv;
    tls_certificate_msg cert;

    memset(out, 0, sizeof *out);
    out->verify = TLS_ERR_INTERNAL;
    ts__check_client_certificate(&s->client_cert, expect, &cert, out);
    out->certificate_verify = s->client_cv.len >= 4;
    if (!out->certificate_verify ||
        tls__certificate_verify_parse(s->client_cv.p + 4, s->client_cv.len - 4, &cv) != TLS_OK)
        return;
    out->scheme = cv.scheme;
    if (out->decode != TLS_OK || out->n_certs == 0)
        return;
    out->verify = tls__verify(cert.certs[0], cert.cert_lens[0], cv.scheme, s->log.p, s->cv_log_len,
                              cv.signature.p, cv.signature.len);
}
