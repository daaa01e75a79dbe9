/* exercise.c - `gilsim exercise`: predict, then reveal.
 *
 * A topic is a lesson and the settings a seed varies in it (the switch
 * interval, a C call's length, the number of cores...), and the key figure
 * the student predicts (the I/O-to-GIL p50, a thread's longest wait, the
 * speed-up, the run time). The seed picks the variant (the same seed, the
 * same exercise, the same answer); the answer is the simulation's, revealed
 * with the run's figures and the causal chain at the worst moment (explain.h)
 * so the "why" comes with the number. */
#include "cli.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef GILSIM_SCENARIOS_DIR
#define GILSIM_SCENARIOS_DIR "scenarios"
#endif

typedef enum figure { FIG_IO_P50, FIG_LONGEST_WAIT, FIG_SPEEDUP, FIG_MAKESPAN } figure_t;

typedef struct topic {
    const char *name, *lesson, *question; /* the settings follow the question */
    figure_t fig;
    const char *thread; /* whose figure, or NULL for the run's */
    const char *key[2];
    const char *values[2][4]; /* the seed picks one per key */
} topic_t;

static const topic_t topics[] = {
    {"convoy", "03-convoy.json",
     "The server does 20 short I/O calls beside a CPU-bound cruncher. How long, as a\n"
     "median, does the server wait from the end of each I/O call until it holds the GIL again?",
     FIG_IO_P50, "server", {"python.switch_interval", "machine.cores"},
     {{"1ms", "2ms", "5ms", "10ms"}, {"1", "2", "4", "2"}}},
    {"switch-interval", "04-switch-interval.json",
     "A server doing I/O calls beside a CPU-bound cruncher. What is the server's median\n"
     "delay from the end of an I/O call to holding the GIL again?",
     FIG_IO_P50, "server", {"python.switch_interval", "threads[1].program[0].do[0].io"},
     {{"0.5ms", "2ms", "5ms", "20ms"}, {"5ms", "10ms", "20ms", "2ms"}}},
    {"c-calls", "06-c-keeps-gil.json",
     "A heartbeat ticks every 4 ms while a worker makes a C call that keeps the GIL.\n"
     "What is the heartbeat's longest wait for the GIL?",
     FIG_LONGEST_WAIT, "heartbeat", {"threads[1].program[1].c_call", "python.switch_interval"},
     {{"20ms", "40ms", "80ms", "30ms"}, {"1ms", "5ms", "10ms", "5ms"}}},
    {"cores", "02-two-threads.json",
     "Two CPU-bound threads of 100 ms each. What speed-up over running them one after\n"
     "the other do they get (serial time / run time)?",
     FIG_SPEEDUP, NULL, {"machine.cores", "python.gil"},
     {{"1", "2", "4", "2"}, {"cpython3", "none", "none", "cpython2"}}},
    {"locks", "11-lock-contention.json",
     "Four writers each do 5 times: 1 ms of Python, then 2 ms of I/O holding the 'log'\n"
     "lock. How long does the whole run take?",
     FIG_MAKESPAN, NULL, {"machine.cores", "python.gil"},
     {{"1", "2", "4", "8"}, {"cpython3", "none", "cpython3", "none"}}},
};
#define N_TOPICS ((int)(sizeof topics / sizeof topics[0]))

static uint64_t mix(uint64_t x)
{
    x += 0x9E3779B97F4A7C15u;
    x = (x ^ (x >> 30)) * 0xBF58476D1CE4E5B9u;
    x = (x ^ (x >> 27)) * 0x94D049BB133111EBu;
    return x ^ (x >> 31);
}

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

/* The figure, and in *at the instant that shows it best (for the chain). */
static double figure(const topic_t *tp, const gs_trace_t *t, const gs_stats_t *s, int th,
                     int64_t *at)
{
    *at = s->makespan_ns / 2;
    switch (tp->fig) {
    case FIG_IO_P50:
    case FIG_LONGEST_WAIT: {
        /* the longest wait for the GIL: where the chain is told */
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
        int64_t best = 0;
        for (size_t i = 0; i < l->n; i++)
            if (l->iv[i].state == GS_ST_WAIT_GIL && l->iv[i].end_ns - l->iv[i].start_ns > best) {
                best = l->iv[i].end_ns - l->iv[i].start_ns;
                *at = l->iv[i].start_ns + best / 2;
            }
        return tp->fig == FIG_IO_P50 ? (double)s->threads[th].io_to_gil.p50 : (double)best;
    }
    case FIG_SPEEDUP:
        return s->speedup_vs_serial;
    default:
        return (double)s->makespan_ns;
    }
}

static void show(const topic_t *tp, double v, char *buf, size_t n)
{
    if (tp->fig == FIG_SPEEDUP)
        snprintf(buf, n, "%.2fx", v);
    else
        gs_format_ns((int64_t)v, buf, n);
}

/* A prediction: "5ms", "1.5x" or a bare number in the figure's unit (ms for
 * times). Returns false when it cannot be read. */
static bool read_guess(const topic_t *tp, const char *s, double *out)
{
    while (isspace((unsigned char)*s))
        s++;
    char word[64];
    snprintf(word, sizeof word, "%s", s);
    word[strcspn(word, " \t\r\n")] = '\0';
    if (!*word)
        return false;
    char *end;
    double x = strtod(word, &end);
    if (end == word)
        return false;
    if (tp->fig == FIG_SPEEDUP) {
        *out = x;
        return !*end || strcmp(end, "x") == 0;
    }
    int64_t ns;
    char why[160];
    if (!*end) {
        *out = x * 1e6; /* a bare number: milliseconds, as the question shows */
        return true;
    }
    if (gs_parse_ns(word, &ns, why, sizeof why) != 0)
        return false;
    *out = (double)ns;
    return true;
}

static const cli_opt_t exercise_opts[] = {
    {"--topic", true}, {"--seed", true}, {"--answer", false}, {"--guess", true},
};

int cmd_exercise(int argc, char **argv)
{
    cli_args_t a = {"exercise", exercise_opts,
                    (int)(sizeof exercise_opts / sizeof exercise_opts[0]), argc, argv, 1, false};
    const char *topic = NULL, *guess = NULL;
    long long seed = 1;
    bool answer = false;
    const cli_opt_t *o;
    const char *v;
    int r;
    while ((r = cli_next(&a, &o, &v)) != 0) {
        if (r < 0)
            return EXIT_USAGE;
        if (r == 2)
            return cli_usage_error("exercise", "unexpected argument '%s'", v);
        if (strcmp(o->name, "--topic") == 0)
            topic = v;
        else if (strcmp(o->name, "--answer") == 0)
            answer = true;
        else if (strcmp(o->name, "--guess") == 0)
            guess = v;
        else if (!cli_parse_i64(v, 0, INT64_MAX, &seed))
            return cli_usage_error("exercise", "--seed wants a whole number >= 0, got '%s'", v);
    }
    const topic_t *tp = NULL;
    for (int i = 0; i < N_TOPICS; i++)
        if (!topic || strcmp(topics[i].name, topic) == 0) {
            tp = topic ? &topics[i] : &topics[mix((uint64_t)seed) % N_TOPICS];
            break;
        }
    if (!tp) {
        fprintf(stderr, "gilsim exercise: --topic %s: no such topic; choose one of:", topic);
        for (int i = 0; i < N_TOPICS; i++)
            fprintf(stderr, " %s", topics[i].name);
        fputc('\n', stderr);
        return EXIT_USAGE;
    }
    char path[2048];
    if (!lesson_path(tp->lesson, path, sizeof path)) {
        fprintf(stderr, "gilsim exercise: cannot find the lesson %s (looked in $GILSIM_SCENARIOS, "
                        "./scenarios and %s)\n", tp->lesson, GILSIM_SCENARIOS_DIR);
        return EXIT_IO;
    }
    /* The variant: one value per key, from the seed. */
    char sets[2][160], shown[2][160];
    gs_override_t ov[2];
    char setting[320] = "";
    for (int k = 0; k < 2; k++) {
        const char *val = tp->values[k][mix((uint64_t)seed * 2 + (uint64_t)k + 1) % 4];
        snprintf(sets[k], sizeof sets[k], "%s=%s", tp->key[k], val);
        snprintf(shown[k], sizeof shown[k], "%s", sets[k]); /* parse splits sets[k] */
        gs_override_parse(sets[k], &ov[k]);
        size_t u = strlen(setting);
        snprintf(setting + u, sizeof setting - u, "%s%s = %s", k ? ", " : "", tp->key[k], val);
    }
    printf("Exercise (topic %s, seed %lld), from lesson %s\n\n", tp->name, seed, tp->lesson);
    printf("%s\nThe settings: %s.\n", tp->question, setting);
    gs_trace_t *t = NULL;
    gs_stats_t s;
    int rc = cli_simulate("exercise", path, ov, 2, &(cli_sim_opts_t){seed, 0}, &t, &s);
    if (rc)
        return rc;
    int th = tp->thread ? gs_trace_find_thread(t, tp->thread) : -1;
    int64_t at;
    double truth = figure(tp, t, &s, th < 0 ? 0 : th, &at);
    double g = 0;
    bool have_guess = false;
    if (guess) {
        if (!read_guess(tp, guess, &g)) {
            gs_stats_destroy(&s);
            gs_trace_free(t);
            return cli_usage_error("exercise", "--guess %s: expected %s", guess,
                                   tp->fig == FIG_SPEEDUP ? "a factor such as 1.5x"
                                                          : "a time such as 5ms");
        }
        have_guess = true;
    } else if (!answer && isatty(STDIN_FILENO)) {
        char line[128];
        printf("\nYour prediction (%s): ", tp->fig == FIG_SPEEDUP ? "e.g. 1.5x" : "e.g. 5ms");
        fflush(stdout);
        while (fgets(line, sizeof line, stdin)) {
            if (read_guess(tp, line, &g)) {
                have_guess = true;
                break;
            }
            printf("Please write %s: ", tp->fig == FIG_SPEEDUP ? "a factor such as 1.5x"
                                                               : "a time such as 5ms");
            fflush(stdout);
        }
    }
    if (!answer && !have_guess) {
        printf("\nPredict, then see the answer with:\n  gilsim exercise --topic %s --seed %lld "
               "--guess YOUR-PREDICTION   (or --answer)\n", tp->name, seed);
        gs_stats_destroy(&s);
        gs_trace_free(t);
        return EXIT_OK;
    }
    char x[32], y[32];
    show(tp, truth, x, sizeof x);
    printf("\nAnswer: %s\n", x);
    if (have_guess) {
        show(tp, g, y, sizeof y);
        double err = truth != 0 ? (g - truth) / truth * 100 : 0;
        printf("You predicted %s: %s by %.0f%%.\n", y,
               err > 0 ? "too high" : err < 0 ? "too low" : "exact", err < 0 ? -err : err);
    }
    gs_format_ns(s.makespan_ns, x, sizeof x);
    printf("The run took %s, speed-up vs serial %.2fx, %lld GIL switches (%lld forced).\n", x,
           s.speedup_vs_serial, (long long)s.gil_switches, (long long)s.gil_forced_switches);
    if (th >= 0) {
        gs_why_link_t chain[GS_WHY_MAX_CHAIN];
        int n = gs_explain(t, th, at, chain, GS_WHY_MAX_CHAIN);
        size_t need = gs_explain_text(t, at, chain, n, NULL, 0) + 1;
        char *buf = malloc(need);
        if (buf) {
            gs_explain_text(t, at, chain, n, buf, need);
            gs_format_ns(at, x, sizeof x);
            printf("\nWhy, at %s (%s's longest wait):\n%s", x, tp->thread, buf);
            free(buf);
        }
    }
    printf("\nSee it: gilsim-view %s --set %s --set %s --set seed=%lld --at %.3fms\n", path,
           shown[0], shown[1], seed, (double)at / 1e6);
    gs_stats_destroy(&s);
    gs_trace_free(t);
    return fflush(stdout) == 0 ? EXIT_OK : EXIT_IO;
}
