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
 * fit's error (GS_ENOMEM), not "fewer than FIT_IPI_MIN". */
#include "fit_int.h"
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

/* When thread w's wait returned at or after t: its first woken, futile
 * wake-up or hold from t; -1 if none. */
static int64_t returned_at(const gsr_thread_t *w, int64_t t)
{
    for (size_t k = gsr_first_event_at(w, t); k < w->n_ev; k++) {
        uint8_t kd = w->ev[k].kind;
        if (kd == GSR_WOKEN || kd == GSR_FUTILE || kd == GSR_HOLD)
            return w->ev[k].t;
    }
    return -1;
}

/* The signal-to-release times of the releases that woke a sleeper, into
 * *out, malloc'd (*n of them; NULL when the recording has no signal). 0, or
 * -1 out of memory (a fit without the figure would say "fewer than 20",
 * which would not be true). */
static int wake_costs(const gsr_recording_t *r, int64_t **out, size_t *n)
{
    size_t cap = 0;
    *n = 0;
    *out = NULL;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++)
            cap += r->threads[i].ev[k].kind == GSR_SIGNAL;
    if (!cap)
        return 0;
    int64_t *v = malloc(cap * sizeof *v);
    if (!v)
        return -1;
    for (int i = 0; i < r->n_threads; i++) {
        const gsr_thread_t *th = &r->threads[i];
        for (size_t k = 0; k < th->n_ev; k++) {
            const gsr_event_t *s = &th->ev[k];
            if (s->kind != GSR_SIGNAL || s->arg < 0 || s->arg >= r->n_threads || s->arg == i)
                continue;
            size_t j = k + 1;
            while (j < th->n_ev && !gil_event(th->ev[j].kind))
                j++;
            if (j == th->n_ev || th->ev[j].kind != GSR_RELEASE)
                continue;
            int64_t cost = th->ev[j].t - s->t;
            if (cost <= r->cal_syscall_ns)
                continue; /* no futex call: nobody was waiting */
            int64_t back = returned_at(&r->threads[s->arg], s->t);
            if (back < 0 || 2 * (back - s->t) < r->cal_wake_hot_ns)
                continue; /* not asleep, or woken where it was */
            v[(*n)++] = cost;
        }
    }
    *out = v;
    return 0;
}

int fit_wake_ipi(const gsr_recording_t *r, fscenario_t *f)
{
    f->wake_ipi_ns = -1;
    f->ipi_n = 0;
    f->ipi_median_ns = 0;
    if (!r->has_calibration || r->cal_wake_hot_ns <= 0)
        return 0;
    size_t n;
    int64_t *v;
    if (wake_costs(r, &v, &n) != 0)
        return -1;
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
    if (f->wake_ipi_ns >= 0)
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
