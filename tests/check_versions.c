/* check_versions.c - python.version presets and the version-specific models:
 * properties that must hold for each version's mechanism. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static gs_model_t *load(const char *text, const char *set, gs_diag_t *d)
{
    gs_model_t *m = NULL;
    gs_override_t ov;
    char buf[128];
    int n = 0;
    if (set) {
        snprintf(buf, sizeof buf, "%s", set);
        ck_assert_int_eq(gs_override_parse(buf, &ov), 0);
        n = 1;
    }
    memset(d, 0, sizeof *d);
    gs_scenario_load_string("t.json", text, strlen(text), n ? &ov : NULL, n, &m, d);
    return m;
}

static const char *two_cpu = "{\"machine\": {\"cores\": 2}, \"python\": {\"switch_interval\": "
                             "\"5ms\"}, \"threads\": [{\"name\": \"w\", \"count\": 2, "
                             "\"program\": [{\"cpu\": \"20ms\"}]}]}";

/* ---- presets ------------------------------------------------------------------ */

START_TEST(test_preset_sets_the_gil_and_explicit_keys_win)
{
    gs_diag_t d;
    gs_model_t *m = load(two_cpu, "python.version=2.7", &d);
    ck_assert_ptr_nonnull(m);
    const gs_python_t *py = &m->processes[0].python;
    ck_assert_int_eq(py->gil, GS_GIL_CPYTHON2);
    ck_assert_int_eq(py->version, 207);
    gs_model_free(m);

    m = load("{\"python\": {\"version\": \"3.13t\", \"slowdown\": 1.2}, \"threads\": "
             "[{\"name\": \"a\", \"program\": [{\"cpu\": \"1ms\"}]}]}",
             NULL, &d);
    ck_assert_ptr_nonnull(m);
    py = &m->processes[0].python;
    ck_assert_int_eq(py->gil, GS_GIL_NONE);
    ck_assert(py->free_threaded);
    ck_assert_int_eq(py->slowdown_pct, 120); /* explicit wins over the preset's 1.40 */
    gs_model_free(m);

    m = load(two_cpu, "python.version=3.14t", &d);
    ck_assert_int_eq(m->processes[0].python.slowdown_pct, 108);
    ck_assert_int_eq(m->processes[0].python.switch_interval_ns, 5000000);
    gs_model_free(m);
}
END_TEST

START_TEST(test_unknown_versions_say_what_is_valid)
{
    gs_diag_t d;
    ck_assert_ptr_null(load(two_cpu, "python.version=3.99", &d));
    ck_assert_int_eq(d.n_total, 1);
    ck_assert_str_eq(d.e[0].path, "python.version");
    ck_assert_ptr_nonnull(strstr(d.e[0].msg, "\"3.14t\""));
    /* 3.10 on a command line is the number 3.1: say how to write it */
    ck_assert_ptr_null(load(two_cpu, "python.version=3.10", &d));
    ck_assert_ptr_nonnull(strstr(d.e[0].msg, "\"3.10\""));
    gs_model_t *m = load(two_cpu, "python.version=\"3.10\"", &d);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->processes[0].python.version, 310);
    gs_model_free(m);
}
END_TEST

/* ---- the Python 2 GIL battle ------------------------------------------------------ */

static double battle_ratio(int cores, int64_t futex_ns)
{
    gs_diag_t d;
    gs_model_t *m = load(two_cpu, "python.version=2.7", &d);
    ck_assert_ptr_nonnull(m);
    m->machine.cores = cores;
    m->processes[0].python.futex_ns = futex_ns;
    gs_trace_t *t = tu_run(m, NULL);
    int64_t end = tu_finish(t, 0) > tu_finish(t, 1) ? tu_finish(t, 0) : tu_finish(t, 1);
    gs_trace_free(t);
    gs_model_free(m);
    return (double)end / (double)MS(40); /* against one thread doing both */
}

START_TEST(test_py27_two_threads_on_two_cores_are_slower_than_serial)
{
    /* The holder pays a futex call per release while the other thread waits:
     * slower than serial by about (period + futex) / period. */
    double r = battle_ratio(2, 1000);
    ck_assert_msg(r > 1.5, "2.7 on two cores: %.2fx serial", r);
    /* the cost comes from the mechanism: without the system call, no loss */
    double free_call = battle_ratio(2, 0);
    ck_assert_msg(free_call < 1.05, "2.7 with a free futex: %.2fx serial", free_call);
    /* a dearer system call costs more */
    ck_assert(battle_ratio(2, 2000) > r);
}
END_TEST

static Suite *versions_suite(void)
{
    Suite *s = suite_create("versions");
    TCase *tc = tcase_create("presets");
    tcase_add_test(tc, test_preset_sets_the_gil_and_explicit_keys_win);
    tcase_add_test(tc, test_unknown_versions_say_what_is_valid);
    suite_add_tcase(s, tc);
    tc = tcase_create("py27");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_py27_two_threads_on_two_cores_are_slower_than_serial);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(versions_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
