/* invariants.h - invariants.c's interface for the engine: the thread state
 * machine's invariants (engine_int.h) checked. */
#ifndef GILSIM_INVARIANTS_H
#define GILSIM_INVARIANTS_H

#include "engine_int.h"

/* invariants.c: the state machine's invariants (above), for t. */
void gs__thr_check(const gs_engine_t *e, const gs_thr_t *t, const char *where); /* aborts */
bool gs__check_state_wanted(void); /* debug build, or GILSIM_CHECK_STATE set (not "0") */

#endif
