/* scenario_build.c - the scenario format: a cJSON tree -> a gs_model_t.
 *
 * Reading order: top-level settings, machine, python, locks/rlocks/events/
 * queues, processes, then threads in two passes. Pass 1 declares every thread
 * (count expanded to name-1..name-N) so that a start or join can name a
 * thread declared later; pass 2 reads each declaration's program once and
 * gives every copy its own deep copy (the model owns one program per thread).
 * Copies share op ids: the label names the declaration, not the copy.
 * A repeat is kept as one node with a body, never unrolled.
 * Every problem is reported and reading goes on, so one pass lists them all;
 * the caller throws the model away if any error was found.
 * Threads (both passes) are read in scenario_threads.c, ops in
 * scenario_ops.c.
 * The format is documented in docs/scenarios.md and docs/scenario.schema.json:
 * change them together. */
#include "scenario_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const top_keys[] = {
    "name", "description", "seed", "until", "max_events", "machine", "python", "locks", "rlocks",
    "events", "queues", "threads", "processes", "annotations", "open_at", "objects", "cpus",
    "$schema", NULL};
static const char *const machine_keys[] = {
    "cores", "policy", "timeslice", "tick", "eevdf_slice", "cfs_latency", "cfs_min_granularity",
    "cfs_wakeup_granularity", "context_switch", "wakeup_latency", "wakeup_idle", "wakeup_jitter",
    "wake_ipi", "futex", "syscall", "timer_slack", "timer_jitter", "timer_arm", "timer_late",
    "requester_first", "requester_first_idle", "requester_first_own", "race_holder_sleeps",
    "timed_out_queued", "wake_affine", "run_queues", "placement",
    "migration_cost", "timer_wake", "balance", "newidle_ratio", "behind_new_thread", "switch_charged",
    "sis_util", "one_cpu_pick", NULL};
static const char *const policy_names[] = {"fifo", "rr", "priority", "cfs", "eevdf", NULL};
static const char *const run_queue_names[] = {"shared", "per_core", NULL};
static const char *const placement_names[] = {"idle", "previous", NULL};
static const char *const timer_wake_names[] = {"remote", "local", NULL};
static const char *const balance_names[] = {"idle", "periodic", NULL};
static const char *const python_keys[] = {
    "version", "gil", "switch_interval", "waker", "signal_steal", "check_interval", "tick", "futex",
    "slowdown", "thread_create", "thread_bootstrap", "PYTHON_GIL", "refcount", "pymutex_hold", "pymutex_park",
    "stop_the_world", "interpreter_create", "pickle_per_kb", "unpickle_per_kb", "exit_posts_early",
    "exit_tail", "gil_mutex_all", NULL};
static const char *const gil_names[] = {"cpython3", "cpython2", "none", NULL};
static const char *const waker_names[] = {"fifo", "random", NULL};
static const char *const queue_keys[] = {"maxsize", "initial", "put", "get", "recheck", NULL};
static const char *const process_keys[] = {"name",   "start_at", "create", "python",
                                            "threads", "cpus",     NULL};
static const char *const annotation_keys[] = {"at", "text", NULL};

static void get_hundredths(gs__scen_t *ld, const cJSON *obj, const char *key, double lo,
                           double hi, const char *what, int *out);

static char *dup_str(gs__scen_t *ld, const char *s)
{
    char *d = strdup(s);
    if (!d)
        ld->nomem = true;
    return d;
}

/* ---- settings ----------------------------------------------------------- */

/* A curve of durations against durations: machine.wakeup_idle ([[idle
 * depth, latency], ...]) or machine.timer_late ([[timer length, lateness],
 * ...]), x ascending; with `chance`, of chances from 0 to 1 against
 * durations (machine.requester_first_idle), ys in hundredths. */
static void read_curve(gs__scen_t *ld, const cJSON *v, const char *key, const char *xname,
                       const char *yname, int *n_out, int64_t *xs, int64_t *ys, bool chance)
{
    const cJSON *c = cJSON_GetObjectItemCaseSensitive(v, key);
    if (!c)
        return;
    char want[200];
    snprintf(want, sizeof want,
             "a list of up to 8 [%s, %s] pairs with the first ascending, like %s", xname,
             yname, chance ? "[[\"1ms\", 0.13], [\"5ms\", 0.43]]"
                           : "[[\"0us\", \"5us\"], [\"1ms\", \"60us\"]]");
    size_t mark = gs__scen_push_key(ld, key);
    int n = cJSON_IsArray(c) ? cJSON_GetArraySize(c) : -1;
    if (n < 0 || n > GS_WAKE_CURVE_MAX) {
        char got[64];
        gs__scen_describe(c, got, sizeof got);
        gs__scen_err(ld, "expected %s, got %s", want, got);
        gs__scen_pop(ld, mark);
        return;
    }
    int i = 0;
    for (const cJSON *p = c->child; p; p = p->next, i++) {
        size_t m2 = gs__scen_push_index(ld, i);
        gs_dur_t d[2];
        bool ok = cJSON_IsArray(p) && cJSON_GetArraySize(p) == 2;
        if (!ok) {
            char got[64];
            gs__scen_describe(p, got, sizeof got);
            gs__scen_err(ld, "expected a pair [%s, %s] like [\"1ms\", \"60us\"], got %s",
                         xname, yname, got);
        }
        for (int k = 0; ok && k < 2; k++) {
            size_t m3 = gs__scen_push_index(ld, k);
            const cJSON *x = cJSON_GetArrayItem(p, k);
            if (chance && k == 1) {
                double ch = cJSON_IsNumber(x) ? x->valuedouble : -1.0;
                ok = ch >= 0.0 && ch <= 1.0;
                if (ok) {
                    d[1].a_ns = (int64_t)(ch * 100.0 + 0.5);
                } else {
                    char got[64];
                    gs__scen_describe(x, got, sizeof got);
                    gs__scen_err(ld, "expected a chance from 0 to 1 like 0.13, got %s", got);
                }
            } else if (cJSON_IsObject(x)) {
                gs__scen_err(ld, "must be a fixed duration like \"60us\"");
                ok = false;
            } else {
                ok = gs__scen_read_dur(ld, x, &d[k]);
            }
            gs__scen_pop(ld, m3);
        }
        if (ok && i > 0 && d[0].a_ns <= xs[i - 1]) {
            gs__scen_err(ld, "the %ss must grow from one pair to the next", xname);
            ok = false;
        }
        if (ok) {
            xs[i] = d[0].a_ns;
            ys[i] = d[1].a_ns;
        }
        gs__scen_pop(ld, m2);
        if (!ok)
            break;
    }
    if (i == n)
        *n_out = n;
    gs__scen_pop(ld, mark);
}

static void read_machine(gs__scen_t *ld, const cJSON *v, gs_machine_t *mc)
{
    if (!gs__scen_expect_object(ld, v, "{\"cores\": 2, \"policy\": \"eevdf\"}"))
        return;
    gs__scen_check_keys(ld, v, machine_keys);
    int64_t i;
    int e;
    if (gs__scen_get_int(ld, v, "cores", 1, 1024, &i) > 0)
        mc->cores = (int)i;
    if (gs__scen_get_enum(ld, v, "policy", policy_names, &e) > 0)
        mc->policy = (gs_policy_t)e;
    gs__scen_get_fixed(ld, v, "timeslice", 1, &mc->timeslice_ns);
    gs__scen_get_fixed(ld, v, "context_switch", 0, &mc->context_switch_ns);
    gs__scen_get_fixed(ld, v, "wakeup_latency", 0, &mc->wakeup_latency_ns);
    gs__scen_get_fixed(ld, v, "timer_slack", 0, &mc->timer_slack_ns);
    gs__scen_get_fixed(ld, v, "timer_jitter", 0, &mc->timer_jitter_ns);
    gs__scen_get_fixed(ld, v, "timer_arm", 0, &mc->timer_arm_ns);
    gs__scen_get_fixed(ld, v, "wakeup_jitter", 0, &mc->wakeup_jitter_ns);
    gs__scen_get_fixed(ld, v, "futex", 0, &mc->futex_ns);
    gs__scen_get_fixed(ld, v, "wake_ipi", 0, &mc->wake_ipi_ns);
    gs__scen_get_fixed(ld, v, "syscall", 0, &mc->syscall_ns);
    get_hundredths(ld, v, "requester_first", 0.0, 1.0,
                   "a chance from 0 to 1 (0.5 = the thread that asked for the GIL drop still "
                   "holds the GIL's mutex when the holder comes to drop, half of the time)",
                   &mc->requester_first_pct);
    get_hundredths(ld, v, "requester_first_own", 0.0, 1.0,
                   "a chance from 0 to 1 (requester_first when the requester's core runs a "
                   "thread of its own process, or ran one until less than 100 us before)",
                   &mc->requester_first_own_pct);
    gs__scen_get_bool(ld, v, "race_holder_sleeps", &mc->race_holder_sleeps);
    gs__scen_get_bool(ld, v, "timed_out_queued", &mc->timed_out_queued);
    gs__scen_get_bool(ld, v, "switch_charged", &mc->switch_charged);
    get_hundredths(ld, v, "wake_affine", 0.0, 1.0,
                   "a chance from 0 to 1 (1 = a thread woken by another always queues on its "
                   "waker's core, 0 = it goes to an idle core when there is one)",
                   &mc->wake_affine_pct);
    if (gs__scen_get_enum(ld, v, "run_queues", run_queue_names, &e) > 0)
        mc->per_core_queues = e == 1;
    if (gs__scen_get_enum(ld, v, "placement", placement_names, &e) > 0)
        mc->keep_core = e == 1;
    gs__scen_get_bool(ld, v, "behind_new_thread", &mc->behind_new_thread);
    gs__scen_get_bool(ld, v, "sis_util", &mc->sis_util);
    gs__scen_get_bool(ld, v, "one_cpu_pick", &mc->one_cpu_pick);
    if (gs__scen_get_enum(ld, v, "timer_wake", timer_wake_names, &e) > 0)
        mc->timer_wake_local = e == 1;
    if (gs__scen_get_enum(ld, v, "balance", balance_names, &e) > 0)
        mc->busy_balance = e == 1;
    gs__scen_get_fixed(ld, v, "migration_cost", 0, &mc->migration_cost_ns);
    if (gs__scen_get_int(ld, v, "newidle_ratio", 0, 1024, &i) > 0)
        mc->newidle_ratio = (int)i;
    gs__scen_get_fixed(ld, v, "cfs_latency", 1, &mc->cfs_latency_ns);
    gs__scen_get_fixed(ld, v, "cfs_min_granularity", 1, &mc->cfs_min_granularity_ns);
    gs__scen_get_fixed(ld, v, "cfs_wakeup_granularity", 0, &mc->cfs_wakeup_granularity_ns);
    gs__scen_get_fixed(ld, v, "tick", 0, &mc->tick_ns);
    gs__scen_get_fixed(ld, v, "eevdf_slice", 1, &mc->eevdf_slice_ns);
    read_curve(ld, v, "wakeup_idle", "idle depth", "wake-up latency", &mc->n_wake_curve,
               mc->wake_idle_ns, mc->wake_latency_ns, false);
    read_curve(ld, v, "timer_late", "timer length", "lateness", &mc->n_timer_curve,
               mc->timer_len_ns, mc->timer_late_ns, false);
    read_curve(ld, v, "requester_first_idle", "idle depth", "chance", &mc->n_rf_curve,
               mc->rf_idle_ns, mc->rf_pct, true);
}

/* A number from lo to hi at key, in hundredths (1.3 -> 130) in *out; `what`: what is valid. */
static void get_hundredths(gs__scen_t *ld, const cJSON *obj, const char *key, double lo,
                           double hi, const char *what, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return;
    size_t mark = gs__scen_push_key(ld, key);
    char got[64];
    gs__scen_describe(v, got, sizeof got);
    if (!cJSON_IsNumber(v) || !(v->valuedouble >= lo && v->valuedouble <= hi))
        gs__scen_err(ld, "must be %s, got %s", what, got);
    else
        *out = (int)lround(v->valuedouble * 100.0);
    gs__scen_pop(ld, mark);
}

/* python.version: a preset name, as a string ("3.10") or, where that reads
 * the same, a number (2.7). Fills py from the preset; false if invalid. */
static bool read_version(gs__scen_t *ld, const cJSON *v, gs_python_t *py)
{
    size_t mark = gs__scen_push_key(ld, "version");
    char name[32] = "";
    bool ok = false;
    if (cJSON_IsString(v))
        snprintf(name, sizeof name, "%s", v->valuestring);
    else if (cJSON_IsNumber(v))
        snprintf(name, sizeof name, "%g", v->valuedouble);
    if (name[0] && gs_python_preset(name, py) == 0) {
        ok = true;
    } else if (cJSON_IsNumber(v) && strcmp(name, "3.1") == 0) {
        gs__scen_err(ld, "3.1 is not a preset (3.1 had the old GIL); for 3.10 write it as a "
                         "string, \"3.10\" (on the command line: --set "
                         "'python.version=\"3.10\"')");
    } else {
        char got[64];
        if (cJSON_IsNumber(v))
            snprintf(got, sizeof got, "%s", name);
        else if (cJSON_IsString(v))
            snprintf(got, sizeof got, "\"%.40s\"", v->valuestring);
        else
            gs__scen_describe(v, got, sizeof got);
        gs__scen_err(ld, "unknown version %s; expected one of %s", got,
                     gs_python_preset_names());
    }
    gs__scen_pop(ld, mark);
    return ok;
}

/* Applies the keys present in v onto py (a copy of the defaults or of the
 * top-level python). A version starts from its preset (dropping what the
 * top level set); the other keys win over it. */
static void read_python(gs__scen_t *ld, const cJSON *v, gs_python_t *py)
{
    if (!gs__scen_expect_object(ld, v, "{\"version\": \"3.12\", \"switch_interval\": \"5ms\"}"))
        return;
    gs__scen_check_keys(ld, v, python_keys);
    int e;
    int64_t i;
    const cJSON *ver = cJSON_GetObjectItemCaseSensitive(v, "version");
    if (ver)
        read_version(ld, ver, py);
    if (gs__scen_get_enum(ld, v, "gil", gil_names, &e) > 0)
        py->gil = (gs_gil_kind_t)e;
    gs__scen_get_fixed(ld, v, "switch_interval", 1, &py->switch_interval_ns);
    if (gs__scen_get_enum(ld, v, "waker", waker_names, &e) > 0)
        py->waker = (gs_waker_t)e;
    if (gs__scen_get_int(ld, v, "check_interval", 1, 1000000, &i) > 0)
        py->check_interval = (int)i;
    gs__scen_get_fixed(ld, v, "tick", 1, &py->tick_ns);
    gs__scen_get_fixed(ld, v, "futex", 0, &py->futex_ns);
    gs__scen_get_fixed(ld, v, "refcount", 0, &py->refcount_ns);
    gs__scen_get_fixed(ld, v, "pymutex_hold", 0, &py->pymutex_hold_ns);
    gs__scen_get_fixed(ld, v, "pymutex_park", 0, &py->pymutex_park_ns);
    gs__scen_get_bool(ld, v, "exit_posts_early", &py->exit_posts_early);
    gs__scen_get_bool(ld, v, "gil_mutex_all", &py->gil_mutex_all);
    gs__scen_get_fixed(ld, v, "exit_tail", 0, &py->exit_tail_ns);
    gs__scen_get_fixed(ld, v, "stop_the_world", 0, &py->stw_ns);
    if (gs__scen_get_int(ld, v, "PYTHON_GIL", 0, 1, &i) > 0) {
        if (i == 0 && py->version > 0 && !py->free_threaded) {
            size_t mark = gs__scen_push_key(ld, "PYTHON_GIL");
            char buf[16];
            gs__scen_err(ld, "0 needs a free-threaded build (CPython %s says \"Disabling the "
                             "GIL is not supported by this build\"); pick a version such as "
                             "\"3.14t\"",
                         gs_python_version_name(py, buf, sizeof buf));
            gs__scen_pop(ld, mark);
        }
        py->python_gil = (int)i;
        if (i == 1 && py->gil == GS_GIL_NONE)
            py->gil = GS_GIL_CPYTHON3; /* the same binary with its GIL on */
    }
    gs__scen_get_fixed(ld, v, "thread_create", 0, &py->thread_create_ns);
    gs__scen_get_fixed(ld, v, "thread_bootstrap", 0, &py->thread_boot_ns);
    gs__scen_get_fixed(ld, v, "interpreter_create", 0, &py->interp_create_ns);
    gs__scen_get_fixed(ld, v, "pickle_per_kb", 0, &py->pickle_ns_per_kb);
    gs__scen_get_fixed(ld, v, "unpickle_per_kb", 0, &py->unpickle_ns_per_kb);
    const cJSON *steal = cJSON_GetObjectItemCaseSensitive(v, "signal_steal");
    if (steal) {
        size_t mark = gs__scen_push_key(ld, "signal_steal");
        gs__scen_err(ld, "\"signal_steal\" is retired: which waiter gets the GIL now follows "
                         "glibc's condition variable (docs/model.md); remove the key, and set "
                         "machine.futex to change how long a waiter takes to go to sleep");
        gs__scen_pop(ld, mark);
    }
    get_hundredths(ld, v, "slowdown", 1.0, 100.0,
                   "a number from 1 to 100 (1.3 = Python runs 30% slower than with a GIL)",
                   &py->slowdown_pct);
}

/* ---- locks, events, queues ---------------------------------------------- */

static bool check_items(gs__scen_t *ld, const cJSON *v)
{
    int n = cJSON_GetArraySize(v);
    if (n <= GS_SCEN_MAX_ITEMS)
        return true;
    gs__scen_err(ld, "has %d entries; at most %d are allowed", n, GS_SCEN_MAX_ITEMS);
    return false;
}

static void read_name_list(gs__scen_t *ld, const cJSON *root, const char *key, int kind)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, key);
    if (!v)
        return;
    size_t mark = gs__scen_push_key(ld, key);
    if (!gs__scen_expect_array(ld, v, "[\"db\", \"cache\"]") || !check_items(ld, v))
        goto done;
    int i = 0;
    for (const cJSON *c = v->child; c; c = c->next, i++) {
        size_t m2 = gs__scen_push_index(ld, i);
        if (gs__scen_check_name(ld, c)) {
            gs__names_t *t = kind == 2 ? &ld->events : &ld->locks;
            if (gs__names_get(t, c->valuestring) >= 0) {
                gs__scen_err(ld, "\"%s\" is declared twice%s", c->valuestring,
                             kind == 2 ? "" : " (locks and rlocks share one set of names)");
            } else {
                int idx = kind == 2 ? gs_model_add_event(ld->m, c->valuestring)
                                    : gs_model_add_lock(ld->m, c->valuestring, kind == 1);
                if (idx < 0)
                    ld->nomem = true;
                else if (gs__names_put(t, kind == 2 ? ld->m->events[idx].name
                                                    : ld->m->locks[idx].name,
                                       idx) < 0)
                    ld->nomem = true;
            }
        }
        gs__scen_pop(ld, m2);
    }
done:
    gs__scen_pop(ld, mark);
}

static void read_queues(gs__scen_t *ld, const cJSON *root)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "queues");
    if (!v)
        return;
    size_t mark = gs__scen_push_key(ld, "queues");
    if (!gs__scen_expect_object(ld, v, "{\"jobs\": {\"maxsize\": 4}}") || !check_items(ld, v))
        goto done;
    for (const cJSON *c = v->child; c; c = c->next) {
        size_t m2 = gs__scen_push_key(ld, c->string);
        cJSON key = {.type = cJSON_String, .valuestring = c->string};
        int64_t maxsize = 0, initial = 0;
        if (!gs__scen_check_name(ld, &key))
            goto next;
        if (gs__names_get(&ld->queues, c->string) >= 0) {
            gs__scen_err(ld, "queue \"%s\" is declared twice", c->string);
            goto next;
        }
        if (!gs__scen_expect_object(ld, c, "{\"maxsize\": 4, \"initial\": 0}"))
            goto next;
        gs__scen_check_keys(ld, c, queue_keys);
        gs__scen_get_int(ld, c, "maxsize", 0, 1000000000, &maxsize);
        if (gs__scen_get_int(ld, c, "initial", 0, 1000000000, &initial) > 0 && maxsize > 0 &&
            initial > maxsize) {
            size_t m3 = gs__scen_push_key(ld, "initial");
            gs__scen_err(ld, "%lld items do not fit in a queue of maxsize %lld",
                         (long long)initial, (long long)maxsize);
            gs__scen_pop(ld, m3);
        }
        int idx = gs_model_add_queue(ld->m, c->string, (int)maxsize);
        if (idx < 0 || gs__names_put(&ld->queues, ld->m->queues[idx].name, idx) < 0) {
            ld->nomem = true;
            goto next;
        }
        ld->m->queues[idx].initial = (int)initial;
        gs__scen_get_fixed(ld, c, "put", 0, &ld->m->queues[idx].put_ns);
        gs__scen_get_fixed(ld, c, "get", 0, &ld->m->queues[idx].get_ns);
        gs__scen_get_fixed(ld, c, "recheck", 0, &ld->m->queues[idx].recheck_ns);
        if (ld->m->queues[idx].recheck_ns > 0 &&
            (ld->m->queues[idx].put_ns > 0 || ld->m->queues[idx].get_ns > 0)) {
            size_t m3 = gs__scen_push_key(ld, "recheck");
            gs__scen_err(ld, "a queue with \"put\" or \"get\" re-checks inside that Python; "
                             "\"recheck\" is for a queue without them");
            gs__scen_pop(ld, m3);
        }
    next:
        gs__scen_pop(ld, m2);
    }
done:
    gs__scen_pop(ld, mark);
}

/* ---- processes ---------------------------------------------- */

static void read_processes(gs__scen_t *ld, const cJSON *arr, const gs_python_t *top)
{
    size_t mark = gs__scen_push_key(ld, "processes");
    if (!gs__scen_expect_array(ld, arr, "[{\"name\": \"worker\", \"threads\": [...]}]"))
        goto done;
    int i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        size_t m2 = gs__scen_push_index(ld, i);
        if (!gs__scen_expect_object(ld, c, "{\"name\": \"worker\", \"threads\": [...]}"))
            goto next;
        gs__scen_check_keys(ld, c, process_keys);
        gs_python_t py = *top;
        int64_t start_at = 0, create = GS_SCEN_PROCESS_CREATE_NS;
        const cJSON *pv = cJSON_GetObjectItemCaseSensitive(c, "python");
        if (pv) {
            size_t m3 = gs__scen_push_key(ld, "python");
            read_python(ld, pv, &py);
            gs__scen_pop(ld, m3);
        }
        gs__scen_get_fixed(ld, c, "start_at", 0, &start_at);
        gs__scen_get_fixed(ld, c, "create", 0, &create);
        const cJSON *nm = cJSON_GetObjectItemCaseSensitive(c, "name");
        if (!nm) {
            gs__scen_err(ld, "missing \"name\"");
            goto next;
        }
        size_t m3 = gs__scen_push_key(ld, "name");
        bool nm_ok = gs__scen_check_name(ld, nm);
        if (nm_ok && gs__names_get(&ld->procs, nm->valuestring) >= 0) {
            gs__scen_err(ld, "a process named \"%s\" is already declared%s", nm->valuestring,
                         strcmp(nm->valuestring, "main") == 0
                             ? " (\"main\" holds the top-level threads)"
                             : "");
            nm_ok = false;
        }
        gs__scen_pop(ld, m3);
        if (!nm_ok)
            goto next;
        int p = gs_model_add_process(ld->m, nm->valuestring, &py);
        if (p < 0 || gs__names_put(&ld->procs, ld->m->processes[p].name, p) < 0) {
            ld->nomem = true;
            goto next;
        }
        ld->m->processes[p].start_at_ns = start_at;
        ld->m->processes[p].create_ns = create;
        ld->m->processes[p].cpus = ld->m->processes[0].cpus; /* inherited */
        gs__scen_read_cpus(ld, c, &ld->m->processes[p].cpus);
        gs__scen_declare_threads(ld, c, p);
    next:
        gs__scen_pop(ld, m2);
    }
done:
    gs__scen_pop(ld, mark);
}

/* ---- annotations and the top level -------------------------------------- */

static void read_annotations(gs__scen_t *ld, const cJSON *arr)
{
    size_t mark = gs__scen_push_key(ld, "annotations");
    if (!gs__scen_expect_array(ld, arr, "[{\"at\": \"20ms\", \"text\": \"look here\"}]") ||
        !check_items(ld, arr))
        goto done;
    int i = 0;
    for (const cJSON *c = arr->child; c; c = c->next, i++) {
        size_t m2 = gs__scen_push_index(ld, i);
        if (gs__scen_expect_object(ld, c, "{\"at\": \"20ms\", \"text\": \"look here\"}")) {
            gs__scen_check_keys(ld, c, annotation_keys);
            int64_t at = 0;
            const char *text = NULL;
            int ra = gs__scen_get_fixed(ld, c, "at", 0, &at);
            int rt = gs__scen_get_string(ld, c, "text", GS_SCEN_MAX_TEXT, &text);
            if (ra == 0)
                gs__scen_err(ld, "missing \"at\": when, e.g. \"20ms\"");
            if (rt == 0)
                gs__scen_err(ld, "missing \"text\"");
            if (ra > 0 && rt > 0 && gs_model_add_annotation(ld->m, at, text) < 0)
                ld->nomem = true;
        }
        gs__scen_pop(ld, m2);
    }
done:
    gs__scen_pop(ld, mark);
}

static void read_top(gs__scen_t *ld, const cJSON *root, gs_python_t *py)
{
    gs_model_t *m = ld->m;
    const char *s;
    int64_t i;
    if (gs__scen_get_string(ld, root, "name", GS_SCEN_MAX_TITLE, &s) > 0)
        m->name = dup_str(ld, s);
    if (gs__scen_get_string(ld, root, "description", GS_SCEN_MAX_DESCRIPTION, &s) > 0)
        m->description = dup_str(ld, s);
    if (gs__scen_get_int(ld, root, "seed", 0, INT64_C(9007199254740992), &i) > 0)
        m->seed = (uint64_t)i;
    gs__scen_get_fixed(ld, root, "until", 1, &m->until_ns);
    gs__scen_get_fixed(ld, root, "open_at", 0, &m->open_at_ns);
    gs__scen_get_int(ld, root, "max_events", 1, INT64_C(1000000000000), &m->max_events);
    const cJSON *v;
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "machine"))) {
        size_t mark = gs__scen_push_key(ld, "machine");
        read_machine(ld, v, &m->machine);
        gs__scen_pop(ld, mark);
    }
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "python"))) {
        size_t mark = gs__scen_push_key(ld, "python");
        read_python(ld, v, py);
        gs__scen_pop(ld, mark);
    }
    m->processes[0].python = *py;
}

void gs__scen_build(gs__scen_t *ld, const cJSON *root)
{
    gs_model_t *m = ld->m;
    if (!cJSON_IsObject(root)) {
        char got[64];
        gs__scen_describe(root, got, sizeof got);
        gs__scen_err(ld, "a scenario is a JSON object like {\"threads\": [{\"name\": \"t\", "
                         "\"program\": [{\"cpu\": \"5ms\"}]}]}, got %s",
                     got);
        return;
    }
    gs__scen_check_keys(ld, root, top_keys);
    const char *ignored;
    gs__scen_get_string(ld, root, "$schema", 4096, &ignored); /* for editors */
    gs_python_t py = m->processes[0].python;
    read_top(ld, root, &py);
    gs__scen_read_cpus(ld, root, &m->processes[0].cpus); /* the program's */
    if (gs__names_put(&ld->procs, m->processes[0].name, 0) < 0)
        ld->nomem = true;
    read_name_list(ld, root, "locks", 0);
    read_name_list(ld, root, "rlocks", 1);
    read_name_list(ld, root, "events", 2);
    read_queues(ld, root);
    gs__scen_read_objects(ld, root);

    ld->decls = calloc((size_t)gs__scen_count_decls(root) + 1, sizeof *ld->decls);
    if (!ld->decls) {
        ld->nomem = true;
        return;
    }
    gs__scen_declare_threads(ld, root, 0);
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "processes");
    if (v)
        read_processes(ld, v, &py);
    if (m->n_threads == 0 && ld->diag->n_total == 0)
        gs__scen_err(ld, "no threads: add \"threads\": [{\"name\": \"main\", \"program\": "
                         "[{\"cpu\": \"10ms\"}]}]");

    ld->started = calloc((size_t)m->n_threads + 1, sizeof *ld->started);
    if (!ld->started) {
        ld->nomem = true;
        return;
    }
    gs__scen_read_programs(ld);
    if ((v = cJSON_GetObjectItemCaseSensitive(root, "annotations")))
        read_annotations(ld, v);
}
