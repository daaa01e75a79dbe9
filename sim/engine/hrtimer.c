/* hrtimer.c - timers with slack, expired as Linux expires them.
 *
 * Linux (kernel/time/hrtimer.c): a timer of a task with timer slack (a
 * sleep, a futex wait with a timeout such as the GIL's timed wait; 50 us by
 * default) has a range: a soft expiry, the time asked for, and a hard one,
 * the soft one plus the slack. Each CPU keeps its timers in a queue ordered
 * by hard expiry and programs its clock event for the first; when it fires,
 * __hrtimer_run_queues expires timers from the front of that queue for as
 * long as their soft expiry has passed, not only the one that was due. So
 * timers armed on one CPU within a slack of each other end in one interrupt
 * (one wake-up of an idle CPU), and their threads then run one after
 * another. A timer is queued on the CPU that armed it: the thread's core as
 * it went to sleep (get_nohz_timer_target keeps a busy CPU's timers there).
 *
 * The model: a slack timer is armed with gs__hrtimer_arm (its own end as
 * before: the soft expiry plus timer_late, standing for the hard expiry
 * and the delivery) and goes into its core's queue, a binary heap by that
 * end. When one fires by its own event, gs__hrtimer_due returns, one at a
 * time, the timers at the front of that core's queue whose soft expiry has
 * passed, and cancels their own events; the engine fires each at once.
 * Cancelled timers stay in the heap, recognised by their generation, until
 * they reach its front (then the next arming or firing on the core drops
 * them). Invariant: t->hrt_gen == t->tgen exactly while t's
 * pending timer is a slack timer, and then one heap entry carries that gen.
 *
 * Arming costs (machine.timer_arm, default 0: nothing below runs). A core's
 * clock event device is programmed for its first timer, and the scheduler
 * tick is one of them (tick_sched's sched_timer is an hrtimer under high
 * resolution). hrtimer_start_range_ns reprograms the device only when the
 * new timer's hard expiry comes before every other (hrtimer_reprogram ->
 * tick_program_event), and cancelling the first timer reprograms it again
 * (__remove_hrtimer -> hrtimer_force_reprogram). On the project's VM the
 * device is the local APIC's TSC deadline, a trapped MSR write: 6.4 us
 * against 0.2 us for an arming behind the tick (tests/reality/timerarm.c).
 * So a 1 ms GIL wait beside a running thread usually pays it, a 5 ms one,
 * behind the 4 ms tick, never. gs__hrtimer_arm_cost and
 * gs__hrtimer_cancel_cost say what an arming or a cancel costs; the call
 * sites charge it (engine.c's sleep before it blocks, gil.c's timed wait
 * when its waiter is back on its core).
 *
 * Who wakes the thread (machine.timer_wake "local"): the interrupt of the
 * CPU the timer was queued on runs hrtimer_wakeup -> try_to_wake_up there;
 * when the thread's previous CPU is that CPU and idle, select_task_rq_fair
 * keeps it there and ttwu_queue enqueues it locally: no inter-processor
 * interrupt, and the idle exit is the timer interrupt's own, inside the
 * sleep's measured overshoot (timer_late). wake.c gs__os_wake_timer wakes such
 * a thread (a sleep's end, a GIL wait's futex timeout) onto that core
 * without wake-up latency, onto another idle core with the usual one. */
#include "hrtimer.h"
#include "engine_int.h"
#include "kernel.h"
#include "os.h"
#include "wake.h"

#include <stdlib.h>

static int64_t timer_late(gs_engine_t *e, int64_t len);

struct gs_hrt_ent {
    int64_t at_ns, soft_ns;
    uint64_t gen;
    int thr;
};

struct gs_hrt_q {
    struct gs_hrt_ent *v;
    int n, cap;
};

static bool before(const struct gs_hrt_ent *a, const struct gs_hrt_ent *b)
{
    return a->at_ns != b->at_ns ? a->at_ns < b->at_ns : a->thr < b->thr;
}

static void swap(struct gs_hrt_ent *a, struct gs_hrt_ent *b)
{
    struct gs_hrt_ent x = *a;
    *a = *b;
    *b = x;
}

static bool push(gs_engine_t *e, struct gs_hrt_q *q, struct gs_hrt_ent x)
{
    if (q->n == q->cap) {
        int cap = q->cap ? q->cap * 2 : 16;
        struct gs_hrt_ent *v = realloc(q->v, (size_t)cap * sizeof *v);
        if (!v) {
            e->fatal = GS_ENOMEM;
            gs__stop(e, GS_OUT_ERROR, "out of memory for a core's timer queue");
            return false;
        }
        q->v = v;
        q->cap = cap;
    }
    int i = q->n++;
    q->v[i] = x;
    while (i > 0 && before(&q->v[i], &q->v[(i - 1) / 2])) {
        swap(&q->v[i], &q->v[(i - 1) / 2]);
        i = (i - 1) / 2;
    }
    return true;
}

static void pop(struct gs_hrt_q *q)
{
    q->v[0] = q->v[--q->n];
    for (int i = 0;;) {
        int l = 2 * i + 1, r = l + 1, m = i;
        if (l < q->n && before(&q->v[l], &q->v[m]))
            m = l;
        if (r < q->n && before(&q->v[r], &q->v[m]))
            m = r;
        if (m == i)
            break;
        swap(&q->v[i], &q->v[m]);
        i = m;
    }
}

static struct gs_hrt_q *queue_of(gs_engine_t *e, int cpu)
{
    if (!e->hrt) {
        e->hrt = calloc((size_t)e->m->machine.cores, sizeof *e->hrt);
        if (!e->hrt) {
            e->fatal = GS_ENOMEM;
            gs__stop(e, GS_OUT_ERROR, "out of memory for the timer queues");
            return NULL;
        }
    }
    return &e->hrt[cpu];
}

void gs__hrtimer_free(gs_engine_t *e)
{
    if (e->hrt)
        for (int i = 0; i < e->m->machine.cores; i++)
            free(e->hrt[i].v);
    free(e->hrt);
    e->hrt = NULL;
}

int64_t gs__hrtimer_arm(gs_engine_t *e, gs_thr_t *t, int64_t len)
{
    return gs__hrtimer_arm_since(e, t, len, 0);
}

/* A timer of length len asked for `since` ns ago (its deadline absolute:
 * what came between, its arming, does not move its end; an end already
 * past is soon, at the end of its slack). */
int64_t gs__hrtimer_arm_since(gs_engine_t *e, gs_thr_t *t, int64_t len, int64_t since)
{
    int64_t soft = e->now - since + len;
    int64_t at = soft + timer_late(e, len);
    if (at < e->now)
        at = e->now;
    gs__hrtimer_rearm(e, t, soft, at);
    return at;
}

/* A timer that was cancelled (a GIL waiter signalled in time), or that has
 * fired, or expired with another. */
static bool spent(const gs_engine_t *e, const struct gs_hrt_ent *x)
{
    const gs_thr_t *u = &e->thr[x->thr];
    return x->gen != u->tgen || u->hrt_gen != u->tgen;
}

/* Is a timer of soft expiry soft_ns, queued by at_ns, the first of core
 * cpu's timers and before its next tick? self: a thread whose own entry
 * does not count against it (-1: none). Spent entries leave the front. */
static bool first_on(gs_engine_t *e, int cpu, int64_t soft_ns, int64_t at_ns, int self)
{
    const gs_machine_t *m = &e->m->machine;
    if (m->tick_ns > 0 && gs__os_tick_after(e, e->now + 1) <= soft_ns + m->timer_slack_ns)
        return false; /* the tick comes first */
    struct gs_hrt_q *q = queue_of(e, cpu);
    while (q && q->n > 0 && spent(e, &q->v[0]))
        pop(q);
    return !q || q->n == 0 || q->v[0].thr == self || q->v[0].at_ns > at_ns;
}

int64_t gs__hrtimer_arm_cost(gs_engine_t *e, const gs_thr_t *t, int64_t len)
{
    int64_t c = e->m->machine.timer_arm_ns;
    if (c <= 0)
        return 0;
    int cpu = t->last_core >= 0 ? t->last_core : 0;
    int64_t hard = e->now + len + e->m->machine.timer_slack_ns;
    return first_on(e, cpu, e->now + len, hard, -1) ? c : 0;
}

int64_t gs__hrtimer_cancel_cost(gs_engine_t *e, const gs_thr_t *t)
{
    int64_t c = e->m->machine.timer_arm_ns;
    if (c <= 0 || t->hrt_gen != t->tgen)
        return 0; /* no live slack timer: fired, or none */
    return first_on(e, t->hrt_cpu, t->hrt_soft_ns, INT64_MAX, t->id) ? c : 0;
}

void gs__hrtimer_rearm(gs_engine_t *e, gs_thr_t *t, int64_t soft_ns, int64_t at_ns)
{
    gs__thr_timer(e, t, at_ns);
    t->hrt_soft_ns = soft_ns;
    t->hrt_cpu = t->last_core >= 0 ? t->last_core : 0;
    struct gs_hrt_q *q = queue_of(e, t->hrt_cpu);
    /* spent timers leave from the front, so that waits that are always
     * signalled before their timeout do not pile up in a core's queue */
    while (q && q->n > 0 && spent(e, &q->v[0]))
        pop(q);
    if (q && push(e, q, (struct gs_hrt_ent){at_ns, soft_ns, t->tgen, t->id}))
        t->hrt_gen = t->tgen;
}

bool gs__hrtimer_fired(gs_thr_t *t)
{
    if (t->hrt_gen != t->tgen)
        return false;
    t->hrt_gen = t->tgen - 1; /* spent */
    return true;
}

gs_thr_t *gs__hrtimer_due(gs_engine_t *e, const gs_thr_t *fired)
{
    struct gs_hrt_q *q = e->hrt ? &e->hrt[fired->hrt_cpu] : NULL;
    while (q && q->n > 0) {
        struct gs_hrt_ent top = q->v[0];
        gs_thr_t *u = &e->thr[top.thr];
        if (spent(e, &top)) {
            pop(q);
            continue;
        }
        if (top.soft_ns > e->now)
            return NULL; /* the front's range has not begun: the loop stops */
        pop(q);
        if (top.at_ns <= e->now)
            continue; /* due now: its own event fires it */
        gs__thr_cancel_timer(u); /* its own event would come later */
        u->hrt_gen = u->tgen - 1;
        return u;
    }
    return NULL;
}

/* A sleep of *len about to block. Its arming, if its timer would be its
 * core's first, is paid on its core before it sleeps (t->paying: C time in
 * the call; the engine steps it again when that ends): true. Then, or when
 * there is nothing to pay, false, and *since is how long ago the sleep was
 * asked for: its deadline is absolute (clock_nanosleep TIMER_ABSTIME,
 * CPython 3.11+), so the arming does not move its end (a sleep(0) pays it
 * within its slack). */
bool gs__hrtimer_sleep_pays(gs_engine_t *e, gs_thr_t *t, int64_t len, int64_t *since)
{
    *since = 0;
    if (t->tarm_paid) {
        *since = t->tarm_owed_ns;
        t->tarm_paid = false;
        t->tarm_owed_ns = 0;
        return false;
    }
    int64_t c = gs__hrtimer_arm_cost(e, t, len);
    if (c <= 0)
        return false;
    t->tarm_paid = true;
    t->tarm_owed_ns = c;
    gs__thr_pay(e, t, c);
    return true;
}

/* A timer of length len ends this late after its soft expiry: the slack,
 * the machine's curve at its length, a seeded jitter draw. */
static int64_t timer_late(gs_engine_t *e, int64_t len)
{
    const gs_machine_t *m = &e->m->machine;
    int64_t late = m->timer_slack_ns, j = m->timer_jitter_ns;
    if (m->n_timer_curve > 0)
        late += gs__curve_at(m->n_timer_curve, m->timer_len_ns, m->timer_late_ns, len);
    if (j > 0)
        late += (int64_t)(gs__rng_next(&e->timer_rng) % ((uint64_t)j + 1));
    return late;
}
