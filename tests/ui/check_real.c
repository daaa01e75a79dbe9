/* check_real.c - a recording beside the model of it (issue 14): `gilsim-view
 * REC --replay` (B fitted to REC) and `--compare-with REC SCENARIO.json`
 * stack the recording (A), the model at its own settings (B) and, once a
 * knob or --set asks, the what-if (C) on one time axis, thread lanes
 * aligned by name; the knobs act on C only, each run's title says what it
 * is, the three fit a 720p projector without overlapping, and the panel's
 * summary stays in view while the rest scrolls. Without a window: SDL's
 * dummy video driver, a software renderer on a surface. */
#include <SDL.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "run.h"
#include "uitest.h"
#include "view.h"
#include "tu_main.h"

#define W 1600
#define H 900
#define SURF_W 1920 /* the surface: room for 1080p; the default draws are W x H */
#define SURF_H 1080

static char rec[1024], scen[64];

static void setup(void)
{
    ui_open(SURF_W, SURF_H);
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

/* Writes a scenario "by hand" with these threads (the items of its
 * "threads" array) to scen, a temporary file teardown removes, and loads it
 * beside the recording, as `--compare-with REC scen` does. */
static void compare_with(const char *threads)
{
    snprintf(scen, sizeof scen, "/tmp/gilsim-real-XXXXXX.json");
    int fd = mkstemps(scen, 5);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"name\": \"by hand\", \"threads\": [%s]}", threads);
    fclose(f);
    ck_assert_int_eq(gv_view_set_real(&V, rec, false), 0);
    ck_assert_int_eq(gv_view_load(&V, scen), 0);
}

/* Shows a recording and its replay, as `gilsim-view REC --replay` does:
 * the recording under the source tree at path, or (NULL) rec. */
static void replay(const char *path)
{
    static char file[1100];
    if (path)
        snprintf(file, sizeof file, "%s/%s", getenv("GILSIM_SOURCE_DIR"), path);
    else
        snprintf(file, sizeof file, "%s", rec);
    ck_assert_int_eq(gv_view_set_real(&V, file, true), 0);
    ck_assert_int_eq(gv_view_load(&V, file), 0);
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

/* The header row of run `run` ("A: ..."), or NULL. */
static const gv_row_t *run_header(int run)
{
    for (int i = 0; i < V.lay.n_rows; i++)
        if (V.lay.rows[i].kind == GV_ROW_HEADER && V.lay.rows[i].run == run &&
            V.lay.rows[i].text[1] == ':')
            return &V.lay.rows[i];
    return NULL;
}

/* The figures of a run that must not move when only the what-if's knobs do. */
typedef struct fixed {
    int cores, gil, policy;
    int64_t interval, end, makespan, switches;
} fixed_t;

static fixed_t fixed_of(int run)
{
    const gs_model_t *m = V.run[run].model;
    return (fixed_t){m->machine.cores,
                     m->processes[0].python.gil,
                     m->machine.policy,
                     m->processes[0].python.switch_interval_ns,
                     gs_trace_end_ns(V.run[run].trace),
                     V.run[run].stats.makespan_ns,
                     V.run[run].stats.gil_switches};
}

static void same_fixed(fixed_t a, fixed_t b, const char *after)
{
    ck_assert_msg(a.cores == b.cores && a.gil == b.gil && a.policy == b.policy &&
                      a.interval == b.interval && a.end == b.end && a.makespan == b.makespan &&
                      a.switches == b.switches,
                  "after %s a run that must stay moved: cores %d/%d gil %d/%d policy %d/%d "
                  "interval %lld/%lld end %lld/%lld switches %lld/%lld",
                  after, a.cores, b.cores, a.gil, b.gil, a.policy, b.policy, (long long)a.interval,
                  (long long)b.interval, (long long)a.end, (long long)b.end, (long long)a.switches,
                  (long long)b.switches);
}

static gv_text_mark_t drawn[2048];
static int n_drawn;

/* Draws, recording every label into drawn (n_drawn of them). */
static void draw_labels(void)
{
    n_drawn = 0;
    ui_draw(W, H);
    gv_text_record(V.text, drawn, 2048, &n_drawn);
    ui_draw(W, H);
    gv_text_record(V.text, NULL, 0, NULL);
    ck_assert_int_gt(V.lay.panel_pinned.h, 0);
}

/* Is a label s drawn in the panel's pinned part (the summary)? */
static bool pinned_label(int i, const char *s)
{
    return strcmp(drawn[i].s, s) == 0 && drawn[i].box.y >= V.lay.panel_pinned.y &&
           drawn[i].box.x >= V.lay.panel.x;
}

/* Which words head the columns of the panel's summary table (drawn in its
 * pinned part): bit 0 "real", 1 "replay", 2 "simulated", 3 "what-if",
 * 4 "model" (the viewer's old word for B, which gilsim replay calls the
 * replay). */
static int summary_heads(void)
{
    static const char *const words[] = {"real", "replay", "simulated", "what-if", "model"};
    int got = 0;
    draw_labels();
    for (int i = 0; i < n_drawn; i++)
        for (int w = 0; w < 5; w++)
            if (pinned_label(i, words[w]))
                got |= 1 << w;
    return got;
}

/* Is s a label of the summary table? */
static bool summary_has(const char *s)
{
    draw_labels();
    for (int i = 0; i < n_drawn; i++)
        if (pinned_label(i, s))
            return true;
    return false;
}

/* A recording opened alone: its summary's "cores busy" says the recording
 * has no core lanes, as `gilsim run REC` prints "cores not recorded",
 * rather than a 0 % read off lanes that are not there. */
START_TEST(test_a_recording_alone_has_its_cores_not_recorded)
{
    ck_assert_int_eq(gv_view_load(&V, rec), 0);
    ck_assert_int_eq(V.n_runs, 1);
    n_drawn = 0;
    ui_draw(W, H);
    gv_text_record(V.text, drawn, 2048, &n_drawn);
    ui_draw(W, H);
    gv_text_record(V.text, NULL, 0, NULL);
    int key = -1;
    for (int i = 0; i < n_drawn && key < 0; i++)
        if (strcmp(drawn[i].s, "cores busy") == 0)
            key = i;
    ck_assert_msg(key >= 0, "no 'cores busy' row in the summary");
    bool said = false;
    for (int i = 0; i < n_drawn; i++)
        if (drawn[i].box.y == drawn[key].box.y && drawn[i].box.x > drawn[key].box.x) {
            ck_assert_msg(strcmp(drawn[i].s, "not recorded") == 0, "cores busy: '%s'", drawn[i].s);
            said = true;
        }
    ck_assert_msg(said, "no value beside 'cores busy'");
}
END_TEST

START_TEST(test_replay_stacks_the_recording_and_its_fit)
{
    replay(NULL);
    ck_assert_int_eq(V.n_runs, 2); /* no what-if before a knob or --set asks */
    ck_assert(V.compare);
    ck_assert(!gv_view_has_what_if(&V));
    /* titles: what each run is */
    ck_assert_msg(strncmp(V.run[0].label, "recorded: ", 10) == 0, "%s", V.run[0].label);
    ck_assert_msg(strstr(V.run[0].label, "Python 3."), "%s", V.run[0].label);
    ck_assert_msg(strncmp(V.run[1].label, "replay, as recorded: ", 21) == 0, "%s", V.run[1].label);
    ck_assert_msg(strstr(V.run[1].label, "interval"), "%s", V.run[1].label);
    ui_draw(W, H);
    ck_assert_msg(strstr(V.lay.rows[0].text, "A: recorded: ") == V.lay.rows[0].text, "%s",
                  V.lay.rows[0].text);
    /* C's place says how to get it, in one line */
    const gv_row_t *c = run_header(2);
    ck_assert_ptr_nonnull(c);
    ck_assert_msg(strncmp(c->text, "C: what-if: turn a knob", 23) == 0, "%s", c->text);
    ck_assert_int_eq(c->h, V.lay.line);
    /* the recording's cores: one line, no empty lanes */
    for (int i = 0; i < V.lay.n_rows; i++)
        ck_assert(!(V.lay.rows[i].run == 0 && V.lay.rows[i].kind == GV_ROW_LANE &&
                    gs_trace_lane(V.run[0].trace, V.lay.rows[i].lane)->kind == GS_LANE_CORE));
    /* the fitter keeps the names: one lane per real thread, in A's order */
    char a[512], b[512];
    thread_rows(0, a, sizeof a);
    thread_rows(1, b, sizeof b);
    ck_assert_str_eq(a, "MainThread producer consumer");
    ck_assert_str_eq(b, a);
    /* one time axis: the view covers the longer of the two */
    int64_t ea = gs_trace_end_ns(V.run[0].trace), eb = gs_trace_end_ns(V.run[1].trace);
    ck_assert_int_eq(V.end_ns, ea > eb ? ea : eb);
    /* the summary's columns use gilsim replay's words: real, replay */
    ck_assert_int_eq(summary_heads(), 1 << 0 | 1 << 1);
    /* and its switches are per second, as gilsim replay gives them */
    char rate[32];
    snprintf(rate, sizeof rate, "%.0f/s",
             (double)V.run[1].stats.gil_switches * 1e9 / (double)V.run[1].stats.makespan_ns);
    ck_assert_msg(summary_has(rate), "no '%s' in the summary", rate);
    /* and the rows have its names and formats: a figure read off the window
       is the one `gilsim replay` prints (51.9%, not 52 %) */
    ck_assert(summary_has("makespan"));
    ck_assert(summary_has("GIL utilisation"));
    char util[32];
    snprintf(util, sizeof util, "%.1f%%", 100 * V.run[1].stats.gil_utilisation);
    ck_assert_msg(summary_has(util), "no '%s' in the summary", util);
    ui_key(SDLK_TAB, 0); /* and Tab's notice names B the same way */
    ck_assert_msg(strstr(V.banner, "B its replay at the recorded settings"), "%s", V.banner);
}
END_TEST

/* The third pane follows every knob; the recording and the model at the
 * recorded settings (the trust check) do not move, figure for figure. */
START_TEST(test_what_if_follows_the_knobs_the_model_does_not)
{
    replay(NULL);
    fixed_t a0 = fixed_of(0), b0 = fixed_of(1);
    ck_assert_ptr_eq(gv_view_knobs(&V), &V.knobs_b);
    /* the knob bar starts from the model's settings */
    ck_assert_int_eq(V.knobs_b.cores, b0.cores);
    ck_assert_int_eq(V.knobs_b.interval_ns, b0.interval);
    struct {
        SDL_Keycode k;
        uint16_t mod;
        const char *what;
    } keys[] = {{SDLK_k, 0, "cores"}, {SDLK_i, KMOD_LSHIFT, "interval"},
                {SDLK_k, 0, "cores"}, {SDLK_p, 0, "policy"},
                {SDLK_g, 0, "GIL"},   {SDLK_i, 0, "interval"}};
    int cores = b0.cores;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        gv_knobs_t before = V.knobs_b;
        ui_key(keys[i].k, keys[i].mod);
        ck_assert_int_eq(V.n_runs, 3);
        ck_assert(gv_view_has_what_if(&V));
        const gs_model_t *c = V.run[2].model;
        cores += keys[i].k == SDLK_k;
        ck_assert_int_eq(c->machine.cores, cores);
        if (keys[i].k == SDLK_i && keys[i].mod)
            ck_assert_int_lt(c->processes[0].python.switch_interval_ns, before.interval_ns);
        if (keys[i].k == SDLK_i && !keys[i].mod)
            ck_assert_int_gt(c->processes[0].python.switch_interval_ns, before.interval_ns);
        if (keys[i].k == SDLK_p)
            ck_assert_int_ne(c->machine.policy, before.policy);
        if (keys[i].k == SDLK_g)
            ck_assert_int_ne(c->processes[0].python.gil, before.gil);
        ck_assert_msg(strncmp(V.run[2].label, "what-if (", 9) == 0, "%s", V.run[2].label);
        ck_assert_msg(strstr(V.run[2].label, "cores"), "%s", V.run[2].label);
        same_fixed(fixed_of(0), a0, keys[i].what);
        same_fixed(fixed_of(1), b0, keys[i].what);
        ck_assert_msg(strncmp(V.run[1].label, "replay, as recorded: ", 21) == 0, "%s",
                      V.run[1].label);
    }
    ui_draw(W, H);
    const gv_row_t *header = run_header(2);
    ck_assert_ptr_nonnull(header);
    ck_assert_msg(strncmp(header->text, "C: what-if (", 12) == 0, "%s", header->text);
    /* Tab: no knobs for the recording, nor for the check; C: all stay stacked */
    ui_key(SDLK_TAB, 0);
    ck_assert_ptr_eq(gv_view_knobs(&V), &V.knobs_b);
    ck_assert_msg(strstr(V.banner, "A is the recording"), "%s", V.banner);
    ui_key(SDLK_c, 0);
    ck_assert_int_eq(V.n_runs, 3);
    ck_assert_msg(strstr(V.banner, "stay stacked"), "%s", V.banner);
    /* U: no what-if left, its place says how again */
    ui_key(SDLK_u, 0);
    ck_assert_int_eq(V.n_runs, 2);
    ck_assert_int_eq(V.knobs_b.cores, b0.cores);
    same_fixed(fixed_of(1), b0, "U");
    /* --set is a what-if too (a reload keeps the mode) */
    ck_assert_int_eq(gv_view_add_set(&V, "python.switch_interval=20ms"), 0);
    ck_assert_int_eq(gv_view_reload(&V), 0);
    ck_assert_int_eq(V.n_runs, 3);
    ck_assert_int_eq(V.run[2].model->processes[0].python.switch_interval_ns, 20000000);
    ck_assert_msg(strstr(V.run[2].label, "python.switch_interval=20ms"), "%s", V.run[2].label);
    same_fixed(fixed_of(1), b0, "--set");
    same_fixed(fixed_of(0), a0, "--set");
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
    compare_with("{\"name\": \"extra\", \"program\": [{\"cpu\": \"1ms\"}]},"
                 "{\"name\": \"consumer\", \"program\": [{\"cpu\": \"2ms\"}]},"
                 "{\"name\": \"MainThread\", \"program\": [{\"cpu\": \"3ms\"}]},"
                 "{\"name\": \"producer\", \"program\": [{\"io\": \"2ms\"}, {\"cpu\": \"1ms\"}]}");
    ck_assert_int_eq(V.n_runs, 2);
    ck_assert_msg(strncmp(V.run[1].label, "simulated (gilsim-real-", 23) == 0, "%s",
                  V.run[1].label);
    ck_assert_msg(strstr(V.run[1].label, "as written"), "%s", V.run[1].label);
    /* the file is the model's: a knob makes the what-if, and the file stays
     * the one watched */
    ui_key(SDLK_k, 0);
    ck_assert_int_eq(V.n_runs, 3);
    ck_assert_int_eq(V.run[2].model->machine.cores, 3);
    ck_assert_int_eq(V.run[1].model->machine.cores, 2);
    ck_assert_str_eq(V.path, scen);
    ui_draw(W, H);
    char a[512], b[512], c[512];
    thread_rows(0, a, sizeof a);
    thread_rows(1, b, sizeof b);
    thread_rows(2, c, sizeof c);
    ck_assert_str_eq(a, "MainThread producer consumer");
    ck_assert_str_eq(b, "MainThread producer consumer extra");
    ck_assert_str_eq(c, b);
}
END_TEST

/* A click on a thread of any pane selects that thread in all three: the
 * same name, whatever its index in each run. */
START_TEST(test_a_selection_is_the_same_thread_in_every_pane)
{
    compare_with("{\"name\": \"consumer\", \"program\": [{\"cpu\": \"2ms\"}]},"
                 "{\"name\": \"producer\", \"program\": [{\"io\": \"2ms\"}, {\"cpu\": \"1ms\"}]},"
                 "{\"name\": \"MainThread\", \"program\": [{\"cpu\": \"3ms\"}]}");
    ui_key(SDLK_k, 0);
    ck_assert_int_eq(V.n_runs, 3);
    ui_draw(W, H);
    for (int pane = 0; pane < 3; pane++)
        for (int i = 0; i < V.lay.n_rows; i++) {
            const gv_row_t *row = &V.lay.rows[i];
            if (row->kind != GV_ROW_LANE || row->run != pane)
                continue;
            const gs_lane_t *lane = gs_trace_lane(V.run[pane].trace, row->lane);
            if (lane->kind != GS_LANE_THREAD)
                continue;
            SDL_Event e;
            memset(&e, 0, sizeof e);
            e.type = SDL_MOUSEBUTTONDOWN;
            e.button.button = SDL_BUTTON_LEFT;
            e.button.x = V.lay.labels.x + 4;
            e.button.y = row->y + row->h / 2;
            ui_send(e);
            e.type = SDL_MOUSEBUTTONUP;
            ui_send(e);
            for (int r = 0; r < 3; r++) {
                int th = gv_view_thread_in(&V, r);
                ck_assert_int_ge(th, 0);
                const gs_trace_t *t = V.run[r].trace;
                ck_assert_str_eq(gs_trace_lane(t, gs_trace_thread_lane(t, th))->name, lane->name);
            }
        }
}
END_TEST

/* The pinned summary compares the runs thread by thread: each thread's row
 * holds its GIL wait in A, B and C, found by name (B and C declare the
 * threads in another order, and one A has not: a dash for A). */
START_TEST(test_summary_compares_each_thread_by_name)
{
    compare_with("{\"name\": \"extra\", \"program\": [{\"cpu\": \"12ms\"}]},"
                 "{\"name\": \"consumer\", \"program\": [{\"cpu\": \"2ms\"}, {\"io\": \"1ms\"}, "
                 "{\"cpu\": \"2ms\"}]},"
                 "{\"name\": \"MainThread\", \"program\": [{\"cpu\": \"12ms\"}]},"
                 "{\"name\": \"producer\", \"program\": [{\"io\": \"2ms\"}, {\"cpu\": \"4ms\"}]}");
    ui_key(SDLK_k, KMOD_LSHIFT); /* one core: the what-if differs */
    ck_assert_int_eq(V.n_runs, 3);
    /* B is the file as written, not a replay: its column says so */
    ck_assert_int_eq(summary_heads(), 1 << 0 | 1 << 2 | 1 << 3);
    static gv_text_mark_t marks[2048];
    int n = 0;
    ui_draw(W, H);
    gv_text_record(V.text, marks, 2048, &n);
    ui_draw(W, H);
    gv_text_record(V.text, NULL, 0, NULL);
    SDL_Rect pin = V.lay.panel_pinned;
    ck_assert_int_gt(pin.h, 0);
    const char *names[] = {"MainThread", "producer", "consumer", "extra"};
    int differ = 0, ask_differs = 0;
    for (size_t t = 0; t < 4; t++) {
        int row = -1;
        for (int i = 0; i < n && row < 0; i++)
            if (strcmp(marks[i].s, names[t]) == 0 && marks[i].box.y >= pin.y &&
                marks[i].box.x >= V.lay.panel.x)
                row = i;
        ck_assert_msg(row >= 0, "no row for %s in the summary", names[t]);
        char want[3][32];
        for (int r = 0; r < 3; r++) {
            snprintf(want[r], sizeof want[r], "\xE2\x80\x94");
            for (int k = 0; k < V.run[r].stats.n_threads; k++)
                if (strcmp(V.run[r].stats.threads[k].name, names[t]) == 0) {
                    const gs_thread_stats_t *ts = &V.run[r].stats.threads[k];
                    gv_fmt_dur(want[r], sizeof want[r], ts->gil_ask_to_hold_ns);
                    char old[32];
                    gv_fmt_dur(old, sizeof old, ts->gil_wait_ns);
                    ask_differs += strcmp(old, want[r]) != 0;
                }
        }
        differ += strcmp(want[1], want[2]) != 0;
        int got = 0, x = marks[row].box.x;
        for (;; got++) { /* the values on its line, left to right */
            int next = -1;
            for (int i = 0; i < n; i++)
                if (marks[i].box.y == marks[row].box.y && marks[i].box.x > x &&
                    (next < 0 || marks[i].box.x < marks[next].box.x))
                    next = i;
            if (next < 0)
                break;
            ck_assert_int_lt(got, 3);
            ck_assert_msg(strcmp(marks[next].s, want[got]) == 0, "%s, run %c: '%s', want '%s'",
                          names[t], 'A' + got, marks[next].s, want[got]);
            x = marks[next].box.x;
        }
        ck_assert_int_eq(got, 3);
    }
    ck_assert_int_gt(differ, 0); /* the test tells the columns apart */
    /* beside a recording the wait is gilsim replay's, ask to hold (a thread
     * without a core inside its GIL wait counts it), not gil_wait_ns */
    ck_assert_int_gt(ask_differs, 0);
}
END_TEST

/* Every label the picture draws (gv_text_record), checked: inside the
 * w x h window, and no two overlapping. */
static void no_label_overlaps(int w, int h, const char *what)
{
    static gv_text_mark_t marks[4096];
    int n = 0;
    V.banner[0] = 0; /* a knob's notice lies over the legend for 4 s, on purpose */
    ui_draw(w, h);   /* fonts and layout */
    gv_text_record(V.text, marks, 4096, &n);
    ui_draw(w, h);
    gv_text_record(V.text, NULL, 0, NULL);
    ck_assert_int_gt(n, 20);
    ck_assert_int_lt(n, 4096);
    for (int i = 0; i < n; i++) {
        SDL_Rect a = marks[i].box;
        ck_assert_msg(a.x >= 0 && a.y >= 0 && a.x + a.w <= w && a.y + a.h <= h,
                      "%s at %dx%d: '%s' at %d,%d %dx%d leaves the window", what, w, h, marks[i].s,
                      a.x, a.y, a.w, a.h);
        for (int k = i + 1; k < n; k++) {
            SDL_Rect b = marks[k].box, x;
            ck_assert_msg(!SDL_IntersectRect(&a, &b, &x) || x.w <= 1 || x.h <= 1,
                          "%s at %dx%d: '%s' (%d,%d %dx%d) overlaps '%s' (%d,%d %dx%d)", what, w, h,
                          marks[i].s, a.x, a.y, a.w, a.h, marks[k].s, b.x, b.y, b.w, b.h);
        }
    }
}

/* Eight threads, three panes, on a projector: at 1280x720 and 1920x1080
 * every lane is shown without scrolling, a text line tall at least 2/3,
 * rows in order without overlapping, and no label over another. */
START_TEST(test_three_panes_of_eight_threads_fit_a_projector)
{
    replay("tests/data/ui/mixed_pool8.rec.json");
    ck_assert_int_eq(gs_trace_n_threads(V.run[0].trace), 8);
    const int sizes[][2] = {{1280, 720}, {1920, 1080}};
    for (int what_if = 0; what_if < 2; what_if++) {
        if (what_if)
            ui_key(SDLK_k, 0);
        ck_assert_int_eq(V.n_runs, 2 + what_if);
        for (int s = 0; s < 2; s++) {
            int w = sizes[s][0], h = sizes[s][1];
            ui_draw(w, h);
            ck_assert_msg(V.lay.content_h <= V.lay.lanes.h, "%dx%d: rows %d px, lanes %d px", w, h,
                          V.lay.content_h, V.lay.lanes.h);
            int lanes[3] = {0, 0, 0};
            for (int i = 0; i < V.lay.n_rows; i++) {
                const gv_row_t *row = &V.lay.rows[i];
                if (row->kind == GV_ROW_LANE) {
                    lanes[row->run]++;
                    ck_assert_int_ge(row->h, V.lay.line * 2 / 3);
                }
                ck_assert_int_ge(row->y, V.lay.lanes.y);
                ck_assert_int_le(row->y + row->h, V.lay.lanes.y + V.lay.lanes.h);
                if (i > 0)
                    ck_assert_int_le(V.lay.rows[i - 1].y + V.lay.rows[i - 1].h, row->y);
            }
            for (int r = 0; r < V.n_runs; r++) /* every thread of every run, and a GIL */
                ck_assert_int_ge(lanes[r], 9);
            no_label_overlaps(w, h, what_if ? "three panes" : "two panes and C's hint");
        }
    }
}
END_TEST

/* The summary under a panel that scrolls (issue 14, 1080p with long
 * chains): pinned at the panel's bottom, the same pixels at every scroll
 * position, and nothing scrolled into it. */
static void summary_stays_while_scrolling(int w, int h, const char *what)
{
    static gv_text_mark_t marks[2048];
    int n = 0;
    ui_draw(w, h);
    ck_assert_msg(V.lay.panel_max_scroll > 0, "%s: the panel does not scroll", what);
    SDL_Rect pin = V.lay.panel_pinned;
    ck_assert_int_gt(pin.h, 0);
    ck_assert_int_le(V.lay.panel_view.y + V.lay.panel_view.h, pin.y);
    ck_assert_int_le(pin.y + pin.h, V.lay.panel.y + V.lay.panel.h);
    int summary_y = -1, frames = 0;
    for (V.lay.panel_scroll = 0;; frames++) {
        ck_assert_int_lt(frames, 1000);
        gv_text_record(V.text, marks, 2048, &n);
        ui_draw(w, h);
        gv_text_record(V.text, NULL, 0, NULL);
        ck_assert_int_eq(V.lay.panel_pinned.y, pin.y);
        ck_assert_int_eq(V.lay.panel_pinned.h, pin.h);
        bool seen = false;
        for (int i = 0; i < n; i++) {
            SDL_Rect b = marks[i].box;
            bool in_pin = b.y >= pin.y && b.y + b.h <= pin.y + pin.h && b.x >= pin.x;
            bool in_view =
                b.y >= V.lay.panel_view.y && b.y + b.h <= V.lay.panel_view.y + V.lay.panel_view.h;
            if (b.x < V.lay.panel.x)
                continue; /* not the panel's */
            if (strcmp(marks[i].s, "Summary") == 0) {
                ck_assert_msg(in_pin, "%s: 'Summary' at y %d, outside the pinned %d..%d", what, b.y,
                              pin.y, pin.y + pin.h);
                ck_assert(summary_y < 0 || summary_y == b.y);
                summary_y = b.y;
                seen = true;
            }
            /* the scrolled labels stay in their window, above the pinned part */
            ck_assert_msg(in_pin || in_view || b.y + b.h <= V.lay.panel_view.y ||
                              b.y >= V.lay.panel_view.y + V.lay.panel_view.h,
                          "%s: '%s' at y %d cut by the panel's windows", what, marks[i].s, b.y);
            ck_assert_msg(!(b.y < pin.y && b.y + b.h > pin.y), "%s: '%s' straddles the summary",
                          what, marks[i].s);
        }
        ck_assert_msg(seen, "%s: no 'Summary' at scroll %d of %d", what, V.lay.panel_scroll,
                      V.lay.panel_max_scroll);
        if (V.lay.panel_scroll >= V.lay.panel_max_scroll)
            break;
        V.lay.panel_scroll += V.lay.line * 3;
    }
    ck_assert_int_gt(frames, 0);
}

START_TEST(test_summary_is_pinned_while_a_long_chain_scrolls)
{
    replay("tests/data/ui/mixed_pool8.rec.json");
    ui_key(SDLK_k, 0); /* three chains of eight threads' waits */
    ck_assert_int_eq(V.n_runs, 3);
    summary_stays_while_scrolling(1920, 1080, "three panes at 1080p");
    summary_stays_while_scrolling(1280, 720, "three panes at 720p");
    /* one run: a lesson at large text, as a class sees it */
    char lesson[1100];
    snprintf(lesson, sizeof lesson, "%s/scenarios/11-lock-contention.json",
             getenv("GILSIM_SOURCE_DIR"));
    ck_assert_int_eq(gv_view_load(&V, lesson), 0);
    ck_assert_int_eq(V.n_runs, 1);
    V.text_scale = 1.6;
    summary_stays_while_scrolling(1920, 1080, "11-lock-contention at 1.6x text, 1080p");
}
END_TEST

/* Does a label drawn in the panel's pinned part start with s? */
static bool summary_starts(const char *s)
{
    draw_labels();
    for (int i = 0; i < n_drawn; i++)
        if (strncmp(drawn[i].s, s, strlen(s)) == 0 && drawn[i].box.y >= V.lay.panel_pinned.y &&
            drawn[i].box.x >= V.lay.panel.x)
            return true;
    return false;
}

/* The program's threads in run r: its threads but the fitted other load's. */
static int program_threads(int r)
{
    int load = gv_view_load_process(&V, r), n = 0;
    for (int i = 0; i < V.run[r].stats.n_threads; i++)
        n += V.run[r].stats.threads[i].process != load;
    return n;
}

/* A fifo what-if on a recording with other load runs without the load, as
 * `gilsim replay --set machine.policy=fifo` does (one rule in sim/,
 * gs_fit_what_if_without_load): with it, the load's busy threads, which
 * never block, kept both cores and C ran to the 60 s time limit. The P knob
 * and --set alike; another policy keeps the load; the window says why. */
START_TEST(test_fifo_what_if_runs_without_the_fitted_load)
{
    replay("tests/data/fit/hash_pool.rec.json");
    ck_assert_int_ge(gv_view_load_process(&V, 1), 0); /* the fit gave it other load */
    ck_assert_int_eq(V.knobs_b.policy, GS_POLICY_EEVDF);
    ui_key(SDLK_p, 0); /* eevdf -> fifo */
    ck_assert_int_eq(V.n_runs, 3);
    ck_assert_int_eq(V.run[2].model->machine.policy, GS_POLICY_FIFO);
    ck_assert(V.run[2].without_load);
    ck_assert_int_lt(gv_view_load_process(&V, 2), 0);
    ck_assert_int_eq(V.run[2].stats.n_threads, program_threads(0));
    ck_assert_int_eq(gs_trace_outcome(V.run[2].trace), GS_OUT_DONE);
    ck_assert_int_lt(gs_trace_end_ns(V.run[2].trace), V.run[2].model->until_ns / 10);
    ck_assert_int_ge(gv_view_load_process(&V, 1), 0); /* the replay keeps it */
    ck_assert(!V.run[1].without_load);
    ck_assert_msg(strstr(V.run[2].label, "without the other load"), "%s", V.run[2].label);
    ck_assert(summary_starts("C runs without the other load"));
    ui_key(SDLK_p, 0); /* fifo -> rr: the load stays */
    ck_assert_int_eq(V.run[2].model->machine.policy, GS_POLICY_RR);
    ck_assert(!V.run[2].without_load);
    ck_assert_int_ge(gv_view_load_process(&V, 2), 0);
    ck_assert_msg(!strstr(V.run[2].label, "without the other load"), "%s", V.run[2].label);
    ck_assert(!summary_starts("C runs without the other load"));
    ui_key(SDLK_u, 0); /* --set as gilsim replay's */
    ck_assert_int_eq(gv_view_add_set(&V, "machine.policy=fifo"), 0);
    ck_assert_int_eq(gv_view_reload(&V), 0);
    ck_assert_int_eq(V.n_runs, 3);
    ck_assert(V.run[2].without_load);
    ck_assert_int_lt(gv_view_load_process(&V, 2), 0);
    ck_assert_int_eq(gs_trace_outcome(V.run[2].trace), GS_OUT_DONE);
    /* a table row with nothing real to compare is left out, as gilsim
       replay leaves it: the replay's I/O-to-GIL delay, where the recording has none */
    ck_assert_int_eq(V.run[0].stats.io_to_gil.n, 0);
    ck_assert_int_gt(V.run[1].stats.io_to_gil.n, 0);
    ck_assert(!summary_starts("I/O \xE2\x86\x92 GIL"));
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
    tcase_add_test(core, test_a_recording_alone_has_its_cores_not_recorded);
    tcase_add_test(core, test_what_if_follows_the_knobs_the_model_does_not);
    tcase_add_test(core, test_compare_with_aligns_threads_by_name);
    tcase_add_test(core, test_a_selection_is_the_same_thread_in_every_pane);
    tcase_add_test(core, test_summary_compares_each_thread_by_name);
    tcase_add_test(core, test_three_panes_of_eight_threads_fit_a_projector);
    tcase_add_test(core, test_summary_is_pinned_while_a_long_chain_scrolls);
    tcase_add_test(core, test_fifo_what_if_runs_without_the_fitted_load);
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
    return tu_main(real_suite());
}
