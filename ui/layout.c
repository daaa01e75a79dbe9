/* layout.c - where everything goes, from the output size and the text size.
 *
 *  +------------------------------------------------------------------+
 *  | title: scenario name, description (up to a quarter of the height)|
 *  | knob bar: GIL, interval [-][+], cores [-][+], policy, compare ... |
 *  +--------+---------------------------------------------+-----------+
 *  | labels | lanes (one row per lane, headers between)   | panel:    |
 *  |        |                                             | queues,   |
 *  |        | axis: ticks, annotation flags, playhead     | stats     |
 *  +--------+---------------------------------------------+-----------+
 *  | footer: playback, legend                                         |
 *  +------------------------------------------------------------------+ */
#include "view.h"

#include "gilsim/fit.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int gv_legend_height(gv_view_t *v, SDL_Renderer *r, int x, int y, int w, int draw);
int gv_title_height(gv_view_t *v, int w);

static gv_row_t *add_row(gv_layout_t *l, gv_row_kind_t k, int run, int lane, const char *text)
{
    if (l->n_rows == l->cap_rows) {
        int cap = l->cap_rows ? l->cap_rows * 2 : 64;
        gv_row_t *rows = realloc(l->rows, (size_t)cap * sizeof *rows);
        if (!rows)
            return NULL;
        l->rows = rows;
        l->cap_rows = cap;
    }
    gv_row_t *row = &l->rows[l->n_rows++];
    memset(row, 0, sizeof *row);
    row->kind = k;
    row->run = run;
    row->lane = lane;
    if (text)
        snprintf(row->text, sizeof row->text, "%s", text);
    return row;
}

/* Thread lanes grouped by process, each group in lane order: a counting sort
 * over the lanes, O(lanes + processes) (issue 18: scanning every lane for
 * every process took 17 s a frame at 64 000 processes). Fills first[np + 1]
 * and order[]: process p's lanes are order[first[p] .. first[p + 1]). 0, or
 * -1 when out of memory. */
static int lanes_by_process(const gs_trace_t *t, int np, int **first_out, int **order_out)
{
    int nl = gs_trace_n_lanes(t);
    int *first = calloc((size_t)np + 2, sizeof *first);
    int *order = malloc((size_t)(nl ? nl : 1) * sizeof *order);
    if (!first || !order) {
        free(first);
        free(order);
        return -1;
    }
    for (int i = 0; i < nl; i++) {
        const gs_lane_t *lane = gs_trace_lane(t, i);
        if (lane->kind == GS_LANE_THREAD && lane->process >= 0 && lane->process < np)
            first[lane->process + 2]++;
    }
    for (int p = 0; p < np; p++) /* first[p + 2] becomes where p + 1 starts */
        first[p + 2] += first[p + 1];
    for (int i = 0; i < nl; i++) { /* first[p + 1]: where p's next lane goes */
        const gs_lane_t *lane = gs_trace_lane(t, i);
        if (lane->kind == GS_LANE_THREAD && lane->process >= 0 && lane->process < np)
            order[first[lane->process + 1]++] = i;
    }
    *first_out = first; /* first[p] .. first[p + 1] now */
    *order_out = order;
    return 0;
}

/* Thread names of run 0 with their rank in its rows, sorted by name, for
 * aligning the runs below it thread by thread. */
typedef struct named {
    const char *name;
    int rank;
} named_t;

static int by_name(const void *a, const void *b)
{
    return strcmp(((const named_t *)a)->name, ((const named_t *)b)->name);
}

/* qsort has no context argument in C11; the layout runs on the window's
 * thread only. */
static const gs_trace_t *align_trace; /* the trace whose lanes align_key ranks */
static const named_t *align_names;
static int align_n;

/* A lane's place among its process's rows in a run below the first: the rank
 * of the thread of the same name in run 0, or after all of them in its own
 * order. */
static long align_key(int lane)
{
    named_t key = {gs_trace_lane(align_trace, lane)->name, 0};
    const named_t *hit = bsearch(&key, align_names, (size_t)align_n, sizeof key, by_name);
    return hit ? hit->rank : (long)INT32_MAX + lane;
}

static int by_align(const void *a, const void *b)
{
    long x = align_key(*(const int *)a), y = align_key(*(const int *)b);
    return (x > y) - (x < y);
}

/* Orders each process's thread lanes of run r > 0 as run 0 shows the threads
 * of the same names (issue 14: a recording and its replay, thread by
 * thread); names run 0 has not keep their order, after. O(n log n). */
static void align_to_run0(gv_view_t *v, const gs_trace_t *t, int np, const int *first, int *order)
{
    const gv_layout_t *l = &v->lay;
    named_t *names = malloc((size_t)(l->n_rows ? l->n_rows : 1) * sizeof *names);
    if (!names)
        return; /* unaligned, still every lane */
    int n = 0;
    const gs_trace_t *t0 = v->run[0].trace;
    for (int i = 0; i < l->n_rows; i++) {
        const gv_row_t *row = &l->rows[i];
        if (row->run != 0 || row->kind != GV_ROW_LANE ||
            gs_trace_lane(t0, row->lane)->kind != GS_LANE_THREAD)
            continue;
        names[n] = (named_t){gs_trace_lane(t0, row->lane)->name, n};
        n++;
    }
    qsort(names, (size_t)n, sizeof *names, by_name);
    align_trace = t;
    align_names = names;
    align_n = n;
    for (int p = 0; p < np; p++)
        qsort(order + first[p], (size_t)(first[p + 1] - first[p]), sizeof *order, by_align);
    free(names);
}

/* Beside a recording with no what-if yet, C's place: one line that says
 * how to get it (issue 14). Mirroring B there would show the same picture
 * twice and could pass for a prediction; an empty pane would take the
 * lanes' room for nothing. */
#define GV_WHAT_IF_HINT                                                                            \
    "C: what-if: turn a knob (I, K, G, P) or give --set KEY=VALUE; B stays at the recorded "       \
    "settings"

/* Rows in trace order: per process its GIL lane and threads, then cores; in a
 * run below the first, threads in the first run's order of their names. A
 * recording beside its models has no core lanes (the kernel's scheduler
 * was not read): its "cores" header says so in one line. */
static void make_rows(gv_view_t *v)
{
    gv_layout_t *l = &v->lay;
    l->n_rows = 0;
    char buf[128];
    for (int r = 0; r < v->n_runs; r++) {
        const gs_trace_t *t = v->run[r].trace;
        int np = gs_trace_n_processes(t);
        int *first, *order;
        if (lanes_by_process(t, np, &first, &order) != 0)
            return; /* no rows: an empty picture rather than a crash */
        /* beside a recording, the fit's other programs have no recorded
         * lanes to compare: the run's header counts them, folded */
        int load = gv_view_load_process(v, r);
        if (v->n_runs > 1) {
            int n = snprintf(buf, sizeof buf, "%c: %.120s", 'A' + r, v->run[r].label);
            if (load >= 0 && n >= 0 && (size_t)n < sizeof buf) {
                int k = first[load + 1] - first[load];
                snprintf(buf + n, sizeof buf - (size_t)n, " + %s, %d thread%s (folded)",
                         GS_FIT_LOAD_PROCESS, k, k == 1 ? "" : "s");
            }
            add_row(l, GV_ROW_HEADER, r, -1, buf);
        }
        if (r > 0)
            align_to_run0(v, t, np, first, order);
        for (int p = 0; p < np; p++) {
            if (p == load)
                continue;
            snprintf(buf, sizeof buf, "process %s", gs_trace_process_name(t, p));
            if (np - (load >= 0) > 1 || v->n_runs == 1) /* "A: ..." heads a lone process */
                add_row(l, GV_ROW_HEADER, r, -1, buf);
            int gl = gs_trace_gil_lane(t, p);
            if (gl >= 0)
                add_row(l, GV_ROW_LANE, r, gl, NULL);
            for (int k = first[p]; k < first[p + 1]; k++)
                add_row(l, GV_ROW_LANE, r, order[k], NULL);
        }
        free(first);
        free(order);
        if (v->real && !(gs_trace_facts(t) & GS_FACT_CORES)) {
            add_row(l, GV_ROW_HEADER, r, -1, "cores: not recorded");
            continue;
        }
        if (v->real && l->fold_cores) {
            snprintf(buf, sizeof buf,
                     "cores: %d, folded to give the threads room (the panel says "
                     "who runs on each)",
                     gs_trace_n_cores(t));
            add_row(l, GV_ROW_HEADER, r, -1, buf);
            continue;
        }
        add_row(l, GV_ROW_HEADER, r, -1, "cores");
        for (int c = 0; c < gs_trace_n_cores(t); c++)
            add_row(l, GV_ROW_LANE, r, gs_trace_core_lane(t, c), NULL);
    }
    if (v->real && v->n_runs == 2)
        add_row(l, GV_ROW_HEADER, 2, -1, GV_WHAT_IF_HINT);
}

/* A compare-mode run's header row ("A: cpython3 ..."). */
static bool run_header(const gv_view_t *v, const gv_row_t *row)
{
    return v->n_runs > 1 && row->kind == GV_ROW_HEADER && row->text[1] == ':';
}

/* What the rows need for every lane to be a text line tall and every
 * header a line. */
static int rows_need(const gv_view_t *v)
{
    return v->lay.n_rows * v->lay.line;
}

/* Heights: lanes share what is left after the headers, between a minimum
 * that still shows colour and a maximum of five text lines: a few lanes
 * fill a projector's height and read from the back of the room. */
static void place_rows(gv_view_t *v)
{
    gv_layout_t *l = &v->lay;
    int n_lanes = 0, n_head = 0, n_run = 0;
    for (int i = 0; i < l->n_rows; i++)
        if (l->rows[i].kind == GV_ROW_LANE)
            n_lanes++;
        else if (run_header(v, &l->rows[i]))
            n_run++; /* "A: ...", "B: ...": a whole line always, to tell the runs apart */
        else
            n_head++;
    int head_h = l->line;
    int gap = l->px >= 16 ? 3 : 2;
    int avail = l->lanes.h - n_head * head_h - n_run * l->line;
    if (avail < n_lanes * 4) { /* too many rows: shrink the headers first */
        head_h = l->line / 2;
        avail = l->lanes.h - n_head * head_h - n_run * l->line;
    }
    int lane_h = n_lanes ? avail / n_lanes : 0;
    if (lane_h > l->line * 5)
        lane_h = l->line * 5;
    /* Below this a lane loses its name: scroll instead (PgUp/PgDn, the wheel
     * over the names). */
    int min_lane = l->line * 2 / 3;
    if (lane_h < min_lane) { /* the other headers yield first, then the rows scroll */
        head_h = l->line / 2;
        lane_h = n_lanes ? (l->lanes.h - n_head * head_h - n_run * l->line) / n_lanes : 0;
        if (lane_h > l->line * 5)
            lane_h = l->line * 5;
        if (lane_h < min_lane)
            lane_h = min_lane;
    }
    if (lane_h < 12)
        gap = lane_h >= 6 ? 1 : 0;
    l->content_h = n_head * head_h + n_run * l->line + n_lanes * lane_h;
    int max_scroll = l->content_h > l->lanes.h ? l->content_h - l->lanes.h : 0;
    if (l->scroll > max_scroll)
        l->scroll = max_scroll;
    if (l->scroll < 0)
        l->scroll = 0;
    int y = l->lanes.y - l->scroll;
    for (int i = 0; i < l->n_rows; i++) {
        gv_row_t *row = &l->rows[i];
        row->y = y;
        int rh = row->kind == GV_ROW_LANE ? lane_h : run_header(v, row) ? l->line : head_h;
        row->h = row->kind == GV_ROW_LANE ? lane_h - gap : rh;
        y += rh;
    }
}

static int label_width(gv_view_t *v)
{
    int w = gv_text_width(v->text, GV_BOLD, "core 00");
    for (int r = 0; r < v->n_runs; r++) {
        const gs_trace_t *t = v->run[r].trace;
        int n = gs_trace_n_lanes(t);
        for (int i = 0; i < n && i < 400; i++) {
            int lw = gv_text_width(v->text, GV_BOLD, gs_trace_lane(t, i)->name);
            if (lw > w)
                w = lw;
        }
    }
    return w + v->lay.px * 3 / 2;
}

/* The rectangles, for the description's lines l->desc_lines (0: its own). */
static void frame(gv_view_t *v, int w, int h)
{
    gv_layout_t *l = &v->lay;
    l->w = w;
    l->h = h;
    l->px = gv_text_px(v->text);
    l->line = gv_text_line(v->text, GV_REGULAR);
    int pad = l->px / 2;
    memset(l->btn, 0, sizeof l->btn);

    int title_h = gv_title_height(v, w);
    l->title = (SDL_Rect){0, 0, w, title_h};
    l->knobs = (SDL_Rect){0, title_h, w, l->line + pad};
    int top = l->knobs.y + l->knobs.h;

    int legend_h = gv_legend_height(v, NULL, pad, 0, w - 2 * pad, 0);
    l->footer = (SDL_Rect){0, h - legend_h - pad, w, legend_h + pad};

    /* three runs side by side need room for three columns of figures */
    int panel_w = w * (v->n_runs > 2 ? 27 : 24) / 100;
    if (panel_w < l->px * 16)
        panel_w = l->px * 16;
    if (panel_w > w * 2 / 5)
        panel_w = w * 2 / 5;
    l->panel = (SDL_Rect){w - panel_w, top, panel_w, l->footer.y - top};

    int label_w = label_width(v);
    if (label_w > w / 5)
        label_w = w / 5;
    int axis_h = 2 * l->line + pad;
    int lanes_y = top + pad / 2;
    int lanes_h = l->footer.y - axis_h - lanes_y;
    if (lanes_h < 10)
        lanes_h = 10;
    l->labels = (SDL_Rect){0, lanes_y, label_w, lanes_h};
    l->lanes = (SDL_Rect){label_w, lanes_y, l->panel.x - label_w - pad, lanes_h};
    if (l->lanes.w < 10)
        l->lanes.w = 10;
    l->axis = (SDL_Rect){l->lanes.x, lanes_y + lanes_h, l->lanes.w, axis_h};
}

/* In compare mode two runs share the lanes' height; when they would get less
 * than a text line each (large text on a small screen), the description
 * yields first, down to one line: the lanes are what the class compares,
 * and the description is whole in the single view. Beside a recording
 * (three runs) the models' core lanes fold next: the threads are what the
 * recording, the model and the what-if are compared by, and the panel
 * lists who runs on each core. */
void gv_layout(gv_view_t *v, int w, int h)
{
    v->lay.desc_lines = 0;
    v->lay.fold_cores = false;
    frame(v, w, h);
    make_rows(v);
    if (v->n_runs > 1 && v->lay.lanes.h < rows_need(v)) {
        v->lay.desc_lines = 1;
        frame(v, w, h);
    }
    if (v->real && v->lay.lanes.h < rows_need(v)) { /* the threads are what is compared */
        v->lay.fold_cores = true;
        make_rows(v);
    }
    place_rows(v);
}

int64_t gv_x_to_t(const gv_view_t *v, int x)
{
    const SDL_Rect *r = &v->lay.lanes;
    if (r->w <= 0)
        return v->t0;
    double f = (double)(x - r->x) / r->w;
    return v->t0 + (int64_t)(f * (double)(v->t1 - v->t0));
}

double gv_t_to_x(const gv_view_t *v, int64_t t)
{
    const SDL_Rect *r = &v->lay.lanes;
    return r->x + (double)(t - v->t0) * r->w / (double)(v->t1 - v->t0);
}

const gv_row_t *gv_row_at(const gv_view_t *v, int y)
{
    for (int i = 0; i < v->lay.n_rows; i++) {
        const gv_row_t *row = &v->lay.rows[i];
        int end = i + 1 < v->lay.n_rows ? v->lay.rows[i + 1].y : row->y + row->h;
        if (y >= row->y && y < end)
            return row;
    }
    return NULL;
}
