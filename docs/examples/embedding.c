/* embedding.c - a complete program using libgilsim from C.
 *
 * Two threads share one process (one GIL): a CPU-bound "cruncher" and a
 * "poller" written as C code with a loop and a branch on simulated time.
 * It prints how long the poller waited for the GIL after each I/O call,
 * then the same with the GIL switched off. */
#include <stdio.h>
#include <stdlib.h>

#include <gilsim/gilsim.h>

typedef struct poller {
    int polls; /* how many I/O calls it made */
} poller_t;

/* A thread body: plain sequential C. Each gs_* call returns once the
 * simulated operation is done in virtual time. */
static void poll_body(gs_ctx_t *ctx, void *user)
{
    poller_t *p = user;
    while (gs_now(ctx) < 50 * 1000000LL) { /* for 50 ms of simulated time */
        gs_io(ctx, 200 * 1000);            /* wait 200 us for the network */
        gs_cpu(ctx, 30 * 1000);            /* parse the answer: 30 us of Python */
        p->polls++;
    }
}

static void crunch_body(gs_ctx_t *ctx, void *user)
{
    (void)user;
    gs_cpu(ctx, 60 * 1000000LL); /* 60 ms of pure Python */
}

static int run(gs_gil_kind_t gil)
{
    gs_model_t *m = gs_model_new(); /* 2 cores, cfs, one process "main" */
    if (!m)
        return 1;
    m->processes[0].python.gil = gil;
    poller_t poller = {0};
    int cruncher = gs_model_add_thread(m, "cruncher", 0);
    int server = gs_model_add_thread(m, "poller", 0);
    gs_model_set_body(m, cruncher, crunch_body, NULL, NULL);
    gs_model_set_body(m, server, poll_body, &poller, NULL);

    gs_trace_t *trace = NULL;
    gs_error_t err;
    int rc = gs_sim_run(m, NULL, &trace, &err);
    if (rc != 0) {
        fprintf(stderr, "run failed: %s: %s\n", gs_strerror(rc), err.msg);
        gs_trace_free(trace);
        gs_model_free(m);
        return 1;
    }
    gs_stats_t st;
    if (gs_stats_compute(trace, &st) == 0) {
        const gs_thread_stats_t *ps = &st.threads[server];
        printf("%-8s: %d polls, I/O-to-GIL p50 %.2f ms, makespan %.1f ms\n", gs_gil_name(gil),
               poller.polls, (double)ps->io_to_gil.p50 / 1e6, (double)st.makespan_ns / 1e6);
        gs_stats_destroy(&st);
    }
    gs_trace_free(trace);
    gs_model_free(m);
    return 0;
}

int main(void)
{
    if (run(GS_GIL_CPYTHON3) || run(GS_GIL_NONE))
        return EXIT_FAILURE;
    return EXIT_SUCCESS;
}
