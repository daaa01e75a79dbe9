/* job.h - one piece of work on a thread of its own, with cancel and progress:
 * the hand-off between gilsim-view's window thread and the thread that loads
 * and simulates (issue 18). No SDL here, so that the ThreadSanitizer build
 * (which has no viewer) tests it (tests/ui/check_job.c, label unit).
 *
 * The window thread starts a job, reads its progress while it runs, may
 * cancel it, and takes its result once it is done:
 *
 *   gv_job_start(j, fn, arg)       window: fn(j, arg) runs on a new thread
 *   gv_job_progress / gv_job_phase window, at any time: how far it is
 *   gv_job_cancel(j)               any thread: the simulation stops at its next event
 *   gv_job_wait(j, ms, &rc)        window: true once fn returned (then joined);
 *                                  arg and rc are the window's again
 *
 * Guards of struct gv_job (who writes, who reads):
 *   fn, arg, tid   written by gv_job_start before the thread exists; arg then
 *                  belongs to fn until gv_job_wait returns true
 *   cancel         any thread stores 1; fn (the engine) loads it at every event
 *   progress       the engine stores (relaxed); the window loads: a display only
 *   phase          fn stores (relaxed); the window loads: a display only
 *   rc             fn's return, written by the job thread before done
 *   done           under mu: set by the job thread last, then cond is signalled;
 *                  the mutex orders rc (and everything fn wrote to arg) before
 *                  the window's read of done
 *   joined         the window thread only
 * Lock order: mu alone; fn never holds it. */
#ifndef GV_JOB_H
#define GV_JOB_H

#include <pthread.h>
#include <stdbool.h>

#include "gilsim/gilsim.h"

typedef struct gv_job gv_job_t;
typedef int (*gv_job_fn)(gv_job_t *j, void *arg);

struct gv_job {
    pthread_t tid;            /* gv_job_start */
    gv_job_fn fn;             /* gv_job_start, then the job thread */
    void *arg;                /* gv_job_start; fn's until done */
    _Atomic int cancel;       /* any thread; read by the engine (gs_run_opts.cancel) */
    gs_progress_t progress;   /* engine stores, window loads (gs_run_opts.progress) */
    _Atomic int phase;        /* fn stores: what it is doing (the caller's numbering) */
    _Atomic int64_t until_ns; /* fn stores with phase: where the run will stop at the latest */
    pthread_mutex_t mu;       /* guards done and rc */
    pthread_cond_t cond;      /* signalled when done becomes true */
    bool done;                /* under mu */
    int rc;                   /* under mu: fn's return */
    bool running;             /* window thread: started and not yet joined */
};

/* Starts fn(j, arg) on a new thread; j must not be running. 0, or GS_ETHREAD
 * (then nothing runs and arg is still the caller's). */
int gv_job_start(gv_job_t *j, gv_job_fn fn, void *arg);
/* Asks the job to stop: the simulation under way ends at its next event. */
void gv_job_cancel(gv_job_t *j);
/* True once cancel was asked (fn uses it to skip what follows a run). */
bool gv_job_cancelled(gv_job_t *j);
/* Waits up to timeout_ms (0: only looks, < 0: for ever) for fn to return.
 * True when it has: the thread is joined, *rc (may be NULL) is fn's return
 * and j may be started again. False while it still runs. */
bool gv_job_wait(gv_job_t *j, int timeout_ms, int *rc);
/* Lets the thread go on alone (pthread_detach), for a process that is about
 * to exit: j and fn's arg must stay allocated, so the caller leaks them. */
void gv_job_abandon(gv_job_t *j);
/* True from gv_job_start until gv_job_wait returned true. */
bool gv_job_running(const gv_job_t *j);

/* For fn: the engine's options to pass to gs_sim_run (cancel, progress). */
void gv_job_run_opts(gv_job_t *j, gs_run_opts_t *o);
/* For fn: a new phase (the caller's numbering) of the work, the simulation's
 * horizon if it is one (else 0); the progress counts from zero again. */
void gv_job_set_phase(gv_job_t *j, int phase, int64_t until_ns);

/* For the window: a snapshot of the progress (each field its latest value). */
typedef struct gv_job_progress {
    int phase;
    int64_t now_ns, until_ns, n_events;
    size_t bytes;
} gv_job_progress_t;
void gv_job_progress(gv_job_t *j, gv_job_progress_t *p);

#endif
