/* worker.h - worker.c's interface for the engine: worker pthreads, the baton,
 * pinning, requests made ahead. */
#ifndef GILSIM_WORKER_H
#define GILSIM_WORKER_H

#include <setjmp.h>

#include "engine_int.h"

/* A pthread that runs thread bodies, one run's thread at a time, and between
 * runs waits in a process-wide pool (worker.c). */
typedef struct gs_worker {
    pthread_t tid;    /* written once by pthread_create (worker_new); read by
                         whoever later takes w from the pool, ordered by the
                         pool list's mutex */
    sem_t go;         /* posted by whoever passes the baton to this worker */
    jmp_buf exit_jb;  /* the trampoline's frame: a killed body unwinds here */
    _Atomic int kill; /* set by the main thread at teardown */
    gs_thr_t *t;      /* the simulated thread it runs now (baton) */
    int cpu;          /* the CPU it is pinned to, -1 if none */
    bool quit;        /* leave instead of running: written by
                         gs_worker_pool_drain after taking w out of the pool,
                         read by w after its wait on `go` (the post orders it) */
    struct gs_worker *next; /* the idle list: its pool list's mutex */
} gs_worker_t;

/* worker.c */
void gs__worker_teardown(gs_engine_t *e);
void gs__run_setup(gs_engine_t *e, int spin, int ahead); /* stacks, spin, ahead, futex hash */
void gs__pin_begin(gs_engine_t *e, int cpu);  /* pin as asked; keeps the old affinity */
void gs__pin_end(gs_engine_t *e);             /* restores it */

void gs__resume_other(gs_engine_t *e, gs_thr_t *next); /* post next's baton */
/* Requests made ahead (op programs): the body keeps one for the engine, false
 * when it must wait instead; the body waits until the engine has caught up
 * with all it made (before it reads engine state or ends); the engine takes
 * the oldest as the thread's request, as its body would have. */
void gs__ahead_sync(gs_thr_t *c);
/* The engine: t's request completed and its ring holds the next one: start
 * it, at the point where its woken body would have. */
void gs__ahead_next(gs_engine_t *e, gs_thr_t *t);
void gs__ahead_free(gs_engine_t *e); /* every thread's ring, as the engine goes */
/* A body's call (engine.c's primitives): submits a, or, while its body runs
 * ahead, keeps it in the ring; returns when the body may go on. */
int gs__request(gs_thr_t *c, const gs_ahead_t *a);

#endif
