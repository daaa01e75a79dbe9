/* os.h - os.c's interface for the engine: cores, the ready queue, the
 * policies, slices, preemption, blocking. */
#ifndef GILSIM_OS_H
#define GILSIM_OS_H

#include "engine_int.h"

/* os.c */
void gs__os_init(gs_engine_t *e);
void gs__os_set_state(gs_engine_t *e, gs_thr_t *t, os_state_t s); /* + cfs_nr, loads */
void gs__os_ready_push(gs_engine_t *e, gs_thr_t *t);
void gs__os_preempt(gs_engine_t *e, gs_core_t *c); /* c's thread ON -> READY */
int64_t gs__os_min_vruntime(gs_engine_t *e);      /* cfs: advanced, then returned */
bool gs__os_beats(const gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *r, int64_t V);
/* os.c, for place.c */
void gs__os_ready_remove(gs_engine_t *e, gs_thr_t *t);
void gs__os_dispatch_after(gs_engine_t *e, gs_core_t *c, gs_thr_t *t, int64_t lat); /* c
                             switches to t, lat later (an idle core woken first) */
int64_t gs__os_tick_after(const gs_engine_t *e, int64_t at); /* the first tick >= at */
void gs__os_block(gs_engine_t *e, gs_thr_t *t, blk_t why, int32_t obj); /* ON -> OFF */
void gs__os_exit(gs_engine_t *e, gs_thr_t *t);   /* ON -> gone */
void gs__os_account(gs_engine_t *e, gs_thr_t *t); /* charge ON time up to now */
void gs__os_core_event(gs_engine_t *e, gs_core_t *c);

#endif
