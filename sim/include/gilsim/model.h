/* model.h - a validated simulation model: machine, Python runtimes, threads.
 *
 * The scenario loader builds one from JSON; a library user may build one in C
 * with the gs_model_add_* helpers (see docs/embedding.md). A model is plain
 * data, owned by whoever called gs_model_new(), and is only read by a run, so
 * one model can be run many times (the viewer does, on every knob change).
 * All times are int64 nanoseconds. */
#ifndef GILSIM_MODEL_H
#define GILSIM_MODEL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "common.h"

typedef enum gs_policy {
    GS_POLICY_FIFO,     /* run until it blocks */
    GS_POLICY_RR,       /* time slice, round robin */
    GS_POLICY_PRIORITY, /* static levels (higher first), rr within a level */
    GS_POLICY_CFS,      /* least virtual runtime first (Linux CFS, before 6.6) */
    GS_POLICY_EEVDF     /* earliest eligible virtual deadline first (Linux 6.6+) */
} gs_policy_t;

/* Wake-up latency against idle depth: up to this many points of a curve. */
#define GS_WAKE_CURVE_MAX 8

typedef enum gs_gil_kind {
    GS_GIL_CPYTHON3, /* 3.2+: switch interval, drop request, forced switching */
    GS_GIL_CPYTHON2, /* legacy: release and re-take every check_interval ticks */
    GS_GIL_NONE      /* free-threaded 3.13t+ */
} gs_gil_kind_t;

typedef enum gs_waker {
    GS_WAKE_FIFO,  /* a GIL signal wakes the longest waiter */
    GS_WAKE_RANDOM /* a seeded random waiter */
} gs_waker_t;

typedef struct gs_machine {
    int cores;                        /* >= 1 */
    gs_policy_t policy;               /* default eevdf (Linux 6.6+) */
    int64_t timeslice_ns;             /* rr and priority; default 4 ms */
    int64_t cfs_latency_ns;           /* cfs target latency; default 6 ms */
    int64_t cfs_min_granularity_ns;   /* cfs minimum slice; default 750 us */
    int64_t cfs_wakeup_granularity_ns; /* cfs wake-up preemption; default 1 ms */
    int64_t eevdf_slice_ns;           /* eevdf base slice; 0 (default): the
                                         kernel's, 0.75 ms x (1 + log2(cores)),
                                         cores counted up to 8 */
    int64_t tick_ns;                  /* scheduler tick: cfs and eevdf end a
                                         slice at the first tick after it is
                                         used; 0 ends it exactly; 4 ms (HZ=250) */
    int64_t context_switch_ns;        /* a core changing thread; default 2 us */
    int64_t wakeup_latency_ns;        /* waking a thread onto an idle core; 20 us */
    int64_t wakeup_jitter_ns;         /* a wake-up onto an idle core is late by a
                                         seeded random part in [0, this] more; 0 */
    int n_wake_curve;                 /* points of the idle-depth curve; 0: every
                                         wake-up costs wakeup_latency */
    int64_t wake_idle_ns[GS_WAKE_CURVE_MAX];    /* idle depth of each point,
                                                   ascending */
    int64_t wake_latency_ns[GS_WAKE_CURVE_MAX]; /* its wake-up latency; linear
                                                   between points, flat beyond */
    int64_t timer_slack_ns;           /* how late a timed wait ends (sleep, the GIL's
                                         timed wait): Linux timer slack; 0 */
    int64_t timer_jitter_ns;          /* a timed wait ends late by timer_slack plus
                                         a seeded random part in [0, this]; 0 */
    int64_t timer_arm_ns;             /* arming a timer that ends before every other
                                         timer of its core, the scheduler tick
                                         included, reprograms the clock event
                                         device (on a VM a trapped write): the
                                         arming thread pays this, and again
                                         when it cancels such a timer (a wait
                                         woken before its timeout); 0 */
    int n_timer_curve;                /* points of the timer-length curve; 0:
                                         no lateness beyond slack and jitter */
    int64_t timer_len_ns[GS_WAKE_CURVE_MAX];  /* timer length of each point,
                                                 ascending */
    int64_t timer_late_ns[GS_WAKE_CURVE_MAX]; /* how much later than its slack
                                                 a timer of that length ends
                                                 (its delivery); linear between
                                                 points, flat beyond */
    int64_t futex_ns;                 /* one futex system call: how long a condvar
                                         waiter takes to go to sleep after it
                                         released the mutex (glibc); 1 us */
    int64_t syscall_ns;               /* a system call that finds nothing to do
                                         (a futex_wake with nobody queued to
                                         wake): entering and leaving the
                                         kernel; 100 ns */
    int64_t wake_ipi_ns;              /* what waking a thread onto another, idle
                                         core costs the waker beyond `futex`:
                                         the inter-processor interrupt (on a
                                         VM, a VM exit); 0 */
    int wake_affine_pct;              /* chance in % that a thread woken by a
                                         thread on a core is queued on that
                                         (busy) core rather than put on an idle
                                         one (Linux's wake-up placement); 0 */
    bool per_core_queues;             /* run_queues "per_core": a core has its
                                         own queue, as Linux's CPUs do: a thread
                                         woken by a thread on a core while no
                                         core is idle queues on its waker's
                                         core (os.c, place.c); false ("shared"):
                                         one ready queue for the machine.
                                         wake_affine > 0 implies it; true */
    bool timer_wake_local;            /* timer_wake "local": a thread woken by
                                         its own timer (a sleep's end, a GIL
                                         timed wait's timeout) onto the idle
                                         core its timer fired on pays no
                                         wake-up latency: the timer fires on
                                         the CPU that armed it and its idle
                                         exit is in the timer's lateness
                                         (wake.c gs__os_wake_timer). false
                                         ("remote"): it pays the wake-up curve
                                         like a wake-up from another core;
                                         true (since 2026-12-07) */
    bool keep_core;                   /* placement "previous": a woken thread
                                         goes back to its previous core, idle
                                         or busy, and a new one to the idlest
                                         core, its starter counting as load
                                         (place.c); implies per_core_queues.
                                         false ("idle"): an idle core first */
    bool behind_new_thread;           /* with "shared" queues: a thread woken
                                         while no core is idle, whose previous
                                         core runs or wakes a thread that has
                                         never run, waits on that core's queue
                                         (Linux's per-CPU queue at a
                                         Thread.start; startrace.c); false */
    bool sis_util;                    /* a thread woken by a thread on a core,
                                         its previous core busy, goes to an
                                         idle core only if Linux's SIS_UTIL
                                         scan budget, recomputed at balance
                                         ticks from the cores' PELT
                                         utilisation, reaches one; else it
                                         queues on its waker's core (sis.c).
                                         Replaces wake_affine's draw; false */
    bool one_cpu_pick;                /* with "shared" queues: a wake judged on
                                         one CPU's queue (one core, or waker and
                                         wakee both confined to one CPU) uses
                                         the kernel's pick, as per_core queues
                                         always do: a running thread past V
                                         loses, a tie goes to the wakee
                                         (wake.c); false */
    bool busy_balance;                /* balance "periodic": with per-core
                                         queues, a busy core also pulls queued
                                         threads from a more loaded core every
                                         balance interval (Linux's periodic
                                         load_balance, balance.c). false
                                         ("idle"): only an idle core pulls */
    int newidle_ratio;                /* -1: a core going idle pulls a cold
                                         queued thread at once (the model
                                         before newidle.c). 0-1024: Linux
                                         6.18.5+'s proportional newidle
                                         balance (NI_RANDOM): each core's
                                         sd->newidle_ratio starts here and
                                         the balance runs with chance
                                         (ratio + 2) / 1024 (newidle.c); -1 */
    int64_t migration_cost_ns;        /* with wake_affine: a queued thread that
                                         ran this recently is cache-hot and no
                                         idle core pulls it (Linux
                                         sysctl_sched_migration_cost); 0.5 ms */
    int requester_first_pct;          /* cpython3: chance in % that the thread
                                         asking for a GIL drop still holds the
                                         GIL's mutex when the holder comes to
                                         drop (a race of user code); 50 */
    int n_rf_curve;                   /* points of requester_first against the
                                         idle depth of the requester's core as
                                         its timed wait ran out; 0: the chance
                                         is requester_first at every depth */
    int64_t rf_idle_ns[GS_WAKE_CURVE_MAX]; /* idle depth of each point, ascending */
    int64_t rf_pct[GS_WAKE_CURVE_MAX];     /* its chance in %; linear between
                                              points, flat beyond */
    int requester_first_own_pct;      /* cpython3: the chance in % when the
                                         requester's core runs a thread of its
                                         own process as its timed wait runs
                                         out, or ran one until less than
                                         100 us before; -1: requester_first
                                         (or its curve) there too */
    bool race_holder_sleeps;          /* cpython3: a holder that finds the GIL
                                         mutex held by the requester sleeps on
                                         it and is woken (a wake-up latency);
                                         false: its futex call returns at the
                                         unlock (cvrace.c); true */
    bool timed_out_queued;            /* cpython3: a waiter whose timed wait
                                         ran out stays in the futex queue until
                                         it runs, so a signal's wake may take
                                         it (cvrace.c); false */
    bool switch_charged;              /* eevdf: the context switch counts in
                                         the incoming thread's vruntime, as the
                                         kernel's pick starts its clock before
                                         switch_to (switchcharge.c); false */
} gs_machine_t;

typedef struct gs_python {
    int version;                /* python.version preset, major*100+minor (3.13 ->
                                   313); 0 when none was given */
    bool free_threaded;         /* a free-threaded build (3.13t...) */
    gs_gil_kind_t gil;          /* default cpython3 */
    int64_t switch_interval_ns; /* cpython3; default 5 ms */
    gs_waker_t waker;           /* cpython3/2: which waiter a signal wakes */
    int check_interval;         /* cpython2: ticks between releases; 100 */
    int64_t tick_ns;            /* cpython2: duration of one tick; 100 ns */
    int64_t futex_ns;           /* cpython2: what a release (sem_post) that wakes
                                   a sleeping waiter costs the holder; 0: what
                                   the machine's wake of a blocked thread
                                   costs (machine.futex, + wake_ipi onto
                                   another idle core); 0 */
    int slowdown_pct;           /* free-threaded build or gil none: Python runs
                                   this % of the time; 100 */
    int python_gil;             /* free-threaded: PYTHON_GIL, -1 unset, 0 the GIL
                                   stays off on import, 1 on from the start */
    int64_t refcount_ns;        /* no GIL: extra cost of one access to a shared
                                   object per other thread accessing it then */
    int64_t pymutex_hold_ns;    /* no GIL: a write holds the object's PyMutex */
    int64_t pymutex_park_ns;    /* no GIL: a contended write parks and is woken */
    int64_t stw_ns;             /* free-threaded: a stop-the-world pause (GIL
                                   enable on import; gc adds its own time) */
    int64_t thread_create_ns;   /* cost to the starter of a start op; 50 us */
    int64_t thread_boot_ns;     /* the new thread's bootstrap, Python holding the
                                   GIL before its `_started.set()`; 0 */
    bool exit_posts_early;      /* until 3.12: a thread's end wakes its joiner
                                   before its final GIL drop, as CPython does
                                   (engine.c M_EXIT_POST); false: after it */
    bool gil_mutex_all;         /* a dropper preempted inside drop_gil keeps the
                                   GIL's mutex from everyone who asks, not only
                                   from the waiter it woke (gil.c mutex_taken);
                                   false */
    int64_t exit_tail_ns;       /* with exit_posts_early: C the exiting thread
                                   runs holding the GIL between the post and
                                   the drop (the rest of PyThreadState_Clear,
                                   tstate_delete_common); 0 */
    int64_t interp_create_ns;   /* creating an interpreter with its own GIL, in
                                   the thread that will run it (a thread with
                                   "interpreter": "own"); 1.1 ms */
    int64_t pickle_ns_per_kb;   /* pickle op: pickle.dumps, C holding the GIL,
                                   per 1024 bytes of pickle; 2.5 us */
    int64_t unpickle_ns_per_kb; /* unpickle op: pickle.loads; 5 us */
} gs_python_t;

/* The dearest pickle_ns_per_kb / unpickle_ns_per_kb: 1 ms per KB. */
#define GS_PICKLE_MAX_NS_PER_KB INT64_C(1000000)

/* A duration: fixed, or drawn from the thread's own seeded stream. */
typedef enum gs_dist {
    GS_DIST_FIXED,   /* a */
    GS_DIST_UNIFORM, /* in [a, b] */
    GS_DIST_EXP,     /* mean a */
    GS_DIST_NORMAL   /* mean a, standard deviation b, clamped at 0 */
} gs_dist_t;

typedef struct gs_dur {
    gs_dist_t dist;
    int64_t a_ns, b_ns;
} gs_dur_t;

typedef enum gs_op_kind {
    GS_OP_CPU,     /* Python bytecode: needs the GIL and a core */
    GS_OP_IO,      /* blocking I/O: releases the GIL */
    GS_OP_SLEEP,   /* time.sleep: releases the GIL */
    GS_OP_C_CALL,  /* C code: releases the GIL or keeps it */
    GS_OP_ACQUIRE, /* Lock/RLock acquire (blocking) */
    GS_OP_RELEASE,
    GS_OP_WAIT, /* Event.wait */
    GS_OP_SET,
    GS_OP_CLEAR,
    GS_OP_PUT, /* bounded Queue */
    GS_OP_GET,
    GS_OP_START, /* start a thread declared with autostart false */
    GS_OP_JOIN,
    GS_OP_REPEAT, /* count times body */
    GS_OP_GC,     /* gc.collect(): C holding the GIL; free-threaded: stops the world */
    GS_OP_IMPORT, /* import an extension: C holding the GIL; free-threaded and the
                     extension not marked free_threading: stop the world, GIL on */
    GS_OP_UNTIL,  /* `while not event.is_set(): body`: the event (target) is
                     looked at before each run of body, in no time; the poll's
                     Python is the body's own */
    GS_OP_CONSUME /* `for item in iter(queue.get, None): body`: get from the
                     queue (target), leave at an end marker (a put with end) */
} gs_op_kind_t;

typedef struct gs_op {
    gs_op_kind_t kind;
    uint32_t id;       /* index into gs_model_t.op_labels, as returned by
                          gs_model_add_op_label (the loader sets it) */
    gs_dur_t dur;      /* cpu, io, sleep, c_call */
    bool releases_gil; /* c_call */
    int posts;         /* c_call: 1 + the queue it puts one item on at its end,
                          from C (a socket send waking its reader, which the
                          GIL does not guard); 0 none */
    bool end;          /* put: an end marker (the consumers' None sentinel) */
    int target;        /* lock, event, queue or thread index; until: the event */
    int64_t count;     /* repeat: >= 1 */
    int shared;        /* cpu: 1 + index of the shared object it reads or
                          writes; 0 none */
    bool writes;       /* cpu with object: writes (under the object's PyMutex) */
    int64_t every_ns;  /* cpu with object: one access every this much Python;
                          import: free_threading (1) or not (0) */
    struct gs_op *body; /* repeat, until: owned array of n_body >= 1 ops */
    int n_body;
} gs_op_t;

typedef struct gs_ctx gs_ctx_t;
/* A thread body: plain sequential C that calls gs_cpu(), gs_io()... */
typedef void (*gs_body_fn)(gs_ctx_t *ctx, void *user);

/* A CPU set (Linux's cpumask, as taskset -c and sched_setaffinity give it):
 * bit c of word c / 64 set = the process's threads may run on core c. All
 * words 0: no affinity, every core (the default, and "all"). */
#define GS_CPU_WORDS 16 /* 1024 cores, machine.cores' limit */
typedef struct gs_cpuset {
    uint64_t w[GS_CPU_WORDS];
} gs_cpuset_t;

static inline bool gs_cpuset_any(const gs_cpuset_t *s) /* any CPU named? */
{
    for (int i = 0; i < GS_CPU_WORDS; i++)
        if (s->w[i])
            return true;
    return false;
}

/* May a thread with set s run on core c? An empty set: on every core. */
static inline bool gs_cpuset_allows(const gs_cpuset_t *s, int c)
{
    return !gs_cpuset_any(s) || (c >= 0 && c < 64 * GS_CPU_WORDS &&
                                 ((s->w[c / 64] >> (c % 64)) & 1u));
}

typedef struct gs_thread_spec {
    char *name;          /* owned; unique */
    int process;         /* index into processes */
    int64_t start_at_ns; /* when it starts if autostart */
    bool autostart;      /* false: started by another thread's start op */
    int interpreter;     /* 0 the process's main interpreter; n > 0 a legacy
                            subinterpreter sharing the process's GIL */
    bool daemon;         /* threading.Thread(daemon=True): stopped when every
                            other thread of the run has finished */
    int priority;        /* priority policy: higher runs first; cfs: nice = -priority */
    gs_cpuset_t cpus;    /* its own CPU affinity (sched_setaffinity on the thread);
                            empty: its process's */
    gs_op_t *program;    /* owned; run by the op interpreter when body is NULL */
    int n_program;
    gs_body_fn body;     /* C body, or NULL */
    void *user;          /* passed to body; not owned unless user_free is set */
    void (*user_free)(void *user);
} gs_thread_spec_t;

typedef struct gs_process_spec {
    char *name;          /* owned */
    gs_cpuset_t cpus;    /* its threads' CPU affinity; empty = every core */
    gs_python_t python;  /* this process's own runtime and GIL */
    int64_t start_at_ns; /* when the process exists */
    int64_t create_ns;   /* start-up cost before its threads may run; 0 for the implicit one */
} gs_process_spec_t;

typedef struct gs_sync_spec {
    char *name;   /* owned */
    bool reentrant; /* locks: RLock */
    int maxsize;  /* queues: capacity >= 1 (0 = unbounded) */
    int initial;  /* queues: items already in it */
    /* queues: the Python of Queue.put / Queue.get, run holding the queue's
     * mutex (a Lock, Lib/queue.py); 0 = the op is one instant, no mutex */
    int64_t put_ns, get_ns;
    /* queues without put_ns/get_ns: the Python a waiter woken in put/get
     * runs, GIL held, when it finds the queue still full/empty, before it
     * waits again (Condition.wait's return and the next wait's start,
     * Lib/threading.py); 0 = it waits again at once */
    int64_t recheck_ns;
} gs_sync_spec_t;

/* A shared Python object threads read or write without a GIL
 * (docs/model.md, "Free-threaded contention"). */
typedef enum gs_obj_kind {
    GS_OBJ_DICT,     /* refcounted; writes under its PyMutex */
    GS_OBJ_LIST,
    GS_OBJ_OBJECT,
    GS_OBJ_FUNCTION, /* 3.13t immortal once a 2nd thread starts; 3.14t deferred */
    GS_OBJ_IMMORTAL  /* None, small ints, interned strings: no refcount traffic */
} gs_obj_kind_t;

typedef struct gs_object_spec {
    char *name; /* owned */
    gs_obj_kind_t kind;
} gs_object_spec_t;

typedef struct gs_annotation {
    int64_t at_ns;
    char *text; /* owned */
} gs_annotation_t;

typedef struct gs_model {
    char *name;        /* owned; may be NULL */
    char *description; /* owned; may be NULL */
    char *source;      /* owned; the file it came from, may be NULL */
    uint64_t seed;
    int64_t until_ns;  /* horizon; default 60 s */
    int64_t max_events; /* default 50 000 000 */
    int64_t open_at_ns; /* where a viewer opens its playhead: the instant that
                           shows the lesson's point; -1 = not given */
    gs_machine_t machine;
    gs_process_spec_t *processes; /* at least one after gs_model_new */
    int n_processes;
    gs_thread_spec_t *threads;
    int n_threads;
    gs_sync_spec_t *locks, *events, *queues;
    int n_locks, n_events, n_queues;
    gs_annotation_t *annotations;
    int n_annotations;
    gs_object_spec_t *objects;
    int n_objects;
    char **op_labels; /* owned; op_labels[op.id], e.g. "threads[1].program[0] io" */
    uint32_t n_op_labels;
} gs_model_t;

/* Defaults as documented in docs/scenarios.md. */
GS_API void gs_machine_defaults(gs_machine_t *m);
GS_API void gs_python_defaults(gs_python_t *p);

/* A model with default machine and one process named "main"; NULL on OOM. */
GS_API gs_model_t *gs_model_new(void);
GS_API void gs_model_free(gs_model_t *m);
/* Deep copy (C bodies' user pointers are shared, not copied; the copy does not
 * own them). NULL on OOM. */
GS_API gs_model_t *gs_model_clone(const gs_model_t *m);

/* Builders; each returns the new index, or a negative GS_E* code. Strings are
 * copied. */
GS_API int gs_model_add_process(gs_model_t *m, const char *name, const gs_python_t *py);
GS_API int gs_model_add_thread(gs_model_t *m, const char *name, int process);
GS_API int gs_model_add_lock(gs_model_t *m, const char *name, bool reentrant);
GS_API int gs_model_add_event(gs_model_t *m, const char *name);
GS_API int gs_model_add_queue(gs_model_t *m, const char *name, int maxsize);
GS_API int gs_model_add_annotation(gs_model_t *m, int64_t at_ns, const char *text);
GS_API int gs_model_add_object(gs_model_t *m, const char *name, gs_obj_kind_t kind);
/* Registers a label for an op and returns its id (>= 0) or a GS_E* code. */
GS_API int gs_model_add_op_label(gs_model_t *m, const char *label);
/* Sets thread t's body to a C function (program is ignored then). */
GS_API void gs_model_set_body(gs_model_t *m, int t, gs_body_fn body, void *user,
                              void (*user_free)(void *));

/* Checks indices and ranges; fills err with the first problem. 0 or
 * GS_ESCENARIO. gs_sim_run calls it too. */
GS_API int gs_model_check(const gs_model_t *m, gs_error_t *err);

/* python.version presets (sim/versions.c): fills py from the defaults and the
 * preset `name` ("2.7", "3.13t"...); GS_EINVAL for an unknown name. */
GS_API int gs_python_preset(const char *name, gs_python_t *py);
GS_API const char *gs_python_preset_names(void); /* for error messages */
/* The preset name of py ("3.13t"), "" when it has none; buf for the rest. */
GS_API const char *gs_python_version_name(const gs_python_t *py, char *buf, size_t n);

GS_API const char *gs_policy_name(gs_policy_t p);
GS_API const char *gs_gil_name(gs_gil_kind_t g);

#endif
