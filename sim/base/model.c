/* model.c - defaults, builders, deep copy and checks of gs_model_t.
 *
 * Defaults resemble a Linux desktop and CPython 3.x; docs/scenarios.md lists
 * them and must change with them. */
#include "gilsim/model.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gs_machine_defaults(gs_machine_t *m)
{
    memset(m, 0, sizeof *m);
    m->cores = 2;
    m->policy = GS_POLICY_EEVDF;             /* Linux 6.6 and later */
    m->timeslice_ns = 4000000;               /* CONFIG_HZ=250 tick */
    m->cfs_latency_ns = 6000000;             /* sysctl_sched_latency */
    m->cfs_min_granularity_ns = 750000;      /* sysctl_sched_min_granularity */
    m->cfs_wakeup_granularity_ns = 1000000;  /* sysctl_sched_wakeup_granularity */
    m->tick_ns = 4000000;                    /* CONFIG_HZ=250 */
    m->context_switch_ns = 2000;
    m->wakeup_latency_ns = 20000;
    m->timer_slack_ns = 50000;               /* PR_GET_TIMERSLACK of a normal thread */
    m->futex_ns = 1000;
    m->syscall_ns = 100;                     /* a bare futex_wake: 92 ns in C here */
    m->requester_first_pct = 50;
    m->requester_first_own_pct = -1;         /* as requester_first */
    m->race_holder_sleeps = true;            /* the model's reading before cvrace.c */
    m->migration_cost_ns = 500000;           /* sysctl_sched_migration_cost */
    m->newidle_ratio = -1;                   /* newidle balance at once (no NI_RANDOM) */
    m->per_core_queues = true;               /* a run queue per CPU, as Linux keeps */
    m->timer_wake_local = true;              /* an hrtimer fires on the CPU that armed it */
}

void gs_python_defaults(gs_python_t *p)
{
    memset(p, 0, sizeof *p);
    p->gil = GS_GIL_CPYTHON3;
    p->switch_interval_ns = 5000000; /* sys.getswitchinterval() == 0.005 */
    p->waker = GS_WAKE_FIFO;
    p->check_interval = 100; /* sys.getcheckinterval() in 2.x */
    p->tick_ns = 100;
    p->futex_ns = 0; /* cpython2: the machine's wake cost (docs/model.md) */
    p->slowdown_pct = 100;
    p->thread_create_ns = 50000;
    /* interpreters with their own GIL (PEP 684, PEP 734): creation 1.1 ms
     * (10,000 in 11.1 s on 3.13, discuss.python.org 53251); data crosses
     * between them pickled: dumps about 2.5 ns and loads about 5 ns a byte
     * for a list of ints with 3.12 and 3.13 on this machine (docs/validation-versions.md). */
    p->interp_create_ns = 1100000;
    p->pickle_ns_per_kb = 2500;
    p->unpickle_ns_per_kb = 5000;
    p->python_gil = -1;
    /* free-threaded contention (docs/model.md; fitted in
     * docs/validation-versions.md) */
    p->refcount_ns = 100;
    p->pymutex_hold_ns = 50;
    p->pymutex_park_ns = 2000;
    p->stw_ns = 100000;
    /* drop_gil holds gil->mutex across its signal and take_gil locks it
     * first, but the model's version of it (every sleeper woken at the
     * unlock at once) doubles the Event ping-pong beside a CPU thread:
     * off (gil.c mutex_taken; replay notes 48, 50) */
    p->gil_mutex_all = false;
}

static char *dup_str(const char *s)
{
    if (!s)
        return NULL;
    size_t n = strlen(s) + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s, n);
    return d;
}

/* The capacity of a model array of n items: the next power of two (0 for
 * none). Arrays grow by doubling, so adding 10 000 locks costs 14 reallocs,
 * not 10 000 (quadratic, and minutes under ASan whose realloc always
 * copies). The capacity is not stored: every array of a model, built here or
 * cloned, holds at least cap_for(n) items. */
static size_t cap_for(size_t n)
{
    size_t c = 1;
    if (n == 0)
        return 0;
    while (c < n)
        c *= 2;
    return c;
}

/* Makes room in arr (of elem-sized items, count n) for one more, zeroed. */
static void *grow(void *arr, int n, size_t elem)
{
    char *p = arr;
    if ((size_t)n == cap_for((size_t)n)) { /* full */
        p = realloc(arr, (n ? 2 * (size_t)n : 1) * elem);
        if (!p)
            return NULL;
    }
    memset(p + (size_t)n * elem, 0, elem);
    return p;
}

gs_model_t *gs_model_new(void)
{
    gs_model_t *m = calloc(1, sizeof *m);
    if (!m)
        return NULL;
    gs_machine_defaults(&m->machine);
    m->until_ns = INT64_C(60000000000);
    m->max_events = 50000000;
    m->open_at_ns = -1;
    gs_python_t py;
    gs_python_defaults(&py);
    if (gs_model_add_process(m, "main", &py) < 0) {
        gs_model_free(m);
        return NULL;
    }
    return m;
}

static void free_ops(gs_op_t *ops, int n)
{
    for (int i = 0; i < n; i++)
        free_ops(ops[i].body, ops[i].n_body);
    free(ops);
}

static void free_syncs(gs_sync_spec_t *s, int n)
{
    for (int i = 0; i < n; i++)
        free(s[i].name);
    free(s);
}

void gs_model_free(gs_model_t *m)
{
    if (!m)
        return;
    free(m->name);
    free(m->description);
    free(m->source);
    for (int i = 0; i < m->n_processes; i++)
        free(m->processes[i].name);
    free(m->processes);
    for (int i = 0; i < m->n_threads; i++) {
        gs_thread_spec_t *t = &m->threads[i];
        free(t->name);
        free_ops(t->program, t->n_program);
        if (t->user_free)
            t->user_free(t->user);
    }
    free(m->threads);
    free_syncs(m->locks, m->n_locks);
    free_syncs(m->events, m->n_events);
    free_syncs(m->queues, m->n_queues);
    for (int i = 0; i < m->n_annotations; i++)
        free(m->annotations[i].text);
    free(m->annotations);
    for (int i = 0; i < m->n_objects; i++)
        free(m->objects[i].name);
    free(m->objects);
    for (uint32_t i = 0; i < m->n_op_labels; i++)
        free(m->op_labels[i]);
    free(m->op_labels);
    free(m);
}

int gs_model_add_process(gs_model_t *m, const char *name, const gs_python_t *py)
{
    gs_python_t settings; /* py may point into m->processes, which moves */
    if (py)
        settings = *py;
    else
        gs_python_defaults(&settings);
    gs_process_spec_t *p = grow(m->processes, m->n_processes, sizeof *p);
    if (!p)
        return GS_ENOMEM;
    m->processes = p;
    p += m->n_processes;
    p->name = dup_str(name ? name : "");
    if (!p->name)
        return GS_ENOMEM;
    p->python = settings;
    return m->n_processes++;
}

int gs_model_add_thread(gs_model_t *m, const char *name, int process)
{
    if (process < 0 || process >= m->n_processes)
        return GS_EINVAL;
    gs_thread_spec_t *t = grow(m->threads, m->n_threads, sizeof *t);
    if (!t)
        return GS_ENOMEM;
    m->threads = t;
    t += m->n_threads;
    t->name = dup_str(name ? name : "");
    if (!t->name)
        return GS_ENOMEM;
    t->process = process;
    t->autostart = true;
    return m->n_threads++;
}

static int add_sync(gs_sync_spec_t **arr, int *n, const char *name)
{
    gs_sync_spec_t *s = grow(*arr, *n, sizeof *s);
    if (!s)
        return GS_ENOMEM;
    *arr = s;
    s += *n;
    s->name = dup_str(name ? name : "");
    if (!s->name)
        return GS_ENOMEM;
    return (*n)++;
}

int gs_model_add_lock(gs_model_t *m, const char *name, bool reentrant)
{
    int i = add_sync(&m->locks, &m->n_locks, name);
    if (i >= 0)
        m->locks[i].reentrant = reentrant;
    return i;
}

int gs_model_add_event(gs_model_t *m, const char *name)
{
    return add_sync(&m->events, &m->n_events, name);
}

int gs_model_add_queue(gs_model_t *m, const char *name, int maxsize)
{
    int i = add_sync(&m->queues, &m->n_queues, name);
    if (i >= 0)
        m->queues[i].maxsize = maxsize;
    return i;
}

int gs_model_add_annotation(gs_model_t *m, int64_t at_ns, const char *text)
{
    gs_annotation_t *a = grow(m->annotations, m->n_annotations, sizeof *a);
    if (!a)
        return GS_ENOMEM;
    m->annotations = a;
    a += m->n_annotations;
    a->at_ns = at_ns;
    a->text = dup_str(text ? text : "");
    if (!a->text)
        return GS_ENOMEM;
    return m->n_annotations++;
}

int gs_model_add_object(gs_model_t *m, const char *name, gs_obj_kind_t kind)
{
    gs_object_spec_t *o = grow(m->objects, m->n_objects, sizeof *o);
    if (!o)
        return GS_ENOMEM;
    m->objects = o;
    o += m->n_objects;
    o->kind = kind;
    o->name = dup_str(name ? name : "");
    if (!o->name)
        return GS_ENOMEM;
    return m->n_objects++;
}

int gs_model_add_op_label(gs_model_t *m, const char *label)
{
    if (m->n_op_labels >= UINT32_MAX - 1)
        return GS_ELIMIT;
    char **l = grow(m->op_labels, (int)m->n_op_labels, sizeof *l);
    if (!l)
        return GS_ENOMEM;
    m->op_labels = l;
    l[m->n_op_labels] = dup_str(label ? label : "");
    if (!l[m->n_op_labels])
        return GS_ENOMEM;
    return (int)m->n_op_labels++;
}

void gs_model_set_body(gs_model_t *m, int t, gs_body_fn body, void *user, void (*user_free)(void *))
{
    gs_thread_spec_t *s = &m->threads[t];
    if (s->user_free)
        s->user_free(s->user);
    s->body = body;
    s->user = user;
    s->user_free = user_free;
}

/* ---- deep copy ---------------------------------------------------------- */

static gs_op_t *clone_ops(const gs_op_t *ops, int n, bool *ok)
{
    if (n == 0)
        return NULL;
    gs_op_t *c = calloc((size_t)n, sizeof *c);
    if (!c) {
        *ok = false;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        c[i] = ops[i];
        c[i].body = clone_ops(ops[i].body, ops[i].n_body, ok);
    }
    return c;
}

static gs_sync_spec_t *clone_syncs(const gs_sync_spec_t *s, int n, bool *ok)
{
    if (n == 0)
        return NULL;
    gs_sync_spec_t *c = calloc(cap_for((size_t)n), sizeof *c);
    if (!c) {
        *ok = false;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        c[i] = s[i];
        c[i].name = dup_str(s[i].name);
        *ok = *ok && c[i].name;
    }
    return c;
}

gs_model_t *gs_model_clone(const gs_model_t *m)
{
    gs_model_t *c = calloc(1, sizeof *c);
    if (!c)
        return NULL;
    bool ok = true;
    *c = *m;
    c->name = dup_str(m->name);
    c->description = dup_str(m->description);
    c->source = dup_str(m->source);
    c->processes = calloc(cap_for((size_t)m->n_processes) + 1, sizeof *c->processes);
    c->threads = calloc(cap_for((size_t)m->n_threads) + 1, sizeof *c->threads);
    c->annotations = calloc(cap_for((size_t)m->n_annotations) + 1, sizeof *c->annotations);
    c->objects = calloc(cap_for((size_t)m->n_objects) + 1, sizeof *c->objects);
    c->op_labels = calloc(cap_for((size_t)m->n_op_labels) + 1, sizeof *c->op_labels);
    c->locks = clone_syncs(m->locks, m->n_locks, &ok);
    c->events = clone_syncs(m->events, m->n_events, &ok);
    c->queues = clone_syncs(m->queues, m->n_queues, &ok);
    if (!c->processes || !c->threads || !c->annotations || !c->op_labels || !c->objects ||
        !ok) {
        /* counts must describe what is allocated for gs_model_free */
        c->n_processes = c->n_threads = c->n_annotations = c->n_objects = 0;
        c->n_op_labels = 0;
        gs_model_free(c);
        return NULL;
    }
    for (int i = 0; i < m->n_processes; i++) {
        c->processes[i] = m->processes[i];
        c->processes[i].name = dup_str(m->processes[i].name);
        ok = ok && c->processes[i].name;
    }
    for (int i = 0; i < m->n_threads; i++) {
        c->threads[i] = m->threads[i];
        c->threads[i].name = dup_str(m->threads[i].name);
        c->threads[i].program = clone_ops(m->threads[i].program, m->threads[i].n_program, &ok);
        c->threads[i].user_free = NULL; /* the original owns user */
        ok = ok && c->threads[i].name;
    }
    for (int i = 0; i < m->n_objects; i++) {
        c->objects[i] = m->objects[i];
        c->objects[i].name = dup_str(m->objects[i].name);
        ok = ok && c->objects[i].name;
    }
    for (int i = 0; i < m->n_annotations; i++) {
        c->annotations[i] = m->annotations[i];
        c->annotations[i].text = dup_str(m->annotations[i].text);
        ok = ok && c->annotations[i].text;
    }
    for (uint32_t i = 0; i < m->n_op_labels; i++) {
        c->op_labels[i] = dup_str(m->op_labels[i]);
        ok = ok && c->op_labels[i];
    }
    if (!ok) {
        gs_model_free(c);
        return NULL;
    }
    return c;
}

/* ---- checks ------------------------------------------------------------- */

static int fail(gs_error_t *err, const char *path, const char *msg)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = GS_ESCENARIO;
        snprintf(err->path, sizeof err->path, "%s", path);
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
    return GS_ESCENARIO;
}

static int check_ops(const gs_model_t *m, const gs_op_t *ops, int n, int self, int depth,
                     gs_error_t *err)
{
    /* gs_sim_run checks every model it runs: format the path once per op
     * list, not once per op. */
    char path[64];
    snprintf(path, sizeof path, "%.50s.program", m->threads[self].name);
    if (depth > 64)
        return fail(err, m->threads[self].name, "repeat nested deeper than 64");
    for (int i = 0; i < n; i++) {
        const gs_op_t *o = &ops[i];
        int lim = -1;
        switch (o->kind) {
        case GS_OP_ACQUIRE:
        case GS_OP_RELEASE:
            lim = m->n_locks;
            break;
        case GS_OP_WAIT:
        case GS_OP_SET:
        case GS_OP_CLEAR:
            lim = m->n_events;
            break;
        case GS_OP_PUT:
        case GS_OP_GET:
            lim = m->n_queues;
            break;
        case GS_OP_START:
        case GS_OP_JOIN:
            lim = m->n_threads;
            break;
        case GS_OP_REPEAT:
            if (o->count < 1)
                return fail(err, path, "repeat count must be >= 1");
            if (check_ops(m, o->body, o->n_body, self, depth + 1, err))
                return GS_ESCENARIO;
            break;
        case GS_OP_CONSUME: /* each turn gets: an empty body is fine */
            if (o->n_body > 0 && check_ops(m, o->body, o->n_body, self, depth + 1, err))
                return GS_ESCENARIO;
            lim = m->n_queues;
            break;
        case GS_OP_UNTIL: /* an empty body would poll for ever in no time */
            if (o->n_body < 1 || !o->body)
                return fail(err, path, "an until loop needs at least one op in its body");
            if (check_ops(m, o->body, o->n_body, self, depth + 1, err))
                return GS_ESCENARIO;
            lim = m->n_events;
            break;
        default:
            if (o->dur.a_ns < 0 || o->dur.b_ns < 0)
                return fail(err, path, "durations must be >= 0");
            if (o->kind == GS_OP_CPU && o->shared &&
                (o->shared > m->n_objects || o->shared < 0 || o->every_ns <= 0))
                return fail(err, path, "a shared access needs an object and every > 0");
            if (o->kind == GS_OP_C_CALL && o->posts &&
                (o->posts < 0 || o->posts > m->n_queues || m->queues[o->posts - 1].maxsize))
                return fail(err, path, "a c_call posts to an unbounded queue that exists");
        }
        if (lim >= 0 && (o->target < 0 || o->target >= lim))
            return fail(err, path, "op names an object that does not exist");
    }
    return 0;
}

/* Every process's and thread's CPU affinity names only CPUs the machine has. */
static int check_cpus(const gs_model_t *m, gs_error_t *err)
{
    for (int i = 0; i < m->n_processes + m->n_threads; i++) {
        bool proc = i < m->n_processes;
        const gs_cpuset_t *s = proc ? &m->processes[i].cpus : &m->threads[i - m->n_processes].cpus;
        /* any CPU at or past machine.cores, a word at a time (bit by bit
         * it was 0.6% of a fitted replay's instructions: every run checks) */
        int c0 = m->machine.cores; /* 1..1024, checked before */
        bool beyond = false;
        for (int k = c0 / 64; k < GS_CPU_WORDS && !beyond; k++)
            beyond = (s->w[k] & (k == c0 / 64 ? ~UINT64_C(0) << (c0 % 64) : ~UINT64_C(0))) != 0;
        if (beyond)
            return fail(err, proc ? m->processes[i].name : m->threads[i - m->n_processes].name,
                        "its cpus name a CPU the machine does not have (machine.cores)");
    }
    return 0;
}

/* machine.requester_first, a chance, and requester_first_idle: depths
 * ascending, chances from 0 to 1. */
static int check_race(const gs_machine_t *mc, gs_error_t *err)
{
    if (mc->requester_first_pct < 0 || mc->requester_first_pct > 100)
        return fail(err, "machine.requester_first", "must be from 0 to 1");
    if (mc->requester_first_own_pct < -1 || mc->requester_first_own_pct > 100)
        return fail(err, "machine.requester_first_own", "must be from 0 to 1");
    if (mc->n_rf_curve < 0 || mc->n_rf_curve > GS_WAKE_CURVE_MAX)
        return fail(err, "machine.requester_first_idle", "has at most 8 points");
    for (int i = 0; i < mc->n_rf_curve; i++) {
        if (mc->rf_idle_ns[i] < 0 || mc->rf_pct[i] < 0 || mc->rf_pct[i] > 100)
            return fail(err, "machine.requester_first_idle",
                        "idle depths must be >= 0 and chances from 0 to 1");
        if (i > 0 && mc->rf_idle_ns[i] <= mc->rf_idle_ns[i - 1])
            return fail(err, "machine.requester_first_idle",
                        "idle depths must grow from one point to the next");
    }
    return 0;
}

static int check_placement(const gs_machine_t *mc, gs_error_t *err)
{
    if (mc->wake_affine_pct < 0 || mc->wake_affine_pct > 100)
        return fail(err, "machine.wake_affine", "must be from 0 to 1");
    if (mc->newidle_ratio < -1 || mc->newidle_ratio > 1024)
        return fail(err, "machine.newidle_ratio",
                    "must be -1 (a core going idle pulls at once) or from 0 to 1024 (the "
                    "kernel's sd->newidle_ratio)");
    return 0;
}

int gs_model_check(const gs_model_t *m, gs_error_t *err)
{
    if (!m)
        return fail(err, "", "no model");
    if (m->machine.cores < 1 || m->machine.cores > 1024)
        return fail(err, "machine.cores", "must be between 1 and 1024");
    if (m->machine.timeslice_ns <= 0 || m->machine.cfs_latency_ns <= 0 ||
        m->machine.cfs_min_granularity_ns <= 0)
        return fail(err, "machine", "time slices must be > 0");
    if (m->machine.context_switch_ns < 0 || m->machine.wakeup_latency_ns < 0 ||
        m->machine.cfs_wakeup_granularity_ns < 0 || m->machine.timer_slack_ns < 0 ||
        m->machine.futex_ns < 0 || m->machine.wake_ipi_ns < 0 || m->machine.timer_jitter_ns < 0 ||
        m->machine.timer_arm_ns < 0 || m->machine.wakeup_jitter_ns < 0 ||
        m->machine.migration_cost_ns < 0 || m->machine.syscall_ns < 0)
        return fail(err, "machine", "costs and latencies must be >= 0");
    if (m->machine.eevdf_slice_ns < 0 || m->machine.tick_ns < 0)
        return fail(err, "machine", "eevdf_slice and tick must be >= 0");
    if (m->machine.n_wake_curve < 0 || m->machine.n_wake_curve > GS_WAKE_CURVE_MAX)
        return fail(err, "machine.wakeup_idle", "has at most 8 points");
    for (int i = 0; i < m->machine.n_wake_curve; i++) {
        if (m->machine.wake_idle_ns[i] < 0 || m->machine.wake_latency_ns[i] < 0)
            return fail(err, "machine.wakeup_idle", "idle depths and latencies must be >= 0");
        if (i > 0 && m->machine.wake_idle_ns[i] <= m->machine.wake_idle_ns[i - 1])
            return fail(err, "machine.wakeup_idle",
                        "idle depths must grow from one point to the next");
    }
    if (m->machine.n_timer_curve < 0 || m->machine.n_timer_curve > GS_WAKE_CURVE_MAX)
        return fail(err, "machine.timer_late", "has at most 8 points");
    for (int i = 0; i < m->machine.n_timer_curve; i++) {
        if (m->machine.timer_len_ns[i] < 0 || m->machine.timer_late_ns[i] < 0)
            return fail(err, "machine.timer_late", "lengths and latenesses must be >= 0");
        if (i > 0 && m->machine.timer_len_ns[i] <= m->machine.timer_len_ns[i - 1])
            return fail(err, "machine.timer_late",
                        "timer lengths must grow from one point to the next");
    }
    if (check_race(&m->machine, err))
        return GS_ESCENARIO;
    if (check_placement(&m->machine, err))
        return GS_ESCENARIO;
    if (m->n_processes < 1)
        return fail(err, "processes", "a model needs at least one process");
    for (int i = 0; i < m->n_processes; i++) {
        const gs_python_t *p = &m->processes[i].python;
        if (p->switch_interval_ns <= 0)
            return fail(err, "python.switch_interval", "must be > 0");
        if (p->check_interval < 1 || p->tick_ns <= 0)
            return fail(err, "python", "check_interval and tick must be > 0");
        if (p->futex_ns < 0 || p->refcount_ns < 0 || p->pymutex_hold_ns < 0 ||
            p->pymutex_park_ns < 0 || p->stw_ns < 0 || p->thread_boot_ns < 0)
            return fail(err, "python", "costs must be >= 0");
        if (p->slowdown_pct < 1)
            return fail(err, "python.slowdown", "must be >= 1.0");
        if (p->thread_create_ns < 0)
            return fail(err, "python.thread_create", "must be >= 0");
        if (p->interp_create_ns < 0)
            return fail(err, "python.interpreter_create", "must be >= 0");
        if (p->pickle_ns_per_kb < 0 || p->pickle_ns_per_kb > GS_PICKLE_MAX_NS_PER_KB ||
            p->unpickle_ns_per_kb < 0 || p->unpickle_ns_per_kb > GS_PICKLE_MAX_NS_PER_KB)
            return fail(err, "python.pickle_per_kb",
                        "pickle_per_kb and unpickle_per_kb must be from 0 to 1ms");
    }
    for (int i = 0; i < m->n_threads; i++) {
        const gs_thread_spec_t *t = &m->threads[i];
        if (t->process < 0 || t->process >= m->n_processes)
            return fail(err, t->name, "thread belongs to no process");
        if (t->start_at_ns < 0)
            return fail(err, t->name, "start_at must be >= 0");
        if (!t->body && check_ops(m, t->program, t->n_program, i, 0, err))
            return GS_ESCENARIO;
    }
    for (int i = 0; i < m->n_queues; i++)
        if (m->queues[i].maxsize < 0 || m->queues[i].initial < 0 ||
            (m->queues[i].maxsize > 0 && m->queues[i].initial > m->queues[i].maxsize))
            return fail(err, m->queues[i].name, "queue maxsize/initial out of range");
    if (m->until_ns <= 0)
        return fail(err, "until", "must be > 0");
    if (m->max_events <= 0)
        return fail(err, "max_events", "must be > 0");
    return check_cpus(m, err);
}

const char *gs_policy_name(gs_policy_t p)
{
    static const char *const names[] = {"fifo", "rr", "priority", "cfs", "eevdf"};
    return (unsigned)p < 5 ? names[p] : "?";
}

const char *gs_gil_name(gs_gil_kind_t g)
{
    static const char *const names[] = {"cpython3", "cpython2", "none"};
    return (unsigned)g < 3 ? names[g] : "?";
}
