/*
 * test_client.c — the TLS 1.3 client engine end to end through its public pipe API
 * (tls/client_config.c, tls/hs/client_common.c, tls/hs/tls13_client.c, the ServerHello
 * and server message decoders, and the client side of tls/conn.c).
 *
 * Happy paths run an engine client against an engine server in memory (bytes shuttled
 * between two tls_conn objects): every suite × group × key type verified against the
 * test CA, HelloRetryRequest, ALPN, SNI, IP literals, bulk data, KeyUpdate, close_notify.
 *
 * The adversarial set runs the client against the scripted server of
 * tests/lib/testserver.c, which sends whatever is asked of it, and asserts the exact
 * tls_error the client latches and the alert it put on the wire (decrypted by the
 * scripted server when the client had keys).
 *
 * Certified keys and root stores are loaded once, in the parent process (an unchecked
 * fixture); each test runs forked.
 */
#include "tests/lib/testserver.h"
#include "tests/lib/enginepair.h"
#include "tests/lib/unit.h"
#include "tls/internal.h"
#include "tls/msgs/msgs.h"
#include "tls/record.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME "testserver.com"

static const uint16_t kt_schemes[KT_COUNT] = {
    TLS_SIG_RSA_PSS_RSAE_SHA256, TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ECDSA_SECP384R1_SHA384};

static const uint16_t all_suites[] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
                                      TLS_CHACHA20_POLY1305_SHA256};
static const uint16_t all_groups[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1, TLS_GROUP_SECP384R1};
static const uint16_t only_tls13[] = {TLS_VERSION_1_3};
static const uint16_t only_tls12[] = {TLS_VERSION_1_2};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- a verifier callback that says what it is told to ------------------------------------- */

static struct {
    tls_error answer;
    unsigned calls;
    size_t n_chain;
    char name[256];
} verifier;

static tls_error test_verifier(void *arg, const uint8_t *const *chain, const size_t *lens,
                               size_t n, const char *name, int64_t now)
{
    (void)arg, (void)chain, (void)lens, (void)now;
    verifier.calls++;
    verifier.n_chain = n;
    snprintf(verifier.name, sizeof verifier.name, "%s", name);
    return verifier.answer;
}

/* Resets what the verifier saw; it will answer `answer`. */
static void verifier_reset(tls_error answer)
{
    memset(&verifier, 0, sizeof verifier);
    verifier.answer = answer;
}

/* ---- configs and pairs ---------------------------------------------------------------------- */

static tls_client_config_params client_params(int kt)
{
    tls_client_config_params p;
    memset(&p, 0, sizeof p);
    p.roots = roots[kt];
    return p;
}

/* A client config whose verifier accepts everything (for the scripted server). */
static tls_client_config *accepting_config(const tls_client_config_params *base)
{
    tls_client_config_params p;
    if (base)
        p = *base;
    else
        memset(&p, 0, sizeof p);
    p.roots = NULL;
    p.verifier = test_verifier;
    verifier_reset(TLS_OK);
    return engine_client_config(&p);
}

static tls_server_config_params server_params(int kt)
{
    tls_server_config_params p;
    memset(&p, 0, sizeof p);
    p.certs = &end_ck[kt];
    p.n_certs = 1;
    return p;
}

/* Default client (roots of kt) and default server (key type kt). */
static void pair_default(engine_pair *p, int kt, const char *name)
{
    tls_client_config_params cp = client_params(kt);
    tls_server_config_params sp = server_params(kt);
    engine_pair_init(p, engine_client_config(&cp), engine_server_config(&sp), name);
}

static void handshake(engine_pair *p)
{
    engine_shuttle(p);
    engine_assert_ok(p);
    ck_assert(!tls_conn_is_handshaking(p->c));
    ck_assert(!tls_conn_is_handshaking(p->s));
}

/* The first ClientHello a client queued (header included), copied into buf. */
static size_t client_hello_bytes(tls_conn *c, uint8_t *buf, size_t cap)
{
    size_t len = 0;
    const uint8_t *out = tls_conn_peek_tls(c, &len);
    uint8_t *copy = malloc(len);
    tls_record rec;
    bool complete;

    ck_assert(copy && len);
    memcpy(copy, out, len);
    ck_assert_int_eq(tls__record_peek(copy, len, &rec, &complete), TLS_OK);
    ck_assert(complete && rec.type == TLS_CT_HANDSHAKE && rec.len <= cap);
    memcpy(buf, rec.body, rec.len);
    free(copy);
    return rec.len;
}

/* The body of the first record the scripted server queued. */
static size_t server_hello_bytes(ts_server *ts, uint8_t *buf, size_t cap)
{
    tls_record rec;
    bool complete;
    uint8_t *copy = malloc(ts->out.len);
    ck_assert(copy);
    memcpy(copy, ts->out.p, ts->out.len);
    ck_assert_int_eq(tls__record_peek(copy, ts->out.len, &rec, &complete), TLS_OK);
    ck_assert(complete && rec.len <= cap);
    memcpy(buf, rec.body, rec.len);
    free(copy);
    return rec.len;
}

/* ---- scripted-server helpers ------------------------------------------------------------------ */

typedef struct {
    tls_client_config *cfg;
    tls_conn *c;
    ts_server *ts;
    tls_error err; /* first error the client returned */
} scripted;

static void scripted_init(scripted *sc, tls_client_config *cfg, const char *name)
{
    memset(sc, 0, sizeof *sc);
    sc->cfg = cfg;
    ck_assert_int_eq(tls_client_conn_new(cfg, name, &sc->c), TLS_OK);
    sc->ts = ts_new();
    ck_assert_int_eq(ts_pump(sc->ts, sc->c), TLS_OK);
    ck_assert_uint_eq(sc->ts->n_hellos, 1);
}

static void scripted_free(scripted *sc)
{
    ts_free(sc->ts);
    tls_conn_free(sc->c);
    tls_client_config_unref(sc->cfg);
    memset(sc, 0, sizeof *sc);
}

static void pump(scripted *sc)
{
    tls_error e = ts_pump(sc->ts, sc->c);
    if (sc->err == TLS_OK)
        sc->err = e;
}

/* A correct ServerHello and flight with the P-256 certificate, pumped. */
static void scripted_handshake(scripted *sc)
{
    ts_flight_opts f = {.ck = end_ck[KT_P256]};
    ts_server_hello(sc->ts, NULL);
    ts_flight(sc->ts, &f);
    pump(sc);
    ck_assert_msg(sc->err == TLS_OK, "client: %s", tls_error_name(sc->err));
    ck_assert_msg(!sc->ts->failed, "server: %s", sc->ts->error);
    ck_assert(sc->ts->finished_ok);
    ck_assert(!tls_conn_is_handshaking(sc->c));
}

/* The client failed with `want` (returned and latched) and sent exactly one alert, fatal,
 * `alert`, protected iff `protected_`; nothing follows it. */
static void assert_client_failed(scripted *sc, tls_error want, int alert, bool protected_)
{
    ck_assert_msg(sc->err == want, "client returned %s, expected %s", tls_error_name(sc->err),
                  tls_error_name(want));
    ck_assert_msg(tls_conn_error(sc->c) == want, "latched %s", tls_error_name(tls_conn_error(sc->c)));
    ck_assert_msg(!sc->ts->failed, "server: %s", sc->ts->error);
    ck_assert_msg(sc->ts->n_alerts == 1, "%u alerts", sc->ts->n_alerts);
    ck_assert_msg(sc->ts->alerts[0].desc == alert, "alert %s, expected %s",
                  tls_alert_name(sc->ts->alerts[0].desc), tls_alert_name(alert));
    ck_assert_uint_eq(sc->ts->alerts[0].level, 2);
    ck_assert_int_eq(sc->ts->alerts[0].protected_, protected_);
    uint8_t b[16];
    ck_assert_uint_eq(tls_conn_write_tls(sc->c, b, sizeof b), 0);
    /* Latched: every later call says the same. */
    size_t n;
    ck_assert_int_eq(tls_conn_process(sc->c), want);
    ck_assert_int_eq(tls_conn_write(sc->c, (const uint8_t *)"x", 1, &n), want);
}

/* Runs a scripted ServerHello (and nothing else) against a default accepting client. */
static void hello_fails(const ts_hello_opts *o, const tls_client_config_params *cp,
                        tls_error want, int alert)
{
    scripted sc;
    scripted_init(&sc, accepting_config(cp), NAME);
    ts_server_hello(sc.ts, o);
    pump(&sc);
    assert_client_failed(&sc, want, alert, false);
    scripted_free(&sc);
}

/* Runs a correct ServerHello then the flight `f` (its ck defaults to P-256's). */
static void flight_fails(ts_flight_opts f, const tls_client_config_params *cp, const char *name,
                         tls_error want, int alert)
{
    scripted sc;
    scripted_init(&sc, accepting_config(cp), name);
    if (!f.ck)
        f.ck = end_ck[KT_P256];
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    pump(&sc);
    assert_client_failed(&sc, want, alert, true);
    scripted_free(&sc);
}

/* ==== configuration and connection creation ==================================================== */

START_TEST(test_client_config_needs_verifier)
{
    tls_client_config_params p;
    tls_client_config *cfg = (tls_client_config *)1;
    char err[256] = "";
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(tls_client_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);
    ck_assert_ptr_null(cfg);
    ck_assert(strstr(err, "verifier") != NULL);
    p.roots = roots[KT_P256];
    p.verifier = test_verifier;
    ck_assert_int_eq(tls_client_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);
    /* The dangerous config needs neither. */
    memset(&p, 0, sizeof p);
    ck_assert_int_eq(tls_client_config_new_dangerous_unverified(&p, &cfg, err, sizeof err), TLS_OK);
    ck_assert(cfg->dangerous_skip_server_cert_verification);
    tls_client_config_unref(cfg);
}
END_TEST

START_TEST(test_client_config_validates_lists)
{
    static const uint16_t bad_suite[] = {0x1304};
    static const uint16_t bad_group[] = {0x0019};
    static const uint16_t bad_version[] = {TLS_VERSION_1_1};
    static const uint16_t twice[] = {TLS_AES_128_GCM_SHA256, TLS_AES_128_GCM_SHA256};
    static const uint16_t tls12_suite[] = {TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256};
    static const char *const empty_alpn[] = {""};
    tls_client_config_params p = client_params(KT_P256);
    tls_client_config *cfg;
    char err[256];

    p.cipher_suites = bad_suite, p.n_cipher_suites = 1;
    ck_assert_int_eq(tls_client_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);
    p.cipher_suites = twice, p.n_cipher_suites = 2;
    ck_assert_int_eq(tls_client_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);
    p = client_params(KT_P256);
    p.groups = bad_group, p.n_groups = 1;
    ck_assert_int_eq(tls_client_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);
    p = client_params(KT_P256);
    p.versions = bad_version, p.n_versions = 1;
    ck_assert_int_eq(tls_client_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);
    /* TLS 1.3 only, with only a TLS 1.2 suite: nothing to offer. */
    p = client_params(KT_P256);
    p.versions = only_tls13, p.n_versions = 1;
    p.cipher_suites = tls12_suite, p.n_cipher_suites = 1;
    ck_assert_int_eq(tls_client_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);
    p = client_params(KT_P256);
    p.alpn = empty_alpn, p.n_alpn = 1;
    ck_assert_int_eq(tls_client_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);
    p = client_params(KT_P256);
    p.max_fragment_size = 10;
    ck_assert_int_eq(tls_client_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);
}
END_TEST

START_TEST(test_client_conn_new_invalid_name)
{
    static const char *const bad[] = {
        "", ".", "bad name", "-a.example", "a-.example", "a..b", "*.example.com", "1.2.3",
        "999.1.1.1", "exa\tmple", "a.example/", "[::1]", "example.com..",
    };
    tls_client_config_params cp = client_params(KT_P256);
    tls_client_config *cfg = engine_client_config(&cp);
    char long_label[80], long_name[300];
    tls_conn *c;

    for (size_t i = 0; i < COUNT(bad); i++) {
        c = (tls_conn *)1;
        ck_assert_msg(tls_client_conn_new(cfg, bad[i], &c) == TLS_ERR_INVALID_ARGUMENT,
                      "accepted \"%s\"", bad[i]);
        ck_assert_ptr_null(c);
    }
    memset(long_label, 'a', 64);
    strcpy(long_label + 64, ".example");
    ck_assert_int_eq(tls_client_conn_new(cfg, long_label, &c), TLS_ERR_INVALID_ARGUMENT);
    for (size_t i = 0; i < 254; i += 2)
        long_name[i] = 'a', long_name[i + 1] = '.';
    strcpy(long_name + 254, "com");
    ck_assert_int_eq(tls_client_conn_new(cfg, long_name, &c), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_client_conn_new(NULL, NAME, &c), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_client_conn_new(cfg, NULL, &c), TLS_ERR_INVALID_ARGUMENT);
    tls_client_config_unref(cfg);
}
END_TEST

START_TEST(test_client_conn_new_valid_names)
{
    static const char *const good[] = {
        "localhost", "a.b-c.example", "xn--bcher-kva.example", "under_score.example",
        "127.0.0.1", "::1", "2001:db8::1", "testserver.com.", "UPPER.Example",
    };
    tls_client_config_params cp = client_params(KT_P256);
    tls_client_config *cfg = engine_client_config(&cp);

    for (size_t i = 0; i < COUNT(good); i++) {
        tls_conn *c = NULL;
        ck_assert_msg(tls_client_conn_new(cfg, good[i], &c) == TLS_OK, "refused \"%s\"", good[i]);
        ck_assert(tls_conn_wants_write(c));
        ck_assert(tls_conn_is_handshaking(c));
        tls_conn_free(c);
    }
    tls_client_config_unref(cfg);
}
END_TEST

/* ==== the ClientHello ============================================================================ */

static bool u16_list_is(tls_slice list, const uint16_t *want, size_t n)
{
    if (list.len != 2 * n)
        return false;
    for (size_t i = 0; i < n; i++)
        if (((list.p[2 * i] << 8) | list.p[2 * i + 1]) != want[i])
            return false;
    return true;
}

START_TEST(test_client_hello_defaults)
{
    static const uint16_t suites[] = {
        TLS_AES_256_GCM_SHA384,
        TLS_AES_128_GCM_SHA256,
        TLS_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_RSA_WITH_CHACHA20_POLY1305_SHA256,
        TLS_EMPTY_RENEGOTIATION_INFO_SCSV,
    };
    static const uint16_t versions[] = {TLS_VERSION_1_3, TLS_VERSION_1_2};
    static const uint16_t sig_algs[] = {
        TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ECDSA_SECP384R1_SHA384,
        TLS_SIG_RSA_PSS_RSAE_SHA256,    TLS_SIG_RSA_PSS_RSAE_SHA384,
        TLS_SIG_RSA_PSS_RSAE_SHA512,    TLS_SIG_RSA_PKCS1_SHA256,
        TLS_SIG_RSA_PKCS1_SHA384,       TLS_SIG_RSA_PKCS1_SHA512,
    };
    /* With an Ed25519 back end (not in the mbedTLS-only engine), ed25519 after ECDSA. */
    static const uint16_t sig_algs_ed25519[] = {
        TLS_SIG_ECDSA_SECP256R1_SHA256, TLS_SIG_ECDSA_SECP384R1_SHA384, TLS_SIG_ED25519,
        TLS_SIG_RSA_PSS_RSAE_SHA256,    TLS_SIG_RSA_PSS_RSAE_SHA384,    TLS_SIG_RSA_PSS_RSAE_SHA512,
        TLS_SIG_RSA_PKCS1_SHA256,       TLS_SIG_RSA_PKCS1_SHA384,       TLS_SIG_RSA_PKCS1_SHA512,
    };
    tls_client_config_params cp = client_params(KT_P256);
    tls_client_config *cfg = engine_client_config(&cp);
    uint8_t msg[4096];
    tls_client_hello ch;
    tls_slice share;
    tls_conn *c;

    ck_assert_int_eq(tls_client_conn_new(cfg, NAME, &c), TLS_OK);
    size_t len = client_hello_bytes(c, msg, sizeof msg);
    ck_assert_uint_eq(msg[0], TLS_HS_CLIENT_HELLO);
    ck_assert_int_eq(tls__client_hello_parse(msg + 4, len - 4, &ch), TLS_OK);
    ck_assert_uint_eq(ch.legacy_version, TLS_VERSION_1_2);
    ck_assert_uint_eq(ch.session_id.len, 32); /* §D.4 middlebox compatibility */
    ck_assert(u16_list_is(ch.cipher_suites, suites, COUNT(suites)));
    ck_assert(ch.null_compression_only);
    ck_assert_str_eq(ch.server_name, NAME);
    ck_assert(u16_list_is(ch.supported_versions, versions, 2));
    ck_assert(u16_list_is(ch.groups, all_groups, 3));
    if (tls__crypto_has_ed25519())
        ck_assert(u16_list_is(ch.sig_algs, sig_algs_ed25519, COUNT(sig_algs_ed25519)));
    else
        ck_assert(u16_list_is(ch.sig_algs, sig_algs, COUNT(sig_algs)));
    /* One share, for the first group. */
    ck_assert(tls__client_hello_key_share(&ch, TLS_GROUP_X25519, &share));
    ck_assert_uint_eq(share.len, 32);
    ck_assert_uint_eq(ch.key_shares.len, 4 + 32);
    ck_assert(ch.has_psk_modes && ch.psk_modes.len == 1 && ch.psk_modes.p[0] == 1);
    ck_assert(ch.has_extended_master_secret);
    ck_assert(ch.has_renegotiation_info && ch.renegotiation_info.len == 0);
    ck_assert(ch.has_ec_point_formats && ch.ec_point_formats.len == 1 &&
              ch.ec_point_formats.p[0] == 0);
    ck_assert(!ch.has_alpn && !ch.has_cookie && !ch.has_early_data && !ch.has_psk);
    ck_assert_str_eq(tls_conn_server_name(c), NAME);
    ck_assert_uint_eq(tls_conn_version(c), 0);
    tls_conn_free(c);
    tls_client_config_unref(cfg);
}
END_TEST

START_TEST(test_client_hello_tls13_only)
{
    static const uint16_t suites[] = {TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256};
    static const uint16_t groups[] = {TLS_GROUP_SECP384R1, TLS_GROUP_X25519};
    static const char *const alpn[] = {"h2", "http/1.1"};
    tls_client_config_params cp = client_params(KT_P256);
    uint8_t msg[4096];
    tls_client_hello ch;
    tls_slice share;
    tls_conn *c;

    cp.versions = only_tls13, cp.n_versions = 1;
    cp.cipher_suites = suites, cp.n_cipher_suites = 2;
    cp.groups = groups, cp.n_groups = 2;
    cp.alpn = alpn, cp.n_alpn = 2;
    tls_client_config *cfg = engine_client_config(&cp);
    ck_assert_int_eq(tls_client_conn_new(cfg, NAME, &c), TLS_OK);
    size_t len = client_hello_bytes(c, msg, sizeof msg);
    ck_assert_int_eq(tls__client_hello_parse(msg + 4, len - 4, &ch), TLS_OK);
    ck_assert(u16_list_is(ch.cipher_suites, suites, 2)); /* no SCSV, no 1.2 suites */
    ck_assert(u16_list_is(ch.supported_versions, only_tls13, 1));
    ck_assert(u16_list_is(ch.groups, groups, 2));
    ck_assert(tls__client_hello_key_share(&ch, TLS_GROUP_SECP384R1, &share));
    ck_assert_uint_eq(share.len, 97);
    ck_assert_uint_eq(ch.key_shares.len, 4 + 97);
    ck_assert(!ch.has_extended_master_secret && !ch.has_renegotiation_info &&
              !ch.has_ec_point_formats);
    static const uint8_t want_alpn[] = {2, 'h', '2', 8, 'h', 't', 't', 'p', '/', '1', '.', '1'};
    ck_assert(ch.has_alpn && ch.alpn.len == sizeof want_alpn &&
              !memcmp(ch.alpn.p, want_alpn, sizeof want_alpn));
    tls_conn_free(c);
    tls_client_config_unref(cfg);
}
END_TEST

START_TEST(test_client_hello_tls12_only)
{
    tls_client_config_params cp = client_params(KT_P256);
    uint8_t msg[4096];
    tls_client_hello ch;
    tls_conn *c;

    cp.versions = only_tls12, cp.n_versions = 1;
    tls_client_config *cfg = engine_client_config(&cp);
    ck_assert_int_eq(tls_client_conn_new(cfg, NAME, &c), TLS_OK);
    size_t len = client_hello_bytes(c, msg, sizeof msg);
    ck_assert_int_eq(tls__client_hello_parse(msg + 4, len - 4, &ch), TLS_OK);
    ck_assert(!ch.has_supported_versions && !ch.has_key_share && !ch.has_psk_modes);
    ck_assert_uint_eq(ch.session_id.len, 0);
    ck_assert(ch.has_extended_master_secret && ch.has_renegotiation_info);
    ck_assert(tls__u16_list_has(ch.cipher_suites, TLS_EMPTY_RENEGOTIATION_INFO_SCSV));
    ck_assert(!tls__u16_list_has(ch.cipher_suites, TLS_AES_128_GCM_SHA256));
    tls_conn_free(c);
    tls_client_config_unref(cfg);
}
END_TEST

START_TEST(test_client_hello_ip_literal_no_sni)
{
    tls_client_config_params cp = client_params(KT_P256);
    tls_client_config *cfg = engine_client_config(&cp);
    uint8_t msg[4096];
    tls_client_hello ch;
    tls_conn *c;

    ck_assert_int_eq(tls_client_conn_new(cfg, "127.0.0.1", &c), TLS_OK);
    size_t len = client_hello_bytes(c, msg, sizeof msg);
    ck_assert_int_eq(tls__client_hello_parse(msg + 4, len - 4, &ch), TLS_OK);
    ck_assert(!ch.has_server_name);
    ck_assert_str_eq(tls_conn_server_name(c), "127.0.0.1");
    tls_conn_free(c);
    ck_assert_int_eq(tls_client_conn_new(cfg, "::1", &c), TLS_OK);
    len = client_hello_bytes(c, msg, sizeof msg);
    ck_assert_int_eq(tls__client_hello_parse(msg + 4, len - 4, &ch), TLS_OK);
    ck_assert(!ch.has_server_name);
    tls_conn_free(c);
    tls_client_config_unref(cfg);
}
END_TEST

START_TEST(test_client_hello_disable_sni)
{
    tls_client_config_params cp = client_params(KT_P256);
    uint8_t msg[4096];
    tls_client_hello ch;
    tls_conn *c;

    cp.disable_sni = true;
    tls_client_config *cfg = engine_client_config(&cp);
    ck_assert_int_eq(tls_client_conn_new(cfg, NAME, &c), TLS_OK);
    size_t len = client_hello_bytes(c, msg, sizeof msg);
    ck_assert_int_eq(tls__client_hello_parse(msg + 4, len - 4, &ch), TLS_OK);
    ck_assert(!ch.has_server_name);
    tls_conn_free(c);
    tls_client_config_unref(cfg);
}
END_TEST

/* ==== against the engine server ===================================================================== */

/* Every key type × suite × group, verified against the test CA. */
START_TEST(test_client_handshake_matrix)
{
    int kt = _i / 9;
    uint16_t suite = all_suites[(_i / 3) % 3], group = all_groups[_i % 3];
    tls_client_config_params cp = client_params(kt);
    tls_server_config_params sp = server_params(kt);
    engine_pair p;

    cp.cipher_suites = &suite, cp.n_cipher_suites = 1;
    cp.groups = &group, cp.n_groups = 1;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    handshake(&p);
    ck_assert_uint_eq(tls_conn_version(p.c), TLS_VERSION_1_3);
    ck_assert_uint_eq(tls_conn_cipher_suite(p.c), suite);
    ck_assert_uint_eq(tls_conn_cipher_suite(p.s), suite);
    ck_assert_uint_eq(tls_conn_group(p.c), group);
    ck_assert_uint_eq(tls_conn_group(p.s), group);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.c), kt_schemes[kt]);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.s), kt_schemes[kt]);
    ck_assert(!tls_conn_did_hrr(p.c));
    ck_assert(tls_conn_ems(p.c));
    ck_assert_str_eq(tls_conn_server_name(p.c), NAME);
    ck_assert_str_eq(tls_conn_server_name(p.s), NAME);
    engine_transfer(&p, p.c, p.s, 1000, (uint32_t)_i);
    engine_transfer(&p, p.s, p.c, 1000, (uint32_t)_i + 100);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_handshake_defaults)
{
    engine_pair p;
    size_t alpn_len;
    pair_default(&p, KT_RSA, NAME);
    handshake(&p);
    /* The server's preferences: AES-256 first, X25519 (our share). */
    ck_assert_uint_eq(tls_conn_cipher_suite(p.c), TLS_AES_256_GCM_SHA384);
    ck_assert_uint_eq(tls_conn_group(p.c), TLS_GROUP_X25519);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.c), TLS_SIG_RSA_PSS_RSAE_SHA256);
    ck_assert_ptr_null(tls_conn_alpn(p.c, &alpn_len));
    ck_assert_uint_eq(alpn_len, 0);
    ck_assert_uint_eq(tls_conn_peer_alert(p.s), TLS_ALERT_NONE);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_hrr)
{
    uint16_t server_group = all_groups[1 + _i]; /* P-256 or P-384: not our X25519 share */
    tls_client_config_params cp = client_params(KT_P384);
    tls_server_config_params sp = server_params(KT_P384);
    engine_pair p;

    sp.groups = &server_group, sp.n_groups = 1;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    handshake(&p);
    ck_assert(tls_conn_did_hrr(p.c));
    ck_assert(tls_conn_did_hrr(p.s));
    ck_assert_uint_eq(tls_conn_group(p.c), server_group);
    ck_assert_uint_eq(tls_conn_version(p.c), TLS_VERSION_1_3);
    engine_transfer(&p, p.c, p.s, 5000, 1);
    engine_transfer(&p, p.s, p.c, 5000, 2);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_alpn)
{
    static const char *const ours[] = {"h2", "http/1.1"};
    static const char *const theirs[] = {"http/1.1", "spdy/3"};
    tls_client_config_params cp = client_params(KT_P256);
    tls_server_config_params sp = server_params(KT_P256);
    const uint8_t *alpn;
    size_t len;
    engine_pair p;

    cp.alpn = ours, cp.n_alpn = 2;
    sp.alpn = theirs, sp.n_alpn = 2;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    handshake(&p);
    alpn = tls_conn_alpn(p.c, &len);
    ck_assert(alpn && len == 8 && !memcmp(alpn, "http/1.1", 8));
    alpn = tls_conn_alpn(p.s, &len);
    ck_assert(alpn && len == 8 && !memcmp(alpn, "http/1.1", 8));
    engine_pair_free(&p);

    /* A server without ALPN: nothing agreed, and that is fine. */
    sp = server_params(KT_P256);
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    handshake(&p);
    ck_assert_ptr_null(tls_conn_alpn(p.c, &len));
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_alpn_no_overlap)
{
    static const char *const ours[] = {"h2"};
    static const char *const theirs[] = {"http/1.1"};
    tls_client_config_params cp = client_params(KT_P256);
    tls_server_config_params sp = server_params(KT_P256);
    engine_pair p;

    cp.alpn = ours, cp.n_alpn = 1;
    sp.alpn = theirs, sp.n_alpn = 1;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    engine_shuttle(&p);
    ck_assert_int_eq(p.serr, TLS_ERR_NO_APPLICATION_PROTOCOL);
    ck_assert_int_eq(p.cerr, TLS_ERR_ALERT_RECEIVED);
    ck_assert_int_eq(tls_conn_peer_alert(p.c), TLS_ALERT_NO_APPLICATION_PROTOCOL);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_sni_seen_by_server)
{
    engine_pair p;
    pair_default(&p, KT_P256, "TestServer.com.");
    handshake(&p);
    ck_assert_str_eq(tls_conn_server_name(p.s), NAME);
    ck_assert_str_eq(tls_conn_server_name(p.c), "TestServer.com");
    engine_pair_free(&p);

    /* The server's SNI resolver picks the certificate the name asks for. */
    tls_client_config_params cp = client_params(KT_P256);
    tls_server_config_params sp = server_params(KT_P256);
    tls_certified_key *both[] = {end_ck[KT_P256], other_ck[KT_P256]};
    sp.certs = both, sp.n_certs = 2;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), "other.test");
    handshake(&p);
    ck_assert_str_eq(tls_conn_server_name(p.s), "other.test");
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_ip_literal_verified_without_sni)
{
    engine_pair p;
    pair_default(&p, KT_RSA, "127.0.0.1");
    handshake(&p);
    ck_assert_ptr_null(tls_conn_server_name(p.s));
    ck_assert_str_eq(tls_conn_server_name(p.c), "127.0.0.1");
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_data_100k_both_ways)
{
    engine_pair p;
    pair_default(&p, KT_P256, NAME);
    handshake(&p);
    engine_transfer(&p, p.c, p.s, 100 * 1024, 7);
    engine_transfer(&p, p.s, p.c, 100 * 1024, 8);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_data_written_before_handshake)
{
    uint8_t got[64];
    size_t n, total = 0;
    engine_pair p;
    pair_default(&p, KT_P256, NAME);
    ck_assert_int_eq(tls_conn_write(p.c, (const uint8_t *)"early bird", 10, &n), TLS_OK);
    ck_assert_uint_eq(n, 10);
    handshake(&p);
    do {
        ck_assert_int_eq(tls_conn_read(p.s, got + total, sizeof got - total, &n), TLS_OK);
        total += n;
    } while (n);
    ck_assert_uint_eq(total, 10);
    ck_assert(!memcmp(got, "early bird", 10));
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_key_update_by_client)
{
    engine_pair p;
    pair_default(&p, KT_P256, NAME);
    handshake(&p);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(tls_conn_send_key_update(p.c, i != 1), TLS_OK);
        engine_transfer(&p, p.c, p.s, 3000, (uint32_t)i);
        engine_transfer(&p, p.s, p.c, 3000, (uint32_t)i + 10);
    }
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_key_update_by_server)
{
    engine_pair p;
    pair_default(&p, KT_RSA, NAME);
    handshake(&p);
    for (int i = 0; i < 3; i++) {
        ck_assert_int_eq(tls_conn_send_key_update(p.s, i != 1), TLS_OK);
        engine_transfer(&p, p.s, p.c, 3000, (uint32_t)i);
        engine_transfer(&p, p.c, p.s, 3000, (uint32_t)i + 10);
    }
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_key_update_before_handshake_refused)
{
    engine_pair p;
    pair_default(&p, KT_P256, NAME);
    ck_assert_int_eq(tls_conn_send_key_update(p.c, false), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_int_eq(tls_conn_error(p.c), TLS_OK);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_close_notify)
{
    uint8_t buf[16];
    size_t n;
    engine_pair p;
    pair_default(&p, KT_P256, NAME);
    handshake(&p);
    engine_transfer(&p, p.c, p.s, 100, 1);
    tls_conn_send_close_notify(p.c);
    ck_assert_int_eq(tls_conn_write(p.c, (const uint8_t *)"x", 1, &n), TLS_ERR_CLOSED);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(tls_conn_peer_closed(p.s));
    /* The other direction stays open until the server closes too. */
    engine_transfer(&p, p.s, p.c, 100, 2);
    tls_conn_send_close_notify(p.s);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(tls_conn_peer_closed(p.c));
    ck_assert_int_eq(tls_conn_read(p.c, buf, sizeof buf, &n), TLS_OK);
    ck_assert_uint_eq(n, 0);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_small_fragments)
{
    tls_client_config_params cp = client_params(KT_RSA);
    tls_server_config_params sp = server_params(KT_RSA);
    engine_pair p;
    cp.max_fragment_size = 64;
    sp.max_fragment_size = 64; /* the server's flight arrives in many records */
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    handshake(&p);
    engine_transfer(&p, p.c, p.s, 5000, 3);
    engine_transfer(&p, p.s, p.c, 5000, 4);
    engine_pair_free(&p);
}
END_TEST

/* ==== certificate verification ======================================================================= */

START_TEST(test_client_roots_wrong_name)
{
    engine_pair p;
    pair_default(&p, KT_P256, "other.test");
    engine_shuttle(&p);
    ck_assert_int_eq(p.cerr, TLS_ERR_CERT_NOT_VALID_FOR_NAME);
    ck_assert_int_eq(tls_conn_error(p.c), TLS_ERR_CERT_NOT_VALID_FOR_NAME);
    ck_assert_int_eq(p.serr, TLS_ERR_ALERT_RECEIVED);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_BAD_CERTIFICATE);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_roots_unknown_issuer)
{
    tls_client_config_params cp = client_params(KT_RSA); /* trusts the RSA CA only */
    tls_server_config_params sp = server_params(KT_P256);
    engine_pair p;
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    engine_shuttle(&p);
    ck_assert_int_eq(p.cerr, TLS_ERR_CERT_UNKNOWN_ISSUER);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_UNKNOWN_CA);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_verifier_rejects)
{
    tls_client_config_params cp;
    tls_server_config_params sp = server_params(KT_P384);
    engine_pair p;

    memset(&cp, 0, sizeof cp);
    cp.verifier = test_verifier;
    verifier_reset(TLS_ERR_CERT_EXPIRED);
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), NAME);
    engine_shuttle(&p);
    ck_assert_int_eq(p.cerr, TLS_ERR_CERT_EXPIRED);
    ck_assert_int_eq(tls_conn_error(p.c), TLS_ERR_CERT_EXPIRED);
    ck_assert_int_eq(tls_conn_peer_alert(p.s), TLS_ALERT_CERTIFICATE_EXPIRED);
    ck_assert_uint_eq(verifier.calls, 1);
    ck_assert_uint_eq(verifier.n_chain, 3); /* end, intermediate, root as the server sent */
    ck_assert_str_eq(verifier.name, NAME);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_verifier_accepts)
{
    tls_client_config_params cp;
    tls_server_config_params sp = server_params(KT_P384);
    engine_pair p;

    memset(&cp, 0, sizeof cp);
    cp.verifier = test_verifier;
    verifier_reset(TLS_OK);
    engine_pair_init(&p, engine_client_config(&cp), engine_server_config(&sp), "anything.example");
    handshake(&p);
    ck_assert_str_eq(verifier.name, "anything.example");
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_dangerous_accepts_wrong_name)
{
    tls_client_config_params cp;
    tls_server_config_params sp = server_params(KT_RSA);
    tls_client_config *cfg;
    char err[256];
    engine_pair p;

    memset(&cp, 0, sizeof cp);
    ck_assert_int_eq(tls_client_config_new_dangerous_unverified(&cp, &cfg, err, sizeof err),
                     TLS_OK);
    sp.certs = &other_ck[KT_RSA];
    engine_pair_init(&p, cfg, engine_server_config(&sp), NAME);
    handshake(&p);
    engine_transfer(&p, p.c, p.s, 100, 1);
    engine_pair_free(&p);
}
END_TEST

START_TEST(test_client_dangerous_still_checks_certificate_verify)
{
    tls_client_config_params cp;
    tls_client_config *cfg;
    ts_flight_opts f = {.ck = end_ck[KT_P256], .corrupt_cv = true};
    char err[256];
    scripted sc;

    memset(&cp, 0, sizeof cp);
    ck_assert_int_eq(tls_client_config_new_dangerous_unverified(&cp, &cfg, err, sizeof err),
                     TLS_OK);
    scripted_init(&sc, cfg, "wrong.example");
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_BAD_CERTIFICATE_VERIFY, TLS_ALERT_DECRYPT_ERROR, true);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_dangerous_still_checks_finished)
{
    tls_client_config_params cp;
    tls_client_config *cfg;
    ts_flight_opts f = {.ck = end_ck[KT_RSA], .corrupt_finished = true};
    char err[256];
    scripted sc;

    memset(&cp, 0, sizeof cp);
    ck_assert_int_eq(tls_client_config_new_dangerous_unverified(&cp, &cfg, err, sizeof err),
                     TLS_OK);
    scripted_init(&sc, cfg, "wrong.example");
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_BAD_FINISHED, TLS_ALERT_DECRYPT_ERROR, true);
    scripted_free(&sc);
}
END_TEST

/* ==== against the scripted server: correct behaviour ================================================ */

START_TEST(test_client_scripted_handshake)
{
    scripted sc;
    uint8_t buf[16];
    size_t n;

    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc);
    /* One dummy CCS, before anything protected (§D.4); then only our Finished. */
    ck_assert_uint_eq(sc.ts->ccs, 1);
    ck_assert_uint_eq(sc.ts->n_msgs, 1);
    ck_assert_uint_eq(sc.ts->msgs[0], TLS_HS_FINISHED);
    ck_assert_uint_eq(verifier.calls, 1);
    ck_assert_uint_eq(verifier.n_chain, 3);
    /* Both ways under the application keys. */
    ts_write(sc.ts, "pong", 4);
    ck_assert_int_eq(tls_conn_write(sc.c, (const uint8_t *)"ping", 4, &n), TLS_OK);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert(sc.ts->app.len == 4 && !memcmp(sc.ts->app.p, "ping", 4));
    ck_assert_int_eq(tls_conn_read(sc.c, buf, sizeof buf, &n), TLS_OK);
    ck_assert(n == 4 && !memcmp(buf, "pong", 4));
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_half_rtt_data)
{
    ts_flight_opts f = {.ck = end_ck[KT_P256]};
    uint8_t buf[16];
    size_t n;
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    ts_write(sc.ts, "0.5-RTT", 7); /* right behind the server's Finished */
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert_int_eq(tls_conn_read(sc.c, buf, sizeof buf, &n), TLS_OK);
    ck_assert(n == 7 && !memcmp(buf, "0.5-RTT", 7));
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_certificate_request_answered_empty)
{
    ts_flight_opts f = {.ck = end_ck[KT_P256], .cert_request = true};
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert_msg(!sc.ts->failed, "%s", sc.ts->error);
    ck_assert(sc.ts->finished_ok);
    ck_assert_uint_eq(sc.ts->n_msgs, 2);
    ck_assert_uint_eq(sc.ts->msgs[0], TLS_HS_CERTIFICATE);
    ck_assert_uint_eq(sc.ts->msgs[1], TLS_HS_FINISHED);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_sni_ack_accepted)
{
    ts_flight_opts f = {.ck = end_ck[KT_P256], .ack_sni = true};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_new_session_ticket_ignored)
{
    static const uint8_t nst[] = {
        TLS_HS_NEW_SESSION_TICKET, 0, 0, 17, 0, 0, 0x1c, 0x20, /* lifetime 7200 */
        1, 2, 3, 4,                                             /* age_add */
        1, 0,                                                   /* nonce */
        0, 3, 't', 'k', 't',                                    /* ticket */
        0, 0,                                                   /* extensions */
    };
    uint8_t buf[16];
    size_t n;
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc);
    ts_send_handshake(sc.ts, nst, sizeof nst);
    ts_send_handshake(sc.ts, nst, sizeof nst);
    ts_write(sc.ts, "after", 5);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert_int_eq(tls_conn_read(sc.c, buf, sizeof buf, &n), TLS_OK);
    ck_assert(n == 5 && !memcmp(buf, "after", 5));
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_hrr_cookie_echoed)
{
    static const uint8_t cookie[] = "a cookie the server wants back";
    ts_hello_opts hrr = {.hrr = true, .cookie = cookie, .cookie_len = sizeof cookie};
    ts_flight_opts f = {.ck = end_ck[KT_P256]};
    tls_client_hello ch1;
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ck_assert_int_eq(tls__client_hello_parse(sc.ts->hello[0] + 4, sc.ts->hello_len[0] - 4, &ch1),
                     TLS_OK);
    ts_server_hello(sc.ts, &hrr);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert_uint_eq(sc.ts->n_hellos, 2);
    ck_assert_uint_eq(sc.ts->ccs_before_hello2, 1); /* §D.4: the CCS goes before hello 2 */
    const tls_client_hello *ch2 = &sc.ts->ch;
    ck_assert(ch2->has_cookie && ch2->cookie.len == sizeof cookie &&
              !memcmp(ch2->cookie.p, cookie, sizeof cookie));
    /* §4.1.2: a cookie-only HRR changes nothing else, the key share included. */
    ck_assert(!memcmp(ch1.random, ch2->random, 32));
    ck_assert(ch1.session_id.len == ch2->session_id.len &&
              !memcmp(ch1.session_id.p, ch2->session_id.p, ch1.session_id.len));
    ck_assert(ch1.key_shares.len == ch2->key_shares.len &&
              !memcmp(ch1.key_shares.p, ch2->key_shares.p, ch1.key_shares.len));
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert_msg(!sc.ts->failed, "%s", sc.ts->error);
    ck_assert(sc.ts->finished_ok);
    ck_assert(tls_conn_did_hrr(sc.c));
    ck_assert_uint_eq(sc.ts->ccs, 1);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_hrr_second_hello)
{
    ts_hello_opts hrr = {.hrr = true, .group = TLS_GROUP_SECP384R1};
    ts_flight_opts f = {.ck = end_ck[KT_P384]};
    tls_client_hello ch1;
    tls_slice share;
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ck_assert_int_eq(tls__client_hello_parse(sc.ts->hello[0] + 4, sc.ts->hello_len[0] - 4, &ch1),
                     TLS_OK);
    ts_server_hello(sc.ts, &hrr);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    const tls_client_hello *ch2 = &sc.ts->ch;
    /* One share, for the group asked for; no cookie (none was sent); the rest equal. */
    ck_assert(tls__client_hello_key_share(ch2, TLS_GROUP_SECP384R1, &share));
    ck_assert_uint_eq(ch2->key_shares.len, 4 + share.len);
    ck_assert(!ch2->has_cookie && !ch2->has_early_data);
    ck_assert(!memcmp(ch1.random, ch2->random, 32));
    ck_assert(ch1.cipher_suites.len == ch2->cipher_suites.len &&
              !memcmp(ch1.cipher_suites.p, ch2->cipher_suites.p, ch1.cipher_suites.len));
    ck_assert(ch1.groups.len == ch2->groups.len &&
              !memcmp(ch1.groups.p, ch2->groups.p, ch1.groups.len));
    ck_assert_str_eq(ch1.server_name, ch2->server_name);
    ts_server_hello(sc.ts, NULL); /* the share of the second hello: P-384 */
    ts_flight(sc.ts, &f);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert(sc.ts->finished_ok);
    ck_assert_uint_eq(tls_conn_group(sc.c), TLS_GROUP_SECP384R1);
    ck_assert_uint_eq(tls_conn_sig_scheme(sc.c), TLS_SIG_ECDSA_SECP384R1_SHA384);
    scripted_free(&sc);
}
END_TEST

/* ==== against the scripted server: hostile ServerHellos =================================================== */

START_TEST(test_client_sh_unoffered_suite)
{
    tls_client_config_params cp;
    uint16_t suite = TLS_AES_128_GCM_SHA256;
    ts_hello_opts o = {.suite = TLS_AES_256_GCM_SHA384};
    memset(&cp, 0, sizeof cp);
    cp.cipher_suites = &suite, cp.n_cipher_suites = 1;
    hello_fails(&o, &cp, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_sh_tls12_suite_with_tls13)
{
    ts_hello_opts o = {.suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256};
    hello_fails(&o, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_sh_wrong_session_id)
{
    ts_hello_opts o = {.wrong_session_id = true};
    hello_fails(&o, NULL, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_sh_key_share_unoffered_group)
{
    ts_hello_opts o = {.group = TLS_GROUP_SECP384R1}; /* we sent X25519 only */
    hello_fails(&o, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
    ts_hello_opts unknown = {.group = 0x0019};
    hello_fails(&unknown, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_sh_missing_key_share)
{
    ts_hello_opts o = {.omit_key_share = true};
    hello_fails(&o, NULL, TLS_ERR_MISSING_EXTENSION, TLS_ALERT_MISSING_EXTENSION);
}
END_TEST

START_TEST(test_client_sh_bad_key_share)
{
    /* A share of the right group that is not a valid point. */
    static const uint8_t bad_share[] = {0x00, 0x33, 0x00, 0x05, 0x00, 0x17, 0x00, 0x01, 0x04};
    ts_hello_opts o = {.omit_key_share = true,
                       .extra_exts = bad_share,
                       .extra_exts_len = sizeof bad_share};
    static const uint16_t p256 = TLS_GROUP_SECP256R1;
    tls_client_config_params cp;
    memset(&cp, 0, sizeof cp);
    cp.groups = &p256, cp.n_groups = 1;
    hello_fails(&o, &cp, TLS_ERR_INVALID_KEY_SHARE, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_sh_wrong_version)
{
    ts_hello_opts o = {.version = TLS_VERSION_1_2};
    hello_fails(&o, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
    ts_hello_opts grease = {.version = 0x7a7a};
    hello_fails(&grease, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_sh_bad_legacy_version)
{
    ts_hello_opts o = {.legacy_version = TLS_VERSION_1_3};
    hello_fails(&o, NULL, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_sh_compression)
{
    ts_hello_opts o = {.compression = 1};
    hello_fails(&o, NULL, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_sh_unsolicited_extension)
{
    static const uint8_t alpn[] = {0x00, 0x10, 0x00, 0x05, 0x00, 0x03, 0x02, 'h', '2'};
    static const uint8_t cookie[] = {0x00, 0x2c, 0x00, 0x03, 0x00, 0x01, 0x00};
    static const uint8_t unknown[] = {0x12, 0x34, 0x00, 0x00};
    ts_hello_opts o = {.extra_exts = alpn, .extra_exts_len = sizeof alpn};
    hello_fails(&o, NULL, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    o.extra_exts = cookie, o.extra_exts_len = sizeof cookie; /* HRR only */
    hello_fails(&o, NULL, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    o.extra_exts = unknown, o.extra_exts_len = sizeof unknown;
    hello_fails(&o, NULL, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
}
END_TEST

START_TEST(test_client_sh_duplicate_extension)
{
    static const uint8_t versions[] = {0x00, 0x2b, 0x00, 0x02, 0x03, 0x04};
    ts_hello_opts o = {.extra_exts = versions, .extra_exts_len = sizeof versions};
    hello_fails(&o, NULL, TLS_ERR_DUPLICATE_EXTENSION, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_sh_malformed_extension)
{
    static const uint8_t versions_long[] = {0x00, 0x2b, 0x00, 0x03, 0x03, 0x04, 0x00};
    ts_hello_opts o = {.omit_versions = true,
                       .extra_exts = versions_long,
                       .extra_exts_len = sizeof versions_long};
    hello_fails(&o, NULL, TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR);
}
END_TEST

START_TEST(test_client_sh_truncated_at_every_length)
{
    tls_client_config *cfg = accepting_config(NULL);
    ts_server *ts = ts_new();
    uint8_t full[1024];
    tls_conn *c;

    /* A correct ServerHello's bytes, from a server that saw a real hello. */
    ck_assert_int_eq(tls_client_conn_new(cfg, NAME, &c), TLS_OK);
    ck_assert_int_eq(ts_pump(ts, c), TLS_OK);
    ts_server_hello(ts, NULL);
    size_t len = server_hello_bytes(ts, full, sizeof full);
    tls_conn_free(c);
    for (size_t cut = 4; cut < len; cut++) {
        tls_server_hello sh;
        tls_error e = tls__server_hello_parse(full + 4, cut - 4, &sh);
        ck_assert_msg(e == TLS_ERR_DECODE || (cut == 4 + 38 + 32 && e == TLS_OK),
                      "cut at %zu: %s", cut, tls_error_name(e));
    }
    tls_server_hello sh;
    ck_assert_int_eq(tls__server_hello_parse(full + 4, len - 4, &sh), TLS_OK);
    full[len] = 0;
    ck_assert_int_eq(tls__server_hello_parse(full + 4, len - 3, &sh), TLS_ERR_TRAILING_DATA);
    ts_free(ts);
    tls_client_config_unref(cfg);
}
END_TEST

START_TEST(test_client_hrr_twice)
{
    ts_hello_opts hrr = {.hrr = true, .group = TLS_GROUP_SECP256R1};
    ts_hello_opts hrr2 = {.hrr = true, .group = TLS_GROUP_SECP384R1};
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, &hrr);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert_uint_eq(sc.ts->n_hellos, 2);
    ts_server_hello(sc.ts, &hrr2);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE, false);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_hrr_changes_nothing)
{
    ts_hello_opts nothing = {.hrr = true};
    hello_fails(&nothing, NULL, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
    ts_hello_opts same_group = {.hrr = true, .group = TLS_GROUP_X25519};
    hello_fails(&same_group, NULL, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hrr_unoffered_group)
{
    static const uint16_t groups[] = {TLS_GROUP_X25519, TLS_GROUP_SECP256R1};
    tls_client_config_params cp;
    ts_hello_opts o = {.hrr = true, .group = TLS_GROUP_SECP384R1};
    memset(&cp, 0, sizeof cp);
    cp.groups = groups, cp.n_groups = 2;
    hello_fails(&o, &cp, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hrr_unoffered_suite)
{
    tls_client_config_params cp;
    uint16_t suite = TLS_AES_128_GCM_SHA256;
    ts_hello_opts o = {.hrr = true, .group = TLS_GROUP_SECP256R1, .suite = TLS_AES_256_GCM_SHA384};
    memset(&cp, 0, sizeof cp);
    cp.cipher_suites = &suite, cp.n_cipher_suites = 1;
    hello_fails(&o, &cp, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_hrr_then_other_suite)
{
    ts_hello_opts hrr = {.hrr = true, .group = TLS_GROUP_SECP256R1, .suite = TLS_AES_128_GCM_SHA256};
    ts_hello_opts sh = {.suite = TLS_AES_256_GCM_SHA384};
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, &hrr);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ts_server_hello(sc.ts, &sh);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER, false);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_hrr_then_other_group)
{
    ts_hello_opts hrr = {.hrr = true, .group = TLS_GROUP_SECP256R1};
    ts_hello_opts sh = {.group = TLS_GROUP_X25519}; /* the first hello's group */
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, &hrr);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ts_server_hello(sc.ts, &sh);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER, false);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_hrr_then_tls12)
{
    ts_hello_opts hrr = {.hrr = true, .group = TLS_GROUP_SECP256R1};
    ts_hello_opts sh = {.omit_versions = true, .omit_key_share = true,
                        .suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256};
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, &hrr);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ts_server_hello(sc.ts, &sh);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER, false);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_downgrade_sentinel)
{
    uint8_t random[32];
    ts_hello_opts o = {.omit_versions = true, .omit_key_share = true, .random = random,
                       .suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256};
    static const uint8_t sentinel[8] = {0x44, 0x4f, 0x57, 0x4e, 0x47, 0x52, 0x44, 0x01};

    memset(random, 0x11, sizeof random);
    memcpy(random + 24, sentinel, 8);
    hello_fails(&o, NULL, TLS_ERR_DOWNGRADE_DETECTED, TLS_ALERT_ILLEGAL_PARAMETER);
    random[31] = 0x00; /* TLS 1.1 and below */
    hello_fails(&o, NULL, TLS_ERR_DOWNGRADE_DETECTED, TLS_ALERT_ILLEGAL_PARAMETER);
    /* Even from a server that claims TLS 1.1. */
    o.legacy_version = TLS_VERSION_1_1;
    hello_fails(&o, NULL, TLS_ERR_DOWNGRADE_DETECTED, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_tls12_server_hello_without_tls12)
{
    tls_client_config_params cp;
    ts_hello_opts o = {.omit_versions = true, .omit_key_share = true,
                       .suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256};
    memset(&cp, 0, sizeof cp);
    cp.versions = only_tls13, cp.n_versions = 1;
    hello_fails(&o, &cp, TLS_ERR_PROTOCOL_VERSION, TLS_ALERT_PROTOCOL_VERSION);
    o.legacy_version = TLS_VERSION_1_1;
    hello_fails(&o, &cp, TLS_ERR_PROTOCOL_VERSION, TLS_ALERT_PROTOCOL_VERSION);
}
END_TEST

START_TEST(test_client_tls13_server_hello_to_tls12_only_client)
{
    tls_client_config_params cp;
    ts_hello_opts o = {.suite = TLS_AES_128_GCM_SHA256, .group = TLS_GROUP_X25519};
    memset(&cp, 0, sizeof cp);
    cp.versions = only_tls12, cp.n_versions = 1;
    hello_fails(&o, &cp, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
}
END_TEST

/* ==== against the scripted server: hostile encrypted flights ============================================= */

START_TEST(test_client_ee_unsolicited_extension)
{
    static const uint8_t early_data[] = {0x00, 0x2a, 0x00, 0x00};
    static const uint8_t key_share[] = {0x00, 0x33, 0x00, 0x02, 0x00, 0x1d};
    static const uint8_t unknown[] = {0xfe, 0xed, 0x00, 0x01, 0x00};
    ts_flight_opts f = {.ee_exts = early_data, .ee_exts_len = sizeof early_data};
    flight_fails(f, NULL, NAME, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    f.ee_exts = key_share, f.ee_exts_len = sizeof key_share;
    flight_fails(f, NULL, NAME, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    f.ee_exts = unknown, f.ee_exts_len = sizeof unknown;
    flight_fails(f, NULL, NAME, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
}
END_TEST

START_TEST(test_client_ee_sni_ack_without_sni)
{
    ts_flight_opts f = {.ack_sni = true};
    flight_fails(f, NULL, "127.0.0.1", TLS_ERR_UNSOLICITED_EXTENSION,
                 TLS_ALERT_UNSUPPORTED_EXTENSION);
}
END_TEST

START_TEST(test_client_ee_alpn)
{
    static const char *const ours[] = {"h2", "http/1.1"};
    static const uint8_t two[] = {0x00, 0x10, 0x00, 0x08, 0x00, 0x06, 2, 'h', '2', 2, 'h', '3'};
    tls_client_config_params cp;
    ts_flight_opts f = {.alpn = "h2"};

    /* Not offered at all. */
    flight_fails(f, NULL, NAME, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    memset(&cp, 0, sizeof cp);
    cp.alpn = ours, cp.n_alpn = 2;
    /* A protocol we did not offer. */
    f.alpn = "spdy/3";
    flight_fails(f, &cp, NAME, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
    /* Two protocols. */
    f.alpn = NULL;
    f.ee_exts = two, f.ee_exts_len = sizeof two;
    flight_fails(f, &cp, NAME, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
}
END_TEST

START_TEST(test_client_ee_alpn_accepted)
{
    static const char *const ours[] = {"h2", "http/1.1"};
    tls_client_config_params cp;
    ts_flight_opts f = {.ck = end_ck[KT_P256], .alpn = "http/1.1"};
    const uint8_t *alpn;
    size_t len;
    scripted sc;

    memset(&cp, 0, sizeof cp);
    cp.alpn = ours, cp.n_alpn = 2;
    scripted_init(&sc, accepting_config(&cp), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    alpn = tls_conn_alpn(sc.c, &len);
    ck_assert(alpn && len == 8 && !memcmp(alpn, "http/1.1", 8));
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_empty_certificate)
{
    ts_flight_opts f = {.empty_certificate = true};
    flight_fails(f, NULL, NAME, TLS_ERR_NO_CERTIFICATES_PRESENTED, TLS_ALERT_DECODE_ERROR);
}
END_TEST

START_TEST(test_client_corrupt_certificate_verify)
{
    ts_flight_opts f = {.ck = end_ck[_i], .corrupt_cv = true};
    flight_fails(f, NULL, NAME, TLS_ERR_BAD_CERTIFICATE_VERIFY, TLS_ALERT_DECRYPT_ERROR);
}
END_TEST

START_TEST(test_client_certificate_verify_scheme)
{
    /* PKCS#1 v1.5 is offered for TLS 1.2 and certificates, never for a 1.3 handshake. */
    ts_flight_opts f = {.ck = end_ck[KT_RSA], .scheme = TLS_SIG_RSA_PKCS1_SHA256};
    flight_fails(f, NULL, NAME, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
    f.scheme = 0x0808; /* ed448: not offered */
    flight_fails(f, NULL, NAME, TLS_ERR_SELECTED_UNOFFERED, TLS_ALERT_ILLEGAL_PARAMETER);
    /* Offered, but not the certificate's key. */
    f.scheme = TLS_SIG_ECDSA_SECP256R1_SHA256;
    flight_fails(f, NULL, NAME, TLS_ERR_BAD_CERTIFICATE_VERIFY, TLS_ALERT_DECRYPT_ERROR);
}
END_TEST

START_TEST(test_client_corrupt_finished)
{
    ts_flight_opts f = {.corrupt_finished = true};
    flight_fails(f, NULL, NAME, TLS_ERR_BAD_FINISHED, TLS_ALERT_DECRYPT_ERROR);
}
END_TEST

START_TEST(test_client_finished_missing)
{
    ts_flight_opts f = {.ck = end_ck[KT_P256], .stop_after_cv = true};
    static const uint8_t ee[] = {TLS_HS_ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0};
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    ts_send_handshake(sc.ts, ee, sizeof ee); /* where the Finished should be */
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE, true);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_certificate_before_encrypted_extensions)
{
    static const uint8_t cert[] = {TLS_HS_CERTIFICATE, 0, 0, 4, 0, 0, 0, 0};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_send_handshake(sc.ts, cert, sizeof cert);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE, true);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_certificate_with_context)
{
    static const uint8_t ee[] = {TLS_HS_ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0};
    static const uint8_t cert[] = {TLS_HS_CERTIFICATE, 0, 0, 13, 1, 0x55, 0, 0, 8,
                                   0, 0, 3, 1, 2, 3, 0, 0};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_send_handshake(sc.ts, ee, sizeof ee);
    ts_send_handshake(sc.ts, cert, sizeof cert);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER, true);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_certificate_malformed_entry_extensions)
{
    static const uint8_t ee[] = {TLS_HS_ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0};
    /* One certificate whose extensions block holds a truncated extension. */
    static const uint8_t cert[] = {TLS_HS_CERTIFICATE, 0, 0, 15, 0, 0, 0, 11,
                                   0, 0, 3, 1, 2, 3, 0, 3, 0, 5, 0};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_send_handshake(sc.ts, ee, sizeof ee);
    ts_send_handshake(sc.ts, cert, sizeof cert);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_DECODE, TLS_ALERT_DECODE_ERROR, true);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_certificate_request_checked)
{
    static const uint8_t ee[] = {TLS_HS_ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0};
    /* §4.3.2: an empty context during the handshake, and signature_algorithms. */
    static const uint8_t with_context[] = {TLS_HS_CERTIFICATE_REQUEST, 0, 0, 12, 1, 0x77,
                                           0, 8, 0, 13, 0, 4, 0, 2, 0x04, 0x03};
    static const uint8_t no_sig_algs[] = {TLS_HS_CERTIFICATE_REQUEST, 0, 0, 7, 0,
                                          0, 4, 0x12, 0x34, 0, 0};
    static const uint8_t ok_request[] = {TLS_HS_CERTIFICATE_REQUEST, 0, 0, 11, 0,
                                         0, 8, 0, 13, 0, 4, 0, 2, 0x04, 0x03};
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_send_handshake(sc.ts, ee, sizeof ee);
    ts_send_handshake(sc.ts, with_context, sizeof with_context);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER, true);
    scripted_free(&sc);

    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_send_handshake(sc.ts, ee, sizeof ee);
    ts_send_handshake(sc.ts, no_sig_algs, sizeof no_sig_algs);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_MISSING_EXTENSION, TLS_ALERT_MISSING_EXTENSION, true);
    scripted_free(&sc);

    /* Twice: the second is unexpected. */
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_send_handshake(sc.ts, ee, sizeof ee);
    ts_send_handshake(sc.ts, ok_request, sizeof ok_request);
    ts_send_handshake(sc.ts, ok_request, sizeof ok_request);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE, true);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_scripted_verifier_rejects)
{
    tls_client_config_params cp;
    ts_flight_opts f = {.ck = end_ck[KT_P256]};
    scripted sc;

    memset(&cp, 0, sizeof cp);
    cp.verifier = test_verifier;
    scripted_init(&sc, engine_client_config(&cp), NAME);
    verifier_reset(TLS_ERR_CERT_UNKNOWN_ISSUER);
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_CERT_UNKNOWN_ISSUER, TLS_ALERT_UNKNOWN_CA, true);
    scripted_free(&sc);
}
END_TEST

/* ==== records and ChangeCipherSpec ============================================================== */

START_TEST(test_client_ccs_rules)
{
    static const uint8_t one = 1, two = 2;
    ts_flight_opts f = {.ck = end_ck[KT_P256]};
    scripted sc;

    /* Before the ServerHello: unexpected. */
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_send_plain_record(sc.ts, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE, false);
    scripted_free(&sc);

    /* One after the ServerHello is dropped; a second is not. */
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_send_plain_record(sc.ts, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ts_send_plain_record(sc.ts, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE, true);
    scripted_free(&sc);

    /* A CCS whose value is not 1. */
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_send_plain_record(sc.ts, TLS_CT_CHANGE_CIPHER_SPEC, &two, 1);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_INVALID_CCS, TLS_ALERT_UNEXPECTED_MESSAGE, true);
    scripted_free(&sc);

    /* After the server's Finished, a CCS is unexpected. */
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_flight(sc.ts, &f);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ts_send_plain_record(sc.ts, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_ERR_UNEXPECTED_MESSAGE);
    ck_assert_int_eq(ts_last_alert(sc.ts), TLS_ALERT_UNEXPECTED_MESSAGE);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_plaintext_after_server_hello)
{
    static const uint8_t ee[] = {TLS_HS_ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ts_send_plain_record(sc.ts, TLS_CT_HANDSHAKE, ee, sizeof ee); /* unencrypted */
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE, true);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_server_hello_shares_record)
{
    /* A ServerHello and the start of the next message in one plaintext record: the key
     * change would split them (§5.1). */
    static const uint8_t extra[] = {TLS_HS_ENCRYPTED_EXTENSIONS, 0, 0, 2};
    scripted sc;
    uint8_t *body;
    tls_record rec;
    bool complete;

    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_server_hello(sc.ts, NULL);
    ck_assert_int_eq(tls__record_peek(sc.ts->out.p, sc.ts->out.len, &rec, &complete), TLS_OK);
    body = malloc(rec.len + sizeof extra);
    memcpy(body, rec.body, rec.len);
    memcpy(body + rec.len, extra, sizeof extra);
    size_t body_len = rec.len + sizeof extra;
    sc.ts->out.len = 0;
    ts_send_plain_record(sc.ts, TLS_CT_HANDSHAKE, body, body_len);
    free(body);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_KEY_EPOCH_WITH_PENDING_FRAGMENT,
                         TLS_ALERT_UNEXPECTED_MESSAGE, false);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_handshake_message_before_server_hello)
{
    static const uint8_t ku[] = {TLS_HS_KEY_UPDATE, 0, 0, 1, 0};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_send_handshake(sc.ts, ku, sizeof ku);
    pump(&sc);
    assert_client_failed(&sc, TLS_ERR_UNEXPECTED_HANDSHAKE, TLS_ALERT_UNEXPECTED_MESSAGE, false);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_server_alert_during_handshake)
{
    static const uint8_t alert[] = {2, TLS_ALERT_HANDSHAKE_FAILURE};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    ts_send_record(sc.ts, TLS_CT_ALERT, alert, sizeof alert);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_ERR_ALERT_RECEIVED);
    ck_assert_int_eq(tls_conn_peer_alert(sc.c), TLS_ALERT_HANDSHAKE_FAILURE);
    ck_assert_uint_eq(sc.ts->n_alerts, 0); /* nothing answers an alert */
    scripted_free(&sc);
}
END_TEST

/* ==== after the handshake ======================================================================== */

START_TEST(test_client_connected_rejects_unexpected)
{
    static const uint8_t ee[] = {TLS_HS_ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0};
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc);
    ts_send_handshake(sc.ts, ee, sizeof ee);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_ERR_UNEXPECTED_HANDSHAKE);
    ck_assert_int_eq(ts_last_alert(sc.ts), TLS_ALERT_UNEXPECTED_MESSAGE);
    ck_assert(sc.ts->alerts[sc.ts->n_alerts - 1].protected_);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_bad_new_session_ticket)
{
    static const uint8_t trailing[] = {TLS_HS_NEW_SESSION_TICKET, 0, 0, 16, 0, 0, 0, 1, 0, 0, 0, 0,
                                       0, 0, 1, 'x', 0, 0, 0xaa, 0xbb};
    static const uint8_t forever[] = {TLS_HS_NEW_SESSION_TICKET, 0, 0, 14, 0xff, 0xff, 0xff, 0xff,
                                      0, 0, 0, 0, 0, 0, 1, 'x', 0, 0};
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc);
    ts_send_handshake(sc.ts, trailing, sizeof trailing);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_ERR_TRAILING_DATA);
    ck_assert_int_eq(ts_last_alert(sc.ts), TLS_ALERT_DECODE_ERROR);
    scripted_free(&sc);

    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc);
    ts_send_handshake(sc.ts, forever, sizeof forever);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_ERR_ILLEGAL_PARAMETER);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_key_update_from_scripted_server)
{
    static const uint8_t bad[] = {TLS_HS_KEY_UPDATE, 0, 0, 1, 2};
    uint8_t buf[16];
    size_t n;
    scripted sc;

    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc);
    ts_send_key_update(sc.ts, true);
    ts_write(sc.ts, "rekeyed", 7);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert_int_eq(tls_conn_read(sc.c, buf, sizeof buf, &n), TLS_OK);
    ck_assert(n == 7 && !memcmp(buf, "rekeyed", 7));
    ck_assert_uint_eq(sc.ts->key_updates, 1); /* the client answered under its new keys */
    ck_assert_int_eq(tls_conn_write(sc.c, (const uint8_t *)"ok", 2, &n), TLS_OK);
    pump(&sc);
    ck_assert_msg(!sc.ts->failed, "%s", sc.ts->error);
    ck_assert(sc.ts->app.len == 2 && !memcmp(sc.ts->app.p, "ok", 2));

    ts_send_handshake(sc.ts, bad, sizeof bad);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_ERR_BAD_KEY_UPDATE);
    ck_assert_int_eq(ts_last_alert(sc.ts), TLS_ALERT_ILLEGAL_PARAMETER);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_key_update_flood)
{
    scripted sc;
    scripted_init(&sc, accepting_config(NULL), NAME);
    scripted_handshake(&sc);
    /* 16 in a row are tolerated; application data resets the count. */
    for (int i = 0; i < 16; i++)
        ts_send_key_update(sc.ts, false);
    ts_write(sc.ts, "x", 1);
    for (int i = 0; i < 16; i++)
        ts_send_key_update(sc.ts, false);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ts_send_key_update(sc.ts, false);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_ERR_TOO_MANY_KEY_UPDATES);
    ck_assert_int_eq(ts_last_alert(sc.ts), TLS_ALERT_UNEXPECTED_MESSAGE);
    scripted_free(&sc);
}
END_TEST

/* ==== decoders: truncation and trailing bytes =========================================================== */

START_TEST(test_client_decoders_truncation)
{
    static const uint8_t ee[] = {0, 8, 0x00, 0x10, 0x00, 0x04, 0x00, 0x02, 0x01, 'x'};
    static const uint8_t cert[] = {0, 0, 0, 12, 0, 0, 3, 1, 2, 3, 0, 4, 0xff, 0xff, 0, 0};
    static const uint8_t cv[] = {0x04, 0x03, 0, 2, 0x30, 0x00};
    static const uint8_t nst[] = {0, 0, 0, 1, 0, 0, 0, 0, 1, 9, 0, 1, 'x', 0, 8,
                                  0, 0x2a, 0, 4, 0, 0, 0x40, 0};
    static const uint8_t cr[] = {0, 0, 8, 0, 13, 0, 4, 0, 2, 0x04, 0x03};
    tls_server_exts x;
    tls_certificate_msg c;
    tls_certificate_verify_msg v;
    tls_new_session_ticket_msg t;
    tls_certificate_request_msg r;

    ck_assert_int_eq(tls__encrypted_extensions_parse(ee, sizeof ee, &x), TLS_OK);
    ck_assert_int_eq(tls__certificate_parse(cert, sizeof cert, true, &c), TLS_OK);
    ck_assert_uint_eq(c.n_certs, 1);
    ck_assert_int_eq(tls__certificate_verify_parse(cv, sizeof cv, &v), TLS_OK);
    ck_assert_int_eq(tls__new_session_ticket_parse(nst, sizeof nst, &t), TLS_OK);
    ck_assert(t.has_early_data && t.max_early_data == 0x4000);
    ck_assert_int_eq(tls__certificate_request_parse(cr, sizeof cr, &r), TLS_OK);
    ck_assert(r.has_sig_algs);
    for (size_t n = 0; n < sizeof ee; n++)
        ck_assert_int_eq(tls__encrypted_extensions_parse(ee, n, &x), TLS_ERR_DECODE);
    for (size_t n = 0; n < sizeof cert; n++)
        ck_assert_int_eq(tls__certificate_parse(cert, n, true, &c), TLS_ERR_DECODE);
    for (size_t n = 0; n < sizeof cv; n++)
        ck_assert_int_eq(tls__certificate_verify_parse(cv, n, &v), TLS_ERR_DECODE);
    for (size_t n = 0; n < sizeof nst; n++)
        ck_assert_int_eq(tls__new_session_ticket_parse(nst, n, &t), TLS_ERR_DECODE);
    for (size_t n = 0; n < sizeof cr; n++)
        ck_assert_int_eq(tls__certificate_request_parse(cr, n, &r), TLS_ERR_DECODE);
}
END_TEST

START_TEST(test_client_decoders_reject_bad_bodies)
{
    uint8_t buf[256];
    tls_server_exts x;
    tls_certificate_msg c;

    /* Trailing bytes after the extensions block. */
    static const uint8_t ee_trailing[] = {0, 0, 0};
    ck_assert_int_eq(tls__encrypted_extensions_parse(ee_trailing, sizeof ee_trailing, &x),
                     TLS_ERR_TRAILING_DATA);
    /* Duplicate extension of an unknown type. */
    static const uint8_t ee_dup[] = {0, 8, 0x12, 0x34, 0, 0, 0x12, 0x34, 0, 0};
    ck_assert_int_eq(tls__encrypted_extensions_parse(ee_dup, sizeof ee_dup, &x),
                     TLS_ERR_DUPLICATE_EXTENSION);
    /* An ALPN list with an empty name; an empty-ack extension with a body. */
    static const uint8_t ee_alpn0[] = {0, 7, 0x00, 0x10, 0, 3, 0, 1, 0};
    ck_assert_int_eq(tls__encrypted_extensions_parse(ee_alpn0, sizeof ee_alpn0, &x),
                     TLS_ERR_DECODE);
    static const uint8_t ee_sni[] = {0, 5, 0x00, 0x00, 0, 1, 0};
    ck_assert_int_eq(tls__encrypted_extensions_parse(ee_sni, sizeof ee_sni, &x), TLS_ERR_DECODE);
    /* An empty certificate entry. */
    static const uint8_t cert_empty_entry[] = {0, 0, 0, 5, 0, 0, 0, 0, 0};
    ck_assert_int_eq(tls__certificate_parse(cert_empty_entry, sizeof cert_empty_entry, true, &c),
                     TLS_ERR_DECODE);
    /* More certificates than we take. */
    size_t n = 0;
    buf[n++] = 0;
    buf[n++] = 0, buf[n++] = 0, buf[n++] = (uint8_t)(6 * (TLS_MAX_PEER_CHAIN + 1));
    for (int i = 0; i <= TLS_MAX_PEER_CHAIN && n + 6 <= sizeof buf; i++) {
        buf[n++] = 0, buf[n++] = 0, buf[n++] = 1, buf[n++] = 0x30, buf[n++] = 0, buf[n++] = 0;
    }
    ck_assert_uint_eq(n, 4 + 6 * (TLS_MAX_PEER_CHAIN + 1));
    ck_assert_int_eq(tls__certificate_parse(buf, n, true, &c), TLS_ERR_CERT_BAD_ENCODING);
    /* TLS 1.2 form: no context, no per-entry extensions. */
    static const uint8_t cert12[] = {0, 0, 5, 0, 0, 2, 0x30, 0x00};
    ck_assert_int_eq(tls__certificate_parse(cert12, sizeof cert12, false, &c), TLS_OK);
    ck_assert(c.n_certs == 1 && c.cert_lens[0] == 2);
}
END_TEST

/* ==== the suite ============================================================================================ */

static Suite *make_suite(void)
{
    Suite *s = suite_create("client");
    TCase *tc;

    tc = tcase_create("config");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_client_config_needs_verifier);
    tcase_add_test(tc, test_client_config_validates_lists);
    tcase_add_test(tc, test_client_conn_new_invalid_name);
    tcase_add_test(tc, test_client_conn_new_valid_names);
    suite_add_tcase(s, tc);

    tc = tcase_create("client_hello");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_client_hello_defaults);
    tcase_add_test(tc, test_client_hello_tls13_only);
    tcase_add_test(tc, test_client_hello_tls12_only);
    tcase_add_test(tc, test_client_hello_ip_literal_no_sni);
    tcase_add_test(tc, test_client_hello_disable_sni);
    suite_add_tcase(s, tc);

    tc = tcase_create("handshake");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_client_handshake_matrix, 0, KT_COUNT * 9);
    tcase_add_test(tc, test_client_handshake_defaults);
    tcase_add_loop_test(tc, test_client_hrr, 0, 2);
    tcase_add_test(tc, test_client_alpn);
    tcase_add_test(tc, test_client_alpn_no_overlap);
    tcase_add_test(tc, test_client_sni_seen_by_server);
    tcase_add_test(tc, test_client_ip_literal_verified_without_sni);
    tcase_add_test(tc, test_client_data_100k_both_ways);
    tcase_add_test(tc, test_client_data_written_before_handshake);
    tcase_add_test(tc, test_client_key_update_by_client);
    tcase_add_test(tc, test_client_key_update_by_server);
    tcase_add_test(tc, test_client_key_update_before_handshake_refused);
    tcase_add_test(tc, test_client_close_notify);
    tcase_add_test(tc, test_client_small_fragments);
    suite_add_tcase(s, tc);

    tc = tcase_create("verification");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_client_roots_wrong_name);
    tcase_add_test(tc, test_client_roots_unknown_issuer);
    tcase_add_test(tc, test_client_verifier_rejects);
    tcase_add_test(tc, test_client_verifier_accepts);
    tcase_add_test(tc, test_client_dangerous_accepts_wrong_name);
    tcase_add_test(tc, test_client_dangerous_still_checks_certificate_verify);
    tcase_add_test(tc, test_client_dangerous_still_checks_finished);
    tcase_add_test(tc, test_client_scripted_verifier_rejects);
    suite_add_tcase(s, tc);

    tc = tcase_create("scripted");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_client_scripted_handshake);
    tcase_add_test(tc, test_client_half_rtt_data);
    tcase_add_test(tc, test_client_certificate_request_answered_empty);
    tcase_add_test(tc, test_client_sni_ack_accepted);
    tcase_add_test(tc, test_client_new_session_ticket_ignored);
    tcase_add_test(tc, test_client_hrr_cookie_echoed);
    tcase_add_test(tc, test_client_hrr_second_hello);
    tcase_add_test(tc, test_client_ee_alpn_accepted);
    suite_add_tcase(s, tc);

    tc = tcase_create("hostile");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_add_test(tc, test_client_sh_unoffered_suite);
    tcase_add_test(tc, test_client_sh_tls12_suite_with_tls13);
    tcase_add_test(tc, test_client_sh_wrong_session_id);
    tcase_add_test(tc, test_client_sh_key_share_unoffered_group);
    tcase_add_test(tc, test_client_sh_missing_key_share);
    tcase_add_test(tc, test_client_sh_bad_key_share);
    tcase_add_test(tc, test_client_sh_wrong_version);
    tcase_add_test(tc, test_client_sh_bad_legacy_version);
    tcase_add_test(tc, test_client_sh_compression);
    tcase_add_test(tc, test_client_sh_unsolicited_extension);
    tcase_add_test(tc, test_client_sh_duplicate_extension);
    tcase_add_test(tc, test_client_sh_malformed_extension);
    tcase_add_test(tc, test_client_sh_truncated_at_every_length);
    tcase_add_test(tc, test_client_hrr_twice);
    tcase_add_test(tc, test_client_hrr_changes_nothing);
    tcase_add_test(tc, test_client_hrr_unoffered_group);
    tcase_add_test(tc, test_client_hrr_unoffered_suite);
    tcase_add_test(tc, test_client_hrr_then_other_suite);
    tcase_add_test(tc, test_client_hrr_then_other_group);
    tcase_add_test(tc, test_client_hrr_then_tls12);
    tcase_add_test(tc, test_client_downgrade_sentinel);
    tcase_add_test(tc, test_client_tls12_server_hello_without_tls12);
    tcase_add_test(tc, test_client_tls13_server_hello_to_tls12_only_client);
    tcase_add_test(tc, test_client_ee_unsolicited_extension);
    tcase_add_test(tc, test_client_ee_sni_ack_without_sni);
    tcase_add_test(tc, test_client_ee_alpn);
    tcase_add_test(tc, test_client_empty_certificate);
    tcase_add_loop_test(tc, test_client_corrupt_certificate_verify, 0, KT_COUNT);
    tcase_add_test(tc, test_client_certificate_verify_scheme);
    tcase_add_test(tc, test_client_corrupt_finished);
    tcase_add_test(tc, test_client_finished_missing);
    tcase_add_test(tc, test_client_certificate_before_encrypted_extensions);
    tcase_add_test(tc, test_client_certificate_with_context);
    tcase_add_test(tc, test_client_certificate_malformed_entry_extensions);
    tcase_add_test(tc, test_client_certificate_request_checked);
    tcase_add_test(tc, test_client_ccs_rules);
    tcase_add_test(tc, test_client_plaintext_after_server_hello);
    tcase_add_test(tc, test_client_server_hello_shares_record);
    tcase_add_test(tc, test_client_handshake_message_before_server_hello);
    tcase_add_test(tc, test_client_server_alert_during_handshake);
    tcase_add_test(tc, test_client_connected_rejects_unexpected);
    tcase_add_test(tc, test_client_bad_new_session_ticket);
    tcase_add_test(tc, test_client_key_update_from_scripted_server);
    tcase_add_test(tc, test_client_key_update_flood);
    tcase_add_test(tc, test_client_decoders_truncation);
    tcase_add_test(tc, test_client_decoders_reject_bad_bodies);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
