/* recording.c - gs_recording_load: a recording file to a model and a trace.
 *
 * Per thread, the events are points (ask, hold, release, drop_request...)
 * and spans (call, wait, lock_wait). Spans become begin/end points and
 * everything is swept in time order. The thread's state at any moment:
 *   holding the GIL   -> c_gil inside a recorded call, else python
 *   asked, not holding -> wait_gil
 *   dropped on request, not asked again -> ready (CPython runs only its own
 *                         code between the two: a gap there is no core)
 *   otherwise          -> from the open spans: the outermost blocking API
 *                         (Queue.get, Event.wait, Thread.join) wins over the
 *                         Condition.wait and lock wait it is built on; time.sleep -> sleep;
 *                         I/O -> io; lock -> wait_lock; other C -> c_nogil;
 *                         nothing named -> c_nogil (C code the profiler did
 *                         not see released the GIL).
 * The GIL lane is every thread's holds merged in time. */
#include "gilsim/record.h"
#include "record_int.h"
#include "recfile_int.h"
#include "trace_int.h"

#include <errno.h>
#include <fcntl.h>
#include <unistd.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include <cjson/cJSON.h>

enum pk { /* point kinds, in the order they apply at equal times */
    P_END_SPAN,
    P_ASK,
    P_HOLD,
    P_RELEASE,
    P_REQUEST,
    P_TIMEOUT,
    P_FUTILE,
    P_SIGNAL,
    P_START,
    P_BEGIN_SPAN,
    P_END,
    P_SKIP
};

enum sk { S_CALL, S_WAIT, S_LOCK, S_PY };

typedef struct point {
    int64_t t;
    uint8_t kind, span_kind, cat;
    bool forced; /* release: the eval loop dropped it on a drop request */
    bool last;   /* release: the thread's last ("exit") */
    uint32_t label; /* op label id or GS_NO_OP */
    int32_t arg;    /* signal: woken thread; span end: begin point index */
    uint32_t seq;
} point_t;

static int cmp_point(const void *a, const void *b)
{
    const point_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (x->kind != y->kind)
        return x->kind < y->kind ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int bad(gs_error_t *err, int code, const char *path, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static int bad(gs_error_t *err, int code, const char *path, const char *fmt, ...)
{
    err->code = code;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
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

static char *slurp(const char *path, size_t *n, gs_error_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        bad(err, GS_EIO, NULL, "cannot open: %s", strerror(errno));
        return NULL;
    }
    char *b = gsr_read_all(fd, n);
    int e = errno;
    close(fd);
    if (!b)
        bad(err, GS_EIO, NULL, "cannot read: %s", strerror(e));
    return b;
}

/* A thread's state from the flags and the innermost spans. */
typedef struct tstate {
    int gil; /* 0 none, 1 waiting, 2 holding */
    bool started, done;
    bool after_forced; /* dropped on request and not asked again yet */
    int open[4]; /* open spans per kind */
    uint8_t stack_kind[32], stack_cat[32];
    uint32_t stack_label[32];
    int depth;
} tstate_t;

static gs_state_t cat_state(int cat)
{
    switch (cat) {
    case 1: return GS_ST_SLEEP;
    case 2: return GS_ST_IO;
    case 3: return GS_ST_WAIT_LOCK;
    case 4: return GS_ST_WAIT_EVENT;
    case 5: return GS_ST_WAIT_QUEUE;
    case 6: return GS_ST_WAIT_JOIN;
    default: return GS_ST_C_NOGIL;
    }
}

static gs_state_t state_of(const tstate_t *s, uint32_t *label)
{
    *label = GS_NO_OP;
    if (s->done)
        return GS_ST_DONE;
    if (!s->started)
        return GS_ST_COUNT;
    int d = s->depth < 32 ? s->depth : 32;
    if (d > 0)
        *label = s->stack_label[d - 1];
    if (s->gil == 2) { /* the innermost of a C call and Python inside one */
        for (int j = d - 1; j >= 0; j--) {
            if (s->stack_kind[j] == S_PY)
                return GS_ST_PY;
            if (s->stack_kind[j] == S_CALL)
                return GS_ST_C_GIL;
        }
        return GS_ST_PY;
    }
    if (s->gil == 1)
        return GS_ST_WAIT_GIL;
    if (s->after_forced && d == 0)
        return GS_ST_READY; /* only CPython's own code runs between a forced
                               drop and the next request: a gap is no core */
    for (int j = 0; j < d; j++) /* the outermost blocking API names the wait
                                     (Queue.get, not the Condition.wait in it) */
        if (s->stack_kind[j] == S_WAIT) {
            *label = s->stack_label[j];
            return cat_state(s->stack_cat[j]);
        }
    for (int j = d - 1; j >= 0; j--) {
        if (s->stack_kind[j] == S_LOCK)
            return GS_ST_WAIT_LOCK;
        if (s->stack_kind[j] == S_CALL)
            return cat_state(s->stack_cat[j]);
    }
    return GS_ST_C_NOGIL;
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

/* A change of the GIL, or a drop request, at t (sorted by cmp_gil). */
typedef struct gil_ev {
    int64_t t;
    int32_t holder; /* the new holder; -1 = released (by thread), -2 = a request */
    int32_t thread; /* who took, released or requested it */
    bool last;      /* a release that is the thread's last */
    uint32_t seq;
} gil_ev_t;

/* At one ns: a request, then a release, then a take. A request is made while
 * the GIL is held and is what a release at the same instant answers (the
 * engine records them in that order). */
static int gil_rank(const gil_ev_t *e)
{
    return e->holder == -2 ? 0 : e->holder == -1 ? 1 : 2;
}

static int cmp_gil(const void *a, const void *b)
{
    const gil_ev_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    if (gil_rank(x) != gil_rank(y))
        return gil_rank(x) - gil_rank(y);
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int num(const cJSON *a, int i, int64_t *out)
{
    const cJSON *v = cJSON_GetArrayItem(a, i);
    if (!cJSON_IsNumber(v))
        return -1;
    *out = (int64_t)v->valuedouble;
    return 0;
}

/* Parses one thread's events into points (labels registered in m). */
static int thread_points(const cJSON *evs, const char *tpath, int n_threads, gs_model_t *m,
                         label_map_t *lm, point_t **out, size_t *n_out, gs_error_t *err)
{
    int n = cJSON_GetArraySize(evs);
    point_t *p = calloc((size_t)n * 2 + 1, sizeof *p);
    if (!p)
        return bad(err, GS_ENOMEM, tpath, "out of memory");
    size_t k = 0;
    char path[128];
    int i = -1;
    const cJSON *e;
    cJSON_ArrayForEach(e, evs) { /* cJSON arrays are lists: never index them */
        i++;
        snprintf(path, sizeof path, "%s.events[%d]", tpath, i);
        int64_t t = 0, t1 = 0;
        const char *kind = cJSON_GetStringValue(cJSON_GetArrayItem(e, 1));
        if (!cJSON_IsArray(e) || num(e, 0, &t) != 0 || !kind || t < 0) {
            free(p);
            return bad(err, GS_ESCENARIO, path,
                       "expected [time_ns, kind, ...] with time_ns >= 0 and kind a string");
        }
        point_t pt = {.t = t, .label = GS_NO_OP, .arg = -1, .seq = (uint32_t)k};
        if (strcmp(kind, "ask") == 0)
            pt.kind = P_ASK;
        else if (strcmp(kind, "hold") == 0)
            pt.kind = P_HOLD;
        else if (strcmp(kind, "release") == 0) {
            pt.kind = P_RELEASE;
            const char *why = cJSON_GetStringValue(cJSON_GetArrayItem(e, 2));
            pt.forced = why && strcmp(why, "forced") == 0;
            pt.last = why && strcmp(why, "exit") == 0;
        } else if (strcmp(kind, "drop_request") == 0)
            pt.kind = P_REQUEST;
        else if (strcmp(kind, "timeout") == 0)
            pt.kind = P_TIMEOUT;
        else if (strcmp(kind, "futile_wakeup") == 0)
            pt.kind = P_FUTILE;
        else if (strcmp(kind, "signal") == 0) {
            int64_t who = -1;
            num(e, 2, &who);
            pt.kind = P_SIGNAL;
            pt.arg = who >= 0 && who < n_threads ? (int32_t)who : -1;
        } else if (strcmp(kind, "start") == 0)
            pt.kind = P_START;
        else if (strcmp(kind, "end") == 0)
            pt.kind = P_END;
        else if (strcmp(kind, "call") == 0 || strcmp(kind, "wait") == 0 ||
                 strcmp(kind, "lock_wait") == 0 || strcmp(kind, "py") == 0) {
            int sk = kind[0] == 'c' ? S_CALL : kind[0] == 'w' ? S_WAIT : kind[0] == 'p' ? S_PY : S_LOCK;
            int cat = 3;
            const char *name = sk == S_PY ? "" : "lock wait";
            if (sk == S_CALL || sk == S_WAIT) {
                name = cJSON_GetStringValue(cJSON_GetArrayItem(e, 3));
                cat = cat_of(cJSON_GetStringValue(cJSON_GetArrayItem(e, 4)));
            }
            if (num(e, 2, &t1) != 0 || t1 < t || !name || cat < 0) {
                free(p);
                return bad(err, GS_ESCENARIO, path,
                           "a span is [start_ns, \"call\"|\"wait\", end_ns, name, category"
                           "(, released)] with end_ns >= start_ns and category one of c, sleep, "
                           "io, lock, event, queue, join, c_nogil; or [start_ns, \"lock_wait\" "
                           "or \"py\", end_ns]");
            }
            pt.kind = P_BEGIN_SPAN;
            pt.span_kind = (uint8_t)sk;
            pt.cat = (uint8_t)cat;
            pt.label = *name ? label_for(m, lm, name) : GS_NO_OP;
            p[k++] = pt;
            point_t end = pt;
            end.kind = P_END_SPAN;
            end.t = t1;
            end.seq = (uint32_t)k;
            p[k++] = end;
            continue;
        } else
            pt.kind = P_SKIP; /* woken, switch_wait...: facts for the fitter */
        p[k++] = pt;
    }
    qsort(p, k, sizeof *p, cmp_point);
    *out = p;
    *n_out = k;
    return 0;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* A holder that leaves a drop request unanswered for LATE_NS is not in the
 * eval loop (which checks at every jump and call): it is in C code keeping
 * the GIL, or without a core. Without a profile function that C call has no
 * span; this adds one from the first unanswered request to the release. */
#define LATE_NS 1000000

/* The first drop request in the hold [h, r) if r came LATE_NS or more after
 * it, else -1. req is sorted. */
static int64_t late_request(const int64_t *req, size_t n_req, int64_t h, int64_t r)
{
    size_t lo = 0, hi = n_req;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (req[mid] <= h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n_req && req[lo] < r && r - req[lo] >= LATE_NS ? req[lo] : -1;
}

static int infer_c_holds(point_t **pp, size_t *np, const int64_t *req, size_t n_req,
                         uint32_t label)
{
    point_t *p = *pp;
    size_t n = *np, extra = 0;
    int64_t h = -1;
    for (size_t k = 0; k < n; k++) {
        if (p[k].kind == P_HOLD)
            h = p[k].t;
        if (p[k].kind != P_RELEASE || h < 0)
            continue;
        extra += late_request(req, n_req, h, p[k].t) >= 0;
        h = -1;
    }
    if (!extra)
        return 0;
    point_t *q = realloc(p, (n + 2 * extra) * sizeof *q);
    if (!q)
        return GS_ENOMEM;
    p = q;
    size_t m = n;
    h = -1;
    for (size_t k = 0; k < n; k++) {
        if (p[k].kind == P_HOLD)
            h = p[k].t;
        if (p[k].kind != P_RELEASE || h < 0)
            continue;
        int64_t q0 = late_request(req, n_req, h, p[k].t);
        if (q0 >= 0) {
            point_t b = {.t = q0, .kind = P_BEGIN_SPAN, .span_kind = S_CALL, .cat = 0,
                         .label = label, .arg = -1, .seq = (uint32_t)m};
            p[m++] = b;
            b.kind = P_END_SPAN;
            b.t = p[k].t;
            b.seq = (uint32_t)m;
            p[m++] = b;
        }
        h = -1;
    }
    qsort(p, m, sizeof *p, cmp_point);
    *pp = p;
    *np = m;
    return 0;
}

static void span_push(tstate_t *s, const point_t *p)
{
    s->open[p->span_kind]++;
    if (s->depth < 32) {
        s->stack_kind[s->depth] = p->span_kind;
        s->stack_cat[s->depth] = p->cat;
        s->stack_label[s->depth] = p->label;
    }
    s->depth++;
}

static void span_pop(tstate_t *s, const point_t *p)
{
    if (s->open[p->span_kind] > 0)
        s->open[p->span_kind]--;
    int d = s->depth < 32 ? s->depth : 32;
    for (int j = d - 1; j >= 0; j--) {
        if (s->stack_kind[j] != p->span_kind || s->stack_label[j] != p->label)
            continue;
        memmove(&s->stack_kind[j], &s->stack_kind[j + 1], (size_t)(d - 1 - j));
        memmove(&s->stack_cat[j], &s->stack_cat[j + 1], (size_t)(d - 1 - j));
        memmove(&s->stack_label[j], &s->stack_label[j + 1], (size_t)(d - 1 - j) * 4);
        s->depth--;
        return;
    }
    if (s->depth > 32)
        s->depth--;
}

/* Thread i's lane from its sorted points; its GIL takes, releases and drop
 * requests are appended to gil (room for one per point, plus one). */
static void thread_lane(gs_trace_t *t, int i, const point_t *pts, size_t n, int64_t t_end,
                        gil_ev_t *gil, size_t *n_gil)
{
    tstate_t s;
    memset(&s, 0, sizeof s);
    gs_state_t cur = GS_ST_COUNT;
    uint32_t cur_label = GS_NO_OP;
    for (size_t k = 0; k < n; k++) {
        const point_t *p = &pts[k];
        switch (p->kind) {
        case P_ASK:
            if (s.gil == 0)
                s.gil = 1;
            s.after_forced = false;
            break;
        case P_HOLD:
            s.gil = 2;
            gil[*n_gil] = (gil_ev_t){p->t, i, i, false, (uint32_t)*n_gil};
            ++*n_gil;
            break;
        case P_RELEASE:
            if (s.gil == 2) {
                gil[*n_gil] = (gil_ev_t){p->t, -1, i, p->last, (uint32_t)*n_gil};
                ++*n_gil;
                if (p->forced)
                    gs__trace_instant(t, p->t, GS_IN_FORCED_SWITCH, i, 0, 0);
            }
            s.gil = 0;
            s.after_forced = p->forced;
            break;
        case P_REQUEST: /* its instant is recorded with the holder (gil_and_facts) */
            gil[*n_gil] = (gil_ev_t){p->t, -2, i, false, (uint32_t)*n_gil};
            ++*n_gil;
            break;
        case P_TIMEOUT: gs__trace_instant(t, p->t, GS_IN_TIMEOUT, i, 0, 0); break;
        case P_FUTILE: gs__trace_instant(t, p->t, GS_IN_FUTILE_WAKEUP, i, 0, 0); break;
        case P_SIGNAL: gs__trace_instant(t, p->t, GS_IN_SIGNAL, i, 0, p->arg); break;
        case P_START: s.started = true; break;
        case P_END: s.done = true; break;
        case P_BEGIN_SPAN: span_push(&s, p); break;
        case P_END_SPAN: span_pop(&s, p); break;
        default: break;
        }
        if (p->kind != P_SKIP)
            s.started = true;
        uint32_t label;
        gs_state_t st = state_of(&s, &label);
        if (st != cur || label != cur_label) {
            gs__trace_thread(t, i, p->t, st, -1, st == GS_ST_COUNT ? GS_NO_OP : label, 0);
            cur = st;
            cur_label = label;
        }
    }
    if (!s.done && s.started) /* still running when the process ended */
        gs__trace_thread(t, i, t_end, GS_ST_DONE, -1, GS_NO_OP, 0);
    if (s.gil == 2) {
        gil[*n_gil] = (gil_ev_t){t_end, -1, i, true, (uint32_t)*n_gil};
        ++*n_gil;
    }
}

/* The GIL lane and the drop-request fact track, swept in time order.
 *
 * The drop request as the engine records it (gil.c), from what CPython does:
 * a waiter whose timed wait ran out with no switch sets it (the recording's
 * "drop_request"); the next thread to take the GIL resets it, and so does a
 * holder that drops the GIL while it is set (drop_gil resets it and waits for
 * a switch, whatever the release's reason, but for a thread's last release).
 * A request while one is set changes nothing: the first requester and its
 * time stay. The requests' instants name the holder they ask, as a run's do.
 * Cores and which lock a thread waits for are not recorded, so only the drop
 * requests are complete facts. */
static void gil_and_facts(gs_trace_t *t, gil_ev_t *gil, size_t n)
{
    qsort(gil, n, sizeof *gil, cmp_gil);
    int holder = -1;
    bool set = false;
    for (size_t k = 0; k < n; k++) {
        const gil_ev_t *e = &gil[k];
        if (e->holder == -2) {
            gs__trace_instant(t, e->t, GS_IN_DROP_REQUEST, e->thread, 0, holder);
            if (!set)
                gs__trace_drop_request(t, 0, e->t, e->thread);
            set = true;
            continue;
        }
        if (set && (e->holder >= 0 || !e->last)) {
            gs__trace_drop_request(t, 0, e->t, -1);
            set = false;
        }
        holder = e->holder;
        gs__trace_gil(t, 0, e->t, e->holder);
    }
    gs__trace_set_facts(t, GS_FACT_DROP_REQUEST);
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
        int line = 1, col = 1;
        for (const char *c = text; end && c < end; c++)
            c[0] == '\n' ? (line++, col = 1) : col++;
        err->line = line;
        err->col = col;
        /* cut short: brackets still open (or a string) where the text ends */
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
        bool starts = len >= sizeof head - 1 && memcmp(text, head, sizeof head - 1) == 0;
        free(text);
        if (len == 0)
            return bad(err, GS_ESYNTAX, NULL, "empty file, not a recording");
        if (at_end && starts)
            return bad(err, GS_ESYNTAX, NULL,
                       "the recording ends here, in the middle of its JSON: it is truncated "
                       "(cut short while copied, or a full disk; gilsim record itself writes "
                       "whole files or none); record the program again");
        return bad(err, GS_ESYNTAX, NULL,
                   starts ? "not valid JSON here: the recording is damaged"
                          : "not valid JSON here: not a gilsim recording (gilsim record -o "
                            "REC -- python3 SCRIPT writes one)");
    }
    free(text);
    const char *fmt = cJSON_GetStringValue(cJSON_GetObjectItem(root, "format"));
    const cJSON *ver = cJSON_GetObjectItem(root, "version");
    const cJSON *threads = cJSON_GetObjectItem(root, "threads");
    int rc = 0;
    if (!fmt || strcmp(fmt, GS_RECORDING_FORMAT) != 0)
        rc = bad(err, GS_ESCENARIO, "format",
                 "not a gilsim recording (expected \"format\": \"" GS_RECORDING_FORMAT
                 "\"; a scenario is run with gilsim run)");
    else if (!cJSON_IsNumber(ver) || ver->valueint != GS_RECORDING_VERSION)
        rc = bad(err, GS_ESCENARIO, "version",
                 "recording format version %d; this gilsim reads version %d%s",
                 cJSON_IsNumber(ver) ? ver->valueint : -1, GS_RECORDING_VERSION,
                 cJSON_IsNumber(ver) && ver->valueint > GS_RECORDING_VERSION
                     ? " (written by a newer gilsim: use that one, or upgrade)"
                     : "");
    else if (!cJSON_IsArray(threads) || cJSON_GetArraySize(threads) == 0)
        rc = bad(err, GS_ESCENARIO, "threads", "expected a non-empty array of threads");
    if (rc) {
        cJSON_Delete(root);
        return rc;
    }
    *out = root;
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
    gs_model_t *m = NULL;
    gs_trace_t *t = NULL;
    point_t **pts = NULL;
    size_t *npts = NULL;
    label_map_t lm = {0};
    const cJSON *threads = cJSON_GetObjectItem(root, "threads");
    int nt = cJSON_GetArraySize(threads);
    m = gs_model_new();
    if (!m) {
        rc = bad(err, GS_ENOMEM, NULL, "out of memory");
        goto out;
    }
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
    pts = calloc((size_t)nt, sizeof *pts);
    npts = calloc((size_t)nt, sizeof *npts);
    if (!pts || !npts || !m->name || !m->description || !m->processes[0].name) {
        rc = bad(err, GS_ENOMEM, NULL, "out of memory");
        goto out;
    }
    const cJSON *th;
    int ti = -1;
    cJSON_ArrayForEach(th, threads) {
        int i = ++ti;
        char tpath[64];
        snprintf(tpath, sizeof tpath, "threads[%d]", i);
        const char *tn = cJSON_GetStringValue(cJSON_GetObjectItem(th, "name"));
        const cJSON *evs = cJSON_GetObjectItem(th, "events");
        if (!tn || !cJSON_IsArray(evs)) {
            rc = bad(err, GS_ESCENARIO, tpath, "a thread needs \"name\" (string) and "
                                               "\"events\" (array)");
            goto out;
        }
        /* names must be unique in a model: a repeated one gets its index */
        char un[200];
        snprintf(un, sizeof un, "%s", tn);
        for (int j = 0; j < m->n_threads; j++)
            if (strcmp(m->threads[j].name, un) == 0) {
                snprintf(un, sizeof un, "%.150s #%d", tn, i);
                break;
            }
        if (gs_model_add_thread(m, un, 0) < 0) {
            rc = bad(err, GS_ENOMEM, NULL, "out of memory");
            goto out;
        }
        rc = thread_points(evs, tpath, nt, m, &lm, &pts[i], &npts[i], err);
        if (rc)
            goto out;
    }
    const char *calls = cJSON_GetStringValue(cJSON_GetObjectItem(root, "calls"));
    if (!calls || strcmp(calls, "all") != 0) {
        size_t n_req = 0, cap = 0;
        int64_t *req = NULL;
        for (int i = 0; i < nt; i++)
            for (size_t k = 0; k < npts[i]; k++) {
                if (pts[i][k].kind != P_REQUEST)
                    continue;
                if (n_req == cap) {
                    cap = cap ? cap * 2 : 256;
                    int64_t *nr = realloc(req, cap * sizeof *nr);
                    if (!nr) {
                        free(req);
                        rc = bad(err, GS_ENOMEM, NULL, "out of memory");
                        goto out;
                    }
                    req = nr;
                }
                req[n_req++] = pts[i][k].t;
            }
        if (n_req) /* qsort wants an array, even of 0 */
            qsort(req, n_req, sizeof *req, cmp_i64);
        uint32_t label = label_for(m, &lm, "C code keeping the GIL (inferred: drop requests "
                                           "unanswered)");
        for (int i = 0; i < nt && !rc; i++)
            rc = infer_c_holds(&pts[i], &npts[i], req, n_req, label);
        free(req);
        if (rc) {
            rc = bad(err, GS_ENOMEM, NULL, "out of memory");
            goto out;
        }
    }
    t = gs__trace_new(m);
    if (!t) {
        rc = bad(err, GS_ENOMEM, NULL, "out of memory");
        goto out;
    }
    const cJSON *dur = cJSON_GetObjectItem(root, "duration_ns");
    int64_t t_end = cJSON_IsNumber(dur) ? (int64_t)dur->valuedouble : 0;
    size_t n_gil = 0, n_all = 0;
    for (int i = 0; i < nt; i++) {
        n_all += npts[i];
        if (npts[i] && pts[i][npts[i] - 1].t > t_end)
            t_end = pts[i][npts[i] - 1].t;
    }
    gil_ev_t *gil = malloc((n_all + (size_t)nt) * sizeof *gil); /* a point each, and a last release */
    if (!gil) {
        rc = bad(err, GS_ENOMEM, NULL, "out of memory");
        goto out;
    }
    for (int i = 0; i < nt; i++)
        thread_lane(t, i, pts[i], npts[i], t_end, gil, &n_gil);
    gil_and_facts(t, gil, n_gil);
    free(gil);
    bool partial = cJSON_IsTrue(cJSON_GetObjectItem(root, "partial"));
    const char *why = cJSON_GetStringValue(cJSON_GetObjectItem(root, "partial_reason"));
    char msg[300] = "";
    if (partial)
        snprintf(msg, sizeof msg, "partial recording: %s", why && *why ? why : "stopped early");
    gs__trace_finish(t, t_end, partial ? GS_OUT_HORIZON : GS_OUT_DONE, msg, (int64_t)n_all);
    if (gs__trace_oom(t)) {
        rc = bad(err, GS_ENOMEM, NULL, "out of memory building the trace");
        goto out;
    }
out:
    if (pts)
        for (int i = 0; i < cJSON_GetArraySize(threads); i++)
            free(pts[i]);
    free(pts);
    free(npts);
    free(lm.name);
    free(lm.id);
    cJSON_Delete(root);
    if (rc) {
        if (t)
            gs_trace_free(t);
        gs_model_free(m);
        return rc;
    }
    *mo = m;
    *to = t;
    return 0;
}
