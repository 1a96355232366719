/*
 * testserver.c — the scripted TLS 1.3 server (see testserver.h).
 *
 * Implementation notes:
 * - The transcript starts when the suite is named: at the HelloRetryRequest (with
 *   message_hash(ClientHello1)) or at the ServerHello (with ClientHello1); a second
 *   ClientHello is added when it arrives.
 * - Keys: ts_server_hello installs the handshake keys (ours for writing, the client's for
 *   reading) when it sends a ServerHello that a correct client could use; ts_flight
 *   installs our application keys after our Finished; the client's application keys
 *   replace its handshake keys when its Finished verifies.
 */
#include "tests/lib/testserver.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/codec.h"
#include "tls/conn.h"
#include "tls/keysched.h"
#include "tls/msgs/msgs.h"

/* ---- small helpers -------------------------------------------------------------------------- */

static void ts_fail(ts_server *s, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static void ts_fail(ts_server *s, const char *fmt, ...)
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

ts_server *ts_new(void)
{
    ts_server *s = calloc(1, sizeof *s);
    if (!s)
        abort();
    return s;
}

void ts_free(ts_server *s)
{
    if (!s)
        return;
    free(s->hello[0]);
    free(s->hello[1]);
    buf_free(&s->out);
    buf_free(&s->in);
    buf_free(&s->hs_in);
    buf_free(&s->app);
    buf_free(&s->client_cert);
    buf_free(&s->client_cv);
    tls__transcript_clear(&s->transcript);
    tls13_keysched_clear(&s->ks);
    tls__record_cipher_clear(&s->rd);
    tls__record_cipher_clear(&s->wr);
    tls__wipe(s, sizeof *s);
    free(s);
}

static void install(ts_server *s, tls_record_cipher *rc, const uint8_t *secret)
{
    tls_error err = tls__record_cipher_install(rc, s->suite, secret);
    if (err != TLS_OK)
        ts_fail(s, "installing keys: %s", tls_error_name(err));
}

/* ---- sending -------------------------------------------------------------------------------- */

static void seal(ts_server *s, tls_record_cipher *rc, uint8_t type, const void *body, size_t len)
{
    size_t size = tls__record_size(rc, len, 0), written = 0;
    uint8_t *rec = malloc(size);
    if (!rec)
        abort();
    tls_error err = tls__record_seal(rc, type, body, len, 0, rec, size, &written);
    if (err != TLS_OK)
        ts_fail(s, "sealing a record: %s", tls_error_name(err));
    else
        buf_append(&s->out, rec, written);
    free(rec);
}

void ts_send_record(ts_server *s, uint8_t type, const void *body, size_t len)
{
    seal(s, &s->wr, type, body, len);
}

void ts_send_plain_record(ts_server *s, uint8_t type, const void *body, size_t len)
{
    tls_record_cipher plain;
    memset(&plain, 0, sizeof plain);
    seal(s, &plain, type, body, len);
}

void ts_send_handshake(ts_server *s, const uint8_t *msg, size_t len)
{
    while (len) {
        size_t n = len < TLS_MAX_PLAINTEXT ? len : TLS_MAX_PLAINTEXT;
        ts_send_record(s, TLS_CT_HANDSHAKE, msg, n);
        msg += n;
        len -= n;
    }
}

/* Into the transcript, then onto the wire. */
static void send_message(ts_server *s, const uint8_t *msg, size_t len)
{
    if (s->transcript.started)
        tls__transcript_add(&s->transcript, msg, len);
    ts_send_handshake(s, msg, len);
}

void ts_write(ts_server *s, const void *data, size_t len)
{
    const uint8_t *p = data;
    while (len) {
        size_t n = len < TLS_MAX_PLAINTEXT ? len : TLS_MAX_PLAINTEXT;
        ts_send_record(s, TLS_CT_APPLICATION_DATA, p, n);
        p += n;
        len -= n;
    }
}

void ts_send_key_update(ts_server *s, bool update_requested)
{
    uint8_t msg[5] = {TLS_HS_KEY_UPDATE, 0, 0, 1, update_requested ? 1 : 0};
    ts_send_handshake(s, msg, sizeof msg);
    tls_error err = tls13_next_traffic_secret(s->suite->hash, s->s_ap);
    if (err != TLS_OK)
        ts_fail(s, "next traffic secret: %s", tls_error_name(err));
    install(s, &s->wr, s->s_ap);
}

/* ---- ServerHello ---------------------------------------------------------------------------- */

static uint16_t first_tls13_suite(const tls_client_hello *ch)
{
    for (size_t i = 0; i + 1 < ch->cipher_suites.len; i += 2) {
        uint16_t v = (uint16_t)((ch->cipher_suites.p[i] << 8) | ch->cipher_suites.p[i + 1]);
        const tls_suite *suite = tls__suite_find(v);
        if (suite && suite->version == TLS_VERSION_1_3)
            return v;
    }
    return 0;
}

static uint16_t first_share_group(const tls_client_hello *ch)
{
    if (ch->key_shares.len < 2)
        return 0;
    return (uint16_t)((ch->key_shares.p[0] << 8) | ch->key_shares.p[1]);
}

/* Our share for `group` and, if the client sent one for it, the shared secret. */
static bool key_exchange(ts_server *s, uint16_t group, uint8_t *share, size_t *share_len,
                         uint8_t *shared, size_t *shared_len)
{
    tls_kx *kx = NULL;
    tls_slice theirs;
    bool agreed = false;

    if (tls__kx_new(group, &kx) != TLS_OK ||
        tls__kx_public(kx, share, TLS_MAX_KX_PUBLIC_LEN, share_len) != TLS_OK) {
        /* A group we cannot compute with: a share-shaped filler. */
        memset(share, 0x42, 32);
        *share_len = 32;
        tls__kx_free(kx);
        return false;
    }
    if (tls__client_hello_key_share(&s->ch, group, &theirs))
        agreed = tls__kx_agree(kx, theirs.p, theirs.len, shared, TLS_MAX_KX_SECRET_LEN,
                               shared_len) == TLS_OK;
    tls__kx_free(kx);
    return agreed;
}

void ts_server_hello(ts_server *s, const ts_hello_opts *opts)
{
    ts_hello_opts none;
    uint8_t random[32], msg[1024], share[TLS_MAX_KX_PUBLIC_LEN], shared[TLS_MAX_KX_SECRET_LEN];
    uint8_t session_id[32];
    size_t share_len = 0, shared_len = 0;
    bool agreed = false;
    tls_writer w;

    memset(&none, 0, sizeof none);
    const ts_hello_opts *o = opts ? opts : &none;
    if (!s->n_hellos) {
        ts_fail(s, "ts_server_hello before any ClientHello");
        return;
    }
    uint16_t suite = o->suite ? o->suite : first_tls13_suite(&s->ch);
    uint16_t group = o->group ? o->group : o->hrr ? 0 : first_share_group(&s->ch);
    if (o->hrr)
        memcpy(random, tls__hrr_random, 32);
    else if (o->random)
        memcpy(random, o->random, 32);
    else if (tls__random(random, 32) != TLS_OK)
        abort();
    size_t sid_len = s->ch.session_id.len;
    memcpy(session_id, s->ch.session_id.p, sid_len);
    if (o->wrong_session_id) {
        if (sid_len == 0)
            sid_len = 32, memset(session_id, 0x5a, 32);
        else
            session_id[0] ^= 0x01;
    }
    if (!o->hrr && !o->omit_key_share && group)
        agreed = key_exchange(s, group, share, &share_len, shared, &shared_len);

    tls_writer_init(&w, msg, sizeof msg);
    tls__hs_begin(&w, TLS_HS_SERVER_HELLO);
    tls_write_u16(&w, o->legacy_version ? o->legacy_version : TLS_VERSION_1_2);
    tls_write_bytes(&w, random, 32);
    tls_write_vec8(&w, session_id, sid_len);
    tls_write_u16(&w, suite);
    tls_write_u8(&w, o->compression);
    tls_write_vec16_begin(&w);
    if (!o->omit_versions) {
        tls_write_u16(&w, TLS_EXT_SUPPORTED_VERSIONS);
        tls_write_u16(&w, 2);
        tls_write_u16(&w, o->version ? o->version : TLS_VERSION_1_3);
    }
    if (!o->omit_key_share && group) {
        tls_write_u16(&w, TLS_EXT_KEY_SHARE);
        tls_write_vec16_begin(&w);
        tls_write_u16(&w, group);
        if (!o->hrr)
            tls_write_vec16(&w, share, share_len);
        tls_writer_end(&w);
    }
    if (o->cookie) {
        tls_write_u16(&w, TLS_EXT_COOKIE);
        tls_write_vec16_begin(&w);
        tls_write_vec16(&w, o->cookie, o->cookie_len);
        tls_writer_end(&w);
    }
    if (o->extra_exts_len)
        tls_write_bytes(&w, o->extra_exts, o->extra_exts_len);
    tls_writer_end(&w);
    tls__hs_end(&w);
    if (!tls_writer_ok(&w)) {
        ts_fail(s, "ServerHello does not fit");
        return;
    }

    const tls_suite *cs = tls__suite_find(suite);
    if (cs && cs->version == TLS_VERSION_1_3) {
        if (!s->transcript.started) {
            s->suite = cs;
            tls__transcript_start(&s->transcript, cs->hash);
            tls__transcript_add(&s->transcript, s->hello[0], s->hello_len[0]);
            if (o->hrr)
                tls__transcript_to_message_hash(&s->transcript);
        }
    }
    send_message(s, msg, w.len);
    if (o->hrr || !agreed || !s->suite) {
        tls__wipe(shared, sizeof shared);
        return;
    }

    uint8_t thash[TLS_MAX_HASH_LEN];
    tls_error err = tls13_keysched_init(&s->ks, s->suite->hash, NULL, 0);
    if (err == TLS_OK)
        err = tls13_keysched_handshake(&s->ks, shared, shared_len);
    tls__wipe(shared, sizeof shared);
    tls__transcript_current(&s->transcript, thash);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&s->ks, "c hs traffic", thash, s->c_hs);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&s->ks, "s hs traffic", thash, s->s_hs);
    if (err != TLS_OK) {
        ts_fail(s, "handshake secrets: %s", tls_error_name(err));
        return;
    }
    install(s, &s->wr, s->s_hs);
    install(s, &s->rd, s->c_hs);
}

/* ---- the encrypted flight ------------------------------------------------------------------- */

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

void ts_flight(ts_server *s, const ts_flight_opts *o)
{
    size_t cap = 8192 + TLS_MAX_SIGNATURE_LEN, n = s->ks.hash_len;
    uint8_t thash[TLS_MAX_HASH_LEN], mac[TLS_MAX_HASH_LEN];
    tls_writer w;

    if (!tls__record_cipher_active(&s->wr)) {
        ts_fail(s, "ts_flight without handshake keys");
        return;
    }
    for (size_t i = 0; o->ck && i < o->ck->n_chain; i++)
        cap += o->ck->chain_len[i] + 5;
    uint8_t *msg = malloc(cap);
    if (!msg)
        abort();

    tls_writer_init(&w, msg, cap);
    tls__hs_begin(&w, TLS_HS_ENCRYPTED_EXTENSIONS);
    tls_write_vec16_begin(&w);
    if (o->ack_sni) {
        tls_write_u16(&w, TLS_EXT_SERVER_NAME);
        tls_write_u16(&w, 0);
    }
    if (o->alpn) {
        tls_write_u16(&w, TLS_EXT_ALPN);
        tls_write_vec16_begin(&w);
        tls_write_vec16_begin(&w);
        tls_write_vec8(&w, (const uint8_t *)o->alpn, strlen(o->alpn));
        tls_writer_end(&w);
        tls_writer_end(&w);
    }
    if (o->ee_exts_len)
        tls_write_bytes(&w, o->ee_exts, o->ee_exts_len);
    tls_writer_end(&w);
    tls__hs_end(&w);
    send_message(s, msg, w.len);

    if (o->cert_request_with) {
        ts_send_cert_request(s, o->cert_request_with);
    } else if (o->cert_request) {
        static const uint8_t algs[] = {0, 4, 0x04, 0x03, 0x08, 0x04};
        tls_writer_init(&w, msg, cap);
        tls__hs_begin(&w, TLS_HS_CERTIFICATE_REQUEST);
        tls_write_vec8(&w, NULL, 0);
        tls_write_vec16_begin(&w);
        tls_write_u16(&w, TLS_EXT_SIGNATURE_ALGORITHMS);
        tls_write_vec16(&w, algs, sizeof algs);
        tls_writer_end(&w);
        tls__hs_end(&w);
        send_message(s, msg, w.len);
    }

    tls_writer_init(&w, msg, cap);
    tls__hs_begin(&w, TLS_HS_CERTIFICATE);
    tls_write_vec8(&w, NULL, 0);
    tls_write_vec24_begin(&w);
    for (size_t i = 0; o->ck && !o->empty_certificate && i < o->ck->n_chain; i++) {
        tls_write_vec24_begin(&w);
        tls_write_bytes(&w, o->ck->chain[i], o->ck->chain_len[i]);
        tls_writer_end(&w);
        tls_write_u16(&w, 0);
    }
    tls_writer_end(&w);
    tls__hs_end(&w);
    send_message(s, msg, w.len);

    if (o->ck) {
        static const char context[] = "TLS 1.3, server CertificateVerify";
        uint8_t content[64 + sizeof context + TLS_MAX_HASH_LEN], sig[TLS_MAX_SIGNATURE_LEN];
        size_t sig_len = 0;
        uint16_t scheme = o->scheme ? o->scheme : scheme_for(o->ck);
        memset(content, 0x20, 64);
        memcpy(content + 64, context, sizeof context);
        tls__transcript_current(&s->transcript, content + 64 + sizeof context);
        /* Signed with the key's own scheme whatever `scheme` claims on the wire. */
        tls_error err = tls__sign(o->ck->key, scheme_for(o->ck), content,
                                  64 + sizeof context + n, sig, sizeof sig, &sig_len);
        if (err != TLS_OK)
            ts_fail(s, "signing: %s", tls_error_name(err));
        if (o->corrupt_cv)
            sig[sig_len / 2] ^= 0x01;
        tls_writer_init(&w, msg, cap);
        tls__hs_begin(&w, TLS_HS_CERTIFICATE_VERIFY);
        tls_write_u16(&w, scheme);
        tls_write_vec16(&w, sig, sig_len);
        tls__hs_end(&w);
        send_message(s, msg, w.len);
    }
    if (o->stop_after_cv) {
        free(msg);
        return;
    }

    tls__transcript_current(&s->transcript, thash);
    if (tls13_finished_mac(s->ks.hash, s->s_hs, thash, mac) != TLS_OK)
        ts_fail(s, "finished mac");
    if (o->corrupt_finished)
        mac[0] ^= 0x80;
    tls_writer_init(&w, msg, cap);
    tls__hs_begin(&w, TLS_HS_FINISHED);
    tls_write_bytes(&w, mac, n);
    tls__hs_end(&w);
    send_message(s, msg, w.len);
    free(msg);
    s->sent_finished = true;

    tls__transcript_current(&s->transcript, thash);
    tls_error err = tls13_keysched_master(&s->ks);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&s->ks, "c ap traffic", thash, s->c_ap);
    if (err == TLS_OK)
        err = tls13_keysched_derive(&s->ks, "s ap traffic", thash, s->s_ap);
    if (err != TLS_OK)
        ts_fail(s, "application secrets: %s", tls_error_name(err));
    install(s, &s->wr, s->s_ap);
}

/* ---- receiving ------------------------------------------------------------------------------ */

static void handle_client_hello(ts_server *s, const uint8_t *msg, size_t len)
{
    if (s->n_hellos == 2) {
        ts_fail(s, "a third ClientHello");
        return;
    }
    uint8_t *copy = malloc(len);
    if (!copy)
        abort();
    memcpy(copy, msg, len);
    s->hello[s->n_hellos] = copy;
    s->hello_len[s->n_hellos++] = len;
    if (s->n_hellos == 2) {
        s->ccs_before_hello2 = s->ccs;
        if (s->transcript.started)
            tls__transcript_add(&s->transcript, msg, len);
    }
    tls_error err = tls__client_hello_parse(copy + 4, len - 4, &s->ch);
    if (err != TLS_OK)
        ts_fail(s, "ClientHello does not parse: %s", tls_error_name(err));
}

static void handle_message(ts_server *s, const uint8_t *msg, size_t len)
{
    if (msg[0] == TLS_HS_CLIENT_HELLO) {
        handle_client_hello(s, msg, len);
        return;
    }
    if (s->n_msgs < TS_MAX_MSGS)
        s->msgs[s->n_msgs++] = msg[0];
    if (msg[0] == TLS_HS_CERTIFICATE && !s->finished_ok) {
        s->client_cert.len = 0;
        buf_append(&s->client_cert, msg, len);
    } else if (msg[0] == TLS_HS_CERTIFICATE_VERIFY && !s->finished_ok) {
        s->client_cv.len = 0;
        buf_append(&s->client_cv, msg, len);
        if (s->transcript.started)
            tls__transcript_current(&s->transcript, s->client_cv_thash);
    }
    if (msg[0] == TLS_HS_FINISHED && !s->finished_ok) {
        uint8_t thash[TLS_MAX_HASH_LEN];
        tls__transcript_current(&s->transcript, thash);
        if (tls13_finished_mac(s->ks.hash, s->c_hs, thash, s->expected_finished) != TLS_OK ||
            len - 4 != s->ks.hash_len ||
            !tls__ct_equal(msg + 4, s->expected_finished, s->ks.hash_len)) {
            ts_fail(s, "the client's Finished does not verify");
            return;
        }
        tls__transcript_add(&s->transcript, msg, len);
        s->finished_ok = true;
        install(s, &s->rd, s->c_ap);
    } else if (msg[0] == TLS_HS_KEY_UPDATE && s->finished_ok) {
        s->key_updates++;
        if (tls13_next_traffic_secret(s->suite->hash, s->c_ap) != TLS_OK)
            ts_fail(s, "next traffic secret");
        install(s, &s->rd, s->c_ap);
    } else if (s->transcript.started && !s->finished_ok) {
        tls__transcript_add(&s->transcript, msg, len);
    }
}

static void handle_record(ts_server *s, tls_record *rec)
{
    bool protected_ = false;
    if (rec->type == TLS_CT_APPLICATION_DATA && tls__record_cipher_active(&s->rd)) {
        tls_error err = tls__record_open(&s->rd, rec);
        if (err != TLS_OK) {
            ts_fail(s, "a client record does not decrypt: %s", tls_error_name(err));
            return;
        }
        protected_ = true;
    }
    switch (rec->type) {
    case TLS_CT_CHANGE_CIPHER_SPEC:
        s->ccs++;
        break;
    case TLS_CT_ALERT:
        if (rec->len == 2 && s->n_alerts < TS_MAX_ALERTS) {
            ts_alert a = {rec->body[0], rec->body[1], protected_};
            s->alerts[s->n_alerts++] = a;
        }
        break;
    case TLS_CT_APPLICATION_DATA:
        buf_append(&s->app, rec->body, rec->len);
        break;
    case TLS_CT_HANDSHAKE:
        buf_append(&s->hs_in, rec->body, rec->len);
        while (s->hs_in.len >= 4) {
            size_t n = ((size_t)s->hs_in.p[1] << 16) | ((size_t)s->hs_in.p[2] << 8) |
                       s->hs_in.p[3];
            if (s->hs_in.len < 4 + n)
                break;
            handle_message(s, s->hs_in.p, 4 + n);
            buf_consume(&s->hs_in, 4 + n);
        }
        break;
    default:
        ts_fail(s, "record of type %u", rec->type);
    }
}

void ts_receive(ts_server *s, const uint8_t *buf, size_t len)
{
    buf_append(&s->in, buf, len);
    while (s->in.len) {
        tls_record rec;
        bool complete;
        if (tls__record_peek(s->in.p, s->in.len, &rec, &complete) != TLS_OK) {
            ts_fail(s, "the client sent something that is not a record");
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

int ts_last_alert(const ts_server *s)
{
    return s->n_alerts ? s->alerts[s->n_alerts - 1].desc : TLS_ALERT_NONE;
}

tls_error ts_pump(ts_server *s, tls_conn *client)
{
    tls_error first = TLS_OK;
    bool moved;
    do {
        uint8_t buf[4096];
        size_t n;
        moved = false;
        while ((n = tls_conn_write_tls(client, buf, sizeof buf)) > 0) {
            ts_receive(s, buf, n);
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

void ts_send_cert_request(ts_server *s, const ts_cert_request_opts *opts)
{
    static const uint16_t default_algs[] = {TLS_SIG_ECDSA_SECP256R1_SHA256,
                                            TLS_SIG_RSA_PSS_RSAE_SHA256};
    /* DER of SEQUENCE { SET { SEQUENCE { OID commonName, UTF8String "ca" } } } */
    static const uint8_t dn[] = {0x30, 0x0d, 0x31, 0x0b, 0x30, 0x09, 0x06, 0x03,
                                 0x55, 0x04, 0x03, 0x0c, 0x02, 'c',  'a'};
    ts_cert_request_opts none;
    uint8_t msg[1024];
    tls_writer w;

    memset(&none, 0, sizeof none);
    const ts_cert_request_opts *o = opts ? opts : &none;
    const uint16_t *algs = o->sig_algs ? o->sig_algs : default_algs;
    size_t n_algs = o->sig_algs ? o->n_sig_algs : 2;

    tls_writer_init(&w, msg, sizeof msg);
    tls__hs_begin(&w, TLS_HS_CERTIFICATE_REQUEST);
    tls_write_vec8(&w, o->context, o->context_len);
    tls_write_vec16_begin(&w);
    if (!o->omit_sig_algs) {
        tls_write_u16(&w, TLS_EXT_SIGNATURE_ALGORITHMS);
        tls_write_vec16_begin(&w);
        tls_write_vec16_begin(&w);
        for (size_t i = 0; i < n_algs; i++)
            tls_write_u16(&w, algs[i]);
        tls_writer_end(&w);
        tls_writer_end(&w);
    }
    if (o->authorities) {
        tls_write_u16(&w, TLS_EXT_CERTIFICATE_AUTHORITIES);
        tls_write_vec16_begin(&w);
        tls_write_vec16_begin(&w);
        tls_write_vec16(&w, dn, sizeof dn);
        tls_writer_end(&w);
        tls_writer_end(&w);
    }
    tls_writer_end(&w);
    tls__hs_end(&w);
    if (!tls_writer_ok(&w)) {
        ts_fail(s, "CertificateRequest does not fit");
        return;
    }
    send_message(s, msg, w.len);
}

/* The parts both versions share: the Certificate against `expect`, the CertificateVerify
 * decoded. Returns the parsed Certificate's end entity through cert. */
static void check_certificate(const ts_buf *cert_msg, bool tls13, const tls_certified_key *expect,
                              tls_certificate_msg *cert, ts_client_auth *out)
{
    out->certificate = cert_msg->len >= 4;
    out->decode = TLS_ERR_DECODE;
    if (!out->certificate)
        return;
    out->decode = tls__certificate_parse(cert_msg->p + 4, cert_msg->len - 4, tls13, cert);
    if (out->decode != TLS_OK)
        return;
    out->context_len = cert->context.len;
    if (cert->context.len)
        memcpy(out->context, cert->context.p, cert->context.len);
    out->n_certs = cert->n_certs;
    out->chain_matches = expect && expect->n_chain == cert->n_certs;
    for (size_t i = 0; out->chain_matches && i < cert->n_certs; i++)
        out->chain_matches = expect->chain_len[i] == cert->cert_lens[i] &&
                             !memcmp(expect->chain[i], cert->certs[i], cert->cert_lens[i]);
}

void ts_client_auth_check(const ts_server *s, const tls_certified_key *expect, ts_client_auth *out)
{
    static const char context[] = "TLS 1.3, client CertificateVerify";
    uint8_t content[64 + sizeof context + TLS_MAX_HASH_LEN];
    tls_certificate_verify_msg cv;
    tls_certificate_msg cert;

    memset(out, 0, sizeof *out);
    out->verify = TLS_ERR_INTERNAL;
    check_certificate(&s->client_cert, true, expect, &cert, out);
    out->certificate_verify = s->client_cv.len >= 4;
    if (!out->certificate_verify ||
        tls__certificate_verify_parse(s->client_cv.p + 4, s->client_cv.len - 4, &cv) != TLS_OK)
        return;
    out->scheme = cv.scheme;
    if (out->decode != TLS_OK || out->n_certs == 0)
        return;
    memset(content, 0x20, 64);
    memcpy(content + 64, context, sizeof context);
    memcpy(content + 64 + sizeof context, s->client_cv_thash, s->ks.hash_len);
    out->verify =
        tls__verify(cert.certs[0], cert.cert_lens[0], cv.scheme, content,
                    64 + sizeof context + s->ks.hash_len, cv.signature.p, cv.signature.len);
}

void ts__check_client_certificate(const ts_buf *cert_msg, const tls_certified_key *expect,
                                  tls_certificate_msg *cert, ts_client_auth *out)
{
    check_certificate(cert_msg, false, expect, cert, out);
}
