/* idlecpu.c - whether a recorded CPU was idle at a moment.
 *
 * Waking a thread onto an idle CPU costs its waker an inter-processor
 * interrupt (Linux ttwu_queue_wakelist / resched_curr -> smp_send_reschedule;
 * on a VM a VM exit, 10 to 20 us on the project's VM), but only the first
 * wake does: a CPU already running something, or one whose wake-up list
 * already holds a thread (the first waker's IPI is on its way: llist_add
 * returns false for the next one, and no second IPI is sent), costs the next
 * waker no interrupt. The engine charges machine.wake_ipi likewise, only to a
 * waker whose wakee goes to another, idle core (wake.c wake_cost), so ipi.c
 * reads the cost only off wakes the recording shows going to such a CPU.
 * pipeline's quiet recordings of 2026-12-07 23:47 (/work/quiet/rp3, 121, 128,
 * 131) show why it matters: the transformer's GIL drop signals the reader
 * 15-30 us after its own put woke the writer onto the reader's CPU; those
 * drops cost 1.5-2.0 us (p50, 143-197 a recording), while the wakes onto an
 * idle CPU (13-44 drops, 283-366 Queue notifies a recording) cost 12.4-16.3
 * us (p50).
 *
 * What the recording shows of a CPU being taken, per thread (each event's
 * CPU, gilsim record): a GIL hold (hold to release, on the release's CPU);
 * its way back from a wait (a lock_wait's end, or a GIL wait's woken or
 * futile wake-up, to its next point event); and a wake on its way (from
 * the post or signal that woke it to the end of its lock_wait, or the
 * return of its GIL wait, on the CPU it ran on). C calls without the GIL
 * and other programs are not seen: a CPU they held counts as idle.
 * Cost: O(events log events) to build. */
#include "idlecpu.h"

#include <stdlib.h>

#include "recfile_int.h"

static bool point(uint8_t kind)
{
    return kind != GSR_CALL && kind != GSR_WAIT && kind != GSR_LOCK_WAIT && kind != GSR_PY &&
           kind != GSR_OTHER;
}

/* The time of th's first point event after event k in the file, or -1. A
 * span is written as it ends (stamped with its start), so the file is not
 * in time order around spans; point events are, and a lock_wait's next point
 * event comes after its end. */
static int64_t next_point(const gsr_thread_t *th, size_t k)
{
    for (size_t j = k + 1; j < th->n_ev; j++)
        if (point(th->ev[j].kind))
            return th->ev[j].t;
    return -1;
}

/* A post that ended a lock_wait did it within this (a wake-up takes tens of
 * microseconds, 85 us from the deepest idle at record time): an earlier
 * post on the same address was another lock's (addresses are reused) or
 * woke someone else. */
#define FIT_WAKE_MAX_NS 1000000

typedef struct post {
    uint64_t obj;
    int64_t t;
    int thread;
} post_t;

static int cmp_post(const void *x, const void *y)
{
    const post_t *p = x, *q = y;
    if (p->obj != q->obj)
        return p->obj < q->obj ? -1 : 1;
    return (p->t > q->t) - (p->t < q->t);
}

static int cmp_busy(const void *x, const void *y)
{
    const fit_busy_t *p = x, *q = y;
    return (p->a > q->a) - (p->a < q->a);
}

/* The latest post on obj by a thread other than self within [t0, t1], or -1. */
static int64_t post_before(const post_t *p, size_t n, uint64_t obj, int64_t t0, int64_t t1,
                           int self)
{
    size_t lo = 0, hi = n; /* first entry > (obj, t1) */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (p[mid].obj < obj || (p[mid].obj == obj && p[mid].t <= t1))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k-- > 0 && p[k].obj == obj && p[k].t >= t0;)
        if (p[k].thread != self)
            return p[k].t;
    return -1;
}

static void add(fit_cpus_t *c, int64_t a, int64_t b, int32_t cpu, int thread)
{
    if (cpu < 0 || a < 0 || b <= a) /* a < 0, b < 0: no post, no next event */
        return;
    c->iv[c->n++] = (fit_busy_t){a, b, cpu, thread};
    c->max_len = b - a > c->max_len ? b - a : c->max_len;
}

/* The event at which thread w's GIL wait returned at or after t (woken,
 * futile or the hold), or NULL. */
static const gsr_event_t *returned(const gsr_thread_t *w, int64_t t)
{
    for (size_t k = gsr_first_event_at(w, t); k < w->n_ev; k++) {
        uint8_t kd = w->ev[k].kind;
        if (kd == GSR_WOKEN || kd == GSR_FUTILE || kd == GSR_HOLD)
            return &w->ev[k];
    }
    return NULL;
}

/* Thread i's intervals into c (room counted by the caller). */
static void thread_busy(const gsr_recording_t *r, int i, const post_t *p, size_t n_p, fit_cpus_t *c)
{
    const gsr_thread_t *th = &r->threads[i];
    const gsr_event_t *hold = NULL;
    for (size_t k = 0; k < th->n_ev; k++) {
        const gsr_event_t *e = &th->ev[k];
        if (e->kind == GSR_HOLD)
            hold = e;
        else if (e->kind == GSR_RELEASE && hold) {
            add(c, hold->t, e->t, e->cpu >= 0 ? e->cpu : hold->cpu, i);
            hold = NULL;
        } else if (e->kind == GSR_LOCK_WAIT) {
            add(c, e->t1, next_point(th, k), e->cpu, i);
            int64_t from = e->t1 - FIT_WAKE_MAX_NS > e->t ? e->t1 - FIT_WAKE_MAX_NS : e->t;
            add(c, post_before(p, n_p, e->obj, from, e->t1, i), e->t1, e->cpu, i);
        } else if (e->kind == GSR_WOKEN || e->kind == GSR_FUTILE) {
            add(c, e->t, next_point(th, k), e->cpu, i);
        } else if (e->kind == GSR_SIGNAL && e->arg >= 0 && e->arg < r->n_threads && e->arg != i) {
            const gsr_event_t *b = returned(&r->threads[e->arg], e->t);
            if (b && b->t - e->t <= FIT_WAKE_MAX_NS)
                add(c, e->t, b->t, b->cpu, e->arg);
        }
    }
}

int fit_cpus_init(const gsr_recording_t *r, fit_cpus_t *c)
{
    *c = (fit_cpus_t){0};
    if (!r->has_cpu)
        return 0;
    size_t room = 0, n_p = 0;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++) {
            uint8_t kd = r->threads[i].ev[k].kind;
            room += 1 + (kd == GSR_LOCK_WAIT);
            n_p += kd == GSR_LOCK_POST;
        }
    post_t *p = malloc((n_p + 1) * sizeof *p);
    c->iv = malloc((room + 1) * sizeof *c->iv);
    if (!p || !c->iv) {
        free(p);
        fit_cpus_destroy(c);
        return -1;
    }
    n_p = 0;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++) {
            const gsr_event_t *e = &r->threads[i].ev[k];
            if (e->kind == GSR_LOCK_POST)
                p[n_p++] = (post_t){e->obj, e->t, i};
        }
    qsort(p, n_p, sizeof *p, cmp_post);
    for (int i = 0; i < r->n_threads; i++)
        thread_busy(r, i, p, n_p, c);
    free(p);
    qsort(c->iv, c->n, sizeof *c->iv, cmp_busy);
    return 0;
}

void fit_cpus_destroy(fit_cpus_t *c)
{
    free(c->iv);
    *c = (fit_cpus_t){0};
}

bool fit_cpu_idle(const fit_cpus_t *c, int32_t cpu, int64_t t, int a, int b)
{
    size_t lo = 0, hi = c->n; /* first interval starting after t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (c->iv[mid].a <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k-- > 0 && c->iv[k].a >= t - c->max_len;) {
        const fit_busy_t *v = &c->iv[k];
        if (v->cpu == cpu && t < v->b && v->thread != a && v->thread != b)
            return false;
    }
    return true;
}
