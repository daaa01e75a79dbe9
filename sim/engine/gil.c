/* gil.c - the Global Interpreter Lock, one per process.
 *
 * cpython3 (3.2 and later; Python/ceval_gil.c):
 *   take: if the GIL is free, take it. Otherwise wait on the GIL condition
 *     for at most switch_interval. On a timeout, if the GIL is still held and
 *     switch_number has not moved since the wait began, set drop_request.
 *     Wait again. Waking up (by timeout or signal) needs a core, like any
 *     execution: the waiter becomes runnable and goes through the OS.
 *   the holder looks at drop_request between bytecodes (eval breaker): a
 *     Python segment is interrupted at once (EV_BREAK); a C call that keeps
 *     the GIL looks at nothing until it returns.
 *   drop: release, signal one waiter (FIFO, or seeded random). If the drop
 *     was requested (drop_request set) the dropper then waits until another
 *     thread has taken the GIL (FORCE_SWITCHING), so it cannot win it back at
 *     once; the drop request is reset there and by the next taker.
 *   signal stealing: the waiter that set drop_request re-enters its wait at
 *     once, and a holder running on another core drops at once; glibc's
 *     condition variable lets a waiter that has not gone to sleep yet take a
 *     signal that is available ("If there is an available signal, don't
 *     block", nptl/pthread_cond_wait.c), ahead of older sleeping waiters. So
 *     a drop in the same instant as its request goes to the requester with
 *     chance signal_steal (seeded), otherwise to the waiter the waker picks.
 *     This is what makes an I/O thread beside two CPU-bound threads wait
 *     several intervals (docs/validation.md); a holder that drops later (a C
 *     call that keeps the GIL, a holder that had to get a core back) finds
 *     the requester asleep: no stealing.
 *   switch_number grows only when the new holder differs from the last one.
 *   3.12 and legacy subinterpreters sharing the GIL: the drop request goes
 *     on the waiter's interpreter, so a holder of another interpreter does
 *     not see it (sees_request); 3.13 puts it on the holder's thread.
 * cpython2 (Python 2.7 ceval.c _Py_Ticker; the lock is a POSIX semaphore,
 *   Python/thread_pthread.h USE_SEMAPHORES, on glibc's nptl sem_post.c and
 *   sem_waitcommon.c): every check_interval ticks of Python the holder
 *   releases the lock (sem_post) and re-takes it (sem_wait). A thread that
 *   finds it taken registers as a semaphore waiter and sleeps; it stays
 *   registered until it gets the lock. While anyone is registered, every
 *   sem_post makes a futex wake system call (futex_ns on the holder's core,
 *   the lock free meanwhile) that wakes one sleeper. The woken waiter needs
 *   wake-up latency and a core; if the lock is free it takes it, otherwise
 *   (a futile wake-up) it pays its own futex call to sleep again. On several
 *   cores the holder keeps winning and pays a system call per release: the
 *   GIL battle costs time. No timeouts, no drop requests.
 * none: no GIL at all (see gs__gil_has).
 * Transitions: FREE -> HELD [take], HELD -> FREE [drop].
 * Invariants: at most one holder; holder->holds_gil; a waiter is OFF with
 * gw == GW_COND and is in `waiters`, a forced dropper is in `switch_wait`;
 * sem_waiters counts the threads with sem_waiting (cpython2); a thread with
 * in_sys is ON and does not hold the GIL. */
#include "engine_int.h"

gs_gil_t *gs__gil_of(gs_engine_t *e, const gs_thr_t *t)
{
    return &e->gils[t->process];
}

bool gs__gil_has(const gs_engine_t *e, const gs_thr_t *t)
{
    return e->gils[t->process].kind != GS_GIL_NONE;
}

void gs__gil_init(gs_engine_t *e, gs_gil_t *g, int process)
{
    g->process = process;
    g->py = &e->m->processes[process].python;
    g->kind = g->py->gil;
    gs__rng_seed(&g->rng, e->m->seed, (UINT64_C(1) << 32) + (uint64_t)process);
}

/* Whether t's eval breaker shows the pending drop request. 3.12 sets it on
 * the waiter's interpreter (SET_GIL_DROP_REQUEST(interp)), so a holder in
 * another interpreter sharing the GIL (a legacy subinterpreter) never sees
 * it; 3.13 sets it on the holder's thread state (gh-112175). Other versions:
 * one interpreter per GIL here, so the question does not arise. */
static bool sees_request(const gs_gil_t *g, const gs_thr_t *t)
{
    return g->py->version != 312 || t->spec->interpreter == g->request_interp;
}

static void acquire(gs_engine_t *e, gs_gil_t *g, gs_thr_t *t)
{
    GS_ASSERT(!g->locked);
    g->locked = true;
    g->holder = t;
    t->holds_gil = true;
    if (t->sem_waiting) {
        t->sem_waiting = false;
        g->sem_waiters--;
    }
    if (g->last_holder != t)
        g->switch_number++;
    g->last_holder = t;
    t->tick_end_ns = t->py_exec_ns + (int64_t)g->py->check_interval * g->py->tick_ns;
    if (g->kind == GS_GIL_CPYTHON3) {
        if (sees_request(g, t)) { /* the new holder resets its own */
            if (g->drop_request)
                gs__trace_drop_request(e->trace, g->process, e->now, -1);
            g->drop_request = false;
            g->requester = NULL;
        }
        gs_thr_t *w;
        while ((w = gs__waitq_pop(&g->switch_wait)) != NULL) {
            w->gw = GW_SWITCHED;
            gs__os_wake(e, w);
        }
    }
    gs__trace_gil(e->trace, g->process, e->now, t->id);
    gs__thr_trace(e, t);
}

static void wait_cond(gs_engine_t *e, gs_gil_t *g, gs_thr_t *t)
{
    t->gw = GW_COND;
    t->saved_switch = g->switch_number;
    if (g->kind == GS_GIL_CPYTHON2 && !t->sem_waiting) {
        t->sem_waiting = true;
        g->sem_waiters++;
    }
    gs__waitq_push(e, &g->waiters, t);
    gs__os_block(e, t, BLK_GIL, -1);
    if (g->kind == GS_GIL_CPYTHON3)
        gs__thr_timer(e, t, e->now + g->py->switch_interval_ns + e->m->machine.timer_slack_ns);
}

bool gs__gil_take(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    if (!g->locked) {
        acquire(e, g, t);
        return true;
    }
    wait_cond(e, g, t);
    return false;
}

void gs__gil_timeout(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    gs__waitq_remove(&g->waiters, t);
    t->gw = GW_TIMEDOUT;
    gs__trace_instant(e->trace, e->now, GS_IN_TIMEOUT, t->id, t->process, 0);
    gs__os_wake(e, t);
}

/* The requester's index in the waiters if it steals this drop's signal. */
static int stealer(gs_engine_t *e, gs_gil_t *g, const gs_thr_t *requester)
{
    if (!requester || g->request_ns != e->now || g->py->signal_steal_pct <= 0)
        return -1;
    int i = 0;
    while (i < g->waiters.n && g->waiters.v[i] != requester)
        i++;
    if (i == g->waiters.n)
        return -1;
    return (int)(gs__rng_next(&g->rng) % 100) < g->py->signal_steal_pct ? i : -1;
}

static void signal_one(gs_engine_t *e, gs_gil_t *g, const gs_thr_t *requester)
{
    if (g->waiters.n == 0)
        return;
    int i = stealer(e, g, requester);
    if (i < 0 && g->py->waker == GS_WAKE_RANDOM)
        i = (int)(gs__rng_next(&g->rng) % (uint64_t)g->waiters.n);
    if (i < 0)
        i = 0;
    gs_thr_t *w = gs__waitq_take(&g->waiters, i);
    gs__thr_cancel_timer(w);
    w->gw = GW_SIGNALED;
    gs__trace_instant(e->trace, e->now, GS_IN_SIGNAL, w->id, w->process, 0);
    gs__os_wake(e, w);
}

/* cpython2: t stays on its core for sys_ns in a futex call (in_sys). */
static void sys_call(gs_thr_t *t, int64_t ns)
{
    t->in_sys = true;
    t->sys_ns = ns;
}

bool gs__gil_sys_resume(gs_engine_t *e, gs_thr_t *t)
{
    if (!t->in_sys)
        return false;
    t->seg_start_ns = e->now;
    gs__thr_timer(e, t, e->now + (t->sys_ns > 0 ? t->sys_ns : 0));
    gs__thr_trace(e, t);
    return true;
}

bool gs__gil_on_timer(gs_engine_t *e, gs_thr_t *t)
{
    if (!t->in_sys || t->os != OS_ON)
        return false;
    gs__os_account(e, t);
    t->in_sys = false;
    t->sys_ns = 0;
    gs_gil_t *g = gs__gil_of(e, t);
    if (t->gw == GW_SIGNALED) {
        /* the futile waiter's futex wait: it returns at once if the lock was
         * posted meanwhile (the value changed), otherwise it sleeps */
        if (!g->locked) {
            t->gw = GW_NONE;
            acquire(e, g, t);
            gs__go_on(e, t);
        } else {
            wait_cond(e, g, t);
        }
        return true;
    }
    gs__go_on(e, t); /* the holder's release is over: take the lock again */
    return true;
}

static void on_core(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    if (gs__gil_sys_resume(e, t))
        return;
    if (!g->locked) {
        t->gw = GW_NONE;
        acquire(e, g, t);
        gs__go_on(e, t);
        return;
    }
    if (t->gw == GW_TIMEDOUT && g->kind == GS_GIL_CPYTHON3 &&
        g->switch_number == t->saved_switch) {
        if (!g->drop_request) {
            g->drop_request = true;
            g->requester = t;
            g->request_ns = e->now;
            gs__trace_drop_request(e->trace, g->process, e->now, t->id);
            g->request_interp = t->spec->interpreter;
            gs__trace_instant(e->trace, e->now, GS_IN_DROP_REQUEST, t->id, t->process,
                              g->holder->id);
            if (sees_request(g, g->holder))
                gs__ev_push(e, e->now, EV_BREAK, g->holder->id, 0);
        }
    } else if (t->gw == GW_SIGNALED) {
        gs__trace_instant(e->trace, e->now, GS_IN_FUTILE_WAKEUP, t->id, t->process, 0);
        if (g->kind == GS_GIL_CPYTHON2 && g->py->futex_ns > 0) {
            sys_call(t, g->py->futex_ns);
            gs__gil_sys_resume(e, t);
            return;
        }
    }
    wait_cond(e, g, t);
}

bool gs__gil_resume(gs_engine_t *e, gs_thr_t *t)
{
    if (t->gw == GW_TIMEDOUT || t->gw == GW_SIGNALED) {
        on_core(e, t);
        return true;
    }
    if (t->gw == GW_SWITCHED)
        t->gw = GW_NONE;
    return false;
}

bool gs__gil_drop(gs_engine_t *e, gs_thr_t *t, bool final)
{
    gs_gil_t *g = gs__gil_of(e, t);
    GS_ASSERT(g->holder == t);
    bool forced = !final && g->kind == GS_GIL_CPYTHON3 && g->drop_request && sees_request(g, t);
    const gs_thr_t *requester = forced ? g->requester : NULL;
    g->locked = false;
    g->holder = NULL;
    t->holds_gil = false;
    gs__trace_gil(e->trace, g->process, e->now, -1);
    gs__thr_trace(e, t);
    if (forced && g->last_holder == t) {
        /* FORCE_SWITCHING: wait on switch_cond until someone else took it. The
         * wait starts before the signal so the dropper's core is free for the
         * signalled waiter (CPython signals first; the order changes nothing
         * but which core the waiter lands on). */
        g->drop_request = false;
        gs__trace_drop_request(e->trace, g->process, e->now, -1);
        gs__trace_instant(e->trace, e->now, GS_IN_FORCED_SWITCH, t->id, t->process, 0);
        t->gw = GW_SWITCH;
        gs__waitq_push(e, &g->switch_wait, t);
        gs__os_block(e, t, BLK_SWITCH, -1);
        signal_one(e, g, requester);
        return false;
    }
    signal_one(e, g, requester);
    return true;
}

bool gs__gil_exec_check(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    if (g->kind == GS_GIL_CPYTHON3 && g->drop_request && g->holder == t && sees_request(g, t))
        return gs__gil_drop(e, t, false);
    return true;
}

int64_t gs__gil_exec_limit(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    if (g->kind != GS_GIL_CPYTHON2 || t->req.exec != GS_ST_PY || !t->holds_gil)
        return INT64_MAX;
    if (t->tick_end_ns - t->py_exec_ns <= 0)
        t->tick_end_ns = t->py_exec_ns + (int64_t)g->py->check_interval * g->py->tick_ns;
    return t->tick_end_ns - t->py_exec_ns;
}

void gs__gil_exec_tick(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    if (g->kind != GS_GIL_CPYTHON2 || !t->holds_gil || t->tick_end_ns - t->py_exec_ns > 0)
        return;
    /* Release and re-take (Python 2 ceval.c, _Py_Ticker). With a registered
     * waiter the release is a futex wake system call, the lock free
     * meanwhile; the caller's gs__go_on starts it and exec_resume re-takes
     * (or waits) after. A waiter woken by the release may preempt us on this
     * very core first. */
    bool registered = g->sem_waiters > 0;
    gs__gil_drop(e, t, false);
    if (registered && g->py->futex_ns > 0)
        sys_call(t, g->py->futex_ns);
    else if (t->os == OS_ON && !g->locked)
        acquire(e, g, t);
}

void gs__gil_break(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    if (t->os != OS_ON || !t->exec_active || t->req.exec != GS_ST_PY || g->holder != t ||
        !g->drop_request || !sees_request(g, t))
        return;
    gs__os_account(e, t);
    gs__thr_cancel_timer(t);
    gs__gil_drop(e, t, false);
}

/* Free-threaded: an import switched the GIL on for t's process, for good
 * (ft.c; gh-116322). Threads running Python now must take it to go on. */
void gs__gil_switch_on(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    g->kind = GS_GIL_CPYTHON3;
    gs__trace_instant(e->trace, e->now, GS_IN_GIL_ENABLED, t->id, t->process, 0);
    for (int i = 0; i < e->n_thr; i++) {
        gs_thr_t *u = &e->thr[i];
        if (u == t || u->process != t->process || u->os != OS_ON || !u->exec_active ||
            u->req.exec == GS_ST_C_NOGIL)
            continue;
        gs__os_account(e, u);
        gs__thr_cancel_timer(u);
        gs__go_on(e, u);
    }
}
