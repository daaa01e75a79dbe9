/* bench_cli_export.c - time the exporters and the metrics on a fabricated
 * trace of about 1 000 000 intervals (through sim/base/trace_int.h).
 *
 *   bench_cli_export [--intervals N] [--dir DIR]
 *
 * Prints one line per exporter: name, seconds, output bytes. Writes into a
 * temporary folder (removed afterwards) through gs_export_file, as the CLI
 * does. Not a test: ./run.sh bench runs it (ctest label bench). */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "gilsim/gilsim.h"
#include "trace_int.h"

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

typedef struct ctx {
    const gs_trace_t *t;
    const gs_stats_t *s;
} ctx_t;

static int w_summary(FILE *f, void *c) { return gs_export_summary(((ctx_t *)c)->t, ((ctx_t *)c)->s, f); }
static int w_chrome(FILE *f, void *c) { return gs_export_chrome(((ctx_t *)c)->t, f); }
static int w_csv(FILE *f, void *c) { return gs_export_csv(((ctx_t *)c)->t, f); }
static int w_svg(FILE *f, void *c) { return gs_export_svg(((ctx_t *)c)->t, NULL, f); }

/* 8 threads in one process on 2 cores: each thread cycles io -> wait_gil ->
 * python with small varying durations; the GIL lane follows the holders. */
static gs_trace_t *fabricate(long n_target)
{
    gs_model_t *m = gs_model_new();
    m->machine.cores = 2;
    char name[32];
    for (int i = 0; i < 8; i++) {
        snprintf(name, sizeof name, "worker-%d", i);
        gs_model_add_thread(m, name, 0);
    }
    int op = gs_model_add_op_label(m, "threads[0].program[0] cpu");
    gs_trace_t *t = gs__trace_new(m);
    gs_model_free(m);
    /* Round robin: thread k holds the GIL for 50 ns at a time. */
    long per_round = 8 * 3 + 8 + 2; /* thread intervals + GIL holds + cores */
    long rounds = n_target / per_round + 1;
    int64_t now = 0;
    for (long r = 0; r < rounds; r++) {
        for (int k = 0; k < 8; k++) {
            int64_t d = 40 + (r * 7 + k) % 20;
            gs__trace_gil(t, 0, now, k);
            gs__trace_core(t, 0, now, k, GS_ST_PY, 0);
            gs__trace_thread(t, k, now, GS_ST_PY, 0, (uint32_t)op, 0);
            gs__trace_thread(t, k, now + d, GS_ST_IO, -1, GS_NO_OP, 0);
            gs__trace_thread(t, (k + 1) % 8, now + d / 2, GS_ST_WAIT_GIL, -1, GS_NO_OP, 0);
            if (k % 4 == 0)
                gs__trace_instant(t, now + d / 2, GS_IN_DROP_REQUEST, (k + 1) % 8, 0, 0);
            now += d;
        }
        gs__trace_core(t, 1, now, (int)(r % 8), GS_ST_C_NOGIL, 0);
        gs__trace_core(t, 1, now + 10, -1, GS_ST_COUNT, 0);
    }
    gs__trace_finish(t, now + 100, GS_OUT_DONE, "", 1);
    return t;
}

int main(int argc, char **argv)
{
    long n = 1000000;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--intervals") == 0 && i + 1 < argc)
            n = atol(argv[++i]);
        else if (strcmp(argv[i], "--quick") == 0)
            n = 100000;
    }
    char dir[] = "/tmp/gilsim-bench-XXXXXX";
    if (!mkdtemp(dir)) {
        perror("mkdtemp");
        return 1;
    }
    double t0 = now_s();
    gs_trace_t *t = fabricate(n);
    size_t total = 0;
    for (int i = 0; i < gs_trace_n_lanes(t); i++)
        total += gs_trace_lane(t, i)->n;
    printf("fabricated %zu intervals in %.2f s\n", total, now_s() - t0);
    gs_stats_t s;
    t0 = now_s();
    gs_stats_compute(t, &s);
    printf("%-8s %6.2f s\n", "metrics", now_s() - t0);
    ctx_t c = {t, &s};
    struct {
        const char *name, *file;
        gs_export_fn fn;
    } ex[] = {{"summary", "s.json", w_summary},
              {"chrome", "t.json", w_chrome},
              {"csv", "t.csv", w_csv},
              {"svg", "t.svg", w_svg}};
    int rc = 0;
    for (size_t k = 0; k < sizeof ex / sizeof ex[0]; k++) {
        char path[128];
        snprintf(path, sizeof path, "%s/%s", dir, ex[k].file);
        t0 = now_s();
        gs_error_t err;
        if (gs_export_file(path, ex[k].fn, &c, &err) != 0) {
            fprintf(stderr, "%s: %s\n", ex[k].name, err.msg);
            rc = 1;
        }
        double el = now_s() - t0;
        struct stat st;
        long long size = stat(path, &st) == 0 ? (long long)st.st_size : -1;
        printf("%-8s %6.2f s  %lld bytes\n", ex[k].name, el, size);
        unlink(path);
    }
    rmdir(dir);
    gs_stats_destroy(&s);
    gs_trace_free(t);
    return rc;
}
