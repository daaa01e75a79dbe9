/* check_layout.c - the lanes' rows (ui/layout.c) are made in one pass over
 * the lanes (issue 18), and are the rows the old scan made, row for row, on
 * every lesson, the scenarios with processes, compare mode, and random pools
 * whose threads are declared in any order of their processes. The side
 * panel, which lists every thread of a pool and draws only those in view,
 * gives a row out of view the height it has when drawn (the panel scrolls
 * rigidly), the height it keeps per instant is the one measured afresh, and
 * the widths it measures come from a cache that answers what SDL_ttf
 * measures. */
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
#include "tu_main.h"

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

/* The width cache (ui/text.c) answers what a fresh measurement gives, in
 * each style, after it has grown past its first size, and forgets the
 * widths of the old size when the size changes. */
START_TEST(test_text_widths_from_the_cache_are_the_measured_ones)
{
    ui_draw(W, H); /* makes V.text */
    char err[256], s[64];
    int px = gv_text_px(V.text);
    gv_text_t *fresh = gv_text_new(R, px, err, sizeof err);
    ck_assert_msg(fresh != NULL, "%s", err);
    for (int round = 0; round < 2; round++) /* measured, then from the cache */
        for (int i = 0; i < 12000; i++) { /* past the first 4096 slots */
            snprintf(s, sizeof s, "%d. worker-%d \xC2\xB7 I/O %dW", i % 97, i, i % 13);
            gv_style_t st = i % 2 ? GV_BOLD : GV_REGULAR;
            if (round == 0 && i % 7 != 0) {
                gv_text_width(V.text, st, s);
                continue;
            }
            int want = gv_text_width(fresh, st, s);
            ck_assert_int_gt(want, 0);
            ck_assert_msg(gv_text_width(V.text, st, s) == want, "'%s' round %d: %d, measured %d", s,
                          round, gv_text_width(V.text, st, s), want);
        }
    ck_assert_int_gt(gv_text_width(V.text, GV_BOLD, "Blocked (12)"),
                     gv_text_width(V.text, GV_REGULAR, "Blocked (12)"));
    const char *k = "GIL of proc-17 held by";
    int w1 = gv_text_width(V.text, GV_REGULAR, k);
    gv_text_set_px(V.text, px * 2);
    int w2 = gv_text_width(V.text, GV_REGULAR, k);
    ck_assert_msg(w2 > w1 * 3 / 2, "at twice the size '%s' is %d px wide, was %d", k, w2, w1);
    gv_text_set_px(V.text, px);
    ck_assert_int_eq(gv_text_width(V.text, GV_REGULAR, k), w1);
    gv_text_free(fresh);
}
END_TEST

/* The labels drawn in the panel's scrolled window, top to bottom. */
static int panel_labels(gv_text_mark_t *marks, int cap)
{
    int n = 0, k = 0;
    gv_text_record(V.text, marks, cap, &n);
    ui_draw(W, H);
    gv_text_record(V.text, NULL, 0, NULL);
    SDL_Rect pv = V.lay.panel_view;
    for (int i = 0; i < n; i++)
        if (marks[i].box.x >= pv.x && marks[i].box.y >= pv.y &&
            marks[i].box.y + marks[i].box.h <= pv.y + pv.h)
            marks[k++] = marks[i];
    return k;
}

/* V shows a pool of processes whose threads have long names (their rows in
 * the queues take two lines: the name does not fit beside its figure), on
 * two cores, its playhead half way through, where most of them wait for a
 * core or their GIL. */
static void long_name_pool(void)
{
    gs_model_t *m = gs_model_new();
    gs_python_t py;
    gs_python_defaults(&py);
    char name[64];
    for (int p = 1; p < 40; p++) {
        snprintf(name, sizeof name, "proc-%d", p);
        ck_assert_int_ge(gs_model_add_process(m, name, &py), 0);
    }
    for (int i = 0; i < 120; i++) {
        snprintf(name, sizeof name, i % 3 ? "t%d" : "a-thread-with-a-rather-long-name-%d", i);
        int th = gs_model_add_thread(m, name, i % 40);
        ck_assert_int_ge(th, 0);
        gs_model_set_body(m, th, body, (void *)(intptr_t)(i % 17), NULL);
    }
    gs_trace_t *t = NULL;
    ck_assert_int_eq(gs_sim_run(m, NULL, &t, NULL), 0);
    V.n_runs = 1;
    V.run[0].model = m;
    V.run[0].trace = t;
    V.end_ns = gs_trace_end_ns(t);
    gv_view_fit(&V);
    V.playhead = V.end_ns / 2;
}

/* The panel draws only the rows in view and only takes the height of the
 * others (it stops once below the window); scrolling by d moves every label
 * that stays in view by exactly d, none missing, so a row out of view takes
 * the height it has when drawn, and at the end of the scroll the last row
 * is in view. */
START_TEST(test_panel_rows_out_of_view_take_their_drawn_height)
{
    long_name_pool();
    ui_draw(W, H); /* makes V.text */
    static gv_text_mark_t a[2048], b[2048];
    V.lay.panel_scroll = 0;
    int na = panel_labels(a, 2048), moves = 0;
    int max = V.lay.panel_max_scroll, step = V.lay.panel_view.h / 3;
    ck_assert_msg(max > 20 * V.lay.line, "the panel should scroll far: %d px", max);
    bool two_lines = false; /* a key with no figure beside it: its row takes two lines */
    for (int i = 0; i + 1 < na && !two_lines; i++)
        two_lines = strstr(a[i].s, "a-thread-with") && a[i + 1].box.y > a[i].box.y;
    ck_assert_msg(two_lines, "no row of two lines in view");
    for (int from = 0; from < max; from += step) {
        int to = from + step < max ? from + step : max, d = to - from;
        V.lay.panel_scroll = to;
        int nb = panel_labels(b, 2048);
        for (int i = 0; i < nb; i++) {
            if (b[i].box.y + d + b[i].box.h > V.lay.panel_view.y + V.lay.panel_view.h)
                continue; /* not in view before */
            bool found = false;
            for (int j = 0; j < na && !found; j++)
                found = a[j].box.x == b[i].box.x && a[j].box.y == b[i].box.y + d &&
                        strcmp(a[j].s, b[i].s) == 0;
            ck_assert_msg(found, "scrolled from %d to %d: '%s' at y %d was not at y %d", from,
                          to, b[i].s, b[i].box.y, b[i].box.y + d);
            moves++;
        }
        for (int j = 0; j < na; j++) { /* and what stays in view is still drawn */
            if (a[j].box.y - d < V.lay.panel_view.y)
                continue;
            bool found = false;
            for (int i = 0; i < nb && !found; i++)
                found = a[j].box.x == b[i].box.x && a[j].box.y - d == b[i].box.y &&
                        strcmp(a[j].s, b[i].s) == 0;
            ck_assert_msg(found, "scrolled from %d to %d: '%s' at y %d is not drawn at y %d",
                          from, to, a[j].s, a[j].box.y, a[j].box.y - d);
        }
        memcpy(a, b, sizeof a);
        na = nb;
    }
    ck_assert_int_gt(moves, 50);
    /* at the end: the last row of the last list ("Blocked" or "Ready") */
    ck_assert_int_gt(na, 0);
    int bottom = V.lay.panel_view.y + V.lay.panel_view.h;
    ck_assert_msg(a[na - 1].box.y + a[na - 1].box.h > bottom - 2 * V.lay.line,
                  "at the end of the scroll the last label ('%s') ends at %d, the window at %d",
                  a[na - 1].s, a[na - 1].box.y + a[na - 1].box.h, bottom);
}
END_TEST

/* The run keeps its queues at the instant last drawn, and the height their
 * rows took (ui/queues.c), so that a frame at the same instant does not
 * measure them again. Going from state to state (instants, back to an
 * earlier one, a narrower window, larger text, the colour mode), the panel
 * is as tall as when the kept queues are dropped and measured afresh. */
START_TEST(test_panel_height_kept_per_instant_is_the_measured_one)
{
    long_name_pool();
    static const struct {
        int64_t at_pct;
        int w;
        double scale;
        bool by_thread;
    } states[] = {{50, W, 1.0, false}, {50, W, 1.0, false}, {30, W, 1.0, false},
                  {50, W, 1.0, false}, {50, 1100, 1.0, false}, {50, W, 1.0, false},
                  {50, W, 1.3, false}, {50, W, 1.0, false}, {50, W, 1.0, true},
                  {70, 1100, 1.3, true}, {70, W, 1.0, false}};
    int distinct = 0, last = -1;
    for (size_t i = 0; i < sizeof states / sizeof states[0]; i++) {
        V.playhead = V.end_ns * states[i].at_pct / 100;
        V.text_scale = states[i].scale;
        V.color_by_thread = states[i].by_thread;
        ui_draw(states[i].w, H);
        int kept = V.lay.panel_max_scroll;
        gv_queues_free(V.run[0].queues); /* measured afresh */
        V.run[0].queues = NULL;
        ui_draw(states[i].w, H);
        ck_assert_msg(V.lay.panel_max_scroll == kept,
                      "state %zu (at %lld%%, %d px wide, text x%.1f): the panel scrolls %d px "
                      "with the kept height, %d measured afresh",
                      i, (long long)states[i].at_pct, states[i].w, states[i].scale, kept,
                      V.lay.panel_max_scroll);
        distinct += kept != last;
        last = kept;
    }
    ck_assert_msg(distinct >= 4, "the states should give the panel different heights: %d",
                  distinct);
}
END_TEST

static Suite *layout_suite(void)
{
    Suite *s = suite_create("layout");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_layout_rows_are_the_scans_on_every_lesson);
    tcase_add_test(core, test_text_widths_from_the_cache_are_the_measured_ones);
    tcase_add_test(core, test_panel_rows_out_of_view_take_their_drawn_height);
    tcase_add_test(core, test_panel_height_kept_per_instant_is_the_measured_one);
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
    return tu_main(layout_suite());
}
