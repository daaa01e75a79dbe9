/* check_ahead.c - requests made ahead (worker.c, gs_run_opts.ahead).
 *
 * An op program's body may go on to its next requests while the engine still
 * runs its last one, so that its pthread is woken only when its ring of
 * requests made ahead is empty. That must change nothing a run computes: every
 * lesson, every golden scenario and fitted recordings give the same trace,
 * byte for byte, with rings of any depth and with none, also when the run
 * stops early with requests still in a ring (max_events, the horizon). And it
 * must save the hand-offs it is for. */
#include "testutil.h"
#include "testutil_scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

/* The trace of m with the given ring depth and limits, as text (malloc'd);
 * *rc gets gs_sim_run's result. */
static char *dump_with(const gs_model_t *m, int ahead, int64_t max_events, int64_t until_ns,
                       int *rc, size_t *len)
{
    gs_run_opts_t o;
    gs_run_opts_init(&o);
    o.ahead = ahead;
    o.max_events = max_events;
    o.until_ns = until_ns;
    gs_trace_t *t = NULL;
    gs_error_t err;
    *rc = gs_sim_run(m, &o, &t, &err);
    if (!t)
        return NULL; /* compared as "no trace" with the same rc */
    gs_error_t inv;
    ck_assert_msg(gs_trace_check(t, &inv) == 0, "invariant (ahead %d): %s", ahead, inv.msg);
    char *d = tu_dump(t, len);
    gs_trace_free(t);
    return d;
}

static const int depths[] = {-1, 1, 2, 3, 8, 0 /* the default */, 1000};
#define N_DEPTHS ((int)(sizeof depths / sizeof depths[0]))

/* m gives the same trace and result at every depth, run to its end and
 * stopped early at a few event counts and horizons. Returns how many runs
 * compared. */
static int same_at_every_depth(const gs_model_t *m, const char *what)
{
    const int64_t maxes[] = {0, 40, 333, 2500};
    const int64_t untils[] = {0, 1000000, 7777777};
    int n = 0;
    for (int a = 0; a < 4; a++)
        for (int b = 0; b < 3; b++) {
            if (a && b)
                continue; /* one limit at a time */
            int rc0;
            size_t len0 = 0;
            char *d0 = dump_with(m, -1, maxes[a], untils[b], &rc0, &len0);
            for (int k = 1; k < N_DEPTHS; k++) {
                int rc;
                size_t len = 0;
                char *d = dump_with(m, depths[k], maxes[a], untils[b], &rc, &len);
                ck_assert_msg(rc == rc0, "%s (max_events %lld, until %lld ns): result %d with "
                              "a ring of %d, %d without",
                              what, (long long)maxes[a], (long long)untils[b], rc, depths[k], rc0);
                ck_assert_msg((d == NULL) == (d0 == NULL) &&
                                  (!d || (len == len0 && memcmp(d, d0, len) == 0)),
                              "%s (max_events %lld, until %lld ns): the trace with a ring of "
                              "%d requests differs from the one without",
                              what, (long long)maxes[a], (long long)untils[b], depths[k]);
                free(d);
                n++;
            }
            free(d0);
        }
    return n;
}

START_TEST(test_ahead_lessons_same_trace)
{
    char names[64][TU_NAME_MAX];
    int n = tu_list_lessons(names, 64);
    ck_assert_int_ge(n, 10);
    int runs = 0;
    for (int i = 0; i < n; i++) {
        gs_model_t *m = tu_load_lesson(names[i], NULL, 0);
        runs += same_at_every_depth(m, names[i]);
        gs_model_free(m);
    }
    ck_assert_int_ge(runs, n * 6 * 6);
}
END_TEST

/* The golden corpus' own scenarios (deadlocks, an until loop stopped at its
 * horizon, thread starts) and the loader's examples. */
static void ahead_scenario(const char *path, const char *name, void *ctx)
{
    (void)ctx;
    gs_model_t *m = tu_load(path, NULL, NULL, 0, NULL);
    same_at_every_depth(m, name);
    gs_model_free(m);
}

START_TEST(test_ahead_scenarios_same_trace)
{
    const char *dirs[] = {"tests/golden/scenarios", "tests/scenario/good"};
    int files = tu_each_file(dirs, 2, ".json", ahead_scenario, NULL);
    ck_assert_int_ge(files, 5);
}
END_TEST

/* Fitted recordings: queues with their Python, C calls, the other load's
 * daemon threads, repeat blocks with drawn durations; socket sends that post
 * their reader's queue (c_call posts, cpost.c). */
START_TEST(test_ahead_fitted_recordings_same_trace)
{
    const char *recs[] = {"tests/data/fit/queue.rec.json", "tests/data/fit/pipeline.rec.json",
                          "tests/data/fit/convoy.rec.json", "tests/data/fit/hash_pool.rec.json",
                          "tests/data/fit/http_server.rec.json"};
    for (int i = 0; i < 5; i++) {
        char path[1024];
        tu_source_path(recs[i], path, sizeof path);
        char *json = NULL;
        size_t len = 0;
        gs_error_t err;
        ck_assert_msg(gs_fit_recording(path, NULL, &json, &len, &err) == 0, "%s: %s", path,
                      err.msg);
        const char *sets[] = {"python.switch_interval=1ms"};
        for (int s = 0; s < 2; s++) {
            gs_model_t *m = tu_load(path, json, sets, s, NULL);
            same_at_every_depth(m, recs[i]);
            gs_model_free(m);
        }
        free(json);
    }
}
END_TEST

/* Times the process's threads slept (voluntary context switches): a worker
 * waiting for its baton, mostly. */
static long switches(void)
{
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_nvcsw; /* a worker sleeping on its baton */
}

/* A producer and two consumers over a bounded queue, switching threads a few
 * hundred times a run (the shape of the fitted producer_consumer.py that
 * issue 14 measures): the bodies' pthreads are woken far less often with the
 * default ring than without one (about 70 sleeps a run against 275). */
START_TEST(test_ahead_saves_hand_offs)
{
    const char *text =
        "{\"machine\":{\"cores\":2},\"queues\":{\"q\":{\"maxsize\":8}},\"threads\":["
        "{\"name\":\"producer\",\"program\":[{\"repeat\":2000,\"do\":[{\"cpu\":{\"uniform\":"
        "[\"1.8us\",\"3.9us\"]}},{\"put\":\"q\"}]}]},"
        "{\"name\":\"c1\",\"program\":[{\"repeat\":1000,\"do\":[{\"cpu\":{\"uniform\":"
        "[\"7.9us\",\"10us\"]}},{\"get\":\"q\"}]}]},"
        "{\"name\":\"c2\",\"program\":[{\"repeat\":1000,\"do\":[{\"cpu\":{\"uniform\":"
        "[\"7.9us\",\"10us\"]}},{\"get\":\"q\"}]}]}]}";
    gs_model_t *m = tu_load("pc.json", text, NULL, 0, NULL);
    long cost[2] = {0, 0}; /* without, with */
    size_t len[2];
    char *d[2] = {NULL, NULL};
    for (int rep = 0; rep < 5; rep++)
        for (int k = 0; k < 2; k++) {
            int rc;
            long before = switches();
            char *x = dump_with(m, k ? 0 : -1, 0, 0, &rc, &len[k]);
            cost[k] += switches() - before;
            ck_assert_int_eq(rc, 0);
            free(d[k]);
            d[k] = x;
        }
    ck_assert(len[0] == len[1] && memcmp(d[0], d[1], len[0]) == 0);
    ck_assert_msg(cost[1] * 2 < cost[0],
                  "5 runs slept on a baton %ld times with requests made ahead, %ld without: "
                  "the ring should save at least half of them (about three quarters here)",
                  cost[1], cost[0]);
    free(d[0]);
    free(d[1]);
    gs_model_free(m);
}
END_TEST

/* A C body may branch on anything: it never runs ahead, so gs_now() right
 * after a call is the time that call ended. */
static void now_body(gs_ctx_t *c, void *user)
{
    int64_t *ends = user;
    for (int i = 0; i < 20; i++) {
        gs_cpu(c, US(50));
        ends[i] = gs_now(c);
    }
}

START_TEST(test_ahead_c_bodies_see_each_end)
{
    gs_model_t *m = tu_model(1, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int64_t ends[2][20];
    for (int k = 0; k < 2; k++) {
        int a = gs_model_add_thread(m, "a", 0);
        gs_model_set_body(m, a, now_body, ends[k], NULL);
    }
    tu_thread(m, "spinner", 1, tu_repeat(200, 1, tu_cpu(US(7))));
    gs_trace_t *t = tu_run(m, NULL);
    for (int k = 0; k < 2; k++) {
        /* each call took its 50 us of Python (and more: one core, three
         * threads), so no gs_now() came before its call ended */
        for (int i = 1; i < 20; i++)
            ck_assert_int_ge(ends[k][i] - ends[k][i - 1], US(50));
        ck_assert_int_eq(tu_time_in(t, k, GS_ST_PY), US(50) * 20);
        ck_assert_int_ge(tu_finish(t, k), ends[k][19]);
    }
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

static Suite *ahead_suite(void)
{
    Suite *s = suite_create("ahead");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_ahead_lessons_same_trace);
    tcase_add_test(tc, test_ahead_scenarios_same_trace);
    tcase_add_test(tc, test_ahead_fitted_recordings_same_trace);
    tcase_add_test(tc, test_ahead_saves_hand_offs);
    tcase_add_test(tc, test_ahead_c_bodies_see_each_end);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(ahead_suite());
}
