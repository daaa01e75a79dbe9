/* sweep.c - `gilsim sweep`: many runs of one scenario, one CSV row each.
 *
 * Runs are numbered 0..N-1 over the cartesian product of the --set values
 * (first --set slowest, the repeat index fastest), so a run number always
 * means the same parameters and seed: that is what makes rows deterministic
 * whatever --jobs is, what --shard K/N selects (run % N == K) and what
 * --resume matches against the rows already in the output.
 *
 * The scenario file is read once. Each value of each --set is checked by the
 * main thread before anything runs, so a bad value fails fast; a job then
 * builds a combination's model from that text when it first runs it, keeps
 * it for the runs of that combination that follow (the repeat index varies
 * fastest) and frees it when it moves on (a model per combination held at
 * once cost 3 KB each: hundreds of GB at the documented ceiling). Job threads take run numbers from a shared
 * cursor and run pinned to CPU (job % cores); results land in rows[run]. The
 * main thread shows progress and checkpoints the finished rows to --out
 * (sweep_out.c). SIGINT/SIGTERM stop the running simulations at their next
 * event (their rows are dropped, --resume runs them again), and the finished
 * rows are written. */
#include "sweep_int.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

/* Jobs stop on a signal (cli_signals_begin) or when a combination failed. */
static bool stopping(sweep_t *w)
{
    return cli_stop_signal() != 0 || atomic_load(&w->abort);
}

static void fill_overrides(const sweep_t *w, int64_t combo, gs_override_t *ov)
{
    for (int k = 0; k < w->n_params; k++) {
        ov[k].key = w->params[k].key;
        ov[k].value = w->params[k].vals[sweep_value_index(w, combo, k)];
    }
}

/* The model of a run's combination, from the text read once. NULL if it
 * failed: out of memory (*oom), or invalid (the first is kept in w->bad). */
static gs_model_t *build_model(sweep_t *w, int64_t run, bool *oom)
{
    if (w->combo_models) {
        /* loaded by the check already: a copy costs a few allocations, a
         * load a parse (with the check's loads, 11 parses for a sweep of 5
         * values) */
        gs_model_t *m = gs_model_clone(w->combo_models[sweep_combo_of(w, run)]);
        *oom = !m;
        return m;
    }
    gs_override_t ov[MAX_PARAMS];
    fill_overrides(w, sweep_combo_of(w, run), ov);
    gs_diag_t *d = malloc(sizeof *d);
    gs_model_t *m = NULL;
    *oom = !d;
    if (!d)
        return NULL;
    pthread_mutex_lock(&w->load_mu);
    int rc = gs_scenario_load_string(cli_source_name(w->file), w->text, w->text_len, ov,
                                     w->n_params, &m, d);
    if (rc == GS_ENOMEM) {
        *oom = true;
    } else if (rc && !w->bad) {
        w->bad = d;
        w->bad_run = run;
        d = NULL;
    }
    pthread_mutex_unlock(&w->load_mu);
    free(d);
    if (rc && !*oom)
        atomic_store(&w->abort, true);
    return rc ? NULL : m;
}


/* A job's model of the combination it ran last. Runs are numbered with the
 * repeat index fastest, so a job's chunk of runs mostly shares one
 * combination: it loads the scenario once for them, not once per run (the
 * load was 7% of a run of a fitted scenario). Only the seed differs. */
typedef struct model_cache {
    gs_model_t *m; /* owned; NULL none */
    int64_t combo;
} model_cache_t;

static gs_model_t *model_for(sweep_t *w, model_cache_t *c, int64_t run, bool *oom)
{
    int64_t combo = sweep_combo_of(w, run);
    if (!c->m || c->combo != combo) {
        gs_model_free(c->m);
        c->m = build_model(w, run, oom);
        c->combo = combo;
    }
    return c->m;
}

/* How many requests an op program may make ahead (gs_run_opts.ahead) in a
 * sweep's runs: up to 1000 where the rings stay small (4 MiB at most, at the
 * engine's 72 bytes a request), the default beyond. A deeper ring only saves hand-offs
 * (the trace is the same at every depth: check_ahead): 145 -> ~30 context
 * switches a run of the fitted producer_consumer.py, 0.89x its CPU time
 * (docs/performance.md). */
static int sweep_ahead(int n_threads)
{
    int64_t fit = ((int64_t)4 << 20) / 72 / (n_threads > 0 ? n_threads : 1);
    return fit >= 1000 ? 1000 : fit > GS_AHEAD_DEFAULT ? (int)fit : 0;
}

typedef enum run_res { RUN_ROW, RUN_NONE, RUN_OOM } run_res_t;

/* One simulation: RUN_ROW with *line the complete row; RUN_NONE when there is
 * no row to keep (interrupted, or its combination is invalid); RUN_OOM. */
static run_res_t run_one(sweep_t *w, model_cache_t *c, int64_t run, char **line, bool *stopped)
{
    bool oom = false;
    gs_model_t *m = model_for(w, c, run, &oom);
    if (!m)
        return oom ? RUN_OOM : RUN_NONE;
    m->seed = sweep_seed_of(w, run);
    gs_run_opts_t o;
    gs_run_opts_init(&o);
    o.cpu = w->n_cpus > 0 ? GS_CPU_AUTO : GS_CPU_NONE; /* job_main pinned us */
    if (w->budget)
        o.memory_budget = w->budget;
    o.cancel = cli_stop_flag();
    o.metrics_only = !w->full_trace; /* a row needs the metrics only */
    o.ahead = sweep_ahead(m->n_threads);
    gs_trace_t *t = NULL;
    gs_error_t err;
    int rc = gs_sim_run(m, &o, &t, &err);
    if (rc == GS_ENOMEM)
        return RUN_OOM;
    if (t && gs_trace_outcome(t) == GS_OUT_INTERRUPTED) {
        gs_trace_free(t); /* not a result: --resume runs it again */
        return RUN_NONE;
    }
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        gs_trace_free(t);
        return RUN_OOM;
    }
    sweep_row_prefix(w, run, f);
    gs_stats_t s;
    if (!t || gs_stats_compute(t, &s) != 0) {
        gs_metrics_csv_row(f, NULL); /* no trace: outcome "error", empty metrics */
        *stopped = true;
        (void)rc;
    } else {
        gs_metrics_csv_row(f, &s);
        *stopped = s.outcome != GS_OUT_DONE;
        gs_stats_destroy(&s);
    }
    gs_trace_free(t);
    if (fclose(f) != 0) {
        free(buf);
        return RUN_OOM;
    }
    *line = buf;
    return RUN_ROW;
}

/* A job's own counters sit on their own cache line: jobs on two cores then
 * share nothing they write after each run. */
typedef struct job {
    _Alignas(64) _Atomic int64_t done; /* runs finished, for the progress bar */
    _Atomic bool failed;
    sweep_t *w;
    int index;
    pthread_t th;
} job_t;

static void *job_main(void *arg)
{
    job_t *j = arg;
    sweep_t *w = j->w;
    /* Job k keeps to CPU k mod cores for all its runs (DESIGN.md), so that
     * parallel jobs never share a CPU and no run pays for re-pinning. */
    if (w->n_cpus > 0)
        gs_pin_current_thread(j->index % w->n_cpus);
    /* Runs are handed out in chunks through one atomic counter, a share of
     * what is left that shrinks towards one run at the end (so no job waits
     * long for the other's last chunk); each row has its own slot. Jobs
     * never wait for each other, and rarely touch a shared cache line. */
    bool failed = false;
    model_cache_t cache = {NULL, -1};
    while (!failed && !stopping(w)) {
        int64_t left = w->n_todo - atomic_load_explicit(&w->next, memory_order_relaxed);
        int64_t chunk = left / (8 * (int64_t)w->n_jobs);
        chunk = chunk < 1 ? 1 : chunk > 64 ? 64 : chunk;
        int64_t i = atomic_fetch_add(&w->next, chunk);
        int64_t end = i + chunk < w->n_todo ? i + chunk : w->n_todo;
        if (i >= end)
            break;
        for (; i < end && !stopping(w); i++) {
            int64_t run = w->todo[i];
            bool stopped = false;
            char *line = NULL;
            run_res_t res = run_one(w, &cache, run, &line, &stopped);
            if (res == RUN_OOM) {
                failed = true; /* out of memory: stop this job */
                break;
            }
            if (res == RUN_NONE)
                continue;
            w->rows[run].line = line;
            w->rows[run].stopped = stopped;
            atomic_store_explicit(&w->rows[run].ready, true, memory_order_release);
            atomic_store_explicit(&j->done, atomic_load_explicit(&j->done, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
        }
    }
    gs_model_free(cache.m);
    atomic_store(&j->failed, failed);
    pthread_mutex_lock(&w->mu);
    w->jobs_left--;
    pthread_cond_signal(&w->cv);
    pthread_mutex_unlock(&w->mu);
    return NULL;
}

static int64_t jobs_done(job_t *jobs, int n)
{
    int64_t d = 0;
    for (int j = 0; j < n; j++)
        d += atomic_load_explicit(&jobs[j].done, memory_order_relaxed);
    return d;
}

static void progress(int64_t done, int64_t all, double t0, bool final)
{
    int width = 30;
    int fill = all > 0 ? (int)(done * width / all) : width;
    double el = sweep_now_s() - t0;
    char eta[32] = "";
    if (done > 0 && done < all) {
        double left = el / (double)done * (double)(all - done);
        snprintf(eta, sizeof eta, ", %d:%02d left", (int)left / 60, (int)left % 60);
    }
    fprintf(stderr, "\r[");
    for (int i = 0; i < width; i++)
        fputc(i < fill ? '#' : '.', stderr);
    fprintf(stderr, "] %lld/%lld runs%s\033[K", (long long)done, (long long)all, eta);
    if (final)
        fputs("\r\033[K", stderr);
    fflush(stderr);
}


static bool plain_word(const char *s)
{
    if (!*s)
        return false;
    for (; *s; s++)
        if (!strchr("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789_./=:,+-@%",
                    *s))
            return false;
    return true;
}

static void print_resume(int argc, char **argv)
{
    fputs("resume with:\n  gilsim", stderr);
    bool has_resume = false;
    for (int i = 0; i < argc; i++) {
        const char *s = argv[i];
        if (strcmp(s, "--resume") == 0)
            has_resume = true;
        if (plain_word(s))
            fprintf(stderr, " %s", s);
        else {
            fputs(" '", stderr);
            for (; *s; s++) {
                if (*s == '\'')
                    fputs("'\\''", stderr);
                else
                    fputc(*s, stderr);
            }
            fputc('\'', stderr);
        }
    }
    fprintf(stderr, "%s\n", has_resume ? "" : " --resume");
}

typedef struct plot_ctx {
    const char *title, *xname, *sname, *yname;
    const plot_point_t *pts;
    int n;
} plot_ctx_t;

static int write_plot_fn(FILE *f, void *c)
{
    plot_ctx_t *p = c;
    return cli_plot_svg(f, p->title, p->xname, p->sname, p->yname, p->pts, p->n);
}

/* The chart: metric against the first parameter, a line per value of the
 * second, averaged over everything else. */
static int write_plot(sweep_t *w, const char *path, const char *metric)
{
    int col = -1;
    for (int k = 0; k < N_METRICS; k++)
        if (strcmp(sweep_metric_col(k), metric) == 0)
            col = 1 + w->n_params - (w->seed_param >= 0) + 2 + k;
    int n_fields = 1 + w->n_params + 2 + N_METRICS;
    plot_point_t *pts = calloc((size_t)(w->total > 0 ? w->total : 1), sizeof *pts);
    char **fields = calloc((size_t)n_fields, sizeof *fields);
    char **copies = calloc((size_t)(w->total > 0 ? w->total : 1), sizeof *copies);
    int n = 0, rc = 0;
    if (!pts || !fields || !copies) {
        rc = EXIT_IO;
        goto out;
    }
    for (int64_t r = 0; r < w->total; r++) {
        if (!w->rows[r].line)
            continue;
        int64_t combo = sweep_combo_of(w, r);
        char *copy = strdup(w->rows[r].line);
        if (!copy) {
            rc = EXIT_IO;
            goto out;
        }
        copies[r] = copy;
        int nf = sweep_csv_split(copy, fields, n_fields);
        if (nf <= col || !*fields[col])
            continue;
        char *end;
        double y = strtod(fields[col], &end);
        if (*end)
            continue;
        pts[n].x = w->params[0].vals[sweep_value_index(w, combo, 0)];
        pts[n].series = w->n_params > 1 ? w->params[1].vals[sweep_value_index(w, combo, 1)] : NULL;
        pts[n].y = y;
        n++;
    }
out:
    if (rc == 0) {
        plot_ctx_t pc = {w->title ? w->title : "", w->params[0].key, w->n_params > 1 ? w->params[1].key : NULL,
                         metric, pts, n};
        rc = cli_write("sweep", "--plot", path, write_plot_fn, &pc);
    }
    if (copies)
        for (int64_t r = 0; r < w->total; r++)
            free(copies[r]);
    free(copies);
    free(fields);
    free(pts);
    return rc;
}

static const cli_opt_t sweep_opts[] = {
    {"--set", true},   {"--repeat", true}, {"--jobs", true},   {"--shard", true},
    {"--out", true},   {"--plot", true},   {"--metric", true}, {"--seed", true},
    {"--resume", false}, {"--memory-budget", true},
};

/* What the command line asked for, besides what sweep_t holds. */
typedef struct sweep_cli {
    const char *out, *plot, *metric;
    bool resume;
} sweep_cli_t;

/* One --set KEY=V1,V2,... */
static int parse_set(sweep_t *w, const char *v)
{
    if (w->n_params == MAX_PARAMS)
        return cli_usage_error("sweep", "at most %d --set options", MAX_PARAMS);
    const char *eq = strchr(v, '=');
    if (!eq || eq == v)
        return cli_usage_error("sweep", "--set wants KEY=V1,V2,..., got '%s'", v);
    param_t *p = &w->params[w->n_params++];
    p->key = strndup(v, (size_t)(eq - v));
    int sr = p->key ? sweep_split_values(eq + 1, p) : -1;
    if (sr == -2)
        return cli_usage_error("sweep", "--set %s: empty value in '%s'", p->key, eq + 1);
    return sr < 0 ? EXIT_IO : EXIT_OK;
}

/* One option with its value (not --set). */
static int parse_opt(sweep_t *w, sweep_cli_t *c, const char *name, const char *v)
{
    if (strcmp(name, "--repeat") == 0) {
        if (!cli_parse_i64(v, 1, 1000000, &w->repeat))
            return cli_usage_error("sweep", "--repeat wants a whole number from 1 to 1000000, got '%s'", v);
    } else if (strcmp(name, "--jobs") == 0) {
        if (!cli_parse_i64(v, 1, 1024, &w->jobs))
            return cli_usage_error("sweep", "--jobs wants a whole number from 1 to 1024, got '%s'", v);
    } else if (strcmp(name, "--seed") == 0) {
        if (!cli_parse_i64(v, 0, INT64_MAX, &w->seed))
            return cli_usage_error("sweep", "--seed wants a whole number >= 0, got '%s'", v);
        w->have_seed = true;
    } else if (strcmp(name, "--shard") == 0) {
        char buf[64];
        snprintf(buf, sizeof buf, "%s", v);
        char *slash = strchr(buf, '/');
        if (slash)
            *slash = '\0';
        if (!slash || !cli_parse_i64(buf, 0, 1000000, &w->shard_k) ||
            !cli_parse_i64(slash + 1, 1, 1000000, &w->shard_n) || w->shard_k >= w->shard_n)
            return cli_usage_error("sweep", "--shard wants K/N with 0 <= K < N (e.g. 0/4), got '%s'", v);
    } else if (strcmp(name, "--out") == 0) {
        c->out = v;
    } else if (strcmp(name, "--plot") == 0) {
        c->plot = v;
    } else if (strcmp(name, "--metric") == 0) {
        c->metric = v;
    } else if (strcmp(name, "--resume") == 0) {
        c->resume = true;
    } else if (strcmp(name, "--set") == 0) {
        return parse_set(w, v);
    } else if (strcmp(name, "--memory-budget") == 0) {
        return cli_parse_budget("sweep", v, &w->budget);
    }
    return EXIT_OK;
}

/* The options, then what they must satisfy together. */
static int parse_args(sweep_t *w, sweep_cli_t *c, int argc, char **argv)
{
    cli_args_t a = {"sweep", sweep_opts, (int)(sizeof sweep_opts / sizeof sweep_opts[0]), argc,
                    argv, 1, false};
    const cli_opt_t *o;
    const char *v;
    int r;
    while ((r = cli_next(&a, &o, &v)) != 0) {
        if (r < 0)
            return EXIT_USAGE;
        if (r == 2) {
            if (w->file)
                return cli_usage_error("sweep", "only one FILE, got '%s' and '%s'", w->file, v);
            w->file = v;
            continue;
        }
        int rc = parse_opt(w, c, o->name, v);
        if (rc)
            return rc;
    }
    if (!c->out || !*c->out)
        return cli_usage_error("sweep", "--out RESULTS.csv is required");
    if (c->resume && strcmp(c->out, "-") == 0)
        return cli_usage_error("sweep", "--resume needs --out to be a file, not -");
    if (w->n_params == 0)
        return cli_usage_error("sweep", "give at least one --set KEY=V1,V2,...");
    w->seed_param = -1;
    for (int k = 0; k < w->n_params; k++) {
        if (strcmp(w->params[k].key, "seed") != 0)
            continue;
        if (w->seed_param >= 0 || w->have_seed)
            return cli_usage_error("sweep", "give the seed once: --seed N, or one --set seed=...");
        w->seed_param = k;
    }
    cli_path_t paths[2] = {{"--out", c->out}, {"--plot", c->plot}};
    if (cli_check_paths("sweep", w->file, paths, 2) != EXIT_OK)
        return EXIT_USAGE;
    for (int k = 1; k < N_METRICS; k++)
        if (strcmp(sweep_metric_col(k), c->metric) == 0)
            return EXIT_OK;
    fprintf(stderr, "gilsim sweep: --metric: no metric named '%s'; choose one of:", c->metric);
    for (int k = 1; k < N_METRICS; k++)
        fprintf(stderr, " %s", sweep_metric_col(k));
    fputc('\n', stderr);
    cli_print_usage("sweep", stderr);
    return EXIT_USAGE;
}

/* Counts the runs and allocates their slots. */
static int plan(sweep_t *w)
{
    w->n_combos = 1;
    for (int k = 0; k < w->n_params; k++) {
        if (w->n_combos > 100000000 / w->params[k].n)
            return cli_usage_error("sweep", "too many combinations (more than 100 000 000)");
        w->n_combos *= w->params[k].n;
    }
    if (w->n_combos > 100000000 / w->repeat)
        return cli_usage_error("sweep", "too many runs (more than 100 000 000)");
    w->total = w->n_combos * w->repeat;
    w->rows = calloc((size_t)w->total, sizeof *w->rows);
    w->todo = calloc((size_t)w->total, sizeof *w->todo);
    if (w->rows && w->todo)
        return EXIT_OK;
    fprintf(stderr, "gilsim sweep: out of memory for %lld runs\n", (long long)w->total);
    return EXIT_IO;
}

/* Prints a load failure: the diagnostics and the values that were set. */
static int load_failed(const sweep_t *w, int rc, const gs_diag_t *d, const gs_override_t *ov,
                       int n_ov)
{
    if (rc == GS_ENOMEM) {
        fprintf(stderr, "gilsim sweep: out of memory loading the scenario\n");
        return EXIT_IO;
    }
    if (d->n > 0)
        gs_diag_print(d, stderr);
    else
        fprintf(stderr, "gilsim sweep: %s: %s\n", cli_source_name(w->file), gs_strerror(rc));
    if (n_ov > 0) {
        fprintf(stderr, "gilsim sweep: with");
        for (int k = 0; k < n_ov; k++)
            fprintf(stderr, " %s=%s", ov[k].key, ov[k].value);
        fputc('\n', stderr);
    }
    return rc == GS_EIO ? EXIT_IO : EXIT_USAGE;
}

/* Reads the scenario once, loads it as it is (its seed and name) and with
 * each --set value alone, so that a bad value fails before any run. With one
 * parameter those are the combinations' models: they are kept in
 * w->combo_models. */
static int read_and_check(sweep_t *w)
{
    gs_diag_t *d = calloc(1, sizeof *d);
    if (!d)
        return EXIT_IO;
    int rc = 0;
    if (w->file) {
        rc = gs_scenario_read_file(w->file, &w->text, &w->text_len, d);
    } else {
        w->text = strdup(gs_scenario_default_json());
        w->text_len = w->text ? strlen(w->text) : 0;
        rc = w->text ? 0 : GS_ENOMEM;
    }
    const char *name = cli_source_name(w->file);
    gs_model_t *m = NULL;
    if (rc == 0)
        rc = gs_scenario_load_string(name, w->text, w->text_len, NULL, 0, &m, d);
    int status = rc ? load_failed(w, rc, d, NULL, 0) : EXIT_OK;
    bool keep = status == EXIT_OK && w->n_params == 1;
    if (keep) {
        w->combo_models = calloc((size_t)w->params[0].n, sizeof *w->combo_models);
        keep = w->combo_models != NULL;
    }
    if (m) {
        w->base_seed = m->seed;
        w->title = strdup(m->name ? m->name : "");
        gs_model_free(m);
    }
    if (w->seed_param >= 0 && status == EXIT_OK) {
        w->seed_vals = calloc((size_t)w->params[w->seed_param].n, sizeof *w->seed_vals);
        if (!w->seed_vals)
            status = EXIT_IO;
    }
    for (int k = 0; k < w->n_params && status == EXIT_OK; k++)
        for (int i = 0; i < w->params[k].n && status == EXIT_OK; i++) {
            gs_override_t ov = {w->params[k].key, w->params[k].vals[i]};
            rc = gs_scenario_load_string(name, w->text, w->text_len, &ov, 1, &m, d);
            if (rc) {
                status = load_failed(w, rc, d, &ov, 1);
                break;
            }
            if (k == w->seed_param)
                w->seed_vals[i] = m->seed;
            if (keep)
                w->combo_models[i] = m; /* one parameter: value i is combination i */
            else
                gs_model_free(m);
        }
    free(d);
    return status;
}

/* The runs of this shard that --resume did not find. */
static void list_todo(sweep_t *w, const sweep_cli_t *c, int64_t n_kept)
{
    for (int64_t run = w->shard_k; run < w->total; run += w->shard_n)
        if (!w->rows[run].line)
            w->todo[w->n_todo++] = run;
    if (c->resume && n_kept > 0)
        fprintf(stderr, "gilsim sweep: %lld run%s already in %s, %lld to go\n",
                (long long)n_kept, n_kept == 1 ? "" : "s", c->out, (long long)w->n_todo);
}

/* Starts the job threads with SIGINT/SIGTERM blocked (they and the workers
 * they start inherit the mask, so only the main thread sees Ctrl-C).
 * Returns how many started. */
static int start_jobs(sweep_t *w, job_t *jobs, int n_jobs)
{
    sigset_t block, prev;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &prev);
    int started = 0;
    pthread_mutex_lock(&w->mu);
    for (int j = 0; jobs && j < n_jobs; j++) {
        memset(&jobs[j], 0, sizeof jobs[j]);
        jobs[j].w = w;
        jobs[j].index = j;
        if (pthread_create(&jobs[j].th, NULL, job_main, &jobs[j]) != 0)
            break;
        started++;
        w->jobs_left++;
    }
    pthread_mutex_unlock(&w->mu);
    pthread_sigmask(SIG_SETMASK, &prev, NULL);
    return started;
}

/* Shows progress until every job ended or a signal came. */
static void wait_jobs(sweep_t *w, job_t *jobs, int started)
{
    bool bar = cli_color(stderr) || isatty(STDERR_FILENO);
    double t0 = sweep_now_s();
    pthread_mutex_lock(&w->mu);
    while (w->jobs_left > 0 && !cli_stop_signal()) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&w->cv, &w->mu, &ts);
        if (w->jobs_left > 0) {
            pthread_mutex_unlock(&w->mu);
            if (bar)
                progress(jobs_done(jobs, started), w->n_todo, t0, false);
            (void)sweep_out_checkpoint(w, false); /* a failure shows at the end */
            pthread_mutex_lock(&w->mu);
        }
    }
    pthread_mutex_unlock(&w->mu);
    if (bar)
        progress(jobs_done(jobs, started), w->n_todo, t0, true);
}

/* Runs the todo list on the job threads. EXIT_OK or EXIT_IO. */
static int run_all(sweep_t *w)
{
    int n_jobs = (int)(w->jobs < w->n_todo ? w->jobs : w->n_todo);
    job_t *jobs = aligned_alloc(_Alignof(job_t), (size_t)(n_jobs > 0 ? n_jobs : 1) * sizeof *jobs);
    w->n_jobs = n_jobs > 0 ? n_jobs : 1;
    int started = start_jobs(w, jobs, n_jobs);
    int status = EXIT_OK;
    if (started == 0 && w->n_todo > 0) {
        fprintf(stderr, "gilsim sweep: cannot start a job thread\n");
        status = EXIT_IO;
    }
    wait_jobs(w, jobs, started);
    for (int j = 0; j < started; j++) {
        pthread_join(jobs[j].th, NULL);
        if (atomic_load(&jobs[j].failed))
            status = EXIT_IO;
    }
    free(jobs);
    return status;
}

/* Writes the CSV (and the chart), then says how it went. */
static int finish(sweep_t *w, const sweep_cli_t *c, int status, int argc, char **argv)
{
    bool interrupted = cli_stop_signal() != 0;
    if (w->bad) {
        gs_override_t ov[MAX_PARAMS];
        fill_overrides(w, sweep_combo_of(w, w->bad_run), ov);
        status = load_failed(w, GS_ESCENARIO, w->bad, ov, w->n_params);
    }
    int64_t n_rows = 0, n_stopped = 0, n_missing = 0;
    for (int64_t run = w->shard_k; run < w->total; run += w->shard_n) {
        if (w->rows[run].line)
            n_rows++;
        else
            n_missing++;
        n_stopped += w->rows[run].stopped;
    }
    int wrc = w->out.files ? sweep_out_checkpoint(w, true)
                           : cli_write("sweep", "--out", c->out, sweep_write_rows, w);
    if (wrc != EXIT_OK) {
        status = EXIT_IO;
    } else if (c->plot && n_rows > 0) {
        int prc = write_plot(w, c->plot, c->metric);
        if (prc)
            status = prc;
    }
    if (interrupted) {
        fprintf(stderr, "gilsim sweep: interrupted: %lld of %lld runs are in %s, %lld missing\n",
                (long long)n_rows, (long long)(n_rows + n_missing), c->out, (long long)n_missing);
        print_resume(argc, argv);
        return status == EXIT_OK ? EXIT_INTERRUPTED : status;
    }
    if (status == EXIT_OK && n_stopped > 0) {
        fprintf(stderr,
                "gilsim sweep: %lld run%s stopped early (deadlock or limit): see the outcome "
                "column\n",
                (long long)n_stopped, n_stopped == 1 ? "" : "s");
        return EXIT_STOPPED;
    }
    if (status == EXIT_OK && strcmp(c->out, "-") != 0) /* say what was done */
        fprintf(stderr, "gilsim sweep: %lld row%s written to %s%s%s in %.1f s\n",
                (long long)n_rows, n_rows == 1 ? "" : "s", c->out,
                c->plot && n_rows > 0 ? ", chart in " : "", c->plot && n_rows > 0 ? c->plot : "",
                sweep_now_s() - w->t_start);
    return status;
}

static void sweep_free(sweep_t *w)
{
    sweep_out_end(w);
    for (int64_t run = 0; w->rows && run < w->total; run++)
        free(w->rows[run].line);
    for (int k = 0; k < w->n_params; k++) {
        for (int i = 0; w->params[k].vals && i < w->params[k].n; i++)
            free(w->params[k].vals[i]);
        free(w->params[k].vals);
        free(w->params[k].key);
    }
    for (int64_t i = 0; w->combo_models && i < w->n_combos; i++)
        gs_model_free(w->combo_models[i]);
    free(w->combo_models);
    free(w->text);
    free(w->title);
    free(w->seed_vals);
    free(w->bad);
    free(w->rows);
    free(w->todo);
}

int cmd_sweep(int argc, char **argv)
{
    sweep_t w;
    memset(&w, 0, sizeof w);
    w.out.lock_fd = -1;
    w.t_start = sweep_now_s();
    w.repeat = 1;
    w.shard_n = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    w.n_cpus = ncpu > 0 ? (int)ncpu : 1;
    w.jobs = w.n_cpus;
    const char *full = getenv("GILSIM_SWEEP_FULL_TRACE");
    w.full_trace = full && strcmp(full, "1") == 0;
    sweep_cli_t c = {NULL, NULL, "makespan_ns", false};
    int64_t n_kept = 0;
    int status = parse_args(&w, &c, argc, argv);
    if (status == EXIT_OK)
        status = plan(&w);
    if (status == EXIT_OK)
        status = read_and_check(&w);
    if (status == EXIT_OK)
        status = sweep_out_begin(&w, c.out); /* the lock */
    if (status == EXIT_OK && c.resume)
        status = sweep_load_existing(&w, c.out, &n_kept);
    if (status == EXIT_OK) /* an unwritable --out fails here, before any run */
        status = sweep_out_checkpoint(&w, true);
    if (status != EXIT_OK) {
        sweep_free(&w);
        return status;
    }
    list_todo(&w, &c, n_kept);

    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    pthread_mutex_init(&w.load_mu, NULL);
    cli_signals_begin();
    status = run_all(&w);
    status = finish(&w, &c, status, argc, argv);
    cli_signals_end();
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
    pthread_mutex_destroy(&w.load_mu);
    sweep_free(&w);
    return status;
}
