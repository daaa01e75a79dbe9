/* check_fit_start.c - a started thread's first Python run (its bootstrap)
 * stays out of the repeat its loop folds into (compress.c,
 * fit_compress_thread).
 *
 * Thread.start waits on an Event the new thread sets near the top of its
 * bootstrap; the new thread then runs on, holding the GIL, into its target
 * up to its first op. In examples/convoy.py that run of the I/O thread
 * lasted 15 to 110 us, a turn of its loop 1 to 4 us. While it holds, the
 * starter it woke and the CPU-bound thread it took the GIL from both ask
 * for the GIL, and the CPU thread takes it at the release: the starter
 * waits a second switch interval, about 10 ms in all at 5 ms. Folded into
 * the repeat of the loop, the run was drawn like any turn, the I/O thread
 * let the GIL go before either asked, and the replay's starter waited one
 * interval (-51% in the quiet run of 2026-12-07 15:42;
 * tests/reality/replay_notes.md, point 22).
 *
 * The recording here is hand-made after a recording of convoy.py (the I/O
 * thread's sleeps 1 ms, its bootstrap 40 us, the CPU thread forced off
 * 5 ms after each request); the machine's wake-up latency is 20 us. */
#include "fitutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define N_SLEEP 12        /* the I/O thread's sleeps */
#define BOOT US(40)       /* the I/O thread's first run, holding the GIL */
#define TURN US(2)        /* a turn of its loop */
#define SLEEP US(1060)    /* a sleep's release to ask */
#define INTERVAL US(5000) /* the switch interval */

typedef tu_text_t evbuf_t;
#define ev(b, ...) tu_text_add((b), ",\n   ", __VA_ARGS__)

/* A forced switch from the CPU thread (cpu) to the requester (req), which
 * asked at ask: its drop request one interval later, the CPU thread's
 * release 5 us after, the requester's hold 5 us after that. Returns the
 * hold. */
static long long forced_to(evbuf_t *cpu, evbuf_t *req, long long ask)
{
    long long rq = ask + INTERVAL, rel = rq + US(5);
    ev(req, "[%lld, \"drop_request\"]", rq);
    ev(cpu, "[%lld, \"release\", \"forced\"]", rel);
    ev(req, "[%lld, \"hold\"]", rel + US(5));
    return rel + US(5);
}

/* Writes the recording to path (a mkstemp template). *main_wait: the
 * starter's recorded GIL wait. new_wins: at Thread.start(io) the new I/O
 * thread takes the GIL the starter drops (it is queued on the idle CPU the
 * waiting CPU thread left, which waits behind it), else the CPU thread. */
static void write_recording_as(char *path, long long *main_wait, bool new_wins)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    static evbuf_t mt, cpu, io;
    mt.n = cpu.n = io.n = 0;
    const long long ev_cpu = 4096, ev_io = 8192, lk = 12288, j_cpu = 16384, j_io = 20480;
    /* MainThread's start-up, then Thread.start(cpu): the CPU thread takes
     * the GIL at once and keeps it; the starter, woken 25 us later, waits
     * for a forced switch */
    ev(&mt, "[0, \"start\"], [0, \"hold\"]");
    long long t = US(1000), wt = 0;
    ev(&mt, "[%lld, \"release\", \"call\"]", t);
    ev(&cpu, "[%lld, \"start\"], [%lld, \"ask\"], [%lld, \"hold\"]", t + US(10), t + US(10),
       t + US(20));
    ev(&cpu, "[%lld, \"call\", %lld, \"Event.set\", \"event\", false, %lld]", t + US(35),
       t + US(40), ev_cpu);
    long long ask = t + US(45);
    ev(&mt, "[%lld, \"lock_wait\", %lld, %lld]", t, ask, lk);
    ev(&mt, "[%lld, \"ask\"]", ask);
    long long hold = forced_to(&cpu, &mt, ask);
    ev(&mt, "[%lld, \"wait\", %lld, \"Event.wait\", \"event\", %lld]", t, hold, ev_cpu);
    wt += hold - ask;
    /* Thread.start(io): the CPU thread, asking since its switch, takes the
     * GIL the starter drops; the new I/O thread asks and waits an interval
     * (new_wins: the I/O thread takes it 40 us after the drop) */
    long long s = hold + US(50), ioh;
    ev(&cpu, "[%lld, \"ask\"]", hold + US(30));
    ev(&mt, "[%lld, \"release\", \"call\"]", s);
    if (new_wins) {
        ioh = s + US(40);
        ev(&io, "[%lld, \"start\"], [%lld, \"ask\"], [%lld, \"hold\"]", s + US(30), s + US(30),
           ioh);
    } else {
        ev(&cpu, "[%lld, \"hold\"]", s + US(2));
        ev(&io, "[%lld, \"start\"], [%lld, \"ask\"]", s + US(140), s + US(140));
        ioh = forced_to(&cpu, &io, s + US(140));
    }
    ev(&io, "[%lld, \"call\", %lld, \"Event.set\", \"event\", false, %lld]", ioh + US(15),
       ioh + US(20), ev_io);
    /* its bootstrap sets the starter's Event 20 us in and runs on; the CPU
     * thread (woken from its switch wait) asks before the starter, and takes
     * the GIL at the I/O thread's first sleep */
    long long rel = ioh + BOOT;
    ev(&mt, "[%lld, \"lock_wait\", %lld, %lld]", s, ioh + US(45), lk);
    if (!new_wins)
        ev(&cpu, "[%lld, \"ask\"]", ioh + US(30));
    ev(&cpu, "[%lld, \"hold\"]", rel + US(2));
    ev(&io, "[%lld, \"release\", \"call\"]", rel);
    ask = ioh + US(45);
    ev(&mt, "[%lld, \"ask\"]", ask);
    hold = forced_to(&cpu, &mt, ask);
    ev(&mt, "[%lld, \"wait\", %lld, \"Event.wait\", \"event\", %lld]", s, hold, ev_io);
    wt += hold - ask;
    /* the starter joins the CPU thread: the I/O thread, asking since its
     * first sleep ended, takes the GIL; from then on each of its sleeps ends
     * in a wait for a forced switch (the convoy) */
    long long jn = hold + US(30);
    ev(&mt, "[%lld, \"release\", \"call\"]", jn);
    long long io_ask = rel + SLEEP;
    ev(&io, "[%lld, \"call\", %lld, \"time.sleep\", \"sleep\", true, 0]", rel, io_ask);
    ev(&io, "[%lld, \"ask\"], [%lld, \"hold\"]", io_ask, jn + US(3));
    ev(&cpu, "[%lld, \"ask\"]", hold + US(30));
    long long h = jn + US(3);
    for (int k = 1; k < N_SLEEP; k++) {
        long long r = h + TURN;
        ev(&io, "[%lld, \"release\", \"call\"]", r);
        ev(&cpu, "[%lld, \"hold\"]", r + US(3));
        long long a = r + SLEEP;
        ev(&io, "[%lld, \"call\", %lld, \"time.sleep\", \"sleep\", true, 0]", r, a);
        ev(&io, "[%lld, \"ask\"]", a);
        h = forced_to(&cpu, &io, a);
        ev(&cpu, "[%lld, \"ask\"]", h + US(30));
    }
    long long io_end = h + US(20);
    ev(&io, "[%lld, \"release\", \"exit\"], [%lld, \"end\"]", io_end, io_end + US(10));
    long long cpu_end = io_end + US(300);
    ev(&cpu, "[%lld, \"hold\"]", io_end + US(3));
    ev(&cpu, "[%lld, \"release\", \"exit\"], [%lld, \"end\"]", cpu_end, cpu_end + US(10));
    ev(&mt, "[%lld, \"wait\", %lld, \"Thread.join\", \"join\", %lld]", jn, cpu_end + US(10), j_cpu);
    ev(&mt, "[%lld, \"ask\"], [%lld, \"hold\"]", cpu_end + US(5), cpu_end + US(6));
    long long end = cpu_end + US(40);
    ev(&mt, "[%lld, \"wait\", %lld, \"Thread.join\", \"join\", %lld]", cpu_end + US(20),
       cpu_end + US(21), j_io);
    ev(&mt, "[%lld, \"release\", \"exit\"], [%lld, \"end\"]", end, end);
    *main_wait = wt;
    fprintf(
        f,
        "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
        " \"command\": [\"python3\", \"convoy.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
        " \"switch_interval_ns\": %lld, \"host\": {\"cores\": 2},\n"
        " \"calibration\": {\"syscall_ns\": 100, \"wake_hot_ns\": 20000, \"context_switch_ns\": "
        "600,"
        " \"wake_cold_ns\": 80000, \"timer_jitter_ns\": 1000},\n"
        " \"duration_ns\": %lld,\n \"threads\": [\n"
        "  {\"name\": \"MainThread\", \"events\": [\n   %s]},\n"
        "  {\"name\": \"cpu\", \"events\": [\n   %s]},\n"
        "  {\"name\": \"io\", \"events\": [\n   %s]}\n]}\n",
        (long long)INTERVAL, end + 1000, mt.s, cpu.s, io.s);
    fclose(f);
}

static void write_recording(char *path, long long *main_wait)
{
    write_recording_as(path, main_wait, false);
}

static char *fit_text(const char *path)
{
    gs_fit_opts_t o = {.no_load = true};
    return fu_fit(path, o);
}

static int64_t duration(const cJSON *d)
{
    int64_t ns = -1;
    ck_assert_msg(cJSON_IsString(d), "a fixed duration");
    ck_assert_int_eq(gs_parse_ns(cJSON_GetStringValue(d), &ns, NULL, 0), 0);
    return ns;
}

/* The I/O thread's program begins with its bootstrap run, as recorded, and
 * its first sleep; the other turns fold into a repeat whose Python is a
 * turn's, and the thread's last run stays after it. Every sleep is kept. */
START_TEST(test_fit_started_threads_bootstrap_is_not_a_turn)
{
    char path[] = "/tmp/check_fit_start_XXXXXX";
    long long wait;
    write_recording(path, &wait);
    char *json = fit_text(path);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    const cJSON *prog = fu_program(root, "io");
    ck_assert_int_eq(duration(cJSON_GetObjectItem(cJSON_GetArrayItem(prog, 0), "cpu")), BOOT);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetArrayItem(prog, 1), "sleep"));
    const cJSON *rep = cJSON_GetArrayItem(prog, 2);
    ck_assert_int_eq(cJSON_GetObjectItem(rep, "repeat")->valueint, N_SLEEP - 1);
    const cJSON *body = cJSON_GetObjectItem(rep, "do");
    ck_assert_int_eq(duration(cJSON_GetObjectItem(cJSON_GetArrayItem(body, 0), "cpu")), TURN);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetArrayItem(body, 1), "sleep"));
    ck_assert_int_eq(duration(cJSON_GetObjectItem(cJSON_GetArrayItem(prog, 3), "cpu")), US(20));
    ck_assert_int_eq(cJSON_GetArraySize(prog), 4);
    /* a thread nobody started (MainThread) folds from its first op */
    ck_assert_ptr_nonnull(
        cJSON_GetObjectItem(cJSON_GetArrayItem(fu_program(root, "MainThread"), 0), "cpu"));
    cJSON_Delete(root);
    free(json);
    unlink(path);
}
END_TEST

/* Replayed, the starter waits for the GIL about as long as recorded: one
 * interval in each Thread.start, where it waited one in all while the
 * bootstrap was drawn as a turn of 2 us. */
START_TEST(test_fit_start_replay_keeps_the_starters_second_wait)
{
    char path[] = "/tmp/check_fit_start_XXXXXX";
    long long real;
    write_recording(path, &real);
    char *json = fit_text(path);
    fu_replay_t r;
    fu_replay(json, &r);
    int64_t wait = fu_thread(&r, "MainThread")->gil_wait_ns;
    ck_assert_msg(wait > real * 75 / 100 && wait < real * 125 / 100,
                  "the starter waited %lld ns for the GIL, recorded %lld", (long long)wait, real);
    fu_replay_free(&r);
    free(json);
    unlink(path);
}
END_TEST

/* The thread whose GIL hold comes right before name's first one in r's
 * trace, by thread index (-1 if name never held it). */
static int thread_index(const fu_replay_t *r, const char *name);

static int holder_before_first(const fu_replay_t *r, const char *name)
{
    const gs_trace_t *t = r->trace;
    int me = thread_index(r, name);
    ck_assert_int_ge(me, 0);
    const gs_lane_t *gil = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    for (size_t k = 0; k < gil->n; k++)
        if (gil->iv[k].who == me)
            return k ? gil->iv[k - 1].who : -1;
    return -1;
}

static int thread_index(const fu_replay_t *r, const char *name)
{
    for (int i = 0; i < gs_trace_n_lanes(r->trace); i++) {
        const gs_lane_t *l = gs_trace_lane(r->trace, i);
        if (l->kind == GS_LANE_THREAD && strcmp(l->name, name) == 0)
            return l->index;
    }
    return -1;
}

/* Who took the GIL the starter dropped in Thread.start(io) is read off the
 * recording (startdrop.c) and said: the new thread there, and the
 * description names the key that replays it so (machine.behind_new_thread,
 * not written); the CPU thread there, and it names none. */
START_TEST(test_fit_start_drop_read_off_the_recording)
{
    for (int new_wins = 0; new_wins <= 1; new_wins++) {
        char path[] = "/tmp/check_fit_start_XXXXXX";
        long long wait;
        write_recording_as(path, &wait, new_wins);
        char *json = fit_text(path);
        cJSON *root = cJSON_Parse(json);
        ck_assert_ptr_nonnull(root);
        ck_assert_ptr_null(
            cJSON_GetObjectItem(cJSON_GetObjectItem(root, "machine"), "behind_new_thread"));
        const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
        ck_assert_ptr_nonnull(strstr(d, new_wins ? "At 1 of the recording's 1 Thread.starts"
                                                 : "At 0 of the recording's 1 Thread.starts"));
        ck_assert_msg((strstr(d, "machine.behind_new_thread=true") != NULL) == new_wins,
                      "new_wins %d: %s", new_wins, d);
        cJSON_Delete(root);
        free(json);
        unlink(path);
    }
}
END_TEST

/* Replayed at seeds 1 to 5 with what the description says, the start goes
 * as recorded: the new I/O thread takes the GIL straight from its starter
 * where it did so really (the shared queue alone gave it to the CPU thread
 * every time), the CPU thread where that did. */
START_TEST(test_fit_start_replay_follows_the_recorded_drop)
{
    for (int new_wins = 0; new_wins <= 1; new_wins++) {
        char path[] = "/tmp/check_fit_start_XXXXXX";
        long long wait;
        write_recording_as(path, &wait, new_wins);
        char *json = fit_text(path);
        for (int seed = 1; seed <= 5; seed++) {
            cJSON *root = cJSON_Parse(json);
            cJSON_AddNumberToObject(root, "seed", seed);
            const char *d = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
            if (strstr(d, "--set machine.behind_new_thread=true")) /* as the user would */
                cJSON_AddTrueToObject(cJSON_GetObjectItem(root, "machine"), "behind_new_thread");
            char *txt = cJSON_PrintUnformatted(root);
            fu_replay_t r;
            fu_replay(txt, &r);
            int before = holder_before_first(&r, "io");
            int want = thread_index(&r, new_wins ? "MainThread" : "cpu");
            ck_assert_msg(before == want, "new_wins %d, seed %d: io took the GIL from thread %d",
                          new_wins, seed, before);
            fu_replay_free(&r);
            free(txt);
            cJSON_Delete(root);
        }
        free(json);
        unlink(path);
    }
}
END_TEST

static Suite *fit_start_suite(void)
{
    Suite *s = suite_create("fit_start");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_fit_started_threads_bootstrap_is_not_a_turn);
    tcase_add_test(core, test_fit_start_drop_read_off_the_recording);
    suite_add_tcase(s, core);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 60);
    tcase_add_test(props, test_fit_start_replay_keeps_the_starters_second_wait);
    tcase_add_test(props, test_fit_start_replay_follows_the_recorded_drop);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(fit_start_suite());
}
