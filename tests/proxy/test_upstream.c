/*
 * test_upstream.c — unit tests for proxy/upstream.c: server selection and passive health.
 *
 * Backends are built by hand (only cfg_address.text and n_servers matter; no YAML, no
 * addresses). Time is explicit now_ms values, so down periods are checked to the
 * millisecond. The round-robin cursor is public state, so cases that need a known starting
 * point store it directly and then assert exact indices. The concurrency cases run four
 * threads over one shared set and check, afterwards, invariants that hold for any
 * interleaving: every active count back at 0, the cursor advanced once per pick, failure
 * counters equal to the failures reported, and (round robin, all up) an exactly even spread.
 */
#include "proxy/upstream.h"
#include "tests/lib/unit.h"

#include <limits.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <string.h>

#define MAX_TEST_SERVERS 70
#define T0 1000 /* an arbitrary monotonic start time */

static cfg_address addrs[MAX_TEST_SERVERS];
static char addr_text[MAX_TEST_SERVERS][32];

/* A backend of n servers "10.0.0.<i>:80" balanced by mode. Static storage: one per test. */
static cfg_backend make_backend(size_t n, cfg_balance mode)
{
    cfg_backend b;

    ck_assert_uint_le(n, MAX_TEST_SERVERS);
    memset(&b, 0, sizeof b);
    memset(addrs, 0, sizeof addrs);
    for (size_t i = 0; i < n; i++) {
        snprintf(addr_text[i], sizeof addr_text[i], "10.0.0.%zu:80", i + 1);
        addrs[i].text = addr_text[i];
    }
    b.name = "app";
    b.servers = addrs;
    b.n_servers = n;
    b.balance = mode;
    return b;
}

static void fail_times(px_upstream_set *set, int server, unsigned times, uint64_t now_ms)
{
    for (unsigned i = 0; i < times; i++)
        px_upstream_report(set, server, false, now_ms);
}

static void set_cursor(px_upstream_set *set, unsigned value)
{
    atomic_store(&set->next, value);
}

static unsigned active_of(px_upstream_set *set, int server)
{
    return atomic_load(&set->servers[server].active);
}

static unsigned failures_of(px_upstream_set *set, int server)
{
    return atomic_load(&set->servers[server].consecutive_failures);
}

static uint64_t down_until_of(px_upstream_set *set, int server)
{
    return atomic_load(&set->servers[server].down_until_ms);
}

/* ---- init / clear ------------------------------------------------------------------- */

START_TEST(test_upstream_set_init_all_up_and_idle)
{
    cfg_backend b = make_backend(3, CFG_BALANCE_ROUND_ROBIN);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    ck_assert_ptr_eq(set.backend, &b);
    ck_assert_ptr_nonnull(set.servers);
    ck_assert_uint_eq(atomic_load(&set.next), 0);
    for (int i = 0; i < 3; i++) {
        ck_assert_uint_eq(failures_of(&set, i), 0);
        ck_assert_uint_eq(down_until_of(&set, i), 0);
        ck_assert_uint_eq(active_of(&set, i), 0);
        ck_assert(!px_upstream_is_down(&set, i, 0));
        ck_assert(!px_upstream_is_down(&set, i, T0));
    }
    px_upstream_set_clear(&set);
    ck_assert_ptr_null(set.servers);
    ck_assert_ptr_null(set.backend);
}
END_TEST

START_TEST(test_upstream_set_init_no_servers_pick_returns_minus_one)
{
    cfg_backend b = make_backend(0, CFG_BALANCE_ROUND_ROBIN);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0), -1);
    b.balance = CFG_BALANCE_LEAST_CONNECTIONS;
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0), -1);
    px_upstream_set_clear(&set);
}
END_TEST

/* ---- round robin -------------------------------------------------------------------- */

START_TEST(test_upstream_pick_round_robin_cycles_evenly)
{
    cfg_backend b = make_backend(3, CFG_BALANCE_ROUND_ROBIN);
    px_upstream_set set;
    unsigned count[3] = {0};

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    for (int i = 0; i < 300; i++) {
        int s = px_upstream_pick(&set, 0, T0);
        ck_assert_int_eq(s, i % 3);
        count[s]++;
    }
    ck_assert_uint_eq(count[0], 100);
    ck_assert_uint_eq(count[1], 100);
    ck_assert_uint_eq(count[2], 100);
    ck_assert_uint_eq(atomic_load(&set.next), 300);
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_pick_round_robin_tried_mask_skips)
{
    cfg_backend b = make_backend(3, CFG_BALANCE_ROUND_ROBIN);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    /* The cursor's server is tried: the scan goes forward from it, wrapping. */
    set_cursor(&set, 0);
    ck_assert_int_eq(px_upstream_pick(&set, 0x1, T0), 1);
    set_cursor(&set, 2);
    ck_assert_int_eq(px_upstream_pick(&set, 0x4, T0), 0);
    /* Two tried: the one left, wherever the cursor is. */
    for (unsigned c = 0; c < 3; c++) {
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0x3, T0), 2);
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0x5, T0), 1);
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0x6, T0), 0);
    }
    /* Bits above n_servers are ignored. */
    set_cursor(&set, 1);
    ck_assert_int_eq(px_upstream_pick(&set, ~UINT64_C(0) << 3, T0), 1);
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_pick_all_tried_returns_minus_one)
{
    cfg_backend b = make_backend(3, (cfg_balance)_i);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    for (unsigned c = 0; c < 3; c++) {
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0x7, T0), -1);
        ck_assert_int_eq(px_upstream_pick(&set, ~UINT64_C(0), T0), -1);
    }
    /* Also when the tried servers are down: "down" never brings a tried server back. */
    fail_times(&set, 0, PX_UPSTREAM_MAX_FAILURES, T0);
    ck_assert_int_eq(px_upstream_pick(&set, 0x7, T0), -1);
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_pick_over_64_servers_only_first_64_considered)
{
    cfg_backend b = make_backend(70, CFG_BALANCE_ROUND_ROBIN);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    ck_assert_int_eq(px_upstream_pick(&set, ~UINT64_C(0), T0), -1);
    /* The cursor wraps at 64, not 70. */
    set_cursor(&set, 63);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0), 63);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0), 0);
    /* Servers past 64 still have health records. */
    px_upstream_acquire(&set, 69);
    ck_assert_uint_eq(active_of(&set, 69), 1);
    px_upstream_release(&set, 69);
    fail_times(&set, 69, PX_UPSTREAM_MAX_FAILURES, T0);
    ck_assert(px_upstream_is_down(&set, 69, T0));
    px_upstream_set_clear(&set);
}
END_TEST

/* ---- health ------------------------------------------------------------------------- */

START_TEST(test_upstream_report_three_failures_down_until_period_passes)
{
    cfg_backend b = make_backend(3, CFG_BALANCE_ROUND_ROBIN);
    px_upstream_set set;
    const uint64_t back = T0 + PX_UPSTREAM_DOWN_MS;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    fail_times(&set, 1, PX_UPSTREAM_MAX_FAILURES, T0);
    ck_assert_uint_eq(failures_of(&set, 1), 3);
    ck_assert_uint_eq(down_until_of(&set, 1), back);
    ck_assert(px_upstream_is_down(&set, 1, T0));
    ck_assert(px_upstream_is_down(&set, 1, back - 1));
    ck_assert(!px_upstream_is_down(&set, 1, back));

    /* While down, the cursor landing on 1 moves on to 2, and a full cycle never yields 1. */
    set_cursor(&set, 0);
    int expect_down[] = {0, 2, 2, 0, 2, 2};
    for (size_t i = 0; i < sizeof expect_down / sizeof *expect_down; i++)
        ck_assert_int_eq(px_upstream_pick(&set, 0, T0 + 5000), expect_down[i]);
    set_cursor(&set, 1);
    ck_assert_int_eq(px_upstream_pick(&set, 0, back - 1), 2);

    /* Period over: picked again in turn. */
    set_cursor(&set, 0);
    int expect_up[] = {0, 1, 2, 0, 1, 2};
    for (size_t i = 0; i < sizeof expect_up / sizeof *expect_up; i++)
        ck_assert_int_eq(px_upstream_pick(&set, 0, back), expect_up[i]);

    /* On probation: one more failure takes it down again, from the new now. */
    ck_assert(!px_upstream_is_down(&set, 1, back + 100));
    px_upstream_report(&set, 1, false, back + 100);
    ck_assert_uint_eq(failures_of(&set, 1), 4);
    ck_assert(px_upstream_is_down(&set, 1, back + 100));
    ck_assert(px_upstream_is_down(&set, 1, back + 100 + PX_UPSTREAM_DOWN_MS - 1));
    ck_assert(!px_upstream_is_down(&set, 1, back + 100 + PX_UPSTREAM_DOWN_MS));
    set_cursor(&set, 1);
    ck_assert_int_eq(px_upstream_pick(&set, 0, back + 100), 2);
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_report_two_failures_stay_up)
{
    cfg_backend b = make_backend(3, CFG_BALANCE_ROUND_ROBIN);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    fail_times(&set, 1, PX_UPSTREAM_MAX_FAILURES - 1, T0);
    ck_assert_uint_eq(failures_of(&set, 1), 2);
    ck_assert_uint_eq(down_until_of(&set, 1), 0);
    ck_assert(!px_upstream_is_down(&set, 1, T0));
    set_cursor(&set, 1);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0), 1);
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_report_success_resets_failures)
{
    cfg_backend b = make_backend(3, CFG_BALANCE_ROUND_ROBIN);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    /* Failures must be consecutive: 2 + success + 2 leaves the server up. */
    fail_times(&set, 0, 2, T0);
    px_upstream_report(&set, 0, true, T0);
    ck_assert_uint_eq(failures_of(&set, 0), 0);
    fail_times(&set, 0, 2, T0);
    ck_assert(!px_upstream_is_down(&set, 0, T0));

    /* A success while down (e.g. the all-down fallback got through) brings it back now. */
    px_upstream_report(&set, 0, false, T0);
    ck_assert(px_upstream_is_down(&set, 0, T0));
    px_upstream_report(&set, 0, true, T0 + 1);
    ck_assert_uint_eq(failures_of(&set, 0), 0);
    ck_assert_uint_eq(down_until_of(&set, 0), 0);
    ck_assert(!px_upstream_is_down(&set, 0, T0 + 1));
    set_cursor(&set, 0);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0 + 1), 0);
    /* ...and it needs the full count again to go down. */
    fail_times(&set, 0, 2, T0 + 2);
    ck_assert(!px_upstream_is_down(&set, 0, T0 + 2));
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_report_failure_with_older_clock_keeps_later_deadline)
{
    cfg_backend b = make_backend(1, CFG_BALANCE_ROUND_ROBIN);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    fail_times(&set, 0, PX_UPSTREAM_MAX_FAILURES, T0 + 500);
    /* A report from a thread whose clock was read earlier must not shorten the period. */
    px_upstream_report(&set, 0, false, T0);
    ck_assert_uint_eq(down_until_of(&set, 0), T0 + 500 + PX_UPSTREAM_DOWN_MS);
    /* A later failure while down extends it. */
    px_upstream_report(&set, 0, false, T0 + 900);
    ck_assert_uint_eq(down_until_of(&set, 0), T0 + 900 + PX_UPSTREAM_DOWN_MS);
    ck_assert_uint_eq(failures_of(&set, 0), 5);
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_report_failures_saturate)
{
    cfg_backend b = make_backend(1, CFG_BALANCE_ROUND_ROBIN);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    atomic_store(&set.servers[0].consecutive_failures, UINT_MAX - 1);
    fail_times(&set, 0, 3, T0);
    ck_assert_uint_eq(failures_of(&set, 0), UINT_MAX);
    ck_assert(px_upstream_is_down(&set, 0, T0));
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_pick_all_down_returns_earliest_recovery)
{
    cfg_backend b = make_backend(3, (cfg_balance)_i);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    fail_times(&set, 0, PX_UPSTREAM_MAX_FAILURES, T0 + 300);
    fail_times(&set, 1, PX_UPSTREAM_MAX_FAILURES, T0 + 100);
    fail_times(&set, 2, PX_UPSTREAM_MAX_FAILURES, T0 + 200);
    for (unsigned c = 0; c < 3; c++) {
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0, T0 + 400), 1);
        /* Among the untried ones only. */
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0x2, T0 + 400), 2);
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0x6, T0 + 400), 0);
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0x7, T0 + 400), -1);
    }
    /* An untried up server beats every down one; a tried up server does not. */
    px_upstream_report(&set, 0, true, T0 + 400);
    set_cursor(&set, 1);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0 + 400), 0);
    set_cursor(&set, 0);
    ck_assert_int_eq(px_upstream_pick(&set, 0x1, T0 + 400), 1);
    /* Server 1's period ends first: at that instant it is simply up. */
    ck_assert(!px_upstream_is_down(&set, 1, T0 + 100 + PX_UPSTREAM_DOWN_MS));
    ck_assert(px_upstream_is_down(&set, 2, T0 + 100 + PX_UPSTREAM_DOWN_MS));
    set_cursor(&set, 2);
    ck_assert_int_eq(px_upstream_pick(&set, 0x1, T0 + 100 + PX_UPSTREAM_DOWN_MS), 1);
    px_upstream_set_clear(&set);
}
END_TEST

/* ---- least connections -------------------------------------------------------------- */

START_TEST(test_upstream_pick_least_connections_picks_least_active)
{
    cfg_backend b = make_backend(3, CFG_BALANCE_LEAST_CONNECTIONS);
    px_upstream_set set;
    const unsigned load[3] = {3, 1, 2};

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    for (int i = 0; i < 3; i++)
        for (unsigned k = 0; k < load[i]; k++)
            px_upstream_acquire(&set, i);
    for (unsigned c = 0; c < 3; c++) {
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0, T0), 1);
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0x2, T0), 2);
        set_cursor(&set, c);
        ck_assert_int_eq(px_upstream_pick(&set, 0x6, T0), 0);
    }
    /* Load follows acquire/release. */
    px_upstream_acquire(&set, 1);
    px_upstream_acquire(&set, 1);
    set_cursor(&set, 0);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0), 2);
    px_upstream_release(&set, 0);
    px_upstream_release(&set, 0);
    set_cursor(&set, 0);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0), 0);
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_pick_least_connections_ties_spread)
{
    cfg_backend b = make_backend(3, CFG_BALANCE_LEAST_CONNECTIONS);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    /* All idle: round robin. */
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(px_upstream_pick(&set, 0, T0), i % 3);
    /* All at 2: still round robin, not always server 0. */
    for (int i = 0; i < 3; i++) {
        px_upstream_acquire(&set, i);
        px_upstream_acquire(&set, i);
    }
    set_cursor(&set, 0);
    for (int i = 0; i < 9; i++)
        ck_assert_int_eq(px_upstream_pick(&set, 0, T0), i % 3);
    /* 0 busier: the tie between 1 and 2 goes to the first at or after the cursor. */
    px_upstream_acquire(&set, 0);
    set_cursor(&set, 0);
    int expect[] = {1, 1, 2, 1, 1, 2};
    for (size_t i = 0; i < sizeof expect / sizeof *expect; i++)
        ck_assert_int_eq(px_upstream_pick(&set, 0, T0), expect[i]);
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_pick_least_connections_skips_down)
{
    cfg_backend b = make_backend(3, CFG_BALANCE_LEAST_CONNECTIONS);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    px_upstream_acquire(&set, 0);
    px_upstream_acquire(&set, 2);
    px_upstream_acquire(&set, 2);
    fail_times(&set, 1, PX_UPSTREAM_MAX_FAILURES, T0);
    set_cursor(&set, 1);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0), 0);
    set_cursor(&set, 1);
    ck_assert_int_eq(px_upstream_pick(&set, 0x1, T0), 2);
    set_cursor(&set, 1);
    ck_assert_int_eq(px_upstream_pick(&set, 0x5, T0), 1); /* the only untried: down fallback */
    set_cursor(&set, 1);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0 + PX_UPSTREAM_DOWN_MS), 1);
    px_upstream_set_clear(&set);
}
END_TEST

/* ---- acquire / release -------------------------------------------------------------- */

START_TEST(test_upstream_release_at_zero_stays_zero)
{
    cfg_backend b = make_backend(2, CFG_BALANCE_LEAST_CONNECTIONS);
    px_upstream_set set;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    px_upstream_release(&set, 0);
    ck_assert_uint_eq(active_of(&set, 0), 0);
    px_upstream_acquire(&set, 0);
    px_upstream_acquire(&set, 0);
    ck_assert_uint_eq(active_of(&set, 0), 2);
    px_upstream_release(&set, 0);
    px_upstream_release(&set, 0);
    px_upstream_release(&set, 0);
    ck_assert_uint_eq(active_of(&set, 0), 0);
    ck_assert_uint_eq(active_of(&set, 1), 0);
    /* An unmatched release did not make server 0 look idle-er than idle. */
    px_upstream_acquire(&set, 0);
    set_cursor(&set, 0);
    ck_assert_int_eq(px_upstream_pick(&set, 0, T0), 1);
    px_upstream_set_clear(&set);
}
END_TEST

/* ---- concurrency -------------------------------------------------------------------- */

#define N_THREADS 4
#define N_CYCLES 100000
#define N_SHARED 3
#define BAD_SERVER 1 /* every connect to it fails */

typedef struct {
    px_upstream_set *set;
    bool bad_server; /* false: every connect succeeds */
    unsigned picks[N_SHARED];
    unsigned minus_one, out_of_range;
} worker;

/*
 * One connection per cycle: pick, count it open, report the outcome, close; on a failed
 * connect, retry with the server marked tried. Holding `active` across the report lets
 * other threads' least-connections picks see non-zero loads.
 */
static void *run_worker(void *arg)
{
    worker *w = arg;

    for (unsigned c = 0; c < N_CYCLES; c++) {
        uint64_t tried = 0;
        uint64_t now = T0 + c / 4; /* lets the bad server's down periods end and restart */

        for (;;) {
            int s = px_upstream_pick(w->set, tried, now);
            bool ok;

            if (s < 0) {
                w->minus_one++;
                break;
            }
            if (s >= N_SHARED) {
                w->out_of_range++;
                break;
            }
            w->picks[s]++;
            px_upstream_acquire(w->set, s);
            ok = !(w->bad_server && s == BAD_SERVER);
            px_upstream_report(w->set, s, ok, now);
            px_upstream_release(w->set, s);
            if (ok)
                break;
            tried |= UINT64_C(1) << s;
        }
    }
    return NULL;
}

static void run_workers(px_upstream_set *set, bool bad_server, unsigned total[N_SHARED])
{
    pthread_t th[N_THREADS];
    worker w[N_THREADS];

    memset(w, 0, sizeof w);
    for (int t = 0; t < N_THREADS; t++) {
        w[t].set = set;
        w[t].bad_server = bad_server;
        ck_assert_int_eq(pthread_create(&th[t], NULL, run_worker, &w[t]), 0);
    }
    for (int i = 0; i < N_SHARED; i++)
        total[i] = 0;
    for (int t = 0; t < N_THREADS; t++) {
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
        ck_assert_uint_eq(w[t].minus_one, 0);
        ck_assert_uint_eq(w[t].out_of_range, 0);
        for (int i = 0; i < N_SHARED; i++)
            total[i] += w[t].picks[i];
    }
}

START_TEST(test_upstream_pick_concurrent_all_up_spreads_exactly)
{
    cfg_backend b = make_backend(N_SHARED, (cfg_balance)_i);
    px_upstream_set set;
    unsigned total[N_SHARED];
    const unsigned picks = N_THREADS * N_CYCLES;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    run_workers(&set, false, total);
    ck_assert_uint_eq(atomic_load(&set.next), picks);
    ck_assert_uint_eq(total[0] + total[1] + total[2], picks);
    if (b.balance == CFG_BALANCE_ROUND_ROBIN) {
        /* Every cursor value 0..picks-1 was taken once, and all servers were up. */
        ck_assert_uint_eq(total[0], (picks + 2) / 3);
        ck_assert_uint_eq(total[1], (picks + 1) / 3);
        ck_assert_uint_eq(total[2], picks / 3);
    } else {
        /* Loads depend on timing; none may be starved. */
        for (int i = 0; i < N_SHARED; i++)
            ck_assert_uint_gt(total[i], 0);
    }
    for (int i = 0; i < N_SHARED; i++) {
        ck_assert_uint_eq(active_of(&set, i), 0);
        ck_assert_uint_eq(failures_of(&set, i), 0);
        ck_assert_uint_eq(down_until_of(&set, i), 0);
    }
    px_upstream_set_clear(&set);
}
END_TEST

START_TEST(test_upstream_report_concurrent_failing_server_counts_every_failure)
{
    cfg_backend b = make_backend(N_SHARED, (cfg_balance)_i);
    px_upstream_set set;
    unsigned total[N_SHARED];
    const unsigned cycles = N_THREADS * N_CYCLES;
    uint64_t until;

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    run_workers(&set, true, total);
    /* One pick per cycle plus one retry per failure; every cycle ends on a good server. */
    ck_assert_uint_eq(total[0] + total[2], cycles);
    ck_assert_uint_eq(atomic_load(&set.next), cycles + total[BAD_SERVER]);
    ck_assert_uint_gt(total[BAD_SERVER], PX_UPSTREAM_MAX_FAILURES);
    /* Never reset by a success, so every failure was counted exactly once. */
    ck_assert_uint_eq(failures_of(&set, BAD_SERVER), total[BAD_SERVER]);
    /* Down, with a deadline set by one of the reports' clocks. */
    until = down_until_of(&set, BAD_SERVER);
    ck_assert_uint_ge(until, T0 + PX_UPSTREAM_DOWN_MS);
    ck_assert_uint_le(until, T0 + (N_CYCLES - 1) / 4 + PX_UPSTREAM_DOWN_MS);
    /*
     * Picked only while up. Failures number 1 and 2 leave it up; every later one sets
     * down_until to at least the reporter's clock + DOWN_MS, which that thread then sees,
     * so each thread fails on it at most once per DOWN_MS of its own clock.
     */
    ck_assert_uint_le(total[BAD_SERVER],
                      PX_UPSTREAM_MAX_FAILURES - 1 +
                          N_THREADS * (1 + (N_CYCLES / 4 - 1) / PX_UPSTREAM_DOWN_MS));
    for (int i = 0; i < N_SHARED; i++)
        ck_assert_uint_eq(active_of(&set, i), 0);
    for (int i = 0; i < N_SHARED; i += 2) {
        ck_assert_uint_eq(failures_of(&set, i), 0);
        ck_assert_uint_eq(down_until_of(&set, i), 0);
    }
    px_upstream_set_clear(&set);
}
END_TEST

static void *release_many(void *arg)
{
    for (unsigned k = 0; k < N_CYCLES; k++)
        px_upstream_release(arg, 0);
    return NULL;
}

START_TEST(test_upstream_release_concurrent_unmatched_never_underflows)
{
    cfg_backend b = make_backend(1, CFG_BALANCE_LEAST_CONNECTIONS);
    px_upstream_set set;
    pthread_t th[N_THREADS];

    ck_assert_int_eq(px_upstream_set_init(&set, &b), 0);
    for (unsigned k = 0; k < 1000; k++)
        px_upstream_acquire(&set, 0);
    /* Far more releases than acquires, racing: a plain decrement would wrap. */
    for (int t = 0; t < N_THREADS; t++)
        ck_assert_int_eq(pthread_create(&th[t], NULL, release_many, &set), 0);
    for (int t = 0; t < N_THREADS; t++)
        ck_assert_int_eq(pthread_join(th[t], NULL), 0);
    ck_assert_uint_eq(active_of(&set, 0), 0);
    px_upstream_set_clear(&set);
}
END_TEST

static Suite *make_suite(void)
{
    Suite *s = suite_create("upstream");
    TCase *tc;

    tc = tcase_create("set");
    tcase_add_test(tc, test_upstream_set_init_all_up_and_idle);
    tcase_add_test(tc, test_upstream_set_init_no_servers_pick_returns_minus_one);
    suite_add_tcase(s, tc);

    tc = tcase_create("round_robin");
    tcase_add_test(tc, test_upstream_pick_round_robin_cycles_evenly);
    tcase_add_test(tc, test_upstream_pick_round_robin_tried_mask_skips);
    tcase_add_loop_test(tc, test_upstream_pick_all_tried_returns_minus_one, 0, 2);
    tcase_add_test(tc, test_upstream_pick_over_64_servers_only_first_64_considered);
    suite_add_tcase(s, tc);

    tc = tcase_create("health");
    tcase_add_test(tc, test_upstream_report_three_failures_down_until_period_passes);
    tcase_add_test(tc, test_upstream_report_two_failures_stay_up);
    tcase_add_test(tc, test_upstream_report_success_resets_failures);
    tcase_add_test(tc, test_upstream_report_failure_with_older_clock_keeps_later_deadline);
    tcase_add_test(tc, test_upstream_report_failures_saturate);
    tcase_add_loop_test(tc, test_upstream_pick_all_down_returns_earliest_recovery, 0, 2);
    suite_add_tcase(s, tc);

    tc = tcase_create("least_connections");
    tcase_add_test(tc, test_upstream_pick_least_connections_picks_least_active);
    tcase_add_test(tc, test_upstream_pick_least_connections_ties_spread);
    tcase_add_test(tc, test_upstream_pick_least_connections_skips_down);
    tcase_add_test(tc, test_upstream_release_at_zero_stays_zero);
    suite_add_tcase(s, tc);

    tc = tcase_create("concurrency");
    tcase_set_timeout(tc, 60);
    tcase_add_loop_test(tc, test_upstream_pick_concurrent_all_up_spreads_exactly, 0, 2);
    tcase_add_loop_test(tc, test_upstream_report_concurrent_failing_server_counts_every_failure, 0,
                        2);
    tcase_add_test(tc, test_upstream_release_concurrent_unmatched_never_underflows);
    suite_add_tcase(s, tc);
    return s;
}

TEST_MAIN(make_suite)
