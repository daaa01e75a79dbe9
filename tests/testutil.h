/* testutil.h - building models in C and measuring traces, for the suites. */
#ifndef GILSIM_TESTUTIL_H
#define GILSIM_TESTUTIL_H

#include <check.h>
#include <stdarg.h>

#include "gilsim/gilsim.h"
#include "tu_main.h" /* tu_main: main()'s body for a suite */

#define MS(x) ((int64_t)((x)*1000000.0))
#define US(x) ((int64_t)((x)*1000.0))

gs_op_t tu_cpu(int64_t ns);
gs_op_t tu_io(int64_t ns);
gs_op_t tu_sleep(int64_t ns);
gs_op_t tu_c(int64_t ns, bool releases_gil);
gs_op_t tu_sync(gs_op_kind_t k, int target);
/* repeat count times the n ops that follow (copied) */
gs_op_t tu_repeat(int64_t count, int n, ...);

/* A model with `cores` cores, policy, and one process with `gil`. */
gs_model_t *tu_model(int cores, gs_policy_t policy, gs_gil_kind_t gil);
/* Adds a thread running the n ops that follow; returns its index. */
int tu_thread(gs_model_t *m, const char *name, int n, ...);
int tu_thread_in(gs_model_t *m, int process, const char *name, int n, ...);

/* Runs m, asserts (with check's ck_assert) that the invariants hold, and
 * returns the trace. rc_out may be NULL (then the run must end as done). */
gs_trace_t *tu_run(const gs_model_t *m, int *rc_out);

/* Measures over a thread's lane. */
int64_t tu_time_in(const gs_trace_t *t, int thread, gs_state_t st);
int64_t tu_finish(const gs_trace_t *t, int thread); /* end of its last interval */
/* When the last of threads 0..n-1 finished (n < 0: of every thread). */
int64_t tu_last_finish(const gs_trace_t *t, int n);
/* Runs m (tu_run: it must end as done), frees it, and returns
 * tu_last_finish of its first n threads (n < 0: every thread's). */
int64_t tu_run_last_finish(gs_model_t *m, int n);
int64_t tu_count(const gs_trace_t *t, gs_instant_kind_t k, int thread); /* thread -1: any */
/* I/O-or-sleep end -> GIL held again, per completion; returns count, fills
 * out (up to max) */
int tu_io_to_gil(const gs_trace_t *t, int thread, int64_t *out, int max);
int64_t tu_median(int64_t *v, int n);
/* Per drop request in process 0 (those the GIL changed hands after): *n
 * is increased, and *won too when the requester took the GIL next. */
void tu_requester_takes(const gs_trace_t *t, int *n, int *won);
/* Longest stretch a thread spent in WAIT_GIL/READY without running. */
int64_t tu_longest_gil_wait(const gs_trace_t *t, int thread);
/* Whole trace as text, malloc'd. */
char *tu_dump(const gs_trace_t *t, size_t *len);

/* Text built a piece at a time (a hand-written recording's events): each
 * tu_text_add after the first puts sep before its piece; it ck_asserts that
 * the text fits. */
typedef struct tu_text {
    char s[65536];
    size_t n;
} tu_text_t;
__attribute__((format(printf, 3, 4))) void tu_text_add(tu_text_t *b, const char *sep,
                                                       const char *fmt, ...);

#endif
