/*
 * seedgen.c — writes the in-process seeds of the fuzz corpora (`make fuzz-seeds`):
 *
 *     build/fuzz-reg/seedgen tests/fuzz/corpus
 *
 * - server/, client/: real engine handshakes between an engine client and an engine
 *   server in memory, through harness.c with the deterministic random streams, so each
 *   side's recorded input replays exactly in fuzz_server / fuzz_client (TLS 1.3 and 1.2,
 *   every certificate type, HelloRetryRequest, ALPN, tickets, session cache, TLS 1.2
 *   session IDs and tickets, 0-RTT and its replay, KeyUpdate, close_notify, fragmented
 *   bulk data);
 * - msgs/: the plaintext handshake messages of those transcripts, and a few more;
 * - record/: records sealed with fuzz_record's fixed keys;
 * - ticket/: tickets sealed by fuzz_ticket's fixed ticketer, plaintexts, key files;
 * - session_store/: client session stores saved after resumable handshakes.
 * Real peers' bytes (OpenSSL, GnuTLS) and the file-based seeds come from
 * record_seeds.py. Each run rewrites the same file names.
 */
#include "tests/fuzz/harness.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "tls/msgs/msgs.h"
#include "tls/record.h"
#include "tls/ticket.h"

static const char *out_root;
static unsigned n_written;

static void write_seed(const char *target, const char *name, const uint8_t *p, size_t n)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", out_root, target);
    if (mkdir(path, 0755) != 0 && errno != EEXIST) {
        perror(path);
        exit(1);
    }
    snprintf(path, sizeof path, "%s/%s/%s", out_root, target, name);
    FILE *f = fopen(path, "wb");
    if (!f || (n && fwrite(p, 1, n, f) != n) || fclose(f) != 0) {
        perror(path);
        exit(1);
    }
    n_written++;
}

/* ---- handshake messages out of a plaintext byte stream ----------------------------------- */

static unsigned msg_counter;

static int msgs_mode_for(uint8_t hs_type, bool tls13)
{
    switch (hs_type) {
    case 1:
        return 0; /* ClientHello */
    case 2:
        return 1; /* ServerHello / HelloRetryRequest */
    case 4:
        return tls13 ? 7 : 8; /* NewSessionTicket */
    case 8:
        return 2;
    case 11:
        return tls13 ? 3 : 4;
    case 12:
        return 9; /* ServerKeyExchange */
    case 13:
        return tls13 ? 6 : 10;
    case 15:
        return 5;
    default:
        return -1;
    }
}

static bool has_bytes(const uint8_t *p, size_t n, const uint8_t *what, size_t k)
{
    for (size_t i = 0; i + k <= n; i++)
        if (!memcmp(p + i, what, k))
            return true;
    return false;
}

/* The handshake messages of the plaintext records at the start of a stream (until the
 * first protected record or ChangeCipherSpec), each a msgs seed. */
static void extract_msgs(const char *tag, const uint8_t *p, size_t n)
{
    fh_buf hs = {0};
    size_t off = 0;
    bool tls13 = false;

    while (off + 5 <= n) {
        uint8_t type = p[off];
        size_t len = (size_t)p[off + 3] << 8 | p[off + 4];
        if (off + 5 + len > n || type != 22)
            break;
        fh_buf_put(&hs, p + off + 5, len);
        off += 5 + len;
    }
    for (size_t i = 0; i + 4 <= hs.len;) {
        size_t len = (size_t)hs.p[i + 1] << 16 | (size_t)hs.p[i + 2] << 8 | hs.p[i + 3];
        if (i + 4 + len > hs.len)
            break;
        /* supported_versions 0x0304 in a ServerHello means the rest is TLS 1.3. */
        if (hs.p[i] == 2 && has_bytes(hs.p + i + 4, len, (const uint8_t *)"\x00\x2b\x00\x02\x03\x04", 6))
            tls13 = true;
        int mode = msgs_mode_for(hs.p[i], tls13);
        if (mode >= 0) {
            char name[128];
            fh_buf seed = {0};
            uint8_t m = (uint8_t)mode;
            fh_buf_put(&seed, &m, 1);
            fh_buf_put(&seed, hs.p + i + 4, len);
            snprintf(name, sizeof name, "seed-%s-%u-type%u", tag, msg_counter++, hs.p[i]);
            write_seed("msgs", name, seed.p, seed.len);
            fh_buf_free(&seed);
        }
        i += 4 + len;
    }
    fh_buf_free(&hs);
}

/* ---- engine pairs ------------------------------------------------------------------------- */

typedef struct {
    const char *name;
    uint8_t sflags, cflags;
    int conns;
    bool keyupdate; /* after each handshake: client KeyUpdate, then server KeyUpdate */
    bool close;     /* end of each connection: client close_notify, then server's */
    size_t bulk;    /* bytes the client sends after each handshake */
    bool replay;    /* server seed: connection 1's bytes again as connection 2 */
} scenario;

typedef struct {
    fh_server_env se;
    fh_client_env ce;
    fh_conn s, c;
    fh_buf s_out, c_out;   /* what each side sent, not yet delivered */
    fh_buf sseed, cseed;   /* the two seeds */
    unsigned s_new, c_new; /* FH_CHUNK_NEWCONN for the next chunk of each seed */
    fh_buf c_stream, s_stream; /* connection 0's byte streams, for msgs seeds */
    int conn;
} pair;

/* Hands n bytes to one side exactly as the target will: in FH_CHUNK_LEN_MASK pieces. */
static void deliver(fh_conn *to, fh_buf *seed, unsigned *newconn, unsigned actions,
                    const uint8_t *p, size_t n)
{
    do {
        size_t k = n < FH_CHUNK_LEN_MASK ? n : FH_CHUNK_LEN_MASK;
        unsigned flags = *newconn | (n == k ? actions : 0);
        fh_put_chunk(seed, flags, p, k);
        *newconn = 0;
        fh_conn_feed(to, p, k, flags);
        p += k;
        n -= k;
    } while (n > 0);
}

static void pump(pair *pr)
{
    for (int round = 0; round < 200; round++) {
        bool moved = false;
        if (pr->c_out.len) {
            fh_buf data = pr->c_out;
            memset(&pr->c_out, 0, sizeof pr->c_out);
            if (pr->conn == 0)
                fh_buf_put(&pr->c_stream, data.p, data.len);
            deliver(&pr->s, &pr->sseed, &pr->s_new, 0, data.p, data.len);
            fh_buf_free(&data);
            moved = true;
        }
        if (pr->s_out.len) {
            fh_buf data = pr->s_out;
            memset(&pr->s_out, 0, sizeof pr->s_out);
            if (pr->conn == 0)
                fh_buf_put(&pr->s_stream, data.p, data.len);
            deliver(&pr->c, &pr->cseed, &pr->c_new, 0, data.p, data.len);
            fh_buf_free(&data);
            moved = true;
        }
        if (!moved)
            return;
    }
}

static void client_action(pair *pr, unsigned action)
{
    deliver(&pr->c, &pr->cseed, &pr->c_new, action, NULL, 0);
    pump(pr);
}

static void server_action(pair *pr, unsigned action)
{
    deliver(&pr->s, &pr->sseed, &pr->s_new, action, NULL, 0);
    pump(pr);
}

static void run_scenario(const scenario *sc)
{
    pair pr;
    size_t replay_from = 0, replay_to = 0;
    char name[128];

    memset(&pr, 0, sizeof pr);
    uint8_t sf = sc->sflags, cf = sc->cflags;
    fh_buf_put(&pr.sseed, &sf, 1);
    fh_buf_put(&pr.cseed, &cf, 1);
    if (!fh_server_env_init(&pr.se, sf) || !fh_client_env_init(&pr.ce, cf)) {
        fprintf(stderr, "seedgen: %s: config refused\n", sc->name);
        exit(1);
    }
    for (int k = 0; k < sc->conns; k++) {
        pr.conn = k;
        if (k > 0) {
            pr.s_new = pr.c_new = FH_CHUNK_NEWCONN;
            fh_conn_end(&pr.s);
            fh_conn_end(&pr.c);
        }
        if (k == 1)
            replay_from = pr.sseed.len;
        if (!fh_server_conn_start(&pr.se, (unsigned)k, &pr.s, &pr.s_out) ||
            !fh_client_conn_start(&pr.ce, (unsigned)k, &pr.c, &pr.c_out)) {
            fprintf(stderr, "seedgen: %s: connection refused\n", sc->name);
            exit(1);
        }
        pump(&pr);
        if (tls_conn_is_handshaking(pr.c.c) || tls_conn_error(pr.c.c) != TLS_OK ||
            tls_conn_error(pr.s.c) != TLS_OK)
            fprintf(stderr, "seedgen: %s: connection %d: client %s, server %s\n", sc->name, k,
                    tls_error_name(tls_conn_error(pr.c.c)), tls_error_name(tls_conn_error(pr.s.c)));
        if (sc->bulk) {
            uint8_t *data = malloc(sc->bulk);
            for (size_t i = 0; i < sc->bulk; i++)
                data[i] = (uint8_t)(i * 7 + k);
            size_t off = 0;
            while (off < sc->bulk) {
                size_t w = 0;
                fuzz_rng_select(FUZZ_RNG_CLIENT);
                if (tls_conn_write(pr.c.c, data + off, sc->bulk - off, &w) != TLS_OK || !w)
                    break;
                off += w;
                uint8_t buf[16384];
                size_t m;
                while ((m = tls_conn_write_tls(pr.c.c, buf, sizeof buf)) > 0)
                    fh_buf_put(&pr.c_out, buf, m);
                pump(&pr);
            }
            free(data);
        }
        if (sc->keyupdate) {
            client_action(&pr, FH_CHUNK_KEYUPDATE);
            server_action(&pr, FH_CHUNK_KEYUPDATE);
        }
        if (sc->close) {
            client_action(&pr, FH_CHUNK_CLOSE);
            server_action(&pr, FH_CHUNK_CLOSE);
        }
        if (k == 1)
            replay_to = pr.sseed.len;
        if (k == 0) {
            snprintf(name, sizeof name, "%s-c", sc->name);
            extract_msgs(name, pr.c_stream.p, pr.c_stream.len);
            snprintf(name, sizeof name, "%s-s", sc->name);
            extract_msgs(name, pr.s_stream.p, pr.s_stream.len);
        }
    }
    if (sc->replay && replay_to > replay_from) {
        /* Connection 1 again: its first chunk already carries FH_CHUNK_NEWCONN. */
        fh_buf copy = {0};
        fh_buf_put(&copy, pr.sseed.p + replay_from, replay_to - replay_from);
        fh_buf_put(&pr.sseed, copy.p, copy.len);
        fh_buf_free(&copy);
    }
    snprintf(name, sizeof name, "seed-%s", sc->name);
    write_seed("server", name, pr.sseed.p, pr.sseed.len);
    write_seed("client", name, pr.cseed.p, pr.cseed.len);
    if (pr.ce.store) {
        char path[1100], err[256];
        snprintf(path, sizeof path, "%s/session_store", out_root);
        mkdir(path, 0755);
        snprintf(path, sizeof path, "%s/session_store/seed-%s", out_root, sc->name);
        fuzz_clock_set(FUZZ_NOW);
        if (tls_client_session_store_save(pr.ce.store, path, err, sizeof err) != TLS_OK) {
            fprintf(stderr, "seedgen: %s\n", err);
            exit(1);
        }
        n_written++;
    }
    fh_conn_end(&pr.s);
    fh_conn_end(&pr.c);
    fh_server_env_clear(&pr.se);
    fh_client_env_clear(&pr.ce);
    fh_buf_free(&pr.sseed);
    fh_buf_free(&pr.cseed);
    fh_buf_free(&pr.s_out);
    fh_buf_free(&pr.c_out);
    fh_buf_free(&pr.c_stream);
    fh_buf_free(&pr.s_stream);
}

#define V13 (1 << 5)
#define V12 (2 << 5)
#define VHRR (3 << 5)
#define CV13 (1 << 4)
#define CV12 (2 << 4)
#define CGRP (3 << 4)

static const scenario scenarios[] = {
    /* name, server flags, client flags, conns, keyupdate, close, bulk, replay */
    {"tls13-p256", 0, FH_C_VERIFY, 1, false, true, 0, false},
    {"tls13-rsa", 1, FH_C_VERIFY, 1, false, true, 0, false},
    {"tls13-p384", 2, FH_C_VERIFY, 1, false, true, 0, false},
    {"tls13-rsa-p256-ip", 3, FH_C_VERIFY | FH_C_IP, 1, false, true, 0, false},
    {"tls13-only", V13, FH_C_VERIFY | CV13, 1, true, true, 0, false},
    {"tls13-keyupdate-bulk", 0, FH_C_VERIFY, 1, true, true, 20000, false},
    {"tls13-extras-alpn", FH_S_EXTRAS, FH_C_VERIFY | FH_C_ALPN, 1, false, true, 3000, false},
    {"tls13-hrr", VHRR, FH_C_VERIFY, 1, false, true, 0, false},
    {"tls13-client-p384-first", 0, CGRP | FH_C_VERIFY, 1, false, true, 0, false},
    {"tls13-unverified", 1, 0, 1, false, false, 0, false},
    {"tls13-tickets", FH_S_TICKETS, FH_C_VERIFY | FH_C_STORE, 3, false, true, 0, false},
    {"tls13-cache", FH_S_CACHE, FH_C_VERIFY | FH_C_STORE, 3, false, true, 0, false},
    {"tls13-0rtt-tickets", FH_S_TICKETS | FH_S_EARLY, FH_C_VERIFY | FH_C_STORE | FH_C_EARLY, 2,
     false, true, 0, true},
    {"tls13-0rtt-cache", FH_S_CACHE | FH_S_EARLY, FH_C_VERIFY | FH_C_STORE | FH_C_EARLY, 2, false,
     true, 0, true},
    {"tls13-0rtt-refused", FH_S_TICKETS, FH_C_VERIFY | FH_C_STORE | FH_C_EARLY, 2, false, true, 0,
     false},
    {"tls13-0rtt-hrr", VHRR | FH_S_TICKETS | FH_S_EARLY, FH_C_VERIFY | FH_C_STORE | FH_C_EARLY, 2,
     false, true, 0, false},
    {"tls13-0rtt-alpn", FH_S_EXTRAS | FH_S_TICKETS | FH_S_EARLY,
     FH_C_VERIFY | FH_C_STORE | FH_C_EARLY | FH_C_ALPN, 2, false, true, 0, false},
    {"tls12-p256", V12, FH_C_VERIFY, 1, false, true, 0, false},
    {"tls12-rsa", V12 | 1, FH_C_VERIFY, 1, false, true, 0, false},
    {"tls12-p384", V12 | 2, FH_C_VERIFY, 1, false, true, 0, false},
    {"tls12-client-only", 0, FH_C_VERIFY | CV12, 1, false, true, 2000, false},
    {"tls12-extras", V12 | FH_S_EXTRAS, FH_C_VERIFY | FH_C_ALPN, 1, false, true, 3000, false},
    {"tls12-hrr-groups", VHRR | 1, FH_C_VERIFY | CV12, 1, false, true, 0, false},
    {"tls12-tickets", V12 | FH_S_TICKETS, FH_C_VERIFY | FH_C_STORE, 3, false, true, 0, false},
    {"tls12-session-ids", V12 | FH_S_CACHE, FH_C_VERIFY | FH_C_STORE | FH_C_NO_TICKETS, 3, false,
     true, 0, false},
    {"tls12-cache-and-tickets", V12 | FH_S_CACHE | FH_S_TICKETS | 1, FH_C_VERIFY | FH_C_STORE, 2,
     false, true, 0, false},
    {"mixed-tickets", FH_S_TICKETS | FH_S_CACHE, FH_C_STORE | FH_C_EARLY, 4, true, true, 100,
     false},
};

/* ---- records ---------------------------------------------------------------------------- */

static void record_seeds(void)
{
    static const struct {
        uint16_t suite;
        bool tls12;
    } ciphers[] = {
        {0, false},
        {TLS_AES_128_GCM_SHA256, false},
        {TLS_AES_256_GCM_SHA384, false},
        {TLS_CHACHA20_POLY1305_SHA256, false},
        {TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256, true},
        {TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384, true},
        {TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256, true},
    };
    static const uint8_t secret[TLS_MAX_HASH_LEN] = FUZZ_RECORD_SECRET;
    static const uint8_t key12[32] = FUZZ_RECORD_KEY12;
    static const uint8_t iv12[12] = FUZZ_RECORD_IV12;
    static const struct {
        uint8_t type;
        size_t len, pad;
    } recs[] = {{22, 40, 0}, {23, 100, 17}, {21, 2, 0}, {23, 0, 0}, {23, 16384, 0}, {22, 5, 300}};
    uint8_t *data = malloc(TLS_MAX_PLAINTEXT), *out = malloc(TLS_MAX_RECORD + 64);

    for (size_t i = 0; i < TLS_MAX_PLAINTEXT; i++)
        data[i] = (uint8_t)(i * 13 + 1);
    for (size_t c = 0; c < sizeof ciphers / sizeof ciphers[0]; c++) {
        tls_record_cipher tx;
        memset(&tx, 0, sizeof tx);
        if (ciphers[c].suite) {
            const tls_suite *suite = tls__suite_find(ciphers[c].suite);
            tls_error err = ciphers[c].tls12 ? tls__record_cipher_install12(&tx, suite, key12, iv12)
                                             : tls__record_cipher_install(&tx, suite, secret);
            if (err != TLS_OK)
                abort();
        }
        fh_buf all = {0};
        uint8_t sel = (uint8_t)c;
        fh_buf_put(&all, &sel, 1);
        for (size_t r = 0; r < sizeof recs / sizeof recs[0]; r++) {
            size_t w = 0;
            if (tls__record_seal(&tx, recs[r].type, data, recs[r].len, recs[r].pad, out,
                                 TLS_MAX_RECORD + 64, &w) != TLS_OK)
                abort();
            fh_buf_put(&all, out, w);
            if (r == 1) { /* a short seed of two records too */
                char name[64];
                snprintf(name, sizeof name, "seed-cipher%zu-short", c);
                write_seed("record", name, all.p, all.len);
            }
        }
        char name[64];
        snprintf(name, sizeof name, "seed-cipher%zu-all", c);
        write_seed("record", name, all.p, all.len);
        fh_buf_free(&all);
        tls__record_cipher_clear(&tx);
    }
    free(data);
    free(out);
}

/* ---- tickets ------------------------------------------------------------------------------ */

static void put_u32(fh_buf *b, uint32_t v)
{
    uint8_t x[4] = {(uint8_t)(v >> 24), (uint8_t)(v >> 16), (uint8_t)(v >> 8), (uint8_t)v};
    fh_buf_put(b, x, 4);
}

static void ticket_seeds(void)
{
    static const char keys[] = FUZZ_TICKET_KEYS;
    tls_ticketer *t;
    char err[256];
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    size_t len;

    fuzz_clock_set(FUZZ_NOW);
    fuzz_rng_reset(FUZZ_RNG_OTHER, 7);
    const char *path = fuzz_tmpfile(0, (const uint8_t *)keys, sizeof keys - 1, 0600);
    if (tls_ticketer_load(path, &t, err, sizeof err) != TLS_OK) {
        fprintf(stderr, "seedgen: %s\n", err);
        exit(1);
    }
    for (int i = 0; i < 6; i++) {
        tls_ticket_state st;
        memset(&st, 0, sizeof st);
        st.version = i < 4 ? TLS_VERSION_1_3 : TLS_VERSION_1_2;
        st.suite = i < 4 ? (i == 1 ? TLS_AES_256_GCM_SHA384 : TLS_AES_128_GCM_SHA256)
                         : TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
        st.psk_len = st.version == TLS_VERSION_1_2 ? 48 : (i == 1 ? 48 : 32);
        for (size_t k = 0; k < st.psk_len; k++)
            st.psk[k] = (uint8_t)(k + i);
        st.ems = st.version == TLS_VERSION_1_2;
        st.age_add = 0x12345678u * (uint32_t)(i + 1);
        st.lifetime = i == 3 ? 604800 : 7200;
        st.max_early_data = i == 2 ? 16384 : 0;
        if (i != 5)
            snprintf(st.sni, sizeof st.sni, i == 3 ? "a.wild.test" : "localhost");
        if (i == 2 || i == 3) {
            st.alpn[0] = 2;
            memcpy(st.alpn + 1, "h2", 2);
        }
        if (tls__ticketer_seal(t, &st, ticket, sizeof ticket, &len) != TLS_OK)
            abort();
        fh_buf seed = {0};
        uint8_t mode = 0;
        fh_buf_put(&seed, &mode, 1);
        fh_buf_put(&seed, ticket, len);
        char name[64];
        snprintf(name, sizeof name, "seed-sealed-%d", i);
        write_seed("ticket", name, seed.p, seed.len);
        fh_buf_free(&seed);

        /* The same state as plaintext (fuzz_ticket mode 1): ticket.c's encode_state. */
        mode = 1;
        fh_buf_put(&seed, &mode, 1);
        uint8_t fmt = 3, ems = st.ems, n;
        fh_buf_put(&seed, &fmt, 1);
        uint8_t v[4] = {(uint8_t)(st.version >> 8), (uint8_t)st.version, (uint8_t)(st.suite >> 8),
                        (uint8_t)st.suite};
        fh_buf_put(&seed, v, 4);
        n = (uint8_t)st.psk_len;
        fh_buf_put(&seed, &n, 1);
        fh_buf_put(&seed, st.psk, st.psk_len);
        fh_buf_put(&seed, &ems, 1);
        put_u32(&seed, 0);
        put_u32(&seed, (uint32_t)st.issued);
        put_u32(&seed, 0);
        put_u32(&seed, (uint32_t)st.origin);
        put_u32(&seed, st.age_add);
        put_u32(&seed, st.lifetime);
        put_u32(&seed, st.max_early_data);
        n = (uint8_t)strlen(st.sni);
        fh_buf_put(&seed, &n, 1);
        fh_buf_put(&seed, st.sni, n);
        fh_buf_put(&seed, st.alpn, 1 + (size_t)st.alpn[0]);
        snprintf(name, sizeof name, "seed-plain-%d", i);
        write_seed("ticket", name, seed.p, seed.len);
        fh_buf_free(&seed);
    }
    tls_ticketer_unref(t);

    static const char *const files[] = {
        FUZZ_TICKET_KEYS,
        "6d6f61742066757a7a207469636b6574206b6579206f6e652c2066697865642e\n",
        "  # comment\r\n\t6D6F61742066757A7A207469636B6574206B6579206F6E652C2066697865642E \r\n\n",
        "6d6f61742066757a7a207469636b6574206b6579206f6e652c2066697865642e\n"
        "6d6f61742066757a7a207469636b6574206b6579206f6e652c2066697865642e\n",
        "6d6f61742066757a7a207469636b6574206b6579206f6e652c206669786564\n",
        "# no keys\n\n",
        "6d6f61742066757a7a207469636b6574206b6579206f6e652c2066697865642e # trailing\n",
    };
    for (size_t i = 0; i < sizeof files / sizeof files[0]; i++) {
        fh_buf seed = {0};
        uint8_t mode = 2;
        fh_buf_put(&seed, &mode, 1);
        fh_buf_put(&seed, files[i], strlen(files[i]));
        char name[64];
        snprintf(name, sizeof name, "seed-keyfile-%zu", i);
        write_seed("ticket", name, seed.p, seed.len);
        fh_buf_free(&seed);
    }
    /* Sixteen keys, and seventeen. */
    for (int total = 16; total <= 17; total++) {
        fh_buf seed = {0};
        uint8_t mode = 2;
        fh_buf_put(&seed, &mode, 1);
        for (int k = 0; k < total; k++) {
            char line[80];
            snprintf(line, sizeof line, "%064x\n", k + 1);
            fh_buf_put(&seed, line, strlen(line));
        }
        char name[64];
        snprintf(name, sizeof name, "seed-keyfile-%dkeys", total);
        write_seed("ticket", name, seed.p, seed.len);
        fh_buf_free(&seed);
    }
}

/* ---- a few messages the transcripts do not show in plaintext ------------------------------ */

static void msg_seed(const char *name, uint8_t mode, const uint8_t *p, size_t n)
{
    fh_buf seed = {0};
    fh_buf_put(&seed, &mode, 1);
    fh_buf_put(&seed, p, n);
    write_seed("msgs", name, seed.p, seed.len);
    fh_buf_free(&seed);
}

static void extra_msg_seeds(void)
{
    /* EncryptedExtensions: server_name ack, ALPN h2, supported_groups, early_data. */
    static const uint8_t ee[] = {0x00, 0x1c, 0x00, 0x00, 0x00, 0x00, 0x00, 0x10, 0x00, 0x05,
                                 0x00, 0x03, 0x02, 'h',  '2',  0x00, 0x0a, 0x00, 0x06, 0x00,
                                 0x04, 0x00, 0x1d, 0x00, 0x17, 0x00, 0x2a, 0x00, 0x00};
    /* CertificateVerify: ecdsa_secp256r1_sha256 and a short signature. */
    static const uint8_t cv[] = {0x04, 0x03, 0x00, 0x08, 0x30, 0x06, 0x02, 0x01, 0x01, 0x02, 0x01, 0x01};
    /* CertificateRequest (1.3): empty context, signature_algorithms. */
    static const uint8_t cr13[] = {0x00, 0x00, 0x0a, 0x00, 0x0d, 0x00, 0x06,
                                   0x00, 0x04, 0x04, 0x03, 0x08, 0x04};
    /* NewSessionTicket (1.3) with early_data. */
    static const uint8_t nst13[] = {0x00, 0x00, 0x1c, 0x20, 0x01, 0x02, 0x03, 0x04, 0x01, 0x00,
                                    0x00, 0x04, 't',  'i',  'c',  'k',  0x00, 0x08, 0x00, 0x2a,
                                    0x00, 0x04, 0x00, 0x00, 0x40, 0x00};
    /* CertificateRequest (1.2): ecdsa_sign, two algorithms, one DN. */
    static const uint8_t cr12[] = {0x01, 0x40, 0x00, 0x04, 0x04, 0x03, 0x08, 0x04,
                                   0x00, 0x05, 0x00, 0x03, 0x30, 0x01, 0x00};
    /* Certificate (1.3): context, one entry with an extension. */
    static const uint8_t cert13[] = {0x00, 0x00, 0x00, 0x0c, 0x00, 0x00, 0x03, 0x30, 0x01,
                                     0x00, 0x00, 0x04, 0x00, 0x05, 0x00, 0x00};
    msg_seed("seed-ee", 2, ee, sizeof ee);
    msg_seed("seed-cv", 5, cv, sizeof cv);
    msg_seed("seed-cr13", 6, cr13, sizeof cr13);
    msg_seed("seed-nst13", 7, nst13, sizeof nst13);
    msg_seed("seed-cr12", 10, cr12, sizeof cr12);
    msg_seed("seed-cert13", 3, cert13, sizeof cert13);

    /* Codec programs (mode 11): program length, program, data. */
    static const uint8_t prog1[] = {0x10, 0,    0, 1,    0, 8,    0x12, 2,    0,   0, 0, 11, 0,
                                    9,    0x40, 12, 0,   0, 0x05, 0x00, 0x02, 'a', 'b', 0x00, 0x01, 'c'};
    static const uint8_t prog2[] = {0x0c, 40,   5, 0,    9,  0x11, 6,  1,    3,    0,    13, 0,  10,
                                    0,    0x00, 0x03, 0x01, 0x02, 0x03, 0x04, 0x05, 0x06, 0x07, 0x08};
    msg_seed("seed-codec-1", 11, prog1, sizeof prog1);
    msg_seed("seed-codec-2", 11, prog2, sizeof prog2);

    /* ClientHello round trips (mode 12): pseudo-random specs. */
    uint64_t x = 0x9e3779b97f4a7c15ull;
    for (int i = 0; i < 8; i++) {
        uint8_t spec[600];
        for (size_t k = 0; k < sizeof spec; k++) {
            x ^= x << 13;
            x ^= x >> 7;
            x ^= x << 17;
            spec[k] = (uint8_t)x;
        }
        spec[0] = (uint8_t)(0xff >> (i % 8));
        spec[1] = (uint8_t)(i & 3);
        char name[64];
        snprintf(name, sizeof name, "seed-ch-roundtrip-%d", i);
        msg_seed(name, 12, spec, 300 + 37 * (size_t)i);
    }
}

int main(int argc, char **argv)
{
    if (argc != 2) {
        fprintf(stderr, "usage: seedgen CORPUS_DIR\n");
        return 2;
    }
    out_root = argv[1];
    if (mkdir(out_root, 0755) != 0 && errno != EEXIST) {
        perror(out_root);
        return 1;
    }
    fh_fixture_load();
    for (size_t i = 0; i < sizeof scenarios / sizeof scenarios[0]; i++)
        run_scenario(&scenarios[i]);
    record_seeds();
    ticket_seeds();
    extra_msg_seeds();
    printf("seedgen: %u seeds written under %s\n", n_written, out_root);
    return 0;
}
