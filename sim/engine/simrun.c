/* simrun.c - gs_sim_run: an engine made for a model, run, and freed.
 *
 * engine_new builds the engine's state for a model (threads with their CFS
 * weights and random streams, cores, one GIL per process, locks, events,
 * queues, the free-threading objects) and engine_free undoes it; run_loop
 * schedules the automatic starts, hands the baton to the first thread that
 * must run (engine.c gs__engine_next picks it) and waits until the loop has
 * stopped and every worker has ended; finish_trace closes the trace (a
 * deadlock shown a little past the moment it was found) and the outcome
 * becomes the error code. Requests and the loop itself are engine.c's. */
#include "engine_int.h"
#include "ft.h"
#include "gil.h"
#include "hrtimer.h"
#include "invariants.h"
#include "kernel.h"
#include "limits_int.h"
#include "os.h"
#include "qend.h"
#include "sis.h"
#include "sync.h"
#include "worker.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gs_run_opts_init(gs_run_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->cpu = GS_CPU_AUTO;
    o->spin = -1;
    o->memory_budget = gs__budget_default();
}

static int cfs_weight(int priority)
{
    /* Linux sched_prio_to_weight for nice -20..19; nice = -priority. */
    static const int w[40] = {88761, 71755, 56483, 46273, 36291, 29154, 23254, 18705, 14949,
                              11916, 9548,  7620,  6100,  4904,  3906,  3121,  2501,  1991,
                              1586,  1277,  1024,  820,   655,   526,   423,   335,   272,
                              215,   172,   137,   110,   87,    70,    56,    45,    36,
                              29,    23,    18,    15};
    int nice = -priority;
    if (nice < -20)
        nice = -20;
    if (nice > 19)
        nice = 19;
    return w[nice + 20];
}

static void engine_free(gs_engine_t *e)
{
    if (!e)
        return;
    for (int i = 0; i < e->n_thr; i++)
        if (e->joiners)
            gs__waitq_free(&e->joiners[i]);
    for (int i = 0; i < e->n_thr; i++)
        if (e->starters)
            gs__waitq_free(&e->starters[i]);
    if (e->gils)
        for (int p = 0; p < e->m->n_processes; p++) {
            gs__waitq_free(&e->gils[p].waiters);
            gs__waitq_free(&e->gils[p].switch_wait);
            gs__waitq_free(&e->gils[p].mtx_wait);
        }
    if (e->locks)
        for (int i = 0; i < e->m->n_locks; i++)
            gs__waitq_free(&e->locks[i].waiters);
    if (e->events)
        for (int i = 0; i < e->m->n_events; i++)
            gs__waitq_free(&e->events[i].waiters);
    if (e->queues)
        for (int i = 0; i < e->m->n_queues; i++) {
            gs__waitq_free(&e->queues[i].putters);
            gs__waitq_free(&e->queues[i].getters);
            gs__waitq_free(&e->queues[i].mutex.waiters);
        }
    gs__qend_free(e);
    gs__ft_destroy(e);
    gs__ahead_free(e);
    free(e->joiners);
    free(e->starters);
    gs__hrtimer_free(e);
    gs__sis_free(e);
    free(e->heap);
    free(e->ev_pos);
    free(e->thr);
    free(e->cores);
    free(e->gils);
    free(e->locks);
    free(e->events);
    free(e->queues);
    free(e->ready);
    sem_destroy(&e->main_go);
    sem_destroy(&e->parked);
    free(e);
}

static gs_engine_t *engine_new(const gs_model_t *m, const gs_run_opts_t *o)
{
    gs_engine_t *e = calloc(1, sizeof *e);
    if (!e)
        return NULL;
    e->m = m;
    e->until_ns = o->until_ns > 0 ? o->until_ns : m->until_ns;
    e->max_events = o->max_events > 0 ? o->max_events : m->max_events;
    e->stack_bytes = o->stack_bytes;
    e->mem_budget = o->memory_budget ? o->memory_budget : gs__budget_default();
    e->cancel = o->cancel;
    e->progress = o->progress;
    e->check_state = gs__check_state_wanted();
    GS_ERRNO_OK(sem_init(&e->main_go, 0, 0));
    GS_ERRNO_OK(sem_init(&e->parked, 0, 0));
    e->n_thr = m->n_threads;
    e->n_cores = m->machine.cores;
    e->thr = calloc((size_t)m->n_threads + 1, sizeof *e->thr);
    e->joiners = calloc((size_t)m->n_threads + 1, sizeof *e->joiners);
    e->starters = calloc((size_t)m->n_threads + 1, sizeof *e->starters);
    e->cores = calloc((size_t)m->machine.cores, sizeof *e->cores);
    e->gils = calloc((size_t)m->n_processes, sizeof *e->gils);
    e->locks = calloc((size_t)m->n_locks + 1, sizeof *e->locks);
    e->events = calloc((size_t)m->n_events + 1, sizeof *e->events);
    e->queues = calloc((size_t)m->n_queues + 1, sizeof *e->queues);
    e->ready = calloc((size_t)m->n_threads + 1, sizeof *e->ready);
    e->ev_pos = calloc((size_t)m->n_threads + (size_t)m->machine.cores + 1, sizeof *e->ev_pos);
    e->cap_ready = m->n_threads + 1;
    if (!e->thr || !e->joiners || !e->starters || !e->cores || !e->gils || !e->locks ||
        !e->events || !e->queues || !e->ready || !e->ev_pos || gs__ft_init(e) < 0 ||
        gs__sis_init(e) < 0) {
        e->n_thr = 0;
        engine_free(e);
        return NULL;
    }
    for (int i = 0; i < m->n_threads; i++) {
        gs_thr_t *t = &e->thr[i];
        t->id = i;
        t->e = e;
        t->spec = &m->threads[i];
        t->process = t->spec->process;
        t->op = GS_NO_OP;
        t->last_core = -1;
        t->ready_idx = -1;
        t->weight = cfs_weight(t->spec->priority);
        t->stretch_ppm = 1000000;
        e->n_daemon += t->spec->daemon;
        gs__rng_seed(&t->rng, m->seed, (uint64_t)i);
    }
    for (int p = 0; p < m->n_processes; p++)
        gs__gil_init(e, &e->gils[p], p);
    gs__rng_seed(&e->timer_rng, m->seed, UINT64_C(2) << 32);
    gs__rng_seed(&e->wake_rng, m->seed, UINT64_C(3) << 32);
    for (int i = 0; i < m->n_queues; i++)
        e->queues[i].len = m->queues[i].initial;
    gs__os_init(e);
    return e;
}

static void schedule_autostarts(gs_engine_t *e)
{
    const gs_model_t *m = e->m;
    for (int i = 0; i < m->n_threads; i++) {
        const gs_thread_spec_t *s = &m->threads[i];
        if (!s->autostart)
            continue;
        const gs_process_spec_t *p = &m->processes[s->process];
        int64_t at = s->start_at_ns;
        if (at < p->start_at_ns + p->create_ns)
            at = p->start_at_ns + p->create_ns;
        gs__schedule_start(e, &e->thr[i], at);
    }
}

/* The error code a run's outcome returns (0: done). */
static int outcome_code(gs_outcome_t o)
{
    static const int codes[] = {
        [GS_OUT_DONE] = 0,
        [GS_OUT_DEADLOCK] = GS_EDEADLOCK,
        [GS_OUT_HORIZON] = GS_ELIMIT,
        [GS_OUT_MAX_EVENTS] = GS_ELIMIT,
        [GS_OUT_ERROR] = GS_ERUNTIME,
        [GS_OUT_LIMIT] = GS_ELIMIT,
        [GS_OUT_INTERRUPTED] = GS_ESTOPPED,
    };
    _Static_assert(sizeof codes / sizeof codes[0] == GS_OUT_INTERRUPTED + 1,
                   "an outcome without an error code");
    return codes[o];
}

/* Runs the loop until it stops, then ends every worker and unpins. */
static void run_loop(gs_engine_t *e, const gs_run_opts_t *o)
{
    gs__run_setup(e, o->spin, o->ahead);
    gs__pin_begin(e, o->cpu);
    gs_error_t pre;
    if (gs__preflight_threads(e->m->n_threads, e->stack_bytes, &pre) != 0) {
        e->fatal = GS_ETHREAD; /* fail at once, naming the kernel limit */
        gs__stop(e, GS_OUT_ERROR, "%s", pre.msg);
    }
    schedule_autostarts(e);
    gs_thr_t *next = e->stopped ? NULL : gs__engine_next(e);
    if (next) {
        gs__resume_other(e, next);
        while (sem_wait(&e->main_go) != 0)
            if (errno != EINTR)
                gs__os_ok(errno, "sem_wait(&e->main_go)", __FILE__, __LINE__);
    }
    gs__worker_teardown(e);
    gs__pin_end(e);
}

/* Closes the trace: a deadlock is shown a little past the moment it was
 * found. false when the trace ran out of memory. */
static bool finish_trace(gs_engine_t *e)
{
    int64_t end = e->now;
    if (e->outcome == GS_OUT_DEADLOCK) {
        /* Deadlocked threads wait forever: show a stretch of it (5% of the
         * run, at least 1 ms), or a cycle found the moment it closes would
         * leave their waits zero-length and invisible. */
        gs__trace_instant(e->trace, e->now, GS_IN_DEADLOCK, -1, -1, 0);
        end += e->now / 20 > 1000000 ? e->now / 20 : 1000000;
    }
    gs__trace_finish(e->trace, end, e->outcome, e->msg, /* "" for a plain done */
                     e->n_events);
    return !gs__trace_oom(e->trace);
}

int gs_sim_run(const gs_model_t *m, const gs_run_opts_t *opts, gs_trace_t **out, gs_error_t *err)
{
    gs_run_opts_t o;
    gs_error_t local;
    if (!err)
        err = &local;
    memset(err, 0, sizeof *err);
    if (opts)
        o = *opts;
    else
        gs_run_opts_init(&o);
    *out = NULL;
    int rc = gs_model_check(m, err);
    if (rc)
        return rc;
    gs_engine_t *e = engine_new(m, &o);
    if (!e || !(e->trace = gs__trace_new_for(m, o.metrics_only))) {
        rc = GS_ENOMEM;
        goto done;
    }
    e->growth = gs__trace_growth(e->trace);
    run_loop(e, &o);
    if (e->fatal) {
        rc = e->fatal; /* no usable trace */
    } else if (!finish_trace(e)) {
        rc = GS_ENOMEM;
    } else {
        rc = outcome_code(e->outcome);
        *out = e->trace; /* also when stopped early: the trace says why */
    }
done:
    if (rc) {
        err->code = rc;
        snprintf(err->msg, sizeof err->msg, "%.*s", (int)sizeof err->msg - 1,
                 rc == GS_ENOMEM && !(e && e->fatal) ? "out of memory" : e->msg);
    }
    if (e) {
        if (!*out)
            gs_trace_free(e->trace);
        engine_free(e);
    }
    return rc;
}
