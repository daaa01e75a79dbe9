/* replay.c - `gilsim replay REC`: the real run beside its replay.
 *
 * Fits a scenario to the recording (cli_fit), simulates it at the recorded
 * settings and, with --set, once more with the changes: the what-if. The
 * table puts the recording's figures, the replay's, their difference and
 * the what-if's side by side, for the run and for each thread (thread i of
 * the fitted scenario is thread i of the recording). --summary writes the
 * summary JSON of each (docs/metrics.md) under "recording", "replay" and
 * "what_if". How far to trust a replay: docs/validation.md. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { R_REC, R_REP, R_WHATIF, R_N };

typedef struct replay {
    const char *rec;
    const char *summary;
    gs_override_t ov[CLI_MAX_SET];
    char *set_text[CLI_MAX_SET]; /* as given, for the title */
    int n_ov;
    int n_given;                 /* of ov, the --set given (set_text); the rest the what-if's own */
    gs_fit_opts_t fo;
    bool quiet;
    cli_sim_opts_t so;
    gs_trace_t *t[R_N];
    gs_stats_t s[R_N];
    bool have[R_N];
    char *how;                   /* the fitted scenario's description */
    bool whatif_no_load;         /* the what-if ran without the fitted other load (fifo) */
} replay_t;

typedef enum vkind { V_TIME, V_PCT, V_COUNT, V_RATE } vkind_t;

static void fmt_val(vkind_t k, double v, char *buf, size_t n)
{
    switch (k) {
    case V_TIME: gs_format_ns((int64_t)v, buf, n); break;
    case V_PCT: snprintf(buf, n, "%.1f%%", 100 * v); break;
    case V_COUNT: snprintf(buf, n, "%.0f", v); break;
    case V_RATE: snprintf(buf, n, "%.0f/s", v); break;
    }
}

/* b against a: a relative difference, in points for a percentage. */
static void fmt_diff(vkind_t k, double a, double b, char *buf, size_t n)
{
    if (k == V_PCT)
        snprintf(buf, n, "%+.1fpt", 100 * (b - a));
    else if (a == 0)
        snprintf(buf, n, "%s", b == 0 ? "0%" : "-");
    else
        snprintf(buf, n, "%+.0f%%", 100 * (b - a) / a);
}

static void row(const replay_t *r, const char *label, vkind_t k, const double v[R_N])
{
    char a[32], b[32], d[32], w[32], dw[32];
    fmt_val(k, v[R_REC], a, sizeof a);
    fmt_val(k, v[R_REP], b, sizeof b);
    fmt_diff(k, v[R_REC], v[R_REP], d, sizeof d);
    printf("  %-26.26s %10s %10s %8s", label, a, b, d);
    if (r->have[R_WHATIF]) {
        fmt_val(k, v[R_WHATIF], w, sizeof w);
        fmt_diff(k, v[R_REP], v[R_WHATIF], dw, sizeof dw);
        printf(" %10s %8s", w, dw);
    }
    putchar('\n');
}

static double rate(const gs_stats_t *s, int64_t n)
{
    return s->makespan_ns > 0 ? (double)n * 1e9 / (double)s->makespan_ns : 0;
}

/* The lines under the table: what each column is. */
static void print_key(const replay_t *r)
{
    printf("\nreal: the recording; replay: `gilsim fit %s` simulated; diff: replay against "
           "real.", r->rec);
    printf("\nGIL wait: from asking for the GIL to holding it, time without a core "
           "inside it included (gil_ask_to_hold_ns).");
    if (r->have[R_WHATIF]) {
        printf("\nwhat-if: the replay with ");
        for (int i = 0; i < r->n_given; i++)
            printf("%s--set %s", i ? " " : "", r->set_text[i]);
        printf("; vs replay: what-if against replay (not against real).");
        if (r->whatif_no_load)
            printf("\nwhat-if without the other load (process \"%s\", as --set processes=[]): "
                   "fifo runs each thread until it blocks, and its busy threads never block, so "
                   "they would keep their cores to the end of the run; a program run as "
                   "SCHED_FIFO outranks other programs' normal threads, which get only the "
                   "cores it leaves idle.",
                   GS_FIT_LOAD_PROCESS);
    }
}

static void print_table(const replay_t *r)
{
    const gs_stats_t *s = r->s;
    bool color = cli_color(stdout);
    printf("%s%s%s: the real run, its replay (the fitted scenario at the recorded settings)",
           color ? "\033[1m" : "", r->rec, color ? "\033[0m" : "");
    if (r->have[R_WHATIF]) {
        printf(" and the what-if (");
        for (int i = 0; i < r->n_given; i++)
            printf("%s%s", i ? ", " : "", r->set_text[i]);
        printf(")");
    }
    printf("\n\n  %-26s %10s %10s %8s", "", "real", "replay", "diff");
    if (r->have[R_WHATIF])
        printf(" %10s %8s", "what-if", "vs replay");
    putchar('\n');
    int n = R_N;
    double v[R_N];
#define ROW(label, kind, expr)                                                             \
    do {                                                                                   \
        for (int q = 0; q < n; q++) {                                                      \
            const gs_stats_t *x = &s[q];                                                   \
            v[q] = r->have[q] ? (double)(expr) : 0;                                        \
            (void)x;                                                                       \
        }                                                                                  \
        row(r, label, kind, v);                                                            \
    } while (0)
    ROW("makespan", V_TIME, x->makespan_ns);
    ROW("GIL utilisation", V_PCT, x->gil_utilisation);
    ROW("GIL switches", V_RATE, rate(x, x->gil_switches));
    ROW("forced switches", V_COUNT, x->gil_forced_switches);
    ROW("drop requests", V_COUNT, x->gil_drop_requests);
    if (s[R_REC].io_to_gil.n) {
        ROW("I/O > GIL p50", V_TIME, x->io_to_gil.p50);
        ROW("I/O > GIL p99", V_TIME, x->io_to_gil.p99);
    }
    int nt = s[R_REC].n_threads;
    for (int q = 0; q < n; q++)
        if (r->have[q] && s[q].n_threads < nt)
            nt = s[q].n_threads;
    for (int i = 0; i < nt; i++) {
        char esc[200], label[64];
        printf("  %s\n", gs_escape_controls(s[R_REC].threads[i].name, esc, sizeof esc, false));
#define TROW(name, kind, expr)                                                             \
    do {                                                                                   \
        snprintf(label, sizeof label, "  %s", name);                                     \
        for (int q = 0; q < n; q++) {                                                      \
            const gs_thread_stats_t *x = r->have[q] ? &s[q].threads[i] : NULL;             \
            v[q] = x ? (double)(expr) : 0;                                                 \
        }                                                                                  \
        row(r, label, kind, v);                                                            \
    } while (0)
        TROW("GIL held", V_TIME, x->gil_held_ns);
        /* ask to hold on both sides: a recording sees no core in it */
        TROW("GIL wait", V_TIME, x->gil_ask_to_hold_ns);
        if (s[R_REC].threads[i].io_ns + s[R_REC].threads[i].sleep_ns > 0)
            TROW("I/O + sleep", V_TIME, x->io_ns + x->sleep_ns);
        if (s[R_REC].threads[i].io_to_gil.n)
            TROW("I/O > GIL p50", V_TIME, x->io_to_gil.p50);
        TROW("releases, forced", V_COUNT, x->forced_switches);
        TROW("releases, voluntary", V_COUNT, x->voluntary_switches);
#undef TROW
    }
#undef ROW
    print_key(r);
    printf("\nHow the recording was fitted (the scenario's description):\n");
    gs_fput_escaped(stdout, r->how ? r->how : "", true);
    putchar('\n');
}

static int w_summaries(FILE *f, void *c)
{
    const replay_t *r = c;
    static const char *const keys[R_N] = {"recording", "replay", "what_if"};
    fputs("{\n", f);
    for (int q = 0; q < R_N; q++) {
        if (!r->have[q])
            continue;
        fprintf(f, "%s\"%s\": ", q ? ",\n" : "", keys[q]);
        int rc = gs_export_summary(r->t[q], &r->s[q], f);
        if (rc)
            return rc;
    }
    if (r->have[R_WHATIF] && r->whatif_no_load)
        fputs(",\n\"what_if_without_load\": true", f);
    if (r->have[R_WHATIF]) {
        fputs(",\n\"what_if_settings\": [", f);
        for (int i = 0; i < r->n_given; i++) {
            fprintf(f, "%s\"", i ? ", " : "");
            for (const char *p = r->set_text[i]; *p; p++) {
                if (*p == '"' || *p == '\\')
                    fputc('\\', f);
                if ((unsigned char)*p < 0x20)
                    fprintf(f, "\\u%04x", *p);
                else
                    fputc(*p, f);
            }
            fputc('"', f);
        }
        fputc(']', f);
    }
    fputs("\n}\n", f);
    return ferror(f) ? GS_EIO : 0;
}

static int parse(int argc, char **argv, replay_t *r)
{
    static const cli_opt_t opts[] = {
        {"--set", true},   {"--summary", true}, {"--exact", false},        {"--partial", false},
        {"--seed", true},  {"--quiet", false},  {"--memory-budget", true}, {"--raw-cpu", false},
        {"--no-load", false}, {"--wake-curve", false}, {"--send-put-after", false},
        {"--send-put-before", false}, {"--lock-race", false},
        {"--ipi-by-cpu", false},
        {"--sentinels", false},
    };
    cli_args_t a = {"replay", opts, (int)(sizeof opts / sizeof opts[0]), argc, argv, 1, false};
    const cli_opt_t *o;
    const char *v;
    int rc;
    r->so.seed = -1;
    while ((rc = cli_next(&a, &o, &v)) != 0) {
        if (rc < 0)
            return EXIT_USAGE;
        if (rc == 2) {
            if (cli_set_file("replay", &r->rec, v))
                return EXIT_USAGE;
        } else if (strcmp(o->name, "--set") == 0) {
            if (r->n_ov < CLI_MAX_SET && !(r->set_text[r->n_ov] = strdup(v)))
                return EXIT_IO;
            if (cli_add_set("replay", v, r->ov, &r->n_ov))
                return EXIT_USAGE;
            r->n_given = r->n_ov;
        } else if (strcmp(o->name, "--summary") == 0) {
            if (!*v)
                return cli_usage_error("replay", "--summary wants a file name (or - for stdout)");
            r->summary = v;
        } else if (strcmp(o->name, "--exact") == 0) {
            r->fo.exact = true;
        } else if (strcmp(o->name, "--partial") == 0) {
            r->fo.allow_partial = true;
        } else if (strcmp(o->name, "--raw-cpu") == 0) {
            r->fo.raw_cpu = true;
        } else if (strcmp(o->name, "--no-load") == 0) {
            r->fo.no_load = true;
        } else if (strcmp(o->name, "--wake-curve") == 0) {
            r->fo.wake_curve = true;
        } else if (strcmp(o->name, "--send-put-after") == 0) {
            r->fo.send_put_after = true;
        } else if (strcmp(o->name, "--send-put-before") == 0) {
            r->fo.send_put_before = true;
        } else if (strcmp(o->name, "--lock-race") == 0) {
            r->fo.lock_race = true;
        } else if (strcmp(o->name, "--ipi-by-cpu") == 0) {
            r->fo.ipi_by_cpu = true;
        } else if (strcmp(o->name, "--sentinels") == 0) {
            r->fo.sentinels = true;
        } else if (strcmp(o->name, "--quiet") == 0) {
            r->quiet = true;
        } else if (strcmp(o->name, "--seed") == 0) {
            if (!cli_parse_i64(v, 0, INT64_MAX, &r->so.seed))
                return cli_usage_error("replay", "--seed wants a whole number >= 0, got '%s'", v);
        } else if (cli_parse_budget("replay", v, &r->so.budget) != EXIT_OK) {
            return EXIT_USAGE;
        }
    }
    if (!r->rec)
        return cli_usage_error("replay", "no REC given (a recording: gilsim record -o REC -- "
                                         "python3 SCRIPT)");
    cli_path_t p = {"--summary", r->summary};
    return cli_check_paths("replay", r->rec, &p, 1);
}

/* The recording's own trace and metrics. */
static int load_recording(replay_t *r)
{
    gs_model_t *m = NULL;
    gs_error_t err;
    int rc = gs_recording_load(r->rec, &m, &r->t[R_REC], &err);
    gs_model_free(m);
    if (rc) {
        char buf[1024];
        gs_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "gilsim replay: ");
        gs_fput_escaped(stderr, buf, true);
        fputc('\n', stderr);
        return gs_exit_status(rc);
    }
    if (gs_stats_compute(r->t[R_REC], &r->s[R_REC]) != 0) {
        fprintf(stderr, "gilsim replay: out of memory computing the metrics\n");
        return gs_exit_status(GS_ENOMEM);
    }
    r->have[R_REC] = true;
    return 0;
}

/* Loads the fitted text (with ov) and simulates it into slot q. */
static int simulate(replay_t *r, int q, const char *json, size_t len, const gs_override_t *ov,
                    int n_ov)
{
    gs_model_t *m = NULL;
    gs_diag_t d;
    memset(&d, 0, sizeof d);
    char name[300];
    snprintf(name, sizeof name, "%s (fitted)", r->rec);
    int rc = gs_scenario_load_string(name, json, len, ov, n_ov, &m, &d);
    if (rc) {
        gs_diag_print(&d, stderr);
        return gs_exit_status(rc);
    }
    if (q == R_REP && m->description)
        r->how = strdup(m->description);
    bool fifo = m->machine.policy == GS_POLICY_FIFO;
    rc = cli_simulate_model("replay", name, m, &r->so, &r->t[q], &r->s[q]);
    gs_model_free(m);
    if (rc)
        return rc;
    r->have[q] = true;
    if (r->s[q].outcome != GS_OUT_DONE) {
        fprintf(stderr, "gilsim replay: the %s stopped early (%s): ",
                q == R_REP ? "replay" : "what-if", gs_trace_outcome_words(r->t[q]));
        gs_fput_escaped(stderr, gs_trace_message(r->t[q]), true);
        fputc('\n', stderr);
        if (fifo && r->s[q].outcome == GS_OUT_HORIZON) /* the usual why, not the event's */
            fprintf(stderr, "gilsim replay: under machine.policy=fifo a thread keeps its core "
                            "until it blocks: where threads that never block (a CPU loop) hold "
                            "every core, the threads queued behind them never run, the one that "
                            "would end the loop among them; machine.policy=rr slices the time, "
                            "or give more machine.cores\n");
        return r->s[q].outcome == GS_OUT_INTERRUPTED ? EXIT_INTERRUPTED : EXIT_STOPPED;
    }
    return 0;
}

/* A fifo what-if runs without the fitted other load, as SCHED_FIFO
 * outranks other programs (the rule, shared with the viewer, and its why:
 * sim/fit/whatif.c); the table says so. */
static int fifo_without_load(replay_t *r, const char *json, size_t len)
{
    gs_model_t *m = NULL;
    gs_diag_t d;
    memset(&d, 0, sizeof d);
    if (gs_scenario_load_string("what-if", json, len, r->ov, r->n_ov, &m, &d) != 0)
        return 0; /* simulate() says what does not apply */
    bool without = gs_fit_what_if_without_load(m);
    gs_model_free(m);
    if (!without)
        return 0;
    if (r->n_ov == CLI_MAX_SET)
        return cli_usage_error("replay", "at most %d --set options (machine.policy=fifo adds "
                                         "one: processes=[])", CLI_MAX_SET - 1);
    r->ov[r->n_ov++] = (gs_override_t){GS_FIT_NO_LOAD_KEY, GS_FIT_NO_LOAD_VALUE};
    r->whatif_no_load = true;
    return 0;
}

int cmd_replay(int argc, char **argv)
{
    replay_t r;
    memset(&r, 0, sizeof r);
    int rc = parse(argc, argv, &r), stopped = 0;
    char *json = NULL;
    size_t len = 0;
    cli_signals_begin();
    if (rc == 0)
        rc = load_recording(&r);
    if (rc == 0)
        rc = cli_fit("replay", r.rec, &r.fo, &json, &len);
    if (rc == 0)
        stopped = simulate(&r, R_REP, json, len, NULL, 0);
    if (rc == 0 && stopped != EXIT_INTERRUPTED && r.have[R_REP] && r.n_ov)
        rc = fifo_without_load(&r, json, len);
    if (rc == 0 && stopped != EXIT_INTERRUPTED && r.have[R_REP] && r.n_ov) {
        int w = simulate(&r, R_WHATIF, json, len, r.ov, r.n_ov);
        if (!r.have[R_WHATIF])
            rc = w; /* an override that does not fit the scenario */
        else if (!stopped)
            stopped = w;
    }
    if (rc == 0 && !r.have[R_REP])
        rc = stopped;
    if (rc == 0 && r.summary)
        rc = cli_write("replay", "--summary", r.summary, w_summaries, &r);
    bool to_stdout = r.summary && gs_path_fd(r.summary, STDOUT_FILENO) == STDOUT_FILENO;
    if (rc == 0 && !r.quiet && !to_stdout)
        print_table(&r);
    if (rc == 0)
        rc = stopped;
    cli_signals_end();
    free(json);
    for (int q = 0; q < R_N; q++) {
        if (r.have[q])
            gs_stats_destroy(&r.s[q]);
        if (r.t[q])
            gs_trace_free(r.t[q]);
    }
    for (int i = 0; i < CLI_MAX_SET; i++)
        free(r.set_text[i]);
    free(r.how);
    return rc;
}
