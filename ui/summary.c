/* summary.c - the side panel as a whole: what scrolls (the step, each run's
 * "Why?" and queues: queues.c) and the summary pinned under it: one run's
 * figures, or the runs' side by side (compare mode; a recording, its model
 * and the what-if, issue 14), each thread's GIL wait matched by name. */
#include "panel.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "view.h"

typedef gv_pen_t pen_t;

/* ---- metrics ---------------------------------------------------------------------- */

static void pct(char *b, size_t n, double f)
{
    snprintf(b, n, "%.0f %%", f * 100);
}

/* One run's figures. */
static void summary(pen_t *p, gv_view_t *v)
{
    static const char *const names[] = {"run time", "speed-up vs serial", "GIL switches (forced)",
                                        "GIL busy", "cores busy",         "fairness (Jain)"};
    char a[6][64];
    const gs_stats_t *s = &v->run[0].stats;
    for (int i = 0; i < 6; i++)
        snprintf(a[i], sizeof a[i], "\xE2\x80\x94");
    if (v->run[0].has_stats) {
        gv_fmt_dur(a[0], sizeof a[0], s->makespan_ns);
        snprintf(a[1], sizeof a[1], "%.2fx", s->speedup_vs_serial);
        snprintf(a[2], sizeof a[2], "%lld (%lld)", (long long)s->gil_switches,
                 (long long)s->gil_forced_switches);
        pct(a[3], sizeof a[3], s->gil_utilisation);
        if (v->run[0].trace && !(gs_trace_facts(v->run[0].trace) & GS_FACT_CORES))
            snprintf(a[4], sizeof a[4], "not recorded"); /* as gilsim run says */
        else
            pct(a[4], sizeof a[4], s->cores_utilisation);
        snprintf(a[5], sizeof a[5], "%.2f", s->fairness_jain);
    }
    for (int i = 0; i < 6; i++)
        gv_pen_kv(p, 0, names[i], a[i]);
}

static void thread_stats(pen_t *p, gv_view_t *v)
{
    const gv_run_t *run = &v->run[0];
    int th = gv_view_thread_in(v, 0);
    if (!run->has_stats || th < 0 || th >= run->stats.n_threads) {
        p->y += v->lay.px / 4;
        int k = gv_text_wrap(v->text, GV_REGULAR, GV_MUTED, p->x, p->y, p->w,
                             "Click a thread for its own figures.", 3, 1);
        p->y += k * v->lay.line;
        return;
    }
    const gs_thread_stats_t *s = &run->stats.threads[th];
    char buf[96];
    snprintf(buf, sizeof buf, "Thread %s", s->name ? s->name : "?");
    gv_pen_heading(p, buf);
    struct {
        uint32_t c;
        const char *k;
        int64_t ns;
    } rows[] = {
        {gs_state_color(GS_ST_PY), "on a core", s->cpu_ns},
        {0, "holding the GIL", s->gil_held_ns},
        {gs_state_color(GS_ST_WAIT_GIL), "waiting for the GIL", s->gil_wait_ns},
        {gs_state_color(GS_ST_READY), "waiting for a core", s->core_wait_ns},
        {gs_state_color(GS_ST_IO), "I/O", s->io_ns},
    };
    for (size_t i = 0; i < sizeof rows / sizeof rows[0]; i++) {
        gv_fmt_dur(buf, sizeof buf, rows[i].ns);
        gv_pen_kv(p, rows[i].c, rows[i].k, buf);
    }
    if (s->io_to_gil.n > 0) {
        char a[32], b[32];
        gv_fmt_dur(a, sizeof a, s->io_to_gil.p50);
        gv_fmt_dur(b, sizeof b, s->io_to_gil.p99);
        snprintf(buf, sizeof buf, "%s / %s", a, b);
        gv_pen_kv(p, 0, "I/O \xE2\x86\x92 GIL p50 / p99", buf);
    }
    snprintf(buf, sizeof buf, "%lld / %lld", (long long)s->voluntary_switches,
             (long long)s->forced_switches);
    gv_pen_kv(p, 0, "gave up GIL: own / forced", buf);
}

/* ---- several runs side by side (compare, a recording beside its models) ------ */

#define CMP_THREADS 12 /* per-thread rows at most (and the selected thread) */
#define CMP_W 32
enum { CMP_FIGURES = 5 };

/* Thread `name`'s figures in run r, or NULL. Index `hint` (the thread's in
 * another run) is tried first: the runs of one scenario and a fit keep the
 * recording's order, so a lookup costs O(1) but for a thread that moved. */
static const gs_thread_stats_t *thread_named(const gv_run_t *r, const char *name, int hint)
{
    if (r->has_stats && hint >= 0 && hint < r->stats.n_threads && r->stats.threads[hint].name &&
        strcmp(r->stats.threads[hint].name, name) == 0)
        return &r->stats.threads[hint];
    for (int i = 0; r->has_stats && i < r->stats.n_threads; i++)
        if (r->stats.threads[i].name && strcmp(r->stats.threads[i].name, name) == 0)
            return &r->stats.threads[i];
    return NULL;
}

/* Run r's figure `row` (CMP_FIGURES of them) as text; its name in *name.
 * False when no run has it (an I/O-to-GIL delay without I/O). */
static bool cmp_figure(const gv_view_t *v, int row, int r, const char **name, char *o)
{
    const gs_stats_t *s = &v->run[r].stats;
    /* gilsim replay's rows, words and formats (sim/cli/replay.c), so that a
     * figure read off the window is the one the table prints; the I/O row,
     * as there, where the recording has I/O (beside a recording: a row with
     * nothing real to compare it with is left out), else where any run has */
    bool any_io = false;
    for (int k = 0; k < v->n_runs; k++)
        any_io |= (!v->real || k == 0) && v->run[k].has_stats && v->run[k].stats.io_to_gil.n > 0;
    static const char *const names[CMP_FIGURES] = {"makespan", "GIL utilisation", "GIL switches",
                                                   "forced switches", "I/O \xE2\x86\x92 GIL p50"};
    *name = names[row];
    if (row == 4 && !any_io)
        return false;
    if (!v->run[r].has_stats) {
        snprintf(o, CMP_W, "\xE2\x80\x94");
        return true;
    }
    switch (row) {
    case 0:
        gv_fmt_dur(o, CMP_W, s->makespan_ns);
        break;
    case 1:
        snprintf(o, CMP_W, "%.1f%%", 100 * s->gil_utilisation);
        break;
    case 2: /* per second, as gilsim replay's table: counts of runs of unlike lengths mislead */
        snprintf(o, CMP_W, "%.0f/s",
                 s->makespan_ns > 0 ? (double)s->gil_switches * 1e9 / (double)s->makespan_ns : 0.0);
        break;
    case 3:
        snprintf(o, CMP_W, "%lld", (long long)s->gil_forced_switches);
        break;
    default:
        if (s->io_to_gil.n > 0)
            gv_fmt_dur(o, CMP_W, s->io_to_gil.p50);
        else
            snprintf(o, CMP_W, "\xE2\x80\x94");
    }
    return true;
}

/* The table's pen: the columns' widths, right-aligned at the panel's edge. */
typedef struct table {
    pen_t *p;
    int n;                 /* columns: one per run */
    int colw[GV_MAX_RUNS]; /* widest value or head of each column */
} table_t;

static void widen(table_t *tb, gv_style_t st, char val[][CMP_W])
{
    for (int c = 0; c < tb->n; c++) {
        int w = gv_text_width(tb->p->v->text, st, val[c]);
        tb->colw[c] = w > tb->colw[c] ? w : tb->colw[c];
    }
}

/* One row: its name left (on a line of its own when it does not fit beside
 * the values), the values right-aligned in their columns. */
static void table_row(table_t *tb, gv_style_t st, uint32_t rgb, const char *name, char val[][CMP_W])
{
    pen_t *p = tb->p;
    gv_text_t *tx = p->v->text;
    int px = p->v->lay.px, x = p->x + px / 2, right = p->x + p->w, vals = 0;
    for (int c = 0; c < tb->n; c++)
        vals += tb->colw[c] + (c ? px / 2 : 0);
    if (gv_text_width(tx, st, name) > right - vals - px / 3 - x) {
        gv_text_draw_fit(tx, st, rgb, x, p->y, right - x, name);
        p->y += p->v->lay.line;
    } else {
        gv_text_draw(tx, st, rgb, x, p->y, name);
    }
    for (int c = tb->n - 1, cx = right; c >= 0; cx -= tb->colw[c] + px / 2, c--)
        gv_text_draw(tx, st, rgb, cx - gv_text_width(tx, st, val[c]), p->y, val[c]);
    p->y += p->v->lay.line;
}

/* Beside a recording, is thread i of run r one of the fit's other load
 * (the lanes fold that process: it has no recorded thread to compare)? */
static bool in_fitted_load(const gv_view_t *v, int r, int i)
{
    int load = gv_view_load_process(v, r);
    return load >= 0 && v->run[r].stats.threads[i].process == load;
}

/* The threads the table lists: run A's (CMP_THREADS at most, and the
 * selected one), then those only a run below has, but for the fitted
 * other load. n_more: left out. */
static int table_threads(const gv_view_t *v, const char **names, int *idx, int cap, int *n_more)
{
    int n = 0, sel = gv_view_thread_in(v, 0);
    *n_more = 0;
    for (int r = 0; r < v->n_runs; r++)
        for (int i = 0; v->run[r].has_stats && i < v->run[r].stats.n_threads; i++) {
            const char *name = v->run[r].stats.threads[i].name;
            bool seen = !name || in_fitted_load(v, r, i);
            for (int k = 0; k < r && !seen; k++)
                seen = thread_named(&v->run[k], name, i) != NULL;
            if (seen)
                continue;
            if (n < cap && (n < CMP_THREADS || (r == 0 && i == sel))) {
                idx[n] = i; /* its index, the hint for the other runs */
                names[n++] = name;
            } else
                (*n_more)++;
        }
    return n;
}

/* The runs' figures side by side, one column per run ("real | model |
 * what-if" beside a recording, "A | B" in compare mode), then each
 * thread's GIL wait in every run, matched by name (issue 14). */
static void compare_table(pen_t *p, gv_view_t *v)
{
    table_t tb = {p, v->n_runs, {0}};
    char val[GV_MAX_RUNS][CMP_W], head[GV_MAX_RUNS][CMP_W];
    const char *name, *threads[CMP_THREADS + 1];
    int idx[CMP_THREADS + 1], n_more, nt = table_threads(v, threads, idx, CMP_THREADS + 1, &n_more);
    for (int c = 0; c < tb.n; c++)
        snprintf(head[c], CMP_W, "%s",
                 !v->real ? (c ? "B" : "A")
                 : c == 0 ? "real"
                 : c == 1 ? (v->replay ? "replay" : "simulated") /* gilsim replay's words */
                          : "what-if");
    widen(&tb, GV_BOLD, head);
    for (int pass = 0; pass < 2; pass++) { /* widths, then the rows */
        if (pass)
            table_row(&tb, GV_BOLD, GV_MUTED, "", head);
        for (int row = 0; row < CMP_FIGURES; row++) {
            bool has = false;
            for (int c = 0; c < tb.n; c++)
                has = cmp_figure(v, row, c, &name, val[c]);
            if (has && pass)
                table_row(&tb, GV_REGULAR, GV_INK, name, val);
            else if (has)
                widen(&tb, GV_REGULAR, val);
        }
        if (pass && nt)
            gv_pen_heading(p, "GIL wait, per thread");
        int sel = gv_view_thread_in(v, 0);
        const char *sel_name = sel >= 0 && v->run[0].has_stats && sel < v->run[0].stats.n_threads
                                   ? v->run[0].stats.threads[sel].name
                                   : NULL;
        for (int i = 0; i < nt; i++) {
            for (int c = 0; c < tb.n; c++) {
                const gs_thread_stats_t *ts = thread_named(&v->run[c], threads[i], idx[i]);
                if (ts) /* beside a recording, ask to hold on every side, as gilsim replay */
                    gv_fmt_dur(val[c], CMP_W, v->real ? ts->gil_ask_to_hold_ns : ts->gil_wait_ns);
                else
                    snprintf(val[c], CMP_W, "\xE2\x80\x94");
            }
            bool is_sel = sel_name && strcmp(sel_name, threads[i]) == 0;
            if (pass)
                table_row(&tb, is_sel ? GV_BOLD : GV_REGULAR, GV_INK, threads[i], val);
            else
                widen(&tb, is_sel ? GV_BOLD : GV_REGULAR, val);
        }
    }
    if (n_more > 0) {
        char more[64];
        snprintf(more, sizeof more, "and %d more thread%s", n_more, n_more == 1 ? "" : "s");
        gv_text_draw(v->text, GV_REGULAR, GV_MUTED, p->x + v->lay.px / 2, p->y, more);
        p->y += v->lay.line;
    }
}

/* ---- the panel: what scrolls, and the summary pinned under it ---------------- */

/* Everything under "At t =" but the summary, from y: the exercise (while it
 * asks, the question alone), the step, each run's "Why?" and queues. r
 * NULL only measures. Returns the y after it. */
static int panel_top(gv_view_t *v, SDL_Renderer *r, int y, int64_t at)
{
    gv_layout_t *l = &v->lay;
    SDL_Rect P = l->panel;
    pen_t p = {v, r, P.x + l->px / 2, y, P.w - l->px};
    const int far = 1 << 28;            /* no bottom: the window clips */
    if (v->exercise.state == GV_EX_ASK) /* the question, and no figure of the run */
        return gv_draw_exercise(v, r, p.x, p.y, p.w, far);
    p.y = gv_draw_exercise(v, r, p.x, p.y, p.w, far); /* the answer, once revealed */
    char step[400];
    if (gv_step_text(v, step, sizeof step)) { /* what the last step landed on */
        int k = gv_text_wrap(v->text, GV_REGULAR, GV_INK, p.x, p.y, p.w, step, 16, 1);
        p.y += k * l->line;
    }
    /* the selected thread's causal chain, in every run: the panel's question */
    for (int run = 0; run < v->n_runs; run++)
        p.y = gv_draw_why(v, r, run, at, p.x, p.y, p.w);
    for (int run = 0; run < v->n_runs; run++) {
        if (!v->run[run].trace)
            continue;
        if (v->n_runs > 1) {
            static const char *const real[] = {": recorded", ": the replay, as recorded",
                                               ": the what-if"};
            char h[48];
            snprintf(h, sizeof h, "Run %c%s", 'A' + run,
                     !v->real                  ? ""
                     : run == 1 && !v->replay ? ": simulated, as written"
                                              : real[run]);
            gv_pen_heading(&p, h);
        }
        gv_pen_queues(&p, &v->run[run], at);
    }
    return p.y;
}

/* The selected thread's own figures (one run), from y. */
static int panel_thread(gv_view_t *v, SDL_Renderer *r, int y)
{
    pen_t p = {v, r, v->lay.panel.x + v->lay.px / 2, y, v->lay.panel.w - v->lay.px};
    thread_stats(&p, v);
    return p.y + v->lay.px / 4;
}

/* The summary from y: a rule, the figures of the run (or the runs side by
 * side), and with `thread` the selected thread's own (one run). */
static int panel_summary(gv_view_t *v, SDL_Renderer *r, int y, bool thread)
{
    gv_layout_t *l = &v->lay;
    SDL_Rect P = l->panel;
    pen_t p = {v, r, P.x + l->px / 2, y + l->px / 4, P.w - l->px};
    if (r)
        gv_fill(r, (SDL_Rect){P.x + l->px / 2, p.y, P.w - l->px, 1}, 0xBBBBBBu, 255);
    gv_pen_heading(&p, "Summary");
    for (int run = 0; run < v->n_runs; run++) {
        gs_outcome_t o = gs_trace_outcome(v->run[run].trace);
        if (o == GS_OUT_DONE)
            continue;
        char msg[512], which[4] = "";
        if (v->n_runs > 1)
            snprintf(which, sizeof which, "%c: ", 'A' + run);
        snprintf(msg, sizeof msg, "%sstopped: %s. %s", which, gs_trace_outcome_words(v->run[run].trace),
                 gs_trace_message(v->run[run].trace));
        int n = gv_text_wrap(v->text, GV_REGULAR, GV_ERROR, p.x, p.y, p.w, msg, 16, 1);
        p.y += n * l->line;
    }
    for (int run = 0; run < v->n_runs; run++) /* why a what-if has fewer threads (run.c) */
        if (v->run[run].without_load) {
            char msg[400];
            snprintf(msg, sizeof msg,
                     "%c runs without the other load, as gilsim replay does: under fifo its "
                     "threads, which never block, would keep the cores to the end; a program "
                     "run as SCHED_FIFO outranks other programs.",
                     'A' + run);
            int n = gv_text_wrap(v->text, GV_REGULAR, GV_MUTED, p.x, p.y, p.w, msg, 16, 1);
            p.y += n * l->line;
        }
    if (v->n_runs > 1)
        compare_table(&p, v);
    else
        summary(&p, v);
    if (thread && v->n_runs == 1)
        thread_stats(&p, v);
    return p.y + l->px / 4;
}

/* What follows the panel's top in its scrolled part: nothing (the summary
 * is pinned), the thread's figures (the summary alone is pinned), or the
 * whole summary (too tall to pin). */
enum { TAIL_NONE, TAIL_THREAD, TAIL_ALL };

static int panel_scrolled(gv_view_t *v, SDL_Renderer *r, int y, int64_t at, int tail)
{
    y = panel_top(v, r, y, at);
    if (tail == TAIL_ALL)
        return panel_summary(v, r, y, true);
    if (tail == TAIL_THREAD && v->n_runs == 1)
        return panel_thread(v, r, y);
    return y;
}

/* Below a panel that does not fit: a scroll bar on its right edge and a line
 * that says there is more and how to see it. */
static void scroll_cue(gv_view_t *v, SDL_Renderer *r, int content_h)
{
    gv_layout_t *l = &v->lay;
    SDL_Rect w = l->panel_view;
    int bar = l->px / 4 > 3 ? l->px / 4 : 3;
    int thumb = w.h * w.h / content_h, ty = w.y + l->panel_scroll * w.h / content_h;
    gv_fill(r, (SDL_Rect){w.x + w.w - bar - 1, w.y, bar, w.h}, 0xDDDDDDu, 255);
    gv_fill(r, (SDL_Rect){w.x + w.w - bar - 1, ty, bar, thumb > 8 ? thumb : 8}, 0x777777u, 255);
    int y = w.y + w.h;
    gv_fill(r, (SDL_Rect){w.x + l->px / 2, y, w.w - l->px, 1}, 0xBBBBBBu, 255);
    bool more = l->panel_scroll < l->panel_max_scroll;
    const char *s = more ? "\xE2\x96\xBC more below (PgDn)" : "\xE2\x96\xB2 more above (PgUp)";
    gv_text_draw_fit(v->text, GV_BOLD, more ? 0x0072B2u : GV_MUTED, w.x + l->px / 2, y + l->px / 8,
                     w.w - l->px, s);
}

/* The panel scrolls when its content is taller than it (large text, a long
 * chain, many threads, three runs): nothing is cut. A first pass measures;
 * "At t =" stays at the top and the summary at the bottom, pinned when it
 * takes at most 3/5 of the panel (or everything fits): the figures a user
 * compares stay in view while the chain and the queues scroll between the
 * two (the wheel over the panel, PgUp/PgDn: input.c), whole lines only
 * being drawn, and a cue says there is more. A summary taller than that
 * (huge text, many threads) pins its figures and lets the selected thread's
 * scroll, or, taller still, scrolls with the rest. */
void gv_draw_panel(gv_view_t *v, SDL_Renderer *r)
{
    gv_layout_t *l = &v->lay;
    SDL_Rect P = l->panel;
    gv_fill(r, P, GV_PANEL, 255);
    gv_fill(r, (SDL_Rect){P.x, P.y, 1, P.h}, 0xCCCCCCu, 255);
    int top = P.y + l->px / 4, bottom = P.y + P.h - l->px / 4;
    int64_t at = v->playhead < v->end_ns ? v->playhead : v->end_ns - 1;
    if (v->exercise.state != GV_EX_ASK) {
        char buf[96], d[48];
        gv_fmt_at(d, sizeof d, at < 0 ? 0 : at, 1000);
        snprintf(buf, sizeof buf, "At t = %s", d);
        int k =
            gv_text_wrap(v->text, GV_TITLE, GV_INK, P.x + l->px / 2, top, P.w - l->px, buf, 2, 1);
        top += k * gv_text_line(v->text, GV_TITLE);
    }
    if (at < 0)
        at = 0;
    gv_text_clip(v->text, 1, 0); /* measure: draw nothing */
    bool ask = v->exercise.state == GV_EX_ASK;
    int avail = bottom - top, tail = TAIL_NONE, pin_h = 0;
    int full = ask ? 0 : panel_summary(v, NULL, 0, true);
    int figures = ask ? 0 : panel_summary(v, NULL, 0, false);
    if (ask)
        ;
    else if (full <= avail * 3 / 5 || panel_top(v, NULL, 0, at) + full <= avail)
        pin_h = full;
    else if (figures <= avail * 3 / 5)
        pin_h = figures, tail = TAIL_THREAD;
    else
        tail = TAIL_ALL;
    int content_h = panel_scrolled(v, NULL, 0, at, tail);
    int view_h = avail - pin_h;
    if (content_h <= view_h) {
        l->panel_max_scroll = 0;
    } else {
        view_h -= l->line + l->px / 4; /* the cue's line */
        l->panel_max_scroll = content_h - view_h;
    }
    if (l->panel_scroll > l->panel_max_scroll)
        l->panel_scroll = l->panel_max_scroll;
    if (l->panel_scroll < 0)
        l->panel_scroll = 0;
    l->panel_view = (SDL_Rect){P.x + 1, top, P.w - 1, view_h};
    SDL_RenderSetClipRect(r, &l->panel_view);
    gv_text_clip(v->text, top, top + view_h);
    panel_scrolled(v, r, top - l->panel_scroll, at, tail);
    gv_text_unclip(v->text);
    SDL_RenderSetClipRect(r, NULL);
    if (l->panel_max_scroll > 0)
        scroll_cue(v, r, content_h);
    l->panel_pinned = (SDL_Rect){P.x + 1, bottom - pin_h, P.w - 1, pin_h};
    if (pin_h > 0) { /* the summary: whatever the scroll, in view */
        SDL_RenderSetClipRect(r, &l->panel_pinned);
        gv_text_clip(v->text, bottom - pin_h, bottom);
        panel_summary(v, r, bottom - pin_h, tail == TAIL_NONE);
        gv_text_unclip(v->text);
        SDL_RenderSetClipRect(r, NULL);
    }
}
