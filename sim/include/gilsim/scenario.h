/* scenario.h - JSON scenario files -> validated gs_model_t.
 *
 * Syntax errors say file:line:column; every other error names the JSON path
 * and what would be valid. All errors found are reported, up to GS_DIAG_MAX.
 * The format is documented in docs/scenarios.md and docs/scenario.schema.json.
 * This module uses cJSON; the engine does not. */
#ifndef GILSIM_SCENARIO_H
#define GILSIM_SCENARIO_H

#include <stddef.h>
#include <stdio.h>

#include "common.h"
#include "model.h"

#define GS_DIAG_MAX 20
/* The longest "description" a scenario file may have, in bytes: a fitted
 * scenario's (gilsim fit) tells its recording, machine, race, other load,
 * every thread and what was approximated. */
#define GS_SCEN_MAX_DESCRIPTION 16000

typedef struct gs_diag {
    int n;            /* errors stored in e */
    int n_total;      /* errors found (may exceed n) */
    gs_error_t e[GS_DIAG_MAX];
    char excerpt[160]; /* the source line of a syntax error (for the caret), or "" */
    int excerpt_col;   /* 0-based byte offset of the error in excerpt */
} gs_diag_t;

/* An override "python.switch_interval=1ms": a dotted path (with [i] for
 * arrays) and a value written as in the file (a bare word is taken as a
 * string, so "1ms" and cpython2 need no quotes; 4 and true are JSON). */
typedef struct gs_override {
    const char *key;
    const char *value;
} gs_override_t;

/* Splits "key=value" into o (pointing into s, which must outlive o).
 * 0 or GS_EINVAL. */
GS_API int gs_override_parse(char *s, gs_override_t *o);

/* Loads a file. On success *out is a new model (free with gs_model_free) and
 * 0 is returned; else *out is NULL, diag lists the errors, and the result is
 * GS_EIO, GS_ESYNTAX or GS_ESCENARIO. */
GS_API int gs_scenario_load_file(const char *path, const gs_override_t *ov, int n_ov,
                                 gs_model_t **out, gs_diag_t *diag);
/* The same from memory; name is used as the file name in messages. */
GS_API int gs_scenario_load_string(const char *name, const char *text, size_t len,
                                   const gs_override_t *ov, int n_ov, gs_model_t **out,
                                   gs_diag_t *diag);

/* Reads a scenario's bytes as gs_scenario_load_file does (a regular file,
 * or "-", /dev/stdin, /dev/fd/N; at most 4 MiB; never blocks on a FIFO),
 * for a caller that loads it many times (a sweep): *text is malloc'ed and
 * NUL-terminated. 0, or GS_EIO / GS_ENOMEM / GS_ESCENARIO (too large) with
 * the reason in diag. */
GS_API int gs_scenario_read_file(const char *path, char **text, size_t *len, gs_diag_t *diag);

/* The built-in default scenario (the convoy effect lesson), as JSON text. */
GS_API const char *gs_scenario_default_json(void);

/* Writes every error, one per line, in "file:line:col: path: msg" form with the
 * offending line and a caret for syntax errors. */
GS_API void gs_diag_print(const gs_diag_t *d, FILE *out);

#endif
