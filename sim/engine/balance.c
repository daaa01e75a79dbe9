/* balance.c - periodic load balancing between busy cores (machine.balance
 * "periodic", per-core run queues only).
 *
 * With per-core queues a thread moves to another core only by waking there
 * or when an idle core pulls it (place.c). Linux also balances busy CPUs:
 * every balance interval the scheduler tick of a busy CPU raises the
 * balancing softirq, which pulls queued tasks towards it from the busiest
 * CPU when the loads are uneven (load_balance). Without it, a thread queued
 * behind a CPU-bound one stays there while another core runs one thread
 * (tests/reality/replay_notes.md point 12: a fitted load's always-busy
 * thread kept one core to itself, and the program shared the other with
 * the rest of the load).
 *
 * The model, for core c, at its first core event at or after
 * c->next_balance_ns while it runs a thread (Linux checks at the tick; a
 * busy core's events here are its slice ends, on ticks, and its switches):
 *  - the interval: the cores' count in ms (sd_weight, the domain's
 *    min_interval), times 16 while busy (busy_factor); it doubles, up to
 *    twice that, after a balance that found the loads even, and goes back
 *    to the minimum after one that found them uneven (moved or not);
 *  - loads are PELT's, as place.c keeps them (a thread's weight times its
 *    runnable share, decayed; a core's is the sum of the threads that run,
 *    wait or last ran there, cpu_load with blocked load);
 *  - the busiest core is the most loaded other core with a thread queued
 *    on it that c may run; c pulls only if its own load is below the
 *    busiest's and below the machine's average (calculate_imbalance, a
 *    fully busy local group against an overloaded one: migrate_load), and
 *    pulls at most the imbalance, the lesser of the busiest's excess over
 *    the average and c's shortfall under it;
 *  - a candidate is a thread queued (not running) on the busiest core,
 *    allowed on c, the longest queued first; one that ran within
 *    migration_cost is cache-hot and stays unless this core's balancing
 *    already failed more than once (can_migrate_task, cache_nice_tries 1),
 *    and one whose load, halved for each failure, is above what is left of
 *    the imbalance stays (detach_tasks; shr_bound by nr_balance_failed);
 *  - a pull that moved nothing counts as a failure; a move resets them.
 *    A moved thread joins c's queue (with eevdf and per-core V it keeps
 *    the lag it had against the old queue's V, placed against c's: Linux's
 *    dequeue/enqueue with vlag) and waits there for c's next pick (its
 *    slice's end at a tick): no wake-up preemption is judged at the move.
 * Left out: active balancing (the stopper moving a running task after
 * repeated failures), the util and has-spare classification of a busy
 * core (a busy core counts as fully busy), scheduling domains above one
 * level, autogroups (every thread is its own entity), NUMA and capacity.
 * Off ("idle", the default) nothing here runs and the model is the one
 * before this file, event for event.
 * Source: Linux kernel/sched/fair.c (sched_balance_trigger /
 * trigger_load_balance, sched_balance_domains / rebalance_domains,
 * get_sd_balance_interval, sched_balance_rq / load_balance,
 * calculate_imbalance, detach_tasks, can_migrate_task, task_hot),
 * kernel/sched/topology.c (sd_init: min_interval = sd_weight, max_interval
 * = 2 * sd_weight, busy_factor = 16, imbalance_pct, cache_nice_tries);
 * docs/model.md "Balancing between busy cores". Costs: O(cores x threads)
 * per balance, one balance per busy core per interval. */
#include "balance.h"
#include "engine_int.h"
#include "eevdf.h"
#include "os.h"
#include "place.h"

#include <stdint.h>

#define BUSY_FACTOR 16      /* sd->busy_factor */
#define CACHE_NICE_TRIES 1  /* sd->cache_nice_tries of an MC domain */
#define MAX_FAIL_SHIFT 8    /* the load halved at most this often */

static const gs_machine_t *mach(const gs_engine_t *e)
{
    return &e->m->machine;
}

/* Does core b have a thread queued on it that c may run? */
static bool has_queued_for(const gs_engine_t *e, int b, const gs_core_t *c)
{
    for (int i = 0; i < e->n_ready; i++)
        if (e->ready[i]->rq_core == b && gs__allowed(e->ready[i], c))
            return true;
    return false;
}

/* The busy core c's interval, in ns: min_interval or twice it, x busy_factor. */
static int64_t interval_ns(const gs_engine_t *e, const gs_core_t *c)
{
    int64_t ms = (int64_t)e->n_cores << (c->balance_doubled ? 1 : 0);
    return ms * 1000000 * BUSY_FACTOR;
}

/* t, queued on core b, moves to c's queue. */
static void move(gs_engine_t *e, gs_thr_t *t, gs_core_t *b, gs_core_t *c)
{
    if (gs__percpu_v(e)) {
        int64_t load;
        t->vlag = gs__eevdf_core_v(e, b, NULL, &load) - t->vruntime;
        t->rq_core = c->id;
        gs__eevdf_place(e, t, c);
    } else {
        t->rq_core = c->id;
    }
}

/* Pulls towards c from the busiest core; returns whether the loads were
 * uneven (whether or not anything moved). */
static bool pull(gs_engine_t *e, gs_core_t *c)
{
    double local = gs__place_core_load(e, c->id), total = local, most = -1.0;
    int b = -1;
    for (int k = 0; k < e->n_cores; k++) {
        if (k == c->id)
            continue;
        double l = gs__place_core_load(e, k);
        total += l;
        if (l > most && has_queued_for(e, k, c)) {
            most = l;
            b = k;
        }
    }
    double avg = total / e->n_cores;
    if (b < 0 || local >= most || local >= avg) {
        c->balance_failed = 0;
        return false;
    }
    double imb = most - avg < avg - local ? most - avg : avg - local;
    int shift = c->balance_failed < MAX_FAIL_SHIFT ? c->balance_failed : MAX_FAIL_SHIFT;
    int moved = 0;
    while (imb > 0) {
        gs_thr_t *best = NULL;
        for (int i = 0; i < e->n_ready; i++) {
            gs_thr_t *t = e->ready[i];
            if (t->rq_core != b || !gs__allowed(t, c))
                continue;
            bool hot = t->off_core_ns + mach(e)->migration_cost_ns > e->now;
            if (hot && c->balance_failed <= CACHE_NICE_TRIES)
                continue;
            if (gs__place_thread_load(e, t) / (double)(1 << shift) > imb)
                continue;
            if (!best || t->ready_seq < best->ready_seq)
                best = t;
        }
        if (!best)
            break;
        imb -= gs__place_thread_load(e, best);
        move(e, best, &e->cores[b], c);
        moved++;
    }
    c->balance_failed = moved ? 0 : c->balance_failed + 1;
    return true;
}

void gs__balance_core_event(gs_engine_t *e, gs_core_t *c)
{
    gs__os_core_event(e, c);
    if (!mach(e)->busy_balance || !mach(e)->per_core_queues || c->mode != CORE_ON)
        return;
    if (c->next_balance_ns == 0)
        c->next_balance_ns = gs__os_tick_after(e, interval_ns(e, c));
    if (e->now < c->next_balance_ns)
        return;
    c->balance_doubled = !pull(e, c);
    c->next_balance_ns = gs__os_tick_after(e, e->now + interval_ns(e, c));
}
