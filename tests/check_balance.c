/* check_balance.c - machine.balance "periodic" (sim/engine/balance.c):
 * busy cores pull queued threads from a more loaded core. Properties of
 * the mechanism, each also run with "idle" (the default) to show that the
 * periodic balance is what makes it hold. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "testutil_scenario.h"


/* A machine of 2 cores (per-core queues, Linux's "previous" placement,
 * timer_wake said explicitly) and no GIL: a starts after the k piled
 * threads have run on core 0 and blocked on "go", so it takes core 0 too,
 * and s, started last, core 1; when s sets "go" at 2 ms no core is idle and
 * each piled thread goes back to its previous core: core 0 has k + 1
 * CPU-bound threads, core 1 one. */
static gs_model_t *piled(int k, const char *balance)
{
    char text[2048];
    int n = snprintf(text, sizeof text,
                     "{\"machine\": {\"cores\": 2, \"run_queues\": \"per_core\", "
                     "\"placement\": \"previous\", \"timer_wake\": \"local\", "
                     "\"balance\": \"%s\"}, \"python\": {\"gil\": \"none\"}, "
                     "\"events\": [\"go\"], \"threads\": [",
                     balance);
    for (int i = 0; i < k; i++)
        n += snprintf(text + n, sizeof text - (size_t)n,
                      "{\"name\": \"p%d\", \"start_at\": \"%dus\", \"program\": [{\"wait\": "
                      "\"go\"}, {\"cpu\": \"300ms\"}]},",
                      i, 100 * i);
    snprintf(text + n, sizeof text - (size_t)n,
             "{\"name\": \"a\", \"start_at\": \"%dus\", \"program\": [{\"cpu\": \"300ms\"}]},"
             "{\"name\": \"s\", \"start_at\": \"%dus\", \"program\": [{\"cpu\": \"2ms\"}, "
             "{\"set\": \"go\"}, {\"cpu\": \"300ms\"}]}]}",
             100 * k, 100 * k + 100);
    return tu_load("piled.json", text, NULL, 0, NULL);
}

/* How many threads ran at least a tenth of [from, to) on core c. */
static int threads_on(const gs_trace_t *t, int c, int64_t from, int64_t to)
{
    int64_t ran[64] = {0};
    const gs_lane_t *lane = gs_trace_lane(t, gs_trace_core_lane(t, c));
    for (size_t i = gs_lane_find(lane, from); i < lane->n; i++) {
        const gs_interval_t *v = &lane->iv[i];
        if (v->start_ns >= to)
            break;
        if (v->who < 0 || v->who >= 64)
            continue;
        int64_t s = v->start_ns > from ? v->start_ns : from, e = v->end_ns < to ? v->end_ns : to;
        if (e > s)
            ran[v->who] += e - s;
    }
    int n = 0;
    for (int i = 0; i < 64; i++)
        n += ran[i] * 10 >= to - from;
    return n;
}

START_TEST(test_threads_piled_on_one_core_are_spread_by_the_busy_core)
{
    /* Linux balances busy CPUs every busy interval (2 cores: 2 ms x 16 =
     * 32 ms): two intervals after the pile-up, the cores' runnable threads
     * differ by at most one, and stay so; with idle balancing alone core 1
     * keeps its one thread for the whole window */
    for (int k = 2; k <= 3; k++) {
        for (int periodic = 0; periodic <= 1; periodic++) {
            tu_result_t r;
            tu_run_stats(&r, piled(k, periodic ? "periodic" : "idle"), "piled");
            ck_assert_int_eq(r.s.outcome, GS_OUT_DONE);
            for (int64_t from = MS(70); from < MS(280); from += MS(30)) {
                int n0 = threads_on(r.t, 0, from, from + MS(30));
                int n1 = threads_on(r.t, 1, from, from + MS(30));
                ck_assert_int_eq(n0 + n1, k + 2);
                if (periodic)
                    ck_assert_msg(abs(n0 - n1) <= 1,
                                  "k %d, %lld ms: %d threads on core 0, %d on core 1", k,
                                  (long long)(from / MS(1)), n0, n1);
                else
                    ck_assert_msg(n1 == 1, "idle balancing: %d threads on core 1", n1);
            }
            tu_result_free(&r);
        }
    }
}
END_TEST

/* How often a thread ran on another core than the one it last ran on. */
static int migrations(const gs_trace_t *t)
{
    int n = 0;
    for (int th = 0; th < gs_trace_n_threads(t); th++) {
        const gs_lane_t *lane = gs_trace_lane(t, gs_trace_thread_lane(t, th));
        int last = -1;
        for (size_t i = 0; i < lane->n; i++) {
            const gs_interval_t *v = &lane->iv[i];
            if (v->state != GS_ST_PY)
                continue;
            n += last >= 0 && v->who != last;
            last = v->who;
        }
    }
    return n;
}

START_TEST(test_even_loads_move_nothing)
{
    /* four CPU-bound threads, two per core from the start: the loads are
     * even, and a periodic balance moves none of them (no ping-pong) */
    const char *text = "{\"machine\": {\"cores\": 2, \"run_queues\": \"per_core\", "
                       "\"timer_wake\": \"local\", \"balance\": \"periodic\"}, "
                       "\"python\": {\"gil\": \"none\"}, \"threads\": [{\"name\": \"w\", "
                       "\"count\": 4, \"program\": [{\"cpu\": \"200ms\"}]}]}";
    tu_result_t r;
    tu_run_stats(&r, tu_load("even.json", text, NULL, 0, NULL), "even");
    ck_assert_int_eq(r.s.outcome, GS_OUT_DONE);
    ck_assert_int_eq(migrations(r.t), 0);
    tu_result_free(&r);
}
END_TEST

START_TEST(test_balance_needs_a_known_value)
{
    gs_diag_t d;
    const char *set = "machine.balance=sometimes";
    gs_model_t *m = tu_load("b.json",
                            "{\"threads\": [{\"name\": \"a\", \"program\": [{\"cpu\": \"1ms\"}]}]}",
                            &set, 1, &d);
    ck_assert_ptr_null(m);
    ck_assert_int_ge(d.n, 1);
    ck_assert_msg(strstr(d.e[0].msg, "periodic") && strstr(d.e[0].msg, "idle"),
                  "the error lists the valid values: %s", d.e[0].msg);
}
END_TEST

static Suite *balance_suite(void)
{
    Suite *s = suite_create("balance");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_threads_piled_on_one_core_are_spread_by_the_busy_core);
    tcase_add_test(core, test_even_loads_move_nothing);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, test_balance_needs_a_known_value);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return tu_main(balance_suite());
}
