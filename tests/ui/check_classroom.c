/* check_classroom.c - gilsim-view as a class meets it (issue 17): a
 * recording's Why panel and opening instant, every wait named in the steps
 * and tooltips, the description whole at large text, the legend in
 * thread-colour mode, the playhead's label clear of the axis' labels, and
 * the exercise (predict, then reveal). Pixels of a software renderer and SDL
 * events pushed through SDL's queue, under SDL's dummy video driver. */
#include <SDL.h>
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

#define W 1600
#define H 900

static gv_view_t V;
static SDL_Surface *S;
static SDL_Renderer *R;

static void setup(void)
{
    SDL_SetHint(SDL_HINT_VIDEODRIVER, "dummy");
    ck_assert_int_eq(SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS), 0);
    gv_view_init(&V);
    S = SDL_CreateRGBSurfaceWithFormat(0, W, H, 32, SDL_PIXELFORMAT_ARGB8888);
    ck_assert_ptr_nonnull(S);
    R = SDL_CreateSoftwareRenderer(S);
    ck_assert_ptr_nonnull(R);
}

static void teardown(void)
{
    gv_view_destroy(&V);
    SDL_DestroyRenderer(R);
    SDL_FreeSurface(S);
    SDL_Quit();
}

static void draw_at(int w, int h)
{
    ck_assert_msg(gv_view_draw(&V, R, w, h) == 0, "draw failed: %s", V.font_err);
    SDL_RenderPresent(R);
}

static uint32_t pixel(int x, int y)
{
    const uint32_t *row = (const uint32_t *)((const uint8_t *)S->pixels + (size_t)y * S->pitch);
    return row[x] & 0xFFFFFFu;
}

static bool region_has(SDL_Rect r, uint32_t rgb)
{
    for (int y = r.y; y < r.y + r.h && y < H; y++)
        for (int x = r.x; x < r.x + r.w && x < W; x++)
            if (pixel(x, y) == rgb)
                return true;
    return false;
}

static void key(SDL_Keycode k, uint16_t mod)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = k;
    e.key.keysym.mod = mod;
    ck_assert_int_eq(SDL_PushEvent(&e), 1);
    SDL_Event got;
    while (SDL_PollEvent(&got))
        gv_view_event(&V, &got);
}

static void load(const char *rel)
{
    char path[1024];
    snprintf(path, sizeof path, "%s/%s", getenv("GILSIM_SOURCE_DIR"), rel);
    ck_assert_msg(gv_view_load(&V, path) == 0, "%s: %s", path, V.banner);
}

static int thread_named(const char *name)
{
    int th = gs_trace_find_thread(V.run[0].trace, name);
    ck_assert_int_ge(th, 0);
    return th;
}

#define HAS(txt, what) ck_assert_msg(strstr(txt, what) != NULL, "no '%s' in:\n%s", what, txt)

/* ---- a recording ----------------------------------------------------------- */

/* The hand-written recording (tests/data/drop_request.rec.json): the panel
 * gives io's pending drop request as gilsim explain does, and the recording
 * opens in io's first long GIL wait, while its request is pending, with io
 * selected. */
START_TEST(test_recording_opens_on_its_point_and_the_panel_has_the_drop_request)
{
    load("tests/data/drop_request.rec.json");
    int io = thread_named("io");
    ck_assert_int_eq(V.selected, io);
    ck_assert_int_ge(V.playhead, 6000000); /* io's request, pending until 12 ms */
    ck_assert_int_lt(V.playhead, 12000000);
    char *txt = gv_why_text(&V, 0, io, V.playhead);
    ck_assert_ptr_nonnull(txt);
    HAS(txt, "io is waiting for the GIL");
    HAS(txt, "Drop request set by io at 6.000 ms");
    HAS(txt, "cpu is in a C call that keeps the GIL");
    ck_assert_ptr_null(strstr(txt, "not set"));
    free(txt);
    draw_at(W, H);
    /* its empty core lanes say they are not recorded (text in the lane) */
    const gs_trace_t *t = V.run[0].trace;
    int said = 0;
    for (int i = 0; i < V.lay.n_rows; i++) {
        const gv_row_t *row = &V.lay.rows[i];
        if (row->kind == GV_ROW_LANE && gs_trace_lane(t, row->lane)->kind == GS_LANE_CORE)
            said += region_has((SDL_Rect){V.lay.lanes.x, row->y, V.lay.lanes.w, row->h}, GV_MUTED);
    }
    ck_assert_int_eq(said, gs_trace_n_cores(t));
}
END_TEST

/* ---- words ------------------------------------------------------------------ */

/* Steps through every event of a run: no text names an unknown '?', and the
 * joins say which thread they wait to end. Returns how many steps named want. */
static int step_all(const char *want)
{
    gv_view_set_playhead(&V, 0);
    V.step_at = -1;
    char txt[400];
    int found = 0, n = 0;
    while (gv_step(&V, +1) && V.playhead < V.end_ns && n++ < 100000) {
        if (!gv_step_text(&V, txt, sizeof txt))
            continue;
        ck_assert_msg(!strstr(txt, "?") && !strstr(txt, "''"), "step %d: %s", n, txt);
        found += strstr(txt, want) != NULL;
    }
    return found;
}

/* The middle of the row of a thread's lane. */
static int lane_row_y(int thread)
{
    const gs_trace_t *t = V.run[0].trace;
    for (int i = 0; i < V.lay.n_rows; i++) {
        const gv_row_t *row = &V.lay.rows[i];
        if (row->kind == GV_ROW_LANE && gs_trace_lane(t, row->lane)->kind == GS_LANE_THREAD &&
            gs_trace_lane(t, row->lane)->index == thread)
            return row->y + row->h / 2;
    }
    ck_abort_msg("no row for thread %d", thread);
    return -1;
}

/* The tooltip in the middle of every wait on a lock, event, queue or thread
 * says what is waited for, never "?". Returns how many named want. */
static int hover_waits(const char *want)
{
    const gs_trace_t *t = V.run[0].trace;
    int found = 0;
    for (int th = 0; th < gs_trace_n_threads(t); th++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
        for (size_t i = 0; i < l->n; i++) {
            const gs_interval_t *iv = &l->iv[i];
            if (iv->state < GS_ST_WAIT_LOCK || iv->state > GS_ST_WAIT_JOIN)
                continue;
            gv_view_set_range(&V, iv->start_ns, iv->end_ns);
            draw_at(W, H);
            char lines[GV_TIP_LINES][GV_TIP_WIDTH];
            int x = V.lay.lanes.x + V.lay.lanes.w / 2;
            int n = gv_tooltip_text(&V, x, lane_row_y(th), lines);
            ck_assert_int_ge(n, 2);
            ck_assert_msg(!strstr(lines[1], "?"), "%s at %lld: %s", l->name,
                          (long long)iv->start_ns, lines[1]);
            found += strstr(lines[1], want) != NULL;
        }
    }
    return found;
}

/* A join is "waits for thread X to end" (it read "event ?" or "join ?"), in
 * the steps and in the tooltips, for a simulation; a recording, which does
 * not know the thread, says "a thread". */
START_TEST(test_joins_and_waits_are_named_in_steps_and_tooltips)
{
    load("tests/scenario/good/everything.json");
    V.future = GV_FUTURE_SHOW;
    ck_assert_int_ge(step_all("main waits for thread helper to end"), 1);
    ck_assert_int_ge(hover_waits("waits for thread helper to end"), 1);
    ck_assert_int_ge(hover_waits("waits for event ready"), 1);
    load("tests/data/drop_request.rec.json");
    V.future = GV_FUTURE_SHOW;
    ck_assert_int_ge(step_all("MainThread waits for a thread to end"), 1);
    ck_assert_int_ge(hover_waits("waits for a thread to end"), 1);
    ck_assert_int_ge(hover_waits("waits for a lock"), 1);
}
END_TEST

/* ---- pictures ------------------------------------------------------------------ */

/* At 1.6x text on a 1280x720 projector every lesson's description is whole:
 * the title has room for all its wrapped lines, and the lanes keep theirs. */
START_TEST(test_description_is_whole_at_large_text)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/scenarios", getenv("GILSIM_SOURCE_DIR"));
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0, long_ones = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, "scenarios/%s", de->d_name);
        load(rel);
        V.text_scale = 1.6;
        draw_at(1280, 720);
        const char *desc = gs_trace_description(V.run[0].trace);
        int pad = V.lay.px / 2;
        int need = gv_text_wrap(V.text, GV_REGULAR, GV_MUTED, 0, 0, 1280 - 2 * pad, desc, 100, 0);
        int room = V.lay.title.h - gv_text_line(V.text, GV_TITLE);
        ck_assert_msg(room >= need * gv_text_line(V.text, GV_REGULAR),
                      "%s: %d lines of description, room for %d", de->d_name, need,
                      room / gv_text_line(V.text, GV_REGULAR));
        ck_assert_int_gt(V.lay.lanes.h, 720 / 4); /* and the lanes keep their room */
        long_ones += need >= 3; /* these were cut at two lines before */
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 19);
    ck_assert_int_ge(long_ones, 4);
}
END_TEST

/* M: the legend shows the threads' colours, not the running states': the
 * convoy has two threads, so the green of "running C without the GIL" (the
 * third thread's colour) is in the state legend only, and the second
 * thread's colour is in the thread legend. */
START_TEST(test_thread_colour_legend_shows_thread_colours)
{
    load("scenarios/03-convoy.json");
    ck_assert_int_eq(gs_trace_n_threads(V.run[0].trace), 2);
    draw_at(W, H);
    ck_assert(region_has(V.lay.footer, gs_state_color(GS_ST_C_NOGIL)));
    key(SDLK_m, 0);
    ck_assert(V.color_by_thread);
    V.banner[0] = '\0';
    draw_at(W, H);
    ck_assert(!region_has(V.lay.footer, gs_state_color(GS_ST_C_NOGIL)));
    ck_assert(region_has(V.lay.footer, gv_thread_color(1)));
    ck_assert(region_has(V.lay.footer, gs_state_color(GS_ST_WAIT_GIL))); /* waits keep theirs */
}
END_TEST

/* Wherever the playhead stands, its time label covers no tick label: the
 * strips just left and right of its box, below the tick marks, hold nothing
 * but the background. */
START_TEST(test_playhead_label_clear_of_tick_labels)
{
    load("scenarios/02-two-threads.json");
    int checked = 0;
    for (int k = 1; k < 60; k++) {
        gv_view_set_playhead(&V, V.end_ns * k / 60);
        draw_at(W, H);
        int px = (int)gv_t_to_x(&V, V.playhead), y = V.lay.axis.y + 3; /* above its text */
        if (pixel(px, y) != GV_INK)
            continue; /* past the end, or out of view */
        int a = px, b = px;
        while (a > 0 && pixel(a - 1, y) == GV_INK)
            a--;
        while (b + 1 < W && pixel(b + 1, y) == GV_INK)
            b++;
        int top = V.lay.axis.y + V.lay.px / 3 + 2, bottom = V.lay.axis.y + V.lay.line - 2;
        for (int yy = top; yy < bottom; yy++)
            for (int d = 1; d <= 4; d++) {
                if (a - d >= V.lay.axis.x)
                    ck_assert_msg(pixel(a - d, yy) == GV_BG, "playhead %lld: ink left of its label [%d, %d] at (%d, %d): %06x; axis %d",
                                  (long long)V.playhead, a, b, a - d, yy, pixel(a - d, yy), V.lay.axis.x);
                if (b + d < V.lay.panel.x)
                    ck_assert_msg(pixel(b + d, yy) == GV_BG, "playhead %lld: ink right of its label",
                                  (long long)V.playhead);
            }
        checked++;
    }
    ck_assert_int_ge(checked, 40);
}
END_TEST

/* ---- exercise --------------------------------------------------------------------- */

static void text_in(const char *s)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_TEXTINPUT;
    snprintf(e.text.text, sizeof e.text.text, "%s", s);
    ck_assert_int_eq(SDL_PushEvent(&e), 1);
    SDL_Event got;
    while (SDL_PollEvent(&got))
        gv_view_event(&V, &got);
}

/* Any pixel of a running or waiting state's colour in the lanes? */
static bool lanes_show_the_run(void)
{
    SDL_Rect L = V.lay.lanes;
    L.x += 4; /* the column at t = 0 */
    L.w -= 4;
    return region_has(L, gs_state_color(GS_ST_PY)) || region_has(L, gs_state_color(GS_ST_WAIT_GIL)) ||
           region_has(L, gs_state_color(GS_ST_C_GIL));
}

/* E: the seeded variant is loaded with the answer hidden (no lane, no figure,
 * no tooltip, keys held back); a typed prediction and Enter reveal the
 * answer, the same as the library's for that run, with the playhead where it
 * shows and its thread selected; E again gives the next seed. */
START_TEST(test_exercise_hides_asks_and_reveals)
{
    load("scenarios/02-two-threads.json");
    key(SDLK_e, 0);
    ck_assert_int_eq(V.exercise.state, GV_EX_ASK);
    ck_assert_int_eq((int)V.exercise.seed, 1);
    gs_exercise_t want;
    ck_assert_int_eq(gs_exercise_make(NULL, 1, &want), 0); /* = gilsim exercise --seed 1 */
    ck_assert_ptr_nonnull(strstr(V.path, want.lesson));
    ck_assert_int_eq(V.n_set, 3);
    ck_assert_str_eq(V.set[0], want.set[0]);
    ck_assert_str_eq(V.set[1], want.set[1]);
    ck_assert_str_eq(V.set[2], "seed=1");
    draw_at(W, H);
    ck_assert(!lanes_show_the_run());
    V.mouse_in = true; /* over a lane: no tooltip either */
    V.mouse_x = V.lay.lanes.x + V.lay.lanes.w / 2;
    V.mouse_y = V.lay.lanes.y + V.lay.lanes.h / 3;
    draw_at(W, H);
    ck_assert(!region_has((SDL_Rect){0, 0, W, H}, 0xFFFFF4u)); /* the tooltip's paper */
    if (getenv("GILSIM_SHOT"))
        gv_save_png(S, "/tmp/gilsim-exercise-ask.png", (char[128]){0}, 128);
    text_in("e"); /* a window sends the E key as text too: not a prediction */
    ck_assert_str_eq(V.exercise.guess, "");
    key(SDLK_PERIOD, 0); /* a step would show the run: held back */
    key(SDLK_END, 0);
    ck_assert_int_eq(V.playhead, 0);
    ck_assert_int_eq(V.exercise.state, GV_EX_ASK);
    text_in("so");
    key(SDLK_RETURN, 0);
    ck_assert_int_eq(V.exercise.state, GV_EX_ASK); /* not a figure: asked again */
    ck_assert(V.exercise.bad_guess);
    for (int i = 0; i < 2; i++)
        key(SDLK_BACKSPACE, 0);
    const char *guess = want.figure == GS_EX_SPEEDUP ? "1.5x" : "5 ms";
    text_in(guess);
    ck_assert_str_eq(V.exercise.guess, guess);
    ck_assert(!V.color_by_thread); /* the 'm' of "ms" was typed, not M */
    key(SDLK_RETURN, 0);
    ck_assert_int_eq(V.exercise.state, GV_EX_REVEAL);
    int64_t at;
    int th;
    double answer = gs_exercise_answer(&want, V.run[0].trace, &V.run[0].stats, &at, &th);
    char a[32];
    gs_exercise_format(&want, answer, a, sizeof a);
    HAS(V.exercise.result, a);
    HAS(V.exercise.result, "You predicted");
    ck_assert_int_eq(V.playhead, at);
    if (th >= 0)
        ck_assert_int_eq(V.selected, th);
    draw_at(W, H);
    ck_assert(lanes_show_the_run());
    if (getenv("GILSIM_SHOT"))
        gv_save_png(S, "/tmp/gilsim-exercise-reveal.png", (char[128]){0}, 128);
    key(SDLK_e, 0);
    ck_assert_int_eq(V.exercise.state, GV_EX_ASK);
    ck_assert_int_eq((int)V.exercise.seed, 2);
    key(SDLK_ESCAPE, 0); /* stop: the run is shown */
    ck_assert_int_eq(V.exercise.state, GV_EX_OFF);
    ck_assert_int_ne(V.future, GV_FUTURE_HIDE);
}
END_TEST

/* At 1.6x text on 1280x720, for every lesson (their GIL models, policies
 * and knobs differ in width), every button of the knob bar is on screen and
 * none overlaps another. */
START_TEST(test_every_lesson_keeps_its_buttons_at_large_text)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/scenarios", getenv("GILSIM_SOURCE_DIR"));
    const char *lessons[] = {"01-one-thread", "03-convoy", "09-free-threaded", "13-python2-gil-battle",
                             "14-os-scheduling", "15-free-threaded-scales",
                             "16-free-threaded-shared-dict", "17-free-threaded-import",
                             "18-subinterpreters"};
    for (size_t i = 0; i < sizeof lessons / sizeof lessons[0]; i++) {
        char rel[256];
        snprintf(rel, sizeof rel, "scenarios/%s.json", lessons[i]);
        load(rel);
        for (int cmp = 0; cmp < 2; cmp++) {
            gv_view_set_compare(&V, cmp == 1);
            V.text_scale = 1.6;
            memset(V.lay.btn, 0, sizeof V.lay.btn);
            draw_at(1280, 720);
            for (int b = 0; b < GV_N_BUTTONS; b++) {
                if (b == GV_BTN_PLAY)
                    continue;
                SDL_Rect r = V.lay.btn[b];
                ck_assert_msg(r.w > 0 && r.x >= 0 && r.x + r.w <= 1280,
                              "%s%s: button %d at %d+%d", lessons[i], cmp ? " (compare)" : "", b,
                              r.x, r.w);
                for (int c = 0; c < b; c++) {
                    SDL_Rect q = V.lay.btn[c];
                    if (c != GV_BTN_PLAY)
                        ck_assert_msg(!SDL_HasIntersection(&r, &q), "%s: buttons %d and %d overlap",
                                      lessons[i], b, c);
                }
            }
        }
    }
}
END_TEST

static Suite *classroom_suite(void)
{
    Suite *s = suite_create("classroom");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_recording_opens_on_its_point_and_the_panel_has_the_drop_request);
    tcase_add_test(core, test_joins_and_waits_are_named_in_steps_and_tooltips);
    tcase_add_test(core, test_description_is_whole_at_large_text);
    tcase_add_test(core, test_thread_colour_legend_shows_thread_colours);
    tcase_add_test(core, test_playhead_label_clear_of_tick_labels);
    tcase_add_test(core, test_exercise_hides_asks_and_reveals);
    tcase_add_test(core, test_every_lesson_keeps_its_buttons_at_large_text);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    SRunner *sr = srunner_create(classroom_suite());
    srunner_run_all(sr, CK_NORMAL);
    int failed = srunner_ntests_failed(sr);
    srunner_free(sr);
    return failed ? EXIT_FAILURE : EXIT_SUCCESS;
}
