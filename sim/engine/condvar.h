/* condvar.h - condvar.c's interface for the engine: glibc's condition variable
 * the GIL waits on. */
#ifndef GILSIM_CONDVAR_H
#define GILSIM_CONDVAR_H

#include "engine_int.h"

/* condvar.c: glibc's condition variable, as cpython3's GIL waits on it (gil.c calls) */
void gs__condvar_signal(gs_engine_t *e, gs_gil_t *g, gs_thr_t *by); /* pthread_cond_signal */
/* a woken waiter on a core: true if it leaves the condvar (*timed_out: how) */
bool gs__condvar_on_core(gs_engine_t *e, gs_gil_t *g, gs_thr_t *t, bool *timed_out);

#endif
