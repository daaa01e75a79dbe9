/* eevdf.h - eevdf.c's interface for the engine: Linux's EEVDF for os.c. */
#ifndef GILSIM_EEVDF_H
#define GILSIM_EEVDF_H

#include "engine_int.h"

/* eevdf.c, for os.c: Linux's EEVDF (V, eligibility, lag, placement) */
int64_t gs__eevdf_avg(gs_engine_t *e, const gs_thr_t *skip); /* the machine's V */
int64_t gs__eevdf_core_v(gs_engine_t *e, const gs_core_t *c, const gs_thr_t *skip,
                         int64_t *load); /* core c's own V (placement) */
gs_thr_t *gs__eevdf_best(const gs_engine_t *e, int64_t V, const gs_core_t *c); /* pick */
/* the V that core c judges eligibility by: its own queue's (per-CPU V), else
 * the machine's */
int64_t gs__eevdf_v(gs_engine_t *e, gs_core_t *c);
void gs__eevdf_renew(gs_engine_t *e, gs_thr_t *t);   /* its slice used: a new deadline */
void gs__eevdf_seen(gs_engine_t *e, gs_thr_t *t);    /* update_curr point */
void gs__eevdf_place(gs_engine_t *e, gs_thr_t *t, const gs_core_t *on); /* waking */
void gs__eevdf_leave(gs_engine_t *e, gs_thr_t *t, bool sleep); /* leaving the queue */
void gs__eevdf_settle(gs_engine_t *e, gs_core_t *c, const gs_thr_t *next); /* c picks:
                             its delayed threads that the pick meets leave */
bool gs__eevdf_slice_over(gs_engine_t *e, gs_core_t *c); /* c's thread used its
                             slice: true if a ready thread takes the core */

#endif
