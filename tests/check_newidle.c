/* check_newidle.c - machine.newidle_ratio (sim/engine/newidle.c): Linux
 * 6.18.5+'s proportional newidle balance. A core going idle beside a cold
 * thread queued on another core pulls it at once only when its die allows
 * ((ratio + 2) / 1024); otherwise the thread waits for the tick's balance.
 * Each property is also run without the key (a pull at once, the model
 * before newidle.c) to show that the rule is what makes it hold. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "engine_int.h"
#include "testutil.h"
#include "testutil_scenario.h"

#define SEEDS 60

/* Two cores, per-core queues, Linux's "previous" placement, the timer wake
 * and run queues said explicitly, no GIL. t runs first on core 0 and waits
 * for "go"; s takes core 0 (idle again), c core 1. At 1.2 ms c sets "go":
 * t goes back to its previous core 0, busy with s, and waits on its queue
 * (or preempts s, which then waits there): a thread that last ran more than
 * migration_cost (0.5 ms) ago is queued on core 0 when c blocks at about
 * 2.2 ms and core 1 goes idle, well before the 4 ms tick. `ratio` < 0:
 * without the key. */
static gs_model_t *beside(int ratio, uint64_t seed)
{
    char mach[256], text[2048];
    int n = snprintf(mach, sizeof mach,
                     "\"cores\": 2, \"run_queues\": \"per_core\", \"placement\": "
                     "\"previous\", \"timer_wake\": \"local\", \"tick\": \"4ms\"");
    if (ratio >= 0)
        snprintf(mach + n, sizeof mach - (size_t)n, ", \"newidle_ratio\": %d", ratio);
    snprintf(text, sizeof text,
             "{\"seed\": %llu, \"machine\": {%s}, \"python\": {\"gil\": \"none\"}, "
             "\"events\": [\"go\"], \"threads\": ["
             "{\"name\": \"t\", \"program\": [{\"wait\": \"go\"}, {\"cpu\": \"20ms\"}]},"
             "{\"name\": \"s\", \"start_at\": \"100us\", \"program\": [{\"cpu\": \"20ms\"}]},"
             "{\"name\": \"c\", \"start_at\": \"200us\", \"program\": [{\"cpu\": \"1ms\"}, "
             "{\"set\": \"go\"}, {\"cpu\": \"1ms\"}, {\"io\": \"50ms\"}]}]}",
             (unsigned long long)seed, mach);
    return tu_load("beside.json", text, NULL, 0, NULL);
}

/* On core 1: when c's last run before 10 ms ended (*blocked), and how long
 * after it another thread began to run there. */
static int64_t pull_delay(const gs_trace_t *tr, int64_t *blocked)
{
    int c = tu_thread_by_name(tr, "c");
    const gs_lane_t *lane = gs_trace_lane(tr, gs_trace_core_lane(tr, 1));
    *blocked = -1;
    for (size_t i = 0; i < lane->n; i++) {
        const gs_interval_t *v = &lane->iv[i];
        if (v->who == c && v->end_ns < MS(10))
            *blocked = v->end_ns;
    }
    ck_assert_msg(*blocked > MS(2) && *blocked < MS(3), "c blocked at %lld ns",
                  (long long)*blocked);
    for (size_t i = 0; i < lane->n; i++) {
        const gs_interval_t *v = &lane->iv[i];
        if (v->start_ns >= *blocked && v->who >= 0 && v->who != c)
            return v->start_ns - *blocked;
    }
    return INT64_MAX;
}

/* How many of SEEDS runs pulled at once (within 0.1 ms of c's block); every
 * other one must have waited for a tick's balance (at 4 ms, or at 8 ms when
 * core 0's slice ended at the 4 ms tick first and left only a hot thread
 * queued). */
static int pulled_at_once(int ratio)
{
    int n = 0;
    for (uint64_t seed = 1; seed <= SEEDS; seed++) {
        tu_result_t r;
        tu_run_stats(&r, beside(ratio, seed), "beside");
        ck_assert_int_eq(r.s.outcome, GS_OUT_DONE);
        int64_t blocked, d = pull_delay(r.t, &blocked);
        if (d <= US(100))
            n++;
        else
            ck_assert_msg(blocked + d >= MS(4) && (blocked + d) % MS(4) < US(200),
                          "ratio %d seed %llu: not pulled at once, so at a tick's balance "
                          "(every 4 ms), but at %lld ns",
                          ratio, (unsigned long long)seed, (long long)(blocked + d));
        tu_result_free(&r);
    }
    return n;
}

START_TEST(test_a_core_going_idle_pulls_at_once_without_the_rule)
{
    ck_assert_int_eq(pulled_at_once(-1), SEEDS);
}
END_TEST

START_TEST(test_a_low_ratio_leaves_the_cold_thread_to_the_tick)
{
    /* ratio 0: the die lets 2 in 1024 balances run; 60 runs all waiting for
     * the tick but for a few (expected 0.12) */
    int n = pulled_at_once(0);
    ck_assert_msg(n <= 2, "%d of %d pulled at once at ratio 0", n, SEEDS);
}
END_TEST

START_TEST(test_the_pull_share_follows_the_ratio)
{
    /* the first newidle call of a core runs with chance (ratio + 2) / 1024:
     * at ratio 1024 always, at 512 about half of the time (binomial
     * 60 x 0.5: 30 +- 3.9, so 15 to 45 is a 3.9 sd band) */
    ck_assert_int_eq(pulled_at_once(1024), SEEDS);
    int half = pulled_at_once(512);
    ck_assert_msg(half >= 15 && half <= 45, "%d of %d pulled at once at ratio 512", half, SEEDS);
}
END_TEST

START_TEST(test_newidle_ratio_needs_a_ratio)
{
    const char *bad[] = {"machine.newidle_ratio=2000", "machine.newidle_ratio=0.5"};
    for (int i = 0; i < 2; i++) {
        gs_diag_t d;
        gs_model_t *m = tu_load(
            "n.json", "{\"threads\": [{\"name\": \"a\", \"program\": [{\"cpu\": \"1ms\"}]}]}",
            &bad[i], 1, &d);
        ck_assert_ptr_null(m);
        ck_assert_int_ge(d.n, 1);
        ck_assert_msg(strstr(d.e[0].msg, "0 to 1024"), "the error says what is valid: %s",
                      d.e[0].msg);
    }
}
END_TEST

/* What core 1's sched_domain counts say after each of a body's idle
 * entries (engine internals, read from the body on that core). */
typedef struct window {
    int n;                /* idle entries made */
    unsigned ratio[2100]; /* ni_ratio after each */
    unsigned call[2100];  /* ni_call after each */
} window_t;

static void naps(gs_ctx_t *c, void *user)
{
    window_t *w = user;
    for (w->n = 0; w->n < 2100; w->n++) {
        gs_cpu(c, US(20));
        gs_sleep(c, US(50)); /* core 1 goes idle: one newidle call */
        w->ratio[w->n] = c->e->cores[1].ni_ratio;
        w->call[w->n] = c->e->cores[1].ni_call;
    }
}

/* Two cores, per-core queues, no GIL, newidle_ratio 1024; `spinners`
 * CPU-bound threads pinned to core 0 (two: one always queued there, the
 * root domain overloaded, but no balance may move it) and the body pinned
 * to core 1. */
static void run_naps(int spinners, window_t *w)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_NONE);
    m->machine.per_core_queues = true;
    m->machine.timer_wake_local = true;
    m->machine.newidle_ratio = 1024;
    for (int i = 0; i < spinners; i++) {
        int s = tu_thread(m, "spinner", 1, tu_cpu(MS(400)));
        m->threads[s].cpus.w[0] = 1; /* core 0 */
    }
    int b = gs_model_add_thread(m, "naps", 0);
    m->threads[b].cpus.w[0] = 2; /* core 1 */
    gs_model_set_body(m, b, naps, w, NULL);
    int rc;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, 0);
    gs_trace_free(t);
    gs_model_free(m);
}

START_TEST(test_failed_calls_halve_the_ratio_every_512)
{
    /* update_newidle_stats: the window starts half full (512 calls, 512
     * successes at ratio 1024); every idle entry while a thread is queued
     * on core 0 is a call, and no balance can pull the pinned thread, so
     * none succeeds: when the calls reach 1024 the ratio becomes the
     * successes, and both halve. After 512 k calls the ratio is 1024 >> k,
     * whether the die let the balance run or not. */
    static window_t w;
    run_naps(2, &w);
    ck_assert_int_eq(w.n, 2100);
    for (int i = 0; i < w.n; i++) {
        unsigned want = 1024u >> ((i + 1) / 512);
        ck_assert_msg(w.ratio[i] == want, "after %d calls: ratio %u, want %u", i + 1, w.ratio[i],
                      want);
        ck_assert_uint_eq(w.call[i], 512 + (i + 1) % 512);
    }
}
END_TEST

START_TEST(test_no_call_is_counted_while_nothing_is_queued)
{
    /* one spinner on core 0: no core runs two threads, the root domain is
     * never overloaded, and a core going idle makes no call at all */
    static window_t w;
    run_naps(1, &w);
    for (int i = 0; i < w.n; i++) {
        ck_assert_uint_eq(w.ratio[i], 1024);
        ck_assert_uint_eq(w.call[i], 512);
    }
}
END_TEST

static Suite *newidle_suite(void)
{
    Suite *s = suite_create("newidle");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_a_core_going_idle_pulls_at_once_without_the_rule);
    suite_add_tcase(s, core);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 60);
    tcase_add_test(props, test_a_low_ratio_leaves_the_cold_thread_to_the_tick);
    tcase_add_test(props, test_the_pull_share_follows_the_ratio);
    tcase_add_test(props, test_failed_calls_halve_the_ratio_every_512);
    tcase_add_test(props, test_no_call_is_counted_while_nothing_is_queued);
    suite_add_tcase(s, props);
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, test_newidle_ratio_needs_a_ratio);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return tu_main(newidle_suite());
}
