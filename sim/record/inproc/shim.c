/* shim.c - libgilsim-shim.so, LD_PRELOADed into the recorded Python.
 *
 * It interposes the pthread calls CPython's GIL makes (the GIL is a mutex,
 * a condition variable, and for forced switching a second pair) and the
 * semaphore waits of Python locks. Until the probe module registers the
 * GIL's own objects (found from the interpreter's runtime state) every call
 * goes straight to glibc after one pointer compare. Afterwards, calls on
 * the GIL's objects append events to the calling thread's chunk of the
 * shared spool (spool.h): no lock, no system call besides the vDSO clock.
 *
 * What each call means (Python/ceval_gil.c, 3.8 to 3.13):
 *   lock(gil.mutex) by a thread not holding it   -> take_gil began: ASK
 *   unlock(gil.mutex) with gil.locked == 1       -> take_gil ends: HOLD
 *   unlock(gil.mutex) with gil.locked == 0 by the holder -> drop_gil: RELEASE
 *   timedwait(gil.cond) == ETIMEDOUT, GIL still taken by the same holder
 *                                                 -> this waiter sets the drop request
 *   signal(gil.cond)                              -> drop_gil wakes a waiter
 *   wait(gil.switch_cond)                         -> the dropper waits for the
 *                                                    switch (a forced drop)
 * The mutex is re-taken inside glibc when a condition wait returns, not
 * through the PLT: that is why the state lives in gil.locked, read while
 * the caller holds the mutex, rather than in the lock/unlock pairs.
 *
 * The kernel's totals of a thread (time on a core, time runnable without
 * one) are read once: by the thread as it ends (its pthread key
 * destructor), or, for a thread still there when the process exits
 * normally (the main thread, daemon threads, and a thread whose end races
 * the exit: Python's join returns before the OS thread has finished), by
 * the shim's destructor at exit, from /proc/self/task/TID. A table by
 * slot, written once per thread, tells the destructor every thread's TID;
 * whichever of the two claims a thread's `done` first reads its totals.
 * A thread that claimed its own marks them written when they are; the
 * destructor waits a little for one still writing (a thread descheduled
 * between its claim and its write would otherwise lose them when the
 * process's exit kills it).
 *
 * The CPU an event ran on: the events where placement matters (a thread's
 * start and end, each GIL ask, hold, release, wake-up, request and signal,
 * the end of a lock wait and of a Python-level blocking API) carry the CPU
 * that sched_getcpu() gives right after their clock read, plus 1, in arg
 * (0: unknown); a waking sem_post, whose x and arg hold the semaphore's
 * address, carries it in cat, below 255 only. glibc 2.35+ reads it from the
 * thread's rseq area, a TLS load: 2.5 to 6 ns here beside the clock read's
 * 53 to 62 ns (Debian's glibc 2.36, 10^7 calls, 5 runs on the loaded VM);
 * without rseq it is the vDSO's getcpu (RDPID or RDTSCP on x86). */
#ifndef _GNU_SOURCE
#define _GNU_SOURCE
#endif
#include "spool.h"

#include <dlfcn.h>
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <sched.h>
#include <semaphore.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#define EXPORT __attribute__((visibility("default")))
#define MAX_CALLS 16
#define LONG_CALL_NS 20000 /* a C call holding the GIL this long is named */

static int (*r_lock)(pthread_mutex_t *);
static int (*r_unlock)(pthread_mutex_t *);
static int (*r_wait)(pthread_cond_t *, pthread_mutex_t *);
static int (*r_timedwait)(pthread_cond_t *, pthread_mutex_t *, const struct timespec *);
static int (*r_signal)(pthread_cond_t *);
static int (*r_sem_wait)(sem_t *);
static int (*r_sem_timedwait)(sem_t *, const struct timespec *);
static int (*r_sem_clockwait)(sem_t *, clockid_t, const struct timespec *);
static int (*r_sem_post)(sem_t *);

static gsr_hdr_t *g_hdr;
static char *g_base;
static _Atomic int g_active;
static void *g_mutex, *g_cond, *g_scond, *g_smutex;
static const volatile int *g_locked;
static const volatile unsigned long *g_switch;
static pthread_key_t g_key;
static pthread_once_t g_once = PTHREAD_ONCE_INIT;
static int g_posts = 1; /* record waking posts (GILSIM_REC_SEM_POSTS=0: not,
                           for bench/bench_record_posts.py's "before") */

typedef struct call {
    int64_t t0;
    const void *obj; /* the object it was called on, or NULL */
    uint32_t name, releases;
    uint8_t cat;
    uint8_t py;    /* 1: Python running inside the call below */
    uint32_t nest; /* py: Python frames nested in the first one */
} call_t;

typedef struct tls {
    gsr_chunk_t *c;
    int32_t slot; /* -1 until the thread's first event */
    int holding;
    uint32_t releases;
    int depth;
    call_t calls[MAX_CALLS];
} tls_t;

static __thread tls_t T = {.slot = -1};

/* Every thread that wrote an event, by slot: written once when it gets its
 * slot, read by the exit hook. Threads beyond MAX_TRACKED get no totals
 * at exit. */
#define MAX_TRACKED 65536
typedef struct tracked {
    _Atomic int32_t tid; /* 0 until the thread has its slot */
    _Atomic int done;    /* 1 once its totals are claimed (by itself or at exit),
                            2 once the thread itself has written them */
} tracked_t;
static tracked_t g_tracked[MAX_TRACKED];

/* The registering thread's totals when the recording started: its totals
 * in the recording count from there (it ran the interpreter's start-up).
 * Written by that thread in api_register before g_active is set; read only
 * after, by threads that record. */
static int32_t g_reg_tid;
static unsigned long long g_reg_cpu, g_reg_delay;

static void *sym(const char *name, const char *ver)
{
    void *p = ver ? dlvsym(RTLD_NEXT, name, ver) : NULL;
    return p ? p : dlsym(RTLD_NEXT, name);
}

static void resolve(void)
{
    r_lock = sym("pthread_mutex_lock", NULL);
    r_unlock = sym("pthread_mutex_unlock", NULL);
    r_wait = sym("pthread_cond_wait", "GLIBC_2.3.2");
    r_timedwait = sym("pthread_cond_timedwait", "GLIBC_2.3.2");
    r_signal = sym("pthread_cond_signal", "GLIBC_2.3.2");
    r_sem_wait = sym("sem_wait", NULL);
    r_sem_timedwait = sym("sem_timedwait", NULL);
    r_sem_clockwait = sym("sem_clockwait", NULL);
    r_sem_post = sym("sem_post", NULL);
}

static inline int64_t now_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* The calling thread's CPU plus 1, 0 if unknown: an event's arg (spool.h,
 * GSR_CPU_ARG). */
static inline uint32_t cpu_arg(void)
{
    int c = sched_getcpu();
    return c >= 0 ? (uint32_t)c + 1 : 0;
}

static void emit_at(int64_t t, int kind, int cat, int x, uint32_t arg);

/* Reads a thread's schedstat (time on a core, run delay: ns) from path;
 * false if it cannot. */
static int read_schedstat(const char *path, unsigned long long *cpu, unsigned long long *delay)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    char buf[128];
    ssize_t n = read(fd, buf, sizeof buf - 1);
    close(fd);
    if (n <= 0)
        return 0;
    buf[n] = 0;
    char *end;
    *cpu = strtoull(buf, &end, 10);
    *delay = strtoull(end, NULL, 10);
    return 1;
}

/* Thread tid's totals since the recording started (the registering
 * thread's start-up taken off), in microseconds for a GSR_EV_SCHED arg. */
static void sched_us(int32_t tid, unsigned long long cpu, unsigned long long delay,
                     uint32_t *cpu_us, uint32_t *delay_us)
{
    if (tid == g_reg_tid) {
        cpu = cpu > g_reg_cpu ? cpu - g_reg_cpu : 0;
        delay = delay > g_reg_delay ? delay - g_reg_delay : 0;
    }
    *cpu_us = (uint32_t)(cpu / 1000 > UINT32_MAX ? UINT32_MAX : cpu / 1000);
    *delay_us = (uint32_t)(delay / 1000 > UINT32_MAX ? UINT32_MAX : delay / 1000);
}

/* true for the one caller that claims slot's totals (a slot beyond the
 * table is never read at exit: its thread always may). */
static int claim_totals(int32_t slot)
{
    if (slot >= MAX_TRACKED)
        return 1;
    return slot >= 0 && atomic_exchange(&g_tracked[slot].done, 1) == 0;
}

/* The kernel's own account of the calling thread, read as it ends. */
static void sched_totals(void)
{
    unsigned long long cpu, delay;
    if (!read_schedstat("/proc/thread-self/schedstat", &cpu, &delay))
        return;
    uint32_t cpu_us, delay_us;
    sched_us((int32_t)syscall(SYS_gettid), cpu, delay, &cpu_us, &delay_us);
    int64_t t = now_ns();
    emit_at(t, GSR_EV_SCHED, 0, 0, cpu_us);
    emit_at(t, GSR_EV_SCHED, 0, 1, delay_us);
}

static void thread_gone(void *unused)
{
    (void)unused;
    if (atomic_load_explicit(&g_active, memory_order_relaxed) && T.slot >= 0) {
        if (claim_totals(T.slot)) {
            sched_totals();
            if (T.slot < MAX_TRACKED)
                atomic_store(&g_tracked[T.slot].done, 2);
        }
        emit_at(now_ns(), GSR_EV_END, 0, 0, cpu_arg());
    }
}

static void make_key(void)
{
    pthread_key_create(&g_key, thread_gone);
}

static gsr_chunk_t *new_chunk(int64_t t)
{
    uint64_t off = atomic_fetch_add(&g_hdr->next, GSR_CHUNK_SIZE);
    if (off + GSR_CHUNK_SIZE > g_hdr->capacity) {
        uint32_t no = 0;
        if (atomic_compare_exchange_strong(&g_hdr->overflow, &no, 1))
            atomic_store(&g_hdr->overflow_ns, t);
        atomic_store(&g_active, 0);
        return NULL;
    }
    gsr_chunk_t *c = (gsr_chunk_t *)(g_base + off);
    c->slot = (uint32_t)T.slot;
    c->tid = (int32_t)syscall(SYS_gettid);
    atomic_store_explicit(&c->n, 0, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    c->magic = GSR_CHUNK_MAGIC;
    return c;
}

static void emit_at(int64_t t, int kind, int cat, int x, uint32_t arg)
{
    if (T.slot < 0) {
        T.slot = (int32_t)atomic_fetch_add(&g_hdr->n_slots, 1);
        if (T.slot < MAX_TRACKED)
            atomic_store(&g_tracked[T.slot].tid, (int32_t)syscall(SYS_gettid));
        pthread_once(&g_once, make_key);
        pthread_setspecific(g_key, &T);
        emit_at(t, GSR_EV_START, 0, 0, cpu_arg());
    }
    gsr_chunk_t *c = T.c;
    uint32_t n = c ? atomic_load_explicit(&c->n, memory_order_relaxed) : 0;
    if (!c || n == GSR_CHUNK_EVENTS) {
        c = T.c = new_chunk(t);
        if (!c)
            return;
        n = 0;
    }
    gsr_event_t *e = &c->ev[n];
    e->t = t;
    e->kind = (uint8_t)kind;
    e->cat = (uint8_t)cat;
    e->x = (uint16_t)x;
    e->arg = arg;
    atomic_store_explicit(&c->n, n + 1, memory_order_release);
}

/* The object of the event just emitted at t (a call's, a wait's), when known. */
static void emit_obj(int64_t t, const void *obj)
{
    if (obj)
        emit_at(t, GSR_EV_OBJ, 0, GSR_OBJ_X(obj), GSR_OBJ_ARG(obj));
}

static inline int active(void)
{
    return atomic_load_explicit(&g_active, memory_order_relaxed);
}

static inline void emit(int kind, int cat, int x, uint32_t arg)
{
    emit_at(now_ns(), kind, cat, x, arg);
}

/* An event that carries the CPU it ran on (its arg is free for it). */
static inline void emit_cpu(int kind, int x)
{
    int64_t t = now_ns();
    emit_at(t, kind, 0, x, cpu_arg());
}

/* ---- the interposed calls ----------------------------------------------- */

EXPORT int pthread_mutex_lock(pthread_mutex_t *m)
{
    if (!r_lock)
        resolve();
    if ((void *)m == g_mutex && active() && !T.holding)
        emit_cpu(GSR_EV_ASK, 0);
    else if ((void *)m == g_smutex && active())
        emit(GSR_EV_DROP_PENDING, 0, T.holding, 0);
    return r_lock(m);
}

EXPORT int pthread_mutex_unlock(pthread_mutex_t *m)
{
    if (!r_unlock)
        resolve();
    if ((void *)m == g_mutex && active()) {
        int locked = *g_locked;
        if (locked == 1 && !T.holding) {
            T.holding = 1;
            emit_cpu(GSR_EV_HOLD, 0);
        } else if (locked == 0 && T.holding) {
            T.holding = 0;
            T.releases++;
            emit_cpu(GSR_EV_RELEASE, 0);
        }
    }
    return r_unlock(m);
}

EXPORT int pthread_cond_timedwait(pthread_cond_t *c, pthread_mutex_t *m,
                                  const struct timespec *abstime)
{
    if (!r_timedwait)
        resolve();
    if ((void *)c != g_cond || !active())
        return r_timedwait(c, m, abstime);
    unsigned long sw = *g_switch;
    int r = r_timedwait(c, m, abstime);
    if (active()) {
        if (r == ETIMEDOUT)
            emit_cpu(*g_locked && *g_switch == sw ? GSR_EV_REQUEST : GSR_EV_TIMEOUT, 0);
        else if (r == 0)
            emit_cpu(GSR_EV_WOKEN, *g_locked ? 1 : 0);
    }
    return r;
}

EXPORT int pthread_cond_wait(pthread_cond_t *c, pthread_mutex_t *m)
{
    if (!r_wait)
        resolve();
    if ((void *)c != g_scond || !active())
        return r_wait(c, m);
    emit_cpu(GSR_EV_SWITCH_WAIT, 0);
    int r = r_wait(c, m);
    if (active())
        emit_cpu(GSR_EV_SWITCH_DONE, 0);
    return r;
}

EXPORT int pthread_cond_signal(pthread_cond_t *c)
{
    if (!r_signal)
        resolve();
    if ((void *)c == g_cond && active())
        emit_cpu(GSR_EV_SIGNAL, 0);
    return r_signal(c);
}

/* A Python lock's blocking wait (Lock.acquire, and what Event, Queue and
 * join are built on) is a semaphore wait made after the GIL was dropped. */
#define SEM_WRAP(call)                                                                             \
    do {                                                                                           \
        if (!active() || T.slot < 0 || T.holding)                                                  \
            return call;                                                                           \
        emit(GSR_EV_SEM_WAIT, 0, GSR_OBJ_X(s), GSR_OBJ_ARG(s));                                    \
        int r_ = call;                                                                             \
        int e_ = errno;                                                                            \
        if (active())                                                                              \
            emit_cpu(GSR_EV_SEM_DONE, 0);                                                        \
        errno = e_;                                                                                \
        return r_;                                                                                 \
    } while (0)

EXPORT int sem_wait(sem_t *s)
{
    if (!r_sem_wait)
        resolve();
    SEM_WRAP(r_sem_wait(s));
}

EXPORT int sem_timedwait(sem_t *s, const struct timespec *ts)
{
    if (!r_sem_timedwait)
        resolve();
    SEM_WRAP(r_sem_timedwait(s, ts));
}

EXPORT int sem_clockwait(sem_t *s, clockid_t clk, const struct timespec *ts)
{
    if (!r_sem_clockwait)
        resolve();
    if (!r_sem_clockwait) {
        errno = ENOSYS;
        return -1;
    }
    SEM_WRAP(r_sem_clockwait(s, clk, ts));
}

/* A release of a Python lock (and what Event.set, Condition.notify and a
 * SimpleQueue's put come down to) that wakes a blocked waiter: recorded
 * with the semaphore's address, so a reader can match it to the wait it
 * ends. Only posts that will wake someone are recorded, and they are told
 * without a system call: glibc's semaphore (since 2.21, with 64-bit
 * atomics) keeps its value in the low 32 bits of its first 64-bit word and
 * the number of threads blocked on it in the high 32 bits, and sem_post
 * makes its futex wake only when that number is not 0. An uncontended post
 * costs one more load of a word sem_post reads anyway. */
#if UINTPTR_MAX > 0xffffffffu
#define SEM_WAITERS(s) (__atomic_load_n((const uint64_t *)(const void *)(s), __ATOMIC_RELAXED) >> 32)
#else
#define SEM_WAITERS(s) 0 /* 32-bit glibc keeps the count elsewhere: posts not recorded */
#endif

EXPORT int sem_post(sem_t *s)
{
    if (!r_sem_post)
        resolve();
    if (g_posts && active() && T.slot >= 0 && SEM_WAITERS(s) != 0)
        emit(GSR_EV_SEM_POST, GSR_CPU_CAT(sched_getcpu()), GSR_OBJ_X(s), GSR_OBJ_ARG(s));
    return r_sem_post(s);
}

/* ---- the probe's interface ---------------------------------------------- */

static int api_register(const gsr_gil_t *g)
{
    if (!g_hdr)
        return -1;
    g_locked = g->locked;
    g_switch = g->switch_number;
    g_cond = g->cond;
    g_scond = g->switch_cond;
    g_smutex = g->switch_mutex;
    g_hdr->switch_interval_ns = g->interval_ns;
    if (g->py_version)
        strncpy(g_hdr->py_version, g->py_version, sizeof g_hdr->py_version - 1);
    T.holding = 1; /* the probe runs in a thread that holds the GIL */
    if (read_schedstat("/proc/thread-self/schedstat", &g_reg_cpu, &g_reg_delay))
        g_reg_tid = (int32_t)syscall(SYS_gettid);
    int64_t t = now_ns();
    g_hdr->t_register_ns = t;
    atomic_store(&g_hdr->registered, 1);
    g_mutex = g->mutex; /* last: from here on the hooks fire */
    atomic_store(&g_active, 1);
    emit_at(t, GSR_EV_HOLD, 0, 0, cpu_arg());
    return 0;
}

static uint32_t api_intern(const char *s, size_t n)
{
    if (!g_hdr)
        return 0;
    if (n > 1000)
        n = 1000;
    size_t sz = (sizeof(gsr_str_t) + n + 1 + 7) & ~(size_t)7;
    uint64_t off = atomic_fetch_add(&g_hdr->str_next, sz);
    if (off + sz > GSR_STR_SIZE)
        return 0;
    gsr_str_t *r = (gsr_str_t *)(g_base + GSR_HDR_SIZE + off);
    r->id = atomic_fetch_add(&g_hdr->str_ids, 1) + 1;
    r->len = (uint32_t)n;
    memcpy(r->s, s, n);
    r->s[n] = 0;
    atomic_store_explicit(&r->ok, 1, memory_order_release);
    return r->id;
}

static void api_thread_name(uint32_t id)
{
    if (active())
        emit(GSR_EV_NAME, 0, 0, id);
}

static void api_call_begin(uint32_t name, int cat, const void *obj)
{
    if (T.depth < MAX_CALLS)
        T.calls[T.depth] = (call_t){now_ns(), obj, name, T.releases, (uint8_t)cat, 0, 0};
    T.depth++;
}

static void api_py_exit(void);

static void api_call_end(void)
{
    while (T.depth > 0 && T.depth <= MAX_CALLS && T.calls[T.depth - 1].py) {
        T.calls[T.depth - 1].nest = 0; /* unbalanced: close the Python part */
        api_py_exit();
    }
    if (T.depth == 0)
        return;
    if (--T.depth >= MAX_CALLS)
        return;
    const call_t *c = &T.calls[T.depth];
    int64_t t1 = now_ns();
    int released = T.releases != c->releases;
    if (active() && (released || c->cat != GSR_CAT_C || t1 - c->t0 >= LONG_CALL_NS)) {
        emit_at(c->t0, GSR_EV_CALL, c->cat, 0, c->name);
        emit_obj(c->t0, c->obj);
        emit_at(t1, GSR_EV_CALL_END, 0, released, 0);
    }
}

/* Python frames inside a C call (the program itself runs inside exec):
 * only the outermost one is tracked, the ones it calls only count. */
static void api_py_enter(void)
{
    if (T.depth == 0 || T.depth > MAX_CALLS)
        return;
    call_t *top = &T.calls[T.depth - 1];
    if (top->py) {
        top->nest++;
        return;
    }
    if (T.depth == MAX_CALLS)
        return;
    T.calls[T.depth++] = (call_t){now_ns(), NULL, 0, T.releases, 0, 1, 0};
}

static void api_py_exit(void)
{
    if (T.depth == 0 || T.depth > MAX_CALLS)
        return;
    call_t *top = &T.calls[T.depth - 1];
    if (!top->py)
        return;
    if (top->nest) {
        top->nest--;
        return;
    }
    T.depth--;
    int64_t t1 = now_ns();
    if (active() && t1 - top->t0 >= LONG_CALL_NS) {
        emit_at(top->t0, GSR_EV_PY, 0, 0, 0);
        emit_at(t1, GSR_EV_PY_END, 0, 0, 0);
    }
}

static void api_ctx_begin(uint32_t name, int cat, const void *obj)
{
    if (!active())
        return;
    int64_t t = now_ns();
    emit_at(t, GSR_EV_CTX, cat, 0, name);
    emit_obj(t, obj);
}

static void api_ctx_end(void)
{
    if (active())
        emit_cpu(GSR_EV_CTX_END, 0);
}

/* The first True of a poll (Event.is_set) in this thread: a call of no
 * length with its object and the count of False polls before it. */
static void api_poll(uint32_t name, int cat, const void *obj, uint32_t n_false)
{
    if (!active())
        return;
    int64_t t = now_ns();
    emit_at(t, GSR_EV_CALL, cat, 0, name);
    emit_obj(t, obj);
    emit_at(t, GSR_EV_POLLS, 0, 0, n_false);
    emit_at(t, GSR_EV_CALL_END, 0, 0, 0);
}

EXPORT const gsr_api_t gsr_api = {
    GSR_API_VERSION, api_register, api_intern, api_thread_name, api_call_begin,
    api_call_end,    api_ctx_begin, api_ctx_end, api_py_enter, api_py_exit,
    api_poll,
};

/* ---- set-up ------------------------------------------------------------- */

static void after_fork_child(void)
{
    /* Children are not followed: the spool is the parent's. */
    atomic_store(&g_active, 0);
    g_mutex = g_cond = g_scond = g_smutex = NULL;
    if (g_hdr)
        atomic_fetch_add(&g_hdr->forks, 1);
    g_hdr = NULL;
}

__attribute__((constructor)) static void shim_init(void)
{
    resolve();
    const char *path = getenv("GILSIM_REC_SPOOL"), *pid = getenv("GILSIM_REC_PID");
    const char *posts = getenv("GILSIM_REC_SEM_POSTS");
    g_posts = !(posts && strcmp(posts, "0") == 0);
    if (!path || !pid)
        return;
    int fd = open(path, O_RDWR | O_CLOEXEC);
    if (fd < 0)
        return;
    struct stat st;
    if (fstat(fd, &st) != 0 || (size_t)st.st_size < GSR_HDR_SIZE + GSR_STR_SIZE) {
        close(fd);
        return;
    }
    void *p = mmap(NULL, (size_t)st.st_size, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
    close(fd);
    if (p == MAP_FAILED)
        return;
    gsr_hdr_t *h = p;
    if (memcmp(h->magic, GSR_MAGIC, 8) != 0) {
        munmap(p, (size_t)st.st_size);
        return;
    }
    if (atoi(pid) != (int)getpid()) {
        /* A program the recorded one started (it inherited LD_PRELOAD). */
        atomic_fetch_add(&h->execs, 1);
        munmap(p, (size_t)st.st_size);
        return;
    }
    g_hdr = h;
    g_base = p;
    pthread_atfork(NULL, NULL, after_fork_child);
}

/* ---- at exit -------------------------------------------------------------- */

/* A chunk of slot's own holding only its totals read at exit (x has
 * GSR_SCHED_AT_EXIT). Claimed only while the spool has room, so it never
 * marks the recording as out of budget. */
static void exit_totals(uint32_t slot, int32_t tid, int64_t t, uint32_t cpu_us, uint32_t delay_us)
{
    uint64_t off = atomic_load(&g_hdr->next);
    do {
        if (off + GSR_CHUNK_SIZE > g_hdr->capacity)
            return;
    } while (!atomic_compare_exchange_weak(&g_hdr->next, &off, off + GSR_CHUNK_SIZE));
    gsr_chunk_t *c = (gsr_chunk_t *)(g_base + off);
    c->slot = slot;
    c->tid = tid;
    c->ev[0] = (gsr_event_t){t, GSR_EV_SCHED, 0, GSR_SCHED_AT_EXIT, cpu_us};
    c->ev[1] = (gsr_event_t){t, GSR_EV_SCHED, 0, GSR_SCHED_AT_EXIT | 1, delay_us};
    atomic_store_explicit(&c->n, 2, memory_order_relaxed);
    atomic_thread_fence(memory_order_release);
    c->magic = GSR_CHUNK_MAGIC;
}

/* A thread that claimed its own totals and has not yet written them is
 * given up to 100 ms to write them (it is between two system calls: only
 * a busy machine keeps it off a core that long). */
static void wait_written(uint32_t s)
{
    for (int i = 0; i < 100 && atomic_load(&g_tracked[s].done) == 1; i++)
        nanosleep(&(struct timespec){0, 1000000}, NULL);
}

/* When the process exits normally (not by os._exit, a crash or a
 * signal): the totals of every recorded thread that has none yet. */
__attribute__((destructor)) static void shim_exit(void)
{
    if (!g_hdr || !active())
        return;
    uint32_t n = atomic_load(&g_hdr->n_slots);
    int64_t t = now_ns();
    for (uint32_t s = 0; s < n && s < MAX_TRACKED; s++) {
        int32_t tid = atomic_load(&g_tracked[s].tid);
        if (tid <= 0)
            continue;
        wait_written(s);
        /* Read first, claim after: a thread ending now (a 3.12 daemon
         * thread exits its pthread during finalization) claims its own
         * totals as it goes; had we claimed first, its task could be gone
         * by our read and neither side would write them. A read that
         * fails means its thread_gone has run. */
        char path[64];
        unsigned long long cpu, delay;
        snprintf(path, sizeof path, "/proc/self/task/%d/schedstat", (int)tid);
        if (!read_schedstat(path, &cpu, &delay) || !claim_totals((int32_t)s))
            continue;
        uint32_t cpu_us, delay_us;
        sched_us(tid, cpu, delay, &cpu_us, &delay_us);
        exit_totals(s, tid, t, cpu_us, delay_us);
    }
}
