/* check_stats.c - metrics and exporters on traces with known contents.
 *
 * Traces are fabricated through trace_int.h (known intervals -> known
 * metrics), then the same properties are checked on real runs of models
 * built in C. Exports are parsed back (cJSON for the Chrome trace, a CSV
 * reader for the intervals) and compared with the trace and the metrics. */
#include <check.h>
#include <math.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "gilsim/gilsim.h"
#include "testutil.h"
#include "trace_int.h"

/* ---- a fabricated two-thread trace -------------------------------------
 * a: PY [0,10) core0, IO [10,20), WAIT_GIL [20,25), READY+GIL [25,30),
 *    PY [30,40) core0, done at 40
 * b: WAIT_GIL [0,10), PY [10,20) core1, C_NOGIL [20,22) core1, SLEEP
 *    [22,30), WAIT_GIL [30,40), C_GIL [40,50) core0, done at 50
 * GIL: a [0,10), b [10,20), a [25,40), b [40,50)
 * instants: drop request by b at 8, forced switch by a at 10 */
static gs_trace_t *two_threads(gs_outcome_t outcome, int64_t end)
{
    gs_model_t *m = gs_model_new();
    ck_assert_ptr_nonnull(m);
    m->machine.cores = 2;
    ck_assert_int_eq(gs_model_add_thread(m, "a", 0), 0);
    ck_assert_int_eq(gs_model_add_thread(m, "b", 0), 1);
    int op = gs_model_add_op_label(m, "threads[0].program[0] cpu");
    ck_assert_int_ge(op, 0);
    gs_trace_t *t = gs__trace_new(m);
    gs_model_free(m);
    ck_assert_ptr_nonnull(t);
    gs__trace_thread(t, 0, 0, GS_ST_PY, 0, (uint32_t)op, 0);
    gs__trace_thread(t, 0, 10, GS_ST_IO, -1, GS_NO_OP, 0);
    gs__trace_thread(t, 0, 20, GS_ST_WAIT_GIL, -1, GS_NO_OP, 0);
    gs__trace_thread(t, 0, 25, GS_ST_READY, -1, GS_NO_OP, GS_IV_HOLDS_GIL);
    gs__trace_thread(t, 0, 30, GS_ST_PY, 0, GS_NO_OP, 0);
    gs__trace_thread(t, 0, 40, GS_ST_DONE, -1, GS_NO_OP, 0);
    gs__trace_thread(t, 1, 0, GS_ST_WAIT_GIL, -1, GS_NO_OP, 0);
    gs__trace_thread(t, 1, 10, GS_ST_PY, 1, GS_NO_OP, 0);
    gs__trace_thread(t, 1, 20, GS_ST_C_NOGIL, 1, GS_NO_OP, 0);
    gs__trace_thread(t, 1, 22, GS_ST_SLEEP, -1, GS_NO_OP, 0);
    gs__trace_thread(t, 1, 30, GS_ST_WAIT_GIL, -1, GS_NO_OP, 0);
    gs__trace_thread(t, 1, 40, GS_ST_C_GIL, 0, GS_NO_OP, 0);
    if (outcome == GS_OUT_DONE)
        gs__trace_thread(t, 1, 50, GS_ST_DONE, -1, GS_NO_OP, 0);
    gs__trace_core(t, 0, 0, 0, GS_ST_PY, 0);
    gs__trace_core(t, 0, 10, -1, GS_ST_COUNT, 0);
    gs__trace_core(t, 0, 30, 0, GS_ST_PY, 0);
    gs__trace_core(t, 0, 40, 1, GS_ST_C_GIL, 0);
    gs__trace_core(t, 0, 50, -1, GS_ST_COUNT, 0);
    gs__trace_core(t, 1, 10, 1, GS_ST_PY, 0);
    gs__trace_core(t, 1, 20, 1, GS_ST_C_NOGIL, 0);
    gs__trace_core(t, 1, 22, -1, GS_ST_COUNT, 0);
    gs__trace_gil(t, 0, 0, 0);
    gs__trace_gil(t, 0, 10, 1);
    gs__trace_gil(t, 0, 20, -1);
    gs__trace_gil(t, 0, 25, 0);
    gs__trace_gil(t, 0, 40, 1);
    gs__trace_instant(t, 8, GS_IN_DROP_REQUEST, 1, 0, 0);
    gs__trace_instant(t, 10, GS_IN_FORCED_SWITCH, 0, 0, 0);
    gs__trace_finish(t, end, outcome, outcome == GS_OUT_DONE ? "" : "stopped here", 99);
    return t;
}

START_TEST(stats_match_the_fabricated_intervals)
{
    gs_trace_t *t = two_threads(GS_OUT_DONE, 50);
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    ck_assert_int_eq(s.n_threads, 2);
    const gs_thread_stats_t *a = &s.threads[0], *b = &s.threads[1];
    ck_assert_str_eq(a->name, "a");
    ck_assert_int_eq(a->cpu_ns, 20);
    ck_assert_int_eq(a->gil_held_ns, 25); /* PY 20 + READY holding 5 */
    ck_assert_int_eq(a->gil_wait_ns, 5);
    ck_assert_int_eq(a->core_wait_ns, 5);
    ck_assert_int_eq(a->io_ns, 10);
    ck_assert_int_eq(a->finished_ns, 40);
    ck_assert_int_eq(a->forced_switches, 1);
    ck_assert_int_eq(a->voluntary_switches, 1);
    ck_assert_int_eq(a->io_to_gil.n, 1);
    ck_assert_int_eq(a->io_to_gil.p50, 5); /* I/O ends 20, holds (READY) at 25 */
    ck_assert_int_eq(b->cpu_ns, 22);
    ck_assert_int_eq(b->c_nogil_ns, 2);
    ck_assert_int_eq(b->gil_held_ns, 20);
    ck_assert_int_eq(b->gil_wait_ns, 20);
    ck_assert_int_eq(b->sleep_ns, 8);
    ck_assert_int_eq(b->io_to_gil.max, 10); /* sleep ends 30, C_GIL at 40 */
    ck_assert_int_eq(b->voluntary_switches, 2);
    ck_assert_int_eq(b->forced_switches, 0);
    ck_assert_int_eq(b->finished_ns, 50);
    ck_assert_int_eq(s.makespan_ns, 50);
    ck_assert_int_eq(s.events, 99);
    ck_assert_int_eq(s.gil_switches, 3);
    ck_assert_int_eq(s.gil_forced_switches, 1);
    ck_assert_int_eq(s.gil_drop_requests, 1);
    ck_assert_double_eq_tol(s.gil_utilisation, 45.0 / 50, 1e-12);
    ck_assert_double_eq_tol(s.cores_utilisation, 42.0 / 100, 1e-12);
    ck_assert_double_eq_tol(s.speedup_vs_serial, 60.0 / 50, 1e-12);
    ck_assert_double_eq_tol(s.fairness_jain, 42.0 * 42 / (2 * (400.0 + 484)), 1e-12);
    ck_assert_int_eq(s.io_to_gil.n, 2);
    ck_assert_int_eq(s.outcome, GS_OUT_DONE);
    gs_stats_destroy(&s);
    gs_trace_free(t);
}
END_TEST

START_TEST(a_stopped_run_has_the_trace_end_as_makespan_and_no_release_at_the_cut)
{
    gs_trace_t *t = two_threads(GS_OUT_DEADLOCK, 60);
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    ck_assert_int_eq(s.outcome, GS_OUT_DEADLOCK);
    ck_assert_int_eq(s.makespan_ns, 60);
    ck_assert_int_eq(s.threads[0].finished_ns, 40);
    ck_assert_int_eq(s.threads[1].finished_ns, -1);
    /* b's last hold runs into the end of the trace: not a release. */
    ck_assert_int_eq(s.threads[1].voluntary_switches, 1);
    ck_assert_int_eq(s.threads[1].cpu_ns, 12 + 20); /* C_GIL runs to 60 */
    gs_stats_destroy(&s);
    gs_trace_free(t);
}
END_TEST

/* A thread with n I/O calls, the k-th followed by a GIL wait of gap[k]. */
static gs_trace_t *io_thread(const int64_t *gap, int n, gs_gil_kind_t gil)
{
    gs_model_t *m = gs_model_new();
    m->processes[0].python.gil = gil;
    gs_model_add_thread(m, "io", 0);
    gs_trace_t *t = gs__trace_new(m);
    gs_model_free(m);
    int64_t now = 0;
    gs_state_t run = gil == GS_GIL_NONE ? GS_ST_C_NOGIL : GS_ST_PY;
    for (int k = 0; k < n; k++) {
        gs__trace_thread(t, 0, now, GS_ST_IO, -1, GS_NO_OP, 0);
        now += 100;
        gs__trace_thread(t, 0, now, GS_ST_WAIT_GIL, -1, GS_NO_OP, 0);
        now += gap[k];
        gs__trace_thread(t, 0, now, run, 0, GS_NO_OP, 0);
        now += 10;
    }
    gs__trace_thread(t, 0, now, GS_ST_DONE, -1, GS_NO_OP, 0);
    gs__trace_finish(t, now, GS_OUT_DONE, "", 0);
    return t;
}

START_TEST(io_to_gil_percentiles_are_nearest_rank)
{
    int64_t gap[100];
    for (int k = 0; k < 100; k++)
        gap[k] = 1 + (k * 37) % 100; /* 1..100 in a scrambled order */
    gs_trace_t *t = io_thread(gap, 100, GS_GIL_CPYTHON3);
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    const gs_latency_t *l = &s.threads[0].io_to_gil;
    ck_assert_int_eq(l->n, 100);
    ck_assert_int_eq(l->p50, 50);
    ck_assert_int_eq(l->p90, 90);
    ck_assert_int_eq(l->p99, 99);
    ck_assert_int_eq(l->max, 100);
    gs_stats_destroy(&s);
    gs_trace_free(t);

    int64_t three[3] = {7, 3, 5};
    t = io_thread(three, 3, GS_GIL_CPYTHON3);
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    l = &s.threads[0].io_to_gil;
    ck_assert_int_eq(l->p50, 5); /* rank ceil(1.5) = 2 of {3,5,7} */
    ck_assert_int_eq(l->p90, 7);
    ck_assert_int_eq(l->max, 7);
    gs_stats_destroy(&s);
    gs_trace_free(t);
}
END_TEST

START_TEST(without_a_gil_io_to_gil_waits_for_a_core)
{
    int64_t gap[2] = {40, 60};
    gs_trace_t *t = io_thread(gap, 2, GS_GIL_NONE);
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    ck_assert_int_eq(s.threads[0].io_to_gil.n, 2);
    ck_assert_int_eq(s.threads[0].io_to_gil.max, 60);
    ck_assert_int_eq(s.n_gil_processes, 0);
    ck_assert_double_eq(s.gil_utilisation, 0);
    ck_assert_int_eq(s.threads[0].gil_held_ns, 0);
    gs_stats_destroy(&s);
    gs_trace_free(t);
}
END_TEST

START_TEST(an_empty_trace_gives_zero_metrics_not_a_crash)
{
    gs_model_t *m = gs_model_new();
    gs_trace_t *t = gs__trace_new(m);
    gs_model_free(m);
    gs__trace_finish(t, 0, GS_OUT_DONE, "", 0);
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    ck_assert_int_eq(s.n_threads, 0);
    ck_assert_int_eq(s.makespan_ns, 0);
    ck_assert_double_eq(s.speedup_vs_serial, 0);
    ck_assert_double_eq(s.fairness_jain, 1.0);
    char *json = gs_summary_json(t, &s);
    ck_assert_ptr_nonnull(json);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "threads")), 0);
    cJSON_Delete(root);
    free(json);
    FILE *f = tmpfile();
    ck_assert_int_eq(gs_export_svg(t, NULL, f), 0);
    ck_assert_int_eq(gs_export_chrome(t, f), 0);
    ck_assert_int_eq(gs_export_csv(t, f), 0);
    fclose(f);
    gs_stats_destroy(&s);
    gs_trace_free(t);
}
END_TEST

/* ---- summary JSON ------------------------------------------------------- */

static double num(const cJSON *o, const char *path)
{
    char buf[128];
    snprintf(buf, sizeof buf, "%s", path);
    const cJSON *cur = o;
    for (char *tok = strtok(buf, "."); tok && cur; tok = strtok(NULL, "."))
        cur = cJSON_GetObjectItemCaseSensitive(cur, tok);
    ck_assert_msg(cur && cJSON_IsNumber(cur), "summary lacks number %s", path);
    return cur->valuedouble;
}

START_TEST(summary_json_has_the_names_of_issue_4)
{
    gs_trace_t *t = two_threads(GS_OUT_DONE, 50);
    gs_stats_t s;
    gs_stats_compute(t, &s);
    char *json = gs_summary_json(t, &s);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    ck_assert_double_eq(num(root, "makespan_ns"), 50);
    ck_assert_double_eq(num(root, "events"), 99);
    ck_assert_double_eq(num(root, "gil.switches"), 3);
    ck_assert_double_eq(num(root, "gil.forced_switches"), 1);
    ck_assert_double_eq(num(root, "gil.drop_requests"), 1);
    ck_assert_double_eq_tol(num(root, "gil.utilisation"), 0.9, 1e-12);
    ck_assert_double_eq_tol(num(root, "cores.utilisation"), 0.42, 1e-12);
    ck_assert_double_eq_tol(num(root, "speedup_vs_serial"), 1.2, 1e-12);
    num(root, "fairness_jain");
    ck_assert_str_eq(cJSON_GetObjectItem(root, "outcome")->valuestring, "done");
    ck_assert(cJSON_IsString(cJSON_GetObjectItem(root, "message")));
    const cJSON *th = cJSON_GetObjectItem(root, "threads");
    ck_assert_int_eq(cJSON_GetArraySize(th), 2);
    const cJSON *a = cJSON_GetArrayItem(th, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(a, "name")->valuestring, "a");
    static const char *const fields[] = {"cpu_ns", "gil_held_ns", "gil_wait_ns", "core_wait_ns",
                                         "io_ns", "finished_ns", "voluntary_switches",
                                         "forced_switches", "io_to_gil_ns.p50",
                                         "io_to_gil_ns.p90", "io_to_gil_ns.p99",
                                         "io_to_gil_ns.max"};
    for (size_t k = 0; k < sizeof fields / sizeof fields[0]; k++)
        num(a, fields[k]);
    ck_assert_double_eq(num(a, "cpu_ns"), 20);
    ck_assert_double_eq(num(a, "io_to_gil_ns.p50"), 5);
    cJSON_Delete(root);
    free(json);
    gs_stats_destroy(&s);
    gs_trace_free(t);
}
END_TEST

/* ---- Chrome trace ------------------------------------------------------- */

__attribute__((noinline)) static char *export_to_string(int (*fn)(const gs_trace_t *, FILE *), const gs_trace_t *t)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    ck_assert_int_eq(fn(t, f), 0);
    fclose(f);
    return buf;
}

static size_t total_intervals(const gs_trace_t *t)
{
    size_t n = 0;
    for (int i = 0; i < gs_trace_n_lanes(t); i++)
        n += gs_trace_lane(t, i)->n;
    return n;
}

static void check_chrome(const gs_trace_t *t)
{
    char *txt = export_to_string(gs_export_chrome, t);
    cJSON *root = cJSON_Parse(txt);
    ck_assert_msg(root != NULL, "the Chrome trace is not JSON");
    const cJSON *evs = cJSON_GetObjectItem(root, "traceEvents");
    ck_assert(cJSON_IsArray(evs));
    size_t n_x = 0, n_i = 0, n_thread_names = 0, n_process_names = 0;
    const cJSON *ev;
    cJSON_ArrayForEach(ev, evs)
    {
        const cJSON *ph = cJSON_GetObjectItem(ev, "ph");
        ck_assert(cJSON_IsString(ph));
        ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(ev, "pid")));
        ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(ev, "tid")));
        ck_assert(cJSON_IsString(cJSON_GetObjectItem(ev, "name")));
        const char *p = ph->valuestring;
        if (strcmp(p, "X") == 0) {
            n_x++;
            ck_assert(cJSON_IsNumber(cJSON_GetObjectItem(ev, "ts")));
            ck_assert(cJSON_GetObjectItem(ev, "dur")->valuedouble >= 0);
            ck_assert(cJSON_IsString(cJSON_GetObjectItem(ev, "cname")));
            const cJSON *args = cJSON_GetObjectItem(ev, "args");
            ck_assert(cJSON_IsString(cJSON_GetObjectItem(args, "state")));
        } else if (strcmp(p, "i") == 0) {
            n_i++;
            ck_assert(cJSON_IsString(cJSON_GetObjectItem(ev, "s")));
        } else if (strcmp(p, "M") == 0) {
            const char *name = cJSON_GetObjectItem(ev, "name")->valuestring;
            n_thread_names += strcmp(name, "thread_name") == 0;
            n_process_names += strcmp(name, "process_name") == 0;
        }
    }
    ck_assert_uint_eq(n_x, total_intervals(t));
    ck_assert_uint_eq(n_i, gs_trace_n_instants(t));
    int n_gil = 0;
    for (int p = 0; p < gs_trace_n_processes(t); p++)
        n_gil += gs_trace_gil_lane(t, p) >= 0;
    ck_assert_uint_eq(n_thread_names,
                      (size_t)(gs_trace_n_threads(t) + gs_trace_n_cores(t) + n_gil));
    ck_assert_uint_eq(n_process_names, (size_t)gs_trace_n_processes(t) + 1);
    cJSON_Delete(root);
    free(txt);
}

START_TEST(chrome_trace_parses_back_with_an_event_per_interval)
{
    gs_trace_t *t = two_threads(GS_OUT_DONE, 50);
    check_chrome(t);
    char *txt = export_to_string(gs_export_chrome, t);
    /* 25 ns is 0.025 us: fractional microseconds, not rounded away. */
    ck_assert_ptr_nonnull(strstr(txt, "\"ts\":0.025"));
    ck_assert_ptr_nonnull(strstr(txt, "\"cname\":\"rail_idle\""));
    free(txt);
    gs_trace_free(t);
}
END_TEST

/* ---- CSV ---------------------------------------------------------------- */

START_TEST(csv_rows_sum_to_the_metrics)
{
    gs_trace_t *t = two_threads(GS_OUT_DONE, 50);
    gs_stats_t s;
    gs_stats_compute(t, &s);
    char *txt = export_to_string(gs_export_csv, t);
    char *save = NULL, *line = strtok_r(txt, "\n", &save);
    ck_assert_str_eq(line, "lane_kind,lane,process,thread,state,start_ns,end_ns,op");
    int64_t cpu[2] = {0, 0}, held = 0;
    size_t rows = 0;
    while ((line = strtok_r(NULL, "\n", &save)) != NULL) {
        /* No quoting in this trace: split at every comma. */
        char *f[8] = {0};
        int nf = 0;
        for (char *p = line; nf < 8; p++) {
            f[nf++] = p;
            p = strchr(p, ',');
            if (!p)
                break;
            *p = '\0';
        }
        ck_assert_int_eq(nf, 8);
        const char *kind = f[0], *thread = f[3], *state = f[4];
        long long a = atoll(f[5]), b = atoll(f[6]);
        rows++;
        int i = strcmp(thread, "a") == 0 ? 0 : 1;
        if (strcmp(kind, "thread") == 0 && (strcmp(state, "python") == 0 ||
                                            strcmp(state, "c_gil") == 0 ||
                                            strcmp(state, "c_nogil") == 0))
            cpu[i] += b - a;
        if (strcmp(kind, "gil") == 0)
            held += b - a;
    }
    ck_assert_uint_eq(rows, total_intervals(t));
    ck_assert_int_eq(cpu[0], s.threads[0].cpu_ns);
    ck_assert_int_eq(cpu[1], s.threads[1].cpu_ns);
    ck_assert_int_eq(held, s.gil_held_ns);
    free(txt);
    gs_stats_destroy(&s);
    gs_trace_free(t);
}
END_TEST

START_TEST(csv_quotes_names_with_commas_and_quotes)
{
    gs_model_t *m = gs_model_new();
    gs_model_add_thread(m, "say \"hi\", then go", 0);
    gs_trace_t *t = gs__trace_new(m);
    gs_model_free(m);
    gs__trace_thread(t, 0, 0, GS_ST_SLEEP, -1, GS_NO_OP, 0);
    gs__trace_finish(t, 5, GS_OUT_DONE, "", 0);
    char *txt = export_to_string(gs_export_csv, t);
    ck_assert_ptr_nonnull(strstr(txt, "thread,\"say \"\"hi\"\", then go\",main,\"say \"\"hi\"\", then go\",sleep,0,5,\n"));
    free(txt);
    gs_trace_free(t);
}
END_TEST

/* ---- SVG ---------------------------------------------------------------- */

static int count(const char *hay, const char *needle)
{
    int n = 0;
    for (const char *p = strstr(hay, needle); p; p = strstr(p + 1, needle))
        n++;
    return n;
}

static int svg_default(const gs_trace_t *t, FILE *f)
{
    return gs_export_svg(t, NULL, f);
}

START_TEST(svg_has_a_lane_per_thread_core_and_gil_and_escapes_text)
{
    gs_model_t *m = gs_model_new();
    m->machine.cores = 3;
    gs_model_add_thread(m, "<a&b>", 0);
    gs_model_add_thread(m, "second", 0);
    gs_trace_t *t = gs__trace_new(m);
    gs_model_free(m);
    gs__trace_thread(t, 0, 0, GS_ST_PY, 0, GS_NO_OP, 0);
    gs__trace_thread(t, 1, 0, GS_ST_WAIT_GIL, -1, GS_NO_OP, 0);
    gs__trace_finish(t, 1000, GS_OUT_DONE, "", 0);
    char *txt = export_to_string(svg_default, t);
    ck_assert_int_eq(count(txt, "class=\"lane thread\""), 2);
    ck_assert_int_eq(count(txt, "class=\"lane core\""), 3);
    ck_assert_int_eq(count(txt, "class=\"lane gil\""), 1);
    ck_assert_ptr_null(strstr(txt, "<a&b>"));
    ck_assert_ptr_nonnull(strstr(txt, "&lt;a&amp;b&gt;"));
    ck_assert_ptr_nonnull(strstr(txt, "fill=\"#0072B2\"")); /* Python blue */
    ck_assert_ptr_nonnull(strstr(txt, "fill=\"#E69F00\"")); /* waiting orange */
    free(txt);
    gs_trace_free(t);
}
END_TEST

START_TEST(svg_size_is_bounded_by_the_picture_not_the_trace)
{
    int64_t gap[1];
    gap[0] = 1;
    enum { N = 200000 };
    static int64_t gaps[N];
    for (int k = 0; k < N; k++)
        gaps[k] = 1 + k % 7;
    (void)gap;
    gs_trace_t *t = io_thread(gaps, N, GS_GIL_CPYTHON3);
    ck_assert_uint_ge(total_intervals(t), 3 * N - 10);
    char *txt = export_to_string(svg_default, t);
    ck_assert_uint_lt(strlen(txt), 400000); /* 600 000 intervals -> < 400 kB */
    free(txt);
    gs_trace_free(t);
}
END_TEST

/* ---- files -------------------------------------------------------------- */

static int write_then_fail(FILE *f, void *ctx)
{
    fputs("partial", f);
    (void)ctx;
    return GS_EIO;
}

static int write_ok(FILE *f, void *ctx)
{
    fputs((const char *)ctx, f);
    return 0;
}

static int files_in(const char *dir)
{
    char cmd[512];
    snprintf(cmd, sizeof cmd, "ls -A '%s' | wc -l", dir);
    FILE *p = popen(cmd, "r");
    int n = -1;
    ck_assert_int_eq(fscanf(p, "%d", &n), 1);
    pclose(p);
    return n;
}

START_TEST(a_failing_export_leaves_the_old_file_and_no_temporary)
{
    char dir[] = "/tmp/gilsim-export-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(dir));
    char path[600];
    snprintf(path, sizeof path, "%s/out.json", dir);
    ck_assert_int_eq(gs_export_file(path, write_ok, "first\n", NULL), 0);
    gs_error_t err;
    ck_assert_int_eq(gs_export_file(path, write_then_fail, NULL, &err), GS_EIO);
    ck_assert_ptr_nonnull(strstr(err.file, "out.json"));
    FILE *f = fopen(path, "r");
    char buf[32] = "";
    ck_assert_ptr_nonnull(fgets(buf, sizeof buf, f));
    fclose(f);
    ck_assert_str_eq(buf, "first\n");
    ck_assert_int_eq(files_in(dir), 1);
    char bad[700];
    snprintf(bad, sizeof bad, "%s/no/such/dir/x.json", dir);
    ck_assert_int_eq(gs_export_file(bad, write_ok, "x", &err), GS_EIO);
    ck_assert_ptr_nonnull(strstr(err.msg, "No such file"));
    unlink(path);
    rmdir(dir);
}
END_TEST

START_TEST(durations_print_with_readable_units)
{
    char b[32];
    ck_assert_str_eq(gs_format_ns(950, b, sizeof b), "950 ns");
    ck_assert_str_eq(gs_format_ns(12500, b, sizeof b), "12.5 us");
    ck_assert_str_eq(gs_format_ns(5000000, b, sizeof b), "5 ms");
    ck_assert_str_eq(gs_format_ns(3250000, b, sizeof b), "3.25 ms");
    ck_assert_str_eq(gs_format_ns(1500000000, b, sizeof b), "1.5 s");
    ck_assert_str_eq(gs_format_ns(0, b, sizeof b), "0 ns");
}
END_TEST

/* ---- real runs ---------------------------------------------------------- */

START_TEST(real_runs_satisfy_the_metric_identities)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    tu_thread(m, "cruncher", 1, tu_cpu(MS(100)));
    tu_thread(m, "server", 1, tu_repeat(10, 2, tu_io(US(100)), tu_cpu(US(50))));
    gs_trace_t *t = tu_run(m, NULL);
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    for (int i = 0; i < s.n_threads; i++) {
        const gs_thread_stats_t *ts = &s.threads[i];
        ck_assert_int_eq(ts->cpu_ns, tu_time_in(t, i, GS_ST_PY) + tu_time_in(t, i, GS_ST_C_GIL) +
                                         tu_time_in(t, i, GS_ST_C_NOGIL));
        ck_assert_int_eq(ts->io_ns, tu_time_in(t, i, GS_ST_IO));
        ck_assert_int_ge(ts->gil_held_ns, ts->py_ns + ts->c_gil_ns);
        ck_assert_int_le(ts->finished_ns, s.makespan_ns);
    }
    /* The server waits about a switch interval per I/O call (convoy). */
    ck_assert_int_eq(s.threads[1].io_to_gil.n, 10);
    ck_assert_int_gt(s.threads[1].io_to_gil.p50, MS(1));
    ck_assert_int_le(s.threads[1].io_to_gil.p50, MS(6));
    ck_assert(s.gil_utilisation > 0.9 && s.gil_utilisation <= 1.0);
    ck_assert(s.speedup_vs_serial < 1.1);
    ck_assert_int_eq(s.gil_forced_switches, tu_count(t, GS_IN_FORCED_SWITCH, -1));
    check_chrome(t);
    gs_stats_destroy(&s);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

START_TEST(no_gil_threads_speed_up_with_cores)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_NONE);
    tu_thread(m, "a", 1, tu_cpu(MS(10)));
    tu_thread(m, "b", 1, tu_cpu(MS(10)));
    gs_trace_t *t = tu_run(m, NULL);
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    ck_assert(s.speedup_vs_serial > 1.8);
    ck_assert(s.fairness_jain > 0.99);
    ck_assert(s.cores_utilisation > 0.9);
    gs_stats_destroy(&s);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* ---- one metric table --------------------------------------------------- */

/* The value at a dotted key ("gil.switches") of a summary object, or NULL. */
static const cJSON *at_key(const cJSON *o, const char *key)
{
    const char *dot = strchr(key, '.');
    if (!dot)
        return cJSON_GetObjectItemCaseSensitive(o, key);
    char head[64];
    snprintf(head, sizeof head, "%.*s", (int)(dot - key), key);
    return cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, head), dot + 1);
}

static void expect_same_value(const cJSON *v, const gs_metric_t *m, const void *rec)
{
    ck_assert_msg(v != NULL, "%s is missing from the summary", m->key);
    if (m->kind == GS_METRIC_OPT_NS && gs_metric_i64(m, rec) < 0) {
        ck_assert_msg(cJSON_IsNull(v), "%s: absent but not null", m->key);
        return;
    }
    /* cJSON prints 15 significant digits when they read back to within an
     * epsilon of the value (print_number), so the parsed number may be one
     * unit in the last place away */
    double want = gs_metric_f64(m, rec);
    ck_assert_msg(cJSON_IsNumber(v) && fabs(v->valuedouble - want) <= 1e-12 * fabs(want),
                  "%s: %.17g in the summary, %.17g in the table", m->key, v->valuedouble,
                  want);
}

/* The summary JSON, the sweep header and the table name the same metrics,
 * and the summary holds the values the table reads. */
START_TEST(summary_and_sweep_columns_come_from_the_metric_table)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    tu_thread(m, "a", 2, tu_cpu(MS(3)), tu_io(MS(1)));
    tu_thread(m, "b", 1, tu_cpu(MS(2)));
    gs_trace_t *t = tu_run(m, NULL);
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    char *json = gs_summary_json(t, &s);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    int n_run, n_thread;
    const gs_metric_t *run = gs_metrics_run(&n_run), *thr = gs_metrics_thread(&n_thread);
    for (int i = 0; i < n_run; i++)
        expect_same_value(at_key(root, run[i].key), &run[i], &s);
    const cJSON *threads = cJSON_GetObjectItemCaseSensitive(root, "threads");
    ck_assert_int_eq(cJSON_GetArraySize(threads), s.n_threads);
    for (int k = 0; k < s.n_threads; k++)
        for (int i = 0; i < n_thread; i++)
            expect_same_value(at_key(cJSON_GetArrayItem(threads, k), thr[i].key), &thr[i],
                              &s.threads[k]);

    char *hdr = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&hdr, &len);
    gs_metrics_csv_header(f);
    fclose(f);
    char want[4096] = ",outcome";
    for (int i = 0; i < n_run; i++) {
        strcat(want, ",");
        strcat(want, run[i].key);
    }
    ck_assert_str_eq(hdr, want);
    int p50 = 0;
    while (p50 < n_run && strcmp(run[p50].key, "io_to_gil_ns.p50") != 0)
        p50++;
    ck_assert_int_lt(p50, n_run);
    ck_assert_ptr_eq(gs_metric_find("io_to_gil_ns.p50"), &run[p50]);
    ck_assert_ptr_null(gs_metric_find("io_to_gil.p50"));
    free(hdr);
    cJSON_Delete(root);
    free(json);
    gs_stats_destroy(&s);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* "`a.b`", or "`a`" and "`b`" on one line of the page. */
static bool documented(const char *page, const char *key)
{
    char q[96];
    snprintf(q, sizeof q, "`%s`", key);
    if (strstr(page, q))
        return true;
    const char *dot = strchr(key, '.');
    if (!dot)
        return false;
    char head[64], leaf[64];
    snprintf(head, sizeof head, "`%.*s`", (int)(dot - key), key);
    snprintf(leaf, sizeof leaf, "`%s`", dot + 1);
    for (const char *l = page; l && *l; l = strchr(l, '\n') ? strchr(l, '\n') + 1 : NULL) {
        const char *end = strchr(l, '\n');
        size_t n = end ? (size_t)(end - l) : strlen(l);
        char line[2048];
        snprintf(line, sizeof line, "%.*s", (int)(n < sizeof line ? n : sizeof line - 1), l);
        if (strstr(line, head) && strstr(line, leaf))
            return true;
    }
    return false;
}

/* docs/metrics.md describes every key of both tables. */
START_TEST(every_metric_key_is_described_in_docs_metrics_md)
{
    const char *src = getenv("GILSIM_SOURCE_DIR");
    ck_assert_msg(src != NULL, "GILSIM_SOURCE_DIR is not set");
    char path[1024];
    snprintf(path, sizeof path, "%s/docs/metrics.md", src);
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    static char page[1 << 17];
    size_t n = fread(page, 1, sizeof page - 1, f);
    page[n] = '\0';
    fclose(f);
    int n_run, n_thread;
    const gs_metric_t *run = gs_metrics_run(&n_run), *thr = gs_metrics_thread(&n_thread);
    for (int i = 0; i < n_run; i++)
        ck_assert_msg(documented(page, run[i].key), "%s: %s is not described", path, run[i].key);
    for (int i = 0; i < n_thread; i++)
        ck_assert_msg(documented(page, thr[i].key), "%s: %s is not described", path, thr[i].key);
    ck_assert(!documented(page, "no_such_metric.p42"));
}
END_TEST

static Suite *stats_suite(void)
{
    Suite *s = suite_create("stats_export");
    TCase *core = tcase_create("core");
    tcase_add_test(core, stats_match_the_fabricated_intervals);
    tcase_add_test(core, a_stopped_run_has_the_trace_end_as_makespan_and_no_release_at_the_cut);
    tcase_add_test(core, io_to_gil_percentiles_are_nearest_rank);
    tcase_add_test(core, without_a_gil_io_to_gil_waits_for_a_core);
    tcase_add_test(core, summary_json_has_the_names_of_issue_4);
    tcase_add_test(core, chrome_trace_parses_back_with_an_event_per_interval);
    tcase_add_test(core, csv_rows_sum_to_the_metrics);
    tcase_add_test(core, csv_quotes_names_with_commas_and_quotes);
    tcase_add_test(core, svg_has_a_lane_per_thread_core_and_gil_and_escapes_text);
    tcase_add_test(core, a_failing_export_leaves_the_old_file_and_no_temporary);
    tcase_add_test(core, durations_print_with_readable_units);
    tcase_add_test(core, summary_and_sweep_columns_come_from_the_metric_table);
    tcase_add_test(core, every_metric_key_is_described_in_docs_metrics_md);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_add_test(limits, an_empty_trace_gives_zero_metrics_not_a_crash);
    tcase_add_test(limits, svg_size_is_bounded_by_the_picture_not_the_trace);
    tcase_set_timeout(limits, 60);
    suite_add_tcase(s, limits);
    TCase *props = tcase_create("props");
    tcase_add_test(props, real_runs_satisfy_the_metric_identities);
    tcase_add_test(props, no_gil_threads_speed_up_with_cores);
    tcase_set_timeout(props, 60);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(stats_suite());
}
