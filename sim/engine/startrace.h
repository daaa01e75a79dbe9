/* startrace.h - startrace.c's interface for the engine: a thread woken behind a
 * new thread, a new thread's bootstrap. */
#ifndef GILSIM_STARTRACE_H
#define GILSIM_STARTRACE_H

#include "engine_int.h"

/* startrace.c: with machine.behind_new_thread on a shared queue, the core a
 * thread woken with no idle core (idle NULL) waits on: its previous core,
 * when that runs or wakes a thread that has never run; else NULL */
gs_core_t *gs__start_queue(gs_engine_t *e, const gs_thr_t *t, const gs_core_t *idle);
const micro_t *gs__start_boot(gs_engine_t *e, gs_thr_t *t, const micro_t *prog);

#endif
