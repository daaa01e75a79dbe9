/* explain.c - why a thread is not running (explain.h).
 *
 * Everything here reads the trace: a thread's lane says what it was doing,
 * the GIL lane who held the GIL, the core lanes who had the cores, the
 * instants when a GIL wait timed out or a holder was forced to switch, and the
 * fact tracks when a drop request was pending and who held each lock. Nothing
 * is guessed: where a trace lacks a fact (a recording), the text says so. */
#include "gilsim/explain.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gilsim/export.h"
#include "gilsim/model.h"

/* The interval of lane covering t, or NULL. */
static const gs_interval_t *at(const gs_lane_t *lane, int64_t t)
{
    if (!lane)
        return NULL;
    size_t i = gs_lane_find(lane, t);
    return (i < lane->n && lane->iv[i].start_ns <= t) ? &lane->iv[i] : NULL;
}

static const gs_lane_t *thread_lane(const gs_trace_t *t, int thread)
{
    return gs_trace_lane(t, gs_trace_thread_lane(t, thread));
}

static const char *thread_name(const gs_trace_t *t, int thread)
{
    const gs_lane_t *l = thread_lane(t, thread);
    return l ? l->name : "?";
}

int gs_trace_find_thread(const gs_trace_t *t, const char *name)
{
    for (int i = 0; i < gs_trace_n_threads(t); i++)
        if (strcmp(thread_name(t, i), name) == 0)
            return i;
    return -1;
}

/* Two adjacent intervals are one wait when state and object agree (an I/O or
 * sleep also keeps its op: two calls in a row are two waits). */
static bool same_wait(const gs_interval_t *a, const gs_interval_t *b)
{
    if (a->end_ns != b->start_ns || a->state != b->state || a->who != b->who ||
        (a->flags & GS_IV_HOLDS_GIL) != (b->flags & GS_IV_HOLDS_GIL))
        return false;
    return (a->state != GS_ST_IO && a->state != GS_ST_SLEEP) || a->op == b->op;
}

/* Holder of process p's GIL at t, -1 if free or no GIL. */
static int gil_holder(const gs_trace_t *t, int p, int64_t ns)
{
    const gs_interval_t *v = at(gs_trace_lane(t, gs_trace_gil_lane(t, p)), ns);
    return v ? v->who : -1;
}

/* Did thread start a forced switch in [from, ns] and has nobody taken the GIL
 * since? Then its wait is FORCE_SWITCHING's, not a wait for a holder. */
static bool forced_wait(const gs_trace_t *t, int thread, int p, int64_t from, int64_t ns)
{
    const gs_instant_t *in = gs_trace_instants(t);
    size_t n = gs_trace_n_instants(t), lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (in[mid].t_ns < from)
            lo = mid + 1;
        else
            hi = mid;
    }
    int64_t forced_at = -1;
    for (size_t i = lo; i < n && in[i].t_ns <= ns; i++)
        if (in[i].kind == GS_IN_FORCED_SWITCH && in[i].thread == thread)
            forced_at = in[i].t_ns;
    if (forced_at < 0)
        return false;
    const gs_lane_t *g = gs_trace_lane(t, gs_trace_gil_lane(t, p));
    if (!g)
        return false;
    for (size_t j = gs_lane_find(g, forced_at); j < g->n && g->iv[j].start_ns <= ns; j++)
        if (g->iv[j].who != thread && g->iv[j].end_ns > forced_at)
            return false;
    return true;
}

/* Why the thread is in v's state at ns (link k's why, other, obj and drop
 * request), from the other lanes and the fact tracks. */
static void fill_reason(const gs_trace_t *t, int thread, int p, const gs_interval_t *v, int64_t ns,
                        gs_why_link_t *k)
{
    const gs_interval_t *d = at(gs_trace_drop_request_track(t, p), ns);
    switch ((gs_state_t)v->state) {
    case GS_ST_PY:
    case GS_ST_C_GIL:
    case GS_ST_C_NOGIL:
        k->why = GS_WHY_RUNNING;
        k->obj = v->who;
        break;
    case GS_ST_WAIT_GIL: {
        int h = gil_holder(t, p, ns);
        if (h >= 0 && h != thread) {
            k->why = GS_WHY_GIL_HELD;
            k->other = h;
        } else {
            k->why = forced_wait(t, thread, p, k->since_ns, ns) ? GS_WHY_FORCED_SWITCH
                                                                 : GS_WHY_GIL_HANDOFF;
        }
        if (d) {
            k->drop_since_ns = d->start_ns;
            k->drop_requester = d->who;
        }
        break;
    }
    case GS_ST_READY:
        k->why = GS_WHY_NO_CORE;
        break;
    case GS_ST_SWITCH:
        k->why = GS_WHY_SWITCH;
        k->obj = v->who;
        break;
    case GS_ST_WAIT_LOCK: {
        k->obj = v->who;
        const gs_interval_t *o = at(gs_trace_lock_owner_track(t, v->who), ns);
        bool known = gs_trace_facts(t) & GS_FACT_LOCK_OWNER;
        k->why = (o && o->who != thread) || !known ? GS_WHY_LOCK_HELD : GS_WHY_LOCK_HANDOFF;
        k->other = o && o->who != thread ? o->who : -1;
        break;
    }
    case GS_ST_WAIT_EVENT:
        k->why = GS_WHY_EVENT;
        k->obj = v->who;
        break;
    case GS_ST_WAIT_QUEUE:
        k->why = GS_WHY_QUEUE;
        k->obj = v->who;
        break;
    case GS_ST_WAIT_JOIN:
        k->why = GS_WHY_JOIN;
        k->other = v->who;
        break;
    case GS_ST_IO:
        k->why = GS_WHY_IO;
        break;
    case GS_ST_SLEEP:
        k->why = GS_WHY_SLEEP;
        break;
    default:
        k->why = GS_WHY_DONE;
    }
}

static void fill(const gs_trace_t *t, int thread, int64_t ns, gs_why_link_t *k)
{
    memset(k, 0, sizeof *k);
    k->thread = thread;
    k->other = k->obj = k->drop_requester = -1;
    k->drop_since_ns = -1;
    k->state = GS_ST_COUNT;
    const gs_lane_t *l = thread_lane(t, thread);
    size_t i = gs_lane_find(l, ns);
    if (i >= l->n || l->iv[i].start_ns > ns) {
        k->why = (l->n == 0 || ns < l->iv[0].start_ns) ? GS_WHY_NOT_STARTED : GS_WHY_DONE;
        k->since_ns = k->why == GS_WHY_DONE && l->n ? l->iv[l->n - 1].end_ns : ns;
        k->until_ns = k->why == GS_WHY_NOT_STARTED && l->n ? l->iv[0].start_ns : ns;
        return;
    }
    const gs_interval_t *v = &l->iv[i];
    size_t a = i, b = i;
    while (a > 0 && same_wait(&l->iv[a - 1], &l->iv[a]))
        a--;
    while (b + 1 < l->n && same_wait(&l->iv[b], &l->iv[b + 1]))
        b++;
    k->state = v->state;
    k->since_ns = l->iv[a].start_ns;
    k->until_ns = l->iv[b].end_ns;
    k->holds_gil = (v->flags & GS_IV_HOLDS_GIL) != 0;
    fill_reason(t, thread, l->process, v, ns, k);
}

int gs_explain(const gs_trace_t *t, int thread, int64_t t_ns, gs_why_link_t *chain, int max)
{
    if (thread < 0 || thread >= gs_trace_n_threads(t) || max < 1)
        return 0;
    int64_t end = gs_trace_end_ns(t);
    if (end > 0 && t_ns >= end)
        t_ns = end - 1; /* the last instant that has states */
    if (t_ns < 0)
        t_ns = 0;
    int n = 0;
    for (int th = thread; th >= 0 && n < max;) {
        fill(t, th, t_ns, &chain[n++]);
        int next = chain[n - 1].other;
        for (int j = 0; j < n && next >= 0; j++)
            if (chain[j].thread == next)
                next = -1; /* a cycle: the last link names it already */
        th = next;
    }
    return n;
}

/* ---- text ----------------------------------------------------------------- */

typedef struct sbuf {
    char *p;
    size_t cap, len;
} sbuf_t;

__attribute__((format(printf, 2, 3))) static void put(sbuf_t *s, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    size_t room = s->len < s->cap ? s->cap - s->len : 0;
    int k = vsnprintf(room ? s->p + s->len : NULL, room, fmt, ap);
    va_end(ap);
    if (k > 0)
        s->len += (size_t)k;
}

/* Exact enough to tell instants apart: "6.020 ms", "598.000 us", "40 ns". */
static const char *ns_text(int64_t ns, char *buf, size_t n)
{
    int64_t a = ns < 0 ? -ns : ns;
    if (a >= 1000000000)
        snprintf(buf, n, "%.6f s", (double)ns / 1e9);
    else if (a >= 1000000)
        snprintf(buf, n, "%.3f ms", (double)ns / 1e6);
    else if (a >= 1000)
        snprintf(buf, n, "%.3f us", (double)ns / 1e3);
    else
        snprintf(buf, n, "%" PRId64 " ns", ns);
    return buf;
}

static const char *doing(int st)
{
    switch (st) {
    case GS_ST_PY:
        return "running Python";
    case GS_ST_C_GIL:
        return "running C that keeps the GIL";
    case GS_ST_C_NOGIL:
        return "running C without the GIL";
    case GS_ST_SWITCH:
        return "in a context switch";
    case GS_ST_READY:
        return "ready, waiting for a core";
    default:
        return gs_state_text((gs_state_t)st);
    }
}

/* Why the holder has not dropped the GIL although a drop request is pending. */
static void drop_pending(sbuf_t *s, const gs_trace_t *t, int holder, int64_t ns)
{
    gs_why_link_t h;
    fill(t, holder, ns, &h);
    const char *hn = thread_name(t, holder);
    const gs_interval_t *v = at(thread_lane(t, holder), ns);
    const char *op = v && v->op != GS_NO_OP ? gs_trace_op_label(t, v->op) : "";
    if (h.state == GS_ST_C_GIL && !(gs_trace_facts(t) & GS_FACT_CORES) && strstr(op, "inferred"))
        put(s, " %s left a drop request unanswered for over 1 ms, so the recording infers a C "
               "call that keeps the GIL (no eval-breaker check until it returns); a holder "
               "without a core looks the same.",
            hn);
    else if (h.state == GS_ST_C_GIL)
        put(s, " %s is in a C call that keeps the GIL: no eval-breaker check until it returns.",
            hn);
    else if (h.state == GS_ST_PY)
        put(s, " %s drops the GIL at its next eval-breaker check.", hn);
    else if (h.holds_gil)
        put(s, " %s holds the GIL but is %s: it can only drop it once it runs again.", hn,
            doing(h.state));
    else
        put(s, " %s is %s.", hn, gs_state_text((gs_state_t)h.state));
}

static void gil_detail(sbuf_t *s, const gs_trace_t *t, const gs_why_link_t *k, int64_t ns)
{
    char a[32], b[32];
    int p = thread_lane(t, k->thread)->process;
    int kind = gs_trace_process_gil(t, p);
    if (kind == GS_GIL_CPYTHON2) {
        put(s, "\n  Python 2 GIL: the holder releases and re-takes it every check interval; a "
               "waiter must wake up and get a core before the holder takes it back.");
        return;
    }
    if (!(gs_trace_facts(t) & GS_FACT_DROP_REQUEST)) {
        put(s, "\n  Drop request: not recorded in this trace.");
        return;
    }
    if (k->drop_since_ns >= 0) {
        put(s, "\n  Drop request set by %s at %s, pending for %s.",
            k->drop_requester >= 0 ? thread_name(t, k->drop_requester) : "?",
            ns_text(k->drop_since_ns, a, sizeof a), ns_text(ns - k->drop_since_ns, b, sizeof b));
        if (k->why == GS_WHY_GIL_HELD)
            drop_pending(s, t, k->other, ns);
    } else if (k->why == GS_WHY_GIL_HELD) {
        put(s, "\n  No drop request pending: a waiter sets one when its timed wait of %s "
               "runs out and the GIL has not changed hands meanwhile.",
            ns_text(gs_trace_switch_interval_ns(t, p), a, sizeof a));
    }
}

static void core_detail(sbuf_t *s, const gs_trace_t *t, int64_t ns)
{
    if (!(gs_trace_facts(t) & GS_FACT_CORES)) {
        put(s, "\n  Cores: not recorded (a recording does not read the kernel's scheduler), "
               "so who had them is not known.");
        return;
    }
    put(s, "\n  Cores:");
    for (int c = 0; c < gs_trace_n_cores(t); c++) {
        const gs_interval_t *v = at(gs_trace_lane(t, gs_trace_core_lane(t, c)), ns);
        if (!v)
            put(s, "%s core %d is idle or waking up", c ? ";" : "", c);
        else
            put(s, "%s core %d runs %s (%s)", c ? ";" : "", c, thread_name(t, v->who),
                v->state == GS_ST_SWITCH ? "switching in" : doing(v->state));
    }
    int pol = gs_trace_policy(t);
    if (pol >= 0)
        put(s, "; the OS policy is %s.", gs_policy_name((gs_policy_t)pol));
    else
        put(s, ".");
}

/* A ready thread on a machine with a run queue per core while a core has
 * nobody on it: it is queued on another core's queue (that core is idle, or
 * being woken for another thread). */
static bool queued_beside_idle(const gs_trace_t *t, int64_t ns)
{
    if (!gs_trace_per_core_queues(t) || !(gs_trace_facts(t) & GS_FACT_CORES))
        return false;
    for (int c = 0; c < gs_trace_n_cores(t); c++)
        if (!at(gs_trace_lane(t, gs_trace_core_lane(t, c)), ns))
            return true;
    return false;
}

/* Why a wait on a lock, event or queue goes on. */
static void sync_reason(sbuf_t *s, const gs_trace_t *t, const gs_why_link_t *k, int64_t ns)
{
    char a[32];
    if (k->why == GS_WHY_LOCK_HELD && k->obj < 0) {
        put(s, ": which lock, and who holds it, is not recorded.");
    } else if (k->why == GS_WHY_LOCK_HELD && k->other >= 0) {
        const gs_interval_t *o = at(gs_trace_lock_owner_track(t, k->obj), ns);
        put(s, ": lock '%s' is held by %s since %s.", gs_trace_sync_name(t, GS_ST_WAIT_LOCK, k->obj),
            thread_name(t, k->other), ns_text(o ? o->start_ns : 0, a, sizeof a));
    } else if (k->why == GS_WHY_LOCK_HELD) {
        put(s, ": lock '%s' is held (by whom is not recorded).",
            gs_trace_sync_name(t, GS_ST_WAIT_LOCK, k->obj));
    } else if (k->why == GS_WHY_LOCK_HANDOFF) {
        put(s, ": lock '%s' was released; it was woken and needs a core to take it.",
            gs_trace_sync_name(t, GS_ST_WAIT_LOCK, k->obj));
    } else if (k->why == GS_WHY_EVENT && k->obj < 0) {
        put(s, ": an event the trace does not name (a Thread.start waits like this until "
               "the thread it started has held the GIL).");
    } else if (k->why == GS_WHY_EVENT) {
        put(s, ": event '%s' is not set.", gs_trace_sync_name(t, GS_ST_WAIT_EVENT, k->obj));
    } else if (k->obj < 0) {
        put(s, ": which queue, and how full it is, is not recorded.");
    } else {
        int max = gs_trace_queue_maxsize(t, k->obj);
        int64_t len = gs_trace_queue_len_at(t, k->obj, ns);
        const char *q = gs_trace_sync_name(t, GS_ST_WAIT_QUEUE, k->obj);
        if (max && len >= max)
            put(s, ": queue '%s' is full (%lld of %d items): its put waits for a get.", q,
                (long long)len, max);
        else if (len == 0)
            put(s, ": queue '%s' is empty: its get waits for a put.", q);
        else
            put(s, ": queue '%s' holds %lld items.", q, (long long)len);
    }
}

/* Why a wait goes on, after "NAME is STATE for D (since A, until B)". */
static void wait_reason(sbuf_t *s, const gs_trace_t *t, const gs_why_link_t *k, int64_t ns)
{
    char a[32];
    switch (k->why) {
    case GS_WHY_GIL_HELD:
        put(s, ": the GIL is held by %s.", thread_name(t, k->other));
        gil_detail(s, t, k, ns);
        break;
    case GS_WHY_GIL_HANDOFF:
        put(s, ": the GIL is free; it was woken and needs a core to take it.");
        gil_detail(s, t, k, ns);
        break;
    case GS_WHY_FORCED_SWITCH:
        put(s, ": it dropped the GIL on a drop request and waits until another thread has "
               "taken it (forced switching).");
        break;
    case GS_WHY_NO_CORE:
        if (queued_beside_idle(t, ns))
            put(s,
                ": %sit waits in a busy core's run queue. An idle core takes a queued "
                "thread only once it has been off a core for machine.migration_cost "
                "(cache-hot until then), when it goes idle or at its next scheduler tick.",
                k->holds_gil ? "it holds the GIL; " : "");
        else
            put(s, ": %sno core is free for it.", k->holds_gil ? "it holds the GIL but " : "");
        core_detail(s, t, ns);
        break;
    case GS_WHY_SWITCH:
        put(s, ": core %d is switching to it%s.", k->obj, k->holds_gil ? " (it holds the GIL)" : "");
        break;
    case GS_WHY_LOCK_HELD:
    case GS_WHY_LOCK_HANDOFF:
    case GS_WHY_EVENT:
    case GS_WHY_QUEUE:
        sync_reason(s, t, k, ns);
        break;
    case GS_WHY_JOIN:
        if (k->other >= 0)
            put(s, ": it waits for thread %s to end.", thread_name(t, k->other));
        else
            put(s, ": it waits for a thread to end (which one is not recorded).");
        break;
    case GS_WHY_IO:
        put(s, ": the call returns at %s.", ns_text(k->until_ns, a, sizeof a));
        break;
    case GS_WHY_SLEEP:
        put(s, ": it wakes at %s.", ns_text(k->until_ns, a, sizeof a));
        break;
    default:
        put(s, ".");
    }
}

static void link_text(sbuf_t *s, const gs_trace_t *t, const gs_why_link_t *k, int64_t ns,
                      bool first)
{
    char a[32], b[32], c[32];
    const char *name = thread_name(t, k->thread);
    if (!first)
        put(s, "\n  -> ");
    switch (k->why) {
    case GS_WHY_NOT_STARTED:
        put(s, "%s has not started yet.", name);
        return;
    case GS_WHY_DONE:
        put(s, "%s has finished.", name);
        return;
    case GS_WHY_RUNNING:
        if (k->obj >= 0)
            put(s, "%s is %s on core %d (since %s).", name, doing(k->state), k->obj,
                ns_text(k->since_ns, a, sizeof a));
        else /* a recording: the kernel's scheduler was not read */
            put(s, "%s is %s (since %s; on which core is not recorded).", name, doing(k->state),
                ns_text(k->since_ns, a, sizeof a));
        return;
    default:
        break;
    }
    put(s, "%s is %s for %s (since %s, until %s)", name, gs_state_text((gs_state_t)k->state),
        ns_text(ns - k->since_ns, a, sizeof a), ns_text(k->since_ns, b, sizeof b),
        ns_text(k->until_ns, c, sizeof c));
    wait_reason(s, t, k, ns);
}

size_t gs_explain_text(const gs_trace_t *t, int64_t t_ns, const gs_why_link_t *chain, int n,
                       char *buf, size_t cap)
{
    sbuf_t s = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    int64_t end = gs_trace_end_ns(t);
    int64_t ns = (end > 0 && t_ns >= end) ? end - 1 : t_ns < 0 ? 0 : t_ns;
    for (int i = 0; i < n; i++)
        link_text(&s, t, &chain[i], ns, i == 0);
    if (n > 1 && chain[n - 1].other >= 0 && chain[n - 1].why != GS_WHY_RUNNING)
        put(&s, "\nThis is a cycle: %s waits on %s, which is already in this chain.",
            thread_name(t, chain[n - 1].thread), thread_name(t, chain[n - 1].other));
    put(&s, "\n");
    return s.len;
}

/* ---- blame ------------------------------------------------------------------ */

const char *gs_blame_key(gs_blame_kind_t k)
{
    static const char *const n[] = {"gil_held", "gil_handoff", "no_core", "context_switch",
                                    "lock_held", "lock_handoff", "event", "queue", "join",
                                    "io", "sleep"};
    return (unsigned)k < GS_BLAME_COUNT ? n[k] : "?";
}

const char *gs_blame_text(gs_blame_kind_t k)
{
    static const char *const n[] = {
        "GIL held by another thread", "GIL free, being handed over", "no free core",
        "context switch", "lock held by another thread", "lock free, being handed over",
        "event not set", "queue full or empty", "joining a thread", "I/O", "sleep"};
    return (unsigned)k < GS_BLAME_COUNT ? n[k] : "?";
}

void gs_blame_destroy(gs_blame_t *b)
{
    free(b->gil_by);
    free(b->lock_by);
    b->gil_by = b->lock_by = NULL;
}

/* Splits [a, b) by the intervals of track: time covered by an interval whose
 * who is another thread goes to by[who] and to *held; the rest to *free. */
static void split(const gs_lane_t *track, int self, int64_t a, int64_t b, int64_t *by,
                  int64_t *held, int64_t *free_ns)
{
    int64_t covered = 0;
    for (size_t j = track ? gs_lane_find(track, a) : 0; track && j < track->n; j++) {
        const gs_interval_t *v = &track->iv[j];
        if (v->start_ns >= b)
            break;
        int64_t lo = v->start_ns > a ? v->start_ns : a, hi = v->end_ns < b ? v->end_ns : b;
        if (hi <= lo || v->who == self || v->who < 0)
            continue;
        by[v->who] += hi - lo;
        *held += hi - lo;
        covered += hi - lo;
    }
    *free_ns += (b - a) - covered;
}

int gs_blame_compute(const gs_trace_t *t, int thread, gs_blame_t *b)
{
    memset(b, 0, sizeof *b);
    int n = gs_trace_n_threads(t);
    if (thread < 0 || thread >= n)
        return GS_EINVAL;
    b->gil_by = calloc((size_t)n, sizeof *b->gil_by);
    b->lock_by = calloc((size_t)n, sizeof *b->lock_by);
    if (!b->gil_by || !b->lock_by) {
        gs_blame_destroy(b);
        return GS_ENOMEM;
    }
    const gs_lane_t *l = thread_lane(t, thread);
    const gs_lane_t *gil = gs_trace_lane(t, gs_trace_gil_lane(t, l->process));
    for (size_t i = 0; i < l->n; i++) {
        const gs_interval_t *v = &l->iv[i];
        int64_t d = v->end_ns - v->start_ns;
        switch ((gs_state_t)v->state) {
        case GS_ST_WAIT_GIL:
            split(gil, thread, v->start_ns, v->end_ns, b->gil_by, &b->ns[GS_BLAME_GIL_HELD],
                  &b->ns[GS_BLAME_GIL_HANDOFF]);
            break;
        case GS_ST_WAIT_LOCK:
            split(gs_trace_lock_owner_track(t, v->who), thread, v->start_ns, v->end_ns,
                  b->lock_by, &b->ns[GS_BLAME_LOCK_HELD], &b->ns[GS_BLAME_LOCK_HANDOFF]);
            break;
        case GS_ST_READY:
            b->ns[GS_BLAME_NO_CORE] += d;
            break;
        case GS_ST_SWITCH:
            b->ns[GS_BLAME_SWITCH] += d;
            break;
        case GS_ST_WAIT_EVENT:
            b->ns[GS_BLAME_EVENT] += d;
            break;
        case GS_ST_WAIT_QUEUE:
            b->ns[GS_BLAME_QUEUE] += d;
            break;
        case GS_ST_WAIT_JOIN:
            b->ns[GS_BLAME_JOIN] += d;
            break;
        case GS_ST_IO:
            b->ns[GS_BLAME_IO] += d;
            break;
        case GS_ST_SLEEP:
            b->ns[GS_BLAME_SLEEP] += d;
            break;
        default:
            break; /* running, or DONE */
        }
    }
    for (int k = 0; k < GS_BLAME_COUNT; k++)
        b->total_ns += b->ns[k];
    return 0;
}

/* ---- the machine at an instant -------------------------------------------- */

int64_t gs_trace_queue_len_at(const gs_trace_t *t, int q, int64_t t_ns)
{
    int64_t len = gs_trace_queue_initial(t, q);
    const gs_instant_t *in = gs_trace_instants(t);
    size_t n = gs_trace_n_instants(t);
    for (size_t i = 0; i < n && in[i].t_ns <= t_ns; i++)
        if (in[i].kind == GS_IN_QUEUE_LEN && in[i].obj == q)
            len = in[i].arg;
    return len;
}

/* Threads whose lane is in state st at ns (and, for wait_lock, on obj). */
static int count_in(const gs_trace_t *t, int p, int st, int obj, int64_t ns)
{
    int k = 0;
    for (int i = 0; i < gs_trace_n_threads(t); i++) {
        const gs_lane_t *l = thread_lane(t, i);
        const gs_interval_t *v = at(l, ns);
        if (v && v->state == st && (p < 0 || l->process == p) && (obj < 0 || v->who == obj))
            k++;
    }
    return k;
}

size_t gs_explain_state_text(const gs_trace_t *t, int64_t t_ns, char *buf, size_t cap)
{
    sbuf_t s = {buf, cap, 0};
    if (cap)
        buf[0] = '\0';
    char a[32], b[32];
    int64_t end = gs_trace_end_ns(t);
    int64_t ns = (end > 0 && t_ns >= end) ? end - 1 : t_ns < 0 ? 0 : t_ns;
    for (int p = 0; p < gs_trace_n_processes(t); p++) {
        const gs_lane_t *g = gs_trace_lane(t, gs_trace_gil_lane(t, p));
        const char *pn = gs_trace_process_name(t, p);
        if (!g) {
            put(&s, "%s: no GIL.\n", pn);
            continue;
        }
        const gs_interval_t *v = at(g, ns);
        if (v)
            put(&s, "GIL of %s: held by %s since %s", pn, thread_name(t, v->who),
                ns_text(v->start_ns, a, sizeof a));
        else
            put(&s, "GIL of %s: free", pn);
        put(&s, "; %d waiting for it.\n", count_in(t, p, GS_ST_WAIT_GIL, -1, ns));
        if (gs_trace_process_gil(t, p) != GS_GIL_CPYTHON3)
            continue;
        const gs_interval_t *d = at(gs_trace_drop_request_track(t, p), ns);
        if (!(gs_trace_facts(t) & GS_FACT_DROP_REQUEST))
            put(&s, "  Drop request: not recorded.\n");
        else if (!d)
            put(&s, "  Drop request: not set.\n");
        else {
            put(&s, "  Drop request: set by %s at %s, pending for %s.", thread_name(t, d->who),
                ns_text(d->start_ns, a, sizeof a), ns_text(ns - d->start_ns, b, sizeof b));
            if (v)
                drop_pending(&s, t, v->who, ns);
            else
                put(&s, " The GIL is free: the request is reset by the next thread to take it.");
            put(&s, "\n");
        }
    }
    int ready = count_in(t, -1, GS_ST_READY, -1, ns);
    if (gs_trace_facts(t) & GS_FACT_CORES)
        put(&s, "Ready queue (waiting for a core): %d thread%s.\n", ready, ready == 1 ? "" : "s");
    else
        put(&s, "Ready queue (waiting for a core): not recorded; %d thread%s seen without a core "
                "(between a forced drop and its next request for the GIL).\n",
            ready, ready == 1 ? "" : "s");
    if (!(gs_trace_facts(t) & GS_FACT_LOCK_OWNER) && gs_trace_n_syncs(t, GS_ST_WAIT_LOCK) == 0)
        put(&s, "Locks, events and queues: which one a thread waits for, and who holds a lock, "
                "are not recorded.\n");
    for (int i = 0; i < gs_trace_n_syncs(t, GS_ST_WAIT_LOCK); i++) {
        const gs_interval_t *o = at(gs_trace_lock_owner_track(t, i), ns);
        int w = count_in(t, -1, GS_ST_WAIT_LOCK, i, ns);
        if (o)
            put(&s, "Lock '%s': held by %s since %s; %d waiting.\n",
                gs_trace_sync_name(t, GS_ST_WAIT_LOCK, i), thread_name(t, o->who),
                ns_text(o->start_ns, a, sizeof a), w);
        else
            put(&s, "Lock '%s': %s; %d waiting.\n", gs_trace_sync_name(t, GS_ST_WAIT_LOCK, i),
                (gs_trace_facts(t) & GS_FACT_LOCK_OWNER) ? "free" : "holder not recorded", w);
    }
    for (int q = 0; q < gs_trace_n_syncs(t, GS_ST_WAIT_QUEUE); q++) {
        int max = gs_trace_queue_maxsize(t, q);
        put(&s, "Queue '%s': %" PRId64, gs_trace_sync_name(t, GS_ST_WAIT_QUEUE, q),
            gs_trace_queue_len_at(t, q, ns));
        if (max)
            put(&s, " of %d", max);
        put(&s, " items; %d waiting.\n", count_in(t, -1, GS_ST_WAIT_QUEUE, q, ns));
    }
    return s.len;
}

/* The end of the GIL wait at l->iv[i] with what continues it (see
 * gs_why_own_request): waiting for a core or in a context switch, without
 * holding the GIL, from the instant it ends. */
static int64_t wait_end(const gs_lane_t *l, size_t i)
{
    int64_t end = l->iv[i].end_ns;
    for (size_t j = i + 1; j < l->n && l->iv[j].start_ns == end; j++) {
        const gs_interval_t *iv = &l->iv[j];
        if ((iv->state != GS_ST_WAIT_GIL && iv->state != GS_ST_READY &&
             iv->state != GS_ST_SWITCH) || (iv->flags & GS_IV_HOLDS_GIL))
            break;
        end = iv->end_ns;
    }
    return end;
}

bool gs_why_own_request(const gs_trace_t *t, int th, size_t i, int64_t *ra, int64_t *rb)
{
    const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
    const gs_lane_t *dr = gs_trace_drop_request_track(t, l->process);
    int64_t a = l->iv[i].start_ns, b = wait_end(l, i);
    for (size_t k = dr ? gs_lane_find(dr, a) : 0; dr && k < dr->n && dr->iv[k].start_ns < b; k++)
        if (dr->iv[k].who == th && dr->iv[k].end_ns > a && dr->iv[k].end_ns > dr->iv[k].start_ns) {
            *ra = dr->iv[k].start_ns > a ? dr->iv[k].start_ns : a;
            *rb = dr->iv[k].end_ns < b ? dr->iv[k].end_ns : b;
            return true;
        }
    return false;
}
