/* fitutil.h - what the fit suites share: fitting a recording, or failing
 * the test with the fit's error, and replaying the fitted scenario to its
 * summary. */
#ifndef GILSIM_FITUTIL_H
#define GILSIM_FITUTIL_H

#include <cjson/cJSON.h>

#include "testutil.h" /* gilsim.h: the fit, the scenario loader, the summary */

/* The scenario gs_fit_recording writes for path under o (owned by the
 * caller); a fit that fails fails the test, naming its error. */
char *fu_fit(const char *path, gs_fit_opts_t o);

/* A fitted scenario run to its end: its summary borrows the trace's
 * thread names, so the three live and go together (fu_replay_free). */
typedef struct {
    gs_model_t *model;
    gs_trace_t *trace;
    gs_stats_t stats;
} fu_replay_t;

/* Loads json, runs it (tu_run: the invariants hold, the run ends as done)
 * and computes its summary into r. */
void fu_replay(const char *json, fu_replay_t *r);
void fu_replay_free(fu_replay_t *r);

/* The summary of the thread named name (the test fails if there is none). */
const gs_thread_stats_t *fu_thread(const fu_replay_t *r, const char *name);

/* The program of the fitted scenario's thread named name (root: the parsed
 * scenario; the test fails if there is none). */
const cJSON *fu_program(const cJSON *root, const char *name);

/* Writes a one-thread recording of `python3 script` to path (a mkstemp
 * template, filled in): calibration is the calibration object's members
 * (JSON, without braces), events the thread's events (JSON, without the
 * brackets). Interval 5 ms, 2 cores, Python 3.11, not partial. */
void fu_write_one_thread(char *path, const char *script, const char *calibration,
                         long long duration_ns, const char *thread, const char *events);

#endif
