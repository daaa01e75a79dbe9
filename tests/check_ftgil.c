/* check_ftgil.c - "GIL held" in a free-threaded process (3.13t, 3.14t...).
 *
 * A free-threaded process gets a GIL lane because an import of an extension
 * without Py_mod_gil may switch its GIL on part way (gh-116322; ft.c). Until
 * then no thread holds a GIL: a thread's gil_held_ns counts only its time
 * after the process's gil_enabled instant, GIL utilisation is over the time
 * the GIL existed, and a process whose GIL never came on has none
 * (docs/metrics.md). Checked over seeds on the lessons and on a GIL
 * scenario turned free-threaded with --set, as `gilsim replay --set
 * python.version=3.13t` does. */
#include "testutil.h"
#include "testutil_scenario.h"
#include "tu_main.h"

#include <stdio.h>
#include <string.h>

#define N_SEEDS 6

/* The first gil_enabled instant of process p, INT64_MAX if none. */
static int64_t enabled_at(const gs_trace_t *t, int p)
{
    for (size_t k = 0; k < gs_trace_n_instants(t); k++) {
        const gs_instant_t *x = &gs_trace_instants(t)[k];
        if (x->kind == GS_IN_GIL_ENABLED && x->process == p)
            return x->t_ns;
    }
    return INT64_MAX;
}

/* Thread i's time in a GIL-holding state (python, c_gil, ready or switch
 * flagged as holding) after from: the definition, read off its lane. */
static int64_t holding_after(const gs_trace_t *t, int i, int64_t from)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
    int64_t sum = 0;
    for (size_t k = 0; k < l->n; k++) {
        const gs_interval_t *v = &l->iv[k];
        bool holds =
            v->state == GS_ST_PY || v->state == GS_ST_C_GIL ||
            ((v->state == GS_ST_READY || v->state == GS_ST_SWITCH) && (v->flags & GS_IV_HOLDS_GIL));
        int64_t a = v->start_ns > from ? v->start_ns : from;
        if (holds && v->end_ns > a)
            sum += v->end_ns - a;
    }
    return sum;
}

static void run_seed(tu_result_t *r, const char *file, const char *const *sets, int n_sets,
                     uint64_t seed)
{
    gs_model_t *m = tu_load_lesson(file, sets, n_sets);
    m->seed = seed;
    char what[160];
    snprintf(what, sizeof what, "%s seed %llu", file, (unsigned long long)seed);
    tu_run_stats(r, m, what);
}

/* No import switches the GIL on: no thread holds one, though they run. */
static void check_never_held(const char *file, const char *const *sets, int n_sets)
{
    for (uint64_t seed = 1; seed <= N_SEEDS; seed++) {
        tu_result_t r;
        run_seed(&r, file, sets, n_sets, seed);
        ck_assert_int_eq(enabled_at(r.t, 0), INT64_MAX);
        for (int i = 0; i < r.s.n_threads; i++) {
            ck_assert_msg(r.s.threads[i].cpu_ns > 0, "%s: thread %d never ran", file, i);
            ck_assert_msg(r.s.threads[i].gil_held_ns == 0,
                          "%s seed %d: thread %s holds a GIL for %lld ns on a free-threaded "
                          "build whose GIL never came on",
                          file, (int)seed, r.s.threads[i].name,
                          (long long)r.s.threads[i].gil_held_ns);
        }
        ck_assert_int_eq(r.s.gil_held_ns, 0);
        ck_assert_int_eq(r.s.n_gil_processes, 0);
        ck_assert(r.s.gil_utilisation == 0.0);
        tu_result_free(&r);
    }
}

START_TEST(test_ft_lesson_without_import_holds_no_gil)
{
    check_never_held("15-free-threaded-scales.json", NULL, 0);
    check_never_held("16-free-threaded-shared-dict.json", NULL, 0);
}
END_TEST

/* What `gilsim replay --set python.version=3.13t` does to a fitted
 * scenario (which names no "gil"). A scenario that says "gil": "cpython3"
 * keeps it on the 3.13t binary, as PYTHON_GIL=1 would. */
START_TEST(test_ft_what_if_on_gil_scenario_holds_no_gil)
{
    const char *sets[] = {"python.version=3.13t"};
    check_never_held("02-two-threads.json", sets, 1);
    check_never_held("19-daemon-thread-at-exit.json", sets, 1);
}
END_TEST

/* PYTHON_GIL=0 keeps the GIL off through the import. */
START_TEST(test_ft_python_gil_0_import_holds_no_gil)
{
    const char *sets[] = {"python.PYTHON_GIL=0"};
    check_never_held("17-free-threaded-import.json", sets, 1);
}
END_TEST

/* The import switches the GIL on: each thread's GIL held is exactly its
 * holding time after that instant, not before; the GIL lane's holds equal
 * the threads' (every hold is some thread's); utilisation is over the time
 * after the switch. */
START_TEST(test_ft_import_counts_only_after_the_switch)
{
    for (uint64_t seed = 1; seed <= N_SEEDS; seed++) {
        tu_result_t r;
        run_seed(&r, "17-free-threaded-import.json", NULL, 0, seed);
        int64_t from = enabled_at(r.t, 0);
        ck_assert_msg(from > 0 && from < r.s.makespan_ns, "seed %d: no switch inside the run",
                      (int)seed);
        int64_t sum = 0;
        for (int i = 0; i < r.s.n_threads; i++) {
            const gs_thread_stats_t *ts = &r.s.threads[i];
            ck_assert_msg(ts->gil_held_ns == holding_after(r.t, i, from),
                          "seed %d: %s holds %lld ns, %lld after the switch at %lld", (int)seed,
                          ts->name, (long long)ts->gil_held_ns,
                          (long long)holding_after(r.t, i, from), (long long)from);
            /* before the switch it ran Python without a GIL: not counted */
            ck_assert_int_lt(ts->gil_held_ns, holding_after(r.t, i, 0));
            ck_assert_int_gt(ts->gil_held_ns, 0);
            sum += ts->gil_held_ns;
        }
        ck_assert_int_eq(sum, r.s.gil_held_ns);
        ck_assert_int_eq(r.s.n_gil_processes, 1);
        double u = (double)r.s.gil_held_ns / (double)(r.s.makespan_ns - from);
        ck_assert_double_eq_tol(r.s.gil_utilisation, u, 1e-12);
        ck_assert(r.s.gil_utilisation > 0.9 && r.s.gil_utilisation <= 1.0);
        tu_result_free(&r);
    }
}
END_TEST

/* PYTHON_GIL=1: the same binary with its GIL on from the start. */
START_TEST(test_ft_python_gil_1_holds_from_the_start)
{
    const char *sets[] = {"python.PYTHON_GIL=1"};
    tu_result_t r;
    run_seed(&r, "15-free-threaded-scales.json", sets, 1, 1);
    for (int i = 0; i < r.s.n_threads; i++)
        ck_assert_int_eq(r.s.threads[i].gil_held_ns, holding_after(r.t, i, 0));
    ck_assert_int_gt(r.s.gil_held_ns, 0);
    ck_assert_int_eq(r.s.n_gil_processes, 1);
    tu_result_free(&r);
}
END_TEST

static Suite *ftgil_suite(void)
{
    Suite *s = suite_create("ftgil");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_ft_what_if_on_gil_scenario_holds_no_gil);
    tcase_add_test(core, test_ft_python_gil_0_import_holds_no_gil);
    tcase_add_test(core, test_ft_python_gil_1_holds_from_the_start);
    suite_add_tcase(s, core);
    TCase *props = tcase_create("props");
    tcase_add_test(props, test_ft_lesson_without_import_holds_no_gil);
    tcase_add_test(props, test_ft_import_counts_only_after_the_switch);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(ftgil_suite());
}
