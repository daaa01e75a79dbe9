/* stats.c - placeholder until the metrics land (issue 4/6). */
#include "gilsim/stats.h"

#include <string.h>

int gs_stats_compute(const gs_trace_t *t, gs_stats_t *s)
{
    (void)t;
    memset(s, 0, sizeof *s);
    return GS_EINVAL;
}

void gs_stats_destroy(gs_stats_t *s)
{
    (void)s;
}
