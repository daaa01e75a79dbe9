/* trace_check.c - a trace's names and colours, its text dump, and the
 * invariant checker (gs_trace_check) the tests apply to every trace: each
 * lane's intervals sorted, disjoint, of positive length; the thread a core
 * runs says so in its own lane; a GIL's holder is of its process and holds it
 * in its own lane; a thread holds the GIL only while the GIL lane says so. */
#include "trace_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- names and colours -------------------------------------------------- */

const char *gs_state_key(gs_state_t s)
{
    static const char *const k[] = {
#define GS_KEY_(name, key, text, rgb) key,
        GS_STATE_MAP(GS_KEY_)
#undef GS_KEY_
    };
    return (unsigned)s < GS_ST_COUNT ? k[s] : "none";
}

const char *gs_state_text(gs_state_t s)
{
    static const char *const k[] = {
#define GS_TEXT_(name, key, text, rgb) text,
        GS_STATE_MAP(GS_TEXT_)
#undef GS_TEXT_
    };
    return (unsigned)s < GS_ST_COUNT ? k[s] : "none";
}

uint32_t gs_state_color(gs_state_t s)
{
    static const uint32_t k[] = {
#define GS_RGB_(name, key, text, rgb) rgb,
        GS_STATE_MAP(GS_RGB_)
#undef GS_RGB_
    };
    return (unsigned)s < GS_ST_COUNT ? k[s] : 0xFFFFFF;
}

const char *gs_instant_key(gs_instant_kind_t k)
{
    static const char *const n[] = {"drop_request", "forced_switch", "timeout", "signal",
                                    "futile_wakeup", "preempt", "deadlock", "annotation",
                                    "queue_len", "stop_the_world", "gil_enabled"};
    _Static_assert(sizeof n / sizeof n[0] == GS_IN_COUNT, "one key per instant kind");
    return (unsigned)k < GS_IN_COUNT ? n[k] : "?";
}

const char *gs_instant_text(gs_instant_kind_t k)
{
    static const char *const n[] = {"drop request", "forced switch", "GIL wait timed out",
                                    "GIL signal", "futile wake-up", "preempted by the OS",
                                    "deadlock", "annotation", "queue length",
                                    "stop-the-world pause", "GIL switched on by an import"};
    _Static_assert(sizeof n / sizeof n[0] == GS_IN_COUNT, "one text per instant kind");
    return (unsigned)k < GS_IN_COUNT ? n[k] : "?";
}

const char *gs_outcome_key(gs_outcome_t o)
{
    static const char *const n[] = {"done", "deadlock", "horizon", "max_events", "error", "limit", "interrupted"};
    return (unsigned)o < sizeof n / sizeof n[0] ? n[o] : "?";
}

const char *gs_trace_outcome_words(const gs_trace_t *t)
{
    if (t->outcome != GS_OUT_HORIZON)
        return gs_outcome_key(t->outcome);
    return gs_trace_facts(t) & GS_FACT_CORES ? "time limit reached"
                                             : "cut short before the program ended";
}

/* ---- dump and invariants -------------------------------------------------- */

int gs_trace_dump(const gs_trace_t *t, FILE *out)
{
    fprintf(out, "gilsim-trace 1\nname %s\nseed %" PRIu64 "\noutcome %s\nend %" PRId64
                 "\nevents %" PRId64 "\nmessage %s\n",
            t->name, t->seed, gs_outcome_key(t->outcome), t->end_ns, t->events, t->msg);
    for (int i = 0; i < t->n_lanes; i++) {
        const gs_lane_t *l = &t->lanes[i].pub;
        fprintf(out, "lane %d %d %d %d %s %zu\n", i, (int)l->kind, l->process, l->index, l->name,
                l->n);
        for (size_t j = 0; j < l->n; j++) {
            const gs_interval_t *v = &l->iv[j];
            fprintf(out, "%" PRId64 " %" PRId64 " %s %d %u %u\n", v->start_ns, v->end_ns,
                    gs_state_key((gs_state_t)v->state), v->who, v->op, v->flags);
        }
    }
    for (size_t i = 0; i < t->n_inst; i++) {
        const gs_instant_t *in = &t->inst[i];
        fprintf(out, "instant %" PRId64 " %s %d %d %d %" PRId64 "\n", in->t_ns,
                gs_instant_key((gs_instant_kind_t)in->kind), in->thread, in->process, in->obj,
                in->arg);
    }
    for (int i = 0; i < t->n_facts; i++) {
        const gs_lane_t *l = &t->facts[i].pub;
        if (l->n == 0)
            continue;
        fprintf(out, "track %s %d %s %zu\n",
                l->kind == GS_LANE_DROP_REQUEST ? "drop_request" : "lock_owner", l->index,
                l->name, l->n);
        for (size_t j = 0; j < l->n; j++)
            fprintf(out, "%" PRId64 " %" PRId64 " %d\n", l->iv[j].start_ns, l->iv[j].end_ns,
                    l->iv[j].who);
    }
    return ferror(out) ? GS_EIO : 0;
}

__attribute__((format(printf, 2, 3))) static int violation(gs_error_t *err, const char *fmt, ...)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = GS_EINVAL;
        snprintf(err->path, sizeof err->path, "trace");
        va_list ap;
        va_start(ap, fmt);
        vsnprintf(err->msg, sizeof err->msg, fmt, ap);
        va_end(ap);
    }
    return GS_EINVAL;
}

static bool running_state(int st)
{
    return st == GS_ST_PY || st == GS_ST_C_GIL || st == GS_ST_C_NOGIL || st == GS_ST_SWITCH;
}

bool gs_interval_holds_gil(const gs_interval_t *v)
{
    return v->state == GS_ST_PY || v->state == GS_ST_C_GIL || (v->flags & GS_IV_HOLDS_GIL);
}

/* Every point of [a, b) of `lane` satisfies pred. O(log n + k). */
static bool covered(const gs_lane_t *lane, int64_t a, int64_t b, int32_t who, int mode)
{
    int64_t at = a;
    for (size_t j = gs_lane_find(lane, a); j < lane->n && at < b; j++) {
        const gs_interval_t *v = &lane->iv[j];
        if (v->start_ns > at)
            return false;
        /* on a core: running, or (cpython2) in a futex call on the GIL */
        bool ok = mode == 0 ? ((running_state(v->state) || v->state == GS_ST_WAIT_GIL) &&
                               v->who == who)
                            : (gs_interval_holds_gil(v) && v->state != GS_ST_WAIT_GIL);
        if (!ok)
            return false;
        at = v->end_ns;
    }
    return at >= b;
}

int gs_trace_check(const gs_trace_t *t, gs_error_t *err)
{
    for (int i = 0; i < t->n_lanes; i++) {
        const gs_lane_t *l = &t->lanes[i].pub;
        for (size_t j = 0; j < l->n; j++) {
            if (l->iv[j].end_ns <= l->iv[j].start_ns)
                return violation(err, "lane %s: empty interval at %" PRId64, l->name,
                                 l->iv[j].start_ns);
            if (j > 0 && l->iv[j].start_ns < l->iv[j - 1].end_ns)
                return violation(err, "lane %s: overlapping intervals at %" PRId64, l->name,
                                 l->iv[j].start_ns);
            if (l->kind != GS_LANE_THREAD && l->iv[j].who >= t->n_threads)
                return violation(err, "lane %s: unknown thread %d", l->name, l->iv[j].who);
        }
    }
    /* A core runs at most one thread (one lane, disjoint) and that thread says
     * it is on that core; a GIL holder holds it in its own lane. */
    for (int c = 0; c < t->n_cores; c++) {
        const gs_lane_t *l = &t->lanes[t->core_lane0 + c].pub;
        for (size_t j = 0; j < l->n; j++) {
            const gs_interval_t *v = &l->iv[j];
            const gs_lane_t *tl = &t->lanes[t->thread_lane[v->who]].pub;
            if (!covered(tl, v->start_ns, v->end_ns, c, 0))
                return violation(err, "core %d runs %s at %" PRId64 " but its lane disagrees", c,
                                 tl->name, v->start_ns);
        }
    }
    for (int p = 0; p < t->n_processes; p++) {
        if (t->gil_lane[p] < 0)
            continue;
        const gs_lane_t *l = &t->lanes[t->gil_lane[p]].pub;
        for (size_t j = 0; j < l->n; j++) {
            const gs_interval_t *v = &l->iv[j];
            const gs_lane_t *tl = &t->lanes[t->thread_lane[v->who]].pub;
            if (tl->process != p)
                return violation(err, "GIL of %s held by %s of another process",
                                 t->process_names[p], tl->name);
            if (!covered(tl, v->start_ns, v->end_ns, v->who, 1))
                return violation(err, "GIL of %s: holder %s at %" PRId64
                                      " is not holding it in its own lane",
                                 t->process_names[p], tl->name, v->start_ns);
        }
    }
    /* Per thread: a state that holds the GIL only while the GIL lane says so
     * (in a free-threaded process, from when an import switched it on). */
    for (int th = 0; th < t->n_threads; th++) {
        const gs_lane_t *tl = &t->lanes[t->thread_lane[th]].pub;
        int gl = t->gil_lane[tl->process];
        int64_t from = 0;
        if (gl >= 0 && t->process_gil[tl->process] == GS_GIL_NONE) {
            from = INT64_MAX;
            for (size_t k = 0; k < gs_trace_n_instants(t); k++) {
                const gs_instant_t *x = &gs_trace_instants(t)[k];
                if (x->kind == GS_IN_GIL_ENABLED && x->process == tl->process && x->t_ns < from)
                    from = x->t_ns;
            }
        }
        for (size_t j = 0; j < tl->n; j++) {
            const gs_interval_t *v = &tl->iv[j];
            if (gl < 0 || !gs_interval_holds_gil(v) || v->start_ns < from)
                continue;
            const gs_lane_t *g = &t->lanes[gl].pub;
            int64_t at = v->start_ns;
            for (size_t k = gs_lane_find(g, at); k < g->n && at < v->end_ns; k++) {
                if (g->iv[k].start_ns > at || g->iv[k].who != th)
                    break;
                at = g->iv[k].end_ns;
            }
            if (at < v->end_ns)
                return violation(err, "%s is %s at %" PRId64 " without holding the GIL",
                                 tl->name, gs_state_key((gs_state_t)v->state), at);
        }
    }
    return 0;
}
