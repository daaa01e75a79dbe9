/* scenario_cpus.c - "cpus": the CPU affinity of a scenario's processes.
 *
 * What `taskset -c LIST` (sched_setaffinity) gives a process: the set of
 * cores its threads may run on. Written as a CPU number (0), a list of
 * numbers ([0, 2]), taskset's list syntax ("0-2,5"), or "all" (no
 * affinity, the default). At the top level it is the program's: the "main"
 * process's, and inherited by every declared process that gives none (a
 * child inherits its parent's mask under taskset); a process's own "cpus"
 * replaces it ("all" frees a process, e.g. a fit's "other load", which
 * stands for the machine's other programs). Errors name the JSON path and
 * what would be valid: an empty set, a CPU past machine.cores, a bad range.
 * docs/scenarios.md "CPU affinity". */
#include "scenario_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

#define CPUS_EXAMPLE "0, [0, 1], \"0-1,3\" (taskset -c's list) or \"all\""

static bool add_cpu(gs__scen_t *ld, int64_t c, gs_cpuset_t *s)
{
    int cores = ld->m->machine.cores;
    if (c < 0 || c >= cores) {
        gs__scen_err(ld, "CPU %lld is out of range: machine.cores is %d, so CPUs are 0 to %d",
                     (long long)c, cores, cores - 1);
        return false;
    }
    s->w[c / 64] |= UINT64_C(1) << (c % 64);
    return true;
}

/* taskset's list syntax: "0", "0-2", "0,2-3"; whitespace around items. */
static bool read_list(gs__scen_t *ld, const char *text, gs_cpuset_t *s)
{
    const char *p = text;
    for (;;) {
        while (isspace((unsigned char)*p))
            p++;
        if (!isdigit((unsigned char)*p))
            goto bad;
        char *end;
        long a = strtol(p, &end, 10), b = a;
        p = end;
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '-') {
            p++;
            while (isspace((unsigned char)*p))
                p++;
            if (!isdigit((unsigned char)*p))
                goto bad;
            b = strtol(p, &end, 10);
            p = end;
            if (b < a) {
                gs__scen_err(ld, "the range \"%ld-%ld\" is backwards: write \"%ld-%ld\"", a, b,
                             b, a);
                return false;
            }
        }
        if (!add_cpu(ld, a, s) || !add_cpu(ld, b, s)) /* both in range */
            return false;
        for (long c = a + 1; c < b; c++)
            add_cpu(ld, c, s);
        while (isspace((unsigned char)*p))
            p++;
        if (*p == '\0')
            return true;
        if (*p != ',')
            goto bad;
        p++;
    }
bad:
    gs__scen_err(ld, "\"%.40s\" is not a CPU list: write %s", text, CPUS_EXAMPLE);
    return false;
}

int gs__scen_read_cpus(gs__scen_t *ld, const cJSON *obj, gs_cpuset_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, "cpus");
    if (!v)
        return 0;
    size_t mark = gs__scen_push_key(ld, "cpus");
    gs_cpuset_t s;
    memset(&s, 0, sizeof s);
    bool ok = true;
    char got[64];
    if (cJSON_IsString(v) && strcmp(v->valuestring, "all") == 0) {
        /* no affinity: every core */
    } else if (cJSON_IsString(v)) {
        const char *t = v->valuestring;
        while (isspace((unsigned char)*t))
            t++;
        if (!*t) {
            gs__scen_err(ld, "an empty CPU set: a process needs at least one CPU; write %s",
                         CPUS_EXAMPLE);
            ok = false;
        } else {
            ok = read_list(ld, t, &s);
        }
    } else if (cJSON_IsNumber(v)) {
        double d = v->valuedouble;
        if (d != (double)(int64_t)d) {
            gs__scen_err(ld, "a CPU is a whole number from 0 to %d, got %g",
                         ld->m->machine.cores - 1, d);
            ok = false;
        } else {
            ok = add_cpu(ld, (int64_t)d, &s);
        }
    } else if (cJSON_IsArray(v)) {
        if (!v->child) {
            gs__scen_err(ld, "an empty CPU set: a process needs at least one CPU; write %s",
                         CPUS_EXAMPLE);
            ok = false;
        }
        int i = 0;
        for (const cJSON *c = v->child; c && ok; c = c->next, i++) {
            size_t m2 = gs__scen_push_index(ld, i);
            if (!cJSON_IsNumber(c) || c->valuedouble != (double)(int64_t)c->valuedouble) {
                gs__scen_describe(c, got, sizeof got);
                gs__scen_err(ld, "a CPU is a whole number from 0 to %d, got %s",
                             ld->m->machine.cores - 1, got);
                ok = false;
            } else {
                ok = add_cpu(ld, (int64_t)c->valuedouble, &s);
            }
            gs__scen_pop(ld, m2);
        }
    } else {
        gs__scen_describe(v, got, sizeof got);
        gs__scen_err(ld, "a CPU set is written %s, got %s", CPUS_EXAMPLE, got);
        ok = false;
    }
    gs__scen_pop(ld, mark);
    if (!ok)
        return -1;
    *out = s;
    return 1;
}
