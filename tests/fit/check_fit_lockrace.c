/* check_fit_lockrace.c - gilsim fit --lock-race (sim/fit/lockrace.c): a
 * Lock's waits and releases written as the Lock's own acquire and release,
 * paired per thread, so that the engine decides who takes it. */
#include "fitutil.h"
#include "tu_main.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Two threads on one Lock (semaphore 4242). The holder runs from the start
 * with the Lock taken uncontended (not recorded) and releases it twice
 * while the waiter is blocked: at 1 ms the waiter lost (the holder took it
 * back; unmatched post), at 2 ms it won (its wait ends). The holder tries
 * again 10 us later and blocks until the waiter's release at 2.59 ms. */
static void write_race(char *path)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(
        f,
        "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
        " \"command\": [\"python3\", \"p.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
        " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": 3000000,\n"
        " \"threads\": [\n"
        "  {\"name\": \"holder\", \"events\": [[0, \"start\"], [0, \"ask\"], [1000, \"hold\"],\n"
        "   [1000000, \"lock_post\", 4242], [2000000, \"lock_post\", 4242],\n"
        "   [2010000, \"release\", \"call\"], [2010100, \"lock_wait\", 2595000, 4242],\n"
        "   [2596000, \"ask\"], [2601000, \"hold\"], [2900000, \"release\", \"exit\"],\n"
        "   [2900000, \"end\"]]},\n"
        "  {\"name\": \"waiter\", \"events\": [[0, \"start\"], [500000, \"release\", \"call\"],\n"
        "   [500100, \"lock_wait\", 2001000, 4242], [2002000, \"ask\"], [2011000, \"hold\"],\n"
        "   [2590000, \"lock_post\", 4242], [2600000, \"release\", \"exit\"],\n"
        "   [2600000, \"end\"]]}\n]}\n");
    fclose(f);
}

/* The thread's Lock and queue ops, "acquire:lock-1 release:lock-1 ...". */
static void sync_ops(const cJSON *prog, char *buf, size_t n)
{
    static const char *const kinds[] = {"acquire", "release", "get", "put"};
    const cJSON *op;
    cJSON_ArrayForEach(op, prog)
    {
        const cJSON *body = cJSON_GetObjectItem(op, "do");
        if (body)
            sync_ops(body, buf, n);
        for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++) {
            const char *v = cJSON_GetStringValue(cJSON_GetObjectItem(op, kinds[k]));
            if (v)
                snprintf(buf + strlen(buf), n - strlen(buf), "%s%s:%s", *buf ? " " : "", kinds[k],
                         v);
        }
    }
}

static void ops_of(const cJSON *root, const char *thread, char *buf, size_t n)
{
    *buf = 0;
    sync_ops(fu_program(root, thread), buf, n);
}

START_TEST(test_fit_lock_race_pairs_every_thread_acquire_then_release)
{
    char path[] = "/tmp/check_fit_lockrace_XXXXXX";
    write_race(path);
    char h[512], w[512];
    /* by default: the recorded order, queues of wake-ups, no Lock */
    char *json = fu_fit(path, (gs_fit_opts_t){.exact = true});
    cJSON *root = cJSON_Parse(json);
    ops_of(root, "holder", h, sizeof h);
    ops_of(root, "waiter", w, sizeof w);
    ck_assert_str_eq(h, "put:lock-1 for waiter get:lock-1 for holder");
    ck_assert_str_eq(w, "get:lock-1 for waiter put:lock-1 for holder");
    ck_assert_ptr_null(cJSON_GetObjectItem(root, "locks"));
    cJSON_Delete(root);
    free(json);
    /* --lock-race: both posts are releases (the one the waiter lost too),
     * the unseen acquires are inserted, the lock held at the end released */
    json = fu_fit(path, (gs_fit_opts_t){.exact = true, .lock_race = true});
    root = cJSON_Parse(json);
    ops_of(root, "holder", h, sizeof h);
    ops_of(root, "waiter", w, sizeof w);
    ck_assert_str_eq(h, "acquire:lock-1 release:lock-1 acquire:lock-1 release:lock-1 "
                        "acquire:lock-1 release:lock-1");
    ck_assert_str_eq(w, "acquire:lock-1 release:lock-1");
    const cJSON *locks = cJSON_GetObjectItem(root, "locks");
    ck_assert_int_eq(cJSON_GetArraySize(locks), 1);
    ck_assert_str_eq(cJSON_GetStringValue(cJSON_GetArrayItem(locks, 0)), "lock-1");
    ck_assert_ptr_null(cJSON_GetObjectItem(root, "queues")); /* no queue left unused */
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_msg(strstr(desc, "--lock-race") && strstr(desc, "3 were inserted"), "%s", desc);
    cJSON_Delete(root);
    free(json);
    unlink(path);
}
END_TEST

/* The same fit replayed with a wake-up far longer than the holder's 10 us
 * from its release to its next try: under --lock-race the holder takes the
 * Lock back before the woken waiter runs (the race, decided by the model)
 * and hardly waits; the recorded order makes it wait for the waiter's
 * turn whatever the machine. */
START_TEST(test_fit_lock_race_is_decided_by_the_wake_up)
{
    char path[] = "/tmp/check_fit_lockrace_XXXXXX";
    write_race(path);
    int64_t wait[2];
    for (int race = 0; race < 2; race++) {
        char *json = fu_fit(path, (gs_fit_opts_t){.exact = true, .lock_race = race});
        cJSON *root = cJSON_Parse(json);
        cJSON *mach = cJSON_GetObjectItem(root, "machine");
        cJSON_DeleteItemFromObject(mach, "wakeup_latency");
        cJSON_AddStringToObject(mach, "wakeup_latency", "1ms");
        char *slow = cJSON_PrintUnformatted(root);
        fu_replay_t r;
        fu_replay(slow, &r);
        wait[race] = fu_thread(&r, "holder")->sync_wait_ns;
        fu_replay_free(&r);
        free(slow);
        cJSON_Delete(root);
        free(json);
    }
    ck_assert_msg(wait[0] > 500000, "recorded order: the holder waits its turn (%lld ns)",
                  (long long)wait[0]);
    ck_assert_msg(wait[1] < 100000, "race: the holder takes the lock back (%lld ns)",
                  (long long)wait[1]);
    unlink(path);
}
END_TEST

/* A semaphore one thread only posts and the other only waits on is a
 * signal (SimpleQueue.put waking a pool worker, a Future's condition), not
 * a mutex: pairing the poster's releases with acquires it never made would
 * have it hold the "lock" across its other waits (the pool fits deadlocked
 * so). It keeps the recorded order, and no Lock is declared. */
START_TEST(test_fit_lock_race_leaves_a_signal_in_the_recorded_order)
{
    char path[] = "/tmp/check_fit_lockrace_XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(
        f, "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
           " \"command\": [\"python3\", \"p.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
           " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": 4000000,\n"
           " \"threads\": [\n  {\"name\": \"holder\", \"events\": [[0, \"start\"], [0, \"ask\"],"
           " [1000, \"hold\"],\n   [2500000, \"lock_post\", 77], [3000000, \"release\", \"exit\"],"
           " [3000000, \"end\"]]},\n  {\"name\": \"waiter\", \"events\": [[0, \"start\"],"
           " [500000, \"release\", \"call\"],\n   [500100, \"lock_wait\", 2501000, 77],"
           " [3001000, \"ask\"], [3002000, \"hold\"],\n   [3100000, \"release\", \"exit\"],"
           " [3100000, \"end\"]]}\n]}\n");
    fclose(f);
    char *json = fu_fit(path, (gs_fit_opts_t){.exact = true, .lock_race = true});
    cJSON *root = cJSON_Parse(json);
    char h[256], w[256];
    ops_of(root, "holder", h, sizeof h);
    ops_of(root, "waiter", w, sizeof w);
    ck_assert_str_eq(h, "put:lock-1 for waiter");
    ck_assert_str_eq(w, "get:lock-1 for waiter");
    ck_assert_ptr_null(cJSON_GetObjectItem(root, "locks"));
    cJSON_Delete(root);
    free(json);
    unlink(path);
}
END_TEST

static Suite *fit_lockrace_suite(void)
{
    Suite *s = suite_create("fit_lockrace");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_fit_lock_race_pairs_every_thread_acquire_then_release);
    tcase_add_test(core, test_fit_lock_race_is_decided_by_the_wake_up);
    tcase_add_test(core, test_fit_lock_race_leaves_a_signal_in_the_recorded_order);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return tu_main(fit_lockrace_suite());
}
