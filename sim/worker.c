/* worker.c - pthread-backed workers and the baton.
 *
 * Exactly one of {main thread, one worker} runs at any moment. The holder of
 * the baton runs the engine (gs__engine_next) until some thread must resume,
 * then posts that worker's semaphore and sleeps on its own: one hand-off per
 * request, no trip through a central thread (SimGrid's thread contexts go
 * through a maestro; we pass the baton straight on). sem_post/sem_wait give
 * the happens-before edges, so engine state needs no lock and TSan is quiet.
 *
 * Workers are created lazily, when a thread's body first has to run, with a
 * small stack, and pinned with the rest of the run to one CPU (option): a
 * hand-off between threads on one CPU costs ~5 us against ~13 us across
 * CPUs here (docs/performance.md), and it leaves the other core to the GUI or
 * to a parallel sweep job.
 *
 * Teardown: a worker still inside a body is blocked in sem_wait; the main
 * thread sets its kill flag and posts it; the worker longjmps out of the
 * body to its trampoline and returns; the main thread joins it. Bodies are
 * abandoned inside a primitive (documented in engine.h). */
#include "engine_int.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/resource.h>

#ifndef PR_FUTEX_HASH
#define PR_FUTEX_HASH 78
#define PR_FUTEX_HASH_SET_SLOTS 1
#endif

#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
#define DEFAULT_STACK (1024 * 1024) /* sanitizers need deeper stacks */
#else
#define DEFAULT_STACK (64 * 1024)
#endif

static void baton_wait(gs_engine_t *e, sem_t *s)
{
    for (int i = 0; i < e->spin; i++)
        if (sem_trywait(s) == 0)
            return;
    while (sem_wait(s) != 0 && errno == EINTR)
        ;
}

static void *trampoline(void *arg)
{
    gs_thr_t *t = arg;
    gs_engine_t *e = t->e;
    baton_wait(e, &t->w.go);
    t->w.tid = pthread_self(); /* under the baton; read by the teardown */
    if (atomic_load(&t->w.kill))
        return NULL;
    if (setjmp(t->w.exit_jb) == 0) {
        const gs_thread_spec_t *s = t->spec;
        if (s->body)
            s->body(t, s->user);
        else
            gs__program_body(t, (void *)s);
        memset(&t->req, 0, sizeof t->req);
        t->req.kind = RQ_EXIT;
        gs__submit(e, t);
        /* Finished: hand the baton on and leave without waiting. */
        gs__resume_other(e, gs__engine_next(e));
    }
    return NULL;
}

static void thread_error(gs_engine_t *e, gs_thr_t *t, int err)
{
    struct rlimit rl;
    char lim[64] = "unknown";
    if (getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY)
        snprintf(lim, sizeof lim, "%llu", (unsigned long long)rl.rlim_cur);
    else if (getrlimit(RLIMIT_NPROC, &rl) == 0)
        snprintf(lim, sizeof lim, "unlimited");
    e->fatal = GS_ETHREAD;
    gs__stop(e, GS_OUT_ERROR,
             "cannot create the worker pthread of thread %d (%s): %s. Each simulated thread "
             "needs one pthread; the limits are `ulimit -u` (max user processes, now %s), "
             "/proc/sys/kernel/threads-max and memory for %zu-byte stacks (`ulimit -v`)",
             t->id, gs__thr_name(t), strerror(err), lim, e->stack_bytes);
}

int gs__worker_start(gs_engine_t *e, gs_thr_t *t)
{
    pthread_attr_t attr;
    pthread_attr_init(&attr);
    pthread_attr_setstacksize(&attr, e->stack_bytes);
    if (e->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(e->cpu, &set);
        pthread_attr_setaffinity_np(&attr, sizeof set, &set);
    }
    /* Mark it before it exists: the new worker holds the baton as soon as it
     * runs, possibly before pthread_create returns here, and must be seen as
     * created by whoever resumes it next. */
    t->w.created = true;
    sem_post(&t->w.go);
    pthread_t tid;
    int rc = pthread_create(&tid, &attr, trampoline, t);
    pthread_attr_destroy(&attr);
    if (rc != 0) {
        t->w.created = false;
        sem_wait(&t->w.go);
        thread_error(e, t, rc);
        return GS_ETHREAD;
    }
    return 0;
}

void gs__resume_other(gs_engine_t *e, gs_thr_t *next)
{
    if (next && !next->w.created) {
        if (gs__worker_start(e, next) == 0)
            return;
        next = NULL; /* could not: end the run */
    }
    sem_post(next ? &next->w.go : &e->main_go);
}

void gs__worker_pass(gs_engine_t *e, gs_thr_t *self)
{
    gs_thr_t *next = gs__engine_next(e);
    if (next == self)
        return; /* completed at once: no hand-off at all */
    gs__resume_other(e, next);
    baton_wait(e, &self->w.go);
    if (atomic_load(&self->w.kill))
        longjmp(self->w.exit_jb, 1);
}

void gs__worker_teardown(gs_engine_t *e)
{
    for (int i = 0; i < e->n_thr; i++) {
        gs_thr_t *t = &e->thr[i];
        if (!t->w.created)
            continue;
        if (!t->finished) {
            atomic_store(&t->w.kill, 1);
            sem_post(&t->w.go);
        }
        pthread_join(t->w.tid, NULL);
        t->w.created = false;
    }
}

/* ---- pinning ------------------------------------------------------------------ */

/* The k-th CPU (mod count) of the caller's allowed set, or -1. */
static int nth_allowed_cpu(const cpu_set_t *allowed, int k)
{
    int n = CPU_COUNT(allowed);
    if (n <= 0)
        return -1;
    k %= n;
    for (int c = 0; c < CPU_SETSIZE; c++)
        if (CPU_ISSET(c, allowed) && k-- == 0)
            return c;
    return -1;
}

static void size_futex_hash(int n_threads)
{
    /* Linux >= 6.16 gives a process 16 private futex buckets; with thousands
     * of sleeping workers a wake-up then costs 10x more. Older kernels say
     * EINVAL, which is fine. */
    static _Atomic int slots_set;
    if (n_threads <= 16)
        return;
    int slots = 4;
    while (slots < 4 * n_threads && slots < (1 << 20))
        slots <<= 1;
    if (atomic_load(&slots_set) >= slots)
        return;
    if (prctl(PR_FUTEX_HASH, PR_FUTEX_HASH_SET_SLOTS, slots, 0, 0) == 0)
        atomic_store(&slots_set, slots);
}

int gs__pin_begin(gs_engine_t *e, int cpu, int spin, void *saved, size_t saved_size)
{
    e->cpu = -1;
    e->stack_bytes = e->stack_bytes ? e->stack_bytes : DEFAULT_STACK;
    if (e->stack_bytes < (size_t)PTHREAD_STACK_MIN)
        e->stack_bytes = PTHREAD_STACK_MIN;
    /* Spinning pays only when the waker runs on another CPU at that moment:
     * pinned to one CPU it would only delay the thread we wait for, and with
     * more threads than cores it collapses to the 4 ms tick (DESIGN.md). So
     * none unless asked for. */
    e->spin = spin > 0 ? spin : 0;
    size_futex_hash(e->n_thr);
    if (cpu == GS_CPU_NONE || saved_size < sizeof(cpu_set_t))
        return 0;
    cpu_set_t *allowed = saved;
    if (pthread_getaffinity_np(pthread_self(), sizeof *allowed, allowed) != 0)
        return 0;
    int c = cpu == GS_CPU_AUTO ? sched_getcpu() : nth_allowed_cpu(allowed, cpu);
    if (c < 0 || !CPU_ISSET(c, allowed))
        return 0;
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) == 0)
        e->cpu = c;
    return 0;
}

void gs__pin_end(gs_engine_t *e, const void *saved, size_t saved_size)
{
    if (e->cpu >= 0 && saved_size >= sizeof(cpu_set_t))
        pthread_setaffinity_np(pthread_self(), sizeof(cpu_set_t), saved);
}
