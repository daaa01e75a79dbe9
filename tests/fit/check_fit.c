/* check_fit.c - gs_fit_recording on hand-written recordings (tests/data/fit)
 * and on random ones generated here.
 *
 * core:   threads, names, starts and joins matched across threads, sleeps
 *         without the GIL wait after them, forced switches that do not cut
 *         the Python work, one queue sized from what it held, a fitted
 *         scenario that loads and runs to its end.
 *         The recording's wake-up curve becomes machine.wakeup_idle.
 * limits: truncated, partial, newer, not a recording, missing, a malformed
 *         wake-up curve: an error that says which.
 * props:  over random recordings, the Python work of the scenario is the
 *         held time minus the C call spans, recorded or inferred from a drop
 *         request left unanswered for 1 ms, to the nanosecond (--exact);
 *         the repeat blocks keep every op count and every sum (to a ns per
 *         op of rounding); a program that never wants more cores than there
 *         are keeps its measured CPU ops whatever the kernel says (other
 *         programs took that time); a real hash pool on two cores loses
 *         its own core waits, never below the kernel's CPU time. */
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char data_dir[1024];

static const char *data(const char *name)
{
    static char path[1200];
    const char *src = getenv("GILSIM_SOURCE_DIR");
    snprintf(data_dir, sizeof data_dir, "%s/tests/data/fit", src ? src : ".");
    snprintf(path, sizeof path, "%s/%s", data_dir, name);
    return path;
}

/* Fits path with o; asserts success; returns the parsed scenario. */
static cJSON *fit_opts(const char *path, const gs_fit_opts_t *o)
{
    char *json = NULL;
    size_t len = 0;
    gs_error_t err;
    int rc = gs_fit_recording(path, o, &json, &len, &err);
    ck_assert_msg(rc == 0, "fit %s: %s: %s", path, err.path, err.msg);
    ck_assert_uint_eq(strlen(json), len);
    gs_model_t *m = NULL;
    gs_diag_t d;
    memset(&d, 0, sizeof d);
    rc = gs_scenario_load_string("fitted", json, len, NULL, 0, &m, &d);
    ck_assert_msg(rc == 0, "the fitted scenario loads: %s %s", d.n ? d.e[0].path : "",
                  d.n ? d.e[0].msg : "");
    gs_model_free(m);
    cJSON *root = cJSON_Parse(json);
    free(json);
    ck_assert_ptr_nonnull(root);
    return root;
}

/* Fits path; asserts success; returns the parsed scenario. */
static cJSON *fit(const char *path, bool exact, bool raw_cpu)
{
    gs_fit_opts_t o = {.exact = exact, .raw_cpu = raw_cpu};
    return fit_opts(path, &o);
}

static const cJSON *thread(const cJSON *root, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(root, "threads")) {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "name")), name) == 0)
            return t;
    }
    ck_abort_msg("no thread %s", name);
    return NULL;
}

static int64_t ns_of(const char *s)
{
    int64_t v = -1;
    ck_assert_msg(gs_parse_ns(s, &v, NULL, 0) == 0, "a duration: %s", s);
    return v;
}

/* The mean of a duration: fixed, or uniform [lo, hi]. */
static int64_t mean_of(const cJSON *d)
{
    if (cJSON_IsString(d))
        return ns_of(d->valuestring);
    const cJSON *u = cJSON_GetObjectItem(d, "uniform");
    ck_assert_msg(u != NULL, "a fixed or uniform duration");
    int64_t lo = ns_of(cJSON_GetArrayItem(u, 0)->valuestring);
    int64_t hi = ns_of(cJSON_GetArrayItem(u, 1)->valuestring);
    ck_assert_int_le(lo, hi);
    ck_assert_int_eq((lo + hi) % 2, 0); /* symmetric about a whole mean */
    return (lo + hi) / 2;
}

enum { K_CPU, K_SLEEP, K_IO, K_CREL, K_CKEEP, K_PUT, K_GET, K_START, K_JOIN, K_N };
static const char *const verbs[] = {"cpu", "sleep", "io", "c_call", "c_call", "put", "get",
                                    "start", "join"};

typedef struct tally {
    int64_t n[K_N], sum[K_N];
} tally_t;

/* Counts and sums the ops of a program, repeat blocks expanded. */
static void tally(const cJSON *prog, int64_t times, tally_t *t)
{
    const cJSON *op;
    cJSON_ArrayForEach(op, prog) {
        const cJSON *rep = cJSON_GetObjectItem(op, "repeat");
        if (rep) {
            tally(cJSON_GetObjectItem(op, "do"), times * (int64_t)rep->valuedouble, t);
            continue;
        }
        const char *verb = op->child->string;
        int k = -1;
        for (int i = 0; i < K_N && k < 0; i++)
            if (strcmp(verbs[i], verb) == 0)
                k = i;
        ck_assert_msg(k >= 0, "a known verb: %s", verb);
        if (k == K_CREL && cJSON_IsFalse(cJSON_GetObjectItem(op, "releases_gil")))
            k = K_CKEEP;
        t->n[k] += times;
        if (k <= K_CKEEP)
            t->sum[k] += times * mean_of(op->child);
    }
}

static tally_t tally_thread(const cJSON *root, const char *name)
{
    tally_t t;
    memset(&t, 0, sizeof t);
    tally(cJSON_GetObjectItem(thread(root, name), "program"), 1, &t);
    return t;
}

/* The verbs (and targets) of a program, in order, as "start:io join:cpu". */
static void sync_ops(const cJSON *prog, char *out, size_t n)
{
    const cJSON *op;
    cJSON_ArrayForEach(op, prog) {
        const char *v = op->child->string;
        const cJSON *po = cJSON_GetObjectItem(op, "posts"); /* a send's own wake-up */
        size_t l = strlen(out);
        if (po)
            snprintf(out + l, n - l, "%spost:%s", l ? " " : "", po->valuestring);
        if (strcmp(v, "start") && strcmp(v, "join") && strcmp(v, "put") && strcmp(v, "get"))
            continue;
        l = strlen(out);
        snprintf(out + l, n - l, "%s%s:%s", l ? " " : "", v, op->child->valuestring);
    }
}

/* ---- core ----------------------------------------------------------------- */

START_TEST(test_fit_starts_and_joins_matched_across_threads)
{
    cJSON *root = fit(data("convoy.rec.json"), false, false);
    char ops[256] = "";
    sync_ops(cJSON_GetObjectItem(thread(root, "MainThread"), "program"), ops, sizeof ops);
    ck_assert_str_eq(ops, "start:io start:cpu join:io join:cpu");
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(thread(root, "io"), "autostart")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(thread(root, "cpu"), "autostart")));
    ck_assert_ptr_null(cJSON_GetObjectItem(thread(root, "MainThread"), "autostart"));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "python"),
                                                              "version")), "3.11");
    const cJSON *mach = cJSON_GetObjectItem(root, "machine");
    ck_assert_int_eq(cJSON_GetObjectItem(mach, "cores")->valueint, 2);
    /* the host's costs, from the recording's calibration */
    ck_assert_str_eq(cJSON_GetObjectItem(mach, "wakeup_latency")->valuestring, "1us");
    ck_assert_str_eq(cJSON_GetObjectItem(mach, "context_switch")->valuestring, "500ns");
    /* the 1 ms sleep's 3 us: slack (Linux's 50 us, less where the sleep ended
     * sooner) and half the 1 us jitter, nothing left for timer_late */
    ck_assert_str_eq(cJSON_GetObjectItem(mach, "timer_slack")->valuestring, "2.5us");
    ck_assert_str_eq(cJSON_GetObjectItem(mach, "timer_jitter")->valuestring, "1us");
    ck_assert_ptr_null(cJSON_GetObjectItem(mach, "timer_late"));
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(mach, "timer_wake")), "local");
    ck_assert_ptr_nonnull(strstr(cJSON_GetStringValue(cJSON_GetObjectItem(root, "description")),
                                 "convoy.rec.json"));
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_fit_sleep_is_release_to_ask_without_the_gil_wait)
{
    /* each sleep: released 100 ns into the call, asked 10 us later, held
     * 900 ns after that: the 900 ns are the model's. Of the 10 us, the model
     * adds itself the timer's lateness, the whole 3 us a 1 ms sleep ended
     * late (slack 2.5 us and half the 1 us jitter; timer_wake "local": the
     * sleeper wakes on its own idle core without a wake-up): the op is
     * 10 - 2.5 - 0.5 = 7 us */
    cJSON *root = fit(data("convoy.rec.json"), true, false);
    const cJSON *op;
    int n = 0;
    cJSON_ArrayForEach(op, cJSON_GetObjectItem(thread(root, "io"), "program")) {
        const cJSON *s = cJSON_GetObjectItem(op, "sleep");
        if (s) {
            ck_assert_str_eq(s->valuestring, "7us");
            n++;
        }
    }
    ck_assert_int_eq(n, 5);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_fit_forced_switches_do_not_cut_python_work)
{
    cJSON *root = fit(data("convoy.rec.json"), true, false);
    const cJSON *prog = cJSON_GetObjectItem(thread(root, "cpu"), "program");
    ck_assert_int_eq(cJSON_GetArraySize(prog), 1);
    /* held 5600..55600, then 54000 ns more per turn, to 250000 */
    int64_t held = 0, t = 5600;
    while (t + 50000 < 250000) {
        held += 50000;
        t += 54000;
    }
    held += 250000 - t;
    ck_assert_int_eq(ns_of(cJSON_GetObjectItem(cJSON_GetArrayItem(prog, 0), "cpu")->valuestring),
                     held);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_fit_queue_ops_on_one_queue_sized_from_its_fill)
{
    cJSON *root = fit(data("queue.rec.json"), false, false);
    const cJSON *q = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "queues"), "queue");
    ck_assert_ptr_nonnull(q);
    /* a put blocked while 2 items were in: maxsize 2 */
    ck_assert_int_eq(cJSON_GetObjectItem(q, "maxsize")->valueint, 2);
    tally_t p = tally_thread(root, "producer"), c = tally_thread(root, "consumer");
    ck_assert_int_eq(p.n[K_PUT], 4);
    ck_assert_int_eq(c.n[K_GET], 4);
    /* neither start was seen: both start at their recorded time */
    ck_assert_str_eq(cJSON_GetObjectItem(thread(root, "producer"), "start_at")->valuestring,
                     "500ns");
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_ptr_nonnull(strstr(desc, "not started by threading"));
    ck_assert_ptr_nonnull(strstr(desc, "no Thread.start seen"));
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_fit_queues_told_apart_by_who_woke_whom)
{
    /* pipeline.rec.json: a real recording of pipeline.py (beside it): source
     * -> q1 (maxsize 2) -> stage -> q2 (unbounded) -> sink, 41 items */
    cJSON *root = fit(data("pipeline.rec.json"), true, false);
    const cJSON *qs = cJSON_GetObjectItem(root, "queues");
    ck_assert_int_eq(cJSON_GetArraySize(qs), 2);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(qs, "queue-1"), "maxsize")->valueint,
                     2);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(qs, "queue-2"), "maxsize")->valueint,
                     0);
    char ops[4096] = "";
    sync_ops(cJSON_GetObjectItem(thread(root, "source"), "program"), ops, sizeof ops);
    ck_assert_ptr_null(strstr(ops, "queue-2"));
    ck_assert_ptr_nonnull(strstr(ops, "put:queue-1"));
    ops[0] = 0;
    sync_ops(cJSON_GetObjectItem(thread(root, "stage"), "program"), ops, sizeof ops);
    ck_assert_ptr_null(strstr(ops, "put:queue-1"));
    ck_assert_ptr_null(strstr(ops, "get:queue-2"));
    ck_assert_ptr_nonnull(strstr(ops, "get:queue-1 put:queue-2"));
    ops[0] = 0;
    sync_ops(cJSON_GetObjectItem(thread(root, "sink"), "program"), ops, sizeof ops);
    ck_assert_ptr_null(strstr(ops, "queue-1"));
    ck_assert_ptr_nonnull(strstr(ops, "get:queue-2"));
    cJSON_Delete(root);
    /* one producer, one consumer: one queue */
    root = fit(data("queue.rec.json"), true, false);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(root, "queues")), 1);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_fit_scenario_runs_to_its_end)
{
    const char *files[] = {"convoy.rec.json", "queue.rec.json", "pipeline.rec.json"};
    for (int i = 0; i < 3; i++) {
        char *json = NULL;
        size_t len = 0;
        gs_error_t err;
        ck_assert_int_eq(gs_fit_recording(data(files[i]), NULL, &json, &len, &err), 0);
        gs_model_t *m = NULL;
        gs_diag_t d;
        ck_assert_int_eq(gs_scenario_load_string("f", json, len, NULL, 0, &m, &d), 0);
        int rc = 0;
        gs_trace_t *t = tu_run(m, &rc);
        ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_DONE);
        gs_trace_free(t);
        gs_model_free(m);
        free(json);
    }
}
END_TEST

/* ---- limits ---------------------------------------------------------------- */

static void expect_error(const char *path, bool partial_ok, int code, const char *text)
{
    gs_fit_opts_t o = {.allow_partial = partial_ok};
    char *json = (char *)"sentinel";
    size_t len = 1;
    gs_error_t err;
    int rc = gs_fit_recording(path, &o, &json, &len, &err);
    ck_assert_msg(rc == code, "%s: rc %d, wanted %d (%s)", path, rc, code, err.msg);
    ck_assert_ptr_null(json);
    ck_assert_int_eq(err.code, code);
    ck_assert_msg(strstr(err.msg, text) != NULL, "%s: '%s' says '%s'", path, err.msg, text);
    ck_assert_msg(strstr(err.file, path) != NULL || strstr(path, err.file) != NULL,
                  "the error names the file");
}

START_TEST(test_fit_bad_recordings_say_what_is_wrong)
{
    expect_error(data("truncated.rec.json"), false, GS_ESYNTAX, "truncated");
    expect_error(data("partial.rec.json"), false, GS_ESCENARIO, "partial recording");
    expect_error(data("partial.rec.json"), false, GS_ESCENARIO, "interrupted by SIGINT");
    expect_error(data("newer.rec.json"), false, GS_ESCENARIO, "version 2");
    expect_error(data("newer.rec.json"), false, GS_ESCENARIO, "newer gilsim");
    char scen[1200];
    snprintf(scen, sizeof scen, "%s/scenarios/03-convoy.json",
             getenv("GILSIM_SOURCE_DIR") ? getenv("GILSIM_SOURCE_DIR") : ".");
    expect_error(scen, false, GS_ESCENARIO, "not a gilsim recording");
    expect_error(data("no-such.rec.json"), false, GS_EIO, "cannot open");
}
END_TEST

START_TEST(test_fit_partial_recording_fitted_on_request)
{
    gs_fit_opts_t o = {.allow_partial = true};
    char *json = NULL;
    size_t len = 0;
    gs_error_t err;
    ck_assert_int_eq(gs_fit_recording(data("partial.rec.json"), &o, &json, &len, &err), 0);
    ck_assert_ptr_nonnull(strstr(json, "the recording is partial"));
    free(json);
}
END_TEST

/* ---- props: random recordings ------------------------------------------------ */

typedef struct gen {
    uint64_t s;
    FILE *f;
    int64_t python; /* expected Python work of the thread being written */
    int64_t cpu_ops; /* expected sum of cpu + c_call ops (for the os_cpu scale) */
    bool first_ev;
} gen_t;

static int64_t rnd(gen_t *g, int64_t lo, int64_t hi)
{
    g->s ^= g->s << 13;
    g->s ^= g->s >> 7;
    g->s ^= g->s << 17;
    return lo + (int64_t)(g->s % (uint64_t)(hi - lo + 1));
}

static void ev(gen_t *g, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    fputs(g->first_ev ? "\n      " : ",\n      ", g->f);
    vfprintf(g->f, fmt, ap);
    va_end(ap);
    g->first_ev = false;
}

/* One thread's events from t; returns its end. Every hold is closed. */
static int64_t gen_thread(gen_t *g, int64_t t, bool loop)
{
    static const char *const cats[] = {"sleep", "io", "c_nogil"};
    ev(g, "[%lld, \"start\"]", (long long)t);
    ev(g, "[%lld, \"ask\"]", (long long)t);
    t += rnd(g, 0, 2000);
    ev(g, "[%lld, \"hold\"]", (long long)t);
    int steps = (int)rnd(g, 1, 40);
    int pattern = (int)rnd(g, 0, 2);
    for (int k = 0; k < steps; k++) {
        int a = loop ? (k % 2 ? 1 : pattern == 2 ? 4 : 0) : (int)rnd(g, 0, 5);
        int64_t run = rnd(g, 1, 50000);
        if (a == 0) { /* Python, perhaps cut by forced switches */
            int cuts = (int)rnd(g, 0, 3);
            for (int c = 0; c < cuts; c++) {
                t += run;
                g->python += run;
                ev(g, "[%lld, \"drop_request\"]", (long long)t - 10);
                ev(g, "[%lld, \"release\", \"forced\"]", (long long)t);
                t += rnd(g, 1, 3000);
                ev(g, "[%lld, \"ask\"]", (long long)t);
                t += rnd(g, 1, 9000);
                ev(g, "[%lld, \"hold\"]", (long long)t);
                run = rnd(g, 1, 50000);
            }
            t += run;
            g->python += run;
        } else if (a == 1) { /* a call that releases the GIL */
            int64_t c0 = t, in0 = rnd(g, 0, 500), off = rnd(g, 1, 100000);
            int64_t wait = rnd(g, 0, 20000), in1 = rnd(g, 0, 500);
            int64_t c1 = c0 + in0 + off + wait + in1;
            ev(g, "[%lld, \"call\", %lld, \"x.call\", \"%s\", true]", (long long)c0,
               (long long)c1, cats[pattern]);
            ev(g, "[%lld, \"release\", \"call\"]", (long long)(c0 + in0));
            ev(g, "[%lld, \"ask\"]", (long long)(c0 + in0 + off));
            ev(g, "[%lld, \"hold\"]", (long long)(c0 + in0 + off + wait));
            if (pattern == 2 || (pattern == 1 && off < 20000))
                g->cpu_ops += off; /* C; an I/O call off for less than the default
                                      wake-up (20 us) did not sleep: C (fit_io_kind) */
            t = c1; /* in0 and in1 are the call's, not Python's */
        } else if (a == 2) { /* C keeping the GIL */
            int64_t d = rnd(g, 1, 30000);
            ev(g, "[%lld, \"call\", %lld, \"list.sort\", \"c\", false]", (long long)t,
               (long long)(t + d));
            g->cpu_ops += d;
            t += d;
        } else if (a == 3) { /* C no span names */
            ev(g, "[%lld, \"release\", \"unnamed\"]", (long long)t);
            int64_t off = rnd(g, 1, 5000);
            g->cpu_ops += off;
            t += off;
            ev(g, "[%lld, \"ask\"]", (long long)t);
            t += rnd(g, 0, 4000);
            ev(g, "[%lld, \"hold\"]", (long long)t);
        } else if (a == 5) { /* C keeping the GIL without a span: a drop request
                                left unanswered for 1 ms or more, from there on */
            int64_t before = rnd(g, 1, 20000), late = rnd(g, 1000000, 3000000);
            ev(g, "[%lld, \"drop_request\"]", (long long)(t + before));
            t += before + late;
            g->python += before;
            g->cpu_ops += late;
            ev(g, "[%lld, \"release\", \"forced\"]", (long long)t);
            t += rnd(g, 1, 3000);
            ev(g, "[%lld, \"ask\"]", (long long)t);
            t += rnd(g, 1, 9000);
            ev(g, "[%lld, \"hold\"]", (long long)t);
        } else { /* Python of a similar length each turn (a loop) */
            run = 20000 + rnd(g, 0, 2000);
            t += run;
            g->python += run;
        }
    }
    t += 100;
    g->python += 100;
    ev(g, "[%lld, \"release\", \"exit\"]", (long long)t);
    ev(g, "[%lld, \"end\"]", (long long)t);
    return t;
}

/* A random recording in a temporary file; python[i] the expected Python
 * work of thread i, cpu[i] its expected cpu + c_call sum, os[i] the kernel
 * CPU time written for it (or -1). */
static void gen_recording(uint64_t seed, char *path, int *n_threads, int64_t *python,
                          int64_t *cpu, int64_t *os)
{
    gen_t g = {.s = seed * 2654435761u + 1};
    snprintf(path, 64, "/tmp/check_fit_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    g.f = fdopen(fd, "w");
    int nt = (int)rnd(&g, 1, 5);
    int64_t t_next = 0;
    fprintf(g.f, "{\n  \"format\": \"gilsim-recording\",\n  \"version\": 1,\n  \"partial\": false,\n"
                 "  \"command\": [\"python3\", \"gen.py\"],\n  \"interpreter\": {\"version\": [3, 12, "
                 "0]},\n  \"switch_interval_ns\": 5000000,\n  \"host\": {\"cores\": 4},\n"
                 "  \"duration_ns\": 1000,\n  \"threads\": [");
    for (int i = 0; i < nt; i++) {
        g.python = 0;
        g.cpu_ops = 0;
        os[i] = rnd(&g, 0, 2) == 0 ? -2 : -1; /* -2: write one, decided below */
        fprintf(g.f, "%s\n    {\"name\": \"t%d\", \"events\": [", i ? "," : "", i);
        g.first_ev = true;
        /* one after the other: one GIL, so holds never overlap, and a drop
         * request falls only in the holds of the thread it was meant for */
        t_next = gen_thread(&g, t_next + rnd(&g, 0, 100000), rnd(&g, 0, 1) == 0);
        python[i] = g.python;
        cpu[i] = g.python + g.cpu_ops;
        fprintf(g.f, "\n    ]");
        if (os[i] == -2) {
            os[i] = rnd(&g, cpu[i] / 3, cpu[i] * 2);
            fprintf(g.f, ", \"os_cpu_ns\": %lld", (long long)os[i]);
        }
        fprintf(g.f, "}");
    }
    fprintf(g.f, "\n  ]\n}\n");
    fclose(g.f);
    *n_threads = nt;
}

START_TEST(test_fit_python_work_is_held_time_minus_call_spans)
{
    int inferred = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        char path[64], name[16];
        int nt;
        int64_t python[5], cpu[5], os[5];
        gen_recording(seed, path, &nt, python, cpu, os);
        cJSON *root = fit(path, true, true);
        for (int i = 0; i < nt; i++) {
            snprintf(name, sizeof name, "t%d", i);
            tally_t t = tally_thread(root, name);
            ck_assert_msg(t.sum[K_CPU] == python[i], "seed %llu %s: Python %lld, wanted %lld",
                          (unsigned long long)seed, name, (long long)t.sum[K_CPU],
                          (long long)python[i]);
            int64_t c = t.sum[K_CPU] + t.sum[K_CREL] + t.sum[K_CKEEP];
            inferred += t.n[K_CKEEP] > 0;
            ck_assert_msg(c <= cpu[i], "seed %llu %s: CPU ops %lld <= %lld",
                          (unsigned long long)seed, name, (long long)c, (long long)cpu[i]);
        }
        cJSON_Delete(root);
        unlink(path);
    }
    ck_assert_int_gt(inferred, 5); /* C calls keeping the GIL were inferred and checked */
}
END_TEST

START_TEST(test_fit_repeat_blocks_keep_op_counts_and_sums)
{
    int folded = 0;
    for (uint64_t seed = 1; seed <= 60; seed++) {
        char path[64], name[16];
        int nt;
        int64_t python[5], cpu[5], os[5];
        gen_recording(seed, path, &nt, python, cpu, os);
        cJSON *exact = fit(path, true, false), *rep = fit(path, false, false);
        for (int i = 0; i < nt; i++) {
            snprintf(name, sizeof name, "t%d", i);
            tally_t a = tally_thread(exact, name), b = tally_thread(rep, name);
            int64_t ops = 0;
            for (int k = 0; k < K_N; k++)
                ops += a.n[k];
            for (int k = 0; k < K_N; k++) {
                ck_assert_msg(a.n[k] == b.n[k], "seed %llu %s %s: %lld ops, folded %lld",
                              (unsigned long long)seed, name, verbs[k], (long long)a.n[k],
                              (long long)b.n[k]);
                int64_t d = a.sum[k] - b.sum[k];
                ck_assert_msg(d <= ops && d >= -ops, "seed %llu %s %s: sum %lld, folded %lld",
                              (unsigned long long)seed, name, verbs[k], (long long)a.sum[k],
                              (long long)b.sum[k]);
            }
            folded += cJSON_GetArraySize(cJSON_GetObjectItem(thread(rep, name), "program")) <
                      cJSON_GetArraySize(cJSON_GetObjectItem(thread(exact, name), "program"));
        }
        cJSON_Delete(exact);
        cJSON_Delete(rep);
        unlink(path);
    }
    ck_assert_int_gt(folded, 10); /* the loops were folded, so the check meant something */
}
END_TEST

START_TEST(test_fit_cpu_ops_are_the_kernels_cpu_time)
{
    /* random recordings, some threads with the kernel's CPU time: a
     * thread's CPU ops are the measured ones scaled down to the kernel's
     * figure where it is less (the time without a core is the model's to
     * add, with the other load), else as measured; to a ns per op */
    for (uint64_t seed = 1; seed <= 60; seed++) {
        char path[64], name[16];
        int nt;
        int64_t python[5], cpu[5], os[5];
        gen_recording(seed, path, &nt, python, cpu, os);
        cJSON *root = fit(path, true, false), *raw = fit(path, true, true);
        for (int i = 0; i < nt; i++) {
            snprintf(name, sizeof name, "t%d", i);
            tally_t t = tally_thread(root, name), r = tally_thread(raw, name);
            int64_t got = t.sum[K_CPU] + t.sum[K_CREL] + t.sum[K_CKEEP];
            int64_t measured = r.sum[K_CPU] + r.sum[K_CREL] + r.sum[K_CKEEP];
            int64_t want = os[i] >= 0 && os[i] < measured ? os[i] : measured;
            int64_t n_ops = t.n[K_CPU] + t.n[K_CREL] + t.n[K_CKEEP];
            ck_assert_msg(got >= want - n_ops && got <= want + n_ops,
                          "seed %llu %s: %lld, want %lld (measured %lld, kernel %lld)",
                          (unsigned long long)seed, name, (long long)got, (long long)want,
                          (long long)measured, (long long)os[i]);
        }
        cJSON_Delete(root);
        cJSON_Delete(raw);
        unlink(path);
    }
}
END_TEST

START_TEST(test_fit_cpu_ops_lose_their_own_programs_core_waits)
{
    /* hash_pool.rec.json: examples/hash_pool.py recorded, four hashers
     * hashing without the GIL on two cores: each waited for a core because
     * of the others, which the model adds itself; that part comes out, never
     * below the CPU time the kernel counted (the file's os_cpu_ns) */
    static const struct {
        const char *name;
        int64_t os;
    } hashers[] = {{"hasher_0", 10144000}, {"hasher_1", 8989000}, {"hasher_2", 9428000}};
    cJSON *root = fit(data("hash_pool.rec.json"), true, false);
    cJSON *raw = fit(data("hash_pool.rec.json"), true, true);
    for (int i = 0; i < 3; i++) {
        tally_t t = tally_thread(root, hashers[i].name), r = tally_thread(raw, hashers[i].name);
        int64_t c = t.sum[K_CPU] + t.sum[K_CREL] + t.sum[K_CKEEP];
        int64_t rc = r.sum[K_CPU] + r.sum[K_CREL] + r.sum[K_CKEEP];
        int64_t n_ops = t.n[K_CPU] + t.n[K_CREL] + t.n[K_CKEEP];
        ck_assert_msg(c < rc * 9 / 10, "%s: %lld, measured %lld: shortened",
                      hashers[i].name, (long long)c, (long long)rc);
        ck_assert_msg(c >= hashers[i].os - n_ops, "%s: %lld, not below the kernel's %lld",
                      hashers[i].name, (long long)c, (long long)hashers[i].os);
    }
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_ptr_nonnull(strstr(desc, "threads wanted one at once on average, on 2"));
    cJSON_Delete(root);
    cJSON_Delete(raw);
}
END_TEST

/* A holder leaves the waiter's drop request (at 6 ms) unanswered for late_ns
 * until it releases; its kernel run delay is delay_ns (-1: not written). */
static void write_unanswered(const char *path, int64_t late_ns, int64_t delay_ns)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    long long rel = 6000000 + late_ns;
    fprintf(f, "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
               " \"command\": [\"python3\", \"p.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
               " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": %lld,\n"
               " \"threads\": [\n  {\"name\": \"holder\"",
            rel + 200000);
    if (delay_ns >= 0)
        fprintf(f, ", \"os_run_delay_ns\": %lld", (long long)delay_ns);
    fprintf(f, ", \"events\": [[0, \"start\"], [0, \"ask\"], [1000, \"hold\"],\n"
               "   [%lld, \"release\", \"exit\"], [%lld, \"end\"]]},\n"
               "  {\"name\": \"waiter\", \"events\": [[500000, \"start\"], [1000000, \"ask\"],\n"
               "   [6000000, \"drop_request\"], [%lld, \"hold\"], [%lld, \"release\", \"exit\"],\n"
               "   [%lld, \"end\"]]}\n]}\n",
            rel, rel, rel + 2000, rel + 102000, rel + 102000);
    fclose(f);
}

START_TEST(test_fit_preempted_holder_is_not_a_c_call)
{
    /* An unanswered drop request is C code keeping the GIL, or a holder
     * without a core. Where the kernel's run delay of the thread could
     * explain it (at least half of it), only stretches of three 4 ms
     * ticks or more are C; else (or without the kernel's figure) every
     * stretch of 1 ms or more, as before. */
    static const int64_t lates[] = {1500000, 5000000, 11000000, 13000000, 40000000};
    for (size_t a = 0; a < sizeof lates / sizeof lates[0]; a++) {
        int64_t late = lates[a];
        int64_t delays[] = {-1, 0, late / 4, late, 10 * late};
        for (size_t b = 0; b < sizeof delays / sizeof delays[0]; b++) {
            char path[] = "/tmp/check_fit_late_XXXXXX";
            int fd = mkstemp(path);
            ck_assert_int_ge(fd, 0);
            close(fd);
            write_unanswered(path, late, delays[b]);
            cJSON *root = fit(path, true, true);
            tally_t t = tally_thread(root, "holder");
            bool c = late >= 12000000 || delays[b] < 0 || delays[b] < late / 2;
            ck_assert_msg(t.n[K_CKEEP] == (c ? 1 : 0),
                          "unanswered %lld ns, run delay %lld: %s C call (got %lld)",
                          (long long)late, (long long)delays[b], c ? "a" : "no",
                          (long long)t.n[K_CKEEP]);
            /* the call from the waiter's ask (1 ms), whose timed wait set
             * the request (cstart.c); whether it is C is judged on the
             * unanswered time alone */
            ck_assert_int_eq(t.sum[K_CKEEP], c ? late + 5000000 : 0);
            ck_assert_int_eq(t.sum[K_CPU] + t.sum[K_CKEEP], 6000000 + late - 1000);
            const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
            ck_assert_msg((strstr(desc, "left Python work") != NULL) == !c, "%s", desc);
            cJSON_Delete(root);
            unlink(path);
        }
    }
}
END_TEST

/* A waiter blocked 2 ms on a lock that a holder released while it waited;
 * obj is how both name the semaphore (as JSON text). */
static void write_lock_pair(const char *path, const char *obj)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
               " \"command\": [\"python3\", \"p.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
               " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": 4000000,\n"
               " \"threads\": [\n  {\"name\": \"holder\", \"events\": [[0, \"start\"], [0, \"ask\"],"
               " [1000, \"hold\"],\n   [2500000, \"lock_post\", %s], [3000000, \"release\", \"exit\"],"
               " [3000000, \"end\"]]},\n  {\"name\": \"waiter\", \"events\": [[0, \"start\"],"
               " [500000, \"release\", \"call\"],\n   [500100, \"lock_wait\", 2501000, %s],"
               " [3001000, \"ask\"], [3002000, \"hold\"],\n   [3100000, \"release\", \"exit\"],"
               " [3100000, \"end\"]]}\n]}\n",
            obj, obj);
    fclose(f);
}

START_TEST(test_fit_lock_wait_matched_to_its_release)
{
    /* the same semaphore on both sides: a get and a put on "lock-1 for
     * waiter"; an obj that is no address (0, negative, too large for a
     * double to hold exactly, not a number) is unknown: the wait is a sleep */
    static const struct {
        const char *obj;
        bool matched;
    } cases[] = {{"94600708852064", true}, {"0", false}, {"-5", false},
                 {"1e300", false}, {"\"0x7f\"", false}, {"null", false}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char path[] = "/tmp/check_fit_lock_XXXXXX";
        int fd = mkstemp(path);
        ck_assert_int_ge(fd, 0);
        close(fd);
        write_lock_pair(path, cases[c].obj);
        cJSON *root = fit(path, true, true);
        char w[256] = "", h[256] = "";
        sync_ops(cJSON_GetObjectItem(thread(root, "waiter"), "program"), w, sizeof w);
        sync_ops(cJSON_GetObjectItem(thread(root, "holder"), "program"), h, sizeof h);
        tally_t t = tally_thread(root, "waiter");
        if (cases[c].matched) {
            ck_assert_str_eq(w, "get:lock-1 for waiter");
            ck_assert_str_eq(h, "put:lock-1 for waiter");
            ck_assert_int_eq(t.n[K_SLEEP], 0);
        } else {
            ck_assert_msg(!*w && !*h, "obj %s: no get or put (%s | %s)", cases[c].obj, w, h);
            ck_assert_int_eq(t.n[K_SLEEP], 1);
        }
        cJSON_Delete(root);
        unlink(path);
    }
}
END_TEST

/* socket_ready.rec.json: four requests over a socketpair. In the last two
 * the client's send lasted past its handler's reply (the handler took its
 * core), so its recv found the reply there and did not block. That recv is
 * still the reply's get, and the reply's send its wake-up: four of each both
 * ways, in the recorded order (exact fit), and no recv left a fixed I/O op
 * that would let the replayed client go on without its reply. A send wakes
 * its reader itself, at its end (c_call "posts"), but where the reader won
 * the GIL inside it (the handler in the client's first two requests): there
 * a put op before the send (waits.c reader_won). */
START_TEST(test_fit_recv_that_found_the_bytes_there_is_a_get)
{
    cJSON *root = fit(data("socket_ready.rec.json"), true, true);
    char c[512] = "", h[512] = "";
    sync_ops(cJSON_GetObjectItem(thread(root, "client"), "program"), c, sizeof c);
    sync_ops(cJSON_GetObjectItem(thread(root, "handler"), "program"), h, sizeof h);
    const char *one_c = "put:socket client to handler get:socket handler to client";
    const char *post_c = "post:socket client to handler get:socket handler to client";
    const char *one_h = "get:socket client to handler post:socket handler to client";
    char want_c[512] = "", want_h[512] = "";
    for (int k = 0; k < 4; k++) {
        snprintf(want_c + strlen(want_c), sizeof want_c - strlen(want_c), "%s%s", k ? " " : "",
                 k < 2 ? one_c : post_c);
        snprintf(want_h + strlen(want_h), sizeof want_h - strlen(want_h), "%s%s", k ? " " : "",
                 one_h);
    }
    ck_assert_str_eq(c, want_c);
    ck_assert_str_eq(h, want_h);
    tally_t t = tally_thread(root, "client");
    /* the four sends themselves: C calls releasing the GIL (a send does not
     * sleep: check_fit_send.c) */
    ck_assert_int_eq(t.n[K_IO], 0);
    ck_assert_int_eq(t.n[K_CREL], 4);
    cJSON_Delete(root);
}
END_TEST

/* socket_pairs.rec.json: two clients, each with its handler over a
 * socketpair, recorded by record_objects_fit on a loaded machine (load 4.9).
 * The pairs took turns at the GIL: in 6 of client0's recvs the send that
 * began last before its wake-up was handler1's (which began in client0's
 * wake-up latency, after handler0's reply), as often as handler0's. A
 * socket's peer has it as its peer: handler0's recvs, ended by client0's
 * sends 15 times, settle it. socket_pairs_ready.rec.json (load 7): every
 * recv of client0 found the reply there (its handler replied before it
 * asked), so only handler0's recvs say whose peer it is. Each thread gets
 * only from its own pair's queue. */
START_TEST(test_fit_socket_peers_are_mutual)
{
    static const char *const recs[] = {"socket_pairs.rec.json", "socket_pairs_ready.rec.json"};
    cJSON *root = fit(data(recs[_i]), true, true);
    cJSON *queues = cJSON_GetObjectItem(root, "queues");
    char got[512] = "";
    for (cJSON *q = queues ? queues->child : NULL; q; q = q->next)
        snprintf(got + strlen(got), sizeof got - strlen(got), "%s%s", *got ? ", " : "",
                 q->string);
    ck_assert_str_eq(got, "socket client0 to handler0, socket handler0 to client0, "
                          "socket client1 to handler1, socket handler1 to client1");
    static const char *const me[] = {"client0", "handler0", "client1", "handler1"};
    static const char *const peer[] = {"handler0", "client0", "handler1", "client1"};
    for (int k = 0; k < 4; k++) {
        char ops[4096] = "", want[64];
        sync_ops(cJSON_GetObjectItem(thread(root, me[k]), "program"), ops, sizeof ops);
        snprintf(want, sizeof want, "get:socket %s to %s", peer[k], me[k]);
        for (char *t = strstr(ops, "get:"); t; t = strstr(t + 1, "get:"))
            ck_assert_msg(strncmp(t, want, strlen(want)) == 0, "%s: %s", me[k], ops);
        ck_assert_msg(strstr(ops, want) != NULL, "%s gets from its peer: %s", me[k], ops);
    }
    cJSON_Delete(root);
}
END_TEST

/* Reads a file into a malloc'ed string. */
static char *slurp(const char *path, size_t *n)
{
    FILE *f = fopen(path, "rb");
    ck_assert_ptr_nonnull(f);
    fseek(f, 0, SEEK_END);
    long len = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)len + 1);
    ck_assert_uint_eq(fread(b, 1, (size_t)len, f), (size_t)len);
    b[len] = 0;
    fclose(f);
    *n = (size_t)len;
    return b;
}

/* Whatever the bytes, a fit either fails with a message or gives a scenario
 * that loads: never a crash, never text gilsim cannot read. */
static void fit_bytes(const char *bytes, size_t n, int *ok, int *failed)
{
    char path[] = "/tmp/check_fit_mut_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(write(fd, bytes, n), (ssize_t)n);
    close(fd);
    char *json = NULL;
    size_t len = 0;
    gs_error_t err;
    if (gs_fit_recording(path, NULL, &json, &len, &err) == 0) {
        gs_model_t *m = NULL;
        gs_diag_t d;
        memset(&d, 0, sizeof d);
        ck_assert_msg(gs_scenario_load_string("f", json, len, NULL, 0, &m, &d) == 0,
                      "a fitted scenario loads: %s %s", d.n ? d.e[0].path : "",
                      d.n ? d.e[0].msg : "");
        gs_model_free(m);
        free(json);
        (*ok)++;
    } else {
        ck_assert_ptr_null(json);
        ck_assert_msg(err.msg[0] != 0, "a failed fit says why");
        (*failed)++;
    }
    unlink(path);
}

/* convoy.rec.json with the first occurrence of old replaced by repl,
 * written to path (a mkstemp template). */
static void convoy_replacing(const char *old, const char *repl, char *path)
{
    size_t n;
    char *text = slurp(data("convoy.rec.json"), &n);
    char *at = strstr(text, old);
    ck_assert_ptr_nonnull(at);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    fprintf(f, "%.*s%s%s", (int)(at - text), text, repl, at + strlen(old));
    fclose(f);
    free(text);
}

/* convoy.rec.json with tail added at the end of its calibration, written to
 * path (a mkstemp template). */
static void convoy_with_calibration(const char *tail, char *path)
{
    char repl[1024];
    int w = snprintf(repl, sizeof repl, "\"timer_jitter_ns\": 1000%s}", tail);
    ck_assert_int_lt(w, (int)sizeof repl);
    convoy_replacing("\"timer_jitter_ns\": 1000}", repl, path);
}

/* Each sleep op of the io thread, in ns; asserts there are five. */
static int64_t convoy_sleep_ns(const cJSON *root)
{
    const cJSON *op;
    int64_t v = -1;
    int n = 0;
    cJSON_ArrayForEach(op, cJSON_GetObjectItem(thread(root, "io"), "program")) {
        const cJSON *s = cJSON_GetObjectItem(op, "sleep");
        if (s) {
            ck_assert(v < 0 || ns_of(s->valuestring) == v);
            v = ns_of(s->valuestring);
            n++;
        }
    }
    ck_assert_int_eq(n, 5);
    return v;
}

START_TEST(test_fit_wake_idle_curve_reaches_the_machine)
{
    /* with --wake-curve (not by default), a recording's wake-up against
     * idle depth becomes the scenario's
     * machine.wakeup_idle, point for point, and what the fit takes off a
     * sleep for the model's wake-up is the curve at the sleep's depth (its
     * 10 us release-to-ask: 400 + 400 * 8/18 = 577 ns) is nothing for a
     * sleep: its timer wakes it on its own core (timer_wake "local"), and
     * the 1 ms sleep's 3 us are slack and jitter as without the curve */
    char path[] = "/tmp/check_fit_wake_XXXXXX";
    convoy_with_calibration(", \"wake_idle_ns\": [[2000, 400], [20000, 800], [200000, 2000], "
                            "[1000000, 2600]]",
                            path);
    cJSON *root = fit(path, true, false); /* by default, not taken */
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "machine"), "wakeup_idle"));
    ck_assert_int_eq(convoy_sleep_ns(root), 7000);
    cJSON_Delete(root);
    root = fit_opts(path, &(gs_fit_opts_t){.exact = true, .wake_curve = true});
    unlink(path);
    const cJSON *mach = cJSON_GetObjectItem(root, "machine");
    const cJSON *curve = cJSON_GetObjectItem(mach, "wakeup_idle");
    ck_assert_int_eq(cJSON_GetArraySize(curve), 4);
    static const int64_t want[4][2] = {{2000, 400}, {20000, 800}, {200000, 2000},
                                       {1000000, 2600}};
    for (int k = 0; k < 4; k++) {
        const cJSON *pt = cJSON_GetArrayItem(curve, k);
        ck_assert_int_eq(ns_of(cJSON_GetArrayItem(pt, 0)->valuestring), want[k][0]);
        ck_assert_int_eq(ns_of(cJSON_GetArrayItem(pt, 1)->valuestring), want[k][1]);
    }
    ck_assert_str_eq(cJSON_GetObjectItem(mach, "wakeup_latency")->valuestring, "1us");
    ck_assert_int_eq(ns_of(cJSON_GetObjectItem(mach, "timer_slack")->valuestring), 2500);
    ck_assert_int_eq(convoy_sleep_ns(root), 10000 - 2500 - 500);
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_msg(strstr(desc, "800 ns after 20 us") && strstr(desc, "2.6 us after 1 ms"),
                  "the description gives the curve: %s", desc);
    cJSON_Delete(root);
    /* a recording made before the curve: none in the scenario, the sleep
     * less wakeup_latency as before (test_fit_sleep_is_...: 7 us) */
    root = fit(data("convoy.rec.json"), true, false);
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(root, "machine"), "wakeup_idle"));
    ck_assert_int_eq(convoy_sleep_ns(root), 7000);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_fit_bad_wake_idle_curve_says_which_pair)
{
    static const struct {
        const char *tail, *path, *text;
    } bad[] = {
        {", \"wake_idle_ns\": [[2000, 400], [2000, 800]]", "calibration.wake_idle_ns[1]",
         "must grow"},
        {", \"wake_idle_ns\": [[2000, 400], [1000, 800]]", "calibration.wake_idle_ns[1]",
         "idle depth 1000 ns"},
        {", \"wake_idle_ns\": [[2000, -4]]", "calibration.wake_idle_ns[0]", "0 to 1 s"},
        {", \"wake_idle_ns\": [[2000]]", "calibration.wake_idle_ns[0]", "two whole numbers"},
        {", \"wake_idle_ns\": []", "calibration.wake_idle_ns", "1 to 8"},
        {", \"wake_idle_ns\": 5", "calibration.wake_idle_ns", "[idle depth, latency] pairs"},
    };
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char path[] = "/tmp/check_fit_wake_XXXXXX";
        convoy_with_calibration(bad[i].tail, path);
        expect_error(path, false, GS_ESCENARIO, bad[i].text);
        char *json = NULL;
        size_t len = 0;
        gs_error_t err;
        ck_assert_int_eq(gs_fit_recording(path, NULL, &json, &len, &err), GS_ESCENARIO);
        ck_assert_str_eq(err.path, bad[i].path);
        unlink(path);
    }
}
END_TEST

START_TEST(test_fit_timer_arm_reaches_the_machine_and_old_recordings_fit_as_before)
{
    /* the recording's calibration.timer_arm_ns becomes machine.timer_arm,
     * and the description says so; nothing else of the scenario moves */
    char path[] = "/tmp/check_fit_tarm_XXXXXX";
    convoy_with_calibration(", \"timer_arm_ns\": 6500", path);
    char *with = NULL, *old = NULL;
    size_t n_with = 0, n_old = 0;
    gs_error_t err;
    ck_assert_int_eq(gs_fit_recording(path, NULL, &with, &n_with, &err), 0);
    unlink(path);
    ck_assert_int_eq(gs_fit_recording(data("convoy.rec.json"), NULL, &old, &n_old, &err), 0);
    cJSON *a = cJSON_Parse(with), *b = cJSON_Parse(old);
    ck_assert_ptr_nonnull(a);
    ck_assert_ptr_nonnull(b);
    const cJSON *arm = cJSON_GetObjectItem(cJSON_GetObjectItem(a, "machine"), "timer_arm");
    ck_assert_ptr_nonnull(arm);
    ck_assert_int_eq(ns_of(arm->valuestring), 6500);
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(a, "description"));
    ck_assert_msg(strstr(desc, "its core's first") && strstr(desc, "6.5 us"),
                  "the description gives the arming cost: %s", desc);
    /* a recording made before the field: no key, and the scenario is the
     * one with it less the key and the description's sentence */
    ck_assert_ptr_null(cJSON_GetObjectItem(cJSON_GetObjectItem(b, "machine"), "timer_arm"));
    ck_assert_ptr_null(
        strstr(cJSON_GetStringValue(cJSON_GetObjectItem(b, "description")), "its core's first"));
    cJSON_DeleteItemFromObject(cJSON_GetObjectItem(a, "machine"), "timer_arm");
    cJSON_DeleteItemFromObject(a, "description");
    cJSON_DeleteItemFromObject(b, "description");
    cJSON_DeleteItemFromObject(a, "source");
    cJSON_DeleteItemFromObject(b, "source");
    ck_assert(cJSON_Compare(a, b, true));
    cJSON_Delete(a);
    cJSON_Delete(b);
    free(with);
    free(old);
    /* every kept recording without it fits to the same bytes twice over
       its key absent: no machine.timer_arm anywhere */
    static const char *const recs[] = {"convoy.rec.json",     "hash_pool.rec.json",
                                       "mixed_pool.rec.json", "pipeline.rec.json",
                                       "queue.rec.json",      "socket_pairs.rec.json"};
    for (size_t i = 0; i < sizeof recs / sizeof *recs; i++) {
        char *j = NULL;
        size_t n = 0;
        ck_assert_int_eq(gs_fit_recording(data(recs[i]), NULL, &j, &n, &err), 0);
        ck_assert_msg(!strstr(j, "timer_arm"), "%s: no timer_arm without a measurement", recs[i]);
        free(j);
    }
}
END_TEST

/* convoy.rec.json with its calibration's wake_cold_ns (a 1 ms sleep's
 * lateness, 3000) replaced by cold and tail added to the calibration,
 * written to path (a mkstemp template). */
static void convoy_with_cold(int64_t cold, const char *tail, char *path)
{
    char repl[1024];
    int w = snprintf(repl, sizeof repl, "\"wake_cold_ns\": %lld, \"timer_jitter_ns\": 1000%s}",
                     (long long)cold, tail);
    ck_assert_int_lt(w, (int)sizeof repl);
    convoy_replacing("\"wake_cold_ns\": 3000, \"timer_jitter_ns\": 1000}", repl, path);
}

/* Each calibration tail in bad gets a fit error at key whose message holds
 * every one of says (what would do). */
static void bad_calibration_key(const char *const *bad, size_t n, const char *key,
                                const char *const *says, size_t n_says)
{
    for (size_t i = 0; i < n; i++) {
        char path[] = "/tmp/check_fit_calib_XXXXXX";
        convoy_with_calibration(bad[i], path);
        char *json = NULL;
        size_t len = 0;
        gs_error_t err;
        ck_assert_int_eq(gs_fit_recording(path, NULL, &json, &len, &err), GS_ESCENARIO);
        ck_assert_ptr_null(json);
        ck_assert_str_eq(err.path, key);
        for (size_t k = 0; k < n_says; k++)
            ck_assert_msg(strstr(err.msg, says[k]), "says what would do: %s", err.msg);
        unlink(path);
    }
}

START_TEST(test_fit_bad_eevdf_slice_says_where_and_what_would_do)
{
    static const char *const bad[] = {", \"eevdf_slice_ns\": -1", ", \"eevdf_slice_ns\": 0",
                                      ", \"eevdf_slice_ns\": 2500000.5", ", \"eevdf_slice_ns\": 2000000000",
                                      ", \"eevdf_slice_ns\": \"3ms\""};
    static const char *const says[] = {"1 us", "1 s"};
    bad_calibration_key(bad, sizeof bad / sizeof *bad, "calibration.eevdf_slice_ns", says, 2);
}
END_TEST

START_TEST(test_fit_timers_wake_locally_and_end_as_late_as_recorded)
{
    /* The fit's machine says timer_wake "local" (a timer wakes its sleeper
     * on the CPU it slept on, whatever the engine's default), and its
     * timers end as late as the recording's 1 ms sleep did: a thread of
     * the fitted machine that sleeps 1 ms 200 times finishes 200 x (1 ms +
     * the recorded lateness) later, within the jitter's spread of a mean.
     * The slack is Linux's 50 us, or the whole lateness less half the
     * jitter where that is smaller; the rest is timer_late. The kernel's
     * EEVDF slice, when the recording read it, is the machine's. */
    static const int64_t colds[] = {3000, 70860, 200000};
    for (size_t i = 0; i < sizeof colds / sizeof *colds; i++) {
        char path[] = "/tmp/check_fit_cold_XXXXXX";
        convoy_with_cold(colds[i], i == 1 ? ", \"eevdf_slice_ns\": 2800000" : "", path);
        cJSON *root = fit(path, true, false);
        unlink(path);
        cJSON *mach = cJSON_GetObjectItem(root, "machine");
        ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetObjectItem(mach, "timer_wake")), "local");
        int64_t slack = ns_of(cJSON_GetObjectItem(mach, "timer_slack")->valuestring);
        const cJSON *late = cJSON_GetObjectItem(mach, "timer_late");
        int64_t late_ns = late ? ns_of(cJSON_GetArrayItem(cJSON_GetArrayItem(late, 0), 1)
                                           ->valuestring)
                               : 0;
        ck_assert_int_eq(slack, colds[i] - 500 < 50000 ? colds[i] - 500 : 50000);
        ck_assert_int_eq(slack + 500 + late_ns, colds[i]);
        const cJSON *sl = cJSON_GetObjectItem(mach, "eevdf_slice");
        if (i == 1)
            ck_assert_int_eq(ns_of(cJSON_GetStringValue(sl)), 2800000);
        else
            ck_assert_ptr_null(sl);
        /* the fitted machine under one sleeping thread */
        cJSON *sc = cJSON_CreateObject();
        cJSON_AddItemToObject(sc, "machine", cJSON_Duplicate(mach, true));
        cJSON_AddItemToObject(sc, "threads", cJSON_Parse(
            "[{\"name\": \"s\", \"program\": [{\"repeat\": 200, \"do\": [{\"sleep\": \"1ms\"}]}]}]"));
        char *text = cJSON_PrintUnformatted(sc);
        gs_model_t *m = NULL;
        gs_diag_t d;
        ck_assert_int_eq(gs_scenario_load_string("sleeps", text, strlen(text), NULL, 0, &m, &d), 0);
        int rc = 0;
        gs_trace_t *t = tu_run(m, &rc);
        ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_DONE);
        int64_t per = (tu_finish(t, 0) - tu_time_in(t, 0, GS_ST_PY)) / 200 - 1000000;
        ck_assert_msg(per >= colds[i] - 250 && per <= colds[i] + 250,
                      "recorded 1 ms sleeps ended %lld ns late, the fitted machine's %lld ns",
                      (long long)colds[i], (long long)per);
        gs_trace_free(t);
        gs_model_free(m);
        free(text);
        cJSON_Delete(sc);
        cJSON_Delete(root);
    }
}
END_TEST

START_TEST(test_fit_bad_timer_arm_says_where_and_what_would_do)
{
    static const char *const bad[] = {", \"timer_arm_ns\": -1", ", \"timer_arm_ns\": 1000000",
                                      ", \"timer_arm_ns\": 2.5", ", \"timer_arm_ns\": \"6us\""};
    static const char *const says[] = {"under 1 ms"};
    bad_calibration_key(bad, sizeof bad / sizeof *bad, "calibration.timer_arm_ns", says, 1);
}
END_TEST

START_TEST(test_fit_never_crashes_on_damaged_recordings)
{
    size_t n;
    char *text = slurp(data("queue.rec.json"), &n);
    int ok = 0, failed = 0;
    for (size_t cut = 0; cut < n; cut += 13) /* every truncation fails, and says so */
        fit_bytes(text, cut, &ok, &failed);
    ck_assert_int_eq(ok, 0);
    char *mut = malloc(n);
    static const char subst[] = "0123456789-[]{}\",:e. \"x";
    uint64_t s = 88172645463325252u;
    for (int r = 0; r < 400; r++) { /* one to four bytes changed */
        memcpy(mut, text, n);
        int k = 1 + r % 4;
        for (int j = 0; j < k; j++) {
            s ^= s << 13;
            s ^= s >> 7;
            s ^= s << 17;
            mut[s % n] = subst[(s >> 32) % (sizeof subst - 1)];
        }
        fit_bytes(mut, n, &ok, &failed);
    }
    ck_assert_int_gt(ok, 10);
    ck_assert_int_gt(failed, 10);
    free(mut);
    free(text);
}
END_TEST

static Suite *fit_suite(void)
{
    Suite *s = suite_create("fit");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_fit_starts_and_joins_matched_across_threads);
    tcase_add_test(core, test_fit_sleep_is_release_to_ask_without_the_gil_wait);
    tcase_add_test(core, test_fit_forced_switches_do_not_cut_python_work);
    tcase_add_test(core, test_fit_queue_ops_on_one_queue_sized_from_its_fill);
    tcase_add_test(core, test_fit_queues_told_apart_by_who_woke_whom);
    tcase_add_test(core, test_fit_scenario_runs_to_its_end);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    /* each damaged recording that still fits sizes its other load by running
     * the engine a few times (load.c): under ThreadSanitizer the mutations
     * took over check's 4 s default */
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, test_fit_bad_recordings_say_what_is_wrong);
    tcase_add_test(limits, test_fit_bad_wake_idle_curve_says_which_pair);
    tcase_add_test(limits, test_fit_partial_recording_fitted_on_request);
    tcase_add_test(limits, test_fit_never_crashes_on_damaged_recordings);
    suite_add_tcase(s, limits);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 120);
    tcase_add_test(props, test_fit_python_work_is_held_time_minus_call_spans);
    tcase_add_test(props, test_fit_repeat_blocks_keep_op_counts_and_sums);
    tcase_add_test(props, test_fit_cpu_ops_are_the_kernels_cpu_time);
    tcase_add_test(core, test_fit_preempted_holder_is_not_a_c_call);
    tcase_add_test(core, test_fit_lock_wait_matched_to_its_release);
    tcase_add_test(core, test_fit_recv_that_found_the_bytes_there_is_a_get);
    tcase_add_loop_test(core, test_fit_socket_peers_are_mutual, 0, 2);
    tcase_add_test(core, test_fit_cpu_ops_lose_their_own_programs_core_waits);
    tcase_add_test(core, test_fit_wake_idle_curve_reaches_the_machine);
    tcase_add_test(core, test_fit_timer_arm_reaches_the_machine_and_old_recordings_fit_as_before);
    tcase_add_test(core, test_fit_bad_timer_arm_says_where_and_what_would_do);
    tcase_add_test(core, test_fit_timers_wake_locally_and_end_as_late_as_recorded);
    tcase_add_test(core, test_fit_bad_eevdf_slice_says_where_and_what_would_do);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(fit_suite());
}
