/* sweep_int.h - what sweep.c (running) and sweep_rows.c (the CSV: columns,
 * rows, --resume) share. Private to sim/cli. */
#ifndef GILSIM_SWEEP_INT_H
#define GILSIM_SWEEP_INT_H

#include "cli.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

#define MAX_PARAMS 16

typedef struct param {
    char *key;
    char **vals;
    int n;
} param_t;

typedef struct row {
    char *line;         /* the CSV record without its newline, NULL until done */
    bool stopped;       /* the run did not finish normally */
    _Atomic bool ready; /* set (release) after line: the checkpoint may read it */
} row_t;

/* Where the rows go: checkpoints and the lock (sweep_out.c). */
typedef struct sweep_out {
    const char *path;
    bool files;       /* a regular or new file: checkpointed, locked */
    int lock_fd;      /* -1 without a lock */
    char *lock_path;
    double next_at;   /* the next checkpoint, seconds (now_s) */
} sweep_out_t;

typedef struct sweep {
    const char *file;  /* NULL: the built-in default */
    char *text;        /* the scenario, read once */
    size_t text_len;
    param_t params[MAX_PARAMS];
    int n_params;
    int seed_param;        /* index of a --set seed=..., or -1 */
    uint64_t *seed_vals;   /* its values' seeds */
    uint64_t base_seed;    /* the scenario's seed */
    char *title;           /* the scenario's name, for the chart */
    long long repeat, shard_k, shard_n, jobs, seed;
    bool have_seed;
    size_t budget; /* --memory-budget, 0 = the default */
    bool full_trace; /* GILSIM_SWEEP_FULL_TRACE=1: each run keeps its whole trace
                        and the metrics are computed from it afterwards, as
                        before the metrics-only runs (to measure or check them
                        against it; the rows are the same) */
    int64_t n_combos, total;
    row_t *rows;         /* per run */
    int64_t *todo, n_todo;
    double t_start; /* sweep_now_s() when cmd_sweep began, for the closing line */
    _Atomic int64_t next; /* index into todo of the next run to hand out */
    _Atomic bool abort;   /* a combination failed to load: stop every job */
    pthread_mutex_t load_mu; /* cJSON writes a global on every parse */
    gs_diag_t *bad;          /* load_mu: the first combination that failed */
    gs_model_t **combo_models; /* owned, n_combos of them, or NULL: each
                                  combination's model, kept from the check
                                  when it loads exactly those (one
                                  parameter); jobs run clones of them */
    int64_t bad_run;
    int n_jobs;
    pthread_mutex_t mu;   /* with cv: a job tells the main thread it ended */
    pthread_cond_t cv;
    int jobs_left;        /* mu */
    int n_cpus;
    sweep_out_t out;
} sweep_t;

/* The metric columns after the parameters (sweep_rows.c): "outcome", then
 * the run metrics of GS_METRIC_MAP (gilsim/stats.h). */
int sweep_n_metrics(void);
const char *sweep_metric_col(int k);
#define N_METRICS sweep_n_metrics()

int sweep_split_values(const char *s, param_t *p);
int sweep_csv_record(char **p, char **fields, int max, int *lines);
int sweep_csv_split(char *line, char **fields, int max);
int64_t sweep_combo_of(const sweep_t *w, int64_t run);
int sweep_value_index(const sweep_t *w, int64_t combo, int param);
uint64_t sweep_seed_of(const sweep_t *w, int64_t run);
void sweep_row_prefix(const sweep_t *w, int64_t run, FILE *f);
void sweep_header(const sweep_t *w, FILE *f);
/* --resume: take the rows of an earlier run of the same sweep from path. */
int sweep_load_existing(sweep_t *w, const char *path, int64_t *n_kept);

/* sweep_out.c: the lock on --out and the checkpoints. */
int sweep_out_begin(sweep_t *w, const char *path); /* the lock: EXIT_OK or why not, printed */
int sweep_out_checkpoint(sweep_t *w, bool force);  /* EXIT_OK or EXIT_IO, printed */
void sweep_out_end(sweep_t *w);
int sweep_write_rows(FILE *f, void *w);            /* the whole CSV as it stands */
double sweep_now_s(void);

#endif
