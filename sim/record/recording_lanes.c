/* recording_lanes.c - a recording's points swept into the trace's lanes.
 *
 * Per thread, the events are points (ask, hold, release, drop_request...)
 * and spans (call, wait, lock_wait, py); recording.c turns spans into
 * begin/end points, and here each thread's points are swept in time order.
 * The thread's state at any moment:
 *   holding the GIL   -> c_gil inside a recorded call, else python
 *   asked, not holding -> wait_gil
 *   dropped on request, not asked again -> ready (CPython runs only its own
 *                         code between the two: a gap there is no core)
 *   otherwise          -> from the open spans: the outermost blocking API
 *                         (Queue.get, Event.wait, Thread.join) wins over the
 *                         Condition.wait and lock wait it is built on; time.sleep -> sleep;
 *                         I/O -> io; lock -> wait_lock; other C -> c_nogil;
 *                         nothing named -> c_nogil (C code the profiler did
 *                         not see released the GIL).
 * The GIL lane is every thread's holds merged in time. */
#include "record_int.h"
#include "recording_int.h"
#include "trace_int.h"

#include <stdlib.h>
#include <string.h>

/* A thread's state from the flags and the innermost spans. */
typedef struct tstate {
    int gil; /* 0 none, 1 waiting, 2 holding */
    bool started, done;
    bool after_forced; /* dropped on request and not asked again yet */
    int open[4]; /* open spans per kind */
    uint8_t stack_kind[32], stack_cat[32];
    uint32_t stack_label[32];
    int depth;
} tstate_t;

static gs_state_t cat_state(int cat)
{
    switch (cat) {
    case 1: return GS_ST_SLEEP;
    case 2: return GS_ST_IO;
    case 3: return GS_ST_WAIT_LOCK;
    case 4: return GS_ST_WAIT_EVENT;
    case 5: return GS_ST_WAIT_QUEUE;
    case 6: return GS_ST_WAIT_JOIN;
    default: return GS_ST_C_NOGIL;
    }
}

static gs_state_t state_of(const tstate_t *s, uint32_t *label)
{
    *label = GS_NO_OP;
    if (s->done)
        return GS_ST_DONE;
    if (!s->started)
        return GS_ST_COUNT;
    int d = s->depth < 32 ? s->depth : 32;
    if (d > 0)
        *label = s->stack_label[d - 1];
    if (s->gil == 2) { /* the innermost of a C call and Python inside one */
        for (int j = d - 1; j >= 0; j--) {
            if (s->stack_kind[j] == S_PY)
                return GS_ST_PY;
            if (s->stack_kind[j] == S_CALL)
                return GS_ST_C_GIL;
        }
        return GS_ST_PY;
    }
    if (s->gil == 1)
        return GS_ST_WAIT_GIL;
    if (s->after_forced && d == 0)
        return GS_ST_READY; /* only CPython's own code runs between a forced
                               drop and the next request: a gap is no core */
    for (int j = 0; j < d; j++) /* the outermost blocking API names the wait
                                     (Queue.get, not the Condition.wait in it) */
        if (s->stack_kind[j] == S_WAIT) {
            *label = s->stack_label[j];
            return cat_state(s->stack_cat[j]);
        }
    for (int j = d - 1; j >= 0; j--) {
        if (s->stack_kind[j] == S_LOCK)
            return GS_ST_WAIT_LOCK;
        if (s->stack_kind[j] == S_CALL)
            return cat_state(s->stack_cat[j]);
    }
    return GS_ST_C_NOGIL;
}

/* At one ns: a request, then a release, then a take. A request is made while
 * the GIL is held and is what a release at the same instant answers (the
 * engine records them in that order). */
static int gil_rank(const gsr_gil_ev_t *e)
{
    return e->holder == -2 ? 0 : e->holder == -1 ? 1 : 2;
}

static int cmp_gil(const void *a, const void *b)
{
    const gsr_gil_ev_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (gil_rank(x) != gil_rank(y))
        return gil_rank(x) - gil_rank(y);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* The first drop request in the hold [h, r) if r came GSR_LATE_NS or more after
 * it, else -1. req is sorted. */
static int64_t late_request(const int64_t *req, size_t n_req, int64_t h, int64_t r)
{
    size_t lo = gsr_first_after(req, n_req, h);
    return lo < n_req && req[lo] < r && r - req[lo] >= GSR_LATE_NS ? req[lo] : -1;
}

int gsr_infer_c_holds(gsr_point_t **pp, size_t *np, const int64_t *req, size_t n_req,
                      uint32_t label)
{
    gsr_point_t *p = *pp;
    size_t n = *np, extra = 0;
    int64_t h = -1;
    for (size_t k = 0; k < n; k++) {
        if (p[k].kind == P_HOLD)
            h = p[k].t;
        if (p[k].kind != P_RELEASE || h < 0)
            continue;
        extra += late_request(req, n_req, h, p[k].t) >= 0;
        h = -1;
    }
    if (!extra)
        return 0;
    gsr_point_t *q = realloc(p, (n + 2 * extra) * sizeof *q);
    if (!q)
        return GS_ENOMEM;
    p = q;
    size_t m = n;
    h = -1;
    for (size_t k = 0; k < n; k++) {
        if (p[k].kind == P_HOLD)
            h = p[k].t;
        if (p[k].kind != P_RELEASE || h < 0)
            continue;
        int64_t q0 = late_request(req, n_req, h, p[k].t);
        if (q0 >= 0) {
            gsr_point_t b = {.t = q0, .kind = P_BEGIN_SPAN, .span_kind = S_CALL, .cat = 0,
                         .label = label, .arg = -1, .seq = (uint32_t)m};
            p[m++] = b;
            b.kind = P_END_SPAN;
            b.t = p[k].t;
            b.seq = (uint32_t)m;
            p[m++] = b;
        }
        h = -1;
    }
    qsort(p, m, sizeof *p, gsr_cmp_point);
    *pp = p;
    *np = m;
    return 0;
}

static void span_push(tstate_t *s, const gsr_point_t *p)
{
    s->open[p->span_kind]++;
    if (s->depth < 32) {
        s->stack_kind[s->depth] = p->span_kind;
        s->stack_cat[s->depth] = p->cat;
        s->stack_label[s->depth] = p->label;
    }
    s->depth++;
}

static void span_pop(tstate_t *s, const gsr_point_t *p)
{
    if (s->open[p->span_kind] > 0)
        s->open[p->span_kind]--;
    int d = s->depth < 32 ? s->depth : 32;
    for (int j = d - 1; j >= 0; j--) {
        if (s->stack_kind[j] != p->span_kind || s->stack_label[j] != p->label)
            continue;
        memmove(&s->stack_kind[j], &s->stack_kind[j + 1], (size_t)(d - 1 - j));
        memmove(&s->stack_cat[j], &s->stack_cat[j + 1], (size_t)(d - 1 - j));
        memmove(&s->stack_label[j], &s->stack_label[j + 1], (size_t)(d - 1 - j) * 4);
        s->depth--;
        return;
    }
    if (s->depth > 32)
        s->depth--;
}

/* Thread i's lane (recording_int.h). */
void gsr_thread_lane(gs_trace_t *t, int i, const gsr_point_t *pts, size_t n, int64_t t_end,
                     gsr_gil_ev_t *gil, size_t *n_gil)
{
    tstate_t s;
    memset(&s, 0, sizeof s);
    gs_state_t cur = GS_ST_COUNT;
    uint32_t cur_label = GS_NO_OP;
    for (size_t k = 0; k < n; k++) {
        const gsr_point_t *p = &pts[k];
        switch (p->kind) {
        case P_ASK:
            if (s.gil == 0)
                s.gil = 1;
            s.after_forced = false;
            break;
        case P_HOLD:
            s.gil = 2;
            gil[*n_gil] = (gsr_gil_ev_t){p->t, i, i, false, (uint32_t)*n_gil};
            ++*n_gil;
            break;
        case P_RELEASE:
            if (s.gil == 2) {
                gil[*n_gil] = (gsr_gil_ev_t){p->t, -1, i, p->last, (uint32_t)*n_gil};
                ++*n_gil;
                if (p->forced)
                    gs__trace_instant(t, p->t, GS_IN_FORCED_SWITCH, i, 0, 0);
            }
            s.gil = 0;
            s.after_forced = p->forced;
            break;
        case P_REQUEST: /* its instant is recorded with the holder (gsr_gil_and_facts) */
            gil[*n_gil] = (gsr_gil_ev_t){p->t, -2, i, false, (uint32_t)*n_gil};
            ++*n_gil;
            break;
        case P_TIMEOUT: gs__trace_instant(t, p->t, GS_IN_TIMEOUT, i, 0, 0); break;
        case P_FUTILE: gs__trace_instant(t, p->t, GS_IN_FUTILE_WAKEUP, i, 0, 0); break;
        case P_SIGNAL: gs__trace_instant(t, p->t, GS_IN_SIGNAL, i, 0, p->arg); break;
        case P_START: s.started = true; break;
        case P_END: s.done = true; break;
        case P_BEGIN_SPAN: span_push(&s, p); break;
        case P_END_SPAN: span_pop(&s, p); break;
        default: break;
        }
        if (p->kind != P_SKIP)
            s.started = true;
        uint32_t label;
        gs_state_t st = state_of(&s, &label);
        if (st != cur || label != cur_label) {
            gs__trace_thread(t, i, p->t, st, -1, st == GS_ST_COUNT ? GS_NO_OP : label, 0);
            cur = st;
            cur_label = label;
        }
    }
    if (!s.done && s.started) /* still running when the process ended */
        gs__trace_thread(t, i, t_end, GS_ST_DONE, -1, GS_NO_OP, 0);
    if (s.gil == 2) {
        gil[*n_gil] = (gsr_gil_ev_t){t_end, -1, i, true, (uint32_t)*n_gil};
        ++*n_gil;
    }
}

/* The GIL lane and the drop-request fact track, swept in time order.
 *
 * The drop request as the engine records it (gil.c), from what CPython does:
 * a waiter whose timed wait ran out with no switch sets it (the recording's
 * "drop_request"); the next thread to take the GIL resets it, and so does a
 * holder that drops the GIL while it is set (drop_gil resets it and waits for
 * a switch, whatever the release's reason, but for a thread's last release).
 * A request while one is set changes nothing: the first requester and its
 * time stay. The requests' instants name the holder they ask, as a run's do.
 * Cores and which lock a thread waits for are not recorded, so only the drop
 * requests are complete facts. */
void gsr_gil_and_facts(gs_trace_t *t, gsr_gil_ev_t *gil, size_t n)
{
    qsort(gil, n, sizeof *gil, cmp_gil);
    int holder = -1;
    bool set = false;
    for (size_t k = 0; k < n; k++) {
        const gsr_gil_ev_t *e = &gil[k];
        if (e->holder == -2) {
            gs__trace_instant(t, e->t, GS_IN_DROP_REQUEST, e->thread, 0, holder);
            if (!set)
                gs__trace_drop_request(t, 0, e->t, e->thread);
            set = true;
            continue;
        }
        if (set && (e->holder >= 0 || !e->last)) {
            gs__trace_drop_request(t, 0, e->t, -1);
            set = false;
        }
        holder = e->holder;
        gs__trace_gil(t, 0, e->t, e->holder);
    }
    gs__trace_set_facts(t, GS_FACT_DROP_REQUEST);
}

