/* job.c - a job thread with cancel and progress (job.h has the guards). */
#include "job.h"

#include <errno.h>
#include <stdatomic.h>
#include <string.h>
#include <time.h>

static void *job_main(void *p)
{
    gv_job_t *j = p;
    int rc = j->fn(j, j->arg);
    pthread_mutex_lock(&j->mu);
    j->rc = rc;
    j->done = true;
    pthread_cond_signal(&j->cond);
    pthread_mutex_unlock(&j->mu);
    return NULL;
}

int gv_job_start(gv_job_t *j, gv_job_fn fn, void *arg)
{
    if (j->running)
        return GS_EINVAL;
    j->fn = fn;
    j->arg = arg;
    j->done = false;
    j->rc = 0;
    atomic_store(&j->cancel, 0);
    atomic_store(&j->phase, 0);
    atomic_store(&j->until_ns, 0);
    atomic_store(&j->progress.now_ns, 0);
    atomic_store(&j->progress.n_events, 0);
    atomic_store(&j->progress.bytes, 0);
    if (pthread_mutex_init(&j->mu, NULL) != 0)
        return GS_ETHREAD;
    pthread_condattr_t ca;
    pthread_condattr_init(&ca);
    pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
    int c = pthread_cond_init(&j->cond, &ca);
    pthread_condattr_destroy(&ca);
    if (c != 0) {
        pthread_mutex_destroy(&j->mu);
        return GS_ETHREAD;
    }
    if (pthread_create(&j->tid, NULL, job_main, j) != 0) {
        pthread_cond_destroy(&j->cond);
        pthread_mutex_destroy(&j->mu);
        return GS_ETHREAD;
    }
    j->running = true;
    return 0;
}

void gv_job_cancel(gv_job_t *j)
{
    atomic_store(&j->cancel, 1);
}

bool gv_job_cancelled(gv_job_t *j)
{
    return atomic_load(&j->cancel) != 0;
}

bool gv_job_running(const gv_job_t *j)
{
    return j->running;
}

bool gv_job_wait(gv_job_t *j, int timeout_ms, int *rc)
{
    if (!j->running)
        return false;
    struct timespec until;
    clock_gettime(CLOCK_MONOTONIC, &until);
    if (timeout_ms > 0) {
        until.tv_sec += timeout_ms / 1000;
        until.tv_nsec += (long)(timeout_ms % 1000) * 1000000L;
        if (until.tv_nsec >= 1000000000L) {
            until.tv_sec++;
            until.tv_nsec -= 1000000000L;
        }
    }
    pthread_mutex_lock(&j->mu);
    while (!j->done && timeout_ms != 0) {
        if (timeout_ms < 0)
            pthread_cond_wait(&j->cond, &j->mu);
        else if (pthread_cond_timedwait(&j->cond, &j->mu, &until) == ETIMEDOUT)
            break;
    }
    bool done = j->done;
    int r = j->rc;
    pthread_mutex_unlock(&j->mu);
    if (!done)
        return false;
    pthread_join(j->tid, NULL); /* it has returned from fn: this is at once */
    pthread_cond_destroy(&j->cond);
    pthread_mutex_destroy(&j->mu);
    j->running = false;
    if (rc)
        *rc = r;
    return true;
}

void gv_job_abandon(gv_job_t *j)
{
    if (j->running)
        pthread_detach(j->tid);
    j->running = false;
}

void gv_job_run_opts(gv_job_t *j, gs_run_opts_t *o)
{
    o->cancel = &j->cancel;
    o->progress = &j->progress;
}

void gv_job_set_phase(gv_job_t *j, int phase, int64_t until_ns)
{
    /* a new phase counts from zero (the job thread is the only writer
     * between runs: the engine stores only inside gs_sim_run) */
    atomic_store_explicit(&j->progress.now_ns, 0, memory_order_relaxed);
    atomic_store_explicit(&j->progress.n_events, 0, memory_order_relaxed);
    atomic_store_explicit(&j->progress.bytes, 0, memory_order_relaxed);
    atomic_store_explicit(&j->until_ns, until_ns, memory_order_relaxed);
    atomic_store_explicit(&j->phase, phase, memory_order_relaxed);
}

void gv_job_progress(gv_job_t *j, gv_job_progress_t *p)
{
    p->phase = atomic_load_explicit(&j->phase, memory_order_relaxed);
    p->until_ns = atomic_load_explicit(&j->until_ns, memory_order_relaxed);
    p->now_ns = atomic_load_explicit(&j->progress.now_ns, memory_order_relaxed);
    p->n_events = atomic_load_explicit(&j->progress.n_events, memory_order_relaxed);
    p->bytes = atomic_load_explicit(&j->progress.bytes, memory_order_relaxed);
}
