/* run.c - `gilsim run` and `gilsim validate`.
 *
 * run: load (file or built-in default) with --set overrides, optionally
 * change the seed, simulate, compute the metrics, write every requested file
 * (each atomically), then print the table and the timeline unless --quiet or
 * an output went to stdout. The exit status reflects the worst thing that
 * happened: 3 if a file could not be written, else 2 if the run stopped
 * early, else 0. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define MAX_SET 64

typedef struct out_ctx {
    const gs_trace_t *t;
    const gs_stats_t *s;
} out_ctx_t;

static int w_summary(FILE *f, void *c)
{
    out_ctx_t *o = c;
    return gs_export_summary(o->t, o->s, f);
}

static int w_trace(FILE *f, void *c)
{
    return gs_export_chrome(((out_ctx_t *)c)->t, f);
}

static int w_csv(FILE *f, void *c)
{
    return gs_export_csv(((out_ctx_t *)c)->t, f);
}

static int w_svg(FILE *f, void *c)
{
    return gs_export_svg(((out_ctx_t *)c)->t, NULL, f);
}

static const cli_opt_t run_opts[] = {
    {"--set", true},  {"--seed", true}, {"--summary", true}, {"--trace", true},
    {"--csv", true},  {"--svg", true},  {"--quiet", false},
};

/* What `gilsim run` was asked for. */
typedef struct run_args {
    const char *file;    /* NULL: the built-in default */
    const char *outs[4]; /* per out_names[k]: a path, "-" or NULL */
    gs_override_t ov[MAX_SET];
    int n_ov;
    bool quiet, have_seed;
    long long seed;
    int n_stdout; /* outputs that go to stdout */
} run_args_t;

static const char *const out_names[4] = {"--summary", "--trace", "--csv", "--svg"};

/* Reads the command line into ra. 0, or the exit status of a usage error
 * (already reported). */
static int parse_run(int argc, char **argv, run_args_t *ra)
{
    cli_args_t a = {"run", run_opts, (int)(sizeof run_opts / sizeof run_opts[0]), argc, argv, 1,
                    false};
    const cli_opt_t *o;
    const char *v;
    int r;
    while ((r = cli_next(&a, &o, &v)) != 0) {
        if (r < 0)
            return EXIT_USAGE;
        if (r == 2) {
            if (ra->file)
                return cli_usage_error("run", "only one FILE, got '%s' and '%s'", ra->file, v);
            ra->file = v;
        } else if (strcmp(o->name, "--set") == 0) {
            if (ra->n_ov == MAX_SET)
                return cli_usage_error("run", "at most %d --set options", MAX_SET);
            if (gs_override_parse((char *)v, &ra->ov[ra->n_ov]) != 0)
                return cli_usage_error("run", "--set wants KEY=VALUE, got '%s'", v);
            ra->n_ov++;
        } else if (strcmp(o->name, "--seed") == 0) {
            if (!cli_parse_i64(v, 0, INT64_MAX, &ra->seed))
                return cli_usage_error("run", "--seed wants a whole number >= 0, got '%s'", v);
            ra->have_seed = true;
        } else if (strcmp(o->name, "--quiet") == 0) {
            ra->quiet = true;
        } else {
            for (int k = 0; k < 4; k++)
                if (strcmp(o->name, out_names[k]) == 0)
                    ra->outs[k] = v;
        }
    }
    for (int k = 0; k < 4; k++) {
        if (ra->outs[k] && !*ra->outs[k])
            return cli_usage_error("run", "%s wants a file name (or - for stdout)", out_names[k]);
        if (ra->outs[k] && strcmp(ra->outs[k], "-") == 0)
            ra->n_stdout++;
    }
    if (ra->n_stdout > 1)
        return cli_usage_error("run", "only one output can go to stdout (-)");
    return 0;
}

/* Loads and simulates. 0 with *t, or the exit status (already reported). */
static int simulate(const run_args_t *ra, gs_trace_t **t)
{
    gs_model_t *m = NULL;
    int rc = cli_load(ra->file, ra->ov, ra->n_ov, &m);
    if (rc)
        return rc;
    if (ra->have_seed)
        m->seed = (uint64_t)ra->seed;
    gs_run_opts_t opts;
    gs_run_opts_init(&opts);
    gs_error_t err;
    memset(&err, 0, sizeof err);
    int sim = gs_sim_run(m, &opts, t, &err);
    gs_model_free(m);
    if (*t)
        return 0;
    char buf[1024];
    if (err.code)
        gs_error_format(&err, buf, sizeof buf);
    else
        snprintf(buf, sizeof buf, "%s", gs_strerror(sim));
    fprintf(stderr, "gilsim run: %s: the simulation could not run: %s\n",
            cli_source_name(ra->file), buf);
    return gs_exit_status(sim);
}

/* Writes the outputs, prints the table and timeline, says why a run stopped.
 * Returns the exit status. */
static int report(const run_args_t *ra, const gs_trace_t *t, const gs_stats_t *s)
{
    static const gs_export_fn fns[4] = {w_summary, w_trace, w_csv, w_svg};
    int status = s->outcome == GS_OUT_DONE ? EXIT_OK : EXIT_STOPPED;
    out_ctx_t ctx = {t, s};
    for (int k = 0; k < 4; k++) {
        if (!ra->outs[k])
            continue;
        if (cli_write("run", out_names[k], ra->outs[k], fns[k], &ctx) != EXIT_OK)
            status = EXIT_IO;
    }
    if (!ra->quiet && ra->n_stdout == 0) {
        bool color = cli_color(stdout);
        cli_print_summary(stdout, t, s, color);
        cli_print_timeline(stdout, t, 72, color);
    }
    if (s->outcome != GS_OUT_DONE) {
        const char *msg = gs_trace_message(t);
        fprintf(stderr, "gilsim run: %s: simulation stopped (%s)%s%s\n",
                cli_source_name(ra->file), gs_outcome_key(s->outcome), *msg ? ": " : "", msg);
    }
    if (fflush(stdout) != 0 && status == EXIT_OK)
        status = EXIT_IO;
    return status;
}

int cmd_run(int argc, char **argv)
{
    run_args_t ra;
    memset(&ra, 0, sizeof ra);
    int rc = parse_run(argc, argv, &ra);
    if (rc)
        return rc;
    gs_trace_t *t = NULL;
    rc = simulate(&ra, &t);
    if (rc)
        return rc;
    gs_stats_t s;
    if (gs_stats_compute(t, &s) != 0) {
        fprintf(stderr, "gilsim run: out of memory computing the metrics\n");
        gs_trace_free(t);
        return gs_exit_status(GS_ENOMEM);
    }
    rc = report(&ra, t, &s);
    gs_stats_destroy(&s);
    gs_trace_free(t);
    return rc;
}

int cmd_validate(int argc, char **argv)
{
    static const cli_opt_t none[] = {{"--quiet", false}};
    cli_args_t a = {"validate", none, 1, argc, argv, 1, false};
    const cli_opt_t *o;
    const char *v;
    int r, n_files = 0, status = EXIT_OK;
    bool quiet = false;
    char **files = calloc((size_t)argc, sizeof *files);
    if (!files)
        return EXIT_IO;
    while ((r = cli_next(&a, &o, &v)) != 0) {
        if (r < 0) {
            free(files);
            return EXIT_USAGE;
        }
        if (r == 1)
            quiet = true;
        else
            files[n_files++] = (char *)v;
    }
    if (n_files == 0) {
        free(files);
        return cli_usage_error("validate", "no FILE given");
    }
    bool any_invalid = false, any_io = false;
    for (int i = 0; i < n_files; i++) {
        gs_model_t *m = NULL;
        gs_diag_t d;
        memset(&d, 0, sizeof d);
        int rc = gs_scenario_load_file(files[i], NULL, 0, &m, &d);
        if (rc == 0) {
            if (!quiet)
                printf("%s: ok\n", files[i]);
            gs_model_free(m);
            continue;
        }
        if (d.n > 0)
            gs_diag_print(&d, stderr);
        else
            fprintf(stderr, "%s: %s\n", files[i], gs_strerror(rc));
        if (rc == GS_EIO)
            any_io = true;
        else
            any_invalid = true;
    }
    free(files);
    if (any_io)
        status = EXIT_IO;
    else if (any_invalid)
        status = EXIT_USAGE;
    if (fflush(stdout) != 0)
        status = EXIT_IO;
    return status;
}
