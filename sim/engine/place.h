/* place.h - place.c's interface for the engine: where a woken or new thread
 * runs, PELT loads, idle balancing. */
#ifndef GILSIM_PLACE_H
#define GILSIM_PLACE_H

#include "engine_int.h"

/* place.c: where a woken thread runs (machine.wake_affine), idle balancing */
gs_core_t *gs__place_busy(gs_engine_t *e, const gs_thr_t *waker); /* no idle core: the
                             waker's core, or NULL (the machine's queue) */
gs_core_t *gs__place_busy_weight(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *waker);
/* per-core queues, no idle core: the waker's core or t's previous one, by their
 * loads (wake_affine_weight), or NULL */
void gs__place_load_update(gs_engine_t *e, gs_thr_t *t, bool was_runnable); /* per-core
                             queues: t's runnable state changes now */
/* PELT loads now, read without moving their bookkeeping: t's (runnable while
 * not OFF), and core c's (cpu_load: the threads on it, queued on it or last
 * run there, sleeping ones included). O(threads) for a core. */
double gs__place_thread_load(const gs_engine_t *e, const gs_thr_t *t);
double gs__place_core_load(const gs_engine_t *e, int c);
bool gs__place_affine(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *waker);
                            /* queue woken t on waker's core? (a seeded draw,
                               made only if t's previous core is busy) */
gs_thr_t *gs__place_pullable(const gs_engine_t *e, const gs_core_t *c, int64_t *cools);
void gs__place_arm(gs_engine_t *e, gs_core_t *c); /* idle c looks again at a tick */
gs_core_t *gs__place_new(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *starter,
                         gs_core_t **idle); /* new t: an idle core (*idle) or one to queue on */
gs_core_t *gs__place_keep(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *starter,
                          gs_core_t **idle); /* placement "previous": the same for t */
void gs__place_kick(gs_engine_t *e);              /* every idle core looks again */
void gs__place_balance(gs_engine_t *e, gs_core_t *c); /* idle c's EV_CORE */

#endif
