/* exittail.c - how long a thread keeps the GIL after its end woke its
 * joiner (python.exit_posts_early, python.exit_tail), read off the
 * recording's own thread ends.
 *
 * Up to 3.12, CPython releases the thread state lock that Thread.join
 * waits on while the ending thread still holds the GIL: the lock's
 * on_delete callback runs in PyThreadState_Clear (in tstate_delete_common
 * before 3.11), and _PyThreadState_DeleteCurrent drops the GIL only after
 * it (Python/pystate.c). From 3.13 the join waits on the handle's
 * thread_is_exiting event, set after that drop (Modules/_threadmodule.c
 * thread_run), which the engine does by default. The recorder sees the
 * release as a `lock_post` (a sem_post that woke a blocked waiter, stamped
 * before the call) and the drop as `release exit` (stamped at drop_gil's
 * end; its `signal`, when the drop wakes a GIL waiter, is where the GIL
 * became free: replay_notes.md point 41).
 *
 * Counted: a thread's last release (why exit) whose final hold (from its
 * last `hold` before it) has a `lock_post` on a known semaphore that another
 * thread was blocked on inside a Thread.join (a `lock_wait` spanning the
 * post, inside a `wait` of category join): the joiner was woken before the
 * drop. Its tail is the time from the post to the drop's start (the first
 * `signal` after the post, else the release), less what the model charges
 * the ending thread for the post itself (the futex call: machine.futex,
 * plus the fit's machine.wake_ipi when the joiner woke on another CPU than
 * the poster's, as wake.c wake_cost does for a wake onto another idle
 * core). exit_tail is the median of those tails; exit_posts_early is
 * written with it. Nothing is written when the recording's Python is 3.13
 * or later or not named, or when no thread's end woke a waiting joiner
 * (nothing to read a tail from: the default, post after the drop, stays).
 * Cost: O(posts in final holds x events); a handful of ends per recording.
 * Source: python/cpython Python/pystate.c (PyThreadState_Clear,
 * _PyThreadState_DeleteCurrent), Modules/_threadmodule.c (release_sentinel;
 * 3.13+ thread_run); replay_notes.md point 43. */
#include "exittail.h"
#include "recfile_int.h"

#include "gilsim/model.h"
#include "gilsim/units.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>

/* Whether the recording's Python posts a thread's end before its final
 * GIL drop: CPython 3 up to 3.12. */
static bool posts_early(const gsr_recording_t *r)
{
    return r->py_major == 3 && r->py_minor <= 12 && !r->gil_disabled;
}

/* Whether thread j was blocked on semaphore obj at t inside a Thread.join:
 * a lock_wait on obj spanning t, inside a join wait. Its wake's CPU in
 * *cpu (-1 unknown). O(events of j). */
static bool joiner_at(const gsr_thread_t *th, uint64_t obj, int64_t t, int *cpu)
{
    for (size_t k = 0; k < th->n_ev; k++) {
        const gsr_event_t *w = &th->ev[k];
        if (w->kind != GSR_LOCK_WAIT || w->obj != obj || w->t > t || w->t1 < t)
            continue;
        for (size_t m = 0; m < th->n_ev; m++) {
            const gsr_event_t *j = &th->ev[m];
            if (j->kind == GSR_WAIT && j->cat == GSR_CAT_JOIN && j->t <= w->t && w->t1 <= j->t1) {
                *cpu = w->cpu;
                return true;
            }
        }
    }
    return false;
}

/* The index of thread i's last release (why exit), or th->n_ev. */
static size_t exit_release(const gsr_thread_t *th)
{
    size_t x = th->n_ev;
    for (size_t k = 0; k < th->n_ev; k++)
        if (th->ev[k].kind == GSR_RELEASE && th->ev[k].why == GSR_WHY_EXIT &&
            (x == th->n_ev || th->ev[k].t >= th->ev[x].t))
            x = k;
    return x;
}

/* Thread i's tail after the post that woke its joiner, less the post's
 * cost (cost_ns; cost_ipi_ns more for a joiner woken on another CPU), into
 * *tail_ns: true, or false when its end woke no waiting joiner. */
static bool end_tail(const gsr_recording_t *r, int i, int64_t cost_ns, int64_t cost_ipi_ns,
                     int64_t *tail_ns)
{
    const gsr_thread_t *th = &r->threads[i];
    size_t x = exit_release(th);
    if (x == th->n_ev)
        return false;
    int64_t drop = th->ev[x].t, hold = -1;
    for (size_t k = 0; k < th->n_ev; k++)
        if (th->ev[k].kind == GSR_HOLD && th->ev[k].t <= drop && th->ev[k].t > hold)
            hold = th->ev[k].t;
    if (hold < 0)
        return false; /* no final hold to read */
    const gsr_event_t *post = NULL;
    int joiner_cpu = -1;
    for (size_t k = 0; k < th->n_ev; k++) {
        const gsr_event_t *p = &th->ev[k];
        if (p->kind != GSR_LOCK_POST || p->t < hold || p->t > drop || (post && p->t < post->t))
            continue;
        if (p->obj == 0)
            continue; /* semaphore unknown (an older recording): whose, cannot be told */
        for (int j = 0; j < r->n_threads; j++) {
            int cpu;
            if (j != i && joiner_at(&r->threads[j], p->obj, p->t, &cpu)) {
                post = p;
                joiner_cpu = cpu;
                break;
            }
        }
    }
    if (!post)
        return false;
    int64_t start = drop; /* the drop's start: its signal, when it made one */
    for (size_t k = 0; k < th->n_ev; k++)
        if (th->ev[k].kind == GSR_SIGNAL && th->ev[k].t >= post->t && th->ev[k].t < start)
            start = th->ev[k].t;
    int64_t cost = cost_ns;
    if (post->cpu >= 0 && joiner_cpu >= 0 && post->cpu != joiner_cpu)
        cost += cost_ipi_ns;
    int64_t tail = start - post->t - cost;
    *tail_ns = tail > 0 ? tail : 0;
    return true;
}

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

int fit_exit_tail(const gsr_recording_t *r, fscenario_t *f)
{
    f->exit_n = 0;
    f->exit_tail_ns = f->exit_lo_ns = f->exit_hi_ns = 0;
    if (!posts_early(r) || r->n_threads < 2)
        return 0;
    gs_machine_t d;
    gs_machine_defaults(&d);
    int64_t ipi = f->wake_ipi_ns >= 0 ? f->wake_ipi_ns : d.wake_ipi_ns;
    int64_t *v = malloc((size_t)r->n_threads * sizeof *v);
    if (!v)
        return -1;
    size_t n = 0;
    for (int i = 0; i < r->n_threads; i++)
        n += end_tail(r, i, d.futex_ns, ipi, &v[n]);
    if (n) {
        qsort(v, n, sizeof *v, by_value);
        f->exit_n = (int)n;
        int64_t med = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        f->exit_tail_ns = (med + 50) / 100 * 100; /* to 0.1 us: finer is noise */
        f->exit_lo_ns = v[0];
        f->exit_hi_ns = v[n - 1];
    }
    free(v);
    return 0;
}

void fit_exit_json(void *python, const fscenario_t *f)
{
    cJSON *py = python;
    char d[32];
    if (f->exit_n <= 0)
        return;
    cJSON_AddTrueToObject(py, "exit_posts_early");
    cJSON_AddStringToObject(py, "exit_tail", gs_format_ns_exact(f->exit_tail_ns, d, sizeof d));
}

const char *fit_exit_note(const gsr_recording_t *r, const fscenario_t *f, char *buf, size_t n)
{
    char a[32], lo[32], hi[32], range[80] = "";
    *buf = 0;
    if (f->exit_n > 1)
        snprintf(range, sizeof range, " at the median (%s to %s)",
                 gs_format_ns(f->exit_lo_ns, lo, sizeof lo),
                 gs_format_ns(f->exit_hi_ns, hi, sizeof hi));
    if (f->exit_n > 0)
        snprintf(buf, n,
                 " At %d thread end%s a joiner was waiting: Python %d.%d wakes it (the thread "
                 "state lock's release) while the ending thread still holds the GIL, and the "
                 "final drop began %s after that wake%s, beyond the futex call the model "
                 "charges for it: python.exit_posts_early with exit_tail %s.",
                 f->exit_n, f->exit_n == 1 ? "" : "s", r->py_major, r->py_minor,
                 gs_format_ns(f->exit_tail_ns, a, sizeof a), range, a);
    else if (posts_early(r) && r->n_threads > 1)
        snprintf(buf, n,
                 " No thread's end woke a joiner already waiting, so how long Python %d.%d "
                 "keeps the GIL after that wake is not read (python.exit_posts_early not "
                 "written: the join is woken after the final drop).",
                 r->py_major, r->py_minor);
    return buf;
}
