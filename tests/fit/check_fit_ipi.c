/* check_fit_ipi.c - what waking a sleeper on another CPU costs its waker,
 * read off the recording (sim/fit/ipi.c: machine.wake_ipi).
 *
 * The recordings are hand-made: two threads passing the GIL back and forth
 * by voluntary releases. Each release is drop_gil's signal, naming the other
 * thread, then the unlock `cost` later; the other thread's wait returns
 * `back` after the signal (never before the release: it needs the GIL's
 * mutex) and it holds the GIL at once. The calibration says
 * a wake-up (wake_hot) is 30 us and a bare system call 0.2 us. Properties:
 * wake_ipi is the median signal-to-release time less machine.futex (1 us,
 * the engine's default), so it follows the recorded cost; releases whose
 * waiter was back sooner than half a wake-up (not asleep, or woken where it
 * was) or whose signal took no longer than a bare system call (nobody
 * waited) are not counted, and with fewer than 20 counted the key is left
 * out and the description says so; a recording without a calibration gets
 * neither; out of memory anywhere in the fit is the fit's error
 * (GS_ENOMEM), never a fit that says "fewer than 20". */
#include "alloc_fail.h"
#include "fitutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define WAKE_HOT 30000LL
#define SYSCALL 200LL
#define PERIOD 200000LL /* one hold */

/* Writes a recording of n hand-offs: the i-th release's signal-to-release
 * time is costs[i % n_costs], its waiter back `back` after the signal. */
static void write_recording(char *path, int n, const long long *costs, int n_costs, long long back,
                            bool calibrated)
{
    static char ev[2][200000];
    size_t len[2] = {0, 0};
    long long t = 10000;
    len[0] += (size_t)snprintf(ev[0], sizeof ev[0],
                               "[%lld, \"start\"], [%lld, \"ask\"], [%lld, \"hold\"]", t, t, t);
    len[1] += (size_t)snprintf(ev[1], sizeof ev[1], "[%lld, \"start\"], [%lld, \"ask\"]", t + 100,
                               t + 100);
    int h = 0;
    for (int i = 0; i < n; i++) {
        long long s = t + (long long)(i + 1) * PERIOD, cost = costs[i % n_costs];
        int o = 1 - h;
        ck_assert(len[h] + 200 < sizeof ev[h] && len[o] + 200 < sizeof ev[o]);
        len[h] += (size_t)snprintf(ev[h] + len[h], sizeof ev[h] - len[h],
                                   ", [%lld, \"signal\", %d], [%lld, \"release\", \"call\"],"
                                   " [%lld, \"ask\"]",
                                   s, o + 1, s + cost, s + cost + 50000);
        long long b = s + back > s + cost ? s + back : s + cost + 100;
        len[o] += (size_t)snprintf(ev[o] + len[o], sizeof ev[o] - len[o],
                                   ", [%lld, \"woken\"], [%lld, \"hold\"]", b, b + 100);
        h = o;
    }
    long long end = t + (long long)(n + 2) * PERIOD;
    int o = 1 - h;
    len[h] += (size_t)snprintf(ev[h] + len[h], sizeof ev[h] - len[h],
                               ", [%lld, \"release\", \"exit\"], [%lld, \"end\"]", end, end);
    len[o] += (size_t)snprintf(ev[o] + len[o], sizeof ev[o] - len[o],
                               ", [%lld, \"hold\"], [%lld, \"release\", \"exit\"], [%lld, \"end\"]",
                               end + 1000, end + 2000, end + 2000);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
            " \"command\": [\"python3\", \"ipi.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
            " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": %lld,\n",
            end + 3000);
    if (calibrated)
        fprintf(
            f,
            " \"calibration\": {\"syscall_ns\": %lld, \"wake_hot_ns\": %lld, "
            "\"context_switch_ns\": 2000, \"wake_cold_ns\": 80000, \"timer_jitter_ns\": 10000},\n",
            SYSCALL, WAKE_HOT);
    fprintf(
        f,
        " \"threads\": [\n"
        "  {\"name\": \"MainThread\", \"events\": [[0, \"start\"], [0, \"ask\"], [0, \"hold\"], "
        "[1000, \"release\", \"exit\"], [1000, \"end\"]]},\n"
        "  {\"name\": \"a\", \"events\": [%s]},\n"
        "  {\"name\": \"b\", \"events\": [%s]}\n]}\n",
        ev[0], ev[1]);
    fclose(f);
}

static char *fit_path(const char *path)
{
    return fu_fit(path, (gs_fit_opts_t){0});
}

static char *fit_of(int n, const long long *costs, int n_costs, long long back, bool calibrated)
{
    char path[] = "/tmp/gilsim-fit-ipi-XXXXXX";
    write_recording(path, n, costs, n_costs, back, calibrated);
    char *json = fit_path(path);
    unlink(path);
    return json;
}

/* machine.wake_ipi as written, in ns, or -1 when the key is not. */
static long long written_ipi(const char *json)
{
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "machine"), "wake_ipi");
    long long ns = -1;
    if (v) {
        int64_t x;
        ck_assert_msg(cJSON_IsString(v) && gs_parse_ns(v->valuestring, &x, NULL, 0) == 0,
                      "wake_ipi is a duration");
        ns = x;
    }
    cJSON_Delete(root);
    return ns;
}

START_TEST(test_fit_ipi_is_the_median_wake_cost_less_the_futex_call)
{
    long long prev = -1;
    for (long long c = 3000; c <= 18000; c += 5000) {
        long long costs[3] = {c - 1000, c, c + 1500}; /* median c */
        char *json = fit_of(60, costs, 3, 35000, true);
        long long ipi = written_ipi(json);
        ck_assert_msg(ipi == c - 1000, "cost %lld: wake_ipi %lld, want %lld", c, ipi, c - 1000);
        ck_assert_int_gt(ipi, prev);
        prev = ipi;
        ck_assert_msg(strstr(json, "machine.wake_ipi") != NULL, "the description says it");
        free(json);
    }
    /* a wake cheaper than the futex call itself: 0, not negative */
    long long cheap[1] = {600};
    char *json = fit_of(60, cheap, 1, 35000, true);
    ck_assert_int_eq(written_ipi(json), 0);
    free(json);
}
END_TEST

START_TEST(test_fit_ipi_counts_only_wakes_of_sleepers)
{
    /* each waiter back just after the release, 12.1 us after the signal,
       under half a wake-up: caught on its way into its wait, or woken on its
       own CPU: none counted */
    long long costs[1] = {12000};
    char *json = fit_of(60, costs, 1, 10000, true);
    ck_assert_int_eq(written_ipi(json), -1);
    ck_assert_msg(strstr(json, "GIL releases that woke a sleeper, fewer than 20") != NULL,
                  "the description says why: %.300s", json);
    free(json);
    /* signals no longer than a bare system call: nobody was waiting */
    long long bare[1] = {SYSCALL};
    json = fit_of(60, bare, 1, 35000, true);
    ck_assert_int_eq(written_ipi(json), -1);
    free(json);
    /* the sleepers among others: only theirs make the median */
    long long mixed[4] = {SYSCALL, 12000, 12000, 12000};
    json = fit_of(80, mixed, 4, 35000, true);
    ck_assert_int_eq(written_ipi(json), 11000);
    free(json);
}
END_TEST

START_TEST(test_fit_ipi_needs_twenty_and_a_calibration)
{
    long long costs[1] = {12000};
    char *json = fit_of(19, costs, 1, 35000, true);
    ck_assert_int_eq(written_ipi(json), -1);
    ck_assert(strstr(json, "GIL releases that woke a sleeper, fewer than 20") != NULL);
    free(json);
    json = fit_of(20, costs, 1, 35000, true);
    ck_assert_int_eq(written_ipi(json), 11000);
    free(json);
    json = fit_of(60, costs, 1, 35000, false);
    ck_assert_int_eq(written_ipi(json), -1);
    ck_assert(strstr(json, "wake_ipi") == NULL);
    free(json);
}
END_TEST

/* Every allocation of a fit in turn made to fail (the k-th, k = 0, 1, ...
 * until a fit runs through without reaching it): the fit either fails with
 * an error that says why (GS_ENOMEM "out of memory" once the recording is
 * read; reading it, the reader's own error), or, where the failure was
 * handled, writes the same bytes as without it; never a fit that says
 * "fewer than 20" releases or leaves wake_ipi out for want of memory. */
START_TEST(test_fit_ipi_out_of_memory_is_an_error_not_too_few_releases)
{
    long long costs[1] = {12000};
    char path[] = "/tmp/gilsim-fit-ipi-XXXXXX";
    write_recording(path, 60, costs, 1, 35000, true);
    char *want = fit_path(path);
    ck_assert_int_eq(written_ipi(want), 11000);
    long k, n_enomem = 0;
    for (k = 0; k < 20000; k++) {
        char *json;
        gs_error_t err;
        bool failed;
        int rc = af_fit(path, k, &json, &err, &failed);
        if (rc == 0) {
            ck_assert_msg(strcmp(json, want) == 0,
                          "allocation %ld failed, the fit went on and wrote another text", k);
        } else {
            ck_assert_msg(failed && err.msg[0], "allocation %ld: rc %d, %s", k, rc, err.msg);
            n_enomem += rc == GS_ENOMEM && strstr(err.msg, "out of memory") != NULL;
        }
        free(json);
        if (!failed)
            break;
    }
    ck_assert_msg(k < 20000, "a fit of 60 hand-offs makes fewer than 20000 allocations");
    ck_assert_int_gt(n_enomem, 0);
    free(want);
    unlink(path);
}
END_TEST

static Suite *fit_ipi_suite(void)
{
    Suite *s = suite_create("fit_ipi");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_fit_ipi_counts_only_wakes_of_sleepers);
    suite_add_tcase(s, core);

    /* limits: too few releases, no calibration, no memory */
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 120);
    tcase_add_test(limits, test_fit_ipi_needs_twenty_and_a_calibration);
    tcase_add_test(limits, test_fit_ipi_out_of_memory_is_an_error_not_too_few_releases);
    suite_add_tcase(s, limits);

    /* props: wake_ipi follows the recorded cost over a range of costs */
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 60);
    tcase_add_test(props, test_fit_ipi_is_the_median_wake_cost_less_the_futex_call);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(fit_ipi_suite());
}
