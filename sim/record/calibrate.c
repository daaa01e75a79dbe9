/* calibrate.c - the host's costs, measured at record time for the fitter.
 *
 * gilsim fit writes a machine block for the recorded host; these are the
 * figures tests/reality measures for its scenarios (reality.py, Machine),
 * taken the same way, in about 0.1 s before the program starts (so they do
 * not disturb it):
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
 *  - wake_cold and its spread: how late a 1 ms nanosleep returns (the timer
 *    slack plus waking an idle CPU), the median and twice the interquartile
 *    range, as a timed wait (a sleep, the GIL's) ends late.
 * Medians of a few repeats; the machine may be busy, and the figures say
 * what it was like when the program ran. */

#include "record_int.h"

#include <pthread.h>
#include <sched.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
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
    bool pinned = cpu >= 0 && pthread_getaffinity_np(pthread_self(), sizeof old, &old) == 0;
    int me = -1;
    if (pthread_create(&th, NULL, ponger, &p) == 0) {
        if (pinned)
            pin(cpu);
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
            pthread_setaffinity_np(pthread_self(), sizeof old, &old);
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
    return 0;
}
