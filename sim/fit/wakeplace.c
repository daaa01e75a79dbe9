/* wakeplace.c - where the kernel ran the threads a lock release woke, read
 * off the recording (machine.wake_affine).
 *
 * A thread blocked on a Python lock (a Condition's waiter lock inside
 * Queue.get/put, a Lock) is woken by a sem_post made by its waker while the
 * waker holds the GIL and runs on; the recording has the post (lock_post),
 * the end of the woken thread's semaphore wait on the same object
 * (lock_wait) and the waker's next release of the GIL. The woken thread's
 * previous CPU is mostly its waker's (the two passed the GIL there), and
 * then Linux 6.18 (kernel/sched/fair.c select_task_rq_fair: this CPU is
 * the previous one, so wake_affine is not asked; select_idle_sibling: the
 * target busy, recent_used_cpu, then select_idle_cpu) either finds the idle
 * CPU and runs it there after the idle CPU's exit, or, when SIS_UTIL has cut
 * the scan to nothing (sd_llc_shared->nr_idle_scan 0: the LLC's summed
 * utilisation above about 85% of its capacity at the last periodic
 * balance, update_idle_cpu_scan), queues it behind its waker, where
 * EEVDF's wake-up preemption may run it at once. nr_idle_scan is written
 * only at periodic balancing (every few to 32 ms), and the placement feeds
 * the utilisation back (a program packed on one CPU runs that CPU full and
 * wakes its other threads there), so one run keeps mostly one way and
 * another run of the same program the other: on this 2-vCPU VM quiet
 * recordings of examples/producer_consumer.py at 5 ms put 94%, 73% and 10%
 * of these wakes beside their waker (tests/reality/replay_notes.md, 31).
 * A recording made since gilsim record writes each event's CPU (its
 * sched_getcpu; tests/reality/replay_notes.md, 37) says it outright: the
 * woken thread's CPU at the end of its lock_wait against the waker's CPU
 * at the post, the same CPU "beside the waker", another the idle CPU.
 * Older recordings (every CPU -1), and a wake one of whose two events has
 * none, are read by the timing alone:
 *   - it ran only after its waker's release: queued behind its waker;
 *   - it ran while its waker still held the GIL, sooner than half the idle
 *     wake-up after the post: it preempted its waker on the waker's CPU;
 *   - it ran while its waker held the GIL, later than that: the idle CPU;
 *   - its waker released the GIL within PLACE_AMBIG idle wake-ups of the
 *     post: either way would look alike, not counted.
 * The first two are "beside the waker". The timing can be wrong where the
 * CPU is not, both ways: pipeline's woken writer, run about 9 us after the
 * post on its waker's CPU while the waker still held the GIL, reads as the
 * idle CPU's wake-up (reccpu, loaded: 88 of 167 counted wakes); on a loaded
 * machine a thread that ran after its waker's release may have run on the
 * other CPU, behind another program. The wakes counted are the same either way (the window
 * above, which the replay's count applies too); only how each is read
 * differs, and the description says which. Only the post that ended a wait is
 * read: a Lock released and taken again by its holder (lock_contention's
 * workers) posts its semaphore at each release, each post wakes the waiter,
 * which finds the Lock taken and sleeps on inside the same lock_wait, so
 * a post followed by another on the same semaphore before the wait ends
 * says nothing of where the waiter ran (quiet lock_contention recordings:
 * 626-828 posts counted before, 86-96% "beside" since the wait ended after
 * the release; 5-9 ended a wait). A Lock's waits are queue waits in the
 * fit (the frozen order, "lock-1 for worker1"), so the replay counts them
 * as it counts a Queue's. With --lock-race the engine runs the Lock's race
 * instead, and a release its waiter won is a wake the engine places: then
 * (CPUs recorded) those are counted too, by the CPUs alone (count_locks:
 * no timing window, since the releaser drops the GIL microseconds after
 * its post to retry, whoever wins), and the replay's by its cores
 * (lock_handoff); FIT_PLACE_MIN_LOCK of them suffice (lock_contention has
 * 69-92 on the quiet records of 23:47, 76-84% beside). The engine's machine.wake_affine is
 * the chance that a woken thread whose previous core is busy is queued on
 * its waker's core (place.c); the share of wakes beside the waker that a
 * value gives is the replay's, not the value (a thread whose previous core
 * is idle goes back there; one packed with its waker stays packed), so, as
 * race.c does for its race, the fit runs the fitted scenario at each value
 * of a grid (PLACE_SEEDS seeds pooled; its queue waits that end, the same
 * rule on the trace, the release read where the recorder's is: drop_end)
 * and keeps the value whose share is nearest the recording's, the lowest
 * on a tie. The replay is read as the recording was: by the cores when
 * most counted wakes were read by CPU (woken_core), else by timing; one
 * share of each kind never met (quiet producer_consumer 073 of 23:47: 2%
 * beside by CPU, 17% by timing; its replay at 0 26% by timing, 0% by the
 * cores). The replays run to the time of the
 * PLACE_WANT-th counted wake (plus 5 ms) of a longer recording.
 *
 * Not written (the engine's default 0, and said): fewer than PLACE_MIN
 * counted wakes, one core, no CPython 3 GIL, a replay that failed or had
 * fewer than PLACE_MIN such wakes, or a value of 0 chosen. Out of memory is
 * the fit's error. */
#include "fit_int.h"
#include "recfile_int.h"

#include "gilsim/engine.h"
#include "gilsim/model.h"
#include "gilsim/trace.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define PLACE_SEEDS 2
#define PLACE_WANT 400   /* recorded wakes whose stretch of the run the replays cover */
#define PLACE_AMBIG 1.25 /* idle wake-ups from the post within which a release hides the way */
static const int grid_pct[] = {0, 10, 25, 50, 75, 90, 100};
#define N_GRID ((int)(sizeof grid_pct / sizeof grid_pct[0]))

/* The thresholds of one count: half the idle wake-up, and the window; and
 * how a replay's wake is read: by the cores (as the recording's by its CPUs)
 * or by its timing. */
typedef struct place_cut {
    int64_t lo, ambig;
    bool by_core;
    bool locks; /* a Lock's hand-offs counted too (--lock-race; lockplace below) */
} place_cut_t;

/* One wake by its timing (post, when the woken thread ran, its waker's
 * release): 1 beside the waker, 0 the idle CPU, -1 not counted. */
static int classify(const place_cut_t *c, int64_t post, int64_t run, int64_t rel)
{
    if (rel - post < c->ambig)
        return -1;
    return run >= rel || run - post < c->lo;
}

/* ---- the recording ------------------------------------------------------ */

/* A lock_wait (a its start, b its end) or a lock_post (a its time). */
typedef struct lw {
    uint64_t obj; /* the semaphore */
    int64_t a, b;
    int thread;
    int32_t cpu; /* the CPU at its end (a lock_wait) or at it (a post); -1 none */
} lw_t;

static int cmp_lw(const void *x, const void *y)
{
    const lw_t *p = x, *q = y;
    if (p->obj != q->obj)
        return (p->obj > q->obj) - (p->obj < q->obj);
    if (p->a != q->a)
        return (p->a > q->a) - (p->a < q->a);
    return (p->thread > q->thread) - (p->thread < q->thread);
}

/* The index of the first entry after (obj, t). O(log n). */
static size_t after(const lw_t *v, size_t n, uint64_t obj, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid].obj < obj || (v[mid].obj == obj && v[mid].a <= t))
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

/* The wait on obj that began last at or before t, or NULL. O(log n). */
static const lw_t *wait_at(const lw_t *v, size_t n, uint64_t obj, int64_t t)
{
    size_t lo = after(v, n, obj, t);
    return lo > 0 && v[lo - 1].obj == obj ? &v[lo - 1] : NULL;
}

/* Whether a post on obj (by any thread) follows t before end: then the
 * post at t woke a thread that found the lock taken again and slept on
 * (the same lock_wait goes on), and where it ran is not in the recording.
 * O(log n). */
static bool posted_again(const lw_t *posts, size_t n, uint64_t obj, int64_t t, int64_t end)
{
    size_t k = after(posts, n, obj, t);
    return k < n && posts[k].obj == obj && posts[k].a < end;
}

/* Appends every event of kind (obj known) to *v, sorted: 0, or -1 out of
 * memory (*v freed). */
static int collect(const gsr_recording_t *r, int kind, lw_t **v, size_t *n)
{
    size_t cap = 0;
    *v = NULL;
    *n = 0;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++) {
            const gsr_event_t *e = &r->threads[i].ev[k];
            if (e->kind != kind || e->obj == 0)
                continue;
            if (*n == cap) {
                size_t nc = cap ? 2 * cap : 256;
                lw_t *nv = realloc(*v, nc * sizeof *nv);
                if (!nv) {
                    free(*v);
                    *v = NULL;
                    return -1;
                }
                *v = nv;
                cap = nc;
            }
            (*v)[(*n)++] = (lw_t){.obj = e->obj, .a = e->t, .b = e->t1, .thread = i, .cpu = e->cpu};
        }
    if (*n)
        qsort(*v, *n, sizeof **v, cmp_lw);
    return 0;
}

/* The waker's release at or after event k of thread th, or -1. */
static int64_t next_release(const gsr_thread_t *th, size_t k)
{
    for (size_t j = k; j < th->n_ev; j++)
        if (th->ev[j].kind == GSR_RELEASE)
            return th->ev[j].t;
    return -1;
}

/* ---- a Lock's hand-offs (--lock-race) ------------------------------------ */

/* Whether semaphore obj is a mutex: every thread that posted it also
 * blocked on it (a `with lock:`), as waits.c's mutex_like decides which
 * locks --lock-race writes as Locks; a Condition's waiter lock or a
 * SimpleQueue's is posted by a thread that never waits on it. v: the
 * lock_waits, posts: the lock_posts, both sorted by (obj, time). 1, 0, or
 * -1 out of memory. O(waits and posts on obj + threads). */
static int mutex_obj(const lw_t *v, size_t n, const lw_t *posts, size_t n_posts, uint64_t obj)
{
    size_t w0 = after(v, n, obj, INT64_MIN), p0 = after(posts, n_posts, obj, INT64_MIN);
    int top = 0;
    for (size_t j = w0; j < n && v[j].obj == obj; j++)
        top = v[j].thread > top ? v[j].thread : top;
    bool *waits = calloc((size_t)top + 1, sizeof *waits); /* by thread: blocked on obj */
    if (!waits)
        return -1;
    for (size_t j = w0; j < n && v[j].obj == obj; j++)
        waits[v[j].thread] = true;
    int mutex = p0 < n_posts && posts[p0].obj == obj;
    for (size_t k = p0; mutex && k < n_posts && posts[k].obj == obj; k++)
        mutex = posts[k].thread <= top && waits[posts[k].thread];
    free(waits);
    return mutex;
}

/* The mutexes among the posts' objects into *out (sorted, as posts are),
 * their number in *n_out. 0, or -1 out of memory. */
static int mutexes(const lw_t *v, size_t n, const lw_t *posts, size_t n_posts, uint64_t **out,
                   size_t *n_out)
{
    *n_out = 0;
    *out = malloc((n_posts ? n_posts : 1) * sizeof **out);
    if (!*out)
        return -1;
    for (size_t k = 0; k < n_posts; k++) {
        if (k > 0 && posts[k].obj == posts[k - 1].obj)
            continue;
        int m = mutex_obj(v, n, posts, n_posts, posts[k].obj);
        if (m < 0) {
            free(*out);
            *out = NULL;
            return -1;
        }
        if (m)
            (*out)[(*n_out)++] = posts[k].obj;
    }
    return 0;
}

static bool in_sorted(const uint64_t *v, size_t n, uint64_t x)
{
    size_t lo = 0, hi = n;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (v[mid] == x)
            return true;
        if (v[mid] < x)
            lo = mid + 1;
        else
            hi = mid;
    }
    return false;
}

static int cmp_end(const void *x, const void *y)
{
    const lw_t *p = x, *q = y;
    if (p->obj != q->obj)
        return (p->obj > q->obj) - (p->obj < q->obj);
    return (p->b > q->b) - (p->b < q->b);
}

/* The wait that post p ended: another thread's wait on p's semaphore,
 * begun before p, ended after it and before the next post on it, `next`
 * (a post followed by another before the wait ends woke a waiter that lost
 * the Lock again); the earliest such end. ends: the lock_waits sorted by
 * (obj, end). NULL if none. O(log n + the waits ending in that window). */
static const lw_t *ended_by(const lw_t *ends, size_t n, const lw_t *p, int64_t next)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first wait on obj ending after p */
        size_t mid = lo + (hi - lo) / 2;
        if (ends[mid].obj < p->obj || (ends[mid].obj == p->obj && ends[mid].b <= p->a))
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t j = lo; j < n && ends[j].obj == p->obj && ends[j].b <= next; j++)
        if (ends[j].thread != p->thread && ends[j].a < p->a)
            return &ends[j];
    return NULL;
}

/* A Lock's hand-offs into f, read by the recorded CPUs only: the releases
 * of a mutex that a waiter won (its wait ended before the next release),
 * beside when its wait ended on the releaser's CPU at the post. A release
 * a waiter lost says nothing: the waiter slept on inside its lock_wait.
 * No timing window: the releaser's GIL release comes microseconds after
 * its post whoever wins (its retry), which the timing rule cannot read;
 * the CPUs can. On the quiet records of lock_contention (rp3, 5 ms) 70,
 * 76, 55 of 95, 94, 73 wins ran on the releaser's CPU (replay notes 45).
 * ends: the lock_waits sorted by (obj, end). The posts' times go to
 * times[] (up to cap). */
static void count_locks(const lw_t *ends, size_t n, const lw_t *posts, size_t n_posts,
                        const uint64_t *mx, size_t n_mx, fscenario_t *f, int64_t *times, size_t cap,
                        size_t *n_times)
{
    for (size_t k = 0; k < n_posts; k++) {
        const lw_t *p = &posts[k];
        int64_t next = k + 1 < n_posts && posts[k + 1].obj == p->obj ? posts[k + 1].a : INT64_MAX;
        const lw_t *w = in_sorted(mx, n_mx, p->obj) ? ended_by(ends, n, p, next) : NULL;
        if (!w || p->cpu < 0 || w->cpu < 0)
            continue;
        *(p->cpu == w->cpu ? &f->place_beside : &f->place_away) += 1;
        f->place_by_cpu++;
        f->place_lock++;
        if (*n_times < cap)
            times[(*n_times)++] = p->a;
    }
}

/* ---- the recording, all together ------------------------------------------ */

/* The recording's count into f; *want_t the PLACE_WANT-th counted post's
 * time (0 if fewer). Posts in time order per thread; the share is order-free.
 * 0, or -1 out of memory. */
static int count_recording(const gsr_recording_t *r, fscenario_t *f, const place_cut_t *c,
                           int64_t *want_t)
{
    size_t n = 0, n_posts = 0, n_mx = 0, n_times = 0;
    lw_t *v = NULL, *posts = NULL, *ends = NULL;
    uint64_t *mx = NULL; /* the mutexes, whose hand-offs count_locks reads */
    int64_t *times = NULL;
    int rc = -1;
    if (collect(r, GSR_LOCK_WAIT, &v, &n) != 0 || collect(r, GSR_LOCK_POST, &posts, &n_posts) != 0)
        goto fail;
    if (c->locks && mutexes(v, n, posts, n_posts, &mx, &n_mx) != 0)
        goto fail;
    if (c->locks && n_mx > 0) { /* the waits by their end, for count_locks */
        ends = malloc(n * sizeof *ends);
        if (!ends)
            goto fail;
        memcpy(ends, v, n * sizeof *ends);
        qsort(ends, n, sizeof *ends, cmp_end);
    }
    size_t cap = n + (c->locks ? n_posts : 0);
    times = malloc((cap ? cap : 1) * sizeof *times);
    if (!times)
        goto fail;
    for (int i = 0; i < r->n_threads; i++) {
        const gsr_thread_t *th = &r->threads[i];
        bool held = false;
        for (size_t k = 0; k < th->n_ev; k++) {
            const gsr_event_t *e = &th->ev[k];
            held = e->kind == GSR_HOLD ? true : e->kind == GSR_RELEASE ? false : held;
            if (e->kind != GSR_LOCK_POST || !held || e->obj == 0 || in_sorted(mx, n_mx, e->obj))
                continue; /* a Lock's hand-off: count_locks reads it */
            const lw_t *w = wait_at(v, n, e->obj, e->t);
            int64_t rel = next_release(th, k);
            if (!w || w->thread == i || w->b <= e->t || rel < 0 ||
                posted_again(posts, n_posts, e->obj, e->t, w->b))
                continue;
            int way = classify(c, e->t, w->b, rel);
            if (way < 0)
                continue;
            f->place_time_beside += way;
            if (e->cpu >= 0 && w->cpu >= 0) { /* the CPUs say it: they win */
                way = e->cpu == w->cpu;
                f->place_by_cpu++;
            }
            *(way ? &f->place_beside : &f->place_away) += 1;
            if (n_times < cap)
                times[n_times++] = e->t;
        }
    }
    if (ends)
        count_locks(ends, n, posts, n_posts, mx, n_mx, f, times, cap, &n_times);
    *want_t = 0;
    if (n_times >= PLACE_WANT) {
        qsort(times, n_times, sizeof *times, fit_cmp_i64);
        *want_t = times[PLACE_WANT - 1];
    }
    rc = 0;
fail:
    free(times);
    free(ends);
    free(mx);
    free(posts);
    free(v);
    return rc;
}

/* ---- a replay ----------------------------------------------------------- */

/* The end of the GIL hold of the main process running at t (consecutive
 * intervals of one holder merged), its holder in *who; -1 if free. */
static int64_t hold_end(const gs_lane_t *g, int64_t t, int *who)
{
    size_t k = gs_lane_find(g, t); /* the hold covering t, if any */
    if (k >= g->n || g->iv[k].start_ns > t)
        return -1;
    *who = g->iv[k].who;
    while (k + 1 < g->n && g->iv[k + 1].who == *who && g->iv[k + 1].start_ns == g->iv[k].end_ns)
        k++;
    return g->iv[k].end_ns;
}

/* Where the recording's release is in a replay: the end of drop_gil. The
 * engine frees the GIL first and then signals its condition variable, as
 * CPython does (`locked` 0, then COND_SIGNAL, then the mutex unlocked); a
 * signal that wakes a waiter on an idle core is a futex call with the IPI
 * inside it (wake.c wake_cost), which the trace shows as C without the GIL
 * right after the hold, before the thread blocks. The recorder's `release`
 * is the unlock after that signal (sim/fit/ipi.c): on producer_consumer 073
 * 10.8 us after the `signal` (median, 378 wakes), the thread queued behind
 * the waker running 3.1 us after the release and 14.0 us after the signal;
 * the replay 12.5 us after its hold's end, 1.7 us after that call. So a
 * hold followed by C without the GIL and then a wait (the blocking get,
 * put, acquire or join that dropped it) ends, for this count, where that C
 * ends. thr: the holder's lane; rel: its hold's end. O(log n). */
static int64_t drop_end(const gs_lane_t *thr, int64_t rel)
{
    size_t k = thr ? gs_lane_find(thr, rel) : 0; /* the interval covering rel */
    if (!thr || k + 1 >= thr->n)
        return rel;
    const gs_interval_t *c = &thr->iv[k], *w = &thr->iv[k + 1];
    bool waits = w->state == GS_ST_WAIT_QUEUE || w->state == GS_ST_WAIT_LOCK ||
                 w->state == GS_ST_WAIT_EVENT || w->state == GS_ST_WAIT_JOIN;
    if (c->start_ns != rel || c->state != GS_ST_C_NOGIL || !waits)
        return rel;
    return c->end_ns;
}

/* Whether a thread lane's interval is on a core (its `who` that core). */
static bool on_core(const gs_interval_t *v)
{
    return v->state == GS_ST_PY || v->state == GS_ST_C_GIL || v->state == GS_ST_C_NOGIL ||
           v->state == GS_ST_SWITCH;
}

/* The core thread lane l runs on at t (or, at an interval's edge, just
 * before it), -1 if none. O(log n). */
static int core_at(const gs_lane_t *l, int64_t t)
{
    for (int64_t at = t; at >= t - 1 && at >= 0; at--) {
        size_t k = gs_lane_find(l, at);
        if (k < l->n && l->iv[k].start_ns <= at && on_core(&l->iv[k]))
            return l->iv[k].who;
    }
    return -1;
}

/* Where a woken thread ran, its lane l from the interval after its wait,
 * k1, to its first that is not ready or a switch, j: the core of its last
 * context switch (queued, or preempting, then switched in), else of
 * interval j when that is on a core; else -2, an idle core that woke for it
 * (the engine traces such a wake as ready, then whatever the thread does
 * first, a GIL wait included: no switch), which was not its waker's, busy
 * at the post. The recording's reading is the CPU at the lock_wait's end,
 * where the woken thread returned from its wait. */
static int woken_core(const gs_lane_t *l, size_t k1, size_t j)
{
    int core = j < l->n && on_core(&l->iv[j]) ? l->iv[j].who : -2;
    for (size_t i = k1; i < j; i++)
        if (l->iv[i].state == GS_ST_SWITCH)
            core = l->iv[i].who;
    return core;
}

/* A replay's Lock hand-off, as count_locks reads the recording's: thread
 * i's Lock wait, lane interval k, woken by a release and won (its next
 * state that is not ready or a switch, j, is no Lock wait again: a woken
 * waiter that lost blocks again at once), its core (woken_core) against
 * its waker's at the wake, the waker the GIL's holder then (a release is
 * Python, with the GIL). 1 beside, 0 not, -1 not counted. */
static int lock_handoff(const gs_trace_t *t, const gs_lane_t *g, int i, const gs_lane_t *l,
                        size_t k)
{
    size_t j = k + 1;
    while (j < l->n && (l->iv[j].state == GS_ST_READY || l->iv[j].state == GS_ST_SWITCH))
        j++;
    int who = -1;
    int64_t e = l->iv[k].end_ns;
    if (j >= l->n || l->iv[j].state == GS_ST_WAIT_LOCK || hold_end(g, e, &who) < 0 || who == i ||
        who < 0 || who >= gs_trace_n_threads(t))
        return -1;
    int wc = core_at(gs_trace_lane(t, gs_trace_thread_lane(t, who)), e);
    return wc >= 0 && woken_core(l, k + 1, j) == wc;
}

/* A replay's count: each queue wait of a thread that ends while another
 * thread holds the GIL, the start of its first state after it that is not
 * ready or a switch (it ran), and that hold's end (drop_end); read by
 * timing, or, by_core, the woken thread's core (woken_core) against its
 * waker's at the post, counted in the same window; with c->locks each
 * Lock hand-off too (lock_handoff). */
static void count_trace(const gs_trace_t *t, const place_cut_t *c, int64_t *beside, int64_t *away)
{
    int gl = gs_trace_gil_lane(t, 0);
    const gs_lane_t *g = gl >= 0 ? gs_trace_lane(t, gl) : NULL;
    for (int i = 0; g && i < gs_trace_n_threads(t); i++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
        for (size_t k = 0; l && k < l->n; k++) {
            if (c->locks && l->iv[k].state == GS_ST_WAIT_LOCK) {
                int way = lock_handoff(t, g, i, l, k);
                if (way >= 0)
                    *(way ? beside : away) += 1;
                continue;
            }
            if (l->iv[k].state != GS_ST_WAIT_QUEUE)
                continue;
            size_t j = k + 1;
            while (j < l->n && (l->iv[j].state == GS_ST_READY || l->iv[j].state == GS_ST_SWITCH))
                j++;
            int who = -1;
            int64_t e = l->iv[k].end_ns, rel = hold_end(g, e, &who);
            if (j >= l->n || rel < 0 || who == i || l->iv[j].state == GS_ST_WAIT_QUEUE)
                continue;
            if (who >= 0 && who < gs_trace_n_threads(t))
                rel = drop_end(gs_trace_lane(t, gs_trace_thread_lane(t, who)), rel);
            int way = classify(c, e, l->iv[j].start_ns, rel);
            if (way >= 0 && c->by_core && who >= 0 && who < gs_trace_n_threads(t)) {
                int wc = core_at(gs_trace_lane(t, gs_trace_thread_lane(t, who)), e);
                way = wc >= 0 && woken_core(l, k + 1, j) == wc;
            }
            if (way >= 0)
                *(way ? beside : away) += 1;
        }
    }
}

void fit_place_count_replay(const gs_trace_t *t, int64_t wake_ns, bool by_core, int64_t *beside,
                            int64_t *away)
{
    fit_place_count_replay_locks(t, wake_ns, by_core, false, beside, away);
}

void fit_place_count_replay_locks(const gs_trace_t *t, int64_t wake_ns, bool by_core, bool locks,
                                  int64_t *beside, int64_t *away)
{
    place_cut_t c = {.lo = wake_ns / 2,
                     .ambig = (int64_t)llround(PLACE_AMBIG * (double)wake_ns),
                     .by_core = by_core,
                     .locks = locks};
    *beside = *away = 0;
    count_trace(t, &c, beside, away);
}

/* The wakes a share needs: FIT_PLACE_MIN, or FIT_PLACE_MIN_LOCK once that
 * many of them are a Lock's hand-offs (read by the recorded CPUs alone:
 * lock_contention's 69-92 on the quiet records). The queue wakes keep 100:
 * at 50, pipeline's fits of rp3 got wake_affine 0.5 from 76 wakes, and
 * its writer's GIL wait went from +369% to +517% of the real (seed 1). */
static int64_t place_min(const fscenario_t *f)
{
    return f->place_lock >= FIT_PLACE_MIN_LOCK ? FIT_PLACE_MIN_LOCK : FIT_PLACE_MIN;
}

#define PLACE_RUN_FAILED (-1)
#define PLACE_OOM (-2)

/* The replay's count at wake_affine pct (seeds pooled). */
static int try_value(gs_model_t *m, int64_t until_ns, const place_cut_t *c, int pct,
                     int64_t *beside, int64_t *away)
{
    *beside = *away = 0;
    m->machine.wake_affine_pct = pct;
    gs_run_opts_t o;
    gs_run_opts_init(&o);
    o.until_ns = until_ns;
    for (uint64_t s = 1; s <= PLACE_SEEDS; s++) {
        gs_trace_t *t = NULL;
        gs_error_t err;
        memset(&err, 0, sizeof err);
        m->seed = s;
        int rc = gs_sim_run(m, &o, &t, &err);
        gs_outcome_t end = t ? gs_trace_outcome(t) : GS_OUT_ERROR;
        if (end == GS_OUT_DONE || (until_ns > 0 && end == GS_OUT_HORIZON)) {
            count_trace(t, c, beside, away);
            rc = 0;
        } else {
            rc = rc == GS_ENOMEM || err.code == GS_ENOMEM ? PLACE_OOM : PLACE_RUN_FAILED;
        }
        gs_trace_free(t);
        if (rc)
            return rc;
    }
    return 0;
}

/* Every value of the grid run; the nearest share kept. 0, or try_value's. */
static int choose(gs_model_t *m, int64_t until_ns, const place_cut_t *c, fscenario_t *f)
{
    double target = (double)f->place_beside / (double)(f->place_beside + f->place_away);
    double best = INFINITY;
    for (int k = 0; k < N_GRID; k++) {
        int64_t b, a;
        int rc = try_value(m, until_ns, c, grid_pct[k], &b, &a);
        if (rc)
            return rc;
        if (b + a < place_min(f))
            continue;
        double s = (double)b / (double)(b + a);
        if (grid_pct[k] == 0)
            f->place_share0 = s;
        if (fabs(s - target) < best) {
            best = fabs(s - target);
            f->place_pct = grid_pct[k];
            f->place_model_share = s;
        }
    }
    f->place_why = isinf(best) ? FIT_PLACE_NO_REPLAY : FIT_PLACE_FITTED;
    return 0;
}

int fit_wake_place(const gsr_recording_t *r, fscenario_t *f)
{
    f->place_why = FIT_PLACE_NONE;
    f->place_share0 = -1;
    if (r->py_major != 3 || r->gil_disabled || f->cores < 2)
        return 0; /* no GIL hand-offs to read, or one core: nowhere else to run */
    int64_t wake = f->wakeup_ns > 0 ? f->wakeup_ns : 20000;
    place_cut_t c = {.lo = wake / 2,
                     .ambig = (int64_t)llround(PLACE_AMBIG * (double)wake),
                     .locks = f->lock_race && f->n_locks > 0 && r->has_cpu};
    int64_t want_t = 0;
    if (count_recording(r, f, &c, &want_t) != 0)
        return -1;
    f->place_why = FIT_PLACE_FEW;
    if (f->place_beside + f->place_away < place_min(f))
        return 0;
    c.by_core = 2 * f->place_by_cpu > f->place_beside + f->place_away; /* read alike */
    int64_t until_ns = want_t > 0 && want_t + 5000000 < r->duration_ns ? want_t + 5000000 : 0;
    gs_model_t *m = NULL;
    int rc = 0;
    f->place_why = FIT_PLACE_FAILED;
    if (fit_model(r, f, "fitted placement", &m) == 0) {
        rc = choose(m, until_ns, &c, f);
        if (rc == PLACE_RUN_FAILED) {
            f->place_why = FIT_PLACE_FAILED;
            rc = 0;
        }
    }
    gs_model_free(m);
    return rc == PLACE_OOM ? -1 : rc;
}

/* How the recording's wakes were read, as a sentence ("" none counted). */
static const char *reading(const fscenario_t *f, char *buf, size_t n)
{
    int64_t all = f->place_beside + f->place_away, timed = all - f->place_lock;
    double tim = timed ? 100.0 * (double)f->place_time_beside / (double)timed : 0;
    char lock[96] = "";
    if (f->place_lock > 0)
        snprintf(lock, sizeof lock, "; %lld of them a Lock's releases a waiter won (--lock-race)",
                 (long long)f->place_lock);
    if (all == 0)
        *buf = 0;
    else if (f->place_by_cpu == 0)
        snprintf(buf, n, " (by timing: no CPUs recorded)");
    else if (f->place_by_cpu == all && timed == 0)
        snprintf(buf, n, " (by the recorded CPUs, the replay's by its cores%s)", lock);
    else if (f->place_by_cpu == all)
        snprintf(buf, n,
                 " (by the recorded CPUs, the replay's by its cores; by timing alone %.0f%%%s)",
                 tim, lock);
    else
        snprintf(buf, n,
                 " (%lld by the recorded CPUs, %lld by timing, the replay's by its %s; "
                 "by timing alone %.0f%%%s)",
                 (long long)f->place_by_cpu, (long long)(all - f->place_by_cpu),
                 2 * f->place_by_cpu > all ? "cores" : "timing", tim, lock);
    return buf;
}

const char *fit_wake_place_note(const fscenario_t *f, char *buf, size_t n)
{
    int64_t all = f->place_beside + f->place_away;
    double rec = all ? 100.0 * (double)f->place_beside / (double)all : 0;
    char how[300], zero[64] = "0: too few such wakes";
    reading(f, how, sizeof how);
    if (f->place_share0 >= 0)
        snprintf(zero, sizeof zero, "0 gives %.0f%%", 100 * f->place_share0);
    switch (f->place_why) {
    case FIT_PLACE_FITTED:
        snprintf(buf, n,
                 " Where a woken thread ran: of the %lld threads a lock release woke while "
                 "its waker held the GIL on, %.0f%% ran beside their waker (queued behind it, "
                 "or preempting it) and the rest on the idle CPU%s, as the kernel's wake-up "
                 "placement decided (SIS_UTIL: it moves from run to run); wake_affine %.2f "
                 "gives the replay %.0f%% (%s; %d seeds).",
                 (long long)all, rec, how, f->place_pct / 100.0, 100 * f->place_model_share, zero,
                 PLACE_SEEDS);
        break;
    case FIT_PLACE_NO_REPLAY:
    case FIT_PLACE_FAILED:
        snprintf(buf, n,
                 " Where a woken thread runs (wake_affine) is the engine's default 0: %.0f%% "
                 "of the recording's %lld lock wakes ran beside their waker%s, but the replay "
                 "%s.",
                 rec, (long long)all, how,
                 f->place_why == FIT_PLACE_FAILED ? "run to match it failed"
                                                  : "has too few such wakes to match it");
        break;
    default:
        *buf = 0;
        break;
    }
    return buf;
}
