/* recorder.c - gs_record_run: run a Python program under the shim and turn
 * the spool into a recording file.
 *
 * Steps: ask the interpreter what it is (and refuse what the probe cannot
 * read: not CPython, older than 3.8, free-threaded); compile the probe
 * against its headers once (cached by a hash of interpreter and sources);
 * create the spool; fork and exec the interpreter with LD_PRELOAD=shim and
 * boot.py; wait (Ctrl-C reaches the program, which is in our process
 * group; SIGTERM/SIGHUP are forwarded); read the spool back; derive the
 * release reasons and who was signalled; write the JSON atomically. */
#include "gilsim/export.h"
#include "gilsim/record.h"
#include "record_int.h"
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <sched.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <sys/utsname.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#ifndef GILSIM_RECORD_SHIM
#define GILSIM_RECORD_SHIM ""
#endif
#ifndef GILSIM_RECORD_DATA
#define GILSIM_RECORD_DATA ""
#endif
#ifndef GILSIM_RECORD_SHIM_INSTALLED
#define GILSIM_RECORD_SHIM_INSTALLED ""
#endif
#ifndef GILSIM_RECORD_DATA_INSTALLED
#define GILSIM_RECORD_DATA_INSTALLED ""
#endif

static const char *const cat_names[GSR_CAT_COUNT] = {"c",     "sleep", "io",   "lock",
                                                     "event", "queue", "join", "c_nogil"};

static int fail(gs_error_t *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static int fail(gs_error_t *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = GS_EINVAL;
    return code;
}

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

static bool readable(const char *p)
{
    return p && *p && access(p, R_OK) == 0;
}

/* ---- running a helper and capturing its output --------------------------- */

/* Runs argv with stdout (and stderr when errfile) captured; returns the
 * malloc'ed output or NULL, *status = wait status or -1 if exec failed with
 * *exec_errno. */
static char *capture(char *const argv[], const char *errfile, int *status, int *exec_errno)
{
    int pfd[2], efd[2];
    if (pipe(pfd) != 0)
        return NULL;
    if (pipe(efd) != 0) {
        close(pfd[0]);
        close(pfd[1]);
        return NULL;
    }
    fcntl(efd[1], F_SETFD, FD_CLOEXEC);
    pid_t pid = fork();
    if (pid < 0) {
        close(pfd[0]), close(pfd[1]), close(efd[0]), close(efd[1]);
        return NULL;
    }
    if (pid == 0) {
        dup2(pfd[1], 1);
        int fd = open(errfile ? errfile : "/dev/null", O_WRONLY | O_CREAT | O_TRUNC, 0600);
        if (fd >= 0)
            dup2(fd, 2);
        close(pfd[0]);
        execvp(argv[0], argv);
        int e = errno;
        if (write(efd[1], &e, sizeof e) < 0)
            _exit(127);
        _exit(127);
    }
    close(pfd[1]);
    close(efd[1]);
    size_t n = 0;
    char *buf = gsr_read_all(pfd[0], &n);
    close(pfd[0]);
    *exec_errno = 0;
    if (read(efd[0], exec_errno, sizeof *exec_errno) != (ssize_t)sizeof *exec_errno)
        *exec_errno = 0;
    close(efd[0]);
    while (waitpid(pid, status, 0) < 0 && errno == EINTR)
        ;
    if (*exec_errno) {
        *status = -1;
        free(buf);
        return NULL;
    }
    return buf;
}

/* ---- what the interpreter is ------------------------------------------- */

typedef struct pyinfo {
    cJSON *json; /* the interpreter's answer */
    const char *exe, *include, *impl, *full;
    int major, minor, micro;
    bool gil_disabled;
} pyinfo_t;

static const char query_py[] =
    "import sys, json, sysconfig, platform\n"
    "v = sysconfig.get_config_var\n"
    "print(json.dumps({'impl': sys.implementation.name, 'version': list(sys.version_info[:3]),\n"
    " 'full': sys.version, 'executable': sys.executable,\n"
    " 'include': sysconfig.get_paths().get('include', ''),\n"
    " 'gil_disabled': bool(v('Py_GIL_DISABLED')), 'shared': bool(v('Py_ENABLE_SHARED')),\n"
    " 'config_args': v('CONFIG_ARGS') or '', 'cc': v('CC') or '', 'soabi': v('SOABI') or '',\n"
    " 'compiler': platform.python_compiler(), 'switch_interval_s': sys.getswitchinterval()}))\n";

static const char query_py2[] = "import sys; print('{\"impl\": \"%s\", \"version\": [%d, %d, %d]}'"
                                " % ((getattr(sys, 'subversion', None) or ('cpython',))[0].lower(),"
                                " sys.version_info[0], sys.version_info[1], sys.version_info[2]))";

static int query_python(const char *python, pyinfo_t *pi, gs_error_t *err)
{
    char *argv[] = {(char *)python, "-c", (char *)query_py, NULL};
    int status = 0, eno = 0;
    char *out = capture(argv, NULL, &status, &eno);
    if (!out && status == -1)
        return fail(err, eno == ENOENT ? GS_RECORD_ENOENT : GS_RECORD_ENOEXEC,
                    "cannot run the Python interpreter '%s': %s%s", python, strerror(eno),
                    eno == ENOENT ? " (give one with --python PATH)" : "");
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    free(out);
    if (!j) {
        /* Python 2 or something else: ask in a way every Python understands. */
        char *argv2[] = {(char *)python, "-c", (char *)query_py2, NULL};
        out = capture(argv2, NULL, &status, &eno);
        cJSON *j2 = out ? cJSON_Parse(out) : NULL;
        free(out);
        const cJSON *v = cJSON_GetObjectItem(j2, "version");
        int maj = cJSON_GetNumberValue(cJSON_GetArrayItem(v, 0)),
            min = cJSON_GetNumberValue(cJSON_GetArrayItem(v, 1));
        cJSON_Delete(j2);
        if (j2)
            return fail(err, GS_RECORD_ENOEXEC,
                        "'%s' is Python %d.%d; gilsim record supports CPython 3.8 and later "
                        "with the GIL (3.8 to 3.13 are tested)",
                        python, maj, min);
        return fail(err, GS_RECORD_ENOEXEC,
                    "'%s' did not answer as a Python interpreter (exit status %d); gilsim record "
                    "needs CPython 3.8 or later",
                    python, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
    }
    pi->json = j;
    pi->impl = cJSON_GetStringValue(cJSON_GetObjectItem(j, "impl"));
    pi->exe = cJSON_GetStringValue(cJSON_GetObjectItem(j, "executable"));
    pi->include = cJSON_GetStringValue(cJSON_GetObjectItem(j, "include"));
    pi->full = cJSON_GetStringValue(cJSON_GetObjectItem(j, "full"));
    const cJSON *v = cJSON_GetObjectItem(j, "version");
    pi->major = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(v, 0));
    pi->minor = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(v, 1));
    pi->micro = (int)cJSON_GetNumberValue(cJSON_GetArrayItem(v, 2));
    pi->gil_disabled = cJSON_IsTrue(cJSON_GetObjectItem(j, "gil_disabled"));
    if (!pi->impl || strcmp(pi->impl, "cpython") != 0)
        return fail(err, GS_RECORD_ENOEXEC,
                    "'%s' is %s %d.%d; gilsim record supports CPython 3.8 and later only (it "
                    "reads CPython's own GIL)",
                    python, pi->impl ? pi->impl : "an unknown Python", pi->major, pi->minor);
    if (pi->major < 3 || (pi->major == 3 && pi->minor < 8))
        return fail(err, GS_RECORD_ENOEXEC,
                    "'%s' is CPython %d.%d.%d; gilsim record supports CPython 3.8 and later",
                    python, pi->major, pi->minor, pi->micro);
    if (pi->gil_disabled)
        return fail(err, GS_RECORD_ENOEXEC,
                    "'%s' is a free-threaded CPython %d.%d build (no GIL to record); gilsim "
                    "record supports CPython 3.8 and later with the GIL",
                    python, pi->major, pi->minor);
    if (!pi->exe || !*pi->exe)
        return fail(err, GS_RECORD_ENOEXEC, "'%s' does not know its own executable path", python);
    return 0;
}

/* ---- the probe ----------------------------------------------------------- */

static const char *data_dir(void)
{
    const char *e = getenv("GILSIM_RECORD_DATA");
    if (e && *e)
        return e;
    char p[4096];
    snprintf(p, sizeof p, "%s/probe.c", GILSIM_RECORD_DATA);
    if (readable(p))
        return GILSIM_RECORD_DATA;
    return GILSIM_RECORD_DATA_INSTALLED;
}

static const char *shim_path(void)
{
    const char *e = getenv("GILSIM_RECORD_SHIM");
    if (e && *e)
        return e;
    if (readable(GILSIM_RECORD_SHIM))
        return GILSIM_RECORD_SHIM;
    return GILSIM_RECORD_SHIM_INSTALLED;
}

static uint64_t fnv(uint64_t h, const void *p, size_t n)
{
    const unsigned char *b = p;
    for (size_t i = 0; i < n; i++)
        h = (h ^ b[i]) * 1099511628211ull;
    return h;
}

static uint64_t hash_file(uint64_t h, const char *path)
{
    FILE *f = fopen(path, "rb");
    if (!f)
        return h;
    char buf[8192];
    size_t n;
    while ((n = fread(buf, 1, sizeof buf, f)) > 0)
        h = fnv(h, buf, n);
    fclose(f);
    return h;
}

static int mkdirs(const char *path)
{
    char p[4096];
    snprintf(p, sizeof p, "%s", path);
    for (char *s = p + 1; *s; s++) {
        if (*s != '/')
            continue;
        *s = 0;
        mkdir(p, 0700);
        *s = '/';
    }
    return mkdir(p, 0700) == 0 || errno == EEXIST ? 0 : -1;
}

static int build_probe(const pyinfo_t *pi, bool verbose, char *out, size_t n_out, gs_error_t *err)
{
    const char *dd = data_dir();
    char src[4096], hdr[4096], py_h[4096], dir[2048];
    snprintf(src, sizeof src, "%s/probe.c", dd);
    snprintf(hdr, sizeof hdr, "%s/spool.h", dd); /* installed: beside probe.c */
    if (!readable(hdr))
        snprintf(hdr, sizeof hdr, "%s/../spool.h", dd); /* source tree: the layer's */
    if (!readable(src) || !readable(hdr))
        return fail(err, GS_RECORD_EFAIL,
                    "the probe sources are missing (looked for %s); set GILSIM_RECORD_DATA to "
                    "the folder holding probe.c, spool.h and boot.py",
                    src);
    snprintf(py_h, sizeof py_h, "%s/Python.h", pi->include ? pi->include : "");
    if (!readable(py_h))
        return fail(err, GS_RECORD_ENOEXEC,
                    "no C headers for %s (looked for %s): gilsim record compiles a small probe "
                    "against them; on Debian install python3-dev (or python%d.%d-dev)",
                    pi->exe, py_h, pi->major, pi->minor);
    uint64_t h = 1469598103934665603ull;
    h = fnv(h, pi->exe, strlen(pi->exe));
    h = fnv(h, pi->full ? pi->full : "", strlen(pi->full ? pi->full : ""));
    h = fnv(h, py_h, strlen(py_h));
    h = hash_file(h, src);
    h = hash_file(h, hdr);
    h = hash_file(h, py_h);
    const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (cache && *cache)
        snprintf(dir, sizeof dir, "%s/gilsim", cache);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.cache/gilsim", home);
    else
        snprintf(dir, sizeof dir, "/tmp/gilsim-%d", (int)getuid());
    if (mkdirs(dir) != 0)
        return fail(err, GS_RECORD_EFAIL, "cannot create the probe cache %s: %s", dir,
                    strerror(errno));
    snprintf(out, n_out, "%s/probe-%d.%d-%016llx.so", dir, pi->major, pi->minor,
             (unsigned long long)h);
    if (readable(out))
        return 0;
    char tmp[4200], log[4200], inc1[4200], inc2[4200], inc3[4200];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", out, (int)getpid());
    snprintf(log, sizeof log, "%s.%d.log", out, (int)getpid());
    snprintf(inc1, sizeof inc1, "-I%s", pi->include);
    snprintf(inc2, sizeof inc2, "-I%s", dd);
    snprintf(inc3, sizeof inc3, "-I%s/..", dd);
    const char *cc = getenv("CC");
    if (!cc || !*cc)
        cc = "cc";
    if (verbose)
        fprintf(stderr, "gilsim record: compiling the probe for %s with %s\n", pi->exe, cc);
    char *argv[] = {(char *)cc, "-std=gnu11", "-O2", "-shared", "-fPIC", "-w", inc1, inc2, inc3, src,
                    "-o", tmp, NULL};
    int status = 0, eno = 0;
    char *o = capture(argv, log, &status, &eno);
    free(o);
    if (status != 0) {
        char msg[200] = "";
        FILE *f = fopen(log, "r");
        if (f) {
            char line[200];
            while (fgets(line, sizeof line, f))
                if (strstr(line, "error"))
                    snprintf(msg, sizeof msg, "%s", line);
            fclose(f);
        }
        msg[strcspn(msg, "\n")] = 0;
        unlink(tmp);
        unlink(log);
        return fail(err, GS_RECORD_EFAIL,
                    "could not compile the probe for %s with %s%s%s%s (the C compiler and the "
                    "interpreter's headers are needed)",
                    pi->exe, cc, status == -1 ? ": " : "", status == -1 ? strerror(eno) : "",
                    *msg ? msg : "");
    }
    unlink(log);
    if (rename(tmp, out) != 0) {
        unlink(tmp);
        return fail(err, GS_RECORD_EFAIL, "cannot store the probe in %s: %s", out,
                    strerror(errno));
    }
    return 0;
}

/* ---- the spool ------------------------------------------------------------ */

/* The spool lives in memory (/dev/shm) unless TMPDIR says otherwise, so the
 * kernel never writes it back to a disk while the program runs. It is a
 * sparse file: a write into a hole that the file system cannot fill would
 * kill the program with SIGBUS, so the budget is cut to half the free space. */
static int make_spool(int64_t *budget, char *path, size_t n_path, gs_error_t *err)
{
    const char *tmpdir = getenv("TMPDIR");
    const char *dir = tmpdir && *tmpdir ? tmpdir : access("/dev/shm", W_OK) == 0 ? "/dev/shm" : "/tmp";
    struct statvfs vfs;
    if (statvfs(dir, &vfs) == 0) {
        int64_t room = (int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize / 2 - GSR_STR_SIZE;
        if (room < *budget)
            *budget = room;
        if (*budget < (int64_t)GSR_CHUNK_SIZE * 16)
            return fail(err, GS_RECORD_EFAIL, "no room for the event spool in %s (free: %lld MiB)",
                        dir, (long long)((int64_t)vfs.f_bavail * (int64_t)vfs.f_frsize >> 20));
    }
    snprintf(path, n_path, "%s/gilsim-spool-XXXXXX", dir);
    int fd = mkstemp(path);
    if (fd < 0)
        return fail(err, GS_RECORD_EFAIL, "cannot create the event spool %s: %s", path,
                    strerror(errno));
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
        return fail(err, GS_RECORD_EFAIL, "cannot size the event spool %s: %s", path,
                    strerror(e));
    }
    close(fd);
    return 0;
}

typedef struct rev { /* a raw event and the order it was written in */
    gsr_event_t e;
    uint32_t seq;
} rev_t;

typedef struct rthread {
    int32_t tid;
    uint32_t name;
    rev_t *ev;
    size_t n, cap;
} rthread_t;

typedef struct spool {
    void *map;
    size_t size;
    const gsr_hdr_t *h;
    char **str; /* by id */
    uint32_t n_str;
    rthread_t *th;
    uint32_t n_th;
    int64_t n_events;
} spool_t;

static int by_time(const void *a, const void *b)
{
    const rev_t *x = a, *y = b;
    if (x->e.t != y->e.t)
        return x->e.t < y->e.t ? -1 : 1;
    return (x->seq > y->seq) - (x->seq < y->seq);
}

static int read_spool(const char *path, spool_t *s, gs_error_t *err)
{
    memset(s, 0, sizeof *s);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0 || fstat(fd, &st) != 0) {
        if (fd >= 0)
            close(fd);
        return fail(err, GS_RECORD_EFAIL, "cannot read the event spool %s: %s", path,
                    strerror(errno));
    }
    s->size = (size_t)st.st_size;
    s->map = mmap(NULL, s->size, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (s->map == MAP_FAILED)
        return fail(err, GS_RECORD_EFAIL, "cannot map the event spool: %s", strerror(errno));
    s->h = s->map;
    const char *base = s->map;
    /* strings */
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
    /* chunks */
    uint64_t end = atomic_load(&((gsr_hdr_t *)s->h)->next);
    if (end > s->size)
        end = s->size - (s->size - GSR_HDR_SIZE - GSR_STR_SIZE) % GSR_CHUNK_SIZE;
    uint32_t slots = atomic_load(&((gsr_hdr_t *)s->h)->n_slots);
    s->th = calloc((size_t)slots + 1, sizeof *s->th);
    s->n_th = slots;
    if (!s->th || !s->str)
        return fail(err, GS_RECORD_EFAIL, "out of memory reading the spool");
    uint32_t seq = 0;
    for (uint64_t o = GSR_HDR_SIZE + GSR_STR_SIZE; o + GSR_CHUNK_SIZE <= end; o += GSR_CHUNK_SIZE) {
        const gsr_chunk_t *c = (const gsr_chunk_t *)(base + o);
        if (c->magic != GSR_CHUNK_MAGIC || c->slot >= slots)
            continue; /* claimed but never written (the process died at once) */
        uint32_t n = atomic_load_explicit(&((gsr_chunk_t *)c)->n, memory_order_acquire);
        if (n > GSR_CHUNK_EVENTS)
            n = GSR_CHUNK_EVENTS;
        rthread_t *t = &s->th[c->slot];
        t->tid = c->tid;
        if (t->n + n > t->cap) {
            size_t nc = (t->cap ? t->cap * 2 : 4096) + n;
            rev_t *ne = realloc(t->ev, nc * sizeof *ne);
            if (!ne)
                return fail(err, GS_RECORD_EFAIL, "out of memory reading the spool");
            t->ev = ne;
            t->cap = nc;
        }
        for (uint32_t k = 0; k < n; k++)
            t->ev[t->n++] = (rev_t){c->ev[k], seq++};
        s->n_events += n;
    }
    for (uint32_t i = 0; i < slots; i++) {
        rthread_t *t = &s->th[i];
        if (t->n)
            qsort(t->ev, t->n, sizeof *t->ev, by_time);
        for (size_t k = 0; k < t->n; k++)
            if (t->ev[k].e.kind == GSR_EV_NAME && t->ev[k].e.arg < s->n_str)
                t->name = t->ev[k].e.arg;
    }
    return 0;
}

static void free_spool(spool_t *s)
{
    for (uint32_t i = 0; i < s->n_th && s->th; i++)
        free(s->th[i].ev);
    free(s->th);
    free(s->str);
    if (s->map && s->map != MAP_FAILED)
        munmap(s->map, s->size);
}

/* ---- the recording file -------------------------------------------------- */

static void jstr(FILE *f, const char *s)
{
    fputc('"', f);
    for (const unsigned char *p = (const unsigned char *)(s ? s : ""); *p; p++) {
        if (*p == '"' || *p == '\\')
            fprintf(f, "\\%c", *p);
        else if (*p < 0x20)
            fprintf(f, "\\u%04x", *p);
        else
            fputc(*p, f);
    }
    fputc('"', f);
}

typedef struct writer {
    const spool_t *s;
    const pyinfo_t *pi;
    const gs_record_opts_t *o;
    int64_t t0, t_end;
    int exit_status, exit_signal;
    const char *partial; /* NULL, or why */
    time_t started;
    int64_t *requests; /* every drop request time, sorted */
    size_t n_requests;
    const gsr_calib_t *calib; /* the host's costs, or NULL */
} writer_t;

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

/* Which thread (index) is woken by a signal at t: the first GIL waiter
 * whose timed wait returns because of a signal after t. -1 if none. */
static int signalled(const writer_t *w, int64_t t, uint32_t self)
{
    int best = -1;
    int64_t best_t = INT64_MAX;
    for (uint32_t i = 0; i < w->s->n_th; i++) {
        if (i == self)
            continue;
        const rthread_t *th = &w->s->th[i];
        size_t lo = 0, hi = th->n;
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (th->ev[mid].e.t <= t)
                lo = mid + 1;
            else
                hi = mid;
        }
        for (size_t k = lo; k < th->n; k++) {
            int kind = th->ev[k].e.kind;
            if (kind == GSR_EV_WOKEN) {
                if (th->ev[k].e.t < best_t) {
                    best_t = th->ev[k].e.t;
                    best = (int)i;
                }
                break;
            }
            if (kind == GSR_EV_HOLD || kind == GSR_EV_REQUEST || kind == GSR_EV_TIMEOUT)
                break; /* it was not sleeping on the condition then */
        }
    }
    return best;
}

static bool request_between(const writer_t *w, int64_t a, int64_t b)
{
    size_t lo = 0, hi = w->n_requests;
    while (lo < hi) {
        size_t mid = (lo + hi) / 2;
        if (w->requests[mid] <= a)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo < w->n_requests && w->requests[lo] < b;
}

typedef struct open_span {
    int64_t t0;
    int kind; /* GSR_EV_CALL, GSR_EV_CTX, GSR_EV_SEM_WAIT, GSR_EV_PY */
    int cat;
    uint32_t name;
} open_span_t;

static void write_span(FILE *f, const writer_t *w, const open_span_t *sp, int64_t t1, int released,
                       bool *first)
{
    const spool_t *s = w->s;
    const char *name = sp->name < s->n_str && s->str[sp->name] ? s->str[sp->name] : "";
    fprintf(f, "%s\n      [%lld, ", *first ? "" : ",", (long long)(sp->t0 - w->t0));
    *first = false;
    if (sp->kind == GSR_EV_SEM_WAIT || sp->kind == GSR_EV_PY) {
        fprintf(f, "\"%s\", %lld]", sp->kind == GSR_EV_PY ? "py" : "lock_wait",
                (long long)(t1 - w->t0));
        return;
    }
    fprintf(f, "\"%s\", %lld, ", sp->kind == GSR_EV_CALL ? "call" : "wait",
            (long long)(t1 - w->t0));
    jstr(f, name);
    fprintf(f, ", \"%s\"", cat_names[sp->cat < GSR_CAT_COUNT ? sp->cat : 0]);
    if (sp->kind == GSR_EV_CALL)
        fprintf(f, ", %s", released ? "true" : "false");
    fputc(']', f);
}

/* One thread's events. Spans are written when they close, so the file is
 * sorted by end for spans; the loader sorts. */
static void write_thread(FILE *f, const writer_t *w, uint32_t i)
{
    const rthread_t *th = &w->s->th[i];
    const spool_t *s = w->s;
    bool first = true;
    open_span_t stack[64];
    int depth = 0;
    int64_t hold_t = -1;
    bool ended = false;
    size_t last_take = 0; /* the thread's last ask or hold: releases after it are its last */
    for (size_t k = 0; k < th->n; k++)
        if (th->ev[k].e.kind == GSR_EV_ASK || th->ev[k].e.kind == GSR_EV_HOLD)
            last_take = k;
    for (size_t k = 0; k < th->n; k++) {
        const gsr_event_t *e = &th->ev[k].e;
        long long t = (long long)(e->t - w->t0);
        const char *simple = NULL;
        switch (e->kind) {
        case GSR_EV_HOLD:
            hold_t = e->t;
            simple = "hold";
            break;
        case GSR_EV_ASK: simple = "ask"; break;
        case GSR_EV_REQUEST: simple = "drop_request"; break;
        case GSR_EV_TIMEOUT: simple = "timeout"; break;
        case GSR_EV_WOKEN: simple = e->x ? "futile_wakeup" : "woken"; break;
        case GSR_EV_SWITCH_WAIT: simple = "switch_wait"; break;
        case GSR_EV_SWITCH_DONE: simple = "switch_done"; break;
        case GSR_EV_START: simple = "start"; break;
        case GSR_EV_END:
            simple = "end";
            ended = true;
            break;
        case GSR_EV_SIGNAL: {
            int who = signalled(w, e->t, i);
            fprintf(f, "%s\n      [%lld, \"signal\", %d]", first ? "" : ",", t, who);
            first = false;
            break;
        }
        case GSR_EV_RELEASE: {
            /* Why: inside a named call or blocking API -> "call"; a drop
             * request during the hold and no call open -> "forced"; the
             * thread's last release -> "exit"; otherwise C code the
             * profiler did not see released it -> "unnamed". */
            const char *why = "unnamed";
            bool last = k > last_take;
            bool sem_next = k + 1 < th->n && th->ev[k + 1].e.kind == GSR_EV_SEM_WAIT;
            bool in_call = depth > 0 && (depth > 64 || stack[depth - 1].kind != GSR_EV_PY);
            if (in_call || sem_next)
                why = "call";
            else if (hold_t >= 0 && request_between(w, hold_t, e->t))
                why = "forced";
            else if (last)
                why = "exit";
            fprintf(f, "%s\n      [%lld, \"release\", \"%s\"]", first ? "" : ",", t, why);
            first = false;
            break;
        }
        case GSR_EV_CALL:
        case GSR_EV_CTX:
        case GSR_EV_SEM_WAIT:
        case GSR_EV_PY:
            if (depth < 64)
                stack[depth] = (open_span_t){e->t, e->kind, e->cat, e->arg};
            depth++;
            break;
        case GSR_EV_CALL_END:
        case GSR_EV_CTX_END:
        case GSR_EV_SEM_DONE:
        case GSR_EV_PY_END: {
            int want = e->kind == GSR_EV_CALL_END  ? GSR_EV_CALL
                       : e->kind == GSR_EV_CTX_END ? GSR_EV_CTX
                       : e->kind == GSR_EV_PY_END  ? GSR_EV_PY
                                                   : GSR_EV_SEM_WAIT;
            /* close the innermost span of that kind (they nest) */
            int d = depth < 64 ? depth : 64;
            for (int j = d - 1; j >= 0; j--) {
                if (stack[j].kind != want)
                    continue;
                write_span(f, w, &stack[j], e->t, e->x, &first);
                memmove(&stack[j], &stack[j + 1], (size_t)(d - 1 - j) * sizeof *stack);
                depth--;
                break;
            }
            break;
        }
        default: break;
        }
        if (simple) {
            fprintf(f, "%s\n      [%lld, \"%s\"]", first ? "" : ",", t, simple);
            first = false;
        }
    }
    /* Spans still open when the program stopped end with it. */
    for (int j = (depth < 64 ? depth : 64) - 1; j >= 0; j--)
        write_span(f, w, &stack[j], w->t_end, 0, &first);
    (void)s;
    (void)ended;
}

static int write_recording(FILE *f, void *ctx)
{
    const writer_t *w = ctx;
    const spool_t *s = w->s;
    const gsr_hdr_t *h = s->h;
    struct utsname u;
    memset(&u, 0, sizeof u);
    uname(&u);
    char when[64];
    struct tm tm;
    gmtime_r(&w->started, &tm);
    strftime(when, sizeof when, "%Y-%m-%dT%H:%M:%SZ", &tm);
    fprintf(f, "{\n  \"format\": \"%s\",\n  \"version\": %d,\n", GS_RECORDING_FORMAT,
            GS_RECORDING_VERSION);
    fprintf(f, "  \"partial\": %s,\n  \"partial_reason\": ", w->partial ? "true" : "false");
    jstr(f, w->partial ? w->partial : "");
    fprintf(f, ",\n  \"recorded_at\": \"%s\",\n  \"command\": [", when);
    jstr(f, w->pi->exe);
    if (w->o->module)
        fputs(", \"-m\"", f);
    fputs(", ", f);
    jstr(f, w->o->target);
    for (int i = 0; i < w->o->n_args; i++) {
        fputs(", ", f);
        jstr(f, w->o->args[i]);
    }
    fprintf(f, "],\n  \"exit_status\": %d,\n  \"exit_signal\": %d,\n", w->exit_status,
            w->exit_signal);
    char *py = cJSON_PrintUnformatted(w->pi->json);
    fprintf(f, "  \"interpreter\": %s,\n", py ? py : "{}");
    free(py);
    fprintf(f, "  \"switch_interval_ns\": %lld,\n", (long long)h->switch_interval_ns);
    fprintf(f, "  \"calls\": \"%s\",\n", w->o->calls_all ? "all" : "blocking");
    /* cores: the CPUs the program could run on (its affinity, inherited from
     * us: `taskset -c 0 gilsim record ...` records a one-core run), which is
     * what a fit's machine needs; cores_online: the machine's. */
    long online = sysconf(_SC_NPROCESSORS_ONLN);
    cpu_set_t set;
    int cores = sched_getaffinity(0, sizeof set, &set) == 0 ? CPU_COUNT(&set) : (int)online;
    fprintf(f, "  \"host\": {\"cores\": %d, \"cores_online\": %ld, \"kernel\": ",
            cores > 0 ? cores : 1, online > 0 ? online : 1);
    jstr(f, u.release);
    fputs(", \"system\": ", f);
    jstr(f, u.sysname);
    fputs(", \"machine\": ", f);
    jstr(f, u.machine);
    fputs(", \"hostname\": ", f);
    jstr(f, u.nodename);
    fputs("},\n", f);
    if (w->calib)
        fprintf(f, "  \"calibration\": {\"syscall_ns\": %lld, \"wake_hot_ns\": %lld, "
                   "\"context_switch_ns\": %lld, \"wake_cold_ns\": %lld, \"timer_jitter_ns\": "
                   "%lld},\n",
                (long long)w->calib->syscall_ns, (long long)w->calib->wake_hot_ns,
                (long long)w->calib->context_switch_ns, (long long)w->calib->wake_cold_ns,
                (long long)w->calib->timer_jitter_ns);
    fprintf(f, "  \"clock\": \"CLOCK_MONOTONIC\",\n  \"t0_monotonic_ns\": %lld,\n",
            (long long)w->t0);
    fprintf(f, "  \"duration_ns\": %lld,\n", (long long)(w->t_end - w->t0));
    fprintf(f, "  \"events_recorded\": %lld,\n", (long long)s->n_events);
    fprintf(f, "  \"forks\": %u,\n  \"child_processes\": %u,\n", atomic_load(&((gsr_hdr_t *)h)->forks),
            atomic_load(&((gsr_hdr_t *)h)->execs));
    uint32_t unnamed = 0;
    for (uint32_t i = 0; i < s->n_th; i++)
        if (!s->th[i].name)
            unnamed++;
    fprintf(f, "  \"threads_not_from_threading\": %u,\n  \"notes\": [", unnamed);
    bool first = true;
#define NOTE(...)                                                                                  \
    do {                                                                                           \
        char b_[512];                                                                              \
        snprintf(b_, sizeof b_, __VA_ARGS__);                                                      \
        fputs(first ? "\n    " : ",\n    ", f);                                                    \
        jstr(f, b_);                                                                               \
        first = false;                                                                             \
    } while (0)
    if (h->forks)
        NOTE("the program forked %u time(s); children are not followed", h->forks);
    if (h->execs)
        NOTE("the program started %u other process(es) that inherited the shim; they are not "
             "recorded",
             h->execs);
    if (unnamed)
        NOTE("%u thread(s) took the GIL without being started by threading (threads started "
             "from C, or _thread): their GIL events are recorded, their calls are not named",
             unnamed);
    if (atomic_load(&((gsr_hdr_t *)h)->overflow))
        NOTE("the event budget ran out at %.3f s; nothing after that is recorded (raise "
             "--max-mb)",
             (double)(atomic_load(&((gsr_hdr_t *)h)->overflow_ns) - w->t0) / 1e9);
#undef NOTE
    fputs(first ? "],\n" : "\n  ],\n", f);
    fputs("  \"threads\": [", f);
    for (uint32_t i = 0; i < s->n_th; i++) {
        const rthread_t *th = &s->th[i];
        char name[64];
        const char *nm = th->name < s->n_str && s->str[th->name] ? s->str[th->name] : NULL;
        if (!nm) {
            snprintf(name, sizeof name, "thread-%d", (int)th->tid);
            nm = name;
        }
        fprintf(f, "%s\n    {\"index\": %u, \"name\": ", i ? "," : "", i);
        jstr(f, nm);
        fprintf(f, ", \"tid\": %d, \"from_threading\": %s", (int)th->tid,
                th->name ? "true" : "false");
        /* the kernel's totals, for threads that ended before the process */
        for (size_t k = 0; k < th->n; k++)
            if (th->ev[k].e.kind == GSR_EV_SCHED)
                fprintf(f, ", \"%s\": %lld", th->ev[k].e.x ? "os_run_delay_ns" : "os_cpu_ns",
                        (long long)th->ev[k].e.arg * 1000);
        fputs(", \"events\": [", f);
        write_thread(f, w, i);
        fputs("\n    ]}", f);
    }
    fputs("\n  ]\n}\n", f);
    return ferror(f) ? GS_EIO : 0;
}

/* ---- running the program -------------------------------------------------- */

static volatile sig_atomic_t g_child, g_forwarded;

static void forward(int sig)
{
    if (g_child > 0)
        kill((pid_t)g_child, sig);
    g_forwarded = sig;
}

static int check_writable(const char *out, gs_error_t *err)
{
    char dir[4096];
    snprintf(dir, sizeof dir, "%s", out);
    char *slash = strrchr(dir, '/');
    if (slash)
        slash == dir ? (void)(dir[1] = 0) : (void)(*slash = 0);
    else
        snprintf(dir, sizeof dir, ".");
    struct stat st;
    if (stat(out, &st) == 0 && S_ISDIR(st.st_mode))
        return fail(err, GS_RECORD_EFAIL, "cannot write the recording %s: it is a folder", out);
    if (access(dir, W_OK) != 0)
        return fail(err, GS_RECORD_EFAIL, "cannot write the recording %s: %s%s%s", out,
                    strerror(errno), errno == ENOENT ? ", no folder " : "",
                    errno == ENOENT ? dir : "");
    return 0;
}

int gs_record_run(const gs_record_opts_t *o, gs_record_result_t *res, gs_error_t *err)
{
    memset(res, 0, sizeof *res);
    memset(err, 0, sizeof *err);
    const char *python = o->python ? o->python : "python3";
    if (!o->target || !*o->target)
        return fail(err, GS_RECORD_EFAIL, "no program given");
    pyinfo_t pi;
    memset(&pi, 0, sizeof pi);
    int rc = query_python(python, &pi, err);
    if (!rc && !o->module) {
        struct stat st;
        if (stat(o->target, &st) != 0)
            rc = fail(err, GS_RECORD_EFAIL, "cannot run %s: %s", o->target, strerror(errno));
        else if (S_ISDIR(st.st_mode) || access(o->target, R_OK) != 0)
            rc = fail(err, GS_RECORD_EFAIL, "cannot run %s: %s", o->target,
                      S_ISDIR(st.st_mode) ? "it is a folder (use -m for a package)"
                                          : strerror(errno));
    }
    if (!rc)
        rc = check_writable(o->out, err);
    if (rc) {
        cJSON_Delete(pi.json);
        return rc;
    }
    const char *shim = shim_path();
    char boot[4096];
    snprintf(boot, sizeof boot, "%s/boot.py", data_dir());
    if (!readable(shim) || !readable(boot))
        rc = fail(err, GS_RECORD_EFAIL,
                  "the recorder's files are missing (shim %s, boot %s); set GILSIM_RECORD_SHIM "
                  "and GILSIM_RECORD_DATA",
                  shim, boot);
    char probe[4096];
    if (!rc)
        rc = build_probe(&pi, o->verbose, probe, sizeof probe, err);
    char spool[4096] = "";
    int64_t budget = o->max_bytes > 0 ? o->max_bytes : (int64_t)256 << 20;
    if (!rc)
        rc = make_spool(&budget, spool, sizeof spool, err);
    if (rc) {
        cJSON_Delete(pi.json);
        return rc;
    }

    /* the host's costs, for gilsim fit: measured before the program runs */
    gsr_calib_t calib;
    bool have_calib = gsr_calibrate(&calib) == 0;

    /* argv: EXE boot.py PROBE mode TARGET ARGS... */
    int argc = 5 + o->n_args;
    char **argv = calloc((size_t)argc + 1, sizeof *argv);
    char *preload = NULL;
    const char *old = getenv("LD_PRELOAD");
    if (argv && asprintf(&preload, "%s%s%s", shim, old && *old ? " " : "", old ? old : "") < 0)
        preload = NULL;
    if (!argv || !preload) {
        free(argv);
        unlink(spool);
        cJSON_Delete(pi.json);
        return fail(err, GS_RECORD_EFAIL, "out of memory");
    }
    argv[0] = (char *)pi.exe;
    argv[1] = boot;
    argv[2] = probe;
    argv[3] = o->module ? "module" : "script";
    argv[4] = (char *)o->target;
    for (int i = 0; i < o->n_args; i++)
        argv[5 + i] = o->args[i];

    struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward}, old_int,
                     old_quit, old_term, old_hup;
    sigemptyset(&ign.sa_mask);
    sigemptyset(&fwd.sa_mask);
    sigaction(SIGINT, &ign, &old_int);
    sigaction(SIGQUIT, &ign, &old_quit);
    sigaction(SIGTERM, &fwd, &old_term);
    sigaction(SIGHUP, &fwd, &old_hup);
    g_forwarded = 0;
    fflush(NULL);
    time_t started = time(NULL);
    pid_t pid = fork();
    if (pid == 0) {
        sigaction(SIGINT, &old_int, NULL);
        sigaction(SIGQUIT, &old_quit, NULL);
        sigaction(SIGTERM, &old_term, NULL);
        sigaction(SIGHUP, &old_hup, NULL);
        char pidbuf[32];
        snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
        setenv("GILSIM_REC_PID", pidbuf, 1);
        setenv("GILSIM_REC_SPOOL", spool, 1);
        setenv("LD_PRELOAD", preload, 1);
        setenv("GILSIM_REC_PROFILE", o->calls_all ? "1" : "0", 1);
        if (o->switch_interval_ns > 0) {
            char iv[32];
            snprintf(iv, sizeof iv, "%lld", (long long)o->switch_interval_ns);
            setenv("GILSIM_REC_SWITCH_INTERVAL_NS", iv, 1);
        } else {
            unsetenv("GILSIM_REC_SWITCH_INTERVAL_NS");
        }
        execv(pi.exe, argv);
        fprintf(stderr, "gilsim record: cannot run %s: %s\n", pi.exe, strerror(errno));
        _exit(GS_RECORD_ENOEXEC);
    }
    free(preload);
    free(argv);
    int status = 0;
    if (pid > 0) {
        g_child = pid;
        while (waitpid(pid, &status, 0) < 0 && errno == EINTR)
            ;
        g_child = 0;
    }
    int64_t t_end = mono_ns();
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGQUIT, &old_quit, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    sigaction(SIGHUP, &old_hup, NULL);
    if (pid < 0) {
        unlink(spool);
        cJSON_Delete(pi.json);
        return fail(err, GS_RECORD_EFAIL, "cannot start the program: %s", strerror(errno));
    }
    writer_t w = {.pi = &pi, .o = o, .t_end = t_end, .started = started,
                  .calib = have_calib ? &calib : NULL};
    if (WIFEXITED(status)) {
        w.exit_status = WEXITSTATUS(status);
    } else if (WIFSIGNALED(status)) {
        w.exit_signal = WTERMSIG(status);
        w.exit_status = 128 + w.exit_signal;
    }
    res->exit_status = w.exit_status;

    spool_t s;
    rc = read_spool(spool, &s, err);
    unlink(spool);
    if (rc) {
        free_spool(&s);
        cJSON_Delete(pi.json);
        return rc;
    }
    if (!atomic_load(&((gsr_hdr_t *)s.h)->registered)) {
        free_spool(&s);
        cJSON_Delete(pi.json);
        return fail(err, GS_RECORD_EFAIL,
                    "the program ended (exit status %d) before the recording started; no "
                    "recording written",
                    w.exit_status);
    }
    w.s = &s;
    w.t0 = s.h->t_register_ns;
    /* Partial when stopped by a signal, a forwarded SIGTERM, Ctrl-C (exit
     * status 130 or KeyboardInterrupt's 1 after SIGINT) or the budget. */
    static char why[200];
    why[0] = 0;
    if (atomic_load(&((gsr_hdr_t *)s.h)->overflow))
        snprintf(why, sizeof why, "the event budget (%lld MiB) ran out",
                 (long long)(budget >> 20));
    else if (g_forwarded)
        snprintf(why, sizeof why, "gilsim record received signal %d (%s) and stopped the program",
                 (int)g_forwarded, strsignal(g_forwarded));
    else if (w.exit_signal == SIGINT || w.exit_status == 130)
        snprintf(why, sizeof why, "the program was interrupted (Ctrl-C)");
    else if (w.exit_signal)
        snprintf(why, sizeof why, "the program was killed by signal %d (%s)", w.exit_signal,
                 strsignal(w.exit_signal));
    w.partial = why[0] ? why : NULL;
    res->partial = w.partial != NULL;
    res->n_events = s.n_events;
    size_t nreq = 0;
    for (uint32_t i = 0; i < s.n_th; i++)
        for (size_t k = 0; k < s.th[i].n; k++)
            nreq += s.th[i].ev[k].e.kind == GSR_EV_REQUEST;
    w.requests = malloc((nreq + 1) * sizeof *w.requests);
    if (w.requests) {
        for (uint32_t i = 0; i < s.n_th; i++)
            for (size_t k = 0; k < s.th[i].n; k++)
                if (s.th[i].ev[k].e.kind == GSR_EV_REQUEST)
                    w.requests[w.n_requests++] = s.th[i].ev[k].e.t;
        qsort(w.requests, w.n_requests, sizeof *w.requests, cmp_i64);
    }
    gs_error_t werr;
    memset(&werr, 0, sizeof werr);
    rc = gs_export_file(o->out, write_recording, &w, &werr);
    free(w.requests);
    free_spool(&s);
    cJSON_Delete(pi.json);
    if (rc != 0) {
        char b[600];
        gs_error_format(&werr, b, sizeof b);
        return fail(err, GS_RECORD_EFAIL, "cannot write the recording: %s", b);
    }
    res->written = true;
    return 0;
}
