/* scenario_load.c - loads scenario files (or stdin for "-") and prints "ok"
 * or the errors; exit 0 when all load. Used by check_schema.py. */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "gilsim/scenario.h"

static int load_stdin(gs_model_t **m, gs_diag_t *d)
{
    size_t cap = 1 << 16, len = 0, r;
    char *buf = malloc(cap);
    if (!buf)
        return GS_ENOMEM;
    while ((r = fread(buf + len, 1, cap - len, stdin)) > 0) {
        len += r;
        if (len == cap) {
            char *nb = realloc(buf, cap *= 2);
            if (!nb) {
                free(buf);
                return GS_ENOMEM;
            }
            buf = nb;
        }
    }
    int rc = gs_scenario_load_string("<stdin>", buf, len, NULL, 0, m, d);
    free(buf);
    return rc;
}

int main(int argc, char **argv)
{
    int bad = 0;
    for (int i = 1; i < argc; i++) {
        gs_model_t *m = NULL;
        gs_diag_t d;
        int rc = strcmp(argv[i], "-") == 0 ? load_stdin(&m, &d)
                                           : gs_scenario_load_file(argv[i], NULL, 0, &m, &d);
        if (rc == 0)
            printf("%s: ok\n", argv[i]);
        else {
            gs_diag_print(&d, stdout);
            bad = 1;
        }
        gs_model_free(m);
    }
    return bad;
}
