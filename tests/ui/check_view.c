/* check_view.c - gilsim-view without a window: pixels of the rendered picture
 * against the trace, and SDL events pushed through SDL's queue into the view
 * (zoom, pan, step, knobs, compare, reload of a broken file, file watching).
 * Runs under SDL's dummy video driver with a software renderer on a surface. */
#include <SDL.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "uitest.h"
#include "view.h"
#include "tu_main.h"

#define W 1600
#define H 900

static char tmp_path[256];

static void setup(void)
{
    ui_open(W, H);
    tmp_path[0] = 0;
}

static void teardown(void)
{
    if (tmp_path[0])
        remove(tmp_path);
    ui_close();
}

static void write_file(const char *text)
{
    if (!tmp_path[0]) {
        snprintf(tmp_path, sizeof tmp_path, "/tmp/gilsim-view-test-XXXXXX.json");
        int fd = mkstemps(tmp_path, 5);
        ck_assert_int_ge(fd, 0);
        close(fd);
    }
    FILE *f = fopen(tmp_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

static void load_default(void)
{
    ck_assert_int_eq(gv_view_load(&V, NULL), 0);
    ck_assert_int_eq(V.n_runs, 1);
}

/* Is x within a few pixels of something drawn over the lanes (an instant
 * marker, an annotation line, the playhead)? */
static bool near_overlay(const gs_trace_t *t, int x)
{
    int slack = V.lay.px + 4;
    for (size_t i = 0; i < gs_trace_n_instants(t); i++) {
        int64_t at = gs_trace_instants(t)[i].t_ns;
        if (at >= V.t0 && at <= V.t1 && abs((int)gv_t_to_x(&V, at) - x) <= slack)
            return true;
    }
    for (int i = 0; i < gs_trace_n_annotations(t); i++)
        if (abs((int)gv_t_to_x(&V, gs_trace_annotation_at(t, i)) - x) <= 4)
            return true;
    return abs((int)gv_t_to_x(&V, V.playhead) - x) <= 4;
}

/* For every thread-lane column that lies inside one interval, the pixel in
 * the top half of the bar has that state's colour. Returns the number of
 * columns checked; *n_states gets how many different states were seen. */
static int check_lane_colours(int *n_states)
{
    const gs_trace_t *t = V.run[0].trace;
    bool seen[GS_ST_COUNT] = {0};
    int checked = 0;
    double nspp = (double)(V.t1 - V.t0) / V.lay.lanes.w;
    for (int i = 0; i < V.lay.n_rows; i++) {
        const gv_row_t *row = &V.lay.rows[i];
        if (row->kind != GV_ROW_LANE || row->run != 0)
            continue;
        const gs_lane_t *lane = gs_trace_lane(t, row->lane);
        if (lane->kind != GS_LANE_THREAD)
            continue;
        int y = row->y + row->h / 4;
        for (int x = 0; x < V.lay.lanes.w; x += 3) {
            int64_t ta = V.t0 + (int64_t)(x * nspp), tb = V.t0 + (int64_t)((x + 1) * nspp);
            const gs_interval_t *a = gv_lane_at(lane, ta), *b = gv_lane_at(lane, tb - 1);
            if (!a || a != b || a->state == GS_ST_DONE)
                continue;
            if (near_overlay(t, V.lay.lanes.x + x))
                continue;
            uint32_t want = gs_state_color((gs_state_t)a->state);
            if (ta > V.playhead && V.future == GV_FUTURE_DIM) /* the future, dimmed */
                want = ((want & 0xFEFEFEu) >> 1) + 0x7F7F7Fu;
            else if (tb > V.playhead && V.future == GV_FUTURE_HIDE)
                continue;
            else if (tb > V.playhead && ta <= V.playhead)
                continue;
            uint32_t got = ui_pixel(V.lay.lanes.x + x, y);
            ck_assert_msg(got == want, "lane %s at %lld ns: pixel %06x, state %s is %06x",
                          lane->name, (long long)ta, got, gs_state_key((gs_state_t)a->state), want);
            seen[a->state] = true;
            checked++;
        }
    }
    *n_states = 0;
    for (int s = 0; s < GS_ST_COUNT; s++)
        *n_states += seen[s];
    return checked;
}

/* ---- core ------------------------------------------------------------------ */

START_TEST(test_lane_colour_is_the_state_in_the_trace)
{
    load_default();
    gv_view_set_range(&V, 0, 30000000);
    ui_draw(W, H);
    int n_states;
    int checked = check_lane_colours(&n_states);
    ck_assert_int_gt(checked, 200);
    ck_assert_int_ge(n_states, 2);
}
END_TEST

START_TEST(test_legend_shows_every_state_colour_and_axis_is_drawn)
{
    load_default();
    ui_draw(W, H);
    for (int s = 0; s < GS_ST_COUNT; s++)
        if (s != GS_ST_DONE)
            ck_assert_msg(ui_region_has(V.lay.footer, gs_state_color((gs_state_t)s)),
                          "legend lacks the colour of %s", gs_state_key((gs_state_t)s));
    /* the axis baseline: ink across the whole width of the lanes */
    int y = V.lay.axis.y;
    for (int x = V.lay.axis.x; x < V.lay.axis.x + V.lay.axis.w; x += 7)
        ck_assert_uint_eq(ui_pixel(x, y), GV_INK);
    /* tick labels: some dark text pixels under the baseline */
    SDL_Rect under = {V.lay.axis.x, y + 4, V.lay.axis.w, V.lay.line};
    ck_assert(ui_region_has(under, GV_INK));
}
END_TEST

START_TEST(test_wheel_zooms_around_the_cursor)
{
    load_default();
    ui_draw(W, H);
    int x = V.lay.lanes.x + V.lay.lanes.w / 3;
    SDL_Event m;
    memset(&m, 0, sizeof m);
    m.type = SDL_MOUSEMOTION;
    m.motion.x = x;
    m.motion.y = V.lay.lanes.y + 10;
    ui_send(m);
    int64_t before = gv_x_to_t(&V, x), span = V.t1 - V.t0;
    SDL_Event w;
    memset(&w, 0, sizeof w);
    w.type = SDL_MOUSEWHEEL;
    w.wheel.y = 3;
    ui_send(w);
    ck_assert_int_lt(V.t1 - V.t0, span * 6 / 10);
    int64_t after = gv_x_to_t(&V, x);
    ck_assert_int_le(llabs(after - before), (V.t1 - V.t0) / V.lay.lanes.w * 2 + 1);
}
END_TEST

START_TEST(test_drag_and_arrows_pan)
{
    load_default();
    gv_view_set_range(&V, 20000000, 40000000);
    ui_draw(W, H);
    int64_t t0 = V.t0, span = V.t1 - V.t0;
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT;
    e.button.x = V.lay.lanes.x + 400;
    e.button.y = V.lay.lanes.y + 20;
    ui_send(e);
    e.type = SDL_MOUSEMOTION;
    e.motion.x = V.lay.lanes.x + 200;
    e.motion.y = V.lay.lanes.y + 20;
    ui_send(e);
    e.type = SDL_MOUSEBUTTONUP;
    e.button.x = V.lay.lanes.x + 200;
    ui_send(e);
    /* dragging 200 px left shows later times by 200 px worth */
    int64_t want = t0 + span * 200 / V.lay.lanes.w;
    ck_assert_int_le(llabs(V.t0 - want), span / V.lay.lanes.w + 1);
    ck_assert_int_eq(V.t1 - V.t0, span);
    int64_t t1 = V.t0;
    ui_key(SDLK_LEFT, 0);
    ck_assert_int_lt(V.t0, t1);
    ui_key(SDLK_RIGHT, 0);
    ck_assert_int_eq(V.t0, t1);
}
END_TEST

START_TEST(test_shift_drag_zooms_to_the_selection)
{
    load_default();
    ui_draw(W, H);
    int xa = V.lay.lanes.x + 100, xb = V.lay.lanes.x + 300;
    int64_t ta = gv_x_to_t(&V, xa), tb = gv_x_to_t(&V, xb);
    SDL_SetModState(KMOD_LSHIFT);
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT;
    e.button.x = xa;
    e.button.y = V.lay.lanes.y + 20;
    ui_send(e);
    e.type = SDL_MOUSEBUTTONUP;
    e.button.x = xb;
    ui_send(e);
    SDL_SetModState(KMOD_NONE);
    ck_assert_int_eq(V.t0, ta);
    ck_assert_int_eq(V.t1, tb);
}
END_TEST

/* true when some lane of the trace has an interval boundary or an instant at t */
static bool is_event_time(const gs_trace_t *t, int64_t at)
{
    for (int l = 0; l < gs_trace_n_lanes(t); l++) {
        const gs_lane_t *lane = gs_trace_lane(t, l);
        for (size_t i = 0; i < lane->n; i++)
            if (lane->iv[i].start_ns == at || lane->iv[i].end_ns == at)
                return true;
    }
    for (size_t i = 0; i < gs_trace_n_instants(t); i++)
        if (gs_trace_instants(t)[i].t_ns == at)
            return true;
    return false;
}

START_TEST(test_step_keys_land_on_events_in_order)
{
    load_default();
    ui_draw(W, H);
    ui_key(SDLK_HOME, 0);
    ck_assert_int_eq(V.playhead, 0);
    /* one event per press, in engine order: the events of one instant one
     * by one (the playhead stays), each named in the panel; back the same way */
    int64_t seen[60];
    char said[60][400];
    int same_instant = 0;
    for (int i = 0; i < 60; i++) {
        int64_t before = V.playhead;
        ui_key(SDLK_PERIOD, 0);
        ck_assert_int_ge(V.playhead, before);
        same_instant += i > 0 && V.playhead == before;
        ck_assert_msg(is_event_time(V.run[0].trace, V.playhead), "%lld is no event",
                      (long long)V.playhead);
        ck_assert(gv_step_text(&V, said[i], sizeof said[i]));
        for (int j = 0; j < i; j++) /* never the same event twice */
            ck_assert(seen[j] != V.playhead || strcmp(said[j], said[i]) != 0);
        seen[i] = V.playhead;
    }
    ck_assert_int_gt(same_instant, 5); /* the convoy's hand-offs: several events at once */
    for (int i = 58; i >= 0; i--) {
        ui_key(SDLK_COMMA, 0);
        ck_assert_int_eq(V.playhead, seen[i]);
        char now[400];
        ck_assert(gv_step_text(&V, now, sizeof now));
        ck_assert_str_eq(now, said[i]);
    }
    ui_key(SDLK_END, 0);
    ck_assert_int_eq(V.playhead, V.end_ns);
}
END_TEST

START_TEST(test_reload_of_broken_file_keeps_picture_and_shows_banner)
{
    write_file(gs_scenario_default_json());
    ck_assert_int_eq(gv_view_load(&V, tmp_path), 0);
    ui_draw(W, H);
    const gs_trace_t *before = V.run[0].trace;
    SDL_Rect L = V.lay.lanes;
    uint32_t *copy = malloc((size_t)L.w * L.h * 4);
    for (int y = 0; y < L.h; y++)
        for (int x = 0; x < L.w; x++)
            copy[(size_t)y * L.w + x] = ui_pixel(L.x + x, L.y + y);
    write_file("{\n  \"name\": \"broken\",\n  \"threads\": [ { \"name\": \"a\" \n");
    ui_key(SDLK_r, 0);
    ck_assert(V.banner_error);
    ck_assert_msg(strstr(V.banner, tmp_path) != NULL, "banner names no file: %s", V.banner);
    ck_assert_ptr_eq(V.run[0].trace, before);
    /* the lanes below the banner are the same pixels as before */
    ui_draw(W, H);
    ck_assert(ui_region_has(V.lay.lanes, GV_ERROR)); /* the banner's frame */
    int banner_bottom = 0;
    for (int y = L.y; y < L.y + L.h; y++)
        if (ui_pixel(V.lay.w / 2, y) == GV_ERROR)
            banner_bottom = y;
    int same = 0, total = 0;
    for (int y = banner_bottom + 2; y < L.y + L.h; y += 2)
        for (int x = 0; x < L.w; x += 5, total++)
            same += ui_pixel(L.x + x, y) == copy[(size_t)(y - L.y) * L.w + x];
    ck_assert_int_gt(total, 100);
    ck_assert_int_eq(same, total);
    free(copy);
}
END_TEST

START_TEST(test_watched_file_reloads_when_it_changes)
{
    write_file(gs_scenario_default_json());
    ck_assert_int_eq(gv_view_load(&V, tmp_path), 0);
    ck_assert_int_eq(gs_trace_n_cores(V.run[0].trace), 2);
    char *text = strdup(gs_scenario_default_json());
    char *c = strstr(text, "\"cores\": 2");
    ck_assert_ptr_nonnull(c);
    c[9] = '3';
    sleep(1); /* a new mtime even on coarse file systems */
    write_file(text);
    free(text);
    gv_view_tick(&V, 100000);
    ck_assert_int_eq(gs_trace_n_cores(V.run[0].trace), 3);
    ck_assert(!V.banner_error);
}
END_TEST

START_TEST(test_knobs_resimulate_with_the_new_setting)
{
    load_default();
    ui_draw(W, H);
    ui_key(SDLK_k, 0);
    ck_assert_int_eq(V.knobs.cores, 3);
    ck_assert_int_eq(gs_trace_n_cores(V.run[0].trace), 3);
    int64_t iv = V.knobs.interval_ns;
    ui_key(SDLK_i, KMOD_LSHIFT);
    ck_assert_int_lt(V.knobs.interval_ns, iv);
    ck_assert_int_eq(gs_trace_switch_interval_ns(V.run[0].trace, 0), V.knobs.interval_ns);
    ui_key(SDLK_g, 0);
    ck_assert_int_eq(V.knobs.gil, GS_GIL_CPYTHON2);
    ck_assert_int_eq(gs_trace_process_gil(V.run[0].trace, 0), GS_GIL_CPYTHON2);
    ui_key(SDLK_g, 0);
    ck_assert_int_eq(V.knobs.gil, GS_GIL_NONE);
    ck_assert_int_lt(gs_trace_gil_lane(V.run[0].trace, 0), 0);
    int pol = V.knobs.policy;
    ui_key(SDLK_p, 0);
    ck_assert_int_ne(V.knobs.policy, pol);
    /* P visits every policy, eevdf (the Linux default) included, and comes back */
    bool seen_eevdf = V.knobs.policy == GS_POLICY_EEVDF;
    for (int k = 0; k < GS_POLICY_EEVDF; k++) {
        ui_key(SDLK_p, 0);
        seen_eevdf = seen_eevdf || V.knobs.policy == GS_POLICY_EEVDF;
    }
    ck_assert(seen_eevdf);
    ck_assert_int_eq(V.knobs.policy, pol);
    ui_key(SDLK_p, 0);
    /* on-screen button: cores minus */
    ui_draw(W, H);
    SDL_Rect b = V.lay.btn[GV_BTN_CORES_DOWN];
    ck_assert_int_gt(b.w, 0);
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT;
    e.button.x = b.x + b.w / 2;
    e.button.y = b.y + b.h / 2;
    ui_send(e);
    ck_assert_int_eq(gs_trace_n_cores(V.run[0].trace), 2);
}
END_TEST

START_TEST(test_compare_stacks_the_other_gil_model)
{
    load_default();
    ui_key(SDLK_c, 0);
    ck_assert_int_eq(V.n_runs, 2);
    ck_assert_int_ge(gs_trace_gil_lane(V.run[0].trace, 0), 0);
    ck_assert_int_lt(gs_trace_gil_lane(V.run[1].trace, 0), 0);
    ui_draw(W, H);
    int rows_b = 0;
    for (int i = 0; i < V.lay.n_rows; i++)
        rows_b += V.lay.rows[i].run == 1 && V.lay.rows[i].kind == GV_ROW_LANE;
    ck_assert_int_eq(rows_b, gs_trace_n_lanes(V.run[1].trace));
    ui_key(SDLK_c, 0);
    ck_assert_int_eq(V.n_runs, 1);
}
END_TEST

START_TEST(test_queues_panel_lists_gil_waiters_only_when_there_are_some)
{
    load_default();
    const gs_trace_t *t = V.run[0].trace;
    const gs_lane_t *server = gs_trace_lane(t, gs_trace_thread_lane(t, 1));
    int64_t waiting = -1, idle = -1;
    for (size_t i = 0; i < server->n; i++)
        if (server->iv[i].state == GS_ST_WAIT_GIL && waiting < 0)
            waiting = (server->iv[i].start_ns + server->iv[i].end_ns) / 2;
    idle = V.end_ns - 1000; /* the server is done long before the cruncher */
    ck_assert_int_ge(waiting, 0);
    SDL_Rect queues;
    gv_view_set_playhead(&V, waiting);
    ui_draw(W, H);
    queues = (SDL_Rect){V.lay.panel.x, V.lay.panel.y, V.lay.panel.w, V.lay.panel.h / 2};
    ck_assert(ui_region_has(queues, gs_state_color(GS_ST_WAIT_GIL)));
    gv_view_set_playhead(&V, idle);
    ui_draw(W, H);
    ck_assert(!ui_region_has(queues, gs_state_color(GS_ST_WAIT_GIL)));
}
END_TEST

START_TEST(test_click_selects_the_thread_of_a_lane)
{
    load_default();
    ui_draw(W, H);
    int y = -1;
    for (int i = 0; i < V.lay.n_rows; i++) {
        const gv_row_t *row = &V.lay.rows[i];
        if (row->kind == GV_ROW_LANE &&
            gs_trace_lane(V.run[0].trace, row->lane)->kind == GS_LANE_THREAD &&
            gs_trace_lane(V.run[0].trace, row->lane)->index == 1)
            y = row->y + row->h / 2;
    }
    ck_assert_int_ge(y, 0);
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_MOUSEBUTTONDOWN;
    e.button.button = SDL_BUTTON_LEFT;
    e.button.x = V.lay.lanes.x + 50;
    e.button.y = y;
    ui_send(e);
    e.type = SDL_MOUSEBUTTONUP;
    ui_send(e);
    ck_assert_int_eq(V.selected, 1);
}
END_TEST

static const char *thread_name(int th)
{
    const gs_trace_t *t = V.run[0].trace;
    return gs_trace_lane(t, gs_trace_thread_lane(t, th))->name;
}

/* The middle of the row of a thread's lane, or -1. */
static int lane_row_y(int thread)
{
    const gs_trace_t *t = V.run[0].trace;
    for (int i = 0; i < V.lay.n_rows; i++) {
        const gv_row_t *row = &V.lay.rows[i];
        if (row->kind == GV_ROW_LANE && row->run == 0 &&
            gs_trace_lane(t, row->lane)->kind == GS_LANE_THREAD &&
            gs_trace_lane(t, row->lane)->index == thread)
            return row->y + row->h / 2;
    }
    return -1;
}

/* Is x within a few pixels of a marker on thread th's lane? */
static bool near_marker_of(int th, int x)
{
    for (size_t i = 0; i < V.run[0].n_instants; i++) {
        const gs_instant_t *e = &V.run[0].instants[i];
        if (e->thread == th && abs((int)gv_t_to_x(&V, e->t_ns) - x) <= V.lay.px / 2 + 4)
            return true;
    }
    return false;
}

/* Hovering a marker explains it (who asked whom, what happens next); a bar
 * away from markers still gives the bar's state and times. */
START_TEST(test_tooltip_explains_markers_and_bars)
{
    load_default();
    ui_draw(W, H);
    const gs_trace_t *t = V.run[0].trace;
    const gs_instant_t *req = NULL, *forced = NULL;
    for (size_t i = 0; i < V.run[0].n_instants; i++) {
        const gs_instant_t *e = &V.run[0].instants[i];
        if (!req && e->kind == GS_IN_DROP_REQUEST)
            req = e;
        if (!forced && e->kind == GS_IN_FORCED_SWITCH)
            forced = e;
    }
    ck_assert_ptr_nonnull(req);
    ck_assert_ptr_nonnull(forced);
    char lines[GV_TIP_LINES][GV_TIP_WIDTH];

    int n = gv_tooltip_text(&V, (int)gv_t_to_x(&V, req->t_ns) + 2, lane_row_y(req->thread), lines);
    ck_assert_int_ge(n, 3);
    ck_assert_msg(strncmp(lines[0], "Drop request at ", 16) == 0, "%s", lines[0]);
    ck_assert_msg(strstr(lines[1], thread_name(req->thread)) != NULL, "%s", lines[1]);
    ck_assert_msg(strstr(lines[2], thread_name((int)req->arg)) != NULL, "%s", lines[2]);

    n = gv_tooltip_text(&V, (int)gv_t_to_x(&V, forced->t_ns) - 1, lane_row_y(forced->thread),
                        lines);
    ck_assert_int_ge(n, 2);
    ck_assert_msg(strncmp(lines[0], "Forced switch at ", 17) == 0, "%s", lines[0]);

    /* A column of the server's lane with no marker near: its bar. */
    int th = req->thread, y = lane_row_y(th);
    for (int x = V.lay.lanes.x + 5; x < V.lay.lanes.x + V.lay.lanes.w; x += 7) {
        const gs_interval_t *iv = gv_lane_at(gs_trace_lane(t, gs_trace_thread_lane(t, th)),
                                             gv_x_to_t(&V, x));
        if (near_marker_of(th, x) || !iv || iv->state == GS_ST_DONE)
            continue;
        n = gv_tooltip_text(&V, x, y, lines);
        ck_assert_int_ge(n, 3);
        ck_assert_str_eq(lines[0], thread_name(th));
        ck_assert_msg(strncmp(lines[1], gs_state_text((gs_state_t)iv->state),
                              strlen(gs_state_text((gs_state_t)iv->state))) == 0,
                      "%s", lines[1]);
        return;
    }
    ck_abort_msg("no column of the lane without a marker");
}
END_TEST

START_TEST(test_dropped_file_is_loaded)
{
    write_file(gs_scenario_default_json());
    load_default();
    ck_assert_ptr_null(V.path);
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_DROPFILE;
    e.drop.file = SDL_strdup(tmp_path);
    ui_send(e); /* the view does not own the string: free it as the loop does */
    ck_assert_ptr_nonnull(V.path);
    ck_assert_str_eq(V.path, tmp_path);
}
END_TEST

/* Sixty lanes do not fit with their names: the view scrolls instead of
 * shrinking them, PgDn brings the last lane into view, PgUp goes back. */
START_TEST(test_many_lanes_scroll_with_page_keys)
{
    write_file("{\"threads\": [{\"name\": \"w\", \"count\": 60,"
               " \"program\": [{\"io\": \"1ms\"}, {\"cpu\": \"100us\"}]}]}");
    ck_assert_int_eq(gv_view_load(&V, tmp_path), 0);
    ui_draw(W, H);
    const gv_layout_t *l = &V.lay;
    ck_assert_int_gt(l->content_h, l->lanes.h);
    ck_assert_int_eq(l->scroll, 0);
    const gv_row_t *last = &l->rows[l->n_rows - 1];
    ck_assert_int_ge(last->h, l->line / 2);       /* still tall enough for a name */
    ck_assert_int_ge(last->y, l->lanes.y + l->lanes.h); /* so below the fold */
    for (int i = 0; i < 20; i++)
        ui_key(SDLK_PAGEDOWN, 0);
    ui_draw(W, H);
    ck_assert_int_eq(l->scroll, l->content_h - l->lanes.h); /* clamped at the end */
    last = &l->rows[l->n_rows - 1];
    ck_assert_int_le(last->y + last->h, l->lanes.y + l->lanes.h);
    ck_assert_int_ge(last->y, l->lanes.y);
    for (int i = 0; i < 20; i++)
        ui_key(SDLK_PAGEUP, 0);
    ui_draw(W, H);
    ck_assert_int_eq(l->scroll, 0);
    ck_assert_int_eq(l->rows[0].y, l->lanes.y);
    /* selecting with the arrows brings the selected lane into view */
    V.selected = -1; /* (a load selects the thread of the opening wait) */
    ui_key(SDLK_UP, 0); /* from no selection or the first thread, up to the last ones */
    ui_draw(W, H);
    ck_assert_int_ge(V.selected, 50); /* a lane below the fold */
    ck_assert_int_gt(l->scroll, 0);
    int lane = gs_trace_thread_lane(V.run[0].trace, V.selected);
    for (int i = 0; i < l->n_rows; i++)
        if (l->rows[i].kind == GV_ROW_LANE && l->rows[i].lane == lane) {
            ck_assert_int_ge(l->rows[i].y, l->lanes.y);
            ck_assert_int_le(l->rows[i].y + l->rows[i].h, l->lanes.y + l->lanes.h);
        }
}
END_TEST

/* ---- limits ------------------------------------------------------------------ */

START_TEST(test_small_window_still_draws)
{
    load_default();
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, 320, 240, 32, SDL_PIXELFORMAT_ARGB8888);
    gv_view_t v2;
    gv_view_init(&v2);
    ck_assert_int_eq(gv_view_load(&v2, NULL), 0);
    SDL_Renderer *r = SDL_CreateSoftwareRenderer(s);
    ck_assert_int_eq(gv_view_draw(&v2, r, 320, 240), 0);
    gv_view_destroy(&v2);
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(s);
}
END_TEST

START_TEST(test_zoom_stops_at_the_minimum_span_and_the_whole_run)
{
    load_default();
    ui_draw(W, H);
    for (int i = 0; i < 60; i++)
        ui_key(SDLK_PLUS, 0);
    ck_assert_int_ge(V.t1 - V.t0, 100);
    ck_assert_int_ge(V.t0, 0);
    for (int i = 0; i < 80; i++)
        ui_key(SDLK_MINUS, 0);
    ck_assert_int_eq(V.t0, 0);
    ck_assert_int_le(V.t1, V.end_ns + V.end_ns / 10 + 100);
    ui_draw(W, H);
}
END_TEST

START_TEST(test_missing_file_is_reported_and_nothing_is_loaded)
{
    ck_assert_int_ne(gv_view_load(&V, "/nonexistent/lesson.json"), 0);
    ck_assert_int_eq(V.n_runs, 0);
    ck_assert(V.banner_error);
    ck_assert_ptr_nonnull(strstr(V.banner, "/nonexistent/lesson.json"));
    ui_draw(W, H); /* an empty picture with the banner, no crash */
}
END_TEST

START_TEST(test_bad_override_is_reported_and_keeps_the_picture)
{
    load_default();
    const gs_trace_t *t = V.run[0].trace;
    ck_assert_int_eq(gv_view_add_set(&V, "machine.cores=zero"), 0);
    ck_assert_int_ne(gv_view_reload(&V), 0);
    ck_assert(V.banner_error);
    ck_assert_ptr_eq(V.run[0].trace, t);
}
END_TEST

/* ---- props -------------------------------------------------------------------- */

START_TEST(test_lane_colours_match_at_every_zoom)
{
    load_default();
    uint64_t x = 12345 + (uint64_t)_i * 7919;
    for (int k = 0; k < 5; k++) {
        x = x * 6364136223846793005ull + 1442695040888963407ull;
        int64_t span = 200000 + (int64_t)((x >> 20) % 40000000);
        int64_t a = (int64_t)((x >> 8) % (uint64_t)(V.end_ns > span ? V.end_ns - span : 1));
        gv_view_set_range(&V, a, a + span);
        ui_draw(W, H);
        int n_states;
        check_lane_colours(&n_states);
    }
}
END_TEST

/* ---- issue 17: why, the whole run, short events ------------------------------- */

/* Row of thread th's lane in run 0. */
static const gv_row_t *thread_row(int th)
{
    for (int i = 0; i < V.lay.n_rows; i++) {
        const gv_row_t *row = &V.lay.rows[i];
        const gs_lane_t *l = row->kind == GV_ROW_LANE ? gs_trace_lane(V.run[row->run].trace, row->lane) : NULL;
        if (l && row->run == 0 && l->kind == GS_LANE_THREAD && l->index == th)
            return row;
    }
    return NULL;
}

/* Every I/O call of the convoy's server (0.1 ms) shows at least one pixel
 * column in the I/O colour, at the whole run and at random zooms. */
START_TEST(test_short_events_stay_visible_at_any_zoom)
{
    load_default();
    V.future = GV_FUTURE_SHOW;
    const gs_trace_t *t = V.run[0].trace;
    const gs_lane_t *server = gs_trace_lane(t, gs_trace_thread_lane(t, 1));
    uint64_t x = 99;
    for (int k = 0; k < 6; k++) {
        if (k == 0) {
            gv_view_fit(&V);
        } else {
            x = x * 6364136223846793005ull + 1442695040888963407ull;
            int64_t span = 2000000 + (int64_t)((x >> 20) % 100000000);
            int64_t a = (int64_t)((x >> 8) % (uint64_t)(V.end_ns - span));
            gv_view_set_range(&V, a, a + span);
        }
        ui_draw(W, H);
        const gv_row_t *row = thread_row(1);
        ck_assert_ptr_nonnull(row);
        int y = row->y + row->h * 3 / 4, n_io = 0;
        for (size_t i = 0; i < server->n; i++) {
            const gs_interval_t *iv = &server->iv[i];
            if (iv->state != GS_ST_IO || iv->start_ns < V.t0 || iv->end_ns > V.t1)
                continue;
            int x0 = (int)gv_t_to_x(&V, iv->start_ns) - 1, x1 = (int)gv_t_to_x(&V, iv->end_ns) + 1;
            bool seen = false, dashed = false; /* an annotation's line may cover it */
            for (int a = 0; a < gs_trace_n_annotations(t); a++)
                dashed |= abs((int)gv_t_to_x(&V, gs_trace_annotation_at(t, a)) - x0) <= 4;
            if (dashed)
                continue;
            for (int px = x0; px <= x1 && !seen; px++)
                seen = px >= V.lay.lanes.x && ui_pixel(px, y) == gs_state_color(GS_ST_IO);
            ck_assert_msg(seen, "I/O at %lld ns not drawn over %lld..%lld ns",
                          (long long)iv->start_ns, (long long)V.t0, (long long)V.t1);
            n_io++;
        }
        if (k == 0)
            ck_assert_int_ge(n_io, 15);
    }
}
END_TEST

/* The whole run is drawn: after the playhead dimmed (halfway to white), in
 * full, or hidden, as V cycles. */
START_TEST(test_future_is_drawn_dimmed_in_full_or_hidden)
{
    load_default();
    const gs_trace_t *t = V.run[0].trace;
    const gs_lane_t *cr = gs_trace_lane(t, gs_trace_thread_lane(t, 0));
    gv_view_fit(&V);
    gv_view_set_playhead(&V, 20000000);
    int64_t later = 150000000; /* the cruncher runs Python alone there */
    const gs_interval_t *iv = gv_lane_at(cr, later);
    ck_assert(iv && iv->state == GS_ST_PY);
    uint32_t c = gs_state_color(GS_ST_PY), dim = ((c & 0xFEFEFEu) >> 1) + 0x7F7F7Fu;
    uint32_t want[3] = {dim, c, GV_BG};
    ck_assert_int_eq(V.future, GV_FUTURE_DIM);
    for (int mode = 0; mode < 3; mode++) {
        ui_draw(W, H);
        const gv_row_t *row = thread_row(0);
        uint32_t got = ui_pixel((int)gv_t_to_x(&V, later), row->y + row->h * 3 / 4);
        ck_assert_msg(got == want[mode], "mode %d: pixel %06x, want %06x", mode, got, want[mode]);
        /* before the playhead, always the state's own colour */
        ck_assert_int_eq(ui_pixel((int)gv_t_to_x(&V, 1000000), row->y + row->h * 3 / 4), c);
        ui_key(SDLK_v, 0);
    }
    ck_assert_int_eq(V.future, GV_FUTURE_DIM);
}
END_TEST

/* The panel's chain for the selected thread is gs_explain's, for both runs
 * in compare mode, and names the GIL holder; the panel shows it. */
START_TEST(test_why_panel_explains_the_selected_thread)
{
    load_default();
    const gs_trace_t *t = V.run[0].trace;
    const gs_lane_t *server = gs_trace_lane(t, gs_trace_thread_lane(t, 1));
    int64_t waiting = -1;
    for (size_t i = 0; i < server->n && waiting < 0; i++)
        if (server->iv[i].state == GS_ST_WAIT_GIL && server->iv[i].end_ns - server->iv[i].start_ns > 1000000)
            waiting = server->iv[i].start_ns + 500000;
    ck_assert_int_ge(waiting, 0);
    gv_view_set_playhead(&V, waiting);
    V.selected = 1;
    char *txt = gv_why_text(&V, 0, 1, waiting);
    ck_assert_ptr_nonnull(txt);
    ck_assert_ptr_nonnull(strstr(txt, "server is waiting for the GIL"));
    ck_assert_ptr_nonnull(strstr(txt, "held by cruncher"));
    ck_assert_ptr_nonnull(strstr(txt, "-> cruncher is running Python"));
    free(txt);
    ui_draw(W, H);
    /* the chain is drawn at the top of the panel: ink below the title */
    SDL_Rect top = {V.lay.panel.x, V.lay.panel.y + 2 * V.lay.line, V.lay.panel.w, 3 * V.lay.line};
    ck_assert(ui_region_has(top, GV_INK));
    ui_key(SDLK_c, 0);
    ck_assert_int_eq(V.n_runs, 2);
    txt = gv_why_text(&V, 1, 1, waiting);
    ck_assert_ptr_nonnull(txt); /* no GIL in run B: the server is running or in I/O */
    ck_assert_ptr_null(strstr(txt, "waiting for the GIL"));
    free(txt);
    ui_draw(W, H);
}
END_TEST

/* At the convoy's first drop request the steps name the timeout and the
 * request, in the engine's order: the request before the forced switch. */
START_TEST(test_steps_name_events_in_engine_order)
{
    load_default();
    const gs_trace_t *t = V.run[0].trace;
    int64_t req = -1;
    for (size_t i = 0; i < gs_trace_n_instants(t) && req < 0; i++)
        if (gs_trace_instants(t)[i].kind == GS_IN_DROP_REQUEST)
            req = gs_trace_instants(t)[i].t_ns;
    ck_assert_int_gt(req, 0);
    gv_view_set_playhead(&V, req - 1);
    char txt[400];
    int k_req = -1, k_forced = -1;
    for (int k = 0; k < 12; k++) {
        gv_step(&V, +1);
        if (V.playhead != req)
            break;
        ck_assert(gv_step_text(&V, txt, sizeof txt));
        if (strstr(txt, "sets the drop request"))
            k_req = k;
        if (strstr(txt, "drops the GIL on the drop request"))
            k_forced = k;
    }
    ck_assert_int_ge(k_req, 0);
    ck_assert_int_gt(k_forced, k_req);
}
END_TEST

/* A new file opens with the playhead where the lesson's point is: open_at,
 * else the first annotation, else the middle of the longest GIL wait. */
START_TEST(test_opening_playhead_shows_the_lesson_point)
{
    load_default(); /* the convoy names its instant: the server waiting */
    ck_assert_int_eq(V.playhead, 14000000);
    write_file("{ \"annotations\": [ { \"at\": \"4ms\", \"text\": \"look\" } ], \"threads\": "
               "[ { \"name\": \"a\", \"program\": [ { \"cpu\": \"10ms\" } ] } ] }");
    ck_assert_int_eq(gv_view_load(&V, tmp_path), 0);
    ck_assert_int_eq(V.playhead, 4000000); /* else the first annotation */
    write_file("{ \"open_at\": \"3ms\", \"threads\": [ { \"name\": \"a\", \"program\": "
               "[ { \"cpu\": \"10ms\" } ] } ] }");
    ck_assert_int_eq(gv_view_load(&V, tmp_path), 0);
    ck_assert_int_eq(V.playhead, 3000000);
    write_file("{ \"threads\": [ { \"name\": \"a\", \"program\": [ { \"cpu\": \"10ms\" } ] },"
               " { \"name\": \"b\", \"program\": [ { \"cpu\": \"10ms\" } ] } ] }");
    ck_assert_int_eq(gv_view_load(&V, tmp_path), 0);
    const gs_trace_t *t = V.run[0].trace;
    bool waiting = false;
    for (int th = 0; th < 2; th++) {
        const gs_interval_t *iv = gv_lane_at(gs_trace_lane(t, gs_trace_thread_lane(t, th)), V.playhead);
        waiting |= iv && iv->state == GS_ST_WAIT_GIL;
    }
    ck_assert(waiting);
    ck_assert_int_lt(V.playhead, V.end_ns);
}
END_TEST

/* A file broken when the viewer starts is still watched, and R reloads it
 * rather than the built-in scenario. */
START_TEST(test_file_broken_at_start_is_watched_and_reloaded)
{
    write_file("{ \"name\": \"Mine\", \"threads\": [ oops ] }");
    ck_assert_int_ne(gv_view_load(&V, tmp_path), 0);
    ck_assert_int_eq(V.n_runs, 0);
    ck_assert_ptr_nonnull(V.path);
    ck_assert_str_eq(V.path, tmp_path);
    ck_assert(V.banner_error);
    write_file("{ \"name\": \"Mine\", \"threads\": [ { \"name\": \"a\", \"program\": "
               "[ { \"cpu\": \"1ms\" } ] } ] }");
    ui_key(SDLK_r, 0);
    ck_assert_int_eq(V.n_runs, 1);
    ck_assert_str_eq(gs_trace_name(V.run[0].trace), "Mine");
    /* and again from scratch, this time fixed on disk while watched */
    gv_view_destroy(&V);
    gv_view_init(&V);
    write_file("{ \"name\": \"Mine\", \"threads\": [ oops ] }");
    ck_assert_int_ne(gv_view_load(&V, tmp_path), 0);
    struct timespec old = V.mtime;
    for (int i = 0; i < 100 && V.mtime.tv_sec == old.tv_sec && V.mtime.tv_nsec == old.tv_nsec; i++) {
        SDL_Delay(10); /* a new mtime, even on coarse file systems */
        write_file("{ \"name\": \"Fixed\", \"threads\": [ { \"name\": \"a\", \"program\": "
                   "[ { \"cpu\": \"1ms\" } ] } ] }");
        gv_view_tick(&V, 100000 + 1000 * (uint32_t)i);
    }
    ck_assert_int_eq(V.n_runs, 1);
    ck_assert_str_eq(gs_trace_name(V.run[0].trace), "Fixed");
}
END_TEST

/* S saves what is shown, says where (an absolute path) and asks for a redraw
 * so that the notice shows without waiting for the mouse. */
START_TEST(test_screenshot_says_where_the_file_went)
{
    load_default();
    char dir[] = "/tmp/gilsim-shot-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    ck_assert_int_eq(chdir(dir), 0);
    snprintf(V.shot_dir, sizeof V.shot_dir, ".");
    ui_key(SDLK_s, 0);
    ck_assert(V.want_screenshot);
    ui_draw(W, H);
    ck_assert(gv_view_screenshot(&V, R, W, H)); /* true: draw again */
    ck_assert(!V.want_screenshot);
    ck_assert_int_eq(V.shot_last[0], '/');
    ck_assert_int_eq(strncmp(V.shot_last, dir, strlen(dir)), 0);
    ck_assert_int_eq(access(V.shot_last, R_OK), 0);
    ck_assert_ptr_nonnull(strstr(V.banner, V.shot_last));
    ck_assert(!V.banner_error);
    remove(V.shot_last);
    ck_assert_int_eq(chdir("/"), 0);
    rmdir(dir);
}
END_TEST

/* O browses folders (parent first, Enter opens, Backspace goes up) and L
 * brings back the lessons from anywhere. */
START_TEST(test_open_browses_folders_and_lessons_are_one_key_away)
{
    char dir[] = "/tmp/gilsim-pick-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char sub[64], a[96], b[96];
    snprintf(sub, sizeof sub, "%s/sub", dir);
    snprintf(a, sizeof a, "%s/a.json", dir);
    snprintf(b, sizeof b, "%s/b.json", sub);
    ck_assert_int_eq(mkdir(sub, 0700), 0);
    const char *json = "{ \"name\": \"A\", \"threads\": [ { \"name\": \"t\", \"program\": "
                       "[ { \"cpu\": \"1ms\" } ] } ] }";
    for (int k = 0; k < 2; k++) {
        FILE *f = fopen(k ? b : a, "w");
        ck_assert_ptr_nonnull(f);
        fputs(json, f);
        fclose(f);
    }
    ck_assert_int_eq(gv_view_load(&V, a), 0);
    ui_key(SDLK_o, 0);
    ck_assert(V.picker.open);
    ck_assert_str_eq(V.picker.dir, dir);
    ck_assert(V.picker.is_dir[0]); /* the parent first */
    int isub = -1;
    for (int i = 0; i < V.picker.n; i++)
        if (V.picker.is_dir[i] && strstr(V.picker.files[i], "/sub/"))
            isub = i;
    ck_assert_int_ge(isub, 0);
    V.picker.sel = isub;
    ui_key(SDLK_RETURN, 0);
    ck_assert(V.picker.open);
    ck_assert_str_eq(V.picker.dir, sub);
    bool has_b = false;
    for (int i = 0; i < V.picker.n; i++)
        has_b |= strcmp(V.picker.files[i], b) == 0 || strstr(V.picker.files[i], "/b.json") != NULL;
    ck_assert(has_b);
    ui_key(SDLK_BACKSPACE, 0);
    ck_assert_str_eq(V.picker.dir, dir);
    ui_key(SDLK_l, 0); /* the lessons, from a folder far away */
    ck_assert(V.picker.open);
    int convoy = -1;
    for (int i = 0; i < V.picker.n; i++)
        if (strstr(V.picker.files[i], "03-convoy.json"))
            convoy = i;
    ck_assert_int_ge(convoy, 0);
    ui_draw(W, H); /* the list is drawn */
    V.picker.sel = convoy;
    ui_key(SDLK_RETURN, 0);
    ck_assert(!V.picker.open);
    ck_assert_str_eq(gs_trace_name(V.run[0].trace), "Convoy effect");
    ui_key(SDLK_ESCAPE, 0);
    ui_key(SDLK_l, 0); /* and L from the main view */
    ck_assert(V.picker.open);
    ui_key(SDLK_ESCAPE, 0);
    remove(b);
    remove(a);
    rmdir(sub);
    rmdir(dir);
}
END_TEST

/* Compare anything: B from KEY=VALUE settings; the knobs act on A or B
 * (Tab); U resets the target's overrides; titles say each run's settings. */
START_TEST(test_compare_any_settings_and_knobs_on_a_or_b)
{
    load_default();
    ck_assert_int_eq(gv_view_set_compare_spec(&V, "python.switch_interval=1ms,machine.cores=4"), 0);
    ck_assert_int_ne(gv_view_set_compare_spec(&V, "nonsense"), 0);
    ui_key(SDLK_c, 0);
    ck_assert_int_eq(V.n_runs, 2);
    const gs_model_t *a = V.run[0].model, *b = V.run[1].model;
    ck_assert_int_eq(a->processes[0].python.switch_interval_ns, 5000000);
    ck_assert_int_eq(b->processes[0].python.switch_interval_ns, 1000000);
    ck_assert_int_eq(b->machine.cores, 4);
    ck_assert_int_eq(b->processes[0].python.gil, GS_GIL_CPYTHON3); /* not flipped */
    ck_assert_ptr_nonnull(strstr(V.run[1].label, "interval 1 ms"));
    ck_assert_ptr_nonnull(strstr(V.run[1].label, "4 cores"));
    ui_draw(W, H);
    ui_key(SDLK_TAB, 0); /* knobs on B */
    ck_assert_int_eq(V.target, 1);
    ui_key(SDLK_k, 0); /* one core more, on B only */
    ck_assert_int_eq(V.run[1].model->machine.cores, 5);
    ck_assert_int_eq(V.run[0].model->machine.cores, 2);
    ck_assert(V.knobs_b.set_cores);
    ck_assert(!V.knobs.set_cores);
    ui_key(SDLK_u, 0); /* B's override dropped: back to --compare's 4 cores */
    ck_assert(!V.knobs_b.set_cores);
    ck_assert_int_eq(V.run[1].model->machine.cores, 4);
    ui_key(SDLK_TAB, 0);
    ui_key(SDLK_i, 0); /* A's interval */
    ck_assert(V.knobs.set_interval);
    ck_assert_int_ne(V.run[0].model->processes[0].python.switch_interval_ns, 5000000);
    ck_assert_int_eq(V.run[1].model->processes[0].python.switch_interval_ns, 1000000);
    ui_draw(W, H);
}
END_TEST

/* A fitted view is refitted when a knob changes the run's length; an
 * edited file is reloaded, and the knobs that still override it are named. */
START_TEST(test_refit_after_length_change_and_overrides_named_on_reload)
{
    write_file(gs_scenario_default_json());
    ck_assert_int_eq(gv_view_load(&V, tmp_path), 0);
    gv_view_fit(&V);
    int64_t end0 = V.end_ns;
    ui_key(SDLK_g, 0); /* another GIL model: another length */
    ck_assert_int_ne(V.end_ns, end0);
    ck_assert_int_eq(V.t0, 0);
    ck_assert_int_eq(V.t1, V.end_ns + V.end_ns / 50 + 1);
    ui_key(SDLK_u, 0);
    ui_key(SDLK_i, 0); /* an override the file does not know */
    ck_assert(V.knobs.set_interval);
    struct timespec old = V.mtime;
    for (int i = 0; i < 100 && V.mtime.tv_sec == old.tv_sec && V.mtime.tv_nsec == old.tv_nsec; i++) {
        SDL_Delay(10);
        write_file(gs_scenario_default_json());
        V.last_watch_ms = 0; /* a real clock: the notice lasts 4 s from now */
        gv_view_tick(&V, SDL_GetTicks() + 600);
    }
    ck_assert_msg(strstr(V.banner, "changed on disk"), "banner: %s", V.banner);
    ck_assert_ptr_nonnull(strstr(V.banner, "still override"));
    ck_assert_ptr_nonnull(strstr(V.banner, "interval"));
}
END_TEST

/* T changes the OS time slice, an override like the other knobs. */
START_TEST(test_timeslice_knob)
{
    ck_assert_int_eq(gv_view_add_set(&V, "machine.policy=rr"), 0);
    load_default();
    int64_t before = V.run[0].model->machine.timeslice_ns;
    ui_key(SDLK_t, 0);
    ck_assert(V.knobs.set_timeslice);
    ck_assert_int_gt(V.run[0].model->machine.timeslice_ns, before);
    ui_key(SDLK_t, KMOD_LSHIFT);
    ui_key(SDLK_t, KMOD_LSHIFT);
    ck_assert_int_lt(V.run[0].model->machine.timeslice_ns, before);
    ui_draw(W, H);
    ui_key(SDLK_u, 0);
    ck_assert_int_eq(V.run[0].model->machine.timeslice_ns, before);
}
END_TEST

/* A confines the program to CPU 0 (the top-level "cpus", as taskset -c 0):
 * the model's threads then run on core 0 only; A again frees it, U resets. */
static int64_t on_core(const gs_trace_t *t, int core)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, core));
    int64_t ns = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->iv[i].who >= 0)
            ns += l->iv[i].end_ns - l->iv[i].start_ns;
    return ns;
}

START_TEST(test_affinity_knob)
{
    load_default();
    ck_assert(!V.knobs.one_cpu);
    ck_assert_int_gt(on_core(V.run[0].trace, 1), 0);
    ui_key(SDLK_a, 0);
    ck_assert(V.knobs.one_cpu && V.knobs.set_one_cpu);
    ck_assert(gs_cpuset_allows(&V.run[0].model->processes[0].cpus, 0));
    ck_assert(!gs_cpuset_allows(&V.run[0].model->processes[0].cpus, 1));
    ck_assert_int_eq(on_core(V.run[0].trace, 1), 0);
    ck_assert_int_gt(on_core(V.run[0].trace, 0), 0);
    ui_draw(W, H);
    ui_key(SDLK_a, 0);
    ck_assert(!V.knobs.one_cpu);
    ck_assert_int_gt(on_core(V.run[0].trace, 1), 0);
    ui_key(SDLK_a, 0);
    ui_key(SDLK_u, 0);
    ck_assert(!V.knobs.set_one_cpu);
    ck_assert_int_gt(on_core(V.run[0].trace, 1), 0);
}
END_TEST

/* M: the GIL lane in its holder's colour, running bars in their thread's,
 * waits in their state's. */
START_TEST(test_thread_colour_mode)
{
    load_default();
    V.future = GV_FUTURE_SHOW;
    gv_view_set_range(&V, 0, 30000000);
    ui_key(SDLK_m, 0);
    ck_assert(V.color_by_thread);
    ck_assert_ptr_nonnull(strstr(V.banner, "by thread"));
    V.banner[0] = '\0'; /* the notice would cover the top lanes */
    ui_draw(W, H);
    const gs_trace_t *t = V.run[0].trace;
    const gs_lane_t *gil = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    int checked = 0;
    for (int i = 0; i < V.lay.n_rows; i++) {
        const gv_row_t *row = &V.lay.rows[i];
        if (row->kind != GV_ROW_LANE)
            continue;
        const gs_lane_t *l = gs_trace_lane(t, row->lane);
        int y = row->y + row->h / 8; /* above the holder names on the bars */
        for (int x = V.lay.lanes.x + 6; x < V.lay.lanes.x + V.lay.lanes.w - 4; x += 7) {
            int64_t ta = gv_x_to_t(&V, x), tb = gv_x_to_t(&V, x + 1);
            const gs_interval_t *a = gv_lane_at(l, ta), *b = gv_lane_at(l, tb);
            if (!a || a != b || near_overlay(t, x))
                continue;
            uint32_t want;
            if (l == gil || l->kind == GS_LANE_CORE)
                want = gv_thread_color(a->who);
            else if (a->state == GS_ST_PY || a->state == GS_ST_C_GIL || a->state == GS_ST_C_NOGIL)
                want = gv_thread_color(l->index);
            else
                want = gs_state_color((gs_state_t)a->state);
            ck_assert_msg(ui_pixel(x, y) == want, "%s at %lld: %06x, want %06x", l->name,
                          (long long)ta, ui_pixel(x, y), want);
            checked++;
        }
    }
    ck_assert_int_gt(checked, 100);
    ck_assert_uint_ne(gv_thread_color(0), gv_thread_color(1));
    ui_key(SDLK_m, 0);
    ck_assert(!V.color_by_thread);
}
END_TEST

/* At 1.6x text on a 1280x720 projector every knob and button is still on
 * screen, none over another, and the panel's headings are not cut. */
START_TEST(test_large_text_keeps_every_button)
{
    load_default();
    V.text_scale = 1.6;
    memset(V.lay.btn, 0, sizeof V.lay.btn);
    ck_assert_int_eq(gv_view_draw(&V, R, 1280, 720), 0);
    for (int b = 0; b < GV_N_BUTTONS; b++) {
        if (b == GV_BTN_PLAY)
            continue;
        SDL_Rect r = V.lay.btn[b];
        ck_assert_msg(r.w > 0 && r.x >= 0 && r.x + r.w <= 1280, "button %d: %d+%d", b, r.x, r.w);
        for (int c = 0; c < b; c++) {
            SDL_Rect q = V.lay.btn[c];
            if (c != GV_BTN_PLAY)
                ck_assert_msg(!SDL_HasIntersection(&r, &q), "buttons %d and %d overlap", b, c);
        }
    }
}
END_TEST

static Suite *view_suite(void)
{
    Suite *s = suite_create("view");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_lane_colour_is_the_state_in_the_trace);
    tcase_add_test(core, test_legend_shows_every_state_colour_and_axis_is_drawn);
    tcase_add_test(core, test_wheel_zooms_around_the_cursor);
    tcase_add_test(core, test_drag_and_arrows_pan);
    tcase_add_test(core, test_shift_drag_zooms_to_the_selection);
    tcase_add_test(core, test_step_keys_land_on_events_in_order);
    tcase_add_test(core, test_reload_of_broken_file_keeps_picture_and_shows_banner);
    tcase_add_test(core, test_watched_file_reloads_when_it_changes);
    tcase_add_test(core, test_knobs_resimulate_with_the_new_setting);
    tcase_add_test(core, test_compare_stacks_the_other_gil_model);
    tcase_add_test(core, test_queues_panel_lists_gil_waiters_only_when_there_are_some);
    tcase_add_test(core, test_click_selects_the_thread_of_a_lane);
    tcase_add_test(core, test_dropped_file_is_loaded);
    tcase_add_test(core, test_tooltip_explains_markers_and_bars);
    tcase_add_test(core, test_many_lanes_scroll_with_page_keys);
    tcase_add_test(core, test_short_events_stay_visible_at_any_zoom);
    tcase_add_test(core, test_future_is_drawn_dimmed_in_full_or_hidden);
    tcase_add_test(core, test_why_panel_explains_the_selected_thread);
    tcase_add_test(core, test_steps_name_events_in_engine_order);
    tcase_add_test(core, test_opening_playhead_shows_the_lesson_point);
    tcase_add_test(core, test_file_broken_at_start_is_watched_and_reloaded);
    tcase_add_test(core, test_screenshot_says_where_the_file_went);
    tcase_add_test(core, test_open_browses_folders_and_lessons_are_one_key_away);
    tcase_add_test(core, test_compare_any_settings_and_knobs_on_a_or_b);
    tcase_add_test(core, test_refit_after_length_change_and_overrides_named_on_reload);
    tcase_add_test(core, test_timeslice_knob);
    tcase_add_test(core, test_affinity_knob);
    tcase_add_test(core, test_thread_colour_mode);
    tcase_add_test(core, test_large_text_keeps_every_button);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_add_checked_fixture(limits, setup, teardown);
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, test_small_window_still_draws);
    tcase_add_test(limits, test_zoom_stops_at_the_minimum_span_and_the_whole_run);
    tcase_add_test(limits, test_missing_file_is_reported_and_nothing_is_loaded);
    tcase_add_test(limits, test_bad_override_is_reported_and_keeps_the_picture);
    suite_add_tcase(s, limits);
    TCase *props = tcase_create("props");
    tcase_add_checked_fixture(props, setup, teardown);
    tcase_set_timeout(props, 120);
    tcase_add_loop_test(props, test_lane_colours_match_at_every_zoom, 0, 4);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(view_suite());
}
