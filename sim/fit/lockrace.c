/* lockrace.c - a Lock's acquires and releases in a fit, so that the engine
 * runs its race (gilsim fit --lock-race; off by default).
 *
 * By default a wait on a Lock is a get on a queue of its own thread and the
 * release that ended it a put for that thread (waits.c): who takes the Lock
 * after whom is the recording's under any what-if. CPython's Lock is a
 * semaphore (PyThread_acquire_lock_timed: sem_trywait, then sem_clockwait
 * without the GIL; release: sem_post, which wakes one blocked waiter). The
 * releaser goes on and, in a loop, tries again a few microseconds later;
 * the woken waiter takes the semaphore only once it runs, so whoever gets
 * there first wins and the other blocks (again). On two CPUs of this
 * machine the releaser mostly wins; on one the waiter preempts its waker
 * as the release returns and wins (replay notes 23, 33). The engine's Lock
 * is that semaphore (sync.c lock_release: free, wake the oldest waiter,
 * hand nothing over), so writing the Lock ops lets a what-if decide.
 *
 * The recording sees only the contended half: a blocked acquire
 * (lock_wait: the thread holds the Lock when it ends) and a release that
 * found a thread blocked (lock_post). An uncontended acquire or release
 * leaves no event. With --lock-race each lock wait is an `acquire` of the
 * declared Lock "lock-N" and each post by a thread on it a `release` (the
 * ones the releaser won back too: fit_waits_posts), and this pass makes
 * every thread's ops on each lock alternate, inserting what was not seen:
 *   - an acquire while the thread holds the lock: its release before it,
 *     the gap (below) of Python earlier (the loop's release, then its
 *     next try);
 *   - a release while it does not hold it: its acquire, the gap of Python
 *     after its previous release of that lock (or, for its first, at the
 *     start of the Python run before the release);
 *   - a lock still held at the end: released there.
 * The gap is the median Python between a release and the same thread's
 * next blocked acquire of the lock, over the fit (the loop's own time from
 * a release to its next try, which a blocked try shows); 0 if none.
 * A thread that holds a lock so paired while it waits for another thread
 * (a get, a join, an until loop, another lock) could deadlock the replay
 * (the thread it waits for may need the lock first: a pool's queue, a
 * Future's condition): such a fit sets lock_unsafe and gs_fit_recording
 * fits again in the recorded order, saying so. Holds that only run,
 * sleep, do I/O, put or release always end, so the rest cannot deadlock.
 * Everything the recording did not see stays a guess: Python between two
 * uncontended rounds is one run with the lock held, so a what-if in which
 * others wait then sees fewer releases than the program makes. */
#include "fit_int.h"
#include "lockgap.h"

#include <stdlib.h>
#include <string.h>

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* The median Python from a release to the same thread's next acquire of
 * that lock, over every thread's top-level ops; 0 if none. */
static int64_t release_gap(const fscenario_t *f)
{
    size_t n = 0, cap = 0;
    int64_t *v = NULL;
    for (int i = 0; i < f->n_threads; i++) {
        const fop_list_t *l = &f->th[i].ops;
        for (int k = 0; k < l->n; k++) {
            if (l->v[k].kind != FOP_RELEASE)
                continue;
            int64_t sum = 0;
            int j = k + 1;
            for (; j < l->n && l->v[j].kind == FOP_CPU; j++)
                sum += l->v[j].dur;
            if (j >= l->n || l->v[j].kind != FOP_ACQUIRE || l->v[j].target != l->v[k].target)
                continue;
            if (n == cap) {
                cap = cap ? 2 * cap : 64;
                int64_t *nv = realloc(v, cap * sizeof *v);
                if (!nv) {
                    free(v);
                    return -1;
                }
                v = nv;
            }
            v[n++] = sum;
        }
    }
    int64_t gap = 0;
    if (n) {
        qsort(v, n, sizeof *v, cmp_i64);
        gap = v[n / 2];
    }
    free(v);
    return gap;
}

static int insert_at(fop_list_t *l, int at, fop_t op)
{
    if (fop_push(l, &op) != 0)
        return -1;
    memmove(&l->v[at + 1], &l->v[at], (size_t)(l->n - 1 - at) * sizeof *l->v);
    l->v[at] = op;
    return 0;
}

/* Inserts op after `after` ns of the Python that begins at index k (cut in
 * two where needed), before any other op that comes first. The index just
 * past it, or -1. */
static int insert_after_python(fop_list_t *l, int k, int64_t after, fop_t op)
{
    for (; k < l->n && l->v[k].kind == FOP_CPU; k++) {
        if (l->v[k].dur > after) {
            if (after > 0) {
                fop_t rest = l->v[k];
                rest.dur -= after;
                l->v[k].dur = after;
                if (insert_at(l, k + 1, rest) != 0)
                    return -1;
                k++;
            }
            break;
        }
        after -= l->v[k].dur;
    }
    return insert_at(l, k, op) == 0 ? k + 1 : -1;
}

/* The index of the first op of the Python run that ends just before k. */
static int python_run_start(const fop_list_t *l, int k)
{
    while (k > 0 && l->v[k - 1].kind == FOP_CPU)
        k--;
    return k;
}

/* Inserts lock op `other` before op k (fix_before) and moves the indices
 * past the insertion: k's, and the last releases'. k's new index, or -1. */
static int fix_before(fscenario_t *f, fop_list_t *l, int k, int start, int64_t after, fop_t other,
                      int *last_rel, int n)
{
    int n0 = l->n;
    if (insert_after_python(l, start, after, other) < 0)
        return -1;
    int delta = l->n - n0;
    for (int m = 0; m < n; m++)
        if (last_rel[m] >= start)
            last_rel[m] += delta;
    f->n_lock_fixes++;
    return k + delta;
}

/* Thread t's ops on n locks made to alternate acquire, release. */
static int pair_thread(fscenario_t *f, fop_list_t *l, int n, bool *held, int *last_rel)
{
    for (int k = 0; k < n; k++) {
        held[k] = false;
        last_rel[k] = -1;
    }
    for (int k = 0; k < l->n; k++) {
        const fop_t op = l->v[k];
        int lk = op.target;
        if ((op.kind != FOP_ACQUIRE && op.kind != FOP_RELEASE) || lk < 0 || lk >= n)
            continue;
        fop_t other = {.kind = op.kind == FOP_ACQUIRE ? FOP_RELEASE : FOP_ACQUIRE, .target = lk};
        if (op.kind == FOP_ACQUIRE && held[lk]) { /* its unseen release, gap before */
            int s = python_run_start(l, k);
            int64_t run = 0;
            for (int j = s; j < k; j++)
                run += l->v[j].dur;
            int64_t at = run > f->lock_gap_ns ? run - f->lock_gap_ns : 0;
            k = fix_before(f, l, k, s, at, other, last_rel, n);
        } else if (op.kind == FOP_RELEASE && !held[lk]) { /* its unseen acquire */
            bool prev = last_rel[lk] >= 0;
            k = fix_before(f, l, k, prev ? last_rel[lk] + 1 : python_run_start(l, k),
                           prev ? f->lock_gap_ns : 0, other, last_rel, n);
        }
        if (k < 0)
            return -1;
        held[lk] = op.kind == FOP_ACQUIRE;
        if (op.kind == FOP_RELEASE)
            last_rel[lk] = k;
    }
    for (int k = 0; k < n; k++)
        if (held[k]) {
            if (fop_push(l, &(fop_t){.kind = FOP_RELEASE, .target = k}) != 0)
                return -1;
            f->n_lock_fixes++;
        }
    return 0;
}

/* Sets f->lock_unsafe if thread ops l, paired, hold a lock while they wait
 * for another thread (a get, a join, an until loop, another lock). */
static void check_holds(fscenario_t *f, const fop_list_t *l)
{
    int n_held = 0;
    for (int k = 0; k < l->n; k++) {
        int kind = l->v[k].kind;
        if (kind == FOP_GET || kind == FOP_JOIN || kind == FOP_UNTIL ||
            (kind == FOP_ACQUIRE && n_held > 0))
            f->lock_unsafe |= n_held > 0;
        n_held += kind == FOP_ACQUIRE ? 1 : kind == FOP_RELEASE ? -1 : 0;
    }
}

/* Every top-level run of Python from a release to the same thread's next
 * acquire of that lock made `excess` shorter, to no less than `floor`
 * (cut from its end: the try's side). */
static void shorten_retries(fscenario_t *f, int64_t excess, int64_t floor)
{
    for (int i = 0; i < f->n_threads; i++) {
        fop_list_t *l = &f->th[i].ops;
        for (int k = 0; k < l->n; k++) {
            if (l->v[k].kind != FOP_RELEASE)
                continue;
            int64_t run = 0;
            int j = k + 1;
            for (; j < l->n && l->v[j].kind == FOP_CPU; j++)
                run += l->v[j].dur;
            if (j >= l->n || l->v[j].kind != FOP_ACQUIRE || l->v[j].target != l->v[k].target)
                continue;
            int64_t cut = run - floor < excess ? run - floor : excess;
            for (int m = j - 1; m > k && cut > 0; m--) {
                int64_t c = l->v[m].dur < cut ? l->v[m].dur : cut;
                l->v[m].dur -= c;
                l->v[m].lo = l->v[m].lo > c ? l->v[m].lo - c : 0;
                l->v[m].hi = l->v[m].hi > c ? l->v[m].hi - c : 0;
                cut -= c;
            }
        }
    }
}

/* f->lock_gap_ns: read off the recording where it can be, else the fit's
 * median (release_gap). 0 or -1 (out of memory). */
static int lock_gap(fscenario_t *f)
{
    int64_t median = release_gap(f), n = 0;
    if (median < 0)
        return -1;
    int64_t read = fit_lock_gap_read(f->rec_path, f->context_switch_ns, &n);
    if (read == -2)
        return -1;
    f->lock_gap_ns = median;
    f->lock_gap_n = read >= 0 ? n : 0;
    if (read >= 0 && read < median) {
        shorten_retries(f, median - read, read);
        f->lock_gap_ns = read;
    }
    return 0;
}

int fit_lock_pairs(fscenario_t *f)
{
    if (!f->lock_race || f->n_locks <= 0)
        return 0;
    if (lock_gap(f) != 0)
        return -1;
    bool *held = malloc((size_t)f->n_locks * sizeof *held);
    int *last_rel = malloc((size_t)f->n_locks * sizeof *last_rel);
    int rc = held && last_rel ? 0 : -1;
    for (int i = 0; rc == 0 && i < f->n_threads; i++) {
        fthread_t *t = &f->th[i];
        rc = pair_thread(f, &t->ops, f->n_locks, held, last_rel);
        check_holds(f, &t->ops);
        int64_t n_acq = 0, n_rel = 0;
        for (int k = 0; k < t->ops.n; k++) {
            n_acq += t->ops.v[k].kind == FOP_ACQUIRE;
            n_rel += t->ops.v[k].kind == FOP_RELEASE;
        }
        t->st.n[FOP_ACQUIRE] = n_acq;
        t->st.n[FOP_RELEASE] = n_rel;
    }
    free(held);
    free(last_rel);
    int64_t n_ops = 0;
    for (int i = 0; i < f->n_threads; i++)
        n_ops += f->th[i].st.n[FOP_ACQUIRE] + f->th[i].st.n[FOP_RELEASE];
    if (!n_ops)
        f->n_locks = 0; /* no lock was a mutex: nothing to declare */
    return rc;
}
