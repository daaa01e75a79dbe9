/* check_mechanisms.c - the mechanisms under the GIL's hand-offs, stated as
 * properties: glibc's condition variable (which waiter a signal wakes), the
 * race between a drop request and the holder's drop, and timer jitter.
 *
 * Each test changes one machine setting that the mechanism depends on and
 * checks the direction the mechanism predicts; none names a figure that was
 * fitted to a measurement. Every run also passes the trace invariant checker
 * (tu_run). */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* The GIL lane's holders, in order, as thread indices (up to max). */
static int holders(const gs_trace_t *t, int *out, int max)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    int n = 0;
    for (size_t i = 0; i < l->n && n < max; i++)
        if (l->iv[i].who >= 0 && (n == 0 || out[n - 1] != l->iv[i].who))
            out[n++] = l->iv[i].who;
    return n;
}

/* The figures of the condvar tests below were stated for a machine with one
 * run queue (run_queues "shared"): any core runs any woken waiter, so who is
 * on a core when a signal comes follows from the GIL and the condvar alone.
 * With per-core queues (the default) placement takes part too: a forced
 * dropper that a new holder wakes while the other core is taken (by a
 * waiter's futile wake-up) is queued behind that CPU-bound holder, as
 * Linux's wake_affine does with no idle CPU, and waits for a tick's pull
 * (os.c): its next drop request comes milliseconds late. So each test states
 * its figure on the shared queue and, on the per-core default, the direction
 * the condvar predicts, which must survive placement. */

/* An I/O thread (200 us sleeps, then 2 us of Python) beside cpu CPU-bound
 * threads on two cores; the median of its sleep-end-to-GIL waits, in
 * switch intervals x 10. */
static int convoy_tenths(bool per_core, int cpu, int64_t futex_ns, int requester_first_pct,
                         int64_t jitter_ns, uint64_t seed)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = per_core;
    m->seed = seed;
    m->machine.futex_ns = futex_ns;
    m->machine.requester_first_pct = requester_first_pct;
    m->machine.timer_jitter_ns = jitter_ns;
    m->machine.timer_slack_ns = US(50);
    m->machine.wakeup_latency_ns = US(10);
    for (int i = 0; i < cpu; i++)
        tu_thread(m, "cpu", 1, tu_cpu(MS(3000)));
    int s = tu_thread(m, "io", 1, tu_repeat(60, 2, tu_sleep(US(200)), tu_cpu(US(2))));
    m->threads[s].start_at_ns = MS(1);
    gs_trace_t *t = tu_run(m, NULL);
    int64_t lat[64];
    int n = tu_io_to_gil(t, s, lat, 64);
    int tenths = n < 60 ? 10000 : (int)(tu_median(lat, n) * 10 / MS(5));
    gs_trace_free(t);
    gs_model_free(m);
    return tenths;
}

/* glibc: a waiter that has not gone to sleep yet takes an available signal
 * ahead of older waiters asleep in the futex. With two CPU-bound threads,
 * the one that asked for the drop is still entering its wait when the holder
 * drops (requester_first = 0): it takes the GIL every time, and each such
 * switch voids the I/O thread's own timeout. The I/O thread waits far longer
 * than without that window (futex = 0: every waiter is asleep at once, the
 * futex wakes the longest sleeper). With per-core queues each forced
 * dropper comes back late (above), which lets the I/O thread's own timeout
 * in after two intervals (20 against 9 tenths): longer all the same. */
START_TEST(test_cv_a_waiter_not_yet_asleep_takes_the_signal)
{
    int window = convoy_tenths(false, 2, US(1), 0, 0, 1);
    int none = convoy_tenths(false, 2, 0, 0, 0, 1);
    ck_assert_int_le(none, 15);      /* about one interval */
    ck_assert_int_ge(window, 4 * 10); /* starved for many intervals */
    window = convoy_tenths(true, 2, US(1), 0, 0, 1);
    none = convoy_tenths(true, 2, 0, 0, 0, 1);
    ck_assert_int_le(none, 15);
    ck_assert_int_gt(window, none);
}
END_TEST

/* The race decides: when the requester always reaches the GIL mutex first
 * (requester_first = 1), the holder drops only once the requester sleeps, and
 * the signal goes to the longest sleeper, as if there were no window. */
START_TEST(test_cv_requester_first_means_the_longest_sleeper_wins)
{
    int first = convoy_tenths(true, 2, US(1), 100, 0, 1);
    int none = convoy_tenths(true, 2, 0, 100, 0, 1);
    ck_assert_int_le(first, 15);
    ck_assert_int_eq(first, none);
}
END_TEST

/* Between the two, the I/O thread's wait grows as the race goes more often
 * to the holder (more switches are taken by the requester). Medians over
 * seeds, with timer jitter so that the waiters' timeouts do not lock into a
 * fixed phase. */
START_TEST(test_cv_wait_grows_as_the_holder_wins_the_race_more_often)
{
    int prev = -1;
    for (int pct = 100; pct >= 20; pct -= 40) {
        int v[5];
        for (int s = 0; s < 5; s++)
            v[s] = convoy_tenths(true, 2, US(1), pct, US(50), (uint64_t)s + 1);
        int64_t w[5];
        for (int s = 0; s < 5; s++)
            w[s] = v[s];
        int med = (int)tu_median(w, 5);
        ck_assert_int_ge(med, prev);
        prev = med;
    }
    ck_assert_int_ge(prev, 20); /* at 0.2, several intervals */
}
END_TEST

/* With three CPU-bound threads, the thread that was forced off (A, in A B)
 * enters its wait first, so it is the next to time out and ask for a drop.
 * If it wins the race it takes the GIL back (A B A); if not, the signal goes
 * to the longest sleeper, the third thread (A B C). The share of A B A
 * switches falls as the requester reaches the mutex first more often. This
 * is the pattern tests/reality measures on real CPython to calibrate
 * requester_first. Even when the holder always wins the race, C's timer
 * sometimes ends within the slack of A's on the same core and expires with
 * it (hrtimer.c): then C may run first and be the requester (A B C). */
static int back_to_second_last_pct(bool per_core, int requester_first_pct)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = per_core;
    m->machine.requester_first_pct = requester_first_pct;
    m->machine.timer_slack_ns = US(50);
    m->processes[0].python.switch_interval_ns = MS(1);
    for (int i = 0; i < 3; i++)
        tu_thread(m, "cpu", 1, tu_cpu(MS(200)));
    gs_trace_t *t = tu_run(m, NULL);
    int seq[2048];
    int n = holders(t, seq, 2048);
    ck_assert_int_gt(n, 100);
    int back = 0;
    for (int i = 2; i < n; i++)
        back += seq[i] == seq[i - 2];
    gs_trace_free(t);
    gs_model_free(m);
    return back * 100 / (n - 2);
}

/* Per-core queues: 66% A B A when the requester always wins, 51% at one
 * half, 0% when it never wins: the same order. */
START_TEST(test_cv_three_threads_go_back_when_the_requester_wins)
{
    int wins = back_to_second_last_pct(false, 0), half = back_to_second_last_pct(false, 50),
        loses = back_to_second_last_pct(false, 100);
    ck_assert_int_ge(wins, 75);
    ck_assert_int_le(loses, 10);
    ck_assert_int_gt(half, loses);
    ck_assert_int_lt(half, wins);
    wins = back_to_second_last_pct(true, 0);
    half = back_to_second_last_pct(true, 50);
    loses = back_to_second_last_pct(true, 100);
    ck_assert_int_le(loses, 10);
    ck_assert_int_gt(half, loses);
    ck_assert_int_lt(half, wins);
}
END_TEST

/* Four CPU-bound threads at 1 ms on two cores, 150 ms each, timer_wake
 * "local" or "remote"; the model is left in *mp for the caller to free. */
static gs_trace_t *four_cpu_run(bool per_core, bool local, int requester_first_pct, int own_pct,
                                gs_model_t **mp)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = per_core;
    m->machine.timer_wake_local = local;
    m->machine.requester_first_pct = requester_first_pct;
    m->machine.requester_first_own_pct = own_pct;
    m->machine.timer_slack_ns = US(50);
    m->machine.timer_jitter_ns = US(20);
    m->processes[0].python.switch_interval_ns = MS(1);
    for (int i = 0; i < 4; i++)
        tu_thread(m, "cpu", 1, tu_cpu(MS(150)));
    *mp = m;
    return tu_run(m, NULL);
}

/* Four CPU-bound threads at 1 ms on two cores: after each forced switch
 * with three waiters, who takes the GIL: counts of the requester (the last
 * drop request before the switch) and of the waiter asleep longest (since
 * its last timeout, drop request, futile wake-up or forced switch: each
 * starts a new futex sleep, at the end of the queue). */
static void four_cpu_takers(bool per_core, bool local, int requester_first_pct, int own_pct, int *n,
                            int *req, int *longest)
{
    gs_model_t *m;
    gs_trace_t *t = four_cpu_run(per_core, local, requester_first_pct, own_pct, &m);
    const gs_instant_t *in = gs_trace_instants(t);
    size_t ni = gs_trace_n_instants(t);
    const gs_lane_t *gl = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    int64_t since[4] = {0, 0, 0, 0};
    int requester = -1;
    size_t k = 0;
    *n = *req = *longest = 0;
    for (size_t i = 0; i < ni; i++) {
        const gs_instant_t *x = &in[i];
        if (x->thread < 0 || x->thread >= 4)
            continue;
        if (x->kind == GS_IN_TIMEOUT || x->kind == GS_IN_FUTILE_WAKEUP)
            since[x->thread] = x->t_ns;
        if (x->kind == GS_IN_DROP_REQUEST) {
            since[x->thread] = x->t_ns;
            requester = x->thread;
        }
        if (x->kind != GS_IN_FORCED_SWITCH || x->t_ns > MS(120))
            continue;
        int dropper = x->thread, oldest = -1;
        for (int w = 0; w < 4; w++)
            if (w != dropper && (oldest < 0 || since[w] < since[oldest]))
                oldest = w;
        since[dropper] = x->t_ns;
        while (k < gl->n && (gl->iv[k].start_ns < x->t_ns || gl->iv[k].who < 0))
            k++;
        if (k == gl->n || requester < 0)
            break;
        int taker = gl->iv[k].who;
        (*n)++;
        *req += taker == requester;
        *longest += taker == oldest && taker != requester;
        requester = -1;
    }
    gs_trace_free(t);
    gs_model_free(m);
}

/* glibc with several waiters. The requester starts a new wait as it sets
 * the request: it joins G2, the newest waiter. When the holder reaches the
 * GIL mutex only after the requester sleeps (requester_first = 1), the
 * futex wakes the longest sleeper, and the requester takes the GIL only if
 * nobody else was asleep. When the holder always drops at once, while the
 * requester is still entering its wait (requester_first = 0), the requester
 * takes the signal only if it reaches its group: if G1 still has waiters
 * that have not timed out since the last group switch, the signal is
 * theirs. With two CPU threads the requester is the only waiter and takes
 * every such drop (test_cv_a_waiter_not_yet_asleep_takes_the_signal); with
 * three it is usually alone in its G1 (A B A); with four, the waiters
 * brought into G1 by the last switch are still there, and it takes few.
 * That last figure is timer_wake "remote"'s: there a timed-out G1 waiter
 * spends a wake-up on its way to a core, still in G1, and takes the signal.
 * With "local" (the default) it is on its own idle core at once and
 * cancels: G1 empties sooner and the requester takes more (63 of 111 on
 * the shared queue, against 9 of 111 with "remote"), but still fewer than
 * when it is alone with no one to lose to. */
START_TEST(test_cv_four_threads_the_race_decides_requester_or_longest_sleeper)
{
    int n, req, longest;
    for (int local = 0; local < 2; local++)
        for (int pc = 0; pc < 2; pc++) {
            four_cpu_takers(pc, local, 100, -1, &n, &req, &longest);
            ck_assert_int_gt(n, 60);
            ck_assert_int_le(req * 100, 5 * n);
            ck_assert_int_ge(longest * 100, 60 * n);
        }
    four_cpu_takers(false, false, 0, -1, &n, &req, &longest);
    ck_assert_int_gt(n, 60);
    ck_assert_int_le(req * 100, 20 * n); /* behind G1 */
    int n_l, req_l, longest_l;
    four_cpu_takers(false, true, 0, -1, &n_l, &req_l, &longest_l);
    ck_assert_int_gt(n_l, 60);
    ck_assert_int_gt(req_l * n, req * n_l);  /* "local": G1 empties sooner */
    ck_assert_int_le(req_l * 100, 80 * n_l); /* but G1 is still there */
    ck_assert_int_ge(back_to_second_last_pct(false, 0), 75); /* three threads: A B A */
    /* Per-core queues with requester_first 0 are not asserted: a known miss
     * of the model (docs/model.md "No idle core", last paragraphs). There the
     * requester takes 106 of 110 drops, as no timeouts are grouped: the
     * model's forced dropper asks again within 4 us, where a real one, queued
     * behind the new holder on its CPU, asks a median 1.07 ms later, with
     * the waiters whose timers end then (tests/reality/dropper_sched.py, the
     * kept 4-CPU recording). 27 of 90 before the PELT placement was the old
     * rule queueing that dropper beside an idle core, not this mechanism. */
}
END_TEST

/* requester_first_idle: the race's chance follows the idle depth of the
 * requester's core as its timed wait ran out (tests/reality/race_trace.py
 * measured it rising from ~0.13 after 1 ms to ~0.43 after 5 ms). Two CPU
 * threads on two cores, the requester's core idle through its wait (with a
 * third thread, that one's timeouts wake on the same cores and the depths
 * spread): with a curve that is 0 up to 2 ms and 1 from 3 ms, a 1 ms
 * interval runs exactly as requester_first 0 and a 5 ms one exactly as
 * requester_first 1, and the two constants give different runs at each
 * interval. per_core: both queues. */
static gs_trace_t *race_by_depth(bool per_core, int64_t interval_ns, int pct, bool curve)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = per_core;
    m->machine.timer_wake_local = true;
    m->machine.timer_slack_ns = US(50);
    m->machine.requester_first_pct = pct;
    if (curve) {
        m->machine.requester_first_pct = 50; /* not used with a curve */
        m->machine.n_rf_curve = 3;
        int64_t xs[3] = {0, MS(2), MS(3)}, ys[3] = {0, 0, 100};
        memcpy(m->machine.rf_idle_ns, xs, sizeof xs);
        memcpy(m->machine.rf_pct, ys, sizeof ys);
    }
    m->processes[0].python.switch_interval_ns = interval_ns;
    for (int i = 0; i < 2; i++)
        tu_thread(m, "cpu", 1, tu_cpu(MS(150)));
    gs_trace_t *t = tu_run(m, NULL);
    gs_model_free(m);
    return t;
}

static bool same_run(const gs_trace_t *a, const gs_trace_t *b)
{
    size_t la, lb;
    char *da = tu_dump(a, &la), *db = tu_dump(b, &lb);
    bool same = la == lb && memcmp(da, db, la) == 0;
    free(da);
    free(db);
    return same;
}

START_TEST(test_cv_the_race_follows_the_requesters_idle_depth)
{
    for (int pc = 0; pc < 2; pc++) {
        for (int k = 0; k < 2; k++) {
            int64_t iv = k ? MS(5) : MS(1);
            gs_trace_t *c = race_by_depth(pc, iv, 0, true), *never = race_by_depth(pc, iv, 0, false),
                       *always = race_by_depth(pc, iv, 100, false);
            ck_assert_int_gt(tu_count(c, GS_IN_DROP_REQUEST, -1), 20);
            ck_assert(same_run(c, k ? always : never));
            ck_assert(!same_run(never, always));
            gs_trace_free(c);
            gs_trace_free(never);
            gs_trace_free(always);
        }
    }
}
END_TEST

/* Who gets the GIL at a voluntary drop (issue 15): the GIL's condition
 * variable decides, not a fixed oldest-first rule, and where reality breaks
 * a tie by timing the model's seeded timings break it. A producer and two
 * identical consumers on two cores, the producer handing the GIL over each
 * time it blocks on the full queue: over seeds 1-12, neither consumer takes
 * every producer -> consumer hand-off in any run, and the first consumer to
 * take one is consumer1 in some seeds and consumer2 in others. */
static void tie_takers(uint64_t seed, int *n1, int *n2, int *first)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = true;
    m->machine.timer_wake_local = true;
    m->machine.wakeup_latency_ns = US(19);
    m->machine.wakeup_jitter_ns = US(4);
    m->seed = seed;
    int q = gs_model_add_queue(m, "q", 8);
    int p = tu_thread(m, "producer", 1, tu_repeat(400, 2, tu_cpu(US(3)), tu_sync(GS_OP_PUT, q)));
    int c1 = tu_thread(m, "consumer1", 1, tu_repeat(200, 2, tu_sync(GS_OP_GET, q), tu_cpu(US(15))));
    int c2 = tu_thread(m, "consumer2", 1, tu_repeat(200, 2, tu_sync(GS_OP_GET, q), tu_cpu(US(15))));
    gs_trace_t *t = tu_run(m, NULL);
    const gs_lane_t *gil = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    *n1 = *n2 = 0;
    *first = -1;
    int prev = -1;
    for (size_t i = 0; i < gil->n; i++) {
        int who = gil->iv[i].who;
        if (who < 0)
            continue;
        if (prev == p && (who == c1 || who == c2)) {
            *n1 += who == c1;
            *n2 += who == c2;
            if (*first < 0)
                *first = who;
        }
        prev = who;
    }
    gs_trace_free(t);
    gs_model_free(m);
}

START_TEST(test_cv_a_voluntary_drops_tie_breaks_by_seed)
{
    int firsts[2] = {0, 0};
    for (uint64_t seed = 1; seed <= 12; seed++) {
        int n1, n2, first;
        tie_takers(seed, &n1, &n2, &first);
        ck_assert_msg(n1 > 0 && n2 > 0, "seed %d: consumer1 took %d hand-offs, consumer2 %d",
                      (int)seed, n1, n2);
        firsts[first == 2]++;
    }
    ck_assert_msg(firsts[0] > 0 && firsts[1] > 0, "consumer1 first in %d seeds of 12", firsts[0]);
}
END_TEST

/* requester_first_own: the race's chance when the requester's core runs a
 * thread of its own process as its timed wait runs out, or ran one until
 * less than 100 us before. Traced in the kernel on convoy-many
 * (tests/reality/race_many.py, docs/model.md "No idle core"): there the
 * requester was in its futex at the signal nearly always, and took the GIL
 * at 3 of 1,567 such drops. Four CPU threads on two cores, where a timeout
 * often ends on the holder's core: the chance there moves the run, and
 * lowers the requester's share of the forced drops; two threads on two
 * cores, where each waiter's core has idled since the waiter itself left
 * it, never meet the case, and the key leaves the run as it was. */
START_TEST(test_cv_the_race_after_a_thread_of_its_own_process)
{
    for (int pc = 0; pc < 2; pc++) {
        int n0, req0, l0, n1, req1, l1;
        four_cpu_takers(pc, true, 0, -1, &n0, &req0, &l0);
        four_cpu_takers(pc, true, 0, 100, &n1, &req1, &l1);
        ck_assert_int_gt(n0, 60);
        ck_assert_int_gt(n1, 60);
        ck_assert_msg(req1 * n0 < req0 * n1, "requester took %d of %d drops, %d of %d without",
                      req1, n1, req0, n0);
    }
    for (int pc = 0; pc < 2; pc++) {
        gs_trace_t *plain = race_by_depth(pc, MS(5), 0, false);
        gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
        m->machine.per_core_queues = pc;
        m->machine.timer_wake_local = true;
        m->machine.timer_slack_ns = US(50);
        m->machine.requester_first_pct = 0;
        m->machine.requester_first_own_pct = 100;
        m->processes[0].python.switch_interval_ns = MS(5);
        for (int i = 0; i < 2; i++)
            tu_thread(m, "cpu", 1, tu_cpu(MS(150)));
        gs_trace_t *own = tu_run(m, NULL);
        ck_assert_int_gt(tu_count(own, GS_IN_DROP_REQUEST, -1), 20);
        ck_assert(same_run(plain, own));
        gs_trace_free(plain);
        gs_trace_free(own);
        gs_model_free(m);
    }
}
END_TEST

/* A holder inside a C call that keeps the GIL drops only when the call
 * returns; by then the requester sleeps in the futex like the others, so the
 * race cannot matter: the same trace whoever reaches the mutex first. */
static gs_trace_t *c_holders(int requester_first_pct)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    m->machine.requester_first_pct = requester_first_pct;
    for (int i = 0; i < 3; i++)
        tu_thread(m, "c", 1, tu_repeat(10, 2, tu_c(MS(8), false), tu_cpu(US(10))));
    gs_trace_t *t = tu_run(m, NULL);
    gs_model_free(m);
    return t;
}

START_TEST(test_cv_a_drop_after_a_c_call_is_not_raced)
{
    gs_trace_t *a = c_holders(0), *b = c_holders(100);
    size_t la, lb;
    char *da = tu_dump(a, &la), *db = tu_dump(b, &lb);
    ck_assert_uint_eq(la, lb);
    ck_assert_int_eq(memcmp(da, db, la), 0);
    ck_assert_int_gt(tu_count(a, GS_IN_FORCED_SWITCH, -1), 10); /* drops were requested */
    free(da);
    free(db);
    gs_trace_free(a);
    gs_trace_free(b);
}
END_TEST

/* A futex wake that finds the signal already taken is a futile wake-up: the
 * woken thread runs, finds nothing and sleeps again. With the window, every
 * stolen signal costs the longest sleeper one: never more futile wake-ups
 * than forced switches. Three CPU threads on two cores. With timer_wake
 * "remote" the requester, still on its way into the wait when the holder
 * drops, takes the signal meant for the sleeper at every switch. With
 * "local" and per-core queues the two waiters' timeouts end together, each
 * on its own core with no wake-up, and the signal goes to the other one
 * asleep: no window, no futile wake-up (0 of 57 switches); with the shared
 * queue the window is back (38 of 39). */
static void stolen_signals(bool per_core, bool local, int64_t *futile, int64_t *forced)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = per_core;
    m->machine.timer_wake_local = local;
    m->machine.requester_first_pct = 0;
    for (int i = 0; i < 3; i++)
        tu_thread(m, "cpu", 1, tu_cpu(MS(100)));
    gs_trace_t *t = tu_run(m, NULL);
    *futile = tu_count(t, GS_IN_FUTILE_WAKEUP, -1);
    *forced = tu_count(t, GS_IN_FORCED_SWITCH, -1);
    gs_trace_free(t);
    gs_model_free(m);
}

START_TEST(test_cv_a_stolen_signal_leaves_a_futile_wakeup)
{
    int64_t futile, forced;
    for (int pc = 0; pc < 2; pc++) {
        stolen_signals(pc, false, &futile, &forced);
        ck_assert_int_gt(futile, 5);
        ck_assert_int_le(futile, forced);
    }
    stolen_signals(false, true, &futile, &forced);
    ck_assert_int_gt(futile, 5);
    ck_assert_int_le(futile, forced);
    stolen_signals(true, true, &futile, &forced);
    ck_assert_int_le(futile, forced);
    ck_assert_int_gt(forced, 5);
}
END_TEST

/* Timer jitter: each timed wait ends late by the slack plus a draw in
 * [0, jitter]; so sleeps spread out, and never end early. */
START_TEST(test_timer_jitter_spreads_sleeps_never_shortens_them)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    m->machine.timer_slack_ns = US(50);
    m->machine.timer_jitter_ns = US(100);
    /* 1 us of work between sleeps, so that each sleep is an interval of its
     * own: with timer_wake "local" a sleeper back on its idle core wakes with
     * no wake-up in between */
    int s = tu_thread(m, "s", 1, tu_repeat(50, 2, tu_sleep(US(500)), tu_cpu(US(1))));
    gs_trace_t *t = tu_run(m, NULL);
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, s));
    int64_t lo = INT64_MAX, hi = 0;
    for (size_t i = 0; i < l->n; i++) {
        if (l->iv[i].state != GS_ST_SLEEP)
            continue;
        int64_t d = l->iv[i].end_ns - l->iv[i].start_ns;
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    ck_assert_int_ge(lo, US(550));
    ck_assert_int_le(hi, US(650));
    ck_assert_int_gt(hi - lo, US(50)); /* spread */
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* The GIL's machinery: a release that wakes a blocked thread is a futex call,
 * paid by the releaser as C time (with or without the GIL) after the wake
 * began, so the woken thread gets a head start. Two threads passing a Lock
 * back and forth: each pays about one call per hand-off, and none without. */
static gs_trace_t *lock_pingpong(int64_t futex_ns)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    m->machine.futex_ns = futex_ns;
    int a = gs_model_add_lock(m, "a", false);
    int b = gs_model_add_lock(m, "b", false);
    tu_thread(m, "setup", 2, tu_sync(GS_OP_ACQUIRE, a), tu_sync(GS_OP_ACQUIRE, b));
    int p = tu_thread(m, "ping", 1,
                      tu_repeat(50, 3, tu_sync(GS_OP_ACQUIRE, a), tu_cpu(US(2)),
                                tu_sync(GS_OP_RELEASE, b)));
    int q = tu_thread(m, "pong", 1,
                      tu_repeat(50, 3, tu_cpu(US(2)), tu_sync(GS_OP_RELEASE, a),
                                tu_sync(GS_OP_ACQUIRE, b)));
    m->threads[p].start_at_ns = US(100);
    m->threads[q].start_at_ns = US(100);
    gs_trace_t *t = tu_run(m, NULL);
    gs_model_free(m);
    return t;
}

static int64_t c_time(const gs_trace_t *t, int th)
{
    return tu_time_in(t, th, GS_ST_C_GIL) + tu_time_in(t, th, GS_ST_C_NOGIL);
}

START_TEST(test_machinery_a_waking_release_costs_one_futex_call)
{
    gs_trace_t *none = lock_pingpong(0), *some = lock_pingpong(US(3));
    ck_assert_int_eq(c_time(none, 1) + c_time(none, 2), 0);
    int64_t paid = c_time(some, 1) + c_time(some, 2);
    ck_assert_int_eq(paid % US(3), 0);
    ck_assert_int_ge(paid, 90 * US(3));  /* about one per hand-off (100) */
    ck_assert_int_le(paid, 300 * US(3)); /* plus the GIL signals' futex wakes */
    ck_assert_int_gt(tu_finish(some, 1), tu_finish(none, 1));
    gs_trace_free(none);
    gs_trace_free(some);
}
END_TEST

/* Waking a thread onto another, idle core costs the waker an inter-processor
 * interrupt (wake_ipi) on top of the futex call; a woken thread that queues
 * behind its waker on a busy core costs it the call alone. The same lock
 * ping-pong on one core (the woken thread always queues) and on two (it
 * always lands on the idle other core). */
static gs_trace_t *lock_pingpong_packed(int cores, int64_t ipi_ns, int affine_pct,
                                        int64_t packed_ns, uint64_t seed);

static gs_trace_t *lock_pingpong_placed(int cores, int64_t ipi_ns, int affine_pct)
{
    return lock_pingpong_packed(cores, ipi_ns, affine_pct, 0, 0);
}

/* packed_ns > 0: another program's thread (no GIL) pinned to the last core
 * spins from the start for packed_ns, so the pair starts on one core (no
 * idle core to wake onto: each is queued on its waker's); after it ends,
 * the other core idles beside the pair. seed 0: the model's default. */
static gs_trace_t *lock_pingpong_packed(int cores, int64_t ipi_ns, int affine_pct,
                                        int64_t packed_ns, uint64_t seed)
{
    gs_model_t *m = tu_model(cores, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    if (seed)
        m->seed = seed;
    m->machine.futex_ns = US(1);
    m->machine.wake_ipi_ns = ipi_ns;
    m->machine.wake_affine_pct = affine_pct;
    int a = gs_model_add_lock(m, "a", false);
    int b = gs_model_add_lock(m, "b", false);
    tu_thread(m, "setup", 2, tu_sync(GS_OP_ACQUIRE, a), tu_sync(GS_OP_ACQUIRE, b));
    int p = tu_thread(m, "ping", 1,
                      tu_repeat(50, 3, tu_sync(GS_OP_ACQUIRE, a), tu_cpu(US(2)),
                                tu_sync(GS_OP_RELEASE, b)));
    int q = tu_thread(m, "pong", 1,
                      tu_repeat(50, 3, tu_cpu(US(2)), tu_sync(GS_OP_RELEASE, a),
                                tu_sync(GS_OP_ACQUIRE, b)));
    m->threads[p].start_at_ns = US(100);
    m->threads[q].start_at_ns = US(100);
    if (packed_ns > 0) {
        int other = gs_model_add_process(m, "other", NULL);
        ck_assert_int_ge(other, 0);
        m->processes[other].python.gil = GS_GIL_NONE;
        m->processes[other].cpus.w[0] = UINT64_C(1) << (cores - 1);
        tu_thread_in(m, other, "busy", 1, tu_cpu(packed_ns));
    }
    gs_trace_t *t = tu_run(m, NULL);
    gs_model_free(m);
    return t;
}

static gs_trace_t *lock_pingpong_on(int cores, int64_t ipi_ns)
{
    return lock_pingpong_placed(cores, ipi_ns, 0);
}

START_TEST(test_machinery_only_a_wake_onto_another_idle_core_pays_the_ipi)
{
    /* one core: the woken thread queues behind its waker, no IPI at all */
    gs_trace_t *one = lock_pingpong_on(1, 0), *one_ipi = lock_pingpong_on(1, US(10));
    ck_assert_int_eq(c_time(one_ipi, 1) + c_time(one_ipi, 2), c_time(one, 1) + c_time(one, 2));
    ck_assert_int_eq(tu_finish(one_ipi, 1), tu_finish(one, 1));
    /* two cores: each of the 100 hand-offs wakes the other, idle core */
    gs_trace_t *two = lock_pingpong_on(2, 0), *two_ipi = lock_pingpong_on(2, US(10));
    int64_t more = c_time(two_ipi, 1) + c_time(two_ipi, 2) - c_time(two, 1) - c_time(two, 2);
    ck_assert_int_eq(more % US(10), 0);
    ck_assert_int_ge(more, 95 * US(10));
    ck_assert_int_le(more, 110 * US(10));
    gs_trace_free(one);
    gs_trace_free(one_ipi);
    gs_trace_free(two);
    gs_trace_free(two_ipi);
}
END_TEST


/* A forced switch ends with the new holder signalling switch_cond in
 * take_gil (CPython's FORCE_SWITCHING), which wakes the dropper asleep on
 * its own, now idle, core: a futex wake that costs the new holder the
 * system call and the inter-processor interrupt, holding the GIL. Measured
 * with the recorder on this VM: the requester's take_gil took 11.8 us from
 * its wake-up to holding the GIL (median, 552 switches), the wake_ipi of
 * the calibration. Two CPU-bound threads on two cores: every forced switch
 * costs its new holder futex + wake_ipi of C time. */
static gs_trace_t *two_cpu_at(int64_t ipi_ns, int64_t interval_ns, int affine_pct,
                              bool per_core)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = per_core;
    m->machine.futex_ns = US(1);
    m->machine.wake_ipi_ns = ipi_ns;
    m->machine.wake_affine_pct = affine_pct;
    m->processes[0].python.switch_interval_ns = interval_ns;
    tu_thread(m, "a", 1, tu_cpu(MS(30)));
    tu_thread(m, "b", 1, tu_cpu(MS(30)));
    gs_trace_t *t = tu_run(m, NULL);
    gs_model_free(m);
    return t;
}

static gs_trace_t *two_cpu(int64_t ipi_ns)
{
    return two_cpu_at(ipi_ns, MS(1), 0, false);
}

/* Two CPU threads at a 100 us interval, the given wake_affine share, a
 * shared or a per-core run queue. */
static int64_t forced_switches_affine(int affine_pct, bool per_core)
{
    gs_trace_t *t = two_cpu_at(US(10), US(100), affine_pct, per_core);
    int64_t n = tu_count(t, GS_IN_FORCED_SWITCH, -1);
    gs_trace_free(t);
    return n;
}

/* The forced dropper, woken by the new holder's switch_cond signal, went to
 * sleep on its own core a moment before; that core is idle, and Linux's
 * wake_affine_idle sends it back there (a futex wake is not WF_SYNC), so
 * wake_affine (the share measured on Lock hand-offs) does not queue it
 * behind the new holder. Queued there, it could not ask for the GIL back
 * until a tick or a balance moved it: at wake_affine 0.78 two CPU threads
 * switched 302 times a second at 0.1 ms instead of ~4500 (reality_short).
 * The same holds for the requester that the dropper's signal wakes (with
 * per-core queues the dropper signals before it waits, gil.c
 * forced_signal_first): it went to sleep on its own core, idle at the
 * signal, and goes back there. So at wake_affine 1 as at 0 the pair keeps
 * two cores, with either run queue. */
START_TEST(test_placement_a_forced_dropper_goes_back_to_its_idle_core)
{
    int64_t none = forced_switches_affine(0, false), most = forced_switches_affine(100, false);
    ck_assert_int_ge(none, 200);
    ck_assert_msg(most * 10 >= none * 9, "forced switches: %lld at wake_affine 1, %lld at 0",
                  (long long)most, (long long)none);
    int64_t none_pc = forced_switches_affine(0, true), most_pc = forced_switches_affine(100, true);
    ck_assert_int_ge(none_pc, 200);
    ck_assert_msg(most_pc * 10 >= none_pc * 9,
                  "per-core: forced switches: %lld at wake_affine 1, %lld at 0",
                  (long long)most_pc, (long long)none_pc);
}
END_TEST

START_TEST(test_machinery_a_forced_switch_wakes_the_dropper_at_the_takers_cost)
{
    gs_trace_t *bare = two_cpu(0), *ipi = two_cpu(US(10));
    int64_t sw = tu_count(bare, GS_IN_FORCED_SWITCH, -1);
    ck_assert_int_ge(sw, 40);
    /* one futex call per switch, taken by the new holder */
    ck_assert_int_eq(c_time(bare, 0) + c_time(bare, 1), sw * US(1));
    /* and the IPI: the dropper sleeps on the other core, which is idle */
    int64_t sw2 = tu_count(ipi, GS_IN_FORCED_SWITCH, -1);
    ck_assert_int_eq(c_time(ipi, 0) + c_time(ipi, 1), sw2 * US(11));
    gs_trace_free(bare);
    gs_trace_free(ipi);
}
END_TEST

/* ---- where the kernel runs a woken thread (wake_affine) ----------------- */

typedef struct run_start {
    int64_t at;
    int core, th;
} run_start_t;

static int by_start(const void *a, const void *b)
{
    const run_start_t *x = a, *y = b;
    return x->at < y->at ? -1 : x->at > y->at;
}

/* The share of hand-offs between ping (1) and pong (2) where the thread that
 * starts a run does so on the core the other one ran on last: what
 * tests/reality reads with sched_getcpu. */
static double pair_on_one_core(const gs_trace_t *t)
{
    size_t n = 0, cap = 0;
    for (int c = 0; c < 2; c++)
        cap += gs_trace_lane(t, gs_trace_core_lane(t, c))->n;
    run_start_t *v = malloc((cap + 1) * sizeof *v);
    ck_assert_ptr_nonnull(v);
    for (int c = 0; c < 2; c++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, c));
        for (size_t i = 0; i < l->n; i++)
            if (l->iv[i].who == 1 || l->iv[i].who == 2)
                v[n++] = (run_start_t){l->iv[i].start_ns, c, l->iv[i].who};
    }
    qsort(v, n, sizeof *v, by_start);
    int last[3] = {-1, -1, -1}, prev = -1, same = 0, hand = 0;
    for (size_t i = 0; i < n; i++) {
        int other = 3 - v[i].th;
        if (prev == other && last[other] >= 0) {
            hand++;
            same += v[i].core == last[other];
        }
        last[v[i].th] = v[i].core;
        prev = v[i].th;
    }
    free(v);
    ck_assert_int_gt(hand, 50);
    return (double)same / hand;
}

/* With wake_affine 1 a thread woken by the other is queued on its waker's
 * core even though the other core is idle: the ping-pong pair shares one
 * core (each is off its core for microseconds: cache-hot, no idle core pulls
 * it) and no wake-up pays the IPI. At 0 it is today's model, each hand-off
 * onto the idle other core. */
/* Linux's wake_affine_idle keeps a woken thread's idle previous CPU (a
 * futex wake is not WF_SYNC) and select_idle_sibling returns an idle target
 * before it scans; traced on this VM (tests/reality/place_trace.py), every
 * wake-up of a program thread whose previous CPU was idle went back there.
 * So the ping-pong pair on two cores, each woken thread's own core idle at
 * its wake, stays on two cores whatever wake_affine says: no draw is made,
 * and the run is byte for byte the one at 0 (the model without the key), each
 * hand-off paying the IPI onto the other core. */
START_TEST(test_placement_an_idle_previous_core_takes_its_thread_back_whatever_the_share)
{
    gs_trace_t *spread = lock_pingpong_placed(2, US(10), 0);
    gs_trace_t *same = lock_pingpong_on(2, US(10));
    ck_assert_msg(pair_on_one_core(spread) < 0.05, "share 0: %.2f on one core",
                  pair_on_one_core(spread));
    size_t na, nb;
    char *a = tu_dump(spread, &na), *b = tu_dump(same, &nb);
    ck_assert(na == nb && memcmp(a, b, na) == 0);
    free(b);
    static const int shares[] = {20, 50, 80, 100};
    for (int i = 0; i < 4; i++) {
        gs_trace_t *t = lock_pingpong_packed(2, US(10), shares[i], 0, 0);
        b = tu_dump(t, &nb);
        ck_assert_msg(na == nb && memcmp(a, b, na) == 0,
                      "share %d%%: the run differs from share 0 (%.2f on one core)", shares[i],
                      pair_on_one_core(t));
        free(b);
        gs_trace_free(t);
    }
    free(a);
    gs_trace_free(spread);
    gs_trace_free(same);
}
END_TEST

/* A pair that shares a core (another program kept the other core busy for
 * its first 300 us: each was queued on its waker's core) wakes each thread
 * while its previous core, its waker's, is busy: there the draw applies.
 * At share 1 the pair stays on one core once the other idles (each is off
 * its core for microseconds: cache-hot, no idle core pulls it) and no
 * wake-up pays the IPI; at 0 the first wake-up after the other core idles
 * goes there and the pair is on two cores from then on. */
START_TEST(test_placement_share_one_keeps_a_pingpong_pair_on_one_core)
{
    gs_trace_t *spread = lock_pingpong_packed(2, US(10), 0, US(300), 0);
    gs_trace_t *packed = lock_pingpong_packed(2, US(10), 100, US(300), 0);
    gs_trace_t *packed0 = lock_pingpong_packed(2, 0, 100, US(300), 0);
    ck_assert_msg(pair_on_one_core(spread) < 0.6, "share 0: %.2f on one core",
                  pair_on_one_core(spread));
    ck_assert_msg(pair_on_one_core(packed) > 0.97, "share 1: %.2f on one core",
                  pair_on_one_core(packed));
    /* queued on the waker's busy core: the IPI is never paid */
    ck_assert_int_eq(c_time(packed, 1) + c_time(packed, 2),
                     c_time(packed0, 1) + c_time(packed0, 2));
    ck_assert_int_eq(tu_finish(packed, 1), tu_finish(packed0, 1));
    gs_trace_free(spread);
    gs_trace_free(packed);
    gs_trace_free(packed0);
}
END_TEST

/* Between 0 and 1 a packed pair stays packed for as many wake-ups as the
 * draws keep it there (each a seeded chance; the first one that sends a
 * thread to the idle core ends the packing for good, its core then being
 * idle at every wake): summed over 10 seeds, more hand-offs on one core at
 * 0.8 than at 0.2. */
START_TEST(test_placement_more_share_more_packing)
{
    double lo = 0, hi = 0;
    for (uint64_t seed = 1; seed <= 10; seed++) {
        gs_trace_t *a = lock_pingpong_packed(2, 0, 20, US(300), seed);
        gs_trace_t *b = lock_pingpong_packed(2, 0, 80, US(300), seed);
        lo += pair_on_one_core(a);
        hi += pair_on_one_core(b);
        gs_trace_free(a);
        gs_trace_free(b);
    }
    ck_assert_msg(lo < hi, "0.2: %.2f, 0.8: %.2f on one core (mean of 10 seeds)", lo / 10,
                  hi / 10);
}
END_TEST

/* The race for a released Lock on one core (tests/reality lock_retake): the
 * releaser sleeps 300 us, releases the lock its waiter is blocked on, and at
 * once takes it back; the waiter takes it, gives it back and sleeps 200 us.
 * Both pinned to one core (as the real program pins them; wake_affine 1 no
 * longer packs a pair whose cores idle between its wake-ups: "Where a woken
 * thread runs"), the waiter is queued on its waker's core, and whether it
 * preempts the releaser is EEVDF's wake-up rule: the waker keeps its core
 * while it is eligible. A thread that blocks while not eligible stays counted
 * in its core's V (DELAY_DEQUEUE), so the one that ran last leaves the other
 * a positive lag: the real kernel's woken thread won about half of these
 * races (50%, 2026-12-07), the model before the delayed dequeue 0 of 200.
 * Seeded: the timers' jitter moves the instants, not the share. */
static gs_trace_t *retake_run(uint64_t seed, bool per_core, int *releaser)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->seed = seed;
    m->machine.wake_affine_pct = 100;
    m->machine.per_core_queues = per_core;
    m->machine.timer_jitter_ns = US(20);
    int l = gs_model_add_lock(m, "L", false);
    int go = gs_model_add_event(m, "go");
    int r = tu_thread(m, "releaser", 4, tu_sync(GS_OP_ACQUIRE, l), tu_sync(GS_OP_SET, go),
                      tu_repeat(200, 4, tu_sleep(US(300)), tu_sync(GS_OP_RELEASE, l),
                                tu_cpu(US(1)), tu_sync(GS_OP_ACQUIRE, l)),
                      tu_sync(GS_OP_RELEASE, l));
    int w = tu_thread(m, "waiter", 2, tu_sync(GS_OP_WAIT, go),
                      tu_repeat(200, 3, tu_sync(GS_OP_ACQUIRE, l), tu_sync(GS_OP_RELEASE, l),
                                tu_sleep(US(200))));
    /* both pinned to one core, as the real program pins them (lock_retake) */
    m->threads[r].cpus.w[0] = 1;
    m->threads[w].cpus.w[0] = 1;
    int rc = 0;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, 0);
    gs_model_free(m);
    *releaser = r;
    return t;
}

static double retake_preempted(uint64_t seed)
{
    int r;
    gs_trace_t *t = retake_run(seed, false, &r);
    double share = (double)tu_count(t, GS_IN_PREEMPT, r) / 200;
    gs_trace_free(t);
    return share;
}

START_TEST(test_placement_a_woken_lock_waiter_preempts_its_waker_about_half_the_time)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        double share = retake_preempted(seed);
        ck_assert_msg(share >= 0.3 && share <= 0.7, "seed %llu: waker preempted in %.2f",
                      (unsigned long long)seed, share);
    }
}
END_TEST

/* The same race with one V per core (run_queues "per_core") and the
 * kernel's pick at a wake-up (a waker no longer eligible is left out, a tie
 * goes to the woken thread): the woken waiter still wins about half the
 * races, not all of them (the releaser is eligible and protected at every
 * other wake, 0.5 us past V at the others). A won race preempts the
 * releaser up to three times (the lock's wake, the GIL's signal, the GIL
 * mutex's unlock), so the races are counted, not the preemptions: a
 * preemption more than 100 us after the last one starts a new race (the
 * races are 300 us apart). */
START_TEST(test_placement_per_core_a_woken_lock_waiter_still_wins_about_half_the_races)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        int r, won = 0;
        gs_trace_t *t = retake_run(seed, true, &r);
        const gs_instant_t *in = gs_trace_instants(t);
        int64_t last = INT64_MIN / 2;
        for (size_t i = 0; i < gs_trace_n_instants(t); i++) {
            if (in[i].kind != GS_IN_PREEMPT || in[i].thread != r)
                continue;
            won += in[i].t_ns - last > US(100);
            last = in[i].t_ns;
        }
        gs_trace_free(t);
        ck_assert_msg(won >= 60 && won <= 140, "seed %llu: the woken waiter won %d of 200",
                      (unsigned long long)seed, won);
    }
}
END_TEST

/* Per-core run queues (run_queues "per_core"): a thread woken by a thread
 * on a core while no core is idle joins its waker's queue, and only its
 * waker can be preempted for it (Linux select_task_rq_fair: wake_affine
 * picks the waker's CPU, select_idle_sibling finds no idle one). No GIL: a
 * spinner keeps one core busy, ping and pong pass two Locks beside it, 2 us
 * of work each turn. With one shared queue the pair's threads also run on
 * the spinner's core when its slice ends on a tick (it is preempted for
 * them); per core they never leave their core (each is off it for
 * microseconds: cache-hot, never pulled) and the spinner is never
 * preempted; whether a woken partner preempts its waker is EEVDF's rule,
 * judged against the waker alone (the real pair beside a spinner did in
 * 56% of 5378 same-CPU wakes, kernel sched_switch trace, 2026-12-07). */
static gs_trace_t *pair_beside_spinner(bool per_core)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.per_core_queues = per_core;
    m->machine.futex_ns = US(1);
    int a = gs_model_add_lock(m, "a", false);
    int b = gs_model_add_lock(m, "b", false);
    tu_thread(m, "setup", 2, tu_sync(GS_OP_ACQUIRE, a), tu_sync(GS_OP_ACQUIRE, b));
    int p = tu_thread(m, "ping", 1,
                      tu_repeat(4000, 3, tu_sync(GS_OP_ACQUIRE, a), tu_cpu(US(2)),
                                tu_sync(GS_OP_RELEASE, b)));
    int q = tu_thread(m, "pong", 1,
                      tu_repeat(4000, 3, tu_cpu(US(2)), tu_sync(GS_OP_RELEASE, a),
                                tu_sync(GS_OP_ACQUIRE, b)));
    int s = tu_thread(m, "spinner", 1, tu_cpu(MS(40)));
    m->threads[p].start_at_ns = US(100);
    m->threads[q].start_at_ns = US(100);
    m->threads[s].start_at_ns = US(50);
    gs_trace_t *t = tu_run(m, NULL);
    gs_model_free(m);
    return t;
}

/* How many of the pair's runs (core intervals) on core c began while the
 * spinner (thread 3) was still running. */
static int pair_runs_on(const gs_trace_t *t, int c)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, c));
    int64_t end = tu_finish(t, 3);
    int n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += (l->iv[i].who == 1 || l->iv[i].who == 2) && l->iv[i].start_ns < end;
    return n;
}

START_TEST(test_placement_per_core_queues_keep_a_woken_thread_on_its_wakers_busy_core)
{
    gs_trace_t *shared = pair_beside_spinner(false), *own = pair_beside_spinner(true);
    /* the spinner took core 0 first; the pair started on core 1 */
    ck_assert_int_gt(pair_runs_on(own, 1), 1000);
    ck_assert_int_eq(pair_runs_on(own, 0), 0);
    ck_assert_int_eq(tu_count(own, GS_IN_PREEMPT, 3), 0);
    /* one shared queue: the spinner's core picks pair threads too */
    ck_assert_int_gt(tu_count(shared, GS_IN_PREEMPT, 3), 0);
    ck_assert_int_gt(pair_runs_on(shared, 0), 0);
    gs_trace_free(shared);
    gs_trace_free(own);
}
END_TEST

/* The kernel accounts a running thread's time into its vruntime only at
 * update_curr points (its pick, the tick, an enqueue on its CPU, the wake-up
 * preemption check). A partner that blocked while not eligible is still
 * queued (DELAY_DEQUEUE); woken, it is requeued with no update_curr first
 * (requeue_delayed_entity), so its CPU's V counts its waker as of the
 * waker's pick: eligible against that V, it is placed there with its lag
 * zeroed, and the wake-up preemption check, which accounts the waker's run
 * since, finds the waker past the new V and, with the waker's deadline
 * spent, the partner the pick. The pair of the last test (per-core queues,
 * no GIL) now has its woken partners preempt their wakers; before, every
 * wake placed the partner exactly at its waker's vruntime and none did. */
START_TEST(test_placement_a_delayed_partner_is_requeued_against_its_wakers_last_accounted_vruntime)
{
    gs_trace_t *own = pair_beside_spinner(true);
    int pre = tu_count(own, GS_IN_PREEMPT, 1) + tu_count(own, GS_IN_PREEMPT, 2);
    /* 4000 rounds: 8000 wakes; some of them, not all */
    ck_assert_msg(pre > 800 && pre < 7200, "partners preempted their wakers %d times", pre);
    gs_trace_free(own);
}
END_TEST

/* drop_gil signals the GIL's condition holding the GIL's mutex (ceval_gil.c:
 * MUTEX_LOCK, locked = 0, COND_SIGNAL, MUTEX_UNLOCK). A waiter that the
 * signal wakes and that preempts its signaller on one core runs into that
 * mutex in take_gil: it sleeps on it until the signaller, back on the core,
 * has finished its futex call and unlocks it, which wakes it again. One
 * core, priority policy so that the woken waiter always preempts: `low`
 * holds the GIL running Python; `high` starts at 100 us, preempts it, finds
 * the GIL held and waits on the condition; at 500 us of Python `low`
 * sleeps, which drops the GIL and signals. `high` preempts `low` at the
 * signal, sleeps on the mutex, and preempts it again when `low`, back on
 * the core, unlocks: 3 preemptions of `low` in all (2 before the mutex was
 * modelled), and `low` runs once more between them. */
START_TEST(test_machinery_a_waiter_that_preempts_its_signaller_waits_for_the_gil_mutex)
{
    gs_model_t *m = tu_model(1, GS_POLICY_PRIORITY, GS_GIL_CPYTHON3);
    m->machine.futex_ns = US(3);
    m->machine.context_switch_ns = US(1);
    int lo = tu_thread(m, "low", 2, tu_cpu(US(500)), tu_sleep(MS(2)));
    int hi = tu_thread(m, "high", 2, tu_sleep(US(200)), tu_cpu(US(100)));
    m->threads[hi].priority = 5;
    m->threads[hi].start_at_ns = US(100);
    int rc = 0;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(tu_count(t, GS_IN_PREEMPT, lo), 3);
    ck_assert_int_eq(tu_count(t, GS_IN_PREEMPT, hi), 0);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* Idle balancing: w sleeps on an event; s sets it after 1 ms of work and goes
 * on for 20 ms; w then has 20 ms to do. No GIL. A third thread x, pinned to
 * core 1, runs there for the first 0.5 ms, so s starts on w's core once w
 * sleeps: at the wake w's previous core is s's, busy, and core 1 idle. Queued
 * on s's core (share 1) and not preempting it (s is within its slice), w is
 * pulled by the idle core at the first tick after it has been off a core for
 * migration_cost: both end near 21 ms plus a tick. A migration cost longer
 * than the run keeps both on one core (about 41 ms); share 0 puts w on the
 * idle core at once (21 ms). */
static int64_t balance_run(int affine_pct, int64_t migration_ns)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.wake_affine_pct = affine_pct;
    m->machine.migration_cost_ns = migration_ns;
    int ev = gs_model_add_event(m, "go");
    int x = tu_thread(m, "x", 1, tu_cpu(US(500)));
    m->threads[x].cpus.w[0] = 2;
    tu_thread(m, "w", 2, tu_sync(GS_OP_WAIT, ev), tu_cpu(MS(20)));
    tu_thread(m, "s", 3, tu_cpu(MS(1)), tu_sync(GS_OP_SET, ev), tu_cpu(MS(20)));
    return tu_run_last_finish(m, 3);
}

START_TEST(test_placement_an_idle_core_pulls_a_cold_queued_thread_at_a_tick)
{
    int64_t spread = balance_run(0, US(500)), pulled = balance_run(100, US(500));
    int64_t never = balance_run(100, MS(1000));
    ck_assert_int_lt(spread, MS(21) + US(200));
    ck_assert_msg(pulled > spread && pulled < MS(21) + MS(4) + US(200), "pulled: %lld ns",
                  (long long)pulled);
    ck_assert_msg(never > MS(40), "never pulled: %lld ns", (long long)never);
}
END_TEST

/* ---- the kernel's scheduler: EEVDF and the tick ------------------------ */

/* Preemptions of two CPU-bound threads sharing one core (no GIL): how many,
 * and how many fell on a multiple of the tick. */
static void preempts(gs_policy_t p, int64_t tick_ns, int64_t *n, int64_t *on_tick)
{
    gs_model_t *m = tu_model(1, p, GS_GIL_NONE);
    m->machine.tick_ns = tick_ns;
    tu_thread(m, "a", 1, tu_cpu(MS(40)));
    tu_thread(m, "b", 1, tu_cpu(MS(40)));
    gs_trace_t *t = tu_run(m, NULL);
    const gs_instant_t *in = gs_trace_instants(t);
    *n = *on_tick = 0;
    for (size_t i = 0; i < gs_trace_n_instants(t); i++)
        if (in[i].kind == GS_IN_PREEMPT) {
            ++*n;
            *on_tick += in[i].t_ns % MS(4) == 0;
        }
    /* fair either way: both done within a slice of each other */
    int64_t fa = tu_finish(t, 0), fb = tu_finish(t, 1);
    ck_assert_int_le(fa > fb ? fa - fb : fb - fa, MS(4) + US(10));
    gs_trace_free(t);
    gs_model_free(m);
}

/* Linux looks at a slice on the scheduler tick: with a 4 ms tick every
 * preemption of a CPU-bound thread falls on a tick, for cfs and eevdf; with
 * no tick (exact slice ends, the old model) most fall between ticks and,
 * with eevdf's 0.75 ms slice on one core, they come more than twice as
 * often. */
START_TEST(test_sched_slices_end_on_the_tick)
{
    gs_policy_t ps[] = {GS_POLICY_CFS, GS_POLICY_EEVDF};
    for (int i = 0; i < 2; i++) {
        int64_t n, on, n0, on0;
        preempts(ps[i], MS(4), &n, &on);
        preempts(ps[i], 0, &n0, &on0);
        ck_assert_int_gt(n, 10);
        ck_assert_int_eq(on, n);
        ck_assert_int_lt(on0, n0 / 2);
    }
    int64_t n, on, n0, on0;
    preempts(GS_POLICY_EEVDF, MS(4), &n, &on);
    preempts(GS_POLICY_EEVDF, 0, &n0, &on0);
    ck_assert_int_ge(n0, 2 * n);
}
END_TEST

/* A thread that sleeps often beside a CPU-bound one on a single core: it ran
 * less than its share, so it keeps a positive lag when it sleeps and comes
 * back eligible with an earlier deadline than the runner, which is no longer
 * eligible: it preempts at once (EEVDF's wake-up preemption). Its lag is
 * inflated by (W + w) / W as it joins, or it would lose half of it at every
 * sleep and soon wait for the runner's tick. Under rr it waits for the
 * runner's slice to end. */
static int64_t sleeper_ready_ns(gs_policy_t p)
{
    gs_model_t *m = tu_model(1, p, GS_GIL_NONE);
    m->machine.timer_slack_ns = 0;
    tu_thread(m, "runner", 1, tu_cpu(MS(100)));
    tu_thread(m, "sleeper", 1, tu_repeat(40, 2, tu_sleep(MS(1)), tu_cpu(US(100))));
    gs_trace_t *t = tu_run(m, NULL);
    int64_t r = tu_time_in(t, 1, GS_ST_READY);
    gs_trace_free(t);
    gs_model_free(m);
    return r;
}

START_TEST(test_eevdf_a_waking_sleeper_with_lag_preempts)
{
    int64_t eevdf = sleeper_ready_ns(GS_POLICY_EEVDF);
    int64_t rr = sleeper_ready_ns(GS_POLICY_RR);
    /* a tick at its start (two new threads, the first keeps its slice), then
     * nothing but context switches */
    ck_assert_int_le(eevdf, MS(4) + 40 * US(10));
    ck_assert_int_ge(rr, 10 * MS(1));
}
END_TEST

/* A thread that ran more than its share leaves with a negative lag and, if it
 * comes back before V caught up with it, is not eligible: three CPU-bound
 * threads on one core, one of which blocks for 1 us after each 3 ms; over the
 * run the three still get equal time (the blocker does not reset its debt by
 * blocking), within two slices. */
START_TEST(test_eevdf_a_short_block_does_not_reset_negative_lag)
{
    gs_model_t *m = tu_model(1, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.timer_slack_ns = 0;
    tu_thread(m, "a", 1, tu_cpu(MS(60)));
    tu_thread(m, "b", 1, tu_cpu(MS(60)));
    tu_thread(m, "blocker", 1, tu_repeat(20, 2, tu_cpu(MS(3)), tu_io(US(1))));
    gs_trace_t *t = tu_run(m, NULL);
    int64_t fa = tu_finish(t, 0), fc = tu_finish(t, 2);
    /* equal shares: the blocker's 60 ms end near the others' */
    ck_assert_int_ge(fc, MS(150));
    ck_assert_int_le(fa - fc < 0 ? fc - fa : fa - fc, MS(12));
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* ---- wake-up latency against idle depth; timers by their length -------- */

/* A single thread sleeps d, then runs 1 us, twice; how late its second run
 * ends after 2 x (d + 1 us): the timer slack plus the wake-up of a core that
 * idled for the sleep. */
static int64_t late_after_sleep(int64_t d, bool curve, bool local)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.timer_wake_local = local;
    m->machine.timer_slack_ns = US(50);
    m->machine.wakeup_latency_ns = US(5);
    if (curve) {
        m->machine.n_wake_curve = 2;
        m->machine.wake_idle_ns[0] = US(100);
        m->machine.wake_latency_ns[0] = US(5);
        m->machine.wake_idle_ns[1] = MS(1);
        m->machine.wake_latency_ns[1] = US(60);
    }
    tu_thread(m, "t", 1, tu_repeat(2, 2, tu_sleep(d), tu_cpu(US(1))));
    gs_trace_t *t = tu_run(m, NULL);
    int64_t late = tu_finish(t, 0) - 2 * (d + US(1));
    gs_trace_free(t);
    gs_model_free(m);
    return late;
}

/* A short timer (time.sleep(0), a sleep of 20 us) ends on a core that idled
 * for its slack only, a shallow idle; a 2 ms one on a core that idled 2 ms.
 * With a curve that rises with depth the long one pays more per wake-up;
 * with a flat curve (no curve: wakeup_latency) both pay the same. The slack
 * itself is the same for every length (hrtimer slack, 50 us). That is
 * timer_wake "remote", where a timer's sleeper pays a wake-up like any.
 * With "local" (the default) a sleeper woken by its own timer on its own
 * idle core pays none: the idle exit is part of the timer's lateness
 * (timer_late), so sleeps of every length end the slack late and the curve
 * serves only the thread's start. */
START_TEST(test_wakeup_latency_follows_idle_depth)
{
    int64_t s0 = late_after_sleep(0, true, false), s20 = late_after_sleep(US(20), true, false);
    int64_t s2m = late_after_sleep(MS(2), true, false);
    ck_assert_int_ge(s0, 2 * US(50));
    ck_assert_int_le(s0, s20);
    ck_assert_int_ge(s2m - s0, 2 * US(40)); /* 2 x (60 - about 5..10 us) */
    ck_assert_int_eq(late_after_sleep(0, false, false), late_after_sleep(MS(2), false, false));
    /* the thread's start, then two timers of slack + wake-up */
    ck_assert_int_eq(late_after_sleep(0, false, false), US(5) + 2 * (US(50) + US(5)));
    /* "local": the start's wake-up, then two timers of slack alone */
    for (int curve = 0; curve < 2; curve++) {
        ck_assert_int_eq(late_after_sleep(0, curve, true), US(5) + 2 * US(50));
        ck_assert_int_eq(late_after_sleep(MS(2), curve, true), US(5) + 2 * US(50));
    }
}
END_TEST

/* Two threads of 10 us of work, a 1 ms sleep and 1 us of work, the second
 * starting `delta` after the first, on `cores` cores (no GIL): how much
 * later the second one ends than the first. On one core the second sleep
 * starts delta after the first; on two, a second thread that starts while
 * the first works sleeps on the other core. */
static int64_t sleep_end_gap(int cores, int64_t delta)
{
    gs_model_t *m = tu_model(cores, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.timer_slack_ns = US(50);
    m->machine.wakeup_latency_ns = US(5);
    m->machine.context_switch_ns = 0;
    tu_thread(m, "a", 3, tu_cpu(US(10)), tu_sleep(MS(1)), tu_cpu(US(1)));
    int b = tu_thread(m, "b", 3, tu_cpu(US(10)), tu_sleep(MS(1)), tu_cpu(US(1)));
    m->threads[b].start_at_ns = delta;
    gs_trace_t *t = tu_run(m, NULL);
    int64_t gap = tu_finish(t, b) - tu_finish(t, 0);
    gs_trace_free(t);
    gs_model_free(m);
    return gap;
}

/* Linux's hrtimers have a range (soft expiry, soft + slack); the interrupt
 * of a CPU's earliest timer expires every timer of that CPU whose soft
 * expiry has passed. So two sleeps on one core that end within the slack
 * of each other end together, at the first one's interrupt (the second
 * runs right after the first, one wake-up for both); further apart than
 * the slack, or on two cores, each ends on its own. */
START_TEST(test_timers_of_one_core_within_the_slack_end_together)
{
    ck_assert_int_le(sleep_end_gap(1, US(20)), US(1));   /* a's 1 us, then b */
    ck_assert_int_ge(sleep_end_gap(1, US(80)), US(75));  /* its own timer */
    ck_assert_int_ge(sleep_end_gap(2, US(5)), US(5));    /* another core's */
}
END_TEST

/* Timers by their length: a per-length lateness (timer_late) is added to
 * the slack of a sleep of that length, and only to it; and to the GIL's
 * timed wait by the switch interval's length. */
START_TEST(test_timer_lateness_follows_the_timer_length)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.timer_slack_ns = US(50);
    m->machine.wakeup_latency_ns = 0;
    m->machine.n_timer_curve = 2;
    m->machine.timer_len_ns[0] = 0;
    m->machine.timer_late_ns[0] = US(20);
    m->machine.timer_len_ns[1] = MS(1);
    m->machine.timer_late_ns[1] = US(60);
    tu_thread(m, "zero", 1, tu_sleep(0));
    tu_thread(m, "half", 1, tu_sleep(US(500)));
    tu_thread(m, "long", 1, tu_sleep(MS(5)));
    tu_thread(m, "io", 1, tu_io(MS(1)));
    gs_trace_t *t = tu_run(m, NULL);
    ck_assert_int_eq(tu_time_in(t, 0, GS_ST_SLEEP), US(50) + US(20));
    ck_assert_int_eq(tu_time_in(t, 1, GS_ST_SLEEP), US(500) + US(50) + US(40));
    ck_assert_int_eq(tu_time_in(t, 2, GS_ST_SLEEP), MS(5) + US(50) + US(60));
    ck_assert_int_eq(tu_time_in(t, 3, GS_ST_IO), MS(1)); /* I/O is no timer */
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* ---- a thread woken by its own timer (machine.timer_wake) --------------- */

/* A sleeper of d, then 1 us of work, twice, on 2 cores with per-core queues
 * (said explicitly), wake-ups of 30 us and no jitter; `busy`: a spinner
 * pinned to core 0 from 0.5 ms on for 5 ms, so that a sleeper that went to
 * sleep on core 0 finds it taken when its timer fires and wakes on core 1.
 * Returns when the sleeper's work ends. */
static int64_t own_timer_finish(int64_t d, bool local, bool busy)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.per_core_queues = true;
    m->machine.timer_wake_local = local;
    m->machine.timer_slack_ns = US(50);
    m->machine.wakeup_latency_ns = US(30);
    m->machine.wakeup_jitter_ns = 0;
    m->machine.context_switch_ns = 0;
    int s = tu_thread(m, "sleeper", 1, tu_repeat(2, 2, tu_sleep(d), tu_cpu(US(1))));
    if (busy) { /* the sleeper, alone at first, starts and sleeps on core 0 */
        int b = tu_thread(m, "spin", 1, tu_cpu(MS(5)));
        m->threads[b].start_at_ns = US(500);
        m->threads[b].cpus.w[0] = 1; /* core 0 */
    }
    gs_trace_t *t = tu_run(m, NULL);
    int64_t end = tu_finish(t, s);
    gs_trace_free(t);
    gs_model_free(m);
    return end;
}

/* Linux queues a sleeper's hrtimer on the CPU it slept on and wakes it from
 * that CPU's interrupt: back on that CPU, idle, the wake-up is local, no
 * inter-processor interrupt, and the idle exit is in the timer's lateness.
 * With timer_wake "local" each of the two sleeps ends exactly its slack
 * late, and "remote" (the old model) adds a wake-up to each: the
 * difference is two wake-ups, whatever the sleep's length. The thread's
 * start is no timer and pays its wake-up either way. */
START_TEST(test_timer_wake_a_sleeper_woken_on_its_own_idle_core_pays_no_wakeup)
{
    for (int64_t d = 0; d <= MS(2); d += MS(1)) {
        int64_t loc = own_timer_finish(d, true, false), rem = own_timer_finish(d, false, false);
        ck_assert_int_eq(loc, US(30) + 2 * (d + US(50) + US(1)));
        ck_assert_int_eq(rem - loc, 2 * US(30));
    }
}
END_TEST

/* A sleeper whose core is taken when its timer fires is woken on the other,
 * idle core: the timer's CPU sends it there by an inter-processor
 * interrupt, and that wake-up costs what any wake-up of an idle core costs.
 * The first sleep (its core taken by the pinned spinner) pays the same
 * wake-up under both settings; only the second, back on an idle core of
 * its own, is local. */
START_TEST(test_timer_wake_a_sleeper_woken_on_another_core_pays_the_wakeup)
{
    int64_t loc = own_timer_finish(MS(1), true, true);
    int64_t rem = own_timer_finish(MS(1), false, true);
    ck_assert_int_eq(rem - loc, US(30)); /* one local wake-up of two */
    /* start, first sleep and its cross-core wake-up, second sleep */
    ck_assert_int_eq(loc, US(30) + MS(1) + US(50) + US(30) + US(1) + MS(1) + US(50) + US(1));
}
END_TEST

/* CPython's GIL wait is pthread_cond_timedwait: a futex wait with a timeout,
 * an hrtimer of the waiter's own CPU like a sleep's. Two CPU threads on two
 * cores (per-core queues, said explicitly): the waiter's timeout wakes it on
 * its own idle core, where it asks for the drop. With timer_wake "local"
 * every drop request comes exactly the switch interval plus the slack
 * after the waiter's wait began; "remote" adds a wake-up; so over a run
 * the holder drops more often under "local" (as many or more forced
 * switches) and the first request comes one wake-up earlier. */
static void first_request(bool local, int64_t *at, int64_t *forced)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = true;
    m->machine.timer_wake_local = local;
    m->machine.timer_slack_ns = US(50);
    m->machine.wakeup_latency_ns = US(30);
    m->machine.wakeup_jitter_ns = 0;
    m->processes[0].python.switch_interval_ns = MS(1);
    tu_thread(m, "a", 1, tu_cpu(MS(20)));
    tu_thread(m, "b", 1, tu_cpu(MS(20)));
    gs_trace_t *t = tu_run(m, NULL);
    const gs_instant_t *in = gs_trace_instants(t);
    size_t n = gs_trace_n_instants(t);
    *at = -1;
    for (size_t i = 0; i < n && *at < 0; i++)
        if (in[i].kind == GS_IN_DROP_REQUEST)
            *at = in[i].t_ns;
    *forced = tu_count(t, GS_IN_FORCED_SWITCH, -1);
    gs_trace_free(t);
    gs_model_free(m);
}

START_TEST(test_timer_wake_a_gil_timeout_wakes_its_waiter_on_its_own_core)
{
    int64_t at_l, at_r, f_l, f_r;
    first_request(true, &at_l, &f_l);
    first_request(false, &at_r, &f_r);
    ck_assert_int_ge(at_l, MS(1) + US(50));
    ck_assert_int_eq(at_r - at_l, US(30));
    ck_assert_int_gt(f_l, 10);
    ck_assert_int_ge(f_l, f_r);
}
END_TEST

/* Arming a timer that is its core's first reprograms the clock event device
 * (machine.timer_arm, hrtimer.c). Two CPU-bound threads pass the GIL by
 * forced switches on two cores with a 4 ms tick: a 1 ms GIL wait usually
 * ends before the next tick, so its waiter pays the arming (time in a
 * futex call, C without the GIL); a 5 ms one ends after it and pays
 * nothing. Returns that time per drop request, in ns. */
static int64_t arm_time_per_request(int64_t interval, int64_t timer_arm)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.tick_ns = MS(4);
    m->machine.timer_slack_ns = US(50);
    m->machine.timer_arm_ns = timer_arm;
    m->processes[0].python.switch_interval_ns = interval;
    tu_thread(m, "a", 1, tu_cpu(MS(200)));
    tu_thread(m, "b", 1, tu_cpu(MS(200)));
    gs_trace_t *t = tu_run(m, NULL);
    int64_t in_call = tu_time_in(t, 0, GS_ST_C_NOGIL) + tu_time_in(t, 1, GS_ST_C_NOGIL);
    int64_t n = tu_count(t, GS_IN_DROP_REQUEST, -1);
    ck_assert_int_gt(n, 10);
    gs_trace_free(t);
    gs_model_free(m);
    return in_call / n;
}

START_TEST(test_timer_arm_a_1ms_gil_wait_pays_it_a_5ms_one_behind_the_tick_does_not)
{
    int64_t at1 = arm_time_per_request(MS(1), US(20));
    int64_t at5 = arm_time_per_request(MS(5), US(20));
    /* a forced switch makes three timer operations: the requester, timed
     * out, sets the request and arms a new wait; the holder's signal wakes
     * it before that one's end, and it cancels it; the dropper arms its own
     * wait. Each pays when its timer is first: before a 4 ms tick a 1 ms
     * timer is for most of the tick period, so well over one, never over
     * three per request. */
    ck_assert_int_ge(at1, US(20));
    ck_assert_int_le(at1, 3 * US(20));
    ck_assert_int_eq(at5, 0);
    ck_assert_int_eq(arm_time_per_request(MS(1), 0), 0); /* no cost, no time */
}
END_TEST

/* The arming of a sleep's timer is paid on its core before it sleeps, and
 * the sleep's deadline is absolute, so it ends when it would have: the cost
 * is CPU time, not lateness. A 1 ms sleep before the tick pays it, a 5 ms
 * one does not, a sleep(0) always does (within its slack). */
static void sleeps(int64_t len, int64_t timer_arm, int64_t *arm_ns, int64_t *end_ns)
{
    gs_model_t *m = tu_model(1, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.tick_ns = MS(4);
    m->machine.timer_slack_ns = US(50);
    m->machine.timer_arm_ns = timer_arm;
    int s = tu_thread(m, "s", 1, tu_repeat(40, 2, tu_sleep(len), tu_cpu(US(30))));
    gs_trace_t *t = tu_run(m, NULL);
    *arm_ns = tu_time_in(t, s, GS_ST_C_NOGIL);
    *end_ns = tu_finish(t, s);
    gs_trace_free(t);
    gs_model_free(m);
}

START_TEST(test_timer_arm_is_cpu_time_before_a_sleep_not_lateness)
{
    int64_t arm1, end1, end0, arm5, end5, x, end50;
    sleeps(MS(1), US(20), &arm1, &end1);
    sleeps(MS(1), 0, &x, &end0);
    sleeps(MS(5), US(20), &arm5, &end5);
    sleeps(MS(5), 0, &x, &end50);
    ck_assert_int_ge(arm1, 20 * US(20)); /* at least half the sleeps */
    ck_assert_int_le(arm1, 40 * US(20));
    ck_assert_int_eq(end1, end0);
    ck_assert_int_eq(arm5, 0);
    ck_assert_int_eq(end5, end50);
    /* sleep(0): a timer already due, always first; paid within its slack */
    int64_t arm00, end00, end000;
    sleeps(0, US(20), &arm00, &end00);
    sleeps(0, 0, &x, &end000);
    ck_assert_int_eq(arm00, 40 * US(20));
    ck_assert_int_eq(end00, end000);
}
END_TEST

/* Wake-up jitter: eight threads sleep the same 1 ms on eight idle cores;
 * without jitter they all run again at the same instant, with it they spread
 * over [latency, latency + jitter], never earlier. */
static void wake_spread(int64_t jitter, int64_t *first, int64_t *last)
{
    gs_model_t *m = tu_model(8, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.wakeup_latency_ns = US(5);
    m->machine.wakeup_jitter_ns = jitter;
    for (int i = 0; i < 8; i++)
        tu_thread(m, "s", 2, tu_sleep(MS(1)), tu_cpu(US(1)));
    gs_trace_t *t = tu_run(m, NULL);
    *first = INT64_MAX;
    *last = 0;
    for (int i = 0; i < 8; i++) {
        int64_t f = tu_finish(t, i);
        *first = f < *first ? f : *first;
        *last = f > *last ? f : *last;
    }
    gs_trace_free(t);
    gs_model_free(m);
}

START_TEST(test_wakeup_jitter_spreads_wakeups_never_shortens_them)
{
    int64_t f0, l0, f1, l1;
    wake_spread(0, &f0, &l0);
    wake_spread(US(100), &f1, &l1);
    ck_assert_int_eq(f0, l0);
    ck_assert_int_ge(f1, f0);
    ck_assert_int_gt(l1 - f1, US(20));
    ck_assert_int_le(l1, l0 + 2 * US(100)); /* the start's and the timer's wake-ups */
}
END_TEST

/* A GIL waiter woken beside busy threads of another process. Two cores,
 * EEVDF with its 4 ms tick; "other load", a process without a GIL, keeps
 * two threads in long C calls; the Python program is the convoy: a CPU-bound
 * cruncher and an I/O thread that sleeps 1 ms and runs 100 us. At each
 * forced switch the cruncher drops the GIL, signals the I/O thread (which
 * has slept, so it comes back with lag and an early deadline) and waits: its
 * core goes to a load thread, and the woken waiter beats that thread as it
 * arrives (the kernel's need_resched on the new curr), so it has a core
 * within two context switches. Before, a thread woken while both cores
 * were mid-switch preempted nobody and waited for the next tick (3-4 ms
 * after most hand-offs). The signal-to-core time of each signal to the I/O
 * thread: the end of the READY stretch it starts. That mid-switch arrival is
 * the shared queue's: with per-core queues (`per_core`) the cruncher signals
 * before it waits (gil.c forced_signal_first), on its busy core, so the I/O
 * thread joins that core's queue and takes the core from its signaller at
 * once, and no READY stretch is recorded; there each signal's wait is the
 * time to the I/O thread's next stretch on a core (switching or running). */
static int signal_waits(bool per_core, int64_t *out, int max)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = per_core;
    m->machine.timer_slack_ns = 0;
    tu_thread(m, "cruncher", 1, tu_cpu(MS(300)));
    int io = tu_thread(m, "io", 1, tu_repeat(60, 2, tu_sleep(MS(1)), tu_cpu(US(100))));
    m->threads[io].start_at_ns = MS(1);
    gs_python_t none = m->processes[0].python;
    none.gil = GS_GIL_NONE;
    int p = gs_model_add_process(m, "other load", &none);
    for (int i = 0; i < 2; i++) {
        int l = tu_thread_in(m, p, i ? "load-2" : "load-1", 1,
                             tu_repeat(10, 1, tu_c(MS(100), true)));
        m->threads[l].daemon = true;
    }
    gs_trace_t *t = tu_run(m, NULL);
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, io));
    const gs_instant_t *in = gs_trace_instants(t);
    int n = 0;
    for (size_t i = 0; i < gs_trace_n_instants(t) && n < max; i++) {
        if (in[i].kind != GS_IN_SIGNAL || in[i].thread != io)
            continue;
        for (size_t k = 0; k < l->n && !per_core; k++)
            if (l->iv[k].state == GS_ST_READY && l->iv[k].start_ns == in[i].t_ns)
                out[n++] = l->iv[k].end_ns - in[i].t_ns;
        for (size_t k = 0; k < l->n && per_core; k++) {
            gs_state_t st = l->iv[k].state;
            bool on = st == GS_ST_SWITCH || st == GS_ST_PY || st == GS_ST_C_GIL;
            if (on && l->iv[k].start_ns >= in[i].t_ns) {
                out[n++] = l->iv[k].start_ns - in[i].t_ns;
                break;
            }
        }
    }
    gs_trace_free(t);
    gs_model_free(m);
    return n;
}

START_TEST(test_eevdf_a_gil_waiter_woken_beside_busy_threads_gets_a_core_at_once)
{
    int64_t w[256];
    int n = signal_waits(false, w, 256);
    ck_assert_int_ge(n, 10); /* hand-offs that found no idle core */
    int64_t slice = US(1500); /* EEVDF's base slice on two CPUs */
    int within = 0;
    for (int i = 0; i < n; i++)
        within += w[i] <= slice;
    /* within a slice: all but those whose woken waiter met two threads
     * still inside their protected slice (RUN_TO_PARITY: the tick decides) */
    ck_assert_msg(within * 10 >= n * 9, "%d of %d signalled waits within a slice", within, n);
    ck_assert_int_le(tu_median(w, n), US(10)); /* two context switches */
    /* per-core queues: every signal finds both cores busy (the load thread
     * alone on the other core, the cruncher on its own). 47 signals of the
     * I/O thread's 61 GIL takes since the PELT placement (61 before): the
     * I/O thread waits less for a core (READY 4.0 ms of the run, 42.7 ms
     * before), the cruncher more for the GIL (8.4 ms, 0.004 ms before),
     * and 14 of the I/O thread's cycles find the GIL free as it asks, with
     * no signal to measure. 40 is the sample this check needs. */
    n = signal_waits(true, w, 256);
    ck_assert_int_ge(n, 40);
    within = 0;
    for (int i = 0; i < n; i++)
        within += w[i] <= slice;
    ck_assert_msg(within * 10 >= n * 9, "per-core: %d of %d signalled waits within a slice", within,
                  n);
    ck_assert_int_le(tu_median(w, n), US(10));
}
END_TEST

/* Per-CPU V (run_queues "per_core" with eevdf): each core's queue judges
 * eligibility, picks, ticks and wake-up preemption by its own V, as Linux
 * keeps avg_vruntime per cfs_rq. No GIL, two cores, no pulls (a migration
 * cost longer than the run): s0 and w share core 0 (w sleeps 1 ms between
 * 100 us runs; a timer's wake-up goes back to its previous core's queue),
 * s1 runs on core 1. Adding L to core 1 (5 ms sleeps, 3 ms runs: it comes
 * back with lag, which moved the one machine V) must not change anything
 * on core 0: w and s0 wait for their core exactly as long with or without
 * it, and w never runs on core 1. With one V for the machine, L's
 * placements moved w's eligibility (w waited 25.9 ms without L, 19.1 ms
 * with it, and ran on both cores). */
static gs_trace_t *core0_beside(bool with_l, int *w_out)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.per_core_queues = true;
    m->machine.migration_cost_ns = MS(1000);
    tu_thread(m, "s0", 1, tu_cpu(MS(200)));
    int s1 = tu_thread(m, "s1", 1, tu_cpu(MS(200)));
    int w = tu_thread(m, "w", 1, tu_repeat(100, 2, tu_cpu(US(100)), tu_sleep(MS(1))));
    m->threads[s1].start_at_ns = US(10);
    m->threads[w].start_at_ns = US(20); /* no idle core: the least loaded, core 0 */
    if (with_l) {
        int l = tu_thread(m, "L", 1, tu_repeat(20, 2, tu_sleep(MS(5)), tu_cpu(MS(3))));
        m->threads[l].start_at_ns = US(30); /* core 1 (core 0 has s0 and w) */
    }
    *w_out = w;
    gs_trace_t *t = tu_run(m, NULL);
    gs_model_free(m);
    return t;
}

static int runs_on(const gs_trace_t *t, int c, int thread)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, c));
    int n = 0;
    for (size_t i = 0; i < l->n; i++)
        n += l->iv[i].who == thread;
    return n;
}

START_TEST(test_eevdf_per_core_a_cores_queue_is_judged_by_its_own_v)
{
    int w;
    gs_trace_t *alone = core0_beside(false, &w), *beside = core0_beside(true, &w);
    int64_t wait = tu_time_in(alone, w, GS_ST_READY);
    ck_assert_int_gt(wait, MS(1)); /* w does wait behind s0 */
    ck_assert_int_eq(tu_time_in(beside, w, GS_ST_READY), wait);
    ck_assert_int_eq(tu_time_in(beside, 0, GS_ST_READY), tu_time_in(alone, 0, GS_ST_READY));
    ck_assert_int_eq(runs_on(beside, 1, w), 0);
    ck_assert_int_gt(runs_on(beside, 0, w), 99);
    ck_assert_int_gt(tu_time_in(beside, 3, GS_ST_READY), 0); /* L did queue on core 1 */
    gs_trace_free(alone);
    gs_trace_free(beside);
}
END_TEST

/* The loadwake reproduction (tests/data/loadwake-convoy-negative-lag.json,
 * a convoy.py fitted at load 7.5) in small: a GIL-bound cpu thread, an io
 * thread that sleeps 1 ms between runs of a few microseconds, and a busy
 * thread of another process, on two cores. Neither core is ever idle, so
 * each wake of io joins a busy core's queue. The kernel ran the real io
 * thread within microseconds of most wakes (run delay 14 ms over ~100 wakes).
 * With per-CPU V the io thread comes back with the lag it left with on its
 * own core, and preempts that core's thread when that thread is no longer
 * eligible or its deadline is no earlier (pick_eevdf), so every wake gets a
 * core within a slice. Before: one V for the machine moved io's
 * eligibility with the other core's placements, and the woken io thread
 * needed a strictly earlier deadline than an ineligible current thread,
 * which it often tied: it waited for the tick after half its wakes. */
static int64_t io_longest_ready(bool per_core, int64_t *total)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = per_core;
    m->machine.context_switch_ns = 660;
    m->machine.timer_slack_ns = US(57);
    int io = tu_thread(m, "io", 2, tu_cpu(US(30)),
                       tu_repeat(100, 2, tu_cpu(US(4)), tu_sleep(US(990))));
    tu_thread(m, "cpu", 1, tu_cpu(MS(300)));
    gs_python_t none = m->processes[0].python;
    none.gil = GS_GIL_NONE;
    int p = gs_model_add_process(m, "other load", &none);
    int l = tu_thread_in(m, p, "load", 1, tu_repeat(10, 1, tu_c(MS(100), true)));
    m->threads[l].daemon = true;
    gs_trace_t *t = tu_run(m, NULL);
    const gs_lane_t *ln = gs_trace_lane(t, gs_trace_thread_lane(t, io));
    int64_t longest = 0;
    for (size_t i = 0; i < ln->n; i++)
        if (ln->iv[i].state == GS_ST_READY && ln->iv[i].end_ns - ln->iv[i].start_ns > longest)
            longest = ln->iv[i].end_ns - ln->iv[i].start_ns;
    *total = tu_time_in(t, io, GS_ST_READY);
    gs_trace_free(t);
    gs_model_free(m);
    return longest;
}

START_TEST(test_eevdf_per_core_a_woken_io_thread_beside_busy_cores_gets_one_within_a_slice)
{
    int64_t shared_total, own_total;
    io_longest_ready(false, &shared_total);
    int64_t own = io_longest_ready(true, &own_total);
    /* Within the first tick after a slice (1.5 ms, EEVDF's base slice on two
     * CPUs): queued behind the GIL-bound thread, which its slice protects
     * (RUN_TO_PARITY), the woken io thread waits for the tick that ends it,
     * the kernel's next look. That happens once here, at the start, where
     * the loads (a new thread counts its full weight) put both program
     * threads on one core and the load on the other (wake_affine_weight,
     * place.c); every later wake gets a core at once. */
    ck_assert_int_lt(own, US(1500) + MS(4));
    ck_assert_int_lt(own_total * 4, shared_total);
}
END_TEST

/* Per-core queues, no idle core: a woken thread goes to its waker's core or
 * to its previous one by their loads (place.c, wake_affine_weight). A
 * producer and two consumers over a queue of 8 hand the GIL to each other
 * voluntarily, every ~10 us, while MainThread, having started them, waits
 * for it to join them. Each hand-off signals the GIL's condition, and
 * MainThread, the longest sleeper, is woken onto the other core (idle, or
 * it would not wait 20 us to get there). When the previous core of the
 * consumer that the next put wakes was counted busy just because that
 * wake-up was on its way, the consumer always joined its waker's queue,
 * took the GIL the moment the waker blocked, and MainThread found it taken
 * again: no timed wait of its ever ran out with switch_number unchanged,
 * so it never asked for a drop, and it waited ~98% of the run (a fitted
 * producer_consumer replay: 70 ms of 124 against 0.4 ms real). The waking
 * core carries little load against a waker that runs Python on, so the
 * consumer waits there instead, and MainThread gets the GIL. Property: on
 * several seeds MainThread's longest GIL wait stays under one switch
 * interval, and every thread finishes. */
static int64_t pc_main_longest_wait(uint64_t seed, int64_t *makespan)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = true; /* the model under test */
    m->machine.wakeup_latency_ns = US(19);
    m->machine.context_switch_ns = 850;
    m->seed = seed;
    int q = gs_model_add_queue(m, "q", 8);
    ck_assert_int_ge(q, 0);
    int main_ = tu_thread(m, "MainThread", 10, tu_cpu(US(300)), tu_sync(GS_OP_START, 1),
                          tu_cpu(US(80)), tu_sync(GS_OP_START, 2), tu_cpu(US(35)),
                          tu_sync(GS_OP_START, 3), tu_cpu(US(7)), tu_sync(GS_OP_JOIN, 1),
                          tu_sync(GS_OP_JOIN, 2), tu_sync(GS_OP_JOIN, 3));
    int p = tu_thread(m, "producer", 1, tu_repeat(1000, 2, tu_cpu(US(7)), tu_sync(GS_OP_PUT, q)));
    int c1 = tu_thread(m, "consumer1", 1, tu_repeat(500, 2, tu_sync(GS_OP_GET, q), tu_cpu(US(15))));
    int c2 = tu_thread(m, "consumer2", 1, tu_repeat(500, 2, tu_sync(GS_OP_GET, q), tu_cpu(US(15))));
    ck_assert(main_ == 0 && p == 1 && c1 == 2 && c2 == 3);
    m->threads[p].autostart = m->threads[c1].autostart = m->threads[c2].autostart = false;
    int rc;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, 0);
    int64_t w = tu_longest_gil_wait(t, main_);
    *makespan = tu_last_finish(t, 4);
    gs_trace_free(t);
    gs_model_free(m);
    return w;
}

START_TEST(test_placement_per_core_a_gil_waiter_beside_queue_hand_offs_is_not_starved)
{
    for (uint64_t seed = 1; seed <= 3; seed++) {
        int64_t makespan;
        int64_t w = pc_main_longest_wait(seed, &makespan);
        ck_assert_msg(w < MS(5), "seed %llu: MainThread waited %lld ns at once of a %lld ns run",
                      (unsigned long long)seed, (long long)w, (long long)makespan);
    }
}
END_TEST

/* Four CPU-bound threads at 1 ms on two cores, per-core queues. A forced
 * dropper waits for the new holder's switch signal (CPython's
 * FORCE_SWITCHING) and is woken by it while the holder runs Python on one
 * core and the dropper's own core runs a GIL waiter that checks the GIL and
 * goes back to sleep (or has just gone idle). Linux's wake_affine_weight
 * keeps the dropper on its previous core: that core's load, less the
 * dropper's own, is below the holder's core's plus the dropper's. Queued
 * behind the holder instead (the waker's core, the rule before PELT loads),
 * the dropper waited there for most of a switch interval while the other
 * core idled (a cache-hot thread is not pulled, and the tick that would
 * balance is 4 ms away), and started its next GIL wait that much late: 60
 * of 90 droppers READY over 100 us (0.73-1.08 ms in the first 11 ms) with
 * requester_first 0; now none of 105-110 at 0, 0.5 or 1. Property: for each
 * race outcome, at most one forced switch in ten leaves its dropper READY
 * for over 100 us in the following interval. Counts forced switches to
 * *n. */
static int droppers_held_back(int requester_first_pct, int *n)
{
    gs_model_t *m;
    gs_trace_t *t = four_cpu_run(true, true, requester_first_pct, -1, &m); /* the model under test */
    const gs_instant_t *in = gs_trace_instants(t);
    int held = 0;
    *n = 0;
    for (size_t i = 0; i < gs_trace_n_instants(t); i++) {
        if (in[i].kind != GS_IN_FORCED_SWITCH || in[i].t_ns > MS(120))
            continue;
        int64_t from = in[i].t_ns, to = from + MS(1), ready = 0;
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, in[i].thread));
        for (size_t k = 0; k < l->n; k++) {
            int64_t a = l->iv[k].start_ns > from ? l->iv[k].start_ns : from;
            int64_t b = l->iv[k].end_ns < to ? l->iv[k].end_ns : to;
            if (l->iv[k].state == GS_ST_READY && b > a)
                ready += b - a;
        }
        (*n)++;
        held += ready > US(100);
    }
    gs_trace_free(t);
    gs_model_free(m);
    return held;
}

START_TEST(test_placement_per_core_a_forced_dropper_is_not_queued_behind_the_new_holder)
{
    for (int pct = 0; pct <= 100; pct += 50) {
        int n, held = droppers_held_back(pct, &n);
        ck_assert_int_gt(n, 60);
        ck_assert_msg(held * 10 <= n, "requester_first %d%%: %d of %d droppers held back", pct,
                      held, n);
    }
}
END_TEST

/* Another program keeps one core busy (a thread in C without a GIL that
 * always runs): four CPU-bound threads at 1 ms share the other core. After a
 * forced switch the new holder, woken by the dropper's signal, runs on the
 * dropper's core (the other is busy), takes the GIL and wakes the dropper
 * from switch_cond onto that same core (no core is idle; wake_affine_weight
 * keeps it with its waker). The dropper's lag does not let it preempt the
 * holder there: the holder was just picked, and RUN_TO_PARITY protects its
 * slice while it is eligible, so the dropper waits in the queue until the
 * holder blocks at its own forced drop or its slice ends (4 of 98 holders,
 * ineligible, lost the core at the wake). That is what
 * a loaded real run showed (tests/reality/dropper_sched.py --beside,
 * 2026-12-07 11:17, load average 13): 906 of 1006 forced droppers asked for
 * the GIL again over 700 us after their drop, and the 146 of them woken onto
 * the new holder's CPU waited there a median 1.6 ms, the other CPU running
 * another program at every one of those wakes. Counts, over the first
 * 120 ms, the droppers READY over 500 us from within 100 us of their forced
 * switch (*late), and the preemptions of a new holder that give its core to
 * its dropper within 100 us of the switch, when the dropper wakes
 * (*at_wake). */
static void droppers_behind_the_holder(uint64_t seed, int *late, int *at_wake)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->seed = seed;
    m->machine.per_core_queues = true;
    m->machine.timer_wake_local = true;
    m->machine.timer_slack_ns = US(50);
    m->machine.timer_jitter_ns = US(20);
    m->processes[0].python.switch_interval_ns = MS(1);
    for (int i = 0; i < 4; i++)
        tu_thread(m, "cpu", 1, tu_cpu(MS(150)));
    gs_python_t none = m->processes[0].python;
    none.gil = GS_GIL_NONE;
    int p = gs_model_add_process(m, "other load", &none);
    int l = tu_thread_in(m, p, "load", 1, tu_c(MS(400), true));
    m->threads[l].daemon = true;
    gs_trace_t *t = tu_run(m, NULL);
    const gs_instant_t *in = gs_trace_instants(t);
    const gs_lane_t *gl = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    size_t ni = gs_trace_n_instants(t), k = 0;
    for (size_t i = 0; i < ni; i++) {
        if (in[i].kind != GS_IN_FORCED_SWITCH || in[i].t_ns > MS(120))
            continue;
        int d = in[i].thread;
        while (k < gl->n && (gl->iv[k].start_ns < in[i].t_ns || gl->iv[k].who < 0))
            k++;
        if (k == gl->n)
            break;
        int h = gl->iv[k].who;
        const gs_lane_t *dl = gs_trace_lane(t, gs_trace_thread_lane(t, d));
        for (size_t j = 0; j < dl->n; j++) {
            const gs_interval_t *v = &dl->iv[j];
            if (v->state == GS_ST_READY && v->start_ns >= in[i].t_ns &&
                v->start_ns <= in[i].t_ns + US(100) && v->end_ns - v->start_ns > US(500))
                (*late)++;
        }
        /* the dropper is woken when h takes the GIL, tens of us after the
         * switch: a wake-up preemption of h for it falls in that window */
        for (size_t j = i + 1; j < ni && in[j].t_ns <= in[i].t_ns + US(100); j++) {
            if (in[j].kind != GS_IN_PREEMPT || in[j].thread != h)
                continue;
            for (int c = 0; c < gs_trace_n_cores(t); c++) {
                const gs_lane_t *cl = gs_trace_lane(t, gs_trace_core_lane(t, c));
                for (size_t q = 0; q < cl->n; q++)
                    *at_wake += cl->iv[q].start_ns == in[j].t_ns && cl->iv[q].who == d;
            }
        }
    }
    gs_trace_free(t);
    gs_model_free(m);
}

START_TEST(test_placement_per_core_a_dropper_woken_on_the_busy_holders_core_waits_for_it)
{
    int late = 0, at_wake = 0;
    for (uint64_t seed = 1; seed <= 3; seed++)
        droppers_behind_the_holder(seed, &late, &at_wake);
    ck_assert_msg(late >= 30, "only %d droppers waited over 500 us behind the holder", late);
    /* an ineligible holder has no slice protection (pick_eevdf drops it
     * before RUN_TO_PARITY): a few lose the core; real: 10 of the 161 woken
     * onto the holder's CPU ran within 100 us */
    ck_assert_msg(at_wake * 10 <= late, "%d holders lost their core to their dropper (%d waited)",
                  at_wake, late);
}
END_TEST

/* One core, per-core queues: three CPU-bound threads at 1 ms. Two waiters'
 * timed waits run out together (slack timers on one core end together);
 * the first to run sets the drop request and goes back to sleep, the
 * second, finding the request set, goes back into its wait too, and only
 * then can the holder run and drop. Both waiters left the core before the
 * holder got it back, so both are asleep in the futex: the signal's futex
 * wake goes to the longest sleeper, the requester (condvar.c cv_entering). The
 * model used to count the second one as still entering its wait (within
 * `futex` of it) although its core had since run the holder, and that one
 * took the signal: the requester got the GIL at 4 of 20 forced switches.
 * Property: the requester takes at least 9 in 10 of them. */
START_TEST(test_cv_per_core_on_one_core_the_requester_takes_the_forced_drop)
{
    gs_model_t *m = tu_model(1, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = true; /* the model under test */
    m->machine.context_switch_ns = 620;
    m->machine.timer_slack_ns = US(63);
    m->processes[0].python.switch_interval_ns = MS(1);
    for (int i = 0; i < 3; i++)
        tu_thread(m, "cpu", 1, tu_cpu(MS(30)));
    gs_trace_t *t = tu_run(m, NULL);
    int n = 0, won = 0;
    tu_requester_takes(t, &n, &won);
    ck_assert_int_ge(n, 15);
    ck_assert_msg(won * 10 >= n * 9, "the requester took %d of %d forced drops", won, n);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* drop_gil signals the GIL's condition before a forced dropper waits on
 * switch_cond, its core still busy (gil.c forced_signal_first). With
 * per-core queues the woken waiter then goes to an idle core, not to the
 * dropper's, and the dropper, woken from switch_cond, has its own core to
 * come back to. The "Blocking C calls" experiment in small: three threads
 * making GIL-releasing C calls of 630 us beside a spinner, two cores, a
 * 5 ms interval, 5 seeds. In the recording of it
 * (tests/data/reality/blocking_c_1spinner.rec.json) the spinner runs again
 * within 78 us of 90% of its 167 forced switches. Blocking first, the
 * signalled waiter took the spinner's core and the spinner, woken with both
 * cores busy, waited over 1 ms for one after 31 of its 132 forced switches
 * (a tick's wait, 2-4 ms); signalling first, 9 of 340. With the shared
 * queue the order is the old one (golden corpus). */
static void spinner_without_core(uint64_t seed, int64_t *forced, int64_t *long_waits)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = true;
    m->machine.tick_ns = MS(4);
    m->machine.wakeup_latency_ns = US(25);
    m->machine.futex_ns = 374;
    m->machine.context_switch_ns = 855;
    m->processes[0].python.switch_interval_ns = MS(5);
    m->seed = seed;
    for (int i = 0; i < 3; i++)
        tu_thread(m, "hasher", 1, tu_repeat(40, 2, tu_c(US(630), true), tu_cpu(US(2))));
    int sp = tu_thread(m, "spinner", 1, tu_cpu(MS(2000)));
    gs_trace_t *t = tu_run(m, NULL);
    *forced += tu_count(t, GS_IN_FORCED_SWITCH, sp);
    const gs_lane_t *ln = gs_trace_lane(t, gs_trace_thread_lane(t, sp));
    for (size_t i = 0; i < ln->n; i++)
        if (ln->iv[i].state == GS_ST_READY && ln->iv[i].start_ns > MS(1) &&
            ln->iv[i].end_ns - ln->iv[i].start_ns > MS(1))
            (*long_waits)++;
    gs_trace_free(t);
    gs_model_free(m);
}

START_TEST(test_cv_per_core_a_forced_dropper_keeps_its_core_for_the_switch)
{
    int64_t forced = 0, waits = 0;
    for (uint64_t seed = 1; seed <= 5; seed++)
        spinner_without_core(seed, &forced, &waits);
    ck_assert_int_gt(forced, 100);
    ck_assert_int_le(waits * 10, forced); /* at most 10% of the forced switches */
}
END_TEST

static Suite *mechanisms_suite(void)
{
    Suite *s = suite_create("mechanisms");
    /* one mechanism, one setting: the outcome it predicts */
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_cv_a_waiter_not_yet_asleep_takes_the_signal);
    tcase_add_test(core, test_timers_of_one_core_within_the_slack_end_together);
    tcase_add_test(core, test_cv_four_threads_the_race_decides_requester_or_longest_sleeper);
    tcase_add_test(core, test_cv_the_race_after_a_thread_of_its_own_process);
    tcase_add_test(core, test_cv_a_voluntary_drops_tie_breaks_by_seed);
    tcase_add_test(core, test_cv_three_threads_go_back_when_the_requester_wins);
    tcase_add_test(core, test_cv_a_drop_after_a_c_call_is_not_raced);
    tcase_add_test(core, test_cv_a_stolen_signal_leaves_a_futile_wakeup);
    tcase_add_test(core, test_timer_wake_a_sleeper_woken_on_its_own_idle_core_pays_no_wakeup);
    tcase_add_test(core, test_timer_wake_a_sleeper_woken_on_another_core_pays_the_wakeup);
    tcase_add_test(core, test_timer_wake_a_gil_timeout_wakes_its_waiter_on_its_own_core);
    tcase_add_test(core, test_machinery_a_waking_release_costs_one_futex_call);
    tcase_add_test(core, test_machinery_only_a_wake_onto_another_idle_core_pays_the_ipi);
    tcase_add_test(core, test_machinery_a_forced_switch_wakes_the_dropper_at_the_takers_cost);
    tcase_add_test(core, test_placement_a_forced_dropper_goes_back_to_its_idle_core);
    tcase_add_test(core,
                   test_machinery_a_waiter_that_preempts_its_signaller_waits_for_the_gil_mutex);
    tcase_add_test(core,
                   test_placement_per_core_queues_keep_a_woken_thread_on_its_wakers_busy_core);
    tcase_add_test(core, test_eevdf_per_core_a_cores_queue_is_judged_by_its_own_v);
    tcase_add_test(core,
                   test_eevdf_per_core_a_woken_io_thread_beside_busy_cores_gets_one_within_a_slice);
    tcase_add_test(
        core,
        test_placement_a_delayed_partner_is_requeued_against_its_wakers_last_accounted_vruntime);
    tcase_add_test(core, test_placement_an_idle_core_pulls_a_cold_queued_thread_at_a_tick);
    tcase_add_test(core,
                   test_placement_per_core_a_forced_dropper_is_not_queued_behind_the_new_holder);
    tcase_add_test(core, test_sched_slices_end_on_the_tick);
    tcase_add_test(core, test_eevdf_a_waking_sleeper_with_lag_preempts);
    tcase_add_test(core, test_eevdf_a_short_block_does_not_reset_negative_lag);
    tcase_add_test(core, test_eevdf_a_gil_waiter_woken_beside_busy_threads_gets_a_core_at_once);
    tcase_add_test(core, test_timer_arm_a_1ms_gil_wait_pays_it_a_5ms_one_behind_the_tick_does_not);
    tcase_add_test(core, test_timer_arm_is_cpu_time_before_a_sleep_not_lateness);
    suite_add_tcase(s, core);
    /* a setting at an end (the race always one way, share 1, one core) */
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 120);
    tcase_add_test(limits, test_cv_requester_first_means_the_longest_sleeper_wins);
    tcase_add_test(limits,
                   test_placement_an_idle_previous_core_takes_its_thread_back_whatever_the_share);
    tcase_add_test(limits, test_placement_share_one_keeps_a_pingpong_pair_on_one_core);
    tcase_add_test(limits, test_cv_per_core_on_one_core_the_requester_takes_the_forced_drop);
    suite_add_tcase(s, limits);
    /* over seeds or a setting's range: a direction, a spread, an invariant */
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 120);
    tcase_add_test(props, test_cv_the_race_follows_the_requesters_idle_depth);
    tcase_add_test(props, test_cv_wait_grows_as_the_holder_wins_the_race_more_often);
    tcase_add_test(props, test_timer_jitter_spreads_sleeps_never_shortens_them);
    tcase_add_test(props, test_placement_more_share_more_packing);
    tcase_add_test(props,
                   test_placement_a_woken_lock_waiter_preempts_its_waker_about_half_the_time);
    tcase_add_test(props,
                   test_placement_per_core_a_woken_lock_waiter_still_wins_about_half_the_races);
    tcase_add_test(props, test_cv_per_core_a_forced_dropper_keeps_its_core_for_the_switch);
    tcase_add_test(props,
                   test_placement_per_core_a_gil_waiter_beside_queue_hand_offs_is_not_starved);
    tcase_add_test(props,
                   test_placement_per_core_a_dropper_woken_on_the_busy_holders_core_waits_for_it);
    tcase_add_test(props, test_wakeup_latency_follows_idle_depth);
    tcase_add_test(props, test_timer_lateness_follows_the_timer_length);
    tcase_add_test(props, test_wakeup_jitter_spreads_wakeups_never_shortens_them);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(mechanisms_suite());
}
