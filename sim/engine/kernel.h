/* kernel.h - kernel.c's interface for the engine: the event heap, a thread's
 * timer and trace state, stopping, scheduled starts, wait queues. */
#ifndef GILSIM_KERNEL_H
#define GILSIM_KERNEL_H

#include "engine_int.h"

typedef enum ev_kind {
    EV_TIMER, /* thread: exec segment end, I/O or sleep end, GIL wait timeout */
    EV_BREAK, /* thread: eval breaker (a drop request to look at) */
    EV_CORE,  /* core: wake-up or context switch finished, time slice over */
    EV_START, /* thread: starts */
    EV_FT     /* shared object id: its sharers changed, re-time them (ft.c) */
} ev_kind_t;

typedef struct gs_event {
    int64_t t_ns;
    uint64_t order; /* kind << 56 | seq: the rank among equal times, then the
                       insertion order (seq), in one comparison (kernel.c) */
    uint64_t gen;  /* must equal the target's gen, else the event is stale */
    int32_t id;    /* thread or core index */
    int32_t slot;  /* kernel.c: its ev_pos slot (a timer's or core event's), -1
                      none; kept here, not worked out at every move in the heap */
} gs_event_t;

/* An event's kind (ev_kind_t): the top byte of its order. */
static inline ev_kind_t gs__ev_kind(const gs_event_t *ev)
{
    return (ev_kind_t)(ev->order >> 56);
}

/* kernel.c: services below every model; calls nothing above it. */
void gs__ev_push(gs_engine_t *e, int64_t t, ev_kind_t k, int32_t id, uint64_t gen);
gs_event_t gs__ev_pop(gs_engine_t *e); /* the earliest; the heap must not be empty */
void gs__thr_timer(gs_engine_t *e, gs_thr_t *t, int64_t at); /* replaces its timer */
void gs__thr_cancel_timer(gs_thr_t *t);
/* t, on its core, spends ns in a system call (t->paying: C time, not its
 * work) before it is stepped again, at its timer (engine.c's futex debt,
 * gil.c's and hrtimer.c's clock event reprograms) */
void gs__thr_pay(gs_engine_t *e, gs_thr_t *t, int64_t ns);
void gs__thr_trace(gs_engine_t *e, gs_thr_t *t); /* record t's current state */
/* record what core c runs: thread (-1 none) in state st */
void gs__core_trace(gs_engine_t *e, struct gs_core *c, int32_t thread, gs_state_t st,
                    uint8_t flags);
void gs__stop(gs_engine_t *e, gs_outcome_t o, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
const char *gs__thr_name(const gs_thr_t *t);
void gs__schedule_start(gs_engine_t *e, gs_thr_t *t, int64_t at); /* an EV_START */
void gs__waitq_push(gs_engine_t *e, gs_waitq_t *q, gs_thr_t *t);
gs_thr_t *gs__waitq_pop(gs_waitq_t *q);       /* oldest, or NULL */
gs_thr_t *gs__waitq_take(gs_waitq_t *q, int i);
bool gs__waitq_remove(gs_waitq_t *q, gs_thr_t *t);
void gs__waitq_free(gs_waitq_t *q);

#endif
