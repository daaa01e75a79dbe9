/* scenario.c - placeholder until the loader lands (issue 5). */
#include "gilsim/scenario.h"

#include <string.h>

int gs_override_parse(char *s, gs_override_t *o)
{
    (void)s;
    (void)o;
    return GS_EINVAL;
}

int gs_scenario_load_file(const char *path, const gs_override_t *ov, int n_ov, gs_model_t **out,
                          gs_diag_t *diag)
{
    (void)path;
    (void)ov;
    (void)n_ov;
    *out = NULL;
    memset(diag, 0, sizeof *diag);
    return GS_EINVAL;
}

int gs_scenario_load_string(const char *name, const char *text, size_t len,
                            const gs_override_t *ov, int n_ov, gs_model_t **out, gs_diag_t *diag)
{
    (void)name;
    (void)text;
    (void)len;
    return gs_scenario_load_file("", ov, n_ov, out, diag);
}

void gs_diag_print(const gs_diag_t *d, FILE *out)
{
    (void)d;
    (void)out;
}
