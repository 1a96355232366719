/*
 * engine.h — the parts of build/bench/engine (issue 7): the engine and OpenSSL's libssl
 * driven the same way, client and server in one thread talking through memory.
 *
 *   bench/engine.c          main: scenarios, timing loops, tables, bench/results/engine.md
 *   bench/engine_moat.c     the engine (tls/) as a bench_impl
 *   bench/engine_openssl.c  OpenSSL's libssl as a bench_impl, its allocation hook
 *   bench/engine_heap.c     malloc interposition: every heap byte, per side
 *   bench/primitives.c      raw speed of each primitive: each of our back ends, libcrypto
 *
 * Time is CPU time of the calling thread (CLOCK_THREAD_CPUTIME_ID) accumulated around
 * each side's calls separately, so a handshake has a server cost and a client cost
 * (as rustls's bench reports them) and other processes on the machine do not count.
 */
#ifndef MOAT_BENCH_ENGINE_H
#define MOAT_BENCH_ENGINE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/* ---- sides and counters -------------------------------------------------------- */

/* Whose call is running: allocations and frees are charged to it. */
enum { SIDE_NONE, SIDE_SERVER, SIDE_CLIENT, SIDE_COUNT };
extern int bench_side;

/* Live bytes per side and the high-water mark since the last bench_counter_mark. */
typedef struct {
    int64_t live[SIDE_COUNT];
    int64_t peak[SIDE_COUNT];
} bench_counter;

extern bench_counter bench_heap; /* every malloc of the process, usable sizes (engine_heap.c) */
extern bench_counter bench_hook; /* the engine's tls_allocator, requested sizes */
extern bench_counter bench_ossl; /* OpenSSL's CRYPTO_set_mem_functions, requested sizes */

void bench_counter_add(bench_counter *c, int64_t n);
/* Peaks restart from the live values; base gets the live values. */
void bench_counter_mark(bench_counter *c, int64_t base[SIDE_COUNT]);

/* Installs the engine's counting tls_allocator (before any engine call). */
void bench_moat_init(void);
/* Installs OpenSSL's counting allocator; false when OpenSSL had already allocated. */
bool bench_openssl_init(void);
const char *bench_openssl_version(void);

/* ---- time -------------------------------------------------------------------------- */

double bench_cpu(void);  /* CPU seconds of this thread */
double bench_wall(void); /* monotonic seconds */

/* Charges elapsed CPU time to one side at a time: t[side] += now - last. */
typedef struct {
    double *t;
    double last;
} bench_clock;
void bench_clock_start(bench_clock *k, double t[SIDE_COUNT]);
void bench_clock_charge(bench_clock *k, int side);

/* ---- scenarios ------------------------------------------------------------------- */

enum { KEY_RSA2048, KEY_P256, KEY_COUNT };
extern const char *const bench_key_dir[KEY_COUNT];  /* "rsa2048", "ecdsa-p256" */
extern const char *const bench_key_name[KEY_COUNT]; /* "RSA-2048", "ECDSA-P256" */

typedef enum {
    RES_NONE,       /* every handshake is a full one; no tickets, no session cache */
    RES_TICKET13,   /* TLS 1.3 stateless tickets (psk_dhe_ke) */
    RES_STATEFUL13, /* TLS 1.3 tickets naming a server-side session cache entry */
    RES_ID12,       /* TLS 1.2 session IDs */
    RES_TICKET12,   /* TLS 1.2 RFC 5077 tickets */
} bench_resumption;

typedef struct {
    uint16_t version; /* TLS_VERSION_1_2 / _1_3 */
    uint16_t suite;   /* IANA value */
    uint16_t group;   /* TLS_GROUP_* */
    int key;          /* KEY_* */
} bench_params;

/* The groups both ends are configured with, preferred first: p->group, and in TLS 1.2
 * with an ECDSA P-256 certificate also secp256r1, without which the client could not
 * accept the certificate (RFC 8422 §5.1: supported_groups covers the certificate's
 * curve too). Returns how many (1 or 2). */
size_t bench_groups(const bench_params *p, uint16_t out[2]);

/* What a handshake negotiated, read from the client (IANA values; 0 unknown). */
typedef struct {
    uint16_t version, suite, group, sig_scheme;
    bool resumed; /* both sides say so */
} bench_neg;

/*
 * One implementation under test. A context holds the configs (certificate, key, root
 * store, session store); a pair is a client and a server connection of it.
 */
typedef struct {
    const char *name;
    /* NULL with a sentence in err on failure. */
    void *(*ctx_new)(const bench_params *p, bench_resumption res, char *err, size_t errlen);
    void (*ctx_free)(void *ctx);
    /* New connections, the whole handshake, every byte delivered (TLS 1.3 tickets read
     * by the client, a session kept for the next resumption). Adds each side's CPU time
     * to t; bulk asks for room for large transfers. NULL with err on failure. */
    void *(*pair_new)(void *ctx, bool bulk, double t[SIDE_COUNT], char *err, size_t errlen);
    void (*pair_neg)(void *pair, bench_neg *neg);
    void (*pair_free)(void *pair, double t[SIDE_COUNT]);
    /* bytes of application data server -> client in 16 KiB writes, phases of up to
     * 1 MiB (all sent, then all received): the server's time is sending, the client's
     * receiving. */
    bool (*transfer)(void *pair, uint64_t bytes, double t[SIDE_COUNT], char *err, size_t errlen);
} bench_impl;

extern const bench_impl bench_moat, bench_openssl;

/* ---- primitives (primitives.c) ------------------------------------------------ */

enum {
    PRIM_X25519,        /* keygen + public share + shared secret with a peer share */
    PRIM_P256_ECDH,     /* the same on secp256r1 */
    PRIM_P384_ECDH,     /* and on secp384r1 */
    PRIM_ECDSA_SIGN,    /* ecdsa_secp256r1_sha256 over a CertificateVerify-sized message */
    PRIM_ECDSA384_SIGN, /* ecdsa_secp384r1_sha384, the same message */
    PRIM_RSA_SIGN,      /* rsa_pss_rsae_sha256, 2048-bit key */
    PRIM_ECDSA_VERIFY,  /* P-256 */
    PRIM_RSA_VERIFY_PSS,
    PRIM_RSA_VERIFY_PKCS1, /* sha256WithRSAEncryption, as the test chain is signed */
    PRIM_AES128_SEAL,      /* 16 KiB per call */
    PRIM_AES128_OPEN,
    PRIM_AES256_SEAL,
    PRIM_AES256_OPEN,
    PRIM_CHACHA_SEAL,
    PRIM_CHACHA_OPEN,
    PRIM_SHA256,      /* 16 KiB per call, MB/s */
    PRIM_HMAC,        /* HMAC-SHA256 of 32 bytes with a 32-byte key (a Finished MAC) */
    PRIM_HKDF_EXPAND, /* HKDF-Expand-SHA256, 54-byte HkdfLabel info, 32 bytes out */
    PRIM_COUNT
};

/* The engine's crypto back ends (tls/crypto/crypto.h), one column each. */
enum { BE_MBEDTLS, BE_NETTLE, BE_GCRYPT, BE_SODIUM, BE_COUNT };
extern const char *const bench_be_name[BE_COUNT];
/* A back end's cell when its table leaves the primitive's slot empty (or refuses the
 * algorithm): shown as "—". 0 means the measurement failed. */
#define BENCH_NA (-1.0)

typedef struct {
    const char *name;
    bool bulk;           /* rate in MB/s (10^6 bytes) instead of operations/s */
    double be[BE_COUNT]; /* each back end called directly; BENCH_NA: lacks it */
    double ossl;         /* OpenSSL's libcrypto; 0: failed */
    int route;           /* BE_* the running provider (tls__crypto()) routes it to */
    double moat;         /* be[route]: what the engine gets */
} bench_prim;

/* Measures every primitive for about min_s CPU seconds per cell and back end. */
bool bench_primitives_run(double min_s, bench_prim out[PRIM_COUNT], char *err, size_t errlen);

/* Seal and open MB/s of one AEAD (by its PRIM_*_SEAL) on our provider as routed or on
 * OpenSSL (ossl), 16 KiB records, about min_s CPU seconds each: the bulk cells measure
 * their reference right next to the transfer, so that load changes do not skew the ratio. */
bool bench_aead_rates(int prim_seal, bool ossl, double min_s, double *seal, double *open);

/* ---- small helpers ------------------------------------------------------------ */

/* Reads a whole file, NUL-terminated (*len excludes the NUL). NULL on failure. */
uint8_t *bench_read_file(const char *path, size_t *len);

#endif
