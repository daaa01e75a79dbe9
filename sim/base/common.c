/* common.c - error table and formatting. */
#include "gilsim/common.h"

#include <stdio.h>

const char *gs_strerror(int code)
{
    switch (code) {
    case 0:
        return "ok";
#define GS_ERR_TEXT_(name, val, text, exit)                                                        \
    case val:                                                                                      \
        return text;
        GS_ERRNO_MAP(GS_ERR_TEXT_)
#undef GS_ERR_TEXT_
    }
    return "unknown error";
}

int gs_exit_status(int code)
{
    switch (code) {
    case 0:
        return GS_EXIT_OK;
#define GS_ERR_EXIT_(name, val, text, exit)                                                        \
    case val:                                                                                      \
        return exit;
        GS_ERRNO_MAP(GS_ERR_EXIT_)
#undef GS_ERR_EXIT_
    }
    return GS_EXIT_USAGE;
}

int gs_error_format(const gs_error_t *e, char *buf, size_t n)
{
    char where[300] = "";
    if (e->file[0] && e->line > 0)
        snprintf(where, sizeof where, "%s:%d:%d: ", e->file, e->line, e->col);
    else if (e->file[0])
        snprintf(where, sizeof where, "%s: ", e->file);
    return snprintf(buf, n, "%s%s%s%s", where, e->path, e->path[0] ? ": " : "",
                    e->msg[0] ? e->msg : gs_strerror(e->code));
}
