/* stops.c - why a run stops, and the words it stops with.
 *
 * The run loop (engine.c gs__engine_next) asks here twice per turn: first
 * whether a limit ends the run (cancelled, out of memory, the memory budget,
 * max_events: gs__stop_limits); then, when no thread is to resume, whether
 * the run ends before the next event (every thread finished, the daemons
 * left at finalization, threads that never started, a stall or a lock/join
 * cycle, the horizon: gs__stop_before_event). Each stop goes through
 * gs__stop (kernel.c) with a message naming what happened and, for a limit,
 * how to raise it. Calls the kernel, sync.c (who waits for what) and
 * limits.c (byte formatting) only. */
#include "stops.h"
#include "engine_int.h"
#include "kernel.h"
#include "limits_int.h"
#include "sync.h"
#include "gilsim/units.h"

#include <stdatomic.h>
#include <stdio.h>

/* For a stop at a limit: the threads still in an until loop whose event
 * nobody has set ("; cpu loops until stop is set, and nothing set it"), the
 * usual reason a run with such a loop reaches its horizon. "" if none. */
static const char *until_note(const gs_engine_t *e, char *buf, size_t n)
{
    size_t len = 0;
    int k = 0;
    buf[0] = '\0';
    for (int i = 0; i < e->n_thr && len + 200 < n; i++) {
        const gs_thr_t *t = &e->thr[i];
        if (t->finished || t->until_ev == 0 || e->events[t->until_ev - 1].flag)
            continue;
        len += (size_t)snprintf(buf + len, n - len, "%s%s loops until event \"%s\" is set",
                                k++ ? ", " : "; ", gs__thr_name(t),
                                e->m->events[t->until_ev - 1].name);
    }
    if (k)
        snprintf(buf + len, n - len, ", and no thread set %s", k == 1 ? "it" : "them");
    return buf;
}

/* No event left while threads wait: a lock or join cycle if there is one,
 * else who waits for what. */
static void stall(gs_engine_t *e)
{
    char buf[1900];
    if (gs__sync_stall_cycle(e, buf, sizeof buf)) {
        gs__stop(e, GS_OUT_DEADLOCK, "a cycle of waiters:\n%s", buf);
        return;
    }
    gs__sync_report(e, buf, sizeof buf);
    gs__stop(e, GS_OUT_DEADLOCK, "nothing left to happen, but %d thread%s still wait%s:\n%s",
             e->n_started - e->n_finished, e->n_started - e->n_finished == 1 ? "" : "s",
             e->n_started - e->n_finished == 1 ? "s" : "", buf);
}

/* Every started thread finished and no start is pending, but some threads
 * never started: each waits for a `start` op of a thread that never ran
 * (two threads that only start each other). Nothing ran for them: a stall. */
static void never_started(gs_engine_t *e)
{
    char names[1500] = "";
    size_t len = 0;
    int n = 0;
    for (int i = 0; i < e->n_thr; i++) {
        if (e->thr[i].started)
            continue;
        if (n++ < 20 && len < sizeof names - 80)
            len += (size_t)snprintf(names + len, sizeof names - len, "%s%s", n > 1 ? ", " : "",
                                    gs__thr_name(&e->thr[i]));
    }
    if (n > 20)
        snprintf(names + len, sizeof names - len, " and %d more", n - 20);
    gs__stop(e, GS_OUT_DEADLOCK,
             "nothing left to happen, but %d thread%s never started (%s): %s started only by a "
             "start op of a thread that never ran; let one of them start on its own (remove "
             "\"autostart\": false)",
             n, n == 1 ? "" : "s", names, n == 1 ? "it is" : "each is");
}

/* After every event: not cancelled, the trace and the heap within the
 * memory budget, and no allocation failed. */
static bool must_stop(gs_engine_t *e)
{
    if (e->cancel && atomic_load_explicit(e->cancel, memory_order_relaxed)) {
        char at[32];
        gs__stop(e, GS_OUT_INTERRUPTED, "interrupted after %lld events at %s",
                 (long long)e->n_events, gs_format_ns(e->now, at, sizeof at));
        return true;
    }
    if (e->growth->oom) {
        e->fatal = GS_ENOMEM;
        gs__stop(e, GS_OUT_ERROR,
                 "out of memory after %lld events (the trace held %zu MiB); lower the memory "
                 "budget (--memory-budget, GILSIM_MEMORY_BUDGET) below what this machine can "
                 "give, or shorten until / max_events",
                 (long long)e->n_events, gs__trace_bytes(e->trace) >> 20);
        return true;
    }
    size_t used = e->growth->bytes + e->cap_heap * sizeof *e->heap;
    if (e->progress) { /* relaxed: a progress line, nothing is read back */
        atomic_store_explicit(&e->progress->now_ns, e->now, memory_order_relaxed);
        atomic_store_explicit(&e->progress->n_events, e->n_events, memory_order_relaxed);
        atomic_store_explicit(&e->progress->bytes, used, memory_order_relaxed);
    }
    if (used <= e->mem_budget)
        return false;
    char b[32], at[32];
    gs__format_bytes(e->mem_budget, b, sizeof b);
    gs__stop(e, GS_OUT_LIMIT,
             "stopped at the memory budget of %s (the trace and event queue) after %lld events "
             "at %s; raise it with --memory-budget SIZE (or GILSIM_MEMORY_BUDGET=SIZE), or "
             "shorten until / max_events",
             b, (long long)e->n_events, gs_format_ns(e->now, at, sizeof at));
    return true;
}

/* Every thread but daemon threads finished: the interpreter finalizes
 * (threading._shutdown has joined the others) and the run ends there. What a
 * daemon thread does next depends on the version (Python/ceval_gil.c): until
 * 3.13 it exits when it next takes the GIL (PyThread_exit_thread); from 3.14
 * it hangs there for ever (_PyThreadState_HangThread, gh-87135). */
static void finalize(gs_engine_t *e)
{
    int left = e->n_started - e->n_finished, v = e->m->processes[0].python.version;
    int left_main = 0;
    for (int i = 0; i < e->n_thr; i++)
        left_main += e->thr[i].started && !e->thr[i].finished && e->thr[i].process == 0;
    if (left_main == 0) { /* only other processes' daemons, such as a fit's other load */
        gs__stop(e, GS_OUT_DONE,
                 "every non-daemon thread finished: the run ends there, with %d daemon "
                 "thread%s of other processes still running (daemon threads keep no run going)",
                 left, left == 1 ? "" : "s");
        return;
    }
    gs__stop(e, GS_OUT_DONE,
             "every non-daemon thread finished: the interpreter finalized with %d daemon "
             "thread%s still running; %s",
             left, left == 1 ? "" : "s",
             v >= 314 ? "from Python 3.14 a daemon thread that then tries to take the GIL "
                        "hangs for ever (gh-87135): its work is lost, and C code waiting "
                        "for it waits for ever"
                      : "it exits when it next tries to take the GIL: its work is lost");
}

/* Stops the run if a limit is reached (cancelled, out of memory, the memory
 * budget, max_events); true when it did. Called after every event while the
 * run has not stopped. */
bool gs__stop_limits(gs_engine_t *e)
{
    if (must_stop(e))
        return true;
    if (e->n_events >= e->max_events) {
        char note[600];
        gs__stop(e, GS_OUT_MAX_EVENTS, "stopped after max_events = %lld events and requests%s",
                 (long long)e->max_events, until_note(e, note, sizeof note));
        return true;
    }
    return false;
}

/* With no thread to resume: true when the run ends before the next event
 * (it has stopped, every thread finished, the daemons are left at
 * finalization, threads never started, nothing is left to happen, or the
 * next event lies past the horizon), stopping it with the reason. */
bool gs__stop_before_event(gs_engine_t *e)
{
    if (e->stopped)
        return true;
    if (e->n_daemon > 0 && e->n_lasting_finished == e->n_thr - e->n_daemon &&
        e->n_finished < e->n_started) {
        finalize(e);
        return true;
    }
    if (e->n_finished == e->n_started && e->n_start_pending == 0 && e->n_started < e->n_thr) {
        never_started(e);
        return true;
    }
    if (e->n_finished == e->n_started && e->n_start_pending == 0) {
        e->stopped = true;
        e->outcome = GS_OUT_DONE;
        return true;
    }
    /* With its live events gone, a run that had cancelled one past the
     * horizon has always stopped there (the stale event was left in the
     * heap until then); kernel.c drops such events early and remembers. */
    if (e->n_heap == 0 && !e->stale_past_until) {
        stall(e);
        return true;
    }
    if (e->n_heap == 0 || e->heap[0].t_ns > e->until_ns) {
        e->now = e->until_ns;
        char until[32], note[600];
        int left = e->n_started - e->n_finished + e->n_start_pending;
        gs__stop(e, GS_OUT_HORIZON,
                 "stopped at the horizon (until = %s) with %d thread%s not finished%s",
                 gs_format_ns(e->until_ns, until, sizeof until), left, left == 1 ? "" : "s",
                 until_note(e, note, sizeof note));
        return true;
    }
    return false;
}
