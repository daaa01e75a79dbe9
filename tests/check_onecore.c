/* check_onecore.c - the GIL's hand-offs on one CPU, as properties.
 *
 * A program confined to one CPU (`taskset -c 0`, the scenario's `cpus`, or
 * a one-core machine) has one core for all its threads, so nothing runs
 * beside the GIL holder: a waiter whose timed wait runs out, and the holder
 * that then drops, take turns on that core. Two things follow, whatever the
 * run queue model (these tests use run_queues "shared", what `gilsim fit`
 * writes; the per-core queues already did both):
 *
 * - The drop request's requester went back into its futex wait on the core
 *   before the holder got it back, so it is asleep at the holder's signal:
 *   it cannot take the signal on its way into the wait (condvar.c cv_entering).
 * - CPython signals the waiter before the forced dropper waits on
 *   switch_cond; on one CPU the waiter is queued, or preempts the dropper,
 *   while the dropper is still runnable, so in EEVDF the dropper, which ran
 *   the whole interval, is behind the waiter's lag and gets the core back
 *   only when the new holder has caught up with it, about an interval
 *   later (gil.c forced_signal_first). Real one-CPU recordings of
 *   examples/io_two_cpu.py: the dropper asks again p50 4.2-4.8 ms after its
 *   drop at 5 ms (tests/reality/replay_notes.md point 17).
 * - Who gets the core back when: with nothing else on the core only the
 *   tick picks, and two CPU-bound threads keep whichever of two regimes
 *   their start gives them (the dropper back at the first tick after the
 *   switch, or at the second: 125 or 83 switches a second at 5 ms); other
 *   tasks' short runs on the core are picks too and move a run between the
 *   two, as in the real pinned runs (replay_notes.md point 21).
 *
 * The first two are checked on a one-core machine and on two cores with the
 * process pinned to core 0 (the replay's one-core what-if, `cpus=0`). */
#include <check.h>
#include <stdlib.h>

#include "testutil.h"

static gs_model_t *one_cpu_model(bool pinned)
{
    gs_model_t *m = tu_model(pinned ? 2 : 1, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = false; /* the fit's queue model */
    m->machine.timer_wake_local = true;
    m->machine.eevdf_slice_ns = US(1400);
    if (pinned)
        m->processes[0].cpus.w[0] = 1; /* core 0 only */
    return m;
}

/* Three CPU-bound threads at 1 ms: per drop request, does its requester
 * take the GIL next? Two waiters' timed waits run out together (slack
 * timers of one core end together): the first sets the request and goes
 * back to sleep, the second goes back too, and only then does the holder
 * run and drop. Both are asleep, and the futex wake goes to the longest
 * sleeper, the requester. Counting the second as still in its futex call
 * (within `futex` of it) although its core had since run the holder gave
 * it the signal at half the drops (63 of 120 over the three seeds; now
 * 45 of 51: the droppers are back an interval later, below). */
static void requester_takes(bool pinned, uint64_t seed, int *n, int *won)
{
    gs_model_t *m = one_cpu_model(pinned);
    m->seed = seed;
    m->machine.timer_slack_ns = US(63);
    m->processes[0].python.switch_interval_ns = MS(1);
    for (int i = 0; i < 3; i++)
        tu_thread(m, "cpu", 1, tu_cpu(MS(30)));
    gs_trace_t *t = tu_run(m, NULL);
    tu_requester_takes(t, n, won);
    gs_trace_free(t);
    gs_model_free(m);
}

START_TEST(test_onecore_the_requester_asleep_takes_the_forced_drop)
{
    for (int pinned = 0; pinned < 2; pinned++) {
        int n = 0, won = 0;
        for (uint64_t seed = 1; seed <= 3; seed++)
            requester_takes(pinned, seed, &n, &won);
        ck_assert_int_ge(n, 40);
        ck_assert_msg(won * 10 >= n * 8, "%s: the requester took %d of %d forced drops",
                      pinned ? "pinned" : "one core", won, n);
    }
}
END_TEST

/* An I/O thread (20 us of Python, a 1 ms sleep, 30 times) beside two
 * CPU-bound threads polling an Event it sets at the end, at 5 ms: per
 * forced drop, how long until the dropper is on the core again; the
 * median, and the run's makespan. */
static int64_t dropper_back_median(bool pinned, bool per_core, uint64_t seed, int *n,
                                   int64_t *makespan)
{
    gs_model_t *m = one_cpu_model(pinned);
    m->seed = seed;
    m->machine.per_core_queues = per_core;
    int ev = gs_model_add_event(m, "done");
    for (int i = 0; i < 2; i++) {
        gs_op_t loop = tu_sync(GS_OP_UNTIL, ev);
        loop.body = malloc(sizeof *loop.body);
        ck_assert_ptr_nonnull(loop.body);
        loop.body[0] = tu_cpu(US(50));
        loop.n_body = 1;
        tu_thread(m, "cpu", 1, loop);
    }
    tu_thread(m, "io", 2, tu_repeat(30, 2, tu_cpu(US(20)), tu_sleep(MS(1))),
              tu_sync(GS_OP_SET, ev));
    gs_trace_t *t = tu_run(m, NULL);
    *makespan = gs_trace_end_ns(t);
    const gs_instant_t *in = gs_trace_instants(t);
    int64_t back[256];
    *n = 0;
    for (size_t i = 0; i < gs_trace_n_instants(t) && *n < 256; i++) {
        if (in[i].kind != GS_IN_FORCED_SWITCH)
            continue;
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, in[i].thread));
        for (size_t q = 0; q < l->n; q++) {
            const gs_interval_t *v = &l->iv[q];
            /* on a core again: a thread lane interval names its core */
            if (v->start_ns > in[i].t_ns && v->who >= 0 && v->state != GS_ST_READY &&
                v->state != GS_ST_WAIT_GIL) {
                back[(*n)++] = v->start_ns - in[i].t_ns;
                break;
            }
        }
    }
    int64_t med = tu_median(back, *n);
    gs_trace_free(t);
    gs_model_free(m);
    return med;
}

START_TEST(test_onecore_a_forced_dropper_is_back_after_the_new_holders_turn)
{
    for (int pinned = 0; pinned < 2; pinned++)
        for (uint64_t seed = 1; seed <= 2; seed++) {
            int n, n_pc;
            int64_t ms, ms_pc;
            int64_t med = dropper_back_median(pinned, false, seed, &n, &ms);
            int64_t med_pc = dropper_back_median(pinned, true, seed, &n_pc, &ms_pc);
            ck_assert_int_ge(n, 30);
            /* half an interval at least: signalled after the dropper had
             * blocked, it was back at the next slice end (43 us) */
            ck_assert_msg(med >= MS(2.5), "%s seed %d: the dropper is back after %lld us",
                          pinned ? "pinned" : "one core", (int)seed, (long long)(med / 1000));
            /* and not later than an interval and a tick and a half */
            ck_assert_int_le(med, MS(11));
            /* one core: the queue model has nothing to decide */
            ck_assert_int_le(llabs(ms - ms_pc) * 20, ms_pc);
            ck_assert_int_le(llabs(med - med_pc) * 5, med_pc);
        }
}
END_TEST

/* Two CPU-bound threads on one core at 5 ms, the second started `delay`
 * later: per forced drop after the first two (the start's), how long until
 * the dropper is on the core again, in ticks: 1 if before the first tick
 * after the switch (or at it), 2 if by the second, 3 later; counted in
 * by_tick[1..3], and in by_tick[0] those not within 0.1 ms of a tick (a pick
 * of another kind). With `others`, a thread of another process (no GIL) pinned
 * to the core runs 20 us every 13.1 ms, as the machine's own short-lived
 * tasks do (traced on CPU 0 beside a pinned two_cpu.py, 2026-12-07: a
 * session's I/O backend about 75 times a second, 10-40 us). Drops up to
 * 500 ms (the threads end near 600 ms). Returns the last drop's count of
 * ticks. */
static int dropper_ticks(int64_t delay, bool others, int by_tick[4])
{
    gs_model_t *m = one_cpu_model(false);
    m->machine.tick_ns = MS(4);
    m->machine.timer_slack_ns = US(50);
    m->machine.timer_jitter_ns = 0;
    m->processes[0].python.switch_interval_ns = MS(5);
    tu_thread(m, "cpu", 1, tu_cpu(MS(300)));
    tu_thread(m, "cpu", 2, tu_sleep(delay), tu_cpu(MS(300)));
    if (others) {
        int p = gs_model_add_process(m, "others", NULL);
        ck_assert_int_ge(p, 0);
        m->processes[p].python.gil = GS_GIL_NONE;
        tu_thread_in(m, p, "kworker", 1, tu_repeat(46, 2, tu_sleep(US(13100)), tu_cpu(US(20))));
    }
    gs_trace_t *t = tu_run(m, NULL);
    const gs_instant_t *in = gs_trace_instants(t);
    int last = 0, seen = 0;
    for (size_t i = 0; i < gs_trace_n_instants(t); i++) {
        if (in[i].kind != GS_IN_FORCED_SWITCH || in[i].process != 0 || ++seen <= 2 ||
            in[i].t_ns > MS(500)) /* the threads end near 600 ms */
            continue;
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, in[i].thread));
        for (size_t q = 0; q < l->n; q++) {
            const gs_interval_t *v = &l->iv[q];
            if (v->start_ns <= in[i].t_ns || v->who < 0 || v->state == GS_ST_READY ||
                v->state == GS_ST_WAIT_GIL)
                continue;
            int64_t back = v->start_ns - in[i].t_ns, at = (v->start_ns + US(100)) % MS(4);
            last = back < MS(4) ? 1 : back < MS(8) ? 2 : 3;
            by_tick[last]++;
            by_tick[0] += at > US(200); /* the ticks are at multiples of 4 ms */
            break;
        }
    }
    gs_trace_free(t);
    gs_model_free(m);
    return last;
}

/* The EEVDF map behind the one-CPU switch rate (tests/reality/replay_notes.md
 * point 21). Call g the dropper's vruntime lead over the new holder at the
 * switch. The waiter comes back from its timed wait with the lag it left
 * with, inflated by (W + w) / W, so the lead is kept through the sleep. The
 * first tick comes phi = 2 * tick - interval - slack (2.95 ms) after the
 * switch; with nothing else on the core only a tick picks, so the dropper
 * is back there if g <= phi and the next lead is phi - g, else at the next
 * tick and the next lead is phi + tick - g. Both are kept: g in [0, phi]
 * at the first tick forever (a switch every interval + phi, 8 ms, 125/s),
 * g in (phi, tick) at the second forever (12 ms, 83/s). The start decides
 * which. The real pinned runs switch between the two (traced: 2.92 ms and
 * 6.92 ms after the switch), the quiet ones of 15:42 at the first (128/s);
 * a fitted replay keeps the one its start gives it (the three quiet fits of
 * 15:42: -31% to -2% against 128/s). */
START_TEST(test_onecore_two_cpu_threads_keep_to_the_first_or_the_second_tick)
{
    int first = 0, second = 0;
    for (int64_t d = 0; d <= US(3500); d += US(500)) {
        int by[4] = {0, 0, 0, 0};
        int k = dropper_ticks(d, false, by);
        ck_assert_int_ge(by[k], 20);
        ck_assert_int_eq(by[0], 0); /* only ticks pick */
        /* one run keeps to one of the two */
        ck_assert_msg(by[1] + by[2] + by[3] == by[k] && k < 3,
                      "delay %lld us: back at the first tick %d, second %d, later %d",
                      (long long)(d / 1000), by[1], by[2], by[3]);
        first += k == 1;
        second += k == 2;
    }
    /* both are fixed points of the same mechanism; the first tick's basin of
     * starts is the wider (phi against tick - phi) */
    ck_assert_int_ge(second, 1);
    ck_assert_int_gt(first, second);
}
END_TEST

/* Any pick on the core, not only the tick's, gives it to the dropper once
 * its vruntime is at most the holder's: a short-lived task of another
 * process that preempts the holder and blocks is such a pick. It moves the
 * lead: from the second tick's regime a pick between the ticks brings the
 * dropper back early and leaves a lead of the first; a short run that eats
 * into the holder's turn before the first tick can leave a lead of the
 * second. So with the machine's own short runs on the core a run goes back
 * and forth between the two, as the real pinned runs do (traced beside a
 * session's I/O backend on CPU 0: 60-90% of the drops at the first tick). */
START_TEST(test_onecore_other_tasks_picks_move_a_run_between_the_two_ticks)
{
    for (int64_t d = 0; d <= US(3500); d += US(500)) {
        int by[4] = {0, 0, 0, 0};
        dropper_ticks(d, true, by);
        ck_assert_int_ge(by[1] + by[2] + by[3], 30);
        ck_assert_msg(by[1] > 0 && by[2] > 0 && by[0] > 0,
                      "delay %lld us: first tick %d, second %d, later %d, off a tick %d",
                      (long long)(d / 1000), by[1], by[2], by[3], by[0]);
    }
}
END_TEST

static Suite *onecore_suite(void)
{
    Suite *s = suite_create("onecore");
    /* all over seeds or starts: what one core does to the forced drop,
     * whatever the draws */
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 60);
    tcase_add_test(props, test_onecore_the_requester_asleep_takes_the_forced_drop);
    tcase_add_test(props, test_onecore_a_forced_dropper_is_back_after_the_new_holders_turn);
    tcase_add_test(props, test_onecore_two_cpu_threads_keep_to_the_first_or_the_second_tick);
    tcase_add_test(props, test_onecore_other_tasks_picks_move_a_run_between_the_two_ticks);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(onecore_suite());
}
