/* run.c - one simulation of the loaded scenario (public API only). */
#include "run.h"

#include "gilsim/record.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static void diag_text(const gs_diag_t *d, const char *what, int rc, char *err, size_t n)
{
    size_t used = 0;
    err[0] = 0;
    if (d->n == 0) {
        snprintf(err, n, "%s: %s", what, gs_strerror(rc));
        return;
    }
    for (int i = 0; i < d->n && used + 1 < n; i++) {
        char line[1024];
        gs_error_format(&d->e[i], line, sizeof line);
        int k = snprintf(err + used, n - used, "%s%s", i ? "\n" : "", line);
        if (k < 0)
            break;
        used += (size_t)k;
    }
    if (d->n_total > d->n && used + 1 < n)
        snprintf(err + used, n - used, "\n... and %d more errors", d->n_total - d->n);
}

void gv_interval_name(char *buf, size_t n, int64_t ns)
{
    gv_fmt_dur(buf, n, ns);
    /* "5.00 ms" -> "5 ms": knob values are round numbers */
    char *dot = strchr(buf, '.');
    if (dot) {
        char *p = dot + 1;
        while (*p == '0')
            p++;
        if (*p == ' ')
            memmove(dot, p, strlen(p) + 1);
    }
}

static void make_label(gv_run_t *r)
{
    const gs_model_t *m = r->model;
    const gs_python_t *py = &m->processes[0].python;
    char iv[64] = "";
    if (py->gil == GS_GIL_CPYTHON3) {
        char d[24];
        gv_interval_name(d, sizeof d, py->switch_interval_ns);
        snprintf(iv, sizeof iv, " \xC2\xB7 interval %s", d);
    }
    snprintf(r->label, sizeof r->label, "%s%s \xC2\xB7 %d core%s \xC2\xB7 %s",
             py->gil == GS_GIL_NONE ? "no GIL" : gs_gil_name(py->gil), iv, m->machine.cores,
             m->machine.cores == 1 ? "" : "s", gs_policy_name(m->machine.policy));
}

typedef struct keyed {
    gs_instant_t in;
    size_t pos; /* position in the trace: breaks ties, so the sort is stable */
} keyed_t;

static int by_time(const void *a, const void *b)
{
    const keyed_t *x = a, *y = b;
    if (x->in.t_ns != y->in.t_ns)
        return x->in.t_ns < y->in.t_ns ? -1 : 1;
    return x->pos < y->pos ? -1 : x->pos > y->pos;
}

/* The view steps and draws by binary search over time, so it keeps its own
 * time-sorted copy of the instants without the annotations (those are drawn
 * from the annotation list). */
static int sort_instants(gv_run_t *r)
{
    size_t n = gs_trace_n_instants(r->trace), k = 0;
    const gs_instant_t *in = gs_trace_instants(r->trace);
    keyed_t *tmp = malloc((n ? n : 1) * sizeof *tmp);
    r->instants = malloc((n ? n : 1) * sizeof *r->instants);
    if (!tmp || !r->instants) {
        free(tmp);
        return -1;
    }
    for (size_t i = 0; i < n; i++)
        if (in[i].kind != GS_IN_ANNOTATION)
            tmp[k++] = (keyed_t){in[i], i};
    qsort(tmp, k, sizeof *tmp, by_time);
    for (size_t i = 0; i < k; i++)
        r->instants[i] = tmp[i].in;
    r->n_instants = k;
    free(tmp);
    return 0;
}

static int load_recording(gv_run_t *r, const char *path, char *err, size_t n_err)
{
    gs_error_t e;
    int rc = gs_recording_load(path, &r->model, &r->trace, &e);
    if (rc != 0) {
        gs_error_format(&e, err, n_err);
        gv_run_clear(r);
        return rc;
    }
    r->has_stats = gs_stats_compute(r->trace, &r->stats) == 0;
    if (sort_instants(r) != 0) {
        snprintf(err, n_err, "out of memory");
        gv_run_clear(r);
        return GS_ENOMEM;
    }
    char iv[24];
    gv_interval_name(iv, sizeof iv, r->model->processes[0].python.switch_interval_ns);
    snprintf(r->label, sizeof r->label, "recorded run \xC2\xB7 interval %s \xC2\xB7 %d core%s", iv,
             r->model->machine.cores, r->model->machine.cores == 1 ? "" : "s");
    return 0;
}

int gv_run_make(gv_run_t *r, const char *path, const gs_override_t *ov, int n_ov, char *err,
                size_t n_err)
{
    static gs_diag_t diag; /* large; the viewer loads from one thread */
    memset(r, 0, sizeof *r);
    memset(&diag, 0, sizeof diag);
    int rc;
    if (path && gs_recording_sniff(path)) /* a real run: nothing to simulate */
        return load_recording(r, path, err, n_err);
    if (path) {
        rc = gs_scenario_load_file(path, ov, n_ov, &r->model, &diag);
    } else {
        const char *json = gs_scenario_default_json();
        rc = gs_scenario_load_string("built-in default scenario", json, strlen(json), ov, n_ov,
                                     &r->model, &diag);
    }
    if (rc != 0 || !r->model) {
        diag_text(&diag, path ? path : "built-in default scenario", rc ? rc : GS_EINVAL, err,
                  n_err);
        gv_run_clear(r);
        return rc ? rc : GS_EINVAL;
    }
    gs_run_opts_t opts;
    gs_run_opts_init(&opts);
    gs_error_t e;
    memset(&e, 0, sizeof e);
    rc = gs_sim_run(r->model, &opts, &r->trace, &e);
    if (!r->trace) {
        char line[1024];
        if (e.code || e.msg[0])
            gs_error_format(&e, line, sizeof line);
        else
            snprintf(line, sizeof line, "%s", gs_strerror(rc));
        snprintf(err, n_err, "%s: simulation failed: %s", path ? path : "built-in default scenario",
                 line);
        gv_run_clear(r);
        return rc ? rc : GS_EINVAL;
    }
    r->has_stats = gs_stats_compute(r->trace, &r->stats) == 0;
    if (sort_instants(r) != 0) {
        snprintf(err, n_err, "out of memory");
        gv_run_clear(r);
        return GS_ENOMEM;
    }
    make_label(r);
    return 0;
}

void gv_run_clear(gv_run_t *r)
{
    if (r->has_stats)
        gs_stats_destroy(&r->stats);
    free(r->instants);
    if (r->trace)
        gs_trace_free(r->trace);
    if (r->model)
        gs_model_free(r->model);
    memset(r, 0, sizeof *r);
}
