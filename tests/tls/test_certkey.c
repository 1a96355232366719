/*
 * test_certkey.c — unit tests for tls/certkey.c: loading certified keys, the names they
 * cover and the built-in SNI resolver.
 *
 * Load cases use the test PKI under tests/certs/ (paths relative to the repository root,
 * where tests run) and compare every stored DER certificate with what mbedTLS reads from
 * the same file. Bad inputs are written to a fresh mkdtemp directory per test. Name cases
 * that need certificates the test PKI lacks (no SAN, a SAN with a NUL, upper case) make
 * self-signed P-256 certificates on the fly with mbedTLS's certificate writer. Matching
 * rules are also checked on hand-built certified keys, whose name lists are all that
 * covers() and the resolver read. Every case runs under ASan with leak detection, and one
 * counts the engine allocator's blocks to check each free passes the size allocated.
 */
#include "tests/lib/unit.h"
#include "tls/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#define CERTS "tests/certs/"

static const struct {
    const char *dir;
    tls_key_type type;
} key_types[] = {
    {"rsa2048", TLS_KEY_RSA},
    {"ecdsa-p256", TLS_KEY_ECDSA_P256},
    {"ecdsa-p384", TLS_KEY_ECDSA_P384},
};

/* ---- helpers ------------------------------------------------------------------------ */

static char tmp_dir[64];

static void make_tmp_dir(void)
{
    strcpy(tmp_dir, "/tmp/test_certkey.XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
}

static void remove_tmp_dir(void)
{
    char cmd[128];

    /* Only ever our own mkdtemp directory. */
    if (strncmp(tmp_dir, "/tmp/test_certkey.", 18) != 0)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_dir);
}

/* Writes len bytes to tmp_dir/name; returns the path (static: one per name slot). */
static const char *write_tmp(const char *name, const void *data, size_t len)
{
    static char paths[8][128];
    static size_t next;
    char *path = paths[next++ % 8];
    FILE *f;

    snprintf(path, sizeof paths[0], "%s/%s", tmp_dir, name);
    f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* Reads a whole file into a malloc'd buffer (not NUL-terminated: *len is the file size). */
static uint8_t *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf;
    long n;

    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    ck_assert_int_eq(fseek(f, 0, SEEK_END), 0);
    n = ftell(f);
    ck_assert_int_ge(n, 0);
    rewind(f);
    buf = malloc((size_t)n + 1);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(fread(buf, 1, (size_t)n, f), (size_t)n);
    fclose(f);
    *len = (size_t)n;
    return buf;
}

static bool has_name(const tls_certified_key *ck, const char *name)
{
    for (size_t i = 0; i < ck->n_names; i++)
        if (strcmp(ck->names[i], name) == 0)
            return true;
    return false;
}

/* Loads chain + key and asserts the exact error, with the errbuf text for diagnosis. */
static tls_error load(const char *chain, const char *key, tls_certified_key **ck, char *err,
                      size_t errlen)
{
    err[0] = '\0';
    return tls_certified_key_load(chain, key, ck, err, errlen);
}

/* Asserts ck holds exactly the certificates of chain_path, in file order. */
static void assert_chain_is_file(const tls_certified_key *ck, const char *chain_path)
{
    mbedtls_x509_crt crt;
    const mbedtls_x509_crt *c;
    size_t i = 0;

    mbedtls_x509_crt_init(&crt);
    ck_assert_int_eq(mbedtls_x509_crt_parse_file(&crt, chain_path), 0);
    for (c = &crt; c != NULL && c->raw.p != NULL; c = c->next, i++) {
        ck_assert_uint_lt(i, ck->n_chain);
        ck_assert_uint_eq(ck->chain_len[i], c->raw.len);
        ck_assert_mem_eq(ck->chain[i], c->raw.p, c->raw.len);
    }
    ck_assert_uint_eq(i, ck->n_chain);
    mbedtls_x509_crt_free(&crt);
}

static size_t count_substr(const uint8_t *buf, size_t len, const char *needle)
{
    size_t n = 0, nl = strlen(needle);

    for (size_t i = 0; i + nl <= len; i++)
        if (memcmp(buf + i, needle, nl) == 0)
            n++;
    return n;
}

/* Test-only randomness for key generation and signing: reproducible, not secret. */
static int test_rng(void *arg, unsigned char *out, size_t len)
{
    unsigned *state = arg;

    for (size_t i = 0; i < len; i++) {
        *state = *state * 1103515245u + 12345u;
        out[i] = (unsigned char)(*state >> 16);
    }
    return 0;
}

/*
 * A self-signed certificate for a fresh key on `curve`, subject `subject` ("CN=..."),
 * with a subjectAltName extension holding san_der (a DER GeneralNames) unless NULL.
 * PEM certificate and key come back NUL-terminated in cert and key.
 */
static void make_cert(mbedtls_ecp_group_id curve, const char *subject, const uint8_t *san_der,
                      size_t san_len, char *cert, size_t cert_cap, char *key, size_t key_cap)
{
    static unsigned rng_state = 1;
    mbedtls_pk_context pk;
    mbedtls_x509write_cert w;
    mbedtls_mpi serial;

    mbedtls_pk_init(&pk);
    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&serial);
    ck_assert_int_eq(mbedtls_pk_setup(&pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    ck_assert_int_eq(mbedtls_ecp_gen_key(curve, mbedtls_pk_ec(pk), test_rng, &rng_state), 0);
    ck_assert_int_eq(mbedtls_mpi_lset(&serial, 7), 0);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, &pk);
    mbedtls_x509write_crt_set_issuer_key(&w, &pk);
    ck_assert_int_eq(mbedtls_x509write_crt_set_serial(&w, &serial), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_validity(&w, "20200101000000", "20451231235959"), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_subject_name(&w, subject), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_issuer_name(&w, subject), 0);
    if (san_der != NULL)
        ck_assert_int_eq(mbedtls_x509write_crt_set_extension(
                             &w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                             MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, san_der, san_len),
                         0);
    ck_assert_int_eq(
        mbedtls_x509write_crt_pem(&w, (unsigned char *)cert, cert_cap, test_rng, &rng_state), 0);
    ck_assert_int_eq(mbedtls_pk_write_key_pem(&pk, (unsigned char *)key, key_cap), 0);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&w);
    mbedtls_pk_free(&pk);
}

/* Builds a GeneralNames SEQUENCE from (tag, bytes) entries; returns its length. */
typedef struct {
    uint8_t tag;
    const char *value;
    size_t len;
} san_entry;

static size_t build_san(const san_entry *e, size_t n, uint8_t *out, size_t cap)
{
    size_t len = 2;

    for (size_t i = 0; i < n; i++) {
        ck_assert_uint_lt(e[i].len, 128);
        ck_assert_uint_le(len + 2 + e[i].len, cap);
        out[len++] = e[i].tag;
        out[len++] = (uint8_t)e[i].len;
        memcpy(out + len, e[i].value, e[i].len);
        len += e[i].len;
    }
    ck_assert_uint_lt(len - 2, 128);
    out[0] = 0x30;
    out[1] = (uint8_t)(len - 2);
    return len;
}

#define SAN_DNS 0x82
#define SAN_IP 0x87

/* Parses a generated certificate and key from memory; asserts success. */
static tls_certified_key *parse_generated(const char *cert, const char *key)
{
    tls_certified_key *ck = NULL;
    char err[256] = "";

    ck_assert_msg(tls_certified_key_parse((const uint8_t *)cert, strlen(cert) + 1,
                                          (const uint8_t *)key, strlen(key) + 1, &ck, err,
                                          sizeof err) == TLS_OK,
                  "parse failed: %s", err);
    ck_assert_ptr_nonnull(ck);
    return ck;
}

/* ---- loading the test PKI --------------------------------------------------------------- */

static void check_load_ok(size_t t, const char *key_file)
{
    char chain[128], key[128], err[256];
    tls_certified_key *ck = NULL;
    uint8_t *pem;
    size_t pem_len;

    snprintf(chain, sizeof chain, CERTS "%s/end.fullchain", key_types[t].dir);
    snprintf(key, sizeof key, CERTS "%s/%s", key_types[t].dir, key_file);
    ck_assert_msg(load(chain, key, &ck, err, sizeof err) == TLS_OK, "%s", err);
    ck_assert_ptr_nonnull(ck);
    ck_assert_uint_eq(atomic_load(&ck->refs), 1);
    ck_assert_int_eq(ck->key_type, key_types[t].type);
    ck_assert_int_eq(tls__signing_key_type(ck->key), key_types[t].type);

    pem = read_all(chain, &pem_len);
    ck_assert_uint_eq(ck->n_chain, count_substr(pem, pem_len, "-----BEGIN CERTIFICATE-----"));
    ck_assert_uint_eq(ck->n_chain, 3);
    free(pem);
    assert_chain_is_file(ck, chain);

    /* Three dNSName SANs; the IP address SAN and the CN are not names. */
    ck_assert_uint_eq(ck->n_names, 3);
    ck_assert(has_name(ck, "localhost"));
    ck_assert(has_name(ck, "testserver.com"));
    ck_assert(has_name(ck, "*.wild.test"));
    ck_assert(!has_name(ck, "127.0.0.1"));
    tls_certified_key_unref(ck);
}

START_TEST(test_certkey_load_pkcs8_ok)
{
    check_load_ok((size_t)_i, "end.key");
}
END_TEST

START_TEST(test_certkey_load_rsa_pkcs1_key_ok)
{
    check_load_ok(0, "end.rsa.pkcs1.key");
}
END_TEST

START_TEST(test_certkey_load_ec_sec1_key_ok)
{
    check_load_ok((size_t)_i, "end.sec1.key");
}
END_TEST

START_TEST(test_certkey_load_other_chain_ok)
{
    char chain[128], key[128], err[256];
    tls_certified_key *ck = NULL;

    snprintf(chain, sizeof chain, CERTS "%s/other.fullchain", key_types[_i].dir);
    snprintf(key, sizeof key, CERTS "%s/other.key", key_types[_i].dir);
    ck_assert_msg(load(chain, key, &ck, err, sizeof err) == TLS_OK, "%s", err);
    ck_assert_uint_eq(ck->n_names, 1);
    ck_assert_str_eq(ck->names[0], "other.test");
    assert_chain_is_file(ck, chain);
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_load_single_cert_ok)
{
    char err[256];
    tls_certified_key *ck = NULL;

    ck_assert_msg(load(CERTS "ecdsa-p256/end.cert", CERTS "ecdsa-p256/end.key", &ck, err,
                       sizeof err) == TLS_OK,
                  "%s", err);
    ck_assert_uint_eq(ck->n_chain, 1);
    assert_chain_is_file(ck, CERTS "ecdsa-p256/end.cert");
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_load_errbuf_null_ok)
{
    tls_certified_key *ck = NULL;

    ck_assert_int_eq(tls_certified_key_load(CERTS "rsa2048/end.fullchain", CERTS "rsa2048/end.key",
                                            &ck, NULL, 0),
                     TLS_OK);
    tls_certified_key_unref(ck);
    ck_assert_int_eq(
        tls_certified_key_load("/nonexistent/x.pem", CERTS "rsa2048/end.key", &ck, NULL, 0),
        TLS_ERR_CERT_FILE);
    ck_assert_ptr_null(ck);
}
END_TEST

START_TEST(test_certkey_load_errbuf_truncated)
{
    tls_certified_key *ck = (tls_certified_key *)1;
    char err[8];

    memset(err, 'x', sizeof err);
    ck_assert_int_eq(
        tls_certified_key_load("/nonexistent/x.pem", CERTS "rsa2048/end.key", &ck, err, 5),
        TLS_ERR_CERT_FILE);
    ck_assert_ptr_null(ck);
    ck_assert_str_eq(err, "cann");
    ck_assert_int_eq(err[5], 'x');
}
END_TEST

/* ---- load errors -------------------------------------------------------------------- */

START_TEST(test_certkey_load_missing_cert_file)
{
    tls_certified_key *ck = (tls_certified_key *)1;
    char err[256];

    ck_assert_int_eq(load("/nonexistent/chain.pem", CERTS "rsa2048/end.key", &ck, err, sizeof err),
                     TLS_ERR_CERT_FILE);
    ck_assert_ptr_null(ck);
    ck_assert_str_eq(err, "cannot read /nonexistent/chain.pem: No such file or directory");
}
END_TEST

START_TEST(test_certkey_load_missing_key_file)
{
    tls_certified_key *ck = (tls_certified_key *)1;
    char err[256];

    ck_assert_int_eq(
        load(CERTS "rsa2048/end.fullchain", "/nonexistent/key.pem", &ck, err, sizeof err),
        TLS_ERR_CERT_FILE);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, "cannot read /nonexistent/key.pem"));
}
END_TEST

START_TEST(test_certkey_load_cert_path_is_directory)
{
    tls_certified_key *ck = NULL;
    char err[256];

    ck_assert_int_eq(load(tmp_dir, CERTS "rsa2048/end.key", &ck, err, sizeof err),
                     TLS_ERR_CERT_FILE);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, tmp_dir));
}
END_TEST

START_TEST(test_certkey_load_cert_file_too_large)
{
    tls_certified_key *ck = NULL;
    char err[256];
    size_t len = 1024 * 1024 + 1;
    uint8_t *big = malloc(len);
    const char *path;

    ck_assert_ptr_nonnull(big);
    memset(big, 'A', len);
    path = write_tmp("big.pem", big, len);
    free(big);
    ck_assert_int_eq(load(path, CERTS "rsa2048/end.key", &ck, err, sizeof err), TLS_ERR_CERT_FILE);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "too large"));
}
END_TEST

START_TEST(test_certkey_load_cert_file_exactly_max_size)
{
    /* A 1 MiB file is read (and then fails to parse, being all 'A's). */
    tls_certified_key *ck = NULL;
    char err[256];
    size_t len = 1024 * 1024;
    uint8_t *big = malloc(len);
    const char *path;

    ck_assert_ptr_nonnull(big);
    memset(big, 'A', len);
    path = write_tmp("max.pem", big, len);
    free(big);
    ck_assert_int_eq(load(path, CERTS "rsa2048/end.key", &ck, err, sizeof err), TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
}
END_TEST

START_TEST(test_certkey_load_garbage_cert)
{
    static const char garbage[] = "this is not a certificate\n";
    tls_certified_key *ck = (tls_certified_key *)1;
    char err[256];
    const char *path = write_tmp("garbage.pem", garbage, sizeof garbage - 1);

    ck_assert_int_eq(load(path, CERTS "rsa2048/end.key", &ck, err, sizeof err), TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "no certificate found"));
}
END_TEST

START_TEST(test_certkey_load_garbage_der_cert)
{
    static const uint8_t garbage[] = {0x30, 0x82, 0x01, 0x00, 0x02, 0x01, 0x00};
    tls_certified_key *ck = NULL;
    char err[256];
    const char *path = write_tmp("garbage.der", garbage, sizeof garbage);

    ck_assert_int_eq(load(path, CERTS "rsa2048/end.key", &ck, err, sizeof err), TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, path));
    ck_assert_ptr_nonnull(strstr(err, "invalid certificate"));
}
END_TEST

START_TEST(test_certkey_load_empty_cert)
{
    tls_certified_key *ck = NULL;
    char err[256];
    const char *path = write_tmp("empty.pem", "", 0);

    ck_assert_int_eq(load(path, CERTS "rsa2048/end.key", &ck, err, sizeof err), TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

START_TEST(test_certkey_load_key_given_as_cert)
{
    tls_certified_key *ck = NULL;
    char err[256];

    ck_assert_int_eq(load(CERTS "rsa2048/end.key", CERTS "rsa2048/end.key", &ck, err, sizeof err),
                     TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
    ck_assert_str_eq(err, CERTS "rsa2048/end.key: no certificate found (this is a private key)");
}
END_TEST

START_TEST(test_certkey_load_truncated_last_cert)
{
    /* Cut the chain inside its last certificate: mbedTLS alone would keep the first two. */
    tls_certified_key *ck = NULL;
    char err[256];
    size_t len;
    uint8_t *pem = read_all(CERTS "ecdsa-p256/end.fullchain", &len);
    const char *path = write_tmp("truncated.pem", pem, len - 100);

    free(pem);
    ck_assert_int_eq(load(path, CERTS "ecdsa-p256/end.key", &ck, err, sizeof err),
                     TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

START_TEST(test_certkey_load_truncated_first_cert)
{
    tls_certified_key *ck = NULL;
    char err[256];
    size_t len;
    uint8_t *pem = read_all(CERTS "ecdsa-p256/end.cert", &len);
    const char *path = write_tmp("truncated.pem", pem, len / 2);

    free(pem);
    ck_assert_int_eq(load(path, CERTS "ecdsa-p256/end.key", &ck, err, sizeof err),
                     TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
}
END_TEST

START_TEST(test_certkey_load_corrupt_middle_cert)
{
    /* An invalid base64 character inside the second certificate. */
    tls_certified_key *ck = NULL;
    char err[256];
    size_t len;
    uint8_t *pem = read_all(CERTS "rsa2048/end.fullchain", &len);
    char *second;
    const char *path;

    pem[len] = '\0';
    second = strstr(strstr((char *)pem, "-----BEGIN CERTIFICATE-----") + 1,
                    "-----BEGIN CERTIFICATE-----");
    ck_assert_ptr_nonnull(second);
    second[strlen("-----BEGIN CERTIFICATE-----") + 10] = '!';
    path = write_tmp("corrupt.pem", pem, len);
    free(pem);
    ck_assert_int_eq(load(path, CERTS "rsa2048/end.key", &ck, err, sizeof err), TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

static const char *write_repeated_cert(const char *name, size_t copies)
{
    size_t len;
    uint8_t *pem = read_all(CERTS "ecdsa-p256/end.cert", &len);
    uint8_t *many = malloc(len * copies);
    const char *path;

    ck_assert_ptr_nonnull(many);
    for (size_t i = 0; i < copies; i++)
        memcpy(many + i * len, pem, len);
    path = write_tmp(name, many, len * copies);
    free(many);
    free(pem);
    return path;
}

START_TEST(test_certkey_load_max_chain_ok)
{
    tls_certified_key *ck = NULL;
    char err[256];
    const char *path = write_repeated_cert("ten.pem", TLS_MAX_CHAIN);

    ck_assert_msg(load(path, CERTS "ecdsa-p256/end.key", &ck, err, sizeof err) == TLS_OK, "%s",
                  err);
    ck_assert_uint_eq(ck->n_chain, TLS_MAX_CHAIN);
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_load_chain_too_long)
{
    tls_certified_key *ck = NULL;
    char err[256];
    const char *path = write_repeated_cert("eleven.pem", TLS_MAX_CHAIN + 1);

    ck_assert_int_eq(load(path, CERTS "ecdsa-p256/end.key", &ck, err, sizeof err),
                     TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, "at most 10"));
}
END_TEST

START_TEST(test_certkey_load_garbage_key)
{
    static const char garbage[] = "-----BEGIN PRIVATE KEY-----\nnonsense\n"
                                  "-----END PRIVATE KEY-----\n";
    tls_certified_key *ck = (tls_certified_key *)1;
    char err[256];
    const char *path = write_tmp("garbage.key", garbage, sizeof garbage - 1);
    char want[256];

    ck_assert_int_eq(load(CERTS "rsa2048/end.fullchain", path, &ck, err, sizeof err),
                     TLS_ERR_KEY_PARSE);
    ck_assert_ptr_null(ck);
    snprintf(want, sizeof want, "%s: not a private key (PKCS#8, PKCS#1 or SEC1 expected)", path);
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_certkey_load_encrypted_key)
{
    static const char encrypted[] =
        "-----BEGIN ENCRYPTED PRIVATE KEY-----\n"
        "MIGjMF8GCSqGSIb3DQEFDTBSMDEGCSqGSIb3DQEFDDAkBBAAAAAAAAAAAAAAAAAA\n"
        "-----END ENCRYPTED PRIVATE KEY-----\n";
    tls_certified_key *ck = NULL;
    char err[256], want[256];
    const char *path = write_tmp("encrypted.key", encrypted, sizeof encrypted - 1);

    ck_assert_int_eq(load(CERTS "rsa2048/end.fullchain", path, &ck, err, sizeof err),
                     TLS_ERR_KEY_PARSE);
    ck_assert_ptr_null(ck);
    snprintf(want, sizeof want, "%s: encrypted private keys are not supported", path);
    ck_assert_str_eq(err, want);
}
END_TEST

START_TEST(test_certkey_load_empty_key)
{
    tls_certified_key *ck = NULL;
    char err[256];
    const char *path = write_tmp("empty.key", "", 0);

    ck_assert_int_eq(load(CERTS "rsa2048/end.fullchain", path, &ck, err, sizeof err),
                     TLS_ERR_KEY_PARSE);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, path));
}
END_TEST

START_TEST(test_certkey_load_cert_given_as_key)
{
    tls_certified_key *ck = NULL;
    char err[256];

    ck_assert_int_eq(
        load(CERTS "rsa2048/end.fullchain", CERTS "rsa2048/end.cert", &ck, err, sizeof err),
        TLS_ERR_KEY_PARSE);
    ck_assert_ptr_null(ck);
}
END_TEST

START_TEST(test_certkey_load_key_mismatch_rsa_cert_p256_key)
{
    tls_certified_key *ck = (tls_certified_key *)1;
    char err[256];

    ck_assert_int_eq(
        load(CERTS "rsa2048/end.fullchain", CERTS "ecdsa-p256/end.key", &ck, err, sizeof err),
        TLS_ERR_KEY_MISMATCH);
    ck_assert_ptr_null(ck);
    ck_assert_str_eq(err, CERTS "ecdsa-p256/end.key: key does not match the certificate in " CERTS
                                "rsa2048/end.fullchain");
}
END_TEST

START_TEST(test_certkey_load_key_mismatch_other_key)
{
    tls_certified_key *ck = NULL;
    char err[256];
    char chain[128], key[128];

    snprintf(chain, sizeof chain, CERTS "%s/end.fullchain", key_types[_i].dir);
    snprintf(key, sizeof key, CERTS "%s/other.key", key_types[_i].dir);
    ck_assert_int_eq(load(chain, key, &ck, err, sizeof err), TLS_ERR_KEY_MISMATCH);
    ck_assert_ptr_null(ck);
}
END_TEST

START_TEST(test_certkey_load_key_mismatch_p256_cert_p384_key)
{
    tls_certified_key *ck = NULL;
    char err[256];

    ck_assert_int_eq(
        load(CERTS "ecdsa-p256/end.fullchain", CERTS "ecdsa-p384/end.key", &ck, err, sizeof err),
        TLS_ERR_KEY_MISMATCH);
    ck_assert_ptr_null(ck);
}
END_TEST

START_TEST(test_certkey_load_key_of_intermediate_mismatch)
{
    /* The key must match the end entity, not just some certificate in the chain. */
    tls_certified_key *ck = NULL;
    char err[256];

    ck_assert_int_eq(
        load(CERTS "ecdsa-p256/end.fullchain", CERTS "ecdsa-p256/inter.key", &ck, err, sizeof err),
        TLS_ERR_KEY_MISMATCH);
    ck_assert_ptr_null(ck);
}
END_TEST

START_TEST(test_certkey_load_unsupported_key_p521)
{
    char cert[4096], key[2048], err[256];
    tls_certified_key *ck = NULL;
    const char *cert_path, *key_path;

    make_cert(MBEDTLS_ECP_DP_SECP521R1, "CN=p521.test", NULL, 0, cert, sizeof cert, key,
              sizeof key);
    cert_path = write_tmp("p521.pem", cert, strlen(cert));
    key_path = write_tmp("p521.key", key, strlen(key));
    ck_assert_int_eq(load(cert_path, key_path, &ck, err, sizeof err), TLS_ERR_KEY_UNSUPPORTED);
    ck_assert_ptr_null(ck);
    ck_assert_ptr_nonnull(strstr(err, key_path));
}
END_TEST

/* ---- parsing from memory ---------------------------------------------------------------- */

START_TEST(test_certkey_parse_pem_without_nul_ok)
{
    tls_certified_key *ck = NULL;
    char err[256];
    size_t chain_len, key_len;
    uint8_t *chain = read_all(CERTS "ecdsa-p384/end.fullchain", &chain_len);
    uint8_t *key = read_all(CERTS "ecdsa-p384/end.key", &key_len);

    /* Exactly-sized buffers: ASan catches a read of a terminator that is not there. */
    ck_assert_msg(tls_certified_key_parse(chain, chain_len, key, key_len, &ck, err, sizeof err) ==
                      TLS_OK,
                  "%s", err);
    ck_assert_uint_eq(ck->n_chain, 3);
    ck_assert_int_eq(ck->key_type, TLS_KEY_ECDSA_P384);
    tls_certified_key_unref(ck);
    free(chain);
    free(key);
}
END_TEST

START_TEST(test_certkey_parse_pem_with_nul_ok)
{
    tls_certified_key *ck = NULL;
    char err[256];
    size_t chain_len, key_len;
    uint8_t *chain = read_all(CERTS "rsa2048/end.fullchain", &chain_len);
    uint8_t *key = read_all(CERTS "rsa2048/end.key", &key_len);

    chain[chain_len] = '\0';
    key[key_len] = '\0';
    ck_assert_msg(tls_certified_key_parse(chain, chain_len + 1, key, key_len + 1, &ck, err,
                                          sizeof err) == TLS_OK,
                  "%s", err);
    ck_assert_uint_eq(ck->n_chain, 3);
    ck_assert_int_eq(ck->key_type, TLS_KEY_RSA);
    tls_certified_key_unref(ck);
    free(chain);
    free(key);
}
END_TEST

START_TEST(test_certkey_parse_der_ok)
{
    tls_certified_key *ck = NULL;
    char err[256];
    mbedtls_x509_crt crt;
    mbedtls_pk_context pk;
    unsigned char keybuf[2048];
    int key_len;
    uint8_t *cert_der, *key_der;

    mbedtls_x509_crt_init(&crt);
    mbedtls_pk_init(&pk);
    ck_assert_int_eq(mbedtls_x509_crt_parse_file(&crt, CERTS "ecdsa-p256/end.cert"), 0);
    ck_assert_int_eq(mbedtls_pk_parse_keyfile(&pk, CERTS "ecdsa-p256/end.key", NULL), 0);
    key_len = mbedtls_pk_write_key_der(&pk, keybuf, sizeof keybuf);
    ck_assert_int_gt(key_len, 0);
    /* Exactly-sized copies, so nothing past the DER is readable. */
    cert_der = malloc(crt.raw.len);
    key_der = malloc((size_t)key_len);
    ck_assert_ptr_nonnull(cert_der);
    ck_assert_ptr_nonnull(key_der);
    memcpy(cert_der, crt.raw.p, crt.raw.len);
    memcpy(key_der, keybuf + sizeof keybuf - (size_t)key_len, (size_t)key_len);

    ck_assert_msg(tls_certified_key_parse(cert_der, crt.raw.len, key_der, (size_t)key_len, &ck, err,
                                          sizeof err) == TLS_OK,
                  "%s", err);
    ck_assert_uint_eq(ck->n_chain, 1);
    ck_assert_uint_eq(ck->chain_len[0], crt.raw.len);
    ck_assert_mem_eq(ck->chain[0], crt.raw.p, crt.raw.len);
    ck_assert_int_eq(ck->key_type, TLS_KEY_ECDSA_P256);
    ck_assert(has_name(ck, "localhost"));
    tls_certified_key_unref(ck);

    free(cert_der);
    free(key_der);
    mbedtls_pk_free(&pk);
    mbedtls_x509_crt_free(&crt);
}
END_TEST

START_TEST(test_certkey_parse_empty_chain)
{
    tls_certified_key *ck = (tls_certified_key *)1;
    char err[256];
    static const uint8_t key[] = "x";

    ck_assert_int_eq(tls_certified_key_parse(NULL, 0, key, sizeof key, &ck, err, sizeof err),
                     TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
    ck_assert_int_eq(
        tls_certified_key_parse((const uint8_t *)"", 1, key, sizeof key, &ck, err, sizeof err),
        TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(ck);
}
END_TEST

START_TEST(test_certkey_parse_empty_key)
{
    tls_certified_key *ck = (tls_certified_key *)1;
    char err[256];
    size_t chain_len;
    uint8_t *chain = read_all(CERTS "rsa2048/end.fullchain", &chain_len);

    ck_assert_int_eq(tls_certified_key_parse(chain, chain_len, NULL, 0, &ck, err, sizeof err),
                     TLS_ERR_KEY_PARSE);
    ck_assert_ptr_null(ck);
    ck_assert_str_eq(err, "private key: not a private key (PKCS#8, PKCS#1 or SEC1 expected)");
    free(chain);
}
END_TEST

START_TEST(test_certkey_parse_null_arguments)
{
    tls_certified_key *ck = (tls_certified_key *)1;
    static const uint8_t buf[] = "x";

    ck_assert_int_eq(tls_certified_key_parse(buf, 1, buf, 1, NULL, NULL, 0),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_certified_key_parse(NULL, 5, buf, 1, &ck, NULL, 0),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(ck);
    ck = (tls_certified_key *)1;
    ck_assert_int_eq(tls_certified_key_load(NULL, "k", &ck, NULL, 0), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(ck);
}
END_TEST

/* ---- names from generated certificates ----------------------------------------------- */

START_TEST(test_certkey_parse_names_cn_fallback_without_san)
{
    char cert[4096], key[2048];
    tls_certified_key *ck;

    make_cert(MBEDTLS_ECP_DP_SECP256R1, "O=Moat Tests,CN=NoSan.Example", NULL, 0, cert, sizeof cert,
              key, sizeof key);
    ck = parse_generated(cert, key);
    ck_assert_uint_eq(ck->n_names, 1);
    ck_assert_str_eq(ck->names[0], "nosan.example");
    ck_assert(tls_certified_key_covers(ck, "NOSAN.example"));
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_parse_names_no_san_no_cn)
{
    char cert[4096], key[2048];
    tls_certified_key *ck;

    make_cert(MBEDTLS_ECP_DP_SECP256R1, "O=Moat Tests", NULL, 0, cert, sizeof cert, key,
              sizeof key);
    ck = parse_generated(cert, key);
    ck_assert_uint_eq(ck->n_names, 0);
    ck_assert(!tls_certified_key_covers(ck, "moat tests"));
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_parse_names_cn_ignored_with_dns_san)
{
    static const san_entry san[] = {
        {SAN_DNS, "Upper.Example", 13},
        {SAN_IP, "\x7f\x00\x00\x01", 4},
        {SAN_DNS, "*.Wild.Example", 14},
    };
    char cert[4096], key[2048];
    uint8_t der[128];
    size_t der_len = build_san(san, 3, der, sizeof der);
    tls_certified_key *ck;

    make_cert(MBEDTLS_ECP_DP_SECP256R1, "CN=cn.example", der, der_len, cert, sizeof cert, key,
              sizeof key);
    ck = parse_generated(cert, key);
    ck_assert_uint_eq(ck->n_names, 2);
    ck_assert_str_eq(ck->names[0], "upper.example");
    ck_assert_str_eq(ck->names[1], "*.wild.example");
    ck_assert(!tls_certified_key_covers(ck, "cn.example"));
    ck_assert(tls_certified_key_covers(ck, "x.wild.example"));
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_parse_names_cn_fallback_with_only_ip_san)
{
    static const san_entry san[] = {{SAN_IP, "\x7f\x00\x00\x01", 4}};
    char cert[4096], key[2048];
    uint8_t der[64];
    size_t der_len = build_san(san, 1, der, sizeof der);
    tls_certified_key *ck;

    make_cert(MBEDTLS_ECP_DP_SECP256R1, "CN=ip-only.example", der, der_len, cert, sizeof cert, key,
              sizeof key);
    ck = parse_generated(cert, key);
    ck_assert_uint_eq(ck->n_names, 1);
    ck_assert_str_eq(ck->names[0], "ip-only.example");
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_parse_names_dns_with_nul_dropped)
{
    /* "good.example\0.evil" must not become "good.example"; the SAN still rules out CN. */
    static const san_entry san[] = {
        {SAN_DNS, "good.example\0.evil", 18},
        {SAN_DNS, "", 0},
        {SAN_DNS, "fine.example", 12},
    };
    static const san_entry only_bad[] = {{SAN_DNS, "good.example\0.evil", 18}};
    char cert[4096], key[2048];
    uint8_t der[128];
    size_t der_len = build_san(san, 3, der, sizeof der);
    tls_certified_key *ck;

    make_cert(MBEDTLS_ECP_DP_SECP256R1, "CN=cn.example", der, der_len, cert, sizeof cert, key,
              sizeof key);
    ck = parse_generated(cert, key);
    ck_assert_uint_eq(ck->n_names, 1);
    ck_assert_str_eq(ck->names[0], "fine.example");
    ck_assert(!tls_certified_key_covers(ck, "good.example"));
    tls_certified_key_unref(ck);

    der_len = build_san(only_bad, 1, der, sizeof der);
    make_cert(MBEDTLS_ECP_DP_SECP256R1, "CN=cn.example", der, der_len, cert, sizeof cert, key,
              sizeof key);
    ck = parse_generated(cert, key);
    ck_assert_uint_eq(ck->n_names, 0);
    ck_assert(!tls_certified_key_covers(ck, "good.example"));
    ck_assert(!tls_certified_key_covers(ck, "cn.example"));
    tls_certified_key_unref(ck);
}
END_TEST

/* ---- covers ------------------------------------------------------------------------------ */

static tls_certified_key *load_p256_end(void)
{
    tls_certified_key *ck = NULL;
    char err[256];

    ck_assert_msg(load(CERTS "ecdsa-p256/end.fullchain", CERTS "ecdsa-p256/end.key", &ck, err,
                       sizeof err) == TLS_OK,
                  "%s", err);
    return ck;
}

START_TEST(test_certkey_covers_exact)
{
    tls_certified_key *ck = load_p256_end();

    ck_assert(tls_certified_key_covers(ck, "localhost"));
    ck_assert(tls_certified_key_covers(ck, "testserver.com"));
    ck_assert(!tls_certified_key_covers(ck, "testserver.co"));
    ck_assert(!tls_certified_key_covers(ck, "testserver.com.au"));
    ck_assert(!tls_certified_key_covers(ck, "www.testserver.com"));
    ck_assert(!tls_certified_key_covers(ck, "127.0.0.1"));
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_covers_case_insensitive)
{
    tls_certified_key *ck = load_p256_end();

    ck_assert(tls_certified_key_covers(ck, "LocalHost"));
    ck_assert(tls_certified_key_covers(ck, "TESTSERVER.COM"));
    ck_assert(tls_certified_key_covers(ck, "Foo.WILD.Test"));
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_covers_trailing_dot)
{
    tls_certified_key *ck = load_p256_end();

    ck_assert(tls_certified_key_covers(ck, "localhost."));
    ck_assert(tls_certified_key_covers(ck, "testserver.com."));
    ck_assert(tls_certified_key_covers(ck, "a.wild.test."));
    ck_assert(!tls_certified_key_covers(ck, "localhost.."));
    ck_assert(!tls_certified_key_covers(ck, "."));
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_covers_wildcard_one_label)
{
    tls_certified_key *ck = load_p256_end();

    ck_assert(tls_certified_key_covers(ck, "a.wild.test"));
    ck_assert(tls_certified_key_covers(ck, "www-1.wild.test"));
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_covers_wildcard_not_two_labels)
{
    tls_certified_key *ck = load_p256_end();

    ck_assert(!tls_certified_key_covers(ck, "a.b.wild.test"));
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_covers_wildcard_not_bare_domain)
{
    tls_certified_key *ck = load_p256_end();

    ck_assert(!tls_certified_key_covers(ck, "wild.test"));
    ck_assert(!tls_certified_key_covers(ck, ".wild.test"));
    ck_assert(!tls_certified_key_covers(ck, "xwild.test"));
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_covers_literal_wildcard_name)
{
    /* A client sending "*.wild.test" must not hit the wildcard entry by string equality. */
    tls_certified_key *ck = load_p256_end();

    ck_assert(!tls_certified_key_covers(ck, "*.wild.test"));
    ck_assert(!tls_certified_key_covers(ck, "*.WILD.test"));
    tls_certified_key_unref(ck);
}
END_TEST

START_TEST(test_certkey_covers_empty_and_null)
{
    tls_certified_key *ck = load_p256_end();

    ck_assert(!tls_certified_key_covers(ck, ""));
    ck_assert(!tls_certified_key_covers(ck, NULL));
    ck_assert(!tls_certified_key_covers(NULL, "localhost"));
    tls_certified_key_unref(ck);
}
END_TEST

/* A certified key with only a name list: all that covers() and the resolver read. */
#define FAKE_CK(...)                                                                               \
    {                                                                                              \
        .names = (char *[]){__VA_ARGS__},                                                          \
        .n_names = sizeof((char *[]){__VA_ARGS__}) / sizeof(char *),                               \
    }

START_TEST(test_certkey_covers_wildcard_needs_two_labels_after_it)
{
    struct tls_certified_key tld = FAKE_CK("*.com");
    struct tls_certified_key empty_label = FAKE_CK("*..com");
    struct tls_certified_key bare = FAKE_CK("*");
    struct tls_certified_key dot = FAKE_CK("*.");

    ck_assert(!tls_certified_key_covers(&tld, "example.com"));
    ck_assert(!tls_certified_key_covers(&empty_label, "a..com"));
    ck_assert(!tls_certified_key_covers(&bare, "localhost"));
    ck_assert(!tls_certified_key_covers(&dot, "a."));
    ck_assert(!tls_certified_key_covers(&dot, "a"));
}
END_TEST

START_TEST(test_certkey_covers_wildcard_only_whole_left_label)
{
    struct tls_certified_key partial = FAKE_CK("f*.example.com");
    struct tls_certified_key suffix = FAKE_CK("*x.example.com");
    struct tls_certified_key inner = FAKE_CK("www.*.example.com");
    struct tls_certified_key twice = FAKE_CK("*.*.example.com");

    ck_assert(!tls_certified_key_covers(&partial, "foo.example.com"));
    ck_assert(!tls_certified_key_covers(&suffix, "ax.example.com"));
    ck_assert(!tls_certified_key_covers(&inner, "www.a.example.com"));
    ck_assert(!tls_certified_key_covers(&twice, "a.b.example.com"));
    ck_assert(!tls_certified_key_covers(&twice, "a.example.com"));
}
END_TEST

START_TEST(test_certkey_covers_pattern_with_trailing_dot)
{
    struct tls_certified_key ck = FAKE_CK("host.example.", "*.wild.example.");

    ck_assert(tls_certified_key_covers(&ck, "host.example"));
    ck_assert(tls_certified_key_covers(&ck, "host.example."));
    ck_assert(tls_certified_key_covers(&ck, "a.wild.example"));
    ck_assert(!tls_certified_key_covers(&ck, "wild.example"));
}
END_TEST

/* ---- resolver ------------------------------------------------------------------------------- */

START_TEST(test_certkey_resolve_exact_beats_wildcard)
{
    struct tls_certified_key wild = FAKE_CK("*.example.com");
    struct tls_certified_key exact = FAKE_CK("other.test", "www.example.com");
    tls_certified_key *const certs[] = {&wild, &exact};

    ck_assert_ptr_eq(tls__resolve_cert(certs, 2, false, "www.example.com", NULL, NULL), &exact);
    ck_assert_ptr_eq(tls__resolve_cert(certs, 2, true, "WWW.example.com.", NULL, NULL), &exact);
    ck_assert_ptr_eq(tls__resolve_cert(certs, 2, true, "api.example.com", NULL, NULL), &wild);
}
END_TEST

START_TEST(test_certkey_resolve_first_exact_wins)
{
    struct tls_certified_key a = FAKE_CK("x.test");
    struct tls_certified_key b = FAKE_CK("y.test");
    struct tls_certified_key c = FAKE_CK("y.test");
    tls_certified_key *const certs[] = {&a, &b, &c};

    ck_assert_ptr_eq(tls__resolve_cert(certs, 3, true, "y.test", NULL, NULL), &b);
}
END_TEST

/* Several certificates for one name: the rank picks among the best-matching ones only,
 * the highest score wins, the first of equals; a default set is the first certificate
 * and those with its names. */
static int rank_by_key(const void *arg, const tls_certified_key *ck)
{
    const int *scores = arg; /* indexed by key type */
    return scores[ck->key_type];
}

START_TEST(test_certkey_resolve_ranked)
{
    struct tls_certified_key rsa = FAKE_CK("www.example.com");
    struct tls_certified_key ec = FAKE_CK("www.example.com");
    struct tls_certified_key wild_ec = FAKE_CK("*.example.com");
    struct tls_certified_key other_ec = FAKE_CK("other.test");
    rsa.key_type = TLS_KEY_RSA;
    ec.key_type = wild_ec.key_type = other_ec.key_type = TLS_KEY_ECDSA_P256;
    tls_certified_key *const certs[] = {&rsa, &ec, &wild_ec, &other_ec};
    int prefer_ec[TLS_KEY_TYPE_COUNT] = {[TLS_KEY_RSA] = 1, [TLS_KEY_ECDSA_P256] = 2};
    int rsa_only[TLS_KEY_TYPE_COUNT] = {[TLS_KEY_RSA] = 1};
    int none[TLS_KEY_TYPE_COUNT] = {0};

    ck_assert_ptr_eq(tls__resolve_cert(certs, 4, true, "www.example.com", rank_by_key, prefer_ec),
                     &ec);
    ck_assert_ptr_eq(tls__resolve_cert(certs, 4, true, "www.example.com", rank_by_key, rsa_only),
                     &rsa);
    /* Nobody usable: the first exact match still (the handshake then says why). */
    ck_assert_ptr_eq(tls__resolve_cert(certs, 4, true, "www.example.com", rank_by_key, none),
                     &rsa);
    /* A usable wildcard does not beat an exact match the client cannot use. */
    ck_assert_ptr_eq(tls__resolve_cert(certs, 4, true, "www.example.com", rank_by_key, rsa_only),
                     &rsa);
    ck_assert_ptr_eq(tls__resolve_cert(certs, 4, true, "api.example.com", rank_by_key, rsa_only),
                     &wild_ec);
    /* Default set: rsa and ec share the first certificate's names; other_ec does not. */
    ck_assert_ptr_eq(tls__resolve_cert(certs, 4, false, NULL, rank_by_key, prefer_ec), &ec);
    ck_assert_ptr_eq(tls__resolve_cert(certs, 4, false, "unknown.test", rank_by_key, prefer_ec),
                     &ec);
    ck_assert_ptr_null(tls__resolve_cert(certs, 4, true, "unknown.test", rank_by_key, prefer_ec));
    ck_assert_ptr_eq(tls__resolve_cert(certs, 4, true, "", rank_by_key, prefer_ec), &ec);
}
END_TEST

START_TEST(test_certkey_resolve_real_certs)
{
    tls_certified_key *end = load_p256_end();
    tls_certified_key *other = NULL;
    char err[256];

    ck_assert_msg(load(CERTS "ecdsa-p256/other.fullchain", CERTS "ecdsa-p256/other.key", &other,
                       err, sizeof err) == TLS_OK,
                  "%s", err);
    {
        tls_certified_key *const certs[] = {other, end};

        ck_assert_ptr_eq(tls__resolve_cert(certs, 2, true, "other.test", NULL, NULL), other);
        ck_assert_ptr_eq(tls__resolve_cert(certs, 2, true, "localhost", NULL, NULL), end);
        ck_assert_ptr_eq(tls__resolve_cert(certs, 2, true, "sub.wild.test", NULL, NULL), end);
        ck_assert_ptr_null(tls__resolve_cert(certs, 2, true, "unknown.test", NULL, NULL));
        ck_assert_ptr_eq(tls__resolve_cert(certs, 2, false, "unknown.test", NULL, NULL), other);
    }
    tls_certified_key_unref(other);
    tls_certified_key_unref(end);
}
END_TEST

START_TEST(test_certkey_resolve_wildcard_match)
{
    struct tls_certified_key plain = FAKE_CK("localhost");
    struct tls_certified_key wild = FAKE_CK("*.wild.test");
    tls_certified_key *const certs[] = {&plain, &wild};

    ck_assert_ptr_eq(tls__resolve_cert(certs, 2, true, "a.wild.test", NULL, NULL), &wild);
    ck_assert_ptr_null(tls__resolve_cert(certs, 2, true, "a.b.wild.test", NULL, NULL));
    ck_assert_ptr_eq(tls__resolve_cert(certs, 2, false, "a.b.wild.test", NULL, NULL), &plain);
}
END_TEST

START_TEST(test_certkey_resolve_unknown_name_default_when_not_strict)
{
    struct tls_certified_key a = FAKE_CK("a.test");
    struct tls_certified_key b = FAKE_CK("b.test");
    tls_certified_key *const certs[] = {&a, &b};

    ck_assert_ptr_eq(tls__resolve_cert(certs, 2, false, "c.test", NULL, NULL), &a);
    ck_assert_ptr_eq(tls__resolve_cert(certs, 2, false, "*.test", NULL, NULL), &a);
}
END_TEST

START_TEST(test_certkey_resolve_unknown_name_null_when_strict)
{
    struct tls_certified_key a = FAKE_CK("a.test");
    struct tls_certified_key b = FAKE_CK("b.test");
    tls_certified_key *const certs[] = {&a, &b};

    ck_assert_ptr_null(tls__resolve_cert(certs, 2, true, "c.test", NULL, NULL));
    ck_assert_ptr_null(tls__resolve_cert(certs, 2, true, "*.test", NULL, NULL));
    ck_assert_ptr_null(tls__resolve_cert(certs, 2, true, ".", NULL, NULL));
}
END_TEST

START_TEST(test_certkey_resolve_null_name_default)
{
    struct tls_certified_key a = FAKE_CK("a.test");
    struct tls_certified_key b = FAKE_CK("b.test");
    tls_certified_key *const certs[] = {&a, &b};

    ck_assert_ptr_eq(tls__resolve_cert(certs, 2, false, NULL, NULL, NULL), &a);
    ck_assert_ptr_eq(tls__resolve_cert(certs, 2, true, NULL, NULL, NULL), &a);
    ck_assert_ptr_eq(tls__resolve_cert(certs, 2, true, "", NULL, NULL), &a);
}
END_TEST

START_TEST(test_certkey_resolve_no_certs)
{
    ck_assert_ptr_null(tls__resolve_cert(NULL, 0, false, NULL, NULL, NULL));
    ck_assert_ptr_null(tls__resolve_cert(NULL, 0, false, "a.test", NULL, NULL));
    ck_assert_ptr_null(tls__resolve_cert(NULL, 0, true, "a.test", NULL, NULL));
}
END_TEST

/* ---- references and memory ----------------------------------------------------------------- */

START_TEST(test_certkey_ref_unref_balance)
{
    tls_certified_key *ck = load_p256_end();

    ck_assert_ptr_eq(tls_certified_key_ref(ck), ck);
    ck_assert_ptr_eq(tls_certified_key_ref(ck), ck);
    ck_assert_uint_eq(atomic_load(&ck->refs), 3);
    tls_certified_key_unref(ck);
    tls_certified_key_unref(ck);
    ck_assert_uint_eq(atomic_load(&ck->refs), 1);
    ck_assert(tls_certified_key_covers(ck, "localhost"));
    tls_certified_key_unref(ck); /* frees: ASan reports a leak or a use after this */
}
END_TEST

START_TEST(test_certkey_ref_unref_null)
{
    ck_assert_ptr_null(tls_certified_key_ref(NULL));
    tls_certified_key_unref(NULL);
}
END_TEST

/* Counting allocator: every block is recorded with its size; a free must pass it back. */
#define MAX_BLOCKS 4096
static struct {
    void *p;
    size_t size;
} blocks[MAX_BLOCKS];
static size_t live_blocks, size_mismatches, unknown_frees;

static void *counting_alloc(void *arg, size_t size)
{
    void *p = malloc(size);

    (void)arg;
    if (p == NULL)
        return NULL;
    for (size_t i = 0; i < MAX_BLOCKS; i++) {
        if (blocks[i].p == NULL) {
            blocks[i].p = p;
            blocks[i].size = size;
            live_blocks++;
            return p;
        }
    }
    free(p);
    return NULL;
}

static void counting_free(void *arg, void *p, size_t size)
{
    (void)arg;
    if (p == NULL)
        return;
    for (size_t i = 0; i < MAX_BLOCKS; i++) {
        if (blocks[i].p == p) {
            /* tls__alloc(0) hands out one byte; accept either spelling of it. */
            if (blocks[i].size != size && !(blocks[i].size == 1 && size == 0))
                size_mismatches++;
            blocks[i].p = NULL;
            live_blocks--;
            free(p);
            return;
        }
    }
    unknown_frees++;
    free(p);
}

static void check_allocations(const char *chain, const char *key, tls_error want)
{
    static const tls_allocator counting = {counting_alloc, counting_free, NULL};
    tls_certified_key *ck = NULL;
    char err[256];

    live_blocks = size_mismatches = unknown_frees = 0;
    memset(blocks, 0, sizeof blocks);
    tls_set_allocator(&counting);
    ck_assert_msg(load(chain, key, &ck, err, sizeof err) == want, "%s: %s", chain, err);
    if (want == TLS_OK) {
        ck_assert_uint_gt(live_blocks, 0);
        tls_certified_key_unref(ck);
    }
    tls_set_allocator(NULL);
    ck_assert_uint_eq(live_blocks, 0);
    ck_assert_uint_eq(size_mismatches, 0);
    ck_assert_uint_eq(unknown_frees, 0);
}

START_TEST(test_certkey_unref_frees_every_block_with_its_size)
{
    char chain[128], key[128];

    snprintf(chain, sizeof chain, CERTS "%s/end.fullchain", key_types[_i].dir);
    snprintf(key, sizeof key, CERTS "%s/end.key", key_types[_i].dir);
    check_allocations(chain, key, TLS_OK);
    snprintf(key, sizeof key, CERTS "%s/other.key", key_types[_i].dir);
    check_allocations(chain, key, TLS_ERR_KEY_MISMATCH);
    check_allocations(chain, CERTS "ecdsa-p256/end.cert", TLS_ERR_KEY_PARSE);
    check_allocations(CERTS "ecdsa-p256/end.key", key, TLS_ERR_CERT_PARSE);
}
END_TEST

/* ---- suite ---------------------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("certkey");
    TCase *ld = tcase_create("load");
    TCase *errors = tcase_create("load_errors");
    TCase *parse = tcase_create("parse");
    TCase *names = tcase_create("names");
    TCase *covers = tcase_create("covers");
    TCase *resolve = tcase_create("resolve");
    TCase *refs = tcase_create("refs");
    int n_types = (int)(sizeof key_types / sizeof key_types[0]);

    tcase_add_loop_test(ld, test_certkey_load_pkcs8_ok, 0, n_types);
    tcase_add_test(ld, test_certkey_load_rsa_pkcs1_key_ok);
    tcase_add_loop_test(ld, test_certkey_load_ec_sec1_key_ok, 1, n_types);
    tcase_add_loop_test(ld, test_certkey_load_other_chain_ok, 0, n_types);
    tcase_add_test(ld, test_certkey_load_single_cert_ok);
    tcase_add_test(ld, test_certkey_load_errbuf_null_ok);
    tcase_add_test(ld, test_certkey_load_errbuf_truncated);
    suite_add_tcase(s, ld);

    tcase_add_checked_fixture(errors, make_tmp_dir, remove_tmp_dir);
    tcase_add_test(errors, test_certkey_load_missing_cert_file);
    tcase_add_test(errors, test_certkey_load_missing_key_file);
    tcase_add_test(errors, test_certkey_load_cert_path_is_directory);
    tcase_add_test(errors, test_certkey_load_cert_file_too_large);
    tcase_add_test(errors, test_certkey_load_cert_file_exactly_max_size);
    tcase_add_test(errors, test_certkey_load_garbage_cert);
    tcase_add_test(errors, test_certkey_load_garbage_der_cert);
    tcase_add_test(errors, test_certkey_load_empty_cert);
    tcase_add_test(errors, test_certkey_load_key_given_as_cert);
    tcase_add_test(errors, test_certkey_load_truncated_last_cert);
    tcase_add_test(errors, test_certkey_load_truncated_first_cert);
    tcase_add_test(errors, test_certkey_load_corrupt_middle_cert);
    tcase_add_test(errors, test_certkey_load_max_chain_ok);
    tcase_add_test(errors, test_certkey_load_chain_too_long);
    tcase_add_test(errors, test_certkey_load_garbage_key);
    tcase_add_test(errors, test_certkey_load_encrypted_key);
    tcase_add_test(errors, test_certkey_load_empty_key);
    tcase_add_test(errors, test_certkey_load_cert_given_as_key);
    tcase_add_test(errors, test_certkey_load_key_mismatch_rsa_cert_p256_key);
    tcase_add_loop_test(errors, test_certkey_load_key_mismatch_other_key, 0, n_types);
    tcase_add_test(errors, test_certkey_load_key_mismatch_p256_cert_p384_key);
    tcase_add_test(errors, test_certkey_load_key_of_intermediate_mismatch);
    tcase_add_test(errors, test_certkey_load_unsupported_key_p521);
    tcase_set_timeout(errors, 30);
    suite_add_tcase(s, errors);

    tcase_add_test(parse, test_certkey_parse_pem_without_nul_ok);
    tcase_add_test(parse, test_certkey_parse_pem_with_nul_ok);
    tcase_add_test(parse, test_certkey_parse_der_ok);
    tcase_add_test(parse, test_certkey_parse_empty_chain);
    tcase_add_test(parse, test_certkey_parse_empty_key);
    tcase_add_test(parse, test_certkey_parse_null_arguments);
    suite_add_tcase(s, parse);

    tcase_add_test(names, test_certkey_parse_names_cn_fallback_without_san);
    tcase_add_test(names, test_certkey_parse_names_no_san_no_cn);
    tcase_add_test(names, test_certkey_parse_names_cn_ignored_with_dns_san);
    tcase_add_test(names, test_certkey_parse_names_cn_fallback_with_only_ip_san);
    tcase_add_test(names, test_certkey_parse_names_dns_with_nul_dropped);
    suite_add_tcase(s, names);

    tcase_add_test(covers, test_certkey_covers_exact);
    tcase_add_test(covers, test_certkey_covers_case_insensitive);
    tcase_add_test(covers, test_certkey_covers_trailing_dot);
    tcase_add_test(covers, test_certkey_covers_wildcard_one_label);
    tcase_add_test(covers, test_certkey_covers_wildcard_not_two_labels);
    tcase_add_test(covers, test_certkey_covers_wildcard_not_bare_domain);
    tcase_add_test(covers, test_certkey_covers_literal_wildcard_name);
    tcase_add_test(covers, test_certkey_covers_empty_and_null);
    tcase_add_test(covers, test_certkey_covers_wildcard_needs_two_labels_after_it);
    tcase_add_test(covers, test_certkey_covers_wildcard_only_whole_left_label);
    tcase_add_test(covers, test_certkey_covers_pattern_with_trailing_dot);
    suite_add_tcase(s, covers);

    tcase_add_test(resolve, test_certkey_resolve_exact_beats_wildcard);
    tcase_add_test(resolve, test_certkey_resolve_first_exact_wins);
    tcase_add_test(resolve, test_certkey_resolve_ranked);
    tcase_add_test(resolve, test_certkey_resolve_real_certs);
    tcase_add_test(resolve, test_certkey_resolve_wildcard_match);
    tcase_add_test(resolve, test_certkey_resolve_unknown_name_default_when_not_strict);
    tcase_add_test(resolve, test_certkey_resolve_unknown_name_null_when_strict);
    tcase_add_test(resolve, test_certkey_resolve_null_name_default);
    tcase_add_test(resolve, test_certkey_resolve_no_certs);
    suite_add_tcase(s, resolve);

    tcase_add_test(refs, test_certkey_ref_unref_balance);
    tcase_add_test(refs, test_certkey_ref_unref_null);
    tcase_add_loop_test(refs, test_certkey_unref_frees_every_block_with_its_size, 0, n_types);
    suite_add_tcase(s, refs);
    return s;
}

TEST_MAIN(make_suite)
