/* recorder.c - gs_record_run: run a Python program under the shim and turn
 * the spool into a recording file.
 *
 * Steps: ask the interpreter what it is (and refuse what the probe cannot
 * read: not CPython, older than 3.8, free-threaded) and check the program
 * and the output (check_request); find the shim and boot.py, compile the
 * probe against the interpreter's headers once (cached by a hash of
 * interpreter and sources) and create the spool (prepare; interpreter.c,
 * spool.c); fork and exec the interpreter with LD_PRELOAD=shim and boot.py
 * and wait (run_program: Ctrl-C reaches the program, which is in our
 * process group; SIGTERM/SIGHUP are forwarded); read the spool back
 * (spool.c); say whether the recording is partial and why; write the JSON
 * atomically (writer.c derives the release reasons and who was
 * signalled). */
#include "gilsim/export.h"
#include "gilsim/record.h"
#include "recorder_int.h"

#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

/* One recording's run: what it needs and what it found. */
typedef struct run {
    const gs_record_opts_t *o;
    gsr_pyinfo_t pi;     /* the interpreter (pi.json owned) */
    const char *shim;    /* the LD_PRELOAD library */
    char boot[4096];     /* boot.py */
    char probe[4096];    /* the probe compiled for pi */
    char spool[4096];    /* the spool file; "" once removed */
    int64_t budget;      /* event bytes the spool may hold */
    gsr_calib_t calib;   /* the host's costs (calibrate.c) */
    bool have_calib;     /* calib was measured */
    int status;          /* the program's wait status */
    time_t started;      /* wall clock at the fork */
    int64_t t_end;       /* CLOCK_MONOTONIC when it ended */
    int64_t others_ns;   /* CPU time other programs used meanwhile, -1: unknown */
    int64_t others_window_ns; /* the span others_ns was counted over */
    char why[200];       /* why the recording is partial, or "" */
} run_t;

static int64_t mono_ns(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000000000 + ts.tv_nsec;
}

/* Every CPU's busy time so far, from /proc/stat's first line (user nice
 * system idle iowait irq softirq steal: all but idle and iowait; steal is
 * the hypervisor's other guests), in ns; -1 where there is none. */
static int64_t host_busy_ns(void)
{
    FILE *f = fopen("/proc/stat", "r");
    long long v[8] = {0};
    int n = f ? fscanf(f, "cpu %lld %lld %lld %lld %lld %lld %lld %lld", &v[0], &v[1], &v[2],
                       &v[3], &v[4], &v[5], &v[6], &v[7])
              : 0;
    if (f)
        fclose(f);
    long tick = sysconf(_SC_CLK_TCK);
    if (n < 4 || tick <= 0)
        return -1;
    long long busy = v[0] + v[1] + v[2] + v[5] + v[6] + v[7];
    return (int64_t)(busy * (1000000000 / tick));
}

static int64_t tv_ns(struct timeval tv)
{
    return (int64_t)tv.tv_sec * 1000000000 + (int64_t)tv.tv_usec * 1000;
}

/* ---- before the run: what is asked, and what it needs ---------------------- */

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
        return gsr_fail(err, GS_RECORD_EFAIL, "cannot write the recording %s: it is a folder",
                        out);
    if (access(dir, W_OK) != 0)
        return gsr_fail(err, GS_RECORD_EFAIL, "cannot write the recording %s: %s%s%s", out,
                        strerror(errno), errno == ENOENT ? ", no folder " : "",
                        errno == ENOENT ? dir : "");
    return 0;
}

/* The interpreter can be recorded, the script can be read (a module is
 * the interpreter's to find) and the recording can be written. */
static int check_request(run_t *r, gs_error_t *err)
{
    const gs_record_opts_t *o = r->o;
    int rc = gsr_query_python(o->python ? o->python : "python3", &r->pi, err);
    if (!rc && !o->module) {
        struct stat st;
        if (stat(o->target, &st) != 0)
            rc = gsr_fail(err, GS_RECORD_EFAIL, "cannot run %s: %s", o->target, strerror(errno));
        else if (S_ISDIR(st.st_mode) || access(o->target, R_OK) != 0)
            rc = gsr_fail(err, GS_RECORD_EFAIL, "cannot run %s: %s", o->target,
                          S_ISDIR(st.st_mode) ? "it is a folder (use -m for a package)"
                                              : strerror(errno));
    }
    if (!rc)
        rc = check_writable(o->out, err);
    return rc;
}

/* The shim and boot.py exist, the probe is built, the spool created. */
static int prepare(run_t *r, gs_error_t *err)
{
    r->shim = gsr_shim_path();
    snprintf(r->boot, sizeof r->boot, "%s/boot.py", gsr_data_dir());
    if (!gsr_readable(r->shim) || !gsr_readable(r->boot))
        return gsr_fail(err, GS_RECORD_EFAIL,
                        "the recorder's files are missing (shim %s, boot %s); set "
                        "GILSIM_RECORD_SHIM and GILSIM_RECORD_DATA",
                        r->shim, r->boot);
    int rc = gsr_build_probe(&r->pi, r->o->verbose, r->probe, sizeof r->probe, err);
    if (!rc)
        rc = gsr_make_spool(&r->budget, r->spool, sizeof r->spool, err);
    return rc;
}

/* ---- running the program -------------------------------------------------- */

static volatile sig_atomic_t g_child, g_forwarded;

static void forward(int sig)
{
    if (g_child > 0)
        kill((pid_t)g_child, sig);
    g_forwarded = sig;
}

/* The signal actions we replace while the program runs. */
typedef struct sigs {
    struct sigaction intr, quit, term, hup;
} sigs_t;

/* Ctrl-C and Ctrl-\ are for the program (it is in our process group and
 * gets them from the terminal); SIGTERM and SIGHUP, sent to us, are passed
 * on to it. */
static void catch_signals(sigs_t *old)
{
    struct sigaction ign = {.sa_handler = SIG_IGN}, fwd = {.sa_handler = forward};
    sigemptyset(&ign.sa_mask);
    sigemptyset(&fwd.sa_mask);
    sigaction(SIGINT, &ign, &old->intr);
    sigaction(SIGQUIT, &ign, &old->quit);
    sigaction(SIGTERM, &fwd, &old->term);
    sigaction(SIGHUP, &fwd, &old->hup);
}

static void restore_signals(const sigs_t *old)
{
    sigaction(SIGINT, &old->intr, NULL);
    sigaction(SIGQUIT, &old->quit, NULL);
    sigaction(SIGTERM, &old->term, NULL);
    sigaction(SIGHUP, &old->hup, NULL);
}

/* argv: EXE boot.py PROBE mode TARGET ARGS... (calloc'ed, NULL-ended; the
 * strings are r's and o's). */
static char **program_argv(run_t *r)
{
    const gs_record_opts_t *o = r->o;
    char **argv = calloc((size_t)(5 + o->n_args) + 1, sizeof *argv);
    if (!argv)
        return NULL;
    argv[0] = (char *)r->pi.exe;
    argv[1] = r->boot;
    argv[2] = r->probe;
    argv[3] = o->module ? "module" : "script";
    argv[4] = (char *)o->target;
    for (int i = 0; i < o->n_args; i++)
        argv[5 + i] = o->args[i];
    return argv;
}

/* In the child: our signal actions back, the environment the shim and
 * boot.py read, then the interpreter. Never returns. */
static void exec_program(const run_t *r, char **argv, const char *preload, const sigs_t *old)
{
    const gs_record_opts_t *o = r->o;
    restore_signals(old);
    char pidbuf[32];
    snprintf(pidbuf, sizeof pidbuf, "%d", (int)getpid());
    setenv("GILSIM_REC_PID", pidbuf, 1);
    setenv("GILSIM_REC_SPOOL", r->spool, 1);
    setenv("LD_PRELOAD", preload, 1);
    setenv("GILSIM_REC_PROFILE", o->calls_all ? "1" : "0", 1);
    if (o->switch_interval_ns > 0) {
        char iv[32];
        snprintf(iv, sizeof iv, "%lld", (long long)o->switch_interval_ns);
        setenv("GILSIM_REC_SWITCH_INTERVAL_NS", iv, 1);
    } else {
        unsetenv("GILSIM_REC_SWITCH_INTERVAL_NS");
    }
    execv(r->pi.exe, argv);
    fprintf(stderr, "gilsim record: cannot run %s: %s\n", r->pi.exe, strerror(errno));
    _exit(GS_RECORD_ENOEXEC);
}

/* Forks and execs the program with the shim preloaded (before any
 * LD_PRELOAD of the caller's), and waits for it: r->status, r->started
 * and r->t_end. */
static int run_program(run_t *r, gs_error_t *err)
{
    char **argv = program_argv(r);
    char *preload = NULL;
    const char *old = getenv("LD_PRELOAD");
    if (argv && asprintf(&preload, "%s%s%s", r->shim, old && *old ? " " : "", old ? old : "") < 0)
        preload = NULL;
    if (!argv || !preload) {
        free(argv);
        return gsr_fail(err, GS_RECORD_EFAIL, "out of memory");
    }
    sigs_t saved;
    catch_signals(&saved);
    g_forwarded = 0;
    fflush(NULL);
    r->started = time(NULL);
    pid_t pid = fork();
    if (pid == 0)
        exec_program(r, argv, preload, &saved);
    free(preload);
    free(argv);
    r->status = 0;
    struct rusage child, self0, self1;
    memset(&child, 0, sizeof child);
    getrusage(RUSAGE_SELF, &self0);
    int64_t busy0 = host_busy_ns(), busy0_at = mono_ns();
    if (pid > 0) {
        g_child = pid;
        while (wait4(pid, &r->status, 0, &child) < 0 && errno == EINTR)
            ;
        g_child = 0;
    }
    int64_t busy1 = host_busy_ns();
    getrusage(RUSAGE_SELF, &self1);
    r->t_end = mono_ns();
    /* what the machine's other programs used meanwhile: all the CPUs' busy
     * time less the program's (its threads and its children) and ours */
    r->others_ns = -1;
    r->others_window_ns = r->t_end - busy0_at;
    if (pid > 0 && busy0 >= 0 && busy1 >= busy0) {
        int64_t own = tv_ns(child.ru_utime) + tv_ns(child.ru_stime) +
                      tv_ns(self1.ru_utime) - tv_ns(self0.ru_utime) + tv_ns(self1.ru_stime) -
                      tv_ns(self0.ru_stime);
        r->others_ns = busy1 - busy0 > own ? busy1 - busy0 - own : 0;
    }
    restore_signals(&saved);
    if (pid < 0)
        return gsr_fail(err, GS_RECORD_EFAIL, "cannot start the program: %s", strerror(errno));
    return 0;
}

/* ---- after the run ----------------------------------------------------------- */

/* How the program ended: its exit status (128 + the signal if killed). */
static void ended_how(const run_t *r, gsr_writer_t *w)
{
    if (WIFEXITED(r->status)) {
        w->exit_status = WEXITSTATUS(r->status);
    } else if (WIFSIGNALED(r->status)) {
        w->exit_signal = WTERMSIG(r->status);
        w->exit_status = 128 + w->exit_signal;
    }
}

/* Partial when stopped by a signal, a forwarded SIGTERM, Ctrl-C (exit
 * status 130 or KeyboardInterrupt's 1 after SIGINT) or the budget: r->why
 * says which, or is "". */
static void partial_reason(run_t *r, const gsr_spool_t *s, const gsr_writer_t *w)
{
    r->why[0] = 0;
    if (atomic_load(&((gsr_hdr_t *)s->h)->overflow))
        snprintf(r->why, sizeof r->why, "the event budget (%lld MiB) ran out",
                 (long long)(r->budget >> 20));
    else if (g_forwarded)
        snprintf(r->why, sizeof r->why,
                 "gilsim record received signal %d (%s) and stopped the program",
                 (int)g_forwarded, strsignal(g_forwarded));
    else if (w->exit_signal == SIGINT || w->exit_status == 130)
        snprintf(r->why, sizeof r->why, "the program was interrupted (Ctrl-C)");
    else if (w->exit_signal)
        snprintf(r->why, sizeof r->why, "the program was killed by signal %d (%s)",
                 w->exit_signal, strsignal(w->exit_signal));
}

/* Reads the spool back and writes the recording file (all or nothing). */
static int write_out(run_t *r, gsr_writer_t *w, gs_record_result_t *res, gs_error_t *err)
{
    gsr_spool_t s;
    int rc = gsr_read_spool(r->spool, &s, err);
    unlink(r->spool);
    r->spool[0] = 0;
    if (!rc && !atomic_load(&((gsr_hdr_t *)s.h)->registered))
        rc = gsr_fail(err, GS_RECORD_EFAIL,
                      "the program ended (exit status %d) before the recording started; no "
                      "recording written",
                      w->exit_status);
    if (rc)
        goto out;
    w->s = &s;
    w->t0 = s.h->t_register_ns;
    partial_reason(r, &s, w);
    w->partial = r->why[0] ? r->why : NULL;
    res->partial = w->partial != NULL;
    res->n_events = s.n_events;
    gsr_collect_requests(w);
    gs_error_t werr;
    memset(&werr, 0, sizeof werr);
    rc = gs_export_file(r->o->out, gsr_write_recording, w, &werr);
    free(w->requests);
    if (rc != 0) {
        char b[600];
        gs_error_format(&werr, b, sizeof b);
        rc = gsr_fail(err, GS_RECORD_EFAIL, "cannot write the recording: %s", b);
    }
out:
    gsr_free_spool(&s);
    return rc;
}

int gs_record_run(const gs_record_opts_t *o, gs_record_result_t *res, gs_error_t *err)
{
    memset(res, 0, sizeof *res);
    memset(err, 0, sizeof *err);
    if (!o->target || !*o->target)
        return gsr_fail(err, GS_RECORD_EFAIL, "no program given");
    run_t r;
    memset(&r, 0, sizeof r);
    r.o = o;
    r.budget = o->max_bytes > 0 ? o->max_bytes : (int64_t)256 << 20;
    int rc = check_request(&r, err);
    if (!rc)
        rc = prepare(&r, err);
    if (!rc) /* the host's costs, for gilsim fit: measured before the program runs */
        r.have_calib = gsr_calibrate(&r.calib) == 0;
    if (!rc)
        rc = run_program(&r, err);
    if (!rc) {
        gsr_writer_t w = {.pi = &r.pi, .o = o, .t_end = r.t_end, .started = r.started,
                          .others_ns = r.others_ns,
                          .others_window_ns = r.others_window_ns, .calib = r.have_calib ? &r.calib : NULL};
        ended_how(&r, &w);
        res->exit_status = w.exit_status;
        rc = write_out(&r, &w, res, err);
        res->written = rc == 0;
    }
    if (r.spool[0]) /* not read back: the run failed before */
        unlink(r.spool);
    cJSON_Delete(r.pi.json);
    return rc;
}
