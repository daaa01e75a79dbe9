/* qcut.c - the GIL time inside a Queue.put or Queue.get that the model
 * charges by itself, cut out of the Python the fit writes after the call.
 *
 * fit.c counts the time a thread held the GIL inside a Queue.put/get as
 * Python (the call is Python code in queue.py): the cpu op after the put or
 * get holds it. Three parts of that time are not Python the model should
 * replay, because the engine makes them itself, each where its own run
 * needs them:
 *  - a notify that wakes a blocked thread (`lock_post`: the waiter lock's
 *    sem_post found a sleeper): the futex wake, and when the sleeper is put
 *    on another, idle CPU, the inter-processor interrupt inside the call (a
 *    VM exit on a virtual machine: 10 to 12 us on the project's VM, against
 *    under a microsecond when the woken thread is queued on the waker's
 *    CPU). The engine charges every wake to its waker (wake.c wake_cost:
 *    machine.futex, plus machine.wake_ipi when the wakee goes to another
 *    idle core). Cut: from the post to the thread's next stamp (its next
 *    event or the call's end), at most what the engine charges for a wake
 *    (machine.futex + machine.wake_ipi as fitted, ipi.c): beyond that the
 *    waker had no core (its wakee or another program preempted it), which
 *    scale.c and the model's load deal with;
 *  - the drop of the GIL as the call blocks, when it signals a GIL waiter
 *    (`signal` .. `release`: drop_gil signals the condition variable and
 *    unlocks the GIL's mutex, the same futex wake and interrupt). The engine
 *    charges it at its own drop (gil.c). Cut: from the signal to the
 *    release, at most the same;
 *  - a vain re-check: a hold after the call was woken that found the queue
 *    still empty or full and waited again (recheck.c). The engine replays
 *    each of its own vain re-checks as the queue's recheck (sync.c). Cut:
 *    the whole hold.
 * Left in, the replay paid each of them twice, once in the Python and once
 * by the engine, and paid the recorded run's interrupts even where the
 * replay's own placement (one core, a thread queued behind its waker) has
 * none: producer_consumer's quiet 5 ms recordings of 2026-12-07 17:50 held
 * 8 to 16 ms of such time in 500 hand-offs of the producer (4 to 10 ms of
 * it the producer's own: its whole Python between the puts is 9.4 to
 * 10.3 ms), and the same program on one CPU under 1 ms
 * (tests/reality/replay_notes.md, point 27).
 * Only Queue calls: the same double count at a release before I/O, a
 * sleep or a Lock wait is the rest of the fit's (not measured here).
 * Cost: O(events inside the calls + holds) per thread. */
#include "fit_int.h"

#include <stdlib.h>

#include "gilsim/model.h"
#include "recfile_int.h"

/* The time of th's first event after index k that is later than t, or end. */
static int64_t next_stamp(const gsr_thread_t *th, size_t k, int64_t t, int64_t end)
{
    for (size_t j = k + 1; j < th->n_ev && th->ev[j].t < end; j++)
        if (th->ev[j].t > t)
            return th->ev[j].t;
    return end;
}

/* The first release of th at or after t, before end; else end. */
static int64_t release_from(const gsr_thread_t *th, size_t k, int64_t t, int64_t end)
{
    for (size_t j = k; j < th->n_ev && th->ev[j].t < end; j++)
        if (th->ev[j].kind == GSR_RELEASE && th->ev[j].t >= t)
            return th->ev[j].t;
    return end;
}

/* Appends the charged intervals of op o (thread th) to iv (room for two per
 * event in the call, counted by the caller); returns how many it added and
 * adds the wakes' time to *wake_ns, their count to *n_wakes. */
static size_t charged(const gsr_thread_t *th, const fq_op_t *o, int64_t cap, fit_iv_t *iv,
                      int64_t *wake_ns, int64_t *n_wakes)
{
    size_t n = 0;
    int64_t hold = -1; /* a hold that began inside the call, after its start */
    for (size_t k = gsr_first_event_at(th, o->t0); k < th->n_ev && th->ev[k].t < o->t1; k++) {
        const gsr_event_t *e = &th->ev[k];
        int64_t end = -1;
        if (e->kind == GSR_HOLD && e->t > o->t0)
            hold = e->t;
        else if (e->kind == GSR_RELEASE) {
            if (o->blocked && hold >= 0 && e->t <= o->rel && e->why != GSR_WHY_FORCED)
                iv[n++] = (fit_iv_t){hold, e->t}; /* a vain re-check */
            hold = -1;
        } else if (e->kind == GSR_SIGNAL)
            end = release_from(th, k, e->t, o->t1);
        else if (e->kind == GSR_LOCK_POST)
            end = next_stamp(th, k, e->t, o->t1);
        end = end - e->t > cap ? e->t + cap : end;
        if (end > e->t) {
            iv[n++] = (fit_iv_t){e->t, end};
            *wake_ns += end - e->t;
            ++*n_wakes;
        }
    }
    return n;
}

static int cmp_iv(const void *a, const void *b)
{
    const fit_iv_t *x = a, *y = b;
    return (x->h > y->h) - (x->h < y->h);
}

/* holds (sorted, disjoint) less the union of cut (sorted by start): into
 * out, which has room for n_holds + n_cut. Returns its length. */
static size_t subtract(const fit_iv_t *holds, size_t n_holds, const fit_iv_t *cut, size_t n_cut,
                       fit_iv_t *out)
{
    size_t n = 0, c = 0;
    for (size_t k = 0; k < n_holds; k++) {
        int64_t h = holds[k].h, r = holds[k].r;
        while (c < n_cut && cut[c].r <= h)
            c++;
        for (size_t j = c; j < n_cut && cut[j].h < r && h < r; j++) {
            if (cut[j].h > h)
                out[n++] = (fit_iv_t){h, cut[j].h};
            h = cut[j].r > h ? cut[j].r : h;
        }
        if (h < r)
            out[n++] = (fit_iv_t){h, r};
    }
    return n;
}

size_t fit_queue_cut(const gsr_recording_t *r, const fq_op_t *ops, size_t n, size_t k,
                     fit_iv_t **holds, size_t *n_holds, fscenario_t *f)
{
    int i = ops[k].thread;
    size_t j = k, room = 0;
    const gsr_thread_t *th = &r->threads[i];
    for (; j < n && ops[j].thread == i; j++)
        room += 2 * (gsr_first_event_at(th, ops[j].t1) - gsr_first_event_at(th, ops[j].t0));
    fit_iv_t *cut = malloc((room + 1) * sizeof *cut);
    fit_iv_t *out = malloc((*n_holds + room + 1) * sizeof *out);
    if (!cut || !out) {
        free(cut);
        free(out);
        return 0;
    }
    gs_machine_t d;
    gs_machine_defaults(&d); /* the fit keeps the engine's futex */
    int64_t cap = d.futex_ns + (f->wake_ipi_ns > 0 ? f->wake_ipi_ns : 0);
    size_t n_cut = 0;
    for (size_t q = k; q < j; q++)
        n_cut += charged(th, &ops[q], cap, cut + n_cut, &f->queue_wake_ns, &f->n_queue_wakes);
    qsort(cut, n_cut, sizeof *cut, cmp_iv);
    *n_holds = subtract(*holds, *n_holds, cut, n_cut, out);
    free(*holds);
    *holds = out;
    free(cut);
    return j;
}
