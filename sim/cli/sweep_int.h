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
    char *line;   /* the CSV line without newline, NULL until done */
    bool stopped; /* the run did not finish normally */
} row_t;

typedef struct sweep {
    const char *file;
    param_t params[MAX_PARAMS];
    int n_params;
    long long repeat, shard_k, shard_n, jobs, seed;
    bool have_seed;
    size_t budget; /* --memory-budget, 0 = the default */
    int64_t n_combos, total;
    gs_model_t **models; /* per combination, only those in the shard */
    row_t *rows;         /* per run */
    int64_t *todo, n_todo;
    _Atomic int64_t next; /* index into todo of the next run to hand out */
    int n_jobs;
    pthread_mutex_t mu;   /* with cv: a job tells the main thread it ended */
    pthread_cond_t cv;
    int jobs_left;        /* mu */
    int n_cpus;
} sweep_t;

/* The metric columns after the parameters: keep in step with docs/batch.md. */
extern const char *const sweep_metric_cols[];
extern const int sweep_n_metrics;
#define N_METRICS sweep_n_metrics

int sweep_split_values(const char *s, param_t *p);
int sweep_csv_split(char *line, char **fields, int max);
int64_t sweep_combo_of(const sweep_t *w, int64_t run);
int sweep_value_index(const sweep_t *w, int64_t combo, int param);
uint64_t sweep_seed_of(const sweep_t *w, int64_t run);
void sweep_row_prefix(const sweep_t *w, int64_t run, FILE *f);
void sweep_header(const sweep_t *w, FILE *f);
/* --resume: take the rows of an earlier run of the same sweep from path. */
int sweep_load_existing(sweep_t *w, const char *path, int64_t *n_kept);

#endif
