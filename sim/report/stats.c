/* stats.c - metrics from a trace alone.
 *
 * Every figure is derived from the lanes and instants of a gs_trace_t, never
 * from engine internals, so the viewer, the CLI and a test that fabricates a
 * trace all agree. One pass over each lane, one over the instants, and a sort
 * of the I/O-to-GIL samples for the percentiles. The definitions, with their
 * edge cases, are in docs/metrics.md; keep both in step.
 *
 * The per-interval sums are base's trace_tally.c: a metrics-only run (`gilsim
 * sweep`, gs_run_opts.metrics_only) feeds them while it runs and keeps no
 * interval, and this file feeds them a kept trace's lanes; both then end
 * here, so a sweep's figures are the same bytes as a run's (check_tally).
 *
 *   thread lane  PY, C_GIL, C_NOGIL        -> cpu_ns
 *                PY, C_GIL, READY/SWITCH with GS_IV_HOLDS_GIL -> gil_held_ns
 *                (a free-threaded process: only after its gil_enabled)
 *                WAIT_GIL -> gil_wait_ns; READY, SWITCH -> core_wait_ns
 *                WAIT_GIL and the READY/SWITCH without the GIL after it, up
 *                to the next other interval -> gil_ask_to_hold_ns
 *                IO, SLEEP, WAIT_* -> io_ns, sleep_ns, sync_wait_ns
 *   GIL lane     holds -> releases (voluntary = releases - forced), switches
 *   core lane    busy time -> cores.utilisation
 *   instants     drop requests, forced switches, futile wake-ups, preemptions */
#include "gilsim/stats.h"

#include "gilsim/model.h"
#include "trace_tally.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

/* The tally of a trace that kept its intervals: every thread lane's
 * intervals and every instant, in order, through the sums a metrics-only run
 * feeds as it goes. GIL and core lanes wait for the makespan (gil_pass,
 * cores_pass). 0 or GS_ENOMEM. */
static int tally_of(const gs_trace_t *t, gs_tally_t *ty)
{
    memset(ty, 0, sizeof *ty);
    int nt = gs_trace_n_threads(t), np = gs_trace_n_processes(t);
    int32_t *process = calloc((size_t)nt + 1, sizeof *process);
    int64_t *gil_from = calloc((size_t)np + 1, sizeof *gil_from);
    bool ok = process && gil_from;
    for (int i = 0; ok && i < nt; i++)
        process[i] = gs_trace_lane(t, gs_trace_thread_lane(t, i))->process;
    /* a GIL build's GIL is there from the start; a free-threaded process
     * (a GIL lane, kind none) has one from its GS_IN_GIL_ENABLED, if any */
    for (int p = 0; ok && p < np; p++)
        gil_from[p] = gs_trace_gil_lane(t, p) >= 0 && gs_trace_process_gil(t, p) != GS_GIL_NONE
                          ? 0 : INT64_MAX;
    ok = ok && gs__tally_init(ty, nt, np, process, gil_from);
    free(process);
    free(gil_from);
    /* the instants first: a GS_IN_GIL_ENABLED decides how the thread lanes
     * count; every other instant's sum is the same in any order */
    size_t ni = gs_trace_n_instants(t);
    const gs_instant_t *in = gs_trace_instants(t);
    for (size_t k = 0; ok && k < ni; k++)
        gs__tally_instant(ty, in[k].t_ns, (gs_instant_kind_t)in[k].kind, in[k].thread,
                          in[k].arg);
    for (int i = 0; ok && i < nt; i++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
        for (size_t k = 0; ok && k < l->n; k++)
            ok = gs__tally_thread(ty, i, &l->iv[k]);
    }
    return ok ? 0 : GS_ENOMEM;
}

/* A thread's figures from its lane's sums. */
static void thread_from(const gs_tally_thread_t *tt, int64_t end_ns, bool all_done,
                        gs_thread_stats_t *ts)
{
    ts->started_ns = tt->started_ns;
    ts->response_ns = tt->response_ns;
    ts->finished_ns = tt->finished_ns;
    const int64_t *d = tt->st_ns;
    ts->py_ns = d[GS_ST_PY];
    ts->c_gil_ns = d[GS_ST_C_GIL];
    ts->c_nogil_ns = d[GS_ST_C_NOGIL];
    ts->gil_wait_ns = d[GS_ST_WAIT_GIL];
    ts->gil_ask_to_hold_ns = tt->gil_ask_ns;
    ts->core_wait_ns = d[GS_ST_READY] + d[GS_ST_SWITCH];
    ts->io_ns = d[GS_ST_IO];
    ts->sleep_ns = d[GS_ST_SLEEP];
    ts->sync_wait_ns =
        d[GS_ST_WAIT_LOCK] + d[GS_ST_WAIT_EVENT] + d[GS_ST_WAIT_QUEUE] + d[GS_ST_WAIT_JOIN];
    ts->gil_held_ns = tt->gil_held_ns;
    ts->forced_switches = tt->forced_switches;
    ts->cpu_ns = ts->py_ns + ts->c_gil_ns + ts->c_nogil_ns;
    if (ts->finished_ns < 0 && tt->n > 0) {
        /* No DONE interval: a lane that stops before the end of the trace
         * belongs to a thread that finished, and so does every lane of a run
         * whose outcome is "done". */
        if (tt->last_end < end_ns || all_done)
            ts->finished_ns = tt->last_end;
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
static int threads_pass(const gs_trace_t *t, const gs_tally_t *ty, gs_stats_t *s)
{
    int nt = s->n_threads;
    int64_t total = 0;
    for (int i = 0; i < nt; i++)
        total += ty->thr[i].n_samples;
    int64_t *samples = malloc((total > 0 ? (size_t)total : 1) * sizeof *samples);
    if (!samples)
        return GS_ENOMEM;
    /* Samples of thread i sit at samples[first[i] .. first[i+1]). */
    int64_t n_samples = 0;
    for (int i = 0; i < nt; i++) {
        gs_thread_stats_t *ts = &s->threads[i];
        const gs_tally_thread_t *tt = &ty->thr[i];
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
        ts->name = l->name;
        ts->process = l->process;
        thread_from(tt, s->end_ns, s->outcome == GS_OUT_DONE, ts);
        s->ops_completed += tt->ops;
        int64_t first = n_samples;
        if (tt->n_samples > 0)
            memcpy(samples + first, tt->samples, (size_t)tt->n_samples * sizeof *samples);
        n_samples += tt->n_samples;
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
static int64_t makespan_pass(const gs_tally_t *ty, gs_stats_t *s)
{
    int64_t last_finish = -1, end_ns = s->end_ns;
    bool all_finished = s->n_threads > 0;
    for (int i = 0; i < s->n_threads; i++) {
        if (s->threads[i].finished_ns < 0)
            all_finished = false;
        else if (s->threads[i].finished_ns > last_finish)
            last_finish = s->threads[i].finished_ns;
    }
    if (ty->deadlock_ns < end_ns)
        end_ns = ty->deadlock_ns;
    s->makespan_ns = all_finished ? last_finish : end_ns;
    return end_ns;
}

static void instants_pass(const gs_tally_t *ty, gs_stats_t *s)
{
    s->gil_drop_requests = ty->drop_requests;
    s->gil_forced_switches = ty->forced_switches;
    s->futile_wakeups = ty->futile_wakeups;
    s->preemptions = ty->preemptions;
    s->preemptions_of_gil_holder = ty->preemptions_of_gil_holder;
}

/* GIL lanes: holds, releases, changes of holder, up to run_end: the kept
 * lanes' holds, or the holds a metrics-only run left (trace_tally.h) added to
 * its sums. w is a copy of the tally whose GIL arrays this pass may change.
 * *span_ns: the time the processes had a GIL, up to the makespan (a
 * free-threaded process from its GIL_ENABLED on, or not at all). 0 or
 * GS_ENOMEM. */
static int gil_pass(const gs_trace_t *t, gs_tally_t *w, gs_stats_t *s, int64_t run_end,
                    int64_t *span_ns)
{
    int nt = s->n_threads;
    int64_t *finished = calloc(nt > 0 ? (size_t)nt : 1, sizeof *finished);
    if (!finished)
        return GS_ENOMEM;
    for (int i = 0; i < nt; i++)
        finished[i] = s->threads[i].finished_ns;
    for (int p = 0; p < gs_trace_n_processes(t); p++) {
        int li = gs_trace_gil_lane(t, p);
        if (li < 0 || w->gil_from[p] == INT64_MAX)
            continue; /* no GIL, or a free-threaded one never switched on */
        s->n_gil_processes++;
        if (w->gil_from[p] < s->makespan_ns)
            *span_ns += s->makespan_ns - w->gil_from[p];
        const gs_lane_t *l = gs_trace_lane(t, li);
        for (size_t k = 0; k < l->n; k++)
            gs__tally_gil(w, p, &l->iv[k], s->makespan_ns, run_end, finished);
    }
    for (size_t k = 0; k < w->n_late; k++)
        if (!w->late[k].core)
            gs__tally_gil(w, w->late[k].lane, &w->late[k].iv, s->makespan_ns, run_end, finished);
    s->gil_held_ns = w->gil_held_ns;
    s->gil_switches = w->gil_switches;
    for (int i = 0; i < nt; i++) {
        int64_t v = w->releases[i] - s->threads[i].forced_switches;
        s->threads[i].voluntary_switches = v > 0 ? v : 0;
    }
    free(finished);
    return 0;
}

static void cores_pass(const gs_trace_t *t, gs_tally_t *w, gs_stats_t *s)
{
    for (int c = 0; c < s->n_cores; c++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, c));
        for (size_t k = 0; k < l->n; k++)
            gs__tally_core(w, &l->iv[k], s->makespan_ns);
    }
    for (size_t k = 0; k < w->n_late; k++)
        if (w->late[k].core)
            gs__tally_core(w, &w->late[k].iv, s->makespan_ns);
    s->core_busy_ns = w->core_busy_ns;
}

static void ratios(gs_stats_t *s, int64_t gil_span_ns)
{
    int nt = s->n_threads;
    double mk = (double)s->makespan_ns;
    if (mk > 0) {
        if (gil_span_ns > 0)
            s->gil_utilisation = (double)s->gil_held_ns / (double)gil_span_ns;
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

/* The figures from the tally ty (const: a metrics-only trace's own): the
 * GIL and core passes work on a copy of its GIL arrays. */
static int stats_from(const gs_trace_t *t, const gs_tally_t *ty, gs_stats_t *s)
{
    s->threads = calloc(s->n_threads > 0 ? (size_t)s->n_threads : 1, sizeof *s->threads);
    if (!s->threads || threads_pass(t, ty, s) != 0)
        return GS_ENOMEM;
    int64_t run_end = makespan_pass(ty, s);
    instants_pass(ty, s);
    gs_tally_t w = *ty;
    int64_t gil_span_ns = 0;
    size_t nr = ty->n_threads > 0 ? (size_t)ty->n_threads : 1;
    size_t np = ty->n_processes > 0 ? (size_t)ty->n_processes : 1;
    w.releases = malloc(nr * sizeof *w.releases);
    w.gil_prev = malloc(np * sizeof *w.gil_prev);
    int rc = w.releases && w.gil_prev ? 0 : GS_ENOMEM;
    if (rc == 0) {
        memcpy(w.releases, ty->releases, nr * sizeof *w.releases);
        memcpy(w.gil_prev, ty->gil_prev, np * sizeof *w.gil_prev);
        rc = gil_pass(t, &w, s, run_end, &gil_span_ns);
    }
    if (rc == 0) {
        cores_pass(t, &w, s);
        ratios(s, gil_span_ns);
        os_means(s);
    }
    free(w.releases);
    free(w.gil_prev);
    return rc;
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
    const gs_tally_t *ty = gs__trace_tally(t); /* a metrics-only run's sums */
    gs_tally_t kept;
    int rc = 0;
    if (!ty) {
        rc = tally_of(t, &kept);
        ty = &kept;
    }
    if (rc == 0)
        rc = stats_from(t, ty, s);
    if (ty == &kept)
        gs__tally_free(&kept);
    if (rc != 0)
        gs_stats_destroy(s);
    return rc;
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
