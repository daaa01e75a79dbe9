/* run.c - one simulation of the loaded scenario (public API only). */
#include "run.h"

#include "gilsim/fit.h"
#include "gilsim/record.h"

#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The trace's promise that its instants are in time order, checked in
 * debug builds. */
#ifdef NDEBUG
#define GV_ASSERT_SORTED(x) ((void)0)
#else
#include <assert.h>
#define GV_ASSERT_SORTED(x) assert(x)
#endif

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

/* The view steps and draws by binary search over time, so it keeps its own
 * copy of the instants without the annotations (those are drawn from the
 * annotation list). The trace holds them in time order (gs__trace_finish
 * sorts them stably), so a filtered copy is sorted too: one pass, no
 * temporary (it matters at the memory budget). */
static int sort_instants(gv_run_t *r)
{
    size_t n = gs_trace_n_instants(r->trace), k = 0;
    const gs_instant_t *in = gs_trace_instants(r->trace);
    size_t keep = 0;
    for (size_t i = 0; i < n; i++)
        keep += in[i].kind != GS_IN_ANNOTATION;
    r->instants = malloc((keep ? keep : 1) * sizeof *r->instants);
    if (!r->instants)
        return -1;
    for (size_t i = 0; i < n; i++)
        if (in[i].kind != GS_IN_ANNOTATION) {
            GV_ASSERT_SORTED(k == 0 || r->instants[k - 1].t_ns <= in[i].t_ns);
            r->instants[k++] = in[i];
        }
    r->n_instants = k;
    return 0;
}

/* "bomb.json: out of memory ... (the trace holds 980 MiB)": what the view
 * needs besides the trace did not fit; the budget is what to lower. */
static void oom_text(const gv_run_t *r, const char *name, const char *doing, char *err, size_t n)
{
    size_t ni = gs_trace_n_instants(r->trace);
    snprintf(err, n,
             "%s: out of memory %s (%zu instants); lower the memory budget "
             "(--memory-budget, GILSIM_MEMORY_BUDGET) below what this machine can give, or "
             "shorten until / max_events",
             name, doing, ni);
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
        oom_text(r, path, "copying the recording's instants", err, n_err);
        gv_run_clear(r);
        return GS_ENOMEM;
    }
    /* "recorded: convoy.py, Python 3.11 · interval 5 ms · 2 cores", from
     * what the loader (recording.c) writes: the name "recording of
     * convoy.py", the description "... (Python 3.11.7 ...". */
    char iv[24], ver[16] = "";
    const gs_model_t *m = r->model;
    const char *prog = m->name && strncmp(m->name, "recording of ", 13) == 0 ? m->name + 13 : "";
    const char *py = m->description ? strstr(m->description, "(Python ") : NULL;
    int major, minor;
    if (py && sscanf(py + 8, "%d.%d", &major, &minor) == 2)
        snprintf(ver, sizeof ver, "Python %d.%d", major, minor);
    gv_interval_name(iv, sizeof iv, m->processes[0].python.switch_interval_ns);
    snprintf(r->label, sizeof r->label, "recorded: %.60s%s%s \xC2\xB7 interval %s \xC2\xB7 %d core%s",
             *prog ? prog : "what happened", *ver ? ", " : "", ver, iv, m->machine.cores,
             m->machine.cores == 1 ? "" : "s");
    return 0;
}

static int simulate(gv_run_t *r, const char *name, size_t budget, gv_job_t *job, int phase0,
                    char *err, size_t n_err);

/* After a scenario load that returned rc with diag: its error as text, or
 * the loaded r->model run. Frees diag. */
static int simulate_loaded(gv_run_t *r, const char *name, int rc, gs_diag_t *diag, size_t budget,
                           gv_job_t *job, int phase0, char *err, size_t n_err)
{
    if (rc != 0 || !r->model) {
        diag_text(diag, name, rc ? rc : GS_EINVAL, err, n_err);
        free(diag);
        gv_run_clear(r);
        return rc ? rc : GS_EINVAL;
    }
    free(diag);
    return simulate(r, name, budget, job, phase0, err, n_err);
}

int gv_run_make(gv_run_t *r, const char *path, const gs_override_t *ov, int n_ov, size_t budget,
                gv_job_t *job, int phase0, char *err, size_t n_err)
{
    memset(r, 0, sizeof *r);
    gs_diag_t *diag = calloc(1, sizeof *diag); /* large, and loads may run on two threads */
    if (!diag) {
        snprintf(err, n_err, "out of memory");
        return GS_ENOMEM;
    }
    int rc;
    const char *name = path ? path : "built-in default scenario";
    if (job)
        gv_job_set_phase(job, phase0 + GV_PHASE_LOAD, 0);
    if (path && gs_recording_sniff(path)) { /* a real run: nothing to simulate */
        free(diag);
        return load_recording(r, path, err, n_err);
    }
    if (path) {
        rc = gs_scenario_load_file(path, ov, n_ov, &r->model, diag);
    } else {
        const char *json = gs_scenario_default_json();
        rc = gs_scenario_load_string(name, json, strlen(json), ov, n_ov, &r->model, diag);
    }
    return simulate_loaded(r, name, rc, diag, budget, job, phase0, err, n_err);
}

/* A scenario given as text (a fitted one): loaded, then as above. */
static int run_text(gv_run_t *r, const char *name, const char *json, size_t len,
                    const gs_override_t *ov, int n_ov, size_t budget, gv_job_t *job, int phase0,
                    char *err, size_t n_err)
{
    memset(r, 0, sizeof *r);
    gs_diag_t *diag = calloc(1, sizeof *diag);
    if (!diag) {
        snprintf(err, n_err, "out of memory");
        return GS_ENOMEM;
    }
    int rc = gs_scenario_load_string(name, json, len, ov, n_ov, &r->model, diag);
    return simulate_loaded(r, name, rc, diag, budget, job, phase0, err, n_err);
}

/* Runs the loaded r->model and measures its trace. */
static int simulate(gv_run_t *r, const char *name, size_t budget, gv_job_t *job, int phase0,
                    char *err, size_t n_err)
{
    int rc;
    gs_run_opts_t opts;
    gs_run_opts_init(&opts);
    if (budget)
        opts.memory_budget = budget;
    if (job) {
        gv_job_run_opts(job, &opts);
        gv_job_set_phase(job, phase0 + GV_PHASE_SIMULATE, r->model->until_ns);
    }
    gs_error_t e;
    memset(&e, 0, sizeof e);
    rc = gs_sim_run(r->model, &opts, &r->trace, &e);
    if (job && gv_job_cancelled(job)) { /* nobody wants the rest */
        snprintf(err, n_err, "%s: cancelled", name);
        gv_run_clear(r);
        return GS_ESTOPPED;
    }
    if (!r->trace) {
        char line[1024];
        if (e.code || e.msg[0])
            gs_error_format(&e, line, sizeof line);
        else
            snprintf(line, sizeof line, "%s", gs_strerror(rc));
        snprintf(err, n_err, "%s: simulation failed: %s", name, line);
        gv_run_clear(r);
        return rc ? rc : GS_EINVAL;
    }
    if (job)
        gv_job_set_phase(job, phase0 + GV_PHASE_METRICS, 0);
    if (sort_instants(r) != 0) {
        oom_text(r, name, "after the run, copying its instants for the view", err, n_err);
        gv_run_clear(r);
        return GS_ENOMEM;
    }
    r->has_stats = gs_stats_compute(r->trace, &r->stats) == 0;
    if (!r->has_stats) {
        oom_text(r, name, "after the run, computing its metrics", err, n_err);
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
    gv_queues_free(r->queues);
    if (r->trace)
        gs_trace_free(r->trace);
    if (r->model)
        gs_model_free(r->model);
    memset(r, 0, sizeof *r);
}

/* ---- a load: runs A and B from a copy of the view's settings ---------------- */

static int copy_strings(char **dst, int *n_dst, char *const *src, int n)
{
    *n_dst = 0;
    for (int i = 0; i < n; i++) {
        if (!(dst[i] = strdup(src[i])))
            return GS_ENOMEM;
        (*n_dst)++;
    }
    return 0;
}

void gv_spec_destroy(gv_spec_t *s)
{
    free(s->path);
    free(s->real);
    for (int i = 0; i < s->n_set; i++)
        free(s->set[i]);
    for (int i = 0; i < s->n_cmp_set; i++)
        free(s->cmp_set[i]);
    memset(s, 0, sizeof *s);
}

int gv_spec_make(gv_spec_t *s, const gv_view_t *v, const char *path, bool same_file)
{
    memset(s, 0, sizeof *s);
    /* real mode lasts for reloads (and the first load); another file ends it */
    bool real = v->real && (same_file || v->n_runs == 0);
    if ((path && !(s->path = strdup(path))) || (real && !(s->real = strdup(v->real))) ||
        copy_strings(s->set, &s->n_set, v->set, v->n_set) != 0 ||
        copy_strings(s->cmp_set, &s->n_cmp_set, v->cmp_set, v->n_cmp_set) != 0) {
        gv_spec_destroy(s);
        return GS_ENOMEM;
    }
    if (same_file) {
        s->k = v->knobs;
        s->kb = v->knobs_b;
    }
    s->compare = v->compare;
    s->same_file = same_file;
    s->memory_budget = v->memory_budget;
    s->replay = v->replay;
    if (v->real) /* the recording and the model, always both; after it, one run */
        s->compare = s->real != NULL;
    return 0;
}

int gv_view_set_real(gv_view_t *v, const char *rec, bool replay)
{
    char *r = strdup(rec);
    if (!r)
        return GS_ENOMEM;
    free(v->real);
    v->real = r;
    v->replay = replay;
    v->compare = true;
    v->target = 2; /* the knobs act on the what-if: the recording is what happened,
                      and the model beside it at the recorded settings checks the model */
    return 0;
}

/* The knobs as overrides; strings live in store (n_store bytes). */
static int knob_overrides(const gv_knobs_t *k, gs_override_t *ov, char *store, size_t n_store,
                          bool flip_gil)
{
    int n = 0;
    if (k->set_interval) {
        snprintf(store, n_store, "%lldns", (long long)k->interval_ns);
        ov[n++] = (gs_override_t){"python.switch_interval", store};
    }
    if (k->set_cores) {
        snprintf(store + 32, n_store - 32, "%d", k->cores);
        ov[n++] = (gs_override_t){"machine.cores", store + 32};
    }
    if (k->set_gil || flip_gil) {
        int g = k->gil;
        if (flip_gil)
            g = g == GS_GIL_NONE ? GS_GIL_CPYTHON3 : GS_GIL_NONE;
        ov[n++] = (gs_override_t){"python.gil", gs_gil_name((gs_gil_kind_t)g)};
    }
    if (k->set_policy)
        ov[n++] = (gs_override_t){"machine.policy", gs_policy_name((gs_policy_t)k->policy)};
    if (k->set_timeslice) {
        snprintf(store + 64, n_store - 64, "%lldns", (long long)k->timeslice_ns);
        ov[n++] = (gs_override_t){"machine.timeslice", store + 64};
    }
    if (k->set_one_cpu) /* the program's CPU affinity; other processes keep theirs */
        ov[n++] = (gs_override_t){"cpus", k->one_cpu ? "0" : "all"};
    return n;
}

/* Run B: the file, --set, then what makes B differ (--compare, or the other
 * GIL model), then B's own knobs. ov holds --set's n overrides. */
static int make_b(gv_spec_t *s, gv_run_t fresh[GV_MAX_RUNS], gs_override_t *ov, int n,
                  gv_job_t *job, char *err, size_t n_err)
{
    gs_override_t ovb[2 * GV_MAX_SET + 8];
    char *cmp[GV_MAX_SET] = {0};
    int nb = n, rc = 0;
    memcpy(ovb, ov, (size_t)n * sizeof *ov);
    for (int i = 0; i < s->n_cmp_set && rc == 0; i++) {
        cmp[i] = strdup(s->cmp_set[i]);
        if (!cmp[i] || gs_override_parse(cmp[i], &ovb[nb]) != 0) {
            snprintf(err, n_err, "--compare %s: expected key=value", s->cmp_set[i]);
            rc = GS_EINVAL;
        }
        nb++;
    }
    char store_b[128];
    bool flip = s->n_cmp_set == 0 && !s->kb.set_gil;
    if (flip)
        s->kb.gil = fresh[0].model ? fresh[0].model->processes[0].python.gil : GS_GIL_CPYTHON3;
    nb += knob_overrides(&s->kb, ovb + nb, store_b, sizeof store_b, flip);
    if (rc == 0)
        rc = gv_run_make(&fresh[1], s->path, ovb, nb, s->memory_budget, job, GV_PHASE_B, err,
                         n_err);
    for (int i = 0; i < s->n_cmp_set; i++)
        free(cmp[i]);
    return rc;
}

bool gv_spec_what_if(const gv_spec_t *s)
{
    const gv_knobs_t *k = &s->kb;
    return s->n_set > 0 || k->set_interval || k->set_cores || k->set_gil || k->set_policy ||
           k->set_timeslice || k->set_one_cpu;
}

/* What makes the what-if differ from the model: "interval 1 ms, cores 3,
 * python.version=3.13t" (the knobs, then --set). */
static void what_if_text(const gv_spec_t *s, char *buf, size_t n)
{
    gv_knobs_text(&s->kb, buf, n);
    for (int i = 0; i < s->n_set; i++) {
        size_t used = strlen(buf);
        snprintf(buf + used, n - used, "%s%s", used ? ", " : "", s->set[i]);
    }
}

/* "what: LABEL" as run r's label. */
static void prefix_label(gv_run_t *r, const char *what)
{
    char l[sizeof r->label + 200];
    snprintf(l, sizeof l, "%.190s: %s", what, r->label);
    snprintf(r->label, sizeof r->label, "%.*s", (int)sizeof r->label - 1, l);
}

/* The model beside the recording, with overrides ov (n): the fitted text
 * json (replay) or the file. */
static int model_run(gv_spec_t *s, gv_run_t *r, const char *json, size_t len, const char *name,
                     const gs_override_t *ov, int n, gv_job_t *job, int phase0, char *err,
                     size_t n_err)
{
    if (json)
        return run_text(r, name, json, len, ov, n, s->memory_budget, job, phase0, err, n_err);
    return gv_run_make(r, s->path, ov, n, s->memory_budget, job, phase0, err, n_err);
}

/* gilsim replay's rule (gs_fit_what_if_without_load, sim/fit/whatif.c): a
 * fifo what-if runs without the fitted other load, whose never-blocking
 * threads would otherwise keep the cores to the time limit. Loads the
 * what-if's model (the fitted text json, or the file) with ov (*n) to ask;
 * when it must, adds the override that removes the load. A model that does
 * not load is left to the run, which says why. */
static bool what_if_without_load(const gv_spec_t *s, const char *json, size_t len,
                                 gs_override_t *ov, int *n)
{
    gs_diag_t *d = calloc(1, sizeof *d);
    gs_model_t *m = NULL;
    if (!d)
        return false;
    int rc = json ? gs_scenario_load_string("what-if", json, len, ov, *n, &m, d)
                  : gs_scenario_load_file(s->path, ov, *n, &m, d);
    bool without = rc == 0 && gs_fit_what_if_without_load(m);
    if (m)
        gs_model_free(m);
    free(d);
    if (without)
        ov[(*n)++] = (gs_override_t){GS_FIT_NO_LOAD_KEY, GS_FIT_NO_LOAD_VALUE};
    return without;
}

/* Beside a recording: run B, the model at its own settings (the scenario
 * fitted to the recording, replay, or the file), which no knob moves: it is
 * the check of how far to trust the model; and run C, the what-if: the same
 * model with --set (ov, n) and the knobs, when it has any. Fitted once for
 * both. */
static int make_model(gv_spec_t *s, gv_run_t fresh[GV_MAX_RUNS], gs_override_t *ov, int n,
                      gv_job_t *job, char *err, size_t n_err)
{
    char *json = NULL, name[1100] = "", what[200];
    size_t len = 0;
    int rc;
    if (s->replay) {
        if (job)
            gv_job_set_phase(job, GV_PHASE_B + GV_PHASE_LOAD, 0);
        gs_fit_opts_t fo = {.allow_partial = true}; /* show what there is */
        gs_error_t e;
        memset(&e, 0, sizeof e);
        rc = gs_fit_recording(s->real, &fo, &json, &len, &e);
        if (rc != 0) {
            char line[1024];
            gs_error_format(&e, line, sizeof line);
            snprintf(err, n_err, "%s: cannot fit a scenario to it: %s", s->real, line);
            return rc;
        }
        snprintf(name, sizeof name, "the scenario fitted to %s", s->real);
    }
    rc = model_run(s, &fresh[1], json, len, name, NULL, 0, job, GV_PHASE_B, err, n_err);
    if (rc == 0) { /* "replay, as recorded: cpython3 · interval 5 ms · 2 cores · cfs" */
        const char *base = s->path ? strrchr(s->path, '/') : NULL;
        base = base ? base + 1 : s->path ? s->path : "the built-in scenario";
        if (s->replay)
            snprintf(what, sizeof what, "replay, as recorded");
        else /* "simulated (c.fit.json, as written): ..." */
            snprintf(what, sizeof what, "simulated (%.60s, as written)", base);
        prefix_label(&fresh[1], what);
    }
    if (rc == 0 && gv_spec_what_if(s)) {
        char store[128], diff[160];
        int nc = n + knob_overrides(&s->kb, ov + n, store, sizeof store, false);
        bool without = what_if_without_load(s, json, len, ov, &nc);
        rc = model_run(s, &fresh[2], json, len, name, ov, nc, job, GV_PHASE_C, err, n_err);
        if (rc == 0) { /* "what-if (interval 1 ms): cpython3 · interval 1 ms · ..." */
            what_if_text(s, diff, sizeof diff);
            snprintf(what, sizeof what, "what-if (%s%s)", diff,
                     without ? ", without the other load" : "");
            prefix_label(&fresh[2], what);
            fresh[2].without_load = without;
        } else { /* "what-if (C): ...": the --set or knob that broke it */
            char *why = strdup(err);
            if (why)
                snprintf(err, n_err, "what-if (C, --set and the knobs): %s", why);
            free(why);
            gv_run_clear(&fresh[1]);
        }
    }
    free(json);
    return rc;
}

int gv_runs_make(gv_spec_t *s, gv_run_t fresh[GV_MAX_RUNS], gv_job_t *job, char *err, size_t n_err)
{
    gs_override_t ov[GV_MAX_SET + 8];
    char *copies[GV_MAX_SET] = {0};
    char store[128];
    int n = 0, rc = 0;
    memset(fresh, 0, GV_MAX_RUNS * sizeof *fresh);
    for (int i = 0; i < s->n_set; i++) {
        copies[i] = strdup(s->set[i]);
        if (!copies[i] || gs_override_parse(copies[i], &ov[n]) != 0) {
            snprintf(err, n_err, "--set %s: expected key=value, e.g. machine.cores=4", s->set[i]);
            rc = GS_EINVAL;
            goto out;
        }
        n++;
    }
    if (s->real) { /* A: what happened; B: the model beside it; C: the what-if */
        rc = gv_run_make(&fresh[0], s->real, NULL, 0, 0, job, 0, err, n_err);
        if (rc == 0 && (rc = make_model(s, fresh, ov, n, job, err, n_err)) != 0)
            gv_run_clear(&fresh[0]);
        goto out;
    }
    int nk = knob_overrides(&s->k, ov + n, store, sizeof store, false);
    rc = gv_run_make(&fresh[0], s->path, ov, n + nk, s->memory_budget, job, 0, err, n_err);
    if (rc == 0 && s->compare) {
        rc = make_b(s, fresh, ov, n, job, err, n_err);
        if (rc != 0)
            gv_run_clear(&fresh[0]);
    }
out:
    for (int i = 0; i < s->n_set; i++)
        free(copies[i]);
    return rc;
}
