/* export_json.c - the JSON summary and the Chrome Trace Event export.
 *
 * The summary is one small cJSON tree. The trace export streams: each event
 * is a small cJSON object printed into a reused buffer and written at once,
 * so a million intervals never sit in memory as a tree.
 *
 * Track layout for the trace (Perfetto and chrome://tracing group tracks by
 * pid and name them from "M" metadata events):
 *   pid p+1            simulated process p ("main"): its GIL track first,
 *                      then its threads in model order
 *   pid n_processes+1  "cores": one track per core
 *   tid                thread i -> i+1; GIL of process p -> n_threads+1+p;
 *                      core c -> n_threads+n_processes+1+c (unique across
 *                      pids, which both viewers accept)
 * Events: states as "X" with the readable state text as name, the state key
 * in args.state and a chrome colour name (cname) close to gs_state_color();
 * instants as "i" on the track of the thread they concern. Times are
 * microseconds (ts, dur) with the nanoseconds as the fractional part. */
#include "gilsim/export.h"
#include "gilsim/explain.h"

#include <cjson/cJSON.h>
#include <stdlib.h>
#include <string.h>

/* ---- summary ------------------------------------------------------------
 * The run's identity (scenario, seed, outcome, message), then the metric
 * tables of stats.h in their order: the names are written nowhere else. */

static void add_i64(cJSON *o, const char *k, int64_t v)
{
    cJSON_AddNumberToObject(o, k, (double)v);
}

static void add_opt_ns(cJSON *o, const char *k, int64_t v)
{
    if (v < 0)
        cJSON_AddNullToObject(o, k);
    else
        add_i64(o, k, v);
}

/* The object a dotted key goes in ("gil.switches": o's "gil", created on
 * first use) and, in *leaf, the key's last part. Keys have one dot at most. */
static cJSON *parent_of(cJSON *o, const char *key, const char **leaf)
{
    const char *dot = strchr(key, '.');
    if (!dot) {
        *leaf = key;
        return o;
    }
    char head[64];
    size_t n = (size_t)(dot - key);
    if (n >= sizeof head)
        return NULL;
    memcpy(head, key, n);
    head[n] = '\0';
    *leaf = dot + 1;
    cJSON *sub = cJSON_GetObjectItemCaseSensitive(o, head);
    return sub ? sub : cJSON_AddObjectToObject(o, head);
}

/* Every metric of a table (GS_METRIC_MAP, GS_THREAD_METRIC_MAP) of rec. */
static void add_metrics(cJSON *o, const gs_metric_t *ms, int n, const void *rec)
{
    for (int i = 0; i < n; i++) {
        const char *leaf;
        cJSON *p = parent_of(o, ms[i].key, &leaf);
        if (!p)
            continue;
        if (ms[i].kind == GS_METRIC_F64)
            cJSON_AddNumberToObject(p, leaf, gs_metric_f64(&ms[i], rec));
        else if (ms[i].kind == GS_METRIC_OPT_NS)
            add_opt_ns(p, leaf, gs_metric_i64(&ms[i], rec));
        else
            add_i64(p, leaf, gs_metric_i64(&ms[i], rec));
    }
}

/* Where thread th's waiting went (explain.h), every kind present, zeros too,
 * so a script can add them up; "by" objects name only non-zero holders. */
static cJSON *blame_json(const gs_trace_t *t, int th)
{
    gs_blame_t b;
    if (gs_blame_compute(t, th, &b) != 0)
        return NULL;
    cJSON *o = cJSON_CreateObject();
    for (int k = 0; o && k < GS_BLAME_COUNT; k++) {
        char key[48];
        snprintf(key, sizeof key, "%s_ns", gs_blame_key((gs_blame_kind_t)k));
        add_i64(o, key, b.ns[k]);
        int64_t *by = k == GS_BLAME_GIL_HELD ? b.gil_by : k == GS_BLAME_LOCK_HELD ? b.lock_by : NULL;
        if (!by)
            continue;
        snprintf(key, sizeof key, "%s_by", gs_blame_key((gs_blame_kind_t)k));
        cJSON *who = cJSON_AddObjectToObject(o, key);
        for (int i = 0; who && i < gs_trace_n_threads(t); i++)
            if (by[i])
                add_i64(who, gs_trace_lane(t, gs_trace_thread_lane(t, i))->name, by[i]);
    }
    if (o)
        add_i64(o, "total_ns", b.total_ns);
    gs_blame_destroy(&b);
    return o;
}

static cJSON *summary_tree(const gs_trace_t *t, const gs_stats_t *s)
{
    cJSON *root = cJSON_CreateObject();
    if (!root)
        return NULL;
    cJSON_AddStringToObject(root, "scenario", gs_trace_name(t));
    add_i64(root, "seed", (int64_t)gs_trace_seed(t));
    char vers[256];
    cJSON_AddStringToObject(root, "python_version",
                            gs_trace_python_versions(t, vers, sizeof vers, NULL));
    cJSON_AddStringToObject(root, "outcome", gs_outcome_key(s->outcome));
    cJSON_AddStringToObject(root, "message", gs_trace_message(t));
    int n_run, n_thread;
    const gs_metric_t *run = gs_metrics_run(&n_run), *thread = gs_metrics_thread(&n_thread);
    add_metrics(root, run, n_run, s);
    cJSON *arr = cJSON_AddArrayToObject(root, "threads");
    for (int i = 0; arr && i < s->n_threads; i++) {
        const gs_thread_stats_t *ts = &s->threads[i];
        cJSON *o = cJSON_CreateObject();
        if (!o)
            break;
        cJSON_AddItemToArray(arr, o);
        cJSON_AddStringToObject(o, "name", ts->name ? ts->name : "");
        cJSON_AddStringToObject(o, "process",
                                ts->process >= 0 ? gs_trace_process_name(t, ts->process) : "");
        add_metrics(o, thread, n_thread, ts);
        cJSON_AddItemToObject(o, "blame", blame_json(t, i));
    }
    return root;
}

char *gs_summary_json(const gs_trace_t *t, const gs_stats_t *s)
{
    cJSON *root = summary_tree(t, s);
    if (!root)
        return NULL;
    char *txt = cJSON_Print(root);
    cJSON_Delete(root);
    if (!txt)
        return NULL;
    size_t n = strlen(txt);
    char *out = malloc(n + 2);
    if (out) {
        memcpy(out, txt, n);
        out[n] = '\n';
        out[n + 1] = '\0';
    }
    cJSON_free(txt);
    return out;
}

int gs_export_summary(const gs_trace_t *t, const gs_stats_t *s, FILE *out)
{
    char *txt = gs_summary_json(t, s);
    if (!txt)
        return GS_ENOMEM;
    int rc = fputs(txt, out) < 0 ? GS_EIO : 0;
    free(txt);
    return rc;
}

/* ---- Chrome Trace Event format ------------------------------------------ */

/* The reserved colour names of chrome://tracing nearest to each state's
 * Okabe-Ito colour (Perfetto picks its own colours by name). */
static const char *state_cname(int st)
{
    switch (st) {
    case GS_ST_PY: return "rail_response";        /* blue */
    case GS_ST_C_GIL: return "rail_animation";    /* red */
    case GS_ST_C_NOGIL: return "rail_load";       /* green */
    case GS_ST_WAIT_GIL: return "rail_idle";      /* orange */
    case GS_ST_READY: return "yellow";
    case GS_ST_IO: return "thread_state_runnable"; /* light blue */
    case GS_ST_SLEEP: return "grey";
    case GS_ST_SWITCH: return "black";
    case GS_ST_DONE: return "white";
    default: return "generic_work";               /* mid grey: sync waits */
    }
}

typedef struct emitter {
    FILE *out;
    char *buf;
    int cap;
    bool first;
    int rc;
} emitter_t;

static void emit(emitter_t *em, cJSON *ev)
{
    if (!ev) {
        em->rc = GS_ENOMEM;
        return;
    }
    if (em->rc == 0) {
        const char *sep = em->first ? "\n" : ",\n";
        em->first = false;
        if (cJSON_PrintPreallocated(ev, em->buf, em->cap, false)) {
            if (fputs(sep, em->out) < 0 || fputs(em->buf, em->out) < 0)
                em->rc = GS_EIO;
        } else {
            char *p = cJSON_PrintUnformatted(ev);
            if (!p)
                em->rc = GS_ENOMEM;
            else if (fputs(sep, em->out) < 0 || fputs(p, em->out) < 0)
                em->rc = GS_EIO;
            cJSON_free(p);
        }
    }
    cJSON_Delete(ev);
}

static cJSON *meta(const char *what, int pid, int tid, const char *key, const char *sval,
                   double nval)
{
    cJSON *ev = cJSON_CreateObject();
    if (!ev)
        return NULL;
    cJSON_AddStringToObject(ev, "name", what);
    cJSON_AddStringToObject(ev, "ph", "M");
    cJSON_AddNumberToObject(ev, "pid", pid);
    cJSON_AddNumberToObject(ev, "tid", tid);
    cJSON *args = cJSON_AddObjectToObject(ev, "args");
    if (args && sval)
        cJSON_AddStringToObject(args, key, sval);
    else if (args)
        cJSON_AddNumberToObject(args, key, nval);
    return ev;
}

static cJSON *span(const char *name, const char *cat, int pid, int tid, int64_t a, int64_t b,
                   int state)
{
    cJSON *ev = cJSON_CreateObject();
    if (!ev)
        return NULL;
    cJSON_AddStringToObject(ev, "name", name);
    cJSON_AddStringToObject(ev, "cat", cat);
    cJSON_AddStringToObject(ev, "ph", "X");
    cJSON_AddNumberToObject(ev, "ts", (double)a / 1000.0);
    cJSON_AddNumberToObject(ev, "dur", (double)(b - a) / 1000.0);
    cJSON_AddNumberToObject(ev, "pid", pid);
    cJSON_AddNumberToObject(ev, "tid", tid);
    cJSON_AddStringToObject(ev, "cname", state_cname(state));
    return ev;
}

static const char *thread_name(const gs_trace_t *t, int i)
{
    int nt = gs_trace_n_threads(t);
    if (i < 0 || i >= nt)
        return "";
    return gs_trace_lane(t, gs_trace_thread_lane(t, i))->name;
}

static void emit_lane(emitter_t *em, const gs_trace_t *t, const gs_lane_t *l, int pid, int tid)
{
    for (size_t k = 0; k < l->n && em->rc == 0; k++) {
        const gs_interval_t *iv = &l->iv[k];
        int st = iv->state < GS_ST_COUNT ? iv->state : GS_ST_DONE;
        cJSON *ev;
        cJSON *args;
        if (l->kind == GS_LANE_THREAD) {
            ev = span(gs_state_text((gs_state_t)st), "state", pid, tid, iv->start_ns, iv->end_ns,
                      st);
            args = ev ? cJSON_AddObjectToObject(ev, "args") : NULL;
            if (args) {
                cJSON_AddStringToObject(args, "state", gs_state_key((gs_state_t)st));
                if (iv->flags & GS_IV_HOLDS_GIL)
                    cJSON_AddTrueToObject(args, "holds_gil");
                bool on_core = st == GS_ST_PY || st == GS_ST_C_GIL || st == GS_ST_C_NOGIL;
                if (iv->who >= 0 && on_core)
                    cJSON_AddNumberToObject(args, "core", iv->who);
                else if (iv->who >= 0) {
                    const char *w = gs_trace_sync_name(t, (gs_state_t)st, iv->who);
                    if (w && *w)
                        cJSON_AddStringToObject(args, "on", w);
                }
            }
        } else {
            const char *who = thread_name(t, iv->who);
            ev = span(*who ? who : gs_state_text((gs_state_t)st),
                      l->kind == GS_LANE_GIL ? "gil" : "core", pid, tid, iv->start_ns,
                      iv->end_ns, st);
            args = ev ? cJSON_AddObjectToObject(ev, "args") : NULL;
            if (args) {
                cJSON_AddStringToObject(args, "state", l->kind == GS_LANE_GIL
                                                           ? "gil_held"
                                                           : gs_state_key((gs_state_t)st));
                cJSON_AddStringToObject(args, "thread", who);
            }
        }
        if (args && iv->op != GS_NO_OP) {
            const char *op = gs_trace_op_label(t, iv->op);
            if (op && *op)
                cJSON_AddStringToObject(args, "op", op);
        }
        emit(em, ev);
    }
}

static void emit_instants(emitter_t *em, const gs_trace_t *t, const int *thread_pid)
{
    size_t n = gs_trace_n_instants(t);
    const gs_instant_t *in = gs_trace_instants(t);
    int nt = gs_trace_n_threads(t), np = gs_trace_n_processes(t);
    for (size_t k = 0; k < n && em->rc == 0; k++) {
        const gs_instant_t *x = &in[k];
        cJSON *ev = cJSON_CreateObject();
        if (!ev) {
            em->rc = GS_ENOMEM;
            return;
        }
        const char *name = gs_instant_text((gs_instant_kind_t)x->kind);
        if (x->kind == GS_IN_ANNOTATION && x->arg >= 0 && x->arg < gs_trace_n_annotations(t))
            name = gs_trace_annotation_text(t, (int)x->arg);
        cJSON_AddStringToObject(ev, "name", name);
        cJSON_AddStringToObject(ev, "cat", "instant");
        cJSON_AddStringToObject(ev, "ph", "i");
        cJSON_AddNumberToObject(ev, "ts", (double)x->t_ns / 1000.0);
        if (x->thread >= 0 && x->thread < nt) {
            cJSON_AddStringToObject(ev, "s", "t");
            cJSON_AddNumberToObject(ev, "pid", thread_pid[x->thread]);
            cJSON_AddNumberToObject(ev, "tid", x->thread + 1);
        } else if (x->process >= 0 && x->process < np) {
            cJSON_AddStringToObject(ev, "s", "p");
            cJSON_AddNumberToObject(ev, "pid", x->process + 1);
            cJSON_AddNumberToObject(ev, "tid", nt + 1 + x->process);
        } else {
            cJSON_AddStringToObject(ev, "s", "g");
            cJSON_AddNumberToObject(ev, "pid", 1);
            cJSON_AddNumberToObject(ev, "tid", 0);
        }
        cJSON *args = cJSON_AddObjectToObject(ev, "args");
        if (args) {
            cJSON_AddStringToObject(args, "kind", gs_instant_key((gs_instant_kind_t)x->kind));
            cJSON_AddNumberToObject(args, "arg", (double)x->arg);
            if (x->kind == GS_IN_DEADLOCK)
                cJSON_AddStringToObject(args, "message", gs_trace_message(t));
        }
        emit(em, ev);
    }
}

/* ---- counter tracks and flows ------------------------------------------------- */

typedef struct delta {
    int64_t t;
    int64_t d;
} delta_t;

static int by_t(const void *a, const void *b)
{
    const delta_t *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

static cJSON *counter(const char *name, int pid, int64_t t, const char *key, int64_t value)
{
    cJSON *ev = cJSON_CreateObject();
    if (!ev)
        return NULL;
    cJSON_AddStringToObject(ev, "name", name);
    cJSON_AddStringToObject(ev, "ph", "C");
    cJSON_AddNumberToObject(ev, "ts", (double)t / 1000.0);
    cJSON_AddNumberToObject(ev, "pid", pid);
    cJSON_AddNumberToObject(ev, "tid", 0);
    cJSON *args = cJSON_AddObjectToObject(ev, "args");
    if (args)
        cJSON_AddNumberToObject(args, key, (double)value);
    return ev;
}

/* Sorts n deltas and emits the running sum as a counter, once per instant
 * and only when it changes (starting with 0 at time 0). */
static void emit_sum(emitter_t *em, delta_t *d, size_t n, const char *name, int pid,
                     const char *key)
{
    qsort(d, n, sizeof *d, by_t);
    int64_t v = 0, shown = -1;
    for (size_t i = 0; i < n && em->rc == 0;) {
        int64_t t = d[i].t;
        while (i < n && d[i].t == t)
            v += d[i++].d;
        if (v != shown || t == 0) {
            emit(em, counter(name, pid, t, key, v));
            shown = v;
        }
    }
}

/* Counter tracks: per process with a GIL its waiters; the OS ready queue
 * (in "cores"); each queue's length. Perfetto draws them as graphs. */
static void emit_counters(emitter_t *em, const gs_trace_t *t)
{
    int nt = gs_trace_n_threads(t), np = gs_trace_n_processes(t);
    size_t cap = 2;
    for (int i = 0; i < nt; i++)
        cap += 2 * gs_trace_lane(t, gs_trace_thread_lane(t, i))->n;
    cap += gs_trace_n_instants(t);
    delta_t *d = malloc(cap * sizeof *d);
    if (!d) {
        em->rc = em->rc ? em->rc : GS_ENOMEM;
        return;
    }
    for (int p = -1; p < np && em->rc == 0; p++) { /* -1: the ready queue */
        if (p >= 0 && gs_trace_gil_lane(t, p) < 0)
            continue;
        size_t n = 0;
        d[n++] = (delta_t){0, 0};
        for (int i = 0; i < nt; i++) {
            const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
            if (p >= 0 && l->process != p)
                continue;
            for (size_t k = 0; k < l->n; k++)
                if (l->iv[k].state == (p >= 0 ? GS_ST_WAIT_GIL : GS_ST_READY)) {
                    d[n++] = (delta_t){l->iv[k].start_ns, +1};
                    d[n++] = (delta_t){l->iv[k].end_ns, -1};
                }
        }
        if (p >= 0)
            emit_sum(em, d, n, "GIL waiters", p + 1, "threads");
        else
            emit_sum(em, d, n, "ready queue (waiting for a core)", np + 1, "threads");
    }
    const gs_instant_t *in = gs_trace_instants(t);
    for (int q = 0; q < gs_trace_n_syncs(t, GS_ST_WAIT_QUEUE) && em->rc == 0; q++) {
        char name[160];
        snprintf(name, sizeof name, "queue %s", gs_trace_sync_name(t, GS_ST_WAIT_QUEUE, q));
        size_t n = 0;
        int64_t v = gs_trace_queue_initial(t, q);
        d[n++] = (delta_t){0, v};
        for (size_t k = 0; k < gs_trace_n_instants(t); k++)
            if (in[k].kind == GS_IN_QUEUE_LEN && in[k].obj == q) {
                d[n++] = (delta_t){in[k].t_ns, in[k].arg - v};
                v = in[k].arg;
            }
        emit_sum(em, d, n, name, 1, "items");
    }
    free(d);
}

static cJSON *flow(const char *ph, int id, int pid, int tid, int64_t t)
{
    cJSON *ev = cJSON_CreateObject();
    if (!ev)
        return NULL;
    cJSON_AddStringToObject(ev, "name", "GIL hand-off");
    cJSON_AddStringToObject(ev, "cat", "gil");
    cJSON_AddStringToObject(ev, "ph", ph);
    cJSON_AddNumberToObject(ev, "id", id);
    cJSON_AddNumberToObject(ev, "ts", (double)t / 1000.0);
    cJSON_AddNumberToObject(ev, "pid", pid);
    cJSON_AddNumberToObject(ev, "tid", tid);
    if (ph[0] == 'f')
        cJSON_AddStringToObject(ev, "bp", "e");
    return ev;
}

/* A flow arrow for every GIL hand-off: from the last slice of the thread that
 * held it to the first slice of the next holder. */
static void emit_flows(emitter_t *em, const gs_trace_t *t, const int *thread_pid)
{
    int id = 0;
    for (int p = 0; p < gs_trace_n_processes(t) && em->rc == 0; p++) {
        const gs_lane_t *g = gs_trace_lane(t, gs_trace_gil_lane(t, p));
        for (size_t k = 1; g && k < g->n && em->rc == 0; k++) {
            const gs_interval_t *a = &g->iv[k - 1], *b = &g->iv[k];
            if (a->who == b->who || a->who < 0 || b->who < 0)
                continue;
            id++;
            emit(em, flow("s", id, thread_pid[a->who], a->who + 1, a->end_ns - 1));
            emit(em, flow("f", id, thread_pid[b->who], b->who + 1, b->start_ns));
        }
    }
}

int gs_export_chrome(const gs_trace_t *t, FILE *out)
{
    int nt = gs_trace_n_threads(t), np = gs_trace_n_processes(t), nc = gs_trace_n_cores(t);
    emitter_t em = {out, malloc(1 << 14), 1 << 14, true, 0};
    int *thread_pid = calloc(nt > 0 ? (size_t)nt : 1, sizeof *thread_pid);
    cJSON *other = cJSON_CreateObject();
    if (!em.buf || !thread_pid || !other) {
        free(em.buf);
        free(thread_pid);
        cJSON_Delete(other);
        return GS_ENOMEM;
    }
    cJSON_AddStringToObject(other, "generator", "gilsim " GS_VERSION);
    cJSON_AddStringToObject(other, "scenario", gs_trace_name(t));
    cJSON_AddNumberToObject(other, "seed", (double)gs_trace_seed(t));
    cJSON_AddStringToObject(other, "outcome", gs_outcome_key(gs_trace_outcome(t)));
    cJSON_AddStringToObject(other, "message", gs_trace_message(t));
    char *hdr = cJSON_PrintUnformatted(other);
    cJSON_Delete(other);
    if (!hdr || fprintf(out, "{\"displayTimeUnit\":\"ns\",\"otherData\":%s,\"traceEvents\":[",
                        hdr) < 0)
        em.rc = hdr ? GS_EIO : GS_ENOMEM;
    cJSON_free(hdr);

    for (int i = 0; i < nt; i++)
        thread_pid[i] = gs_trace_lane(t, gs_trace_thread_lane(t, i))->process + 1;
    /* Metadata: names and order of processes and tracks. */
    for (int p = 0; p < np && em.rc == 0; p++) {
        emit(&em, meta("process_name", p + 1, 0, "name", gs_trace_process_name(t, p), 0));
        emit(&em, meta("process_sort_index", p + 1, 0, "sort_index", NULL, p));
        if (gs_trace_gil_lane(t, p) >= 0) {
            emit(&em, meta("thread_name", p + 1, nt + 1 + p, "name", "GIL", 0));
            emit(&em, meta("thread_sort_index", p + 1, nt + 1 + p, "sort_index", NULL, -1));
        }
    }
    for (int i = 0; i < nt && em.rc == 0; i++) {
        emit(&em, meta("thread_name", thread_pid[i], i + 1, "name", thread_name(t, i), 0));
        emit(&em, meta("thread_sort_index", thread_pid[i], i + 1, "sort_index", NULL, i));
    }
    if (em.rc == 0) {
        emit(&em, meta("process_name", np + 1, 0, "name", "cores", 0));
        emit(&em, meta("process_sort_index", np + 1, 0, "sort_index", NULL, np));
    }
    for (int c = 0; c < nc && em.rc == 0; c++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, c));
        emit(&em, meta("thread_name", np + 1, nt + np + 1 + c, "name", l->name, 0));
        emit(&em, meta("thread_sort_index", np + 1, nt + np + 1 + c, "sort_index", NULL, c));
    }

    /* Lanes, then instants. */
    for (int p = 0; p < np && em.rc == 0; p++) {
        int li = gs_trace_gil_lane(t, p);
        if (li >= 0)
            emit_lane(&em, t, gs_trace_lane(t, li), p + 1, nt + 1 + p);
    }
    for (int i = 0; i < nt && em.rc == 0; i++)
        emit_lane(&em, t, gs_trace_lane(t, gs_trace_thread_lane(t, i)), thread_pid[i], i + 1);
    for (int c = 0; c < nc && em.rc == 0; c++)
        emit_lane(&em, t, gs_trace_lane(t, gs_trace_core_lane(t, c)), np + 1, nt + np + 1 + c);
    if (em.rc == 0)
        emit_instants(&em, t, thread_pid);
    emit_counters(&em, t);
    emit_flows(&em, t, thread_pid);
    if (em.rc == 0 && fputs("\n]}\n", out) < 0)
        em.rc = GS_EIO;
    free(em.buf);
    free(thread_pid);
    return em.rc;
}
