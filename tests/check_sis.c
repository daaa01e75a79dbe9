/* check_sis.c - machine.sis_util (sim/engine/sis.c): Linux's SIS_UTIL. A
 * thread woken by a thread on a core, its previous core busy and another
 * idle, goes to the idle core only while the machine's recent utilisation
 * leaves the wake-up's scan a budget; the budget is recomputed at balance
 * ticks only. Each placement property is also run without the key (the
 * wake_affine draw at its default 0: always the idle core) to show that the
 * rule is what makes it hold. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "sis.h"
#include "testutil.h"
#include "testutil_scenario.h"

#define SEEDS 10

/* Two cores, per-core queues, no GIL. t runs 10 us on core 0 and waits for
 * "go"; a starts at 50 us on core 0 (the lowest idle core), b at 60 us on
 * core 1. busy: a and b run 100 ms of CPU (both cores full: PELT's
 * utilisation about 0.88 each, the scan's budget 0), then b ends and a sets
 * "go" 0.5 ms later, core 1 idle. Otherwise a and b sleep 100 ms first and
 * run only 1 ms (a machine nearly idle: the budget 2). Either way t's
 * previous core (0) runs its waker and core 1 is idle when t is woken. */
static gs_model_t *pair(bool busy, bool sis, uint64_t seed)
{
    char text[2048];
    const char *before = busy ? "{\"cpu\": \"100ms\"}" : "{\"io\": \"100ms\"}, {\"cpu\": \"1ms\"}";
    snprintf(text, sizeof text,
             "{\"seed\": %llu, \"machine\": {\"cores\": 2, \"run_queues\": \"per_core\", "
             "\"tick\": \"4ms\"%s}, \"python\": {\"gil\": \"none\"}, \"events\": [\"go\"], "
             "\"threads\": ["
             "{\"name\": \"t\", \"program\": [{\"cpu\": \"10us\"}, {\"wait\": \"go\"}, "
             "{\"cpu\": \"5ms\"}]},"
             "{\"name\": \"a\", \"start_at\": \"50us\", \"program\": [%s, {\"cpu\": \"500us\"}, "
             "{\"set\": \"go\"}, {\"cpu\": \"20ms\"}]},"
             "{\"name\": \"b\", \"start_at\": \"60us\", \"program\": [%s]}]}",
             (unsigned long long)seed, sis ? ", \"sis_util\": true" : "", before, before);
    return tu_load("pair.json", text, NULL, 0, NULL);
}

/* The core t next ran on after `from` (its wait), and when (*at). */
static int first_core_after(const gs_trace_t *tr, int thr, int64_t from, int64_t *at)
{
    int core = -1;
    *at = INT64_MAX;
    for (int c = 0; c < 2; c++) {
        const gs_lane_t *lane = gs_trace_lane(tr, gs_trace_core_lane(tr, c));
        for (size_t i = 0; i < lane->n; i++) {
            const gs_interval_t *v = &lane->iv[i];
            if (v->who == thr && v->start_ns > from && v->start_ns < *at) {
                *at = v->start_ns;
                core = c;
            }
        }
    }
    return core;
}

/* Of SEEDS runs, how many ran t next (after 100 ms: a sets "go" at about
 * 100.5 ms busy, 101.6 ms idle) on the idle core 1 and within 2 ms. */
static int onto_idle_core(bool busy, bool sis)
{
    int n = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        tu_result_t r;
        tu_run_stats(&r, pair(busy, sis, seed), "pair");
        ck_assert_int_eq(r.s.outcome, GS_OUT_DONE);
        int t = tu_thread_by_name(r.t, "t");
        int64_t at, from = MS(100);
        int core = first_core_after(r.t, t, from, &at);
        ck_assert_int_ge(core, 0);
        if (core == 1 && at < from + MS(2))
            n++;
        tu_result_free(&r);
    }
    return n;
}

START_TEST(test_a_busy_machine_wakes_behind_the_waker)
{
    ck_assert_int_eq(onto_idle_core(true, true), 0);
}
END_TEST

START_TEST(test_without_the_key_the_busy_machine_wakes_onto_the_idle_core)
{
    ck_assert_int_eq(onto_idle_core(true, false), SEEDS);
}
END_TEST

START_TEST(test_an_idle_machine_wakes_onto_the_idle_core)
{
    ck_assert_int_eq(onto_idle_core(false, true), SEEDS);
    ck_assert_int_eq(onto_idle_core(false, false), SEEDS);
}
END_TEST

/* ---- the budget changes only at balance ticks --------------------------- */

#define N_SAMPLES 2000

typedef struct samples {
    int n;
    int budget[N_SAMPLES];
    int64_t at[N_SAMPLES], now[N_SAMPLES];
    double sum[N_SAMPLES];
} samples_t;

/* Pinned to core 1: 50 ms of CPU then 100 ms of sleep, in 250 us steps,
 * the budget read after each; a spinner keeps core 0 busy throughout. */
static void probe(gs_ctx_t *c, void *user)
{
    samples_t *s = user;
    for (s->n = 0; s->n < N_SAMPLES; s->n++) {
        if ((s->n / 200) % 3 == 0)
            gs_cpu(c, US(250));
        else
            gs_sleep(c, US(250));
        s->budget[s->n] = gs__sis_budget(c->e, &s->sum[s->n], &s->at[s->n]);
        s->now[s->n] = c->e->now;
    }
}

static void run_probe(samples_t *s)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.per_core_queues = true;
    m->machine.sis_util = true;
    m->machine.tick_ns = MS(4);
    int sp = tu_thread(m, "spinner", 1, tu_cpu(MS(600)));
    m->threads[sp].cpus.w[0] = 1; /* core 0 */
    int b = gs_model_add_thread(m, "probe", 0);
    m->threads[b].cpus.w[0] = 2; /* core 1 */
    gs_model_set_body(m, b, probe, s, NULL);
    int rc;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, 0);
    gs_trace_free(t);
    gs_model_free(m);
}

START_TEST(test_the_budget_changes_only_at_balance_ticks)
{
    static samples_t s;
    run_probe(&s);
    ck_assert_int_eq(s.n, N_SAMPLES);
    int seen[3] = {0};
    for (int i = 0; i < s.n; i++) {
        ck_assert_msg(s.at[i] >= 0 && s.at[i] % MS(4) == 0 && s.at[i] <= s.now[i],
                      "sample %d: last balance at %lld ns, not a tick before %lld", i,
                      (long long)s.at[i], (long long)s.now[i]);
        ck_assert_int_ge(s.budget[i], 0);
        ck_assert_int_le(s.budget[i], 2);
        seen[s.budget[i]]++;
        /* update_idle_cpu_scan on 2 CPUs: 0 above an average of 60.4% */
        if (s.sum[i] > 2 * 0.61)
            ck_assert_int_eq(s.budget[i], 0);
        if (s.sum[i] < 2 * 0.60)
            ck_assert_int_ge(s.budget[i], 1);
        if (i > 0 && s.at[i] == s.at[i - 1])
            ck_assert_msg(s.budget[i] == s.budget[i - 1],
                          "sample %d: the budget moved between ticks", i);
        if (i > 0 && s.at[i] != s.at[i - 1]) /* idle core: every tick; busy: 32 ms */
            ck_assert_int_le(s.at[i] - s.at[i - 1], MS(32) + MS(4));
    }
    /* both regimes are reached: the probe's CPU phases cut the scan */
    ck_assert_msg(seen[0] > 100 && seen[1] > 100, "budgets 0/1/2 seen %d/%d/%d times", seen[0],
                  seen[1], seen[2]);
}
END_TEST

START_TEST(test_the_budget_lags_the_load_until_a_tick)
{
    /* as a CPU phase of the probe ends (sample i -> i + 1, i % 600 == 199)
     * core 1 goes idle, but the budget stays the busy one until a tick
     * finds the decayed utilisation under the threshold (PELT halves it in
     * 32 ms): the first sample that differs read a tick after the fall */
    static samples_t s;
    run_probe(&s);
    int checked = 0;
    for (int end = 199; end + 400 < s.n; end += 600) {
        if (s.budget[end] != 0)
            continue; /* the first phase: no tick yet saw the cores over 60% */
        int changed = -1;
        for (int i = end + 1; i < end + 400 && changed < 0; i++)
            if (s.budget[i] != s.budget[end])
                changed = i;
        ck_assert_msg(changed > end, "phase end %d: the budget never moved", end);
        ck_assert_msg(s.at[changed] > s.now[end],
                      "phase end %d: the budget moved without a tick after the load fell", end);
        ck_assert_msg(s.at[changed] != s.at[changed - 1], "phase end %d: moved between ticks", end);
        checked++;
    }
    ck_assert_int_ge(checked, 2);
}
END_TEST

static Suite *sis_suite(void)
{
    Suite *s = suite_create("sis");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_without_the_key_the_busy_machine_wakes_onto_the_idle_core);
    suite_add_tcase(s, core);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 60);
    tcase_add_test(props, test_a_busy_machine_wakes_behind_the_waker);
    tcase_add_test(props, test_an_idle_machine_wakes_onto_the_idle_core);
    tcase_add_test(props, test_the_budget_changes_only_at_balance_ticks);
    tcase_add_test(props, test_the_budget_lags_the_load_until_a_tick);
    suite_add_tcase(s, props);
    TCase *limits = tcase_create("limits");
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return tu_main(sis_suite());
}
