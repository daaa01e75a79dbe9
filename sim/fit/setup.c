/* setup.c - what a fitted scenario takes from the recording before any
 * thread is fitted: the machine's costs and the threads' names. */
#include "fit_int.h"
#include "recfile_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* The machine's costs: from the recording's calibration, else the defaults
 * (docs/scenarios.md). tests/reality/scenarios.py sets the same keys from
 * the same measurements. With wake_curve (gilsim fit --wake-curve), a
 * recording's wake-up curve (calibration wake_idle_ns) gives
 * machine.wakeup_idle too; wakeup_latency stays the ping-pong's figure (the
 * engine uses it where no core's depth applies). Off by default: measured
 * on the same recordings it made the replays no closer (docs/validation.md,
 * "Replays", point 11). */
void fit_machine_costs(const gsr_recording_t *r, fscenario_t *f, bool wake_curve)
{
    f->wakeup_ns = 20000;
    f->context_switch_ns = 2000;
    f->timer_arm_ns = -1;
    f->timer_slack_ns = FIT_TIMER_SLACK_NS; /* as the engine's default */
    if (!r->has_calibration)
        return;
    f->calibrated = true;
    f->wakeup_ns = r->cal_wake_hot_ns < r->cal_wake_cold_ns ? r->cal_wake_hot_ns
                                                            : r->cal_wake_cold_ns;
    f->context_switch_ns = r->cal_context_switch_ns;
    f->timer_jitter_ns = r->cal_timer_jitter_ns;
    /* arming a timer that is its core's first (a GIL wait's, a short
       sleep's): measured by the recorder as tests/reality measures it */
    f->timer_arm_ns = r->cal_timer_arm_ns;
    /* the wake-up against the woken thread's CPU's idle depth, as measured
       (machine.wakeup_idle): a GIL waiter woken microseconds after its CPU
       went idle pays its first point, not the ping-pong's wake_hot */
    f->n_wake_idle = wake_curve ? r->n_cal_wake_idle : 0;
    for (int k = 0; k < f->n_wake_idle; k++) {
        f->wake_idle_depth_ns[k] = r->cal_wake_idle_depth_ns[k];
        f->wake_idle_ns[k] = r->cal_wake_idle_ns[k];
    }
    f->eevdf_slice_ns = r->cal_eevdf_slice_ns;
    /* timer_wake "local": a timer wakes its sleeper on the CPU it slept on,
       whose idle exit is part of the timer's own lateness (hrtimer.c), so
       the 1 ms sleep's overshoot is the slack, half the jitter and the rest,
       timer_late, with no wake-up to take out (tests/reality/reality.py,
       timer_late_curve). The slack is the thread's timerslack_ns, which
       the recording does not carry: Linux's default for a normal thread,
       50 us, or less where the measured overshoot is less (a thread whose
       slack was lowered), so that the model's sleep is never later than
       the recorded one. */
    /* The model draws a timer's jitter evenly from 0 to timer_jitter, so
       its 1 ms sleep ends slack + timer_late + half the jitter late at the
       median. The recorder's jitter is twice the spread between the
       quartiles of its 24 sleeps. Where half of it exceeds their median
       overshoot, the spread has a long late tail (a loaded host: 413 us
       against an 81 us median in one of 16 recordings), which an even
       draw with that median cannot hold: written as read, every sleep and
       GIL timed wait of the replay ended late by half the jitter, past
       the recorded median. The fit keeps the median and writes the widest
       jitter under it, twice the overshoot, with no slack. */
    f->timer_jitter_read_ns = f->timer_jitter_ns;
    if (f->timer_jitter_ns / 2 > r->cal_wake_cold_ns)
        f->timer_jitter_ns = 2 * r->cal_wake_cold_ns;
    int64_t room = r->cal_wake_cold_ns - f->timer_jitter_ns / 2;
    room = room > 0 ? room : 0;
    f->timer_slack_ns = room < FIT_TIMER_SLACK_NS ? room : FIT_TIMER_SLACK_NS;
    f->timer_late_ns = room - f->timer_slack_ns;
}

/* The wake-up latency the model gives a thread whose core idled depth_ns:
 * the scenario's wakeup_idle curve there (linear between its points, flat
 * beyond, as the engine reads it), else wakeup_latency. */
int64_t fit_wake_at(const fscenario_t *f, int64_t depth_ns)
{
    const int64_t *x = f->wake_idle_depth_ns, *y = f->wake_idle_ns;
    int n = f->n_wake_idle;
    if (n <= 0)
        return f->wakeup_ns;
    if (depth_ns <= x[0])
        return y[0];
    for (int k = 1; k < n; k++)
        if (depth_ns <= x[k])
            return y[k - 1] + (y[k] - y[k - 1]) * (depth_ns - x[k - 1]) / (x[k] - x[k - 1]);
    return y[n - 1];
}

/* An I/O call that left the GIL for less than the wake-up latency did not
 * sleep in it: a sleeper's wake-up alone takes that long (os.write to a file
 * or /dev/null, a read from the page cache). As an io op the model would add
 * that wake-up after it (the op's own time less it, 0 here, plus the
 * wake-up), so the replay's call lasted a wake-up, not its recorded time,
 * and another thread woken meanwhile took the GIL the caller would have
 * taken back: pipeline.py's writer, after each os.write of 0.6 to 4.8 us
 * (tests/reality/replay_notes.md, point 22). As a C call releasing the GIL
 * it keeps its recorded time and its core, as a socket send does. */
int fit_io_kind(const fscenario_t *f, struct fthread_stats *st, int64_t off_ns)
{
    if (off_ns >= fit_wake_at(f, off_ns))
        return FOP_IO;
    st->n_io_c++;
    return FOP_CCALL;
}

/* A recording made under `taskset -c 0` ran on a machine of cores_online
 * CPUs whose other programs were not confined: the replay has them all,
 * the program on the first `cores` (which ones does not matter to the
 * model), and the other load free (load.c). */
int fit_machine_cores(const gsr_recording_t *r, const fscenario_t *f, int *confined_to)
{
    int cores = f->cores; /* the recording's, as gs_fit_recording bounds them */
    *confined_to = 0;
    if (r->cores_online > cores && r->cores_online <= 1024) {
        *confined_to = cores;
        return r->cores_online;
    }
    return cores;
}

/* A thread name the scenario accepts: at most 64 bytes (cut at a UTF-8
 * boundary), no control characters, unique (else " #i"). */
void fit_name_thread(fscenario_t *f, int i, const char *raw)
{
    char *d = f->th[i].name;
    size_t n = 0;
    for (const unsigned char *s = (const unsigned char *)raw; *s && n < 60; s++)
        d[n++] = *s < 0x20 || *s == 0x7f ? '?' : (char)*s;
    while (n > 0 && ((unsigned char)d[n - 1] & 0xC0) == 0x80) /* a cut sequence */
        n--;
    if (n > 0 && ((unsigned char)d[n - 1] & 0xC0) == 0xC0)
        n--;
    d[n] = 0;
    if (!n)
        snprintf(d, 72, "thread-%d", i);
    for (int j = 0; j < i; j++)
        if (strcmp(f->th[j].name, d) == 0) {
            char tmp[72];
            snprintf(tmp, sizeof tmp, "%.50s #%d", d, i);
            memcpy(d, tmp, sizeof tmp);
            break;
        }
}


/* Which C calls keeping the GIL to infer, from the kernel's account of the
 * thread. A holder that leaves a drop request unanswered for 1 ms is not in
 * the eval loop: it runs C code keeping the GIL, or it has no core (another
 * process took it). The recording has the thread's total time runnable
 * without a core (os_run_delay_ns). When that is under half the unanswered
 * time (sum_ns), most of it was spent on a core: C code, every stretch of
 * 1 ms or more is inferred (as without that total). Otherwise preemption
 * could explain them, and only stretches of several scheduler ticks
 * (FIT_PREEMPT_NS: a runnable thread is rarely kept off its core that long)
 * are taken for C. Returns the shortest stretch to infer. */
int64_t fit_inferred_c_floor(int64_t run_delay_ns, int64_t sum_ns)
{
    if (run_delay_ns < 0 || run_delay_ns < sum_ns / 2)
        return FIT_LATE_NS;
    return FIT_PREEMPT_NS;
}

int fit_cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

int fit_collect_requests(const gsr_recording_t *r, int64_t **req, size_t *n_req)
{
    size_t n = 0;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++)
            n += r->threads[i].ev[k].kind == GSR_DROP_REQUEST;
    *n_req = 0;
    if (!(*req = malloc((n + 1) * sizeof **req)))
        return -1;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t k = 0; k < r->threads[i].n_ev; k++)
            if (r->threads[i].ev[k].kind == GSR_DROP_REQUEST)
                (*req)[(*n_req)++] = r->threads[i].ev[k].t;
    if (*n_req)
        qsort(*req, *n_req, sizeof **req, fit_cmp_i64);
    return 0;
}

int64_t fit_late_request(const int64_t *req, size_t n, int64_t h, int64_t r)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first request after h */
        size_t mid = (lo + hi) / 2;
        if (req[mid] <= h)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < n && req[lo] < r && r - req[lo] >= FIT_LATE_NS ? req[lo] : -1;
}
