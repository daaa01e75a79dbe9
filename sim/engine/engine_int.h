/* engine_int.h - the engine's state, shared by kernel.c, engine.c, worker.c,
 * os.c, gil.c, sync.c and program.c (library-private).
 *
 * Ownership: gs_engine_t owns every array here; one engine is one run and is
 * thrown away after it. Concurrency: every field is touched only by the
 * current baton holder (the main thread inside gs_sim_run, or one worker);
 * the semaphore hand-off orders all accesses. Only gs_worker_t.kill is atomic.
 * Lock order: none is needed; each list of the worker pool has its own
 * mutex, taken alone (worker.c).
 * Owners: a field changed by one file only names it in its comment
 * ("gil.c"); the engine's call graph is in docs/internals.md.
 *
 * A thread's life is two layers:
 *   os layer  (os.c):  OFF -> WAKING|READY -> SWITCHING -> ON -> READY|OFF
 *   logic     (engine.c): a request (gs_cpu, gs_io...) is a short list of
 *             micro-steps (take the GIL, drop it, execute, block...) run by
 *             advance() while the thread is ON a core. */
#ifndef GILSIM_ENGINE_INT_H
#define GILSIM_ENGINE_INT_H

#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <setjmp.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>

#include <assert.h>
#include <errno.h>

#include "gilsim/engine.h"
#include "rand.h"
#include "trace_int.h"

#define GS_ASSERT(x) assert(x)

/* OS calls whose failure would corrupt the run (a semaphore, a mutex, a stack
 * size, an affinity we computed) are checked and, failing, abort with the
 * call, the place and the reason, as CPython's MUTEX_LOCK does. pthread_*
 * calls return an error number; sem_* calls return -1 and set errno. */
#define GS_PTHREAD_OK(call) gs__os_ok((call), #call, __FILE__, __LINE__)
#define GS_ERRNO_OK(call) gs__os_ok((call) == 0 ? 0 : errno, #call, __FILE__, __LINE__)

typedef struct gs_engine gs_engine_t;
typedef struct gs_ctx gs_thr_t; /* a simulated thread; gs_ctx_t to bodies */

/* ---- events ---------------------------------------------------------- */

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

/* ---- workers ----------------------------------------------------------- */

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

/* ---- threads ----------------------------------------------------------- */

/* A THREAD'S STATE MACHINE
 *
 * A thread's state is the product of where the OS has it (os, os.c), why it
 * is off a core (blk), where a GIL wait stands (gw, gil.c), and the flags
 * started, finished, holds_gil, in_wait and exec_active. Transitions, with
 * the function that performs each:
 *
 *   life     not started -> started, OFF           [on_start, engine.c]
 *            ON -> finished, OFF                   [step_exit, engine.c]
 *   os       OFF -> WAKING (an idle core wakes) | READY  [gs__os_wake]
 *            READY -> SWITCHING                    [dispatch via core_pick]
 *            WAKING | SWITCHING -> ON              [start_on, then gs__go_on]
 *            ON -> READY (slice over, preempted)   [preempt]
 *            ON -> OFF (blocks, or exits)          [gs__os_block, gs__os_exit]
 *   gil      NONE -> COND (waits on the condition) [wait_cond via gs__gil_take]
 *            COND -> TIMEDOUT (interval passed)    [gs__gil_timeout]
 *            COND -> SIGNALED (a drop woke it)     [signal_one, gs__condvar_signal]
 *            TIMEDOUT -> SIGNALED (a futex wake before it ran; machine
 *                                 timed_out_queued, cvrace.c)  [gs__condvar_signal]
 *            TIMEDOUT|SIGNALED -> NONE (took it) | COND (waits again)
 *                                                  [on_core via gs__gil_resume]
 *            TIMEDOUT|SIGNALED -> LEFT (left the condvar, then preempted by
 *                                 the thread its replacement signal woke)
 *            LEFT -> NONE | COND                   [on_core]
 *            NONE -> SWITCH (forced drop, waits for a switch) [gs__gil_drop]
 *            SWITCH -> SWITCHED (another took it)  [acquire]
 *            SWITCHED -> NONE (back on a core)     [gs__gil_resume]
 *            SIGNALED -> MUTEX (preempted its signaller, which holds the
 *                      GIL's mutex) [on_core]; MUTEX -> SIGNALED (unlocked)
 *                                                  [gs__gil_mutex_unlock]
 *            !holds_gil <-> holds_gil              [acquire / gs__gil_drop]
 *   waits    in_wait set when a blocking micro-step blocks (step_block,
 *            block_on), cleared when the step runs again after the wake-up.
 *
 * Invariants, checked by gs__thr_check (invariants.c) at every recorded
 * transition (gs__thr_trace) and every continuation (gs__go_on) in debug and
 * sanitizer builds, and wherever GILSIM_CHECK_STATE=1 (every ctest):
 *   (1) os == READY <=> ready_idx >= 0, and then e->ready[ready_idx] == t.
 *   (2) core != NULL <=> os is WAKING, SWITCHING or ON; then core->cur == t
 *       and the core is one its CPU affinity allows (gs__allowed).
 *   (3) not started, or finished => os == OFF (no core, not ready).
 *   (4) os != OFF => blk == BLK_NONE.
 *   (5) gw == COND => in its GIL's waiter list; then OFF and blk == BLK_GIL.
 *       In the list => gw == COND, or (cpython3) TIMEDOUT, or SIGNALED by a
 *       futex wake without a signal taken: it leaves glibc's condvar only
 *       when it runs (gil.c).
 *   (6) gw == SWITCH <=> in its GIL's switch_wait list; then OFF and
 *       blk == BLK_SWITCH.
 *   (7) gw is TIMEDOUT, SIGNALED, SWITCHED or LEFT => os != OFF (woken, on
 *       its way to a core).
 *   (8) holds_gil <=> its process's GIL is locked with holder == t; never
 *       without a GIL (gil->kind NONE: a free-threaded process until an
 *       import switches the GIL on).
 *   (9) OFF for I/O, sleep, a lock, an event, a queue or a join => in_wait,
 *       and for a lock, event, queue or join: in that object's wait list.
 *  (10) exec_active => started and not finished.
 *  (11) in_sys (cpython2: in a futex call on the GIL's semaphore) => not
 *       holding the GIL, and either releasing it (gw NONE) or a woken
 *       waiter going back to sleep (gw SIGNALED).
 *  (12) accessing (counted as a sharer of its object, ft.c) => ON and
 *       executing, with an object.
 */

typedef enum os_state { OS_OFF, OS_WAKING, OS_READY, OS_SWITCHING, OS_ON } os_state_t;

/* Why an OFF thread is off (its trace state). */
typedef enum blk { BLK_NONE, BLK_IO, BLK_SLEEP, BLK_GIL, BLK_SWITCH, BLK_LOCK, BLK_EVENT,
                   BLK_QUEUE, BLK_JOIN,
                   BLK_START /* Thread.start: on the new thread's `_started` Event
                                until it first holds the GIL (trace: WAIT_EVENT) */
} blk_t;

/* Where a GIL wait stands (gil.c). */
typedef enum gil_wait { GW_NONE, GW_COND, GW_TIMEDOUT, GW_SIGNALED, GW_SWITCH,
                        GW_SWITCHED, GW_LEFT /* left the condvar, preempted before it
                        could look at the GIL */,
                        GW_MUTEX /* signalled, blocked on the GIL's mutex that its
                        preempted signaller still holds (gil.c) */ } gil_wait_t;

/* Micro-steps of a request. */
typedef enum micro {
    M_GIL,        /* hold the GIL (no-op without one) */
    M_DROP,       /* release the GIL (voluntary) */
    M_EXEC,       /* execute t->req.ns on a core (kind in t->req.exec) */
    M_BLOCK,      /* blocked for t->req.ns (I/O or sleep) */
    M_LOCK,       /* try the lock; on failure the next steps block for it */
    M_LOCK_WAIT,  /* blocked until the lock can be tried again */
    M_UNLOCK,
    M_EV_CHECK,   /* Event.wait: return at once if set */
    M_EV_WAIT,
    M_EV_SET,
    M_EV_CLEAR,
    M_Q_TRY,      /* put or get if possible */
    M_Q_WAIT,
    M_Q_RECHECK,  /* re-checked in vain after a wake-up: the queue's recheck_ns */
    M_Q_BACK,     /* then wait again (back to the M_DROP) */
    M_QM_LOCK,    /* queue with a mutex: take it, or the next steps block for it */
    M_QM_WAIT,    /* blocked (GIL dropped) until the mutex is taken */
    M_QM_OP,      /* the op's Python, holding the mutex (first pass only) */
    M_QM_TRY,     /* put or get if possible, notify, release the mutex */
    M_QM_AGAIN,   /* woken by a notify: back to the mutex */
    M_START,      /* schedule the new thread's start (its creation was paid) */
    M_START_WAIT, /* blocked until the started thread has booted (sync.c) */
    M_BOOTED,     /* a new thread holds the GIL: `_started.set()`, wake its starter */
    M_JOIN_CHECK,
    M_JOIN_WAIT,
    M_EXIT_POST,  /* until 3.12: release the thread state lock (join returns), GIL held */
    M_EXIT,
    M_FT,         /* gc / import: stop the world, maybe switch the GIL on (ft.c) */
    M_END
} micro_t;

typedef enum req_kind { RQ_BOOT, RQ_CPU, RQ_IO, RQ_SLEEP, RQ_C_CALL, RQ_ACQUIRE, RQ_RELEASE,
                        RQ_EV_WAIT, RQ_EV_SET, RQ_EV_CLEAR, RQ_PUT, RQ_GET, RQ_START,
                        RQ_JOIN, RQ_EXIT, RQ_GC, RQ_IMPORT } req_kind_t;

typedef struct gs_req {
    req_kind_t kind;
    int64_t ns;       /* cpu/io/sleep/c_call duration (already drawn) */
    gs_state_t exec;  /* M_EXEC: GS_ST_PY, GS_ST_C_GIL or GS_ST_C_NOGIL */
    int target;       /* lock/event/queue/thread */
    bool q_waited;    /* a queue op that waited on the Condition: its Python ran */
    const micro_t *prog; /* the micro-steps, ending with M_END */
    int pc;
} gs_req_t;

/* A request an op-program body made ahead of the engine (worker.c, "ahead"):
 * what request() would have put into the thread's fields. */
typedef struct gs_ahead {
    gs_req_t req;       /* kind, ns, exec, target; the rest zero */
    uint32_t op;        /* gs_set_op's label for it */
    int acc_obj;        /* 1 + shared object (gs_touch_cpu), 0 none */
    bool acc_writes;
    int64_t acc_every;
} gs_ahead_t;

/* A simulated thread. Like every engine field, touched only by the baton
 * holder; the trailing comments name the file(s) that change each field
 * (the one that owns it first). */
struct gs_ctx {
    int id;
    int process;
    const gs_thread_spec_t *spec;
    gs_engine_t *e;
    gs_worker_t *w;       /* worker.c: its worker, once its body has run */
    gs_rng_t rng;     /* this thread's own stream */
    uint32_t op;      /* label of the current request (gs_set_op, from its body) */
    gs_req_t req;     /* written by its body's worker (request), then read and
                         advanced by the engine (engine.c, sync.c) */
    int until_ev;     /* program.c: 1 + the event of the innermost until loop
                         it runs, 0 none (stops.c names it at a limit) */

    bool started, finished; /* engine.c: on_start, step_exit */
    bool booted;          /* sync.c: its bootstrap ran (held the GIL, set `_started`) */
    bool join_posted;     /* sync.c: a join of it returns (its end was posted) */
    bool start_pending;   /* kernel.c: an EV_START is queued */
    os_state_t os;        /* os.c only */
    struct gs_core *core; /* os.c: when WAKING, SWITCHING or ON */
    int last_core;        /* os.c: -1 before it ever ran */
    blk_t blk;            /* when OFF (os.c, set by gs__os_block) */
    int32_t blk_obj;      /* os.c (gs__os_block): what it waits on (lock, event...) */
    bool in_wait;         /* a blocking micro-step (engine.c step_block, sync.c)
                             blocked and has not yet run again since */

    /* execution */
    bool exec_active;     /* engine.c: an M_EXEC step is under way */
    int64_t remaining_ns; /* engine.c, os.c (account): of the current M_EXEC */
    int64_t seg_start_ns; /* engine.c, os.c: when the current ON stretch was last
                             accounted */
    int64_t py_exec_ns;   /* os.c: Python execution time so far (charged by
                             gs__os_account) */
    int64_t tick_end_ns;  /* gil.c: cpython2, the py_exec_ns at which the
                             holder's check interval ends */
    bool in_sys;          /* cpython2: on its core in a futex call on the GIL
                             semaphore (gil.c), for sys_ns more */
    int64_t sys_ns;
    bool sem_waiting;     /* cpython2: registered as a waiter on the semaphore */

    /* shared-object access of the current cpu request (ft.c) */
    int acc_obj;          /* 1 + object index, 0 none */
    bool acc_writes;
    int64_t acc_every;
    bool accessing;       /* counted in obj_k now */
    int64_t stretch_ppm;  /* wall time per Python time, in millionths */

    /* GIL */
    bool holds_gil;       /* gil.c: the GIL of its process names it holder */
    gil_wait_t gw;        /* gil.c only: where its GIL wait stands */
    uint64_t saved_switch; /* gil.c: switch_number when its timed wait began */
    /* cpython3: its place in the GIL's glibc condition variable (gil.c) */
    uint64_t cv_group;    /* the group (G2 when it began to wait) */
    uint64_t cv_sleep_seq; /* its place in the futex queue (FIFO) */
    int64_t rf_depth_ns;   /* as its timed wait ran out: how long the core it
                              waits on had idled (0: busy); gil.c race_pct */
    bool rf_after_own;     /* and whether that core ran a thread of its own
                              process then, or until 100 us before */
    int64_t cv_asleep_ns; /* when it is asleep in the futex: before that a
                             signal for its group is taken without sleeping */
    int64_t cv_deadline_ns; /* its timed wait ends here */
    bool cv_consumed;     /* it took a signal; on a core it tries the GIL */
    bool cv_timed_out;    /* GW_LEFT: it left by a timeout */
    int64_t debt_ns;      /* core time owed for futex wakes it made (os.c) */
    bool paying;          /* ON, paying debt_ns before its next step */
    bool mtx_held;        /* gil.c: preempted inside drop_gil's signal, it still
                             holds the GIL's mutex; unlocks when back on a core */
    gs_thr_t *mtx_waiter; /* gil.c: with mtx_held, the waiter it woke that
                             preempted it (GW_MUTEX once it tried the mutex) */
    gs_thr_t *mtx_owner;  /* gil.c: the preempted signaller whose mutex it
                             has to wait for, NULL once unlocked */
    uint8_t mtx_gw;       /* gil.c: GW_MUTEX: its gw before it blocked */

    /* scheduler */
    uint64_t tgen;        /* kernel.c: timer generation; bump to cancel EV_TIMER */
    uint64_t hrt_gen;     /* hrtimer.c: == tgen while its timer is a slack timer */
    int64_t hrt_soft_ns;  /* hrtimer.c: that timer's soft expiry (asked for) */
    int hrt_cpu;          /* hrtimer.c: the core it was armed on */
    int64_t tarm_owed_ns; /* hrtimer.c: clock event reprograms its GIL wait
                             made (machine.timer_arm), paid back on its core */
    bool tarm_paying;     /* ON, paying tarm_owed_ns before the wait goes on */
    bool tarm_paid;       /* a sleep paid its arming before it blocks */
    uint64_t ready_seq;   /* os.c: FIFO order in the ready queue */
    int64_t vruntime;     /* os.c: cfs and eevdf, weighted ns */
    int64_t deadline;     /* os.c: eevdf virtual deadline (vruntime + slice) */
    int64_t vprot;        /* os.c: eevdf, ON: its deadline when it got the core;
                             until its vruntime reaches it, it keeps the core
                             while eligible (RUN_TO_PARITY) */
    int64_t vseen;        /* eevdf.c: its vruntime as of the kernel's last
                             update_curr while it ran (gs__eevdf_seen) */
    int64_t vlag;         /* os.c: eevdf lag (average vruntime - own) when it
                             last left the run queue */
    int weight;           /* engine_new: cfs weight from priority (nice = -priority) */
    int ready_idx;        /* os.c: position in e->ready, -1 if not there */
    int rq_core;          /* os.c: READY on this core's queue only (wake-up
                             placement), -1 on any core's */
    const gs_cpuset_t *cpus; /* os.c: its process's CPU affinity, NULL: every core */
    int64_t off_core_ns;  /* os.c: when it last left a core (cache-hot until
                             migration_cost after it) */
    double pelt_load;     /* place.c, per-core queues: its load average (Linux
                             PELT: weight x runnable share, decayed by half
                             every 32 periods of 1024 us) as of pelt_ns */
    int64_t pelt_ns;      /* place.c: when pelt_load was brought up to date;
                             -1 before it was ever runnable */
    int delayed_core;     /* os.c: eevdf with placement: OFF, but still counted
                             in this core's V (it blocked while not eligible:
                             Linux DELAY_DEQUEUE), -1 if not */

    /* kernel.c: what its trace lane last got (trace_thread_lane): state,
     * flags, open and who packed in one word (lane_key), and the op */
    uint64_t tr_key;
    uint32_t tr_op;

    /* worker.c: an op program's body running on while its last request is
     * still in the engine (docs/performance.md, "Requests made ahead") */
    bool ah_mode;        /* set and cleared by its body only */
    gs_thr_t *ah_next;   /* ah_mode: whom its body hands the baton to */
    uint32_t ah_op;      /* ah_mode: gs_set_op's label, for the next request */
    gs_ahead_t *ah;      /* ring of e->ahead requests, made on first use;
                            engine_free frees it */
    int ah_head, ah_n;   /* the oldest, and how many; the engine pops them */

};

/* ---- cores, GILs, sync objects --------------------------------------- */

typedef enum core_mode { CORE_IDLE, CORE_WAKING, CORE_SWITCHING, CORE_ON } core_mode_t;

typedef struct gs_core {
    int id;
    core_mode_t mode;
    gs_thr_t *cur;     /* WAKING, SWITCHING or ON */
    int last_thread;   /* last thread that ran here, -1 none */
    uint64_t gen;      /* bump to cancel EV_CORE */
    int64_t slice_end_ns; /* ON: when the slice ends (INT64_MAX: none) */
    int64_t idle_since_ns; /* IDLE: since when (the idle depth of a wake-up) */
    int64_t vfloor;    /* eevdf.c, per-CPU V: its queue's V when last nobody was
                          left in it (an empty queue's V; cfs_rq->min_vruntime) */
    bool resched;      /* os.c, eevdf: WAKING or SWITCHING, and a thread woken
                          meanwhile beats cur: cur is preempted as it arrives
                          (the kernel's need_resched on the new curr) */
    /* kernel.c: what its trace lane last got (gs__core_trace, lane_key) */
    uint64_t tr_key;
    /* balance.c, machine.balance "periodic": when it next balances while
       busy (0: not yet set), whether its interval is doubled (the last
       balance found the loads even), and its balances since one moved a
       thread (nr_balance_failed) */
    int64_t next_balance_ns;
    bool balance_doubled;
    int balance_failed;
    /* newidle.c, machine.newidle_ratio >= 0: its sched_domain's
       newidle_call, newidle_success and newidle_ratio */
    unsigned ni_call, ni_success, ni_ratio;
} gs_core_t;

/* A list of waiting threads in FIFO order (by the seq they were added with). */
typedef struct gs_waitq {
    gs_thr_t **v;
    int n, cap;
} gs_waitq_t;

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

/* ---- the engine ---------------------------------------------------------- */

struct gs_engine {
    const gs_model_t *m;
    struct gs_hrt_q *hrt; /* hrtimer.c: each core's slack timers (lazily) */
    struct gs_sis *sis;   /* sis.c: utilisation, scan budget (machine.sis_util) */
    gs_trace_t *trace;
    int64_t now;
    int64_t until_ns, max_events, n_events;
    uint64_t seq;

    gs_event_t *heap; /* binary min-heap by (t, kind, seq) */
    size_t n_heap, cap_heap;
    int32_t *ev_pos; /* kernel.c: per thread, then per core: the heap index + 1
                        of its newest timer / core event, 0 none */
    bool stale_past_until; /* kernel.c: a stale event past until_ns was dropped */

    gs_thr_t *thr;
    int n_thr;
    int n_delayed;    /* os.c: threads with delayed_core >= 0 */
    bool pinned;      /* os.c: some thread has a CPU affinity (gs__allowed) */
    gs_core_t *cores;
    int n_cores;
    gs_gil_t *gils; /* one per process; gil->py->gil says which kind */
    gs_lock_t *locks;
    gs_event_obj_t *events;
    gs_queue_t *queues;
    gs_waitq_t *joiners; /* per thread */
    gs_waitq_t *starters; /* per thread: who waits in its Thread.start (sync.c) */
    int *obj_k, *obj_kw; /* per shared object: threads running on it, writers */

    gs_thr_t **ready; /* the OS ready queue (unordered; picked by scan) */
    int n_ready, cap_ready;
    uint64_t ready_seq;
    int64_t min_vruntime;
    int64_t cfs_weight_sum; /* weights of runnable threads */
    int cfs_nr;             /* runnable threads */

    int n_started, n_finished, n_start_pending;
    int n_daemon, n_lasting_finished; /* daemon threads; others that finished */
    gs_thr_t *resume; /* a thread whose request completed: its body goes on */

    bool stopped;
    gs_outcome_t outcome;
    int fatal;      /* GS_ETHREAD, GS_ENOMEM: no usable trace */
    size_t mem_budget; /* bytes for the trace and the heap (limits.c) */
    const _Atomic int *cancel; /* gs_run_opts.cancel */
    gs_progress_t *progress;   /* gs_run_opts.progress: stored, never read */
    bool check_state; /* gs__thr_check runs (debug builds, GILSIM_CHECK_STATE) */
    char msg[2048]; /* the outcome's message */

    /* workers */
    sem_t main_go;
    sem_t parked;   /* posted by each worker as its last touch of this run */
    int n_workers;  /* workers this run took from the pool or created */
    const gs_trace_growth_t *growth; /* the trace's, read after every event */
    cpu_set_t allowed; /* the caller's CPUs, for unpinning pooled workers */
    cpu_set_t saved_affinity; /* the caller's affinity before gs__pin_begin */
    size_t stack_bytes;
    int cpu;  /* pinned CPU or -1 */
    int spin; /* sem_trywait attempts before sem_wait */
    int ahead; /* requests an op program's body may make ahead, 0 none */
    gs_rng_t timer_rng; /* timer jitter (os.c), drawn only when there is some */
    gs_rng_t wake_rng;  /* wake-up jitter (wake.c), likewise */
    gs_rng_t place_rng; /* wake-up placement (os.c), drawn only with wake_affine */
    gs_rng_t newidle_rng; /* newidle.c's dice, drawn only with newidle_ratio >= 0 */
    bool ni_overloaded;   /* newidle.c: the root domain's overloaded flag */
    int64_t ni_seen_ns;   /* newidle.c: when a queued thread last set it */
};

/* limits.c */
size_t gs__budget_default(void); /* GILSIM_MEMORY_BUDGET, else the default */
void gs__format_bytes(size_t n, char *buf, size_t len); /* "1 GiB", "12 MiB" */
/* 0, or GS_ETHREAD with err->msg naming the kernel limit that cannot hold n
 * threads with stacks of stack_bytes. */
int gs__preflight_threads(int n, size_t stack_bytes, gs_error_t *err);

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

void gs__os_ok(int err, const char *call, const char *file, int line); /* aborts on err */
_Noreturn void gs__fatal(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* invariants.c: the state machine's invariants (above), for t. */
const char *gs__thr_invariant(const gs_engine_t *e, const gs_thr_t *t); /* NULL: all hold */
void gs__thr_check(const gs_engine_t *e, const gs_thr_t *t, const char *where); /* aborts */
bool gs__check_state_wanted(void); /* debug build, or GILSIM_CHECK_STATE set (not "0") */

/* engine.c: THE upcall. os.c and gil.c call it when t is ON a core again
 * (a wake-up or switch finished; the GIL was taken for a waiter): t's request
 * continues from its current micro-step. It is the only call from a model
 * back up into the request interpreter. */
void gs__go_on(gs_engine_t *e, gs_thr_t *t);

/* stops.c: why the run loop stops (engine.c asks before each event). */
bool gs__stop_limits(gs_engine_t *e);       /* a limit reached: stopped, true */
bool gs__stop_before_event(gs_engine_t *e); /* the run ends here: stopped, true */
/* Their usual answer, "go on", decided inline: the loop asks before every
 * event, and the two calls were a few per cent of a run. True only where
 * the function would return false and change nothing; keep each in step
 * with its function in stops.c. */
static inline bool gs__limits_quiet(const gs_engine_t *e)
{
    return !e->progress && !(e->cancel && atomic_load_explicit(e->cancel, memory_order_relaxed)) &&
           !e->growth->oom && e->growth->bytes + e->cap_heap * sizeof *e->heap <= e->mem_budget &&
           e->n_events < e->max_events;
}
static inline bool gs__events_go_on(const gs_engine_t *e)
{
    /* n_finished != n_started: some started thread runs on, so the daemon
     * test is only whether every lasting thread finished (a fit's other
     * load is daemon threads: a fitted scenario asks this at every event) */
    return !e->stopped && e->n_finished != e->n_started &&
           (e->n_daemon == 0 || e->n_lasting_finished != e->n_thr - e->n_daemon) &&
           e->n_heap > 0 && e->heap[0].t_ns <= e->until_ns;
}

/* os.c */
void gs__os_init(gs_engine_t *e);
void gs__os_set_state(gs_engine_t *e, gs_thr_t *t, os_state_t s); /* + cfs_nr, loads */
void gs__os_ready_push(gs_engine_t *e, gs_thr_t *t);
void gs__os_preempt(gs_engine_t *e, gs_core_t *c); /* c's thread ON -> READY */
int64_t gs__os_min_vruntime(gs_engine_t *e);      /* cfs: advanced, then returned */
bool gs__os_beats(const gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *r, int64_t V);
/* wake.c: waking a thread: its core, latency, wake-up preemption, the cost */
void gs__os_wake(gs_engine_t *e, gs_thr_t *t);   /* OFF -> runnable */
/* OFF -> runnable, woken by its own slack timer (a sleep, a GIL timed wait) */
void gs__os_wake_timer(gs_engine_t *e, gs_thr_t *t);
/* OFF -> runnable, a thread that never really left its core (it was still
 * entering a futex wait): no wake-up latency if that core is still idle */
void gs__os_wake_unslept(gs_engine_t *e, gs_thr_t *t);
/* waker, on a core, wakes w with a futex call (a lock release, an event set,
 * a condvar signal): w starts waking now, and waker spends `futex` of core
 * time in the call before its next step */
void gs__os_wake_by(gs_engine_t *e, gs_thr_t *waker, gs_thr_t *w);
void gs__os_wake_from(gs_engine_t *e, gs_thr_t *waker, gs_thr_t *w); /* placed as a
                             wake by waker (wake_affine), at no cost to it */
/* os.c, for place.c */
void gs__os_ready_remove(gs_engine_t *e, gs_thr_t *t);
void gs__os_dispatch_after(gs_engine_t *e, gs_core_t *c, gs_thr_t *t, int64_t lat); /* c
                             switches to t, lat later (an idle core woken first) */
int64_t gs__os_tick_after(const gs_engine_t *e, int64_t at); /* the first tick >= at */
/* wake.c, for place.c and gil.c */
int64_t gs__os_wake_latency(const gs_engine_t *e, const gs_core_t *c); /* of idle c */
int64_t gs__os_wake_cost(const gs_engine_t *e, const gs_thr_t *waker, const gs_thr_t *w);

/* place.c: where a woken thread runs (machine.wake_affine), idle balancing */
static inline bool gs__placing(const gs_engine_t *e) /* per-core queues (implied) */
{
    return e->m->machine.wake_affine_pct > 0 || e->m->machine.per_core_queues ||
           e->m->machine.keep_core || e->m->machine.sis_util;
}
/* eevdf with run_queues "per_core": every runnable thread belongs to one
 * core's queue, and each core keeps its own V (eevdf.c gs__eevdf_v) */
static inline bool gs__percpu_v(const gs_engine_t *e)
{
    return e->m->machine.per_core_queues && e->m->machine.policy == GS_POLICY_EEVDF;
}
gs_core_t *gs__place_busy(gs_engine_t *e, const gs_thr_t *waker); /* no idle core: the
                             waker's core, or NULL (the machine's queue) */
gs_core_t *gs__place_busy_weight(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *waker);
/* per-core queues, no idle core: the waker's core or t's previous one, by their
 * loads (wake_affine_weight), or NULL */
void gs__place_load_update(gs_engine_t *e, gs_thr_t *t, bool was_runnable); /* per-core
                             queues: t's runnable state changes now */
/* PELT loads now, read without moving their bookkeeping: t's (runnable while
 * not OFF), and core c's (cpu_load: the threads on it, queued on it or last
 * run there, sleeping ones included). O(threads) for a core. */
double gs__place_thread_load(const gs_engine_t *e, const gs_thr_t *t);
double gs__place_core_load(const gs_engine_t *e, int c);
/* May core c run t? A thread queued on one core's queue (rq_core) waits for
 * that core or for an idle core to pull it; any other on any core. c NULL:
 * the whole machine. */
/* May t run on core c at all? Its CPU affinity (processes' "cpus", Linux's
 * cpus_ptr that select_task_rq, pick and load balancing all honour). */
static inline bool gs__allowed(const gs_thr_t *t, const gs_core_t *c)
{
    return !t->cpus || ((t->cpus->w[c->id / 64] >> (c->id % 64)) & 1u);
}
static inline bool gs__pickable(const gs_thr_t *t, const gs_core_t *c)
{
    return !c || ((t->rq_core < 0 || t->rq_core == c->id) && gs__allowed(t, c));
}
bool gs__place_affine(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *waker);
                            /* queue woken t on waker's core? (a seeded draw,
                               made only if t's previous core is busy) */
gs_thr_t *gs__place_pullable(const gs_engine_t *e, const gs_core_t *c, int64_t *cools);
void gs__place_arm(gs_engine_t *e, gs_core_t *c); /* idle c looks again at a tick */
gs_core_t *gs__place_new(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *starter,
                         gs_core_t **idle); /* new t: an idle core (*idle) or one to queue on */
gs_core_t *gs__place_keep(gs_engine_t *e, const gs_thr_t *t, const gs_thr_t *starter,
                          gs_core_t **idle); /* placement "previous": the same for t */
/* startrace.c: with machine.behind_new_thread on a shared queue, the core a
 * thread woken with no idle core (idle NULL) waits on: its previous core,
 * when that runs or wakes a thread that has never run; else NULL */
gs_core_t *gs__start_queue(gs_engine_t *e, const gs_thr_t *t, const gs_core_t *idle);
const micro_t *gs__start_boot(gs_engine_t *e, gs_thr_t *t, const micro_t *prog);
void gs__place_kick(gs_engine_t *e);              /* every idle core looks again */
void gs__place_balance(gs_engine_t *e, gs_core_t *c); /* idle c's EV_CORE */
/* eevdf.c, for os.c: Linux's EEVDF (V, eligibility, lag, placement) */
int64_t gs__eevdf_avg(gs_engine_t *e, const gs_thr_t *skip); /* the machine's V */
int64_t gs__eevdf_core_v(gs_engine_t *e, const gs_core_t *c, const gs_thr_t *skip,
                         int64_t *load); /* core c's own V (placement) */
gs_thr_t *gs__eevdf_best(const gs_engine_t *e, int64_t V, const gs_core_t *c); /* pick */
/* the V that core c judges eligibility by: its own queue's (per-CPU V), else
 * the machine's */
int64_t gs__eevdf_v(gs_engine_t *e, gs_core_t *c);
void gs__eevdf_renew(gs_engine_t *e, gs_thr_t *t);
void gs__eevdf_seen(gs_engine_t *e, gs_thr_t *t);    /* update_curr point */   /* a new deadline once used */
void gs__eevdf_place(gs_engine_t *e, gs_thr_t *t, const gs_core_t *on); /* waking */
void gs__eevdf_leave(gs_engine_t *e, gs_thr_t *t, bool sleep); /* leaving the queue */
void gs__eevdf_settle(gs_engine_t *e, gs_core_t *c, const gs_thr_t *next); /* c picks:
                             its delayed threads that the pick meets leave */
bool gs__eevdf_slice_over(gs_engine_t *e, gs_core_t *c); /* c's thread used its
                             slice: true if a ready thread takes the core */
void gs__os_block(gs_engine_t *e, gs_thr_t *t, blk_t why, int32_t obj); /* ON -> OFF */
void gs__os_exit(gs_engine_t *e, gs_thr_t *t);   /* ON -> gone */
void gs__os_account(gs_engine_t *e, gs_thr_t *t); /* charge ON time up to now */
void gs__os_core_event(gs_engine_t *e, gs_core_t *c);
/* newidle.c: a core going idle (core_pick) balances; the thread it pulls,
 * or NULL. Without machine.newidle_ratio gs__place_pullable's, at once. */
void gs__newidle_init(gs_engine_t *e);
gs_thr_t *gs__newidle_pull(gs_engine_t *e, gs_core_t *c);
void gs__newidle_queued(gs_engine_t *e); /* a thread was queued on a core */
void gs__newidle_looked(gs_engine_t *e); /* an idle core's tick balance looked */

/* balance.c: c's EV_CORE (gs__os_core_event), then, with machine.balance
 * "periodic", c's periodic balance when it is due */
void gs__balance_core_event(gs_engine_t *e, gs_core_t *c);
/* How late a timed wait ends: the timer slack, plus a draw in
 * [0, timer_jitter] when there is jitter (nothing is drawn otherwise). */
int64_t gs__timer_late(gs_engine_t *e, int64_t len); /* a timer of length len */
/* a machine curve at x: linear between its points, flat beyond (wake.c) */
int64_t gs__curve_at(int n, const int64_t *xs, const int64_t *ys, int64_t x);

/* hrtimer.c: timers with slack (a sleep, the GIL's timed wait); one that
 * fires expires its core's others whose soft expiry passed */
int64_t gs__hrtimer_arm(gs_engine_t *e, gs_thr_t *t, int64_t len); /* -> its end */
void gs__hrtimer_rearm(gs_engine_t *e, gs_thr_t *t, int64_t soft_ns, int64_t at_ns);
bool gs__hrtimer_fired(gs_thr_t *t);   /* t's timer fired: was it a slack timer? */
gs_thr_t *gs__hrtimer_due(gs_engine_t *e, const gs_thr_t *fired); /* next to fire with it */
void gs__hrtimer_free(gs_engine_t *e);
/* machine.timer_arm if a timer of len armed by t now would be its core's
 * first (the tick included), else 0 */
int64_t gs__hrtimer_arm_cost(gs_engine_t *e, const gs_thr_t *t, int64_t len);
/* machine.timer_arm if t's live slack timer is its core's first, else 0: what
 * cancelling it costs (call before the cancel) */
int64_t gs__hrtimer_cancel_cost(gs_engine_t *e, const gs_thr_t *t);
bool gs__hrtimer_sleep_pays(gs_engine_t *e, gs_thr_t *t, int64_t len, int64_t *since);
int64_t gs__hrtimer_arm_since(gs_engine_t *e, gs_thr_t *t, int64_t len, int64_t since);

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
bool gs__gil_on_timer(gs_engine_t *e, gs_thr_t *t);
void gs__gil_mutex_unlock(gs_engine_t *e, gs_thr_t *t); /* a preempted dropper is back */   /* true: a futex call ended */

/* ft.c */
int gs__ft_init(gs_engine_t *e);
void gs__ft_destroy(gs_engine_t *e);
void gs__ft_retime(gs_engine_t *e, int object);      /* EV_FT */
void gs__ft_step(gs_engine_t *e, gs_thr_t *t);        /* M_FT */
void gs__gil_switch_on(gs_engine_t *e, gs_thr_t *t); /* gil.c: an import enables it */
/* cvrace.c: the condition variable's timings at a forced drop (gil.c asks) */
int64_t gs__cvrace_holder_wait_ns(const gs_engine_t *e); /* requester first: the drop's delay */
bool gs__cvrace_queued(const gs_engine_t *e, const gs_thr_t *w); /* in the futex queue */
bool gs__cvrace_drop_due(const gs_engine_t *e, const gs_gil_t *g); /* may the holder drop now */
/* condvar.c: glibc's condition variable, as cpython3's GIL waits on it (gil.c calls) */
void gs__condvar_signal(gs_engine_t *e, gs_gil_t *g, gs_thr_t *by); /* pthread_cond_signal */
/* a woken waiter on a core: true if it leaves the condvar (*timed_out: how) */
bool gs__condvar_on_core(gs_engine_t *e, gs_gil_t *g, gs_thr_t *t, bool *timed_out);
void gs__switch_charge(gs_engine_t *e, gs_thr_t *t, int prev_thread); /* switchcharge.c */

/* Wall time for python_ns of t's Python at its current speed, and Python
 * progress in wall_ns (ft.c: a thread on a shared object runs slower). */
static inline int64_t gs__ft_wall(const gs_thr_t *t, int64_t python_ns)
{
    if (t->stretch_ppm <= 1000000 || python_ns <= 0)
        return python_ns;
    return (python_ns * t->stretch_ppm + 999999) / 1000000;
}

static inline int64_t gs__ft_progress(const gs_thr_t *t, int64_t wall_ns)
{
    if (t->stretch_ppm <= 1000000 || !t->accessing)
        return wall_ns;
    return (wall_ns * 1000000 + t->stretch_ppm - 1) / t->stretch_ppm;
}

/* sync.c: micro-steps on locks, events, queues and joins. Each returns
 * STEP_NEXT (done, t still ON: the next step), STEP_WAIT (t now waits; it
 * goes on from this step), STEP_END (the request is complete) or STEP_BACK
 * (queue: wait again, from the drop of the GIL). */
typedef enum step_res { STEP_NEXT, STEP_WAIT, STEP_END, STEP_BACK } step_res_t;
step_res_t gs__sync_step(gs_engine_t *e, gs_thr_t *t, micro_t m);
/* The Python a queue step m (M_QM_OP, M_Q_RECHECK) of t's request runs. */
int64_t gs__sync_exec_ns(const gs_engine_t *e, const gs_thr_t *t, micro_t m);
void gs__sync_thread_done(gs_engine_t *e, gs_thr_t *t);
bool gs__sync_cycle(gs_engine_t *e, gs_thr_t *t); /* a sure RLock/join cycle: stops */
bool gs__sync_stall_cycle(gs_engine_t *e, char *buf, size_t n); /* any cycle, at a stall */
void gs__sync_report(gs_engine_t *e, char *buf, size_t n); /* who waits for what */

/* worker.c */
int gs__worker_start(gs_engine_t *e, gs_thr_t *t); /* give it a pthread */
void gs__worker_pass(gs_engine_t *e, gs_thr_t *self); /* after a request */
void gs__worker_teardown(gs_engine_t *e);
void gs__run_setup(gs_engine_t *e, int spin, int ahead); /* stacks, spin, ahead, futex hash */
void gs__pin_begin(gs_engine_t *e, int cpu);  /* pin as asked; keeps the old affinity */
void gs__pin_end(gs_engine_t *e);             /* restores it */

void gs__resume_other(gs_engine_t *e, gs_thr_t *next); /* post next's baton */
/* Requests made ahead (op programs): the body keeps one for the engine, false
 * when it must wait instead; the body waits until the engine has caught up
 * with all it made (before it reads engine state or ends); the engine takes
 * the oldest as the thread's request, as its body would have. */
bool gs__ahead_push(gs_thr_t *c, const gs_ahead_t *a);
void gs__ahead_sync(gs_thr_t *c);
void gs__ahead_apply(gs_thr_t *t, const gs_ahead_t *a);
/* The engine: t's request completed and its ring holds the next one: start
 * it, at the point where its woken body would have. */
void gs__ahead_next(gs_engine_t *e, gs_thr_t *t);
void gs__ahead_free(gs_engine_t *e); /* every thread's ring, as the engine goes */
/* A body's call (engine.c's primitives): submits a, or, while its body runs
 * ahead, keeps it in the ring; returns when the body may go on. */
int gs__request(gs_thr_t *c, const gs_ahead_t *a);

/* engine.c: requests and the loop (called by worker.c, the baton) */
gs_thr_t *gs__engine_next(gs_engine_t *e);
void gs__submit(gs_engine_t *e, gs_thr_t *t);

/* program.c */
void gs__program_body(gs_ctx_t *c, void *user);

#endif
