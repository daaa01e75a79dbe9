/* explain.c - `gilsim explain`: why a thread is not running.
 *
 * With --at: the state of every GIL, lock and queue at that instant, then for
 * each thread (or the one named by --thread) its causal chain (explain.h).
 * Without --at: where each thread's waiting went over the whole run (blame
 * totals, the same figures as the summary JSON's "blame"). FILE may be a
 * recording (gilsim record): the same answers from what it recorded, and
 * "not recorded" where it is blind (cores, which lock). */
#include "cli.h"

#include "gilsim/record.h"

#include <stdlib.h>
#include <string.h>


static const cli_opt_t explain_opts[] = {
    {"--at", true}, {"--thread", true}, {"--set", true}, {"--seed", true},
    {"--memory-budget", true},
};

static void print_chain(const gs_trace_t *t, int th, int64_t at)
{
    gs_why_link_t chain[GS_WHY_MAX_CHAIN];
    int n = gs_explain(t, th, at, chain, GS_WHY_MAX_CHAIN);
    size_t need = gs_explain_text(t, at, chain, n, NULL, 0) + 1;
    char *buf = malloc(need);
    if (!buf)
        return;
    gs_explain_text(t, at, chain, n, buf, need);
    fputs(buf, stdout);
    free(buf);
}

static void print_state(const gs_trace_t *t, int64_t at)
{
    size_t need = gs_explain_state_text(t, at, NULL, 0) + 1;
    char *buf = malloc(need);
    if (!buf)
        return;
    gs_explain_state_text(t, at, buf, need);
    fputs(buf, stdout);
    free(buf);
}

static void print_blame(const gs_trace_t *t, int th)
{
    gs_blame_t b;
    if (gs_blame_compute(t, th, &b) != 0)
        return;
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
    char x[32];
    printf("%s: not running for %s in all\n", l->name, gs_format_ns(b.total_ns, x, sizeof x));
    for (int k = 0; k < GS_BLAME_COUNT; k++) {
        if (b.ns[k] == 0)
            continue;
        printf("  %-32s %12s\n", gs_blame_text((gs_blame_kind_t)k),
               gs_format_ns(b.ns[k], x, sizeof x));
        int64_t *by = k == GS_BLAME_GIL_HELD ? b.gil_by : k == GS_BLAME_LOCK_HELD ? b.lock_by : NULL;
        for (int o = 0; by && o < gs_trace_n_threads(t); o++)
            if (by[o])
                printf("    by %-29s %12s\n",
                       gs_trace_lane(t, gs_trace_thread_lane(t, o))->name,
                       gs_format_ns(by[o], x, sizeof x));
    }
    gs_blame_destroy(&b);
}

/* A recording (gs_recording_sniff) is loaded as it is: it answers with the
 * facts it recorded; a scenario is simulated. 0 with *out, or an exit status
 * after saying why. */
static int load_trace(const char *file, const gs_override_t *ov, int n_ov,
                      const cli_sim_opts_t *so, gs_trace_t **out)
{
    if (!file || !gs_recording_sniff(file))
        return cli_simulate("explain", file, ov, n_ov, so, out, NULL);
    if (n_ov > 0 || so->seed >= 0) {
        fprintf(stderr, "gilsim explain: %s is a recording of a real run: --set and --seed do "
                        "not apply to it (they change simulations)\n", file);
        return EXIT_USAGE;
    }
    gs_model_t *m = NULL;
    gs_error_t err;
    int rc = gs_recording_load(file, &m, out, &err);
    if (rc != 0) {
        char buf[1024];
        gs_error_format(&err, buf, sizeof buf);
        fprintf(stderr, "gilsim explain: %s\n", buf);
        return gs_exit_status(rc);
    }
    gs_model_free(m);
    return 0;
}

int cmd_explain(int argc, char **argv)
{
    cli_args_t a = {"explain", explain_opts, (int)(sizeof explain_opts / sizeof explain_opts[0]),
                    argc, argv, 1, false};
    const char *file = NULL, *at_s = NULL, *thread = NULL;
    gs_override_t ov[CLI_MAX_SET];
    int n_ov = 0;
    long long seed = -1;
    size_t budget = 0;
    const cli_opt_t *o;
    const char *v;
    int r;
    while ((r = cli_next(&a, &o, &v)) != 0) {
        if (r < 0)
            return EXIT_USAGE;
        int bad = r == 2 ? cli_set_file("explain", &file, v)
                  : strcmp(o->name, "--set") == 0 ? cli_add_set("explain", v, ov, &n_ov)
                                                   : 0;
        if (bad)
            return bad;
        if (r == 2 || strcmp(o->name, "--set") == 0)
            continue;
        if (strcmp(o->name, "--at") == 0) {
            at_s = v;
        } else if (strcmp(o->name, "--thread") == 0) {
            thread = v;
        } else if (strcmp(o->name, "--memory-budget") == 0) {
            if (cli_parse_budget("explain", v, &budget) != EXIT_OK)
                return EXIT_USAGE;
        } else if (!cli_parse_i64(v, 0, INT64_MAX, &seed)) {
            return cli_usage_error("explain", "--seed wants a whole number >= 0, got '%s'", v);
        }
    }
    int64_t at = 0;
    if (at_s) {
        char why[200];
        if (gs_parse_ns(at_s, &at, why, sizeof why) != 0)
            return cli_usage_error("explain", "--at %s: %s", at_s, why);
    }
    gs_trace_t *t = NULL;
    int rc = load_trace(file, ov, n_ov, &(cli_sim_opts_t){seed, budget}, &t);
    if (rc)
        return rc;
    int th = -1;
    if (thread && (th = gs_trace_find_thread(t, thread)) < 0) {
        fprintf(stderr, "gilsim explain: --thread %s: no such thread; the threads are:", thread);
        for (int i = 0; i < gs_trace_n_threads(t); i++)
            fprintf(stderr, "%s %s", i ? "," : "",
                    gs_trace_lane(t, gs_trace_thread_lane(t, i))->name);
        fputc('\n', stderr);
        gs_trace_free(t);
        return EXIT_USAGE;
    }
    char x[32], y[32];
    if (at_s && at > gs_trace_end_ns(t))
        fprintf(stderr, "gilsim explain: --at %s is after the run's end (%s); showing the end\n",
                at_s, gs_format_ns(gs_trace_end_ns(t), x, sizeof x));
    if (at_s) {
        printf("%s at %s (the run ends at %s)\n\n", gs_trace_name(t), gs_format_ns(at, x, sizeof x),
               gs_format_ns(gs_trace_end_ns(t), y, sizeof y));
        print_state(t, at);
    } else {
        printf("%s: where each thread's waiting went (the run ends at %s)\n",
               gs_trace_name(t), gs_format_ns(gs_trace_end_ns(t), x, sizeof x));
    }
    for (int i = 0; i < gs_trace_n_threads(t); i++) {
        if (th >= 0 && i != th)
            continue;
        putchar('\n');
        if (at_s)
            print_chain(t, i, at);
        else
            print_blame(t, i);
    }
    gs_trace_free(t);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
}
