/* sweep.c - `gilsim sweep`: many runs of one scenario, one CSV row each.
 *
 * Runs are numbered 0..N-1 over the cartesian product of the --set values
 * (first --set slowest, the repeat index fastest), so a run number always
 * means the same parameters and seed: that is what makes rows deterministic
 * whatever --jobs is, what --shard K/N selects (run % N == K) and what
 * --resume matches against the rows already in the output.
 *
 * Every model is loaded (and validated) by the main thread before anything
 * runs, so a bad value fails fast and cJSON is never used concurrently. Job
 * threads take run numbers from a shared cursor; each clones the model of
 * its combination, sets the seed and runs it pinned to CPU (job % cores).
 * Results land in rows[run]; the main thread shows progress and, at the end
 * or on SIGINT/SIGTERM, writes the finished rows in run order, atomically. */
#include "cli.h"

#include <errno.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#define MAX_PARAMS 16

typedef struct param {
    char *key;
    char **vals;
    int n;
} param_t;

typedef struct row {
    char *line;   /* the CSV line without newline, NULL until done */
    bool stopped; /* the run did not finish normally */
} row_t;

typedef struct sweep {
    const char *file;
    param_t params[MAX_PARAMS];
    int n_params;
    long long repeat, shard_k, shard_n, jobs, seed;
    bool have_seed;
    int64_t n_combos, total;
    gs_model_t **models; /* per combination, only those in the shard */
    row_t *rows;         /* per run */
    int64_t *todo, n_todo;
    _Atomic int64_t next; /* index into todo of the next run to hand out */
    int n_jobs;
    pthread_mutex_t mu;   /* with cv: a job tells the main thread it ended */
    pthread_cond_t cv;
    int jobs_left;        /* mu */
    int n_cpus;
} sweep_t;

/* Set by the SIGINT/SIGTERM handler, read by the jobs: a lock-free atomic,
 * which is safe in a signal handler and race-free across threads. */
static _Atomic int g_stop;

static void on_signal(int sig)
{
    if (atomic_load(&g_stop))
        _exit(EXIT_INTERRUPTED); /* second Ctrl-C: abandon; outputs stay intact */
    atomic_store(&g_stop, sig);
}

/* The metric columns after the parameters: "outcome", then the run metrics
 * of GS_METRIC_MAP (gilsim/stats.h), whose keys are the column names. */
static int n_metric_cols(void)
{
    int n;
    gs_metrics_run(&n);
    return n + 1;
}

static const char *metric_col(int k)
{
    int n;
    return k == 0 ? "outcome" : gs_metrics_run(&n)[k - 1].key;
}
#define N_METRICS n_metric_cols()

/* Splits a CSV line into at most max fields (in place). Returns the count. */
static int csv_split(char *line, char **fields, int max)
{
    int n = 0;
    char *p = line;
    while (n < max) {
        char *w = p;
        fields[n++] = w;
        if (*p == '"') {
            p++;
            for (;;) {
                if (*p == '\0')
                    break;
                if (*p == '"' && p[1] == '"') {
                    *w++ = '"';
                    p += 2;
                } else if (*p == '"') {
                    p++;
                    break;
                } else
                    *w++ = *p++;
            }
            while (*p && *p != ',')
                p++;
        } else {
            while (*p && *p != ',')
                *w++ = *p++;
        }
        bool more = *p == ',';
        if (*p)
            p++;
        *w = '\0';
        if (!more)
            break;
    }
    return n;
}

/* Splits "a,b,[1,2],\"x,y\"" at top-level commas. */
static int split_values(const char *s, param_t *p)
{
    int depth = 0, cap = 8;
    bool quoted = false;
    p->vals = malloc((size_t)cap * sizeof *p->vals);
    if (!p->vals)
        return -1;
    const char *start = s;
    for (const char *c = s;; c++) {
        if (*c == '"' && (c == s || c[-1] != '\\'))
            quoted = !quoted;
        else if (!quoted && (*c == '[' || *c == '{'))
            depth++;
        else if (!quoted && (*c == ']' || *c == '}'))
            depth--;
        if (*c == '\0' || (*c == ',' && depth == 0 && !quoted)) {
            if (p->n == cap) {
                cap *= 2;
                char **v = realloc(p->vals, (size_t)cap * sizeof *v);
                if (!v)
                    return -1;
                p->vals = v;
            }
            size_t len = (size_t)(c - start);
            p->vals[p->n] = strndup(start, len);
            if (!p->vals[p->n])
                return -1;
            if (len == 0)
                return -2;
            p->n++;
            if (*c == '\0')
                break;
            start = c + 1;
        }
    }
    return 0;
}

static int64_t combo_of(const sweep_t *w, int64_t run)
{
    return run / w->repeat;
}

static int value_index(const sweep_t *w, int64_t combo, int param)
{
    for (int k = w->n_params - 1; k > param; k--)
        combo /= w->params[k].n;
    return (int)(combo % w->params[param].n);
}

static uint64_t seed_of(const sweep_t *w, int64_t run)
{
    uint64_t base = w->have_seed ? (uint64_t)w->seed : w->models[combo_of(w, run)]->seed;
    return base + (uint64_t)(run % w->repeat);
}

/* "run,<params...>,repeat,seed" for a run: the part of a row fixed by the
 * run number, used to write rows and to check rows found by --resume. */
static void row_prefix(const sweep_t *w, int64_t run, FILE *f)
{
    int64_t combo = combo_of(w, run);
    fprintf(f, "%lld", (long long)run);
    for (int k = 0; k < w->n_params; k++) {
        putc(',', f);
        gs_csv_field(f, w->params[k].vals[value_index(w, combo, k)]);
    }
    fprintf(f, ",%lld,%llu", (long long)(run % w->repeat), (unsigned long long)seed_of(w, run));
}

static void header(const sweep_t *w, FILE *f)
{
    fputs("run", f);
    for (int k = 0; k < w->n_params; k++) {
        putc(',', f);
        gs_csv_field(f, w->params[k].key);
    }
    fputs(",repeat,seed", f);
    gs_metrics_csv_header(f);
}

static char *mem_string(void (*fn)(const sweep_t *, int64_t, FILE *), const sweep_t *w,
                        int64_t run)
{
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f)
        return NULL;
    fn(w, run, f);
    if (fclose(f) != 0) {
        free(buf);
        return NULL;
    }
    return buf;
}

static void header_fn(const sweep_t *w, int64_t run, FILE *f)
{
    (void)run;
    header(w, f);
}

/* One simulation; returns the complete row. */
static char *run_one(sweep_t *w, int64_t run, int job, bool *stopped)
{
    gs_model_t *m = gs_model_clone(w->models[combo_of(w, run)]);
    if (!m)
        return NULL;
    m->seed = seed_of(w, run);
    gs_run_opts_t o;
    gs_run_opts_init(&o);
    (void)job;
    o.cpu = w->n_cpus > 0 ? GS_CPU_AUTO : GS_CPU_NONE; /* job_main pinned us */
    gs_trace_t *t = NULL;
    gs_error_t err;
    int rc = gs_sim_run(m, &o, &t, &err);
    gs_model_free(m);
    char *buf = NULL;
    size_t len = 0;
    FILE *f = open_memstream(&buf, &len);
    if (!f) {
        gs_trace_free(t);
        return NULL;
    }
    row_prefix(w, run, f);
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
        return NULL;
    }
    return buf;
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
    while (!failed && !atomic_load(&g_stop)) {
        int64_t left = w->n_todo - atomic_load_explicit(&w->next, memory_order_relaxed);
        int64_t chunk = left / (8 * (int64_t)w->n_jobs);
        chunk = chunk < 1 ? 1 : chunk > 64 ? 64 : chunk;
        int64_t i = atomic_fetch_add(&w->next, chunk);
        int64_t end = i + chunk < w->n_todo ? i + chunk : w->n_todo;
        if (i >= end)
            break;
        for (; i < end && !atomic_load(&g_stop); i++) {
            int64_t run = w->todo[i];
            bool stopped = false;
            char *line = run_one(w, run, j->index, &stopped);
            if (!line) {
                failed = true; /* out of memory: stop this job */
                break;
            }
            w->rows[run].line = line;
            w->rows[run].stopped = stopped;
            atomic_store_explicit(&j->done, atomic_load_explicit(&j->done, memory_order_relaxed) + 1,
                                  memory_order_relaxed);
        }
    }
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

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static void progress(int64_t done, int64_t all, double t0, bool final)
{
    int width = 30;
    int fill = all > 0 ? (int)(done * width / all) : width;
    double el = now_s() - t0;
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

typedef struct write_ctx {
    sweep_t *w;
} write_ctx_t;

static int write_rows(FILE *f, void *c)
{
    sweep_t *w = ((write_ctx_t *)c)->w;
    header(w, f);
    putc('\n', f);
    for (int64_t r = 0; r < w->total; r++)
        if (w->rows[r].line) {
            fputs(w->rows[r].line, f);
            putc('\n', f);
        }
    return ferror(f) ? GS_EIO : 0;
}

/* Did the run of this row stop early? (its outcome field is not "done") */
static bool row_stopped(const sweep_t *w, const char *line)
{
    int n_fields = 1 + w->n_params + 2 + 1;
    char *copy = strdup(line);
    char *fields[1 + MAX_PARAMS + 3];
    bool stopped = false;
    if (copy && csv_split(copy, fields, n_fields) == n_fields)
        stopped = strcmp(fields[n_fields - 1], "done") != 0;
    free(copy);
    return stopped;
}

/* --resume: take the rows of an earlier run of the same sweep. */
static int load_existing(sweep_t *w, const char *path, int64_t *n_kept)
{
    FILE *f = fopen(path, "r");
    *n_kept = 0;
    if (!f) {
        if (errno == ENOENT)
            return 0; /* nothing to resume: run everything */
        fprintf(stderr, "gilsim sweep: cannot read %s: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    char *hdr = mem_string(header_fn, w, 0), *line = NULL;
    size_t cap = 0;
    ssize_t len;
    int lineno = 0, rc = 0;
    while ((len = getline(&line, &cap, f)) >= 0) {
        lineno++;
        while (len > 0 && (line[len - 1] == '\n' || line[len - 1] == '\r'))
            line[--len] = '\0';
        if (lineno == 1) {
            if (!hdr || strcmp(line, hdr) != 0) {
                fprintf(stderr,
                        "gilsim sweep: %s: its columns differ from this sweep's, so it is not an "
                        "earlier run of the same sweep\n  found:    %s\n  expected: %s\n"
                        "Use another --out, or remove the file to start over.\n",
                        path, line, hdr ? hdr : "");
                rc = EXIT_USAGE;
                break;
            }
            continue;
        }
        if (len == 0)
            continue;
        long long run;
        char *comma = strchr(line, ',');
        if (comma)
            *comma = '\0';
        bool ok = cli_parse_i64(line, 0, w->total - 1, &run);
        if (comma)
            *comma = ',';
        char *want = ok ? mem_string(row_prefix, w, run) : NULL;
        if (!ok || !want || strncmp(line, want, strlen(want)) != 0 ||
            run % w->shard_n != w->shard_k) {
            fprintf(stderr,
                    "gilsim sweep: %s:%d: this row does not belong to this sweep%s%s\n"
                    "Use another --out, or remove the file to start over.\n",
                    path, lineno, want ? " (expected it to start with " : "",
                    want ? want : "");
            if (want)
                fputs(")\n", stderr);
            free(want);
            rc = EXIT_USAGE;
            break;
        }
        free(want);
        if (!w->rows[run].line) {
            w->rows[run].line = strdup(line);
            if (!w->rows[run].line) {
                rc = EXIT_IO;
                break;
            }
            w->rows[run].stopped = row_stopped(w, line);
            (*n_kept)++;
        }
    }
    if (rc == 0 && ferror(f)) {
        fprintf(stderr, "gilsim sweep: cannot read %s: %s\n", path, strerror(errno));
        rc = EXIT_IO;
    }
    free(line);
    free(hdr);
    fclose(f);
    return rc;
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
        if (strcmp(metric_col(k), metric) == 0)
            col = 1 + w->n_params + 2 + k;
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
        int64_t combo = combo_of(w, r);
        char *copy = strdup(w->rows[r].line);
        if (!copy) {
            rc = EXIT_IO;
            goto out;
        }
        copies[r] = copy;
        int nf = csv_split(copy, fields, n_fields);
        if (nf <= col || !*fields[col])
            continue;
        char *end;
        double y = strtod(fields[col], &end);
        if (*end)
            continue;
        pts[n].x = w->params[0].vals[value_index(w, combo, 0)];
        pts[n].series = w->n_params > 1 ? w->params[1].vals[value_index(w, combo, 1)] : NULL;
        pts[n].y = y;
        n++;
    }
out:
    if (rc == 0) {
        const char *title = "";
        for (int64_t c = 0; c < w->n_combos; c++)
            if (w->models[c]) {
                title = w->models[c]->name ? w->models[c]->name : "";
                break;
            }
        plot_ctx_t pc = {title, w->params[0].key, w->n_params > 1 ? w->params[1].key : NULL,
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
    {"--resume", false},
};

int cmd_sweep(int argc, char **argv)
{
    cli_args_t a = {"sweep", sweep_opts, (int)(sizeof sweep_opts / sizeof sweep_opts[0]), argc,
                    argv, 1, false};
    sweep_t w;
    memset(&w, 0, sizeof w);
    w.repeat = 1;
    w.shard_n = 1;
    long ncpu = sysconf(_SC_NPROCESSORS_ONLN);
    w.n_cpus = ncpu > 0 ? (int)ncpu : 1;
    w.jobs = w.n_cpus;
    const char *out = NULL, *plot = NULL, *metric = "makespan_ns";
    bool resume = false;
    const cli_opt_t *o;
    const char *v;
    int r, status = EXIT_OK;
    while ((r = cli_next(&a, &o, &v)) != 0) {
        if (r < 0)
            return EXIT_USAGE;
        if (r == 2) {
            if (w.file)
                return cli_usage_error("sweep", "only one FILE, got '%s' and '%s'", w.file, v);
            w.file = v;
        } else if (strcmp(o->name, "--set") == 0) {
            if (w.n_params == MAX_PARAMS)
                return cli_usage_error("sweep", "at most %d --set options", MAX_PARAMS);
            const char *eq = strchr(v, '=');
            if (!eq || eq == v)
                return cli_usage_error("sweep", "--set wants KEY=V1,V2,..., got '%s'", v);
            param_t *p = &w.params[w.n_params++];
            p->key = strndup(v, (size_t)(eq - v));
            int sr = p->key ? split_values(eq + 1, p) : -1;
            if (sr == -2)
                return cli_usage_error("sweep", "--set %s: empty value in '%s'", p->key, eq + 1);
            if (sr < 0)
                return EXIT_IO;
        } else if (strcmp(o->name, "--repeat") == 0) {
            if (!cli_parse_i64(v, 1, 1000000, &w.repeat))
                return cli_usage_error("sweep", "--repeat wants a whole number from 1 to 1000000, got '%s'", v);
        } else if (strcmp(o->name, "--jobs") == 0) {
            if (!cli_parse_i64(v, 1, 1024, &w.jobs))
                return cli_usage_error("sweep", "--jobs wants a whole number from 1 to 1024, got '%s'", v);
        } else if (strcmp(o->name, "--seed") == 0) {
            if (!cli_parse_i64(v, 0, INT64_MAX, &w.seed))
                return cli_usage_error("sweep", "--seed wants a whole number >= 0, got '%s'", v);
            w.have_seed = true;
        } else if (strcmp(o->name, "--shard") == 0) {
            char buf[64];
            snprintf(buf, sizeof buf, "%s", v);
            char *slash = strchr(buf, '/');
            if (slash)
                *slash = '\0';
            if (!slash || !cli_parse_i64(buf, 0, 1000000, &w.shard_k) ||
                !cli_parse_i64(slash + 1, 1, 1000000, &w.shard_n) || w.shard_k >= w.shard_n)
                return cli_usage_error("sweep", "--shard wants K/N with 0 <= K < N (e.g. 0/4), got '%s'", v);
        } else if (strcmp(o->name, "--out") == 0) {
            out = v;
        } else if (strcmp(o->name, "--plot") == 0) {
            plot = v;
        } else if (strcmp(o->name, "--metric") == 0) {
            metric = v;
        } else if (strcmp(o->name, "--resume") == 0) {
            resume = true;
        }
    }
    if (!out || !*out)
        return cli_usage_error("sweep", "--out RESULTS.csv is required");
    if (resume && strcmp(out, "-") == 0)
        return cli_usage_error("sweep", "--resume needs --out to be a file, not -");
    if (w.n_params == 0)
        return cli_usage_error("sweep", "give at least one --set KEY=V1,V2,...");
    bool known = false;
    for (int k = 1; k < N_METRICS; k++)
        known |= strcmp(metric_col(k), metric) == 0;
    if (!known) {
        fprintf(stderr, "gilsim sweep: --metric: no metric named '%s'; choose one of:", metric);
        for (int k = 1; k < N_METRICS; k++)
            fprintf(stderr, " %s", metric_col(k));
        fputc('\n', stderr);
        cli_print_usage("sweep", stderr);
        return EXIT_USAGE;
    }

    w.n_combos = 1;
    for (int k = 0; k < w.n_params; k++) {
        if (w.n_combos > 100000000 / w.params[k].n)
            return cli_usage_error("sweep", "too many combinations (more than 100 000 000)");
        w.n_combos *= w.params[k].n;
    }
    if (w.n_combos > 100000000 / w.repeat)
        return cli_usage_error("sweep", "too many runs (more than 100 000 000)");
    w.total = w.n_combos * w.repeat;
    w.models = calloc((size_t)w.n_combos, sizeof *w.models);
    w.rows = calloc((size_t)w.total, sizeof *w.rows);
    w.todo = calloc((size_t)w.total, sizeof *w.todo);
    if (!w.models || !w.rows || !w.todo)
        return EXIT_IO;

    /* Load every combination this shard needs; stop at the first bad one. */
    gs_override_t ov[MAX_PARAMS];
    for (int64_t c = 0; c < w.n_combos && status == EXIT_OK; c++) {
        bool needed = false;
        for (int64_t rr = 0; rr < w.repeat && !needed; rr++)
            needed = (c * w.repeat + rr) % w.shard_n == w.shard_k;
        if (!needed)
            continue;
        for (int k = 0; k < w.n_params; k++) {
            ov[k].key = w.params[k].key;
            ov[k].value = w.params[k].vals[value_index(&w, c, k)];
        }
        int rc = cli_load(w.file, ov, w.n_params, &w.models[c]);
        if (rc) {
            fprintf(stderr, "gilsim sweep: in the combination");
            for (int k = 0; k < w.n_params; k++)
                fprintf(stderr, " %s=%s", ov[k].key, ov[k].value);
            fputc('\n', stderr);
            status = rc;
        }
    }
    int64_t n_kept = 0;
    if (status == EXIT_OK && resume)
        status = load_existing(&w, out, &n_kept);
    if (status != EXIT_OK)
        goto done;

    for (int64_t run = w.shard_k; run < w.total; run += w.shard_n)
        if (!w.rows[run].line)
            w.todo[w.n_todo++] = run;
    if (resume && n_kept > 0)
        fprintf(stderr, "gilsim sweep: %lld run%s already in %s, %lld to go\n",
                (long long)n_kept, n_kept == 1 ? "" : "s", out, (long long)w.n_todo);

    /* Run. Signals are blocked in the job threads (and the simulators'
     * workers they start), so only the main thread sees Ctrl-C. */
    pthread_mutex_init(&w.mu, NULL);
    pthread_cond_init(&w.cv, NULL);
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof sa);
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    sigset_t block, prev;
    sigemptyset(&block);
    sigaddset(&block, SIGINT);
    sigaddset(&block, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &block, &prev);
    int n_jobs = (int)(w.jobs < w.n_todo ? w.jobs : w.n_todo);
    job_t *jobs = aligned_alloc(_Alignof(job_t), (size_t)(n_jobs > 0 ? n_jobs : 1) * sizeof *jobs);
    int started = 0;
    w.n_jobs = n_jobs > 0 ? n_jobs : 1;
    pthread_mutex_lock(&w.mu);
    for (int j = 0; jobs && j < n_jobs; j++) {
        memset(&jobs[j], 0, sizeof jobs[j]);
        jobs[j].w = &w;
        jobs[j].index = j;
        if (pthread_create(&jobs[j].th, NULL, job_main, &jobs[j]) != 0)
            break;
        started++;
        w.jobs_left++;
    }
    pthread_mutex_unlock(&w.mu);
    pthread_sigmask(SIG_SETMASK, &prev, NULL);
    if (started == 0 && w.n_todo > 0) {
        fprintf(stderr, "gilsim sweep: cannot start a job thread\n");
        status = EXIT_IO;
    }
    bool bar = cli_color(stderr) || isatty(STDERR_FILENO);
    double t0 = now_s();
    pthread_mutex_lock(&w.mu);
    while (w.jobs_left > 0 && !atomic_load(&g_stop)) {
        struct timespec ts;
        clock_gettime(CLOCK_REALTIME, &ts);
        ts.tv_nsec += 200000000;
        if (ts.tv_nsec >= 1000000000) {
            ts.tv_sec++;
            ts.tv_nsec -= 1000000000;
        }
        pthread_cond_timedwait(&w.cv, &w.mu, &ts);
        if (bar && w.jobs_left > 0) {
            pthread_mutex_unlock(&w.mu);
            progress(jobs_done(jobs, started), w.n_todo, t0, false);
            pthread_mutex_lock(&w.mu);
        }
    }
    pthread_mutex_unlock(&w.mu);
    for (int j = 0; j < started; j++) {
        pthread_join(jobs[j].th, NULL);
        if (atomic_load(&jobs[j].failed))
            status = EXIT_IO;
    }
    int64_t n_done_now = jobs_done(jobs, started);
    free(jobs);
    if (bar)
        progress(n_done_now, w.n_todo, t0, true);

    bool interrupted = atomic_load(&g_stop) != 0;
    int64_t n_rows = 0, n_stopped = 0, n_missing = 0;
    for (int64_t run = w.shard_k; run < w.total; run += w.shard_n) {
        if (w.rows[run].line)
            n_rows++;
        else
            n_missing++;
        n_stopped += w.rows[run].stopped;
    }
    write_ctx_t wc = {&w};
    if (cli_write("sweep", "--out", out, write_rows, &wc) != EXIT_OK) {
        status = EXIT_IO;
    } else if (plot && n_rows > 0) {
        int prc = write_plot(&w, plot, metric);
        if (prc)
            status = prc;
    }
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    if (interrupted) {
        fprintf(stderr, "gilsim sweep: interrupted: %lld of %lld runs are in %s, %lld missing\n",
                (long long)n_rows, (long long)(n_rows + n_missing), out, (long long)n_missing);
        print_resume(argc, argv);
        status = status == EXIT_OK ? EXIT_INTERRUPTED : status;
    } else if (status == EXIT_OK && n_stopped > 0) {
        fprintf(stderr,
                "gilsim sweep: %lld run%s stopped early (deadlock or limit): see the outcome "
                "column\n",
                (long long)n_stopped, n_stopped == 1 ? "" : "s");
        status = EXIT_STOPPED;
    }
    pthread_mutex_destroy(&w.mu);
    pthread_cond_destroy(&w.cv);
done:
    for (int64_t c = 0; w.models && c < w.n_combos; c++)
        gs_model_free(w.models[c]);
    for (int64_t run = 0; w.rows && run < w.total; run++)
        free(w.rows[run].line);
    for (int k = 0; k < w.n_params; k++) {
        for (int i = 0; i < w.params[k].n; i++)
            free(w.params[k].vals[i]);
        free(w.params[k].vals);
        free(w.params[k].key);
    }
    free(w.models);
    free(w.rows);
    free(w.todo);
    return status;
}
