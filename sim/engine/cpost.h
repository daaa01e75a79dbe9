/* cpost.h - cpost.c's interface for engine.c: a C call that puts one item
 * on a queue at its end, from C (c_call "posts"). */
#ifndef GILSIM_CPOST_H
#define GILSIM_CPOST_H

#include <stdbool.h>

#include "engine_int.h"
#include "sync.h"

/* The micro-steps of a c_call that posts: the call, its post, then the GIL
 * back if it released it. */
const micro_t *gs__cpost_prog(bool releases_gil);
/* M_C_POST: t, on its core at its call's end, puts one item on queue
 * t->req.target and wakes the queue's oldest getter. */
step_res_t gs__cpost_step(gs_engine_t *e, gs_thr_t *t);

#endif
