/*
 * enginepair.c — an engine client and an engine server connected in memory (see
 * enginepair.h).
 */
#include "enginepair.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERTS "tests/certs/"

const char *const kt_dirs[KT_COUNT] = {"rsa2048", "ecdsa-p256", "ecdsa-p384"};
tls_certified_key *end_ck[KT_COUNT], *other_ck[KT_COUNT];
tls_root_store *roots[KT_COUNT];

static tls_certified_key *load(const char *dir, const char *name)
{
    char chain[256], key[256], err[256] = "";
    tls_certified_key *ck = NULL;

    snprintf(chain, sizeof chain, CERTS "%s/%s.fullchain", dir, name);
    snprintf(key, sizeof key, CERTS "%s/%s.key", dir, name);
    tls_error e = tls_certified_key_load(chain, key, &ck, err, sizeof err);
    if (e != TLS_OK) {
        fprintf(stderr, "loading %s: %s (%s)\n", chain, tls_error_name(e), err);
        abort();
    }
    return ck;
}

void engine_load_fixture(void)
{
    for (int i = 0; i < KT_COUNT; i++) {
        char path[256], err[256] = "";
        end_ck[i] = load(kt_dirs[i], "end");
        other_ck[i] = load(kt_dirs[i], "other");
        snprintf(path, sizeof path, CERTS "%s/ca.cert", kt_dirs[i]);
        tls_error e = tls_root_store_load(path, &roots[i], err, sizeof err);
        if (e != TLS_OK) {
            fprintf(stderr, "loading %s: %s (%s)\n", path, tls_error_name(e), err);
            abort();
        }
    }
}

void engine_free_fixture(void)
{
    for (int i = 0; i < KT_COUNT; i++) {
        tls_certified_key_unref(end_ck[i]);
        tls_certified_key_unref(other_ck[i]);
        tls_root_store_unref(roots[i]);
        end_ck[i] = other_ck[i] = NULL;
        roots[i] = NULL;
    }
}

tls_client_config *engine_client_config(const tls_client_config_params *p)
{
    char err[256] = "";
    tls_client_config *cfg = NULL;
    tls_error e = tls_client_config_new(p, &cfg, err, sizeof err);
    ck_assert_msg(e == TLS_OK, "client config: %s (%s)", tls_error_name(e), err);
    return cfg;
}

tls_server_config *engine_server_config(const tls_server_config_params *p)
{
    char err[256] = "";
    tls_server_config *cfg = NULL;
    tls_error e = tls_server_config_new(p, &cfg, err, sizeof err);
    ck_assert_msg(e == TLS_OK, "server config: %s (%s)", tls_error_name(e), err);
    return cfg;
}

void engine_pair_init(engine_pair *p, tls_client_config *ccfg, tls_server_config *scfg,
                      const char *name)
{
    memset(p, 0, sizeof *p);
    p->ccfg = ccfg;
    p->scfg = scfg;
    ck_assert_int_eq(tls_client_conn_new(ccfg, name, &p->c), TLS_OK);
    ck_assert_int_eq(tls_server_conn_new(scfg, &p->s), TLS_OK);
}

void engine_pair_free(engine_pair *p)
{
    tls_conn_free(p->c);
    tls_conn_free(p->s);
    tls_client_config_unref(p->ccfg);
    tls_server_config_unref(p->scfg);
    memset(p, 0, sizeof *p);
}

/* Moves from → to; false when nothing moved. Bytes for a failed side are dropped. */
static bool move(tls_conn *from, tls_conn *to, tls_error *to_err)
{
    size_t len = 0, consumed = 0;
    const uint8_t *bytes = tls_conn_peek_tls(from, &len);
    if (!len)
        return false;
    if (*to_err != TLS_OK) {
        tls_conn_consume_tls(from, len);
        return false;
    }
    tls_error e = tls_conn_read_tls(to, bytes, len, &consumed);
    tls_conn_consume_tls(from, consumed);
    if (e == TLS_OK)
        e = tls_conn_process(to);
    if (e != TLS_OK)
        *to_err = e;
    return consumed > 0;
}

void engine_shuttle(engine_pair *p)
{
    bool moved;
    do {
        moved = move(p->c, p->s, &p->serr);
        moved |= move(p->s, p->c, &p->cerr);
    } while (moved);
}

void engine_assert_ok(const engine_pair *p)
{
    ck_assert_msg(p->cerr == TLS_OK, "client: %s", tls_error_name(p->cerr));
    ck_assert_msg(p->serr == TLS_OK, "server: %s", tls_error_name(p->serr));
}

void engine_fill_pattern(uint8_t *buf, size_t n, uint32_t seed)
{
    uint32_t x = seed * 2654435761u + 1;
    for (size_t i = 0; i < n; i++) {
        x ^= x << 13;
        x ^= x >> 17;
        x ^= x << 5;
        buf[i] = (uint8_t)x;
    }
}

void engine_transfer(engine_pair *p, tls_conn *from, tls_conn *to, size_t len, uint32_t seed)
{
    uint8_t *want = malloc(len), *got = malloc(len);
    size_t sent = 0, received = 0;
    unsigned rounds = 0;

    ck_assert(want && got);
    engine_fill_pattern(want, len, seed);
    while (received < len) {
        size_t n = 0;
        if (sent < len) {
            ck_assert_int_eq(tls_conn_write(from, want + sent, len - sent, &n), TLS_OK);
            sent += n;
        }
        engine_shuttle(p);
        engine_assert_ok(p);
        do {
            ck_assert_int_eq(tls_conn_read(to, got + received, len - received, &n), TLS_OK);
            received += n;
        } while (n && received < len);
        ck_assert_msg(++rounds < 10000, "transfer stalled at %zu of %zu", received, len);
    }
    ck_assert(!memcmp(want, got, len));
    free(want);
    free(got);
}
