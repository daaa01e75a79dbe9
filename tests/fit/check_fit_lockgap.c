/* check_fit_lockgap.c - gilsim fit --lock-race's gap from a Lock release to
 * the releaser's next try (sim/fit/lockgap.c): read off the recorded
 * hand-offs whose woken waiter ran on the releaser's CPU, not the Python
 * the recording saw between them, which holds the waiter's run. */
#include "fitutil.h"
#include "gilsim/units.h"
#include "lockturns.h"
#include "tu_main.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { ROUNDS = 10, GAP = LT_GAP };

/* Two threads take turns on one Lock, all on CPU 0, as lock_contention's
 * workers do on this machine: the waiter's wait ends on the releaser's CPU
 * (it preempted the holder), and the holder, back after a context switch,
 * tries again GAP later (lockturns.h). with_cpu false: the same events with
 * no CPU written (a recording made before CPUs were). */
static void write_turns(char *path, bool with_cpu)
{
    lockturns_write(path, ROUNDS, with_cpu ? 0 : -1, with_cpu ? 0 : -1);
}

/* The Python (ns) between thread's first release and its next acquire in
 * the fitted program, -1 if none. */
static long long retry_of(const cJSON *prog)
{
    bool after = false;
    long long sum = 0;
    const cJSON *op;
    cJSON_ArrayForEach(op, prog)
    {
        if (cJSON_GetObjectItem(op, "release"))
            after = true, sum = 0;
        else if (after && cJSON_GetObjectItem(op, "acquire"))
            return sum;
        else if (after && cJSON_IsString(cJSON_GetObjectItem(op, "cpu"))) {
            int64_t ns;
            ck_assert_int_eq(gs_parse_ns(cJSON_GetObjectItem(op, "cpu")->valuestring, &ns, NULL, 0),
                             0);
            sum += ns;
        }
    }
    return -1;
}

static char *fit_turns(bool with_cpu, long long *retry)
{
    char path[] = "/tmp/check_fit_lockgap_XXXXXX";
    write_turns(path, with_cpu);
    char *json = fu_fit(path, (gs_fit_opts_t){.exact = true, .lock_race = true});
    unlink(path);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(root, "locks"));
    *retry = retry_of(fu_program(root, "t0"));
    cJSON_Delete(root);
    return json;
}

START_TEST(test_fit_lock_gap_is_the_releasers_own_time_to_its_try)
{
    long long retry;
    char *json = fit_turns(true, &retry);
    /* the signal 10.5 us after the post, less the waiter's 5.5 us and a
       context switch: 3 us, where the recorded Python was 10.5-11 us */
    ck_assert_msg(retry >= GAP - 100 && retry <= GAP + 100, "retry %lld ns, want %d", retry, GAP);
    ck_assert_msg(strstr(json, "read off the recorded hand-offs"), "%s", json);
    free(json);
}
END_TEST

START_TEST(test_fit_lock_gap_without_cpus_keeps_the_recorded_python)
{
    long long retry;
    char *json = fit_turns(false, &retry);
    ck_assert_msg(retry > 10000 && retry < 12000, "retry %lld ns, want the recorded ~10.5 us",
                  retry);
    ck_assert_ptr_null(strstr(json, "read off the recorded hand-offs"));
    free(json);
}
END_TEST

static Suite *fit_lockgap_suite(void)
{
    Suite *s = suite_create("fit_lockgap");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_fit_lock_gap_is_the_releasers_own_time_to_its_try);
    tcase_add_test(core, test_fit_lock_gap_without_cpus_keeps_the_recorded_python);
    suite_add_tcase(s, core);
    return s;
}

int main(void)
{
    return tu_main(fit_lockgap_suite());
}
