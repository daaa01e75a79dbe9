/* util.c - option parsing, colour, and loading a scenario for a command.
 *
 * Options are GNU-style long flags: "--seed 7" or "--seed=7"; "--" ends the
 * options; "-" alone is an argument (standard input/output). Anything the
 * command does not know is a usage error that names it. */
#include "cli.h"

#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

int cli_next(cli_args_t *a, const cli_opt_t **opt, const char **val)
{
    *opt = NULL;
    *val = NULL;
    if (a->i >= a->argc)
        return 0;
    char *s = a->argv[a->i++];
    if (a->no_more_opts || s[0] != '-' || s[1] == '\0') {
        *val = s;
        return 2;
    }
    if (strcmp(s, "--") == 0) {
        a->no_more_opts = true;
        return cli_next(a, opt, val);
    }
    const char *eq = strchr(s, '=');
    size_t len = eq ? (size_t)(eq - s) : strlen(s);
    for (int k = 0; k < a->n_opts; k++) {
        const cli_opt_t *o = &a->opts[k];
        if (strlen(o->name) != len || strncmp(o->name, s, len) != 0)
            continue;
        *opt = o;
        if (!o->has_arg) {
            if (eq) {
                cli_usage_error(a->cmd, "option '%s' takes no value", o->name);
                return -1;
            }
            return 1;
        }
        if (eq)
            *val = eq + 1;
        else if (a->i < a->argc)
            *val = a->argv[a->i++];
        else {
            cli_usage_error(a->cmd, "option '%s' needs a value", o->name);
            return -1;
        }
        return 1;
    }
    cli_usage_error(a->cmd, "unknown option '%.*s'", (int)len, s);
    return -1;
}

bool cli_parse_i64(const char *s, long long min, long long max, long long *out)
{
    if (!s || !*s)
        return false;
    char *end;
    errno = 0;
    long long v = strtoll(s, &end, 10);
    if (errno || *end || v < min || v > max)
        return false;
    *out = v;
    return true;
}

int cli_parse_budget(const char *cmd, const char *v, size_t *out)
{
    if (gs_parse_bytes(v, out) == 0 && *out >= 1024 * 1024)
        return EXIT_OK;
    return cli_usage_error(cmd,
                           "--memory-budget wants a size of at least 1M, a whole number with K, "
                           "M, G or T (e.g. 512M, 4G), got '%s'",
                           v);
}

int cli_add_set(const char *cmd, const char *v, gs_override_t *ov, int *n)
{
    if (*n == CLI_MAX_SET)
        return cli_usage_error(cmd, "at most %d --set options", CLI_MAX_SET);
    if (gs_override_parse((char *)v, &ov[*n]) != 0)
        return cli_usage_error(cmd, "--set wants KEY=VALUE, got '%s'", v);
    (*n)++;
    return 0;
}

int cli_set_file(const char *cmd, const char **file, const char *v)
{
    if (*file)
        return cli_usage_error(cmd, "only one FILE, got '%s' and '%s'", *file, v);
    *file = v;
    return 0;
}

bool cli_color(FILE *f)
{
    const char *nc = getenv("NO_COLOR");
    if (nc && *nc)
        return false;
    const char *term = getenv("TERM");
    if (term && strcmp(term, "dumb") == 0)
        return false;
    return isatty(fileno(f)) == 1;
}

const char *cli_source_name(const char *file)
{
    return file ? file : "<built-in convoy scenario>";
}

static int write_out(const char *cmd, const char *flag, const char *path, gs_export_fn fn,
                     void *ctx, bool sync)
{
    gs_error_t err;
    if ((sync ? gs_export_file : gs_export_file_nosync)(path, fn, ctx, &err) == 0)
        return EXIT_OK;
    char buf[1024];
    gs_error_format(&err, buf, sizeof buf);
    fprintf(stderr, "gilsim %s: %s %s\n", cmd, flag, buf);
    return EXIT_IO;
}

int cli_write(const char *cmd, const char *flag, const char *path, gs_export_fn fn, void *ctx)
{
    return write_out(cmd, flag, path, fn, ctx, true);
}

int cli_write_nosync(const char *cmd, const char *flag, const char *path, gs_export_fn fn,
                     void *ctx)
{
    return write_out(cmd, flag, path, fn, ctx, false);
}

int cli_simulate_model(const char *cmd, const char *src, gs_model_t *m,
                       const cli_sim_opts_t *so, gs_trace_t **out, gs_stats_t *s)
{
    *out = NULL;
    if (so && so->seed >= 0)
        m->seed = (uint64_t)so->seed;
    gs_run_opts_t opts;
    gs_run_opts_init(&opts);
    if (so && so->budget)
        opts.memory_budget = so->budget;
    opts.cancel = cli_stop_flag(); /* stays 0 unless the command caught a signal */
    gs_trace_t *t = NULL;
    gs_error_t err;
    memset(&err, 0, sizeof err);
    int sim = gs_sim_run(m, &opts, &t, &err);
    if (!t) {
        char buf[1024];
        if (err.code)
            gs_error_format(&err, buf, sizeof buf);
        else
            snprintf(buf, sizeof buf, "%s", gs_strerror(sim));
        fprintf(stderr, "gilsim %s: %s: the simulation could not run: ", cmd, src);
        gs_fput_escaped(stderr, buf, true); /* it may quote names from the scenario */
        fputc('\n', stderr);
        return gs_exit_status(sim);
    }
    if (s && gs_stats_compute(t, s) != 0) {
        fprintf(stderr, "gilsim %s: out of memory computing the metrics\n", cmd);
        gs_trace_free(t);
        return gs_exit_status(GS_ENOMEM);
    }
    *out = t;
    return 0;
}

int cli_simulate(const char *cmd, const char *file, const gs_override_t *ov, int n_ov,
                 const cli_sim_opts_t *so, gs_trace_t **out, gs_stats_t *s)
{
    gs_model_t *m = NULL;
    *out = NULL;
    int rc = cli_load(file, ov, n_ov, &m);
    if (rc)
        return rc;
    rc = cli_simulate_model(cmd, cli_source_name(file), m, so, out, s);
    gs_model_free(m);
    return rc;
}

int cli_load(const char *file, const gs_override_t *ov, int n_ov, gs_model_t **out)
{
    gs_diag_t diag;
    memset(&diag, 0, sizeof diag);
    int rc;
    if (file) {
        rc = gs_scenario_load_file(file, ov, n_ov, out, &diag);
    } else {
        const char *json = gs_scenario_default_json();
        rc = gs_scenario_load_string(cli_source_name(NULL), json, strlen(json), ov, n_ov, out,
                                     &diag);
    }
    if (rc == 0)
        return 0;
    if (diag.n > 0)
        gs_diag_print(&diag, stderr);
    else
        fprintf(stderr, "gilsim: %s: %s\n", cli_source_name(file), gs_strerror(rc));
    return gs_exit_status(rc); /* out of memory is not an invalid file */
}

/* ---- paths ---------------------------------------------------------------- */

typedef struct ident {
    bool exists, chr;
    dev_t dev;
    ino_t ino;
    char name[PATH_MAX + 256]; /* real folder + "/" + base name, or "" */
} ident_t;

static void identify(const char *path, int dash_fd, ident_t *id)
{
    memset(id, 0, sizeof *id);
    struct stat st;
    int fd = gs_path_fd(path, dash_fd);
    if ((fd >= 0 && fstat(fd, &st) == 0) || (fd < 0 && stat(path, &st) == 0)) {
        id->exists = true;
        id->chr = S_ISCHR(st.st_mode);
        id->dev = st.st_dev;
        id->ino = st.st_ino;
        return;
    }
    if (fd >= 0)
        return;
    const char *slash = strrchr(path, '/');
    char dir[PATH_MAX], real[PATH_MAX];
    snprintf(dir, sizeof dir, "%.*s", slash ? (int)(slash - path) + 1 : 1, slash ? path : ".");
    if (realpath(dir, real))
        snprintf(id->name, sizeof id->name, "%s/%s", real, slash ? slash + 1 : path);
}

static bool same_file(const ident_t *a, const ident_t *b)
{
    if (a->exists && b->exists)
        return a->dev == b->dev && a->ino == b->ino;
    return !a->exists && !b->exists && a->name[0] && strcmp(a->name, b->name) == 0;
}

int cli_check_paths(const char *cmd, const char *input, const cli_path_t *outs, int n)
{
    ident_t in, *ids = calloc((size_t)(n > 0 ? n : 1), sizeof *ids);
    if (!ids)
        return EXIT_IO;
    if (input)
        identify(input, STDIN_FILENO, &in);
    int rc = EXIT_OK;
    for (int i = 0; i < n && rc == EXIT_OK; i++) {
        if (!outs[i].path)
            continue;
        identify(outs[i].path, STDOUT_FILENO, &ids[i]);
        if (input && in.exists && !in.chr && same_file(&in, &ids[i]))
            rc = cli_usage_error(cmd, "%s %s is the scenario file it reads: give the output "
                                 "another name", outs[i].flag, outs[i].path);
        for (int j = 0; j < i && rc == EXIT_OK; j++)
            if (outs[j].path && !ids[i].chr && same_file(&ids[i], &ids[j]))
                rc = cli_usage_error(cmd, "%s %s and %s %s are one file: give each output "
                                     "its own", outs[j].flag, outs[j].path, outs[i].flag,
                                     outs[i].path);
    }
    free(ids);
    return rc;
}

/* ---- signals ---------------------------------------------------------------- */

static _Atomic int g_stop;
static struct sigaction g_old_int, g_old_term;

static void on_stop_signal(int sig)
{
    if (atomic_load(&g_stop)) {
        gs_output_remove_temps(); /* second signal: abandon, leave nothing */
        _exit(EXIT_INTERRUPTED);
    }
    atomic_store(&g_stop, sig);
}

void cli_signals_begin(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_stop_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &g_old_int);
    sigaction(SIGTERM, &sa, &g_old_term);
}

void cli_signals_end(void)
{
    sigaction(SIGINT, &g_old_int, NULL);
    sigaction(SIGTERM, &g_old_term, NULL);
}

const _Atomic int *cli_stop_flag(void)
{
    return &g_stop;
}

int cli_stop_signal(void)
{
    return atomic_load(&g_stop);
}
