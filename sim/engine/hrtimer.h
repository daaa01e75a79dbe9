/* hrtimer.h - hrtimer.c's interface for the engine: timers with slack. */
#ifndef GILSIM_HRTIMER_H
#define GILSIM_HRTIMER_H

#include "engine_int.h"

/* hrtimer.c: timers with slack (a sleep, the GIL's timed wait); one that
 * fires expires its core's others whose soft expiry passed */
int64_t gs__hrtimer_arm(gs_engine_t *e, gs_thr_t *t, int64_t len); /* -> its end */
void gs__hrtimer_rearm(gs_engine_t *e, gs_thr_t *t, int64_t soft_ns, int64_t at_ns);
bool gs__hrtimer_fired(gs_thr_t *t);   /* t's timer fired: was it a slack timer? */
gs_thr_t *gs__hrtimer_due(gs_engine_t *e, const gs_thr_t *fired); /* next to fire with it */
void gs__hrtimer_free(gs_engine_t *e);
/* machine.timer_arm if a timer of len armed by t now would be its core's
 * first (the tick included), else 0 */
int64_t gs__hrtimer_arm_cost(gs_engine_t *e, const gs_thr_t *t, int64_t len);
/* machine.timer_arm if t's live slack timer is its core's first, else 0: what
 * cancelling it costs (call before the cancel) */
int64_t gs__hrtimer_cancel_cost(gs_engine_t *e, const gs_thr_t *t);
bool gs__hrtimer_sleep_pays(gs_engine_t *e, gs_thr_t *t, int64_t len, int64_t *since);
int64_t gs__hrtimer_arm_since(gs_engine_t *e, gs_thr_t *t, int64_t len, int64_t since);

#endif
