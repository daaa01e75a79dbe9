/* queues.c - the side panel's queues at the playhead (its metrics and how it
 * scrolls: summary.c) and the hover tooltip. Queues are derived from the trace intervals: the
 * threads in state X at time t, ordered by when that state began; nothing is stored twice. */
#include "panel.h"

#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct waiter {
    int thread;
    int64_t since;
    const gs_interval_t *iv;
} waiter_t;

static int by_since(const void *a, const void *b)
{
    const waiter_t *x = a, *y = b;
    if (x->since != y->since)
        return x->since < y->since ? -1 : 1;
    return x->thread - y->thread;
}

typedef gv_pen_t pen_t;

void gv_pen_heading(pen_t *p, const char *s)
{
    p->y += p->v->lay.px / 4;
    /* wrapped, not cut, when the text is large (projectors, Ctrl +) */
    int n = gv_text_wrap(p->v->text, GV_BOLD, GV_INK, p->x, p->y, p->w, s, 4, 1);
    p->y += (n > 0 ? n : 1) * p->v->lay.line;
}

/* "name ...... value", value right-aligned; swatch when rgb != 0. A row
 * outside the scrolled window (every row, in a pass that measures) only
 * takes its height: one line, or two when the key does not fit beside the
 * value. The panel lists every thread of every process, and a pool of
 * thousands of them has only a screenful in view. */
void gv_pen_kv(pen_t *p, uint32_t swatch, const char *k, const char *val)
{
    gv_text_t *tx = p->v->text;
    int px = p->v->lay.px, line = p->v->lay.line, x = p->x + px / 2;
    int sx = x, vw = gv_text_width(tx, GV_REGULAR, val);
    if (swatch)
        x += px * 3 / 4 + px / 3;
    int kw = p->x + p->w - vw - px / 2 - x;
    bool wide = gv_text_width(tx, GV_REGULAR, k) > kw;
    if (!gv_text_visible(tx, GV_REGULAR, p->y) && !gv_text_visible(tx, GV_REGULAR, p->y + line)) {
        p->y += (wide ? 2 : 1) * line; /* out of view: its height only */
        return;
    }
    if (swatch && p->r && gv_text_visible(tx, GV_REGULAR, p->y)) {
        int s = px * 3 / 4;
        gv_fill(p->r, (SDL_Rect){sx, p->y + (line - s) / 2, s, s}, swatch, 255);
        gv_frame(p->r, (SDL_Rect){sx, p->y + (line - s) / 2, s, s}, 0x777777u, 1);
    }
    if (wide) {
        /* the key does not fit beside the value: the value goes below it */
        gv_text_draw_fit(tx, GV_REGULAR, GV_INK, x, p->y, p->x + p->w - x, k);
        p->y += line;
    } else {
        gv_text_draw_fit(tx, GV_REGULAR, GV_INK, x, p->y, kw, k);
    }
    vw = vw < p->w ? vw : p->w;
    gv_text_draw_fit(tx, GV_REGULAR, GV_INK, p->x + p->w - vw, p->y, vw, val);
    p->y += line;
}

/* In the pass that draws, the pen has gone below the scrolled window: what
 * follows cannot show (the pen only moves down), and the height of what
 * follows is the measuring pass's business. A pool of thousands of processes
 * lists them all, and only a screenful is in view. */
static bool past_window(const pen_t *p)
{
    return p->r && gv_text_below(p->v->text, p->y);
}

static const char *thread_name(const gs_trace_t *t, int th)
{
    if (th < 0 || th >= gs_trace_n_threads(t))
        return "?";
    return gs_trace_lane(t, gs_trace_thread_lane(t, th))->name;
}

/* What a blocked thread waits for: "I/O", "lock db", "thread worker-2 to
 * end"; a recording does not know which lock, event or queue ("a lock"). */
static void blocked_what(const gs_trace_t *t, const gs_interval_t *iv, char *buf, size_t n)
{
    const char *name = iv->who >= 0 ? gs_trace_sync_name(t, (gs_state_t)iv->state, iv->who) : "";
    bool known = name && *name;
    switch (iv->state) {
    case GS_ST_IO: snprintf(buf, n, "I/O"); return;
    case GS_ST_SLEEP: snprintf(buf, n, "sleep"); return;
    case GS_ST_WAIT_LOCK: snprintf(buf, n, known ? "lock %s" : "a lock", name); return;
    case GS_ST_WAIT_EVENT: snprintf(buf, n, known ? "event %s" : "an event", name); return;
    case GS_ST_WAIT_QUEUE: snprintf(buf, n, known ? "queue %s" : "a queue", name); return;
    case GS_ST_WAIT_JOIN:
        snprintf(buf, n, known ? "thread %s to end" : "a thread to end", name);
        return;
    default: snprintf(buf, n, "%s", gs_state_text((gs_state_t)iv->state)); return;
    }
}

static void list(pen_t *p, const gs_trace_t *t, const waiter_t *w, int n, int64_t at,
                 bool blocked)
{
    char k[160], val[32], what[96];
    if (n == 0) {
        gv_text_draw(p->v->text, GV_REGULAR, GV_MUTED, p->x + p->v->lay.px / 2, p->y,
                     "\xE2\x80\x94 nobody");
        p->y += p->v->lay.line;
    }
    for (int i = 0; i < n && !past_window(p); i++) { /* all of them: the panel scrolls */
        gv_fmt_dur(val, sizeof val, at - w[i].since);
        if (blocked) {
            blocked_what(t, w[i].iv, what, sizeof what);
            snprintf(k, sizeof k, "%s \xC2\xB7 %s", thread_name(t, w[i].thread), what);
        } else {
            snprintf(k, sizeof k, "%d. %s%s", i + 1, thread_name(t, w[i].thread),
                     (w[i].iv->flags & GS_IV_HOLDS_GIL) ? " (holds GIL)" : "");
        }
        gv_pen_kv(p, gs_state_color((gs_state_t)w[i].iv->state), k, val);
    }
}

/* ---- the queues at one instant ------------------------------------------------ */

/* What the height of a run's queues at an instant depends on besides
 * them: the pen's width, the panel's text size and line, the fonts' size,
 * and the colour mode (a row with a swatch has less room for its key). */
typedef struct height_key {
    int w, px, line, text_px;
    bool by_thread;
} height_key_t;

/* A run's queues at one instant, worked out once and kept by the run
 * (gv_run_t.queues) for every pass and frame that draws the panel at that
 * instant: the panel lays out all its rows to know its height (it scrolls),
 * then draws a screenful, every frame, and a pool has tens of thousands of
 * threads. A run's trace never changes, so the instant is the whole key.
 * The per-process GIL waiters are grouped by a counting sort in thread
 * order, so the whole costs O(threads + processes), not their product
 * (issue 18). The height the rows took when last measured is kept too,
 * with what it depends on (height_key_t): a frame at the same instant
 * measures them no more, a pool's 200 000 rows cost ~40 ms. */
struct gv_queues {
    int64_t at;
    height_key_t key; /* of height */
    int height;       /* of the rows when measured with key; -1: not yet */
    const gs_interval_t **gil;  /* per process: its GIL lane's interval at `at`, or NULL */
    const gs_interval_t **drop; /* per process: its drop request's, or NULL */
    int *n_thr;                 /* per process: its threads */
    int n_gils;                 /* processes with a GIL lane and a thread */
    int *first;                 /* process pr's GIL waiters: gw[first[pr] .. first[pr + 1]) */
    waiter_t *gw;               /* every GIL waiter, by process, each one's oldest first */
    waiter_t *ready, *blocked;  /* ready (waiting for a core) and blocked, oldest first */
    int n_ready, n_blocked;
};

void gv_queues_free(gv_queues_t *q)
{
    if (!q)
        return;
    free(q->gil);
    free(q->drop);
    free(q->n_thr);
    free(q->first);
    free(q->gw);
    free(q->ready);
    free(q->blocked);
    free(q);
}

/* True for the states listed under "Blocked": waiting on I/O, a sleep, a
 * lock, an event, a queue or a join. */
static bool blocked_state(int state)
{
    return state == GS_ST_IO || state == GS_ST_SLEEP || state == GS_ST_WAIT_LOCK ||
           state == GS_ST_WAIT_EVENT || state == GS_ST_WAIT_QUEUE || state == GS_ST_WAIT_JOIN;
}

/* The process of thread th's lane, or -1 when it has none of the np. */
static int thread_process(const gs_trace_t *t, int th, int np)
{
    int pr = gs_trace_lane(t, gs_trace_thread_lane(t, th))->process;
    return pr >= 0 && pr < np ? pr : -1;
}

/* Each thread's interval at q->at sorted into the lists: its process's GIL
 * waiters (a counting sort by process, in thread order), the ready and the
 * blocked threads; each list oldest first. */
static void sort_threads(gv_queues_t *q, const gs_trace_t *t, const gs_interval_t **now)
{
    int nt = gs_trace_n_threads(t), np = gs_trace_n_processes(t);
    for (int th = 0; th < nt; th++) {
        int pr = thread_process(t, th, np);
        if (pr < 0)
            continue;
        q->n_thr[pr]++;
        if (now[th] && now[th]->state == GS_ST_WAIT_GIL)
            q->first[pr + 2]++;
    }
    for (int pr = 0; pr < np; pr++) {
        q->first[pr + 2] += q->first[pr + 1];
        q->n_gils += gs_trace_gil_lane(t, pr) >= 0 && q->n_thr[pr] > 0;
    }
    for (int th = 0; th < nt; th++) {
        const gs_interval_t *x = now[th];
        int pr = thread_process(t, th, np);
        if (!x)
            continue;
        if (pr >= 0 && x->state == GS_ST_WAIT_GIL)
            q->gw[q->first[pr + 1]++] = (waiter_t){th, x->start_ns, x};
        else if (x->state == GS_ST_READY)
            q->ready[q->n_ready++] = (waiter_t){th, x->start_ns, x};
        else if (blocked_state(x->state))
            q->blocked[q->n_blocked++] = (waiter_t){th, x->start_ns, x};
    }
    for (int pr = 0; pr < np; pr++)
        qsort(q->gw + q->first[pr], (size_t)(q->first[pr + 1] - q->first[pr]), sizeof *q->gw,
              by_since);
    qsort(q->ready, (size_t)q->n_ready, sizeof *q->ready, by_since);
    qsort(q->blocked, (size_t)q->n_blocked, sizeof *q->blocked, by_since);
}

/* Trace t's queues at `at`, or NULL when out of memory. */
static gv_queues_t *queues_new(const gs_trace_t *t, int64_t at)
{
    int nt = gs_trace_n_threads(t), np = gs_trace_n_processes(t);
    size_t n = (size_t)(nt ? nt : 1), n_p = (size_t)np + 2;
    gv_queues_t *q = calloc(1, sizeof *q);
    const gs_interval_t **now = malloc(n * sizeof *now);
    if (!q || !now || !(q->gil = calloc(n_p, sizeof *q->gil)) ||
        !(q->drop = calloc(n_p, sizeof *q->drop)) || !(q->n_thr = calloc(n_p, sizeof *q->n_thr)) ||
        !(q->first = calloc(n_p, sizeof *q->first)) || !(q->gw = malloc(n * sizeof *q->gw)) ||
        !(q->ready = malloc(n * sizeof *q->ready)) ||
        !(q->blocked = malloc(n * sizeof *q->blocked))) {
        free(now);
        gv_queues_free(q);
        return NULL;
    }
    q->at = at;
    q->height = -1;
    for (int th = 0; th < nt; th++)
        now[th] = gv_lane_at(gs_trace_lane(t, gs_trace_thread_lane(t, th)), at);
    for (int pr = 0; pr < np; pr++) {
        int gl = gs_trace_gil_lane(t, pr);
        q->gil[pr] = gl >= 0 ? gv_lane_at(gs_trace_lane(t, gl), at) : NULL;
        if (gs_trace_process_gil(t, pr) == GS_GIL_CPYTHON3)
            q->drop[pr] = gv_lane_at(gs_trace_drop_request_track(t, pr), at);
    }
    sort_threads(q, t, now);
    free(now);
    return q;
}

/* Run r's queues at `at`: the ones it keeps when they are of that instant,
 * else found again (NULL when out of memory). */
static gv_queues_t *queues_at(gv_run_t *r, int64_t at)
{
    if (r->queues && r->queues->at == at)
        return r->queues;
    gv_queues_free(r->queues);
    r->queues = queues_new(r->trace, at);
    return r->queues;
}

/* ---- the rows ------------------------------------------------------------------ */

/* The GIL's drop request from the trace's fact track (dr: its interval at
 * `at`, or NULL): pending since when and who set it, or not set. */
static void drop_request_row(pen_t *p, const gs_trace_t *t, int pr, const gs_interval_t *dr,
                             int64_t at)
{
    if (gs_trace_process_gil(t, pr) != GS_GIL_CPYTHON3)
        return;
    char val[96], d[32];
    if (!(gs_trace_facts(t) & GS_FACT_DROP_REQUEST)) {
        snprintf(val, sizeof val, "not recorded");
    } else if (dr) {
        gv_fmt_dur(d, sizeof d, at - dr->start_ns);
        snprintf(val, sizeof val, "%s, by %s", d, thread_name(t, dr->who));
    } else {
        snprintf(val, sizeof val, "not set");
    }
    gv_pen_kv(p, dr ? GV_ACCENT : 0, dr ? "drop request for" : "drop request", val);
}

/* Each lock's holder and each queue's fill at `at`. */
static void sync_rows(pen_t *p, const gs_trace_t *t, int64_t at)
{
    char k[96], val[96];
    int nl = gs_trace_n_syncs(t, GS_ST_WAIT_LOCK), nq = gs_trace_n_syncs(t, GS_ST_WAIT_QUEUE);
    if (nl + nq == 0)
        return;
    gv_pen_heading(p, "Locks and queues");
    for (int i = 0; i < nl; i++) {
        const gs_interval_t *o = gv_lane_at(gs_trace_lock_owner_track(t, i), at);
        snprintf(k, sizeof k, "lock %s", gs_trace_sync_name(t, GS_ST_WAIT_LOCK, i));
        snprintf(val, sizeof val, "%s%s", o ? "held by " : "free", o ? thread_name(t, o->who) : "");
        gv_pen_kv(p, o ? gs_state_color(GS_ST_WAIT_LOCK) : 0, k, val);
    }
    for (int q = 0; q < nq; q++) {
        int max = gs_trace_queue_maxsize(t, q);
        snprintf(k, sizeof k, "queue %s", gs_trace_sync_name(t, GS_ST_WAIT_QUEUE, q));
        long long len = (long long)gs_trace_queue_len_at(t, q, at);
        if (max)
            snprintf(val, sizeof val, "%lld / %d items", len, max);
        else
            snprintf(val, sizeof val, "%lld items", len);
        gv_pen_kv(p, 0, k, val);
    }
}

/* A core's or the GIL's swatch: its thread's colour in thread-colour mode
 * (M), as the lanes draw it, else the state's. */
static uint32_t bar_color(const gv_view_t *v, const gs_interval_t *iv)
{
    if (v->color_by_thread && iv->who >= 0)
        return gv_thread_color(iv->who);
    return gs_state_color((gs_state_t)iv->state);
}

/* The "core N" rows: who runs on each core at the playhead, or "not
 * recorded" for a recording, whose scheduler was not read. */
static void core_rows(pen_t *p, const gs_trace_t *t, int64_t at)
{
    char k[160], val[64];
    if (!(gs_trace_facts(t) & GS_FACT_CORES)) /* a recording: the scheduler was not read */
        gv_pen_kv(p, 0, "cores", "not recorded");
    for (int c = 0; (gs_trace_facts(t) & GS_FACT_CORES) && c < gs_trace_n_cores(t); c++) {
        const gs_interval_t *iv = gv_lane_at(gs_trace_lane(t, gs_trace_core_lane(t, c)), at);
        snprintf(k, sizeof k, "core %d", c);
        if (iv && iv->who >= 0)
            snprintf(val, sizeof val, "%s", thread_name(t, iv->who));
        else
            snprintf(val, sizeof val, "idle");
        gv_pen_kv(p, iv ? bar_color(p->v, iv) : 0, k, val);
    }
}

/* The rows of each process's GIL: its holder, its drop request and its
 * waiters. */
static void gil_rows(pen_t *p, const gs_trace_t *t, const gv_queues_t *q, int64_t at)
{
    char k[160];
    int np = gs_trace_n_processes(t);
    for (int pr = 0; pr < np && !past_window(p); pr++) {
        if (gs_trace_gil_lane(t, pr) < 0 || q->n_thr[pr] == 0)
            continue;
        const gs_interval_t *iv = q->gil[pr];
        snprintf(k, sizeof k, "GIL of %s held by", gs_trace_process_name(t, pr));
        gv_pen_kv(p, iv ? bar_color(p->v, iv) : 0, k,
                  iv && iv->who >= 0 ? thread_name(t, iv->who) : "nobody");
        drop_request_row(p, t, pr, q->drop[pr], at);
        int n = q->first[pr + 1] - q->first[pr];
        if (n == 0 && q->n_gils > 1)
            continue; /* several processes: list only the GILs someone waits for */
        snprintf(k, sizeof k, "Waiting for the GIL of %s (%d)", gs_trace_process_name(t, pr), n);
        gv_pen_heading(p, k);
        list(p, t, q->gw + q->first[pr], n, at, false);
    }
}

/* The "Ready, waiting for a core" list, then the "Blocked" one. */
static void ready_and_blocked_rows(pen_t *p, const gs_trace_t *t, const gv_queues_t *q,
                                   int64_t at)
{
    char k[160];
    snprintf(k, sizeof k, "Ready, waiting for a core (%d)", q->n_ready);
    gv_pen_heading(p, k);
    list(p, t, q->ready, q->n_ready, at, false);
    if (past_window(p))
        return;
    snprintf(k, sizeof k, "Blocked (%d)", q->n_blocked);
    gv_pen_heading(p, k);
    list(p, t, q->blocked, q->n_blocked, at, true);
}

static height_key_t height_key(const pen_t *p)
{
    const gv_view_t *v = p->v;
    return (height_key_t){p->w, v->lay.px, v->lay.line, gv_text_px(v->text), v->color_by_thread};
}

static bool same_key(height_key_t a, height_key_t b)
{
    return a.w == b.w && a.px == b.px && a.line == b.line && a.text_px == b.text_px &&
           a.by_thread == b.by_thread;
}

/* The queues section of the panel at time at: the cores, each GIL with its
 * waiters, the ready and blocked threads, then the sync objects. A pass that
 * only measures (p->r NULL) takes the height measured before at the same
 * instant with the same key. */
void gv_pen_queues(pen_t *p, gv_run_t *run, int64_t at)
{
    const gs_trace_t *t = run->trace;
    if (past_window(p))
        return;
    gv_queues_t *q = queues_at(run, at);
    height_key_t key = height_key(p);
    if (!p->r && q && q->height >= 0 && same_key(q->key, key)) {
        p->y += q->height;
        return;
    }
    int y0 = p->y;
    core_rows(p, t, at);
    if (!q) /* out of memory: the rest is not drawn */
        return;
    gil_rows(p, t, q, at);
    if (!past_window(p))
        ready_and_blocked_rows(p, t, q, at);
    if (!past_window(p))
        sync_rows(p, t, at);
    if (!p->r) {
        q->key = key;
        q->height = p->y - y0;
    }
}

/* ---- tooltip ---------------------------------------------------------------------- */

/* The interval under x in lane, or one within 3 pixels when zoomed out. */
static const gs_interval_t *hovered(const gv_view_t *v, const gs_lane_t *lane, int x)
{
    int64_t t = gv_x_to_t(v, x);
    const gs_interval_t *iv = gv_lane_at(lane, t);
    if (iv && iv->state != GS_ST_DONE)
        return iv;
    int64_t slack = (v->t1 - v->t0) * 3 / (v->lay.lanes.w > 0 ? v->lay.lanes.w : 1);
    size_t i = gs_lane_find(lane, t > slack ? t - slack : 0);
    if (i < lane->n && lane->iv[i].start_ns <= t + slack && lane->iv[i].state != GS_ST_DONE)
        return &lane->iv[i];
    return NULL;
}

/* The marker of thread lane `lane` nearest to x within a few pixels (the
 * kinds draw_instants paints, up to the playhead), or NULL. */
static const gs_instant_t *hovered_marker(const gv_view_t *v, int run, const gs_lane_t *lane,
                                          int x)
{
    const gs_instant_t *in = v->run[run].instants;
    size_t n = v->run[run].n_instants, lo = 0, hi = n;
    int reach = v->lay.px / 2 + 3;
    int64_t t_lo = gv_x_to_t(v, x - reach), t_hi = gv_x_to_t(v, x + reach);
    while (lo < hi) { /* first instant at or after t_lo */
        size_t mid = (lo + hi) / 2;
        if (in[mid].t_ns < t_lo)
            lo = mid + 1;
        else
            hi = mid;
    }
    const gs_instant_t *best = NULL;
    int best_d = reach + 1;
    for (size_t i = lo; i < n && in[i].t_ns <= t_hi && in[i].t_ns <= gv_reveal(v); i++) {
        const gs_instant_t *e = &in[i];
        if (e->thread != lane->index ||
            (e->kind != GS_IN_DROP_REQUEST && e->kind != GS_IN_FORCED_SWITCH &&
             e->kind != GS_IN_FUTILE_WAKEUP && e->kind != GS_IN_PREEMPT))
            continue;
        int d = abs((int)gv_t_to_x(v, e->t_ns) - x);
        if (d < best_d) {
            best = e;
            best_d = d;
        }
    }
    return best;
}

/* What a marker means, in two lines after its title. */
static int marker_text(const gs_trace_t *t, const gs_instant_t *e, char lines[][GV_TIP_WIDTH])
{
    const char *who = thread_name(t, e->thread);
    char at[32];
    gv_fmt_at(at, sizeof at, e->t_ns, 1000);
    int n = 0;
    switch ((gs_instant_kind_t)e->kind) {
    case GS_IN_DROP_REQUEST:
        snprintf(lines[n++], GV_TIP_WIDTH, "Drop request at %s", at);
        snprintf(lines[n++], GV_TIP_WIDTH, "%s waited a switch interval with no switch,",
                 who);
        snprintf(lines[n++], GV_TIP_WIDTH, "so it asks %s to drop the GIL",
                 e->arg >= 0 ? thread_name(t, (int)e->arg) : "the holder");
        break;
    case GS_IN_FORCED_SWITCH:
        snprintf(lines[n++], GV_TIP_WIDTH, "Forced switch at %s", at);
        snprintf(lines[n++], GV_TIP_WIDTH, "%s drops the GIL on request and waits", who);
        snprintf(lines[n++], GV_TIP_WIDTH, "until another thread has taken it");
        break;
    case GS_IN_FUTILE_WAKEUP:
        snprintf(lines[n++], GV_TIP_WIDTH, "Futile wake-up at %s", at);
        snprintf(lines[n++], GV_TIP_WIDTH, "%s was woken for the GIL, but by the time", who);
        snprintf(lines[n++], GV_TIP_WIDTH, "it ran another thread had taken it again");
        break;
    case GS_IN_PREEMPT:
        snprintf(lines[n++], GV_TIP_WIDTH, "Preempted by the OS at %s", at);
        snprintf(lines[n++], GV_TIP_WIDTH, "the OS gives %s's core to another thread", who);
        if (e->arg)
            snprintf(lines[n++], GV_TIP_WIDTH,
                     "while it holds the GIL: no Python runs until it is back");
        break;
    default:
        break;
    }
    return n;
}

int gv_tooltip_text(const gv_view_t *v, int x, int y, char lines[][GV_TIP_WIDTH])
{
    const gv_layout_t *l = &v->lay;
    SDL_Rect L = l->lanes;
    if (x < L.x || x >= L.x + L.w || y < L.y || y >= L.y + L.h)
        return 0;
    const gv_row_t *row = gv_row_at(v, y);
    if (!row || row->kind != GV_ROW_LANE)
        return 0;
    const gs_trace_t *t = v->run[row->run].trace;
    const gs_lane_t *lane = gs_trace_lane(t, row->lane);
    if (lane->kind == GS_LANE_THREAD) {
        const gs_instant_t *e = hovered_marker(v, row->run, lane, x);
        if (e)
            return marker_text(t, e, lines);
    }
    const gs_interval_t *iv = hovered(v, lane, x);
    if (!iv || iv->start_ns > gv_reveal(v))
        return 0;
    int n = 0;
    const char *who = iv->who >= 0 ? thread_name(t, iv->who) : "?";
    if (lane->kind == GS_LANE_GIL)
        snprintf(lines[n++], GV_TIP_WIDTH, "GIL of %s: held by %s",
                 gs_trace_process_name(t, lane->process), who);
    else if (lane->kind == GS_LANE_CORE)
        snprintf(lines[n++], GV_TIP_WIDTH, "%s runs %s", lane->name, who);
    else
        snprintf(lines[n++], GV_TIP_WIDTH, "%s", lane->name);
    char what[96] = "";
    if (lane->kind == GS_LANE_THREAD && iv->state >= GS_ST_WAIT_LOCK && iv->state <= GS_ST_WAIT_JOIN) {
        blocked_what(t, iv, what, sizeof what); /* "waits for thread helper to end" */
        snprintf(lines[n++], GV_TIP_WIDTH, "waits %s %s",
                 iv->state == GS_ST_WAIT_QUEUE ? "on" : "for", what);
    } else {
        snprintf(lines[n++], GV_TIP_WIDTH, "%s", gs_state_text((gs_state_t)iv->state));
    }
    if (iv->flags & GS_IV_HOLDS_GIL)
        snprintf(lines[n++], GV_TIP_WIDTH, "still holding the GIL");
    char a[32], b[32], d[32];
    gv_fmt_at(a, sizeof a, iv->start_ns, 1000);
    gv_fmt_at(b, sizeof b, iv->end_ns, 1000);
    gv_fmt_dur(d, sizeof d, iv->end_ns - iv->start_ns);
    snprintf(lines[n++], GV_TIP_WIDTH, "%s \xE2\x86\x92 %s  (%s)", a, b, d);
    const char *op = iv->op != GS_NO_OP ? gs_trace_op_label(t, iv->op) : "";
    if (op && *op)
        snprintf(lines[n++], GV_TIP_WIDTH, "op: %s", op);
    return n;
}

void gv_draw_tooltip(gv_view_t *v, SDL_Renderer *r)
{
    gv_layout_t *l = &v->lay;
    if (!v->mouse_in || v->drag || v->help || v->picker.open || v->exercise.state == GV_EX_ASK)
        return;
    char lines[GV_TIP_LINES][GV_TIP_WIDTH];
    int n = gv_tooltip_text(v, v->mouse_x, v->mouse_y, lines);
    if (n == 0)
        return;
    int w = 0;
    for (int i = 0; i < n; i++) {
        int lw = gv_text_width(v->text, i ? GV_REGULAR : GV_BOLD, lines[i]);
        w = lw > w ? lw : w;
    }
    int pad = l->px / 2;
    SDL_Rect box = {v->mouse_x + l->px, v->mouse_y + l->px, w + 2 * pad, n * l->line + pad};
    if (box.x + box.w > l->w)
        box.x = v->mouse_x - box.w - l->px / 2;
    if (box.y + box.h > l->h)
        box.y = v->mouse_y - box.h - l->px / 2;
    if (box.x < 0)
        box.x = 0;
    gv_fill(r, box, 0xFFFFF4u, 250);
    gv_frame(r, box, GV_INK, 2);
    for (int i = 0; i < n; i++)
        gv_text_draw(v->text, i ? GV_REGULAR : GV_BOLD, i == 1 ? 0x000000u : GV_INK, box.x + pad,
                     box.y + pad / 2 + i * l->line, lines[i]);
}
