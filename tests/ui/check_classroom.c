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
    ui_draw(W, H);
    /* its empty core lanes say they are not recorded (text in the lane) */
    const gs_trace_t *t = V.run[0].trace;
    int said = 0;
    for (int i = 0; i < V.lay.n_rows; i++) {
        const gv_row_t *row = &V.lay.rows[i];
        if (row->kind == GV_ROW_LANE && gs_trace_lane(t, row->lane)->kind == GS_LANE_CORE)
            said += ui_region_has((SDL_Rect){V.lay.lanes.x, row->y, V.lay.lanes.w, row->h}, GV_MUTED);
    }
    ck_assert_int_eq(said, gs_trace_n_cores(t));
}
END_TEST

/* On one core a waiter whose timed wait ran out must get a core before it
 * sets its drop request, in a short wait after the long one: the opening
 * instant reads the two as one wait and stands where the request is
 * pending, as the exercise's reveal does. */
START_TEST(test_opening_on_one_core_shows_the_pending_request)
{
    ck_assert_int_eq(gv_view_add_set(&V, "machine.cores=1"), 0);
    load("scenarios/04-switch-interval.json");
    int server = thread_named("server");
    ck_assert_int_eq(V.selected, server);
    char *txt = gv_why_text(&V, 0, server, V.playhead);
    ck_assert_ptr_nonnull(txt);
    HAS(txt, "Drop request set by server at");
    ck_assert_ptr_null(strstr(txt, "No drop request pending"));
    free(txt);
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
            ui_draw(W, H);
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
        ui_draw(1280, 720);
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

/* A notice (here the screenshot's "saved to ...") hides nothing important:
 * the panel ("At t ="  and "Why?"), the lanes, the time axis and the play
 * button have the same pixels as without it, at 1.6x text on 1280x720 too;
 * it shows (in its green frame) over the legend. An error, after which the
 * picture is stale, still spans the window under the knob bar. */
START_TEST(test_notice_hides_neither_panel_nor_lanes)
{
    load("scenarios/03-convoy.json");
    for (int big = 0; big < 2; big++) {
        int w = big ? 1280 : W, h = big ? 720 : H;
        V.text_scale = big ? 1.6 : 1.0;
        V.banner[0] = '\0';
        ui_draw(w, h);
        SDL_Rect keep[] = {V.lay.panel, V.lay.lanes, V.lay.labels, V.lay.axis,
                           V.lay.btn[GV_BTN_PLAY]};
        const char *what[] = {"panel", "lanes", "names", "axis", "play button"};
        uint32_t *before = malloc((size_t)w * h * sizeof *before);
        ck_assert_ptr_nonnull(before);
        for (int y = 0; y < h; y++)
            for (int x = 0; x < w; x++)
                before[y * w + x] = ui_pixel(x, y);
        gv_view_notice(&V, false, "screenshot saved to /home/teacher/Pictures/gilsim-screens/"
                                  "gilsim-20261206-231500.png");
        ui_draw(w, h);
        for (int k = 0; k < 5; k++)
            for (int y = keep[k].y; y < keep[k].y + keep[k].h; y++)
                for (int x = keep[k].x; x < keep[k].x + keep[k].w && x < w; x++)
                    ck_assert_msg(ui_pixel(x, y) == before[y * w + x],
                                  "%dx%d: the notice changed a pixel of the %s at (%d, %d)", w, h,
                                  what[k], x, y);
        free(before);
        ck_assert(ui_region_has(V.lay.footer, 0x009E73u)); /* the notice's frame */
        if (getenv("GILSIM_SHOT") && big)
            gv_save_png(S, "/tmp/gilsim-notice.png", (char[128]){0}, 128);
        gv_view_notice(&V, true, "an error");
        ui_draw(w, h);
        ck_assert(ui_region_has(V.lay.panel, GV_ERROR)); /* an error spans the window */
    }
}
END_TEST

/* The side panel of one picture: every label drawn into it (as
 * gv_text_record saw it) lies wholly inside it and is not cut with an
 * ellipsis; returns how many labels, and ORs into *seen the headings found
 * (bit i: heads[i] starts a label). Draws the whole picture first. */
static int panel_labels(int w, int h, const char *const *heads, int n_heads, unsigned *seen,
                        bool *cue)
{
    static gv_text_mark_t marks[1024];
    int n = 0;
    ui_draw(w, h);
    gv_text_record(V.text, marks, 1024, &n);
    gv_draw_panel(&V, R);
    gv_text_record(V.text, NULL, 0, NULL);
    SDL_Rect P = V.lay.panel;
    *cue = false;
    for (int i = 0; i < n; i++) {
        SDL_Rect b = marks[i].box;
        ck_assert_msg(b.x >= P.x && b.x + b.w <= P.x + P.w && b.y >= P.y && b.y + b.h <= P.y + P.h,
                      "'%s' at %d,%d %dx%d is not inside the panel %d,%d %dx%d (scroll %d)",
                      marks[i].s, b.x, b.y, b.w, b.h, P.x, P.y, P.w, P.h, V.lay.panel_scroll);
        size_t len = strlen(marks[i].s);
        ck_assert_msg(len < 3 || len + 1 >= sizeof marks[i].s ||
                          strcmp(marks[i].s + len - 3, "\xE2\x80\xA6") != 0,
                      "'%s' is cut", marks[i].s);
        for (int k = 0; k < n_heads; k++)
            if (strncmp(marks[i].s, heads[k], strlen(heads[k])) == 0)
                *seen |= 1u << k;
        *cue |= strncmp(marks[i].s, "\xE2\x96\xBC more below", 13) == 0;
    }
    return n;
}

static void wheel_over_panel(int dy)
{
    V.mouse_in = true;
    V.mouse_x = V.lay.panel.x + V.lay.panel.w / 2;
    V.mouse_y = V.lay.panel.y + V.lay.panel.h / 2;
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEWHEEL;
    e.wheel.y = dy;
    e.wheel.direction = SDL_MOUSEWHEEL_NORMAL;
    ck_assert_int_eq(SDL_PushEvent(&e), 1);
    SDL_Event got;
    while (SDL_PollEvent(&got))
        gv_view_event(&V, &got);
}

/* Scrolls the panel of the loaded lesson with the wheel from its top to its
 * end at 1280x720: every frame has all its text inside and whole, the cue
 * shows while there is more below, every heading of heads is shown on the
 * way, and PgUp over the panel goes back to the top. Returns whether it
 * scrolled. */
static bool panel_reaches(const char *name, const char *const *heads, int n_heads)
{
    unsigned seen = 0;
    bool cue;
    int frames = 0;
    V.lay.panel_scroll = 0;
    for (;; frames++) {
        ck_assert_int_lt(frames, 400);
        ck_assert_int_gt(panel_labels(1280, 720, heads, n_heads, &seen, &cue), 5);
        if (V.lay.panel_scroll >= V.lay.panel_max_scroll)
            break;
        ck_assert_msg(cue, "%s: more below at scroll %d of %d, and no cue", name,
                      V.lay.panel_scroll, V.lay.panel_max_scroll);
        /* a wheel notch scrolls two lines: at most half the window a frame,
         * so every line is wholly in some frame */
        int notches = V.lay.panel_view.h / 2 / (2 * V.lay.line);
        wheel_over_panel(notches > 1 ? -notches : -1);
    }
    if (getenv("GILSIM_SHOT") && strcmp(name, "11-lock-contention.json") == 0)
        gv_save_png(S, "/tmp/gilsim-panel-end.png", (char[128]){0}, 128);
    for (int k = 0; k < n_heads; k++)
        ck_assert_msg(seen & (1u << k), "%s: '%s' never shown in the panel", name, heads[k]);
    if (frames > 0) {
        for (int i = 0; i < frames + 2; i++)
            ui_key(SDLK_PAGEUP, 0);
        ui_draw(1280, 720);
        ck_assert_int_eq(V.lay.panel_scroll, 0);
    }
    return frames > 0;
}

/* At 1.6x text on 1280x720, for every lesson opened at its opening instant
 * with that instant's thread selected: no text of the side panel is drawn
 * past its edges or cut, and scrolling it with the wheel reaches every
 * section's heading (At t, Why?, the queues, locks and queues, Summary, the
 * thread's figures); while there is more below, a cue says so; PgUp over
 * the panel goes back to its top. */
START_TEST(test_panel_scrolls_and_nothing_is_cut_at_large_text)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/scenarios", getenv("GILSIM_SOURCE_DIR"));
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0, scrolled = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, "scenarios/%s", de->d_name);
        load(rel);
        V.text_scale = 1.6;
        const gs_trace_t *t = V.run[0].trace;
        char thread_head[128] = "Click a thread";
        if (V.selected >= 0)
            snprintf(thread_head, sizeof thread_head, "Thread %s",
                     gs_trace_lane(t, gs_trace_thread_lane(t, V.selected))->name);
        const char *heads[] = {"At t = ", V.selected >= 0 ? "Why? " : "At t = ",
                               "Ready, waiting for a core", "Blocked (", "Summary", thread_head,
                               gs_trace_n_syncs(t, GS_ST_WAIT_LOCK) +
                                       gs_trace_n_syncs(t, GS_ST_WAIT_QUEUE)
                                   ? "Locks and queues"
                                   : "Summary"};
        scrolled += panel_reaches(de->d_name, heads, (int)(sizeof heads / sizeof heads[0]));
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 19);
    ck_assert_int_ge(scrolled, 10); /* the panel is too tall for 720p in most lessons */
}
END_TEST

/* Compare mode at 1.6x text on 1280x720, every lesson: both runs' lanes stay
 * readable. Each run's header ("A: ...", "B: ...") has a whole line; every
 * lane is at least 2/3 of a text line apart (its name drawn); the lanes of
 * both runs fit without scrolling but in at most two lessons, where they
 * scroll only once at that minimum, and PgDn brings run B's last lane; when
 * a lane gets less than a line the description has yielded first (one
 * line). The panel's text is whole
 * and inside it, and the wheel reaches both runs' queues and the summary. */
START_TEST(test_compare_keeps_both_runs_readable_at_large_text)
{
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/scenarios", getenv("GILSIM_SOURCE_DIR"));
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n = 0, yielded = 0, scrolls = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 6 || strcmp(de->d_name + len - 5, ".json") != 0)
            continue;
        char rel[512];
        snprintf(rel, sizeof rel, "scenarios/%s", de->d_name);
        load(rel);
        V.lay.scroll = 0;
        gv_view_set_compare(&V, true);
        ck_assert_int_eq(V.n_runs, 2);
        V.text_scale = 1.6;
        ui_draw(1280, 720);
        const gv_layout_t *l = &V.lay;
        int line = l->line, run_heads = 0, min_pitch = 1 << 20;
        for (int i = 0; i < l->n_rows; i++) {
            const gv_row_t *row = &l->rows[i];
            int next = i + 1 < l->n_rows ? l->rows[i + 1].y : row->y + row->h;
            if (row->kind == GV_ROW_HEADER && row->text[1] == ':') {
                ck_assert_int_ge(row->h, line);
                ck_assert_int_ge(row->y, l->lanes.y);
                ck_assert_int_le(row->y + row->h, l->lanes.y + l->lanes.h);
                run_heads++;
            } else if (row->kind == GV_ROW_LANE && i + 1 < l->n_rows) { /* the last: as before */
                min_pitch = next - row->y < min_pitch ? next - row->y : min_pitch;
            }
        }
        ck_assert_int_eq(run_heads, 2);
        ck_assert_msg(min_pitch >= line * 2 / 3, "%s: a lane %d px apart, a line is %d",
                      de->d_name, min_pitch, line);
        if (l->content_h > l->lanes.h) { /* too many lanes (18: five GILs a run): scroll */
            ck_assert_msg(min_pitch <= line * 2 / 3 + 1, "%s: lanes %d px apart, and they scroll",
                          de->d_name, min_pitch);
            V.mouse_in = true; /* PgDn over the lanes brings run B's lanes */
            V.mouse_x = l->lanes.x + l->lanes.w / 2;
            V.mouse_y = l->lanes.y + l->lanes.h / 2;
            for (int i = 0; i < 20 && l->scroll + l->lanes.h < l->content_h; i++) {
                ui_key(SDLK_PAGEDOWN, 0);
                ui_draw(1280, 720);
            }
            ck_assert_int_eq(l->scroll + l->lanes.h, l->content_h);
            const gv_row_t *last = &l->rows[l->n_rows - 1];
            ck_assert_int_eq(last->run, 1);
            ck_assert_int_le(last->y + last->h, l->lanes.y + l->lanes.h);
            scrolls++;
            for (int i = 0; i < 20; i++)
                ui_key(SDLK_PAGEUP, 0);
        }
        if (min_pitch < line) {
            int desc = l->title.h - gv_text_line(V.text, GV_TITLE);
            ck_assert_msg(desc <= line + l->px / 2, "%s: lanes %d px apart while the description "
                          "keeps %d px", de->d_name, min_pitch, desc);
            yielded++;
        }
        const char *heads[] = {"At t = ", "Run A", "Run B", "Summary"};
        panel_reaches(de->d_name, heads, 4);
        n++;
    }
    closedir(d);
    ck_assert_int_ge(n, 19);
    ck_assert_int_ge(yielded, 1);
    ck_assert_int_le(scrolls, 2); /* the others show both runs at once */
}
END_TEST

/* H at 1.6x text on 1280x720: the keys' help has more lines than the window
 * (it ran off the bottom); in two columns every key and every word of its
 * description is inside the window, nothing cut; at 1600x900 and 1x text
 * it is one column still. */
START_TEST(test_help_is_whole_at_large_text)
{
    static gv_text_mark_t marks[1024];
    load("scenarios/03-convoy.json");
    for (int big = 0; big < 2; big++) {
        int w = big ? 1280 : W, h = big ? 720 : H, n = 0;
        V.text_scale = big ? 1.6 : 1.0;
        V.help = true;
        ui_draw(w, h);
        gv_text_record(V.text, marks, 1024, &n);
        gv_draw_help(&V, R);
        gv_text_record(V.text, NULL, 0, NULL);
        int keys = 0, left = w, right = 0;
        for (int i = 0; i < n; i++) {
            SDL_Rect b = marks[i].box;
            ck_assert_msg(b.x >= 0 && b.y >= 0 && b.x + b.w <= w && b.y + b.h <= h,
                          "%dx%d: '%s' at %d,%d %dx%d is off the window", w, h, marks[i].s, b.x,
                          b.y, b.w, b.h);
            size_t len = strlen(marks[i].s);
            ck_assert_msg(len < 3 || strcmp(marks[i].s + len - 3, "\xE2\x80\xA6") != 0,
                          "'%s' is cut", marks[i].s);
            keys += strcmp(marks[i].s, "H, F1") == 0 || strcmp(marks[i].s, "Q") == 0 ||
                    strcmp(marks[i].s, "space") == 0;
            if (strcmp(marks[i].s, "Q") == 0 || strcmp(marks[i].s, "space") == 0) {
                left = b.x < left ? b.x : left;
                right = b.x > right ? b.x : right;
            }
        }
        ck_assert_int_eq(keys, 3); /* the first, the last but one and the last */
        if (big)
            ck_assert_int_gt(right, left + w / 3); /* two columns */
        else
            ck_assert_int_eq(right, left);
        if (getenv("GILSIM_SHOT") && big)
            gv_save_png(S, "/tmp/gilsim-help.png", (char[128]){0}, 128);
    }
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
    ui_draw(W, H);
    ck_assert(ui_region_has(V.lay.footer, gs_state_color(GS_ST_C_NOGIL)));
    ui_key(SDLK_m, 0);
    ck_assert(V.color_by_thread);
    V.banner[0] = '\0';
    ui_draw(W, H);
    ck_assert(!ui_region_has(V.lay.footer, gs_state_color(GS_ST_C_NOGIL)));
    ck_assert(ui_region_has(V.lay.footer, gv_thread_color(1)));
    ck_assert(ui_region_has(V.lay.footer, gs_state_color(GS_ST_WAIT_GIL))); /* waits keep theirs */
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
        ui_draw(W, H);
        int px = (int)gv_t_to_x(&V, V.playhead), y = V.lay.axis.y + 3; /* above its text */
        if (ui_pixel(px, y) != GV_INK)
            continue; /* past the end, or out of view */
        int a = px, b = px;
        while (a > 0 && ui_pixel(a - 1, y) == GV_INK)
            a--;
        while (b + 1 < W && ui_pixel(b + 1, y) == GV_INK)
            b++;
        int top = V.lay.axis.y + V.lay.px / 3 + 2, bottom = V.lay.axis.y + V.lay.line - 2;
        for (int yy = top; yy < bottom; yy++)
            for (int d = 1; d <= 4; d++) {
                if (a - d >= V.lay.axis.x)
                    ck_assert_msg(ui_pixel(a - d, yy) == GV_BG, "playhead %lld: ink left of its label [%d, %d] at (%d, %d): %06x; axis %d",
                                  (long long)V.playhead, a, b, a - d, yy, ui_pixel(a - d, yy), V.lay.axis.x);
                if (b + d < V.lay.panel.x)
                    ck_assert_msg(ui_pixel(b + d, yy) == GV_BG, "playhead %lld: ink right of its label",
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
    return ui_region_has(L, gs_state_color(GS_ST_PY)) || ui_region_has(L, gs_state_color(GS_ST_WAIT_GIL)) ||
           ui_region_has(L, gs_state_color(GS_ST_C_GIL));
}

/* E: the seeded variant is loaded with the answer hidden (no lane, no figure,
 * no tooltip, keys held back); a typed prediction and Enter reveal the
 * answer, the same as the library's for that run, with the playhead where it
 * shows and its thread selected; E again gives the next seed. */
START_TEST(test_exercise_hides_asks_and_reveals)
{
    load("scenarios/02-two-threads.json");
    ui_key(SDLK_e, 0);
    ck_assert_int_eq(V.exercise.state, GV_EX_ASK);
    ck_assert_int_eq((int)V.exercise.seed, 1);
    gs_exercise_t want;
    ck_assert_int_eq(gs_exercise_make(NULL, 1, &want), 0); /* = gilsim exercise --seed 1 */
    ck_assert_ptr_nonnull(strstr(V.path, want.lesson));
    ck_assert_int_eq(V.n_set, 3);
    ck_assert_str_eq(V.set[0], want.set[0]);
    ck_assert_str_eq(V.set[1], want.set[1]);
    ck_assert_str_eq(V.set[2], "seed=1");
    ui_draw(W, H);
    ck_assert(!lanes_show_the_run());
    V.mouse_in = true; /* over a lane: no tooltip either */
    V.mouse_x = V.lay.lanes.x + V.lay.lanes.w / 2;
    V.mouse_y = V.lay.lanes.y + V.lay.lanes.h / 3;
    ui_draw(W, H);
    ck_assert(!ui_region_has((SDL_Rect){0, 0, W, H}, 0xFFFFF4u)); /* the tooltip's paper */
    if (getenv("GILSIM_SHOT"))
        gv_save_png(S, "/tmp/gilsim-exercise-ask.png", (char[128]){0}, 128);
    text_in("e"); /* a window sends the E key as text too: not a prediction */
    ck_assert_str_eq(V.exercise.guess, "");
    ui_key(SDLK_PERIOD, 0); /* a step would show the run: held back */
    ui_key(SDLK_END, 0);
    ck_assert_int_eq(V.playhead, 0);
    ck_assert_int_eq(V.exercise.state, GV_EX_ASK);
    text_in("so");
    ui_key(SDLK_RETURN, 0);
    ck_assert_int_eq(V.exercise.state, GV_EX_ASK); /* not a figure: asked again */
    ck_assert(V.exercise.bad_guess);
    for (int i = 0; i < 2; i++)
        ui_key(SDLK_BACKSPACE, 0);
    const char *guess = want.figure == GS_EX_SPEEDUP ? "1.5x" : "5 ms";
    text_in(guess);
    ck_assert_str_eq(V.exercise.guess, guess);
    ck_assert(!V.color_by_thread); /* the 'm' of "ms" was typed, not M */
    ui_key(SDLK_RETURN, 0);
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
    ui_draw(W, H);
    ck_assert(lanes_show_the_run());
    if (getenv("GILSIM_SHOT"))
        gv_save_png(S, "/tmp/gilsim-exercise-reveal.png", (char[128]){0}, 128);
    ui_key(SDLK_e, 0);
    ck_assert_int_eq(V.exercise.state, GV_EX_ASK);
    ck_assert_int_eq((int)V.exercise.seed, 2);
    ui_key(SDLK_ESCAPE, 0); /* stop: the run is shown */
    ck_assert_int_eq(V.exercise.state, GV_EX_OFF);
    ck_assert_int_ne(V.future, GV_FUTURE_HIDE);
}
END_TEST

/* Did thread th set a drop request that stayed pending for some time? (One
 * the holder obeys at once never is.) */
static bool had_pending_request(int th)
{
    const gs_trace_t *t = V.run[0].trace;
    const gs_lane_t *dr =
        gs_trace_drop_request_track(t, gs_trace_lane(t, gs_trace_thread_lane(t, th))->process);
    for (size_t k = 0; dr && k < dr->n; k++)
        if (dr->iv[k].who == th && dr->iv[k].end_ns > dr->iv[k].start_ns)
            return true;
    return false;
}

/* The reveal of every exercise about a thread's wait (convoy, switch
 * interval, C calls) puts the playhead where the thread's own drop request
 * is pending, whenever the run has such a moment, so that the chain tells it
 * whole: it landed in the middle of the longest wait, before the request
 * was set ("no drop request pending"). One core is among the convoy's
 * variants: there the request is set in the short wait that follows the long
 * one, once the waiter has a core. */
START_TEST(test_exercise_reveal_shows_the_pending_drop_request)
{
    int n = 0, one_core = 0;
    for (uint64_t seed = 1; seed <= 40; seed++) {
        gs_exercise_t ex;
        ck_assert_int_eq(gs_exercise_make(NULL, seed, &ex), 0);
        if (ex.figure != GS_EX_IO_TO_GIL_P50 && ex.figure != GS_EX_LONGEST_WAIT)
            continue;
        V.exercise.seed = seed - 1; /* E takes the next seed */
        gv_exercise_start(&V);
        ck_assert_int_eq(V.exercise.state, GV_EX_ASK);
        ck_assert_int_eq((int)V.exercise.seed, (int)seed);
        gv_exercise_reveal(&V);
        ck_assert_int_eq(V.exercise.state, GV_EX_REVEAL);
        int th = thread_named(ex.thread);
        ck_assert_int_eq(V.selected, th);
        if (!had_pending_request(th))
            continue;
        char *txt = gv_why_text(&V, 0, th, V.playhead);
        ck_assert_ptr_nonnull(txt);
        char want[96];
        snprintf(want, sizeof want, "Drop request set by %s at", ex.thread);
        ck_assert_msg(strstr(txt, want) && !strstr(txt, "No drop request pending"),
                      "seed %d (%s, %s, %s) at %lld:\n%s", (int)seed, ex.topic, ex.set[0],
                      ex.set[1],
                      (long long)V.playhead, txt);
        free(txt);
        one_core += strstr(ex.set[1], "cores=1") != NULL;
        n++;
    }
    ck_assert_int_ge(n, 10);
    ck_assert_int_ge(one_core, 1);
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
            ui_draw(1280, 720);
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
    tcase_add_test(core, test_opening_on_one_core_shows_the_pending_request);
    tcase_add_test(core, test_joins_and_waits_are_named_in_steps_and_tooltips);
    tcase_add_test(core, test_description_is_whole_at_large_text);
    tcase_add_test(core, test_thread_colour_legend_shows_thread_colours);
    tcase_add_test(core, test_notice_hides_neither_panel_nor_lanes);
    tcase_add_test(core, test_panel_scrolls_and_nothing_is_cut_at_large_text);
    tcase_add_test(core, test_compare_keeps_both_runs_readable_at_large_text);
    tcase_add_test(core, test_help_is_whole_at_large_text);
    tcase_add_test(core, test_playhead_label_clear_of_tick_labels);
    tcase_add_test(core, test_exercise_hides_asks_and_reveals);
    tcase_add_test(core, test_exercise_reveal_shows_the_pending_drop_request);
    tcase_add_test(core, test_every_lesson_keeps_its_buttons_at_large_text);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return tu_main(classroom_suite());
}
