/* wake.h - wake.c's interface for the engine: waking a thread (its core,
 * wake-up latency, wake-up preemption, the waker's cost). */
#ifndef GILSIM_WAKE_H
#define GILSIM_WAKE_H

#include "engine_int.h"

/* wake.c: waking a thread: its core, latency, wake-up preemption, the cost */
void gs__os_wake(gs_engine_t *e, gs_thr_t *t);   /* OFF -> runnable */
/* OFF -> runnable, woken by its own slack timer (a sleep, a GIL timed wait) */
void gs__os_wake_timer(gs_engine_t *e, gs_thr_t *t);
/* OFF -> runnable, a thread that never really left its core (it was still
 * entering a futex wait): no wake-up latency if that core is still idle */
void gs__os_wake_unslept(gs_engine_t *e, gs_thr_t *t);
/* waker, on a core, wakes w with a futex call (a lock release, an event set,
 * a condvar signal): w starts waking now, and waker spends `futex` of core
 * time in the call before its next step */
void gs__os_wake_by(gs_engine_t *e, gs_thr_t *waker, gs_thr_t *w);
void gs__os_wake_from(gs_engine_t *e, gs_thr_t *waker, gs_thr_t *w); /* placed as a
                             wake by waker (wake_affine), at no cost to it */
/* wake.c, for place.c and gil.c */
int64_t gs__os_wake_latency(const gs_engine_t *e, const gs_core_t *c); /* of idle c */
int64_t gs__os_wake_cost(const gs_engine_t *e, const gs_thr_t *waker, const gs_thr_t *w);
/* a machine curve at x: linear between its points, flat beyond (wake.c) */
int64_t gs__curve_at(int n, const int64_t *xs, const int64_t *ys, int64_t x);

#endif
