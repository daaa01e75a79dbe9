/* cpost.c - a C call that puts one item on a queue at its end, from C.
 *
 * A socket send wakes the reader blocked in recv on its peer inside the
 * system call: tcp_data_queue / unix_stream_sendmsg queue the bytes and
 * call sk_data_ready (sock_def_readable), which wakes the reader's wait
 * queue with a synchronous (WF_SYNC) wake-up, before the send returns to
 * its caller, who then takes the GIL back (Modules/socketmodule.c: the
 * send runs between Py_BEGIN_ALLOW_THREADS and Py_END_ALLOW_THREADS). A
 * `put` op is Python: the sender would make it holding the GIL, before or
 * after the send, and so either woke the reader before the send let the
 * GIL go (the reader and the GIL's next waiter then raced for it) or made
 * the wake-up wait for the sender's GIL (tests/reality/replay_notes.md,
 * point 36: convoy.py --socket's CPU thread took the GIL inside the I/O
 * thread's 1.6 us sends, and each echo then waited an interval).
 *
 * So a c_call may name a queue it `posts` (docs/scenarios.md): at the end
 * of its time on a core, without the GIL if it released it, the queue gets
 * one item and its oldest getter is woken, placed as a wake by the caller
 * (wake_affine, as the WF_SYNC wake is) at no cost of its own: the call's
 * measured time already holds the wake-up it made. Then the caller asks
 * for the GIL again (released) or goes on (kept). The queue is unbounded
 * (the model checks it): a C call's post never waits for room.
 * Transitions: the queue's length +1; a getter OFF (BLK_QUEUE) -> WAKING or
 * READY (wake.c). Invariant: the caller is ON throughout (M_C_POST runs
 * only from advance(), which needs it ON). */
#include "cpost.h"
#include "engine_int.h"
#include "kernel.h"
#include "sync.h"
#include "wake.h"

static const micro_t P_C_REL_POST[] = {M_GIL, M_DROP, M_EXEC, M_C_POST, M_GIL, M_END};
static const micro_t P_C_GIL_POST[] = {M_GIL, M_EXEC, M_C_POST, M_END};

const micro_t *gs__cpost_prog(bool releases_gil)
{
    return releases_gil ? P_C_REL_POST : P_C_GIL_POST;
}

step_res_t gs__cpost_step(gs_engine_t *e, gs_thr_t *t)
{
    int i = t->req.target;
    GS_ASSERT(t->os == OS_ON && i >= 0 && i < e->m->n_queues);
    gs_queue_t *q = &e->queues[i];
    q->len++;
    gs_thr_t *w = gs__waitq_pop(&q->getters);
    gs__trace_instant_obj(e->trace, e->now, GS_IN_QUEUE_LEN, t->id, i, q->len);
    if (w)
        gs__os_wake_from(e, t, w);
    return STEP_NEXT;
}
