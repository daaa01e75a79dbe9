/* cli.h - the gilsim command's shared pieces (private to sim/cli).
 *
 * main.c dispatches to one cmd_* per subcommand. Each returns an exit code:
 * 0 ok, 1 invalid scenario or usage, 2 simulation stopped (deadlock, limit,
 * error in a thread body), 3 I/O error, 130 interrupted (sweep). Results go
 * to stdout, errors and progress to stderr. */
#ifndef GILSIM_CLI_H
#define GILSIM_CLI_H

#include <stdbool.h>
#include <stdio.h>

#include "gilsim/gilsim.h"
#include "gilsim/export.h"

/* The exit statuses, by their short names here; the values and the mapping
 * from library errors are gs_exit_t and gs_exit_status (gilsim/common.h). */
enum {
    EXIT_OK = GS_EXIT_OK,
    EXIT_USAGE = GS_EXIT_USAGE,
    EXIT_STOPPED = GS_EXIT_STOPPED,
    EXIT_IO = GS_EXIT_IO,
    EXIT_INTERRUPTED = GS_EXIT_INTERRUPTED
};

/* ---- options ------------------------------------------------------------ */
typedef struct cli_opt {
    const char *name; /* "--seed" */
    bool has_arg;
} cli_opt_t;

typedef struct cli_args {
    const char *cmd;          /* "run" */
    const cli_opt_t *opts;
    int n_opts;
    int argc;
    char **argv;
    int i;                    /* next argv index */
    bool no_more_opts;        /* after "--" */
} cli_args_t;

/* Next item: returns 1 with *opt set (and *val for options taking one), 2
 * with *val for a positional argument, 0 at the end, -1 after printing a
 * usage error that names the bad flag. */
int cli_next(cli_args_t *a, const cli_opt_t **opt, const char **val);
int cli_usage_error(const char *cmd, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void cli_print_usage(const char *cmd, FILE *out);
int cli_help(const char *cmd, FILE *out); /* 0, or 1 for an unknown command */

bool cli_parse_i64(const char *s, long long min, long long max, long long *out);
/* --memory-budget SIZE into *out, or a usage error (returns EXIT_USAGE). */
int cli_parse_budget(const char *cmd, const char *v, size_t *out);

/* The options run and explain share. --set: v parsed into ov[*n] (at most
 * CLI_MAX_SET); FILE: the one positional argument. 0, or the usage error's
 * exit status (reported). */
#define CLI_MAX_SET 64
int cli_add_set(const char *cmd, const char *v, gs_override_t *ov, int *n);
int cli_set_file(const char *cmd, const char **file, const char *v);
bool cli_color(FILE *f);  /* a terminal, and NO_COLOR not set */

/* ---- scenario loading shared by run and sweep --------------------------- */
/* Loads FILE (or the built-in default when file is NULL) with overrides.
 * On failure prints the diagnostics and returns 1 (invalid) or 3 (I/O, out
 * of memory). */
int cli_load(const char *file, const gs_override_t *ov, int n_ov, gs_model_t **out);
/* gs_export_file(path, fn, ctx); on failure prints "gilsim CMD: FLAG <why>"
 * and returns EXIT_IO, else EXIT_OK. */
int cli_write(const char *cmd, const char *flag, const char *path, gs_export_fn fn, void *ctx);
/* The same without the fsync (gs_export_file_nosync): for a file a crash may lose. */
int cli_write_nosync(const char *cmd, const char *flag, const char *path, gs_export_fn fn,
                     void *ctx);
const char *cli_source_name(const char *file);
/* How cli_simulate runs: seed >= 0 replaces the scenario's; budget > 0 is
 * --memory-budget (0: the default). A run also stops at SIGINT/SIGTERM when
 * the command called cli_signals_begin. */
typedef struct cli_sim_opts {
    long long seed;
    size_t budget;
} cli_sim_opts_t;
/* Runs model m (its seed may be changed) as so says, then (when s is not
 * NULL) its metrics. 0 with *t set (also for a run that stopped early: see
 * the outcome), or an exit status after printing why, naming src. The one
 * place every command simulates: run, explain, exercise, replay. */
int cli_simulate_model(const char *cmd, const char *src, gs_model_t *m,
                       const cli_sim_opts_t *so, gs_trace_t **t, gs_stats_t *s);
/* cli_load, then cli_simulate_model. */
int cli_simulate(const char *cmd, const char *file, const gs_override_t *ov, int n_ov,
                 const cli_sim_opts_t *so, gs_trace_t **t, gs_stats_t *s);

/* An output flag and its path, for cli_check_paths. */
typedef struct cli_path {
    const char *flag; /* "--csv" */
    const char *path; /* NULL when not given */
} cli_path_t;
/* Refuses, before anything runs, an output that is the input file and two
 * outputs on one file (compared by device and inode when they exist, by
 * their folder's real path and name when not; several outputs may share a
 * character device such as /dev/null). EXIT_OK, or EXIT_USAGE after saying
 * which flags collide. */
int cli_check_paths(const char *cmd, const char *input, const cli_path_t *outs, int n);

/* SIGINT/SIGTERM for a command that must stop cleanly: the first sets
 * *cli_stop_flag() (runs check it through gs_run_opts.cancel); a second one
 * removes the outputs' temporary files and exits 130 at once. */
void cli_signals_begin(void);
void cli_signals_end(void);
const _Atomic int *cli_stop_flag(void);
int cli_stop_signal(void); /* the signal that came, or 0 */

/* ---- reports ------------------------------------------------------------ */
int cli_report(const char *cmd, const char *src, const char *stopped, gs_trace_t *t,
               const char *const outs[4], bool quiet);
void cli_print_summary(FILE *out, const gs_trace_t *t, const gs_stats_t *s, bool color);
void cli_print_timeline(FILE *out, const gs_trace_t *t, int width, bool color);

/* ---- commands ----------------------------------------------------------- */
int cmd_run(int argc, char **argv);
int cmd_validate(int argc, char **argv);
int cmd_sweep(int argc, char **argv);
int cmd_explain(int argc, char **argv);
int cmd_exercise(int argc, char **argv);
int cmd_record(int argc, char **argv);
int cmd_fit(int argc, char **argv);
int cmd_replay(int argc, char **argv);
/* The scenario fitted to recording rec, checked to load: 0 with *json
 * (malloc'ed) and *len, or the exit status after printing why (fit.c). */
int cli_fit(const char *cmd, const char *rec, const gs_fit_opts_t *o, char **json, size_t *len);
/* `gilsim run REC`: the report of a recording (record.c). */
int cli_show_recording(const char *cmd, const char *file, bool has_settings,
                       const char *const outs[4], bool quiet);

/* ---- sweep chart (plot.c) ----------------------------------------------- */
typedef struct plot_point {
    const char *x;      /* first parameter's value as written */
    const char *series; /* second parameter's value, or NULL */
    double y;
} plot_point_t;

int cli_plot_svg(FILE *out, const char *title, const char *xname, const char *sname,
                 const char *yname, const plot_point_t *pts, int n);

#endif
