/* lockgap.c - how long a Lock's releaser takes to try the Lock again, read
 * off the recording (gilsim fit --lock-race; lockrace.c uses it).
 *
 * In a loop around `with lock:` the releaser's next try comes a few
 * bytecodes after its release. The recording cannot show that try when it
 * succeeds (an uncontended acquire leaves no event), and where it fails the
 * releaser's Python from the release to its blocked acquire is longer than
 * its own work: the recorder stamps `lock_post` before sem_post's futex
 * wake, and the woken waiter often runs on the releaser's own CPU at once
 * (EEVDF's wake-up preemption: on the quiet records of lock_contention
 * 55-77 of the 70-95 releases a waiter won on two CPUs, its wait ending
 * 4-7 us after the post; replay notes 33, 39 and 45), takes the Lock, asks
 * for the GIL the releaser holds, and sleeps; only then does the releaser
 * get its CPU back. The fit's median of that Python (15-19 us there) is the
 * gap lockrace.c inserted, longer than any idle CPU's wake-up after the
 * engine's own futex and IPI costs, so the waiter won every release.
 *
 * Read here: the releases whose woken waiter's wait ended on the releaser's
 * CPU (recorded CPUs) and whose releaser then blocked on the same Lock
 * (its next GIL event a drop signal, its next Lock event a wait on it).
 * The releaser had its CPU back when the waiter slept in its GIL wait: the
 * waiter's `ask` plus a context switch. From there to the releaser's drop
 * signal is its own Python and failed try: that time's median is the gap.
 * Without CPUs in the recording nothing is read. O(posts x log waits). */
#include "lockgap.h"
#include "fit_int.h"
#include "recfile_int.h"

#include <stdlib.h>

typedef struct lkev {
    int64_t t, t1; /* post: t; wait: its start and end */
    uint64_t obj;
    int th, cpu;
} lkev_t;

static int by_obj_t(const void *a, const void *b)
{
    const lkev_t *x = a, *y = b;
    if (x->obj != y->obj)
        return x->obj < y->obj ? -1 : 1;
    return (x->t > y->t) - (x->t < y->t);
}

static int by_obj_t1(const void *a, const void *b)
{
    const lkev_t *x = a, *y = b;
    if (x->obj != y->obj)
        return x->obj < y->obj ? -1 : 1;
    return (x->t1 > y->t1) - (x->t1 < y->t1);
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Every lock_post (kind GSR_LOCK_POST) or lock_wait of r, in *out. */
static int collect(const gsr_recording_t *r, uint8_t kind, lkev_t **out, size_t *n)
{
    size_t cap = 0;
    *out = NULL;
    *n = 0;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++) {
            const gsr_event_t *e = &r->threads[i].ev[k];
            if (e->kind != kind || !e->obj)
                continue;
            if (*n == cap) {
                cap = cap ? 2 * cap : 256;
                lkev_t *nv = realloc(*out, cap * sizeof **out);
                if (!nv)
                    return -1;
                *out = nv;
            }
            (*out)[(*n)++] = (lkev_t){e->t, e->t1, e->obj, i, e->cpu};
        }
    return 0;
}

/* The index of the first wait on obj ending at or after t (waits sorted
 * by obj, end). */
static size_t first_end(const lkev_t *w, size_t n, uint64_t obj, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (w[mid].obj < obj || (w[mid].obj == obj && w[mid].t1 < t))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* th's first event of kind at or after t (the point events are in time
 * order), or NULL. */
static const gsr_event_t *next_of(const gsr_thread_t *th, int64_t t, uint8_t kind)
{
    for (size_t k = gsr_first_event_at(th, t); k < th->n_ev; k++)
        if (th->ev[k].kind == kind && th->ev[k].t >= t)
            return &th->ev[k];
    return NULL;
}

/* Did releaser th, after its post at t, block on obj with a drop signal as
 * its next GIL event? That signal's time, or -1. */
static int64_t lost_at(const gsr_thread_t *th, int64_t t, uint64_t obj)
{
    int64_t sig = -1;
    for (size_t k = gsr_first_event_at(th, t); k < th->n_ev; k++) {
        const gsr_event_t *e = &th->ev[k];
        if (e->t < t || (e->kind == GSR_LOCK_POST && e->t == t))
            continue;
        if (sig < 0) {
            if (e->kind == GSR_SIGNAL)
                sig = e->t;
            else if (e->kind == GSR_ASK || e->kind == GSR_HOLD || e->kind == GSR_RELEASE ||
                     e->kind == GSR_LOCK_POST)
                return -1;
        } else if (e->kind == GSR_LOCK_WAIT || e->kind == GSR_LOCK_POST) {
            return e->kind == GSR_LOCK_WAIT && e->obj == obj ? sig : -1;
        }
    }
    return -1;
}

/* The gap samples of r into *v (sorted), their number in *n. */
static int samples(const gsr_recording_t *r, int64_t cs_ns, int64_t **v, size_t *n)
{
    lkev_t *posts = NULL, *waits = NULL;
    size_t np, nw, cap = 0;
    int rc = -1;
    *v = NULL;
    *n = 0;
    if (collect(r, GSR_LOCK_POST, &posts, &np) != 0 || collect(r, GSR_LOCK_WAIT, &waits, &nw) != 0)
        goto out;
    qsort(posts, np, sizeof *posts, by_obj_t);
    qsort(waits, nw, sizeof *waits, by_obj_t1);
    for (size_t k = 0; k < np; k++) {
        const lkev_t *p = &posts[k];
        int64_t next = k + 1 < np && posts[k + 1].obj == p->obj ? posts[k + 1].t : INT64_MAX;
        const lkev_t *won = NULL; /* the wait this release ended */
        for (size_t j = first_end(waits, nw, p->obj, p->t);
             j < nw && waits[j].obj == p->obj && waits[j].t1 < next && !won; j++)
            if (waits[j].th != p->th && waits[j].t < p->t)
                won = &waits[j];
        if (!won || p->cpu < 0 || won->cpu != p->cpu)
            continue; /* the waiter lost, or ran on another CPU */
        const gsr_event_t *ask = next_of(&r->threads[won->th], won->t1, GSR_ASK);
        int64_t sig = lost_at(&r->threads[p->th], p->t, p->obj);
        if (!ask || sig < 0 || sig >= next || sig < ask->t)
            continue;
        int64_t gap = sig - ask->t - cs_ns;
        if (*n == cap) {
            cap = cap ? 2 * cap : 64;
            int64_t *nv = realloc(*v, cap * sizeof **v);
            if (!nv)
                goto out;
            *v = nv;
        }
        (*v)[(*n)++] = gap > 0 ? gap : 0;
    }
    if (*n)
        qsort(*v, *n, sizeof **v, by_value);
    rc = 0;
out:
    free(posts);
    free(waits);
    return rc;
}

int64_t fit_lock_gap_read(const char *rec_path, int64_t cs_ns, int64_t *n)
{
    gsr_recording_t *r = NULL;
    gs_error_t err = {0};
    *n = 0;
    if (!rec_path || gsr_recording_read(rec_path, &r, &err) != 0)
        return err.code == GS_ENOMEM ? -2 : -1;
    int64_t gap = -1, *v = NULL;
    size_t nv = 0;
    if (r->has_cpu) {
        if (samples(r, cs_ns, &v, &nv) != 0)
            gap = -2;
        else if (nv >= FIT_LOCKGAP_MIN)
            gap = v[nv / 2];
    }
    *n = (int64_t)nv;
    free(v);
    gsr_recording_free(r);
    return gap;
}
