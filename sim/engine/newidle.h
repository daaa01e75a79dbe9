/* newidle.h - newidle.c's interface for the engine: a core going idle balancing
 * by chance (machine.newidle_ratio). */
#ifndef GILSIM_NEWIDLE_H
#define GILSIM_NEWIDLE_H

#include "engine_int.h"

/* newidle.c: a core going idle (core_pick) balances; the thread it pulls,
 * or NULL. Without machine.newidle_ratio gs__place_pullable's, at once. */
void gs__newidle_init(gs_engine_t *e);
gs_thr_t *gs__newidle_pull(gs_engine_t *e, gs_core_t *c);
void gs__newidle_queued(gs_engine_t *e); /* a thread was queued on a core */
void gs__newidle_looked(gs_engine_t *e); /* an idle core's tick balance looked */

#endif
