/* trace.c - creating and recording a trace (reading it: trace_read.c).
 *
 * Each lane keeps its closed intervals in a growing array plus one open
 * interval. A state change at `now` closes the open interval (dropped if it
 * has zero length, merged into the previous one if that one is adjacent and
 * equal) and opens the new one. Invariant (checked by gs_trace_check): a
 * lane's intervals are sorted, disjoint and have positive length.
 * Allocation failure sets a flag and stops recording; gs_sim_run then reports
 * GS_ENOMEM rather than handing out a partial trace. */
#include "trace_priv.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdlib.h>
#include <string.h>

static char *dup_str(const char *s)
{
    size_t n = strlen(s ? s : "") + 1;
    char *d = malloc(n);
    if (d)
        memcpy(d, s ? s : "", n);
    return d;
}

static char **dup_names(const gs_sync_spec_t *s, int n, bool *ok)
{
    char **v = calloc((size_t)n + 1, sizeof *v);
    if (!v) {
        *ok = false;
        return NULL;
    }
    for (int i = 0; i < n; i++) {
        v[i] = dup_str(s[i].name);
        *ok = *ok && v[i];
    }
    return v;
}

static void free_names(char **v, int n)
{
    if (!v)
        return;
    for (int i = 0; i < n; i++)
        free(v[i]);
    free(v);
}

/* ---- creation ----------------------------------------------------------- */

static bool add_lane(gs_trace_t *t, gs_lane_kind_t kind, const char *name, int process, int index)
{
    lane_buf_t *l = &t->lanes[t->n_lanes++];
    l->pub.kind = kind;
    l->pub.name = dup_str(name);
    l->pub.process = process;
    l->pub.index = index;
    return l->pub.name != NULL;
}

/* The model's threads grouped by process, each group in thread order: a
 * counting sort, so that a model of many processes is laid out in linear
 * time (a scan of every thread per process took 25 s at 64 000). *first
 * (n_processes + 1 entries) indexes *order. false when out of memory. */
static bool threads_by_process(const gs_model_t *m, int **first, int **order)
{
    *first = calloc((size_t)m->n_processes + 1, sizeof **first);
    *order = calloc((size_t)m->n_threads + 1, sizeof **order);
    if (!*first || !*order)
        return false;
    for (int i = 0; i < m->n_threads; i++)
        (*first)[m->threads[i].process + 1]++;
    for (int p = 0; p < m->n_processes; p++)
        (*first)[p + 1] += (*first)[p];
    int *next = calloc((size_t)m->n_processes + 1, sizeof *next);
    if (!next)
        return false;
    memcpy(next, *first, (size_t)m->n_processes * sizeof *next);
    for (int i = 0; i < m->n_threads; i++)
        (*order)[next[m->threads[i].process]++] = i;
    free(next);
    return true;
}

/* Lanes in order: per process its GIL lane (if it has a GIL) and its
 * threads' lanes, then the cores. false when out of memory. */
static bool add_lanes(gs_trace_t *t, const gs_model_t *m)
{
    int *first = NULL, *order = NULL;
    bool ok = threads_by_process(m, &first, &order);
    for (int p = 0; ok && p < m->n_processes; p++) {
        const gs_process_spec_t *ps = &m->processes[p];
        t->process_names[p] = dup_str(ps->name);
        ok = ok && t->process_names[p];
        t->process_gil[p] = ps->python.gil;
        t->switch_interval[p] = ps->python.switch_interval_ns;
        char vb[16];
        t->process_version[p] = dup_str(gs_python_version_name(&ps->python, vb, sizeof vb));
        ok = ok && t->process_version[p];
        t->gil_lane[p] = -1;
        if (ps->python.gil != GS_GIL_NONE || ps->python.free_threaded) { /* an import may switch it on */
            t->gil_lane[p] = t->n_lanes;
            ok = ok && add_lane(t, GS_LANE_GIL, "GIL", p, p);
        }
        for (int k = first[p]; k < first[p + 1]; k++) {
            int i = order[k];
            t->thread_lane[i] = t->n_lanes;
            ok = ok && add_lane(t, GS_LANE_THREAD, m->threads[i].name, p, i);
        }
    }
    free(first);
    free(order);
    t->core_lane0 = t->n_lanes;
    for (int c = 0; c < m->machine.cores; c++) {
        char name[32];
        snprintf(name, sizeof name, "core %d", c);
        ok = ok && add_lane(t, GS_LANE_CORE, name, -1, c);
    }
    return ok;
}

/* Copies of the model's names, op labels and annotations, so the trace
 * outlives the model. false when out of memory. */
static bool copy_texts(gs_trace_t *t, const gs_model_t *m)
{
    bool ok = true;
    t->names[0] = dup_names(m->locks, m->n_locks, &ok);
    t->n_names[0] = m->n_locks;
    t->names[1] = dup_names(m->events, m->n_events, &ok);
    t->n_names[1] = m->n_events;
    t->names[2] = dup_names(m->queues, m->n_queues, &ok);
    t->n_names[2] = m->n_queues;
    t->op_labels = calloc((size_t)m->n_op_labels + 1, sizeof *t->op_labels);
    ok = ok && t->op_labels;
    if (t->op_labels) {
        t->n_op_labels = m->n_op_labels;
        for (uint32_t i = 0; i < m->n_op_labels; i++) {
            t->op_labels[i] = dup_str(m->op_labels[i]);
            ok = ok && t->op_labels[i];
        }
    }
    t->ann_at = calloc((size_t)m->n_annotations + 1, sizeof *t->ann_at);
    t->ann_text = calloc((size_t)m->n_annotations + 1, sizeof *t->ann_text);
    ok = ok && t->ann_at && t->ann_text;
    if (ok) {
        t->n_ann = m->n_annotations;
        for (int i = 0; i < m->n_annotations; i++) {
            t->ann_at[i] = m->annotations[i].at_ns;
            t->ann_text[i] = dup_str(m->annotations[i].text);
            ok = ok && t->ann_text[i];
        }
    }
    return ok;
}

/* The fact tracks (trace.h): a drop-request track per process, a holder
 * track per lock; and what explaining needs of the model (policy, queues). */
static bool add_facts(gs_trace_t *t, const gs_model_t *m)
{
    bool ok = true;
    t->policy = (int)m->machine.policy;
    t->per_core =
        m->machine.per_core_queues || m->machine.wake_affine_pct > 0 || m->machine.keep_core;
    t->fact_mask = GS_FACT_DROP_REQUEST | GS_FACT_LOCK_OWNER | GS_FACT_CORES;
    t->n_facts = m->n_processes + m->n_locks;
    t->facts = calloc((size_t)t->n_facts + 1, sizeof *t->facts);
    t->queue_max = calloc((size_t)m->n_queues + 1, sizeof *t->queue_max);
    t->queue_init = calloc((size_t)m->n_queues + 1, sizeof *t->queue_init);
    ok = t->facts && t->queue_max && t->queue_init;
    for (int q = 0; ok && q < m->n_queues; q++) {
        t->queue_max[q] = m->queues[q].maxsize;
        t->queue_init[q] = m->queues[q].initial;
    }
    for (int i = 0; t->facts && i < t->n_facts; i++) {
        bool drop = i < m->n_processes;
        lane_buf_t *l = &t->facts[i];
        l->pub.kind = drop ? GS_LANE_DROP_REQUEST : GS_LANE_LOCK_OWNER;
        l->pub.name = dup_str(drop ? "drop request" : m->locks[i - m->n_processes].name);
        l->pub.process = drop ? i : -1;
        l->pub.index = drop ? i : i - m->n_processes;
        ok = ok && l->pub.name;
    }
    return ok;
}

gs_trace_t *gs__trace_new(const gs_model_t *m)
{
    return gs__trace_new_for(m, false);
}

gs_trace_t *gs__trace_new_for(const gs_model_t *m, bool metrics_only)
{
    gs_trace_t *t = calloc(1, sizeof *t);
    if (!t)
        return NULL;
    t->name = dup_str(m->name);
    t->description = dup_str(m->description);
    t->seed = m->seed;
    t->n_threads = m->n_threads;
    t->n_cores = m->machine.cores;
    t->n_processes = m->n_processes;
    int max_lanes = m->n_processes + m->n_threads + m->machine.cores;
    t->lanes = calloc((size_t)max_lanes, sizeof *t->lanes);
    t->thread_lane = calloc((size_t)m->n_threads + 1, sizeof *t->thread_lane);
    t->process_names = calloc((size_t)m->n_processes, sizeof *t->process_names);
    t->process_gil = calloc((size_t)m->n_processes, sizeof *t->process_gil);
    t->gil_lane = calloc((size_t)m->n_processes, sizeof *t->gil_lane);
    t->switch_interval = calloc((size_t)m->n_processes, sizeof *t->switch_interval);
    t->process_version = calloc((size_t)m->n_processes, sizeof *t->process_version);
    if (!t->name || !t->description || !t->lanes || !t->thread_lane || !t->process_names ||
        !t->process_gil || !t->gil_lane || !t->switch_interval || !t->process_version)
        goto fail;
    bool lanes_ok = add_lanes(t, m);
    bool texts_ok = copy_texts(t, m); /* also after a failure: gs_trace_free frees both */
    bool facts_ok = add_facts(t, m);
    t->msg = dup_str("");
    if (!lanes_ok || !texts_ok || !facts_ok || !t->msg ||
        (metrics_only && !gs__tally_attach(t, m)))
        goto fail;
    return t;
fail:
    gs_trace_free(t);
    return NULL;
}

void gs_trace_free(gs_trace_t *t)
{
    if (!t)
        return;
    if (t->tally)
        gs__tally_detach(t);
    for (int i = 0; i < t->n_lanes; i++) {
        free((char *)t->lanes[i].pub.name);
        gs__trace_stash_put(t->lanes[i].iv, t->lanes[i].cap);
    }
    free(t->lanes);
    for (int i = 0; t->facts && i < t->n_facts; i++) {
        free((char *)t->facts[i].pub.name);
        gs__trace_stash_put(t->facts[i].iv, t->facts[i].cap);
    }
    free(t->facts);
    free(t->queue_max);
    free(t->queue_init);
    free(t->thread_lane);
    if (t->process_names)
        for (int p = 0; p < t->n_processes; p++)
            free(t->process_names[p]);
    free(t->process_names);
    if (t->process_version)
        for (int p = 0; p < t->n_processes; p++)
            free(t->process_version[p]);
    free(t->process_version);
    free(t->process_gil);
    free(t->gil_lane);
    free(t->switch_interval);
    for (int k = 0; k < 3; k++)
        free_names(t->names[k], t->n_names[k]);
    free_names(t->op_labels, (int)t->n_op_labels);
    gs__trace_stash_put_inst(t->inst, t->inst_seq, t->cap_inst);
    free(t->ann_at);
    free_names(t->ann_text, t->n_ann);
    free(t->name);
    free(t->description);
    free(t->msg);
    free(t);
}

/* ---- recording ----------------------------------------------------------- */

/* Room for one more interval: the array as the budget counts it doubles
 * (from 64), the real one grows only when full (it may come from the stash
 * bigger). false when out of memory. */
static bool grow(gs_trace_t *t, lane_buf_t *l)
{
    size_t counted = l->counted ? l->counted * 2 : 64;
    if (l->n == l->cap && !(l->cap == 0 && gs__trace_stash_take(l))) {
        size_t cap = l->cap ? l->cap * 2 : 64;
        gs_interval_t *v = realloc(l->iv, cap * sizeof *v);
        if (!v) {
            t->growth.oom = true;
            return false;
        }
        l->iv = v;
        l->cap = cap;
    }
    t->growth.bytes += (counted - l->counted) * sizeof *l->iv;
    l->counted = counted;
    return true;
}

/* Closes the lane's open interval at end: appended, or merged into the last
 * one when it continues it. end is written into the array, never into
 * l->cur first (the copy of l->cur right after that store would load it
 * back wider than it was stored: a store-forwarding stall). Inline where
 * the engine's ~20 000 lane changes a run call it (buf_change: called, it
 * spilled half the registers of its caller); `append` for the rest. */
static inline void append_inline(gs_trace_t *t, lane_buf_t *l, int64_t end)
{
    if (t->tally) { /* metrics-only: summed, not kept */
        gs__tally_append(t, l, end);
        return;
    }
    const gs_interval_t *iv = &l->cur;
    if (l->n > 0) {
        gs_interval_t *last = &l->iv[l->n - 1];
        if (last->end_ns == iv->start_ns && gs__iv_same(last, iv)) {
            last->end_ns = end;
            return;
        }
    }
    if (l->n == l->counted && !grow(t, l))
        return;
    gs_interval_t *d = &l->iv[l->n++];
    *d = *iv;
    d->end_ns = end;
}

static void append(gs_trace_t *t, lane_buf_t *l, int64_t end)
{
    append_inline(t, l, end);
}

static inline void buf_set(gs_trace_t *t, lane_buf_t *l, int64_t now, gs_state_t st, int32_t who,
                    uint32_t op, uint8_t flags)
{
    /* Half the calls change nothing. They compare the fields in place: a
     * struct built on the stack and compared as a whole made the compiler
     * load it back wider than it stored it (a store-forwarding stall, 13% of
     * a sweep's time in perf). */
    if (l->open) {
        if (st != GS_ST_COUNT && l->cur.state == (uint8_t)st && l->cur.who == who &&
            l->cur.op == op && l->cur.flags == flags)
            return;
        if (now > l->cur.start_ns)
            append(t, l, now);
    }
    if ((!l->open || st == GS_ST_COUNT) && t->tally) /* a lane opens or closes */
        gs__tally_lane_open(t, l, st != GS_ST_COUNT);
    l->open = st != GS_ST_COUNT;
    l->cur = (gs_interval_t){.start_ns = now, .end_ns = now, .who = who, .op = op,
                             .state = (uint8_t)st, .flags = flags, .seq = t->seq++};
}

static inline void lane_set(gs_trace_t *t, int lane, int64_t now, gs_state_t st, int32_t who, uint32_t op,
                     uint8_t flags)
{
    buf_set(t, &t->lanes[lane], now, st, who, op, flags);
}

/* buf_set for a change the caller knows is one (the engine's lanes): the
 * open interval, if any, is closed at now, and the new one opened. */
static inline void buf_change(gs_trace_t *t, lane_buf_t *l, int64_t now, gs_state_t st,
                              int32_t who, uint32_t op, uint8_t flags)
{
    if (l->open && now > l->cur.start_ns)
        append_inline(t, l, now);
    if ((!l->open || st == GS_ST_COUNT) && t->tally) /* a lane opens or closes */
        gs__tally_lane_open(t, l, st != GS_ST_COUNT);
    l->open = st != GS_ST_COUNT;
    l->cur = (gs_interval_t){.start_ns = now, .end_ns = now, .who = who, .op = op,
                             .state = (uint8_t)st, .flags = flags, .seq = t->seq++};
}

void gs__trace_drop_request(gs_trace_t *t, int p, int64_t now, int32_t requester)
{
    if (p >= 0 && p < t->n_processes)
        buf_set(t, &t->facts[p], now, requester < 0 ? GS_ST_COUNT : GS_ST_WAIT_GIL, requester,
                GS_NO_OP, 0);
}

void gs__trace_lock_owner(gs_trace_t *t, int lock, int64_t now, int32_t owner)
{
    if (lock >= 0 && lock < t->n_facts - t->n_processes)
        buf_set(t, &t->facts[t->n_processes + lock], now,
                owner < 0 ? GS_ST_COUNT : GS_ST_WAIT_LOCK, owner, GS_NO_OP, 0);
}

void gs__trace_set_facts(gs_trace_t *t, unsigned facts)
{
    t->fact_mask = facts;
}

void gs__trace_thread(gs_trace_t *t, int thread, int64_t now, gs_state_t st, int32_t who,
                      uint32_t op, uint8_t flags)
{
    lane_set(t, t->thread_lane[thread], now, st, who, op, flags);
}

void gs__trace_core(gs_trace_t *t, int core, int64_t now, int32_t thread, gs_state_t st,
                    uint8_t flags)
{
    lane_set(t, t->core_lane0 + core, now, thread < 0 ? GS_ST_COUNT : st, thread, GS_NO_OP,
             flags);
}

void gs__trace_thread_change(gs_trace_t *t, int thread, int64_t now, gs_state_t st, int32_t who,
                             uint32_t op, uint8_t flags)
{
    buf_change(t, &t->lanes[t->thread_lane[thread]], now, st, who, op, flags);
}

void gs__trace_core_change(gs_trace_t *t, int core, int64_t now, int32_t thread, gs_state_t st,
                           uint8_t flags)
{
    buf_change(t, &t->lanes[t->core_lane0 + core], now, thread < 0 ? GS_ST_COUNT : st, thread,
               GS_NO_OP, flags);
}

void gs__trace_gil(gs_trace_t *t, int p, int64_t now, int32_t holder)
{
    if (t->gil_lane[p] >= 0)
        lane_set(t, t->gil_lane[p], now, holder < 0 ? GS_ST_COUNT : GS_ST_PY, holder, GS_NO_OP,
                 0);
}

/* Appends an instant, its fields written in place: one built on the stack
 * and copied in was loaded back wider than its fields were stored (a
 * store-forwarding stall: 2.6% of a sweep of the fitted producer_consumer
 * scenario, in perf, on this one copy). */
static void push_instant(gs_trace_t *t, int64_t now, gs_instant_kind_t k, int thread,
                         int process, int obj, int64_t arg)
{
    if (t->tally) {
        gs__tally_push_instant(t, now, k, thread, arg);
        return;
    }
    /* The arrays may come from the stash (trace_stash.c), of any size; the
     * budget counts them as grown from 64 by doubling, as a fresh run's. */
    if (t->n_inst == t->cap_inst && !(t->cap_inst == 0 && gs__trace_stash_take_inst(t))) {
        size_t cap = t->cap_inst ? t->cap_inst * 2 : 64;
        gs_instant_t *v = realloc(t->inst, cap * sizeof *v);
        if (v)
            t->inst = v;
        uint32_t *s = v ? realloc(t->inst_seq, cap * sizeof *s) : NULL;
        if (!v || !s) {
            t->growth.oom = true;
            return;
        }
        t->inst_seq = s;
        t->cap_inst = cap;
    }
    if (t->n_inst == t->counted_inst) {
        size_t counted = t->counted_inst ? t->counted_inst * 2 : 64;
        t->growth.bytes += (counted - t->counted_inst) * (sizeof *t->inst + sizeof *t->inst_seq);
        t->counted_inst = counted;
    }
    t->inst_seq[t->n_inst] = t->seq++;
    gs_instant_t *in = &t->inst[t->n_inst++];
    memset(in, 0, sizeof *in); /* the padding too, as an initializer left it */
    in->t_ns = now;
    in->kind = (uint8_t)k;
    in->thread = thread;
    in->process = process;
    in->obj = obj;
    in->arg = arg;
}

void gs__trace_instant(gs_trace_t *t, int64_t now, gs_instant_kind_t k, int thread, int process,
                       int64_t arg)
{
    push_instant(t, now, k, thread, process, -1, arg);
}

void gs__trace_instant_obj(gs_trace_t *t, int64_t now, gs_instant_kind_t k, int thread, int obj,
                           int64_t arg)
{
    push_instant(t, now, k, thread, -1, obj, arg);
}

static _Thread_local const gs_instant_t *sort_base; /* parallel sweeps sort at once */

static int by_time(const void *a, const void *b)
{
    size_t i = *(const size_t *)a, j = *(const size_t *)b;
    int64_t x = sort_base[i].t_ns, y = sort_base[j].t_ns;
    if (x != y)
        return x < y ? -1 : 1;
    return (i > j) - (i < j); /* stable: equal times keep their order */
}

/* The engine records instants in time order; the annotations, known from the
 * start, are merged in at the end (an annotation goes after the instants of
 * its own time). A stable sort is kept for traces fabricated out of order. */
static void merge_annotations(gs_trace_t *t)
{
    if (t->n_ann == 0)
        return;
    gs_instant_t *out = malloc((t->n_inst + (size_t)t->n_ann) * sizeof *out);
    uint32_t *oseq = malloc((t->n_inst + (size_t)t->n_ann) * sizeof *oseq);
    int *order = malloc((size_t)t->n_ann * sizeof *order);
    if (!out || !order || !oseq) {
        free(out);
        free(oseq);
        free(order);
        t->growth.oom = true;
        return;
    }
    for (int i = 0; i < t->n_ann; i++) { /* insertion sort: a lesson has a few */
        int j = i;
        while (j > 0 && t->ann_at[order[j - 1]] > t->ann_at[i]) {
            order[j] = order[j - 1];
            j--;
        }
        order[j] = i;
    }
    size_t n = 0, k = 0;
    for (int a = 0; a < t->n_ann; a++) {
        int i = order[a];
        while (k < t->n_inst && t->inst[k].t_ns <= t->ann_at[i]) {
            oseq[n] = t->inst_seq[k];
            out[n++] = t->inst[k++];
        }
        oseq[n] = UINT32_MAX;
        out[n++] = (gs_instant_t){.t_ns = t->ann_at[i], .kind = GS_IN_ANNOTATION,
                                  .thread = -1, .process = -1, .obj = -1, .arg = i};
    }
    while (k < t->n_inst) {
        oseq[n] = t->inst_seq[k];
        out[n++] = t->inst[k++];
    }
    free(order);
    free(t->inst);
    free(t->inst_seq);
    t->inst = out;
    t->inst_seq = oseq;
    t->n_inst = t->cap_inst = n;
}

static void sort_instants(gs_trace_t *t)
{
    bool sorted = true;
    for (size_t i = 1; i < t->n_inst && sorted; i++)
        sorted = t->inst[i - 1].t_ns <= t->inst[i].t_ns;
    if (sorted)
        return;
    size_t *idx = malloc(t->n_inst * sizeof *idx);
    gs_instant_t *out = malloc(t->n_inst * sizeof *out);
    uint32_t *oseq = malloc(t->n_inst * sizeof *oseq);
    if (!idx || !out || !oseq) {
        free(idx);
        free(out);
        free(oseq);
        t->growth.oom = true;
        return;
    }
    for (size_t i = 0; i < t->n_inst; i++)
        idx[i] = i;
    sort_base = t->inst; /* qsort has no context argument in C11 */
    qsort(idx, t->n_inst, sizeof *idx, by_time);
    for (size_t i = 0; i < t->n_inst; i++) {
        out[i] = t->inst[idx[i]];
        oseq[i] = t->inst_seq[idx[i]];
    }
    free(idx);
    free(t->inst);
    free(t->inst_seq);
    t->inst = out;
    t->inst_seq = oseq;
    t->cap_inst = t->n_inst;
}

void gs__trace_finish(gs_trace_t *t, int64_t now, gs_outcome_t o, const char *msg,
                      int64_t events)
{
    if (t->tally)
        t->tally_late = true; /* the lanes close at the end, maybe past the makespan */
    else {
        sort_instants(t);
        merge_annotations(t);
    }
    for (int i = 0; i < t->n_lanes; i++) {
        lane_set(t, i, now, GS_ST_COUNT, -1, GS_NO_OP, 0);
        t->lanes[i].pub.iv = t->lanes[i].iv;
        t->lanes[i].pub.n = t->lanes[i].n;
    }
    for (int i = 0; i < t->n_facts; i++) {
        buf_set(t, &t->facts[i], now, GS_ST_COUNT, -1, GS_NO_OP, 0);
        t->facts[i].pub.iv = t->facts[i].iv;
        t->facts[i].pub.n = t->facts[i].n;
    }
    if (t->tally) /* every lane's last interval; no lane or instant to read */
        gs__tally_finish(t);
    t->outcome = o;
    t->end_ns = now;
    t->events = events;
    char *m = dup_str(msg);
    if (m) {
        free(t->msg);
        t->msg = m;
    }
}

size_t gs__trace_bytes(const gs_trace_t *t)
{
    return t->growth.bytes;
}

const gs_trace_growth_t *gs__trace_growth(const gs_trace_t *t)
{
    return &t->growth;
}

bool gs__trace_oom(const gs_trace_t *t)
{
    return t->growth.oom;
}
