/*
 * fuzz_certkey.c — certificate and key loading: tls_certified_key_parse (PEM or DER
 * chain and private key, mbedTLS's parsers behind our checks) and root stores from a
 * PEM file.
 *
 * Input: byte 0 picks the mode (modulo 3), the rest is:
 *   0  a chain and a key separated by SEP (a fullchain PEM, SEP, a key PEM, as the seeds
 *      have it); a certified key that loads must build a server config and answer
 *      tls_certified_key_covers for a few names;
 *   1  a root store file (written to a temporary file) for tls_root_store_load; a store
 *      that loads verifies the test P-256 chain (it may well refuse it);
 *   2  the same through the tolerant bundle loader (tls__root_store_load_bundle: what
 *      the system store uses).
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "tls/internal.h"
#include "tls/verify.h"

static const uint8_t SEP[] = "\n==KEY==\n";

/* The test P-256 chain in DER (end entity, intermediate), from its certified key. */
static tls_certified_key *p256;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    char err[256], chain[512], key[512];
    (void)argc;
    (void)argv;
    fuzz_src_path("tests/certs/ecdsa-p256/end.fullchain", chain, sizeof chain);
    fuzz_src_path("tests/certs/ecdsa-p256/end.key", key, sizeof key);
    if (tls_certified_key_load(chain, key, &p256, err, sizeof err) != TLS_OK)
        abort();
    return 0;
}

static void check_err(const char *err, size_t cap)
{
    FUZZ_CHECK(memchr(err, '\0', cap) != NULL);
}

static void certified_key(const uint8_t *p, size_t n)
{
    static const char *const names[] = {"localhost", "LOCALHOST.", "a.wild.test", "wild.test",
                                        "*.wild.test", "example.com", "", "127.0.0.1"};
    const uint8_t *chain, *key;
    size_t chain_len, key_len;
    tls_certified_key *ck = NULL;
    char err[256];

    fuzz_split(p, n, SEP, sizeof SEP - 1, &chain, &chain_len, &key, &key_len);
    uint8_t *c = fuzz_dup(chain, chain_len), *k = fuzz_dup(key, key_len);
    tls_error rc = tls_certified_key_parse(c, chain_len, k, key_len, &ck, err, sizeof err);
    check_err(err, sizeof err);
    free(c);
    free(k);
    if (rc != TLS_OK) {
        FUZZ_CHECK(ck == NULL);
        return;
    }
    FUZZ_CHECK(ck->n_chain >= 1 && ck->n_chain <= TLS_MAX_CHAIN);
    for (size_t i = 0; i < ck->n_chain; i++)
        fuzz_consume(ck->chain[i], ck->chain_len[i]);
    for (size_t i = 0; i < ck->n_names; i++)
        FUZZ_CHECK(ck->names[i] != NULL && strlen(ck->names[i]) < 4096);
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        (void)tls_certified_key_covers(ck, names[i]);
    for (size_t i = 0; i < ck->n_names; i++)
        (void)tls_certified_key_covers(ck, ck->names[i]);

    tls_server_config *cfg = NULL;
    tls_server_config_params params;
    memset(&params, 0, sizeof params);
    params.certs = &ck;
    params.n_certs = 1;
    if (tls_server_config_new(&params, &cfg, err, sizeof err) == TLS_OK)
        tls_server_config_unref(cfg);
    check_err(err, sizeof err);
    tls_certified_key_unref(ck);
}

static void root_store(const uint8_t *p, size_t n, bool bundle)
{
    tls_root_store *roots = NULL;
    char err[256];
    const char *path = fuzz_tmpfile(0, p, n, 0600);
    tls_error rc = bundle ? tls__root_store_load_bundle(path, &roots, err, sizeof err)
                          : tls_root_store_load(path, &roots, err, sizeof err);
    check_err(err, sizeof err);
    if (rc != TLS_OK) {
        FUZZ_CHECK(roots == NULL);
        return;
    }
    const uint8_t *chain[TLS_MAX_CHAIN];
    for (size_t i = 0; i < p256->n_chain; i++)
        chain[i] = p256->chain[i];
    rc = tls_verify_server_cert(roots, chain, p256->chain_len, p256->n_chain, "localhost",
                                FUZZ_NOW);
    (void)tls_error_name(rc);
    tls_root_store_unref(roots);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (size < 1)
        return 0;
    fuzz_clock_set(FUZZ_NOW);
    fuzz_rng_reset(FUZZ_RNG_OTHER, 11);
    switch (data[0] % 3) {
    case 0:
        certified_key(data + 1, size - 1);
        break;
    case 1:
        root_store(data + 1, size - 1, false);
        break;
    default:
        root_store(data + 1, size - 1, true);
        break;
    }
    return 0;
}
