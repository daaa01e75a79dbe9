/* recfile_int.h - a recording file as plain data, for the fitter (sim/fit).
 *
 * gsr_recording_read() parses a recording (docs/recording.md, "The
 * recording file") with the same checks as gs_recording_load() (one parser:
 * gsr_parse_file) and keeps every event as it was written: no state is
 * derived, no span is inferred. Layer-private to record and the layers that
 * use it directly (docs/internals.md). */
#ifndef GILSIM_RECFILE_INT_H
#define GILSIM_RECFILE_INT_H

#include <stdbool.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "gilsim/common.h"
#include "gilsim/model.h" /* GS_WAKE_CURVE_MAX */

/* Reads path, parses it and checks format, version and threads. 0 with *root
 * (free with cJSON_Delete), or GS_EIO / GS_ESYNTAX / GS_ESCENARIO with err
 * saying what is wrong (a truncated file, a newer format, not a recording). */
int gsr_parse_file(const char *path, cJSON **root, gs_error_t *err);

/* Fills err (code, JSON path, message) about a recording and returns code:
 * the one error setter of the recording's readers (recfile.c, recording.c). */
int gsr_bad(gs_error_t *err, int code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

typedef enum gsr_ev_kind {
    GSR_START, GSR_END, GSR_ASK, GSR_HOLD, GSR_RELEASE, GSR_DROP_REQUEST, GSR_TIMEOUT,
    GSR_WOKEN, GSR_FUTILE, GSR_SIGNAL, GSR_SWITCH_WAIT, GSR_SWITCH_DONE,
    GSR_CALL,      /* span: a named C call or wrapped callable */
    GSR_WAIT,      /* span: a Python-level blocking API (Queue.get, Thread.join) */
    GSR_LOCK_WAIT, /* span: blocked on a Python lock's semaphore */
    GSR_PY,        /* span: Python inside the enclosing call */
    GSR_LOCK_POST, /* a release of a Python lock's semaphore that woke a waiter */
    GSR_OTHER      /* a kind this reader does not know: kept, ignored */
} gsr_ev_kind_t;

typedef enum gsr_why { GSR_WHY_NONE, GSR_WHY_FORCED, GSR_WHY_CALL, GSR_WHY_EXIT,
                       GSR_WHY_UNNAMED } gsr_why_t;

/* Span categories, as written: "c", "sleep", "io", "lock", "event", "queue",
 * "join", "c_nogil". */
typedef enum gsr_cat { GSR_CAT_C, GSR_CAT_SLEEP, GSR_CAT_IO, GSR_CAT_LOCK, GSR_CAT_EVENT,
                       GSR_CAT_QUEUE, GSR_CAT_JOIN, GSR_CAT_C_NOGIL } gsr_cat_t;

typedef struct gsr_event {
    int64_t t;        /* ns from the start of the recording */
    int64_t t1;       /* a span's end; t for a point */
    uint8_t kind;     /* gsr_ev_kind_t */
    uint8_t why;      /* release: gsr_why_t */
    uint8_t cat;      /* span (call, wait): gsr_cat_t */
    bool released;    /* call: the call released the GIL (true when not written) */
    int32_t arg;      /* signal: the woken thread's index, or -1; call: for the
                         first True of a poll (Event.is_set), the polls of the
                         same event that returned False before it in the
                         thread, -1 when not written */
    uint64_t obj;     /* call, wait: the object called on; lock_wait, lock_post: the
                         semaphore; its address, 0 if unknown (or not written:
                         recordings made before the field existed) */
    const char *name; /* call, wait: the callable's name (owned by the recording); else NULL */
    int32_t cpu;      /* the CPU it ran on (a span: its end), -1 if not written: a kind
                         that has none (call, py), or recorded before CPUs were */
} gsr_event_t;

typedef struct gsr_thread {
    char *name;          /* the threading name, as written */
    int64_t tid;
    bool from_threading;
    int64_t os_cpu_ns;   /* the kernel's CPU time of the thread (its schedstat, read as
                            it ended or as the process exited), else -1 */
    int64_t os_run_delay_ns; /* its time runnable without a core, else -1 */
    gsr_event_t *ev;     /* in file order (sorted by t as written) */
    size_t n_ev;
} gsr_thread_t;

typedef struct gsr_recording {
    char *path;
    bool partial;
    char *partial_reason;    /* "" when not partial */
    char *recorded_at;       /* UTC, or "" */
    char *command;           /* the argv, joined by spaces */
    char *script;            /* the script or module's base name, or "" */
    char *executable;        /* the interpreter, or "" */
    char *full_version;      /* sys.version, or "" */
    int py_major, py_minor;  /* 0 when not written */
    bool gil_disabled;
    int exit_status, exit_signal;
    int cores;               /* host cores; 0 when not written */
    int cores_online;        /* the machine's CPUs (cores < this: recorded under
                                CPU affinity, taskset); 0 when not written */
    int64_t switch_interval_ns; /* 0 when not written */
    int64_t duration_ns;
    int64_t others_cpu_ns;   /* CPU time other programs used meanwhile; -1 when not written */
    bool calls_all;          /* "calls": "all" */
    int threads_not_from_threading, forks, child_processes;
    bool has_calibration;    /* "calibration" was written (gilsim record measures it) */
    int64_t cal_syscall_ns, cal_wake_hot_ns, cal_context_switch_ns, cal_wake_cold_ns,
        cal_timer_jitter_ns;
    int64_t cal_timer_arm_ns; /* calibration.timer_arm_ns; -1 when not written (recorded
                                 before it was measured, or not measurable) */
    int64_t cal_eevdf_slice_ns; /* calibration.eevdf_slice_ns, the kernel's EEVDF base slice
                                   as read at record time; 0 when not written (an older
                                   kernel or recorder) */
    int n_cal_wake_idle; /* points of calibration.wake_idle_ns; 0 when not written */
    int64_t cal_wake_idle_depth_ns[GS_WAKE_CURVE_MAX]; /* how long the CPU had idled */
    int64_t cal_wake_idle_ns[GS_WAKE_CURVE_MAX];       /* the wake-up latency then */
    char **notes;
    int n_notes;
    gsr_thread_t *threads;
    int n_threads;
    bool has_cpu;            /* some event says its CPU; false for recordings made before
                                gilsim record wrote them (every cpu -1): a reader that
                                needs them says so rather than guess */
    char **names;            /* interned span names */
    int n_names, cap_names;
} gsr_recording_t;

/* Reads a recording. 0 with *out (free with gsr_recording_free), or an error
 * as gsr_parse_file's, or GS_ESCENARIO naming the JSON path of a malformed
 * event, or GS_ENOMEM. */
int gsr_recording_read(const char *path, gsr_recording_t **out, gs_error_t *err);
void gsr_recording_free(gsr_recording_t *r);
/* The index of th's first event stamped at or after t (th->n_ev if none);
 * the events are in time order. O(log events). */
size_t gsr_first_event_at(const gsr_thread_t *th, int64_t t);

#endif
