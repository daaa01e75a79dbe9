/* check_fit_lockplace.c - where a woken Lock waiter ran, read off the
 * recording and off the replay (sim/fit/wakeplace.c count_locks and
 * lock_handoff; gilsim fit --lock-race).
 *
 * With --lock-race the engine runs a Lock's race, so a release a waiter
 * wins is a wake the engine places (machine.wake_affine). The recording
 * says where each winner ran: its lock_wait's CPU at the end against the
 * releaser's at the post. On the quiet records of lock_contention 70, 76,
 * 55 of 95, 94, 73 wins ran on the releaser's CPU (replay notes 45). */
#include "fitutil.h"
#include "lockturns.h"
#include "testutil_scenario.h"
#include "tu_main.h"

#include "fit_int.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROUNDS = 60 };

/* Two threads take turns on one Lock, as lock_contention's workers do
 * (lockturns.h): each waiter wins its round. t0 runs on CPU 0; t1 on CPU
 * cpu1 (0: every win on its releaser's CPU; 1: every win on the other), or
 * no CPU written at all (cpu1 < 0). */
static void write_turns(char *path, int cpu1)
{
    lockturns_write(path, ROUNDS, cpu1 >= 0 ? 0 : -1, cpu1);
}

static char *fit_turns(int cpu1, bool lock_race)
{
    char path[] = "/tmp/check_fit_lockplace_XXXXXX";
    write_turns(path, cpu1);
    char *json = fu_fit(path, (gs_fit_opts_t){.exact = true, .lock_race = lock_race});
    unlink(path);
    return json;
}

/* The place sentence of a fitted scenario (for messages), or "none". */
static const char *place_text(const char *json)
{
    static char buf[700];
    const char *p = strstr(json, "Where a woken");
    if (!p)
        p = strstr(json, "Where a woken thread runs");
    snprintf(buf, sizeof buf, "%.600s", p ? p : "none");
    return buf;
}

/* The share the description says the recording's wakes ran beside their
 * waker (whether or not a replay matched it), or -1 if it says nothing. */
static int said_beside(const char *json)
{
    static const char *const lead[] = {"lock release woke while its waker held the GIL on, ",
                                       "is the engine's default 0: "};
    int pct = -1;
    for (int k = 0; k < 2 && pct < 0; k++) {
        const char *p = strstr(json, lead[k]);
        if (p && sscanf(p + strlen(lead[k]), "%d%%", &pct) != 1)
            pct = -1;
    }
    return pct;
}

/* Property: with --lock-race every release a waiter won is read where the
 * recorded CPUs put the winner: all on the releaser's CPU, 100% beside;
 * all on the other, 0%; the count is the Lock's, said as such (61: each
 * of the ROUNDS + 1 releases was won). */
START_TEST(test_fit_lockplace_wins_read_by_the_recorded_cpus)
{
    char *json = fit_turns(0, true);
    ck_assert_msg(said_beside(json) == 100, "%s", place_text(json));
    ck_assert_msg(strstr(json, "61 of them a Lock's releases a waiter won"), "%s",
                  place_text(json));
    free(json);
    json = fit_turns(1, true);
    ck_assert_msg(said_beside(json) == 0, "%s", place_text(json));
    ck_assert_msg(strstr(json, "61 of them a Lock's releases a waiter won"), "%s",
                  place_text(json));
    free(json);
}
END_TEST

/* Property: the hand-offs are read only where the engine races the Lock
 * (--lock-race) and only by CPU: without it the fit keeps the recorded
 * order, and without CPUs nothing says where a winner ran. */
START_TEST(test_fit_lockplace_not_read_without_race_or_cpus)
{
    char *json = fit_turns(0, false);
    ck_assert_msg(said_beside(json) < 0 && !strstr(json, "a Lock's releases"), "%s",
                  place_text(json));
    free(json);
    json = fit_turns(-1, true);
    ck_assert_msg(said_beside(json) < 0 && !strstr(json, "a Lock's releases"), "%s",
                  place_text(json));
    free(json);
}
END_TEST

/* ---- the replay's side ---------------------------------------------------- */

#define SEEDS 5
#define WAKE_NS 20000

/* a holds L across C calls that release the GIL; b blocks on L while a is
 * in the first. a's first release is followed at once by its next acquire
 * (b, woken onto its idle core 60 us away, loses and blocks again); its
 * second b wins. busy: g keeps the other core in a long C call, so no core
 * is idle at the wins, and wake_affine 1 queues b on a's core. */
static gs_model_t *scene(uint64_t seed, bool busy)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"seed\": %llu, \"machine\": {\"cores\": 2, \"wakeup_latency\": \"60us\"%s}, "
             "\"locks\": [\"L\"], \"threads\": ["
             "{\"name\": \"a\", \"program\": [{\"acquire\": \"L\"}, {\"c_call\": \"300us\", "
             "\"releases_gil\": true}, {\"release\": \"L\"}, {\"acquire\": \"L\"}, "
             "{\"c_call\": \"300us\", \"releases_gil\": true}, {\"release\": \"L\"}, "
             "{\"cpu\": \"20us\"}]},"
             "{\"name\": \"b\", \"start_at\": \"20us\", \"program\": [{\"acquire\": \"L\"}, "
             "{\"cpu\": \"50us\"}, {\"release\": \"L\"}]}%s]}",
             (unsigned long long)seed, busy ? ", \"wake_affine\": 1" : "",
             busy ? ",{\"name\": \"g\", \"start_at\": \"100us\", \"program\": [{\"c_call\": "
                    "\"3ms\", \"releases_gil\": true}]}"
                  : "");
    return tu_load("lockplace.json", text, NULL, 0, NULL);
}

/* The core lane that shows thread thr at t, -1 if none. */
static int core_of(const gs_trace_t *tr, int thr, int64_t t)
{
    for (int k = 0; k < gs_trace_n_cores(tr); k++) {
        const gs_lane_t *lane = gs_trace_lane(tr, gs_trace_core_lane(tr, k));
        size_t i = gs_lane_find(lane, t);
        if (i < lane->n && lane->iv[i].start_ns <= t && lane->iv[i].who == thr)
            return k;
    }
    return -1;
}

/* The core thr runs on first from `from` on, -1 if none. */
static int core_from(const gs_trace_t *tr, int thr, int64_t from)
{
    int core = -1;
    int64_t at = INT64_MAX;
    for (int k = 0; k < gs_trace_n_cores(tr); k++) {
        const gs_lane_t *lane = gs_trace_lane(tr, gs_trace_core_lane(tr, k));
        for (size_t i = 0; i < lane->n; i++)
            if (lane->iv[i].who == thr && lane->iv[i].end_ns > from && lane->iv[i].start_ns < at) {
                at = lane->iv[i].start_ns;
                core = k;
            }
    }
    return core;
}

/* The end of thread thr's last Lock wait, -1 if none. */
static int64_t last_lock_wait_end(const gs_trace_t *tr, int thr)
{
    const gs_lane_t *l = gs_trace_lane(tr, gs_trace_thread_lane(tr, thr));
    int64_t end = -1;
    for (size_t k = 0; k < l->n; k++)
        if (l->iv[k].state == GS_ST_WAIT_LOCK)
            end = l->iv[k].end_ns;
    return end;
}

/* Property: a replay counts the release its waiter won and not the one it
 * lost (woken, it found the Lock taken again and blocked), and reads it
 * beside exactly when the core lanes run the winner on its releaser's
 * core; without `locks` a Lock's waits are not counted at all. */
static void check_replay(bool busy)
{
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        tu_result_t r;
        tu_run_stats(&r, scene(seed, busy), "lockplace");
        ck_assert_int_eq(r.s.outcome, GS_OUT_DONE);
        int a = tu_thread_by_name(r.t, "a"), b = tu_thread_by_name(r.t, "b");
        int64_t won = last_lock_wait_end(r.t, b);
        if (!busy) /* b won the second release: it lost the first, woken 60 us away */
            ck_assert_int_gt(won, 400000);
        int beside_lanes = core_of(r.t, a, won) == core_from(r.t, b, won);
        int64_t beside, away;
        fit_place_count_replay_locks(r.t, WAKE_NS, true, false, &beside, &away);
        ck_assert_msg(beside == 0 && away == 0, "seed %llu: without locks %lld/%lld",
                      (unsigned long long)seed, (long long)beside, (long long)away);
        fit_place_count_replay_locks(r.t, WAKE_NS, true, true, &beside, &away);
        ck_assert_msg(beside + away == 1 && beside == beside_lanes,
                      "seed %llu: %lld beside, %lld away; lanes say %s", (unsigned long long)seed,
                      (long long)beside, (long long)away, beside_lanes ? "beside" : "away");
        tu_result_free(&r);
    }
}

START_TEST(test_fit_lockplace_replay_counts_the_win_by_cores)
{
    check_replay(false);
}
END_TEST

START_TEST(test_fit_lockplace_replay_counts_the_win_by_cores_busy)
{
    check_replay(true);
}
END_TEST

static Suite *fit_lockplace_suite(void)
{
    Suite *s = suite_create("fit_lockplace");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_fit_lockplace_wins_read_by_the_recorded_cpus);
    tcase_add_test(core, test_fit_lockplace_not_read_without_race_or_cpus);
    suite_add_tcase(s, core);
    TCase *props = tcase_create("props");
    tcase_add_test(props, test_fit_lockplace_replay_counts_the_win_by_cores);
    tcase_add_test(props, test_fit_lockplace_replay_counts_the_win_by_cores_busy);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(fit_lockplace_suite());
}
