/* stops.h - stops.c's interface for the engine: why the run loop stops. */
#ifndef GILSIM_STOPS_H
#define GILSIM_STOPS_H

#include "engine_int.h"
#include "kernel.h"

/* stops.c: why the run loop stops (engine.c asks before each event). */
bool gs__stop_limits(gs_engine_t *e);       /* a limit reached: stopped, true */
bool gs__stop_before_event(gs_engine_t *e); /* the run ends here: stopped, true */
/* Their usual answer, "go on", decided inline: the loop asks before every
 * event, and the two calls were a few per cent of a run. True only where
 * the function would return false and change nothing; keep each in step
 * with its function in stops.c. */
static inline bool gs__limits_quiet(const gs_engine_t *e)
{
    return !e->progress && !(e->cancel && atomic_load_explicit(e->cancel, memory_order_relaxed)) &&
           !e->growth->oom && e->growth->bytes + e->cap_heap * sizeof *e->heap <= e->mem_budget &&
           e->n_events < e->max_events;
}
static inline bool gs__events_go_on(const gs_engine_t *e)
{
    /* n_finished != n_started: some started thread runs on, so the daemon
     * test is only whether every lasting thread finished (a fit's other
     * load is daemon threads: a fitted scenario asks this at every event) */
    return !e->stopped && e->n_finished != e->n_started &&
           (e->n_daemon == 0 || e->n_lasting_finished != e->n_thr - e->n_daemon) &&
           e->n_heap > 0 && e->heap[0].t_ns <= e->until_ns;
}

#endif
