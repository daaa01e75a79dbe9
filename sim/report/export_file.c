/* export_file.c - all-or-nothing output files, and durations for people.
 *
 * gs_export_file() writes into "<dir>/.<name>.XXXXXX" (mkstemp, so in the
 * same folder and on the same file system), flushes, fsyncs, closes and only
 * then renames over the target: a reader sees the old file or the complete
 * new one, never a truncated one. Any failure unlinks the temporary file. */
#include "gilsim/export.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static int fail(gs_error_t *err, const char *path, const char *what, int e)
{
    if (err) {
        memset(err, 0, sizeof *err);
        err->code = GS_EIO;
        snprintf(err->file, sizeof err->file, "%s", path);
        snprintf(err->msg, sizeof err->msg, "cannot %s: %s", what,
                 e ? strerror(e) : "write error");
    }
    return GS_EIO;
}

int gs_export_file(const char *path, gs_export_fn fn, void *ctx, gs_error_t *err)
{
    if (strcmp(path, "-") == 0) {
        int rc = fn(stdout, ctx);
        if (rc == 0 && fflush(stdout) != 0)
            rc = GS_EIO;
        if (rc != 0)
            return fail(err, "<stdout>", "write", errno);
        return 0;
    }
    size_t n = strlen(path);
    char *tmp = malloc(n + 16);
    if (!tmp)
        return fail(err, path, "allocate memory", ENOMEM);
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    memcpy(tmp, path, dir);
    snprintf(tmp + dir, n + 16 - dir, ".%s.XXXXXX", path + dir);
    int fd = mkstemp(tmp);
    if (fd < 0) {
        int e = errno;
        free(tmp);
        return fail(err, path, "create a file in its folder", e);
    }
    /* mkstemp makes the file 0600; give it the usual mode for new files. */
    mode_t mask = umask(0);
    umask(mask);
    (void)fchmod(fd, 0666 & ~mask);
    FILE *f = fdopen(fd, "w");
    if (!f) {
        int e = errno;
        close(fd);
        unlink(tmp);
        free(tmp);
        return fail(err, path, "open", e);
    }
    /* 64 KiB writes rather than the file system's 4 KiB blocks: a sweep's
     * CSV or a big trace goes out in a few system calls. (glibc ignores the
     * size unless it is given the buffer.) */
    char *iobuf = malloc(64 * 1024);
    if (iobuf)
        setvbuf(f, iobuf, _IOFBF, 64 * 1024);
    errno = 0;
    int rc = fn(f, ctx);
    int e = errno;
    if (rc == 0 && (fflush(f) != 0 || ferror(f))) {
        rc = GS_EIO;
        e = errno;
    }
    if (rc == 0 && fsync(fileno(f)) != 0 && errno != EINVAL) {
        rc = GS_EIO;
        e = errno;
    }
    if (fclose(f) != 0 && rc == 0) {
        rc = GS_EIO;
        e = errno;
    }
    free(iobuf);
    if (rc == 0 && rename(tmp, path) != 0) {
        rc = GS_EIO;
        e = errno;
    }
    if (rc != 0) {
        unlink(tmp);
        free(tmp);
        if (rc == GS_ENOMEM)
            e = ENOMEM;
        return fail(err, path, "write", e);
    }
    free(tmp);
    return 0;
}
