/* check_layout.c - the lanes' rows (ui/layout.c) are made in one pass over
 * the lanes (issue 18), and are the rows the old scan made, row for row, on
 * every lesson, the scenarios with processes, compare mode, and random pools
 * whose threads are declared in any order of their processes. */
#include <SDL.h>
#include <check.h>
#include <dirent.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "uitest.h"
#include "view.h"

#define W 1600
#define H 900


static void setup(void)
{
    ui_open(W, H);
}

static void teardown(void)
{
    ui_close();
}

typedef struct ref_row {
    gv_row_kind_t kind;
    int run, lane;
    char text[128];
} ref_row_t;

/* The rows as the layout made them before issue 18: for every process, a
 * scan of every lane for that process's threads (in compare mode a run's
 * lone process has no header of its own: its "A: ..." heads it). */
static int ref_rows(const gv_view_t *v, ref_row_t *out, int max)
{
    int n = 0;
#define ADD(k, r, l, ...)                                                                          \
    do {                                                                                           \
        ck_assert_int_lt(n, max);                                                                  \
        out[n] = (ref_row_t){k, r, l, ""};                                                         \
        snprintf(out[n].text, sizeof out[n].text, __VA_ARGS__);                                    \
        n++;                                                                                       \
    } while (0)
    for (int r = 0; r < v->n_runs; r++) {
        const gs_trace_t *t = v->run[r].trace;
        if (v->n_runs > 1)
            ADD(GV_ROW_HEADER, r, -1, "%c: %.120s", 'A' + r, v->run[r].label);
        for (int p = 0; p < gs_trace_n_processes(t); p++) {
            if (gs_trace_n_processes(t) > 1 || v->n_runs == 1) /* "A: ..." heads a lone one */
                ADD(GV_ROW_HEADER, r, -1, "process %s", gs_trace_process_name(t, p));
            if (gs_trace_gil_lane(t, p) >= 0)
                ADD(GV_ROW_LANE, r, gs_trace_gil_lane(t, p), "%s", "");
            for (int i = 0; i < gs_trace_n_lanes(t); i++) {
                const gs_lane_t *lane = gs_trace_lane(t, i);
                if (lane->kind == GS_LANE_THREAD && lane->process == p)
                    ADD(GV_ROW_LANE, r, i, "%s", "");
            }
        }
        ADD(GV_ROW_HEADER, r, -1, "%s", "cores");
        for (int c = 0; c < gs_trace_n_cores(t); c++)
            ADD(GV_ROW_LANE, r, gs_trace_core_lane(t, c), "%s", "");
    }
#undef ADD
    return n;
}

/* Lays v out (a draw makes the fonts) and compares its rows with ref_rows;
 * returns how many rows were compared. */
static int same_rows(const char *what)
{
    ck_assert_msg(gv_view_draw(&V, R, W, H) == 0, "%s: draw failed: %s", what, V.font_err);
    static ref_row_t ref[4096];
    int n = ref_rows(&V, ref, 4096);
    ck_assert_msg(V.lay.n_rows == n, "%s: %d rows, the scan made %d", what, V.lay.n_rows, n);
    for (int i = 0; i < n; i++) {
        const gv_row_t *row = &V.lay.rows[i];
        ck_assert_msg(row->kind == ref[i].kind && row->run == ref[i].run &&
                          row->lane == ref[i].lane && strcmp(row->text, ref[i].text) == 0,
                      "%s: row %d is (%d, run %d, lane %d, '%s'), the scan made (%d, %d, %d, '%s')",
                      what, i, row->kind, row->run, row->lane, row->text, ref[i].kind, ref[i].run,
                      ref[i].lane, ref[i].text);
        if (i > 0) /* and they are placed top to bottom */
            ck_assert_int_ge(row->y, V.lay.rows[i - 1].y + V.lay.rows[i - 1].h);
    }
    return n;
}

START_TEST(test_layout_rows_are_the_scans_on_every_lesson)
{
    const char *src = getenv("GILSIM_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char dirname[1024], path[1300];
    snprintf(dirname, sizeof dirname, "%s/scenarios", src);
    DIR *d = opendir(dirname);
    ck_assert_ptr_nonnull(d);
    struct dirent *e;
    int files = 0, multi = 0;
    while ((e = readdir(d))) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        snprintf(path, sizeof path, "%s/%s", dirname, e->d_name);
        V.compare = false;
        ck_assert_msg(gv_view_load(&V, path) == 0, "%s: %s", path, V.banner);
        same_rows(e->d_name);
        multi += gs_trace_n_processes(V.run[0].trace) > 1;
        gv_view_set_compare(&V, true); /* two runs stacked */
        ck_assert_int_eq(V.n_runs, 2);
        same_rows(e->d_name);
        files++;
    }
    closedir(d);
    ck_assert_int_ge(files, 19);
    ck_assert_int_ge(multi, 2); /* processes, subinterpreters */
    snprintf(path, sizeof path, "%s/tests/scenario/good/everything.json", src);
    ck_assert_int_eq(gv_view_load(&V, path), 0);
    same_rows("everything.json");
}
END_TEST

static void body(gs_ctx_t *c, void *user)
{
    gs_cpu(c, 1000000 + 100000 * (int64_t)(intptr_t)user);
}

/* A pool of processes whose threads are declared in a random order of their
 * processes (some processes get none): the rows group them by process and
 * keep their order within each. */
START_TEST(test_layout_rows_are_the_scans_for_random_pools)
{
    uint64_t x = 0x9E3779B97F4A7C15ull * (uint64_t)(_i + 1);
#define NEXT() (x = x * 6364136223846793005ull + 1442695040888963407ull, x >> 33)
    int n_proc = 2 + (int)(NEXT() % 12), n_thr = 1 + (int)(NEXT() % 30);
    gs_model_t *m = gs_model_new();
    gs_python_t py;
    gs_python_defaults(&py);
    char name[32];
    for (int p = 1; p < n_proc; p++) {
        snprintf(name, sizeof name, "p%d", p);
        ck_assert_int_ge(gs_model_add_process(m, name, &py), 0);
    }
    for (int i = 0; i < n_thr; i++) {
        snprintf(name, sizeof name, "t%d", i);
        int th = gs_model_add_thread(m, name, (int)(NEXT() % (uint64_t)n_proc));
        ck_assert_int_ge(th, 0);
        gs_model_set_body(m, th, body, (void *)(intptr_t)i, NULL);
    }
#undef NEXT
    gs_trace_t *t = NULL;
    ck_assert_int_eq(gs_sim_run(m, NULL, &t, NULL), 0);
    V.n_runs = 1; /* the view shows this trace, as bench_view does */
    V.run[0].model = m;
    V.run[0].trace = t;
    V.end_ns = gs_trace_end_ns(t);
    gv_view_fit(&V);
    int n = same_rows("random pool");
    /* per process a header, its GIL and its threads; then the cores */
    ck_assert_int_eq(gs_trace_n_processes(t), n_proc);
    ck_assert_int_eq(n, 2 * n_proc + n_thr + 1 + gs_trace_n_cores(t));
}
END_TEST

static Suite *layout_suite(void)
{
    Suite *s = suite_create("layout");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_layout_rows_are_the_scans_on_every_lesson);
    suite_add_tcase(s, core);
    TCase *props = tcase_create("props");
    tcase_add_checked_fixture(props, setup, teardown);
    tcase_set_timeout(props, 120);
    tcase_add_loop_test(props, test_layout_rows_are_the_scans_for_random_pools, 0, 20);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(layout_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
