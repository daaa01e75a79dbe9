/* scenario_threads.c - the scenario format's threads: declarations and programs.
 *
 * Pass 1 (gs__scen_declare_threads, called for the top level and for each
 * process) declares every thread, count expanded to name-1..name-N, so that
 * a start or join can name a thread declared later; an "interpreter": "own"
 * gives the thread a process of its own. Pass 2 (gs__scen_read_programs)
 * reads each declaration's program once (scenario_ops.c) and gives every
 * copy its own deep copy, then checks that every thread declared with
 * "autostart": false is started by some op. The rest of the format is read
 * in scenario_build.c; docs/scenarios.md "Threads" documents these keys. */
#include "scenario_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const thread_keys[] = {
    "name",     "count",   "start_at", "autostart", "daemon",
    "interpreter", "priority", "program", "cpus",      NULL};

/* Threads are added here (and op labels in scenario_ops.c) rather than
 * through gs_model_add_thread/gs_model_add_op_label, which grow their arrays by one
 * item per call: with 50 000 threads or 1 000 000 ops that is quadratic, and
 * under ASan (whose realloc always copies) it takes minutes. These keep a
 * capacity and double it; the result is the same model. */
static int add_thread(gs__scen_t *ld, const char *name, int process)
{
    gs_model_t *m = ld->m;
    if ((size_t)m->n_threads == ld->cap_threads) {
        size_t cap = ld->cap_threads ? ld->cap_threads * 2 : 16;
        gs_thread_spec_t *t = realloc(m->threads, cap * sizeof *t);
        if (!t)
            return GS_ENOMEM;
        m->threads = t;
        ld->cap_threads = cap;
    }
    gs_thread_spec_t *t = &m->threads[m->n_threads];
    memset(t, 0, sizeof *t);
    if (!(t->name = strdup(name)))
        return GS_ENOMEM;
    t->process = process;
    t->autostart = true;
    return m->n_threads++;
}

static bool add_thread_name(gs__scen_t *ld, const char *name, int process)
{
    if (gs__names_get(&ld->threads, name) >= 0 || gs__names_get(&ld->bases, name) >= 0) {
        size_t mark = gs__scen_push_key(ld, "name");
        gs__scen_err(ld, "a thread named \"%s\" is already declared", name);
        gs__scen_pop(ld, mark);
        return false;
    }
    int idx = add_thread(ld, name, process);
    if (idx < 0 || gs__names_put(&ld->threads, ld->m->threads[idx].name, idx) < 0) {
        ld->nomem = true;
        return false;
    }
    return true;
}

/* "interpreter": "own" (PEP 684, 3.12+; InterpreterPoolExecutor's workers in
 * 3.14, PEP 734): possible in this process's Python? */
static bool own_interp_ok(gs__scen_t *ld, int process)
{
    const gs_python_t *py = &ld->m->processes[process].python;
    if (py->version == 0 || py->version >= 312)
        return true;
    char buf[16];
    size_t mark = gs__scen_push_key(ld, "interpreter");
    gs__scen_err(ld, "\"own\" needs Python 3.12 or later (one GIL per interpreter, PEP 684); "
                     "this thread's process runs %s: set python.version to \"3.12\" or later, "
                     "or use a number for a subinterpreter sharing the GIL",
                 gs_python_version_name(py, buf, sizeof buf));
    gs__scen_pop(ld, mark);
    return false;
}

/* declare_thread() step: "interpreter", "own" (if the process's Python
 * allows it) or a subinterpreter's number, into *own or *interp. */
static void read_interpreter(gs__scen_t *ld, const cJSON *v, int process, bool *own,
                             int64_t *interp)
{
    const cJSON *iv = cJSON_GetObjectItemCaseSensitive(v, "interpreter");
    *own = cJSON_IsString(iv) && strcmp(iv->valuestring, "own") == 0;
    if (*own) {
        *own = own_interp_ok(ld, process);
    } else if (cJSON_IsString(iv)) {
        size_t mark = gs__scen_push_key(ld, "interpreter");
        gs__scen_err(ld, "expected \"own\" (an interpreter with its own GIL) or a number from "
                         "0 to 1000 (a subinterpreter sharing the process's GIL), got \"%.64s\"",
                     iv->valuestring);
        gs__scen_pop(ld, mark);
    } else {
        gs__scen_get_int(ld, v, "interpreter", 0, 1000, interp);
    }
}

/* Thread i moves to a new process named after it, with a copy of its
 * process's Python: its own interpreter and GIL, the same cores. It is
 * created at once (create 0): the interpreter's creation is the first op of
 * the thread's program, on its core (read_program). */
static bool own_interp_process(gs__scen_t *ld, int i)
{
    gs_model_t *m = ld->m;
    int from = m->threads[i].process;
    const char *name = m->threads[i].name;
    if (ld->n_own_interp++ >= GS_SCEN_MAX_OWN_INTERP) {
        size_t mark = gs__scen_push_key(ld, "interpreter");
        gs__scen_err(ld, "more than %d threads with \"own\" interpreters in all; that is the "
                         "limit",
                     GS_SCEN_MAX_OWN_INTERP);
        gs__scen_pop(ld, mark);
        return false;
    }
    if (gs__names_get(&ld->procs, name) >= 0) {
        size_t mark = gs__scen_push_key(ld, "name");
        gs__scen_err(ld, "a thread with \"interpreter\": \"own\" gets a process of its own "
                         "named after it, and a process named \"%s\" is already declared: "
                         "rename one",
                     name);
        gs__scen_pop(ld, mark);
        return false;
    }
    gs_python_t py = m->processes[from].python;
    int p = gs_model_add_process(m, name, &py);
    if (p < 0 || gs__names_put(&ld->procs, m->processes[p].name, p) < 0) {
        ld->nomem = true;
        return false;
    }
    m->processes[p].start_at_ns = m->processes[from].start_at_ns;
    m->processes[p].create_ns = m->processes[from].create_ns;
    m->processes[p].cpus = m->processes[from].cpus;
    m->threads[i].process = p;
    return true;
}

/* declare_thread() step: the names, name itself (count 0: none given) or
 * name-1..name-count, name kept in ld->bases. False on an error (reported). */
static bool add_thread_names(gs__scen_t *ld, const char *name, int64_t count, int process)
{
    if (count == 0)
        return add_thread_name(ld, name, process);
    if (gs__names_get(&ld->threads, name) >= 0 || gs__names_get(&ld->bases, name) >= 0) {
        size_t mark = gs__scen_push_key(ld, "name");
        gs__scen_err(ld, "a thread named \"%s\" is already declared", name);
        gs__scen_pop(ld, mark);
        return false;
    }
    if (gs__names_put(&ld->bases, name, ld->n_decls) < 0) {
        ld->nomem = true;
        return false;
    }
    char buf[GS_SCEN_MAX_NAME + 16];
    for (int k = 1; k <= count; k++) {
        snprintf(buf, sizeof buf, "%s-%d", name, k);
        if (!add_thread_name(ld, buf, process))
            return false;
    }
    return true;
}

/* Pass 1: one entry of a threads list: settings read, name checked, a
 * declaration kept for pass 2, threads added (add_thread_names) and set. */
static void declare_thread(gs__scen_t *ld, const cJSON *v, int process)
{
    if (!gs__scen_expect_object(ld, v, "{\"name\": \"worker\", \"program\": [{\"cpu\": \"5ms\"}]}"))
        return;
    gs__scen_check_keys(ld, v, thread_keys);
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(v, "name");
    const char *name;
    int64_t count = 1, start_at = 0, prio = 0;
    bool autostart = true, daemon = false;
    int64_t interp = 0;
    gs__scen_get_bool(ld, v, "daemon", &daemon);
    bool own;
    read_interpreter(ld, v, process, &own, &interp);
    int has_count = gs__scen_get_int(ld, v, "count", 1, GS_SCEN_MAX_THREADS, &count);
    int has_start = gs__scen_get_fixed(ld, v, "start_at", 0, &start_at);
    gs__scen_get_bool(ld, v, "autostart", &autostart);
    gs__scen_get_int(ld, v, "priority", -99, 99, &prio);
    gs_cpuset_t cpus;
    memset(&cpus, 0, sizeof cpus);
    if (gs__scen_read_cpus(ld, v, &cpus) > 0 && !gs_cpuset_any(&cpus))
        for (int c = 0; c < ld->m->machine.cores; c++) /* "all": every core, whatever */
            cpus.w[c / 64] |= UINT64_C(1) << (c % 64); /* its process's set */
    if (!autostart && has_start > 0) {
        size_t mark = gs__scen_push_key(ld, "start_at");
        gs__scen_err(ld, "has no effect with \"autostart\": false (the start op decides when)");
        gs__scen_pop(ld, mark);
    }
    if (!cJSON_GetObjectItemCaseSensitive(v, "program"))
        gs__scen_err(ld, "missing \"program\": the list of ops this thread runs, e.g. "
                         "[{\"cpu\": \"5ms\"}]");
    if (!nm) {
        gs__scen_err(ld, "missing \"name\"");
        return;
    }
    size_t mark = gs__scen_push_key(ld, "name");
    bool name_ok = gs__scen_check_name(ld, nm);
    gs__scen_pop(ld, mark);
    if (!name_ok || has_count < 0)
        return;
    name = nm->valuestring;
    if (ld->m->n_threads + count > GS_SCEN_MAX_THREADS) {
        gs__scen_err(ld, "more than %d threads in all (after count); that is the limit",
                     GS_SCEN_MAX_THREADS);
        return;
    }
    gs__decl_t *dc = &ld->decls[ld->n_decls];
    dc->item = v;
    dc->first = ld->m->n_threads;
    dc->count = (int)count;
    dc->has_count = has_count > 0;
    size_t pl = ld->path_len < sizeof dc->path ? ld->path_len : sizeof dc->path - 1;
    memcpy(dc->path, ld->path, pl); /* "processes[i].threads[j]" always fits */
    dc->path[pl] = '\0';
    if (!add_thread_names(ld, name, dc->has_count ? count : 0, process))
        return;
    dc->own_interp = own;
    for (int k = 0; k < count; k++) {
        if (own && !own_interp_process(ld, dc->first + k))
            return;
        gs_thread_spec_t *t = &ld->m->threads[dc->first + k];
        t->start_at_ns = start_at;
        t->autostart = autostart;
        t->daemon = daemon;
        t->interpreter = (int)interp;
        t->priority = (int)prio;
        t->cpus = cpus;
    }
    ld->n_decls++;
}

void gs__scen_declare_threads(gs__scen_t *ld, const cJSON *obj, int process)
{
    const cJSON *arr = cJSON_GetObjectItemCaseSensitive(obj, "threads");
    if (!arr)
        return;
    size_t mark = gs__scen_push_key(ld, "threads");
    if (gs__scen_expect_array(ld, arr, "[{\"name\": \"worker\", \"program\": [...]}]")) {
        int i = 0;
        for (const cJSON *c = arr->child; c; c = c->next, i++) {
            size_t m2 = gs__scen_push_index(ld, i);
            declare_thread(ld, c, process);
            gs__scen_pop(ld, m2);
        }
    }
    gs__scen_pop(ld, mark);
}

/* Pass 2: a declaration's program, copied into each of its threads. */
static void read_program(gs__scen_t *ld, int d)
{
    const gs__decl_t *dc = &ld->decls[d];
    const cJSON *prog = cJSON_GetObjectItemCaseSensitive(dc->item, "program");
    if (!prog)
        return; /* reported in pass 1 */
    ld->cur_decl = d;
    gs__scen_pop(ld, 0);
    size_t mark = gs__scen_push_key(ld, dc->path);
    gs__scen_push_key(ld, "program");
    gs_op_t *ops;
    int n;
    bool ok = gs__scen_read_ops(ld, prog, &ops, &n);
    gs__scen_pop(ld, mark);
    if (ok && dc->own_interp)
        ok = gs__scen_prepend_create(ld, &ops, &n);
    gs_model_t *m = ld->m;
    m->threads[dc->first].program = ops;
    m->threads[dc->first].n_program = n;
    if (!ok || dc->count == 1)
        return;
    int64_t nodes = gs__scen_count_nodes(ops, n);
    if (ld->n_op_nodes + nodes * (dc->count - 1) > GS_SCEN_MAX_OP_NODES) {
        mark = gs__scen_push_key(ld, dc->path);
        gs__scen_err(ld, "%lld ops times count %d is more than %d ops in all; use repeat "
                         "inside one program rather than copies",
                     (long long)nodes, dc->count, GS_SCEN_MAX_OP_NODES);
        gs__scen_pop(ld, mark);
        ld->n_op_nodes = GS_SCEN_MAX_OP_NODES + 1;
        return;
    }
    ld->n_op_nodes += nodes * (dc->count - 1);
    for (int k = 1; k < dc->count; k++) {
        gs_op_t *c = gs__scen_copy_ops(ops, n);
        if (!c) {
            ld->nomem = true;
            return;
        }
        m->threads[dc->first + k].program = c;
        m->threads[dc->first + k].n_program = n;
    }
}

int gs__scen_count_decls(const cJSON *root)
{
    int n = cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(root, "threads"));
    const cJSON *ps = cJSON_GetObjectItemCaseSensitive(root, "processes");
    if (cJSON_IsArray(ps))
        for (const cJSON *c = ps->child; c; c = c->next)
            if (cJSON_IsObject(c))
                n += cJSON_GetArraySize(cJSON_GetObjectItemCaseSensitive(c, "threads"));
    return n;
}

/* Pass 2: every declaration's program, then the threads that nothing starts. */
void gs__scen_read_programs(gs__scen_t *ld)
{
    gs_model_t *m = ld->m;
    for (int d = 0; d < ld->n_decls && !ld->nomem; d++)
        read_program(ld, d);
    gs__scen_pop(ld, 0);
    for (int d = 0; d < ld->n_decls; d++) {
        const gs__decl_t *dc = &ld->decls[d];
        if (m->threads[dc->first].autostart)
            continue;
        for (int k = 0; k < dc->count; k++) {
            if (ld->started[dc->first + k])
                continue;
            size_t mark = gs__scen_push_key(ld, dc->path);
            gs__scen_err(ld, "\"%s\" has \"autostart\": false but no start op names it, so "
                             "it would never run",
                         m->threads[dc->first + k].name);
            gs__scen_pop(ld, mark);
            break;
        }
    }
}
