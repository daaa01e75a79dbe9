/* check_fit_place.c - where a woken thread ran, read off the recording as
 * machine.wake_affine (sim/fit/wakeplace.c), on hand-made recordings.
 *
 * A producer and a consumer on two CPUs, turn after turn: the producer
 * holds the GIL, puts an item (its notify, a lock_post, wakes the consumer
 * asleep in Queue.get), runs 45 us of Python and drops the GIL to sleep.
 * Where the consumer ran is in when its semaphore wait ends: only after the
 * producer's release (queued behind it on its CPU: "beside"), or 25 us
 * after the post while the producer still holds the GIL (the idle CPU's
 * wake-up: "away"). The replay of a fit without wake_affine runs every woken
 * thread whose previous core is idle on that core (away); a recording
 * whose wakes all ran beside their waker gets the value whose replay runs
 * them beside it. MainThread hashes without the GIL through the first
 * turn, so that the first wake finds no core idle and the consumer starts
 * beside the producer: where it goes from there is the placement's. */
#include "fitutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define TURNS 150
#define T 100000LL /* one turn */
#define T0 10000LL

/* Writes the recording; beside: the consumer's wait ends after the
 * producer's release, else 25 us after the post. wcpu: the consumer's CPU
 * at the end of each wait, the producer posting on CPU 0; -1 no CPUs (a
 * recording made before gilsim record wrote them). */
static void write_rec(char *path, bool beside, int wcpu)
{
    static char p[TURNS * 400 + 1000], c[TURNS * 400 + 1000];
    size_t np = 0, nc = 0;
    char pc[16] = "", wc[16] = ""; /* the CPU items of a lock_post, a lock_wait */
    if (wcpu >= 0) {
        snprintf(pc, sizeof pc, ", 0");
        snprintf(wc, sizeof wc, ", %d", wcpu);
    }
    long long b = T0 + 20000; /* the first turn */
    np += (size_t)snprintf(p, sizeof p,
                           "[%lld, \"start\"], [%lld, \"ask\"], [%lld, \"hold\"], "
                           "[%lld, \"release\", \"call\"], "
                           "[%lld, \"call\", %lld, \"time.sleep\", \"sleep\", true]",
                           T0, T0, T0, T0 + 1000, T0 + 1000, b);
    nc += (size_t)snprintf(c, sizeof c,
                           "[%lld, \"start\"], [%lld, \"ask\"], [%lld, \"hold\"], "
                           "[%lld, \"wait\", %lld, \"Queue.get\", \"queue\"], "
                           "[%lld, \"release\", \"call\"], [%lld, \"lock_wait\", %lld, 77%s]",
                           T0 + 100, T0 + 1100, T0 + 1200, T0 + 1300,
                           b + (beside ? 52000 : 30000) + 200, T0 + 1400, T0 + 1500,
                           b + (beside ? 52000 : 30000), wc);
    for (int k = 0; k < TURNS; k++, b += T) {
        bool last = k == TURNS - 1;
        long long run = b + (beside ? 52000 : 30000); /* the consumer's wait ends */
        long long hold = beside ? run + 100 : b + 50100;
        ck_assert(np + 400 < sizeof p && nc + 400 < sizeof c);
        np += (size_t)snprintf(p + np, sizeof p - np,
                               ", [%lld, \"ask\"], [%lld, \"hold\"], [%lld, \"wait\", %lld, "
                               "\"Queue.put\", \"queue\"], "
                               "[%lld, \"lock_post\", 77%s], [%lld, \"release\", \"call\"], "
                               "[%lld, \"call\", %lld, \"time.sleep\", \"sleep\", true]",
                               b, b + 100, b + 4000, b + 6000, b + 5000, pc, b + 50000, b + 50000,
                               b + T - (last ? 40000 : 0));
        nc += (size_t)snprintf(c + nc, sizeof c - nc, ", [%lld, \"ask\"], [%lld, \"hold\"]", run,
                               hold);
        if (!last)
            nc += (size_t)snprintf(
                c + nc, sizeof c - nc,
                ", [%lld, \"wait\", %lld, \"Queue.get\", \"queue\"], "
                "[%lld, \"release\", \"call\"], [%lld, \"lock_wait\", %lld, 77%s]",
                hold + 10000, run + T + 200, hold + 10100, hold + 10200, run + T, wc);
        else
            nc += (size_t)snprintf(c + nc, sizeof c - nc,
                                   ", [%lld, \"release\", \"exit\"], [%lld, \"end\"]", hold + 10000,
                                   hold + 10000);
    }
    long long end = b;         /* after the last turn's sleep */
    long long b1 = T0 + 20000; /* the first turn */
    snprintf(p + np, sizeof p - np,
             ", [%lld, \"ask\"], [%lld, \"hold\"], [%lld, \"release\", \"exit\"], [%lld, \"end\"]",
             end - 40000, end - 39900, end - 39000, end - 39000);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(
        f,
        "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
        " \"command\": [\"python3\", \"pc.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
        " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": %lld,\n"
        " \"calibration\": {\"syscall_ns\": 200, \"wake_hot_ns\": 20000, "
        "\"context_switch_ns\": 2000, \"wake_cold_ns\": 80000, \"timer_jitter_ns\": 10000},\n"
        " \"threads\": [\n"
        "  {\"name\": \"MainThread\", \"events\": [[0, \"start\"], [0, \"ask\"], [0, \"hold\"], "
        "[1000, \"release\", \"call\"], "
        "[1000, \"call\", %lld, \"hashlib.sha256\", \"c_nogil\", true], [%lld, \"ask\"], "
        "[%lld, \"hold\"], [%lld, \"release\", \"exit\"], [%lld, \"end\"]]},\n"
        "  {\"name\": \"producer\", \"events\": [%s]},\n"
        "  {\"name\": \"consumer\", \"events\": [%s]}\n]}\n",
        end + 1000, b1 + 8000, b1 + 8000, b1 + 50020, b1 + 50040, b1 + 50040, p, c);
    ck_assert_int_eq(fclose(f), 0);
}

/* The fitted machine's wake_affine (-1: not written) and the description. */
static double fitted_wake_affine(bool beside, int wcpu, char *desc, size_t n)
{
    char path[] = "/tmp/gilsim-fit-place-XXXXXX";
    write_rec(path, beside, wcpu);
    char *json = fu_fit(path, (gs_fit_opts_t){.no_load = true, .exact = true});
    unlink(path);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    const cJSON *wa = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "machine"), "wake_affine");
    double v = cJSON_IsNumber(wa) ? wa->valuedouble : -1;
    const cJSON *d = cJSON_GetObjectItem(root, "description");
    snprintf(desc, n, "%s", cJSON_IsString(d) ? d->valuestring : "");
    cJSON_Delete(root);
    free(json);
    return v;
}

START_TEST(test_fit_place_wakes_beside_the_waker_give_wake_affine)
{
    char desc[8192];
    double v = fitted_wake_affine(true, -1, desc, sizeof desc);
    ck_assert_msg(v > 0, "every wake ran after its waker's release: wake_affine %.2f", v);
    ck_assert_msg(strstr(desc, "100% ran beside their waker"), "%s", desc);
    ck_assert_msg(strstr(desc, "(by timing: no CPUs recorded)"), "%s", desc);
}
END_TEST

START_TEST(test_fit_place_wakes_on_the_idle_cpu_keep_the_default)
{
    char desc[8192];
    double v = fitted_wake_affine(false, -1, desc, sizeof desc);
    ck_assert_msg(v < 0, "every wake ran on the idle CPU: no wake_affine, got %.2f", v);
    ck_assert_msg(strstr(desc, ", 0% ran beside their waker"), "%s", desc);
}
END_TEST

/* The recorded CPUs against the timing: each wake's woken consumer ran
 * 25 us after the post while its producer held the GIL on (the timing:
 * the idle CPU), but at the end of its wait it was on its producer's CPU
 * (as pipeline's writer, run about 9 us after the post beside its waker
 * holding the GIL on: reccpu, 88 of 167). The CPUs win: all beside, wake_affine written. */
START_TEST(test_fit_place_recorded_cpus_win_over_the_timing)
{
    char desc[8192];
    double v = fitted_wake_affine(false, 0, desc, sizeof desc);
    ck_assert_msg(v > 0, "every wake ran on its waker's CPU: wake_affine, got %.2f", v);
    ck_assert_msg(strstr(desc, "100% ran beside their waker"), "%s", desc);
    ck_assert_msg(
        strstr(desc, "(by the recorded CPUs, the replay's by its cores; by timing alone 0%)"), "%s",
        desc);
}
END_TEST

/* And the other way: woken after the release (the timing: beside), but on
 * the other CPU at the end of the wait (it waited for the idle CPU's
 * wake-up longer than its waker held on). The CPUs say away: the default. */
START_TEST(test_fit_place_recorded_other_cpu_reads_away)
{
    char desc[8192];
    double v = fitted_wake_affine(true, 1, desc, sizeof desc);
    ck_assert_msg(v < 0, "every wake ran on the other CPU: no wake_affine, got %.2f", v);
    ck_assert_msg(strstr(desc, ", 0% ran beside their waker"), "%s", desc);
    ck_assert_msg(
        strstr(desc, "(by the recorded CPUs, the replay's by its cores; by timing alone 100%)"),
        "%s", desc);
}
END_TEST

/* A Lock's waiter that sleeps through many releases: its holder releases
 * and takes the Lock again, 150 times, while holding the GIL (each release
 * a sem_post, lock_post, that wakes the waiter, which finds the Lock taken
 * again and sleeps on inside the same lock_wait), and the wait ends only
 * after the holder's last release of the Lock and of the GIL. Only the last
 * post ended the wait; the others say nothing of where the waiter ran
 * (quiet lock_contention recordings: 626-828 "wakes", 86-96% "beside",
 * of which 5-9 ended a wait). */
static void write_futile_rec(char *path)
{
    static char h[150 * 40 + 200];
    size_t nh = 0;
    for (int k = 0; k < 150; k++) {
        ck_assert(nh + 40 < sizeof h);
        nh += (size_t)snprintf(h + nh, sizeof h - nh, ", [%d, \"lock_post\", 77]",
                               100000 + 100000 * k);
    }
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(
        f,
        "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
        " \"command\": [\"python3\", \"lc.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
        " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": 16000000,\n"
        " \"calibration\": {\"syscall_ns\": 200, \"wake_hot_ns\": 20000, "
        "\"context_switch_ns\": 2000, \"wake_cold_ns\": 80000, \"timer_jitter_ns\": 10000},\n"
        " \"threads\": [\n"
        "  {\"name\": \"holder\", \"events\": [[0, \"start\"], [0, \"ask\"], [0, \"hold\"]%s, "
        "[15100000, \"release\", \"exit\"], [15100000, \"end\"]]},\n"
        "  {\"name\": \"waiter\", \"events\": [[0, \"start\"], [50000, \"release\", \"call\"], "
        "[50100, \"lock_wait\", 15103000, 77], [15103000, \"ask\"], [15104000, \"hold\"], "
        "[15200000, \"release\", \"exit\"], [15200000, \"end\"]]}\n]}\n",
        h);
    ck_assert_int_eq(fclose(f), 0);
}

START_TEST(test_fit_place_reads_only_the_post_that_ended_a_wait)
{
    char path[] = "/tmp/gilsim-fit-place-XXXXXX";
    write_futile_rec(path);
    char *json = fu_fit(path, (gs_fit_opts_t){.no_load = true, .exact = true});
    unlink(path);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    const cJSON *m = cJSON_GetObjectItem(root, "machine");
    ck_assert_msg(!cJSON_GetObjectItem(m, "wake_affine"), "one wake: no wake_affine");
    const cJSON *d = cJSON_GetObjectItem(root, "description");
    ck_assert(cJSON_IsString(d));
    ck_assert_msg(!strstr(d->valuestring, "lock wakes") && !strstr(d->valuestring, "beside their"),
                  "150 posts, one wait: one wake to read, fewer than 100: nothing said: %s",
                  d->valuestring);
    cJSON_Delete(root);
    free(json);
}
END_TEST

static Suite *fit_place_suite(void)
{
    Suite *s = suite_create("fit_place");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fit_place_wakes_beside_the_waker_give_wake_affine);
    tcase_add_test(tc, test_fit_place_wakes_on_the_idle_cpu_keep_the_default);
    tcase_add_test(tc, test_fit_place_reads_only_the_post_that_ended_a_wait);
    tcase_add_test(tc, test_fit_place_recorded_cpus_win_over_the_timing);
    tcase_add_test(tc, test_fit_place_recorded_other_cpu_reads_away);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(fit_place_suite());
}
