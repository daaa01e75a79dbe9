/* record.h - recordings of real Python programs (`gilsim record`).
 *
 * gs_record_run() runs a program under a real CPython with the gilsim shim
 * preloaded, and writes a recording: a JSON file holding, per real thread,
 * every GIL request, acquisition and release with its reason, the drop
 * requests, signals, and the named calls (time.sleep, socket I/O, locks,
 * queues...) with CLOCK_MONOTONIC nanosecond times (docs/recording.md).
 * gs_recording_load() turns a recording into a model (its threads, the
 * host's cores, the recorded switch interval) and a trace in gilsim's own
 * terms, so every exporter, the summary and the viewer work on it. */
#ifndef GILSIM_RECORD_H
#define GILSIM_RECORD_H

#include <stdbool.h>
#include <stdint.h>

#include "common.h"
#include "model.h"
#include "trace.h"

#define GS_RECORDING_FORMAT "gilsim-recording"
#define GS_RECORDING_VERSION 1

typedef struct gs_record_opts {
    const char *python;   /* interpreter to run; NULL = "python3" on PATH */
    const char *out;      /* recording file (written atomically) */
    bool module;          /* target is a module name (-m) */
    const char *target;   /* script path or module name */
    char **args;          /* the program's arguments */
    int n_args;
    int64_t max_bytes;    /* event memory budget; 0 = 256 MiB */
    bool verbose;         /* say what is being done on stderr */
    bool calls_all;       /* name every C call with a profile function (slows
                             call-heavy code 2-4x); default: wrap the known
                             blocking and GIL-releasing calls only */
    int64_t switch_interval_ns; /* > 0: sys.setswitchinterval() before the program
                                   runs (CPython keeps whole microseconds);
                                   0 = the interpreter's own (5 ms) */
} gs_record_opts_t;

/* Outcome of gs_record_run. */
typedef struct gs_record_result {
    int exit_status;     /* the program's: exit code, or 128 + signal */
    bool partial;        /* interrupted, out of budget or killed: the file says why */
    bool written;        /* the recording file was written */
    int64_t n_events;
} gs_record_result_t;

/* Exit statuses of `gilsim record` when the recorder itself fails (the
 * program's own status is passed through otherwise), as env(1) does. */
enum { GS_RECORD_EFAIL = 125, GS_RECORD_ENOEXEC = 126, GS_RECORD_ENOENT = 127 };

/* Runs the program and writes o->out. Returns 0 when the program ran and
 * the recording was written (res says how the program ended), or one of the
 * GS_RECORD_E* statuses with err->msg saying what was wrong and what to do. */
GS_API int gs_record_run(const gs_record_opts_t *o, gs_record_result_t *res, gs_error_t *err);

/* True if path starts like a recording (cheap; reads the first bytes). */
GS_API bool gs_recording_sniff(const char *path);

/* Loads a recording: *m (threads, host cores, switch interval, name and
 * description) and *t (its trace, finished; outcome "done", or "horizon"
 * with the reason in its message for a partial recording). 0, or GS_EIO /
 * GS_ESYNTAX / GS_ESCENARIO / GS_ENOMEM with err naming the file and the
 * JSON path of the problem. */
GS_API int gs_recording_load(const char *path, gs_model_t **m, gs_trace_t **t, gs_error_t *err);

#endif
