/* migcost.c - when an idle CPU pulls a thread queued on a busy CPU, by the
 * time since that thread last ran: the kernel's migration cost, seen from
 * outside.
 *
 * Linux (kernel/sched/fair.c): an idle CPU balances when a busy CPU's tick
 * kicks it (nohz_balancer_kick: the busy CPU runs two or more tasks), and
 * a CPU about to go idle balances at once (sched_balance_newidle). Either
 * pulls a queued task only if can_migrate_task allows it, and task_hot
 * refuses a task whose last run ended less than sysctl_sched_migration_cost
 * ago (0.5 ms by default; rq_clock_task of the source queue less the task's
 * se.exec_start), unless the domain's periodic balancing failed more than
 * cache_nice_tries times in a row. Since 6.18.5 the newidle balance itself
 * runs only with a chance that follows its recent success (sched_feat
 * NI_RANDOM), so that path does not show the threshold cleanly; the tick's
 * does.
 *
 * "tick" mode (the measurement). The thread must wait on a busy CPU's
 * queue without a placement choice (a woken thread is put on an idle CPU
 * by select_idle_sibling), and its last run must end at a chosen time
 * before a balance: S spins pinned to CPU A; T (the main thread) runs on A
 * beside it; CPU B is left idle. First T finds the phase of A's tick (the
 * short interruptions of a thread spinning alone there, folded on the tick
 * period: the ticks of all CPUs fall on one grid). Then for each trial T,
 * having run at least 1.5 ms (so that S is eligible and a yield hands it
 * the CPU), draws u, waits until u before the next tick, widens its own
 * affinity to {A, B} (a running task is not moved by that) and calls
 * sched_yield: S runs, T waits on A's queue, last run ended u before the
 * tick. At the tick A kicks B, whose balance pulls T if T is no longer
 * cache-hot. T, when it next runs, notes where (sched_getcpu) and when,
 * and pins itself back to A.
 * Whether B really idled until the tick and woke at it (another program
 * may have run there) S tells: it reads B's cpuidle counters (sysfs: an
 * idle period is counted when it ends) 20 us before the tick and 300 us
 * after it, T read them before the yield.
 * Output per trial: [u_ns, resumed_ns, where, pre, post, over], u and
 * resumed from the yield, where 1: on B, 2: on A; pre and post B's idle
 * entries from T's read to S's two reads, over how long the idle periods
 * that ended by S's second read lasted beyond T's read to the tick (ns):
 * B idled through and woke at the tick when pre is 0, post 1 or more and
 * over about 0 or more; -1 where not read (T ran on A at the tick and S
 * could not). Trials where the yield did not switch (S not eligible) are
 * counted, not kept.
 *
 * "newidle" mode (machine.newidle_ratio: reality.py calibrate_newidle). S
 * and T spin on A, C on B; when the
 * tick preempts T (its stamps stop while S's go on), C waits until d has
 * passed since T's last stamp, widens T's affinity and sleeps 0.4 ms, so B
 * goes newly idle with T cache-hot or cold. Output per trial: [d_ns,
 * where, delay_ns, entries] (where 1: on B, 2: on A, 0: T did not run
 * within the sleep, delay -1; entries: B's idle entries during the sleep,
 * 0 when another program ran there instead, -1 unknown). On this VM (Linux
 * 6.18) B pulled T within 0.1 ms in 2 of 293 cold trials whose B went
 * idle: the newidle path does not show the threshold, the tick's does;
 * the share pulled of the cold trials is NI_RANDOM's chance, (ratio + 2) /
 * 1024, which the calibration turns into newidle_ratio.
 *
 * Output: one JSON object on stdout.
 * Usage: migcost tick trials cpuA cpuB u_min_us u_max_us tick_us budget_ms [seed]
 *        migcost newidle trials cpuA cpuB d_min_us d_max_us budget_ms [seed [sleep_us]]
 * (sleep_us: how long C sleeps, 400 by default. Linux also skips the newidle
 * balance while B's average idle period, avg_idle, is below the domain's
 * worst recent balance cost, max_newidle_lb_cost, which a vCPU preempted by
 * its host mid-balance can raise to milliseconds and which decays ~1% a
 * second: that gate opens with longer sleeps, NI_RANDOM's die does not care,
 * so the pull share against sleep_us tells the two apart.)
 * (budget_ms: stop after this long with the trials made so far)
 * calibrate (reality.py) uses both modes through programs.py
 * (migration_pulls, migration_newidle); docs/model.md gives the figures of
 * both. */
#define _GNU_SOURCE
#include <errno.h>
#include <fcntl.h>
#include <math.h>
#include <pthread.h>
#include <sched.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define GAP_NS 20000L   /* stamps this far apart: the thread was off its CPU */
#define IRQ_NS 1500L    /* stamps this far apart: an interruption (the tick) */
#define RAN_NS 1500000L /* T runs this long before it yields */

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

static int set_cpus(pid_t tid, int a, int b)
{
    cpu_set_t s;
    CPU_ZERO(&s);
    CPU_SET(a, &s);
    if (b >= 0)
        CPU_SET(b, &s);
    return sched_setaffinity(tid, sizeof s, &s);
}

static void pin_or_die(int cpu)
{
    if (set_cpus(0, cpu, -1) != 0) {
        fprintf(stderr, "migcost: cannot pin to CPU %d: %s\n", cpu, strerror(errno));
        exit(2);
    }
}

static int cpu_a, cpu_b;
static long budget_ns; /* stop with fewer trials after this long */
static atomic_int stop;
static atomic_long s_stamp, t_stamp;
static atomic_int t_tid;
static atomic_int armed;          /* a trial is on: note the first gap */
/* tick mode: the tick T waits for, and B's idle counters S reads 20 us
 * before it and 300 us after it (entries, us) */
static atomic_long tick_at;
static atomic_long pre_entries, post_entries, post_idle;
static atomic_long first_at;      /* newidle mode: T's first run after a gap while armed */
static atomic_int first_cpu;

static unsigned long long rng = 88172645463325252ULL;

static double uniform(void)
{
    rng ^= rng << 13;
    rng ^= rng >> 7;
    rng ^= rng << 17;
    return (double)(rng >> 11) / 9007199254740992.0;
}

/* CPU b's idle time (us) and idle entries so far, summed over its cpuidle
 * states; -1 where they cannot be read. An idle period is counted when it
 * ends. */
static int idle_fd[2][8];
static int n_states = -1;

static void idle_open(int cpu)
{
    n_states = 0;
    for (int k = 0; k < 8; k++) {
        char p[128];
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/cpuidle/state%d/time", cpu, k);
        int ft = open(p, O_RDONLY);
        snprintf(p, sizeof p, "/sys/devices/system/cpu/cpu%d/cpuidle/state%d/usage", cpu, k);
        int fu = open(p, O_RDONLY);
        if (ft < 0 || fu < 0)
            break;
        idle_fd[0][k] = ft;
        idle_fd[1][k] = fu;
        n_states++;
    }
}

static long idle_read(int which)
{
    if (n_states <= 0)
        return -1;
    long sum = 0;
    for (int k = 0; k < n_states; k++) {
        char b[32];
        ssize_t r = pread(idle_fd[which][k], b, sizeof b - 1, 0);
        if (r <= 0)
            return -1;
        b[r] = 0;
        sum += atol(b);
    }
    return sum;
}

static void *spin_s(void *arg)
{
    (void)arg;
    pin_or_die(cpu_a);
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        long t = now_ns();
        atomic_store_explicit(&s_stamp, t, memory_order_relaxed);
        long at = atomic_load_explicit(&tick_at, memory_order_relaxed);
        if (!at)
            continue;
        if (t >= at - 20000 && atomic_load(&pre_entries) < 0)
            atomic_store(&pre_entries, idle_read(1));
        if (t >= at + 300000 && atomic_load(&post_entries) < 0) {
            atomic_store(&post_idle, idle_read(0));
            atomic_store(&post_entries, idle_read(1));
        }
    }
    return NULL;
}

/* The phase of the tick on this CPU, ns in [0, tick): where a thread
 * spinning alone is interrupted most often, folded on the tick period;
 * *seen: the share of ticks seen. */
static long tick_phase(long tick, double *seen)
{
    enum { NB = 200 };
    int bins[NB] = {0};
    long *at = malloc(20000 * sizeof *at);
    int n = 0;
    long start = now_ns(), last = start;
    while (last - start < 10 * tick && n < 20000) {
        long t = now_ns();
        if (t - last > IRQ_NS) {
            at[n++] = last % tick;
            bins[(last % tick) * NB / tick]++;
        }
        last = t;
    }
    int best = 0;
    for (int i = 0; i < NB; i++) {
        int s = bins[i] + bins[(i + 1) % NB], b = bins[best] + bins[(best + 1) % NB];
        if (s > b)
            best = i;
    }
    /* the circular mean of the interruptions within the two best bins */
    double centre = (best + 1.0) * tick / NB, sx = 0, sy = 0;
    int k = 0;
    for (int i = 0; i < n; i++) {
        double off = remainder((double)at[i] - centre, (double)tick);
        if (fabs(off) <= (double)tick / NB) {
            sx += cos(2 * M_PI * at[i] / tick);
            sy += sin(2 * M_PI * at[i] / tick);
            k++;
        }
    }
    free(at);
    *seen = k / 10.0;
    double ph = atan2(sy, sx) / (2 * M_PI) * tick;
    return ph < 0 ? (long)(ph + tick) : (long)ph;
}

static int run_tick(int n, double umin, double umax, long tick)
{
    long deadline = now_ns() + budget_ns; /* the phase's 10 ticks included */
    idle_open(cpu_b);
    pin_or_die(cpu_a);
    double seen;
    long phase = tick_phase(tick, &seen);
    pthread_t s;
    pthread_create(&s, NULL, spin_s, NULL);
    long (*out)[6] = calloc((size_t)n, sizeof *out);
    int kept = 0, no_switch = 0, lost = 0;
    long last = now_ns(), run_since = last;
    while (kept < n && last < deadline) {
        long t = now_ns();
        if (t - last > GAP_NS)
            run_since = t;
        last = t;
        if (t - run_since < RAN_NS || sched_getcpu() != cpu_a)
            continue;
        double u = umin * exp(uniform() * log(umax / umin));
        long next = t - ((t - phase) % tick) + tick;
        while (next - (long)u < t + 20000)
            next += tick;
        long ty = next - (long)u;
        long idle0 = idle_read(0), entries0 = idle_read(1), at0 = now_ns();
        atomic_store(&pre_entries, -1);
        atomic_store(&post_entries, -1);
        /* wait for the moment, still running on A */
        int off = 0;
        while ((t = now_ns()) < ty - 3000) {
            if (t - last > GAP_NS)
                off = 1;
            last = t;
        }
        if (off) {
            lost++; /* T was preempted on the way: another draw */
            run_since = last = now_ns();
            continue;
        }
        if (set_cpus(0, cpu_a, cpu_b) != 0) {
            fprintf(stderr, "migcost: cannot widen the thread's CPUs: %s\n", strerror(errno));
            return 2;
        }
        atomic_store(&tick_at, next);
        long y = now_ns();
        sched_yield();
        long back = now_ns();
        int cpu = sched_getcpu();
        /* S reads B's counters 300 us after the tick (if T ran first, it
         * still spins on A) */
        while (atomic_load(&post_entries) < 0 && now_ns() < next + 2000000)
            ;
        atomic_store(&tick_at, 0);
        long pre = atomic_load(&pre_entries), post = atomic_load(&post_entries);
        long idle1 = atomic_load(&post_idle);
        pin_or_die(cpu_a);
        if (back - y < GAP_NS) {
            no_switch++;
        } else if (next - y < 10000) {
            lost++; /* interrupted between the wait and the yield: past the tick */
        } else {
            out[kept][0] = next - y;
            out[kept][1] = back - y;
            out[kept][2] = cpu == cpu_b ? 1 : 2;
            /* B's idle entries from at0 to 20 us before the tick (0: it
             * idled through, or never idled), and to 300 us after it, and
             * how long the periods that ended by then idled beyond
             * [at0, tick]: B idled from at0 to the tick and woke at it when
             * 0, >= 1 and >= about 0 (-1: unknown) */
            int known = entries0 >= 0 && pre >= 0 && post >= 0 && idle0 >= 0 && idle1 >= 0;
            out[kept][3] = known ? pre - entries0 : -1;
            out[kept][4] = known ? post - entries0 : -1;
            out[kept][5] = known ? (idle1 - idle0) * 1000 - (next - at0) : -1;
            kept++;
        }
        last = run_since = now_ns();
    }
    atomic_store(&stop, 1);
    pthread_join(s, NULL);
    printf("{\"mode\": \"tick\", \"tick_ns\": %ld, \"phase_ns\": %ld, \"ticks_seen\": %.2f, "
           "\"cpuidle\": %s, \"no_switch\": %d, \"lost\": %d, \"trials\": [", tick, phase, seen,
           n_states > 0 ? "true" : "false", no_switch, lost);
    for (int i = 0; i < kept; i++)
        printf("%s[%ld, %ld, %ld, %ld, %ld, %ld]", i ? ", " : "", out[i][0], out[i][1],
               out[i][2], out[i][3], out[i][4], out[i][5]);
    printf("]}\n");
    free(out);
    return 0;
}

static void *spin_t(void *arg)
{
    (void)arg;
    atomic_store(&t_tid, (int)syscall(SYS_gettid));
    pin_or_die(cpu_a);
    long last = now_ns();
    while (!atomic_load_explicit(&stop, memory_order_relaxed)) {
        long t = now_ns();
        if (t - last > GAP_NS && atomic_load(&armed) && atomic_load(&first_at) == 0) {
            atomic_store(&first_cpu, sched_getcpu());
            atomic_store(&first_at, t);
        }
        last = t;
        atomic_store_explicit(&t_stamp, t, memory_order_release);
    }
    return NULL;
}

static long sleep_ns = 400000; /* newidle mode: how long C sleeps (B idles) */

static int run_newidle(int n, double dmin, double dmax)
{
    const long w = sleep_ns;
    idle_open(cpu_b);
    pin_or_die(cpu_b);
    pthread_t s, t;
    pthread_create(&s, NULL, spin_s, NULL);
    pthread_create(&t, NULL, spin_t, NULL);
    while (atomic_load(&t_tid) == 0)
        ;
    pid_t tid = atomic_load(&t_tid);
    long (*out)[4] = calloc((size_t)n, sizeof *out);
    int kept = 0, ran_before = 0, late = 0;
    long used = 0; /* the stamp the last trial started from: each needs a new preemption */
    long deadline = now_ns() + budget_ns;
    while (kept < n) {
        long t_pre, seen;
        do {
            seen = now_ns();
            t_pre = atomic_load_explicit(&t_stamp, memory_order_acquire);
        } while (!(t_pre != used && seen - t_pre > GAP_NS &&
                   seen - atomic_load_explicit(&s_stamp, memory_order_relaxed) < 5000) &&
                 seen < deadline);
        if (seen >= deadline)
            break;
        used = t_pre;
        long target = t_pre + (long)(dmin * exp(uniform() * log(dmax / dmin)));
        if (now_ns() > target + 10000) {
            late++; /* seen too late for this d: another draw */
            continue;
        }
        while (now_ns() < target)
            ;
        atomic_store(&first_at, 0);
        atomic_store(&armed, 1);
        if (set_cpus(tid, cpu_a, cpu_b) != 0) {
            fprintf(stderr, "migcost: cannot widen the thread's CPUs: %s\n", strerror(errno));
            return 2;
        }
        long t0 = now_ns();
        if (atomic_load(&t_stamp) != t_pre) {
            atomic_store(&armed, 0); /* T had A back before B went idle */
            ran_before++;
            set_cpus(tid, cpu_a, -1);
            continue;
        }
        long e0 = idle_read(1);
        struct timespec ts = {0, w};
        while (clock_nanosleep(CLOCK_MONOTONIC, 0, &ts, &ts) == EINTR)
            ;
        long e1 = idle_read(1);
        atomic_store(&armed, 0);
        long at = atomic_load(&first_at);
        int cpu = atomic_load(&first_cpu);
        set_cpus(tid, cpu_a, -1);
        out[kept][0] = t0 - t_pre;
        out[kept][1] = at == 0 ? 0 : cpu == cpu_b ? 1 : 2;
        out[kept][2] = at == 0 ? -1 : at - t0;
        out[kept][3] = e0 < 0 || e1 < 0 ? -1 : e1 - e0;
        kept++;
    }
    atomic_store(&stop, 1);
    pthread_join(s, NULL);
    pthread_join(t, NULL);
    printf("{\"mode\": \"newidle\", \"w_ns\": %ld, \"ran_before\": %d, \"late\": %d, "
           "\"trials\": [", w, ran_before, late);
    for (int i = 0; i < kept; i++)
        printf("%s[%ld, %ld, %ld, %ld]", i ? ", " : "", out[i][0], out[i][1], out[i][2],
               out[i][3]);
    printf("]}\n");
    free(out);
    return 0;
}

int main(int argc, char **argv)
{
    int tick_mode = argc > 1 && strcmp(argv[1], "tick") == 0;
    int need = tick_mode ? 9 : 8;
    if (argc < need || (!tick_mode && strcmp(argv[1], "newidle") != 0)) {
        fprintf(stderr, "usage: migcost tick trials cpuA cpuB u_min_us u_max_us tick_us budget_ms "
                        "[seed]\n"
                        "       migcost newidle trials cpuA cpuB d_min_us d_max_us budget_ms "
                        "[seed [sleep_us]]\n");
        return 2;
    }
    int n = atoi(argv[2]);
    cpu_a = atoi(argv[3]);
    cpu_b = atoi(argv[4]);
    double lo = atof(argv[5]) * 1e3, hi = atof(argv[6]) * 1e3;
    long tick = tick_mode ? atol(argv[7]) * 1000L : 0;
    budget_ns = atol(argv[need - 1]) * 1000000L;
    if (argc > need)
        rng ^= strtoull(argv[need], NULL, 10) * 0x9E3779B97F4A7C15ULL;
    if (!tick_mode && argc > need + 1)
        sleep_ns = atol(argv[need + 1]) * 1000L;
    if (n < 1 || n > 100000 || cpu_a == cpu_b || cpu_a < 0 || cpu_b < 0 || lo <= 0 || hi < lo ||
        hi > 3e6 || budget_ns < 1000000L || budget_ns > 600000000000L || sleep_ns < 50000 ||
        sleep_ns > 100000000L ||
        (tick_mode && (tick < 1000000 || tick > 10000000 || hi >= tick))) {
        fprintf(stderr, "migcost: want 1-100000 trials, two distinct CPUs, 0 < min_us <= max_us "
                        "<= 3000, 1 <= budget_ms <= 600000, (tick) 1000 <= tick_us <= 10000 "
                        "above max_us and (newidle) 50 <= sleep_us <= 100000\n");
        return 2;
    }
    return tick_mode ? run_tick(n, lo, hi, tick) : run_newidle(n, lo, hi);
}
