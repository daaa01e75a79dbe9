/* check_tally.c - metrics-only runs (gs_run_opts.metrics_only, what `gilsim
 * sweep` runs) give the metrics of a full trace byte for byte.
 *
 * A metrics-only run keeps no interval: each is summed as it becomes final
 * (sim/base/trace_tally.c), the GIL and core intervals that the makespan may
 * still clip are kept until the end, and stats.c finishes both kinds of run
 * the same way. Over the whole corpus (every lesson, the golden corpus' own
 * scenarios, the loader's examples and the fitted recordings of tests/data),
 * at two seeds, run to the end and stopped early by max_events, by the
 * horizon and by the memory budget, the gs_stats_t of both runs must be the
 * same bytes, every thread's too, and the run must stop at the same event
 * with the same message. */
#include "testutil.h"
#include "testutil_scenario.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct variant {
    const char *what;
    int64_t max_events, until_ns;
    size_t budget;
} variant_t;

static const variant_t variants[] = {
    {"to its end", 0, 0, 0},
    {"max_events 333", 333, 0, 0},
    {"until 1.5 ms", 0, 1500000, 0},
    /* the budget counts what a full trace would hold: both stop at the same
     * event (most corpus runs pass 24 KiB; some pass 160 KiB) */
    {"memory budget 24 KiB", 0, 0, 24 << 10},
    {"memory budget 160 KiB", 0, 0, 160 << 10},
};
#define N_VARIANTS ((int)(sizeof variants / sizeof variants[0]))

typedef struct tally_counts {
    int runs, stopped_by_budget, deadlocks, with_io_samples;
} tally_counts_t;

/* Which metric first differs, for the message. */
static const char *first_diff(const gs_stats_t *a, const gs_stats_t *b, char *buf, size_t n)
{
    int nm;
    const gs_metric_t *ms = gs_metrics_run(&nm);
    for (int i = 0; i < nm; i++) {
        char x[64], y[64];
        gs_metric_format(&ms[i], a, x, sizeof x);
        gs_metric_format(&ms[i], b, y, sizeof y);
        if (strcmp(x, y) != 0) {
            snprintf(buf, n, "%s: %s from the full trace, %s metrics-only", ms[i].key, x, y);
            return buf;
        }
    }
    const gs_metric_t *mt = gs_metrics_thread(&nm);
    for (int k = 0; k < a->n_threads && k < b->n_threads; k++)
        for (int i = 0; i < nm; i++) {
            char x[64], y[64];
            gs_metric_format(&mt[i], &a->threads[k], x, sizeof x);
            gs_metric_format(&mt[i], &b->threads[k], y, sizeof y);
            if (strcmp(x, y) != 0) {
                snprintf(buf, n, "thread %d's %s: %s from the full trace, %s metrics-only", k,
                         mt[i].key, x, y);
                return buf;
            }
        }
    snprintf(buf, n, "a field no metric table shows (the io_to_gil latencies, a mean)");
    return buf;
}

/* The bytes of s with its pointers cleared (memcpy keeps the padding, which
 * gs_stats_compute zeroed). */
static void plain_run(const gs_stats_t *s, gs_stats_t *out)
{
    memcpy(out, s, sizeof *out);
    out->threads = NULL;
}

static void plain_thread(const gs_thread_stats_t *s, gs_thread_stats_t *out)
{
    memcpy(out, s, sizeof *out);
    out->name = NULL;
}

static gs_trace_t *run(const gs_model_t *m, const variant_t *v, bool metrics_only, int *rc)
{
    gs_run_opts_t o;
    gs_run_opts_init(&o);
    o.max_events = v->max_events;
    o.until_ns = v->until_ns;
    if (v->budget)
        o.memory_budget = v->budget;
    o.metrics_only = metrics_only;
    gs_trace_t *t = NULL;
    gs_error_t err;
    *rc = gs_sim_run(m, &o, &t, &err);
    return t;
}

/* m's metrics, full and metrics-only, are the same bytes in every variant. */
static void same_metrics(gs_model_t *m, const char *what, tally_counts_t *c)
{
    for (int v = 0; v < N_VARIANTS; v++) {
        int rc_full, rc_only;
        gs_trace_t *full = run(m, &variants[v], false, &rc_full);
        gs_trace_t *only = run(m, &variants[v], true, &rc_only);
        ck_assert_msg(rc_full == rc_only, "%s (%s, seed %llu): result %d metrics-only, %d full",
                      what, variants[v].what, (unsigned long long)m->seed, rc_only, rc_full);
        ck_assert_msg((full == NULL) == (only == NULL), "%s (%s): a trace from one run only",
                      what, variants[v].what);
        if (!full)
            continue;
        ck_assert_str_eq(gs_trace_message(full), gs_trace_message(only));
        /* a metrics-only trace keeps nothing to draw */
        ck_assert_uint_eq(gs_trace_n_instants(only), 0);
        for (int i = 0; i < gs_trace_n_lanes(only); i++)
            ck_assert_uint_eq(gs_trace_lane(only, i)->n, 0);
        gs_stats_t a, b;
        ck_assert_int_eq(gs_stats_compute(full, &a), 0);
        ck_assert_int_eq(gs_stats_compute(only, &b), 0);
        gs_stats_t pa, pb;
        plain_run(&a, &pa);
        plain_run(&b, &pb);
        char why[256];
        ck_assert_msg(memcmp(&pa, &pb, sizeof pa) == 0, "%s (%s, seed %llu): %s", what,
                      variants[v].what, (unsigned long long)m->seed, first_diff(&a, &b, why, sizeof why));
        for (int k = 0; k < a.n_threads; k++) {
            gs_thread_stats_t ta, tb;
            plain_thread(&a.threads[k], &ta);
            plain_thread(&b.threads[k], &tb);
            ck_assert_msg(memcmp(&ta, &tb, sizeof ta) == 0 &&
                              strcmp(a.threads[k].name, b.threads[k].name) == 0,
                          "%s (%s, seed %llu), thread %s: %s", what, variants[v].what,
                          (unsigned long long)m->seed, a.threads[k].name,
                          first_diff(&a, &b, why, sizeof why));
        }
        c->runs++;
        c->stopped_by_budget += variants[v].budget && a.outcome == GS_OUT_LIMIT;
        c->deadlocks += a.outcome == GS_OUT_DEADLOCK;
        c->with_io_samples += a.io_to_gil.n > 0;
        gs_stats_destroy(&a);
        gs_stats_destroy(&b);
        gs_trace_free(full);
        gs_trace_free(only);
    }
}

/* At the scenario's own seed and at seed 11. */
static void same_metrics_seeds(gs_model_t *m, const char *what, tally_counts_t *c)
{
    same_metrics(m, what, c);
    m->seed = 11;
    same_metrics(m, what, c);
}

START_TEST(test_tally_lessons)
{
    char names[64][TU_NAME_MAX];
    int n = tu_list_lessons(names, 64);
    ck_assert_int_ge(n, 10);
    tally_counts_t c = {0};
    for (int i = 0; i < n; i++) {
        gs_model_t *m = tu_load_lesson(names[i], NULL, 0);
        same_metrics_seeds(m, names[i], &c);
        gs_model_free(m);
    }
    ck_assert_int_eq(c.runs, n * 2 * N_VARIANTS);
    /* the cases that take the deferred path were met */
    ck_assert_int_gt(c.stopped_by_budget, 0);
    ck_assert_int_gt(c.deadlocks, 0);
    ck_assert_int_gt(c.with_io_samples, 0);
}
END_TEST

/* The golden corpus' own scenarios (deadlocks, an until loop stopped at its
 * horizon, thread starts, processes) and the loader's examples. */
static void tally_scenario(const char *path, const char *name, void *ctx)
{
    gs_model_t *m = tu_load(path, NULL, NULL, 0, NULL);
    same_metrics_seeds(m, name, ctx);
    gs_model_free(m);
}

START_TEST(test_tally_scenarios)
{
    const char *dirs[] = {"tests/golden/scenarios", "tests/scenario/good"};
    tally_counts_t c = {0};
    int files = tu_each_file(dirs, 2, ".json", tally_scenario, &c);
    ck_assert_int_ge(files, 7);
    ck_assert_int_eq(c.runs, files * 2 * N_VARIANTS);
}
END_TEST

/* Every recording of tests/data that fits (the broken ones are the fitter's
 * bad input), at its recorded settings and at a 1 ms interval: queues, C
 * calls, sockets, the other load's daemon threads, repeat blocks. */
typedef struct {
    tally_counts_t c;
    int fitted;
} tally_fits_t;

static void tally_recording(const char *path, const char *name, void *ctx)
{
    tally_fits_t *f = ctx;
    char *json = NULL;
    size_t len = 0;
    gs_error_t err;
    if (gs_fit_recording(path, NULL, &json, &len, &err) != 0)
        return;
    const char *sets[] = {"python.switch_interval=1ms"};
    for (int s = 0; s < 2; s++) {
        gs_model_t *m = tu_load(path, json, sets, s, NULL);
        same_metrics_seeds(m, name, &f->c);
        gs_model_free(m);
    }
    free(json);
    f->fitted++;
}

START_TEST(test_tally_fitted_recordings)
{
    const char *dirs[] = {"tests/data/fit", "tests/data/reality"};
    tally_fits_t f = {{0}, 0};
    tu_each_file(dirs, 2, ".rec.json", tally_recording, &f);
    ck_assert_int_ge(f.fitted, 10);
    ck_assert_int_eq(f.c.runs, f.fitted * 2 * 2 * N_VARIANTS);
    ck_assert_int_gt(f.c.stopped_by_budget, 0);
}
END_TEST

static Suite *tally_suite(void)
{
    Suite *s = suite_create("tally");
    /* over every lesson, scenario and recording: metrics-only = full, byte for byte */
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 600);
    tcase_add_test(props, test_tally_lessons);
    tcase_add_test(props, test_tally_scenarios);
    tcase_add_test(props, test_tally_fitted_recordings);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(tally_suite());
}
