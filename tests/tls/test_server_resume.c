/*
 * test_server_resume.c — the server's side of resumption and 0-RTT (tls/hs/tls12_server.c:
 * find_session, session_fits, resume, plan_session, store_session; tls/hs/tls13_server.c:
 * choose_psk, open_identity, claim_identity, note_early_candidate, accept_early_data,
 * hs_expect_end_of_early_data; tls/conn.c: handle_early_data).
 *
 * Everything runs in memory, mostly an engine client against an engine server
 * (tests/lib/enginepair.h), asserting what a user of the server sees: whether the
 * connection resumed on both sides, that data and exporters agree, which error and alert
 * a refused hello gets. To offer a session somewhere the client would not offer it (under
 * another name, with a damaged ticket, with more 0-RTT permission than the server gave),
 * the tests edit the client's store through its internal API (client_sessions.h); to offer
 * one without extended_master_secret they use the scripted TLS 1.2 client
 * (tests/lib/testclient12.h). A TLS 1.3 ticket is duplicated by saving the store to a file
 * and loading it into a second store, which is how a replay looks to the server.
 *
 * TLS 1.2: resumption by session ID and by RFC 5077 ticket; a session resumes only for its
 * own SNI, only with a suite the config still enables and the client offers, never from a
 * damaged ticket (but a valid session id next to it still resumes); RFC 7627 §5.3 (a
 * stored session offered without EMS is refused with handshake_failure, and a session
 * without EMS is never issued); a ticket from another config sharing the ticketer does
 * not resume where sni_strict refuses the name; the ticket is reissued on resumption and
 * the resumed session keeps EMS. Tickets and cache entries of one version offered in the
 * other open but do not resume, and are not used up by it.
 *
 * TLS 1.3: the shared-ticketer sni_strict case; a ticket resumes only for its own SNI;
 * stateful tickets resume once, and an offer that cannot use one does not spend it. 0-RTT:
 * accepted and read apart from 1-RTT data (before the handshake completes), refused on a
 * replayed ticket (stateless or stateful), on an ALPN that differs from the ticket's, by a
 * config without 0-RTT; more early data than the ticket allowed is fatal
 * (unexpected_message), and a config that now allows less than its ticket announced must
 * not make a client that kept to the ticket fail (test_server_early_data_config_lowered:
 * it does, see there).
 */
#include "tests/lib/enginepair.h"
#include "tests/lib/testclient.h"
#include "tests/lib/testclient12.h"
#include "tests/lib/unit.h"
#include "tls/client_sessions.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define NAME "testserver.com"
#define OTHER_NAME "localhost" /* end.cert covers both; other.cert neither */
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static const uint16_t only_tls12[] = {TLS_VERSION_1_2};

/* ---- configs and connections ---------------------------------------------------------- */

static tls_client_session_store *new_store(void)
{
    tls_client_session_store *st = NULL;
    ck_assert_int_eq(tls_client_session_store_new(8, &st), TLS_OK);
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

static tls_client_config *client12(tls_client_session_store *st, bool no_tickets)
{
    tls_client_config_params p = client_params(st);
    p.versions = only_tls12, p.n_versions = 1;
    p.no_tickets = no_tickets;
    return engine_client_config(&p);
}

static tls_client_config *client13(tls_client_session_store *st, bool early_data)
{
    tls_client_config_params p = client_params(st);
    p.enable_early_data = early_data;
    return engine_client_config(&p);
}

/* The end certificate (P-256, covers NAME and OTHER_NAME), nothing else turned on. */
static tls_server_config_params server_params(void)
{
    tls_server_config_params p;
    memset(&p, 0, sizeof p);
    p.certs = &end_ck[KT_P256];
    p.n_certs = 1;
    return p;
}

static tls_server_config *cache_server(void)
{
    tls_server_config_params sp = server_params();
    sp.session_cache_size = 16;
    return engine_server_config(&sp);
}

static tls_server_config *ticket_server(void)
{
    tls_server_config_params sp = server_params();
    sp.tickets = true;
    return engine_server_config(&sp);
}

static tls_ticketer *new_ticketer(void)
{
    tls_ticketer *tk = NULL;
    ck_assert_int_eq(tls_ticketer_new(3600, &tk), TLS_OK);
    return tk;
}

/* One connection to `name`, run until neither side has anything to say; the configs stay
 * the caller's. Errors are left in p->cerr / p->serr. */
static void run_pair(engine_pair *p, tls_client_config *cc, tls_server_config *sc, const char *name)
{
    engine_pair_init(p, tls_client_config_ref(cc), tls_server_config_ref(sc), name);
    engine_shuttle(p);
}

/* Same, and the handshake must have completed on both sides. */
static void connect_pair(engine_pair *p, tls_client_config *cc, tls_server_config *sc,
                         const char *name)
{
    run_pair(p, cc, sc, name);
    engine_assert_ok(p);
    ck_assert(!tls_conn_is_handshaking(p->c));
    ck_assert(!tls_conn_is_handshaking(p->s));
}

/* Connects, asserts whether both sides resumed, and closes. */
static void expect_resumed(tls_client_config *cc, tls_server_config *sc, const char *name,
                           bool resumed)
{
    engine_pair p;
    connect_pair(&p, cc, sc, name);
    ck_assert_int_eq(tls_conn_resumed(p.c), resumed);
    ck_assert_int_eq(tls_conn_resumed(p.s), resumed);
    engine_pair_free(&p);
}

/* Both sides derive the same exporter output (RFC 5705 / RFC 8446 §7.5). */
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

/* The failure a refused hello must produce: the server's error, its alert at the client. */
static void assert_refused(const engine_pair *p, tls_error err)
{
    ck_assert_msg(p->serr == err, "server: %s", tls_error_name(p->serr));
    ck_assert_msg(p->cerr == TLS_ERR_ALERT_RECEIVED, "client: %s", tls_error_name(p->cerr));
    ck_assert_int_eq(tls_conn_peer_alert(p->c), tls_error_alert(err));
}

/* ---- the client's store --------------------------------------------------------------- */

/* A copy of the TLS 1.2 session the store holds for name (asserted present). */
static tls_client_session12 *session12(tls_client_session_store *st, const char *name)
{
    tls_client_session12 *s = tls__client_sessions_get12(st, name, tls__client_now_ms());
    ck_assert_ptr_nonnull(s);
    return s;
}

/* What a client that mixes up names would do: offer from's session to `to`. */
static void copy_session12(tls_client_session_store *st, const char *from, const char *to)
{
    tls__client_sessions_put12(st, to, session12(st, from));
}

static void corrupt_ticket12(tls_client_session_store *st, const char *name)
{
    tls_client_session12 *s = session12(st, name);
    ck_assert_uint_gt(s->ticket_len, 0);
    s->ticket[s->ticket_len / 2] ^= 0x01;
    tls__client_sessions_put12(st, name, s);
}

static bool any_ticket(const void *arg, const tls_client_ticket13 *t)
{
    (void)arg, (void)t;
    return true;
}

/* The newest TLS 1.3 ticket for name (asserted present), out of the store. */
static tls_client_ticket13 *take13(tls_client_session_store *st, const char *name)
{
    tls_client_ticket13 *t =
        tls__client_sessions_take13(st, name, tls__client_now_ms(), any_ticket, NULL);
    ck_assert_ptr_nonnull(t);
    return t;
}

static size_t tickets_for(tls_client_session_store *st, const char *name)
{
    size_t n = 0;
    bool has12 = false;
    (void)tls__client_sessions_peek(st, name, &n, &has12);
    return n;
}

/* A second store with what st holds now (the file round trip of tlsclient --cache). */
static tls_client_session_store *duplicate_store(tls_client_session_store *st)
{
    char dir[] = "/tmp/moat-sr-XXXXXX", path[64], err[256] = "";
    tls_client_session_store *copy = new_store();

    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof path, "%s/cache", dir);
    ck_assert_msg(tls_client_session_store_save(st, path, err, sizeof err) == TLS_OK, "%s", err);
    ck_assert_msg(tls_client_session_store_load(copy, path, err, sizeof err) == TLS_OK, "%s", err);
    unlink(path);
    rmdir(dir);
    return copy;
}

/* ---- TLS 1.2 ---------------------------------------------------------------------------- */

/* The resumed connection: abbreviated on both sides, keys that agree, data both ways. */
static void assert_resumed12(tls_client_config *cc, tls_server_config *sc, uint32_t seed)
{
    engine_pair p;
    connect_pair(&p, cc, sc, NAME);
    ck_assert_uint_eq(tls_conn_version(p.s), TLS_VERSION_1_2);
    ck_assert(tls_conn_resumed(p.c) && tls_conn_resumed(p.s));
    ck_assert_uint_eq(tls_conn_sig_scheme(p.c), 0); /* no ServerKeyExchange */
    ck_assert(tls_conn_ems(p.c) && tls_conn_ems(p.s));
    ck_assert_uint_eq(tls_conn_cipher_suite(p.s), tls_conn_cipher_suite(p.c));
    assert_exporters_match(&p);
    engine_transfer(&p, p.c, p.s, 3000, seed);
    engine_transfer(&p, p.s, p.c, 3000, seed + 1);
    engine_pair_free(&p);
}

static void assert_full12(tls_client_config *cc, tls_server_config *sc, const char *name)
{
    engine_pair p;
    connect_pair(&p, cc, sc, name);
    ck_assert_uint_eq(tls_conn_version(p.s), TLS_VERSION_1_2);
    ck_assert(!tls_conn_resumed(p.c) && !tls_conn_resumed(p.s));
    ck_assert_uint_ne(tls_conn_sig_scheme(p.c), 0); /* a certificate and a signature */
    ck_assert(tls_conn_ems(p.s));
    assert_exporters_match(&p);
    engine_transfer(&p, p.c, p.s, 100, 99);
    engine_pair_free(&p);
}

START_TEST(test_server_resume12_session_id)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client12(st, true);
    tls_server_config *sc = cache_server();
    engine_pair p;

    connect_pair(&p, cc, sc, NAME);
    ck_assert(!tls_conn_resumed(p.c) && !tls_conn_resumed(p.s));
    ck_assert(tls_conn_ems(p.s));
    engine_pair_free(&p);
    tls_client_session12 *s = session12(st, NAME);
    ck_assert_uint_eq(s->session_id_len, 32); /* the server gave an id ... */
    ck_assert_uint_eq(s->ticket_len, 0);      /* ... and no ticket */
    tls__client_session12_free(s);
    assert_resumed12(cc, sc, 1);
    /* A TLS 1.2 session may be resumed again. */
    assert_resumed12(cc, sc, 3);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_server_resume12_ticket)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client12(st, false);
    tls_server_config *sc = ticket_server();

    assert_full12(cc, sc, NAME);
    tls_client_session12 *s = session12(st, NAME);
    ck_assert_uint_gt(s->ticket_len, 0);
    ck_assert_uint_eq(s->session_id_len, 0); /* RFC 5077 §3.4: a ticket instead of an id */
    tls__client_session12_free(s);
    assert_resumed12(cc, sc, 5);
    assert_resumed12(cc, sc, 7);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* RFC 6066 §3: a session belongs to the name it was made for. The client's store keeps
 * sessions per name, so the session is copied to another name there; offered for that
 * name, or with no name at all, it gets a full handshake, while it still resumes for its
 * own name. */
START_TEST(test_server_resume12_other_sni)
{
    for (int ticket = 0; ticket < 2; ticket++) {
        tls_client_session_store *st = new_store();
        tls_client_config *cc = client12(st, !ticket);
        tls_client_config_params cp = client_params(st);
        cp.versions = only_tls12, cp.n_versions = 1;
        cp.no_tickets = !ticket;
        cp.disable_sni = true;
        tls_client_config *nosni = engine_client_config(&cp);
        tls_server_config *sc = ticket ? ticket_server() : cache_server();

        assert_full12(cc, sc, NAME);
        copy_session12(st, NAME, OTHER_NAME);
        assert_full12(cc, sc, OTHER_NAME);
        assert_resumed12(cc, sc, 11); /* the session itself is good */
        /* Offered without SNI (the server's default certificate covers NAME) ... */
        assert_full12(nosni, sc, NAME);
        /* ... and that handshake's session, made without SNI, offered with it. */
        assert_full12(cc, sc, NAME);
        assert_resumed12(cc, sc, 13);

        tls_client_config_unref(cc);
        tls_client_config_unref(nosni);
        tls_server_config_unref(sc);
        tls_client_session_store_unref(st);
    }
}
END_TEST

/* A session whose suite the server's config no longer enables: a full handshake. Configs
 * do not share a session cache, so the session travels as a ticket between two configs
 * sharing one ticketer. */
START_TEST(test_server_resume12_suite_no_longer_enabled)
{
    static const uint16_t without_aes256[] = {TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256,
                                              TLS_ECDHE_ECDSA_WITH_CHACHA20_POLY1305_SHA256};
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client12(st, false);
    tls_ticketer *tk = new_ticketer();
    tls_server_config_params sp = server_params();
    sp.ticketer = tk;
    tls_server_config *all = engine_server_config(&sp);
    sp.cipher_suites = without_aes256, sp.n_cipher_suites = COUNT(without_aes256);
    tls_server_config *fewer = engine_server_config(&sp);
    engine_pair p;

    connect_pair(&p, cc, all, NAME);
    ck_assert_uint_eq(tls_conn_cipher_suite(p.s), TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
    engine_pair_free(&p);
    connect_pair(&p, cc, fewer, NAME);
    ck_assert(!tls_conn_resumed(p.c) && !tls_conn_resumed(p.s));
    ck_assert_uint_eq(tls_conn_cipher_suite(p.s), TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    ck_assert_uint_ne(tls_conn_sig_scheme(p.c), 0);
    engine_transfer(&p, p.c, p.s, 100, 21);
    engine_pair_free(&p);
    /* The ticket `fewer` issued (AES-128, which `all` enables) resumes on `all`: the
     * ticketer is shared, so only the suite stood in the way. */
    connect_pair(&p, cc, all, NAME);
    ck_assert(tls_conn_resumed(p.c) && tls_conn_resumed(p.s));
    ck_assert_uint_eq(tls_conn_cipher_suite(p.s), TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(all);
    tls_server_config_unref(fewer);
    tls_ticketer_unref(tk);
    tls_client_session_store_unref(st);
}
END_TEST

START_TEST(test_server_resume12_tampered_ticket)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client12(st, false);
    tls_server_config *sc = ticket_server();

    assert_full12(cc, sc, NAME);
    corrupt_ticket12(st, NAME);
    assert_full12(cc, sc, NAME);
    /* The full handshake's new ticket is good. */
    assert_resumed12(cc, sc, 31);

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* A damaged ticket next to a session id the cache knows: the id resumes. */
START_TEST(test_server_resume12_tampered_ticket_valid_session_id)
{
    tls_client_session_store *st = new_store();
    tls_client_config *by_id = client12(st, true), *with_tickets = client12(st, false);
    tls_server_config_params sp = server_params();
    sp.tickets = true;
    sp.session_cache_size = 16;
    tls_server_config *sc = engine_server_config(&sp);

    /* A full handshake without session_ticket: a cache entry and its id. */
    assert_full12(by_id, sc, NAME);
    /* Resumed by that id with session_ticket offered: the server adds a ticket. */
    assert_resumed12(with_tickets, sc, 41);
    tls_client_session12 *s = session12(st, NAME);
    ck_assert_uint_eq(s->session_id_len, 32);
    ck_assert_uint_gt(s->ticket_len, 0);
    tls__client_session12_free(s);
    corrupt_ticket12(st, NAME);
    assert_resumed12(with_tickets, sc, 43);

    tls_client_config_unref(by_id);
    tls_client_config_unref(with_tickets);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* Runs a scripted TLS 1.2 hello for NAME against a new connection of sc. */
static tls_error scripted12(tls_server_config *sc, const t12_options *o, t12_client **out,
                            tls_conn **server)
{
    *out = t12_client_new(o);
    ck_assert_int_eq(tls_server_conn_new(sc, server), TLS_OK);
    t12_start(*out);
    return t12_pump(*out, *server, 0);
}

/* RFC 7627 §5.3: our sessions all have an extended master secret; a hello offering one
 * without the extension is a downgrade attempt and fails with handshake_failure (rather
 * than falling back to a full handshake). The same offer with EMS resumes; a hello
 * without EMS and no known session gets a full handshake (and no session to resume). */
START_TEST(test_server_resume12_offered_without_ems)
{
    tls_client_session_store *st = new_store();
    tls_client_config *by_id = client12(st, true), *with_tickets = client12(st, false);
    tls_server_config_params sp = server_params();
    sp.tickets = true;
    sp.session_cache_size = 16;
    tls_server_config *sc = engine_server_config(&sp);
    uint8_t random_id[32];

    engine_fill_pattern(random_id, sizeof random_id, 51);
    assert_full12(by_id, sc, NAME);
    tls_client_session12 *cached = session12(st, NAME);
    ck_assert_uint_eq(cached->session_id_len, 32);
    tls__client_sessions_forget12(st, NAME);
    assert_full12(with_tickets, sc, NAME);
    tls_client_session12 *ticketed = session12(st, NAME);
    ck_assert_uint_gt(ticketed->ticket_len, 0);

    for (int by_ticket = 0; by_ticket < 2; by_ticket++) {
        t12_options o;
        memset(&o, 0, sizeof o);
        o.sni = NAME;
        if (by_ticket) {
            o.session_id = random_id, o.session_id_len = sizeof random_id;
            o.session_ticket = true;
            o.ticket = ticketed->ticket, o.ticket_len = ticketed->ticket_len;
        } else {
            o.session_id = cached->session_id, o.session_id_len = cached->session_id_len;
        }
        t12_client *c;
        tls_conn *s;

        o.omit_ems = true;
        tls_error e = scripted12(sc, &o, &c, &s);
        ck_assert_msg(e == TLS_ERR_RESUMPTION_EMS_MISMATCH, "%s", tls_error_name(e));
        ck_assert_int_eq(tls_conn_error(s), TLS_ERR_RESUMPTION_EMS_MISMATCH);
        ck_assert_uint_eq(c->n_alerts, 1);
        ck_assert_uint_eq(c->alerts[0].level, 2);
        ck_assert_int_eq(t12_last_alert(c), TLS_ALERT_HANDSHAKE_FAILURE);
        ck_assert_uint_eq(c->server_msgs, 0); /* not even a ServerHello */
        ck_assert(!tls_conn_resumed(s));
        t12_client_free(c);
        tls_conn_free(s);

        /* With EMS the very same offer resumes (the scripted client stops at the
         * server's ChangeCipherSpec: it cannot run an abbreviated handshake). */
        o.omit_ems = false;
        e = scripted12(sc, &o, &c, &s);
        ck_assert_msg(e == TLS_OK, "%s", tls_error_name(e));
        ck_assert(tls_conn_resumed(s));
        ck_assert_uint_eq(c->session_id_len, o.session_id_len); /* echoed */
        ck_assert_uint_eq(c->n_certs, 0);
        ck_assert_uint_eq(c->server_ccs, 1);
        t12_client_free(c);
        tls_conn_free(s);
    }

    /* No EMS and an id the server does not know: a full handshake, and no session id
     * (a session without EMS is never kept). */
    t12_options o;
    memset(&o, 0, sizeof o);
    o.sni = NAME;
    o.omit_ems = true;
    o.session_id = random_id, o.session_id_len = sizeof random_id;
    t12_client *c;
    tls_conn *s;
    ck_assert_int_eq(scripted12(sc, &o, &c, &s), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert_int_eq(c->state, T12_STATE_CONNECTED);
    ck_assert(!c->ems && !tls_conn_ems(s) && !tls_conn_resumed(s));
    ck_assert_uint_eq(c->session_id_len, 0);
    t12_client_free(c);
    tls_conn_free(s);
    /* ... nor a ticket when it asks for one. */
    o.session_ticket = true;
    ck_assert_int_eq(scripted12(sc, &o, &c, &s), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert_int_eq(c->state, T12_STATE_CONNECTED);
    ck_assert(!c->session_ticket_acked);
    ck_assert_uint_eq(c->new_tickets, 0);
    t12_client_free(c);
    tls_conn_free(s);
    /* With EMS the same full handshake gets one (RFC 5077 §3.3). */
    o.omit_ems = false;
    ck_assert_int_eq(scripted12(sc, &o, &c, &s), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert_int_eq(c->state, T12_STATE_CONNECTED);
    ck_assert(c->ems && c->session_ticket_acked);
    ck_assert_uint_eq(c->new_tickets, 1);
    ck_assert_uint_gt(c->new_ticket_len, 0);
    t12_client_free(c);
    tls_conn_free(s);

    tls__client_session12_free(cached);
    tls__client_session12_free(ticketed);
    tls_client_config_unref(by_id);
    tls_client_config_unref(with_tickets);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* Two configs share a ticketer; `strict` has a certificate that does not cover NAME and
 * refuses names it has no certificate for. A ticket issued for NAME by the other config
 * must not get past that: the hello fails as a full one would. A third config sharing
 * the ticketer, with a certificate for NAME, resumes it (the ticket was good). */
static void shared_ticketer_sni_strict(tls_client_config *cc, bool tls12)
{
    tls_ticketer *tk = new_ticketer();
    tls_server_config_params sp = server_params();
    sp.ticketer = tk;
    tls_server_config *issuer = engine_server_config(&sp);
    sp.sni_strict = true;
    tls_server_config *strict_ok = engine_server_config(&sp);
    sp.certs = &other_ck[KT_P256];
    tls_server_config *strict_other = engine_server_config(&sp);
    tls_client_config_params plain = client_params(NULL);
    if (tls12)
        plain.versions = only_tls12, plain.n_versions = 1;
    tls_client_config *no_store = engine_client_config(&plain);
    engine_pair p;

    ck_assert(!tls_certified_key_covers(other_ck[KT_P256], NAME));
    expect_resumed(cc, issuer, NAME, false);
    expect_resumed(cc, strict_ok, NAME, true);
    run_pair(&p, cc, strict_other, NAME);
    assert_refused(&p, TLS_ERR_NO_CERTIFICATE_FOR_NAME);
    ck_assert(!tls_conn_resumed(p.s));
    ck_assert_uint_eq(tls_conn_version(p.s), tls12 ? TLS_VERSION_1_2 : TLS_VERSION_1_3);
    engine_pair_free(&p);
    /* What a full handshake gets there. */
    run_pair(&p, no_store, strict_other, NAME);
    assert_refused(&p, TLS_ERR_NO_CERTIFICATE_FOR_NAME);
    engine_pair_free(&p);

    tls_client_config_unref(no_store);
    tls_server_config_unref(issuer);
    tls_server_config_unref(strict_ok);
    tls_server_config_unref(strict_other);
    tls_ticketer_unref(tk);
}

START_TEST(test_server_resume12_shared_ticketer_sni_strict)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client12(st, false);
    shared_ticketer_sni_strict(cc, true);
    tls_client_config_unref(cc);
    tls_client_session_store_unref(st);
}
END_TEST

/* The ticket is reissued on resumption (RFC 5077 §3.1: under the current key, so a
 * session in use outlives key rotations), and the resumed handshake keeps EMS. */
START_TEST(test_server_resume12_ticket_reissued)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client12(st, false);
    tls_server_config *sc = ticket_server();

    assert_full12(cc, sc, NAME);
    tls_client_session12 *first = session12(st, NAME);
    assert_resumed12(cc, sc, 61); /* asserts EMS on both sides */
    tls_client_session12 *second = session12(st, NAME);
    ck_assert_uint_gt(second->ticket_len, 0);
    ck_assert(first->ticket_len != second->ticket_len ||
              memcmp(first->ticket, second->ticket, first->ticket_len) != 0);
    ck_assert(second->ems);
    ck_assert(!memcmp(first->master, second->master, sizeof first->master));
    /* The new ticket resumes, and the old one still does (stateless, not yet expired). */
    assert_resumed12(cc, sc, 63);
    tls__client_sessions_put12(st, NAME, first);
    assert_resumed12(cc, sc, 65);

    tls__client_session12_free(second);
    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* RFC 5246 §7.4.1.2: the resumed session's suite must be among the client's. The engine
 * client does not offer a session whose suite it dropped, so the scripted client offers
 * the session id with another suite list: a full handshake with a suite it offered. */
START_TEST(test_server_resume12_suite_not_offered)
{
    static const uint16_t aes128[] = {TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256};
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client12(st, true);
    tls_server_config *sc = cache_server();
    t12_client *c;
    tls_conn *s;

    assert_full12(cc, sc, NAME);
    tls_client_session12 *cached = session12(st, NAME);
    ck_assert_uint_eq(cached->suite, TLS_ECDHE_ECDSA_WITH_AES_256_GCM_SHA384);
    t12_options o;
    memset(&o, 0, sizeof o);
    o.sni = NAME;
    o.session_id = cached->session_id, o.session_id_len = cached->session_id_len;
    o.suites = aes128, o.n_suites = COUNT(aes128);
    ck_assert_int_eq(scripted12(sc, &o, &c, &s), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert_int_eq(c->state, T12_STATE_CONNECTED);
    ck_assert(!tls_conn_resumed(s));
    ck_assert_uint_eq(c->suite, TLS_ECDHE_ECDSA_WITH_AES_128_GCM_SHA256);
    ck_assert_uint_gt(c->n_certs, 0);
    t12_client_free(c);
    tls_conn_free(s);

    tls__client_session12_free(cached);
    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* A full TLS 1.2 handshake of the scripted client (EMS offered) with this offer. */
static void assert_scripted12_full(tls_server_config *sc, const uint8_t *id, size_t id_len,
                                   const uint8_t *ticket, size_t ticket_len)
{
    t12_options o;
    t12_client *c;
    tls_conn *s;
    memset(&o, 0, sizeof o);
    o.sni = NAME;
    o.session_id = id, o.session_id_len = id_len;
    o.session_ticket = ticket != NULL;
    o.ticket = ticket, o.ticket_len = ticket_len;
    ck_assert_int_eq(scripted12(sc, &o, &c, &s), TLS_OK);
    ck_assert_msg(!c->failed, "%s", c->error);
    ck_assert_int_eq(c->state, T12_STATE_CONNECTED);
    ck_assert(!tls_conn_resumed(s));
    ck_assert_uint_gt(c->n_certs, 0);
    t12_client_free(c);
    tls_conn_free(s);
}

/* A full TLS 1.3 handshake of the scripted client offering `identity` as its PSK (with a
 * PSK it made up: were the identity taken, the binder would fail). */
static void assert_scripted13_full(tls_server_config *sc, const uint8_t *identity, size_t len)
{
    static const uint16_t aes128[] = {TLS_AES_128_GCM_SHA256};
    tc_ticket t;
    tc_options o;
    tls_conn *s;
    memset(&t, 0, sizeof t);
    t.suite = TLS_AES_128_GCM_SHA256;
    t.psk_len = 32;
    memset(t.psk, 0x5a, t.psk_len);
    t.lifetime = 3600;
    ck_assert_uint_le(len, sizeof t.ticket);
    memcpy(t.ticket, identity, len);
    t.ticket_len = len;
    memset(&o, 0, sizeof o);
    o.sni = NAME;
    o.suites = aes128, o.n_suites = 1;
    o.resume = &t;
    ck_assert_int_eq(tls_server_conn_new(sc, &s), TLS_OK);
    tc_client *c = tc_client_new(&o);
    tc_start(c);
    tls_error e = tc_pump(c, s, 0);
    ck_assert_msg(e == TLS_OK, "server: %s", tls_error_name(e));
    ck_assert_msg(!c->failed, "client: %s", c->error);
    ck_assert_int_eq(c->state, TC_STATE_CONNECTED);
    ck_assert(!c->psk_accepted && !tls_conn_resumed(s));
    ck_assert_uint_gt(c->n_certs, 0);
    tc_client_free(c);
    tls_conn_free(s);
}

/* One ticketer (or one session cache) serves both versions: a TLS 1.3 ticket offered as a
 * TLS 1.2 session (ticket or id), or a TLS 1.2 session offered as a TLS 1.3 PSK, opens but
 * must not resume; and looking at it does not use it up. */
START_TEST(test_server_resume_cross_version)
{
    for (int stateful = 0; stateful < 2; stateful++) {
        tls_client_session_store *st13 = new_store(), *st12 = new_store();
        tls_client_config *cc13 = client13(st13, false), *cc12 = client12(st12, stateful);
        tls_server_config_params sp = server_params();
        sp.tickets = !stateful;
        sp.session_cache_size = stateful ? 16 : 0;
        sp.n_tickets = 1;
        tls_server_config *sc = engine_server_config(&sp);

        expect_resumed(cc13, sc, NAME, false);
        assert_full12(cc12, sc, NAME);
        tls_client_ticket13 *t13 = take13(st13, NAME);
        tls_client_session12 *s12 = session12(st12, NAME);
        if (stateful) {
            ck_assert_uint_eq(t13->ticket_len, 32); /* a key into the cache */
            assert_scripted12_full(sc, t13->ticket, t13->ticket_len, NULL, 0);
            assert_scripted13_full(sc, s12->session_id, s12->session_id_len);
        } else {
            uint8_t id[32];
            engine_fill_pattern(id, sizeof id, 151);
            assert_scripted12_full(sc, id, sizeof id, t13->ticket, t13->ticket_len);
            assert_scripted13_full(sc, s12->ticket, s12->ticket_len);
        }
        tls__client_sessions_put13(st13, NAME, t13);
        expect_resumed(cc13, sc, NAME, true);
        expect_resumed(cc12, sc, NAME, true);

        tls__client_session12_free(s12);
        tls_client_config_unref(cc13);
        tls_client_config_unref(cc12);
        tls_server_config_unref(sc);
        tls_client_session_store_unref(st13);
        tls_client_session_store_unref(st12);
    }
}
END_TEST

/* ---- TLS 1.3 ---------------------------------------------------------------------------- */

START_TEST(test_server_resume13_shared_ticketer_sni_strict)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client13(st, false);
    shared_ticketer_sni_strict(cc, false);
    tls_client_config_unref(cc);
    tls_client_session_store_unref(st);
}
END_TEST

/* RFC 8446 §4.6.1 / RFC 6066 §3: a ticket offered for another name (or none) is ignored. */
START_TEST(test_server_resume13_other_sni)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client13(st, false);
    tls_client_config_params cp = client_params(st);
    cp.disable_sni = true;
    tls_client_config *nosni = engine_client_config(&cp);
    tls_server_config_params sp = server_params();
    sp.tickets = true;
    sp.n_tickets = 3;
    tls_server_config *sc = engine_server_config(&sp);

    expect_resumed(cc, sc, NAME, false);
    ck_assert_uint_eq(tickets_for(st, NAME), 3);
    tls__client_sessions_put13(st, OTHER_NAME, take13(st, NAME));
    ck_assert_uint_eq(tickets_for(st, OTHER_NAME), 1);
    expect_resumed(cc, sc, OTHER_NAME, false);
    expect_resumed(cc, sc, NAME, true); /* NAME's own tickets are good */
    /* Offered without SNI (the default certificate covers NAME) ... */
    expect_resumed(nosni, sc, NAME, false);
    /* ... and a ticket made without SNI (the newest now) offered with it. */
    expect_resumed(cc, sc, NAME, false);

    tls_client_config_unref(cc);
    tls_client_config_unref(nosni);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

static tls_server_config *stateful_server(void)
{
    tls_server_config_params sp = server_params();
    sp.session_cache_size = 16;
    sp.n_tickets = 1;
    return engine_server_config(&sp);
}

/* Stateful tickets (a session cache, no ticketer): the ticket resumes once. The second
 * offer of the same ticket (a copy of the store) gets a full handshake. */
START_TEST(test_server_resume13_stateful_ticket_once)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client13(st, false);
    tls_server_config *sc = stateful_server();
    engine_pair p;

    expect_resumed(cc, sc, NAME, false);
    ck_assert_uint_eq(tickets_for(st, NAME), 1);
    tls_client_session_store *replay = duplicate_store(st);
    tls_client_config *cc2 = client13(replay, false);
    ck_assert_uint_eq(tickets_for(replay, NAME), 1);

    connect_pair(&p, cc, sc, NAME);
    ck_assert(tls_conn_resumed(p.c) && tls_conn_resumed(p.s));
    ck_assert_uint_eq(tls_conn_version(p.s), TLS_VERSION_1_3);
    ck_assert_uint_eq(tls_conn_sig_scheme(p.c), 0);
    assert_exporters_match(&p);
    engine_transfer(&p, p.c, p.s, 2000, 71);
    engine_transfer(&p, p.s, p.c, 2000, 72);
    engine_pair_free(&p);

    connect_pair(&p, cc2, sc, NAME);
    ck_assert(!tls_conn_resumed(p.c) && !tls_conn_resumed(p.s));
    ck_assert_uint_ne(tls_conn_sig_scheme(p.c), 0);
    engine_transfer(&p, p.c, p.s, 100, 73);
    engine_pair_free(&p);

    /* The tickets both connections got are each good once more. */
    expect_resumed(cc, sc, NAME, true);
    expect_resumed(cc2, sc, NAME, true);

    tls_client_config_unref(cc);
    tls_client_config_unref(cc2);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
    tls_client_session_store_unref(replay);
}
END_TEST

/* A hello that cannot use a stateful ticket (another name) does not spend it. */
START_TEST(test_server_resume13_stateful_ticket_unfit_offer_keeps_it)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client13(st, false);
    tls_server_config *sc = stateful_server();

    expect_resumed(cc, sc, NAME, false);
    tls_client_session_store *copy = duplicate_store(st);
    tls_client_config *cc2 = client13(copy, false);
    tls__client_sessions_put13(copy, OTHER_NAME, take13(copy, NAME));
    expect_resumed(cc2, sc, OTHER_NAME, false);
    expect_resumed(cc, sc, NAME, true);

    tls_client_config_unref(cc);
    tls_client_config_unref(cc2);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
    tls_client_session_store_unref(copy);
}
END_TEST

/* ---- 0-RTT ------------------------------------------------------------------------------ */

#define EARLY_MAX 100

static tls_server_config *early_server(tls_ticketer *tk, uint32_t max_early,
                                       const char *const *alpn, size_t n_alpn)
{
    tls_server_config_params sp = server_params();
    sp.tickets = true;
    sp.ticketer = tk;
    sp.max_early_data_size = max_early;
    sp.alpn = alpn, sp.n_alpn = n_alpn;
    return engine_server_config(&sp);
}

/* A connection that sends len bytes of early data (all of them must be taken) and runs
 * the handshake. */
static void connect_with_early_data(engine_pair *p, tls_client_config *cc, tls_server_config *sc,
                                    size_t len, uint32_t seed)
{
    uint8_t data[16384];
    size_t n = 0;

    ck_assert_uint_le(len, sizeof data);
    engine_pair_init(p, tls_client_config_ref(cc), tls_server_config_ref(sc), NAME);
    ck_assert_uint_ge(tls_conn_early_data_capacity(p->c), len);
    engine_fill_pattern(data, len, seed);
    ck_assert_int_eq(tls_conn_write_early_data(p->c, data, len, &n), TLS_OK);
    ck_assert_uint_eq(n, len);
    engine_shuttle(p);
}

/* The server's early data: exactly `len` bytes of the pattern `seed` (0: none). */
static void assert_early_data_read(tls_conn *s, size_t len, uint32_t seed)
{
    uint8_t want[16384], got[16384 + 1];
    size_t n = 0;

    ck_assert_int_eq(tls_conn_read_early_data(s, got, sizeof got, &n), TLS_OK);
    ck_assert_uint_eq(n, len);
    engine_fill_pattern(want, len, seed);
    ck_assert(!memcmp(got, want, len));
    ck_assert_int_eq(tls_conn_read_early_data(s, got, sizeof got, &n), TLS_OK);
    ck_assert_uint_eq(n, 0);
}

/* Refused 0-RTT: the handshake completes and resumes, neither side says accepted, the
 * server has no early data, and the client's resend arrives once, as 1-RTT data. */
static void assert_early_data_refused(engine_pair *p, bool resumed, uint32_t seed)
{
    uint8_t extra[8];
    size_t n = 0;

    engine_assert_ok(p);
    ck_assert(!tls_conn_is_handshaking(p->c) && !tls_conn_is_handshaking(p->s));
    ck_assert_int_eq(tls_conn_resumed(p->c), resumed);
    ck_assert_int_eq(tls_conn_resumed(p->s), resumed);
    ck_assert(!tls_conn_early_data_accepted(p->c));
    ck_assert(!tls_conn_early_data_accepted(p->s));
    assert_early_data_read(p->s, 0, 0);
    ck_assert_int_eq(tls_conn_read(p->s, extra, sizeof extra, &n), TLS_OK);
    ck_assert_uint_eq(n, 0);
    engine_transfer(p, p->c, p->s, 50, seed);
}

/* Accepted 0-RTT is read with tls_conn_read_early_data, never with tls_conn_read; the
 * same (stateless) ticket replayed from a copy of the store resumes, but without 0-RTT
 * (RFC 8446 §8.1: the ticketer lets each ticket carry early data once). */
START_TEST(test_server_early_data_accepted_once)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client13(st, true);
    tls_server_config_params sp = server_params();
    sp.tickets = true;
    sp.n_tickets = 1;
    sp.max_early_data_size = EARLY_MAX;
    tls_server_config *sc = engine_server_config(&sp);
    uint8_t buf[256];
    engine_pair p;
    size_t n = 0;

    expect_resumed(cc, sc, NAME, false);
    tls_client_session_store *replay = duplicate_store(st);
    tls_client_config *cc2 = client13(replay, true);

    /* The client's first flight alone: the early data can be read at once, before the
     * handshake completes (that is what 0-RTT is for). */
    engine_pair_init(&p, tls_client_config_ref(cc), tls_server_config_ref(sc), NAME);
    ck_assert_uint_eq(tls_conn_early_data_capacity(p.c), EARLY_MAX);
    engine_fill_pattern(buf, EARLY_MAX, 81);
    ck_assert_int_eq(tls_conn_write_early_data(p.c, buf, EARLY_MAX, &n), TLS_OK);
    ck_assert_uint_eq(n, EARLY_MAX);
    size_t len = 0, used = 0;
    const uint8_t *flight = tls_conn_peek_tls(p.c, &len);
    ck_assert_int_eq(tls_conn_read_tls(p.s, flight, len, &used), TLS_OK);
    ck_assert_uint_eq(used, len);
    tls_conn_consume_tls(p.c, used);
    ck_assert_int_eq(tls_conn_process(p.s), TLS_OK);
    ck_assert(tls_conn_is_handshaking(p.s));
    ck_assert(tls_conn_resumed(p.s) && tls_conn_early_data_accepted(p.s));
    ck_assert_int_eq(tls_conn_read(p.s, buf, sizeof buf, &n), TLS_OK);
    ck_assert_uint_eq(n, 0); /* not 1-RTT data */
    assert_early_data_read(p.s, EARLY_MAX, 81);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(!tls_conn_is_handshaking(p.c) && !tls_conn_is_handshaking(p.s));
    ck_assert(tls_conn_resumed(p.c) && tls_conn_resumed(p.s));
    ck_assert(tls_conn_early_data_accepted(p.c));
    ck_assert(tls_conn_early_data_accepted(p.s));
    ck_assert_int_eq(tls_conn_read(p.s, buf, sizeof buf, &n), TLS_OK);
    ck_assert_uint_eq(n, 0);
    assert_early_data_read(p.s, 0, 0);
    engine_transfer(&p, p.c, p.s, 500, 82);
    engine_transfer(&p, p.s, p.c, 500, 83);
    engine_pair_free(&p);

    ck_assert_uint_eq(tickets_for(replay, NAME), 1);
    connect_with_early_data(&p, cc2, sc, 60, 84);
    assert_early_data_refused(&p, true, 85);
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_client_config_unref(cc2);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
    tls_client_session_store_unref(replay);
}
END_TEST

/* Stateful tickets carry 0-RTT once too: the ticket itself is single-use, so the replay
 * is a full handshake whose early data is skipped. */
START_TEST(test_server_early_data_stateful_ticket)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client13(st, true);
    tls_server_config_params sp = server_params();
    sp.session_cache_size = 16;
    sp.n_tickets = 1;
    sp.max_early_data_size = EARLY_MAX;
    tls_server_config *sc = engine_server_config(&sp);
    engine_pair p;

    expect_resumed(cc, sc, NAME, false);
    tls_client_session_store *replay = duplicate_store(st);
    tls_client_config *cc2 = client13(replay, true);
    connect_with_early_data(&p, cc, sc, 70, 131);
    engine_assert_ok(&p);
    ck_assert(tls_conn_resumed(p.s));
    ck_assert(tls_conn_early_data_accepted(p.c) && tls_conn_early_data_accepted(p.s));
    assert_early_data_read(p.s, 70, 131);
    engine_transfer(&p, p.s, p.c, 100, 132);
    engine_pair_free(&p);
    connect_with_early_data(&p, cc2, sc, 70, 133);
    assert_early_data_refused(&p, false, 134);
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_client_config_unref(cc2);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
    tls_client_session_store_unref(replay);
}
END_TEST

/* §4.2.10: 0-RTT needs the ALPN the ticket was issued with. Two configs share a ticketer
 * and differ in ALPN preference: the client offers both protocols and a ticket for h2;
 * the config that picks http/1.1 resumes without 0-RTT. */
START_TEST(test_server_early_data_alpn_mismatch)
{
    static const char *const h2_first[] = {"h2", "http/1.1"};
    static const char *const h1_first[] = {"http/1.1", "h2"};
    tls_client_session_store *st = new_store();
    tls_client_config_params cp = client_params(st);
    cp.enable_early_data = true;
    cp.alpn = h2_first, cp.n_alpn = COUNT(h2_first);
    tls_client_config *cc = engine_client_config(&cp);
    tls_ticketer *tk = new_ticketer();
    tls_server_config *h2 = early_server(tk, EARLY_MAX, h2_first, 2);
    tls_server_config *h1 = early_server(tk, EARLY_MAX, h1_first, 2);
    const uint8_t *alpn;
    engine_pair p;
    size_t len = 0;

    expect_resumed(cc, h2, NAME, false);
    /* An h2 ticket on the h2 config: accepted. */
    connect_with_early_data(&p, cc, h2, 40, 91);
    engine_assert_ok(&p);
    ck_assert(tls_conn_early_data_accepted(p.c) && tls_conn_early_data_accepted(p.s));
    assert_early_data_read(p.s, 40, 91);
    engine_pair_free(&p);
    /* Another h2 ticket on the config that picks http/1.1. */
    connect_with_early_data(&p, cc, h1, 40, 92);
    alpn = tls_conn_alpn(p.s, &len);
    ck_assert(len == 8 && !memcmp(alpn, "http/1.1", 8));
    assert_early_data_refused(&p, true, 93);
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(h2);
    tls_server_config_unref(h1);
    tls_ticketer_unref(tk);
    tls_client_session_store_unref(st);
}
END_TEST

/* A config with max_early_data_size 0 resumes a ticket that allows 0-RTT (issued by a
 * config sharing the ticketer) without accepting early data, and its own tickets do not
 * allow any. */
START_TEST(test_server_early_data_config_without_0rtt)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client13(st, true);
    tls_ticketer *tk = new_ticketer();
    tls_server_config *with = early_server(tk, EARLY_MAX, NULL, 0);
    tls_server_config *without = early_server(tk, 0, NULL, 0);
    engine_pair p;

    expect_resumed(cc, with, NAME, false);
    connect_with_early_data(&p, cc, without, EARLY_MAX, 101);
    assert_early_data_refused(&p, true, 102);
    engine_pair_free(&p);
    /* The newest ticket is one `without` issued: no early data offered. */
    engine_pair_init(&p, tls_client_config_ref(cc), tls_server_config_ref(without), NAME);
    ck_assert_uint_eq(tls_conn_early_data_capacity(p.c), 0);
    engine_shuttle(&p);
    engine_assert_ok(&p);
    ck_assert(tls_conn_resumed(p.s) && !tls_conn_early_data_accepted(p.s));
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(with);
    tls_server_config_unref(without);
    tls_ticketer_unref(tk);
    tls_client_session_store_unref(st);
}
END_TEST

/* §4.2.10: more 0-RTT data than max_early_data_size is unexpected_message. The engine
 * client keeps to its ticket's limit, so the stored ticket is made to claim more than the
 * server gave; the excess comes in one record, or in a second one. */
START_TEST(test_server_early_data_too_much)
{
    static const size_t writes[][2] = {{EARLY_MAX + 1, 0}, {60, EARLY_MAX + 1 - 60}};
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client13(st, true);
    tls_server_config *sc = early_server(NULL, EARLY_MAX, NULL, 0);
    uint8_t data[2 * EARLY_MAX];

    engine_fill_pattern(data, sizeof data, 111);
    for (size_t i = 0; i < COUNT(writes); i++) {
        engine_pair p;
        size_t n = 0;

        expect_resumed(cc, sc, NAME, i > 0);
        tls_client_ticket13 *t = take13(st, NAME);
        ck_assert_uint_eq(t->max_early_data, EARLY_MAX); /* what the server announced */
        t->max_early_data = 1000;
        tls__client_sessions_put13(st, NAME, t);
        engine_pair_init(&p, tls_client_config_ref(cc), tls_server_config_ref(sc), NAME);
        ck_assert_uint_eq(tls_conn_early_data_capacity(p.c), 1000);
        ck_assert_int_eq(tls_conn_write_early_data(p.c, data, writes[i][0], &n), TLS_OK);
        ck_assert_uint_eq(n, writes[i][0]);
        if (writes[i][1]) {
            ck_assert_int_eq(tls_conn_write_early_data(p.c, data + n, writes[i][1], &n), TLS_OK);
            ck_assert_uint_eq(n, writes[i][1]);
        }
        engine_shuttle(&p);
        ck_assert(tls_conn_resumed(p.s) && tls_conn_early_data_accepted(p.s));
        assert_refused(&p, TLS_ERR_TOO_MUCH_EARLY_DATA);
        ck_assert_int_eq(tls_conn_peer_alert(p.c), TLS_ALERT_UNEXPECTED_MESSAGE);
        engine_pair_free(&p);
    }

    tls_client_config_unref(cc);
    tls_server_config_unref(sc);
    tls_client_session_store_unref(st);
}
END_TEST

/* The limit is the ticket's (what the client was told), even where the config resuming it
 * would allow more: a ticket issued for 50 bytes, resumed by a config sharing the
 * ticketer that allows 100, takes 50 and not 51. */
START_TEST(test_server_early_data_ticket_limit)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client13(st, true);
    tls_ticketer *tk = new_ticketer();
    tls_server_config *small = early_server(tk, 50, NULL, 0);
    tls_server_config *large = early_server(tk, EARLY_MAX, NULL, 0);
    uint8_t data[51];
    engine_pair p;
    size_t n = 0;

    expect_resumed(cc, small, NAME, false);
    ck_assert_uint_eq(tickets_for(st, NAME), 2);
    /* As announced: 50 bytes, accepted. */
    connect_with_early_data(&p, cc, large, 50, 121);
    engine_assert_ok(&p);
    ck_assert(tls_conn_early_data_accepted(p.s));
    assert_early_data_read(p.s, 50, 121);
    engine_pair_free(&p);
    /* The other ticket of `small`, made to claim more: 51 bytes are too many. */
    tls_client_ticket13 *t = take13(st, NAME);
    while (t->max_early_data != 50) { /* skip the tickets `large` just issued */
        tls__client_ticket13_free(t);
        t = take13(st, NAME);
    }
    t->max_early_data = 1000;
    tls__client_sessions_put13(st, NAME, t);
    engine_pair_init(&p, tls_client_config_ref(cc), tls_server_config_ref(large), NAME);
    engine_fill_pattern(data, sizeof data, 122);
    ck_assert_int_eq(tls_conn_write_early_data(p.c, data, sizeof data, &n), TLS_OK);
    ck_assert_uint_eq(n, sizeof data);
    engine_shuttle(&p);
    assert_refused(&p, TLS_ERR_TOO_MUCH_EARLY_DATA);
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(small);
    tls_server_config_unref(large);
    tls_ticketer_unref(tk);
    tls_client_session_store_unref(st);
}
END_TEST

/* A config that allows less 0-RTT than a ticket it resumes announced (a reload lowered
 * max_early_data_size; the ticketer outlived it): the client keeps to the ticket's limit,
 * which is all it knows (§4.2.10), so the server must not fail it for that. Either it
 * refuses 0-RTT (the client resends) or it takes what the ticket allowed. */
START_TEST(test_server_early_data_config_lowered)
{
    tls_client_session_store *st = new_store();
    tls_client_config *cc = client13(st, true);
    tls_ticketer *tk = new_ticketer();
    tls_server_config *large = early_server(tk, EARLY_MAX, NULL, 0);
    tls_server_config *small = early_server(tk, 50, NULL, 0);
    engine_pair p;

    expect_resumed(cc, large, NAME, false);
    connect_with_early_data(&p, cc, small, EARLY_MAX, 141);
    ck_assert_msg(p.serr == TLS_OK, "server: %s", tls_error_name(p.serr));
    engine_assert_ok(&p);
    ck_assert(tls_conn_resumed(p.s));
    if (tls_conn_early_data_accepted(p.s)) {
        ck_assert(tls_conn_early_data_accepted(p.c));
        assert_early_data_read(p.s, EARLY_MAX, 141);
    } else {
        assert_early_data_refused(&p, true, 142);
    }
    engine_pair_free(&p);

    tls_client_config_unref(cc);
    tls_server_config_unref(large);
    tls_server_config_unref(small);
    tls_ticketer_unref(tk);
    tls_client_session_store_unref(st);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("server_resume");
    TCase *tc = tcase_create("tls12");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_server_resume12_session_id);
    tcase_add_test(tc, test_server_resume12_ticket);
    tcase_add_test(tc, test_server_resume12_other_sni);
    tcase_add_test(tc, test_server_resume12_suite_no_longer_enabled);
    tcase_add_test(tc, test_server_resume12_suite_not_offered);
    tcase_add_test(tc, test_server_resume12_tampered_ticket);
    tcase_add_test(tc, test_server_resume12_tampered_ticket_valid_session_id);
    tcase_add_test(tc, test_server_resume12_offered_without_ems);
    tcase_add_test(tc, test_server_resume12_shared_ticketer_sni_strict);
    tcase_add_test(tc, test_server_resume12_ticket_reissued);
    tcase_add_test(tc, test_server_resume_cross_version);
    suite_add_tcase(s, tc);

    tc = tcase_create("tls13");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_server_resume13_shared_ticketer_sni_strict);
    tcase_add_test(tc, test_server_resume13_other_sni);
    tcase_add_test(tc, test_server_resume13_stateful_ticket_once);
    tcase_add_test(tc, test_server_resume13_stateful_ticket_unfit_offer_keeps_it);
    suite_add_tcase(s, tc);

    tc = tcase_create("early_data");
    tcase_add_unchecked_fixture(tc, engine_load_fixture, engine_free_fixture);
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_server_early_data_accepted_once);
    tcase_add_test(tc, test_server_early_data_stateful_ticket);
    tcase_add_test(tc, test_server_early_data_alpn_mismatch);
    tcase_add_test(tc, test_server_early_data_config_without_0rtt);
    tcase_add_test(tc, test_server_early_data_too_much);
    tcase_add_test(tc, test_server_early_data_ticket_limit);
    tcase_add_test(tc, test_server_early_data_config_lowered);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
