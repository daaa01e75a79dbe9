/* check_reccpu.c - the CPU each recorded event ran on (docs/recording.md,
 * "The recording file"): written by writer.c from the spool, read back by
 * recfile.c.
 *
 * core:   a hand-written recording with a CPU on every kind that has one
 *         reads each back where the format puts it (the last item; a
 *         span's is its end's); has_cpu says it has them.
 * limits: recordings made before CPUs were written load, every event's
 *         CPU -1 and has_cpu false; a CPU that is not a whole number from
 *         0 to 65535 is refused naming the event and what would be valid.
 * props:  over random spools (threads of GIL, wait, lock and call events,
 *         each with a random CPU or none), what the writer writes and the
 *         reader reads back is, event by event, the CPU the shim stored
 *         (gsr_event_cpu): a lock_post's from 254 up is unknown, a call's
 *         and a py span's are never written. */
#include "testutil.h"

#include "reccpu_gen.h"
#include "recfile_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char tmp_path[64];

static void tmp_setup(void)
{
    snprintf(tmp_path, sizeof tmp_path, "/tmp/check_reccpu_XXXXXX");
    int fd = mkstemp(tmp_path);
    ck_assert_int_ge(fd, 0);
    close(fd);
}

static void tmp_teardown(void)
{
    unlink(tmp_path);
}

static void write_text(const char *text)
{
    FILE *f = fopen(tmp_path, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
}

#define HEAD                                                                                       \
    "{\"format\": \"gilsim-recording\", \"version\": 1, \"switch_interval_ns\": 5000000,\n"        \
    " \"host\": {\"cores\": 2}, \"duration_ns\": 100000, \"threads\": [\n"

/* ---- core ------------------------------------------------------------------ */

START_TEST(test_cpu_read_where_each_kind_writes_it)
{
    write_text(
        HEAD
        "{\"index\": 0, \"name\": \"a\", \"tid\": 1, \"events\": [\n"
        " [0, \"start\", 3], [0, \"hold\", 1], [10, \"signal\", 1, 2],\n"
        " [11, \"release\", \"call\", 0], [12, \"lock_post\", 4096, 1],\n"
        " [20, \"lock_wait\", 30, 4096, 7], [5, \"wait\", 40, \"Queue.get\", \"queue\", 9, 5],\n"
        " [41, \"ask\", 4], [50, \"woken\", 6], [51, \"hold\", 0],\n"
        " [60, \"call\", 70, \"time.sleep\", \"sleep\", true, 0], [71, \"py\", 72],\n"
        " [80, \"hold\"], [90, \"release\", \"exit\"], [99, \"end\", 2]]}]}\n");
    gsr_recording_t *r = NULL;
    gs_error_t err;
    memset(&err, 0, sizeof err);
    int rc = gsr_recording_read(tmp_path, &r, &err);
    ck_assert_msg(rc == 0, "%s: %s", err.path, err.msg);
    ck_assert(r->has_cpu);
    static const int want[] = {3, 1, 2, 0, 1, 7, 5, 4, 6, 0, -1, -1, -1, -1, 2};
    const gsr_thread_t *th = &r->threads[0];
    ck_assert_uint_eq(th->n_ev, sizeof want / sizeof *want);
    for (size_t k = 0; k < th->n_ev; k++)
        ck_assert_msg(th->ev[k].cpu == want[k], "event %zu: cpu %d, want %d", k, th->ev[k].cpu,
                      want[k]);
    gsr_recording_free(r);
}
END_TEST

/* ---- limits ---------------------------------------------------------------- */

/* A recording in tests/data made before CPUs were written. */
static void check_old(const char *rel)
{
    char path[1200];
    const char *src = getenv("GILSIM_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/data/%s", src ? src : ".", rel);
    gsr_recording_t *r = NULL;
    gs_error_t err;
    memset(&err, 0, sizeof err);
    int rc = gsr_recording_read(path, &r, &err);
    ck_assert_msg(rc == 0, "%s: %s: %s", rel, err.path, err.msg);
    ck_assert_msg(!r->has_cpu, "%s: has no CPUs", rel);
    size_t n = 0;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++, n++)
            ck_assert_int_eq(r->threads[i].ev[k].cpu, -1);
    ck_assert_uint_gt(n, 10);
    gsr_recording_free(r);
}

START_TEST(test_recordings_without_cpus_load)
{
    check_old("fit/pipeline.rec.json");   /* spans with objects, lock posts */
    check_old("ui/mixed_pool8.rec.json"); /* a real recording */
    check_old("reality/convoy_many_4cpu_1ms.rec.json");
}
END_TEST

START_TEST(test_bad_cpu_refused_naming_the_event)
{
    static const char *const bad[] = {"[0, \"hold\", -1]",
                                      "[0, \"hold\", 1.5]",
                                      "[0, \"ask\", 65536]",
                                      "[0, \"start\", \"0\"]",
                                      "[0, \"release\", \"call\", true]",
                                      "[0, \"lock_wait\", 5, 0, -2]",
                                      "[0, \"wait\", 5, \"Queue.get\", \"queue\", 0, 1e9]"};
    for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
        char text[512];
        snprintf(text, sizeof text,
                 HEAD "{\"index\": 0, \"name\": \"a\", \"tid\": 1, \"events\": [\n"
                      " [0, \"hold\", 0], %s]}]}\n",
                 bad[i]);
        write_text(text);
        gsr_recording_t *r = NULL;
        gs_error_t err;
        memset(&err, 0, sizeof err);
        int rc = gsr_recording_read(tmp_path, &r, &err);
        ck_assert_msg(rc == GS_ESCENARIO, "%s: refused (rc %d)", bad[i], rc);
        ck_assert_ptr_null(r);
        ck_assert_str_eq(err.path, "threads[0].events[1]");
        ck_assert_msg(strstr(err.msg, "CPU") && strstr(err.msg, "0 to 65535"), "%s: %s", bad[i],
                      err.msg);
    }
}
END_TEST

/* ---- props ----------------------------------------------------------------- */

/* The reader's kinds by name (gsr_ev_kind_t's order). */
static const char *const kind_names[] = {
    "start",   "end",   "ask",           "hold",   "release",     "drop_request",
    "timeout", "woken", "futile_wakeup", "signal", "switch_wait", "switch_done",
    "call",    "wait",  "lock_wait",     "py",     "lock_post"};

static int cmp_want(const void *a, const void *b)
{
    const reccpu_want_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return strcmp(x->kind, y->kind);
}

START_TEST(test_cpu_written_is_cpu_read)
{
    for (uint64_t seed = 1; seed <= 40; seed++) {
        reccpu_want_t *want = NULL;
        size_t n_want = reccpu_write_random(seed, tmp_path, &want);
        gsr_recording_t *r = NULL;
        gs_error_t err;
        memset(&err, 0, sizeof err);
        int rc = gsr_recording_read(tmp_path, &r, &err);
        ck_assert_msg(rc == 0, "seed %llu: %s: %s", (unsigned long long)seed, err.path, err.msg);
        const gsr_thread_t *th = &r->threads[0];
        ck_assert_uint_eq(th->n_ev, n_want);
        reccpu_want_t *got = calloc(th->n_ev, sizeof *got);
        ck_assert_ptr_nonnull(got);
        bool any = false;
        for (size_t k = 0; k < th->n_ev; k++) {
            ck_assert_uint_lt(th->ev[k].kind, sizeof kind_names / sizeof *kind_names);
            got[k] = (reccpu_want_t){th->ev[k].t, kind_names[th->ev[k].kind], th->ev[k].cpu};
            any = any || th->ev[k].cpu >= 0;
        }
        qsort(got, n_want, sizeof *got, cmp_want);
        qsort(want, n_want, sizeof *want, cmp_want);
        for (size_t k = 0; k < n_want; k++) {
            ck_assert_msg(got[k].t == want[k].t && strcmp(got[k].kind, want[k].kind) == 0,
                          "seed %llu: event %zu is the one written", (unsigned long long)seed, k);
            ck_assert_msg(got[k].cpu == want[k].cpu, "seed %llu: %s at %lld: cpu %d, want %d",
                          (unsigned long long)seed, got[k].kind, (long long)got[k].t, got[k].cpu,
                          want[k].cpu);
        }
        ck_assert(r->has_cpu == any);
        free(got);
        free(want);
        gsr_recording_free(r);
    }
}
END_TEST

Suite *reccpu_suite(void);
Suite *reccpu_suite(void)
{
    Suite *s = suite_create("reccpu");
    TCase *core = tcase_create("core"), *limits = tcase_create("limits"),
          *props = tcase_create("props");
    tcase_add_checked_fixture(core, tmp_setup, tmp_teardown);
    tcase_add_checked_fixture(limits, tmp_setup, tmp_teardown);
    tcase_add_checked_fixture(props, tmp_setup, tmp_teardown);
    tcase_add_test(core, test_cpu_read_where_each_kind_writes_it);
    tcase_add_test(limits, test_recordings_without_cpus_load);
    tcase_add_test(limits, test_bad_cpu_refused_naming_the_event);
    tcase_add_test(props, test_cpu_written_is_cpu_read);
    suite_add_tcase(s, core);
    suite_add_tcase(s, limits);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(reccpu_suite());
}
