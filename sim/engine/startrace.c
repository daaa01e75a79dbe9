/* startrace.c - a woken thread whose previous core was just given to a new
 * thread waits behind it (machine.behind_new_thread).
 *
 * The race of every Thread.start beside a thread already waiting for the
 * GIL: the starter creates the new thread, then drops the GIL in
 * `_started.wait()`, and its drop signals that waiter. Linux puts the new
 * task where fork balancing finds an idle CPU (sched_balance_fork), which
 * is the CPU the waiter has just left to sleep on the GIL's condition
 * variable; the waiter's futex wake then finds no CPU idle (the new task
 * is queued on its previous one, the starter still runs on the other) and
 * is queued on its previous CPU behind the new task (select_task_rq_fair:
 * select_idle_sibling falls back to the target), where it is cache-hot, so
 * the starter's CPU going idle does not pull it (task_hot,
 * sysctl_sched_migration_cost). It runs when the new thread lets that CPU
 * go: the new thread takes the GIL first and runs its bootstrap
 * (`_started.set()`) up to its first release. Traced on this VM, loaded
 * (tests/reality/start_race.py --kernel; 17 starts of the I/O thread of
 * convoy.py and io_two_cpu.py, 2026-12-07): where the new thread went to
 * the sleeping waiter's previous CPU and the starter ran on the other, the
 * waiter was woken onto that CPU in 5 of 6 and ran 84 to 114 us after the
 * drop, after the new thread, which won all 5 (the sixth went to the
 * starter's CPU and won); where the new thread went elsewhere the waiter
 * ran 1 to 35 us after the drop and won 3 of 3.
 *
 * With one machine queue ("shared", what `gilsim fit` writes) the model
 * gave that waiter the starter's core the instant the starter blocked, so
 * the waiter won every such race. With per-core queues (run_queues
 * "per_core") place.c and os.c already queue it like Linux; this rule
 * applies the same queueing to this one case on a shared queue: a thread
 * woken while no core is idle, whose previous core is running or waking a
 * thread that has never run (a new thread), is queued on that core alone.
 * It needs no draw; the race between the new thread and the waiter then
 * follows where each one's core is, as it does on Linux. Unlike Linux no
 * idle core pulls the queued waiter once it is cold (migration_cost): it
 * waits for the new thread to leave the core, or for the tick at which
 * EEVDF's slice check hands it over, about when Linux's tick-time balance
 * would pull it. */
#include "startrace.h"
#include "engine_int.h"

gs_core_t *gs__start_queue(gs_engine_t *e, const gs_thr_t *t, const gs_core_t *idle)
{
    if (!e->m->machine.behind_new_thread || idle || gs__placing(e) || t->last_core < 0)
        return NULL;
    gs_core_t *c = &e->cores[t->last_core];
    const gs_thr_t *cur = c->cur;
    if (!cur || cur == t || cur->last_core >= 0 || c->mode == CORE_IDLE || !gs__allowed(t, c))
        return NULL;
    return c;
}

/* The new thread's bootstrap (python.thread_bootstrap), Python holding the
 * GIL between its first take and `self._started.set()` (threading.py
 * _bootstrap_inner: its ident, its native id, its tstate lock, the trace
 * and profile hooks, then the set). With 0 (the default) the set comes the
 * instant the new thread holds the GIL, as before.
 *
 * Why it matters on one core: EEVDF lets the starter, woken by the set,
 * preempt the new thread only if the new thread is no longer eligible, its
 * vruntime past the queue's average (pick_eevdf drops a curr that is not
 * eligible before RUN_TO_PARITY may protect it). Real (convoy.py under
 * taskset -c 0, the quiet records of 17:50) the new CPU thread held the
 * GIL 24 us before its set, after about 26 us of C start-up, while the
 * starter had run 8 us or more since the clone: the starter, eligible, ran
 * 4.5 us after the set woke it and asked for the GIL (3 of 3). With the set at the
 * new thread's first instant the two have run about as long, the starter
 * is not eligible, and it waits for the tick (3 ms in the fits) and comes
 * back with 1.5 ms of lag, enough to win the I/O thread's start after it
 * (tests/reality/replay_notes.md point 29). It works only where the model
 * keeps a blocked, not yet eligible thread in its core's V (the delayed
 * dequeue, modelled with run_queues "per_core"): on the shared queue the
 * woken starter is placed at the running thread's vruntime, which stays
 * eligible and protected, bootstrap or not. */
const micro_t *gs__start_boot(gs_engine_t *e, gs_thr_t *t, const micro_t *prog)
{
    t->req.ns = e->m->processes[t->process].python.thread_boot_ns;
    t->req.exec = GS_ST_PY;
    return prog;
}
