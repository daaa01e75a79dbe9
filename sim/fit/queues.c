/* queues.c - which queue each Queue.put and Queue.get was on.
 *
 * The recording names the call (Queue.get), not the queue. A pipeline of
 * threads over two queues is not one queue, so the queues are told apart by
 * who woke whom: a get that blocked was notified by a put of another thread
 * while it waited (from its release of the GIL to its wake-up, when it asks
 * for the GIL again), and a put notifies only once it runs: from its start,
 * or its own wake-up if it blocked too, to its end. The waker is the put
 * running latest in the waiting window; a put that blocked on a full queue
 * was woken by a get the same way. Each
 * such wake-up is a vote that the putter's puts and the getter's gets are
 * on one queue. A thread's puts are one "side", its gets another; each side
 * joins the side of the other kind that voted most for it (union-find), so a
 * thread that both gets and puts (a pipeline stage) can forward from one
 * queue to another. A side no wake-up tells about joins the queue whose
 * items it balances best (a put side the queue with the most gets not yet
 * fed, a get side the one with the most items not yet taken), and with no
 * votes at all everything is one queue. Each queue's maxsize is the most
 * items it held at once when one of its puts blocked, else unbounded.
 * Cost: O(n log n) in the queue operations. */
#include "fit_int.h"

#include <stdlib.h>
#include <string.h>

typedef struct qref {
    int64_t t;
    int op; /* index into ops */
} qref_t;

static int cmp_qref(const void *a, const void *b)
{
    const qref_t *x = a, *y = b;
    if (x->t != y->t)
        return x->t < y->t ? -1 : 1;
    return x->op - y->op;
}

static int find(int *parent, int x)
{
    while (parent[x] != x)
        x = parent[x] = parent[parent[x]];
    return x;
}

static void unite(int *parent, int a, int b)
{
    a = find(parent, a);
    b = find(parent, b);
    if (a != b)
        parent[b] = a;
}

/* When op runs its own code, able to notify: from its start, or from its
 * wake-up when it waited itself. */
static int64_t active_from(const fq_op_t *op)
{
    return op->blocked ? op->wake : op->t0;
}

/* The op of refs (sorted by active_from) by a thread other than self that
 * ran latest in the window [rel, wake] of a blocked op; looks back at most
 * 64 ops. -1 if none. */
static int waker(const fq_op_t *ops, const qref_t *refs, size_t n, const fq_op_t *w, int self)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (refs[mid].t <= w->wake)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo, back = 0; k > 0 && back < 64; k--, back++) {
        const fq_op_t *o = &ops[refs[k - 1].op];
        if (o->thread != self && o->t1 >= w->rel)
            return refs[k - 1].op;
    }
    return -1;
}

static int side(const fq_op_t *op)
{
    return 2 * op->thread + (op->put ? 0 : 1);
}

/* fit_queues()'s working state. Threads are numbered compactly (only those
 * that use a queue); side s = 2 * thread + (0 for its puts, 1 for its gets). */
typedef struct qfit {
    fq_op_t *ops;
    size_t n;
    int n_threads, n_sides;
    int *parent;      /* union-find over the sides: one root per queue */
    int *votes;       /* [put thread * n_threads + get thread]: wake-ups seen */
    int64_t *bal;     /* per side: items put (+) or taken (-) */
    int *qid;         /* per root side: its queue number, or -1 */
    bool *seen;       /* per side: has an op */
    bool *voted;      /* per side: joined by a vote */
    qref_t *puts, *gets; /* sorted by active_from */
    size_t np, ng;
} qfit_t;

/* Step 1: renumber ops[].thread compactly over the threads that use a queue
 * (votes is n_threads^2); over 4096 of them, too many to weigh, they all
 * count as one thread, so everything is one queue. -1: out of memory. */
static int compact_threads(qfit_t *q, int n_threads_all)
{
    int *orig = malloc(((size_t)n_threads_all + 1) * sizeof *orig), n_threads = 0;
    if (!orig)
        return -1;
    for (int t = 0; t < n_threads_all; t++)
        orig[t] = -1;
    for (size_t k = 0; k < q->n; k++) {
        if (orig[q->ops[k].thread] < 0)
            orig[q->ops[k].thread] = n_threads++;
        q->ops[k].thread = orig[q->ops[k].thread];
    }
    free(orig);
    q->n_threads = n_threads;
    q->n_sides = 2 * n_threads;
    if (n_threads > 4096) { /* too many to weigh: one queue */
        for (size_t k = 0; k < q->n; k++)
            q->ops[k].thread = 0;
        q->n_threads = 1;
        q->n_sides = 2;
    }
    return 0;
}

/* Step 2: each side its own set; mark the sides that have ops, and list the
 * puts and the gets sorted by when they could notify. */
static void index_ops(qfit_t *q)
{
    for (int s = 0; s < q->n_sides; s++)
        q->parent[s] = s;
    for (size_t k = 0; k < q->n; k++) {
        q->seen[side(&q->ops[k])] = true;
        if (q->ops[k].put)
            q->puts[q->np++] = (qref_t){active_from(&q->ops[k]), (int)k};
        else
            q->gets[q->ng++] = (qref_t){active_from(&q->ops[k]), (int)k};
    }
    qsort(q->puts, q->np, sizeof *q->puts, cmp_qref);
    qsort(q->gets, q->ng, sizeof *q->gets, cmp_qref);
}

/* Step 3: who woke whom. Each blocked op's waker (a get for a blocked put,
 * a put for a blocked get) is a vote for [putter][getter]. */
static void count_votes(qfit_t *q)
{
    const fq_op_t *ops = q->ops;
    for (size_t k = 0; k < q->n; k++) {
        if (!ops[k].blocked)
            continue;
        int w = ops[k].put ? waker(ops, q->gets, q->ng, &ops[k], ops[k].thread)
                           : waker(ops, q->puts, q->np, &ops[k], ops[k].thread);
        if (w < 0)
            continue;
        int p = ops[k].put ? ops[k].thread : ops[w].thread;
        int g = ops[k].put ? ops[w].thread : ops[k].thread;
        q->votes[p * q->n_threads + g]++;
    }
}

/* Step 4: each thread's put side joins the get side that voted most for it,
 * and its get side the put side that did; both are marked voted. */
static void join_partners(qfit_t *q)
{
    const int nt = q->n_threads, *votes = q->votes;
    for (int t = 0; t < nt; t++) {
        int best_g = -1, best_p = -1;
        for (int u = 0; u < nt; u++) {
            if (votes[t * nt + u] > 0 && (best_g < 0 || votes[t * nt + u] > votes[t * nt + best_g]))
                best_g = u;
            if (votes[u * nt + t] > 0 && (best_p < 0 || votes[u * nt + t] > votes[best_p * nt + t]))
                best_p = u;
        }
        if (best_g >= 0) {
            unite(q->parent, 2 * t, 2 * best_g + 1);
            q->voted[2 * t] = q->voted[2 * best_g + 1] = true;
        }
        if (best_p >= 0) {
            unite(q->parent, 2 * best_p, 2 * t + 1);
            q->voted[2 * best_p] = q->voted[2 * t + 1] = true;
        }
    }
}

/* The voted queue (root side) whose items side s balances best: for a put
 * side the one with the most gets not yet fed, for a get side the one with
 * the most items not yet taken. */
static int best_balance(const qfit_t *q, int s)
{
    int best = -1;
    int64_t best_b = 0;
    for (int r = 0; r < q->n_sides; r++) {
        if (!q->seen[r] || !q->voted[r] || find(q->parent, r) != r)
            continue;
        int64_t b = 0;
        for (int u = 0; u < q->n_sides; u++)
            if (q->seen[u] && q->voted[u] && find(q->parent, u) == r)
                b += q->bal[u];
        b = s % 2 == 0 ? -b : b; /* puts want a queue short of items */
        if (best < 0 || b > best_b) {
            best = r;
            best_b = b;
        }
    }
    return best;
}

/* Step 5: a side no wake-up told about joins the queue it balances best;
 * with no votes at all, everything is one queue. */
static void join_unvoted(qfit_t *q)
{
    for (size_t k = 0; k < q->n; k++) /* items per side: + put, - get */
        q->bal[side(&q->ops[k])] += q->ops[k].put ? 1 : -1;
    int any_voted = -1;
    for (int s = 0; s < q->n_sides; s++)
        if (q->seen[s] && q->voted[s])
            any_voted = s;
    for (int s = 0; s < q->n_sides; s++) {
        if (!q->seen[s] || q->voted[s])
            continue;
        if (any_voted < 0) { /* nothing to go by: one queue */
            unite(q->parent, 0, s);
            continue;
        }
        unite(q->parent, best_balance(q, s), s);
    }
}

/* Step 6: queues numbered in the order of their first operation (all: the
 * ops sorted by end), at most FIT_MAX_QUEUES (the rest go to the last). */
static void number_queues(qfit_t *q, const qref_t *all, fscenario_t *f)
{
    for (int s = 0; s < q->n_sides; s++)
        q->qid[s] = -1;
    f->n_queues = 0;
    for (size_t k = 0; k < q->n; k++) {
        int r = find(q->parent, side(&q->ops[all[k].op]));
        if (q->qid[r] < 0 && f->n_queues < FIT_MAX_QUEUES)
            q->qid[r] = f->n_queues++;
        q->ops[all[k].op].queue = q->qid[r] >= 0 ? q->qid[r] : f->n_queues - 1;
    }
}

/* Step 7: maxsize, the most items held at once, when a put ever blocked;
 * a queue never full is unbounded (0) as far as the recording shows. */
static void fit_maxsize(const qfit_t *q, const qref_t *all, fscenario_t *f)
{
    int64_t occ[FIT_MAX_QUEUES] = {0};
    bool full[FIT_MAX_QUEUES] = {false};
    for (int i = 0; i < f->n_queues; i++)
        f->queue_maxsize[i] = 1;
    for (size_t k = 0; k < q->n; k++) {
        const fq_op_t *op = &q->ops[all[k].op];
        int i = op->queue;
        occ[i] += op->put ? 1 : -1;
        occ[i] = occ[i] < 0 ? 0 : occ[i];
        f->queue_maxsize[i] = occ[i] > f->queue_maxsize[i] ? occ[i] : f->queue_maxsize[i];
        full[i] = full[i] || (op->put && op->blocked);
    }
    for (int i = 0; i < f->n_queues; i++)
        if (!full[i])
            f->queue_maxsize[i] = 0; /* never full: unbounded as far as it shows */
}

/* Steps 6 and 7 over the ops in the order they ended. -1: out of memory. */
static int assign_queues(qfit_t *q, fscenario_t *f)
{
    qref_t *all = malloc((q->n + 1) * sizeof *all);
    if (!all)
        return -1;
    for (size_t k = 0; k < q->n; k++)
        all[k] = (qref_t){q->ops[k].t1, (int)k};
    qsort(all, q->n, sizeof *all, cmp_qref);
    number_queues(q, all, f);
    fit_maxsize(q, all, f);
    free(all);
    return 0;
}

int fit_queues(fq_op_t *ops, size_t n, int n_threads_all, fscenario_t *f)
{
    qfit_t q = {.ops = ops, .n = n};
    int rc = -1;
    /* the recording's thread numbers, given back at the end (recheck.c
     * reads each op's thread's holds) */
    int *given = malloc((n + 1) * sizeof *given);
    if (!given)
        return -1;
    for (size_t k = 0; k < n; k++)
        given[k] = ops[k].thread;
    if (compact_threads(&q, n_threads_all) != 0)
        goto out;
    size_t ns = (size_t)q.n_sides, nt = (size_t)q.n_threads;
    q.parent = malloc(ns * sizeof *q.parent);
    q.votes = calloc(nt * nt, sizeof *q.votes); /* [put][get] */
    q.bal = calloc(ns, sizeof *q.bal);
    q.qid = malloc(ns * sizeof *q.qid);
    q.seen = calloc(ns, sizeof *q.seen);
    q.voted = calloc(ns, 1);
    q.puts = malloc((n + 1) * sizeof *q.puts);
    q.gets = malloc((n + 1) * sizeof *q.gets);
    if (!q.parent || !q.votes || !q.bal || !q.qid || !q.seen || !q.voted || !q.puts || !q.gets)
        goto out;
    index_ops(&q);
    count_votes(&q);
    join_partners(&q);
    join_unvoted(&q);
    rc = assign_queues(&q, f);
out:
    for (size_t k = 0; k < n; k++)
        ops[k].thread = given[k];
    free(given);
    free(q.parent);
    free(q.votes);
    free(q.bal);
    free(q.qid);
    free(q.seen);
    free(q.voted);
    free(q.puts);
    free(q.gets);
    return rc;
}
