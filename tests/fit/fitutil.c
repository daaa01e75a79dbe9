/* fitutil.c - fitting and replaying for the fit suites (fitutil.h). */
#include "fitutil.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

char *fu_fit(const char *path, gs_fit_opts_t o)
{
    char *json = NULL;
    size_t len = 0;
    gs_error_t err;
    int rc = gs_fit_recording(path, &o, &json, &len, &err);
    ck_assert_msg(rc == 0, "fit %s: %s: %s", path, err.path, err.msg);
    return json;
}

void fu_replay(const char *json, fu_replay_t *r)
{
    memset(r, 0, sizeof *r);
    gs_diag_t d;
    memset(&d, 0, sizeof d);
    int rc = gs_scenario_load_string("fitted", json, strlen(json), NULL, 0, &r->model, &d);
    ck_assert_msg(rc == 0, "the fitted scenario loads: %s", d.n ? d.e[0].msg : "");
    int run_rc = -1;
    r->trace = tu_run(r->model, &run_rc);
    ck_assert_int_eq(run_rc, 0);
    ck_assert_int_eq(gs_stats_compute(r->trace, &r->stats), 0);
    ck_assert_int_eq(r->stats.outcome, GS_OUT_DONE);
}

void fu_replay_free(fu_replay_t *r)
{
    gs_stats_destroy(&r->stats);
    gs_trace_free(r->trace);
    gs_model_free(r->model);
    memset(r, 0, sizeof *r);
}

const gs_thread_stats_t *fu_thread(const fu_replay_t *r, const char *name)
{
    for (int i = 0; i < r->stats.n_threads; i++)
        if (strcmp(r->stats.threads[i].name, name) == 0)
            return &r->stats.threads[i];
    ck_abort_msg("the replay has no thread %s", name);
    return NULL;
}

const cJSON *fu_program(const cJSON *root, const char *name)
{
    const cJSON *t;
    cJSON_ArrayForEach(t, cJSON_GetObjectItem(root, "threads"))
    {
        if (strcmp(cJSON_GetStringValue(cJSON_GetObjectItem(t, "name")), name) == 0)
            return cJSON_GetObjectItem(t, "program");
    }
    ck_abort_msg("no thread %s", name);
    return NULL;
}

void fu_write_one_thread(char *path, const char *script, const char *calibration,
                         long long duration_ns, const char *thread, const char *events)
{
    int fd = mkstemp(path);
    ck_assert_int_ge(fd, 0);
    FILE *f = fdopen(fd, "w");
    ck_assert_ptr_nonnull(f);
    fprintf(f,
            "{\"format\": \"gilsim-recording\", \"version\": 1, \"partial\": false,\n"
            " \"command\": [\"python3\", \"%s\"], \"interpreter\": {\"version\": [3, 11, "
            "0]},\n \"switch_interval_ns\": 5000000, \"host\": {\"cores\": 2},\n"
            " \"calibration\": {%s},\n"
            " \"duration_ns\": %lld,\n \"threads\": [\n"
            "  {\"name\": \"%s\", \"events\": [\n   %s]}\n]}\n",
            script, calibration, duration_ns, thread, events);
    ck_assert_int_eq(fclose(f), 0);
}
