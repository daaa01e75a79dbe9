/* engine.h - run a model; the primitives a thread body calls.
 *
 * Every simulated thread is a real pthread (a worker) running its body. A
 * primitive records a request, passes the baton and returns when the engine
 * has completed the request in virtual time. Exactly one of the engine and the
 * workers runs at any moment, so a body needs no locks of its own.
 *
 * If the run stops early (deadlock, limit, runtime error) a body is abandoned
 * inside the primitive it was blocked in: it never returns from that call.
 * Keep resources in the thread's user pointer and free them in user_free. */
#ifndef GILSIM_ENGINE_H
#define GILSIM_ENGINE_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "model.h"
#include "trace.h"

/* How far a run has gone, for a caller on another thread (the viewer's
 * progress line): the engine stores it with relaxed atomic stores after every
 * event, so a reader sees each field's latest value, not one consistent set. */
typedef struct gs_progress {
    _Atomic int64_t now_ns;   /* simulated time reached */
    _Atomic int64_t n_events; /* events and requests so far (as max_events counts) */
    _Atomic size_t bytes;     /* the trace and event queue, as the budget counts them */
} gs_progress_t;

typedef struct gs_run_opts {
    int cpu;             /* GS_CPU_AUTO (the caller's current CPU), GS_CPU_NONE
                            (no pinning) or a CPU number to pin every thread of
                            this run to */
    size_t stack_bytes;  /* worker stack; 0 = 64 KiB (1 MiB in sanitizer builds,
                            which need deeper stacks) */
    int64_t max_events;  /* 0 = the model's */
    int64_t until_ns;    /* 0 = the model's */
    int spin;            /* sem_trywait attempts before sleeping on the baton;
                            <= 0: none (spinning only delays the thread we
                            wait for when the run is pinned to one CPU) */
    size_t memory_budget; /* bytes the trace and the event queue may take; at
                             the bound the run stops with the outcome
                             GS_OUT_LIMIT. gs_run_opts_init sets the default:
                             GILSIM_MEMORY_BUDGET if set, else 1 GiB */
    const _Atomic int *cancel; /* when non-NULL and it becomes non-zero, the run
                                  stops at the next event with the outcome
                                  GS_OUT_INTERRUPTED (a signal handler or
                                  another thread sets it) */
    gs_progress_t *progress; /* when non-NULL, updated after every event */
    int ahead;           /* requests an op program's body may make before the
                            engine has completed the one before (the body
                            still runs on its own pthread, the engine still
                            decides each in virtual time, the trace is the
                            same): fewer hand-offs. 0 = GS_AHEAD_DEFAULT,
                            < 0 = none (each call waits for its request) */
    bool metrics_only;   /* the trace keeps no interval nor instant: each is
                            summed into the metrics as it becomes final, and
                            the returned trace has empty lanes, no instants,
                            and gs_stats_compute's figures byte for byte as a
                            full trace gives them (what `gilsim sweep` needs:
                            no storing, no second pass). The memory budget
                            counts what a full trace would hold, so the run
                            stops at the same event. */
} gs_run_opts_t;

#define GS_AHEAD_DEFAULT 32

#define GS_MEMORY_BUDGET_DEFAULT ((size_t)1 << 30)

/* Parses a size: a whole number of bytes with an optional K, M, G or T
 * (binary: 1K = 1024; "KiB", "MB" and the like are read the same way).
 * 0 or GS_EINVAL (also for 0 and overflow). */
GS_API int gs_parse_bytes(const char *s, size_t *out);

#define GS_CPU_AUTO (-1)
#define GS_CPU_NONE (-2)

GS_API void gs_run_opts_init(gs_run_opts_t *o);

/* Runs the model to its end and returns the trace in *out (also when the run
 * stopped early: see gs_trace_outcome). Returns 0 when the run completed, or
 * GS_EDEADLOCK, GS_ELIMIT, GS_ERUNTIME (a trace is returned for these three),
 * GS_ESCENARIO (model check failed), GS_ETHREAD, GS_ENOMEM (no trace). err
 * (may be NULL) receives the reason. opts may be NULL. */
GS_API int gs_sim_run(const gs_model_t *m, const gs_run_opts_t *opts, gs_trace_t **out,
                      gs_error_t *err);

/* Worker pthreads are pooled between runs (a sweep or the viewer creates
 * them once). Ends and joins the idle ones; optional, e.g. before exit so
 * that valgrind sees every thread joined. Call when no run is under way. */
GS_API void gs_worker_pool_drain(void);

/* Pins the calling thread to the k-th CPU (mod count) it may run on and
 * returns that CPU, or -1. A thread that runs many simulations (a sweep job)
 * calls it once and then runs with opts.cpu = GS_CPU_AUTO: gs_sim_run then
 * uses that CPU without any system call (the thread remembers it; a thread
 * that changes its own affinity afterwards calls this again). */
GS_API int gs_pin_current_thread(int k);

/* ---- thread-body primitives: call only from inside a body --------------- */

GS_API int gs_cpu(gs_ctx_t *c, int64_t ns);   /* Python bytecode */
/* Python bytecode that reads (or writes) shared object `object` once every
 * every_ns of its own time; free-threaded contention, docs/model.md. */
GS_API int gs_touch_cpu(gs_ctx_t *c, int64_t ns, int object, bool writes, int64_t every_ns);
GS_API int gs_gc(gs_ctx_t *c, int64_t ns);    /* gc.collect(): stops the world (no GIL) */
/* import of a C extension taking ns; on a free-threaded build one without
 * free_threading support switches the GIL on (PYTHON_GIL=0 prevents it). */
GS_API int gs_import(gs_ctx_t *c, int64_t ns, bool free_threading);
GS_API int gs_io(gs_ctx_t *c, int64_t ns);    /* blocking I/O */
GS_API int gs_sleep(gs_ctx_t *c, int64_t ns); /* time.sleep */
GS_API int gs_c_call(gs_ctx_t *c, int64_t ns, bool releases_gil);
/* A C call that ends by putting one item on queue (unbounded) from C, on
 * its core, before it takes the GIL back (if it released it): a socket
 * send waking the reader blocked in recv (sock_def_readable), not a put
 * under the GIL. The item wakes the queue's oldest getter. */
GS_API int gs_c_call_post(gs_ctx_t *c, int64_t ns, bool releases_gil, int queue);
GS_API int gs_acquire(gs_ctx_t *c, int lock);
GS_API int gs_release(gs_ctx_t *c, int lock);
GS_API int gs_event_wait(gs_ctx_t *c, int event);
GS_API int gs_event_set(gs_ctx_t *c, int event);
GS_API int gs_event_clear(gs_ctx_t *c, int event);
/* Event.is_set(): the flag now, read in no simulated time (the caller runs
 * the poll's Python as its own cpu). Each call counts against max_events,
 * so a loop of polls alone ends at that limit. */
GS_API bool gs_event_is_set(gs_ctx_t *c, int event);
GS_API int gs_queue_put(gs_ctx_t *c, int queue);
GS_API int gs_queue_get(gs_ctx_t *c, int queue);
/* Queue.put of an end marker (a consumer's None sentinel): an item like any,
 * which a get takes in its turn; gs_queue_got_end then says so. */
GS_API int gs_queue_put_end(gs_ctx_t *c, int queue);
/* Did this thread's last get on the queue take an end marker? Waits for the
 * engine to have run that get (a fitted program may run ahead). */
GS_API bool gs_queue_got_end(gs_ctx_t *c, int queue);
/* Thread.start: creates the thread (thread_create, C holding the GIL), then,
 * as CPython's waits on the thread's `_started` Event, drops the GIL and
 * waits until the new thread has held it, and takes it back. */
GS_API int gs_thread_start(gs_ctx_t *c, int thread);
GS_API int gs_thread_join(gs_ctx_t *c, int thread);

GS_API int64_t gs_now(const gs_ctx_t *c);    /* virtual time, ns */
GS_API int gs_self(const gs_ctx_t *c);       /* this thread's index */
GS_API uint64_t gs_rand(gs_ctx_t *c);        /* this thread's own stream */
GS_API int64_t gs_draw(gs_ctx_t *c, const gs_dur_t *d); /* a duration, >= 0 */
GS_API void gs_set_op(gs_ctx_t *c, uint32_t op); /* label the next requests */

#endif
