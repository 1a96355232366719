/*
 * ticket.c — the session ticketer: AES-256-GCM keys that rotate on a schedule or come
 * from a fleet's key file, and the 0-RTT anti-replay record.
 *
 * Implementation notes:
 * - keys[0] seals; every key with an aead opens (matched by id; a ticket whose id
 *   several keys share is tried under each of them).
 * - Random keys (rotate_s >= 1): keys[0] is `cur`, keys[1] is `prev`. Time is cut into
 *   periods of rotate_s seconds counted from the ticketer's birth. `cur` seals during
 *   its period; when the clock moves into the next period it becomes `prev` (opens
 *   only) and a fresh `cur` is made; two or more periods on, both are replaced.
 *   Rotation happens lazily, under the mutex, on seal and open.
 * - File keys (rotate_s == 0): keys[0..n_keys) in file order, never rotated. From a
 *   file key K: PRK = HKDF-Extract(salt = "moat ticket key v1", K); the key id is
 *   HKDF-Expand(PRK, "moat ticket key id", 4) and the AEAD key HKDF-Expand(PRK,
 *   "moat ticket aead key", 32). Changing a label changes every fleet's ids: don't.
 * - The mbedTLS GCM context keeps per-operation state, so the AEADs are used under
 *   the mutex too; a seal or an open is a few microseconds.
 * - Plaintext (format 4): u8 format, u16 protocol version, u16 suite, vec8 psk (1..64),
 *   u8 ems (0/1), u32 issued_hi, u32 issued_lo, u32 origin_hi, u32 origin_lo, u32
 *   age_add, u32 lifetime, u32 max_early_data, vec8 sni, vec8 alpn name, vec16 client
 *   chain (0..TLS_TICKET_MAX_CLIENT_CHAIN: u24-length certificates, format 4's
 *   addition for mTLS). Older formats no longer open: their clients do one full
 *   handshake. The plaintext lives in a stack buffer wiped before return.
 * - The 0-RTT record is a chained hash table over a fixed pool of
 *   TLS_TICKET_EARLY_RECORD_SIZE nodes: buckets by the fingerprint's first bytes (a
 *   SHA-256, so uniform), expired nodes unlinked to the free list whenever a walk
 *   meets them, and when the free list is empty one sweep of the whole table per
 *   distinct clock second (a second sweep at the same second could free nothing).
 *   A claim is therefore O(chain) except for the sweeps, and fails closed only when
 *   every node holds a live fingerprint.
 */
#include "ticket.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#define TICKET_VERSION 4
#define KEY_ID_LEN 4
#define KEY_LEN 32
#define MAX_KEYS 16        /* in a key file; tls.h promises 1 to 16 */
#define KEY_FILE_MAX 65536 /* bytes: 16 keys and plenty of comments */
#define TLS12_MASTER_SECRET_LEN 48

#define EARLY_N TLS_TICKET_EARLY_RECORD_SIZE
#define EARLY_NONE UINT16_MAX
_Static_assert(EARLY_N < EARLY_NONE, "node indices are u16");

typedef struct {
    uint8_t id[KEY_ID_LEN];
    tls_aead *aead; /* NULL: no key */
} ticket_key;

typedef struct {
    uint8_t fp[32];
    int64_t expires;
    uint16_t next; /* in its bucket's chain or in the free list */
} early_node;

typedef struct {
    uint16_t head[EARLY_N]; /* per bucket */
    uint16_t free;
    int64_t last_sweep; /* clock second of the last full sweep */
    early_node nodes[EARLY_N];
} early_record;

struct tls_ticketer {
    atomic_uint refs;
    pthread_mutex_t lock;
    tls_ticket_clock_fn now;
    unsigned rotate_s; /* 0: keys from a file, never rotated */
    int64_t born;
    int64_t period; /* of keys[0], when rotating */
    ticket_key keys[MAX_KEYS];
    size_t n_keys;
    early_record *early; /* NULL until the first claim */
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

/* A file key's id and AEAD key (see the notes above). */
static tls_error key_derive(ticket_key *k, const uint8_t file_key[KEY_LEN])
{
    static const char salt[] = "moat ticket key v1", id_label[] = "moat ticket key id",
                      aead_label[] = "moat ticket aead key";
    uint8_t prk[32], aead_key[KEY_LEN];
    tls_error err = tls__hkdf_extract(TLS_HASH_SHA256, (const uint8_t *)salt, sizeof salt - 1,
                                      file_key, KEY_LEN, prk);
    if (err == TLS_OK)
        err = tls__hkdf_expand(TLS_HASH_SHA256, prk, sizeof prk, (const uint8_t *)id_label,
                               sizeof id_label - 1, k->id, sizeof k->id);
    if (err == TLS_OK)
        err = tls__hkdf_expand(TLS_HASH_SHA256, prk, sizeof prk, (const uint8_t *)aead_label,
                               sizeof aead_label - 1, aead_key, sizeof aead_key);
    if (err == TLS_OK)
        err = tls__aead_new(TLS_AEAD_AES_256_GCM, aead_key, sizeof aead_key, &k->aead);
    tls__wipe(prk, sizeof prk);
    tls__wipe(aead_key, sizeof aead_key);
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
    if (t->rotate_s == 0)
        return TLS_OK;
    int64_t p = period_of(t, t->now());
    ticket_key next = {{0}, NULL};
    if (p <= t->period)
        return TLS_OK;
    TRY(key_make(&next));
    key_drop(&t->keys[1]);
    if (p == t->period + 1)
        t->keys[1] = t->keys[0];
    else
        key_drop(&t->keys[0]);
    t->keys[0] = next;
    t->period = p;
    return TLS_OK;
}

/* A ticketer with no keys yet (one reference). */
static tls_error ticketer_alloc(tls_ticket_clock_fn now, tls_ticketer **out)
{
    tls_ticketer *t = tls__calloc(sizeof *t);
    *out = NULL;
    ENSURE(t, TLS_ERR_NO_MEMORY);
    if (pthread_mutex_init(&t->lock, NULL) != 0) {
        tls__free(t, sizeof *t);
        return TLS_ERR_INTERNAL;
    }
    atomic_init(&t->refs, 1);
    t->now = now ? now : wall_clock;
    t->born = t->now();
    *out = t;
    return TLS_OK;
}

tls_error tls__ticketer_new(unsigned rotate_s, tls_ticket_clock_fn now, tls_ticketer **out)
{
    tls_ticketer *t;
    *out = NULL;
    ENSURE(rotate_s >= 1, TLS_ERR_INVALID_ARGUMENT);
    TRY(ticketer_alloc(now, &t));
    t->rotate_s = rotate_s;
    t->n_keys = 2; /* cur and prev */
    tls_error err = key_make(&t->keys[0]);
    if (err != TLS_OK) {
        tls_ticketer_unref(t);
        return err;
    }
    *out = t;
    return TLS_OK;
}

tls_error tls_ticketer_new(unsigned rotate_s, tls_ticketer **out)
{
    return tls__ticketer_new(rotate_s, NULL, out);
}

tls_ticketer *tls_ticketer_ref(tls_ticketer *t)
{
    atomic_fetch_add(&t->refs, 1);
    return t;
}

void tls_ticketer_unref(tls_ticketer *t)
{
    if (!t || atomic_fetch_sub(&t->refs, 1) != 1)
        return;
    for (size_t i = 0; i < MAX_KEYS; i++)
        key_drop(&t->keys[i]);
    tls__free(t->early, sizeof *t->early); /* fingerprints of tickets: nothing secret */
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

/* ---- the key file --------------------------------------------------------------- */

static int hex_value(uint8_t c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static bool is_blank(uint8_t c)
{
    return c == ' ' || c == '\t' || c == '\r' || c == '\v' || c == '\f';
}

/*
 * Reads the whole file into a wiped-on-free buffer. Not tls__read_file: the mode must
 * be checked on the descriptor that is read (a check by name could see another file),
 * and its errors are TLS_ERR_CERT_FILE.
 */
static tls_error read_key_file(const char *path, uint8_t *buf, size_t cap, size_t *len,
                               char *errbuf, size_t errlen)
{
    struct stat st;
    size_t used = 0;
    int fd = open(path, O_RDONLY | O_CLOEXEC | O_NOCTTY);
    tls_error err = TLS_OK;

    *len = 0;
    if (fd < 0 || fstat(fd, &st) != 0) {
        tls__set_err(errbuf, errlen, "cannot read %s: %s", path, strerror(errno));
        err = TLS_ERR_TICKET_KEY_FILE;
        goto out;
    }
    if (S_ISDIR(st.st_mode)) {
        tls__set_err(errbuf, errlen, "cannot read %s: %s", path, strerror(EISDIR));
        err = TLS_ERR_TICKET_KEY_FILE;
        goto out;
    }
    if (st.st_mode & 077) {
        tls__set_err(errbuf, errlen,
                     "%s is accessible to group or others (mode %04o): session ticket keys "
                     "decrypt every resumed session; run chmod 600 %s",
                     path, (unsigned)(st.st_mode & 07777), path);
        err = TLS_ERR_TICKET_KEY_FILE;
        goto out;
    }
    for (;;) {
        ssize_t r = read(fd, buf + used, cap - used);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            tls__set_err(errbuf, errlen, "cannot read %s: %s", path, strerror(errno));
            err = TLS_ERR_TICKET_KEY_FILE;
            goto out;
        }
        if (r == 0)
            break;
        used += (size_t)r;
        if (used == cap) {
            tls__set_err(errbuf, errlen, "%s: file too large (over %zu bytes)", path, cap - 1);
            err = TLS_ERR_TICKET_KEY_FILE;
            goto out;
        }
    }
    *len = used;
out:
    if (fd >= 0)
        close(fd);
    return err;
}

/* One key line, blanks already trimmed (col0: the column of s[0], from 1): its 32 bytes,
 * or false with what is wrong in `what`. */
static bool parse_key(const uint8_t *s, size_t len, size_t col0, uint8_t key[KEY_LEN], char *what,
                      size_t cap)
{
    for (size_t i = 0; i < len; i++) {
        if (hex_value(s[i]) >= 0)
            continue;
        if (is_blank(s[i]) || s[i] == '#')
            snprintf(what, cap,
                     "'%c' (column %zu) is not a hex digit (one key per line; comments go on "
                     "lines of their own)",
                     s[i], col0 + i);
        else if (s[i] >= 0x20 && s[i] <= 0x7e)
            snprintf(what, cap, "'%c' (column %zu) is not a hex digit", s[i], col0 + i);
        else
            snprintf(what, cap, "byte 0x%02x (column %zu) is not a hex digit", s[i], col0 + i);
        return false;
    }
    if (len != 2 * KEY_LEN) {
        snprintf(what, cap,
                 "a key is %d hex digits (32 random bytes: openssl rand -hex 32), not %zu",
                 2 * KEY_LEN, len);
        return false;
    }
    for (size_t i = 0; i < KEY_LEN; i++)
        key[i] = (uint8_t)(hex_value(s[2 * i]) << 4 | hex_value(s[2 * i + 1]));
    return true;
}

/*
 * The key file's rules (tls.h): lines end at '\n'; blanks (space, tab, CR, VT, FF)
 * around a line are ignored; a line that is then empty or starts with '#' is skipped;
 * every other line is exactly one key of 64 hex digits, either case. 1 to 16 keys, no
 * two alike. Errors name the line (an empty or key-less file: its last line).
 */
tls_error tls_ticketer_load(const char *path, tls_ticketer **out, char *errbuf, size_t errlen)
{
    uint8_t *text = NULL;
    uint8_t raw[MAX_KEYS][KEY_LEN], key[KEY_LEN];
    unsigned key_line[MAX_KEYS];
    char what[192] = "";
    size_t len = 0, n = 0, pos = 0;
    unsigned line = 0;
    tls_ticketer *t = NULL;
    tls_error err;

    *out = NULL;
    text = tls__alloc(KEY_FILE_MAX + 1);
    if (!text) {
        tls__set_err(errbuf, errlen, "%s: out of memory", path);
        return TLS_ERR_NO_MEMORY;
    }
    err = read_key_file(path, text, KEY_FILE_MAX + 1, &len, errbuf, errlen);
    if (err != TLS_OK)
        goto out;
    do {
        const uint8_t *nl = memchr(text + pos, '\n', len - pos);
        size_t line_start = pos, start = pos, end = nl ? (size_t)(nl - text) : len;
        pos = nl ? end + 1 : len;
        line++;
        while (start < end && is_blank(text[start]))
            start++;
        while (end > start && is_blank(text[end - 1]))
            end--;
        if (start == end || text[start] == '#')
            continue;
        if (!parse_key(text + start, end - start, start - line_start + 1, key, what, sizeof what)) {
            err = TLS_ERR_TICKET_KEY_PARSE;
        } else if (n == MAX_KEYS) {
            snprintf(what, sizeof what, "more than %d keys", MAX_KEYS);
            err = TLS_ERR_TICKET_KEY_PARSE;
        }
        for (size_t i = 0; err == TLS_OK && i < n; i++)
            if (!memcmp(raw[i], key, KEY_LEN)) {
                snprintf(what, sizeof what, "the same key as line %u", key_line[i]);
                err = TLS_ERR_TICKET_KEY_PARSE;
            }
        if (err != TLS_OK)
            break;
        memcpy(raw[n], key, KEY_LEN);
        key_line[n++] = line;
    } while (pos < len);
    if (err == TLS_OK && n == 0) {
        snprintf(what, sizeof what, "no key (one per line, 64 hex digits: openssl rand -hex 32)");
        err = TLS_ERR_TICKET_KEY_PARSE;
    }
    if (err != TLS_OK) {
        tls__set_err(errbuf, errlen, "%s:%u: %s", path, line, what);
        goto out;
    }
    if ((err = ticketer_alloc(NULL, &t)) != TLS_OK) {
        tls__set_err(errbuf, errlen, "%s: %s", path, tls_error_name(err));
        goto out;
    }
    t->n_keys = n;
    for (size_t i = 0; i < n && err == TLS_OK; i++)
        err = key_derive(&t->keys[i], raw[i]);
    if (err != TLS_OK) {
        tls__set_err(errbuf, errlen, "%s: cannot set up the keys (%s)", path, tls_error_name(err));
        goto out;
    }
    *out = t;
    t = NULL;
out:
    tls_ticketer_unref(t);
    tls__wipe(raw, sizeof raw);
    tls__wipe(key, sizeof key);
    tls__wipe(text, KEY_FILE_MAX + 1);
    tls__free(text, KEY_FILE_MAX + 1);
    return err;
}

/* ---- sealing and opening ------------------------------------------------------- */

static bool state_ok(const tls_ticket_state *st)
{
    if (st->psk_len < 1 || st->psk_len > TLS_MAX_HASH_LEN)
        return false;
    if (st->version == TLS_VERSION_1_2)
        return st->psk_len == TLS12_MASTER_SECRET_LEN;
    return st->version == TLS_VERSION_1_3;
}

static void encode_state(tls_writer *w, const tls_ticket_state *st)
{
    uint64_t issued = (uint64_t)st->issued;
    tls_write_u8(w, TICKET_VERSION);
    tls_write_u16(w, st->version);
    tls_write_u16(w, st->suite);
    tls_write_vec8(w, st->psk, st->psk_len);
    tls_write_u8(w, st->ems ? 1 : 0);
    tls_write_u32(w, (uint32_t)(issued >> 32));
    tls_write_u32(w, (uint32_t)issued);
    tls_write_u32(w, (uint32_t)((uint64_t)st->origin >> 32));
    tls_write_u32(w, (uint32_t)(uint64_t)st->origin);
    tls_write_u32(w, st->age_add);
    tls_write_u32(w, st->lifetime);
    tls_write_u32(w, st->max_early_data);
    tls_write_vec8(w, (const uint8_t *)st->sni, strnlen(st->sni, 255));
    tls_write_vec8(w, st->alpn + 1, st->alpn[0]);
    tls_write_vec16(w, st->client_chain, st->client_chain_len);
}

static bool decode_state(tls_reader *r, tls_ticket_state *st)
{
    uint8_t format, ems;
    uint32_t hi, lo, origin_hi, origin_lo;
    tls_reader psk, sni, alpn, chain, cert;
    if (!tls_read_u8(r, &format) || format != TICKET_VERSION || !tls_read_u16(r, &st->version) ||
        !tls_read_u16(r, &st->suite) || !tls_read_vec8(r, 1, TLS_MAX_HASH_LEN, &psk) ||
        !tls_read_u8(r, &ems) || ems > 1 || !tls_read_u32(r, &hi) || !tls_read_u32(r, &lo) ||
        !tls_read_u32(r, &origin_hi) || !tls_read_u32(r, &origin_lo) ||
        !tls_read_u32(r, &st->age_add) || !tls_read_u32(r, &st->lifetime) ||
        !tls_read_u32(r, &st->max_early_data) || !tls_read_vec8(r, 0, 255, &sni) ||
        !tls_read_vec8(r, 0, 255, &alpn) ||
        !tls_read_vec16(r, 0, TLS_TICKET_MAX_CLIENT_CHAIN, &chain) || !tls_reader_done(r))
        return false;
    st->client_chain_len = tls_reader_left(&chain);
    memcpy(st->client_chain, chain.p, st->client_chain_len);
    while (tls_reader_left(&chain))
        if (!tls_read_vec24(&chain, 1, 0xffffff, &cert))
            return false;
    st->psk_len = tls_reader_left(&psk);
    memcpy(st->psk, psk.p, st->psk_len);
    st->ems = ems == 1;
    if (!state_ok(st) || memchr(sni.p, '\0', tls_reader_left(&sni)))
        return false;
    st->issued = (int64_t)(((uint64_t)hi << 32) | lo);
    st->origin = (int64_t)(((uint64_t)origin_hi << 32) | origin_lo);
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

    *len = 0;
    ENSURE(state_ok(st), TLS_ERR_INTERNAL);
    st->issued = t->now();
    if (!st->origin)
        st->origin = st->issued;
    tls_writer_init(&w, plain, sizeof plain);
    encode_state(&w, st);
    if (!tls_writer_ok(&w) || cap < KEY_ID_LEN + TLS_AEAD_NONCE_LEN + w.len + TLS_AEAD_TAG_LEN) {
        tls__wipe(plain, w.len);
        return TLS_ERR_INTERNAL;
    }
    err = tls__random(out + KEY_ID_LEN, TLS_AEAD_NONCE_LEN);
    pthread_mutex_lock(&t->lock);
    if (err == TLS_OK)
        err = rotate(t);
    if (err == TLS_OK) {
        memcpy(out, t->keys[0].id, KEY_ID_LEN);
        err = tls__aead_seal(t->keys[0].aead, out + KEY_ID_LEN, out, KEY_ID_LEN, plain, w.len,
                             out + KEY_ID_LEN + TLS_AEAD_NONCE_LEN);
    }
    pthread_mutex_unlock(&t->lock);
    tls__wipe(plain, w.len); /* nothing was written past it */
    if (err == TLS_OK)
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
    if (rotate(t) == TLS_OK)
        for (size_t i = 0; i < t->n_keys && err != TLS_OK; i++)
            if (t->keys[i].aead && !memcmp(ticket, t->keys[i].id, KEY_ID_LEN))
                err = tls__aead_open(t->keys[i].aead, ticket + KEY_ID_LEN, ticket, KEY_ID_LEN,
                                     ticket + KEY_ID_LEN + TLS_AEAD_NONCE_LEN,
                                     len - KEY_ID_LEN - TLS_AEAD_NONCE_LEN, plain);
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
    tls__wipe(plain, plain_len); /* aead_open writes no more than that */
    return err;
}

/* ---- 0-RTT anti-replay --------------------------------------------------------- */

static early_record *early_new(void)
{
    early_record *e = tls__alloc(sizeof *e);
    if (!e)
        return NULL;
    for (size_t i = 0; i < EARLY_N; i++) {
        e->head[i] = EARLY_NONE;
        e->nodes[i].next = i + 1 < EARLY_N ? (uint16_t)(i + 1) : EARLY_NONE;
    }
    e->free = 0;
    e->last_sweep = INT64_MIN;
    return e;
}

/* Unlinks the expired nodes of one chain into the free list. */
static void early_prune(early_record *e, uint16_t *link, int64_t now)
{
    while (*link != EARLY_NONE) {
        early_node *n = &e->nodes[*link];
        if (n->expires <= now) {
            uint16_t i = *link;
            *link = n->next;
            n->next = e->free;
            e->free = i;
        } else {
            link = &n->next;
        }
    }
}

bool tls__ticketer_claim_early(tls_ticketer *t, const uint8_t fingerprint[32], int64_t expires)
{
    size_t b = ((size_t)fingerprint[0] << 8 | fingerprint[1]) % EARLY_N;
    bool claimed = false;
    early_record *e;
    int64_t now;
    uint16_t i;

    pthread_mutex_lock(&t->lock);
    now = t->now();
    if (expires <= now)
        goto out;
    if (!t->early && !(t->early = early_new()))
        goto out; /* no memory: no early data */
    e = t->early;
    early_prune(e, &e->head[b], now);
    for (i = e->head[b]; i != EARLY_NONE; i = e->nodes[i].next)
        if (!memcmp(e->nodes[i].fp, fingerprint, 32))
            goto out; /* a replay */
    if (e->free == EARLY_NONE && e->last_sweep != now) {
        for (size_t j = 0; j < EARLY_N; j++)
            early_prune(e, &e->head[j], now);
        e->last_sweep = now;
    }
    if (e->free == EARLY_NONE)
        goto out; /* full of live fingerprints: fail closed */
    i = e->free;
    e->free = e->nodes[i].next;
    memcpy(e->nodes[i].fp, fingerprint, 32);
    e->nodes[i].expires = expires;
    e->nodes[i].next = e->head[b];
    e->head[b] = i;
    claimed = true;
out:
    pthread_mutex_unlock(&t->lock);
    return claimed;
}

bool tls__ticket_state_live(const tls_ticket_state *st, int64_t now)
{
    /* Compare before subtracting: issued and origin come out of a ticket, now from a
     * clock, and now - issued overflows for far-apart values (found by fuzz_ticket). */
    if (now < st->issued || now < st->origin)
        return false;
    uint64_t age = (uint64_t)now - (uint64_t)st->issued;
    uint64_t session_age = (uint64_t)now - (uint64_t)st->origin;
    return age < st->lifetime && session_age < TLS_SESSION_MAX_AGE_S;
}

bool tls__ticketer_is_shared(const tls_ticketer *t)
{
    return t->rotate_s == 0;
}
