/* steps.c - stepping through a run one event at a time, in engine order, and
 * saying what each event was.
 *
 * An event is a thread's state change (the start of an interval on its lane)
 * or an instant (timeout, drop request, forced switch, signal...). Both carry
 * the engine's order (gs_interval_t.seq, gs_trace_instant_seq), so the events
 * of one instant are stepped one by one as the engine made them. The list is
 * built on the first step after a load, O(events log events); in compare mode
 * it holds both runs (ordered by time, then run, then engine order). */
#include "view.h"

#include <stdlib.h>
#include <string.h>

typedef struct gv_step {
    int64_t t;
    uint32_t seq;
    uint8_t run;
    uint8_t is_instant; /* else a thread's state change */
    uint8_t finish;     /* a thread's last interval ends here */
    int32_t lane;       /* thread lane (state changes) */
    size_t i;           /* interval index in lane, or instant index */
} gv_step_t;

static int by_order(const void *a, const void *b)
{
    const gv_step_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->run != y->run)
        return x->run - y->run;
    if (x->seq != y->seq)
        return x->seq < y->seq ? -1 : 1;
    return x->finish - y->finish;
}

void gv_steps_clear(gv_view_t *v)
{
    free(v->steps);
    v->steps = NULL;
    v->n_steps = 0;
    v->step_at = -1;
}

static bool build(gv_view_t *v)
{
    if (v->steps)
        return true;
    size_t n = 0;
    for (int r = 0; r < v->n_runs; r++) {
        const gs_trace_t *t = v->run[r].trace;
        for (int th = 0; th < gs_trace_n_threads(t); th++)
            n += gs_trace_lane(t, gs_trace_thread_lane(t, th))->n + 1;
        n += gs_trace_n_instants(t);
    }
    gv_step_t *s = malloc((n ? n : 1) * sizeof *s);
    if (!s)
        return false;
    size_t k = 0;
    for (int r = 0; r < v->n_runs; r++) {
        const gs_trace_t *t = v->run[r].trace;
        for (int th = 0; th < gs_trace_n_threads(t); th++) {
            int ln = gs_trace_thread_lane(t, th);
            const gs_lane_t *l = gs_trace_lane(t, ln);
            for (size_t i = 0; i < l->n; i++) {
                s[k++] = (gv_step_t){l->iv[i].start_ns, l->iv[i].seq, (uint8_t)r, 0, 0, ln, i};
                bool last = i + 1 == l->n || l->iv[i + 1].start_ns != l->iv[i].end_ns;
                if (last && i + 1 == l->n && l->iv[i].end_ns < gs_trace_end_ns(t))
                    s[k++] = (gv_step_t){l->iv[i].end_ns, UINT32_MAX, (uint8_t)r, 0, 1, ln, i};
            }
        }
        for (size_t i = 0; i < gs_trace_n_instants(t); i++)
            s[k++] = (gv_step_t){gs_trace_instants(t)[i].t_ns, gs_trace_instant_seq(t, i),
                                 (uint8_t)r, 1, 0, -1, i};
    }
    qsort(s, k, sizeof *s, by_order);
    v->steps = s;
    v->n_steps = k;
    v->step_at = -1;
    return true;
}

static const char *tname(const gs_trace_t *t, int th)
{
    return th >= 0 && th < gs_trace_n_threads(t) ? gs_trace_lane(t, gs_trace_thread_lane(t, th))->name
                                                 : "?";
}

/* "waits for lock 'db'", "waits for thread helper to end"; a recording does
 * not know which lock, event, queue or thread: "waits for a lock". */
static void sync_wait(const gs_trace_t *t, const gs_interval_t *iv, char *buf, size_t n)
{
    const char *name = iv->who >= 0 ? gs_trace_sync_name(t, (gs_state_t)iv->state, iv->who) : "";
    bool known = name && *name;
    switch (iv->state) {
    case GS_ST_WAIT_LOCK: snprintf(buf, n, known ? "waits for lock '%s'" : "waits for a lock", name); break;
    case GS_ST_WAIT_EVENT: snprintf(buf, n, known ? "waits for event '%s'" : "waits for an event", name); break;
    case GS_ST_WAIT_QUEUE: snprintf(buf, n, known ? "waits on queue '%s'" : "waits on a queue", name); break;
    default: snprintf(buf, n, known ? "waits for thread %s to end" : "waits for a thread to end", name);
    }
}

static void name_change(const gs_trace_t *t, const gv_step_t *s, char *buf, size_t n)
{
    char what[160];
    const gs_lane_t *l = gs_trace_lane(t, s->lane);
    const gs_interval_t *iv = &l->iv[s->i];
    const gs_interval_t *prev = s->i > 0 && l->iv[s->i - 1].end_ns == iv->start_ns ? &l->iv[s->i - 1] : NULL;
    const char *who = l->name;
    if (s->finish) {
        snprintf(buf, n, "%s finishes%s", who, gs_interval_holds_gil(iv) ? " and releases the GIL" : "");
        return;
    }
    bool had = prev && gs_interval_holds_gil(prev), has = gs_interval_holds_gil(iv);
    const char *gil = !had && has ? " (it takes the GIL)" : had && !has ? " (it released the GIL)" : "";
    switch ((gs_state_t)iv->state) {
    case GS_ST_PY:
        snprintf(buf, n, "%s %s Python on core %d%s", who, prev ? "runs" : "starts, running", iv->who, gil);
        break;
    case GS_ST_C_GIL:
        snprintf(buf, n, "%s calls C that keeps the GIL, on core %d%s", who, iv->who, gil);
        break;
    case GS_ST_C_NOGIL:
        snprintf(buf, n, "%s runs C without the GIL on core %d%s", who, iv->who, gil);
        break;
    case GS_ST_WAIT_GIL:
        snprintf(buf, n, "%s waits for the GIL%s", who, gil);
        break;
    case GS_ST_READY:
        snprintf(buf, n, "%s is ready and waits for a core%s", who,
                 has ? ", still holding the GIL" : gil);
        break;
    case GS_ST_SWITCH:
        snprintf(buf, n, "core %d switches to %s", iv->who, who);
        break;
    case GS_ST_IO:
        snprintf(buf, n, "%s blocks on I/O%s", who, gil);
        break;
    case GS_ST_SLEEP:
        snprintf(buf, n, "%s sleeps%s", who, gil);
        break;
    case GS_ST_WAIT_LOCK:
    case GS_ST_WAIT_EVENT:
    case GS_ST_WAIT_QUEUE:
    case GS_ST_WAIT_JOIN:
        sync_wait(t, iv, what, sizeof what);
        snprintf(buf, n, "%s %s%s", who, what, gil);
        break;
    default:
        snprintf(buf, n, "%s: %s", who, gs_state_text((gs_state_t)iv->state));
    }
}

static void name_instant(const gs_trace_t *t, const gs_instant_t *e, char *buf, size_t n)
{
    const char *who = tname(t, e->thread);
    switch ((gs_instant_kind_t)e->kind) {
    case GS_IN_DROP_REQUEST:
        snprintf(buf, n, "%s's wait for the GIL timed out with no switch: it sets the drop "
                         "request (asks %s to drop the GIL)",
                 who, e->arg >= 0 ? tname(t, (int)e->arg) : "the holder");
        break;
    case GS_IN_TIMEOUT:
        snprintf(buf, n, "%s's timed wait for the GIL ran out (one switch interval)", who);
        break;
    case GS_IN_FORCED_SWITCH:
        snprintf(buf, n, "%s drops the GIL on the drop request and waits until another thread "
                         "has taken it",
                 who);
        break;
    case GS_IN_SIGNAL:
        snprintf(buf, n, "the GIL is released: %s is signalled and wakes up to take it", who);
        break;
    case GS_IN_FUTILE_WAKEUP:
        snprintf(buf, n, "%s woke for the GIL but it was taken again (futile wake-up)", who);
        break;
    case GS_IN_PREEMPT:
        snprintf(buf, n, "the OS preempts %s%s", who, e->arg ? " while it holds the GIL" : "");
        break;
    case GS_IN_GIL_ENABLED:
        snprintf(buf, n, "%s imports an extension without free-threading support: the GIL is "
                         "switched on", who);
        break;
    case GS_IN_STOP_THE_WORLD: {
        char d[32];
        gv_fmt_dur(d, sizeof d, e->arg);
        snprintf(buf, n, "%s stops the world for %s", who, d);
        break;
    }
    case GS_IN_DEADLOCK:
        snprintf(buf, n, "deadlock: the run stops here");
        break;
    case GS_IN_ANNOTATION:
        snprintf(buf, n, "note: %s", gs_trace_annotation_text(t, (int)e->arg));
        break;
    case GS_IN_QUEUE_LEN:
        snprintf(buf, n, "queue '%s' now holds %lld", gs_trace_sync_name(t, GS_ST_WAIT_QUEUE, e->obj),
                 (long long)e->arg);
        break;
    default:
        snprintf(buf, n, "%s", gs_instant_text((gs_instant_kind_t)e->kind));
    }
}

bool gv_step_text(const gv_view_t *v, char *buf, size_t n)
{
    if (!v->steps || v->step_at < 0 || (size_t)v->step_at >= v->n_steps ||
        v->steps[v->step_at].t != v->playhead)
        return false;
    const gv_step_t *s = &v->steps[v->step_at];
    const gs_trace_t *t = v->run[s->run].trace;
    char what[320], at[32];
    if (s->is_instant)
        name_instant(t, &gs_trace_instants(t)[s->i], what, sizeof what);
    else
        name_change(t, s, what, sizeof what);
    size_t first = (size_t)v->step_at, last = first;
    while (first > 0 && v->steps[first - 1].t == s->t)
        first--;
    while (last + 1 < v->n_steps && v->steps[last + 1].t == s->t)
        last++;
    gv_fmt_at(at, sizeof at, s->t, 1000);
    char of[48] = "";
    if (last > first)
        snprintf(of, sizeof of, " (%zu of %zu)", (size_t)v->step_at - first + 1, last - first + 1);
    char run[4] = "";
    if (v->n_runs > 1)
        snprintf(run, sizeof run, "%c ", 'A' + s->run);
    snprintf(buf, n, "%s%s%s: %s", run, at, of, what);
    return true;
}

bool gv_step(gv_view_t *v, int dir)
{
    v->playing = false;
    if (v->n_runs == 0 || !build(v))
        return false;
    long i;
    if (v->step_at >= 0 && (size_t)v->step_at < v->n_steps && v->steps[v->step_at].t == v->playhead) {
        i = v->step_at + dir;
    } else if (dir > 0) {
        i = 0;
        while ((size_t)i < v->n_steps && v->steps[i].t <= v->playhead)
            i++;
    } else {
        i = (long)v->n_steps - 1;
        while (i >= 0 && v->steps[i].t >= v->playhead)
            i--;
    }
    if (i < 0) {
        v->step_at = -1;
        gv_view_set_playhead(v, 0);
        return true;
    }
    if ((size_t)i >= v->n_steps) {
        v->step_at = -1;
        gv_view_set_playhead(v, v->end_ns);
        return true;
    }
    v->step_at = i;
    gv_view_set_playhead(v, v->steps[i].t);
    return true;
}
