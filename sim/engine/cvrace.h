/* cvrace.h - cvrace.c's interface for the engine: the condition variable's
 * futex timings at a forced drop. */
#ifndef GILSIM_CVRACE_H
#define GILSIM_CVRACE_H

#include "engine_int.h"

/* cvrace.c: the condition variable's timings at a forced drop (gil.c asks) */
int64_t gs__cvrace_holder_wait_ns(const gs_engine_t *e); /* requester first: the drop's delay */
bool gs__cvrace_queued(const gs_engine_t *e, const gs_thr_t *w); /* in the futex queue */
bool gs__cvrace_drop_due(const gs_engine_t *e, const gs_gil_t *g); /* may the holder drop now */

#endif
