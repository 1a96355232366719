/*
 * support.c — the deterministic environment and helpers of fuzz.h.
 *
 * The random streams are SplitMix64 generators: not cryptographic, and that is the
 * point; nothing built with them ever protects real traffic (the fuzz programs are
 * never installed).
 */
#include "tests/fuzz/fuzz.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* ---- deterministic randomness and clock -------------------------------------------- */

static uint64_t rng_state[FUZZ_RNG_STREAMS];
static int rng_stream = FUZZ_RNG_OTHER;
static int64_t clock_now = FUZZ_NOW;

void fuzz_rng_reset(int stream, uint64_t seed)
{
    if (stream < 0 || stream >= FUZZ_RNG_STREAMS)
        abort();
    rng_state[stream] = seed * 0x9e3779b97f4a7c15ull + 0x243f6a8885a308d3ull;
    rng_stream = stream;
}

void fuzz_rng_select(int stream)
{
    if (stream < 0 || stream >= FUZZ_RNG_STREAMS)
        abort();
    rng_stream = stream;
}

static uint64_t splitmix64(uint64_t *s)
{
    uint64_t z = (*s += 0x9e3779b97f4a7c15ull);
    z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ull;
    z = (z ^ (z >> 27)) * 0x94d049bb133111ebull;
    return z ^ (z >> 31);
}

ssize_t fuzz_getrandom(void *buf, size_t len, unsigned int flags)
{
    uint8_t *p = buf;
    (void)flags;
    for (size_t i = 0; i < len; i += 8) {
        uint64_t v = splitmix64(&rng_state[rng_stream]);
        size_t k = len - i < 8 ? len - i : 8;
        memcpy(p + i, &v, k);
    }
    return (ssize_t)len;
}

void fuzz_clock_set(int64_t unix_s)
{
    clock_now = unix_s;
}

time_t fuzz_time(time_t *t)
{
    if (t)
        *t = (time_t)clock_now;
    return (time_t)clock_now;
}

int fuzz_clock_gettime(clockid_t id, struct timespec *ts)
{
    if (id != CLOCK_REALTIME)
        return clock_gettime(id, ts);
    ts->tv_sec = (time_t)clock_now;
    ts->tv_nsec = 0;
    return 0;
}

/* ---- helpers ------------------------------------------------------------------------- */

void fuzz_fail(const char *file, int line, const char *what)
{
    fprintf(stderr, "%s:%d: fuzz invariant broken: %s\n", file, line, what);
    fflush(stderr);
    abort();
}

uint8_t *fuzz_dup(const uint8_t *p, size_t n)
{
    uint8_t *q = malloc(n ? n : 1);
    if (!q)
        abort();
    if (n)
        memcpy(q, p, n);
    return q;
}

/* Global, so no compiler can prove the stores dead. */
volatile uint8_t fuzz_sink;

void fuzz_consume(const void *p, size_t n)
{
    const uint8_t *b = p;
    uint8_t x = 0;
    for (size_t i = 0; i < n; i++)
        x ^= b[i];
    fuzz_sink = (uint8_t)(fuzz_sink ^ x);
}

#define N_TMP 4
static char tmp_path[N_TMP][64];
static int tmp_fd[N_TMP] = {-1, -1, -1, -1};

static void tmp_cleanup(void)
{
    for (int i = 0; i < N_TMP; i++)
        if (tmp_fd[i] >= 0) {
            close(tmp_fd[i]);
            unlink(tmp_path[i]);
        }
}

const char *fuzz_tmpfile(int slot, const uint8_t *p, size_t n, unsigned mode)
{
    static bool registered;
    if (slot < 0 || slot >= N_TMP)
        abort();
    if (tmp_fd[slot] < 0) {
        const char *dir = access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
        snprintf(tmp_path[slot], sizeof tmp_path[slot], "%s/moat-fuzz-XXXXXX", dir);
        tmp_fd[slot] = mkstemp(tmp_path[slot]);
        if (tmp_fd[slot] < 0) {
            perror("mkstemp");
            abort();
        }
        if (!registered) {
            atexit(tmp_cleanup);
            registered = true;
        }
    }
    int fd = tmp_fd[slot];
    if (ftruncate(fd, 0) != 0 || fchmod(fd, (mode_t)mode) != 0)
        abort();
    for (size_t off = 0; off < n;) {
        ssize_t w = pwrite(fd, p + off, n - off, (off_t)off);
        if (w < 0 && errno == EINTR)
            continue;
        if (w <= 0)
            abort();
        off += (size_t)w;
    }
    return tmp_path[slot];
}

const char *fuzz_src_path(const char *rel, char *buf, size_t cap)
{
    const char *root = getenv("FUZZ_SRCDIR");
    if (root && *root)
        snprintf(buf, cap, "%s/%s", root, rel);
    else
        snprintf(buf, cap, "%s", rel);
    return buf;
}

uint8_t *fuzz_read_src(const char *rel, size_t *len)
{
    char path[512];
    FILE *f = fopen(fuzz_src_path(rel, path, sizeof path), "rb");
    if (!f) {
        fprintf(stderr, "fuzz: cannot open %s (run from the repository root or set "
                        "FUZZ_SRCDIR)\n",
                path);
        abort();
    }
    size_t cap = 4096, n = 0;
    uint8_t *buf = malloc(cap + 1);
    for (;;) {
        if (!buf)
            abort();
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        cap *= 2;
        buf = realloc(buf, cap + 1);
    }
    fclose(f);
    buf[n] = '\0';
    *len = n;
    return buf;
}

bool fuzz_split(const uint8_t *p, size_t n, const uint8_t *sep, size_t sep_len, const uint8_t **a,
                size_t *a_len, const uint8_t **b, size_t *b_len)
{
    for (size_t i = 0; sep_len && i + sep_len <= n; i++) {
        if (memcmp(p + i, sep, sep_len) == 0) {
            *a = p;
            *a_len = i;
            *b = p + i + sep_len;
            *b_len = n - i - sep_len;
            return true;
        }
    }
    *a = p;
    *a_len = n;
    *b = p + n;
    *b_len = 0;
    return false;
}
