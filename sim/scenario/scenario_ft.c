/* scenario_ft.c - the loader's part for free-threaded contention: the
 * "objects" a scenario shares between threads, and the keys of a cpu op that
 * reads or writes one ("reads"/"writes" + "every"), and import's
 * "free_threading". docs/scenarios.md, "Shared objects". */
#include "scenario_int.h"

#include <stdio.h>
#include <string.h>

static const char *const kind_names[] = {"dict", "list", "object", "function", "immortal", NULL};

static int find_object(const gs_model_t *m, const char *name)
{
    for (int i = 0; i < m->n_objects; i++)
        if (strcmp(m->objects[i].name, name) == 0)
            return i;
    return -1;
}

void gs__scen_read_objects(gs__scen_t *ld, const cJSON *root)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(root, "objects");
    if (!v)
        return;
    size_t mark = gs__scen_push_key(ld, "objects");
    if (!gs__scen_expect_object(ld, v, "{\"cache\": \"dict\", \"handler\": \"function\"}"))
        goto done;
    if (cJSON_GetArraySize(v) > GS_SCEN_MAX_ITEMS) {
        gs__scen_err(ld, "has %d entries; at most %d are allowed", cJSON_GetArraySize(v),
                     GS_SCEN_MAX_ITEMS);
        goto done;
    }
    for (const cJSON *c = v->child; c; c = c->next) {
        int e;
        if (gs__scen_get_enum(ld, v, c->string, kind_names, &e) <= 0)
            continue;
        if (find_object(ld->m, c->string) >= 0) {
            size_t m2 = gs__scen_push_key(ld, c->string);
            gs__scen_err(ld, "is declared twice");
            gs__scen_pop(ld, m2);
            continue;
        }
        if (gs_model_add_object(ld->m, c->string, (gs_obj_kind_t)e) < 0)
            ld->nomem = true;
    }
done:
    gs__scen_pop(ld, mark);
}

bool gs__scen_read_access(gs__scen_t *ld, const cJSON *v, gs_op_t *op)
{
    const cJSON *rd = cJSON_GetObjectItemCaseSensitive(v, "reads");
    const cJSON *wr = cJSON_GetObjectItemCaseSensitive(v, "writes");
    const cJSON *ev = cJSON_GetObjectItemCaseSensitive(v, "every");
    const cJSON *ft = cJSON_GetObjectItemCaseSensitive(v, "free_threading");
    if (ft) {
        size_t mark = gs__scen_push_key(ld, "free_threading");
        bool ok = op->kind == GS_OP_IMPORT && cJSON_IsBool(ft);
        if (op->kind != GS_OP_IMPORT)
            gs__scen_err(ld, "belongs to an import op");
        else if (!ok)
            gs__scen_err(ld, "expected true (the extension declares Py_mod_gil) or false");
        op->every_ns = cJSON_IsTrue(ft);
        gs__scen_pop(ld, mark);
        if (!ok)
            return false;
    }
    if (!rd && !wr && !ev)
        return true;
    if (op->kind != GS_OP_CPU) {
        gs__scen_err(ld, "\"reads\", \"writes\" and \"every\" belong to a cpu op");
        return false;
    }
    if ((rd && wr) || !(rd || wr)) {
        gs__scen_err(ld, "a cpu op %s; e.g. {\"cpu\": \"10ms\", \"reads\": \"cache\", "
                         "\"every\": \"100ns\"}",
                     rd ? "either reads or writes one object, not both: split it"
                        : "with \"every\" also needs \"reads\" or \"writes\" (an object name)");
        return false;
    }
    const cJSON *name = rd ? rd : wr;
    size_t mark = gs__scen_push_key(ld, rd ? "reads" : "writes");
    int idx = cJSON_IsString(name) ? find_object(ld->m, name->valuestring) : -1;
    if (idx < 0) {
        char got[64];
        gs__scen_describe(name, got, sizeof got);
        if (ld->m->n_objects == 0)
            gs__scen_err(ld, "%s is not a declared object: no objects are declared; add "
                             "\"objects\": {\"cache\": \"dict\"}",
                         got);
        else
            gs__scen_err(ld, "%s is not a declared object (declared: %s%s)", got,
                         ld->m->objects[0].name, ld->m->n_objects > 1 ? ", ..." : "");
    }
    gs__scen_pop(ld, mark);
    if (idx < 0)
        return false;
    op->shared = idx + 1;
    op->writes = wr != NULL;
    op->every_ns = 100; /* one access per 100 ns of Python by default */
    if (ev && gs__scen_get_fixed(ld, v, "every", 1, &op->every_ns) < 0)
        return false;
    return true;
}
