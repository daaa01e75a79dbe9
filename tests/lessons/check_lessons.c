/* check_lessons.c - every lesson in scenarios/ shows the effect it teaches.
 *
 * "The lesson is true as long as the tests pass." Each test loads a lesson
 * file, runs it, checks the trace's invariants and asserts the lesson's effect
 * as a property with a margin (two CPU-bound threads take at least 1.9x one;
 * the convoy's I/O-to-GIL median is within 0.5-1.5 switch intervals), never
 * as an exact number. Variants ("the same with 4 cores") are made by editing
 * the loaded model, which is plain data, so these tests depend on the loader
 * only for reading the files as written. The notes that go with each lesson
 * are in docs/lessons.md. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gilsim/gilsim.h"
#include "testutil_scenario.h"
#include "tu_main.h"

#define MS 1000000LL
#define US 1000LL

/* ---- running a lesson --------------------------------------------------- */

typedef void (*edit_fn)(gs_model_t *m, void *arg);

/* Loads file, applies edit (may be NULL), runs it (tu_run_stats checks the
 * trace's invariants and computes the metrics). */
static void run_lesson(tu_result_t *l, const char *file, edit_fn edit, void *arg)
{
    gs_model_t *m = tu_load_lesson(file, NULL, 0);
    if (edit)
        edit(m, arg);
    tu_run_stats(l, m, file);
}

/* ---- model edits for the variants --------------------------------------- */

static void set_cores(gs_model_t *m, void *arg)
{
    m->machine.cores = *(int *)arg;
}

static void set_interval(gs_model_t *m, void *arg)
{
    for (int p = 0; p < m->n_processes; p++)
        m->processes[p].python.switch_interval_ns = *(int64_t *)arg;
}

static void set_gil(gs_model_t *m, void *arg)
{
    for (int p = 0; p < m->n_processes; p++)
        m->processes[p].python.gil = *(gs_gil_kind_t *)arg;
}

static void ops_set_releases(gs_op_t *ops, int n, bool releases)
{
    for (int i = 0; i < n; i++) {
        if (ops[i].kind == GS_OP_C_CALL)
            ops[i].releases_gil = releases;
        if (ops[i].kind == GS_OP_REPEAT)
            ops_set_releases(ops[i].body, ops[i].n_body, releases);
    }
}

/* Every C call of every thread releases the GIL (*arg true) or keeps it. */
static void set_c_releases(gs_model_t *m, void *arg)
{
    for (int i = 0; i < m->n_threads; i++)
        ops_set_releases(m->threads[i].program, m->threads[i].n_program, *(bool *)arg);
}

typedef struct policy_arg {
    gs_policy_t policy;
    int64_t timeslice_ns;
} policy_arg_t;

static void set_policy(gs_model_t *m, void *arg)
{
    const policy_arg_t *p = arg;
    m->machine.policy = p->policy;
    m->machine.timeslice_ns = p->timeslice_ns;
}

/* ---- reading the trace -------------------------------------------------- */

static const gs_lane_t *thread_lane(const gs_trace_t *t, int i)
{
    return gs_trace_lane(t, gs_trace_thread_lane(t, i));
}

static bool on_core(uint8_t st)
{
    return st == GS_ST_PY || st == GS_ST_C_GIL || st == GS_ST_C_NOGIL;
}

static int64_t time_in(const gs_trace_t *t, int i, gs_state_t st)
{
    const gs_lane_t *l = thread_lane(t, i);
    int64_t sum = 0;
    for (size_t k = 0; k < l->n; k++)
        if (l->iv[k].state == st)
            sum += l->iv[k].end_ns - l->iv[k].start_ns;
    return sum;
}

/* The longest stretch thread i spent wanting the GIL without holding it:
 * waiting for it, plus the moments it woke on a timeout and waited for a core
 * to re-check it (READY or SWITCH without the GIL), which split the orange
 * bars but do not end the wait. */
static int64_t longest_without_gil(const gs_trace_t *t, int i)
{
    const gs_lane_t *l = thread_lane(t, i);
    int64_t best = 0, start = -1, end = -1;
    for (size_t k = 0; k < l->n; k++) {
        const gs_interval_t *v = &l->iv[k];
        bool wanting = v->state == GS_ST_WAIT_GIL ||
                       ((v->state == GS_ST_READY || v->state == GS_ST_SWITCH) &&
                        !(v->flags & GS_IV_HOLDS_GIL) && start >= 0);
        if (wanting && start >= 0 && v->start_ns == end) {
            end = v->end_ns;
        } else if (v->state == GS_ST_WAIT_GIL) {
            start = v->start_ns;
            end = v->end_ns;
        } else {
            start = end = -1;
        }
        if (start >= 0 && end - start > best)
            best = end - start;
    }
    return best;
}

/* When thread i last left a core: the end of its work (the trace's own
 * record, independent of the metrics), or -1. */
static int64_t last_run_end(const gs_trace_t *t, int i)
{
    const gs_lane_t *l = thread_lane(t, i);
    for (size_t k = l->n; k-- > 0;)
        if (on_core(l->iv[k].state))
            return l->iv[k].end_ns;
    return -1;
}

/* When thread i first ran on a core, or -1. */
static int64_t first_run(const gs_trace_t *t, int i)
{
    const gs_lane_t *l = thread_lane(t, i);
    for (size_t k = 0; k < l->n; k++)
        if (on_core(l->iv[k].state))
            return l->iv[k].start_ns;
    return -1;
}

static size_t count_instants(const gs_trace_t *t, gs_instant_kind_t k)
{
    size_t n = 0;
    const gs_instant_t *in = gs_trace_instants(t);
    for (size_t i = 0; i < gs_trace_n_instants(t); i++)
        n += in[i].kind == k;
    return n;
}

static double ratio(int64_t a, int64_t b)
{
    return (double)a / (double)b;
}

/* ---- 1. one CPU-bound thread ------------------------------------------- */

START_TEST(test_one_thread_runs_its_work_in_its_own_time)
{
    tu_result_t l;
    run_lesson(&l, "01-one-thread.json", NULL, NULL);
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    ck_assert_int_ge(l.s.makespan_ns, 100 * MS);
    ck_assert_int_le(l.s.makespan_ns, 102 * MS);
    ck_assert_int_eq(l.s.threads[0].gil_wait_ns, 0);
    ck_assert_int_eq(l.s.gil_forced_switches, 0);
    tu_result_free(&l);
}
END_TEST

START_TEST(test_one_thread_does_not_go_faster_with_more_cores)
{
    tu_result_t two, eight;
    int cores = 8;
    run_lesson(&two, "01-one-thread.json", NULL, NULL);
    run_lesson(&eight, "01-one-thread.json", set_cores, &cores);
    ck_assert_int_ge(eight.s.makespan_ns, two.s.makespan_ns * 99 / 100);
    tu_result_free(&two);
    tu_result_free(&eight);
}
END_TEST

/* ---- 2. two and four CPU-bound threads ---------------------------------- */

START_TEST(test_two_cpu_threads_take_at_least_1_9x_one)
{
    tu_result_t one, two;
    run_lesson(&one, "01-one-thread.json", NULL, NULL);
    run_lesson(&two, "02-two-threads.json", NULL, NULL);
    ck_assert_int_eq(two.s.outcome, GS_OUT_DONE);
    ck_assert_msg(ratio(two.s.makespan_ns, one.s.makespan_ns) >= 1.9,
                  "two threads took %lld ns, one took %lld ns", (long long)two.s.makespan_ns,
                  (long long)one.s.makespan_ns);
    ck_assert_msg(two.s.speedup_vs_serial <= 1.05, "speed-up %.2f", two.s.speedup_vs_serial);
    tu_result_free(&one);
    tu_result_free(&two);
}
END_TEST

START_TEST(test_four_cpu_threads_on_four_cores_take_at_least_3_8x_one)
{
    tu_result_t one, four;
    run_lesson(&one, "01-one-thread.json", NULL, NULL);
    run_lesson(&four, "02-four-threads.json", NULL, NULL);
    ck_assert_msg(ratio(four.s.makespan_ns, one.s.makespan_ns) >= 3.8,
                  "four threads took %lld ns, one took %lld ns", (long long)four.s.makespan_ns,
                  (long long)one.s.makespan_ns);
    ck_assert_msg(four.s.speedup_vs_serial <= 1.05, "speed-up %.2f", four.s.speedup_vs_serial);
    tu_result_free(&one);
    tu_result_free(&four);
}
END_TEST

START_TEST(test_cpu_threads_take_turns_by_forced_switches)
{
    tu_result_t l;
    run_lesson(&l, "02-two-threads.json", NULL, NULL);
    for (int i = 0; i < l.s.n_threads; i++) {
        ck_assert_int_gt(l.s.threads[i].forced_switches, 0);
        /* a turn lasts about one interval: nobody waits much longer */
        ck_assert_int_ge(longest_without_gil(l.t, i), 5 * MS);
        ck_assert_int_le(longest_without_gil(l.t, i), 2 * 5 * MS);
    }
    ck_assert_msg(l.s.fairness_jain >= 0.95, "fairness %.3f", l.s.fairness_jain);
    tu_result_free(&l);
}
END_TEST

/* ---- 3. the convoy effect ---------------------------------------------- */

static int64_t server_p50(const char *file, int64_t interval_ns)
{
    tu_result_t l;
    run_lesson(&l, file, set_interval, &interval_ns);
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    const gs_thread_stats_t *srv = &l.s.threads[tu_thread_by_name(l.t, "server")];
    ck_assert_int_gt(srv->io_to_gil.n, 4);
    int64_t p50 = srv->io_to_gil.p50;
    tu_result_free(&l);
    return p50;
}

START_TEST(test_convoy_server_waits_about_one_interval_per_io)
{
    int64_t p50 = server_p50("03-convoy.json", 5 * MS);
    ck_assert_msg(p50 >= 5 * MS / 2 && p50 <= 5 * MS * 3 / 2, "p50 %lld ns for a 5 ms interval",
                  (long long)p50);
}
END_TEST

START_TEST(test_convoy_wait_shrinks_with_the_interval)
{
    int64_t p5 = server_p50("03-convoy.json", 5 * MS);
    int64_t p1 = server_p50("03-convoy.json", 1 * MS);
    ck_assert_msg(p1 <= 3 * MS / 2 && p1 * 2 < p5, "p50 %lld ns at 1 ms, %lld ns at 5 ms",
                  (long long)p1, (long long)p5);
}
END_TEST

/* ---- 4. the switch interval -------------------------------------------- */

START_TEST(test_io_wait_follows_the_switch_interval)
{
    static const int64_t iv[] = {100 * US, 1 * MS, 5 * MS, 50 * MS};
    int64_t prev = -1;
    for (size_t k = 0; k < sizeof iv / sizeof iv[0]; k++) {
        int64_t p50 = server_p50("04-switch-interval.json", iv[k]);
        ck_assert_msg(p50 > prev, "p50 %lld ns at %lld ns is not above the shorter interval's",
                      (long long)p50, (long long)iv[k]);
        if (iv[k] >= 1 * MS)
            ck_assert_msg(p50 >= iv[k] / 2 && p50 <= iv[k] * 3 / 2, "p50 %lld ns at %lld ns",
                          (long long)p50, (long long)iv[k]);
        else
            ck_assert_msg(p50 <= 1 * MS, "p50 %lld ns at 0.1 ms", (long long)p50);
        prev = p50;
    }
}
END_TEST

/* The cost side: competing CPU-bound threads switch once per interval. */
START_TEST(test_shorter_interval_means_more_switches)
{
    tu_result_t a, b;
    int64_t i1 = 1 * MS, i5 = 5 * MS;
    run_lesson(&a, "02-two-threads.json", set_interval, &i1);
    run_lesson(&b, "02-two-threads.json", set_interval, &i5);
    ck_assert_msg(a.s.gil_switches >= 3 * b.s.gil_switches, "%lld switches at 1 ms, %lld at 5 ms",
                  (long long)a.s.gil_switches, (long long)b.s.gil_switches);
    tu_result_free(&a);
    tu_result_free(&b);
}
END_TEST

/* ---- 5. C code that releases the GIL ----------------------------------- */

START_TEST(test_releasing_c_calls_speed_up_about_cores)
{
    tu_result_t l;
    run_lesson(&l, "05-c-releases-gil.json", NULL, NULL);
    int cores = l.m->machine.cores;
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    ck_assert_msg(l.s.speedup_vs_serial >= 0.85 * cores, "speed-up %.2f on %d cores",
                  l.s.speedup_vs_serial, cores);
    tu_result_free(&l);
}
END_TEST

START_TEST(test_c_calls_that_keep_the_gil_do_not_speed_up)
{
    tu_result_t l;
    bool keep = false;
    run_lesson(&l, "05-c-releases-gil.json", set_c_releases, &keep);
    ck_assert_msg(l.s.speedup_vs_serial <= 1.05, "speed-up %.2f", l.s.speedup_vs_serial);
    tu_result_free(&l);
}
END_TEST

START_TEST(test_releasing_c_calls_are_capped_by_the_cores)
{
    tu_result_t l;
    int cores = 2;
    run_lesson(&l, "05-c-releases-gil.json", set_cores, &cores);
    ck_assert_msg(l.s.speedup_vs_serial >= 1.7 && l.s.speedup_vs_serial <= 2.02,
                  "speed-up %.2f on 2 cores", l.s.speedup_vs_serial);
    tu_result_free(&l);
}
END_TEST

/* ---- 6. a long C call that keeps the GIL -------------------------------- */

/* The worker's C call: [start, end) of its C_GIL or C_NOGIL interval. */
static void c_call_span(const gs_trace_t *t, int w, int64_t *a, int64_t *b)
{
    const gs_lane_t *l = thread_lane(t, w);
    for (size_t k = 0; k < l->n; k++)
        if (l->iv[k].state == GS_ST_C_GIL || l->iv[k].state == GS_ST_C_NOGIL) {
            *a = l->iv[k].start_ns;
            *b = l->iv[k].end_ns;
            return;
        }
    ck_abort_msg("the worker never ran its C call");
}

START_TEST(test_gil_keeping_call_starves_the_heartbeat_for_its_length)
{
    tu_result_t l;
    run_lesson(&l, "06-c-keeps-gil.json", NULL, NULL);
    int hb = tu_thread_by_name(l.t, "heartbeat"), w = tu_thread_by_name(l.t, "worker");
    int64_t a, b;
    c_call_span(l.t, w, &a, &b);
    ck_assert_int_ge(b - a, 80 * MS);
    /* the heartbeat's sleep (4 ms) ends early in the call; it then waits
     * for the rest of it, and no switch interval cuts that short */
    int64_t wait = longest_without_gil(l.t, hb);
    ck_assert_int_ge(l.s.threads[hb].io_to_gil.max, wait);
    ck_assert_msg(wait >= (b - a) - 5 * MS && wait <= (b - a) + 5 * MS,
                  "longest GIL wait %lld ns beside a %lld ns call", (long long)wait,
                  (long long)(b - a));
    /* it asked: a drop request falls inside the call, but the GIL lane shows
     * no other holder until the call returns */
    bool asked = false;
    const gs_instant_t *in = gs_trace_instants(l.t);
    for (size_t i = 0; i < gs_trace_n_instants(l.t); i++)
        asked |= in[i].kind == GS_IN_DROP_REQUEST && in[i].t_ns > a && in[i].t_ns < b;
    ck_assert_msg(asked, "no drop request during the call");
    const gs_lane_t *gil = gs_trace_lane(l.t, gs_trace_gil_lane(l.t, 0));
    for (size_t k = 0; k < gil->n; k++)
        if (gil->iv[k].end_ns > a && gil->iv[k].start_ns < b)
            ck_assert_int_eq(gil->iv[k].who, w);
    tu_result_free(&l);
}
END_TEST

START_TEST(test_releasing_the_gil_lets_the_heartbeat_tick)
{
    tu_result_t l;
    bool rel = true;
    run_lesson(&l, "06-c-keeps-gil.json", set_c_releases, &rel);
    int hb = tu_thread_by_name(l.t, "heartbeat");
    ck_assert_msg(longest_without_gil(l.t, hb) < 5 * MS, "longest GIL wait %lld ns",
                  (long long)longest_without_gil(l.t, hb));
    ck_assert_int_lt(l.s.threads[hb].io_to_gil.max, 5 * MS);
    tu_result_free(&l);
}
END_TEST

/* ---- 7. I/O-bound threads ------------------------------------------------ */

START_TEST(test_io_bound_threads_overlap_their_waits)
{
    tu_result_t l;
    run_lesson(&l, "07-io-bound-threads.json", NULL, NULL);
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    int64_t serial = 0;
    for (int i = 0; i < l.s.n_threads; i++)
        serial += l.s.threads[i].cpu_ns + l.s.threads[i].io_ns;
    ck_assert_msg(l.s.makespan_ns * 4 <= serial, "makespan %lld ns, serial %lld ns",
                  (long long)l.s.makespan_ns, (long long)serial);
    ck_assert_msg(l.s.gil_utilisation < 0.5, "GIL busy %.2f", l.s.gil_utilisation);
    tu_result_free(&l);
}
END_TEST

/* ---- 8. processes --------------------------------------------------------- */

START_TEST(test_processes_run_in_parallel_one_gil_each)
{
    tu_result_t procs, threads;
    run_lesson(&procs, "08-processes.json", NULL, NULL);
    run_lesson(&threads, "02-four-threads.json", NULL, NULL);
    ck_assert_int_eq(procs.s.outcome, GS_OUT_DONE);
    ck_assert_msg(procs.s.speedup_vs_serial >= 3.4, "speed-up %.2f",
                  procs.s.speedup_vs_serial);
    ck_assert_msg(procs.s.makespan_ns * 3 <= threads.s.makespan_ns,
                  "processes %lld ns, threads %lld ns", (long long)procs.s.makespan_ns,
                  (long long)threads.s.makespan_ns);
    /* each GIL has exactly one holder over the run: its own worker */
    for (int p = 0; p < gs_trace_n_processes(procs.t); p++) {
        int gl = gs_trace_gil_lane(procs.t, p);
        if (gl < 0)
            continue;
        const gs_lane_t *g = gs_trace_lane(procs.t, gl);
        for (size_t k = 1; k < g->n; k++)
            ck_assert_int_eq(g->iv[k].who, g->iv[0].who);
    }
    for (int i = 0; i < procs.s.n_threads; i++)
        ck_assert_int_eq(procs.s.threads[i].gil_wait_ns, 0);
    tu_result_free(&procs);
    tu_result_free(&threads);
}
END_TEST

START_TEST(test_processes_share_too_few_cores)
{
    tu_result_t l;
    int cores = 2;
    run_lesson(&l, "08-processes.json", set_cores, &cores);
    ck_assert_int_ge(l.s.makespan_ns, 190 * MS);
    ck_assert_msg(l.s.speedup_vs_serial <= 2.02, "speed-up %.2f", l.s.speedup_vs_serial);
    tu_result_free(&l);
}
END_TEST

/* ---- 9. free-threaded ------------------------------------------------------ */

START_TEST(test_free_threaded_speeds_up_about_cores)
{
    tu_result_t l;
    run_lesson(&l, "09-free-threaded.json", NULL, NULL);
    int cores = l.m->machine.cores;
    ck_assert_int_eq(gs_trace_gil_lane(l.t, 0), -1);
    ck_assert_msg(l.s.speedup_vs_serial >= 0.9 * cores, "speed-up %.2f on %d cores",
                  l.s.speedup_vs_serial, cores);
    for (int i = 0; i < l.s.n_threads; i++)
        ck_assert_int_eq(l.s.threads[i].gil_wait_ns, 0);
    tu_result_free(&l);
}
END_TEST

START_TEST(test_the_same_work_with_a_gil_does_not_speed_up)
{
    tu_result_t l;
    gs_gil_kind_t g = GS_GIL_CPYTHON3;
    run_lesson(&l, "09-free-threaded.json", set_gil, &g);
    ck_assert_msg(l.s.speedup_vs_serial <= 1.05, "speed-up %.2f", l.s.speedup_vs_serial);
    tu_result_free(&l);
}
END_TEST

/* ---- 10. more threads than cores ----------------------------------------- */

static int64_t ready_holding_gil(const gs_trace_t *t)
{
    int64_t sum = 0;
    for (int i = 0; i < gs_trace_n_threads(t); i++) {
        const gs_lane_t *l = thread_lane(t, i);
        for (size_t k = 0; k < l->n; k++)
            if (l->iv[k].state == GS_ST_READY && (l->iv[k].flags & GS_IV_HOLDS_GIL))
                sum += l->iv[k].end_ns - l->iv[k].start_ns;
    }
    return sum;
}

START_TEST(test_the_os_preempts_the_gil_holder)
{
    tu_result_t l;
    run_lesson(&l, "10-more-threads-than-cores.json", NULL, NULL);
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    ck_assert_int_gt(l.s.preemptions_of_gil_holder, 0);
    ck_assert_int_gt(ready_holding_gil(l.t), 0);
    tu_result_free(&l);
}
END_TEST

START_TEST(test_a_core_per_thread_stops_the_preemptions)
{
    tu_result_t l;
    int cores = 4;
    run_lesson(&l, "10-more-threads-than-cores.json", set_cores, &cores);
    ck_assert_int_eq(l.s.preemptions_of_gil_holder, 0);
    ck_assert_int_eq(ready_holding_gil(l.t), 0);
    tu_result_free(&l);
}
END_TEST

/* ---- 11. locks ------------------------------------------------------------ */

START_TEST(test_writes_under_a_lock_never_overlap)
{
    tu_result_t l;
    run_lesson(&l, "11-lock-contention.json", NULL, NULL);
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    int n = l.s.n_threads;
    int64_t waited = 0, io = 0;
    for (int i = 0; i < n; i++) {
        waited += time_in(l.t, i, GS_ST_WAIT_LOCK);
        io += l.s.threads[i].io_ns;
        for (int j = i + 1; j < n; j++) {
            const gs_lane_t *a = thread_lane(l.t, i), *b = thread_lane(l.t, j);
            for (size_t x = 0; x < a->n; x++) {
                if (a->iv[x].state != GS_ST_IO)
                    continue;
                for (size_t y = 0; y < b->n; y++)
                    ck_assert_msg(b->iv[y].state != GS_ST_IO ||
                                      b->iv[y].end_ns <= a->iv[x].start_ns ||
                                      a->iv[x].end_ns <= b->iv[y].start_ns,
                                  "%s and %s write at the same time", a->name, b->name);
            }
        }
    }
    ck_assert_int_gt(waited, 0);
    ck_assert_int_ge(l.s.makespan_ns, io);
    tu_result_free(&l);
}
END_TEST

START_TEST(test_the_lock_not_the_cores_sets_the_pace)
{
    tu_result_t four, one;
    int cores = 1;
    run_lesson(&four, "11-lock-contention.json", NULL, NULL);
    run_lesson(&one, "11-lock-contention.json", set_cores, &cores);
    ck_assert_msg(ratio(one.s.makespan_ns, four.s.makespan_ns) <= 1.15,
                  "1 core %lld ns, 4 cores %lld ns", (long long)one.s.makespan_ns,
                  (long long)four.s.makespan_ns);
    tu_result_free(&four);
    tu_result_free(&one);
}
END_TEST

START_TEST(test_opposite_lock_order_deadlocks_and_names_the_cycle)
{
    tu_result_t l;
    run_lesson(&l, "11-deadlock.json", NULL, NULL);
    ck_assert_int_eq(l.rc, GS_EDEADLOCK);
    ck_assert_int_eq(gs_trace_outcome(l.t), GS_OUT_DEADLOCK);
    const char *msg = gs_trace_message(l.t);
    static const char *const names[] = {"transfer-1", "transfer-2", "alice", "bob"};
    for (size_t i = 0; i < 4; i++)
        ck_assert_msg(strstr(msg, names[i]), "the deadlock message does not name %s: %s",
                      names[i], msg);
    ck_assert_uint_ge(count_instants(l.t, GS_IN_DEADLOCK), 1);
    ck_assert_int_le(gs_trace_end_ns(l.t), 10 * MS);
    tu_result_free(&l);
}
END_TEST

/* The fix from the notes: both transfers take alice, then bob. */
static void same_lock_order(gs_model_t *m, void *arg)
{
    (void)arg;
    ck_assert_int_eq(m->threads[0].n_program, m->threads[1].n_program);
    for (int k = 0; k < m->threads[0].n_program; k++)
        m->threads[1].program[k].target = m->threads[0].program[k].target;
}

START_TEST(test_the_same_lock_order_does_not_deadlock)
{
    tu_result_t l;
    run_lesson(&l, "11-deadlock.json", same_lock_order, NULL);
    ck_assert_int_eq(l.rc, 0);
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    tu_result_free(&l);
}
END_TEST

/* ---- 12. producer and consumers -------------------------------------------- */

static void set_maxsize(gs_model_t *m, void *arg)
{
    m->queues[0].maxsize = *(int *)arg;
}

START_TEST(test_queue_never_exceeds_maxsize)
{
    tu_result_t l;
    run_lesson(&l, "12-producer-consumer.json", NULL, NULL);
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    int maxsize = l.m->queues[0].maxsize;
    int64_t highest = 0;
    size_t n = 0;
    const gs_instant_t *in = gs_trace_instants(l.t);
    for (size_t i = 0; i < gs_trace_n_instants(l.t); i++)
        if (in[i].kind == GS_IN_QUEUE_LEN) {
            n++;
            ck_assert_int_ge(in[i].arg, 0);
            if (in[i].arg > highest)
                highest = in[i].arg;
        }
    ck_assert_uint_eq(n, 24); /* 12 puts and 12 gets, each changes the length */
    ck_assert_int_le(highest, maxsize);
    ck_assert_int_eq(highest, maxsize); /* and the fast producer does fill it */
    tu_result_free(&l);
}
END_TEST

START_TEST(test_a_full_queue_holds_the_producer_back)
{
    tu_result_t bounded, big;
    int maxsize = 100;
    run_lesson(&bounded, "12-producer-consumer.json", NULL, NULL);
    run_lesson(&big, "12-producer-consumer.json", set_maxsize, &maxsize);
    int pb = tu_thread_by_name(bounded.t, "producer"), pg = tu_thread_by_name(big.t, "producer");
    ck_assert_int_gt(time_in(bounded.t, pb, GS_ST_WAIT_QUEUE), 10 * MS);
    ck_assert_int_eq(time_in(big.t, pg, GS_ST_WAIT_QUEUE), 0);
    ck_assert_int_lt(last_run_end(big.t, pg) * 2, last_run_end(bounded.t, pb));
    tu_result_free(&bounded);
    tu_result_free(&big);
}
END_TEST

/* ---- 13. the Python 2 GIL ------------------------------------------------- */

START_TEST(test_python2_gil_battle_wakes_waiters_for_nothing)
{
    tu_result_t l;
    run_lesson(&l, "13-python2-gil-battle.json", NULL, NULL);
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    ck_assert_msg(l.s.futile_wakeups > 2 * l.s.gil_switches && l.s.futile_wakeups >= 20,
                  "%lld futile wake-ups, %lld switches", (long long)l.s.futile_wakeups,
                  (long long)l.s.gil_switches);
    ck_assert_msg(l.s.speedup_vs_serial <= 1.05, "speed-up %.2f", l.s.speedup_vs_serial);
    tu_result_free(&l);
}
END_TEST

START_TEST(test_python3_gil_ends_the_battle)
{
    tu_result_t py2, py3;
    gs_gil_kind_t g = GS_GIL_CPYTHON3;
    run_lesson(&py2, "13-python2-gil-battle.json", NULL, NULL);
    run_lesson(&py3, "13-python2-gil-battle.json", set_gil, &g);
    ck_assert_msg(py3.s.futile_wakeups * 10 <= py2.s.futile_wakeups,
                  "%lld futile wake-ups with cpython3, %lld with cpython2",
                  (long long)py3.s.futile_wakeups, (long long)py2.s.futile_wakeups);
    tu_result_free(&py2);
    tu_result_free(&py3);
}
END_TEST

/* ---- 14. OS scheduling ------------------------------------------------------ */

typedef struct times {
    double turnaround, waiting, response; /* means over the jobs, ns */
} times_t;

static times_t job_times(const tu_result_t *l)
{
    times_t r = {0, 0, 0};
    int n = l->s.n_threads;
    for (int i = 0; i < n; i++) {
        int64_t arrival = l->m->threads[i].start_at_ns;
        int64_t finish = last_run_end(l->t, i);
        ck_assert_int_ge(finish, arrival);
        r.turnaround += (double)(finish - arrival) / n;
        r.waiting += (double)l->s.threads[i].core_wait_ns / n;
        r.response += (double)(first_run(l->t, i) - arrival) / n;
    }
    return r;
}

START_TEST(test_fifo_runs_each_job_to_the_end_in_arrival_order)
{
    tu_result_t l;
    run_lesson(&l, "14-os-scheduling.json", NULL, NULL);
    ck_assert_int_eq(l.m->machine.policy, GS_POLICY_FIFO);
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    ck_assert_int_eq(l.s.preemptions, 0);
    int64_t prev = -1;
    for (int i = 0; i < l.s.n_threads; i++) {
        int64_t first = first_run(l.t, i);
        ck_assert_int_gt(first, prev);
        prev = first;
        const gs_lane_t *lane = thread_lane(l.t, i);
        for (size_t k = 0; k < lane->n; k++)
            ck_assert_msg(lane->iv[k].start_ns < first || lane->iv[k].state != GS_ST_READY,
                          "%s waits for a core again after it started", lane->name);
    }
    tu_result_free(&l);
}
END_TEST

START_TEST(test_round_robin_answers_short_jobs_sooner_than_fifo)
{
    tu_result_t fifo, rr;
    policy_arg_t p = {GS_POLICY_RR, 4 * MS};
    run_lesson(&fifo, "14-os-scheduling.json", NULL, NULL);
    run_lesson(&rr, "14-os-scheduling.json", set_policy, &p);
    times_t f = job_times(&fifo), r = job_times(&rr);
    ck_assert_msg(r.response * 3 < f.response, "mean response rr %.0f ns, fifo %.0f ns",
                  r.response, f.response);
    ck_assert_msg(r.turnaround < f.turnaround, "mean turnaround rr %.0f ns, fifo %.0f ns",
                  r.turnaround, f.turnaround);
    ck_assert_msg(r.waiting < f.waiting, "mean waiting rr %.0f ns, fifo %.0f ns", r.waiting,
                  f.waiting);
    /* the same work: the total time moves only by the extra switches */
    ck_assert_msg(ratio(rr.s.makespan_ns, fifo.s.makespan_ns) <= 1.05 &&
                      ratio(rr.s.makespan_ns, fifo.s.makespan_ns) >= 0.99,
                  "makespan rr %lld ns, fifo %lld ns", (long long)rr.s.makespan_ns,
                  (long long)fifo.s.makespan_ns);
    tu_result_free(&fifo);
    tu_result_free(&rr);
}
END_TEST

START_TEST(test_shorter_slices_switch_more_and_answer_sooner)
{
    tu_result_t s2, s20;
    policy_arg_t p2 = {GS_POLICY_RR, 2 * MS}, p20 = {GS_POLICY_RR, 20 * MS};
    run_lesson(&s2, "14-os-scheduling.json", set_policy, &p2);
    run_lesson(&s20, "14-os-scheduling.json", set_policy, &p20);
    ck_assert_int_gt(s2.s.preemptions, s20.s.preemptions);
    ck_assert_msg(job_times(&s2).response < job_times(&s20).response,
                  "mean response 2 ms %.0f ns, 20 ms %.0f ns", job_times(&s2).response,
                  job_times(&s20).response);
    tu_result_free(&s2);
    tu_result_free(&s20);
}
END_TEST

START_TEST(test_cfs_answers_short_jobs_sooner_than_fifo)
{
    tu_result_t fifo, cfs;
    policy_arg_t p = {GS_POLICY_CFS, 4 * MS};
    run_lesson(&fifo, "14-os-scheduling.json", NULL, NULL);
    run_lesson(&cfs, "14-os-scheduling.json", set_policy, &p);
    times_t f = job_times(&fifo), c = job_times(&cfs);
    ck_assert_msg(c.response * 3 < f.response, "mean response cfs %.0f ns, fifo %.0f ns",
                  c.response, f.response);
    ck_assert_msg(c.turnaround < f.turnaround, "mean turnaround cfs %.0f ns, fifo %.0f ns",
                  c.turnaround, f.turnaround);
    tu_result_free(&fifo);
    tu_result_free(&cfs);
}
END_TEST

/* ---- every lesson ------------------------------------------------------------ */

START_TEST(test_every_lesson_is_short_described_and_keeps_the_invariants)
{
    char names[64][TU_NAME_MAX];
    int n = tu_list_lessons(names, 64);
    ck_assert_int_ge(n, 14);
    for (int i = 0; i < n; i++) {
        tu_result_t l;
        run_lesson(&l, names[i], NULL, NULL);
        ck_assert_msg(l.m->name && l.m->name[0], "%s has no name", names[i]);
        ck_assert_msg(l.m->description && strlen(l.m->description) >= 80,
                      "%s has no description of what to look for", names[i]);
        ck_assert_msg(l.m->n_threads >= 1 && l.m->n_threads <= 8, "%s: %d threads", names[i],
                      l.m->n_threads);
        ck_assert_msg(gs_trace_end_ns(l.t) <= 1000 * MS, "%s runs %lld ns of simulated time",
                      names[i], (long long)gs_trace_end_ns(l.t));
        if (strstr(names[i], "deadlock"))
            ck_assert_int_eq(l.s.outcome, GS_OUT_DEADLOCK);
        else
            ck_assert_msg(l.s.outcome == GS_OUT_DONE, "%s ends with %s: %s", names[i],
                          gs_outcome_key(l.s.outcome), gs_trace_message(l.t));
        tu_result_free(&l);
    }
}
END_TEST

/* The built-in default scenario is lesson 3, byte for byte. */
START_TEST(test_default_scenario_is_the_convoy_lesson)
{
    char path[1024];
    tu_source_path("scenarios/03-convoy.json", path, sizeof path);
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 16];
    size_t len = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[len] = '\0';
    ck_assert_str_eq(gs_scenario_default_json(), buf);
}
END_TEST

/* ---- 15-18. Python versions: free-threaded builds, subinterpreters ------------ */

/* Runs a lesson with one --set override ("threads[0].count=1"). */
static void run_lesson_set(tu_result_t *l, const char *file, const char *set)
{
    tu_run_lesson(l, file, &set, 1);
}

static void set_python_gil(gs_model_t *m, void *arg)
{
    m->processes[0].python.python_gil = *(int *)arg;
}

static void set_preset(gs_model_t *m, void *arg)
{
    ck_assert_int_eq(gs_python_preset(arg, &m->processes[0].python), 0);
}

START_TEST(test_free_threaded_independent_work_scales)
{
    tu_result_t four, one, t313;
    run_lesson(&four, "15-free-threaded-scales.json", NULL, NULL);
    run_lesson_set(&one, "15-free-threaded-scales.json", "threads[0].count=1");
    run_lesson(&t313, "15-free-threaded-scales.json", set_preset, "3.13t");
    /* four threads' work in about one thread's time */
    ck_assert_int_le(four.s.makespan_ns, one.s.makespan_ns + one.s.makespan_ns / 20);
    /* each thread pays its build's single-thread cost: 3.13t more than 3.14t */
    ck_assert_int_gt(one.s.makespan_ns, 52 * MS);
    ck_assert_int_gt(t313.s.makespan_ns, four.s.makespan_ns * 5 / 4);
    tu_result_free(&four);
    tu_result_free(&one);
    tu_result_free(&t313);
}
END_TEST

START_TEST(test_free_threaded_one_shared_dict_stops_the_scaling)
{
    tu_result_t four, one, two;
    run_lesson(&four, "16-free-threaded-shared-dict.json", NULL, NULL);
    run_lesson_set(&one, "16-free-threaded-shared-dict.json", "threads[0].count=1");
    run_lesson_set(&two, "16-free-threaded-shared-dict.json", "threads[0].count=2");
    /* more sharers, slower: four threads do less work per second than one */
    ck_assert_int_lt(one.s.makespan_ns, two.s.makespan_ns);
    double speedup = 4.0 * (double)one.s.makespan_ns / (double)four.s.makespan_ns;
    ck_assert_msg(speedup < 0.5, "four threads on one dict: %.2fx one thread", speedup);
    tu_result_free(&four);
    tu_result_free(&one);
    tu_result_free(&two);
}
END_TEST

START_TEST(test_free_threaded_import_turns_the_gil_back_on)
{
    tu_result_t l, off;
    int zero = 0;
    run_lesson(&l, "17-free-threaded-import.json", NULL, NULL);
    run_lesson(&off, "17-free-threaded-import.json", set_python_gil, &zero);
    const gs_instant_t *in = gs_trace_instants(l.t);
    int64_t enabled = -1;
    for (size_t i = 0; i < gs_trace_n_instants(l.t); i++)
        if (in[i].kind == GS_IN_GIL_ENABLED)
            enabled = in[i].t_ns;
    ck_assert_int_ge(enabled, 10 * MS);
    /* before: nobody waits for a GIL; after: the threads take turns */
    ck_assert_int_gt(l.s.gil_switches, 5);
    ck_assert_int_gt(l.s.makespan_ns, 2 * off.s.makespan_ns);
    /* PYTHON_GIL=0: the import changes nothing, all four run in parallel */
    for (int i = 0; i < off.s.n_threads; i++)
        ck_assert_int_eq(off.s.threads[i].gil_wait_ns, 0);
    tu_result_free(&l);
    tu_result_free(&off);
}
END_TEST

START_TEST(test_subinterpreters_run_in_parallel_with_their_own_gil)
{
    tu_result_t l, threads;
    run_lesson(&l, "18-subinterpreters.json", NULL, NULL);
    run_lesson(&threads, "02-four-threads.json", NULL, NULL);
    ck_assert_int_eq(gs_trace_n_processes(l.t), 5); /* the main interpreter, and four */
    /* four GILs, each held by its own worker, none waited for */
    for (int i = 0; i < l.s.n_threads; i++)
        ck_assert_int_eq(l.s.threads[i].gil_wait_ns, 0);
    /* done soon after 50 ms of work plus 1.1 ms to create an interpreter
     * and the input's trip: pickled by main, unpickled by the worker */
    ck_assert_int_le(l.s.makespan_ns, 55 * MS);
    ck_assert_int_ge(l.s.makespan_ns, 51 * MS);
    ck_assert(l.s.makespan_ns * 3 < threads.s.makespan_ns / 2); /* 4x less work than 02 */
    /* main's part is pickling four 200 KB inputs (2.5 us per KB) */
    ck_assert_int_ge(l.s.threads[0].cpu_ns, 4 * 200000 / 1024 * 2500);
    /* each worker: creation, unpickling (5 us per KB), 50 ms of Python */
    for (int i = 1; i < l.s.n_threads; i++)
        ck_assert_int_ge(l.s.threads[i].cpu_ns, 50 * MS + 200000 * 5000 / 1024 + 1100 * 1000);
    tu_result_free(&l);
    tu_result_free(&threads);
}
END_TEST

START_TEST(test_daemon_thread_is_stopped_when_main_returns)
{
    tu_result_t l, v313;
    run_lesson(&l, "19-daemon-thread-at-exit.json", NULL, NULL);
    run_lesson(&v313, "19-daemon-thread-at-exit.json", set_preset, "3.13");
    ck_assert_int_eq(l.s.outcome, GS_OUT_DONE);
    /* the run ends with main; the logger never finishes its ten records */
    const gs_thread_stats_t *main_t = &l.s.threads[0], *logger = &l.s.threads[1];
    ck_assert_int_ge(main_t->finished_ns, 30 * MS);
    ck_assert_int_le(l.s.makespan_ns, main_t->finished_ns);
    ck_assert_int_lt(logger->cpu_ns, 10 * MS);
    /* what happens to it next is the version's: hang (3.14) or exit (3.13) */
    ck_assert_ptr_nonnull(strstr(gs_trace_message(l.t), "hangs"));
    ck_assert_ptr_nonnull(strstr(gs_trace_message(v313.t), "exits"));
    tu_result_free(&l);
    tu_result_free(&v313);
}
END_TEST

static Suite *lessons_suite(void)
{
    Suite *s = suite_create("lessons");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_one_thread_runs_its_work_in_its_own_time);
    tcase_add_test(core, test_two_cpu_threads_take_at_least_1_9x_one);
    tcase_add_test(core, test_four_cpu_threads_on_four_cores_take_at_least_3_8x_one);
    tcase_add_test(core, test_convoy_server_waits_about_one_interval_per_io);
    tcase_add_test(core, test_io_wait_follows_the_switch_interval);
    tcase_add_test(core, test_releasing_c_calls_speed_up_about_cores);
    tcase_add_test(core, test_gil_keeping_call_starves_the_heartbeat_for_its_length);
    tcase_add_test(core, test_io_bound_threads_overlap_their_waits);
    tcase_add_test(core, test_processes_run_in_parallel_one_gil_each);
    tcase_add_test(core, test_free_threaded_speeds_up_about_cores);
    tcase_add_test(core, test_the_os_preempts_the_gil_holder);
    tcase_add_test(core, test_writes_under_a_lock_never_overlap);
    tcase_add_test(core, test_opposite_lock_order_deadlocks_and_names_the_cycle);
    tcase_add_test(core, test_queue_never_exceeds_maxsize);
    tcase_add_test(core, test_python2_gil_battle_wakes_waiters_for_nothing);
    tcase_add_test(core, test_fifo_runs_each_job_to_the_end_in_arrival_order);
    tcase_add_test(core, test_round_robin_answers_short_jobs_sooner_than_fifo);
    /* the lessons of other Python versions */
    tcase_add_test(core, test_free_threaded_independent_work_scales);
    tcase_add_test(core, test_free_threaded_one_shared_dict_stops_the_scaling);
    tcase_add_test(core, test_free_threaded_import_turns_the_gil_back_on);
    tcase_add_test(core, test_subinterpreters_run_in_parallel_with_their_own_gil);
    tcase_add_test(core, test_daemon_thread_is_stopped_when_main_returns);
    suite_add_tcase(s, core);

    /* limits: what changes when a knob is pushed to an end */
    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, test_one_thread_does_not_go_faster_with_more_cores);
    tcase_add_test(limits, test_convoy_wait_shrinks_with_the_interval);
    tcase_add_test(limits, test_shorter_interval_means_more_switches);
    tcase_add_test(limits, test_c_calls_that_keep_the_gil_do_not_speed_up);
    tcase_add_test(limits, test_releasing_c_calls_are_capped_by_the_cores);
    tcase_add_test(limits, test_releasing_the_gil_lets_the_heartbeat_tick);
    tcase_add_test(limits, test_processes_share_too_few_cores);
    tcase_add_test(limits, test_the_same_work_with_a_gil_does_not_speed_up);
    tcase_add_test(limits, test_a_core_per_thread_stops_the_preemptions);
    tcase_add_test(limits, test_the_lock_not_the_cores_sets_the_pace);
    tcase_add_test(limits, test_the_same_lock_order_does_not_deadlock);
    tcase_add_test(limits, test_a_full_queue_holds_the_producer_back);
    tcase_add_test(limits, test_python3_gil_ends_the_battle);
    tcase_add_test(limits, test_shorter_slices_switch_more_and_answer_sooner);
    tcase_add_test(limits, test_cfs_answers_short_jobs_sooner_than_fifo);
    suite_add_tcase(s, limits);

    TCase *props = tcase_create("props");
    tcase_add_test(props, test_cpu_threads_take_turns_by_forced_switches);
    tcase_add_test(props, test_every_lesson_is_short_described_and_keeps_the_invariants);
    tcase_add_test(props, test_default_scenario_is_the_convoy_lesson);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(lessons_suite());
}
