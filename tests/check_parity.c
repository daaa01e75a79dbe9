/* check_parity.c - EEVDF's slice protection (RUN_TO_PARITY) as Linux 6.18
 * has it.
 *
 * At its pick a thread gets vprot, the vruntime up to which it is protected
 * (set_next_entity -> set_protect_slice: its deadline when every queued
 * slice is the same). Linux 6.17 and later reschedule at every update_curr
 * of a thread past vprot while others are queued (update_curr: `resched ||
 * !protect_slice(curr)`), not only when its deadline is used up: at every
 * tick, and at the enqueue of a woken thread on its CPU, whether or not the
 * woken thread is the pick. The pick that follows (pick_eevdf) keeps the
 * thread only if it is eligible with the earliest deadline. Before it is
 * past vprot an eligible thread is not preempted at all. Sources:
 * kernel/sched/fair.c v6.18 (update_curr, set_protect_slice, protect_slice,
 * __pick_eevdf, check_preempt_wakeup_fair, enqueue_entity). docs/model.md,
 * EEVDF, "Linux 6.18 against the model". */
#include <check.h>

#include "engine_int.h"
#include "testutil.h"

/* The start of thread th's first interval in state st at or after `from`,
 * or -1. */
static int64_t first_in(const gs_trace_t *t, int th, gs_state_t st, int64_t from)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
    for (size_t i = 0; i < l->n; i++)
        if (l->iv[i].state == st && l->iv[i].start_ns >= from)
            return l->iv[i].start_ns;
    return -1;
}

/* The end of thread th's run in state st that covers instant `at`
 * (adjacent intervals of that state joined), or -1. */
static int64_t run_end(const gs_trace_t *t, int th, gs_state_t st, int64_t at)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
    int64_t end = -1;
    for (size_t i = 0; i < l->n; i++) {
        const gs_interval_t *iv = &l->iv[i];
        if (iv->state != st)
            continue;
        if (end >= 0 && iv->start_ns == end)
            end = iv->end_ns;
        else if (iv->start_ns <= at && iv->end_ns > at)
            end = iv->end_ns;
    }
    return end;
}

/* One core, no GIL, a 4 ms tick, a 1 ms base slice. c runs 0-4 ms; at the
 * tick x (nice 5, weight 335: its first deadline half a slice, 1.53 ms of
 * virtual time, 0.5 ms of its own) takes the core, protected until 4.5 ms.
 * r wakes at 4.3 ms (+ the wake-up), lag 0, deadline V + 1 ms: x is
 * eligible and protected, so r waits ("not before"). w wakes at 6 ms: it is
 * not the pick (r's deadline is earlier), but x has run past vprot, so the
 * enqueue's update_curr reschedules and the pick is r (x is no longer
 * eligible, r the eligible thread with the earliest deadline). The model
 * before gave the core to r at the tick, 8 ms. */
START_TEST(test_parity_a_wake_reschedules_a_thread_past_its_protected_slice)
{
    gs_model_t *m = tu_model(1, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.tick_ns = MS(4);
    m->machine.eevdf_slice_ns = MS(1);
    int r = tu_thread(m, "r", 2, tu_sleep(US(4300)), tu_cpu(MS(2)));
    int w = tu_thread(m, "w", 2, tu_sleep(MS(6)), tu_cpu(US(100)));
    tu_thread(m, "c", 1, tu_cpu(MS(20)));
    int x = tu_thread(m, "x", 1, tu_cpu(MS(20)));
    m->threads[x].priority = -5;
    gs_trace_t *t = tu_run(m, NULL);
    int64_t r_woke = first_in(t, r, GS_ST_READY, MS(4));
    int64_t w_woke = first_in(t, w, GS_ST_READY, MS(6));
    int64_t r_runs = first_in(t, r, GS_ST_PY, MS(4));
    int64_t x_ran = first_in(t, x, GS_ST_PY, MS(4));
    ck_assert_int_ge(r_woke, MS(4) + US(300));
    ck_assert_int_lt(r_woke, x_ran + US(500)); /* x still protected */
    ck_assert_int_ge(w_woke, MS(6));
    ck_assert_msg(r_runs >= x_ran + US(500), "r preempted x inside its protected slice: "
                  "x from %lld ns, r from %lld ns", (long long)x_ran, (long long)r_runs);
    ck_assert_msg(r_runs <= w_woke + US(20),
                  "w woke at %lld ns beside x past its protected slice; r, the pick, ran "
                  "only at %lld ns", (long long)w_woke, (long long)r_runs);
    ck_assert_int_eq(run_end(t, x, GS_ST_PY, x_ran), w_woke);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* One core, no GIL, a 1 ms tick, a 3 ms base slice; hi (nice -5, weight
 * 3121) and a, both CPU-bound. By hand, as Linux 6.18 runs it: hi first
 * (deadline half a slice), to the tick at 2 ms; a (vruntime 0) to 4 ms; hi,
 * protected to its deadline, which it reaches at 7 ms. There it is eligible
 * (vruntime 1.634 ms against V 1.724 ms), a is not (2 ms): hi keeps the
 * core with a new deadline, but no protection, so every tick looks: at 8 ms
 * it is still eligible (1.962 against 1.971), at 9 ms not (2.290 against
 * 2.218), and a takes the core. The model before looked again only at hi's
 * next deadline, 10 ms, and so at the tick of 11 ms. */
START_TEST(test_parity_past_its_protected_slice_a_thread_is_looked_at_every_tick)
{
    gs_model_t *m = tu_model(1, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.tick_ns = MS(1);
    m->machine.eevdf_slice_ns = MS(3);
    int hi = tu_thread(m, "hi", 1, tu_cpu(MS(30)));
    int a = tu_thread(m, "a", 1, tu_cpu(MS(30)));
    m->threads[hi].priority = 5;
    gs_trace_t *t = tu_run(m, NULL);
    int64_t second = first_in(t, hi, GS_ST_PY, MS(3));
    ck_assert_int_ge(second, MS(4));
    ck_assert_int_le(second, MS(4) + US(20));
    int64_t end = run_end(t, hi, GS_ST_PY, second);
    ck_assert_msg(end == MS(9), "hi's second run ended at %lld ns, not at the 9 ms tick",
                  (long long)end);
    ck_assert_int_le(first_in(t, a, GS_ST_PY, MS(8)), MS(9) + US(20));
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

static Suite *parity_suite(void)
{
    Suite *s = suite_create("parity");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_parity_a_wake_reschedules_a_thread_past_its_protected_slice);
    tcase_add_test(core, test_parity_past_its_protected_slice_a_thread_is_looked_at_every_tick);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return tu_main(parity_suite());
}
