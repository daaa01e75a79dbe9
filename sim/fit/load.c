/* load.c - the machine's other load, fitted from the kernel's account.
 *
 * A recording made on a busy machine shows, per thread, the kernel's CPU
 * time (os_cpu_ns) and the time it was runnable without a core
 * (os_run_delay_ns). fit.c scales each thread's CPU ops (its Python runs
 * and C calls, as recorded) down to the kernel's CPU time (the work
 * itself); the stretch, the time inside those runs without a core, is the
 * model's to add. Part of it the model adds by itself: the program's own
 * threads outnumbering the cores. The rest was other programs. This file
 * sizes them as `load` busy threads beside the program's, so that the
 * replay stretches the runs as much as the machine did.
 * The recorded stretch of a thread is its runs' length less its kernel CPU
 * time, at most its own run delay (time without a core cannot stretch a run
 * by more than the kernel kept it waiting for one). Summed over the threads
 * with kernel totals, up to 5% of their CPU ops together it is measurement
 * (quiet recordings of the examples show 1 to 2%: the clocks, the
 * recorder) and no load is fitted. Beyond it, each thread's stretch less 5%
 * of its own runs is what the load must give it (a quiet mixed_pool
 * recording, 7% stretched, was fitted half a busy thread when the whole
 * stretch was matched, which a one-core what-if then made take half the
 * core: +40 to +75% where the real one-core run took 241 ms).
 * The replay's stretch of a thread is its time ready without a core (or
 * switching back in) after the OS took the core from it in the middle of
 * Python or C; a thread woken from a wait that finds no core is not in a
 * run yet (the recording counts that in its wait).
 * Sizing: the engine runs the fitted scenario itself (the replay the user
 * sees) at a few loads. One load cannot stretch every thread as the machine
 * did (other programs come and go: a start-up may lose half its core and
 * the long thread after it a tenth), so the load is the one that makes the
 * threads' stretch least off the recorded one, summed over the threads: the
 * threads that ran longest decide, and the replay's figures are mostly
 * theirs. A run votes: each thread stretched more than recorded (beyond 5%
 * of it and 1% of its runs) by its runs' length, each stretched less
 * against, which is how that sum grows with the load; with no load first
 * (if the program's own threads outnumbering the cores stretch it enough,
 * no load), then from the load fair sharing predicts (while d of the
 * program's threads want a core, each gets min(1, cores / (d + load)) of
 * one, with each thread's time wanting a core by d from st.dem_ns, fit.c)
 * up by doubling until the vote is for less, then halving the interval
 * (LOAD_RUNS runs at most each); the run least off is the load. The
 * fair-sharing sum alone underestimates: a load of whole busy threads and
 * a part-time one does not take a constant share of each core, and the
 * engine places them where they run (on two cores one busy thread beside
 * one GIL-bound thread leaves it its own core), so its load stretched a
 * replay by a fifth to four fifths of the recording.
 * The run delays themselves are not matched: most of a GIL-bound thread's
 * fall outside its runs (a GIL waiter woken to find no core), where the
 * model, given the load, makes its own.
 * Runs not stretched (up to the 5%) fit no load by the above, but the
 * recorder's measure of the other programs (others_cpu_ns, from
 * /proc/stat) can still show them: a program that runs one GIL holder at a
 * time and blocks often (producer_consumer's Condition waits) needs fewer
 * cores than the machine has, the others run on the cores it leaves, and
 * the kernel keeps a woken thread on its waker's CPU, so the run delay
 * falls in the waits (73-94 ms of it, others 0.59-1.43 CPUs). A replay
 * without them leaves a core idle, and each GIL hand-off wakes a thread on
 * it (21-22 us where the real hand-off took ~1 us: +30 to +34%). Such a
 * recording is fitted a load of what the others used (unstretched(), the
 * same figure that caps the stretched case; none below LOAD_MIN or where
 * the recording does not say), and the description says so. Measured
 * (replay_notes.md point 18): producer_consumer's 5 ms replays of
 * /tmp/pcons_q +30/+31/+31% before, +0/+2/+1% with it (seeds 1/2/3); on
 * the 132 loaded recordings two fits change (http_server, pipeline),
 * figures within 143/144/143 of 314 against 141/144/143. Its one-core
 * what-if (cpus=0) keeps its makespan (-1 to +1%) but the producer's GIL
 * wait becomes time waiting for a core (13 ms real, 12.5 ms replayed
 * before, 1.3 ms with the load): 6 of 7 figures within where it was 7.
 * The load is a process "other load" of daemon threads running C without
 * a GIL: floor(load) always busy, and one busy the rest of the time in
 * random bursts (10 ms on average). Approximated: the load is constant
 * over the run (the recording has totals, not when the delays came). */
#include "fit_int.h"
#include "recfile_int.h"

#include "gilsim/engine.h"
#include "gilsim/fit.h"
#include "gilsim/trace.h"
#include "gilsim/units.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LOAD_MIN 0.05 /* less is none */
#define LOAD_MAX 64.0 /* busy threads per core at most */
#define LOAD_NOISE                                                                                 \
    0.05                                 /* the threads' stretch up to this share of their CPU     \
                                            ops together is measurement (clocks, recorder) */
#define LOAD_CHUNK_NS INT64_C(100000000) /* a busy thread's c_call */
#define LOAD_BURST_NS INT64_C(10000000)  /* the part-time thread's mean period */
#define LOAD_RUNS 8       /* replays tried per search step (up, then halving) */
#define LOAD_TOL 0.05     /* a thread's replay stretched this close to the recording */
#define LOAD_TOL_OPS 0.01 /* ... or to this share of its runs: matches it */
#define LOAD_STEP 0.03    /* the load found to this share of itself */

/* The delay fair sharing predicts for thread t beside `load` busy threads. */
static double predicted(const fthread_stats_t *t, int cores, double load)
{
    double sum = 0;
    for (int d = 1; d < FIT_DEM_MAX; d++) {
        double share = cores / (d + load);
        sum += share < 1 ? (double)t->dem_ns[d] * (1 - share) : 0;
    }
    return sum;
}

static double predicted_all(const fscenario_t *f, const bool *use, double load)
{
    double sum = 0;
    for (int i = 0; i < f->n_threads; i++)
        sum += use[i] ? predicted(&f->th[i].st, f->cores, load) : 0;
    return sum;
}

/* Each thread's stretch as recorded into rec[i] (-1: no kernel totals),
 * its CPU ops (its runs as recorded) into w[i] and their total into *ops;
 * the threads' stretch summed. */
static double recorded(const gsr_recording_t *r, fscenario_t *f, double *rec, double *w,
                       double *ops)
{
    double stretch = 0;
    *ops = 0;
    for (int i = 0; i < f->n_threads; i++) {
        const gsr_thread_t *th = &r->threads[i];
        const fthread_stats_t *st = &f->th[i].st;
        rec[i] = -1;
        if (th->os_cpu_ns < 0)
            continue;
        double d = st->os_cpu_ns > 0 ? (double)(st->raw_cpu_ns - st->os_cpu_ns) : 0;
        if (th->os_run_delay_ns >= 0 && d > (double)th->os_run_delay_ns)
            d = (double)th->os_run_delay_ns; /* no core: at most what the kernel says */
        rec[i] = d > 0 ? d : 0;
        stretch += rec[i];
        w[i] = (double)(st->raw_cpu_ns > 0 ? st->raw_cpu_ns : st->sum[FOP_CPU] + st->sum[FOP_CCALL]);
        *ops += w[i];
        f->run_delay_ns += th->os_run_delay_ns > 0 ? th->os_run_delay_ns : 0;
        f->n_load_threads++;
    }
    return stretch;
}

/* The load fair sharing alone predicts for a stretch of `seen` (0: none
 * beyond what the program's own threads explain): where the engine's
 * search starts. */
static double analytic(const fscenario_t *f, const bool *use, double seen)
{
    double lo = 0, hi = LOAD_MAX * f->cores;
    if (seen <= predicted_all(f, use, 0))
        return 0;
    if (predicted_all(f, use, hi) < seen)
        return hi;
    for (int k = 0; lo < hi && k < 60; k++) {
        double mid = (lo + hi) / 2;
        if (predicted_all(f, use, mid) < seen)
            lo = mid;
        else
            hi = mid;
    }
    return hi;
}

/* Thread i's stretch in a run: the time it spent ready without a core (or
 * switching back in) after the OS took the core from it in the middle of
 * Python or C, as the kernel's run delay inside a recorded run. A thread
 * woken from a wait that finds no core is not in a run yet (the recording
 * counts that as its wait). */
static int64_t trace_stretch(const gs_trace_t *t, int i)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
    int64_t sum = 0;
    bool in_run = false;
    for (size_t k = 0; l && k < l->n; k++) {
        uint8_t s = l->iv[k].state;
        if (s == GS_ST_READY || s == GS_ST_SWITCH) {
            sum += in_run ? l->iv[k].end_ns - l->iv[k].start_ns : 0;
            continue;
        }
        in_run = s == GS_ST_PY || s == GS_ST_C_GIL || s == GS_ST_C_NOGIL;
    }
    return sum;
}

/* One run of the fitted scenario at a load. */
typedef struct trial {
    double load;
    double vote;  /* the threads' votes summed, NAN if the run failed */
    double error; /* the threads' stretch off the recording's, summed */
    double total; /* the threads' stretch */
} trial_t;

/* What a run's stretch of each thread says of its load: each thread's
 * vote, its CPU ops' weight, +1 if the run stretched it more than the
 * recording (beyond LOAD_TOL of it, and of LOAD_TOL_OPS of its runs), -1 if
 * less, 0 within. The votes' sum is how the error grows with the load (a
 * thread's stretch grows about with its runs' length). */
static trial_t vote(const gsr_recording_t *r, fscenario_t *f, const double *rec, const double *w,
                    double load)
{
    gs_model_t *m = NULL;
    gs_trace_t *t = NULL;
    gs_error_t err;
    trial_t x = {.load = load, .vote = NAN};
    f->load = load;
    if (fit_model(r, f, "fitted load", &m) != 0 || gs_sim_run(m, NULL, &t, &err) != 0 || gs_trace_outcome(t) != GS_OUT_DONE ||
        gs_trace_n_threads(t) < f->n_threads)
        goto done;
    x.vote = 0;
    for (int i = 0; i < f->n_threads; i++) {
        if (rec[i] < 0)
            continue;
        double s = (double)trace_stretch(t, i), tol = LOAD_TOL * rec[i] + LOAD_TOL_OPS * w[i];
        x.total += s;
        x.error += fabs(s - rec[i]);
        x.vote += s > rec[i] + tol ? w[i] : s < rec[i] - tol ? -w[i] : 0;
    }
done:
    gs_trace_free(t);
    gs_model_free(m);
    return x;
}

/* The load at which the threads' votes balance, from the guess: up by
 * doubling until the runs stretch the threads (by weight) at least as much
 * as the recording, then by halving the interval; of the loads run, the one
 * whose run's stretch is the least off the recording's (own: the run
 * without a load). -1 if a run failed. */
static double search(const gsr_recording_t *r, fscenario_t *f, const double *rec, const double *w,
                     double guess, trial_t own)
{
    double max = LOAD_MAX * f->cores, lo = 0, hi = guess < 0.5 ? 0.5 : guess;
    trial_t best = own, x = own;
    for (int k = 0; k < LOAD_RUNS; k++) {
        x = vote(r, f, rec, w, hi);
        if (isnan(x.vote))
            return -1;
        best = x.error < best.error ? x : best;
        if (x.vote >= 0 || hi >= max)
            break;
        lo = hi;
        hi = hi * 2 < max ? hi * 2 : max;
    }
    if (x.vote < 0) /* more than LOAD_MAX per core: as much as allowed */
        return hi;
    for (int k = 0; k < LOAD_RUNS && x.vote != 0 && hi - lo > LOAD_STEP * hi; k++) {
        x = vote(r, f, rec, w, (lo + hi) / 2);
        if (isnan(x.vote))
            return -1;
        best = x.error < best.error ? x : best;
        if (x.vote < 0)
            lo = x.load;
        else
            hi = x.load;
    }
    return best.load;
}

/* The load of a recording whose threads' runs were not stretched (beyond
 * the measurement) although the recorder measured other programs using the
 * machine: what they used, in busy threads (none where it was not
 * measured, or less than LOAD_MIN). The runs show no stretch when the
 * program needs fewer cores than the machine has and its threads block
 * often (one GIL holder at a time, the others in Condition waits): the
 * others then ran on the cores the program left, and the kernel kept a
 * woken thread on its waker's busy CPU rather than wake it on one of
 * those, so its delay fell in its wait (producer_consumer: 73-94 ms of run
 * delay, almost none inside the runs, others 0.59-1.43 CPUs). A replay
 * without a load leaves those cores idle, and each GIL hand-off pays a
 * wake-up on one (21-22 us where the real one took ~1 us). The runs do not
 * say how much the others took from the program, only what they used in
 * all, so the load is that, as the stretched case's cap. */
static double unstretched(fscenario_t *f)
{
    if (f->others_cap < LOAD_MIN)
        return 0;
    f->load_rule = FIT_LOAD_OTHERS;
    return f->others_cap > LOAD_MAX * f->cores ? LOAD_MAX * f->cores : f->others_cap;
}

void fit_load(const gsr_recording_t *r, fscenario_t *f)
{
    double ops = 0;
    f->load = 0;
    f->load_rule = FIT_LOAD_STRETCH;
    f->others_cap = r->others_cpu_ns >= 0 && r->duration_ns > 0
                        ? (double)r->others_cpu_ns / (double)r->duration_ns
                        : -1;
    bool *use = calloc((size_t)f->n_threads + 1, sizeof *use);
    double *rec = calloc((size_t)f->n_threads + 1, sizeof *rec);
    double *w = calloc((size_t)f->n_threads + 1, sizeof *w);
    if (!use || !rec || !w)
        goto done; /* no memory to size it: fitted without (the description says none) */
    double stretch = recorded(r, f, rec, w, &ops);
    for (int i = 0; i < f->n_threads; i++)
        use[i] = rec[i] >= 0;
    /* Up to the measurement's share of all the threads' CPU ops, a stretch
     * is no other program (below one per spare core a load leaves none:
     * see the head of this file). */
    if (stretch <= LOAD_NOISE * ops) {
        f->load = unstretched(f);
        goto done;
    }
    /* other programs used less than the least load fitted (the cap below):
     * none, without running the replays that would size it */
    if (f->others_cap >= 0 && f->others_cap < LOAD_MIN)
        goto done;
    /* ... and beyond it, only each thread's stretch over that share of its
     * own runs is other programs', so that a quiet recording's few percent
     * are not matched by a load */
    double seen = 0;
    for (int i = 0; i < f->n_threads; i++)
        if (rec[i] >= 0) {
            rec[i] = rec[i] > LOAD_NOISE * w[i] ? rec[i] - LOAD_NOISE * w[i] : 0;
            seen += rec[i];
        }
    f->load_delay_ns = (int64_t)seen;
    double guess = analytic(f, use, seen);
    /* The recording's own demand (how long d of its threads wanted a core
     * at once) explains the stretch: no other program was needed. The
     * engine's replay of that contention can fall short of the kernel's (a
     * quiet mixed_pool recording: 1.9 of 17.8 ms), and a load fitted to the
     * difference would be a program that never ran, which a one-core
     * what-if then makes take half the core. */
    if (guess <= 0)
        goto done;
    trial_t own = vote(r, f, rec, w, 0);
    f->load_own_ns = (int64_t)own.total;
    double load = isnan(own.vote) ? guess : own.vote >= 0 ? 0 : search(r, f, rec, w, guess, own);
    load = load < 0 ? guess : load;
    /* no more than the machine's other programs used, where the recorder
     * measured it: a stretch they did not cause is the program's own
     * contention, which the replay makes less of than the kernel did (a
     * quiet mixed_pool recording: 1.9 of 8 ms beyond the measurement), and
     * a load fitted to it would be a program that never ran */
    if (f->others_cap >= 0 && load > f->others_cap)
        load = f->others_cap;
    f->load = load >= LOAD_MIN ? load : 0;
done:
    free(use);
    free(rec);
    free(w);
}

/* The load's thread names, clear of the program's (the process's own name,
 * GS_FIT_LOAD_PROCESS, is unique: the program's threads are all in main). */
static const char *load_name(const fscenario_t *f)
{
    for (int i = 0; i < f->n_threads; i++)
        if (strncmp(f->th[i].name, "other load", 10) == 0)
            return "gilsim's other load";
    return "other load";
}

static cJSON *dur(int64_t ns)
{
    char buf[48];
    return cJSON_CreateString(gs_format_ns_exact(ns, buf, sizeof buf));
}

static void split(double load, int *full, double *part)
{
    *full = (int)floor(load);
    *part = load - *full;
    if (*part > 1 - LOAD_MIN) {
        (*full)++;
        *part = 0;
    }
    *part = *part < LOAD_MIN ? 0 : *part;
}

/* One busy thread of the load: name, count (0: none), its op. */
static void add_thread(cJSON *ths, const char *name, int count, cJSON *body, int64_t n)
{
    cJSON *t = cJSON_CreateObject();
    cJSON_AddStringToObject(t, "name", name);
    if (count)
        cJSON_AddNumberToObject(t, "count", count);
    cJSON_AddTrueToObject(t, "daemon");
    cJSON *rep = cJSON_CreateObject();
    cJSON_AddNumberToObject(rep, "repeat", (double)n);
    cJSON_AddItemToObject(rep, "do", body);
    cJSON *prog = cJSON_AddArrayToObject(t, "program");
    cJSON_AddItemToArray(prog, rep);
    cJSON_AddItemToArray(ths, t);
}

static cJSON *c_call(cJSON *d)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "c_call", d);
    cJSON_AddTrueToObject(o, "releases_gil");
    return o;
}

static cJSON *exp_of(int64_t ns)
{
    cJSON *o = cJSON_CreateObject();
    cJSON_AddItemToObject(o, "exp", dur(ns));
    return o;
}

void *fit_load_json(const fscenario_t *f, int64_t until_ns)
{
    if (f->load <= 0)
        return NULL;
    int full;
    double part;
    split(f->load, &full, &part);
    const char *name = load_name(f);
    char tn[64];
    cJSON *procs = cJSON_CreateArray(), *p = cJSON_CreateObject();
    cJSON_AddItemToArray(procs, p);
    cJSON_AddStringToObject(p, "name", GS_FIT_LOAD_PROCESS);
    cJSON_AddItemToObject(p, "create", dur(0));
    /* other programs: not confined by a taskset on the program (--set cpus=0) */
    cJSON_AddStringToObject(p, "cpus", "all");
    cJSON_AddStringToObject(cJSON_AddObjectToObject(p, "python"), "gil", "none");
    cJSON *ths = cJSON_AddArrayToObject(p, "threads");
    if (full) {
        cJSON *body = cJSON_CreateArray();
        cJSON_AddItemToArray(body, c_call(dur(LOAD_CHUNK_NS)));
        add_thread(ths, name, full, body, until_ns / LOAD_CHUNK_NS + 1);
    }
    if (part > 0) {
        int64_t busy = (int64_t)(part * LOAD_BURST_NS) / 1000 * 1000;
        cJSON *body = cJSON_CreateArray(), *sl = cJSON_CreateObject();
        cJSON_AddItemToArray(body, c_call(exp_of(busy)));
        cJSON_AddItemToObject(sl, "sleep", exp_of(LOAD_BURST_NS - busy));
        cJSON_AddItemToArray(body, sl);
        snprintf(tn, sizeof tn, "%s part", name);
        add_thread(ths, tn, 0, body, until_ns / LOAD_BURST_NS + 1);
    }
    return procs;
}

/* What the recorder saw the machine's other programs use, after the note
 * in buf (nothing when the recording does not say). */
static void others_note(const fscenario_t *f, char *buf, size_t n)
{
    size_t used = strlen(buf);
    if (f->others_cap < 0 || !f->n_load_threads || used >= n)
        return;
    snprintf(buf + used, n - used,
             " Other programs used %.2f CPUs' worth of the machine while it ran (all the "
             "CPUs' busy time in /proc/stat, less the program's and the recorder's): the "
             "load is at most that, since a stretch they did not cause is the program's "
             "own contention.",
             f->others_cap);
}

const char *fit_load_note(const fscenario_t *f, char *buf, size_t n)
{
    char b1[32], b2[32], b3[32];
    *buf = 0;
    if (f->load <= 0) {
        if (f->n_load_threads)
            snprintf(buf, n,
                     "\nOther load: none fitted. The kernel kept the threads runnable "
                     "without a core %s in all, but their Python and C runs lasted no "
                     "longer than the kernel's CPU time of them by more than 5%% of all "
                     "their runs (measurement), or than their replay without a load "
                     "stretches them (their own program's threads outnumbering the %d "
                     "cores).",
                     gs_format_ns(f->run_delay_ns, b1, sizeof b1), f->cores);
        others_note(f, buf, n);
        return buf;
    }
    int full;
    double part;
    split(f->load, &full, &part);
    char parts[160] = "";
    if (full && part > 0)
        snprintf(parts, sizeof parts,
                 "%d always busy and one busy %.0f%% of the time in "
                 "random bursts",
                 full, 100 * part);
    else if (full)
        snprintf(parts, sizeof parts, "%s always busy", full == 1 ? "one" : "all");
    else
        snprintf(parts, sizeof parts, "one busy %.0f%% of the time in random bursts", 100 * part);
    if (f->load_rule == FIT_LOAD_OTHERS) {
        snprintf(buf, n,
                 "\nOther load: sized from the other programs' measured CPU use, not from "
                 "the runs: the Python and C runs of %d threads lasted no longer than the "
                 "kernel's CPU time of them beyond 5%% of all their runs (measurement), yet "
                 "the kernel kept them runnable without a core %s in all (in their waits) "
                 "while other programs used %.2f CPUs' worth of the machine (all the CPUs' "
                 "busy time in /proc/stat, less the program's and the recorder's): they ran "
                 "on the cores the program left, where a replay without them leaves those "
                 "cores idle and makes each hand-off wake a thread there. The process "
                 "\"%s\" is %.2f busy threads beside the program's (%s), C code without a "
                 "GIL from the start to the program's end (daemons: they do not keep the run "
                 "going). It stays in a what-if; --set processes=[] removes it (the program "
                 "alone on the machine, as gilsim fit --no-load). Approximated: the load is "
                 "constant over the run (the recording has the others' total, not when they "
                 "ran).",
                 f->n_load_threads, gs_format_ns(f->run_delay_ns, b3, sizeof b3), f->others_cap,
                 GS_FIT_LOAD_PROCESS, f->load, parts);
        return buf;
    }
    snprintf(buf, n,
             "\nOther load: the Python and C runs of %d threads lasted %s longer than the "
             "kernel's CPU time of them beyond 5%% of each thread's runs (measurement; runnable without a core "
             "%s in all); their own program's threads outnumbering the %d cores stretch "
             "them %s in the replay without a load, so other programs took the rest: the "
             "process \"%s\" is %.2f busy threads beside the program's (%s), C code without "
             "a GIL from the start to the program's end (daemons: they do not keep the run "
             "going), sized by running the replay itself: the load whose replay stretches "
             "the threads' runs least off the recording, so the threads that ran longest "
             "match (one load cannot match a thread the machine stretched unlike the "
             "others, e.g. a start-up). It stays in a what-if; "
             "--set processes=[] removes it (the program alone on the machine, as gilsim fit "
             "--no-load). Approximated: the load is constant over the run (the recording has "
             "each thread's totals, not when its delays came).",
             f->n_load_threads, gs_format_ns(f->load_delay_ns, b1, sizeof b1),
             gs_format_ns(f->run_delay_ns, b3, sizeof b3), f->cores,
             gs_format_ns(f->load_own_ns, b2, sizeof b2), GS_FIT_LOAD_PROCESS, f->load, parts);
    others_note(f, buf, n);
    return buf;
}
