/* sweep_out.c - a sweep's --out: one sweep at a time, and checkpoints.
 *
 * Lock. Two sweeps writing one --out would each rewrite it with only their
 * own rows. A sweep therefore holds an flock on ".NAME.lock" next to the
 * output for its whole life and refuses to start when another holds it,
 * naming that sweep's pid. The lock file is removed at the end; a sweep
 * killed with SIGKILL leaves it behind, unlocked (the kernel drops flocks
 * with the process), and the next sweep simply takes it.
 *
 * Checkpoints. The finished rows are rewritten to --out, atomically (a
 * temporary file renamed over it), before the first run (so an unwritable
 * --out fails before any work), then whenever rows finished and at least a
 * second passed (or twenty times what the last checkpoint took, so that
 * writing never costs more than ~5% of a long sweep), and at the end. The
 * file is therefore always a complete CSV holding the rows finished up to the
 * last checkpoint, which --resume takes: a SIGKILL loses at most a second's
 * runs. Outputs that are not files (-, a FIFO, a device) are written once, at
 * the end. */
#include "sweep_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdlib.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

double sweep_now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

int sweep_write_rows(FILE *f, void *c)
{
    sweep_t *w = c;
    sweep_header(w, f);
    putc('\n', f);
    for (int64_t r = 0; r < w->total; r++)
        if (atomic_load_explicit(&w->rows[r].ready, memory_order_acquire)) {
            fputs(w->rows[r].line, f);
            putc('\n', f);
        }
    return ferror(f) ? GS_EIO : 0;
}

static char *lock_name(const char *path)
{
    const char *slash = strrchr(path, '/');
    size_t dir = slash ? (size_t)(slash - path) + 1 : 0;
    size_t n = strlen(path) + 8;
    char *s = malloc(n);
    if (s)
        snprintf(s, n, "%.*s.%s.lock", (int)dir, path, path + dir);
    return s;
}

/* Takes the lock; EXIT_OK, or EXIT_IO after saying why (another sweep). */
static int take_lock(sweep_out_t *o)
{
    o->lock_path = lock_name(o->path);
    if (!o->lock_path)
        return EXIT_IO;
    for (int attempt = 0; attempt < 10; attempt++) {
        int fd = open(o->lock_path, O_RDWR | O_CREAT | O_CLOEXEC | O_NOFOLLOW, 0644);
        if (fd < 0) {
            fprintf(stderr, "gilsim sweep: --out %s: cannot create the lock file %s: %s\n",
                    o->path, o->lock_path, strerror(errno));
            return EXIT_IO;
        }
        if (flock(fd, LOCK_EX | LOCK_NB) != 0) {
            char pid[32] = "";
            ssize_t n = pread(fd, pid, sizeof pid - 1, 0);
            pid[n > 0 ? n : 0] = '\0';
            pid[strcspn(pid, "\n")] = '\0';
            fprintf(stderr,
                    "gilsim sweep: --out %s: another sweep%s%s%s is writing it (it holds %s); "
                    "wait for it to end, or use another --out\n",
                    o->path, *pid ? " (pid " : "", pid, *pid ? ")" : "", o->lock_path);
            close(fd);
            return EXIT_IO;
        }
        /* The holder before us may have removed the file between our open
         * and our flock: then we locked a file nobody else sees; retry. */
        struct stat a, b;
        if (fstat(fd, &a) == 0 && stat(o->lock_path, &b) == 0 && a.st_ino == b.st_ino &&
            a.st_dev == b.st_dev) {
            char pid[32];
            int n = snprintf(pid, sizeof pid, "%ld\n", (long)getpid());
            if (ftruncate(fd, 0) != 0 || pwrite(fd, pid, (size_t)n, 0) != n) {
                /* the pid is only for the message of a sweep we refuse */
            }
            o->lock_fd = fd;
            return EXIT_OK;
        }
        close(fd);
    }
    fprintf(stderr, "gilsim sweep: --out %s: cannot take the lock %s\n", o->path, o->lock_path);
    return EXIT_IO;
}

int sweep_out_begin(sweep_t *w, const char *path)
{
    sweep_out_t *o = &w->out;
    o->path = path;
    o->lock_fd = -1;
    struct stat st;
    bool exists = stat(path, &st) == 0;
    o->files = gs_path_fd(path, STDOUT_FILENO) < 0 && (!exists || S_ISREG(st.st_mode));
    if (exists && !S_ISREG(st.st_mode) && !S_ISCHR(st.st_mode) && !S_ISFIFO(st.st_mode)) {
        fprintf(stderr, "gilsim sweep: --out %s: it is %s; give a file name\n", path,
                S_ISDIR(st.st_mode) ? "a directory" : "not a file");
        return EXIT_IO;
    }
    return o->files ? take_lock(o) : EXIT_OK;
}

int sweep_out_checkpoint(sweep_t *w, bool force)
{
    sweep_out_t *o = &w->out;
    double t0 = sweep_now_s();
    if (!o->files || (!force && t0 < o->next_at))
        return EXIT_OK;
    /* With no row finished yet (the check before the first run) the file holds
     * nothing a crash could lose, and --resume of an empty or missing file
     * starts from the beginning: no fsync, which costs a short sweep ~5%. */
    bool any = false;
    for (int64_t r = 0; r < w->total && !any; r++)
        any = atomic_load_explicit(&w->rows[r].ready, memory_order_acquire);
    int rc = (any ? cli_write : cli_write_nosync)("sweep", "--out", o->path, sweep_write_rows, w);
    double t1 = sweep_now_s(), gap = 20 * (t1 - t0);
    o->next_at = t1 + (gap > 1.0 ? gap : 1.0);
    return rc;
}

void sweep_out_end(sweep_t *w)
{
    sweep_out_t *o = &w->out;
    if (o->lock_fd >= 0) {
        unlink(o->lock_path);
        close(o->lock_fd);
        o->lock_fd = -1;
    }
    free(o->lock_path);
    o->lock_path = NULL;
}
