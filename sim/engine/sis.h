/* sis.h - sis.c's interface for the engine: Linux's SIS_UTIL, the idle-CPU
 * scan of a wake-up cut by the LLC's utilisation (machine.sis_util). */
#ifndef GILSIM_SIS_H
#define GILSIM_SIS_H

#include <stdbool.h>
#include <stdint.h>

struct gs_engine;
struct gs_core;
struct gs_ctx; /* gs_thr_t */

int gs__sis_init(struct gs_engine *e); /* 0, or -1 out of memory; nothing when off */
void gs__sis_free(struct gs_engine *e);
/* kernel.c: core c's lane changed; busy: a thread is on it (ON or SWITCHING) */
void gs__sis_core(struct gs_engine *e, const struct gs_core *c, bool busy);
/* wake.c: t, woken by waker (on a core) while t's previous core is busy and
 * some core idles: the idle core the scan finds, or NULL (queue on the
 * waker's core) */
struct gs_core *gs__sis_scan(struct gs_engine *e, const struct gs_ctx *t,
                             const struct gs_ctx *waker);
/* tests: the LLC's budget now (nr_idle_scan), after the balance ticks due;
 * *sum_util: the sum of the cores' util_avg at the last tick (0..cores) */
int gs__sis_budget(struct gs_engine *e, double *sum_util, int64_t *at_ns);

#endif
