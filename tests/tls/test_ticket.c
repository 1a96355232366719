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

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CERTS "tests/certs/"
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

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
    st.suite = TLS_AES_128_GCM_SHA256;
    st.psk_len = 32;
    for (size_t i = 0; i < st.psk_len; i++)
        st.psk[i] = (uint8_t)(i * 7 + 1);
    st.age_add = 0xdeadbeef;
    st.lifetime = 7200;
    strcpy(st.sni, "www.example.com");
    st.alpn[0] = 2;
    memcpy(st.alpn + 1, "h2", 2);
    return st;
}

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
    ck_assert_uint_eq(got.suite, want.suite);
    ck_assert_uint_eq(got.psk_len, want.psk_len);
    ck_assert(!memcmp(got.psk, want.psk, want.psk_len));
    ck_assert_int_eq(got.issued, fake_now);
    ck_assert_uint_eq(got.age_add, want.age_add);
    ck_assert_uint_eq(got.lifetime, want.lifetime);
    ck_assert_str_eq(got.sni, want.sni);
    ck_assert(!memcmp(got.alpn, want.alpn, 3));
    tls__ticketer_unref(t);
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
    tls__ticketer_unref(a);
    tls__ticketer_unref(b);
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
    tls__ticketer_unref(t);
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
    tls__ticketer_unref(t);
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
    tls_certified_key_unref(ck);
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
    ADD(test_ticketer_config_params);
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
    suite_add_tcase(s, tc);
#undef ADD
    return s;
}

TEST_MAIN(make_suite)
