/* kernel.c - the services every model uses: the event heap, thread timers,
 * stopping the run, a thread's state as the trace records it, scheduled
 * starts, and FIFO wait queues.
 *
 * The kernel sits below the models (os.c, gil.c, sync.c) and the request
 * interpreter (engine.c): it calls nothing in them, only base (the trace).
 * Events are ordered by (time, kind, seq): a thread's own timer before an
 * eval-breaker poke, before core events, before starts; seq (insertion
 * order) breaks the remaining ties, so the order never depends on pointers
 * or on which pthread woke first. An event carries the generation of its
 * target; bumping the thread's tgen (or the core's gen) cancels it, and the
 * loop drops it unseen, unless a newer event for the same target takes its
 * place in the heap first (below).
 * Costs: push and pop are O(log n) in pending events, n at most a thread's
 * and a core's one each plus starts and pokes; a wait queue's removal
 * and its take from the middle are O(waiters) (a memmove), fine for the
 * hundreds of threads a scenario has. */
#include "kernel.h"
#include "engine_int.h"
#include "invariants.h"
#include "sis.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- event heap ------------------------------------------------------
 * A thread has at most one live timer and a core one live core event (the
 * one carrying its current generation); re-arming or cancelling bumps the
 * generation and leaves the old entry stale. Left in the heap, stale
 * entries outnumbered the live ones by far (a GIL wait's 5 ms timeout,
 * cancelled when the GIL comes sooner, stays for 5 ms of simulated time:
 * 300-1000 entries in a fitted scenario of six threads), and every push
 * and pop paid for their depth (a fifth of a sweep's time). So the heap
 * keeps the position of each thread's and core's newest entry (ev_pos,
 * index + 1, 0 none), and a push for a target whose entry there is stale
 * takes its place: at most one entry per thread and per core, plus starts,
 * breaks and shared-object events.
 * What comes out is unchanged: a stale entry was only ever skipped, live
 * entries keep their keys (seq is drawn per push as before), and keys are
 * unique. The one thing a stale entry decided was a run whose live events
 * ran out while a cancelled one lay past the horizon: it stopped at the
 * horizon, not as a stall; stale_past_until keeps that (stops.c). */

static inline bool ev_less(const gs_event_t *a, const gs_event_t *b)
{
    return a->t_ns < b->t_ns || (a->t_ns == b->t_ns && a->order < b->order);
}

/* The ev_pos slot of a timer or core event, -1 for other kinds (set once,
 * at the push, in the event's slot field). */
static inline int ev_slot(const gs_engine_t *e, ev_kind_t k, int32_t id)
{
    return k == EV_TIMER ? id : k == EV_CORE ? e->n_thr + id : -1;
}

static inline bool ev_stale(const gs_engine_t *e, const gs_event_t *ev)
{
    return gs__ev_kind(ev) == EV_TIMER ? ev->gen != e->thr[ev->id].tgen
                                       : ev->gen != e->cores[ev->id].gen;
}

/* heap[i] = ev, keeping ev_pos. */
static inline void ev_put(gs_engine_t *e, size_t i, const gs_event_t *ev)
{
    e->heap[i] = *ev;
    if (ev->slot >= 0)
        e->ev_pos[ev->slot] = (int32_t)i + 1;
}

static inline void ev_up(gs_engine_t *e, size_t i, const gs_event_t *ev)
{
    while (i > 0) {
        size_t parent = (i - 1) / 2;
        if (!ev_less(ev, &e->heap[parent]))
            break;
        ev_put(e, i, &e->heap[parent]);
        i = parent;
    }
    ev_put(e, i, ev);
}

static inline void ev_down(gs_engine_t *e, size_t i, const gs_event_t *ev)
{
    size_t n = e->n_heap;
    for (size_t l = 2 * i + 1; l < n; l = 2 * i + 1) {
        size_t m = l + 1 < n && ev_less(&e->heap[l + 1], &e->heap[l]) ? l + 1 : l;
        if (!ev_less(&e->heap[m], ev))
            break;
        ev_put(e, i, &e->heap[m]);
        i = m;
    }
    ev_put(e, i, ev);
}

/* ev takes the place of the stale entry at i. */
static void ev_replace(gs_engine_t *e, size_t i, const gs_event_t *ev)
{
    if (e->heap[i].t_ns > e->until_ns)
        e->stale_past_until = true;
    if (i > 0 && ev_less(ev, &e->heap[(i - 1) / 2]))
        ev_up(e, i, ev);
    else
        ev_down(e, i, ev);
}

void gs__ev_push(gs_engine_t *e, int64_t t, ev_kind_t k, int32_t id, uint64_t gen)
{
    /* seq < 2^56: a run would need that many events */
    int s = ev_slot(e, k, id);
    gs_event_t ev = {.t_ns = t, .order = (uint64_t)k << 56 | e->seq++, .gen = gen, .id = id,
                     .slot = s};
    if (s >= 0 && e->ev_pos[s] > 0 && ev_stale(e, &e->heap[e->ev_pos[s] - 1])) {
        ev_replace(e, (size_t)e->ev_pos[s] - 1, &ev);
        return;
    }
    if (e->n_heap == e->cap_heap) {
        size_t cap = e->cap_heap ? e->cap_heap * 2 : 256;
        gs_event_t *h = realloc(e->heap, cap * sizeof *h);
        if (!h) {
            e->fatal = GS_ENOMEM;
            gs__stop(e, GS_OUT_ERROR, "out of memory for the event queue");
            return;
        }
        e->heap = h;
        e->cap_heap = cap;
    }
    ev_up(e, e->n_heap++, &ev);
}

/* Bottom-up: the hole at the root goes down the smaller children to a leaf
 * (one comparison a level), then the last event rises from there (rarely
 * far: it came from the bottom). Keys are unique (seq), so the order the
 * events come out in does not depend on how the heap is laid out. */
gs_event_t gs__ev_pop(gs_engine_t *e)
{
    gs_event_t *h = e->heap;
    gs_event_t top = h[0];
    int s = top.slot;
    if (s >= 0 && e->ev_pos[s] == 1)
        e->ev_pos[s] = 0;
    size_t n = --e->n_heap;
    if (n == 0)
        return top;
    gs_event_t last = h[n];
    size_t i = 0;
    for (size_t l = 1; l < n; l = 2 * i + 1) {
        size_t m = l + 1 < n && ev_less(&h[l + 1], &h[l]) ? l + 1 : l;
        ev_put(e, i, &h[m]);
        i = m;
    }
    ev_up(e, i, &last);
    return top;
}

void gs__thr_timer(gs_engine_t *e, gs_thr_t *t, int64_t at)
{
    t->tgen++;
    gs__ev_push(e, at, EV_TIMER, t->id, t->tgen);
}

void gs__thr_cancel_timer(gs_thr_t *t)
{
    t->tgen++;
}

void gs__thr_pay(gs_engine_t *e, gs_thr_t *t, int64_t ns)
{
    t->paying = true;
    gs__thr_timer(e, t, e->now + ns);
    gs__thr_trace(e, t);
}

/* ---- stopping ------------------------------------------------------------ */

void gs__stop(gs_engine_t *e, gs_outcome_t o, const char *fmt, ...)
{
    if (e->stopped)
        return;
    e->stopped = true;
    e->outcome = o;
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->msg, sizeof e->msg, fmt, ap);
    va_end(ap);
}

const char *gs__thr_name(const gs_thr_t *t)
{
    return t->spec->name;
}

/* ---- trace state of a thread ----------------------------------------------- */

static gs_state_t blk_state(blk_t b)
{
    switch (b) {
    case BLK_IO:
        return GS_ST_IO;
    case BLK_SLEEP:
        return GS_ST_SLEEP;
    case BLK_LOCK:
        return GS_ST_WAIT_LOCK;
    case BLK_EVENT:
    case BLK_START: /* Thread.start waits on the new thread's `_started` Event */
        return GS_ST_WAIT_EVENT;
    case BLK_QUEUE:
        return GS_ST_WAIT_QUEUE;
    case BLK_JOIN:
        return GS_ST_WAIT_JOIN;
    default:
        return GS_ST_WAIT_GIL;
    }
}

/* Shared objects (ft.c): whether t runs Python on its object now. A change
 * is counted here, where every change of a thread's state passes, and ft.c
 * re-times the object's sharers at the same instant (EV_FT). The caller has
 * accounted t's progress at its old speed. */
static void ft_count(gs_engine_t *e, gs_thr_t *t)
{
    bool now = t->os == OS_ON && t->exec_active && t->req.exec == GS_ST_PY && !t->in_sys &&
               !t->finished;
    if (now == t->accessing)
        return;
    int o = t->acc_obj - 1;
    t->accessing = now;
    e->obj_k[o] += now ? 1 : -1;
    if (t->acc_writes)
        e->obj_kw[o] += now ? 1 : -1;
    if (!now)
        t->stretch_ppm = 1000000;
    gs__ev_push(e, e->now, EV_FT, o, 0);
}

/* The trace's own no-change test (trace.c buf_set: an open lane given the
 * same state, who, op and flags keeps its interval), made here on what the
 * engine last gave each lane: about half the changes the engine records
 * change nothing, and the calls into the trace cost more than the test.
 * Only the engine writes thread and core lanes during a run, so a lane that
 * fails the test here is given the change without the trace testing again.
 * A lane's last state, flags, who and whether it is open are one word: the
 * key of an open lane has bit 16 set, and a new state is keyed as open, so
 * it never matches a closed lane, nor a GS_ST_COUNT (which closes the lane
 * and never continues an interval) an open one. */
static inline uint64_t lane_key(gs_state_t st, int32_t who, uint8_t flags, bool open)
{
    return (uint64_t)(uint8_t)st | (uint64_t)flags << 8 | (uint64_t)open << 16 |
           (uint64_t)(uint32_t)who << 32;
}

static void trace_thread_lane(gs_engine_t *e, gs_thr_t *t, gs_state_t st, int32_t who,
                              uint8_t flags)
{
    uint64_t key = lane_key(st, who, flags, true);
    if (key == t->tr_key && t->tr_op == t->op)
        return;
    t->tr_key = st != GS_ST_COUNT ? key : lane_key(st, who, flags, false);
    t->tr_op = t->op;
    gs__trace_thread_change(e->trace, t->id, e->now, st, who, t->op, flags);
}

static inline void core_trace(gs_engine_t *e, gs_core_t *c, int32_t thread, gs_state_t st,
                              uint8_t flags)
{
    gs_state_t lane_st = thread < 0 ? GS_ST_COUNT : st; /* as gs__trace_core writes it */
    uint64_t key = lane_key(lane_st, thread, flags, true);
    if (key == c->tr_key)
        return;
    c->tr_key = lane_st != GS_ST_COUNT ? key : lane_key(lane_st, thread, flags, false);
    gs__trace_core_change(e->trace, c->id, e->now, thread, st, flags);
    if (e->sis) /* machine.sis_util: the core's utilisation follows its lane */
        gs__sis_core(e, c, thread >= 0);
}

void gs__core_trace(gs_engine_t *e, gs_core_t *c, int32_t thread, gs_state_t st, uint8_t flags)
{
    core_trace(e, c, thread, st, flags);
}

void gs__thr_trace(gs_engine_t *e, gs_thr_t *t)
{
    if (t->acc_obj)
        ft_count(e, t);
    gs_state_t st;
    int32_t who = -1;
    uint8_t flags = t->holds_gil ? GS_IV_HOLDS_GIL : 0;
    if (t->finished || !t->started) {
        st = GS_ST_COUNT;
    } else {
        switch (t->os) {
        case OS_ON:
            st = t->exec_active ? t->req.exec : GS_ST_PY;
            if (t->in_sys) /* cpython2: a futex call on the GIL: GIL business on a core */
                st = GS_ST_WAIT_GIL;
            else if (t->paying) /* in a futex call: C, with the GIL or without */
                st = t->holds_gil ? GS_ST_C_GIL : GS_ST_C_NOGIL;
            who = t->core->id;
            flags = 0;
            break;
        case OS_SWITCHING:
            st = GS_ST_SWITCH;
            who = t->core->id;
            if (t->gw == GW_SWITCHED)
                flags |= GS_IV_BEFORE_ASK;
            break;
        case OS_WAKING:
            /* an idle core is waking up for it: a GIL waiter still waits for
             * the GIL, anyone else is ready */
            st = (t->gw == GW_TIMEDOUT || t->gw == GW_SIGNALED || t->gw == GW_SWITCHED ||
                  t->gw == GW_LEFT)
                     ? GS_ST_WAIT_GIL
                     : GS_ST_READY;
            if (st == GS_ST_WAIT_GIL)
                flags = 0;
            break;
        case OS_READY:
            st = GS_ST_READY;
            if (t->gw == GW_SWITCHED)
                flags |= GS_IV_BEFORE_ASK;
            break;
        default:
            st = blk_state(t->blk);
            /* a start waits on an Event that is not one of the model's */
            who = t->blk == BLK_START ? -1 : t->blk_obj;
            flags = 0;
        }
    }
    if (e->check_state)
        gs__thr_check(e, t, "a state change (gs__thr_trace)");
    trace_thread_lane(e, t, st, who, flags);
    if (t->core && (t->os == OS_ON || t->os == OS_SWITCHING))
        core_trace(e, t->core, t->id, st, flags & GS_IV_HOLDS_GIL);
}

/* Schedules t's start at `at` (a start op, or autostart). */
void gs__schedule_start(gs_engine_t *e, gs_thr_t *t, int64_t at)
{
    t->start_pending = true;
    e->n_start_pending++;
    gs__ev_push(e, at, EV_START, t->id, 0);
}

/* ---- wait queues ------------------------------------------------------- */

void gs__waitq_push(gs_engine_t *e, gs_waitq_t *q, gs_thr_t *t)
{
    if (q->n == q->cap) {
        int cap = q->cap ? q->cap * 2 : 8;
        gs_thr_t **v = realloc(q->v, (size_t)cap * sizeof *v);
        if (!v) {
            e->fatal = GS_ENOMEM;
            gs__stop(e, GS_OUT_ERROR, "out of memory for a wait queue");
            return;
        }
        q->v = v;
        q->cap = cap;
    }
    q->v[q->n++] = t;
}

gs_thr_t *gs__waitq_take(gs_waitq_t *q, int i)
{
    if (i < 0 || i >= q->n)
        return NULL;
    gs_thr_t *t = q->v[i];
    memmove(&q->v[i], &q->v[i + 1], (size_t)(q->n - i - 1) * sizeof *q->v);
    q->n--;
    return t;
}

gs_thr_t *gs__waitq_pop(gs_waitq_t *q)
{
    return gs__waitq_take(q, 0);
}

bool gs__waitq_remove(gs_waitq_t *q, gs_thr_t *t)
{
    for (int i = 0; i < q->n; i++)
        if (q->v[i] == t) {
            gs__waitq_take(q, i);
            return true;
        }
    return false;
}

void gs__waitq_free(gs_waitq_t *q)
{
    free(q->v);
    q->v = NULL;
    q->n = q->cap = 0;
}


/* ---- fatal errors ------------------------------------------------------- */

void gs__fatal(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs("gilsim: fatal: ", stderr);
    vfprintf(stderr, fmt, ap);
    fputc('\n', stderr);
    va_end(ap);
    abort();
}

void gs__os_ok(int err, const char *call, const char *file, int line)
{
    if (err != 0)
        gs__fatal("%s failed (%s:%d): %s", call, file, line, strerror(err));
}
