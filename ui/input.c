/* input.c - keyboard, mouse, touch and file-drop events; playback and file
 * watching. Everything here changes gv_view_t only: drawing happens later,
 * so tests can push events and check the state without a window.
 *
 * Mouse coordinates arrive in window points; they are scaled by px_per_pt to
 * output pixels (HiDPI) before any hit test. */
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* Playback rates, simulated time per real second (1-2-5 steps). */
static const int64_t rates[] = {
    1000,      2000,      5000,       10000,      20000,      50000,      100000,
    200000,    500000,    1000000,    2000000,    5000000,    10000000,   20000000,
    50000000,  100000000, 200000000,  500000000,  1000000000, 2000000000, 5000000000};
#define N_RATES ((int)(sizeof rates / sizeof rates[0]))

static const int64_t intervals[] = {100000,  200000,   500000,   1000000,  2000000,
                                    5000000, 10000000, 20000000, 50000000, 100000000};
#define N_INTERVALS ((int)(sizeof intervals / sizeof intervals[0]))

int64_t gv_view_play_rate(const gv_view_t *v)
{
    if (v->speed_idx >= 0 && v->speed_idx < N_RATES)
        return rates[v->speed_idx];
    /* automatic: the visible range plays in about 10 seconds */
    int64_t want = (v->t1 - v->t0) / 10;
    int i = 0;
    while (i + 1 < N_RATES && rates[i + 1] <= want)
        i++;
    return rates[i];
}

static int rate_index(const gv_view_t *v)
{
    int64_t r = gv_view_play_rate(v);
    for (int i = 0; i < N_RATES; i++)
        if (rates[i] == r)
            return i;
    return 0;
}

/* ---- knobs ------------------------------------------------------------------ */

static void knob_changed(gv_view_t *v, const char *what)
{
    if (v->n_runs == 0)
        return;
    gv_knobs_t *k = gv_view_knobs(v), old = *k;
    int rc = gv_view_reload(v);
    int run = v->compare ? v->target : 0;
    char head[4] = "";
    if (v->n_runs > 1)
        snprintf(head, sizeof head, "%c: ", 'A' + run);
    if (rc < 0)
        *k = old; /* the banner says why; the picture stays */
    else if (rc == 0 && run < v->n_runs && !gv_view_limit_text(v, NULL, 0))
        /* done at once, not cut by the budget (whose message the banner
         * keeps); GV_PENDING: the knob stays, bg.c says when it is done */
        gv_view_notice(v, false, "%s%s: %s (U resets)", head, what, v->run[run].label);
}

static void step_interval(gv_view_t *v, int dir)
{
    int i = 0;
    while (i < N_INTERVALS && intervals[i] < gv_view_knobs(v)->interval_ns)
        i++;
    /* i: first preset >= current */
    if (dir > 0)
        i = (i < N_INTERVALS && intervals[i] == gv_view_knobs(v)->interval_ns) ? i + 1 : i;
    else
        i = i - 1;
    if (i < 0 || i >= N_INTERVALS)
        return;
    gv_view_knobs(v)->interval_ns = intervals[i];
    gv_view_knobs(v)->set_interval = true;
    knob_changed(v, "switch interval");
}

/* T: the OS time slice (rr and priority), 1 ms .. 100 ms. */
static void step_timeslice(gv_view_t *v, int dir)
{
    static const int64_t slices[] = {1000000, 2000000, 4000000, 10000000, 20000000, 50000000,
                                     100000000};
    gv_knobs_t *k = gv_view_knobs(v);
    int i = 0;
    while (i < 7 && slices[i] < k->timeslice_ns)
        i++;
    if (dir > 0)
        i = (i < 7 && slices[i] == k->timeslice_ns) ? i + 1 : i;
    else
        i--;
    if (i < 0 || i >= 7) {
        gv_view_notice(v, false, "time slice: %s is the %s", i < 0 ? "1 ms" : "100 ms",
                       i < 0 ? "shortest" : "longest");
        return;
    }
    k->timeslice_ns = slices[i];
    k->set_timeslice = true;
    knob_changed(v, "time slice");
}

static void step_cores(gv_view_t *v, int dir)
{
    int c = gv_view_knobs(v)->cores + dir;
    if (c < 1 || c > 64)
        return;
    gv_view_knobs(v)->cores = c;
    gv_view_knobs(v)->set_cores = true;
    knob_changed(v, "cores");
}

/* The program on CPU 0 only (taskset -c 0) or on every CPU: the top-level
 * "cpus"; processes with their own (a fit's other load) keep theirs. */
static void toggle_one_cpu(gv_view_t *v)
{
    gv_knobs_t *k = gv_view_knobs(v);
    k->one_cpu = !k->one_cpu;
    k->set_one_cpu = true;
    knob_changed(v, "CPU affinity");
}

static void cycle_gil(gv_view_t *v)
{
    static const int order[] = {GS_GIL_CPYTHON3, GS_GIL_CPYTHON2, GS_GIL_NONE};
    int i = 0;
    while (i < 3 && order[i] != gv_view_knobs(v)->gil)
        i++;
    gv_view_knobs(v)->gil = order[(i + 1) % 3];
    gv_view_knobs(v)->set_gil = true;
    knob_changed(v, "GIL");
}

static void cycle_policy(gv_view_t *v)
{
    gv_view_knobs(v)->policy = (gv_view_knobs(v)->policy + 1) % (GS_POLICY_EEVDF + 1);
    gv_view_knobs(v)->set_policy = true;
    knob_changed(v, "OS policy");
}

/* ---- actions shared by keys and buttons ------------------------------------ */

static void toggle_play(gv_view_t *v)
{
    if (v->n_runs == 0)
        return;
    if (!v->playing && v->playhead >= v->end_ns) {
        v->playhead = v->t0 < v->end_ns ? v->t0 : 0; /* replay the visible range */
    }
    v->playing = !v->playing;
    v->last_tick_ms = SDL_GetTicks();
}

static void press(gv_view_t *v, gv_button_t b)
{
    switch (b) {
    case GV_BTN_INTERVAL_DOWN: step_interval(v, -1); break;
    case GV_BTN_INTERVAL_UP: step_interval(v, +1); break;
    case GV_BTN_CORES_DOWN: step_cores(v, -1); break;
    case GV_BTN_CORES_UP: step_cores(v, +1); break;
    case GV_BTN_GIL: cycle_gil(v); break;
    case GV_BTN_POLICY: cycle_policy(v); break;
    case GV_BTN_COMPARE: gv_view_set_compare(v, !v->compare); break;
    case GV_BTN_OPEN: gv_picker_open(v); break;
    case GV_BTN_RELOAD: gv_view_reload(v); break;
    case GV_BTN_PLAY: toggle_play(v); break;
    case GV_BTN_HELP: v->help = !v->help; break;
    default: break;
    }
}

static int64_t zoom_center(const gv_view_t *v)
{
    if (v->playhead >= v->t0 && v->playhead <= v->t1 && v->playhead < v->end_ns)
        return v->playhead;
    return v->t0 + (v->t1 - v->t0) / 2;
}

static void step_event(gv_view_t *v, int dir)
{
    gv_step(v, dir);
}

static void text_size(gv_view_t *v, int dir)
{
    if (dir == 0)
        v->text_scale = 1.0;
    else
        v->text_scale *= dir > 0 ? 1.15 : 1 / 1.15;
    if (v->text_scale < 0.6)
        v->text_scale = 0.6;
    if (v->text_scale > 3.0)
        v->text_scale = 3.0;
}

/* Scrolls the lanes so that thread th's row (of the first run) is in view;
 * the next layout clamps the scroll. */
static void scroll_to_thread(gv_view_t *v, int th)
{
    gv_layout_t *l = &v->lay;
    int lane = gs_trace_thread_lane(v->run[0].trace, th);
    for (int i = 0; i < l->n_rows; i++) {
        const gv_row_t *row = &l->rows[i];
        if (row->kind != GV_ROW_LANE || row->run != 0 || row->lane != lane)
            continue;
        if (row->y < l->lanes.y)
            l->scroll -= l->lanes.y - row->y;
        else if (row->y + row->h > l->lanes.y + l->lanes.h)
            l->scroll += row->y + row->h - (l->lanes.y + l->lanes.h);
        return;
    }
}

static bool in_rect(SDL_Rect r, int x, int y)
{
    return x >= r.x && x < r.x + r.w && y >= r.y && y < r.y + r.h;
}

/* Keys that move in time, zoom, select or scroll: 1 or 0 (redraw or not),
 * or -1 when sym is not one of them. */
static int key_moves(gv_view_t *v, SDL_Keycode sym, bool ctrl, bool shift)
{
    int64_t span = v->t1 - v->t0;
    switch (sym) {
    case SDLK_SPACE: toggle_play(v); return 1;
    case SDLK_PERIOD: step_event(v, +1); return 1;
    case SDLK_COMMA: step_event(v, -1); return 1;
    case SDLK_HOME:
    case SDLK_END:
        v->playing = false;
        gv_view_set_playhead(v, sym == SDLK_HOME ? 0 : v->end_ns);
        return 1;
    case SDLK_LEFT: gv_view_pan(v, -span / (shift ? 2 : 8)); return 1;
    case SDLK_RIGHT: gv_view_pan(v, span / (shift ? 2 : 8)); return 1;
    case SDLK_UP:
    case SDLK_DOWN: {
        int n = v->n_runs ? gs_trace_n_threads(v->run[0].trace) : 0, cur = gv_view_thread_in(v, 0);
        if (n == 0)
            return 0;
        cur = sym == SDLK_DOWN ? (cur + 1) % n : (cur + n - 1) % n;
        gv_view_select(v, cur < 0 ? cur + n : cur);
        scroll_to_thread(v, v->selected);
        return 1;
    }
    case SDLK_PLUS:
    case SDLK_EQUALS:
    case SDLK_KP_PLUS:
    case SDLK_MINUS:
    case SDLK_KP_MINUS: {
        int dir = sym == SDLK_MINUS || sym == SDLK_KP_MINUS ? -1 : +1;
        if (ctrl)
            text_size(v, dir);
        else
            gv_view_zoom(v, dir > 0 ? 0.5 : 2.0, zoom_center(v));
        return 1;
    }
    case SDLK_0:
        if (ctrl)
            text_size(v, 0);
        return ctrl;
    case SDLK_f: gv_view_fit(v); return 1;
    case SDLK_PAGEUP:
    case SDLK_PAGEDOWN: /* scroll the panel (the mouse over it, or the lanes fit), else the
                           lanes; the next draw clamps */
        if ((v->mouse_in && in_rect(v->lay.panel, v->mouse_x, v->mouse_y)) ||
            v->lay.content_h <= v->lay.lanes.h)
            v->lay.panel_scroll += (sym == SDLK_PAGEDOWN ? 1 : -1) * v->lay.panel_view.h * 4 / 5;
        else
            v->lay.scroll += (sym == SDLK_PAGEDOWN ? 1 : -1) * v->lay.lanes.h * 4 / 5;
        return 1;
    case SDLK_LEFTBRACKET:
        v->speed_idx = rate_index(v) > 0 ? rate_index(v) - 1 : 0;
        return 1;
    case SDLK_RIGHTBRACKET:
        v->speed_idx = rate_index(v) + 1 < N_RATES ? rate_index(v) + 1 : N_RATES - 1;
        return 1;
    default: return -1;
    }
}

/* Keys that change a mode: after the playhead (V), colours (M), the knob
 * target in compare mode (Tab). */
static int key_modes(gv_view_t *v, SDL_Keycode sym)
{
    switch (sym) {
    case SDLK_v:
        v->future = (v->future + 1) % GV_FUTURE_MODES;
        gv_view_notice(v, false, "after the playhead: %s",
                       v->future == GV_FUTURE_DIM    ? "the run is drawn dimmed"
                       : v->future == GV_FUTURE_SHOW ? "the run is drawn in full"
                                                     : "hidden, revealed as it plays");
        return 1;
    case SDLK_TAB: /* the knobs act on run A or run B */
        if (!v->compare) {
            gv_view_notice(v, false, "one run: the knobs act on it (C compares two)");
            return 1;
        }
        if (v->real) { /* issue 14: a recording has nothing to re-run */
            gv_view_notice(v, false,
                           "the knobs act on C, the what-if: A is the recording, what "
                           "happened, and B %s, the check",
                           v->replay ? "its replay at the recorded settings"
                                     : "the file simulated as written");
            return 1;
        }
        v->target = !v->target;
        gv_view_notice(v, false, "the knobs act on run %s: %s", v->target ? "B" : "A",
                       v->run[v->target].label);
        return 1;
    case SDLK_m:
        v->color_by_thread = !v->color_by_thread;
        gv_view_notice(v, false, "colours: %s", v->color_by_thread
                                                   ? "by thread (running bars, the GIL's holder, "
                                                     "the cores' threads; waits keep theirs)"
                                                   : "by state");
        return 1;
    default: return -1;
    }
}

/* The knobs, files, exercise, screenshot, help and quit. */
static bool key_actions(gv_view_t *v, SDL_Keycode sym, bool shift)
{
    switch (sym) {
    case SDLK_q: v->quit = true; return false;
    case SDLK_ESCAPE:
        if (v->banner[0]) {
            v->banner[0] = 0;
            return true;
        }
        if (v->exercise.state == GV_EX_REVEAL) {
            v->exercise.state = GV_EX_OFF;
            return true;
        }
        return false;
    case SDLK_i: step_interval(v, shift ? -1 : +1); return true;
    case SDLK_k: step_cores(v, shift ? -1 : +1); return true;
    case SDLK_t: step_timeslice(v, shift ? -1 : +1); return true;
    case SDLK_g: cycle_gil(v); return true;
    case SDLK_a: toggle_one_cpu(v); return true;
    case SDLK_p: cycle_policy(v); return true;
    case SDLK_c: press(v, GV_BTN_COMPARE); return true;
    case SDLK_o: gv_picker_open(v); return true;
    case SDLK_l: gv_picker_lessons(v); return true;
    case SDLK_u: gv_view_reset_knobs(v); return true;
    case SDLK_e: gv_exercise_start(v); return true;
    case SDLK_r: gv_view_reload(v); return true;
    case SDLK_s: v->want_screenshot = true; return true;
    case SDLK_h:
    case SDLK_F1: v->help = !v->help; return true;
    default: return false;
    }
}

static bool key(gv_view_t *v, const SDL_KeyboardEvent *k)
{
    SDL_Keycode sym = k->keysym.sym;
    bool ctrl = (k->keysym.mod & KMOD_CTRL) != 0;
    bool shift = (k->keysym.mod & KMOD_SHIFT) != 0;
    if (v->help && sym != SDLK_h && sym != SDLK_F1) {
        v->help = false;
        return true;
    }
    int r = key_moves(v, sym, ctrl, shift);
    if (r < 0)
        r = key_modes(v, sym);
    return r >= 0 ? r : key_actions(v, sym, shift);
}

/* ---- mouse -------------------------------------------------------------------- */


static void select_at(gv_view_t *v, int x, int y)
{
    const gv_row_t *row = gv_row_at(v, y);
    if (!row || row->kind != GV_ROW_LANE) {
        gv_view_select(v, -1);
        return;
    }
    const gs_lane_t *lane = gs_trace_lane(v->run[row->run].trace, row->lane);
    const gs_interval_t *iv = lane->kind == GS_LANE_THREAD || !in_rect(v->lay.lanes, x, y)
                                  ? NULL
                                  : gv_lane_at(lane, gv_x_to_t(v, x));
    v->selected = lane->kind == GS_LANE_THREAD ? lane->index : iv && iv->who >= 0 ? iv->who : -1;
    v->sel_run = row->run; /* a thread of B or C: the one of that name in the others */
}

static bool mouse_down(gv_view_t *v, int x, int y, bool shift)
{
    for (int b = 0; b < GV_N_BUTTONS; b++)
        if (v->lay.btn[b].w > 0 && in_rect(v->lay.btn[b], x, y)) {
            press(v, (gv_button_t)b);
            return true;
        }
    if (in_rect(v->lay.axis, x, y)) {
        v->drag = 3;
        v->playing = false;
        gv_view_set_playhead(v, gv_x_to_t(v, x));
        return true;
    }
    if (in_rect(v->lay.lanes, x, y) || in_rect(v->lay.labels, x, y)) {
        v->drag = shift && in_rect(v->lay.lanes, x, y) ? 2 : 1;
        v->drag_x0 = x;
        v->drag_t0 = v->t0;
        v->drag_t1 = v->t1;
        return true;
    }
    return false;
}

static bool mouse_up(gv_view_t *v, int x, int y)
{
    int d = v->drag;
    v->drag = 0;
    if (d == 2 && abs(x - v->drag_x0) >= 4) {
        gv_view_set_range(v, gv_x_to_t(v, v->drag_x0), gv_x_to_t(v, x));
    } else if ((d == 1 || d == 2) && abs(x - v->drag_x0) < 4) {
        select_at(v, x, y);
    }
    return d != 0;
}

static bool mouse_move(gv_view_t *v, int x, int y)
{
    v->mouse_x = x;
    v->mouse_y = y;
    v->mouse_in = true;
    if (v->drag == 1 && v->lay.lanes.w > 0) {
        double nspp = (double)(v->drag_t1 - v->drag_t0) / v->lay.lanes.w;
        int64_t dt = (int64_t)((x - v->drag_x0) * nspp);
        gv_view_set_range(v, v->drag_t0 - dt, v->drag_t1 - dt);
    } else if (v->drag == 3) {
        gv_view_set_playhead(v, gv_x_to_t(v, x));
    }
    return true;
}

bool gv_view_event(gv_view_t *v, const SDL_Event *e)
{
    if (gv_bg_event(v, e))
        return true;
    if (v->picker.open && gv_picker_event(v, e))
        return true;
    if (gv_exercise_event(v, e)) /* while asking: nothing else may show the run */
        return true;
    int x, y;
    switch (e->type) {
    case SDL_QUIT: v->quit = true; return false;
    case SDL_WINDOWEVENT:
        if (e->window.event == SDL_WINDOWEVENT_LEAVE)
            v->mouse_in = false;
        return true;
    case SDL_DROPFILE:
        /* the caller frees e->drop.file */
        if (e->drop.file && gv_view_load(v, e->drop.file) == 0)
            gv_view_notice(v, false, "loaded %s", e->drop.file);
        return true;
    case SDL_KEYDOWN: return key(v, &e->key);
    case SDL_MOUSEWHEEL: {
        int wy = e->wheel.y, wx = e->wheel.x;
        if (e->wheel.direction == SDL_MOUSEWHEEL_FLIPPED) {
            wy = -wy;
            wx = -wx;
        }
        if (in_rect(v->lay.labels, v->mouse_x, v->mouse_y)) { /* over the names: scroll */
            v->lay.scroll -= wy * v->lay.line * 2;
            return true;
        }
        if (in_rect(v->lay.panel, v->mouse_x, v->mouse_y)) { /* over the panel: scroll it */
            v->lay.panel_scroll -= wy * v->lay.line * 2;
            return true;
        }
        int64_t at = in_rect(v->lay.lanes, v->mouse_x, v->mouse_y) ? gv_x_to_t(v, v->mouse_x)
                                                                   : zoom_center(v);
        if (wy)
            gv_view_zoom(v, pow(0.8, wy), at);
        if (wx)
            gv_view_pan(v, (v->t1 - v->t0) * wx / 10);
        return true;
    }
    case SDL_MULTIGESTURE: {
        if (fabsf(e->mgesture.dDist) < 1e-4f)
            return false;
        int px = (int)(e->mgesture.x * (float)v->lay.w);
        int64_t at = in_rect(v->lay.lanes, px, v->lay.lanes.y) ? gv_x_to_t(v, px) : zoom_center(v);
        gv_view_zoom(v, exp(-4.0 * e->mgesture.dDist), at);
        return true;
    }
    case SDL_MOUSEBUTTONDOWN:
        if (e->button.button != SDL_BUTTON_LEFT)
            return false;
        x = (int)(e->button.x * v->px_per_pt);
        y = (int)(e->button.y * v->px_per_pt);
        v->mouse_x = x;
        v->mouse_y = y;
        return mouse_down(v, x, y, (SDL_GetModState() & KMOD_SHIFT) != 0);
    case SDL_MOUSEBUTTONUP:
        if (e->button.button != SDL_BUTTON_LEFT)
            return false;
        return mouse_up(v, (int)(e->button.x * v->px_per_pt), (int)(e->button.y * v->px_per_pt));
    case SDL_MOUSEMOTION:
        return mouse_move(v, (int)(e->motion.x * v->px_per_pt), (int)(e->motion.y * v->px_per_pt));
    default: return false;
    }
}

/* ---- time passing -------------------------------------------------------------- */

static bool watch(gv_view_t *v, uint32_t now_ms)
{
    if (!v->path || now_ms - v->last_watch_ms < 500)
        return false;
    v->last_watch_ms = now_ms;
    struct stat st;
    if (stat(v->path, &st) != 0)
        return false;
    if (st.st_mtim.tv_sec == v->mtime.tv_sec && st.st_mtim.tv_nsec == v->mtime.tv_nsec)
        return false;
    v->mtime = st.st_mtim; /* once per change, even when the new text is broken */
    if (gv_view_reload(v) == 0) {
        /* an edit is not silently overridden by an old knob: say which stay */
        char a[160], b[160];
        gv_knobs_text(&v->knobs, a, sizeof a);
        gv_knobs_text(&v->knobs_b, b, sizeof b);
        if (a[0] || (v->compare && b[0]))
            gv_view_notice(v, false,
                           "%s changed on disk: reloaded, but your knobs still override "
                           "it: %s%s%s%s (U resets)",
                           v->path, a[0] ? a : "",
                           a[0] && v->compare && b[0] ? (v->real ? "; C: " : "; B: ") : "",
                           v->compare && b[0] && !a[0] ? (v->real ? "C: " : "B: ") : "",
                           v->compare ? b : "");
        else
            gv_view_notice(v, false, "%s changed on disk: reloaded", v->path);
    }
    return true;
}

bool gv_view_tick(gv_view_t *v, uint32_t now_ms)
{
    bool redraw = gv_bg_tick(v, now_ms);
    redraw |= watch(v, now_ms);
    if (v->banner[0] && v->banner_until_ms && (int32_t)(now_ms - v->banner_until_ms) > 0) {
        v->banner[0] = 0;
        redraw = true;
    }
    if (v->playing) {
        uint32_t dt = now_ms - v->last_tick_ms;
        int64_t adv = gv_view_play_rate(v) * (int64_t)dt / 1000;
        if (adv > 0 || dt > 100) {
            v->last_tick_ms = now_ms;
            int64_t t = v->playhead + adv;
            if (t >= v->end_ns) {
                t = v->end_ns;
                v->playing = false;
            }
            v->playhead = t;
            int64_t span = v->t1 - v->t0;
            if (t > v->t0 + span * 9 / 10 && v->t1 < v->end_ns)
                gv_view_set_range(v, t - span * 9 / 10, t + span / 10);
            redraw = true;
        }
    }
    return redraw;
}
