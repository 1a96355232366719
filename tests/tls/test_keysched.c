/*
 * test_keysched.c — unit tests for tls/keysched.c: the TLS 1.3 key schedule against
 * RFC 8448 §3 ("Simple 1-RTT Handshake", TLS_AES_128_GCM_SHA256).
 *
 * Every expected value, and every handshake message the transcript hashes cover, is
 * data in tests/vectors/rfc8448_simple_1rtt.txt (tests run from the repository root).
 * Transcript hashes are computed here with tls__hash over the concatenated message
 * bytes, so each test exercises the engine's derivation, not a value copied from the
 * RFC's intermediate "hash" lines (those are checked separately, as a cross-check of
 * the vector file itself).
 *
 * The RFC's protected records close the loop: the server's encrypted flight is opened
 * with tls__record_open after installing the server handshake traffic secret, and
 * tls__record_seal must reproduce every protected record of the trace byte for byte.
 *
 * The "tls12" case checks the TLS 1.2 PRF against published known answers, and the master
 * secret (RFC 5246 §8.1, RFC 7627 §4), key block and verify_data against P_hash written out
 * by hand with tls__hmac.
 */
#include "tests/lib/unit.h"
#include "tests/lib/vectors.h"
#include "tls/hs/hs.h"
#include "tls/keysched.h"
#include "tls/record.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define VECTOR_FILE "tests/vectors/rfc8448_simple_1rtt.txt"
#define MAX_VECTORS 96
#define SHA256_LEN 32

/* ---- the vector file: "name = hex", hex continued on indented lines ----------------- */

typedef struct {
    char name[64];
    uint8_t *data;
    size_t len;
    char *hex; /* digits gathered while parsing */
    size_t hex_len;
} vector;

static vector vectors[MAX_VECTORS];
static size_t n_vectors;
static bool vectors_loaded;

static int hex_digit(int c)
{
    if (c >= '0' && c <= '9')
        return c - '0';
    if (c >= 'a' && c <= 'f')
        return c - 'a' + 10;
    if (c >= 'A' && c <= 'F')
        return c - 'A' + 10;
    return -1;
}

static void gather_hex(vector *v, const char *p, unsigned lineno)
{
    for (; *p; p++) {
        if (isspace((unsigned char)*p))
            continue;
        ck_assert_msg(hex_digit((unsigned char)*p) >= 0, "%s:%u: '%c' is not a hex digit",
                      VECTOR_FILE, lineno, *p);
        v->hex = realloc(v->hex, v->hex_len + 1);
        ck_assert_ptr_nonnull(v->hex);
        v->hex[v->hex_len++] = *p;
    }
}

static void finish_vector(vector *v)
{
    ck_assert_msg(v->hex_len % 2 == 0, "%s: %s has an odd number of hex digits", VECTOR_FILE,
                  v->name);
    v->len = v->hex_len / 2;
    v->data = malloc(v->len ? v->len : 1);
    ck_assert_ptr_nonnull(v->data);
    for (size_t i = 0; i < v->len; i++)
        v->data[i] = (uint8_t)(hex_digit(v->hex[2 * i]) << 4 | hex_digit(v->hex[2 * i + 1]));
    free(v->hex);
    v->hex = NULL;
}

static void load_vectors(void)
{
    FILE *f = fopen(VECTOR_FILE, "r");
    char line[512];
    vector *cur = NULL;
    unsigned lineno = 0;

    ck_assert_msg(f != NULL, "cannot open %s (tests run from the repository root)", VECTOR_FILE);
    while (fgets(line, sizeof line, f)) {
        lineno++;
        ck_assert_msg(strchr(line, '\n') || feof(f), "%s:%u: line too long", VECTOR_FILE, lineno);
        const char *p = line;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0' || *p == '#')
            continue;
        if (!isspace((unsigned char)line[0])) {
            const char *eq = strchr(line, '=');
            ck_assert_msg(eq != NULL, "%s:%u: expected 'name = hex'", VECTOR_FILE, lineno);
            size_t name_len = (size_t)(eq - line);
            while (name_len && isspace((unsigned char)line[name_len - 1]))
                name_len--;
            ck_assert_msg(name_len > 0 && name_len < sizeof cur->name, "%s:%u: bad name",
                          VECTOR_FILE, lineno);
            ck_assert_msg(n_vectors < MAX_VECTORS, "%s: too many vectors", VECTOR_FILE);
            if (cur)
                finish_vector(cur);
            cur = &vectors[n_vectors++];
            memcpy(cur->name, line, name_len);
            cur->name[name_len] = '\0';
            for (size_t i = 0; i + 1 < n_vectors; i++)
                ck_assert_msg(strcmp(vectors[i].name, cur->name) != 0, "%s:%u: %s defined twice",
                              VECTOR_FILE, lineno, cur->name);
            p = eq + 1;
        } else {
            ck_assert_msg(cur != NULL, "%s:%u: hex before any name", VECTOR_FILE, lineno);
        }
        gather_hex(cur, p, lineno);
    }
    if (cur)
        finish_vector(cur);
    fclose(f);
    vectors_loaded = true;
}

/* The named vector; the test fails if the file lacks it. */
static const uint8_t *vec(const char *name, size_t *len)
{
    if (!vectors_loaded)
        load_vectors();
    for (size_t i = 0; i < n_vectors; i++) {
        if (!strcmp(vectors[i].name, name)) {
            if (len)
                *len = vectors[i].len;
            return vectors[i].data;
        }
    }
    ck_abort_msg("%s has no vector named %s", VECTOR_FILE, name);
    return NULL;
}

static size_t vec_len(const char *name)
{
    size_t len;
    vec(name, &len);
    return len;
}

/* Asserts got[0..len) equals the named vector, lengths included. */
static void expect_vec(const char *name, const uint8_t *got, size_t len)
{
    size_t want_len;
    const uint8_t *want = vec(name, &want_len);
    ck_assert_msg(len == want_len, "%s: length %zu, RFC has %zu", name, len, want_len);
    if (memcmp(got, want, len) != 0)
        fprintf(stderr, "%s: differs from the RFC\n", name); /* the assert below cannot name it */
    ck_assert_mem_eq(got, want, len);
}

/* Hash over the concatenation of the named handshake messages (NULL-terminated list). */
static void transcript_hash(uint8_t out[SHA256_LEN], const char *first, ...)
{
    static uint8_t buf[4096];
    size_t len = 0;
    va_list ap;

    va_start(ap, first);
    for (const char *name = first; name; name = va_arg(ap, const char *)) {
        size_t n;
        const uint8_t *msg = vec(name, &n);
        ck_assert_uint_le(len + n, sizeof buf);
        memcpy(buf + len, msg, n);
        len += n;
    }
    va_end(ap);
    tls__hash(TLS_HASH_SHA256, buf, len, out);
}

#define TRANSCRIPT_CH_SH "client_hello", "server_hello"
#define TRANSCRIPT_CH_CV                                                                           \
    TRANSCRIPT_CH_SH, "encrypted_extensions", "certificate", "certificate_verify"
#define TRANSCRIPT_CH_SF TRANSCRIPT_CH_CV, "server_finished"
#define TRANSCRIPT_CH_CF TRANSCRIPT_CH_SF, "client_finished"

/* ---- schedule helpers ----------------------------------------------------------------- */

static const tls_suite *aes128_suite(void)
{
    const tls_suite *s = tls__suite_find(TLS_AES_128_GCM_SHA256);
    ck_assert_ptr_nonnull(s);
    ck_assert_int_eq(s->hash, TLS_HASH_SHA256);
    ck_assert_uint_eq(s->key_len, 16);
    return s;
}

static void schedule_early(tls13_keysched *ks)
{
    ck_assert_int_eq(tls13_keysched_init(ks, TLS_HASH_SHA256, NULL, 0), TLS_OK);
    ck_assert_uint_eq(ks->hash_len, SHA256_LEN);
}

static void schedule_handshake(tls13_keysched *ks)
{
    size_t n;
    const uint8_t *shared = vec("ecdhe_shared_secret", &n);
    schedule_early(ks);
    ck_assert_int_eq(tls13_keysched_handshake(ks, shared, n), TLS_OK);
}

static void schedule_master(tls13_keysched *ks)
{
    schedule_handshake(ks);
    ck_assert_int_eq(tls13_keysched_master(ks), TLS_OK);
}

/* ---- the vector file itself ---------------------------------------------------------------- */

START_TEST(test_keysched_vectors_messages_frame_and_hash_as_rfc)
{
    static const struct {
        const char *name;
        uint8_t type;
    } msgs[] = {
        {"client_hello", 1},     {"server_hello", 2},        {"encrypted_extensions", 8},
        {"certificate", 11},     {"certificate_verify", 15}, {"server_finished", 20},
        {"client_finished", 20}, {"new_session_ticket", 4},
    };
    uint8_t h[SHA256_LEN];

    for (size_t i = 0; i < sizeof msgs / sizeof msgs[0]; i++) {
        size_t n;
        const uint8_t *m = vec(msgs[i].name, &n);
        ck_assert_uint_ge(n, 4);
        ck_assert_msg(m[0] == msgs[i].type, "%s: type %u", msgs[i].name, m[0]);
        size_t body = (size_t)m[1] << 16 | (size_t)m[2] << 8 | m[3];
        ck_assert_msg(body + 4 == n, "%s: u24 length %zu, message %zu", msgs[i].name, body, n);
    }
    /* The RFC prints the transcript hashes its derivations use; ours must agree. */
    transcript_hash(h, TRANSCRIPT_CH_SH, NULL);
    expect_vec("transcript_hash_ch_sh", h, sizeof h);
    transcript_hash(h, TRANSCRIPT_CH_SF, NULL);
    expect_vec("transcript_hash_ch_sf", h, sizeof h);
    transcript_hash(h, TRANSCRIPT_CH_CF, NULL);
    expect_vec("transcript_hash_ch_cf", h, sizeof h);
    tls__hash(TLS_HASH_SHA256, NULL, 0, h);
    expect_vec("empty_hash", h, sizeof h);
}
END_TEST

/* ---- early, handshake and master secrets ---------------------------------------------------- */

START_TEST(test_keysched_init_zero_psk_matches_rfc)
{
    tls13_keysched ks;
    schedule_early(&ks);
    ck_assert_int_eq(ks.hash, TLS_HASH_SHA256);
    expect_vec("early_secret", ks.secret, ks.hash_len);
    tls13_keysched_clear(&ks);
}
END_TEST

START_TEST(test_keysched_init_explicit_zero_psk_same_as_null)
{
    static const uint8_t zeros[SHA256_LEN] = {0};
    tls13_keysched ks;
    ck_assert_int_eq(tls13_keysched_init(&ks, TLS_HASH_SHA256, zeros, sizeof zeros), TLS_OK);
    expect_vec("early_secret", ks.secret, ks.hash_len);
    tls13_keysched_clear(&ks);
}
END_TEST

START_TEST(test_keysched_derive_secret_derived_matches_rfc)
{
    uint8_t empty[SHA256_LEN], out[SHA256_LEN];
    tls__hash(TLS_HASH_SHA256, NULL, 0, empty);
    ck_assert_int_eq(
        tls13_derive_secret(TLS_HASH_SHA256, vec("early_secret", NULL), "derived", empty, out),
        TLS_OK);
    expect_vec("handshake_derived", out, sizeof out);
    ck_assert_int_eq(
        tls13_derive_secret(TLS_HASH_SHA256, vec("handshake_secret", NULL), "derived", empty, out),
        TLS_OK);
    expect_vec("master_derived", out, sizeof out);
}
END_TEST

START_TEST(test_keysched_handshake_matches_rfc)
{
    tls13_keysched ks;
    schedule_handshake(&ks);
    expect_vec("handshake_secret", ks.secret, ks.hash_len);
    tls13_keysched_clear(&ks);
}
END_TEST

START_TEST(test_keysched_master_matches_rfc)
{
    tls13_keysched ks;
    schedule_master(&ks);
    expect_vec("master_secret", ks.secret, ks.hash_len);
    tls13_keysched_clear(&ks);
}
END_TEST

START_TEST(test_keysched_clear_wipes_secret)
{
    static const uint8_t zeros[sizeof((tls13_keysched *)0)->secret] = {0};
    tls13_keysched ks;
    schedule_master(&ks);
    tls13_keysched_clear(&ks);
    ck_assert_mem_eq(ks.secret, zeros, sizeof zeros);
}
END_TEST

/* ---- traffic secrets --------------------------------------------------------------------- */

START_TEST(test_keysched_derive_handshake_traffic_matches_rfc)
{
    tls13_keysched ks;
    uint8_t th[SHA256_LEN], out[SHA256_LEN];

    schedule_handshake(&ks);
    transcript_hash(th, TRANSCRIPT_CH_SH, NULL);
    ck_assert_int_eq(tls13_keysched_derive(&ks, "c hs traffic", th, out), TLS_OK);
    expect_vec("client_handshake_traffic_secret", out, sizeof out);
    ck_assert_int_eq(tls13_keysched_derive(&ks, "s hs traffic", th, out), TLS_OK);
    expect_vec("server_handshake_traffic_secret", out, sizeof out);
    /* Deriving leaves the stage secret alone. */
    expect_vec("handshake_secret", ks.secret, ks.hash_len);
    tls13_keysched_clear(&ks);
}
END_TEST

START_TEST(test_keysched_derive_application_traffic_matches_rfc)
{
    tls13_keysched ks;
    uint8_t th[SHA256_LEN], out[SHA256_LEN];

    schedule_master(&ks);
    transcript_hash(th, TRANSCRIPT_CH_SF, NULL);
    ck_assert_int_eq(tls13_keysched_derive(&ks, "c ap traffic", th, out), TLS_OK);
    expect_vec("client_application_traffic_secret_0", out, sizeof out);
    ck_assert_int_eq(tls13_keysched_derive(&ks, "s ap traffic", th, out), TLS_OK);
    expect_vec("server_application_traffic_secret_0", out, sizeof out);
    tls13_keysched_clear(&ks);
}
END_TEST

START_TEST(test_keysched_derive_exporter_master_matches_rfc)
{
    tls13_keysched ks;
    uint8_t th[SHA256_LEN], out[SHA256_LEN];

    schedule_master(&ks);
    transcript_hash(th, TRANSCRIPT_CH_SF, NULL);
    ck_assert_int_eq(tls13_keysched_derive(&ks, "exp master", th, out), TLS_OK);
    expect_vec("exporter_master_secret", out, sizeof out);
    tls13_keysched_clear(&ks);
}
END_TEST

START_TEST(test_keysched_derive_resumption_master_matches_rfc)
{
    tls13_keysched ks;
    uint8_t th[SHA256_LEN], out[SHA256_LEN];

    schedule_master(&ks);
    transcript_hash(th, TRANSCRIPT_CH_CF, NULL);
    ck_assert_int_eq(tls13_keysched_derive(&ks, "res master", th, out), TLS_OK);
    expect_vec("resumption_master_secret", out, sizeof out);
    /* The hash through the server Finished gives something else: the client Finished
     * must be in the transcript. */
    transcript_hash(th, TRANSCRIPT_CH_SF, NULL);
    ck_assert_int_eq(tls13_keysched_derive(&ks, "res master", th, out), TLS_OK);
    ck_assert_mem_ne(out, vec("resumption_master_secret", NULL), sizeof out);
    tls13_keysched_clear(&ks);
}
END_TEST

/* ---- HKDF-Expand-Label -------------------------------------------------------------------- */

START_TEST(test_keysched_hkdf_expand_label_resumption_psk_matches_rfc)
{
    size_t nonce_len;
    const uint8_t *nonce = vec("ticket_nonce", &nonce_len);
    uint8_t out[SHA256_LEN];

    ck_assert_int_eq(tls13_hkdf_expand_label(TLS_HASH_SHA256, vec("resumption_master_secret", NULL),
                                             "resumption", nonce, nonce_len, out, sizeof out),
                     TLS_OK);
    expect_vec("resumption_psk", out, sizeof out);
}
END_TEST

/* The RFC prints the HkdfLabel ("info") of several expansions: HKDF-Expand over that
 * info must equal HKDF-Expand-Label, which checks the label encoding byte for byte. */
START_TEST(test_keysched_hkdf_expand_label_encodes_info_as_rfc)
{
    static const struct {
        const char *secret, *label, *context, *info;
        size_t out_len;
    } cases[] = {
        {"early_secret", "derived", "empty_hash", "derived_info", 32},
        {"handshake_secret", "c hs traffic", "transcript_hash_ch_sh", "c_hs_traffic_info", 32},
        {"server_handshake_traffic_secret", "key", NULL, "key_info", 16},
        {"server_handshake_traffic_secret", "iv", NULL, "iv_info", 12},
        {"server_handshake_traffic_secret", "finished", NULL, "finished_info", 32},
        {"resumption_master_secret", "resumption", "ticket_nonce", "resumption_info", 32},
    };
    for (size_t i = 0; i < sizeof cases / sizeof cases[0]; i++) {
        uint8_t via_label[SHA256_LEN], via_info[SHA256_LEN];
        size_t ctx_len = 0, info_len;
        const uint8_t *ctx = cases[i].context ? vec(cases[i].context, &ctx_len) : NULL;
        const uint8_t *info = vec(cases[i].info, &info_len);
        const uint8_t *secret = vec(cases[i].secret, NULL);

        ck_assert_int_eq(tls13_hkdf_expand_label(TLS_HASH_SHA256, secret, cases[i].label, ctx,
                                                 ctx_len, via_label, cases[i].out_len),
                         TLS_OK);
        ck_assert_int_eq(tls__hkdf_expand(TLS_HASH_SHA256, secret, SHA256_LEN, info, info_len,
                                          via_info, cases[i].out_len),
                         TLS_OK);
        ck_assert_msg(!memcmp(via_label, via_info, cases[i].out_len), "label \"%s\" (%s)",
                      cases[i].label, cases[i].info);
    }
    /* And the finished_key itself is the RFC's. */
    uint8_t key[SHA256_LEN];
    ck_assert_int_eq(tls13_hkdf_expand_label(TLS_HASH_SHA256,
                                             vec("server_handshake_traffic_secret", NULL),
                                             "finished", NULL, 0, key, sizeof key),
                     TLS_OK);
    expect_vec("server_finished_key", key, sizeof key);
    ck_assert_int_eq(tls13_hkdf_expand_label(TLS_HASH_SHA256,
                                             vec("client_handshake_traffic_secret", NULL),
                                             "finished", NULL, 0, key, sizeof key),
                     TLS_OK);
    expect_vec("client_finished_key", key, sizeof key);
}
END_TEST

/* "tls13 " + label must fit a u8 length: 249 label bytes is the most. */
START_TEST(test_keysched_hkdf_expand_label_label_too_long_rejected)
{
    char label[251];
    uint8_t out[SHA256_LEN];
    const uint8_t *secret = vec("master_secret", NULL);

    memset(label, 'a', sizeof label - 1);
    label[249] = '\0';
    ck_assert_int_eq(
        tls13_hkdf_expand_label(TLS_HASH_SHA256, secret, label, NULL, 0, out, sizeof out), TLS_OK);
    label[249] = 'a';
    label[250] = '\0';
    ck_assert_int_eq(
        tls13_hkdf_expand_label(TLS_HASH_SHA256, secret, label, NULL, 0, out, sizeof out),
        TLS_ERR_INTERNAL);
}
END_TEST

START_TEST(test_keysched_hkdf_expand_label_context_too_long_rejected)
{
    uint8_t ctx[256] = {0}, out[SHA256_LEN];
    const uint8_t *secret = vec("master_secret", NULL);

    ck_assert_int_eq(
        tls13_hkdf_expand_label(TLS_HASH_SHA256, secret, "x", ctx, 255, out, sizeof out), TLS_OK);
    ck_assert_int_eq(
        tls13_hkdf_expand_label(TLS_HASH_SHA256, secret, "x", ctx, 256, out, sizeof out),
        TLS_ERR_INTERNAL);
}
END_TEST

/* The HkdfLabel length is a u16: asking for more is our bug, refused before any write. */
START_TEST(test_keysched_hkdf_expand_label_out_len_too_long_rejected)
{
    uint8_t *out = malloc(0x10000);
    ck_assert_ptr_nonnull(out);
    ck_assert_int_eq(tls13_hkdf_expand_label(TLS_HASH_SHA256, vec("master_secret", NULL), "x", NULL,
                                             0, out, 0x10000),
                     TLS_ERR_INTERNAL);
    free(out);
}
END_TEST

/* ---- traffic keys and Finished --------------------------------------------------------------- */

static void expect_key_iv(const char *secret, const char *key_name, const char *iv_name)
{
    uint8_t key[16], iv[12];
    ck_assert_int_eq(tls13_traffic_key_iv(TLS_HASH_SHA256, vec(secret, NULL), sizeof key, key, iv),
                     TLS_OK);
    expect_vec(key_name, key, sizeof key);
    expect_vec(iv_name, iv, sizeof iv);
}

START_TEST(test_keysched_traffic_key_iv_handshake_matches_rfc)
{
    expect_key_iv("server_handshake_traffic_secret", "server_handshake_key", "server_handshake_iv");
    expect_key_iv("client_handshake_traffic_secret", "client_handshake_key", "client_handshake_iv");
}
END_TEST

START_TEST(test_keysched_traffic_key_iv_application_matches_rfc)
{
    expect_key_iv("server_application_traffic_secret_0", "server_application_key",
                  "server_application_iv");
    expect_key_iv("client_application_traffic_secret_0", "client_application_key",
                  "client_application_iv");
}
END_TEST

START_TEST(test_keysched_finished_mac_server_matches_rfc)
{
    uint8_t th[SHA256_LEN], mac[SHA256_LEN];
    size_t fin_len;
    const uint8_t *fin = vec("server_finished", &fin_len);

    transcript_hash(th, TRANSCRIPT_CH_CV, NULL);
    ck_assert_int_eq(
        tls13_finished_mac(TLS_HASH_SHA256, vec("server_handshake_traffic_secret", NULL), th, mac),
        TLS_OK);
    expect_vec("server_finished_verify_data", mac, sizeof mac);
    /* The Finished message the RFC sends is exactly this verify_data. */
    ck_assert_uint_eq(fin_len, 4 + sizeof mac);
    ck_assert_mem_eq(fin + 4, mac, sizeof mac);
}
END_TEST

START_TEST(test_keysched_finished_mac_client_matches_rfc)
{
    uint8_t th[SHA256_LEN], mac[SHA256_LEN];
    size_t fin_len;
    const uint8_t *fin = vec("client_finished", &fin_len);

    transcript_hash(th, TRANSCRIPT_CH_SF, NULL);
    ck_assert_int_eq(
        tls13_finished_mac(TLS_HASH_SHA256, vec("client_handshake_traffic_secret", NULL), th, mac),
        TLS_OK);
    expect_vec("client_finished_verify_data", mac, sizeof mac);
    ck_assert_uint_eq(fin_len, 4 + sizeof mac);
    ck_assert_mem_eq(fin + 4, mac, sizeof mac);
}
END_TEST

/* The wrong base secret (the other side's) must not give the same MAC. */
START_TEST(test_keysched_finished_mac_wrong_secret_differs)
{
    uint8_t th[SHA256_LEN], mac[SHA256_LEN];

    transcript_hash(th, TRANSCRIPT_CH_CV, NULL);
    ck_assert_int_eq(
        tls13_finished_mac(TLS_HASH_SHA256, vec("client_handshake_traffic_secret", NULL), th, mac),
        TLS_OK);
    ck_assert_mem_ne(mac, vec("server_finished_verify_data", NULL), sizeof mac);
}
END_TEST

/* ---- key update -------------------------------------------------------------------------------
 */

START_TEST(test_keysched_next_traffic_secret_differs_and_is_deterministic)
{
    const uint8_t *orig = vec("client_application_traffic_secret_0", NULL);
    uint8_t a[SHA256_LEN], b[SHA256_LEN], a2[SHA256_LEN];

    memcpy(a, orig, sizeof a);
    memcpy(b, orig, sizeof b);
    ck_assert_int_eq(tls13_next_traffic_secret(TLS_HASH_SHA256, a), TLS_OK);
    ck_assert_int_eq(tls13_next_traffic_secret(TLS_HASH_SHA256, b), TLS_OK);
    ck_assert_mem_ne(a, orig, sizeof a);
    ck_assert_mem_eq(a, b, sizeof a);
    /* Each generation is new: N+2 differs from N+1 and from N. */
    memcpy(a2, a, sizeof a2);
    ck_assert_int_eq(tls13_next_traffic_secret(TLS_HASH_SHA256, a2), TLS_OK);
    ck_assert_mem_ne(a2, a, sizeof a2);
    ck_assert_mem_ne(a2, orig, sizeof a2);
}
END_TEST

/* RFC 8446 §7.2: N+1 = HKDF-Expand-Label(N, "traffic upd", "", Hash.length), computed
 * here twice independently: with tls13_hkdf_expand_label and with raw HKDF-Expand over
 * a hand-built HkdfLabel. */
START_TEST(test_keysched_next_traffic_secret_is_expand_label_traffic_upd)
{
    static const uint8_t info[] = {0x00, 0x20, 17,  't', 'l', 's', '1', '3', ' ', 't', 'r',
                                   'a',  'f',  'f', 'i', 'c', ' ', 'u', 'p', 'd', 0x00};
    const uint8_t *orig = vec("server_application_traffic_secret_0", NULL);
    uint8_t next[SHA256_LEN], via_label[SHA256_LEN], via_info[SHA256_LEN];

    memcpy(next, orig, sizeof next);
    ck_assert_int_eq(tls13_next_traffic_secret(TLS_HASH_SHA256, next), TLS_OK);
    ck_assert_int_eq(tls13_hkdf_expand_label(TLS_HASH_SHA256, orig, "traffic upd", NULL, 0,
                                             via_label, sizeof via_label),
                     TLS_OK);
    ck_assert_int_eq(tls__hkdf_expand(TLS_HASH_SHA256, orig, SHA256_LEN, info, sizeof info,
                                      via_info, sizeof via_info),
                     TLS_OK);
    ck_assert_mem_eq(next, via_label, sizeof next);
    ck_assert_mem_eq(next, via_info, sizeof next);
}
END_TEST

/* SHA-384 has no RFC 8448 trace: check the schedule's plumbing of the 48-byte hash
 * against the same steps composed from the crypto primitives. */
START_TEST(test_keysched_handshake_sha384_matches_primitives)
{
    static const uint8_t shared[48] = {1, 2, 3, 4, 5, 6, 7, 8, 9};
    uint8_t zeros[48] = {0}, early[48], empty[48], derived[48], hs[48];
    tls13_keysched ks;

    ck_assert_int_eq(tls__hkdf_extract(TLS_HASH_SHA384, zeros, 48, zeros, 48, early), TLS_OK);
    tls__hash(TLS_HASH_SHA384, NULL, 0, empty);
    ck_assert_int_eq(tls13_derive_secret(TLS_HASH_SHA384, early, "derived", empty, derived),
                     TLS_OK);
    ck_assert_int_eq(tls__hkdf_extract(TLS_HASH_SHA384, derived, 48, shared, sizeof shared, hs),
                     TLS_OK);

    ck_assert_int_eq(tls13_keysched_init(&ks, TLS_HASH_SHA384, NULL, 0), TLS_OK);
    ck_assert_uint_eq(ks.hash_len, 48);
    ck_assert_mem_eq(ks.secret, early, 48);
    ck_assert_int_eq(tls13_keysched_handshake(&ks, shared, sizeof shared), TLS_OK);
    ck_assert_mem_eq(ks.secret, hs, 48);
    tls13_keysched_clear(&ks);
}
END_TEST

/* ---- the RFC's records through the record layer --------------------------------------------- */

static uint8_t record_buf[TLS_MAX_RECORD];

/* A cipher keyed from the named traffic secret, at sequence number seq. */
static void install(tls_record_cipher *rc, const char *secret, uint64_t seq)
{
    memset(rc, 0, sizeof *rc);
    ck_assert_int_eq(tls__record_cipher_install(rc, aes128_suite(), vec(secret, NULL)), TLS_OK);
    ck_assert(tls__record_cipher_active(rc));
    ck_assert_uint_eq(rc->seq, 0);
    rc->seq = seq;
}

/* Seals the named payload and expects exactly the named complete record. */
static void expect_seal(tls_record_cipher *rc, uint8_t type, const char *payload,
                        const char *record)
{
    size_t n, written = 0;
    const uint8_t *data = vec(payload, &n);
    uint64_t seq = rc->seq;

    ck_assert_uint_eq(tls__record_size(rc, n, 0), vec_len(record));
    ck_assert_int_eq(
        tls__record_seal(rc, type, data, n, 0, record_buf, sizeof record_buf, &written), TLS_OK);
    expect_vec(record, record_buf, written);
    ck_assert_uint_eq(rc->seq, seq + 1);
}

/* Opens the named complete record and expects the named payload with inner type `type`. */
static void expect_open(tls_record_cipher *rc, const char *record, uint8_t type,
                        const char *payload)
{
    size_t n;
    const uint8_t *rec_bytes = vec(record, &n);
    tls_record rec;
    bool complete;

    memcpy(record_buf, rec_bytes, n);
    ck_assert_int_eq(tls__record_peek(record_buf, n, &rec, &complete), TLS_OK);
    ck_assert(complete);
    ck_assert_uint_eq(rec.type, TLS_CT_APPLICATION_DATA);
    ck_assert_uint_eq(rec.total, n);
    ck_assert_int_eq(tls__record_open(rc, &rec), TLS_OK);
    ck_assert_uint_eq(rec.type, type);
    expect_vec(payload, rec.body, rec.len);
}

START_TEST(test_keysched_record_open_server_flight_matches_rfc)
{
    static uint8_t flight[2048];
    static const char *const msgs[] = {"encrypted_extensions", "certificate", "certificate_verify",
                                       "server_finished"};
    size_t rec_len, flight_len = 0;
    const uint8_t *rec_bytes = vec("server_handshake_record", &rec_len);
    tls_record_cipher rc;
    tls_record rec;
    bool complete;

    for (size_t i = 0; i < 4; i++) {
        size_t n;
        const uint8_t *m = vec(msgs[i], &n);
        memcpy(flight + flight_len, m, n);
        flight_len += n;
    }
    install(&rc, "server_handshake_traffic_secret", 0);
    expect_vec("server_handshake_iv", rc.iv, sizeof rc.iv);

    memcpy(record_buf, rec_bytes, rec_len);
    ck_assert_int_eq(tls__record_peek(record_buf, rec_len, &rec, &complete), TLS_OK);
    ck_assert(complete);
    ck_assert_uint_eq(rec.total, rec_len);
    ck_assert_int_eq(tls__record_open(&rc, &rec), TLS_OK);
    ck_assert_uint_eq(rec.type, TLS_CT_HANDSHAKE);
    ck_assert_uint_eq(rec.len, flight_len);
    ck_assert_mem_eq(rec.body, flight, flight_len);
    ck_assert_uint_eq(rc.seq, 1);
    tls__record_cipher_clear(&rc);
}
END_TEST

START_TEST(test_keysched_record_seal_server_flight_matches_rfc)
{
    static uint8_t flight[2048];
    static const char *const msgs[] = {"encrypted_extensions", "certificate", "certificate_verify",
                                       "server_finished"};
    size_t flight_len = 0, written = 0;
    tls_record_cipher rc;

    for (size_t i = 0; i < 4; i++) {
        size_t n;
        const uint8_t *m = vec(msgs[i], &n);
        memcpy(flight + flight_len, m, n);
        flight_len += n;
    }
    install(&rc, "server_handshake_traffic_secret", 0);
    ck_assert_int_eq(tls__record_seal(&rc, TLS_CT_HANDSHAKE, flight, flight_len, 0, record_buf,
                                      sizeof record_buf, &written),
                     TLS_OK);
    expect_vec("server_handshake_record", record_buf, written);
    tls__record_cipher_clear(&rc);
}
END_TEST

START_TEST(test_keysched_record_seal_client_finished_matches_rfc)
{
    tls_record_cipher tx, rx;
    install(&tx, "client_handshake_traffic_secret", 0);
    install(&rx, "client_handshake_traffic_secret", 0);
    expect_seal(&tx, TLS_CT_HANDSHAKE, "client_finished", "client_finished_record");
    expect_open(&rx, "client_finished_record", TLS_CT_HANDSHAKE, "client_finished");
    tls__record_cipher_clear(&tx);
    tls__record_cipher_clear(&rx);
}
END_TEST

/* The server's application records use seq 0, 1, 2 (ticket, data, alert) and the
 * client's 0, 1 (data, alert): the trace pins the per-record nonce. */
START_TEST(test_keysched_record_seal_application_records_match_rfc)
{
    tls_record_cipher tx, rx;

    install(&tx, "server_application_traffic_secret_0", 0);
    install(&rx, "server_application_traffic_secret_0", 0);
    expect_seal(&tx, TLS_CT_HANDSHAKE, "new_session_ticket", "new_session_ticket_record");
    expect_seal(&tx, TLS_CT_APPLICATION_DATA, "application_data", "server_application_data_record");
    expect_seal(&tx, TLS_CT_ALERT, "close_notify", "server_alert_record");
    expect_open(&rx, "new_session_ticket_record", TLS_CT_HANDSHAKE, "new_session_ticket");
    expect_open(&rx, "server_application_data_record", TLS_CT_APPLICATION_DATA, "application_data");
    expect_open(&rx, "server_alert_record", TLS_CT_ALERT, "close_notify");
    tls__record_cipher_clear(&tx);
    tls__record_cipher_clear(&rx);

    install(&tx, "client_application_traffic_secret_0", 0);
    install(&rx, "client_application_traffic_secret_0", 0);
    expect_seal(&tx, TLS_CT_APPLICATION_DATA, "application_data", "client_application_data_record");
    expect_seal(&tx, TLS_CT_ALERT, "close_notify", "client_alert_record");
    expect_open(&rx, "client_application_data_record", TLS_CT_APPLICATION_DATA, "application_data");
    expect_open(&rx, "client_alert_record", TLS_CT_ALERT, "close_notify");
    tls__record_cipher_clear(&tx);
    tls__record_cipher_clear(&rx);
}
END_TEST

/* Opening a record with the wrong sequence number fails: the RFC's second server
 * application record does not open as the first. */
START_TEST(test_keysched_record_open_wrong_seq_rejected)
{
    size_t n;
    const uint8_t *rec_bytes = vec("server_application_data_record", &n);
    tls_record_cipher rc;
    tls_record rec;
    bool complete;

    install(&rc, "server_application_traffic_secret_0", 0);
    memcpy(record_buf, rec_bytes, n);
    ck_assert_int_eq(tls__record_peek(record_buf, n, &rec, &complete), TLS_OK);
    ck_assert(complete);
    ck_assert_int_eq(tls__record_open(&rc, &rec), TLS_ERR_DECRYPT);
    tls__record_cipher_clear(&rc);
}
END_TEST

/* Plaintext records: the ServerHello record is reproduced exactly; the ClientHello
 * record (legacy_record_version 0x0301) is framed by peek. */
START_TEST(test_keysched_record_seal_plaintext_hello_matches_rfc)
{
    tls_record_cipher rc;
    size_t n, written = 0;
    const uint8_t *sh = vec("server_hello", &n);
    tls_record rec;
    bool complete;

    memset(&rc, 0, sizeof rc);
    ck_assert(!tls__record_cipher_active(&rc));
    ck_assert_int_eq(
        tls__record_seal(&rc, TLS_CT_HANDSHAKE, sh, n, 0, record_buf, sizeof record_buf, &written),
        TLS_OK);
    expect_vec("server_hello_record", record_buf, written);

    const uint8_t *ch_rec = vec("client_hello_record", &n);
    memcpy(record_buf, ch_rec, n);
    ck_assert_int_eq(tls__record_peek(record_buf, n, &rec, &complete), TLS_OK);
    ck_assert(complete);
    ck_assert_uint_eq(rec.type, TLS_CT_HANDSHAKE);
    ck_assert_uint_eq(rec.total, n);
    expect_vec("client_hello", rec.body, rec.len);
}
END_TEST

/* ---- TLS 1.2: PRF (RFC 5246 §5), master secret (§8.1, RFC 7627 §4), key block (§6.3) ----- */

/*
 * The widely used TLS 1.2 PRF known answers (secret, seed, label "test label"), published
 * on the IETF TLS list and reproduced in the test suites of many stacks (e.g. IBM
 * OpenJCEPlus BaseTestTLSKeyGenerators, GNU QUIC tst-tls12ks); cross-checked with an
 * independent HMAC implementation before being copied here.
 */
static const struct {
    tls_hash_id hash;
    const char *secret, *seed, *out;
} prf_vectors[] = {
    {TLS_HASH_SHA256, "9bbe436ba940f017b17652849a71db35", "a0ba9f936cda311827a6f796ffd5198c",
     "e3f229ba727be17b8d122620557cd453c2aab21d07c3d495329b52d4e61edb5a"
     "6b301791e90d35c9c9a46b4e14baf9af0fa022f7077def17abfd3797c0564bab"
     "4fbc91666e9def9b97fce34f796789baa48082d122ee42c5a72e5a5110fff701"
     "87347b66"},
    {TLS_HASH_SHA384, "b80b733d6ceefcdc71566ea48e5567df", "cd665cf6a8447dd6ff8b27555edb7465",
     "7b0c18e9ced410ed1804f2cfa34a336a1c14dffb4900bb5fd7942107e81c83cd"
     "e9ca0faa60be9fe34f82b1233c9146a0e534cb400fed2700884f9dc236f80edd"
     "8bfa961144c9e8d792eca722a7b32fc3d416d473ebc2c5fd4abfdad05d918425"
     "9b5bf8cd4d90fa0d31e2dec479e4f1a26066f2eea9a69236a3e52655c9e9aee6"
     "91c8f3a26854308d5eaa3be85e0990703d73e56f"},
    {TLS_HASH_SHA512, "b0323523c1853599584d88568bbb05eb", "d4640e12e4bcdbfb437f03e6ae418ee5",
     "1261f588c798c5c201ff036e7a9cb5edcd7fe3f94c669a122a4638d7d508b283"
     "042df6789875c7147e906d868bc75c45e20eb40c1cf4a1713b27371f68432592"
     "f7dc8ea8ef223e12ea8507841311bf68653d0cfc4056d811f025c45ddfa6e6fe"
     "c702f054b409d6f28dd0a3233e498da41a3e75c5630eedbe22fe254e33a1b0e9"
     "f6b9826675bec7d01a845658dc9c397545401d40b9f46c7a400ee1b8f81ca0a6"
     "0d1a397a1028bff5d2ef5066126842fb8da4197632bdb54ff6633f86bbc836e6"
     "40d4d898"},
};

static void prf_vector(int i)
{
    uint8_t secret[16], seed[16], want[256], got[256 + 1];
    size_t secret_len = unhex(prf_vectors[i].secret, secret, sizeof secret);
    size_t seed_len = unhex(prf_vectors[i].seed, seed, sizeof seed);
    size_t n = unhex(prf_vectors[i].out, want, sizeof want);

    memset(got, 0xA5, sizeof got);
    ck_assert_int_eq(tls12_prf(prf_vectors[i].hash, secret, secret_len, "test label", seed,
                               seed_len, NULL, 0, got, n),
                     TLS_OK);
    ck_assert_mem_eq(got, want, n);
    ck_assert_uint_eq(got[n], 0xA5); /* not a byte more */
    /* The seed may come in two parts: seed1 || seed2 is what is hashed. */
    memset(got, 0, sizeof got);
    ck_assert_int_eq(tls12_prf(prf_vectors[i].hash, secret, secret_len, "test label", seed, 5,
                               seed + 5, seed_len - 5, got, n),
                     TLS_OK);
    ck_assert_mem_eq(got, want, n);
    /* Any shorter output is a prefix (one byte, one block, a block and a bit). */
    size_t lens[] = {1, tls__hash_len(prf_vectors[i].hash), tls__hash_len(prf_vectors[i].hash) + 3};
    for (size_t k = 0; k < sizeof lens / sizeof lens[0]; k++) {
        memset(got, 0xA5, sizeof got);
        ck_assert_int_eq(tls12_prf(prf_vectors[i].hash, secret, secret_len, "test label", seed,
                                   seed_len, NULL, 0, got, lens[k]),
                         TLS_OK);
        ck_assert_mem_eq(got, want, lens[k]);
        ck_assert_uint_eq(got[lens[k]], 0xA5);
    }
}

START_TEST(test_keysched_tls12_prf_sha256_matches_published_vector)
{
    prf_vector(0);
}
END_TEST

START_TEST(test_keysched_tls12_prf_sha384_matches_published_vector)
{
    prf_vector(1);
}
END_TEST

START_TEST(test_keysched_tls12_prf_sha512_matches_published_vector)
{
    prf_vector(2);
}
END_TEST

START_TEST(test_keysched_tls12_prf_label_and_secret_matter)
{
    uint8_t secret[16], seed[16], a[48], b[48];
    size_t secret_len = unhex(prf_vectors[0].secret, secret, sizeof secret);
    size_t seed_len = unhex(prf_vectors[0].seed, seed, sizeof seed);
    ck_assert_int_eq(tls12_prf(TLS_HASH_SHA256, secret, secret_len, "test label", seed, seed_len,
                               NULL, 0, a, sizeof a),
                     TLS_OK);
    ck_assert_int_eq(tls12_prf(TLS_HASH_SHA256, secret, secret_len, "test labem", seed, seed_len,
                               NULL, 0, b, sizeof b),
                     TLS_OK);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    secret[15] ^= 1;
    ck_assert_int_eq(tls12_prf(TLS_HASH_SHA256, secret, secret_len, "test label", seed, seed_len,
                               NULL, 0, b, sizeof b),
                     TLS_OK);
    ck_assert(memcmp(a, b, sizeof a) != 0);
    ck_assert_int_eq(tls12_prf(TLS_HASH_SHA384, secret, secret_len, "test label", seed, seed_len,
                               NULL, 0, b, sizeof b),
                     TLS_OK);
    ck_assert(memcmp(a, b, sizeof a) != 0);
}
END_TEST

/* P_hash written out with one-shot tls__hmac calls over concatenated buffers (RFC 5246 §5):
 * A(0) = seed, A(i) = HMAC(secret, A(i-1)), output = HMAC(secret, A(1) || seed) || ... */
static void p_hash_by_hand(tls_hash_id hash, const uint8_t *secret, size_t secret_len,
                           const uint8_t *seed, size_t seed_len, uint8_t *out, size_t out_len)
{
    size_t n = tls__hash_len(hash);
    uint8_t a[TLS_MAX_HASH_LEN], block[TLS_MAX_HASH_LEN], buf[TLS_MAX_HASH_LEN + 256];

    ck_assert_uint_le(seed_len, 256);
    ck_assert_int_eq(tls__hmac(hash, secret, secret_len, seed, seed_len, a), TLS_OK);
    while (out_len) {
        memcpy(buf, a, n);
        memcpy(buf + n, seed, seed_len);
        ck_assert_int_eq(tls__hmac(hash, secret, secret_len, buf, n + seed_len, block), TLS_OK);
        size_t take = out_len < n ? out_len : n;
        memcpy(out, block, take);
        out += take;
        out_len -= take;
        memcpy(buf, a, n);
        ck_assert_int_eq(tls__hmac(hash, secret, secret_len, buf, n, a), TLS_OK);
    }
}

static size_t cat_label(uint8_t *out, const char *label, const uint8_t *a, size_t a_len,
                        const uint8_t *b, size_t b_len)
{
    size_t l = strlen(label);
    memcpy(out, label, l);
    memcpy(out + l, a, a_len);
    if (b_len)
        memcpy(out + l + a_len, b, b_len);
    return l + a_len + b_len;
}

static void fill_bytes(uint8_t *p, size_t n, uint8_t start)
{
    for (size_t i = 0; i < n; i++)
        p[i] = (uint8_t)(start + i * 3);
}

/* RFC 7627 §4: master = PRF(pre_master, "extended master secret", session_hash)[0..47],
 * session_hash as long as the PRF hash; RFC 5246 §8.1 without it. */
START_TEST(test_keysched_tls12_master_secret_matches_hmac_by_hand)
{
    static const tls_hash_id hashes[] = {TLS_HASH_SHA256, TLS_HASH_SHA384};
    uint8_t pre_master[48], cr[32], sr[32], session_hash[TLS_MAX_HASH_LEN];
    uint8_t seed[256], want[TLS12_MASTER_SECRET_LEN], got[TLS12_MASTER_SECRET_LEN];
    uint8_t plain[TLS12_MASTER_SECRET_LEN];

    fill_bytes(cr, sizeof cr, 0xc0);
    fill_bytes(sr, sizeof sr, 0x80);
    fill_bytes(session_hash, sizeof session_hash, 0x40);
    for (size_t h = 0; h < sizeof hashes / sizeof hashes[0]; h++) {
        size_t hl = tls__hash_len(hashes[h]);
        /* X25519 (32), P-256 (32) and P-384 (48) pre-master secrets. */
        for (size_t pm_len = 32; pm_len <= 48; pm_len += 16) {
            fill_bytes(pre_master, pm_len, (uint8_t)(pm_len + h));
            size_t seed_len = cat_label(seed, "extended master secret", session_hash, hl, NULL, 0);
            p_hash_by_hand(hashes[h], pre_master, pm_len, seed, seed_len, want, sizeof want);
            ck_assert_int_eq(tls12_master_secret(hashes[h], pre_master, pm_len, session_hash, cr,
                                                 sr, got),
                             TLS_OK);
            ck_assert_mem_eq(got, want, sizeof want);

            seed_len = cat_label(seed, "master secret", cr, 32, sr, 32);
            p_hash_by_hand(hashes[h], pre_master, pm_len, seed, seed_len, want, sizeof want);
            ck_assert_int_eq(tls12_master_secret(hashes[h], pre_master, pm_len, NULL, cr, sr,
                                                 plain),
                             TLS_OK);
            ck_assert_mem_eq(plain, want, sizeof want);
            ck_assert(memcmp(plain, got, sizeof got) != 0);
        }
    }
}
END_TEST

/* With EMS the randoms do not enter; the whole session hash does. */
START_TEST(test_keysched_tls12_ems_depends_on_session_hash_only)
{
    uint8_t pre_master[32], cr[32], sr[32], sh[48], a[48], b[48];
    fill_bytes(pre_master, sizeof pre_master, 1);
    fill_bytes(cr, sizeof cr, 2);
    fill_bytes(sr, sizeof sr, 3);
    fill_bytes(sh, sizeof sh, 4);
    ck_assert_int_eq(tls12_master_secret(TLS_HASH_SHA384, pre_master, 32, sh, cr, sr, a), TLS_OK);
    cr[0] ^= 1;
    sr[31] ^= 1;
    ck_assert_int_eq(tls12_master_secret(TLS_HASH_SHA384, pre_master, 32, sh, cr, sr, b), TLS_OK);
    ck_assert_mem_eq(a, b, sizeof a);
    sh[47] ^= 1; /* the last byte of a SHA-384 session hash is covered */
    ck_assert_int_eq(tls12_master_secret(TLS_HASH_SHA384, pre_master, 32, sh, cr, sr, b), TLS_OK);
    ck_assert(memcmp(a, b, sizeof a) != 0);
}
END_TEST

/* RFC 5246 §6.3 with AEAD suites (RFC 5288 §3, RFC 7905 §2): no MAC keys, so the key block
 * is client key, server key, client IV, server IV — 40, 72 and 88 bytes. */
START_TEST(test_keysched_tls12_key_block_lengths)
{
    static const struct {
        uint16_t id;
        tls_hash_id hash;
        size_t key_len, iv_len, block_len;
    } suites12[] = {
        {TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, TLS_HASH_SHA256, 16, 4, 40},
        {TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256, TLS_HASH_SHA256, 16, 4, 40},
        {TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384, TLS_HASH_SHA384, 32, 4, 72},
        {TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, TLS_HASH_SHA384, 32, 4, 72},
        {TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_HASH_SHA256, 32, 12, 88},
        {TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256, TLS_HASH_SHA256, 32, 12, 88},
    };
    uint8_t master[48], cr[32], sr[32], seed[128], full[88], want[88];
    fill_bytes(master, sizeof master, 9);
    fill_bytes(cr, sizeof cr, 10);
    fill_bytes(sr, sizeof sr, 11);

    for (size_t i = 0; i < sizeof suites12 / sizeof suites12[0]; i++) {
        const tls_suite *s = tls__suite_find(suites12[i].id);
        ck_assert_ptr_nonnull(s);
        ck_assert_uint_eq(s->version, TLS_VERSION_1_2);
        ck_assert_int_eq(s->hash, suites12[i].hash);
        ck_assert_uint_eq(s->key_len, suites12[i].key_len);
        ck_assert_uint_eq(tls__aead_key_len(s->aead), s->key_len);
        ck_assert_uint_eq(s->fixed_iv_len, suites12[i].iv_len);
        size_t len = 2 * s->key_len + 2 * s->fixed_iv_len;
        ck_assert_uint_eq(len, suites12[i].block_len);
        ck_assert_uint_le(len, sizeof(((tls12_server_hs *)0)->key_block));
        /* key_block = PRF(master, "key expansion", server_random || client_random). */
        size_t seed_len = cat_label(seed, "key expansion", sr, 32, cr, 32);
        p_hash_by_hand(s->hash, master, sizeof master, seed, seed_len, want, len);
        memset(full, 0xA5, sizeof full);
        ck_assert_int_eq(tls12_prf(s->hash, master, sizeof master, "key expansion", sr, 32, cr,
                                   32, full, len),
                         TLS_OK);
        ck_assert_mem_eq(full, want, len);
        if (len < sizeof full)
            ck_assert_uint_eq(full[len], 0xA5);
    }
}
END_TEST

/* RFC 5246 §7.4.9: verify_data is 12 bytes of PRF(master, label, Hash(handshake)). */
START_TEST(test_keysched_tls12_finished_verify_data)
{
    uint8_t master[48], thash[48], seed[128], want[12], client[12], server[12];
    fill_bytes(master, sizeof master, 21);
    fill_bytes(thash, sizeof thash, 22);
    size_t seed_len = cat_label(seed, "client finished", thash, 48, NULL, 0);
    p_hash_by_hand(TLS_HASH_SHA384, master, sizeof master, seed, seed_len, want, sizeof want);
    ck_assert_int_eq(tls12_prf(TLS_HASH_SHA384, master, sizeof master, "client finished", thash,
                               48, NULL, 0, client, TLS12_VERIFY_DATA_LEN),
                     TLS_OK);
    ck_assert_mem_eq(client, want, sizeof want);
    ck_assert_int_eq(tls12_prf(TLS_HASH_SHA384, master, sizeof master, "server finished", thash,
                               48, NULL, 0, server, TLS12_VERIFY_DATA_LEN),
                     TLS_OK);
    ck_assert(memcmp(client, server, sizeof client) != 0);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("keysched");
    TCase *tc;

    tc = tcase_create("vectors");
    tcase_add_test(tc, test_keysched_vectors_messages_frame_and_hash_as_rfc);
    suite_add_tcase(s, tc);

    tc = tcase_create("schedule");
    tcase_add_test(tc, test_keysched_init_zero_psk_matches_rfc);
    tcase_add_test(tc, test_keysched_init_explicit_zero_psk_same_as_null);
    tcase_add_test(tc, test_keysched_derive_secret_derived_matches_rfc);
    tcase_add_test(tc, test_keysched_handshake_matches_rfc);
    tcase_add_test(tc, test_keysched_master_matches_rfc);
    tcase_add_test(tc, test_keysched_clear_wipes_secret);
    tcase_add_test(tc, test_keysched_derive_handshake_traffic_matches_rfc);
    tcase_add_test(tc, test_keysched_derive_application_traffic_matches_rfc);
    tcase_add_test(tc, test_keysched_derive_exporter_master_matches_rfc);
    tcase_add_test(tc, test_keysched_derive_resumption_master_matches_rfc);
    tcase_add_test(tc, test_keysched_handshake_sha384_matches_primitives);
    suite_add_tcase(s, tc);

    tc = tcase_create("expand_label");
    tcase_add_test(tc, test_keysched_hkdf_expand_label_resumption_psk_matches_rfc);
    tcase_add_test(tc, test_keysched_hkdf_expand_label_encodes_info_as_rfc);
    tcase_add_test(tc, test_keysched_hkdf_expand_label_label_too_long_rejected);
    tcase_add_test(tc, test_keysched_hkdf_expand_label_context_too_long_rejected);
    tcase_add_test(tc, test_keysched_hkdf_expand_label_out_len_too_long_rejected);
    suite_add_tcase(s, tc);

    tc = tcase_create("keys");
    tcase_add_test(tc, test_keysched_traffic_key_iv_handshake_matches_rfc);
    tcase_add_test(tc, test_keysched_traffic_key_iv_application_matches_rfc);
    tcase_add_test(tc, test_keysched_finished_mac_server_matches_rfc);
    tcase_add_test(tc, test_keysched_finished_mac_client_matches_rfc);
    tcase_add_test(tc, test_keysched_finished_mac_wrong_secret_differs);
    tcase_add_test(tc, test_keysched_next_traffic_secret_differs_and_is_deterministic);
    tcase_add_test(tc, test_keysched_next_traffic_secret_is_expand_label_traffic_upd);
    suite_add_tcase(s, tc);

    tc = tcase_create("records");
    tcase_add_test(tc, test_keysched_record_open_server_flight_matches_rfc);
    tcase_add_test(tc, test_keysched_record_seal_server_flight_matches_rfc);
    tcase_add_test(tc, test_keysched_record_seal_client_finished_matches_rfc);
    tcase_add_test(tc, test_keysched_record_seal_application_records_match_rfc);
    tcase_add_test(tc, test_keysched_record_open_wrong_seq_rejected);
    tcase_add_test(tc, test_keysched_record_seal_plaintext_hello_matches_rfc);
    suite_add_tcase(s, tc);

    tc = tcase_create("tls12");
    tcase_add_test(tc, test_keysched_tls12_prf_sha256_matches_published_vector);
    tcase_add_test(tc, test_keysched_tls12_prf_sha384_matches_published_vector);
    tcase_add_test(tc, test_keysched_tls12_prf_sha512_matches_published_vector);
    tcase_add_test(tc, test_keysched_tls12_prf_label_and_secret_matter);
    tcase_add_test(tc, test_keysched_tls12_master_secret_matches_hmac_by_hand);
    tcase_add_test(tc, test_keysched_tls12_ems_depends_on_session_hash_only);
    tcase_add_test(tc, test_keysched_tls12_key_block_lengths);
    tcase_add_test(tc, test_keysched_tls12_finished_verify_data);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
