/* cstart.c - where a C call keeping the GIL that the fit infers began.
 *
 * Without --calls all the recording names no C call that keeps the GIL.
 * A drop request the holder leaves unanswered for 1 ms or more shows one
 * (fit_late_request): the eval loop answers within microseconds. The
 * request proves the holder was out of the eval loop from the request on;
 * before it the recording cannot tell Python from C, because nothing was
 * asked of the holder: CPython's waiter sets the request only when a timed
 * wait of one switch interval runs out with no switch in between
 * (Python/ceval_gil.c, take_gil), so the first request comes one interval
 * (plus the timer's slack) after the wait that set it began.
 *
 * The fit took the call from the request on, and the part of the hold
 * before it as Python. That Python then holds the recording's own switch
 * interval: examples/c_call_ticker.py's sort of 0.5 M floats (one C call
 * from the start of the hold, 100-118 ms) was fitted as 5.6 ms of Python
 * and 111 ms of C. A what-if at 1 ms cut those 5.6 ms with forced
 * switches the real run at 1 ms does not make (14 switches against 10),
 * and the replay at the recorded 5 ms sat on a tie between the model's
 * first request and the end of that Python (a forced switch in 2 of the 3
 * quiet replays, +21% switches/s).
 *
 * So the call is taken from the start of the requester's timed wait that
 * ran out in the request: its ask, or the end of its previous timed wait
 * (a timeout, a wake-up or an earlier request: take_gil loops). The rest
 * of the hold before that stays Python: no thread waited then, so its
 * length only matters where a what-if makes a thread ask earlier. Never
 * before the hold, nor before the end of a span the holder recorded in
 * it. Without a requester in another thread (a hand-made recording) the
 * call begins at the request, as before.
 *
 * Cost: a binary search in each thread's events per inferred call; the
 * events are sorted by their stamp (recfile_int.h). */
#include "fit_int.h"
#include "recfile_int.h"

/* Whether thread th recorded a drop request at q. */
static bool requested_at(const gsr_thread_t *th, int64_t q)
{
    for (size_t k = gsr_first_event_at(th, q); k < th->n_ev && th->ev[k].t == q; k++)
        if (th->ev[k].kind == GSR_DROP_REQUEST)
            return true;
    return false;
}

/* The start of thread th's timed wait on the GIL that ended at q: its
 * last ask, timeout, wake-up or drop request before q; -1 if none. */
static int64_t wait_began(const gsr_thread_t *th, int64_t q)
{
    for (size_t k = gsr_first_event_at(th, q); k-- > 0;) {
        uint8_t kind = th->ev[k].kind;
        if (kind == GSR_ASK || kind == GSR_TIMEOUT || kind == GSR_WOKEN || kind == GSR_FUTILE ||
            kind == GSR_DROP_REQUEST)
            return th->ev[k].t;
        if (kind == GSR_HOLD || kind == GSR_RELEASE)
            return -1; /* it held the GIL in between: not one wait */
    }
    return -1;
}

int64_t fit_inferred_c_start(const gsr_recording_t *r, int holder, int64_t hs, int64_t q)
{
    int64_t start = -1;
    for (int j = 0; j < r->n_threads && start < 0; j++)
        if (j != holder && requested_at(&r->threads[j], q))
            start = wait_began(&r->threads[j], q);
    if (start < 0)
        return q; /* no requester seen: from the request, as before */
    start = start > hs ? start : hs;
    const gsr_thread_t *th = &r->threads[holder];
    for (size_t k = gsr_first_event_at(th, hs); k < th->n_ev && th->ev[k].t < q; k++) {
        const gsr_event_t *e = &th->ev[k];
        bool span = e->kind == GSR_CALL || e->kind == GSR_WAIT || e->kind == GSR_LOCK_WAIT ||
                    e->kind == GSR_PY;
        if (span && e->t1 <= q && e->t1 > start)
            start = e->t1; /* after what the holder recorded in the hold */
    }
    return start;
}
