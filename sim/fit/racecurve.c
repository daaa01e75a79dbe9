/* racecurve.c - the race at the depth the recording's requesters had, and
 * as a curve where a shape is given (gilsim fit --race-shape).
 *
 * Traced in the kernel (docs/model.md, "The race, traced"), the share of
 * forced drops at which the requester is already asleep in its futex when
 * the holder signals grows with how long the requester's CPU idled before
 * its timed wait ran out (0.13 of drops after about 1 ms, 0.44 after about
 * 5 ms): the requester's path from its timeout to its unlock is slower out
 * of a deeper idle. The engine takes that as machine.requester_first_idle
 * (gil.c race_pct: the depth of the requester's core as its wait ran out,
 * 0 when the core was busy). So the value race.c reads off a recording
 * belongs to the depth its requesters had, and this file reads that depth
 * off the recording, not off the switch interval:
 *
 *   A drop request's depth is the time since a thread of the program other
 *   than the GIL's holder last ran, the requester's own last run included:
 *   every recorded event is an instant its thread ran, and a C call that
 *   released the GIL (categories c and c_nogil) runs all along. The holder
 *   keeps one CPU; with two, everything else that ran went to the other,
 *   the requester's. With more CPUs the rule puts every such run on the
 *   requester's CPU, so it may say less than the real depth; with one CPU
 *   (the program confined to it) the holder's is the requester's: 0.
 *   Other programs' runs are not recorded: they could only make it less.
 *
 * On io_two_cpu's quiet recordings the rule gives 4.0-4.1 ms at 5 ms, 0.04-
 * 0.06 ms at 1 ms (the I/O thread and the dropper run between requests),
 * 16-19 ms at 20 ms, 0 under taskset -c 0.
 *
 * The shape. The recording's calibration has no curve of the race (the
 * recorder does not trace the futexes; tests/reality's calibration does, as
 * root), so without --race-shape the fit writes requester_first alone, the
 * value at the recording's depth, and a what-if at another interval keeps
 * it. With a shape [(d_i, s_i)] (tests/reality's calibration, or
 * race_trace.py, on the recording's host), the curve at level rf has the
 * points (d_i, rf * s_i / s(depth)), s read between points as the engine
 * reads a curve (linear, flat beyond), each at most 1: the shape scaled
 * through (depth, rf), exactly where no point is cut at 1. race.c's
 * replays search the level as they search the single value, so the replay
 * with the curve, whose requesters have the depths the engine gives them
 * (not all the median), gives the recorded share. A shape that is 0 at the
 * depth scales nothing: requester_first alone, said. Deterministic: the
 * replays' seeds are fixed. */
#include "fit_int.h"
#include "recfile_int.h"

#include "gilsim/fit.h"
#include "gilsim/units.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

/* ---- the depth of each drop request ------------------------------------- */

typedef struct dstep {
    int64_t t;
    int64_t busy_to; /* a running span's end from t; else t */
    int thread;
    uint8_t kind; /* gsr_ev_kind_t; GSR_OTHER for a span's end */
    size_t at;    /* fit_ev_index of a drop request */
} dstep_t;

static int cmp_step(const void *a, const void *b)
{
    const dstep_t *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    /* one instant: the runs before the requests read them */
    bool rx = x->kind == GSR_DROP_REQUEST, ry = y->kind == GSR_DROP_REQUEST;
    if (rx != ry)
        return rx - ry;
    return (x->thread > y->thread) - (x->thread < y->thread);
}

size_t fit_ev_index(const gsr_recording_t *r, int thread, size_t k)
{
    size_t base = 0;
    for (int i = 0; i < thread; i++)
        base += r->threads[i].n_ev;
    return base + k;
}

/* A call that keeps its thread on a CPU while the GIL is released. */
static bool runs_in_call(const gsr_event_t *e)
{
    return e->kind == GSR_CALL && e->released && (e->cat == GSR_CAT_C || e->cat == GSR_CAT_C_NOGIL);
}

/* The steps in time order: each event's instant, each span's end. */
static dstep_t *steps_of(const gsr_recording_t *r, size_t *n)
{
    size_t cap = 0, base = 0;
    for (int i = 0; i < r->n_threads; i++)
        cap += 2 * r->threads[i].n_ev;
    dstep_t *s = malloc((cap ? cap : 1) * sizeof *s);
    if (!s)
        return NULL;
    *n = 0;
    for (int i = 0; i < r->n_threads; i++) {
        for (size_t k = 0; k < r->threads[i].n_ev; k++) {
            const gsr_event_t *e = &r->threads[i].ev[k];
            bool run = runs_in_call(e);
            s[(*n)++] = (dstep_t){.t = e->t,
                                  .busy_to = run ? e->t1 : e->t,
                                  .thread = i,
                                  .kind = e->kind,
                                  .at = base + k};
            if (e->t1 > e->t) /* a span: its thread ran as it ended */
                s[(*n)++] = (dstep_t){
                    .t = e->t1, .busy_to = e->t1, .thread = i, .kind = GSR_OTHER, .at = base + k};
        }
        base += r->threads[i].n_ev;
    }
    qsort(s, *n, sizeof *s, cmp_step);
    return s;
}

/* The depth at a request at t: see the header. O(threads). */
static int64_t depth_at(const int64_t *last, const int64_t *busy_to, int n, int holder, int64_t t)
{
    int64_t ran = 0; /* the recording's start, if nothing ran before */
    for (int j = 0; j < n; j++) {
        if (j == holder)
            continue;
        int64_t x = busy_to[j] >= t ? t : last[j];
        ran = x > ran ? x : ran;
    }
    return t > ran ? t - ran : 0;
}

int fit_request_depths(const gsr_recording_t *r, int64_t **out)
{
    size_t n_all = fit_ev_index(r, r->n_threads, 0), n = 0;
    int64_t *d = calloc(n_all ? n_all : 1, sizeof *d);
    int64_t *last = calloc((size_t)r->n_threads + 1, sizeof *last);
    int64_t *busy = calloc((size_t)r->n_threads + 1, sizeof *busy);
    dstep_t *s = d && last && busy ? steps_of(r, &n) : NULL;
    if (!s) {
        free(d);
        free(last);
        free(busy);
        return -1;
    }
    int holder = -1;
    for (int j = 0; j < r->n_threads; j++)
        busy[j] = -1;
    for (size_t k = 0; k < n; k++) {
        const dstep_t *x = &s[k];
        if (x->kind == GSR_DROP_REQUEST)
            d[x->at] = r->cores <= 1 ? 0 : depth_at(last, busy, r->n_threads, holder, x->t);
        if (x->kind == GSR_HOLD)
            holder = x->thread;
        else if (x->kind == GSR_RELEASE && holder == x->thread)
            holder = -1;
        last[x->thread] = x->t;
        if (x->busy_to > busy[x->thread])
            busy[x->thread] = x->busy_to;
    }
    free(s);
    free(last);
    free(busy);
    *out = d;
    return 0;
}

/* ---- the curve ------------------------------------------------------------ */

/* The shape at depth_ns: linear between points, flat beyond (gil.c's). */
static double shape_at(const gs_fit_opts_t *o, int64_t depth_ns)
{
    const int64_t *x = o->race_shape_depth_ns;
    const double *y = o->race_shape;
    int n = o->n_race_shape;
    if (depth_ns <= x[0])
        return y[0];
    for (int k = 1; k < n; k++)
        if (depth_ns <= x[k])
            return y[k - 1] +
                   (y[k] - y[k - 1]) * (double)(depth_ns - x[k - 1]) / (double)(x[k] - x[k - 1]);
    return y[n - 1];
}

int fit_race_points(const fscenario_t *f, const gs_fit_opts_t *o, int pct, int64_t *xs, int64_t *ys)
{
    if (!o || o->n_race_shape <= 0 || f->race_depth_ns < 0)
        return 0;
    double at = shape_at(o, f->race_depth_ns);
    if (!(at > 0))
        return 0;
    int n = o->n_race_shape < GS_WAKE_CURVE_MAX ? o->n_race_shape : GS_WAKE_CURVE_MAX;
    for (int k = 0; k < n; k++) {
        long y = lround(pct * o->race_shape[k] / at);
        xs[k] = o->race_shape_depth_ns[k];
        ys[k] = y > 100 ? 100 : y < 0 ? 0 : y;
    }
    return n;
}

void fit_race_curve(fscenario_t *f, const gs_fit_opts_t *o)
{
    int64_t ys[GS_WAKE_CURVE_MAX];
    f->n_rf_curve = 0;
    f->rf_shape_why = FIT_SHAPE_NONE;
    if (!o || o->n_race_shape <= 0)
        return;
    f->rf_shape_why = FIT_SHAPE_UNFIT;
    if (f->race_why != FIT_RACE_FITTED || f->race_depth_ns < 0)
        return;
    f->n_rf_curve = fit_race_points(f, o, f->rf_pct, f->rf_curve_depth_ns, ys);
    f->rf_shape_why = f->n_rf_curve ? FIT_SHAPE_CURVE : FIT_SHAPE_FLAT;
    for (int k = 0; k < f->n_rf_curve; k++)
        f->rf_curve_pct[k] = (int)ys[k];
}

static cJSON *dur_item(int64_t ns)
{
    char b[48];
    return cJSON_CreateString(gs_format_ns_exact(ns, b, sizeof b));
}

void fit_race_json(void *mach_, const fscenario_t *f)
{
    cJSON *mach = mach_;
    if (f->race_why != FIT_RACE_FITTED)
        return;
    cJSON_AddNumberToObject(mach, "requester_first", f->rf_pct / 100.0);
    if (f->n_rf_curve <= 0)
        return;
    cJSON *c = cJSON_AddArrayToObject(mach, "requester_first_idle");
    for (int k = 0; c && k < f->n_rf_curve; k++) {
        cJSON *pt = cJSON_CreateArray();
        cJSON_AddItemToArray(pt, dur_item(f->rf_curve_depth_ns[k]));
        cJSON_AddItemToArray(pt, cJSON_CreateNumber(f->rf_curve_pct[k] / 100.0));
        cJSON_AddItemToArray(c, pt);
    }
}

const char *fit_race_curve_note(const fscenario_t *f, char *buf, size_t n)
{
    char d[32];
    *buf = 0;
    if (f->rf_shape_why == FIT_SHAPE_UNFIT) { /* given, and nothing to scale it through */
        snprintf(buf, n,
                 " The shape given (--race-shape) is unused: %s, so no "
                 "machine.requester_first_idle is written.",
                 f->race_why != FIT_RACE_FITTED
                     ? "it scales a race read off the recording, and none was read"
                     : "the requesters' CPUs' idle depth at those drops is unknown");
        return buf;
    }
    if (f->race_why != FIT_RACE_FITTED || f->race_depth_ns < 0)
        return buf;
    gs_format_ns(f->race_depth_ns, d, sizeof d);
    int k = snprintf(buf, n,
                     " The requesters' CPUs had idled %s at those drops (median; the time since "
                     "a thread other than the holder last ran, %s).",
                     d, f->race_cores <= 1 ? "0 on one CPU" : "from the recording");
    if (k < 0 || (size_t)k >= n)
        return buf;
    switch (f->rf_shape_why) {
    case FIT_SHAPE_CURVE:
        snprintf(buf + k, n - (size_t)k,
                 " As a curve against that depth (machine.requester_first_idle, which a "
                 "what-if at another interval follows): the shape given (--race-shape) scaled "
                 "through %.2f at %s, at most 1.",
                 f->rf_pct / 100.0, d);
        break;
    case FIT_SHAPE_FLAT:
        snprintf(buf + k, n - (size_t)k,
                 " The shape given (--race-shape) is 0 at %s, so it scales nothing: "
                 "requester_first alone.",
                 d);
        break;
    default:
        snprintf(buf + k, n - (size_t)k,
                 " A what-if at another interval keeps the value: the recording's calibration "
                 "has no curve of the race against that depth (machine.requester_first_idle; "
                 "the recorder does not trace the futexes, which takes root), and none was "
                 "given (--race-shape).");
        break;
    }
    return buf;
}
