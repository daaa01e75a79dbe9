/* waits.c - a wait on a Python lock matched to the release that ended it.
 *
 * A recording names the semaphore a thread blocked on (lock_wait's obj) and
 * every release of a semaphore that had a thread blocked on it (lock_post:
 * the poster's thread, the time, the same obj). The release that ended a
 * wait is the last post on its semaphore between the wait's start and end,
 * by another thread. Such a pair is a wake-up that the scenario can carry:
 * the waiter's op becomes a `get` on a queue and the poster gets a `put` on
 * it at the time it posted, so that in a replay the waiter waits for the
 * poster's program to reach that point, under any interval or core count.
 * A semaphore is a counting queue of wake-ups, which is what a scenario
 * queue is (maxsize 0, no Python of its own).
 *
 * Which queue: one per waiting thread and object, so that a wake-up goes
 * to the thread it woke. A queue shared by several waiters could hand it
 * to another one, and the replay could then deadlock (all waiters blocked,
 * the puts they need behind their own gets); with one getter per queue it
 * cannot: a put that a blocked get needs comes, in the recording, before
 * that get ended, so a chain of threads blocked on each other's puts goes
 * back in recorded time and cannot close. A wait in `with lock:` /
 * Lock.acquire (a bare lock_wait) is on a lock that lives as long as the
 * program: "lock-1 for worker2" (locks numbered in the order they first
 * blocked someone). A wait inside a Python-level API (Condition.wait under
 * Future.result, Event.wait, Semaphore.acquire, Barrier.wait) blocks on a
 * lock made for that one wait: its wake-ups go to one queue per thread and
 * API ("MainThread Condition.wait"). */
#include "fit_int.h"
#include "recfile_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fpost {
    uint64_t obj;
    int64_t t;
    int thread;
    int queue; /* -1 until matched to a wait */
} fpost_t;

typedef struct fkey {
    uint64_t obj;     /* a lock: its semaphore; else 0 */
    int thread;       /* the waiter */
    const char *name; /* a Python-level wait: the API's name; else NULL */
} fkey_t;

struct fwaits {
    const gsr_recording_t *r;
    fpost_t *posts; /* sorted by obj, then time */
    size_t n_posts;
    fkey_t keys[FIT_MAX_QUEUES];
    int n_keys, first; /* queue index of keys[0] */
    uint64_t locks[FIT_MAX_QUEUES]; /* the locks numbered so far */
    int n_locks;
};

static int cmp_post(const void *a, const void *b)
{
    const fpost_t *x = a, *y = b;
    if (x->obj != y->obj)
        return x->obj < y->obj ? -1 : 1;
    return (x->t > y->t) - (x->t < y->t);
}

int fit_waits_new(const gsr_recording_t *r, fwaits_t **out)
{
    fwaits_t *w = calloc(1, sizeof *w);
    if (!w)
        return -1;
    w->r = r;
    size_t n = 0;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++)
            n += r->threads[i].ev[k].kind == GSR_LOCK_POST && r->threads[i].ev[k].obj;
    w->posts = malloc((n + 1) * sizeof *w->posts);
    if (!w->posts) {
        free(w);
        return -1;
    }
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++) {
            const gsr_event_t *e = &r->threads[i].ev[k];
            if (e->kind == GSR_LOCK_POST && e->obj)
                w->posts[w->n_posts++] = (fpost_t){e->obj, e->t, i, -1};
        }
    if (w->n_posts)
        qsort(w->posts, w->n_posts, sizeof *w->posts, cmp_post);
    *out = w;
    return 0;
}

void fit_waits_free(fwaits_t *w)
{
    if (!w)
        return;
    free(w->posts);
    free(w);
}

/* The last post on obj in [t0, t1] by a thread other than self, not yet
 * matched; NULL if none. */
static fpost_t *ending_post(fwaits_t *w, uint64_t obj, int self, int64_t t0, int64_t t1)
{
    size_t lo = 0, hi = w->n_posts;
    while (lo < hi) { /* the first post after (obj, t1) */
        size_t mid = (lo + hi) / 2;
        const fpost_t *p = &w->posts[mid];
        if (p->obj < obj || (p->obj == obj && p->t <= t1))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k-- > 0;) {
        fpost_t *p = &w->posts[k];
        if (p->obj != obj || p->t < t0)
            return NULL;
        if (p->thread != self && p->queue < 0)
            return p;
    }
    return NULL;
}

/* The longest lock wait of thread i inside [t0, t1] with an object: what a
 * Python-level wait blocked in. NULL if none. */
static const gsr_event_t *inner_lock_wait(const fwaits_t *w, int i, int64_t t0, int64_t t1)
{
    const gsr_thread_t *th = &w->r->threads[i];
    const gsr_event_t *best = NULL;
    for (size_t k = 0; k < th->n_ev; k++) {
        const gsr_event_t *e = &th->ev[k];
        if (e->kind != GSR_LOCK_WAIT || !e->obj || e->t < t0 || e->t1 > t1)
            continue;
        if (!best || e->t1 - e->t > best->t1 - best->t)
            best = e;
    }
    return best;
}

/* The number of the lock whose semaphore is obj (1, 2...). */
static int lock_number(fwaits_t *w, uint64_t obj)
{
    for (int k = 0; k < w->n_locks; k++)
        if (w->locks[k] == obj)
            return k + 1;
    w->locks[w->n_locks++] = obj; /* fewer locks than queues */
    return w->n_locks;
}

/* The queue of key, made if new; -1 when FIT_MAX_QUEUES are taken. */
static int queue_of(fwaits_t *w, fscenario_t *f, fkey_t key)
{
    for (int k = 0; k < w->n_keys; k++)
        if (w->keys[k].obj == key.obj && w->keys[k].thread == key.thread &&
            (!key.name || strcmp(w->keys[k].name, key.name) == 0))
            return w->first + k;
    if (w->n_keys == 0)
        w->first = f->n_queues;
    int q = w->first + w->n_keys;
    if (q >= FIT_MAX_QUEUES)
        return -1;
    w->keys[w->n_keys++] = key;
    char *nm = f->queue_names[q];
    if (!key.name)
        snprintf(nm, sizeof f->queue_names[q], "lock-%d for %.40s", lock_number(w, key.obj),
                 f->th[key.thread].name);
    else
        snprintf(nm, sizeof f->queue_names[q], "%.40s %.20s", f->th[key.thread].name, key.name);
    f->queue_maxsize[q] = 0;
    f->n_wake_queues = w->n_keys;
    return q;
}

int fit_waits_match(fwaits_t *w, fscenario_t *f, int i, const gsr_event_t *e)
{
    const gsr_event_t *lw = e->kind == GSR_LOCK_WAIT ? e : inner_lock_wait(w, i, e->t, e->t1);
    bool lock = e->kind != GSR_WAIT; /* a lock wait, or Lock.acquire named (--calls all) */
    if (!lw || !lw->obj)
        return -1;
    fpost_t *p = ending_post(w, lw->obj, i, lw->t, lw->t1);
    if (!p)
        return -1;
    fkey_t key = lock ? (fkey_t){lw->obj, i, NULL} : (fkey_t){0, i, e->name ? e->name : "wait"};
    int q = queue_of(w, f, key);
    if (q >= 0)
        p->queue = q;
    return q;
}

static int cmp_wake(const void *a, const void *b)
{
    const fwake_t *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

int fit_waits_posts(const fwaits_t *w, int i, fwake_t **out, size_t *n_out)
{
    size_t n = 0;
    for (size_t k = 0; k < w->n_posts; k++)
        n += w->posts[k].thread == i && w->posts[k].queue >= 0;
    *out = malloc((n + 1) * sizeof **out);
    *n_out = 0;
    if (!*out)
        return -1;
    for (size_t k = 0; k < w->n_posts; k++)
        if (w->posts[k].thread == i && w->posts[k].queue >= 0)
            (*out)[(*n_out)++] = (fwake_t){w->posts[k].t, w->posts[k].queue};
    if (n)
        qsort(*out, n, sizeof **out, cmp_wake);
    return 0;
}
