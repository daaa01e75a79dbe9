/* cvrace.c - two timings of the GIL's condition variable at a forced drop,
 * as the kernel's futex and glibc's mutex give them (gil.c asks; the state
 * changes stay in gil.c).
 *
 * 1. How long the holder waits for the GIL's mutex when the requester won the
 *    race (machine.race_holder_sleeps). The requester holds the GIL mutex
 *    from its timed wait's return until its unlock inside
 *    pthread_cond_timedwait; a holder that comes to drop meanwhile calls
 *    lll_lock_wait: it sets the mutex word to 2 and makes a FUTEX_WAIT on it.
 *    The requester's unlock (an exchange to 0, then FUTEX_WAKE since the word
 *    was 2) ends that wait: if the holder was not queued yet, its FUTEX_WAIT
 *    finds the word changed and returns at once (EAGAIN); only if it was
 *    queued and switched out does it need a wake-up. Traced on this machine
 *    (tests/reality/race_trace.py, docs/model.md "The race, traced"), the
 *    holder's mutex wait lasted 0.6 us (median): it rarely sleeps. Default
 *    (true): the model's old reading, the holder sleeps and is woken, so it
 *    drops a futex call and a wake-up latency (tens of microseconds) after
 *    the request. false: it drops one futex call after it, as the requester
 *    is asleep in its wait.
 *    With false the holder waits for the mutex wherever it looks at the
 *    request (gs__cvrace_drop_due), not only at an eval-breaker check.
 *    Why it matters: during a wake-up latency other waiters whose timed
 *    waits end with the requester's (a core's timers expire together,
 *    hrtimer.c) time out, find the request already set and wait again behind
 *    the requester, which is then the longest sleeper of its group and takes
 *    the signal it lost the race for (convoy-many at 1 ms: 1,375 of 9,625
 *    forced drops with two or more waiters; docs/model.md).
 * 2. Whether a waiter whose timed wait ran out, and which has not run since,
 *    is still in the futex queue (machine.timed_out_queued). In Linux's
 *    futex_wait (kernel/futex/waitwake.c) the timer only wakes the task; the
 *    task unqueues itself when it runs (futex_unqueue), and if a FUTEX_WAKE
 *    took it off the queue first it returns 0, not ETIMEDOUT, and glibc
 *    looks for a signal as after any wake-up. So until it runs it is the
 *    sleeper it was, in its place (it has slept longest when its timer ended
 *    first). Default (false): the model's old reading, it left the queue at
 *    its timeout. true: the signaller's futex wake may go to it.
 * Source: glibc nptl/pthread_mutex_unlock.c, lowlevellock.c (lll_lock_wait),
 * nptl/pthread_cond_wait.c; Linux kernel/futex/waitwake.c (futex_wait,
 * futex_wake). */
#include "cvrace.h"
#include "engine_int.h"
#include "gil.h"

int64_t gs__cvrace_holder_wait_ns(const gs_engine_t *e)
{
    const gs_machine_t *m = &e->m->machine;
    return m->futex_ns + (m->race_holder_sleeps ? m->wakeup_latency_ns : 0);
}

bool gs__cvrace_queued(const gs_engine_t *e, const gs_thr_t *w)
{
    if (w->gw == GW_COND)
        return true;
    /* not yet run: once on a core (paying its timer's reprogramming first,
     * gil.c on_core) it is past futex_unqueue */
    return e->m->machine.timed_out_queued && w->gw == GW_TIMEDOUT && w->os != OS_ON;
}

/* With race_holder_sleeps false the holder's wait for the mutex holds
 * wherever it looks at the request: between two ops of its program as at
 * an eval-breaker check inside one. The old reading drops at once at an op
 * boundary inside the wake-up window, so a requester that won the race was
 * still on its way into its futex and took the signal (a fitted io_two_cpu
 * at 1 ms, whose CPU threads poll an Event in 50 us ops). */
bool gs__cvrace_drop_due(const gs_engine_t *e, const gs_gil_t *g)
{
    return e->m->machine.race_holder_sleeps || e->now >= g->drop_at_ns;
}
