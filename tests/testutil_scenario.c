/* testutil_scenario.c - scenarios and lessons through the loader, run and
 * measured (testutil_scenario.h). */
#include "testutil_scenario.h"

#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *tu_source_path(const char *rel, char *buf, size_t n)
{
    const char *src = getenv("GILSIM_SOURCE_DIR");
    snprintf(buf, n, "%s/%s", src ? src : ".", rel);
    return buf;
}

gs_model_t *tu_load(const char *path, const char *text, const char *const *sets, int n_sets,
                    gs_diag_t *d)
{
    char buf[TU_MAX_SETS][256]; /* the overrides point into these */
    gs_override_t ov[TU_MAX_SETS];
    ck_assert_int_le(n_sets, TU_MAX_SETS);
    for (int k = 0; k < n_sets; k++) {
        snprintf(buf[k], sizeof buf[k], "%s", sets[k]);
        ck_assert_msg(gs_override_parse(buf[k], &ov[k]) == 0, "not a KEY=VALUE: %s", sets[k]);
    }
    gs_diag_t own;
    gs_diag_t *dd = d ? d : &own;
    memset(dd, 0, sizeof *dd);
    gs_model_t *m = NULL;
    int rc = text ? gs_scenario_load_string(path, text, strlen(text), n_sets ? ov : NULL, n_sets,
                                            &m, dd)
                  : gs_scenario_load_file(path, n_sets ? ov : NULL, n_sets, &m, dd);
    if (rc != 0 && !d) {
        char with[512] = "";
        for (int k = 0; k < n_sets; k++)
            snprintf(with + strlen(with), sizeof with - strlen(with), " --set %s", sets[k]);
        gs_diag_print(dd, stderr);
        ck_abort_msg("%s%s does not load: %s", path, with, gs_strerror(rc));
    }
    return rc == 0 ? m : NULL;
}

gs_model_t *tu_load_lesson(const char *file, const char *const *sets, int n_sets)
{
    char rel[512], path[1024];
    snprintf(rel, sizeof rel, "scenarios/%s", file);
    return tu_load(tu_source_path(rel, path, sizeof path), NULL, sets, n_sets, NULL);
}

void tu_run_stats(tu_result_t *r, gs_model_t *m, const char *what)
{
    gs_error_t err = {0};
    r->m = m;
    r->t = NULL;
    r->rc = gs_sim_run(m, NULL, &r->t, &err);
    ck_assert_msg(r->t != NULL, "%s: no trace (%s: %s)", what, gs_strerror(r->rc), err.msg);
    gs_error_t ce = {0};
    ck_assert_msg(gs_trace_check(r->t, &ce) == 0, "%s: trace invariant broken: %s", what,
                  ce.msg);
    ck_assert_int_eq(gs_stats_compute(r->t, &r->s), 0);
}

void tu_run_lesson(tu_result_t *r, const char *file, const char *const *sets, int n_sets)
{
    tu_run_stats(r, tu_load_lesson(file, sets, n_sets), file);
}

void tu_result_free(tu_result_t *r)
{
    gs_stats_destroy(&r->s);
    gs_trace_free(r->t);
    gs_model_free(r->m);
}

static int by_name(const void *a, const void *b)
{
    return strcmp(a, b);
}

int tu_list_lessons(char names[][TU_NAME_MAX], int max)
{
    char dir[1024];
    tu_source_path("scenarios", dir, sizeof dir);
    DIR *d = opendir(dir);
    ck_assert_msg(d != NULL, "cannot open %s", dir);
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) && n < max) {
        size_t len = strlen(e->d_name);
        if (len > 5 && len < TU_NAME_MAX && strcmp(e->d_name + len - 5, ".json") == 0)
            memcpy(names[n++], e->d_name, len + 1);
    }
    closedir(d);
    qsort(names, (size_t)n, sizeof *names, by_name);
    return n;
}

int tu_each_file(const char *const *dirs, int n_dirs, const char *suffix, tu_file_fn fn,
                 void *ctx)
{
    size_t ls = strlen(suffix);
    int n = 0;
    for (int d = 0; d < n_dirs; d++) {
        char dir[1024];
        DIR *dp = opendir(tu_source_path(dirs[d], dir, sizeof dir));
        ck_assert_msg(dp != NULL, "cannot open %s", dir);
        struct dirent *de;
        while ((de = readdir(dp)) != NULL) {
            size_t l = strlen(de->d_name);
            if (l <= ls || strcmp(de->d_name + l - ls, suffix) != 0)
                continue;
            char path[2048];
            snprintf(path, sizeof path, "%s/%s", dir, de->d_name);
            fn(path, de->d_name, ctx);
            n++;
        }
        closedir(dp);
    }
    return n;
}

int tu_thread_by_name(const gs_trace_t *t, const char *name)
{
    for (int i = 0; i < gs_trace_n_threads(t); i++)
        if (strcmp(gs_trace_lane(t, gs_trace_thread_lane(t, i))->name, name) == 0)
            return i;
    ck_abort_msg("no thread named %s", name);
    return -1;
}
