/* wake.c - waking a thread: the OFF -> WAKING | READY half of os.c.
 *
 * A woken thread goes to an idle core (its previous one first), which runs
 * it after the wake-up latency (wakeup_latency, or the machine's curve at
 * the core's idle depth, plus a seeded jitter; none for a thread that never
 * left the core or that the core's own timer woke), unless placement queues
 * it on its waker's core or another (place.c, startrace.c; sis.c, Linux's
 * SIS_UTIL scan, with machine.sis_util; per-CPU V: percpu_queue). With no
 * idle core it joins the ready queue and preempts whom the policy lets it
 * (victim: priority, cfs wakeup_granularity, eevdf
 * wakeup_preempt_fair with RUN_TO_PARITY, by the kernel's pick on one CPU's
 * queue with machine.one_cpu_pick: beats; eevdf also the enqueue's
 * update_curr, which reschedules a thread past its protected slice for
 * whichever thread is the pick: eevdf_unprotected). A wake by a futex call costs its
 * waker machine.futex, plus machine.wake_ipi when the wakee goes to another
 * idle core (wake_cost). os.c's header describes the policies and states.
 * Source: Linux kernel/sched/core.c (try_to_wake_up, ttwu_queue) and
 * kernel/sched/fair.c (select_task_rq_fair, check_preempt_wakeup,
 * wakeup_preempt_fair, place_entity). */
#include "wake.h"
#include "engine_int.h"
#include "eevdf.h"
#include "kernel.h"
#include "os.h"
#include "place.h"
#include "sis.h"
#include "startrace.h"

static const gs_machine_t *mach(const gs_engine_t *e)
{
    return &e->m->machine;
}

static gs_core_t *idle_core(gs_engine_t *e, const gs_thr_t *t)
{
    if (t->last_core >= 0 && e->cores[t->last_core].mode == CORE_IDLE)
        return &e->cores[t->last_core];
    for (int i = 0; i < e->n_cores; i++)
        if (e->cores[i].mode == CORE_IDLE && gs__allowed(t, &e->cores[i]))
            return &e->cores[i];
    return NULL;
}

/* Is t's wake judged on one CPU's queue, c's? With one V for the machine,
 * when the machine has one core or t and r may both run on c alone (a
 * program under `taskset -c 0`): all of them share that CPU's cfs_rq, as in
 * the kernel. O(cores). */
static bool one_cpu_queue(const gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *r,
                          const gs_core_t *c)
{
    if (e->n_cores == 1)
        return true;
    if (!t->cpus || !r->cpus)
        return false;
    for (int i = 0; i < e->n_cores; i++)
        if (&e->cores[i] != c && (gs__allowed(t, &e->cores[i]) || gs__allowed(r, &e->cores[i])))
            return false;
    return true;
}

/* Does t, the pick of the ready threads, beat c's running thread r?
 * gs__os_beats; with machine.one_cpu_pick, on one CPU's queue
 * (one_cpu_queue), the kernel's pick whatever run_queues says: an r that is
 * no longer eligible is left out of pick_eevdf and a tie goes to t
 * (entity_before is strict). Without it a woken Lock waiter on the one-core
 * fits never preempts a releaser past V whose deadline is earlier, where
 * Linux lets it (replay notes 31, 39; tests/check_onecpupick.c). */
static bool beats(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *r, const gs_core_t *c,
                  int64_t V)
{
    if (mach(e)->one_cpu_pick && one_cpu_queue(e, t, r, c))
        return r->vruntime > V || t->deadline <= r->deadline;
    return gs__os_beats(e, t, r, V);
}

/* wakeup_preempt_fair: t (just queued) preempts the running thread r if r is
 * no longer eligible or has used the slice it got the core with
 * (RUN_TO_PARITY protects it until then) and t is the pick, with an earlier
 * deadline than r's (renewed first if r used it up; beats). */
static gs_core_t *eevdf_victim(gs_engine_t *e, gs_thr_t *t, const gs_core_t *only)
{
    int64_t load;
    int64_t V = only ? gs__eevdf_core_v(e, only, NULL, &load) : gs__eevdf_avg(e, NULL);
    if (t->vruntime > V || (!e->pinned && gs__eevdf_best(e, V, only) != t))
        return NULL;
    gs_core_t *v = NULL;
    for (int i = 0; i < e->n_cores; i++) {
        gs_core_t *c = &e->cores[i];
        bool arriving = c->mode == CORE_SWITCHING || c->mode == CORE_WAKING;
        if ((c->mode != CORE_ON && !arriving) || (only && c != only) || c->resched)
            continue;
        /* with CPU affinity, t must be the pick of a core it may run on */
        if (e->pinned && (!gs__allowed(t, c) || gs__eevdf_best(e, V, only ? only : c) != t))
            continue;
        gs_thr_t *r = c->cur;
        gs__eevdf_seen(e, r); /* update_curr first */
        gs__eevdf_renew(e, r);
        /* RUN_TO_PARITY: the kernel protects a thread's slice from its pick
         * on (set_next_entity), so one arriving is protected while eligible */
        bool protected_ = r->vruntime <= V && (arriving || r->vruntime < r->vprot);
        if (!protected_ && beats(e, t, r, c, V) && (!v || r->deadline > v->cur->deadline))
            v = c;
    }
    return v;
}

/* The enqueue's update_curr (Linux 6.17+): t is queued on a CPU whose
 * thread r has run past the slice it was protected for at its pick (vprot),
 * so the kernel reschedules that CPU whether or not t is the pick
 * (update_curr: resched || !protect_slice(curr)), and the pick that follows
 * is the tick's: a ready thread, t or another, that beats r takes the core
 * (gs__eevdf_slice_over). The CPU: t's own queue (`only`), the one core,
 * else t's previous core (select_idle_sibling falls back to it). NULL if r
 * keeps the core. Before, only a wakee that was itself the pick preempted,
 * and an unprotected r ran on to its next slice end at the tick. */
static gs_core_t *eevdf_unprotected(gs_engine_t *e, gs_thr_t *t, gs_core_t *only)
{
    gs_core_t *c = only;
    if (!c && e->n_cores == 1)
        c = &e->cores[0];
    else if (!c && t->last_core >= 0)
        c = &e->cores[t->last_core];
    if (!c || c->mode != CORE_ON || c->resched || !gs__pickable(t, c))
        return NULL;
    gs_thr_t *r = c->cur;
    gs__eevdf_seen(e, r);
    if (r->vruntime < r->vprot)
        return NULL; /* still protected: the wake-up rule above decided */
    return gs__eevdf_slice_over(e, c) ? c : NULL;
}

/* The core a waking thread t should preempt, or NULL; `only`: t waits on
 * that core's queue, and only its thread may be preempted. */
static gs_core_t *victim(gs_engine_t *e, gs_thr_t *t, const gs_core_t *only)
{
    if (mach(e)->policy == GS_POLICY_EEVDF)
        return eevdf_victim(e, t, only);
    gs_core_t *v = NULL;
    for (int i = 0; i < e->n_cores; i++) {
        gs_core_t *c = &e->cores[i];
        if (c->mode != CORE_ON || (only && c != only) || !gs__allowed(t, c))
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

static void wake(gs_engine_t *e, gs_thr_t *t, bool unslept, gs_thr_t *waker, int tc);

/* A machine curve at x: linear between its points, flat beyond them. */
int64_t gs__curve_at(int n, const int64_t *xs, const int64_t *ys, int64_t x)
{
    if (x <= xs[0])
        return ys[0];
    for (int i = 1; i < n; i++)
        if (x <= xs[i])
            return ys[i - 1] + (ys[i] - ys[i - 1]) * (x - xs[i - 1]) / (xs[i] - xs[i - 1]);
    return ys[n - 1];
}

/* How long an idle core takes to run a thread woken onto it: the curve at
 * its idle depth; without a curve, wakeup_latency. */
int64_t gs__os_wake_latency(const gs_engine_t *e, const gs_core_t *c)
{
    const gs_machine_t *m = mach(e);
    if (m->n_wake_curve <= 0)
        return m->wakeup_latency_ns;
    return gs__curve_at(m->n_wake_curve, m->wake_idle_ns, m->wake_latency_ns,
                        e->now - c->idle_since_ns);
}

void gs__os_wake(gs_engine_t *e, gs_thr_t *t)
{
    wake(e, t, false, NULL, -1);
}

/* t woken by its own slack timer: with timer_wake "local", onto the core it
 * was armed on without wake-up latency (hrtimer.c says why; wake_lat). */
void gs__os_wake_timer(gs_engine_t *e, gs_thr_t *t)
{
    wake(e, t, false, NULL, mach(e)->timer_wake_local ? t->hrt_cpu : -1);
}

void gs__os_wake_unslept(gs_engine_t *e, gs_thr_t *t)
{
    wake(e, t, true, NULL, -1);
}

void gs__os_wake_from(gs_engine_t *e, gs_thr_t *waker, gs_thr_t *w)
{
    wake(e, w, false, waker && waker->os == OS_ON ? waker : NULL, -1);
}

/* What waking w costs its waker: the futex system call, and, when w goes to
 * another core that is idle, the inter-processor interrupt that wakes that
 * core (Linux ttwu_queue -> smp_send_reschedule; on a VM the IPI is a VM exit,
 * ~11 us on this Firecracker VM against 0.4 us for a wake-up on the waker's
 * own core, measured by tests/reality). A wakee queued behind a running
 * thread is left for the scheduler: no IPI is charged. */
static int64_t wake_cost(const gs_engine_t *e, const gs_thr_t *waker, const gs_thr_t *w)
{
    int64_t ns = mach(e)->futex_ns;
    if (w->os == OS_WAKING && w->core != waker->core)
        ns += mach(e)->wake_ipi_ns;
    return ns;
}

int64_t gs__os_wake_cost(const gs_engine_t *e, const gs_thr_t *waker, const gs_thr_t *w)
{
    return wake_cost(e, waker, w);
}

/* w woken by waker's futex call, which waker pays. A w whose previous core
 * is idle goes back there, whatever wake_affine says (place.c
 * gs__place_affine, Linux's wake_affine_idle). */
void gs__os_wake_by(gs_engine_t *e, gs_thr_t *waker, gs_thr_t *w)
{
    bool on = waker && waker->os == OS_ON;
    wake(e, w, false, on ? waker : NULL, -1);
    /* a waker that the woken thread preempted on its own core (placement)
     * still finishes its call when it gets the core back */
    if (on && (waker->os == OS_ON || (gs__placing(e) && waker->os == OS_READY)))
        waker->debt_ns += wake_cost(e, waker, w);
}

/* t joins the ready queue and preempts whom it may: on core `only`, or
 * anywhere when NULL. */
static void make_ready(gs_engine_t *e, gs_thr_t *t, gs_core_t *only)
{
    gs__os_set_state(e, t, OS_READY);
    gs__os_ready_push(e, t);
    gs__thr_trace(e, t);
    gs_core_t *v = victim(e, t, only);
    if (!v && mach(e)->policy == GS_POLICY_EEVDF)
        v = eevdf_unprotected(e, t, only);
    if (v && v->mode != CORE_ON)
        v->resched = true; /* mid-switch: preempted as it arrives (start_on) */
    else if (v)
        gs__os_preempt(e, v);
}

static void queue_on(gs_engine_t *e, gs_thr_t *t, gs_core_t *c)
{
    t->rq_core = c->id;
    make_ready(e, t, c);
    gs__place_kick(e);
}

/* Per-CPU V: every runnable thread is on one core's queue. A thread still
 * queued, delayed (DELAY_DEQUEUE), is requeued where it is (Linux
 * ttwu_runnable: a wake of a task still on its rq makes no CPU choice); one
 * that found no idle core and no waker on a core (a timer, an I/O) joins its
 * previous core's queue (select_idle_sibling falls back to the target, the
 * previous CPU), a thread that never ran the least loaded core's
 * (gs__place_new, as placement "previous" starts one). Otherwise
 * aff (the waker's core, or none: the idle core c). */
static gs_core_t *percpu_queue(gs_engine_t *e, const gs_thr_t *t, gs_core_t *c,
                               gs_core_t *aff)
{
    if (t->delayed_core >= 0)
        return &e->cores[t->delayed_core];
    if (aff || c)
        return aff;
    if (t->last_core >= 0)
        return &e->cores[t->last_core];
    gs_core_t *idle; /* none: c, idle_core's answer, is NULL */
    return gs__place_new(e, t, NULL, &idle);
}

/* A wake-up's latency onto idle core c: none for a thread that never left it
 * (own) or that c's own timer woke (timer_cpu). */
static int64_t wake_lat(gs_engine_t *e, const gs_core_t *c, bool own, int timer_cpu)
{
    if (own || (timer_cpu >= 0 && c->id == timer_cpu))
        return 0;
    int64_t lat = gs__os_wake_latency(e, c);
    int64_t j = mach(e)->wakeup_jitter_ns;
    if (j > 0)
        lat += (int64_t)(gs__rng_next(&e->wake_rng) % ((uint64_t)j + 1));
    return lat;
}

/* A core is idle (*c, idle_core's): is t queued on its waker's core? With
 * machine.sis_util, where t's previous core is busy, Linux's cut scan
 * decides (sis.c): the idle core it reaches becomes *c, or none, and t
 * queues behind its waker; otherwise wake_affine's draw (place.c). */
static gs_core_t *affine_or_scan(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *waker,
                                 gs_core_t **c)
{
    bool asked = waker && gs__placing(e) && waker->os == OS_ON && waker->core &&
                 !(t->last_core >= 0 && e->cores[t->last_core].mode == CORE_IDLE);
    if (mach(e)->sis_util && asked) {
        gs_core_t *found = gs__sis_scan(e, t, waker);
        if (found)
            *c = found;
        return found ? NULL : waker->core;
    }
    return gs__place_affine(e, t, waker) ? waker->core : NULL;
}

/* tc: the core whose timer woke t (gs__os_wake_timer), else -1 */
static void wake(gs_engine_t *e, gs_thr_t *t, bool unslept, gs_thr_t *waker, int tc)
{
    GS_ASSERT(t->os == OS_OFF);
    t->blk = BLK_NONE;
    t->blk_obj = -1;
    gs_core_t *c = idle_core(e, t);
    gs_core_t *aff = c ? affine_or_scan(e, t, waker, &c)
                       : mach(e)->per_core_queues ? gs__place_busy_weight(e, t, waker)
                                                  : gs__place_busy(e, waker);
    aff = mach(e)->keep_core ? gs__place_keep(e, t, waker, &c) : aff; /* "previous" */
    aff = aff ? aff : gs__start_queue(e, t, c);    /* behind a new thread (startrace.c) */
    aff = aff && gs__allowed(t, aff) ? aff : NULL; /* the waker's core, if t may run there */
    if (gs__percpu_v(e))
        aff = percpu_queue(e, t, c, aff);
    if (mach(e)->policy == GS_POLICY_EEVDF) /* on the waker's core: by that core's V */
        gs__eevdf_place(e, t, gs__percpu_v(e) && !aff ? c : aff);
    if (mach(e)->policy == GS_POLICY_CFS) {
        int64_t floor = gs__os_min_vruntime(e) - mach(e)->cfs_latency_ns / 2;
        if (t->last_core < 0)
            floor = e->min_vruntime; /* a new thread starts at the queue's minimum */
        if (t->vruntime < floor)
            t->vruntime = floor;
    }
    if (aff) {
        queue_on(e, t, aff);
        return;
    }
    if (c) {
        bool own = unslept && c->id == t->last_core && c->last_thread == t->id;
        c->cur = t;
        c->mode = CORE_WAKING;
        c->gen++;
        t->core = c;
        gs__os_set_state(e, t, OS_WAKING);
        int64_t lat = wake_lat(e, c, own, tc);
        gs__ev_push(e, e->now + lat, EV_CORE, c->id, c->gen);
        gs__thr_trace(e, t);
        return;
    }
    make_ready(e, t, NULL);
}
