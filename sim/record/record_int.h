/* record_int.h - what the record layer's files share (layer-private). */
#ifndef GILSIM_RECORD_INT_H
#define GILSIM_RECORD_INT_H

#include <stddef.h>
#include <stdint.h>

/* Reads fd to its end into a malloc'ed, NUL-terminated buffer (*n bytes
 * before the NUL); NULL on a read error (errno) or OOM. */
char *gsr_read_all(int fd, size_t *n);

/* The index of the first of v[0..n) (sorted) that is greater than t; n if
 * none. O(log n). */
size_t gsr_first_after(const int64_t *v, size_t n, int64_t t);

/* Points of the wake-up latency against idle depth measured at record time. */
#define GSR_WAKE_IDLE_N 4

/* The host's costs measured at record time (calibrate.c), in ns. */
typedef struct gsr_calib {
    int64_t syscall_ns;        /* one system call (half a pipe write+read) */
    int64_t wake_hot_ns;       /* waking a thread blocked on another CPU */
    int wake_hot_cpus;         /* the CPUs its two threads ran on: 2, or 1 when
                                  one CPU was allowed; 0 unknown */
    int64_t context_switch_ns; /* the same, both threads on one CPU */
    int64_t wake_cold_ns;      /* a 1 ms timed sleep's median lateness */
    int64_t timer_jitter_ns;   /* twice its interquartile range */
    int64_t timer_arm_ns;      /* arming a timer that is its CPU's first, beyond
                                  arming one behind the tick; -1 not measured */
    int64_t eevdf_slice_ns;    /* the kernel's EEVDF base slice, read (sched_getattr
                                  of the recorder's thread, Linux 6.12+); -1 not
                                  readable */
    int n_wake_idle;           /* points of the curve below: GSR_WAKE_IDLE_N, or 0
                                  when not measured (one CPU allowed) */
    int64_t wake_idle_depth_ns[GSR_WAKE_IDLE_N]; /* how long the CPU had idled */
    int64_t wake_idle_ns[GSR_WAKE_IDLE_N];       /* the wake-up latency then */
} gsr_calib_t;

/* Measures c (about 0.13 s; timer_arm about 1.2 ms of it). 0, or -1 when
 * pipes or threads are refused. */
int gsr_calibrate(gsr_calib_t *c);

#endif
