/* check_until.c - the until loop (`while not ev.is_set(): body`) in the
 * engine: it ends at the first look after the set, never before, and its
 * work follows the thread that sets the event; a loop whose event nobody
 * sets ends at the engine's limits, with a message naming it. */
#include "testutil.h"

#include <stdlib.h>
#include <string.h>

static gs_op_t until(int event, int n, const gs_op_t *body)
{
    gs_op_t o;
    memset(&o, 0, sizeof o);
    o.kind = GS_OP_UNTIL;
    o.id = UINT32_MAX;
    o.target = event;
    o.body = calloc((size_t)n, sizeof *o.body);
    ck_assert_ptr_nonnull(o.body);
    memcpy(o.body, body, (size_t)n * sizeof *body);
    o.n_body = n;
    return o;
}

static uint64_t lcg(uint64_t *s)
{
    *s = *s * 6364136223846793005u + 1442695040888963407u;
    return *s >> 33;
}

/* One loop thread (index 0, body: cpu of body_ns) and a setter (index 1)
 * that sleeps, then sets the event and ends. */
static gs_model_t *loop_and_setter(int cores, int64_t body_ns, int64_t sleep_ns)
{
    gs_model_t *m = tu_model(cores, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int ev = gs_model_add_event(m, "stop");
    gs_op_t b = tu_cpu(body_ns);
    tu_thread(m, "loop", 1, until(ev, 1, &b));
    tu_thread(m, "setter", 2, tu_sleep(sleep_ns), tu_sync(GS_OP_SET, ev));
    return m;
}

START_TEST(test_until_ends_within_one_body_after_the_set)
{
    uint64_t s = 42;
    for (int run = 0; run < 24; run++) {
        int cores = 1 + run % 2;
        int64_t body = US(20) + (int64_t)(lcg(&s) % US(1980));
        int64_t sleep = MS(1) + (int64_t)(lcg(&s) % MS(30));
        gs_model_t *m = loop_and_setter(cores, body, sleep);
        m->seed = (uint64_t)run;
        int64_t interval = m->processes[0].python.switch_interval_ns;
        gs_trace_t *t = tu_run(m, NULL);
        int64_t set_at = tu_finish(t, 1), end = tu_finish(t, 0);
        int64_t py = tu_time_in(t, 0, GS_ST_PY);
        /* never before the set: the flag was false at every earlier look */
        ck_assert_msg(end >= set_at, "run %d: the loop ended at %lld, before the set at %lld", run,
                      (long long)end, (long long)set_at);
        /* at most the body under way, plus getting the GIL back */
        ck_assert_msg(end <= set_at + body + interval + MS(1),
                      "run %d: the loop ended %lld ns after the set (body %lld ns)", run,
                      (long long)(end - set_at), (long long)body);
        /* whole bodies only: the loop's Python is a multiple of the body */
        ck_assert_int_gt(py, 0);
        ck_assert_msg(py % body == 0, "run %d: %lld ns of Python is not whole bodies of %lld", run,
                      (long long)py, (long long)body);
        /* and it ran for (nearly) all the time until the set */
        ck_assert_int_ge(py + body + interval, sleep);
        gs_trace_free(t);
        gs_model_free(m);
    }
}
END_TEST

START_TEST(test_until_an_event_set_first_skips_the_body)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int ev = gs_model_add_event(m, "stop");
    gs_op_t b = tu_cpu(MS(1));
    int loop = tu_thread(m, "loop", 1, until(ev, 1, &b));
    tu_thread(m, "setter", 1, tu_sync(GS_OP_SET, ev));
    m->threads[loop].start_at_ns = MS(2);
    gs_trace_t *t = tu_run(m, NULL);
    ck_assert_int_eq(tu_time_in(t, loop, GS_ST_PY), 0);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* convoy.py: the CPU thread's work lasts as long as the I/O thread takes,
 * and the I/O thread takes about one switch interval per call. */
static int64_t cruncher_python(int64_t interval_ns)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    m->processes[0].python.switch_interval_ns = interval_ns;
    int ev = gs_model_add_event(m, "stop");
    gs_op_t b = tu_cpu(US(50));
    tu_thread(m, "cruncher", 1, until(ev, 1, &b));
    tu_thread(m, "server", 2, tu_repeat(20, 2, tu_io(US(100)), tu_cpu(US(50))),
              tu_sync(GS_OP_SET, ev));
    gs_trace_t *t = tu_run(m, NULL);
    int64_t py = tu_time_in(t, 0, GS_ST_PY);
    gs_trace_free(t);
    gs_model_free(m);
    return py;
}

START_TEST(test_until_work_follows_the_setter_with_the_interval)
{
    int64_t at1 = cruncher_python(MS(1)), at5 = cruncher_python(MS(5)),
            at20 = cruncher_python(MS(20));
    ck_assert_msg(at1 < at5 && at5 < at20, "cruncher's Python 1/5/20 ms: %lld %lld %lld",
                  (long long)at1, (long long)at5, (long long)at20);
    /* about one interval per I/O call: 20 calls */
    ck_assert_int_ge(at20, 3 * at5);
}
END_TEST

START_TEST(test_until_never_set_stops_at_the_horizon_naming_the_loop)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int ev = gs_model_add_event(m, "stop");
    gs_op_t b = tu_cpu(US(100));
    tu_thread(m, "spinner", 1, until(ev, 1, &b));
    m->until_ns = MS(20);
    gs_trace_t *t = NULL;
    gs_error_t err;
    int rc = gs_sim_run(m, NULL, &t, &err);
    ck_assert_int_eq(rc, GS_ELIMIT);
    ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_HORIZON);
    ck_assert_msg(strstr(err.msg, "spinner loops until event \"stop\" is set, and no thread "
                                  "set it"),
                  "%s", err.msg);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* A loop whose body takes no time and makes no request (an inner loop on
 * an event already set) still ends: each look counts against max_events. */
START_TEST(test_until_polls_in_no_time_end_at_max_events)
{
    gs_model_t *m = tu_model(1, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int outer = gs_model_add_event(m, "stop");
    int inner = gs_model_add_event(m, "ready");
    gs_op_t b = tu_cpu(US(100));
    gs_op_t in = until(inner, 1, &b);
    tu_thread(m, "poller", 2, tu_sync(GS_OP_SET, inner), until(outer, 1, &in));
    m->max_events = 100000;
    gs_trace_t *t = NULL;
    gs_error_t err;
    int rc = gs_sim_run(m, NULL, &t, &err);
    ck_assert_int_eq(rc, GS_ELIMIT);
    ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_MAX_EVENTS);
    ck_assert_ptr_nonnull(strstr(err.msg, "max_events = 100000"));
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

START_TEST(test_until_model_check_refuses_a_bad_event_or_an_empty_body)
{
    gs_model_t *m = tu_model(1, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    gs_op_t b = tu_cpu(US(100));
    int t = tu_thread(m, "loop", 1, until(3, 1, &b)); /* no event 3 */
    gs_error_t err;
    ck_assert_int_eq(gs_model_check(m, &err), GS_ESCENARIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "does not exist"));
    gs_model_add_event(m, "stop");
    m->threads[t].program[0].target = 0;
    ck_assert_int_eq(gs_model_check(m, &err), 0);
    m->threads[t].program[0].n_body = 0;
    ck_assert_int_eq(gs_model_check(m, &err), GS_ESCENARIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "at least one op"));
    m->threads[t].program[0].n_body = 1;
    gs_model_free(m);
}
END_TEST

static Suite *until_suite(void)
{
    Suite *s = suite_create("until");
    TCase *tc = tcase_create("props");
    tcase_set_timeout(tc, 120);
    tcase_add_test(tc, test_until_ends_within_one_body_after_the_set);
    tcase_add_test(tc, test_until_an_event_set_first_skips_the_body);
    tcase_add_test(tc, test_until_work_follows_the_setter_with_the_interval);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_until_never_set_stops_at_the_horizon_naming_the_loop);
    tcase_add_test(tc, test_until_polls_in_no_time_end_at_max_events);
    tcase_add_test(tc, test_until_model_check_refuses_a_bad_event_or_an_empty_body);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(until_suite());
}
