/* place.c - where the kernel runs a woken or new thread, and idle balancing.
 *
 * Only with machine.wake_affine > 0, per_core_queues or keep_core (os.c's header says
 * what the OS model does without them). A thread woken by a thread running
 * on a core goes back to its previous core if that core is idle; if not,
 * while another core is idle, it is queued on its waker's core with chance
 * wake_affine instead (gs__place_affine, a seeded draw from place_rng made
 * only then); while no core is idle, always (gs__place_busy), or, with
 * per-core queues, unless its previous core carries less load
 * (gs__place_busy_weight, below: it is queued there instead); os.c
 * queues it there (rq_core) and judges wake-up preemption against that
 * core's thread alone. A thread waiting on another core's queue
 * may be pulled by an idle core once it is no longer cache-hot, i.e. once it
 * has been off a core for machine.migration_cost: at once by a core that
 * becomes idle (core_pick in os.c: newidle balancing; with
 * machine.newidle_ratio only as its die allows, newidle.c), otherwise at the next
 * scheduler tick (an idle core's EV_CORE armed here: a busy CPU's tick kicks
 * an idle one into balancing), the idle core paying its wake-up first.
 * With placement "previous" (machine.keep_core) a woken thread goes back to
 * its previous core instead, idle or busy, and no idle core draws it away
 * (gs__place_keep); a thread that never ran goes where Linux's fork
 * balancing puts a new task (gs__place_new): an idle core if there is one,
 * the starter's own core counting as busy since the starter runs there,
 * else the least loaded core, the starter's on a tie. Only balancing (the
 * pulls above) moves a thread from the core it first ran on.
 * Invariant: a thread with rq_core >= 0 is READY and its core is busy (it
 * was queued behind that core's thread, and a core picks from its own queue
 * before it idles), so an idle core never waits for a thread queued on it.
 * Source: Linux kernel/sched/fair.c (select_task_rq_fair, wake_affine_idle,
 * select_idle_sibling; task_hot, can_migrate_task; sched_balance_newidle,
 * nohz_balancer_kick; sysctl_sched_migration_cost; wake_up_new_task,
 * sched_balance_find_dst_group / _cpu for SD_BALANCE_FORK; select_idle_cpu
 * with SIS_UTIL), docs/model.md "Where a woken thread runs" and "Where a new
 * thread starts". Costs: O(ready) per look, made only when placing; a new
 * thread's O(cores x ready), once per start. */
#include "place.h"
#include "engine_int.h"
#include "kernel.h"
#include "newidle.h"
#include "os.h"
#include "wake.h"

#include <math.h>
#include <stdint.h>

static const gs_machine_t *mach(const gs_engine_t *e)
{
    return &e->m->machine;
}

/* A core is idle: is woken t queued on its waker's core instead? Only when
 * t's previous core is not idle, then with chance wake_affine (a seeded
 * draw). Linux select_task_rq_fair: wake_affine_idle returns an idle previous
 * CPU (a futex wake is not WF_SYNC), and select_idle_sibling returns an idle
 * target before it scans; only where the previous CPU is busy (here: the
 * waker's own, the pair sharing it, or another thread's) do wake_affine_weight
 * and SIS_UTIL's cut scan decide, which the draw stands for. Traced on this
 * VM (tests/reality/place_trace.py): every wake-up of a program thread whose
 * previous CPU was idle went back there. */
bool gs__place_affine(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *waker)
{
    if (!waker || !gs__placing(e) || waker->os != OS_ON || !waker->core)
        return false;
    if (t->last_core >= 0 && e->cores[t->last_core].mode == CORE_IDLE)
        return false;
    return (int)(gs__rng_next(&e->place_rng) % 100) < mach(e)->wake_affine_pct;
}

/* No core is idle: a thread woken by a thread on a core joins that core's
 * queue, and only that core's thread may be preempted for it. Linux's
 * select_task_rq_fair: wake_affine picks the waker's CPU (wake_affine_idle
 * finds neither it nor the previous CPU idle; wake_affine_weight's
 * imbalance margin favours the waker's CPU between equal loads), and
 * select_idle_sibling finds no idle CPU to go to instead. A wake without a
 * waker on a core (a timer, an I/O completion) stays on the machine's queue. */
gs_core_t *gs__place_busy(gs_engine_t *e, const gs_thr_t *waker)
{
    if (!waker || !gs__placing(e) || waker->os != OS_ON || !waker->core)
        return NULL;
    return waker->core;
}

/* Threads on core c: its own (running, switching or waking) and those
 * queued on it. O(ready). */
static int core_load(const gs_engine_t *e, const gs_core_t *c)
{
    int n = c->mode == CORE_IDLE ? 0 : 1;
    for (int i = 0; i < e->n_ready; i++)
        n += e->ready[i]->rq_core == c->id;
    return n;
}

/* Where a thread that never ran starts (Linux wake_up_new_task with
 * SD_BALANCE_FORK: sched_balance_find_dst_group picks the group with the
 * most idle CPUs, then the least loaded, and keeps the local one unless
 * another is clearly less loaded; the new task is not counted, its creator
 * is, as it runs). An idle core if there is one (*idle; the lowest
 * numbered: the model's idle cores are alike), else the core to queue it
 * on: the least loaded, the starter's own on a tie; only cores t's CPU
 * affinity allows (gs__allowed). */
gs_core_t *gs__place_new(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *starter,
                         gs_core_t **idle)
{
    *idle = NULL;
    for (int i = 0; i < e->n_cores; i++) {
        if (e->cores[i].mode == CORE_IDLE && gs__allowed(t, &e->cores[i])) {
            *idle = &e->cores[i];
            return NULL;
        }
    }
    gs_core_t *best = starter && starter->os == OS_ON ? starter->core : NULL;
    if (best && !gs__allowed(t, best))
        best = NULL;
    int least = best ? core_load(e, best) : 0;
    for (int i = 0; i < e->n_cores; i++) {
        if (!gs__allowed(t, &e->cores[i]))
            continue;
        int n = core_load(e, &e->cores[i]);
        if (!best || n < least) {
            best = &e->cores[i];
            least = n;
        }
    }
    return best;
}

/* Placement "previous": where woken t goes. Its previous core: run there at
 * once if it is idle (*idle), else queue there (the core returned), even
 * while another core idles. Linux: a futex wake is not WF_SYNC, so
 * wake_affine_idle keeps an idle previous CPU, and wake_affine_weight keeps
 * a busy one against a waker that runs on (this VM: 99.5% of the Python 2
 * waiter's wake-ups, docs/validation-versions.md); select_idle_cpu's scan
 * for an idle CPU elsewhere in the LLC is cut to nothing by SIS_UTIL while
 * the LLC's recent utilisation is high, as it is beside CPU-bound threads
 * (placement "previous" keeps no utilisation: it never scans; sis.c does,
 * for the default placement, with machine.sis_util). A thread that never
 * ran: gs__place_new, `starter` its starter on a core or NULL. */
gs_core_t *gs__place_keep(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *starter,
                          gs_core_t **idle)
{
    if (t->last_core < 0)
        return gs__place_new(e, t, starter, idle);
    gs_core_t *p = &e->cores[t->last_core];
    *idle = p->mode == CORE_IDLE ? p : NULL;
    return *idle ? NULL : p;
}

/* A thread waiting on another core's queue that the idle core c may pull:
 * one that is no longer cache-hot (off its core for migration_cost, Linux
 * task_hot / can_migrate_task), the longest queued first. *cools: when the
 * first hot one cools, INT64_MAX if none. O(ready). */
gs_thr_t *gs__place_pullable(const gs_engine_t *e, const gs_core_t *c, int64_t *cools)
{
    gs_thr_t *best = NULL;
    *cools = INT64_MAX;
    for (int i = 0; i < e->n_ready; i++) {
        gs_thr_t *t = e->ready[i];
        if (t->rq_core < 0 || t->rq_core == c->id || !gs__allowed(t, c))
            continue;
        int64_t at = t->off_core_ns + mach(e)->migration_cost_ns;
        if (at > e->now) {
            if (at < *cools)
                *cools = at;
        } else if (!best || t->ready_seq < best->ready_seq) {
            best = t;
        }
    }
    return best;
}

/* The idle core c looks again at the next scheduler tick at which a queued
 * thread can be pulled (Linux: a busy CPU's tick kicks an idle one into
 * load balancing, nohz_balancer_kick). */
void gs__place_arm(gs_engine_t *e, gs_core_t *c)
{
    int64_t cools;
    if (gs__place_pullable(e, c, &cools))
        cools = e->now;
    if (cools == INT64_MAX)
        return;
    int64_t at = gs__os_tick_after(e, cools > e->now ? cools : e->now + 1);
    c->gen++;
    gs__ev_push(e, at, EV_CORE, c->id, c->gen);
}

void gs__place_kick(gs_engine_t *e)
{
    gs__newidle_queued(e);
    for (int i = 0; i < e->n_cores; i++)
        if (e->cores[i].mode == CORE_IDLE)
            gs__place_arm(e, &e->cores[i]);
}

void gs__place_balance(gs_engine_t *e, gs_core_t *c)
{
    int64_t cools;
    gs_thr_t *t = gs__place_pullable(e, c, &cools);
    gs__newidle_looked(e);
    if (!t) {
        gs__place_arm(e, c);
        return;
    }
    gs__os_ready_remove(e, t);
    gs__os_dispatch_after(e, c, t, gs__os_wake_latency(e, c));
}

/* ---- no idle core: the waker's core or the previous one, by load ---------
 *
 * Per-core queues only. Linux's wake_affine, when neither the waker's CPU
 * nor the woken thread's previous CPU is idle (wake_affine_idle gives no
 * answer), lets wake_affine_weight choose between them by load: the waker's
 * CPU if its load plus the woken thread's is below the previous CPU's load
 * less the woken thread's (its blocked load is still counted there), the
 * previous CPU's side raised by half the domain's imbalance_pct margin
 * (117: 8%); otherwise the previous CPU, on whose queue the thread then
 * waits (select_idle_sibling finds no idle CPU either). A previous core that
 * is only waking a thread, or runs a thread of the program that just went
 * back to its GIL wait, carries little load against a waker that runs
 * Python on: the woken thread waits there, behind that short run, instead
 * of behind its waker (the kernel trace of producer_consumer on an idle
 * machine, tests/reality/replay_notes.md point 12: the woken consumer ran
 * on the other CPU 7 us after the post when a thread of the program was
 * going to sleep there). The loads are PELT's: a thread's is its weight
 * times its runnable share, a geometric average over 1024 us periods that
 * halves every 32 periods (a new thread starts at its full weight,
 * init_entity_runnable_average); a core's is the sum of the threads that
 * last ran or wait there, runnable or not (cfs_rq load_avg with blocked
 * load). Left out: autogroups (every thread is its own entity here) and
 * capacity (the model's cores are alike). Source: Linux kernel/sched/fair.c
 * (wake_affine, wake_affine_weight, cpu_load, task_h_load, decay_load),
 * kernel/sched/pelt.c. Costs: O(threads) per wake that finds no idle core;
 * none with shared queues. */

#define PELT_PERIOD_NS 1024000 /* 1024 us */

/* y^(dt / period) with y^32 = 1/2: how much of a load average is left
 * after dt, 2^(-periods / 32) (libm's exp2; the kernel's decay_load uses a
 * table of y^n in fixed point, which this real-valued model needs not copy). */
static double pelt_decay(int64_t dt_ns)
{
    if (dt_ns <= 0)
        return 1.0;
    double steps = (double)dt_ns / PELT_PERIOD_NS; /* periods; 32 halve it */
    if (steps >= 32.0 * 64)
        return 0.0;
    return exp2(-steps / 32.0);
}

/* t's load average now, runnable or not since pelt_ns. */
static double load_now(const gs_engine_t *e, const gs_thr_t *t, bool runnable)
{
    if (t->pelt_ns < 0)
        return 0.0;
    double y = pelt_decay(e->now - t->pelt_ns);
    return t->pelt_load * y + (runnable ? t->weight * (1.0 - y) : 0.0);
}

void gs__place_load_update(gs_engine_t *e, gs_thr_t *t, bool was_runnable)
{
    if (t->pelt_ns < 0) {
        t->pelt_load = t->weight; /* a new thread: its full weight */
        t->pelt_ns = e->now;
        return;
    }
    t->pelt_load = load_now(e, t, was_runnable);
    t->pelt_ns = e->now;
}

/* The core whose load t counts in: the one it is on or queued on, else the
 * one it last ran on (-1: none yet). */
static int load_core(const gs_thr_t *t)
{
    if (t->core)
        return t->core->id;
    return t->rq_core >= 0 ? t->rq_core : t->last_core;
}

double gs__place_thread_load(const gs_engine_t *e, const gs_thr_t *t)
{
    return load_now(e, t, t->os != OS_OFF);
}

double gs__place_core_load(const gs_engine_t *e, int c)
{
    double sum = 0.0;
    for (int i = 0; i < e->n_thr; i++)
        if (load_core(&e->thr[i]) == c)
            sum += gs__place_thread_load(e, &e->thr[i]);
    return sum;
}

gs_core_t *gs__place_busy_weight(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *waker)
{
    gs_core_t *w = gs__place_busy(e, waker);
    if (!w || t->last_core < 0 || t->last_core == w->id)
        return w;
    gs_core_t *prev = &e->cores[t->last_core];
    if (!gs__allowed(t, prev))
        return w;
    double task = load_now(e, t, false); /* t is asleep: OFF */
    double this_eff = (gs__place_core_load(e, w->id) + task) * 100.0;
    double prev_eff = (gs__place_core_load(e, prev->id) - task) * (100.0 + (117 - 100) / 2);
    return this_eff < prev_eff ? w : prev;
}
