/* recorder_int.h - what the pieces of `gilsim record` share (layer-private).
 *
 * gs_record_run (recorder.c) runs the program; the steps it calls live by
 * concept:
 *   interpreter.c  ask the interpreter what it is; find the shim, boot.py
 *                  and the probe sources; compile the probe (cached)
 *   spool.c        create the event spool; read it back, per thread, in
 *                  time order
 *   writer.c       the recording file: header, notes, threads, each
 *                  thread's events with release reasons and signal targets
 * Nothing here is shared with the recording's loader (recording.c). */
#ifndef GILSIM_RECORDER_INT_H
#define GILSIM_RECORDER_INT_H

#include "gilsim/record.h"
#include "record_int.h"
#include "spool.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <time.h>

#include <cjson/cJSON.h>

/* Fills err->msg from fmt (err->code GS_EINVAL) and returns code, one of
 * the GS_RECORD_E* exit statuses. */
int gsr_fail(gs_error_t *err, int code, const char *fmt, ...) __attribute__((format(printf, 3, 4)));

/* ---- interpreter.c -------------------------------------------------------- */

/* What the interpreter said about itself; the strings point into json. */
typedef struct gsr_pyinfo {
    cJSON *json; /* the interpreter's answer (owned; cJSON_Delete it) */
    const char *exe, *include, *impl, *full;
    int major, minor, micro;
    bool gil_disabled;
} gsr_pyinfo_t;

/* Runs `python` to learn what it is, and refuses what the probe cannot read
 * (not CPython, older than 3.8, free-threaded, no executable path). On
 * failure pi->json may still need freeing. */
int gsr_query_python(const char *python, gsr_pyinfo_t *pi, gs_error_t *err);
/* The folder holding probe.c and boot.py (GILSIM_RECORD_DATA, else the
 * source tree's, else the installed one). */
const char *gsr_data_dir(void);
/* The shim library (GILSIM_RECORD_SHIM, else the build's, else installed). */
const char *gsr_shim_path(void);
/* Writes the path of the probe compiled for pi into out, compiling it into
 * the cache first if it is not there yet. */
int gsr_build_probe(const gsr_pyinfo_t *pi, bool verbose, char *out, size_t n_out,
                    gs_error_t *err);
/* true if p names a readable file. */
bool gsr_readable(const char *p);

/* ---- spool.c -------------------------------------------------------------- */

typedef struct gsr_rev { /* a raw event and the order it was written in */
    gsr_event_t e;
    uint32_t seq;
} gsr_rev_t;

typedef struct gsr_rthread { /* one spool slot: a thread's events */
    int32_t tid;
    uint32_t name; /* string id of its last name, 0 if never named */
    gsr_rev_t *ev; /* sorted by time, then write order (owned) */
    size_t n, cap;
} gsr_rthread_t;

typedef struct gsr_spool { /* the spool as read back */
    void *map; /* the whole file, mapped read-only */
    size_t size;
    const gsr_hdr_t *h;
    char **str; /* by id, into map (the array is owned) */
    uint32_t n_str;
    gsr_rthread_t *th; /* by slot (owned) */
    uint32_t n_th;
    int64_t n_events;
} gsr_spool_t;

/* Creates the spool file in path, its size at most *budget bytes of events
 * (cut to half the free space there, written back to *budget). */
int gsr_make_spool(int64_t *budget, char *path, size_t n_path, gs_error_t *err);
/* Maps the spool at path and sorts each thread's events. On failure s may
 * hold part of it: gsr_free_spool it either way. */
int gsr_read_spool(const char *path, gsr_spool_t *s, gs_error_t *err);
void gsr_free_spool(gsr_spool_t *s);

/* ---- writer.c ------------------------------------------------------------- */

typedef struct gsr_writer { /* everything the recording file says */
    const gsr_spool_t *s;
    const gsr_pyinfo_t *pi;
    const gs_record_opts_t *o;
    int64_t t0, t_end; /* CLOCK_MONOTONIC: the probe registered; the program ended */
    int64_t others_ns; /* CPU time the machine's other programs used meanwhile, -1: unknown */
    int64_t others_window_ns; /* the span others_ns was counted over (fork to end) */
    int exit_status, exit_signal;
    const char *partial; /* NULL, or why */
    time_t started;      /* wall clock, for recorded_at */
    int64_t *requests;   /* every drop request time, sorted (owned by the caller) */
    size_t n_requests;
    const gsr_calib_t *calib; /* the host's costs, or NULL */
} gsr_writer_t;

/* Fills w->requests with every thread's drop request times, sorted (left
 * NULL when out of memory: no release is then called forced). */
void gsr_collect_requests(gsr_writer_t *w);
/* The whole recording file (a gs_export_file writer; ctx is a gsr_writer_t). */
int gsr_write_recording(FILE *f, void *ctx);

#endif
