/* sweep_rows.c - a sweep's CSV: its columns, the fixed part of each row, and
 * reading back an earlier run's rows for --resume. */
#include "sweep_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The metric columns after the parameters: keep in step with docs/batch.md. */
const char *const sweep_metric_cols[] = {
    "outcome",          "makespan_ns",       "events",          "gil.switches",
    "gil.forced_switches", "gil.drop_requests", "gil.futile_wakeups", "gil.utilisation",
    "cores.utilisation", "cores.preemptions", "speedup_vs_serial", "fairness_jain",
    "throughput_ops_per_s", "io_to_gil.p50",   "io_to_gil.p90",   "io_to_gil.p99",
    "io_to_gil.max"};
const int sweep_n_metrics = (int)(sizeof sweep_metric_cols / sizeof sweep_metric_cols[0]);

/* Splits a CSV line into at most max fields (in place). Returns the count. */
int sweep_csv_split(char *line, char **fields, int max)
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
int sweep_split_values(const char *s, param_t *p)
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

int64_t sweep_combo_of(const sweep_t *w, int64_t run)
{
    return run / w->repeat;
}

int sweep_value_index(const sweep_t *w, int64_t combo, int param)
{
    for (int k = w->n_params - 1; k > param; k--)
        combo /= w->params[k].n;
    return (int)(combo % w->params[param].n);
}

uint64_t sweep_seed_of(const sweep_t *w, int64_t run)
{
    uint64_t base = w->have_seed ? (uint64_t)w->seed : w->models[sweep_combo_of(w, run)]->seed;
    return base + (uint64_t)(run % w->repeat);
}

/* "run,<params...>,repeat,seed" for a run: the part of a row fixed by the
 * run number, used to write rows and to check rows found by --resume. */
void sweep_row_prefix(const sweep_t *w, int64_t run, FILE *f)
{
    int64_t combo = sweep_combo_of(w, run);
    fprintf(f, "%lld", (long long)run);
    for (int k = 0; k < w->n_params; k++) {
        putc(',', f);
        gs_csv_field(f, w->params[k].vals[sweep_value_index(w, combo, k)]);
    }
    fprintf(f, ",%lld,%llu", (long long)(run % w->repeat), (unsigned long long)sweep_seed_of(w, run));
}

void sweep_header(const sweep_t *w, FILE *f)
{
    fputs("run", f);
    for (int k = 0; k < w->n_params; k++) {
        putc(',', f);
        gs_csv_field(f, w->params[k].key);
    }
    fputs(",repeat,seed", f);
    for (int k = 0; k < N_METRICS; k++)
        fprintf(f, ",%s", sweep_metric_cols[k]);
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
    sweep_header(w, f);
}

/* Did the run of this row stop early? (its outcome field is not "done") */
static bool row_stopped(const sweep_t *w, const char *line)
{
    int n_fields = 1 + w->n_params + 2 + 1;
    char *copy = strdup(line);
    char *fields[1 + MAX_PARAMS + 3];
    bool stopped = false;
    if (copy && sweep_csv_split(copy, fields, n_fields) == n_fields)
        stopped = strcmp(fields[n_fields - 1], "done") != 0;
    free(copy);
    return stopped;
}

/* --resume: take the rows of an earlier run of the same sweep. */
int sweep_load_existing(sweep_t *w, const char *path, int64_t *n_kept)
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
        char *want = ok ? mem_string(sweep_row_prefix, w, run) : NULL;
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
