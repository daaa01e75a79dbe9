/* check_explain.c - the causal chain and the blame totals, as properties.
 *
 * Blame: for every thread of every lesson and of seeded random models, the
 * totals add up exactly to the time it was not running, computed another way
 * (its life minus its CPU time, from gs_stats), and agree with the metrics'
 * own GIL-wait, core-wait and I/O figures. Chains: small models where the
 * answer is known from the mechanism (a C call that keeps the GIL ignores the
 * drop request; a lock owner waiting for the GIL; no free core). */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "testutil.h"
#include "testutil_scenario.h"

/* ---- blame totals ------------------------------------------------------------ */

static void check_blame(const gs_trace_t *t, const char *what)
{
    gs_stats_t s;
    ck_assert_int_eq(gs_stats_compute(t, &s), 0);
    for (int th = 0; th < gs_trace_n_threads(t); th++) {
        const gs_thread_stats_t *ts = &s.threads[th];
        gs_blame_t b;
        ck_assert_int_eq(gs_blame_compute(t, th, &b), 0);
        int64_t life = 0;
        if (ts->started_ns >= 0)
            life = (ts->finished_ns >= 0 ? ts->finished_ns : gs_trace_end_ns(t)) - ts->started_ns;
        int64_t sum = 0, gil_by = 0, lock_by = 0;
        for (int k = 0; k < GS_BLAME_COUNT; k++) {
            ck_assert_int_ge(b.ns[k], 0);
            sum += b.ns[k];
        }
        for (int o = 0; o < gs_trace_n_threads(t); o++) {
            gil_by += b.gil_by[o];
            lock_by += b.lock_by[o];
        }
        ck_assert_msg(b.total_ns == sum, "%s %s: total %lld != sum %lld", what, ts->name,
                      (long long)b.total_ns, (long long)sum);
        ck_assert_msg(b.total_ns == life - ts->cpu_ns,
                      "%s %s: blame %lld != life %lld - cpu %lld", what, ts->name,
                      (long long)b.total_ns, (long long)life, (long long)ts->cpu_ns);
        ck_assert_int_eq(gil_by, b.ns[GS_BLAME_GIL_HELD]);
        ck_assert_int_eq(lock_by, b.ns[GS_BLAME_LOCK_HELD]);
        ck_assert_int_eq(b.gil_by[th], 0); /* never waits for itself */
        ck_assert_int_eq(b.ns[GS_BLAME_GIL_HELD] + b.ns[GS_BLAME_GIL_HANDOFF], ts->gil_wait_ns);
        ck_assert_int_eq(b.ns[GS_BLAME_NO_CORE] + b.ns[GS_BLAME_SWITCH], ts->core_wait_ns);
        ck_assert_int_eq(b.ns[GS_BLAME_IO], ts->io_ns);
        ck_assert_int_eq(b.ns[GS_BLAME_SLEEP], ts->sleep_ns);
        gs_blame_destroy(&b);
    }
    gs_stats_destroy(&s);
}

START_TEST(test_blame_sums_to_not_running_time_in_every_lesson)
{
    char names[64][TU_NAME_MAX];
    int n_files = tu_list_lessons(names, 64);
    for (int i = 0; i < n_files; i++) {
        gs_model_t *m = tu_load_lesson(names[i], NULL, 0);
        for (uint64_t seed = 1; seed <= 3; seed++) {
            m->seed = seed;
            int rc;
            gs_trace_t *t = tu_run(m, &rc);
            check_blame(t, names[i]);
            gs_trace_free(t);
        }
        gs_model_free(m);
    }
    ck_assert_int_ge(n_files, 10);
}
END_TEST

static uint64_t next(uint64_t *x)
{
    *x ^= *x << 13;
    *x ^= *x >> 7;
    *x ^= *x << 17;
    return *x;
}

/* Random threads mixing Python, I/O, C calls both ways and a shared lock. */
START_TEST(test_blame_sums_in_random_models)
{
    uint64_t x = 0x9E3779B97F4A7C15u;
    for (int round = 0; round < 40; round++) {
        gs_gil_kind_t gil = (gs_gil_kind_t)(next(&x) % 3);
        gs_model_t *m = tu_model(1 + (int)(next(&x) % 3), (gs_policy_t)(next(&x) % 4), gil);
        int lock = gs_model_add_lock(m, "log", next(&x) % 2);
        int n = 2 + (int)(next(&x) % 4);
        for (int i = 0; i < n; i++) {
            char name[16];
            snprintf(name, sizeof name, "t%d", i);
            int64_t a = US(50 + next(&x) % 3000), b = US(10 + next(&x) % 800);
            switch (next(&x) % 4) {
            case 0:
                tu_thread(m, name, 1, tu_repeat(5, 2, tu_cpu(a), tu_io(b)));
                break;
            case 1:
                tu_thread(m, name, 1, tu_repeat(3, 2, tu_c(a, next(&x) % 2), tu_cpu(b)));
                break;
            case 2:
                tu_thread(m, name, 4, tu_sync(GS_OP_ACQUIRE, lock), tu_cpu(a), tu_sleep(b),
                          tu_sync(GS_OP_RELEASE, lock));
                break;
            default:
                tu_thread(m, name, 1, tu_cpu(a * 4));
            }
        }
        m->seed = next(&x);
        int rc;
        gs_trace_t *t = tu_run(m, &rc);
        char what[32];
        snprintf(what, sizeof what, "round %d", round);
        check_blame(t, what);
        gs_trace_free(t);
        gs_model_free(m);
    }
}
END_TEST

/* ---- chains ---------------------------------------------------------------------- */

/* The first instant of kind k, or -1. */
static int64_t first_instant(const gs_trace_t *t, gs_instant_kind_t k)
{
    for (size_t i = 0; i < gs_trace_n_instants(t); i++)
        if (gs_trace_instants(t)[i].kind == k)
            return gs_trace_instants(t)[i].t_ns;
    return -1;
}

static char *chain_text(const gs_trace_t *t, const gs_why_link_t *c, int n, int64_t at)
{
    size_t need = gs_explain_text(t, at, c, n, NULL, 0) + 1;
    char *buf = malloc(need);
    ck_assert_ptr_nonnull(buf);
    ck_assert_uint_eq(gs_explain_text(t, at, c, n, buf, need), need - 1);
    return buf;
}

/* A holder in a C call that keeps the GIL cannot see the drop request: the
 * waiter's chain names the request, its age and the reason. */
START_TEST(test_chain_c_call_ignores_drop_request)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int c = tu_thread(m, "cruncher", 2, tu_cpu(US(100)), tu_c(MS(30), false));
    int s = tu_thread(m, "server", 2, tu_io(US(200)), tu_cpu(MS(1)));
    gs_trace_t *t = tu_run(m, NULL);
    int64_t req = first_instant(t, GS_IN_DROP_REQUEST);
    ck_assert_int_ge(req, MS(5)); /* one switch interval after the wait began */
    ck_assert_int_lt(req, MS(30));
    int64_t at = req + MS(3);
    gs_why_link_t ch[GS_WHY_MAX_CHAIN];
    int n = gs_explain(t, s, at, ch, GS_WHY_MAX_CHAIN);
    ck_assert_int_eq(n, 2);
    ck_assert_int_eq(ch[0].why, GS_WHY_GIL_HELD);
    ck_assert_int_eq(ch[0].other, c);
    ck_assert_int_eq(ch[0].drop_since_ns, req);
    ck_assert_int_eq(ch[0].drop_requester, s);
    ck_assert_int_eq(ch[1].why, GS_WHY_RUNNING);
    ck_assert_int_eq(ch[1].state, GS_ST_C_GIL);
    char *txt = chain_text(t, ch, n, at);
    ck_assert_ptr_nonnull(strstr(txt, "C call that keeps the GIL"));
    ck_assert_ptr_nonnull(strstr(txt, "pending for 3.000 ms"));
    free(txt);
    /* the request stays pending until the call returns and server takes it */
    const gs_lane_t *dr = gs_trace_drop_request_track(t, 0);
    ck_assert_uint_eq(dr->n, 1);
    ck_assert_int_eq(dr->iv[0].start_ns, req);
    ck_assert_int_ge(dr->iv[0].end_ns, US(100) + MS(30));
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* writer-2 waits for the lock writer-1 holds; writer-1 waits for the GIL
 * that hog holds: a chain of three. */
START_TEST(test_chain_lock_owner_waits_for_gil)
{
    gs_model_t *m = tu_model(4, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int lock = gs_model_add_lock(m, "log", false);
    /* writer-1 takes the lock, then a C call without the GIL; writer-2 tries
     * the lock; then hog starts a long C call that keeps the GIL, so writer-1
     * cannot get back into Python to release the lock. */
    int hog = tu_thread(m, "hog", 1, tu_c(MS(40), false));
    int w1 = tu_thread(m, "writer-1", 4, tu_sync(GS_OP_ACQUIRE, lock), tu_c(MS(5), true),
                       tu_cpu(MS(1)), tu_sync(GS_OP_RELEASE, lock));
    int w2 = tu_thread(m, "writer-2", 3, tu_c(MS(1), true), tu_sync(GS_OP_ACQUIRE, lock),
                       tu_sync(GS_OP_RELEASE, lock));
    m->threads[hog].start_at_ns = MS(2);
    gs_trace_t *t = tu_run(m, NULL);
    gs_why_link_t ch[GS_WHY_MAX_CHAIN];
    int n = gs_explain(t, w2, MS(10), ch, GS_WHY_MAX_CHAIN);
    ck_assert_int_eq(n, 3);
    ck_assert_int_eq(ch[0].why, GS_WHY_LOCK_HELD);
    ck_assert_int_eq(ch[0].other, w1);
    ck_assert_int_eq(ch[1].thread, w1);
    ck_assert_int_eq(ch[1].why, GS_WHY_GIL_HELD);
    ck_assert_int_eq(ch[1].other, hog);
    ck_assert_int_eq(ch[2].why, GS_WHY_RUNNING);
    char *txt = chain_text(t, ch, n, MS(10));
    ck_assert_ptr_nonnull(strstr(txt, "lock 'log' is held by writer-1"));
    free(txt);
    gs_blame_t b;
    ck_assert_int_eq(gs_blame_compute(t, w2, &b), 0);
    ck_assert_int_gt(b.lock_by[w1], MS(30)); /* until hog's call ends at 40.5 ms */
    gs_blame_destroy(&b);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* Without a GIL, three CPU-bound threads on one core: the one that is ready
 * is told no core is free, and which thread has it. */
START_TEST(test_chain_no_free_core)
{
    gs_model_t *m = tu_model(1, GS_POLICY_RR, GS_GIL_NONE);
    tu_thread(m, "a", 1, tu_cpu(MS(20)));
    tu_thread(m, "b", 1, tu_cpu(MS(20)));
    gs_trace_t *t = tu_run(m, NULL);
    int64_t at = MS(10);
    const gs_interval_t *core = NULL;
    const gs_lane_t *cl = gs_trace_lane(t, gs_trace_core_lane(t, 0));
    size_t j = gs_lane_find(cl, at);
    ck_assert_uint_lt(j, cl->n);
    core = &cl->iv[j];
    int waiting = core->who == 0 ? 1 : 0;
    gs_why_link_t ch[GS_WHY_MAX_CHAIN];
    ck_assert_int_eq(gs_explain(t, waiting, at, ch, GS_WHY_MAX_CHAIN), 1);
    ck_assert_int_eq(ch[0].why, GS_WHY_NO_CORE);
    char *txt = chain_text(t, ch, 1, at);
    char want[64];
    snprintf(want, sizeof want, "core 0 runs %s", core->who == 0 ? "a" : "b");
    ck_assert_ptr_nonnull(strstr(txt, want));
    ck_assert_ptr_nonnull(strstr(txt, "policy is rr"));
    free(txt);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* Per-core run queues (the default): three CPU-bound threads without a GIL
 * on two cores, b done at 4.2 ms. The thread that the 4 ms tick put in core
 * 0's queue is cache-hot when core 1 goes idle, so it waits for the 8 ms
 * tick beside the idle core: its chain says it waits in a busy core's run
 * queue, not that no core is free. With one shared queue core 1 takes it at
 * once and nobody is ready at 6 ms. */
START_TEST(test_chain_queued_beside_an_idle_core)
{
    const char *text = "{\"machine\": {\"cores\": 2}, \"python\": {\"gil\": \"none\"}, "
                       "\"threads\": [{\"name\": \"a\", \"program\": [{\"cpu\": \"20ms\"}]}, "
                       "{\"name\": \"b\", \"program\": [{\"cpu\": \"4200us\"}]}, "
                       "{\"name\": \"c\", \"program\": [{\"cpu\": \"20ms\"}]}]}";
    const char *shared = "machine.run_queues=shared";
    int64_t at = MS(6);
    for (int pc = 1; pc >= 0; pc--) {
        gs_model_t *m = tu_load("t.json", text, pc ? NULL : &shared, pc ? 0 : 1, NULL);
        gs_trace_t *t = tu_run(m, NULL);
        ck_assert(gs_trace_per_core_queues(t) == (pc == 1));
        int ready = -1;
        for (int th = 0; th < gs_trace_n_threads(t); th++) {
            const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
            size_t j = gs_lane_find(l, at);
            if (j < l->n && l->iv[j].start_ns <= at && l->iv[j].state == GS_ST_READY)
                ready = th;
        }
        if (!pc) {
            ck_assert_int_eq(ready, -1);
        } else {
            ck_assert_int_ge(ready, 0);
            gs_why_link_t ch[GS_WHY_MAX_CHAIN];
            ck_assert_int_eq(gs_explain(t, ready, at, ch, GS_WHY_MAX_CHAIN), 1);
            ck_assert_int_eq(ch[0].why, GS_WHY_NO_CORE);
            char *txt = chain_text(t, ch, 1, at);
            ck_assert_ptr_nonnull(strstr(txt, "waits in a busy core's run queue"));
            ck_assert_ptr_nonnull(strstr(txt, "core 1 is idle or waking up"));
            ck_assert_ptr_null(strstr(txt, "no core is free"));
            free(txt);
        }
        gs_trace_free(t);
        gs_model_free(m);
    }
}
END_TEST

/* Every drop request instant opens a track interval by the same thread, and
 * the track only ever closes when the GIL changes hands or is dropped. */
START_TEST(test_drop_request_track_matches_instants)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    tu_thread(m, "cpu", 1, tu_repeat(40, 2, tu_cpu(MS(2)), tu_c(MS(3), false)));
    tu_thread(m, "server", 1, tu_repeat(20, 2, tu_io(US(100)), tu_cpu(US(50))));
    gs_trace_t *t = tu_run(m, NULL);
    const gs_lane_t *dr = gs_trace_drop_request_track(t, 0);
    const gs_lane_t *gil = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    /* A holder in Python drops in the same instant (an empty interval, not
     * kept); the C calls keep it pending for a while. */
    size_t k = 0, n_inst = 0;
    for (size_t i = 0; i < gs_trace_n_instants(t); i++) {
        const gs_instant_t *in = &gs_trace_instants(t)[i];
        if (in->kind != GS_IN_DROP_REQUEST)
            continue;
        n_inst++;
        if (k < dr->n && dr->iv[k].start_ns == in->t_ns) {
            ck_assert_int_eq(dr->iv[k].who, in->thread);
            /* at its end the GIL is dropped or changes hands */
            size_t g = gs_lane_find(gil, dr->iv[k].end_ns - 1);
            ck_assert(g < gil->n && gil->iv[g].end_ns == dr->iv[k].end_ns);
            k++;
        }
    }
    ck_assert_uint_eq(k, dr->n); /* every pending stretch began with a request */
    ck_assert_uint_ge(k, 1);
    ck_assert_uint_ge(n_inst, k);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

START_TEST(test_state_text_names_holders_and_requests)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    int q = gs_model_add_queue(m, "jobs", 3);
    int lock = gs_model_add_lock(m, "log", false);
    tu_thread(m, "cruncher", 3, tu_sync(GS_OP_ACQUIRE, lock), tu_c(MS(30), false),
              tu_sync(GS_OP_RELEASE, lock));
    tu_thread(m, "producer", 3, tu_io(US(200)), tu_sync(GS_OP_PUT, q), tu_sync(GS_OP_PUT, q));
    gs_trace_t *t = tu_run(m, NULL);
    int64_t at = MS(20);
    char buf[2048];
    size_t need = gs_explain_state_text(t, at, buf, sizeof buf);
    ck_assert_uint_lt(need, sizeof buf);
    ck_assert_ptr_nonnull(strstr(buf, "GIL of main: held by cruncher"));
    ck_assert_ptr_nonnull(strstr(buf, "Drop request: set by producer"));
    ck_assert_ptr_nonnull(strstr(buf, "Lock 'log': held by cruncher"));
    ck_assert_ptr_nonnull(strstr(buf, "Queue 'jobs': 0 of 3 items"));
    ck_assert_int_eq(gs_trace_queue_len_at(t, q, gs_trace_end_ns(t)), 2);
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST


/* ---- recordings ------------------------------------------------------------- */

static gs_trace_t *load_rec(const char *path, gs_model_t **m)
{
    gs_trace_t *t = NULL;
    gs_error_t err;
    int rc = gs_recording_load(path, m, &t, &err);
    ck_assert_msg(rc == 0, "%s: %s (%s)", path, err.msg, err.path);
    gs_error_t chk;
    ck_assert_msg(gs_trace_check(t, &chk) == 0, "%s: %s", path, chk.msg);
    return t;
}

static char *named_chain(const gs_trace_t *t, const char *thread, int64_t at)
{
    int th = gs_trace_find_thread(t, thread);
    ck_assert_int_ge(th, 0);
    gs_why_link_t chain[GS_WHY_MAX_CHAIN];
    int n = gs_explain(t, th, at, chain, GS_WHY_MAX_CHAIN);
    size_t need = gs_explain_text(t, at, chain, n, NULL, 0) + 1;
    char *buf = malloc(need);
    ck_assert_ptr_nonnull(buf);
    gs_explain_text(t, at, chain, n, buf, need);
    return buf;
}

#define HAS(txt, what) ck_assert_msg(strstr(txt, what) != NULL, "no '%s' in:\n%s", what, txt)

/* tests/data/drop_request.rec.json, written by hand: io's timed wait runs
 * out at 6 ms while cpu is in list.sort, a C call that keeps the GIL, until
 * 12 ms; a second request at 11 ms changes nothing; at 17.5 ms io asks again
 * and cpu's last release leaves it to io's take at 18 ms to reset it. A
 * recording knows no cores and no lock names: the text says so. */
START_TEST(test_recording_fills_drop_request_facts)
{
    char path[1024];
    tu_source_path("tests/data/drop_request.rec.json", path, sizeof path);
    gs_model_t *m = NULL;
    gs_trace_t *t = load_rec(path, &m);
    ck_assert_uint_eq(gs_trace_facts(t), GS_FACT_DROP_REQUEST);
    const gs_lane_t *dr = gs_trace_drop_request_track(t, 0);
    int io = gs_trace_find_thread(t, "io"), cpu = gs_trace_find_thread(t, "cpu");
    ck_assert_uint_eq(dr->n, 2);
    ck_assert_int_eq(dr->iv[0].start_ns, MS(6));
    ck_assert_int_eq(dr->iv[0].end_ns, MS(12)); /* cpu's forced drop resets it */
    ck_assert_int_eq(dr->iv[0].who, io);
    ck_assert_int_eq(dr->iv[1].start_ns, MS(17.5));
    ck_assert_int_eq(dr->iv[1].end_ns, MS(18)); /* io's take resets it, not cpu's exit */
    for (size_t i = 0; i < gs_trace_n_instants(t); i++) { /* a request names the holder */
        const gs_instant_t *in = &gs_trace_instants(t)[i];
        if (in->kind == GS_IN_DROP_REQUEST)
            ck_assert_int_eq(in->arg, cpu);
    }
    char *c = named_chain(t, "io", MS(8));
    HAS(c, "io is waiting for the GIL for 7.000 ms");
    HAS(c, "the GIL is held by cpu");
    HAS(c, "Drop request set by io at 6.000 ms, pending for 2.000 ms");
    HAS(c, "cpu is in a C call that keeps the GIL: no eval-breaker check");
    HAS(c, "-> cpu is running C that keeps the GIL (since 4.000 ms; on which core is not recorded)");
    free(c);
    c = named_chain(t, "io", MS(15)); /* asked at 12.5 ms, no request yet */
    HAS(c, "No drop request pending");
    free(c);
    c = named_chain(t, "locker", MS(5));
    HAS(c, "which lock, and who holds it, is not recorded");
    free(c);
    c = named_chain(t, "MainThread", MS(10));
    HAS(c, "it waits for a thread to end (which one is not recorded)");
    free(c);
    char buf[2048];
    ck_assert_uint_lt(gs_explain_state_text(t, MS(8), buf, sizeof buf), sizeof buf);
    HAS(buf, "GIL of python: held by cpu since 500.000 us; 1 waiting for it.");
    HAS(buf, "Drop request: set by io at 6.000 ms, pending for 2.000 ms.");
    HAS(buf, "Ready queue (waiting for a core): not recorded");
    HAS(buf, "who holds a lock, are not recorded");
    gs_trace_free(t);
    gs_model_free(m);
}
END_TEST

/* Writes what a recorder would have seen of a simulated run: per thread its
 * start, GIL requests, takes, releases (forced when the engine forced it,
 * exit at the thread's end) and drop requests. */
static void write_as_recording(const gs_trace_t *t, const char *path)
{
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f, "{\"format\": \"gilsim-recording\", \"version\": 1, \"calls\": \"all\", "
               "\"duration_ns\": %lld, \"threads\": [", (long long)gs_trace_end_ns(t));
    const gs_lane_t *gil = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    for (int th = 0; th < gs_trace_n_threads(t); th++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
        fprintf(f, "%s{\"name\": \"%s\", \"events\": [", th ? ", " : "", l->name);
        const char *sep = "";
        if (l->n)
            fprintf(f, "[%lld, \"start\"]", (long long)l->iv[0].start_ns), sep = ", ";
        for (size_t i = 0; i < l->n; i++)
            if (l->iv[i].state == GS_ST_WAIT_GIL)
                fprintf(f, "%s[%lld, \"ask\"]", sep, (long long)l->iv[i].start_ns), sep = ", ";
        for (size_t i = 0; i < gil->n; i++) {
            const gs_interval_t *g = &gil->iv[i];
            if (g->who != th)
                continue;
            bool forced = false;
            for (size_t k = 0; k < gs_trace_n_instants(t); k++) {
                const gs_instant_t *in = &gs_trace_instants(t)[k];
                forced |= in->kind == GS_IN_FORCED_SWITCH && in->thread == th &&
                          in->t_ns == g->end_ns;
            }
            bool last = l->n && g->end_ns >= l->iv[l->n - 1].end_ns;
            fprintf(f, "%s[%lld, \"hold\"], [%lld, \"release\", \"%s\"]", sep,
                    (long long)g->start_ns, (long long)g->end_ns,
                    forced ? "forced" : last ? "exit" : "call");
            sep = ", ";
        }
        for (size_t k = 0; k < gs_trace_n_instants(t); k++) {
            const gs_instant_t *in = &gs_trace_instants(t)[k];
            if (in->kind == GS_IN_DROP_REQUEST && in->thread == th)
                fprintf(f, "%s[%lld, \"drop_request\"]", sep, (long long)in->t_ns), sep = ", ";
        }
        fprintf(f, "]}");
    }
    fprintf(f, "]}\n");
    ck_assert_int_eq(fclose(f), 0);
}

/* A recording of a run gets the run's drop-request facts: the same pending
 * stretches, set by the same threads, for every cpython3 lesson with one
 * process (the property behind "the same answer where it has the data"). */
START_TEST(test_recording_of_a_run_has_the_runs_drop_requests)
{
    char names[64][TU_NAME_MAX], rec[64];
    snprintf(rec, sizeof rec, "/tmp/gilsim-check-explain-%d.json", (int)getpid());
    int n_files = tu_list_lessons(names, 64);
    int compared = 0, with_requests = 0;
    for (int f = 0; f < n_files; f++) {
        const char *name = names[f];
        gs_model_t *m = tu_load_lesson(name, NULL, 0);
        if (m->n_processes != 1 || m->processes[0].python.gil != GS_GIL_CPYTHON3) {
            gs_model_free(m);
            continue;
        }
        int rc;
        gs_trace_t *t = tu_run(m, &rc);
        write_as_recording(t, rec);
        gs_model_t *rm = NULL;
        gs_trace_t *rt = load_rec(rec, &rm);
        const gs_lane_t *a = gs_trace_drop_request_track(t, 0), *b = gs_trace_drop_request_track(rt, 0);
        ck_assert_msg(a->n == b->n, "%s: %zu pending stretches in the run, %zu in its recording",
                      name, a->n, b->n);
        for (size_t i = 0; i < a->n; i++)
            ck_assert_msg(a->iv[i].start_ns == b->iv[i].start_ns && a->iv[i].end_ns == b->iv[i].end_ns &&
                              a->iv[i].who == b->iv[i].who,
                          "%s: stretch %zu: run [%lld, %lld) by %d, recording [%lld, %lld) by %d",
                          name, i, (long long)a->iv[i].start_ns, (long long)a->iv[i].end_ns,
                          a->iv[i].who, (long long)b->iv[i].start_ns, (long long)b->iv[i].end_ns,
                          b->iv[i].who);
        for (size_t i = 0; i < gs_trace_n_instants(t); i++) { /* requests name the holder */
            const gs_instant_t *x = &gs_trace_instants(t)[i];
            bool same = x->kind != GS_IN_DROP_REQUEST;
            for (size_t k = 0; k < gs_trace_n_instants(rt) && !same; k++) {
                const gs_instant_t *y = &gs_trace_instants(rt)[k];
                same = y->kind == x->kind && y->t_ns == x->t_ns && y->thread == x->thread &&
                       y->arg == x->arg;
            }
            ck_assert_msg(same, "%s: the request at %lld names another holder", name,
                          (long long)x->t_ns);
        }
        compared++;
        with_requests += a->n > 0;
        gs_trace_free(rt);
        gs_model_free(rm);
        gs_trace_free(t);
        gs_model_free(m);
    }
    remove(rec);
    ck_assert_int_ge(compared, 8);
    ck_assert_int_ge(with_requests, 4);
}
END_TEST

/* ---- exercises ---------------------------------------------------------------- */

/* For every topic and seed: the same seed gives the same variant; its
 * settings load on its lesson and run; the answer, formatted as shown, reads
 * back as a guess to within the shown digits and scores as exact. */
START_TEST(test_exercise_variants_are_seeded_and_answers_read_back)
{
    ck_assert_int_ge(gs_exercise_n_topics(), 5);
    ck_assert_int_eq(gs_exercise_make("nope", 1, &(gs_exercise_t){0}), GS_EINVAL);
    for (int i = 0; i < gs_exercise_n_topics(); i++) {
        int variants = 0;
        char first[2][160] = {"", ""};
        for (uint64_t seed = 1; seed <= 6; seed++) {
            gs_exercise_t a, b;
            ck_assert_int_eq(gs_exercise_make(gs_exercise_topic(i), seed, &a), 0);
            ck_assert_int_eq(gs_exercise_make(gs_exercise_topic(i), seed, &b), 0);
            ck_assert_str_eq(a.set[0], b.set[0]);
            ck_assert_str_eq(a.set[1], b.set[1]);
            if (seed == 1)
                memcpy(first, a.set, sizeof first);
            else
                variants += strcmp(first[0], a.set[0]) || strcmp(first[1], a.set[1]);
            const char *sets[2] = {a.set[0], a.set[1]};
            gs_model_t *m = tu_load_lesson(a.lesson, sets, 2);
            m->seed = seed;
            tu_result_t r;
            tu_run_stats(&r, m, a.lesson);
            int64_t at;
            int th;
            double v = gs_exercise_answer(&a, r.t, &r.s, &at, &th);
            ck_assert(v > 0);
            ck_assert_int_ge(at, 0);
            ck_assert_int_le(at, gs_trace_end_ns(r.t));
            ck_assert_int_eq(th >= 0, a.thread != NULL);
            char shown[32], score[64];
            double back;
            gs_exercise_format(&a, v, shown, sizeof shown);
            ck_assert_msg(gs_exercise_read_guess(&a, shown, &back), "%s", shown);
            gs_exercise_score(back, v, score, sizeof score);
            ck_assert_msg(strcmp(score, "exact") == 0, "%s: %s reads back %g for %g (%s)",
                          a.topic, shown, back, v, score);
            tu_result_free(&r);
        }
        ck_assert_int_ge(variants, 1); /* the seed varies the exercise */
    }
}
END_TEST

static Suite *explain_suite(void)
{
    Suite *s = suite_create("explain");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_blame_sums_to_not_running_time_in_every_lesson);
    tcase_add_test(tc, test_blame_sums_in_random_models);
    tcase_add_test(tc, test_chain_c_call_ignores_drop_request);
    tcase_add_test(tc, test_chain_lock_owner_waits_for_gil);
    tcase_add_test(tc, test_chain_no_free_core);
    tcase_add_test(tc, test_chain_queued_beside_an_idle_core);
    tcase_add_test(tc, test_drop_request_track_matches_instants);
    tcase_add_test(tc, test_state_text_names_holders_and_requests);
    tcase_add_test(tc, test_recording_fills_drop_request_facts);
    tcase_add_test(tc, test_recording_of_a_run_has_the_runs_drop_requests);
    tcase_add_test(tc, test_exercise_variants_are_seeded_and_answers_read_back);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(explain_suite());
}
