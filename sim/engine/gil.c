/* gil.c - the Global Interpreter Lock, one per process.
 *
 * cpython3 (3.2 and later; Python/ceval_gil.c):
 *   take: if the GIL is free, take it. Otherwise wait on the GIL condition
 *     for at most switch_interval (a futex wait with a timeout: a timer with
 *     slack, which ends with its core's other due ones, hrtimer.c). On a timeout, if the GIL is still held and
 *     switch_number has not moved since the wait began, set drop_request.
 *     Wait again. Waking up (by timeout or signal) needs a core, like any
 *     execution: the waiter becomes runnable and goes through the OS.
 *   the holder looks at drop_request between bytecodes (eval breaker): a
 *     Python segment is interrupted at once (EV_BREAK); a C call that keeps
 *     the GIL looks at nothing until it returns.
 *   drop: release and signal the condition variable (below), holding the
 *     GIL's mutex: a woken sleeper that preempts its signaller on its core
 *     sleeps on that mutex (GW_MUTEX) until the signaller is back and
 *     unlocks it, which wakes it again (gs__gil_mutex_unlock); with
 *     python.gil_mutex_all (off) so does any thread that asks for the GIL or
 *     leaves its wait meanwhile, however the signaller lost its core
 *     (mutex_taken: nobody takes the GIL). If the drop
 *     was requested (drop_request set) the dropper then waits until another
 *     thread has taken the GIL (FORCE_SWITCHING), so it cannot win it back at
 *     once; the drop request is reset there and by the next taker, whose
 *     signal of switch_cond wakes the dropper: a futex wake it pays like any
 *     other (futex, plus wake_ipi when the dropper's core is idle), holding
 *     the GIL, before it runs on.
 *   the condition variable is glibc's (nptl/pthread_cond_wait.c; condvar.c): a waiter
 *     joins G2; a signal goes to G1 (turning G2 into G1 first when G1 is all
 *     signalled) and may be taken by any G1 waiter. A waiter still within
 *     `futex` of entering its wait takes it without sleeping (no wake-up
 *     latency; not when the signaller runs on the core that waiter left,
 *     which it got after the waiter was asleep: cv_entering); the futex
 *     wake goes to the longest sleeper of G1 all the same and, if the
 *     signal is gone, is futile (back to sleep, end of queue). A timed-out
 *     waiter leaves its group when it runs (cancel); if its signal was
 *     already posted it sends a replacement.
 *   the race: the requester holds the GIL mutex until it is back in its wait,
 *     the holder locks it to drop; a seeded draw (requester_first, or
 *     requester_first_idle at the idle depth of the requester's core as its
 *     wait ran out: race_pct) says who is first. Holder first: it drops at once (the requester is still in its
 *     futex window). Requester first: the holder drops one futex call and one
 *     wake-up later, when the requester sleeps (cvrace.c: the keys that differ).
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
 *   sem_post makes a futex wake system call on the holder's core, the lock
 *   free meanwhile. When it finds a sleeper it wakes it, and costs what any
 *   wake of a blocked thread costs its waker (machine.futex, plus
 *   machine.wake_ipi when the sleeper goes to another, idle core; or
 *   python.futex if set). When the registered waiter is awake (on its way to
 *   its core, or back in sem_wait) the call finds nobody queued: a bare
 *   system call, machine.syscall. The woken waiter needs wake-up latency and
 *   a core; if the lock is free it takes it, otherwise (a futile wake-up) it
 *   makes its own futex_wait call (machine.futex) and sleeps again unless
 *   the lock is free at its end. On several cores the waiter spends most of
 *   its time travelling to its core, so nearly every release is a bare
 *   system call, and each of its wake-ups costs the holder an interrupt to
 *   the waiter's idle core: the GIL battle's two costs. No
 *   timeouts, no drop requests.
 * none: no GIL at all (see gs__gil_has).
 * Transitions: FREE -> HELD [take], HELD -> FREE [drop].
 * Invariants: at most one holder; holder->holds_gil; with gil_mutex_all no
 * take while mtx_holder (a preempted dropper) has the mutex; a waiter asleep or
 * entering is OFF with gw == GW_COND and is in `waiters`; a timed-out cpython3
 * waiter stays in `waiters` until it cancels on a core; g1_size + g1_signals
 * never exceeds the G1 waiters; a forced dropper is in `switch_wait`.
 * sem_waiters counts the threads with sem_waiting (cpython2); a thread with
 * in_sys is ON and does not hold the GIL. */
#include "gil.h"
#include "engine_int.h"
#include "condvar.h"
#include "cvrace.h"
#include "hrtimer.h"
#include "kernel.h"
#include "os.h"
#include "wake.h"

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
    g->g1 = 0; /* a fresh condvar: G1 closed and empty, G2 open */
    g->g2 = 1;
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
        /* take_gil signals switch_cond: a futex wake of the forced dropper,
         * asleep on its own core, which the new holder pays (the system
         * call, and the IPI when that core is idle) holding the GIL */
        gs_thr_t *w;
        while ((w = gs__waitq_pop(&g->switch_wait)) != NULL) {
            w->gw = GW_SWITCHED;
            gs__os_wake_by(e, t, w); /* back to its own core if idle (place.c) */
        }
    }
    gs__trace_gil(e->trace, g->process, e->now, t->id);
    gs__thr_trace(e, t);
}

static bool cv(const gs_gil_t *g)
{
    return g->kind == GS_GIL_CPYTHON3;
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
    if (cv(g)) {
        /* pthread_cond_timedwait: a place in G2, release the mutex, then one
         * futex call until it is asleep */
        t->cv_group = g->g2;
        t->cv_consumed = false;
        t->cv_asleep_ns = e->now + e->m->machine.futex_ns;
        t->cv_sleep_seq = g->sleep_seq++;
    }
    gs__os_block(e, t, BLK_GIL, -1);
    if (cv(g)) { /* a futex wait with a timeout: a slack timer (hrtimer.c) */
        t->tarm_owed_ns += gs__hrtimer_arm_cost(e, t, g->py->switch_interval_ns);
        t->cv_deadline_ns = gs__hrtimer_arm(e, t, g->py->switch_interval_ns);
    }
}

static bool mutex_taken(gs_engine_t *e, gs_gil_t *g, gs_thr_t *t, uint8_t gw);

bool gs__gil_take(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    if (mutex_taken(e, g, t, GW_NONE))
        return false;
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
    /* The futex wait timed out; the waiter leaves the condvar (cancels) when
     * it runs again, so until then it still counts in its group. */
    if (!cv(g))
        gs__waitq_remove(&g->waiters, t);
    t->gw = GW_TIMEDOUT;
    t->rf_depth_ns = 0;
    t->rf_after_own = false;
    if (t->last_core >= 0) {
        const gs_core_t *c = &e->cores[t->last_core];
        const gs_thr_t *last = c->mode != CORE_IDLE ? c->cur
                               : c->last_thread >= 0 ? &e->thr[c->last_thread]
                                                     : NULL;
        if (c->mode == CORE_IDLE)
            t->rf_depth_ns = e->now - c->idle_since_ns;
        t->rf_after_own = last && last != t && last->process == t->process &&
                          t->rf_depth_ns < 100000;
    }
    gs__trace_instant(e->trace, e->now, GS_IN_TIMEOUT, t->id, t->process, 0);
    gs__os_wake_timer(e, t); /* its futex's timeout: a slack timer on its core */
}

/* cpython2: the lock's waiters, FIFO or seeded random. The releaser `by`
 * pays its sem_post itself (release_ns); where the woken one runs follows the
 * machine's wake-up placement. */
static void signal_one(gs_engine_t *e, gs_gil_t *g, gs_thr_t *by)
{
    if (g->waiters.n == 0)
        return;
    int i = 0;
    if (g->py->waker == GS_WAKE_RANDOM)
        i = (int)(gs__rng_next(&g->rng) % (uint64_t)g->waiters.n);
    gs_thr_t *w = gs__waitq_take(&g->waiters, i);
    gs__thr_cancel_timer(w);
    w->gw = GW_SIGNALED;
    gs__trace_instant(e->trace, e->now, GS_IN_SIGNAL, w->id, w->process, 0);
    gs__os_wake_from(e, by, w);
    g->sem_woken = w;
}

/* The chance in % that requester t wins the race of a drop request
 * (request_drop, below): requester_first, or with requester_first_idle the
 * curve at the idle depth of t's core as its timed wait ran out. Traced on
 * this machine (tests/reality/race_trace.py), the requester's path from its
 * timeout to its unlock is slower after a deeper idle, so the holder reaches
 * the mutex first more often and the requester is in its futex at the
 * signal more often after 5 ms than after 1 ms; how often moves with the
 * machine itself (docs/model.md, "The race, traced"). */
static int race_pct(const gs_engine_t *e, const gs_thr_t *t)
{
    const gs_machine_t *m = &e->m->machine;
    if (t->rf_after_own && m->requester_first_own_pct >= 0)
        return m->requester_first_own_pct;
    if (m->n_rf_curve <= 0)
        return m->requester_first_pct;
    return (int)gs__curve_at(m->n_rf_curve, m->rf_idle_ns, m->rf_pct, t->rf_depth_ns);
}

/* The holder sees the drop request and drops. Who reaches the GIL mutex first
 * is a race of a few hundred nanoseconds of user code on either side (the
 * requester still holds the mutex until it is inside pthread_cond_timedwait;
 * the holder reaches its next eval-breaker check): the model tosses a seeded
 * coin. The holder first: it drops at once, while the requester is still
 * entering its futex wait. The requester first: the holder blocks on the
 * mutex, is woken by the requester's unlock (a futex call and a wake-up), and
 * drops when the requester is asleep. */
static void request_drop(gs_engine_t *e, gs_gil_t *g, gs_thr_t *t)
{
    g->drop_request = true;
    g->requester = t;
    g->request_ns = e->now;
    gs__trace_drop_request(e->trace, g->process, e->now, t->id);
    g->request_interp = t->spec->interpreter;
    gs__trace_instant(e->trace, e->now, GS_IN_DROP_REQUEST, t->id, t->process, g->holder->id);
    int64_t d = 0;
    if ((int)(gs__rng_next(&g->rng) % 100) < race_pct(e, t))
        d = gs__cvrace_holder_wait_ns(e);
    g->drop_at_ns = e->now + d;
    if (sees_request(g, g->holder))
        gs__ev_push(e, e->now + d, EV_BREAK, g->holder->id, 0);
}

/* cpython2: t stays on its core for sys_ns in a futex call (in_sys). */
static void sys_call(gs_thr_t *t, int64_t ns)
{
    t->in_sys = true;
    t->sys_ns = ns;
}

/* cpython2: a woken waiter on its core, in sem_wait (glibc
 * nptl/sem_waitcommon.c): it takes the lock if it is free. Otherwise it
 * calls futex_wait on the semaphore's word, one bare system call
 * (machine.futex), whose compare finds the lock still taken: it sleeps
 * again, still registered, unless the lock is free when the call ends.
 * `first`: it has just arrived (woken) and has not made the call yet. */
static void sem_try(gs_engine_t *e, gs_gil_t *g, gs_thr_t *t, bool first)
{
    if (!g->locked) {
        t->gw = GW_NONE;
        acquire(e, g, t);
        gs__go_on(e, t);
        return;
    }
    if (first)
        gs__trace_instant(e->trace, e->now, GS_IN_FUTILE_WAKEUP, t->id, t->process, 0);
    int64_t bare = e->m->machine.futex_ns;
    if (first && bare > 0) {
        t->gw = GW_SIGNALED;
        sys_call(t, bare);
        gs__gil_sys_resume(e, t);
        return;
    }
    wait_cond(e, g, t);
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
    if (t->tarm_paying) {
        /* a GIL waiter's clock event reprograms are paid (on_core); not ON:
         * it was preempted meanwhile, and on_core sees to it */
        if (t->os == OS_ON) {
            gs__os_account(e, t);
            t->tarm_paying = false;
            gs__go_on(e, t);
        }
        return true;
    }
    if (!t->in_sys || t->os != OS_ON)
        return false;
    gs__os_account(e, t);
    t->in_sys = false;
    t->sys_ns = 0;
    gs_gil_t *g = gs__gil_of(e, t);
    if (t->gw == GW_SIGNALED) {
        sem_try(e, g, t, false); /* its futex_wait's end */
        return true;
    }
    gs__go_on(e, t); /* the holder's release is over: take the lock again */
    return true;
}

static bool mutex_blocks(gs_engine_t *e, gs_thr_t *w);

static void on_core(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    if (gs__gil_sys_resume(e, t))
        return;
    if (cv(g) && mutex_blocks(e, t))
        return;
    if (t->tarm_paying) {
        /* preempted while paying its clock event reprograms: the rest of
         * that kernel time is not charged again */
        t->tarm_paying = false;
        gs__thr_cancel_timer(t);
    } else if (t->tarm_owed_ns > 0) {
        /* its timed wait's arming and cancel reprogrammed the core's clock
         * event device (hrtimer.c): paid on its core, in the futex call,
         * before glibc looks for a signal. The arming is paid here, late,
         * rather than as it went to sleep: the core time is the same. */
        t->tarm_paying = true;
        gs__thr_pay(e, t, t->tarm_owed_ns); /* in a futex call: not Python work */
        t->tarm_owed_ns = 0;
        return;
    }
    bool timed_out = t->gw == GW_TIMEDOUT;
    if (cv(g)) {
        if (!gs__condvar_on_core(e, g, t, &timed_out))
            return;
        if (t->os != OS_ON) {
            /* the replacement signal woke a thread that preempted this one */
            t->gw = GW_LEFT;
            t->cv_timed_out = timed_out;
            return;
        }
        t->cv_timed_out = timed_out; /* out of the condvar: its return path */
        if (mutex_taken(e, g, t, GW_LEFT))
            return;
    }
    if (!g->locked) {
        t->gw = GW_NONE;
        acquire(e, g, t);
        gs__go_on(e, t);
        return;
    }
    if (timed_out && cv(g) && g->switch_number == t->saved_switch) {
        if (!g->drop_request)
            request_drop(e, g, t);
    } else if (!timed_out) {
        if (g->kind == GS_GIL_CPYTHON2) {
            sem_try(e, g, t, true);
            return;
        }
        gs__trace_instant(e->trace, e->now, GS_IN_FUTILE_WAKEUP, t->id, t->process, 0);
    }
    wait_cond(e, g, t);
}

bool gs__gil_resume(gs_engine_t *e, gs_thr_t *t)
{
    if (t->gw == GW_TIMEDOUT || t->gw == GW_SIGNALED || t->gw == GW_LEFT) {
        on_core(e, t);
        return true;
    }
    if (t->gw == GW_SWITCHED)
        t->gw = GW_NONE;
    return false;
}

static void signal(gs_engine_t *e, gs_gil_t *g, gs_thr_t *by)
{
    if (cv(g))
        gs__condvar_signal(e, g, by);
    else
        signal_one(e, g, by);
}

/* drop_gil signals gil->cond holding gil->mutex (MUTEX_LOCK, locked = 0,
 * COND_SIGNAL, MUTEX_UNLOCK). A sleeper the signal woke that preempted its
 * signaller on the signaller's core (EEVDF wake-up preemption) runs into
 * that mutex in take_gil before the signaller could unlock it: it blocks on
 * it (mutex_blocks) until the signaller, back on its core and done with its
 * futex call, unlocks it (gs__gil_mutex_unlock). The signal's wake-up
 * may also preempt the signaller for another ready thread (a shared queue's
 * pick): it holds the mutex all the same, and whoever reaches it waits
 * (mutex_taken, python.gil_mutex_all). c: t's core before the signal. */
static void mutex_held_across(gs_gil_t *g, gs_thr_t *t, const gs_core_t *c)
{
    gs_thr_t *w = g->cv_woken;
    bool woken_here = w && w->core == c;
    if (!c || t->os != OS_READY || (!woken_here && !g->py->gil_mutex_all))
        return;
    t->mtx_held = true;
    g->mtx_holder = t; /* with gil_mutex_all everyone waits (mutex_taken) */
    if (!woken_here)
        return;
    t->mtx_waiter = w;
    w->mtx_owner = t;
}

/* The woken waiter w on its core: if its signaller still holds the mutex,
 * it sleeps on it (true). */
static bool mutex_blocks(gs_engine_t *e, gs_thr_t *w)
{
    gs_thr_t *o = w->mtx_owner;
    if (!o)
        return false;
    GS_ASSERT(o->mtx_held && o->mtx_waiter == w);
    w->mtx_gw = (uint8_t)w->gw;
    w->gw = GW_MUTEX;
    gs__os_block(e, w, BLK_GIL, -1);
    return true;
}

/* drop_gil signals gil->cond before a forced dropper waits on switch_cond,
 * its core still busy (Python/ceval_gil.c: COND_SIGNAL, then the
 * FORCE_SWITCHING wait). With per-core run queues that decides where the
 * woken waiter runs: the dropper's core is not idle, so the waiter goes to
 * an idle one, its previous core first (Linux select_task_rq_fair:
 * wake_affine_idle, select_idle_sibling), and the dropper, woken from
 * switch_cond tens of microseconds later, finds its own core idle again.
 * Blocking first instead gives the waiter the dropper's core, and the
 * dropper, woken with both cores busy, waits for a tick: in a recording of
 * three hashing threads beside a spinner (tests/data/reality/
 * blocking_c_1spinner.rec.json) the spinner runs again within 78 us of 90%
 * of its 167 forced switches; the model blocking first left it without a
 * core 2-9 ms after a quarter of them. The signal's futex call is made on the
 * dropper's core; it is not charged (the dropper blocks at once, os.c drops
 * a debt it blocks with), as it was not when the dropper signalled asleep.
 * Shared run queue: the old order (blocking first: the golden corpus and
 * the condvar tests of check_mechanisms.c are stated with it), except where
 * the dropper may run on one core only (one core, or a program confined to
 * one CPU, `cpus`): there the waiter can only be queued on the dropper's
 * core, and the order decides the dropper's lag. Signalling first, the
 * waiter is queued, or preempts the dropper, while the dropper is still
 * runnable, so the dropper, which has run the whole interval, is behind the
 * waiter's lag in EEVDF's V and gets the core again only once the new
 * holder has caught up with it, about an interval later (real one-CPU
 * recordings of io_two_cpu.py, taskset -c 0: the dropper asks again p50
 * 4.2-4.8 ms after its drop). Blocking first, it left alone on its queue
 * with no lag and was back at the next tick or slice end (p50 1.1 ms), and
 * the one-CPU replay's I/O thread waited 25 intervals a call where the real
 * one waits 3 (tests/reality/replay_notes.md point 17). With several cores
 * all busy the order matters the same way; signalling first there too
 * moves two golden scenarios (lesson 10, tests/scenario/good/
 * issue_example.json) and four of the condvar tests: not done yet. */
static bool forced_signal_first(const gs_engine_t *e, const gs_thr_t *t)
{
    if (gs__percpu_v(e))
        return true;
    int n = 0;
    for (int i = 0; i < e->n_cores && n < 2; i++)
        n += gs__allowed(t, &e->cores[i]);
    return n < 2;
}

bool gs__gil_drop(gs_engine_t *e, gs_thr_t *t, bool final)
{
    gs_gil_t *g = gs__gil_of(e, t);
    GS_ASSERT(g->holder == t);
    bool forced = !final && g->kind == GS_GIL_CPYTHON3 && g->drop_request && sees_request(g, t);
    g->locked = false;
    g->holder = NULL;
    t->holds_gil = false;
    gs__trace_gil(e->trace, g->process, e->now, -1);
    gs__thr_trace(e, t);
    if (forced && g->last_holder == t) {
        /* FORCE_SWITCHING: wait on switch_cond until someone else took it,
         * after the signal (CPython's order) or, with the shared queue and
         * more than one core for it, before it (forced_signal_first) */
        g->drop_request = false;
        gs__trace_drop_request(e->trace, g->process, e->now, -1);
        gs__trace_instant(e->trace, e->now, GS_IN_FORCED_SWITCH, t->id, t->process, 0);
        bool first = forced_signal_first(e, t);
        if (first) {
            signal(e, g, t);
            if (t->os != OS_ON)
                return false; /* the woken waiter preempted it on its core (no
                               * idle core): it takes the GIL before the
                               * dropper is back, which then finds it taken */
        }
        t->gw = GW_SWITCH;
        gs__waitq_push(e, &g->switch_wait, t);
        gs__os_block(e, t, BLK_SWITCH, -1);
        if (!first)
            signal(e, g, t);
        return false;
    }
    gs_core_t *c = t->core;
    g->cv_woken = NULL;
    signal(e, g, t);
    if (cv(g))
        mutex_held_across(g, t, c);
    return true;
}

/* take_gil begins with MUTEX_LOCK(gil->mutex), and a condition wait returns
 * through the same lock: while a preempted dropper holds it, every thread
 * that gets there (not only the waiter that preempted it) sleeps on it
 * (glibc lll_lock_wait) until the dropper, back on a core, unlocks it
 * (gs__gil_mutex_unlock); nobody takes the GIL meanwhile, though it is free.
 * In the quiet recordings a drop_gil whose signal and release lie 0.3 ms or
 * more apart (45 of them) never has another thread's hold inside, only asks
 * (tests/reality/mutex_gaps.py). Only with python.gil_mutex_all (off:
 * it doubles the Event ping-pong beside a CPU thread, whose sleepers this
 * version wakes all at once at the unlock): its replay table is a wash, knife-edge rows both ways at seeds
 * 1-3, and without it the model lets others hold the GIL inside such a
 * window, which CPython cannot (replay notes 48, 50). The convoy beside a
 * busy program, which once seemed to argue against it, is a run that
 * settles late or early by seed, with or without the key (wait_core.py). A sleeper here is woken on
 * the unlock's wake as any futex waiter: glibc's default mutex does not spin
 * (lll_lock_wait: futex_wait while the word is 2). gw: what t goes on with
 * once woken. */
static bool mutex_taken(gs_engine_t *e, gs_gil_t *g, gs_thr_t *t, uint8_t gw)
{
    gs_thr_t *o = cv(g) && g->py->gil_mutex_all ? g->mtx_holder : NULL;
    if (!o || o == t)
        return false;
    t->mtx_gw = gw;
    t->gw = GW_MUTEX;
    gs__waitq_push(e, &g->mtx_wait, t);
    gs__os_block(e, t, BLK_GIL, -1);
    return true;
}

/* A preempted dropper is back on a core, its futex call over: it unlocks
 * the GIL's mutex, which wakes the waiter blocked on it (a futex wake it
 * pays); a waiter that has not reached the mutex yet finds it free. */
void gs__gil_mutex_unlock(gs_engine_t *e, gs_thr_t *t)
{
    gs_thr_t *w = t->mtx_waiter;
    t->mtx_held = false;
    t->mtx_waiter = NULL;
    gs__gil_of(e, t)->mtx_holder = NULL;
    if (w)
        w->mtx_owner = NULL;
    if (w && w->gw == GW_MUTEX) {
        w->gw = w->mtx_gw;
        gs__os_wake_by(e, t, w);
    }
    /* the others that ran into the mutex: glibc wakes one per unlock, each
     * the next as it unlocks in turn; woken together here, the first on a
     * core takes the GIL */
    gs_gil_t *g = gs__gil_of(e, t);
    gs_thr_t *x;
    while ((x = gs__waitq_pop(&g->mtx_wait)) != NULL) {
        x->gw = x->mtx_gw;
        gs__os_wake_by(e, t, x);
    }
}

bool gs__gil_exec_check(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    if (g->kind == GS_GIL_CPYTHON3 && g->drop_request && g->holder == t && sees_request(g, t) &&
        gs__cvrace_drop_due(e, g))
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

/* cpython2: what the holder's release (sem_post) cost it, looked at after
 * the post (the wake, if any, has placed the woken thread). Nobody
 * registered: nothing (user space only). A registered waiter asleep in the
 * futex: sem_post's futex_wake wakes it, which costs what waking any blocked
 * thread costs its waker (os.c: machine.futex, and machine.wake_ipi when the
 * sleeper goes to another, idle core), unless python.futex sets the cost.
 * Registered but awake (woken by an earlier post and still on its way to the
 * lock, or in sem_wait's loop): sem_post still calls futex_wake, which finds
 * nobody queued on the futex and returns: a bare system call,
 * machine.syscall. */
static int64_t release_ns(const gs_engine_t *e, const gs_gil_t *g, const gs_thr_t *t,
                          bool registered)
{
    if (!registered)
        return 0;
    if (!g->sem_woken)
        return e->m->machine.syscall_ns;
    if (g->py->futex_ns > 0)
        return g->py->futex_ns;
    return gs__os_wake_cost(e, t, g->sem_woken);
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
    g->sem_woken = NULL;
    gs__gil_drop(e, t, false);
    int64_t ns = release_ns(e, g, t, registered);
    if (ns > 0)
        sys_call(t, ns);
    else if (t->os == OS_ON && !g->locked)
        acquire(e, g, t);
}

void gs__gil_break(gs_engine_t *e, gs_thr_t *t)
{
    gs_gil_t *g = gs__gil_of(e, t);
    if (t->os != OS_ON || !t->exec_active || t->req.exec != GS_ST_PY || g->holder != t ||
        !g->drop_request || !sees_request(g, t) || t->paying)
        return; /* paying: still in take_gil's futex call; exec_resume looks after it */
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
