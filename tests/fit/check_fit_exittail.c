/* check_fit_exittail.c - a thread's end woke its joiner before its final
 * GIL drop, read off the recording (sim/fit/exittail.c:
 * python.exit_posts_early and python.exit_tail).
 *
 * The recordings are hand-made: MainThread joins n workers in turn. Each
 * join is a `wait` of category join with a `lock_wait` inside it on the
 * worker's thread state lock; the worker holds the GIL, posts that lock
 * (`lock_post`) while MainThread is blocked on it, and drops the GIL
 * `gap` later (`release exit`), after a `signal` to MainThread `sig`
 * before the release when MainThread asked meanwhile. Properties: the tail
 * is the post-to-drop-start gap less machine.futex (1 us: the model
 * charges the post's futex call itself), the median over the ends; no
 * post in the final hold, a post that woke no joiner, or Python 3.13
 * (the end set after the drop) writes neither key; out of memory is the
 * fit's error, never a fit without them. */
#include "alloc_fail.h"
#include "fitutil.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define USEC 1000LL
#define MAX_W 8

typedef struct {
    int n;                /* workers */
    long long gap[MAX_W]; /* post to the drop's start (signal, else release) */
    long long sig;        /* signal to release; 0: no signal (nobody asked) */
    bool waiting;         /* MainThread blocked on the lock when the worker posts */
    bool in_join;         /* that lock_wait inside a Thread.join */
    int minor;            /* Python 3.minor */
    bool no_obj;          /* the semaphores not recorded (obj 0, an older recording) */
} rec_t;

/* One event of a thread, keyed where the recorder writes it (a span at its
 * end, as gilsim record does). */
typedef struct {
    long long key;
    char s[160];
} ev_t;

typedef struct {
    ev_t v[64];
    int n;
} evs_t;

static void add(evs_t *e, long long key, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void add(evs_t *e, long long key, const char *fmt, ...)
{
    ck_assert_int_lt(e->n, 64);
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e->v[e->n].s, sizeof e->v[e->n].s, fmt, ap);
    va_end(ap);
    e->v[e->n++].key = key;
}

static int by_key(const void *a, const void *b)
{
    long long x = ((const ev_t *)a)->key, y = ((const ev_t *)b)->key;
    return x < y ? -1 : x > y;
}

static void put_events(FILE *f, evs_t *e)
{
    qsort(e->v, (size_t)e->n, sizeof e->v[0], by_key); /* stable enough: keys differ */
    for (int k = 0; k < e->n; k++)
        fprintf(f, "%s%s", k ? ", " : "", e->v[k].s);
}

static void write_recording(char *path, const rec_t *c)
{
    static evs_t ev[MAX_W + 1];
    memset(ev, 0, sizeof ev);
    evs_t *m = &ev[0];
    long long t = 100 * USEC;
    add(m, 0, "[0, \"start\", 0]");
    add(m, 0, "[0, \"ask\", 0]");
    add(m, 1, "[1, \"hold\", 0]");
    for (int k = 0; k < c->n; k++) {
        evs_t *w = &ev[k + 1];
        unsigned long long lock = c->no_obj ? 0 : 0x7f0000001000ULL + 0x100ULL * (unsigned)k;
        long long r = t, h = r + 5 * USEC, post = h + 1000 * USEC;
        long long start = post + c->gap[k], drop = start + c->sig;
        long long woke = post + 20 * USEC;
        add(w, r - 50 * USEC, "[%lld, \"start\", 1]", r - 50 * USEC);
        add(w, r - 50 * USEC + 1, "[%lld, \"ask\", 1]", r - 50 * USEC + 1);
        add(w, h, "[%lld, \"hold\", 1]", h);
        add(w, post, "[%lld, \"lock_post\", %llu, 1]", post, lock);
        if (c->sig)
            add(w, start, "[%lld, \"signal\", 0, 1]", start);
        add(w, drop, "[%lld, \"release\", \"exit\", 1]", drop);
        add(w, drop + 5 * USEC, "[%lld, \"end\", 1]", drop + 5 * USEC);
        /* MainThread: join(worker k) */
        long long held = (drop > woke + USEC ? drop : woke + USEC) + USEC; /* its GIL back */
        long long jend = held + 2 * USEC;
        add(m, r, "[%lld, \"release\", \"call\", 0]", r);
        if (c->waiting) /* blocked on the lock; outside the join when !in_join */
            add(m, woke, "[%lld, \"lock_wait\", %lld, %llu, 0]", r + 10 * USEC, woke, lock);
        add(m, woke + USEC, "[%lld, \"ask\", 0]", woke + USEC);
        add(m, held, "[%lld, \"hold\", 0]", held);
        long long j0 = c->in_join ? r + 1 : woke + 2 * USEC;
        add(m, jend, "[%lld, \"wait\", %lld, \"Thread.join\", \"join\", %llu, 0]", j0, jend,
            0x7f0000009000ULL + (unsigned)k);
        t = jend + 50 * USEC;
    }
    add(m, t, "[%lld, \"release\", \"exit\", 0]", t);
    add(m, t + USEC, "[%lld, \"end\", 0]", t + USEC);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
            " \"command\": [\"python3\", \"joins.py\"], \"interpreter\": {\"version\": [3, %d, "
            "0]},\n \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2},\n"
            " \"calibration\": {\"syscall_ns\": 200, \"wake_hot_ns\": 30000, "
            "\"context_switch_ns\": 2000, \"wake_cold_ns\": 80000, \"timer_jitter_ns\": 10000},\n"
            " \"duration_ns\": %lld,\n \"threads\": [\n  {\"name\": \"MainThread\", \"events\": [",
            c->minor, t + 2 * USEC);
    put_events(f, m);
    for (int k = 0; k < c->n; k++) {
        fprintf(f, "]},\n  {\"name\": \"worker%d\", \"events\": [", k);
        put_events(f, &ev[k + 1]);
    }
    fprintf(f, "]}\n]}\n");
    ck_assert_int_eq(fclose(f), 0);
}

static char *fit_of(const rec_t *c)
{
    char path[] = "/tmp/gilsim-fit-exittail-XXXXXX";
    write_recording(path, c);
    char *json = fu_fit(path, (gs_fit_opts_t){0});
    unlink(path);
    return json;
}

/* python.exit_tail as written, in ns; -1 when neither key is written (the
 * test fails if only one is). */
static long long written_tail(const char *json)
{
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    const cJSON *py = cJSON_GetObjectItem(root, "python");
    const cJSON *early = cJSON_GetObjectItem(py, "exit_posts_early");
    const cJSON *tail = cJSON_GetObjectItem(py, "exit_tail");
    ck_assert_msg((early != NULL) == (tail != NULL), "both keys or neither");
    long long ns = -1;
    if (tail) {
        int64_t x;
        ck_assert(cJSON_IsTrue(early));
        ck_assert_msg(cJSON_IsString(tail) && gs_parse_ns(tail->valuestring, &x, NULL, 0) == 0,
                      "exit_tail is a duration");
        ns = x;
    }
    cJSON_Delete(root);
    return ns;
}

static rec_t one(long long gap, long long sig)
{
    return (rec_t){.n = 1, .gap = {gap}, .sig = sig, .waiting = true, .in_join = true, .minor = 11};
}

START_TEST(test_fit_exittail_is_the_recorded_gap_less_the_futex_call)
{
    long long prev = -1;
    for (long long gap = 20 * USEC; gap <= 140 * USEC; gap += 30 * USEC) {
        /* no GIL waiter: the drop starts at the release */
        char *json =
            fit_of(&(rec_t){.n = 1, .gap = {gap}, .waiting = true, .in_join = true, .minor = 11});
        long long tail = written_tail(json);
        ck_assert_msg(tail == gap - USEC, "gap %lld: exit_tail %lld, want %lld", gap, tail,
                      gap - USEC);
        ck_assert_int_gt(tail, prev);
        prev = tail;
        ck_assert_msg(strstr(json, "python.exit_posts_early with exit_tail") != NULL,
                      "the description says it");
        free(json);
        /* MainThread asked meanwhile: the drop's signal is where the GIL
           became free; its time to the release is not the tail */
        rec_t c = one(gap, 9 * USEC);
        json = fit_of(&c);
        ck_assert_int_eq(written_tail(json), gap - USEC);
        free(json);
    }
    /* a gap shorter than the futex call: 0, not negative */
    char *json =
        fit_of(&(rec_t){.n = 1, .gap = {600}, .waiting = true, .in_join = true, .minor = 12});
    ck_assert_int_eq(written_tail(json), 0);
    free(json);
}
END_TEST

START_TEST(test_fit_exittail_is_the_median_of_the_ends)
{
    rec_t c = {.n = 3,
               .gap = {20 * USEC, 91 * USEC, 41 * USEC},
               .waiting = true,
               .in_join = true,
               .minor = 11};
    char *json = fit_of(&c);
    ck_assert_int_eq(written_tail(json), 40 * USEC);
    ck_assert_msg(strstr(json, "At 3 thread ends a joiner was waiting") != NULL, "%.400s", json);
    free(json);
    c.n = 2; /* an even count: between the middle two */
    json = fit_of(&c);
    ck_assert_int_eq(written_tail(json), (19 + 90) * USEC / 2);
    free(json);
}
END_TEST

START_TEST(test_fit_exittail_none_without_a_waiting_joiner)
{
    /* the join found the thread gone: no post in its final hold */
    rec_t c = one(50 * USEC, 0);
    c.waiting = false;
    char *json = fit_of(&c);
    ck_assert_int_eq(written_tail(json), -1);
    ck_assert_msg(strstr(json, "No thread's end woke a joiner already waiting") != NULL,
                  "the description says why");
    free(json);
    /* a post in the final hold that woke a thread blocked outside a join:
       not the thread state lock */
    c = one(50 * USEC, 0);
    c.in_join = false;
    json = fit_of(&c);
    ck_assert_int_eq(written_tail(json), -1);
    free(json);
    /* semaphores not recorded: which one the post released cannot be told */
    c = one(50 * USEC, 0);
    c.no_obj = true;
    json = fit_of(&c);
    ck_assert_int_eq(written_tail(json), -1);
    free(json);
}
END_TEST

START_TEST(test_fit_exittail_none_from_python_3_13)
{
    /* 3.13 sets the join's event after the final drop: the engine's default */
    rec_t c = one(50 * USEC, 0);
    c.minor = 13;
    char *json = fit_of(&c);
    ck_assert_int_eq(written_tail(json), -1);
    ck_assert(strstr(json, "exit_posts_early") == NULL);
    free(json);
    c.minor = 12;
    json = fit_of(&c);
    ck_assert_int_eq(written_tail(json), 49 * USEC);
    free(json);
}
END_TEST

/* End of the first interval of `thread` in state st in r's trace, -1 if none. */
static int64_t first_end(const fu_replay_t *r, int thread, gs_state_t st)
{
    const gs_lane_t *l = gs_trace_lane(r->trace, gs_trace_thread_lane(r->trace, thread));
    for (size_t i = 0; i < l->n; i++)
        if (l->iv[i].state == st)
            return l->iv[i].end_ns;
    return -1;
}

/* End of `thread`'s last GIL hold in r's trace. */
static int64_t last_hold_end(const fu_replay_t *r, int thread)
{
    const gs_lane_t *l = gs_trace_lane(r->trace, gs_trace_gil_lane(r->trace, 0));
    int64_t end = -1;
    for (size_t i = 0; i < l->n; i++)
        if (l->iv[i].who == thread)
            end = l->iv[i].end_ns;
    return end;
}

/* The replay of the fitted scenario wakes the joiner the recorded gap
 * before the ending thread's drop: the post's futex call (machine.futex)
 * and then exit_tail of C holding the GIL. */
START_TEST(test_fit_exittail_replay_wakes_the_joiner_the_recorded_gap_before_the_drop)
{
    for (long long gap = 30 * USEC; gap <= 90 * USEC; gap += 30 * USEC) {
        rec_t c = one(gap, 0);
        char *json = fit_of(&c);
        fu_replay_t r;
        fu_replay(json, &r);
        int main_ = 0, worker = 1; /* the recording's order */
        ck_assert_str_eq(r.model->threads[worker].name, "worker0");
        int64_t woke = first_end(&r, main_, GS_ST_WAIT_JOIN), drop = last_hold_end(&r, worker);
        ck_assert_int_ge(woke, 0);
        ck_assert_msg(drop - woke == gap,
                      "gap %lld: the replay's joiner woke %lld ns before the drop", gap,
                      (long long)(drop - woke));
        fu_replay_free(&r);
        free(json);
    }
}
END_TEST

/* Every allocation of a fit in turn made to fail: the fit fails with
 * GS_ENOMEM or writes the same text; never one without the keys. */
START_TEST(test_fit_exittail_out_of_memory_is_an_error)
{
    rec_t c = {.n = 3,
               .gap = {20 * USEC, 91 * USEC, 41 * USEC},
               .waiting = true,
               .in_join = true,
               .minor = 11};
    char path[] = "/tmp/gilsim-fit-exittail-XXXXXX";
    write_recording(path, &c);
    char *want = fu_fit(path, (gs_fit_opts_t){0});
    ck_assert_int_eq(written_tail(want), 40 * USEC);
    long k, n_enomem = 0;
    for (k = 0; k < 20000; k++) {
        char *json;
        gs_error_t err;
        bool failed;
        int rc = af_fit(path, k, &json, &err, &failed);
        if (rc == 0)
            ck_assert_msg(strcmp(json, want) == 0,
                          "allocation %ld failed, the fit went on and wrote another text", k);
        else
            n_enomem += rc == GS_ENOMEM && strstr(err.msg, "out of memory") != NULL;
        free(json);
        if (!failed)
            break;
    }
    ck_assert_msg(k < 20000, "a fit of 4 threads makes fewer than 20000 allocations");
    ck_assert_int_gt(n_enomem, 0);
    free(want);
    unlink(path);
}
END_TEST

static Suite *fit_exittail_suite(void)
{
    Suite *s = suite_create("fit_exittail");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_fit_exittail_is_the_median_of_the_ends);
    suite_add_tcase(s, core);

    /* limits: no waiting joiner, a newer Python, no memory */
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 120);
    tcase_add_test(limits, test_fit_exittail_none_without_a_waiting_joiner);
    tcase_add_test(limits, test_fit_exittail_none_from_python_3_13);
    tcase_add_test(limits, test_fit_exittail_out_of_memory_is_an_error);
    suite_add_tcase(s, limits);

    /* props: the tail follows the recorded gap over a range of gaps */
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 60);
    tcase_add_test(props, test_fit_exittail_is_the_recorded_gap_less_the_futex_call);
    tcase_add_test(props,
                   test_fit_exittail_replay_wakes_the_joiner_the_recorded_gap_before_the_drop);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(fit_exittail_suite());
}
