/*
 * engine_moat.c — the engine (tls/) as a bench_impl: an engine client and an engine
 * server in one thread, bytes moved between them through memory.
 *
 * Bytes move without an intermediate buffer during the handshake (peek_tls of one
 * side straight into read_tls of the other). Bulk data goes through a "wire" buffer
 * of up to 1 MiB instead, so that the sender's and the receiver's work can be timed
 * as two blocks: the server writes 16 KiB at a time and copies its TLS bytes out
 * (tls_conn_write_tls, as a proxy hands them to a socket), then the client reads them
 * in, processes and reads the plaintext out.
 */
#include "engine.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "tls/tls.h"

#define RECORD 16384
#define PHASE_RECORDS 64
/* A record as sent: header, TLS 1.2 explicit nonce, plaintext, inner type, tag. */
#define WIRE_CAP (PHASE_RECORDS * (RECORD + 5 + 8 + 1 + 16 + 256))

typedef struct {
    bench_params p;
    bench_resumption res;
    uint16_t groups[2];
    size_t n_groups;
    tls_certified_key *ck;
    tls_root_store *roots;
    tls_server_config *scfg;
    tls_client_config *ccfg;
    tls_client_session_store *store;
} moat_ctx;

typedef struct {
    tls_conn *c, *s;
    uint8_t *wire; /* bulk pairs only */
} moat_pair;

static void *counting_alloc(void *arg, size_t size)
{
    (void)arg;
    void *p = malloc(size);
    if (p)
        bench_counter_add(&bench_hook, (int64_t)size);
    return p;
}

static void counting_free(void *arg, void *p, size_t size)
{
    (void)arg;
    if (p) {
        bench_counter_add(&bench_hook, -(int64_t)size);
        free(p);
    }
}

void bench_moat_init(void)
{
    static const tls_allocator a = {counting_alloc, counting_free, NULL};
    tls_set_allocator(&a);
}

static void moat_ctx_free(void *v)
{
    moat_ctx *x = v;
    if (!x)
        return;
    tls_server_config_unref(x->scfg);
    tls_client_config_unref(x->ccfg);
    tls_client_session_store_unref(x->store);
    tls_certified_key_unref(x->ck);
    tls_root_store_unref(x->roots);
    free(x);
}

static void *moat_ctx_new(const bench_params *p, bench_resumption res, char *err, size_t errlen)
{
    moat_ctx *x = calloc(1, sizeof *x);
    char chain[256], key[256], ca[256], why[256] = "";
    tls_error e;

    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->p = *p;
    x->res = res;
    x->n_groups = bench_groups(p, x->groups);
    snprintf(chain, sizeof chain, "tests/certs/%s/end.fullchain", bench_key_dir[p->key]);
    snprintf(key, sizeof key, "tests/certs/%s/end.key", bench_key_dir[p->key]);
    snprintf(ca, sizeof ca, "tests/certs/%s/ca.cert", bench_key_dir[p->key]);
    if ((e = tls_certified_key_load(chain, key, &x->ck, why, sizeof why)) != TLS_OK ||
        (e = tls_root_store_load(ca, &x->roots, why, sizeof why)) != TLS_OK)
        goto fail;

    tls_server_config_params sp = {
        .versions = &x->p.version,
        .n_versions = 1,
        .cipher_suites = &x->p.suite,
        .n_cipher_suites = 1,
        .groups = x->groups,
        .n_groups = x->n_groups,
        .certs = &x->ck,
        .n_certs = 1,
    };
    tls_client_config_params cp = {
        .versions = &x->p.version,
        .n_versions = 1,
        .cipher_suites = &x->p.suite,
        .n_cipher_suites = 1,
        .groups = x->groups,
        .n_groups = x->n_groups,
        .roots = x->roots,
    };
    switch (res) {
    case RES_NONE:
        break;
    case RES_TICKET13:
    case RES_TICKET12:
        sp.tickets = true;
        sp.n_tickets = 1; /* as OpenSSL is set up: one ticket per handshake */
        break;
    case RES_STATEFUL13:
    case RES_ID12:
        sp.session_cache_size = 1024;
        sp.n_tickets = 1;
        cp.no_tickets = res == RES_ID12;
        break;
    default:
        abort();
    }
    if (res != RES_NONE) {
        if ((e = tls_client_session_store_new(16, &x->store)) != TLS_OK)
            goto fail;
        cp.sessions = x->store;
    }
    if ((e = tls_server_config_new(&sp, &x->scfg, why, sizeof why)) != TLS_OK ||
        (e = tls_client_config_new(&cp, &x->ccfg, why, sizeof why)) != TLS_OK)
        goto fail;
    return x;

fail:
    snprintf(err, errlen, "%s (%s)", tls_error_name(e), why);
    moat_ctx_free(x);
    return NULL;
}

/* from -> to: 1 moved, 0 nothing to move, -1 error (err set). */
static int move(tls_conn *from, int from_side, tls_conn *to, int to_side, bench_clock *k,
                tls_error *err)
{
    size_t len = 0, consumed = 0;
    bench_side = from_side;
    const uint8_t *bytes = tls_conn_peek_tls(from, &len);
    if (!len)
        return 0;
    bench_side = to_side;
    tls_error e = tls_conn_read_tls(to, bytes, len, &consumed);
    if (e == TLS_OK)
        e = tls_conn_process(to);
    bench_clock_charge(k, to_side);
    bench_side = from_side;
    tls_conn_consume_tls(from, consumed);
    bench_clock_charge(k, from_side);
    bench_side = SIDE_NONE;
    if (e != TLS_OK) {
        *err = e;
        return -1;
    }
    return consumed > 0;
}

static void moat_pair_free(void *v, double t[SIDE_COUNT])
{
    moat_pair *pr = v;
    bench_clock k;
    if (!pr)
        return;
    bench_clock_start(&k, t);
    bench_side = SIDE_CLIENT;
    tls_conn_free(pr->c);
    bench_clock_charge(&k, SIDE_CLIENT);
    bench_side = SIDE_SERVER;
    tls_conn_free(pr->s);
    bench_clock_charge(&k, SIDE_SERVER);
    bench_side = SIDE_NONE;
    free(pr->wire);
    free(pr);
}

static void *moat_pair_new(void *v, bool bulk, double t[SIDE_COUNT], char *err, size_t errlen)
{
    moat_ctx *x = v;
    moat_pair *pr = calloc(1, sizeof *pr);
    double ignore[SIDE_COUNT] = {0};
    tls_error e = TLS_OK;
    const char *who = "client";
    bench_clock k;

    if (!pr || (bulk && !(pr->wire = malloc(WIRE_CAP)))) {
        snprintf(err, errlen, "out of memory");
        free(pr);
        return NULL;
    }
    bench_clock_start(&k, t);
    bench_side = SIDE_CLIENT;
    e = tls_client_conn_new(x->ccfg, "localhost", &pr->c);
    bench_clock_charge(&k, SIDE_CLIENT);
    if (e == TLS_OK) {
        who = "server";
        bench_side = SIDE_SERVER;
        e = tls_server_conn_new(x->scfg, &pr->s);
        bench_clock_charge(&k, SIDE_SERVER);
    }
    bench_side = SIDE_NONE;
    for (int m1 = 1, m2 = 1; e == TLS_OK && (m1 || m2);) {
        who = "server";
        m1 = move(pr->c, SIDE_CLIENT, pr->s, SIDE_SERVER, &k, &e);
        if (m1 >= 0) {
            who = "client";
            m2 = move(pr->s, SIDE_SERVER, pr->c, SIDE_CLIENT, &k, &e);
        }
    }
    if (e == TLS_OK && (tls_conn_is_handshaking(pr->c) || tls_conn_is_handshaking(pr->s))) {
        snprintf(err, errlen, "handshake stalled");
        moat_pair_free(pr, ignore);
        return NULL;
    }
    if (e != TLS_OK) {
        snprintf(err, errlen, "%s: %s", who, tls_error_name(e));
        moat_pair_free(pr, ignore);
        return NULL;
    }
    return pr;
}

static void moat_pair_neg(void *v, bench_neg *neg)
{
    moat_pair *pr = v;
    neg->version = tls_conn_version(pr->c);
    neg->suite = tls_conn_cipher_suite(pr->c);
    neg->group = tls_conn_group(pr->c);
    neg->sig_scheme = tls_conn_sig_scheme(pr->c);
    neg->resumed = tls_conn_resumed(pr->c) && tls_conn_resumed(pr->s);
}

static bool moat_transfer(void *v, uint64_t bytes, double t[SIDE_COUNT], char *err, size_t errlen)
{
    moat_pair *pr = v;
    static uint8_t src[RECORD], dst[64 * 1024];
    bench_clock k;
    tls_error e = TLS_OK;

    if (!pr->wire) {
        snprintf(err, errlen, "not a bulk pair");
        return false;
    }
    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (uint8_t)(i * 31 + 7);
    bench_clock_start(&k, t);
    while (bytes > 0) {
        uint64_t records = (bytes + RECORD - 1) / RECORD;
        if (records > PHASE_RECORDS)
            records = PHASE_RECORDS;
        uint64_t phase = records * RECORD < bytes ? records * RECORD : bytes;
        size_t wlen = 0, off = 0;
        uint64_t sent = 0, got = 0;

        bench_side = SIDE_SERVER;
        k.last = bench_cpu();
        while (sent < phase && e == TLS_OK) {
            size_t want = phase - sent < RECORD ? (size_t)(phase - sent) : RECORD, n = 0, out;
            e = tls_conn_write(pr->s, src, want, &n);
            sent += n;
            while ((out = tls_conn_write_tls(pr->s, pr->wire + wlen, WIRE_CAP - wlen)) > 0)
                wlen += out;
            if (e == TLS_OK && n == 0) {
                snprintf(err, errlen, "write accepted nothing (%zu bytes on the wire)", wlen);
                bench_side = SIDE_NONE;
                return false;
            }
        }
        bench_clock_charge(&k, SIDE_SERVER);

        bench_side = SIDE_CLIENT;
        while (e == TLS_OK && (off < wlen || got < sent)) {
            size_t consumed = 0, n;
            if (off < wlen)
                e = tls_conn_read_tls(pr->c, pr->wire + off, wlen - off, &consumed);
            off += consumed;
            if (e == TLS_OK)
                e = tls_conn_process(pr->c);
            size_t before = got;
            do {
                n = 0;
                if (e == TLS_OK)
                    e = tls_conn_read(pr->c, dst, sizeof dst, &n);
                got += n;
            } while (n);
            if (e == TLS_OK && consumed == 0 && got == before) {
                snprintf(err, errlen, "transfer stalled at %llu of %llu bytes",
                         (unsigned long long)got, (unsigned long long)sent);
                bench_side = SIDE_NONE;
                return false;
            }
        }
        bench_clock_charge(&k, SIDE_CLIENT);
        bench_side = SIDE_NONE;
        if (e != TLS_OK) {
            snprintf(err, errlen, "transfer: %s", tls_error_name(e));
            return false;
        }
        bytes -= phase;
    }
    return true;
}

const bench_impl bench_moat = {
    .name = "moat",
    .ctx_new = moat_ctx_new,
    .ctx_free = moat_ctx_free,
    .pair_new = moat_pair_new,
    .pair_neg = moat_pair_neg,
    .pair_free = moat_pair_free,
    .transfer = moat_transfer,
};
