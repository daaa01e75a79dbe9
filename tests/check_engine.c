/* check_engine.c - the engine: clock, workers, baton, determinism, limits. */
#include <check.h>
#include <dirent.h>
#include <sys/syscall.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

/* ---- core ---------------------------------------------------------------- */

START_TEST(test_engine_one_thread_runs_its_cpu_time)
{
    gs_model_t *m = tu_model(1, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    tu_thread(m, "a", 1, tu_cpu(MS(10)));
    gs_trace_t *t = tu_run(m, NULL);
    ck_assert_int_eq(tu_time_in(t, 0, GS_ST_PY), MS(10));
    ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_DONE);
    ck_assert_int_le(tu_finish(t, 0), MS(10) + US(100));
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

static void body_loops(gs_ctx_t *c, void *user)
{
    int *n = user;
    /* a C body with a loop and a branch on simulated time */
    while (gs_now(c) < MS(5)) {
        gs_cpu(c, US(100));
        if ((gs_rand(c) & 1) == 0)
            gs_io(c, US(50));
        (*n)++;
    }
}

START_TEST(test_engine_c_body_loops_on_virtual_time)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int n = 0;
    int th = gs_model_add_thread(m, "looper", 0);
    gs_model_set_body(m, th, body_loops, &n, NULL);
    gs_trace_t *t = tu_run(m, NULL);
    ck_assert_int_gt(n, 10);
    ck_assert_int_ge(tu_finish(t, 0), MS(5));
    ck_assert_int_eq(tu_time_in(t, 0, GS_ST_PY), (int64_t)n * US(100));
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

static int count_tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

/* Task count at rest. Sanitizers start a helper thread of their own at the
 * first pthread_create, so a warm-up run comes first. */
static int tasks_at_rest(const gs_model_t *m)
{
    gs_trace_t *t = NULL;
    gs_sim_run(m, NULL, &t, NULL);
    gs_trace_free(t);
    return count_tasks();
}

static pid_t tids[64];
static int n_tids, n_missing;
static void body_count(gs_ctx_t *c, void *user)
{
    (void)user;
    gs_sleep(c, MS(1)); /* every body is inside this call at the same time */
    tids[n_tids++] = (pid_t)syscall(SYS_gettid);
    for (int i = 0; i < n_tids; i++) { /* and every earlier one still lives */
        char path[64];
        snprintf(path, sizeof path, "/proc/self/task/%d", (int)tids[i]);
        n_missing += access(path, F_OK) != 0;
    }
    gs_cpu(c, US(10));
}

START_TEST(test_engine_n_threads_are_n_live_pthreads)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    for (int i = 0; i < 50; i++) {
        int th = gs_model_add_thread(m, "w", 0);
        gs_model_set_body(m, th, body_count, NULL, NULL);
    }
    for (int round = 0; round < 2; round++) { /* fresh workers, then pooled ones */
        n_tids = n_missing = 0;
        gs_trace_t *t = tu_run(m, NULL);
        ck_assert_int_eq(n_tids, 50);
        ck_assert_int_eq(n_missing, 0);
        for (int i = 0; i < n_tids; i++)
            for (int j = i + 1; j < n_tids; j++)
                ck_assert_int_ne(tids[i], tids[j]);
        gs_trace_free(t);
    }
    /* between runs the workers wait in the pool; draining joins them */
    int rest = count_tasks();
    gs_worker_pool_drain();
    ck_assert_int_le(count_tasks(), rest - 50);
    gs_model_free(m);
}
END_TEST

/* DESIGN.md, "What it is": every simulated thread is backed by a real
 * pthread, a scenario's (an op program, as every lesson and every fitted
 * recording has) as much as a C body's. After a run the workers wait in the
 * pool, so 50 program threads leave 50 more tasks until the pool drains. */
START_TEST(test_engine_program_threads_are_pthreads_too)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    for (int i = 0; i < 50; i++)
        tu_thread(m, "p", 2, tu_sleep(MS(1)), tu_cpu(US(10)));
    /* a warm-up run first: a sanitizer starts a helper thread of its own at
     * the first pthread_create, which would count against `before` */
    gs_trace_free(tu_run(m, NULL));
    gs_worker_pool_drain();
    int before = count_tasks();
    gs_trace_t *t = tu_run(m, NULL);
    int after = count_tasks();
    ck_assert_msg(after >= before + 50,
                  "50 scenario (op program) threads left %d pooled workers, not 50: every "
                  "simulated thread must run on its own pthread (DESIGN.md, the mission)",
                  after - before);
    gs_trace_free(t);
    gs_worker_pool_drain();
    ck_assert_int_le(count_tasks(), before);
    gs_model_free(m);
}
END_TEST

START_TEST(test_engine_same_seed_same_bytes_20_runs)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    gs_op_t exp_cpu = tu_cpu(0);
    exp_cpu.dur.dist = GS_DIST_EXP;
    exp_cpu.dur.a_ns = US(300);
    tu_thread(m, "crunch", 1, tu_cpu(MS(30)));
    tu_thread(m, "server", 1, tu_repeat(40, 2, tu_io(US(100)), exp_cpu));
    tu_thread(m, "other", 1, tu_repeat(10, 2, exp_cpu, tu_sleep(US(700))));
    m->seed = 42;
    size_t len0;
    gs_trace_t *t0 = tu_run(m, NULL);
    char *d0 = tu_dump(t0, &len0);
    for (int i = 0; i < 20; i++) {
        size_t len;
        gs_trace_t *t = tu_run(m, NULL);
        char *d = tu_dump(t, &len);
        ck_assert_uint_eq(len, len0);
        ck_assert_int_eq(memcmp(d, d0, len), 0);
        free(d);
        gs_trace_free(t);
    }
    m->seed = 43; /* and the seed matters */
    size_t len1;
    gs_trace_t *t1 = tu_run(m, NULL);
    char *d1 = tu_dump(t1, &len1);
    ck_assert(len1 != len0 || memcmp(d1, d0, len0) != 0);
    free(d1);
    gs_trace_free(t1);
    free(d0);
    gs_trace_free(t0);
    gs_model_free(m);
}
END_TEST

/* ---- limits ------------------------------------------------------------- */

START_TEST(test_engine_horizon_stops_a_long_run)
{
    gs_model_t *m = tu_model(1, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    tu_thread(m, "forever", 1, tu_cpu(INT64_C(3600000000000)));
    m->until_ns = MS(50);
    int rc;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, GS_ELIMIT);
    ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_HORIZON);
    ck_assert_int_eq(gs_trace_end_ns(t), MS(50));
    ck_assert_ptr_nonnull(strstr(gs_trace_message(t), "horizon"));
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

START_TEST(test_engine_max_events_stops_zero_time_loops)
{
    gs_model_t *m = tu_model(1, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    tu_thread(m, "spin", 1, tu_repeat(INT64_C(1000000000000), 1, tu_cpu(0)));
    m->max_events = 10000;
    int rc;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, GS_ELIMIT);
    ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_MAX_EVENTS);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

START_TEST(test_engine_stall_is_reported_as_deadlock)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int ev = gs_model_add_event(m, "ready");
    tu_thread(m, "waiter", 1, tu_sync(GS_OP_WAIT, ev));
    int rc;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, GS_EDEADLOCK);
    ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_DEADLOCK);
    ck_assert_ptr_nonnull(strstr(gs_trace_message(t), "event 'ready'"));
    ck_assert_int_eq(tu_count(t, GS_IN_DEADLOCK, -1), 1);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* Both threads end up waiting for an event nobody sets; b's GIL wait armed
 * a 5 ms timeout (t = 5.1 ms) that a's drop at 1 ms cancelled. A cancelled
 * event past the horizon has always made such a run stop at the horizon
 * rather than as a stall (it stayed in the event heap until then); the heap
 * now drops it when the timeout is cancelled, and must remember it. */
START_TEST(test_engine_stall_past_a_cancelled_timeout_keeps_its_outcome)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int ev = gs_model_add_event(m, "never");
    tu_thread(m, "a", 2, tu_cpu(MS(1)), tu_sync(GS_OP_WAIT, ev));
    int b = tu_thread(m, "b", 2, tu_cpu(US(100)), tu_sync(GS_OP_WAIT, ev));
    m->threads[b].start_at_ns = US(100);
    int64_t until[] = {MS(3), MS(10)};
    gs_outcome_t want[] = {GS_OUT_HORIZON, GS_OUT_DEADLOCK};
    for (int i = 0; i < 2; i++) {
        m->until_ns = until[i];
        int rc;
        gs_trace_t *t = tu_run(m, &rc);
        ck_assert_int_eq(gs_trace_outcome(t), want[i]);
        gs_trace_free(t);
    }
    gs_model_free(m);
}
END_TEST

START_TEST(test_engine_bad_model_is_rejected_not_run)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    m->machine.cores = 0;
    gs_trace_t *t = (gs_trace_t *)1;
    gs_error_t err;
    ck_assert_int_eq(gs_sim_run(m, NULL, &t, &err), GS_ESCENARIO);
    ck_assert_ptr_null(t);
    ck_assert_str_eq(err.path, "machine.cores");
    gs_model_free(m);
}
END_TEST

START_TEST(test_engine_runtime_error_names_the_thread)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int l = gs_model_add_lock(m, "db", false);
    tu_thread(m, "sloppy", 1, tu_sync(GS_OP_RELEASE, l));
    int rc;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, GS_ERUNTIME);
    ck_assert_ptr_nonnull(strstr(gs_trace_message(t), "sloppy"));
    ck_assert_ptr_nonnull(strstr(gs_trace_message(t), "'db'"));
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

START_TEST(test_engine_thousands_of_runs_in_a_row)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    tu_thread(m, "a", 1, tu_repeat(3, 2, tu_cpu(US(100)), tu_io(US(10))));
    tu_thread(m, "b", 1, tu_cpu(US(500)));
    int before = tasks_at_rest(m);
    for (int i = 0; i < 2000; i++) {
        gs_trace_t *t = NULL;
        ck_assert_int_eq(gs_sim_run(m, NULL, &t, NULL), 0);
        gs_trace_free(t);
    }
    ck_assert_int_eq(count_tasks(), before);
    gs_model_free(m);
}
END_TEST

START_TEST(test_engine_stopped_runs_join_every_worker)
{
    /* deadlock with workers blocked mid-body: teardown must unwind them */
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int a = gs_model_add_lock(m, "a", false), b = gs_model_add_lock(m, "b", false);
    tu_thread(m, "t1", 4, tu_sync(GS_OP_ACQUIRE, a), tu_sleep(MS(1)), tu_sync(GS_OP_ACQUIRE, b),
              tu_cpu(MS(1)));
    tu_thread(m, "t2", 4, tu_sync(GS_OP_ACQUIRE, b), tu_sleep(MS(1)), tu_sync(GS_OP_ACQUIRE, a),
              tu_cpu(MS(1)));
    int before = tasks_at_rest(m);
    for (int i = 0; i < 200; i++) {
        int rc;
        gs_trace_t *t = tu_run(m, &rc);
        ck_assert_int_eq(rc, GS_EDEADLOCK);
        gs_trace_free(t);
    }
    ck_assert_int_eq(count_tasks(), before);
    gs_model_free(m);
}
END_TEST

/* ---- props ---------------------------------------------------------------- */

/* Random programs over many seeds: the invariants hold and every run ends. */
START_TEST(test_engine_random_programs_keep_invariants)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        gs_model_t *m = tu_model((int)(seed % 3) + 1, (gs_policy_t)(seed % 4),
                                 (gs_gil_kind_t)(seed % 3));
        m->seed = seed;
        int l = gs_model_add_lock(m, "l", seed % 2 == 0);
        int q = gs_model_add_queue(m, "q", 2);
        gs_op_t r = tu_cpu(0);
        r.dur.dist = GS_DIST_UNIFORM;
        r.dur.a_ns = US(10);
        r.dur.b_ns = MS(3);
        gs_op_t x = tu_io(0);
        x.dur = r.dur;
        for (int i = 0; i < 4; i++)
            tu_thread(m, "w", 1,
                      tu_repeat(5, 7, r, x, tu_sync(GS_OP_ACQUIRE, l), tu_c(US(200), i % 2),
                                tu_sync(GS_OP_RELEASE, l), tu_sync(GS_OP_PUT, q),
                                tu_sync(GS_OP_GET, q)));
        gs_trace_t *t = tu_run(m, NULL);
        ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_DONE);
        gs_trace_free(t);
        gs_model_free(m);
    }
}
END_TEST

/* One table maps every library error to its message and to the exit status
 * the programs end with (docs/cli.md). */
START_TEST(test_errors_every_code_has_a_text_and_an_exit_status)
{
    static const int documented[] = {GS_EXIT_OK, GS_EXIT_USAGE, GS_EXIT_STOPPED, GS_EXIT_IO};
    static const int codes[] = {
#define CODE_(name, val, text, exit) val,
        GS_ERRNO_MAP(CODE_)
#undef CODE_
    };
    for (size_t k = 0; k < sizeof codes / sizeof codes[0]; k++) {
        int code = codes[k];
        ck_assert_str_ne(gs_strerror(code), "unknown error");
        int st = gs_exit_status(code), ok = 0;
        for (size_t i = 0; i < sizeof documented / sizeof documented[0]; i++)
            ok |= st == documented[i] && st != GS_EXIT_OK;
        ck_assert_msg(ok, "%s -> exit %d", gs_strerror(code), st);
    }
    ck_assert_int_eq(gs_exit_status(0), GS_EXIT_OK);
    ck_assert_int_eq(gs_exit_status(GS_EIO), GS_EXIT_IO);
    ck_assert_int_eq(gs_exit_status(GS_ESYNTAX), GS_EXIT_USAGE);
    ck_assert_int_eq(gs_exit_status(GS_EDEADLOCK), GS_EXIT_STOPPED);
    ck_assert_int_eq(gs_exit_status(-9999), GS_EXIT_USAGE); /* not ours: a usage error */
}
END_TEST

static Suite *engine_suite(void)
{
    Suite *s = suite_create("engine");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_engine_one_thread_runs_its_cpu_time);
    tcase_add_test(tc, test_errors_every_code_has_a_text_and_an_exit_status);
    tcase_add_test(tc, test_engine_c_body_loops_on_virtual_time);
    tcase_add_test(tc, test_engine_n_threads_are_n_live_pthreads);
    tcase_add_test(tc, test_engine_program_threads_are_pthreads_too);
    tcase_add_test(tc, test_engine_same_seed_same_bytes_20_runs);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_engine_horizon_stops_a_long_run);
    tcase_add_test(tc, test_engine_max_events_stops_zero_time_loops);
    tcase_add_test(tc, test_engine_stall_is_reported_as_deadlock);
    tcase_add_test(tc, test_engine_stall_past_a_cancelled_timeout_keeps_its_outcome);
    tcase_add_test(tc, test_engine_bad_model_is_rejected_not_run);
    tcase_add_test(tc, test_engine_runtime_error_names_the_thread);
    tcase_add_test(tc, test_engine_thousands_of_runs_in_a_row);
    tcase_add_test(tc, test_engine_stopped_runs_join_every_worker);
    suite_add_tcase(s, tc);
    tc = tcase_create("props");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_engine_random_programs_keep_invariants);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(engine_suite());
}
