/* check_dropper.c - the forced dropper's return and what the new holder's
 * wake of it costs (tests/reality/replay_notes.md, point 16).
 *
 * CPython's take_gil ends with the new holder signalling switch_cond, which
 * wakes the forced dropper asleep on its own, now idle, core; the new holder
 * pays that futex wake holding the GIL (machine.futex, plus machine.wake_ipi
 * onto another idle core: gil.c acquire, wake.c wake_cost). When the new holder
 * is an I/O thread that takes the GIL for a moment before its next sleep,
 * that cost decides whether the dropper, woken at the signal, is back in
 * take_gil before the I/O thread lets go: back first, it finds the GIL free
 * and takes it; late, a waiter the I/O thread's release woke takes it. The
 * quiet io_two_cpu recordings took it back in 62-65% of such drops
 * (tests/reality/dropper_order.py); a model without the IPI cost, as fitted
 * scenarios were, 0-19%.
 *
 * Two CPU threads and an I/O thread sleeping 1 ms between short bursts of
 * Python, two cores, a 5 ms interval, a shared run queue and the race at 1
 * (as the io_two_cpu fits: requester_first 0.86-0.95), the I/O thread's
 * Python 20 us a turn (the recordings' hold to release: 19-22 us p50).
 * Properties: the new holder's hold is longer by what it pays, and the
 * dropper takes the GIL back at such a hand-off more often with the IPI
 * paid than without. Still far from the recordings' 62-65%: with a 28 us
 * IPI it is 18 of 141 here, as with 14 us; what else brings the real
 * dropper back first is not known (replay_notes.md, point 16). */
#include "testutil.h"

#include <stdlib.h>

typedef struct back_count {
    int n;           /* forced drops whose new holder (io) handed on within 200 us */
    int back;        /* ... to the dropper itself */
    int64_t io_held; /* io's hold in those, summed */
} back_count_t;

static gs_trace_t *io_beside_two(int64_t ipi_ns, uint64_t seed)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    m->machine.per_core_queues = false;
    m->machine.timer_wake_local = true;
    m->machine.wakeup_latency_ns = US(29.4);
    m->machine.futex_ns = US(1);
    m->machine.wake_ipi_ns = ipi_ns;
    m->machine.requester_first_pct = 100;
    m->seed = seed;
    m->processes[0].python.switch_interval_ns = MS(5);
    tu_thread(m, "cpu0", 1, tu_cpu(MS(250)));
    tu_thread(m, "cpu1", 1, tu_cpu(MS(250)));
    tu_thread(m, "io", 1, tu_repeat(60, 2, tu_sleep(MS(1)), tu_cpu(US(20))));
    gs_trace_t *t = tu_run(m, NULL);
    gs_model_free(m);
    return t;
}

/* The holds of the GIL lane, one per holder in turn: starts and holders. */
static size_t holds_of(const gs_trace_t *t, int64_t **at, int **who)
{
    const gs_lane_t *g = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    *at = malloc((g->n + 1) * sizeof **at);
    *who = malloc((g->n + 1) * sizeof **who);
    ck_assert(*at && *who);
    size_t n = 0;
    for (size_t k = 0; k < g->n; k++) {
        if (g->iv[k].who < 0 || (n && (*who)[n - 1] == g->iv[k].who))
            continue;
        (*at)[n] = g->iv[k].start_ns;
        (*who)[n++] = g->iv[k].who;
    }
    return n;
}

static back_count_t count_back(const gs_trace_t *t)
{
    const int io = 2;
    back_count_t c = {0, 0, 0};
    int64_t *at;
    int *who;
    size_t nh = holds_of(t, &at, &who), h = 0;
    const gs_instant_t *in = gs_trace_instants(t);
    for (size_t i = 0; i < gs_trace_n_instants(t); i++) {
        if (in[i].kind != GS_IN_FORCED_SWITCH)
            continue;
        while (h < nh && at[h] < in[i].t_ns)
            h++;
        if (h + 1 >= nh)
            break;
        if (who[h] != io || at[h + 1] - at[h] >= US(200))
            continue;
        c.n++;
        c.back += who[h + 1] == in[i].thread;
        c.io_held += at[h + 1] - at[h];
    }
    free(at);
    free(who);
    return c;
}

static back_count_t pooled(int64_t ipi_ns)
{
    back_count_t s = {0, 0, 0};
    for (uint64_t seed = 1; seed <= 3; seed++) {
        gs_trace_t *t = io_beside_two(ipi_ns, seed);
        back_count_t c = count_back(t);
        s.n += c.n;
        s.back += c.back;
        s.io_held += c.io_held;
        gs_trace_free(t);
    }
    return s;
}

START_TEST(test_dropper_takes_the_gil_back_when_the_new_holder_pays_the_ipi)
{
    back_count_t none = pooled(0), ipi = pooled(US(14));
    ck_assert_int_ge(none.n, 30);
    ck_assert_int_ge(ipi.n, 30);
    /* the short holder holds longer by at least what it pays (less the
       futex call's rounding): it runs its Python only after the wake */
    ck_assert_int_ge(ipi.io_held / ipi.n, none.io_held / none.n + US(12));
    /* and the dropper, woken at the signal, is back while the GIL is free
       several times as often (3 of 183 without, 18 of 144 with, seeds 1-3) */
    ck_assert_msg((int64_t)ipi.back * none.n >= 3 * (int64_t)none.back * ipi.n && ipi.back >= 5,
                  "back %d of %d with the IPI, %d of %d without", ipi.back, ipi.n, none.back,
                  none.n);
}
END_TEST

static Suite *dropper_suite(void)
{
    Suite *s = suite_create("dropper");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_dropper_takes_the_gil_back_when_the_new_holder_pays_the_ipi);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return tu_main(dropper_suite());
}
