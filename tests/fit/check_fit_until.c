/* check_fit_until.c - loops until an Event is set, fitted (sim/fit/until.c).
 *
 * tests/data/fit/until.rec.json is convoy.rec.json with the Event calls
 * boot.py records: the I/O thread's Event.set just before it exits, and the
 * CPU thread's first True Event.is_set of that event just after (plus one of
 * an event no other thread set). The fit makes the CPU thread's Python an
 * until loop on the event and the I/O thread's set a set op; the replay's
 * CPU thread then works as long as the I/O thread takes, so longer at a
 * 20 ms switch interval than at 5 ms, and less at 1 ms. until_counted.rec.json
 * is the same with the count of the polls that returned False;
 * until_loaded.rec.json a pure Python loop whose holds a loaded machine cut
 * (hand-made, below). */
#include "fitutil.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *data(const char *name)
{
    static char path[1200];
    const char *src = getenv("GILSIM_SOURCE_DIR");
    snprintf(path, sizeof path, "%s/tests/data/fit/%s", src ? src : ".", name);
    return path;
}

static char *fit_text(const char *path, size_t *len)
{
    char *json = NULL;
    gs_error_t err;
    int rc = gs_fit_recording(path, NULL, &json, len, &err);
    ck_assert_msg(rc == 0, "fit %s: %s: %s", path, err.path, err.msg);
    return json;
}

/* The first op of prog (or inside its loops) with the verb, or NULL. */
static const cJSON *find_verb(const cJSON *prog, const char *verb)
{
    const cJSON *op;
    cJSON_ArrayForEach(op, prog)
    {
        if (cJSON_GetObjectItem(op, verb))
            return op;
        const cJSON *in = find_verb(cJSON_GetObjectItem(op, "do"), verb);
        if (in)
            return in;
    }
    return NULL;
}

START_TEST(test_fit_until_a_poll_after_anothers_set_is_a_loop)
{
    size_t len;
    char *json = fit_text(data("until.rec.json"), &len);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_nonnull(root);
    /* one event: the one another thread set (the other poll is nothing) */
    const cJSON *evs = cJSON_GetObjectItem(root, "events");
    ck_assert_int_eq(cJSON_GetArraySize(evs), 1);
    ck_assert_str_eq(cJSON_GetArrayItem(evs, 0)->valuestring, "event");
    const cJSON *loop = find_verb(fu_program(root, "cpu"), "until");
    ck_assert_ptr_nonnull(loop);
    ck_assert_str_eq(cJSON_GetObjectItem(loop, "until")->valuestring, "event");
    /* a pure Python loop: its polls are not counted, a fixed chunk */
    const cJSON *body = cJSON_GetObjectItem(loop, "do");
    ck_assert_int_eq(cJSON_GetArraySize(body), 1);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(body, 0), "cpu")->valuestring, "100us");
    const cJSON *set = find_verb(fu_program(root, "io"), "set");
    ck_assert_ptr_nonnull(set);
    ck_assert_str_eq(cJSON_GetObjectItem(set, "set")->valuestring, "event");
    ck_assert_ptr_null(find_verb(fu_program(root, "MainThread"), "set"));
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_msg(strstr(desc, "until event is set (by io)") != NULL, "%s", desc);
    ck_assert_msg(strstr(desc, "loop until an Event is set run as long as the setter") != NULL,
                  "%s", desc);
    cJSON_Delete(root);
    free(json);
}
END_TEST

/* With the count of the polls that returned False (2 here, before the
 * first True), a turn of a pure Python loop is its recorded Python over
 * them: 146.4 us / 2. */
START_TEST(test_fit_until_counted_polls_give_the_turn)
{
    size_t len;
    char *json = fit_text(data("until_counted.rec.json"), &len);
    cJSON *root = cJSON_Parse(json);
    const cJSON *loop = find_verb(fu_program(root, "cpu"), "until");
    ck_assert_ptr_nonnull(loop);
    const cJSON *body = cJSON_GetObjectItem(loop, "do");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(body, 0), "cpu")->valuestring,
                     "73.2us");
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_msg(strstr(desc, "after 2 that returned False") != NULL, "%s", desc);
    cJSON_Delete(root);
    free(json);
}
END_TEST

/* until_loaded.rec.json: a pure Python loop on a loaded machine. Three of
 * its holds left a drop request unanswered for over 1 ms (inferred C calls
 * keeping the GIL), which folds into a repeat of 3 x [cpu, c_call] just
 * before its last Python run; its first True poll came after 5000 False
 * ones. The repeat is not the loop: the body is chosen from the polls, a
 * turn of Python, and the repeat's Python and C are the loop's Python. */
START_TEST(test_fit_until_body_from_the_polls_not_a_short_repeat)
{
    size_t len;
    char *json = fit_text(data("until_loaded.rec.json"), &len);
    cJSON *root = cJSON_Parse(json);
    const cJSON *prog = fu_program(root, "cpu");
    const cJSON *loop = find_verb(prog, "until");
    ck_assert_ptr_nonnull(loop);
    const cJSON *body = cJSON_GetObjectItem(loop, "do");
    ck_assert_int_eq(cJSON_GetArraySize(body), 1);
    ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetArrayItem(body, 0), "cpu"));
    /* no C call and no repeat left in the thread: all of it was the loop */
    ck_assert_ptr_null(find_verb(prog, "c_call"));
    ck_assert_ptr_null(find_verb(prog, "repeat"));
    const char *desc = cJSON_GetStringValue(cJSON_GetObjectItem(root, "description"));
    ck_assert_msg(strstr(desc, "its 18.2 ms of Python before Event.is_set returned True, after "
                               "5000 that returned False") != NULL,
                  "%s", desc);
    ck_assert_msg(strstr(desc, "a repeat of 3 turns") != NULL, "%s", desc);
    cJSON_Delete(root);
    free(json);
}
END_TEST

/* The CPU thread's Python in a replay of the fit at this switch interval. */
static int64_t cpu_python(const char *json, size_t len, const char *interval)
{
    char set[64];
    snprintf(set, sizeof set, "python.switch_interval=%s", interval);
    gs_override_t ov;
    ck_assert_int_eq(gs_override_parse(set, &ov), 0);
    gs_model_t *m = NULL;
    gs_diag_t d;
    ck_assert_int_eq(gs_scenario_load_string("fitted", json, len, &ov, 1, &m, &d), 0);
    int cpu = -1;
    for (int i = 0; i < m->n_threads; i++)
        if (strcmp(m->threads[i].name, "cpu") == 0)
            cpu = i;
    ck_assert_int_ge(cpu, 0);
    int rc = 0;
    gs_trace_t *t = tu_run(m, &rc);
    ck_assert_int_eq(gs_trace_outcome(t), GS_OUT_DONE);
    int64_t py = tu_time_in(t, cpu, GS_ST_PY);
    gs_trace_free(t);
    gs_model_free(m);
    return py;
}

START_TEST(test_fit_until_cpu_thread_works_longer_at_20ms_than_at_5ms)
{
    size_t len;
    char *json = fit_text(data("until.rec.json"), &len);
    int64_t at1 = cpu_python(json, len, "1ms"), at5 = cpu_python(json, len, "5ms"),
            at20 = cpu_python(json, len, "20ms");
    ck_assert_msg(at1 < at5 && at5 < at20, "the CPU thread's Python at 1/5/20 ms: %lld %lld %lld",
                  (long long)at1, (long long)at5, (long long)at20);
    free(json);
}
END_TEST

/* Without the Event calls (the same recording, as recorded before boot.py
 * wrapped Event) the Python is a fixed amount: no loop, no event. */
START_TEST(test_fit_until_no_event_calls_no_loop)
{
    size_t len;
    char *json = fit_text(data("convoy.rec.json"), &len);
    cJSON *root = cJSON_Parse(json);
    ck_assert_ptr_null(cJSON_GetObjectItem(root, "events"));
    ck_assert_ptr_null(find_verb(fu_program(root, "cpu"), "until"));
    ck_assert_ptr_null(find_verb(fu_program(root, "io"), "set"));
    cJSON_Delete(root);
    free(json);
}
END_TEST

static Suite *fit_until_suite(void)
{
    Suite *s = suite_create("fit_until");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_fit_until_a_poll_after_anothers_set_is_a_loop);
    tcase_add_test(core, test_fit_until_no_event_calls_no_loop);
    tcase_add_test(core, test_fit_until_counted_polls_give_the_turn);
    tcase_add_test(core, test_fit_until_body_from_the_polls_not_a_short_repeat);
    suite_add_tcase(s, core);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 120);
    tcase_add_test(props, test_fit_until_cpu_thread_works_longer_at_20ms_than_at_5ms);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    return tu_main(fit_until_suite());
}
