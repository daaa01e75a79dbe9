/* check_versions.c - python.version presets and the version-specific models:
 * properties that must hold for each version's mechanism. */
#include <check.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"
#include "testutil_scenario.h"

/* The scenario text with at most one --set, or NULL with *d saying why (d
 * NULL: the test fails if it does not load). */
static gs_model_t *load(const char *text, const char *set, gs_diag_t *d)
{
    return tu_load("t.json", text, set ? &set : NULL, set ? 1 : 0, d);
}

static const char *two_cpu = "{\"machine\": {\"cores\": 2}, \"python\": {\"switch_interval\": "
                             "\"5ms\"}, \"threads\": [{\"name\": \"w\", \"count\": 2, "
                             "\"program\": [{\"cpu\": \"20ms\"}]}]}";

/* ---- presets ------------------------------------------------------------------ */

START_TEST(test_preset_sets_the_gil_and_explicit_keys_win)
{
    gs_diag_t d;
    gs_model_t *m = load(two_cpu, "python.version=2.7", &d);
    ck_assert_ptr_nonnull(m);
    const gs_python_t *py = &m->processes[0].python;
    ck_assert_int_eq(py->gil, GS_GIL_CPYTHON2);
    ck_assert_int_eq(py->version, 207);
    gs_model_free(m);

    m = load("{\"python\": {\"version\": \"3.13t\", \"slowdown\": 1.2}, \"threads\": "
             "[{\"name\": \"a\", \"program\": [{\"cpu\": \"1ms\"}]}]}",
             NULL, &d);
    ck_assert_ptr_nonnull(m);
    py = &m->processes[0].python;
    ck_assert_int_eq(py->gil, GS_GIL_NONE);
    ck_assert(py->free_threaded);
    ck_assert_int_eq(py->slowdown_pct, 120); /* explicit wins over the preset's 1.40 */
    gs_model_free(m);

    m = load(two_cpu, "python.version=3.14t", &d);
    ck_assert_int_eq(m->processes[0].python.slowdown_pct, 108);
    ck_assert_int_eq(m->processes[0].python.switch_interval_ns, 5000000);
    gs_model_free(m);
}
END_TEST

START_TEST(test_unknown_versions_say_what_is_valid)
{
    gs_diag_t d;
    ck_assert_ptr_null(load(two_cpu, "python.version=3.99", &d));
    ck_assert_int_eq(d.n_total, 1);
    ck_assert_str_eq(d.e[0].path, "python.version");
    ck_assert_ptr_nonnull(strstr(d.e[0].msg, "\"3.14t\""));
    /* 3.10 on a command line is the number 3.1: say how to write it */
    ck_assert_ptr_null(load(two_cpu, "python.version=3.10", &d));
    ck_assert_ptr_nonnull(strstr(d.e[0].msg, "\"3.10\""));
    gs_model_t *m = load(two_cpu, "python.version=\"3.10\"", &d);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->processes[0].python.version, 310);
    gs_model_free(m);
}
END_TEST

/* ---- the Python 2 GIL battle ------------------------------------------------------ */

/* Two threads of 20 ms of Python under 2.7 against one thread doing both:
 * `wake_ns` is what a release that wakes a sleeping waiter costs the holder
 * (python.futex; 0: the machine's wake cost, machine.futex + wake_ipi),
 * `bare_ns` one that finds the waiter registered but awake (machine.syscall,
 * a bare system call); `wakeup_ns` the waiter's wake-up onto an idle core
 * (late by up to half as much again, seeded); `ipi_ns` machine.wake_ipi.
 * *signals: how many releases woke a sleeper (NULL: not wanted). `shared`:
 * one run queue for the machine instead of the default per-core ones. */
static double battle_on(bool shared, int cores, int64_t wake_ns, int64_t bare_ns, int64_t wakeup_ns,
                        int affine_pct, int64_t ipi_ns, int64_t *signals)
{
    gs_model_t *m = load(two_cpu, "python.version=2.7", NULL);
    if (shared)
        m->machine.per_core_queues = false;
    m->machine.cores = cores;
    m->machine.wake_affine_pct = affine_pct;
    m->machine.syscall_ns = bare_ns;
    m->machine.futex_ns = 400;
    m->machine.wake_ipi_ns = ipi_ns;
    m->machine.wakeup_latency_ns = wakeup_ns;
    m->machine.wakeup_jitter_ns = wakeup_ns / 2; /* no lock-step with the releases */
    m->processes[0].python.futex_ns = wake_ns;
    int rc;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, 0);
    int64_t end = tu_last_finish(t, 2);
    if (signals)
        *signals = tu_count(t, GS_IN_SIGNAL, -1);
    gs_trace_free(t);
    gs_model_free(m);
    return (double)end / (double)MS(40);
}

static double battle_ipi(int cores, int64_t wake_ns, int64_t bare_ns, int64_t wakeup_ns,
                         int affine_pct, int64_t ipi_ns, int64_t *signals)
{
    return battle_on(false, cores, wake_ns, bare_ns, wakeup_ns, affine_pct, ipi_ns, signals);
}

static double battle_placed(int cores, int64_t wake_ns, int64_t bare_ns, int64_t wakeup_ns,
                            int affine_pct)
{
    return battle_ipi(cores, wake_ns, bare_ns, wakeup_ns, affine_pct, 0, NULL);
}

static double battle(int cores, int64_t wake_ns, int64_t bare_ns, int64_t wakeup_ns)
{
    return battle_placed(cores, wake_ns, bare_ns, wakeup_ns, 0);
}

START_TEST(test_py27_two_threads_on_two_cores_are_slower_than_serial)
{
    /* With the default machine (every futex call 1 us) the holder pays one
     * per release while the other thread is registered: far slower. */
    double r = battle(2, 1000, 1000, US(20));
    ck_assert_msg(r > 1.5, "2.7 on two cores: %.2fx serial", r);
    /* the cost comes from the mechanism: without the system calls, no loss */
    double free_call = battle(2, 0, 0, US(20));
    ck_assert_msg(free_call < 1.05, "2.7 with free futex calls: %.2fx serial", free_call);
    /* a dearer system call costs more */
    ck_assert(battle(2, 2000, 2000, US(20)) > r);
}
END_TEST

START_TEST(test_py27_battle_costs_a_bare_call_per_release_while_the_waiter_is_awake)
{
    /* The preset's release period: 100 ticks of 6 ns. Once woken, the
     * waiter stays registered while it travels to its core (the wake-up
     * latency) and while it goes back to sleep, so most releases find it
     * awake: their futex_wake finds nobody and costs one bare call. With a
     * wake-up much longer than the period the battle costs about
     * (period + bare) / period, whatever a wake of a sleeper costs. */
    double period = 600.0;
    for (int64_t bare = 100; bare <= 400; bare += 150) {
        double r = battle(2, 1000, bare, US(30));
        double expect = (period + (double)bare) / period;
        ck_assert_msg(r > 1.0 + 0.7 * (expect - 1.0) && r < 1.0 + 1.3 * (expect - 1.0),
                      "bare %lld ns: %.3fx, expected about %.3fx", (long long)bare, r, expect);
    }
    /* the wake of a sleeper happens once per wake-up (every 30 to 45 us
     * here), not per release (every 0.6 us): 4.5 us dearer, the run is
     * longer by about 4.5 / 40, not by 4.5 / 0.6 */
    double cheap = battle(2, 500, 200, US(30)), dear = battle(2, 5000, 200, US(30));
    ck_assert_msg(dear > cheap && dear < cheap * 1.2, "wake 0.5 us %.3fx, 5 us %.3fx", cheap,
                  dear);
}
END_TEST

/* With python.futex unset, a release that wakes the sleeping waiter costs
 * the holder what any wake of a blocked thread costs its waker: the futex
 * call, and the interrupt to the waiter's core when that core is idle and
 * not the holder's (wake.c wake_cost). Measured inside real Python 2.7 on this
 * VM (sem_post timed by a preloaded wrapper): ~10-12 us for such a release,
 * ~0.11 us for a bare one. So on two cores each wake-up of the waiter makes
 * the run longer by about one interrupt; on one core there is no other idle
 * core to interrupt, and the interrupt's cost changes nothing. */
START_TEST(test_py27_each_wakeup_of_the_waiter_costs_the_holder_an_interrupt)
{
    int64_t n0, n1;
    double r0 = battle_ipi(2, 0, 100, US(30), 0, 0, &n0);
    double r1 = battle_ipi(2, 0, 100, US(30), 0, US(10), &n1);
    ck_assert_msg(n0 > 100 && n1 > 100, "wake-ups: %lld, %lld", (long long)n0, (long long)n1);
    double extra_ns = (r1 - r0) * (double)MS(40);
    double per = extra_ns / (double)n1;
    ck_assert_msg(per > 0.5 * US(10) && per < 1.5 * US(10),
                  "%.2fx -> %.2fx serial, %lld wake-ups: %.1f us each, expected about 10 us",
                  r0, r1, (long long)n1, per / 1000.0);
    /* an explicit python.futex is the whole cost of such a release */
    double fixed = battle_ipi(2, 1000, 100, US(30), 0, US(10), NULL);
    ck_assert_msg(fixed < r1, "python.futex 1 us: %.2fx, the interrupt: %.2fx", fixed, r1);
    /* one core: the woken waiter queues behind the holder, no interrupt */
    double one0 = battle_ipi(1, 0, 100, US(30), 0, 0, NULL);
    double one1 = battle_ipi(1, 0, 100, US(30), 0, US(10), NULL);
    ck_assert_msg(one1 < 1.05 && one1 - one0 < 0.01, "one core: %.3fx, with the interrupt %.3fx",
                  one0, one1);
}
END_TEST

START_TEST(test_py27_one_core_alternates_at_almost_no_cost)
{
    /* On one core the woken waiter preempts the holder inside its release's
     * call (EEVDF wake-up preemption) and takes the lock: whatever the
     * calls cost, the threads take turns as one thread would. */
    ck_assert_double_lt(battle(1, 1000, 1000, US(20)), 1.05);
    ck_assert_double_lt(battle(1, 5000, 300, US(20)), 1.05);
}
END_TEST

START_TEST(test_py27_battle_is_the_two_core_one_whatever_the_share)
{
    /* Where the kernel runs the woken waiter decides which battle a run
     * shows (docs/model.md, "Where a woken thread runs"). The 2.7 waiter is
     * woken by a holder that runs on, while the waiter's own core, where it
     * went to sleep, idles: Linux's wake_affine_idle keeps that idle
     * previous CPU (traced: 0.5% of the real waiter's wake-ups went to the
     * holder's CPU, battle27_trace.py), and so does the model, whatever
     * wake_affine says: the two-core battle at 0, 0.5 and 1, with one V for
     * the machine and with one per core. The one-core battle is the pair
     * sharing a core (test_py27_one_core_alternates_at_almost_no_cost),
     * which the kernel reaches by where it starts the threads (placement
     * "previous", below). */
    for (int shared = 0; shared <= 1; shared++) {
        double spread = battle_on(shared, 2, 1000, 1000, US(20), 0, 0, NULL);
        double half = battle_on(shared, 2, 1000, 1000, US(20), 50, 0, NULL);
        double packed = battle_on(shared, 2, 1000, 1000, US(20), 100, 0, NULL);
        ck_assert_msg(spread > 1.5, "%s, share 0: %.2fx serial", shared ? "shared" : "per-core",
                      spread);
        ck_assert_msg(fabs(half - spread) < 0.05 * spread && fabs(packed - spread) < 0.05 * spread,
                      "%s: %.2fx, %.2fx, %.2fx serial at 0, 0.5, 1", shared ? "shared" : "per-core",
                      spread, half, packed);
    }
}
END_TEST

/* ---- where the kernel puts the 2.7 pair (placement "previous") --------------------- */

/* A two-core 2.7 battle of two 20 ms CPU threads with placement "previous",
 * each waiting at a gate first: `starter` true: a main thread starts both,
 * opens the gate and joins them (as vprobe.py's battle does), else they
 * start on their own at 0 and main only opens the gate. `busy`: another
 * process keeps one CPU-bound thread running beside them throughout. */
static gs_trace_t *placed_27(bool starter, bool busy, int seed, int64_t *took)
{
    char text[2048];
    snprintf(text, sizeof text,
             "{\"seed\": %d, \"machine\": {\"cores\": 2, \"policy\": \"eevdf\", \"tick\": \"4ms\","
             " \"placement\": \"previous\", \"wakeup_latency\": \"20us\", \"wakeup_jitter\": "
             "\"10us\", \"futex\": \"400ns\", \"syscall\": \"100ns\"}, "
             "\"python\": {\"version\": \"2.7\", \"tick\": \"6ns\"}, \"threads\": ["
             "%s{\"name\": \"w\", \"count\": 2, \"autostart\": %s, "
             "\"program\": [{\"wait\": \"gate\"}, {\"cpu\": \"20ms\"}]}], "
             "\"events\": [\"gate\"]%s}",
             seed,
             starter ? "{\"name\": \"main\", \"program\": [{\"start\": \"w-1\"}, "
                       "{\"start\": \"w-2\"}, {\"set\": \"gate\"}, {\"join\": \"w-1\"}, "
                       "{\"join\": \"w-2\"}]}, "
                     : "{\"name\": \"main\", \"program\": [{\"set\": \"gate\"}]}, ",
             starter ? "false" : "true",
             busy ? ", \"processes\": [{\"name\": \"other\", \"create\": \"0ns\", \"python\": "
                    "{\"gil\": \"none\"}, \"threads\": [{\"name\": \"o\", \"program\": "
                    "[{\"cpu\": \"200ms\"}]}]}]"
                  : "");
    gs_model_t *m = load(text, NULL, NULL);
    int rc;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(rc, 0);
    /* from the first Python of either worker (the gate open) to the end */
    int64_t from = INT64_MAX, to = 0;
    for (int k = 1; k <= 2; k++) {
        int th = tu_thread_by_name(t, k == 1 ? "w-1" : "w-2");
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
        for (size_t i = 0; i < l->n; i++) {
            if (l->iv[i].state == GS_ST_PY && l->iv[i].start_ns < from)
                from = l->iv[i].start_ns;
        }
        if (tu_finish(t, th) > to)
            to = tu_finish(t, th);
    }
    *took = to - from;
    gs_model_free(m);
    return t;
}

/* The core thread `th` first ran on, and how long it ran Python on each
 * core after `from` (its time in core lanes). */
static int first_core(const gs_trace_t *t, int th, int64_t from, int64_t *py_on)
{
    int first = -1;
    int64_t at = INT64_MAX;
    for (int c = 0; c < gs_trace_n_cores(t); c++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, c));
        py_on[c] = 0;
        for (size_t i = 0; i < l->n; i++) {
            if (l->iv[i].who != th)
                continue;
            if (l->iv[i].start_ns < at) {
                at = l->iv[i].start_ns;
                first = c;
            }
            if (l->iv[i].state == GS_ST_PY && l->iv[i].start_ns >= from)
                py_on[c] += l->iv[i].end_ns - l->iv[i].start_ns;
        }
    }
    return first;
}

START_TEST(test_placement_a_new_thread_goes_to_the_idle_core_not_its_starters)
{
    /* Linux's fork balancing counts the starter as load: the idle core
     * gets the new thread. */
    int64_t end, py[2], py_main[2];
    gs_trace_t *t = placed_27(true, false, 1, &end);
    int main_core = first_core(t, tu_thread_by_name(t, "main"), 0, py_main);
    int w1 = first_core(t, tu_thread_by_name(t, "w-1"), 0, py);
    ck_assert_int_ge(main_core, 0);
    ck_assert_int_ne(w1, main_core);
    gs_trace_free(t);
}
END_TEST

START_TEST(test_placement_a_new_thread_shares_its_starters_core_when_no_core_is_idle)
{
    /* The other process's thread takes the core the starter leaves free:
     * no idle core, equal loads, so the new threads queue on the
     * starter's core, and the waiter woken by the holder stays there (its
     * previous core) while the other core is busy: the pair shares one core
     * the whole run and takes turns at one thread's cost. */
    int64_t end, py[2], pm[2];
    gs_trace_t *t = placed_27(true, true, 1, &end);
    int mc = first_core(t, tu_thread_by_name(t, "main"), 0, pm);
    int w1 = first_core(t, tu_thread_by_name(t, "w-1"), 0, py);
    int w2 = first_core(t, tu_thread_by_name(t, "w-2"), 0, py);
    ck_assert_int_eq(w1, mc);
    ck_assert_int_eq(w2, mc);
    int64_t py2[2];
    first_core(t, tu_thread_by_name(t, "w-1"), 0, py);
    first_core(t, tu_thread_by_name(t, "w-2"), 0, py2);
    ck_assert_msg(py[1 - mc] == 0 && py2[1 - mc] == 0,
                  "Python on the other core: %lld and %lld ns", (long long)py[1 - mc],
                  (long long)py2[1 - mc]);
    /* 40 ms of Python on one core beside nothing else of the process: about
     * 40 ms, not the two-core battle's ~1.5x */
    ck_assert_msg(end < MS(40) * 11 / 10, "shared pair done at %.1f ms", (double)end / 1e6);
    gs_trace_free(t);
}
END_TEST

START_TEST(test_placement_a_woken_27_waiter_returns_to_its_own_idle_core)
{
    /* Started on two idle cores, each thread is woken by the other's
     * release onto its own previous core, which is idle: neither ever runs
     * on the other's core, and the pair fights the two-core battle. */
    int64_t end, py1[2], py2[2];
    gs_trace_t *t = placed_27(false, false, 1, &end);
    int c1 = first_core(t, tu_thread_by_name(t, "w-1"), 0, py1);
    int c2 = first_core(t, tu_thread_by_name(t, "w-2"), 0, py2);
    ck_assert_int_ne(c1, c2);
    ck_assert_int_eq(py1[c2], 0);
    ck_assert_int_eq(py2[c1], 0);
    ck_assert_msg(tu_count(t, GS_IN_SIGNAL, -1) > 100, "wake-ups of the waiter: %lld",
                  (long long)tu_count(t, GS_IN_SIGNAL, -1));
    /* a bare call of 100 ns per 600 ns release while the waiter is awake */
    ck_assert_msg(end > MS(40) * 11 / 10, "two-core battle done at %.1f ms", (double)end / 1e6);
    gs_trace_free(t);
}
END_TEST

START_TEST(test_placement_a_pair_started_on_one_core_shares_until_a_balance_parts_it)
{
    /* Quiet machine, a starter: it holds the GIL through both starts, the
     * first new thread blocks on the GIL and its core idles, so the second
     * goes there too (the starter's core is busy). The pair then shares
     * that core until the other one, idle, pulls the preempted thread once
     * it is no longer cache-hot (at a tick after migration_cost), and from
     * then on each returns to its own idle core: the two-core battle for the
     * rest of the run, for every seed. */
    for (int seed = 1; seed <= 3; seed++) {
        int64_t end, py1[2], py2[2], pm[2], e_shared;
        gs_trace_t *t = placed_27(true, false, seed, &end);
        int mc = first_core(t, tu_thread_by_name(t, "main"), 0, pm);
        int c1 = first_core(t, tu_thread_by_name(t, "w-1"), 0, py1);
        int c2 = first_core(t, tu_thread_by_name(t, "w-2"), 0, py2);
        ck_assert_int_eq(c1, 1 - mc);
        ck_assert_int_eq(c2, 1 - mc);
        /* parted: both cores ran the pair's Python after the first tick */
        first_core(t, tu_thread_by_name(t, "w-1"), MS(5), py1);
        first_core(t, tu_thread_by_name(t, "w-2"), MS(5), py2);
        ck_assert_msg(py1[0] + py2[0] > MS(5) && py1[1] + py2[1] > MS(5),
                      "seed %d: Python on core 0 %lld ns, core 1 %lld ns", seed,
                      (long long)(py1[0] + py2[0]), (long long)(py1[1] + py2[1]));
        gs_trace_free(t);
        /* parted, it pays the two-core battle; kept on one core (the other
         * busy), it does not */
        gs_trace_free(placed_27(true, true, seed, &e_shared));
        ck_assert_msg(end > e_shared * 21 / 20, "seed %d: started on one core %.1f ms, kept on "
                      "one core %.1f ms", seed, (double)end / 1e6, (double)e_shared / 1e6);
    }
}
END_TEST

/* ---- free-threaded contention ------------------------------------------------------ */

/* Makespan of n threads, each running 10 ms of Python on a 3.14t build with
 * 8 cores; `prog` is its op (e.g. reads of the shared dict). */
static int64_t ft_makespan(int n, const char *op, const char *objects)
{
    char text[1024];
    snprintf(text, sizeof text,
             "{\"machine\": {\"cores\": 8}, \"python\": {\"version\": \"3.14t\"}, "
             "\"objects\": %s, \"threads\": [{\"name\": \"w\", \"count\": %d, "
             "\"program\": [%s]}]}",
             objects, n, op);
    return tu_run_last_finish(load(text, NULL, NULL), n);
}

static const char *objs = "{\"cache\": \"dict\", \"f\": \"function\", \"none\": \"immortal\"}";

START_TEST(test_ft_independent_work_scales_with_threads)
{
    int64_t one = ft_makespan(1, "{\"cpu\": \"10ms\"}", objs);
    int64_t four = ft_makespan(4, "{\"cpu\": \"10ms\"}", objs);
    /* four times the work in (nearly) the same time */
    ck_assert_int_le(four, one + one / 20);
    /* and the 3.14t single-thread tax applies to Python: 10 ms take 10.8 */
    ck_assert_int_ge(one, MS(10.7));
}
END_TEST

/* Makespan of n readers of the shared dict, one read every `every` of
 * Python, under `version`. */
static int64_t ft_readers(int n, const char *every, const char *version)
{
    char op[128], text[1024];
    snprintf(op, sizeof op, "{\"cpu\": \"10ms\", \"reads\": \"cache\", \"every\": \"%s\"}",
             every);
    snprintf(text, sizeof text,
             "{\"machine\": {\"cores\": 8}, \"python\": {\"version\": \"%s\"}, "
             "\"objects\": %s, \"threads\": [{\"name\": \"w\", \"count\": %d, "
             "\"program\": [%s]}]}",
             version, objs, n, op);
    return tu_run_last_finish(load(text, NULL, NULL), n);
}

START_TEST(test_ft_contention_grows_with_sharers_and_spares_immortals)
{
    int64_t t1 = ft_readers(1, "30ns", "3.14t"), t2 = ft_readers(2, "30ns", "3.14t"),
            t4 = ft_readers(4, "30ns", "3.14t");
    ck_assert_int_lt(t1, t2);
    ck_assert_int_lt(t2, t4);
    /* published: 4 threads reading one shared dict value are 0.28x one
     * thread (modern-di #354); a dict.get loop takes ~30 ns here, and the
     * default refcount is fitted on it with two ftscalingbench loops */
    double speedup = 4.0 * (double)t1 / (double)t4;
    ck_assert_msg(speedup > 0.2 && speedup < 0.4, "speed-up %.2f", speedup);
    /* immortal objects and functions (deferred refcounting) do not contend */
    ck_assert_int_le(ft_makespan(4, "{\"cpu\": \"10ms\", \"reads\": \"none\", \"every\": \"30ns\"}", objs), t1 + t1 / 20);
    ck_assert_int_le(ft_makespan(4, "{\"cpu\": \"10ms\", \"reads\": \"f\", \"every\": \"30ns\"}", objs), t1 + t1 / 20);
}
END_TEST

START_TEST(test_ft_a_saturated_line_serves_one_access_per_transfer)
{
    /* at saturation the threads together make one access per transfer: the
     * work per second (n x T1 / Tn) is every x slowdown / refcount, the same
     * for 2, 4 and 8 threads (ftscalingbench's contended loops are slower
     * than one thread at any thread count) */
    int64_t t1 = ft_readers(1, "30ns", "3.14t");
    double s[3];
    for (int i = 0, n = 2; i < 3; i++, n *= 2)
        s[i] = n * (double)t1 / (double)ft_readers(n, "30ns", "3.14t");
    double expect = 30 * 1.08 / 100.0;
    for (int i = 0; i < 3; i++)
        ck_assert_msg(s[i] > 0.95 * expect && s[i] < 1.05 * expect,
                      "%d threads: %.3fx, expected %.3fx", 2 << i, s[i], expect);
    /* rare accesses: each pays at most one transfer, so the threads scale */
    int64_t r1 = ft_readers(1, "10us", "3.14t"), r4 = ft_readers(4, "10us", "3.14t");
    ck_assert_msg(4.0 * (double)r1 / (double)r4 > 3.9, "rare reads: %.2fx",
                  4.0 * (double)r1 / (double)r4);
    /* the line does not slow down with the interpreter: 3.13t's slower
     * Python spaces the same loop's accesses out, so it loses less to them */
    double s313 = 4 * (double)ft_readers(1, "30ns", "3.13t") / (double)ft_readers(4, "30ns", "3.13t");
    ck_assert_msg(s313 > 1.2 * s[1] && s313 < 1.4 * s[1], "3.13t %.3fx, 3.14t %.3fx", s313, s[1]);
}
END_TEST

START_TEST(test_ft_writers_serialise_on_the_object_lock)
{
    /* writes that hold the PyMutex longer than the gap between them: the
     * writers take turns, so n writers take about n times as long */
    const char *wr = "{\"cpu\": \"10ms\", \"writes\": \"cache\", \"every\": \"100ns\"}";
    int64_t t1 = ft_makespan(1, wr, objs), t4 = ft_makespan(4, wr, objs);
    ck_assert_int_gt(t4, 3 * t1);
}
END_TEST

START_TEST(test_ft_import_switches_the_gil_on_unless_python_gil_0)
{
    const char *text =
        "{\"machine\": {\"cores\": 4}, \"python\": {\"version\": \"3.14t\"}, "
        "\"threads\": [{\"name\": \"w\", \"count\": 3, \"program\": [{\"cpu\": \"30ms\"}]}, "
        "{\"name\": \"main\", \"program\": [{\"cpu\": \"1ms\"}, {\"import\": \"1ms\"}, "
        "{\"cpu\": \"30ms\"}]}]}";
    gs_diag_t d;
    int64_t end[3];
    for (int k = 0; k < 3; k++) {
        gs_model_t *m = load(text, k == 0 ? NULL : k == 1 ? "python.PYTHON_GIL=0"
                                                            : "threads[1].program[1].free_threading=true",
                             &d);
        ck_assert_ptr_nonnull(m);
        gs_trace_t *t = tu_run(m, NULL);
        end[k] = tu_last_finish(t, 4);
        if (k == 0) /* one stop-the-world pause, and the GIL changes hands after */
            ck_assert_int_ge(tu_count(t, GS_IN_GIL_ENABLED, -1), 1);
        gs_trace_free(t);
        gs_model_free(m);
    }
    /* with the GIL back on, the 4 threads share one core's worth of Python */
    ck_assert_int_gt(end[0], 3 * end[1]);
    ck_assert_int_lt(end[1], MS(40));
    ck_assert_int_lt(end[2], MS(40)); /* an extension that supports free threading */
}
END_TEST

/* ---- 3.12 against 3.13: who sees the drop request ---------------------------------- */

START_TEST(test_312_legacy_subinterpreter_waits_for_a_holder_that_never_sees_its_request)
{
    const char *text = "{\"machine\": {\"cores\": 2}, \"threads\": [{\"name\": \"main\", "
                       "\"program\": [{\"cpu\": \"50ms\"}]}, {\"name\": \"sub\", "
                       "\"interpreter\": 1, \"program\": [{\"cpu\": \"50ms\"}]}]}";
    int64_t longest[2];
    const char *v[2] = {"python.version=3.12", "python.version=3.13"};
    for (int k = 0; k < 2; k++) {
        gs_diag_t d;
        gs_model_t *m = load(text, v[k], &d);
        ck_assert_ptr_nonnull(m);
        gs_trace_t *t = tu_run(m, NULL);
        longest[k] = tu_longest_gil_wait(t, 1) > tu_longest_gil_wait(t, 0)
                         ? tu_longest_gil_wait(t, 1)
                         : tu_longest_gil_wait(t, 0);
        gs_trace_free(t);
        gs_model_free(m);
    }
    /* 3.12: the request goes to the waiter's own interpreter; the holder in
     * the other one runs on to its end */
    ck_assert_int_ge(longest[0], MS(45));
    /* 3.13: it reaches the holder's thread; they take turns every interval */
    ck_assert_int_le(longest[1], MS(12));
}
END_TEST

/* ---- interpreters with their own GIL (InterpreterPoolExecutor's workers) -------- */

/* Makespan of n workers of 20 ms of Python each on `cores` cores under 3.14,
 * each in an interpreter given by interp ("\"own\"" or "0"), opened by an
 * unpickle of `bytes` (0: none). */
static int64_t pool_makespan(int n, int cores, const char *interp, long long bytes)
{
    char text[1024], first[64] = "";
    if (bytes > 0)
        snprintf(first, sizeof first, "{\"unpickle\": %lld}, ", bytes);
    snprintf(text, sizeof text,
             "{\"machine\": {\"cores\": %d}, \"python\": {\"version\": \"3.14\"}, "
             "\"threads\": [{\"name\": \"w\", \"count\": %d, \"interpreter\": %s, "
             "\"program\": [%s{\"cpu\": \"20ms\"}]}]}",
             cores, n, interp, first);
    return tu_run_last_finish(load(text, NULL, NULL), n);
}

START_TEST(test_own_interpreters_scale_on_cpu_work_and_pay_their_creation)
{
    for (int n = 1; n <= 4; n++) {
        int64_t own = pool_makespan(n, n, "\"own\"", 0);
        int64_t shared = pool_makespan(n, n, "0", 0);
        /* n workers, n cores, n GILs: each worker's 20 ms run side by side,
         * after its interpreter's creation (1.1 ms, on its own core) */
        ck_assert_int_ge(own, MS(21.1));
        ck_assert_int_le(own, MS(21.1) + MS(0.2));
        /* one GIL: the same work takes n times as long */
        ck_assert_int_ge(shared, n * MS(20));
        ck_assert_msg(n == 1 || (double)shared / (double)own > 0.8 * n,
                      "%d workers: own GILs %lld ns, one GIL %lld ns", n, (long long)own,
                      (long long)shared);
    }
    /* more workers than cores: the creations take cores too */
    int64_t over = pool_makespan(8, 2, "\"own\"", 0);
    ck_assert_int_ge(over, 4 * (MS(20) + MS(1.1)));
}
END_TEST

START_TEST(test_data_passed_between_interpreters_costs_by_its_size)
{
    int64_t none = pool_makespan(4, 4, "\"own\"", 0);
    int64_t mb = pool_makespan(4, 4, "\"own\"", 1000000);
    int64_t mb10 = pool_makespan(4, 4, "\"own\"", 10000000);
    /* unpickling 1 MB at the default 5 us per KB: about 4.9 ms more */
    ck_assert_int_ge(mb - none, MS(4.8));
    ck_assert_int_le(mb - none, MS(5.0));
    /* ten times the data, ten times the cost */
    double r = (double)(mb10 - none) / (double)(mb - none);
    ck_assert_msg(r > 9.9 && r < 10.1, "10 MB costs %.2f times 1 MB", r);
    /* pickling (the sender's side) costs half as much a byte by default */
    gs_diag_t d;
    gs_model_t *m = load("{\"python\": {\"version\": \"3.14\"}, \"threads\": [{\"name\": \"s\", "
                         "\"program\": [{\"pickle\": 1024000}]}]}",
                         NULL, &d);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->threads[0].program[0].dur.a_ns, 1000 * m->processes[0].python.pickle_ns_per_kb);
    ck_assert_int_eq(m->threads[0].program[0].releases_gil, false); /* C holding the GIL */
    gs_model_free(m);
}
END_TEST

START_TEST(test_own_interpreter_needs_312_and_says_so)
{
    gs_diag_t d;
    const char *text = "{\"threads\": [{\"name\": \"w\", \"interpreter\": \"own\", "
                       "\"program\": [{\"cpu\": \"1ms\"}]}]}";
    ck_assert_ptr_null(load(text, "python.version=3.11", &d));
    ck_assert_str_eq(d.e[0].path, "threads[0].interpreter");
    ck_assert_ptr_nonnull(strstr(d.e[0].msg, "3.12"));
    gs_model_t *m = load(text, "python.version=3.12", &d);
    ck_assert_ptr_nonnull(m);
    ck_assert_int_eq(m->n_processes, 2); /* main, and w's own */
    ck_assert_int_eq(m->threads[0].process, 1);
    ck_assert_str_eq(m->processes[1].name, "w");
    gs_model_free(m);
    /* a process already named like the thread */
    ck_assert_ptr_null(load("{\"threads\": [{\"name\": \"main\", \"interpreter\": \"own\", "
                            "\"program\": []}]}",
                            NULL, &d));
    ck_assert_ptr_nonnull(strstr(d.e[0].msg, "already declared"));
}
END_TEST

static Suite *versions_suite(void)
{
    Suite *s = suite_create("versions");
    /* the presets; Python 2.7's GIL battle (test_py27_*) and where it places
     * new and woken threads; the free-threaded build (test_ft_*); one GIL per
     * interpreter */
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_preset_sets_the_gil_and_explicit_keys_win);
    tcase_add_test(core,
                   test_312_legacy_subinterpreter_waits_for_a_holder_that_never_sees_its_request);
    tcase_add_test(core, test_py27_two_threads_on_two_cores_are_slower_than_serial);
    tcase_add_test(core, test_py27_battle_costs_a_bare_call_per_release_while_the_waiter_is_awake);
    tcase_add_test(core, test_py27_battle_is_the_two_core_one_whatever_the_share);
    tcase_add_test(core, test_py27_one_core_alternates_at_almost_no_cost);
    tcase_add_test(core, test_py27_each_wakeup_of_the_waiter_costs_the_holder_an_interrupt);
    tcase_add_test(core, test_placement_a_new_thread_goes_to_the_idle_core_not_its_starters);
    tcase_add_test(core, test_placement_a_new_thread_shares_its_starters_core_when_no_core_is_idle);
    tcase_add_test(core, test_placement_a_woken_27_waiter_returns_to_its_own_idle_core);
    tcase_add_test(core, test_ft_independent_work_scales_with_threads);
    tcase_add_test(core, test_ft_contention_grows_with_sharers_and_spares_immortals);
    tcase_add_test(core, test_ft_a_saturated_line_serves_one_access_per_transfer);
    tcase_add_test(core, test_ft_writers_serialise_on_the_object_lock);
    tcase_add_test(core, test_ft_import_switches_the_gil_on_unless_python_gil_0);
    tcase_add_test(core, test_own_interpreters_scale_on_cpu_work_and_pay_their_creation);
    tcase_add_test(core, test_data_passed_between_interpreters_costs_by_its_size);
    suite_add_tcase(s, core);
    /* a version that does not exist or cannot do what is asked says so */
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 120);
    tcase_add_test(limits, test_unknown_versions_say_what_is_valid);
    tcase_add_test(limits, test_own_interpreter_needs_312_and_says_so);
    suite_add_tcase(s, limits);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 120);
    tcase_add_test(props,
                   test_placement_a_pair_started_on_one_core_shares_until_a_balance_parts_it);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(versions_suite());
}
