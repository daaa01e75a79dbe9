/* fuzz_scenario.c - libFuzzer harness for the scenario loader and the
 * simulation.
 *
 * The input is handed over without a terminator (the loader must not read
 * past len), with one override taken from the input's first line when it
 * starts with '#' so the override path code is fuzzed too. A scenario that
 * loads is then run, bounded so that an input costs milliseconds: at most 64
 * threads, `until` at most 5 ms, 100 000 events and a 16 MiB memory budget
 * (docs/limits.md); the trace must pass gs_trace_check and give metrics.
 * Built and run by run_fuzz.sh; replay_corpus.c replays the saved inputs in
 * the normal build. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gilsim/gilsim.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void simulate(const gs_model_t *m)
{
    gs_run_opts_t o;
    gs_run_opts_init(&o);
    o.until_ns = m->until_ns < 5000000 ? m->until_ns : 5000000;
    o.max_events = m->max_events < 100000 ? m->max_events : 100000;
    o.memory_budget = (size_t)16 << 20;
    gs_trace_t *t = NULL;
    gs_error_t err;
    int rc = gs_sim_run(m, &o, &t, &err);
    bool traced = rc == 0 || rc == GS_EDEADLOCK || rc == GS_ELIMIT || rc == GS_ERUNTIME ||
                  rc == GS_ESTOPPED;
    if (traced != (t != NULL) || (!t && rc != GS_ETHREAD && rc != GS_ENOMEM))
        abort(); /* the contract of gs_sim_run */
    if (!t)
        return;
    if (gs_trace_check(t, &err) != 0)
        abort(); /* an invariant of the trace broke */
    gs_stats_t s;
    if (gs_stats_compute(t, &s) == 0)
        gs_stats_destroy(&s);
    gs_trace_free(t);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    gs_override_t ov;
    int n_ov = 0;
    char line[256];
    const char *text = (const char *)data;
    if (size > 1 && data[0] == '#') {
        const uint8_t *nl = memchr(data, '\n', size);
        size_t l = nl ? (size_t)(nl - data) : size;
        if (l - 1 < sizeof line) {
            memcpy(line, data + 1, l - 1);
            line[l - 1] = '\0';
            if (gs_override_parse(line, &ov) == 0)
                n_ov = 1;
            text += nl ? l + 1 : l;
            size -= nl ? l + 1 : l;
        }
    }
    gs_model_t *m = NULL;
    gs_diag_t d;
    int rc = gs_scenario_load_string("fuzz.json", text, size, &ov, n_ov, &m, &d);
    if ((rc == 0) != (m != NULL) || d.n > d.n_total || d.n > GS_DIAG_MAX)
        abort(); /* the contract of gs_scenario_load_string */
    if (m && m->n_threads <= 64)
        simulate(m);
    gs_model_free(m);
    return 0;
}
