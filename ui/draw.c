/* draw.c - the timeline: lanes painted into our own pixel buffer, then the
 * axis, annotations, playhead and labels on top with the renderer.
 *
 * Level of detail: every pixel column of a lane takes the colour of the
 * state that covers most of its time span. The intervals of one column are
 * found by binary search (gs_lane_find) and, when there are more than
 * MAX_PER_COLUMN, sampled at an even stride, so a frame costs
 * O(columns x lanes x (log n + MAX_PER_COLUMN)) whatever the trace size.
 * Filling the buffer in C and uploading it once beats one SDL rectangle per
 * bar by far with the software renderer (DESIGN.md, measured here). */
#include "view.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PER_COLUMN 16
#define NO_STATE 255
#define TRACK 0xF0F0F0u   /* a lane before the playhead, where nothing happens */
#define UNREVEALED GV_BG  /* after the playhead */

typedef struct col {
    int32_t who;    /* the dominant state's thread (GIL and core lanes) */
    uint8_t state;  /* dominant state, NO_STATE if none */
    uint8_t stripe; /* ready/switch while holding the GIL */
    uint8_t edge;   /* a new holder/runner starts in this column */
} col_t;

static uint32_t argb(uint32_t rgb)
{
    return 0xFF000000u | rgb;
}

/* First interval at or after index lo whose end is after t (the one covering
 * t, or the next one): galloping from lo, because successive columns look a
 * little further each time. O(log distance), and it stays in cache. */
static size_t find_from(const gs_lane_t *lane, size_t lo, int64_t t)
{
    size_t n = lane->n;
    if (lo >= n || lane->iv[lo].end_ns > t)
        return lo;
    size_t step = 1, prev = lo;
    while (lo + step < n && lane->iv[lo + step].end_ns <= t) {
        prev = lo + step;
        step *= 2;
    }
    size_t a = prev + 1, b = lo + step < n ? lo + step : n; /* answer in [a, b] */
    while (a < b) {
        size_t mid = a + (b - a) / 2;
        if (lane->iv[mid].end_ns <= t)
            a = mid + 1;
        else
            b = mid;
    }
    return a;
}

/* The dominant state of each column of lane in [t0, t0 + w * nspp). */
static void lane_columns(const gs_lane_t *lane, int64_t t0, double nspp, int w, int64_t reveal,
                         bool edges, col_t *out)
{
    int64_t acc[GS_ST_COUNT];
    size_t from = gs_lane_find(lane, t0);
    for (int x = 0; x < w; x++)
        out[x] = (col_t){-1, NO_STATE, 0, 0};
    int32_t who_of[GS_ST_COUNT];
    for (int x = 0; x < w; x++) {
        col_t *c = &out[x];
        int64_t ta = t0 + (int64_t)(x * nspp), tb = t0 + (int64_t)((x + 1) * nspp);
        if (tb <= ta)
            tb = ta + 1;
        if (ta >= reveal)
            continue;
        if (tb > reveal)
            tb = reveal;
        size_t i0 = from = find_from(lane, from, ta);
        if (i0 >= lane->n)
            break;
        if (lane->iv[i0].start_ns >= tb)
            continue;
        size_t i1 = find_from(lane, i0, tb - 1);
        if (i1 >= lane->n || lane->iv[i1].start_ns >= tb)
            i1--;
        size_t cnt = i1 - i0 + 1, stride = cnt > MAX_PER_COLUMN ? cnt / MAX_PER_COLUMN : 1;
        memset(acc, 0, sizeof acc);
        int64_t hold = 0;
        for (size_t i = i0; i <= i1; i += stride) {
            const gs_interval_t *iv = &lane->iv[i];
            int64_t a = iv->start_ns > ta ? iv->start_ns : ta;
            int64_t b = iv->end_ns < tb ? iv->end_ns : tb;
            if (b <= a || iv->state >= GS_ST_COUNT || iv->state == GS_ST_DONE)
                continue;
            acc[iv->state] += b - a;
            who_of[iv->state] = iv->who;
            if (iv->flags & GS_IV_HOLDS_GIL)
                hold += b - a;
            if (edges && cnt <= 2 && i > 0 && iv->start_ns >= ta && lane->iv[i - 1].end_ns == iv->start_ns &&
                lane->iv[i - 1].who != iv->who)
                c->edge = 1;
        }
        int64_t best = 0;
        for (int s = 0; s < GS_ST_COUNT; s++)
            if (acc[s] > best) {
                best = acc[s];
                c->state = (uint8_t)s;
            }
        /* An interval shorter than a column can lose every column it touches
         * to its neighbours (the convoy's 0.1 ms I/O split over two columns):
         * in a sparse column won by a long interval, the longest short one
         * whose middle falls here, or which began in the previous column and
         * did not get it (its middle there, lost to a longer neighbour that is
         * not long enough to give a column up), takes it, so short events stay
         * visible at any zoom (two short ones in one column: the longer shows). */
        int64_t short_best = 0;
        /* the winner spans two columns or more, so it keeps a whole one */
        bool dom_long = false;
        for (size_t i = i0; cnt <= 8 && i <= i1; i++)
            dom_long |= lane->iv[i].state == c->state &&
                        (double)(lane->iv[i].end_ns - lane->iv[i].start_ns) >= 2 * nspp;
        for (size_t i = i0; dom_long && i <= i1; i++) {
            const gs_interval_t *iv = &lane->iv[i];
            int64_t len = iv->end_ns - iv->start_ns, mid = iv->start_ns + len / 2;
            bool lost_left = x > 0 && iv->start_ns < ta && out[x - 1].state != iv->state;
            if (iv->state >= GS_ST_COUNT || iv->state == GS_ST_DONE || iv->state == c->state ||
                (double)len >= nspp || ((mid < ta || mid >= tb) && !lost_left) || len <= short_best)
                continue;
            short_best = len;
            c->state = iv->state;
        }
        c->stripe = hold > 0 && (c->state == GS_ST_READY || c->state == GS_ST_SWITCH);
        if (c->state != NO_STATE && acc[c->state] > 0)
            c->who = who_of[c->state];
    }
}

/* ---- markers painted into the buffer ------------------------------------------ */

typedef struct canvas {
    uint32_t *px;
    int w, h;
} canvas_t;

static void hspan(canvas_t *cv, int y, int x0, int x1, uint32_t c)
{
    if (y < 0 || y >= cv->h)
        return;
    if (x0 < 0)
        x0 = 0;
    if (x1 >= cv->w)
        x1 = cv->w - 1;
    for (int x = x0; x <= x1; x++)
        cv->px[(size_t)y * cv->w + x] = c;
}

/* A triangle of height s pointing down (apex at the bottom) or up. */
static void triangle(canvas_t *cv, int cx, int y0, int s, int down, uint32_t fill)
{
    for (int k = 0; k < s; k++) {
        int half = down ? (s - 1 - k) * 2 / 3 : k * 2 / 3;
        hspan(cv, y0 + k, cx - half - 1, cx + half + 1, argb(GV_INK));
        if (k > 0 && k < s - 1)
            hspan(cv, y0 + k, cx - half, cx + half, fill);
    }
}

static void diamond(canvas_t *cv, int cx, int cy, int s, uint32_t fill)
{
    for (int k = -s; k <= s; k++) {
        int half = s - abs(k);
        hspan(cv, cy + k, cx - half - 1, cx + half + 1, argb(GV_INK));
        if (abs(k) < s)
            hspan(cv, cy + k, cx - half, cx + half, fill);
    }
}

static void vline(canvas_t *cv, int x, int y0, int y1, uint32_t c)
{
    if (x < 0 || x >= cv->w)
        return;
    for (int y = y0 < 0 ? 0 : y0; y <= y1 && y < cv->h; y++)
        cv->px[(size_t)y * cv->w + x] = c;
}

static void draw_instants(gv_view_t *v, canvas_t *cv, int run, const int *row_of_lane)
{
    const gs_trace_t *t = v->run[run].trace;
    const gs_instant_t *in = v->run[run].instants;
    size_t n = v->run[run].n_instants, lo = 0, hi = n;
    while (lo < hi) { /* first instant at or after t0 */
        size_t mid = (lo + hi) / 2;
        if (in[mid].t_ns < v->t0)
            lo = mid + 1;
        else
            hi = mid;
    }
    double nspp = (double)(v->t1 - v->t0) / cv->w;
    int last_x[GS_IN_COUNT];
    for (int k = 0; k < GS_IN_COUNT; k++)
        last_x[k] = -1000;
    int last_row[GS_IN_COUNT] = {0};
    for (size_t i = lo; i < n && in[i].t_ns < v->t1 && in[i].t_ns <= gv_reveal(v); i++) {
        const gs_instant_t *e = &in[i];
        int x = (int)((double)(e->t_ns - v->t0) / nspp);
        if (e->kind == GS_IN_DEADLOCK) {
            for (int d = -1; d <= 1; d++)
                vline(cv, x + d, 0, cv->h - 1, argb(GV_ERROR));
            continue;
        }
        if (e->kind != GS_IN_DROP_REQUEST && e->kind != GS_IN_FORCED_SWITCH &&
            e->kind != GS_IN_FUTILE_WAKEUP && e->kind != GS_IN_PREEMPT)
            continue;
        if (e->thread < 0)
            continue;
        int lane = gs_trace_thread_lane(t, e->thread);
        int ri = lane >= 0 ? row_of_lane[lane] : -1;
        if (ri < 0)
            continue;
        /* one marker per kind, lane and few pixels: the rest would overdraw */
        if (abs(x - last_x[e->kind]) < 4 && last_row[e->kind] == ri)
            continue;
        last_x[e->kind] = x;
        last_row[e->kind] = ri;
        const gv_row_t *row = &v->lay.rows[ri];
        int y = row->y - v->lay.lanes.y, hgt = row->h;
        int s = hgt * 2 / 5;
        if (s > v->lay.px * 3 / 4)
            s = v->lay.px * 3 / 4;
        if (s < 4)
            s = 4;
        uint32_t c = argb(GV_ACCENT);
        if (e->kind == GS_IN_DROP_REQUEST)
            triangle(cv, x, y, s, 1, c);
        else if (e->kind == GS_IN_FORCED_SWITCH)
            triangle(cv, x, y + (hgt - s) / 2, s, 0, c);
        else if (e->kind == GS_IN_PREEMPT) /* a notch up from the lane's bottom */
            for (int d = -1; d <= 1; d++)
                vline(cv, x + d, y + hgt - s, y + hgt - 1, argb(GV_INK));
        else
            diamond(cv, x, y + hgt / 2, s / 2, c);
    }
}

/* ---- lanes ------------------------------------------------------------------------ */

/* Halfway to white right of column x0: the future, seen but set back. */
static void dim_after(canvas_t *cv, int x0)
{
    if (x0 < 0)
        x0 = 0;
    for (int y = 0; y < cv->h; y++) {
        uint32_t *row = cv->px + (size_t)y * cv->w;
        for (int x = x0; x < cv->w; x++)
            row[x] = 0xFF000000u | (((row[x] & 0xFEFEFEu) >> 1) + 0x7F7F7Fu);
    }
}

/* Columns of the axis ticks, for the grid lines in empty track. */
int64_t gv_tick_step(const gv_view_t *v);

static int ensure_buffer(gv_view_t *v, SDL_Renderer *r, int w, int h)
{
    if (v->lanes_tex && v->tex_w == w && v->tex_h == h)
        return 0;
    if (v->lanes_tex)
        SDL_DestroyTexture(v->lanes_tex);
    free(v->pixels);
    v->pixels = malloc((size_t)w * h * sizeof *v->pixels);
    v->lanes_tex = SDL_CreateTexture(r, SDL_PIXELFORMAT_ARGB8888, SDL_TEXTUREACCESS_STREAMING, w, h);
    if (!v->pixels || !v->lanes_tex) {
        free(v->pixels);
        v->pixels = NULL;
        if (v->lanes_tex)
            SDL_DestroyTexture(v->lanes_tex);
        v->lanes_tex = NULL;
        return -1;
    }
    v->tex_w = w;
    v->tex_h = h;
    return 0;
}

uint32_t gv_thread_color(int thread)
{
    /* Okabe-Ito, then darker and lighter variants: 24 before a repeat */
    static const uint32_t base[8] = {0x0072B2, 0xD55E00, 0x009E73, 0xCC79A7,
                                     0xE69F00, 0x56B4E9, 0x000000, 0xF0E442};
    uint32_t c = base[(unsigned)thread % 8];
    int shade = (int)((unsigned)thread / 8 % 3);
    if (shade == 1)
        c = (c & 0xFEFEFEu) >> 1;
    else if (shade == 2)
        c = ((c & 0xFEFEFEu) >> 1) + 0x7F7F7Fu;
    return c;
}

static void paint_lane(gv_view_t *v, canvas_t *cv, const gv_row_t *row, const col_t *cols,
                       uint32_t *line, uint32_t *sline, const uint8_t *grid, int64_t reveal_x)
{
    const gs_lane_t *lane = gs_trace_lane(v->run[row->run].trace, row->lane);
    for (int x = 0; x < cv->w; x++) {
        const col_t *c = &cols[x];
        uint32_t rgb;
        bool on_core = c->state == GS_ST_PY || c->state == GS_ST_C_GIL || c->state == GS_ST_C_NOGIL;
        if (c->state == NO_STATE)
            rgb = x >= reveal_x ? UNREVEALED : grid[x] ? GV_GRID - 0x080808u : TRACK;
        else if (c->edge)
            rgb = GV_BG;
        else if (v->color_by_thread && lane->kind != GS_LANE_THREAD && c->who >= 0)
            rgb = gv_thread_color(c->who); /* the GIL's holder, the core's thread */
        else if (v->color_by_thread && lane->kind == GS_LANE_THREAD && on_core)
            rgb = gv_thread_color(lane->index); /* the thread runs: its own colour */
        else
            rgb = gs_state_color((gs_state_t)c->state);
        line[x] = argb(rgb);
        sline[x] = c->stripe ? argb(gs_state_color(GS_ST_PY)) : line[x];
    }
    int y0 = row->y - v->lay.lanes.y, h = row->h;
    int stripe_h = h / 3 > 2 ? h / 3 : (h >= 3 ? 1 : 0);
    for (int k = 0; k < h; k++) {
        int y = y0 + k;
        if (y < 0 || y >= cv->h)
            continue;
        memcpy(cv->px + (size_t)y * cv->w, k >= h - stripe_h ? sline : line,
               (size_t)cv->w * sizeof *line);
    }
}

void gv_draw_lanes(gv_view_t *v, SDL_Renderer *r)
{
    SDL_Rect L = v->lay.lanes;
    if (ensure_buffer(v, r, L.w, L.h) != 0)
        return;
    canvas_t cv = {v->pixels, L.w, L.h};
    for (size_t i = 0; i < (size_t)L.w * L.h; i++)
        cv.px[i] = argb(GV_BG);
    double nspp = (double)(v->t1 - v->t0) / L.w;
    col_t *cols = malloc((size_t)L.w * sizeof *cols);
    uint32_t *line = malloc((size_t)L.w * 2 * sizeof *line);
    uint8_t *grid = calloc((size_t)L.w, 1);
    int *row_of_lane[GV_MAX_RUNS] = {NULL, NULL, NULL};
    if (!cols || !line || !grid)
        goto out;
    int64_t step = gv_tick_step(v);
    for (int64_t t = (v->t0 + step - 1) / step * step; t < v->t1; t += step) {
        int x = (int)((double)(t - v->t0) / nspp);
        if (x >= 0 && x < L.w)
            grid[x] = 1;
    }
    int64_t reveal = gv_reveal(v);
    int64_t reveal_x = reveal >= v->t1 ? L.w : (int64_t)((double)(reveal - v->t0) / nspp);
    for (int run = 0; run < v->n_runs; run++) {
        int nl = gs_trace_n_lanes(v->run[run].trace);
        row_of_lane[run] = malloc((size_t)(nl ? nl : 1) * sizeof(int));
        if (!row_of_lane[run])
            goto out;
        for (int i = 0; i < nl; i++)
            row_of_lane[run][i] = -1;
    }
    for (int i = 0; i < v->lay.n_rows; i++) {
        const gv_row_t *row = &v->lay.rows[i];
        if (row->kind != GV_ROW_LANE || row->y >= L.y + L.h || row->y + row->h <= L.y)
            continue;
        row_of_lane[row->run][row->lane] = i;
        const gs_lane_t *lane = gs_trace_lane(v->run[row->run].trace, row->lane);
        lane_columns(lane, v->t0, nspp, L.w, reveal, lane->kind != GS_LANE_THREAD, cols);
        paint_lane(v, &cv, row, cols, line, line + L.w, grid, reveal_x);
    }
    for (int run = 0; run < v->n_runs; run++)
        draw_instants(v, &cv, run, row_of_lane[run]);
    if (v->future == GV_FUTURE_DIM && v->playhead < v->t1 && v->playhead < v->end_ns)
        dim_after(&cv, (int)((double)(v->playhead - v->t0) / nspp) + 1);
    SDL_UpdateTexture(v->lanes_tex, NULL, v->pixels, L.w * (int)sizeof *v->pixels);
    SDL_RenderCopy(r, v->lanes_tex, NULL, &L);
out:
    for (int run = 0; run < GV_MAX_RUNS; run++)
        free(row_of_lane[run]);
    free(cols);
    free(line);
    free(grid);
}

/* ---- on top of the lanes: labels, axis, annotations, playhead -------------------- */

int64_t gv_tick_step(const gv_view_t *v)
{
    /* ticks at least ~6 characters apart, on a 1-2-5 sequence */
    int min_px = v->lay.px * 6;
    double nspp = (double)(v->t1 - v->t0) / (v->lay.lanes.w > 0 ? v->lay.lanes.w : 1);
    double want = nspp * min_px;
    int64_t step = 1;
    for (;;) {
        if ((double)step >= want)
            return step;
        if ((double)step * 2 >= want)
            return step * 2;
        if ((double)step * 5 >= want)
            return step * 5;
        step *= 10;
    }
}

/* Readable ink on a state colour: dark on light fills, white on dark ones. */
static uint32_t ink_on(uint32_t rgb)
{
    int lum = ((rgb >> 16 & 255) * 299 + (rgb >> 8 & 255) * 587 + (rgb & 255) * 114) / 1000;
    return lum > 140 ? GV_INK : 0xFFFFFFu;
}

/* Names of holders on GIL lanes and of runners on core lanes, where they fit. */
static void bar_labels(gv_view_t *v, const gv_row_t *row)
{
    const gs_trace_t *t = v->run[row->run].trace;
    const gs_lane_t *lane = gs_trace_lane(t, row->lane);
    if (lane->kind == GS_LANE_THREAD || row->h < v->lay.line * 4 / 5)
        return;
    size_t i = gs_lane_find(lane, v->t0), end = gs_lane_find(lane, v->t1);
    if (end - i > 2000) /* far too many to fit any name */
        return;
    int64_t lim = gv_reveal(v) < v->t1 ? gv_reveal(v) : v->t1;
    for (; i < lane->n && lane->iv[i].start_ns < lim; i++) {
        const gs_interval_t *iv = &lane->iv[i];
        if (iv->who < 0 || iv->who >= gs_trace_n_threads(t) || iv->state == GS_ST_SWITCH)
            continue;
        int64_t b = iv->end_ns < lim ? iv->end_ns : lim;
        int x0 = (int)gv_t_to_x(v, iv->start_ns > v->t0 ? iv->start_ns : v->t0);
        int x1 = (int)gv_t_to_x(v, b);
        const char *name = gs_trace_lane(t, gs_trace_thread_lane(t, iv->who))->name;
        int tw = gv_text_width(v->text, GV_REGULAR, name);
        if (x1 - x0 < tw + 8)
            continue;
        int y = row->y + (row->h - v->lay.line) / 2;
        gv_text_draw(v->text, GV_REGULAR, ink_on(gs_state_color((gs_state_t)iv->state)),
                     x0 + (x1 - x0 - tw) / 2, y, name);
    }
}

static void row_labels(gv_view_t *v, SDL_Renderer *r)
{
    gv_layout_t *l = &v->lay;
    int pad = l->px / 2, sel_th[GV_MAX_RUNS];
    for (int run = 0; run < GV_MAX_RUNS; run++) /* the selected thread, by name in each run */
        sel_th[run] = gv_view_thread_in(v, run);
    /* scrolled rows must not spill over the knob bar or the axis */
    SDL_RenderSetClipRect(r, &(SDL_Rect){0, l->lanes.y, l->lanes.x + l->lanes.w + 2, l->lanes.h});
    for (int i = 0; i < l->n_rows; i++) {
        const gv_row_t *row = &l->rows[i];
        if (row->y >= l->lanes.y + l->lanes.h)
            break;
        if (row->y + row->h <= l->lanes.y)
            continue;
        if (row->kind == GV_ROW_HEADER) {
            bool head = v->n_runs > 1 && row->text[1] == ':';
            if (head && row->run > 0) /* a rule between the runs */
                gv_fill(r, (SDL_Rect){0, row->y, l->lanes.x + l->lanes.w, 1}, 0xAAAAAAu, 255);
            if (head && row->run >= v->n_runs) /* no what-if yet: its place says how */
                gv_fill(r, (SDL_Rect){l->lanes.x, row->y + 1, l->lanes.w, row->h - 2}, GV_PANEL,
                        255);
            if (row->h >= l->line * 3 / 4)
                gv_text_draw_fit(v->text, head ? GV_BOLD : GV_SMALL,
                                 head && row->run >= v->n_runs ? 0x0072B2u : GV_MUTED, pad / 2,
                                 row->y, l->lanes.x + l->lanes.w - pad, row->text);
            continue;
        }
        const gs_lane_t *lane = gs_trace_lane(v->run[row->run].trace, row->lane);
        bool sel = lane->kind == GS_LANE_THREAD && lane->index == sel_th[row->run];
        if (sel) {
            gv_fill(r, (SDL_Rect){0, row->y, l->labels.w - pad / 2, row->h}, 0xD6E9F8u, 255);
            gv_frame(r, (SDL_Rect){l->lanes.x - 2, row->y - 2, l->lanes.w + 4, row->h + 4}, GV_INK,
                     2);
        }
        gv_style_t st = row->h >= l->line * 4 / 5 ? (sel ? GV_BOLD : GV_REGULAR) : GV_SMALL;
        int lh = gv_text_line(v->text, st);
        if (v->color_by_thread && lane->kind == GS_LANE_THREAD) /* the thread's colour key */
            gv_fill(r, (SDL_Rect){2, row->y + row->h / 4, pad * 2 / 3, row->h / 2},
                    gv_thread_color(lane->index), 255);
        if (row->h >= lh * 3 / 5)
            gv_text_draw_fit(v->text, st, lane->kind == GS_LANE_THREAD ? GV_INK : GV_MUTED, pad,
                             row->y + (row->h - lh) / 2, l->labels.w - pad * 3 / 2, lane->name);
        if (lane->kind == GS_LANE_CORE && lane->n == 0 && row->h >= lh * 3 / 5 &&
            !(gs_trace_facts(v->run[row->run].trace) & GS_FACT_CORES)) /* a recording */
            gv_text_draw_fit(v->text, st, GV_MUTED, l->lanes.x + pad, row->y + (row->h - lh) / 2,
                             l->lanes.w - 2 * pad,
                             "not recorded: a recording does not read the kernel's scheduler");
        bar_labels(v, row);
    }
    SDL_RenderSetClipRect(r, NULL);
    /* say that lanes are hidden, under the names, where the axis leaves room */
    if (l->content_h > l->lanes.h) {
        const char *hint = l->scroll + l->lanes.h < l->content_h
                               ? (l->scroll > 0 ? "\u25B2\u25BC PgUp/Dn" : "\u25BC PgDn")
                               : "\u25B2 PgUp";
        gv_text_draw_fit(v->text, GV_SMALL, GV_MUTED, pad, l->lanes.y + l->lanes.h + l->line,
                         l->labels.w - pad, hint);
    }
}

/* The playhead's time label: its box on the axis and its text; false when
 * the playhead is not in view. */
static bool playhead_label(gv_view_t *v, SDL_Rect *box, char *buf, size_t n)
{
    gv_layout_t *l = &v->lay;
    if (v->playhead < v->t0 || v->playhead > v->t1 || v->playhead >= v->end_ns)
        return false;
    int x = (int)gv_t_to_x(v, v->playhead);
    gv_fmt_at(buf, n, v->playhead, gv_tick_step(v) / 100 + 1);
    int tw = gv_text_width(v->text, GV_BOLD, buf);
    *box = (SDL_Rect){x - tw / 2 - 6, l->axis.y + 2, tw + 12, l->line};
    if (box->x + box->w > l->axis.x + l->axis.w)
        box->x = l->axis.x + l->axis.w - box->w;
    return true;
}

/* Ticks and their times; a time the playhead's label would cover is left
 * out (the label says where the playhead is, the ticks around it the scale). */
static void axis(gv_view_t *v, SDL_Renderer *r)
{
    gv_layout_t *l = &v->lay;
    SDL_Rect a = l->axis, ph;
    char buf[48];
    bool has_ph = playhead_label(v, &ph, buf, sizeof buf);
    gv_fill(r, (SDL_Rect){a.x, a.y, a.w, 2}, GV_INK, 255);
    int64_t step = gv_tick_step(v);
    for (int64_t t = (v->t0 + step - 1) / step * step; t <= v->t1; t += step) {
        int x = (int)gv_t_to_x(v, t);
        if (x > a.x + a.w)
            break;
        gv_fill(r, (SDL_Rect){x, a.y, 2, l->px / 3}, GV_INK, 255);
        gv_fmt_time(buf, sizeof buf, t, step);
        int tw = gv_text_width(v->text, GV_REGULAR, buf);
        int tx = x - tw / 2;
        if (tx < a.x - l->px)
            tx = a.x - l->px;
        int right = l->panel.x - l->px / 4; /* not under the panel */
        if (tx + tw > right && tx + tw - right < tw / 2)
            tx = right - tw;
        if (tx + tw > right)
            continue;
        SDL_Rect tr = {tx - l->px / 4, a.y + l->px / 3, tw + l->px / 2, l->line};
        if (has_ph && SDL_HasIntersection(&tr, &ph))
            continue;
        gv_text_draw(v->text, GV_REGULAR, GV_INK, tx, a.y + l->px / 3, buf);
    }
}

/* Scenario annotations: a dashed line through the lanes and a flag with the
 * text in the second line of the axis. Flags that would overlap are stacked
 * no further: the later one is drawn shortened. */
static void annotations(gv_view_t *v, SDL_Renderer *r)
{
    gv_layout_t *l = &v->lay;
    const gs_trace_t *t = v->run[0].trace;
    int next_free = l->axis.x;
    for (int i = 0; i < gs_trace_n_annotations(t); i++) {
        int64_t at = gs_trace_annotation_at(t, i);
        if (at < v->t0 || at > v->t1)
            continue;
        int x = (int)gv_t_to_x(v, at);
        for (int y = l->lanes.y; y < l->axis.y + l->line; y += 8)
            gv_fill(r, (SDL_Rect){x, y, 2, 5}, GV_INK, 255);
        int fy = l->axis.y + l->line + 2;
        int fx = x > next_free ? x : next_free;
        const char *text = gs_trace_annotation_text(t, i);
        int tw = gv_text_width(v->text, GV_REGULAR, text);
        if (fx + tw + 20 > l->axis.x + l->axis.w && x - tw - 14 >= next_free)
            fx = x - tw - 14; /* near the right edge: the flag points left */
        int maxw = l->axis.x + l->axis.w - fx - 8;
        if (tw > maxw)
            tw = maxw;
        if (tw <= l->px)
            continue;
        gv_fill(r, (SDL_Rect){x, fy - 2, 2, l->line}, GV_INK, 255);
        gv_fill(r, (SDL_Rect){fx + 2, fy - 2, tw + 12, l->line}, 0xFCE9B8u, 255);
        gv_frame(r, (SDL_Rect){fx + 2, fy - 2, tw + 12, l->line}, GV_INK, 1);
        gv_text_draw_fit(v->text, GV_REGULAR, GV_INK, fx + 8, fy - 2 + (l->line - l->px) / 4, tw,
                         text);
        next_free = fx + tw + 20;
    }
}

static void playhead(gv_view_t *v, SDL_Renderer *r)
{
    gv_layout_t *l = &v->lay;
    SDL_Rect box;
    char buf[48];
    if (!playhead_label(v, &box, buf, sizeof buf))
        return;
    int x = (int)gv_t_to_x(v, v->playhead);
    gv_fill(r, (SDL_Rect){x - 1, l->lanes.y, 3, l->lanes.h + l->px / 2}, GV_INK, 255);
    gv_fill(r, box, GV_INK, 255);
    gv_text_draw(v->text, GV_BOLD, 0xFFFFFFu, box.x + 6, box.y, buf);
}

int gv_view_draw(gv_view_t *v, SDL_Renderer *r, int w, int h)
{
    if (v->text && v->text_r != r) {
        snprintf(v->font_err, sizeof v->font_err, "a view draws with one renderer only");
        return -1;
    }
    if (!v->text) {
        v->text = gv_text_new(r, 20, v->font_err, sizeof v->font_err);
        if (!v->text)
            return -1;
        v->text_r = r;
    }
    /* 20 px at 1080 lines, scaled with the output and by Ctrl +/- */
    int px = (int)lround(20.0 * h / 1080.0 * v->text_scale);
    if (px < 14)
        px = 14;
    gv_text_set_px(v->text, px);
    SDL_RenderSetClipRect(r, NULL);
    gv_layout(v, w, h);
    gv_set_color(r, GV_BG, 255);
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
    SDL_RenderClear(r);
    if (v->n_runs > 0) {
        gv_draw_lanes(v, r);
        row_labels(v, r);
        axis(v, r);
        annotations(v, r);
        playhead(v, r);
        if (v->drag == 2) {
            int a = v->drag_x0 < v->mouse_x ? v->drag_x0 : v->mouse_x;
            gv_fill(r, (SDL_Rect){a, v->lay.lanes.y, abs(v->mouse_x - v->drag_x0), v->lay.lanes.h},
                    0x0072B2u, 60);
        }
        gv_draw_panel(v, r);
    }
    gv_draw_title(v, r);
    gv_draw_footer(v, r);
    if (v->n_runs > 0)
        gv_draw_tooltip(v, r);
    gv_draw_banner(v, r);
    if (v->picker.open)
        gv_draw_picker(v, r);
    if (v->help)
        gv_draw_help(v, r);
    return 0;
}
