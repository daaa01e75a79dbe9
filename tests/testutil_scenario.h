/* testutil_scenario.h - loading scenarios and lessons, running them and
 * reading their metrics, for the suites that test through the loader.
 *
 * Apart from testutil.h because testutil.c is also linked into the suites
 * that must link only the engine and base layers (check_engine,
 * check_models: docs/internals.md, "Layers"); these helpers call the
 * scenario layer. This header defines no unit macros, so a suite with its
 * own (check_lessons' MS constant) can include it. */
#ifndef GILSIM_TESTUTIL_SCENARIO_H
#define GILSIM_TESTUTIL_SCENARIO_H

#include <check.h>
#include <stddef.h>

#include "gilsim/gilsim.h"

#define TU_MAX_SETS 8 /* --set overrides tu_load takes */

/* $GILSIM_SOURCE_DIR/rel (ctest sets it; "." without it) into buf; returns buf. */
const char *tu_source_path(const char *rel, char *buf, size_t n);

/* Loads a scenario, as gilsim run FILE --set ... does: the file at path,
 * or text if it is not NULL (path then names it in messages), with the
 * n_sets "KEY=VALUE" overrides sets (NULL when n_sets is 0). Returns the
 * model; if it does not load, NULL with *d saying why, or, when d is NULL,
 * the test fails printing the errors. */
gs_model_t *tu_load(const char *path, const char *text, const char *const *sets, int n_sets,
                    gs_diag_t *d);
/* scenarios/FILE with the overrides; the test fails if it does not load. */
gs_model_t *tu_load_lesson(const char *file, const char *const *sets, int n_sets);

/* A run of a model and its metrics. */
typedef struct tu_result {
    gs_model_t *m; /* owned */
    gs_trace_t *t; /* owned */
    gs_stats_t s;
    int rc; /* gs_sim_run's result */
} tu_result_t;

/* Runs m (taking ownership) into r, checks the trace's invariants and
 * computes the metrics; what names the run in a failure. A run that stops
 * early is returned too (see r->rc and r->s.outcome). */
void tu_run_stats(tu_result_t *r, gs_model_t *m, const char *what);
/* tu_load_lesson and tu_run_stats. */
void tu_run_lesson(tu_result_t *r, const char *file, const char *const *sets, int n_sets);
void tu_result_free(tu_result_t *r);

/* The lessons: the names of the .json files in scenarios/, sorted, at
 * most max of them; returns how many. */
#define TU_NAME_MAX 128
int tu_list_lessons(char names[][TU_NAME_MAX], int max);

/* Calls fn(path, name, ctx) for every file of the folders dirs (relative to
 * the source tree) whose name ends in suffix; returns how many. The test
 * fails if a folder cannot be opened. */
typedef void (*tu_file_fn)(const char *path, const char *name, void *ctx);
int tu_each_file(const char *const *dirs, int n_dirs, const char *suffix, tu_file_fn fn,
                 void *ctx);

/* The index of the thread named name; the test fails if there is none. */
int tu_thread_by_name(const gs_trace_t *t, const char *name);

#endif
