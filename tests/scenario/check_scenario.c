/* check_scenario.c - the scenario loader: format, errors, durations, overrides,
 * limits. Files are found under $GILSIM_SOURCE_DIR (set by ctest). */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#include "gilsim/scenario.h"
#include "scenario_int.h"
#include "tu_main.h"

static char src_dir[1024];

static void find_src(void)
{
    const char *s = getenv("GILSIM_SOURCE_DIR");
    snprintf(src_dir, sizeof src_dir, "%s", s ? s : ".");
}

static char *read_all(const char *path, size_t *len)
{
    FILE *f = fopen(path, "rb");
    ck_assert_msg(f != NULL, "cannot open %s", path);
    fseek(f, 0, SEEK_END);
    long n = ftell(f);
    fseek(f, 0, SEEK_SET);
    char *b = malloc((size_t)n + 1);
    ck_assert(b != NULL);
    ck_assert_uint_eq(fread(b, 1, (size_t)n, f), (size_t)n);
    b[n] = '\0';
    fclose(f);
    *len = (size_t)n;
    return b;
}

static gs_model_t *load_text(const char *text, const gs_override_t *ov, int n_ov, gs_diag_t *d)
{
    gs_model_t *m = NULL;
    int rc = gs_scenario_load_string("t.json", text, strlen(text), ov, n_ov, &m, d);
    ck_assert((rc == 0) == (m != NULL));
    ck_assert((rc == 0) == (d->n_total == 0));
    return m;
}

static gs_model_t *load_ok(const char *text, const gs_override_t *ov, int n_ov)
{
    gs_diag_t d;
    gs_model_t *m = load_text(text, ov, n_ov, &d);
    if (!m) {
        char b[1024];
        gs_error_format(&d.e[0], b, sizeof b);
        ck_abort_msg("expected to load, got: %s", b);
    }
    return m;
}

/* The first error of a text that must fail, formatted. */
static void first_error(const char *text, const gs_override_t *ov, int n_ov, char *buf, size_t n)
{
    gs_diag_t d;
    gs_model_t *m = load_text(text, ov, n_ov, &d);
    ck_assert_msg(m == NULL, "expected an error for %s", text);
    gs_error_format(&d.e[0], buf, n);
}

static int find_thread(const gs_model_t *m, const char *name)
{
    for (int i = 0; i < m->n_threads; i++)
        if (strcmp(m->threads[i].name, name) == 0)
            return i;
    return -1;
}

#define ONE_THREAD "{\"threads\": [{\"name\": \"t\", \"program\": [{\"cpu\": \"5ms\"}]}]}"

/* ---- core --------------------------------------------------------------- */

START_TEST(test_scenario_issue_example_loads_as_written)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/tests/scenario/good/issue_example.json", src_dir);
    gs_model_t *m = NULL;
    gs_diag_t d;
    ck_assert_int_eq(gs_scenario_load_file(path, NULL, 0, &m, &d), 0);
    ck_assert_str_eq(m->name, "Convoy effect");
    ck_assert_uint_eq(m->seed, 7);
    ck_assert_int_eq(m->until_ns, INT64_C(10000000000));
    ck_assert_int_eq(m->machine.cores, 2);
    ck_assert_int_eq(m->machine.policy, GS_POLICY_CFS);
    ck_assert_int_eq(m->processes[0].python.switch_interval_ns, 5000000);
    ck_assert_int_eq(m->n_threads, 5);
    ck_assert_int_eq(m->n_locks, 1);
    ck_assert_int_eq(m->n_events, 1);
    ck_assert_int_eq(m->n_queues, 1);
    ck_assert_int_eq(m->queues[0].maxsize, 4);
    int s = find_thread(m, "server");
    ck_assert_int_ge(s, 0);
    ck_assert_int_eq(m->threads[s].start_at_ns, 10000000);
    const gs_op_t *rep = &m->threads[s].program[0];
    ck_assert_int_eq(rep->kind, GS_OP_REPEAT);
    ck_assert_int_eq(rep->count, 200);
    ck_assert_int_eq(rep->n_body, 2);
    ck_assert_int_eq(rep->body[0].kind, GS_OP_IO);
    ck_assert_int_eq(rep->body[0].dur.a_ns, 100000);
    ck_assert_int_eq(rep->body[1].dur.dist, GS_DIST_EXP);
    ck_assert_int_eq(rep->body[1].dur.a_ns, 50000);
    int w2 = find_thread(m, "worker-2");
    ck_assert_int_ge(w2, 0);
    ck_assert_int_eq(m->threads[w2].program[1].kind, GS_OP_C_CALL);
    ck_assert(m->threads[w2].program[1].releases_gil);
    ck_assert_int_eq(m->threads[w2].program[0].target, 0);
    ck_assert_int_eq(m->n_annotations, 1);
    ck_assert_int_eq(m->annotations[0].at_ns, 20000000);
    gs_model_free(m);
}
END_TEST

/* A queue's recheck is a duration; 0 (the default) where it is not given. */
START_TEST(test_scenario_queue_recheck_loads_as_a_duration)
{
    gs_model_t *m = load_ok("{\"queues\": {\"q\": {\"maxsize\": 8, \"recheck\": \"1.5us\"}, "
                            "\"r\": {}}, \"threads\": [{\"name\": \"t\", \"program\": "
                            "[{\"put\": \"q\"}, {\"put\": \"r\"}]}]}",
                            NULL, 0);
    ck_assert_int_eq(m->queues[0].recheck_ns, 1500);
    ck_assert_int_eq(m->queues[1].recheck_ns, 0);
    gs_model_free(m);
}
END_TEST

/* `until` is a loop over an event: one node, its event resolved, its body
 * kept, nested with repeat, labelled with the event. */
START_TEST(test_scenario_until_loads_as_one_loop_on_its_event)
{
    gs_model_t *m = load_ok("{\"events\": [\"go\", \"stop\"], \"threads\": [{\"name\": "
                            "\"t\", \"program\": [{\"until\": \"stop\", \"do\": [{\"cpu\": "
                            "\"50us\"}, {\"repeat\": 2, \"do\": [{\"io\": \"1ms\"}]}]}]}]}",
                            NULL, 0);
    const gs_op_t *u = &m->threads[0].program[0];
    ck_assert_int_eq(m->threads[0].n_program, 1);
    ck_assert_int_eq(u->kind, GS_OP_UNTIL);
    ck_assert_int_eq(u->target, 1);
    ck_assert_int_eq(u->n_body, 2);
    ck_assert_int_eq(u->body[0].kind, GS_OP_CPU);
    ck_assert_int_eq(u->body[1].kind, GS_OP_REPEAT);
    ck_assert_str_eq(m->op_labels[u->id], "t: program[0] until stop");
    gs_model_free(m);
}
END_TEST

START_TEST(test_scenario_defaults_fill_every_unset_setting)
{
    gs_model_t *m = load_ok(ONE_THREAD, NULL, 0);
    gs_machine_t mc;
    gs_python_t py;
    gs_machine_defaults(&mc);
    gs_python_defaults(&py);
    ck_assert(memcmp(&mc, &m->machine, sizeof mc) == 0);
    ck_assert(memcmp(&py, &m->processes[0].python, sizeof py) == 0);
    ck_assert_int_eq(m->until_ns, INT64_C(60000000000));
    ck_assert_int_eq(m->max_events, 50000000);
    ck_assert_uint_eq(m->seed, 0);
    ck_assert(m->threads[0].autostart);
    ck_assert_int_eq(m->threads[0].priority, 0);
    gs_model_free(m);
}
END_TEST

static int load_dir(const char *dir, bool expect_ok)
{
    DIR *dp = opendir(dir);
    ck_assert_msg(dp != NULL, "cannot open %s", dir);
    struct dirent *de;
    int n = 0;
    while ((de = readdir(dp))) {
        size_t l = strlen(de->d_name);
        if (l < 6 || strcmp(de->d_name + l - 5, ".json") != 0)
            continue;
        char path[2400];
        snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
        size_t len;
        char *text = read_all(path, &len);
        gs_model_t *m = NULL;
        gs_diag_t d;
        int rc = gs_scenario_load_string(de->d_name, text, len, NULL, 0, &m, &d);
        if (expect_ok) {
            char b[1024] = "";
            if (rc)
                gs_error_format(&d.e[0], b, sizeof b);
            ck_assert_msg(rc == 0, "%s", b);
        } else {
            char exp_path[2400], got[1024], *nl;
            snprintf(exp_path, sizeof exp_path, "%.*s.expect", (int)(strlen(path) - 5), path);
            size_t el;
            char *expect = read_all(exp_path, &el);
            if ((nl = strchr(expect, '\n')))
                *nl = '\0';
            ck_assert_msg(rc != 0 && m == NULL, "%s loaded but must fail", de->d_name);
            bool found = false;
            for (int i = 0; i < d.n && !found; i++) {
                gs_error_format(&d.e[i], got, sizeof got);
                found = strcmp(got, expect) == 0;
            }
            gs_error_format(&d.e[0], got, sizeof got);
            ck_assert_msg(found, "%s: expected\n  %s\ngot\n  %s", de->d_name, expect, got);
            free(expect);
        }
        gs_model_free(m);
        free(text);
        n++;
    }
    closedir(dp);
    return n;
}

START_TEST(test_scenario_every_good_file_and_lesson_loads)
{
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/tests/scenario/good", src_dir);
    ck_assert_int_ge(load_dir(dir, true), 3);
    snprintf(dir, sizeof dir, "%s/scenarios", src_dir);
    ck_assert_int_ge(load_dir(dir, true), 1);
}
END_TEST

START_TEST(test_scenario_every_bad_file_gives_its_expected_error)
{
    char dir[1200];
    snprintf(dir, sizeof dir, "%s/tests/scenario/bad", src_dir);
    ck_assert_int_ge(load_dir(dir, false), 40);
}
END_TEST

START_TEST(test_duration_parse_is_exact)
{
    static const struct {
        const char *s;
        int64_t ns;
    } ok[] = {
        {"0.1ms", 100000},         {"1.5ms", 1500000},       {"1s", 1000000000},
        {"0ns", 0},                {"999ns", 999},           {"1.000000001s", 1000000001},
        {"86400s", INT64_C(86400000000000)},                 {"2.50us", 2500},
        {"0.000001ms", 1},         {"1.0000ns", 1},          {"007ms", 7000000},
    };
    for (size_t i = 0; i < sizeof ok / sizeof ok[0]; i++) {
        int64_t ns = -1;
        char why[200];
        ck_assert_msg(gs_parse_ns(ok[i].s, &ns, why, sizeof why) == 0, "%s: %s", ok[i].s,
                      why);
        ck_assert_int_eq(ns, ok[i].ns);
    }
    static const char *const bad[] = {"",     "5",       "-1ms",    "1.5",     "5 ms",
                                      "0.0001us", "86400.000000001s", "1e3ms", ".5ms",
                                      "5.ms", "5msx",    "ms",      "99999999999999999999s"};
    for (size_t i = 0; i < sizeof bad / sizeof bad[0]; i++) {
        int64_t ns = 0;
        char why[200] = "";
        ck_assert_msg(gs_parse_ns(bad[i], &ns, why, sizeof why) < 0, "%s accepted", bad[i]);
        ck_assert_msg(why[0] != '\0', "%s: no reason", bad[i]);
    }
}
END_TEST

START_TEST(test_duration_format_parses_back_to_the_same_ns)
{
    static const int64_t v[] = {0, 1, 999, 1000, 1001, 1500000, 100000, 123456789, 1000000000,
                                INT64_C(86400000000000), INT64_C(3600000000007)};
    for (size_t i = 0; i < sizeof v / sizeof v[0]; i++) {
        char b[40], why[200];
        int64_t back = -1;
        gs_format_ns_exact(v[i], b, sizeof b);
        ck_assert_msg(gs_parse_ns(b, &back, why, sizeof why) == 0, "%s: %s", b, why);
        ck_assert_int_eq(back, v[i]);
    }
    char b[40];
    gs_format_ns_exact(1500000, b, sizeof b);
    ck_assert_str_eq(b, "1.5ms");
}
END_TEST

START_TEST(test_distributions_are_read_with_both_bounds)
{
    gs_model_t *m = load_ok("{\"threads\": [{\"name\": \"t\", \"program\": ["
                            "{\"cpu\": {\"uniform\": [\"1ms\", \"2.5ms\"]}},"
                            "{\"io\": {\"normal\": [\"5ms\", \"1ms\"]}},"
                            "{\"sleep\": {\"exp\": \"0.1ms\"}}]}]}",
                            NULL, 0);
    const gs_op_t *p = m->threads[0].program;
    ck_assert_int_eq(p[0].dur.dist, GS_DIST_UNIFORM);
    ck_assert_int_eq(p[0].dur.a_ns, 1000000);
    ck_assert_int_eq(p[0].dur.b_ns, 2500000);
    ck_assert_int_eq(p[1].dur.dist, GS_DIST_NORMAL);
    ck_assert_int_eq(p[1].dur.b_ns, 1000000);
    ck_assert_int_eq(p[2].dur.dist, GS_DIST_EXP);
    ck_assert_int_eq(p[2].dur.a_ns, 100000);
    gs_model_free(m);
}
END_TEST

START_TEST(test_bare_number_duration_gets_a_hint_with_a_unit)
{
    char b[1024];
    first_error("{\"threads\": [{\"name\": \"t\", \"program\": [{\"cpu\": 5}]}]}", NULL, 0, b,
                sizeof b);
    ck_assert_msg(strstr(b, "write \"5ms\"") != NULL, "%s", b);
    ck_assert_msg(strstr(b, "threads[0].program[0].cpu") != NULL, "%s", b);
}
END_TEST

START_TEST(test_override_parse_splits_at_the_first_equals)
{
    char s[] = "python.switch_interval=1ms=x";
    gs_override_t o;
    ck_assert_int_eq(gs_override_parse(s, &o), 0);
    ck_assert_str_eq(o.key, "python.switch_interval");
    ck_assert_str_eq(o.value, "1ms=x");
    char no_eq[] = "machine.cores", empty_key[] = "=4";
    ck_assert_int_eq(gs_override_parse(no_eq, &o), GS_EINVAL);
    ck_assert_int_eq(gs_override_parse(empty_key, &o), GS_EINVAL);
}
END_TEST

START_TEST(test_overrides_change_settings_and_are_validated)
{
    const char *text = "{\"processes\": [{\"name\": \"p\", \"threads\": [{\"name\": \"x\", "
                       "\"program\": [{\"cpu\": \"1ms\"}]}]}],"
                       "\"threads\": [{\"name\": \"a\", \"program\": [{\"cpu\": \"1ms\"}]},"
                       "{\"name\": \"w\", \"count\": 2, \"program\": [{\"cpu\": \"1ms\"}]}]}";
    gs_override_t ov[] = {{"python.switch_interval", "1ms"},
                          {"machine.cores", "4"},
                          {"threads[1].count", "8"},
                          {"processes[0].python.gil", "none"},
                          {"seed", "99"}};
    gs_model_t *m = load_ok(text, ov, 5);
    ck_assert_int_eq(m->processes[0].python.switch_interval_ns, 1000000);
    ck_assert_int_eq(m->machine.cores, 4);
    ck_assert_int_eq(m->n_threads, 1 + 8 + 1);
    ck_assert_int_ge(find_thread(m, "w-8"), 0);
    ck_assert_int_eq(m->processes[1].python.gil, GS_GIL_NONE);
    /* the process inherits the overridden top-level interval */
    ck_assert_int_eq(m->processes[1].python.switch_interval_ns, 1000000);
    ck_assert_uint_eq(m->seed, 99);
    gs_model_free(m);

    char b[1024];
    gs_override_t bad_val = {"python.switch_interval", "fast"};
    first_error(ONE_THREAD, &bad_val, 1, b, sizeof b);
    ck_assert_msg(strstr(b, "python.switch_interval: expected a duration") != NULL, "%s", b);
    gs_override_t quoted = {"machine.cores", "\"4\""};
    first_error(ONE_THREAD, &quoted, 1, b, sizeof b);
    ck_assert_msg(strstr(b, "machine.cores: must be a number without quotes") != NULL, "%s", b);
    gs_override_t typo = {"python.switch_intervall", "1ms"};
    first_error(ONE_THREAD, &typo, 1, b, sizeof b);
    ck_assert_msg(strstr(b, "did you mean \"switch_interval\"") != NULL, "%s", b);
}
END_TEST

START_TEST(test_override_paths_that_do_not_fit_are_errors_naming_them)
{
    char b[1024];
    gs_override_t range = {"threads[3].count", "2"};
    first_error(ONE_THREAD, &range, 1, b, sizeof b);
    ck_assert_msg(strstr(b, "threads[3].count") && strstr(b, "out of range"), "%s", b);
    gs_override_t through = {"threads[0].name.x", "2"};
    first_error(ONE_THREAD, &through, 1, b, sizeof b);
    ck_assert_msg(strstr(b, "threads[0].name.x") && strstr(b, "not an object"), "%s", b);
    gs_override_t missing = {"processes[0].name", "p"};
    first_error(ONE_THREAD, &missing, 1, b, sizeof b);
    ck_assert_msg(strstr(b, "processes") && strstr(b, "does not exist"), "%s", b);
    gs_override_t bad_index = {"threads[x].count", "2"};
    first_error(ONE_THREAD, &bad_index, 1, b, sizeof b);
    ck_assert_msg(strstr(b, "index"), "%s", b);
}
END_TEST

START_TEST(test_did_you_mean_suggests_only_close_words)
{
    static const char *const keys[] = {"switch_interval", "gil", "waker", "tick", NULL};
    ck_assert_int_eq(gs__scen_edit_distance("switch_intervall", "switch_interval"), 1);
    ck_assert_int_eq(gs__scen_edit_distance("", "abc"), 3);
    ck_assert_int_eq(gs__scen_edit_distance("GIL", "gil"), 0);
    ck_assert_str_eq(gs__scen_did_you_mean("switch_intervall", keys, -1), "switch_interval");
    ck_assert_str_eq(gs__scen_did_you_mean("wakr", keys, -1), "waker");
    ck_assert_ptr_null(gs__scen_did_you_mean("colour", keys, -1));
    ck_assert_ptr_null(gs__scen_did_you_mean("", keys, -1));
}
END_TEST

START_TEST(test_count_expands_names_and_copies_programs)
{
    gs_model_t *m = load_ok("{\"locks\": [\"db\"], \"threads\": [{\"name\": \"main\", "
                            "\"program\": [{\"join\": \"w-3\"}]}, {\"name\": \"w\", \"count\": 3, "
                            "\"start_at\": \"2ms\", \"priority\": 2, \"program\": [{\"repeat\": 2, "
                            "\"do\": [{\"acquire\": \"db\"}, {\"release\": \"db\"}]}]}]}",
                            NULL, 0);
    ck_assert_int_eq(m->n_threads, 4);
    ck_assert_str_eq(m->threads[1].name, "w-1");
    ck_assert_str_eq(m->threads[3].name, "w-3");
    ck_assert_int_eq(m->threads[0].program[0].target, 3);
    for (int i = 1; i <= 3; i++) {
        ck_assert_int_eq(m->threads[i].start_at_ns, 2000000);
        ck_assert_int_eq(m->threads[i].priority, 2);
        ck_assert_int_eq(m->threads[i].n_program, 1);
        ck_assert_int_eq(m->threads[i].program[0].n_body, 2);
        /* own copies, shared labels */
        if (i > 1)
            ck_assert_ptr_ne(m->threads[i].program, m->threads[1].program);
        ck_assert_uint_eq(m->threads[i].program[0].body[1].id, m->threads[1].program[0].body[1].id);
    }
    ck_assert_ptr_ne(m->threads[1].program[0].body, m->threads[2].program[0].body);
    ck_assert_str_eq(m->op_labels[m->threads[2].program[0].body[0].id],
                     "w: program[0].do[0] acquire db");
    ck_assert_str_eq(m->op_labels[m->threads[0].program[0].id], "main: program[0] join w-3");
    gs_model_free(m);
}
END_TEST

START_TEST(test_processes_inherit_top_python_and_override_per_key)
{
    gs_model_t *m = load_ok(
        "{\"python\": {\"switch_interval\": \"2ms\", \"waker\": \"random\", \"check_interval\": 25},"
        "\"threads\": [{\"name\": \"a\", \"program\": []}],"
        "\"processes\": [{\"name\": \"p1\", \"start_at\": \"3ms\", \"create\": \"1ms\","
        "  \"python\": {\"gil\": \"none\", \"slowdown\": 1.25},"
        "  \"threads\": [{\"name\": \"b\", \"program\": [{\"cpu\": \"1ms\"}]}]},"
        " {\"name\": \"p2\", \"threads\": [{\"name\": \"c\", \"program\": []}]}]}",
        NULL, 0);
    ck_assert_int_eq(m->n_processes, 3);
    ck_assert_str_eq(m->processes[0].name, "main");
    ck_assert_int_eq(m->processes[1].python.gil, GS_GIL_NONE);
    ck_assert_int_eq(m->processes[1].python.slowdown_pct, 125);
    ck_assert_int_eq(m->processes[1].python.switch_interval_ns, 2000000);
    ck_assert_int_eq(m->processes[1].python.waker, GS_WAKE_RANDOM);
    ck_assert_int_eq(m->processes[1].python.check_interval, 25);
    ck_assert_int_eq(m->processes[2].python.check_interval, 25);
    ck_assert_int_eq(m->processes[1].start_at_ns, 3000000);
    ck_assert_int_eq(m->processes[1].create_ns, 1000000);
    ck_assert_int_eq(m->processes[2].create_ns, GS_SCEN_PROCESS_CREATE_NS);
    ck_assert_int_eq(m->processes[2].python.gil, GS_GIL_CPYTHON3);
    ck_assert_int_eq(m->threads[find_thread(m, "a")].process, 0);
    ck_assert_int_eq(m->threads[find_thread(m, "b")].process, 1);
    ck_assert_int_eq(m->threads[find_thread(m, "c")].process, 2);
    gs_model_free(m);
}
END_TEST

START_TEST(test_load_string_reads_no_byte_past_len)
{
    size_t len = strlen(ONE_THREAD);
    char *exact = malloc(len); /* no terminator: ASan catches any over-read */
    memcpy(exact, ONE_THREAD, len);
    gs_model_t *m = NULL;
    gs_diag_t d;
    ck_assert_int_eq(gs_scenario_load_string("x", exact, len, NULL, 0, &m, &d), 0);
    gs_model_free(m);
    /* a prefix is a syntax error, not a read beyond it */
    ck_assert_int_eq(gs_scenario_load_string("x", exact, len - 3, NULL, 0, &m, &d), GS_ESYNTAX);
    ck_assert_ptr_null(m);
    free(exact);
}
END_TEST

START_TEST(test_syntax_error_has_line_col_and_caret)
{
    gs_diag_t d;
    gs_model_t *m = load_text("{\n  \"seed\": 1,\n  \"threads\": [1,]\n}\n", NULL, 0, &d);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(d.e[0].code, GS_ESYNTAX);
    ck_assert_int_eq(d.e[0].line, 3);
    ck_assert_int_eq(d.e[0].col, 16);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    gs_diag_print(&d, f);
    fclose(f);
    ck_assert_msg(strstr(buf, "t.json:3:16: ") == buf, "%s", buf);
    ck_assert_msg(strstr(buf, "\n      \"threads\": [1,]\n                   ^\n") != NULL, "%s",
                  buf);
    free(buf);
}
END_TEST

START_TEST(test_all_errors_are_reported_not_only_the_first)
{
    gs_diag_t d;
    gs_model_t *m = load_text("{\"seed\": -1, \"machine\": {\"cores\": 0}, \"threads\": [{\"name\":"
                              " \"t\", \"program\": [{\"cpu\": 5}, {\"io\": \"x\"}]}]}",
                              NULL, 0, &d);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(d.n_total, 4);
    ck_assert_int_eq(d.n, 4);
    ck_assert_str_eq(d.e[0].path, "seed");
    ck_assert_str_eq(d.e[1].path, "machine.cores");
    ck_assert_str_eq(d.e[3].path, "threads[0].program[1].io");
}
END_TEST

/* ---- limits ------------------------------------------------------------- */

START_TEST(test_limit_errors_are_capped_but_counted)
{
    char text[4096] = "{\"threads\": [{\"name\": \"t\", \"program\": [";
    for (int i = 0; i < 30; i++)
        strcat(text, i ? ", {\"cpu\": 1}" : "{\"cpu\": 1}");
    strcat(text, "]}]}");
    gs_diag_t d;
    ck_assert_ptr_null(load_text(text, NULL, 0, &d));
    ck_assert_int_eq(d.n, GS_DIAG_MAX);
    ck_assert_int_eq(d.n_total, 30);
    char *buf = NULL;
    size_t n = 0;
    FILE *f = open_memstream(&buf, &n);
    gs_diag_print(&d, f);
    fclose(f);
    ck_assert_msg(strstr(buf, "... and 10 more errors\n") != NULL, "%s", buf);
    free(buf);
}
END_TEST

/* A description may hold GS_SCEN_MAX_DESCRIPTION bytes (a fitted
 * scenario's tells its recording, machine, every thread and what was
 * approximated); one more is an error at "description" that says the limit. */
static char *with_description(size_t n)
{
    static const char head[] = "{\"description\": \"", tail[] =
        "\", \"threads\": [{\"name\": \"t\", \"program\": [{\"cpu\": \"1ms\"}]}]}";
    char *text = malloc(sizeof head + n + sizeof tail);
    ck_assert_ptr_nonnull(text);
    memcpy(text, head, sizeof head - 1);
    memset(text + sizeof head - 1, 'd', n);
    memcpy(text + sizeof head - 1 + n, tail, sizeof tail);
    return text;
}

START_TEST(test_limit_description_holds_a_fitted_scenarios_story)
{
    char *ok = with_description(GS_SCEN_MAX_DESCRIPTION), *over = with_description(
                                                               GS_SCEN_MAX_DESCRIPTION + 1);
    gs_model_t *m = load_ok(ok, NULL, 0);
    ck_assert_uint_eq(strlen(m->description), GS_SCEN_MAX_DESCRIPTION);
    gs_model_free(m);
    gs_diag_t d;
    ck_assert_ptr_null(load_text(over, NULL, 0, &d));
    ck_assert_int_eq(d.n, 1);
    ck_assert_str_eq(d.e[0].path, "description");
    ck_assert_msg(strstr(d.e[0].msg, "16000") != NULL, "%s", d.e[0].msg);
    free(ok);
    free(over);
}
END_TEST

START_TEST(test_limit_20000_threads_load)
{
    gs_model_t *m = load_ok("{\"threads\": [{\"name\": \"t\", \"count\": 20000, \"program\": "
                            "[{\"repeat\": 10, \"do\": [{\"cpu\": \"1ms\"}, {\"io\": \"1ms\"}]}]}]}",
                            NULL, 0);
    ck_assert_int_eq(m->n_threads, 20000);
    ck_assert_str_eq(m->threads[19999].name, "t-20000");
    ck_assert_uint_eq(m->n_op_labels, 3);
    gs_model_free(m);
}
END_TEST

START_TEST(test_limit_file_size)
{
    size_t len = GS_SCEN_MAX_BYTES + 1;
    char *big = malloc(len);
    memset(big, ' ', len);
    gs_model_t *m = NULL;
    gs_diag_t d;
    ck_assert_int_eq(gs_scenario_load_string("big.json", big, len, NULL, 0, &m, &d), GS_ESCENARIO);
    ck_assert_msg(strstr(d.e[0].msg, "limit") != NULL, "%s", d.e[0].msg);
    free(big);
}
END_TEST

/* The loader sizes its buffer from the file, or grows it for a pipe: a
 * file one byte over the limit is refused, and a scenario longer than one
 * read through a pipe loads whole. */
START_TEST(test_limit_file_size_on_disk_and_through_a_pipe)
{
    char path[] = "/tmp/gilsim-check-big-XXXXXX";
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    ck_assert_int_eq(ftruncate(fd, GS_SCEN_MAX_BYTES + 1), 0);
    close(fd);
    gs_model_t *m = NULL;
    gs_diag_t d;
    ck_assert_int_eq(gs_scenario_load_file(path, NULL, 0, &m, &d), GS_ESCENARIO);
    ck_assert_msg(strstr(d.e[0].msg, "limit") != NULL, "%s", d.e[0].msg);
    unlink(path);

    /* 20 KB: the threads, then spaces, through a pipe written by a child. */
    const char *head = "{\"threads\": [{\"name\": \"piped\", \"program\": [{\"cpu\": \"1ms\"}]}]}";
    int p[2];
    ck_assert_int_eq(pipe(p), 0);
    pid_t pid = fork();
    if (pid == 0) {
        close(p[0]);
        FILE *w = fdopen(p[1], "w");
        fputs(head, w);
        for (int i = 0; i < 20000; i++)
            fputc(' ', w);
        fclose(w);
        _exit(0);
    }
    close(p[1]);
    char dev[64];
    snprintf(dev, sizeof dev, "/dev/fd/%d", p[0]);
    int rc = gs_scenario_load_file(dev, NULL, 0, &m, &d);
    close(p[0]);
    waitpid(pid, NULL, 0);
    ck_assert_msg(rc == 0, "%s", d.n ? d.e[0].msg : "");
    ck_assert_str_eq(m->threads[0].name, "piped");
    gs_model_free(m);
}
END_TEST

/* The model's arrays grow by doubling without storing a capacity: every
 * array, built one item at a time or cloned, must hold the next power of
 * two. Adding to a clone after odd counts is where a wrong capacity would
 * overflow (ASan catches it); 10 000 items of each kind stay fast. */
START_TEST(test_limit_model_arrays_grow_and_survive_a_clone)
{
    gs_model_t *m = gs_model_new();
    ck_assert_ptr_nonnull(m);
    char name[32];
    for (int i = 0; i < 10000; i++) {
        snprintf(name, sizeof name, "x%d", i);
        ck_assert_int_eq(gs_model_add_lock(m, name, false), i);
        ck_assert_int_eq(gs_model_add_event(m, name), i);
        ck_assert_int_eq(gs_model_add_queue(m, name, 0), i);
        ck_assert_int_eq(gs_model_add_annotation(m, i, name), i);
        ck_assert_int_ge(gs_model_add_op_label(m, name), 0);
    }
    for (int n = 1; n <= 5; n++) {
        gs_model_t *c = gs_model_clone(m);
        ck_assert_ptr_nonnull(c);
        snprintf(name, sizeof name, "y%d", n);
        ck_assert_int_eq(gs_model_add_lock(c, name, false), m->n_locks);
        ck_assert_int_ge(gs_model_add_thread(c, name, 0), 0);
        ck_assert_int_ge(gs_model_add_process(c, name, &c->processes[0].python), 1);
        ck_assert_str_eq(c->locks[m->n_locks].name, name);
        ck_assert_str_eq(c->locks[9999].name, "x9999");
        gs_model_free(m);
        m = c;
    }
    gs_model_free(m);
}
END_TEST

START_TEST(test_limit_missing_file_is_an_io_error)
{
    gs_model_t *m = NULL;
    gs_diag_t d;
    ck_assert_int_eq(gs_scenario_load_file("/nonexistent/x.json", NULL, 0, &m, &d), GS_EIO);
    ck_assert_ptr_null(m);
    ck_assert_int_eq(d.n, 1);
}
END_TEST

/* ---- props -------------------------------------------------------------- */

static uint64_t rng = 88172645463325252u;
static uint64_t xorshift(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return rng;
}

START_TEST(test_props_mutated_files_fail_cleanly_or_load)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/tests/scenario/good/everything.json", src_dir);
    size_t len;
    char *orig = read_all(path, &len);
    char *buf = malloc(len);
    static const char pool[] = "{}[],:\"\\ 0123456789.-abcdefghijklmnopqrstuvwxyz_";
    for (int it = 0; it < 3000; it++) {
        memcpy(buf, orig, len);
        int edits = 1 + (int)(xorshift() % 4);
        for (int e = 0; e < edits; e++)
            buf[xorshift() % len] = pool[xorshift() % (sizeof pool - 1)];
        size_t l = xorshift() % 8 == 0 ? xorshift() % len : len;
        gs_model_t *m = NULL;
        gs_diag_t d;
        int rc = gs_scenario_load_string("m.json", buf, l, NULL, 0, &m, &d);
        ck_assert(rc == 0 || rc == GS_ESYNTAX || rc == GS_ESCENARIO);
        ck_assert((rc == 0) == (m != NULL));
        ck_assert((rc == 0) == (d.n_total == 0));
        ck_assert_int_le(d.n, d.n_total);
        for (int i = 0; i < d.n; i++)
            ck_assert_msg(d.e[i].msg[0] != '\0', "an error without a message");
        gs_model_free(m);
    }
    free(buf);
    free(orig);
}
END_TEST

START_TEST(test_props_same_text_gives_the_same_model)
{
    char path[1200];
    snprintf(path, sizeof path, "%s/tests/scenario/good/everything.json", src_dir);
    size_t len;
    char *text = read_all(path, &len);
    gs_model_t *a = load_ok(text, NULL, 0), *b = load_ok(text, NULL, 0);
    ck_assert_int_eq(a->n_threads, b->n_threads);
    ck_assert_uint_eq(a->n_op_labels, b->n_op_labels);
    for (uint32_t i = 0; i < a->n_op_labels; i++)
        ck_assert_str_eq(a->op_labels[i], b->op_labels[i]);
    for (int i = 0; i < a->n_threads; i++)
        ck_assert_str_eq(a->threads[i].name, b->threads[i].name);
    gs_model_free(a);
    gs_model_free(b);
    free(text);
}
END_TEST

static Suite *scenario_suite(void)
{
    Suite *s = suite_create("scenario");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_scenario_issue_example_loads_as_written);
    tcase_add_test(core, test_scenario_defaults_fill_every_unset_setting);
    tcase_add_test(core, test_scenario_until_loads_as_one_loop_on_its_event);
    tcase_add_test(core, test_scenario_queue_recheck_loads_as_a_duration);
    tcase_add_test(core, test_scenario_every_good_file_and_lesson_loads);
    tcase_add_test(core, test_scenario_every_bad_file_gives_its_expected_error);
    tcase_add_test(core, test_duration_parse_is_exact);
    tcase_add_test(core, test_duration_format_parses_back_to_the_same_ns);
    tcase_add_test(core, test_distributions_are_read_with_both_bounds);
    tcase_add_test(core, test_bare_number_duration_gets_a_hint_with_a_unit);
    tcase_add_test(core, test_override_parse_splits_at_the_first_equals);
    tcase_add_test(core, test_overrides_change_settings_and_are_validated);
    tcase_add_test(core, test_override_paths_that_do_not_fit_are_errors_naming_them);
    tcase_add_test(core, test_did_you_mean_suggests_only_close_words);
    tcase_add_test(core, test_count_expands_names_and_copies_programs);
    tcase_add_test(core, test_processes_inherit_top_python_and_override_per_key);
    tcase_add_test(core, test_load_string_reads_no_byte_past_len);
    tcase_add_test(core, test_syntax_error_has_line_col_and_caret);
    tcase_add_test(core, test_all_errors_are_reported_not_only_the_first);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_set_timeout(limits, 60);
    tcase_add_test(limits, test_limit_errors_are_capped_but_counted);
    tcase_add_test(limits, test_limit_20000_threads_load);
    tcase_add_test(limits, test_limit_description_holds_a_fitted_scenarios_story);
    tcase_add_test(limits, test_limit_file_size);
    tcase_add_test(limits, test_limit_missing_file_is_an_io_error);
    tcase_add_test(limits, test_limit_model_arrays_grow_and_survive_a_clone);
    tcase_add_test(limits, test_limit_file_size_on_disk_and_through_a_pipe);
    suite_add_tcase(s, limits);
    TCase *props = tcase_create("props");
    tcase_set_timeout(props, 120);
    tcase_add_test(props, test_props_mutated_files_fail_cleanly_or_load);
    tcase_add_test(props, test_props_same_text_gives_the_same_model);
    suite_add_tcase(s, props);
    return s;
}

int main(void)
{
    find_src();
    return tu_main(scenario_suite());
}
