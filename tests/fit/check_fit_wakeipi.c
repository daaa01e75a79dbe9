/* check_fit_wakeipi.c - where a replay's GIL release ends, for the count of
 * lock wakes that reads machine.wake_affine (sim/fit/wakeplace.c drop_end).
 *
 * The engine frees the GIL and then signals its condition variable, as
 * CPython's drop_gil does; a signal to a waiter asleep on another, idle
 * core costs the dropper machine.futex + machine.wake_ipi (wake.c
 * wake_cost), off the GIL, before it blocks. The recording's `release` is
 * drop_gil's end, after that signal, so the replay's count must read the
 * release there too: a thread woken onto an idle core that arrives during
 * its waker's signal ran while the waker was still in drop_gil, on another
 * core, and is not "beside its waker".
 *
 * Three cores, CPython 3 GIL. c waits on queue q; p puts, waking c: c's
 * previous core runs p, so c goes to an idle core, a deep-idle wake-up of
 * 60 us (the count's cuts are those of the recording's hot 40 us one), and
 * the put's futex call sends that core an IPI, 31 us in the hold. p runs
 * 25 us of Python and blocks on event e, dropping the GIL 56 us after the
 * post: its signal wakes g, asleep waiting for the GIL on the third core,
 * another 31 us. c arrives 60 us after the post: after p's hold, inside
 * p's drop_gil (until 87 us). Read from the hold's end it ran "after its
 * waker's release", beside it; it ran on another core. */
#include <check.h>
#include <stdio.h>

#include "fit_int.h"
#include "testutil.h"
#include "testutil_scenario.h"

#define SEEDS 5
#define WAKE_NS 40000

static gs_model_t *scene(uint64_t seed, int64_t ipi_us)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"seed\": %llu, \"machine\": {\"cores\": 3, \"wakeup_latency\": \"60us\", "
             "\"wake_ipi\": \"%lldus\"}, \"queues\": {\"q\": {\"maxsize\": 0}}, "
             "\"events\": [\"e\"], \"threads\": ["
             "{\"name\": \"c\", \"program\": [{\"get\": \"q\"}, {\"cpu\": \"50us\"}, "
             "{\"set\": \"e\"}, {\"cpu\": \"10us\"}]},"
             "{\"name\": \"p\", \"start_at\": \"20us\", \"program\": [{\"cpu\": \"300us\"}, "
             "{\"put\": \"q\"}, {\"cpu\": \"25us\"}, {\"wait\": \"e\"}]},"
             "{\"name\": \"g\", \"start_at\": \"60us\", \"program\": [{\"cpu\": \"200us\"}]}]}",
             (unsigned long long)seed, (long long)ipi_us);
    return tu_load("wakeipi.json", text, NULL, 0, NULL);
}

/* The core thread thr runs on first after `from`, -1 if none. */
static int core_after(const gs_trace_t *tr, int n_cores, int thr, int64_t from)
{
    int core = -1;
    int64_t at = INT64_MAX;
    for (int k = 0; k < n_cores; k++) {
        const gs_lane_t *lane = gs_trace_lane(tr, gs_trace_core_lane(tr, k));
        for (size_t i = 0; i < lane->n; i++)
            if (lane->iv[i].who == thr && lane->iv[i].start_ns > from &&
                lane->iv[i].start_ns < at) {
                at = lane->iv[i].start_ns;
                core = k;
            }
    }
    return core;
}

/* Property: with the dropper's IPI, the one counted wake ran on another
 * core than its waker's, and the count says so (away, not beside). */
START_TEST(test_fit_wakeipi_wake_during_the_wakers_signal_is_not_beside)
{
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        tu_result_t r;
        tu_run_stats(&r, scene(seed, 30), "wakeipi");
        ck_assert_int_eq(r.s.outcome, GS_OUT_DONE);
        int c = tu_thread_by_name(r.t, "c"), p = tu_thread_by_name(r.t, "p");
        int64_t put = 320000; /* p's put, at about 20 + 300 us */
        int cc = core_after(r.t, 3, c, put), pc = core_after(r.t, 3, p, 0);
        ck_assert_msg(cc >= 0 && cc != pc, "seed %llu: c on core %d, p on %d",
                      (unsigned long long)seed, cc, pc);
        int64_t beside, away;
        fit_place_count_replay(r.t, WAKE_NS, false, &beside, &away);
        ck_assert_msg(beside == 0 && away == 1, "seed %llu: %lld beside, %lld away",
                      (unsigned long long)seed, (long long)beside, (long long)away);
        tu_result_free(&r);
    }
}
END_TEST

/* Without the IPI the drop makes no call off the GIL and the release is the
 * hold's end, 26 us after the post: too near it to say where c ran (under
 * 1.25 wake-ups), not counted, as before drop_end. */
START_TEST(test_fit_wakeipi_no_ipi_release_near_the_post_is_not_counted)
{
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        tu_result_t r;
        tu_run_stats(&r, scene(seed, 0), "wakeipi");
        ck_assert_int_eq(r.s.outcome, GS_OUT_DONE);
        int64_t beside, away;
        fit_place_count_replay(r.t, WAKE_NS, false, &beside, &away);
        ck_assert_msg(beside == 0 && away == 0, "seed %llu: %lld beside, %lld away",
                      (unsigned long long)seed, (long long)beside, (long long)away);
        tu_result_free(&r);
    }
}
END_TEST

static Suite *fit_wakeipi_suite(void)
{
    Suite *s = suite_create("fit_wakeipi");
    TCase *tc = tcase_create("props");
    tcase_add_test(tc, test_fit_wakeipi_wake_during_the_wakers_signal_is_not_beside);
    tcase_add_test(tc, test_fit_wakeipi_no_ipi_release_near_the_post_is_not_counted);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(fit_wakeipi_suite());
}
