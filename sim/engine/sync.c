/* sync.c - Python-level Lock/RLock, Event, bounded Queue, start and join.
 *
 * Every blocking operation first tries without releasing the GIL; if it must
 * wait, it drops the GIL, blocks (no core), and takes the GIL again after it
 * is woken (CPython acquire_timed: Py_BEGIN/END_ALLOW_THREADS).
 *   Lock: release frees the lock and wakes the oldest waiter, without handing
 *     it over (sem_post semantics): a running thread may take it first, and
 *     the woken waiter then waits again. Any thread may release a Lock; the
 *     "owner" kept here is its last acquirer, for deadlock reports.
 *   RLock: an owner and a depth. Event: set wakes every waiter; waiters
 *     that were notified return even if the event is cleared before they run.
 *   Queue (queue.Queue over a Condition): put waits while full, get while
 *     empty; a woken waiter re-checks with the GIL held (for the queue's
 *     recheck_ns of Python when it must wait again). A queue with the
 *     Python of its ops (put_ns/get_ns) also has its mutex, a Lock held
 *     while that Python runs, across forced GIL switches (P_QM). It is a
 *     Lock like the others (the same lock_take, lock_wait, lock_release),
 *     only without a lane in the trace and without deadlock reports.
 *   start: Thread.start creates the OS thread, then waits on the new
 *     thread's `_started` Event, which the new thread sets in its bootstrap
 *     once it holds the GIL (threading.py: start, _bootstrap_inner; 2.7 and
 *     every 3.x alike). So the starter drops the GIL, blocks until the new
 *     thread has taken it (M_BOOTED wakes it), and must then take the GIL
 *     back from a thread that may well keep it for a switch interval.
 *   join: waits until the thread's end is posted. Until 3.12 the exiting
 *     thread releases its thread state lock in PyThreadState_Clear, GIL
 *     held, before _PyThreadState_DeleteCurrent drops the GIL: the joiner
 *     wakes and asks for a GIL still held (M_EXIT_POST, with
 *     python.exit_posts_early; off, it posts after the drop). From 3.13
 *     thread_run sets the handle's thread_is_exiting after that drop
 *     (Modules/_threadmodule.c, pystate.c).
 * Deadlock: when a thread blocks on an RLock or a join, the chain of owners
 * is followed; a cycle back to the thread stops the run at once and names who
 * holds and waits for what. A plain Lock has no owner (any thread may
 * release it), so a cycle through one is only certain when nothing is left
 * to happen: the stall report then names the cycle, taking each Lock's last
 * acquirer as its holder, or else every waiter (gs__sync_report). */
#include "sync.h"
#include "engine_int.h"
#include "kernel.h"
#include "os.h"
#include "qend.h"
#include "wake.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- helpers ---------------------------------------------------------------- */

static const char *lock_name(const gs_engine_t *e, int i)
{
    return e->m->locks[i].name;
}

static void block_on(gs_engine_t *e, gs_thr_t *t, gs_waitq_t *q, blk_t why, int obj)
{
    t->in_wait = true;
    gs__waitq_push(e, q, t);
    gs__os_block(e, t, why, obj);
}

static step_res_t runtime_error(gs_engine_t *e, gs_thr_t *t, const char *what)
{
    gs__stop(e, GS_OUT_ERROR, "%s: %s", gs__thr_name(t), what);
    return STEP_WAIT;
}

/* Appends "lock 'a', lock 'b'" for the locks t owns. */
static void held_locks(const gs_engine_t *e, const gs_thr_t *t, char *buf, size_t n)
{
    size_t len = strlen(buf);
    bool any = false;
    for (int i = 0; i < e->m->n_locks && len + 1 < n; i++) {
        if (e->locks[i].owner != t)
            continue;
        len += (size_t)snprintf(buf + len, n - len, "%slock '%s'", any ? ", " : "",
                                lock_name(e, i));
        any = true;
        if (len >= n)
            len = n - 1;
    }
    if (!any && len + 1 < n)
        snprintf(buf + len, n - len, "nothing");
}

static void append(char *buf, size_t n, const char *s)
{
    size_t len = strlen(buf);
    if (len + 1 < n)
        snprintf(buf + len, n - len, "%s", s);
}

/* One line on what OFF thread t waits for. */
static void describe_wait(const gs_engine_t *e, const gs_thr_t *t, char *buf, size_t n)
{
    char what[256];
    const gs_model_t *m = e->m;
    switch (t->blk) {
    case BLK_LOCK: {
        const gs_thr_t *o = e->locks[t->blk_obj].owner;
        snprintf(what, sizeof what, "lock '%s' held by %s%s", lock_name(e, t->blk_obj),
                 o ? gs__thr_name(o) : "nobody", o && o->finished ? " (finished)" : "");
        break;
    }
    case BLK_JOIN:
        snprintf(what, sizeof what, "%s to finish", m->threads[t->blk_obj].name);
        break;
    case BLK_START:
        snprintf(what, sizeof what, "%s, which it started, to take the GIL",
                 m->threads[t->blk_obj].name);
        break;
    case BLK_EVENT:
        snprintf(what, sizeof what, "event '%s', which nobody sets any more",
                 m->events[t->blk_obj].name);
        break;
    case BLK_QUEUE: {
        const gs_queue_t *q = &e->queues[t->blk_obj];
        snprintf(what, sizeof what, "queue '%s' (%s; length %lld, maxsize %d)",
                 m->queues[t->blk_obj].name, t->req.kind == RQ_PUT ? "to put" : "to get",
                 (long long)q->len, m->queues[t->blk_obj].maxsize);
        break;
    }
    default:
        snprintf(what, sizeof what, "%s", "the GIL");
    }
    char line[600] = "";
    snprintf(line, sizeof line, "  %s holds ", gs__thr_name(t));
    held_locks(e, t, line, sizeof line);
    append(line, sizeof line, " and waits for ");
    append(line, sizeof line, what);
    append(line, sizeof line, "\n");
    append(buf, n, line);
}

void gs__sync_report(gs_engine_t *e, char *buf, size_t n)
{
    buf[0] = '\0';
    for (int i = 0; i < e->n_thr; i++) {
        const gs_thr_t *t = &e->thr[i];
        if (t->started && !t->finished && t->os == OS_OFF)
            describe_wait(e, t, buf, n);
    }
}

/* The thread that t's wait depends on (lock holder, join target), or NULL.
 * With sure_only, only edges that nobody else can break: an RLock's owner
 * and a join target. A plain Lock may be released by any thread, so its
 * last acquirer is only the likely releaser. */
static gs_thr_t *waits_for(gs_engine_t *e, const gs_thr_t *t, bool sure_only)
{
    if (t->os != OS_OFF || t->finished)
        return NULL;
    if (t->blk == BLK_LOCK) {
        if (sure_only && !e->m->locks[t->blk_obj].reentrant)
            return NULL;
        return e->locks[t->blk_obj].owner;
    }
    if (t->blk == BLK_JOIN) {
        gs_thr_t *j = &e->thr[t->blk_obj];
        return j->join_posted ? NULL : j;
    }
    return NULL;
}

/* If following t's waits comes back to t, writes the cycle into buf. */
static bool find_cycle(gs_engine_t *e, gs_thr_t *t, bool sure_only, char *buf, size_t n)
{
    gs_thr_t *cur = t;
    for (int steps = 0; steps <= e->n_thr; steps++) {
        cur = waits_for(e, cur, sure_only);
        if (!cur || cur == t)
            break;
    }
    if (cur != t)
        return false;
    buf[0] = '\0';
    do {
        describe_wait(e, cur, buf, n);
        cur = waits_for(e, cur, sure_only);
    } while (cur && cur != t);
    if (waits_for(e, t, sure_only) == t) /* waits for a Lock it took itself */
        append(buf, n, "  (a Lock is not re-entrant and nobody else releases it; declare it "
                       "in \"rlocks\" to make it an RLock)\n");
    return true;
}

static bool sync_cycle(gs_engine_t *e, gs_thr_t *t)
{
    char buf[1800];
    if (!find_cycle(e, t, true, buf, sizeof buf))
        return false;
    gs__stop(e, GS_OUT_DEADLOCK, "a cycle of waiters:\n%s", buf);
    return true;
}

bool gs__sync_stall_cycle(gs_engine_t *e, char *buf, size_t n)
{
    for (int i = 0; i < e->n_thr; i++)
        if (e->thr[i].started && find_cycle(e, &e->thr[i], false, buf, n))
            return true;
    return false;
}

/* ---- the lock: threading.Lock and RLock, and a queue's mutex ------------------ */

enum { NO_LANE = -1 };

/* A lock as the steps use it: the lock, whether it is re-entrant (an RLock),
 * its lane in the trace (NO_LANE: a queue's mutex, whose owner the trace does
 * not show), and what a thread blocked on it waits for (blk, obj). */
typedef struct lock_ref {
    gs_lock_t *l;
    bool reentrant;
    int lane;
    blk_t why;
    int obj;
} lock_ref_t;

static lock_ref_t py_lock(gs_engine_t *e, int i)
{
    return (lock_ref_t){&e->locks[i], e->m->locks[i].reentrant, i, BLK_LOCK, i};
}

static lock_ref_t queue_mutex(gs_engine_t *e, int i)
{
    return (lock_ref_t){&e->queues[i].mutex, false, NO_LANE, BLK_QUEUE, i};
}

/* t takes the lock if it is free, or once more if t owns the RLock. */
static bool lock_take(gs_engine_t *e, gs_thr_t *t, lock_ref_t r)
{
    gs_lock_t *l = r.l;
    if (!l->owner) {
        l->owner = t;
        l->count = 1;
        if (r.lane != NO_LANE)
            gs__trace_lock_owner(e->trace, r.lane, e->now, t->id);
        return true;
    }
    if (l->owner == t && r.reentrant) {
        l->count++;
        return true;
    }
    return false;
}

/* The wait for the lock once the GIL is dropped: false if t blocked on it.
 * It tries again as it is about to block, the first time too: between the
 * failed try (GIL held) and here the thread dropped the GIL, and a release
 * that came then woke nobody, since it was not yet a waiter. CPython's
 * acquire blocks on the lock's own semaphore, which keeps such a release,
 * so it would get the lock at once; without this try the model lost it (a
 * lock ping-pong deadlocked: "ping holds lock 'a' and waits for lock 'a'"). */
static bool lock_wait(gs_engine_t *e, gs_thr_t *t, lock_ref_t r)
{
    t->in_wait = false;
    if (lock_take(e, t, r))
        return true;
    block_on(e, t, &r.l->waiters, r.why, r.obj);
    return false;
}

/* One release by t, which the caller has checked may release it: at depth 0
 * the lock is free and its oldest waiter is woken, without handing the lock
 * over (sem_post semantics; for a queue's mutex, a futex wake the releaser
 * pays, holding the GIL). */
static void lock_release(gs_engine_t *e, gs_thr_t *t, lock_ref_t r)
{
    gs_lock_t *l = r.l;
    if (--l->count > 0)
        return;
    l->owner = NULL;
    if (r.lane != NO_LANE)
        gs__trace_lock_owner(e->trace, r.lane, e->now, -1);
    gs_thr_t *w = gs__waitq_pop(&l->waiters);
    if (w)
        gs__os_wake_by(e, t, w);
}

/* ---- micro-steps -------------------------------------------------------------- */

static step_res_t step_lock_wait(gs_engine_t *e, gs_thr_t *t, int i)
{
    if (lock_wait(e, t, py_lock(e, i)))
        return STEP_NEXT;
    sync_cycle(e, t);
    return STEP_WAIT;
}

static step_res_t step_unlock(gs_engine_t *e, gs_thr_t *t, int i)
{
    gs_lock_t *l = &e->locks[i];
    bool rlock = e->m->locks[i].reentrant;
    /* Any thread may release a Lock (threading.Lock has no owner); only an
     * RLock must be released by the thread that holds it. */
    if (!l->owner || (rlock && l->owner != t)) {
        char what[200];
        snprintf(what, sizeof what,
                 rlock ? "released RLock '%s' that it does not hold (Python raises "
                         "RuntimeError: cannot release un-acquired lock)"
                       : "released lock '%s', which is not locked (Python raises "
                         "RuntimeError: release unlocked lock)",
                 lock_name(e, i));
        return runtime_error(e, t, what);
    }
    lock_release(e, t, py_lock(e, i));
    return STEP_NEXT;
}

/* Queue i cannot take t's request now: full for a put, empty for a get. */
static bool queue_blocks(const gs_engine_t *e, const gs_thr_t *t, int i)
{
    const gs_queue_t *q = &e->queues[i];
    int max = e->m->queues[i].maxsize;
    return t->req.kind == RQ_PUT ? max > 0 && q->len >= max : q->len == 0;
}

/* t's put or get on queue i, which can take it: the length changes (an
 * instant records it) and the oldest waiter of the other side is woken. */
static void queue_op(gs_engine_t *e, gs_thr_t *t, int i)
{
    gs_queue_t *q = &e->queues[i];
    gs_thr_t *w;
    if (t->req.kind == RQ_PUT) {
        q->len++;
        w = gs__waitq_pop(&q->getters);
    } else {
        q->len--;
        w = gs__waitq_pop(&q->putters);
    }
    gs__qend_op(e, t, i, t->req.kind == RQ_PUT); /* end markers (qend.c) */
    gs__trace_instant_obj(e->trace, e->now, GS_IN_QUEUE_LEN, t->id, i, q->len);
    if (w)
        gs__os_wake_by(e, t, w);
}

/* What a waiter checked with the GIL held still fails as it is about to
 * block. Between that check and the block the thread dropped the GIL, and
 * (on a busy core) others may have run: a put, a set or an end that came
 * then woke nobody, since this thread was not yet a waiter. CPython checks
 * and waits under the Condition's own lock (queue.Queue, Event.wait) or the
 * thread state lock (join), so nothing can come between: without this
 * re-check the model lost that wake-up (a queue with items and its getters
 * all waiting, on one core). */
static bool still_waits(const gs_engine_t *e, const gs_thr_t *t, blk_t why, int obj)
{
    switch (why) {
    case BLK_QUEUE:
        return queue_blocks(e, t, obj);
    case BLK_EVENT:
        return !e->events[obj].flag;
    case BLK_JOIN:
        return !e->thr[obj].join_posted;
    case BLK_START:
        return !e->thr[obj].booted;
    default:
        return true;
    }
}

static step_res_t step_wait(gs_engine_t *e, gs_thr_t *t, gs_waitq_t *q, blk_t why, int obj)
{
    if (t->in_wait) {
        t->in_wait = false;
        return STEP_NEXT;
    }
    if (!still_waits(e, t, why, obj))
        return STEP_NEXT; /* take the GIL back and re-check with it held */
    block_on(e, t, q, why, obj);
    if (why == BLK_JOIN)
        sync_cycle(e, t);
    return STEP_WAIT;
}

/* The first try of P_Q is followed by the drop and the wait; the re-check
 * after a wake-up is not: it runs the queue's recheck_ns of Python first
 * (M_Q_RECHECK, then M_Q_BACK), or goes back to wait again at once
 * (STEP_BACK). In CPython the woken getter holds the GIL for that Python
 * (Condition.wait's return, `while not self._qsize()`, the next wait's
 * waiter lock): a hold, and a change of GIL holder, like any other. */
static bool waits_next(const gs_thr_t *t)
{
    return t->req.prog[t->req.pc + 1] == M_DROP;
}

static step_res_t step_queue_try(gs_engine_t *e, gs_thr_t *t, int i)
{
    if (queue_blocks(e, t, i)) {
        if (waits_next(t))
            return STEP_NEXT;
        return e->m->queues[i].recheck_ns > 0 ? STEP_NEXT : STEP_BACK;
    }
    queue_op(e, t, i);
    return STEP_END;
}

int64_t gs__sync_exec_ns(const gs_engine_t *e, const gs_thr_t *t, micro_t m)
{
    const gs_sync_spec_t *q = &e->m->queues[t->req.target];
    if (m == M_Q_RECHECK)
        return q->recheck_ns;
    /* M_QM_OP: the Python of put/get, once: after a wait only the re-check */
    return t->req.q_waited ? 0 : t->req.kind == RQ_PUT ? q->put_ns : q->get_ns;
}

/* ---- queue.Queue with its mutex (P_QM; Lib/queue.py, Lib/threading.py) ------- */

/* `with self.not_empty:` (or not_full): the queue's mutex, a Lock. Taken
 * with the GIL held if free; otherwise the next steps drop the GIL and block
 * for it like any Lock (sem semantics: a release wakes the oldest waiter
 * without handing it over). On success the steps of that wait are skipped. */
static step_res_t step_qm_lock(gs_engine_t *e, gs_thr_t *t, int i)
{
    if (!lock_take(e, t, queue_mutex(e, i)))
        return STEP_NEXT;
    while (t->req.prog[t->req.pc + 1] != M_QM_OP)
        t->req.pc++;
    return STEP_NEXT;
}

/* Taken in C, the GIL dropped: it takes the GIL next. */
static step_res_t step_qm_wait(gs_engine_t *e, gs_thr_t *t, int i)
{
    return lock_wait(e, t, queue_mutex(e, i)) ? STEP_NEXT : STEP_WAIT;
}

/* The op with the mutex held: done, with a notify of one waiter of the
 * other side (waiter.release(): a futex wake), then the mutex released
 * (leaving `with`); or Condition.wait: the mutex released (_release_save)
 * before the waiter blocks on its own lock (the steps that follow). */
static step_res_t step_qm_try(gs_engine_t *e, gs_thr_t *t, int i)
{
    if (queue_blocks(e, t, i)) {
        t->req.q_waited = true;
        lock_release(e, t, queue_mutex(e, i));
        return STEP_NEXT;
    }
    queue_op(e, t, i);
    lock_release(e, t, queue_mutex(e, i));
    return STEP_END;
}

/* The new thread holds the GIL (or has none to take) and runs its bootstrap:
 * `self._started.set()` wakes the thread waiting in its start(). */
static step_res_t step_booted(gs_engine_t *e, gs_thr_t *t)
{
    t->booted = true;
    gs_thr_t *w;
    while ((w = gs__waitq_pop(&e->starters[t->id])) != NULL)
        gs__os_wake_by(e, t, w);
    return STEP_NEXT;
}

static step_res_t step_join_check(gs_engine_t *e, gs_thr_t *t, int i)
{
    gs_thr_t *j = &e->thr[i];
    if (j == t)
        return runtime_error(e, t, "joined itself (Python raises RuntimeError: cannot join "
                                   "current thread)");
    if (!j->started && !j->start_pending)
        return runtime_error(e, t, "joined a thread that was never started (Python raises "
                                   "RuntimeError)");
    return j->join_posted ? STEP_END : STEP_NEXT;
}

step_res_t gs__sync_step(gs_engine_t *e, gs_thr_t *t, micro_t m)
{
    int i = t->req.target;
    switch (m) {
    case M_LOCK:
        if (lock_take(e, t, py_lock(e, i)))
            return STEP_END;
        return STEP_NEXT; /* a Lock it took itself too: another may release it */
    case M_LOCK_WAIT:
        return step_lock_wait(e, t, i);
    case M_UNLOCK:
        return step_unlock(e, t, i);
    case M_EV_CHECK:
        return e->events[i].flag ? STEP_END : STEP_NEXT;
    case M_EV_WAIT:
        return step_wait(e, t, &e->events[i].waiters, BLK_EVENT, i);
    case M_EV_SET: {
        e->events[i].flag = true;
        gs_thr_t *w;
        while ((w = gs__waitq_pop(&e->events[i].waiters)) != NULL)
            gs__os_wake_by(e, t, w);
        return STEP_NEXT;
    }
    case M_EV_CLEAR:
        e->events[i].flag = false;
        return STEP_NEXT;
    case M_Q_TRY:
        return step_queue_try(e, t, i);
    case M_Q_WAIT:
        return step_wait(e, t,
                         t->req.kind == RQ_PUT ? &e->queues[i].putters : &e->queues[i].getters,
                         BLK_QUEUE, i);
    case M_Q_BACK:
        return STEP_BACK;
    case M_QM_LOCK:
        return step_qm_lock(e, t, i);
    case M_QM_WAIT:
        return step_qm_wait(e, t, i);
    case M_QM_TRY:
        return step_qm_try(e, t, i);
    case M_QM_AGAIN: /* Condition.wait returns: the mutex again (P_QM[1]) */
        t->req.pc = 0;
        return STEP_NEXT;
    case M_START_WAIT:
        return step_wait(e, t, &e->starters[i], BLK_START, i);
    case M_BOOTED:
        return step_booted(e, t);
    case M_JOIN_CHECK:
        return step_join_check(e, t, i);
    case M_JOIN_WAIT:
        return step_wait(e, t, &e->joiners[i], BLK_JOIN, i);
    default:
        GS_ASSERT(!"not a sync step");
        return STEP_WAIT;
    }
}

/* t's end is posted: its joiners wake. Until 3.12 this is the release of
 * its thread state lock, a futex wake that t pays on its core with the GIL
 * still held (engine.c M_EXIT_POST); from 3.13 the handle's event, set after
 * t left (gs__os_wake_by wakes as gs__os_wake then). */
void gs__sync_thread_done(gs_engine_t *e, gs_thr_t *t)
{
    gs_thr_t *w;
    t->join_posted = true;
    while ((w = gs__waitq_pop(&e->joiners[t->id])) != NULL)
        gs__os_wake_by(e, t, w);
}
