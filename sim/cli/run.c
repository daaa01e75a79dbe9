/* run.c - `gilsim run` and `gilsim validate`.
 *
 * run: check the output paths (none is the input, no two are one file),
 * open every output (so a path that cannot be written fails before the run),
 * load (file or built-in default) with --set overrides, optionally change
 * the seed, simulate, compute the metrics, write the outputs and commit them
 * together (all new files or none), then print the table and the timeline
 * unless --quiet or an output went to stdout. SIGINT/SIGTERM stop the
 * simulation at its next event; what it did so far is still written (exit
 * 130); a second signal removes the temporary files and exits at once. The
 * exit status reflects the worst thing that happened: 3 if a file could not
 * be written, else 130 if interrupted, else 2 if the run stopped early, else
 * 0. */
#include "cli.h"

#include "gilsim/record.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>


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
    {"--csv", true},  {"--svg", true},  {"--quiet", false}, {"--memory-budget", true},
};

/* What `gilsim run` was asked for. */
typedef struct run_args {
    const char *file;    /* NULL: the built-in default */
    const char *outs[4]; /* per out_names[k]: a path, "-" or NULL */
    gs_override_t ov[CLI_MAX_SET];
    int n_ov;
    bool quiet, have_seed;
    long long seed;
    int n_stdout; /* outputs that go to stdout */
    size_t budget; /* --memory-budget, 0 = the default */
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
        int bad = r == 2 ? cli_set_file("run", &ra->file, v)
                  : strcmp(o->name, "--set") == 0 ? cli_add_set("run", v, ra->ov, &ra->n_ov)
                                                   : 0;
        if (bad)
            return bad;
        if (r == 2 || strcmp(o->name, "--set") == 0)
            continue;
        if (strcmp(o->name, "--seed") == 0) {
            if (!cli_parse_i64(v, 0, INT64_MAX, &ra->seed))
                return cli_usage_error("run", "--seed wants a whole number >= 0, got '%s'", v);
            ra->have_seed = true;
        } else if (strcmp(o->name, "--quiet") == 0) {
            ra->quiet = true;
        } else if (strcmp(o->name, "--memory-budget") == 0) {
            if (cli_parse_budget("run", v, &ra->budget) != EXIT_OK)
                return EXIT_USAGE;
        } else {
            for (int k = 0; k < 4; k++)
                if (strcmp(o->name, out_names[k]) == 0)
                    ra->outs[k] = v;
        }
    }
    cli_path_t paths[4];
    for (int k = 0; k < 4; k++) {
        if (ra->outs[k] && !*ra->outs[k])
            return cli_usage_error("run", "%s wants a file name (or - for stdout)", out_names[k]);
        if (ra->outs[k] && gs_path_fd(ra->outs[k], STDOUT_FILENO) == STDOUT_FILENO)
            ra->n_stdout++;
        paths[k] = (cli_path_t){out_names[k], ra->outs[k]};
    }
    if (ra->n_stdout > 1)
        return cli_usage_error("run", "only one output can go to stdout (-)");
    return cli_check_paths("run", ra->file, paths, 4);
}

/* Opens every requested output before the work: a path that cannot be
 * written is found before any of it. 0 or EXIT_IO (reported). */
static int open_outputs(const char *cmd, const char *const outs[4], gs_output_t *o[4])
{
    for (int k = 0; k < 4; k++) {
        gs_error_t err;
        if (outs[k] && gs_output_open(outs[k], &o[k], &err) != 0) {
            char buf[1024];
            gs_error_format(&err, buf, sizeof buf);
            fprintf(stderr, "gilsim %s: %s %s\n", cmd, out_names[k], buf);
            return EXIT_IO;
        }
    }
    return 0;
}

/* Writes every output, then commits them together: all new files, or (if
 * one failed) none. EXIT_OK or EXIT_IO (reported). */
static int write_outputs(const char *cmd, const char *const outs[4], gs_output_t *o[4],
                         out_ctx_t *ctx)
{
    static const gs_export_fn fns[4] = {w_summary, w_trace, w_csv, w_svg};
    for (int k = 0; k < 4; k++) {
        if (!o[k])
            continue;
        errno = 0;
        int rc = fns[k](gs_output_stream(o[k]), ctx);
        if (rc != 0) {
            fprintf(stderr, "gilsim %s: %s %s: cannot write: %s; no output was written\n", cmd,
                    out_names[k], outs[k], rc == GS_ENOMEM ? "out of memory"
                                           : errno ? strerror(errno) : "write error");
            return EXIT_IO;
        }
    }
    gs_error_t err;
    if (gs_output_commit(o, 4, &err) != 0) {
        char buf[1024];
        gs_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "gilsim %s: %s; no output was replaced\n", cmd, buf);
        return EXIT_IO;
    }
    return EXIT_OK;
}

/* The metrics of trace t (which this frees), written into the opened
 * outputs o and committed together, then (unless quiet or an output went to
 * stdout) the table and timeline; `stopped` words an outcome other than done.
 * Returns the exit status. */
static int report(const char *cmd, const char *src, const char *stopped, gs_trace_t *t,
                  const char *const outs[4], gs_output_t *o[4], bool quiet)
{
    gs_stats_t s;
    if (gs_stats_compute(t, &s) != 0) {
        fprintf(stderr, "gilsim %s: out of memory computing the metrics\n", cmd);
        gs_trace_free(t);
        return gs_exit_status(GS_ENOMEM);
    }
    int status = s.outcome == GS_OUT_DONE ? EXIT_OK : EXIT_STOPPED, n_stdout = 0;
    for (int k = 0; k < 4; k++)
        n_stdout += outs[k] && gs_path_fd(outs[k], STDOUT_FILENO) == STDOUT_FILENO;
    out_ctx_t ctx = {t, &s};
    if (write_outputs(cmd, outs, o, &ctx) != EXIT_OK)
        status = EXIT_IO;
    if (!quiet && n_stdout == 0) {
        bool color = cli_color(stdout);
        cli_print_summary(stdout, t, &s, color);
        cli_print_timeline(stdout, t, 72, color);
    }
    if (s.outcome != GS_OUT_DONE) {
        const char *msg = gs_trace_message(t);
        if (gs_trace_facts(t) & GS_FACT_CORES)
            fprintf(stderr, "gilsim %s: %s: %s (%s)%s", cmd, src, stopped,
                    gs_trace_outcome_words(t), *msg ? ": " : "");
        else /* a recording: partial, said in words (the key "horizon" is jargon) */
            fprintf(stderr, "gilsim %s: %s: the recording was %s%s", cmd, src,
                    gs_trace_outcome_words(t), *msg ? ": " : "");
        gs_fput_escaped(stderr, msg, true);
        fputc('\n', stderr);
    }
    if (s.outcome == GS_OUT_INTERRUPTED && status != EXIT_IO)
        status = EXIT_INTERRUPTED;
    if (fflush(stdout) != 0 && status == EXIT_OK)
        status = EXIT_IO;
    gs_stats_destroy(&s);
    gs_trace_free(t);
    return status;
}

int cli_report(const char *cmd, const char *src, const char *stopped, gs_trace_t *t,
               const char *const outs[4], bool quiet)
{
    gs_output_t *o[4] = {NULL, NULL, NULL, NULL};
    int rc = open_outputs(cmd, outs, o);
    if (rc == 0)
        rc = report(cmd, src, stopped, t, outs, o, quiet);
    else
        gs_trace_free(t);
    for (int k = 0; k < 4; k++)
        gs_output_abort(o[k]); /* what was not committed */
    return rc;
}

int cmd_run(int argc, char **argv)
{
    run_args_t ra;
    memset(&ra, 0, sizeof ra);
    int rc = parse_run(argc, argv, &ra);
    if (rc)
        return rc;
    if (ra.file && gs_recording_sniff(ra.file))
        return cli_show_recording("run", ra.file, ra.n_ov > 0 || ra.have_seed, ra.outs, ra.quiet);
    gs_output_t *o[4] = {NULL, NULL, NULL, NULL};
    cli_signals_begin();
    rc = open_outputs("run", ra.outs, o);
    gs_trace_t *t = NULL;
    if (rc == 0)
        rc = cli_simulate("run", ra.file, ra.ov, ra.n_ov,
                          &(cli_sim_opts_t){ra.have_seed ? ra.seed : -1, ra.budget}, &t, NULL);
    if (rc == 0)
        rc = report("run", cli_source_name(ra.file), "simulation stopped", t, ra.outs, o,
                    ra.quiet);
    for (int k = 0; k < 4; k++)
        gs_output_abort(o[k]); /* what was not committed */
    cli_signals_end();
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
    bool any_invalid = false, any_io = false, any_oom = false;
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
        if (gs_exit_status(rc) == EXIT_IO)
            any_io = true;
        else if (rc == GS_ENOMEM)
            any_oom = true; /* not an invalid file */
        else
            any_invalid = true;
    }
    free(files);
    if (any_io)
        status = EXIT_IO;
    else if (any_oom)
        status = gs_exit_status(GS_ENOMEM);
    else if (any_invalid)
        status = EXIT_USAGE;
    if (fflush(stdout) != 0)
        status = EXIT_IO;
    return status;
}
