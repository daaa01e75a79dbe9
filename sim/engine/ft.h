/* ft.h - ft.c's interface for the engine: free-threaded Python's shared
 * objects, stop-the-world steps. */
#ifndef GILSIM_FT_H
#define GILSIM_FT_H

#include "engine_int.h"

/* ft.c */
int gs__ft_init(gs_engine_t *e);
void gs__ft_destroy(gs_engine_t *e);
void gs__ft_retime(gs_engine_t *e, int object);      /* EV_FT */
void gs__ft_step(gs_engine_t *e, gs_thr_t *t);        /* M_FT */
/* Wall time for python_ns of t's Python at its current speed, and Python
 * progress in wall_ns (ft.c: a thread on a shared object runs slower). */
static inline int64_t gs__ft_wall(const gs_thr_t *t, int64_t python_ns)
{
    if (t->stretch_ppm <= 1000000 || python_ns <= 0)
        return python_ns;
    return (python_ns * t->stretch_ppm + 999999) / 1000000;
}

static inline int64_t gs__ft_progress(const gs_thr_t *t, int64_t wall_ns)
{
    if (t->stretch_ppm <= 1000000 || !t->accessing)
        return wall_ns;
    return (wall_ns * 1000000 + t->stretch_ppm - 1) / t->stretch_ppm;
}

#endif
