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

int cmd_record(int argc, char **argv)
{
    static const char *const out_names[4] = {"--summary", "--trace", "--csv", "--svg"};
    const char *outs[4] = {NULL, NULL, NULL, NULL};
    gs_record_opts_t o;
    memset(&o, 0, sizeof o);
    bool quiet = false;
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
            quiet = true;
            continue;
        }
        if (strcmp(a, "--verbose") == 0) {
            o.verbose = true;
            continue;
        }
        if (strcmp(a, "-m") == 0) {
            if (!val || !*val)
                return cli_usage_error("record", "-m wants a module name");
            o.module = true;
            o.target = val;
            i += 2;
            break;
        }
        bool known = false;
        int k;
        for (k = 0; k < 4; k++)
            if (strcmp(a, out_names[k]) == 0)
                break;
        known = k < 4 || strcmp(a, "-o") == 0 || strcmp(a, "--output") == 0 ||
                strcmp(a, "--python") == 0 || strcmp(a, "--max-mb") == 0 ||
                strcmp(a, "--calls") == 0 || strcmp(a, "--switch-interval") == 0;
        if (!known)
            return cli_usage_error("record",
                                   "unknown option '%s' (options go before the program; put "
                                   "-- before a program whose name starts with -)",
                                   a);
        if (!val || !*val)
            return cli_usage_error("record", "%s wants a value", a);
        i++;
        if (k < 4)
            outs[k] = val;
        else if (strcmp(a, "--python") == 0)
            o.python = val;
        else if (strcmp(a, "--calls") == 0) {
            if (strcmp(val, "all") != 0 && strcmp(val, "blocking") != 0)
                return cli_usage_error("record", "--calls wants all or blocking, got '%s'", val);
            o.calls_all = strcmp(val, "all") == 0;
        }
        else if (strcmp(a, "--max-mb") == 0) {
            long long mb;
            if (!cli_parse_i64(val, 1, 1 << 20, &mb))
                return cli_usage_error("record", "--max-mb wants a whole number of MiB >= 1, "
                                                 "got '%s'",
                                       val);
            o.max_bytes = (int64_t)mb << 20;
        } else if (strcmp(a, "--switch-interval") == 0) {
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
            o.switch_interval_ns = ns;
        } else
            o.out = val;
    }
    /* `gilsim record -- python3 SCRIPT` names the interpreter in the
     * command line, as one would type the program's own command. */
    if (!o.module && i < argc && is_interpreter(argv[i])) {
        if (o.python)
            return cli_usage_error("record", "the interpreter is given twice (--python %s and %s)",
                                   o.python, argv[i]);
        o.python = argv[i++];
        if (i + 1 < argc && strcmp(argv[i], "-m") == 0) {
            o.module = true;
            o.target = argv[i + 1];
            i += 2;
        } else if (i < argc && argv[i][0] == '-') {
            return cli_usage_error("record",
                                   "interpreter option '%s' is not supported: give SCRIPT or -m "
                                   "MODULE after %s (set PYTHON* environment variables instead)",
                                   argv[i], o.python);
        }
    }
    if (!o.module) {
        if (i >= argc)
            return cli_usage_error("record", "no program given (gilsim record -- SCRIPT [ARGS] "
                                             "or -m MODULE)");
        o.target = argv[i++];
    }
    o.args = argv + i;
    o.n_args = argc - i;
    int n_stdout = 0;
    for (int k = 0; k < 4; k++)
        n_stdout += outs[k] && strcmp(outs[k], "-") == 0;
    if (n_stdout > 1)
        return cli_usage_error("record", "only one output can go to stdout (-)");
    char *def = NULL;
    if (!o.out) {
        def = default_out(o.target, o.module);
        o.out = def;
    }
    if (!o.out || strcmp(o.out, "-") == 0) {
        free(def);
        return cli_usage_error("record", "-o wants a file name (the recording cannot go to "
                                         "stdout: the program may write there)");
    }
    gs_record_result_t res;
    gs_error_t err;
    int rc = gs_record_run(&o, &res, &err);
    if (rc != 0) {
        fprintf(stderr, "gilsim record: %s\n", err.msg);
        free(def);
        return rc;
    }
    if (!quiet)
        fprintf(stderr, "gilsim record: %s%s written (%lld events; program exit status %d)\n",
                o.out, res.partial ? " (partial)" : "", (long long)res.n_events,
                res.exit_status);
    int show = EXIT_OK;
    bool any_out = false;
    for (int k = 0; k < 4; k++)
        any_out = any_out || outs[k];
    if (!quiet || any_out)
        show = cli_show_recording("record", o.out, false, outs, quiet);
    free(def);
    /* The program's status wins; a failed export is reported when the
     * program itself succeeded. */
    if (res.exit_status != 0)
        return res.exit_status;
    return show == EXIT_IO ? GS_RECORD_EFAIL : EXIT_OK;
}
