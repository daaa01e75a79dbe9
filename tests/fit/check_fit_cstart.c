/* check_fit_cstart.c - where an inferred C call keeping the GIL begins
 * (cstart.c, fit_inferred_c_start).
 *
 * Hand-made recordings of examples/c_call_ticker.py's shape: MainThread
 * holds the GIL from HS and runs one long C call that keeps it (a sort)
 * until REL; a waiter asks at some time, and its timed wait runs out one
 * interval later in a drop request that MainThread leaves unanswered. The
 * recording (without --calls all) names no call: the fit infers one.
 *
 *  - core: the inferred call begins where the requester's timed wait
 *    began (its ask, or its last timeout), not before the hold nor
 *    before a span MainThread recorded in it; the rest is Python.
 *  - props: replayed at 1, 2 and 5 ms, for asks before and after the
 *    hold, the waiter gets the GIL once, when the call returns: one
 *    switch, as the real sort makes at any interval (the quiet recordings
 *    of 2026-12-07 21:10: 10 switches at 1, 5 and 20 ms alike). Taking the
 *    call from the request made the Python before it one interval long,
 *    which a shorter interval cut with forced switches. */
#include "fitutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define HS 1000000LL   /* MainThread takes the GIL */
#define REL 60000000LL /* and releases it when the C call returns */
#define WAIT 5100000LL /* one 5 ms timed wait and the timer's slack */

typedef tu_text_t evbuf_t;
#define ev(b, ...) tu_text_add((b), ", ", __VA_ARGS__)

/* Writes the recording to path (a mkstemp template): the waiter asks at
 * ask; with timeout_at > 0 its first wait times out there (the GIL changed
 * hands) and the requests follow from it; span_end > 0 puts a call that
 * kept the GIL, HS + 100 us .. span_end, in MainThread's hold. */
static void write_recording(char *path, long long ask, long long timeout_at, long long span_end)
{
    static evbuf_t m, w;
    m.n = w.n = 0;
    ev(&m, "[0, \"start\"], [0, \"ask\"], [%lld, \"hold\"]", HS);
    if (span_end > 0)
        ev(&m, "[%lld, \"call\", %lld, \"dict.get\", \"c\", false]", HS + 100000, span_end);
    ev(&m, "[%lld, \"release\", \"forced\"], [%lld, \"ask\"], [%lld, \"hold\"]", REL, REL + 90000,
       REL + 100000);
    ev(&m, "[%lld, \"release\", \"exit\"], [%lld, \"end\"]", REL + 300000, REL + 300000);
    ev(&w, "[%lld, \"start\"], [%lld, \"ask\"]", ask, ask);
    long long q = (timeout_at > 0 ? timeout_at : ask) + WAIT;
    if (timeout_at > 0)
        ev(&w, "[%lld, \"timeout\"]", timeout_at);
    for (; q < REL; q += WAIT)
        ev(&w, "[%lld, \"drop_request\"]", q);
    ev(&w, "[%lld, \"hold\"], [%lld, \"release\", \"exit\"], [%lld, \"end\"]", REL + 2000,
       REL + 52000, REL + 52000);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
            " \"command\": [\"python3\", \"c_call_ticker.py\"], \"interpreter\": {\"version\": "
            "[3, 11, 0]},\n \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2},\n"
            " \"duration_ns\": %lld,\n \"threads\": [\n"
            "  {\"name\": \"MainThread\", \"events\": [%s]},\n"
            "  {\"name\": \"waiter\", \"events\": [%s]}\n]}\n",
            REL + 400000, m.s, w.s);
    ck_assert_int_eq(fclose(f), 0);
}

static char *fit_text(const char *path)
{
    gs_fit_opts_t o = {.no_load = true, .raw_cpu = true};
    return fu_fit(path, o);
}

static int64_t ns_of(const cJSON *v)
{
    int64_t ns = -1;
    char why[128];
    ck_assert_msg(cJSON_IsString(v) && gs_parse_ns(v->valuestring, &ns, why, sizeof why) == 0,
                  "a fixed duration");
    return ns;
}

/* MainThread's C calls keeping the GIL: how many, their sum, and the
 * Python before the first. */
static void c_keeps(const char *json, int *n, int64_t *sum, int64_t *before)
{
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    *n = 0, *sum = 0, *before = 0;
    const cJSON *op;
    cJSON_ArrayForEach(op, fu_program(root, "MainThread"))
    {
        const cJSON *c = cJSON_GetObjectItem(op, "c_call");
        if (c && cJSON_IsFalse(cJSON_GetObjectItem(op, "releases_gil"))) {
            *sum += ns_of(c);
            ++*n;
        } else if (!*n && cJSON_GetObjectItem(op, "cpu")) {
            *before += ns_of(cJSON_GetObjectItem(op, "cpu"));
        }
    }
    cJSON_Delete(root);
}

/* The fitted scenario with python.switch_interval set to iv (owned). */
static char *at_interval(const char *json, const char *iv)
{
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    cJSON *py = cJSON_GetObjectItem(root, "python");
    ck_assert_ptr_nonnull(py);
    cJSON_ReplaceItemInObject(py, "switch_interval", cJSON_CreateString(iv));
    char *out = cJSON_PrintUnformatted(root);
    cJSON_Delete(root);
    return out;
}

/* ---- core ----------------------------------------------------------------- */

START_TEST(test_cstart_begins_at_the_requesters_wait)
{
    /* the waiter's ask; where its timed wait that set the request began;
     * a span MainThread recorded in the hold (0: none) */
    static const struct {
        long long ask, timeout_at, span_end, c_from;
    } cases[] = {
        {HS + 500000, 0, 0, HS + 500000},             /* asked after the hold began */
        {HS + 3000000, 0, 0, HS + 3000000},           /* later: 3 ms of Python stay */
        {HS - 400000, 0, 0, HS},                      /* asked before: not before the hold */
        {HS - 400000, HS + 2000000, 0, HS + 2000000}, /* a timeout began the wait */
        {HS + 500000, 0, HS + 1500000, HS + 1500000}, /* after MainThread's own span */
        {HS + 500000, 0, HS + 200000, HS + 500000},   /* a span before the ask */
    };
    for (size_t k = 0; k < sizeof cases / sizeof cases[0]; k++) {
        char path[] = "/tmp/check_fit_cstart_XXXXXX";
        write_recording(path, cases[k].ask, cases[k].timeout_at, cases[k].span_end);
        char *json = fit_text(path);
        int n;
        int64_t sum, before;
        c_keeps(json, &n, &sum, &before);
        int named = cases[k].span_end > 0; /* the recorded span is a C call too */
        ck_assert_msg(n == 1 + named, "case %zu: %d C calls keeping the GIL", k, n);
        int64_t span = named ? cases[k].span_end - (HS + 100000) : 0;
        ck_assert_msg(sum - span == REL - cases[k].c_from,
                      "case %zu: the inferred call is %lld ns, wanted %lld from %lld", k,
                      (long long)(sum - span), REL - cases[k].c_from, cases[k].c_from);
        if (!named)
            ck_assert_int_eq(before, cases[k].c_from - HS); /* the rest is Python */
        free(json);
        unlink(path);
    }
}
END_TEST

/* ---- props ---------------------------------------------------------------- */

START_TEST(test_cstart_shorter_interval_adds_no_forced_switch)
{
    static const long long asks[] = {HS - 400000, HS + 100000, HS + 500000, HS + 2000000};
    static const char *ivs[] = {"1ms", "2ms", "5ms"};
    for (size_t a = 0; a < sizeof asks / sizeof asks[0]; a++) {
        char path[] = "/tmp/check_fit_cstart_XXXXXX";
        write_recording(path, asks[a], 0, 0);
        char *json = fit_text(path);
        for (size_t v = 0; v < sizeof ivs / sizeof ivs[0]; v++) {
            char *s = at_interval(json, ivs[v]);
            fu_replay_t r;
            fu_replay(s, &r);
            /* the waiter takes the GIL once, when the call returns (not cut
             * out of Python fitted before it), and MainThread once more to
             * end: two changes of holder, and the waiter waited it out */
            ck_assert_msg(r.stats.gil_switches == 2,
                          "ask at %lld ns, %s: %lld GIL switches, wanted 2 (the waiter once, "
                          "after the C call)",
                          asks[a], ivs[v], (long long)r.stats.gil_switches);
            const gs_thread_stats_t *w = fu_thread(&r, "waiter");
            ck_assert_msg(w->gil_ask_to_hold_ns >= REL - HS - 3000000,
                          "ask at %lld ns, %s: the waiter held the GIL %lld ns after it asked, "
                          "before the C call returned",
                          asks[a], ivs[v], (long long)w->gil_ask_to_hold_ns);
            fu_replay_free(&r);
            free(s);
        }
        free(json);
        unlink(path);
    }
}
END_TEST

static Suite *fit_cstart_suite(void)
{
    Suite *s = suite_create("fit_cstart");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_cstart_begins_at_the_requesters_wait);
    suite_add_tcase(s, core);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 60);
    tcase_add_test(props, test_cstart_shorter_interval_adds_no_forced_switch);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(fit_cstart_suite());
}
