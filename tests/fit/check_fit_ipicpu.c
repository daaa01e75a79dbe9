/* check_fit_ipicpu.c - machine.wake_ipi read by the recorded CPUs
 * (sim/fit/ipi.c, idlecpu.c): only wakes onto another, idle CPU count.
 *
 * Hand-made recordings: threads a (CPU 0) and b (CPU 1) pass the GIL back
 * and forth by voluntary releases (drop_gil's signal, the unlock `cost`
 * later, the waiter back 35 us after the signal on its own CPU). In
 * "pending" hand-offs a third thread c was being woken onto the waiter's
 * CPU as the signal came (a post by the signaller 3 us before it, c's
 * lock_wait ending 20 us after it, there): Linux sends no second
 * interrupt to a CPU whose wake-up list already holds a thread, and those
 * releases are cheap. The calibration says a wake-up is 30 us and a bare
 * system call 0.2 us; machine.futex is the engine's 1 us. Properties:
 * with CPUs, only the wakes onto an idle CPU make the median; the same
 * recording without its CPUs mixes both (the timing's reading, as before);
 * Queue notifies onto another idle CPU count too, from the post to the
 * poster's next stamp; with fewer than 20 seen by CPU the timing's reading
 * is kept; all this with --ipi-by-cpu only (off: the timing's reading). */
#include "fitutil.h"

#include <cjson/cJSON.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define PERIOD 200000LL
#define OBJ_C 7000 /* c's lock */
#define OBJ_Q 9000 /* the queue's waiter lock */

typedef struct buf {
    char s[400000];
    size_t n;
} buf_t;

/* Appends one event to b: "[" fmt's text, its CPU when cpus, "]". */
static void ev(buf_t *b, int cpu, bool cpus, const char *fmt, ...)
{
    char e[200];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(e, sizeof e, fmt, ap);
    va_end(ap);
    ck_assert(b->n + 300 < sizeof b->s);
    b->n +=
        (size_t)snprintf(b->s + b->n, sizeof b->s - b->n, cpus ? ", [%s, %d]" : ", [%s]", e, cpu);
}

/* n hand-offs between a (CPU 0) and b (CPU 1); hand-off i is "pending" when
 * pending[i % n_pend], its signal-to-release time then cheap, else dear.
 * With notifies, each hand-off is instead a Queue.put by the holder whose
 * notify wakes the other thread (blocked in the queue's lock_wait) onto its
 * CPU, `dear` from the post to the put's end, then a release whose signal
 * names nobody. */
static void write_rec(char *path, int n, const bool *pending, int n_pend, long long cheap,
                      long long dear, bool notifies, bool cpus)
{
    static buf_t th[3];
    long long t = 10000;
    for (int k = 0; k < 3; k++)
        th[k].n = (size_t)snprintf(th[k].s, sizeof th[k].s, "[%lld, \"start\"]", t + 100LL * k);
    ev(&th[0], 0, cpus, "%lld, \"ask\"", t);
    ev(&th[0], 0, cpus, "%lld, \"hold\"", t);
    ev(&th[1], 1, cpus, "%lld, \"ask\"", t + 100);
    int h = 0;
    for (int i = 0; i < n; i++) {
        long long s = t + (long long)(i + 1) * PERIOD;
        int o = 1 - h;
        if (notifies) {
            ev(&th[o], o, cpus, "%lld, \"woken\"", s - 150000);
            ev(&th[o], o, cpus, "%lld, \"hold\"", s - 149000);
            ev(&th[o], o, cpus, "%lld, \"signal\", -1", s - 120000);
            ev(&th[o], o, cpus, "%lld, \"release\", \"call\"", s - 119900);
            ev(&th[h], h, cpus, "%lld, \"lock_post\", %d", s, OBJ_Q);
            ev(&th[h], h, cpus, "%lld, \"wait\", %lld, \"Queue.put\", \"queue\", %d", s - 2000,
               s + dear, OBJ_Q + 1);
            ev(&th[h], h, cpus, "%lld, \"signal\", -1", s + dear + 500);
            ev(&th[h], h, cpus, "%lld, \"release\", \"call\"", s + dear + 600);
            ev(&th[o], o, cpus, "%lld, \"lock_wait\", %lld, %d", s - 100000, s + 40000, OBJ_Q);
            ev(&th[o], o, cpus, "%lld, \"ask\"", s + 40100);
            ev(&th[o], o, cpus, "%lld, \"hold\"", s + dear + 700);
        } else {
            bool p = pending[i % n_pend];
            long long cost = p ? cheap : dear;
            if (p) {
                ev(&th[h], h, cpus, "%lld, \"lock_post\", %d", s - 3000, OBJ_C);
                ev(&th[2], o, cpus, "%lld, \"lock_wait\", %lld, %d", s - 50000, s + 20000, OBJ_C);
            }
            ev(&th[h], h, cpus, "%lld, \"signal\", %d", s, o + 1);
            ev(&th[h], h, cpus, "%lld, \"release\", \"call\"", s + cost);
            ev(&th[h], h, cpus, "%lld, \"ask\"", s + cost + 50000);
            ev(&th[o], o, cpus, "%lld, \"woken\"", s + 35000);
            ev(&th[o], o, cpus, "%lld, \"hold\"", s + 35100);
        }
        h = o;
    }
    long long end = t + (long long)(n + 2) * PERIOD;
    int o = 1 - h;
    ev(&th[h], h, cpus, "%lld, \"release\", \"exit\"", end);
    ev(&th[h], h, cpus, "%lld, \"end\"", end);
    ev(&th[o], o, cpus, "%lld, \"hold\"", end + 1000);
    ev(&th[o], o, cpus, "%lld, \"release\", \"exit\"", end + 2000);
    ev(&th[o], o, cpus, "%lld, \"end\"", end + 2000);
    ev(&th[2], 1, cpus, "%lld, \"ask\"", end + 3000);
    ev(&th[2], 1, cpus, "%lld, \"hold\"", end + 3000);
    ev(&th[2], 1, cpus, "%lld, \"release\", \"exit\"", end + 4000);
    ev(&th[2], 1, cpus, "%lld, \"end\"", end + 4000);
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(
        f,
        "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
        " \"command\": [\"python3\", \"ipicpu.py\"], \"interpreter\": {\"version\": [3, 11, "
        "0]},\n \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": "
        "%lld,\n \"calibration\": {\"syscall_ns\": 200, \"wake_hot_ns\": 30000, "
        "\"context_switch_ns\": 2000, \"wake_cold_ns\": 80000, \"timer_jitter_ns\": 10000},\n"
        " \"threads\": [\n"
        "  {\"name\": \"MainThread\", \"events\": [[0, \"start\"], [0, \"ask\"], [0, \"hold\"], "
        "[1000, \"release\", \"exit\"], [1000, \"end\"]]},\n"
        "  {\"name\": \"a\", \"events\": [%s]},\n  {\"name\": \"b\", \"events\": [%s]},\n"
        "  {\"name\": \"c\", \"events\": [%s]}\n]}\n",
        end + 5000, th[0].s, th[1].s, th[2].s);
    fclose(f);
}

/* machine.wake_ipi of the fit, in ns, or -1 when not written; the fit's
 * text into *json when json is not NULL (the caller frees it). */
static long long ipi_of(int n, const bool *pending, int n_pend, long long cheap, long long dear,
                        bool notifies, bool cpus, char **json)
{
    char path[] = "/tmp/gilsim-fit-ipicpu-XXXXXX";
    write_rec(path, n, pending, n_pend, cheap, dear, notifies, cpus);
    char *text = fu_fit(path, (gs_fit_opts_t){.ipi_by_cpu = true});
    unlink(path);
    cJSON *root = cJSON_Parse(text);
    ck_assert_ptr_nonnull(root);
    const cJSON *v = cJSON_GetObjectItem(cJSON_GetObjectItem(root, "machine"), "wake_ipi");
    long long ns = -1;
    int64_t x;
    if (v && cJSON_IsString(v) && gs_parse_ns(v->valuestring, &x, NULL, 0) == 0)
        ns = x;
    cJSON_Delete(root);
    if (json)
        *json = text;
    else
        free(text);
    return ns;
}

START_TEST(test_fit_ipi_by_cpu_leaves_out_wakes_onto_a_cpu_already_waking)
{
    bool half[2] = {true, false}; /* every other hand-off: c on its way to the CPU */
    for (long long dear = 10000; dear <= 20000; dear += 5000) {
        char *json;
        long long by_cpu = ipi_of(80, half, 2, 2000, dear, false, true, &json);
        ck_assert_msg(by_cpu == dear - 1000, "dear %lld: by CPU %lld, want %lld", dear, by_cpu,
                      dear - 1000);
        ck_assert_msg(strstr(json, "by their recorded CPUs: 40 GIL drops") != NULL,
                      "the description counts them: %s",
                      strstr(json, "Waking") ? strstr(json, "Waking") : json);
        free(json);
        /* the same hand-offs without CPUs: both kinds in the median */
        long long timing = ipi_of(80, half, 2, 2000, dear, false, false, NULL);
        ck_assert_msg(timing == (2000 + dear) / 2 - 1000, "dear %lld: by timing %lld", dear,
                      timing);
    }
}
END_TEST

START_TEST(test_fit_ipi_by_cpu_reads_queue_notifies_onto_an_idle_cpu)
{
    bool none[1] = {false};
    for (long long dear = 8000; dear <= 16000; dear += 4000) {
        long long by_cpu = ipi_of(40, none, 1, 0, dear, true, true, NULL);
        ck_assert_msg(by_cpu == dear - 1000, "notify %lld: wake_ipi %lld", dear, by_cpu);
        /* without CPUs no notify is read, and no drop woke anyone */
        ck_assert_int_eq(ipi_of(40, none, 1, 0, dear, true, false, NULL), -1);
    }
}
END_TEST

START_TEST(test_fit_ipi_by_cpu_is_opt_in)
{
    bool half[2] = {true, false};
    char path[] = "/tmp/gilsim-fit-ipicpu-XXXXXX";
    write_rec(path, 80, half, 2, 2000, 14000, false, true);
    char *text = fu_fit(path, (gs_fit_opts_t){0});
    unlink(path);
    ck_assert_msg(strstr(text, "\"wake_ipi\": \"7us\"") != NULL,
                  "without --ipi-by-cpu the timing's reading (8 us less futex): %s",
                  strstr(text, "wake_ipi") ? strstr(text, "wake_ipi") : text);
    free(text);
}
END_TEST

START_TEST(test_fit_ipi_by_cpu_too_few_keeps_the_timing_reading)
{
    /* 30 hand-offs, 20 of them onto a CPU already waking c: 10 idle ones,
       fewer than 20: the timing's reading of all 30 */
    bool most[3] = {true, true, false};
    long long ipi = ipi_of(30, most, 3, 2000, 14000, false, true, NULL);
    ck_assert_int_eq(ipi, 2000 - 1000);
}
END_TEST

static Suite *fit_ipicpu_suite(void)
{
    Suite *s = suite_create("fit_ipicpu");
    TCase *core = tcase_create("core");
    tcase_set_timeout(core, 60);
    tcase_add_test(core, test_fit_ipi_by_cpu_reads_queue_notifies_onto_an_idle_cpu);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, test_fit_ipi_by_cpu_too_few_keeps_the_timing_reading);
    tcase_add_test(limits, test_fit_ipi_by_cpu_is_opt_in);
    suite_add_tcase(s, limits);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 60);
    tcase_add_test(props, test_fit_ipi_by_cpu_leaves_out_wakes_onto_a_cpu_already_waking);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(fit_ipicpu_suite());
}
