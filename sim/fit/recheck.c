/* recheck.c - the Python a woken Queue waiter runs before it waits again.
 *
 * queue.Queue's get is `with self.not_empty: while not self._qsize():
 * self.not_empty.wait()` (Lib/queue.py). A notify wakes one waiter, but
 * another getter may take the item before it holds the GIL: it then takes
 * the GIL, returns from Condition.wait (the mutex again), finds the queue
 * empty, and waits again (a new waiter lock, acquired, appended, the mutex
 * released, the blocking acquire), all of it Python with the GIL held. In
 * the recording that is a hold inside a Queue.get (or a full put) that
 * began after the call's first release of the GIL and ended in a voluntary
 * release inside it, before its last wait: about a microsecond, and a
 * change of GIL holder that CPython counts (take_gil's switch_number) like
 * any other. Without it the model's re-check has no length, its hold no
 * interval on the GIL lane, and gil.switches misses it
 * (tests/reality/replay_notes.md point 19).
 *
 * Per queue (queues.c told them apart) the median of those holds is its
 * `recheck`; a queue whose calls never re-checked in vain gets none. Each
 * hold is taken less its drop's wake of the next GIL waiter (from the
 * signal to the release), which the engine charges at its own drop: on two
 * CPUs that wake's interrupt made the quiet recordings' median 12.3 us of
 * which about a microsecond was the re-check (point 27).
 * Holds cut by a forced switch are left out (not a re-check's end).
 * Cost: O(holds + queue ops x log holds). */
#include "fit_int.h"

#include <stdlib.h>

#include "recfile_int.h"

typedef struct hold {
    int64_t t0, t1; /* held from t0 to a voluntary release at t1 */
    int64_t wake;   /* of it, the drop's wake: from its signal to t1 */
} hold_t;

/* Thread th's holds that ended in a voluntary release, in time order, each
 * less the time from a signal in it to the release (its drop waking a GIL
 * waiter: the engine charges that wake at its own drop, qcut.c). */
static hold_t *holds_of(const gsr_thread_t *th, size_t *n)
{
    hold_t *h = malloc((th->n_ev + 1) * sizeof *h);
    if (!h)
        return NULL;
    int64_t since = -1, sig = -1;
    *n = 0;
    for (size_t k = 0; k < th->n_ev; k++) {
        const gsr_event_t *e = &th->ev[k];
        if (e->kind == GSR_HOLD) {
            since = e->t;
            sig = -1;
        } else if (e->kind == GSR_SIGNAL && since >= 0 && sig < 0) {
            sig = e->t;
        } else if (e->kind == GSR_RELEASE && since >= 0) {
            if (e->why != GSR_WHY_FORCED)
                h[(*n)++] = (hold_t){since, e->t, sig >= 0 ? e->t - sig : 0};
            since = -1;
        }
    }
    return h;
}

/* The first of n holds that starts after t. */
static size_t first_after(const hold_t *h, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (h[mid].t0 <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

int fit_recheck(const gsr_recording_t *r, const fq_op_t *ops, size_t n, fscenario_t *f)
{
    int rc = -1;
    int64_t *v = NULL;
    hold_t **h = calloc((size_t)r->n_threads + 1, sizeof *h);
    size_t *nh = calloc((size_t)r->n_threads + 1, sizeof *nh);
    size_t cap = 0;
    if (!h || !nh)
        goto done;
    for (int i = 0; i < r->n_threads; i++) {
        if (!(h[i] = holds_of(&r->threads[i], &nh[i])))
            goto done;
        cap += nh[i];
    }
    if (!(v = malloc((cap + 1) * sizeof *v)))
        goto done;
    for (int q = 0; q < f->n_queues && q < FIT_MAX_QUEUES; q++) {
        size_t nv = 0;
        for (size_t k = 0; k < n; k++) {
            const fq_op_t *o = &ops[k];
            if (o->queue != q || !o->blocked || o->thread < 0 || o->thread >= r->n_threads)
                continue;
            const hold_t *th = h[o->thread];
            /* holds inside the call that ended at or before its last wait's
             * release: each was woken, found nothing to do and waited again */
            for (size_t j = first_after(th, nh[o->thread], o->t0);
                 j < nh[o->thread] && th[j].t1 <= o->rel && nv < cap; j++)
                v[nv++] = th[j].t1 - th[j].t0 - th[j].wake;
        }
        f->queue_recheck_ns[q] = 0;
        f->n_rechecks[q] = (int64_t)nv;
        if (nv) {
            qsort(v, nv, sizeof *v, fit_cmp_i64);
            f->queue_recheck_ns[q] = v[nv / 2];
        }
    }
    rc = 0;
done:
    for (int i = 0; h && i < r->n_threads; i++)
        free(h[i]);
    free(h);
    free(nh);
    free(v);
    return rc;
}
