/* fit.c - gs_fit_recording: a recording's threads as scenario programs.
 *
 * Per thread, from its events (docs/recording.md, "For a fitter"):
 *  - holds: hold .. release; the Python work between two ops is the time
 *    held between them, whatever forced releases cut it into (a replay
 *    under another interval cuts it its own way). Time held inside a C call
 *    span is the call's, not Python's.
 *  - off intervals: a voluntary release (not forced, not the exit) .. the
 *    next ask. That is the time the thread neither held nor waited for the
 *    GIL: the I/O, sleep or C call's own duration. The GIL wait after it
 *    (ask .. hold) is the model's part and is left out.
 *  - the outermost spans (call, wait, lock_wait), in time order. Each off
 *    interval belongs to the outermost span it starts in, or to none (C
 *    code the recording did not name: a c_call releasing the GIL).
 * Then each span becomes an op: time.sleep -> sleep, I/O -> io (a socket
 * send, which does not sleep, -> a c_call releasing the GIL), other C ->
 * c_call (keeping the GIL when it did not release it), Queue.put/get -> put
 * and get on the queue queues.c tells it was on, Thread.join -> join of the thread that ended just
 * before it returned, the Event.wait inside Thread.start that covers another
 * thread's first event -> start of that thread, an Event.set and the first
 * True Event.is_set of an event another thread set -> set and an until loop
 * (until.c). Waits whose other side the
 * recording does not show (which lock, which event, which condition) are
 * fitted as sleeps of the time they blocked, and counted in the
 * description. Last, each thread's cpu and c_call ops are brought down to
 * the kernel's CPU time of it (scale.c). */
#include "gilsim/fit.h"
#include "fit_int.h"
#include "recfile_int.h"
#include "exittail.h"
#include "fitstate_int.h"

#include <stdlib.h>
#include <string.h>

/* Time held in [a, b). holds are sorted and disjoint. */
static int64_t held_between(const tinfo_t *t, int64_t a, int64_t b)
{
    size_t lo = 0, hi = t->n_holds;
    while (lo < hi) { /* the first hold ending after a */
        size_t mid = (lo + hi) / 2;
        if (t->holds[mid].r <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    int64_t sum = 0;
    for (size_t k = lo; k < t->n_holds && t->holds[k].h < b; k++) {
        int64_t s = t->holds[k].h > a ? t->holds[k].h : a;
        int64_t e = t->holds[k].r < b ? t->holds[k].r : b;
        if (e > s)
            sum += e - s;
    }
    return sum;
}

/* Thread.start creates the thread, then waits on an Event until the new
 * thread runs: the starter of thread c is the thread whose Event.wait ends
 * after c's first event and begins closest to it (at or before it, or up to
 * START_SLACK_NS after: the new thread may run before its parent reaches
 * the wait). */
#define START_SLACK_NS 10000000

static void match_starts(fit_t *F)
{
    int nt = F->r->n_threads;
    for (int c = 1; c < nt; c++) {
        int64_t ts = F->ti[c].start, best_d = INT64_MAX;
        int best_s = -1;
        size_t best_k = 0;
        for (int s = 0; s < nt; s++) {
            if (s == c)
                continue;
            const tinfo_t *t = &F->ti[s];
            for (size_t k = 0; k < t->n_items; k++) {
                const span_ref_t *it = &t->items[k];
                if (it->ev < 0 || it->t0 > ts + START_SLACK_NS)
                    continue;
                const gsr_event_t *e = &F->r->threads[s].ev[it->ev];
                if (e->kind != GSR_WAIT || e->cat != GSR_CAT_EVENT || e->t1 < ts ||
                    t->starts[it->ev] >= 0)
                    continue;
                int64_t d = it->t0 > ts ? it->t0 - ts : 0;
                if (d < best_d) {
                    best_d = d;
                    best_s = s;
                    best_k = k;
                }
            }
        }
        fthread_t *ft = &F->f->th[c];
        if (best_s >= 0) {
            F->ti[best_s].starts[F->ti[best_s].items[best_k].ev] = c;
            ft->starter = best_s;
        }
        ft->autostart = ft->starter < 0;
        if (ft->starter < 0) {
            ft->start_at = ts;
            F->f->n_unmatched_starts++;
        }
    }
}

/* The thread a Thread.join of thread j over [t0, t1] waited for: one that
 * ended during the join (the latest before it returned), else the first one
 * not joined yet that had already ended. -1 if none. */
static int match_join(fit_t *F, int j, int64_t t0, int64_t t1, bool *joined)
{
    int best = -1; /* a join returns only after the thread's last release, once
                      the joiner holds the GIL again: the end is before t1 */
    for (int c = 0; c < F->r->n_threads; c++) {
        if (c == j || joined[c] || F->ti[c].end > t1)
            continue;
        if (F->ti[c].end >= t0) {
            if (best < 0 || F->ti[best].end < t0 || F->ti[c].end > F->ti[best].end)
                best = c;
        } else if (best < 0) {
            best = c;
        }
    }
    if (best >= 0)
        joined[best] = true;
    return best;
}

static int push(fit_t *F, int i, fop_t op)
{
    fthread_t *ft = &F->f->th[i];
    if (op.kind == FOP_CPU && op.dur <= 0)
        return 0;
    ft->st.n[op.kind]++;
    ft->st.sum[op.kind] += op.dur;
    return fop_push(&ft->ops, &op);
}

/* What the model adds to a sleep or an I/O call of the scenario before the
 * thread asks for the GIL again: a timer ends late by the slack, half the
 * jitter on average and timer_late, and wakes its sleeper on its own idle
 * core without a wake-up (timer_wake "local", which the fit writes); an
 * I/O's woken thread waits the wake-up latency for an idle core (at the
 * depth the call's d idled it, with a wakeup_idle curve). The recording's
 * release-to-ask time d holds the real ones, so the op is that time less
 * the model's (so the replay's release-to-ask is the recorded one). */
static int64_t model_adds(const fscenario_t *f, int kind, int64_t d)
{
    if (kind == FOP_SLEEP)
        return f->timer_slack_ns + f->timer_jitter_ns / 2 + f->timer_late_ns;
    return kind == FOP_IO ? fit_wake_at(f, d) : 0;
}

static int64_t less_model(const fscenario_t *f, int kind, int64_t d)
{
    d -= model_adds(f, kind, d);
    return d > 0 ? d : 0;
}

/* A Queue.put or Queue.get. */
static bool queue_op_of(const gsr_event_t *e)
{
    return e->kind == GSR_WAIT && e->cat == GSR_CAT_QUEUE && e->name &&
           (strstr(e->name, "put") || strstr(e->name, "get"));
}

/* Every thread's queue operations, then which queue each was on. */
static int match_queues(fit_t *F)
{
    size_t n = 0;
    for (int i = 0; i < F->r->n_threads; i++)
        n += F->ti[i].n_items;
    F->q = malloc((n + 1) * sizeof *F->q);
    if (!F->q)
        return -1;
    for (int i = 0; i < F->r->n_threads; i++) {
        tinfo_t *t = &F->ti[i];
        t->qop = malloc((t->n_items + 1) * sizeof *t->qop);
        if (!t->qop)
            return -1;
        for (size_t k = 0; k < t->n_items; k++) {
            const span_ref_t *it = &t->items[k];
            t->qop[k] = -1;
            if (it->ev < 0 || !queue_op_of(&F->r->threads[i].ev[it->ev]))
                continue;
            const gsr_event_t *e = &F->r->threads[i].ev[it->ev];
            t->qop[k] = (int)F->n_q;
            F->q[F->n_q++] = (fq_op_t){.thread = i, .put = strstr(e->name, "put") != NULL,
                                       .blocked = it->released, .t0 = e->t, .t1 = e->t1,
                                       .rel = it->rel, .wake = it->wake};
        }
    }
    if (!F->n_q || fit_queues(F->q, F->n_q, F->r->n_threads, F->f) != 0)
        return F->n_q ? -1 : 0;
    /* wake_ipi first: the most qcut.c cuts for a wake; F->q is grouped by thread */
    if (fit_wake_ipi(F->r, F->f) != 0 || fit_recheck(F->r, F->q, F->n_q, F->f) != 0)
        return -1;
    for (size_t k = 0, j; k < F->n_q; k = j) {
        tinfo_t *t = &F->ti[F->q[k].thread];
        if ((j = fit_queue_cut(F->r, F->q, F->n_q, k, &t->holds, &t->n_holds, F->f)) == 0)
            return -1;
    }
    return 0;
}

/* A wait the other mechanisms leave a sleep (a lock wait, an Event,
 * Condition or Semaphore wait that starts no thread, a named Lock.acquire)
 * matched to the release that ended it (waits.c); then each thread's puts,
 * a socket send's after it with o->send_put_after. */
static int match_waits(fit_t *F, const gs_fit_opts_t *o)
{
    F->f->send_put_after = o->send_put_after;
    F->f->send_put_before = o->send_put_before;
    if (fit_waits_new(F->r, &F->w) != 0)
        return -1;
    for (int i = 0; i < F->r->n_threads; i++) {
        tinfo_t *t = &F->ti[i];
        if (!(t->wq = malloc((t->n_items + 1) * sizeof *t->wq)))
            return -1;
        for (size_t k = 0; k < t->n_items; k++) {
            const gsr_event_t *e = t->items[k].ev >= 0 ? &F->r->threads[i].ev[t->items[k].ev] : 0;
            bool recv = e && e->kind == GSR_CALL && e->name && strncmp(e->name, "socket.recv", 11) == 0;
            bool waits = e && (e->kind == GSR_LOCK_WAIT || (e->kind == GSR_CALL && e->cat == GSR_CAT_LOCK) || recv ||
                               (e->kind == GSR_WAIT && t->starts[t->items[k].ev] < 0 && t->qop[k] < 0 &&
                                e->cat != GSR_CAT_JOIN));
            t->wq[k] = waits && t->items[k].off > 0 ? fit_waits_match(F->w, F->f, i, e) : -1;
        }
    }
    for (int i = 0; i < F->r->n_threads; i++)
        if (fit_waits_posts(F->w, i, F->f->lock_race, &F->ti[i].wk, &F->ti[i].n_wk) != 0)
            return -1;
    F->f->n_locks = F->f->lock_race ? fit_waits_n_locks(F->w) : 0;
    return 0;
}

/* A C call that released the GIL (the ones fit_typical_late() judges),
 * socket sends included. */
static bool releasing_c_call(const fit_t *F, int i, const span_ref_t *it)
{
    if (it->ev < 0 || it->off <= 0)
        return false;
    const gsr_event_t *e = &F->r->threads[i].ev[it->ev];
    return e->kind == GSR_CALL && (e->released || it->released) && e->name &&
           (e->cat == GSR_CAT_C || e->cat == GSR_CAT_C_NOGIL || fit_socket_send(e));
}

/* Every such call's name and time off the GIL, then the median per name. */
static int typical_c_calls(fit_t *F)
{
    size_t n = 0, m = 0;
    for (int i = 0; i < F->r->n_threads; i++)
        n += F->ti[i].n_items;
    F->typ = malloc((n + 1) * sizeof *F->typ);
    if (!F->typ)
        return -1;
    for (int i = 0; i < F->r->n_threads; i++)
        for (size_t k = 0; k < F->ti[i].n_items; k++) {
            const span_ref_t *it = &F->ti[i].items[k];
            if (releasing_c_call(F, i, it))
                F->typ[m++] = (fit_typical_t){F->r->threads[i].ev[it->ev].name, it->off};
        }
    F->n_typ = fit_typical_build(F->typ, m);
    return 0;
}

/* The op of one item. */
static int item_op(fit_t *F, int i, const span_ref_t *it, bool *joined)
{
    fthread_t *ft = &F->f->th[i];
    fop_t op = {.kind = FOP_SLEEP, .target = -1, .dur = it->off};
    if (it->ev == EV_INFERRED_C) {
        ft->st.n_inferred_c++;
        return push(F, i, (fop_t){.kind = FOP_CCALL, .keeps_gil = true, .target = -1,
                                  .dur = it->t1 - it->t0});
    }
    if (it->ev < 0) {
        ft->st.n_unnamed++;
        op.kind = FOP_CCALL;
        return push(F, i, op);
    }
    const gsr_event_t *e = &F->r->threads[i].ev[it->ev];
    int wq = F->ti[i].wq[it - F->ti[i].items];
    int lock = wq >= 0 && F->f->lock_race ? fit_waits_lock_of(F->w, wq) : -1;
    if (lock >= 0) { /* --lock-race: the Lock's own acquire (lockrace.c) */
        ft->st.n_matched_wait++;
        F->f->unused_queues |= (uint64_t)1 << wq;
        return push(F, i, (fop_t){.kind = FOP_ACQUIRE, .target = lock});
    }
    if (wq >= 0) { /* woken by another thread's put */
        ft->st.n_matched_wait += e->cat != GSR_CAT_IO;
        ft->st.n_matched_recv += e->cat == GSR_CAT_IO;
        return push(F, i, (fop_t){.kind = FOP_GET, .target = wq});
    }
    if (e->kind == GSR_CALL) {
        if (!e->released && !it->released) {
            op.kind = FOP_CCALL;
            op.keeps_gil = true;
            op.dur = e->t1 - e->t;
        } else {
            op.send = fit_socket_send(e);
            op.kind = e->cat == GSR_CAT_SLEEP            ? FOP_SLEEP
                      : e->cat == GSR_CAT_IO && !op.send ? fit_io_kind(F->f, &ft->st, op.dur)
                                                         : FOP_CCALL;
            ft->st.n_send += op.send;
            op.post = op.send ? fit_waits_send_post(F->w, i, e) + 1 : 0;
            ft->st.n_send_post += op.post > 0;
            op.dur = less_model(F->f, op.kind, op.dur);
            if (releasing_c_call(F, i, it)) {
                op.late = fit_typical_late(F->typ, F->n_typ, e->name, it->off);
                op.late = op.late < op.dur ? op.late : op.dur;
            }
        }
        return push(F, i, op);
    }
    if (e->kind == GSR_WAIT && F->ti[i].starts[it->ev] >= 0)
        return push(F, i, (fop_t){.kind = FOP_START, .target = F->ti[i].starts[it->ev]});
    if (queue_op_of(e)) {
        int q = F->ti[i].qop[it - F->ti[i].items];
        return push(F, i, (fop_t){.kind = strstr(e->name, "put") ? FOP_PUT : FOP_GET,
                                  .target = F->q[q].queue});
    }
    if (e->kind == GSR_WAIT && e->cat == GSR_CAT_JOIN) {
        int c = match_join(F, i, e->t, e->t1, joined);
        if (c >= 0)
            return push(F, i, (fop_t){.kind = FOP_JOIN, .target = c});
        F->f->n_unmatched_joins++;
    }
    if (it->off <= 0)
        return 0; /* a wait that did not block: nothing for the model to do */
    ft->st.n_approx_wait++;
    op.dur = less_model(F->f, FOP_SLEEP, op.dur);
    return push(F, i, op);
}

/* How many of the program's threads wanted a core at once, on average over
 * the time thread i wanted one (itself included): a step function of every
 * thread's CPU intervals (holds, and C without the GIL). */
typedef struct step {
    int64_t t;
    int d;
} step_t;

static int cmp_step(const void *a, const void *b)
{
    const step_t *x = a, *y = b;
    return x->t != y->t ? (x->t < y->t ? -1 : 1) : x->d - y->d;
}

static int demand_steps(fit_t *F)
{
    size_t n = 0;
    for (int i = 0; i < F->r->n_threads; i++)
        n += 2 * F->ti[i].n_cpu;
    step_t *st = malloc((n + 1) * sizeof *st);
    F->dem_t = malloc((n + 1) * sizeof *F->dem_t);
    F->dem = malloc((n + 1) * sizeof *F->dem);
    if (!st || !F->dem_t || !F->dem) {
        free(st);
        return -1;
    }
    size_t k = 0;
    for (int i = 0; i < F->r->n_threads; i++)
        for (size_t j = 0; j < F->ti[i].n_cpu; j++) {
            st[k++] = (step_t){F->ti[i].cpu[j].h, 1};
            st[k++] = (step_t){F->ti[i].cpu[j].r, -1};
        }
    if (k)
        qsort(st, k, sizeof *st, cmp_step);
    int d = 0;
    for (size_t j = 0; j < k; j++) { /* demand from dem_t[j] on */
        d += st[j].d;
        F->dem_t[j] = st[j].t;
        F->dem[j] = d;
    }
    F->n_dem = k;
    free(st);
    return 0;
}

/* Thread i's time wanting a core by how many of its program's threads
 * wanted one then (st.dem_ns), and their mean (st.demand). */
static void demand_of(const fit_t *F, int i)
{
    long double sum = 0, own = 0;
    const tinfo_t *t = &F->ti[i];
    fthread_stats_t *st = &F->f->th[i].st;
    for (size_t j = 0; j < t->n_cpu; j++) {
        int64_t a = t->cpu[j].h, b = t->cpu[j].r;
        size_t lo = 0, hi = F->n_dem;
        while (lo < hi) { /* the first step after a */
            size_t mid = (lo + hi) / 2;
            if (F->dem_t[mid] <= a)
                lo = mid + 1;
            else
                hi = mid;
        }
        int64_t x = a;
        int d = lo ? F->dem[lo - 1] : 0;
        for (size_t k = lo; x < b; k++) {
            int64_t y = k < F->n_dem && F->dem_t[k] < b ? F->dem_t[k] : b;
            int dd = d > 1 ? d : 1;
            st->dem_ns[dd < FIT_DEM_MAX ? dd : FIT_DEM_MAX - 1] += y - x;
            sum += (long double)(y - x) * dd;
            own += y - x;
            x = y;
            if (k < F->n_dem)
                d = F->dem[k];
            else
                break;
        }
    }
    st->demand = own > 0 ? (double)(sum / own) : 1;
}

static int fit_thread(fit_t *F, int i, bool *joined)
{
    const tinfo_t *t = &F->ti[i];
    int64_t cursor = 0;
    size_t w = 0; /* the next put for another thread's wait: one inside an item goes before
                     it (earlier than recorded never deadlocks a replay: waits.c) */
    for (size_t k = 0; k <= t->n_items; k++) {
        const span_ref_t *it = k < t->n_items ? &t->items[k] : NULL;
        for (; w < t->n_wk && (!it || t->wk[w].t < it->t1 || t->wk[w].t <= it->t0); w++) {
            int64_t at = t->wk[w].t > cursor ? t->wk[w].t : cursor;
            at = it && at > it->t0 ? (it->t0 > cursor ? it->t0 : cursor) : at;
            if (push(F, i, (fop_t){.kind = FOP_CPU, .target = -1, .dur = held_between(t, cursor, at)}) ||
                push(F, i, t->wk[w].lock >= 0
                               ? (fop_t){.kind = FOP_RELEASE, .target = t->wk[w].lock}
                               : (fop_t){.kind = FOP_PUT, .target = t->wk[w].queue}))
                return -1;
            cursor = at;
        }
        if (!it)
            break;
        fop_t uop; /* an Event.set or is_set (until.c): 0 none, its time Python */
        int u = it->ev >= 0 ? fit_until_op(F->f, &F->r->threads[i].ev[it->ev], cursor, &uop)
                            : -1;
        if (u == 0)
            continue;
        if (push(F, i, (fop_t){.kind = FOP_CPU, .target = -1,
                               .dur = held_between(t, cursor, it->t0)}) != 0 ||
            (u > 0 ? push(F, i, uop) : item_op(F, i, it, joined)) != 0)
            return -1;
        bool python_inside = u > 0 || (it->ev >= 0 && F->r->threads[i].ev[it->ev].kind == GSR_WAIT);
        cursor = python_inside ? it->t0 : it->t1; /* Queue.put is Python; a C call is not */
    }
    for (size_t k = 0; k < F->r->threads[i].n_ev; k++) {
        const gsr_event_t *e = &F->r->threads[i].ev[k];
        F->f->th[i].st.n_forced += e->kind == GSR_RELEASE && e->why == GSR_WHY_FORCED;
    }
    return push(F, i, (fop_t){.kind = FOP_CPU, .target = -1,
                              .dur = held_between(t, cursor, INT64_MAX)});
}

static void free_fit(fit_t *F, fscenario_t *f)
{
    for (int i = 0; F->ti && i < F->r->n_threads; i++) {
        free(F->ti[i].holds);
        free(F->ti[i].items);
        free(F->ti[i].starts);
        free(F->ti[i].qop);
        free(F->ti[i].wq);
        free(F->ti[i].wk);
        free(F->ti[i].cpu);
    }
    free(F->ti);
    free(F->q);
    free(F->dem_t);
    free(F->dem);
    free(F->typ);
    free(F->req);
    fit_waits_free(F->w);
    for (int i = 0; f->th && i < f->n_threads; i++)
        fop_list_free(f->th[i].ops.v, f->th[i].ops.n);
    free(f->th);
}

/* One fit of r into *json: 0, -1 (out of memory), or 1 when --lock-race
 * paired a hold across a wait for another thread (lockrace.c): the caller
 * fits again with race 2 (the recorded order, the description says why). */
static int fit_built(const gsr_recording_t *r, const char *rec_path, const gs_fit_opts_t *o,
                     int race, char **json, size_t *len)
{
    int rc = -1;
    fscenario_t f = {.rec_path = rec_path, .n_threads = r->n_threads,
                     .cores = r->cores >= 1 && r->cores <= 1024 ? r->cores : 1,
                     .lock_race = race == 1, .lock_refused = race == 2,
                     .ipi_cpu_wanted = o->ipi_by_cpu};
    fit_machine_costs(r, &f, o->wake_curve);
    fit_t F = {.r = r, .f = &f};
    bool *joined = NULL;
    f.th = calloc((size_t)r->n_threads, sizeof *f.th);
    F.ti = calloc((size_t)r->n_threads, sizeof *F.ti);
    if (!f.th || !F.ti)
        goto oom;
    if (fit_collect_requests(r, &F.req, &F.n_req) != 0)
        goto oom;
    for (int i = 0; i < r->n_threads; i++) {
        f.th[i].starter = -1;
        f.th[i].autostart = true;
        fit_name_thread(&f, i, r->threads[i].name);
        if (fit_scan_thread(&F, i) != 0)
            goto oom;
    }
    match_starts(&F);
    if (typical_c_calls(&F) != 0 || fit_until_events(r, &f) != 0 || match_queues(&F) != 0 ||
        match_waits(&F, o) != 0 || demand_steps(&F) != 0)
        goto oom;
    joined = calloc((size_t)r->n_threads, sizeof *joined);
    if (!joined)
        goto oom;
    for (int i = 0; i < r->n_threads; i++) {
        memset(joined, 0, (size_t)r->n_threads * sizeof *joined);
        if (fit_thread(&F, i, joined) != 0)
            goto oom;
        demand_of(&F, i);
    }
    if (fit_lock_pairs(&f) != 0) /* --lock-race: every thread's Lock ops paired */
        goto oom;
    if (f.lock_unsafe) {
        rc = 1;
        goto oom;
    }
    for (int i = 0; i < r->n_threads; i++) {
        if (!o->raw_cpu && fit_sends_to_median(&f, i, r->threads[i].os_run_delay_ns) != 0)
            goto oom;
        if (!o->raw_cpu)
            fit_scale_to_os_cpu(&f, i, r->threads[i].os_cpu_ns);
    }
    if (o->sentinels && fit_sentinels(&f, F.q, F.n_q) != 0) /* before the folding */
        goto oom;
    if (fit_deal_and_fold(&f, o->exact) != 0) /* pools dealt, then repeats and loops (pool.c) */
        goto oom;
    if (fit_wake_ipi(r, &f) != 0) /* before the load and the race: their replays pay it */
        goto oom;
    if (fit_exit_tail(r, &f) != 0) /* after wake_ipi: the post's cost; before the replays */
        goto oom;
    if (!o->raw_cpu && !o->no_load)
        fit_load(r, &f);
    if (fit_wake_place(r, &f) != 0 || fit_race(r, &f, o) != 0 ||
        fit_emit(r, &f, json, len) != 0)
        goto oom;
    rc = 0;
oom:
    free(joined);
    free_fit(&F, &f);
    return rc;
}

int gs_fit_recording(const char *rec_path, const gs_fit_opts_t *o, char **json, size_t *len,
                     gs_error_t *err)
{
    static const gs_fit_opts_t defaults = {0};
    o = o ? o : &defaults;
    *json = NULL;
    *len = 0;
    gsr_recording_t *r = NULL;
    int rc = gsr_recording_read(rec_path, &r, err);
    if (rc)
        return rc;
    if (r->partial && !o->allow_partial) {
        err->code = GS_ESCENARIO;
        snprintf(err->path, sizeof err->path, "partial");
        snprintf(err->msg, sizeof err->msg,
                 "a partial recording (%.200s): the program did not run to its end, so its "
                 "replay would not compare with a whole run; record it again to the end, or "
                 "fit what was recorded with --partial",
                 *r->partial_reason ? r->partial_reason : "stopped early");
        gsr_recording_free(r);
        return GS_ESCENARIO;
    }
    int race = o->lock_race ? 1 : 0;
    while ((rc = fit_built(r, rec_path, o, race, json, len)) == 1)
        race = 2;
    gsr_recording_free(r);
    if (rc == 0)
        return 0;
    memset(err, 0, sizeof *err);
    snprintf(err->file, sizeof err->file, "%s", rec_path);
    err->code = GS_ENOMEM;
    snprintf(err->msg, sizeof err->msg, "out of memory fitting the recording");
    return GS_ENOMEM;
}
