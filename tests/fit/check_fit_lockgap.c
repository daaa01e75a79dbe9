/* check_fit_lockgap.c - gilsim fit --lock-race's gap from a Lock release to
 * the releaser's next try (sim/fit/lockgap.c): read off the recorded
 * hand-offs whose woken waiter ran on the releaser's CPU, not the Python
 * the recording saw between them, which holds the waiter's run. */
#include "fitutil.h"
#include "gilsim/units.h"
#include "tu_main.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

enum { P = 100000, CS = 2000, GAP = 3000, ROUNDS = 10, T0 = 50000 };

/* Two threads take turns on one Lock (semaphore 4242), all on CPU 0, as
 * lock_contention's workers do on this machine: at each round the holder
 * posts, the waiter's wait ends 5 us later on the same CPU (it preempted
 * the holder), it asks for the GIL at 5.5 us and sleeps; the holder, back
 * after a context switch (2 us), tries again GAP later, fails, drops the
 * GIL (signal at 10.5 us) and blocks. with_cpu false: the same events with
 * no CPU written (a recording made before CPUs were). */
static void write_turns(char *path, bool with_cpu)
{
    const char *c = with_cpu ? ", 0" : "";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
            " \"command\": [\"python3\", \"p.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
            " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": %d,\n"
            " \"calibration\": {\"syscall_ns\": 300, \"wake_hot_ns\": 20000, "
            "\"context_switch_ns\": %d, \"wake_cold_ns\": 80000, \"timer_jitter_ns\": 10000},\n"
            " \"threads\": [\n",
            T0 + (ROUNDS + 1) * P, CS);
    for (int me = 0; me < 2; me++) {
        fprintf(f, "  {\"name\": \"t%d\", \"events\": [[0, \"start\"%s]", me, c);
        if (me == 0)
            fprintf(f, ", [0, \"ask\"%s], [1000, \"hold\"%s]", c, c);
        else
            fprintf(f, ", [5000, \"release\", \"call\"%s], [5100, \"lock_wait\", %d, 4242%s]", c,
                    T0 + 5000, c);
        for (int r = 0; r <= ROUNDS; r++) {
            long t = T0 + (long)r * P;
            bool posts = r % 2 == me; /* the holder of round r posts at t */
            if (posts && r < ROUNDS)
                fprintf(f,
                        ", [%ld, \"lock_post\", 4242%s], [%ld, \"signal\", %d%s],"
                        " [%ld, \"release\", \"call\"%s], [%ld, \"lock_wait\", %ld, 4242%s]",
                        t, c, t + 5500 + CS + GAP, 1 - me, c, t + 11000, c, t + 11500, t + P + 5000,
                        c);
            else if (posts)
                fprintf(f, ", [%ld, \"lock_post\", 4242%s], [%ld, \"release\", \"exit\"%s]", t, c,
                        t + 1000, c);
            else if (r < ROUNDS)
                fprintf(f, ", [%ld, \"ask\"%s], [%ld, \"hold\"%s]", t + 5500, c, t + 11200, c);
            else
                fprintf(f, ", [%ld, \"ask\"%s], [%ld, \"hold\"%s], [%ld, \"release\", \"exit\"%s]",
                        t + 5500, c, t + 6000, c, t + 50000, c);
        }
        long end = T0 + (long)ROUNDS * P + (ROUNDS % 2 == me ? 1000 : 50000);
        fprintf(f, ", [%ld, \"end\"%s]]}%s\n", end, c, me == 0 ? "," : "");
    }
    fprintf(f, "]}\n");
    fclose(f);
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
