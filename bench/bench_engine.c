/* bench_engine.c - the engine's hot path, measured as ratios in one run.
 *
 *   1. raw: two pthreads ping-pong through two sem_t (the cost floor of a
 *      pthread-backed worker), pinned to one CPU and not pinned;
 *   2. engine: two simulated threads that each sleep 1 us in a loop, so every
 *      request needs a hand-off to the other worker; requests/s against the
 *      raw round trips/s (target: ratio >= 1, one hand-off per request);
 *   3. growth: cost per request at 10^4, 10^5 and 10^6 requests (target:
 *      within 1.5x);
 *   4. scale: 10 000 simulated threads in one run, peak RSS (target < 1 GiB).
 * `--quick` runs small sizes (for ctest's bench label). Wall-clock numbers;
 * the machine is shared, so compare ratios, not absolutes. */
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include "gilsim/gilsim.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- raw ping-pong ------------------------------------------------------ */

static sem_t ping, pong;
static long rounds;

static void *ponger(void *arg)
{
    (void)arg;
    for (long i = 0; i < rounds; i++) {
        sem_wait(&ping);
        sem_post(&pong);
    }
    return NULL;
}

static void pin_self(int cpu)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

static double raw_round_trips_per_s(long n, bool pinned)
{
    cpu_set_t saved;
    pthread_getaffinity_np(pthread_self(), sizeof saved, &saved);
    if (pinned)
        pin_self(sched_getcpu());
    sem_init(&ping, 0, 0);
    sem_init(&pong, 0, 0);
    rounds = n;
    pthread_t th;
    pthread_create(&th, NULL, ponger, NULL);
    double t0 = now_s();
    for (long i = 0; i < n; i++) {
        sem_post(&ping);
        sem_wait(&pong);
    }
    double dt = now_s() - t0;
    pthread_join(th, NULL);
    sem_destroy(&ping);
    sem_destroy(&pong);
    pthread_setaffinity_np(pthread_self(), sizeof saved, &saved);
    return (double)n / dt;
}

/* ---- engine -------------------------------------------------------------- */

static void sleeper(gs_ctx_t *c, void *user)
{
    long n = *(long *)user;
    for (long i = 0; i < n; i++)
        gs_sleep(c, 1000);
}

/* Requests per second with two threads handing the baton back and forth. */
static double engine_requests_per_s(long requests, int cpu)
{
    gs_model_t *m = gs_model_new();
    m->machine.cores = 2;
    m->processes[0].python.gil = GS_GIL_NONE; /* pure hand-off cost */
    m->max_events = 100 * requests;
    m->until_ns = INT64_MAX / 2;
    long per = requests / 2;
    for (int i = 0; i < 2; i++) {
        int t = gs_model_add_thread(m, "s", 0);
        gs_model_set_body(m, t, sleeper, &per, NULL);
    }
    gs_run_opts_t o;
    gs_run_opts_init(&o);
    o.cpu = cpu;
    gs_trace_t *tr = NULL;
    double t0 = now_s();
    int rc = gs_sim_run(m, &o, &tr, NULL);
    double dt = now_s() - t0;
    if (rc)
        fprintf(stderr, "bench: run failed: %s\n", gs_strerror(rc));
    gs_trace_free(tr);
    gs_model_free(m);
    return (double)requests / dt;
}

static void tiny(gs_ctx_t *c, void *user)
{
    (void)user;
    gs_cpu(c, 1000);
    gs_io(c, 5000);
    gs_cpu(c, 1000);
}

static void many_threads(int n)
{
    gs_model_t *m = gs_model_new();
    m->machine.cores = 4;
    for (int i = 0; i < n; i++) {
        char name[32];
        snprintf(name, sizeof name, "t%d", i);
        int t = gs_model_add_thread(m, name, 0);
        gs_model_set_body(m, t, tiny, NULL, NULL);
        m->threads[t].start_at_ns = (int64_t)i * 100;
    }
    gs_trace_t *tr = NULL;
    gs_error_t err;
    double t0 = now_s();
    int rc = gs_sim_run(m, NULL, &tr, &err);
    double dt = now_s() - t0;
    struct rusage ru;
    getrusage(RUSAGE_SELF, &ru);
    printf("scale: %d threads: %s in %.2f s, %lld events, peak RSS %.0f MiB (target < 1024)\n", n,
           rc ? err.msg : "completed", dt, tr ? (long long)gs_trace_events(tr) : 0LL,
           (double)ru.ru_maxrss / 1024.0);
    gs_trace_free(tr);
    gs_model_free(m);
}

int main(int argc, char **argv)
{
    bool quick = argc > 1 && strcmp(argv[1], "--quick") == 0;
    long n = quick ? 20000 : 200000;
    printf("gilsim %s engine benchmark (%s)\n", GS_VERSION, quick ? "quick" : "full");
    double raw_pin = raw_round_trips_per_s(n, true);
    double raw_free = raw_round_trips_per_s(n, false);
    printf("raw sem_t round trips/s: pinned to one CPU %.0f (%.2f us), unpinned %.0f (%.2f us)\n",
           raw_pin, 1e6 / raw_pin, raw_free, 1e6 / raw_free);
    double eng_pin = engine_requests_per_s(n, GS_CPU_AUTO);
    double eng_free = engine_requests_per_s(n, GS_CPU_NONE);
    printf("engine requests/s (one hand-off each): pinned %.0f (%.2f us), unpinned %.0f (%.2f us)\n",
           eng_pin, 1e6 / eng_pin, eng_free, 1e6 / eng_free);
    printf("ratio engine/raw: pinned %.2f, unpinned %.2f (target >= 1)\n", eng_pin / raw_pin,
           eng_free / raw_free);

    long sizes[] = {10000, 100000, 1000000};
    int n_sizes = quick ? 2 : 3;
    double base = 0;
    for (int i = 0; i < n_sizes; i++) {
        double r = engine_requests_per_s(sizes[i], GS_CPU_AUTO);
        double us = 1e6 / r;
        if (i == 0)
            base = us;
        printf("growth: %7ld requests: %.0f requests/s, %.2f us each, %.2fx the 10^4 cost\n",
               sizes[i], r, us, us / base);
    }
    many_threads(quick ? 1000 : 10000);
    return 0;
}
