/* switchcharge.h - switchcharge.c's interface for the engine: whose vruntime a
 * context switch counts in (machine.switch_charged). */
#ifndef GILSIM_SWITCHCHARGE_H
#define GILSIM_SWITCHCHARGE_H

#include "engine_int.h"

void gs__switch_charge(gs_engine_t *e, gs_thr_t *t, int prev_thread); /* switchcharge.c */

#endif
