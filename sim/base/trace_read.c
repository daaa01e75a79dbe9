/* trace_read.c - reading a finished trace: the accessors of gilsim/trace.h
 * (its outcome, lanes, names, instants, fact tracks) and gs_lane_find.
 * trace.c creates and records a trace; trace_check.c names, dumps and
 * checks it. */
#include "trace_priv.h"

#include <stdio.h>
#include <string.h>

gs_outcome_t gs_trace_outcome(const gs_trace_t *t)
{
    return t->outcome;
}
const char *gs_trace_message(const gs_trace_t *t)
{
    return t->msg;
}
int64_t gs_trace_end_ns(const gs_trace_t *t)
{
    return t->end_ns;
}
int64_t gs_trace_events(const gs_trace_t *t)
{
    return t->events;
}
uint64_t gs_trace_seed(const gs_trace_t *t)
{
    return t->seed;
}
const char *gs_trace_name(const gs_trace_t *t)
{
    return t->name;
}
const char *gs_trace_description(const gs_trace_t *t)
{
    return t->description;
}
int gs_trace_n_lanes(const gs_trace_t *t)
{
    return t->n_lanes;
}
const gs_lane_t *gs_trace_lane(const gs_trace_t *t, int i)
{
    return (i >= 0 && i < t->n_lanes) ? &t->lanes[i].pub : NULL;
}
int gs_trace_n_threads(const gs_trace_t *t)
{
    return t->n_threads;
}
int gs_trace_thread_lane(const gs_trace_t *t, int thread)
{
    return (thread >= 0 && thread < t->n_threads) ? t->thread_lane[thread] : -1;
}
int gs_trace_n_cores(const gs_trace_t *t)
{
    return t->n_cores;
}
int gs_trace_core_lane(const gs_trace_t *t, int core)
{
    return (core >= 0 && core < t->n_cores) ? t->core_lane0 + core : -1;
}
int gs_trace_n_processes(const gs_trace_t *t)
{
    return t->n_processes;
}
const char *gs_trace_process_name(const gs_trace_t *t, int p)
{
    return (p >= 0 && p < t->n_processes) ? t->process_names[p] : "";
}
const char *gs_trace_process_version(const gs_trace_t *t, int p)
{
    return (p >= 0 && p < t->n_processes && t->process_version[p]) ? t->process_version[p] : "";
}
const char *gs_trace_python_versions(const gs_trace_t *t, char *buf, size_t n, int *count)
{
    size_t len = 0;
    int k = 0;
    if (n)
        buf[0] = '\0';
    for (int p = 0; p < t->n_processes; p++) {
        const char *v = gs_trace_process_version(t, p);
        bool seen = !*v;
        for (int q = 0; q < p && !seen; q++)
            seen = strcmp(gs_trace_process_version(t, q), v) == 0;
        if (seen)
            continue;
        int w = snprintf(buf + len, len < n ? n - len : 0, "%s%s", k ? ", " : "", v);
        if (w > 0 && len + (size_t)w < n)
            len += (size_t)w;
        k++;
    }
    if (count)
        *count = k;
    return buf;
}
int gs_trace_process_gil(const gs_trace_t *t, int p)
{
    return (p >= 0 && p < t->n_processes) ? t->process_gil[p] : GS_GIL_NONE;
}
int gs_trace_gil_lane(const gs_trace_t *t, int p)
{
    return (p >= 0 && p < t->n_processes) ? t->gil_lane[p] : -1;
}
int64_t gs_trace_switch_interval_ns(const gs_trace_t *t, int p)
{
    return (p >= 0 && p < t->n_processes) ? t->switch_interval[p] : 0;
}

const char *gs_trace_sync_name(const gs_trace_t *t, gs_state_t wait_state, int who)
{
    int k;
    switch (wait_state) {
    case GS_ST_WAIT_LOCK:
        k = 0;
        break;
    case GS_ST_WAIT_EVENT:
        k = 1;
        break;
    case GS_ST_WAIT_QUEUE:
        k = 2;
        break;
    case GS_ST_WAIT_JOIN:
        return (who >= 0 && who < t->n_threads) ? t->lanes[t->thread_lane[who]].pub.name : "";
    default:
        return "";
    }
    return (who >= 0 && who < t->n_names[k]) ? t->names[k][who] : "";
}

unsigned gs_trace_facts(const gs_trace_t *t)
{
    return t->fact_mask;
}
const gs_lane_t *gs_trace_drop_request_track(const gs_trace_t *t, int p)
{
    return (p >= 0 && p < t->n_processes) ? &t->facts[p].pub : NULL;
}
const gs_lane_t *gs_trace_lock_owner_track(const gs_trace_t *t, int lock)
{
    return (lock >= 0 && lock < t->n_names[0]) ? &t->facts[t->n_processes + lock].pub : NULL;
}
int gs_trace_n_syncs(const gs_trace_t *t, gs_state_t wait_state)
{
    switch (wait_state) {
    case GS_ST_WAIT_LOCK:
        return t->n_names[0];
    case GS_ST_WAIT_EVENT:
        return t->n_names[1];
    case GS_ST_WAIT_QUEUE:
        return t->n_names[2];
    default:
        return 0;
    }
}
int gs_trace_queue_maxsize(const gs_trace_t *t, int q)
{
    return (q >= 0 && q < t->n_names[2]) ? t->queue_max[q] : 0;
}
int gs_trace_queue_initial(const gs_trace_t *t, int q)
{
    return (q >= 0 && q < t->n_names[2]) ? t->queue_init[q] : 0;
}
int gs_trace_policy(const gs_trace_t *t)
{
    return t->policy;
}
bool gs_trace_per_core_queues(const gs_trace_t *t)
{
    return t->per_core;
}

const char *gs_trace_op_label(const gs_trace_t *t, uint32_t op)
{
    return op < t->n_op_labels ? t->op_labels[op] : "";
}

size_t gs_trace_n_instants(const gs_trace_t *t)
{
    return t->n_inst;
}
const gs_instant_t *gs_trace_instants(const gs_trace_t *t)
{
    return t->inst;
}
uint32_t gs_trace_instant_seq(const gs_trace_t *t, size_t i)
{
    return i < t->n_inst && t->inst_seq ? t->inst_seq[i] : UINT32_MAX;
}
int gs_trace_n_annotations(const gs_trace_t *t)
{
    return t->n_ann;
}
int64_t gs_trace_annotation_at(const gs_trace_t *t, int i)
{
    return (i >= 0 && i < t->n_ann) ? t->ann_at[i] : 0;
}
const char *gs_trace_annotation_text(const gs_trace_t *t, int i)
{
    return (i >= 0 && i < t->n_ann) ? t->ann_text[i] : "";
}

size_t gs_lane_find(const gs_lane_t *lane, int64_t t_ns)
{
    size_t lo = 0, hi = lane->n; /* first interval with end > t */
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (lane->iv[mid].end_ns <= t_ns)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
