/* stats.h - metrics derived from a trace (never from engine internals).
 *
 * Computed in one pass over the lanes plus a sort for the I/O-to-GIL
 * percentiles. The public name of every metric (in the JSON summary, the
 * sweep CSV and docs/metrics.md) is given once, by GS_METRIC_MAP and
 * GS_THREAD_METRIC_MAP below, next to the field that holds it. */
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
    int64_t gil_ask_to_hold_ns; /* WAIT_GIL + READY/SWITCH inside a GIL wait */
    int64_t core_wait_ns; /* READY + SWITCH (waiting for a core, being switched in) */
    int64_t io_ns, sleep_ns, sync_wait_ns;
    int64_t started_ns, finished_ns; /* -1 if it never started / finished */
    int64_t voluntary_switches; /* gave up the GIL on its own (I/O, sleep, C, lock, done) */
    int64_t forced_switches;    /* dropped it on a drop request */
    gs_latency_t io_to_gil;     /* I/O or sleep completing -> holding the GIL again */
    /* The OS textbook's numbers (arrival = started_ns): */
    int64_t turnaround_ns; /* finished - started; -1 if it did not finish */
    int64_t response_ns;   /* first time on a core - started; -1 if it never ran */
    int64_t waiting_ns;    /* runnable but not running: core_wait + gil_wait */
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
    gs_latency_t io_to_gil;   /* every thread's samples together */
    int n_cores;
    int n_gil_processes;      /* processes that have a GIL */
    int64_t gil_held_ns;      /* GIL-lane time held, all processes, up to makespan */
    int64_t core_busy_ns;     /* core-lane time running a thread, up to makespan */
    /* means over the threads that have them (-1: none) */
    int64_t turnaround_mean_ns, response_mean_ns, waiting_mean_ns;
    int64_t end_ns;           /* the end of the trace */
} gs_stats_t;

/* THE METRICS, one row each: the public key (the JSON summary's dotted path,
 * an object per dot, and the sweep CSV's column), the field of gs_stats_t
 * (or gs_thread_stats_t) that holds it, and how it is stored: I64 (int64_t),
 * INT (int), F64 (double), OPT_NS (int64_t ns, -1 = absent: JSON null, CSV
 * empty). Order is the order of the summary and of the CSV columns. Every
 * key is described in docs/metrics.md (check_stats checks it). */
/* The rows of a gs_latency_t: KEY.n, KEY.p50, ... of FIELD.n, FIELD.p50, ... */
#define GS_LATENCY_METRICS_(X, key, field)                                               \
    X(key ".n", field.n, I64)                                                            \
    X(key ".p50", field.p50, I64)                                                        \
    X(key ".p90", field.p90, I64)                                                        \
    X(key ".p99", field.p99, I64)                                                        \
    X(key ".max", field.max, I64)

#define GS_METRIC_MAP(X)                                                                 \
    X("makespan_ns", makespan_ns, I64)                                                   \
    X("end_ns", end_ns, I64)                                                             \
    X("events", events, I64)                                                             \
    X("gil.switches", gil_switches, I64)                                                 \
    X("gil.forced_switches", gil_forced_switches, I64)                                   \
    X("gil.drop_requests", gil_drop_requests, I64)                                       \
    X("gil.futile_wakeups", futile_wakeups, I64)                                         \
    X("gil.held_ns", gil_held_ns, I64)                                                   \
    X("gil.utilisation", gil_utilisation, F64)                                           \
    X("cores.count", n_cores, INT)                                                       \
    X("cores.busy_ns", core_busy_ns, I64)                                                \
    X("cores.utilisation", cores_utilisation, F64)                                       \
    X("cores.preemptions", preemptions, I64)                                             \
    X("cores.preemptions_of_gil_holder", preemptions_of_gil_holder, I64)                 \
    X("speedup_vs_serial", speedup_vs_serial, F64)                                       \
    X("fairness_jain", fairness_jain, F64)                                               \
    X("ops_completed", ops_completed, I64)                                               \
    X("throughput_ops_per_s", throughput_ops_per_s, F64)                                 \
    GS_LATENCY_METRICS_(X, "io_to_gil_ns", io_to_gil)                                   \
    X("os.turnaround_mean_ns", turnaround_mean_ns, OPT_NS)                               \
    X("os.response_mean_ns", response_mean_ns, OPT_NS)                                   \
    X("os.waiting_mean_ns", waiting_mean_ns, OPT_NS)

#define GS_THREAD_METRIC_MAP(X)                                                          \
    X("cpu_ns", cpu_ns, I64)                                                             \
    X("python_ns", py_ns, I64)                                                           \
    X("c_gil_ns", c_gil_ns, I64)                                                         \
    X("c_nogil_ns", c_nogil_ns, I64)                                                     \
    X("gil_held_ns", gil_held_ns, I64)                                                   \
    X("gil_wait_ns", gil_wait_ns, I64)                                                   \
    X("gil_ask_to_hold_ns", gil_ask_to_hold_ns, I64)                                     \
    X("core_wait_ns", core_wait_ns, I64)                                                 \
    X("io_ns", io_ns, I64)                                                               \
    X("sleep_ns", sleep_ns, I64)                                                         \
    X("sync_wait_ns", sync_wait_ns, I64)                                                 \
    X("started_ns", started_ns, OPT_NS)                                                  \
    X("finished_ns", finished_ns, OPT_NS)                                                \
    X("voluntary_switches", voluntary_switches, I64)                                     \
    X("forced_switches", forced_switches, I64)                                           \
    GS_LATENCY_METRICS_(X, "io_to_gil_ns", io_to_gil)                                   \
    X("turnaround_ns", turnaround_ns, OPT_NS)                                            \
    X("response_ns", response_ns, OPT_NS)                                                \
    X("waiting_ns", waiting_ns, I64)

typedef enum gs_metric_kind {
    GS_METRIC_I64,
    GS_METRIC_INT,
    GS_METRIC_F64,
    GS_METRIC_OPT_NS
} gs_metric_kind_t;

typedef struct gs_metric {
    const char *key;       /* "gil.switches" */
    gs_metric_kind_t kind;
    size_t offset;         /* of the field in its record */
} gs_metric_t;

/* The tables above as arrays: run metrics (records are gs_stats_t) and
 * per-thread metrics (records are gs_thread_stats_t). *n gets the count. */
GS_API const gs_metric_t *gs_metrics_run(int *n);
GS_API const gs_metric_t *gs_metrics_thread(int *n);
/* The metric named key in the run table, or NULL. */
GS_API const gs_metric_t *gs_metric_find(const char *key);
/* The value of m in rec: an integer kind as int64_t; absent = -1. */
GS_API int64_t gs_metric_i64(const gs_metric_t *m, const void *rec);
GS_API double gs_metric_f64(const gs_metric_t *m, const void *rec); /* any kind */
/* The value as the CSV writes it: "%lld" for integers, "%.6g" for F64, ""
 * for an absent OPT_NS. Returns what snprintf returns. */
GS_API int gs_metric_format(const gs_metric_t *m, const void *rec, char *buf, size_t n);

/* Fills s (caller-owned) from t. 0 or GS_ENOMEM. Free with gs_stats_destroy. */
GS_API int gs_stats_compute(const gs_trace_t *t, gs_stats_t *s);
GS_API void gs_stats_destroy(gs_stats_t *s);

#endif
