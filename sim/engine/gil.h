/* gil.h - gil.c's interface for the engine: the GIL's take, drop, timed
 * waits and drop requests. */
#ifndef GILSIM_GIL_H
#define GILSIM_GIL_H

#include "engine_int.h"

typedef struct gs_gil {
    int process;
    const gs_python_t *py;
    gs_gil_kind_t kind;     /* py->gil, until an import switches it on (ft.c) */
    bool locked;
    gs_thr_t *holder;
    gs_thr_t *last_holder;
    uint64_t switch_number;
    bool drop_request;
    gs_thr_t *requester;    /* cpython3: who set drop_request, and when */
    int request_interp;     /* the interpreter whose eval breaker has it */
    int64_t request_ns;
    int64_t drop_at_ns;     /* cpython3: no drop before (the race: request_drop) */
    gs_waitq_t waiters;     /* on the GIL condition (or, cpython2, the lock) */
    uint64_t g1, g2;        /* cpython3: glibc's two waiter groups (ids) */
    int g1_size;            /* G1 waiters not signalled yet */
    int g1_signals;         /* signals posted to G1, not taken yet */
    uint64_t sleep_seq;     /* futex queue order */
    int sem_waiters;        /* cpython2: threads registered on the semaphore,
                               asleep in `waiters` or woken and not yet back */
    gs_thr_t *cv_woken;     /* cpython3: the sleeper the last signal woke */
    gs_thr_t *sem_woken;    /* cpython2: the sleeper the last release woke, or
                               NULL (release_cost looks at where it went) */
    gs_waitq_t switch_wait; /* forced droppers waiting for a switch */
    gs_thr_t *mtx_holder; gs_waitq_t mtx_wait; /* a preempted dropper with the mutex; its waiters */
    gs_rng_t rng;           /* waker = random */
} gs_gil_t;

/* gil.c */
void gs__gil_init(gs_engine_t *e, gs_gil_t *g, int process);
bool gs__gil_has(const gs_engine_t *e, const gs_thr_t *t); /* process has a GIL */
gs_gil_t *gs__gil_of(gs_engine_t *e, const gs_thr_t *t);
bool gs__gil_take(gs_engine_t *e, gs_thr_t *t);      /* true: held now */
bool gs__gil_drop(gs_engine_t *e, gs_thr_t *t, bool final); /* false: waits for switch */
bool gs__gil_resume(gs_engine_t *e, gs_thr_t *t);   /* t got a core: true if its
                                                       GIL wait takes it from here */
void gs__gil_timeout(gs_engine_t *e, gs_thr_t *t);
void gs__gil_break(gs_engine_t *e, gs_thr_t *t);     /* EV_BREAK */
bool gs__gil_exec_check(gs_engine_t *e, gs_thr_t *t); /* before Python runs: false = dropped */
int64_t gs__gil_exec_limit(gs_engine_t *e, gs_thr_t *t); /* cap on the next segment */
void gs__gil_exec_tick(gs_engine_t *e, gs_thr_t *t);  /* a segment hit its cap */
bool gs__gil_sys_resume(gs_engine_t *e, gs_thr_t *t); /* true: in a futex call, timer set */
/* t's timer fired: true if it was the GIL's (a futex call ended, or a paid
 * clock event reprogram) */
bool gs__gil_on_timer(gs_engine_t *e, gs_thr_t *t);
void gs__gil_mutex_unlock(gs_engine_t *e, gs_thr_t *t); /* a preempted dropper is back */
void gs__gil_switch_on(gs_engine_t *e, gs_thr_t *t); /* gil.c: an import enables it */

#endif
