/* balance.h - balance.c's interface for the engine: periodic balancing between
 * busy cores (machine.balance "periodic"). */
#ifndef GILSIM_BALANCE_H
#define GILSIM_BALANCE_H

#include "engine_int.h"

/* balance.c: c's EV_CORE (gs__os_core_event), then, with machine.balance
 * "periodic", c's periodic balance when it is due */
void gs__balance_core_event(gs_engine_t *e, gs_core_t *c);

#endif
