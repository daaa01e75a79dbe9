/* check_fit_pool.c - a thread pool's work items dealt evenly among its
 * workers (sim/fit/pool.c).
 *
 * tests/data/fit/pool_uneven.rec.json is hand-written: MainThread starts
 * "pool_0", "pool_1", "pool_2" (named as concurrent.futures names a pool's
 * workers) and "helper"; each runs items of 20 us of Python and a hashlib
 * call that releases the GIL. pool_0 ran 6 items of 500 us, pool_1 2 and
 * pool_2 1 of 1.5 ms (as when the kernel keeps one worker alone on a CPU
 * and the others share one); helper ran 3 items of 500 us. Fitted before
 * pool.c, each worker kept its recorded share (6, 2, 1), and a model that
 * shares the cores evenly ran the lone worker's share at half a core
 * (examples/hash_pool.py: tests/reality/replay_notes.md, point 25). A pool
 * whose shares are within 2x of each other keeps them. */
#include "alloc_fail.h"
#include "fitutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define USEC(x) ((int64_t)(x)*1000)

static const char *data(const char *name)
{
    static char path[1200];
    const char *src = getenv("GILSIM_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/data/fit/%s", src ? src : ".", name);
    return path;
}

/* The durations of a program's C calls that release the GIL, appended to
 * v[*n] (a repeat's body counted its times over; -1 for a distribution). */
static void c_calls(const cJSON *program, int64_t *v, int *n, int max)
{
    const cJSON *op;
    cJSON_ArrayForEach(op, program)
    {
        const cJSON *rep = cJSON_GetObjectItem(op, "repeat");
        if (rep) {
            for (int k = 0; k < rep->valueint; k++)
                c_calls(cJSON_GetObjectItem(op, "do"), v, n, max);
            continue;
        }
        const cJSON *c = cJSON_GetObjectItem(op, "c_call");
        if (!c || !cJSON_IsTrue(cJSON_GetObjectItem(op, "releases_gil")))
            continue;
        int64_t ns = -1; /* a distribution (a folded repeat's): counted, no duration */
        char why[128];
        if (cJSON_IsString(c))
            ck_assert_int_eq(gs_parse_ns(c->valuestring, &ns, why, sizeof why), 0);
        ck_assert_int_lt(*n, max);
        v[(*n)++] = ns;
    }
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Each worker of the pool gets 3 of its 9 items, whatever it ran, and the
 * items are the recorded ones: the same C calls, none lost or made. */
START_TEST(test_fit_pool_deals_the_items_evenly_and_keeps_them)
{
    for (int exact = 0; exact <= 1; exact++) {
        char *json =
            fu_fit(data("pool_uneven.rec.json"), (gs_fit_opts_t){.exact = exact, .raw_cpu = true});
        cJSON *root = cJSON_Parse(json);
        ck_assert_ptr_nonnull(root);
        int64_t all[32];
        int n_all = 0;
        for (int w = 0; w < 3; w++) {
            char name[16];
            snprintf(name, sizeof name, "pool_%d", w);
            int before = n_all;
            c_calls(fu_program(root, name), all, &n_all, 32);
            ck_assert_msg(n_all - before == 3, "%s has %d items (exact %d), not 3 of 9", name,
                          n_all - before, exact);
        }
        qsort(all, (size_t)n_all, sizeof *all, cmp_i64);
        for (int k = 0; k < 9 && exact; k++)
            ck_assert_msg(all[k] == (k < 6 ? USEC(500) : USEC(1500)),
                          "item %d: %lld ns, the recording's are 6 x 500 us and 3 x 1.5 ms", k,
                          (long long)all[k]);
        cJSON_Delete(root);
        free(json);
    }
}
END_TEST

/* A thread started alike whose name is not a pool worker's keeps its
 * program, and so does the pool's starter. */
START_TEST(test_fit_pool_leaves_other_threads_alone)
{
    char *json = fu_fit(data("pool_uneven.rec.json"), (gs_fit_opts_t){.exact = true});
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    int64_t v[16];
    int n = 0;
    c_calls(fu_program(root, "helper"), v, &n, 16);
    ck_assert_int_eq(n, 3);
    const cJSON *main_prog = fu_program(root, "MainThread"), *op;
    int starts = 0, joins = 0;
    cJSON_ArrayForEach(op, main_prog)
    {
        starts += cJSON_GetObjectItem(op, "start") != NULL;
        joins += cJSON_GetObjectItem(op, "join") != NULL;
    }
    ck_assert_int_eq(starts, 4);
    ck_assert_int_eq(joins, 1);
    cJSON_Delete(root);
    free(json);
}
END_TEST

/* The description says what was done and how many items moved: pool_0
 * gave 3 of its 6 (its latest) to pool_2, which ran 1, and pool_1. */
START_TEST(test_fit_pool_says_so)
{
    char *json = fu_fit(data("pool_uneven.rec.json"), (gs_fit_opts_t){0});
    ck_assert_msg(strstr(json, "the 9 work items of 1 thread pool (\\\"pool\\\"") != NULL, "%s",
                  json);
    ck_assert_ptr_nonnull(strstr(json, "dealt evenly among its 3 workers"));
    ck_assert_ptr_nonnull(strstr(json, "(3 moved)"));
    free(json);
}
END_TEST

/* The replay runs every item: the pool's C calls in the run sum to the
 * scenario's. */
START_TEST(test_fit_pool_replay_runs_every_item)
{
    char *json =
        fu_fit(data("pool_uneven.rec.json"), (gs_fit_opts_t){.exact = true, .raw_cpu = true});
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    int64_t v[32], want = 0;
    int n = 0;
    for (int w = 0; w < 3; w++) {
        char name[16];
        snprintf(name, sizeof name, "pool_%d", w);
        c_calls(fu_program(root, name), v, &n, 32);
    }
    for (int k = 0; k < n; k++)
        want += v[k];
    cJSON_Delete(root);
    ck_assert_int_eq(n, 9);
    fu_replay_t r;
    fu_replay(json, &r);
    int64_t c = 0;
    for (int w = 0; w < 3; w++) {
        char name[16];
        snprintf(name, sizeof name, "pool_%d", w);
        c += fu_thread(&r, name)->c_nogil_ns;
    }
    /* the threads' own start and exit steps add a few microseconds of C; a
     * lost or doubled item would be 500 us or more */
    ck_assert_msg(c >= want && c - want < USEC(20),
                  "the pool's C calls ran %lld ns of the scenario's %lld", (long long)c,
                  (long long)want);
    fu_replay_free(&r);
    free(json);
}
END_TEST

/* A pool whose shares are within 2x keeps them: tests/data/fit/
 * hash_pool.rec.json (a real recording of examples/hash_pool.py) has its
 * hashers at 17, 15, 16 and 16 sha256 calls, what the model's own sharing
 * of the cores comes near, and its per-thread totals are the recording's. */
START_TEST(test_fit_pool_keeps_shares_within_twice)
{
    static const int want[4] = {17, 15, 16, 16};
    char *json = fu_fit(data("hash_pool.rec.json"), (gs_fit_opts_t){.exact = true});
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    for (int w = 0; w < 4; w++) {
        char name[16];
        int64_t v[64];
        int n = 0;
        snprintf(name, sizeof name, "hasher_%d", w);
        c_calls(fu_program(root, name), v, &n, 64);
        ck_assert_msg(n == want[w], "%s has %d sha256 calls, recorded %d", name, n, want[w]);
    }
    ck_assert_ptr_null(strstr(json, "work items"));
    cJSON_Delete(root);
    free(json);
}
END_TEST

/* Out of memory anywhere in a fit that deals a pool (pool.c copies every
 * worker's list): the fit fails with its error or writes the same text,
 * never a half-dealt one (and, under ASan, leaks nothing). */
START_TEST(test_fit_pool_out_of_memory_is_an_error)
{
    const char *path = data("pool_uneven.rec.json");
    char *want = fu_fit(path, (gs_fit_opts_t){0});
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
        ck_assert_msg(rc == 0 || (failed && err.msg[0]), "allocation %ld: rc %d", k, rc);
        free(json);
        if (!failed)
            break;
    }
    ck_assert_msg(k < 20000, "a fit of 13 items makes fewer than 20000 allocations");
    ck_assert_int_gt(n_enomem, 0);
    free(want);
}
END_TEST

static Suite *fit_pool_suite(void)
{
    Suite *s = suite_create("fit_pool");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_fit_pool_deals_the_items_evenly_and_keeps_them);
    tcase_add_test(core, test_fit_pool_leaves_other_threads_alone);
    tcase_add_test(core, test_fit_pool_says_so);
    tcase_add_test(core, test_fit_pool_replay_runs_every_item);
    tcase_add_test(core, test_fit_pool_keeps_shares_within_twice);
    tcase_add_test(core, test_fit_pool_out_of_memory_is_an_error);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return tu_main(fit_pool_suite());
}
