/*
 * client_sessions.c — the client's session store (tls_client_session_store in tls.h,
 * internals in client_sessions.h): bounded, thread-safe, persistent.
 *
 * Implementation notes:
 * - One entry per server name on a recency list (head: most recently used). Lookups
 *   are linear: a client talks to a handful of servers (tlsclient to one, moat to its
 *   backends), and max_servers bounds the walk anyway. An entry that holds nothing any
 *   more (its last ticket taken) is freed at once, so it does not occupy a slot.
 * - Everything is copied in and out under the mutex; no secret is shared between a
 *   connection and the store, so a connection never holds the lock.
 * - The file format (save/load) is binary, big-endian, versioned:
 *
 *     "MOATSESS" u8 version=1  u32 n_servers
 *     n_servers × { name<1..255>  u8 n_tickets (<= 4)  n_tickets × ticket13
 *                   u8 has_session12 (0/1)  [session12] }
 *     ticket13   = u16 suite  u16 group  psk<32..64>  ticket<1..2^16-1>  u32 age_add
 *                  u32 lifetime_s  u32 max_early_data  u64 received_ms  alpn<0..255>
 *     session12  = u16 suite  session_id<0..32>  ticket<0..2^16-1>  u32 lifetime_s
 *                  opaque master[48]  u8 ems (=1)  u64 received_ms
 *
 *   (x<a..b> is a vector with an 8-bit length prefix when b < 256, else 16-bit.)
 *   Servers are written least recently used first, so that loading, which touches
 *   each in turn, restores the order. Loading parses and validates the whole file
 *   before it changes the store: a truncated or hostile file is refused as a whole.
 */
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "client_sessions.h"

#define FILE_MAGIC "MOATSESS"
#define FILE_VERSION 1
/* Far beyond any real store (a typical ticket is ~200 bytes), yet bounded. */
#define MAX_FILE_SIZE (64u * 1024 * 1024)
/* §4.6.1: servers MUST NOT advertise more than 7 days. */
#define MAX_TICKET_LIFETIME_S 604800u

typedef struct server_entry {
    struct server_entry *prev, *next;
    char name[256];
    tls_client_ticket13 *tickets[TLS_CLIENT_TICKETS_PER_SERVER]; /* oldest first */
    size_t n_tickets;
    tls_client_session12 *session12;
} server_entry;

struct tls_client_session_store {
    atomic_uint refs;
    pthread_mutex_t lock;
    size_t max_servers, n_servers;
    server_entry *head, *tail;
};

int64_t tls__client_now_ms(void)
{
    struct timespec ts;
    if (clock_gettime(CLOCK_REALTIME, &ts) != 0)
        return 0;
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

/* ---- entries -------------------------------------------------------------------------- */

tls_client_ticket13 *tls__client_ticket13_new(size_t ticket_len)
{
    tls_client_ticket13 *t = tls__calloc(sizeof *t);
    if (!t)
        return NULL;
    if (ticket_len) {
        t->ticket = tls__alloc(ticket_len);
        if (!t->ticket) {
            tls__free(t, sizeof *t);
            return NULL;
        }
        t->ticket_len = ticket_len;
    }
    return t;
}

void tls__client_ticket13_free(tls_client_ticket13 *t)
{
    if (!t)
        return;
    if (t->ticket) {
        tls__wipe(t->ticket, t->ticket_len);
        tls__free(t->ticket, t->ticket_len);
    }
    tls__wipe(t, sizeof *t);
    tls__free(t, sizeof *t);
}

tls_client_session12 *tls__client_session12_new(size_t ticket_len)
{
    tls_client_session12 *s = tls__calloc(sizeof *s);
    if (!s)
        return NULL;
    if (ticket_len) {
        s->ticket = tls__alloc(ticket_len);
        if (!s->ticket) {
            tls__free(s, sizeof *s);
            return NULL;
        }
        s->ticket_len = ticket_len;
    }
    return s;
}

void tls__client_session12_free(tls_client_session12 *s)
{
    if (!s)
        return;
    if (s->ticket) {
        tls__wipe(s->ticket, s->ticket_len);
        tls__free(s->ticket, s->ticket_len);
    }
    tls__wipe(s, sizeof *s);
    tls__free(s, sizeof *s);
}

static tls_client_session12 *session12_copy(const tls_client_session12 *s)
{
    tls_client_session12 *copy = tls__client_session12_new(s->ticket_len);
    if (!copy)
        return NULL;
    uint8_t *ticket = copy->ticket;
    *copy = *s;
    copy->ticket = ticket;
    if (s->ticket_len)
        memcpy(copy->ticket, s->ticket, s->ticket_len);
    return copy;
}

/* An entry "received" more than this far in the future (a clock set back, or a file
 * not ours) is not trusted to be young: it is dropped. */
#define FUTURE_SLACK_MS (24 * 3600 * 1000LL)

static bool age_ok(int64_t received_ms, uint32_t lifetime_s, int64_t now_ms)
{
    int64_t age = now_ms - received_ms;
    return age > -FUTURE_SLACK_MS && age < (int64_t)lifetime_s * 1000;
}

/* §4.2.11.1: never offered once older than its lifetime. */
bool tls__client_ticket13_live(const tls_client_ticket13 *t, int64_t now_ms)
{
    return age_ok(t->received_ms, t->lifetime_s, now_ms);
}

bool tls__client_session12_live(const tls_client_session12 *s, int64_t now_ms)
{
    return age_ok(s->received_ms, s->lifetime_s, now_ms);
}

static bool entry_empty(const server_entry *e)
{
    return e->n_tickets == 0 && e->session12 == NULL;
}

static void entry_free(server_entry *e)
{
    for (size_t i = 0; i < e->n_tickets; i++)
        tls__client_ticket13_free(e->tickets[i]);
    tls__client_session12_free(e->session12);
    tls__wipe(e, sizeof *e);
    tls__free(e, sizeof *e);
}

/* Removes the ticket at index i (not freed). */
static tls_client_ticket13 *entry_remove_ticket(server_entry *e, size_t i)
{
    tls_client_ticket13 *t = e->tickets[i];
    memmove(&e->tickets[i], &e->tickets[i + 1], (e->n_tickets - i - 1) * sizeof e->tickets[0]);
    e->tickets[--e->n_tickets] = NULL;
    return t;
}

static void entry_add_ticket(server_entry *e, tls_client_ticket13 *t)
{
    if (e->n_tickets == TLS_CLIENT_TICKETS_PER_SERVER)
        tls__client_ticket13_free(entry_remove_ticket(e, 0));
    e->tickets[e->n_tickets++] = t;
}

/* ---- the recency list (lock held) -------------------------------------------------------- */

static void list_unlink(tls_client_session_store *st, server_entry *e)
{
    if (e->prev)
        e->prev->next = e->next;
    else
        st->head = e->next;
    if (e->next)
        e->next->prev = e->prev;
    else
        st->tail = e->prev;
    e->prev = e->next = NULL;
}

static void list_push_head(tls_client_session_store *st, server_entry *e)
{
    e->prev = NULL;
    e->next = st->head;
    if (st->head)
        st->head->prev = e;
    st->head = e;
    if (!st->tail)
        st->tail = e;
}

static server_entry *find(tls_client_session_store *st, const char *name)
{
    for (server_entry *e = st->head; e; e = e->next)
        if (!strcmp(e->name, name))
            return e;
    return NULL;
}

static void touch(tls_client_session_store *st, server_entry *e)
{
    if (st->head != e) {
        list_unlink(st, e);
        list_push_head(st, e);
    }
}

static void drop(tls_client_session_store *st, server_entry *e)
{
    list_unlink(st, e);
    st->n_servers--;
    entry_free(e);
}

static void drop_if_empty(tls_client_session_store *st, server_entry *e)
{
    if (entry_empty(e))
        drop(st, e);
}

/* name's entry, made (and the least recently used one evicted) if need be; it becomes
 * the most recent. NULL: out of memory, or a name too long to be one of ours. */
static server_entry *entry_for(tls_client_session_store *st, const char *name)
{
    server_entry *e = find(st, name);
    size_t n = strlen(name);

    if (e) {
        touch(st, e);
        return e;
    }
    if (n == 0 || n >= sizeof e->name)
        return NULL;
    e = tls__calloc(sizeof *e);
    if (!e)
        return NULL;
    memcpy(e->name, name, n + 1);
    if (st->n_servers == st->max_servers)
        drop(st, st->tail);
    list_push_head(st, e);
    st->n_servers++;
    return e;
}

/* ---- the store's API ------------------------------------------------------------------- */

tls_error tls_client_session_store_new(size_t max_servers, tls_client_session_store **out)
{
    tls_client_session_store *st;

    *out = NULL;
    ENSURE(max_servers > 0, TLS_ERR_INVALID_ARGUMENT);
    st = tls__calloc(sizeof *st);
    ENSURE(st, TLS_ERR_NO_MEMORY);
    if (pthread_mutex_init(&st->lock, NULL) != 0) {
        tls__free(st, sizeof *st);
        return TLS_ERR_INTERNAL;
    }
    atomic_init(&st->refs, 1);
    st->max_servers = max_servers;
    *out = st;
    return TLS_OK;
}

tls_client_session_store *tls_client_session_store_ref(tls_client_session_store *st)
{
    atomic_fetch_add(&st->refs, 1);
    return st;
}

void tls_client_session_store_unref(tls_client_session_store *st)
{
    if (!st || atomic_fetch_sub(&st->refs, 1) != 1)
        return;
    while (st->head)
        drop(st, st->head);
    pthread_mutex_destroy(&st->lock);
    tls__free(st, sizeof *st);
}

tls_client_ticket13 *
tls__client_sessions_take13(tls_client_session_store *st, const char *name, int64_t now_ms,
                            bool (*usable)(const void *arg, const tls_client_ticket13 *t),
                            const void *arg)
{
    tls_client_ticket13 *found = NULL;

    pthread_mutex_lock(&st->lock);
    server_entry *e = find(st, name);
    for (size_t i = e ? e->n_tickets : 0; i-- > 0 && !found;) {
        if (!tls__client_ticket13_live(e->tickets[i], now_ms))
            tls__client_ticket13_free(entry_remove_ticket(e, i));
        else if (usable(arg, e->tickets[i]))
            found = entry_remove_ticket(e, i);
    }
    if (e) {
        touch(st, e);
        drop_if_empty(st, e);
    }
    pthread_mutex_unlock(&st->lock);
    return found;
}

void tls__client_sessions_put13(tls_client_session_store *st, const char *name,
                                tls_client_ticket13 *t)
{
    pthread_mutex_lock(&st->lock);
    server_entry *e = entry_for(st, name);
    if (e)
        entry_add_ticket(e, t);
    else
        tls__client_ticket13_free(t);
    pthread_mutex_unlock(&st->lock);
}

tls_client_session12 *tls__client_sessions_get12(tls_client_session_store *st, const char *name,
                                                 int64_t now_ms)
{
    tls_client_session12 *copy = NULL;

    pthread_mutex_lock(&st->lock);
    server_entry *e = find(st, name);
    if (e && e->session12) {
        if (tls__client_session12_live(e->session12, now_ms)) {
            copy = session12_copy(e->session12);
        } else {
            tls__client_session12_free(e->session12);
            e->session12 = NULL;
        }
    }
    if (e) {
        touch(st, e);
        drop_if_empty(st, e);
    }
    pthread_mutex_unlock(&st->lock);
    return copy;
}

void tls__client_sessions_put12(tls_client_session_store *st, const char *name,
                                tls_client_session12 *s)
{
    pthread_mutex_lock(&st->lock);
    server_entry *e = entry_for(st, name);
    if (e) {
        tls__client_session12_free(e->session12);
        e->session12 = s;
    } else {
        tls__client_session12_free(s);
    }
    pthread_mutex_unlock(&st->lock);
}

void tls__client_sessions_forget12(tls_client_session_store *st, const char *name)
{
    pthread_mutex_lock(&st->lock);
    server_entry *e = find(st, name);
    if (e) {
        tls__client_session12_free(e->session12);
        e->session12 = NULL;
        drop_if_empty(st, e);
    }
    pthread_mutex_unlock(&st->lock);
}

bool tls__client_sessions_peek(tls_client_session_store *st, const char *name, size_t *n_tickets13,
                               bool *has_session12)
{
    pthread_mutex_lock(&st->lock);
    server_entry *e = find(st, name);
    *n_tickets13 = e ? e->n_tickets : 0;
    *has_session12 = e && e->session12;
    pthread_mutex_unlock(&st->lock);
    return e != NULL;
}

/* ---- the file format ----------------------------------------------------------------- */

static void write_u64(tls_writer *w, int64_t v)
{
    tls_write_u32(w, (uint32_t)((uint64_t)v >> 32));
    tls_write_u32(w, (uint32_t)(uint64_t)v);
}

static bool read_u64(tls_reader *r, int64_t *v)
{
    uint32_t hi, lo;
    if (!tls_read_u32(r, &hi) || !tls_read_u32(r, &lo) || hi > INT32_MAX)
        return false;
    *v = (int64_t)(((uint64_t)hi << 32) | lo);
    return true;
}

static size_t ticket13_size(const tls_client_ticket13 *t)
{
    return 2 + 2 + 1 + t->psk_len + 2 + t->ticket_len + 12 + 8 + 1 + t->alpn[0];
}

static size_t session12_size(const tls_client_session12 *s)
{
    return 2 + 1 + s->session_id_len + 2 + s->ticket_len + 4 + TLS12_MASTER_SECRET_LEN + 1 + 8;
}

static void write_ticket13(tls_writer *w, const tls_client_ticket13 *t)
{
    tls_write_u16(w, t->suite);
    tls_write_u16(w, t->group);
    tls_write_vec8(w, t->psk, t->psk_len);
    tls_write_vec16(w, t->ticket, t->ticket_len);
    tls_write_u32(w, t->age_add);
    tls_write_u32(w, t->lifetime_s);
    tls_write_u32(w, t->max_early_data);
    write_u64(w, t->received_ms);
    tls_write_bytes(w, t->alpn, (size_t)t->alpn[0] + 1);
}

static void write_session12(tls_writer *w, const tls_client_session12 *s)
{
    tls_write_u16(w, s->suite);
    tls_write_vec8(w, s->session_id, s->session_id_len);
    tls_write_vec16(w, s->ticket, s->ticket_len);
    tls_write_u32(w, s->lifetime_s);
    tls_write_bytes(w, s->master, TLS12_MASTER_SECRET_LEN);
    tls_write_u8(w, s->ems ? 1 : 0);
    write_u64(w, s->received_ms);
}

/* The whole store as a file image (tls__alloc'd, *cap bytes allocated, *len used), under
 * the lock. TLS_ERR_NO_MEMORY, TLS_ERR_INTERNAL. */
static tls_error serialize(tls_client_session_store *st, uint8_t **out, size_t *cap, size_t *len)
{
    tls_error err = TLS_OK;
    size_t size = 8 + 1 + 4;
    tls_writer w;

    pthread_mutex_lock(&st->lock);
    for (const server_entry *e = st->tail; e; e = e->prev) {
        size += 1 + strlen(e->name) + 1 + 1;
        for (size_t i = 0; i < e->n_tickets; i++)
            size += ticket13_size(e->tickets[i]);
        if (e->session12)
            size += session12_size(e->session12);
    }
    uint8_t *buf = tls__alloc(size);
    if (!buf) {
        err = TLS_ERR_NO_MEMORY;
        goto out;
    }
    tls_writer_init(&w, buf, size);
    tls_write_bytes(&w, (const uint8_t *)FILE_MAGIC, 8);
    tls_write_u8(&w, FILE_VERSION);
    tls_write_u32(&w, (uint32_t)st->n_servers);
    for (const server_entry *e = st->tail; e; e = e->prev) {
        tls_write_vec8(&w, (const uint8_t *)e->name, strlen(e->name));
        tls_write_u8(&w, (uint8_t)e->n_tickets);
        for (size_t i = 0; i < e->n_tickets; i++)
            write_ticket13(&w, e->tickets[i]);
        tls_write_u8(&w, e->session12 ? 1 : 0);
        if (e->session12)
            write_session12(&w, e->session12);
    }
    if (!tls_writer_ok(&w) || w.len != size) {
        tls__wipe(buf, size);
        tls__free(buf, size);
        err = TLS_ERR_INTERNAL;
        goto out;
    }
    *out = buf;
    *cap = size;
    *len = w.len;
out:
    pthread_mutex_unlock(&st->lock);
    return err;
}

/* A server name as conn->server_name holds them: printable ASCII, no spaces. */
static bool name_ok(const tls_reader *name, char out[256])
{
    size_t n = tls_reader_left(name);
    for (size_t i = 0; i < n; i++)
        if (name->p[i] < 0x21 || name->p[i] > 0x7e)
            return false;
    memcpy(out, name->p, n);
    out[n] = '\0';
    return n > 0;
}

static tls_client_ticket13 *read_ticket13(tls_reader *r)
{
    tls_reader psk, ticket, alpn;
    uint16_t suite_id, group;
    uint32_t age_add, lifetime, max_early;
    int64_t received;

    if (!tls_read_u16(r, &suite_id) || !tls_read_u16(r, &group) ||
        !tls_read_vec8(r, 32, TLS_MAX_HASH_LEN, &psk) || !tls_read_vec16(r, 1, 0xffff, &ticket) ||
        !tls_read_u32(r, &age_add) || !tls_read_u32(r, &lifetime) || !tls_read_u32(r, &max_early) ||
        !read_u64(r, &received) || !tls_read_vec8(r, 0, 255, &alpn))
        return NULL;
    const tls_suite *suite = tls__suite_find(suite_id);
    if (!suite || suite->version != TLS_VERSION_1_3 ||
        tls_reader_left(&psk) != tls__hash_len(suite->hash) || !tls__known_group(group) ||
        lifetime > MAX_TICKET_LIFETIME_S)
        return NULL;
    tls_client_ticket13 *t = tls__client_ticket13_new(tls_reader_left(&ticket));
    if (!t)
        return NULL;
    t->suite = suite_id;
    t->group = group;
    t->psk_len = tls_reader_left(&psk);
    memcpy(t->psk, psk.p, t->psk_len);
    memcpy(t->ticket, ticket.p, t->ticket_len);
    t->age_add = age_add;
    t->lifetime_s = lifetime;
    t->max_early_data = max_early;
    t->received_ms = received;
    t->alpn[0] = (uint8_t)tls_reader_left(&alpn);
    memcpy(t->alpn + 1, alpn.p, t->alpn[0]);
    return t;
}

static tls_client_session12 *read_session12(tls_reader *r)
{
    tls_reader id, ticket;
    uint16_t suite_id;
    uint32_t lifetime;
    uint8_t master[TLS12_MASTER_SECRET_LEN], ems;
    int64_t received;
    tls_client_session12 *s = NULL;

    if (!tls_read_u16(r, &suite_id) || !tls_read_vec8(r, 0, 32, &id) ||
        !tls_read_vec16(r, 0, 0xffff, &ticket) || !tls_read_u32(r, &lifetime) ||
        !tls_read_bytes(r, master, sizeof master) || !tls_read_u8(r, &ems) ||
        !read_u64(r, &received))
        goto out;
    const tls_suite *suite = tls__suite_find(suite_id);
    /* Never a session without the extended master secret (we do not make them). */
    if (!suite || suite->version != TLS_VERSION_1_2 || ems != 1 ||
        lifetime > TLS_CLIENT_SESSION12_MAX_AGE_S ||
        (tls_reader_left(&id) == 0 && tls_reader_left(&ticket) == 0))
        goto out;
    s = tls__client_session12_new(tls_reader_left(&ticket));
    if (!s)
        goto out;
    s->suite = suite_id;
    s->session_id_len = tls_reader_left(&id);
    memcpy(s->session_id, id.p, s->session_id_len);
    if (s->ticket_len)
        memcpy(s->ticket, ticket.p, s->ticket_len);
    s->lifetime_s = lifetime;
    memcpy(s->master, master, sizeof master);
    s->ems = true;
    s->received_ms = received;
out:
    tls__wipe(master, sizeof master);
    return s;
}

/* A parsed file: servers in file order. */
typedef struct {
    server_entry **servers;
    size_t n, cap;
} parsed_file;

static void parsed_free(parsed_file *pf)
{
    for (size_t i = 0; i < pf->n; i++)
        entry_free(pf->servers[i]);
    tls__free(pf->servers, pf->cap * sizeof *pf->servers);
    memset(pf, 0, sizeof *pf);
}

/* Parses a whole file image. TLS_ERR_SESSION_FILE (with where it went wrong in *what),
 * TLS_ERR_NO_MEMORY. */
static tls_error parse_file(const uint8_t *data, size_t len, parsed_file *pf, const char **what)
{
    tls_reader r, name;
    uint8_t version, n_tickets, has12;
    uint32_t n_servers;
    const uint8_t *magic;

    memset(pf, 0, sizeof *pf);
    tls_reader_init(&r, data, len);
    *what = "not a session file";
    ENSURE(tls_read_slice(&r, 8, &magic) && !memcmp(magic, FILE_MAGIC, 8), TLS_ERR_SESSION_FILE);
    *what = "session file of an unknown version";
    ENSURE(tls_read_u8(&r, &version) && version == FILE_VERSION, TLS_ERR_SESSION_FILE);
    *what = "truncated or malformed session file";
    ENSURE(tls_read_u32(&r, &n_servers), TLS_ERR_SESSION_FILE);
    /* Each server takes at least 4 bytes: a count beyond that is a lie. */
    ENSURE(n_servers <= tls_reader_left(&r) / 4, TLS_ERR_SESSION_FILE);
    if (n_servers) {
        pf->servers = tls__calloc(n_servers * sizeof *pf->servers);
        ENSURE(pf->servers, TLS_ERR_NO_MEMORY);
        pf->cap = n_servers;
    }
    for (uint32_t i = 0; i < n_servers; i++) {
        server_entry *e = tls__calloc(sizeof *e);
        ENSURE(e, TLS_ERR_NO_MEMORY);
        pf->servers[pf->n++] = e;
        ENSURE(tls_read_vec8(&r, 1, 255, &name) && name_ok(&name, e->name) &&
                   tls_read_u8(&r, &n_tickets) && n_tickets <= TLS_CLIENT_TICKETS_PER_SERVER,
               TLS_ERR_SESSION_FILE);
        for (uint8_t k = 0; k < n_tickets; k++) {
            tls_client_ticket13 *t = read_ticket13(&r);
            ENSURE(t, TLS_ERR_SESSION_FILE);
            e->tickets[e->n_tickets++] = t;
        }
        ENSURE(tls_read_u8(&r, &has12) && has12 <= 1, TLS_ERR_SESSION_FILE);
        if (has12)
            ENSURE((e->session12 = read_session12(&r)) != NULL, TLS_ERR_SESSION_FILE);
    }
    ENSURE(tls_reader_done(&r), TLS_ERR_SESSION_FILE);
    return TLS_OK;
}

/* Moves what is live of a parsed file into the store. */
static void merge(tls_client_session_store *st, parsed_file *pf, int64_t now_ms)
{
    pthread_mutex_lock(&st->lock);
    for (size_t i = 0; i < pf->n; i++) {
        server_entry *in = pf->servers[i];
        bool any = in->session12 && tls__client_session12_live(in->session12, now_ms);
        for (size_t k = 0; k < in->n_tickets; k++)
            any |= tls__client_ticket13_live(in->tickets[k], now_ms);
        server_entry *e = any ? entry_for(st, in->name) : NULL;
        if (!e)
            continue;
        for (size_t k = 0; k < in->n_tickets; k++) {
            if (tls__client_ticket13_live(in->tickets[k], now_ms)) {
                entry_add_ticket(e, in->tickets[k]);
                in->tickets[k] = NULL;
            }
        }
        if (in->session12 && tls__client_session12_live(in->session12, now_ms)) {
            tls__client_session12_free(e->session12);
            e->session12 = in->session12;
            in->session12 = NULL;
        }
        /* What was moved is NULL now; entry_free skips nothing it should free. */
        size_t kept = 0;
        for (size_t k = 0; k < in->n_tickets; k++)
            if (in->tickets[k])
                in->tickets[kept++] = in->tickets[k];
        in->n_tickets = kept;
    }
    pthread_mutex_unlock(&st->lock);
}

tls_error tls_client_session_store_load(tls_client_session_store *st, const char *path,
                                        char *errbuf, size_t errlen)
{
    uint8_t *data = NULL;
    size_t cap = 0, len = 0;
    struct stat sb;
    parsed_file pf;
    const char *what = "";
    char sentence[256] = "";

    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (stat(path, &sb) != 0 && errno == ENOENT)
        return TLS_OK; /* nothing saved yet */
    tls_error err =
        tls__read_file(path, MAX_FILE_SIZE, &data, &cap, &len, sentence, sizeof sentence);
    if (err != TLS_OK) {
        tls__set_err(errbuf, errlen, "%s", sentence);
        return err == TLS_ERR_NO_MEMORY ? err : TLS_ERR_SESSION_FILE;
    }
    /* tls__read_file counts the NUL it appends. */
    err = parse_file(data, len - 1, &pf, &what);
    tls__wipe(data, cap);
    tls__free(data, cap);
    if (err == TLS_OK)
        merge(st, &pf, tls__client_now_ms());
    else if (err == TLS_ERR_SESSION_FILE)
        tls__set_err(errbuf, errlen, "%s: %s", path, what);
    else
        tls__set_err(errbuf, errlen, "%s: out of memory", path);
    parsed_free(&pf);
    return err;
}

static bool write_all(int fd, const uint8_t *p, size_t len)
{
    while (len) {
        ssize_t n = write(fd, p, len);
        if (n < 0 && errno == EINTR)
            continue;
        if (n <= 0)
            return false;
        p += n;
        len -= (size_t)n;
    }
    return true;
}

tls_error tls_client_session_store_save(tls_client_session_store *st, const char *path,
                                        char *errbuf, size_t errlen)
{
    uint8_t *data = NULL;
    size_t cap = 0, len = 0;
    char tmp[PATH_MAX];
    int fd = -1;

    if (errbuf && errlen)
        errbuf[0] = '\0';
    if (snprintf(tmp, sizeof tmp, "%s.XXXXXX", path) >= (int)sizeof tmp) {
        tls__set_err(errbuf, errlen, "%s: path too long", path);
        return TLS_ERR_SESSION_FILE;
    }
    tls_error err = serialize(st, &data, &cap, &len);
    if (err != TLS_OK) {
        tls__set_err(errbuf, errlen, "%s: cannot serialize the store (%s)", path,
                     tls_error_name(err));
        return err;
    }
    /* mkstemp creates the file 0600: the secrets are never readable by others. */
    fd = mkstemp(tmp);
    if (fd < 0) {
        tls__set_err(errbuf, errlen, "cannot create %s: %s", tmp, strerror(errno));
        err = TLS_ERR_SESSION_FILE;
        goto out;
    }
    if (fchmod(fd, S_IRUSR | S_IWUSR) != 0 || !write_all(fd, data, len) || fsync(fd) != 0) {
        tls__set_err(errbuf, errlen, "cannot write %s: %s", tmp, strerror(errno));
        err = TLS_ERR_SESSION_FILE;
    }
    if (close(fd) != 0 && err == TLS_OK) {
        tls__set_err(errbuf, errlen, "cannot write %s: %s", tmp, strerror(errno));
        err = TLS_ERR_SESSION_FILE;
    }
    if (err == TLS_OK && rename(tmp, path) != 0) {
        tls__set_err(errbuf, errlen, "cannot rename %s to %s: %s", tmp, path, strerror(errno));
        err = TLS_ERR_SESSION_FILE;
    }
    if (err != TLS_OK)
        unlink(tmp);
out:
    tls__wipe(data, cap);
    tls__free(data, cap);
    return err;
}
