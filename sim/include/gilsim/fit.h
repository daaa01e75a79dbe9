/* fit.h - a scenario fitted to a recording (`gilsim fit`, `gilsim replay`).
 *
 * gs_fit_recording() reads a recording of a real Python program
 * (docs/recording.md) and writes an ordinary scenario file that reproduces
 * it: one scenario thread per real thread, names kept, whose program is the
 * ops the recording saw (Python work between two voluntary releases as one
 * `cpu` op, C calls, I/O and sleeps with their measured durations, queue
 * operations, thread starts and joins matched across threads), the host's
 * cores and the recorded switch interval and Python version. Repeated
 * patterns become `repeat` blocks with duration distributions unless
 * o->exact. What could not be fitted exactly is approximated and listed in
 * the scenario's description. docs/what-if.md walks through it. */
#ifndef GILSIM_FIT_H
#define GILSIM_FIT_H

#include <stdbool.h>
#include <stddef.h>

#include "common.h"
#include "model.h"

#define GS_FIT_SHAPE_MAX 8 /* points of --race-shape (machine.requester_first_idle's 8) */

typedef struct gs_fit_opts {
    bool exact;         /* keep every op, no repeat blocks */
    bool allow_partial; /* fit a partial recording (interrupted, out of
                           budget) as far as it goes instead of refusing it */
    bool raw_cpu;       /* keep every measured duration of Python work and C
                           calls, time without a core included, and fit no
                           other load; by default a thread's are scaled down
                           to the kernel's CPU time of it (the model adds the
                           time without a core itself) */
    bool no_load;       /* fit no other load: the program alone on the
                           machine (by default, the busy threads that other
                           programs kept beside it, from the kernel's run
                           delays, are a process "other load") */
    bool wake_curve;    /* give the machine the recording's wake-up curve
                           (calibration.wake_idle_ns) as machine.wakeup_idle;
                           off by default: on the same recordings it made the
                           replays no closer (docs/validation.md, "Replays",
                           point 11), and every wake-up then costs wake_hot */
    /* By default a socket send that woke its reader posts the reader's
     * queue itself, at the end of its C code off the GIL (c_call "posts",
     * sim/engine/cpost.c), as the kernel wakes the reader inside the send;
     * where the recording's reader won the GIL inside the send, a put op
     * just before the send instead (tests/reality/replay_notes.md, 36, 49). */
    bool send_put_after; /* instead a put op right after the send, where its
                           thread holds the GIL again (but where the reader
                           won): the wake-up then waits for the sender's GIL
                           (convoy.py --socket's replays 34 to 45% long) */
    bool send_put_before; /* instead a put op just before every send, holding
                           the GIL (the default until the posts): the reader
                           and the GIL's next waiter race for it */
    bool lock_race;     /* write a wait on a Lock (`with lock:`) as an acquire
                           of a declared Lock and every recorded release of
                           it as a release, so that who takes the Lock after
                           a release is the engine's race (who waits, who
                           has a core) instead of the recorded order
                           (sim/fit/lockrace.c); off by default */
    bool ipi_by_cpu;    /* read machine.wake_ipi only off wakes onto another, idle
                           CPU, by the recorded CPUs: GIL drops and Queue
                           notifies (sim/fit/ipi.c, idlecpu.c); off by default:
                           on the quiet records it lost 7 and 10 figures
                           (tests/reality/replay_notes.md, point 52) */
    bool sentinels;     /* consumers of a shared queue that ended on the
                           producer's last puts (its None sentinels) loop
                           until they get an end marker ("consume"), not a
                           recorded number of gets (sim/fit/sentinel.c); off
                           by default: the model's split of the items is
                           then lopsided on some fits (replay_notes.md, point 53) */
    int n_race_shape;   /* points of a shape for the race against the idle
                           depth of the requester's CPU (gilsim fit
                           --race-shape), 0 none: with one, a fitted race is
                           written as machine.requester_first_idle, the shape
                           scaled through the value read off the recording at
                           the depth its requesters had (sim/fit/racecurve.c);
                           off by default: docs/cli.md says what it did */
    int64_t race_shape_depth_ns[GS_FIT_SHAPE_MAX]; /* ascending */
    double race_shape[GS_FIT_SHAPE_MAX];           /* chances, 0 to 1 */
} gs_fit_opts_t;

/* The process a fit gives the machine's other load (its busy threads). */
#define GS_FIT_LOAD_PROCESS "other load"

/* The override that takes the fitted other load out of a scenario. */
#define GS_FIT_NO_LOAD_KEY "processes"
#define GS_FIT_NO_LOAD_VALUE "[]"

/* A what-if on a fitted scenario (gilsim replay --set, gilsim-view REC
 * --replay): m is the scenario loaded with the what-if's overrides. True
 * when it must run without the fitted other load: its policy is fifo, which
 * would give the load's never-blocking threads their cores to the end of the
 * run, where Linux's SCHED_FIFO outranks other programs. The caller then
 * loads it again with GS_FIT_NO_LOAD_KEY=GS_FIT_NO_LOAD_VALUE added and says
 * so (sim/fit/whatif.c). */
GS_API bool gs_fit_what_if_without_load(const gs_model_t *m);

/* Fits a scenario to the recording at rec_path (o may be NULL: defaults).
 * On success *json is a malloc'd, NUL-terminated scenario file text
 * (loadable with gs_scenario_load_string), *len its length; returns 0.
 * On failure returns GS_EIO, GS_ESYNTAX, GS_ESCENARIO or GS_ENOMEM, *json
 * is NULL and err says what is wrong with the recording (file, line:column
 * or JSON path, and what would be valid). */
GS_API int gs_fit_recording(const char *rec_path, const gs_fit_opts_t *o, char **json,
                            size_t *len, gs_error_t *err);

#endif
