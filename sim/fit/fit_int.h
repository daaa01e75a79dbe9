/* fit_int.h - what the fitter's files share (layer-private).
 *
 * fit.c turns each recorded thread into a list of ops (fop_t); compress.c
 * folds repeated runs of ops into repeat blocks; until.c makes loops that
 * poll an Event until another thread sets it into until loops; emit.c
 * writes the scenario JSON. */
#ifndef GILSIM_FIT_INT_H
#define GILSIM_FIT_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "gilsim/common.h"
#include "gilsim/model.h" /* GS_WAKE_CURVE_MAX */

typedef enum fop_kind {
    FOP_CPU,    /* Python work */
    FOP_SLEEP,  /* time.sleep, or a wait fitted as one (approx) */
    FOP_IO,     /* socket, file, select... */
    FOP_CCALL,  /* C code: keeps_gil or releases it */
    FOP_PUT,    /* Queue.put on the one queue */
    FOP_GET,    /* Queue.get */
    FOP_START,  /* Thread.start of target */
    FOP_JOIN,   /* Thread.join of target */
    FOP_REPEAT, /* count times body */
    FOP_SET,    /* Event.set of an event an until loop polls (target: event) */
    FOP_POLL,   /* a marker (until.c only): the thread's first Event.is_set
                   that returned True (target: event) */
    FOP_UNTIL,  /* body until target (an event) is set */
    FOP_ACQUIRE, /* Lock.acquire of target (a lock: --lock-race, lockrace.c) */
    FOP_RELEASE, /* Lock.release of target */
    FOP_CONSUME, /* body for each get from queue target, until an end marker
                    (sentinel.c) */
    FOP_N
} fop_kind_t;

typedef enum fdist { FD_FIXED, FD_UNIFORM } fdist_t;

typedef struct fop {
    uint8_t kind;       /* fop_kind_t */
    uint8_t dist;       /* fdist_t, for a duration */
    bool keeps_gil;     /* FOP_CCALL */
    int target;         /* FOP_START, FOP_JOIN: thread index; FOP_SET,
                           FOP_POLL, FOP_UNTIL: event index */
    int64_t dur;        /* fixed: the duration; uniform: the mean */
    int64_t lo, hi;     /* uniform: bounds; FOP_POLL: when the event was
                           set, when the Python run before the poll began */
    int64_t count;      /* FOP_REPEAT; FOP_POLL: the False polls before it, -1
                           not recorded */
    int64_t late;       /* FOP_CCALL releasing the GIL: how much longer than the
                           median call of its name it was (time without a core,
                           fit.c typical_c_calls); 0 otherwise */
    bool send;          /* FOP_CCALL: a socket send (fit.c socket_send) */
    int post;           /* FOP_CCALL: 1 + the queue it posts at its end (a send
                           waking its reader: waits.c), 0 none */
    bool end;           /* FOP_PUT: an end marker; FOP_GET: took one (sentinel.c) */
    struct fop *body;   /* FOP_REPEAT, FOP_UNTIL, FOP_CONSUME: owned */
    int n_body;
} fop_t;

typedef struct fop_list {
    fop_t *v;
    int n, cap;
} fop_list_t;

int fop_push(fop_list_t *l, const fop_t *op); /* 0 or -1 (out of memory) */
void fop_list_free(fop_t *v, int n);           /* frees bodies too */
bool fop_has_duration(const fop_t *op);

/* Folds runs of 3 or more repetitions of the same sequence of op shapes
 * (kind, target, keeps_gil; durations may differ) into repeat blocks whose
 * durations are distributions with the run's mean at each position.
 * Replaces l. 0 or -1 (out of memory). */
int fit_compress(fop_list_t *l);

/* ---- one fitted scenario (fit.c builds it, emit.c writes it) ------------- */

#define FIT_MAX_EVENTS 64

/* What a thread's ops were fitted from, for its description. */
typedef struct fthread_stats {
    int64_t n[FOP_N], sum[FOP_N]; /* ops and summed durations by kind (before folding) */
    int64_t n_forced;             /* forced releases inside its Python work */
    int64_t n_approx_wait;        /* lock/condition/event waits fitted as sleeps */
    int64_t n_matched_wait;       /* waits matched to the release that ended them (gets) */
    int64_t n_matched_recv;       /* socket recvs matched to the peer's send (gets) */
    int64_t n_send;               /* socket sends fitted as C calls releasing the GIL */
    int64_t n_send_post;          /* of them, those posting their reader's queue */
    int64_t send_late_ns;         /* their time beyond the thread's median send, taken
                                     as time without a core (scale.c; 0 none) */
    int64_t send_median_ns;       /* that median */
    int64_t n_io_c;               /* I/O calls off the GIL for less than a wake-up,
                                     fitted as C calls releasing it (fit_io_kind) */
    int64_t n_unnamed;            /* GIL releases by C code no span named */
    int64_t n_inferred_c;         /* C calls keeping the GIL inferred from drop
                                     requests left unanswered */
    int64_t n_preempted;          /* unanswered requests left Python work: the
                                     kernel's run delay could explain them */
    double cpu_scale;             /* cpu and c_call scaled by this to the kernel's
                                     CPU time of the thread; 0 = not scaled */
    int64_t c_late_ns;            /* of the time it had no core, what was taken from
                                     its C calls longer than their name's median
                                     before scaling (0 none) */
    int64_t os_cpu_ns, raw_cpu_ns; /* the kernel's figure, and the measured sum,
                                      when the kernel counted less (else 0) */
    double demand;                /* then: threads wanting a core at once, on
                                     average while it wanted one */
#define FIT_DEM_MAX 64
    int64_t dem_ns[FIT_DEM_MAX];  /* its time wanting a core (holds, C without the
                                     GIL) by how many of its program's threads
                                     wanted one then, itself included: [d] for d
                                     threads, the last for that many or more */
    int64_t n_until;              /* until loops fitted (until.c) */
    int until_event;              /* the first one's event, -1 none */
    int until_kind;               /* 1: a Python run in chunks, 2: a repeat's body */
    int64_t until_work_ns;        /* 1: the recorded Python of the loop */
    int64_t until_count;          /* 2: the turns of the recorded loop; 1: its
                                     False polls, -1 not recorded */
    int64_t until_chunk_ns;       /* 1: the Python of one turn in the fit */
    int64_t n_consume;            /* consume loops fitted (sentinel.c) */
    int64_t consume_gets;         /* the gets they stand for, end markers included */
    int64_t until_absorbed;       /* 1: the turns of a repeat of Python and C
                                     keeping the GIL taken into its Python (far
                                     fewer than its polls), 0 none */
} fthread_stats_t;

typedef struct fthread {
    char name[72];          /* unique, <= 64 bytes, no control characters */
    bool autostart;         /* false: a start op of another thread starts it */
    int64_t start_at;       /* autostart and not at 0: the recorded start */
    int starter;            /* the thread whose start op starts it, or -1 */
    fop_list_t ops;
    fthread_stats_t st;
} fthread_t;

/* compress.c: fit_compress of t's ops, but for a started thread whose ops
 * begin with Python (its bootstrap) the first turn of a fold that would
 * begin there stays as recorded. 0 or -1 (out of memory). */
int fit_compress_thread(fthread_t *t);

typedef struct fscenario {
    const char *rec_path;
    int cores;
    int n_threads;
    fthread_t *th;
    int n_queues;          /* queues told apart (queues.c); 0 = no queue op */
    int n_events;          /* events an until loop polls (until.c) */
    int n_sentinel_queues; /* queues whose consumers end on end markers (sentinel.c) */
    uint64_t event_obj[FIT_MAX_EVENTS]; /* each one's identity in the recording */
    int event_setter[FIT_MAX_EVENTS];   /* the first thread seen setting it */
    int64_t event_set_ns[FIT_MAX_EVENTS]; /* when (before the first True poll) */
    int64_t queue_maxsize[64]; /* per queue; 0 = unbounded */
    int64_t queue_recheck_ns[64]; /* per queue: a vain re-check's hold (recheck.c) */
    int64_t n_rechecks[64];    /* and how many the recording had */
    int64_t queue_wake_ns, n_queue_wakes; /* Queue calls' wakes cut from the Python (qcut.c) */
    int n_wake_queues;     /* then, queues carrying matched wake-ups (waits.c) */
    bool send_put_after;   /* --send-put-after: a send's put after it (waits.c) */
    bool send_put_before;  /* --send-put-before: every send's put before it (waits.c);
                              neither: a send posts its reader's queue itself */
    bool lock_race;        /* --lock-race: bare lock waits are Lock ops (lockrace.c) */
    int n_locks;           /* the locks those ops name, "lock-1"... (0 without it) */
    uint64_t unused_queues; /* bit q: queue q carries no op (its waits became acquires) */
    int64_t lock_gap_ns;   /* the release-to-next-acquire gap of inserted acquires */
    int64_t lock_gap_n;    /* the recorded hand-offs it was read from (lockgap.c); 0: not */
    int64_t n_lock_fixes;  /* acquires and releases inserted (lockrace.c) */
    bool lock_unsafe;      /* a paired hold spans a wait for another thread */
    bool lock_refused;     /* so --lock-race was not applied: the recorded order */
    char queue_names[64][64]; /* their names, from index n_queues */
    int64_t n_unmatched_starts, n_unmatched_joins;
    int n_scaled; /* threads whose CPU ops were scaled down to the kernel's CPU time */
    /* the machine's other load (load.c): busy threads besides the program's,
       from the kernel's run delays; 0 none, or --no-load / --raw-cpu */
    double load;
    int64_t load_delay_ns, load_own_ns; /* the stretch it explains: the threads'
                                           Python and C runs longer than the
                                           kernel's CPU time, the program's own part */
    int64_t run_delay_ns;               /* the kernel's run delays, summed */
    double others_cap; /* other programs' CPU time while it ran, in busy threads
                          (the recording's others_cpu_ns); -1 when not recorded */
    int n_load_threads;                 /* threads whose totals it was fitted to */
    enum { FIT_LOAD_STRETCH, FIT_LOAD_OTHERS } load_rule; /* what sized the load (load.c):
                                           the runs' stretch, or (runs not stretched)
                                           the other programs' measured CPU use */
    /* the machine's costs: calibrated at record time, or gilsim's defaults */
    bool calibrated;
    int64_t wakeup_ns, context_switch_ns, timer_slack_ns, timer_jitter_ns;
    int64_t timer_jitter_read_ns; /* the recording's jitter, before the fit capped it at
                                     twice the sleep's median overshoot (setup.c) */
    int64_t timer_late_ns;  /* machine.timer_late (one point, flat): a timer's end beyond
                               its slack and half its jitter, with timer_wake "local" */
    int64_t eevdf_slice_ns; /* machine.eevdf_slice as read at record time; 0: left out */
    int64_t timer_arm_ns; /* machine.timer_arm; -1: not measured, the key left out */
    int64_t wake_ipi_ns;   /* machine.wake_ipi read off the recording (ipi.c); -1: left out */
    int64_t ipi_n, ipi_median_ns; /* the wakes it was read from; their median cost */
    int64_t ipi_n_posts;          /* of ipi_n, Queue notifies (the rest: GIL drops) */
    bool ipi_by_cpu; /* read off wakes onto another, idle CPU (recorded CPUs); else timing */
    bool ipi_cpu_wanted; /* --ipi-by-cpu (gs_fit_opts_t ipi_by_cpu) */
    int n_wake_idle; /* machine.wakeup_idle points; 0: none */
    int64_t wake_idle_depth_ns[GS_WAKE_CURVE_MAX], wake_idle_ns[GS_WAKE_CURVE_MAX];
    /* the race between a drop request and the drop (race.c) */
    int race_why;                  /* fit_race_why_t */
    int rf_pct;                    /* FIT_RACE_FITTED: machine.requester_first, % */
    int64_t race_drops, race_won;  /* the recording's forced drops with two or more
                                      waiters, the requester among them; its wins */
    int64_t race_model_drops, race_model_won; /* the replay's at rf_pct (seeds pooled);
                                                 FIT_RACE_NO_REPLAY: the fewer end's */
    double race_lo, race_hi;       /* the replay's requester share at 0 and at 1 */
    int race_tried;                /* values run */
    int64_t race_depth_ns;         /* the median idle depth of the requesters' CPUs
                                      over those drops (racecurve.c); -1 unknown */
    int race_cores;                /* the CPUs it was read for (the program's) */
    int n_rf_curve;                /* machine.requester_first_idle points (a shape
                                      given, scaled through rf_pct at race_depth_ns);
                                      0: requester_first alone */
    int64_t rf_curve_depth_ns[GS_WAKE_CURVE_MAX];
    int rf_curve_pct[GS_WAKE_CURVE_MAX];
    int rf_shape_why;              /* fit_rf_shape_why_t: what came of a shape */
    /* where a thread a lock release woke ran (wakeplace.c) */
    int place_why;                  /* fit_place_why_t */
    int place_pct;                  /* FIT_PLACE_FITTED: machine.wake_affine, % */
    int64_t place_beside, place_away; /* the recording's counted wakes: beside the
                                         waker, on the idle CPU */
    int64_t place_by_cpu;           /* ... of them read off the recorded CPUs (the
                                       rest by timing) */
    int64_t place_time_beside;      /* ... beside by the timing rule alone */
    int64_t place_lock;             /* ... of them a Lock's hand-offs (--lock-race) */
    double place_model_share;       /* the replay's share beside at place_pct */
    double place_share0;            /* ... at 0; -1 not run */
    /* thread pools whose work items were dealt evenly (pool.c) */
    int n_pools, pool_workers;
    int64_t pool_items, pool_moved; /* their items; those dealt to another worker */
    char pool_name[72];             /* the first pool's name prefix */
    /* a thread's end waking its joiner before its final GIL drop (exittail.c) */
    int exit_n;                     /* ends read; 0: exit_posts_early not written */
    int64_t exit_tail_ns, exit_lo_ns, exit_hi_ns; /* python.exit_tail; the range */
} fscenario_t;

/* scale.c: a thread's CPU ops brought down to the kernel's CPU time of it,
 * its C calls longer than their name's median giving their excess first.
 * The median C call releasing the GIL per name: fit_typical_build sorts
 * v[n] (every such call's name and time off the GIL) and keeps in place
 * one entry per name called at least FIT_TYPICAL_MIN times, returning how
 * many; fit_typical_late says how much longer than its name's median a
 * call of `off` was (0 when the name has no median). */
#define FIT_TYPICAL_MIN 5
typedef struct fit_typical {
    const char *name; /* interned by the recording: one pointer per name */
    int64_t off;
} fit_typical_t;
size_t fit_typical_build(fit_typical_t *v, size_t n);
int64_t fit_typical_late(const fit_typical_t *v, size_t n, const char *name, int64_t off);
void fit_scale_to_os_cpu(fscenario_t *f, int i, int64_t os_cpu_ns); /* os_cpu_ns < 0: unknown */
/* Thread i's socket sends brought down to its median send where its kernel
 * run delay (run_delay_ns, < 0 unknown) covers their time beyond it. Before
 * fit_scale_to_os_cpu. 0 or -1 (out of memory). */
int fit_sends_to_median(fscenario_t *f, int i, int64_t run_delay_ns);

/* until.c: loops until another thread sets an Event (`while not
 * ev.is_set()`). Step 1, before the threads: the events to fit (a thread's
 * first True Event.is_set after another thread's Event.set of it). */
struct gsr_recording;
struct gsr_event;
int fit_until_events(const struct gsr_recording *r, fscenario_t *f); /* 0, -1 OOM */
/* Step 2, per item: -1 not an Event.set or is_set; 0 one the fit does not
 * use (its time is Python); 1 the op (a set, or the poll's marker) in *op.
 * since: when the thread's Python run before the item began. */
int fit_until_op(const fscenario_t *f, const struct gsr_event *e, int64_t since, fop_t *op);
/* Step 3, after the folding: each marker and the loop before it as an until
 * op. 0, or -1 out of memory. */
int fit_until_loops(fthread_t *t);
/* The event's name in the scenario; for the description, thread i's loops
 * ("" if none) and the approximation ("" if no loop). */
const char *fit_event_name(const fscenario_t *f, int k, char *buf, size_t n);
const char *fit_until_note(const fscenario_t *f, int i, char *buf, size_t n);
const char *fit_until_approx(const fscenario_t *f, char *buf, size_t n);

/* One Queue.put or Queue.get, for telling the queues apart (queues.c). */
#define FIT_MAX_QUEUES 64
typedef struct fq_op {
    int thread;
    bool put;
    bool blocked;   /* the thread released the GIL inside: it waited */
    int64_t t0, t1; /* the call's span */
    int64_t rel, wake; /* blocked: when it let the GIL go to wait, and when it
                          woke (asked for the GIL again) */
    int queue;      /* out: the queue's index */
} fq_op_t;

/* Sets ops[k].queue for every op, f->n_queues and f->queue_maxsize (the
 * rest of ops as given).
 * 0, or -1 (out of memory). */
int fit_queues(fq_op_t *ops, size_t n, int n_threads, fscenario_t *f);

/* sentinel.c: on a queue two or more threads get from, each ending on a get
 * that is among the queue's last gets, and one thread puts the last items,
 * marks those puts as end markers and those gets as taking one (before the
 * folding; fit.c). 0 or -1 (out of memory). */
int fit_sentinels(fscenario_t *f, const fq_op_t *ops, size_t n);
/* After the folding (until.c's fit_until_loops): each get that took an end
 * marker and the gets of the queue before it become a consume loop. */
int fit_consume_loops(fthread_t *t);
/* The description's note on s's consume loops ("" none). */
const char *fit_consume_note(const fthread_stats_t *s, char *buf, size_t n);

/* Sets f->queue_recheck_ns and f->n_rechecks for each of the n_queues from
 * the holds inside blocked queue ops (after fit_queues). 0, -1 OOM. */
int fit_recheck(const struct gsr_recording *r, const fq_op_t *ops, size_t n, fscenario_t *f);

/* A time interval [h, r): a hold of the GIL (fit.c), a part cut out of it. */
typedef struct fit_iv {
    int64_t h, r;
} fit_iv_t;

/* Cuts out of the holds of thread ops[k].thread (sorted, disjoint; *holds
 * malloc'd, replaced) what the model charges itself inside its Queue calls:
 * the wakes they made and their vain re-checks (qcut.c). ops are grouped by
 * thread; the thread's are ops[k] to the next other thread's. Returns the
 * index after them, or 0 (out of memory; *holds unchanged). */
size_t fit_queue_cut(const struct gsr_recording *r, const fq_op_t *ops, size_t n, size_t k,
                     fit_iv_t **holds, size_t *n_holds, fscenario_t *f);

/* pool.c: a thread pool's work items (a cpu op and a C call releasing the
 * GIL, and what follows up to the next) dealt evenly among its workers
 * (threads started by one thread, named PREFIX_N) when their shares are 2x
 * apart or more, after every thread's ops are scaled; then every thread's
 * ops folded (fit_compress_thread unless exact) and its until loops made.
 * 0 or -1 (out of memory). The description's sentence about the pools
 * ("" none). */
int fit_deal_and_fold(fscenario_t *f, bool exact);
const char *fit_pool_note(const fscenario_t *f, char *buf, size_t n);

/* ---- set-up (setup.c) ---------------------------------------------------- */

struct gsr_recording;
struct gsr_event;

/* The machine's costs: from the recording's calibration, else the defaults. */
void fit_machine_costs(const struct gsr_recording *r, fscenario_t *f, bool wake_curve);
#define FIT_TIMER_SLACK_NS 50000 /* Linux's timerslack_ns of a normal thread */
/* The wake-up latency the fitted machine gives a core idle for depth_ns. */
int64_t fit_wake_at(const fscenario_t *f, int64_t depth_ns);
/* The op of an I/O call (not a socket send) off the GIL for off_ns:
 * FOP_IO, or FOP_CCALL (releasing the GIL) when off_ns is shorter than the
 * wake-up the model adds after an io op, counted in st->n_io_c. */
struct fthread_stats;
int fit_io_kind(const fscenario_t *f, struct fthread_stats *st, int64_t off_ns);
/* The machine's cores: the host's CPUs; *confined_to: the program's CPUs
 * (f->cores) when it was recorded under CPU affinity (taskset: fewer than
 * the host's online CPUs), which the scenario's top-level "cpus" gives it,
 * else 0. */
int fit_machine_cores(const struct gsr_recording *r, const fscenario_t *f, int *confined_to);
/* The shortest unanswered drop request taken for C code keeping the GIL,
 * for a thread the kernel kept runnable without a core run_delay_ns in all
 * (-1: unknown) and whose unanswered requests add up to sum_ns. */
#define FIT_LATE_NS 1000000     /* a drop request unanswered this long: not Python */
#define FIT_PREEMPT_NS 12000000 /* three 4 ms scheduler ticks (CONFIG_HZ=250) */
int64_t fit_inferred_c_floor(int64_t run_delay_ns, int64_t sum_ns);
/* Every thread's drop requests, sorted, in *req (malloc'ed). 0 or -1. */
int fit_collect_requests(const struct gsr_recording *r, int64_t **req, size_t *n_req);
/* qsort's comparison of two int64_t, ascending. */
int fit_cmp_i64(const void *a, const void *b);
/* The first drop request in a hold [h, r) if it went unanswered for
 * FIT_LATE_NS or more until the release r, else -1. */
int64_t fit_late_request(const int64_t *req, size_t n, int64_t h, int64_t r);
/* Where a C call keeping the GIL inferred from the first unanswered drop
 * request q in thread holder's hold from hs began (cstart.c): the start of
 * the requester's timed wait that ran out at q, not before hs nor before
 * a span the holder recorded in the hold; q without a requester. */
struct gsr_recording;
int64_t fit_inferred_c_start(const struct gsr_recording *r, int holder, int64_t hs, int64_t q);
/* Thread i's scenario name from its recorded one: at most 64 bytes (cut at a
 * UTF-8 boundary), no control characters, unique (else " #i"). */
void fit_name_thread(fscenario_t *f, int i, const char *raw);

/* ---- waits matched to the release that ended them (waits.c) ----------- */

typedef struct fwaits fwaits_t;
typedef struct fwake {
    int64_t t; /* a release that woke a waiter: a put on queue */
    int queue; /* -1: a release of lock (--lock-race) */
    int lock;  /* --lock-race: the lock (0-based) released, else -1 */
} fwake_t;

/* Every recorded release that woke a lock waiter, for matching. 0 or -1. */
int fit_waits_new(const struct gsr_recording *r, fwaits_t **out);
void fit_waits_free(fwaits_t *w);
/* Thread i's wait e (a lock_wait, a Python-level wait, a named Lock.acquire)
 * matched to the release that ended it: the queue (made and named in f if
 * new) it becomes a get on, with a put at that release; -1 if unmatched. */
int fit_waits_match(fwaits_t *w, fscenario_t *f, int i, const struct gsr_event *e);
/* The puts thread i makes for matched waits, in time order (malloc'ed);
 * with lock_race, also every release of a lock some thread blocked on
 * (matched or not: a release the releaser won back too), as a lock. */
int fit_waits_posts(const fwaits_t *w, int i, bool lock_race, fwake_t **out, size_t *n_out);
/* The queue thread i's socket send e posts at its end
 * (the wake-up of the reader it woke), or -1 (none, or a put op instead). */
int fit_waits_send_post(const fwaits_t *w, int i, const struct gsr_event *e);
/* The lock (0-based) whose waits queue q carries, or -1 (not a bare lock's). */
int fit_waits_lock_of(const fwaits_t *w, int q);
/* How many locks the matched waits numbered ("lock-1"...). */
int fit_waits_n_locks(const fwaits_t *w);
/* ---- the Lock's race instead of its recorded order (lockrace.c) --------- */

/* With --lock-race: makes each thread's acquires and releases of every lock
 * pair up (the recording shows only the contended ones), inserting the
 * uncontended ones it could not see, and sets f->lock_gap_ns. 0 or -1. */
int fit_lock_pairs(fscenario_t *f);

/* A socket send (send, sendall, sendto, sendmsg): fitted as a C call
 * releasing the GIL, with no wake-up after it (waits.c). */
bool fit_socket_send(const struct gsr_event *e);

/* ---- the machine's other load (load.c) ---------------------------------- */

/* The busy threads that other programs kept beside the recorded ones
 * (f->load and its figures), from each thread's kernel CPU time and run
 * delay and its program's own demand for cores (st.dem_ns). */
void fit_load(const struct gsr_recording *r, fscenario_t *f);
/* The load as the scenario's "processes" (cJSON *, NULL none), and its
 * sentence for the description ("" none). */
void *fit_load_json(const fscenario_t *f, int64_t until_ns);
const char *fit_load_note(const fscenario_t *f, char *buf, size_t n);

/* ---- what waking a sleeper on another CPU costs its waker (ipi.c) ------- */

#define FIT_IPI_MIN 20 /* GIL releases that woke a sleeper to read wake_ipi off */
/* 0, or -1 out of memory (the fit fails with GS_ENOMEM). */
int fit_wake_ipi(const struct gsr_recording *r, fscenario_t *f);
/* The description's sentence about it ("" without a calibration). */
const char *fit_wake_ipi_note(const fscenario_t *f, char *buf, size_t n);

/* ---- where a woken thread ran (wakeplace.c) ---------------------------- */

typedef enum fit_place_why {
    FIT_PLACE_NONE,      /* one core, or no CPython 3 GIL: nothing said */
    FIT_PLACE_FEW,       /* fewer than FIT_PLACE_MIN wakes to read: default, not said */
    FIT_PLACE_NO_REPLAY, /* the replays had fewer: default */
    FIT_PLACE_FAILED,    /* a replay run failed: default */
    FIT_PLACE_FITTED     /* place_pct chosen (written when above 0) */
} fit_place_why_t;
#define FIT_PLACE_MIN 100 /* lock wakes by a GIL holder to read the placement off */
#define FIT_PLACE_MIN_LOCK 50 /* ... once that many are a Lock's hand-offs (--lock-race) */

/* machine.wake_affine read off the recording's lock wakes, by running the
 * fitted scenario f (after fit_load). 0, or -1 out of memory. */
int fit_wake_place(const struct gsr_recording *r, fscenario_t *f);
/* The replay's side of it: trace t's counted wakes, beside their waker or
 * not, with the cuts of an idle wake-up of wake_ns, read by timing or
 * (by_core) by the woken thread's core against its waker's (tests). */
struct gs_trace;
void fit_place_count_replay(const struct gs_trace *t, int64_t wake_ns, bool by_core,
                            int64_t *beside, int64_t *away);
/* ... with locks, a Lock's hand-offs too (--lock-race), always by the cores. */
void fit_place_count_replay_locks(const struct gs_trace *t, int64_t wake_ns, bool by_core,
                                  bool locks, int64_t *beside, int64_t *away);
/* Its sentence for the description ("" none). */
const char *fit_wake_place_note(const fscenario_t *f, char *buf, size_t n);

/* ---- who takes the GIL a Thread.start drops (startdrop.c) --------------- */

/* The recording's starts beside a thread waiting for the GIL: *n_new won by
 * the new thread, *n_old by that waiter. */
void fit_start_drops(const struct gsr_recording *r, int *n_new, int *n_old);
/* Whether those counts follow machine.behind_new_thread (the description
 * says so; the fit does not write it). */
bool fit_behind_new_thread(int n_new, int n_old);

/* ---- the race between a drop request and the drop (race.c) ------------- */

typedef enum fit_race_why {
    FIT_RACE_NONE,      /* no CPython 3 GIL recorded: nothing said */
    FIT_RACE_FEW,       /* fewer than FIT_RACE_MIN drops in the recording: default */
    FIT_RACE_NO_REPLAY, /* ... in the replay at 0 or at 1: default */
    FIT_RACE_FAILED,    /* a replay run failed: default */
    FIT_RACE_FITTED     /* rf_pct written */
} fit_race_why_t;
#define FIT_RACE_MIN 20 /* forced drops with two or more waiters to read the race off */

/* machine.requester_first read off the recording's forced drops, by running
 * the fitted scenario f (after fit_load: the replay the user sees), and the
 * idle depth of the requesters' CPUs at those drops; with a shape in o
 * (--race-shape), the curve through it. 0, or -1 out of memory (the fit
 * fails with GS_ENOMEM). */
struct gs_fit_opts;
int fit_race(const struct gsr_recording *r, fscenario_t *f, const struct gs_fit_opts *o);

/* racecurve.c: how long each drop request's CPU had idled, from the
 * recording alone, into *out (malloc'd), indexed by fit_ev_index: the
 * time since a thread of the program other than the GIL's holder last ran
 * (the requester's own last run included; a thread in a C call releasing
 * the GIL runs all along), 0 with one CPU (the holder's). 0, or -1 out of
 * memory. */
int fit_request_depths(const struct gsr_recording *r, int64_t **out);
size_t fit_ev_index(const struct gsr_recording *r, int thread, size_t k);
typedef enum fit_rf_shape_why {
    FIT_SHAPE_NONE,   /* no shape given: requester_first alone */
    FIT_SHAPE_CURVE,  /* the curve written */
    FIT_SHAPE_FLAT,   /* the shape is 0 at the recording's depth: nothing to scale */
    FIT_SHAPE_UNFIT   /* given, but no race was fitted */
} fit_rf_shape_why_t;
/* The curve of o's shape through pct/100 at f->race_depth_ns into xs,
 * ys (hundredths), its points returned; 0 without a shape, a depth, or a
 * chance at the depth. The replays run it at each level tried. */
int fit_race_points(const fscenario_t *f, const struct gs_fit_opts *o, int pct, int64_t *xs,
                    int64_t *ys);
/* The curve written: through the level fitted (rf_pct), and why not. */
void fit_race_curve(fscenario_t *f, const struct gs_fit_opts *o);
/* requester_first, and requester_first_idle when a curve was made, into
 * the machine block (a cJSON *). */
void fit_race_json(void *mach, const fscenario_t *f);
/* The description's words on the depth and the curve ("" none). */
const char *fit_race_curve_note(const fscenario_t *f, char *buf, size_t n);
/* Its sentence for the description ("" none). */
const char *fit_race_note(const fscenario_t *f, char *buf, size_t n);

/* The scenario text of f, for the recording r (a gsr_recording_t). 0 with
 * *json, *len, or -1 (out of memory). */
int fit_emit(const struct gsr_recording *r, const fscenario_t *f, char **json, size_t *len);
/* f as the engine's model, loaded from its scenario text (the fit replays
 * it to size the other load and to read the race): 0 with *m, or -1 (out
 * of memory, or a text the loader refuses; name is its source name). */
int fit_model(const struct gsr_recording *r, const fscenario_t *f, const char *name,
              struct gs_model **m);

#endif
