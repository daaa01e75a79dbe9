/* scenario_util.c - the scenario loader's tools: JSON paths, error reports,
 * a name table, did-you-mean, exact duration parsing and typed getters.
 *
 * Durations are parsed with integer arithmetic only: "0.1ms" is exactly
 * 100000 ns, and a fraction finer than 1 ns is an error rather than rounded.
 * Every getter reports its own errors at the current path, so the format code
 * in scenario_build.c reads like the format. */
#include "scenario_int.h"

#include <ctype.h>
#include <inttypes.h>
#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ---- paths and errors --------------------------------------------------- */

static size_t path_append(gs__scen_t *ld, const char *s)
{
    size_t mark = ld->path_len;
    size_t room = sizeof ld->path - ld->path_len;
    int w = snprintf(ld->path + ld->path_len, room, "%s", s);
    if (w < 0 || (size_t)w >= room)
        ld->path_len = sizeof ld->path - 1; /* truncated; still a prefix */
    else
        ld->path_len += (size_t)w;
    return mark;
}

size_t gs__scen_push_key(gs__scen_t *ld, const char *key)
{
    size_t mark = ld->path_len;
    if (ld->path_len > 0)
        path_append(ld, ".");
    path_append(ld, key);
    return mark;
}

size_t gs__scen_push_index(gs__scen_t *ld, int i)
{
    char b[24];
    snprintf(b, sizeof b, "[%d]", i);
    return path_append(ld, b);
}

void gs__scen_pop(gs__scen_t *ld, size_t mark)
{
    ld->path_len = mark;
    ld->path[mark] = '\0';
}

static void copy_trunc(char *dst, size_t n, const char *src)
{
    if (!src)
        src = "";
    size_t l = strlen(src);
    if (l >= n)
        l = n - 1;
    memcpy(dst, src, l);
    dst[l] = '\0';
}

void gs__scen_diag_add(gs_diag_t *d, int code, const char *file, int line, int col,
                       const char *path, const char *msg)
{
    d->n_total++;
    if (d->n >= GS_DIAG_MAX)
        return;
    gs_error_t *e = &d->e[d->n++];
    memset(e, 0, sizeof *e);
    e->code = code;
    copy_trunc(e->file, sizeof e->file, file);
    e->line = line;
    e->col = col;
    copy_trunc(e->path, sizeof e->path, path);
    copy_trunc(e->msg, sizeof e->msg, msg);
}

void gs__scen_err(gs__scen_t *ld, const char *fmt, ...)
{
    char msg[sizeof ld->diag->e[0].msg];
    if (ld->diag->n >= GS_DIAG_MAX) { /* counted, not stored: skip the formatting */
        ld->diag->n_total++;
        return;
    }
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    gs__scen_diag_add(ld->diag, GS_ESCENARIO, ld->file, 0, 0, ld->path, msg);
}

/* ---- names -------------------------------------------------------------- */

static uint64_t hash_str(const char *s)
{
    uint64_t h = 1469598103934665603u; /* FNV-1a */
    for (; *s; s++)
        h = (h ^ (unsigned char)*s) * 1099511628211u;
    return h;
}

void gs__names_destroy(gs__names_t *t)
{
    free(t->key);
    free(t->val);
    memset(t, 0, sizeof *t);
}

int gs__names_get(const gs__names_t *t, const char *key)
{
    if (t->cap == 0)
        return -1;
    for (size_t i = hash_str(key) & (t->cap - 1);; i = (i + 1) & (t->cap - 1)) {
        if (!t->key[i])
            return -1;
        if (strcmp(t->key[i], key) == 0)
            return t->val[i];
    }
}

static int names_grow(gs__names_t *t)
{
    size_t cap = t->cap ? t->cap * 2 : 16;
    const char **k = calloc(cap, sizeof *k);
    int *v = calloc(cap, sizeof *v);
    if (!k || !v) {
        free(k);
        free(v);
        return GS_ENOMEM;
    }
    for (size_t i = 0; i < t->cap; i++) {
        if (!t->key[i])
            continue;
        size_t j = hash_str(t->key[i]) & (cap - 1);
        while (k[j])
            j = (j + 1) & (cap - 1);
        k[j] = t->key[i];
        v[j] = t->val[i];
    }
    free(t->key);
    free(t->val);
    t->key = k;
    t->val = v;
    t->cap = cap;
    return 0;
}

int gs__names_put(gs__names_t *t, const char *key, int val)
{
    if (gs__names_get(t, key) >= 0)
        return 1;
    if ((t->n + 1) * 2 > t->cap && names_grow(t) < 0) /* load factor <= 1/2 */
        return GS_ENOMEM;
    size_t i = hash_str(key) & (t->cap - 1);
    while (t->key[i])
        i = (i + 1) & (t->cap - 1);
    t->key[i] = key;
    t->val[i] = val;
    t->n++;
    return 0;
}

/* ---- did-you-mean ------------------------------------------------------- */

#define EDIT_MAX_LEN 64

int gs__scen_edit_distance(const char *a, const char *b)
{
    size_t la = strlen(a), lb = strlen(b);
    if (la > EDIT_MAX_LEN || lb > EDIT_MAX_LEN)
        return 1000;
    int row[EDIT_MAX_LEN + 1];
    for (size_t j = 0; j <= lb; j++)
        row[j] = (int)j;
    for (size_t i = 1; i <= la; i++) {
        int diag = row[0];
        row[0] = (int)i;
        for (size_t j = 1; j <= lb; j++) {
            int up = row[j];
            int cost = tolower((unsigned char)a[i - 1]) != tolower((unsigned char)b[j - 1]);
            int best = diag + cost;
            if (up + 1 < best)
                best = up + 1;
            if (row[j - 1] + 1 < best)
                best = row[j - 1] + 1;
            row[j] = best;
            diag = up;
        }
    }
    return row[lb];
}

const char *gs__scen_did_you_mean(const char *word, const char *const *cands, int n)
{
    const char *best = NULL;
    int best_d = 1000;
    for (int i = 0; n < 0 ? cands[i] != NULL : i < n; i++) {
        int d = gs__scen_edit_distance(word, cands[i]);
        if (d < best_d) {
            best_d = d;
            best = cands[i];
        }
    }
    if (!best)
        return NULL;
    /* close enough: a third of the candidate's letters, at least 1, at most 3 */
    int limit = (int)strlen(best) / 3;
    if (limit < 1)
        limit = 1;
    if (limit > 3)
        limit = 3;
    return best_d <= limit ? best : NULL;
}

void gs__scen_describe(const cJSON *v, char *buf, size_t n)
{
    if (!v)
        snprintf(buf, n, "nothing");
    else if (cJSON_IsString(v)) {
        const char *s = v->valuestring;
        if (strlen(s) > 40)
            snprintf(buf, n, "the string \"%.37s...\"", s);
        else
            snprintf(buf, n, "the string \"%s\"", s);
    } else if (cJSON_IsNumber(v))
        snprintf(buf, n, "the number %.17g", v->valuedouble);
    else if (cJSON_IsTrue(v))
        snprintf(buf, n, "true");
    else if (cJSON_IsFalse(v))
        snprintf(buf, n, "false");
    else if (cJSON_IsNull(v))
        snprintf(buf, n, "null");
    else if (cJSON_IsArray(v))
        snprintf(buf, n, "an array");
    else if (cJSON_IsObject(v))
        snprintf(buf, n, "an object");
    else
        snprintf(buf, n, "an invalid value");
}

void gs__scen_fmt_dur(const gs_dur_t *d, char *buf, size_t n)
{
    char a[32], b[32];
    gs_format_ns_exact(d->a_ns, a, sizeof a);
    gs_format_ns_exact(d->b_ns, b, sizeof b);
    switch (d->dist) {
    case GS_DIST_UNIFORM:
        snprintf(buf, n, "uniform(%s, %s)", a, b);
        break;
    case GS_DIST_EXP:
        snprintf(buf, n, "exp(%s)", a);
        break;
    case GS_DIST_NORMAL:
        snprintf(buf, n, "normal(%s, %s)", a, b);
        break;
    default:
        snprintf(buf, n, "%s", a);
    }
}

/* ---- typed getters ------------------------------------------------------ */

static void list_keys(const char *const *valid, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
    for (int i = 0; valid[i] && used < n; i++) {
        int w = snprintf(buf + used, n - used, "%s%s", i ? ", " : "", valid[i]);
        if (w < 0)
            break;
        used += (size_t)w;
    }
}

int gs__scen_check_keys(gs__scen_t *ld, const cJSON *obj, const char *const *valid)
{
    uint64_t seen = 0; /* valid lists have fewer than 64 keys */
    int bad = 0;
    for (const cJSON *c = obj->child; c; c = c->next) {
        int k = -1;
        for (int i = 0; valid[i]; i++)
            if (strcmp(c->string, valid[i]) == 0)
                k = i;
        size_t mark = gs__scen_push_key(ld, c->string);
        if (k < 0) {
            const char *dym = gs__scen_did_you_mean(c->string, valid, -1);
            if (dym) {
                gs__scen_err(ld, "unknown key \"%.40s\" \xE2\x80\x94 did you mean \"%s\"?",
                             c->string, dym);
            } else {
                char list[256];
                list_keys(valid, list, sizeof list);
                gs__scen_err(ld, "unknown key \"%.40s\"; valid keys here: %s", c->string, list);
            }
            bad++;
        } else if (seen & (UINT64_C(1) << k)) {
            gs__scen_err(ld, "duplicate key \"%s\": each key may appear once", c->string);
            bad++;
        } else {
            seen |= UINT64_C(1) << k;
        }
        gs__scen_pop(ld, mark);
    }
    return bad;
}

static bool expect_kind(gs__scen_t *ld, const cJSON *v, bool ok, const char *what,
                        const char *example)
{
    if (ok)
        return true;
    char got[64];
    gs__scen_describe(v, got, sizeof got);
    if (example)
        gs__scen_err(ld, "expected %s like %s, got %s", what, example, got);
    else
        gs__scen_err(ld, "expected %s, got %s", what, got);
    return false;
}

bool gs__scen_expect_object(gs__scen_t *ld, const cJSON *v, const char *example)
{
    return expect_kind(ld, v, cJSON_IsObject(v), "an object", example);
}

bool gs__scen_expect_array(gs__scen_t *ld, const cJSON *v, const char *example)
{
    return expect_kind(ld, v, cJSON_IsArray(v), "a list", example);
}

int gs__scen_get_string(gs__scen_t *ld, const cJSON *obj, const char *key, size_t max,
                        const char **out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t mark = gs__scen_push_key(ld, key);
    int r = -1;
    if (!expect_kind(ld, v, cJSON_IsString(v), "a string", NULL))
        goto done;
    size_t l = strlen(v->valuestring);
    if (l > max) {
        gs__scen_err(ld, "is %zu bytes long; at most %zu are allowed", l, max);
        goto done;
    }
    *out = v->valuestring;
    r = 1;
done:
    gs__scen_pop(ld, mark);
    return r;
}

int gs__scen_get_int(gs__scen_t *ld, const cJSON *obj, const char *key, int64_t lo, int64_t hi,
                     int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t mark = gs__scen_push_key(ld, key);
    int r = -1;
    double d = cJSON_IsNumber(v) ? v->valuedouble : 0;
    char got[64];
    gs__scen_describe(v, got, sizeof got);
    if (!cJSON_IsNumber(v) || d != floor(d) || d < (double)lo || d > (double)hi) {
        if (cJSON_IsString(v) && v->valuestring[0] && isdigit((unsigned char)v->valuestring[0]))
            gs__scen_err(ld, "must be a number without quotes (%" PRId64 " to %" PRId64
                             "), got %s",
                         lo, hi, got);
        else if (hi == INT64_MAX || hi >= GS_SCEN_MAX_REPEAT)
            gs__scen_err(ld, "must be a whole number >= %" PRId64 ", got %s", lo, got);
        else
            gs__scen_err(ld, "must be a whole number from %" PRId64 " to %" PRId64 ", got %s",
                         lo, hi, got);
        goto done;
    }
    *out = (int64_t)d;
    r = 1;
done:
    gs__scen_pop(ld, mark);
    return r;
}

int gs__scen_get_bool(gs__scen_t *ld, const cJSON *obj, const char *key, bool *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t mark = gs__scen_push_key(ld, key);
    int r = -1;
    if (expect_kind(ld, v, cJSON_IsBool(v), "true or false", NULL)) {
        *out = cJSON_IsTrue(v);
        r = 1;
    }
    gs__scen_pop(ld, mark);
    return r;
}

int gs__scen_get_enum(gs__scen_t *ld, const cJSON *obj, const char *key,
                      const char *const *names, int *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t mark = gs__scen_push_key(ld, key);
    int r = -1;
    char list[160];
    list_keys(names, list, sizeof list);
    if (!cJSON_IsString(v)) {
        char got[64];
        gs__scen_describe(v, got, sizeof got);
        gs__scen_err(ld, "expected one of %s (a string), got %s", list, got);
        goto done;
    }
    for (int i = 0; names[i]; i++)
        if (strcmp(v->valuestring, names[i]) == 0) {
            *out = i;
            r = 1;
            goto done;
        }
    const char *dym = gs__scen_did_you_mean(v->valuestring, names, -1);
    if (dym)
        gs__scen_err(ld, "unknown value \"%.40s\" \xE2\x80\x94 did you mean \"%s\"? (one of %s)",
                     v->valuestring, dym, list);
    else
        gs__scen_err(ld, "unknown value \"%.40s\"; expected one of %s", v->valuestring, list);
done:
    gs__scen_pop(ld, mark);
    return r;
}

/* A duration string at the current path. */
static bool read_ns(gs__scen_t *ld, const cJSON *v, int64_t *ns)
{
    char why[200];
    if (cJSON_IsNumber(v)) {
        gs__scen_err(ld, "a bare number has no unit: write \"%.17gms\" (or ns, us, s)",
                     v->valuedouble);
        return false;
    }
    if (!cJSON_IsString(v)) {
        char got[64];
        gs__scen_describe(v, got, sizeof got);
        gs__scen_err(ld, "expected a duration like \"5ms\", got %s", got);
        return false;
    }
    if (gs_parse_ns(v->valuestring, ns, why, sizeof why) < 0) {
        gs__scen_err(ld, "%s", why);
        return false;
    }
    return true;
}

int gs__scen_get_fixed(gs__scen_t *ld, const cJSON *obj, const char *key, int64_t lo,
                       int64_t *out)
{
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(obj, key);
    if (!v)
        return 0;
    size_t mark = gs__scen_push_key(ld, key);
    int r = -1;
    int64_t ns;
    if (cJSON_IsObject(v)) {
        gs__scen_err(ld, "must be a fixed duration like \"5ms\"; distributions are for op "
                         "durations only");
        goto done;
    }
    if (!read_ns(ld, v, &ns))
        goto done;
    if (ns < lo) {
        char b[32];
        gs_format_ns_exact(lo, b, sizeof b);
        gs__scen_err(ld, "must be at least %s, got \"%s\"", b, v->valuestring);
        goto done;
    }
    *out = ns;
    r = 1;
done:
    gs__scen_pop(ld, mark);
    return r;
}

static const char *const dist_keys[] = {"uniform", "exp", "normal", NULL};

/* "uniform": [a, b] or "normal": [mean, sd] */
static bool read_pair(gs__scen_t *ld, const cJSON *v, const char *what, int64_t *a, int64_t *b)
{
    if (!cJSON_IsArray(v) || cJSON_GetArraySize(v) != 2) {
        char got[64];
        gs__scen_describe(v, got, sizeof got);
        gs__scen_err(ld, "expected a list of two durations %s, got %s", what, got);
        return false;
    }
    bool ok = true;
    size_t mark = gs__scen_push_index(ld, 0);
    ok &= read_ns(ld, v->child, a);
    gs__scen_pop(ld, mark);
    mark = gs__scen_push_index(ld, 1);
    ok &= read_ns(ld, v->child->next, b);
    gs__scen_pop(ld, mark);
    return ok;
}

bool gs__scen_read_dur(gs__scen_t *ld, const cJSON *v, gs_dur_t *d)
{
    memset(d, 0, sizeof *d);
    if (!cJSON_IsObject(v)) {
        d->dist = GS_DIST_FIXED;
        return read_ns(ld, v, &d->a_ns);
    }
    if (gs__scen_check_keys(ld, v, dist_keys) > 0)
        return false;
    if (!v->child || v->child->next) {
        gs__scen_err(ld, "a distribution has exactly one key: {\"uniform\": [\"1ms\", \"2ms\"]}, "
                         "{\"exp\": \"1ms\"} or {\"normal\": [\"5ms\", \"1ms\"]}");
        return false;
    }
    const cJSON *c = v->child;
    size_t mark = gs__scen_push_key(ld, c->string);
    bool ok = false;
    if (strcmp(c->string, "exp") == 0) {
        d->dist = GS_DIST_EXP;
        ok = read_ns(ld, c, &d->a_ns);
    } else if (strcmp(c->string, "uniform") == 0) {
        d->dist = GS_DIST_UNIFORM;
        ok = read_pair(ld, c, "[low, high] like [\"1ms\", \"2ms\"]", &d->a_ns, &d->b_ns);
        if (ok && d->a_ns > d->b_ns) {
            gs__scen_err(ld, "low must not exceed high, got [\"%s\", \"%s\"]",
                         c->child->valuestring, c->child->next->valuestring);
            ok = false;
        }
    } else {
        d->dist = GS_DIST_NORMAL;
        ok = read_pair(ld, c, "[mean, sd] like [\"5ms\", \"1ms\"]", &d->a_ns, &d->b_ns);
    }
    gs__scen_pop(ld, mark);
    return ok;
}

bool gs__scen_check_name(gs__scen_t *ld, const cJSON *v)
{
    if (!cJSON_IsString(v)) {
        char got[64];
        gs__scen_describe(v, got, sizeof got);
        gs__scen_err(ld, "expected a name (a string), got %s", got);
        return false;
    }
    const char *s = v->valuestring;
    size_t l = strlen(s);
    if (l == 0) {
        gs__scen_err(ld, "a name must not be empty");
        return false;
    }
    if (l > GS_SCEN_MAX_NAME) {
        gs__scen_err(ld, "a name is at most %d bytes, this one has %zu", GS_SCEN_MAX_NAME, l);
        return false;
    }
    for (size_t i = 0; i < l; i++)
        if ((unsigned char)s[i] < 0x20 || s[i] == 0x7f) {
            gs__scen_err(ld, "a name must not contain control characters");
            return false;
        }
    return true;
}
