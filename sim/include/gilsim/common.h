/* common.h - export macro, version and the error table shared by every module.
 *
 * Errors: functions return 0 or a negative GS_E* code. The codes come from one
 * X-macro table that also feeds gs_strerror() (libuv's UV_ERRNO_MAP). Input
 * errors carry a gs_error_t with file:line:col or a JSON path. */
#ifndef GILSIM_COMMON_H
#define GILSIM_COMMON_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>

#if defined(__GNUC__)
#define GS_API __attribute__((visibility("default")))
#else
#define GS_API
#endif

#define GS_VERSION "0.1.0"

/* Exit statuses of the gilsim and gilsim-view programs (docs/cli.md). */
typedef enum gs_exit {
    GS_EXIT_OK = 0,
    GS_EXIT_USAGE = 1,     /* invalid scenario or usage */
    GS_EXIT_STOPPED = 2,   /* the simulation could not run or stopped early */
    GS_EXIT_IO = 3,        /* a file could not be read or written */
    GS_EXIT_INTERRUPTED = 130 /* interrupted (a sweep) */
} gs_exit_t;

/* The error table: name, code, message, and the exit status a program ends
 * with when this error ends it (the one mapping, gs_exit_status). */
#define GS_ERRNO_MAP(X)                                                      \
    X(EINVAL, -1, "invalid argument", GS_EXIT_USAGE)                         \
    X(ENOMEM, -2, "out of memory", GS_EXIT_STOPPED)                          \
    X(ESYNTAX, -3, "JSON syntax error", GS_EXIT_USAGE)                       \
    X(ESCENARIO, -4, "invalid scenario", GS_EXIT_USAGE)                      \
    X(EIO, -5, "input/output error", GS_EXIT_IO)                             \
    X(ELIMIT, -6, "simulation limit reached", GS_EXIT_STOPPED)               \
    X(EDEADLOCK, -7, "deadlock", GS_EXIT_STOPPED)                            \
    X(ETHREAD, -8, "cannot create a worker thread", GS_EXIT_STOPPED)         \
    X(ERUNTIME, -9, "runtime error in a thread body", GS_EXIT_STOPPED)       \
    X(ESTOPPED, -10, "simulation stopped", GS_EXIT_STOPPED)

typedef enum gs_errno {
    GS_OK = 0,
#define GS_ERR_ENUM_(name, val, text, exit) GS_##name = (val),
    GS_ERRNO_MAP(GS_ERR_ENUM_)
#undef GS_ERR_ENUM_
} gs_errno_t;

/* "invalid argument" for GS_EINVAL, "unknown error" for anything else. */
GS_API const char *gs_strerror(int code);

/* The exit status for a result: GS_EXIT_OK for 0, the table's for a GS_E*
 * code, GS_EXIT_USAGE for anything else. */
GS_API int gs_exit_status(int code);

/* One diagnostic. file/line/col for syntax errors, path for semantic ones. */
typedef struct gs_error {
    int code;       /* GS_E*; 0 if none */
    char file[256]; /* scenario file, may be empty */
    int line, col;  /* 1-based; 0 if unknown (semantic errors) */
    char path[128]; /* "threads[1].program[4].io"; empty if none */
    char msg[384];  /* what was found and what would be valid */
} gs_error_t;

/* Writes "file:line:col: path: msg" (parts that are empty are left out).
 * Returns what snprintf returns. */
GS_API int gs_error_format(const gs_error_t *e, char *buf, size_t n);

/* The descriptor a path names without being a file to open: dash_fd for "-",
 * 0, 1, 2 for /dev/stdin, /dev/stdout, /dev/stderr, N for /dev/fd/N and
 * /proc/self/fd/N (a shell's <(...) and >(...)); -1 for any other path. Such
 * paths are read or written in place, never opened or replaced. */
GS_API int gs_path_fd(const char *path, int dash_fd);

/* Scenario text for a terminal: control characters (C0 but, when newlines
 * is true, newline and tab; DEL; C1 U+0080..U+009F) written as visible
 * escapes (\x1b, \u009b), so a name cannot clear the screen or retitle the
 * window. gs_escape_controls fills buf (truncating) and returns it. */
GS_API char *gs_escape_controls(const char *s, char *buf, size_t n, bool newlines);
GS_API void gs_fput_escaped(FILE *f, const char *s, bool newlines);

#endif
