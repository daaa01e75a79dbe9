/* timerarm.c - what arming a timer costs its thread, by the timer's length.
 *
 * Linux (kernel/time/hrtimer.c): hrtimer_start_range_ns queues a timer on
 * its CPU's timer queue, and only when it becomes that CPU's first timer
 * (its hard expiry before cpu_base->expires_next) does it reprogram the
 * clock event device (hrtimer_reprogram -> tick_program_event). With high
 * resolution timers the scheduler tick is itself an hrtimer (tick_sched's
 * sched_timer), so on a busy CPU a timer that ends before the next tick
 * (HZ=250: within 4 ms) reprograms the device, and one that ends after it
 * does not. Cancelling the first timer (a wait woken before its timeout)
 * reprograms it back. On a VM the device is the local APIC's TSC deadline
 * (clockevent lapic-deadline): a write to an MSR the hypervisor traps.
 *
 * This probe pins itself to one CPU and times, with CLOCK_MONOTONIC, each
 * arm and each disarm of a timerfd of length L (an hrtimer on this CPU,
 * kernel/time/timerfd.c), L drawn at random from a list so that every
 * length sees the same noise. The thread keeps running, so its CPU's tick
 * keeps running too. Second, "wait": a thread pinned to CPU A makes
 * pthread_cond_timedwait calls of timeout L that a thread on CPU B signals
 * about 100 us later, with a third thread spinning on CPU A so that A never
 * idles (the GIL's timed wait beside a CPU-bound thread); it reports the
 * waiter's CPU time per wait (CLOCK_THREAD_CPUTIME_ID), arming and
 * cancelling included.
 *
 * Output: one JSON object on stdout,
 *   {"arm": {"L_us": [p25, median, p75, n, n_over_2us], ...}, "disarm": {...},
 *    "wait": {...}, "clock_pair_ns": c}
 * (ns; arm and disarm less what a pair of clock reads costs).
 * Usage: timerarm [reps_per_length] [cpuA] [cpuB]. calibrate (reality.py)
 * and explain.py's timer rows use it; its figures are in docs/model.md. */
#define _GNU_SOURCE
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/timerfd.h>
#include <time.h>
#include <unistd.h>

static const long lens_us[] = {20, 200, 500, 1000, 1500, 2000, 3000, 3800, 5000, 8000, 50000};
#define NL ((int)(sizeof lens_us / sizeof lens_us[0]))

static long now_ns(clockid_t c)
{
    struct timespec t;
    clock_gettime(c, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static void pin(int cpu)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(cpu, &s);
    if (pthread_setaffinity_np(pthread_self(), sizeof s, &s) != 0) {
        fprintf(stderr, "timerarm: cannot pin to CPU %d\n", cpu);
        exit(2);
    }
}

static int cmp(const void *a, const void *b)
{
    long x = *(const long *)a, y = *(const long *)b;
    return (x > y) - (x < y);
}

/* [p25, median, p75, n, how many took over 2 us: the device reprogrammed] */
static void quart(const char *name, long **v, int n, int last)
{
    printf("\"%s\": {", name);
    for (int l = 0; l < NL; l++) {
        qsort(v[l], (size_t)n, sizeof(long), cmp);
        int over = 0;
        for (int i = 0; i < n; i++)
            over += v[l][i] > 2000;
        printf("%s\"%ld\": [%ld, %ld, %ld, %d, %d]", l ? ", " : "", lens_us[l], v[l][n / 4],
               v[l][n / 2], v[l][3 * n / 4], n, over);
    }
    printf("}%s\n", last ? "" : ",");
}

static long **table(int n)
{
    long **v = malloc(NL * sizeof *v);
    for (int l = 0; l < NL; l++)
        v[l] = calloc((size_t)n, sizeof(long));
    return v;
}

/* an order in which each length comes n times, shuffled */
static int *order(int n, unsigned *seed)
{
    int *o = malloc((size_t)(n * NL) * sizeof *o);
    for (int i = 0; i < n * NL; i++)
        o[i] = i % NL;
    for (int i = n * NL - 1; i > 0; i--) {
        int j = (int)(rand_r(seed) % (unsigned)(i + 1)), x = o[i];
        o[i] = o[j];
        o[j] = x;
    }
    return o;
}

static pthread_mutex_t mu = PTHREAD_MUTEX_INITIALIZER;
static pthread_cond_t cv = PTHREAD_COND_INITIALIZER;
static atomic_int phase; /* 1: the waiter is about to wait; 2: signalled */
static atomic_int stop;
static int cpu_a, cpu_b;

static void *spinner(void *arg)
{
    (void)arg;
    pin(cpu_a);
    while (!atomic_load(&stop))
        ;
    return NULL;
}

static void *signaller(void *arg)
{
    (void)arg;
    pin(cpu_b);
    while (!atomic_load(&stop)) {
        if (atomic_load(&phase) != 1)
            continue;
        long t = now_ns(CLOCK_MONOTONIC);
        while (now_ns(CLOCK_MONOTONIC) - t < 100000)
            ;
        pthread_mutex_lock(&mu);
        atomic_store(&phase, 2);
        pthread_cond_signal(&cv);
        pthread_mutex_unlock(&mu);
    }
    return NULL;
}

int main(int argc, char **argv)
{
    int n = argc > 1 ? atoi(argv[1]) : 2000;
    cpu_a = argc > 2 ? atoi(argv[2]) : 0;
    cpu_b = argc > 3 ? atoi(argv[3]) : 1;
    if (n < 4 || n > 1000000) {
        fprintf(stderr, "timerarm: reps_per_length must be 4 to 1000000, got '%s'\n", argv[1]);
        return 2;
    }
    unsigned seed = 12345;
    pin(cpu_a);
    long pair = 1000000;
    for (int i = 0; i < 2000; i++) {
        long a = now_ns(CLOCK_MONOTONIC), b = now_ns(CLOCK_MONOTONIC);
        if (b - a < pair)
            pair = b - a;
    }

    int fd = timerfd_create(CLOCK_MONOTONIC, 0);
    if (fd < 0) {
        perror("timerarm: timerfd_create");
        return 2;
    }
    long **arm = table(n), **dis = table(n);
    int k[NL] = {0};
    int *o = order(n, &seed);
    struct itimerspec off;
    memset(&off, 0, sizeof off);
    for (int i = 0; i < n * NL; i++) {
        int l = o[i];
        struct itimerspec on;
        memset(&on, 0, sizeof on);
        on.it_value.tv_sec = lens_us[l] / 1000000;
        on.it_value.tv_nsec = lens_us[l] % 1000000 * 1000;
        /* land anywhere in the tick period, not in step with it */
        long t0 = now_ns(CLOCK_MONOTONIC);
        while (now_ns(CLOCK_MONOTONIC) - t0 < (long)(rand_r(&seed) % 20000))
            ;
        long a = now_ns(CLOCK_MONOTONIC);
        timerfd_settime(fd, 0, &on, NULL);
        long b = now_ns(CLOCK_MONOTONIC);
        timerfd_settime(fd, 0, &off, NULL);
        long c = now_ns(CLOCK_MONOTONIC);
        arm[l][k[l]] = b - a - pair;
        dis[l][k[l]++] = c - b - pair;
    }
    free(o);

    /* the timed wait beside a spinner on the same CPU */
    int nw = n / 4 > 4 ? n / 4 : 4;
    long **wt = table(nw);
    int kw[NL] = {0};
    pthread_t sp, sg;
    pthread_create(&sp, NULL, spinner, NULL);
    pthread_create(&sg, NULL, signaller, NULL);
    o = order(nw, &seed);
    for (int i = 0; i < nw * NL; i++) {
        int l = o[i];
        pthread_mutex_lock(&mu);
        struct timespec dl;
        clock_gettime(CLOCK_REALTIME, &dl); /* glibc's default condvar clock */
        long ns = dl.tv_nsec + lens_us[l] * 1000;
        dl.tv_sec += ns / 1000000000L;
        dl.tv_nsec = ns % 1000000000L;
        long c0 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        atomic_store(&phase, 1);
        while (atomic_load(&phase) != 2)
            if (pthread_cond_timedwait(&cv, &mu, &dl) != 0)
                break; /* timed out: a 20 us wait usually does */
        long c1 = now_ns(CLOCK_THREAD_CPUTIME_ID);
        atomic_store(&phase, 0);
        pthread_mutex_unlock(&mu);
        wt[l][kw[l]++] = c1 - c0;
        /* let the signaller see phase 0 before the next round */
        long t = now_ns(CLOCK_MONOTONIC);
        while (now_ns(CLOCK_MONOTONIC) - t < 20000)
            ;
    }
    atomic_store(&stop, 1);
    pthread_join(sp, NULL);
    pthread_join(sg, NULL);

    printf("{\"clock_pair_ns\": %ld,\n", pair);
    quart("arm", arm, n, 0);
    quart("disarm", dis, n, 0);
    quart("wait", wt, nw, 1);
    printf("}\n");
    return 0;
}
