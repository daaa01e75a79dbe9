/* ipi.c - what waking a sleeper on another CPU costs its waker
 * (machine.wake_ipi), read off the recording's own GIL releases.
 *
 * CPython's drop_gil signals the GIL's condition variable while it holds
 * the GIL's mutex and unlocks the mutex after it (Python/ceval_gil.c): the
 * recording has the signal's start (`signal`, naming the waiter whose wait
 * returned next) and the unlock (`release`). When the signal wakes a waiter
 * asleep on another, idle CPU, glibc's futex_wake sends that CPU an
 * inter-processor interrupt inside the call, a VM exit on a virtual machine:
 * on the project's VM 11 to 19 us from signal to release (median, the
 * io_two_cpu recordings on two CPUs) against 0.5 to 2 us where the waiter
 * was on the signaller's CPU (the same program under `taskset -c 0`). The
 * model charges that to every waker of a thread going onto another idle
 * core (wake.c wake_cost: machine.futex + machine.wake_ipi), the new holder
 * waking the forced dropper among them (gil.c acquire), so it decides
 * whether the forced dropper is back in its wait before the next hand-off
 * (replay_notes.md, point 16). The recorder's calibration does not measure
 * it; tests/reality's does, the same way as here in spirit (a wake onto the
 * other CPU against one onto its own).
 *
 * Counted: a signal followed, with no other GIL event of its thread between,
 * by that thread's release (one drop_gil); that took longer than the
 * recording's bare system call (calibration syscall_ns: glibc's signal
 * makes no system call when nobody waits); whose named waiter's wait
 * returned (woken, futile, or the hold) half a calibrated wake-up
 * (wake_hot) or more after the signal: it had to be woken, not caught on
 * its way into its wait. The median of those signal-to-release times, less
 * machine.futex (the engine's default, which the fit keeps), is wake_ipi;
 * fewer than FIT_IPI_MIN such releases, or no calibration: not written
 * (the engine's 0), and the description says so. Out of memory is the
 * fit's error (GS_ENOMEM), not "fewer than FIT_IPI_MIN".
 *
 * By the recorded CPUs (gilsim fit --ipi-by-cpu, off): the engine charges
 * wake_ipi only for a wakee going to another, idle core, and Linux sends
 * the interrupt only then (a CPU running a thread, or one whose wake-up
 * list already holds one, gets none: idlecpu.c). So only wakes the CPUs
 * show going to another CPU idle by the recording (idlecpu.c) count: a drop
 * as above whose waiter's wait returned on another CPU than the signal's,
 * and a Queue notify (a lock_post inside Queue.put/get) that ended another
 * thread's lock_wait on another CPU, half a wake-up or more later, costing
 * the post to the poster's next stamp (qcut.c's cut of it). pipeline's
 * quiet 5 ms recordings (rp3 121, 128, 131): 0.5-1.1 us by timing (its
 * drops go to a CPU already waking the writer), 11.4-15.3 us by CPU (13-44
 * drops, 283-366 notifies). Fewer than FIT_IPI_MIN counted by CPU: the
 * timing's reading. Off by default: replay_notes.md, point 52. */
#include "fit_int.h"
#include "idlecpu.h"
#include "recfile_int.h"

#include "gilsim/model.h"
#include "gilsim/units.h"

#include <stdio.h>
#include <stdlib.h>

static int by_value(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return x < y ? -1 : x > y;
}

static bool gil_event(uint8_t kind)
{
    return kind == GSR_ASK || kind == GSR_HOLD || kind == GSR_RELEASE || kind == GSR_SIGNAL ||
           kind == GSR_WOKEN || kind == GSR_FUTILE || kind == GSR_TIMEOUT ||
           kind == GSR_DROP_REQUEST || kind == GSR_SWITCH_WAIT || kind == GSR_SWITCH_DONE;
}

/* Where thread w's wait returned at or after t: its first woken, futile
 * wake-up or hold from t; NULL if none. */
static const gsr_event_t *returned(const gsr_thread_t *w, int64_t t)
{
    for (size_t k = gsr_first_event_at(w, t); k < w->n_ev; k++) {
        uint8_t kd = w->ev[k].kind;
        if (kd == GSR_WOKEN || kd == GSR_FUTILE || kd == GSR_HOLD)
            return &w->ev[k];
    }
    return NULL;
}

/* A drop's signal counted: that thread's next GIL event is its release,
 * later than a bare system call (glibc's signal makes no futex call when
 * nobody waits), and its waiter's wait returned half a calibrated wake-up
 * or more after the signal (asleep, not caught on its way in); with CPUs,
 * on another CPU than the signal's, idle then (idlecpu.c). Its cost, or -1. */
static int64_t drop_cost(const gsr_recording_t *r, const fit_cpus_t *cpus, bool by_cpu, int i,
                         size_t k)
{
    const gsr_thread_t *th = &r->threads[i];
    const gsr_event_t *s = &th->ev[k];
    if (s->arg < 0 || s->arg >= r->n_threads || s->arg == i)
        return -1;
    size_t j = k + 1;
    while (j < th->n_ev && !gil_event(th->ev[j].kind))
        j++;
    if (j == th->n_ev || th->ev[j].kind != GSR_RELEASE)
        return -1;
    int64_t cost = th->ev[j].t - s->t;
    if (cost <= r->cal_syscall_ns)
        return -1; /* no futex call: nobody was waiting */
    const gsr_event_t *back = returned(&r->threads[s->arg], s->t);
    if (!back || 2 * (back->t - s->t) < r->cal_wake_hot_ns)
        return -1; /* not asleep, or woken where it was */
    if (by_cpu && (s->cpu < 0 || back->cpu < 0 || s->cpu == back->cpu ||
                   !fit_cpu_idle(cpus, back->cpu, s->t, i, s->arg)))
        return -1; /* no interrupt: its own CPU, or one already taken */
    return cost;
}

/* The lock_wait of thread w under way at t (the latest one begun by then,
 * if it had not ended), or NULL. */
static const gsr_event_t *lock_wait_at(const gsr_thread_t *w, int64_t t)
{
    for (size_t k = gsr_first_event_at(w, t + 1); k-- > 0;)
        if (w->ev[k].kind == GSR_LOCK_WAIT)
            return w->ev[k].t1 > t ? &w->ev[k] : NULL;
    return NULL;
}

/* The end of the Queue call of th that event k lies in, or -1. A span is
 * written as it ends, stamped with its start: the call enclosing a post
 * comes after it in the file, within a few events (the Condition.wait
 * inside, when the call blocked, first). */
static int64_t queue_call_end(const gsr_thread_t *th, size_t k)
{
    int64_t t = th->ev[k].t;
    for (size_t j = k + 1; j < th->n_ev && j - k <= 8; j++) {
        const gsr_event_t *e = &th->ev[j];
        if (e->kind == GSR_WAIT && e->cat == GSR_CAT_QUEUE && e->t <= t && e->t1 > t)
            return e->t1;
    }
    return -1;
}

/* A Queue notify counted (recordings with CPUs only): a lock_post inside a
 * Queue call that ended another thread's lock_wait on another CPU, idle
 * then, half a calibrated wake-up or more after the post. Its cost, from
 * the post to the poster's next stamp (qcut.c's cut), or -1. */
static int64_t notify_cost(const gsr_recording_t *r, const fit_cpus_t *cpus, bool by_cpu, int i,
                           size_t k)
{
    const gsr_thread_t *th = &r->threads[i];
    const gsr_event_t *p = &th->ev[k];
    int64_t end = queue_call_end(th, k);
    if (!by_cpu || p->cpu < 0 || p->obj == 0 || end < 0)
        return -1;
    const gsr_event_t *lw = NULL; /* the wait it ended: the first to end after it */
    int w = -1;
    for (int u = 0; u < r->n_threads; u++) {
        const gsr_event_t *x = u == i ? NULL : lock_wait_at(&r->threads[u], p->t);
        if (x && x->obj == p->obj && (!lw || x->t1 < lw->t1)) {
            lw = x;
            w = u;
        }
    }
    if (!lw || lw->cpu < 0 || lw->cpu == p->cpu || 2 * (lw->t1 - p->t) < r->cal_wake_hot_ns ||
        !fit_cpu_idle(cpus, lw->cpu, p->t, i, w))
        return -1;
    size_t j = k + 1;
    while (j < th->n_ev && th->ev[j].t <= p->t)
        j++;
    int64_t next = j < th->n_ev && th->ev[j].t < end ? th->ev[j].t : end;
    return next - p->t;
}

/* The costs of the wakes counted (drops, then notifies: f->ipi_n_posts of
 * them), into *out, malloc'd (*n of them; NULL when none could count). 0,
 * or -1 out of memory (a fit without the figure would say "fewer than 20",
 * which would not be true). */
static int wake_costs(const gsr_recording_t *r, fscenario_t *f, bool by_cpu, int64_t **out,
                      size_t *n)
{
    size_t cap = 0;
    *n = 0;
    *out = NULL;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++)
            cap +=
                r->threads[i].ev[k].kind == GSR_SIGNAL || r->threads[i].ev[k].kind == GSR_LOCK_POST;
    if (!cap)
        return 0;
    fit_cpus_t cpus = {0}; /* only by CPU: the default reading builds none */
    int64_t *v = malloc(cap * sizeof *v);
    if (!v || (by_cpu && fit_cpus_init(r, &cpus) != 0)) {
        free(v);
        return -1;
    }
    for (int pass = 0; pass < 2; pass++)
        for (int i = 0; i < r->n_threads; i++)
            for (size_t k = 0; k < r->threads[i].n_ev; k++) {
                uint8_t kd = r->threads[i].ev[k].kind;
                int64_t c = pass == 0 && kd == GSR_SIGNAL      ? drop_cost(r, &cpus, by_cpu, i, k)
                            : pass == 1 && kd == GSR_LOCK_POST ? notify_cost(r, &cpus, by_cpu, i, k)
                                                               : -1;
                if (c >= 0) {
                    v[(*n)++] = c;
                    f->ipi_n_posts += pass;
                }
            }
    fit_cpus_destroy(&cpus);
    *out = v;
    return 0;
}

int fit_wake_ipi(const gsr_recording_t *r, fscenario_t *f)
{
    f->wake_ipi_ns = -1;
    f->ipi_n = 0;
    f->ipi_n_posts = 0;
    f->ipi_median_ns = 0;
    if (!r->has_calibration || r->cal_wake_hot_ns <= 0)
        return 0;
    size_t n;
    int64_t *v;
    f->ipi_by_cpu = r->has_cpu && f->ipi_cpu_wanted;
    if (wake_costs(r, f, f->ipi_by_cpu, &v, &n) != 0)
        return -1;
    if (f->ipi_by_cpu && n < FIT_IPI_MIN) { /* too few seen by CPU: the timing's reading */
        free(v);
        f->ipi_by_cpu = false;
        f->ipi_n_posts = 0;
        if (wake_costs(r, f, false, &v, &n) != 0)
            return -1;
    }
    f->ipi_n = (int64_t)n;
    if (n >= FIT_IPI_MIN) {
        qsort(v, n, sizeof *v, by_value);
        f->ipi_median_ns = n % 2 ? v[n / 2] : (v[n / 2 - 1] + v[n / 2]) / 2;
        gs_machine_t d;
        gs_machine_defaults(&d);
        int64_t ipi = f->ipi_median_ns - d.futex_ns;
        f->wake_ipi_ns = ipi > 0 ? ipi : 0;
    }
    free(v);
    return 0;
}

const char *fit_wake_ipi_note(const fscenario_t *f, char *buf, size_t n)
{
    char a[32], b[32];
    if (f->wake_ipi_ns >= 0 && f->ipi_by_cpu)
        snprintf(buf, n,
                 " Waking a thread asleep on another, idle CPU cost its waker %s (median of "
                 "the recording's %lld such wakes, by their recorded CPUs: %lld GIL drops, "
                 "signal to release, and %lld Queue notifies, post to the poster's next "
                 "stamp; a wake onto a CPU already running or waking another thread sends "
                 "no interrupt and is not counted): machine.wake_ipi %s, beyond "
                 "machine.futex.",
                 gs_format_ns(f->ipi_median_ns, a, sizeof a), (long long)f->ipi_n,
                 (long long)(f->ipi_n - f->ipi_n_posts), (long long)f->ipi_n_posts,
                 gs_format_ns(f->wake_ipi_ns, b, sizeof b));
    else if (f->wake_ipi_ns >= 0)
        snprintf(buf, n,
                 " Waking a thread asleep on another CPU cost its waker %s from its signal to "
                 "its release (median of the recording's %lld GIL releases that woke a "
                 "sleeper): machine.wake_ipi %s, beyond machine.futex.",
                 gs_format_ns(f->ipi_median_ns, a, sizeof a), (long long)f->ipi_n,
                 gs_format_ns(f->wake_ipi_ns, b, sizeof b));
    else if (f->calibrated)
        snprintf(buf, n,
                 " What waking a thread on another CPU costs its waker (machine.wake_ipi) is "
                 "the engine's 0: the recording has %lld GIL releases that woke a sleeper, "
                 "fewer than %d to read it off.",
                 (long long)f->ipi_n, FIT_IPI_MIN);
    else
        *buf = 0;
    return buf;
}
