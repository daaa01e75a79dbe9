/* calibrate.c - the host's costs, measured at record time for the fitter.
 *
 * gilsim fit writes a machine block for the recorded host; these are the
 * figures tests/reality measures for its scenarios (reality.py, Machine),
 * taken the same way, in about 0.15 s before the program starts (so they
 * do not disturb it; more on a busy machine):
 *  - syscall: one byte written to a pipe and read back by one thread; half
 *    of it is one system call (the model's futex cost);
 *  - wake_hot: half a pipe ping-pong round trip (the median of 400)
 *    between two threads, less
 *    the write+read: waking a thread blocked on another CPU. The two
 *    threads are pinned to two CPUs of the recorder's affinity: unpinned,
 *    a busy machine (or the kernel's wake-affine placement) puts both on
 *    one CPU, the round trip becomes two context switches, and the figure,
 *    under the old 1 us floor, was written as exactly 1 us (the fit's
 *    wakeup_latency then too). The CPUs the two threads ran on are counted
 *    (wake_hot_cpus); with one CPU allowed (taskset -c 0) the hot wake-up
 *    is the one-CPU figure and wake_hot_cpus is 1;
 *  - context_switch: the same with both threads pinned to one CPU;
 *  - wake_idle: a curve of the wake-up latency against how long the
 *    woken thread's CPU had been idle (the engine's machine.wakeup_idle).
 *    A thread pinned to the second CPU blocks in a pipe read; the recorder,
 *    pinned to the first and kept running (spinning, as a GIL holder that
 *    drops the GIL and goes on does), writes the byte DEPTH after the
 *    reader said it was about to read, and the latency is the write to the
 *    reader's return, less the write+read. Four depths, from a CPU idle for
 *    microseconds (a GIL waiter woken soon after it went to sleep) to one
 *    idle for 1 ms; the median of each, over the trips where the CPU's
 *    cpuidle counts (sysfs) say it did idle (it entered an idle state and
 *    idled at least half the depth): on a busy machine another program
 *    takes the CPU when the reader blocks, the byte then preempts it (or
 *    waits for its slice: 2 to 18 ms beside a CPU-bound program), and that
 *    is the fitted other load's to model, not an idle wake-up. A depth with
 *    too few idle trips is left out (on a machine with no idle CPU, the
 *    whole curve). The ping-pong above cannot say this: there both CPUs
 *    idle for a whole round trip;
 *  - wake_cold and its spread: how late a 1 ms nanosleep returns (the timer
 *    slack plus waking an idle CPU), the median and twice the interquartile
 *    range, as a timed wait (a sleep, the GIL's) ends late;
 *  - timer_arm: what arming a timer that becomes its CPU's first costs the
 *    arming thread (the model's machine.timer_arm): on the recorder's own
 *    CPU, kept running, a timerfd armed 20 us ahead (before the tick: the
 *    clock event device is reprogrammed) and one armed 50 ms ahead (behind
 *    the tick: it is not), interleaved, each disarmed at once, 50 of each;
 *    the first's median less the second's, as tests/reality/timerarm.c
 *    measures it for the generated scenarios (6.4-6.7 us on the 2-vCPU VM,
 *    where the device is a trapped MSR write). About 1.2 ms (the median of 9
 *    start-ups on the loaded VM; 1.1 to 5.2 ms);
 *  - eevdf_slice: the kernel's EEVDF base slice, read, not timed: from Linux
 *    6.12 sched_getattr(2) gives a SCHED_OTHER thread's slice in
 *    sched_runtime, and a thread that never asked for its own has the base
 *    slice it was forked with (debugfs's sched/base_slice_ns, which kernel
 *    lockdown refuses even to root); older kernels give 0 there, and the
 *    recording leaves it out. One system call.
 * Medians of a few repeats; the machine may be busy, and the figures say
 * what it was like when the program ran. */

#include "record_int.h"

#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static int cmp64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

static int64_t median(int64_t *v, int n)
{
    qsort(v, (size_t)n, sizeof *v, cmp64);
    return v[n / 2];
}

typedef struct pong {
    int in, out; /* read from in, write to out */
    int n, cpu;  /* cpu >= 0: pin to it */
    int ran_on;  /* out: the CPU it ran its last turn on, -1 unknown */
} pong_t;

static void pin(int cpu)
{
    if (cpu < 0)
        return;
    cpu_set_t set;
    CPU_ZERO(&set);
    CPU_SET(cpu, &set);
    pthread_setaffinity_np(pthread_self(), sizeof set, &set);
}

/* Pins the calling thread to cpu, keeping its affinity in *old for unpin;
 * false, and nothing changed, when cpu < 0 or the affinity is unreadable. */
static bool pin_keeping(int cpu, cpu_set_t *old)
{
    if (cpu < 0 || pthread_getaffinity_np(pthread_self(), sizeof *old, old) != 0)
        return false;
    pin(cpu);
    return true;
}

/* Gives the calling thread back the affinity pin_keeping kept. */
static void unpin(const cpu_set_t *old)
{
    pthread_setaffinity_np(pthread_self(), sizeof *old, old);
}

static void *ponger(void *arg)
{
    pong_t *p = arg;
    pin(p->cpu);
    char c;
    for (int i = 0; i < p->n; i++)
        if (read(p->in, &c, 1) != 1 || write(p->out, &c, 1) != 1)
            break;
    p->ran_on = sched_getcpu();
    return NULL;
}

/* The median round trip of n (at most MAX_TRIPS), in ns; -1 if it could
 * not run. The median, not the mean: on a busy machine a few round trips
 * wait milliseconds for a CPU that another process holds (the thread is
 * pinned, it cannot move), and the mean of 400 was then two to four times
 * the typical wake-up (measured under load on the 2-vCPU VM: median 45 us,
 * mean 120 to 170 us); the fit's other load adds such waits itself. The
 * caller runs
 * on cpu and the other thread on cpu2 (each >= 0: pinned to it, else not
 * pinned); *n_cpus (if not NULL) is how many CPUs the two ran their last
 * turns on. */
#define MAX_TRIPS 400

static int64_t pingpong(int n, int cpu, int cpu2, int *n_cpus)
{
    int64_t trip[MAX_TRIPS];
    n = n < MAX_TRIPS ? n : MAX_TRIPS;
    int a[2], b[2];
    if (pipe(a) != 0)
        return -1;
    if (pipe(b) != 0) {
        close(a[0]);
        close(a[1]);
        return -1;
    }
    pong_t p = {a[0], b[1], n, cpu2, -1};
    pthread_t th;
    int64_t rt = -1;
    cpu_set_t old;
    int me = -1;
    if (pthread_create(&th, NULL, ponger, &p) == 0) {
        bool pinned = pin_keeping(cpu, &old);
        char c = 'x';
        int i = 0;
        for (; i < n; i++) {
            int64_t t = now_ns();
            if (write(a[1], &c, 1) != 1 || read(b[0], &c, 1) != 1)
                break;
            trip[i] = now_ns() - t;
        }
        if (i == n)
            rt = median(trip, n);
        else
            close(a[1]), a[1] = -1; /* the ponger's read ends */
        me = sched_getcpu();
        pthread_join(th, NULL);
        if (n_cpus)
            *n_cpus = me < 0 || p.ran_on < 0 ? 0 : me == p.ran_on ? 1 : 2;
        if (pinned)
            unpin(&old);
    }
    for (int k = 0; k < 2; k++) {
        if (a[k] >= 0)
            close(a[k]);
        close(b[k]);
    }
    return rt;
}

static int64_t self_cost(int n)
{
    int p[2];
    if (pipe(p) != 0)
        return -1;
    char c = 'x';
    int64_t t = now_ns();
    for (int i = 0; i < n; i++)
        if (write(p[1], &c, 1) != 1 || read(p[0], &c, 1) != 1)
            break;
    int64_t d = (now_ns() - t) / n;
    close(p[0]);
    close(p[1]);
    return d;
}

/* ---- the wake-up against idle depth ------------------------------------ */

/* A CPU's idle states as cpuidle counts them (sysfs): how many times it
 * entered one and for how long in all, read with pread on files kept open
 * (a few us a read). n == 0: not readable here, every trip is kept. */
#define MAX_STATES 8
typedef struct idle_count {
    int n, fd[2 * MAX_STATES]; /* usage, time of each state */
} idle_count_t;

static void idle_open(idle_count_t *ic, int cpu)
{
    ic->n = 0;
    for (int k = 0; k < MAX_STATES; k++) {
        char p[96];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/cpuidle/state%d/usage", cpu, k);
        int u = open(p, O_RDONLY | O_CLOEXEC);
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/cpuidle/state%d/time", cpu, k);
        int t = u >= 0 ? open(p, O_RDONLY | O_CLOEXEC) : -1;
        if (t < 0) {
            if (u >= 0)
                close(u);
            break;
        }
        ic->fd[2 * k] = u;
        ic->fd[2 * k + 1] = t;
        ic->n++;
    }
}

static void idle_close(idle_count_t *ic)
{
    for (int k = 0; k < 2 * ic->n; k++)
        close(ic->fd[k]);
    ic->n = 0;
}

/* Entries into any idle state and the us spent in them, summed. */
static void idle_read(const idle_count_t *ic, int64_t *entries, int64_t *us)
{
    *entries = *us = 0;
    for (int k = 0; k < 2 * ic->n; k++) {
        char b[32];
        ssize_t n = pread(ic->fd[k], b, sizeof b - 1, 0);
        b[n > 0 ? n : 0] = 0;
        *(k % 2 ? us : entries) += strtoll(b, NULL, 10);
    }
}

/* The reader's side, owned by the reader thread once it runs (it frees it
 * and closes in and ic as it ends, at the end of file on in), so that the
 * recorder never waits for a reader another program keeps from its CPU. */
typedef struct idler {
    int in, cpu;
    idle_count_t ic;       /* its CPU's idle states */
    _Atomic int64_t ready; /* when it was about to read (0: not yet) */
    _Atomic int64_t woke;  /* when its read returned (0: not yet) */
    int64_t idle_n, idle_us; /* its CPU's idle entries and us from before ready to
                                after the read: written before woke, read after it */
    _Atomic int done;        /* set by the writer before it closes its end: r is the
                                reader's alone from then (ThreadSanitizer does not
                                see a pipe's end of file as an ordering) */
} idler_t;

static void *idler(void *arg)
{
    idler_t *p = arg;
    pin(p->cpu);
    char c;
    for (;;) { /* until the writer closes its end */
        int64_t n0, us0, n1, us1;
        idle_read(&p->ic, &n0, &us0);
        atomic_store(&p->ready, now_ns());
        if (read(p->in, &c, 1) != 1)
            break;
        int64_t woke = now_ns(); /* before the idle counts' reads */
        idle_read(&p->ic, &n1, &us1);
        p->idle_n = n1 - n0;
        p->idle_us = us1 - us0;
        atomic_store(&p->woke, woke);
    }
    while (!atomic_load(&p->done)) /* set before the close that ended the read */
        sched_yield();
    idle_close(&p->ic);
    close(p->in);
    free(p);
    return NULL;
}

/* Spins until *v is not 0 or 10 ms passed; its value, or 0. A reader kept
 * from its CPU that long (a CPU-bound program there) ends the measurement,
 * which then says nothing rather than costing the recording more. */
static int64_t await(_Atomic int64_t *v)
{
    int64_t x, t0 = now_ns();
    while (!(x = atomic_load(v)))
        if (now_ns() - t0 > 10000000)
            return 0;
    return x;
}

/* One depth: up to 3 n trips (none after t_end, none after 10 found no idle
 * CPU), each a wake-up of the reader after its CPU
 * idled depth ns (the caller spins meanwhile) that the idle counts confirm:
 * the CPU entered an idle state and idled at least half the depth. A trip
 * where another program took the CPU instead is a preemption, not an idle
 * wake-up, and the fitted other load makes those itself; on a busy machine
 * they are most trips at the deeper points (their median was 2.2 ms at
 * 1 ms of idling under a load average of 10). The median of the kept
 * trips, when at least n / 3 (and 3) were kept; else -1. -2: the reader
 * is gone. */
static int64_t wake_at_depth(idler_t *r, int wfd, int64_t depth, int n, int64_t self,
                             int64_t t_end)
{
    int64_t lat[96];
    int kept = 0;
    char b = 'x';
    for (int i = 0; i < 3 * n && kept < n && now_ns() < t_end && (kept || i < 10); i++) {
        int64_t ready = await(&r->ready), t;
        if (!ready)
            return -2;
        atomic_store(&r->ready, 0);
        atomic_store(&r->woke, 0);
        do
            t = now_ns();
        while (t - ready < depth);
        if (write(wfd, &b, 1) != 1)
            return -2;
        int64_t woke = await(&r->woke);
        if (!woke)
            return -2;
        if (r->ic.n == 0 || (r->idle_n > 0 && 2000 * r->idle_us >= depth))
            lat[kept++] = woke - t - self;
    }
    if (kept < 3 || 3 * kept < n)
        return -1;
    int64_t m = median(lat, kept);
    return m > 0 ? m : 0;
}

/* The wake-up latency of a reader pinned to cpu2 after its CPU idled
 * depth[k] (the caller pinned to cpu runs meanwhile), for each of the
 * GSR_WAKE_IDLE_N depths; self: a write+read, left out. The depths where
 * too few trips found the CPU idle are left out; 0, or -1 when it could
 * not run. O(sum n[k] * (depth + latency)): 12 ms at the least, 60 ms at
 * the most (other programs keep taking the CPU). */
static int wake_idle(int cpu, int cpu2, int64_t self, gsr_calib_t *c)
{
    static const int64_t depth[GSR_WAKE_IDLE_N] = {2000, 20000, 200000, 1000000};
    static const int n[GSR_WAKE_IDLE_N] = {31, 21, 15, 7};
    int p[2];
    idler_t *r = calloc(1, sizeof *r);
    if (!r || pipe(p) != 0) {
        free(r);
        return -1;
    }
    r->in = p[0];
    r->cpu = cpu2;
    idle_open(&r->ic, cpu2);
    atomic_store(&r->ready, 0);
    atomic_store(&r->woke, 0);
    atomic_store(&r->done, 0);
    pthread_t th;
    cpu_set_t old;
    if (pthread_getaffinity_np(pthread_self(), sizeof old, &old) != 0 ||
        pthread_create(&th, NULL, idler, r) != 0) {
        idle_close(&r->ic);
        free(r);
        close(p[0]);
        close(p[1]);
        return -1;
    }
    pthread_detach(th); /* r and p[0] are the reader's from here */
    pin(cpu);
    c->n_wake_idle = 0;
    int k = 0;
    int64_t t_end = now_ns() + 60000000; /* whatever the machine's load */
    for (; k < GSR_WAKE_IDLE_N; k++) {
        int64_t l = wake_at_depth(r, p[1], depth[k], n[k], self, t_end);
        if (l == -2)
            break;
        if (l >= 0) {
            c->wake_idle_depth_ns[c->n_wake_idle] = depth[k];
            c->wake_idle_ns[c->n_wake_idle++] = l;
        }
    }
    atomic_store(&r->done, 1);
    close(p[1]); /* the reader reads the end of file and ends; r is not touched again */
    unpin(&old);
    return k == GSR_WAKE_IDLE_N ? 0 : -1;
}

/* ---- arming a timer ------------------------------------------------------ */

/* One arming of fd len_ns ahead and its disarming at once; the arming's ns
 * (a clock read's pair included: it cancels in the difference), or -1. */
static int64_t arm_once(int fd, int64_t len_ns)
{
    struct itimerspec on = {{0, 0}, {(time_t)(len_ns / 1000000000), (long)(len_ns % 1000000000)}};
    struct itimerspec off = {{0, 0}, {0, 0}};
    int64_t a = now_ns();
    int rc = timerfd_settime(fd, 0, &on, NULL);
    int64_t b = now_ns();
    if (rc != 0 || timerfd_settime(fd, 0, &off, NULL) != 0)
        return -1;
    return b - a;
}

/* machine.timer_arm, in ns, measured pinned to cpu (>= 0) or where the
 * recorder runs: the median arming of a 20 us timer less a 50 ms one's, at
 * least 0; -1 when no timerfd could be made. Each pair starts after a spin
 * of 0 to 20 us so the armings land anywhere in the tick's period, not in
 * step with it. */
static int64_t timer_arm(int cpu)
{
    enum { N = 50 };
    int64_t near[N], far[N];
    int fd = timerfd_create(CLOCK_MONOTONIC, TFD_CLOEXEC);
    if (fd < 0)
        return -1;
    cpu_set_t old;
    bool pinned = pin_keeping(cpu, &old);
    unsigned seed = 12345;
    int k = 0;
    for (; k < N; k++) {
        int64_t t0 = now_ns(), spin = (int64_t)(rand_r(&seed) % 20000);
        while (now_ns() - t0 < spin)
            ;
        bool near_first = rand_r(&seed) % 2; /* neither always after the other */
        int64_t x = arm_once(fd, near_first ? 20000 : 50000000);
        int64_t y = arm_once(fd, near_first ? 50000000 : 20000);
        if (x < 0 || y < 0)
            break;
        near[k] = near_first ? x : y;
        far[k] = near_first ? y : x;
    }
    if (pinned)
        unpin(&old);
    close(fd);
    if (k < N)
        return -1;
    int64_t d = median(near, N) - median(far, N);
    return d > 0 ? d : 0;
}

/* The calling thread's EEVDF slice in ns (see the top), or -1 when the kernel
 * does not say (before 6.12, another policy, no sched_getattr). The struct is
 * the kernel's sched_attr (include/uapi/linux/sched/types.h), up to its
 * sched_runtime, as glibc before 2.41 has no wrapper. */
static int64_t eevdf_slice(void)
{
#ifdef SYS_sched_getattr
    struct {
        uint32_t size, policy;
        uint64_t flags;
        int32_t nice;
        uint32_t priority;
        uint64_t runtime, deadline, period;
        uint32_t util_min, util_max;
    } a;
    memset(&a, 0, sizeof a);
    if (syscall(SYS_sched_getattr, 0, &a, (unsigned)sizeof a, 0u) != 0)
        return -1;
    /* SCHED_OTHER (0) or SCHED_BATCH (3); the kernel clamps a slice to
       0.1 .. 100 ms */
    if ((a.policy != 0 && a.policy != 3) || a.runtime < 100000 || a.runtime > 100000000)
        return -1;
    return (int64_t)a.runtime;
#else
    return -1;
#endif
}

/* The first two CPUs the recorder may run on (cpu[k] = -1 when absent). */
static void allowed_cpus(int cpu[2])
{
    cpu[0] = cpu[1] = -1;
    cpu_set_t set;
    if (sched_getaffinity(0, sizeof set, &set) != 0)
        return;
    for (int c = 0, k = 0; c < CPU_SETSIZE && k < 2; c++)
        if (CPU_ISSET(c, &set))
            cpu[k++] = c;
}

int gsr_calibrate(gsr_calib_t *c)
{
    memset(c, 0, sizeof *c);
    int64_t v[40];
    for (int k = 0; k < 3; k++)
        v[k] = self_cost(5000);
    int64_t self = median(v, 3);
    int cpu[2], ran[3] = {0, 0, 0};
    allowed_cpus(cpu);
    for (int k = 0; k < 3; k++)
        v[k] = cpu[0] >= 0 ? pingpong(400, cpu[0], cpu[0], NULL) : -1;
    int64_t rt1 = median(v, 3);
    int64_t rt = rt1;
    if (cpu[1] >= 0) { /* across two CPUs */
        for (int k = 0; k < 3; k++)
            v[k] = pingpong(400, cpu[0], cpu[1], &ran[k]);
        rt = median(v, 3);
    } else if (cpu[0] < 0) { /* affinity unknown: unpinned */
        for (int k = 0; k < 3; k++)
            v[k] = pingpong(400, -1, -1, &ran[k]);
        rt = median(v, 3);
    } else {
        ran[0] = 1;
    }
    if (cpu[1] >= 0 && wake_idle(cpu[0], cpu[1], self, c) != 0)
        c->n_wake_idle = 0; /* left out of the recording */
    const int n_sleep = 24;
    for (int k = 0; k < n_sleep; k++) {
        struct timespec d = {0, 1000000};
        int64_t t = now_ns();
        nanosleep(&d, NULL);
        v[k] = now_ns() - t - 1000000;
    }
    qsort(v, n_sleep, sizeof *v, cmp64);
    if (self < 0 || rt < 0)
        return -1;
    c->syscall_ns = self / 2 > 0 ? self / 2 : 1;
    c->context_switch_ns = rt1 > 0 && rt1 / 2 - self > 500 ? rt1 / 2 - self : 500;
    /* one CPU: a wake-up is a switch on it; no floor of its own that could
       be mistaken for a measurement */
    bool one_cpu = cpu[0] >= 0 && cpu[1] < 0;
    c->wake_hot_ns = one_cpu || rt / 2 - self <= 0 ? c->context_switch_ns : rt / 2 - self;
    c->wake_hot_cpus = ran[0] > ran[1] ? ran[0] : ran[1];
    if (ran[2] > c->wake_hot_cpus)
        c->wake_hot_cpus = ran[2];
    c->wake_cold_ns = v[n_sleep / 2] > 1000 ? v[n_sleep / 2] : 1000;
    c->timer_jitter_ns = 2 * (v[3 * n_sleep / 4] - v[n_sleep / 4]);
    c->eevdf_slice_ns = eevdf_slice();
    c->timer_arm_ns = timer_arm(cpu[0]);
    if (c->timer_arm_ns >= 1000000)
        c->timer_arm_ns = -1; /* not an arming: the recorder lost its CPU throughout */
    return 0;
}
