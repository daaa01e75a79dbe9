/* check_fit_io.c - an I/O call that left the GIL for less than the
 * machine's wake-up latency did not sleep, and is fitted as a C call
 * releasing the GIL of its recorded time (setup.c, fit_io_kind).
 *
 * pipeline.py's writer calls os.write on /dev/null: 0.6 to 4.8 us off the
 * GIL. As an io op the model added its wake-up (20 us) after each, so the
 * replay's call lasted 20 us and a thread woken meanwhile took the GIL the
 * writer would have taken back (tests/reality/replay_notes.md, point 22).
 *
 * The recording here is hand-made: a thread writes N times (2 us of Python,
 * os.write off the GIL for WRITE, a sleep of 100 us), on a machine whose
 * wake-up latency is 20 us. */
#include "fitutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N 100

typedef tu_text_t evbuf_t;
#define ev(b, ...) tu_text_add((b), ",\n   ", __VA_ARGS__)

/* Writes the recording to path (a mkstemp template), each os.write off the
 * GIL for write_ns; returns its length. */
static long long write_recording(char *path, long long write_ns)
{
    static evbuf_t w;
    w.n = 0;
    ev(&w, "[0, \"start\"], [0, \"ask\"], [100, \"hold\"]");
    long long t = 1000;
    for (int k = 0; k < N; k++) {
        t += US(2);
        ev(&w, "[%lld, \"release\", \"call\"], [%lld, \"ask\"], [%lld, \"hold\"]", t + 100,
           t + 100 + write_ns, t + 200 + write_ns);
        ev(&w, "[%lld, \"call\", %lld, \"os.write\", \"io\", true, 0]", t, t + 300 + write_ns);
        t += 300 + write_ns;
        ev(&w, "[%lld, \"release\", \"call\"], [%lld, \"ask\"], [%lld, \"hold\"]", t + 100,
           t + US(100), t + US(100) + 100);
        ev(&w, "[%lld, \"call\", %lld, \"time.sleep\", \"sleep\", true, 0]", t, t + US(100) + 200);
        t += US(100) + 200;
    }
    ev(&w, "[%lld, \"release\", \"exit\"], [%lld, \"end\"]", t + 1000, t + 1000);
    fu_write_one_thread(path, "write.py",
                        "\"syscall_ns\": 100, \"wake_hot_ns\": 20000, \"context_switch_ns\": 600, "
                        "\"wake_cold_ns\": 80000, \"timer_jitter_ns\": 1000",
                        t + 2000, "writer", w.s);
    return t + 1000;
}

static char *fit_text(const char *path)
{
    gs_fit_opts_t o = {.no_load = true, .raw_cpu = true};
    return fu_fit(path, o);
}

/* The verbs of the writer's repeat body, as "c_call,sleep," and so on. */
static void body_verbs(const cJSON *root, char *out, size_t n)
{
    out[0] = '\0';
    const cJSON *t = cJSON_GetArrayItem(cJSON_GetObjectItem(root, "threads"), 0), *op;
    cJSON_ArrayForEach(op, cJSON_GetObjectItem(t, "program"))
    {
        const cJSON *body = cJSON_GetObjectItem(op, "do"), *b;
        cJSON_ArrayForEach(b, body)
        {
            if (b->child)
                snprintf(out + strlen(out), n - strlen(out), "%s,", b->child->string);
        }
    }
}

/* A write of 1 us is a C call releasing the GIL and the description says
 * so; one of 60 us (longer than the 20 us wake-up) stays an io op. */
START_TEST(test_fit_io_shorter_than_a_wakeup_is_a_c_call)
{
    static const struct {
        long long write_ns;
        const char *verbs;
        bool said;
    } cases[] = {{1000, "cpu,c_call,sleep,", true}, {60000, "cpu,io,sleep,", false}};
    for (size_t c = 0; c < sizeof cases / sizeof cases[0]; c++) {
        char path[] = "/tmp/check_fit_io_XXXXXX";
        write_recording(path, cases[c].write_ns);
        char *json = fit_text(path);
        cJSON *root = cJSON_Parse(json);
        ck_assert_ptr_nonnull(root);
        char verbs[256];
        body_verbs(root, verbs, sizeof verbs);
        ck_assert_msg(strcmp(verbs, cases[c].verbs) == 0, "case %zu: %s", c, verbs);
        const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
        ck_assert_msg((strstr(desc, "100 I/O calls off the GIL for less than a wake-up") != NULL) ==
                          cases[c].said,
                      "case %zu: %s", c, desc);
        cJSON_Delete(root);
        free(json);
        unlink(path);
    }
}
END_TEST

/* Replayed, the writes keep their recorded time: the run keeps the
 * recording's length (each write lasted a wake-up, 20 us, as an io op:
 * +1.9 ms, +18%). */
START_TEST(test_fit_io_replay_keeps_the_short_writes_short)
{
    char path[] = "/tmp/check_fit_io_XXXXXX";
    long long real = write_recording(path, 1000);
    char *json = fit_text(path);
    fu_replay_t r;
    fu_replay(json, &r);
    ck_assert_msg(r.stats.makespan_ns > real * 95 / 100 && r.stats.makespan_ns < real * 105 / 100,
                  "replay %lld ns against the recording's %lld", (long long)r.stats.makespan_ns,
                  real);
    fu_replay_free(&r);
    free(json);
    unlink(path);
}
END_TEST

static Suite *fit_io_suite(void)
{
    Suite *s = suite_create("fit_io");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_fit_io_shorter_than_a_wakeup_is_a_c_call);
    suite_add_tcase(s, core);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 60);
    tcase_add_test(props, test_fit_io_replay_keeps_the_short_writes_short);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(fit_io_suite());
}
