/* spool.c - the event spool, from the recorder's side: create it before
 * the program runs, read it back after (spool.h has the layout and how the
 * shim writes it).
 *
 * Reading trusts nothing the program might have left half-done: a string
 * is taken only once its `ok` flag is published, a chunk only with its
 * magic and a slot that was handed out, and at most the count its thread
 * published; the end is the allocation pointer cut to the file. A thread's
 * events come from several chunks, so they are sorted by time (and by the
 * order they were read in, for equal times). */
#include "recorder_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

/* ---- creating it ------------------------------------------------------------ */

/* The spool lives in memory (/dev/shm) unless TMPDIR says otherwise, so the
 * kernel never writes it back to a disk while the program runs. It is a
 * sparse file: a write into a hole that the file system cannot fill would
 * kill the program with SIGBUS, so the budget is cut to half the free space. */
static int spool_dir(int64_t *budget, const char **dir, gs_error_t *err)
{
    const char *tmpdir = getenv("TMPDIR");
    *dir = tmpdir && *tmpdir ? tmpdir : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    struct statvfs vfs;
    if (statvfs(*dir, &vfs) == 0) {
        int64_t room = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize / 2 - GSR_STR_SIZE;
        if (room < *budget)
            *budget = room;
        if (*budget < (int64_t)GSR_CHUNK_SIZE * 16)
            return gsr_fail(err, GS_RECORD_EFAIL,
                            "no room for the event spool in %s (free: %lld MiB)", *dir,
                            (long long)((int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize >> 20));
    }
    return 0;
}

int gsr_make_spool(int64_t *budget, char *path, size_t n_path, gs_error_t *err)
{
    const char *dir;
    int rc = spool_dir(budget, &dir, err);
    if (rc)
        return rc;
    snprintf(path, n_path, "%s/gilsim-spool-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return gsr_fail(err, GS_RECORD_EFAIL, "cannot create the event spool %s: %s", path,
                        strerror(errno));
    /* header, strings, then whole chunks up to the budget */
    uint64_t cap = GSR_HDR_SIZE + GSR_STR_SIZE + (uint64_t)*budget;
    cap -= (cap - GSR_HDR_SIZE - GSR_STR_SIZE) % GSR_CHUNK_SIZE;
    gsr_hdr_t h;
    memset(&h, 0, sizeof h);
    memcpy(h.magic, GSR_MAGIC, 8);
    h.version = GSR_API_VERSION;
    h.chunk_size = GSR_CHUNK_SIZE;
    h.capacity = cap;
    atomic_init(&h.next, GSR_HDR_SIZE + GSR_STR_SIZE);
    if (ftruncate(fd, (off_t)cap) != 0 || pwrite(fd, &h, sizeof h, 0) != (ssize_t)sizeof h) {
        int e = errno;
        close(fd);
        unlink(path);
        return gsr_fail(err, GS_RECORD_EFAIL, "cannot size the event spool %s: %s", path,
                        strerror(e));
    }
    close(fd);
    return 0;
}

/* ---- reading it back -------------------------------------------------------- */

static int by_time(const void *a, const void *b)
{
    const gsr_rev_t *x = a, *y = b;
    if (x->e.t != y->e.t)
        return x->e.t < y->e.t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

/* Maps the whole file read-only. */
static int map_spool(const char *path, gsr_spool_t *s, gs_error_t *err)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return gsr_fail(err, GS_RECORD_EFAIL, "cannot read the event spool %s: %s", path,
                        strerror(errno));
    }
    s->size = (size_t)st.st_size;
    s->map = mmap(NULL, s->size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (s->map == MAP_FAILED)
        return gsr_fail(err, GS_RECORD_EFAIL, "cannot map the event spool: %s", strerror(errno));
    s->h = s->map;
    return 0;
}

/* The string table: s->str[id] for every published string (ids the shim
 * handed out beyond what it published stay NULL). */
static void read_strings(gsr_spool_t *s)
{
    const char *base = s->map;
    uint32_t ids = atomic_load(&((gsr_hdr_t *)s->h)->str_ids);
    s->str = calloc((size_t)ids + 1, sizeof *s->str);
    s->n_str = ids + 1;
    uint64_t off = 0;
    while (s->str && off + sizeof(gsr_str_t) < GSR_STR_SIZE) {
        const gsr_str_t *r = (const gsr_str_t *)(base + GSR_HDR_SIZE + off);
        if (atomic_load_explicit(&((gsr_str_t *)r)->ok, memory_order_acquire) != 1)
            break;
        if (r->id <= ids)
            s->str[r->id] = (char *)r->s;
        off += (sizeof(gsr_str_t) + r->len + 1 + 7) & ~(uint64_t)7;
    }
}

/* Appends chunk c's n events to its thread, numbering them from *seq. */
static int add_chunk(gsr_spool_t *s, const gsr_chunk_t *c, uint32_t n, uint32_t *seq,
                     gs_error_t *err)
{
    gsr_rthread_t *t = &s->th[c->slot];
    t->tid = c->tid;
    if (t->n + n > t->cap) {
        size_t nc = (t->cap ? t->cap * 2 : 4096) + n;
        gsr_rev_t *ne = realloc(t->ev, nc * sizeof *ne);
        if (!ne)
            return gsr_fail(err, GS_RECORD_EFAIL, "out of memory reading the spool");
        t->ev = ne;
        t->cap = nc;
    }
    for (uint32_t k = 0; k < n; k++)
        t->ev[t->n++] = (gsr_rev_t){c->ev[k], (*seq)++};
    s->n_events += n;
    return 0;
}

/* Every chunk handed out before the program stopped, in file order. */
static int read_chunks(gsr_spool_t *s, gs_error_t *err)
{
    const char *base = s->map;
    uint64_t end = atomic_load(&((gsr_hdr_t *)s->h)->next);
    if (end > s->size)
        end = s->size - (s->size - GSR_HDR_SIZE - GSR_STR_SIZE) % GSR_CHUNK_SIZE;
    uint32_t slots = atomic_load(&((gsr_hdr_t *)s->h)->n_slots);
    s->th = calloc((size_t)slots + 1, sizeof *s->th);
    s->n_th = slots;
    if (!s->th || !s->str)
        return gsr_fail(err, GS_RECORD_EFAIL, "out of memory reading the spool");
    uint32_t seq = 0;
    for (uint64_t o = GSR_HDR_SIZE + GSR_STR_SIZE; o + GSR_CHUNK_SIZE <= end; o += GSR_CHUNK_SIZE) {
        const gsr_chunk_t *c = (const gsr_chunk_t *)(base + o);
        if (c->magic != GSR_CHUNK_MAGIC || c->slot >= slots)
            continue; /* claimed but never written (the process died at once) */
        uint32_t n = atomic_load_explicit(&((gsr_chunk_t *)c)->n, memory_order_acquire);
        if (n > GSR_CHUNK_EVENTS)
            n = GSR_CHUNK_EVENTS;
        int rc = add_chunk(s, c, n, &seq, err);
        if (rc)
            return rc;
    }
    return 0;
}

/* Sorts each thread's events in time and takes its last name. */
static void order_threads(gsr_spool_t *s)
{
    for (uint32_t i = 0; i < s->n_th; i++) {
        gsr_rthread_t *t = &s->th[i];
        if (t->n)
            qsort(t->ev, t->n, sizeof *t->ev, by_time);
        for (size_t k = 0; k < t->n; k++)
            if (t->ev[k].e.kind == GSR_EV_NAME && t->ev[k].e.arg < s->n_str)
                t->name = t->ev[k].e.arg;
    }
}

int gsr_read_spool(const char *path, gsr_spool_t *s, gs_error_t *err)
{
    memset(s, 0, sizeof *s);
    int rc = map_spool(path, s, err);
    if (rc)
        return rc;
    read_strings(s);
    rc = read_chunks(s, err);
    if (rc)
        return rc;
    order_threads(s);
    return 0;
}

void gsr_free_spool(gsr_spool_t *s)
{
    for (uint32_t i = 0; i < s->n_th && s->th; i++)
        free(s->th[i].ev);
    free(s->th);
    free(s->str);
    if (s->map && s->map != MAP_FAILED)
        munmap(s->map, s->size);
}
