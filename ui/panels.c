/* panels.c - title and knob bar, footer with playback and legend, the error
 * banner and the help overlay. The queues and stats panel is in queues.c. */
#include "view.h"

#include <stdio.h>
#include <string.h>

#include "run.h"

int gv_title_height(gv_view_t *v, int w);
int gv_legend_height(gv_view_t *v, SDL_Renderer *r, int x, int y, int w, int draw);

static const char *scenario_name(const gv_view_t *v)
{
    const char *n = v->n_runs ? gs_trace_name(v->run[0].trace) : "";
    return *n ? n : v->n_runs ? "(unnamed scenario)" : "gilsim-view";
}

static const char *scenario_desc(const gv_view_t *v)
{
    if (v->exercise.state == GV_EX_ASK) /* a lesson's description may give the answer */
        return "Predict first: the run and the lesson's description are hidden until Enter.";
    return v->n_runs ? gs_trace_description(v->run[0].trace)
                     : "No scenario loaded: press O to pick one, or drop a file here.";
}

/* The description is wrapped whole (at large text a lesson's takes six
 * lines), up to a quarter of the window's height; only beyond that is the
 * last line cut with an ellipsis. In compare mode it yields to the lanes. */
static int desc_max_lines(gv_view_t *v)
{
    if (v->lay.desc_lines > 0) /* compare mode on a small screen (layout.c) */
        return v->lay.desc_lines;
    int lh = gv_text_line(v->text, GV_REGULAR);
    int n = lh > 0 ? v->lay.h / 4 / lh : 2;
    return n < 2 ? 2 : n;
}

/* Needs v->lay.h (gv_layout sets it first). */
int gv_title_height(gv_view_t *v, int w)
{
    int pad = gv_text_px(v->text) / 2;
    int lines = gv_text_wrap(v->text, GV_REGULAR, GV_MUTED, 0, 0, w - 2 * pad, scenario_desc(v),
                             desc_max_lines(v), 0);
    return pad / 2 + gv_text_line(v->text, GV_TITLE) + lines * gv_text_line(v->text, GV_REGULAR) +
           pad / 2;
}

/* ---- knob bar ------------------------------------------------------------------ */

/* A button; with r NULL only its width (the knob bar measures first). */
static int button(gv_view_t *v, SDL_Renderer *r, int x, int y, const char *label, bool on,
                  gv_button_t id)
{
    int px = v->lay.px, tw = gv_text_width(v->text, GV_BOLD, label);
    SDL_Rect b = {x, y, tw + px, v->lay.line};
    if (!r)
        return b.w;
    gv_fill(r, b, on ? 0x0072B2u : 0xFFFFFFu, 255);
    gv_frame(r, b, on ? 0x0072B2u : 0x8A8A8Au, 1);
    gv_text_draw(v->text, GV_BOLD, on ? 0xFFFFFFu : GV_INK, x + px / 2, y, label);
    v->lay.btn[id] = b;
    return b.w;
}

static int label(gv_view_t *v, SDL_Renderer *r, int x, int y, uint32_t rgb, const char *s)
{
    return r ? gv_text_draw(v->text, GV_REGULAR, rgb, x, y, s)
             : gv_text_width(v->text, GV_REGULAR, s);
}

/* The left side of the knob bar from x: the GIL model, the switch interval,
 * the cores, the OS policy (and its slice), compare. With r NULL it only
 * measures; short_gil names no GIL "none" (at large text). Returns the x
 * after it. */
static int left_knobs(gv_view_t *v, SDL_Renderer *r, int x, int y, bool short_gil)
{
    int px = v->lay.px, gap = px / 3;
    const gv_knobs_t *kn = gv_view_knobs(v);
    char buf[64], d[32];
    if (v->compare) /* which run the knobs act on */
        x += label(v, r, x, y, GV_ACCENT, v->target == 2 ? "C:" : v->target ? "B:" : "A:") + gap;
    x += label(v, r, x, y, GV_MUTED, kn->set_gil ? "GIL* " : "GIL ") + gap;
    const char *gil = kn->gil != GS_GIL_NONE ? gs_gil_name((gs_gil_kind_t)kn->gil)
                      : short_gil             ? "none"
                                              : "none (free-threaded)";
    x += button(v, r, x, y, gil, false, GV_BTN_GIL) + px;
    uint32_t c = kn->gil == GS_GIL_CPYTHON3 ? GV_INK : 0xA0A0A0u;
    gv_interval_name(d, sizeof d, kn->interval_ns);
    snprintf(buf, sizeof buf, "switch interval%s %s", kn->set_interval ? "*" : "", d);
    x += label(v, r, x, y, c, buf) + gap;
    x += button(v, r, x, y, "\xE2\x88\x92", false, GV_BTN_INTERVAL_DOWN) + 2;
    x += button(v, r, x, y, "+", false, GV_BTN_INTERVAL_UP) + px;
    snprintf(buf, sizeof buf, "cores%s %d", kn->set_cores ? "*" : "", kn->cores);
    x += label(v, r, x, y, GV_INK, buf) + gap;
    x += button(v, r, x, y, "\xE2\x88\x92", false, GV_BTN_CORES_DOWN) + 2;
    x += button(v, r, x, y, "+", false, GV_BTN_CORES_UP) + px;
    if (kn->one_cpu) /* only when confined: the bar stays as it was otherwise */
        x += label(v, r, x, y, GV_INK, kn->set_one_cpu ? "pinned* (A)" : "pinned (A)") + px;
    x += label(v, r, x, y, GV_MUTED, kn->set_policy ? "OS* " : "OS ") + gap;
    x += button(v, r, x, y, gs_policy_name((gs_policy_t)kn->policy), false, GV_BTN_POLICY) + gap;
    if (kn->policy == GS_POLICY_RR || kn->policy == GS_POLICY_PRIORITY) {
        gv_interval_name(d, sizeof d, kn->timeslice_ns);
        snprintf(buf, sizeof buf, "slice%s %s (T)", kn->set_timeslice ? "*" : "", d);
        x += label(v, r, x, y, GV_INK, buf) + gap;
    }
    x += px - gap;
    return x + button(v, r, x, y, "compare (C)", v->compare, GV_BTN_COMPARE) + px;
}

static void knob_bar(gv_view_t *v, SDL_Renderer *r)
{
    gv_layout_t *l = &v->lay;
    SDL_Rect k = l->knobs;
    gv_fill(r, k, GV_PANEL, 255);
    gv_fill(r, (SDL_Rect){0, k.y + k.h - 1, k.w, 1}, 0xCCCCCCu, 255);
    int px = l->px, y = k.y + (k.h - l->line) / 2, x = px / 2, gap = px / 3;
    /* right side, right-aligned; at large text only the keys, so that they
     * stay on screen (clicks still work), and no GIL is then just "none" */
    const char *full[] = {"help (H)", "reload (R)", "open (O)"}, *keys[] = {"H", "R", "O"};
    const char *const *right = full;
    gv_button_t ids[] = {GV_BTN_HELP, GV_BTN_RELOAD, GV_BTN_OPEN};
    int need = px / 2, need_keys = px / 2;
    for (int i = 0; i < 3; i++) {
        need += gv_text_width(v->text, GV_BOLD, full[i]) + px + gap;
        need_keys += gv_text_width(v->text, GV_BOLD, keys[i]) + px + gap;
    }
    bool short_gil = v->n_runs && k.w - need_keys < left_knobs(v, NULL, x, y, false);
    if (v->n_runs)
        x = left_knobs(v, r, x, y, short_gil);
    if (k.w - need < x)
        right = keys;
    int rx = k.w - px / 2;
    for (int i = 0; i < 3; i++) {
        int bw = gv_text_width(v->text, GV_BOLD, right[i]) + px;
        rx -= bw;
        if (rx < x)
            break;
        button(v, r, rx, y, right[i], false, ids[i]);
        rx -= gap;
    }
}

void gv_draw_title(gv_view_t *v, SDL_Renderer *r)
{
    gv_layout_t *l = &v->lay;
    int pad = l->px / 2;
    gv_fill(r, l->title, GV_BG, 255);
    int y = pad / 2;
    gv_text_draw_fit(v->text, GV_TITLE, GV_INK, pad, y, l->w - 2 * pad, scenario_name(v));
    y += gv_text_line(v->text, GV_TITLE);
    gv_text_wrap(v->text, GV_REGULAR, GV_MUTED, pad, y, l->w - 2 * pad, scenario_desc(v),
                 desc_max_lines(v), 1);
    knob_bar(v, r);
}

/* ---- footer: playback and legend ---------------------------------------------- */

static void play_text(const gv_view_t *v, char *buf, size_t n)
{
    char rate[32];
    gv_fmt_dur(rate, sizeof rate, gv_view_play_rate(v));
    snprintf(buf, n, "%s  %s per second  [ ]", v->playing ? "pause (space)" : "play (space)",
             rate);
}

/* A marker or swatch in the legend, s pixels square. */
static void legend_mark(SDL_Renderer *r, int kind, int x, int y, int s)
{
    switch (kind) {
    case 0: case 1: /* drop request (down), forced switch (up) */
        for (int k = 0; k < s; k++) {
            int half = kind == 0 ? (s - 1 - k) * 2 / 3 : k * 2 / 3;
            gv_fill(r, (SDL_Rect){x + s / 2 - half - 1, y + k, 2 * half + 3, 1}, GV_INK, 255);
            if (k > 0 && k < s - 1)
                gv_fill(r, (SDL_Rect){x + s / 2 - half, y + k, 2 * half + 1, 1}, GV_ACCENT, 255);
        }
        break;
    case 2: /* futile wake-up */
        for (int k = -s / 2; k <= s / 2; k++) {
            int half = s / 2 - (k < 0 ? -k : k);
            gv_fill(r, (SDL_Rect){x + s / 2 - half - 1, y + s / 2 + k, 2 * half + 3, 1}, GV_INK, 255);
            gv_fill(r, (SDL_Rect){x + s / 2 - half, y + s / 2 + k, 2 * half + 1, 1}, GV_ACCENT, 255);
        }
        break;
    case 3: /* deadlock */
        gv_fill(r, (SDL_Rect){x + s / 2 - 1, y, 3, s}, GV_ERROR, 255);
        break;
    case 5: /* OS preemption: a notch up from the lane's bottom */
        gv_fill(r, (SDL_Rect){x + s / 2 - 1, y + s / 2, 3, s - s / 2}, GV_INK, 255);
        break;
    default: /* annotation */
        gv_fill(r, (SDL_Rect){x + 1, y, 2, s}, GV_INK, 255);
        gv_fill(r, (SDL_Rect){x + 3, y, s - 3, s / 2}, 0xFCE9B8u, 255);
        gv_frame(r, (SDL_Rect){x + 3, y, s - 3, s / 2}, GV_INK, 1);
    }
}

/* The legend's pen: items flow left to right and wrap at x0 + w. */
typedef struct legend {
    gv_view_t *v;
    SDL_Renderer *r; /* NULL: measure only */
    int x0, w, x, y, s, px, line;
} legend_t;

enum { LG_SWATCH = -100, LG_STRIPE = -101 }; /* else a legend_mark kind */

static void legend_item(legend_t *g, int mark, uint32_t rgb, const char *text)
{
    int iw = g->s + g->px / 3 + gv_text_width(g->v->text, GV_REGULAR, text) + g->px;
    if (g->x + iw > g->x0 + g->w && g->x > g->x0) {
        g->x = g->x0;
        g->y += g->line + g->px / 4;
    }
    if (g->r) {
        int sy = g->y + (g->line - g->s) / 2, s = g->s;
        if (mark == LG_SWATCH || mark == LG_STRIPE) {
            gv_fill(g->r, (SDL_Rect){g->x, sy, s, s}, rgb, 255);
            if (mark == LG_STRIPE)
                gv_fill(g->r, (SDL_Rect){g->x, sy + s * 2 / 3, s, s - s * 2 / 3},
                        gs_state_color(GS_ST_PY), 255);
            gv_frame(g->r, (SDL_Rect){g->x, sy, s, s}, 0x777777u, 1);
        } else {
            legend_mark(g->r, mark, g->x, sy, s);
        }
        gv_text_draw(g->v->text, GV_REGULAR, GV_INK, g->x + s + g->px / 3, g->y, text);
    }
    g->x += iw;
}

/* In thread-colour mode (M) a running bar, the GIL lane and the cores take
 * the colour of the thread: the legend names the threads' colours (the
 * first ones; every lane has its colour key beside its name) instead of the
 * running states'. */
static void legend_threads(legend_t *g)
{
    const gs_trace_t *t = g->v->n_runs ? g->v->run[0].trace : NULL;
    int n = t ? gs_trace_n_threads(t) : 0, shown = n > 8 ? 7 : n;
    char buf[128];
    for (int th = 0; th < shown; th++) {
        snprintf(buf, sizeof buf, "%s runs or holds the GIL",
                 gs_trace_lane(t, gs_trace_thread_lane(t, th))->name);
        legend_item(g, LG_SWATCH, gv_thread_color(th), buf);
    }
    if (shown < n) {
        snprintf(buf, sizeof buf, "\xE2\x80\xA6 %d more threads, each in its colour", n - shown);
        legend_item(g, LG_SWATCH, gv_thread_color(shown), buf);
    }
}

/* Lays out (and with draw, paints) the play control and the legend items;
 * returns the height used. */
int gv_legend_height(gv_view_t *v, SDL_Renderer *r, int x0, int y0, int w, int draw)
{
    static const struct {
        int mark;  /* LG_SWATCH, LG_STRIPE, or a legend_mark kind */
        int state; /* the swatch's gs_state_t */
        const char *text; /* NULL: the state's text */
    } waits[] = {
        {LG_SWATCH, GS_ST_WAIT_GIL, NULL},
        {LG_SWATCH, GS_ST_READY, NULL},
        {LG_STRIPE, GS_ST_READY, "ready, still holding the GIL"},
        {LG_SWATCH, GS_ST_IO, NULL},
        {LG_SWATCH, GS_ST_SLEEP, NULL},
        {LG_SWATCH, GS_ST_WAIT_LOCK, "waiting on a lock, event, queue or join"},
        {LG_SWATCH, GS_ST_SWITCH, NULL},
        {0, 0, "drop request"},
        {1, 0, "forced switch"},
        {2, 0, "futile wake-up"},
        {5, 0, "preempted by the OS"},
        {3, 0, "deadlock"},
        {4, 0, "annotation"},
    };
    legend_t g = {v, draw ? r : NULL, x0, w, x0, y0 + gv_text_px(v->text) / 4, 0,
                  gv_text_px(v->text), gv_text_line(v->text, GV_REGULAR)};
    g.s = g.px * 4 / 5;
    char play[96];
    play_text(v, play, sizeof play);
    int pw = gv_text_width(v->text, GV_BOLD, play) + g.px;
    if (g.r) {
        SDL_Rect b = {g.x, g.y, pw, g.line};
        gv_fill(r, b, 0x0072B2u, 255);
        gv_text_draw(v->text, GV_BOLD, 0xFFFFFFu, g.x + g.px / 2, g.y, play);
        v->lay.btn[GV_BTN_PLAY] = b;
    }
    g.x += pw + g.px;
    if (v->color_by_thread) {
        legend_threads(&g);
    } else {
        const int running[] = {GS_ST_PY, GS_ST_C_GIL, GS_ST_C_NOGIL};
        for (int i = 0; i < 3; i++)
            legend_item(&g, LG_SWATCH, gs_state_color((gs_state_t)running[i]),
                        gs_state_text((gs_state_t)running[i]));
    }
    for (size_t i = 0; i < sizeof waits / sizeof waits[0]; i++)
        legend_item(&g, waits[i].mark, gs_state_color((gs_state_t)waits[i].state),
                    waits[i].text ? waits[i].text : gs_state_text((gs_state_t)waits[i].state));
    return g.y + g.line + g.px / 4 - y0;
}

void gv_draw_footer(gv_view_t *v, SDL_Renderer *r)
{
    gv_layout_t *l = &v->lay;
    gv_fill(r, l->footer, GV_PANEL, 255);
    gv_fill(r, (SDL_Rect){0, l->footer.y, l->w, 1}, 0xCCCCCCu, 255);
    gv_legend_height(v, r, l->px / 2, l->footer.y + l->px / 4, l->w - l->px, 1);
}

/* ---- banner and help ------------------------------------------------------------- */

/* An error stays under the knob bar, across the window, until dismissed: the
 * picture under it is stale. A notice ("screenshot saved to ...", a knob
 * changed) shows for 4 seconds over the legend, right of the play button:
 * the legend is the one reference a class can do without for a moment, and
 * so the notice hides neither the panel's "At t =" and "Why?" nor a lane nor
 * the time axis. */
void gv_draw_banner(gv_view_t *v, SDL_Renderer *r)
{
    if (!v->banner[0])
        return;
    gv_layout_t *l = &v->lay;
    int pad = l->px / 2;
    bool err = v->banner_error;
    const char *head = err ? "Could not load: the previous picture stays. "
                             "Fix the file (it is reloaded when saved) or press Esc."
                           : NULL;
    SDL_Rect b = {2 * pad, l->knobs.y + l->knobs.h + pad, l->w - 4 * pad, 0};
    int max = 8;
    if (!err) {
        SDL_Rect play = l->btn[GV_BTN_PLAY];
        b.x = play.w > 0 ? play.x + play.w + pad : pad;
        b.y = l->footer.y + pad / 4;
        b.w = l->w - pad / 2 - b.x;
        max = (l->footer.h - pad / 2 - pad) / l->line;
        max = max < 1 ? 1 : max;
    }
    int n = gv_text_wrap(v->text, GV_REGULAR, GV_INK, 0, 0, b.w - 2 * pad, v->banner, max, 0);
    b.h = (n + (head ? 1 : 0)) * l->line + (err ? pad * 2 : pad);
    gv_fill(r, b, err ? 0xFBE3E6u : 0xE6F2EAu, err ? 245 : 255);
    gv_frame(r, b, err ? GV_ERROR : 0x009E73u, err ? 3 : 2);
    int y = b.y + (err ? pad : pad / 2);
    if (head) {
        gv_text_draw_fit(v->text, GV_BOLD, GV_ERROR, b.x + pad, y, b.w - 2 * pad, head);
        y += l->line;
    }
    gv_text_wrap(v->text, GV_REGULAR, GV_INK, b.x + pad, y, b.w - 2 * pad, v->banner, max, 1);
}

static const char *const help_keys[][2] = {
    {"space", "play / pause the playhead"},
    {"V", "after the playhead: dimmed / in full / hidden (revealed as it plays)"},
    {"L", "the lessons (O: the current file's folder; Backspace goes up)"},
    {"T, shift + T", "longer / shorter OS time slice (rr, priority)"},
    {"Tab", "compare mode: the knobs act on run A or B (by a recording: C)"},
    {"M", "colours by state / by thread (Gantt style: who runs, who holds the GIL)"},
    {"U", "reset the knob overrides (marked *) to the file's settings"},
    {". and ,", "step to the next / previous event"},
    {"Home, End", "playhead to the start / end"},
    {"[ and ]", "play slower / faster"},
    {"wheel, + and -", "zoom around the cursor (pinch too)"},
    {"drag, arrows", "pan through time"},
    {"shift + drag", "zoom to the selection"},
    {"F", "fit the whole run"},
    {"PgUp, PgDn", "scroll the side panel (mouse over it; the wheel too), else the lanes"},
    {"click", "select a thread (up/down too); click the axis to move the playhead"},
    {"hover", "a bar or a marker: what it is, when, and who was involved"},
    {"I, shift + I", "longer / shorter switch interval"},
    {"K, shift + K", "more / fewer cores"},
    {"A", "the program on CPU 0 only, as under taskset -c 0 (again: every CPU)"},
    {"G", "GIL model: cpython3, cpython2, none"},
    {"P", "OS policy: fifo, rr, priority, cfs, eevdf"},
    {"C", "compare with the other GIL model, stacked"},
    {"O", "open a scenario from scenarios/ (or drop a file)"},
    {"R", "reload the file (it is also watched)"},
    {"E", "exercise: predict a seeded lesson's figure, Enter reveals it (Esc stops)"},
    {"S", "save a screenshot (PNG)"},
    {"ctrl + / ctrl -", "bigger / smaller text (ctrl 0 resets)"},
    {"H, F1", "this help"},
    {"Esc", "cancel a long run (its progress is shown); dismiss a banner"},
    {"Q", "quit"},
};

/* The keys' lines from `from` on in a column of width cw at x, y (drawn when
 * draw); returns the height they take. A description wraps under itself. */
static int help_column(gv_view_t *v, int x, int y, int cw, int kw, int from, int to, int draw)
{
    int pad = v->lay.px, h = 0;
    for (int i = from; i < to; i++) {
        if (draw)
            gv_text_draw(v->text, GV_BOLD, GV_INK, x, y + h, help_keys[i][0]);
        int k = gv_text_wrap(v->text, GV_REGULAR, GV_INK, x + kw + pad, y + h, cw - kw - pad,
                             help_keys[i][1], 4, draw);
        h += (k > 0 ? k : 1) * v->lay.line;
    }
    return h;
}

/* One column of keys when it fits the window's height; else two, the
 * descriptions wrapped (1.6x text on 1280x720 has room for ~22 lines). */
void gv_draw_help(gv_view_t *v, SDL_Renderer *r)
{
    gv_layout_t *l = &v->lay;
    int n = (int)(sizeof help_keys / sizeof help_keys[0]);
    int pad = l->px, kw = 0, dw = 0;
    for (int i = 0; i < n; i++) {
        int a = gv_text_width(v->text, GV_BOLD, help_keys[i][0]);
        int b = gv_text_width(v->text, GV_REGULAR, help_keys[i][1]);
        kw = a > kw ? a : kw;
        dw = b > dw ? b : dw;
    }
    int head = l->line * 2, room = l->h - 2 * pad - head - 4;
    int cols = 1, w = kw + dw + 3 * pad, split = n;
    if (w > l->w - 20)
        w = l->w - 20;
    int cw = w - 2 * pad, body = help_column(v, 0, 0, cw, kw, 0, n, 0);
    if (body > room) { /* two columns, split where the heights balance */
        cols = 2;
        w = l->w - 20;
        cw = (w - 3 * pad) / 2;
        int best = INT32_MAX;
        for (int k = 1; k < n; k++) {
            int a = help_column(v, 0, 0, cw, kw, 0, k, 0);
            int b = help_column(v, 0, 0, cw, kw, k, n, 0);
            int m = a > b ? a : b;
            if (m < best) {
                best = m;
                split = k;
            }
        }
        body = best;
    }
    int h = head + body + 2 * pad;
    SDL_Rect b = {(l->w - w) / 2, (l->h - h) / 2, w, h};
    if (b.y < 0)
        b.y = 0;
    gv_fill(r, (SDL_Rect){0, 0, l->w, l->h}, 0x000000u, 90);
    gv_fill(r, b, GV_BG, 255);
    gv_frame(r, b, GV_INK, 2);
    int y = b.y + pad;
    gv_text_draw(v->text, GV_TITLE, GV_INK, b.x + pad, y, "Keys");
    y += head;
    help_column(v, b.x + pad, y, cw, kw, 0, split, 1);
    if (cols == 2)
        help_column(v, b.x + 2 * pad + cw, y, cw, kw, split, n, 1);
}
