/* limits.c - what bounds a run: the memory budget, and a preflight of the
 * kernel limits that decide whether every simulated thread can get a worker
 * pthread.
 *
 * Budget. A run keeps its whole trace in memory (every interval and instant)
 * plus the event heap. The engine compares their allocated size with the
 * budget after every event and stops the run with the outcome "limit" when it
 * is exceeded, so no accepted input can take more. The default (1 GiB) is
 * safe on a laptop; GILSIM_MEMORY_BUDGET or gs_run_opts.memory_budget (the
 * CLI's --memory-budget) change it.
 *
 * Preflight. Every simulated thread that is alive runs on its own pthread, so
 * a scenario of N threads may need N pthreads at once. Before the first event
 * the run compares N with the limits the kernel applies to pthread_create
 * (kernel.threads-max and kernel.pid_max for the whole system,
 * vm.max_map_count for this process's mappings (a stack and its guard page
 * are two), `ulimit -u` for this user's threads and `ulimit -v` for the
 * address space the stacks take) and names the first one that cannot hold
 * them: failing at once rather than after creating tens of thousands of
 * threads. The check is conservative about what is already in use only where
 * the kernel says it exactly (this process's mappings and size, the system's
 * thread count); where it cannot know (other processes of the same user) it
 * counts only this process. */
#include "limits_int.h"
#include "gilsim/engine.h"

#include <ctype.h>
#include <stdarg.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

#define MIB (1024.0 * 1024.0)

int gs_parse_bytes(const char *s, size_t *out)
{
    if (!s || !isdigit((unsigned char)*s))
        return GS_EINVAL;
    errno = 0;
    char *end;
    unsigned long long v = strtoull(s, &end, 10);
    if (errno)
        return GS_EINVAL;
    unsigned shift = 0;
    switch (toupper((unsigned char)*end)) {
    case '\0':
        break;
    case 'K':
        shift = 10;
        break;
    case 'M':
        shift = 20;
        break;
    case 'G':
        shift = 30;
        break;
    case 'T':
        shift = 40;
        break;
    default:
        return GS_EINVAL;
    }
    if (*end) {
        end++;
        if (*end == 'i' || *end == 'I')
            end++;
        if (*end == 'B' || *end == 'b')
            end++;
    }
    if (*end || v == 0 || v > (SIZE_MAX >> shift))
        return GS_EINVAL;
    *out = (size_t)(v << shift);
    return 0;
}

size_t gs__budget_default(void)
{
    const char *env = getenv("GILSIM_MEMORY_BUDGET");
    size_t v;
    if (env && *env && gs_parse_bytes(env, &v) == 0)
        return v;
    return GS_MEMORY_BUDGET_DEFAULT;
}

void gs__format_bytes(size_t n, char *buf, size_t len)
{
    if (n >= (size_t)1 << 30 && n % ((size_t)1 << 30) == 0)
        snprintf(buf, len, "%zu GiB", n >> 30);
    else if (n >= (size_t)1 << 20)
        snprintf(buf, len, "%.0f MiB", (double)n / MIB);
    else
        snprintf(buf, len, "%zu bytes", n);
}

/* ---- preflight ----------------------------------------------------------- */

static long long read_ll(const char *path)
{
    FILE *f = fopen(path, "r");
    long long v = -1;
    if (f) {
        if (fscanf(f, "%lld", &v) != 1)
            v = -1;
        fclose(f);
    }
    return v;
}

/* Threads on the whole system: the 4th field of /proc/loadavg ("1/523"). */
static long long system_threads(void)
{
    FILE *f = fopen("/proc/loadavg", "r");
    long long running = 0, total = -1;
    if (f) {
        double a, b, c;
        if (fscanf(f, "%lf %lf %lf %lld/%lld", &a, &b, &c, &running, &total) != 5)
            total = -1;
        fclose(f);
    }
    return total;
}

static long long count_lines(const char *path)
{
    FILE *f = fopen(path, "r");
    if (!f)
        return -1;
    long long n = 0;
    int ch;
    while ((ch = getc(f)) != EOF)
        n += ch == '\n';
    fclose(f);
    return n;
}

/* A field of /proc/self/status ("Threads:", "VmSize:" in kB), or -1. */
static long long status_field(const char *key)
{
    FILE *f = fopen("/proc/self/status", "r");
    if (!f)
        return -1;
    char line[256];
    long long v = -1;
    size_t n = strlen(key);
    while (fgets(line, sizeof line, f))
        if (strncmp(line, key, n) == 0) {
            v = strtoll(line + n, NULL, 10);
            break;
        }
    fclose(f);
    return v;
}

static int refuse(gs_error_t *err, int n, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static int refuse(gs_error_t *err, int n, const char *fmt, ...)
{
    char why[256];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(why, sizeof why, fmt, ap);
    va_end(ap);
    if (err) {
        err->code = GS_ETHREAD;
        snprintf(err->msg, sizeof err->msg,
                 "the scenario has %d threads and each needs a pthread of its own, but %s", n,
                 why);
    }
    return GS_ETHREAD;
}

/* A sysctl (kernel.pid_max: /proc/sys/kernel/pid_max) that must hold used +
 * need; in_use says what used counts. 0, or GS_ETHREAD naming it. */
static int sysctl_holds(const char *name, long long used, long long need, const char *in_use,
                        int n, gs_error_t *err)
{
    char path[96] = "/proc/sys/";
    size_t k = strlen(path);
    for (const char *c = name; *c && k + 1 < sizeof path; c++)
        path[k++] = *c == '.' ? '/' : *c;
    path[k] = '\0';
    long long limit = read_ll(path);
    if (limit <= 0 || used < 0 || used + need <= limit)
        return 0;
    return refuse(err, n, "%s is %lld and %s %lld (raise it: sysctl -w %s=%lld)", name, limit,
                  in_use, used, name, used + need + 1024);
}

int gs__preflight_threads(int n, size_t stack_bytes, gs_error_t *err)
{
    if (n < 64)
        return 0; /* what any system allows: no files to read */
    long long sys = system_threads();
    int rc = sysctl_holds("kernel.threads-max", sys, n, "the threads already running number", n,
                          err);
    if (!rc)
        rc = sysctl_holds("kernel.pid_max", sys, n,
                          "every thread needs an id; the threads already running number", n, err);
    if (!rc)
        rc = sysctl_holds("vm.max_map_count", count_lines("/proc/self/maps"), 2LL * n,
                          "each thread's stack takes two mappings; this process has", n, err);
    if (rc)
        return rc;
    struct rlimit rl;
    long long mine = status_field("Threads:");
    if (geteuid() != 0 && getrlimit(RLIMIT_NPROC, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY &&
        (long long)rl.rlim_cur < n + (mine > 0 ? mine : 1))
        return refuse(err, n,
                      "`ulimit -u` (max user processes, which counts threads) is %llu "
                      "(raise it: ulimit -u %lld)",
                      (unsigned long long)rl.rlim_cur, n + (mine > 0 ? mine : 1) + 256);
    long long vm_kb = status_field("VmSize:");
    long long page = sysconf(_SC_PAGESIZE) > 0 ? sysconf(_SC_PAGESIZE) : 4096;
    unsigned long long need = (unsigned long long)n * (stack_bytes + (unsigned long long)page);
    if (getrlimit(RLIMIT_AS, &rl) == 0 && rl.rlim_cur != RLIM_INFINITY && vm_kb >= 0 &&
        (unsigned long long)vm_kb * 1024 + need > rl.rlim_cur)
        return refuse(err, n,
                      "`ulimit -v` (address space) is %llu KiB, this process uses %lld KiB and "
                      "the stacks need %llu KiB more (%zu bytes each; raise it: ulimit -v %llu)",
                      (unsigned long long)rl.rlim_cur / 1024, vm_kb, need / 1024, stack_bytes,
                      ((unsigned long long)vm_kb * 1024 + need) / 1024 + 65536);
    return 0;
}
