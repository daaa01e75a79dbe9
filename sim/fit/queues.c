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

int fit_queues(fq_op_t *ops, size_t n, int n_threads_all, fscenario_t *f)
{
    /* the threads that use a queue, numbered compactly (votes is n^2) */
    int *orig = malloc(((size_t)n_threads_all + 1) * sizeof *orig), n_threads = 0;
    if (!orig)
        return -1;
    for (int t = 0; t < n_threads_all; t++)
        orig[t] = -1;
    for (size_t k = 0; k < n; k++) {
        if (orig[ops[k].thread] < 0)
            orig[ops[k].thread] = n_threads++;
        ops[k].thread = orig[ops[k].thread];
    }
    int n_sides = 2 * n_threads, rc = -1;
    if (n_threads > 4096) { /* too many to weigh: one queue */
        for (size_t k = 0; k < n; k++)
            ops[k].thread = 0;
        n_threads = 1;
        n_sides = 2;
    }
    int *parent = malloc((size_t)n_sides * sizeof *parent);
    int *votes = calloc((size_t)n_threads * (size_t)n_threads, sizeof *votes); /* [put][get] */
    int64_t *bal = calloc((size_t)n_sides, sizeof *bal);
    int *qid = malloc((size_t)n_sides * sizeof *qid);
    bool *seen = calloc((size_t)n_sides, sizeof *seen), *voted = calloc((size_t)n_sides, 1);
    qref_t *puts = malloc((n + 1) * sizeof *puts), *gets = malloc((n + 1) * sizeof *gets);
    size_t np = 0, ng = 0;
    if (!parent || !votes || !bal || !qid || !seen || !voted || !puts || !gets)
        goto out;
    for (int s = 0; s < n_sides; s++)
        parent[s] = s;
    for (size_t k = 0; k < n; k++) {
        seen[side(&ops[k])] = true;
        if (ops[k].put)
            puts[np++] = (qref_t){active_from(&ops[k]), (int)k};
        else
            gets[ng++] = (qref_t){active_from(&ops[k]), (int)k};
    }
    qsort(puts, np, sizeof *puts, cmp_qref);
    qsort(gets, ng, sizeof *gets, cmp_qref);
    for (size_t k = 0; k < n; k++) { /* who woke whom */
        if (!ops[k].blocked)
            continue;
        int w = ops[k].put ? waker(ops, gets, ng, &ops[k], ops[k].thread)
                           : waker(ops, puts, np, &ops[k], ops[k].thread);
        if (w < 0)
            continue;
        int p = ops[k].put ? ops[k].thread : ops[w].thread;
        int g = ops[k].put ? ops[w].thread : ops[k].thread;
        votes[p * n_threads + g]++;
    }
    for (int t = 0; t < n_threads; t++) { /* each side joins its strongest partner */
        int best_g = -1, best_p = -1;
        for (int u = 0; u < n_threads; u++) {
            if (votes[t * n_threads + u] > 0 &&
                (best_g < 0 || votes[t * n_threads + u] > votes[t * n_threads + best_g]))
                best_g = u;
            if (votes[u * n_threads + t] > 0 &&
                (best_p < 0 || votes[u * n_threads + t] > votes[best_p * n_threads + t]))
                best_p = u;
        }
        if (best_g >= 0) {
            unite(parent, 2 * t, 2 * best_g + 1);
            voted[2 * t] = voted[2 * best_g + 1] = true;
        }
        if (best_p >= 0) {
            unite(parent, 2 * best_p, 2 * t + 1);
            voted[2 * best_p] = voted[2 * t + 1] = true;
        }
    }
    for (size_t k = 0; k < n; k++) /* items per side: + put, - get */
        bal[side(&ops[k])] += ops[k].put ? 1 : -1;
    int any_voted = -1;
    for (int s = 0; s < n_sides; s++)
        if (seen[s] && voted[s])
            any_voted = s;
    for (int s = 0; s < n_sides; s++) {
        if (!seen[s] || voted[s])
            continue;
        if (any_voted < 0) { /* nothing to go by: one queue */
            unite(parent, 0, s);
            continue;
        }
        int best = -1; /* the queue this side's items balance best */
        int64_t best_b = 0;
        for (int r = 0; r < n_sides; r++) {
            if (!seen[r] || !voted[r] || find(parent, r) != r)
                continue;
            int64_t b = 0;
            for (int u = 0; u < n_sides; u++)
                if (seen[u] && voted[u] && find(parent, u) == r)
                    b += bal[u];
            b = s % 2 == 0 ? -b : b; /* puts want a queue short of items */
            if (best < 0 || b > best_b) {
                best = r;
                best_b = b;
            }
        }
        unite(parent, best, s);
    }
    /* queues numbered in the order of their first operation */
    for (int s = 0; s < n_sides; s++)
        qid[s] = -1;
    qref_t *all = malloc((n + 1) * sizeof *all);
    if (!all)
        goto out;
    for (size_t k = 0; k < n; k++)
        all[k] = (qref_t){ops[k].t1, (int)k};
    qsort(all, n, sizeof *all, cmp_qref);
    f->n_queues = 0;
    for (size_t k = 0; k < n; k++) {
        int r = find(parent, side(&ops[all[k].op]));
        if (qid[r] < 0 && f->n_queues < FIT_MAX_QUEUES)
            qid[r] = f->n_queues++;
        ops[all[k].op].queue = qid[r] >= 0 ? qid[r] : f->n_queues - 1;
    }
    /* maxsize: the most items held at once, when a put ever blocked */
    int64_t occ[FIT_MAX_QUEUES] = {0};
    bool full[FIT_MAX_QUEUES] = {false};
    for (int q = 0; q < f->n_queues; q++)
        f->queue_maxsize[q] = 1;
    for (size_t k = 0; k < n; k++) {
        const fq_op_t *op = &ops[all[k].op];
        int q = op->queue;
        occ[q] += op->put ? 1 : -1;
        occ[q] = occ[q] < 0 ? 0 : occ[q];
        f->queue_maxsize[q] = occ[q] > f->queue_maxsize[q] ? occ[q] : f->queue_maxsize[q];
        full[q] = full[q] || (op->put && op->blocked);
    }
    for (int q = 0; q < f->n_queues; q++)
        if (!full[q])
            f->queue_maxsize[q] = 0; /* never full: unbounded as far as it shows */
    free(all);
    rc = 0;
out:
    free(orig);
    free(parent);
    free(votes);
    free(bal);
    free(qid);
    free(seen);
    free(voted);
    free(puts);
    free(gets);
    return rc;
}
