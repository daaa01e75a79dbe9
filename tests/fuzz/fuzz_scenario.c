/* fuzz_scenario.c - libFuzzer harness for the scenario loader.
 *
 * The input is handed over without a terminator (the loader must not read
 * past len), with one override taken from the input's first line when it
 * starts with '#' so the override path code is fuzzed too. Built and run by
 * run_fuzz.sh; replay_corpus.c replays the saved inputs in the normal build. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "gilsim/scenario.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

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
    gs_model_free(m);
    return 0;
}
