/* check_job.c - the viewer's hand-off between the window thread and the
 * thread that simulates (ui/job.c), without SDL, so that the ThreadSanitizer
 * build runs it too (label unit; ./run.sh tsan). The jobs run real
 * simulations: the engine's progress and cancel are what the window uses. */
#include <check.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "job.h"
#include "tu_main.h"

/* Two threads doing 1 us of Python and 1 us of I/O for ever: every op is a
 * hand-off to a worker, so a run takes seconds to reach even a small budget
 * while its trace grows slowly. */
static const char *LONG_RUN =
    "{\"until\": \"1000s\", \"max_events\": 1000000000000, \"threads\": ["
    "{\"name\": \"a\", \"program\": [{\"repeat\": 1000000000, \"do\": [{\"cpu\": \"1us\"}, "
    "{\"io\": \"1us\"}]}]},"
    "{\"name\": \"b\", \"program\": [{\"repeat\": 1000000000, \"do\": [{\"cpu\": \"1us\"}, "
    "{\"io\": \"1us\"}]}]}]}";
/* The memory bomb: zero-time puts into an unbounded queue. */
static const char *BOMB = "{\"until\":\"1000s\",\"max_events\":1000000000000,\"queues\":{\"q\":{}},"
                          "\"threads\":[{\"name\":\"p\",\"program\":[{\"repeat\":1000000000,"
                          "\"do\":[{\"put\":\"q\"}]}]}]}";
static const char *SHORT_RUN = "{\"threads\": [{\"name\": \"a\", \"program\": [{\"repeat\": 200, "
                               "\"do\": [{\"cpu\": \"1ms\"}, {\"io\": \"1ms\"}]}]},"
                               "{\"name\": \"b\", \"program\": [{\"cpu\": \"300ms\"}]}]}";

typedef struct sim_arg {
    const char *json;
    size_t budget;     /* 0: the default */
    gs_trace_t *trace; /* written by the job, read after gv_job_wait */
    int rc;
} sim_arg_t;

static int sim_fn(gv_job_t *j, void *p)
{
    sim_arg_t *a = p;
    gs_model_t *m = NULL;
    gs_diag_t *d = calloc(1, sizeof *d);
    if (!d)
        return GS_ENOMEM;
    int rc = gs_scenario_load_string("job.json", a->json, strlen(a->json), NULL, 0, &m, d);
    free(d);
    if (rc != 0)
        return rc;
    gs_run_opts_t o;
    gs_run_opts_init(&o);
    if (a->budget)
        o.memory_budget = a->budget;
    gv_job_run_opts(j, &o);
    gv_job_set_phase(j, 2, m->until_ns);
    a->rc = gs_sim_run(m, &o, &a->trace, NULL);
    gs_model_free(m);
    return a->trace ? 0 : a->rc;
}

static double now_s(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static void sleep_ms(int ms)
{
    struct timespec t = {ms / 1000, (long)(ms % 1000) * 1000000L};
    nanosleep(&t, NULL);
}

/* ---- core ------------------------------------------------------------------- */

START_TEST(test_job_result_is_the_window_threads_after_wait)
{
    static gv_job_t j;
    sim_arg_t a = {SHORT_RUN, 0, NULL, 0};
    ck_assert_int_eq(gv_job_start(&j, sim_fn, &a), 0);
    ck_assert(gv_job_running(&j));
    int rc = -99;
    ck_assert(gv_job_wait(&j, -1, &rc));
    ck_assert(!gv_job_running(&j));
    ck_assert_int_eq(rc, 0);
    ck_assert_ptr_nonnull(a.trace);
    ck_assert_int_eq(gs_trace_outcome(a.trace), GS_OUT_DONE);
    /* the progress is the run's: its last event, its trace, within the end */
    gv_job_progress_t p;
    gv_job_progress(&j, &p);
    ck_assert_int_eq(p.phase, 2);
    ck_assert_int_gt(p.n_events, 400); /* 200 x (cpu, io) and the other thread */
    ck_assert_int_gt(p.now_ns, 0);
    ck_assert_int_le(p.now_ns, gs_trace_end_ns(a.trace));
    ck_assert_uint_gt(p.bytes, 0);
    gs_trace_free(a.trace);
}
END_TEST

static _Atomic int gate;

static int gated_fn(gv_job_t *j, void *p)
{
    while (!atomic_load(&gate) && !gv_job_cancelled(j))
        sleep_ms(1);
    *(int *)p = 42;
    return gv_job_cancelled(j) ? GS_ESTOPPED : 7;
}

START_TEST(test_job_wait_with_a_timeout_only_looks)
{
    static gv_job_t j;
    int out = 0, rc = 0;
    atomic_store(&gate, 0);
    ck_assert_int_eq(gv_job_start(&j, gated_fn, &out), 0);
    ck_assert(!gv_job_wait(&j, 0, &rc));
    ck_assert(!gv_job_wait(&j, 30, &rc));
    ck_assert(gv_job_running(&j));
    ck_assert_int_eq(gv_job_start(&j, gated_fn, &out), GS_EINVAL); /* one at a time */
    atomic_store(&gate, 1);
    ck_assert(gv_job_wait(&j, -1, &rc));
    ck_assert_int_eq(rc, 7);
    ck_assert_int_eq(out, 42);
    ck_assert(!gv_job_wait(&j, 0, &rc)); /* nothing running any more */
}
END_TEST

START_TEST(test_job_runs_again_and_again)
{
    static gv_job_t j;
    for (int i = 0; i < 50; i++) {
        int out = 0, rc = 0;
        atomic_store(&gate, 1);
        ck_assert_int_eq(gv_job_start(&j, gated_fn, &out), 0);
        ck_assert(gv_job_wait(&j, -1, &rc));
        ck_assert_int_eq(rc, 7);
        ck_assert_int_eq(out, 42);
    }
}
END_TEST

/* ---- limits ------------------------------------------------------------------ */

START_TEST(test_job_cancel_stops_a_long_run_at_once)
{
    static gv_job_t j;
    /* ~20 s to reach this budget here; cancelled after its progress moved */
    sim_arg_t a = {LONG_RUN, (size_t)1 << 30, NULL, 0};
    ck_assert_int_eq(gv_job_start(&j, sim_fn, &a), 0);
    gv_job_progress_t p, q;
    memset(&p, 0, sizeof p);
    double t0 = now_s();
    int moves = 0;
    while (moves < 3 && now_s() - t0 < 60) {
        sleep_ms(20);
        gv_job_progress(&j, &q);
        ck_assert_int_ge(q.now_ns, p.now_ns); /* one run: its time only grows */
        ck_assert_int_ge(q.n_events, p.n_events);
        if (q.n_events > p.n_events)
            moves++;
        p = q;
    }
    ck_assert_int_ge(moves, 3);
    ck_assert_int_eq(p.until_ns, 1000 * (int64_t)1000000000);
    ck_assert_int_lt(p.now_ns, p.until_ns);
    double tc = now_s();
    gv_job_cancel(&j);
    int rc = -99;
    /* it stops at its next event: seconds only if the machine is very busy */
    ck_assert_msg(gv_job_wait(&j, 15000, &rc), "a cancelled run still ran after 15 s");
    double waited = now_s() - tc;
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(gs_trace_outcome(a.trace), GS_OUT_INTERRUPTED);
    ck_assert_msg(strstr(gs_trace_message(a.trace), "interrupted") != NULL, "%s",
                  gs_trace_message(a.trace));
    fprintf(stderr, "check_job: cancelled after %.2f s of simulating, stopped %.3f s later\n",
            tc - t0, waited);
    gs_trace_free(a.trace);
}
END_TEST

START_TEST(test_job_memory_bomb_stops_at_the_budget)
{
    static gv_job_t j;
    size_t budget = (size_t)16 << 20;
    sim_arg_t a = {BOMB, budget, NULL, 0};
    ck_assert_int_eq(gv_job_start(&j, sim_fn, &a), 0);
    int rc = -99;
    ck_assert(gv_job_wait(&j, -1, &rc));
    ck_assert_int_eq(rc, 0);
    ck_assert_int_eq(a.rc, GS_ELIMIT);
    ck_assert_int_eq(gs_trace_outcome(a.trace), GS_OUT_LIMIT);
    ck_assert_msg(strstr(gs_trace_message(a.trace), "memory budget of 16 MiB") != NULL, "%s",
                  gs_trace_message(a.trace));
    gv_job_progress_t p;
    gv_job_progress(&j, &p);
    /* the last progress is the last event before the bound: within one
     * event's records of it (docs/limits.md), and more than half of it */
    ck_assert_uint_gt(p.bytes, budget / 2);
    ck_assert_uint_le(p.bytes, 2 * budget); /* arrays grow by doubling */
    gs_trace_free(a.trace);
}
END_TEST

static Suite *job_suite(void)
{
    Suite *s = suite_create("job");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_job_result_is_the_window_threads_after_wait);
    tcase_add_test(core, test_job_wait_with_a_timeout_only_looks);
    tcase_add_test(core, test_job_runs_again_and_again);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 180);
    tcase_add_test(limits, test_job_cancel_stops_a_long_run_at_once);
    tcase_add_test(limits, test_job_memory_bomb_stops_at_the_budget);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return tu_main(job_suite());
}
