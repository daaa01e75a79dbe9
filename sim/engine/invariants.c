/* invariants.c - the thread state machine's invariants, checked.
 *
 * engine_int.h writes the machine down (states, transitions, invariants
 * (1)-(10)); thr_invariant tests them for one thread and names the first
 * that fails. gs__thr_check runs it where a transition has been made whole
 * (gs__thr_trace, gs__go_on) when e->check_state is set: in builds without
 * NDEBUG (debug, asan, tsan) and wherever GILSIM_CHECK_STATE=1, which the
 * test suites set. A broken invariant is a bug in the engine, not in the
 * scenario: it is reported with the thread's whole state and aborts.
 * Cost: O(1) plus a scan of the one wait list the thread should be in. */
#include "invariants.h"
#include "engine_int.h"
#include "gil.h"
#include "sync.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static bool in_list(const gs_waitq_t *q, const gs_thr_t *t)
{
    for (int i = 0; i < q->n; i++)
        if (q->v[i] == t)
            return true;
    return false;
}

/* The wait list a thread blocked on a sync object must be in, or NULL. */
static const gs_waitq_t *sync_list(const gs_engine_t *e, const gs_thr_t *t)
{
    switch (t->blk) {
    case BLK_LOCK:
        return &e->locks[t->blk_obj].waiters;
    case BLK_EVENT:
        return &e->events[t->blk_obj].waiters;
    case BLK_QUEUE:
        if (t->req.prog && t->req.prog[t->req.pc] == M_QM_WAIT)
            return &e->queues[t->blk_obj].mutex.waiters;
        return t->req.kind == RQ_PUT ? &e->queues[t->blk_obj].putters
                                     : &e->queues[t->blk_obj].getters;
    case BLK_JOIN:
        return &e->joiners[t->blk_obj];
    case BLK_START:
        return &e->starters[t->blk_obj];
    default:
        return NULL;
    }
}

static const char *os_invariants(const gs_engine_t *e, const gs_thr_t *t)
{
    if ((t->os == OS_READY) != (t->ready_idx >= 0))
        return "(1) READY <=> in the ready queue";
    if (t->ready_idx >= 0 && (t->ready_idx >= e->n_ready || e->ready[t->ready_idx] != t))
        return "(1) its ready_idx names its slot in the ready queue";
    bool has_core = t->os == OS_WAKING || t->os == OS_SWITCHING || t->os == OS_ON;
    if ((t->core != NULL) != has_core)
        return "(2) a core <=> WAKING, SWITCHING or ON";
    if (t->core && t->core->cur != t)
        return "(2) its core runs it";
    if (t->core && !gs__allowed(t, t->core))
        return "(2) its core is one its CPU affinity allows";
    if ((!t->started || t->finished) && t->os != OS_OFF)
        return "(3) not started or finished => OFF";
    if (t->os != OS_OFF && t->blk != BLK_NONE)
        return "(4) not OFF => no reason to be off";
    return NULL;
}

static const char *gil_invariants(const gs_engine_t *e, const gs_thr_t *t)
{
    const gs_gil_t *g = &e->gils[t->process];
    if (g->kind == GS_GIL_NONE) /* an import may switch it on (ft.c) */
        return t->holds_gil || t->gw != GW_NONE ? "(8) no GIL held or awaited without a GIL"
                                                : NULL;
    bool listed = in_list(&g->waiters, t);
    if (t->gw == GW_COND && !listed)
        return "(5) waits on the GIL condition => in the GIL's waiters";
    /* cpython3: a timed-out waiter, or one a futex wake woke that has not
     * taken a signal yet, stays in the condvar until it runs (gil.c) */
    bool cv_woken = g->kind == GS_GIL_CPYTHON3 &&
                    (t->gw == GW_TIMEDOUT || t->gw == GW_MUTEX ||
                     (t->gw == GW_SIGNALED && !t->cv_consumed));
    if (listed && t->gw != GW_COND && !cv_woken)
        return "(5) in the GIL's waiters => waits on the GIL condition (or, cpython3, "
               "was woken and has not left the condvar yet)";
    if (t->gw == GW_COND && (t->os != OS_OFF || t->blk != BLK_GIL))
        return "(5) a GIL condition waiter is OFF, blocked on the GIL";
    if (t->gw == GW_MUTEX && (t->os != OS_OFF || t->blk != BLK_GIL))
        return "(5) a waiter on the GIL's mutex is OFF, blocked on the GIL";
    if ((t->gw == GW_SWITCH) != in_list(&g->switch_wait, t))
        return "(6) waits for a forced switch <=> in the GIL's switch_wait";
    if (t->gw == GW_SWITCH && (t->os != OS_OFF || t->blk != BLK_SWITCH))
        return "(6) a forced dropper waiting for the switch is OFF, blocked on it";
    if ((t->gw == GW_TIMEDOUT || t->gw == GW_SIGNALED || t->gw == GW_SWITCHED ||
         t->gw == GW_LEFT) &&
        t->os == OS_OFF)
        return "(7) a woken GIL waiter is not OFF";
    if (t->holds_gil != (g->locked && g->holder == t))
        return "(8) holds_gil <=> the GIL is locked and names it holder";
    return NULL;
}

static const char *thr_invariant(const gs_engine_t *e, const gs_thr_t *t)
{
    const char *bad = os_invariants(e, t);
    if (!bad)
        bad = gil_invariants(e, t);
    if (bad)
        return bad;
    if (t->os == OS_OFF && t->blk != BLK_NONE && t->blk != BLK_GIL && t->blk != BLK_SWITCH) {
        if (!t->in_wait)
            return "(9) blocked on I/O, a sleep or a sync object => in_wait";
        const gs_waitq_t *q = sync_list(e, t);
        if (q && !in_list(q, t))
            return "(9) blocked on a sync object => in its wait list";
    }
    if (t->exec_active && (!t->started || t->finished))
        return "(10) executing => started and not finished";
    if (t->in_sys && (t->holds_gil || (t->gw != GW_NONE && t->gw != GW_SIGNALED)))
        return "(11) in a futex call on the GIL => not holding it, not waiting on it asleep";
    if (t->accessing && (t->os != OS_ON || !t->exec_active || !t->acc_obj))
        return "(12) running on a shared object => ON, executing, with an object";
    return NULL;
}

void gs__thr_check(const gs_engine_t *e, const gs_thr_t *t, const char *where)
{
    if (!e->check_state)
        return;
    const char *bad = thr_invariant(e, t);
    if (!bad)
        return;
    static const char *os_names[] = {"OFF", "WAKING", "READY", "SWITCHING", "ON"};
    static const char *gw_names[] = {"NONE", "COND", "TIMEDOUT", "SIGNALED", "SWITCH",
                                     "SWITCHED", "LEFT", "MUTEX"};
    fprintf(stderr,
            "gilsim: internal error: thread state invariant %s broken (engine_int.h)\n"
            "  in %s at %lld ns, thread %d '%s': os=%s core=%d ready_idx=%d blk=%d "
            "gw=%s holds_gil=%d gil holder=%d started=%d finished=%d in_wait=%d "
            "exec_active=%d\n",
            bad, where, (long long)e->now, t->id, t->spec->name, os_names[t->os],
            t->core ? t->core->id : -1, t->ready_idx, (int)t->blk, gw_names[t->gw],
            t->holds_gil, e->gils[t->process].holder ? e->gils[t->process].holder->id : -1,
            t->started, t->finished, t->in_wait, t->exec_active);
    abort();
}

bool gs__check_state_wanted(void)
{
#ifndef NDEBUG
    return true;
#else
    const char *v = getenv("GILSIM_CHECK_STATE");
    return v && *v && strcmp(v, "0") != 0;
#endif
}
