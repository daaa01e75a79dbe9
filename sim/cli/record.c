/* record.c - `gilsim record`: run a real Python program, write a recording,
 * and show it like `gilsim run` shows a simulation.
 *
 * Options come before the program: the first word that is not an option
 * (or everything after "--", or the name after -m) starts the program's
 * own command line, which is passed through untouched. The exit status is
 * the program's own; when the recorder itself fails it is 125 (recorder
 * error), 126 (the interpreter cannot be recorded) or 127 (no interpreter),
 * as env(1) does, and no recording file is left behind. */
#include "cli.h"

#include "gilsim/record.h"
#include "gilsim/units.h"

#include <stdlib.h>
#include <string.h>

int cli_show_recording(const char *cmd, const char *file, bool has_settings,
                       const char *const outs[4], bool quiet)
{
    if (has_settings) {
        fprintf(stderr,
                "gilsim %s: %s is a recording of a real run: --set and --seed do not apply to it "
                "(they change simulations); `gilsim replay %s --set KEY=VALUE` fits a scenario "
                "to it and runs the what-if\n",
                cmd, file, file);
        return EXIT_USAGE;
    }
    gs_model_t *m = NULL;
    gs_trace_t *t = NULL;
    gs_error_t err;
    int rc = gs_recording_load(file, &m, &t, &err);
    if (rc != 0) {
        char buf[1024];
        gs_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "gilsim %s: %s\n", cmd, buf);
        return gs_exit_status(rc);
    }
    gs_model_free(m);
    gs_error_t chk;
    if (gs_trace_check(t, &chk) != 0) {
        char buf[1024];
        gs_error_format(&chk, buf, sizeof buf);
        fprintf(stderr, "gilsim %s: %s: warning: the recording breaks an invariant: %s\n", cmd,
                file, buf);
    }
    return cli_report(cmd, file, "recording ended early", t, outs, quiet);
}

/* python3, python3.12, /usr/bin/python3, pypy3: an interpreter, not a script. */
static bool is_interpreter(const char *w)
{
    const char *b = strrchr(w, '/');
    b = b ? b + 1 : w;
    size_t n = strlen(b);
    if (n > 3 && strcmp(b + n - 3, ".py") == 0)
        return false;
    if (strncmp(b, "python", 6) == 0)
        b += 6;
    else if (strncmp(b, "pypy", 4) == 0)
        b += 4;
    else
        return false;
    return strspn(b, "0123456789.tdm") == strlen(b);
}

static char *default_out(const char *target, bool module)
{
    const char *b = strrchr(target, '/');
    b = b ? b + 1 : target;
    size_t n = strlen(b);
    if (!module && n > 3 && strcmp(b + n - 3, ".py") == 0)
        n -= 3;
    char *out = malloc(n + 10);
    if (out)
        snprintf(out, n + 10, "%.*s.rec.json", (int)n, b);
    return out;
}

/* What `gilsim record` was asked. */
typedef struct rec_args {
    gs_record_opts_t o;  /* for gs_record_run; o.out may be def */
    const char *outs[4]; /* --summary, --trace, --csv, --svg: file, "-" or NULL */
    bool quiet;
    char *def;           /* the default recording name, when no -o (owned) */
} rec_args_t;

static const char *const out_names[4] = {"--summary", "--trace", "--csv", "--svg"};

/* true if a is an option that takes a value. */
static bool takes_value(const char *a)
{
    for (int k = 0; k < 4; k++)
        if (strcmp(a, out_names[k]) == 0)
            return true;
    return strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 || strcmp(a, "--python") == 0 ||
           strcmp(a, "--max-mb") == 0 || strcmp(a, "--calls") == 0 ||
           strcmp(a, "--switch-interval") == 0;
}

/* --switch-interval VAL: a duration that CPython can hold. */
static int set_switch_interval(gs_record_opts_t *o, const char *val)
{
    char why[200];
    int64_t ns;
    if (gs_parse_ns(val, &ns, why, sizeof why) != 0)
        return cli_usage_error("record", "--switch-interval: %s", why);
    /* CPython keeps the interval in whole microseconds (gil->interval)
     * and refuses 0; a whole number of them is what the recording
     * can then say it ran at. */
    if (ns < 1000 || ns % 1000 != 0)
        return cli_usage_error("record",
                               "--switch-interval wants a whole number of microseconds, "
                               "at least 1us (CPython keeps it in microseconds), got "
                               "'%s'",
                               val);
    o->switch_interval_ns = ns;
    return EXIT_OK;
}

/* Option a (one that takes_value) with its value val (not empty). */
static int set_option(rec_args_t *ra, const char *a, const char *val)
{
    gs_record_opts_t *o = &ra->o;
    for (int k = 0; k < 4; k++)
        if (strcmp(a, out_names[k]) == 0) {
            ra->outs[k] = val;
            return EXIT_OK;
        }
    if (strcmp(a, "--python") == 0) {
        o->python = val;
    } else if (strcmp(a, "--calls") == 0) {
        if (strcmp(val, "all") != 0 && strcmp(val, "blocking") != 0)
            return cli_usage_error("record", "--calls wants all or blocking, got '%s'", val);
        o->calls_all = strcmp(val, "all") == 0;
    } else if (strcmp(a, "--max-mb") == 0) {
        long long mb;
        if (!cli_parse_i64(val, 1, 1 << 20, &mb))
            return cli_usage_error("record", "--max-mb wants a whole number of MiB >= 1, "
                                             "got '%s'",
                                   val);
        o->max_bytes = (int64_t)mb << 20;
    } else if (strcmp(a, "--switch-interval") == 0) {
        return set_switch_interval(o, val);
    } else {
        o->out = val; /* -o, --output */
    }
    return EXIT_OK;
}

/* The options before the program; *next is the first word after them
 * (after "--", or after -m MODULE, which also names the target). */
static int parse_options(int argc, char **argv, rec_args_t *ra, int *next)
{
    int i = 1;
    for (; i < argc; i++) {
        const char *a = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || strcmp(a, "-") == 0)
            break;
        if (strcmp(a, "--quiet") == 0 || strcmp(a, "-q") == 0) {
            ra->quiet = true;
        } else if (strcmp(a, "--verbose") == 0) {
            ra->o.verbose = true;
        } else if (strcmp(a, "-m") == 0) {
            if (!val || !*val)
                return cli_usage_error("record", "-m wants a module name");
            ra->o.module = true;
            ra->o.target = val;
            i += 2;
            break;
        } else if (!takes_value(a)) {
            return cli_usage_error("record",
                                   "unknown option '%s' (options go before the program; put "
                                   "-- before a program whose name starts with -)",
                                   a);
        } else if (!val || !*val) {
            return cli_usage_error("record", "%s wants a value", a);
        } else {
            int rc = set_option(ra, a, val);
            if (rc != EXIT_OK)
                return rc;
            i++;
        }
    }
    *next = i;
    return EXIT_OK;
}

/* The program's command line from argv[i]: [INTERPRETER [-m MODULE]]
 * SCRIPT ARGS..., or ARGS... after -m MODULE. */
static int parse_program(int argc, char **argv, int i, rec_args_t *ra)
{
    gs_record_opts_t *o = &ra->o;
    /* `gilsim record -- python3 SCRIPT` names the interpreter in the
     * command line, as one would type the program's own command. */
    if (!o->module && i < argc && is_interpreter(argv[i])) {
        if (o->python)
            return cli_usage_error("record", "the interpreter is given twice (--python %s and %s)",
                                   o->python, argv[i]);
        o->python = argv[i++];
        if (i + 1 < argc && strcmp(argv[i], "-m") == 0) {
            o->module = true;
            o->target = argv[i + 1];
            i += 2;
        } else if (i < argc && argv[i][0] == '-') {
            return cli_usage_error("record",
                                   "interpreter option '%s' is not supported: give SCRIPT or -m "
                                   "MODULE after %s (set PYTHON* environment variables instead)",
                                   argv[i], o->python);
        }
    }
    if (!o->module) {
        if (i >= argc)
            return cli_usage_error("record", "no program given (gilsim record -- SCRIPT [ARGS] "
                                             "or -m MODULE)");
        o->target = argv[i++];
    }
    o->args = argv + i;
    o->n_args = argc - i;
    return EXIT_OK;
}

/* At most one output on stdout, and a recording file (by default named
 * after the program) that is not stdout. */
static int check_outputs(rec_args_t *ra)
{
    int n_stdout = 0;
    for (int k = 0; k < 4; k++)
        n_stdout += ra->outs[k] && strcmp(ra->outs[k], "-") == 0;
    if (n_stdout > 1)
        return cli_usage_error("record", "only one output can go to stdout (-)");
    if (!ra->o.out) {
        ra->def = default_out(ra->o.target, ra->o.module);
        ra->o.out = ra->def;
    }
    if (!ra->o.out || strcmp(ra->o.out, "-") == 0)
        return cli_usage_error("record", "-o wants a file name (the recording cannot go to "
                                         "stdout: the program may write there)");
    return EXIT_OK;
}

/* Records, then shows the recording as `gilsim run` would (unless quiet
 * without outputs). The program's status wins; a failed export is
 * reported when the program itself succeeded. */
static int record_and_show(rec_args_t *ra)
{
    gs_record_result_t res;
    gs_error_t err;
    int rc = gs_record_run(&ra->o, &res, &err);
    if (rc != 0) {
        fprintf(stderr, "gilsim record: %s\n", err.msg);
        return rc;
    }
    if (!ra->quiet)
        fprintf(stderr, "gilsim record: %s%s written (%lld events; program exit status %d)\n",
                ra->o.out, res.partial ? " (partial)" : "", (long long)res.n_events,
                res.exit_status);
    int show = EXIT_OK;
    bool any_out = false;
    for (int k = 0; k < 4; k++)
        any_out = any_out || ra->outs[k];
    if (!ra->quiet || any_out)
        show = cli_show_recording("record", ra->o.out, false, ra->outs, ra->quiet);
    if (res.exit_status != 0)
        return res.exit_status;
    return show == EXIT_IO ? GS_RECORD_EFAIL : EXIT_OK;
}

int cmd_record(int argc, char **argv)
{
    rec_args_t ra;
    memset(&ra, 0, sizeof ra);
    int i = 0;
    int rc = parse_options(argc, argv, &ra, &i);
    if (rc == EXIT_OK)
        rc = parse_program(argc, argv, i, &ra);
    if (rc == EXIT_OK)
        rc = check_outputs(&ra);
    if (rc == EXIT_OK)
        rc = record_and_show(&ra);
    free(ra.def);
    return rc;
}
