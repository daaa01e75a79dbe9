/* scenario_ops.c - a thread's program: ops, their names and labels.
 *
 * An op is an object with exactly one verb (plus releases_gil and posts for
 * c_call, end for put, and do for repeat, until and consume). Names of locks,
 * events, queues and threads resolve through the loader's name tables; an
 * unknown one lists the declared ones. A repeat stays one node with its body
 * (executed lazily by the interpreter), so the op count is what the file
 * says, times count for copied programs. */
#include "scenario_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum arg { ARG_DUR, ARG_LOCK, ARG_EVENT, ARG_QUEUE, ARG_THREAD, ARG_COUNT, ARG_BYTES };
static const struct verb {
    const char *name;
    gs_op_kind_t kind;
    enum arg arg;
} verbs[] = {
    {"cpu", GS_OP_CPU, ARG_DUR},           {"io", GS_OP_IO, ARG_DUR},
    {"sleep", GS_OP_SLEEP, ARG_DUR},       {"c_call", GS_OP_C_CALL, ARG_DUR},
    {"acquire", GS_OP_ACQUIRE, ARG_LOCK},  {"release", GS_OP_RELEASE, ARG_LOCK},
    {"wait", GS_OP_WAIT, ARG_EVENT},       {"set", GS_OP_SET, ARG_EVENT},
    {"clear", GS_OP_CLEAR, ARG_EVENT},     {"put", GS_OP_PUT, ARG_QUEUE},
    {"get", GS_OP_GET, ARG_QUEUE},         {"start", GS_OP_START, ARG_THREAD},
    {"join", GS_OP_JOIN, ARG_THREAD},      {"repeat", GS_OP_REPEAT, ARG_COUNT},
    {"gc", GS_OP_GC, ARG_DUR},             {"import", GS_OP_IMPORT, ARG_DUR},
    /* data crossing between interpreters (PEP 734): C holding the GIL for
     * the size times python.pickle_per_kb / unpickle_per_kb */
    {"pickle", GS_OP_C_CALL, ARG_BYTES},   {"unpickle", GS_OP_C_CALL, ARG_BYTES},
    /* `while not ev.is_set(): ...`: repeat until the event is set */
    {"until", GS_OP_UNTIL, ARG_EVENT},
    /* `for item in iter(q.get, None): ...`: get until an end marker */
    {"consume", GS_OP_CONSUME, ARG_QUEUE},
};
#define N_VERBS ((int)(sizeof verbs / sizeof verbs[0]))
static const char *const op_keys[] = {"cpu",   "io",  "sleep", "c_call", "acquire",
                                      "release", "wait", "set",  "clear",  "put",
                                      "get",   "start", "join", "repeat", "releases_gil",
                                      "do",    "gc",    "import", "reads", "writes",
                                      "every", "free_threading", "pickle", "unpickle", "until",
                                      "posts", "consume", "end", NULL};
#define VERB_LIST "cpu, io, sleep, c_call, acquire, release, wait, set, clear, put, get, start, join, repeat, until, consume, gc, import, pickle, unpickle"

static int add_op_label(gs__scen_t *ld, const char *label)
{
    gs_model_t *m = ld->m;
    if (m->n_op_labels == ld->cap_labels) {
        size_t cap = ld->cap_labels ? ld->cap_labels * 2 : 16;
        char **l = realloc(m->op_labels, cap * sizeof *l);
        if (!l)
            return GS_ENOMEM;
        m->op_labels = l;
        ld->cap_labels = cap;
    }
    if (!(m->op_labels[m->n_op_labels] = strdup(label)))
        return GS_ENOMEM;
    return (int)m->n_op_labels++;
}

static void list_names(char *buf, size_t n, const char *const *names, int count)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; i < count && used < n; i++) {
        if (i == 8 && count > 9) {
            snprintf(buf + used, n - used, ", ... (%d in all)", count);
            return;
        }
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", names[i]);
        if (w < 0)
            return;
        used += (size_t)w;
    }
}

/* ---- ops ---------------------------------------------------------------- */

static void undeclared(gs__scen_t *ld, const char *kind, const char *name, const char *decl_key,
                       const gs_sync_spec_t *specs, int n)
{
    const char **names = calloc((size_t)(n > 0 ? n : 1), sizeof *names);
    if (!names) {
        ld->nomem = true;
        return;
    }
    for (int i = 0; i < n; i++)
        names[i] = specs[i].name;
    const char *dym = n <= 1000 ? gs__scen_did_you_mean(name, names, n) : NULL;
    char list[200];
    list_names(list, sizeof list, names, n);
    if (n == 0)
        gs__scen_err(ld, "undeclared %s \"%.64s\": no %ss are declared; add \"%s\": [\"%.64s\"]",
                     kind, name, kind, decl_key, name);
    else if (dym)
        gs__scen_err(ld, "undeclared %s \"%.64s\" \xE2\x80\x94 did you mean \"%s\"? (declared: %s)",
                     kind, name, dym, list);
    else
        gs__scen_err(ld, "undeclared %s \"%.64s\"; declared %ss: %s", kind, name, kind, list);
    free(names);
}

static int resolve_sync(gs__scen_t *ld, const cJSON *v, enum arg a)
{
    if (!cJSON_IsString(v)) {
        char got[64];
        gs__scen_describe(v, got, sizeof got);
        gs__scen_err(ld, "expected the name of %s, got %s",
                     a == ARG_LOCK ? "a lock" : a == ARG_EVENT ? "an event" : "a queue", got);
        return -1;
    }
    const char *s = v->valuestring;
    gs_model_t *m = ld->m;
    int idx;
    switch (a) {
    case ARG_LOCK:
        if ((idx = gs__names_get(&ld->locks, s)) < 0)
            undeclared(ld, "lock", s, "locks", m->locks, m->n_locks);
        return idx;
    case ARG_EVENT:
        if ((idx = gs__names_get(&ld->events, s)) < 0)
            undeclared(ld, "event", s, "events", m->events, m->n_events);
        return idx;
    default:
        if ((idx = gs__names_get(&ld->queues, s)) < 0) {
            if (m->n_queues == 0)
                gs__scen_err(ld, "undeclared queue \"%.64s\": no queues are declared; add "
                                 "\"queues\": {\"%.64s\": {\"maxsize\": 4}}",
                             s, s);
            else
                undeclared(ld, "queue", s, "queues", m->queues, m->n_queues);
        }
        return idx;
    }
}

static int resolve_thread(gs__scen_t *ld, const cJSON *v, gs_op_kind_t kind)
{
    const char *verb = kind == GS_OP_START ? "start" : "join";
    if (!cJSON_IsString(v)) {
        char got[64];
        gs__scen_describe(v, got, sizeof got);
        gs__scen_err(ld, "expected the name of a thread, got %s", got);
        return -1;
    }
    const char *s = v->valuestring;
    gs_model_t *m = ld->m;
    int t = gs__names_get(&ld->threads, s);
    if (t < 0) {
        int d = gs__names_get(&ld->bases, s);
        if (d >= 0) {
            const gs__decl_t *dc = &ld->decls[d];
            char list[200];
            const char *names[9];
            int k = dc->count < 9 ? dc->count : 9;
            for (int i = 0; i < k; i++)
                names[i] = m->threads[dc->first + i].name;
            list_names(list, sizeof list, names, k);
            gs__scen_err(ld, "\"%s\" has count %d, so no thread has that name: %s one of %s%s",
                         s, dc->count, verb, list, dc->count > 9 ? ", ..." : "");
            return -1;
        }
        const char **names = calloc((size_t)(m->n_threads ? m->n_threads : 1), sizeof *names);
        if (!names) {
            ld->nomem = true;
            return -1;
        }
        for (int i = 0; i < m->n_threads; i++)
            names[i] = m->threads[i].name;
        const char *dym = m->n_threads <= 1000 ? gs__scen_did_you_mean(s, names, m->n_threads)
                                               : NULL;
        char list[200];
        list_names(list, sizeof list, names, m->n_threads);
        if (dym)
            gs__scen_err(ld, "no thread is named \"%.64s\" \xE2\x80\x94 did you mean \"%s\"? "
                             "(threads: %s)",
                         s, dym, list);
        else
            gs__scen_err(ld, "no thread is named \"%.64s\"; threads: %s", s, list);
        free(names);
        return -1;
    }
    const gs__decl_t *own = &ld->decls[ld->cur_decl];
    if (t >= own->first && t < own->first + own->count) {
        if (own->count > 1)
            gs__scen_err(ld, "\"%s\" runs this very program (count %d): a thread cannot %s "
                         "itself",
                         s, own->count, verb);
        else
            gs__scen_err(ld, "a thread cannot %s itself", verb);
        return -1;
    }
    if (kind == GS_OP_START) {
        if (m->threads[t].autostart) {
            gs__scen_err(ld, "\"%s\" starts on its own; to start it with an op, declare it "
                             "with \"autostart\": false",
                         s);
            return -1;
        }
        ld->started[t] = true;
    }
    return t;
}


static void op_label(gs__scen_t *ld, const struct verb *vb, const cJSON *arg, gs_op_t *op)
{
    const gs__decl_t *dc = &ld->decls[ld->cur_decl];
    const char *rel = ld->path + strlen(dc->path);
    if (*rel == '.')
        rel++;
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(dc->item, "name");
    char what[96], label[200];
    switch (vb->arg) {
    case ARG_DUR:
        gs__scen_fmt_dur(&op->dur, what, sizeof what);
        if (op->kind == GS_OP_C_CALL && op->releases_gil)
            strcat(what, " releasing the GIL");
        if (op->kind == GS_OP_C_CALL && op->posts) /* a name of at most 64 bytes */
            snprintf(what + strlen(what), sizeof what - strlen(what), ", posting %.40s",
                     ld->m->queues[op->posts - 1].name);
        break;
    case ARG_COUNT:
        snprintf(what, sizeof what, "%lld", (long long)op->count);
        break;
    case ARG_BYTES:
        snprintf(what, sizeof what, "%lld bytes", (long long)op->count);
        break;
    default:
        snprintf(what, sizeof what, "%.64s", arg->valuestring);
    }
    snprintf(label, sizeof label, "%.64s: %s %s %s", nm->valuestring, rel, vb->name, what);
    int id = add_op_label(ld, label);
    if (id < 0)
        ld->nomem = true;
    else
        op->id = (uint32_t)id;
}

static bool loops(const struct verb *vb)
{
    return vb->kind == GS_OP_REPEAT || vb->kind == GS_OP_UNTIL || vb->kind == GS_OP_CONSUME;
}

/* The op's one verb and its value; NULL (reported) when it has none or two. */
static const struct verb *find_verb(gs__scen_t *ld, const cJSON *v, const cJSON **arg)
{
    const struct verb *vb = NULL;
    for (const cJSON *c = v->child; c; c = c->next)
        for (int i = 0; i < N_VERBS; i++)
            if (strcmp(c->string, verbs[i].name) == 0) {
                if (vb && loops(vb) && loops(&verbs[i])) {
                    gs__scen_err(ld, "a loop runs either a count of times (\"repeat\") or "
                                     "until an event is set (\"until\"), not both: keep one");
                    return NULL;
                }
                if (vb) {
                    gs__scen_err(ld, "an op has exactly one verb, this one has \"%s\" and "
                                     "\"%s\": split it into two ops",
                                 vb->name, verbs[i].name);
                    return NULL;
                }
                vb = &verbs[i];
                *arg = c;
            }
    if (!vb)
        gs__scen_err(ld, "an op needs a verb: one of " VERB_LIST);
    return vb;
}

static bool read_bytes(gs__scen_t *ld, const cJSON *arg, bool loads, gs_op_t *op);

/* The verb's value into op, by the kind of argument the verb takes. */
static bool read_verb_arg(gs__scen_t *ld, const struct verb *vb, const cJSON *arg, gs_op_t *op)
{
    bool ok = true;
    size_t mark = gs__scen_push_key(ld, vb->name);
    switch (vb->arg) {
    case ARG_DUR:
        ok = gs__scen_read_dur(ld, arg, &op->dur);
        break;
    case ARG_LOCK:
    case ARG_EVENT:
    case ARG_QUEUE:
        ok = (op->target = resolve_sync(ld, arg, vb->arg)) >= 0;
        break;
    case ARG_THREAD:
        ok = (op->target = resolve_thread(ld, arg, vb->kind)) >= 0;
        break;
    case ARG_COUNT: {
        double d = cJSON_IsNumber(arg) ? arg->valuedouble : 0;
        if (!cJSON_IsNumber(arg) || d != floor(d) || d < 1 || d > (double)GS_SCEN_MAX_REPEAT) {
            char got[64];
            gs__scen_describe(arg, got, sizeof got);
            gs__scen_err(ld, "must be a whole number >= 1, got %s", got);
            ok = false;
        } else {
            op->count = (int64_t)d;
        }
        break;
    }
    case ARG_BYTES:
        ok = read_bytes(ld, arg, vb->name[0] == 'u', op);
        break;
    }
    gs__scen_pop(ld, mark);
    return ok;
}

/* A pickle or unpickle op's size in bytes: C holding the GIL of the thread's
 * interpreter for size x the rate of its process's Python, fixed. */
static bool read_bytes(gs__scen_t *ld, const cJSON *arg, bool loads, gs_op_t *op)
{
    double d = cJSON_IsNumber(arg) ? arg->valuedouble : 0;
    if (!cJSON_IsNumber(arg) || d != floor(d) || d < 1 || d > (double)GS_SCEN_MAX_PICKLE) {
        char got[64];
        gs__scen_describe(arg, got, sizeof got);
        gs__scen_err(ld, "expected the size of the data in bytes, a whole number from 1 to "
                         "10^12 (e.g. 1000000 for 1 MB), got %s",
                     got);
        return false;
    }
    const gs_model_t *m = ld->m;
    const gs_python_t *py = &m->processes[m->threads[ld->decls[ld->cur_decl].first].process].python;
    int64_t rate = loads ? py->unpickle_ns_per_kb : py->pickle_ns_per_kb;
    if (rate > GS_PICKLE_MAX_NS_PER_KB) /* gs_model_check reports it */
        rate = GS_PICKLE_MAX_NS_PER_KB;
    op->count = (int64_t)d;
    op->releases_gil = false;
    op->dur.dist = GS_DIST_FIXED;
    op->dur.a_ns = (op->count * rate + 1023) / 1024; /* <= 10^12 x 10^6 / 1024 */
    return true;
}

/* The first op of a thread with "interpreter": "own": creating its
 * interpreter (Py_NewInterpreterFromConfig with own_gil, run by the worker
 * thread under the new GIL: importing sys, builtins, __main__ ...), C holding
 * that GIL for python.interpreter_create. */
bool gs__scen_prepend_create(gs__scen_t *ld, gs_op_t **ops, int *n)
{
    const gs__decl_t *dc = &ld->decls[ld->cur_decl];
    const gs_model_t *m = ld->m;
    gs_op_t *o = realloc(*ops, (size_t)(*n + 1) * sizeof *o);
    if (!o) {
        ld->nomem = true;
        return false;
    }
    memmove(o + 1, o, (size_t)*n * sizeof *o);
    memset(o, 0, sizeof *o);
    o->kind = GS_OP_C_CALL;
    o->dur.dist = GS_DIST_FIXED;
    o->dur.a_ns = m->processes[m->threads[dc->first].process].python.interp_create_ns;
    *ops = o;
    (*n)++;
    ld->n_op_nodes++;
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(dc->item, "name");
    char label[200], d[48];
    gs__scen_fmt_dur(&o->dur, d, sizeof d);
    snprintf(label, sizeof label, "%.64s: its own interpreter created (%s, own GIL)",
             nm->valuestring, d);
    int id = add_op_label(ld, label);
    if (id < 0) {
        ld->nomem = true;
        return false;
    }
    o->id = (uint32_t)id;
    return true;
}

/* A c_call's "releases_gil". */
static bool read_releases_gil(gs__scen_t *ld, const cJSON *rg, gs_op_t *op)
{
    bool ok = true;
    size_t mark = gs__scen_push_key(ld, "releases_gil");
    if (!cJSON_IsBool(rg)) {
        char got[64];
        gs__scen_describe(rg, got, sizeof got);
        gs__scen_err(ld, "expected true or false, got %s", got);
        ok = false;
    }
    op->releases_gil = cJSON_IsTrue(rg);
    gs__scen_pop(ld, mark);
    return ok;
}

/* A c_call's "posts": the queue it puts one item on at its end, from C
 * (cpost.c); unbounded, since a C call's post never waits for room. */
static bool read_posts(gs__scen_t *ld, const cJSON *po, gs_op_t *op)
{
    size_t mark = gs__scen_push_key(ld, "posts");
    int q = resolve_sync(ld, po, ARG_QUEUE);
    if (q >= 0 && ld->m->queues[q].maxsize != 0) {
        gs__scen_err(ld, "queue \"%.64s\" has maxsize %d, and a C call's post cannot wait "
                         "for room: give it maxsize 0",
                     po->valuestring, ld->m->queues[q].maxsize);
        q = -1;
    }
    op->posts = q + 1;
    gs__scen_pop(ld, mark);
    return q >= 0;
}

/* A put's "end": the item is an end marker (`q.put(None)` to a consume loop). */
static bool read_end(gs__scen_t *ld, const cJSON *end, gs_op_t *op)
{
    size_t mark = gs__scen_push_key(ld, "end");
    bool ok = cJSON_IsBool(end);
    if (!ok) {
        char got[64];
        gs__scen_describe(end, got, sizeof got);
        gs__scen_err(ld, "expected true or false, got %s", got);
    }
    op->end = cJSON_IsTrue(end);
    gs__scen_pop(ld, mark);
    return ok;
}

/* A repeat's or an until loop's "do": the ops to repeat, nested at most so
 * deep (the two kinds of loop count together). */
static bool read_repeat_body(gs__scen_t *ld, const char *verb, const cJSON *body, gs_op_t *op)
{
    if (!body) {
        if (verb[0] == 'c')
            gs__scen_err(ld, "a consume loop needs \"do\": the list of ops to run for each "
                             "item it gets (\"do\": [] for none)");
        else if (verb[0] == 'u')
            gs__scen_err(ld, "an until loop needs \"do\": the list of ops to run until the "
                             "event is set (the poll's Python among them)");
        else
            gs__scen_err(ld, "a repeat needs \"do\": the list of ops to repeat");
        return false;
    }
    if (ld->repeat_depth >= GS_SCEN_MAX_REPEAT_DEPTH) {
        gs__scen_err(ld, "loops (repeat, until) are nested more than %d deep",
                     GS_SCEN_MAX_REPEAT_DEPTH);
        return false;
    }
    size_t mark = gs__scen_push_key(ld, "do");
    ld->repeat_depth++;
    bool ok = gs__scen_read_ops(ld, body, &op->body, &op->n_body);
    ld->repeat_depth--;
    if (ok && op->n_body == 0 && verb[0] != 'c') { /* consume: each turn gets */
        gs__scen_err(ld, "must list at least one op");
        ok = false;
    }
    gs__scen_pop(ld, mark);
    return ok;
}

static bool read_op(gs__scen_t *ld, const cJSON *v, gs_op_t *op)
{
    if (!gs__scen_expect_object(ld, v, "{\"cpu\": \"5ms\"}"))
        return false;
    if (gs__scen_check_keys(ld, v, op_keys) > 0)
        return false;
    const cJSON *arg = NULL;
    const struct verb *vb = find_verb(ld, v, &arg);
    if (!vb)
        return false;
    op->kind = vb->kind;
    const cJSON *rg = cJSON_GetObjectItemCaseSensitive(v, "releases_gil");
    const cJSON *body = cJSON_GetObjectItemCaseSensitive(v, "do");
    const cJSON *po = cJSON_GetObjectItemCaseSensitive(v, "posts");
    if (rg && strcmp(vb->name, "c_call") != 0) {
        gs__scen_err(ld, "\"releases_gil\" belongs to a c_call op, not to %s", vb->name);
        return false;
    }
    if (po && strcmp(vb->name, "c_call") != 0) {
        gs__scen_err(ld, "\"posts\" belongs to a c_call op, not to %s", vb->name);
        return false;
    }
    if (body && !loops(vb)) {
        gs__scen_err(ld, "\"do\" belongs to a repeat or until op, not to %s", vb->name);
        return false;
    }
    const cJSON *end = cJSON_GetObjectItemCaseSensitive(v, "end");
    if (end && vb->kind != GS_OP_PUT) {
        gs__scen_err(ld, "\"end\" belongs to a put op (an end marker), not to %s", vb->name);
        return false;
    }
    bool ok = read_verb_arg(ld, vb, arg, op);
    if (rg)
        ok &= read_releases_gil(ld, rg, op);
    if (po)
        ok &= read_posts(ld, po, op);
    if (end)
        ok &= read_end(ld, end, op);
    ok = ok && gs__scen_read_access(ld, v, op);
    if (loops(vb)) {
        if (!read_repeat_body(ld, vb->name, body, op))
            return false;
    }
    if (ok)
        op_label(ld, vb, arg, op);
    return ok;
}

/* Reads a list of ops into a new array (also on error: the caller owns it). */
bool gs__scen_read_ops(gs__scen_t *ld, const cJSON *arr, gs_op_t **out, int *n_out)
{
    *out = NULL;
    *n_out = 0;
    if (!gs__scen_expect_array(ld, arr, "[{\"cpu\": \"5ms\"}, {\"io\": \"1ms\"}]"))
        return false;
    int n = cJSON_GetArraySize(arr);
    if (ld->n_op_nodes + n > GS_SCEN_MAX_OP_NODES) {
        gs__scen_err(ld, "more than %d ops in all; use repeat rather than copies",
                     GS_SCEN_MAX_OP_NODES);
        ld->n_op_nodes = GS_SCEN_MAX_OP_NODES + 1; /* report it once */
        return false;
    }
    ld->n_op_nodes += n;
    gs_op_t *ops = calloc((size_t)(n > 0 ? n : 1), sizeof *ops);
    if (!ops) {
        ld->nomem = true;
        return false;
    }
    *out = ops;
    *n_out = n;
    bool ok = true;
    int i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        size_t mark = gs__scen_push_index(ld, i);
        ok &= read_op(ld, c, &ops[i]);
        gs__scen_pop(ld, mark);
    }
    return ok;
}

int64_t gs__scen_count_nodes(const gs_op_t *ops, int n)
{
    int64_t k = n;
    for (int i = 0; i < n; i++)
        k += gs__scen_count_nodes(ops[i].body, ops[i].n_body);
    return k;
}

static void free_ops(gs_op_t *ops, int n)
{
    for (int i = 0; ops && i < n; i++)
        free_ops(ops[i].body, ops[i].n_body);
    free(ops);
}

gs_op_t *gs__scen_copy_ops(const gs_op_t *src, int n)
{
    gs_op_t *d = calloc((size_t)(n > 0 ? n : 1), sizeof *d);
    if (!d)
        return NULL;
    for (int i = 0; i < n; i++) {
        d[i] = src[i];
        d[i].body = NULL;
        if (src[i].body && !(d[i].body = gs__scen_copy_ops(src[i].body, src[i].n_body))) {
            free_ops(d, i);
            return NULL;
        }
    }
    return d;
}

