/* scenario_int.h - the scenario loader's private interface (library-private).
 *
 * The loader is split by concept: scenario.c (entry points, syntax errors,
 * overrides, printing), scenario_util.c (paths, errors, names, durations,
 * typed getters), scenario_build.c (the format: settings, sync objects,
 * processes, the top level), scenario_threads.c (threads and their
 * programs' copies), scenario_ops.c (programs). Tests include this header to check the pieces. */
#ifndef GILSIM_SCENARIO_INT_H
#define GILSIM_SCENARIO_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "gilsim/model.h"
#include "gilsim/scenario.h"
#include "gilsim/units.h"

/* ---- limits (docs/scenarios.md "Limits") -------------------------------- */
#define GS_SCEN_MAX_BYTES (4 * 1024 * 1024) /* file size */
#define GS_SCEN_MAX_JSON_DEPTH 64           /* nested [ and { */
#define GS_SCEN_MAX_REPEAT_DEPTH 16         /* repeat inside repeat */
#define GS_SCEN_MAX_THREADS 50000           /* after count expansion */
#define GS_SCEN_MAX_OP_NODES 1000000        /* ops in memory, all copies */
#define GS_SCEN_MAX_ITEMS 10000             /* locks, events, queues, annotations: each */
#define GS_SCEN_MAX_OWN_INTERP 1024         /* threads with "interpreter": "own" */
#define GS_SCEN_MAX_PICKLE INT64_C(1000000000000) /* bytes in a pickle op */
#define GS_SCEN_MAX_NAME 64                 /* bytes in a thread/lock/... name */
#define GS_SCEN_MAX_TITLE 200               /* name of the scenario */
#define GS_SCEN_MAX_TEXT 4000               /* annotation text (description: scenario.h) */
#define GS_SCEN_MAX_REPEAT INT64_C(1000000000000)
#define GS_SCEN_PROCESS_CREATE_NS INT64_C(10000000) /* default process start-up: 10 ms */

/* ---- input and strict JSON (scenario_strict.c) --------------------------- */
/* Reads a regular file, or standard input for "-", into a NUL-terminated
 * buffer (at most GS_SCEN_MAX_BYTES + 1 bytes). 0, or GS_EIO/GS_ENOMEM with
 * why ("this is a directory; a scenario must be a regular file ..."). */
int gs__scen_read_input(const char *path, char **out, size_t *len, char *why, size_t n);
/* The offset of the first thing RFC 8259 forbids that cJSON accepts (leading
 * zeros, raw control characters, NUL, invalid UTF-8, lone surrogates,
 * \u0000, UTF-16, a lone BOM), with msg; SIZE_MAX when there is none. */
size_t gs__scen_check_strict(const char *text, size_t len, char *msg, size_t n);

/* ---- names: string -> index, open addressing ---------------------------- */
typedef struct gs__names {
    const char **key; /* not owned: the model's strings */
    int *val;
    size_t cap, n;
} gs__names_t;

void gs__names_destroy(gs__names_t *t);
/* -1 if absent. */
int gs__names_get(const gs__names_t *t, const char *key);
/* 0, 1 if already present (not replaced), GS_ENOMEM. */
int gs__names_put(gs__names_t *t, const char *key, int val);

/* ---- the loader's state ------------------------------------------------- */
typedef struct gs__decl { /* one entry of a "threads" array */
    const cJSON *item;
    int first, count; /* threads[first .. first+count) */
    bool has_count;   /* names are name-1..name-N */
    bool own_interp;  /* "interpreter": "own": each thread in a process of its own,
                         its program opened by the interpreter's creation */
    char path[64];    /* "threads[1]" or "processes[0].threads[2]" */
} gs__decl_t;

typedef struct gs__scen {
    const char *file; /* for messages */
    gs_diag_t *diag;
    gs_model_t *m;
    char path[512]; /* JSON path of what is being read */
    size_t path_len;
    bool nomem;
    int64_t n_op_nodes; /* ops in memory so far */
    gs__names_t locks, events, queues, threads, procs;
    gs__names_t bases;  /* base names of declarations with count -> decl index */
    gs__decl_t *decls;
    int n_decls;
    bool *started;      /* per thread: some start op names it */
    int cur_decl;       /* declaration whose program is being read */
    int repeat_depth;
    int n_own_interp;   /* threads given a process by "interpreter": "own" */
    size_t cap_threads, cap_labels; /* allocated items of m->threads, m->op_labels */
} gs__scen_t;

/* ---- paths and errors --------------------------------------------------- */
size_t gs__scen_push_key(gs__scen_t *ld, const char *key); /* returns the mark */
size_t gs__scen_push_index(gs__scen_t *ld, int i);
void gs__scen_pop(gs__scen_t *ld, size_t mark);
void gs__scen_diag_add(gs_diag_t *d, int code, const char *file, int line, int col,
                       const char *path, const char *msg);
/* A semantic error at the current path. */
void gs__scen_err(gs__scen_t *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* ---- small helpers ------------------------------------------------------ */
/* Levenshtein distance, ASCII case folded; large if either is long. */
int gs__scen_edit_distance(const char *a, const char *b);
/* The closest of cands (NULL-terminated, or n >= 0 entries) if close enough. */
const char *gs__scen_did_you_mean(const char *word, const char *const *cands, int n);
/* "a string \"x\"", "the number 5", "an array"... for "got ..." messages. */
void gs__scen_describe(const cJSON *v, char *buf, size_t n);

/* Durations are read by gs_parse_ns and written by gs_format_ns_exact
 * (gilsim/units.h, sim/base/units.c). A gs_dur_t (fixed or a range) as text: */
void gs__scen_fmt_dur(const gs_dur_t *d, char *buf, size_t n);

/* ---- typed getters: 1 present and valid, 0 absent, -1 error reported ----- */
/* Checks that every key of obj is in valid (NULL-terminated); reports unknown
 * keys (with a did-you-mean) and duplicates. Returns the number of errors. */
int gs__scen_check_keys(gs__scen_t *ld, const cJSON *obj, const char *const *valid);
bool gs__scen_expect_object(gs__scen_t *ld, const cJSON *v, const char *example);
bool gs__scen_expect_array(gs__scen_t *ld, const cJSON *v, const char *example);
int gs__scen_get_string(gs__scen_t *ld, const cJSON *obj, const char *key, size_t max,
                        const char **out);
int gs__scen_get_int(gs__scen_t *ld, const cJSON *obj, const char *key, int64_t lo, int64_t hi,
                     int64_t *out);
int gs__scen_get_bool(gs__scen_t *ld, const cJSON *obj, const char *key, bool *out);
int gs__scen_get_enum(gs__scen_t *ld, const cJSON *obj, const char *key,
                      const char *const *names, int *out);
/* A fixed duration >= lo (distributions are refused). */
int gs__scen_get_fixed(gs__scen_t *ld, const cJSON *obj, const char *key, int64_t lo,
                       int64_t *out);
/* A duration value v (string or distribution) at the current path. */
bool gs__scen_read_dur(gs__scen_t *ld, const cJSON *v, gs_dur_t *d);
/* A name (non-empty, <= GS_SCEN_MAX_NAME bytes, no control characters). */
bool gs__scen_check_name(gs__scen_t *ld, const cJSON *v);

/* ---- the format (scenario_build.c) -------------------------------------- */
/* Validates root and fills ld->m; errors go to ld->diag. */
void gs__scen_build(gs__scen_t *ld, const cJSON *root);

/* scenario_cpus.c: obj's "cpus" into *out (1), absent (0), error (-1,
 * reported); machine.cores must be read first. */
int gs__scen_read_cpus(gs__scen_t *ld, const cJSON *obj, gs_cpuset_t *out);

/* ---- threads (scenario_threads.c) ------------------------------------- */
/* Pass 1: the "threads" list of obj (the top level or a process), declared
 * in that process; errors reported. */
void gs__scen_declare_threads(gs__scen_t *ld, const cJSON *obj, int process);
/* Entries of every "threads" list of root: the size of ld->decls. */
int gs__scen_count_decls(const cJSON *root);
/* Pass 2: every declaration's program into its threads; then every thread
 * with "autostart": false must be named by a start op. */
void gs__scen_read_programs(gs__scen_t *ld);

/* ---- ops (scenario_ops.c) ---------------------------------------------- */
/* Reads a list of ops into a new array (also on error: the caller owns it). */
bool gs__scen_read_ops(gs__scen_t *ld, const cJSON *arr, gs_op_t **out, int *n_out);
/* Puts the interpreter's creation before a program of the current
 * declaration (one with "interpreter": "own"); false on OOM. */
bool gs__scen_prepend_create(gs__scen_t *ld, gs_op_t **ops, int *n);
/* scenario_ft.c: top-level "objects"; a cpu op's reads/writes/every and an
 * import's free_threading (false on error, reported). */
void gs__scen_read_objects(gs__scen_t *ld, const cJSON *root);
bool gs__scen_read_access(gs__scen_t *ld, const cJSON *v, gs_op_t *op);
int64_t gs__scen_count_nodes(const gs_op_t *ops, int n);
gs_op_t *gs__scen_copy_ops(const gs_op_t *src, int n); /* deep; NULL on OOM */

/* ---- overrides (scenario.c) --------------------------------------------- */
/* Applies one override to the tree; 0 or -1 with the reason in why. */
int gs__scen_apply_override(cJSON *root, const gs_override_t *o, char *why, size_t n);

#endif
