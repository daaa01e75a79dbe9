/* versions.c - python.version presets: what each CPython version changes.
 *
 * A preset fills a gs_python_t from the defaults; the scenario's explicit
 * python keys are applied on top of it (they win). Every number and rule is
 * sourced in docs/model.md, "What changes between versions".
 *
 *   2.7       tick GIL (cpython2): check interval 100, the lock a POSIX
 *             semaphore whose release costs a futex call while anyone
 *             waits (Python/ceval.c, Python/thread_pthread.h)
 *   3.2-3.11  the switch-interval GIL (cpython3), one per process
 *   3.12      one GIL per interpreter (PEP 684); the drop request is set on
 *             the waiter's interpreter
 *   3.13      the drop request is set on the holder's thread (gh-112175)
 *   3.13t     free-threaded: no GIL, Python 1.40x slower (specialisation off,
 *             gh-115999), the GIL back on when a non-free-threaded extension
 *             is imported (gh-116322)
 *   3.14      daemon threads hang at finalization (gh-87135)
 *   3.14t     free-threaded, Python 1.08x slower on x86-64 Linux
 *   3.15(t)   as 3.14; 3.15t 1.09x (Meta's free-threading benchmarks)
 */
#include <stdio.h>
#include <string.h>

#include "gilsim/model.h"

typedef struct preset {
    const char *name;
    int version; /* major * 100 + minor */
    bool free_threaded;
    int slowdown_pct; /* free-threaded: single-thread cost of Python code */
} preset_t;

static const preset_t presets[] = {
    {"2.7", 207, false, 100},   {"3.2", 302, false, 100},  {"3.3", 303, false, 100},
    {"3.4", 304, false, 100},   {"3.5", 305, false, 100},  {"3.6", 306, false, 100},
    {"3.7", 307, false, 100},   {"3.8", 308, false, 100},  {"3.9", 309, false, 100},
    {"3.10", 310, false, 100},  {"3.11", 311, false, 100}, {"3.12", 312, false, 100},
    {"3.13", 313, false, 100},  {"3.13t", 313, true, 140}, {"3.14", 314, false, 100},
    {"3.14t", 314, true, 108},  {"3.15", 315, false, 100}, {"3.15t", 315, true, 109},
};
#define N_PRESETS (int)(sizeof presets / sizeof presets[0])

static const preset_t *find(const char *name)
{
    for (int i = 0; i < N_PRESETS; i++)
        if (strcmp(presets[i].name, name) == 0)
            return &presets[i];
    return NULL;
}

int gs_python_preset(const char *name, gs_python_t *py)
{
    const preset_t *p = find(name);
    if (!p)
        return GS_EINVAL;
    gs_python_defaults(py);
    py->version = p->version;
    py->free_threaded = p->free_threaded;
    if (p->version < 302) {
        py->gil = GS_GIL_CPYTHON2;
        /* This machine's pure-Python loop: 3 counted ticks a turn, ~17 ns a
         * turn on 2.7 (docs/validation-versions.md). */
        py->tick_ns = 6;
    } else if (p->free_threaded) {
        py->gil = GS_GIL_NONE;
        py->slowdown_pct = p->slowdown_pct;
    }
    return 0;
}

const char *gs_python_preset_names(void)
{
    return "\"2.7\", \"3.2\" ... \"3.11\", \"3.12\", \"3.13\", \"3.13t\", \"3.14\", "
           "\"3.14t\", \"3.15\", \"3.15t\"";
}

const char *gs_python_version_name(const gs_python_t *py, char *buf, size_t n)
{
    if (py->version <= 0)
        return "";
    for (int i = 0; i < N_PRESETS; i++)
        if (presets[i].version == py->version && presets[i].free_threaded == py->free_threaded)
            return presets[i].name;
    snprintf(buf, n, "%d.%d", py->version / 100, py->version % 100);
    return buf;
}
