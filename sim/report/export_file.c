/* export_file.c - outputs that are what their path claims, committed
 * together; and durations for people.
 *
 * What a target is decides how it is written (docs/limits.md, "Outputs"):
 *   - a regular file, or a name that does not exist yet: written to
 *     "<dir>/.<name>.XXXXXX" (mkstemp: same folder, same file system),
 *     flushed, fsynced, closed and only then renamed over the target, so a
 *     reader sees the old file or the complete new one. A symlink is
 *     followed: the file it points to is replaced, the link stays. A
 *     replaced file keeps its permission bits.
 *   - a character device (/dev/null, a terminal) or a FIFO: written in place,
 *     streamed; a FIFO without a reader is an error, never a hang.
 *   - "-", /dev/stdout, /dev/fd/N (a shell's >(...)): written through that
 *     descriptor.
 *   - anything else (a directory, a block device, a socket): refused, never
 *     replaced.
 * gs_output_commit() finishes several outputs at once: the temporary files
 * are renamed only when every output was written, so an interrupted or
 * failed run never leaves a mix of new and old files. Until then each
 * temporary's name is kept in a fixed table that gs_output_remove_temps()
 * (async-signal-safe) unlinks, for a signal handler that must exit at once. */
#include "gilsim/export.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define MAX_TEMPS 32

struct gs_output {
    FILE *f;
    char *path;    /* as given, for messages */
    char *target;  /* what the rename replaces (symlinks resolved); NULL for streams */
    char *tmp;     /* the temporary file; NULL for streams */
    char *iobuf;
    int slot;      /* in g_temps, or -1 */
    bool borrowed; /* f is stdout: flush, never close */
    bool failed;
    bool nosync;   /* no fsync before the rename (gs_export_file_nosync) */
};

/* Pending temporary files, for gs_output_remove_temps. A slot is claimed,
 * then its name written, then marked used; a signal handler only reads
 * names marked used, so it sees whole names. */
static char g_temp_name[MAX_TEMPS][PATH_MAX];
static _Atomic bool g_temp_claimed[MAX_TEMPS];
static _Atomic bool g_temp_used[MAX_TEMPS];

static int temp_register(const char *name)
{
    if (strlen(name) >= PATH_MAX)
        return -1;
    for (int i = 0; i < MAX_TEMPS; i++) {
        bool expect = false;
        if (atomic_compare_exchange_strong(&g_temp_claimed[i], &expect, true)) {
            strcpy(g_temp_name[i], name);
            atomic_store(&g_temp_used[i], true);
            return i;
        }
    }
    return -1; /* more than MAX_TEMPS at once: still removed on every normal path */
}

static void temp_forget(int slot)
{
    if (slot >= 0) {
        atomic_store(&g_temp_used[slot], false);
        atomic_store(&g_temp_claimed[slot], false);
    }
}

void gs_output_remove_temps(void)
{
    for (int i = 0; i < MAX_TEMPS; i++)
        if (atomic_load(&g_temp_used[i]))
            unlink(g_temp_name[i]);
}

/* GS_EIO with err (may be NULL) naming path and saying msg. */
static int refuse(gs_error_t *err, const char *path, const char *msg)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = GS_EIO;
        snprintf(err->file, sizeof err->file, "%s", path);
        snprintf(err->msg, sizeof err->msg, "%s", msg);
    }
    return GS_EIO;
}

/* "cannot WHAT: strerror(e)". */
static int fail(gs_error_t *err, const char *path, const char *what, int e)
{
    char msg[256];
    snprintf(msg, sizeof msg, "cannot %s: %s", what, e ? strerror(e) : "write error");
    return refuse(err, path, msg);
}

/* Where a name that is, or may become, a regular file ends up: symlinks
 * followed (also a dangling one, whose target is then created). malloc'ed;
 * NULL with errno on failure. */
static char *final_name(const char *path)
{
    char *cur = strdup(path);
    for (int hops = 0; cur && hops < 40; hops++) {
        struct stat st;
        if (lstat(cur, &st) != 0 || !S_ISLNK(st.st_mode))
            return cur;
        char link[PATH_MAX];
        ssize_t n = readlink(cur, link, sizeof link - 1);
        if (n < 0) {
            free(cur);
            return NULL;
        }
        link[n] = '\0';
        char *next;
        const char *slash = strrchr(cur, '/');
        if (link[0] == '/' || !slash) {
            next = strdup(link);
        } else {
            size_t dir = (size_t)(slash - cur) + 1;
            next = malloc(dir + (size_t)n + 1);
            if (next) {
                memcpy(next, cur, dir);
                memcpy(next + dir, link, (size_t)n + 1);
            }
        }
        free(cur);
        cur = next;
    }
    if (cur) {
        free(cur);
        errno = ELOOP;
    }
    return NULL;
}

static gs_output_t *out_new(const char *path)
{
    gs_output_t *o = calloc(1, sizeof *o);
    if (o && !(o->path = strdup(path))) {
        free(o);
        return NULL;
    }
    if (o)
        o->slot = -1;
    return o;
}

static void out_free(gs_output_t *o)
{
    free(o->path);
    free(o->target);
    free(o->tmp);
    free(o->iobuf);
    free(o);
}

/* A stream on a descriptor we write in place. */
static int open_stream(gs_output_t *o, int fd, gs_error_t *err)
{
    o->f = fdopen(fd, "w");
    if (!o->f) {
        int e = errno;
        close(fd);
        return fail(err, o->path, "open", e);
    }
    return 0;
}

static int open_temp(gs_output_t *o, const struct stat *old, gs_error_t *err)
{
    size_t n = strlen(o->target);
    o->tmp = malloc(n + 16);
    if (!o->tmp)
        return fail(err, o->path, "allocate memory", ENOMEM);
    const char *slash = strrchr(o->target, '/');
    size_t dir = slash ? (size_t)(slash - o->target) + 1 : 0;
    memcpy(o->tmp, o->target, dir);
    snprintf(o->tmp + dir, n + 16 - dir, ".%s.XXXXXX", o->target + dir);
    int fd = mkstemp(o->tmp);
    if (fd < 0) {
        int e = errno;
        free(o->tmp);
        o->tmp = NULL;
        return fail(err, o->path, "create a file in its folder", e);
    }
    o->slot = temp_register(o->tmp);
    /* mkstemp makes the file 0600: give it the replaced file's mode, or the
     * usual mode for new files. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, old ? old->st_mode & 07777 : 0666 & ~mask);
    if (open_stream(o, fd, err) != 0)
        return GS_EIO;
    /* 64 KiB writes rather than the file system's 4 KiB blocks: a sweep's
     * CSV or a big trace goes out in a few system calls. */
    o->iobuf = malloc(64 * 1024);
    if (o->iobuf)
        setvbuf(o->f, o->iobuf, _IOFBF, 64 * 1024);
    return 0;
}

static const char *kind_of(mode_t m)
{
    return S_ISDIR(m) ? "a directory" : S_ISBLK(m) ? "a block device" : S_ISSOCK(m) ? "a socket"
                                                                                  : "not a file";
}

static int classify_and_open(gs_output_t *o, gs_error_t *err)
{
    if (strcmp(o->path, "-") == 0) {
        o->f = stdout;
        o->borrowed = true;
        return 0;
    }
    int fd = gs_path_fd(o->path, STDOUT_FILENO);
    if (fd >= 0) {
        int d = dup(fd);
        return d < 0 ? fail(err, o->path, "write to that descriptor", errno)
                     : open_stream(o, d, err);
    }
    struct stat st;
    if (stat(o->path, &st) == 0) {
        if (S_ISCHR(st.st_mode) || S_ISFIFO(st.st_mode)) {
            fd = open(o->path, O_WRONLY | O_NOCTTY | O_CLOEXEC | O_NONBLOCK);
            if (fd < 0 && errno == ENXIO)
                return refuse(err, o->path,
                              "it is a FIFO with no reader; start the reader first");
            if (fd < 0)
                return fail(err, o->path, "open", errno);
            (void)fcntl(fd, F_SETFL, fcntl(fd, F_GETFL) & ~O_NONBLOCK);
            return open_stream(o, fd, err);
        }
        if (!S_ISREG(st.st_mode)) {
            char msg[200];
            snprintf(msg, sizeof msg,
                     "it is %s; an output must be a regular file, a new name, a character "
                     "device (like /dev/null), a FIFO or - for standard output",
                     kind_of(st.st_mode));
            return refuse(err, o->path, msg);
        }
    } else if (errno != ENOENT) {
        return fail(err, o->path, "look at it", errno);
    }
    o->target = final_name(o->path);
    if (!o->target)
        return fail(err, o->path, "follow the link", errno);
    return open_temp(o, stat(o->path, &st) == 0 ? &st : NULL, err);
}

int gs_output_open(const char *path, gs_output_t **out, gs_error_t *err)
{
    *out = NULL;
    gs_output_t *o = out_new(path);
    if (!o)
        return fail(err, path, "allocate memory", ENOMEM);
    if (classify_and_open(o, err) != 0) {
        gs_output_abort(o);
        return GS_EIO;
    }
    *out = o;
    return 0;
}

FILE *gs_output_stream(gs_output_t *o)
{
    return o->f;
}

void gs_output_abort(gs_output_t *o)
{
    if (!o)
        return;
    if (o->f && !o->borrowed)
        fclose(o->f);
    if (o->tmp)
        unlink(o->tmp);
    temp_forget(o->slot);
    out_free(o);
}

/* Flush, fsync (files), close. 0 or GS_EIO with err. */
static int finish_one(gs_output_t *o, gs_error_t *err)
{
    int e = 0;
    if (o->failed)
        e = errno ? errno : EIO;
    else if (fflush(o->f) != 0 || ferror(o->f))
        e = errno ? errno : EIO;
    else if (o->tmp && !o->nosync && fsync(fileno(o->f)) != 0 && errno != EINVAL)
        e = errno;
    if (!o->borrowed) {
        if (fclose(o->f) != 0 && !e)
            e = errno ? errno : EIO;
        o->f = NULL;
    }
    return e ? fail(err, o->path, "write", e) : 0;
}

int gs_output_commit(gs_output_t **list, int n, gs_error_t *err)
{
    int rc = 0;
    for (int i = 0; i < n; i++)
        if (list[i] && finish_one(list[i], rc ? NULL : err) != 0)
            rc = GS_EIO;
    for (int i = 0; i < n && rc == 0; i++)
        if (list[i] && list[i]->tmp && rename(list[i]->tmp, list[i]->target) != 0)
            rc = fail(err, list[i]->path, "write", errno);
    for (int i = 0; i < n; i++) {
        if (!list[i])
            continue;
        if (rc == 0 && list[i]->tmp) {
            temp_forget(list[i]->slot);
            free(list[i]->tmp);
            list[i]->tmp = NULL;
        }
        gs_output_abort(list[i]); /* removes what was not renamed */
        list[i] = NULL;
    }
    return rc;
}

void gs_output_fail(gs_output_t *o)
{
    o->failed = true;
}

static int export_file(const char *path, gs_export_fn fn, void *ctx, bool nosync,
                       gs_error_t *err)
{
    gs_output_t *o;
    if (gs_output_open(path, &o, err) != 0)
        return GS_EIO;
    o->nosync = nosync;
    errno = 0;
    int rc = fn(gs_output_stream(o), ctx);
    if (rc != 0) {
        int e = rc == GS_ENOMEM ? ENOMEM : errno;
        gs_output_abort(o);
        return fail(err, path, "write", e);
    }
    return gs_output_commit(&o, 1, err);
}

int gs_export_file(const char *path, gs_export_fn fn, void *ctx, gs_error_t *err)
{
    return export_file(path, fn, ctx, false, err);
}

int gs_export_file_nosync(const char *path, gs_export_fn fn, void *ctx, gs_error_t *err)
{
    return export_file(path, fn, ctx, true, err);
}
