/* gil.h - gil.c's interface for the engine: the GIL's take, drop, timed
 * waits and drop requests. */
#ifndef GILSIM_GIL_H
#define GILSIM_GIL_H

#include "engine_int.h"

/* gil.c */
void gs__gil_init(gs_engine_t *e, gs_gil_t *g, int process);
bool gs__gil_has(const gs_engine_t *e, const gs_thr_t *t); /* process has a GIL */
gs_gil_t *gs__gil_of(gs_engine_t *e, const gs_thr_t *t);
bool gs__gil_take(gs_engine_t *e, gs_thr_t *t);      /* true: held now */
bool gs__gil_drop(gs_engine_t *e, gs_thr_t *t, bool final); /* false: waits for switch */
bool gs__gil_resume(gs_engine_t *e, gs_thr_t *t);   /* t got a core: true if its
                                                       GIL wait takes it from here */
void gs__gil_timeout(gs_engine_t *e, gs_thr_t *t);
void gs__gil_break(gs_engine_t *e, gs_thr_t *t);     /* EV_BREAK */
bool gs__gil_exec_check(gs_engine_t *e, gs_thr_t *t); /* before Python runs: false = dropped */
int64_t gs__gil_exec_limit(gs_engine_t *e, gs_thr_t *t); /* cap on the next segment */
void gs__gil_exec_tick(gs_engine_t *e, gs_thr_t *t);  /* a segment hit its cap */
bool gs__gil_sys_resume(gs_engine_t *e, gs_thr_t *t); /* true: in a futex call, timer set */
bool gs__gil_on_timer(gs_engine_t *e, gs_thr_t *t);
void gs__gil_mutex_unlock(gs_engine_t *e, gs_thr_t *t); /* a preempted dropper is back */   /* true: a futex call ended */
void gs__gil_switch_on(gs_engine_t *e, gs_thr_t *t); /* gil.c: an import enables it */

#endif
