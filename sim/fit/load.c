/* load.c - the machine's other load, fitted from the kernel's account.
 *
 * A recording made on a busy machine shows, per thread, the kernel's CPU
 * time (os_cpu_ns) and the time it was runnable without a core
 * (os_run_delay_ns). fit.c scales each thread's CPU ops (its Python runs
 * and C calls, as recorded) down to the kernel's CPU time (the work
 * itself); the stretch, the time inside those runs without a core, is the
 * model's to add. Part of it the model adds by itself: the program's own
 * threads outnumbering the cores. The rest was other programs. This file
 * sizes them as `load` busy threads beside the program's, sharing the
 * cores fairly (as CFS and EEVDF share them between threads of equal
 * weight): while d of the program's threads want a core, each gets
 * min(1, cores / (d + load)) of one. With each thread's time wanting a core
 * by d (st.dem_ns, fit.c), the stretch that predicts, summed over the
 * threads with kernel totals, is set equal to the recorded one beyond 5%
 * of their CPU ops together (measurement: quiet recordings of the examples
 * show 1 to 2%), each thread's at most its own run delay (time without a
 * core cannot stretch a run by more than the kernel kept it waiting for
 * one), by bisection (it grows with the load). The run delays themselves are not matched: most of a GIL-bound
 * thread's fall outside its runs (a GIL waiter woken to find no core),
 * where the model, given the load, makes its own.
 * The load is a process "other load" of daemon threads running C without
 * a GIL: floor(load) always busy, and one busy the rest of the time in
 * random bursts (10 ms on average). Approximated: the load is constant
 * over the run (the recording has totals, not when the delays came) and
 * shares the cores fairly; on two cores a single GIL-bound thread beside
 * one busy thread is not slowed, so a load of up to one thread per spare
 * core leaves no stretch and is seen only from 1 on. */
#include "fit_int.h"
#include "recfile_int.h"

#include "gilsim/fit.h"
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

void fit_load(const gsr_recording_t *r, fscenario_t *f)
{
    double stretch = 0, ops = 0;
    f->load = 0;
    bool *use = calloc((size_t)f->n_threads + 1, sizeof *use);
    if (!use)
        return; /* no memory to size it: fitted without (the description says none) */
    for (int i = 0; i < f->n_threads; i++) {
        const gsr_thread_t *th = &r->threads[i];
        const fthread_stats_t *st = &f->th[i].st;
        use[i] = th->os_cpu_ns >= 0;
        if (!use[i])
            continue;
        double d = st->os_cpu_ns > 0 ? (double)(st->raw_cpu_ns - st->os_cpu_ns) : 0;
        if (th->os_run_delay_ns >= 0 && d > (double)th->os_run_delay_ns)
            d = (double)th->os_run_delay_ns; /* no core: at most what the kernel says */
        stretch += d > 0 ? d : 0;
        ops += (double)st->raw_cpu_ns;
        f->run_delay_ns += th->os_run_delay_ns > 0 ? th->os_run_delay_ns : 0;
        f->n_load_threads++;
    }
    /* Beyond the measurement's share of all the threads' CPU ops: a small
     * stretch would otherwise fit a whole busy thread (below one per spare
     * core a load leaves none: see the head of this file). */
    double seen = stretch - LOAD_NOISE * ops;
    seen = seen > 0 ? seen : 0;
    double own = predicted_all(f, use, 0);
    f->load_delay_ns = (int64_t)seen;
    f->load_own_ns = (int64_t)own;
    double lo = 0, hi = LOAD_MAX * f->cores;
    if (seen > own && predicted_all(f, use, hi) < seen)
        lo = hi;
    for (int k = 0; seen > own && lo < hi && k < 60; k++) {
        double mid = (lo + hi) / 2;
        if (predicted_all(f, use, mid) < seen)
            lo = mid;
        else
            hi = mid;
    }
    f->load = seen > own && hi >= LOAD_MIN ? hi : 0;
    free(use);
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

const char *fit_load_note(const fscenario_t *f, char *buf, size_t n)
{
    char b1[32], b2[32], b3[32];
    *buf = 0;
    if (f->load <= 0) {
        if (f->n_load_threads)
            snprintf(buf, n,
                     "\nOther load: none fitted. The kernel kept the threads runnable "
                     "without a core %s in all, but their Python and C runs were no "
                     "longer than the kernel's CPU time of them (beyond 5%% of all their runs, "
                     "measurement) than their own program's threads outnumbering the "
                     "%d cores explain.",
                     gs_format_ns(f->run_delay_ns, b1, sizeof b1), f->cores);
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
    snprintf(buf, n,
             "\nOther load: the Python and C runs of %d threads lasted %s longer than the "
             "kernel's CPU time of them (beyond 5%%, measurement; runnable without a core %s "
             "in all); their own program's threads outnumbering the %d cores explain %s of "
             "it, so other programs took the rest: the process \"%s\" is %.2f busy threads "
             "beside the program's (%s), C code without a GIL from the start to the "
             "program's end (daemons: they do not keep the run going), sized so that "
             "sharing the cores fairly stretches the runs as much. It stays in a what-if; "
             "--set processes=[] removes it (the program alone on the machine, as gilsim fit "
             "--no-load). Approximated: the load is constant over the run (the recording has "
             "each thread's totals, not when its delays came).",
             f->n_load_threads, gs_format_ns(f->load_delay_ns, b1, sizeof b1),
             gs_format_ns(f->run_delay_ns, b3, sizeof b3), f->cores,
             gs_format_ns(f->load_own_ns, b2, sizeof b2), GS_FIT_LOAD_PROCESS, f->load, parts);
    return buf;
}
