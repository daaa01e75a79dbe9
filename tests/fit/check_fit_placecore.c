/* check_fit_placecore.c - the replay's side of machine.wake_affine read by
 * the cores, as the recording's is read by its CPUs (sim/fit/wakeplace.c
 * woken_core).
 *
 * A recording with CPUs says where each woken thread ran: its CPU at the
 * end of its lock_wait against its waker's at the post. The replay's count
 * must read the same thing, or the fit matches a share of one kind with a
 * share of another: on the quiet recordings of 23:47 (rp3) producer_consumer
 * 073 ran 2% of its counted wakes on its waker's CPU, which the timing rule
 * reads as 17%, and its replay at wake_affine 0 as 26% by timing, 0% by
 * the cores; pipeline's woken writer ran after its waker's release (the
 * timing: beside) but on the other CPU in 174 of 197 wakes (121).
 *
 * Two cores, CPython 3 GIL. c waits on queue q; p puts, waking c: c's
 * previous core runs p, so c goes to the idle core, a wake-up of 60 us. p
 * runs 30 us more of Python and blocks on event e, releasing the GIL before
 * c arrives: by timing c ran after its waker's release, "beside"; by the
 * cores it ran on the other one. With wake_affine 1 and the other core
 * busy in a long C call, c is queued on p's core instead and runs there
 * (beside, both ways). */
#include <check.h>
#include <stdio.h>

#include "fit_int.h"
#include "testutil.h"
#include "testutil_scenario.h"

#define SEEDS 5
#define WAKE_NS 20000 /* the count's cuts: 10 us, and the window 25 us */

/* busy: g keeps the other core in a C call off the GIL, and p's core takes
 * the woken thread (wake_affine 1). */
static gs_model_t *scene(uint64_t seed, bool busy)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"seed\": %llu, \"machine\": {\"cores\": 2, \"wakeup_latency\": \"60us\"%s}, "
             "\"queues\": {\"q\": {\"maxsize\": 0}}, \"events\": [\"e\"], \"threads\": ["
             "{\"name\": \"c\", \"program\": [{\"get\": \"q\"}, {\"cpu\": \"50us\"}, "
             "{\"set\": \"e\"}, {\"cpu\": \"10us\"}]},"
             "{\"name\": \"p\", \"start_at\": \"20us\", \"program\": [{\"cpu\": \"300us\"}, "
             "{\"put\": \"q\"}, {\"cpu\": \"30us\"}, {\"wait\": \"e\"}]}%s]}",
             (unsigned long long)seed, busy ? ", \"wake_affine\": 1" : "",
             busy ? ",{\"name\": \"g\", \"start_at\": \"10us\", \"program\": [{\"c_call\": "
                    "\"2ms\", \"releases_gil\": true}]}"
                  : "");
    return tu_load("placecore.json", text, NULL, 0, NULL);
}

/* The core thread thr runs on first after `from` (by the core lanes), -1
 * if none. */
static int core_after(const gs_trace_t *tr, int thr, int64_t from)
{
    int core = -1;
    int64_t at = INT64_MAX;
    for (int k = 0; k < gs_trace_n_cores(tr); k++) {
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

/* Property: a wake onto the idle core that ends after its waker's release
 * is "beside" by timing and "away" by the cores, which is where the core
 * lanes ran it. */
START_TEST(test_fit_placecore_idle_core_after_the_release_is_away_by_cores)
{
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        tu_result_t r;
        tu_run_stats(&r, scene(seed, false), "placecore");
        ck_assert_int_eq(r.s.outcome, GS_OUT_DONE);
        int c = tu_thread_by_name(r.t, "c"), p = tu_thread_by_name(r.t, "p");
        int cc = core_after(r.t, c, 300000), pc = core_after(r.t, p, 0);
        ck_assert_msg(cc >= 0 && pc >= 0 && cc != pc, "seed %llu: c on core %d, p on %d",
                      (unsigned long long)seed, cc, pc);
        int64_t beside, away;
        fit_place_count_replay(r.t, WAKE_NS, false, &beside, &away);
        ck_assert_msg(beside == 1 && away == 0, "seed %llu: by timing %lld beside, %lld away",
                      (unsigned long long)seed, (long long)beside, (long long)away);
        fit_place_count_replay(r.t, WAKE_NS, true, &beside, &away);
        ck_assert_msg(beside == 0 && away == 1, "seed %llu: by cores %lld beside, %lld away",
                      (unsigned long long)seed, (long long)beside, (long long)away);
        tu_result_free(&r);
    }
}
END_TEST

/* Property: a wake queued on its waker's core (no core idle, wake_affine 1)
 * and switched in there is "beside" by the cores, as the core lanes say. */
START_TEST(test_fit_placecore_queued_on_the_wakers_core_is_beside_by_cores)
{
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        tu_result_t r;
        tu_run_stats(&r, scene(seed, true), "placecore");
        ck_assert_int_eq(r.s.outcome, GS_OUT_DONE);
        int c = tu_thread_by_name(r.t, "c"), p = tu_thread_by_name(r.t, "p");
        int cc = core_after(r.t, c, 300000), pc = core_after(r.t, p, 0);
        ck_assert_msg(cc >= 0 && cc == pc, "seed %llu: c on core %d, p on %d",
                      (unsigned long long)seed, cc, pc);
        int64_t beside, away;
        fit_place_count_replay(r.t, WAKE_NS, true, &beside, &away);
        ck_assert_msg(beside == 1 && away == 0, "seed %llu: by cores %lld beside, %lld away",
                      (unsigned long long)seed, (long long)beside, (long long)away);
        tu_result_free(&r);
    }
}
END_TEST

static Suite *fit_placecore_suite(void)
{
    Suite *s = suite_create("fit_placecore");
    TCase *tc = tcase_create("props");
    tcase_add_test(tc, test_fit_placecore_idle_core_after_the_release_is_away_by_cores);
    tcase_add_test(tc, test_fit_placecore_queued_on_the_wakers_core_is_beside_by_cores);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(fit_placecore_suite());
}
