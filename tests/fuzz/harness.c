/*
 * harness.c — see harness.h. Only the public engine API is used: the connection
 * targets fuzz what a peer on the network can reach.
 */
#include "tests/fuzz/harness.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- buffers and chunks ----------------------------------------------------------------- */

void fh_buf_put(fh_buf *b, const void *p, size_t n)
{
    if (n == 0)
        return;
    if (b->len + n > b->cap) {
        size_t cap = b->cap ? b->cap : 4096;
        while (cap < b->len + n)
            cap *= 2;
        b->p = realloc(b->p, cap);
        if (!b->p)
            abort();
        b->cap = cap;
    }
    memcpy(b->p + b->len, p, n);
    b->len += n;
}

void fh_buf_free(fh_buf *b)
{
    free(b->p);
    memset(b, 0, sizeof *b);
}

bool fh_next_chunk(fh_input *in, fh_chunk *c)
{
    if (in->left < 2)
        return false;
    unsigned h = (unsigned)in->p[0] << 8 | in->p[1];
    size_t n = h & FH_CHUNK_LEN_MASK;
    in->p += 2;
    in->left -= 2;
    if (n > in->left)
        n = in->left;
    c->p = in->p;
    c->len = n;
    c->flags = h & ~FH_CHUNK_LEN_MASK;
    in->p += n;
    in->left -= n;
    return true;
}

void fh_put_chunk(fh_buf *seed, unsigned flags, const uint8_t *p, size_t n)
{
    do {
        size_t k = n < FH_CHUNK_LEN_MASK ? n : FH_CHUNK_LEN_MASK;
        unsigned h = (flags & ~FH_CHUNK_LEN_MASK) | (unsigned)k;
        uint8_t hdr[2] = {(uint8_t)(h >> 8), (uint8_t)h};
        fh_buf_put(seed, hdr, 2);
        fh_buf_put(seed, p, k);
        p += k;
        n -= k;
        flags = 0;
    } while (n > 0);
}

/* ---- fixture -------------------------------------------------------------------------- */

static const char *const key_dirs[3] = {"tests/certs/ecdsa-p256", "tests/certs/rsa2048",
                                        "tests/certs/ecdsa-p384"};
static tls_certified_key *fixture_ck[3]; /* P-256, RSA, P-384 */
static tls_root_store *fixture_roots;    /* the three test CAs */

void fh_fixture_load(void)
{
    char err[256], chain[512], key[512], rel[128];
    fh_buf cas = {0};

    if (fixture_roots)
        return;
    for (int i = 0; i < 3; i++) {
        snprintf(rel, sizeof rel, "%s/end.fullchain", key_dirs[i]);
        fuzz_src_path(rel, chain, sizeof chain);
        snprintf(rel, sizeof rel, "%s/end.key", key_dirs[i]);
        fuzz_src_path(rel, key, sizeof key);
        if (tls_certified_key_load(chain, key, &fixture_ck[i], err, sizeof err) != TLS_OK) {
            fprintf(stderr, "fuzz fixture: %s\n", err);
            abort();
        }
        size_t n;
        snprintf(rel, sizeof rel, "%s/ca.cert", key_dirs[i]);
        uint8_t *pem = fuzz_read_src(rel, &n);
        fh_buf_put(&cas, pem, n);
        free(pem);
    }
    const char *path = fuzz_tmpfile(3, cas.p, cas.len, 0600);
    fh_buf_free(&cas);
    if (tls_root_store_load(path, &fixture_roots, err, sizeof err) != TLS_OK) {
        fprintf(stderr, "fuzz fixture: %s\n", err);
        abort();
    }
}

/* ---- configs ------------------------------------------------------------------------- */

static const uint8_t cookie_secret[32] = "moat fuzz cookie secret, fixed.";
static const char *const alpn_names[] = {"h2", "http/1.1"};

bool fh_server_env_init(fh_server_env *e, uint8_t flags)
{
    static const uint16_t v13[] = {TLS_VERSION_1_3}, v12[] = {TLS_VERSION_1_2};
    static const uint16_t p384[] = {TLS_GROUP_SECP384R1};
    static const uint16_t small_suites[] = {
        TLS_CHACHA20_POLY1305_SHA256, TLS_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256};
    tls_certified_key *certs[2];
    tls_ticketer *ticketer = NULL;
    tls_server_config_params p;
    char err[256];

    memset(e, 0, sizeof *e);
    memset(&p, 0, sizeof p);
    fh_fixture_load();
    fuzz_clock_set(FUZZ_NOW);
    fuzz_rng_reset(FUZZ_RNG_SERVER, 1);
    switch (flags & FH_S_CERT_MASK) {
    case 0:
        certs[0] = fixture_ck[0];
        p.n_certs = 1;
        break;
    case 1:
        certs[0] = fixture_ck[1];
        p.n_certs = 1;
        break;
    case 2:
        certs[0] = fixture_ck[2];
        p.n_certs = 1;
        break;
    default:
        certs[0] = fixture_ck[1];
        certs[1] = fixture_ck[0];
        p.n_certs = 2;
        break;
    }
    p.certs = certs;
    p.cookie_secret = cookie_secret;
    p.cookie_secret_len = sizeof cookie_secret;
    switch (FH_S_VERSIONS(flags)) {
    case 1:
        p.versions = v13;
        p.n_versions = 1;
        break;
    case 2:
        p.versions = v12;
        p.n_versions = 1;
        break;
    case 3:
        p.groups = p384;
        p.n_groups = 1;
        p.cipher_suites = small_suites;
        p.n_cipher_suites = sizeof small_suites / sizeof small_suites[0];
        break;
    default:
        break;
    }
    if ((flags & FH_S_EARLY) && !(flags & (FH_S_TICKETS | FH_S_CACHE)))
        flags |= FH_S_TICKETS;
    if (flags & FH_S_TICKETS) {
        if (tls_ticketer_new(43200, &ticketer) != TLS_OK)
            return false;
        p.ticketer = ticketer;
    }
    if (flags & FH_S_CACHE)
        p.session_cache_size = 8;
    if (flags & FH_S_EARLY)
        p.max_early_data_size = 16384;
    if (flags & FH_S_EXTRAS) {
        p.alpn = alpn_names;
        p.n_alpn = 2;
        p.sni_strict = true;
        p.require_ems = true;
        p.max_fragment_size = 512;
    }
    tls_error rc = tls_server_config_new(&p, &e->cfg, err, sizeof err);
    tls_ticketer_unref(ticketer);
    return rc == TLS_OK;
}

void fh_server_env_clear(fh_server_env *e)
{
    tls_server_config_unref(e->cfg);
    e->cfg = NULL;
}

bool fh_client_env_init(fh_client_env *e, uint8_t flags)
{
    static const uint16_t v13[] = {TLS_VERSION_1_3}, v12[] = {TLS_VERSION_1_2};
    static const uint16_t groups[] = {TLS_GROUP_SECP384R1, TLS_GROUP_X25519};
    tls_client_config_params p;
    char err[256];
    tls_error rc;

    memset(e, 0, sizeof *e);
    memset(&p, 0, sizeof p);
    fh_fixture_load();
    fuzz_clock_set(FUZZ_NOW);
    fuzz_rng_reset(FUZZ_RNG_CLIENT, 2);
    switch (FH_C_VERSIONS(flags)) {
    case 1:
        p.versions = v13;
        p.n_versions = 1;
        break;
    case 2:
        p.versions = v12;
        p.n_versions = 1;
        break;
    case 3:
        p.groups = groups;
        p.n_groups = 2;
        break;
    default:
        break;
    }
    if (flags & FH_C_ALPN) {
        p.alpn = alpn_names;
        p.n_alpn = 2;
    }
    if (flags & FH_C_STORE) {
        if (tls_client_session_store_new(8, &e->store) != TLS_OK)
            return false;
        p.sessions = e->store;
        p.enable_early_data = (flags & FH_C_EARLY) != 0;
        e->early = p.enable_early_data;
    }
    p.no_tickets = (flags & FH_C_NO_TICKETS) != 0;
    if (flags & FH_C_VERIFY) {
        p.roots = fixture_roots;
        rc = tls_client_config_new(&p, &e->cfg, err, sizeof err);
    } else {
        rc = tls_client_config_new_dangerous_unverified(&p, &e->cfg, err, sizeof err);
    }
    e->name = (flags & FH_C_IP) ? "127.0.0.1" : "localhost";
    if (rc != TLS_OK) {
        fh_client_env_clear(e);
        return false;
    }
    return true;
}

void fh_client_env_clear(fh_client_env *e)
{
    tls_client_config_unref(e->cfg);
    tls_client_session_store_unref(e->store);
    memset(e, 0, sizeof *e);
}

/* ---- connections --------------------------------------------------------------------- */

static void select_stream(const fh_conn *fc)
{
    fuzz_rng_select(fc->is_client ? FUZZ_RNG_CLIENT : FUZZ_RNG_SERVER);
}

static void drain_out(fh_conn *fc)
{
    uint8_t buf[16384];
    size_t n;
    while ((n = tls_conn_write_tls(fc->c, buf, sizeof buf)) > 0)
        if (fc->out)
            fh_buf_put(fc->out, buf, n);
}

/* Writes all of p (draining TLS output as it goes), or as much as the engine takes. */
static void write_all(fh_conn *fc, const uint8_t *p, size_t n)
{
    while (n > 0) {
        size_t w = 0;
        tls_error err = tls_conn_write(fc->c, p, n, &w);
        drain_out(fc);
        if (err != TLS_OK || w == 0)
            return;
        p += w;
        n -= w;
    }
}

/* Reads the negotiated parameters once the handshake is done: they must be readable. */
static void on_done(fh_conn *fc)
{
    uint8_t ekm[32];
    size_t alpn_len = 0;
    const uint8_t *alpn = tls_conn_alpn(fc->c, &alpn_len);
    const char *sni = tls_conn_server_name(fc->c);
    static const uint8_t ctx[4] = {1, 2, 3, 4};

    if (alpn)
        fuzz_consume(alpn, alpn_len);
    if (sni)
        fuzz_consume(sni, strlen(sni));
    FUZZ_CHECK(tls_conn_version(fc->c) == TLS_VERSION_1_2 ||
               tls_conn_version(fc->c) == TLS_VERSION_1_3);
    FUZZ_CHECK(tls_cipher_suite_name(tls_conn_cipher_suite(fc->c)) != NULL);
    (void)tls_conn_group(fc->c);
    (void)tls_conn_sig_scheme(fc->c);
    (void)tls_conn_did_hrr(fc->c);
    (void)tls_conn_resumed(fc->c);
    (void)tls_conn_ems(fc->c);
    (void)tls_conn_early_data_accepted(fc->c);
    tls_error err =
        tls_conn_export_keying_material(fc->c, "EXPERIMENTAL moat fuzz", ctx, sizeof ctx, true,
                                        ekm, sizeof ekm);
    FUZZ_CHECK(err == TLS_OK);
}

static void service(fh_conn *fc)
{
    uint8_t buf[8192];
    size_t n;

    for (int i = 0; i < 64; i++) {
        n = 0;
        if (tls_conn_read(fc->c, buf, sizeof buf, &n) != TLS_OK || n == 0)
            break;
        if (!fc->is_client)
            write_all(fc, buf, n);
    }
    if (!fc->is_client) {
        for (int i = 0; i < 64; i++) {
            n = 0;
            if (tls_conn_read_early_data(fc->c, buf, sizeof buf, &n) != TLS_OK || n == 0)
                break;
            write_all(fc, buf, n);
        }
    }
    if (!fc->saw_done && tls_conn_error(fc->c) == TLS_OK && !tls_conn_is_handshaking(fc->c)) {
        fc->saw_done = true;
        on_done(fc);
        if (fc->is_client)
            write_all(fc, (const uint8_t *)"ping\n", 5);
    }
    drain_out(fc);
}

static void conn_clock(unsigned k)
{
    fuzz_clock_set(FUZZ_NOW + 60 * (int64_t)k);
}

bool fh_server_conn_start(fh_server_env *e, unsigned k, fh_conn *fc, fh_buf *out)
{
    memset(fc, 0, sizeof *fc);
    fc->out = out;
    conn_clock(k);
    fuzz_rng_reset(FUZZ_RNG_SERVER, 100 + k);
    if (tls_server_conn_new(e->cfg, &fc->c) != TLS_OK)
        return false;
    return true;
}

bool fh_client_conn_start(fh_client_env *e, unsigned k, fh_conn *fc, fh_buf *out)
{
    static const uint8_t early[] = "GET /early HTTP/1.1\r\nHost: localhost\r\n\r\n";

    memset(fc, 0, sizeof *fc);
    fc->is_client = true;
    fc->out = out;
    conn_clock(k);
    fuzz_rng_reset(FUZZ_RNG_CLIENT, 200 + k);
    if (tls_client_conn_new(e->cfg, e->name, &fc->c) != TLS_OK)
        return false;
    size_t cap = tls_conn_early_data_capacity(fc->c);
    FUZZ_CHECK(e->early || cap == 0);
    if (cap > 0) {
        size_t w = 0;
        tls_error err = tls_conn_write_early_data(fc->c, early, sizeof early - 1, &w);
        FUZZ_CHECK(err == TLS_OK && w <= cap);
    }
    service(fc);
    return true;
}

void fh_conn_feed(fh_conn *fc, const uint8_t *p, size_t n, unsigned actions)
{
    size_t off = 0;
    int stalls = 0;

    select_stream(fc);
    while (off < n && tls_conn_error(fc->c) == TLS_OK) {
        size_t used = 0;
        if (tls_conn_read_tls(fc->c, p + off, n - off, &used) != TLS_OK)
            break;
        FUZZ_CHECK(used <= n - off);
        off += used;
        tls_error err = tls_conn_process(fc->c);
        FUZZ_CHECK(err == tls_conn_error(fc->c));
        service(fc);
        if (used == 0 && ++stalls > 4)
            break;
    }
    if (actions & FH_CHUNK_KEYUPDATE) {
        tls_error err = tls_conn_send_key_update(fc->c, true);
        (void)err;
    }
    if (actions & FH_CHUNK_CLOSE)
        tls_conn_send_close_notify(fc->c);
    service(fc);
}

void fh_conn_end(fh_conn *fc)
{
    static int verbose = -1;
    if (verbose < 0)
        verbose = getenv("FUZZ_VERBOSE") != NULL;
    if (verbose)
        fprintf(stderr, "  %s: %s, %s%s%s%s\n", fc->is_client ? "client" : "server",
                fc->saw_done ? tls_version_name(tls_conn_version(fc->c)) : "handshake unfinished",
                tls_error_name(tls_conn_error(fc->c)), tls_conn_resumed(fc->c) ? ", resumed" : "",
                tls_conn_early_data_accepted(fc->c) ? ", 0-RTT accepted" : "",
                tls_conn_did_hrr(fc->c) ? ", HRR" : "");
    tls_conn_free(fc->c);
    fc->c = NULL;
}

/* ---- whole inputs ---------------------------------------------------------------------- */

static void run_chunks(fh_conn *fc, const uint8_t *data, size_t size, void *env,
                       bool (*start)(void *env, unsigned k, fh_conn *fc))
{
    fh_input in = {data, size};
    fh_chunk ch;
    unsigned k = 0;
    bool live = start(env, 0, fc);

    while (fh_next_chunk(&in, &ch)) {
        if ((ch.flags & FH_CHUNK_NEWCONN) && k + 1 < FH_MAX_CONNS) {
            if (live)
                fh_conn_end(fc);
            live = start(env, ++k, fc);
        }
        if (live)
            fh_conn_feed(fc, ch.p, ch.len, ch.flags);
    }
    if (live)
        fh_conn_end(fc);
}

static bool start_server(void *env, unsigned k, fh_conn *fc)
{
    return fh_server_conn_start(env, k, fc, NULL);
}

static bool start_client(void *env, unsigned k, fh_conn *fc)
{
    return fh_client_conn_start(env, k, fc, NULL);
}

void fh_run_server(const uint8_t *data, size_t size)
{
    fh_server_env e;
    fh_conn fc;

    if (size < 1 || !fh_server_env_init(&e, data[0]))
        return;
    run_chunks(&fc, data + 1, size - 1, &e, start_server);
    fh_server_env_clear(&e);
}

void fh_run_client(const uint8_t *data, size_t size)
{
    fh_client_env e;
    fh_conn fc;

    if (size < 1 || !fh_client_env_init(&e, data[0]))
        return;
    run_chunks(&fc, data + 1, size - 1, &e, start_client);
    fh_client_env_clear(&e);
}
