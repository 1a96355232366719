/*
 * engine_openssl.c — OpenSSL's libssl as a bench_impl, driven like the engine: an SSL
 * client and an SSL server in one thread, connected by a BIO pair (two in-memory
 * buffers, one per direction, each SSL writing into one and reading from the other).
 *
 * Both sides get what the engine gets: the same certificate chain and key, one
 * version, one suite and one group forced on both ends, the client verifying the
 * chain against ca.cert for "localhost" (SSL_VERIFY_PEER, SSL_set1_host). Full
 * handshakes: no tickets and no session cache on either side. Resumption: one ticket
 * per handshake (SSL_CTX_set_num_tickets(1), the engine's n_tickets = 1), stateless
 * tickets with the server cache off, or SSL_OP_NO_TICKET with the server cache on
 * (TLS 1.3 stateful tickets, TLS 1.2 session IDs); the client offers the session of
 * the previous connection (SSL_get1_session after it read its tickets).
 *
 * Allocations are counted through CRYPTO_set_mem_functions (requested sizes, a 16-byte
 * header remembers each block's size), which must run before OpenSSL allocates.
 */
#include "engine.h"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/ssl.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RECORD 16384
#define PHASE_RECORDS 64
#define WIRE_CAP (PHASE_RECORDS * (RECORD + 5 + 8 + 1 + 16 + 256))
#define HS_WIRE_CAP (64 * 1024)
#define HDR 16 /* keeps malloc's 16-byte alignment */

/* ---- allocation hook -------------------------------------------------------------- */

static void *ossl_malloc(size_t n, const char *file, int line)
{
    (void)file;
    (void)line;
    size_t *h = malloc(n + HDR);
    if (!h)
        return NULL;
    h[0] = n;
    bench_counter_add(&bench_ossl, (int64_t)n);
    return (char *)h + HDR;
}

static void ossl_free(void *p, const char *file, int line)
{
    (void)file;
    (void)line;
    if (!p)
        return;
    size_t *h = (size_t *)(void *)((char *)p - HDR);
    bench_counter_add(&bench_ossl, -(int64_t)h[0]);
    free(h);
}

static void *ossl_realloc(void *p, size_t n, const char *file, int line)
{
    if (!p)
        return ossl_malloc(n, file, line);
    if (n == 0) {
        ossl_free(p, file, line);
        return NULL;
    }
    size_t *h = (size_t *)(void *)((char *)p - HDR), old = h[0];
    size_t *q = realloc(h, n + HDR);
    if (!q)
        return NULL;
    q[0] = n;
    bench_counter_add(&bench_ossl, (int64_t)n - (int64_t)old);
    return (char *)q + HDR;
}

bool bench_openssl_init(void)
{
    return CRYPTO_set_mem_functions(ossl_malloc, ossl_realloc, ossl_free) == 1;
}

const char *bench_openssl_version(void)
{
    return OpenSSL_version(OPENSSL_VERSION);
}

/* ---- names -------------------------------------------------------------------------- */

static const char *suite_name(uint16_t suite)
{
    switch (suite) {
    case 0x1301:
        return "TLS_AES_128_GCM_SHA256";
    case 0x1302:
        return "TLS_AES_256_GCM_SHA384";
    case 0x1303:
        return "TLS_CHACHA20_POLY1305_SHA256";
    case 0xc02b:
        return "ECDHE-ECDSA-AES128-GCM-SHA256";
    case 0xc02c:
        return "ECDHE-ECDSA-AES256-GCM-SHA384";
    case 0xc02f:
        return "ECDHE-RSA-AES128-GCM-SHA256";
    case 0xc030:
        return "ECDHE-RSA-AES256-GCM-SHA384";
    case 0xcca8:
        return "ECDHE-RSA-CHACHA20-POLY1305";
    case 0xcca9:
        return "ECDHE-ECDSA-CHACHA20-POLY1305";
    default:
        return NULL;
    }
}

static const char *group_name(uint16_t group)
{
    return group == 0x001d ? "X25519" : group == 0x0017 ? "P-256" : NULL;
}

static uint16_t group_from_nid(int nid)
{
    return nid == NID_X25519 ? 0x001d : nid == NID_X9_62_prime256v1 ? 0x0017 : 0;
}

static uint16_t sig_scheme_from_nids(int type, int hash)
{
    if (hash != NID_sha256)
        return 0;
    switch (type) {
    case EVP_PKEY_RSA_PSS:
        return 0x0804; /* rsa_pss_rsae_sha256 */
    case EVP_PKEY_RSA:
        return 0x0401; /* rsa_pkcs1_sha256 */
    case EVP_PKEY_EC:
        return 0x0403; /* ecdsa_secp256r1_sha256 */
    default:
        return 0;
    }
}

static void ssl_error(char *err, size_t errlen, const char *what)
{
    unsigned long e = ERR_get_error();
    char buf[256] = "";
    if (e)
        ERR_error_string_n(e, buf, sizeof buf);
    snprintf(err, errlen, "%s%s%s", what, e ? ": " : "", buf);
    ERR_clear_error();
}

/* ---- contexts ------------------------------------------------------------------------ */

typedef struct {
    bench_params p;
    bench_resumption res;
    SSL_CTX *sctx, *cctx;
    SSL_SESSION *sess; /* offered by the next client */
} ossl_ctx;

typedef struct {
    ossl_ctx *x;
    SSL *c, *s;
    BIO *cbio, *sbio; /* our own references to the two ends of the pair */
} ossl_pair;

static void ossl_ctx_free(void *v)
{
    ossl_ctx *x = v;
    if (!x)
        return;
    SSL_SESSION_free(x->sess);
    SSL_CTX_free(x->sctx);
    SSL_CTX_free(x->cctx);
    free(x);
}

static bool restrict_ctx(SSL_CTX *ctx, const bench_params *p)
{
    uint16_t groups[2];
    size_t n = bench_groups(p, groups);
    const char *suite = suite_name(p->suite), *g0 = group_name(groups[0]);
    const char *g1 = n > 1 ? group_name(groups[1]) : NULL;
    char list[64];
    if (!suite || !g0 || (n > 1 && !g1))
        return false;
    snprintf(list, sizeof list, "%s%s%s", g0, g1 ? ":" : "", g1 ? g1 : "");
    if (!SSL_CTX_set_min_proto_version(ctx, p->version) ||
        !SSL_CTX_set_max_proto_version(ctx, p->version) || !SSL_CTX_set1_groups_list(ctx, list))
        return false;
    if (p->version == 0x0304)
        return SSL_CTX_set_ciphersuites(ctx, suite) == 1;
    return SSL_CTX_set_cipher_list(ctx, suite) == 1;
}

static void *ossl_ctx_new(const bench_params *p, bench_resumption res, char *err, size_t errlen)
{
    ossl_ctx *x = calloc(1, sizeof *x);
    char chain[256], key[256], ca[256];

    if (!x) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    x->p = *p;
    x->res = res;
    snprintf(chain, sizeof chain, "tests/certs/%s/end.fullchain", bench_key_dir[p->key]);
    snprintf(key, sizeof key, "tests/certs/%s/end.key", bench_key_dir[p->key]);
    snprintf(ca, sizeof ca, "tests/certs/%s/ca.cert", bench_key_dir[p->key]);

    x->sctx = SSL_CTX_new(TLS_server_method());
    x->cctx = SSL_CTX_new(TLS_client_method());
    if (!x->sctx || !x->cctx || !restrict_ctx(x->sctx, p) || !restrict_ctx(x->cctx, p)) {
        ssl_error(err, errlen, "SSL_CTX setup");
        goto fail;
    }
    if (SSL_CTX_use_certificate_chain_file(x->sctx, chain) != 1 ||
        SSL_CTX_use_PrivateKey_file(x->sctx, key, SSL_FILETYPE_PEM) != 1 ||
        SSL_CTX_check_private_key(x->sctx) != 1) {
        ssl_error(err, errlen, "server certificate");
        goto fail;
    }
    if (SSL_CTX_load_verify_locations(x->cctx, ca, NULL) != 1) {
        ssl_error(err, errlen, "client roots");
        goto fail;
    }
    SSL_CTX_set_verify(x->cctx, SSL_VERIFY_PEER, NULL);
    SSL_CTX_set_session_id_context(x->sctx, (const unsigned char *)"bench", 5);
    switch (res) {
    case RES_NONE:
        SSL_CTX_set_session_cache_mode(x->sctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_options(x->sctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_options(x->cctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(x->sctx, 0);
        break;
    case RES_TICKET13:
    case RES_TICKET12:
        SSL_CTX_set_session_cache_mode(x->sctx, SSL_SESS_CACHE_OFF);
        SSL_CTX_set_num_tickets(x->sctx, 1);
        break;
    case RES_STATEFUL13:
    case RES_ID12:
        SSL_CTX_set_session_cache_mode(x->sctx, SSL_SESS_CACHE_SERVER);
        SSL_CTX_set_options(x->sctx, SSL_OP_NO_TICKET);
        SSL_CTX_set_num_tickets(x->sctx, 1);
        if (res == RES_ID12)
            SSL_CTX_set_options(x->cctx, SSL_OP_NO_TICKET);
        break;
    default:
        abort();
    }
    return x;

fail:
    ossl_ctx_free(x);
    return NULL;
}

/* ---- pairs ---------------------------------------------------------------------------- */

static void ossl_pair_free(void *v, double t[SIDE_COUNT])
{
    ossl_pair *pr = v;
    bench_clock k;
    if (!pr)
        return;
    bench_clock_start(&k, t);
    /* Closed without sending anything, as the engine's connections are: a connection
     * freed without these flags would mark its session unresumable (and the server drop
     * it from its cache). */
    bench_side = SIDE_CLIENT;
    if (pr->c)
        SSL_set_shutdown(pr->c, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(pr->c);
    bench_clock_charge(&k, SIDE_CLIENT);
    bench_side = SIDE_SERVER;
    if (pr->s)
        SSL_set_shutdown(pr->s, SSL_SENT_SHUTDOWN | SSL_RECEIVED_SHUTDOWN);
    SSL_free(pr->s);
    bench_clock_charge(&k, SIDE_SERVER);
    bench_side = SIDE_NONE;
    BIO_free(pr->cbio);
    BIO_free(pr->sbio);
    free(pr);
}

/* One SSL_do_handshake step: 1 done, 0 wants more, -1 failed. */
static int step(SSL *ssl)
{
    int r = SSL_do_handshake(ssl);
    if (r == 1)
        return 1;
    int e = SSL_get_error(ssl, r);
    return e == SSL_ERROR_WANT_READ || e == SSL_ERROR_WANT_WRITE ? 0 : -1;
}

static void *ossl_pair_new(void *v, bool bulk, double t[SIDE_COUNT], char *err, size_t errlen)
{
    ossl_ctx *x = v;
    ossl_pair *pr = calloc(1, sizeof *pr);
    double ignore[SIDE_COUNT] = {0};
    size_t cap = bulk ? WIRE_CAP : HS_WIRE_CAP;
    bench_clock k;

    if (!pr) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    pr->x = x;
    if (!BIO_new_bio_pair(&pr->sbio, cap, &pr->cbio, cap)) {
        ssl_error(err, errlen, "BIO_new_bio_pair");
        free(pr);
        return NULL;
    }
    bench_clock_start(&k, t);
    bench_side = SIDE_CLIENT;
    pr->c = SSL_new(x->cctx);
    bool ok = pr->c && SSL_set_tlsext_host_name(pr->c, "localhost") &&
              SSL_set1_host(pr->c, "localhost") && (!x->sess || SSL_set_session(pr->c, x->sess));
    if (ok) {
        BIO_up_ref(pr->cbio);
        SSL_set_bio(pr->c, pr->cbio, pr->cbio);
        SSL_set_connect_state(pr->c);
    }
    bench_clock_charge(&k, SIDE_CLIENT);
    bench_side = SIDE_SERVER;
    if (ok && (pr->s = SSL_new(x->sctx)) != NULL) {
        BIO_up_ref(pr->sbio);
        SSL_set_bio(pr->s, pr->sbio, pr->sbio);
        SSL_set_accept_state(pr->s);
    }
    bench_clock_charge(&k, SIDE_SERVER);
    bench_side = SIDE_NONE;
    if (!ok || !pr->s) {
        ssl_error(err, errlen, "SSL_new");
        ossl_pair_free(pr, ignore);
        return NULL;
    }

    int cdone = 0, sdone = 0;
    for (int i = 0; i < 64 && (cdone != 1 || sdone != 1); i++) {
        bench_side = SIDE_CLIENT;
        cdone = step(pr->c);
        bench_clock_charge(&k, SIDE_CLIENT);
        bench_side = SIDE_SERVER;
        sdone = step(pr->s);
        bench_clock_charge(&k, SIDE_SERVER);
        bench_side = SIDE_NONE;
        if (cdone < 0 || sdone < 0)
            break;
    }
    if (cdone != 1 || sdone != 1) {
        ssl_error(err, errlen,
                  cdone < 0   ? "client handshake"
                  : sdone < 0 ? "server handshake"
                              : "handshake stalled");
        ossl_pair_free(pr, ignore);
        return NULL;
    }
    /* TLS 1.3 NewSessionTickets arrive after the handshake: read them now. */
    if (BIO_ctrl_pending(pr->cbio) > 0) {
        unsigned char b[256];
        bench_side = SIDE_CLIENT;
        int r = SSL_read(pr->c, b, sizeof b);
        int e = r > 0 ? SSL_ERROR_NONE : SSL_get_error(pr->c, r);
        bench_clock_charge(&k, SIDE_CLIENT);
        bench_side = SIDE_NONE;
        if (r > 0 || e != SSL_ERROR_WANT_READ) {
            ssl_error(err, errlen, "reading the tickets");
            ossl_pair_free(pr, ignore);
            return NULL;
        }
    }
    if (x->res != RES_NONE) {
        bench_side = SIDE_CLIENT;
        SSL_SESSION_free(x->sess);
        x->sess = SSL_get1_session(pr->c);
        bench_clock_charge(&k, SIDE_CLIENT);
        bench_side = SIDE_NONE;
    }
    return pr;
}

static void ossl_pair_neg(void *v, bench_neg *neg)
{
    ossl_pair *pr = v;
    int type = 0, hash = 0;
    const SSL_CIPHER *c = SSL_get_current_cipher(pr->c);
    neg->version = (uint16_t)SSL_version(pr->c);
    neg->suite = c ? (uint16_t)SSL_CIPHER_get_protocol_id(c) : 0;
    neg->group = group_from_nid(SSL_get_negotiated_group(pr->c));
    neg->sig_scheme = 0;
    if (SSL_get_peer_signature_type_nid(pr->c, &type) && SSL_get_peer_signature_nid(pr->c, &hash))
        neg->sig_scheme = sig_scheme_from_nids(type, hash);
    neg->resumed = SSL_session_reused(pr->c) && SSL_session_reused(pr->s);
}

static bool ossl_transfer(void *v, uint64_t bytes, double t[SIDE_COUNT], char *err, size_t errlen)
{
    ossl_pair *pr = v;
    static unsigned char src[RECORD], dst[64 * 1024];
    bench_clock k;

    for (size_t i = 0; i < sizeof src; i++)
        src[i] = (unsigned char)(i * 31 + 7);
    bench_clock_start(&k, t);
    while (bytes > 0) {
        uint64_t records = (bytes + RECORD - 1) / RECORD;
        if (records > PHASE_RECORDS)
            records = PHASE_RECORDS;
        uint64_t phase = records * RECORD < bytes ? records * RECORD : bytes, sent = 0, got = 0;

        bench_side = SIDE_SERVER;
        k.last = bench_cpu();
        while (sent < phase) {
            int want = phase - sent < RECORD ? (int)(phase - sent) : RECORD;
            int r = SSL_write(pr->s, src, want);
            if (r <= 0) {
                bench_side = SIDE_NONE;
                ssl_error(err, errlen, "SSL_write");
                return false;
            }
            sent += (uint64_t)r;
        }
        bench_clock_charge(&k, SIDE_SERVER);

        bench_side = SIDE_CLIENT;
        while (got < sent) {
            int r = SSL_read(pr->c, dst, sizeof dst);
            if (r <= 0) {
                bench_side = SIDE_NONE;
                ssl_error(err, errlen, "SSL_read");
                return false;
            }
            got += (uint64_t)r;
        }
        bench_clock_charge(&k, SIDE_CLIENT);
        bench_side = SIDE_NONE;
        bytes -= phase;
    }
    return true;
}

const bench_impl bench_openssl = {
    .name = "OpenSSL",
    .ctx_new = ossl_ctx_new,
    .ctx_free = ossl_ctx_free,
    .pair_new = ossl_pair_new,
    .pair_neg = ossl_pair_neg,
    .pair_free = ossl_pair_free,
    .transfer = ossl_transfer,
};
