/* whatif.c - a what-if on a fitted scenario: the rule gilsim replay and
 * gilsim-view share.
 *
 * machine.policy=fifo runs each thread until it blocks (docs/scenarios.md).
 * The fitted other load (the process GS_FIT_LOAD_PROCESS, sim/fit/load.c)
 * stands for other programs' busy threads, which never block: under fifo
 * they would keep their cores to the end of the run, the program's threads
 * queued behind them, and the what-if would run to the scenario's time
 * limit. What a user asking "what if my program ran under FIFO" means is
 * Linux's SCHED_FIFO for the program alone (chrt -f), which outranks the
 * other programs' normal threads: they get only the cores it leaves idle.
 * So such a what-if runs without the load: the caller loads the scenario
 * again with one more override, processes=[] (as the fit's description says
 * removes the load), and says so. One function, so that the command line and
 * the viewer cannot drift apart. */
#include "gilsim/fit.h"

#include <string.h>

bool gs_fit_what_if_without_load(const gs_model_t *m)
{
    if (!m || m->machine.policy != GS_POLICY_FIFO)
        return false;
    for (int i = 0; i < m->n_processes; i++)
        if (m->processes[i].name && strcmp(m->processes[i].name, GS_FIT_LOAD_PROCESS) == 0)
            return true;
    return false;
}
