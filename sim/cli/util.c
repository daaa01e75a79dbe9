/* util.c - option parsing, colour, and loading a scenario for a command.
 *
 * Options are GNU-style long flags: "--seed 7" or "--seed=7"; "--" ends the
 * options; "-" alone is an argument (standard input/output). Anything the
 * command does not know is a usage error that names it. */
#include "cli.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
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

int cli_write(const char *cmd, const char *flag, const char *path, gs_export_fn fn, void *ctx)
{
    gs_error_t err;
    if (gs_export_file(path, fn, ctx, &err) == 0)
        return EXIT_OK;
    char buf[1024];
    gs_error_format(&err, buf, sizeof buf);
    fprintf(stderr, "gilsim %s: %s %s\n", cmd, flag, buf);
    return EXIT_IO;
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
    return gs_exit_status(rc);
}
