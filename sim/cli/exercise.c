/* exercise.c - `gilsim exercise`: predict, then reveal.
 *
 * The variant, its question and its answer are the library's (exercise.h):
 * the seed picks the topic's settings (the same seed, the same exercise, the
 * same answer), the lesson runs with them, and the answer is read from the
 * run. Here: the options, asking on a terminal, and the reveal with the run's
 * figures and the causal chain at the worst moment (explain.h), so that the
 * "why" comes with the number. gilsim-view's E key does the same. */
#include "cli.h"

#include "gilsim/exercise.h"

#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef GILSIM_SCENARIOS_DIR
#define GILSIM_SCENARIOS_DIR "scenarios"
#endif

static const char *lesson_path(const char *lesson, char *buf, size_t n)
{
    const char *env = getenv("GILSIM_SCENARIOS");
    const char *dirs[] = {env, "scenarios", GILSIM_SCENARIOS_DIR};
    for (int i = 0; i < 3; i++) {
        if (!dirs[i] || !*dirs[i])
            continue;
        snprintf(buf, n, "%s/%s", dirs[i], lesson);
        if (access(buf, R_OK) == 0)
            return buf;
    }
    return NULL;
}

static const char *guess_hint(const gs_exercise_t *ex)
{
    return ex->figure == GS_EX_SPEEDUP ? "a factor such as 1.5x" : "a time such as 5ms";
}

/* On a terminal, without --guess or --answer: asks until a figure is read.
 * False at the end of the input. */
static bool ask(const gs_exercise_t *ex, double *g)
{
    char line[128];
    printf("\nYour prediction (%s): ", ex->figure == GS_EX_SPEEDUP ? "e.g. 1.5x" : "e.g. 5ms");
    fflush(stdout);
    while (fgets(line, sizeof line, stdin)) {
        if (gs_exercise_read_guess(ex, line, g))
            return true;
        printf("Please write %s: ", guess_hint(ex));
        fflush(stdout);
    }
    return false;
}

static void reveal(const gs_exercise_t *ex, const char *path, const gs_trace_t *t,
                   const gs_stats_t *s, const double *guess)
{
    int64_t at;
    int th;
    double truth = gs_exercise_answer(ex, t, s, &at, &th);
    char x[32], y[32], score[64];
    gs_exercise_format(ex, truth, x, sizeof x);
    printf("\nAnswer: %s\n", x);
    if (guess) {
        gs_exercise_format(ex, *guess, y, sizeof y);
        gs_exercise_score(*guess, truth, score, sizeof score);
        printf("You predicted %s: %s.\n", y, score);
    }
    gs_format_ns(s->makespan_ns, x, sizeof x);
    printf("The run took %s, speed-up vs serial %.2fx, %lld GIL switches (%lld forced).\n", x,
           s->speedup_vs_serial, (long long)s->gil_switches, (long long)s->gil_forced_switches);
    if (th >= 0) {
        gs_why_link_t chain[GS_WHY_MAX_CHAIN];
        int n = gs_explain(t, th, at, chain, GS_WHY_MAX_CHAIN);
        size_t need = gs_explain_text(t, at, chain, n, NULL, 0) + 1;
        char *buf = malloc(need);
        if (buf) {
            gs_explain_text(t, at, chain, n, buf, need);
            gs_format_ns(at, x, sizeof x);
            printf("\nWhy, at %s (%s's longest wait):\n%s", x, ex->thread, buf);
            free(buf);
        }
    }
    printf("\nSee it: gilsim-view %s --set %s --set %s --set seed=%llu --at %.3fms\n", path,
           ex->set[0], ex->set[1], (unsigned long long)ex->seed, (double)at / 1e6);
}

static const cli_opt_t exercise_opts[] = {
    {"--topic", true}, {"--seed", true}, {"--answer", false}, {"--guess", true},
};

typedef struct ex_args {
    const char *topic, *guess;
    long long seed;
    bool answer;
} ex_args_t;

static int parse(int argc, char **argv, ex_args_t *x)
{
    cli_args_t a = {"exercise", exercise_opts,
                    (int)(sizeof exercise_opts / sizeof exercise_opts[0]), argc, argv, 1, false};
    const cli_opt_t *o;
    const char *v;
    int r;
    while ((r = cli_next(&a, &o, &v)) != 0) {
        if (r < 0)
            return EXIT_USAGE;
        if (r == 2)
            return cli_usage_error("exercise", "unexpected argument '%s'", v);
        if (strcmp(o->name, "--topic") == 0)
            x->topic = v;
        else if (strcmp(o->name, "--answer") == 0)
            x->answer = true;
        else if (strcmp(o->name, "--guess") == 0)
            x->guess = v;
        else if (!cli_parse_i64(v, 0, INT64_MAX, &x->seed))
            return cli_usage_error("exercise", "--seed wants a whole number >= 0, got '%s'", v);
    }
    return 0;
}

int cmd_exercise(int argc, char **argv)
{
    ex_args_t x = {NULL, NULL, 1, false};
    int rc = parse(argc, argv, &x);
    if (rc)
        return rc;
    gs_exercise_t ex;
    if (gs_exercise_make(x.topic, (uint64_t)x.seed, &ex) != 0) {
        fprintf(stderr, "gilsim exercise: --topic %s: no such topic; choose one of:", x.topic);
        for (int i = 0; i < gs_exercise_n_topics(); i++)
            fprintf(stderr, " %s", gs_exercise_topic(i));
        fputc('\n', stderr);
        return EXIT_USAGE;
    }
    double g = 0;
    if (x.guess && !gs_exercise_read_guess(&ex, x.guess, &g))
        return cli_usage_error("exercise", "--guess %s: expected %s", x.guess, guess_hint(&ex));
    char path[2048], setting[320];
    if (!lesson_path(ex.lesson, path, sizeof path)) {
        fprintf(stderr, "gilsim exercise: cannot find the lesson %s (looked in $GILSIM_SCENARIOS, "
                        "./scenarios and %s)\n", ex.lesson, GILSIM_SCENARIOS_DIR);
        return EXIT_IO;
    }
    gs_override_t ov[2];
    char sets[2][160]; /* gs_override_parse splits its argument */
    for (int k = 0; k < 2; k++) {
        snprintf(sets[k], sizeof sets[k], "%s", ex.set[k]);
        gs_override_parse(sets[k], &ov[k]);
    }
    gs_exercise_settings(&ex, setting, sizeof setting);
    printf("Exercise (topic %s, seed %lld), from lesson %s\n\n", ex.topic, x.seed, ex.lesson);
    printf("%s\nThe settings: %s.\n", ex.question, setting);
    gs_trace_t *t = NULL;
    gs_stats_t s;
    rc = cli_simulate("exercise", path, ov, 2, &(cli_sim_opts_t){x.seed, 0}, &t, &s);
    if (rc)
        return rc;
    bool have_guess = x.guess != NULL;
    if (!x.guess && !x.answer && isatty(STDIN_FILENO))
        have_guess = ask(&ex, &g);
    if (!x.answer && !have_guess)
        printf("\nPredict, then see the answer with:\n  gilsim exercise --topic %s --seed %lld "
               "--guess YOUR-PREDICTION   (or --answer)\n", ex.topic, x.seed);
    else
        reveal(&ex, path, t, &s, have_guess ? &g : NULL);
    gs_stats_destroy(&s);
    gs_trace_free(t);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
}
