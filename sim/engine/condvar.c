/* condvar.c - glibc's condition variable, as cpython3's GIL waits on it.
 *
 * CPython 3's GIL waiters sleep on a pthread condition variable (gil->cond);
 * glibc (2.25+, nptl/pthread_cond_wait.c) keeps its waiters in two groups:
 * a waiter joins G2; a signal goes to G1, first turning G2 into G1 when G1
 * is all signalled (__condvar_quiesce_and_switch_g1), and may be taken by
 * any G1 waiter. A waiter still within `futex` of entering its wait takes a
 * signal without sleeping (cv_entering says when it no longer can); the
 * futex wake goes to the longest sleeper of G1 all the same and, if the
 * signal is gone, is futile (back to sleep, end of queue). A timed-out
 * waiter leaves its group when it runs (__condvar_cancel_waiting); if its
 * signal was already posted it sends a replacement.
 * gil.c owns the GIL and calls this file's two entries: gs__condvar_signal
 * (pthread_cond_signal) and gs__condvar_on_core (a woken waiter looks for
 * its signal). Invariant (gil.c): g1_size + g1_signals never exceeds the G1
 * waiters. Source: glibc nptl/pthread_cond_wait.c, pthread_cond_signal.c. */
#include "condvar.h"
#include "engine_int.h"
#include "cvrace.h"
#include "gil.h"
#include "hrtimer.h"
#include "kernel.h"
#include "os.h"
#include "wake.h"

static void cv_take_signal(gs_engine_t *e, gs_gil_t *g, gs_thr_t *w)
{
    gs__waitq_remove(&g->waiters, w);
    w->cv_consumed = true;
    (void)e;
}

/* A futex wake-up of w: it runs, then looks for a signal (cv_on_core). A
 * waiter not yet asleep was never off its core; a sleeper is woken by the
 * signaller `by`, which pays the futex call (NULL: nobody pays). */
static void cv_wake(gs_engine_t *e, gs_thr_t *w, bool unslept, gs_thr_t *by)
{
    bool timer_woke = w->gw == GW_TIMEDOUT; /* still queued (cvrace.c): futex_wait returns 0 */
    if (!timer_woke) {
        w->tarm_owed_ns += gs__hrtimer_cancel_cost(e, w); /* futex_wait cancels it */
        gs__thr_cancel_timer(w);
    }
    w->gw = GW_SIGNALED;
    gs__trace_instant(e->trace, e->now, GS_IN_SIGNAL, w->id, w->process, 0);
    if (timer_woke)
        return;
    if (unslept)
        gs__os_wake_unslept(e, w);
    else
        gs__os_wake_by(e, by, w);
}

/* Is waiter w still on its way into its futex wait (within `futex` of
 * entering it), as `by` signals? The model takes a blocking waiter off its
 * core at once and keeps that futex call as a window of time. A signaller
 * running on the core w left got that core after w was done with it: one
 * core runs one thread, so w's call was over and w is asleep (two waiters
 * whose timed waits ran out together on one core: the second back in its
 * wait used to take the holder's signal in that window, which its core
 * could not have given it). Whatever the run queues: on one CPU (a program
 * under `taskset -c 0`) every signaller runs on the core its waiters left,
 * and a replay with the shared queue gave the requester, back in its wait
 * a context switch before the holder resumed, the drop it asked for at
 * 78% of the drops where the real one-CPU recordings give it 23-74%
 * (tests/reality/replay_notes.md point 17). */
static bool cv_entering(const gs_engine_t *e, const gs_thr_t *w, const gs_thr_t *by)
{
    if (w->cv_asleep_ns <= e->now)
        return false;
    return !(by && by->os == OS_ON && by->core && by->core->id == w->last_core);
}

/* pthread_cond_signal. */
void gs__condvar_signal(gs_engine_t *e, gs_gil_t *g, gs_thr_t *by)
{
    if (g->g1_size == 0) {
        /* G1 is all signalled: G2 becomes G1 (__condvar_quiesce_and_switch_g1),
         * if it has anyone in it */
        int n = 0;
        for (int i = 0; i < g->waiters.n; i++)
            n += g->waiters.v[i]->cv_group == g->g2;
        if (n == 0)
            return;
        /* what is left of the old G1 finds its group closed: it returns as if
         * signalled */
        for (int i = 0; i < g->waiters.n;) {
            gs_thr_t *w = g->waiters.v[i];
            if (w->cv_group == g->g1 && gs__cvrace_queued(e, w)) {
                cv_take_signal(e, g, w);
                cv_wake(e, w, cv_entering(e, w, by), NULL);
            } else {
                i++;
            }
        }
        g->g1 = g->g2++;
        g->g1_size = n;
        g->g1_signals = 0;
    }
    g->g1_size--;
    g->g1_signals++;
    /* A G1 waiter still on its way into the futex sees the signal and does not
     * block ("If there is an available signal, don't block"); the futex wake
     * (one waiter, FIFO) goes to the longest sleeper all the same, which then
     * finds no signal left: a futile wake-up. */
    gs_thr_t *taker = NULL, *sleeper = NULL;
    int n_asleep = 0;
    for (int i = 0; i < g->waiters.n; i++) {
        gs_thr_t *w = g->waiters.v[i];
        if (!gs__cvrace_queued(e, w) || w->cv_group != g->g1)
            continue;
        if (cv_entering(e, w, by)) {
            if (!taker || w->cv_asleep_ns < taker->cv_asleep_ns)
                taker = w;
        } else {
            n_asleep++;
            if (!sleeper || w->cv_sleep_seq < sleeper->cv_sleep_seq)
                sleeper = w;
        }
    }
    if (sleeper && g->py->waker == GS_WAKE_RANDOM) {
        int k = (int)(gs__rng_next(&g->rng) % (uint64_t)n_asleep);
        for (int i = 0; i < g->waiters.n; i++) {
            gs_thr_t *w = g->waiters.v[i];
            if (gs__cvrace_queued(e, w) && w->cv_group == g->g1 && !cv_entering(e, w, by) &&
                k-- == 0) {
                sleeper = w;
                break;
            }
        }
    }
    if (taker) {
        g->g1_signals--;
        cv_take_signal(e, g, taker);
        cv_wake(e, taker, true, NULL);
    }
    if (sleeper) {
        cv_wake(e, sleeper, false, by); /* the signaller's futex wake */
        g->cv_woken = sleeper;
    }
}

/* The waiter leaves the condvar after its timed wait ran out
 * (__condvar_cancel_waiting). */
static void cv_cancel(gs_engine_t *e, gs_gil_t *g, gs_thr_t *t)
{
    gs__waitq_remove(&g->waiters, t);
    bool replace = false;
    if (t->cv_group == g->g1) {
        if (g->g1_size == 0) {
            /* a signal was meant for it: pass one on */
            if (g->g1_signals > 0)
                g->g1_signals--;
            replace = true;
        } else {
            g->g1_size--;
        }
    } else if (t->cv_group != g->g2) {
        replace = true; /* its group was closed: it had a signal */
    }
    if (replace)
        gs__condvar_signal(e, g, t);
}

/* A woken waiter on a core: true if it leaves the condvar (a signal taken, or
 * timed out), false if it went back to sleep. *timed_out says which. */
bool gs__condvar_on_core(gs_engine_t *e, gs_gil_t *g, gs_thr_t *t, bool *timed_out)
{
    if (t->gw == GW_LEFT) {
        *timed_out = t->cv_timed_out;
        return true;
    }
    *timed_out = t->gw == GW_TIMEDOUT;
    if (*timed_out) {
        cv_cancel(e, g, t);
        return true;
    }
    if (t->cv_consumed)
        return true;
    if (t->cv_group != g->g1 && t->cv_group != g->g2) {
        cv_take_signal(e, g, t); /* closed group */
        return true;
    }
    if (t->cv_group == g->g1 && g->g1_signals > 0) {
        g->g1_signals--;
        cv_take_signal(e, g, t);
        return true;
    }
    gs__trace_instant(e->trace, e->now, GS_IN_FUTILE_WAKEUP, t->id, t->process, 0);
    if (e->now >= t->cv_deadline_ns) {
        *timed_out = true;
        cv_cancel(e, g, t);
        return true;
    }
    /* no signal left: back into the futex, at the end of its queue */
    t->gw = GW_COND;
    t->cv_asleep_ns = e->now + e->m->machine.futex_ns;
    t->cv_sleep_seq = g->sleep_seq++;
    gs__os_block(e, t, BLK_GIL, -1);
    t->tarm_owed_ns += gs__hrtimer_arm_cost(e, t, t->hrt_soft_ns - e->now);
    gs__hrtimer_rearm(e, t, t->hrt_soft_ns, t->cv_deadline_ns); /* the same timeout */
    return false;
}
