/* idlecpu.h - whether a recorded CPU was idle at a moment, read off the
 * recording's own threads (idlecpu.c; fit-private). */
#ifndef GILSIM_FIT_IDLECPU_H
#define GILSIM_FIT_IDLECPU_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct gsr_recording;

typedef struct fit_busy {
    int64_t a, b; /* [a, b): the CPU was taken (or a wake was on its way to it) */
    int32_t cpu;
    int thread; /* whose */
} fit_busy_t;

typedef struct fit_cpus {
    fit_busy_t *iv; /* owned; sorted by a */
    size_t n;
    int64_t max_len; /* the longest interval: how far back a query looks */
} fit_cpus_t;

/* The busy intervals of r's threads, by CPU. 0, or -1 out of memory (then
 * c holds nothing). A recording without CPUs gives none. */
int fit_cpus_init(const struct gsr_recording *r, fit_cpus_t *c);
void fit_cpus_destroy(fit_cpus_t *c);
/* Whether cpu was idle at t as far as the recording shows: no thread but
 * `a` and `b` (-1: none) held the GIL or ran its way back from a wait
 * there, and no wake of another thread was on its way to it. O(log n +
 * the intervals within max_len before t). */
bool fit_cpu_idle(const fit_cpus_t *c, int32_t cpu, int64_t t, int a, int b);

#endif
