/* stats.h - metrics derived from a trace (never from engine internals).
 *
 * Names follow the JSON summary (docs/metrics.md): a field foo_ns here is
 * "foo_ns" there. Computed in one pass over the lanes plus a sort for the
 * I/O-to-GIL percentiles. */
#ifndef GILSIM_STATS_H
#define GILSIM_STATS_H

#include <stdint.h>

#include "common.h"
#include "trace.h"

typedef struct gs_latency {
    int64_t n;                   /* samples */
    int64_t p50, p90, p99, max;  /* ns; 0 when n == 0 */
} gs_latency_t;

typedef struct gs_thread_stats {
    const char *name;   /* borrowed from the trace */
    int process;
    int64_t cpu_ns;      /* on a core: Python + C with and without the GIL */
    int64_t py_ns, c_gil_ns, c_nogil_ns;
    int64_t gil_held_ns; /* holding the GIL, on a core or not */
    int64_t gil_wait_ns; /* WAIT_GIL */
    int64_t core_wait_ns; /* READY + SWITCH (waiting for a core, being switched in) */
    int64_t io_ns, sleep_ns, sync_wait_ns;
    int64_t started_ns, finished_ns; /* -1 if it never started / finished */
    int64_t voluntary_switches; /* gave up the GIL on its own (I/O, sleep, C, lock, done) */
    int64_t forced_switches;    /* dropped it on a drop request */
    gs_latency_t io_to_gil;     /* I/O or sleep completing -> holding the GIL again */
} gs_thread_stats_t;

typedef struct gs_stats {
    int64_t makespan_ns;   /* until the last thread finished (or the run stopped) */
    int64_t events;
    int64_t gil_switches;         /* changes of GIL holder, all processes */
    int64_t gil_forced_switches;
    int64_t gil_drop_requests;
    int64_t futile_wakeups;
    int64_t preemptions;          /* OS preemptions */
    int64_t preemptions_of_gil_holder;
    double gil_utilisation;   /* held time / (makespan x processes with a GIL) */
    double cores_utilisation; /* running time / (makespan x cores) */
    double speedup_vs_serial; /* sum of every thread's own work / makespan */
    double fairness_jain;     /* Jain's index over threads' cpu_ns */
    double throughput_ops_per_s; /* completed ops per simulated second */
    int64_t ops_completed;
    gs_outcome_t outcome;
    int n_threads;
    gs_thread_stats_t *threads; /* owned */
    /* added for the CLI and sweeps (issue 6) */
    gs_latency_t io_to_gil;   /* every thread's samples together */
    int n_cores;
    int n_gil_processes;      /* processes that have a GIL */
    int64_t gil_held_ns;      /* GIL-lane time held, all processes, up to makespan */
    int64_t core_busy_ns;     /* core-lane time running a thread, up to makespan */
} gs_stats_t;

/* Fills s (caller-owned) from t. 0 or GS_ENOMEM. Free with gs_stats_destroy. */
GS_API int gs_stats_compute(const gs_trace_t *t, gs_stats_t *s);
GS_API void gs_stats_destroy(gs_stats_t *s);

#endif
