/* race.c - the race between a drop request and the drop, read off the
 * recording (machine.requester_first).
 *
 * In the model (docs/model.md, "The race between a drop request and the
 * drop") requester_first is the chance that the waiter which timed out and
 * asked for the drop is already asleep in its futex when the holder
 * signals. Asleep, it must be woken, and the signal's wake goes to the
 * longest-queued waiter: with another thread waiting it usually loses. On
 * its way in, it takes the signal itself. So a recording shows the race in
 * the forced drops that left two or more threads waiting for the GIL, the
 * requester among them: the share the requester took. The race moves with
 * the machine within the hour (kernel traces of the same program gave
 * 0.2 to 0.75 asleep), so the race that describes a recording is the one of
 * its own run, not the calibration's.
 *
 * Counting (recording and replay alike, forced_drops.py --who's rule): a
 * thread waits from its ask to its next hold; the first drop request after
 * a hold names the requester; a forced release counts when, the dropper
 * aside, two or more threads wait, the requester among them; the next hold
 * counts when it is one of those waiters', and the requester won if it is
 * its. A forced drop with the requester alone says nothing: it takes the
 * GIL whatever the race (measured in the model: 100% at requester_first 0
 * and at 1), so there is no closed form from those.
 *
 * The share a value gives is the model's mapping for THIS scenario (it is
 * about 1 - requester_first for three CPU-bound threads, and the waiters
 * beside the requester change with it), so the fit runs the fitted scenario
 * itself, as load.c does for the other load: at requester_first 0 and 1
 * (RACE_SEEDS seeds each, counts pooled), then by regula falsi between the
 * values whose shares bracket the recorded one (RACE_STEPS runs at most),
 * in hundredths, the engine's resolution. The value kept is the tried one
 * whose share is nearest the recording's. The share falls as the value
 * grows (a requester asleep more often loses more); where the recorded
 * share lies beyond what 0 or 1 gives, the value is that end.
 *
 * One value, not a curve (machine.requester_first_idle): the recording's
 * calibration has none to give the shape (the recorder does not trace the
 * futexes; tests/reality's calibration does, as root), and the point
 * alone says nothing of it. Measured on io_two_cpu's quiet recordings
 * (replay_notes.md, point 20): the kernel-traced shape (the requester
 * asleep at the signal less after 1 ms of idle than after 5 ms) scaled
 * through the fitted 5 ms value made the 1 ms what-if worse, and fits of
 * the 1 ms recordings themselves want the value at 1 or above.
 *
 * Kept at the engine's default (the key not written), and said: fewer than
 * FIT_RACE_MIN such drops in the recording; a replay with fewer than
 * FIT_RACE_MIN at either end; a run that failed; a recording without
 * CPython 3's GIL. Out of memory while counting or replaying is the fit's
 * error (GS_ENOMEM), not "fewer than FIT_RACE_MIN" nor "a run failed". */
#include "fit_int.h"
#include "recfile_int.h"

#include "gilsim/engine.h"
#include "gilsim/fit.h"
#include "gilsim/trace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RACE_SEEDS 2  /* seeds per value tried, their drops pooled */
#define RACE_STEPS 3  /* values tried between 0 and 1 at most */
#define RACE_TOL 0.02 /* a replay's share this close to the recording's: found */
#define RACE_WANT 200 /* recorded drops whose stretch of the run the replays cover */

/* One event the count reads, from a recording or a replay. */
enum { RE_REQUEST, RE_FORCED, RE_ASK, RE_HOLD };
typedef struct race_ev {
    int64_t t;
    int64_t depth; /* a recording's drop request: its CPU's idle depth (racecurve.c) */
    uint32_t seq;  /* order within one t: the engine's, or the kind's (a recording) */
    int thread;
    uint8_t kind;
} race_ev_t;

typedef struct race_evs {
    race_ev_t *v;
    size_t n, cap;
} race_evs_t;

static int ev_push(race_evs_t *e, int64_t t, uint32_t seq, int thread, int kind, int64_t depth)
{
    if (e->n == e->cap) {
        size_t nc = e->cap ? 2 * e->cap : 1024;
        race_ev_t *nv = realloc(e->v, nc * sizeof *nv);
        if (!nv)
            return -1;
        e->v = nv;
        e->cap = nc;
    }
    e->v[e->n++] =
        (race_ev_t){.t = t, .depth = depth, .seq = seq, .thread = thread, .kind = (uint8_t)kind};
    return 0;
}

static int cmp_ev(const void *a, const void *b)
{
    const race_ev_t *x = a, *y = b;
    if (x->t != y->t)
        return (x->t > y->t) - (x->t < y->t);
    if (x->seq != y->seq)
        return (x->seq > y->seq) - (x->seq < y->seq);
    return (x->thread > y->thread) - (x->thread < y->thread); /* qsort's ties: fixed */
}

/* The count over events sorted by (t, seq, thread), of n_threads threads:
 * forced drops with two or more waiters the requester among them, into
 * *drops, and those the requester took, into *won; *want_t (when not NULL)
 * the time of the RACE_WANT-th such drop's hold, 0 if fewer; depths (when
 * not NULL, room for every request) the requester's depth of each such
 * drop, in order. 0, or -1 out of memory. */
static int tally(race_evs_t *e, int n_threads, int64_t *drops, int64_t *won, int64_t *want_t,
                 int64_t *depths)
{
    *drops = *won = 0;
    if (want_t)
        *want_t = 0;
    qsort(e->v, e->n, sizeof *e->v, cmp_ev);
    bool *waiting = calloc((size_t)n_threads + 1, sizeof *waiting);
    bool *at_drop = calloc((size_t)n_threads + 1, sizeof *at_drop);
    if (!waiting || !at_drop) {
        free(waiting);
        free(at_drop);
        return -1;
    }
    int requester = -1, pending = -1; /* pending: the requester of a counted drop */
    int64_t req_depth = 0, pending_depth = 0;
    for (size_t k = 0; k < e->n; k++) {
        const race_ev_t *x = &e->v[k];
        if (x->thread < 0 || x->thread >= n_threads)
            continue;
        if (x->kind == RE_ASK) {
            waiting[x->thread] = true;
        } else if (x->kind == RE_REQUEST) {
            if (requester < 0) {
                requester = x->thread;
                req_depth = x->depth;
            }
        } else if (x->kind == RE_FORCED) {
            int n = 0;
            for (int i = 0; i < n_threads; i++) {
                at_drop[i] = waiting[i] && i != x->thread;
                n += at_drop[i];
            }
            pending = n >= 2 && requester >= 0 && at_drop[requester] ? requester : -1;
            pending_depth = req_depth;
            requester = -1;
        } else { /* RE_HOLD */
            waiting[x->thread] = false;
            requester = -1; /* the taker resets the request */
            if (pending >= 0 && at_drop[x->thread]) {
                if (depths)
                    depths[*drops] = pending_depth;
                (*drops)++;
                *won += x->thread == pending;
                if (want_t && *drops == RACE_WANT)
                    *want_t = x->t;
            }
            pending = -1;
        }
    }
    free(waiting);
    free(at_drop);
    return 0;
}

/* The recording's count. Same-time events in forced_drops.py's order:
 * request, forced release, ask, hold. The median depth of the counted
 * drops' requesters into f->race_depth_ns. */
static int count_recording(const gsr_recording_t *r, fscenario_t *f, int64_t *want_t)
{
    race_evs_t e = {0};
    int64_t *depth = NULL, *counted = NULL;
    int rc = fit_request_depths(r, &depth);
    for (int i = 0; i < r->n_threads && !rc; i++)
        for (size_t k = 0; k < r->threads[i].n_ev && !rc; k++) {
            const gsr_event_t *x = &r->threads[i].ev[k];
            int kind = x->kind == GSR_DROP_REQUEST                          ? RE_REQUEST
                       : x->kind == GSR_RELEASE && x->why == GSR_WHY_FORCED ? RE_FORCED
                       : x->kind == GSR_ASK                                 ? RE_ASK
                       : x->kind == GSR_HOLD                                ? RE_HOLD
                                                                            : -1;
            if (kind >= 0)
                rc = ev_push(&e, x->t, (uint32_t)kind, i, kind,
                             kind == RE_REQUEST ? depth[fit_ev_index(r, i, k)] : 0);
        }
    if (!rc && !(counted = malloc((e.n ? e.n : 1) * sizeof *counted)))
        rc = -1;
    rc = rc ? rc : tally(&e, r->n_threads, &f->race_drops, &f->race_won, want_t, counted);
    f->race_depth_ns = -1;
    f->race_cores = r->cores;
    if (!rc && f->race_drops > 0) {
        size_t n = (size_t)f->race_drops;
        qsort(counted, n, sizeof *counted, fit_cmp_i64);
        f->race_depth_ns = n % 2 ? counted[n / 2] : (counted[n / 2 - 1] + counted[n / 2]) / 2;
    }
    free(counted);
    free(depth);
    free(e.v);
    return rc;
}

/* A replay's count, from its trace: an ask begins each stretch of a
 * thread's lane waiting for the GIL, a hold each new holder on the main
 * process's GIL lane, the requests and forced switches are its instants;
 * same-time events in the engine's order. */
static int count_trace(const gs_trace_t *t, int64_t *drops, int64_t *won)
{
    race_evs_t e = {0};
    int rc = 0, n = gs_trace_n_threads(t);
    for (int i = 0; i < n && !rc; i++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
        for (size_t k = 0; l && k < l->n && !rc; k++)
            if (l->iv[k].state == GS_ST_WAIT_GIL &&
                (k == 0 || l->iv[k - 1].state != GS_ST_WAIT_GIL))
                rc = ev_push(&e, l->iv[k].start_ns, l->iv[k].seq, i, RE_ASK, 0);
    }
    int gl = gs_trace_gil_lane(t, 0);
    const gs_lane_t *g = gl >= 0 ? gs_trace_lane(t, gl) : NULL;
    for (size_t k = 0; g && k < g->n && !rc; k++) {
        const gs_interval_t *v = &g->iv[k];
        if (k == 0 || v->who != g->iv[k - 1].who || v->start_ns != g->iv[k - 1].end_ns)
            rc = ev_push(&e, v->start_ns, v->seq, v->who, RE_HOLD, 0);
    }
    const gs_instant_t *in = gs_trace_instants(t);
    for (size_t k = 0; k < gs_trace_n_instants(t) && !rc; k++) {
        if (in[k].process != 0)
            continue;
        if (in[k].kind == GS_IN_DROP_REQUEST || in[k].kind == GS_IN_FORCED_SWITCH)
            rc = ev_push(&e, in[k].t_ns, gs_trace_instant_seq(t, k), in[k].thread,
                         in[k].kind == GS_IN_DROP_REQUEST ? RE_REQUEST : RE_FORCED, 0);
    }
    rc = rc ? rc : tally(&e, n, drops, won, NULL, NULL);
    free(e.v);
    return rc;
}

/* One value tried: the replay's drops and the requester's, RACE_SEEDS seeds
 * pooled. */
typedef struct race_try {
    int pct;
    int64_t drops, won;
} race_try_t;

static double share(const race_try_t *x)
{
    return x->drops ? (double)x->won / (double)x->drops : NAN;
}

#define RACE_RUN_FAILED (-1) /* a replay ended other than done: the fit keeps the default */
#define RACE_OOM (-2)        /* out of memory: the fit's error, GS_ENOMEM */

/* The replays: the fitted scenario's model m, run up to until_ns (0: to
 * the end), with the race of f and o (a shape: the curve at each level). */
typedef struct race_run {
    gs_model_t *m;
    int64_t until_ns;
    const fscenario_t *f;
    const gs_fit_opts_t *o;
} race_run_t;

/* Runs the model at requester_first pct/100, or with a shape the curve
 * through pct/100 at the recording's depth (racecurve.c), and seeds
 * 1..RACE_SEEDS. 0, RACE_RUN_FAILED or RACE_OOM. */
static int try_value(const race_run_t *R, int pct, race_try_t *out)
{
    gs_model_t *m = R->m;
    int64_t until_ns = R->until_ns;
    *out = (race_try_t){.pct = pct};
    m->machine.requester_first_pct = pct;
    m->machine.n_rf_curve =
        fit_race_points(R->f, R->o, pct, m->machine.rf_idle_ns, m->machine.rf_pct);
    gs_run_opts_t o;
    gs_run_opts_init(&o);
    o.until_ns = until_ns;
    for (uint64_t s = 1; s <= RACE_SEEDS; s++) {
        gs_trace_t *t = NULL;
        gs_error_t err;
        int64_t d = 0, w = 0;
        m->seed = s;
        memset(&err, 0, sizeof err);
        int rc = gs_sim_run(m, &o, &t, &err);
        gs_outcome_t end = t ? gs_trace_outcome(t) : GS_OUT_ERROR;
        /* a run stopped at the horizon given (GS_ELIMIT) is one cut short */
        if (end == GS_OUT_DONE || (until_ns > 0 && end == GS_OUT_HORIZON))
            rc = count_trace(t, &d, &w) ? RACE_OOM : 0;
        else
            rc = rc == GS_ENOMEM || err.code == GS_ENOMEM ? RACE_OOM : RACE_RUN_FAILED;
        gs_trace_free(t);
        if (rc)
            return rc;
        out->drops += d;
        out->won += w;
    }
    return 0;
}

/* The search between lo (share above the recording's) and hi (below): the
 * tried value whose share is nearest into *best. 0, or try_value's error. */
static int search(const race_run_t *R, double target, race_try_t lo, race_try_t hi,
                  race_try_t *best, int *tried)
{
    *best = fabs(share(&lo) - target) <= fabs(share(&hi) - target) ? lo : hi;
    for (int k = 0; k < RACE_STEPS; k++) {
        double a = share(&lo), b = share(&hi);
        int pct = (int)lround(lo.pct + (hi.pct - lo.pct) * (a - target) / (a - b));
        pct = pct <= lo.pct ? lo.pct + 1 : pct >= hi.pct ? hi.pct - 1 : pct;
        if (pct <= lo.pct || pct >= hi.pct)
            break;
        race_try_t x;
        int rc = try_value(R, pct, &x);
        if (rc)
            return rc;
        (*tried)++;
        if (!x.drops)
            break;
        double s = share(&x);
        if (fabs(s - target) < fabs(share(best) - target))
            *best = x;
        if (fabs(s - target) <= RACE_TOL)
            break;
        if (s > target)
            lo = x;
        else
            hi = x;
    }
    return 0;
}

/* The fit's choice, given the recording's share and the replays R.
 * 0 (f->race_why says what came of it), or -1 out of memory. */
static int choose(const race_run_t *R, fscenario_t *f, double target)
{
    race_try_t lo, hi, best;
    int rc = try_value(R, 0, &lo);
    rc = rc ? rc : try_value(R, 100, &hi);
    if (rc) {
        f->race_why = FIT_RACE_FAILED;
        return rc == RACE_OOM ? -1 : 0;
    }
    f->race_tried = 2;
    if (lo.drops < FIT_RACE_MIN || hi.drops < FIT_RACE_MIN) {
        f->race_why = FIT_RACE_NO_REPLAY;
        f->race_model_drops = lo.drops < hi.drops ? lo.drops : hi.drops;
        return 0;
    }
    if (share(&lo) <= target) /* even at 0 the requester takes no more */
        best = lo;
    else if (share(&hi) >= target) /* even at 1 it takes as much */
        best = hi;
    else if ((rc = search(R, target, lo, hi, &best, &f->race_tried)) != 0) {
        f->race_why = FIT_RACE_FAILED;
        return rc == RACE_OOM ? -1 : 0;
    }
    f->race_why = FIT_RACE_FITTED;
    f->rf_pct = best.pct;
    f->race_model_drops = best.drops;
    f->race_model_won = best.won;
    f->race_lo = share(&lo);
    f->race_hi = share(&hi);
    return 0;
}

/* How far each replay runs: to the end, or, for a recording with more
 * than RACE_WANT such drops, to the hold that ended its RACE_WANT-th, one
 * switch interval (or 5 ms) on (a 10 s recording of 1468: its first 1.4 s
 * or so), so that the fit of a long recording stays within its time budget
 * (bench_fit.py). The recorded instant, not a share of the duration: a
 * program that contends only after a long start-up has its drops late.
 * 0: the end. */
static int64_t horizon(const gsr_recording_t *r, const fscenario_t *f, int64_t want_t)
{
    if (f->race_drops <= RACE_WANT || want_t <= 0)
        return 0;
    int64_t slack = r->switch_interval_ns > 0 ? r->switch_interval_ns : 5000000;
    int64_t h = want_t + slack;
    return r->duration_ns > 0 && h >= r->duration_ns ? 0 : h;
}

static int read_race(const gsr_recording_t *r, fscenario_t *f, const gs_fit_opts_t *o)
{
    f->race_why = FIT_RACE_NONE;
    f->race_depth_ns = -1;
    if (r->py_major != 3 || r->py_minor < 2 || r->gil_disabled)
        return 0; /* no CPython 3 GIL: no drop requests to read */
    int64_t want_t = 0;
    if (count_recording(r, f, &want_t) != 0)
        return -1;
    f->race_why = FIT_RACE_FEW;
    if (f->race_drops < FIT_RACE_MIN)
        return 0;
    gs_model_t *m = NULL;
    int rc = 0;
    f->race_why = FIT_RACE_FAILED; /* fit_model: out of memory, or refused, alike */
    if (fit_model(r, f, "fitted race", &m) == 0) {
        race_run_t R = {.m = m, .until_ns = horizon(r, f, want_t), .f = f, .o = o};
        rc = choose(&R, f, (double)f->race_won / (double)f->race_drops);
    }
    gs_model_free(m);
    return rc;
}

int fit_race(const gsr_recording_t *r, fscenario_t *f, const gs_fit_opts_t *o)
{
    int rc = read_race(r, f, o);
    fit_race_curve(f, o); /* after every outcome: a shape given and unused is said */
    return rc;
}

const char *fit_race_note(const fscenario_t *f, char *buf, size_t n)
{
    double rec = f->race_drops ? 100.0 * (double)f->race_won / (double)f->race_drops : 0;
    char more[700] = "";
    switch (f->race_why) {
    case FIT_RACE_FITTED:
        snprintf(buf, n,
                 " The race between a drop request and the drop: requester_first %.2f (the "
                 "chance that the thread asking for the drop is already asleep in its wait "
                 "when the holder signals, so that the signal wakes another waiter), read off "
                 "the %lld forced drops that left two or more threads waiting, the requester "
                 "among them: it took the GIL after %.0f%%; the replay at %.2f gives it "
                 "%.0f%% of %lld such drops (%d seeds; at 0 it took %.0f%%, at 1 %.0f%%; "
                 "%d values run). The race moves with the machine from run to run: it is "
                 "this recording's.",
                 f->rf_pct / 100.0, (long long)f->race_drops, rec, f->rf_pct / 100.0,
                 100.0 * (double)f->race_model_won /
                     (double)(f->race_model_drops ? f->race_model_drops : 1),
                 (long long)f->race_model_drops, RACE_SEEDS, 100 * f->race_lo, 100 * f->race_hi,
                 f->race_tried);
        break;
    case FIT_RACE_FEW:
        snprintf(buf, n,
                 " The race between a drop request and the drop (requester_first) is the "
                 "engine's default 0.5: the recording has %lld forced drop%s that left two or "
                 "more threads waiting, fewer than %d to read it off.",
                 (long long)f->race_drops, f->race_drops == 1 ? "" : "s", FIT_RACE_MIN);
        break;
    case FIT_RACE_NO_REPLAY:
        snprintf(buf, n,
                 " The race between a drop request and the drop (requester_first) is the "
                 "engine's default 0.5: the recording's requester took %.0f%% of %lld forced "
                 "drops with two or more threads waiting, but the replay at requester_first 0 "
                 "or 1 has only %lld such drops, fewer than %d to match it with.",
                 rec, (long long)f->race_drops, (long long)f->race_model_drops, FIT_RACE_MIN);
        break;
    case FIT_RACE_FAILED:
        snprintf(buf, n,
                 " The race between a drop request and the drop (requester_first) is the "
                 "engine's default 0.5: a replay run to read it failed.");
        break;
    default:
        *buf = 0;
        break;
    }
    fit_race_curve_note(f, more, sizeof more); /* the depth, the shape's use */
    size_t k = strlen(buf);
    snprintf(buf + k, n - k, "%s", more);
    return buf;
}
