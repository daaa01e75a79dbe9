/* check_fit_race.c - the race between a drop request and the drop, read off
 * the recording (sim/fit/race.c: machine.requester_first).
 *
 * The recordings are hand-made: three CPU-bound threads at a 5 ms switch
 * interval on two cores, the holder dropping on request every 5 ms with the
 * two others waiting; the requester (the waiter that asked first) takes the
 * GIL after k of the n forced drops, the other waiter after the rest. The
 * fit must write a requester_first that falls as k grows (a requester that
 * is asleep more often loses more), whose replay, at seeds the fit did not
 * use, gives the requester k/n of its drops within RACE_BAND; a recording
 * with fewer than 20 such drops keeps the engine's default and says so; out
 * of memory is the fit's error, never a default said to be for want of
 * drops. */
#include "alloc_fail.h"
#include "fitutil.h"

#include <cjson/cJSON.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define INTERVAL 5000000LL /* the switch interval */
#define N_W 3              /* CPU-bound threads */
#define RACE_BAND 0.12     /* the replay's requester share this close to k/n */

typedef tu_text_t evbuf_t;
#define ev(b, ...) tu_text_add((b), ", ", __VA_ARGS__)

/* Cycle c of n is one the requester wins, k of them spread evenly. */
static bool requester_wins(int c, int n, int k)
{
    return (long long)(c + 1) * k / n != (long long)c * k / n;
}

/* What a hand-made recording has beside the race. */
typedef struct rec_opts {
    long long t0;   /* the workers' start */
    int cores;      /* host.cores */
    long long tick; /* > 0: a thread "ticker" sleeps in calls of this length
                       back to back from 0 (it runs at each end): the
                       requesters' CPUs idle at most that long */
} rec_opts_t;

/* The request of cycle c and the hold before it (see write_recording_o). */
static long long hold_of(const rec_opts_t *o, int c)
{
    return o->t0 + 100 + (long long)c * (INTERVAL + 20000);
}

/* Writes the recording of n forced drops, k won by the requester, to path
 * (a mkstemp template). */
static void write_recording_o(char *path, int n, int k, const rec_opts_t *ro)
{
    static evbuf_t w[N_W], tk;
    long long t0 = ro->t0;
    int waiting[N_W], n_wait = 0, h = 0;
    long long t = t0;
    for (int i = 0; i < N_W; i++) {
        w[i].n = 0;
        ev(&w[i], "[%lld, \"start\"], [%lld, \"ask\"]", t + 1000 * i, t + 1000 * i);
        if (i)
            waiting[n_wait++] = i;
    }
    long long hs = hold_of(ro, 0); /* the holder's hold */
    ev(&w[h], "[%lld, \"hold\"]", hs);
    for (int c = 0; c < n; c++) {
        long long req = hs + INTERVAL;
        int r = waiting[0], o = waiting[1], next = requester_wins(c, n, k) ? r : o;
        ev(&w[r], "[%lld, \"drop_request\"]", req);
        ev(&w[h], "[%lld, \"release\", \"forced\"]", req + 5000);
        ev(&w[next], "[%lld, \"hold\"]", req + 20000);
        ev(&w[h], "[%lld, \"ask\"]", req + 25000);
        /* the waiter that did not take it stays first in line */
        waiting[0] = next == r ? o : r;
        waiting[1] = h;
        h = next;
        hs = req + 20000;
        ck_assert_int_eq(hs, hold_of(ro, c + 1));
    }
    long long end = hs + INTERVAL;
    ev(&w[h], "[%lld, \"release\", \"exit\"], [%lld, \"end\"]", end, end);
    for (int j = 0; j < 2; j++) { /* the two waiters in turn, to their exits */
        ev(&w[waiting[j]], "[%lld, \"hold\"], [%lld, \"release\", \"exit\"], [%lld, \"end\"]",
           end + 10000, end + 1000000, end + 1000000);
        end += 1000000;
    }
    tk.n = 0;
    ev(&tk, "[0, \"start\"]");
    for (long long a = 0; ro->tick > 0 && a + ro->tick <= end; a += ro->tick)
        ev(&tk, "[%lld, \"call\", %lld, \"time.sleep\", \"sleep\"]", a, a + ro->tick);
    ev(&tk, "[%lld, \"end\"]", end);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(
        f,
        "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
        " \"command\": [\"python3\", \"race.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
        " \"switch_interval_ns\": %lld, \"host\": {\"cores\": %d}, \"duration_ns\": %lld,\n"
        " \"threads\": [\n"
        "  {\"name\": \"MainThread\", \"events\": [[0, \"start\"], [0, \"ask\"], [0, \"hold\"], "
        "[1000, \"release\", \"exit\"], [1000, \"end\"]]}",
        INTERVAL, ro->cores, end);
    for (int i = 0; i < N_W; i++)
        fprintf(f, ",\n  {\"name\": \"w%d\", \"events\": [%s]}", i, w[i].s);
    if (ro->tick > 0)
        fprintf(f, ",\n  {\"name\": \"ticker\", \"events\": [%s]}", tk.s);
    fprintf(f, "\n]}\n");
    fclose(f);
}

static void write_recording_at(char *path, int n, int k, long long t0)
{
    write_recording_o(path, n, k, &(rec_opts_t){.t0 = t0, .cores = 2});
}

static void write_recording(char *path, int n, int k)
{
    write_recording_at(path, n, k, 10000);
}

static char *fit_text_o(const char *path, const gs_fit_opts_t *o)
{
    return fu_fit(path, o ? *o : (gs_fit_opts_t){0});
}

static char *fit_text(const char *path)
{
    return fit_text_o(path, NULL);
}

/* machine.requester_first as written, or -1 when the key is not. */
static double written_rf(const char *json)
{
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    const cJSON *rf = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "machine"), "requester_first");
    double v = cJSON_IsNumber(rf) ? rf->valuedouble : -1;
    cJSON_Delete(root);
    return v;
}

/* In a replay: is thread i waiting for the GIL at t (in its wait, or woken
 * and waiting for a core)? The workers do nothing else. */
static bool waits_at(const gs_trace_t *tr, int i, int64_t t)
{
    const gs_lane_t *l = gs_trace_lane(tr, gs_trace_thread_lane(tr, i));
    size_t k = gs_lane_find(l, t);
    if (k >= l->n || l->iv[k].start_ns > t)
        return false;
    return l->iv[k].state == GS_ST_WAIT_GIL ||
           (l->iv[k].state == GS_ST_READY && !(l->iv[k].flags & GS_IV_HOLDS_GIL));
}

/* The GIL's holder after t other than `not`, from the GIL lane; -1 none. */
static int next_holder(const gs_trace_t *tr, int64_t t, int not )
{
    const gs_lane_t *g = gs_trace_lane(tr, gs_trace_gil_lane(tr, 0));
    for (size_t k = gs_lane_find(g, t); k < g->n; k++)
        if (g->iv[k].who != not )
            return g->iv[k].who;
    return -1;
}

/* Counted the way the recording's are, from the replay's instants and lanes:
 * forced drops with two or more waiters, the requester among them; those
 * the requester took. */
static void replay_share(const gs_trace_t *tr, long long *drops, long long *won)
{
    const gs_instant_t *in = gs_trace_instants(tr);
    int requester = -1;
    for (size_t k = 0; k < gs_trace_n_instants(tr); k++) {
        if (in[k].kind == GS_IN_DROP_REQUEST && requester < 0)
            requester = in[k].thread;
        if (in[k].kind != GS_IN_FORCED_SWITCH)
            continue;
        /* who waited just before: a holder-first race hands the GIL over
           at the drop's own instant */
        int h = in[k].thread, n = 0;
        int64_t before = in[k].t_ns - 1;
        for (int i = 0; i < gs_trace_n_threads(tr); i++)
            n += i != h && waits_at(tr, i, before);
        if (n >= 2 && requester >= 0 && requester != h && waits_at(tr, requester, before)) {
            (*drops)++;
            *won += next_holder(tr, in[k].t_ns, h) == requester;
        }
        requester = -1;
    }
}

/* The replay's requester share at seeds the fit does not run (it runs 1
 * and 2), pooled over four. */
static double replayed(const char *json, long long *n_drops)
{
    gs_model_t *m = NULL;
    gs_diag_t d;
    memset(&d, 0, sizeof d);
    ck_assert_int_eq(gs_scenario_load_string("fitted", json, strlen(json), NULL, 0, &m, &d), 0);
    long long drops = 0, won = 0;
    for (uint64_t s = 11; s <= 14; s++) {
        m->seed = s;
        int rc = -1;
        gs_trace_t *t = tu_run(m, &rc);
        ck_assert_int_eq(rc, 0);
        replay_share(t, &drops, &won);
        gs_trace_free(t);
    }
    gs_model_free(m);
    ck_assert_int_gt(drops, 0);
    *n_drops = drops;
    return (double)won / (double)drops;
}

/* The requester took 6, 30 and 48 of 60 drops: the fitted requester_first
 * falls as k grows, and each replay gives the requester k/n within
 * RACE_BAND; the description says what it was read off. */
START_TEST(test_fit_race_follows_the_requesters_wins)
{
    static const int ks[] = {6, 30, 48};
    const int n = 60;
    double prev = 2;
    for (size_t c = 0; c < sizeof ks / sizeof ks[0]; c++) {
        char path[] = "/tmp/check_fit_race_XXXXXX";
        write_recording(path, n, ks[c]);
        char *json = fit_text(path);
        double rf = written_rf(json);
        ck_assert_msg(rf >= 0 && rf <= 1, "k=%d: requester_first %.2f written", ks[c], rf);
        ck_assert_msg(rf < prev - 0.15, "k=%d: requester_first %.2f, not below %.2f", ks[c], rf,
                      prev);
        prev = rf;
        long long drops;
        double got = replayed(json, &drops), want = (double)ks[c] / n;
        ck_assert_msg(fabs(got - want) <= RACE_BAND,
                      "k=%d: the replay at %.2f gives the requester %.2f of %lld drops, not "
                      "%.2f +- %.2f",
                      ks[c], rf, got, drops, want, RACE_BAND);
        char said[96];
        snprintf(said, sizeof said, "read off the %d forced drops", n);
        ck_assert_msg(strstr(json, said) != NULL, "the description says %s", said);
        char *again = fit_text(path); /* deterministic */
        ck_assert_str_eq(json, again);
        free(again);
        free(json);
        unlink(path);
    }
}
END_TEST

/* 12 forced drops are too few: no requester_first (the engine's 0.5), and
 * the description says why. */
START_TEST(test_fit_race_keeps_the_default_with_few_drops)
{
    char path[] = "/tmp/check_fit_race_XXXXXX";
    write_recording(path, 12, 2);
    char *json = fit_text(path);
    ck_assert_msg(written_rf(json) < 0, "no requester_first with 12 drops");
    ck_assert_msg(strstr(json, "the recording has 12 forced drops") != NULL &&
                      strstr(json, "fewer than 20") != NULL,
                  "the description says why: %.400s", json);
    free(json);
    unlink(path);
}
END_TEST

/* A recording of more than RACE_WANT (200) such drops is replayed only as
 * far as its 200th: to the instant it held, not to the same share of its
 * duration. The workers start 3 s in (a long start-up), 300 drops follow:
 * 200 of 300 of the duration would end the replays at 3.0 s, before the
 * first drop, and the fit would keep the default for want of drops. */
START_TEST(test_fit_race_reads_a_late_contention)
{
    char path[] = "/tmp/check_fit_race_XXXXXX";
    write_recording_at(path, 300, 90, 3000000000LL);
    char *json = fit_text(path);
    double rf = written_rf(json);
    ck_assert_msg(rf >= 0, "no requester_first for 300 drops after a 3 s start: %.600s",
                  strstr(json, "The race") ? strstr(json, "The race") : json);
    ck_assert_msg(rf > 0.5, "the requester took 30%%: requester_first %.2f", rf);
    free(json);
    unlink(path);
}
END_TEST

/* The median depth the fit should read (racecurve.c's rule, by hand):
 * each request's time since a thread other than the holder last ran: the
 * last holder's ask 5 us after its drop, the first waiters' asks, the
 * ticker's call ends. */
static long long want_depth(const rec_opts_t *o, int n)
{
    long long d[400];
    ck_assert_int_le(n, 400);
    for (int c = 0; c < n; c++) {
        long long req = hold_of(o, c) + INTERVAL;
        long long ran = c ? hold_of(o, c) + 5000 : o->t0 + 1000 * (N_W - 1);
        if (o->tick > 0 && req / o->tick * o->tick > ran)
            ran = req / o->tick * o->tick;
        d[c] = o->cores <= 1 ? 0 : req - ran;
    }
    for (int i = 1; i < n; i++) /* insertion sort: n is small */
        for (int j = i; j > 0 && d[j - 1] > d[j]; j--) {
            long long x = d[j];
            d[j] = d[j - 1];
            d[j - 1] = x;
        }
    return n % 2 ? d[n / 2] : (d[n / 2 - 1] + d[n / 2]) / 2;
}

/* The requesters' depth is read off the recording, not off the interval:
 * 5 ms less the 5 us since the last holder's ask; a thread running every
 * 1 ms beside them cuts it below 1 ms; one CPU (the holder's): 0. */
START_TEST(test_fit_race_reads_the_requesters_idle_depth)
{
    static const rec_opts_t cases[] = {{.t0 = 10000, .cores = 2},
                                       {.t0 = 10000, .cores = 2, .tick = 1000000},
                                       {.t0 = 10000, .cores = 2, .tick = 700000},
                                       {.t0 = 10000, .cores = 1}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char path[] = "/tmp/check_fit_race_XXXXXX";
        write_recording_o(path, 60, 30, &cases[c]);
        char *json = fit_text(path);
        long long want = want_depth(&cases[c], 60);
        ck_assert(want >= 0 && want <= INTERVAL);
        ck_assert(cases[c].tick == 0 || want < cases[c].tick);
        char d[32], said[96];
        snprintf(said, sizeof said, "had idled %s at those drops", gs_format_ns(want, d, sizeof d));
        ck_assert_msg(written_rf(json) >= 0, "case %zu: a race is fitted", c);
        ck_assert_msg(strstr(json, said) != NULL, "case %zu: the description says '%s': %.900s", c,
                      said, strstr(json, "The race") ? strstr(json, "The race") : json);
        free(json);
        unlink(path);
    }
}
END_TEST

/* machine.requester_first_idle as written: its points in *x (ns) and *y,
 * their number returned (0: the key is not written). */
static int written_curve(const char *json, long long *x, double *y)
{
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    const cJSON *c =
        cJSON_GetObjectItem(cJSON_GetObjectItem(root, "machine"), "requester_first_idle");
    int n = 0;
    for (const cJSON *p = c ? c->child : NULL; p; p = p->next, n++) {
        int64_t ns;
        ck_assert(gs_parse_ns(cJSON_GetArrayItem(p, 0)->valuestring, &ns, NULL, 0) == 0);
        x[n] = ns;
        y[n] = cJSON_GetArrayItem(p, 1)->valuedouble;
    }
    cJSON_Delete(root);
    return n;
}

/* A curve read as the engine reads it: linear between points, flat beyond. */
static double curve_at(int n, const long long *x, const double *y, long long at)
{
    if (at <= x[0])
        return y[0];
    for (int k = 1; k < n; k++)
        if (at <= x[k])
            return y[k - 1] +
                   (y[k] - y[k - 1]) * (double)(at - x[k - 1]) / (double)(x[k] - x[k - 1]);
    return y[n - 1];
}

/* With a shape, the fitted race becomes a curve that passes through the
 * level fitted at the requesters' depth and keeps the shape's proportions
 * (each point within a hundredth's rounding), at most 1, and whose replay
 * (seeds the fit did not run) gives the requester its recorded share; the
 * same bytes twice. Without one, requester_first alone, and the
 * description says a what-if keeps it. */
START_TEST(test_fit_race_shape_is_scaled_through_the_recorded_point)
{
    static const double sy[] = {0.1, 0.3, 0.6};
    static const long long sx[] = {1000000, 3000000, 9000000};
    gs_fit_opts_t o = {.n_race_shape = 3};
    for (int k = 0; k < 3; k++) {
        o.race_shape_depth_ns[k] = sx[k];
        o.race_shape[k] = sy[k];
    }
    static const int ks[] = {42, 48};
    static const long long ticks[] = {0, 1000000};
    for (size_t c = 0; c < 2; c++)
        for (size_t t = 0; t < 2; t++) {
            rec_opts_t ro = {.t0 = 10000, .cores = 2, .tick = ticks[t]};
            char path[] = "/tmp/check_fit_race_XXXXXX";
            write_recording_o(path, 60, ks[c], &ro);
            char *plain = fit_text(path), *json = fit_text_o(path, &o);
            double rf = written_rf(json), y[8];
            long long x[8], depth = want_depth(&ro, 60);
            ck_assert_msg(rf >= 0 && written_rf(plain) >= 0, "a race fitted both ways");
            ck_assert_int_eq(written_curve(plain, x, y), 0);
            ck_assert(strstr(plain, "A what-if at another interval keeps the value") != NULL);
            ck_assert_int_eq(written_curve(json, x, y), 3);
            double s_at = curve_at(3, sx, sy, depth);
            for (int i = 0; i < 3; i++) {
                double want = fmin(1, rf * sy[i] / s_at);
                ck_assert_int_eq(x[i], sx[i]);
                ck_assert_msg(fabs(y[i] - want) <= 0.005 + 1e-9,
                              "k=%d tick %lld: point %d %.2f, want %.4f (rf %.2f, depth %lld)",
                              ks[c], ticks[t], i, y[i], want, rf, depth);
            }
            if (rf / s_at * sy[2] <= 1) /* nothing cut at 1: through the point */
                ck_assert_msg(fabs(curve_at(3, x, y, depth) - rf) <= 0.006,
                              "the curve at %lld ns is %.3f, not %.2f", depth,
                              curve_at(3, x, y, depth), rf);
            ck_assert(strstr(json, "scaled through") != NULL);
            if (!ticks[t]) { /* the replay with the curve gives the recorded share */
                long long drops;
                double got = replayed(json, &drops), want = (double)ks[c] / 60;
                ck_assert_msg(fabs(got - want) <= RACE_BAND,
                              "k=%d: the replay with the curve gives the requester %.2f of %lld "
                              "drops, not %.2f +- %.2f",
                              ks[c], got, drops, want, RACE_BAND);
            }
            char *again = fit_text_o(path, &o);
            ck_assert_str_eq(json, again);
            free(again);
            free(json);
            free(plain);
            unlink(path);
        }
}
END_TEST

/* A shape that is 0 at the requesters' depth scales nothing (the value
 * alone, said); a recording too short for the race gets no curve either. */
START_TEST(test_fit_race_shape_needs_a_fitted_race_and_a_chance_at_the_depth)
{
    gs_fit_opts_t o = {
        .n_race_shape = 2, .race_shape_depth_ns = {1000000, 20000000}, .race_shape = {0, 0}};
    char path[] = "/tmp/check_fit_race_XXXXXX";
    write_recording(path, 60, 30);
    char *json = fit_text_o(path, &o);
    long long x[8];
    double y[8];
    ck_assert(written_rf(json) >= 0);
    ck_assert_int_eq(written_curve(json, x, y), 0);
    ck_assert(strstr(json, "so it scales nothing") != NULL);
    free(json);
    unlink(path);
    o.race_shape[1] = 0.5;
    char path2[] = "/tmp/check_fit_race_XXXXXX";
    write_recording(path2, 12, 2);
    json = fit_text_o(path2, &o);
    ck_assert(written_rf(json) < 0);
    ck_assert_int_eq(written_curve(json, x, y), 0);
    free(json);
    unlink(path2);
}
END_TEST

/* The description's sentence on the race, from "The race" to its end
 * ("" none), into buf. */
static const char *race_sentence(const char *json, char *buf, size_t n)
{
    const char *a = strstr(json, "The race between");
    const char *e = a ? strstr(a, ".\"") : NULL; /* the description's end */
    const char *d = a ? strstr(a, ". ") : NULL;
    e = d && (!e || d < e) ? d : e;
    snprintf(buf, n, "%.*s", a ? (int)((e ? e : a + strlen(a)) - a) : 0, a ? a : "");
    return buf;
}

/* One fit of path with allocation k failing: an error that says why, or
 * the race as written without the failure (want's requester_first and
 * sentence). Other parts of the text are not this test's: a description
 * or a key the emitter (emit.c) fails to write on its way out is not the
 * race's reading. Whether allocation k came (else the fit ran through). */
static bool fit_failing(const char *path, long k, const char *want, long *n_enomem)
{
    char *json;
    gs_error_t err;
    bool failed;
    int rc = af_fit(path, k, &json, &err, &failed);
    char a[2048], b[2048];
    if (rc == 0 && strstr(json, "\"description\"")) { /* none: the emitter's failure */
        double rf = written_rf(json);                 /* -1: a key the emitter failed to add */
        ck_assert_msg(
            (rf < 0 || rf == written_rf(want)) &&
                strcmp(race_sentence(json, a, sizeof a), race_sentence(want, b, sizeof b)) == 0,
            "allocation %ld failed, the fit went on and wrote another race: %s, not %s", k,
            race_sentence(json, a, sizeof a), race_sentence(want, b, sizeof b));
    } else if (rc != 0) {
        ck_assert_msg(failed && err.msg[0], "allocation %ld: rc %d, %s", k, rc, err.msg);
    }
    *n_enomem += rc == GS_ENOMEM && strstr(err.msg, "out of memory") != NULL;
    free(json);
    return failed;
}

/* Out of memory while the race is counted: every allocation of a fit of 12
 * drops (no replay: too few) made to fail in turn; the fit fails saying
 * why, or writes the text it writes with memory, which says "fewer than
 * 20" because the recording has 12, never because the count failed. */
START_TEST(test_fit_race_out_of_memory_counting_is_an_error)
{
    char path[] = "/tmp/check_fit_race_XXXXXX";
    write_recording(path, 12, 2);
    char *want = fit_text(path);
    long k, n_enomem = 0;
    for (k = 0; k < 20000; k++)
        if (!fit_failing(path, k, want, &n_enomem)) /* it ran through before allocation k */
            break;
    ck_assert_int_lt(k, 20000);
    ck_assert_int_gt(n_enomem, 0);
    free(want);
    unlink(path);
}
END_TEST

static Suite *fit_race_suite(void)
{
    Suite *s = suite_create("fit_race");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 120);
    tcase_add_test(core, test_fit_race_reads_a_late_contention);
    tcase_add_test(core, test_fit_race_reads_the_requesters_idle_depth);
    suite_add_tcase(s, core);

    /* limits: too few drops, no memory */
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 300);
    tcase_add_test(limits, test_fit_race_keeps_the_default_with_few_drops);
    tcase_add_test(limits, test_fit_race_out_of_memory_counting_is_an_error);
    tcase_add_test(limits, test_fit_race_shape_needs_a_fitted_race_and_a_chance_at_the_depth);
    suite_add_tcase(s, limits);

    /* props: the fitted value against the recorded share, the curve
       against the shape */
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 300);
    tcase_add_test(props, test_fit_race_follows_the_requesters_wins);
    tcase_add_test(props, test_fit_race_shape_is_scaled_through_the_recorded_point);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(fit_race_suite());
}
