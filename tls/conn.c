/*
 * conn.c — the encrypted pipe: buffers, deframing, record dispatch, alerts, and the
 * plaintext reader/writer (the rustls ServerConnection model, sans IO).
 *
 * Implementation notes:
 * - Records are processed in arrival order from `in`. A protected record is
 *   decrypted straight into the free tail of app_in: application data is then
 *   committed where it lies (no copy), other content (handshake bytes, alerts) is
 *   handled from there and the tail stays uncommitted. So `in` and `out` only ever
 *   hold bytes that crossed (or will cross) the wire as they are, and are released
 *   without wiping (tls_buf.public_bytes); buffers of plaintext are wiped.
 * - Backpressure: once app_in cannot take another full record, processing stops and
 *   read_tls stops accepting bytes, until the caller drains plaintext.
 * - The first fatal error latches in conn->err; its alert (if any) is queued once,
 *   under whatever write keys are current, and nothing is sent after it.
 * - Client and server differ only where the role matters: which handshake handles a
 *   message or a ChangeCipherSpec, and whose secret a KeyUpdate moves (is_client).
 * - Limits (tls_limits, from the config): a handshake message longer than its limit
 *   fails as soon as its header is seen; a message wholly inside one record is handled
 *   in place, and only one split across records is gathered in hs_in, so hs_in never
 *   holds more than one message. Floods of records that carry nothing (empty data,
 *   warnings) and of KeyUpdates end the connection after a fixed number in a row.
 */
#include "conn.h"
#include "verify.h"

#include <stdlib.h>
#include <string.h>

#define IN_CAP (2 * TLS_MAX_RECORD)
/* The other caps come from the config (tls_limits, c->limits): hs_in holds at most one
 * handshake message; app_in and pending at most limits->plaintext; application writes
 * are accepted while fewer than limits->ciphertext TLS bytes wait in out, and handshake
 * flights and alerts may go past that, never past limits->out_cap. */
/* Refresh our sending key well before AES-GCM's record limit (RFC 8446 §5.5). */
#define RECORDS_BEFORE_KEY_UPDATE (1ull << 23)

/* ---- buffers ------------------------------------------------------------------ */

/* Makes room for `need` more bytes without exceeding cap (live bytes included). */
/* Wiping covers only what was ever written (dirty), not the whole allocation: a
 * drained 64 KiB buffer that held one record costs one record's memset. */
static void buf_wipe(tls_buf *b)
{
    if (b->p && !b->public_bytes)
        tls__wipe(b->p, b->dirty);
}

/* The caller writes up to `need` bytes at buf_tail next. */
static void note_dirty(tls_buf *b, size_t need)
{
    if (b->off + b->len + need > b->dirty)
        b->dirty = b->off + b->len + need;
}

static bool buf_reserve(tls_buf *b, size_t need, size_t cap)
{
    if (need > cap || b->len > cap - need)
        return false;
    if (b->off + b->len + need <= b->cap) {
        note_dirty(b, need);
        return true;
    }
    if (b->off && b->len + need <= b->cap) {
        memmove(b->p, b->p + b->off, b->len);
        b->off = 0;
        note_dirty(b, need);
        return true;
    }
    size_t new_cap = b->cap ? b->cap : 1024;
    while (new_cap < b->len + need)
        new_cap *= 2;
    if (new_cap > cap)
        new_cap = cap;
    uint8_t *p = tls__alloc(new_cap);
    if (!p)
        return false;
    if (b->len)
        memcpy(p, b->p + b->off, b->len);
    buf_wipe(b); /* plaintext must not linger in freed memory */
    tls__free(b->p, b->cap);
    b->p = p;
    b->cap = new_cap;
    b->off = 0;
    b->dirty = 0;
    note_dirty(b, need);
    return true;
}

static uint8_t *buf_tail(tls_buf *b)
{
    return b->p + b->off + b->len;
}

static uint8_t *buf_head(tls_buf *b)
{
    return b->p + b->off;
}

static void buf_consume(tls_buf *b, size_t n)
{
    b->off += n;
    b->len -= n;
}

/* Releases the memory of a drained buffer: idle connections stay small. */
static void buf_trim(tls_buf *b)
{
    if (b->len == 0 && b->p) {
        buf_wipe(b);
        tls__free(b->p, b->cap);
        b->p = NULL;
        b->cap = b->off = b->dirty = 0;
    }
}

static void buf_free(tls_buf *b)
{
    buf_wipe(b);
    tls__free(b->p, b->cap);
    bool public_bytes = b->public_bytes;
    memset(b, 0, sizeof *b);
    b->public_bytes = public_bytes;
}

/* ---- sending ---------------------------------------------------------------------- */

/* Splits data into records of at most max_fragment_size and queues them. */
static tls_error send_records(tls_conn *c, uint8_t type, const uint8_t *data, size_t len)
{
    size_t frag = c->max_fragment_size;
    do {
        size_t n = len < frag ? len : frag;
        size_t size = tls__record_size(&c->wr, n, 0), written;
        ENSURE(buf_reserve(&c->out, size, c->limits->out_cap), TLS_ERR_BUFFER_FULL);
        TRY(tls__record_seal(&c->wr, type, data, n, 0, buf_tail(&c->out), size, &written));
        c->out.len += written;
        data += n;
        len -= n;
    } while (len);
    return TLS_OK;
}

tls_error tls__conn_send_handshake(tls_conn *c, const uint8_t *msgs, size_t len)
{
    if (c->close_sent)
        return TLS_OK; /* §6.1: nothing follows our closure alert */
    return send_records(c, TLS_CT_HANDSHAKE, msgs, len);
}

tls_error tls__conn_send_early_data(tls_conn *c, const uint8_t *data, size_t len)
{
    ENSURE(c->is_client && tls__record_cipher_active(&c->wr), TLS_ERR_INTERNAL);
    return len ? send_records(c, TLS_CT_APPLICATION_DATA, data, len) : TLS_OK;
}

void tls__conn_clear_write_secret(tls_conn *c)
{
    tls__record_cipher_clear(&c->wr);
}

tls_error tls__conn_send_ccs(tls_conn *c)
{
    static const uint8_t one = 1;
    ENSURE(!tls__record_cipher_active(&c->wr), TLS_ERR_INTERNAL); /* always plaintext */
    if (c->close_sent)
        return TLS_OK; /* §6.1: nothing follows our closure alert */
    return send_records(c, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
}

tls_error tls__conn_send_warning(tls_conn *c, int alert)
{
    uint8_t body[2] = {1, (uint8_t)alert};
    if (c->close_sent)
        return TLS_OK;
    return send_records(c, TLS_CT_ALERT, body, sizeof body);
}

static void send_alert(tls_conn *c, uint8_t level, int alert)
{
    uint8_t body[2] = {level, (uint8_t)alert};
    if (c->close_sent)
        return;
    c->close_sent = true;
    /* Best effort: a connection that cannot even queue its alert just closes. */
    (void)send_records(c, TLS_CT_ALERT, body, sizeof body);
}

/* Latches the first fatal error and queues its alert. */
static tls_error fail(tls_conn *c, tls_error err)
{
    if (c->err != TLS_OK)
        return c->err;
    c->err = err;
    int alert = tls_error_alert(err);
    if (alert != TLS_ALERT_NONE)
        send_alert(c, 2, alert);
    return err;
}

tls_error tls__conn_set_read_secret(tls_conn *c, const tls_suite *suite, const uint8_t *secret)
{
    /* RFC 8446 §5.1: handshake messages must not span a key change, and the message
     * that changes keys must end its record. */
    ENSURE(c->hs_in.len == 0 && c->hs_unread == 0, TLS_ERR_KEY_EPOCH_WITH_PENDING_FRAGMENT);
    return tls__record_cipher_install(&c->rd, suite, secret);
}

tls_error tls__conn_set_write_secret(tls_conn *c, const tls_suite *suite, const uint8_t *secret)
{
    return tls__record_cipher_install(&c->wr, suite, secret);
}

/* Our sending keys move to the next generation, whichever role we play. */
static tls_error send_key_update(tls_conn *c, bool update_requested)
{
    if (c->is_client)
        return tls__hs13_client_send_key_update(c, update_requested);
    return tls__hs13_send_key_update(c, update_requested);
}

static tls_error encrypt_app_data(tls_conn *c, const uint8_t *buf, size_t len, size_t *n)
{
    *n = 0;
    while (*n < len && c->out.len < c->limits->ciphertext) {
        if (c->wr.seq >= RECORDS_BEFORE_KEY_UPDATE) {
            if (c->version == TLS_VERSION_1_2) {
                /* TLS 1.2 cannot rekey: end cleanly before AES-GCM's limit, as rustls
                 * does; later writes get TLS_ERR_CLOSED, reading goes on. */
                send_alert(c, 1, TLS_ALERT_CLOSE_NOTIFY);
                return TLS_OK;
            }
            TRY(send_key_update(c, false));
        }
        size_t chunk = len - *n;
        if (chunk > c->max_fragment_size)
            chunk = c->max_fragment_size;
        TRY(send_records(c, TLS_CT_APPLICATION_DATA, buf + *n, chunk));
        *n += chunk;
    }
    return TLS_OK;
}

tls_error tls__conn_handshake_complete(tls_conn *c)
{
    c->handshake_done = true;
    /* All of it at once, past the write mark: limits->plaintext of plaintext always fits
     * under out_cap, and nothing may be left behind to be overtaken by later writes. */
    if (c->pending.len)
        TRY(send_records(c, TLS_CT_APPLICATION_DATA, buf_head(&c->pending), c->pending.len));
    buf_free(&c->pending);
    if (c->close_after_handshake) /* asked for during the handshake: after the data */
        send_alert(c, 1, TLS_ALERT_CLOSE_NOTIFY);
    return TLS_OK;
}

/* ---- receiving ------------------------------------------------------------------ */

static tls_error note_idle_record(tls_conn *c)
{
    ENSURE(++c->idle_records <= c->limits->empty_records, TLS_ERR_TOO_MANY_EMPTY_RECORDS);
    return TLS_OK;
}

static tls_error handle_alert(tls_conn *c, const uint8_t *body, size_t len)
{
    /* §5.1: alerts are never fragmented, so a record holds exactly one. */
    ENSURE(len == 2, TLS_ERR_INVALID_ALERT);
    ENSURE(body[0] == 1 || body[0] == 2, TLS_ERR_INVALID_ALERT);
    if (c->version == TLS_VERSION_1_2 && body[0] == 2) {
        c->peer_alert = body[1]; /* RFC 5246 §7.2: fatal means fatal, whatever it says */
        return TLS_ERR_ALERT_RECEIVED;
    }
    if (body[1] == TLS_ALERT_CLOSE_NOTIFY) {
        c->peer_closed = true;
        return TLS_OK;
    }
    if (body[1] == TLS_ALERT_USER_CANCELED)
        return note_idle_record(c); /* a close_notify should follow (§6.1) */
    /* RFC 5246 §7.2: in TLS 1.2 a warning (no_renegotiation, say) may be carried on. */
    if (c->version == TLS_VERSION_1_2 && body[0] == 1)
        return note_idle_record(c);
    /* §6: in TLS 1.3 every other alert is fatal whatever its level says. */
    c->peer_alert = body[1];
    return TLS_ERR_ALERT_RECEIVED;
}

static tls_error handle_ccs(tls_conn *c, const uint8_t *body, size_t len)
{
    /* §5: one plaintext CCS of value 1 is dropped between the first ClientHello and
     * the client's Finished (a client: between the ServerHello or HelloRetryRequest,
     * which set the version, and the server's Finished, which ends the handshake for
     * it); anything else is unexpected. */
    ENSURE(len == 1 && body[0] == 1, TLS_ERR_INVALID_CCS);
    if (c->version == TLS_VERSION_1_2) /* in TLS 1.2 it is the peer's key change */
        return c->is_client ? tls__hs12_client_ccs(c) : tls__hs12_server_ccs(c);
    ENSURE(!c->handshake_done && !c->ccs_seen && c->version == TLS_VERSION_1_3,
           TLS_ERR_UNEXPECTED_MESSAGE);
    c->ccs_seen = true;
    return TLS_OK;
}

static size_t u24_at(const uint8_t *p)
{
    return ((size_t)p[0] << 16) | ((size_t)p[1] << 8) | p[2];
}

/* The largest body accepted for a handshake message of this type. */
static size_t hs_limit(const tls_conn *c, uint8_t type)
{
    return type == TLS_HS_CERTIFICATE ? c->limits->certificate_chain : c->limits->handshake_message;
}

static size_t hs_in_cap(const tls_conn *c)
{
    const tls_limits *l = c->limits;
    return 4 + (l->certificate_chain > l->handshake_message ? l->certificate_chain
                                                            : l->handshake_message);
}

/* One whole message; `unread` bytes of its record follow it (a key change then fails). */
static tls_error handle_message(tls_conn *c, const uint8_t *msg, size_t len, size_t unread)
{
    c->hs_unread = unread;
    tls_error err =
        c->is_client ? tls__hs_client_handle(c, msg, len) : tls__hs_server_handle(c, msg, len);
    c->hs_unread = 0;
    return err;
}

static tls_error handle_handshake_bytes(tls_conn *c, const uint8_t *body, size_t len)
{
    /* §5.1: zero-length handshake fragments are forbidden. */
    ENSURE(len > 0, TLS_ERR_EMPTY_FRAGMENT);
    while (len && c->err == TLS_OK) {
        if (c->hs_in.len == 0 && len >= 4) {
            size_t body_len = u24_at(body + 1);
            ENSURE(body_len <= hs_limit(c, body[0]), TLS_ERR_HANDSHAKE_TOO_LARGE);
            if (len - 4 >= body_len) { /* whole in this record: handled in place */
                TRY(handle_message(c, body, 4 + body_len, len - 4 - body_len));
                body += 4 + body_len;
                len -= 4 + body_len;
                continue;
            }
        }
        /* Split across records: gather its header, then the rest of it, and no more. */
        size_t want = c->hs_in.len < 4 ? 4 : 4 + u24_at(buf_head(&c->hs_in) + 1);
        size_t n = want - c->hs_in.len < len ? want - c->hs_in.len : len;
        ENSURE(buf_reserve(&c->hs_in, n, hs_in_cap(c)), TLS_ERR_NO_MEMORY);
        memcpy(buf_tail(&c->hs_in), body, n);
        c->hs_in.len += n;
        body += n;
        len -= n;
        if (c->hs_in.len < 4)
            break; /* the record ended inside the header */
        const uint8_t *msg = buf_head(&c->hs_in);
        size_t total = 4 + u24_at(msg + 1);
        ENSURE(total - 4 <= hs_limit(c, msg[0]), TLS_ERR_HANDSHAKE_TOO_LARGE);
        if (c->hs_in.len < total)
            continue;
        /* Consumed before handling, so a key change sees nothing pending; the bytes
         * stay in place until buf_trim. */
        buf_consume(&c->hs_in, total);
        TRY(handle_message(c, msg, total, len));
        buf_trim(&c->hs_in);
    }
    return TLS_OK;
}

/* Accepted 0-RTT data (server): kept apart from 1-RTT data, at most the amount the
 * ticket allowed (§4.2.10: more is unexpected_message). */
static tls_error handle_early_data(tls_conn *c, const uint8_t *body, size_t len)
{
    ENSURE(len <= c->early_data_left, TLS_ERR_TOO_MUCH_EARLY_DATA);
    c->early_data_left -= (uint32_t)len;
    if (len == 0)
        return note_idle_record(c);
    c->idle_records = 0;
    ENSURE(buf_reserve(&c->early_in, len, TLS_MAX_EARLY_DATA), TLS_ERR_NO_MEMORY);
    memcpy(buf_tail(&c->early_in), body, len);
    c->early_in.len += len;
    return TLS_OK;
}

static tls_error handle_app_data(tls_conn *c, const uint8_t *body, size_t len)
{
    if (!c->is_client && !c->handshake_done && c->version == TLS_VERSION_1_3 &&
        c->hs.v13.state == HS13_EXPECT_END_OF_EARLY_DATA)
        return handle_early_data(c, body, len);
    ENSURE(c->handshake_done, TLS_ERR_UNEXPECTED_MESSAGE);
    if (len == 0)
        return note_idle_record(c);
    c->idle_records = 0;
    c->key_updates_in_row = 0;
    if (body == buf_tail(&c->app_in)) { /* decrypted in place: commit it */
        ENSURE(len <= c->limits->plaintext - c->app_in.len, TLS_ERR_NO_MEMORY);
        c->app_in.len += len;
        return TLS_OK;
    }
    ENSURE(buf_reserve(&c->app_in, len, c->limits->plaintext), TLS_ERR_NO_MEMORY);
    memcpy(buf_tail(&c->app_in), body, len);
    c->app_in.len += len;
    return TLS_OK;
}

/* Opens a protected record, skipping rejected 0-RTT records (§4.2.10). */
/* Slack over the plaintext limit for decrypting into app_in: a TLS 1.3 record's inner
 * plaintext (content, type, padding) before the padding is stripped. */
#define APP_IN_DECRYPT_SLACK (TLS_MAX_CIPHERTEXT - TLS_MAX_PLAINTEXT)

static tls_error open_record(tls_conn *c, tls_record *rec, bool *skipped)
{
    uint64_t seq = c->rd.seq;
    /* Decrypted into app_in's free tail; process_records checked that a record's
     * plaintext fits under the limit (app_in_has_room). */
    ENSURE(buf_reserve(&c->app_in, rec->len, c->limits->plaintext + APP_IN_DECRYPT_SLACK),
           TLS_ERR_NO_MEMORY);
    tls_error err = tls__record_open_to(&c->rd, rec, buf_tail(&c->app_in));
    *skipped = false;
    if (err == TLS_ERR_DECRYPT && c->skip_undecryptable) {
        ENSURE(rec->len <= c->skip_budget, TLS_ERR_DECRYPT);
        c->skip_budget -= rec->len;
        c->rd.seq = seq; /* a skipped record did not use a sequence number */
        *skipped = true;
        return TLS_OK;
    }
    TRY(err);
    c->skip_undecryptable = false; /* early data ends where decryption succeeds */
    c->decrypted_any = true;
    return TLS_OK;
}

static tls_error handle_record(tls_conn *c, tls_record *rec)
{
    if (c->rd.tls12) {
        /* TLS 1.2 protects every record type once the client's CCS went by. */
        bool skipped;
        TRY(open_record(c, rec, &skipped));
    } else if (rec->type == TLS_CT_APPLICATION_DATA) {
        if (!tls__record_cipher_active(&c->rd)) {
            /* Only 0-RTT data the client sent before our HelloRetryRequest. */
            ENSURE(c->skip_app_records && rec->len <= c->skip_budget, TLS_ERR_UNEXPECTED_MESSAGE);
            c->skip_budget -= rec->len;
            return TLS_OK;
        }
        bool skipped;
        TRY(open_record(c, rec, &skipped));
        if (skipped)
            return TLS_OK;
    } else {
        ENSURE(rec->len <= TLS_MAX_PLAINTEXT, TLS_ERR_RECORD_OVERFLOW);
        if (rec->type == TLS_CT_CHANGE_CIPHER_SPEC) {
            ENSURE(c->hs_in.len == 0, TLS_ERR_UNEXPECTED_MESSAGE);
            return handle_ccs(c, rec->body, rec->len);
        }
        /* Once keys are in place everything must be protected (§6). A plaintext
         * alert is still accepted until the client has protected anything: one that
         * failed on our ServerHello has no keys. After that, a plaintext alert is a
         * forgery (a truncation attack, if it says close_notify). */
        ENSURE(!tls__record_cipher_active(&c->rd) ||
                   (rec->type == TLS_CT_ALERT && !c->decrypted_any),
               TLS_ERR_UNEXPECTED_MESSAGE);
    }
    /* §5.1: nothing may interleave with a fragmented handshake message. */
    ENSURE(c->hs_in.len == 0 || rec->type == TLS_CT_HANDSHAKE, TLS_ERR_UNEXPECTED_MESSAGE);
    switch (rec->type) {
    case TLS_CT_HANDSHAKE:
        return handle_handshake_bytes(c, rec->body, rec->len);
    case TLS_CT_ALERT:
        return handle_alert(c, rec->body, rec->len);
    case TLS_CT_APPLICATION_DATA:
        return handle_app_data(c, rec->body, rec->len);
    default: /* a protected CCS, or an unknown inner type */
        return TLS_ERR_UNEXPECTED_MESSAGE;
    }
}

/* Another record's plaintext (at most TLS_MAX_PLAINTEXT) fits in app_in. An empty
 * app_in always has room: the smallest limit holds one whole record. */
static bool app_in_has_room(const tls_conn *c)
{
    return c->app_in.len == 0 || c->app_in.len + TLS_MAX_PLAINTEXT + 1 <= c->limits->plaintext;
}

static tls_error process_records(tls_conn *c)
{
    while (c->in.len && !c->peer_closed && c->err == TLS_OK) {
        if (!app_in_has_room(c))
            break; /* the caller must read plaintext first */
        tls_record rec;
        bool complete;
        TRY(tls__record_peek(buf_head(&c->in), c->in.len, &rec, &complete));
        if (!complete)
            break;
        tls_error err = handle_record(c, &rec);
        buf_consume(&c->in, rec.total);
        TRY(err);
    }
    if (c->peer_closed)
        c->in.len = 0; /* §6.1: data after close_notify is ignored */
    buf_trim(&c->in);
    return TLS_OK;
}

/* ---- public API ------------------------------------------------------------------ */

tls_error tls_server_conn_new(tls_server_config *cfg, tls_conn **out)
{
    tls_conn *c = tls__calloc(sizeof *c);
    *out = NULL;
    if (!c)
        return TLS_ERR_NO_MEMORY;
    c->cfg = tls_server_config_ref(cfg);
    c->in.public_bytes = c->out.public_bytes = true;
    c->max_fragment_size = cfg->max_fragment_size;
    c->limits = &cfg->limits;
    c->peer_alert = TLS_ALERT_NONE;
    c->hs.v13.state = HS13_EXPECT_CLIENT_HELLO;
    *out = c;
    return TLS_OK;
}

tls_error tls_client_conn_new(tls_client_config *cfg, const char *server_name, tls_conn **out)
{
    tls_conn *c;

    *out = NULL;
    ENSURE(cfg && server_name, TLS_ERR_INVALID_ARGUMENT);
    c = tls__calloc(sizeof *c);
    ENSURE(c, TLS_ERR_NO_MEMORY);
    c->is_client = true;
    c->client_cfg = tls_client_config_ref(cfg);
    c->in.public_bytes = c->out.public_bytes = true;
    c->max_fragment_size = cfg->max_fragment_size;
    c->limits = &cfg->limits;
    c->peer_alert = TLS_ALERT_NONE;
    c->hs.client.v13.state = HS13C_EXPECT_SERVER_HELLO;
    tls_error err = tls__client_start(c, server_name);
    if (err != TLS_OK) {
        tls_conn_free(c);
        return err;
    }
    *out = c;
    return TLS_OK;
}

tls_error tls__conn_set_peer_scts(tls_conn *c, tls_slice scts)
{
    uint8_t *copy = NULL;

    if (scts.len != 0) {
        copy = tls__alloc(scts.len);
        ENSURE(copy != NULL, TLS_ERR_NO_MEMORY);
        memcpy(copy, scts.p, scts.len);
    }
    tls__free(c->peer_scts, c->peer_scts_len);
    c->peer_scts = copy;
    c->peer_scts_len = scts.len;
    return TLS_OK;
}

const uint8_t *tls_conn_peer_scts(const tls_conn *c, size_t *len)
{
    if (len != NULL)
        *len = c != NULL && c->peer_scts != NULL ? c->peer_scts_len : 0;
    return c != NULL ? c->peer_scts : NULL;
}

void tls_conn_free(tls_conn *c)
{
    if (!c)
        return;
    if (c->is_client)
        tls__client_hs_clear(&c->hs.client, c->version);
    else if (c->version == TLS_VERSION_1_2)
        tls__hs12_server_clear(&c->hs.v12);
    else
        tls__hs13_server_clear(&c->hs.v13);
    tls__record_cipher_clear(&c->rd);
    tls__record_cipher_clear(&c->wr);
    buf_free(&c->in);
    buf_free(&c->hs_in);
    buf_free(&c->app_in);
    buf_free(&c->early_in);
    buf_free(&c->pending);
    buf_free(&c->out);
    tls_server_config_unref(c->cfg);
    tls_client_config_unref(c->client_cfg);
    if (c->peer) {
        tls__free(c->peer->der, c->peer->der_len);
        tls__free(c->peer, sizeof *c->peer);
    }
    tls__free(c->peer_scts, c->peer_scts_len);
    tls__wipe(c, sizeof *c);
    tls__free(c, sizeof *c);
}

tls_error tls_conn_read_tls(tls_conn *c, const uint8_t *buf, size_t len, size_t *consumed)
{
    *consumed = 0;
    if (c->err)
        return c->err;
    if (c->peer_closed) {
        *consumed = len; /* §6.1: data after close_notify is ignored */
        return TLS_OK;
    }
    size_t room = IN_CAP - c->in.len;
    size_t n = len < room ? len : room;
    if (n == 0)
        return TLS_OK;
    if (!buf_reserve(&c->in, n, IN_CAP))
        return fail(c, TLS_ERR_NO_MEMORY);
    memcpy(buf_tail(&c->in), buf, n);
    c->in.len += n;
    *consumed = n;
    return TLS_OK;
}

tls_error tls_conn_process(tls_conn *c)
{
    if (c->err)
        return c->err;
    tls_error err = process_records(c);
    return err == TLS_OK ? TLS_OK : fail(c, err);
}

size_t tls_conn_write_tls(tls_conn *c, uint8_t *buf, size_t cap)
{
    size_t n = c->out.len < cap ? c->out.len : cap;
    if (n) {
        memcpy(buf, buf_head(&c->out), n);
        buf_consume(&c->out, n);
        buf_trim(&c->out);
    }
    return n;
}

const uint8_t *tls_conn_peek_tls(tls_conn *c, size_t *len)
{
    *len = c->out.len;
    return c->out.len ? buf_head(&c->out) : NULL;
}

void tls_conn_consume_tls(tls_conn *c, size_t n)
{
    if (n > c->out.len)
        n = c->out.len;
    buf_consume(&c->out, n);
    buf_trim(&c->out);
}

const uint8_t *tls_conn_peek_plaintext(tls_conn *c, size_t *len)
{
    *len = c->err ? 0 : c->app_in.len;
    return *len ? buf_head(&c->app_in) : NULL;
}

tls_error tls_conn_consume_plaintext(tls_conn *c, size_t n)
{
    if (c->err)
        return c->err;
    if (n > c->app_in.len)
        n = c->app_in.len;
    if (n) {
        buf_consume(&c->app_in, n);
        buf_trim(&c->app_in);
    }
    /* Records held back while app_in was full may be processable now; the peer may
     * have nothing more to send that would otherwise trigger it. */
    if (c->in.len) {
        tls_error err = process_records(c);
        if (err != TLS_OK)
            return fail(c, err);
    }
    return TLS_OK;
}

tls_error tls_conn_read(tls_conn *c, uint8_t *buf, size_t cap, size_t *n)
{
    size_t len;
    const uint8_t *p = tls_conn_peek_plaintext(c, &len);
    size_t k = len < cap ? len : cap;
    *n = 0;
    if (c->err)
        return c->err;
    if (k)
        memcpy(buf, p, k);
    *n = k; /* delivered even if a held-back record then fails */
    return tls_conn_consume_plaintext(c, k);
}

tls_error tls_conn_write(tls_conn *c, const uint8_t *buf, size_t len, size_t *n)
{
    *n = 0;
    if (c->err)
        return c->err;
    if (c->close_sent || c->close_after_handshake)
        return TLS_ERR_CLOSED;
    if (!c->handshake_done) {
        size_t room = c->limits->plaintext - c->pending.len;
        size_t k = len < room ? len : room;
        if (k && buf_reserve(&c->pending, k, c->limits->plaintext)) {
            memcpy(buf_tail(&c->pending), buf, k);
            c->pending.len += k;
            *n = k;
        }
        return TLS_OK;
    }
    tls_error err = encrypt_app_data(c, buf, len, n);
    return err == TLS_OK ? TLS_OK : fail(c, err);
}

void tls_conn_send_close_notify(tls_conn *c)
{
    if (c->err != TLS_OK)
        return;
    if (!c->handshake_done && c->pending.len) {
        c->close_after_handshake = true; /* the buffered plaintext goes first */
        return;
    }
    send_alert(c, 1, TLS_ALERT_CLOSE_NOTIFY);
}

bool tls_conn_wants_read(const tls_conn *c)
{
    return c->err == TLS_OK && !c->peer_closed && c->in.len < IN_CAP && app_in_has_room(c);
}

bool tls_conn_wants_write(const tls_conn *c)
{
    return c->out.len > 0;
}

bool tls_conn_is_handshaking(const tls_conn *c)
{
    return !c->handshake_done;
}

bool tls_conn_peer_closed(const tls_conn *c)
{
    return c->peer_closed;
}

tls_error tls_conn_error(const tls_conn *c)
{
    return c->err;
}

int tls_conn_peer_alert(const tls_conn *c)
{
    return c->peer_alert;
}

uint16_t tls_conn_version(const tls_conn *c)
{
    return c->version;
}

uint16_t tls_conn_cipher_suite(const tls_conn *c)
{
    return c->suite ? c->suite->id : 0;
}

uint16_t tls_conn_group(const tls_conn *c)
{
    return c->group;
}

uint16_t tls_conn_sig_scheme(const tls_conn *c)
{
    return c->sig_scheme;
}

const char *tls_conn_server_name(const tls_conn *c)
{
    return c->server_name[0] ? c->server_name : NULL;
}

const uint8_t *tls_conn_alpn(const tls_conn *c, size_t *len)
{
    *len = c->alpn[0];
    return c->alpn[0] ? c->alpn + 1 : NULL;
}

bool tls_conn_did_hrr(const tls_conn *c)
{
    return c->did_hrr;
}

bool tls_conn_resumed(const tls_conn *c)
{
    return c->resumed;
}

/* ---- the client's identity (server, mTLS) ------------------------------------------------ */

tls_error tls__conn_set_peer(tls_conn *c, const uint8_t *const *chain, const size_t *lens, size_t n,
                             bool sent)
{
    tls_peer_identity *p = c->peer;
    size_t total = 0;

    ENSURE(n >= 1 && n <= TLS_MAX_PEER_CHAIN, TLS_ERR_INTERNAL);
    for (size_t i = 0; i < n; i++)
        total += lens[i];
    if (!p) {
        ENSURE(p = tls__calloc(sizeof *p), TLS_ERR_NO_MEMORY);
        c->peer = p;
    }
    tls__free(p->der, p->der_len);
    memset(p, 0, sizeof *p);
    ENSURE(p->der = tls__alloc(total), TLS_ERR_NO_MEMORY);
    p->der_len = total;
    for (size_t i = 0; i < n; i++) {
        p->offs[i + 1] = p->offs[i] + lens[i];
        memcpy(p->der + p->offs[i], chain[i], lens[i]);
    }
    p->n_certs = n;
    p->sent = sent;
    p->has_cn = tls__cert_subject_cn(chain[0], lens[0], p->cn, sizeof p->cn);
    return TLS_OK;
}

static const tls_peer_identity *peer_of(const tls_conn *c)
{
    return !c->is_client && c->handshake_done ? c->peer : NULL;
}

bool tls_conn_peer_cert_verified(const tls_conn *c)
{
    return peer_of(c) != NULL;
}

bool tls_conn_peer_cert_sent(const tls_conn *c)
{
    return peer_of(c) && c->peer->sent;
}

const uint8_t *tls_conn_peer_cert(const tls_conn *c, size_t index, size_t *len)
{
    const tls_peer_identity *p = peer_of(c);
    *len = 0;
    if (!p || index >= p->n_certs)
        return NULL;
    *len = p->offs[index + 1] - p->offs[index];
    return p->der + p->offs[index];
}

const char *tls_conn_peer_cn(const tls_conn *c)
{
    const tls_peer_identity *p = peer_of(c);
    return p && p->has_cn ? p->cn : NULL;
}

size_t tls_conn_early_data_capacity(const tls_conn *c)
{
    return c->is_client ? tls__client_early_data_capacity(c) : 0;
}

tls_error tls_conn_write_early_data(tls_conn *c, const uint8_t *buf, size_t len, size_t *n)
{
    *n = 0;
    if (c->err)
        return c->err;
    ENSURE(c->is_client, TLS_ERR_INVALID_ARGUMENT);
    tls_error err = tls__client_write_early_data(c, buf, len, n);
    return err == TLS_ERR_INVALID_ARGUMENT ? err : err != TLS_OK ? fail(c, err) : TLS_OK;
}

tls_error tls_conn_read_early_data(tls_conn *c, uint8_t *buf, size_t cap, size_t *n)
{
    *n = 0;
    if (c->err)
        return c->err;
    size_t k = c->early_in.len < cap ? c->early_in.len : cap;
    if (k) {
        memcpy(buf, buf_head(&c->early_in), k);
        buf_consume(&c->early_in, k);
        buf_trim(&c->early_in);
    }
    *n = k;
    return TLS_OK;
}

bool tls_conn_early_data_accepted(const tls_conn *c)
{
    return c->early_data_accepted;
}

tls_error tls__conn_set_exporter13(tls_conn *c, const tls13_keysched *ks,
                                   const uint8_t *transcript_hash)
{
    TRY(tls13_keysched_derive(ks, "exp master", transcript_hash, c->exporter_secret));
    c->exporter_ready = true;
    return TLS_OK;
}

void tls__conn_set_exporter12(tls_conn *c, const uint8_t *master, const uint8_t client_random[32],
                              const uint8_t server_random[32])
{
    memcpy(c->exporter_secret, master, TLS12_MASTER_SECRET_LEN);
    memcpy(c->exporter_randoms, client_random, 32);
    memcpy(c->exporter_randoms + 32, server_random, 32);
    c->exporter_ready = true;
}

/* RFC 5705 §4: these labels belong to TLS itself. */
static bool reserved_tls12_label(const char *label)
{
    static const char *const reserved[] = {"client finished", "server finished", "master secret",
                                           "key expansion", "extended master secret"};
    for (size_t i = 0; i < sizeof reserved / sizeof reserved[0]; i++)
        if (!strcmp(label, reserved[i]))
            return true;
    return false;
}

tls_error tls_conn_export_keying_material(tls_conn *c, const char *label, const uint8_t *context,
                                          size_t context_len, bool use_context, uint8_t *out,
                                          size_t out_len)
{
    if (c->err)
        return c->err;
    ENSURE(c->exporter_ready && label && out && out_len, TLS_ERR_INVALID_ARGUMENT);
    tls_hash_id hash = c->suite->hash;
    size_t n = tls__hash_len(hash);
    if (c->version == TLS_VERSION_1_3) {
        /* §7.5: HKDF-Expand-Label(Derive-Secret(exporter_master_secret, label, ""),
         * "exporter", Hash(context), length); no context means an empty one. */
        uint8_t empty_hash[TLS_MAX_HASH_LEN], context_hash[TLS_MAX_HASH_LEN];
        uint8_t derived[TLS_MAX_HASH_LEN];
        ENSURE(strlen(label) <= 249 && out_len <= 255 * n, TLS_ERR_INVALID_ARGUMENT);
        tls__hash(hash, NULL, 0, empty_hash);
        tls__hash(hash, use_context ? context : NULL, use_context ? context_len : 0, context_hash);
        tls_error err = tls13_derive_secret(hash, c->exporter_secret, label, empty_hash, derived);
        if (err == TLS_OK)
            err = tls13_hkdf_expand_label(hash, derived, "exporter", context_hash, n, out, out_len);
        tls__wipe(derived, sizeof derived);
        return err;
    }
    /* RFC 5705 §4: PRF(master_secret, label, client_random || server_random
     * [|| context_value_length || context_value]). */
    ENSURE(!reserved_tls12_label(label), TLS_ERR_INVALID_ARGUMENT);
    ENSURE(!use_context || context_len <= 0xffff, TLS_ERR_INVALID_ARGUMENT);
    uint8_t *tail = NULL;
    size_t tail_len = use_context ? context_len + 2 : 0;
    if (use_context) {
        ENSURE((tail = tls__alloc(tail_len)) != NULL, TLS_ERR_NO_MEMORY);
        tail[0] = (uint8_t)(context_len >> 8);
        tail[1] = (uint8_t)context_len;
        if (context_len)
            memcpy(tail + 2, context, context_len);
    }
    tls_error err =
        tls12_prf(hash, c->exporter_secret, TLS12_MASTER_SECRET_LEN, label, c->exporter_randoms,
                  sizeof c->exporter_randoms, tail, tail_len, out, out_len);
    tls__free(tail, tail_len);
    return err;
}

bool tls_conn_ems(const tls_conn *c)
{
    return c->version == TLS_VERSION_1_3 || c->ems;
}

tls_error tls__hs_server_handle(tls_conn *c, const uint8_t *msg, size_t len)
{
    if (c->version == TLS_VERSION_1_2)
        return tls__hs12_server_handle(c, msg, len);
    return tls__hs13_server_handle(c, msg, len);
}

tls_error tls__hs_client_handle(tls_conn *c, const uint8_t *msg, size_t len)
{
    if (c->version == TLS_VERSION_1_2)
        return tls__hs12_client_handle(c, msg, len);
    return tls__hs13_client_handle(c, msg, len);
}

tls_error tls_conn_send_key_update(tls_conn *c, bool update_requested)
{
    if (c->err)
        return c->err;
    ENSURE(c->handshake_done && !c->close_sent && c->version == TLS_VERSION_1_3,
           TLS_ERR_INVALID_ARGUMENT);
    tls_error err = send_key_update(c, update_requested);
    return err == TLS_OK ? TLS_OK : fail(c, err);
}
