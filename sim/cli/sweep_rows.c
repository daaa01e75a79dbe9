/* sweep_rows.c - a sweep's CSV: its columns, the fixed part of each row, and
 * reading back an earlier run's rows for --resume. */
#include "sweep_int.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

/* The metric columns after the parameters: "outcome", then the run metrics
 * of GS_METRIC_MAP (gilsim/stats.h), whose keys are the column names. */
int sweep_n_metrics(void)
{
    int n;
    gs_metrics_run(&n);
    return n + 1;
}

const char *sweep_metric_col(int k)
{
    int n;
    return k == 0 ? "outcome" : gs_metrics_run(&n)[k - 1].key;
}

/* Parses one CSV record (RFC 4180) in place from *p: fields split at
 * commas, the record ends at a newline (\n or \r\n) outside quotes or at
 * the end; "" inside quotes is one quote, so a quoted field may hold commas
 * and newlines. Stores at most max fields (more are counted, not stored) and
 * advances *p past the record; *lines receives the newlines it consumed.
 * Returns the number of fields, or -1 for a malformed record (a quote that
 * does not close, or text after a closing quote). */
int sweep_csv_record(char **p, char **fields, int max, int *lines)
{
    char *r = *p, *w;
    int n = 0;
    *lines = 0;
    for (;;) {
        w = r;
        if (n < max)
            fields[n] = w;
        n++;
        if (*r == '"') {
            r++;
            for (;;) {
                if (*r == '\0')
                    return -1;
                if (*r == '"' && r[1] == '"') {
                    *w++ = '"';
                    r += 2;
                } else if (*r == '"') {
                    r++;
                    break;
                } else {
                    *lines += *r == '\n';
                    *w++ = *r++;
                }
            }
            if (*r && *r != ',' && *r != '\n' && !(*r == '\r' && r[1] == '\n'))
                return -1;
        } else {
            while (*r && *r != ',' && *r != '\n' && !(*r == '\r' && r[1] == '\n'))
                *w++ = *r++;
        }
        char end = *r;
        if (end == '\r')
            r++;
        if (*r)
            r++;
        *w = '\0';
        if (end != ',') {
            *lines += end == '\n' || end == '\r';
            break;
        }
    }
    *p = r;
    return n;
}

/* Splits one row (as this sweep wrote it) into at most max fields, in place. */
int sweep_csv_split(char *line, char **fields, int max)
{
    int lines;
    int n = sweep_csv_record(&line, fields, max, &lines);
    return n < 0 ? 0 : n > max ? max : n;
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
    uint64_t base = w->have_seed          ? (uint64_t)w->seed
                    : w->seed_param >= 0 ? w->seed_vals[sweep_value_index(w, sweep_combo_of(w, run),
                                                                          w->seed_param)]
                                         : w->base_seed;
    return base + (uint64_t)(run % w->repeat);
}

/* "run,<params...>,repeat,seed" for a run: the part of a row fixed by the
 * run number, used to write rows and to check rows found by --resume. */
void sweep_row_prefix(const sweep_t *w, int64_t run, FILE *f)
{
    int64_t combo = sweep_combo_of(w, run);
    fprintf(f, "%lld", (long long)run);
    for (int k = 0; k < w->n_params; k++) {
        if (k == w->seed_param)
            continue; /* the seed column says it */
        putc(',', f);
        gs_csv_field(f, w->params[k].vals[sweep_value_index(w, combo, k)]);
    }
    fprintf(f, ",%lld,%llu", (long long)(run % w->repeat), (unsigned long long)sweep_seed_of(w, run));
}

void sweep_header(const sweep_t *w, FILE *f)
{
    fputs("run", f);
    for (int k = 0; k < w->n_params; k++) {
        if (k == w->seed_param)
            continue;
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
    sweep_header(w, f);
}

/* The whole file, NUL-terminated; NULL with errno. */
static char *read_all(FILE *f, size_t *len)
{
    size_t cap = 1 << 16, n = 0;
    char *buf = malloc(cap + 1);
    while (buf) {
        n += fread(buf + n, 1, cap - n, f);
        if (n < cap)
            break;
        char *nb = cap > SIZE_MAX / 4 ? NULL : realloc(buf, cap * 2 + 1);
        if (!nb) {
            free(buf);
            errno = ENOMEM;
            return NULL;
        }
        buf = nb;
        cap *= 2;
    }
    if (buf && ferror(f)) {
        free(buf);
        return NULL;
    }
    if (buf)
        buf[n] = '\0';
    *len = n;
    return buf;
}

static bool known_outcome(const char *s)
{
    for (int o = GS_OUT_DONE; o <= GS_OUT_LIMIT; o++)
        if (strcmp(gs_outcome_key((gs_outcome_t)o), s) == 0)
            return true;
    return false;
}

/* Checks one data record against what this sweep would write for its run:
 * the run number, every parameter, the repeat index and the seed exactly, the
 * number of columns, a known outcome. NULL if it belongs, else why not. */
static const char *foreign(const sweep_t *w, char **fields, int nf, int64_t *run, char *why,
                           size_t n)
{
    int want = 1 + (w->n_params - (w->seed_param >= 0)) + 2 + N_METRICS;
    if (nf != want) {
        snprintf(why, n, "it has %d columns, this sweep writes %d", nf, want);
        return why;
    }
    long long r;
    if (!cli_parse_i64(fields[0], 0, w->total - 1, &r) || fields[0][0] == '+' ||
        (fields[0][0] == '0' && fields[0][1])) {
        snprintf(why, n, "its run number '%.40s' is not one of 0..%lld", fields[0],
                 (long long)w->total - 1);
        return why;
    }
    *run = r;
    if (r % w->shard_n != w->shard_k) {
        snprintf(why, n, "run %lld belongs to another shard than %lld/%lld", r, w->shard_k,
                 w->shard_n);
        return why;
    }
    int64_t combo = sweep_combo_of(w, r);
    int col = 1;
    for (int k = 0; k < w->n_params; k++) {
        if (k == w->seed_param)
            continue;
        const char *v = w->params[k].vals[sweep_value_index(w, combo, k)];
        if (strcmp(fields[col], v) != 0) {
            snprintf(why, n, "column %s is '%.40s', run %lld has '%.40s'", w->params[k].key,
                     fields[col], r, v);
            return why;
        }
        col++;
    }
    char num[32];
    snprintf(num, sizeof num, "%lld", (long long)(r % w->repeat));
    if (strcmp(fields[col], num) != 0) {
        snprintf(why, n, "column repeat is '%.40s', run %lld has %s", fields[col], r, num);
        return why;
    }
    snprintf(num, sizeof num, "%llu", (unsigned long long)sweep_seed_of(w, r));
    if (strcmp(fields[col + 1], num) != 0) {
        snprintf(why, n, "column seed is '%.40s', run %lld has %s", fields[col + 1], r, num);
        return why;
    }
    if (!known_outcome(fields[col + 2])) {
        snprintf(why, n, "its outcome '%.40s' is not one a finished run has", fields[col + 2]);
        return why;
    }
    return NULL;
}

static int refuse_row(const char *path, int line, const char *why)
{
    fprintf(stderr,
            "gilsim sweep: %s:%d: this row does not belong to this sweep: %s\n"
            "Use another --out, or remove the file to start over.\n",
            path, line, why);
    return EXIT_USAGE;
}

/* Takes the records of buf (after the header) as finished rows. */
static int take_rows(sweep_t *w, const char *path, char *buf, char **fields, int max,
                     int64_t *n_kept)
{
    char *p = buf;
    int line = 2, lines, rc = 0; /* line 1 is the header */
    while (*p && rc == 0) {
        int first = line;
        int nf = sweep_csv_record(&p, fields, max, &lines);
        line += lines;
        if (nf == 1 && !fields[0][0])
            continue; /* a blank line */
        char why[200];
        int64_t run = -1;
        if (nf < 0) {
            rc = refuse_row(path, first, "it is not a CSV record (a quote does not close)");
            break;
        }
        if (foreign(w, fields, nf, &run, why, sizeof why)) {
            rc = refuse_row(path, first, why);
            break;
        }
        if (w->rows[run].line) {
            snprintf(why, sizeof why, "run %lld is there twice", (long long)run);
            rc = refuse_row(path, first, why);
            break;
        }
        /* The row as it was written: re-serialise the parsed fields. */
        char *text = NULL;
        size_t tl = 0;
        FILE *f = open_memstream(&text, &tl);
        for (int k = 0; f && k < nf; k++) {
            if (k)
                putc(',', f);
            gs_csv_field(f, fields[k]);
        }
        if (!f || fclose(f) != 0) {
            free(text);
            rc = EXIT_IO;
            break;
        }
        w->rows[run].line = text;
        w->rows[run].stopped = strcmp(fields[nf - N_METRICS], "done") != 0;
        atomic_store(&w->rows[run].ready, true);
        (*n_kept)++;
    }
    return rc;
}

int sweep_load_existing(sweep_t *w, const char *path, int64_t *n_kept)
{
    *n_kept = 0;
    FILE *f = fopen(path, "r");
    if (!f) {
        if (errno == ENOENT)
            return 0; /* nothing to resume: run everything */
        fprintf(stderr, "gilsim sweep: cannot read %s: %s\n", path, strerror(errno));
        return EXIT_IO;
    }
    size_t len = 0;
    char *buf = read_all(f, &len);
    int e = errno;
    fclose(f);
    if (!buf) {
        fprintf(stderr, "gilsim sweep: cannot read %s: %s\n", path, strerror(e));
        return EXIT_IO;
    }
    if (strlen(buf) != len) {
        free(buf);
        return refuse_row(path, 1, "the file holds a NUL byte; it is not a CSV file");
    }
    int max = 1 + MAX_PARAMS + 2 + N_METRICS + 1;
    char **fields = calloc((size_t)max, sizeof *fields);
    char *hdr = mem_string(header_fn, w, 0);
    int rc = fields && hdr ? 0 : EXIT_IO;
    char *p = buf;
    int lines;
    if (rc == 0 && len > 0) {
        /* The header, compared as text after parsing both as CSV. */
        char *got = strdup(buf);
        char *eol = got ? strchr(got, '\n') : NULL;
        if (eol)
            *eol = '\0';
        if (got && eol && eol > got && eol[-1] == '\r')
            eol[-1] = '\0';
        (void)sweep_csv_record(&p, fields, max, &lines);
        if (!got || strcmp(got, hdr) != 0) {
            fprintf(stderr,
                    "gilsim sweep: %s: its columns differ from this sweep's, so it is not an "
                    "earlier run of the same sweep\n  found:    %s\n  expected: %s\n"
                    "Use another --out, or remove the file to start over.\n",
                    path, got ? got : "", hdr);
            rc = EXIT_USAGE;
        }
        free(got);
    }
    if (rc == 0 && len > 0) {
        /* p is past the header record (a header has no quoted newlines) */
        rc = take_rows(w, path, p, fields, max, n_kept);
    }
    free(hdr);
    free(fields);
    free(buf);
    return rc;
}
