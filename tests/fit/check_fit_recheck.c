/* check_fit_recheck.c - a queue's recheck read off the recording
 * (sim/fit/recheck.c), on hand-written recordings.
 *
 * A producer puts two items while two consumers wait in Queue.get; each put
 * wakes one, the first consumer takes both, and the second, woken for an
 * item that is gone, holds the GIL for a moment and waits again inside the
 * same call (CPython's `while not self._qsize(): self.not_empty.wait()`).
 * That hold is the queue's recheck in the fitted scenario, and the replay
 * shows it on the GIL lane as a hold of that length between two other
 * threads' holds, so gil.switches counts it as CPython does. A recording
 * without such a hold, or whose hold ended in a forced switch, gets none. */
#include "testutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* consumer2's hold after its first wake-up: `vain` ns ending in a release
 * of kind `why` ("call": it waited again; "forced"), or none (vain 0: its
 * first wait lasts until the third put). */
static void write_rec(char *path, long long vain, const char *why)
{
    snprintf(path, 64, "/tmp/check_fit_recheck_XXXXXX");
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    char c2[512];
    if (vain > 0)
        snprintf(
            c2, sizeof c2,
            "[600, \"release\", \"call\"], [650, \"lock_wait\", 2050], [2050, \"ask\"],\n"
            "   [4100, \"hold\"], [%lld, \"release\", \"%s\"], [%lld, \"lock_wait\", 18000],\n",
            4100 + vain, why, 4150 + vain);
    else
        snprintf(c2, sizeof c2, "[600, \"release\", \"call\"], [650, \"lock_wait\", 18000],\n");
    fprintf(f,
            "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
            " \"command\": [\"python3\", \"q.py\"], \"interpreter\": {\"version\": [3, 11, 0]},\n"
            " \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2}, \"duration_ns\": 21000,\n"
            " \"threads\": [\n"
            "  {\"name\": \"MainThread\", \"events\": [[0, \"start\"], [0, \"hold\"],\n"
            "   [400, \"release\", \"unnamed\"], [20100, \"ask\"], [20200, \"hold\"],\n"
            "   [21000, \"release\", \"exit\"], [21000, \"end\"]]},\n"
            "  {\"name\": \"consumer1\", \"events\": [[400, \"start\"], [400, \"ask\"], [410, "
            "\"hold\"],\n"
            "   [500, \"release\", \"call\"], [550, \"lock_wait\", 3050], [3050, \"ask\"],\n"
            "   [3100, \"hold\"], [450, \"wait\", 3200, \"Queue.get\", \"queue\"],\n"
            "   [3400, \"wait\", 3500, \"Queue.get\", \"queue\"], [4000, \"release\", \"exit\"],\n"
            "   [4000, \"end\"]]},\n"
            "  {\"name\": \"consumer2\", \"events\": [[420, \"start\"], [420, \"ask\"], [520, "
            "\"hold\"],\n"
            "   %s"
            "   [18000, \"ask\"], [19100, \"hold\"], [530, \"wait\", 19500, \"Queue.get\", "
            "\"queue\"],\n"
            "   [20000, \"release\", \"exit\"], [20000, \"end\"]]},\n"
            "  {\"name\": \"producer\", \"events\": [[610, \"start\"], [610, \"ask\"], [700, "
            "\"hold\"],\n"
            "   [900, \"wait\", 1000, \"Queue.put\", \"queue\"], [1900, \"wait\", 2000, "
            "\"Queue.put\", \"queue\"],\n"
            "   [3000, \"release\", \"call\"], [3000, \"call\", 15000, \"time.sleep\", \"sleep\", "
            "true],\n"
            "   [15000, \"ask\"], [15100, \"hold\"], [17900, \"wait\", 18000, \"Queue.put\", "
            "\"queue\"],\n"
            "   [19000, \"release\", \"exit\"], [19000, \"end\"]]}\n]}\n",
            c2);
    fclose(f);
}

static cJSON *fit(const char *path)
{
    gs_fit_opts_t o = {.no_load = true};
    char *json = NULL;
    size_t len = 0;
    gs_error_t err;
    int rc = gs_fit_recording(path, &o, &json, &len, &err);
    ck_assert_msg(rc == 0, "fit %s: %s: %s", path, err.path, err.msg);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    free(json);
    return root;
}

/* The fitted queue's recheck ("" when it has none). */
static const char *recheck_of(const cJSON *root)
{
    const cJSON *q = cJSON_GetObjectItemCaseSensitive(root, "queues");
    ck_assert_int_eq(cJSON_GetArraySize(q), 1);
    const cJSON *r = cJSON_GetObjectItemCaseSensitive(q->child, "recheck");
    return cJSON_IsString(r) ? r->valuestring : "";
}

START_TEST(test_fit_recheck_is_the_hold_of_a_vain_wake_up)
{
    char path[64];
    write_rec(path, 900, "call");
    cJSON *root = fit(path);
    unlink(path);
    ck_assert_str_eq(recheck_of(root), "900ns");
    const char *desc = cJSON_GetObjectItemCaseSensitive(root, "description")->valuestring;
    ck_assert_ptr_nonnull(strstr(desc, "held the GIL 900 ns before it waited again"));

    /* replayed: consumer2's re-check is a 900 ns hold between two other
     * threads' holds, a change of holder each way */
    char *text = cJSON_PrintUnformatted(root);
    gs_model_t *m = NULL;
    gs_diag_t d;
    ck_assert_int_eq(gs_scenario_load_string("fitted", text, strlen(text), NULL, 0, &m, &d), 0);
    ck_assert_int_eq(m->queues[0].recheck_ns, 900);
    gs_trace_t *t = tu_run(m, NULL);
    ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_DONE);
    int c2 = -1;
    for (int i = 0; i < m->n_threads; i++)
        if (strcmp(m->threads[i].name, "consumer2") == 0)
            c2 = i;
    const gs_lane_t *gil = gs_trace_lane(t, gs_trace_gil_lane(t, 0));
    int vain = 0;
    for (size_t i = 1; i + 1 < gil->n; i++)
        if (gil->iv[i].who == c2 && gil->iv[i].end_ns - gil->iv[i].start_ns == 900) {
            vain++;
            ck_assert_int_ne(gil->iv[i - 1].who, c2);
            ck_assert_int_ne(gil->iv[i + 1].who, c2);
        }
    ck_assert_int_eq(vain, 1);
    /* and gil.switches counts the same hand-offs on both sides: the
     * recording's 8 (main, c1, c2, producer, c1, c2 in vain, producer, c2,
     * main), the replay's the same, where without the recheck it had 7 */
    gs_model_t *rm = NULL;
    gs_trace_t *rt = NULL;
    gs_error_t err;
    write_rec(path, 900, "call");
    ck_assert_int_eq(gs_recording_load(path, &rm, &rt, &err), 0);
    unlink(path);
    gs_stats_t real, rep;
    ck_assert_int_eq(gs_stats_compute(rt, &real), 0);
    ck_assert_int_eq(gs_stats_compute(t, &rep), 0);
    ck_assert_int_eq(real.gil_switches, 8);
    ck_assert_int_eq(rep.gil_switches, real.gil_switches);
    /* and consumer2 holds the GIL as long as recorded (1.88 us): the vain
     * hold is its queue's recheck, not Python after the get as well (2.78
     * us before qcut.c) */
    int64_t held[2] = {-1, -1};
    for (int i = 0; i < real.n_threads; i++)
        if (strcmp(real.threads[i].name, "consumer2") == 0)
            held[0] = real.threads[i].gil_held_ns;
    for (int i = 0; i < rep.n_threads; i++)
        if (strcmp(rep.threads[i].name, "consumer2") == 0)
            held[1] = rep.threads[i].gil_held_ns;
    ck_assert_int_eq(held[0], 1880);
    ck_assert_int_eq(held[1], held[0]);
    gs_stats_destroy(&real);
    gs_stats_destroy(&rep);
    gs_trace_free(rt);
    gs_model_free(rm);
    gs_trace_free(t);
    gs_model_free(m);
    free(text);
    cJSON_Delete(root);
}
END_TEST

START_TEST(test_fit_no_recheck_without_a_vain_wake_up)
{
    char path[64];
    write_rec(path, 0, "call");
    cJSON *root = fit(path);
    unlink(path);
    ck_assert_str_eq(recheck_of(root), "");
    cJSON_Delete(root);
    /* a hold cut by a forced switch is not a re-check's end */
    write_rec(path, 900, "forced");
    root = fit(path);
    unlink(path);
    ck_assert_str_eq(recheck_of(root), "");
    cJSON_Delete(root);
}
END_TEST

static Suite *fit_recheck_suite(void)
{
    Suite *s = suite_create("fit_recheck");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_fit_recheck_is_the_hold_of_a_vain_wake_up);
    suite_add_tcase(s, tc);
    tc = tcase_create("limits"); /* a recording without one, a hold cut short */
    tcase_add_test(tc, test_fit_no_recheck_without_a_vain_wake_up);
    suite_add_tcase(s, tc);
    return s;
}

int main(void)
{
    return tu_main(fit_recheck_suite());
}
