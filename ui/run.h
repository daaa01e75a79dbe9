/* run.h - load a scenario, simulate it and compute its metrics, for the view. */
#ifndef GV_RUN_H
#define GV_RUN_H

#include "view.h"

/* Loads path (NULL = built-in default scenario) with overrides, runs it and
 * computes the stats into r (which must be zeroed or cleared). On failure r
 * is left empty and err holds every diagnostic, one per line. 0 or GS_E*. A
 * run that stops early (deadlock, limit) still succeeds: its trace says why. */
int gv_run_make(gv_run_t *r, const char *path, const gs_override_t *ov, int n_ov, char *err,
                size_t n_err);
void gv_run_clear(gv_run_t *r);

/* "interval 5 ms" style value names for the knob bar. */
void gv_interval_name(char *buf, size_t n, int64_t ns);

#endif
