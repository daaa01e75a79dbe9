/* qend.h - a queue's end markers (qend.c); engine-private. */
#ifndef GILSIM_QEND_H
#define GILSIM_QEND_H

#include "engine_int.h"

/* t's put (put) or get on queue i has just changed its length, in
 * queue_op (sync.c): an end put queues its marker, a get records whether
 * the item it took was one. No-op for a queue that never had a marker. */
void gs__qend_op(gs_engine_t *e, gs_thr_t *t, int i, bool put);
void gs__qend_free(gs_engine_t *e); /* every queue's markers */

#endif
