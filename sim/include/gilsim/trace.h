/* trace.h - what happened: per-lane interval arrays and instant events.
 *
 * A trace is self-contained: it carries the names of threads, processes and
 * cores, the annotations and the outcome, so exporters and the viewer need
 * nothing else. Lanes come in this order: for each process, its GIL lane
 * (when it has a GIL) then its threads' lanes; then one lane per core.
 * Intervals in a lane are sorted, never overlap, and adjacent ones with equal
 * fields are merged. Queues at time t are derived from the intervals. */
#ifndef GILSIM_TRACE_H
#define GILSIM_TRACE_H

#include <stdbool.h>
#include <stddef.h>
#include <stdio.h>
#include <stdint.h>

#include "common.h"

typedef struct gs_trace gs_trace_t;

/* Thread states. One colour each everywhere (gs_state_color). */
#define GS_STATE_MAP(X)                                                            \
    X(PY, "python", "running Python (holds the GIL)", 0x0072B2)                   \
    X(C_GIL, "c_gil", "running C, holding the GIL", 0xD55E00)                     \
    X(C_NOGIL, "c_nogil", "running C without the GIL", 0x009E73)                  \
    X(WAIT_GIL, "wait_gil", "waiting for the GIL", 0xE69F00)                      \
    X(READY, "ready", "ready, waiting for a core", 0xF0E442)                      \
    X(IO, "io", "blocked on I/O", 0x56B4E9)                                       \
    X(SLEEP, "sleep", "sleeping", 0xBBBBBB)                                       \
    X(WAIT_LOCK, "wait_lock", "waiting for a lock", 0x999999)                     \
    X(WAIT_EVENT, "wait_event", "waiting for an event", 0x999999)                 \
    X(WAIT_QUEUE, "wait_queue", "waiting on a queue", 0x999999)                   \
    X(WAIT_JOIN, "wait_join", "waiting to join a thread", 0x999999)               \
    X(SWITCH, "switch", "context switch", 0x555555)                               \
    X(DONE, "done", "finished", 0xFFFFFF)

typedef enum gs_state {
#define GS_STATE_ENUM_(name, key, text, rgb) GS_ST_##name,
    GS_STATE_MAP(GS_STATE_ENUM_)
#undef GS_STATE_ENUM_
        GS_ST_COUNT
} gs_state_t;

GS_API const char *gs_state_key(gs_state_t s);  /* "wait_gil" */
GS_API const char *gs_state_text(gs_state_t s); /* "waiting for the GIL" */
GS_API uint32_t gs_state_color(gs_state_t s);   /* 0xRRGGBB */

/* Interval flags. */
#define GS_IV_HOLDS_GIL 0x01u /* READY or SWITCH while holding the GIL */
#define GS_IV_BEFORE_ASK 0x02u /* READY or SWITCH of a forced dropper woken from
                                 switch_cond, before it asks for the GIL again
                                 (a recording shows that as ready, outside the
                                 GIL wait): thread lanes of a simulation only */

typedef enum gs_lane_kind {
    GS_LANE_GIL,    /* intervals: state PY, who = holder thread */
    GS_LANE_THREAD, /* intervals: the thread's state */
    GS_LANE_CORE,   /* intervals: state = the running thread's state or SWITCH,
                       who = thread */
    GS_LANE_DROP_REQUEST, /* a fact track (not a lane): while a GIL's drop
                             request is set; state WAIT_GIL, who = requester */
    GS_LANE_LOCK_OWNER    /* a fact track: while a lock is held; state
                             WAIT_LOCK, who = the thread that acquired it */
} gs_lane_kind_t;

typedef struct gs_interval {
    int64_t start_ns, end_ns; /* [start, end) */
    int32_t who;   /* thread lanes: core when on one, else the lock/event/queue/
                      thread waited on, else -1; core and GIL lanes: thread */
    uint32_t op;   /* op label id (gs_trace_op_label), or GS_NO_OP */
    uint8_t state; /* gs_state_t */
    uint8_t flags; /* GS_IV_* */
    uint32_t seq;  /* engine order: when the change that opened it was recorded,
                      on one counter with the instants (gs_trace_instant_seq);
                      sorts the changes of one instant as the engine made them */
} gs_interval_t;

#define GS_NO_OP UINT32_MAX

/* True if a thread in this interval holds its process's GIL: running Python
 * or C with the GIL, or ready (or switching in) while holding it. */
GS_API bool gs_interval_holds_gil(const gs_interval_t *v);

typedef struct gs_lane {
    gs_lane_kind_t kind;
    const char *name;   /* "cruncher", "core 0", "GIL" */
    int process;        /* process index, -1 for cores */
    int index;          /* thread index for thread lanes, core index, process
                           index for GIL lanes */
    const gs_interval_t *iv; /* sorted by start */
    size_t n;
} gs_lane_t;

typedef enum gs_instant_kind {
    GS_IN_DROP_REQUEST,  /* a waiter asked the holder to drop the GIL */
    GS_IN_FORCED_SWITCH, /* the holder dropped on request and waits for a switch */
    GS_IN_TIMEOUT,       /* a GIL wait timed out */
    GS_IN_SIGNAL,        /* a GIL drop signalled a waiter */
    GS_IN_FUTILE_WAKEUP, /* woke for the GIL but found it taken */
    GS_IN_PREEMPT,       /* the OS took the core from a thread (arg: 1 if it held the GIL) */
    GS_IN_DEADLOCK,      /* the run stopped here */
    GS_IN_ANNOTATION,    /* from the scenario (arg: annotation index) */
    GS_IN_QUEUE_LEN,     /* a put or get changed queue obj's length to arg */
    GS_IN_STOP_THE_WORLD, /* free-threaded: the thread stopped the world (arg: ns) */
    GS_IN_GIL_ENABLED,   /* free-threaded: an import switched the GIL on */
    GS_IN_COUNT
} gs_instant_kind_t;

typedef struct gs_instant {
    int64_t t_ns;
    uint8_t kind;   /* gs_instant_kind_t */
    int32_t thread; /* who did it, -1 if none */
    int32_t process;
    int32_t obj;    /* lock, event or queue index for sync instants, else -1 */
    int64_t arg;
} gs_instant_t;

GS_API const char *gs_instant_key(gs_instant_kind_t k);  /* "drop_request" */
GS_API const char *gs_instant_text(gs_instant_kind_t k); /* "drop request" */

typedef enum gs_outcome {
    GS_OUT_DONE,       /* every thread finished */
    GS_OUT_DEADLOCK,   /* a cycle of waiters, or blocked threads and nothing to wake them */
    GS_OUT_HORIZON,    /* reached until */
    GS_OUT_MAX_EVENTS, /* reached max_events */
    GS_OUT_ERROR,      /* a body did something invalid (e.g. released a lock it does not hold) */
    GS_OUT_LIMIT,      /* the trace reached the memory budget (gs_run_opts.memory_budget) */
    GS_OUT_INTERRUPTED /* gs_run_opts.cancel was set (Ctrl-C) */
} gs_outcome_t;

GS_API const char *gs_outcome_key(gs_outcome_t o); /* "done", "deadlock"... */
/* The outcome of t in the words a line for people uses: its key, except the
 * horizon, which is "time limit reached" for a simulation and, for a
 * recording (no core lanes), "cut short before the program ended" (a partial
 * recording). The summary JSON and CSV keep the key. */
GS_API const char *gs_trace_outcome_words(const gs_trace_t *t);

GS_API void gs_trace_free(gs_trace_t *t);

GS_API gs_outcome_t gs_trace_outcome(const gs_trace_t *t);
/* Human-readable reason for the outcome; "" when done. For a deadlock: the
 * cycle, who holds what and who waits for what. */
GS_API const char *gs_trace_message(const gs_trace_t *t);
GS_API int64_t gs_trace_end_ns(const gs_trace_t *t);   /* the last event's time */
GS_API int64_t gs_trace_events(const gs_trace_t *t);   /* events processed */
GS_API uint64_t gs_trace_seed(const gs_trace_t *t);
GS_API const char *gs_trace_name(const gs_trace_t *t);        /* scenario name or "" */
GS_API const char *gs_trace_description(const gs_trace_t *t); /* or "" */

GS_API int gs_trace_n_lanes(const gs_trace_t *t);
GS_API const gs_lane_t *gs_trace_lane(const gs_trace_t *t, int i);
GS_API int gs_trace_n_threads(const gs_trace_t *t);
GS_API int gs_trace_thread_lane(const gs_trace_t *t, int thread); /* lane index */
GS_API int gs_trace_n_cores(const gs_trace_t *t);
GS_API int gs_trace_core_lane(const gs_trace_t *t, int core);
GS_API int gs_trace_n_processes(const gs_trace_t *t);
GS_API const char *gs_trace_process_name(const gs_trace_t *t, int p);
GS_API int gs_trace_process_gil(const gs_trace_t *t, int p); /* gs_gil_kind_t */
/* The process's python.version preset ("3.13t"), "" when none was given. */
GS_API const char *gs_trace_process_version(const gs_trace_t *t, int p);
/* The presets in effect, distinct, in process order ("3.12", "3.12, 3.13t"),
 * "" when none; *count (may be NULL) gets how many. Written into buf. */
GS_API const char *gs_trace_python_versions(const gs_trace_t *t, char *buf, size_t n,
                                            int *count);
GS_API int gs_trace_gil_lane(const gs_trace_t *t, int p);   /* -1 if no GIL */
GS_API int64_t gs_trace_switch_interval_ns(const gs_trace_t *t, int p);
GS_API const char *gs_trace_sync_name(const gs_trace_t *t, gs_state_t wait_state, int who);
GS_API const char *gs_trace_op_label(const gs_trace_t *t, uint32_t op); /* "" if none */

GS_API size_t gs_trace_n_instants(const gs_trace_t *t);
GS_API const gs_instant_t *gs_trace_instants(const gs_trace_t *t); /* sorted by time */
/* Engine order of instant i, comparable with gs_interval_t.seq; annotations,
 * which the engine does not make, have UINT32_MAX (after their instant). */
GS_API uint32_t gs_trace_instant_seq(const gs_trace_t *t, size_t i);
GS_API int gs_trace_n_annotations(const gs_trace_t *t);
GS_API int64_t gs_trace_annotation_at(const gs_trace_t *t, int i);
GS_API const char *gs_trace_annotation_text(const gs_trace_t *t, int i);

/* ---- facts: what the engine knew, for explaining a wait (explain.h) ----
 * Beside the lanes a trace keeps tracks that are not drawn as lanes: per GIL,
 * when its drop request was set and by whom; per lock, who held it. A run
 * records all of them; a trace built from a recording fills what it observed
 * and says so in gs_trace_facts. A track is a gs_lane_t (gs_lane_find works
 * on it); process or lock indices out of range give NULL. */
#define GS_FACT_DROP_REQUEST 0x01u /* drop-request tracks are complete */
#define GS_FACT_LOCK_OWNER 0x02u   /* lock-owner tracks are complete */
#define GS_FACT_CORES 0x04u        /* core lanes are complete */
GS_API unsigned gs_trace_facts(const gs_trace_t *t);
GS_API const gs_lane_t *gs_trace_drop_request_track(const gs_trace_t *t, int p);
GS_API const gs_lane_t *gs_trace_lock_owner_track(const gs_trace_t *t, int lock);
/* Number of locks (GS_ST_WAIT_LOCK), events or queues the trace names. */
GS_API int gs_trace_n_syncs(const gs_trace_t *t, gs_state_t wait_state);
GS_API int gs_trace_queue_maxsize(const gs_trace_t *t, int q); /* 0 = unbounded */
GS_API int gs_trace_queue_initial(const gs_trace_t *t, int q); /* items at the start */
GS_API int gs_trace_policy(const gs_trace_t *t); /* gs_policy_t, -1 if unknown */
/* The simulated machine has a run queue per core (run_queues "per_core", the
 * default): a ready thread waits on one core's queue. false for one shared
 * queue and for a recording (its cores are not recorded). */
GS_API bool gs_trace_per_core_queues(const gs_trace_t *t);

/* Index of the interval of lane that covers t_ns, or of the first one that
 * starts after it when none covers it (n when none does). O(log n). */
GS_API size_t gs_lane_find(const gs_lane_t *lane, int64_t t_ns);

/* Checks the trace's invariants: intervals sorted and disjoint; a core runs at
 * most one thread and that thread's lane says it is on that core; a GIL has at
 * most one holder, and the holder is never waiting for it. 0, or GS_EINVAL with
 * the first violation in err. Every model test calls it. */
GS_API int gs_trace_check(const gs_trace_t *t, gs_error_t *err);

/* Serialises the whole trace in a fixed text form; the same trace gives the
 * same bytes. For determinism tests and diffs. Returns 0 or GS_EIO. */
GS_API int gs_trace_dump(const gs_trace_t *t, FILE *out);

#endif
