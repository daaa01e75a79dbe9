/* sis.c - Linux's SIS_UTIL: a wake-up's scan for an idle CPU, cut by the
 * LLC's recent utilisation (machine.sis_util; off by default).
 *
 * When a thread is woken by a thread on a CPU while its previous CPU is
 * busy (on this 2-vCPU guest the previous CPU is mostly its waker's), Linux
 * 6.18's select_idle_sibling finds the target (the waker's CPU) and the
 * previous CPU busy and scans the LLC for an idle CPU (select_idle_cpu).
 * With SIS_UTIL (on by default since 5.20) the scan looks at no more than
 * sd_share->nr_idle_scan CPUs, counting from the one after the target and
 * wrapping, and returns the first idle one the woken thread may run on; with
 * a budget of 0 it does not scan at all and the thread is queued on the
 * target, behind its waker. The budget is written only at periodic load
 * balancing of the LLC's domain (update_idle_cpu_scan, from
 * update_sd_lb_stats; never at a newly idle balance), from the sum of the
 * CPUs' util_avg: with x the average per CPU (of 1024) and pct the domain's
 * imbalance_pct (117), nr_idle_scan = cores * (1024 - min(1024, x^2 pct^2 /
 * (10000 * 1024))) / 1024 in integers: on 2 CPUs 2 below an average of 2.7%,
 * 1 up to 60.4%, 0 above it (85% of capacity is the overload threshold,
 * 100/117, where the scan fraction reaches 0 for any size).
 * The model:
 *  - the LLC is the whole machine (every modelled core shares it);
 *  - a core's utilisation is PELT's util_avg of its busy time: a geometric
 *    average over 1024 us periods that halves every 32 periods, of the time
 *    a thread runs or switches on it (its trace lane names a thread; a core
 *    waking a thread counts as idle), evaluated exactly between changes;
 *    a run starts from an idle machine (0, and a budget of `cores`);
 *  - the budget is recomputed at balance ticks: on the scheduler tick grid,
 *    the first tick at least one balance interval after the last one; the
 *    interval is the cores' count in ms (sd->balance_interval, the domain's
 *    min_interval) while a core idles (should_we_balance lets the first idle
 *    CPU balance, at its own unscaled interval), times 16 (busy_factor)
 *    while none does (the first CPU balances, busy); the ticks are computed
 *    when the budget is read or a core changes, never as events, so the key
 *    adds no event and the decision changes only at a tick;
 *  - only the choice gs__place_affine stands for is replaced (the waker on
 *    a core, t's previous core not idle, a core idle): the scan's idle core
 *    or the waker's core; machine.wake_affine's draw is not made.
 * Left out: the nohz idle CPUs' balancing (an idle Linux CPU balances when
 * a busy one kicks it; here an idle core balances at every tick due), the
 * recent_used_cpu shortcut (an idle CPU the thread ran on two wakes ago),
 * UTIL_EST (which can only raise a CPU's utilisation), SMT's idle-core scan
 * and capacities (the model's cores are alike).
 * Invariant: 0 <= nr_scan <= cores, and it changes only in tick().
 * Source: Linux kernel/sched/fair.c (select_idle_sibling, select_idle_cpu,
 * update_idle_cpu_scan, update_sd_lb_stats, should_we_balance,
 * get_sd_balance_interval), kernel/sched/pelt.c (___update_load_sum, the
 * 32 ms half-life), kernel/sched/topology.c (sd_init: imbalance_pct 117,
 * busy_factor 16, min_interval sd_weight); docs/model.md "SIS_UTIL";
 * tests/reality/replay_notes.md point 38. Costs: O(cores) per core change
 * and per balance tick passed; O(cores) per scan. */
#include "sis.h"
#include "engine_int.h"
#include "os.h"

#include <math.h>
#include <stdlib.h>

#define PELT_PERIOD_NS 1024000 /* 1024 us */
#define SCALE 1024             /* SCHED_CAPACITY_SCALE */
#define IMBALANCE_PCT 117      /* an MC (LLC) domain's sd->imbalance_pct */
#define BUSY_FACTOR 16         /* sd->busy_factor */

struct gs_sis {
    double *util;      /* per core: util_avg at stamp_ns, as a share of 1 */
    int64_t *stamp_ns; /* per core: when util was last brought up to date */
    bool *busy;        /* per core: a thread on it since stamp_ns */
    int64_t next_ns;   /* the next balance tick */
    int64_t last_ns;   /* the last balance tick passed (-1: none yet) */
    double last_sum;   /* the cores' util_avg summed there */
    int nr_scan;       /* sd_share->nr_idle_scan */
};

static bool on(const gs_engine_t *e)
{
    return e->m->machine.sis_util;
}

int gs__sis_init(gs_engine_t *e)
{
    if (!on(e))
        return 0;
    struct gs_sis *s = calloc(1, sizeof *s);
    if (!s)
        return -1;
    e->sis = s;
    size_t n = (size_t)e->n_cores;
    s->util = calloc(n, sizeof *s->util);
    s->stamp_ns = calloc(n, sizeof *s->stamp_ns);
    s->busy = calloc(n, sizeof *s->busy);
    if (!s->util || !s->stamp_ns || !s->busy)
        return -1;           /* gs__sis_free frees what was made */
    s->nr_scan = e->n_cores; /* an idle machine's budget */
    s->last_ns = -1;
    s->next_ns = 0; /* the first tick */
    return 0;
}

void gs__sis_free(gs_engine_t *e)
{
    struct gs_sis *s = e->sis;
    if (!s)
        return;
    free(s->util);
    free(s->stamp_ns);
    free(s->busy);
    free(s);
    e->sis = NULL;
}

/* y^(dt / period) with y^32 = 1/2 (place.c's decay, kept apart so either
 * may change without the other) */
static double decay(int64_t dt_ns)
{
    if (dt_ns <= 0)
        return 1.0;
    double steps = (double)dt_ns / PELT_PERIOD_NS;
    return steps >= 32.0 * 64 ? 0.0 : exp2(-steps / 32.0);
}

/* core i's util_avg at `at` (>= its stamp): busy or idle since the stamp */
static double util_at(const struct gs_sis *s, int i, int64_t at)
{
    double y = decay(at - s->stamp_ns[i]);
    return s->util[i] * y + (s->busy[i] ? 1.0 - y : 0.0);
}

/* update_idle_cpu_scan in the kernel's integers: sum_util of SCALE per CPU */
static int budget_of(int64_t sum_util, int cores)
{
    int64_t x = sum_util / cores;
    int64_t tmp = x * x * IMBALANCE_PCT * IMBALANCE_PCT / (10000 * SCALE);
    if (tmp > SCALE)
        tmp = SCALE;
    return (int)((SCALE - tmp) * cores / SCALE);
}

/* The balance tick at `at`: the budget from the cores' utilisation there,
 * and the next tick. */
static void tick(gs_engine_t *e, struct gs_sis *s, int64_t at)
{
    double sum = 0.0;
    bool idle = false;
    for (int i = 0; i < e->n_cores; i++) {
        sum += util_at(s, i, at);
        idle |= !s->busy[i];
    }
    s->last_sum = sum;
    s->last_ns = at;
    s->nr_scan = budget_of((int64_t)(sum * SCALE), e->n_cores);
    GS_ASSERT(s->nr_scan >= 0 && s->nr_scan <= e->n_cores);
    int64_t interval = (int64_t)e->n_cores * 1000000 * (idle ? 1 : BUSY_FACTOR);
    s->next_ns = gs__os_tick_after(e, at + interval);
}

/* every balance tick due by now, in order */
static struct gs_sis *catch_up(gs_engine_t *e)
{
    struct gs_sis *s = e->sis;
    while (s->next_ns <= e->now)
        tick(e, s, s->next_ns);
    return s;
}

void gs__sis_core(gs_engine_t *e, const gs_core_t *c, bool busy)
{
    struct gs_sis *s = catch_up(e);
    if (s->busy[c->id] == busy)
        return;
    s->util[c->id] = util_at(s, c->id, e->now);
    s->stamp_ns[c->id] = e->now;
    s->busy[c->id] = busy;
}

gs_core_t *gs__sis_scan(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *waker)
{
    struct gs_sis *s = catch_up(e);
    int target = waker->core->id;
    for (int k = 1; k <= s->nr_scan && k < e->n_cores; k++) {
        gs_core_t *c = &e->cores[(target + k) % e->n_cores];
        if (c->mode == CORE_IDLE && gs__allowed(t, c))
            return c;
    }
    return NULL;
}

int gs__sis_budget(gs_engine_t *e, double *sum_util, int64_t *at_ns)
{
    struct gs_sis *s = catch_up(e);
    *sum_util = s->last_sum;
    *at_ns = s->last_ns;
    return s->nr_scan;
}
