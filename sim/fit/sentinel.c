/* sentinel.c - consumers that end on their sentinel, not on a count.
 *
 * `while (item := q.get()) is not None: work(item)` run by two or more
 * threads over one queue: how many items each consumer takes is the run's
 * outcome (which consumer was on a core when an item came), not the
 * program's. A fit that gives each consumer its recorded number of gets
 * makes the faster one finish early in a replay whose split differs, and a
 * consumer that has had its count then leaves its last items to the others
 * (replay_notes.md point 47: a consumer of producer_consumer done 40 ms
 * before its producer, where the real ones end 0.1-0.2 ms after it).
 *
 * What the recording shows: every Queue.put and Queue.get (queues.c tells
 * the queues apart), not the items. A queue.Queue is FIFO, so when the
 * queue's last K gets are the last gets of its K consumers, one each, and
 * its last K puts come from one thread, those puts are what ended the
 * consumers: the producer's sentinels.
 *  1. fit_sentinels (before the folding): on such a queue, the K puts are
 *     marked end markers, and each consumer's last get as taking one (so
 *     that neither folds into a repeat of the plain ones).
 *  2. fit_consume_loops (after it): a consumer's ops from its first get on
 *     the queue to the marked one become {"consume": QUEUE, "do": [...]},
 *     the body being the turn of its largest repeat holding one get (its
 *     ops after the get, then those before it), else the ops between its
 *     last two gets. Only a run of plain ops (Python, C calls, I/O, sleeps,
 *     gets of that queue, repeats of those) is made a loop; anything else
 *     (a put to another queue, a join) leaves the gets as recorded.
 * Cost: O(n log n) in the queue operations, O(ops) per thread. */
#include "fit_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- 1. which puts ended which gets -------------------------------------- */

static int cmp_t1(const void *a, const void *b)
{
    const fq_op_t *x = *(const fq_op_t *const *)a, *y = *(const fq_op_t *const *)b;
    return (x->t1 > y->t1) - (x->t1 < y->t1);
}

/* Marks the last n ops of kind (and end) with target q in l; the number
 * marked. */
static int mark_last(fop_list_t *l, int kind, int q, int n)
{
    int k = 0;
    for (int j = l->n - 1; j >= 0 && k < n; j--)
        if (l->v[j].kind == kind && l->v[j].target == q) {
            l->v[j].end = true;
            k++;
        }
    return k;
}

static int count_ops(const fop_list_t *l, int kind, int q)
{
    int k = 0;
    for (int j = 0; j < l->n; j++)
        k += l->v[j].kind == kind && l->v[j].target == q;
    return k;
}

/* Queue q's ops v[0..n) sorted by end: its getter threads, and the putter
 * of its last K puts when they show K consumers ended on them (else -1). */
static int sentinel_putter(const fq_op_t *const *v, size_t n, int n_threads, int *getters,
                           int *k_out)
{
    int k = 0, putter = -1;
    bool *is_getter = calloc((size_t)n_threads + 1, sizeof *is_getter);
    bool *is_putter = calloc((size_t)n_threads + 1, sizeof *is_putter);
    if (!is_getter || !is_putter)
        goto out;
    for (size_t j = 0; j < n; j++) {
        if (v[j]->put)
            is_putter[v[j]->thread] = true;
        else if (!is_getter[v[j]->thread]) {
            is_getter[v[j]->thread] = true;
            getters[k++] = v[j]->thread;
        }
    }
    for (int i = 0; i < n_threads; i++)
        if (is_getter[i] && is_putter[i])
            k = 0; /* a thread that gets and puts: a stage, not a consumer */
    if (k < 2)
        goto out;
    /* the last k gets: one per consumer; the last k puts: one thread's */
    int seen_g = 0, seen_p = 0;
    bool *took = calloc((size_t)n_threads + 1, sizeof *took);
    if (!took)
        goto out;
    for (size_t j = n; j-- > 0 && (seen_g < k || seen_p < k);) {
        const fq_op_t *o = v[j];
        if (!o->put && seen_g < k) {
            if (took[o->thread]) {
                seen_g = -1;
                break;
            }
            took[o->thread] = true;
            seen_g++;
        } else if (o->put && seen_p < k) {
            if (putter >= 0 && putter != o->thread) {
                putter = -1;
                break;
            }
            putter = o->thread;
            seen_p++;
        }
    }
    free(took);
    if (seen_g != k || seen_p != k)
        putter = -1;
out:
    free(is_getter);
    free(is_putter);
    *k_out = k;
    return putter;
}

int fit_sentinels(fscenario_t *f, const fq_op_t *ops, size_t n)
{
    const fq_op_t **v = malloc((n + 1) * sizeof *v);
    int *getters = malloc(((size_t)f->n_threads + 1) * sizeof *getters);
    int rc = -1;
    if (!v || !getters)
        goto out;
    for (int q = 0; q < f->n_queues; q++) {
        size_t m = 0;
        for (size_t j = 0; j < n; j++)
            if (ops[j].queue == q && ops[j].thread < f->n_threads)
                v[m++] = &ops[j];
        qsort(v, m, sizeof *v, cmp_t1);
        int k = 0, p = sentinel_putter(v, m, f->n_threads, getters, &k);
        if (p < 0)
            continue;
        /* the fitted lists must hold the recorded ops (a put for another
         * thread's wait, fit.c, is not one) */
        size_t puts = 0;
        for (size_t j = 0; j < m; j++)
            puts += v[j]->put;
        if ((size_t)count_ops(&f->th[p].ops, FOP_PUT, q) != puts)
            continue;
        mark_last(&f->th[p].ops, FOP_PUT, q, k);
        for (int g = 0; g < k; g++)
            mark_last(&f->th[getters[g]].ops, FOP_GET, q, 1);
        f->n_sentinel_queues++;
    }
    rc = 0;
out:
    free(v);
    free(getters);
    return rc;
}

/* ---- 2. the consume loops -------------------------------------------------- */

static bool plain(const fop_t *o)
{
    return o->kind == FOP_CPU || o->kind == FOP_CCALL || o->kind == FOP_IO ||
           o->kind == FOP_SLEEP;
}

/* The gets of q in o (itself, or in its body): -1 when o is not loop
 * material (see the top). */
static int gets_in(const fop_t *o, int q)
{
    if (plain(o))
        return 0;
    if (o->kind == FOP_GET && o->target == q && !o->end)
        return 1;
    if (o->kind != FOP_REPEAT)
        return -1;
    int k = 0;
    for (int j = 0; j < o->n_body; j++) {
        const fop_t *b = &o->body[j];
        if (b->kind == FOP_GET && b->target == q && !b->end)
            k++;
        else if (!plain(b))
            return -1;
    }
    return k;
}

/* A deep copy of op into *out (a repeat's body copied too). -1 OOM. */
static int copy_op(const fop_t *op, fop_t *out)
{
    *out = *op;
    if (op->kind != FOP_REPEAT || op->n_body == 0)
        return 0;
    out->body = malloc((size_t)op->n_body * sizeof *out->body);
    if (!out->body)
        return -1;
    for (int j = 0; j < op->n_body; j++)
        if (copy_op(&op->body[j], &out->body[j]) != 0) {
            fop_list_free(out->body, j);
            return -1;
        }
    return 0;
}

/* The loop's body: the turn of the largest repeat in v[a..p) with one get
 * (after the get, then before it), else the plain ops between the last
 * get before p and p. A new array in *body (NULL, n 0: none). -1 OOM. */
static int loop_body(const fop_t *v, int a, int p, int q, fop_t **body, int *n_body)
{
    const fop_t *src = NULL;
    int n_src = 0, g = -1;
    int64_t best = 0;
    for (int j = a; j < p; j++)
        if (v[j].kind == FOP_REPEAT && gets_in(&v[j], q) == 1 && v[j].count > best) {
            best = v[j].count;
            src = v[j].body;
            n_src = v[j].n_body;
        }
    if (!src) { /* the plain ops after the last get before p */
        for (int j = p - 1; j >= a && g < 0; j--)
            if (v[j].kind == FOP_GET)
                g = j;
        if (g < 0)
            g = p - 1;
        src = &v[g + 1];
        n_src = p - g - 1;
        g = -1;
    } else {
        for (int j = 0; j < n_src; j++)
            if (src[j].kind == FOP_GET)
                g = j;
    }
    *body = NULL;
    *n_body = 0;
    if (n_src - (g >= 0) <= 0)
        return 0;
    fop_t *b = malloc((size_t)n_src * sizeof *b);
    if (!b)
        return -1;
    for (int j = 0; j < n_src; j++) { /* rotated: after the get, then before it */
        int s = g >= 0 ? (g + 1 + j) % n_src : j;
        if (g >= 0 && s == g)
            continue;
        if (copy_op(&src[s], &b[*n_body]) != 0) {
            fop_list_free(b, *n_body);
            *n_body = 0;
            return -1;
        }
        (*n_body)++;
    }
    *body = b;
    return 0;
}

/* v[a..p] (p the get that took the end marker) replaced by op. */
static void replace_run(fop_list_t *l, int a, int p, const fop_t *op)
{
    for (int k = a; k <= p; k++)
        if (l->v[k].kind == FOP_REPEAT || l->v[k].kind == FOP_UNTIL ||
            l->v[k].kind == FOP_CONSUME)
            fop_list_free(l->v[k].body, l->v[k].n_body);
    l->v[a] = *op;
    memmove(&l->v[a + 1], &l->v[p + 1], (size_t)(l->n - p - 1) * sizeof *l->v);
    l->n -= p - a;
}

int fit_consume_loops(fthread_t *t)
{
    fop_list_t *l = &t->ops;
    for (int p = 0; p < l->n; p++) {
        if (l->v[p].kind != FOP_GET || !l->v[p].end)
            continue;
        int q = l->v[p].target, first = p;
        for (int j = p - 1; j >= 0; j--) {
            int g = gets_in(&l->v[j], q);
            if (g < 0)
                break;
            if (g > 0)
                first = j; /* the run begins at its first get */
        }
        fop_t loop = {.kind = FOP_CONSUME, .target = q};
        if (loop_body(l->v, first, p, q, &loop.body, &loop.n_body) != 0)
            return -1;
        t->st.n_consume++;
        t->st.consume_gets += 1;
        for (int j = first; j < p; j++)
            t->st.consume_gets += l->v[j].kind == FOP_GET ? 1
                                  : l->v[j].kind == FOP_REPEAT
                                      ? gets_in(&l->v[j], q) * l->v[j].count
                                      : 0;
        replace_run(l, first, p, &loop);
        p = first;
    }
    return 0;
}

const char *fit_consume_note(const fthread_stats_t *s, char *buf, size_t n)
{
    buf[0] = '\0';
    if (s->n_consume)
        snprintf(buf, n,
                 "; its %" PRId64 " recorded gets, the last an end marker, are a consume loop "
                 "until it gets one",
                 s->consume_gets);
    return buf;
}
