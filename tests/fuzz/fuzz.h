/*
 * fuzz.h — what every fuzz target under tests/fuzz/ shares: the libFuzzer entry points,
 * a deterministic environment for the engine, and small helpers.
 *
 * Determinism: the engine's calls to getrandom(2), time(2) and clock_gettime(2) are
 * renamed to fuzz_getrandom, fuzz_time and fuzz_clock_gettime when the fuzz programs
 * are linked (objcopy --redefine-syms=tests/fuzz/redefine.syms on the engine archive;
 * see the Makefile). Only the engine's references move: libFuzzer and the sanitizers
 * keep the real clock, so their timeouts still work. Randomness comes from a few
 * independent streams (one per role), each reset to a fixed seed where a target says
 * so; the clock stands still at a value the target sets. An input therefore drives the
 * engine the same way on every run, and a server's random values in a replay are the
 * ones seedgen saw when it recorded the client's bytes.
 */
#ifndef MOAT_TESTS_FUZZ_H
#define MOAT_TESTS_FUZZ_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>
#include <time.h>

/* libFuzzer's interface (driver.c calls the same functions for `make test`). */
int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);
int LLVMFuzzerInitialize(int *argc, char ***argv);

/* 2026-01-01T00:00:00Z: inside the test certificates' validity (2020..2045). */
#define FUZZ_NOW 1767225600

enum { FUZZ_RNG_SERVER, FUZZ_RNG_CLIENT, FUZZ_RNG_OTHER, FUZZ_RNG_STREAMS };

/* Fixed keys shared by the targets and seedgen.c (which seals seeds with them). */
/* fuzz_ticket's ticketer: a key file of two keys (the first seals, both open). */
#define FUZZ_TICKET_KEYS                                                                           \
    "# moat fuzz ticket keys\n"                                                                   \
    "6d6f61742066757a7a207469636b6574206b6579206f6e652c2066697865642e\n"                           \
    "6d6f61742066757a7a207469636b6574206b65792074776f2c2066697865642e\n"
/* fuzz_record's traffic secret (TLS 1.3) and key/IV (TLS 1.2). */
#define FUZZ_RECORD_SECRET "moat fuzz record traffic secret, sixty-four bytes long, fixed.."
#define FUZZ_RECORD_KEY12 "moat fuzz TLS 1.2 record key 32"
#define FUZZ_RECORD_IV12 "moat fuzz iv"

/* Restarts a stream at seed; fuzz_rng_select says which stream getrandom draws from. */
void fuzz_rng_reset(int stream, uint64_t seed);
void fuzz_rng_select(int stream);
/* The engine's wall clock, in seconds (milliseconds are 0). */
void fuzz_clock_set(int64_t unix_s);

/* The engine's getrandom, time and clock_gettime (see above). */
ssize_t fuzz_getrandom(void *buf, size_t len, unsigned int flags);
time_t fuzz_time(time_t *t);
int fuzz_clock_gettime(clockid_t id, struct timespec *ts);

/* Aborts with file:line and the condition: a fuzz target found a broken invariant. */
#define FUZZ_CHECK(cond)                                                                           \
    do {                                                                                           \
        if (!(cond))                                                                               \
            fuzz_fail(__FILE__, __LINE__, #cond);                                                  \
    } while (0)
void fuzz_fail(const char *file, int line, const char *what) __attribute__((noreturn));

/* An exact-size heap copy (so ASan sees any read past the end); free() it. n may be 0. */
uint8_t *fuzz_dup(const uint8_t *p, size_t n);

/* Replaces the contents of this process's temporary file number `slot` (0..3) with
 * p[0..n) and mode `mode`; returns its path (valid until exit, when it is removed). */
const char *fuzz_tmpfile(int slot, const uint8_t *p, size_t n, unsigned mode);

/* Path of a file of the source tree: $FUZZ_SRCDIR/rel, or rel (the repository root is
 * where make runs). */
const char *fuzz_src_path(const char *rel, char *buf, size_t cap);

/* Bytes read whole from a file of the source tree (malloc'd, NUL-terminated, *len
 * without the NUL); aborts when it cannot be read. */
uint8_t *fuzz_read_src(const char *rel, size_t *len);

/* Splits input at the first occurrence of sep (sep_len bytes): true with the two parts,
 * false (a = whole input, b empty) when sep is absent. */
bool fuzz_split(const uint8_t *p, size_t n, const uint8_t *sep, size_t sep_len, const uint8_t **a,
                size_t *a_len, const uint8_t **b, size_t *b_len);

/* Keeps a value alive so reads of fuzzer-reached memory are not optimised away. */
void fuzz_consume(const void *p, size_t n);

#endif
