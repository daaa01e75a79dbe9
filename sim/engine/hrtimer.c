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
 * before: the soft expiry plus gs__timer_late, standing for the hard expiry
 * and the delivery) and goes into its core's queue, a binary heap by that
 * end. When one fires by its own event, gs__hrtimer_due returns, one at a
 * time, the timers at the front of that core's queue whose soft expiry has
 * passed, and cancels their own events; the engine fires each at once.
 * Cancelled timers stay in the heap, recognised by their generation, until
 * they reach its front (then the next arming or firing on the core drops
 * them). Invariant: t->hrt_gen == t->tgen exactly while t's
 * pending timer is a slack timer, and then one heap entry carries that gen. */
#include <stdlib.h>

#include "engine_int.h"

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
    int64_t at = e->now + len + gs__timer_late(e, len);
    gs__hrtimer_rearm(e, t, e->now + len, at);
    return at;
}

/* A timer that was cancelled (a GIL waiter signalled in time), or that has
 * fired, or expired with another. */
static bool spent(const gs_engine_t *e, const struct gs_hrt_ent *x)
{
    const gs_thr_t *u = &e->thr[x->thr];
    return x->gen != u->tgen || u->hrt_gen != u->tgen;
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
