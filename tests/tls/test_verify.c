/*
 * test_verify.c — unit tests for tls/verify.c: trust-anchor stores and the default
 * server certificate verifier, and the provider's verify_spki that it checks
 * certificate signatures with.
 *
 * Chains come from the test PKI (tests/certs/{rsa2048,ecdsa-p256,ecdsa-p384}, paths
 * relative to the repository root where tests run), from tests/certs/bad/ (made by
 * tests/certs/mkbad.sh; bad/README.md says what each one is), and from mbedTLS's
 * certificate writer for what files hold badly: loops, meshes, long chains, name edge
 * cases, anchors with name constraints, look-alike issuers. Generated roots are written
 * to a fresh mkdtemp directory per test. Every case asserts the exact error; "now" is
 * fixed at 2026-06-01T00:00:00Z unless a case is about time.
 */
#include "tests/lib/unit.h"
#include "tls/internal.h"
#include "tls/verify.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <mbedtls/ecp.h>
#include <mbedtls/oid.h>
#include <mbedtls/pem.h>
#include <mbedtls/pk.h>
#include <mbedtls/x509_crt.h>

#define CERTS "tests/certs/"
#define NOW INT64_C(1780272000)        /* 2026-06-01T00:00:00Z */
#define NOT_BEFORE INT64_C(1577836800) /* 2020-01-01T00:00:00Z, the test PKI's notBefore */
#define NOT_AFTER INT64_C(2398377599)  /* 2045-12-31T23:59:59Z, its notAfter */

static const char *const key_dirs[] = {"rsa2048", "ecdsa-p256", "ecdsa-p384"};
#define N_KEY_DIRS (sizeof key_dirs / sizeof key_dirs[0])

/* ---- chains --------------------------------------------------------------------------- */

#define MAX_TEST_CHAIN 64

/* DER certificates as tls_verify_server_cert takes them (malloc'd copies). */
typedef struct {
    uint8_t *der[MAX_TEST_CHAIN];
    size_t len[MAX_TEST_CHAIN];
    size_t n;
} chain;

static void chain_add(chain *c, const uint8_t *der, size_t len)
{
    ck_assert_uint_lt(c->n, MAX_TEST_CHAIN);
    c->der[c->n] = malloc(len ? len : 1);
    ck_assert_ptr_nonnull(c->der[c->n]);
    if (len > 0)
        memcpy(c->der[c->n], der, len);
    c->len[c->n++] = len;
}

static char *slurp(const char *path, size_t *len);

/* Appends every certificate of a PEM file, in file order. Only the PEM is decoded:
 * some of tests/certs/bad are meant to be refused by the certificate parser. */
static void chain_add_file(chain *c, const char *path)
{
    size_t len, used = 0, n = 0;
    char *text = slurp(path, &len);
    const unsigned char *p = (const unsigned char *)text;

    for (;;) {
        mbedtls_pem_context pem;
        int ret;

        mbedtls_pem_init(&pem);
        ret = mbedtls_pem_read_buffer(&pem, "-----BEGIN CERTIFICATE-----",
                                      "-----END CERTIFICATE-----", p, NULL, 0, &used);
        if (ret == MBEDTLS_ERR_PEM_NO_HEADER_FOOTER_PRESENT) {
            mbedtls_pem_free(&pem);
            break;
        }
        ck_assert_msg(ret == 0, "%s: bad PEM (-0x%04x)", path, (unsigned)-ret);
        chain_add(c, pem.buf, pem.buflen);
        mbedtls_pem_free(&pem);
        p += used;
        n++;
    }
    ck_assert_msg(n > 0, "%s: no certificates", path);
    free(text);
}

static void chain_add_dir_file(chain *c, const char *dir, const char *file)
{
    char path[256];

    snprintf(path, sizeof path, CERTS "%s/%s", dir, file);
    chain_add_file(c, path);
}

static void chain_free(chain *c)
{
    for (size_t i = 0; i < c->n; i++)
        free(c->der[i]);
    c->n = 0;
}

static tls_error verify(const tls_root_store *roots, const chain *c, const char *name, int64_t now)
{
    return tls_verify_server_cert(roots, (const uint8_t *const *)c->der, c->len, c->n, name, now);
}

#define assert_verify(roots, c, name, now, want)                                                   \
    do {                                                                                           \
        tls_error got_ = verify(roots, c, name, now);                                              \
        ck_assert_msg(got_ == (want), "%s: got %s, want %s", name, tls_error_name(got_),           \
                      tls_error_name(want));                                                       \
    } while (0)

static tls_root_store *roots_load(const char *path)
{
    tls_root_store *roots = NULL;
    char err[512] = "";

    ck_assert_msg(tls_root_store_load(path, &roots, err, sizeof err) == TLS_OK, "%s: %s", path,
                  err);
    ck_assert_ptr_nonnull(roots);
    return roots;
}

static tls_root_store *roots_for(const char *dir)
{
    char path[256];

    snprintf(path, sizeof path, CERTS "%s/ca.cert", dir);
    return roots_load(path);
}

static double seconds_since(const struct timespec *t0)
{
    struct timespec t1;

    clock_gettime(CLOCK_MONOTONIC, &t1);
    return (double)(t1.tv_sec - t0->tv_sec) + (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

/* ---- a temporary directory per test ----------------------------------------------------- */

static char tmp_dir[64];

static void setup(void)
{
    tmp_dir[0] = '\0';
}

static void teardown(void)
{
    char cmd[128];

    /* Only ever our own mkdtemp directory. */
    if (strncmp(tmp_dir, "/tmp/test_verify.", 17) != 0)
        return;
    snprintf(cmd, sizeof cmd, "rm -rf '%s'", tmp_dir);
    if (system(cmd) != 0)
        fprintf(stderr, "could not remove %s\n", tmp_dir);
}

static const char *tmp_path(const char *name)
{
    static char paths[8][128];
    static size_t next;
    char *path = paths[next++ % 8];

    if (tmp_dir[0] == '\0') {
        strcpy(tmp_dir, "/tmp/test_verify.XXXXXX");
        ck_assert_ptr_nonnull(mkdtemp(tmp_dir));
    }
    snprintf(path, sizeof paths[0], "%s/%s", tmp_dir, name);
    return path;
}

static const char *write_tmp(const char *name, const void *data, size_t len)
{
    const char *path = tmp_path(name);
    FILE *f = fopen(path, "wb");

    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(data, 1, len, f), len);
    ck_assert_int_eq(fclose(f), 0);
    return path;
}

/* Writes der as a PEM CERTIFICATE file; returns its path. */
static const char *write_pem(const char *name, const uint8_t *der, size_t len)
{
    unsigned char pem[8192];
    size_t olen = 0;

    ck_assert_int_eq(mbedtls_pem_write_buffer("-----BEGIN CERTIFICATE-----\n",
                                              "-----END CERTIFICATE-----\n", der, len, pem,
                                              sizeof pem, &olen),
                     0);
    return write_tmp(name, pem, olen - 1); /* olen counts the NUL */
}

/* ---- certificates made on the fly ------------------------------------------------------- */

/* Test-only randomness: reproducible, not secret. */
static int test_rng(void *arg, unsigned char *out, size_t len)
{
    unsigned *state = arg;

    for (size_t i = 0; i < len; i++) {
        *state = *state * 1103515245u + 12345u;
        out[i] = (unsigned char)(*state >> 16);
    }
    return 0;
}

static unsigned rng_state = 1;

typedef struct {
    mbedtls_pk_context pk;
    const char *dn; /* "CN=...,O=..." */
} gkey;

static void gkey_init(gkey *k, const char *dn)
{
    mbedtls_pk_init(&k->pk);
    ck_assert_int_eq(mbedtls_pk_setup(&k->pk, mbedtls_pk_info_from_type(MBEDTLS_PK_ECKEY)), 0);
    ck_assert_int_eq(
        mbedtls_ecp_gen_key(MBEDTLS_ECP_DP_SECP256R1, mbedtls_pk_ec(k->pk), test_rng, &rng_state),
        0);
    k->dn = dn;
}

static void gkey_free(gkey *k)
{
    mbedtls_pk_free(&k->pk);
}

typedef struct {
    const gkey *subject, *issuer;
    bool ca;
    const char *from, *to; /* "YYYYMMDDhhmmss"; NULL: the test PKI's dates */
    const uint8_t *san;    /* DER GeneralNames, or NULL */
    size_t san_len;
    const uint8_t *nc; /* DER NameConstraints (critical), or NULL */
    size_t nc_len;
    bool no_key_ids; /* leave out subjectKeyIdentifier and authorityKeyIdentifier */
} gcert;

/* Makes the certificate g describes and appends its DER to c. */
static void gen(chain *c, const gcert *g)
{
    static unsigned serial_no = 1;
    unsigned char buf[4096];
    mbedtls_x509write_cert w;
    mbedtls_mpi serial;
    int len;

    mbedtls_x509write_crt_init(&w);
    mbedtls_mpi_init(&serial);
    ck_assert_int_eq(mbedtls_mpi_lset(&serial, serial_no++), 0);
    mbedtls_x509write_crt_set_version(&w, MBEDTLS_X509_CRT_VERSION_3);
    mbedtls_x509write_crt_set_md_alg(&w, MBEDTLS_MD_SHA256);
    mbedtls_x509write_crt_set_subject_key(&w, (mbedtls_pk_context *)&g->subject->pk);
    mbedtls_x509write_crt_set_issuer_key(&w, (mbedtls_pk_context *)&g->issuer->pk);
    ck_assert_int_eq(mbedtls_x509write_crt_set_serial(&w, &serial), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_validity(&w, g->from ? g->from : "20200101000000",
                                                        g->to ? g->to : "20451231235959"),
                     0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_subject_name(&w, g->subject->dn), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_issuer_name(&w, g->issuer->dn), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_basic_constraints(&w, g->ca, -1), 0);
    ck_assert_int_eq(mbedtls_x509write_crt_set_key_usage(
                         &w, g->ca ? MBEDTLS_X509_KU_KEY_CERT_SIGN | MBEDTLS_X509_KU_CRL_SIGN
                                   : MBEDTLS_X509_KU_DIGITAL_SIGNATURE),
                     0);
    if (!g->no_key_ids) {
        ck_assert_int_eq(mbedtls_x509write_crt_set_subject_key_identifier(&w), 0);
        ck_assert_int_eq(mbedtls_x509write_crt_set_authority_key_identifier(&w), 0);
    }
    if (g->san != NULL)
        ck_assert_int_eq(mbedtls_x509write_crt_set_extension(
                             &w, MBEDTLS_OID_SUBJECT_ALT_NAME,
                             MBEDTLS_OID_SIZE(MBEDTLS_OID_SUBJECT_ALT_NAME), 0, g->san, g->san_len),
                         0);
    if (g->nc != NULL)
        ck_assert_int_eq(mbedtls_x509write_crt_set_extension(
                             &w, MBEDTLS_OID_NAME_CONSTRAINTS,
                             MBEDTLS_OID_SIZE(MBEDTLS_OID_NAME_CONSTRAINTS), 1, g->nc, g->nc_len),
                         0);
    len = mbedtls_x509write_crt_der(&w, buf, sizeof buf, test_rng, &rng_state);
    ck_assert_int_gt(len, 0);
    /* The writer fills the buffer from its end. */
    chain_add(c, buf + sizeof buf - (size_t)len, (size_t)len);
    mbedtls_mpi_free(&serial);
    mbedtls_x509write_crt_free(&w);
}

/* A tiny DER writer: tag, length (short or two-byte long form), content. */
static size_t der_put(uint8_t *out, size_t cap, uint8_t tag, const void *content, size_t len)
{
    size_t hdr = len < 128 ? 2 : 4;

    ck_assert_uint_lt(len, 65536);
    ck_assert_uint_le(hdr + len, cap);
    out[0] = tag;
    if (len < 128) {
        out[1] = (uint8_t)len;
    } else {
        out[1] = 0x82;
        out[2] = (uint8_t)(len >> 8);
        out[3] = (uint8_t)len;
    }
    memmove(out + hdr, content, len);
    return hdr + len;
}

#define GN_DNS 0x82
#define GN_IP 0x87

typedef struct {
    uint8_t tag;
    const char *value; /* bytes */
    size_t len;        /* 0: strlen(value) */
} gname;

#define DNS(s)                                                                                     \
    {                                                                                              \
        GN_DNS, s, 0                                                                               \
    }

/* The concatenated GeneralName encodings of names (no SEQUENCE around them). */
static size_t put_names(uint8_t *out, size_t cap, const gname *names, size_t n)
{
    size_t len = 0;

    for (size_t i = 0; i < n; i++) {
        size_t vlen = names[i].len ? names[i].len : strlen(names[i].value);
        len += der_put(out + len, cap - len, names[i].tag, names[i].value, vlen);
    }
    return len;
}

/* GeneralNames: a SEQUENCE of the names. */
static size_t build_san(uint8_t *out, size_t cap, const gname *names, size_t n)
{
    uint8_t body[1024];
    size_t len = put_names(body, sizeof body, names, n);

    return der_put(out, cap, 0x30, body, len);
}

/* NameConstraints with the given permitted and excluded bases (either may be empty). */
static size_t build_nc(uint8_t *out, size_t cap, const gname *permitted, size_t np,
                       const gname *excluded, size_t ne)
{
    uint8_t body[1024], trees[512], tree[256];
    size_t len = 0;

    for (int which = 0; which < 2; which++) {
        const gname *g = which == 0 ? permitted : excluded;
        size_t n = which == 0 ? np : ne, tlen = 0;

        if (n == 0)
            continue;
        for (size_t i = 0; i < n; i++) {
            size_t glen = put_names(tree, sizeof tree, &g[i], 1);
            tlen += der_put(trees + tlen, sizeof trees - tlen, 0x30, tree, glen);
        }
        len += der_put(body + len, sizeof body - len, (uint8_t)(0xa0 | which), trees, tlen);
    }
    return der_put(out, cap, 0x30, body, len);
}

/* ---- the test PKI: good chains ------------------------------------------------------------ */

START_TEST(test_verify_server_cert_good_chain_ok)
{
    static const char *const names[] = {
        "localhost",       "testserver.com", "a.wild.test",
        "127.0.0.1",       "LocalHost",      "localhost.",
        "TESTSERVER.COM",  "A.Wild.Test",    "xn--bcher-kva.wild.test",
        "a-b_c.wild.test",
    };
    tls_root_store *roots = roots_for(key_dirs[_i]);
    chain c = {0};

    chain_add_dir_file(&c, key_dirs[_i], "end.fullchain");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_verify(roots, &c, names[i], NOW, TLS_OK);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

START_TEST(test_verify_server_cert_wrong_name_not_valid_for_name)
{
    static const char *const names[] = {
        "example.com",
        "wild.test",
        "a.b.wild.test",
        "127.0.0.2",
        "::1",
        "",
        "*.wild.test",
        "localhost..",
        ".localhost",
        "127.0.0.1.",
        "::ffff:127.0.0.1",
        "testserver",
        "testserver.co",
        "xlocalhost",
        "local host",
        "localhost\xff",
        "-a.wild.test",
        "a-.wild.test",
        "[127.0.0.1]",
        "127.1",
    };
    tls_root_store *roots = roots_for(key_dirs[_i]);
    chain c = {0};

    chain_add_dir_file(&c, key_dirs[_i], "end.fullchain");
    for (size_t i = 0; i < sizeof names / sizeof names[0]; i++)
        assert_verify(roots, &c, names[i], NOW, TLS_ERR_CERT_NOT_VALID_FOR_NAME);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

/* other.fullchain names other.test only. */
START_TEST(test_verify_server_cert_other_leaf_names_only_its_san)
{
    tls_root_store *roots = roots_for(key_dirs[_i]);
    chain c = {0};

    chain_add_dir_file(&c, key_dirs[_i], "other.fullchain");
    assert_verify(roots, &c, "other.test", NOW, TLS_OK);
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_NOT_VALID_FOR_NAME);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

START_TEST(test_verify_server_cert_other_key_type_ca_unknown_issuer)
{
    tls_root_store *roots = roots_for(key_dirs[(_i + 1) % N_KEY_DIRS]);
    chain c = {0};

    chain_add_dir_file(&c, key_dirs[_i], "end.fullchain");
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_UNKNOWN_ISSUER);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

START_TEST(test_verify_server_cert_missing_intermediate_unknown_issuer)
{
    tls_root_store *roots = roots_for(key_dirs[_i]);
    chain c = {0};

    chain_add_dir_file(&c, key_dirs[_i], "end.cert");
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_UNKNOWN_ISSUER);
    chain_add_dir_file(&c, key_dirs[_i], "ca.cert");
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_UNKNOWN_ISSUER);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

/* Intermediates in any order, with unrelated certificates mixed in. */
START_TEST(test_verify_server_cert_shuffled_and_extra_certs_ok)
{
    const char *dir = key_dirs[_i], *other = key_dirs[(_i + 1) % N_KEY_DIRS];
    tls_root_store *roots = roots_for(dir);
    chain c = {0};

    chain_add_dir_file(&c, dir, "end.cert");
    chain_add_dir_file(&c, dir, "ca.cert");
    chain_add_dir_file(&c, other, "inter.cert");
    chain_add_dir_file(&c, dir, "other.cert");
    chain_add_dir_file(&c, other, "ca.cert");
    chain_add_dir_file(&c, dir, "inter.cert");
    assert_verify(roots, &c, "testserver.com", NOW, TLS_OK);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

/* Any certificate in the store is a trust anchor, an intermediate too. */
START_TEST(test_verify_server_cert_intermediate_as_anchor_ok)
{
    char path[256];
    tls_root_store *roots;
    chain c = {0};

    snprintf(path, sizeof path, CERTS "%s/inter.cert", key_dirs[_i]);
    roots = roots_load(path);
    chain_add_dir_file(&c, key_dirs[_i], "end.cert");
    assert_verify(roots, &c, "localhost", NOW, TLS_OK);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

/* A bundle of several roots finds the right one. */
START_TEST(test_verify_server_cert_multi_root_bundle_ok)
{
    tls_root_store *roots;
    chain c = {0};
    uint8_t buf[16384];
    size_t len = 0;

    for (size_t i = 0; i < N_KEY_DIRS; i++) {
        char path[256];
        FILE *f;

        snprintf(path, sizeof path, CERTS "%s/ca.cert", key_dirs[i]);
        f = fopen(path, "rb");
        ck_assert_ptr_nonnull(f);
        len += fread(buf + len, 1, sizeof buf - len, f);
        fclose(f);
    }
    roots = roots_load(write_tmp("bundle.pem", buf, len));
    ck_assert_uint_eq(tls__root_store_len(roots), N_KEY_DIRS);
    for (size_t i = 0; i < N_KEY_DIRS; i++) {
        chain_add_dir_file(&c, key_dirs[i], "end.fullchain");
        assert_verify(roots, &c, "localhost", NOW, TLS_OK);
        chain_free(&c);
    }
    tls_root_store_unref(roots);
}
END_TEST

/* ---- time ------------------------------------------------------------------------------- */

START_TEST(test_verify_server_cert_validity_bounds)
{
    tls_root_store *roots = roots_for(key_dirs[_i]);
    chain c = {0};

    chain_add_dir_file(&c, key_dirs[_i], "end.fullchain");
    assert_verify(roots, &c, "localhost", NOT_BEFORE, TLS_OK);
    assert_verify(roots, &c, "localhost", NOT_AFTER, TLS_OK);
    assert_verify(roots, &c, "localhost", NOT_BEFORE - 1, TLS_ERR_CERT_NOT_VALID_YET);
    assert_verify(roots, &c, "localhost", NOT_AFTER + 1, TLS_ERR_CERT_EXPIRED);
    assert_verify(roots, &c, "localhost", INT64_C(1262304000) /* 2010 */,
                  TLS_ERR_CERT_NOT_VALID_YET);
    assert_verify(roots, &c, "localhost", INT64_C(2556144000) /* 2051 */, TLS_ERR_CERT_EXPIRED);
    assert_verify(roots, &c, "localhost", INT64_MIN, TLS_ERR_CERT_NOT_VALID_YET);
    assert_verify(roots, &c, "localhost", INT64_MAX, TLS_ERR_CERT_EXPIRED);
    /* Time is checked before the name. */
    assert_verify(roots, &c, "example.com", NOT_AFTER + 1, TLS_ERR_CERT_EXPIRED);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

/* ---- tests/certs/bad ------------------------------------------------------------------------ */

static const struct {
    const char *chain; /* tests/certs/bad/<chain>.fullchain */
    const char *roots; /* tests/certs/<roots>/ca.cert, or a path under tests/certs/ */
    const char *name;
    tls_error want;
} bad_cases[] = {
    {"expired", "ecdsa-p256", "localhost", TLS_ERR_CERT_EXPIRED},
    {"notyet", "ecdsa-p256", "localhost", TLS_ERR_CERT_NOT_VALID_YET},
    {"selfsigned", "ecdsa-p256", "localhost", TLS_ERR_CERT_UNKNOWN_ISSUER},
    /* In the store itself: still no (an end entity is not its own issuer, as in rustls). */
    {"selfsigned", "bad/selfsigned.cert", "localhost", TLS_ERR_CERT_UNKNOWN_ISSUER},
    {"ca_as_leaf", "ecdsa-p256", "localhost", TLS_ERR_CERT_CA_USED_AS_END_ENTITY},
    {"wrongname", "ecdsa-p256", "localhost", TLS_ERR_CERT_NOT_VALID_FOR_NAME},
    {"wrongname", "ecdsa-p256", "wrong.example", TLS_OK},
    {"nointer", "ecdsa-p256", "localhost", TLS_ERR_CERT_UNKNOWN_ISSUER},
    {"clientauth", "ecdsa-p256", "localhost", TLS_ERR_CERT_INVALID_PURPOSE},
    {"sha1", "ecdsa-p256", "localhost", TLS_ERR_CERT_UNSUPPORTED_SIGNATURE_ALGORITHM},
    {"critical_ext", "ecdsa-p256", "localhost", TLS_ERR_CERT_BAD_ENCODING},
    {"pathlen", "ecdsa-p256", "localhost", TLS_ERR_CERT_PATH_LEN_EXCEEDED},
    {"expired_inter", "ecdsa-p256", "localhost", TLS_ERR_CERT_EXPIRED},
    {"notca_inter", "ecdsa-p256", "localhost", TLS_ERR_CERT_END_ENTITY_USED_AS_CA},
    {"nocertsign_inter", "ecdsa-p256", "localhost", TLS_ERR_CERT_INVALID_PURPOSE},
    {"nc_ok", "ecdsa-p256", "www.allowed.test", TLS_OK},
    {"nc_ok", "ecdsa-p256", "127.0.0.1", TLS_OK},
    {"nc_ok", "ecdsa-p256", "localhost", TLS_ERR_CERT_NOT_VALID_FOR_NAME},
    {"nc_outside", "ecdsa-p256", "www.allowed.test", TLS_ERR_CERT_NOT_VALID_FOR_NAME},
    {"nc_excluded", "ecdsa-p256", "www.allowed.test", TLS_ERR_CERT_NOT_VALID_FOR_NAME},
    {"nc_wildcard", "ecdsa-p256", "www.allowed.test", TLS_ERR_CERT_NOT_VALID_FOR_NAME},
    {"nc_ip", "ecdsa-p256", "www.allowed.test", TLS_ERR_CERT_NOT_VALID_FOR_NAME},
    {"pss", "rsa2048", "localhost", TLS_OK},
    {"pss_salt20", "rsa2048", "localhost", TLS_ERR_CERT_UNSUPPORTED_SIGNATURE_ALGORITHM},
    {"p384_sha256", "ecdsa-p384", "localhost", TLS_OK},
    {"p256_sha512", "ecdsa-p256", "localhost", TLS_OK},
    {"rsa1024_inter", "rsa2048", "localhost", TLS_ERR_CERT_UNSUPPORTED_SIGNATURE_ALGORITHM},
};

START_TEST(test_verify_server_cert_bad_certs_exact_error)
{
    char path[256];
    tls_root_store *roots;
    chain c = {0};

    if (strchr(bad_cases[_i].roots, '/') != NULL)
        snprintf(path, sizeof path, CERTS "%s", bad_cases[_i].roots);
    else
        snprintf(path, sizeof path, CERTS "%s/ca.cert", bad_cases[_i].roots);
    roots = roots_load(path);
    snprintf(path, sizeof path, CERTS "bad/%s.fullchain", bad_cases[_i].chain);
    chain_add_file(&c, path);
    {
        tls_error got = verify(roots, &c, bad_cases[_i].name, NOW);
        ck_assert_msg(got == bad_cases[_i].want, "%s for %s: got %s, want %s", bad_cases[_i].chain,
                      bad_cases[_i].name, tls_error_name(got), tls_error_name(bad_cases[_i].want));
    }
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

/* ---- tampering and encoding --------------------------------------------------------------- */

static uint8_t *find_bytes(uint8_t *hay, size_t n, const char *needle)
{
    size_t nl = strlen(needle);

    for (size_t i = 0; i + nl <= n; i++)
        if (memcmp(hay + i, needle, nl) == 0)
            return hay + i;
    return NULL;
}

START_TEST(test_verify_server_cert_flipped_signature_bad_signature)
{
    tls_root_store *roots = roots_for(key_dirs[_i]);
    chain c = {0};
    uint8_t *p;

    chain_add_dir_file(&c, key_dirs[_i], "end.fullchain");
    /* The last byte of a certificate is the last byte of its signature. */
    c.der[0][c.len[0] - 1] ^= 0x01;
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_BAD_SIGNATURE);
    c.der[0][c.len[0] - 1] ^= 0x01;
    assert_verify(roots, &c, "localhost", NOW, TLS_OK);

    /* A changed name in the signed part. */
    p = find_bytes(c.der[0], c.len[0], "testserver.com");
    ck_assert_ptr_nonnull(p);
    p[0] = 'u';
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_BAD_SIGNATURE);
    p[0] = 't';

    /* The intermediate's signature (checked with the anchor's key). */
    c.der[1][c.len[1] - 1] ^= 0x80;
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_BAD_SIGNATURE);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

START_TEST(test_verify_server_cert_malformed_bad_encoding)
{
    static const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    tls_root_store *roots = roots_for("ecdsa-p256");
    chain c = {0};

    chain_add_dir_file(&c, "ecdsa-p256", "end.fullchain");
    /* Truncated end entity. */
    c.len[0]--;
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_BAD_ENCODING);
    c.len[0]++;
    /* Truncated intermediate. */
    c.len[1] = c.len[1] / 2;
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_BAD_ENCODING);
    chain_free(&c);

    /* A trailing byte after the end entity's DER. */
    chain_add_dir_file(&c, "ecdsa-p256", "end.fullchain");
    {
        uint8_t *longer = realloc(c.der[0], c.len[0] + 1);

        ck_assert_ptr_nonnull(longer);
        longer[c.len[0]++] = 0;
        c.der[0] = longer;
    }
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_BAD_ENCODING);
    chain_free(&c);

    /* An unparseable certificate anywhere, even unused, and an empty one. */
    chain_add_dir_file(&c, "ecdsa-p256", "end.fullchain");
    chain_add(&c, garbage, sizeof garbage);
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_BAD_ENCODING);
    c.len[c.n - 1] = 0;
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_BAD_ENCODING);
    chain_free(&c);

    chain_add(&c, garbage, sizeof garbage);
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_BAD_ENCODING);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

START_TEST(test_verify_server_cert_no_certificates_presented)
{
    tls_root_store *roots = roots_for("ecdsa-p256");
    chain c = {0};

    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_NO_CERTIFICATES_PRESENTED);
    ck_assert_int_eq(tls_verify_server_cert(roots, NULL, NULL, 0, "localhost", NOW),
                     TLS_ERR_NO_CERTIFICATES_PRESENTED);
    tls_root_store_unref(roots);
}
END_TEST

START_TEST(test_verify_server_cert_null_arguments_invalid)
{
    tls_root_store *roots = roots_for("ecdsa-p256");
    chain c = {0};

    chain_add_dir_file(&c, "ecdsa-p256", "end.fullchain");
    ck_assert_int_eq(verify(NULL, &c, "localhost", NOW), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(
        tls_verify_server_cert(roots, (const uint8_t *const *)c.der, c.len, c.n, NULL, NOW),
        TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_verify_server_cert(roots, NULL, c.len, c.n, "localhost", NOW),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(
        tls_verify_server_cert(roots, (const uint8_t *const *)c.der, NULL, c.n, "localhost", NOW),
        TLS_ERR_INVALID_ARGUMENT);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

/* ---- hostile chains ---------------------------------------------------------------------- */

START_TEST(test_verify_server_cert_twenty_intermediate_copies_bounded)
{
    tls_root_store *wrong = roots_for("rsa2048"), *right = roots_for("ecdsa-p256");
    struct timespec t0;
    chain c = {0};

    chain_add_dir_file(&c, "ecdsa-p256", "end.cert");
    for (int i = 0; i < 20; i++)
        chain_add_dir_file(&c, "ecdsa-p256", "inter.cert");
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_verify(wrong, &c, "localhost", NOW, TLS_ERR_CERT_UNKNOWN_ISSUER);
    assert_verify(right, &c, "localhost", NOW, TLS_OK);
    ck_assert_msg(seconds_since(&t0) < 1.0, "took %.3f s", seconds_since(&t0));
    chain_free(&c);
    tls_root_store_unref(wrong);
    tls_root_store_unref(right);
}
END_TEST

/* X and Y certify each other; the leaf is under X; no anchor above either. */
START_TEST(test_verify_server_cert_issuer_loop_unknown_issuer)
{
    tls_root_store *roots = roots_for("ecdsa-p256");
    gkey x, y, leaf;
    uint8_t san[256];
    size_t san_len = build_san(san, sizeof san, (const gname[]){DNS("localhost")}, 1);
    chain c = {0};
    struct timespec t0;

    gkey_init(&x, "CN=loop X,O=moat tests");
    gkey_init(&y, "CN=loop Y,O=moat tests");
    gkey_init(&leaf, "CN=localhost,O=moat tests");
    gen(&c, &(gcert){.subject = &leaf, .issuer = &x, .san = san, .san_len = san_len});
    for (int i = 0; i < 5; i++) {
        gen(&c, &(gcert){.subject = &x, .issuer = &y, .ca = true});
        gen(&c, &(gcert){.subject = &y, .issuer = &x, .ca = true});
    }
    gen(&c, &(gcert){.subject = &x, .issuer = &x, .ca = true}); /* and X self-signed */
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_UNKNOWN_ISSUER);
    ck_assert_msg(seconds_since(&t0) < 1.0, "took %.3f s", seconds_since(&t0));
    chain_free(&c);
    gkey_free(&x);
    gkey_free(&y);
    gkey_free(&leaf);
    tls_root_store_unref(roots);
}
END_TEST

/*
 * Five keys under one name, each certified by every other (25 CA certificates, no key
 * identifiers to tell them apart): without a bound the search visits thousands of
 * paths at 25 signature checks each. With it, a quick UnknownIssuer.
 */
START_TEST(test_verify_server_cert_issuer_mesh_bounded)
{
    enum { K = 5 };
    tls_root_store *roots = roots_for("ecdsa-p256");
    gkey keys[K], leaf;
    uint8_t san[256];
    size_t san_len = build_san(san, sizeof san, (const gname[]){DNS("localhost")}, 1);
    chain c = {0};
    struct timespec t0;
    double took;

    for (int i = 0; i < K; i++)
        gkey_init(&keys[i], "CN=mesh CA,O=moat tests");
    gkey_init(&leaf, "CN=localhost,O=moat tests");
    gen(&c, &(gcert){.subject = &leaf,
                     .issuer = &keys[0],
                     .san = san,
                     .san_len = san_len,
                     .no_key_ids = true});
    for (int i = 0; i < K; i++)
        for (int j = 0; j < K; j++)
            gen(&c,
                &(gcert){.subject = &keys[i], .issuer = &keys[j], .ca = true, .no_key_ids = true});
    clock_gettime(CLOCK_MONOTONIC, &t0);
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_UNKNOWN_ISSUER);
    took = seconds_since(&t0);
    fprintf(stderr, "test_verify: mesh of %d CAs rejected in %.3f s\n", K * K, took);
    ck_assert_msg(took < 3.0, "took %.3f s", took);
    chain_free(&c);
    for (int i = 0; i < K; i++)
        gkey_free(&keys[i]);
    gkey_free(&leaf);
    tls_root_store_unref(roots);
}
END_TEST

/* root -> I1 -> ... -> In -> leaf: six intermediates verify, seven do not. */
START_TEST(test_verify_server_cert_depth_limit)
{
    enum { MAX = TLS_VERIFY_MAX_INTERMEDIATES };
    static const char *const dns[MAX + 2] = {
        "CN=depth root", "CN=depth I1", "CN=depth I2", "CN=depth I3",
        "CN=depth I4",   "CN=depth I5", "CN=depth I6", "CN=depth I7",
    };
    gkey keys[MAX + 2], leaf;
    uint8_t san[256];
    size_t san_len = build_san(san, sizeof san, (const gname[]){DNS("localhost")}, 1);
    chain root = {0}, c = {0};
    tls_root_store *roots;

    for (int i = 0; i < MAX + 2; i++)
        gkey_init(&keys[i], dns[i]);
    gkey_init(&leaf, "CN=localhost");
    gen(&root, &(gcert){.subject = &keys[0], .issuer = &keys[0], .ca = true});
    roots = roots_load(write_pem("root.pem", root.der[0], root.len[0]));

    for (int n = MAX; n <= MAX + 1; n++) {
        gen(&c, &(gcert){.subject = &leaf, .issuer = &keys[n], .san = san, .san_len = san_len});
        for (int i = n; i >= 1; i--)
            gen(&c, &(gcert){.subject = &keys[i], .issuer = &keys[i - 1], .ca = true});
        assert_verify(roots, &c, "localhost", NOW, n <= MAX ? TLS_OK : TLS_ERR_CERT_UNKNOWN_ISSUER);
        chain_free(&c);
    }
    chain_free(&root);
    for (int i = 0; i < MAX + 2; i++)
        gkey_free(&keys[i]);
    gkey_free(&leaf);
    tls_root_store_unref(roots);
}
END_TEST

/* ---- issuer selection -------------------------------------------------------------------- */

/*
 * A look-alike intermediate (same name, another key) next to the real one. With key
 * identifiers it is never even tried; without them its signature fails, which means
 * "not the issuer" rather than BadSignature. A renewed intermediate (same name and key,
 * one copy expired) works whichever copy comes first.
 */
START_TEST(test_verify_server_cert_lookalike_and_renewed_issuers)
{
    gkey root, inter, fake, leaf;
    uint8_t san[256];
    size_t san_len = build_san(san, sizeof san, (const gname[]){DNS("localhost")}, 1);
    chain rootc = {0}, c = {0};
    tls_root_store *roots;

    gkey_init(&root, "CN=sel root");
    gkey_init(&inter, "CN=sel inter");
    gkey_init(&fake, "CN=sel inter");
    gkey_init(&leaf, "CN=localhost");
    gen(&rootc, &(gcert){.subject = &root, .issuer = &root, .ca = true});
    roots = roots_load(write_pem("root.pem", rootc.der[0], rootc.len[0]));

    for (int ids = 0; ids < 2; ids++) {
        bool no_ids = ids == 0;
        gcert leaf_g = {.subject = &leaf,
                        .issuer = &inter,
                        .san = san,
                        .san_len = san_len,
                        .no_key_ids = no_ids};

        gen(&c, &leaf_g);
        gen(&c, &(gcert){.subject = &fake, .issuer = &root, .ca = true, .no_key_ids = no_ids});
        assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_UNKNOWN_ISSUER);
        gen(&c, &(gcert){.subject = &inter, .issuer = &root, .ca = true, .no_key_ids = no_ids});
        assert_verify(roots, &c, "localhost", NOW, TLS_OK);
        chain_free(&c);
    }

    gen(&c, &(gcert){.subject = &leaf, .issuer = &inter, .san = san, .san_len = san_len});
    gen(&c, &(gcert){.subject = &inter,
                     .issuer = &root,
                     .ca = true,
                     .from = "20000101000000",
                     .to = "20010101000000"});
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_EXPIRED);
    gen(&c, &(gcert){.subject = &inter, .issuer = &root, .ca = true});
    assert_verify(roots, &c, "localhost", NOW, TLS_OK);
    chain_free(&c);

    chain_free(&rootc);
    gkey_free(&root);
    gkey_free(&inter);
    gkey_free(&fake);
    gkey_free(&leaf);
    tls_root_store_unref(roots);
}
END_TEST

/* ---- names ------------------------------------------------------------------------------- */

/* A leaf with the given SANs (none: n == 0 and no extension) directly under a fresh root. */
typedef struct {
    gkey root, leaf;
    tls_root_store *roots;
    chain c;
} name_fixture;

static void name_fixture_init(name_fixture *f, const char *leaf_dn, const gname *sans, size_t n)
{
    chain rootc = {0};
    uint8_t san[1024];
    size_t san_len = n > 0 ? build_san(san, sizeof san, sans, n) : 0;

    memset(f, 0, sizeof *f);
    gkey_init(&f->root, "CN=names root");
    gkey_init(&f->leaf, leaf_dn);
    gen(&rootc, &(gcert){.subject = &f->root, .issuer = &f->root, .ca = true});
    f->roots = roots_load(write_pem("names-root.pem", rootc.der[0], rootc.len[0]));
    chain_free(&rootc);
    gen(&f->c, &(gcert){.subject = &f->leaf,
                        .issuer = &f->root,
                        .san = n > 0 ? san : NULL,
                        .san_len = san_len});
}

static void name_fixture_free(name_fixture *f)
{
    chain_free(&f->c);
    tls_root_store_unref(f->roots);
    gkey_free(&f->root);
    gkey_free(&f->leaf);
}

static const struct {
    gname san;
    const char *name;
    bool ok;
} name_cases[] = {
    {DNS("*.example.com"), "a.example.com", true},
    {DNS("*.example.com"), "A.EXAMPLE.COM.", true},
    {DNS("*.example.com"), "example.com", false},
    {DNS("*.example.com"), "a.b.example.com", false},
    {DNS("*.example.com"), ".example.com", false},
    {DNS("*.example.com"), "*.example.com", false},
    {DNS("*.com"), "example.com", false},
    {DNS("*.co.uk"), "example.co.uk", true}, /* no public suffix list: two labels suffice */
    {DNS("*"), "localhost", false},
    {DNS("f*.example.com"), "foo.example.com", false},
    {DNS("*foo.example.com"), "afoo.example.com", false},
    {DNS("a.*.example.com"), "a.b.example.com", false},
    {DNS("*.*.example.com"), "a.b.example.com", false},
    {DNS("WWW.Example.COM"), "www.example.com", true},
    {DNS("www.example.com."), "www.example.com", true},
    {DNS("www.example.com."), "www.example.com.", true},
    {DNS("www.example.com"), "www.example.com..", false},
    {DNS("www.example.com"), "www.example.co", false},
    {DNS("www.example.com"), "ww.example.com", false},
    {{GN_DNS, "a.com\0.evil.com", 15}, "a.com", false},
    {DNS("127.0.0.1"), "127.0.0.1", false}, /* a dNSName never matches an IP literal */
    {DNS("1.2.3.4"), "1.2.3.4.", false},
    {{GN_IP, "\x7f\x00\x00\x01", 4}, "127.0.0.1", true},
    {{GN_IP, "\x7f\x00\x00\x01", 4}, "::ffff:127.0.0.1", false},
    {{GN_IP, "\x7f\x00\x00\x01", 4}, "localhost", false},
    {{GN_IP, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16}, "::1", true},
    {{GN_IP, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16}, "0:0:0:0:0:0:0:1", true},
    {{GN_IP, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16}, "127.0.0.1", false},
    {{GN_IP, "\x7f\x00\x00", 3}, "127.0.0.1", false},
    {{0x81, "localhost", 9}, "localhost", false}, /* rfc822Name */
    {{0x86, "localhost", 9}, "localhost", false}, /* URI */
};

START_TEST(test_verify_server_cert_san_matching)
{
    name_fixture f;
    tls_error want = name_cases[_i].ok ? TLS_OK : TLS_ERR_CERT_NOT_VALID_FOR_NAME;

    name_fixture_init(&f, "CN=names leaf", &name_cases[_i].san, 1);
    assert_verify(f.roots, &f.c, name_cases[_i].name, NOW, want);
    name_fixture_free(&f);
}
END_TEST

/* The CN is never a name, with or without a SAN. */
START_TEST(test_verify_server_cert_common_name_ignored)
{
    name_fixture f;

    name_fixture_init(&f, "CN=localhost", NULL, 0);
    assert_verify(f.roots, &f.c, "localhost", NOW, TLS_ERR_CERT_NOT_VALID_FOR_NAME);
    name_fixture_free(&f);
    name_fixture_init(&f, "CN=localhost", (const gname[]){DNS("other.test")}, 1);
    assert_verify(f.roots, &f.c, "localhost", NOW, TLS_ERR_CERT_NOT_VALID_FOR_NAME);
    assert_verify(f.roots, &f.c, "other.test", NOW, TLS_OK);
    name_fixture_free(&f);
}
END_TEST

/* ---- name constraints on the anchor and malformed ones --------------------------------------- */

START_TEST(test_verify_server_cert_anchor_name_constraints)
{
    static const gname permitted[] = {DNS("good.test"), {GN_IP, "\x0a\0\0\0\xff\0\0\0", 8}};
    static const gname excluded[] = {DNS(".bad.good.test"), {GN_IP, "\x0a\x63\0\0\xff\xff\0\0", 8}};
    static const struct {
        gname sans[2];
        size_t n;
        const char *name;
        tls_error want;
    } cases[] = {
        {{DNS("x.good.test")}, 1, "x.good.test", TLS_OK},
        {{DNS("good.test")}, 1, "good.test", TLS_OK},
        {{DNS("x.GOOD.test.")}, 1, "x.good.test", TLS_OK},
        {{DNS("bad.good.test")}, 1, "bad.good.test", TLS_OK}, /* ".bad..." is below only */
        {{DNS("x.bad.good.test")}, 1, "x.bad.good.test", TLS_ERR_CERT_NOT_VALID_FOR_NAME},
        {{DNS("*.bad.good.test")}, 1, "x.bad.good.test", TLS_ERR_CERT_NOT_VALID_FOR_NAME},
        {{DNS("xgood.test")}, 1, "xgood.test", TLS_ERR_CERT_NOT_VALID_FOR_NAME},
        {{DNS("x.good.test"), DNS("other.test")},
         2,
         "x.good.test",
         TLS_ERR_CERT_NOT_VALID_FOR_NAME},
        {{DNS("x.good.test"), {GN_IP, "\x0a\x01\x02\x03", 4}}, 2, "10.1.2.3", TLS_OK},
        {{DNS("x.good.test"), {GN_IP, "\x0b\x01\x02\x03", 4}},
         2,
         "x.good.test",
         TLS_ERR_CERT_NOT_VALID_FOR_NAME},
        {{DNS("x.good.test"), {GN_IP, "\x0a\x63\x02\x03", 4}},
         2,
         "x.good.test",
         TLS_ERR_CERT_NOT_VALID_FOR_NAME},
        /* IPv6 is the same name form as IPv4: only 10/8 is permitted. */
        {{DNS("x.good.test"), {GN_IP, "\0\0\0\0\0\0\0\0\0\0\0\0\0\0\0\x01", 16}},
         2,
         "x.good.test",
         TLS_ERR_CERT_NOT_VALID_FOR_NAME},
    };
    uint8_t nc[512];
    size_t nc_len = build_nc(nc, sizeof nc, permitted, 2, excluded, 2);
    gkey root, leaf;
    chain rootc = {0};
    tls_root_store *roots;

    gkey_init(&root, "CN=constrained root");
    gkey_init(&leaf, "CN=leaf");
    gen(&rootc,
        &(gcert){.subject = &root, .issuer = &root, .ca = true, .nc = nc, .nc_len = nc_len});
    roots = roots_load(write_pem("nc-root.pem", rootc.der[0], rootc.len[0]));
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t san[512];
        size_t san_len = build_san(san, sizeof san, cases[i].sans, cases[i].n);
        chain c = {0};
        tls_error got;

        gen(&c, &(gcert){.subject = &leaf, .issuer = &root, .san = san, .san_len = san_len});
        got = verify(roots, &c, cases[i].name, NOW);
        ck_assert_msg(got == cases[i].want, "case %zu (%s): got %s, want %s", i, cases[i].name,
                      tls_error_name(got), tls_error_name(cases[i].want));
        chain_free(&c);
    }
    chain_free(&rootc);
    gkey_free(&root);
    gkey_free(&leaf);
    tls_root_store_unref(roots);
}
END_TEST

START_TEST(test_verify_server_cert_malformed_name_constraints_bad_encoding)
{
    static const uint8_t empty[] = {0x30, 0x00};
    static const uint8_t empty_subtrees[] = {0x30, 0x02, 0xa0, 0x00};
    static const uint8_t with_minimum[] = {0x30, 0x0b, 0xa0, 0x09, 0x30, 0x07, 0x82,
                                           0x02, 'a',  'b',  0x80, 0x01, 0x01};
    static const uint8_t bad_ip_len[] = {0x30, 0x08, 0xa0, 0x06, 0x30,
                                         0x04, 0x87, 0x02, 0x0a, 0x00};
    static const uint8_t excluded_first[] = {0x30, 0x10, 0xa1, 0x06, 0x30, 0x04, 0x82, 0x02, 'a',
                                             'b',  0xa0, 0x06, 0x30, 0x04, 0x82, 0x02, 'c',  'd'};
    static const struct {
        const uint8_t *der;
        size_t len;
    } bad[] = {
        {empty, sizeof empty},
        {empty_subtrees, sizeof empty_subtrees},
        {with_minimum, sizeof with_minimum},
        {bad_ip_len, sizeof bad_ip_len},
        {excluded_first, sizeof excluded_first},
    };
    tls_root_store *roots;
    gkey root, inter, leaf;
    chain rootc = {0};
    uint8_t san[256];
    size_t san_len = build_san(san, sizeof san, (const gname[]){DNS("localhost")}, 1);

    gkey_init(&root, "CN=nc root");
    gkey_init(&inter, "CN=nc inter");
    gkey_init(&leaf, "CN=localhost");
    gen(&rootc, &(gcert){.subject = &root, .issuer = &root, .ca = true});
    roots = roots_load(write_pem("root.pem", rootc.der[0], rootc.len[0]));
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        chain c = {0};

        gen(&c, &(gcert){.subject = &leaf, .issuer = &inter, .san = san, .san_len = san_len});
        gen(&c, &(gcert){.subject = &inter,
                         .issuer = &root,
                         .ca = true,
                         .nc = bad[i].der,
                         .nc_len = bad[i].len});
        {
            tls_error got = verify(roots, &c, "localhost", NOW);
            ck_assert_msg(got == TLS_ERR_CERT_BAD_ENCODING, "case %zu: got %s", i,
                          tls_error_name(got));
        }
        chain_free(&c);
    }
    chain_free(&rootc);
    gkey_free(&root);
    gkey_free(&inter);
    gkey_free(&leaf);
    tls_root_store_unref(roots);
}
END_TEST

/* ---- root stores --------------------------------------------------------------------------- */

START_TEST(test_verify_root_store_load_counts_every_certificate)
{
    tls_root_store *roots = roots_load(CERTS "ecdsa-p256/end.fullchain");

    ck_assert_uint_eq(tls__root_store_len(roots), 3);
    ck_assert_ptr_eq(tls_root_store_ref(roots), roots);
    tls_root_store_unref(roots);
    ck_assert_uint_eq(tls__root_store_len(roots), 3); /* still alive: one reference left */
    tls_root_store_unref(roots);
    tls_root_store_unref(NULL);
    ck_assert_ptr_null(tls_root_store_ref(NULL));
}
END_TEST

/* Loads path expecting `want`; the message must name the file and contain `words`. */
static void assert_load_fails(const char *path, tls_error want, const char *words)
{
    tls_root_store *roots = (tls_root_store *)1;
    char err[512] = "";
    tls_error got = tls_root_store_load(path, &roots, err, sizeof err);

    ck_assert_msg(got == want, "%s: got %s (%s), want %s", path, tls_error_name(got), err,
                  tls_error_name(want));
    ck_assert_ptr_null(roots);
    ck_assert_msg(strstr(err, path) != NULL, "message lacks the path: %s", err);
    ck_assert_msg(strstr(err, words) != NULL, "message lacks \"%s\": %s", words, err);
}

START_TEST(test_verify_root_store_load_file_errors)
{
    int fd;
    const char *big;

    assert_load_fails("/nonexistent/roots.pem", TLS_ERR_CERT_FILE, "No such file");
    assert_load_fails(write_tmp("probe", "", 0), TLS_ERR_CERT_PARSE, "no certificates");
    assert_load_fails(tmp_dir, TLS_ERR_CERT_FILE, "directory");
    /* Sparse, so the test stays cheap: one byte over the limit. */
    big = tmp_path("big.pem");
    fd = open(big, O_WRONLY | O_CREAT | O_TRUNC, 0600);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, (off_t)TLS_ROOTS_MAX_FILE_SIZE + 1), 0);
    close(fd);
    assert_load_fails(big, TLS_ERR_CERT_FILE, "too large");
}
END_TEST

/* Reads a file into a malloc'd, NUL-terminated buffer. */
static char *slurp(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    char *buf = malloc(65536);
    size_t n;

    ck_assert_msg(f != NULL, "cannot open %s: %s", path, strerror(errno));
    ck_assert_ptr_nonnull(buf);
    n = fread(buf, 1, 65535, f);
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

START_TEST(test_verify_root_store_load_parse_errors)
{
    static const char bad_block[] = "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n"
                                    "-----END CERTIFICATE-----\n";
    static const char bad_base64[] = "-----BEGIN CERTIFICATE-----\nA!A$\n"
                                     "-----END CERTIFICATE-----\n";
    char buf[70000];
    size_t len;
    char *ca = slurp(CERTS "ecdsa-p256/ca.cert", &len), *cut;

    assert_load_fails(CERTS "ecdsa-p256/end.key", TLS_ERR_CERT_PARSE, "no certificates");
    assert_load_fails(write_tmp("bad.pem", bad_block, strlen(bad_block)), TLS_ERR_CERT_PARSE,
                      "certificate 1 of 1 is invalid (mbedTLS -0x");
    assert_load_fails(write_tmp("b64.pem", bad_base64, strlen(bad_base64)), TLS_ERR_CERT_PARSE,
                      "certificate 1 of 1 is not valid PEM (mbedTLS -0x");
    /* One good, one bad: an explicit file must be wholly good. */
    snprintf(buf, sizeof buf, "%s%s", ca, bad_block);
    assert_load_fails(write_tmp("mixed.pem", buf, strlen(buf)), TLS_ERR_CERT_PARSE,
                      "certificate 2 of 2 is invalid");
    /* A good one, then a block cut off before its footer. */
    cut = strstr(ca, "-----END");
    ck_assert_ptr_nonnull(cut);
    snprintf(buf, sizeof buf, "%s%.*s", ca, (int)(cut - ca), ca);
    assert_load_fails(write_tmp("cut.pem", buf, strlen(buf)), TLS_ERR_CERT_PARSE,
                      "certificate 2 of 2 is incomplete");
    free(ca);
}
END_TEST

/* The system bundle's loader skips what does not parse, but needs one good certificate. */
START_TEST(test_verify_root_store_load_bundle_skips_bad_certs)
{
    static const char bad_block[] = "-----BEGIN CERTIFICATE-----\nAAAAAAAA\n"
                                    "-----END CERTIFICATE-----\n";
    size_t len, crit_len;
    char *ca = slurp(CERTS "ecdsa-p256/ca.cert", &len);
    char *crit = slurp(CERTS "bad/critical_ext.cert", &crit_len), *cut;
    char buf[70000], err[512] = "";
    tls_root_store *roots = NULL;
    chain c = {0};
    const char *path;

    cut = strstr(ca, "-----END");
    ck_assert_ptr_nonnull(cut);
    snprintf(buf, sizeof buf, "%s%s%s%.*s", bad_block, crit, ca, (int)(cut - ca), ca);
    path = write_tmp("bundle.pem", buf, strlen(buf));
    ck_assert_msg(tls__root_store_load_bundle(path, &roots, err, sizeof err) == TLS_OK, "%s", err);
    ck_assert_uint_eq(tls__root_store_len(roots), 1);
    chain_add_dir_file(&c, "ecdsa-p256", "end.fullchain");
    assert_verify(roots, &c, "localhost", NOW, TLS_OK);
    chain_free(&c);
    tls_root_store_unref(roots);

    snprintf(buf, sizeof buf, "%s%s", bad_block, crit);
    path = write_tmp("allbad.pem", buf, strlen(buf));
    roots = NULL;
    ck_assert_int_eq(tls__root_store_load_bundle(path, &roots, err, sizeof err),
                     TLS_ERR_CERT_PARSE);
    ck_assert_ptr_null(roots);
    ck_assert_msg(strstr(err, "no usable certificates") != NULL, "%s", err);
    ck_assert_int_eq(tls__root_store_load_bundle("/nonexistent/b.pem", &roots, err, sizeof err),
                     TLS_ERR_CERT_FILE);
    free(ca);
    free(crit);
}
END_TEST

/* An anchor with a critical extension mbedTLS does not know is refused at load. */
START_TEST(test_verify_root_store_load_critical_extension_refused)
{
    assert_load_fails(CERTS "bad/critical_ext.cert", TLS_ERR_CERT_PARSE,
                      "certificate 1 of 1 is invalid (mbedTLS -0x");
}
END_TEST

START_TEST(test_verify_root_store_load_arguments)
{
    tls_root_store *roots = NULL;
    char err[8];

    ck_assert_int_eq(tls_root_store_load(CERTS "ecdsa-p256/ca.cert", NULL, NULL, 0),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_root_store_load(NULL, &roots, NULL, 0), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(roots);
    /* No errbuf, and a short one (truncated, still terminated). */
    ck_assert_int_eq(tls_root_store_load("/nonexistent/x.pem", &roots, NULL, 0), TLS_ERR_CERT_FILE);
    ck_assert_int_eq(tls_root_store_load("/nonexistent/x.pem", &roots, err, sizeof err),
                     TLS_ERR_CERT_FILE);
    ck_assert_uint_eq(strlen(err), sizeof err - 1);
    ck_assert_int_eq(tls_root_store_load(CERTS "ecdsa-p256/ca.cert", &roots, err, sizeof err),
                     TLS_OK);
    ck_assert_str_eq(err, "");
    tls_root_store_unref(roots);
}
END_TEST

START_TEST(test_verify_root_store_load_system_bundle)
{
    tls_root_store *roots = NULL;
    char err[512] = "";
    chain c = {0};

    if (access(TLS_ROOTS_SYSTEM_BUNDLE, R_OK) != 0) {
        fprintf(stderr,
                "test_verify: NOTE: %s is absent (Debian package ca-certificates): "
                "test_verify_root_store_load_system_bundle skipped\n",
                TLS_ROOTS_SYSTEM_BUNDLE);
        return;
    }
    ck_assert_msg(tls_root_store_load_system(&roots, err, sizeof err) == TLS_OK, "%s", err);
    ck_assert_uint_gt(tls__root_store_len(roots), 0);
    fprintf(stderr, "test_verify: %zu trust anchors in %s\n", tls__root_store_len(roots),
            TLS_ROOTS_SYSTEM_BUNDLE);
    chain_add_dir_file(&c, "ecdsa-p256", "end.fullchain");
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_UNKNOWN_ISSUER);
    chain_free(&c);
    tls_root_store_unref(roots);
}
END_TEST

/* ---- allocation accounting --------------------------------------------------------------- */

static long live_blocks;
static size_t live_bytes;

static void *counting_alloc(void *arg, size_t size)
{
    size_t *p = malloc(sizeof(size_t) * 2 + size);

    (void)arg;
    if (p == NULL)
        return NULL;
    p[0] = size;
    live_blocks++;
    live_bytes += size;
    return p + 2;
}

static void counting_free(void *arg, void *ptr, size_t size)
{
    size_t *p = (size_t *)ptr - 2;

    (void)arg;
    ck_assert_uint_eq(p[0], size); /* every free passes the size allocated */
    live_blocks--;
    live_bytes -= size;
    free(p);
}

START_TEST(test_verify_server_cert_engine_allocations_balanced)
{
    static const tls_allocator counting = {counting_alloc, counting_free, NULL};
    tls_root_store *roots = NULL, *sys = NULL;
    chain c = {0};

    tls_set_allocator(&counting);
    roots = roots_for("ecdsa-p256");
    ck_assert_int_gt(live_blocks, 0);
    chain_add_dir_file(&c, "ecdsa-p256", "end.fullchain");
    assert_verify(roots, &c, "localhost", NOW, TLS_OK);
    assert_verify(roots, &c, "example.com", NOW, TLS_ERR_CERT_NOT_VALID_FOR_NAME);
    chain_free(&c);
    chain_add_file(&c, CERTS "bad/expired_inter.fullchain");
    assert_verify(roots, &c, "localhost", NOW, TLS_ERR_CERT_EXPIRED);
    chain_free(&c);
    if (tls_root_store_load_system(&sys, NULL, 0) == TLS_OK)
        tls_root_store_unref(sys);
    ck_assert_int_eq(tls_root_store_load(CERTS "bad/critical_ext.cert", &sys, NULL, 0),
                     TLS_ERR_CERT_PARSE);
    tls_root_store_unref(roots);
    ck_assert_int_eq(live_blocks, 0);
    ck_assert_uint_eq(live_bytes, 0);
    tls_set_allocator(NULL);
}
END_TEST

/* ---- the provider's certificate signature check ---------------------------------------------- */

typedef struct {
    mbedtls_x509_crt child, issuer;
} sig_pair;

static void sig_pair_load(sig_pair *s, const char *child, const char *issuer)
{
    mbedtls_x509_crt_init(&s->child);
    mbedtls_x509_crt_init(&s->issuer);
    ck_assert_int_eq(mbedtls_x509_crt_parse_file(&s->child, child), 0);
    ck_assert_int_eq(mbedtls_x509_crt_parse_file(&s->issuer, issuer), 0);
}

static tls_error sig_pair_verify(const sig_pair *s, tls_x509_sig_kind kind, tls_hash_id hash)
{
    return tls__verify_spki(s->issuer.pk_raw.p, s->issuer.pk_raw.len, kind, hash, s->child.tbs.p,
                            s->child.tbs.len, s->child.sig.p, s->child.sig.len);
}

static void sig_pair_free(sig_pair *s)
{
    mbedtls_x509_crt_free(&s->child);
    mbedtls_x509_crt_free(&s->issuer);
}

START_TEST(test_verify_spki_ecdsa_any_hash_on_either_curve)
{
    sig_pair s;

    sig_pair_load(&s, CERTS "bad/p384_sha256.cert", CERTS "ecdsa-p384/inter.cert");
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_ECDSA, TLS_HASH_SHA256), TLS_OK);
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_ECDSA, TLS_HASH_SHA384), TLS_ERR_DECRYPT);
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_RSA_PKCS1, TLS_HASH_SHA256),
                     TLS_ERR_KEY_UNSUPPORTED);
    sig_pair_free(&s);
    sig_pair_load(&s, CERTS "bad/p256_sha512.cert", CERTS "ecdsa-p256/inter.cert");
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_ECDSA, TLS_HASH_SHA512), TLS_OK);
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_ECDSA, TLS_HASH_SHA256), TLS_ERR_DECRYPT);
    sig_pair_free(&s);
}
END_TEST

START_TEST(test_verify_spki_rsa_pkcs1_and_pss)
{
    sig_pair s;

    sig_pair_load(&s, CERTS "rsa2048/end.cert", CERTS "rsa2048/inter.cert");
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_RSA_PKCS1, TLS_HASH_SHA256), TLS_OK);
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_RSA_PSS, TLS_HASH_SHA256), TLS_ERR_DECRYPT);
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_ECDSA, TLS_HASH_SHA256),
                     TLS_ERR_KEY_UNSUPPORTED);
    sig_pair_free(&s);
    sig_pair_load(&s, CERTS "bad/pss.cert", CERTS "rsa2048/inter.cert");
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_RSA_PSS, TLS_HASH_SHA256), TLS_OK);
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_RSA_PKCS1, TLS_HASH_SHA256), TLS_ERR_DECRYPT);
    sig_pair_free(&s);
    sig_pair_load(&s, CERTS "bad/pss_salt20.cert", CERTS "rsa2048/inter.cert");
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_RSA_PSS, TLS_HASH_SHA256), TLS_ERR_DECRYPT);
    sig_pair_free(&s);
}
END_TEST

START_TEST(test_verify_spki_weak_or_garbage_key_refused)
{
    static const uint8_t garbage[] = {0x30, 0x03, 0x02, 0x01, 0x00};
    sig_pair s;

    sig_pair_load(&s, CERTS "bad/rsa1024_inter.cert", CERTS "bad/rsa1024_inter_ca.cert");
    ck_assert_int_eq(sig_pair_verify(&s, TLS_X509_SIG_RSA_PKCS1, TLS_HASH_SHA256),
                     TLS_ERR_KEY_UNSUPPORTED);
    ck_assert_int_eq(tls__verify_spki(garbage, sizeof garbage, TLS_X509_SIG_ECDSA, TLS_HASH_SHA256,
                                      s.child.tbs.p, s.child.tbs.len, s.child.sig.p,
                                      s.child.sig.len),
                     TLS_ERR_CERT_PARSE);
    sig_pair_free(&s);
}
END_TEST

/* ---- suite ------------------------------------------------------------------------------- */

static Suite *make_suite(void)
{
    Suite *s = suite_create("verify");
    TCase *tc;

    tc = tcase_create("test_pki");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_verify_server_cert_good_chain_ok, 0, N_KEY_DIRS);
    tcase_add_loop_test(tc, test_verify_server_cert_wrong_name_not_valid_for_name, 0, N_KEY_DIRS);
    tcase_add_loop_test(tc, test_verify_server_cert_other_leaf_names_only_its_san, 0, N_KEY_DIRS);
    tcase_add_loop_test(tc, test_verify_server_cert_other_key_type_ca_unknown_issuer, 0,
                        N_KEY_DIRS);
    tcase_add_loop_test(tc, test_verify_server_cert_missing_intermediate_unknown_issuer, 0,
                        N_KEY_DIRS);
    tcase_add_loop_test(tc, test_verify_server_cert_shuffled_and_extra_certs_ok, 0, N_KEY_DIRS);
    tcase_add_loop_test(tc, test_verify_server_cert_intermediate_as_anchor_ok, 0, N_KEY_DIRS);
    tcase_add_test(tc, test_verify_server_cert_multi_root_bundle_ok);
    tcase_add_loop_test(tc, test_verify_server_cert_validity_bounds, 0, N_KEY_DIRS);
    tcase_add_loop_test(tc, test_verify_server_cert_flipped_signature_bad_signature, 0, N_KEY_DIRS);
    suite_add_tcase(s, tc);

    tc = tcase_create("bad_certs");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_verify_server_cert_bad_certs_exact_error, 0,
                        sizeof bad_cases / sizeof bad_cases[0]);
    suite_add_tcase(s, tc);

    tc = tcase_create("adversarial");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_verify_server_cert_malformed_bad_encoding);
    tcase_add_test(tc, test_verify_server_cert_no_certificates_presented);
    tcase_add_test(tc, test_verify_server_cert_null_arguments_invalid);
    tcase_add_test(tc, test_verify_server_cert_twenty_intermediate_copies_bounded);
    tcase_add_test(tc, test_verify_server_cert_issuer_loop_unknown_issuer);
    tcase_add_test(tc, test_verify_server_cert_issuer_mesh_bounded);
    tcase_add_test(tc, test_verify_server_cert_depth_limit);
    tcase_add_test(tc, test_verify_server_cert_lookalike_and_renewed_issuers);
    tcase_add_test(tc, test_verify_server_cert_malformed_name_constraints_bad_encoding);
    suite_add_tcase(s, tc);

    tc = tcase_create("names");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_loop_test(tc, test_verify_server_cert_san_matching, 0,
                        sizeof name_cases / sizeof name_cases[0]);
    tcase_add_test(tc, test_verify_server_cert_common_name_ignored);
    tcase_add_test(tc, test_verify_server_cert_anchor_name_constraints);
    suite_add_tcase(s, tc);

    tc = tcase_create("root_store");
    tcase_set_timeout(tc, 60);
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_verify_root_store_load_counts_every_certificate);
    tcase_add_test(tc, test_verify_root_store_load_file_errors);
    tcase_add_test(tc, test_verify_root_store_load_parse_errors);
    tcase_add_test(tc, test_verify_root_store_load_critical_extension_refused);
    tcase_add_test(tc, test_verify_root_store_load_bundle_skips_bad_certs);
    tcase_add_test(tc, test_verify_root_store_load_arguments);
    tcase_add_test(tc, test_verify_root_store_load_system_bundle);
    tcase_add_test(tc, test_verify_server_cert_engine_allocations_balanced);
    suite_add_tcase(s, tc);

    tc = tcase_create("provider");
    tcase_add_test(tc, test_verify_spki_ecdsa_any_hash_on_either_curve);
    tcase_add_test(tc, test_verify_spki_rsa_pkcs1_and_pss);
    tcase_add_test(tc, test_verify_spki_weak_or_garbage_key_refused);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
