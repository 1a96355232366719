/*
 * test_ticket.c — TLS 1.3 session tickets: the ticketer (tls/ticket.c) on its own, then
 * resumption end to end (tls/hs/tls13_server.c) through the in-memory test client, which
 * keeps the NewSessionTickets it receives and offers one back (RFC 8446 §2.2, §4.2.11,
 * §4.6.1).
 *
 * The ticketer's clock is replaced by fake_clock where a test needs time to pass; each
 * test runs forked, so the static fake time is per test.
 */
#include "tests/lib/testclient.h"
#include "tests/lib/unit.h"
#include "tls/internal.h"
#include "tls/ticket.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define CERTS "tests/certs/"
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* Fleet key file keys (as `openssl rand -hex 32` prints them). */
#define K1 "000102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f"
#define K2 "404142434445464748494a4b4c4d4e4f505152535455565758595a5b5c5d5e5f"
#define K3 "a0a1a2a3a4a5a6a7a8a9aaabacadaeafb0b1b2b3b4b5b6b7b8b9babbbcbdbebf"

static int64_t fake_now = 1000000;

static int64_t fake_clock(void)
{
    return fake_now;
}

/* ---- the ticketer -------------------------------------------------------------------------- */

static tls_ticket_state sample_state(void)
{
    tls_ticket_state st;
    memset(&st, 0, sizeof st);
    st.version = TLS_VERSION_1_3;
    st.suite = TLS_AES_128_GCM_SHA256;
    st.psk_len = 32;
    for (size_t i = 0; i < st.psk_len; i++)
        st.psk[i] = (uint8_t)(i * 7 + 1);
    st.age_add = 0xdeadbeef;
    st.lifetime = 7200;
    strcpy(st.sni, "www.example.com");
    st.alpn[0] = 2;
    memcpy(st.alpn + 1, "h2", 2);
    st.max_early_data = 16384;
    return st;
}

/* A TLS 1.2 state: the 48-byte master secret, extended (RFC 7627). */
static tls_ticket_state sample_state12(void)
{
    tls_ticket_state st = sample_state();
    st.version = TLS_VERSION_1_2;
    st.suite = TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384;
    st.psk_len = 48;
    for (size_t i = 0; i < st.psk_len; i++)
        st.psk[i] = (uint8_t)(0xff - i);
    st.ems = true;
    st.max_early_data = 0;
    st.alpn[0] = 0;
    return st;
}

static void assert_same_state(const tls_ticket_state *got, const tls_ticket_state *want)
{
    ck_assert_uint_eq(got->version, want->version);
    ck_assert_uint_eq(got->suite, want->suite);
    ck_assert_uint_eq(got->psk_len, want->psk_len);
    ck_assert(!memcmp(got->psk, want->psk, want->psk_len));
    ck_assert_int_eq(got->ems, want->ems);
    ck_assert_int_eq(got->issued, want->issued);
    ck_assert_uint_eq(got->age_add, want->age_add);
    ck_assert_uint_eq(got->lifetime, want->lifetime);
    ck_assert_uint_eq(got->max_early_data, want->max_early_data);
    ck_assert_str_eq(got->sni, want->sni);
    ck_assert_uint_eq(got->alpn[0], want->alpn[0]);
    ck_assert(!memcmp(got->alpn, want->alpn, (size_t)want->alpn[0] + 1));
    ck_assert_uint_eq(got->client_chain_len, want->client_chain_len);
    ck_assert(!memcmp(got->client_chain, want->client_chain, want->client_chain_len));
}

static tls_ticketer *load_text(const char *text);

static tls_ticketer *ticketer(unsigned rotate_s)
{
    tls_ticketer *t = NULL;
    ck_assert_int_eq(tls__ticketer_new(rotate_s, fake_clock, &t), TLS_OK);
    return t;
}

static size_t seal(tls_ticketer *t, uint8_t *out)
{
    tls_ticket_state st = sample_state();
    size_t len = 0;
    ck_assert_int_eq(tls__ticketer_seal(t, &st, out, TLS_TICKET_MAX_LEN, &len), TLS_OK);
    ck_assert_int_eq(st.issued, fake_now);
    return len;
}

START_TEST(test_ticketer_round_trip)
{
    tls_ticketer *t = ticketer(3600);
    uint8_t ticket[TLS_TICKET_MAX_LEN], ticket2[TLS_TICKET_MAX_LEN];
    tls_ticket_state want = sample_state(), got;
    size_t len = seal(t, ticket), len2 = seal(t, ticket2);

    ck_assert_uint_eq(len, len2);
    /* Random nonces: the same state never seals to the same bytes. */
    ck_assert(memcmp(ticket, ticket2, len) != 0);
    ck_assert_int_eq(tls__ticketer_open(t, ticket, len, &got), TLS_OK);
    want.issued = fake_now;
    assert_same_state(&got, &want);
    tls_ticketer_unref(t);
}
END_TEST

/* Every field survives, at values that tell them apart, in both versions. */
START_TEST(test_ticketer_round_trip_new_fields)
{
    tls_ticketer *t = ticketer(3600);
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    tls_ticket_state states[4] = {sample_state(), sample_state(), sample_state12(),
                                  sample_state12()};
    states[1].ems = true; /* means nothing in 1.3, but must not be lost */
    states[1].max_early_data = 0xfedcba98;
    states[3].ems = false;
    states[3].sni[0] = '\0';
    memset(states[3].alpn, 0, sizeof states[3].alpn);
    for (size_t i = 0; i < COUNT(states); i++) {
        tls_ticket_state st = states[i], got;
        size_t len = 0;
        fake_now = 1000000 + (int64_t)i * 0x100000000; /* issued needs its high half */
        ck_assert_int_eq(tls__ticketer_seal(t, &st, ticket, sizeof ticket, &len), TLS_OK);
        ck_assert_int_eq(st.issued, fake_now);
        ck_assert_int_eq(tls__ticketer_open(t, ticket, len, &got), TLS_OK);
        assert_same_state(&got, &st);
    }
    tls_ticketer_unref(t);
}
END_TEST

/* The longest state fits TLS_TICKET_MAX_LEN exactly: the header's list is the format. */
START_TEST(test_ticketer_seal_max_len)
{
    tls_ticketer *t = ticketer(3600);
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    tls_ticket_state st = sample_state(), got;
    size_t len = 0;
    st.psk_len = TLS_MAX_HASH_LEN;
    memset(st.sni, 'a', 255);
    st.sni[255] = '\0';
    st.alpn[0] = 255;
    memset(st.alpn + 1, 'b', 255);
    /* One client certificate filling the chain (u24 length, then its bytes). */
    st.client_chain_len = TLS_TICKET_MAX_CLIENT_CHAIN;
    memset(st.client_chain, 'c', sizeof st.client_chain);
    st.client_chain[0] = 0;
    st.client_chain[1] = (uint8_t)((TLS_TICKET_MAX_CLIENT_CHAIN - 3) >> 8);
    st.client_chain[2] = (uint8_t)(TLS_TICKET_MAX_CLIENT_CHAIN - 3);
    ck_assert_int_eq(tls__ticketer_seal(t, &st, ticket, sizeof ticket, &len), TLS_OK);
    ck_assert_uint_eq(len, TLS_TICKET_MAX_LEN);
    ck_assert_int_eq(tls__ticketer_open(t, ticket, len, &got), TLS_OK);
    assert_same_state(&got, &st);
    ck_assert_int_eq(tls__ticketer_seal(t, &st, ticket, TLS_TICKET_MAX_LEN - 1, &len),
                     TLS_ERR_INTERNAL);
    tls_ticketer_unref(t);
}
END_TEST

START_TEST(test_ticketer_seal_bad_state)
{
    tls_ticketer *t = ticketer(3600);
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    size_t len = 1;
    tls_ticket_state st;

    static const uint16_t bad_versions[] = {0, TLS_VERSION_1_1, 0x0305, 0x7f1c};
    for (size_t i = 0; i < COUNT(bad_versions); i++) {
        st = sample_state();
        st.version = bad_versions[i];
        ck_assert_int_eq(tls__ticketer_seal(t, &st, ticket, sizeof ticket, &len),
                         TLS_ERR_INTERNAL);
        ck_assert_uint_eq(len, 0);
    }
    st = sample_state();
    st.psk_len = 0;
    ck_assert_int_eq(tls__ticketer_seal(t, &st, ticket, sizeof ticket, &len), TLS_ERR_INTERNAL);
    st.psk_len = TLS_MAX_HASH_LEN + 1;
    ck_assert_int_eq(tls__ticketer_seal(t, &st, ticket, sizeof ticket, &len), TLS_ERR_INTERNAL);
    st = sample_state12();
    st.psk_len = 32; /* a TLS 1.2 master secret is 48 bytes */
    ck_assert_int_eq(tls__ticketer_seal(t, &st, ticket, sizeof ticket, &len), TLS_ERR_INTERNAL);
    st.psk_len = 48;
    ck_assert_int_eq(tls__ticketer_seal(t, &st, ticket, sizeof ticket, &len), TLS_OK);
    tls_ticketer_unref(t);
}
END_TEST

START_TEST(test_ticketer_new_public)
{
    tls_ticketer *t = NULL, *bad = (tls_ticketer *)&t;
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    tls_ticket_state st = sample_state(), got;
    size_t len = 0;

    ck_assert_int_eq(tls_ticketer_new(3600, &t), TLS_OK);
    ck_assert_int_eq(tls__ticketer_seal(t, &st, ticket, sizeof ticket, &len), TLS_OK);
    ck_assert_int_eq(tls__ticketer_open(t, ticket, len, &got), TLS_OK);
    ck_assert_str_eq(got.sni, st.sni);
    /* References: the ticketer lives until the last one goes. */
    ck_assert_ptr_eq(tls_ticketer_ref(t), t);
    tls_ticketer_unref(t);
    ck_assert_int_eq(tls__ticketer_open(t, ticket, len, &got), TLS_OK);
    tls_ticketer_unref(t);
    tls_ticketer_unref(NULL);
    ck_assert_int_ne(tls_ticketer_new(0, &bad), TLS_OK);
    ck_assert_ptr_null(bad);
}
END_TEST

START_TEST(test_ticketer_wrong_key)
{
    tls_ticketer *a = ticketer(3600), *b = ticketer(3600);
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    tls_ticket_state got;
    size_t len = seal(a, ticket);

    ck_assert_int_eq(tls__ticketer_open(b, ticket, len, &got), TLS_ERR_DECRYPT);
    /* Even under b's key id, a's ciphertext does not open. */
    uint8_t other[TLS_TICKET_MAX_LEN];
    seal(b, other);
    memcpy(ticket, other, 4);
    ck_assert_int_eq(tls__ticketer_open(b, ticket, len, &got), TLS_ERR_DECRYPT);
    tls_ticketer_unref(a);
    tls_ticketer_unref(b);
}
END_TEST

START_TEST(test_ticketer_tampered)
{
    tls_ticketer *t = ticketer(3600);
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    tls_ticket_state got;
    size_t len = seal(t, ticket);

    /* Every byte is covered: key id, nonce, ciphertext, tag. */
    for (size_t i = 0; i < len; i++) {
        ticket[i] ^= 0x20;
        ck_assert_msg(tls__ticketer_open(t, ticket, len, &got) == TLS_ERR_DECRYPT, "byte %zu",
                      i);
        ticket[i] ^= 0x20;
    }
    ck_assert_int_eq(tls__ticketer_open(t, ticket, len - 1, &got), TLS_ERR_DECRYPT);
    ck_assert_int_eq(tls__ticketer_open(t, ticket, 10, &got), TLS_ERR_DECRYPT);
    ck_assert_int_eq(tls__ticketer_open(t, ticket, 0, &got), TLS_ERR_DECRYPT);
    ck_assert_int_eq(tls__ticketer_open(t, ticket, len, &got), TLS_OK);
    tls_ticketer_unref(t);
}
END_TEST

START_TEST(test_ticketer_rotation)
{
    tls_ticketer *t = ticketer(100);
    uint8_t old[TLS_TICKET_MAX_LEN], mid[TLS_TICKET_MAX_LEN];
    tls_ticket_state got;

    size_t old_len = seal(t, old); /* period 0 */
    fake_now += 99;
    ck_assert_int_eq(tls__ticketer_open(t, old, old_len, &got), TLS_OK);
    fake_now += 1; /* period 1: one rotation */
    ck_assert_int_eq(tls__ticketer_open(t, old, old_len, &got), TLS_OK);
    size_t mid_len = seal(t, mid);
    ck_assert(memcmp(old, mid, 4) != 0); /* sealed under the new key */
    fake_now += 100; /* period 2: two rotations for `old`, one for `mid` */
    ck_assert_int_eq(tls__ticketer_open(t, old, old_len, &got), TLS_ERR_DECRYPT);
    ck_assert_int_eq(tls__ticketer_open(t, mid, mid_len, &got), TLS_OK);
    fake_now += 250; /* periods skipped: every key is gone */
    ck_assert_int_eq(tls__ticketer_open(t, mid, mid_len, &got), TLS_ERR_DECRYPT);
    /* A clock that steps back changes nothing. */
    size_t len = seal(t, mid);
    fake_now -= 1000;
    ck_assert_int_eq(tls__ticketer_open(t, mid, len, &got), TLS_OK);
    tls_ticketer_unref(t);
}
END_TEST

START_TEST(test_ticketer_config_params)
{
    tls_certified_key *ck = NULL;
    tls_server_config *cfg = NULL;
    tls_server_config_params p;
    char err[256] = "";

    ck_assert_int_eq(tls_certified_key_load(CERTS "ecdsa-p256/end.fullchain",
                                            CERTS "ecdsa-p256/end.key", &ck, err, sizeof err),
                     TLS_OK);
    memset(&p, 0, sizeof p);
    p.certs = &ck;
    p.n_certs = 1;
    ck_assert_int_eq(tls_server_config_new(&p, &cfg, err, sizeof err), TLS_OK);
    ck_assert_ptr_null(cfg->ticketer);
    tls_server_config_unref(cfg);
    p.tickets = true;
    ck_assert_int_eq(tls_server_config_new(&p, &cfg, err, sizeof err), TLS_OK);
    ck_assert_ptr_nonnull(cfg->ticketer);
    ck_assert_uint_eq(cfg->ticket_lifetime_s, 7200);
    ck_assert_uint_eq(cfg->n_tickets, 2);
    tls_server_config_unref(cfg);
    p.ticket_lifetime_s = 604801;
    ck_assert_int_eq(tls_server_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);
    p.ticket_lifetime_s = 604800;
    p.n_tickets = 9;
    ck_assert_int_eq(tls_server_config_new(&p, &cfg, err, sizeof err), TLS_ERR_CONFIG);

    /* A ticketer of our own turns tickets on by itself, with the same defaults and
     * limits, and is referenced, not made. */
    tls_ticketer *tk = load_text(K1 "\n");
    memset(&p, 0, sizeof p);
    p.certs = &ck;
    p.n_certs = 1;
    p.ticketer = tk;
    ck_assert_int_eq(tls_server_config_new(&p, &cfg, err, sizeof err), TLS_OK);
    ck_assert_ptr_eq(cfg->ticketer, tk);
    ck_assert_uint_eq(cfg->ticket_lifetime_s, 7200);
    ck_assert_uint_eq(cfg->n_tickets, 2);
    tls_server_config *cfg2 = NULL;
    p.tickets = true; /* both: the given ticketer wins */
    p.ticket_lifetime_s = 600;
    p.n_tickets = 1;
    ck_assert_int_eq(tls_server_config_new(&p, &cfg2, err, sizeof err), TLS_OK);
    ck_assert_ptr_eq(cfg2->ticketer, tk);
    ck_assert_uint_eq(cfg2->ticket_lifetime_s, 600);
    ck_assert_uint_eq(cfg2->n_tickets, 1);
    tls_server_config *refused = NULL;
    p.ticket_lifetime_s = 604801;
    ck_assert_int_eq(tls_server_config_new(&p, &refused, err, sizeof err), TLS_ERR_CONFIG);
    p.ticket_lifetime_s = 0;
    p.n_tickets = 9;
    ck_assert_int_eq(tls_server_config_new(&p, &refused, err, sizeof err), TLS_ERR_CONFIG);
    ck_assert_ptr_null(refused);
    /* The configs keep it alive after ours is gone, and the last one frees it. */
    tls_ticketer_unref(tk);
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    tls_ticket_state got;
    size_t len = seal(cfg->ticketer, ticket);
    tls_server_config_unref(cfg);
    ck_assert_int_eq(tls__ticketer_open(cfg2->ticketer, ticket, len, &got), TLS_OK);
    tls_server_config_unref(cfg2);
    tls_certified_key_unref(ck);
}
END_TEST

/* ---- key files ----------------------------------------------------------------------------- */

/* Writes `text` (len bytes) to a fresh temporary file of the given mode; path gets its
 * name (at least 64 bytes). */
static void write_file(char *path, const char *text, size_t len, mode_t mode)
{
    strcpy(path, "/tmp/moat-ticketkeys-XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, text, len), (ssize_t)len);
    ck_assert_int_eq(fchmod(fd, mode), 0);
    ck_assert_int_eq(close(fd), 0);
}

static tls_ticketer *load_text(const char *text)
{
    char path[64], err[512] = "";
    tls_ticketer *t = NULL;
    write_file(path, text, strlen(text), 0600);
    tls_error e = tls_ticketer_load(path, &t, err, sizeof err);
    unlink(path);
    ck_assert_msg(e == TLS_OK, "%s: %s", tls_error_name(e), err);
    ck_assert_ptr_nonnull(t);
    tls__ticketer_set_clock(t, fake_clock);
    return t;
}

/* Does a ticket sealed by `from` open in `to`? */
static bool opens_in(tls_ticketer *from, tls_ticketer *to)
{
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    tls_ticket_state got;
    size_t len = seal(from, ticket);
    tls_error e = tls__ticketer_open(to, ticket, len, &got);
    ck_assert(e == TLS_OK || e == TLS_ERR_DECRYPT);
    if (e == TLS_OK)
        ck_assert(!memcmp(got.psk, sample_state().psk, got.psk_len));
    return e == TLS_OK;
}

/* Comments, blank lines, surrounding blanks, CRLF, upper case and a last line with no
 * newline are all fine; the first key seals and every key opens. */
START_TEST(test_ticketer_load_comments_and_blanks)
{
    tls_ticketer *f = load_text("# ticket keys for the fleet\n"
                                "\n"
                                "   # indented comment\n"
                                "\t" "000102030405060708090A0B0C0D0E0F101112131415161718191A1B1C1D1E1F"
                                "  \r\n"
                                "\r\n"
                                "#" K3 "\n" /* commented out: not a key */
                                K2);
    tls_ticketer *k1 = load_text(K1 "\n"), *k2 = load_text(K2 "\n"),
                 *k3 = load_text(K3 "\n");
    ck_assert(opens_in(f, k1)); /* the first key seals */
    ck_assert(!opens_in(f, k2));
    ck_assert(opens_in(k1, f));
    ck_assert(opens_in(k2, f)); /* the second opens */
    ck_assert(!opens_in(k3, f));
    ck_assert(opens_in(f, f));
    tls_ticketer_unref(f);
    tls_ticketer_unref(k1);
    tls_ticketer_unref(k2);
    tls_ticketer_unref(k3);
}
END_TEST

/* Two instances of a fleet load one file: each opens the other's tickets, also after
 * the keys were rotated (new key first) on one of them, but a stranger's key opens
 * nothing. */
START_TEST(test_ticketer_load_fleet)
{
    tls_ticketer *a = load_text(K1 "\n" K2 "\n"), *a2 = load_text(K1 "\n" K2 "\n");
    tls_ticketer *rotated = load_text(K2 "\n" K1 "\n"), *stranger = load_text(K3 "\n");
    uint8_t t1[TLS_TICKET_MAX_LEN], t2[TLS_TICKET_MAX_LEN];

    ck_assert(opens_in(a, a2));
    ck_assert(opens_in(a2, a));
    ck_assert(opens_in(a, rotated));
    ck_assert(opens_in(rotated, a));
    ck_assert(!opens_in(a, stranger));
    ck_assert(!opens_in(stranger, a));
    ck_assert(!opens_in(rotated, stranger));
    /* Same key, same id, in every process; another key, another id. */
    seal(a, t1);
    seal(a2, t2);
    ck_assert(!memcmp(t1, t2, 4));
    ck_assert(memcmp(t1 + 4, t2 + 4, 12) != 0); /* nonces still random */
    seal(rotated, t2);
    ck_assert(memcmp(t1, t2, 4) != 0);
    tls_ticketer_unref(a);
    tls_ticketer_unref(a2);
    tls_ticketer_unref(rotated);
    tls_ticketer_unref(stranger);
}
END_TEST

/* The key id and the AEAD key are HKDF-SHA256 outputs of the file key under fixed
 * labels (ticket.c's notes). Pinned here because every member of a fleet, of any
 * version, must derive the same ones; and the id is not the key's first bytes. */
static void derive(const char *hex, uint8_t id[4], tls_aead **aead)
{
    static const char salt[] = "moat ticket key v1", id_label[] = "moat ticket key id",
                      aead_label[] = "moat ticket aead key";
    uint8_t key[32], prk[32], aead_key[32];
    for (size_t i = 0; i < 32; i++) {
        unsigned v;
        ck_assert_int_eq(sscanf(hex + 2 * i, "%2x", &v), 1);
        key[i] = (uint8_t)v;
    }
    ck_assert_int_eq(tls__hkdf_extract(TLS_HASH_SHA256, (const uint8_t *)salt, sizeof salt - 1,
                                       key, sizeof key, prk),
                     TLS_OK);
    ck_assert_int_eq(tls__hkdf_expand(TLS_HASH_SHA256, prk, sizeof prk,
                                      (const uint8_t *)id_label, sizeof id_label - 1, id, 4),
                     TLS_OK);
    ck_assert_int_eq(tls__hkdf_expand(TLS_HASH_SHA256, prk, sizeof prk,
                                      (const uint8_t *)aead_label, sizeof aead_label - 1,
                                      aead_key, sizeof aead_key),
                     TLS_OK);
    ck_assert_int_eq(tls__aead_new(TLS_AEAD_AES_256_GCM, aead_key, sizeof aead_key, aead),
                     TLS_OK);
    ck_assert(memcmp(id, key, 4) != 0);
}

/* A ticket under K1 with a hand-made plaintext (ticket.c's format 4; format 3 lacks
 * the client chain). */
typedef struct {
    uint8_t format;
    uint16_t version;
    size_t psk_len;
    uint8_t ems;
    const char *sni;
    size_t sni_len;
    bool trailing; /* one byte too many */
} plain_spec;

static size_t seal_by_hand(const plain_spec *ps, uint8_t *out)
{
    uint8_t plain[TLS_TICKET_MAX_LEN], psk[TLS_MAX_HASH_LEN] = {1};
    tls_aead *aead = NULL;
    tls_writer w;

    derive(K1, out, &aead);
    tls_writer_init(&w, plain, sizeof plain);
    tls_write_u8(&w, ps->format);
    tls_write_u16(&w, ps->version);
    tls_write_u16(&w, TLS_AES_128_GCM_SHA256);
    tls_write_vec8(&w, psk, ps->psk_len);
    tls_write_u8(&w, ps->ems);
    tls_write_u32(&w, 0);
    tls_write_u32(&w, (uint32_t)fake_now); /* issued */
    tls_write_u32(&w, 0);
    tls_write_u32(&w, (uint32_t)fake_now); /* origin */
    tls_write_u32(&w, 7);    /* age_add */
    tls_write_u32(&w, 7200); /* lifetime */
    tls_write_u32(&w, 1024); /* max_early_data */
    tls_write_vec8(&w, (const uint8_t *)ps->sni, ps->sni_len);
    tls_write_vec8(&w, (const uint8_t *)"h2", 2);
    if (ps->format >= 4)
        tls_write_u16(&w, 0); /* no client chain */
    if (ps->trailing)
        tls_write_u8(&w, 0);
    ck_assert(tls_writer_ok(&w));
    memset(out + 4, 0x5a, 12);
    ck_assert_int_eq(tls__aead_seal(aead, out + 4, out, 4, plain, w.len, out + 16), TLS_OK);
    tls__aead_free(aead);
    return 16 + w.len + 16;
}

START_TEST(test_ticketer_load_derivation_pinned)
{
    tls_ticketer *t = load_text(K1 "\n");
    uint8_t ticket[TLS_TICKET_MAX_LEN], id[4];
    tls_aead *aead = NULL;
    tls_ticket_state got;

    seal(t, ticket);
    derive(K1, id, &aead);
    tls__aead_free(aead);
    ck_assert(!memcmp(ticket, id, 4));
    /* And the AEAD key: a ticket made by hand opens, every field where it was put. */
    plain_spec ok = {4, TLS_VERSION_1_3, 32, 0, "example.org", 11, false};
    size_t len = seal_by_hand(&ok, ticket);
    ck_assert_int_eq(tls__ticketer_open(t, ticket, len, &got), TLS_OK);
    ck_assert_uint_eq(got.version, TLS_VERSION_1_3);
    ck_assert_uint_eq(got.suite, TLS_AES_128_GCM_SHA256);
    ck_assert_uint_eq(got.psk_len, 32);
    ck_assert_uint_eq(got.psk[0], 1);
    ck_assert(!got.ems);
    ck_assert_int_eq(got.issued, fake_now);
    ck_assert_uint_eq(got.age_add, 7);
    ck_assert_uint_eq(got.lifetime, 7200);
    ck_assert_uint_eq(got.max_early_data, 1024);
    ck_assert_str_eq(got.sni, "example.org");
    ck_assert(!memcmp(got.alpn, "\x02h2", 3));
    tls_ticketer_unref(t);
}
END_TEST

/* Authentic tickets whose plaintext is wrong do not open (TLS_ERR_DECRYPT, state wiped). */
START_TEST(test_ticketer_open_bad_plaintext)
{
    static const plain_spec bad[] = {
        {1, TLS_VERSION_1_3, 32, 0, "a", 1, false},      /* old formats */
        {2, TLS_VERSION_1_3, 32, 0, "a", 1, false},
        {3, TLS_VERSION_1_3, 32, 0, "a", 1, false},
        {5, TLS_VERSION_1_3, 32, 0, "a", 1, false},      /* a future one */
        {4, TLS_VERSION_1_1, 32, 0, "a", 1, false},      /* neither 1.2 nor 1.3 */
        {4, 0x0305, 32, 0, "a", 1, false},
        {4, 0, 32, 0, "a", 1, false},
        {4, TLS_VERSION_1_3, 0, 0, "a", 1, false},       /* no psk */
        {4, TLS_VERSION_1_2, 0, 1, "a", 1, false},
        {4, TLS_VERSION_1_2, 32, 1, "a", 1, false},      /* a 1.2 master secret is 48 bytes */
        {4, TLS_VERSION_1_3, 32, 2, "a", 1, false},      /* ems is a boolean */
        {4, TLS_VERSION_1_3, 32, 0, "a\0b", 3, false},   /* a NUL inside the name */
        {4, TLS_VERSION_1_3, 32, 0, "a", 1, true},       /* trailing byte */
    };
    static const plain_spec good[] = {
        {4, TLS_VERSION_1_3, 32, 0, "a", 1, false},
        {4, TLS_VERSION_1_3, 48, 1, "", 0, false},
        {4, TLS_VERSION_1_2, 48, 1, "a", 1, false},
        {4, TLS_VERSION_1_2, 48, 0, "a", 1, false},
    };
    tls_ticketer *t = load_text(K1 "\n");
    uint8_t ticket[TLS_TICKET_MAX_LEN];
    tls_ticket_state got;

    for (size_t i = 0; i < COUNT(good); i++) {
        size_t len = seal_by_hand(&good[i], ticket);
        ck_assert_msg(tls__ticketer_open(t, ticket, len, &got) == TLS_OK, "good %zu", i);
        ck_assert_uint_eq(got.version, good[i].version);
        ck_assert_int_eq(got.ems, good[i].ems);
    }
    for (size_t i = 0; i < COUNT(bad); i++) {
        size_t len = seal_by_hand(&bad[i], ticket);
        memset(&got, 0xaa, sizeof got);
        ck_assert_msg(tls__ticketer_open(t, ticket, len, &got) == TLS_ERR_DECRYPT, "bad %zu",
                      i);
        ck_assert_uint_eq(got.psk_len, 0);
        ck_assert_uint_eq(got.version, 0);
    }
    tls_ticketer_unref(t);
}
END_TEST

/* A file-keyed ticketer never rotates: its tickets open years later (their lifetime is
 * the handshake's business), and it keeps sealing under the first key. */
START_TEST(test_ticketer_load_never_rotates)
{
    tls_ticketer *t = load_text(K1 "\n" K2 "\n"), *k1 = load_text(K1 "\n");
    uint8_t ticket[TLS_TICKET_MAX_LEN], later[TLS_TICKET_MAX_LEN];
    tls_ticket_state got;
    size_t len = seal(t, ticket);

    fake_now += 10 * 365 * 86400;
    ck_assert_int_eq(tls__ticketer_open(t, ticket, len, &got), TLS_OK);
    seal(t, later);
    ck_assert(!memcmp(ticket, later, 4));
    ck_assert(opens_in(t, k1));
    tls_ticketer_unref(t);
    tls_ticketer_unref(k1);
}
END_TEST

/* Loads `text` (len bytes, mode) and expects error `want`, errbuf starting with
 * "PATH:LINE: " (line > 0) or containing PATH (line 0), and containing `needle`. */
static void expect_load_error(const char *text, size_t len, mode_t mode, tls_error want,
                              unsigned line, const char *needle)
{
    char path[64], err[512] = "", prefix[96];
    tls_ticketer *t = (tls_ticketer *)&t;

    write_file(path, text, len, mode);
    tls_error e = tls_ticketer_load(path, &t, err, sizeof err);
    unlink(path);
    ck_assert_msg(e == want, "got %s (%s)", tls_error_name(e), err);
    ck_assert_ptr_null(t);
    if (line) {
        snprintf(prefix, sizeof prefix, "%s:%u: ", path, line);
        ck_assert_msg(!strncmp(err, prefix, strlen(prefix)), "want %s...: %s", prefix, err);
    } else {
        ck_assert_msg(strstr(err, path), "%s", err);
    }
    ck_assert_msg(strstr(err, needle), "want \"%s\": %s", needle, err);
}

#define BAD(text, line, needle)                                                                    \
    expect_load_error(text, sizeof text - 1, 0600, TLS_ERR_TICKET_KEY_PARSE, line, needle)

START_TEST(test_ticketer_load_parse_errors)
{
    BAD("", 1, "no key");
    BAD("# nothing here\n\n   \n# yet\n", 4, "no key");
    BAD("abcd\n", 1, "64 hex digits");
    BAD("# short\n" K1 "0\n", 2, "not 65");
    BAD(K1 "\n" "0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 2,
        "not 62");
    BAD("# z\n" "0001020304050607g8090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 2,
        "'g' (column 17) is not a hex digit");
    BAD("  0x0102030405060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 1,
        "'x' (column 4)");
    BAD(K1 " # the first key\n", 1, "' ' (column 65) is not a hex digit");
    BAD(K1 " # the first key\n", 1, "comments");
    BAD(K1 "# the first key\n", 1, "'#' (column 65)");
    BAD(K1 "\n" K2 "\n\n" K1 "\n", 4, "the same key as line 1");
    /* Upper and lower case spell the same key. */
    BAD(K3 "\n" "A0A1A2A3A4A5A6A7A8A9AAABACADAEAFB0B1B2B3B4B5B6B7B8B9BABBBCBDBEBF\n", 2,
        "the same key as line 1");
    /* A NUL byte is not the end of the file. */
    BAD(K1 "\n" "00010203\0" "05060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n", 2,
        "byte 0x00 (column 9)");
    BAD(K1 "\n" "0001020304\xc3\xa9" "060708090a0b0c0d0e0f101112131415161718191a1b1c1d1e1f\n",
        2, "byte 0xc3 (column 11)");
}
END_TEST

/* 16 keys load; a 17th is refused on its own line. */
START_TEST(test_ticketer_load_too_many_keys)
{
    char text[17 * 80 + 64] = "# sixteen keys\n";
    size_t len = strlen(text);
    for (unsigned i = 0; i < 17; i++) {
        for (unsigned j = 0; j < 32; j++)
            len += (size_t)snprintf(text + len, sizeof text - len, "%02x", j ? j * 7 : i);
        len += (size_t)snprintf(text + len, sizeof text - len, "\n%s", i == 7 ? "\n" : "");
        if (i == 15) {
            tls_ticketer *t = load_text(text);
            tls_ticketer_unref(t);
        }
    }
    /* Line 1 is the comment, line 10 the blank line after the 8th key. */
    expect_load_error(text, len, 0600, TLS_ERR_TICKET_KEY_PARSE, 19, "more than 16 keys");
}
END_TEST

START_TEST(test_ticketer_load_group_readable)
{
    static const char text[] = K1 "\n";
    static const mode_t refused[] = {0640, 0604, 0644, 0660, 0610, 0601, 0700 | 040};
    for (size_t i = 0; i < COUNT(refused); i++)
        expect_load_error(text, sizeof text - 1, refused[i], TLS_ERR_TICKET_KEY_FILE, 0,
                          "chmod 600");
    expect_load_error(text, sizeof text - 1, 0640, TLS_ERR_TICKET_KEY_FILE, 0, "mode 0640");
    /* The same text is fine once only its owner can read it. */
    static const mode_t accepted[] = {0600, 0400, 0700};
    for (size_t i = 0; i < COUNT(accepted); i++) {
        char path[64], err[256] = "";
        tls_ticketer *t = NULL;
        write_file(path, text, sizeof text - 1, accepted[i]);
        ck_assert_msg(tls_ticketer_load(path, &t, err, sizeof err) == TLS_OK, "%s", err);
        unlink(path);
        tls_ticketer_unref(t);
    }
    /* A bad mode is refused before the text is even read. */
    expect_load_error("junk", 4, 0644, TLS_ERR_TICKET_KEY_FILE, 0, "chmod 600");
}
END_TEST

START_TEST(test_ticketer_load_unreadable)
{
    char err[256] = "", dir[64];
    tls_ticketer *t = (tls_ticketer *)&t;

    ck_assert_int_eq(tls_ticketer_load("/nonexistent/moat/ticket.keys", &t, err, sizeof err),
                     TLS_ERR_TICKET_KEY_FILE);
    ck_assert_ptr_null(t);
    ck_assert_msg(strstr(err, "/nonexistent/moat/ticket.keys"), "%s", err);
    ck_assert_msg(strstr(err, "No such file"), "%s", err);
    strcpy(dir, "/tmp/moat-ticketdir-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    t = (tls_ticketer *)&t;
    ck_assert_int_eq(tls_ticketer_load(dir, &t, err, sizeof err), TLS_ERR_TICKET_KEY_FILE);
    ck_assert_ptr_null(t);
    rmdir(dir);
    /* A file too large to be a key file. */
    size_t big = 70000;
    char *text = malloc(big);
    memset(text, '#', big);
    expect_load_error(text, big, 0600, TLS_ERR_TICKET_KEY_FILE, 0, "too large");
    free(text);
    /* No errbuf at all is fine. */
    ck_assert_int_eq(tls_ticketer_load("/nonexistent", &t, NULL, 0), TLS_ERR_TICKET_KEY_FILE);
}
END_TEST

/* ---- 0-RTT anti-replay ---------------------------------------------------------------------- */

/* Distinct, uniformly spread fingerprints: SHA-256 of (tag, i). */
static void fingerprint(uint8_t fp[32], uint32_t tag, uint32_t i)
{
    uint8_t in[8] = {tag >> 24, tag >> 16, tag >> 8, tag, i >> 24, i >> 16, i >> 8, i};
    tls__hash(TLS_HASH_SHA256, in, sizeof in, fp);
}

START_TEST(test_ticketer_claim_early_once)
{
    tls_ticketer *t = ticketer(3600);
    uint8_t a[32], b[32];
    fingerprint(a, 1, 1);
    fingerprint(b, 1, 2);

    ck_assert(tls__ticketer_claim_early(t, a, fake_now + 100));
    ck_assert(!tls__ticketer_claim_early(t, a, fake_now + 100));
    ck_assert(!tls__ticketer_claim_early(t, a, fake_now + 5000)); /* whatever it says */
    ck_assert(tls__ticketer_claim_early(t, b, fake_now + 100));
    ck_assert(!tls__ticketer_claim_early(t, b, fake_now + 100));
    fake_now += 99;
    ck_assert(!tls__ticketer_claim_early(t, a, fake_now + 100));
    fake_now += 1; /* a's record expired with its ticket */
    ck_assert(tls__ticketer_claim_early(t, a, fake_now + 100));
    ck_assert(!tls__ticketer_claim_early(t, a, fake_now + 100));
    /* A ticket already expired gets no early data. */
    uint8_t c[32];
    fingerprint(c, 1, 3);
    ck_assert(!tls__ticketer_claim_early(t, c, fake_now));
    ck_assert(!tls__ticketer_claim_early(t, c, fake_now - 1));
    ck_assert(tls__ticketer_claim_early(t, c, fake_now + 1));
    tls_ticketer_unref(t);
}
END_TEST

/* Fingerprints that share a bucket (same leading bytes) are still told apart, and an
 * expired one ahead of a live one in a chain does not hide it. */
START_TEST(test_ticketer_claim_early_same_bucket)
{
    tls_ticketer *t = ticketer(3600);
    uint8_t fp[6][32];
    for (int i = 0; i < 6; i++) {
        memset(fp[i], 0x42, 32);
        fp[i][31] = (uint8_t)i;
    }
    fp[5][0] = 0x43; /* another bucket */
    ck_assert(tls__ticketer_claim_early(t, fp[0], fake_now + 200));
    ck_assert(tls__ticketer_claim_early(t, fp[1], fake_now + 10));
    ck_assert(tls__ticketer_claim_early(t, fp[2], fake_now + 10));
    ck_assert(tls__ticketer_claim_early(t, fp[3], fake_now + 200));
    ck_assert(tls__ticketer_claim_early(t, fp[5], fake_now + 10));
    for (int i = 0; i < 6; i++)
        if (i != 4)
            ck_assert(!tls__ticketer_claim_early(t, fp[i], fake_now + 200));
    fake_now += 10; /* 1, 2 and 5 expire; 0 and 3 live on either side of them */
    ck_assert(tls__ticketer_claim_early(t, fp[4], fake_now + 200));
    ck_assert(!tls__ticketer_claim_early(t, fp[0], fake_now + 200));
    ck_assert(!tls__ticketer_claim_early(t, fp[3], fake_now + 200));
    ck_assert(!tls__ticketer_claim_early(t, fp[4], fake_now + 200));
    ck_assert(tls__ticketer_claim_early(t, fp[2], fake_now + 200));
    ck_assert(tls__ticketer_claim_early(t, fp[1], fake_now + 200));
    ck_assert(tls__ticketer_claim_early(t, fp[5], fake_now + 200));
    for (int i = 0; i < 6; i++)
        ck_assert(!tls__ticketer_claim_early(t, fp[i], fake_now + 200));
    tls_ticketer_unref(t);
}
END_TEST

/* Full of live records: every new claim fails (never a replay let through); as records
 * expire, exactly that many new claims succeed again. */
START_TEST(test_ticketer_claim_early_full_fails_closed)
{
    enum { N = TLS_TICKET_EARLY_RECORD_SIZE, HALF = N / 2 };
    tls_ticketer *t = ticketer(3600);
    uint8_t fp[32];
    int64_t t0 = fake_now;

    for (uint32_t i = 0; i < N; i++) {
        fingerprint(fp, 2, i);
        ck_assert_msg(tls__ticketer_claim_early(t, fp, t0 + (i < HALF ? 10 : 100)), "%u", i);
    }
    fingerprint(fp, 3, 0);
    ck_assert(!tls__ticketer_claim_early(t, fp, t0 + 100));
    ck_assert(!tls__ticketer_claim_early(t, fp, t0 + 100));
    fingerprint(fp, 2, HALF + 7);
    ck_assert(!tls__ticketer_claim_early(t, fp, t0 + 100));
    fake_now = t0 + 9;
    fingerprint(fp, 3, 0);
    ck_assert(!tls__ticketer_claim_early(t, fp, t0 + 100));

    fake_now = t0 + 10; /* the first half expires */
    fingerprint(fp, 2, HALF + 7);
    ck_assert(!tls__ticketer_claim_early(t, fp, t0 + 100)); /* still live */
    fingerprint(fp, 2, 3);
    ck_assert(tls__ticketer_claim_early(t, fp, t0 + 50)); /* expired: claimable again */
    for (uint32_t i = 1; i < HALF; i++) {
        fingerprint(fp, 3, i);
        ck_assert_msg(tls__ticketer_claim_early(t, fp, t0 + 50), "%u", i);
    }
    fingerprint(fp, 3, HALF);
    ck_assert(!tls__ticketer_claim_early(t, fp, t0 + 50));

    fake_now = t0 + 50; /* the new ones expire, the second half lives on */
    fingerprint(fp, 3, HALF);
    ck_assert(tls__ticketer_claim_early(t, fp, t0 + 200)); /* room again... */
    for (uint32_t i = HALF; i < N; i++) {                  /* ...and nothing forgotten */
        fingerprint(fp, 2, i);
        ck_assert_msg(!tls__ticketer_claim_early(t, fp, t0 + 200), "%u", i);
    }
    fake_now = t0 + 100;
    fingerprint(fp, 2, N - 1);
    ck_assert(tls__ticketer_claim_early(t, fp, t0 + 200));
    tls_ticketer_unref(t);
}
END_TEST

#define RACE_THREADS 4
#define RACE_FPS 3000

static tls_ticketer *race_ticketer;
static atomic_int race_wins[RACE_FPS];

static void *race(void *arg)
{
    unsigned start = (unsigned)(uintptr_t)arg * (RACE_FPS / RACE_THREADS);
    uint8_t fp[32];
    for (unsigned k = 0; k < RACE_FPS; k++) {
        unsigned i = (start + k) % RACE_FPS;
        fingerprint(fp, 4, i);
        if (tls__ticketer_claim_early(race_ticketer, fp, fake_now + 100))
            atomic_fetch_add(&race_wins[i], 1);
    }
    return NULL;
}

/* Workers sharing a ticketer race for the same tickets: each is claimed exactly once. */
START_TEST(test_ticketer_claim_early_threads)
{
    pthread_t th[RACE_THREADS];
    race_ticketer = ticketer(3600);
    for (uintptr_t i = 0; i < RACE_THREADS; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, race, (void *)i), 0);
    for (int i = 0; i < RACE_THREADS; i++)
        ck_assert_int_eq(pthread_join(th[i], NULL), 0);
    for (int i = 0; i < RACE_FPS; i++)
        ck_assert_msg(atomic_load(&race_wins[i]) == 1, "fingerprint %d: %d wins", i,
                      atomic_load(&race_wins[i]));
    tls_ticketer_unref(race_ticketer);
}
END_TEST

static size_t live_bytes;

static void *count_alloc(void *arg, size_t size)
{
    (void)arg;
    live_bytes += size;
    return malloc(size ? size : 1);
}

static void count_free(void *arg, void *p, size_t size)
{
    (void)arg;
    if (p)
        live_bytes -= size;
    free(p);
}

/* The record costs nothing until the first claim, and goes with the ticketer. */
START_TEST(test_ticketer_claim_early_allocated_lazily)
{
    static const tls_allocator counting = {count_alloc, count_free, NULL};
    uint8_t fp[32];
    tls_ticketer *t;

    tls_set_allocator(&counting);
    t = ticketer(3600);
    seal(t, (uint8_t[TLS_TICKET_MAX_LEN]){0});
    size_t before = live_bytes;
    ck_assert_uint_lt(before, 16384);
    fingerprint(fp, 5, 0);
    ck_assert(tls__ticketer_claim_early(t, fp, fake_now + 1));
    ck_assert_uint_ge(live_bytes - before, (size_t)TLS_TICKET_EARLY_RECORD_SIZE * 40);
    size_t after = live_bytes;
    fingerprint(fp, 5, 1);
    ck_assert(tls__ticketer_claim_early(t, fp, fake_now + 1));
    ck_assert_uint_eq(live_bytes, after); /* one table, allocated once */
    tls_ticketer_unref(t);
    ck_assert_uint_eq(live_bytes, 0);
    tls_set_allocator(NULL);
}
END_TEST

/* ---- resumption through the engine ------------------------------------------------------- */

static tls_certified_key *server_ck;

static void load_certs(void)
{
    char err[256] = "";
    tls_error e = tls_certified_key_load(CERTS "ecdsa-p256/end.fullchain",
                                         CERTS "ecdsa-p256/end.key", &server_ck, err, sizeof err);
    if (e != TLS_OK) {
        fprintf(stderr, "loading: %s (%s)\n", tls_error_name(e), err);
        abort();
    }
}

static void free_certs(void)
{
    tls_certified_key_unref(server_ck);
    server_ck = NULL;
}

static tls_server_config *make_config(bool tickets, const uint16_t *groups, size_t n_groups)
{
    tls_server_config_params p;
    tls_server_config *cfg = NULL;
    char err[256] = "";
    memset(&p, 0, sizeof p);
    p.certs = &server_ck;
    p.n_certs = 1;
    p.tickets = tickets;
    p.groups = groups;
    p.n_groups = n_groups;
    tls_error e = tls_server_config_new(&p, &cfg, err, sizeof err);
    ck_assert_msg(e == TLS_OK, "config: %s (%s)", tls_error_name(e), err);
    return cfg;
}

/* One connection of `cfg` with a client of `opts`: the client (for its tickets and what
 * it saw) and the server's result; *server gets the connection (freed by the caller). */
static tc_client *connect_once(tls_server_config *cfg, const tc_options *opts, tls_conn **server,
                               tls_error *err)
{
    ck_assert_int_eq(tls_server_conn_new(cfg, server), TLS_OK);
    tc_client *c = tc_client_new(opts);
    tc_start(c);
    *err = tc_pump(c, *server, 0);
    return c;
}

/* A full handshake under `opts`; the client must hold n_tickets tickets. */
static tc_client *full_handshake(tls_server_config *cfg, const tc_options *opts,
                                 unsigned n_tickets)
{
    tls_conn *s;
    tls_error err;
    tc_client *c = connect_once(cfg, opts, &s, &err);
    ck_assert_msg(err == TLS_OK, "server: %s", tls_error_name(err));
    ck_assert_msg(!c->failed, "client: %s", c->error);
    ck_assert_int_eq(c->state, TC_STATE_CONNECTED);
    ck_assert(!tls_conn_resumed(s));
    ck_assert(!c->psk_accepted);
    ck_assert_uint_gt(c->n_certs, 0);
    ck_assert_uint_eq(c->n_tickets, n_tickets);
    for (unsigned i = 0; i < n_tickets && i < TC_MAX_TICKETS; i++) {
        ck_assert_uint_eq(c->tickets[i].lifetime, cfg->ticket_lifetime_s);
        ck_assert_uint_gt(c->tickets[i].ticket_len, 0);
    }
    tls_conn_free(s);
    return c;
}

/* Resumes with `ticket` under `opts`: asserts whether the server resumed. */
static tc_client *resume(tls_server_config *cfg, tc_options opts, const tc_ticket *ticket,
                         bool want_resumed)
{
    tls_conn *s;
    tls_error err;
    opts.resume = ticket;
    tc_client *c = connect_once(cfg, &opts, &s, &err);
    ck_assert_msg(err == TLS_OK, "server: %s", tls_error_name(err));
    ck_assert_msg(!c->failed, "client: %s", c->error);
    ck_assert_int_eq(c->state, TC_STATE_CONNECTED);
    ck_assert_int_eq(tls_conn_resumed(s), want_resumed);
    ck_assert_int_eq(c->psk_accepted, want_resumed);
    /* §2.2: a resumed handshake sends no Certificate (nor CertificateVerify). */
    if (want_resumed) {
        ck_assert_uint_eq(c->n_certs, 0);
        ck_assert_uint_eq(tls_conn_sig_scheme(s), 0);
    } else {
        ck_assert_uint_gt(c->n_certs, 0);
    }
    /* Application data flows both ways under the resumed keys. */
    uint8_t buf[16];
    size_t n = 0;
    tc_write(c, (const uint8_t *)"ping", 4);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_OK);
    ck_assert_int_eq(tls_conn_read(s, buf, sizeof buf, &n), TLS_OK);
    ck_assert_uint_eq(n, 4);
    ck_assert(!memcmp(buf, "ping", 4));
    ck_assert_int_eq(tls_conn_write(s, (const uint8_t *)"pong", 4, &n), TLS_OK);
    ck_assert_int_eq(tc_pump(c, s, 0), TLS_OK);
    ck_assert_uint_eq(tc_read(c, buf, sizeof buf), 4);
    ck_assert(!memcmp(buf, "pong", 4));
    tls_conn_free(s);
    return c;
}

START_TEST(test_resume_basic)
{
    tls_server_config *cfg = make_config(true, NULL, 0);
    tc_options o = {.sni = "localhost", .psk_dhe_ke = true};
    tc_client *first = full_handshake(cfg, &o, 2);
    ck_assert_uint_eq(first->tickets[0].lifetime, 7200);
    /* Two tickets, each with its own PSK. */
    ck_assert(memcmp(first->tickets[0].psk, first->tickets[1].psk, first->tickets[0].psk_len));
    for (int i = 0; i < 2; i++) {
        tc_client *again = resume(cfg, o, &first->tickets[i], true);
        /* A resumed session gets fresh tickets too, which resume in turn. */
        ck_assert_uint_eq(again->n_tickets, 2);
        tc_client *third = resume(cfg, o, &again->tickets[0], true);
        tc_client_free(third);
        tc_client_free(again);
    }
    tc_client_free(first);
    tls_server_config_unref(cfg);
}
END_TEST

START_TEST(test_resume_all_suites)
{
    static const uint16_t suites[] = {TLS_AES_128_GCM_SHA256, TLS_AES_256_GCM_SHA384,
                                      TLS_CHACHA20_POLY1305_SHA256};
    tls_server_config *cfg = make_config(true, NULL, 0);
    for (size_t i = 0; i < COUNT(suites); i++) {
        tc_options o = {.suites = &suites[i], .n_suites = 1, .psk_dhe_ke = true};
        tc_client *first = full_handshake(cfg, &o, 2);
        tc_client_free(resume(cfg, o, &first->tickets[0], true));
        tc_client_free(first);
    }
    tls_server_config_unref(cfg);
}
END_TEST

START_TEST(test_resume_bad_binder_is_fatal)
{
    tls_server_config *cfg = make_config(true, NULL, 0);
    tc_options o = {.sni = "localhost", .psk_dhe_ke = true};
    tc_client *first = full_handshake(cfg, &o, 2);
    tls_conn *s;
    tls_error err;

    o.resume = &first->tickets[0];
    o.corrupt_binder = true;
    tc_client *c = connect_once(cfg, &o, &s, &err);
    ck_assert_int_eq(err, TLS_ERR_BAD_FINISHED);
    ck_assert_int_eq(tls_conn_error(s), TLS_ERR_BAD_FINISHED);
    ck_assert_int_eq(tc_last_alert(c), TLS_ALERT_DECRYPT_ERROR);
    ck_assert(!tls_conn_resumed(s));
    tls_conn_free(s);
    tc_client_free(c);
    tc_client_free(first);
    tls_server_config_unref(cfg);
}
END_TEST

START_TEST(test_resume_expired_ticket_full_handshake)
{
    tls_server_config *cfg = make_config(true, NULL, 0);
    tls__ticketer_set_clock(cfg->ticketer, fake_clock);
    tc_options o = {.sni = "localhost", .psk_dhe_ke = true};
    tc_client *first = full_handshake(cfg, &o, 2);

    fake_now += 7199;
    o.ticket_age_ms = 7199 * 1000u;
    tc_client_free(resume(cfg, o, &first->tickets[0], true));
    fake_now += 1; /* the lifetime is over: the ticket still opens but is not used */
    o.ticket_age_ms = 7200 * 1000u;
    tc_client_free(resume(cfg, o, &first->tickets[0], false));
    tc_client_free(first);
    tls_server_config_unref(cfg);
}
END_TEST

START_TEST(test_resume_implausible_age_full_handshake)
{
    tls_server_config *cfg = make_config(true, NULL, 0);
    tls__ticketer_set_clock(cfg->ticketer, fake_clock);
    tc_options o = {.sni = "localhost", .psk_dhe_ke = true};
    tc_client *first = full_handshake(cfg, &o, 2);

    fake_now += 100;
    o.ticket_age_ms = 100 * 1000u + 10000; /* within the window */
    tc_client_free(resume(cfg, o, &first->tickets[0], true));
    o.ticket_age_ms = 100 * 1000u + 20000; /* claims 20 s more than it is */
    tc_client_free(resume(cfg, o, &first->tickets[0], false));
    o.ticket_age_ms = 0; /* claims it is brand new */
    tc_client_free(resume(cfg, o, &first->tickets[0], false));
    tc_client_free(first);
    tls_server_config_unref(cfg);
}
END_TEST

START_TEST(test_resume_other_hash_full_handshake)
{
    static const uint16_t sha256[] = {TLS_AES_128_GCM_SHA256};
    static const uint16_t sha384[] = {TLS_AES_256_GCM_SHA384};
    static const uint16_t chacha[] = {TLS_CHACHA20_POLY1305_SHA256};
    tls_server_config *cfg = make_config(true, NULL, 0);
    tc_options o = {.suites = sha256, .n_suites = 1, .psk_dhe_ke = true};
    tc_client *first = full_handshake(cfg, &o, 2);

    /* §4.2.11: only the PSK's hash matters; another suite with it resumes. */
    tc_options same = {.suites = chacha, .n_suites = 1};
    tc_client_free(resume(cfg, same, &first->tickets[0], true));
    tc_options other = {.suites = sha384, .n_suites = 1};
    tc_client_free(resume(cfg, other, &first->tickets[0], false));
    tc_client_free(first);
    tls_server_config_unref(cfg);
}
END_TEST

START_TEST(test_resume_other_sni_full_handshake)
{
    tls_server_config *cfg = make_config(true, NULL, 0);
    tc_options o = {.sni = "localhost", .psk_dhe_ke = true};
    tc_client *first = full_handshake(cfg, &o, 2);

    tc_options other = {.sni = "other.example"};
    tc_client_free(resume(cfg, other, &first->tickets[0], false));
    tc_options none = {0};
    tc_client_free(resume(cfg, none, &first->tickets[0], false));
    tc_client_free(first);
    tls_server_config_unref(cfg);
}
END_TEST

START_TEST(test_resume_foreign_ticket_full_handshake)
{
    tls_server_config *cfg = make_config(true, NULL, 0), *other = make_config(true, NULL, 0);
    tc_options o = {.psk_dhe_ke = true};
    tc_client *first = full_handshake(other, &o, 2);

    tc_client_free(resume(cfg, o, &first->tickets[0], false));
    /* Garbage of any shape is just an unknown identity. */
    tc_ticket junk = first->tickets[0];
    junk.ticket_len = 40;
    tc_client_free(resume(cfg, o, &junk, false));
    tc_client_free(first);
    tls_server_config_unref(cfg);
    tls_server_config_unref(other);
}
END_TEST

START_TEST(test_no_tickets_without_config)
{
    tls_server_config *with = make_config(true, NULL, 0), *without = make_config(false, NULL, 0);
    tc_options o = {.psk_dhe_ke = true};
    tc_client *first = full_handshake(with, &o, 2);
    tc_client *none = full_handshake(without, &o, 0);

    /* A server without tickets ignores an offered one. */
    tc_client_free(resume(without, o, &first->tickets[0], false));
    tc_client_free(none);
    tc_client_free(first);
    tls_server_config_unref(with);
    tls_server_config_unref(without);
}
END_TEST

START_TEST(test_no_tickets_without_psk_modes)
{
    static const uint8_t modes_ke_only[] = {0, 45, 0, 2, 1, 0}; /* psk_ke only */
    tls_server_config *cfg = make_config(true, NULL, 0);
    tc_options o = {0}; /* no psk_key_exchange_modes at all */
    tc_client_free(full_handshake(cfg, &o, 0));
    tc_options ke = {.extra_exts = modes_ke_only, .extra_exts_len = sizeof modes_ke_only};
    tc_client_free(full_handshake(cfg, &ke, 0));
    tls_server_config_unref(cfg);
}
END_TEST

START_TEST(test_resume_after_hrr)
{
    static const uint16_t p384[] = {TLS_GROUP_SECP384R1};
    tls_server_config *cfg = make_config(true, p384, 1);
    tc_options o = {.psk_dhe_ke = true}; /* shares X25519 only: the server asks for P-384 */
    tc_client *first = full_handshake(cfg, &o, 2);
    ck_assert(first->did_hrr);
    tc_client *again = resume(cfg, o, &first->tickets[1], true);
    ck_assert(again->did_hrr);
    tc_client_free(again);
    /* The binder of the second hello covers the HRR: a bad one is still fatal. */
    tls_conn *s;
    tls_error err;
    o.resume = &first->tickets[1];
    o.corrupt_binder = true;
    tc_client *c = connect_once(cfg, &o, &s, &err);
    ck_assert_int_eq(err, TLS_ERR_BAD_FINISHED);
    ck_assert_int_eq(tc_last_alert(c), TLS_ALERT_DECRYPT_ERROR);
    tls_conn_free(s);
    tc_client_free(c);
    tc_client_free(first);
    tls_server_config_unref(cfg);
}
END_TEST

START_TEST(test_resume_after_key_rotation)
{
    tls_server_config_params p;
    tls_server_config *cfg = NULL;
    char err[256] = "";
    memset(&p, 0, sizeof p);
    p.certs = &server_ck;
    p.n_certs = 1;
    p.tickets = true;
    p.ticket_rotate_s = 1000;
    p.ticket_lifetime_s = 604800;
    ck_assert_int_eq(tls_server_config_new(&p, &cfg, err, sizeof err), TLS_OK);
    tls__ticketer_set_clock(cfg->ticketer, fake_clock);
    tc_options o = {.psk_dhe_ke = true};
    tc_client *first = full_handshake(cfg, &o, 2);
    fake_now += 1000;
    o.ticket_age_ms = 1000 * 1000u;
    tc_client_free(resume(cfg, o, &first->tickets[0], true));
    fake_now += 1000;
    o.ticket_age_ms = 2000 * 1000u;
    tc_client_free(resume(cfg, o, &first->tickets[0], false));
    tc_client_free(first);
    tls_server_config_unref(cfg);
}
END_TEST

/* The fleet: two servers, each with its own load of one key file, resume each
 * other's sessions; a server keyed by another file does not; and a ticketer kept
 * across a config reload keeps its tickets good. */
START_TEST(test_resume_fleet_key_file)
{
    tls_ticketer *t_a = load_text("# fleet\n" K1 "\n" K2 "\n"), *t_b = load_text(K2 "\n" K1 "\n"),
                 *t_c = load_text(K3 "\n");
    tls_server_config *a, *b, *c, *a_reloaded;
    tls_server_config_params p;
    char err[256] = "";
    memset(&p, 0, sizeof p);
    p.certs = &server_ck;
    p.n_certs = 1;
    p.ticketer = t_a;
    ck_assert_int_eq(tls_server_config_new(&p, &a, err, sizeof err), TLS_OK);
    ck_assert_int_eq(tls_server_config_new(&p, &a_reloaded, err, sizeof err), TLS_OK);
    p.ticketer = t_b;
    ck_assert_int_eq(tls_server_config_new(&p, &b, err, sizeof err), TLS_OK);
    p.ticketer = t_c;
    ck_assert_int_eq(tls_server_config_new(&p, &c, err, sizeof err), TLS_OK);
    tls_ticketer_unref(t_a);
    tls_ticketer_unref(t_b);
    tls_ticketer_unref(t_c);

    tc_options o = {.sni = "localhost", .psk_dhe_ke = true};
    tc_client *first = full_handshake(a, &o, 2);
    tc_client_free(resume(b, o, &first->tickets[0], true));
    tc_client_free(resume(c, o, &first->tickets[0], false));
    tls_server_config_unref(a);
    tc_client_free(resume(a_reloaded, o, &first->tickets[1], true));
    tc_client *from_b = full_handshake(b, &o, 2);
    tc_client_free(resume(a_reloaded, o, &from_b->tickets[0], true));
    tc_client_free(from_b);
    tc_client_free(first);
    tls_server_config_unref(a_reloaded);
    tls_server_config_unref(b);
    tls_server_config_unref(c);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("ticket");
    TCase *tc;

#define ADD(test) tcase_add_test(tc, test)
    tc = tcase_create("ticketer");
    ADD(test_ticketer_round_trip);
    ADD(test_ticketer_wrong_key);
    ADD(test_ticketer_tampered);
    ADD(test_ticketer_rotation);
    ADD(test_ticketer_round_trip_new_fields);
    ADD(test_ticketer_seal_max_len);
    ADD(test_ticketer_seal_bad_state);
    ADD(test_ticketer_new_public);
    ADD(test_ticketer_config_params);
    suite_add_tcase(s, tc);

    tc = tcase_create("key file");
    ADD(test_ticketer_load_comments_and_blanks);
    ADD(test_ticketer_load_fleet);
    ADD(test_ticketer_load_derivation_pinned);
    ADD(test_ticketer_open_bad_plaintext);
    ADD(test_ticketer_load_never_rotates);
    ADD(test_ticketer_load_parse_errors);
    ADD(test_ticketer_load_too_many_keys);
    ADD(test_ticketer_load_group_readable);
    ADD(test_ticketer_load_unreadable);
    suite_add_tcase(s, tc);

    tc = tcase_create("0-RTT record");
    tcase_set_timeout(tc, 60);
    ADD(test_ticketer_claim_early_once);
    ADD(test_ticketer_claim_early_same_bucket);
    ADD(test_ticketer_claim_early_full_fails_closed);
    ADD(test_ticketer_claim_early_threads);
    ADD(test_ticketer_claim_early_allocated_lazily);
    suite_add_tcase(s, tc);

    tc = tcase_create("resumption");
    tcase_add_unchecked_fixture(tc, load_certs, free_certs);
    tcase_set_timeout(tc, 60);
    ADD(test_resume_basic);
    ADD(test_resume_all_suites);
    ADD(test_resume_bad_binder_is_fatal);
    ADD(test_resume_expired_ticket_full_handshake);
    ADD(test_resume_implausible_age_full_handshake);
    ADD(test_resume_other_hash_full_handshake);
    ADD(test_resume_other_sni_full_handshake);
    ADD(test_resume_foreign_ticket_full_handshake);
    ADD(test_no_tickets_without_config);
    ADD(test_no_tickets_without_psk_modes);
    ADD(test_resume_after_hrr);
    ADD(test_resume_after_key_rotation);
    ADD(test_resume_fleet_key_file);
    suite_add_tcase(s, tc);
#undef ADD
    return s;
}

TEST_MAIN(make_suite)
