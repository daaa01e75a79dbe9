/* check_fit_load.c - the machine's other load in a fitted scenario
 * (sim/fit/load.c), on hand-written recordings.
 *
 * A thread whose Python ran twice as long as the kernel's CPU time of it,
 * alone on two cores, had other programs beside it: the fit carries them as
 * a process "other load" of busy threads, and the replay's makespan comes
 * closer to the recorded one than the fit without it. A recording whose
 * runs were no longer than the kernel's CPU time gets no such process,
 * unless the recorder measured other programs using the machine meanwhile:
 * then their measured CPU use sizes it. The
 * what-if that removes it (--set processes=[]) runs exactly as the fit
 * without a load (gilsim fit --no-load). */
#include "fitutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define REC_NS 200000000LL

/* A new temporary file for a recording: its name into path (64 bytes). */
static FILE *open_tmp(char *path)
{
    snprintf(path, 64, "/tmp/check_fit_load_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    return f;
}

/* What the recordings written below say other programs used meanwhile
 * (others_cpu_ns), or -1: not written, as before gilsim recorded it. */
static long long g_others = -1;
/* The host's online CPUs the recordings below write (0: not written);
 * more than their cores: recorded under CPU affinity (taskset). */
static int g_online = 0;

/* A worker holding the GIL from 10 us to 200 ms on `cores` cores, the
 * kernel counting os_cpu of CPU time and `delay` runnable without a core. */
static void write_rec_on(char *path, int cores, long long os_cpu, long long delay)
{
    FILE *f = open_tmp(path);
    if (g_others >= 0)
        fprintf(f, "{\"others_cpu_ns\": %lld,\n", g_others);
    char online[48] = "";
    if (g_online > 0)
        snprintf(online, sizeof online, ", \"cores_online\": %d", g_online);
    fprintf(f,
            "%s\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
            " \"command\": [\"python3\", \"w.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
            " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": %d%s}, \"duration_ns\": %lld,\n"
            " \"threads\": [\n"
            "  {\"name\": \"MainThread\", \"os_cpu_ns\": 1000, \"os_run_delay_ns\": 0,\n"
            "   \"events\": [[0, \"start\"], [0, \"ask\"], [0, \"hold\"], [1000, \"release\", "
            "\"exit\"], [1000, \"end\"]]},\n"
            "  {\"name\": \"worker\", \"os_cpu_ns\": %lld, \"os_run_delay_ns\": %lld,\n"
            "   \"events\": [[2000, \"start\"], [2000, \"ask\"], [10000, \"hold\"], [%lld, "
            "\"release\", \"exit\"], [%lld, \"end\"]]}\n]}\n",
            g_others >= 0 ? "" : "{", cores, online, REC_NS, os_cpu, delay, REC_NS, REC_NS);
    fclose(f);
}

/* The main thread holding the GIL 20 ms, the kernel counting main_cpu of
 * it, then the worker 180 ms, counted worker_cpu, on two cores. */
static void write_rec_two(char *path, long long main_cpu, long long worker_cpu)
{
    long long m = 20000000;
    FILE *f = open_tmp(path);
    fprintf(f,
            "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
            " \"command\": [\"python3\", \"w.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
            " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": %lld,\n"
            " \"threads\": [\n"
            "  {\"name\": \"MainThread\", \"os_cpu_ns\": %lld, \"os_run_delay_ns\": %lld,\n"
            "   \"events\": [[0, \"start\"], [0, \"ask\"], [0, \"hold\"], [%lld, \"release\", "
            "\"exit\"], [%lld, \"end\"]]},\n"
            "  {\"name\": \"worker\", \"os_cpu_ns\": %lld, \"os_run_delay_ns\": %lld,\n"
            "   \"events\": [[%lld, \"start\"], [%lld, \"ask\"], [%lld, \"hold\"], [%lld, "
            "\"release\", \"exit\"], [%lld, \"end\"]]}\n]}\n",
            REC_NS, main_cpu, m - main_cpu, m, m, worker_cpu, REC_NS - m - worker_cpu, m + 1000,
            m + 1000, m + 1000, REC_NS, REC_NS);
    fclose(f);
}

static void write_rec(char *path, long long os_cpu, long long delay)
{
    write_rec_on(path, 2, os_cpu, delay);
}

static char *fit_text(const char *path, bool no_load)
{
    gs_fit_opts_t o = {.no_load = no_load};
    return fu_fit(path, o);
}

/* Loads the text with at most one override ("" none) and runs it. */
static gs_trace_t *run_text(const char *json, const char *set)
{
    gs_override_t ov;
    char buf[64];
    snprintf(buf, sizeof buf, "%s", set);
    int n_ov = *set ? 1 : 0;
    if (n_ov)
        ck_assert_int_eq(gs_override_parse(buf, &ov), 0);
    gs_model_t *m = NULL;
    gs_diag_t d;
    memset(&d, 0, sizeof d);
    int rc = gs_scenario_load_string("fitted", json, strlen(json), &ov, n_ov, &m, &d);
    ck_assert_msg(rc == 0, "the fitted scenario loads: %s %s", d.n ? d.e[0].path : "",
                  d.n ? d.e[0].msg : "");
    int rrc = -1;
    gs_trace_t *t = tu_run(m, &rrc);
    ck_assert_int_eq(rrc, 0);
    gs_model_free(m);
    return t;
}

static int64_t makespan(const char *json, const char *set)
{
    gs_trace_t *t = run_text(json, set);
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    ck_assert_int_eq(s.outcome, GS_OUT_DONE);
    int64_t mk = s.makespan_ns;
    if (strstr(json, "\"processes\"") && !*set) /* the load's daemons end with the program */
        ck_assert_msg(strstr(gs_trace_message(t), "daemon threads keep no run going"), "%s",
                      gs_trace_message(t));
    gs_stats_destroy(&s);
    gs_trace_free(t);
    return mk;
}

static int64_t dist(int64_t a, int64_t b)
{
    return a > b ? a - b : b - a;
}

START_TEST(test_fit_load_brings_the_replay_closer_to_the_real_run)
{
    char path[64];
    write_rec(path, REC_NS / 2, REC_NS / 2);
    char *with = fit_text(path, false), *without = fit_text(path, true);
    cJSON *root = cJSON_Parse(with);
    ck_assert_ptr_nonnull(root);
    const cJSON *procs = cJSON_GetObjectItem(root, "processes");
    ck_assert_msg(cJSON_GetArraySize(procs) == 1, "one process for the load");
    const cJSON *p = cJSON_GetArrayItem(procs, 0);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(p, "name")), "other load");
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(p, "threads")) ck_assert_msg(
        cJSON_IsTrue(cJSON_GetObjectItem(t, "daemon")), "a load thread keeps no run going");
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_ptr_nonnull(strstr(desc, "Other load: "));
    ck_assert_ptr_nonnull(strstr(desc, "busy threads beside the program's"));
    ck_assert_ptr_nonnull(strstr(desc, "--set processes=[]"));
    cJSON_Delete(root);
    root = cJSON_Parse(without);
    ck_assert_ptr_null(cJSON_GetObjectItem(root, "processes"));
    cJSON_Delete(root);

    int64_t mk_with = makespan(with, ""), mk_without = makespan(without, "");
    ck_assert_msg(dist(mk_with, REC_NS) < dist(mk_without, REC_NS),
                  "with the load %lld ns, without %lld, recorded %lld", (long long)mk_with,
                  (long long)mk_without, REC_NS);
    ck_assert_msg(dist(mk_with, REC_NS) < REC_NS / 10, "within 10%%: %lld", (long long)mk_with);
    /* more cores than load: the what-if that gives it room is faster */
    ck_assert_int_lt(makespan(with, "machine.cores=8"), mk_with * 3 / 4);
    free(with);
    free(without);
    unlink(path);
}
END_TEST

/* The fit of the recording at `path` has no load process and says so. */
static void assert_no_load(const char *path)
{
    char *json = fit_text(path, false);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_null(cJSON_GetObjectItem(root, "processes"));
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_ptr_nonnull(strstr(desc, "Other load: none fitted"));
    cJSON_Delete(root);
    free(json);
}

START_TEST(test_fit_no_stretch_no_load)
{
    char path[64];
    write_rec(path, REC_NS - 10000, 10000); /* on a core all the time it held the GIL */
    assert_no_load(path);
    unlink(path);
}
END_TEST

/* Quiet recordings' runs last 1 to 2% longer than the kernel's CPU time of
 * them (the clocks, the recorder): that is no other program. */
START_TEST(test_fit_small_stretch_is_measurement_not_load)
{
    char path[64];
    write_rec(path, REC_NS * 97 / 100, REC_NS * 3 / 100);
    assert_no_load(path);
    unlink(path);
}
END_TEST

/* The load is other programs: where the recorder measured what they used
 * (/proc/stat), a stretch they did not cause is the program's own and fits
 * no load, and a load is at most what they used. */
START_TEST(test_fit_load_at_most_what_other_programs_used)
{
    char path[64];
    long long hold = REC_NS - 10000, delay = hold * 40 / 100;
    g_others = 0;
    write_rec(path, hold - delay, delay);
    assert_no_load(path);
    unlink(path);
    g_others = REC_NS / 4; /* a quarter of a CPU */
    write_rec(path, hold - delay, delay);
    char *json = fit_text(path, false);
    cJSON *root = cJSON_Parse(json);
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_msg(strstr(desc, "is 0.25 busy threads"), "%s", desc);
    ck_assert_ptr_nonnull(strstr(desc, "Other programs used 0.25 CPUs' worth"));
    cJSON_Delete(root);
    free(json);
    unlink(path);
    g_others = -1;
}
END_TEST

/* A program that blocks often shows the machine's other programs in its
 * waits, not in its runs (producer_consumer, replay_notes.md point 18):
 * runs no longer than the kernel's CPU time of them, while the recorder
 * measured other programs using three quarters of a CPU, fit a load of
 * what they used, and the description says that rule sized it; the same
 * runs with other programs measured idle (or below the least load) fit
 * none. */
START_TEST(test_fit_unstretched_runs_load_from_other_programs_use)
{
    char path[64];
    long long hold = REC_NS - 10000;
    g_others = REC_NS * 3 / 4;
    write_rec(path, hold - 10000, 10000);
    char *json = fit_text(path, false);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    const cJSON *procs = cJSON_GetObjectItem(root, "processes");
    ck_assert_msg(cJSON_GetArraySize(procs) == 1, "one process for the load: %s", json);
    ck_assert_str_eq(
        cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetArrayItem(procs, 0), "name")),
        "other load");
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_msg(strstr(desc, "sized from the other programs' measured CPU use"), "%s", desc);
    ck_assert_msg(strstr(desc, "is 0.75 busy threads"), "%s", desc);
    ck_assert_ptr_null(strstr(desc, "none fitted"));
    cJSON_Delete(root);
    free(json);
    unlink(path);
    g_others = 0;
    write_rec(path, hold - 10000, 10000);
    assert_no_load(path);
    unlink(path);
    g_others = REC_NS / 50; /* 0.02 CPUs: less than the least load */
    write_rec(path, hold - 10000, 10000);
    assert_no_load(path);
    unlink(path);
    g_others = -1;
}
END_TEST

/* A run cannot have lasted longer for want of a core than the kernel kept
 * it waiting for one: a long stretch with no run delay is no load. */
START_TEST(test_fit_stretch_counts_at_most_the_run_delay)
{
    char path[64];
    write_rec(path, REC_NS / 2, 0);
    assert_no_load(path);
    unlink(path);
}
END_TEST

START_TEST(test_fit_load_removed_runs_as_the_fit_without_it)
{
    char path[64];
    write_rec(path, REC_NS / 3, REC_NS - REC_NS / 3);
    char *with = fit_text(path, false), *without = fit_text(path, true);
    gs_trace_t *a = run_text(with, "processes=[]"), *b = run_text(without, "");
    size_t la = 0, lb = 0;
    char *da = tu_dump(a, &la), *db = tu_dump(b, &lb);
    ck_assert_msg(la == lb && memcmp(da, db, la) == 0,
                  "the same run, event for event:\n%.600s\n---\n%.600s", da, db);
    free(da);
    free(db);
    gs_trace_free(a);
    gs_trace_free(b);
    free(with);
    free(without);
    unlink(path);
}
END_TEST

/* The worker's stretch in a run: holding the GIL without a core. */
static int64_t replay_stretch(const char *json)
{
    gs_trace_t *t = run_text(json, "");
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    const gs_thread_stats_t *w = &s.threads[1];
    ck_assert_str_eq(w->name, "worker");
    int64_t st = w->gil_held_ns - w->py_ns - w->c_gil_ns;
    gs_stats_destroy(&s);
    gs_trace_free(t);
    return st;
}

/* The load is sized so that the replay (the engine's run, what the user
 * sees) stretches the worker's run as much as the machine did, whatever
 * the share of the run the machine took and however many cores: a load of
 * whole busy threads and a part-time one does not share the cores as a
 * constant fractional load would (fair sharing's sum), and the engine
 * places them where they run. */
START_TEST(test_fit_load_replay_stretches_as_recorded)
{
    static const struct { int cores, pct; } c[] = {{2, 15}, {2, 30}, {2, 50}, {2, 70}, {4, 20},
                                                   {4, 45}, {1, 25}, {1, 60}};
    for (size_t k = 0; k < sizeof c / sizeof *c; k++) {
        char path[64];
        long long hold = REC_NS - 10000, delay = hold * c[k].pct / 100;
        write_rec_on(path, c[k].cores, hold - delay, delay);
        char *json = fit_text(path, false);
        int64_t st = replay_stretch(json);
        /* the part of the stretch beyond the measurement's 5% of the
         * worker's runs is the load's */
        long long beyond = delay - hold / 20;
        ck_assert_msg(dist(st, beyond) <= beyond / 10,
                      "%d cores, %d%% of the run without a core: the replay stretches the "
                      "worker %lld ns, the machine did %lld beyond the measurement's share",
                      c[k].cores, c[k].pct, (long long)st, beyond);
        free(json);
        unlink(path);
    }
}
END_TEST

/* One load for all the threads cannot stretch each as the machine did when
 * the machine took half of a short start-up's core and a tenth of the long
 * worker's (other programs come and go): the threads that ran the longest
 * decide, as the replay's figures are mostly theirs. Matching the sum
 * instead put the start-up's excess on the worker. */
START_TEST(test_fit_load_matches_the_threads_that_ran_most)
{
    char path[64];
    long long main_cpu = 10000000, worker = REC_NS - 20000000 - 1000, wcpu = worker * 9 / 10;
    write_rec_two(path, main_cpu, wcpu);
    char *json = fit_text(path, false);
    int64_t st = replay_stretch(json);
    /* the worker's stretch beyond the measurement's 5% of its runs */
    long long beyond = worker - wcpu - worker / 20;
    ck_assert_msg(dist(st, beyond) <= beyond / 10,
                  "the replay stretches the worker %lld ns, the machine did %lld beyond the "
                  "measurement's share",
                  (long long)st, beyond);
    free(json);
    unlink(path);
}
END_TEST

/* ns the worker (thread 1) ran on core c of a run of json with set. */
static int64_t worker_on(const char *json, const char *set, int c)
{
    gs_trace_t *t = run_text(json, set);
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, c));
    int64_t on = 0;
    for (size_t i = 0; i < l->n; i++)
        if (l->iv[i].who == 1)
            on += l->iv[i].end_ns - l->iv[i].start_ns;
    gs_trace_free(t);
    return on;
}

/* A recording made under `taskset -c 0` on a two-CPU host (host.cores 1,
 * cores_online 2): the fit's machine has both CPUs, the program is confined
 * to CPU 0 (top-level "cpus") and the other load is free ("cpus": "all"),
 * as on the real machine; its replay still stretches the worker as
 * recorded, and the worker never runs on CPU 1. Before, the machine had
 * one core and the load was squeezed onto it with the program. */
START_TEST(test_fit_recorded_under_one_cpu_affinity_keeps_the_machines_cpus)
{
    char path[64];
    g_online = 2;
    long long hold = REC_NS - 10000, delay = hold * 40 / 100;
    write_rec_on(path, 1, hold - delay, delay);
    g_online = 0;
    char *json = fit_text(path, false);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "machine"), "cores")->valueint,
                     2);
    const cJSON *cpus = cJSON_GetObjectItem(root, "cpus");
    ck_assert_msg(cJSON_IsNumber(cpus) && cpus->valueint == 0, "top-level cpus: %s", json);
    const cJSON *load = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "processes"), 0);
    ck_assert_ptr_nonnull(load);
    ck_assert_str_eq(cJSON_GetObjectItem(load, "cpus")->valuestring, "all");
    cJSON_Delete(root);
    int64_t st = replay_stretch(json);
    long long beyond = delay - hold / 20;
    ck_assert_msg(dist(st, beyond) <= beyond / 10,
                  "under one-CPU affinity the replay stretches the worker %lld ns, the machine "
                  "did %lld beyond the measurement's share",
                  (long long)st, beyond);
    ck_assert_int_eq(worker_on(json, "", 1), 0);
    ck_assert_int_gt(worker_on(json, "", 0), REC_NS / 2);
    /* the what-if that frees it runs it on both */
    ck_assert_int_gt(worker_on(json, "cpus=all", 1), 0);
    free(json);
    unlink(path);
}
END_TEST

/* The taskset what-if of a two-core recording with other load: --set cpus=0
 * confines the program and leaves the load both cores, so the program ends
 * sooner than under --set machine.cores=1, which squeezes the load onto its
 * one core as well. */
START_TEST(test_fit_taskset_whatif_leaves_the_load_its_cores)
{
    char path[64];
    long long hold = REC_NS - 10000, delay = hold * 50 / 100;
    write_rec_on(path, 2, hold - delay, delay);
    char *json = fit_text(path, false);
    ck_assert_ptr_nonnull(strstr(json, "\"processes\"")); /* it has a load */
    int64_t pinned = makespan(json, "cpus=0"), squeezed = makespan(json, "machine.cores=1");
    ck_assert_msg(pinned * 10 < squeezed * 9, "cpus=0: %lld ns, machine.cores=1: %lld ns",
                  (long long)pinned, (long long)squeezed);
    ck_assert_int_eq(worker_on(json, "cpus=0", 1), 0);
    free(json);
    unlink(path);
}
END_TEST

static Suite *fit_load_suite(void)
{
    Suite *s = suite_create("fit_load");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_fit_load_brings_the_replay_closer_to_the_real_run);
    tcase_add_test(core, test_fit_unstretched_runs_load_from_other_programs_use);
    tcase_add_test(core, test_fit_load_removed_runs_as_the_fit_without_it);
    tcase_add_test(core, test_fit_load_replay_stretches_as_recorded);
    tcase_add_test(core, test_fit_load_matches_the_threads_that_ran_most);
    tcase_add_test(core, test_fit_recorded_under_one_cpu_affinity_keeps_the_machines_cpus);
    tcase_add_test(core, test_fit_taskset_whatif_leaves_the_load_its_cores);
    suite_add_tcase(s, core);
    /* the load's bounds: none without a stretch, a small stretch is noise, at
     * most the run delay and what other programs used */
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, test_fit_no_stretch_no_load);
    tcase_add_test(limits, test_fit_small_stretch_is_measurement_not_load);
    tcase_add_test(limits, test_fit_stretch_counts_at_most_the_run_delay);
    tcase_add_test(limits, test_fit_load_at_most_what_other_programs_used);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return tu_main(fit_load_suite());
}
