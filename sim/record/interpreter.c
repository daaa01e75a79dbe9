/* interpreter.c - the recorded interpreter, and the probe built for it.
 *
 * Before a program is run, gilsim record asks the interpreter what it is
 * (one `python -c` that prints JSON; Python 2 and others get a second,
 * simpler question so the refusal can name their version) and refuses what
 * the probe cannot read: not CPython, older than 3.8, free-threaded. The
 * probe (inproc/probe.c) reads CPython's runtime state, whose layout
 * changes between versions, so it is compiled against the interpreter's
 * own headers with the system's C compiler, once: the result is cached
 * under a hash of the interpreter, its version string and the sources. */
#include "recorder_int.h"
#include "record_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

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

int gsr_fail(gs_error_t *err, int code, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(err->msg, sizeof err->msg, fmt, ap);
    va_end(ap);
    err->code = GS_EINVAL;
    return code;
}

bool gsr_readable(const char *p)
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

/* The first question got no JSON: Python 2 or something else. Asks in a
 * way every Python understands, to say which version is refused. */
static int refuse_old_python(const char *python, gs_error_t *err)
{
    char *argv2[] = {(char *)python, "-c", (char *)query_py2, NULL};
    int status = 0, eno = 0;
    char *out = capture(argv2, NULL, &status, &eno);
    cJSON *j2 = out ? cJSON_Parse(out) : NULL;
    free(out);
    const cJSON *v = cJSON_GetObjectItem(j2, "version");
    int maj = cJSON_GetNumberValue(cJSON_GetArrayItem(v, 0)),
        min = cJSON_GetNumberValue(cJSON_GetArrayItem(v, 1));
    cJSON_Delete(j2);
    if (j2)
        return gsr_fail(err, GS_RECORD_ENOEXEC,
                        "'%s' is Python %d.%d; gilsim record supports CPython 3.8 and later "
                        "with the GIL (3.8 to 3.13 are tested)",
                        python, maj, min);
    return gsr_fail(err, GS_RECORD_ENOEXEC,
                    "'%s' did not answer as a Python interpreter (exit status %d); gilsim record "
                    "needs CPython 3.8 or later",
                    python, WIFEXITED(status) ? WEXITSTATUS(status) : -1);
}

/* Takes the fields gilsim uses from the interpreter's answer j. */
static void read_answer(cJSON *j, gsr_pyinfo_t *pi)
{
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
}

/* Refuses an interpreter whose GIL the probe cannot read. */
static int check_supported(const char *python, const gsr_pyinfo_t *pi, gs_error_t *err)
{
    if (!pi->impl || strcmp(pi->impl, "cpython") != 0)
        return gsr_fail(err, GS_RECORD_ENOEXEC,
                        "'%s' is %s %d.%d; gilsim record supports CPython 3.8 and later only (it "
                        "reads CPython's own GIL)",
                        python, pi->impl ? pi->impl : "an unknown Python", pi->major, pi->minor);
    if (pi->major < 3 || (pi->major == 3 && pi->minor < 8))
        return gsr_fail(err, GS_RECORD_ENOEXEC,
                        "'%s' is CPython %d.%d.%d; gilsim record supports CPython 3.8 and later",
                        python, pi->major, pi->minor, pi->micro);
    if (pi->gil_disabled)
        return gsr_fail(err, GS_RECORD_ENOEXEC,
                        "'%s' is a free-threaded CPython %d.%d build (no GIL to record); gilsim "
                        "record supports CPython 3.8 and later with the GIL",
                        python, pi->major, pi->minor);
    if (!pi->exe || !*pi->exe)
        return gsr_fail(err, GS_RECORD_ENOEXEC, "'%s' does not know its own executable path",
                        python);
    return 0;
}

int gsr_query_python(const char *python, gsr_pyinfo_t *pi, gs_error_t *err)
{
    char *argv[] = {(char *)python, "-c", (char *)query_py, NULL};
    int status = 0, eno = 0;
    char *out = capture(argv, NULL, &status, &eno);
    if (!out && status == -1)
        return gsr_fail(err, eno == ENOENT ? GS_RECORD_ENOENT : GS_RECORD_ENOEXEC,
                        "cannot run the Python interpreter '%s': %s%s", python, strerror(eno),
                        eno == ENOENT ? " (give one with --python PATH)" : "");
    cJSON *j = out ? cJSON_Parse(out) : NULL;
    free(out);
    if (!j)
        return refuse_old_python(python, err);
    read_answer(j, pi);
    return check_supported(python, pi, err);
}

/* ---- where the recorder's files are -------------------------------------- */

const char *gsr_data_dir(void)
{
    const char *e = getenv("GILSIM_RECORD_DATA");
    if (e && *e)
        return e;
    char p[4096];
    snprintf(p, sizeof p, "%s/probe.c", GILSIM_RECORD_DATA);
    if (gsr_readable(p))
        return GILSIM_RECORD_DATA;
    return GILSIM_RECORD_DATA_INSTALLED;
}

const char *gsr_shim_path(void)
{
    const char *e = getenv("GILSIM_RECORD_SHIM");
    if (e && *e)
        return e;
    if (gsr_readable(GILSIM_RECORD_SHIM))
        return GILSIM_RECORD_SHIM;
    return GILSIM_RECORD_SHIM_INSTALLED;
}

/* ---- the probe ----------------------------------------------------------- */

/* The probe's inputs: its source, the spool format it shares with the shim,
 * and the interpreter's Python.h. */
typedef struct probe_src {
    const char *dd; /* gsr_data_dir() */
    char src[4096], hdr[4096], py_h[4096];
} probe_src_t;

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

/* Finds the probe's sources and the interpreter's headers, or says which
 * is missing and how to get it. */
static int find_probe_sources(const gsr_pyinfo_t *pi, probe_src_t *ps, gs_error_t *err)
{
    ps->dd = gsr_data_dir();
    snprintf(ps->src, sizeof ps->src, "%s/probe.c", ps->dd);
    snprintf(ps->hdr, sizeof ps->hdr, "%s/spool.h", ps->dd); /* installed: beside probe.c */
    if (!gsr_readable(ps->hdr))
        snprintf(ps->hdr, sizeof ps->hdr, "%s/../spool.h", ps->dd); /* source tree: the layer's */
    if (!gsr_readable(ps->src) || !gsr_readable(ps->hdr))
        return gsr_fail(err, GS_RECORD_EFAIL,
                        "the probe sources are missing (looked for %s); set GILSIM_RECORD_DATA "
                        "to the folder holding probe.c, spool.h and boot.py",
                        ps->src);
    snprintf(ps->py_h, sizeof ps->py_h, "%s/Python.h", pi->include ? pi->include : "");
    if (!gsr_readable(ps->py_h))
        return gsr_fail(err, GS_RECORD_ENOEXEC,
                        "no C headers for %s (looked for %s): gilsim record compiles a small "
                        "probe against them; on Debian install python3-dev (or python%d.%d-dev)",
                        pi->exe, ps->py_h, pi->major, pi->minor);
    return 0;
}

/* Where the probe for pi and these sources is cached: a name that changes
 * when the interpreter, its version or any source changes. Creates the
 * cache folder ($XDG_CACHE_HOME/gilsim, ~/.cache/gilsim or /tmp). */
static int probe_cache_path(const gsr_pyinfo_t *pi, const probe_src_t *ps, char *out,
                            size_t n_out, gs_error_t *err)
{
    uint64_t h = 1469598103934665603ull;
    h = fnv(h, pi->exe, strlen(pi->exe));
    h = fnv(h, pi->full ? pi->full : "", strlen(pi->full ? pi->full : ""));
    h = fnv(h, ps->py_h, strlen(ps->py_h));
    h = hash_file(h, ps->src);
    h = hash_file(h, ps->hdr);
    h = hash_file(h, ps->py_h);
    char dir[2048];
    const char *cache = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
    if (cache && *cache)
        snprintf(dir, sizeof dir, "%s/gilsim", cache);
    else if (home && *home)
        snprintf(dir, sizeof dir, "%s/.cache/gilsim", home);
    else
        snprintf(dir, sizeof dir, "/tmp/gilsim-%d", (int)getuid());
    if (mkdirs(dir) != 0)
        return gsr_fail(err, GS_RECORD_EFAIL, "cannot create the probe cache %s: %s", dir,
                        strerror(errno));
    snprintf(out, n_out, "%s/probe-%d.%d-%016llx.so", dir, pi->major, pi->minor,
             (unsigned long long)h);
    return 0;
}

/* The last line of the compiler's log that mentions an error (or ""). */
static void last_error_line(const char *log, char *msg, size_t n_msg)
{
    msg[0] = 0;
    FILE *f = fopen(log, "r");
    if (f) {
        char line[200];
        while (fgets(line, sizeof line, f))
            if (strstr(line, "error"))
                snprintf(msg, n_msg, "%s", line);
        fclose(f);
    }
    msg[strcspn(msg, "\n")] = 0;
}

/* Compiles the probe to a temporary name beside out, then renames it into
 * place, so two recorders never see half a library. */
static int compile_probe(const gsr_pyinfo_t *pi, const probe_src_t *ps, bool verbose,
                         const char *out, gs_error_t *err)
{
    char tmp[4200], log[4200], inc1[4200], inc2[4200], inc3[4200];
    snprintf(tmp, sizeof tmp, "%s.%d.tmp", out, (int)getpid());
    snprintf(log, sizeof log, "%s.%d.log", out, (int)getpid());
    snprintf(inc1, sizeof inc1, "-I%s", pi->include);
    snprintf(inc2, sizeof inc2, "-I%s", ps->dd);
    snprintf(inc3, sizeof inc3, "-I%s/..", ps->dd);
    const char *cc = getenv("CC");
    if (!cc || !*cc)
        cc = "cc";
    if (verbose)
        fprintf(stderr, "gilsim record: compiling the probe for %s with %s\n", pi->exe, cc);
    char *argv[] = {(char *)cc, "-std=gnu11", "-O2", "-shared", "-fPIC", "-w", inc1, inc2, inc3,
                    (char *)ps->src, "-o", tmp, NULL};
    int status = 0, eno = 0;
    char *o = capture(argv, log, &status, &eno);
    free(o);
    if (status != 0) {
        char msg[200];
        last_error_line(log, msg, sizeof msg);
        unlink(tmp);
        unlink(log);
        return gsr_fail(err, GS_RECORD_EFAIL,
                        "could not compile the probe for %s with %s%s%s%s (the C compiler and "
                        "the interpreter's headers are needed)",
                        pi->exe, cc, status == -1 ? ": " : "", status == -1 ? strerror(eno) : "",
                        *msg ? msg : "");
    }
    unlink(log);
    if (rename(tmp, out) != 0) {
        unlink(tmp);
        return gsr_fail(err, GS_RECORD_EFAIL, "cannot store the probe in %s: %s", out,
                        strerror(errno));
    }
    return 0;
}

int gsr_build_probe(const gsr_pyinfo_t *pi, bool verbose, char *out, size_t n_out,
                    gs_error_t *err)
{
    probe_src_t ps;
    int rc = find_probe_sources(pi, &ps, err);
    if (!rc)
        rc = probe_cache_path(pi, &ps, out, n_out, err);
    if (rc || gsr_readable(out))
        return rc; /* failed, or already built */
    return compile_probe(pi, &ps, verbose, out, err);
}
