/* fit.c - `gilsim fit REC`: the scenario fitted to a recording.
 *
 * gs_fit_recording does the work (sim/fit); this checks that the text it
 * wrote loads as a scenario (a fitter bug otherwise, said as such, never a
 * half-written file), and writes it atomically to -o or standard output. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

typedef struct text_ctx {
    const char *s;
    size_t n;
} text_ctx_t;

static int w_text(FILE *f, void *c)
{
    text_ctx_t *t = c;
    return fwrite(t->s, 1, t->n, f) == t->n ? 0 : GS_EIO;
}

int cli_fit(const char *cmd, const char *rec, const gs_fit_opts_t *o, char **json, size_t *len)
{
    gs_error_t err;
    int rc = gs_fit_recording(rec, o, json, len, &err);
    if (rc) {
        char buf[1024];
        gs_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "gilsim %s: ", cmd);
        gs_fput_escaped(stderr, buf, true);
        fputc('\n', stderr);
        return gs_exit_status(rc);
    }
    gs_model_t *m = NULL;
    gs_diag_t d;
    memset(&d, 0, sizeof d);
    rc = gs_scenario_load_string("fitted scenario", *json, *len, NULL, 0, &m, &d);
    /* --race-shape given and no curve written (no race read off the
       recording, or the shape 0 where it was read): one line, not silence */
    if (rc == 0 && o && o->n_race_shape > 0 && m->machine.n_rf_curve == 0)
        fprintf(stderr,
                "gilsim %s: %s: --race-shape was not used, the scenario has no "
                "machine.requester_first_idle (its description's sentence on the race says "
                "why)\n",
                cmd, rec);
    gs_model_free(m);
    if (rc == 0)
        return EXIT_OK;
    fprintf(stderr, "gilsim %s: %s: the fitted scenario does not load:\n", cmd, rec);
    gs_diag_print(&d, stderr);
    fprintf(stderr,
            "gilsim %s: where that names a limit (the file's 4 MiB, the ops in "
            "memory), fit without --exact or record a shorter run; anything else is a "
            "bug in gilsim fit: please report it with the recording\n",
            cmd);
    free(*json);
    *json = NULL;
    return EXIT_USAGE;
}

/* --race-shape DEPTH=CHANCE,...: up to GS_FIT_SHAPE_MAX points, depths
 * ascending, chances from 0 to 1 (the shape of machine.requester_first_idle
 * measured on the recording's host). EXIT_OK or a usage error. */
static int parse_shape(const char *v, gs_fit_opts_t *fo)
{
    static const char *want = "DEPTH=CHANCE pairs, depths ascending, chances 0 to 1, like "
                              "1ms=0.13,5ms=0.44";
    char buf[512];
    if (strlen(v) >= sizeof buf)
        return cli_usage_error("fit", "--race-shape: too long; expected %s", want);
    strcpy(buf, v);
    fo->n_race_shape = 0;
    for (char *save = NULL, *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        int k = fo->n_race_shape;
        char *eq = strchr(p, '='), *end = NULL, why[128];
        if (k == GS_FIT_SHAPE_MAX)
            return cli_usage_error("fit", "--race-shape: more than %d points; expected %s",
                                   GS_FIT_SHAPE_MAX, want);
        if (!eq)
            return cli_usage_error("fit", "--race-shape: '%s' has no '='; expected %s", p, want);
        *eq = 0;
        if (gs_parse_ns(p, &fo->race_shape_depth_ns[k], why, sizeof why) != 0)
            return cli_usage_error("fit", "--race-shape: point %d: %s; expected %s", k + 1, why,
                                   want);
        double c = strtod(eq + 1, &end);
        if (end == eq + 1 || *end || !(c >= 0 && c <= 1))
            return cli_usage_error("fit", "--race-shape: point %d: chance '%s'; expected %s", k + 1,
                                   eq + 1, want);
        if (k > 0 && fo->race_shape_depth_ns[k] <= fo->race_shape_depth_ns[k - 1])
            return cli_usage_error("fit",
                                   "--race-shape: point %d: the depths must grow; "
                                   "expected %s",
                                   k + 1, want);
        fo->race_shape[k] = c;
        fo->n_race_shape++;
    }
    if (!fo->n_race_shape)
        return cli_usage_error("fit", "--race-shape: no point; expected %s", want);
    return EXIT_OK;
}

int cmd_fit(int argc, char **argv)
{
    static const cli_opt_t opts[] = {{"-o", true},
                                     {"--output", true},
                                     {"--exact", false},
                                     {"--partial", false},
                                     {"--raw-cpu", false},
                                     {"--no-load", false},
                                     {"--wake-curve", false},
                                     {"--send-put-after", false},
                                     {"--send-put-before", false},
                                     {"--lock-race", false},
                                     {"--ipi-by-cpu", false},
                                     {"--sentinels", false},
                                     {"--race-shape", true}};
    cli_args_t a = {"fit", opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, 1, false};
    const cli_opt_t *o;
    const char *v, *rec = NULL, *out = NULL;
    gs_fit_opts_t fo = {0};
    int r;
    while ((r = cli_next(&a, &o, &v)) != 0) {
        if (r < 0)
            return EXIT_USAGE;
        if (r == 2) {
            if (rec)
                return cli_usage_error("fit", "only one REC, got '%s' and '%s'", rec, v);
            rec = v;
        } else if (strcmp(o->name, "--exact") == 0) {
            fo.exact = true;
        } else if (strcmp(o->name, "--partial") == 0) {
            fo.allow_partial = true;
        } else if (strcmp(o->name, "--raw-cpu") == 0) {
            fo.raw_cpu = true;
        } else if (strcmp(o->name, "--no-load") == 0) {
            fo.no_load = true;
        } else if (strcmp(o->name, "--wake-curve") == 0) {
            fo.wake_curve = true;
        } else if (strcmp(o->name, "--send-put-after") == 0) {
            fo.send_put_after = true;
        } else if (strcmp(o->name, "--send-put-before") == 0) {
            fo.send_put_before = true;
        } else if (strcmp(o->name, "--lock-race") == 0) {
            fo.lock_race = true;
        } else if (strcmp(o->name, "--ipi-by-cpu") == 0) {
            fo.ipi_by_cpu = true;
        } else if (strcmp(o->name, "--sentinels") == 0) {
            fo.sentinels = true;
        } else if (strcmp(o->name, "--race-shape") == 0) {
            if (parse_shape(v, &fo) != EXIT_OK)
                return EXIT_USAGE;
        } else {
            if (!*v)
                return cli_usage_error("fit", "%s wants a file name (or - for stdout)", o->name);
            out = v;
        }
    }
    if (!rec)
        return cli_usage_error("fit", "no REC given (a recording: gilsim record -o REC -- "
                                      "python3 SCRIPT)");
    cli_path_t p = {"-o", out};
    if (cli_check_paths("fit", rec, &p, 1) != EXIT_OK)
        return EXIT_USAGE;
    char *json = NULL;
    size_t len = 0;
    int rc = cli_fit("fit", rec, &fo, &json, &len);
    if (rc)
        return rc;
    text_ctx_t t = {json, len};
    if (!out || gs_path_fd(out, STDOUT_FILENO) == STDOUT_FILENO)
        rc = w_text(stdout, &t) == 0 ? EXIT_OK : EXIT_IO;
    else
        rc = cli_write("fit", "-o", out, w_text, &t);
    free(json);
    return rc;
}
