/* newidle.c - the newidle balance of a core going idle, as Linux 6.18.5 and
 * later run it: proportionally to its recent success (machine.newidle_ratio).
 *
 * Linux (kernel/sched/fair.c, sched_balance_newidle): a CPU about to go idle
 * looks for a queued task to pull. Before it looks:
 *  - nothing if the root domain is not overloaded (rd->overloaded: set when
 *    a CPU's nr_running reaches 2, add_nr_running; cleared by the next load
 *    balance at the root domain, of any kind, that finds no CPU with more
 *    than one task, update_sd_lb_stats); such a call is not counted;
 *  - nothing if the CPU's average idle period is below the domain's largest
 *    recent balance cost (avg_idle < max_newidle_lb_cost: microseconds);
 *  - with sched_feat NI_RANDOM (on by default; "sched/fair: Proportional
 *    newidle balance", 6.18.5 and 6.12.65 from 7.0/6.19): a 1024-sided die
 *    d (sched_rng, per CPU) against weight = 1 + sd->newidle_ratio; if
 *    d > weight the balance is skipped and counted as a call without
 *    success. Otherwise it runs (sched_balance_rq, CPU_NEWLY_IDLE: a
 *    queued task that is not cache-hot, task_hot) and counts a call whose
 *    success, if it pulled, is round(1024 / weight): each run stands for
 *    the 1024 / weight calls it was drawn from, so the sum estimates the
 *    success rate of every call.
 * update_newidle_stats: call += 1, success += s; when call reaches 1024,
 * ratio = success, and both halve (a window of the last ~1024 calls, the
 * older half at half weight). Each CPU's domain starts at call 512, success
 * 256, ratio 512 (sd_init: 50%). So a CPU whose recent balances found
 * nothing to pull balances with a chance near 2 / 1024, and a cold thread
 * queued behind a busy CPU waits for the tick's balance (nohz_balancer_kick,
 * place.c) instead.
 *
 * The model, machine.newidle_ratio >= 0 (the ratio every core starts at; the
 * calibration measures this VM's, tests/reality/migcost.c newidle mode):
 *  - a core going idle with nothing of its own (core_pick) calls
 *    gs__newidle_pull; the root domain is overloaded while a thread waits on
 *    a core's queue (rq_core >= 0; set when one is queued, gs__newidle_queued
 *    from place.c's kick), and stays so after the queue empties until a
 *    balance looks: a newidle balance that runs, an idle core's tick balance
 *    (gs__newidle_looked), or a busy core's periodic balance, which the
 *    model takes to come one busy interval (cores x 16 ms, balance.c) after
 *    a thread was last seen queued;
 *  - not overloaded: no pull, no count; else the die from newidle_rng (a
 *    stream of its own: no other draw moves), the core's counts and ratio as
 *    above, and a balance that runs pulls gs__place_pullable's thread (the
 *    longest queued of the cold ones).
 * Left out: the avg_idle gate (a balance costs microseconds on two CPUs;
 * the model keeps no balance cost), NI_RATE (7.1: a ratio raised by a low
 * call rate, not known to be in this kernel), higher domains (one LLC
 * domain per core), and the calls of every other program on the machine,
 * whose failures keep a real CPU's ratio low: the starting ratio stands for
 * them. Off (-1, the default): gs__place_pullable at once, event for event
 * the model before this file, and no draw.
 * Source: Linux kernel/sched/fair.c (sched_balance_newidle,
 * update_newidle_stats, update_newidle_cost, task_hot), features.h
 * (NI_RANDOM), topology.c (sd_init), sched.h (sched_rng, get_rd_overloaded);
 * tip commit 33cf66d88306 (2025-11-17). docs/model.md "Where a woken thread
 * runs". Costs: O(ready) per idle entry, as gs__place_pullable. */
#include "newidle.h"
#include "engine_int.h"
#include "place.h"

#include <stdint.h>

#define NI_DIE 1024       /* the die's sides, and the window of calls */
#define BUSY_FACTOR_MS 16 /* a busy core balances every cores x 16 ms */

static int ratio_at_start(const gs_engine_t *e)
{
    return e->m->machine.newidle_ratio;
}

void gs__newidle_init(gs_engine_t *e)
{
    e->ni_overloaded = false;
    e->ni_seen_ns = 0;
    if (ratio_at_start(e) < 0)
        return;
    gs__rng_seed(&e->newidle_rng, e->m->seed, UINT64_C(5) << 32);
    for (int i = 0; i < e->n_cores; i++) {
        gs_core_t *c = &e->cores[i];
        c->ni_ratio = (unsigned)ratio_at_start(e);
        c->ni_call = NI_DIE / 2; /* a window half full, at that ratio */
        c->ni_success = c->ni_ratio / 2;
    }
}

/* Is a thread waiting on some core's queue (that core runs 2 or more)? */
static bool any_queued(const gs_engine_t *e)
{
    for (int i = 0; i < e->n_ready; i++)
        if (e->ready[i]->rq_core >= 0)
            return true;
    return false;
}

void gs__newidle_queued(gs_engine_t *e)
{
    if (ratio_at_start(e) < 0 || !any_queued(e))
        return;
    e->ni_overloaded = true;
    e->ni_seen_ns = e->now;
}

void gs__newidle_looked(gs_engine_t *e)
{
    if (ratio_at_start(e) < 0)
        return;
    e->ni_overloaded = any_queued(e);
    if (e->ni_overloaded)
        e->ni_seen_ns = e->now;
}

/* update_newidle_stats */
static void count(gs_core_t *c, unsigned success)
{
    c->ni_call++;
    c->ni_success += success;
    if (c->ni_call >= NI_DIE) {
        c->ni_ratio = c->ni_success;
        c->ni_call /= 2;
        c->ni_success /= 2;
    }
}

gs_thr_t *gs__newidle_pull(gs_engine_t *e, gs_core_t *c)
{
    int64_t cools;
    if (ratio_at_start(e) < 0)
        return gs__place_pullable(e, c, &cools);
    int64_t stale = (int64_t)e->n_cores * BUSY_FACTOR_MS * 1000000;
    if (any_queued(e)) {
        e->ni_overloaded = true;
        e->ni_seen_ns = e->now;
    } else if (e->ni_overloaded && e->now - e->ni_seen_ns >= stale) {
        e->ni_overloaded = false; /* a busy core's periodic balance cleared it */
    }
    if (!e->ni_overloaded)
        return NULL;
    unsigned d1k = (unsigned)(gs__rng_next(&e->newidle_rng) % NI_DIE);
    unsigned weight = 1 + c->ni_ratio;
    if (d1k > weight) {
        count(c, 0);
        return NULL;
    }
    weight = (NI_DIE + weight / 2) / weight;
    gs_thr_t *t = gs__place_pullable(e, c, &cools);
    gs__newidle_looked(e);
    count(c, t ? weight : 0);
    return t;
}
