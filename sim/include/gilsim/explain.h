/* explain.h - why a thread is not running: a causal chain at an instant, and
 * where each thread's waiting went over the whole run (blame totals).
 *
 * Both are read from the trace alone: its lanes (thread states, GIL holders,
 * core occupancy), its instants (timeouts, forced switches) and its fact
 * tracks (drop requests, lock owners; trace.h). A trace built from a recording
 * gets the same answers where it recorded the same facts (gs_trace_facts);
 * where a fact is missing the text says it is not known. */
#ifndef GILSIM_EXPLAIN_H
#define GILSIM_EXPLAIN_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"
#include "trace.h"

typedef enum gs_why {
    GS_WHY_RUNNING,       /* on a core, running Python or C */
    GS_WHY_NOT_STARTED,
    GS_WHY_DONE,
    GS_WHY_GIL_HELD,      /* waits for the GIL; other = its holder */
    GS_WHY_GIL_HANDOFF,   /* waits for the GIL, which is free: being woken */
    GS_WHY_FORCED_SWITCH, /* dropped the GIL on request; waits until another
                             thread has taken it */
    GS_WHY_NO_CORE,       /* ready (maybe holding the GIL); no core for it */
    GS_WHY_SWITCH,        /* a core is switching to it */
    GS_WHY_LOCK_HELD,     /* waits for a lock; other = the thread holding it */
    GS_WHY_LOCK_HANDOFF,  /* the lock was released; waits to get a core to take it */
    GS_WHY_EVENT,
    GS_WHY_QUEUE,
    GS_WHY_JOIN,          /* other = the thread joined */
    GS_WHY_IO,
    GS_WHY_SLEEP,
    GS_WHY_COUNT
} gs_why_t;

typedef struct gs_why_link {
    int thread;
    gs_why_t why;
    int state;          /* gs_state_t at the instant, GS_ST_COUNT if none */
    int64_t since_ns;   /* when this state began (adjacent intervals of the
                           same state and object count as one) */
    int64_t until_ns;   /* when it ends in the trace */
    int other;          /* the thread it waits on (holder, owner, joined), or -1 */
    int obj;            /* lock, event or queue; the core when running; -1 */
    int holds_gil;      /* NO_CORE and SWITCH: it holds the GIL */
    /* GIL waits (cpython3): the drop request at the instant */
    int64_t drop_since_ns; /* -1: none pending */
    int drop_requester;    /* -1 if none */
} gs_why_link_t;

#define GS_WHY_MAX_CHAIN 8

/* The chain for thread at t_ns: link 0 is the thread itself; each further link
 * is the thread the previous one waits on (the GIL holder, the lock owner, the
 * thread joined), until one runs, waits on nothing further, or a thread
 * repeats (a cycle). Returns the number of links (>= 1), or 0 for a bad
 * thread index. */
GS_API int gs_explain(const gs_trace_t *t, int thread, int64_t t_ns, gs_why_link_t *chain,
                      int max);

/* The chain as text, one line per link, each a full sentence; for GIL waits a
 * second line on the drop request (set when and by whom, or why it is not
 * honoured yet). Returns the length that was needed (like snprintf). */
GS_API size_t gs_explain_text(const gs_trace_t *t, int64_t t_ns, const gs_why_link_t *chain,
                              int n, char *buf, size_t cap);

/* The machine at t_ns, one line each: per GIL its holder (since when), the
 * drop request (pending since when, by whom, why not honoured yet) and how
 * many threads wait for it; the OS ready queue; each lock's holder and
 * waiters; each queue's fill. Returns the length needed (like snprintf). */
GS_API size_t gs_explain_state_text(const gs_trace_t *t, int64_t t_ns, char *buf, size_t cap);

/* Items in queue q just after t_ns (from the queue-length instants). */
GS_API int64_t gs_trace_queue_len_at(const gs_trace_t *t, int q, int64_t t_ns);

/* A thread index by name, or -1. */
GS_API int gs_trace_find_thread(const gs_trace_t *t, const char *name);

/* The stretch of thread th's GIL wait at interval i of its lane, with what
 * continues it (on one core a waiter whose timed wait ran out first waits for
 * a core, then sets its drop request in a short second wait), during which
 * th's own drop request was pending, as [*ra, *rb); false if none. The
 * instant that shows a wait's whole chain of causes: the viewer opens there
 * and an exercise reveals there. */
GS_API bool gs_why_own_request(const gs_trace_t *t, int th, size_t i, int64_t *ra, int64_t *rb);

/* ---- blame ---------------------------------------------------------------- */

typedef enum gs_blame_kind {
    GS_BLAME_GIL_HELD,    /* waiting for the GIL while another thread held it
                             (split by holder in gil_by) */
    GS_BLAME_GIL_HANDOFF, /* waiting for the GIL while it was free (waking
                             up, getting a core, a forced switch's wait) */
    GS_BLAME_NO_CORE,     /* ready, every core busy or waking up */
    GS_BLAME_SWITCH,      /* a core switching to it */
    GS_BLAME_LOCK_HELD,   /* split by holder in lock_by */
    GS_BLAME_LOCK_HANDOFF,
    GS_BLAME_EVENT,
    GS_BLAME_QUEUE,
    GS_BLAME_JOIN,
    GS_BLAME_IO,
    GS_BLAME_SLEEP,
    GS_BLAME_COUNT
} gs_blame_kind_t;

typedef struct gs_blame {
    int64_t ns[GS_BLAME_COUNT];
    int64_t *gil_by;  /* [n_threads]: GIL wait while that thread held it */
    int64_t *lock_by; /* [n_threads]: lock wait while that thread held the lock */
    int64_t total_ns; /* the sum of ns[]: every moment of its life it was not
                         running Python or C */
} gs_blame_t;

/* Fills b (caller-owned) for thread over its whole life. 0, GS_EINVAL (bad
 * thread) or GS_ENOMEM. Free with gs_blame_destroy. */
GS_API int gs_blame_compute(const gs_trace_t *t, int thread, gs_blame_t *b);
GS_API void gs_blame_destroy(gs_blame_t *b);
GS_API const char *gs_blame_key(gs_blame_kind_t k);  /* "gil_held" */
GS_API const char *gs_blame_text(gs_blame_kind_t k); /* "GIL held by another thread" */

#endif
