/* os.c - cores, the ready queue and the scheduling policies.
 *
 * The OS knows nothing of the GIL. A thread that wants to execute (Python, C,
 * or the short work of waking up to re-check the GIL) needs a core; a thread
 * blocked on the GIL condition, I/O, a timer, a lock or a join holds none.
 *
 * Thread states: OFF -> (wake) -> WAKING on an idle core (after
 * wakeup_latency: the idle core has to be woken) or READY in the ready queue
 * -> SWITCHING (context_switch, when the core last ran another thread) -> ON.
 * ON -> READY on preemption (slice over, or a waking thread preempts it),
 * ON -> OFF when it blocks. A preempted GIL holder keeps the GIL while READY.
 *
 * Policies (pick = best READY thread; ties by time of entry):
 *   fifo      first come; runs until it blocks.
 *   rr        fifo plus a time slice; at its end the thread goes to the tail
 *             if another is ready.
 *   priority  higher `priority` first, rr within a level; a waking thread
 *             preempts a running one of lower priority.
 *   cfs       least virtual runtime (ns x 1024 / weight, weight from nice =
 *             -priority); slice = max(latency, n x min_granularity) x
 *             weight / total weight, at least min_granularity; a waking
 *             thread is placed at no less than min_vruntime - latency/2
 *             (sleeper credit) and preempts the running thread whose
 *             vruntime exceeds its own by more than wakeup_granularity.
 * Invariants: a core has at most one thread; a thread is in the ready queue
 * iff READY; cfs_nr counts the threads that are not OFF.
 * Source: Linux kernel/sched/fair.c (place_entity, check_preempt_wakeup,
 * sched_slice), documented in docs/model.md. Costs: pick is an O(ready) scan,
 * fine for the hundreds of runnable threads a lesson has. */
#include "engine_int.h"

#include <stdlib.h>

void gs__os_init(gs_engine_t *e)
{
    for (int i = 0; i < e->n_cores; i++) {
        e->cores[i].id = i;
        e->cores[i].mode = CORE_IDLE;
        e->cores[i].last_thread = -1;
    }
}

static const gs_machine_t *mach(const gs_engine_t *e)
{
    return &e->m->machine;
}

static void set_os(gs_engine_t *e, gs_thr_t *t, os_state_t s)
{
    bool was = t->os != OS_OFF, now = s != OS_OFF;
    if (was != now) {
        e->cfs_nr += now ? 1 : -1;
        e->cfs_weight_sum += now ? t->weight : -t->weight;
    }
    t->os = s;
}

/* ---- ready queue ------------------------------------------------------ */

static void ready_push(gs_engine_t *e, gs_thr_t *t)
{
    GS_ASSERT(t->ready_idx < 0 && e->n_ready < e->cap_ready);
    t->ready_seq = e->ready_seq++;
    t->ready_idx = e->n_ready;
    e->ready[e->n_ready++] = t;
}

static void ready_remove(gs_engine_t *e, gs_thr_t *t)
{
    GS_ASSERT(t->ready_idx >= 0);
    gs_thr_t *last = e->ready[--e->n_ready];
    e->ready[t->ready_idx] = last;
    last->ready_idx = t->ready_idx;
    t->ready_idx = -1;
}

/* Should a run before b? */
static bool better(const gs_engine_t *e, const gs_thr_t *a, const gs_thr_t *b)
{
    switch (mach(e)->policy) {
    case GS_POLICY_PRIORITY:
        if (a->spec->priority != b->spec->priority)
            return a->spec->priority > b->spec->priority;
        break;
    case GS_POLICY_CFS:
        if (a->vruntime != b->vruntime)
            return a->vruntime < b->vruntime;
        break;
    default:
        break;
    }
    return a->ready_seq < b->ready_seq;
}

static gs_thr_t *ready_best(const gs_engine_t *e)
{
    gs_thr_t *best = NULL;
    for (int i = 0; i < e->n_ready; i++)
        if (!best || better(e, e->ready[i], best))
            best = e->ready[i];
    return best;
}

/* ---- accounting -------------------------------------------------------- */

void gs__os_account(gs_engine_t *e, gs_thr_t *t)
{
    if (t->os != OS_ON)
        return;
    int64_t d = e->now - t->seg_start_ns;
    if (d <= 0)
        return;
    if (t->in_sys) {
        t->sys_ns -= d; /* cpython2: a futex call on the GIL (gil.c) */
    } else if (t->exec_active) {
        t->remaining_ns -= gs__ft_progress(t, d); /* slower on a shared object */
        if (t->req.exec == GS_ST_PY)
            t->py_exec_ns += d;
    }
    t->vruntime += d * 1024 / t->weight;
    t->seg_start_ns = e->now;
}

static int64_t min_vruntime(gs_engine_t *e)
{
    int64_t m = INT64_MAX;
    for (int i = 0; i < e->n_cores; i++) {
        gs_thr_t *c = e->cores[i].cur;
        if (c) {
            gs__os_account(e, c);
            if (c->vruntime < m)
                m = c->vruntime;
        }
    }
    for (int i = 0; i < e->n_ready; i++)
        if (e->ready[i]->vruntime < m)
            m = e->ready[i]->vruntime;
    if (m != INT64_MAX && m > e->min_vruntime)
        e->min_vruntime = m;
    return e->min_vruntime;
}

static int64_t slice_of(const gs_engine_t *e, const gs_thr_t *t)
{
    const gs_machine_t *m = mach(e);
    switch (m->policy) {
    case GS_POLICY_FIFO:
        return INT64_MAX;
    case GS_POLICY_RR:
    case GS_POLICY_PRIORITY:
        return m->timeslice_ns;
    case GS_POLICY_CFS: {
        int64_t period = m->cfs_latency_ns;
        int64_t nr = e->cfs_nr > 0 ? e->cfs_nr : 1;
        if (nr * m->cfs_min_granularity_ns > period)
            period = nr * m->cfs_min_granularity_ns;
        int64_t sum = e->cfs_weight_sum > 0 ? e->cfs_weight_sum : t->weight;
        int64_t s = period * t->weight / sum; /* < 2^63 for a million threads */
        return s < m->cfs_min_granularity_ns ? m->cfs_min_granularity_ns : s;
    }
    }
    return INT64_MAX;
}

/* ---- cores ---------------------------------------------------------------- */

static void core_idle(gs_engine_t *e, gs_core_t *c)
{
    c->cur = NULL;
    c->mode = CORE_IDLE;
    c->gen++;
    gs__trace_core(e->trace, c->id, e->now, -1, GS_ST_COUNT, 0);
}

static void dispatch(gs_engine_t *e, gs_core_t *c, gs_thr_t *t)
{
    c->cur = t;
    c->mode = CORE_SWITCHING;
    c->gen++;
    t->core = c;
    set_os(e, t, OS_SWITCHING);
    int64_t cost = c->last_thread == t->id ? 0 : mach(e)->context_switch_ns;
    gs__ev_push(e, e->now + cost, EV_CORE, c->id, c->gen);
    gs__thr_trace(e, t);
}

static void core_pick(gs_engine_t *e, gs_core_t *c)
{
    gs_thr_t *t = ready_best(e);
    if (!t) {
        core_idle(e, c);
        return;
    }
    ready_remove(e, t);
    dispatch(e, c, t);
}

static void start_on(gs_engine_t *e, gs_core_t *c)
{
    gs_thr_t *t = c->cur;
    set_os(e, t, OS_ON);
    c->mode = CORE_ON;
    c->last_thread = t->id;
    t->last_core = c->id;
    t->seg_start_ns = e->now;
    int64_t s = slice_of(e, t);
    c->gen++;
    c->slice_end_ns = s == INT64_MAX ? INT64_MAX : e->now + s;
    if (s != INT64_MAX)
        gs__ev_push(e, c->slice_end_ns, EV_CORE, c->id, c->gen);
    gs__thr_trace(e, t);
    gs__go_on(e, t);
}

static void preempt(gs_engine_t *e, gs_core_t *c)
{
    gs_thr_t *t = c->cur;
    gs__os_account(e, t);
    if (t->exec_active)
        gs__thr_cancel_timer(t);
    t->core = NULL;
    set_os(e, t, OS_READY);
    ready_push(e, t);
    gs__trace_instant(e->trace, e->now, GS_IN_PREEMPT, t->id, t->process, t->holds_gil);
    gs__thr_trace(e, t);
    c->cur = NULL;
    c->mode = CORE_IDLE;
    core_pick(e, c);
}

static bool slice_over_preempts(gs_engine_t *e, gs_thr_t *t)
{
    gs_thr_t *best = ready_best(e);
    if (!best)
        return false;
    switch (mach(e)->policy) {
    case GS_POLICY_FIFO:
        return false;
    case GS_POLICY_RR:
        return true;
    case GS_POLICY_PRIORITY:
        return best->spec->priority >= t->spec->priority;
    case GS_POLICY_CFS:
        gs__os_account(e, t);
        return best->vruntime < t->vruntime;
    }
    return false;
}

void gs__os_core_event(gs_engine_t *e, gs_core_t *c)
{
    switch (c->mode) {
    case CORE_WAKING:
    case CORE_SWITCHING:
        start_on(e, c);
        break;
    case CORE_ON:
        if (slice_over_preempts(e, c->cur)) {
            preempt(e, c);
        } else {
            int64_t s = slice_of(e, c->cur);
            c->gen++;
            c->slice_end_ns = e->now + s;
            gs__ev_push(e, c->slice_end_ns, EV_CORE, c->id, c->gen);
        }
        break;
    case CORE_IDLE:
        break;
    }
}

/* ---- waking, blocking ----------------------------------------------------------- */

static gs_core_t *idle_core(gs_engine_t *e, const gs_thr_t *t)
{
    if (t->last_core >= 0 && e->cores[t->last_core].mode == CORE_IDLE)
        return &e->cores[t->last_core];
    for (int i = 0; i < e->n_cores; i++)
        if (e->cores[i].mode == CORE_IDLE)
            return &e->cores[i];
    return NULL;
}

/* The core a waking thread t should preempt, or NULL. */
static gs_core_t *victim(gs_engine_t *e, const gs_thr_t *t)
{
    gs_core_t *v = NULL;
    for (int i = 0; i < e->n_cores; i++) {
        gs_core_t *c = &e->cores[i];
        if (c->mode != CORE_ON)
            continue;
        gs_thr_t *r = c->cur;
        switch (mach(e)->policy) {
        case GS_POLICY_PRIORITY:
            if (r->spec->priority < t->spec->priority &&
                (!v || r->spec->priority < v->cur->spec->priority))
                v = c;
            break;
        case GS_POLICY_CFS:
            gs__os_account(e, r);
            if (t->vruntime + mach(e)->cfs_wakeup_granularity_ns < r->vruntime &&
                (!v || r->vruntime > v->cur->vruntime))
                v = c;
            break;
        default:
            break;
        }
    }
    return v;
}

static void wake(gs_engine_t *e, gs_thr_t *t, bool unslept);

void gs__os_wake(gs_engine_t *e, gs_thr_t *t)
{
    wake(e, t, false);
}

void gs__os_wake_unslept(gs_engine_t *e, gs_thr_t *t)
{
    wake(e, t, true);
}

void gs__os_wake_by(gs_engine_t *e, gs_thr_t *waker, gs_thr_t *w)
{
    wake(e, w, false);
    if (waker && waker->os == OS_ON)
        waker->debt_ns += mach(e)->futex_ns;
}

static void wake(gs_engine_t *e, gs_thr_t *t, bool unslept)
{
    GS_ASSERT(t->os == OS_OFF);
    t->blk = BLK_NONE;
    t->blk_obj = -1;
    if (mach(e)->policy == GS_POLICY_CFS) {
        int64_t floor = min_vruntime(e) - mach(e)->cfs_latency_ns / 2;
        if (t->last_core < 0)
            floor = e->min_vruntime; /* a new thread starts at the queue's minimum */
        if (t->vruntime < floor)
            t->vruntime = floor;
    }
    gs_core_t *c = idle_core(e, t);
    if (c) {
        bool own = unslept && c->id == t->last_core && c->last_thread == t->id;
        c->cur = t;
        c->mode = CORE_WAKING;
        c->gen++;
        t->core = c;
        set_os(e, t, OS_WAKING);
        gs__ev_push(e, e->now + (own ? 0 : mach(e)->wakeup_latency_ns), EV_CORE, c->id,
                    c->gen);
        gs__thr_trace(e, t);
        return;
    }
    set_os(e, t, OS_READY);
    ready_push(e, t);
    gs__thr_trace(e, t);
    gs_core_t *v = victim(e, t);
    if (v)
        preempt(e, v);
}

int64_t gs__timer_late(gs_engine_t *e)
{
    int64_t late = mach(e)->timer_slack_ns, j = mach(e)->timer_jitter_ns;
    if (j > 0)
        late += (int64_t)(gs__rng_next(&e->timer_rng) % ((uint64_t)j + 1));
    return late;
}

static void leave_core(gs_engine_t *e, gs_thr_t *t)
{
    t->debt_ns = 0; /* a futex call it had still to finish ends as it blocks */
    GS_ASSERT(t->os == OS_ON);
    gs__os_account(e, t);
    gs_core_t *c = t->core;
    t->core = NULL;
    set_os(e, t, OS_OFF);
    gs__thr_trace(e, t);
    c->cur = NULL;
    c->mode = CORE_IDLE;
    core_pick(e, c);
}

void gs__os_block(gs_engine_t *e, gs_thr_t *t, blk_t why, int32_t obj)
{
    t->blk = why;
    t->blk_obj = obj;
    leave_core(e, t);
}

void gs__os_exit(gs_engine_t *e, gs_thr_t *t)
{
    t->blk = BLK_NONE;
    leave_core(e, t);
}
