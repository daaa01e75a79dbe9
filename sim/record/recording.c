/* recording.c - gs_recording_load: a recording file to a model and a trace.
 *
 * Steps: read and parse the file (gsr_parse_file, shared with the fitter's
 * reader, recfile.c); a model from its header (name, cores, switch
 * interval); per thread, its events as points, a span becoming a begin and
 * an end point (thread_points); in a recording without a profile function,
 * C calls that kept the GIL past a drop request inferred from the requests
 * left unanswered (infer_unanswered); then recording_lanes.c sweeps each
 * thread's points into its lane and the GIL's (build_trace). */
#include "gilsim/record.h"
#include "record_int.h"
#include "recfile_int.h"
#include "recording_int.h"
#include "trace_int.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

int gsr_cmp_point(const void *a, const void *b)
{
    const gsr_point_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

bool gs_recording_sniff(const char *path)
{
    /* Only a regular file is looked into: a FIFO or /dev/fd/N pipe would
     * block here or lose the bytes the scenario loader must read. */
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return false;
    FILE *f = fopen(path, "rb");
    if (!f)
        return false;
    char buf[256];
    size_t n = fread(buf, 1, sizeof buf - 1, f);
    fclose(f);
    buf[n] = 0;
    return strstr(buf, "\"format\": \"" GS_RECORDING_FORMAT "\"") != NULL;
}

char *gsr_read_all(int fd, size_t *n)
{
    size_t cap = 1 << 16, len = 0;
    char *b = malloc(cap);
    while (b) {
        ssize_t r = read(fd, b + len, cap - len - 1);
        if (r < 0 && errno == EINTR)
            continue;
        if (r < 0) {
            free(b);
            return NULL;
        }
        if (r == 0)
            break;
        len += (size_t)r;
        if (cap - len < 2) {
            char *nb = realloc(b, cap * 2);
            if (!nb) {
                free(b);
                return NULL;
            }
            b = nb;
            cap *= 2;
        }
    }
    if (b)
        b[len] = 0;
    *n = len;
    return b;
}

size_t gsr_first_after(const int64_t *v, size_t n, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (v[mid] <= t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static char *slurp(const char *path, size_t *n, gs_error_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        gsr_bad(err, GS_EIO, NULL, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *b = gsr_read_all(fd, n);
    int e = errno;
    close(fd);
    if (!b)
        gsr_bad(err, GS_EIO, NULL, "cannot read: %s", strerror(e));
    return b;
}

static const char *const cat_keys[] = {"c", "sleep", "io", "lock", "event", "queue", "join",
                                       "c_nogil", NULL};

static int cat_of(const char *s)
{
    for (int i = 0; s && cat_keys[i]; i++)
        if (strcmp(s, cat_keys[i]) == 0)
            return i;
    return -1;
}

typedef struct label_map {
    char **name;
    uint32_t *id;
    int n, cap;
} label_map_t;

static uint32_t label_for(gs_model_t *m, label_map_t *lm, const char *name)
{
    for (int i = 0; i < lm->n; i++)
        if (strcmp(lm->name[i], name) == 0)
            return lm->id[i];
    if (lm->n == lm->cap) {
        int nc = lm->cap ? lm->cap * 2 : 64;
        char **nn = realloc(lm->name, (size_t)nc * sizeof *nn);
        if (nn)
            lm->name = nn;
        uint32_t *ni = realloc(lm->id, (size_t)nc * sizeof *ni);
        if (ni)
            lm->id = ni;
        if (!nn || !ni)
            return GS_NO_OP;
        lm->cap = nc;
    }
    int id = gs_model_add_op_label(m, name);
    if (id < 0)
        return GS_NO_OP;
    lm->name[lm->n] = m->op_labels[id];
    lm->id[lm->n++] = (uint32_t)id;
    return (uint32_t)id;
}

static int num(const cJSON *a, int i, int64_t *out)
{
    const cJSON *v = cJSON_GetArrayItem(a, i);
    if (!cJSON_IsNumber(v))
        return -1;
    *out = (int64_t)v->valuedouble;
    return 0;
}

/* The point an event that is not a span makes ("ask", "release", ...);
 * a kind the loader does not draw is P_SKIP (woken, switch_wait...: facts
 * for the fitter). */
static void event_point(const cJSON *e, const char *kind, int n_threads, gsr_point_t *pt)
{
    if (strcmp(kind, "ask") == 0)
        pt->kind = P_ASK;
    else if (strcmp(kind, "hold") == 0)
        pt->kind = P_HOLD;
    else if (strcmp(kind, "release") == 0) {
        pt->kind = P_RELEASE;
        const char *why = cJSON_GetStringValue(cJSON_GetArrayItem(e, 2));
        pt->forced = why && strcmp(why, "forced") == 0;
        pt->last = why && strcmp(why, "exit") == 0;
    } else if (strcmp(kind, "drop_request") == 0)
        pt->kind = P_REQUEST;
    else if (strcmp(kind, "timeout") == 0)
        pt->kind = P_TIMEOUT;
    else if (strcmp(kind, "futile_wakeup") == 0)
        pt->kind = P_FUTILE;
    else if (strcmp(kind, "signal") == 0) {
        int64_t who = -1;
        num(e, 2, &who);
        pt->kind = P_SIGNAL;
        pt->arg = who >= 0 && who < n_threads ? (int32_t)who : -1;
    } else if (strcmp(kind, "start") == 0)
        pt->kind = P_START;
    else if (strcmp(kind, "end") == 0)
        pt->kind = P_END;
    else
        pt->kind = P_SKIP;
}

static bool is_span(const char *kind)
{
    return strcmp(kind, "call") == 0 || strcmp(kind, "wait") == 0 ||
           strcmp(kind, "lock_wait") == 0 || strcmp(kind, "py") == 0;
}

/* A span [t, kind, t1(, name, category(, released))] as its begin and end
 * points, appended to p at *k (its label registered in m). */
static int span_points(const cJSON *e, const char *kind, const char *path, gsr_point_t pt,
                       gs_model_t *m, label_map_t *lm, gsr_point_t *p, size_t *k,
                       gs_error_t *err)
{
    int sk = kind[0] == 'c' ? S_CALL : kind[0] == 'w' ? S_WAIT : kind[0] == 'p' ? S_PY : S_LOCK;
    int cat = 3;
    int64_t t1 = 0;
    const char *name = sk == S_PY ? "" : "lock wait";
    if (sk == S_CALL || sk == S_WAIT) {
        name = cJSON_GetStringValue(cJSON_GetArrayItem(e, 3));
        cat = cat_of(cJSON_GetStringValue(cJSON_GetArrayItem(e, 4)));
    }
    if (num(e, 2, &t1) != 0 || t1 < pt.t || !name || cat < 0)
        return gsr_bad(err, GS_ESCENARIO, path,
                   "a span is [start_ns, \"call\"|\"wait\", end_ns, name, category"
                   "(, released)] with end_ns >= start_ns and category one of c, sleep, "
                   "io, lock, event, queue, join, c_nogil; or [start_ns, \"lock_wait\" "
                   "or \"py\", end_ns]");
    pt.kind = P_BEGIN_SPAN;
    pt.span_kind = (uint8_t)sk;
    pt.cat = (uint8_t)cat;
    pt.label = *name ? label_for(m, lm, name) : GS_NO_OP;
    p[(*k)++] = pt;
    gsr_point_t end = pt;
    end.kind = P_END_SPAN;
    end.t = t1;
    end.seq = (uint32_t)*k;
    p[(*k)++] = end;
    return 0;
}

/* Parses one thread's events into points sorted by gsr_cmp_point (labels
 * registered in m). */
static int thread_points(const cJSON *evs, const char *tpath, int n_threads, gs_model_t *m,
                         label_map_t *lm, gsr_point_t **out, size_t *n_out, gs_error_t *err)
{
    int n = cJSON_GetArraySize(evs);
    gsr_point_t *p = calloc((size_t)n * 2 + 1, sizeof *p); /* a span makes two */
    if (!p)
        return gsr_bad(err, GS_ENOMEM, tpath, "out of memory");
    size_t k = 0;
    char path[128];
    int i = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, evs) { /* cJSON arrays are lists: never index them */
        i++;
        snprintf(path, sizeof path, "%s.events[%d]", tpath, i);
        int64_t t = 0;
        const char *kind = cJSON_GetStringValue(cJSON_GetArrayItem(e, 1));
        if (!cJSON_IsArray(e) || num(e, 0, &t) != 0 || !kind || t < 0) {
            free(p);
            return gsr_bad(err, GS_ESCENARIO, path,
                       "expected [time_ns, kind, ...] with time_ns >= 0 and kind a string");
        }
        gsr_point_t pt = {.t = t, .label = GS_NO_OP, .arg = -1, .seq = (uint32_t)k};
        if (is_span(kind)) {
            if (span_points(e, kind, path, pt, m, lm, p, &k, err) != 0) {
                free(p);
                return err->code;
            }
            continue;
        }
        event_point(e, kind, n_threads, &pt);
        p[k++] = pt;
    }
    qsort(p, k, sizeof *p, gsr_cmp_point);
    *out = p;
    *n_out = k;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* line:col of text[0..upto) ends at, 1-based, into err. */
static void place(const char *text, const char *upto, gs_error_t *err)
{
    err->line = 1, err->col = 1;
    for (const char *c = text; upto && c < upto; c++)
        c[0] == '\n' ? (err->line++, err->col = 1) : err->col++;
}

/* Why text (len bytes, which cJSON gave up on at end) is not a recording:
 * empty; cut short (brackets or a string still open where it ends, and it
 * starts as gilsim record writes one, or as a cut of that first line), at
 * its end; damaged; or not a recording at all. */
static int syntax_error(const char *text, size_t len, const char *end, gs_error_t *err)
{
    place(text, end, err);
    int depth = 0;
    bool in_str = false;
    for (size_t k = 0; k < len; k++) {
        char ch = text[k];
        if (in_str) {
            if (ch == '\\')
                k++;
            else if (ch == '"')
                in_str = false;
        } else if (ch == '"') {
            in_str = true;
        } else if (ch == '{' || ch == '[') {
            depth++;
        } else if (ch == '}' || ch == ']') {
            depth--;
        }
    }
    bool at_end = in_str || depth > 0;
    static const char head[] = "{\n  \"format\": \"" GS_RECORDING_FORMAT "\"";
    size_t nh = len < sizeof head - 1 ? len : sizeof head - 1;
    bool starts = len > 0 && memcmp(text, head, nh) == 0;
    if (len == 0)
        return gsr_bad(err, GS_ESYNTAX, NULL, "empty file, not a recording");
    if (at_end && starts) {
        place(text, text + len, err); /* "ends here": the text's end */
        return gsr_bad(err, GS_ESYNTAX, NULL,
                       "the recording ends here, in the middle of its JSON: it is truncated "
                       "(cut short while copied, or a full disk; gilsim record itself writes "
                       "whole files or none); record the program again");
    }
    return gsr_bad(err, GS_ESYNTAX, NULL,
                   starts ? "not valid JSON here: the recording is damaged"
                          : "not valid JSON here: not a gilsim recording (gilsim record -o "
                            "REC -- python3 SCRIPT writes one)");
}

/* Reads and parses a recording and checks what every reader relies on:
 * the format tag, the version and a non-empty "threads" array. */
int gsr_parse_file(const char *path, cJSON **out, gs_error_t *err)
{
    *out = NULL;
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", path);
    size_t len = 0;
    char *text = slurp(path, &len, err);
    if (!text)
        return err->code;
    const char *end = NULL;
    cJSON *root = cJSON_ParseWithLengthOpts(text, len, &end, false);
    if (!root) {
        int rc = syntax_error(text, len, end, err);
        free(text);
        return rc;
    }
    free(text);
    const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItem(root, "format"));
    const cJSON *ver = cJSON_GetObjectItem(root, "version");
    const cJSON *threads = cJSON_GetObjectItem(root, "threads");
    int rc = 0;
    if (!fmt || strcmp(fmt, GS_RECORDING_FORMAT) != 0)
        rc = gsr_bad(err, GS_ESCENARIO, "format",
                 "not a gilsim recording (expected \"format\": \"" GS_RECORDING_FORMAT
                 "\"; a scenario is run with gilsim run)");
    else if (!cJSON_IsNumber(ver) || ver->valueint != GS_RECORDING_VERSION)
        rc = gsr_bad(err, GS_ESCENARIO, "version",
                 "recording format version %d; this gilsim reads version %d%s",
                 cJSON_IsNumber(ver) ? ver->valueint : -1, GS_RECORDING_VERSION,
                 cJSON_IsNumber(ver) && ver->valueint > GS_RECORDING_VERSION
                     ? " (written by a newer gilsim: use that one, or upgrade)"
                     : "");
    else if (!cJSON_IsArray(threads) || cJSON_GetArraySize(threads) == 0)
        rc = gsr_bad(err, GS_ESCENARIO, "threads", "expected a non-empty array of threads");
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
    return 0;
}

/* ---- gs_recording_load's steps ------------------------------------------- */

/* The loader's work in progress (load_free frees what is not handed out). */
typedef struct load {
    const cJSON *root; /* the parsed file */
    int nt;            /* threads in the file */
    gs_model_t *m;
    gs_trace_t *t;
    gsr_point_t **pts; /* per thread, sorted (owned) */
    size_t *npts;
    label_map_t lm;
} load_t;

/* A model named after the script, described by when and with what it was
 * recorded, with the recording's cores and switch interval and one
 * process, "python". */
static int model_from_header(load_t *ld, const char *path, gs_error_t *err)
{
    const cJSON *root = ld->root;
    gs_model_t *m = ld->m = gs_model_new();
    if (!m)
        return gsr_bad(err, GS_ENOMEM, NULL, "out of memory");
    const cJSON *cmd = cJSON_GetObjectItem(root, "command");
    char name[256] = "recording", desc[1024] = "";
    const cJSON *script = cJSON_GetArrayItem(cmd, cJSON_GetArraySize(cmd) > 1 ? 1 : 0);
    if (cJSON_IsString(script) && strcmp(script->valuestring, "-m") == 0)
        script = cJSON_GetArrayItem(cmd, 2);
    if (cJSON_IsString(script)) {
        const char *b = strrchr(script->valuestring, '/');
        snprintf(name, sizeof name, "recording of %s", b ? b + 1 : script->valuestring);
    }
    const cJSON *interp = cJSON_GetObjectItem(root, "interpreter");
    const char *full = cJSON_GetStringValue(cJSON_GetObjectItem(interp, "full"));
    const char *exe = cJSON_GetStringValue(cJSON_GetObjectItem(interp, "executable"));
    const char *when = cJSON_GetStringValue(cJSON_GetObjectItem(root, "recorded_at"));
    snprintf(desc, sizeof desc, "Recorded %s with %s (Python %.40s).", when ? when : "?",
             exe ? exe : "?", full ? full : "?");
    m->name = strdup(name);
    m->description = strdup(desc);
    m->source = strdup(path);
    const cJSON *host = cJSON_GetObjectItem(root, "host");
    const cJSON *cores = cJSON_GetObjectItem(host, "cores");
    m->machine.cores = cJSON_IsNumber(cores) && cores->valueint >= 1 && cores->valueint <= 1024
                           ? cores->valueint
                           : 1;
    const cJSON *si = cJSON_GetObjectItem(root, "switch_interval_ns");
    if (cJSON_IsNumber(si) && si->valuedouble > 0)
        m->processes[0].python.switch_interval_ns = (int64_t)si->valuedouble;
    free(m->processes[0].name);
    m->processes[0].name = strdup("python");
    if (!m->name || !m->description || !m->processes[0].name)
        return gsr_bad(err, GS_ENOMEM, NULL, "out of memory");
    return 0;
}

/* Thread i of the file: a thread of the model (a name already taken gets
 * " #i") and its points. */
static int read_thread(load_t *ld, const cJSON *th, int i, gs_error_t *err)
{
    gs_model_t *m = ld->m;
    char tpath[64];
    snprintf(tpath, sizeof tpath, "threads[%d]", i);
    const char *tn = cJSON_GetStringValue(cJSON_GetObjectItem(th, "name"));
    const cJSON *evs = cJSON_GetObjectItem(th, "events");
    if (!tn || !cJSON_IsArray(evs))
        return gsr_bad(err, GS_ESCENARIO, tpath,
                   "a thread needs \"name\" (string) and \"events\" (array)");
    /* names must be unique in a model: a repeated one gets its index */
    char un[200];
    snprintf(un, sizeof un, "%s", tn);
    for (int j = 0; j < m->n_threads; j++)
        if (strcmp(m->threads[j].name, un) == 0) {
            snprintf(un, sizeof un, "%.150s #%d", tn, i);
            break;
        }
    if (gs_model_add_thread(m, un, 0) < 0)
        return gsr_bad(err, GS_ENOMEM, NULL, "out of memory");
    return thread_points(evs, tpath, ld->nt, m, &ld->lm, &ld->pts[i], &ld->npts[i], err);
}

static int read_threads(load_t *ld, gs_error_t *err)
{
    ld->pts = calloc((size_t)ld->nt, sizeof *ld->pts);
    ld->npts = calloc((size_t)ld->nt, sizeof *ld->npts);
    if (!ld->pts || !ld->npts)
        return gsr_bad(err, GS_ENOMEM, NULL, "out of memory");
    const cJSON *th;
    int i = 0;
    cJSON_ArrayForEach(th, cJSON_GetObjectItem(ld->root, "threads")) {
        int rc = read_thread(ld, th, i++, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Every thread's drop request times, sorted, in *out (malloc'ed, NULL when
 * there are none). */
static int request_times(const load_t *ld, int64_t **out, size_t *n_out)
{
    size_t n_req = 0, cap = 0;
    int64_t *req = NULL;
    for (int i = 0; i < ld->nt; i++)
        for (size_t k = 0; k < ld->npts[i]; k++) {
            if (ld->pts[i][k].kind != P_REQUEST)
                continue;
            if (n_req == cap) {
                cap = cap ? cap * 2 : 256;
                int64_t *nr = realloc(req, cap * sizeof *nr);
                if (!nr) {
                    free(req);
                    return GS_ENOMEM;
                }
                req = nr;
            }
            req[n_req++] = ld->pts[i][k].t;
        }
    if (n_req) /* qsort wants an array, even of 0 */
        qsort(req, n_req, sizeof *req, cmp_i64);
    *out = req;
    *n_out = n_req;
    return 0;
}

/* Recorded without a profile function ("calls": "blocking"), a C call
 * that keeps the GIL has no span: one is inferred where a drop request
 * went unanswered (gsr_infer_c_holds). With "all", every call is named. */
static int infer_unanswered(load_t *ld, gs_error_t *err)
{
    const char *calls = cJSON_GetStringValue(cJSON_GetObjectItem(ld->root, "calls"));
    if (calls && strcmp(calls, "all") == 0)
        return 0;
    int64_t *req = NULL;
    size_t n_req = 0;
    int rc = request_times(ld, &req, &n_req);
    if (!rc) {
        uint32_t label = label_for(ld->m, &ld->lm, "C code keeping the GIL (inferred: drop "
                                                   "requests unanswered)");
        for (int i = 0; i < ld->nt && !rc; i++)
            rc = gsr_infer_c_holds(&ld->pts[i], &ld->npts[i], req, n_req, label);
    }
    free(req);
    return rc ? gsr_bad(err, GS_ENOMEM, NULL, "out of memory") : 0;
}

/* The trace: every thread's lane, the GIL's and the drop-request facts,
 * ending at the recording's duration (or its last point, if later); a
 * partial recording ends as "horizon" and says why. */
static int build_trace(load_t *ld, gs_error_t *err)
{
    gs_trace_t *t = ld->t = gs__trace_new(ld->m);
    if (!t)
        return gsr_bad(err, GS_ENOMEM, NULL, "out of memory");
    const cJSON *dur = cJSON_GetObjectItem(ld->root, "duration_ns");
    int64_t t_end = cJSON_IsNumber(dur) ? (int64_t)dur->valuedouble : 0;
    size_t n_gil = 0, n_all = 0;
    for (int i = 0; i < ld->nt; i++) {
        n_all += ld->npts[i];
        if (ld->npts[i] && ld->pts[i][ld->npts[i] - 1].t > t_end)
            t_end = ld->pts[i][ld->npts[i] - 1].t;
    }
    /* a point each, and a last release per thread */
    gsr_gil_ev_t *gil = malloc((n_all + (size_t)ld->nt) * sizeof *gil);
    if (!gil)
        return gsr_bad(err, GS_ENOMEM, NULL, "out of memory");
    for (int i = 0; i < ld->nt; i++)
        gsr_thread_lane(t, i, ld->pts[i], ld->npts[i], t_end, gil, &n_gil);
    gsr_gil_and_facts(t, gil, n_gil);
    free(gil);
    bool partial = cJSON_IsTrue(cJSON_GetObjectItem(ld->root, "partial"));
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(ld->root, "partial_reason"));
    char msg[300] = "";
    if (partial)
        snprintf(msg, sizeof msg, "partial recording: %s", why && *why ? why : "stopped early");
    gs__trace_finish(t, t_end, partial ? GS_OUT_HORIZON : GS_OUT_DONE, msg, (int64_t)n_all);
    if (gs__trace_oom(t))
        return gsr_bad(err, GS_ENOMEM, NULL, "out of memory building the trace");
    return 0;
}

int gs_recording_load(const char *path, gs_model_t **mo, gs_trace_t **to, gs_error_t *err)
{
    *mo = NULL;
    *to = NULL;
    cJSON *root = NULL;
    int rc = gsr_parse_file(path, &root, err);
    if (rc)
        return rc;
    load_t ld = {.root = root, .nt = cJSON_GetArraySize(cJSON_GetObjectItem(root, "threads"))};
    rc = model_from_header(&ld, path, err);
    if (!rc)
        rc = read_threads(&ld, err);
    if (!rc)
        rc = infer_unanswered(&ld, err);
    if (!rc)
        rc = build_trace(&ld, err);
    for (int i = 0; ld.pts && i < ld.nt; i++)
        free(ld.pts[i]);
    free(ld.pts);
    free(ld.npts);
    free(ld.lm.name);
    free(ld.lm.id);
    cJSON_Delete(root);
    if (rc) {
        if (ld.t)
            gs_trace_free(ld.t);
        gs_model_free(ld.m);
        return rc;
    }
    *mo = ld.m;
    *to = ld.t;
    return 0;
}
