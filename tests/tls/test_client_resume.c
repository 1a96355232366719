/*
 * test_client_resume.c — the client's session store and resumption (tls/client_sessions.c,
 * and the resumption and 0-RTT parts of tls/hs/client_common.c, tls13_client.c and
 * tls12_client.c).
 *
 * Happy paths run an engine client against an engine server in memory
 * (tests/lib/enginepair.h): TLS 1.3 ticket resumption (also across a HelloRetryRequest,
 * with the key share hint that avoids one, after a save/load round trip), fallback to a
 * full handshake when the server's ticketer changed, TLS 1.2 resumption by session id and
 * by RFC 5077 ticket, and 0-RTT accepted and refused.
 *
 * The store is tested through its internal API (client_sessions.h): bounds, LRU, the one
 * use of a TLS 1.3 ticket, expiry, concurrent use, and the file format: round trip,
 * mode 0600 and no temporary file left behind, and hostile files (every truncation,
 * bad lengths and values, trailing bytes), which must be refused as a whole with
 * TLS_ERR_SESSION_FILE.
 *
 * The adversarial set runs the client against the scripted server of tests/lib/testserver.c
 * with a stored ticket or session and asserts the exact error and alert: a
 * selected_identity we did not offer, a suite of another hash, pre_shared_key in a
 * HelloRetryRequest or unoffered, early_data in EncryptedExtensions unoffered, a TLS 1.2
 * echo of a session id we invented, a resumed TLS 1.2 session with another suite or
 * without EMS; and, through the handshake entry point, a Certificate or
 * CertificateRequest after a resumed ServerHello.
 */
#include "tests/lib/enginepair.h"
#include "tests/lib/testserver.h"
#include "tests/lib/unit.h"
#include "tls/client_sessions.h"
#include "tls/conn.h"
#include "tls/internal.h"
#include "tls/msgs/msgs.h"
#include "tls/record.h"

#include <dirent.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define NAME "testserver.com"
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const uint16_t only_tls13[] = {TLS_VERSION_1_3};
static const uint16_t only_tls12[] = {TLS_VERSION_1_2};
static const uint16_t only_p384[] = {TLS_GROUP_SECP384R1};
static const uint16_t only_sha384[] = {TLS_AES_256_GCM_SHA384};
static const uint16_t only_sha256[] = {TLS_AES_128_GCM_SHA256, TLS_CHACHA20_POLY1305_SHA256};

/* ---- configs and pairs -------------------------------------------------------------------- */

static tls_client_session_store *new_store(size_t max_servers)
{
    tls_client_session_store *st = NULL;
    ck_assert_int_eq(tls_client_session_store_new(max_servers, &st), TLS_OK);
    return st;
}

static tls_client_config_params client_params(tls_client_session_store *st)
{
    tls_client_config_params p;
    memset(&p, 0, sizeof p);
    p.roots = roots[KT_P256];
    p.sessions = st;
    return p;
}

static tls_server_config_params server_params(void)
{
    tls_server_config_params p;
    memset(&p, 0, sizeof p);
    p.certs = &end_ck[KT_P256];
    p.n_certs = 1;
    p.tickets = true;
    return p;
}

static tls_client_config *client_config(tls_client_session_store *st)
{
    tls_client_config_params p = client_params(st);
    return engine_client_config(&p);
}

static tls_server_config *ticket_server(tls_ticketer *tk)
{
    tls_server_config_params p = server_params();
    p.ticketer = tk;
    return engine_server_config(&p);
}

/* One connection between two configs the caller keeps (they are referenced here). */
static void connect_pair(engine_pair *p, tls_client_config *cc, tls_server_config *sc)
{
    engine_pair_init(p, tls_client_config_ref(cc), tls_server_config_ref(sc), NAME);
    engine_shuttle(p);
    engine_assert_ok(p);
    ck_assert(!tls_conn_is_handshaking(p->c));
    ck_assert(!tls_conn_is_handshaking(p->s));
}

static size_t tickets_for(tls_client_session_store *st, const char *name)
{
    size_t n = 0;
    bool has12 = false;
    (void)tls__client_sessions_peek(st, name, &n, &has12);
    return n;
}

static bool session12_for(tls_client_session_store *st, const char *name)
{
    size_t n = 0;
    bool has12 = false;
    (void)tls__client_sessions_peek(st, name, &n, &has12);
    return has12;
}

/* Both sides derive the same exporter output. */
static void assert_exporters_match(engine_pair *p)
{
    uint8_t a[32], b[32];
    ck_assert_int_eq(
        tls_conn_export_keying_material(p->c, "EXPERIMENTAL test", NULL, 0, false, a, sizeof a),
        TLS_OK);
    ck_assert_int_eq(
        tls_conn_export_keying_material(p->s, "EXPERIMENTAL test", NULL, 0, false, b, sizeof b),
        TLS_OK);
    ck_assert(!memcmp(a, b, sizeof a));
}

/* A ticket made by hand (psk and ticket filled with bytes derived from `fill`). */
static tls_client_ticket13 *fake_ticket(uint16_t suite, uint16_t group, uint32_t lifetime,
                                        int64_t received, uint8_t fill, size_t len)
{
    tls_client_ticket13 *t = tls__client_ticket13_new(len);
    ck_assert_ptr_nonnull(t);
    t->suite = suite;
    t->group = group;
    t->psk_len = tls__hash_len(tls__suite_find(suite)->hash);
    memset(t->psk, fill ^ 0x55, t->psk_len);
    memset(t->ticket, fill, len);
    t->age_add = 0x01020304u * fill;
    t->lifetime_s = lifetime;
    t->received_ms = received;
    return t;
}

static bool any_ticket(const void *arg, const tls_client_ticket13 *t)
{
    (void)arg, (void)t;
    return true;
}

/* Takes the stored ticket, lets it claim 0-RTT permission, and puts it back. */
static void allow_early_data(tls_client_session_store *st, uint32_t max)
{
    tls_client_ticket13 *t =
        tls__client_sessions_take13(st, NAME, tls__client_now_ms(), any_ticket, NULL);
    ck_assert_ptr_nonnull(t);
    t->max_early_data = max;
    tls__client_sessions_put13(st, NAME, t);
}

/* ---- TLS 1.3 resumption against the engine server ----------------------------------------- */

START_TEST(test_client_resume_tls13_ticket)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config *cc = client_config(st);
    tls_server_config_params sp = server_params();
    tls_server_config *sc = engine_server_config(&sp);
    engine_pair p;

    connect_pair(&p, cc, sc);
    ck_assert(!tls_conn_resumed(p.c) && !tls_conn_resumed(p.s));
    ck_assert_uint_eq(tickets_for(st, NAME), 2); /* the server's default: two tickets */
    engine_pair_free(&p);

    connect_pair(&p, cc, sc);
    ck_assert(tls_conn_resumed(p.c) && tls_conn_resumed(p.s));
    ck_assert_uint_eq(tls_conn_version(p.c), TLS_VERSION_1_3);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.c), 0); /* no CertificateVerify */
    assert_exporters_match(&p);
    engine_transfer(&p, p.c, p.s, 5000, 1);
    engine_transfer(&p, p.s, p.c, 5000, 2);
    /* One ticket was spent, two new ones came. */
    ck_assert_uint_eq(tickets_for(st, NAME), 3);
    engine_pair_free(&p);

    /* Another name has no tickets: a full handshake (and the certificate covers it). */
    engine_pair_init(&p, tls_client_config_ref(cc), tls_server_config_ref(sc), "localhost");
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(!tls_conn_resumed(p.c));
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_resume_tls13_each_ticket_once)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config *cc = client_config(st);
    tls_server_config_params sp = server_params();
    sp.n_tickets = 1;
    tls_server_config *sc = engine_server_config(&sp);
    uint8_t id1[512], id2[512];
    size_t n1, n2;
    engine_pair p;

    connect_pair(&p, cc, sc);
    engine_pair_free(&p);
    ck_assert_uint_eq(tickets_for(st, NAME), 1);
    /* Two connections at once: only the first can offer the one ticket. */
    tls_conn *a, *b;
    ck_assert_int_eq(tls_client_conn_new(cc, NAME, &a), TLS_OK);
    ck_assert_int_eq(tls_client_conn_new(cc, NAME, &b), TLS_OK);
    ck_assert(a->hs.client.offer.psk_in_hello);
    ck_assert(!b->hs.client.offer.psk_in_hello);
    ck_assert_uint_eq(tickets_for(st, NAME), 0);
    n1 = a->hs.client.offer.ticket13->ticket_len;
    memcpy(id1, a->hs.client.offer.ticket13->ticket, n1);
    tls_conn_free(a);
    tls_conn_free(b);
    /* The next full handshake's ticket is another one. */
    connect_pair(&p, cc, sc);
    ck_assert(!tls_conn_resumed(p.c));
    engine_pair_free(&p);
    ck_assert_int_eq(tls_client_conn_new(cc, NAME, &a), TLS_OK);
    n2 = a->hs.client.offer.ticket13->ticket_len;
    memcpy(id2, a->hs.client.offer.ticket13->ticket, n2);
    ck_assert(n1 != n2 || memcmp(id1, id2, n1));
    tls_conn_free(a);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_resume_tls13_hello)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config *cc = client_config(st);
    tls_server_config_params sp = server_params();
    tls_server_config *sc = engine_server_config(&sp);
    uint8_t msg[4096];
    tls_client_hello ch;
    engine_pair p;
    size_t len = 0;
    tls_record rec;
    bool complete;

    connect_pair(&p, cc, sc);
    engine_pair_free(&p);
    tls_conn *c;
    ck_assert_int_eq(tls_client_conn_new(cc, NAME, &c), TLS_OK);
    const tls_client_ticket13 *t = c->hs.client.offer.ticket13;
    ck_assert_ptr_nonnull(t);
    const uint8_t *out = tls_conn_peek_tls(c, &len);
    ck_assert(len < sizeof msg);
    memcpy(msg, out, len);
    ck_assert_int_eq(tls__record_peek(msg, len, &rec, &complete), TLS_OK);
    ck_assert(complete && rec.type == TLS_CT_HANDSHAKE);
    /* The decoder refuses a pre_shared_key that is not last. */
    ck_assert_int_eq(tls__client_hello_parse(rec.body + 4, rec.len - 4, &ch), TLS_OK);
    ck_assert(ch.has_psk && ch.has_psk_modes);
    ck_assert(ch.psk_modes.len == 1 && ch.psk_modes.p[0] == 1); /* psk_dhe_ke */
    ck_assert(!ch.has_early_data);                              /* not enabled */
    /* One identity: the ticket, and an age of a few milliseconds at most. */
    ck_assert_uint_eq(ch.psk_identities.len, 2 + t->ticket_len + 4);
    ck_assert(!memcmp(ch.psk_identities.p + 2, t->ticket, t->ticket_len));
    const uint8_t *a = ch.psk_identities.p + 2 + t->ticket_len;
    uint32_t age =
        ((uint32_t)a[0] << 24 | (uint32_t)a[1] << 16 | (uint32_t)a[2] << 8 | a[3]) - t->age_add;
    ck_assert_uint_lt(age, 10000);
    /* The default suites put AES-256-GCM-SHA384 first: a SHA-384 PSK and binder. */
    ck_assert_uint_eq(t->suite, TLS_AES_256_GCM_SHA384);
    ck_assert_uint_eq(ch.psk_binders.len, 1 + 48);
    /* The key share is for the group of the ticket's connection. */
    ck_assert_uint_eq(c->hs.client.offer.kx_group, t->group);
    /* The server's side verifies the binder: see the resumptions above. Here, that the
     * binder is the one RFC 8446 §4.2.11.2 defines over the truncated hello. */
    uint8_t thash[48], empty[48], key[48], want[48];
    tls13_keysched ks;
    tls__hash(TLS_HASH_SHA384, rec.body, rec.len - TLS_PSK_BINDERS_LEN(48), thash);
    tls__hash(TLS_HASH_SHA384, NULL, 0, empty);
    ck_assert_int_eq(tls13_keysched_init(&ks, TLS_HASH_SHA384, t->psk, t->psk_len), TLS_OK);
    ck_assert_int_eq(tls13_keysched_derive(&ks, "res binder", empty, key), TLS_OK);
    ck_assert_int_eq(tls13_finished_mac(TLS_HASH_SHA384, key, thash, want), TLS_OK);
    ck_assert(!memcmp(ch.psk_binders.p + 1, want, 48));
    tls13_keysched_clear(&ks);
    tls_conn_free(c);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_resume_tls13_new_ticketer_full_handshake)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config *cc = client_config(st);
    tls_server_config_params sp = server_params();
    tls_server_config *sc1 = engine_server_config(&sp);
    tls_server_config *sc2 = engine_server_config(&sp); /* its own ticketer */
    engine_pair p;

    connect_pair(&p, cc, sc1);
    engine_pair_free(&p);
    connect_pair(&p, cc, sc2);
    ck_assert(!tls_conn_resumed(p.c) && !tls_conn_resumed(p.s));
    ck_assert_uint_ne(tls_conn_sig_scheme(p.c), 0); /* the certificate was checked */
    engine_transfer(&p, p.c, p.s, 100, 3);
    engine_pair_free(&p);
    /* The second server's tickets resume with it. */
    connect_pair(&p, cc, sc2);
    ck_assert(tls_conn_resumed(p.c));
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc1);
    tls_server_config_unref(sc2);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_resume_tls13_server_without_tickets)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config *cc = client_config(st);
    tls_server_config_params sp = server_params();
    tls_server_config *with = engine_server_config(&sp);
    sp.tickets = false;
    tls_server_config *without = engine_server_config(&sp);
    engine_pair p;

    connect_pair(&p, cc, without);
    ck_assert_uint_eq(tickets_for(st, NAME), 0);
    engine_pair_free(&p);
    connect_pair(&p, cc, with);
    engine_pair_free(&p);
    connect_pair(&p, cc, without); /* the ticket is offered and ignored */
    ck_assert(!tls_conn_resumed(p.c));
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(with);
    tls_server_config_unref(without);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_resume_tls13_binder_after_hrr)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config *cc = client_config(st);
    tls_ticketer *tk = NULL;
    ck_assert_int_eq(tls_ticketer_new(3600, &tk), TLS_OK);
    tls_server_config *any = ticket_server(tk);
    tls_server_config_params sp = server_params();
    sp.ticketer = tk;
    sp.groups = only_p384, sp.n_groups = 1;
    tls_server_config *p384 = engine_server_config(&sp);
    engine_pair p;

    connect_pair(&p, cc, any); /* X25519: the ticket's group */
    ck_assert_uint_eq(tls_conn_group(p.c), TLS_GROUP_X25519);
    engine_pair_free(&p);
    /* The X25519 share makes the P-384-only server ask again; the second ClientHello's
     * binder covers message_hash(ClientHello1) || HelloRetryRequest. */
    connect_pair(&p, cc, p384);
    ck_assert(tls_conn_did_hrr(p.c));
    ck_assert(tls_conn_resumed(p.c) && tls_conn_resumed(p.s));
    ck_assert_uint_eq(tls_conn_group(p.c), TLS_GROUP_SECP384R1);
    assert_exporters_match(&p);
    engine_transfer(&p, p.c, p.s, 1000, 4);
    engine_pair_free(&p);
    /* Its tickets remember P-384: no HelloRetryRequest any more. */
    connect_pair(&p, cc, p384);
    ck_assert(!tls_conn_did_hrr(p.c));
    ck_assert(tls_conn_resumed(p.c));
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(any);
    tls_server_config_unref(p384);
    tls_ticketer_unref(tk);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_resume_tls13_suite_hash)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config_params cp = client_params(st);
    tls_client_config *cc = engine_client_config(&cp);
    cp.cipher_suites = only_sha256, cp.n_cipher_suites = COUNT(only_sha256);
    tls_client_config *cc256 = engine_client_config(&cp);
    tls_server_config_params sp = server_params();
    sp.cipher_suites = only_sha384, sp.n_cipher_suites = 1;
    tls_server_config *sc = engine_server_config(&sp);
    engine_pair p;
    tls_conn *c;

    connect_pair(&p, cc, sc);
    ck_assert_uint_eq(tls_conn_cipher_suite(p.c), TLS_AES_256_GCM_SHA384);
    engine_pair_free(&p);
    ck_assert_uint_eq(tickets_for(st, NAME), 2);
    /* A config without a SHA-384 suite cannot use the tickets: they stay. */
    ck_assert_int_eq(tls_client_conn_new(cc256, NAME, &c), TLS_OK);
    ck_assert(!c->hs.client.offer.psk_in_hello);
    tls_conn_free(c);
    ck_assert_uint_eq(tickets_for(st, NAME), 2);
    connect_pair(&p, cc, sc);
    ck_assert(tls_conn_resumed(p.c));
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_client_config_unref(cc256);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_resume_tls13_after_save_load)
{
    char dir[] = "/tmp/moat-cs-XXXXXX", path[64], err[256];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/cache", dir);
    tls_client_session_store *st1 = new_store(8), *st2 = new_store(8);
    tls_client_config *cc1 = client_config(st1), *cc2 = client_config(st2);
    tls_server_config_params sp = server_params();
    tls_server_config *sc = engine_server_config(&sp);
    engine_pair p;

    connect_pair(&p, cc1, sc);
    engine_pair_free(&p);
    ck_assert_int_eq(tls_client_session_store_save(st1, path, err, sizeof err), TLS_OK);
    ck_assert_int_eq(tls_client_session_store_load(st2, path, err, sizeof err), TLS_OK);
    ck_assert_uint_eq(tickets_for(st2, NAME), 2);
    connect_pair(&p, cc2, sc);
    ck_assert(tls_conn_resumed(p.c));
    engine_pair_free(&p);

    unlink(path);
    rmdir(dir);
    tls_client_config_unref(cc1);
    tls_client_config_unref(cc2);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st1);
    tls_client_session_store_unref(st2);
}
END_TEST

/* A resumed ServerHello leaves the client expecting EncryptedExtensions and then the
 * Finished: a Certificate or CertificateRequest there is unexpected_message (§4.3.2,
 * §4.4.2). The engine server never sends them, so the client's handshake entry point
 * is driven directly, after the real ServerHello. */
START_TEST(test_client_resume_tls13_certificate_after_psk)
{
    static const uint8_t ee[] = {TLS_HS_ENCRYPTED_EXTENSIONS, 0, 0, 2, 0, 0};
    static const uint8_t cert[] = {TLS_HS_CERTIFICATE, 0, 0, 4, 0, 0, 0, 0};
    static const uint8_t cr[] = {
        TLS_HS_CERTIFICATE_REQUEST, 0, 0, 11, 0, 0, 8, 0, 13, 0, 4, 0, 2, 4, 3};
    const uint8_t *bad[] = {cert, cr};
    const size_t bad_len[] = {sizeof cert, sizeof cr};
    tls_client_session_store *st = new_store(8);
    tls_client_config *cc = client_config(st);
    tls_server_config_params sp = server_params();
    tls_server_config *sc = engine_server_config(&sp);

    for (size_t i = 0; i < COUNT(bad); i++) {
        engine_pair p;
        connect_pair(&p, cc, sc);
        engine_pair_free(&p);
        engine_pair_init(&p, tls_client_config_ref(cc), tls_server_config_ref(sc), NAME);
        size_t len = 0, used = 0;
        const uint8_t *hello = tls_conn_peek_tls(p.c, &len);
        ck_assert_int_eq(tls_conn_read_tls(p.s, hello, len, &used), TLS_OK);
        tls_conn_consume_tls(p.c, used);
        ck_assert_int_eq(tls_conn_process(p.s), TLS_OK);
        /* Only the ServerHello record. */
        const uint8_t *flight = tls_conn_peek_tls(p.s, &len);
        uint8_t *copy = malloc(len);
        tls_record rec;
        bool complete;
        memcpy(copy, flight, len);
        ck_assert_int_eq(tls__record_peek(copy, len, &rec, &complete), TLS_OK);
        ck_assert(complete && rec.type == TLS_CT_HANDSHAKE);
        ck_assert_int_eq(tls_conn_read_tls(p.c, flight, rec.total, &used), TLS_OK);
        free(copy);
        ck_assert_int_eq(tls_conn_process(p.c), TLS_OK);
        ck_assert(tls_conn_resumed(p.c));
        ck_assert_int_eq(p.c->hs.client.v13.state, HS13C_EXPECT_ENCRYPTED_EXTENSIONS);
        ck_assert_int_eq(tls__hs13_client_handle(p.c, ee, sizeof ee), TLS_OK);
        ck_assert_int_eq(p.c->hs.client.v13.state, HS13C_EXPECT_FINISHED);
        tls_error e = tls__hs13_client_handle(p.c, bad[i], bad_len[i]);
        ck_assert_int_eq(e, TLS_ERR_UNEXPECTED_HANDSHAKE);
        ck_assert_int_eq(tls_error_alert(e), TLS_ALERT_UNEXPECTED_MESSAGE);
        engine_pair_free(&p);
    }
    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* ---- 0-RTT --------------------------------------------------------------------------------- */

/* Early data is only offered when the ticket allows it and the config enables it. */
START_TEST(test_client_early_data_needs_ticket_permission)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config_params cp = client_params(st);
    tls_client_config *plain = engine_client_config(&cp);
    cp.enable_early_data = true;
    tls_client_config *early = engine_client_config(&cp);
    tls_server_config_params sp = server_params();
    tls_server_config *sc = engine_server_config(&sp); /* tickets, no 0-RTT */
    engine_pair p;
    uint8_t data[10] = "early";
    size_t n = 99;

    /* No ticket at all. */
    engine_pair_init(&p, tls_client_config_ref(early), tls_server_config_ref(sc), NAME);
    ck_assert_uint_eq(tls_conn_early_data_capacity(p.c), 0);
    ck_assert_int_eq(tls_conn_write_early_data(p.c, data, sizeof data, &n),
                     TLS_ERR_INVALID_ARGUMENT);
    ck_assert_uint_eq(n, 0);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    engine_pair_free(&p);
    /* A ticket without early_data. */
    engine_pair_init(&p, tls_client_config_ref(early), tls_server_config_ref(sc), NAME);
    ck_assert_uint_eq(tls_conn_early_data_capacity(p.c), 0);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(tls_conn_resumed(p.c) && !tls_conn_early_data_accepted(p.c));
    engine_pair_free(&p);
    /* A ticket that would allow it, without enable_early_data. */
    allow_early_data(st, 1000);
    engine_pair_init(&p, tls_client_config_ref(plain), tls_server_config_ref(sc), NAME);
    ck_assert_uint_eq(tls_conn_early_data_capacity(p.c), 0);
    ck_assert(!p.c->early_data_offered);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    engine_pair_free(&p);
    tls_client_config_unref(plain);
    tls_client_config_unref(early);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_early_data_offered)
{
    static const char *const h2[] = {"h2"};
    tls_client_session_store *st = new_store(8);
    tls_client_config_params cp = client_params(st);
    cp.enable_early_data = true;
    tls_client_config *cc = engine_client_config(&cp);
    cp.alpn = h2, cp.n_alpn = 1;
    tls_client_config *cc_h2 = engine_client_config(&cp);
    int64_t now = tls__client_now_ms();
    uint8_t data[100];
    size_t n = 0;
    tls_conn *c;

    engine_fill_pattern(data, sizeof data, 7);
    tls_client_ticket13 *t =
        fake_ticket(TLS_AES_128_GCM_SHA256, TLS_GROUP_X25519, 3600, now, 1, 40);
    t->max_early_data = 50;
    tls__client_sessions_put13(st, NAME, t);
    ck_assert_int_eq(tls_client_conn_new(cc, NAME, &c), TLS_OK);
    ck_assert(c->early_data_offered);
    ck_assert_uint_eq(tls_conn_early_data_capacity(c), 50);
    /* ClientHello, CCS, then records under the early keys, no more than allowed. */
    size_t before = 0;
    (void)tls_conn_peek_tls(c, &before);
    ck_assert_int_eq(tls_conn_write_early_data(c, data, sizeof data, &n), TLS_OK);
    ck_assert_uint_eq(n, 50);
    ck_assert_uint_eq(tls_conn_early_data_capacity(c), 0);
    size_t after = 0;
    const uint8_t *out = tls_conn_peek_tls(c, &after);
    ck_assert_uint_eq(after - before, 5 + 50 + 1 + 16); /* one protected record */
    ck_assert_uint_eq(out[before], TLS_CT_APPLICATION_DATA);
    ck_assert_int_eq(tls_conn_write_early_data(c, data, 1, &n), TLS_ERR_INVALID_ARGUMENT);
    tls_record rec;
    bool complete;
    uint8_t *copy = malloc(after);
    memcpy(copy, out, after);
    ck_assert_int_eq(tls__record_peek(copy, after, &rec, &complete), TLS_OK);
    tls_client_hello ch;
    ck_assert_int_eq(tls__client_hello_parse(rec.body + 4, rec.len - 4, &ch), TLS_OK);
    ck_assert(ch.has_early_data && ch.has_psk);
    ck_assert_uint_eq(copy[rec.total], TLS_CT_CHANGE_CIPHER_SPEC);
    free(copy);
    tls_conn_free(c);

    /* The ticket's ALPN (none) differs from what cc_h2 offers: no early data. */
    t = fake_ticket(TLS_AES_128_GCM_SHA256, TLS_GROUP_X25519, 3600, now, 2, 40);
    t->max_early_data = 50;
    tls__client_sessions_put13(st, NAME, t);
    ck_assert_int_eq(tls_client_conn_new(cc_h2, NAME, &c), TLS_OK);
    ck_assert(c->hs.client.offer.psk_in_hello && !c->early_data_offered);
    tls_conn_free(c);
    /* ...and an h2 ticket with cc_h2 gets it. */
    t = fake_ticket(TLS_AES_128_GCM_SHA256, TLS_GROUP_X25519, 3600, now, 3, 40);
    t->max_early_data = 50;
    t->alpn[0] = 2, t->alpn[1] = 'h', t->alpn[2] = '2';
    tls__client_sessions_put13(st, NAME, t);
    ck_assert_int_eq(tls_client_conn_new(cc_h2, NAME, &c), TLS_OK);
    ck_assert(c->early_data_offered);
    tls_conn_free(c);
    /* A ticket of a suite we offer only by its hash: PSK yes, 0-RTT no. */
    tls_client_config_params cp2 = client_params(st);
    cp2.enable_early_data = true;
    cp2.cipher_suites = only_sha256 + 1, cp2.n_cipher_suites = 1; /* ChaCha20 only */
    tls_client_config *chacha = engine_client_config(&cp2);
    t = fake_ticket(TLS_AES_128_GCM_SHA256, TLS_GROUP_X25519, 3600, now, 4, 40);
    t->max_early_data = 50;
    tls__client_sessions_put13(st, NAME, t);
    ck_assert_int_eq(tls_client_conn_new(chacha, NAME, &c), TLS_OK);
    ck_assert(c->hs.client.offer.psk_in_hello && !c->early_data_offered);
    tls_conn_free(c);

    tls_client_config_unref(cc);
    tls_client_config_unref(cc_h2);
    tls_client_config_unref(chacha);
    tls_client_session_store_unref(st);
}
END_TEST

/* A server with 0-RTT: the early data arrives as early data, before the handshake
 * completes, and both sides say it was accepted. */
START_TEST(test_client_early_data_accepted)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config_params cp = client_params(st);
    cp.enable_early_data = true;
    tls_client_config *cc = engine_client_config(&cp);
    tls_server_config_params sp = server_params();
    sp.max_early_data_size = 16384;
    tls_server_config *sc = engine_server_config(&sp);
    uint8_t data[1000], got[2000];
    engine_pair p;
    size_t n = 0;

    connect_pair(&p, cc, sc);
    engine_pair_free(&p);
    engine_pair_init(&p, tls_client_config_ref(cc), tls_server_config_ref(sc), NAME);
    ck_assert_uint_eq(tls_conn_early_data_capacity(p.c), 16384);
    engine_fill_pattern(data, sizeof data, 15);
    ck_assert_int_eq(tls_conn_write_early_data(p.c, data, sizeof data, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof data);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(!tls_conn_is_handshaking(p.c));
    ck_assert(tls_conn_resumed(p.c));
    ck_assert(tls_conn_early_data_accepted(p.c));
    ck_assert(tls_conn_early_data_accepted(p.s));
    ck_assert_int_eq(tls_conn_read_early_data(p.s, got, sizeof got, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof data);
    ck_assert(!memcmp(got, data, sizeof data));
    ck_assert_int_eq(tls_conn_read(p.s, got, sizeof got, &n), TLS_OK);
    ck_assert_uint_eq(n, 0); /* nothing twice */
    engine_transfer(&p, p.c, p.s, 2000, 16);
    engine_transfer(&p, p.s, p.c, 2000, 17);
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* The server (without 0-RTT) resumes but refuses early data: it skips the records, the
 * client reports it undelivered, and the handshake completes. */
START_TEST(test_client_early_data_refused_by_server)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config_params cp = client_params(st);
    cp.enable_early_data = true;
    tls_client_config *cc = engine_client_config(&cp);
    tls_server_config_params sp = server_params();
    tls_server_config *sc = engine_server_config(&sp);
    engine_pair p;
    uint8_t data[300];
    size_t n = 0;

    connect_pair(&p, cc, sc);
    engine_pair_free(&p);
    /* Make the next ticket claim 0-RTT permission the server will not honour. */
    allow_early_data(st, 1000);
    engine_pair_init(&p, tls_client_config_ref(cc), tls_server_config_ref(sc), NAME);
    ck_assert_uint_eq(tls_conn_early_data_capacity(p.c), 1000);
    engine_fill_pattern(data, sizeof data, 9);
    ck_assert_int_eq(tls_conn_write_early_data(p.c, data, sizeof data, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof data);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(!tls_conn_is_handshaking(p.c));
    ck_assert(tls_conn_resumed(p.c));
    ck_assert(!tls_conn_early_data_accepted(p.c));
    ck_assert(!tls_conn_early_data_accepted(p.s));
    ck_assert_uint_eq(tls_conn_early_data_capacity(p.c), 0);
    /* The caller resends; the data arrives once, as 1-RTT data. */
    engine_transfer(&p, p.c, p.s, 300, 9);
    uint8_t extra[8];
    ck_assert_int_eq(tls_conn_read(p.s, extra, sizeof extra, &n), TLS_OK);
    ck_assert_uint_eq(n, 0);
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* A server that does not take our PSK refuses 0-RTT too; the early records are skipped
 * by trial decryption (§4.2.10). */
START_TEST(test_client_early_data_refused_full_handshake)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config_params cp = client_params(st);
    cp.enable_early_data = true;
    tls_client_config *cc = engine_client_config(&cp);
    tls_server_config_params sp = server_params();
    tls_server_config *sc1 = engine_server_config(&sp);
    tls_server_config *sc2 = engine_server_config(&sp);
    engine_pair p;
    uint8_t data[64] = {0};
    size_t n = 0;

    connect_pair(&p, cc, sc1);
    engine_pair_free(&p);
    allow_early_data(st, 1000);
    engine_pair_init(&p, tls_client_config_ref(cc), tls_server_config_ref(sc2), NAME);
    ck_assert_int_eq(tls_conn_write_early_data(p.c, data, sizeof data, &n), TLS_OK);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(!tls_conn_resumed(p.c) && !tls_conn_early_data_accepted(p.c));
    engine_transfer(&p, p.c, p.s, 64, 10);
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc1);
    tls_server_config_unref(sc2);
    tls_client_session_store_unref(st);
}
END_TEST

/* An HRR refuses 0-RTT: the second ClientHello goes in plaintext without early_data and
 * the resumption still works. */
START_TEST(test_client_early_data_refused_by_hrr)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config_params cp = client_params(st);
    cp.enable_early_data = true;
    tls_client_config *cc = engine_client_config(&cp);
    tls_ticketer *tk = NULL;
    ck_assert_int_eq(tls_ticketer_new(3600, &tk), TLS_OK);
    tls_server_config *any = ticket_server(tk);
    tls_server_config_params sp = server_params();
    sp.ticketer = tk;
    sp.groups = only_p384, sp.n_groups = 1;
    tls_server_config *p384 = engine_server_config(&sp);
    engine_pair p;
    uint8_t data[64] = {0};
    size_t n = 0;

    connect_pair(&p, cc, any);
    engine_pair_free(&p);
    allow_early_data(st, 1000);
    engine_pair_init(&p, tls_client_config_ref(cc), tls_server_config_ref(p384), NAME);
    ck_assert_int_eq(tls_conn_write_early_data(p.c, data, sizeof data, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof data);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(tls_conn_did_hrr(p.c) && tls_conn_resumed(p.c));
    ck_assert(!tls_conn_early_data_accepted(p.c));
    engine_transfer(&p, p.s, p.c, 64, 11);
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(any);
    tls_server_config_unref(p384);
    tls_ticketer_unref(tk);
    tls_client_session_store_unref(st);
}
END_TEST

/* ---- the store ---------------------------------------------------------------------------- */

START_TEST(test_client_sessions_new_bad_args)
{
    tls_client_session_store *st = (void *)1;
    ck_assert_int_eq(tls_client_session_store_new(0, &st), TLS_ERR_INVALID_ARGUMENT);
    ck_assert_ptr_null(st);
    st = new_store(1);
    ck_assert_ptr_eq(tls_client_session_store_ref(st), st);
    tls_client_session_store_unref(st);
    tls_client_session_store_unref(st);
    tls_client_session_store_unref(NULL);
}
END_TEST

START_TEST(test_client_sessions_lru)
{
    tls_client_session_store *st = new_store(2);
    int64_t now = tls__client_now_ms();
    size_t n;
    bool has12;

    tls__client_sessions_put13(st, "a", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now, 1, 8));
    tls__client_sessions_put13(st, "b", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now, 2, 8));
    tls__client_sessions_put13(st, "c", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now, 3, 8));
    ck_assert(!tls__client_sessions_peek(st, "a", &n, &has12)); /* least recently used */
    ck_assert(tls__client_sessions_peek(st, "b", &n, &has12) && n == 1);
    ck_assert(tls__client_sessions_peek(st, "c", &n, &has12) && n == 1);
    /* Using b makes c the least recently used one. */
    tls_client_session12 *s = tls__client_sessions_get12(st, "b", now);
    ck_assert_ptr_null(s);
    tls__client_sessions_put13(st, "d", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now, 4, 8));
    ck_assert(tls__client_sessions_peek(st, "b", &n, &has12));
    ck_assert(!tls__client_sessions_peek(st, "c", &n, &has12));
    ck_assert(tls__client_sessions_peek(st, "d", &n, &has12));
    /* Taking b's only ticket frees its slot: e and d fit. */
    tls_client_ticket13 *t = tls__client_sessions_take13(st, "b", now, any_ticket, NULL);
    ck_assert_ptr_nonnull(t);
    tls__client_ticket13_free(t);
    ck_assert(!tls__client_sessions_peek(st, "b", &n, &has12));
    tls__client_sessions_put13(st, "e", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now, 5, 8));
    ck_assert(tls__client_sessions_peek(st, "d", &n, &has12));
    ck_assert(tls__client_sessions_peek(st, "e", &n, &has12));
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_sessions_four_tickets_newest_first)
{
    tls_client_session_store *st = new_store(4);
    int64_t now = tls__client_now_ms();

    for (uint8_t i = 1; i <= 6; i++)
        tls__client_sessions_put13(st, "a", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now, i, 8));
    ck_assert_uint_eq(tickets_for(st, "a"), TLS_CLIENT_TICKETS_PER_SERVER);
    for (uint8_t want = 6; want >= 3; want--) {
        tls_client_ticket13 *t = tls__client_sessions_take13(st, "a", now, any_ticket, NULL);
        ck_assert_ptr_nonnull(t);
        ck_assert_uint_eq(t->ticket[0], want);
        tls__client_ticket13_free(t);
    }
    ck_assert_ptr_null(tls__client_sessions_take13(st, "a", now, any_ticket, NULL));
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_sessions_expired_not_offered)
{
    tls_client_session_store *st = new_store(4);
    int64_t now = tls__client_now_ms();
    size_t n;
    bool has12;

    /* Exactly at its lifetime a ticket is dead (§4.2.11.1: not older than lifetime). */
    tls__client_sessions_put13(st, "a",
                               fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now - 60000, 1, 8));
    tls__client_sessions_put13(st, "a",
                               fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now - 59000, 2, 8));
    tls__client_sessions_put13(st, "a", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 0, now, 3, 8));
    /* "Received" two days from now: a clock set back, or a forged file. */
    tls__client_sessions_put13(
        st, "a", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 604800, now + 2 * 86400000LL, 4, 8));
    tls_client_ticket13 *t = tls__client_sessions_take13(st, "a", now, any_ticket, NULL);
    ck_assert_ptr_nonnull(t);
    ck_assert_uint_eq(t->ticket[0], 2); /* the future and 0-lifetime ones went on the way */
    tls__client_ticket13_free(t);
    ck_assert_ptr_null(tls__client_sessions_take13(st, "a", now, any_ticket, NULL));
    ck_assert(!tls__client_sessions_peek(st, "a", &n, &has12));
    /* A TLS 1.2 session past its lifetime is not handed out either. */
    tls_client_session12 *s = tls__client_session12_new(0);
    s->suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    s->session_id_len = 32;
    s->ems = true;
    s->lifetime_s = 10;
    s->received_ms = now - 10001;
    tls__client_sessions_put12(st, "b", s);
    ck_assert_ptr_null(tls__client_sessions_get12(st, "b", now));
    ck_assert(!tls__client_sessions_peek(st, "b", &n, &has12));
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_sessions_tls12_kept)
{
    tls_client_session_store *st = new_store(4);
    int64_t now = tls__client_now_ms();

    tls_client_session12 *s = tls__client_session12_new(5);
    s->suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256;
    s->session_id_len = 3;
    memcpy(s->session_id, "abc", 3);
    memcpy(s->ticket, "tick!", 5);
    memset(s->master, 0x42, sizeof s->master);
    s->ems = true;
    s->lifetime_s = 100;
    s->received_ms = now;
    tls__client_sessions_put12(st, "a", s);
    for (int i = 0; i < 2; i++) { /* handed out as copies, any number of times */
        tls_client_session12 *got = tls__client_sessions_get12(st, "a", now);
        ck_assert_ptr_nonnull(got);
        ck_assert(got->ticket_len == 5 && !memcmp(got->ticket, "tick!", 5));
        ck_assert(got->session_id_len == 3 && !memcmp(got->session_id, "abc", 3));
        ck_assert_uint_eq(got->master[47], 0x42);
        tls__client_session12_free(got);
    }
    ck_assert(session12_for(st, "a"));
    tls__client_sessions_forget12(st, "a");
    ck_assert(!session12_for(st, "a"));
    tls_client_session_store_unref(st);
}
END_TEST

static void *hammer(void *arg)
{
    tls_client_session_store *st = arg;
    char name[16];
    for (int i = 0; i < 2000; i++) {
        int64_t now = tls__client_now_ms();
        snprintf(name, sizeof name, "s%d", i % 7);
        tls__client_sessions_put13(st, name,
                                   fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now, 1, 16));
        tls_client_ticket13 *t = tls__client_sessions_take13(st, name, now, any_ticket, NULL);
        tls__client_ticket13_free(t);
        tls__client_session12_free(tls__client_sessions_get12(st, name, now));
    }
    return NULL;
}

START_TEST(test_client_sessions_threads)
{
    tls_client_session_store *st = new_store(3);
    pthread_t th[4];
    for (int i = 0; i < 4; i++)
        ck_assert_int_eq(pthread_create(&th[i], NULL, hammer, st), 0);
    for (int i = 0; i < 4; i++)
        pthread_join(th[i], NULL);
    tls_client_session_store_unref(st);
}
END_TEST

/* ---- the file ------------------------------------------------------------------------------ */

typedef struct {
    char dir[32], path[64];
} tmpfile_t;

static void tmp_init(tmpfile_t *t)
{
    snprintf(t->dir, sizeof t->dir, "/tmp/moat-cs-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(t->dir));
    snprintf(t->path, sizeof t->path, "%s/cache", t->dir);
}

static void tmp_free(tmpfile_t *t)
{
    unlink(t->path);
    rmdir(t->dir);
}

static void write_bytes(const char *path, const uint8_t *p, size_t n)
{
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    ck_assert_uint_eq(fwrite(p, 1, n, f), n);
    fclose(f);
}

static size_t read_bytes(const char *path, uint8_t *p, size_t cap)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    size_t n = fread(p, 1, cap, f);
    fclose(f);
    return n;
}

/* One server "a.example" with one ticket (16 bytes, ALPN h2) and one TLS 1.2 session
 * (32-byte id, no ticket): a file of 201 bytes. */
static tls_client_session_store *sample_store(int64_t now)
{
    tls_client_session_store *st = new_store(4);
    tls_client_ticket13 *t =
        fake_ticket(TLS_AES_128_GCM_SHA256, TLS_GROUP_SECP256R1, 3600, now, 7, 16);
    t->max_early_data = 16384;
    t->alpn[0] = 2, t->alpn[1] = 'h', t->alpn[2] = '2';
    tls__client_sessions_put13(st, "a.example", t);
    tls_client_session12 *s = tls__client_session12_new(0);
    s->suite = TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384;
    s->session_id_len = 32;
    memset(s->session_id, 0x11, 32);
    memset(s->master, 0x22, sizeof s->master);
    s->ems = true;
    s->lifetime_s = 3600;
    s->received_ms = now;
    tls__client_sessions_put12(st, "a.example", s);
    return st;
}

/* Offsets in the sample file. */
enum {
    OFF_VERSION = 8,
    OFF_N_SERVERS = 9,
    OFF_NAME_LEN = 13,
    OFF_N_TICKETS = 23,
    OFF_SUITE = 24,
    OFF_GROUP = 26,
    OFF_PSK_LEN = 28,
    OFF_TICKET_LEN = 61,
    OFF_LIFETIME = 83,
    OFF_RECEIVED = 91,
    OFF_ALPN_LEN = 99,
    OFF_HAS12 = 102,
    OFF_SUITE12 = 103,
    OFF_ID_LEN = 105,
    OFF_EMS = 192,
    SAMPLE_LEN = 201,
};

START_TEST(test_client_sessions_save_load_round_trip)
{
    int64_t now = tls__client_now_ms();
    tls_client_session_store *st = sample_store(now), *back = new_store(4);
    tmpfile_t tf;
    char err[256];
    struct stat sb;

    tmp_init(&tf);
    ck_assert_int_eq(tls_client_session_store_save(st, tf.path, err, sizeof err), TLS_OK);
    ck_assert_int_eq(stat(tf.path, &sb), 0);
    ck_assert_uint_eq(sb.st_mode & 0777, 0600);
    ck_assert_int_eq(sb.st_size, SAMPLE_LEN);
    /* Nothing but the file is left in the directory (the temporary was renamed). */
    DIR *d = opendir(tf.dir);
    struct dirent *de;
    int entries = 0;
    while ((de = readdir(d)) != NULL)
        entries += de->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(entries, 1);

    ck_assert_int_eq(tls_client_session_store_load(back, tf.path, err, sizeof err), TLS_OK);
    tls_client_ticket13 *a = tls__client_sessions_take13(st, "a.example", now, any_ticket, NULL);
    tls_client_ticket13 *b = tls__client_sessions_take13(back, "a.example", now, any_ticket, NULL);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    ck_assert_uint_eq(a->suite, b->suite);
    ck_assert_uint_eq(a->group, b->group);
    ck_assert(a->psk_len == b->psk_len && !memcmp(a->psk, b->psk, a->psk_len));
    ck_assert(a->ticket_len == b->ticket_len && !memcmp(a->ticket, b->ticket, a->ticket_len));
    ck_assert_uint_eq(a->age_add, b->age_add);
    ck_assert_uint_eq(a->lifetime_s, b->lifetime_s);
    ck_assert_uint_eq(a->max_early_data, b->max_early_data);
    ck_assert_int_eq(a->received_ms, b->received_ms);
    ck_assert(!memcmp(a->alpn, b->alpn, 3));
    tls__client_ticket13_free(a);
    tls__client_ticket13_free(b);
    tls_client_session12 *s = tls__client_sessions_get12(back, "a.example", now);
    ck_assert_ptr_nonnull(s);
    ck_assert_uint_eq(s->suite, TLS_ECDHE_RSA_WITH_AES_256_GCM_SHA384);
    ck_assert_uint_eq(s->session_id_len, 32);
    ck_assert_uint_eq(s->master[0], 0x22);
    ck_assert(s->ems && s->ticket == NULL);
    tls__client_session12_free(s);

    /* Saving over an existing file replaces it. */
    ck_assert_int_eq(tls_client_session_store_save(back, tf.path, err, sizeof err), TLS_OK);
    ck_assert_int_eq(stat(tf.path, &sb), 0);
    ck_assert_int_lt(sb.st_size, SAMPLE_LEN); /* the ticket was taken */

    tmp_free(&tf);
    tls_client_session_store_unref(st);
    tls_client_session_store_unref(back);
}
END_TEST

START_TEST(test_client_sessions_load_missing_file)
{
    tls_client_session_store *st = new_store(4);
    char err[256] = "x";
    ck_assert_int_eq(tls_client_session_store_load(st, "/nonexistent/moat/cache", err, sizeof err),
                     TLS_OK);
    ck_assert_str_eq(err, "");
    ck_assert_int_eq(tls_client_session_store_save(st, "/nonexistent/moat/cache", err, sizeof err),
                     TLS_ERR_SESSION_FILE);
    ck_assert(strstr(err, "/nonexistent/moat/cache") != NULL);
    /* A directory is not a session file. */
    ck_assert_int_eq(tls_client_session_store_load(st, "/tmp", err, sizeof err),
                     TLS_ERR_SESSION_FILE);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_sessions_load_skips_expired_and_keeps_order)
{
    int64_t now = tls__client_now_ms();
    tls_client_session_store *st = new_store(8), *back = new_store(2);
    tmpfile_t tf;
    char err[256];
    size_t n;
    bool has12;

    tls__client_sessions_put13(st, "old",
                               fake_ticket(TLS_AES_128_GCM_SHA256, 29, 1, now - 5000, 1, 8));
    tls__client_sessions_put13(st, "x", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now, 2, 8));
    tls__client_sessions_put13(st, "y", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now, 3, 8));
    tls__client_sessions_put13(st, "z", fake_ticket(TLS_AES_128_GCM_SHA256, 29, 60, now, 4, 8));
    tmp_init(&tf);
    ck_assert_int_eq(tls_client_session_store_save(st, tf.path, err, sizeof err), TLS_OK);
    /* Two slots: the two most recently used live servers. */
    ck_assert_int_eq(tls_client_session_store_load(back, tf.path, err, sizeof err), TLS_OK);
    ck_assert(!tls__client_sessions_peek(back, "old", &n, &has12));
    ck_assert(!tls__client_sessions_peek(back, "x", &n, &has12));
    ck_assert(tls__client_sessions_peek(back, "y", &n, &has12));
    ck_assert(tls__client_sessions_peek(back, "z", &n, &has12));
    tmp_free(&tf);
    tls_client_session_store_unref(st);
    tls_client_session_store_unref(back);
}
END_TEST

/* The file must be refused whole, the store left as it was. */
static void assert_refused(const char *path, const uint8_t *p, size_t n, const char *what)
{
    tls_client_session_store *st = new_store(4);
    char err[256] = "";
    size_t k;
    bool has12;

    write_bytes(path, p, n);
    tls_error e = tls_client_session_store_load(st, path, err, sizeof err);
    ck_assert_msg(e == TLS_ERR_SESSION_FILE, "%s (%zu bytes): %s", what, n, tls_error_name(e));
    ck_assert_msg(strstr(err, path) != NULL, "%s: no path in '%s'", what, err);
    ck_assert(!tls__client_sessions_peek(st, "a.example", &k, &has12));
    tls_client_session_store_unref(st);
}

START_TEST(test_client_sessions_load_truncated)
{
    int64_t now = tls__client_now_ms();
    tls_client_session_store *st = sample_store(now);
    uint8_t file[512];
    tmpfile_t tf;
    char err[256];

    tmp_init(&tf);
    ck_assert_int_eq(tls_client_session_store_save(st, tf.path, err, sizeof err), TLS_OK);
    size_t n = read_bytes(tf.path, file, sizeof file);
    ck_assert_uint_eq(n, SAMPLE_LEN);
    for (size_t len = 0; len < n; len++)
        assert_refused(tf.path, file, len, "truncated");
    file[n] = 0;
    assert_refused(tf.path, file, n + 1, "a trailing byte");
    tmp_free(&tf);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_sessions_load_hostile)
{
    static const struct {
        size_t off;
        uint8_t value;
        const char *what;
    } pokes[] = {
        {0, 'X', "magic"},
        {OFF_VERSION, 2, "a future version"},
        {OFF_N_SERVERS, 0xff, "a server count past the file"},
        {OFF_N_SERVERS + 3, 2, "one server more than there is"},
        {OFF_NAME_LEN, 0, "an empty name"},
        {OFF_NAME_LEN, 200, "a name longer than the file"},
        {OFF_NAME_LEN + 1, ' ', "a space in the name"},
        {OFF_N_TICKETS, 5, "five tickets"},
        {OFF_N_TICKETS, 2, "a second ticket that is not there"},
        {OFF_SUITE + 1, 0x99, "an unknown suite"},
        {OFF_SUITE, 0xc0, "a TLS 1.2 suite for a ticket"},
        {OFF_GROUP + 1, 0x42, "an unknown group"},
        {OFF_PSK_LEN, 31, "a PSK too short for a hash"},
        {OFF_PSK_LEN, 48, "a PSK of another hash's length"},
        {OFF_PSK_LEN, 0xff, "a PSK length past the maximum"},
        {OFF_TICKET_LEN, 0xff, "a ticket longer than the file"},
        {OFF_LIFETIME, 0xff, "a lifetime over seven days"},
        {OFF_RECEIVED, 0x80, "a negative receipt time"},
        {OFF_ALPN_LEN, 0xff, "an ALPN longer than the file"},
        {OFF_HAS12, 2, "a session flag that is not 0 or 1"},
        {OFF_SUITE12, 0x13, "a TLS 1.3 suite for a 1.2 session"},
        {OFF_ID_LEN, 33, "a session id over 32 bytes"},
        {OFF_EMS, 0, "a session without EMS"},
        {OFF_EMS, 2, "an EMS flag that is not 1"},
    };
    int64_t now = tls__client_now_ms();
    tls_client_session_store *st = sample_store(now);
    uint8_t file[512], bad[512];
    tmpfile_t tf;
    char err[256];

    tmp_init(&tf);
    ck_assert_int_eq(tls_client_session_store_save(st, tf.path, err, sizeof err), TLS_OK);
    size_t n = read_bytes(tf.path, file, sizeof file);
    ck_assert_uint_eq(n, SAMPLE_LEN);
    /* The offsets are right: the unpoked file loads. */
    tls_client_session_store *ok = new_store(4);
    ck_assert_int_eq(tls_client_session_store_load(ok, tf.path, err, sizeof err), TLS_OK);
    tls_client_session_store_unref(ok);
    ck_assert_uint_eq(file[OFF_PSK_LEN], 32);
    ck_assert_uint_eq(file[OFF_ID_LEN], 32);
    ck_assert_uint_eq(file[OFF_EMS], 1);
    ck_assert_uint_eq(file[OFF_HAS12], 1);
    for (size_t i = 0; i < COUNT(pokes); i++) {
        memcpy(bad, file, n);
        bad[pokes[i].off] = pokes[i].value;
        assert_refused(tf.path, bad, n, pokes[i].what);
    }
    /* A TLS 1.2 session with neither id nor ticket: id length 0, and the 32 id bytes cut. */
    memcpy(bad, file, OFF_ID_LEN);
    bad[OFF_ID_LEN] = 0;
    memcpy(bad + OFF_ID_LEN + 1, file + OFF_ID_LEN + 33, n - OFF_ID_LEN - 33);
    assert_refused(tf.path, bad, n - 32, "a session with no id and no ticket");
    /* Garbage of every length up to a few hundred bytes. */
    for (size_t len = 1; len < 300; len += 7) {
        engine_fill_pattern(bad, len, (uint32_t)len);
        assert_refused(tf.path, bad, len, "garbage");
    }
    tmp_free(&tf);
    tls_client_session_store_unref(st);
}
END_TEST

/* ---- TLS 1.2 against the engine server ----------------------------------------------------- */

static tls_client_config *client12_config(tls_client_session_store *st, bool no_tickets)
{
    tls_client_config_params p = client_params(st);
    p.versions = only_tls12, p.n_versions = 1;
    p.no_tickets = no_tickets;
    return engine_client_config(&p);
}

START_TEST(test_client_resume_tls12_ticket)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config *cc = client12_config(st, false);
    tls_server_config_params sp = server_params();
    tls_server_config *sc = engine_server_config(&sp);
    engine_pair p;

    connect_pair(&p, cc, sc);
    ck_assert_uint_eq(tls_conn_version(p.c), TLS_VERSION_1_2);
    ck_assert(!tls_conn_resumed(p.c) && tls_conn_ems(p.c));
    ck_assert(session12_for(st, NAME));
    engine_pair_free(&p);
    connect_pair(&p, cc, sc);
    ck_assert(tls_conn_resumed(p.c) && tls_conn_resumed(p.s));
    assert_exporters_match(&p);
    engine_transfer(&p, p.c, p.s, 3000, 12);
    engine_transfer(&p, p.s, p.c, 3000, 13);
    engine_pair_free(&p);
    /* The session (with whatever ticket came last) resumes again. */
    connect_pair(&p, cc, sc);
    ck_assert(tls_conn_resumed(p.c));
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_resume_tls12_session_id)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config *cc = client12_config(st, true);
    tls_server_config_params sp = server_params();
    sp.tickets = false;
    sp.session_cache_size = 16;
    tls_server_config *sc = engine_server_config(&sp);
    engine_pair p;

    connect_pair(&p, cc, sc);
    ck_assert(!tls_conn_resumed(p.c));
    ck_assert(session12_for(st, NAME));
    engine_pair_free(&p);
    connect_pair(&p, cc, sc);
    ck_assert(tls_conn_resumed(p.c) && tls_conn_resumed(p.s));
    assert_exporters_match(&p);
    engine_transfer(&p, p.c, p.s, 1000, 14);
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* A server that does not know the session: a full handshake, and the new session
 * replaces the old one. */
START_TEST(test_client_resume_tls12_declined)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config *cc = client12_config(st, false);
    tls_server_config_params sp = server_params();
    tls_server_config *sc1 = engine_server_config(&sp);
    tls_server_config *sc2 = engine_server_config(&sp);
    engine_pair p;

    connect_pair(&p, cc, sc1);
    engine_pair_free(&p);
    connect_pair(&p, cc, sc2);
    ck_assert(!tls_conn_resumed(p.c));
    ck_assert_uint_ne(tls_conn_sig_scheme(p.c), 0);
    engine_pair_free(&p);
    connect_pair(&p, cc, sc2);
    ck_assert(tls_conn_resumed(p.c));
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc1);
    tls_server_config_unref(sc2);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_client_hello_session_ticket_ext)
{
    tls_client_session_store *st = new_store(8);
    tls_client_config_params cp = client_params(st);
    tls_client_config *with = engine_client_config(&cp);
    cp.no_tickets = true;
    tls_client_config *without = engine_client_config(&cp);
    cp.sessions = NULL, cp.no_tickets = false;
    tls_client_config *nostore = engine_client_config(&cp);
    tls_client_config *cfgs[] = {with, without, nostore};
    const bool want[] = {true, false, false};

    for (size_t i = 0; i < COUNT(cfgs); i++) {
        uint8_t msg[4096];
        tls_client_hello ch;
        tls_record rec;
        bool complete;
        size_t len = 0;
        tls_conn *c;
        ck_assert_int_eq(tls_client_conn_new(cfgs[i], NAME, &c), TLS_OK);
        const uint8_t *out = tls_conn_peek_tls(c, &len);
        memcpy(msg, out, len);
        ck_assert_int_eq(tls__record_peek(msg, len, &rec, &complete), TLS_OK);
        ck_assert_int_eq(tls__client_hello_parse(rec.body + 4, rec.len - 4, &ch), TLS_OK);
        ck_assert_int_eq(ch.has_session_ticket, want[i]);
        ck_assert_uint_eq(ch.session_ticket.len, 0); /* asking for one */
        ck_assert(!ch.has_psk);
        ck_assert_uint_eq(ch.session_id.len, 32);
        tls_conn_free(c);
    }
    tls_client_config_unref(with);
    tls_client_config_unref(without);
    tls_client_config_unref(nostore);
    tls_client_session_store_unref(st);
}
END_TEST

/* ---- the scripted server -----------------------------------------------------------------------
 */

static tls_error accept_all(void *arg, const uint8_t *const *chain, const size_t *lens, size_t n,
                            const char *name, int64_t now)
{
    (void)arg, (void)chain, (void)lens, (void)n, (void)name, (void)now;
    return TLS_OK;
}

typedef struct {
    tls_client_session_store *st;
    tls_client_config *cfg;
    tls_conn *c;
    ts_server *ts;
    tls_error err;
} scripted;

/* A client with a store holding `t` (may be NULL) and `s12` (may be NULL), connected to a
 * scripted server that has its first ClientHello. */
static void scripted_init(scripted *sc, const uint16_t *versions, size_t n_versions,
                          tls_client_ticket13 *t, tls_client_session12 *s12)
{
    memset(sc, 0, sizeof *sc);
    sc->st = new_store(4);
    if (t)
        tls__client_sessions_put13(sc->st, NAME, t);
    if (s12)
        tls__client_sessions_put12(sc->st, NAME, s12);
    tls_client_config_params p;
    memset(&p, 0, sizeof p);
    p.verifier = accept_all;
    p.sessions = sc->st;
    p.versions = versions, p.n_versions = n_versions;
    sc->cfg = engine_client_config(&p);
    ck_assert_int_eq(tls_client_conn_new(sc->cfg, NAME, &sc->c), TLS_OK);
    sc->ts = ts_new();
    ck_assert_int_eq(ts_pump(sc->ts, sc->c), TLS_OK);
    ck_assert_uint_eq(sc->ts->n_hellos, 1);
}

static void scripted_free(scripted *sc)
{
    ts_free(sc->ts);
    tls_conn_free(sc->c);
    tls_client_config_unref(sc->cfg);
    tls_client_session_store_unref(sc->st);
}

static void pump(scripted *sc)
{
    tls_error e = ts_pump(sc->ts, sc->c);
    if (sc->err == TLS_OK)
        sc->err = e;
}

static void assert_failed(scripted *sc, tls_error want, int alert)
{
    ck_assert_msg(sc->err == want, "client: %s, want %s", tls_error_name(sc->err),
                  tls_error_name(want));
    ck_assert_int_eq(tls_conn_error(sc->c), want);
    ck_assert_int_eq(ts_last_alert(sc->ts), alert);
}

static tls_client_ticket13 *live_ticket(uint16_t suite)
{
    return fake_ticket(suite, TLS_GROUP_X25519, 3600, tls__client_now_ms(), 9, 24);
}

START_TEST(test_client_resume_sh_bad_identity)
{
    static const uint8_t psk1[] = {0, 41, 0, 2, 0, 1}; /* selected_identity 1 */
    scripted sc;
    scripted_init(&sc, only_tls13, 1, live_ticket(TLS_AES_128_GCM_SHA256), NULL);
    ck_assert(sc.ts->ch.has_psk);
    ts_hello_opts h = {.extra_exts = psk1, .extra_exts_len = sizeof psk1};
    ts_server_hello(sc.ts, &h);
    pump(&sc);
    assert_failed(&sc, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_resume_sh_suite_of_other_hash)
{
    static const uint8_t psk0[] = {0, 41, 0, 2, 0, 0};
    scripted sc;
    scripted_init(&sc, only_tls13, 1, live_ticket(TLS_AES_256_GCM_SHA384), NULL);
    ts_hello_opts h = {
        .suite = TLS_AES_128_GCM_SHA256, .extra_exts = psk0, .extra_exts_len = sizeof psk0};
    ts_server_hello(sc.ts, &h);
    pump(&sc);
    assert_failed(&sc, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_resume_sh_psk_without_key_share)
{
    static const uint8_t psk0[] = {0, 41, 0, 2, 0, 0};
    scripted sc;
    scripted_init(&sc, only_tls13, 1, live_ticket(TLS_AES_128_GCM_SHA256), NULL);
    ts_hello_opts h = {.omit_key_share = true, .extra_exts = psk0, .extra_exts_len = sizeof psk0};
    ts_server_hello(sc.ts, &h);
    pump(&sc);
    assert_failed(&sc, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_resume_psk_unsolicited)
{
    static const uint8_t psk0[] = {0, 41, 0, 2, 0, 0};
    /* Offered, but in a HelloRetryRequest (§4.2: never there). */
    scripted sc;
    scripted_init(&sc, only_tls13, 1, live_ticket(TLS_AES_128_GCM_SHA256), NULL);
    ts_hello_opts hrr = {.hrr = true,
                         .group = TLS_GROUP_SECP256R1,
                         .extra_exts = psk0,
                         .extra_exts_len = sizeof psk0};
    ts_server_hello(sc.ts, &hrr);
    pump(&sc);
    assert_failed(&sc, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    scripted_free(&sc);
    /* Not offered at all. */
    scripted_init(&sc, only_tls13, 1, NULL, NULL);
    ck_assert(!sc.ts->ch.has_psk);
    ts_hello_opts h = {.extra_exts = psk0, .extra_exts_len = sizeof psk0};
    ts_server_hello(sc.ts, &h);
    pump(&sc);
    assert_failed(&sc, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    scripted_free(&sc);
}
END_TEST

/* A HelloRetryRequest for SHA-384 drops a SHA-256 PSK from the second ClientHello. */
START_TEST(test_client_resume_hrr_other_hash_drops_psk)
{
    scripted sc;
    scripted_init(&sc, only_tls13, 1, live_ticket(TLS_AES_128_GCM_SHA256), NULL);
    ck_assert(sc.ts->ch.has_psk);
    ts_hello_opts hrr = {
        .hrr = true, .group = TLS_GROUP_SECP256R1, .suite = TLS_AES_256_GCM_SHA384};
    ts_server_hello(sc.ts, &hrr);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert_uint_eq(sc.ts->n_hellos, 2);
    ck_assert(!sc.ts->ch.has_psk);
    ck_assert(sc.ts->ch.has_psk_modes);
    /* ...and the handshake goes on as a full one. */
    ts_server_hello(sc.ts, NULL);
    ts_flight_opts f = {.ck = end_ck[KT_P256]};
    ts_flight(sc.ts, &f);
    pump(&sc);
    ck_assert_msg(sc.err == TLS_OK, "%s", tls_error_name(sc.err));
    ck_assert(!tls_conn_is_handshaking(sc.c) && !tls_conn_resumed(sc.c));
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client_ee_early_data_unsolicited)
{
    static const uint8_t early[] = {0, 42, 0, 0};
    scripted sc;
    scripted_init(&sc, only_tls13, 1, NULL, NULL);
    ts_server_hello(sc.ts, NULL);
    ts_flight_opts f = {.ck = end_ck[KT_P256], .ee_exts = early, .ee_exts_len = sizeof early};
    ts_flight(sc.ts, &f);
    pump(&sc);
    assert_failed(&sc, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    scripted_free(&sc);
}
END_TEST

static void nst_msg(uint8_t *m, uint32_t lifetime, bool early, uint32_t max_early, size_t *len)
{
    size_t n = 0;
    m[n++] = TLS_HS_NEW_SESSION_TICKET;
    n += 3;
    m[n++] = (uint8_t)(lifetime >> 24), m[n++] = (uint8_t)(lifetime >> 16);
    m[n++] = (uint8_t)(lifetime >> 8), m[n++] = (uint8_t)lifetime;
    m[n++] = 1, m[n++] = 2, m[n++] = 3, m[n++] = 4; /* age_add */
    m[n++] = 1, m[n++] = 0;                         /* nonce */
    m[n++] = 0, m[n++] = 3, m[n++] = 't', m[n++] = 'k', m[n++] = 't';
    if (early) {
        m[n++] = 0, m[n++] = 8, m[n++] = 0, m[n++] = 42, m[n++] = 0, m[n++] = 4;
        m[n++] = (uint8_t)(max_early >> 24), m[n++] = (uint8_t)(max_early >> 16);
        m[n++] = (uint8_t)(max_early >> 8), m[n++] = (uint8_t)max_early;
    } else {
        m[n++] = 0, m[n++] = 0;
    }
    m[1] = 0, m[2] = 0, m[3] = (uint8_t)(n - 4);
    *len = n;
}

START_TEST(test_client_new_session_ticket_stored)
{
    uint8_t m[64];
    size_t len;
    scripted sc;
    scripted_init(&sc, only_tls13, 1, NULL, NULL);
    ts_server_hello(sc.ts, NULL);
    ts_flight_opts f = {.ck = end_ck[KT_P256], .alpn = NULL};
    ts_flight(sc.ts, &f);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    nst_msg(m, 0, false, 0, &len); /* lifetime 0: discard at once */
    ts_send_handshake(sc.ts, m, len);
    pump(&sc);
    ck_assert_uint_eq(tickets_for(sc.st, NAME), 0);
    nst_msg(m, 7200, true, 12345, &len);
    ts_send_handshake(sc.ts, m, len);
    pump(&sc);
    ck_assert_int_eq(sc.err, TLS_OK);
    ck_assert_uint_eq(tickets_for(sc.st, NAME), 1);
    tls_client_ticket13 *t =
        tls__client_sessions_take13(sc.st, NAME, tls__client_now_ms(), any_ticket, NULL);
    ck_assert_ptr_nonnull(t);
    ck_assert(t->ticket_len == 3 && !memcmp(t->ticket, "tkt", 3));
    ck_assert_uint_eq(t->age_add, 0x01020304);
    ck_assert_uint_eq(t->lifetime_s, 7200);
    ck_assert_uint_eq(t->max_early_data, 12345);
    ck_assert_uint_eq(t->suite, tls_conn_cipher_suite(sc.c));
    ck_assert_uint_eq(t->group, tls_conn_group(sc.c));
    ck_assert_uint_eq(t->suite, TLS_AES_256_GCM_SHA384); /* the first one we offer */
    ck_assert_uint_eq(t->psk_len, 48);
    /* §4.6.1: PSK = HKDF-Expand-Label(resumption_master_secret, "resumption", nonce). */
    uint8_t want[48], nonce = 0;
    ck_assert_int_eq(tls13_hkdf_expand_label(TLS_HASH_SHA384, sc.c->hs.client.v13.res_master,
                                             "resumption", &nonce, 1, want, 48),
                     TLS_OK);
    ck_assert(!memcmp(t->psk, want, 48));
    tls__client_ticket13_free(t);
    scripted_free(&sc);
}
END_TEST

/* ---- TLS 1.2 resumption checks (the scripted TLS 1.3 server, answering as TLS 1.2) ------- */

static const uint8_t ems_ext[] = {0, 23, 0, 0};

static tls_client_session12 *stored12(uint16_t suite)
{
    tls_client_session12 *s = tls__client_session12_new(0);
    s->suite = suite;
    s->session_id_len = 32;
    memset(s->session_id, 0x77, 32);
    memset(s->master, 0x33, sizeof s->master);
    s->ems = true;
    s->lifetime_s = 3600;
    s->received_ms = tls__client_now_ms();
    return s;
}

START_TEST(test_client12_echo_of_invented_session_id)
{
    /* No stored session: the 32-byte id is a random §D.4 one; echoing it claims a
     * resumption of nothing. */
    scripted sc;
    scripted_init(&sc, NULL, 0, NULL, NULL);
    ts_hello_opts h = {.omit_versions = true,
                       .omit_key_share = true,
                       .suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                       .random = (const uint8_t *)"0123456789abcdef0123456789abcdef",
                       .extra_exts = ems_ext,
                       .extra_exts_len = sizeof ems_ext};
    ts_server_hello(sc.ts, &h);
    pump(&sc);
    assert_failed(&sc, TLS_ERR_ILLEGAL_PARAMETER, TLS_ALERT_ILLEGAL_PARAMETER);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_resumed_suite_changed)
{
    scripted sc;
    scripted_init(&sc, only_tls12, 1, NULL, stored12(TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384));
    ck_assert(sc.ts->ch.session_id.len == 32 && sc.ts->ch.session_id.p[0] == 0x77);
    ck_assert(sc.ts->ch.has_session_ticket && sc.ts->ch.session_ticket.len == 0);
    ts_hello_opts h = {.omit_versions = true,
                       .omit_key_share = true,
                       .suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                       .extra_exts = ems_ext,
                       .extra_exts_len = sizeof ems_ext};
    ts_server_hello(sc.ts, &h);
    pump(&sc);
    assert_failed(&sc, TLS_ERR_RESUMPTION_MISMATCH, TLS_ALERT_ILLEGAL_PARAMETER);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_resumed_without_ems)
{
    scripted sc;
    scripted_init(&sc, only_tls12, 1, NULL, stored12(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256));
    ts_hello_opts h = {.omit_versions = true,
                       .omit_key_share = true,
                       .suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256};
    ts_server_hello(sc.ts, &h);
    pump(&sc);
    assert_failed(&sc, TLS_ERR_RESUMPTION_EMS_MISMATCH, TLS_ALERT_HANDSHAKE_FAILURE);
    scripted_free(&sc);
}
END_TEST

/* A server that acknowledged session_ticket must send a NewSessionTicket before its CCS
 * (RFC 5077 §3.3): a CCS in its place is unexpected. */
START_TEST(test_client12_resumed_missing_ticket)
{
    static const uint8_t exts[] = {0, 23, 0, 0, 0, 35, 0, 0};
    static const uint8_t one = 1;
    scripted sc;
    scripted_init(&sc, only_tls12, 1, NULL, stored12(TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256));
    ts_hello_opts h = {.omit_versions = true,
                       .omit_key_share = true,
                       .suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                       .extra_exts = exts,
                       .extra_exts_len = sizeof exts};
    ts_server_hello(sc.ts, &h);
    ts_send_plain_record(sc.ts, TLS_CT_CHANGE_CIPHER_SPEC, &one, 1);
    pump(&sc);
    ck_assert(tls_conn_resumed(sc.c));
    assert_failed(&sc, TLS_ERR_UNEXPECTED_MESSAGE, TLS_ALERT_UNEXPECTED_MESSAGE);
    scripted_free(&sc);
}
END_TEST

/* The server's session_ticket answers only our own (no_tickets: none sent). */
START_TEST(test_client12_session_ticket_unsolicited)
{
    static const uint8_t exts[] = {0, 23, 0, 0, 0, 35, 0, 0};
    scripted sc;
    memset(&sc, 0, sizeof sc);
    sc.st = new_store(4);
    tls_client_config_params p;
    memset(&p, 0, sizeof p);
    p.verifier = accept_all;
    p.sessions = sc.st;
    p.no_tickets = true;
    sc.cfg = engine_client_config(&p);
    ck_assert_int_eq(tls_client_conn_new(sc.cfg, NAME, &sc.c), TLS_OK);
    sc.ts = ts_new();
    ck_assert_int_eq(ts_pump(sc.ts, sc.c), TLS_OK);
    ck_assert(!sc.ts->ch.has_session_ticket);
    ts_hello_opts h = {.omit_versions = true,
                       .omit_key_share = true,
                       .wrong_session_id = true,
                       .suite = TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                       .extra_exts = exts,
                       .extra_exts_len = sizeof exts};
    ts_server_hello(sc.ts, &h);
    pump(&sc);
    assert_failed(&sc, TLS_ERR_UNSOLICITED_EXTENSION, TLS_ALERT_UNSUPPORTED_EXTENSION);
    scripted_free(&sc);
}
END_TEST

START_TEST(test_client12_new_session_ticket_parse)
{
    static const uint8_t good[] = {0, 0, 0x1c, 0x20, 0, 3, 'a', 'b', 'c'};
    static const uint8_t empty[] = {0, 0, 0, 0, 0, 0};
    tls_new_session_ticket12_msg m;
    ck_assert_int_eq(tls__new_session_ticket12_parse(good, sizeof good, &m), TLS_OK);
    ck_assert_uint_eq(m.lifetime_hint, 7200);
    ck_assert(m.ticket.len == 3 && !memcmp(m.ticket.p, "abc", 3));
    ck_assert_int_eq(tls__new_session_ticket12_parse(empty, sizeof empty, &m), TLS_OK);
    ck_assert_uint_eq(m.ticket.len, 0);
    for (size_t n = 0; n < sizeof good; n++)
        ck_assert_int_eq(tls__new_session_ticket12_parse(good, n, &m), TLS_ERR_DECODE);
    uint8_t trailing[sizeof good + 1];
    memcpy(trailing, good, sizeof good);
    trailing[sizeof good] = 0;
    ck_assert_int_eq(tls__new_session_ticket12_parse(trailing, sizeof trailing, &m),
                     TLS_ERR_TRAILING_DATA);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("client_resume");
    TCase *tc = tcase_create("tls13");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_client_resume_tls13_ticket);
    tcase_add_test(tc, test_client_resume_tls13_each_ticket_once);
    tcase_add_test(tc, test_client_resume_tls13_hello);
    tcase_add_test(tc, test_client_resume_tls13_new_ticketer_full_handshake);
    tcase_add_test(tc, test_client_resume_tls13_server_without_tickets);
    tcase_add_test(tc, test_client_resume_tls13_binder_after_hrr);
    tcase_add_test(tc, test_client_resume_tls13_suite_hash);
    tcase_add_test(tc, test_client_resume_tls13_after_save_load);
    tcase_add_test(tc, test_client_resume_tls13_certificate_after_psk);
    suite_add_tcase(s, tc);

    tc = tcase_create("early_data");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_client_early_data_needs_ticket_permission);
    tcase_add_test(tc, test_client_early_data_offered);
    tcase_add_test(tc, test_client_early_data_accepted);
    tcase_add_test(tc, test_client_early_data_refused_by_server);
    tcase_add_test(tc, test_client_early_data_refused_full_handshake);
    tcase_add_test(tc, test_client_early_data_refused_by_hrr);
    suite_add_tcase(s, tc);

    tc = tcase_create("store");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_client_sessions_new_bad_args);
    tcase_add_test(tc, test_client_sessions_lru);
    tcase_add_test(tc, test_client_sessions_four_tickets_newest_first);
    tcase_add_test(tc, test_client_sessions_expired_not_offered);
    tcase_add_test(tc, test_client_sessions_tls12_kept);
    tcase_add_test(tc, test_client_sessions_threads);
    tcase_add_test(tc, test_client_sessions_save_load_round_trip);
    tcase_add_test(tc, test_client_sessions_load_missing_file);
    tcase_add_test(tc, test_client_sessions_load_skips_expired_and_keeps_order);
    tcase_add_test(tc, test_client_sessions_load_truncated);
    tcase_add_test(tc, test_client_sessions_load_hostile);
    suite_add_tcase(s, tc);

    tc = tcase_create("tls12");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_client_resume_tls12_ticket);
    tcase_add_test(tc, test_client_resume_tls12_session_id);
    tcase_add_test(tc, test_client_resume_tls12_declined);
    tcase_add_test(tc, test_client_hello_session_ticket_ext);
    tcase_add_test(tc, test_client12_new_session_ticket_parse);
    suite_add_tcase(s, tc);

    tc = tcase_create("adversarial");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_client_resume_sh_bad_identity);
    tcase_add_test(tc, test_client_resume_sh_suite_of_other_hash);
    tcase_add_test(tc, test_client_resume_sh_psk_without_key_share);
    tcase_add_test(tc, test_client_resume_psk_unsolicited);
    tcase_add_test(tc, test_client_resume_hrr_other_hash_drops_psk);
    tcase_add_test(tc, test_client_ee_early_data_unsolicited);
    tcase_add_test(tc, test_client_new_session_ticket_stored);
    tcase_add_test(tc, test_client12_echo_of_invented_session_id);
    tcase_add_test(tc, test_client12_resumed_suite_changed);
    tcase_add_test(tc, test_client12_resumed_without_ems);
    tcase_add_test(tc, test_client12_resumed_missing_ticket);
    tcase_add_test(tc, test_client12_session_ticket_unsolicited);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
