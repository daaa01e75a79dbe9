/* check_explain.c - the causal chain and the blame totals, as properties.
 *
 * Blame: for every thread of every lesson and of seeded random models, the
 * totals add up exactly to the time it was not running, computed another way
 * (its life minus its CPU time, from gs_stats), and agree with the metrics'
 * own GIL-wait, core-wait and I/O figures. Chains: small models where the
 * answer is known from the mechanism (a C call that keeps the GIL ignores the
 * drop request; a lock owner waiting for the GIL; no free core). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "testutil.h"

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
    const char *src = getenv("GILSIM_SOURCE_DIR");
    ck_assert_ptr_nonnull(src);
    char dir[1024];
    snprintf(dir, sizeof dir, "%s/scenarios", src);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int n_files = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        size_t len = strlen(e->d_name);
        if (len < 6 || strcmp(e->d_name + len - 5, ".json") != 0)
            continue;
        char path[2048];
        snprintf(path, sizeof path, "%s/%s", dir, e->d_name);
        gs_model_t *m = NULL;
        gs_diag_t diag;
        memset(&diag, 0, sizeof diag);
        ck_assert_int_eq(gs_scenario_load_file(path, NULL, 0, &m, &diag), 0);
        for (uint64_t seed = 1; seed <= 3; seed++) {
            m->seed = seed;
            int rc;
            gs_trace_t *t = tu_run(m, &rc);
            check_blame(t, e->d_name);
            gs_trace_free(t);
        }
        gs_model_free(m);
        n_files++;
    }
    closedir(d);
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
    tcase_add_test(tc, test_drop_request_track_matches_instants);
    tcase_add_test(tc, test_state_text_names_holders_and_requests);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(explain_suite());
}
