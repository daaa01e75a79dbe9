/* stats.c - metrics from a trace alone.
 *
 * Every figure is derived from the lanes and instants of a gs_trace_t, never
 * from engine internals, so the viewer, the CLI and a test that fabricates a
 * trace all agree. One pass over each lane, one over the instants, and a sort
 * of the I/O-to-GIL samples for the percentiles. The definitions, with their
 * edge cases, are in docs/metrics.md; keep both in step.
 *
 *   thread lane  PY, C_GIL, C_NOGIL        -> cpu_ns
 *                PY, C_GIL, READY/SWITCH with GS_IV_HOLDS_GIL -> gil_held_ns
 *                WAIT_GIL -> gil_wait_ns; READY, SWITCH -> core_wait_ns
 *                IO, SLEEP, WAIT_* -> io_ns, sleep_ns, sync_wait_ns
 *   GIL lane     holds -> releases (voluntary = releases - forced), switches
 *   core lane    busy time -> cores.utilisation
 *   instants     drop requests, forced switches, futile wake-ups, preemptions */
#include "gilsim/stats.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static int64_t dur(const gs_interval_t *iv)
{
    return iv->end_ns - iv->start_ns;
}

/* Length of [a, b) that lies before limit. */
static int64_t clipped(int64_t a, int64_t b, int64_t limit)
{
    if (b > limit)
        b = limit;
    return b > a ? b - a : 0;
}

static int cmp_i64(const void *pa, const void *pb)
{
    int64_t a = *(const int64_t *)pa, b = *(const int64_t *)pb;
    return (a > b) - (a < b);
}

/* Nearest-rank percentile of sorted x[0..n-1]: the smallest sample such that
 * at least p% of the samples are <= it. */
static int64_t rank_pct(const int64_t *x, int64_t n, int p)
{
    int64_t rank = (p * n + 99) / 100;
    if (rank < 1)
        rank = 1;
    return x[rank - 1];
}

static void latency_from(int64_t *x, int64_t n, gs_latency_t *out)
{
    memset(out, 0, sizeof *out);
    out->n = n;
    if (n == 0)
        return;
    qsort(x, (size_t)n, sizeof *x, cmp_i64);
    out->p50 = rank_pct(x, n, 50);
    out->p90 = rank_pct(x, n, 90);
    out->p99 = rank_pct(x, n, 99);
    out->max = x[n - 1];
}

/* Does this thread-lane interval mean "holds the GIL" (or, in a process
 * without a GIL, "runs on a core")? */
static bool holds(const gs_interval_t *iv, bool has_gil)
{
    switch (iv->state) {
    case GS_ST_PY:
    case GS_ST_C_GIL:
        return true;
    case GS_ST_C_NOGIL:
        return !has_gil;
    case GS_ST_READY:
    case GS_ST_SWITCH:
        return has_gil && (iv->flags & GS_IV_HOLDS_GIL);
    default:
        return false;
    }
}

static bool is_io(const gs_interval_t *iv)
{
    return iv->state == GS_ST_IO || iv->state == GS_ST_SLEEP;
}

/* Per-thread pass over its own lane. Appends io_to_gil samples to buf. */
static void thread_pass(const gs_lane_t *lane, bool has_gil, int64_t end_ns, bool all_done,
                        gs_thread_stats_t *ts,
                        int64_t *buf, int64_t *n_buf, int64_t *ops)
{
    uint32_t last_op = GS_NO_OP;
    for (size_t k = 0; k < lane->n; k++) {
        const gs_interval_t *iv = &lane->iv[k];
        int64_t d = dur(iv);
        if (k == 0)
            ts->started_ns = iv->start_ns;
        if (ts->response_ns < 0 &&
            (iv->state == GS_ST_PY || iv->state == GS_ST_C_GIL || iv->state == GS_ST_C_NOGIL))
            ts->response_ns = iv->start_ns - ts->started_ns;
        switch (iv->state) {
        case GS_ST_PY: ts->py_ns += d; break;
        case GS_ST_C_GIL: ts->c_gil_ns += d; break;
        case GS_ST_C_NOGIL: ts->c_nogil_ns += d; break;
        case GS_ST_WAIT_GIL: ts->gil_wait_ns += d; break;
        case GS_ST_READY:
        case GS_ST_SWITCH: ts->core_wait_ns += d; break;
        case GS_ST_IO: ts->io_ns += d; break;
        case GS_ST_SLEEP: ts->sleep_ns += d; break;
        case GS_ST_WAIT_LOCK:
        case GS_ST_WAIT_EVENT:
        case GS_ST_WAIT_QUEUE:
        case GS_ST_WAIT_JOIN: ts->sync_wait_ns += d; break;
        case GS_ST_DONE:
            if (ts->finished_ns < 0)
                ts->finished_ns = iv->start_ns;
            break;
        default: break;
        }
        if (has_gil && holds(iv, true))
            ts->gil_held_ns += d;
        if (iv->op != GS_NO_OP && iv->op != last_op && iv->state != GS_ST_DONE)
            (*ops)++;
        last_op = iv->op;
        if (is_io(iv)) {
            /* The first later moment the thread holds the GIL, unless it
             * blocks again (I/O or sleep) first. */
            for (size_t j = k + 1; j < lane->n; j++) {
                const gs_interval_t *nx = &lane->iv[j];
                if (is_io(nx) || nx->state == GS_ST_DONE)
                    break;
                if (holds(nx, has_gil)) {
                    buf[(*n_buf)++] = nx->start_ns - iv->end_ns;
                    break;
                }
            }
        }
    }
    ts->cpu_ns = ts->py_ns + ts->c_gil_ns + ts->c_nogil_ns;
    if (ts->finished_ns < 0 && lane->n > 0) {
        /* No DONE interval: a lane that stops before the end of the trace
         * belongs to a thread that finished, and so does every lane of a run
         * whose outcome is "done". */
        int64_t last = lane->iv[lane->n - 1].end_ns;
        if (last < end_ns || all_done)
            ts->finished_ns = last;
    }
    ts->turnaround_ns = ts->finished_ns >= 0 && ts->started_ns >= 0
                            ? ts->finished_ns - ts->started_ns : -1;
    ts->waiting_ns = ts->core_wait_ns + ts->gil_wait_ns;
}

/* The means of the OS numbers over the threads that have them. */
static void os_means(gs_stats_t *s)
{
    int64_t sum[3] = {0, 0, 0}, n[3] = {0, 0, 0};
    for (int i = 0; i < s->n_threads; i++) {
        const gs_thread_stats_t *ts = &s->threads[i];
        int64_t v[3] = {ts->turnaround_ns, ts->response_ns, ts->started_ns >= 0 ? ts->waiting_ns : -1};
        for (int k = 0; k < 3; k++)
            if (v[k] >= 0) {
                sum[k] += v[k];
                n[k]++;
            }
    }
    s->turnaround_mean_ns = n[0] ? sum[0] / n[0] : -1;
    s->response_mean_ns = n[1] ? sum[1] / n[1] : -1;
    s->waiting_mean_ns = n[2] ? sum[2] / n[2] : -1;
}

/* Every thread's own figures and I/O-to-GIL samples, then the pooled
 * latency. 0 or GS_ENOMEM. */
static int threads_pass(const gs_trace_t *t, gs_stats_t *s)
{
    int nt = s->n_threads;
    size_t total_iv = 0;
    for (int i = 0; i < nt; i++)
        total_iv += gs_trace_lane(t, gs_trace_thread_lane(t, i))->n;
    int64_t *samples = malloc((total_iv > 0 ? total_iv : 1) * sizeof *samples);
    if (!samples)
        return GS_ENOMEM;
    /* Samples of thread i sit at samples[first[i] .. first[i+1]). */
    int64_t n_samples = 0;
    for (int i = 0; i < nt; i++) {
        gs_thread_stats_t *ts = &s->threads[i];
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
        ts->name = l->name;
        ts->process = l->process;
        ts->started_ns = ts->finished_ns = ts->response_ns = -1;
        bool has_gil = l->process >= 0 && gs_trace_gil_lane(t, l->process) >= 0;
        int64_t first = n_samples;
        thread_pass(l, has_gil, s->end_ns, s->outcome == GS_OUT_DONE, ts, samples, &n_samples,
                    &s->ops_completed);
        /* latency_from sorts in place; the pooled figure is computed after
         * all threads, from the same (then per-thread sorted) buffer. */
        latency_from(samples + first, n_samples - first, &ts->io_to_gil);
    }
    latency_from(samples, n_samples, &s->io_to_gil);
    free(samples);
    return 0;
}

/* When the run ended: the last thread's finish when every thread finished,
 * otherwise the end of the trace (the run stopped) or, for a deadlock, the
 * instant it was found (the trace goes on a little past it to show the
 * waits). Returns that end of the run. */
static int64_t makespan_pass(const gs_trace_t *t, gs_stats_t *s)
{
    int64_t last_finish = -1, end_ns = s->end_ns;
    bool all_finished = s->n_threads > 0;
    for (int i = 0; i < s->n_threads; i++) {
        if (s->threads[i].finished_ns < 0)
            all_finished = false;
        else if (s->threads[i].finished_ns > last_finish)
            last_finish = s->threads[i].finished_ns;
    }
    size_t ni = gs_trace_n_instants(t);
    const gs_instant_t *in = gs_trace_instants(t);
    for (size_t i = 0; i < ni; i++)
        if (in[i].kind == GS_IN_DEADLOCK && in[i].t_ns < end_ns)
            end_ns = in[i].t_ns;
    s->makespan_ns = all_finished ? last_finish : end_ns;
    return end_ns;
}

static void instants_pass(const gs_trace_t *t, gs_stats_t *s)
{
    size_t ni = gs_trace_n_instants(t);
    const gs_instant_t *in = gs_trace_instants(t);
    for (size_t k = 0; k < ni; k++) {
        switch (in[k].kind) {
        case GS_IN_DROP_REQUEST: s->gil_drop_requests++; break;
        case GS_IN_FORCED_SWITCH:
            s->gil_forced_switches++;
            if (in[k].thread >= 0 && in[k].thread < s->n_threads)
                s->threads[in[k].thread].forced_switches++;
            break;
        case GS_IN_FUTILE_WAKEUP: s->futile_wakeups++; break;
        case GS_IN_PREEMPT:
            s->preemptions++;
            if (in[k].arg)
                s->preemptions_of_gil_holder++;
            break;
        default: break;
        }
    }
}

/* GIL lanes: holds, releases, changes of holder, up to run_end. 0 or
 * GS_ENOMEM. */
static int gil_pass(const gs_trace_t *t, gs_stats_t *s, int64_t run_end)
{
    int nt = s->n_threads;
    int64_t *releases = calloc(nt > 0 ? (size_t)nt : 1, sizeof *releases);
    if (!releases)
        return GS_ENOMEM;
    for (int p = 0; p < gs_trace_n_processes(t); p++) {
        int li = gs_trace_gil_lane(t, p);
        if (li < 0)
            continue;
        s->n_gil_processes++;
        const gs_lane_t *l = gs_trace_lane(t, li);
        int32_t prev = -1;
        for (size_t k = 0; k < l->n; k++) {
            const gs_interval_t *iv = &l->iv[k];
            int32_t who = iv->who;
            if (who < 0 || who >= nt)
                continue;
            s->gil_held_ns += clipped(iv->start_ns, iv->end_ns, s->makespan_ns);
            if (prev >= 0 && who != prev)
                s->gil_switches++;
            prev = who;
            /* A hold cut by the end of a stopped run is not a release. */
            if (iv->end_ns < run_end || s->threads[who].finished_ns >= 0)
                releases[who]++;
        }
    }
    for (int i = 0; i < nt; i++) {
        int64_t v = releases[i] - s->threads[i].forced_switches;
        s->threads[i].voluntary_switches = v > 0 ? v : 0;
    }
    free(releases);
    return 0;
}

static void cores_pass(const gs_trace_t *t, gs_stats_t *s)
{
    for (int c = 0; c < s->n_cores; c++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, c));
        for (size_t k = 0; k < l->n; k++) {
            const gs_interval_t *iv = &l->iv[k];
            if (iv->who >= 0 && iv->state != GS_ST_SWITCH)
                s->core_busy_ns += clipped(iv->start_ns, iv->end_ns, s->makespan_ns);
        }
    }
}

static void ratios(gs_stats_t *s)
{
    int nt = s->n_threads;
    double mk = (double)s->makespan_ns;
    if (mk > 0) {
        if (s->n_gil_processes > 0)
            s->gil_utilisation = (double)s->gil_held_ns / (mk * s->n_gil_processes);
        if (s->n_cores > 0)
            s->cores_utilisation = (double)s->core_busy_ns / (mk * s->n_cores);
        double work = 0;
        for (int i = 0; i < nt; i++)
            work += (double)(s->threads[i].cpu_ns + s->threads[i].io_ns + s->threads[i].sleep_ns);
        s->speedup_vs_serial = work / mk;
        s->throughput_ops_per_s = (double)s->ops_completed / (mk / 1e9);
    }
    double sum = 0, sum2 = 0;
    for (int i = 0; i < nt; i++) {
        double x = (double)s->threads[i].cpu_ns;
        sum += x;
        sum2 += x * x;
    }
    s->fairness_jain = (nt > 0 && sum2 > 0) ? sum * sum / (nt * sum2) : 1.0;
}

int gs_stats_compute(const gs_trace_t *t, gs_stats_t *s)
{
    memset(s, 0, sizeof *s);
    if (!t)
        return GS_EINVAL;
    s->outcome = gs_trace_outcome(t);
    s->end_ns = gs_trace_end_ns(t);
    s->events = gs_trace_events(t);
    s->n_threads = gs_trace_n_threads(t);
    s->n_cores = gs_trace_n_cores(t);
    s->threads = calloc(s->n_threads > 0 ? (size_t)s->n_threads : 1, sizeof *s->threads);
    if (!s->threads || threads_pass(t, s) != 0)
        goto oom;
    int64_t run_end = makespan_pass(t, s);
    instants_pass(t, s);
    if (gil_pass(t, s, run_end) != 0)
        goto oom;
    cores_pass(t, s);
    ratios(s);
    os_means(s);
    return 0;
oom:
    gs_stats_destroy(s);
    return GS_ENOMEM;
}

void gs_stats_destroy(gs_stats_t *s)
{
    if (!s)
        return;
    free(s->threads);
    s->threads = NULL;
    s->n_threads = 0;
}

/* ---- the metric tables -------------------------------------------------- */

#define GS_METRIC_ROW_(key, field, kind) {key, GS_METRIC_##kind, offsetof(gs_stats_t, field)},
static const gs_metric_t run_metrics[] = {GS_METRIC_MAP(GS_METRIC_ROW_)};
#undef GS_METRIC_ROW_
#define GS_METRIC_ROW_(key, field, kind)                                                         \
    {key, GS_METRIC_##kind, offsetof(gs_thread_stats_t, field)},
static const gs_metric_t thread_metrics[] = {GS_THREAD_METRIC_MAP(GS_METRIC_ROW_)};
#undef GS_METRIC_ROW_

const gs_metric_t *gs_metrics_run(int *n)
{
    *n = (int)(sizeof run_metrics / sizeof run_metrics[0]);
    return run_metrics;
}

const gs_metric_t *gs_metrics_thread(int *n)
{
    *n = (int)(sizeof thread_metrics / sizeof thread_metrics[0]);
    return thread_metrics;
}

const gs_metric_t *gs_metric_find(const char *key)
{
    for (size_t i = 0; i < sizeof run_metrics / sizeof run_metrics[0]; i++)
        if (strcmp(run_metrics[i].key, key) == 0)
            return &run_metrics[i];
    return NULL;
}

int64_t gs_metric_i64(const gs_metric_t *m, const void *rec)
{
    const char *p = (const char *)rec + m->offset;
    switch (m->kind) {
    case GS_METRIC_INT: {
        int v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    case GS_METRIC_F64: {
        double v;
        memcpy(&v, p, sizeof v);
        return (int64_t)v;
    }
    default: {
        int64_t v;
        memcpy(&v, p, sizeof v);
        return v;
    }
    }
}

double gs_metric_f64(const gs_metric_t *m, const void *rec)
{
    if (m->kind != GS_METRIC_F64)
        return (double)gs_metric_i64(m, rec);
    double v;
    memcpy(&v, (const char *)rec + m->offset, sizeof v);
    return v;
}

int gs_metric_format(const gs_metric_t *m, const void *rec, char *buf, size_t n)
{
    if (m->kind == GS_METRIC_F64)
        return snprintf(buf, n, "%.6g", gs_metric_f64(m, rec));
    int64_t v = gs_metric_i64(m, rec);
    if (m->kind == GS_METRIC_OPT_NS && v < 0)
        return snprintf(buf, n, "%s", "");
    return snprintf(buf, n, "%lld", (long long)v);
}
