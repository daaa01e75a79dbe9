/* check_affinity.c - CPU affinity (a process's "cpus", taskset -c) in the
 * OS model, stated as properties.
 *
 * A thread never runs on a core outside its process's set, whatever the
 * policy, placement or mix of work; a process confined to one core leaves
 * the other to the free ones (the taskset what-if: the program on CPU 0,
 * the machine's other load still on both); affinity to every core is no
 * affinity, event for event. Every run also passes the trace invariant
 * checker (tu_run), whose invariant (2) includes the core being allowed. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

static void pin(gs_model_t *m, int process, int core)
{
    memset(&m->processes[process].cpus, 0, sizeof m->processes[process].cpus);
    m->processes[process].cpus.w[core / 64] |= UINT64_C(1) << (core % 64);
}

/* ns each core ran threads of `process` (out[c]); returns the cores. */
static int core_time_of(const gs_model_t *m, const gs_trace_t *t, int process, int64_t *out)
{
    int n = m->machine.cores;
    for (int c = 0; c < n; c++) {
        out[c] = 0;
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, c));
        for (size_t i = 0; i < l->n; i++) {
            int who = l->iv[i].who;
            if (who >= 0 && m->threads[who].process == process)
                out[c] += l->iv[i].end_ns - l->iv[i].start_ns;
        }
    }
    return n;
}

/* Three processes on three cores: "pinned" confined to core 1, "pair"
 * confined to cores 0 and 2, "free" with none; Python work, GIL-releasing C
 * calls, I/O and sleeps that wake threads onto busy and idle cores. */
static gs_model_t *mixed(gs_policy_t policy, int wake_affine_pct, bool per_core, uint64_t seed)
{
    gs_model_t *m = tu_model(3, policy, GS_GIL_CPYTHON3);
    m->seed = seed;
    m->machine.wake_affine_pct = wake_affine_pct;
    m->machine.per_core_queues = per_core;
    m->machine.wakeup_jitter_ns = US(20);
    int pair = gs_model_add_process(m, "pair", NULL);
    int free_ = gs_model_add_process(m, "free", NULL);
    ck_assert_int_ge(free_, 0);
    m->processes[free_].python.gil = GS_GIL_NONE;
    pin(m, 0, 1);
    pin(m, pair, 0);
    m->processes[pair].cpus.w[0] |= 4; /* cores 0 and 2 */
    for (int i = 0; i < 3; i++) {
        char n[3][8];
        snprintf(n[0], 8, "p%d", i);
        snprintf(n[1], 8, "q%d", i);
        snprintf(n[2], 8, "f%d", i);
        tu_thread_in(m, 0, n[0], 1,
                     tu_repeat(40, 3, tu_cpu(US(300 + 100 * i)), tu_io(US(150)),
                               tu_c(US(200), true)));
        tu_thread_in(m, pair, n[1], 1,
                     tu_repeat(40, 3, tu_cpu(US(500)), tu_sleep(US(100 + 50 * i)),
                               tu_c(US(100), false)));
        tu_thread_in(m, free_, n[2], 1, tu_repeat(30, 2, tu_cpu(US(700)), tu_io(US(90 * i))));
    }
    return m;
}

START_TEST(test_affinity_a_thread_never_runs_outside_its_cpus)
{
    static const gs_policy_t pols[] = {GS_POLICY_FIFO, GS_POLICY_RR, GS_POLICY_PRIORITY,
                                       GS_POLICY_CFS, GS_POLICY_EEVDF};
    static const int affine[] = {0, 50, 100};
    int runs = 0;
    for (size_t p = 0; p < sizeof pols / sizeof *pols; p++)
        for (size_t a = 0; a < 3; a++)
            for (int pc = 0; pc < 2; pc++)
                for (uint64_t seed = 1; seed <= 2; seed++) {
                    gs_model_t *m = mixed(pols[p], affine[a], pc, seed);
                    gs_trace_t *t = tu_run(m, NULL);
                    int64_t on[3];
                    core_time_of(m, t, 0, on);
                    ck_assert_msg(on[0] == 0 && on[2] == 0 && on[1] > 0,
                                  "policy %d affine %d per_core %d: the process pinned to core "
                                  "1 ran %lld/%lld/%lld ns on cores 0/1/2",
                                  (int)pols[p], affine[a], pc, (long long)on[0],
                                  (long long)on[1], (long long)on[2]);
                    core_time_of(m, t, 1, on);
                    ck_assert_msg(on[1] == 0 && on[0] + on[2] > 0,
                                  "the process pinned to cores 0 and 2 ran %lld ns on core 1",
                                  (long long)on[1]);
                    gs_trace_free(t);
                    gs_model_free(m);
                    runs++;
                }
    ck_assert_int_eq(runs, 60);
}
END_TEST

/* One CPU-bound thread of a process confined to core 0 beside a GIL-less
 * process of two CPU-bound threads with no affinity, on two cores. */
static gs_model_t *confined_beside_free(gs_policy_t policy, bool confined)
{
    gs_model_t *m = tu_model(2, policy, GS_GIL_CPYTHON3);
    int free_ = gs_model_add_process(m, "free", NULL);
    m->processes[free_].python.gil = GS_GIL_NONE;
    if (confined)
        pin(m, 0, 0);
    tu_thread_in(m, 0, "prog", 1, tu_cpu(MS(600)));
    tu_thread_in(m, free_, "load1", 1, tu_cpu(MS(900)));
    tu_thread_in(m, free_, "load2", 1, tu_cpu(MS(900)));
    return m;
}

START_TEST(test_affinity_the_free_process_gets_cpu1_and_a_share_of_cpu0)
{
    static const gs_policy_t pols[] = {GS_POLICY_CFS, GS_POLICY_EEVDF, GS_POLICY_RR};
    for (size_t p = 0; p < sizeof pols / sizeof *pols; p++) {
        gs_model_t *m = confined_beside_free(pols[p], true);
        gs_trace_t *t = tu_run(m, NULL);
        int64_t prog[2], load[2];
        core_time_of(m, t, 0, prog);
        core_time_of(m, t, 1, load);
        int64_t end = tu_finish(t, 0); /* the confined thread's end */
        ck_assert_int_eq(prog[1], 0);
        /* while the confined thread ran, the free threads had core 1 */
        int64_t load1_before = 0;
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, 1));
        for (size_t i = 0; i < l->n; i++)
            if (l->iv[i].who >= 1 && l->iv[i].start_ns < end)
                load1_before += (l->iv[i].end_ns < end ? l->iv[i].end_ns : end) -
                                l->iv[i].start_ns;
        ck_assert_msg(load1_before * 100 >= end * 97,
                      "policy %d: the free threads had core 1 %lld of %lld ns", (int)pols[p],
                      (long long)load1_before, (long long)end);
        /* and a share of core 0: neither nothing nor all of it */
        ck_assert_msg(load[0] > MS(100) && prog[0] > MS(100),
                      "policy %d: core 0 ran the free threads %lld ns, the confined one %lld",
                      (int)pols[p], (long long)load[0], (long long)prog[0]);
        gs_trace_free(t);
        gs_model_free(m);

        /* the taskset what-if is not machine.cores=1: there the load is
         * squeezed onto the program's core and the program ends later */
        m = confined_beside_free(pols[p], false);
        m->machine.cores = 1;
        int64_t squeezed = tu_run_last_finish(m, 1);
        ck_assert_msg(end * 10 < squeezed * 9, "policy %d: confined %lld, one core %lld",
                      (int)pols[p], (long long)end, (long long)squeezed);
    }
}
END_TEST

/* Two GIL-bound threads of one process confined to core 0 share it: the
 * program's own threads never overlap, the other core idles. */
START_TEST(test_affinity_a_confined_process_uses_one_core_at_a_time)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_NONE);
    pin(m, 0, 0);
    tu_thread(m, "a", 1, tu_repeat(20, 2, tu_cpu(MS(2)), tu_io(US(300))));
    tu_thread(m, "b", 1, tu_repeat(20, 2, tu_cpu(MS(2)), tu_io(US(200))));
    gs_trace_t *t = tu_run(m, NULL);
    int64_t on[2];
    core_time_of(m, t, 0, on);
    ck_assert_int_eq(on[1], 0);
    ck_assert_int_ge(on[0], MS(80)); /* all of their work, on core 0 */
    /* serialised: they end no sooner than their work done one after the other */
    ck_assert_int_ge(tu_last_finish(t, -1), MS(80));
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* A set naming every core is no affinity: the same run, event for event
 * (shared run queues, the default). */
START_TEST(test_affinity_to_every_core_changes_nothing)
{
    for (int k = 0; k < 2; k++) {
        gs_model_t *a = mixed(k ? GS_POLICY_CFS : GS_POLICY_EEVDF, 0, false, 3);
        gs_model_t *b = mixed(k ? GS_POLICY_CFS : GS_POLICY_EEVDF, 0, false, 3);
        for (int p = 0; p < a->n_processes; p++) {
            memset(&a->processes[p].cpus, 0, sizeof a->processes[p].cpus);
            b->processes[p].cpus.w[0] = 7; /* cores 0, 1, 2: the machine's */
        }
        gs_trace_t *ta = tu_run(a, NULL), *tb = tu_run(b, NULL);
        size_t la, lb;
        char *da = tu_dump(ta, &la), *db = tu_dump(tb, &lb);
        ck_assert_msg(la == lb && memcmp(da, db, la) == 0, "policy %d: the traces differ", k);
        free(da);
        free(db);
        gs_trace_free(ta);
        gs_trace_free(tb);
        gs_model_free(a);
        gs_model_free(b);
    }
}
END_TEST

/* A thread's own set replaces its process's: in a process confined to core
 * 0, one thread confined to core 1 and one given every core. */
START_TEST(test_affinity_a_threads_own_set_replaces_its_processs)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_NONE);
    pin(m, 0, 0);
    int a = tu_thread(m, "a", 1, tu_repeat(30, 2, tu_cpu(MS(1)), tu_sleep(US(200))));
    int b = tu_thread(m, "b", 1, tu_repeat(30, 2, tu_cpu(MS(1)), tu_sleep(US(300))));
    int c = tu_thread(m, "c", 1, tu_repeat(30, 2, tu_cpu(MS(1)), tu_sleep(US(100))));
    m->threads[b].cpus.w[0] = 2; /* core 1 */
    m->threads[c].cpus.w[0] = 3; /* both */
    gs_trace_t *t = tu_run(m, NULL);
    int64_t on[3][2] = {{0}};
    for (int core = 0; core < 2; core++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, core));
        for (size_t i = 0; i < l->n; i++)
            if (l->iv[i].who >= 0)
                on[l->iv[i].who][core] += l->iv[i].end_ns - l->iv[i].start_ns;
    }
    ck_assert_int_eq(on[a][1], 0);
    ck_assert_int_gt(on[a][0], 0);
    ck_assert_int_eq(on[b][0], 0);
    ck_assert_int_gt(on[b][1], 0);
    ck_assert_int_ge(on[c][0] + on[c][1], MS(30)); /* all its work (and switches) */
    m->threads[b].cpus.w[0] = 4; /* core 2 of a two-core machine */
    gs_error_t err;
    ck_assert_int_eq(gs_model_check(m, &err), GS_ESCENARIO);
    ck_assert_str_eq(err.path, "b");
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

START_TEST(test_affinity_a_cpu_past_the_machine_is_refused)
{
    gs_model_t *m = tu_model(2, GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
    tu_thread(m, "a", 1, tu_cpu(MS(1)));
    pin(m, 0, 2);
    gs_error_t err;
    ck_assert_int_eq(gs_model_check(m, &err), GS_ESCENARIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "machine.cores"));
    pin(m, 0, 1);
    ck_assert_int_eq(gs_model_check(m, &err), 0);
    gs_model_free(m);
}
END_TEST

/* The check reads the set a word at a time: a CPU is refused exactly when it
 * is at or past machine.cores, on either side of every word boundary. */
START_TEST(test_affinity_the_machine_edge_at_every_word_boundary)
{
    const int cores[] = {1, 2, 63, 64, 65, 127, 128, 129, 640, 1000, 1023, 1024};
    for (size_t i = 0; i < sizeof cores / sizeof cores[0]; i++) {
        gs_model_t *m = tu_model(cores[i], GS_POLICY_EEVDF, GS_GIL_CPYTHON3);
        tu_thread(m, "a", 1, tu_cpu(MS(1)));
        const int probe[] = {0, cores[i] - 1, cores[i], cores[i] + 1, cores[i] / 64 * 64,
                             cores[i] / 64 * 64 + 63, 64, 1023};
        for (size_t k = 0; k < sizeof probe / sizeof probe[0]; k++) {
            int c = probe[k];
            if (c < 0 || c >= 64 * GS_CPU_WORDS)
                continue;
            pin(m, 0, c);
            gs_error_t err;
            ck_assert_msg(gs_model_check(m, &err) == (c < cores[i] ? 0 : GS_ESCENARIO),
                          "cpu %d on %d cores", c, cores[i]);
        }
        gs_model_free(m);
    }
}
END_TEST

static Suite *affinity_suite(void)
{
    Suite *s = suite_create("affinity");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 300);
    tcase_add_test(core, test_affinity_the_free_process_gets_cpu1_and_a_share_of_cpu0);
    tcase_add_test(core, test_affinity_a_confined_process_uses_one_core_at_a_time);
    tcase_add_test(core, test_affinity_a_threads_own_set_replaces_its_processs);
    suite_add_tcase(s, core);
    /* every core, a CPU past the machine, the edges of the CPU words */
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 300);
    tcase_add_test(limits, test_affinity_to_every_core_changes_nothing);
    tcase_add_test(limits, test_affinity_a_cpu_past_the_machine_is_refused);
    tcase_add_test(limits, test_affinity_the_machine_edge_at_every_word_boundary);
    suite_add_tcase(s, limits);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 300);
    tcase_add_test(props, test_affinity_a_thread_never_runs_outside_its_cpus);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(affinity_suite());
}
