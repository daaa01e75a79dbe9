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
 *   eevdf     (Linux 6.6+) V = the weight-averaged vruntime of the runnable
 *             threads; a thread is eligible when its vruntime <= V; pick the
 *             eligible one with the earliest virtual deadline (vruntime +
 *             slice x 1024 / weight). On leaving the queue a thread keeps its
 *             lag V - vruntime (clamped); it comes back at V - lag if the lag
 *             is positive, and at max(own, V) if not (6.12's delayed dequeue
 *             with the lag zeroed once V has caught up; with placement the
 *             delayed thread stays in its core's V instead, eevdf.c). The running thread
 *             keeps its core until its deadline (RUN_TO_PARITY), then gets a
 *             new one and yields to an eligible thread with an earlier one; a
 *             waking thread preempts a running thread that is no longer
 *             eligible or has used its slice, if it is the pick (and has
 *             the earlier deadline; with per-CPU V as pick_eevdf decides:
 *             past V the running thread is out of the pick, and a tie goes
 *             to the woken thread, gs__os_beats()); a core
 *             switching to a thread it picked counts that thread as running
 *             (the kernel's curr from its pick, protected while eligible),
 *             which is preempted as it arrives (need_resched, start_on).
 *   tick      cfs and eevdf look at a slice only on the scheduler tick (every
 *             tick_ns, the same instants on every core): a slice ends at the
 *             first tick after it is used up. tick_ns = 0: exactly. eevdf
 *             then looks at every tick while its thread is past the slice it
 *             was protected for at its pick (vprot; Linux 6.17+).
 * Wake-up latency onto an idle core: wakeup_latency, or the machine's curve
 * of latency against the core's idle depth (time since it went idle), plus a
 * seeded draw from 0 to wakeup_jitter.
 * Placement (wake_affine > 0, or run_queues "per_core"): a thread woken by a
 * thread on a core, while its previous core is busy and another is idle, is
 * queued on the waker's core with the wake_affine chance (seeded, place_rng;
 * an idle previous core takes it back, place.c) instead, and always
 * when no core is idle (Linux select_task_rq_fair / wake_affine; with
 * per-core queues the woken thread's previous core instead when it carries
 * less load, wake_affine_weight with PELT loads: place.c);
 * READY with rq_core = that core, only it may pick the thread, and wake-up
 * preemption is judged against its thread alone. A preempted thread stays on
 * its core's queue likewise. An idle core pulls such a thread once it has
 * been off a core for migration_cost (task_hot): at once when the core goes
 * idle (newidle balance; newidle_ratio: by chance, newidle.c), else at the
 * next tick (nohz kick), paying the idle
 * core's wake-up. wake_affine = 0 with shared queues: no thread ever has an
 * rq_core, no draw is made, and the model is the one above, event for event. A thread queued on
 * its waker's core is placed, and judged for preempting it, by that core's
 * own V (its thread and the threads queued on it, as Linux keeps one V per
 * CPU); everything else uses one V for the machine.
 * CPU affinity (processes' "cpus", e->pinned): a thread runs only on the
 * cores its set allows (gs__allowed): pick, idle-core choice, wake-up
 * preemption, placement and pulls all skip the others.
 * Per-CPU V (eevdf with run_queues "per_core", gs__percpu_v): every runnable
 * thread is on one core's queue (percpu_queue: a wake with no waker and no
 * idle core joins its previous core's, a delayed thread stays where it is)
 * and each core judges everything by its own V: its pick, its tick, wake-up
 * preemption of its thread, the lag of a thread leaving it (alone there: 0)
 * and the place of one coming back (an empty queue keeps its last V); a
 * busy core looks at its thread's slice at the tick whether anyone waits or
 * not. A thread moves to another queue only by waking there (lag kept from
 * the old queue's V, placed against the new one's) or when an idle core
 * pulls it (the queue it joins is empty: no lag to apply, as Linux's
 * place_entity applies none on an empty cfs_rq).
 * Invariants: a core has at most one thread; a thread is in the ready queue
 * iff READY; cfs_nr counts the threads that are not OFF.
 * EEVDF's V, lag and placement are in eevdf.c; the wake-up path (idle core,
 * placement, latency, wake-up preemption, the waker's cost) in wake.c.
 * Source: Linux kernel/sched/fair.c (place_entity, check_preempt_wakeup,
 * sched_slice; for eevdf gs__eevdf_avg, entity_eligible, pick_eevdf,
 * update_deadline, update_entity_lag, wakeup_preempt_fair; placement
 * select_task_rq_fair, wake_affine_idle, task_hot, can_migrate_task,
 * sched_balance_newidle, nohz_balancer_kick) and
 * kernel/sched/features.h (RUN_TO_PARITY, PLACE_LAG, DELAY_DEQUEUE,
 * DELAY_ZERO), documented in docs/model.md. Costs: pick is an O(ready) scan
 * (eevdf adds an O(cores + ready) average), fine for the hundreds of
 * runnable threads a lesson has. */
#include "os.h"
#include "engine_int.h"
#include "eevdf.h"
#include "ft.h"
#include "kernel.h"
#include "newidle.h"
#include "place.h"
#include "switchcharge.h"

#include <stdlib.h>

void gs__os_init(gs_engine_t *e)
{
    for (int i = 0; i < e->n_cores; i++) {
        e->cores[i].id = i;
        e->cores[i].mode = CORE_IDLE;
        e->cores[i].last_thread = -1;
    }
    for (int i = 0; i < e->n_thr; i++) {
        e->thr[i].rq_core = -1;
        e->thr[i].delayed_core = -1;
        e->thr[i].off_core_ns = INT64_MIN / 4; /* never ran: cache-cold */
        e->thr[i].pelt_ns = -1;
        const gs_thread_spec_t *sp = e->thr[i].spec; /* its own set, else its process's */
        const gs_cpuset_t *s = &e->m->processes[sp->process].cpus;
        e->thr[i].cpus = gs_cpuset_any(&sp->cpus) ? &sp->cpus : gs_cpuset_any(s) ? s : NULL;
        e->pinned |= e->thr[i].cpus != NULL;
    }
    gs__rng_seed(&e->place_rng, e->m->seed, UINT64_C(4) << 32);
    gs__newidle_init(e);
}

static const gs_machine_t *mach(const gs_engine_t *e)
{
    return &e->m->machine;
}

void gs__os_set_state(gs_engine_t *e, gs_thr_t *t, os_state_t s)
{
    bool was = t->os != OS_OFF, now = s != OS_OFF;
    if (was != now && mach(e)->per_core_queues)
        gs__place_load_update(e, t, was);
    if (was != now) {
        e->cfs_nr += now ? 1 : -1;
        e->cfs_weight_sum += now ? t->weight : -t->weight;
    }
    t->os = s;
}

/* ---- ready queue ------------------------------------------------------ */

static void arm_ticks(gs_engine_t *e, const gs_thr_t *t);

void gs__os_ready_push(gs_engine_t *e, gs_thr_t *t)
{
    GS_ASSERT(t->ready_idx < 0 && e->n_ready < e->cap_ready);
    t->ready_seq = e->ready_seq++;
    t->ready_idx = e->n_ready;
    e->ready[e->n_ready++] = t;
    arm_ticks(e, t);
}

void gs__os_ready_remove(gs_engine_t *e, gs_thr_t *t)
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


/* The ready thread core c should run next (c NULL: any core). */
static gs_thr_t *ready_best(gs_engine_t *e, const gs_core_t *c)
{
    if (mach(e)->policy == GS_POLICY_EEVDF) {
        if (!e->n_ready)
            return NULL;
        int64_t V = c && gs__percpu_v(e) ? gs__eevdf_v(e, &e->cores[c->id])
                                         : gs__eevdf_avg(e, NULL);
        return gs__eevdf_best(e, V, c);
    }
    gs_thr_t *best = NULL;
    for (int i = 0; i < e->n_ready; i++)
        if (gs__pickable(e->ready[i], c) && (!best || better(e, e->ready[i], best)))
            best = e->ready[i];
    return best;
}

/* The first scheduler tick at or after `at` (tick_ns = 0: `at` itself). */
int64_t gs__os_tick_after(const gs_engine_t *e, int64_t at)
{
    int64_t k = mach(e)->tick_ns;
    if (k <= 0 || at >= INT64_MAX - k)
        return at;
    return (at + k - 1) / k * k;
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
    } else if (t->exec_active && !t->paying) {
        t->remaining_ns -= gs__ft_progress(t, d); /* slower on a shared object */
        if (t->req.exec == GS_ST_PY)
            t->py_exec_ns += d;
    }
    t->vruntime += d * 1024 / t->weight;
    t->seg_start_ns = e->now;
}

int64_t gs__os_min_vruntime(gs_engine_t *e)
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
    case GS_POLICY_EEVDF:
        /* real time until its vruntime reaches its deadline; once past the
         * slice it was protected for at its pick (vprot), every tick looks
         * (Linux 6.17+ update_curr: resched || !protect_slice(curr)) */
        if (m->tick_ns > 0 && t->vruntime >= t->vprot)
            return 1;
        if (t->deadline <= t->vruntime)
            return 1;
        return (t->deadline - t->vruntime) * t->weight / 1024 + 1;
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

/* When the running thread t's slice is next looked at: its end, on the
 * scheduler tick for the Linux policies. */
static int64_t slice_end(const gs_engine_t *e, const gs_thr_t *t)
{
    int64_t s = slice_of(e, t);
    if (s == INT64_MAX)
        return INT64_MAX;
    gs_policy_t p = mach(e)->policy;
    if (p == GS_POLICY_CFS || p == GS_POLICY_EEVDF)
        return gs__os_tick_after(e, e->now + s);
    return e->now + s;
}

/* cfs and eevdf: a core whose thread runs with nobody ready needs no tick
 * (nothing to compare it with; eevdf renews a used deadline when it is next
 * compared). With per-CPU V a busy core looks at its thread's slice at the
 * first tick after it is used whether or not anyone waits, as Linux's tick
 * does (update_curr, update_deadline): when the deadline is renewed, and so
 * what the core's own queue sees, must not depend on another core's queue. */
static bool tickless(const gs_engine_t *e)
{
    gs_policy_t p = mach(e)->policy;
    return (p == GS_POLICY_CFS || p == GS_POLICY_EEVDF) && e->n_ready == 0 &&
           !gs__percpu_v(e);
}

/* Someone is ready now: the running threads that went without ticks get
 * one at the next tick (they have used their slice by then or will be
 * compared anew). */
static void arm_ticks(gs_engine_t *e, const gs_thr_t *t)
{
    gs_policy_t p = mach(e)->policy;
    if ((p != GS_POLICY_CFS && p != GS_POLICY_EEVDF) || gs__percpu_v(e))
        return; /* per-CPU V: every busy core ticks already */
    for (int i = 0; i < e->n_cores; i++) {
        gs_core_t *c = &e->cores[i];
        if (c->mode != CORE_ON || c->cur == t || c->slice_end_ns != INT64_MAX)
            continue;
        c->gen++;
        c->slice_end_ns = gs__os_tick_after(e, e->now + 1);
        gs__ev_push(e, c->slice_end_ns, EV_CORE, c->id, c->gen);
    }
}

/* ---- cores ---------------------------------------------------------------- */

static void core_idle(gs_engine_t *e, gs_core_t *c)
{
    c->cur = NULL;
    c->mode = CORE_IDLE;
    c->idle_since_ns = e->now;
    c->gen++;
    gs__core_trace(e, c, -1, GS_ST_COUNT, 0);
}

/* c switches to t (already out of the ready queue), `lat` later if c has
 * to be woken first (an idle core pulling t). */
void gs__os_dispatch_after(gs_engine_t *e, gs_core_t *c, gs_thr_t *t, int64_t lat)
{
    c->cur = t;
    c->mode = CORE_SWITCHING;
    c->gen++;
    c->resched = false;
    t->core = c;
    t->rq_core = -1;
    gs__os_set_state(e, t, OS_SWITCHING);
    int64_t cost = c->last_thread == t->id ? 0 : mach(e)->context_switch_ns;
    gs__ev_push(e, e->now + lat + cost, EV_CORE, c->id, c->gen);
    gs__thr_trace(e, t);
}

static void dispatch(gs_engine_t *e, gs_core_t *c, gs_thr_t *t)
{
    gs__os_dispatch_after(e, c, t, 0);
}

static void core_pick(gs_engine_t *e, gs_core_t *c)
{
    gs_thr_t *t = ready_best(e, c);
    if (e->n_delayed && mach(e)->policy == GS_POLICY_EEVDF)
        gs__eevdf_settle(e, c, t);
    if (!t && gs__placing(e)) {
        /* newly idle: pull a thread that waits on another core's queue, if
         * it is cold (Linux sched_balance_newidle; newidle.c) */
        t = gs__newidle_pull(e, c);
    }
    if (!t) {
        core_idle(e, c);
        if (gs__placing(e))
            gs__place_arm(e, c);
        return;
    }
    gs__os_ready_remove(e, t);
    dispatch(e, c, t);
}


/* A thread woken while core c was switching (or waking) to c->cur, which
 * beat c->cur then (eevdf_victim), preempts it as it arrives: the kernel
 * sets need_resched on the CPU whose curr the woken task beats, and the new
 * curr reschedules on its way in. It goes ahead only if a thread ready for c
 * still beats it (eligible, earlier deadline: the same test as at the wake).
 * Before this, such a wake-up preemption was lost and the woken thread
 * waited for the next tick: a GIL waiter signalled by a holder that then
 * blocked, beside busy threads of another process, waited a whole tick for
 * a core (docs/model.md "Wake-up preemption of a core mid-switch"). */
static bool eevdf_arrival_beaten(gs_engine_t *e, gs_core_t *c)
{
    gs_thr_t *t = c->cur;
    if (!e->n_ready)
        return false;
    int64_t V = gs__eevdf_v(e, c);
    gs_thr_t *best = gs__eevdf_best(e, V, c);
    return best && best->vruntime <= V && gs__os_beats(e, best, t, V);
}

static void start_on(gs_engine_t *e, gs_core_t *c)
{
    gs_thr_t *t = c->cur;
    gs__os_set_state(e, t, OS_ON);
    c->mode = CORE_ON;
    int prev_thread = c->last_thread;
    c->last_thread = t->id;
    t->last_core = c->id;
    t->seg_start_ns = e->now;
    if (mach(e)->policy == GS_POLICY_EEVDF) {
        gs__eevdf_renew(e, t);
        t->vprot = t->deadline;
        t->vseen = t->vruntime;
    }
    gs__switch_charge(e, t, prev_thread);
    if (c->resched) {
        c->resched = false;
        if (eevdf_arrival_beaten(e, c)) {
            gs__thr_trace(e, t);
            gs__os_preempt(e, c);
            return;
        }
    }
    c->gen++;
    c->slice_end_ns = tickless(e) ? INT64_MAX : slice_end(e, t);
    int64_t s = c->slice_end_ns;
    if (s != INT64_MAX)
        gs__ev_push(e, c->slice_end_ns, EV_CORE, c->id, c->gen);
    gs__thr_trace(e, t);
    gs__go_on(e, t);
}

void gs__os_preempt(gs_engine_t *e, gs_core_t *c)
{
    gs_thr_t *t = c->cur;
    gs__os_account(e, t);
    if (t->exec_active)
        gs__thr_cancel_timer(t);
    t->core = NULL;
    t->off_core_ns = e->now;
    if (gs__placing(e))
        t->rq_core = c->id; /* it stays on its core's queue */
    gs__os_set_state(e, t, OS_READY);
    gs__os_ready_push(e, t);
    gs__trace_instant(e->trace, e->now, GS_IN_PREEMPT, t->id, t->process, t->holds_gil);
    gs__thr_trace(e, t);
    c->cur = NULL;
    c->mode = CORE_IDLE;
    core_pick(e, c);
    if (gs__placing(e))
        gs__place_kick(e);
}

static bool slice_over_preempts(gs_engine_t *e, gs_core_t *c)
{
    gs_thr_t *t = c->cur;
    if (mach(e)->policy == GS_POLICY_EEVDF)
        return gs__eevdf_slice_over(e, c); /* its delayed threads too */
    gs_thr_t *best = ready_best(e, c);
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
    case GS_POLICY_EEVDF:
        break;
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
        if (slice_over_preempts(e, c)) {
            gs__os_preempt(e, c);
        } else {
            c->gen++;
            c->slice_end_ns = tickless(e) ? INT64_MAX : slice_end(e, c->cur);
            if (c->slice_end_ns != INT64_MAX)
                gs__ev_push(e, c->slice_end_ns, EV_CORE, c->id, c->gen);
        }
        break;
    case CORE_IDLE:
        if (gs__placing(e))
            gs__place_balance(e, c);
        break;
    }
}

/* ---- blocking (waking: wake.c) -------------------------------------------- */

/* Does t, the pick of the ready threads, beat the running thread r in
 * pick_eevdf? With per-CPU V as the kernel's: an r that is no longer eligible
 * is left out of the pick, and between equal deadlines the queued thread wins
 * (pick_eevdf keeps curr only if it is strictly before the tree's best,
 * entity_before). Otherwise (one V for the machine) t needs the earlier
 * deadline. */
bool gs__os_beats(const gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *r, int64_t V)
{
    if (gs__percpu_v(e))
        return r->vruntime > V || t->deadline <= r->deadline;
    return t->deadline < r->deadline;
}

static void leave_core(gs_engine_t *e, gs_thr_t *t, bool sleep)
{
    t->debt_ns = 0; /* a futex call it had still to finish ends as it blocks */
    GS_ASSERT(t->os == OS_ON);
    gs__os_account(e, t);
    if (mach(e)->policy == GS_POLICY_EEVDF)
        gs__eevdf_leave(e, t, sleep);
    gs_core_t *c = t->core;
    t->core = NULL;
    t->off_core_ns = e->now;
    gs__os_set_state(e, t, OS_OFF);
    gs__thr_trace(e, t);
    c->cur = NULL;
    c->mode = CORE_IDLE;
    core_pick(e, c);
}

void gs__os_block(gs_engine_t *e, gs_thr_t *t, blk_t why, int32_t obj)
{
    t->blk = why;
    t->blk_obj = obj;
    leave_core(e, t, true);
}

void gs__os_exit(gs_engine_t *e, gs_thr_t *t)
{
    t->blk = BLK_NONE;
    leave_core(e, t, false);
}
