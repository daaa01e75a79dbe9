/* eevdf.c - Linux's EEVDF scheduler (6.6 and later) for os.c: the average
 * vruntime V, eligibility, the pick, a thread's lag and its placement when it
 * comes back, and (with placement, one V per core) the delayed dequeue of a
 * thread that blocks while not eligible, requeued against its CPU's thread as
 * the kernel last accounted it (update_curr). os.c's header says the policy; the
 * source is Linux kernel/sched/fair.c (avg_vruntime, entity_eligible,
 * pick_eevdf, update_entity_lag, place_entity, update_deadline, update_curr,
 * dequeue_entity, requeue_delayed_entity, finish_delayed_dequeue_entity) and
 * kernel/sched/features.h (PLACE_LAG, DELAY_DEQUEUE, DELAY_ZERO), documented
 * in docs/model.md. With run_queues "per_core" (gs__percpu_v) every V is a
 * core's own (core_v), as the kernel keeps avg_vruntime per cfs_rq, and an
 * empty queue's V is the one it last had (vfloor). Costs: O(cores + ready)
 * for a V; with delayed threads (placement only) O(threads). */
#include "eevdf.h"
#include "engine_int.h"
#include "os.h"

static const gs_machine_t *mach(const gs_engine_t *e)
{
    return &e->m->machine;
}

/* ---- eevdf ----------------------------------------------------------- */

static int64_t eevdf_slice(const gs_engine_t *e)
{
    const gs_machine_t *m = mach(e);
    if (m->eevdf_slice_ns > 0)
        return m->eevdf_slice_ns;
    /* sysctl_sched_base_slice 0.75 ms, scaled by 1 + ilog2(cpus), cpus <= 8
     * (SCHED_TUNABLESCALING_LOG) */
    int cpus = e->n_cores < 8 ? e->n_cores : 8, lg = 0;
    while ((2 << lg) <= cpus)
        lg++;
    return 750000 * (int64_t)(1 + lg);
}

static int64_t vslice(const gs_engine_t *e, const gs_thr_t *t)
{
    return eevdf_slice(e) * 1024 / t->weight;
}

/* V: the weighted average vruntime of the runnable threads (on a core or
 * ready), not counting `skip`; the running ones accounted first. With nobody
 * runnable, the queue's floor. Offsets from the first one keep it small. */
static int64_t avg_vruntime_w(gs_engine_t *e, const gs_thr_t *skip, int64_t *load)
{
    int64_t base = 0, sum = 0, w = 0;
    bool any = false;
    /* the running threads, then the ready queue: two loops, not one that
     * asks which of the two each index is (a few per cent of a fitted
     * replay's instructions are V) */
    for (int i = 0; i < e->n_cores; i++) {
        gs_thr_t *t = e->cores[i].cur;
        if (!t || t == skip)
            continue;
        gs__os_account(e, t);
        if (!any) {
            base = t->vruntime;
            any = true;
        }
        sum += (t->vruntime - base) * t->weight;
        w += t->weight;
    }
    for (int i = 0; i < e->n_ready; i++) {
        gs_thr_t *t = e->ready[i];
        if (t == skip)
            continue;
        if (!any) {
            base = t->vruntime;
            any = true;
        }
        sum += (t->vruntime - base) * t->weight;
        w += t->weight;
    }
    *load = w;
    if (!any)
        return e->min_vruntime;
    int64_t v = base + sum / w;
    if (v > e->min_vruntime)
        e->min_vruntime = v;
    return v;
}

/* Placing: the V of core c's own queue, its thread and the threads queued
 * on it (Linux keeps one V per CPU: a thread queued behind its waker is
 * compared with the threads of that CPU only), not counting skip; the
 * machine's V when nobody is there, or with per-CPU V (gs__percpu_v) the
 * queue's own last V (vfloor: Linux's avg_vruntime of an empty cfs_rq is
 * its min_vruntime, which stays where its last thread left it). O(ready). */
static int64_t core_v(gs_engine_t *e, const gs_core_t *c, const gs_thr_t *skip,
                      int64_t *load, bool seen)
{
    int64_t base = 0, sum = 0, w = 0;
    for (int i = -1; i < e->n_ready; i++) {
        gs_thr_t *t = i < 0 ? c->cur : e->ready[i];
        if (!t || t == skip || (i >= 0 && t->rq_core != c->id))
            continue;
        int64_t v = t->vruntime;
        if (i < 0 && seen)
            v = t->vseen; /* as the kernel last accounted it */
        else if (i < 0)
            gs__os_account(e, t), v = t->vruntime;
        if (!w)
            base = v;
        sum += (v - base) * t->weight;
        w += t->weight;
    }
    for (int i = 0; e->n_delayed && i < e->n_thr; i++) {
        gs_thr_t *t = &e->thr[i];
        if (t->delayed_core != c->id || t == skip)
            continue;
        if (!w)
            base = t->vruntime;
        sum += (t->vruntime - base) * t->weight;
        w += t->weight;
    }
    if (!w && gs__percpu_v(e)) {
        *load = 0;
        return c->vfloor; /* an empty queue keeps its last V */
    }
    if (!w)
        return avg_vruntime_w(e, skip, load);
    *load = w;
    int64_t v = base + sum / w;
    if (!skip && gs__percpu_v(e))
        e->cores[c->id].vfloor = v;
    return v;
}

int64_t gs__eevdf_core_v(gs_engine_t *e, const gs_core_t *c, const gs_thr_t *skip,
                             int64_t *load)
{
    return core_v(e, c, skip, load, false);
}

/* update_curr: the kernel accounts a running thread's time into its
 * vruntime only at certain points (its pick, the tick, another thread's
 * enqueue on its CPU or a wake-up preemption check); what it has run since
 * is not yet in V. t->vseen is its vruntime as of the last such point. */
void gs__eevdf_seen(gs_engine_t *e, gs_thr_t *t)
{
    gs__os_account(e, t);
    t->vseen = t->vruntime;
}

int64_t gs__eevdf_avg(gs_engine_t *e, const gs_thr_t *skip)
{
    int64_t load;
    return avg_vruntime_w(e, skip, &load);
}

int64_t gs__eevdf_v(gs_engine_t *e, gs_core_t *c)
{
    int64_t load;
    if (gs__percpu_v(e))
        return core_v(e, c, NULL, &load, false);
    return avg_vruntime_w(e, NULL, &load);
}

/* pick_eevdf over the ready queue: the eligible thread with the earliest
 * deadline; if none is eligible (V counts the running ones), the least
 * vruntime. */
gs_thr_t *gs__eevdf_best(const gs_engine_t *e, int64_t V, const gs_core_t *c)
{
    gs_thr_t *best = NULL, *least = NULL;
    for (int i = 0; i < e->n_ready; i++) {
        gs_thr_t *t = e->ready[i];
        if (!gs__pickable(t, c))
            continue;
        if (!least || t->vruntime < least->vruntime ||
            (t->vruntime == least->vruntime && t->ready_seq < least->ready_seq))
            least = t;
        if (t->vruntime > V)
            continue;
        if (!best || t->deadline < best->deadline ||
            (t->deadline == best->deadline && t->ready_seq < best->ready_seq))
            best = t;
    }
    return best ? best : least;
}

static void set_lag(gs_engine_t *e, gs_thr_t *t, int64_t lag)
{
    int64_t lim = 2 * vslice(e, t), tick = mach(e)->tick_ns * 1024 / t->weight;
    if (tick > lim)
        lim = tick;
    t->vlag = lag > lim ? lim : lag < -lim ? -lim : lag;
}

static void undelay(gs_engine_t *e, gs_thr_t *t)
{
    t->delayed_core = -1;
    e->n_delayed--;
}

/* update_entity_lag: t leaves the run queue (blocks, sleep, or exits). With
 * placement (one V per core), a thread that blocks while not eligible stays
 * counted in its core's V, delayed (DELAY_DEQUEUE), until its core picks it
 * or it wakes (gs__eevdf_settle, gs__eevdf_place). */
void gs__eevdf_leave(gs_engine_t *e, gs_thr_t *t, bool sleep)
{
    if (!gs__placing(e)) {
        set_lag(e, t, gs__eevdf_avg(e, NULL) - t->vruntime);
        return;
    }
    int64_t load;
    int64_t V = gs__eevdf_core_v(e, t->core, NULL, &load);
    if (load == t->weight && !gs__percpu_v(e)) /* alone on its core: the
                                                  machine's V, as above */
        V = gs__eevdf_avg(e, NULL);
    set_lag(e, t, V - t->vruntime);
    if (sleep && t->vruntime > V) {
        t->delayed_core = t->core->id;
        e->n_delayed++;
    }
}

/* The pick on core c meets its delayed threads (pick_next_entity dequeues a
 * delayed entity it picks): one that is eligible with an earlier deadline
 * than the thread c would run leaves with its lag zeroed (DELAY_ZERO); if c
 * has nothing to run, all leave, keeping a negative lag. */
void gs__eevdf_settle(gs_engine_t *e, gs_core_t *c, const gs_thr_t *next)
{
    int64_t load;
    int64_t V = gs__eevdf_core_v(e, c, NULL, &load);
    for (int i = 0; e->n_delayed && i < e->n_thr; i++) {
        gs_thr_t *d = &e->thr[i];
        if (d->delayed_core != c->id)
            continue;
        if (!next) {
            undelay(e, d);
            set_lag(e, d, V - d->vruntime < 0 ? V - d->vruntime : 0);
        } else if (d->vruntime <= V && d->deadline < next->deadline) {
            undelay(e, d);
            d->vlag = 0;
        }
    }
}

/* Core c's thread t has used its slice (the tick's update_curr and
 * update_deadline): true if a ready thread takes the core (os.c preempts,
 * and the pick settles c's delayed threads). A delayed thread is still on
 * the run queue (cfs_rq->nr_running counts it), so the kernel reschedules
 * even with nothing else ready, and the pick meets it: one that is eligible
 * with an earlier deadline than t's new one leaves (gs__eevdf_settle, next
 * t) and t goes on. Before this, with nothing ready the slice end returned
 * first, and such a thread stayed delayed, counted in c's V, until it woke
 * (tests/check_delayed.c). */
bool gs__eevdf_slice_over(gs_engine_t *e, gs_core_t *c)
{
    gs_thr_t *t = c->cur;
    gs__eevdf_seen(e, t); /* the tick's update_curr */
    gs__eevdf_renew(e, t);
    bool over = false;
    if (e->n_ready) {
        int64_t V = gs__eevdf_v(e, c);
        gs_thr_t *best = gs__eevdf_best(e, V, c);
        if (best && t->vruntime > V) /* no longer eligible */
            over = best->vruntime <= V || best->vruntime < t->vruntime;
        else if (best)
            over = best->vruntime <= V && best->deadline < t->deadline;
    }
    if (!over && e->n_delayed)
        gs__eevdf_settle(e, c, t);
    return over;
}

/* place_entity: t comes back to the run queue (it is still OFF). */
void gs__eevdf_place(gs_engine_t *e, gs_thr_t *t, const gs_core_t *on)
{
    int64_t load;
    if (t->delayed_core >= 0) {
        /* requeue_delayed_entity: still queued; if it has become eligible
         * meanwhile it is placed anew with its lag zeroed, else it goes on
         * with its vruntime and deadline */
        gs_core_t *dc = &e->cores[t->delayed_core];
        bool stale = dc->cur && dc->cur->os == OS_ON;
        int64_t V = core_v(e, dc, NULL, &load, stale);
        undelay(e, t);
        if (t->vruntime > V)
            return;
        t->vlag = 0;
        if (stale && on == dc) {
            /* requeue_delayed_entity places it by avg_vruntime with no
             * update_curr before: its CPU's thread counts as last seen */
            V = core_v(e, dc, t, &load, true);
            t->vruntime = V;
            t->deadline = V + vslice(e, t);
            return;
        }
    }
    if (on && on->cur && on->cur->os == OS_ON)
        gs__eevdf_seen(e, on->cur); /* enqueue_entity's update_curr */
    int64_t V = on ? gs__eevdf_core_v(e, on, t, &load) : avg_vruntime_w(e, t, &load);
    if (t->last_core < 0) {
        /* a new thread: no lag, half a slice to its first deadline
         * (PLACE_DEADLINE_INITIAL) */
        t->vruntime = V;
        t->deadline = V + vslice(e, t) / 2;
        return;
    }
    if (t->vlag >= 0 || gs__placing(e)) {
        /* joining moves V towards it by w / (W + w) of its lag: inflate the
         * lag so that it keeps the lag it left with (PLACE_LAG); with
         * placement a negative lag too (the delayed dequeue is modelled) */
        int64_t lag = load > 0 ? t->vlag * (load + t->weight) / load : t->vlag;
        t->vruntime = V - lag;
    } else if (t->vruntime < V) {
        /* delayed dequeue: it stayed queued until it was eligible again, then
         * left with its lag zeroed (DELAY_ZERO) */
        t->vruntime = V;
    } else {
        return; /* still queued with its negative lag: requeued as it was */
    }
    t->deadline = t->vruntime + vslice(e, t);
}

/* update_deadline: a thread that used its slice gets a new deadline. */
void gs__eevdf_renew(gs_engine_t *e, gs_thr_t *t)
{
    if (t->vruntime >= t->deadline)
        t->deadline = t->vruntime + vslice(e, t);
}
