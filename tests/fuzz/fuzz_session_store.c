/*
 * fuzz_session_store.c — the client session store's file loader
 * (tls_client_session_store_load, what `tlsclient --cache FILE` reads at start).
 *
 * The input is the file (written 0600 to a temporary file). When it loads:
 * - save, load the saved file into a fresh store and save again: the two saved files
 *   must be identical (the format round-trips what the store keeps);
 * - a client connection to "localhost" (the name the seeds use) takes what was loaded
 *   and writes its ClientHello, so stored TLS 1.3 tickets (binders, 0-RTT) and TLS 1.2
 *   sessions are offered.
 * The clock stands at FUZZ_NOW, so which entries are live is decided by the input alone.
 */
#include "tests/fuzz/fuzz.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "tls/tls.h"

static char save_a[96], save_b[96];

static void cleanup(void)
{
    unlink(save_a);
    unlink(save_b);
}

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    (void)argc;
    (void)argv;
    snprintf(save_a, sizeof save_a, "%s/moat-fuzz-sessions-a-%d", dir, (int)getpid());
    snprintf(save_b, sizeof save_b, "%s/moat-fuzz-sessions-b-%d", dir, (int)getpid());
    atexit(cleanup);
    return 0;
}

static uint8_t *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    FUZZ_CHECK(f != NULL);
    fseek(f, 0, SEEK_END);
    n = ftell(f);
    fseek(f, 0, SEEK_SET);
    FUZZ_CHECK(n >= 0);
    buf = malloc((size_t)n + 1);
    FUZZ_CHECK(buf != NULL);
    *len = fread(buf, 1, (size_t)n, f);
    fclose(f);
    return buf;
}

static void offer(tls_client_session_store *store, bool early)
{
    tls_client_config_params p;
    tls_client_config *cfg = NULL;
    tls_conn *conn = NULL;
    uint8_t out[4096];
    char err[256];

    memset(&p, 0, sizeof p);
    p.sessions = store;
    p.enable_early_data = early;
    if (tls_client_config_new_dangerous_unverified(&p, &cfg, err, sizeof err) != TLS_OK)
        return;
    if (tls_client_conn_new(cfg, "localhost", &conn) == TLS_OK) {
        size_t cap = tls_conn_early_data_capacity(conn), w = 0;
        if (cap) {
            tls_error e = tls_conn_write_early_data(conn, (const uint8_t *)"early", 5, &w);
            FUZZ_CHECK(e == TLS_OK && w <= cap);
        }
        while (tls_conn_write_tls(conn, out, sizeof out) > 0)
            ;
        tls_conn_free(conn);
    }
    tls_client_config_unref(cfg);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    tls_client_session_store *st = NULL, *st2 = NULL;
    char err[256];

    fuzz_clock_set(FUZZ_NOW);
    fuzz_rng_reset(FUZZ_RNG_CLIENT, 3);
    if (tls_client_session_store_new(8, &st) != TLS_OK)
        abort();
    const char *path = fuzz_tmpfile(0, data, size, 0600);
    tls_error rc = tls_client_session_store_load(st, path, err, sizeof err);
    FUZZ_CHECK(memchr(err, '\0', sizeof err) != NULL);
    if (rc != TLS_OK) {
        FUZZ_CHECK(rc == TLS_ERR_SESSION_FILE || rc == TLS_ERR_NO_MEMORY);
        tls_client_session_store_unref(st);
        return 0;
    }
    if (tls_client_session_store_save(st, save_a, err, sizeof err) == TLS_OK) {
        if (tls_client_session_store_new(8, &st2) != TLS_OK)
            abort();
        FUZZ_CHECK(tls_client_session_store_load(st2, save_a, err, sizeof err) == TLS_OK);
        FUZZ_CHECK(tls_client_session_store_save(st2, save_b, err, sizeof err) == TLS_OK);
        size_t la, lb;
        uint8_t *a = slurp(save_a, &la), *b = slurp(save_b, &lb);
        FUZZ_CHECK(la == lb && memcmp(a, b, la) == 0);
        free(a);
        free(b);
        tls_client_session_store_unref(st2);
    }
    offer(st, true);
    offer(st, false);
    tls_client_session_store_unref(st);
    return 0;
}
