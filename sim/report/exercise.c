/* exercise.c - predict, then reveal (exercise.h).
 *
 * The topics: a lesson, the two settings a seed varies in it, and the key
 * figure to predict. The seed picks one value per setting through a mixing
 * function (splitmix64's finaliser), so neighbouring seeds give unrelated
 * variants and the same seed always the same one. The answer is read from
 * the run of the variant (stats.h), never stored: it is the model's. */
#include "gilsim/exercise.h"
#include "gilsim/explain.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gilsim/units.h"

typedef struct topic {
    const char *name, *lesson, *question;
    gs_ex_figure_t fig;
    const char *thread;
    const char *key[2];
    const char *values[2][4]; /* the seed picks one per key */
} topic_t;

static const topic_t topics[] = {
    {"convoy", "03-convoy.json",
     "The server does 20 short I/O calls beside a CPU-bound cruncher. How long, as a\n"
     "median, does the server wait from the end of each I/O call until it holds the GIL again?",
     GS_EX_IO_TO_GIL_P50, "server", {"python.switch_interval", "machine.cores"},
     {{"1ms", "2ms", "5ms", "10ms"}, {"1", "2", "4", "2"}}},
    {"switch-interval", "04-switch-interval.json",
     "A server doing I/O calls beside a CPU-bound cruncher. What is the server's median\n"
     "delay from the end of an I/O call to holding the GIL again?",
     GS_EX_IO_TO_GIL_P50, "server", {"python.switch_interval", "threads[1].program[0].do[0].io"},
     {{"0.5ms", "2ms", "5ms", "20ms"}, {"5ms", "10ms", "20ms", "2ms"}}},
    {"c-calls", "06-c-keeps-gil.json",
     "A heartbeat ticks every 4 ms while a worker makes a C call that keeps the GIL.\n"
     "What is the heartbeat's longest wait for the GIL?",
     GS_EX_LONGEST_WAIT, "heartbeat", {"threads[1].program[1].c_call", "python.switch_interval"},
     {{"20ms", "40ms", "80ms", "30ms"}, {"1ms", "5ms", "10ms", "5ms"}}},
    {"cores", "02-two-threads.json",
     "Two CPU-bound threads of 100 ms each. What speed-up over running them one after\n"
     "the other do they get (serial time / run time)?",
     GS_EX_SPEEDUP, NULL, {"machine.cores", "python.gil"},
     {{"1", "2", "4", "2"}, {"cpython3", "none", "none", "cpython2"}}},
    {"locks", "11-lock-contention.json",
     "Four writers each do 5 times: 1 ms of Python, then 2 ms of I/O holding the 'log'\n"
     "lock. How long does the whole run take?",
     GS_EX_MAKESPAN, NULL, {"machine.cores", "python.gil"},
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

int gs_exercise_n_topics(void)
{
    return N_TOPICS;
}

const char *gs_exercise_topic(int i)
{
    return i >= 0 && i < N_TOPICS ? topics[i].name : NULL;
}

int gs_exercise_make(const char *topic, uint64_t seed, gs_exercise_t *ex)
{
    memset(ex, 0, sizeof *ex);
    const topic_t *tp = NULL;
    for (int i = 0; i < N_TOPICS && !tp; i++)
        if (!topic || strcmp(topics[i].name, topic) == 0)
            tp = topic ? &topics[i] : &topics[mix(seed) % N_TOPICS];
    if (!tp)
        return GS_EINVAL;
    ex->topic = tp->name;
    ex->lesson = tp->lesson;
    ex->question = tp->question;
    ex->thread = tp->thread;
    ex->figure = tp->fig;
    ex->seed = seed;
    for (int k = 0; k < 2; k++)
        snprintf(ex->set[k], sizeof ex->set[k], "%s=%s", tp->key[k],
                 tp->values[k][mix(seed * 2 + (uint64_t)k + 1) % 4]);
    return 0;
}

void gs_exercise_settings(const gs_exercise_t *ex, char *buf, size_t n)
{
    size_t used = 0;
    if (n)
        buf[0] = '\0';
    for (int k = 0; k < 2 && used < n; k++) {
        const char *eq = strchr(ex->set[k], '=');
        int klen = eq ? (int)(eq - ex->set[k]) : (int)strlen(ex->set[k]);
        int w = snprintf(buf + used, n - used, "%s%.*s = %s", k ? ", " : "", klen, ex->set[k],
                         eq ? eq + 1 : "");
        used += w > 0 ? (size_t)w : 0;
    }
}

/* Where the reveal puts the playhead: in thread th's longest wait for the
 * GIL (its length in *longest), by the rule of the viewer's opening instant
 * (gv_view_opening), so that the chain is told whole: the middle of the
 * stretch during which the waiter's own drop request was pending, in the
 * longest wait if it had one, else in the longest wait that had one; else
 * the longest wait's middle (a request dropped at once is never pending). (The middle of the wait
 * itself came before the request was set, as a waiter sets it only after one
 * switch interval, and the chain said "no drop request pending".) fallback
 * when the thread never waited. */
static int64_t reveal_at(const gs_trace_t *t, int th, int64_t *longest, int64_t fallback)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
    size_t best = l->n;
    for (size_t i = 0; i < l->n; i++)
        if (l->iv[i].state == GS_ST_WAIT_GIL &&
            (best == l->n ||
             l->iv[i].end_ns - l->iv[i].start_ns > l->iv[best].end_ns - l->iv[best].start_ns))
            best = i;
    if (best == l->n)
        return fallback;
    *longest = l->iv[best].end_ns - l->iv[best].start_ns;
    int64_t ra, rb;
    if (gs_why_own_request(t, th, best, &ra, &rb))
        return ra + (rb - ra) / 2;
    int64_t found = -1, found_d = 0;
    for (size_t i = 0; i < l->n; i++) {
        int64_t d = l->iv[i].end_ns - l->iv[i].start_ns;
        if (l->iv[i].state == GS_ST_WAIT_GIL && d > found_d &&
            gs_why_own_request(t, th, i, &ra, &rb)) {
            found = ra + (rb - ra) / 2;
            found_d = d;
        }
    }
    if (found >= 0)
        return found;
    return l->iv[best].start_ns + *longest / 2;
}

double gs_exercise_answer(const gs_exercise_t *ex, const gs_trace_t *t, const gs_stats_t *s,
                          int64_t *at, int *thread)
{
    *at = s->makespan_ns / 2;
    *thread = -1;
    if (ex->figure == GS_EX_SPEEDUP)
        return s->speedup_vs_serial;
    if (ex->figure == GS_EX_MAKESPAN)
        return (double)s->makespan_ns;
    int th = -1;
    for (int i = 0; i < gs_trace_n_threads(t) && ex->thread; i++)
        if (strcmp(gs_trace_lane(t, gs_trace_thread_lane(t, i))->name, ex->thread) == 0)
            th = i;
    if (th < 0 || th >= s->n_threads)
        return 0;
    *thread = th;
    int64_t best = 0;
    *at = reveal_at(t, th, &best, *at);
    return ex->figure == GS_EX_IO_TO_GIL_P50 ? (double)s->threads[th].io_to_gil.p50 : (double)best;
}

void gs_exercise_format(const gs_exercise_t *ex, double v, char *buf, size_t n)
{
    if (ex->figure == GS_EX_SPEEDUP)
        snprintf(buf, n, "%.2fx", v);
    else
        gs_format_ns((int64_t)v, buf, n);
}

bool gs_exercise_read_guess(const gs_exercise_t *ex, const char *s, double *out)
{
    char word[64]; /* without spaces: "5 ms" as the answer shows it is "5ms" */
    size_t k = 0;
    for (; *s && k + 1 < sizeof word; s++)
        if (!isspace((unsigned char)*s))
            word[k++] = *s;
    word[k] = '\0';
    if (!*word || *s)
        return false;
    char *end;
    double x = strtod(word, &end);
    if (end == word || x < 0)
        return false;
    if (ex->figure == GS_EX_SPEEDUP) {
        *out = x;
        return !*end || strcmp(end, "x") == 0;
    }
    if (!*end) {
        *out = x * 1e6; /* a bare number: milliseconds, as the question shows */
        return true;
    }
    int64_t ns;
    char why[160];
    if (gs_parse_ns(word, &ns, why, sizeof why) != 0)
        return false;
    *out = (double)ns;
    return true;
}

void gs_exercise_score(double guess, double answer, char *buf, size_t n)
{
    double err = answer != 0 ? (guess - answer) / answer * 100 : 0;
    if (err > -0.5 && err < 0.5)
        snprintf(buf, n, "exact");
    else
        snprintf(buf, n, "too %s by %.0f%%", err > 0 ? "high" : "low", err < 0 ? -err : err);
}
