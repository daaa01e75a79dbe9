/* check_real.c - a recording beside the model of it (issue 14): `gilsim-view
 * REC --replay` (B fitted to REC) and `--compare-with REC SCENARIO.json`
 * stack the two on one time axis, thread lanes aligned by name, the knobs
 * act on B only, and each run's title says what it is. Without a window:
 * SDL's dummy video driver, a software renderer on a surface. */
#include <SDL.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "uitest.h"
#include "view.h"

#define W 1600
#define H 900

static char rec[1024], scen[64];

static void setup(void)
{
    ui_open(W, H);
    const char *src = getenv("GILSIM_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    snprintf(rec, sizeof rec, "%s/tests/data/fit/queue.rec.json", src);
    scen[0] = 0;
}

static void teardown(void)
{
    if (scen[0])
        remove(scen);
    ui_close();
}

/* The names of run's thread rows, top to bottom, joined by spaces. */
static void thread_rows(int run, char *buf, size_t n)
{
    buf[0] = 0;
    for (int i = 0; i < V.lay.n_rows; i++) {
        const gv_row_t *row = &V.lay.rows[i];
        const gs_lane_t *lane =
            row->kind == GV_ROW_LANE ? gs_trace_lane(V.run[run].trace, row->lane) : NULL;
        if (row->run == run && lane && lane->kind == GS_LANE_THREAD) {
            size_t used = strlen(buf);
            snprintf(buf + used, n - used, "%s%s", used ? " " : "", lane->name);
        }
    }
}

START_TEST(test_replay_stacks_the_recording_and_its_fit)
{
    ck_assert_int_eq(gv_view_set_real(&V, rec, true), 0);
    ck_assert_int_eq(gv_view_load(&V, rec), 0);
    ck_assert_int_eq(V.n_runs, 2);
    ck_assert(V.compare);
    /* titles: what each run is */
    ck_assert_msg(strncmp(V.run[0].label, "recorded: ", 10) == 0, "%s", V.run[0].label);
    ck_assert_msg(strstr(V.run[0].label, "Python 3."), "%s", V.run[0].label);
    ck_assert_msg(strncmp(V.run[1].label, "replay: ", 8) == 0, "%s", V.run[1].label);
    ck_assert_msg(strstr(V.run[1].label, "interval"), "%s", V.run[1].label);
    ui_draw(W, H);
    ck_assert_msg(strstr(V.lay.rows[0].text, "A: recorded: ") == V.lay.rows[0].text, "%s",
                  V.lay.rows[0].text);
    /* the fitter keeps the names: one lane per real thread, in A's order */
    char a[512], b[512];
    thread_rows(0, a, sizeof a);
    thread_rows(1, b, sizeof b);
    ck_assert_str_eq(a, "MainThread producer consumer");
    ck_assert_str_eq(b, a);
    /* one time axis: the view covers the longer of the two */
    int64_t ea = gs_trace_end_ns(V.run[0].trace), eb = gs_trace_end_ns(V.run[1].trace);
    ck_assert_int_eq(V.end_ns, ea > eb ? ea : eb);
}
END_TEST

START_TEST(test_replay_knobs_act_on_the_model_only)
{
    ck_assert_int_eq(gv_view_set_real(&V, rec, true), 0);
    ck_assert_int_eq(gv_view_load(&V, rec), 0);
    int cores_a = V.run[0].model->machine.cores, cores_b = V.run[1].model->machine.cores;
    int64_t iv_b = V.run[1].model->processes[0].python.switch_interval_ns;
    int64_t iv_a = V.run[0].model->processes[0].python.switch_interval_ns;
    ck_assert_ptr_eq(gv_view_knobs(&V), &V.knobs_b);
    ui_key(SDLK_k, 0);           /* one more core */
    ui_key(SDLK_i, KMOD_LSHIFT); /* a shorter switch interval */
    ck_assert_int_eq(V.n_runs, 2);
    ck_assert_int_eq(V.run[1].model->machine.cores, cores_b + 1);
    ck_assert_int_lt(V.run[1].model->processes[0].python.switch_interval_ns, iv_b);
    ck_assert_int_eq(V.run[0].model->machine.cores, cores_a); /* what happened stays */
    ck_assert_msg(strncmp(V.run[1].label, "replay: ", 8) == 0, "%s", V.run[1].label);
    /* Tab: no knobs for a recording; C: the two stay stacked */
    ui_key(SDLK_TAB, 0);
    ck_assert_ptr_eq(gv_view_knobs(&V), &V.knobs_b);
    ck_assert_msg(strstr(V.banner, "A is the recording"), "%s", V.banner);
    ui_key(SDLK_c, 0);
    ck_assert_int_eq(V.n_runs, 2);
    ck_assert_msg(strstr(V.banner, "stay stacked"), "%s", V.banner);
    /* U: B back to the fitted settings */
    ui_key(SDLK_u, 0);
    ck_assert_int_eq(V.run[1].model->machine.cores, cores_b);
    /* --set acts on B too (a reload keeps the mode) */
    ck_assert_int_eq(gv_view_add_set(&V, "python.switch_interval=20ms"), 0);
    ck_assert_int_eq(gv_view_reload(&V), 0);
    ck_assert_int_eq(V.run[1].model->processes[0].python.switch_interval_ns, 20000000);
    ck_assert_int_eq(V.run[0].model->processes[0].python.switch_interval_ns, iv_a);
    ck_assert_msg(strstr(V.run[0].label, "interval 20 ms") == NULL, "%s", V.run[0].label);
    /* another file ends it: one run again */
    ck_assert_int_eq(gv_view_load(&V, NULL), 0);
    ck_assert_int_eq(V.n_runs, 1);
    ck_assert_ptr_null(V.real);
    ck_assert(!V.compare);
}
END_TEST

START_TEST(test_compare_with_aligns_threads_by_name)
{
    /* the scenario declares the threads in another order, and one more */
    snprintf(scen, sizeof scen, "/tmp/gilsim-real-XXXXXX.json");
    int fd = mkstemps(scen, 5);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fputs("{\"name\": \"by hand\", \"threads\": ["
          "{\"name\": \"extra\", \"program\": [{\"cpu\": \"1ms\"}]},"
          "{\"name\": \"consumer\", \"program\": [{\"cpu\": \"2ms\"}]},"
          "{\"name\": \"MainThread\", \"program\": [{\"cpu\": \"3ms\"}]},"
          "{\"name\": \"producer\", \"program\": [{\"io\": \"2ms\"}, {\"cpu\": \"1ms\"}]}]}",
          f);
    fclose(f);
    ck_assert_int_eq(gv_view_set_real(&V, rec, false), 0);
    ck_assert_int_eq(gv_view_load(&V, scen), 0);
    ck_assert_int_eq(V.n_runs, 2);
    ck_assert_msg(strncmp(V.run[1].label, "simulated (gilsim-real-", 23) == 0, "%s",
                  V.run[1].label);
    ui_draw(W, H);
    char a[512], b[512];
    thread_rows(0, a, sizeof a);
    thread_rows(1, b, sizeof b);
    ck_assert_str_eq(a, "MainThread producer consumer");
    ck_assert_str_eq(b, "MainThread producer consumer extra");
    /* the file is B's: a knob changes B, and the file stays the one watched */
    ui_key(SDLK_k, 0);
    ck_assert_int_eq(V.run[1].model->machine.cores, 3);
    ck_assert_str_eq(V.path, scen);
}
END_TEST

START_TEST(test_replay_of_a_truncated_recording_says_why)
{
    char bad[1100];
    snprintf(bad, sizeof bad, "%s/tests/data/fit/truncated.rec.json", getenv("GILSIM_SOURCE_DIR"));
    ck_assert_int_eq(gv_view_set_real(&V, bad, true), 0);
    ck_assert_int_ne(gv_view_load(&V, bad), 0);
    ck_assert_int_eq(V.n_runs, 0);
    ck_assert(V.banner_error);
    ck_assert_msg(strstr(V.banner, "truncated.rec.json"), "%s", V.banner);
    ui_draw(W, H); /* and the window still draws */
}
END_TEST

static Suite *real_suite(void)
{
    Suite *s = suite_create("real");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_replay_stacks_the_recording_and_its_fit);
    tcase_add_test(core, test_replay_knobs_act_on_the_model_only);
    tcase_add_test(core, test_compare_with_aligns_threads_by_name);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_add_checked_fixture(limits, setup, teardown);
    tcase_set_timeout(limits, 120);
    tcase_add_test(limits, test_replay_of_a_truncated_recording_says_why);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(real_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
