/* paths.c - which paths name a descriptor the process already holds.
 *
 * "-", /dev/stdin, /dev/stdout, /dev/stderr, /dev/fd/N and /proc/self/fd/N
 * are read or written through that descriptor, never opened or replaced: a
 * shell's <(...) and >(...) pass /dev/fd/N, and /dev/stdout may be a pipe, a
 * terminal or a file the shell opened, which renaming a new file over its
 * name would silently detach. */
#include "gilsim/common.h"

#include <ctype.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

int gs_path_fd(const char *path, int dash_fd)
{
    if (!path)
        return -1;
    if (strcmp(path, "-") == 0)
        return dash_fd;
    if (strcmp(path, "/dev/stdin") == 0)
        return STDIN_FILENO;
    if (strcmp(path, "/dev/stdout") == 0)
        return STDOUT_FILENO;
    if (strcmp(path, "/dev/stderr") == 0)
        return STDERR_FILENO;
    const char *num = strncmp(path, "/dev/fd/", 8) == 0          ? path + 8
                      : strncmp(path, "/proc/self/fd/", 14) == 0 ? path + 14
                                                                 : NULL;
    if (!num || !isdigit((unsigned char)*num))
        return -1;
    char *end;
    errno = 0;
    long v = strtol(num, &end, 10);
    return *end || errno || v > 1000000 ? -1 : (int)v;
}
