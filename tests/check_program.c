/* check_program.c - a scenario program's thread runs on no pthread of its
 * own (program.c steps it in place), and that changes nothing a run shows.
 *
 * The property: for every lesson and test scenario, at two seeds, the run
 * with its threads stepped in place is byte for byte the run with each
 * thread's program played by a C body on a worker pthread (the reference
 * interpreter below, which calls the same primitives, as program.c did
 * before it stepped). Also: stepped threads create no pthreads, and the
 * thread preflight counts only the threads that need one. */
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

#include "testutil.h"
#include "testutil_scenario.h"

/* ---- the reference: a program played by a C body ------------------------ */

static void play(gs_ctx_t *c, const gs_op_t *ops, int n);

/* `while not ev.is_set(): body`. A C body cannot say which until loop it
 * is in, so a stop at a limit inside one names no loop: the stepped run's
 * message has that note more (LIMIT_IN_UNTIL). */
static void play_until(gs_ctx_t *c, const gs_op_t *o)
{
    while (!gs_event_is_set(c, o->target))
        play(c, o->body, o->n_body);
}

static void play(gs_ctx_t *c, const gs_op_t *ops, int n)
{
    for (int i = 0; i < n; i++) {
        const gs_op_t *o = &ops[i];
        gs_set_op(c, o->id);
        switch (o->kind) {
        case GS_OP_CPU:
            if (o->shared)
                gs_touch_cpu(c, gs_draw(c, &o->dur), o->shared - 1, o->writes, o->every_ns);
            else
                gs_cpu(c, gs_draw(c, &o->dur));
            break;
        case GS_OP_GC:
            gs_gc(c, gs_draw(c, &o->dur));
            break;
        case GS_OP_IMPORT:
            gs_import(c, gs_draw(c, &o->dur), o->every_ns != 0);
            break;
        case GS_OP_IO:
            gs_io(c, gs_draw(c, &o->dur));
            break;
        case GS_OP_SLEEP:
            gs_sleep(c, gs_draw(c, &o->dur));
            break;
        case GS_OP_C_CALL:
            gs_c_call(c, gs_draw(c, &o->dur), o->releases_gil);
            break;
        case GS_OP_ACQUIRE:
            gs_acquire(c, o->target);
            break;
        case GS_OP_RELEASE:
            gs_release(c, o->target);
            break;
        case GS_OP_WAIT:
            gs_event_wait(c, o->target);
            break;
        case GS_OP_SET:
            gs_event_set(c, o->target);
            break;
        case GS_OP_CLEAR:
            gs_event_clear(c, o->target);
            break;
        case GS_OP_PUT:
            gs_queue_put(c, o->target);
            break;
        case GS_OP_GET:
            gs_queue_get(c, o->target);
            break;
        case GS_OP_START:
            gs_thread_start(c, o->target);
            break;
        case GS_OP_JOIN:
            gs_thread_join(c, o->target);
            break;
        case GS_OP_REPEAT:
            for (int64_t k = 0; k < o->count; k++)
                play(c, o->body, o->n_body);
            break;
        case GS_OP_UNTIL:
            play_until(c, o);
            break;
        }
    }
}

static void program_as_body(gs_ctx_t *c, void *user)
{
    const gs_thread_spec_t *s = user;
    play(c, s->program, s->n_program);
}

/* The run's trace dump ("" with the error when there is no trace). */
static char *run_dump(const gs_model_t *m, size_t *len)
{
    gs_trace_t *t = NULL;
    gs_error_t err;
    int rc = gs_sim_run(m, NULL, &t, &err);
    if (!t) {
        char *s = malloc(600);
        ck_assert_ptr_nonnull(s);
        *len = (size_t)snprintf(s, 600, "rc %d: %s", rc, err.msg);
        return s;
    }
    char *d = tu_dump(t, len);
    gs_trace_free(t);
    return d;
}

static int compared;

/* Removes the first `cut` from s (length *len), if there. */
static void strip(char *s, size_t *len, const char *cut)
{
    char *p = cut ? strstr(s, cut) : NULL;
    if (!p)
        return;
    size_t k = strlen(cut);
    memmove(p, p + k, (size_t)(s + *len - (p + k)) + 1);
    *len -= k;
}

/* A shared access ends with its request: the plain cpu after it is no
 * access (program.c resets it when the thread is next stepped). */
static const char *TOUCH_THEN_PLAIN =
    "{\"name\": \"touch then plain\", \"python\": {\"version\": \"3.14t\"}, "
    "\"machine\": {\"cores\": 2}, \"objects\": {\"d\": \"dict\"}, \"threads\": [{\"name\": "
    "\"r\", \"count\": 3, \"program\": [{\"repeat\": 3, \"do\": [{\"cpu\": \"200us\", "
    "\"reads\": \"d\", \"every\": \"30ns\"}, {\"cpu\": \"300us\"}, {\"cpu\": \"100us\", "
    "\"writes\": \"d\", \"every\": \"50ns\"}, {\"io\": \"50us\"}]}]}]}";

static void same_with_bodies_note(const char *path, const char *text, uint64_t seed,
                                  const char *note)
{
    gs_diag_t diag;
    gs_model_t *m = tu_load(path, text, NULL, 0, &diag);
    ck_assert_msg(m != NULL, "%s does not load", path);
    m->seed = seed;
    size_t n_stepped, n_body;
    char *stepped = run_dump(m, &n_stepped);
    for (int i = 0; i < m->n_threads; i++)
        gs_model_set_body(m, i, program_as_body, &m->threads[i], NULL);
    char *body = run_dump(m, &n_body);
    if (note) {
        ck_assert_msg(strstr(stepped, note) != NULL, "%s: no \"%s\" in the stepped run", path,
                      note);
        strip(stepped, &n_stepped, note);
    }
    ck_assert_msg(n_stepped == n_body && memcmp(stepped, body, n_body) == 0,
                  "%s, seed %llu: stepped in place (%zu bytes of dump) is not the run with C "
                  "bodies (%zu bytes)",
                  path, (unsigned long long)seed, n_stepped, n_body);
    compared++;
    free(stepped);
    free(body);
    gs_model_free(m);
}

static void same_with_bodies_text(const char *path, const char *text, uint64_t seed)
{
    same_with_bodies_note(path, text, seed, NULL);
}

static void same_with_bodies(const char *path, uint64_t seed)
{
    same_with_bodies_text(path, NULL, seed);
}

/* Nested until loops on an event nobody sets: the run ends at max_events,
 * at some values of it reached by a poll (its request goes to the engine,
 * which stops there; the stepped thread's step ends with it, as a body is
 * left inside gs_event_is_set). */
#define LIMIT_IN_UNTIL \
    "{\"name\": \"poll forever\", \"max_events\": %d, \"events\": [\"stop\"], \"threads\": " \
    "[{\"name\": \"spin\", \"program\": [{\"repeat\": 2, \"do\": [{\"until\": \"stop\", " \
    "\"do\": [{\"cpu\": \"10us\"}, {\"until\": \"stop\", \"do\": [{\"cpu\": \"5us\"}]}]}]}]}, " \
    "{\"name\": \"other\", \"program\": [{\"repeat\": 1000, \"do\": [{\"io\": \"30us\"}, " \
    "{\"cpu\": \"20us\"}]}]}]}"

static void each_json(const char *rel)
{
    char dir[512];
    tu_source_path(rel, dir, sizeof dir);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot list %s", dir);
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t k = strlen(de->d_name);
        if (k < 6 || strcmp(de->d_name + k - 5, ".json") != 0)
            continue;
        char path[1024];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        same_with_bodies(path, 0);
        same_with_bodies(path, 7);
    }
    closedir(d);
}

START_TEST(test_program_stepped_in_place_runs_as_a_c_body_would)
{
    compared = 0;
    each_json("scenarios");
    each_json("tests/golden/scenarios");
    each_json("tests/scenario/good");
    same_with_bodies_text("touch_then_plain.json", TOUCH_THEN_PLAIN, 0);
    for (int max_events = 300; max_events < 312; max_events++) {
        char text[1024];
        snprintf(text, sizeof text, LIMIT_IN_UNTIL, max_events);
        same_with_bodies_note("limit_in_until.json", text, 0,
                              "; spin loops until event \"stop\" is set, and no thread set it");
    }
    ck_assert_int_ge(compared, 40); /* the corpus was found */
}
END_TEST

/* ---- no pthread for a program ------------------------------------------- */

static int count_tasks(void)
{
    DIR *d = opendir("/proc/self/task");
    int n = 0;
    struct dirent *de;
    while (d && (de = readdir(d)) != NULL)
        if (de->d_name[0] != '.')
            n++;
    if (d)
        closedir(d);
    return n;
}

static int tasks_seen;
static void count_body(gs_ctx_t *c, void *user)
{
    (void)user;
    gs_sleep(c, MS(1)); /* the others are all inside their sleep now */
    tasks_seen = count_tasks();
}

/* Tasks alive in the middle of a run of 40 sleepers and one counter; the
 * sleepers with C bodies or not. */
static int tasks_during(bool bodies)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    for (int i = 0; i < 40; i++)
        tu_thread(m, "sleeper", 2, tu_sleep(MS(2)), tu_cpu(US(10)));
    int th = gs_model_add_thread(m, "counter", 0);
    gs_model_set_body(m, th, count_body, NULL, NULL);
    for (int i = 0; bodies && i < 40; i++) /* now that m->threads stays put */
        gs_model_set_body(m, i, program_as_body, &m->threads[i], NULL);
    gs_trace_free(tu_run(m, NULL));
    gs_model_free(m);
    gs_worker_pool_drain(); /* each measure starts with no pooled worker */
    return tasks_seen;
}

START_TEST(test_program_threads_create_no_pthreads)
{
    tasks_during(true); /* warm-up: a sanitizer starts its helper thread once */
    int stepped = tasks_during(false), bodies = tasks_during(true);
    ck_assert_int_ge(bodies - stepped, 40);
}
END_TEST

/* ---- the preflight counts the threads that need a pthread --------------- */

static gs_model_t *many(bool bodies)
{
    gs_model_t *m = tu_model(2, GS_POLICY_CFS, GS_GIL_CPYTHON3);
    for (int i = 0; i < 5000; i++)
        tu_thread(m, "w", 1, tu_cpu(US(10)));
    for (int i = 0; bodies && i < 5000; i++)
        gs_model_set_body(m, i, program_as_body, &m->threads[i], NULL);
    return m;
}

START_TEST(test_program_preflight_counts_c_bodies_only)
{
#if defined(__SANITIZE_ADDRESS__) || defined(__SANITIZE_THREAD__)
    return; /* sanitizers reserve terabytes of address space */
#endif
    /* check runs each test in a child process: the cap ends with it. 5000
     * stacks of 64 KiB do not fit in 150 MB */
    struct rlimit rl = {150000 * 1024LL, 150000 * 1024LL};
    ck_assert_int_eq(setrlimit(RLIMIT_AS, &rl), 0);
    gs_model_t *m = many(false);
    gs_trace_t *t = NULL;
    gs_error_t err;
    ck_assert_msg(gs_sim_run(m, NULL, &t, &err) == 0, "%s", err.msg);
    gs_trace_free(t);
    gs_model_free(m);
    m = many(true);
    t = NULL;
    ck_assert_int_eq(gs_sim_run(m, NULL, &t, &err), GS_ETHREAD);
    ck_assert_ptr_nonnull(strstr(err.msg, "the model has 5000 threads with a C body and each "
                                          "needs a pthread of its own, but `ulimit -v`"));
    gs_model_free(m);
}
END_TEST

int main(void)
{
    Suite *s = suite_create("program");
    TCase *tc = tcase_create("core");
    tcase_set_timeout(tc, 300);
    tcase_add_test(tc, test_program_stepped_in_place_runs_as_a_c_body_would);
    tcase_add_test(tc, test_program_threads_create_no_pthreads);
    tcase_add_test(tc, test_program_preflight_counts_c_bodies_only);
    suite_add_tcase(s, tc);
    return tu_main(s);
}
