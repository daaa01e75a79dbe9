/* check_wakeipi.c - where the waker pays for a wake (sim/engine/wake.c
 * wake_cost): a futex wake costs its waker machine.futex, plus
 * machine.wake_ipi only when the woken thread goes to another, idle core
 * (Linux: try_to_wake_up -> ttwu_queue, the reschedule IPI sent inside the
 * futex_wake call; none for a thread queued on the waker's own CPU). And
 * it is paid where CPython makes the call: a Queue's notify
 * (waiter.release(), a sem_post) with the GIL held, inside the hold; the
 * GIL drop's condition signal after `locked` is 0 (Python/ceval_gil.c
 * drop_gil), off the GIL, before the dropper blocks. The recording shows
 * the same (tests/reality/replay_notes.md, 31 of wakeipi: signal->release
 * 10.8 us on producer_consumer 073, the queued-behind thread running 3.1 us
 * after the release).
 *
 * Two cores, wake_affine 1. c waits on queue q (on core 0); p then runs on
 * core 0, g asks for the GIL from core 1 and sleeps. p puts: c's previous
 * core runs p, so c is queued behind p (no IPI: futex only, in the hold).
 * p runs 25 us and blocks on event e: its drop signals g, asleep on the
 * idle core 1 (futex + wake_ipi, after the hold). c runs once p blocks. */
#include <check.h>
#include <stdio.h>

#include "testutil.h"
#include "testutil_scenario.h"

#define SEEDS 5

static gs_model_t *scene(uint64_t seed, int ipi_us)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"seed\": %llu, \"machine\": {\"cores\": 2, \"wakeup_latency\": \"40us\", "
             "\"wake_ipi\": \"%dus\", \"wake_affine\": 1}, \"queues\": {\"q\": {\"maxsize\": "
             "0}}, \"events\": [\"e\"], \"threads\": ["
             "{\"name\": \"c\", \"program\": [{\"get\": \"q\"}, {\"cpu\": \"50us\"}, "
             "{\"set\": \"e\"}, {\"cpu\": \"10us\"}]},"
             "{\"name\": \"p\", \"start_at\": \"50us\", \"program\": [{\"cpu\": \"300us\"}, "
             "{\"put\": \"q\"}, {\"cpu\": \"25us\"}, {\"wait\": \"e\"}]},"
             "{\"name\": \"g\", \"start_at\": \"60us\", \"program\": [{\"cpu\": \"200us\"}]}]}",
             (unsigned long long)seed, ipi_us);
    return tu_load("wakeipi.json", text, NULL, 0, NULL);
}

/* Thread thr's first interval in state st starting at or after from. */
static const gs_interval_t *first(const gs_trace_t *tr, int thr, gs_state_t st, int64_t from)
{
    const gs_lane_t *l = gs_trace_lane(tr, gs_trace_thread_lane(tr, thr));
    for (size_t i = 0; i < l->n; i++)
        if (l->iv[i].state == st && l->iv[i].start_ns >= from)
            return &l->iv[i];
    return NULL;
}

static void check_costs(int ipi_us)
{
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        tu_result_t r;
        tu_run_stats(&r, scene(seed, ipi_us), "wakeipi");
        ck_assert_int_eq(r.s.outcome, GS_OUT_DONE);
        int64_t futex = r.m->machine.futex_ns, ipi = (int64_t)ipi_us * 1000;
        int c = tu_thread_by_name(r.t, "c"), p = tu_thread_by_name(r.t, "p");
        const gs_interval_t *put = first(r.t, p, GS_ST_C_GIL, 0);
        const gs_interval_t *wait = first(r.t, p, GS_ST_WAIT_EVENT, 0);
        ck_assert_ptr_nonnull(put);
        ck_assert_ptr_nonnull(wait);
        /* the notify: in the hold, no IPI (c queued on p's core) */
        ck_assert_msg(put->end_ns - put->start_ns == futex, "seed %llu: put's call %lld ns",
                      (unsigned long long)seed, (long long)(put->end_ns - put->start_ns));
        /* the drop's signal to g on the idle core: off the GIL, IPI inside */
        const gs_interval_t *sig = first(r.t, p, GS_ST_C_NOGIL, put->end_ns);
        ck_assert_ptr_nonnull(sig);
        ck_assert_msg(sig->end_ns - sig->start_ns == futex + ipi && sig->end_ns == wait->start_ns,
                      "seed %llu: signal %lld ns ending at %lld, wait at %lld",
                      (unsigned long long)seed, (long long)(sig->end_ns - sig->start_ns),
                      (long long)sig->end_ns, (long long)wait->start_ns);
        /* queued behind its waker: c runs only once p has blocked */
        const gs_interval_t *run = first(r.t, c, GS_ST_PY, put->start_ns);
        ck_assert_ptr_nonnull(run);
        ck_assert_int_ge(run->start_ns, wait->start_ns);
        tu_result_free(&r);
    }
}

START_TEST(test_wakeipi_notify_in_hold_drop_signal_after_it)
{
    check_costs(30);
}
END_TEST

START_TEST(test_wakeipi_without_ipi_the_drop_costs_a_futex_call)
{
    check_costs(0);
}
END_TEST

static Suite *wakeipi_suite(void)
{
    Suite *s = suite_create("wakeipi");
    TCase *tc = tcase_create("props");
    tcase_add_test(tc, test_wakeipi_notify_in_hold_drop_signal_after_it);
    tcase_add_test(tc, test_wakeipi_without_ipi_the_drop_costs_a_futex_call);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(wakeipi_suite());
}
