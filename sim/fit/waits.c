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
 * API ("MainThread Condition.wait").
 *
 * With --lock-race a lock used as a mutex (every thread that posted it also
 * blocked on it: mutex_like) is written as its own acquires and releases
 * instead (lockrace.c): its waits are acquires, every post on it by a
 * thread a release, and its queues are left out of the scenario.
 *
 * A put goes into the poster's program where it posted, or, when that is
 * inside one of its ops (a release inside Condition.wait), just before that
 * op: earlier than recorded keeps the argument above, later could make the
 * poster wait, inside that op, for the very thread waiting for its put.
 * A socket send needs no put op: by default it posts its reader's queue
 * itself at its end, off the GIL (c_call "posts", sim/engine/cpost.c), as
 * the kernel wakes the reader inside the send; unless its reader won the
 * GIL inside the send (reader_won): then a put just before the send. With
 * --send-put-before every send's put goes just before it, with
 * --send-put-after just after it (but where the reader won): a send is a
 * C call that waits for no one, so the chains above are the same either
 * way (send_wake below says why).
 *
 * Sockets the same way: a recv on a socket that returned after another
 * thread's send on its peer is a get, that send a put. The recording
 * names the socket of each call (its obj) but not which socket is whose
 * peer; the peer of a socket is the one whose sends most often begin during
 * its recvs (a socketpair between two threads shows it at every request),
 * as queues are told apart by who woke whom. A call's span ends only once
 * its thread holds the GIL again, which can be long after the bytes moved:
 * a send is taken at its start (the bytes go out right after it lets the
 * GIL go), and the send that woke a recv is the last one on the peer
 * between the recv's start and its thread's ask for the GIL (its wake-up);
 * a recv that did not wait (the bytes were there) takes the first send on
 * the peer since the thread's previous recv on the socket (match_recv).
 * The put is then just before the send. Queue "socket client0 to
 * handler0": the receiving thread's socket, named after the thread whose
 * send first woke it. */
#include "fit_int.h"
#include "recfile_int.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct fpost {
    uint64_t obj;
    int64_t t;     /* a post; a send's start, where it is matched */
    int64_t t_end; /* a send's end (send_wake); a post: t */
    int64_t t_put; /* where the scenario's put goes: t, or t_end */
    int thread;
    int queue;    /* -1 until matched to a wait */
    bool in_call; /* the send posts the queue itself (send_wake): no put op */
} fpost_t;

typedef struct fkey {
    uint64_t obj;     /* a lock: its semaphore; a socket: it; else 0 */
    int thread;       /* the waiter */
    const char *name; /* a Python-level wait: the API's name; a socket:
                         "socket"; a lock: NULL */
    int from;         /* a socket: the thread whose send first woke it */
} fkey_t;

typedef struct fpeer {
    uint64_t a, b; /* b is a's peer (sends on b end a's recvs) */
    int votes;     /* a's recvs a send on b ended */
    int pair;      /* votes, and b's recvs a send on a ended */
} fpeer_t;

#define MAX_PEERS 4096

struct fwaits {
    const gsr_recording_t *r;
    fpost_t *posts; /* sorted by obj, then time */
    size_t n_posts;
    fpost_t *sends; /* socket sends, at their start: sorted by obj, then time */
    size_t n_sends;
    fpeer_t *peers; /* votes, then the peer of each socket that has one */
    int n_peers;
    int64_t **asks; /* per thread: when it asked for the GIL, sorted */
    size_t *n_asks;
    const gsr_event_t ***lws; /* per thread: its lock waits with an object, by start */
    size_t *n_lws;
    fkey_t keys[FIT_MAX_QUEUES];
    int n_keys, first; /* queue index of keys[0] */
    uint64_t locks[FIT_MAX_QUEUES]; /* the locks numbered so far */
    int n_locks;
};

static int collect_lock_waits(fwaits_t *w);

static int cmp_post(const void *a, const void *b)
{
    const fpost_t *x = a, *y = b;
    if (x->obj != y->obj)
        return x->obj < y->obj ? -1 : 1;
    return (x->t > y->t) - (x->t < y->t);
}

static bool socket_call(const gsr_event_t *e, const char *what)
{
    return e->kind == GSR_CALL && e->cat == GSR_CAT_IO && e->obj && e->name &&
           strncmp(e->name, "socket.", 7) == 0 && strncmp(e->name + 7, what, 4) == 0;
}

/* A send on a socket (socket.send, sendall, sendto, sendmsg). It returns
 * once the bytes are queued on the peer, having woken a reader blocked in
 * recv: it does not sleep (unless the peer's buffer is full), so its time
 * off the GIL is the system call's work on its core (copying, the wake-up it
 * makes), and its thread asks for the GIL again with no wake-up of its own.
 * Fitted as an io op, the model added a wake-up latency (~20 us) after every
 * send, so the reader it woke took the GIL first and the sender waited out
 * the reader's whole run with the GIL (examples/http_server.py: a client
 * waited for its handler's render after each request instead of in its
 * recv; docs/validation.md, "Replays", point 14). */
bool fit_socket_send(const gsr_event_t *e)
{
    if (e->kind != GSR_CALL || e->cat != GSR_CAT_IO || !e->name ||
        strncmp(e->name, "socket.send", 11) != 0)
        return false;
    const char *v = e->name + 11; /* not sendfile, which reads a file */
    return !*v || strcmp(v, "all") == 0 || strcmp(v, "to") == 0 || strcmp(v, "msg") == 0;
}

static int cmp_post_time(const void *a, const void *b)
{
    const fpost_t *x = a, *y = b;
    return (x->t > y->t) - (x->t < y->t);
}

/* When thread i woke up in its call [t0, t1]: its last ask for the GIL in
 * it (after the release that let it block), else t1. */
static int64_t wake_of(const fwaits_t *w, int i, int64_t t0, int64_t t1)
{
    const int64_t *a = w->asks[i];
    size_t lo = 0, hi = w->n_asks[i];
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (a[mid] <= t1)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && a[lo - 1] >= t0 ? a[lo - 1] : t1;
}

/* Every thread's asks for the GIL, sorted. 0 or -1. */
static int collect_asks(fwaits_t *w)
{
    const gsr_recording_t *r = w->r;
    w->asks = calloc((size_t)r->n_threads + 1, sizeof *w->asks);
    w->n_asks = calloc((size_t)r->n_threads + 1, sizeof *w->n_asks);
    if (!w->asks || !w->n_asks)
        return -1;
    for (int i = 0; i < r->n_threads; i++) {
        const gsr_thread_t *th = &r->threads[i];
        if (!(w->asks[i] = malloc((th->n_ev + 1) * sizeof **w->asks)))
            return -1;
        for (size_t k = 0; k < th->n_ev; k++)
            if (th->ev[k].kind == GSR_ASK)
                w->asks[i][w->n_asks[i]++] = th->ev[k].t;
        if (w->n_asks[i])
            qsort(w->asks[i], w->n_asks[i], sizeof **w->asks, fit_cmp_i64);
    }
    return 0;
}

/* Where a send's put goes with --send-put-after: at the send's end, once
 * its thread holds the GIL again. The machine wakes the reader inside the send, off the GIL,
 * but the two do not race for the GIL there (traced on this machine,
 * tests/reality/replay_notes.md, points 14 and 36): a socket's reader is
 * woken synchronously (sock_def_readable: a WF_SYNC wake-up, which
 * wake_affine_idle sends to the writer's CPU when the writer is all it
 * runs), and the other CPU is busy then (the other pair's handler, or the
 * GIL's next holder woken there at the send's release). So a client's
 * request waits on the client's CPU until the client blocks in its recv,
 * and a handler's reply preempts the handler inside its send, which
 * returns once the client sleeps. A put before the send, holding the GIL,
 * woke the reader before the GIL's next holder, onto the idle core; the
 * GIL waiter then took the sender's core, and the sender, back from its
 * send, waited out the other handler's render (http_server's handlers 3
 * to 4 times their real GIL wait). After the send the reader comes as
 * its sender goes on; but where the recording shows the reader holding
 * the GIL while its sender, back from the send, waited for it (reader_won),
 * the put stays before the send. But if the sender waits for the GIL after
 * its send, the wake-up waits with it: in the replays of http_server 0.2 to
 * 9 ms in all of a thread's 60 sends; in those of convoy.py --socket,
 * whose CPU thread took the GIL during the I/O thread's 1.6 us sends, an
 * interval each time (the replays ran 34 to 45% long). So it is off by
 * default: the send posts the reader's queue itself, at the same time but
 * off the GIL (fit_waits_send_post), and the reader's wake-up waits for no
 * one (replay_notes.md, point 49). */
static int64_t send_wake(const gsr_event_t *e)
{
    return e->t1 > e->t ? e->t1 : e->t;
}

/* One vote: a's recv ended after a send on b. */
static void vote(fwaits_t *w, uint64_t a, uint64_t b)
{
    for (int k = 0; k < w->n_peers; k++)
        if (w->peers[k].a == a && w->peers[k].b == b) {
            w->peers[k].votes++;
            return;
        }
    if (w->n_peers < MAX_PEERS)
        w->peers[w->n_peers++] = (fpeer_t){a, b, 1, 0};
}

/* Every socket send (at its start), and each socket's peer: for each recv
 * during which (before its wake-up) a send by another thread began, the
 * latest such send's socket gets a vote. A connected socket's peer has it
 * as its own peer, so a pair (a, b) counts the votes both ways: a's recvs
 * that b's sends ended and b's that a's did. The latest send before a
 * wake-up is another pair's when that one's send began in the waker's
 * wake-up latency (two client/handler pairs taking turns at the GIL: a
 * client's recvs, loaded, voted 6 for its handler and 6 for the other
 * pair's, while its handler's recvs voted 15 for it and the other
 * handler's none), and a socket whose recvs all found the bytes there (its
 * handler replied before it asked) has votes only from its peer's recvs.
 * A socket's peer is the one of its pairs with the most votes (2 at least).
 * 0 or -1. */
static int pair_sockets(fwaits_t *w)
{
    const gsr_recording_t *r = w->r;
    size_t n = 0;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++)
            n += socket_call(&r->threads[i].ev[k], "send");
    w->sends = malloc((n + 1) * sizeof *w->sends);
    w->peers = malloc(MAX_PEERS * sizeof *w->peers);
    if (!w->sends || !w->peers || collect_asks(w) != 0)
        return -1;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++) {
            const gsr_event_t *e = &r->threads[i].ev[k];
            if (socket_call(e, "send"))
                w->sends[w->n_sends++] = (fpost_t){e->obj, e->t, send_wake(e), e->t, i, -1, false};
        }
    if (!w->n_sends)
        return 0;
    qsort(w->sends, w->n_sends, sizeof *w->sends, cmp_post_time); /* by time to vote */
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++) {
            const gsr_event_t *e = &r->threads[i].ev[k];
            if (!socket_call(e, "recv"))
                continue;
            int64_t wake = wake_of(w, i, e->t, e->t1);
            size_t lo = 0, hi = w->n_sends;
            while (lo < hi) { /* the first send after the recv's wake-up */
                size_t mid = (lo + hi) / 2;
                if (w->sends[mid].t <= wake)
                    lo = mid + 1;
                else
                    hi = mid;
            }
            while (lo-- > 0 && w->sends[lo].t >= e->t)
                if (w->sends[lo].thread != i) {
                    vote(w, e->obj, w->sends[lo].obj);
                    break;
                }
        }
    qsort(w->sends, w->n_sends, sizeof *w->sends, cmp_post); /* by socket to match */
    for (int k = 0, n0 = w->n_peers; k < n0; k++) { /* each pair both ways */
        bool back = false;
        for (int j = 0; j < n0 && !back; j++)
            back = w->peers[j].a == w->peers[k].b && w->peers[j].b == w->peers[k].a;
        if (!back && w->n_peers < MAX_PEERS)
            w->peers[w->n_peers++] = (fpeer_t){w->peers[k].b, w->peers[k].a, 0, 0};
    }
    for (int k = 0; k < w->n_peers; k++) { /* the pair's votes, both ways */
        w->peers[k].pair = w->peers[k].votes;
        for (int j = 0; j < w->n_peers; j++)
            if (w->peers[j].a == w->peers[k].b && w->peers[j].b == w->peers[k].a)
                w->peers[k].pair += w->peers[j].votes;
    }
    int kept = 0;
    for (int k = 0; k < w->n_peers; k++) { /* the most voted peer of each socket */
        bool best = w->peers[k].pair >= 2;
        for (int j = 0; j < w->n_peers && best; j++)
            best = w->peers[j].a != w->peers[k].a || w->peers[j].pair < w->peers[k].pair ||
                   (w->peers[j].pair == w->peers[k].pair && j >= k);
        if (best)
            w->peers[kept++] = w->peers[k];
    }
    w->n_peers = kept;
    return 0;
}

static uint64_t peer_of(const fwaits_t *w, uint64_t a)
{
    for (int k = 0; k < w->n_peers; k++)
        if (w->peers[k].a == a)
            return w->peers[k].b;
    return 0;
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
                w->posts[w->n_posts++] = (fpost_t){e->obj, e->t, e->t, e->t, i, -1, false};
        }
    if (w->n_posts)
        qsort(w->posts, w->n_posts, sizeof *w->posts, cmp_post);
    *out = w;
    return collect_lock_waits(w) == 0 ? pair_sockets(w) : -1;
}

void fit_waits_free(fwaits_t *w)
{
    if (!w)
        return;
    free(w->posts);
    free(w->sends);
    free(w->peers);
    for (int i = 0; w->asks && i < w->r->n_threads; i++)
        free(w->asks[i]);
    free(w->asks);
    free(w->n_asks);
    for (int i = 0; w->lws && i < w->r->n_threads; i++)
        free(w->lws[i]);
    free(w->lws);
    free(w->n_lws);
    free(w);
}

/* The last post (of v, sorted by obj and time) on obj in [t0, t1] by a
 * thread other than self, not yet matched; NULL if none. */
static fpost_t *ending_post(fpost_t *v, size_t n, uint64_t obj, int self, int64_t t0, int64_t t1)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first post after (obj, t1) */
        size_t mid = (lo + hi) / 2;
        const fpost_t *p = &v[mid];
        if (p->obj < obj || (p->obj == obj && p->t <= t1))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k-- > 0;) {
        fpost_t *p = &v[k];
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
    const gsr_event_t *const *v = w->lws[i];
    size_t lo = 0, hi = w->n_lws[i];
    while (lo < hi) { /* the first lock wait starting at or after t0 */
        size_t mid = (lo + hi) / 2;
        if (v[mid]->t < t0)
            lo = mid + 1;
        else
            hi = mid;
    }
    const gsr_event_t *best = NULL;
    for (size_t k = lo; k < w->n_lws[i] && v[k]->t <= t1; k++)
        if (v[k]->t1 <= t1 && (!best || v[k]->t1 - v[k]->t > best->t1 - best->t))
            best = v[k];
    return best;
}

static int cmp_ev_start(const void *a, const void *b)
{
    const gsr_event_t *x = *(const gsr_event_t *const *)a, *y = *(const gsr_event_t *const *)b;
    return (x->t > y->t) - (x->t < y->t);
}

/* Every thread's lock waits with an object, by start (the file has spans
 * in the order they ended). 0 or -1. */
static int collect_lock_waits(fwaits_t *w)
{
    const gsr_recording_t *r = w->r;
    w->lws = calloc((size_t)r->n_threads + 1, sizeof *w->lws);
    w->n_lws = calloc((size_t)r->n_threads + 1, sizeof *w->n_lws);
    if (!w->lws || !w->n_lws)
        return -1;
    for (int i = 0; i < r->n_threads; i++) {
        const gsr_thread_t *th = &r->threads[i];
        if (!(w->lws[i] = malloc((th->n_ev + 1) * sizeof **w->lws)))
            return -1;
        for (size_t k = 0; k < th->n_ev; k++)
            if (th->ev[k].kind == GSR_LOCK_WAIT && th->ev[k].obj)
                w->lws[i][w->n_lws[i]++] = &th->ev[k];
        if (w->n_lws[i])
            qsort(w->lws[i], w->n_lws[i], sizeof **w->lws, cmp_ev_start);
    }
    return 0;
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
            (w->keys[k].name == key.name ||
             (w->keys[k].name && key.name && strcmp(w->keys[k].name, key.name) == 0)))
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
    else if (key.obj) /* a socket: named after who first sent to it */
        snprintf(nm, sizeof f->queue_names[q], "socket %.25s to %.25s", f->th[key.from].name,
                 f->th[key.thread].name);
    else
        snprintf(nm, sizeof f->queue_names[q], "%.40s %.20s", f->th[key.thread].name, key.name);
    f->queue_maxsize[q] = 0;
    f->n_wake_queues = w->n_keys;
    return q;
}

/* The first post (of v, sorted by obj and time) on obj in [t0, t1) by a
 * thread other than self, not yet matched; NULL if none. */
static fpost_t *first_post(fpost_t *v, size_t n, uint64_t obj, int self, int64_t t0, int64_t t1)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first post at or after (obj, t0) */
        size_t mid = (lo + hi) / 2;
        const fpost_t *p = &v[mid];
        if (p->obj < obj || (p->obj == obj && p->t < t0))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k < n && v[k].obj == obj && v[k].t < t1; k++)
        if (v[k].thread != self && v[k].queue < 0)
            return &v[k];
    return NULL;
}

/* When thread i's recv before e on the same socket ended (INT64_MIN: none).
 * A span is written as it ends, so that one is earlier in the thread's
 * events. */
static int64_t previous_recv_end(const fwaits_t *w, int i, const gsr_event_t *e)
{
    const gsr_thread_t *th = &w->r->threads[i];
    for (size_t k = (size_t)(e - th->ev); k-- > 0;) {
        const gsr_event_t *x = &th->ev[k];
        if (x->obj == e->obj && x->t1 <= e->t && socket_call(x, "recv"))
            return x->t1;
    }
    return INT64_MIN;
}

/* Whether thread i's recv e, woken by the send p, held the GIL before its
 * sender asked for it back after the send, and kept it until after that
 * ask: the reader took the sender's core and the GIL inside the send (a
 * handler woken by its client's request, on the client's CPU, preempting
 * it: 2 to 27% of the clients' sends in the quiet http_server recordings
 * lasted over 500 us so). That send's put stays before it, so that the
 * replay's reader may win the race again. A client that reads its reply
 * inside its handler's send has let the GIL go again before the handler
 * asks: not such a race. */
static bool reader_won(const fwaits_t *w, int i, const gsr_event_t *e, const fpost_t *p)
{
    int64_t sask = wake_of(w, p->thread, p->t, p->t_end);
    if (e->t1 > sask)
        return false;
    const gsr_thread_t *th = &w->r->threads[i];
    for (size_t k = (size_t)(e - th->ev) + 1; k < th->n_ev; k++)
        if (th->ev[k].kind == GSR_RELEASE && th->ev[k].t >= e->t1)
            return th->ev[k].t > sask;
    return false;
}

/* A recv on a socket woken by the end of a send on its peer; else one that
 * found the bytes there: a send on the peer after this thread's previous
 * recv on the socket and before this one began (the request's send of a
 * client woke its handler, which took the client's core, rendered and
 * replied before the client's send returned: the client's recv then waits
 * for nothing, but the reply still comes after the request in any replay).
 * Left out, such a recv was a fixed I/O op and the reply's send none: the
 * replayed client went on without the reply, a request ahead of its
 * handler. */
static int match_recv(fwaits_t *w, fscenario_t *f, int i, const gsr_event_t *e)
{
    uint64_t peer = peer_of(w, e->obj);
    fpost_t *p = peer ? ending_post(w->sends, w->n_sends, peer, i, e->t, wake_of(w, i, e->t, e->t1))
                      : NULL;
    if (!p && peer)
        p = first_post(w->sends, w->n_sends, peer, i, previous_recv_end(w, i, e), e->t);
    if (!p)
        return -1;
    int q = queue_of(w, f, (fkey_t){e->obj, i, "socket", p->thread});
    if (q >= 0)
        p->queue = q;
    if (!f->send_put_before && !reader_won(w, i, e, p)) {
        p->t_put = p->t_end;                        /* --send-put-after */
        p->in_call = !f->send_put_after && q >= 0; /* the default: no put op */
    }
    return q;
}

int fit_waits_match(fwaits_t *w, fscenario_t *f, int i, const gsr_event_t *e)
{
    if (socket_call(e, "recv"))
        return match_recv(w, f, i, e);
    const gsr_event_t *lw = e->kind == GSR_LOCK_WAIT ? e : inner_lock_wait(w, i, e->t, e->t1);
    bool lock = e->kind != GSR_WAIT; /* a lock wait, or Lock.acquire named (--calls all) */
    if (!lw || !lw->obj)
        return -1;
    fpost_t *p = ending_post(w->posts, w->n_posts, lw->obj, i, lw->t, lw->t1);
    if (!p)
        return -1;
    fkey_t key = lock ? (fkey_t){lw->obj, i, NULL, -1}
                      : (fkey_t){0, i, e->name ? e->name : "wait", -1};
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

/* Whether the semaphore obj is used as a mutex: every thread that released
 * it while someone waited also blocked acquiring it (a `with lock:`), not a
 * signal that one side posts and the other waits on (SimpleQueue.put,
 * a Future's condition): only a mutex's ops can be paired (lockrace.c).
 * O(posts on obj x queues). */
static bool mutex_like(const fwaits_t *w, uint64_t obj)
{
    for (size_t k = 0; k < w->n_posts; k++) {
        if (w->posts[k].obj != obj)
            continue;
        bool waits = false;
        for (int q = 0; q < w->n_keys && !waits; q++)
            waits = w->keys[q].obj == obj && !w->keys[q].name &&
                    w->keys[q].thread == w->posts[k].thread;
        if (!waits)
            return false;
    }
    return true;
}

/* The lock (0-based) whose semaphore is obj if a wait numbered it and it
 * is a mutex, else -1. */
static int lock_index(const fwaits_t *w, uint64_t obj)
{
    for (int k = 0; k < w->n_locks; k++)
        if (w->locks[k] == obj)
            return mutex_like(w, obj) ? k : -1;
    return -1;
}

int fit_waits_lock_of(const fwaits_t *w, int q)
{
    int k = q - w->first;
    if (k < 0 || k >= w->n_keys || w->keys[k].name || !w->keys[k].obj)
        return -1;
    return lock_index(w, w->keys[k].obj);
}

int fit_waits_n_locks(const fwaits_t *w)
{
    return w->n_locks;
}

/* The wake-up post p of thread i gives: a put on its queue, or with
 * lock_race a release of its lock (any post on a numbered lock). */
static bool post_wake(const fwaits_t *w, const fpost_t *p, int i, bool lock_race, fwake_t *out)
{
    if (p->thread != i || p->in_call)
        return false;
    int l = lock_race ? lock_index(w, p->obj) : -1;
    if (l >= 0 && (p->queue < 0 || fit_waits_lock_of(w, p->queue) >= 0)) {
        *out = (fwake_t){p->t_put, -1, l};
        return true;
    }
    *out = (fwake_t){p->t_put, p->queue, -1};
    return p->queue >= 0;
}

int fit_waits_posts(const fwaits_t *w, int i, bool lock_race, fwake_t **out, size_t *n_out)
{
    size_t n = 0;
    fwake_t one;
    const fpost_t *v[2] = {w->posts, w->sends};
    size_t nv[2] = {w->n_posts, w->n_sends};
    for (int a = 0; a < 2; a++)
        for (size_t k = 0; k < nv[a]; k++)
            n += post_wake(w, &v[a][k], i, lock_race && a == 0, &one);
    *out = malloc((n + 1) * sizeof **out);
    *n_out = 0;
    if (!*out)
        return -1;
    for (int a = 0; a < 2; a++)
        for (size_t k = 0; k < nv[a]; k++)
            if (post_wake(w, &v[a][k], i, lock_race && a == 0, &one))
                (*out)[(*n_out)++] = one;
    if (n)
        qsort(*out, n, sizeof **out, cmp_wake);
    return 0;
}

/* The send's own post (the default): the send e of thread i, found among
 * the sends (sorted by socket, then start) by its socket and start. */
int fit_waits_send_post(const fwaits_t *w, int i, const gsr_event_t *e)
{
    size_t lo = 0, hi = w->n_sends;
    while (lo < hi) { /* the first send at or after (obj, t) */
        size_t mid = (lo + hi) / 2;
        const fpost_t *p = &w->sends[mid];
        if (p->obj < e->obj || (p->obj == e->obj && p->t < e->t))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (; lo < w->n_sends && w->sends[lo].obj == e->obj && w->sends[lo].t == e->t; lo++)
        if (w->sends[lo].thread == i)
            return w->sends[lo].in_call ? w->sends[lo].queue : -1;
    return -1;
}
