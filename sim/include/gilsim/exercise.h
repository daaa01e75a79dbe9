/* exercise.h - predict, then reveal: a seeded variant of a lesson, a key
 * figure to predict, and the answer read from its run (gilsim exercise,
 * gilsim-view E).
 *
 * A topic is a lesson, two settings the seed varies in it (the switch
 * interval, a C call's length, the cores, the GIL...) and the figure the
 * student predicts. The same topic and seed give the same variant, so the
 * same answer: the caller runs the lesson with the variant's settings and
 * its seed, and gs_exercise_answer reads the figure from that run. */
#ifndef GILSIM_EXERCISE_H
#define GILSIM_EXERCISE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "stats.h"
#include "trace.h"

typedef enum gs_ex_figure {
    GS_EX_IO_TO_GIL_P50, /* a thread's median delay from I/O end to the GIL */
    GS_EX_LONGEST_WAIT,  /* a thread's longest wait for the GIL */
    GS_EX_SPEEDUP,       /* the run's speed-up over serial */
    GS_EX_MAKESPAN       /* the run's length */
} gs_ex_figure_t;

typedef struct gs_exercise {
    const char *topic;    /* "convoy" (static) */
    const char *lesson;   /* "03-convoy.json", in the lessons' folder (static) */
    const char *question; /* one or two sentences, '\n' between lines (static) */
    const char *thread;   /* whose figure, NULL for the run's (static) */
    gs_ex_figure_t figure;
    uint64_t seed;        /* also the run's seed */
    char set[2][160];     /* the variant: "python.switch_interval=2ms" (--set form) */
} gs_exercise_t;

GS_API int gs_exercise_n_topics(void);
GS_API const char *gs_exercise_topic(int i); /* "convoy", NULL out of range */
/* The variant of topic for seed; topic NULL: the seed picks the topic too.
 * 0, or GS_EINVAL for an unknown topic. */
GS_API int gs_exercise_make(const char *topic, uint64_t seed, gs_exercise_t *ex);
/* "python.switch_interval = 2ms, machine.cores = 4" */
GS_API void gs_exercise_settings(const gs_exercise_t *ex, char *buf, size_t n);
/* The figure of a run of the variant (the lesson with ex->set and seed),
 * with in *at the instant that shows it (the thread's longest GIL wait, else
 * the middle of the run) and in *thread whose it is (-1: the run's). */
GS_API double gs_exercise_answer(const gs_exercise_t *ex, const gs_trace_t *t,
                                 const gs_stats_t *s, int64_t *at, int *thread);
/* The figure as shown: "4.95 ms", "1.02x". */
GS_API void gs_exercise_format(const gs_exercise_t *ex, double v, char *buf, size_t n);
/* A prediction: "5ms", "5 ms", "1.5x", or a bare number in the figure's unit (ms for
 * times, the factor for a speed-up). False when it cannot be read. */
GS_API bool gs_exercise_read_guess(const gs_exercise_t *ex, const char *s, double *out);
/* "too high by 12%", "too low by 3%", "exact". */
GS_API void gs_exercise_score(double guess, double answer, char *buf, size_t n);

#endif
