/* check_askhold.c - gil_ask_to_hold_ns is the time from asking for the GIL
 * to holding it, on a simulation as on a recording (issue 14).
 *
 * A recording sees a GIL wait only as its ask and its take, so its lane is
 * `wait_gil` from one to the other, time without a core included. A
 * simulation shows the part of the wait without a core as `ready` or
 * `switch`, which gil_wait_ns leaves out; gil_ask_to_hold_ns counts it back.
 * Here it is measured another way, from the GIL lane: every `wait_gil`
 * interval is an ask that lasts until the thread's next hold on the GIL lane,
 * or its next interval that no GIL wait can be (neither `wait_gil`, `ready`
 * nor `switch`: after a hold of no time, which the GIL lane does not show),
 * or the end of its lane (a wait the run cut); the union of those
 * spans is the thread's ask-to-hold time. Over every lesson, the golden
 * corpus' scenarios and the fitted recordings of tests/data, on their own
 * cores and on one, the two must agree for every thread, and be at most
 * gil_wait_ns + core_wait_ns; some of them must differ from gil_wait_ns, or
 * the test would not tell the two figures apart. On the recordings
 * themselves the two figures are equal. A forced dropper's wait on
 * switch_cond is a `wait_gil` of the model that comes before its next ask
 * (the recording's `ready`): switch_wait() tells it by the instants. */
#include "testutil.h"
#include "testutil_scenario.h"

#include <stdio.h>
#include <stdlib.h>

typedef struct counts {
    int runs, threads, wider; /* wider: ask to hold > gil_wait_ns */
} counts_t;

/* Whether interval k of thread i's lane l (a wait_gil) is a forced
 * dropper's switch_cond wait, which comes before its next ask (a recording
 * shows it as ready): it begins at the thread's forced_switch instant, ends
 * with the thread off a core without the GIL (ready or switch, the GIL lane
 * not giving it a hold there), and no timeout or signal of a GIL wait falls
 * in it (a wait that ran on into an ask would end by one of those). */
static bool switch_wait(const gs_trace_t *t, int i, const gs_lane_t *l, size_t k)
{
    const gs_interval_t *v = &l->iv[k];
    if (k + 1 >= l->n || (l->iv[k + 1].state != GS_ST_READY && l->iv[k + 1].state != GS_ST_SWITCH))
        return false;
    int g = gs_trace_gil_lane(t, l->process);
    const gs_lane_t *gl = gs_trace_lane(t, g);
    size_t h = gs_lane_find(gl, l->iv[k + 1].start_ns);
    if (h < gl->n && gl->iv[h].start_ns <= l->iv[k + 1].start_ns && gl->iv[h].who == i)
        return false; /* it holds the GIL there */
    bool forced = false;
    size_t ni = gs_trace_n_instants(t);
    const gs_instant_t *in = gs_trace_instants(t);
    for (size_t x = 0; x < ni && in[x].t_ns <= v->end_ns; x++) {
        if (in[x].thread != i || in[x].t_ns < v->start_ns)
            continue;
        if (in[x].kind == GS_IN_FORCED_SWITCH && in[x].t_ns == v->start_ns)
            forced = true;
        else if ((in[x].kind == GS_IN_TIMEOUT || in[x].kind == GS_IN_SIGNAL) &&
                 in[x].t_ns > v->start_ns)
            return false;
    }
    return forced;
}

/* Thread i's ask-to-hold time read off the GIL lane. */
static int64_t ask_to_hold_from_gil_lane(const gs_trace_t *t, int i)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
    int g = l->process >= 0 ? gs_trace_gil_lane(t, l->process) : -1;
    if (g < 0 || l->n == 0)
        return 0;
    const gs_lane_t *gl = gs_trace_lane(t, g);
    int64_t lane_end = l->iv[l->n - 1].end_ns;
    int64_t sum = 0, covered = INT64_MIN; /* the union so far ends at covered */
    size_t h = 0;
    for (size_t k = 0; k < l->n; k++) {
        if (l->iv[k].state != GS_ST_WAIT_GIL || switch_wait(t, i, l, k))
            continue;
        int64_t ask = l->iv[k].start_ns;
        while (h < gl->n && (gl->iv[h].start_ns < ask || gl->iv[h].who != i))
            h++;
        int64_t hold = h < gl->n ? gl->iv[h].start_ns : lane_end;
        /* a hold of no time (taken and given back at one instant, as before
         * an I/O call) is not on the GIL lane: the wait ends where the
         * thread does something a GIL wait cannot be */
        for (size_t j = k + 1; j < l->n && l->iv[j].start_ns < hold; j++) {
            unsigned st = l->iv[j].state;
            if (st != GS_ST_WAIT_GIL && st != GS_ST_READY && st != GS_ST_SWITCH) {
                hold = l->iv[j].start_ns;
                break;
            }
        }
        if (ask < covered)
            ask = covered;
        if (hold > ask)
            sum += hold - ask;
        if (hold > covered)
            covered = hold;
    }
    return sum;
}

static void check_trace(const gs_trace_t *t, const char *what, bool recording, counts_t *c)
{
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    for (int i = 0; i < s.n_threads; i++) {
        const gs_thread_stats_t *ts = &s.threads[i];
        int64_t want = ask_to_hold_from_gil_lane(t, i);
        ck_assert_msg(ts->gil_ask_to_hold_ns == want,
                      "%s, thread %s: gil_ask_to_hold_ns %lld, from the GIL lane %lld "
                      "(gil_wait_ns %lld)",
                      what, ts->name, (long long)ts->gil_ask_to_hold_ns, (long long)want,
                      (long long)ts->gil_wait_ns);
        ck_assert_msg(ts->gil_ask_to_hold_ns >= 0 &&
                          ts->gil_ask_to_hold_ns <= ts->gil_wait_ns + ts->core_wait_ns,
                      "%s, thread %s: ask to hold %lld outside [0, gil_wait %lld + core_wait %lld]",
                      what, ts->name, (long long)ts->gil_ask_to_hold_ns,
                      (long long)ts->gil_wait_ns, (long long)ts->core_wait_ns);
        if (recording)
            ck_assert_msg(ts->gil_ask_to_hold_ns == ts->gil_wait_ns,
                          "%s, thread %s: a recording's ask to hold %lld is its wait_gil %lld",
                          what, ts->name, (long long)ts->gil_ask_to_hold_ns,
                          (long long)ts->gil_wait_ns);
        c->threads++;
        c->wider += ts->gil_ask_to_hold_ns > ts->gil_wait_ns;
    }
    c->runs++;
    gs_stats_destroy(&s);
}

/* m run to its end (or wherever it stops) and checked. Frees m. */
static void check_model(gs_model_t *m, const char *what, counts_t *c)
{
    tu_result_t r;
    tu_run_stats(&r, m, what);
    check_trace(r.t, what, false, c);
    tu_result_free(&r);
}

static const char *const one_core[] = {"machine.cores=1"};

START_TEST(test_askhold_lessons)
{
    char names[64][TU_NAME_MAX];
    int n = tu_list_lessons(names, 64);
    ck_assert_int_ge(n, 10);
    counts_t c = {0};
    for (int i = 0; i < n; i++)
        for (int s = 0; s < 2; s++) {
            char what[200];
            snprintf(what, sizeof what, "%.150s%s", names[i], s ? " on one core" : "");
            check_model(tu_load_lesson(names[i], one_core, s), what, &c);
        }
    ck_assert_int_eq(c.runs, 2 * n);
    ck_assert_int_gt(c.wider, 0);
}
END_TEST

static void scenario_file(const char *path, const char *name, void *ctx)
{
    for (int s = 0; s < 2; s++)
        check_model(tu_load(path, NULL, one_core, s, NULL), name, ctx);
}

START_TEST(test_askhold_scenarios)
{
    const char *dirs[] = {"tests/golden/scenarios", "tests/scenario/good"};
    counts_t c = {0};
    int files = tu_each_file(dirs, 2, ".json", scenario_file, &c);
    ck_assert_int_ge(files, 7);
    ck_assert_int_eq(c.runs, 2 * files);
}
END_TEST

/* Each recording that loads: itself, and its fit on its own cores and on
 * one (the hash pools wait for the GIL without a core). */
typedef struct {
    counts_t rec, fit;
    int fitted;
} fits_t;

static void recording_file(const char *path, const char *name, void *ctx)
{
    fits_t *f = ctx;
    gs_model_t *rm = NULL;
    gs_trace_t *rt = NULL;
    gs_error_t err;
    if (gs_recording_load(path, &rm, &rt, &err) == 0)
        check_trace(rt, name, true, &f->rec);
    gs_trace_free(rt);
    gs_model_free(rm);
    char *json = NULL;
    size_t len = 0;
    if (gs_fit_recording(path, NULL, &json, &len, &err) != 0)
        return;
    for (int s = 0; s < 2; s++) {
        char what[300];
        snprintf(what, sizeof what, "%.200s fitted%s", name, s ? ", on one core" : "");
        check_model(tu_load(path, json, one_core, s, NULL), what, &f->fit);
    }
    free(json);
    f->fitted++;
}

START_TEST(test_askhold_recordings)
{
    const char *dirs[] = {"tests/data/fit", "tests/data/reality"};
    fits_t f = {{0}, {0}, 0};
    tu_each_file(dirs, 2, ".rec.json", recording_file, &f);
    ck_assert_int_ge(f.fitted, 10);
    ck_assert_int_ge(f.rec.runs, f.fitted);
    /* recorded waits include their time without a core as wait_gil */
    ck_assert_int_gt(f.rec.threads, 0);
    ck_assert_int_gt(f.fit.wider, 0);
}
END_TEST

static Suite *askhold_suite(void)
{
    Suite *s = suite_create("askhold");
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 600);
    tcase_add_test(props, test_askhold_lessons);
    tcase_add_test(props, test_askhold_scenarios);
    tcase_add_test(props, test_askhold_recordings);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(askhold_suite());
}
