/* pool.c - a thread pool's work items dealt evenly among its workers.
 *
 * A concurrent.futures.ThreadPoolExecutor hands each submitted item to
 * whichever of its workers is free (one SimpleQueue, in C, that the
 * recording sees only when it runs empty). So how many items each worker
 * did is the machine's outcome, not the program's: on the 2-CPU project VM
 * Linux kept one of examples/hash_pool.py's four hashers alone on a CPU for
 * the whole run in 5 of 9 quiet recordings (it did 21-24 of the 48 items,
 * the other three 7-10 each), and in the others the shares were even. A fit
 * that replays each worker's recorded share makes a model whose scheduler
 * shares the cores evenly run the lone worker's 24 items at half a core:
 * the others finish early, the run ends with that one worker taking the GIL
 * back after each C call (a re-take, not a switch) while the main thread
 * waits for it, and the replay has 25-30% fewer switches per second than
 * the recording and a makespan 10-15% longer (tests/reality/replay_notes.md,
 * point 25; tests/reality/switch_kinds.py counts them by kind).
 *
 * The scenario language has no queue whose items carry work, so the fit
 * cannot hand items out at run time; it deals them instead, as a pool whose
 * workers progress alike would: an even share each, a worker that ran more
 * giving its latest items, in the recorded order, to those that ran fewer.
 * It does so only where the shares show the kernel kept a worker apart
 * (POOL_UNEVEN); nearer shares are the model's own to make.
 *
 * A pool is two or more threads started by one thread and named as
 * concurrent.futures names its workers: one prefix, '_', a number
 * ("hasher_0", "ThreadPoolExecutor-0_3"). A worker's items are its runs of
 * a cpu op followed by a C call that releases the GIL (the task's Python
 * before its blocking call) and what follows up to the next such run; the
 * ops before its first item (its start-up) and after its last item's cpu
 * and put (its shutdown) stay its own. An item moves only if it holds
 * nothing but cpu ops, C calls and puts on queues that no worker of the
 * pool gets from (a put that wakes the pool's owner, a future's result): a
 * hand-off between two workers (the pool's own queue running empty) stays
 * with the worker that made it, where it was. Each worker's items keep the
 * recorded order by their place in that worker's run (item j of n at
 * (j + 0.5) / n), pinned and dealt alike.
 *
 * Costs: O(items log items) per pool; a pool's items are copied once. */
#include "fit_int.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* A pool is dealt only when its busiest worker ran this many times the
 * items of its least busy one or more. One worker the kernel kept alone on
 * a CPU beside three sharing the other runs about 3x as many as each of
 * them (hash_pool: 21-24 against 7-10); shares closer than 2x are what the
 * model's own sharing of the cores comes near (quiet mixed_pool: 1.1-1.4x;
 * under other programs' load 1.4-1.6x), and there each worker's recorded
 * share is kept: a replay's per-thread GIL totals are compared with the
 * recording's, and dealing those pools evenly put 3 of the loaded
 * recordings' per-worker figures out of their bound (point 25). */
#define POOL_UNEVEN 2

typedef struct pitem {
    double at;    /* (j + 0.5) / n in its worker's run: the order to keep */
    int from;     /* the worker (index into the pool) that ran it */
    int to;       /* the worker it is dealt to */
    bool pinned;  /* stays with from */
    int first, n; /* its ops in from's list */
} pitem_t;

typedef struct pworker {
    int thread;
    int first, end;    /* its items' ops: [first, end) */
    int n_items;       /* items it ran */
    int share, n_have; /* the deal: items it should have, and has so far */
} pworker_t;

/* The length of the prefix before "_<digits>" at the end of name, or 0. */
static size_t pool_prefix(const char *name)
{
    size_t n = strlen(name), k = n;
    while (k > 0 && isdigit((unsigned char)name[k - 1]))
        k--;
    return k < n && k > 1 && name[k - 1] == '_' ? k - 1 : 0;
}

static bool same_pool(const fscenario_t *f, int a, int b)
{
    const fthread_t *x = &f->th[a], *y = &f->th[b];
    size_t p = pool_prefix(x->name);
    return p && x->starter >= 0 && x->starter == y->starter && pool_prefix(y->name) == p &&
           strncmp(x->name, y->name, p) == 0;
}

static bool item_start(const fop_list_t *l, int k)
{
    return k + 1 < l->n && l->v[k].kind == FOP_CPU && l->v[k + 1].kind == FOP_CCALL &&
           !l->v[k + 1].keeps_gil;
}

/* A worker's item range: from its first item's cpu to its last item's C
 * call, the cpu after it and a put right after that. Its item count, or 0. */
static int item_range(const fop_list_t *l, pworker_t *w)
{
    int n = 0, last = -1;
    w->first = -1;
    for (int k = 0; k < l->n; k++)
        if (item_start(l, k)) {
            if (w->first < 0)
                w->first = k;
            last = k;
            n++;
        }
    if (!n)
        return 0;
    int end = last + 2;
    if (end < l->n && l->v[end].kind == FOP_CPU)
        end++;
    if (end < l->n && l->v[end].kind == FOP_PUT)
        end++;
    w->end = end;
    return n;
}

/* Whether queue q is one a worker of the pool gets from. */
static bool worker_gets(const fscenario_t *f, const pworker_t *w, int nw, int q)
{
    for (int i = 0; i < nw; i++) {
        const fop_list_t *l = &f->th[w[i].thread].ops;
        for (int k = 0; k < l->n; k++)
            if (l->v[k].kind == FOP_GET && l->v[k].target == q)
                return true;
    }
    return false;
}

static bool movable(const fscenario_t *f, const pworker_t *w, int nw, const fop_t *v, int n)
{
    for (int k = 0; k < n; k++) {
        if (v[k].kind == FOP_PUT && !worker_gets(f, w, nw, v[k].target))
            continue;
        if (v[k].kind != FOP_CPU && v[k].kind != FOP_CCALL)
            return false;
    }
    return true;
}

static int cmp_item(const void *a, const void *b)
{
    const pitem_t *x = a, *y = b;
    if (x->at != y->at)
        return x->at < y->at ? -1 : 1;
    return (x->from > y->from) - (x->from < y->from);
}

/* Cuts worker i's item range into items, appended to it[*n]. */
static void cut_items(const fscenario_t *f, const pworker_t *w, int nw, int i, pitem_t *it, int *n)
{
    const fop_list_t *l = &f->th[w[i].thread].ops;
    int j = 0;
    for (int k = w[i].first; k < w[i].end; j++) {
        int e = k + 1;
        while (e < w[i].end && !item_start(l, e))
            e++;
        pitem_t *p = &it[(*n)++];
        *p = (pitem_t){.at = (j + 0.5) / w[i].n_items, .from = i, .to = i, .first = k, .n = e - k};
        p->pinned = !movable(f, w, nw, &l->v[k], e - k);
        k = e;
    }
}

/* The deal, moving as few items as it can: each worker's share is total /
 * nw, the remainder going to those that ran the most (the lower index on a
 * tie). A worker keeps its pinned items and its earliest movable ones up
 * to its share; its later ones, in the recorded order, go each to the
 * worker furthest below its share (the lower index on a tie). it[n] is in
 * the recorded order. */
static void deal(pworker_t *w, int nw, pitem_t *it, int n)
{
    int base = n / nw, extra = n % nw;
    for (int i = 0; i < nw; i++) {
        int rank = 0;
        for (int j = 0; j < nw; j++)
            rank += w[j].n_items > w[i].n_items || (w[j].n_items == w[i].n_items && j < i);
        w[i].share = base + (rank < extra);
        w[i].n_have = 0;
    }
    for (int k = 0; k < n; k++)
        w[it[k].from].n_have += it[k].pinned;
    for (int k = 0; k < n; k++) /* the earliest movable ones, up to the share */
        if (!it[k].pinned && w[it[k].from].n_have < w[it[k].from].share) {
            w[it[k].from].n_have++;
            it[k].pinned = true; /* kept: no longer to deal */
            it[k].to = it[k].from;
        } else if (!it[k].pinned) {
            it[k].to = -1;
        }
    for (int k = 0; k < n; k++) {
        if (it[k].to >= 0)
            continue;
        int best = 0;
        for (int i = 1; i < nw; i++)
            if (w[i].share - w[i].n_have > w[best].share - w[best].n_have)
                best = i;
        it[k].to = best;
        w[best].n_have++;
    }
}

/* Worker i's new list: its start-up, its items in order, its shutdown.
 * 0 or -1 (out of memory). */
static int rebuild(fscenario_t *f, const pworker_t *w, int i, const pitem_t *it, int n,
                   const fop_list_t *old)
{
    const fop_list_t *mine = &old[i];
    fop_list_t l = {0};
    for (int k = 0; k < w[i].first; k++)
        if (fop_push(&l, &mine->v[k]) != 0)
            goto oom;
    for (int k = 0; k < n; k++) {
        if (it[k].to != i)
            continue;
        const fop_list_t *src = &old[it[k].from];
        for (int m = 0; m < it[k].n; m++)
            if (fop_push(&l, &src->v[it[k].first + m]) != 0)
                goto oom;
    }
    for (int k = w[i].end; k < mine->n; k++)
        if (fop_push(&l, &mine->v[k]) != 0)
            goto oom;
    f->th[w[i].thread].ops = l;
    return 0;
oom:
    free(l.v);
    return -1;
}

/* One pool: its workers w[nw] (item ranges found). 0 or -1. */
static int deal_pool(fscenario_t *f, pworker_t *w, int nw)
{
    int total = 0;
    for (int i = 0; i < nw; i++)
        total += w[i].n_items;
    pitem_t *it = malloc((size_t)total * sizeof *it);
    fop_list_t *old = malloc((size_t)nw * sizeof *old);
    if (!it || !old) {
        free(it);
        free(old);
        return -1;
    }
    int n = 0;
    for (int i = 0; i < nw; i++)
        cut_items(f, w, nw, i, it, &n);
    qsort(it, (size_t)n, sizeof *it, cmp_item);
    deal(w, nw, it, n);
    int moved = 0, rc = 0;
    for (int k = 0; k < n; k++)
        moved += it[k].to != it[k].from;
    for (int i = 0; i < nw; i++)
        old[i] = f->th[w[i].thread].ops;
    for (int i = 0; i < nw && rc == 0; i++)
        rc = rebuild(f, w, i, it, n, old);
    if (rc == 0) { /* the ops moved, not copied: free the old arrays only */
        for (int i = 0; i < nw; i++)
            free(old[i].v);
        f->pool_workers += nw;
        f->pool_items += n;
        f->pool_moved += moved;
        if (!f->n_pools++)
            snprintf(f->pool_name, sizeof f->pool_name, "%.*s",
                     (int)pool_prefix(f->th[w[0].thread].name), f->th[w[0].thread].name);
    } else { /* the rebuilt ones share no body with old; put the old lists back */
        for (int i = 0; i < nw; i++) {
            if (f->th[w[i].thread].ops.v != old[i].v)
                free(f->th[w[i].thread].ops.v);
            f->th[w[i].thread].ops = old[i];
        }
    }
    free(it);
    free(old);
    return rc;
}

/* Whether the busiest worker ran POOL_UNEVEN times the items of the least
 * busy one or more: the kernel kept some worker apart. */
static bool uneven(const pworker_t *w, int nw)
{
    int lo = w[0].n_items, hi = w[0].n_items;
    for (int i = 1; i < nw; i++) {
        lo = w[i].n_items < lo ? w[i].n_items : lo;
        hi = w[i].n_items > hi ? w[i].n_items : hi;
    }
    return hi >= POOL_UNEVEN * lo;
}

static int fit_pools(fscenario_t *f)
{
    pworker_t *w = malloc((size_t)f->n_threads * sizeof *w);
    bool *done = calloc((size_t)f->n_threads, sizeof *done);
    int rc = 0;
    if (!w || !done) {
        rc = -1;
        goto out;
    }
    for (int a = 0; a < f->n_threads && rc == 0; a++) {
        if (done[a] || !pool_prefix(f->th[a].name) || f->th[a].starter < 0)
            continue;
        int nw = 0;
        bool ok = true;
        for (int b = a; b < f->n_threads; b++) {
            if (b != a && !same_pool(f, a, b))
                continue;
            done[b] = true;
            w[nw] = (pworker_t){.thread = b};
            w[nw].n_items = item_range(&f->th[b].ops, &w[nw]);
            ok = ok && w[nw].n_items > 0;
            nw++;
        }
        if (ok && nw >= 2 && uneven(w, nw))
            rc = deal_pool(f, w, nw);
    }
out:
    free(w);
    free(done);
    return rc;
}

int fit_deal_and_fold(fscenario_t *f, bool exact)
{
    if (fit_pools(f) != 0)
        return -1;
    for (int i = 0; i < f->n_threads; i++)
        if ((!exact && fit_compress_thread(&f->th[i]) != 0) || fit_until_loops(&f->th[i]) != 0)
            return -1;
    return 0;
}

const char *fit_pool_note(const fscenario_t *f, char *buf, size_t n)
{
    buf[0] = 0;
    if (f->n_pools)
        snprintf(buf, n,
                 " the %lld work items of %d thread pool%s (\"%s\"%s: workers started by one "
                 "thread, named PREFIX_N) are dealt evenly among its %d workers in the recorded "
                 "order (%lld moved): which worker did how many was the machine's doing, and a "
                 "scenario cannot hand them out as it runs;",
                 (long long)f->pool_items, f->n_pools, f->n_pools == 1 ? "" : "s", f->pool_name,
                 f->n_pools == 1 ? "" : " and others", f->pool_workers, (long long)f->pool_moved);
    return buf;
}
