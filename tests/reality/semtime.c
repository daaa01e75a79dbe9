/* semtime.c - times every sem_post of a program, for the Python 2 GIL battle.
 *
 * Python 2.7 releases its GIL with sem_post (Python/thread_pthread.h,
 * USE_SEMAPHORES); glibc's sem_post makes a futex_wake system call whenever a
 * waiter is registered (nptl/sem_post.c). Preloaded into the interpreter
 * (LD_PRELOAD, interposing libpython's call), this library times each call
 * with CLOCK_MONOTONIC, less what a pair of clock reads costs, and sorts it:
 * under 80 ns no system call was made (nobody registered); up to 3 us a
 * futex_wake that found nobody asleep, or woke a thread on this CPU; 3 to
 * 50 us a wake that interrupted another, idle CPU (about 10 us on the project
 * VM); over 50 us the caller lost its CPU to another process during the call
 * (a loaded machine). At exit a process that posted appends one JSON line
 * to $SEMTIME_OUT (or stderr):
 *   {"none": [n, ns], "bare": [n, ns], "wake": [n, ns], "lost": [n, ns]}
 * with the count and the summed duration of each kind. versions.py builds
 * and uses it (issue 16: count, don't guess). */
#define _GNU_SOURCE
#include <dlfcn.h>
#include <semaphore.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <time.h>

static int (*real_post)(sem_t *);
static long clock_pair_ns = -1;
static atomic_long n[4], sum[4];

static long now_ns(void)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return t.tv_sec * 1000000000L + t.tv_nsec;
}

/* the cheapest of many back-to-back clock reads: what timing itself adds */
static long clock_cost(void)
{
    long best = 1000000;
    for (int i = 0; i < 2000; i++) {
        long a = now_ns(), b = now_ns();
        if (b - a < best)
            best = b - a;
    }
    return best;
}

int sem_post(sem_t *s)
{
    if (!real_post) {
        real_post = (int (*)(sem_t *))dlsym(RTLD_NEXT, "sem_post");
        clock_pair_ns = clock_cost();
    }
    long t = now_ns();
    int r = real_post(s);
    long d = now_ns() - t - clock_pair_ns;
    int k = d < 80 ? 0 : d <= 3000 ? 1 : d <= 50000 ? 2 : 3;
    atomic_fetch_add(&n[k], 1);
    atomic_fetch_add(&sum[k], d);
    return r;
}

__attribute__((destructor)) static void report(void)
{
    if (n[0] + n[1] + n[2] + n[3] == 0)
        return; /* a process that posted nothing (a helper the program ran) */
    const char *path = getenv("SEMTIME_OUT");
    FILE *f = path ? fopen(path, "a") : stderr;
    if (!f)
        return;
    fprintf(f,
            "{\"none\": [%ld, %ld], \"bare\": [%ld, %ld], \"wake\": [%ld, %ld], "
            "\"lost\": [%ld, %ld]}\n",
            (long)n[0], (long)sum[0], (long)n[1], (long)sum[1], (long)n[2], (long)sum[2],
            (long)n[3], (long)sum[3]);
    if (f != stderr)
        fclose(f);
}
