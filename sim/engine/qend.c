/* qend.c - end markers in a queue.Queue: `q.put(None)` and the consumer's
 * `for item in iter(q.get, None)`.
 *
 * The engine's queue holds a count, not items. A producer that ends its
 * consumers puts one marker per consumer; which consumer takes which, and
 * how many items each took before, is the run's outcome. So a queue that is
 * given a marker keeps where each marker stands in its FIFO: the number of
 * puts counted since (seq) at each marker's put, in a ring; a get takes the
 * item numbered by the gets counted, and it is a marker when that number is
 * the ring's head. Numbers start when the first marker is put (the first
 * marker's number is then the queue's length), so a queue that never has
 * one costs nothing.
 * Each thread's last get on the queue says whether it took a marker
 * (got_end), read by the op interpreter's consume loop once the engine has
 * run the get (gs_queue_got_end syncs a program running ahead). A thread
 * that puts a marker says so just before its put request (put_end), with
 * the baton: the put then takes it when the engine runs it.
 * Invariant: the ring's entries lie in [n_got, n_put), increasing.
 * Cost: O(1) a put or get; memory O(markers queued + threads). */
#include "qend.h"
#include "engine_int.h"
#include "sync.h"
#include "worker.h"

#include <stdlib.h>

struct gs_qend {
    int64_t n_put, n_got; /* puts and gets since the first marker */
    int64_t *pos;         /* ring of the markers' item numbers */
    size_t head, n, cap;
    uint8_t *put_end;     /* per thread: its next put on the queue is a marker */
    uint8_t *got_end;     /* per thread: its last get took a marker */
};

static struct gs_qend *qend_of(gs_engine_t *e, int i)
{
    gs_queue_t *q = &e->queues[i];
    if (!q->qend) {
        struct gs_qend *x = calloc(1, sizeof *x);
        if (!x)
            gs__fatal("out of memory (queue end markers)");
        x->put_end = calloc((size_t)e->n_thr + 1, 1);
        x->got_end = calloc((size_t)e->n_thr + 1, 1);
        if (!x->put_end || !x->got_end)
            gs__fatal("out of memory (queue end markers)");
        x->n_put = q->len; /* the items already queued are numbered 0..len-1 */
        q->qend = x;
    }
    return q->qend;
}

static void ring_push(struct gs_qend *x, int64_t v)
{
    if (x->n == x->cap) {
        size_t cap = x->cap ? 2 * x->cap : 8;
        int64_t *p = malloc(cap * sizeof *p);
        if (!p)
            gs__fatal("out of memory (queue end markers)");
        for (size_t k = 0; k < x->n; k++)
            p[k] = x->pos[(x->head + k) % x->cap];
        free(x->pos);
        x->pos = p;
        x->head = 0;
        x->cap = cap;
    }
    x->pos[(x->head + x->n++) % x->cap] = v;
}

void gs__qend_op(gs_engine_t *e, gs_thr_t *t, int i, bool put)
{
    struct gs_qend *x = e->queues[i].qend;
    if (!x)
        return;
    if (put) {
        if (x->put_end[t->id]) {
            x->put_end[t->id] = 0;
            ring_push(x, x->n_put);
        }
        x->n_put++;
        return;
    }
    bool end = x->n > 0 && x->pos[x->head] == x->n_got;
    GS_ASSERT(x->n == 0 || x->pos[x->head] >= x->n_got);
    if (end) {
        x->head = (x->head + 1) % x->cap;
        x->n--;
    }
    x->got_end[t->id] = end;
    x->n_got++;
}

void gs__qend_free(gs_engine_t *e)
{
    for (int i = 0; e->queues && i < e->m->n_queues; i++) {
        struct gs_qend *x = e->queues[i].qend;
        if (!x)
            continue;
        free(x->pos);
        free(x->put_end);
        free(x->got_end);
        free(x);
        e->queues[i].qend = NULL;
    }
}

/* ---- primitives ----------------------------------------------------------- */

int gs_queue_put_end(gs_ctx_t *c, int queue)
{
    gs_engine_t *e = c->e;
    if (queue < 0 || queue >= e->m->n_queues)
        return gs_queue_put(c, queue);
    gs__ahead_sync(c); /* the flag is engine state: its requests done first */
    qend_of(e, queue)->put_end[c->id] = 1;
    return gs_queue_put(c, queue);
}

bool gs_queue_got_end(gs_ctx_t *c, int queue)
{
    gs_engine_t *e = c->e;
    if (queue < 0 || queue >= e->m->n_queues)
        return false;
    gs__ahead_sync(c); /* its get has run */
    const struct gs_qend *x = e->queues[queue].qend;
    return x && x->got_end[c->id];
}
