/* recfile.c - gsr_recording_read: a recording file as plain data.
 *
 * The fitter needs the events themselves (which release was forced, which
 * span held which release), not the states gs_recording_load derives from
 * them; this keeps them, after the same parse and the same checks
 * (gsr_parse_file). Span names are interned: a recording of a loop repeats a
 * handful of names thousands of times. */
#include "recfile_int.h"

#include "gilsim/units.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int gsr_bad(gs_error_t *err, int code, const char *path, const char *fmt, ...)
{
    err->code = code;
    snprintf(err->path, sizeof err->path, "%s", path ? path : "");
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    return code;
}

static char *dup_or_empty(const char *s)
{
    return strdup(s ? s : "");
}

static const char *intern(gsr_recording_t *r, const char *s)
{
    for (int i = 0; i < r->n_names; i++)
        if (strcmp(r->names[i], s) == 0)
            return r->names[i];
    if (r->n_names == r->cap_names) {
        int nc = r->cap_names ? r->cap_names * 2 : 16;
        char **nn = realloc(r->names, (size_t)nc * sizeof *nn);
        if (!nn)
            return NULL;
        r->names = nn;
        r->cap_names = nc;
    }
    char *d = strdup(s);
    if (!d)
        return NULL;
    r->names[r->n_names++] = d;
    return d;
}

static int num(const cJSON *a, int i, int64_t *out)
{
    const cJSON *v = cJSON_GetArrayItem(a, i);
    if (!cJSON_IsNumber(v))
        return -1;
    *out = (int64_t)v->valuedouble;
    return 0;
}

static const char *const kinds[] = {"start", "end", "ask", "hold", "release", "drop_request",
                                    "timeout", "woken", "futile_wakeup", "signal",
                                    "switch_wait", "switch_done", "call", "wait", "lock_wait",
                                    "py", "lock_post", NULL};
static const char *const whys[] = {"", "forced", "call", "exit", "unnamed", NULL};
static const char *const cats[] = {"c", "sleep", "io", "lock", "event", "queue", "join",
                                   "c_nogil", NULL};

/* An object's address at item i of event e: a whole number from 0 to
 * 2^53 (exact in a double), else 0, unknown. */
static uint64_t obj_at(const cJSON *e, int i)
{
    const cJSON *v = cJSON_GetArrayItem(e, i);
    return cJSON_IsNumber(v) && v->valuedouble >= 0 && v->valuedouble < 9007199254740992.0
               ? (uint64_t)v->valuedouble
               : 0;
}

/* Where an event of kind k writes its CPU (its last item, docs/recording.md),
 * or -1 for the kinds that have none. */
static int cpu_item(int k)
{
    switch (k) {
    case GSR_RELEASE: case GSR_SIGNAL: case GSR_LOCK_POST: return 3;
    case GSR_LOCK_WAIT: return 4;
    case GSR_WAIT: return 6;
    case GSR_CALL: case GSR_PY: case GSR_OTHER: return -1;
    default: return 2; /* start, end, ask, hold, drop_request, timeout, woken... */
    }
}

#define GSR_CPU_LIMIT 65536 /* above Linux's NR_CPUS (8192 at most) */

/* The CPU of event e (kind v->kind) into v->cpu: -1 when not written. 0, or
 * -1 when it is written but is not a whole number from 0 to 65535. */
static int read_cpu(const cJSON *e, gsr_event_t *v)
{
    int i = cpu_item(v->kind);
    const cJSON *c = i < 0 ? NULL : cJSON_GetArrayItem(e, i);
    v->cpu = -1;
    if (!c)
        return 0;
    if (!cJSON_IsNumber(c) || c->valuedouble < 0 || c->valuedouble >= GSR_CPU_LIMIT ||
        c->valuedouble != (double)(int32_t)c->valuedouble)
        return -1;
    v->cpu = (int32_t)c->valuedouble;
    return 0;
}

static int index_of(const char *const *tab, const char *s)
{
    for (int i = 0; s && tab[i]; i++)
        if (strcmp(tab[i], s) == 0)
            return i;
    return -1;
}

/* One event array into th->ev. */
static int read_events(gsr_recording_t *r, gsr_thread_t *th, const cJSON *evs, const char *tpath,
                       gs_error_t *err)
{
    int n = cJSON_GetArraySize(evs);
    th->ev = calloc((size_t)n + 1, sizeof *th->ev);
    if (!th->ev)
        return gsr_bad(err, GS_ENOMEM, tpath, "out of memory");
    char path[128];
    const cJSON *e;
    int i = -1;
    cJSON_ArrayForEach(e, evs) { /* cJSON arrays are lists: never index them */
        i++;
        snprintf(path, sizeof path, "%s.events[%d]", tpath, i);
        gsr_event_t *v = &th->ev[th->n_ev];
        const char *kind = cJSON_GetStringValue(cJSON_GetArrayItem(e, 1));
        if (!cJSON_IsArray(e) || num(e, 0, &v->t) != 0 || !kind || v->t < 0 ||
            v->t > GS_MAX_DURATION_NS)
            return gsr_bad(err, GS_ESCENARIO, path,
                       "expected [time_ns, kind, ...] with time_ns from 0 to one day "
                       "(86400000000000) and kind a string");
        int k = index_of(kinds, kind);
        v->kind = (uint8_t)(k < 0 ? GSR_OTHER : k);
        v->t1 = v->t;
        v->arg = -1;
        v->released = true;
        if (v->kind == GSR_RELEASE) {
            int w = index_of(whys, cJSON_GetStringValue(cJSON_GetArrayItem(e, 2)));
            v->why = (uint8_t)(w < 0 ? GSR_WHY_UNNAMED : w);
        } else if (v->kind == GSR_SIGNAL) {
            int64_t who = -1;
            num(e, 2, &who);
            v->arg = who >= 0 && who < r->n_threads ? (int32_t)who : -1;
        } else if (v->kind == GSR_LOCK_POST) {
            v->obj = obj_at(e, 2);
        } else if (v->kind >= GSR_CALL && v->kind <= GSR_PY) {
            bool named = v->kind == GSR_CALL || v->kind == GSR_WAIT;
            const char *name = named ? cJSON_GetStringValue(cJSON_GetArrayItem(e, 3)) : "";
            int cat = named ? index_of(cats, cJSON_GetStringValue(cJSON_GetArrayItem(e, 4)))
                            : GSR_CAT_LOCK;
            if (num(e, 2, &v->t1) != 0 || v->t1 < v->t || v->t1 > GS_MAX_DURATION_NS || !name ||
                cat < 0)
                return gsr_bad(err, GS_ESCENARIO, path,
                           "a span is [start_ns, \"call\"|\"wait\", end_ns, name, category"
                           "(, released)] with end_ns >= start_ns and category one of c, "
                           "sleep, io, lock, event, queue, join, c_nogil; or [start_ns, "
                           "\"lock_wait\" or \"py\", end_ns]");
            v->cat = (uint8_t)cat;
            if (named && !(v->name = intern(r, name)))
                return gsr_bad(err, GS_ENOMEM, path, "out of memory");
            const cJSON *rel = cJSON_GetArrayItem(e, 5);
            if (v->kind == GSR_CALL && cJSON_IsBool(rel))
                v->released = cJSON_IsTrue(rel);
            v->obj = obj_at(e, v->kind == GSR_CALL ? 6 : v->kind == GSR_WAIT ? 5 : 3);
            const cJSON *polls = cJSON_GetArrayItem(e, 7); /* a poll's first True: */
            if (v->kind == GSR_CALL && cJSON_IsNumber(polls) && polls->valuedouble >= 0)
                v->arg = polls->valuedouble < INT32_MAX ? (int32_t)polls->valuedouble
                                                        : INT32_MAX; /* its False polls */
        }
        if (read_cpu(e, v) != 0)
            return gsr_bad(err, GS_ESCENARIO, path,
                           "item %d of a \"%s\" event is the CPU it ran on: expected a "
                           "whole number from 0 to %d",
                           cpu_item(v->kind), kind, GSR_CPU_LIMIT - 1);
        r->has_cpu = r->has_cpu || v->cpu >= 0;
        th->n_ev++;
    }
    return 0;
}

/* o's number `key` in ns when it is at least min, else dflt. */
static int64_t ns_at(const cJSON *o, const char *key, int64_t min, int64_t dflt)
{
    const cJSON *v = cJSON_GetObjectItem(o, key);
    return cJSON_IsNumber(v) && v->valuedouble >= (double)min ? (int64_t)v->valuedouble : dflt;
}

/* calibration.wake_idle_ns: [[idle depth, latency], ...] in ns, up to
 * GS_WAKE_CURVE_MAX pairs, depths growing, each from 0 to 1 s (recordings
 * before it have none: n_cal_wake_idle stays 0). 0, or GS_ESCENARIO naming
 * the pair that is wrong and what would be valid. */
static int read_wake_idle(gsr_recording_t *r, const cJSON *cal, gs_error_t *err)
{
    const cJSON *curve = cJSON_GetObjectItem(cal, "wake_idle_ns"), *pt;
    if (!curve)
        return 0;
    int n = cJSON_GetArraySize(curve), k = 0;
    if (!cJSON_IsArray(curve) || n < 1 || n > GS_WAKE_CURVE_MAX)
        return gsr_bad(err, GS_ESCENARIO, "calibration.wake_idle_ns",
                       "expected 1 to %d [idle depth, latency] pairs in ns", GS_WAKE_CURVE_MAX);
    cJSON_ArrayForEach(pt, curve) {
        int64_t d, l;
        char path[64];
        snprintf(path, sizeof path, "calibration.wake_idle_ns[%d]", k);
        if (!cJSON_IsArray(pt) || cJSON_GetArraySize(pt) != 2 || num(pt, 0, &d) || num(pt, 1, &l) ||
            d < 0 || l < 0 || d > 1000000000 || l > 1000000000)
            return gsr_bad(err, GS_ESCENARIO, path,
                           "expected [idle depth, latency]: two whole numbers of ns, 0 to 1 s");
        if (k > 0 && d <= r->cal_wake_idle_depth_ns[k - 1])
            return gsr_bad(err, GS_ESCENARIO, path,
                           "idle depth %lld ns: the depths must grow from one pair to the next",
                           (long long)d);
        r->cal_wake_idle_depth_ns[k] = d;
        r->cal_wake_idle_ns[k++] = l;
    }
    r->n_cal_wake_idle = k;
    return 0;
}

/* calibration.timer_arm_ns: what arming a timer that is its CPU's first
 * costs, 0 to under 1 ms (absent: not measured, cal_timer_arm_ns stays -1).
 * 0, or GS_ESCENARIO naming the key and what would be valid. */
static int read_timer_arm(gsr_recording_t *r, const cJSON *cal, gs_error_t *err)
{
    const cJSON *v = cJSON_GetObjectItem(cal, "timer_arm_ns");
    r->cal_timer_arm_ns = -1;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble >= 1e6 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return gsr_bad(err, GS_ESCENARIO, "calibration.timer_arm_ns",
                       "expected a whole number of ns from 0 to under 1 ms (1000000): what "
                       "arming a timer that is its CPU's first costs, a few us");
    r->cal_timer_arm_ns = (int64_t)v->valuedouble;
    return 0;
}

/* calibration.eevdf_slice_ns: the kernel's EEVDF base slice, read by the
 * recorder (calibrate.c), 1 us to 1 s (absent: not readable there,
 * cal_eevdf_slice_ns stays 0). 0, or GS_ESCENARIO naming the key and what
 * would be valid. */
static int read_eevdf_slice(gsr_recording_t *r, const cJSON *cal, gs_error_t *err)
{
    const cJSON *v = cJSON_GetObjectItem(cal, "eevdf_slice_ns");
    r->cal_eevdf_slice_ns = 0;
    if (!v)
        return 0;
    if (!cJSON_IsNumber(v) || v->valuedouble < 1e3 || v->valuedouble > 1e9 ||
        v->valuedouble != (double)(int64_t)v->valuedouble)
        return gsr_bad(err, GS_ESCENARIO, "calibration.eevdf_slice_ns",
                       "expected a whole number of ns from 1 us (1000) to 1 s: the kernel's "
                       "EEVDF base slice (Linux's default: 0.75 ms times 1 + log2 of the "
                       "CPUs up to 8, 750000 to 3000000)");
    r->cal_eevdf_slice_ns = (int64_t)v->valuedouble;
    return 0;
}

static int read_header(gsr_recording_t *r, const cJSON *root)
{
    r->partial = cJSON_IsTrue(cJSON_GetObjectItem(root, "partial"));
    r->partial_reason = dup_or_empty(cJSON_GetStringValue(cJSON_GetObjectItem(root,
                                                                               "partial_reason")));
    r->recorded_at = dup_or_empty(cJSON_GetStringValue(cJSON_GetObjectItem(root, "recorded_at")));
    const cJSON *cmd = cJSON_GetObjectItem(root, "command"), *c;
    size_t n = 1;
    cJSON_ArrayForEach(c, cmd) if (cJSON_IsString(c)) n += strlen(c->valuestring) + 1;
    r->command = calloc(n, 1);
    const char *script = NULL;
    int i = 0;
    bool module = false;
    cJSON_ArrayForEach(c, cmd) {
        if (!cJSON_IsString(c) || !r->command)
            continue;
        if (*r->command)
            strcat(r->command, " ");
        strcat(r->command, c->valuestring);
        if (i == 1 && strcmp(c->valuestring, "-m") == 0)
            module = true;
        else if ((i == 1 && !module) || (i == 2 && module && !script))
            script = c->valuestring;
        i++;
    }
    const char *b = script ? strrchr(script, '/') : NULL;
    r->script = dup_or_empty(b ? b + 1 : script);
    const cJSON *in = cJSON_GetObjectItem(root, "interpreter");
    r->executable = dup_or_empty(cJSON_GetStringValue(cJSON_GetObjectItem(in, "executable")));
    r->full_version = dup_or_empty(cJSON_GetStringValue(cJSON_GetObjectItem(in, "full")));
    const cJSON *ver = cJSON_GetObjectItem(in, "version");
    if (cJSON_GetArraySize(ver) >= 2) {
        r->py_major = cJSON_GetArrayItem(ver, 0)->valueint;
        r->py_minor = cJSON_GetArrayItem(ver, 1)->valueint;
    }
    r->gil_disabled = cJSON_IsTrue(cJSON_GetObjectItem(in, "gil_disabled"));
    const cJSON *v;
#define INT_KEY(obj, key, field)                                                            \
    if (cJSON_IsNumber(v = cJSON_GetObjectItem(obj, key)))                                  \
        field = v->valueint;
    INT_KEY(root, "exit_status", r->exit_status)
    INT_KEY(root, "exit_signal", r->exit_signal)
    INT_KEY(root, "threads_not_from_threading", r->threads_not_from_threading)
    INT_KEY(root, "forks", r->forks)
    INT_KEY(root, "child_processes", r->child_processes)
    INT_KEY(cJSON_GetObjectItem(root, "host"), "cores", r->cores)
    INT_KEY(cJSON_GetObjectItem(root, "host"), "cores_online", r->cores_online)
#undef INT_KEY
    r->switch_interval_ns = ns_at(root, "switch_interval_ns", 1, r->switch_interval_ns);
    r->duration_ns = ns_at(root, "duration_ns", 1, r->duration_ns);
    r->others_cpu_ns = ns_at(root, "others_cpu_ns", 0, -1);
    const cJSON *cal = cJSON_GetObjectItem(root, "calibration");
    if (cJSON_IsObject(cal)) {
        static const char *const keys[] = {"syscall_ns", "wake_hot_ns", "context_switch_ns",
                                           "wake_cold_ns", "timer_jitter_ns"};
        int64_t *fields[] = {&r->cal_syscall_ns, &r->cal_wake_hot_ns, &r->cal_context_switch_ns,
                             &r->cal_wake_cold_ns, &r->cal_timer_jitter_ns};
        r->has_calibration = true;
        for (int k = 0; k < 5; k++) {
            v = cJSON_GetObjectItem(cal, keys[k]);
            if (!cJSON_IsNumber(v) || v->valuedouble < 0 || v->valuedouble > 1e9)
                r->has_calibration = false; /* all five, each from 0 to 1 s, or none */
            else
                *fields[k] = (int64_t)v->valuedouble;
        }
    }
    const char *calls = cJSON_GetStringValue(cJSON_GetObjectItem(root, "calls"));
    r->calls_all = calls && strcmp(calls, "all") == 0;
    const cJSON *notes = cJSON_GetObjectItem(root, "notes");
    r->notes = calloc((size_t)cJSON_GetArraySize(notes) + 1, sizeof *r->notes);
    if (!r->notes)
        return -1;
    cJSON_ArrayForEach(c, notes) if (cJSON_IsString(c) &&
                                     (r->notes[r->n_notes] = strdup(c->valuestring)))
        r->n_notes++;
    return r->partial_reason && r->recorded_at && r->command && r->script && r->executable &&
                   r->full_version
               ? 0
               : -1;
}

int gsr_recording_read(const char *path, gsr_recording_t **out, gs_error_t *err)
{
    *out = NULL;
    cJSON *root = NULL;
    int rc = gsr_parse_file(path, &root, err);
    if (rc)
        return rc;
    gsr_recording_t *r = calloc(1, sizeof *r);
    const cJSON *threads = cJSON_GetObjectItem(root, "threads");
    int nt = cJSON_GetArraySize(threads);
    if (!r || !(r->path = strdup(path)) || read_header(r, root) != 0 ||
        !(r->threads = calloc((size_t)nt, sizeof *r->threads))) {
        rc = gsr_bad(err, GS_ENOMEM, NULL, "out of memory");
        goto out;
    }
    r->cal_timer_arm_ns = -1;
    if (r->has_calibration &&
        ((rc = read_wake_idle(r, cJSON_GetObjectItem(root, "calibration"), err)) != 0 ||
         (rc = read_timer_arm(r, cJSON_GetObjectItem(root, "calibration"), err)) != 0 ||
         (rc = read_eevdf_slice(r, cJSON_GetObjectItem(root, "calibration"), err)) != 0))
        goto out;
    r->n_threads = nt;
    const cJSON *th;
    int i = -1;
    cJSON_ArrayForEach(th, threads) {
        i++;
        char tpath[64];
        snprintf(tpath, sizeof tpath, "threads[%d]", i);
        const char *name = cJSON_GetStringValue(cJSON_GetObjectItem(th, "name"));
        const cJSON *evs = cJSON_GetObjectItem(th, "events");
        if (!name || !cJSON_IsArray(evs)) {
            rc = gsr_bad(err, GS_ESCENARIO, tpath,
                     "a thread needs \"name\" (string) and \"events\" (array)");
            goto out;
        }
        gsr_thread_t *t = &r->threads[i];
        const cJSON *tid = cJSON_GetObjectItem(th, "tid");
        t->tid = cJSON_IsNumber(tid) ? (int64_t)tid->valuedouble : 0;
        t->from_threading = !cJSON_IsFalse(cJSON_GetObjectItem(th, "from_threading"));
        const cJSON *cpu = cJSON_GetObjectItem(th, "os_cpu_ns");
        const cJSON *delay = cJSON_GetObjectItem(th, "os_run_delay_ns");
        t->os_cpu_ns = cJSON_IsNumber(cpu) && cpu->valuedouble >= 0 ? (int64_t)cpu->valuedouble : -1;
        t->os_run_delay_ns =
            cJSON_IsNumber(delay) && delay->valuedouble >= 0 ? (int64_t)delay->valuedouble : -1;
        if (!(t->name = strdup(name))) {
            rc = gsr_bad(err, GS_ENOMEM, NULL, "out of memory");
            goto out;
        }
        if ((rc = read_events(r, t, evs, tpath, err)) != 0)
            goto out;
    }
out:
    cJSON_Delete(root);
    if (rc) {
        gsr_recording_free(r);
        return rc;
    }
    *out = r;
    return 0;
}

void gsr_recording_free(gsr_recording_t *r)
{
    if (!r)
        return;
    for (int i = 0; i < r->n_threads; i++) {
        free(r->threads[i].name);
        free(r->threads[i].ev);
    }
    free(r->threads);
    for (int i = 0; i < r->n_notes; i++)
        free(r->notes[i]);
    free(r->notes);
    for (int i = 0; i < r->n_names; i++)
        free(r->names[i]);
    free(r->names);
    free(r->path);
    free(r->partial_reason);
    free(r->recorded_at);
    free(r->command);
    free(r->script);
    free(r->executable);
    free(r->full_version);
    free(r);
}

size_t gsr_first_event_at(const gsr_thread_t *th, int64_t t)
{
    size_t lo = 0, hi = th->n_ev;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (th->ev[mid].t < t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
