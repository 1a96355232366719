/*
 * fuzz_verify.c — the default server certificate verifier (tls_verify_server_cert:
 * X.509 parsing, path building, validity, basicConstraints/pathLen, key usage, name
 * constraints, subjectAltName matching, signature algorithms) on arbitrary chains, as a
 * server's Certificate message delivers them, against the test CAs.
 *
 * Input: byte 0 picks the reference name (low 3 bits) and the time (next 2 bits: the
 * fixed 2026 clock, 2019, 2050, or far in the future); then certificates, each a u16
 * big-endian length and that many DER bytes, end entity first (up to TLS_MAX_PEER_CHAIN,
 * each in its own exact-size buffer). seedgen.c writes the seeds from every chain in
 * tests/certs.
 */
#include "tests/fuzz/fuzz.h"

#include <stdlib.h>
#include <string.h>

#include "tls/msgs/msgs.h"

static tls_root_store *roots;

int LLVMFuzzerInitialize(int *argc, char ***argv)
{
    static const char *const cas[] = {"tests/certs/ecdsa-p256/ca.cert", "tests/certs/rsa2048/ca.cert",
                                      "tests/certs/ecdsa-p384/ca.cert"};
    char err[256];
    size_t total = 0;
    uint8_t *all = NULL;
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < sizeof cas / sizeof cas[0]; i++) {
        size_t n;
        uint8_t *pem = fuzz_read_src(cas[i], &n);
        all = realloc(all, total + n);
        if (!all)
            abort();
        memcpy(all + total, pem, n);
        total += n;
        free(pem);
    }
    const char *path = fuzz_tmpfile(0, all, total, 0600);
    free(all);
    if (tls_root_store_load(path, &roots, err, sizeof err) != TLS_OK)
        abort();
    return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    static const char *const names[8] = {"localhost",  "127.0.0.1",      "a.wild.test",
                                         "::1",        "testserver.com", "www.allowed.test",
                                         "wrong.example", "LocalHost."};
    static const int64_t times[4] = {FUZZ_NOW, 1546300800 /* 2019 */, 2524608000 /* 2050 */,
                                     INT64_MAX / 2};
    uint8_t *certs[TLS_MAX_PEER_CHAIN];
    const uint8_t *chain[TLS_MAX_PEER_CHAIN];
    size_t lens[TLS_MAX_PEER_CHAIN], n = 0;

    if (size < 1)
        return 0;
    const char *name = names[data[0] & 7];
    int64_t now = times[(data[0] >> 3) & 3];
    size_t off = 1;
    while (n < TLS_MAX_PEER_CHAIN && off + 2 <= size) {
        size_t len = (size_t)data[off] << 8 | data[off + 1];
        off += 2;
        if (len > size - off)
            len = size - off;
        certs[n] = fuzz_dup(data + off, len);
        chain[n] = certs[n];
        lens[n] = len;
        n++;
        off += len;
    }
    fuzz_clock_set(FUZZ_NOW);
    tls_error err = tls_verify_server_cert(roots, chain, lens, n, name, now);
    FUZZ_CHECK(err == TLS_OK || tls_error_alert(err) != TLS_ALERT_NONE);
    if (n == 0)
        FUZZ_CHECK(err != TLS_OK);
    for (size_t i = 0; i < n; i++)
        free(certs[i]);
    return 0;
}
