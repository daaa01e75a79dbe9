/* writer.c - the recording file (docs/recording.md has its format), from
 * the spool read back.
 *
 * The file is written by hand, in a fixed order and layout, rather than
 * built as a cJSON tree: a recording holds millions of events, and the
 * same spool must always give the same bytes. What the raw events do not
 * say directly is derived here:
 *   - a release's reason (call, forced, exit, unnamed: release_reason),
 *   - which thread a signal of the GIL condition woke (signalled),
 *   - spans, from begin/end pairs that nest (open_span, close_span).
 * Times are nanoseconds since the probe registered (t0). The CPU an event
 * ran on, when the shim read it (spool.h, gsr_event_cpu), is the last item
 * of its array; a span has its end's (lock_wait, wait; not call or py). */
#include "recorder_int.h"
#include "record_int.h"

#include <sched.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>
#include <sys/utsname.h>
#include <unistd.h>

static const char *const cat_names[GSR_CAT_COUNT] = {"c",     "sleep", "io",   "lock",
                                                     "event", "queue", "join", "c_nogil"};

/* A JSON string. */
static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

void gsr_collect_requests(gsr_writer_t *w)
{
    const gsr_spool_t *s = w->s;
    size_t nreq = 0;
    for (uint32_t i = 0; i < s->n_th; i++)
        for (size_t k = 0; k < s->th[i].n; k++)
            nreq += s->th[i].ev[k].e.kind == GSR_EV_REQUEST;
    w->requests = malloc((nreq + 1) * sizeof *w->requests);
    if (!w->requests)
        return;
    for (uint32_t i = 0; i < s->n_th; i++)
        for (size_t k = 0; k < s->th[i].n; k++)
            if (s->th[i].ev[k].e.kind == GSR_EV_REQUEST)
                w->requests[w->n_requests++] = s->th[i].ev[k].e.t;
    qsort(w->requests, w->n_requests, sizeof *w->requests, cmp_i64);
}

/* ---- deriving what the raw events do not say ------------------------------ */

/* Which thread (index) is woken by a signal at t: the first GIL waiter
 * whose timed wait returns because of a signal after t. -1 if none. */
static int signalled(const gsr_writer_t *w, int64_t t, uint32_t self)
{
    int best = -1;
    int64_t best_t = INT64_MAX;
    for (uint32_t i = 0; i < w->s->n_th; i++) {
        if (i == self)
            continue;
        const gsr_rthread_t *th = &w->s->th[i];
        size_t lo = 0, hi = th->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (th->ev[mid].e.t <= t)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < th->n; k++) {
            int kind = th->ev[k].e.kind;
            if (kind == GSR_EV_WOKEN) {
                if (th->ev[k].e.t < best_t) {
                    best_t = th->ev[k].e.t;
                    best = (int)i;
                }
                break;
            }
            if (kind == GSR_EV_HOLD || kind == GSR_EV_REQUEST || kind == GSR_EV_TIMEOUT)
                break; /* it was not sleeping on the condition then */
        }
    }
    return best;
}

/* true if some thread made a drop request in (a, b). */
static bool request_between(const gsr_writer_t *w, int64_t a, int64_t b)
{
    size_t lo = gsr_first_after(w->requests, w->n_requests, a);
    return lo < w->n_requests && w->requests[lo] < b;
}

/* ---- one thread's events ---------------------------------------------------- */

#define MAX_OPEN 64 /* spans kept open per thread; deeper ones are counted only */

typedef struct open_span {
    int64_t t0;
    int kind; /* GSR_EV_CALL, GSR_EV_CTX, GSR_EV_SEM_WAIT, GSR_EV_PY */
    int cat;
    uint32_t name;
    uint64_t obj; /* the object's address, 0 if unknown */
    int64_t polls; /* a poll's first True: the False polls before it; -1 none */
} open_span_t;

/* Where the writing of one thread's events stands. */
typedef struct thread_out {
    FILE *f;
    const gsr_writer_t *w;
    uint32_t i;        /* the thread's index */
    bool first;        /* no event written yet (no comma before the next) */
    open_span_t stack[MAX_OPEN];
    int depth;         /* spans open, may exceed MAX_OPEN */
    int64_t hold_t;    /* when it last took the GIL, -1 before */
    size_t last_take;  /* its last ask or hold: releases after it are its last */
} thread_out_t;

/* Starts the next event of the array: a comma after the one before, a new
 * line, and the time. */
static void begin_event(thread_out_t *o, long long t)
{
    fprintf(o->f, "%s\n      [%lld, ", o->first ? "" : ",", t);
    o->first = false;
}

/* ", CPU" when cpu is known (the last item of an event's array). */
static void put_cpu(FILE *f, int cpu)
{
    if (cpu >= 0)
        fprintf(f, ", %d", cpu);
}

/* A span that closed at t1; cpu: the CPU its end ran on, -1 if unknown. */
static void write_span(thread_out_t *o, const open_span_t *sp, int64_t t1, int released, int cpu)
{
    FILE *f = o->f;
    const gsr_writer_t *w = o->w;
    const gsr_spool_t *s = w->s;
    const char *name = sp->name < s->n_str && s->str[sp->name] ? s->str[sp->name] : "";
    begin_event(o, (long long)(sp->t0 - w->t0));
    if (sp->kind == GSR_EV_PY) {
        fprintf(f, "\"py\", %lld]", (long long)(t1 - w->t0));
        return;
    }
    if (sp->kind == GSR_EV_SEM_WAIT) {
        fprintf(f, "\"lock_wait\", %lld, %llu", (long long)(t1 - w->t0),
                (unsigned long long)sp->obj);
        put_cpu(f, cpu);
        fputc(']', f);
        return;
    }
    fprintf(f, "\"%s\", %lld, ", sp->kind == GSR_EV_CALL ? "call" : "wait",
            (long long)(t1 - w->t0));
    jstr(f, name);
    fprintf(f, ", \"%s\"", cat_names[sp->cat < GSR_CAT_COUNT ? sp->cat : 0]);
    if (sp->kind == GSR_EV_CALL)
        fprintf(f, ", %s", released ? "true" : "false");
    fprintf(f, ", %llu", (unsigned long long)sp->obj);
    if (sp->kind == GSR_EV_CALL && sp->polls >= 0)
        fprintf(f, ", %lld", (long long)sp->polls);
    if (sp->kind == GSR_EV_CTX)
        put_cpu(f, cpu);
    fputc(']', f);
}

/* The name of an event written as [t, name], or NULL for the others. */
static const char *point_name(const gsr_event_t *e)
{
    switch (e->kind) {
    case GSR_EV_HOLD: return "hold";
    case GSR_EV_ASK: return "ask";
    case GSR_EV_REQUEST: return "drop_request";
    case GSR_EV_TIMEOUT: return "timeout";
    case GSR_EV_WOKEN: return e->x ? "futile_wakeup" : "woken";
    case GSR_EV_SWITCH_WAIT: return "switch_wait";
    case GSR_EV_SWITCH_DONE: return "switch_done";
    case GSR_EV_START: return "start";
    case GSR_EV_END: return "end";
    default: return NULL;
    }
}

/* Why the release at event k let the GIL go: inside a named call or
 * blocking API -> "call"; a drop request during the hold and no call open
 * -> "forced"; the thread's last release -> "exit"; otherwise C code the
 * profiler did not see released it -> "unnamed". */
static const char *release_reason(const thread_out_t *o, size_t k, int64_t t)
{
    const gsr_rthread_t *th = &o->w->s->th[o->i];
    bool last = k > o->last_take;
    bool sem_next = k + 1 < th->n && th->ev[k + 1].e.kind == GSR_EV_SEM_WAIT;
    bool in_call = o->depth > 0 && (o->depth > MAX_OPEN || o->stack[o->depth - 1].kind != GSR_EV_PY);
    if (in_call || sem_next)
        return "call";
    if (o->hold_t >= 0 && request_between(o->w, o->hold_t, t))
        return "forced";
    if (last)
        return "exit";
    return "unnamed";
}

static void open_span(thread_out_t *o, const gsr_event_t *e)
{
    uint64_t obj = e->kind == GSR_EV_SEM_WAIT ? GSR_OBJ_UNPACK(e->x, e->arg) : 0;
    uint32_t name = e->kind == GSR_EV_SEM_WAIT ? 0 : e->arg;
    if (o->depth < MAX_OPEN)
        o->stack[o->depth] = (open_span_t){e->t, e->kind, e->cat, name, obj, -1};
    o->depth++;
}

/* An object event follows the call or wait it belongs to, at the same time
 * (the spool sorts by time, then by the order written). */
static void attach_obj(thread_out_t *o, const gsr_event_t *e)
{
    if (o->depth < 1 || o->depth > MAX_OPEN)
        return;
    open_span_t *top = &o->stack[o->depth - 1];
    if (top->t0 == e->t && (top->kind == GSR_EV_CALL || top->kind == GSR_EV_CTX))
        top->obj = GSR_OBJ_UNPACK(e->x, e->arg);
}

/* The count of False polls follows a poll's call (api_poll), like its
 * object. */
static void attach_polls(thread_out_t *o, const gsr_event_t *e)
{
    if (o->depth < 1 || o->depth > MAX_OPEN)
        return;
    open_span_t *top = &o->stack[o->depth - 1];
    if (top->t0 == e->t && top->kind == GSR_EV_CALL)
        top->polls = e->arg;
}

/* Closes (and writes) the innermost open span of the kind e ends: they
 * nest, but a C call's end may come while a lock wait inside is open. */
static void close_span(thread_out_t *o, const gsr_event_t *e)
{
    int want = e->kind == GSR_EV_CALL_END  ? GSR_EV_CALL
               : e->kind == GSR_EV_CTX_END ? GSR_EV_CTX
               : e->kind == GSR_EV_PY_END  ? GSR_EV_PY
                                           : GSR_EV_SEM_WAIT;
    int d = o->depth < MAX_OPEN ? o->depth : MAX_OPEN;
    for (int j = d - 1; j >= 0; j--) {
        if (o->stack[j].kind != want)
            continue;
        write_span(o, &o->stack[j], e->t, e->x, gsr_event_cpu(e));
        memmove(&o->stack[j], &o->stack[j + 1], (size_t)(d - 1 - j) * sizeof *o->stack);
        o->depth--;
        return;
    }
}

/* Event k of the thread, as zero or one array element (a span is written
 * when it closes). */
static void write_event(thread_out_t *o, size_t k)
{
    const gsr_event_t *e = &o->w->s->th[o->i].ev[k].e;
    long long t = (long long)(e->t - o->w->t0);
    switch (e->kind) {
    case GSR_EV_SIGNAL:
        begin_event(o, t);
        fprintf(o->f, "\"signal\", %d", signalled(o->w, e->t, o->i));
        break;
    case GSR_EV_RELEASE:
        begin_event(o, t);
        fprintf(o->f, "\"release\", \"%s\"", release_reason(o, k, e->t));
        break;
    case GSR_EV_OBJ: attach_obj(o, e); return;
    case GSR_EV_POLLS: attach_polls(o, e); return;
    case GSR_EV_SEM_POST:
        begin_event(o, t);
        fprintf(o->f, "\"lock_post\", %llu", (unsigned long long)GSR_OBJ_UNPACK(e->x, e->arg));
        break;
    case GSR_EV_CALL:
    case GSR_EV_CTX:
    case GSR_EV_SEM_WAIT:
    case GSR_EV_PY: open_span(o, e); return;
    case GSR_EV_CALL_END:
    case GSR_EV_CTX_END:
    case GSR_EV_SEM_DONE:
    case GSR_EV_PY_END: close_span(o, e); return;
    default: {
        const char *name = point_name(e);
        if (e->kind == GSR_EV_HOLD)
            o->hold_t = e->t;
        if (!name)
            return;
        begin_event(o, t);
        fprintf(o->f, "\"%s\"", name);
        break;
    }
    }
    put_cpu(o->f, gsr_event_cpu(e)); /* the events that break out of the switch */
    fputc(']', o->f);
}

/* Thread i's events. Spans are written when they close, so the file is
 * sorted by end for spans; the loader sorts. */
static void write_thread(FILE *f, const gsr_writer_t *w, uint32_t i)
{
    const gsr_rthread_t *th = &w->s->th[i];
    thread_out_t o = {.f = f, .w = w, .i = i, .first = true, .hold_t = -1};
    for (size_t k = 0; k < th->n; k++)
        if (th->ev[k].e.kind == GSR_EV_ASK || th->ev[k].e.kind == GSR_EV_HOLD)
            o.last_take = k;
    for (size_t k = 0; k < th->n; k++)
        write_event(&o, k);
    /* Spans still open when the program stopped end with it. */
    for (int j = (o.depth < MAX_OPEN ? o.depth : MAX_OPEN) - 1; j >= 0; j--)
        write_span(&o, &o.stack[j], w->t_end, 0, -1);
}

/* ---- the file ------------------------------------------------------------- */

/* What the other programs used while this one ran (duration_ns): counted
 * from the fork to the program's end (/proc/stat, which also holds the
 * interpreter's start-up), at the same rate over the recorded span, and at
 * most every online CPU all along (/proc/stat counts whole clock ticks, so
 * a short, busy run can count more than the span held). */
static int64_t others_in_run(const gsr_writer_t *w, long online)
{
    int64_t dur = w->t_end - w->t0;
    if (dur <= 0)
        return 0;
    double o = (double)w->others_ns;
    if (w->others_window_ns > dur)
        o *= (double)dur / (double)w->others_window_ns;
    double most = (double)online * (double)dur;
    return (int64_t)(o < most ? o : most);
}

/* format, partial, when, the command line, how it ended, the interpreter
 * and the settings it ran at. */
static void write_head(FILE *f, const gsr_writer_t *w)
{
    char when[64];
    struct tm tm;
    gmtime_r(&w->started, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(f, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n", GS_RECORDING_FORMAT,
            GS_RECORDING_VERSION);
    fprintf(f, "  \"partial\": %s,\n  \"partial_reason\": ", w->partial ? "true" : "false");
    jstr(f, w->partial ? w->partial : "");
    fprintf(f, ",\n  \"recorded_at\": \"%s\",\n  \"command\": [", when);
    jstr(f, w->pi->exe);
    if (w->o->module)
        fputs(", \"-m\"", f);
    fputs(", ", f);
    jstr(f, w->o->target);
    for (int i = 0; i < w->o->n_args; i++) {
        fputs(", ", f);
        jstr(f, w->o->args[i]);
    }
    fprintf(f, "],\n  \"exit_status\": %d,\n  \"exit_signal\": %d,\n", w->exit_status,
            w->exit_signal);
    char *py = cJSON_PrintUnformatted(w->pi->json);
    fprintf(f, "  \"interpreter\": %s,\n", py ? py : "{}");
    free(py);
    fprintf(f, "  \"switch_interval_ns\": %lld,\n", (long long)w->s->h->switch_interval_ns);
    fprintf(f, "  \"calls\": \"%s\",\n", w->o->calls_all ? "all" : "blocking");
}

/* The machine (and its costs, when measured), the clock, and how much was
 * recorded. */
static void write_host(FILE *f, const gsr_writer_t *w)
{
    gsr_hdr_t *h = (gsr_hdr_t *)w->s->h;
    struct utsname u;
    memset(&u, 0, sizeof u);
    uname(&u);
    /* cores: the CPUs the program could run on (its affinity, inherited from
     * us: `taskset -c 0 gilsim record ...` records a one-core run), which is
     * what a fit's machine needs; cores_online: the machine's. */
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)online;
    fprintf(f, "  \"host\": {\"cores\": %d, \"cores_online\": %ld, \"kernel\": ",
            cores > 0 ? cores : 1, online > 0 ? online : 1);
    jstr(f, u.release);
    fputs(", \"system\": ", f);
    jstr(f, u.sysname);
    fputs(", \"machine\": ", f);
    jstr(f, u.machine);
    fputs(", \"hostname\": ", f);
    jstr(f, u.nodename);
    fputs("},\n", f);
    if (w->calib) {
        const gsr_calib_t *c = w->calib;
        fprintf(f, "  \"calibration\": {\"syscall_ns\": %lld, \"wake_hot_ns\": %lld, "
                   "\"wake_hot_cpus\": %d, "
                   "\"context_switch_ns\": %lld, \"wake_cold_ns\": %lld, \"timer_jitter_ns\": "
                   "%lld",
                (long long)c->syscall_ns, (long long)c->wake_hot_ns, c->wake_hot_cpus,
                (long long)c->context_switch_ns, (long long)c->wake_cold_ns,
                (long long)c->timer_jitter_ns);
        if (c->timer_arm_ns >= 0) /* absent: not measured */
            fprintf(f, ", \"timer_arm_ns\": %lld", (long long)c->timer_arm_ns);
        if (c->eevdf_slice_ns > 0) /* absent: the kernel did not say */
            fprintf(f, ", \"eevdf_slice_ns\": %lld", (long long)c->eevdf_slice_ns);
        if (c->n_wake_idle > 0) { /* [[idle depth, latency], ...], depths ascending */
            fputs(", \"wake_idle_ns\": [", f);
            for (int k = 0; k < c->n_wake_idle; k++)
                fprintf(f, "%s[%lld, %lld]", k ? ", " : "", (long long)c->wake_idle_depth_ns[k],
                        (long long)c->wake_idle_ns[k]);
            fputc(']', f);
        }
        fputs("},\n", f);
    }
    fprintf(f, "  \"clock\": \"CLOCK_MONOTONIC\",\n  \"t0_monotonic_ns\": %lld,\n",
            (long long)w->t0);
    fprintf(f, "  \"duration_ns\": %lld,\n", (long long)(w->t_end - w->t0));
    if (w->others_ns >= 0)
        fprintf(f, "  \"others_cpu_ns\": %lld,\n",
                (long long)others_in_run(w, online > 0 ? online : 1));
    fprintf(f, "  \"events_recorded\": %lld,\n", (long long)w->s->n_events);
    fprintf(f, "  \"forks\": %u,\n  \"child_processes\": %u,\n", atomic_load(&h->forks),
            atomic_load(&h->execs));
}

/* One element of "notes" (a comma before all but the first). */
static void note(FILE *f, bool *first, const char *fmt, ...) __attribute__((format(printf, 3, 4)));
static void note(FILE *f, bool *first, const char *fmt, ...)
{
    char b[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(b, sizeof b, fmt, ap);
    va_end(ap);
    fputs(*first ? "\n    " : ",\n    ", f);
    jstr(f, b);
    *first = false;
}

/* What the recording misses, counted and said in words. */
static void write_notes(FILE *f, const gsr_writer_t *w)
{
    const gsr_spool_t *s = w->s;
    gsr_hdr_t *h = (gsr_hdr_t *)s->h;
    uint32_t unnamed = 0;
    for (uint32_t i = 0; i < s->n_th; i++)
        if (!s->th[i].name)
            unnamed++;
    fprintf(f, "  \"threads_not_from_threading\": %u,\n  \"notes\": [", unnamed);
    bool first = true;
    if (h->forks)
        note(f, &first, "the program forked %u time(s); children are not followed", h->forks);
    if (h->execs)
        note(f, &first,
             "the program started %u other process(es) that inherited the shim; they are not "
             "recorded",
             h->execs);
    if (unnamed)
        note(f, &first,
             "%u thread(s) took the GIL without being started by threading (threads started "
             "from C, or _thread): their GIL events are recorded, their calls are not named",
             unnamed);
    if (atomic_load(&h->overflow))
        note(f, &first,
             "the event budget ran out at %.3f s; nothing after that is recorded (raise "
             "--max-mb)",
             (double)(atomic_load(&h->overflow_ns) - w->t0) / 1e9);
    fputs(first ? "],\n" : "\n  ],\n", f);
}

/* Thread i: index, name, tid, the kernel's totals when read, and events. */
static void write_thread_entry(FILE *f, const gsr_writer_t *w, uint32_t i)
{
    const gsr_spool_t *s = w->s;
    const gsr_rthread_t *th = &s->th[i];
    char name[64];
    const char *nm = th->name < s->n_str && s->str[th->name] ? s->str[th->name] : NULL;
    if (!nm) {
        snprintf(name, sizeof name, "thread-%d", (int)th->tid);
        nm = name;
    }
    fprintf(f, "%s\n    {\"index\": %u, \"name\": ", i ? "," : "", i);
    jstr(f, nm);
    fprintf(f, ", \"tid\": %d, \"from_threading\": %s", (int)th->tid,
            th->name ? "true" : "false");
    /* the kernel's totals, read as the thread ended or, for a thread still
     * there then, as the process exited (and then said so) */
    bool at_exit = false;
    for (size_t k = 0; k < th->n; k++) {
        const gsr_event_t *e = &th->ev[k].e;
        if (e->kind != GSR_EV_SCHED)
            continue;
        fprintf(f, ", \"%s\": %lld", e->x & 1 ? "os_run_delay_ns" : "os_cpu_ns",
                (long long)e->arg * 1000);
        at_exit = at_exit || (e->x & GSR_SCHED_AT_EXIT);
    }
    if (at_exit)
        fputs(", \"os_totals_at_exit\": true", f);
    fputs(", \"events\": [", f);
    write_thread(f, w, i);
    fputs("\n    ]}", f);
}

int gsr_write_recording(FILE *f, void *ctx)
{
    const gsr_writer_t *w = ctx;
    write_head(f, w);
    write_host(f, w);
    write_notes(f, w);
    fputs("  \"threads\": [", f);
    for (uint32_t i = 0; i < w->s->n_th; i++)
        write_thread_entry(f, w, i);
    fputs("\n  ]\n}\n", f);
    return ferror(f) ? GS_EIO : 0;
}
