/* sync.h - sync.c's interface for the engine: Python's locks, events,
 * queues and joins as micro-steps. */
#ifndef GILSIM_SYNC_H
#define GILSIM_SYNC_H

#include "engine_int.h"

/* A threading.Lock or RLock, and a queue.Queue's mutex (a Lock too): one
 * implementation in sync.c (lock_take, lock_block, lock_release). */
typedef struct gs_lock {
    gs_thr_t *owner;    /* a Lock's last acquirer, an RLock's owner; NULL if free */
    int count;          /* RLock depth (1 for a Lock that is held) */
    gs_waitq_t waiters;
} gs_lock_t;

typedef struct gs_event_obj {
    bool flag;
    gs_waitq_t waiters;
} gs_event_obj_t;

typedef struct gs_queue {
    int64_t len;
    gs_waitq_t putters, getters;
    gs_lock_t mutex;    /* the queue's mutex, a Lock, with put_ns/get_ns (P_QM) */
    struct gs_qend *qend; /* qend.c: its end markers, NULL until one is put */
} gs_queue_t;

/* sync.c: micro-steps on locks, events, queues and joins. Each returns
 * STEP_NEXT (done, t still ON: the next step), STEP_WAIT (t now waits; it
 * goes on from this step), STEP_END (the request is complete) or STEP_BACK
 * (queue: wait again, from the drop of the GIL). */
typedef enum step_res { STEP_NEXT, STEP_WAIT, STEP_END, STEP_BACK } step_res_t;
step_res_t gs__sync_step(gs_engine_t *e, gs_thr_t *t, micro_t m);
/* The Python a queue step m (M_QM_OP, M_Q_RECHECK) of t's request runs. */
int64_t gs__sync_exec_ns(const gs_engine_t *e, const gs_thr_t *t, micro_t m);
void gs__sync_thread_done(gs_engine_t *e, gs_thr_t *t);
bool gs__sync_stall_cycle(gs_engine_t *e, char *buf, size_t n); /* any cycle, at a stall */
void gs__sync_report(gs_engine_t *e, char *buf, size_t n); /* who waits for what */

#endif
