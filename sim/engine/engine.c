/* engine.c - requests and the run loop, above the kernel and the models.
 *
 * Requests. A body's call (gs_cpu, gs_io...) becomes a request: a short fixed
 * list of micro-steps (hold the GIL, drop it, execute, block, try a lock...).
 * advance() runs the steps while the thread is ON a core; a step that must
 * wait (for the GIL, a core, a timer, a lock) returns, and the thread goes on
 * from the same step when it is ON again. When the list ends the request is
 * complete: e->resume names the thread whose body may continue.
 *
 * The one upcall. The models below (os.c, gil.c) call back into this file
 * through gs__go_on() only: "t has its core (and, if it waited for it, the
 * GIL) again: continue its request". Every other call goes downwards, to the
 * kernel (kernel.c) and to base.
 *
 * The loop. Whoever holds the baton (main thread or a worker) runs
 * gs__engine_next(): it pops events (kernel.c orders them) until some thread
 * must resume, and hands the baton straight to that thread's worker (one
 * hand-off per request).
 *
 * Stops: every thread finished (done); no event left while threads wait
 * (deadlock, with who-waits-for-what); a lock or join cycle (deadlock, found
 * when the cycle closes); the horizon; max_events; a body error. The loop
 * asks stops.c whether one applies (and stops.c words it).
 *
 * Setup and teardown (gs_sim_run: the engine for a model, the loop run to
 * its end, the trace closed, the engine freed) are simrun.c's. */
#include "engine_int.h"
#include "balance.h"
#include "cpost.h"
#include "ft.h"
#include "gil.h"
#include "hrtimer.h"
#include "invariants.h"
#include "kernel.h"
#include "os.h"
#include "startrace.h"
#include "stops.h"
#include "sync.h"
#include "wake.h"
#include "worker.h"

#include <string.h>

/* ---- requests ----------------------------------------------------------------- */

/* A new thread's C entry takes the GIL, then its bootstrap sets the Thread's
 * `_started` Event, waking the starter (threading.py _bootstrap_inner). */
static const micro_t P_BOOT[] = {M_GIL, M_EXEC, M_BOOTED, M_END}; /* M_EXEC: startrace.c */
static const micro_t P_EXEC[] = {M_GIL, M_EXEC, M_END};
static const micro_t P_C_REL[] = {M_GIL, M_DROP, M_EXEC, M_GIL, M_END};
static const micro_t P_BLOCK[] = {M_GIL, M_DROP, M_BLOCK, M_GIL, M_END};
static const micro_t P_ACQ[] = {M_GIL, M_LOCK, M_DROP, M_LOCK_WAIT, M_GIL, M_END};
static const micro_t P_REL[] = {M_GIL, M_UNLOCK, M_END};
static const micro_t P_EVW[] = {M_GIL, M_EV_CHECK, M_DROP, M_EV_WAIT, M_GIL, M_END};
static const micro_t P_EVS[] = {M_GIL, M_EV_SET, M_END};
static const micro_t P_EVC[] = {M_GIL, M_EV_CLEAR, M_END};
/* queue.Queue waits on a Condition: after a wake-up it re-checks with the
 * GIL held, and waits again if it lost the race, after its recheck_ns of
 * Python (M_Q_RECHECK; M_Q_BACK jumps back to the M_DROP). */
static const micro_t P_Q[] = {M_GIL,   M_Q_TRY,     M_DROP,   M_Q_WAIT, M_GIL,
                              M_Q_TRY, M_Q_RECHECK, M_Q_BACK, M_END};
/* A queue whose put/get has its Python (put_ns/get_ns) is queue.Queue as
 * Lib/queue.py writes it: `with self.not_empty:` takes the queue's mutex, a
 * Lock (blocking on it drops the GIL, P_ACQ); the op's Python runs holding
 * it, so a forced GIL switch can leave it held; `not_empty.wait()` releases
 * it and blocks on its waiter lock; the notify (waiter.release(), a futex
 * wake the notifier pays) wakes one waiter, which takes the GIL and then the
 * mutex again before it re-checks (Lib/threading.py Condition.wait). */
static const micro_t P_QM[] = {M_GIL, M_QM_LOCK, M_DROP, M_QM_WAIT, M_GIL, M_QM_OP,
                               M_QM_TRY, M_DROP, M_Q_WAIT, M_GIL, M_QM_AGAIN, M_END};
/* Thread.start: create the OS thread (C code holding the GIL), then
 * `self._started.wait()`: drop the GIL, block until the new thread has held
 * it and set the event, take the GIL back (sync.c step_start_wait). */
static const micro_t P_START[] = {M_GIL, M_EXEC, M_START, M_DROP, M_START_WAIT, M_GIL, M_END};
static const micro_t P_JOIN[] = {M_GIL, M_JOIN_CHECK, M_DROP, M_JOIN_WAIT, M_GIL, M_END};
static const micro_t P_EXIT[] = {M_EXIT, M_END};
/* Until 3.12 the end is posted (the thread state lock released, a futex
 * wake the exiting thread pays) before the final GIL drop (sync.c, join). */
static const micro_t P_EXIT_POST[] = {M_EXIT_POST, M_EXEC, M_EXIT, M_END};
static const micro_t P_FT[] = {M_GIL, M_FT, M_EXEC, M_END};

/* Whether the exiting thread's process posts its end before the final GIL
 * drop (python.exit_posts_early): every version before 3.13, and an unnamed
 * one (the recorder's reference, 3.11). Off by default: the model's post is
 * followed by the drop after only the futex call (real: 90 us, note 43). */
static bool post_before_drop(const gs_model_t *m, int process)
{
    const gs_python_t *py = &m->processes[process].python;
    return py->exit_posts_early && py->version < 313;
}

static const micro_t *req_prog(const gs_model_t *m, const gs_req_t *r, int process)
{
    switch (r->kind) {
    case RQ_BOOT:
        return P_BOOT;
    case RQ_CPU:
        return P_EXEC;
    case RQ_C_CALL: /* a target: the queue it posts at its end (cpost.c) */
        if (r->target >= 0)
            return gs__cpost_prog(r->exec == GS_ST_C_NOGIL);
        return r->exec == GS_ST_C_NOGIL ? P_C_REL : P_EXEC;
    case RQ_IO:
    case RQ_SLEEP:
        return P_BLOCK;
    case RQ_ACQUIRE:
        return P_ACQ;
    case RQ_RELEASE:
        return P_REL;
    case RQ_EV_WAIT:
        return P_EVW;
    case RQ_EV_SET:
        return P_EVS;
    case RQ_EV_CLEAR:
        return P_EVC;
    case RQ_PUT:
    case RQ_GET: {
        const gs_sync_spec_t *q = &m->queues[r->target];
        return (r->kind == RQ_PUT ? q->put_ns : q->get_ns) > 0 ? P_QM : P_Q;
    }
    case RQ_START:
        return P_START;
    case RQ_JOIN:
        return P_JOIN;
    case RQ_EXIT:
        return post_before_drop(m, process) ? P_EXIT_POST : P_EXIT;
    case RQ_GC:
    case RQ_IMPORT:
        return P_FT;
    }
    return P_EXIT;
}

/* A futex call t made to wake another thread (t->debt_ns) runs to its end
 * before t goes on: starts it and says so, or says there is none. */
static bool pay_debt(gs_engine_t *e, gs_thr_t *t)
{
    if (t->debt_ns <= 0)
        return false;
    gs__thr_pay(e, t, t->debt_ns);
    t->debt_ns = 0;
    return true;
}

/* Starts or resumes the current M_EXEC segment. t is ON. */
static void exec_resume(gs_engine_t *e, gs_thr_t *t)
{
    if (gs__gil_sys_resume(e, t))
        return; /* cpython2: still in the release's futex call */
    bool needs_gil = t->req.exec != GS_ST_C_NOGIL && gs__gil_has(e, t);
    if (needs_gil && !t->holds_gil && !gs__gil_take(e, t))
        return; /* waits; gs__go_on brings it back here */
    /* take_gil's wake of a forced dropper (gil.c) is a futex call the
     * new holder finishes before it runs on */
    if (pay_debt(e, t))
        return;
    if (t->mtx_held) {
        gs__gil_mutex_unlock(e, t);
        if (t->os != OS_ON)
            return;
    }
    if (t->req.exec == GS_ST_PY && needs_gil && !gs__gil_exec_check(e, t))
        return; /* dropped on request */
    int64_t span = t->remaining_ns;
    int64_t cap = gs__gil_exec_limit(e, t);
    if (cap < span)
        span = cap;
    t->seg_start_ns = e->now;
    gs__thr_trace(e, t); /* first: it may change how fast t runs (ft.c) */
    gs__thr_timer(e, t, e->now + gs__ft_wall(t, span));
}

static step_res_t step_exec(gs_engine_t *e, gs_thr_t *t)
{
    int64_t ns = t->req.ns;
    const gs_python_t *py = &e->m->processes[t->process].python;
    if (t->req.exec == GS_ST_PY && (py->free_threaded || !gs__gil_has(e, t))) {
        int pct = py->slowdown_pct;
        ns = ns / 100 * pct + ns % 100 * pct / 100;
    }
    if (ns <= 0)
        return STEP_NEXT;
    t->exec_active = true;
    t->remaining_ns = ns;
    exec_resume(e, t);
    return STEP_WAIT;
}

static step_res_t step_block(gs_engine_t *e, gs_thr_t *t)
{
    if (t->in_wait) {
        t->in_wait = false;
        return STEP_NEXT;
    }
    int64_t since = 0;
    if (t->req.kind == RQ_SLEEP && gs__hrtimer_sleep_pays(e, t, t->req.ns, &since))
        return STEP_WAIT; /* its timer's arming first (hrtimer.c) */
    t->in_wait = true;
    gs__os_block(e, t, t->req.kind == RQ_SLEEP ? BLK_SLEEP : BLK_IO, -1);
    /* a sleep is a timer and ends late by the timer slack; I/O completes
     * when the device says so; a timer's lateness may depend on its length */
    if (t->req.kind == RQ_SLEEP)
        gs__hrtimer_arm_since(e, t, t->req.ns, since);
    else
        gs__thr_timer(e, t, e->now + t->req.ns);
    return STEP_WAIT;
}

static step_res_t step_gil(gs_engine_t *e, gs_thr_t *t)
{
    if (!gs__gil_has(e, t))
        return STEP_NEXT;
    if (t->holds_gil) {
        /* The eval breaker between bytecodes: a pending drop request is
         * honoured before the thread goes on (CPython _Py_HandlePending). */
        return gs__gil_exec_check(e, t) ? STEP_NEXT : STEP_WAIT;
    }
    return gs__gil_take(e, t) ? STEP_NEXT : STEP_WAIT;
}

static step_res_t step_exit(gs_engine_t *e, gs_thr_t *t)
{
    /* Leave the core first: the final drop signals a waiter, and a waking
     * waiter may preempt the core it runs on. */
    t->finished = true;
    e->n_finished++;
    if (!t->spec->daemon)
        e->n_lasting_finished++;
    gs__os_exit(e, t);
    if (t->holds_gil)
        gs__gil_drop(e, t, true);
    if (!t->join_posted)
        gs__sync_thread_done(e, t);
    gs__thr_trace(e, t);
    return STEP_WAIT;
}

static step_res_t step_start(gs_engine_t *e, gs_thr_t *t); /* events, below */

/* Runs t's request from its current step until it waits or completes. */
static void advance(gs_engine_t *e, gs_thr_t *t)
{
    while (!e->stopped && t->os == OS_ON) {
        if (pay_debt(e, t)) /* finish the futex call that woke another thread first */
            return;
        if (t->mtx_held) {
            gs__gil_mutex_unlock(e, t); /* then drop_gil's MUTEX_UNLOCK */
            continue;
        }
        micro_t m = t->req.prog[t->req.pc];
        step_res_t r;
        switch (m) {
        case M_END:
            GS_ASSERT(e->resume == NULL);
            e->resume = t;
            gs__thr_trace(e, t);
            return;
        case M_GIL:
            r = step_gil(e, t);
            break;
        case M_DROP:
            t->req.pc++; /* the drop happens now even if a switch wait follows */
            if (gs__gil_has(e, t) && t->holds_gil && !gs__gil_drop(e, t, false))
                return;
            continue;
        case M_EXEC:
            r = step_exec(e, t);
            break;
        case M_QM_OP:
        case M_Q_RECHECK:
            t->req.ns = gs__sync_exec_ns(e, t, m); /* the queue op's Python (sync.c) */
            r = step_exec(e, t);
            break;
        case M_BLOCK:
            r = step_block(e, t);
            break;
        case M_EXIT_POST:
            /* without the GIL it posts after it left, as from 3.13 */
            t->req.ns = t->holds_gil ? e->m->processes[t->process].python.exit_tail_ns : 0;
            t->req.exec = GS_ST_C_GIL; /* the tail, after the post's futex call */
            if (t->holds_gil)
                gs__sync_thread_done(e, t);
            r = STEP_NEXT;
            break;
        case M_EXIT:
            r = step_exit(e, t);
            break;
        case M_FT:
            gs__ft_step(e, t);
            r = STEP_NEXT;
            break;
        case M_START:
            r = step_start(e, t);
            break;
        case M_C_POST:
            r = gs__cpost_step(e, t);
            break;
        default:
            r = gs__sync_step(e, t, m);
        }
        switch (r) {
        case STEP_NEXT:
            t->req.pc++;
            break;
        case STEP_END:
            while (t->req.prog[t->req.pc] != M_END)
                t->req.pc++;
            break;
        case STEP_BACK: /* wait again: back to the step's M_DROP */
            while (t->req.pc > 0 && t->req.prog[t->req.pc] != M_DROP)
                t->req.pc--;
            break;
        case STEP_WAIT:
            return;
        }
    }
}

void gs__go_on(gs_engine_t *e, gs_thr_t *t)
{
    if (t->os != OS_ON || e->stopped)
        return;
    gs__thr_check(e, t, "gs__go_on");
    t->paying = false;
    if (gs__gil_resume(e, t))
        return; /* a GIL wait goes on first */
    if (t->exec_active)
        exec_resume(e, t);
    else
        advance(e, t);
}

void gs__submit(gs_engine_t *e, gs_thr_t *t)
{
    t->req.prog = req_prog(e->m, &t->req, t->process);
    t->req.pc = 0;
    e->n_events++; /* a request counts against max_events: zero-time loops end */
    advance(e, t);
}

/* ---- events ------------------------------------------------------------------- */

static void on_timer(gs_engine_t *e, gs_thr_t *t)
{
    if (gs__gil_on_timer(e, t))
        return;
    if (t->paying && t->exec_active && t->os == OS_ON) {
        t->paying = false;
        exec_resume(e, t); /* its futex call is over: back to its work */
    } else if (t->exec_active && t->os == OS_ON) {
        gs__os_account(e, t);
        if (t->remaining_ns <= 0) {
            t->exec_active = false;
            t->req.pc++;
            advance(e, t);
        } else {
            gs__gil_exec_tick(e, t); /* a cpython2 check interval ended */
            gs__go_on(e, t);
        }
    } else if (t->paying && t->os == OS_ON) {
        t->paying = false;
        gs__thr_trace(e, t);
        advance(e, t);
    } else if (t->os == OS_OFF && t->blk == BLK_SLEEP) {
        gs__os_wake_timer(e, t); /* its own slack timer (step_block) */
    } else if (t->os == OS_OFF && t->blk == BLK_IO) {
        gs__os_wake(e, t);
    } else if (t->os == OS_OFF && t->gw == GW_COND) {
        gs__gil_timeout(e, t);
    }
}

/* t starts; starter: the thread whose start op it is, NULL for a scheduled
 * start (placement "previous" puts it against the starter's core). */
static void on_start(gs_engine_t *e, gs_thr_t *t, gs_thr_t *starter)
{
    e->n_start_pending--;
    t->start_pending = false;
    t->started = true;
    e->n_started++;
    memset(&t->req, 0, sizeof t->req);
    t->req.kind = RQ_BOOT;
    t->req.prog = gs__start_boot(e, t, P_BOOT); /* its bootstrap's Python (startrace.c) */
    t->os = OS_OFF;
    t->blk = BLK_NONE;
    if (e->m->machine.keep_core && starter && starter->os == OS_ON)
        gs__os_wake_from(e, starter, t); /* placed against its starter's core */
    else
        gs__os_wake(e, t); /* no waker: no wake_affine draw */
}

/* Thread.start's _start_new_thread (3.13+: _start_joinable_thread): the
 * starter has paid the creation as C code holding the GIL; the clone at its
 * end makes the new thread runnable now, a few microseconds before the
 * starter reaches `_started.wait()` and drops the GIL. A thread of a process
 * not yet created starts when it is. */
static step_res_t step_start(gs_engine_t *e, gs_thr_t *t)
{
    gs_thr_t *s = &e->thr[t->req.target];
    if (s->started || s->start_pending) {
        gs__stop(e, GS_OUT_ERROR, "%s: started a thread twice (threads can only be started once)",
                 gs__thr_name(t));
        return STEP_WAIT;
    }
    const gs_process_spec_t *p = &e->m->processes[s->process];
    if (e->now < p->start_at_ns + p->create_ns) {
        gs__schedule_start(e, s, p->start_at_ns + p->create_ns);
        return STEP_NEXT;
    }
    s->start_pending = true;
    e->n_start_pending++;
    on_start(e, s, t);
    return STEP_NEXT;
}

gs_thr_t *gs__engine_next(gs_engine_t *e)
{
    for (;;) {
        if (!e->stopped && !gs__limits_quiet(e) && gs__stop_limits(e)) {
            e->resume = NULL;
            return NULL;
        }
        if (e->resume) {
            gs_thr_t *t = e->resume;
            e->resume = NULL;
            if (t->ah_n > 0) {
                gs__ahead_next(e, t); /* made ahead: started without its body */
                continue;
            }
            return t;
        }
        if (!gs__events_go_on(e) && gs__stop_before_event(e))
            return NULL;
        gs_event_t ev = gs__ev_pop(e);
        switch (gs__ev_kind(&ev)) {
        case EV_TIMER:
            if (ev.gen != e->thr[ev.id].tgen)
                continue; /* cancelled: not counted */
            e->now = ev.t_ns;
            if (gs__hrtimer_fired(&e->thr[ev.id])) {
                /* the interrupt expires its core's other due slack timers */
                on_timer(e, &e->thr[ev.id]);
                for (gs_thr_t *u; (u = gs__hrtimer_due(e, &e->thr[ev.id])) != NULL;)
                    on_timer(e, u);
            } else {
                on_timer(e, &e->thr[ev.id]);
            }
            break;
        case EV_BREAK:
            e->now = ev.t_ns;
            gs__gil_break(e, &e->thr[ev.id]);
            break;
        case EV_CORE:
            if (ev.gen != e->cores[ev.id].gen)
                continue;
            e->now = ev.t_ns;
            gs__balance_core_event(e, &e->cores[ev.id]); /* os.c's, then balance.c's */
            break;
        case EV_START:
            e->now = ev.t_ns;
            on_start(e, &e->thr[ev.id], NULL);
            break;
        case EV_FT:
            e->now = ev.t_ns;
            gs__ft_retime(e, ev.id);
            break;
        }
        e->n_events++;
    }
}

/* ---- primitives --------------------------------------------------------------- */

static int request(gs_ctx_t *c, req_kind_t k, int64_t ns, gs_state_t exec, int target)
{
    /* a shared access (gs_touch_cpu) is for its own cpu request only */
    gs_ahead_t a = {.req = {.kind = k, .ns = ns < 0 ? 0 : ns, .exec = exec, .target = target}};
    return gs__request(c, &a);
}

int gs_cpu(gs_ctx_t *c, int64_t ns)
{
    return request(c, RQ_CPU, ns, GS_ST_PY, -1);
}
int gs_touch_cpu(gs_ctx_t *c, int64_t ns, int object, bool writes, int64_t every_ns)
{
    if (object < 0 || object >= c->e->m->n_objects || every_ns <= 0)
        return gs_cpu(c, ns);
    gs_ahead_t a = {.req = {.kind = RQ_CPU, .ns = ns < 0 ? 0 : ns, .exec = GS_ST_PY, .target = -1},
                    .acc_obj = object + 1,
                    .acc_writes = writes,
                    .acc_every = every_ns};
    int r = gs__request(c, &a);
    if (!c->ah_mode)
        c->acc_obj = 0; /* done; ahead, the engine still runs it */
    return r;
}
int gs_gc(gs_ctx_t *c, int64_t ns)
{
    return request(c, RQ_GC, ns, GS_ST_C_GIL, 0);
}
int gs_import(gs_ctx_t *c, int64_t ns, bool free_threading)
{
    return request(c, RQ_IMPORT, ns, GS_ST_C_GIL, free_threading);
}
int gs_io(gs_ctx_t *c, int64_t ns)
{
    return request(c, RQ_IO, ns, GS_ST_PY, -1);
}
int gs_sleep(gs_ctx_t *c, int64_t ns)
{
    return request(c, RQ_SLEEP, ns, GS_ST_PY, -1);
}
int gs_c_call(gs_ctx_t *c, int64_t ns, bool releases_gil)
{
    return request(c, RQ_C_CALL, ns, releases_gil ? GS_ST_C_NOGIL : GS_ST_C_GIL, -1);
}
int gs_c_call_post(gs_ctx_t *c, int64_t ns, bool releases_gil, int queue)
{
    if (queue < 0 || queue >= c->e->m->n_queues || c->e->m->queues[queue].maxsize != 0)
        return GS_EINVAL; /* gs_model_check refuses such an op of a program */
    return request(c, RQ_C_CALL, ns, releases_gil ? GS_ST_C_NOGIL : GS_ST_C_GIL, queue);
}
int gs_acquire(gs_ctx_t *c, int lock)
{
    return request(c, RQ_ACQUIRE, 0, GS_ST_PY, lock);
}
int gs_release(gs_ctx_t *c, int lock)
{
    return request(c, RQ_RELEASE, 0, GS_ST_PY, lock);
}
int gs_event_wait(gs_ctx_t *c, int event)
{
    return request(c, RQ_EV_WAIT, 0, GS_ST_PY, event);
}
int gs_event_set(gs_ctx_t *c, int event)
{
    return request(c, RQ_EV_SET, 0, GS_ST_PY, event);
}
int gs_event_clear(gs_ctx_t *c, int event)
{
    return request(c, RQ_EV_CLEAR, 0, GS_ST_PY, event);
}
bool gs_event_is_set(gs_ctx_t *c, int event)
{
    gs_engine_t *e = c->e;
    if (event < 0 || event >= e->m->n_events)
        return false;
    gs__ahead_sync(c); /* the flag as of its last request's end */
    /* No request: the flag is read under the baton. A body that only polls
     * (an until loop whose body skips everything) never hands the baton
     * back, so a poll counts as an event, and the one that reaches the
     * limit goes through the engine, which stops the run there. */
    if (++e->n_events >= e->max_events) {
        request(c, RQ_CPU, 0, GS_ST_PY, -1);
        gs__ahead_sync(c);
    }
    return e->events[event].flag;
}
int gs_queue_put(gs_ctx_t *c, int queue)
{
    return request(c, RQ_PUT, 0, GS_ST_PY, queue);
}
int gs_queue_get(gs_ctx_t *c, int queue)
{
    return request(c, RQ_GET, 0, GS_ST_PY, queue);
}
int gs_thread_start(gs_ctx_t *c, int thread)
{
    int64_t cost = c->e->m->processes[c->process].python.thread_create_ns;
    return request(c, RQ_START, cost, GS_ST_C_GIL, thread);
}
int gs_thread_join(gs_ctx_t *c, int thread)
{
    return request(c, RQ_JOIN, 0, GS_ST_PY, thread);
}

int64_t gs_now(const gs_ctx_t *c)
{
    GS_ASSERT(!c->ah_mode); /* only op programs run ahead, and they never ask */
    return c->e->now;
}
int gs_self(const gs_ctx_t *c)
{
    return c->id;
}
uint64_t gs_rand(gs_ctx_t *c)
{
    return gs__rng_next(&c->rng);
}
int64_t gs_draw(gs_ctx_t *c, const gs_dur_t *d)
{
    return gs__rng_draw(&c->rng, d);
}
void gs_set_op(gs_ctx_t *c, uint32_t op)
{
    if (c->ah_mode)
        c->ah_op = op; /* the engine still runs the request before */
    else
        c->op = op;
}
