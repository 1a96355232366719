/*
 * engine.c — the engine bench (issue 7): one process, one thread, a client and a server
 * talking through memory (as rustls's bench does), the engine and OpenSSL's libssl
 * side by side.
 *
 *   build/bench/engine                      every table; writes bench/results/engine.md
 *   build/bench/engine --baseline           the mbedTLS-only cells, for the run above
 *   build/bench/engine --profile IMPL WHAT N  one scenario for bench/profile.sh
 *       IMPL: moat | openssl; WHAT: hs (N full TLS 1.3 ECDSA-P256 X25519 handshakes)
 *       or bulk (N MiB of TLS 1.3 AES-128-GCM records, server to client)
 *
 * Environment: BENCH_SECONDS, CPU seconds per cell (default 1; each cell is the best of
 * three runs of a third of it); BENCH_RESULTS, the Markdown file (default
 * bench/results/engine.md; "-" writes none). Run from the repository root (the test
 * certificates are read from tests/certs/).
 *
 * What is measured:
 * - full handshakes/s per side: CPU seconds of the server's calls and of the client's
 *   calls, counted separately (connection creation, every read/process/write call, and
 *   freeing), for TLS 1.3 and 1.2 x RSA-2048 / ECDSA P-256 x X25519 / P-256;
 * - resumed handshakes/s: TLS 1.3 stateless and stateful tickets, TLS 1.2 session IDs and
 *   tickets; every connection is checked to have resumed;
 * - bulk MB/s at 16 KiB records for each suite: the server sends (encrypts and copies its
 *   TLS bytes out), the client receives (copies them in, decrypts, reads the plaintext);
 * - bytes per connection once the handshake is over (idle) and at the peak during it:
 *   through each library's allocation hook (the engine's tls_allocator, OpenSSL's
 *   CRYPTO_set_mem_functions) and, to include mbedTLS's own allocations, every heap byte
 *   (engine_heap.c);
 * - the raw speed of each primitive on each crypto back end and on OpenSSL's libcrypto
 *   (primitives.c), from which the report estimates how much of each handshake is crypto
 *   and how much is protocol code;
 * - issue 9: the engine's full, resumed and bulk cells again with the mbedTLS-only
 *   provider, measured by this binary run with MOAT_CRYPTO=mbedtls --baseline (the
 *   provider's routes are fixed per process), beside the default provider and libssl.
 *   In an mbedTLS-only build (make CRYPTO=mbedtls) or under MOAT_CRYPTO=mbedtls the
 *   moat columns are already the mbedTLS-only figures and that child is not run.
 */
#include "engine.h"

#include <errno.h>
#include <mbedtls/version.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "tls/crypto/crypto.h"
#include "tls/tls.h"

#ifdef MOAT_CRYPTO_FAST
#include <gcrypt.h>
#include <nettle/version.h>
#include <sodium.h>
#endif

const char *const bench_key_dir[KEY_COUNT] = {"rsa2048", "ecdsa-p256"};
const char *const bench_key_name[KEY_COUNT] = {"RSA-2048", "ECDSA-P256"};

/* ---- helpers ---------------------------------------------------------------------------- */

double bench_cpu(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

double bench_wall(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

void bench_clock_start(bench_clock *k, double t[SIDE_COUNT])
{
    k->t = t;
    k->last = bench_cpu();
}

void bench_clock_charge(bench_clock *k, int side)
{
    double now = bench_cpu();
    k->t[side] += now - k->last;
    k->last = now;
}

uint8_t *bench_read_file(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    uint8_t *buf = NULL;
    size_t cap = 0, n = 0;
    if (!f)
        return NULL;
    for (;;) {
        if (n + 4096 + 1 > cap) {
            uint8_t *p = realloc(buf, cap = (n + 4096 + 1) * 2);
            if (!p) {
                free(buf);
                fclose(f);
                return NULL;
            }
            buf = p;
        }
        size_t r = fread(buf + n, 1, cap - n - 1, f);
        n += r;
        if (r == 0)
            break;
    }
    fclose(f);
    buf[n] = 0;
    *len = n;
    return buf;
}

size_t bench_groups(const bench_params *p, uint16_t out[2])
{
    out[0] = p->group;
    if (p->version == TLS_VERSION_1_2 && p->key == KEY_P256 && p->group != TLS_GROUP_SECP256R1) {
        out[1] = TLS_GROUP_SECP256R1;
        return 2;
    }
    return 1;
}

static const char *version_label(uint16_t v)
{
    return v == TLS_VERSION_1_3 ? "TLS1.3" : v == TLS_VERSION_1_2 ? "TLS1.2" : "?";
}

static const char *group_label(uint16_t g)
{
    return g == TLS_GROUP_X25519 ? "X25519" : g == TLS_GROUP_SECP256R1 ? "P-256" : "?";
}

static const char *suite_label(uint16_t s)
{
    switch (s) {
    case TLS_AES_128_GCM_SHA256:
        return "TLS13_AES_128_GCM_SHA256";
    case TLS_AES_256_GCM_SHA384:
        return "TLS13_AES_256_GCM_SHA384";
    case TLS_CHACHA20_POLY1305_SHA256:
        return "TLS13_CHACHA20_POLY1305_SHA256";
    case TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
        return "ECDHE_ECDSA_AES_128_GCM_SHA256";
    case TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
        return "ECDHE_ECDSA_AES_256_GCM_SHA384";
    case TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256:
        return "ECDHE_ECDSA_CHACHA20_POLY1305";
    case TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256:
        return "ECDHE_RSA_AES_128_GCM_SHA256";
    default:
        return "?";
    }
}

static const char *sig_label(uint16_t s)
{
    switch (s) {
    case TLS_SIG_RSA_PSS_RSAE_SHA256:
        return "rsa_pss_rsae_sha256";
    case TLS_SIG_RSA_PKCS1_SHA256:
        return "rsa_pkcs1_sha256";
    case TLS_SIG_ECDSA_SECP256R1_SHA256:
        return "ecdsa_secp256r1_sha256";
    case 0:
        return "-";
    default:
        return "other";
    }
}

static const char *res_label(bench_resumption r)
{
    switch (r) {
    case RES_NONE:
        return "full";
    case RES_TICKET13:
        return "TLS1.3 stateless ticket";
    case RES_STATEFUL13:
        return "TLS1.3 stateful ticket (cache)";
    case RES_ID12:
        return "TLS1.2 session ID";
    case RES_TICKET12:
        return "TLS1.2 ticket (RFC 5077)";
    default:
        return "?";
    }
}

static void scenario_label(const bench_params *p, char *buf, size_t len)
{
    snprintf(buf, len, "%s %s %s", version_label(p->version), bench_key_name[p->key],
             group_label(p->group));
}

/* "12,345" */
static const char *num(double v, char *buf, size_t len)
{
    char raw[64], *o = buf;
    snprintf(raw, sizeof raw, "%.0f", v);
    size_t n = strlen(raw), lead = n % 3 ? n % 3 : 3;
    for (size_t i = 0; i < n && (size_t)(o - buf) + 2 < len; i++) {
        if (i && (i - lead) % 3 == 0 && i >= lead)
            *o++ = ',';
        *o++ = raw[i];
    }
    *o = 0;
    return buf;
}

static const char *kib(int64_t bytes, char *buf, size_t len)
{
    snprintf(buf, len, "%.1f", (double)bytes / 1024.0);
    return buf;
}

/* ---- results -------------------------------------------------------------------------- */

enum { IMPL_MOAT, IMPL_OSSL, IMPL_COUNT };
static const bench_impl *const impls[IMPL_COUNT] = {&bench_moat, &bench_openssl};

typedef struct {
    bool ok;
    char err[200];
    double rate[SIDE_COUNT]; /* handshakes per CPU second of that side's calls */
    unsigned long n, resumed;
    bench_neg neg;
} hs_cell;

typedef struct {
    bool ok;
    char err[200];
    double mbps[SIDE_COUNT]; /* server: send, client: receive; 10^6 bytes per CPU second */
    double seal, open;       /* the raw AEAD of the same back end, measured alongside */
    int64_t idle_after[SIDE_COUNT], heap_after[SIDE_COUNT];
} bulk_cell;

typedef struct {
    bool ok;
    char err[200];
    int64_t idle[SIDE_COUNT], peak[SIDE_COUNT];           /* the library's hook */
    int64_t heap_idle[SIDE_COUNT], heap_peak[SIDE_COUNT]; /* every heap byte */
    int64_t leak[SIDE_COUNT];                             /* hook bytes left after free */
} mem_cell;

#define N_FULL 8
#define N_RES 4
#define N_BULK 6

static bench_params full_params[N_FULL], bulk_params[N_BULK], res_params;
static const bench_resumption res_modes[N_RES] = {RES_TICKET13, RES_STATEFUL13, RES_ID12,
                                                  RES_TICKET12};
static hs_cell full[N_FULL][IMPL_COUNT], resumed[N_RES][IMPL_COUNT];
static bulk_cell bulk[N_BULK][IMPL_COUNT];
static mem_cell mem[N_FULL][IMPL_COUNT];
static bench_prim prims[PRIM_COUNT];
static bool prims_ok;
static char prims_err[200];

static void init_scenarios(void)
{
    int i = 0;
    for (int v = 0; v < 2; v++)
        for (int k = 0; k < KEY_COUNT; k++)
            for (int g = 0; g < 2; g++) {
                bench_params *p = &full_params[i++];
                p->version = v == 0 ? TLS_VERSION_1_3 : TLS_VERSION_1_2;
                p->key = k == 0 ? KEY_P256 : KEY_RSA2048;
                p->group = g == 0 ? TLS_GROUP_X25519 : TLS_GROUP_SECP256R1;
                p->suite = v == 0               ? TLS_AES_128_GCM_SHA256
                           : p->key == KEY_P256 ? TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256
                                                : TLS_ECDHE_RSA_WITH_AES_128_GCM_SHA256;
            }
    static const uint16_t suites[N_BULK] = {
        TLS_AES_128_GCM_SHA256,
        TLS_AES_256_GCM_SHA384,
        TLS_CHACHA20_POLY1305_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
        TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384,
        TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256,
    };
    for (i = 0; i < N_BULK; i++)
        bulk_params[i] = (bench_params){i < 3 ? TLS_VERSION_1_3 : TLS_VERSION_1_2, suites[i],
                                        TLS_GROUP_X25519, KEY_P256};
    res_params = full_params[0]; /* TLS 1.3 ECDSA-P256 X25519; the version per mode */
}

/* ---- measurements ------------------------------------------------------------------- */

static bool check_neg(const bench_params *p, const bench_neg *n, char *err, size_t errlen)
{
    /* A resumed TLS 1.2 handshake has no key exchange, so no group. */
    bool no_group = n->resumed && n->version == TLS_VERSION_1_2 && n->group == 0;
    if (n->version == p->version && n->suite == p->suite && (n->group == p->group || no_group))
        return true;
    snprintf(err, errlen, "negotiated %s suite %04x group %s instead", version_label(n->version),
             n->suite, group_label(n->group));
    return false;
}

static void run_handshakes(const bench_impl *impl, const bench_params *p, bench_resumption res,
                           double min_s, hs_cell *cell)
{
    double ignore[SIDE_COUNT] = {0};
    void *ctx = impl->ctx_new(p, res, cell->err, sizeof cell->err);
    memset(cell->rate, 0, sizeof cell->rate);
    if (!ctx)
        return;
    /* Warm-up: lazy initialisation, the signing key's working context, a first session. */
    for (int i = 0; i < 3; i++) {
        void *pair = impl->pair_new(ctx, false, ignore, cell->err, sizeof cell->err);
        if (!pair)
            goto out;
        impl->pair_neg(pair, &cell->neg);
        impl->pair_free(pair, ignore);
    }
    if (!check_neg(p, &cell->neg, cell->err, sizeof cell->err))
        goto out;
    for (int run = 0; run < 3; run++) {
        double t[SIDE_COUNT] = {0};
        unsigned long n = 0;
        do {
            bench_neg neg;
            void *pair = impl->pair_new(ctx, false, t, cell->err, sizeof cell->err);
            if (!pair)
                goto out;
            impl->pair_neg(pair, &neg);
            impl->pair_free(pair, t);
            n++;
            cell->resumed += neg.resumed;
        } while (t[SIDE_SERVER] + t[SIDE_CLIENT] < min_s / 3);
        cell->n += n;
        for (int s = SIDE_SERVER; s <= SIDE_CLIENT; s++)
            if (n / t[s] > cell->rate[s])
                cell->rate[s] = n / t[s];
    }
    if (res != RES_NONE && cell->resumed != cell->n)
        snprintf(cell->err, sizeof cell->err, "only %lu of %lu resumed", cell->resumed, cell->n);
    else if (res == RES_NONE && cell->resumed)
        snprintf(cell->err, sizeof cell->err, "%lu resumed", cell->resumed);
    else
        cell->ok = true;
out:
    impl->ctx_free(ctx);
}

static bench_counter *hook_of(const bench_impl *impl)
{
    return impl == &bench_moat ? &bench_hook : &bench_ossl;
}

static int seal_prim(uint16_t suite);

/* with_aead: also measure the raw AEAD after each run (cell->seal, cell->open). */
static void run_bulk(const bench_impl *impl, const bench_params *p, double min_s, bool with_aead,
                     bulk_cell *cell)
{
    double ignore[SIDE_COUNT] = {0};
    int64_t base[SIDE_COUNT], heap_base[SIDE_COUNT];
    bench_counter *hook = hook_of(impl);
    void *pair = NULL, *ctx = impl->ctx_new(p, RES_NONE, cell->err, sizeof cell->err);
    bench_neg neg;
    if (!ctx)
        return;
    bench_counter_mark(hook, base);
    bench_counter_mark(&bench_heap, heap_base);
    if (!(pair = impl->pair_new(ctx, true, ignore, cell->err, sizeof cell->err)))
        goto out;
    impl->pair_neg(pair, &neg);
    if (!check_neg(p, &neg, cell->err, sizeof cell->err) ||
        !impl->transfer(pair, 1 << 20, ignore, cell->err, sizeof cell->err))
        goto out;
    for (int run = 0; run < 3; run++) {
        double t[SIDE_COUNT] = {0};
        uint64_t bytes = 0, chunk = 4 << 20;
        do {
            if (!impl->transfer(pair, chunk, t, cell->err, sizeof cell->err))
                goto out;
            bytes += chunk;
        } while (t[SIDE_SERVER] + t[SIDE_CLIENT] < min_s / 3);
        for (int s = SIDE_SERVER; s <= SIDE_CLIENT; s++)
            if (bytes / t[s] / 1e6 > cell->mbps[s])
                cell->mbps[s] = bytes / t[s] / 1e6;
        /* The raw AEAD right after each run: the same load conditions. */
        double seal, open;
        if (with_aead && !bench_aead_rates(seal_prim(p->suite), impl == &bench_openssl, min_s / 3,
                                           &seal, &open)) {
            snprintf(cell->err, sizeof cell->err, "raw AEAD measurement failed");
            goto out;
        }
        if (!with_aead)
            continue;
        cell->seal = seal > cell->seal ? seal : cell->seal;
        cell->open = open > cell->open ? open : cell->open;
    }
    for (int s = 0; s < SIDE_COUNT; s++) {
        cell->idle_after[s] = hook->live[s] - base[s];
        cell->heap_after[s] = bench_heap.live[s] - heap_base[s];
    }
    cell->ok = true;
out:
    impl->pair_free(pair, ignore);
    impl->ctx_free(ctx);
}

static void run_memory(const bench_impl *impl, const bench_params *p, mem_cell *cell)
{
    double ignore[SIDE_COUNT] = {0};
    int64_t base[SIDE_COUNT], heap_base[SIDE_COUNT];
    bench_counter *hook = hook_of(impl);
    void *pair, *ctx = impl->ctx_new(p, RES_NONE, cell->err, sizeof cell->err);
    if (!ctx)
        return;
    for (int i = 0; i < 3; i++) {
        if (!(pair = impl->pair_new(ctx, false, ignore, cell->err, sizeof cell->err)))
            goto out;
        impl->pair_free(pair, ignore);
    }
    bench_counter_mark(hook, base);
    bench_counter_mark(&bench_heap, heap_base);
    if (!(pair = impl->pair_new(ctx, false, ignore, cell->err, sizeof cell->err)))
        goto out;
    for (int s = 0; s < SIDE_COUNT; s++) {
        cell->idle[s] = hook->live[s] - base[s];
        cell->peak[s] = hook->peak[s] - base[s];
        cell->heap_idle[s] = bench_heap.live[s] - heap_base[s];
        cell->heap_peak[s] = bench_heap.peak[s] - heap_base[s];
    }
    impl->pair_free(pair, ignore);
    for (int s = 0; s < SIDE_COUNT; s++)
        cell->leak[s] = hook->live[s] - base[s];
    cell->ok = true;
out:
    impl->ctx_free(ctx);
}

/* ---- analysis ------------------------------------------------------------------------- */

static double us_of(const bench_prim *pr, int impl)
{
    double r = impl == IMPL_MOAT ? pr->moat : pr->ossl;
    return r > 0 ? 1e6 / r : 0;
}

/* Microseconds of primitives one side of a full handshake needs: the server signs and
 * does its half of the key exchange; the client does its half, verifies the
 * CertificateVerify (or ServerKeyExchange) signature and the two signatures of the
 * chain (end entity by the intermediate, intermediate by the root; sha256WithRSA or
 * ecdsa-with-SHA256). Hashing, HKDF and the AEAD of handshake records are left out. */
static double prims_us(const bench_params *p, uint16_t sig, int side, int impl)
{
    double kx = us_of(&prims[p->group == TLS_GROUP_X25519 ? PRIM_X25519 : PRIM_P256_ECDH], impl);
    bool rsa = p->key == KEY_RSA2048;
    if (side == SIDE_SERVER)
        return kx + us_of(&prims[rsa ? PRIM_RSA_SIGN : PRIM_ECDSA_SIGN], impl);
    double cv = us_of(&prims[!rsa                              ? PRIM_ECDSA_VERIFY
                             : sig == TLS_SIG_RSA_PKCS1_SHA256 ? PRIM_RSA_VERIFY_PKCS1
                                                               : PRIM_RSA_VERIFY_PSS],
                      impl);
    double chain = 2 * us_of(&prims[rsa ? PRIM_RSA_VERIFY_PKCS1 : PRIM_ECDSA_VERIFY], impl);
    return kx + cv + chain;
}

/* ---- output ------------------------------------------------------------------------------ */

/* Everything printed goes to stdout and, as Markdown, to md. */
static FILE *md;

static void say(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void say(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vprintf(fmt, ap);
    va_end(ap);
    if (md) {
        va_start(ap, fmt);
        vfprintf(md, fmt, ap);
        va_end(ap);
    }
    fflush(stdout);
}

/* A table row: cells separated by '|'; stdout gets aligned columns of the given widths
 * (negative: left-aligned), md gets a Markdown row. */
static void row(const int *widths, int n, ...)
{
    va_list ap;
    va_start(ap, n);
    if (md)
        fputs("|", md);
    for (int i = 0; i < n; i++) {
        const char *c = va_arg(ap, const char *);
        printf(i ? " %*s" : "%*s", widths[i], c);
        if (md)
            fprintf(md, " %s |", c);
    }
    va_end(ap);
    printf("\n");
    if (md)
        fputs("\n", md);
    fflush(stdout);
}

/* row() with the cells in an array. */
static void rowv(const int *widths, int n, const char *const *cells)
{
    if (md)
        fputs("|", md);
    for (int i = 0; i < n; i++) {
        printf(i ? " %*s" : "%*s", widths[i], cells[i]);
        if (md)
            fprintf(md, " %s |", cells[i]);
    }
    printf("\n");
    if (md)
        fputs("\n", md);
    fflush(stdout);
}

static void rule(int n)
{
    if (!md)
        return;
    fputs("|", md);
    for (int i = 0; i < n; i++)
        fputs(i ? " ---: |" : " --- |", md);
    fputs("\n", md);
}

static void section(const char *title)
{
    printf("\n== %s ==\n", title);
    if (md)
        fprintf(md, "\n## %s\n\n", title);
}

static void para(const char *text)
{
    printf("%s\n", text);
    if (md)
        fprintf(md, "%s\n\n", text);
}

static const char *ratio(double a, double b, char *buf, size_t len)
{
    if (a > 0 && b > 0)
        snprintf(buf, len, "%.2f", a / b);
    else
        snprintf(buf, len, "-");
    return buf;
}

static const char *rate_or_err(const hs_cell *c, int side, char *buf, size_t len)
{
    return c->ok ? num(c->rate[side], buf, len) : "error";
}

static void print_errors(const char *what, const char *label, const char *impl, bool ok,
                         const char *err)
{
    if (!ok) {
        fprintf(stderr, "engine bench: %s %s, %s: %s\n", what, label, impl, err);
        if (md)
            fprintf(md, "\n- error: %s %s, %s: %s\n", what, label, impl, err);
    }
}

/* ---- the run ------------------------------------------------------------------------ */

static void machine_info(const char *results)
{
    char cpu[256] = "unknown CPU", line[512], load[64] = "?", date[64];
    FILE *f = fopen("/proc/cpuinfo", "r");
    while (f && fgets(line, sizeof line, f))
        if (!strncmp(line, "model name", 10)) {
            char *c = strchr(line, ':');
            if (c) {
                snprintf(cpu, sizeof cpu, "%s", c + 2);
                cpu[strcspn(cpu, "\n")] = 0;
            }
            break;
        }
    if (f)
        fclose(f);
    if ((f = fopen("/proc/loadavg", "r"))) {
        if (fgets(load, sizeof load, f))
            load[strcspn(load, "\n")] = 0;
        fclose(f);
    }
    time_t now = time(NULL);
    strftime(date, sizeof date, "%Y-%m-%d %H:%M UTC", gmtime(&now));
    char commit[64] = "?";
    if ((f = popen("git rev-parse --short HEAD 2>/dev/null", "r"))) {
        if (fgets(commit, sizeof commit, f))
            commit[strcspn(commit, "\n")] = 0;
        pclose(f);
    }
    int dirty = system("git diff --quiet HEAD -- tls bench >/dev/null 2>&1");
    char mbed[32];
    mbedtls_version_get_string(mbed);

    if (md) {
        fprintf(md, "# Engine bench: moat's engine and OpenSSL's libssl in one process\n\n");
        fprintf(md, "Written by `build/bench/engine` (`make bench`, or `make build/bench/engine "
                    "&& build/bench/engine`);\nthe profile section at the end by "
                    "`bench/profile.sh`. Rerun to refresh.\n\n");
    }
    say("- date: %s\n", date);
    say("- machine: %s; nproc %ld; load average before the run: %s\n", cpu,
        sysconf(_SC_NPROCESSORS_ONLN), load);
    const tls_crypto_routes *r = tls__crypto();
    say("- engine crypto: provider \"%s\" (X25519: %s; P-256/P-384 ECDH: %s/%s; ECDSA sign: "
        "%s; RSA sign: %s; Ed25519: %s; AES-GCM: %s; ChaCha20-Poly1305: %s; SHA-2/HMAC/HKDF: "
        "%s; ECDSA verify: %s; key parsing, RSA verify: %s); mbedTLS %s",
        r->name, r->x25519->name, r->secp256r1->name, r->secp384r1->name,
        r->sign[TLS_KEY_ECDSA_P256]->name, r->sign[TLS_KEY_RSA]->name,
        r->sign[TLS_KEY_ED25519] ? r->sign[TLS_KEY_ED25519]->name : "none",
        r->aead[TLS_AEAD_AES_128_GCM]->name, r->aead[TLS_AEAD_CHACHA20_POLY1305]->name,
        r->hash[TLS_HASH_SHA256]->name, r->verify_ecdsa->name, r->parse->name, mbed);
#ifdef MOAT_CRYPTO_FAST
    say(", nettle %d.%d, libgcrypt %s, libsodium %s", nettle_version_major(),
        nettle_version_minor(), gcry_check_version(NULL), sodium_version_string());
#endif
    say("; peer: %s\n", bench_openssl_version());
    say("- source: commit %s%s; results: %s\n", commit,
        dirty ? " + uncommitted changes in tls/ or bench/" : "", results);
}

__attribute__((noinline)) static bool profile_handshakes(const bench_impl *impl, void *ctx,
                                                         unsigned long n)
{
    double t[SIDE_COUNT] = {0};
    char err[200];
    for (unsigned long i = 0; i < n; i++) {
        void *pair = impl->pair_new(ctx, false, t, err, sizeof err);
        if (!pair) {
            fprintf(stderr, "engine bench: %s\n", err);
            return false;
        }
        impl->pair_free(pair, t);
    }
    printf("%lu handshakes: server %.1f us, client %.1f us each (CPU)\n", n,
           t[SIDE_SERVER] * 1e6 / n, t[SIDE_CLIENT] * 1e6 / n);
    return true;
}

__attribute__((noinline)) static bool profile_transfer(const bench_impl *impl, void *pair,
                                                       unsigned long mib)
{
    double t[SIDE_COUNT] = {0};
    char err[200];
    if (!impl->transfer(pair, (uint64_t)mib << 20, t, err, sizeof err)) {
        fprintf(stderr, "engine bench: %s\n", err);
        return false;
    }
    printf("%lu MiB: send %.0f MB/s, receive %.0f MB/s (CPU)\n", mib,
           mib * 1048576.0 / t[SIDE_SERVER] / 1e6, mib * 1048576.0 / t[SIDE_CLIENT] / 1e6);
    return true;
}

static int profile_main(int argc, char **argv)
{
    if (argc != 5) {
        fprintf(stderr, "usage: %s --profile moat|openssl hs|bulk N\n", argv[0]);
        return 2;
    }
    const bench_impl *impl = !strcmp(argv[2], "moat")      ? &bench_moat
                             : !strcmp(argv[2], "openssl") ? &bench_openssl
                                                           : NULL;
    bool hs = !strcmp(argv[3], "hs");
    unsigned long n = strtoul(argv[4], NULL, 10);
    if (!impl || (!hs && strcmp(argv[3], "bulk")) || n == 0) {
        fprintf(stderr, "usage: %s --profile moat|openssl hs|bulk N\n", argv[0]);
        return 2;
    }
    char err[200];
    double ignore[SIDE_COUNT] = {0};
    void *ctx = impl->ctx_new(&full_params[0], RES_NONE, err, sizeof err);
    bool ok = ctx != NULL;
    for (int i = 0; ok && i < 3; i++) { /* warm-up, outside the profiled function */
        void *pair = impl->pair_new(ctx, false, ignore, err, sizeof err);
        ok = pair != NULL;
        impl->pair_free(pair, ignore);
    }
    if (ok && hs) {
        ok = profile_handshakes(impl, ctx, n);
    } else if (ok) {
        void *pair = impl->pair_new(ctx, true, ignore, err, sizeof err);
        ok = pair && impl->transfer(pair, 1 << 20, ignore, err, sizeof err) &&
             profile_transfer(impl, pair, n);
        impl->pair_free(pair, ignore);
    }
    if (!ok && !ctx)
        fprintf(stderr, "engine bench: %s\n", err);
    if (ctx)
        impl->ctx_free(ctx);
    return ok ? 0 : 1;
}

static void print_primitives(void)
{
    /* Columns: the back ends this build has, OpenSSL, the route, two ratios. */
    const tls_crypto_routes *routes = tls__crypto();
    int cols[BE_COUNT], nb = 0;
    for (int b = 0; b < BE_COUNT; b++) {
        bool any = false;
        for (int i = 0; i < PRIM_COUNT; i++)
            any = any || prims[i].be[b] != BENCH_NA;
        if (any || b == BE_MBEDTLS)
            cols[nb++] = b;
    }
    int w[BE_COUNT + 5], n = 0;
    const char *cell[BE_COUNT + 5];
    char buf[BE_COUNT + 5][32];
    section("Primitives (raw speed, one thread)");
    say("Rates per CPU second: operations/s, or MB/s (10^6 bytes) for the AEADs and SHA-256 "
        "at 16 KiB per call. One column per crypto back end of the engine, each called "
        "directly through its tls_crypto_provider table (\"—\": the back end does not "
        "implement it), and OpenSSL's libcrypto through EVP as libssl calls it. \"route\": "
        "the back end the running provider (\"%s\") uses for it; \"×mbedTLS\" = that back "
        "end's rate / mbedTLS's; \"OpenSSL÷route\" = OpenSSL / the routed rate.\n",
        routes->name);
    if (md)
        fputs("\n", md);
    w[n] = -38;
    cell[n++] = "primitive";
    for (int c = 0; c < nb; c++) {
        w[n] = 10;
        cell[n++] = bench_be_name[cols[c]];
    }
    w[n] = 10, cell[n++] = "OpenSSL";
    w[n] = 8, cell[n++] = "route";
    w[n] = 9, cell[n++] = "×mbedTLS";
    w[n] = 14, cell[n++] = "OpenSSL÷route";
    rowv(w, n, cell);
    rule(n);
    for (int i = 0; i < PRIM_COUNT; i++) {
        const bench_prim *pr = &prims[i];
        char name[64];
        int k = 0;
        snprintf(name, sizeof name, "%s%s", pr->name, pr->bulk ? " (MB/s)" : " (/s)");
        cell[k++] = name;
        for (int c = 0; c < nb; c++, k++) {
            double v = pr->be[cols[c]];
            cell[k] = v == BENCH_NA ? "—" : v > 0 ? num(v, buf[k], sizeof buf[k]) : "error";
        }
        cell[k] = pr->ossl > 0 ? num(pr->ossl, buf[k], sizeof buf[k]) : "error";
        k++;
        cell[k++] = pr->route >= 0 ? bench_be_name[pr->route] : "?";
        cell[k] = ratio(pr->moat, pr->be[BE_MBEDTLS], buf[k], sizeof buf[k]);
        k++;
        cell[k] = ratio(pr->ossl, pr->moat, buf[k], sizeof buf[k]);
        k++;
        rowv(w, k, cell);
    }
    print_errors("primitives", "", "", prims_ok, prims_err);
}

static void print_full(void)
{
    static const int w[] = {-26, 12, 12, 7, 12, 12, 7, -22};
    char a[32], b[32], c[32], d[32], r1[16], r2[16], label[64];
    section("Full handshakes per second");
    para("Each side's rate is handshakes per CPU second spent in that side's calls (new "
         "connection, every read/process/write call, free). No tickets, no session cache. "
         "TLS 1.3: TLS13_AES_128_GCM_SHA256; TLS 1.2: ECDHE_{ECDSA,RSA}_WITH_AES_128_GCM_SHA256. "
         "The client verifies the 3-certificate chain against ca.cert for \"localhost\". "
         "ratio = moat / OpenSSL (above 1: moat is faster).");
    row(w, 8, "scenario", "moat server", "OpenSSL srv", "ratio", "moat client", "OpenSSL cli",
        "ratio", "signature (moat/OpenSSL)");
    rule(8);
    for (int i = 0; i < N_FULL; i++) {
        hs_cell *m = &full[i][IMPL_MOAT], *o = &full[i][IMPL_OSSL];
        char sig[64];
        scenario_label(&full_params[i], label, sizeof label);
        snprintf(sig, sizeof sig, "%s%s%s", sig_label(m->neg.sig_scheme),
                 m->neg.sig_scheme == o->neg.sig_scheme ? "" : " / ",
                 m->neg.sig_scheme == o->neg.sig_scheme ? "" : sig_label(o->neg.sig_scheme));
        row(w, 8, label, rate_or_err(m, SIDE_SERVER, a, sizeof a),
            rate_or_err(o, SIDE_SERVER, b, sizeof b),
            ratio(m->rate[SIDE_SERVER], o->rate[SIDE_SERVER], r1, sizeof r1),
            rate_or_err(m, SIDE_CLIENT, c, sizeof c), rate_or_err(o, SIDE_CLIENT, d, sizeof d),
            ratio(m->rate[SIDE_CLIENT], o->rate[SIDE_CLIENT], r2, sizeof r2), sig);
    }
    for (int i = 0; i < N_FULL; i++)
        for (int j = 0; j < IMPL_COUNT; j++) {
            scenario_label(&full_params[i], label, sizeof label);
            print_errors("full handshake", label, impls[j]->name, full[i][j].ok, full[i][j].err);
        }
}

static void print_resumed(void)
{
    static const int w[] = {-31, 12, 12, 7, 12, 12, 7, 12};
    char a[32], b[32], c[32], d[32], r1[16], r2[16], n[48];
    section("Resumed handshakes per second");
    para("ECDSA-P256 certificate, X25519, AES-128-GCM; one ticket per handshake on both "
         "(engine n_tickets = 1, SSL_CTX_set_num_tickets(1)); each client offers the newest "
         "session it holds. TLS 1.3 resumption is psk_dhe_ke (an X25519 exchange, no "
         "signature). Every measured connection is checked to have resumed on both sides.");
    row(w, 8, "mode", "moat server", "OpenSSL srv", "ratio", "moat client", "OpenSSL cli", "ratio",
        "resumed");
    rule(8);
    for (int i = 0; i < N_RES; i++) {
        hs_cell *m = &resumed[i][IMPL_MOAT], *o = &resumed[i][IMPL_OSSL];
        snprintf(n, sizeof n, "%lu/%lu, %lu/%lu", m->resumed, m->n, o->resumed, o->n);
        row(w, 8, res_label(res_modes[i]), rate_or_err(m, SIDE_SERVER, a, sizeof a),
            rate_or_err(o, SIDE_SERVER, b, sizeof b),
            ratio(m->rate[SIDE_SERVER], o->rate[SIDE_SERVER], r1, sizeof r1),
            rate_or_err(m, SIDE_CLIENT, c, sizeof c), rate_or_err(o, SIDE_CLIENT, d, sizeof d),
            ratio(m->rate[SIDE_CLIENT], o->rate[SIDE_CLIENT], r2, sizeof r2), n);
    }
    for (int i = 0; i < N_RES; i++)
        for (int j = 0; j < IMPL_COUNT; j++)
            print_errors("resumption", res_label(res_modes[i]), impls[j]->name, resumed[i][j].ok,
                         resumed[i][j].err);
}

static int seal_prim(uint16_t suite)
{
    switch (suite) {
    case TLS_AES_128_GCM_SHA256:
    case TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256:
        return PRIM_AES128_SEAL;
    case TLS_AES_256_GCM_SHA384:
    case TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384:
        return PRIM_AES256_SEAL;
    default:
        return PRIM_CHACHA_SEAL;
    }
}

static void print_bulk(void)
{
    static const int w[] = {-31, 9, 9, 6, 9, 9, 6, 11, 11, 11, 13};
    char a[32], b[32], c[32], d[32], r1[16], r2[16], e[32], f[32], g[48], h[48], x[16], y[16];
    section("Bulk transfer, 16 KiB records (MB/s)");
    para("Server to client, 16 KiB application writes, 1 MiB phases. send = the server's "
         "CPU time (encrypt, frame, copy the TLS bytes out); receive = the client's (copy in, "
         "decrypt, copy the plaintext out). \"% AEAD\" = send / raw seal speed and receive / "
         "raw open speed of the same back end, measured right after each transfer run (\"moat "
         "AEAD\": ours, seal / open MB/s), so that both see the same machine load. \"idle "
         "after\" = KiB the engine's hook still holds per connection after the transfer "
         "(server/client).");
    row(w, 11, "suite", "moat send", "OSSL send", "ratio", "moat recv", "OSSL recv", "ratio",
        "moat % AEAD", "OSSL % AEAD", "moat AEAD", "moat idle after");
    rule(11);
    for (int i = 0; i < N_BULK; i++) {
        bulk_cell *m = &bulk[i][IMPL_MOAT], *o = &bulk[i][IMPL_OSSL];
        snprintf(e, sizeof e, "%.0f / %.0f", 100 * m->mbps[SIDE_SERVER] / m->seal,
                 100 * m->mbps[SIDE_CLIENT] / m->open);
        snprintf(f, sizeof f, "%.0f / %.0f", 100 * o->mbps[SIDE_SERVER] / o->seal,
                 100 * o->mbps[SIDE_CLIENT] / o->open);
        snprintf(h, sizeof h, "%.0f / %.0f", m->seal, m->open);
        snprintf(g, sizeof g, "%s / %s", kib(m->idle_after[SIDE_SERVER], x, sizeof x),
                 kib(m->idle_after[SIDE_CLIENT], y, sizeof y));
        row(w, 11, suite_label(bulk_params[i].suite),
            m->ok ? num(m->mbps[SIDE_SERVER], a, sizeof a) : "error",
            o->ok ? num(o->mbps[SIDE_SERVER], b, sizeof b) : "error",
            ratio(m->mbps[SIDE_SERVER], o->mbps[SIDE_SERVER], r1, sizeof r1),
            m->ok ? num(m->mbps[SIDE_CLIENT], c, sizeof c) : "error",
            o->ok ? num(o->mbps[SIDE_CLIENT], d, sizeof d) : "error",
            ratio(m->mbps[SIDE_CLIENT], o->mbps[SIDE_CLIENT], r2, sizeof r2), e, f, h, g);
    }
    for (int i = 0; i < N_BULK; i++)
        for (int j = 0; j < IMPL_COUNT; j++)
            print_errors("bulk", suite_label(bulk_params[i].suite), impls[j]->name, bulk[i][j].ok,
                         bulk[i][j].err);
}

/* ---- the mbedTLS-only provider (issue 9), measured in a child process ------------------ */

/* The provider's routes are chosen once per process (MOAT_CRYPTO is read at first use),
 * so the mbedTLS-only rows come from this same binary run again with MOAT_CRYPTO=mbedtls
 * and --baseline: the engine's full, resumed and bulk cells only, printed one per line
 * ("full|res|bulk INDEX OK SERVER CLIENT") for the parent to read. */
static hs_cell base_full[N_FULL], base_res[N_RES];
static bulk_cell base_bulk[N_BULK];
static bool base_ran;
static char base_why[300];
static double base_secs;

static bench_params res_mode_params(int i)
{
    bench_params p = res_params;
    if (res_modes[i] == RES_ID12 || res_modes[i] == RES_TICKET12) {
        p.version = TLS_VERSION_1_2;
        p.suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    }
    return p;
}

static int baseline_main(double secs)
{
    if (strcmp(tls__crypto()->name, "mbedtls")) {
        fprintf(stderr,
                "engine bench --baseline: the provider is \"%s\", not mbedtls (set "
                "MOAT_CRYPTO=mbedtls)\n",
                tls__crypto()->name);
        return 2;
    }
    for (int i = 0; i < N_FULL; i++) {
        hs_cell c = {0};
        run_handshakes(&bench_moat, &full_params[i], RES_NONE, secs, &c);
        if (!c.ok)
            fprintf(stderr, "engine bench --baseline: full %d: %s\n", i, c.err);
        printf("full %d %d %.3f %.3f\n", i, c.ok, c.rate[SIDE_SERVER], c.rate[SIDE_CLIENT]);
        fflush(stdout);
    }
    for (int i = 0; i < N_RES; i++) {
        hs_cell c = {0};
        bench_params p = res_mode_params(i);
        run_handshakes(&bench_moat, &p, res_modes[i], secs, &c);
        if (!c.ok)
            fprintf(stderr, "engine bench --baseline: resumed %d: %s\n", i, c.err);
        printf("res %d %d %.3f %.3f\n", i, c.ok, c.rate[SIDE_SERVER], c.rate[SIDE_CLIENT]);
        fflush(stdout);
    }
    for (int i = 0; i < N_BULK; i++) {
        bulk_cell c = {0};
        run_bulk(&bench_moat, &bulk_params[i], secs, false, &c);
        if (!c.ok)
            fprintf(stderr, "engine bench --baseline: bulk %d: %s\n", i, c.err);
        printf("bulk %d %d %.3f %.3f\n", i, c.ok, c.mbps[SIDE_SERVER], c.mbps[SIDE_CLIENT]);
        fflush(stdout);
    }
    return 0;
}

static void run_baseline(double secs)
{
    char exe[4096], cmd[4300], line[256];
    base_secs = secs;
    if (strcmp(tls__crypto()->name, "default")) {
        snprintf(base_why, sizeof base_why,
                 "the running provider is already \"%s\" (an mbedTLS-only build, or "
                 "MOAT_CRYPTO=mbedtls): the moat columns above are the mbedTLS-only figures",
                 tls__crypto()->name);
        return;
    }
    ssize_t n = readlink("/proc/self/exe", exe, sizeof exe - 1);
    if (n <= 0 || strchr((exe[n] = 0, exe), '\'')) {
        snprintf(base_why, sizeof base_why, "cannot find this program's path");
        return;
    }
    printf("\n(measuring the mbedTLS-only provider: MOAT_CRYPTO=mbedtls %s --baseline)\n", exe);
    fflush(stdout);
    snprintf(cmd, sizeof cmd, "MOAT_CRYPTO=mbedtls BENCH_SECONDS=%.6g '%s' --baseline", secs, exe);
    FILE *p = popen(cmd, "r");
    if (!p) {
        snprintf(base_why, sizeof base_why, "popen: %s", strerror(errno));
        return;
    }
    int got = 0;
    while (fgets(line, sizeof line, p)) {
        char kind[8];
        int i, ok;
        double a, b;
        if (sscanf(line, "%7s %d %d %lf %lf", kind, &i, &ok, &a, &b) != 5 || i < 0)
            continue;
        hs_cell *h = !strcmp(kind, "full") && i < N_FULL ? &base_full[i]
                     : !strcmp(kind, "res") && i < N_RES ? &base_res[i]
                                                         : NULL;
        if (h) {
            h->ok = ok;
            h->rate[SIDE_SERVER] = a;
            h->rate[SIDE_CLIENT] = b;
            got++;
        } else if (!strcmp(kind, "bulk") && i < N_BULK) {
            base_bulk[i].ok = ok;
            base_bulk[i].mbps[SIDE_SERVER] = a;
            base_bulk[i].mbps[SIDE_CLIENT] = b;
            got++;
        }
    }
    int st = pclose(p);
    if (got != N_FULL + N_RES + N_BULK || st != 0)
        snprintf(base_why, sizeof base_why,
                 "the MOAT_CRYPTO=mbedtls child reported %d of %d cells (exit status %d)", got,
                 N_FULL + N_RES + N_BULK, st);
    base_ran = got > 0;
}

/* One side's comparison: default, mbedTLS-only, default ÷ mbedTLS-only, OpenSSL,
 * default ÷ OpenSSL, into cells[0..4] (bufs of 32). */
static void vs_cells(double d, bool dok, double m, bool mok, double o, bool ook, char bufs[5][32],
                     const char *cells[5])
{
    cells[0] = dok ? num(d, bufs[0], 32) : "error";
    cells[1] = !base_ran ? "—" : mok ? num(m, bufs[1], 32) : "error";
    cells[2] = base_ran && dok && mok ? ratio(d, m, bufs[2], 32) : "-";
    cells[3] = ook ? num(o, bufs[3], 32) : "error";
    cells[4] = dok && ook ? ratio(d, o, bufs[4], 32) : "-";
}

static void vs_row(const char *label, double d[SIDE_COUNT], bool dok, double m[SIDE_COUNT],
                   bool mok, double o[SIDE_COUNT], bool ook)
{
    static const int w[] = {-31, 10, 10, 7, 10, 7, 10, 10, 7, 10, 7};
    char bufs[2][5][32];
    const char *cells[11];
    cells[0] = label;
    vs_cells(d[SIDE_SERVER], dok, m[SIDE_SERVER], mok, o[SIDE_SERVER], ook, bufs[0], cells + 1);
    vs_cells(d[SIDE_CLIENT], dok, m[SIDE_CLIENT], mok, o[SIDE_CLIENT], ook, bufs[1], cells + 6);
    rowv(w, 11, cells);
}

static void print_vs_mbedtls(void)
{
    static const int w[] = {-31, 10, 10, 7, 10, 7, 10, 10, 7, 10, 7};
    char label[64];
    section("Default provider vs mbedTLS-only (issue 9)");
    para("The same engine with the default provider (each algorithm from its fastest back "
         "end: the \"moat\" columns elsewhere in this report) and with the mbedTLS-only "
         "provider (this binary run again with MOAT_CRYPTO=mbedtls, right after the default "
         "cells; same scenarios, same CPU seconds per cell), beside OpenSSL's libssl from "
         "this run. Rates per CPU second of each side, as in the tables above. ÷mbed = "
         "default / mbedTLS-only; ÷OSSL = default / OpenSSL.");
    if (!base_ran)
        say("mbedTLS-only rows not measured: %s.\n\n", base_why);
    else if (base_why[0])
        say("Note: %s.\n\n", base_why);
    say("Full handshakes per second:\n\n");
    row(w, 11, "scenario", "default srv", "mbedTLS srv", "÷mbed", "OpenSSL srv", "÷OSSL",
        "default cli", "mbedTLS cli", "÷mbed", "OpenSSL cli", "÷OSSL");
    rule(11);
    for (int i = 0; i < N_FULL; i++) {
        scenario_label(&full_params[i], label, sizeof label);
        vs_row(label, full[i][IMPL_MOAT].rate, full[i][IMPL_MOAT].ok, base_full[i].rate,
               base_full[i].ok, full[i][IMPL_OSSL].rate, full[i][IMPL_OSSL].ok);
    }
    say("\nResumed handshakes per second (ECDSA-P256, X25519, AES-128-GCM):\n\n");
    row(w, 11, "mode", "default srv", "mbedTLS srv", "÷mbed", "OpenSSL srv", "÷OSSL", "default cli",
        "mbedTLS cli", "÷mbed", "OpenSSL cli", "÷OSSL");
    rule(11);
    for (int i = 0; i < N_RES; i++)
        vs_row(res_label(res_modes[i]), resumed[i][IMPL_MOAT].rate, resumed[i][IMPL_MOAT].ok,
               base_res[i].rate, base_res[i].ok, resumed[i][IMPL_OSSL].rate,
               resumed[i][IMPL_OSSL].ok);
    say("\nBulk transfer, 16 KiB records, MB/s (srv = send, cli = receive):\n\n");
    row(w, 11, "suite", "default srv", "mbedTLS srv", "÷mbed", "OpenSSL srv", "÷OSSL",
        "default cli", "mbedTLS cli", "÷mbed", "OpenSSL cli", "÷OSSL");
    rule(11);
    for (int i = 0; i < N_BULK; i++)
        vs_row(suite_label(bulk_params[i].suite), bulk[i][IMPL_MOAT].mbps, bulk[i][IMPL_MOAT].ok,
               base_bulk[i].mbps, base_bulk[i].ok, bulk[i][IMPL_OSSL].mbps, bulk[i][IMPL_OSSL].ok);

    /* The two figures: full_params[0] is TLS 1.3 ECDSA-P256 X25519 (AES-128-GCM),
     * bulk_params[0] TLS 1.3 AES-128-GCM. */
    say("\n");
    hs_cell *d = &full[0][IMPL_MOAT], *m = &base_full[0], *o = &full[0][IMPL_OSSL];
    if (base_ran && d->ok && m->ok) {
        double r = d->rate[SIDE_SERVER] / m->rate[SIDE_SERVER];
        say("- Target (issue 9): full TLS 1.3 ECDSA-P256 + X25519 server handshakes/s, default "
            ">= 3x mbedTLS-only: %.0f vs %.0f = %.2fx: %s (OpenSSL's libssl: %.0f; default = "
            "%.2fx libssl).\n",
            d->rate[SIDE_SERVER], m->rate[SIDE_SERVER], r, r >= 3 ? "MET" : "NOT MET",
            o->rate[SIDE_SERVER], o->ok ? d->rate[SIDE_SERVER] / o->rate[SIDE_SERVER] : 0);
    } else {
        say("- Target (issue 9): full TLS 1.3 ECDSA-P256 + X25519 server handshakes/s, default "
            ">= 3x mbedTLS-only: not measured.\n");
    }
    bulk_cell *bd = &bulk[0][IMPL_MOAT], *bm = &base_bulk[0], *bo = &bulk[0][IMPL_OSSL];
    if (base_ran && bd->ok && bm->ok) {
        double rs = bd->mbps[SIDE_SERVER] / bm->mbps[SIDE_SERVER];
        double rr = bd->mbps[SIDE_CLIENT] / bm->mbps[SIDE_CLIENT];
        say("- Target (issue 9): TLS 1.3 AES-128-GCM bulk MB/s, default >= 3x mbedTLS-only: "
            "send %.0f vs %.0f = %.2fx, receive %.0f vs %.0f = %.2fx: %s (OpenSSL's libssl: "
            "send %.0f, receive %.0f; default = %.2fx / %.2fx libssl).\n",
            bd->mbps[SIDE_SERVER], bm->mbps[SIDE_SERVER], rs, bd->mbps[SIDE_CLIENT],
            bm->mbps[SIDE_CLIENT], rr, rs >= 3 && rr >= 3 ? "MET" : "NOT MET",
            bo->mbps[SIDE_SERVER], bo->mbps[SIDE_CLIENT],
            bo->ok ? bd->mbps[SIDE_SERVER] / bo->mbps[SIDE_SERVER] : 0,
            bo->ok ? bd->mbps[SIDE_CLIENT] / bo->mbps[SIDE_CLIENT] : 0);
    } else {
        say("- Target (issue 9): TLS 1.3 AES-128-GCM bulk MB/s, default >= 3x mbedTLS-only: "
            "not measured.\n");
    }
}

static void print_memory(void)
{
    static const int w[] = {-25, -6, 15, 15, 15, 15, 7};
    char label[64], a[48], b[48], c[48], d[48], r[16], x[16], y[16];
    section("Memory per connection (KiB)");
    para("One connection of each side after 3 warm-up handshakes: \"idle\" = bytes held once "
         "the handshake is over and every byte was delivered, \"peak\" = the most held at any "
         "point during it. hook = the library's allocation hook, requested sizes (moat: "
         "tls_set_allocator, which does not see mbedTLS's own MPIs and cipher contexts; "
         "OpenSSL: CRYPTO_set_mem_functions, every OpenSSL allocation). heap = every malloc "
         "made during that side's calls, usable sizes (malloc interposition), so it includes "
         "mbedTLS's allocations. ratio = OpenSSL heap idle / moat heap idle.");
    row(w, 7, "scenario", "side", "moat hook i/p", "moat heap i/p", "OSSL hook i/p",
        "OSSL heap i/p", "ratio");
    rule(7);
    for (int i = 0; i < N_FULL; i++)
        for (int s = SIDE_SERVER; s <= SIDE_CLIENT; s++) {
            mem_cell *m = &mem[i][IMPL_MOAT], *o = &mem[i][IMPL_OSSL];
            scenario_label(&full_params[i], label, sizeof label);
            snprintf(a, sizeof a, "%s / %s", kib(m->idle[s], x, sizeof x),
                     kib(m->peak[s], y, sizeof y));
            snprintf(b, sizeof b, "%s / %s", kib(m->heap_idle[s], x, sizeof x),
                     kib(m->heap_peak[s], y, sizeof y));
            snprintf(c, sizeof c, "%s / %s", kib(o->idle[s], x, sizeof x),
                     kib(o->peak[s], y, sizeof y));
            snprintf(d, sizeof d, "%s / %s", kib(o->heap_idle[s], x, sizeof x),
                     kib(o->heap_peak[s], y, sizeof y));
            row(w, 7, s == SIDE_SERVER ? label : "", s == SIDE_SERVER ? "server" : "client",
                m->ok ? a : "error", m->ok ? b : "error", o->ok ? c : "error", o->ok ? d : "error",
                ratio((double)o->heap_idle[s], (double)m->heap_idle[s], r, sizeof r));
        }
    for (int i = 0; i < N_FULL; i++)
        for (int j = 0; j < IMPL_COUNT; j++) {
            scenario_label(&full_params[i], label, sizeof label);
            print_errors("memory", label, impls[j]->name, mem[i][j].ok, mem[i][j].err);
            if (mem[i][j].ok && (mem[i][j].leak[SIDE_SERVER] || mem[i][j].leak[SIDE_CLIENT]))
                say("- note: %s %s: %lld / %lld hook bytes (server/client) not freed with the "
                    "connection\n",
                    impls[j]->name, label, (long long)mem[i][j].leak[SIDE_SERVER],
                    (long long)mem[i][j].leak[SIDE_CLIENT]);
        }
}

/* The split of each full handshake into primitives and everything else, from the
 * measured rates and the primitive speeds. */
static void print_split(double *worst_moat, double *worst_moat_client)
{
    static const int w[] = {-25, -6, 8, 8, 6, 8, 8, 6, 8, 8, 8};
    char label[64], v[11][32];
    *worst_moat = *worst_moat_client = 0;
    section("Where a full handshake's time goes (estimate from the primitive speeds)");
    para("us = CPU microseconds per handshake on that side (1 / rate). prim = the primitives "
         "that side must run, at the speeds measured above: server = key exchange + one "
         "signature; client = key exchange + CertificateVerify/ServerKeyExchange signature "
         "check + the 2 chain signatures. out% = share of the side's time outside those "
         "primitives (protocol code, X.509 parsing, hashing/HKDF/record AEAD, allocation). "
         "gap = moat us - OpenSSL us, split into the part the primitive speeds explain "
         "(crypto = moat prim - OpenSSL prim) and the rest (protocol). Handshakes and primitives "
         "are timed at different moments, so a few percent either way is noise (hence small "
         "negative out%).");
    row(w, 11, "scenario", "side", "moat us", "prim", "out%", "OSSL us", "prim", "out%", "gap",
        "crypto", "protocol");
    rule(11);
    for (int i = 0; i < N_FULL; i++)
        for (int s = SIDE_SERVER; s <= SIDE_CLIENT; s++) {
            hs_cell *m = &full[i][IMPL_MOAT], *o = &full[i][IMPL_OSSL];
            if (!m->ok || !o->ok || !prims_ok)
                continue;
            double mu = 1e6 / m->rate[s], ou = 1e6 / o->rate[s];
            double mp = prims_us(&full_params[i], m->neg.sig_scheme, s, IMPL_MOAT);
            double op = prims_us(&full_params[i], o->neg.sig_scheme, s, IMPL_OSSL);
            double mo = 100 * (1 - mp / mu), oo = 100 * (1 - op / ou);
            if (s == SIDE_SERVER && mo > *worst_moat)
                *worst_moat = mo;
            if (s == SIDE_CLIENT && mo > *worst_moat_client)
                *worst_moat_client = mo;
            scenario_label(&full_params[i], label, sizeof label);
            snprintf(v[0], 32, "%.0f", mu);
            snprintf(v[1], 32, "%.0f", mp);
            snprintf(v[2], 32, "%.0f", mo);
            snprintf(v[3], 32, "%.0f", ou);
            snprintf(v[4], 32, "%.0f", op);
            snprintf(v[5], 32, "%.0f", oo);
            snprintf(v[6], 32, "%+.0f", mu - ou);
            snprintf(v[7], 32, "%+.0f", mp - op);
            snprintf(v[8], 32, "%+.0f", (mu - mp) - (ou - op));
            row(w, 11, s == SIDE_SERVER ? label : "", s == SIDE_SERVER ? "server" : "client", v[0],
                v[1], v[2], v[3], v[4], v[5], v[6], v[7], v[8]);
        }
}

static void print_targets(double worst_server, double worst_client)
{
    section("Targets (issue 7)");
    /* 1: protocol overhead on a full handshake. */
    say("- Protocol overhead on a full handshake, CPU time outside the crypto primitives "
        "<= 10%%: by the timing estimate above, at most %.0f%% on the server side and %.0f%% "
        "on the client side across the 8 scenarios: %s (the estimate counts hashing, HKDF and "
        "handshake-record AEAD as overhead; bench/profile.sh gives the exact instruction "
        "split, appended below when it has run).\n",
        worst_server, worst_client,
        worst_server <= 10 && worst_client <= 10 ? "MET" : "NOT MET by this estimate");
    /* 2: bulk vs raw AEAD. */
    double worst = 1e9;
    const char *worst_label = "?";
    for (int i = 0; i < N_BULK; i++) {
        bulk_cell *m = &bulk[i][IMPL_MOAT];
        if (!m->ok)
            continue;
        double s = 100 * m->mbps[SIDE_SERVER] / m->seal;
        double r = 100 * m->mbps[SIDE_CLIENT] / m->open;
        if (s < worst) {
            worst = s;
            worst_label = suite_label(bulk_params[i].suite);
        }
        if (r < worst) {
            worst = r;
            worst_label = suite_label(bulk_params[i].suite);
        }
    }
    say("- Bulk transfer at 16 KiB records >= 90%% of the raw AEAD speed of the same back end: "
        "lowest %.0f%% (%s): %s.\n",
        worst, worst_label, worst >= 90 ? "MET" : "NOT MET");
    /* 3: memory. */
    int64_t mh = 0, mheap = 0, ch = 0, cheap = 0;
    for (int i = 0; i < N_FULL; i++) {
        mem_cell *m = &mem[i][IMPL_MOAT];
        if (!m->ok)
            continue;
        mh = m->idle[SIDE_SERVER] > mh ? m->idle[SIDE_SERVER] : mh;
        mheap = m->heap_idle[SIDE_SERVER] > mheap ? m->heap_idle[SIDE_SERVER] : mheap;
        ch = m->idle[SIDE_CLIENT] > ch ? m->idle[SIDE_CLIENT] : ch;
        cheap = m->heap_idle[SIDE_CLIENT] > cheap ? m->heap_idle[SIDE_CLIENT] : cheap;
    }
    say("- Memory <= 16 KiB per established idle connection in the engine: server side at most "
        "%.1f KiB through the engine's hook, %.1f KiB counting every heap byte (mbedTLS's "
        "cipher contexts included); client side %.1f / %.1f KiB: %s.\n",
        mh / 1024.0, mheap / 1024.0, ch / 1024.0, cheap / 1024.0,
        mheap <= 16384 && cheap <= 16384 ? "MET"
        : mh <= 16384                    ? "MET through the hook"
                                         : "NOT MET");
    /* Where the back end is the limit. */
    if (prims_ok) {
        say("- Crypto back end (OpenSSL's libcrypto / the back end our provider routes to, same "
            "operation):");
        static const int show[] = {PRIM_X25519,       PRIM_P256_ECDH,   PRIM_ECDSA_SIGN,
                                   PRIM_ECDSA_VERIFY, PRIM_RSA_SIGN,    PRIM_RSA_VERIFY_PKCS1,
                                   PRIM_AES128_SEAL,  PRIM_AES256_SEAL, PRIM_CHACHA_SEAL};
        for (size_t i = 0; i < sizeof show / sizeof show[0]; i++)
            say("%s %s %.1fx", i ? ";" : "", prims[show[i]].name,
                prims[show[i]].ossl / prims[show[i]].moat);
        say(".\n");
    }
}

int main(int argc, char **argv)
{
    /* Before anything allocates through OpenSSL or the engine. */
    bool ossl_hook = bench_openssl_init();
    bench_moat_init();
    init_scenarios();
    if (!ossl_hook)
        fprintf(stderr, "engine bench: CRYPTO_set_mem_functions refused (OpenSSL allocated "
                        "first); OpenSSL hook counts will be wrong\n");
    if (argc > 1 && !strcmp(argv[1], "--profile"))
        return profile_main(argc, argv);
    if (argc == 2 && !strcmp(argv[1], "--baseline")) {
        const char *e = getenv("BENCH_SECONDS");
        double s = e ? strtod(e, NULL) : 1.0;
        return baseline_main(s > 0 ? s : 1.0);
    }
    if (argc > 1) {
        fprintf(stderr, "usage: %s [--profile moat|openssl hs|bulk N]\n", argv[0]);
        return 2;
    }

    const char *env = getenv("BENCH_SECONDS");
    double secs = env ? strtod(env, NULL) : 1.0;
    if (!(secs > 0))
        secs = 1.0;
    const char *results = getenv("BENCH_RESULTS");
    if (!results)
        results = "bench/results/engine.md";
    char *md_buf = NULL;
    size_t md_len = 0;
    if (strcmp(results, "-") && !(md = open_memstream(&md_buf, &md_len))) {
        fprintf(stderr, "engine bench: open_memstream: %s\n", strerror(errno));
        return 1;
    }
    double wall0 = bench_wall();

    printf("engine bench: %.2f CPU seconds per cell (BENCH_SECONDS)\n", secs);
    machine_info(results);
    if (md)
        fprintf(md,
                "- %.2f CPU seconds per cell (BENCH_SECONDS), best of 3 runs of a third "
                "of it\n",
                secs);

    /* Half the cell time for primitives: 4-5 columns of them. */
    prims_ok = bench_primitives_run(secs / 2, prims, prims_err, sizeof prims_err);
    print_primitives();

    for (int i = 0; i < N_FULL; i++)
        for (int j = 0; j < IMPL_COUNT; j++)
            run_handshakes(impls[j], &full_params[i], RES_NONE, secs, &full[i][j]);
    print_full();

    for (int i = 0; i < N_RES; i++) {
        bench_params p = res_mode_params(i);
        for (int j = 0; j < IMPL_COUNT; j++)
            run_handshakes(impls[j], &p, res_modes[i], secs, &resumed[i][j]);
    }
    print_resumed();

    for (int i = 0; i < N_BULK; i++)
        for (int j = 0; j < IMPL_COUNT; j++)
            run_bulk(impls[j], &bulk_params[i], secs, true, &bulk[i][j]);
    print_bulk();

    run_baseline(secs);
    print_vs_mbedtls();

    for (int i = 0; i < N_FULL; i++)
        for (int j = 0; j < IMPL_COUNT; j++)
            run_memory(impls[j], &full_params[i], &mem[i][j]);
    print_memory();

    double worst_server, worst_client;
    print_split(&worst_server, &worst_client);
    print_targets(worst_server, worst_client);

    char load[64] = "?";
    FILE *f = fopen("/proc/loadavg", "r");
    if (f) {
        if (fgets(load, sizeof load, f))
            load[strcspn(load, "\n")] = 0;
        fclose(f);
    }
    say("\n(run took %.0f s of wall time; load average after: %s. CPU time per side is "
        "immune to other processes taking turns on the CPU but not to their cache and "
        "frequency effects: compare within one run.)\n",
        bench_wall() - wall0, load);

    if (md) {
        fclose(md);
        md = NULL;
        FILE *out = fopen(results, "w");
        if (!out || fwrite(md_buf, 1, md_len, out) != md_len || fclose(out) != 0) {
            fprintf(stderr, "engine bench: cannot write %s\n", results);
            free(md_buf);
            return 1;
        }
        printf("(written to %s)\n", results);
        free(md_buf);
    }
    bool all_ok = prims_ok;
    for (int i = 0; i < N_FULL; i++)
        for (int j = 0; j < IMPL_COUNT; j++)
            all_ok = all_ok && full[i][j].ok && mem[i][j].ok;
    for (int i = 0; i < N_RES; i++)
        for (int j = 0; j < IMPL_COUNT; j++)
            all_ok = all_ok && resumed[i][j].ok;
    for (int i = 0; i < N_BULK; i++)
        for (int j = 0; j < IMPL_COUNT; j++)
            all_ok = all_ok && bulk[i][j].ok;
    return all_ok ? 0 : 1;
}
