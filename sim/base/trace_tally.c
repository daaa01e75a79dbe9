/* trace_tally.c - the metrics' running sums (trace_tally.h says why they are
 * shared by stats.c and a metrics-only run). The definitions, with their
 * edge cases, are in docs/metrics.md. */
#include "trace_tally.h"

#include <stdlib.h>
#include <string.h>

#include "trace_priv.h"

bool gs__tally_init(gs_tally_t *ty, int n_threads, int n_processes, const int32_t *process,
                    const int64_t *gil_from)
{
    memset(ty, 0, sizeof *ty);
    ty->n_threads = n_threads;
    ty->n_processes = n_processes;
    ty->deadlock_ns = INT64_MAX;
    size_t np = n_processes > 0 ? (size_t)n_processes : 1;
    ty->thr = calloc(n_threads > 0 ? (size_t)n_threads : 1, sizeof *ty->thr);
    ty->releases = calloc(n_threads > 0 ? (size_t)n_threads : 1, sizeof *ty->releases);
    ty->gil_prev = malloc(np * sizeof *ty->gil_prev);
    ty->gil_from = malloc(np * sizeof *ty->gil_from);
    if (!ty->thr || !ty->releases || !ty->gil_prev || !ty->gil_from)
        return false;
    for (int p = 0; p < n_processes; p++) {
        ty->gil_prev[p] = -1;
        ty->gil_from[p] = gil_from[p];
    }
    for (int i = 0; i < n_threads; i++) {
        gs_tally_thread_t *tt = &ty->thr[i];
        tt->started_ns = tt->finished_ns = tt->response_ns = -1;
        tt->last_op = GS_NO_OP;
        tt->process = process[i] >= 0 && process[i] < n_processes ? process[i] : -1;
        tt->gil_from_ns = tt->process >= 0 ? gil_from[tt->process] : INT64_MAX;
    }
    return true;
}

/* A free-threaded process's GIL switched on at t_ns (GS_IN_GIL_ENABLED,
 * named by the importing thread): from then on its threads' PY and C_GIL
 * hold it. Only the first instant counts (the GIL stays on for good). */
static void gil_enabled(gs_tally_t *ty, int64_t t_ns, int32_t thread)
{
    if (thread < 0 || thread >= ty->n_threads)
        return;
    int p = ty->thr[thread].process;
    if (p < 0 || ty->gil_from[p] <= t_ns)
        return;
    ty->gil_from[p] = t_ns;
    for (int i = 0; i < ty->n_threads; i++)
        if (ty->thr[i].process == p)
            ty->thr[i].gil_from_ns = t_ns;
}
void gs__tally_free(gs_tally_t *ty)
{
    if (!ty)
        return;
    for (int i = 0; ty->thr && i < ty->n_threads; i++)
        free(ty->thr[i].samples);
    free(ty->thr);
    free(ty->releases);
    free(ty->gil_prev);
    free(ty->gil_from);
    free(ty->late);
    memset(ty, 0, sizeof *ty);
}

/* Length of [a, b) that lies before limit. */
static int64_t clipped(int64_t a, int64_t b, int64_t limit)
{
    if (b > limit)
        b = limit;
    return b > a ? b - a : 0;
}

static bool add_sample(gs_tally_thread_t *tt, int64_t v)
{
    if (tt->n_samples == tt->cap_samples) {
        int64_t cap = tt->cap_samples ? tt->cap_samples * 2 : 16;
        int64_t *s = realloc(tt->samples, (size_t)cap * sizeof *s);
        if (!s)
            return false;
        tt->samples = s;
        tt->cap_samples = cap;
    }
    tt->samples[tt->n_samples++] = v;
    return true;
}

/* The I/O-to-GIL latency: from the end of an I/O or sleep to the first later
 * moment the thread holds the GIL (or, without one, runs), unless it blocks
 * again (I/O or sleep) or is done first. bit: 1 << iv's state, 0 for none. */
bool gs__tally_io(gs_tally_thread_t *tt, const gs_interval_t *iv, uint32_t bit)
{
    bool ok = true;
    if (tt->io_pending) {
        uint32_t flag = iv->flags & GS_IV_HOLDS_GIL ? ~0u : 0;
        /* holding the GIL, or running where there is none (yet) */
        bool gil = iv->start_ns >= tt->gil_from_ns;
        uint32_t run = gil ? GS_TALLY_HOLD | (GS_TALLY_HOLD_FLAGGED & flag)
                           : GS_TALLY_HOLD | GS_TALLY_BIT(GS_ST_C_NOGIL);
        if (bit & (GS_TALLY_IO | GS_TALLY_BIT(GS_ST_DONE))) {
            tt->io_pending = false;
        } else if (bit & run) {
            ok = add_sample(tt, iv->start_ns - tt->io_end);
            tt->io_pending = false;
        }
    }
    if (bit & GS_TALLY_IO) {
        tt->io_pending = true;
        tt->io_end = iv->end_ns;
    }
    return ok;
}

void gs__tally_gil(gs_tally_t *ty, int p, const gs_interval_t *iv, int64_t clip, int64_t run_end,
                   const int64_t *finished_ns)
{
    int32_t who = iv->who;
    if (who < 0 || who >= ty->n_threads)
        return;
    ty->gil_held_ns += clipped(iv->start_ns, iv->end_ns, clip);
    if (ty->gil_prev[p] >= 0 && who != ty->gil_prev[p])
        ty->gil_switches++;
    ty->gil_prev[p] = who;
    /* A hold cut by the end of a stopped run is not a release. */
    if (iv->end_ns < run_end || finished_ns[who] >= 0)
        ty->releases[who]++;
}

void gs__tally_core(gs_tally_t *ty, const gs_interval_t *iv, int64_t clip)
{
    if (iv->who >= 0 && iv->state != GS_ST_SWITCH)
        ty->core_busy_ns += clipped(iv->start_ns, iv->end_ns, clip);
}

bool gs__tally_defer(gs_tally_t *ty, int32_t lane, bool core, const gs_interval_t *iv)
{
    if (ty->n_late == ty->cap_late) {
        size_t cap = ty->cap_late ? ty->cap_late * 2 : 16;
        gs_tally_late_t *v = realloc(ty->late, cap * sizeof *v);
        if (!v)
            return false;
        ty->late = v;
        ty->cap_late = cap;
    }
    ty->late[ty->n_late++] = (gs_tally_late_t){.iv = *iv, .lane = lane, .core = core};
    return true;
}

void gs__tally_instant(gs_tally_t *ty, int64_t t_ns, gs_instant_kind_t kind, int32_t thread,
                       int64_t arg)
{
    switch (kind) {
    case GS_IN_DROP_REQUEST: ty->drop_requests++; break;
    case GS_IN_FORCED_SWITCH:
        ty->forced_switches++;
        if (thread >= 0 && thread < ty->n_threads)
            ty->thr[thread].forced_switches++;
        break;
    case GS_IN_FUTILE_WAKEUP: ty->futile_wakeups++; break;
    case GS_IN_PREEMPT:
        ty->preemptions++;
        if (arg)
            ty->preemptions_of_gil_holder++;
        break;
    case GS_IN_DEADLOCK:
        if (t_ns < ty->deadlock_ns)
            ty->deadlock_ns = t_ns;
        break;
    case GS_IN_GIL_ENABLED: gil_enabled(ty, t_ns, thread); break;
    default: break;
    }
}

/* ---- a metrics-only trace (trace.c calls these when t->tally is set) ---- */

bool gs__tally_attach(gs_trace_t *t, const gs_model_t *m)
{
    int32_t *process = calloc((size_t)m->n_threads + 1, sizeof *process);
    int64_t *gil_from = calloc((size_t)m->n_processes + 1, sizeof *gil_from);
    t->tally = calloc(1, sizeof *t->tally);
    bool ok = process && gil_from && t->tally;
    for (int i = 0; ok && i < m->n_threads; i++)
        process[i] = m->threads[i].process;
    /* a free-threaded process's GIL comes with its GS_IN_GIL_ENABLED, if any */
    for (int p = 0; ok && p < m->n_processes && p < t->n_processes; p++)
        gil_from[p] = t->gil_lane[p] >= 0 && t->process_gil[p] != GS_GIL_NONE ? 0 : INT64_MAX;
    ok = ok && gs__tally_init(t->tally, m->n_threads, m->n_processes, process, gil_from);
    free(process);
    free(gil_from);
    t->tally_alive = m->n_threads;
    return ok;
}

void gs__tally_detach(gs_trace_t *t)
{
    gs__tally_free(t->tally);
    free(t->tally);
    t->tally = NULL;
}

/* l->last is final: summed, or for a GIL or core lane kept until the
 * makespan is known (trace_tally.h says when it need not be). */
static void lane_final(gs_trace_t *t, lane_buf_t *l)
{
    gs_tally_t *ty = t->tally;
    bool ok = true;
    switch (l->pub.kind) {
    case GS_LANE_THREAD:
        ok = gs__tally_thread(ty, l->pub.index, &l->last);
        break;
    case GS_LANE_GIL:
    case GS_LANE_CORE:
        if (t->tally_alive <= 0)
            t->tally_late = true;
        if (t->tally_late)
            ok = gs__tally_defer(ty, l->pub.index, l->pub.kind == GS_LANE_CORE, &l->last);
        else if (l->pub.kind == GS_LANE_GIL)
            gs__tally_gil(ty, l->pub.index, &l->last, INT64_MAX, INT64_MAX, NULL);
        else
            gs__tally_core(ty, &l->last, INT64_MAX);
        break;
    default: /* fact tracks: no metric */
        break;
    }
    if (!ok)
        t->growth.oom = true;
}

/* As trace.c's append: merged into the last interval when it continues it,
 * else appended, the budget counting the array it would have grown. */
void gs__tally_append(gs_trace_t *t, lane_buf_t *l, int64_t end)
{
    const gs_interval_t *iv = &l->cur;
    if (l->n > 0 && l->last.end_ns == iv->start_ns && gs__iv_same(&l->last, iv)) {
        l->last.end_ns = end;
        return;
    }
    if (l->n == l->counted) {
        size_t counted = l->counted ? l->counted * 2 : 64;
        t->growth.bytes += (counted - l->counted) * sizeof(gs_interval_t);
        l->counted = counted;
    }
    if (l->n > 0) {
        if (l->pub.kind == GS_LANE_THREAD) {
            if (!gs__tally_thread(t->tally, l->pub.index, &l->last))
                t->growth.oom = true;
        } else {
            lane_final(t, l);
        }
    }
    l->last = *iv;
    l->last.end_ns = end;
    l->n++;
}

void gs__tally_lane_open(gs_trace_t *t, lane_buf_t *l, bool open)
{
    if (open == l->open || l->pub.kind != GS_LANE_THREAD)
        return;
    if (!open)
        t->tally_alive--;
    else if (l->opened)
        t->tally_alive++;
    else
        l->opened = true; /* was never opened: counted alive already */
}

void gs__tally_push_instant(gs_trace_t *t, int64_t now, gs_instant_kind_t k, int thread,
                            int64_t arg)
{
    if (t->n_inst == t->counted_inst) { /* as push_instant counts its arrays */
        size_t counted = t->counted_inst ? t->counted_inst * 2 : 64;
        t->growth.bytes +=
            (counted - t->counted_inst) * (sizeof(gs_instant_t) + sizeof(uint32_t));
        t->counted_inst = counted;
    }
    t->n_inst++;
    t->seq++;
    if (k == GS_IN_DEADLOCK) /* the run may end before later intervals */
        t->tally_late = true;
    gs__tally_instant(t->tally, now, k, thread, arg);
}

void gs__tally_finish(gs_trace_t *t)
{
    for (int i = 0; i < t->n_lanes; i++) {
        lane_buf_t *l = &t->lanes[i];
        if (l->n > 0)
            lane_final(t, l);
        l->n = l->pub.n = 0;
    }
    for (int i = 0; i < t->n_facts; i++)
        t->facts[i].n = t->facts[i].pub.n = 0;
    t->n_inst = 0;
}

const gs_tally_t *gs__trace_tally(const gs_trace_t *t)
{
    return t->tally;
}
