/*
 * ticket.c — the session ticketer: AES-256-GCM keys that rotate on a schedule.
 *
 * Implementation notes:
 * - Time is cut into periods of rotate_s seconds counted from the ticketer's birth.
 *   `cur` seals during its period; when the clock moves into the next period it
 *   becomes `prev` (opens only) and a fresh `cur` is made; two or more periods on,
 *   both are replaced. Rotation happens lazily, under the mutex, on seal and open.
 * - The mbedTLS GCM context keeps per-operation state, so the AEADs are used under
 *   the mutex too; a seal or an open is a few microseconds.
 * - Plaintext (version 1): u8 version, u16 suite, vec8 psk, u32 issued_hi, u32
 *   issued_lo, u32 age_add, u32 lifetime, vec8 sni, vec8 alpn name. It lives in a
 *   stack buffer wiped before return.
 */
#include "ticket.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define TICKET_VERSION 1
#define KEY_ID_LEN 4
#define KEY_LEN 32

typedef struct {
    uint8_t id[KEY_ID_LEN];
    tls_aead *aead; /* NULL: no key */
} ticket_key;

struct tls_ticketer {
    atomic_uint refs;
    pthread_mutex_t lock;
    tls_ticket_clock_fn now;
    unsigned rotate_s;
    int64_t born;
    int64_t period; /* of cur */
    ticket_key cur, prev;
};

static int64_t wall_clock(void)
{
    return (int64_t)time(NULL);
}

static tls_error key_make(ticket_key *k)
{
    uint8_t raw[KEY_LEN];
    tls_error err = tls__random(k->id, sizeof k->id);
    if (err == TLS_OK)
        err = tls__random(raw, sizeof raw);
    if (err == TLS_OK)
        err = tls__aead_new(TLS_AEAD_AES_256_GCM, raw, sizeof raw, &k->aead);
    tls__wipe(raw, sizeof raw);
    return err;
}

static void key_drop(ticket_key *k)
{
    tls__aead_free(k->aead); /* wipes the key schedule */
    memset(k, 0, sizeof *k);
}

static int64_t period_of(const tls_ticketer *t, int64_t now)
{
    /* A clock that goes backwards stays in the current period. */
    return now < t->born ? t->period : (now - t->born) / (int64_t)t->rotate_s;
}

/* Under the lock. */
static tls_error rotate(tls_ticketer *t)
{
    int64_t p = period_of(t, t->now());
    ticket_key next = {{0}, NULL};
    if (p <= t->period)
        return TLS_OK;
    TRY(key_make(&next));
    key_drop(&t->prev);
    if (p == t->period + 1)
        t->prev = t->cur;
    else
        key_drop(&t->cur);
    t->cur = next;
    t->period = p;
    return TLS_OK;
}

tls_error tls__ticketer_new(unsigned rotate_s, tls_ticket_clock_fn now, tls_ticketer **out)
{
    tls_ticketer *t;
    *out = NULL;
    ENSURE(rotate_s >= 1, TLS_ERR_INTERNAL);
    t = tls__calloc(sizeof *t);
    ENSURE(t, TLS_ERR_NO_MEMORY);
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        tls__free(t, sizeof *t);
        return TLS_ERR_INTERNAL;
    }
    atomic_init(&t->refs, 1);
    t->now = now ? now : wall_clock;
    t->rotate_s = rotate_s;
    t->born = t->now();
    tls_error err = key_make(&t->cur);
    if (err != TLS_OK) {
        tls__ticketer_unref(t);
        return err;
    }
    *out = t;
    return TLS_OK;
}

tls_ticketer *tls__ticketer_ref(tls_ticketer *t)
{
    atomic_fetch_add(&t->refs, 1);
    return t;
}

void tls__ticketer_unref(tls_ticketer *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    key_drop(&t->cur);
    key_drop(&t->prev);
    pthread_mutex_destroy(&t->lock);
    tls__free(t, sizeof *t);
}

int64_t tls__ticketer_now(tls_ticketer *t)
{
    return t->now();
}

void tls__ticketer_set_clock(tls_ticketer *t, tls_ticket_clock_fn now)
{
    pthread_mutex_lock(&t->lock);
    t->now = now ? now : wall_clock;
    t->born = t->now(); /* the current key's period starts again on the new clock */
    t->period = 0;
    pthread_mutex_unlock(&t->lock);
}

static void encode_state(tls_writer *w, const tls_ticket_state *st)
{
    uint64_t issued = (uint64_t)st->issued;
    tls_write_u8(w, TICKET_VERSION);
    tls_write_u16(w, st->suite);
    tls_write_vec8(w, st->psk, st->psk_len);
    tls_write_u32(w, (uint32_t)(issued >> 32));
    tls_write_u32(w, (uint32_t)issued);
    tls_write_u32(w, st->age_add);
    tls_write_u32(w, st->lifetime);
    tls_write_vec8(w, (const uint8_t *)st->sni, strnlen(st->sni, 255));
    tls_write_vec8(w, st->alpn + 1, st->alpn[0]);
}

static bool decode_state(tls_reader *r, tls_ticket_state *st)
{
    uint8_t version;
    uint32_t hi, lo;
    tls_reader psk, sni, alpn;
    if (!tls_read_u8(r, &version) || version != TICKET_VERSION || !tls_read_u16(r, &st->suite) ||
        !tls_read_vec8(r, 1, TLS_MAX_HASH_LEN, &psk) || !tls_read_u32(r, &hi) ||
        !tls_read_u32(r, &lo) || !tls_read_u32(r, &st->age_add) ||
        !tls_read_u32(r, &st->lifetime) || !tls_read_vec8(r, 0, 255, &sni) ||
        !tls_read_vec8(r, 0, 255, &alpn) || !tls_reader_done(r))
        return false;
    st->psk_len = tls_reader_left(&psk);
    memcpy(st->psk, psk.p, st->psk_len);
    st->issued = (int64_t)(((uint64_t)hi << 32) | lo);
    memcpy(st->sni, sni.p, tls_reader_left(&sni));
    st->sni[tls_reader_left(&sni)] = '\0';
    st->alpn[0] = (uint8_t)tls_reader_left(&alpn);
    memcpy(st->alpn + 1, alpn.p, st->alpn[0]);
    return true;
}

tls_error tls__ticketer_seal(tls_ticketer *t, tls_ticket_state *st, uint8_t *out, size_t cap,
                             size_t *len)
{
    uint8_t plain[TLS_TICKET_MAX_LEN];
    tls_writer w;
    tls_error err;

    ENSURE(st->psk_len >= 1 && st->psk_len <= TLS_MAX_HASH_LEN, TLS_ERR_INTERNAL);
    st->issued = t->now();
    tls_writer_init(&w, plain, sizeof plain);
    encode_state(&w, st);
    if (!tls_writer_ok(&w) || cap < KEY_ID_LEN + TLS_AEAD_NONCE_LEN + w.len + TLS_AEAD_TAG_LEN) {
        tls__wipe(plain, sizeof plain);
        return TLS_ERR_INTERNAL;
    }
    err = tls__random(out + KEY_ID_LEN, TLS_AEAD_NONCE_LEN);
    pthread_mutex_lock(&t->lock);
    if (err == TLS_OK)
        err = rotate(t);
    if (err == TLS_OK) {
        memcpy(out, t->cur.id, KEY_ID_LEN);
        err = tls__aead_seal(t->cur.aead, out + KEY_ID_LEN, out, KEY_ID_LEN, plain, w.len,
                             out + KEY_ID_LEN + TLS_AEAD_NONCE_LEN);
    }
    pthread_mutex_unlock(&t->lock);
    tls__wipe(plain, sizeof plain);
    *len = KEY_ID_LEN + TLS_AEAD_NONCE_LEN + w.len + TLS_AEAD_TAG_LEN;
    return err;
}

tls_error tls__ticketer_open(tls_ticketer *t, const uint8_t *ticket, size_t len,
                             tls_ticket_state *st)
{
    uint8_t plain[TLS_TICKET_MAX_LEN];
    size_t plain_len;
    tls_reader r;
    tls_error err = TLS_ERR_DECRYPT;

    memset(st, 0, sizeof *st);
    if (len < KEY_ID_LEN + TLS_AEAD_NONCE_LEN + TLS_AEAD_TAG_LEN || len > TLS_TICKET_MAX_LEN)
        return TLS_ERR_DECRYPT;
    plain_len = len - KEY_ID_LEN - TLS_AEAD_NONCE_LEN - TLS_AEAD_TAG_LEN;
    pthread_mutex_lock(&t->lock);
    if (rotate(t) == TLS_OK) {
        ticket_key *k = NULL;
        if (t->cur.aead && !memcmp(ticket, t->cur.id, KEY_ID_LEN))
            k = &t->cur;
        else if (t->prev.aead && !memcmp(ticket, t->prev.id, KEY_ID_LEN))
            k = &t->prev;
        if (k)
            err = tls__aead_open(k->aead, ticket + KEY_ID_LEN, ticket, KEY_ID_LEN,
                                 ticket + KEY_ID_LEN + TLS_AEAD_NONCE_LEN,
                                 len - KEY_ID_LEN - TLS_AEAD_NONCE_LEN, plain);
    }
    pthread_mutex_unlock(&t->lock);
    if (err == TLS_OK) {
        tls_reader_init(&r, plain, plain_len);
        if (!decode_state(&r, st))
            err = TLS_ERR_DECRYPT;
    }
    if (err != TLS_OK) {
        err = TLS_ERR_DECRYPT;
        tls__wipe(st, sizeof *st);
    }
    tls__wipe(plain, sizeof plain);
    return err;
}
