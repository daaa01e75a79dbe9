/* spool.h - the shared-memory spool between the recorded process and
 * `gilsim record`, and the interface the probe module calls in the shim.
 *
 * The recorder creates a sparse file and maps it; the shim (LD_PRELOADed
 * into the program) maps the same file MAP_SHARED and appends events to
 * per-thread chunks. Whatever the program wrote stays in the file when it
 * exits, calls os._exit, crashes or is killed, so the recorder can always
 * read it back. Chunks are handed out by one atomic add; a chunk belongs to
 * one thread, which publishes each event by a release store of the count.
 * No lock is taken on the hot path.
 *
 * Layout: header (GSR_HDR_SIZE bytes), string area (GSR_STR_SIZE bytes),
 * then chunks of GSR_CHUNK_SIZE bytes up to capacity. This header is also
 * compiled into the probe, against the recorded interpreter's headers, so it
 * uses nothing beyond C11. */
#ifndef GILSIM_RECORD_SPOOL_H
#define GILSIM_RECORD_SPOOL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#define GSR_MAGIC "GSRSPOL1"
#define GSR_HDR_SIZE 4096u
#define GSR_STR_SIZE (4u << 20)
#define GSR_CHUNK_SIZE (64u << 10)
#define GSR_API_VERSION 4

/* Raw event kinds written by the shim. */
enum gsr_ev {
    GSR_EV_HOLD = 1,     /* got the GIL (unlocked the GIL mutex with locked=1) */
    GSR_EV_ASK,          /* asked for the GIL (locked the GIL mutex, not holding) */
    GSR_EV_RELEASE,      /* released the GIL (unlocked its mutex with locked=0) */
    GSR_EV_REQUEST,      /* timed wait on the GIL condition timed out and the
                            holder did not change: this waiter sets the drop request */
    GSR_EV_TIMEOUT,      /* timed out, but the GIL changed hands meanwhile */
    GSR_EV_WOKEN,        /* timed wait returned because of a signal; x=1 if the
                            GIL was still taken (a futile wake-up) */
    GSR_EV_SIGNAL,       /* signalled the GIL condition (in drop_gil) */
    GSR_EV_SWITCH_WAIT,  /* dropped on request: waits for another thread to take it */
    GSR_EV_SWITCH_DONE,  /* that wait ended */
    GSR_EV_CALL,         /* t = start of a C call; cat; arg = name id */
    GSR_EV_CALL_END,     /* t = its end; x = 1 if the GIL was released inside */
    GSR_EV_CTX,          /* a Python-level blocking API began (cat; arg = name id) */
    GSR_EV_CTX_END,
    GSR_EV_SEM_WAIT,     /* blocked on a semaphore (a Python lock) without the GIL;
                            the semaphore's address packed (GSR_OBJ_X/ARG) */
    GSR_EV_SEM_DONE,
    GSR_EV_START,        /* the thread registered (arg: its CPU, GSR_CPU_CAT below) */
    GSR_EV_END,          /* the OS thread exited */
    GSR_EV_NAME,         /* the thread's Python name is now arg */
    GSR_EV_PY,           /* Python code ran inside an open C call from t (exec,
                            __import__, a callback), if it lasted >= 20 us */
    GSR_EV_PY_END,
    GSR_EV_SCHED,        /* at thread exit, from /proc/thread-self/schedstat:
                            arg = CPU time, x = 0; or arg = run delay
                            (runnable, no core), x = 1; both in microseconds;
                            x | GSR_SCHED_AT_EXIT: read when the process
                            exited, the thread still there */
    GSR_EV_DROP_PENDING, /* drop_gil found the drop request set (locked the
                            switch mutex): a forced drop unless inside a C call */
    GSR_EV_OBJ,          /* follows a CALL or CTX at the same t: the object it
                            was called on (the bound self), packed */
    GSR_EV_SEM_POST,     /* posted a semaphore that had waiters (a release that
                            wakes a blocked waiter); the address packed */
    GSR_EV_POLLS,        /* follows a CALL at the same t (an Event.is_set's first
                            True in the thread): arg = the polls of the same
                            event that returned False before it there */
};

/* An object's address in an event's x (bits 32..47) and arg (bits 0..31):
 * user-space addresses on x86-64 and arm64 fit in 48 bits; a larger one is
 * recorded as 0, unknown. */
#define GSR_OBJ_MAX ((uint64_t)1 << 48)
#define GSR_OBJ_X(a) ((uint16_t)((uint64_t)(a) >= GSR_OBJ_MAX ? 0 : (uint64_t)(a) >> 32))
#define GSR_OBJ_ARG(a) ((uint32_t)((uint64_t)(a) >= GSR_OBJ_MAX ? 0 : (uint64_t)(a)))
#define GSR_OBJ_UNPACK(x, arg) (((uint64_t)(x) << 32) | (uint64_t)(arg))

#define GSR_SCHED_AT_EXIT 2 /* GSR_EV_SCHED's x: read by the exit hook */

/* The CPU an event ran on (sched_getcpu() as it was written), plus 1, 0
 * when unknown: in arg for START, END, ASK, HOLD, RELEASE, REQUEST, TIMEOUT,
 * WOKEN, SIGNAL, SWITCH_WAIT, SWITCH_DONE, SEM_DONE and CTX_END; in cat
 * for SEM_POST (its x and arg hold the address), where CPUs from 254 up
 * are 0, unknown. The other kinds carry none. */
#define GSR_CPU_CAT(c) ((uint8_t)((c) >= 0 && (c) < 254 ? (c) + 1 : 0))

/* What a named call or context does. */
enum gsr_cat {
    GSR_CAT_C = 0,   /* other C code */
    GSR_CAT_SLEEP,   /* time.sleep */
    GSR_CAT_IO,      /* sockets, select, files, os.read/write, waitpid */
    GSR_CAT_LOCK,    /* Lock/RLock/Semaphore acquire */
    GSR_CAT_EVENT,   /* Event.wait, Condition.wait, Barrier.wait */
    GSR_CAT_QUEUE,   /* queue.Queue get/put */
    GSR_CAT_JOIN,    /* Thread.join */
    GSR_CAT_NOGIL,   /* a C call known to release the GIL (hashlib, zlib...) */
    GSR_CAT_COUNT
};

typedef struct gsr_event {
    int64_t t;   /* CLOCK_MONOTONIC ns */
    uint8_t kind, cat;
    uint16_t x;
    uint32_t arg;
} gsr_event_t;

/* The CPU event e carries (GSR_CPU_CAT above), or -1: unknown, or a kind
 * that carries none. */
static inline int gsr_event_cpu(const gsr_event_t *e)
{
    switch (e->kind) {
    case GSR_EV_START: case GSR_EV_END: case GSR_EV_ASK: case GSR_EV_HOLD:
    case GSR_EV_RELEASE: case GSR_EV_REQUEST: case GSR_EV_TIMEOUT: case GSR_EV_WOKEN:
    case GSR_EV_SIGNAL: case GSR_EV_SWITCH_WAIT: case GSR_EV_SWITCH_DONE:
    case GSR_EV_SEM_DONE: case GSR_EV_CTX_END:
        return e->arg > 0 && e->arg <= (uint32_t)INT32_MAX ? (int)(e->arg - 1) : -1;
    case GSR_EV_SEM_POST: return e->cat > 0 ? e->cat - 1 : -1;
    default: return -1;
    }
}

typedef struct gsr_chunk {
    uint32_t magic; /* GSR_CHUNK_MAGIC once claimed */
    uint32_t slot;  /* thread slot */
    int32_t tid;
    _Atomic uint32_t n; /* events published */
    gsr_event_t ev[];
} gsr_chunk_t;

#define GSR_CHUNK_MAGIC 0x43525347u /* "GSRC" */
#define GSR_CHUNK_EVENTS ((GSR_CHUNK_SIZE - sizeof(gsr_chunk_t)) / sizeof(gsr_event_t))

/* A string record in the string area: id, len, bytes, padded to 8. The
 * word `ok` is stored last (release), so a reader stops at a torn one. */
typedef struct gsr_str {
    _Atomic uint32_t ok; /* 1 when complete */
    uint32_t id;
    uint32_t len;
    uint32_t pad;
    char s[];
} gsr_str_t;

typedef struct gsr_hdr {
    char magic[8];
    uint32_t version, chunk_size;
    int32_t pid;           /* the recorded process */
    uint32_t pad0;
    uint64_t capacity;     /* bytes of the file */
    _Atomic uint64_t next; /* next free chunk offset */
    _Atomic uint32_t n_slots;
    _Atomic uint32_t overflow;     /* 1 once the budget ran out */
    _Atomic int64_t overflow_ns;
    _Atomic uint32_t forks;        /* fork() calls in the process (children not followed) */
    _Atomic uint32_t execs;        /* other processes that loaded the shim */
    _Atomic uint32_t registered;   /* the probe found the GIL */
    _Atomic uint32_t unnamed;      /* threads that used the GIL without a threading name */
    int64_t t_register_ns;
    _Atomic uint64_t str_next;     /* offset in the string area */
    _Atomic uint32_t str_ids;
    uint32_t pad1;
    /* filled by the probe at registration */
    int64_t switch_interval_ns;
    char py_version[64];
    char probe_note[256];
} gsr_hdr_t;

/* The GIL's objects, found by the probe from the interpreter's own state. */
typedef struct gsr_gil {
    void *mutex, *cond, *switch_mutex, *switch_cond;
    const volatile int *locked;
    const volatile unsigned long *switch_number;
    int64_t interval_ns;
    const char *py_version;
} gsr_gil_t;

/* What the shim exports to the probe (found with dlsym "gsr_api"). */
typedef struct gsr_api {
    int version;
    /* 0, or -1 when not recording (then the probe does nothing). */
    int (*register_gil)(const gsr_gil_t *g);
    uint32_t (*intern)(const char *s, size_t n);
    void (*thread_name)(uint32_t name_id);
    /* obj: the object the call is made on (its address), 0 if unknown */
    void (*call_begin)(uint32_t name_id, int cat, const void *obj);
    void (*call_end)(void);
    void (*ctx_begin)(uint32_t name_id, int cat, const void *obj);
    void (*ctx_end)(void);
    void (*py_enter)(void); /* a Python frame starts (PyTrace_CALL) */
    void (*py_exit)(void);  /* it returns */
    /* a poll (Event.is_set) returned True for the first time in this thread
     * for obj, after n_false polls that returned False: a call of no length */
    void (*poll)(uint32_t name_id, int cat, const void *obj, uint32_t n_false);
} gsr_api_t;

#endif
