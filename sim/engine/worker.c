/* worker.c - pthread-backed workers and the baton.
 *
 * Exactly one of {main thread, one worker} runs at any moment. The holder of
 * the baton runs the engine (gs__engine_next) until some thread must resume,
 * then posts that worker's semaphore and sleeps on its own: one hand-off per
 * request, no trip through a central thread (SimGrid's thread contexts go
 * through a maestro; we pass the baton straight on). sem_post/sem_wait give
 * the happens-before edges, so engine state needs no lock and TSan is quiet.
 * An op program's body may make its next requests before the engine has
 * completed the last one ("requests made ahead" below): its worker is then
 * woken once for up to e->ahead requests, not once for each.
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
#include "worker.h"
#include "engine_int.h"
#include "kernel.h"
#include "program.h"

#include <errno.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
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

static void baton_wait(int spin, sem_t *s)
{
    for (int i = 0; i < spin; i++)
        if (sem_trywait(s) == 0)
            return;
    while (sem_wait(s) != 0 && errno == EINTR)
        ;
}

/* ---- the pool --------------------------------------------------------------
 * Idle workers wait on their `go` semaphore in a LIFO list, so a sweep or the
 * viewer, running simulation after simulation, creates pthreads only once.
 * Only workers with the default stack are pooled. After fork() the child has
 * none of the parent's threads: the child forgets the list (check forks per
 * test). */

#define POOL_MAX 1024 /* idle workers kept; more exit */
#define POOL_LISTS 64  /* idle lists by pinned CPU (+1 for unpinned) */

/* Idle workers, one list per CPU they are pinned to (list 0 for unpinned
 * ones), each with its own lock: parallel sweep jobs pinned to different
 * CPUs neither trade workers (re-pinning them at every run) nor wait for
 * each other's lock. `n` lets a search skip empty lists without locking. */
typedef struct pool_list {
    _Alignas(64) pthread_mutex_t mu; /* a cache line each */
    gs_worker_t *head; /* mu */
    _Atomic int n;
} pool_list_t;

static pool_list_t pool[POOL_LISTS];
static _Atomic int pool_n; /* idle workers in all lists */
static pthread_once_t pool_once = PTHREAD_ONCE_INIT;

static void pool_reset(void)
{
    for (int i = 0; i < POOL_LISTS; i++) {
        GS_PTHREAD_OK(pthread_mutex_init(&pool[i].mu, NULL));
        pool[i].head = NULL; /* after fork: those threads do not exist here */
        atomic_store(&pool[i].n, 0);
    }
    atomic_store(&pool_n, 0);
}

static void pool_init(void)
{
    pool_reset();
    pthread_atfork(NULL, NULL, pool_reset);
    /* Join the idle workers at exit, so that valgrind and LSan see every
     * thread ended; workers still inside a run are left to exit(). */
    atexit(gs_worker_pool_drain);
}

static pool_list_t *pool_list(int cpu)
{
    return &pool[(cpu + 1) % POOL_LISTS];
}

/* Parks w; false if the pool is full (w must then end). */
static bool pool_put(gs_worker_t *w)
{
    if (atomic_fetch_add(&pool_n, 1) >= POOL_MAX) {
        atomic_fetch_sub(&pool_n, 1);
        return false;
    }
    pool_list_t *l = pool_list(w->cpu);
    GS_PTHREAD_OK(pthread_mutex_lock(&l->mu));
    w->next = l->head;
    l->head = w;
    atomic_fetch_add(&l->n, 1);
    GS_PTHREAD_OK(pthread_mutex_unlock(&l->mu));
    return true;
}

static gs_worker_t *pool_take(pool_list_t *l)
{
    if (atomic_load(&l->n) == 0)
        return NULL;
    GS_PTHREAD_OK(pthread_mutex_lock(&l->mu));
    gs_worker_t *w = l->head;
    if (w) {
        l->head = w->next;
        atomic_fetch_sub(&l->n, 1);
        atomic_fetch_sub(&pool_n, 1);
    }
    GS_PTHREAD_OK(pthread_mutex_unlock(&l->mu));
    return w;
}

/* An idle worker, preferably one pinned to cpu already; NULL if none. */
static gs_worker_t *pool_get(int cpu)
{
    pool_list_t *own = pool_list(cpu);
    gs_worker_t *w = pool_take(own);
    for (int i = 1; i < POOL_LISTS && !w && atomic_load(&pool_n) > 0; i++)
        w = pool_take(&pool[(own - pool + i) % POOL_LISTS]);
    return w;
}

void gs_worker_pool_drain(void)
{
    pthread_once(&pool_once, pool_init);
    /* Tell them all first, then join: they end side by side. */
    gs_worker_t *all = NULL, *w;
    while ((w = pool_get(-1)) != NULL) {
        w->quit = true;
        GS_ERRNO_OK(sem_post(&w->go));
        w->next = all;
        all = w;
    }
    while ((w = all) != NULL) {
        all = w->next;
        pthread_join(w->tid, NULL);
        sem_destroy(&w->go);
        free(w);
    }
}

/* Runs t's body on w; returns when the body is done or abandoned. */
static void run_body(gs_worker_t *w, gs_thr_t *t)
{
    gs_engine_t *e = t->e;
    if (atomic_load(&w->kill))
        return;
    if (setjmp(w->exit_jb) != 0)
        return; /* abandoned: worker_pass longjmp'd here */
    const gs_thread_spec_t *s = t->spec;
    if (s->body)
        s->body(t, s->user);
    else
        gs__program_body(t, (void *)s);
    gs__ahead_sync(t); /* its last requests are done: now it ends */
    memset(&t->req, 0, sizeof t->req);
    t->req.kind = RQ_EXIT;
    gs__submit(e, t);
    /* Finished: hand the baton on and leave without waiting. */
    gs__resume_other(e, gs__engine_next(e));
}

static void *trampoline(void *arg)
{
    gs_worker_t *w = arg;
    for (;;) {
        baton_wait(0, &w->go);
        if (w->quit)
            return NULL;
        gs_thr_t *t = w->t;
        gs_engine_t *e = t->e;
        run_body(w, t);
        w->t = NULL;
        /* Back in the pool before this run's teardown ends, so that the next
         * run finds it; a new run may assign it at once, which only posts
         * `go` for the next turn of this loop. */
        bool kept = pool_put(w);
        GS_ERRNO_OK(sem_post(&e->parked)); /* the last touch of this run's memory */
        if (!kept) {
            pthread_detach(pthread_self());
            sem_destroy(&w->go);
            free(w);
            return NULL;
        }
    }
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

static gs_worker_t *worker_new(gs_engine_t *e, int *err)
{
    gs_worker_t *w = calloc(1, sizeof *w);
    if (!w) {
        *err = ENOMEM;
        return NULL;
    }
    GS_ERRNO_OK(sem_init(&w->go, 0, 0));
    w->cpu = -1;
    pthread_attr_t attr;
    GS_PTHREAD_OK(pthread_attr_init(&attr));
    GS_PTHREAD_OK(pthread_attr_setstacksize(&attr, e->stack_bytes)); /* >= PTHREAD_STACK_MIN */
    if (e->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(e->cpu, &set);
        GS_PTHREAD_OK(pthread_attr_setaffinity_np(&attr, sizeof set, &set));
        w->cpu = e->cpu;
    }
    *err = pthread_create(&w->tid, &attr, trampoline, w);
    pthread_attr_destroy(&attr);
    if (*err) {
        sem_destroy(&w->go);
        free(w);
        return NULL;
    }
    return w;
}

/* A pooled worker may be pinned for another run. */
static void repin(gs_engine_t *e, gs_worker_t *w)
{
    if (w->cpu == e->cpu)
        return;
    if (e->cpu >= 0) {
        cpu_set_t set;
        CPU_ZERO(&set);
        CPU_SET(e->cpu, &set);
        GS_PTHREAD_OK(pthread_setaffinity_np(w->tid, sizeof set, &set));
    } else {
        GS_PTHREAD_OK(pthread_setaffinity_np(w->tid, sizeof e->allowed, &e->allowed));
    }
    w->cpu = e->cpu;
}

static int worker_start(gs_engine_t *e, gs_thr_t *t)
{
    pthread_once(&pool_once, pool_init);
    gs_worker_t *w = e->stack_bytes == DEFAULT_STACK ? pool_get(e->cpu) : NULL;
    int err = 0;
    if (w)
        repin(e, w);
    else
        w = worker_new(e, &err);
    if (!w) {
        thread_error(e, t, err);
        return GS_ETHREAD;
    }
    atomic_store(&w->kill, 0);
    w->t = t;
    t->w = w;
    e->n_workers++;
    GS_ERRNO_OK(sem_post(&w->go)); /* it holds the baton from now on */
    return 0;
}

void gs__resume_other(gs_engine_t *e, gs_thr_t *next)
{
    if (next && !next->w) {
        if (worker_start(e, next) == 0)
            return;
        next = NULL; /* could not: end the run */
    }
    GS_ERRNO_OK(sem_post(next ? &next->w->go : &e->main_go));
}

/* Hands the baton to next and sleeps until it comes back. */
static void pass_and_wait(gs_engine_t *e, gs_thr_t *self, gs_thr_t *next)
{
    gs_worker_t *w = self->w;
    gs__resume_other(e, next);
    baton_wait(e->spin, &w->go);
    if (atomic_load(&w->kill))
        longjmp(w->exit_jb, 1);
}

static void worker_pass(gs_engine_t *e, gs_thr_t *self)
{
    gs_thr_t *next = gs__engine_next(e);
    if (next == self)
        return; /* completed at once: no hand-off at all */
    if (next && e->ahead > 0 && !self->spec->body) {
        /* An op program: its body goes on to its next requests, which
         * depend on nothing the engine decides, and hands the baton to next
         * when it has made e->ahead of them or must see engine state. */
        self->ah_mode = true;
        self->ah_next = next;
        self->ah_op = self->op;
        return;
    }
    pass_and_wait(e, self, next);
}

/* ---- requests made ahead --------------------------------------------------------
 * An op program (program.c) decides its next request from its own ops and its
 * own random stream only, never from the engine's state, except where it
 * polls an until loop's event. So when its request has to wait in virtual
 * time, its body does not sleep at once: still holding the baton, on its own
 * pthread, it makes its next requests, up to e->ahead, into a ring, and only
 * then passes the baton on. When the engine completes the request it pops the
 * next one from the ring and starts it exactly where the body would have (the
 * same place in gs__engine_next, the same fields), so the trace is byte for
 * byte the one of a body woken for each request; the body's pthread is woken
 * only when its ring is empty. Where the body must see the engine (an until
 * loop's poll, gs_now, its end) it first waits until the engine has taken all
 * it made (gs__ahead_sync). A C body may read anything: it never runs ahead.
 * What the engine reads of a thread (op, the shared-object fields) is written
 * from the ring entry as the engine starts it, never by the body meanwhile
 * (gs_set_op keeps ah_op). */

static bool ahead_push(gs_thr_t *c, const gs_ahead_t *a)
{
    int cap = c->e->ahead;
    if (c->ah_n >= cap)
        return false;
    if (!c->ah && !(c->ah = malloc((size_t)cap * sizeof *c->ah)))
        return false; /* then it waits, as without */
    int k = c->ah_head + c->ah_n; /* < 2 cap: wrapped without a division */
    gs_ahead_t *s = &c->ah[k < cap ? k : k - cap];
    *s = *a;
    s->op = c->ah_op;
    c->ah_n++;
    return true;
}

void gs__ahead_sync(gs_thr_t *c)
{
    if (!c->ah_mode)
        return;
    pass_and_wait(c->e, c, c->ah_next); /* back when the ring is empty and done */
    c->ah_mode = false;
    c->op = c->ah_op;
    c->acc_obj = 0; /* as gs_touch_cpu leaves it after its request */
}

static void ahead_apply(gs_thr_t *t, const gs_ahead_t *a)
{
    t->req = a->req;
    t->acc_obj = a->acc_obj;
    if (a->acc_obj) {
        t->acc_writes = a->acc_writes;
        t->acc_every = a->acc_every;
    }
}

void gs__ahead_next(gs_engine_t *e, gs_thr_t *t)
{
    gs_ahead_t *a = &t->ah[t->ah_head];
    t->ah_head = t->ah_head + 1 < e->ahead ? t->ah_head + 1 : 0;
    t->ah_n--;
    t->op = a->op;
    ahead_apply(t, a);
    gs__submit(e, t);
}

void gs__ahead_free(gs_engine_t *e)
{
    if (e->thr)
        for (int i = 0; i < e->n_thr; i++)
            free(e->thr[i].ah);
}

int gs__request(gs_thr_t *c, const gs_ahead_t *a)
{
    if (c->ah_mode && ahead_push(c, a))
        return 0;
    gs__ahead_sync(c);
    ahead_apply(c, a);
    gs__submit(c->e, c);
    worker_pass(c->e, c);
    return 0;
}

void gs__worker_teardown(gs_engine_t *e)
{
    /* Wake the workers still inside a body; every worker of the run then
     * posts `parked` once, as its last touch of the engine. */
    for (int i = 0; i < e->n_thr; i++) {
        gs_thr_t *t = &e->thr[i];
        if (t->w && !t->finished) {
            atomic_store(&t->w->kill, 1);
            GS_ERRNO_OK(sem_post(&t->w->go));
        }
    }
    for (int i = 0; i < e->n_workers; i++)
        while (sem_wait(&e->parked) != 0 && errno == EINTR)
            ;
    for (int i = 0; i < e->n_thr; i++)
        e->thr[i].w = NULL;
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

/* The CPU gs_pin_current_thread() pinned this thread to, or -1: a sweep job's
 * runs then find their CPU without asking the kernel (a syscall per run). */
static _Thread_local int tl_pinned = -1;

int gs_pin_current_thread(int k)
{
    cpu_set_t allowed, one;
    tl_pinned = -1;
    if (pthread_getaffinity_np(pthread_self(), sizeof allowed, &allowed) != 0)
        return -1;
    int c = nth_allowed_cpu(&allowed, k < 0 ? 0 : k);
    if (c < 0)
        return -1;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0)
        return -1;
    tl_pinned = c;
    return c;
}

/* The run's worker stacks, baton spin and futex hash. */
void gs__run_setup(gs_engine_t *e, int spin, int ahead)
{
    e->ahead = ahead == 0 ? GS_AHEAD_DEFAULT : ahead > 0 ? ahead : 0;
    e->stack_bytes = e->stack_bytes ? e->stack_bytes : DEFAULT_STACK;
    if (e->stack_bytes < (size_t)PTHREAD_STACK_MIN)
        e->stack_bytes = PTHREAD_STACK_MIN;
    /* Spinning pays only when the waker runs on another CPU at that moment:
     * pinned to one CPU it would only delay the thread we wait for, and with
     * more threads than cores it collapses to the 4 ms tick (DESIGN.md). So
     * none unless asked for. */
    e->spin = spin > 0 ? spin : 0;
    size_futex_hash(e->n_thr);
}

/* Pins the calling thread (and so the run's workers) to one CPU as asked;
 * keeps the caller's affinity in e->saved_affinity for gs__pin_end. Pinning
 * is an optimisation: when the kernel refuses it (a restricted container),
 * the run goes on unpinned (e->cpu = -1). */
void gs__pin_begin(gs_engine_t *e, int cpu)
{
    e->cpu = -1;
    cpu_set_t *allowed = &e->saved_affinity;
    if (cpu == GS_CPU_AUTO && tl_pinned >= 0) {
        /* Pinned by gs_pin_current_thread: stay there, no syscall. */
        CPU_ZERO(allowed);
        CPU_SET(tl_pinned, allowed);
        e->allowed = *allowed;
        e->cpu = tl_pinned;
        return;
    }
    if (pthread_getaffinity_np(pthread_self(), sizeof *allowed, allowed) != 0) {
        CPU_ZERO(allowed);
        return;
    }
    e->allowed = *allowed;
    if (cpu == GS_CPU_NONE)
        return;
    int c = cpu == GS_CPU_AUTO ? sched_getcpu() : nth_allowed_cpu(allowed, cpu);
    if (c < 0 || !CPU_ISSET(c, allowed))
        return;
    e->cpu = c;
    if (CPU_COUNT(allowed) == 1)
        return; /* already there (a sweep job's second run): no syscall */
    cpu_set_t one;
    CPU_ZERO(&one);
    CPU_SET(c, &one);
    if (pthread_setaffinity_np(pthread_self(), sizeof one, &one) != 0)
        e->cpu = -1;
}

void gs__pin_end(gs_engine_t *e)
{
    if (e->cpu >= 0 && CPU_COUNT(&e->saved_affinity) > 1)
        GS_PTHREAD_OK(pthread_setaffinity_np(pthread_self(), sizeof e->saved_affinity,
                                             &e->saved_affinity));
}
