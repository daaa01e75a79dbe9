/* scenario.c - JSON scenario files -> validated gs_model_t: the entry points.
 *
 * Loading is: read (size limit) -> copy into a NUL-terminated buffer (the
 * input may come from a fuzzer without one) -> depth pre-scan -> cJSON parse
 * (syntax errors with line, column and a guess at the cause) -> overrides
 * applied to the tree -> scenario_build.c reads the tree into a model. Any
 * error anywhere frees the model: the caller gets a whole model or none.
 * The format: docs/scenarios.md and docs/scenario.schema.json. */
#include "gilsim/scenario.h"

#include "scenario_int.h"

#include <ctype.h>
#include <errno.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* ---- syntax errors ------------------------------------------------------ */

static void line_col(const char *text, size_t pos, int *line, int *col, size_t *line_start)
{
    int l = 1;
    size_t ls = 0;
    for (size_t i = 0; i < pos; i++)
        if (text[i] == '\n') {
            l++;
            ls = i + 1;
        }
    *line = l;
    *col = (int)(pos - ls) + 1;
    *line_start = ls;
}

/* Keeps the offending line (up to the excerpt size) for gs_diag_print. */
static void keep_excerpt(gs_diag_t *d, const char *text, size_t len, size_t line_start,
                         size_t pos)
{
    size_t end = line_start; /* lines end at \n only, as line_col counts them */
    while (end < len && text[end] != '\n')
        end++;
    size_t from = line_start, room = sizeof d->excerpt - 1;
    if (pos - from > room - 20 && pos > 40) /* keep the caret in view on a long line */
        from = pos - 40;
    if (end < from)
        end = from;
    if (end - from > room)
        end = from + room;
    for (size_t i = from; i < end; i++) { /* control bytes would garble the terminal */
        unsigned char c = (unsigned char)text[i];
        d->excerpt[i - from] = c == '\t' || c >= 0x20 ? (char)c : ' ';
    }
    d->excerpt[end - from] = '\0';
    d->excerpt_col = (int)(pos - from);
}

static void syntax_error(gs_diag_t *d, const char *file, const char *text, size_t len, size_t pos,
                         const char *msg)
{
    int line, col;
    size_t ls;
    if (pos > len)
        pos = len;
    line_col(text, pos, &line, &col, &ls);
    gs__scen_diag_add(d, GS_ESYNTAX, file, line, col, "", msg);
    keep_excerpt(d, text, len, ls, pos);
}

static bool is_value_end(char c)
{
    return c == '"' || c == '}' || c == ']' || isdigit((unsigned char)c) || c == 'e' ||
           c == 'l'; /* true, false, null */
}

/* cJSON points at the opening quote of a string it could not read: find
 * why in the string itself. */
static bool explain_string(gs_diag_t *d, const char *file, const char *text, size_t len, size_t p)
{
    for (size_t q = p + 1; q < len; q++) {
        unsigned char ch = (unsigned char)text[q];
        if (ch == '"')
            return false; /* the string is fine: something else is wrong */
        if (ch < 0x20) {
            syntax_error(d, file, text, len, q,
                         ch == '\n' ? "a string is not closed on this line (or holds a raw line "
                                      "break: write \\n)"
                                    : "a raw control character in a string: escape it");
            return true;
        }
        if (ch == '\\') {
            char e = q + 1 < len ? text[q + 1] : '\0';
            if (!strchr("\"\\/bfnrtu", e) || e == '\0') {
                syntax_error(d, file, text, len, q,
                             "invalid escape in a string: use \\\\ \\\" \\/ \\b \\f \\n "
                             "\\r \\t or \\uXXXX");
                return true;
            }
            if (e == 'u') {
                for (int k = 2; k < 6; k++)
                    if (q + (size_t)k >= len || !isxdigit((unsigned char)text[q + (size_t)k])) {
                        syntax_error(d, file, text, len, q,
                                     "invalid \\u escape: write four hex digits, as \\u00e9");
                        return true;
                    }
            }
            q++;
        }
    }
    syntax_error(d, file, text, len, p, "a string is not closed: its closing \" is missing");
    return true;
}

/* cJSON says where it stopped, not why: look at the text around that place
 * and say what is most likely wrong. */
static void explain_syntax(gs_diag_t *d, const char *file, const char *text, size_t len,
                           size_t pos)
{
    size_t p = pos < len ? pos : len;
    while (p < len && isspace((unsigned char)text[p]))
        p++;
    size_t b = p; /* the previous non-space character is text[b - 1] */
    while (b > 0 && isspace((unsigned char)text[b - 1]))
        b--;
    char prev = b > 0 ? text[b - 1] : '\0';
    char c = p < len ? text[p] : '\0';
    char msg[160];
    if (p >= len) {
        syntax_error(d, file, text, len, len,
                     "unexpected end of the file: a string, [ or { is not closed");
        return;
    }
    if (c == '/' || prev == '/') {
        syntax_error(d, file, text, len, c == '/' && prev != '/' ? p : b - 1,
                     "comments are not allowed in JSON");
        return;
    }
    if ((c == '}' || c == ']') && prev == ',') {
        snprintf(msg, sizeof msg, "a comma before '%c' is not allowed in JSON: remove it", c);
        syntax_error(d, file, text, len, b - 1, msg);
        return;
    }
    if (c == '\'' || prev == '\'') {
        syntax_error(d, file, text, len, c == '\'' ? p : b - 1,
                     "strings and keys need double quotes (\"), not single quotes");
        return;
    }
    if (c == '"' && !(is_value_end(prev) && b > 0 && prev != '"')) {
        if (explain_string(d, file, text, len, p))
            return;
    }
    /* a word: back up to its start */
    size_t w = p;
    while (w > 0 && (isalnum((unsigned char)text[w - 1]) || text[w - 1] == '_'))
        w--;
    if (isalpha((unsigned char)text[w]) || text[w] == '_') {
        size_t e = w;
        while (e < len && (isalnum((unsigned char)text[e]) || text[e] == '_') && e - w < 40)
            e++;
        if (w > 0 && text[w - 1] == '"' && explain_string(d, file, text, len, w - 1))
            return;
        snprintf(msg, sizeof msg,
                 "unexpected word \"%.*s\": strings and keys need double quotes; the only bare "
                 "words are true, false and null",
                 (int)(e - w), text + w);
        syntax_error(d, file, text, len, w, msg);
        return;
    }
    if (c == '"' && is_value_end(prev) && b > 0) {
        syntax_error(d, file, text, len, p, "missing comma before this");
        return;
    }
    if (prev == '"' && (c == '{' || c == '[' || isdigit((unsigned char)c) || c == '-')) {
        syntax_error(d, file, text, len, p, "missing ':' or ',' before this");
        return;
    }
    if (c == '"' && prev != '"') {
        syntax_error(d, file, text, len, p,
                     "a string is not closed, or holds a raw line break or control character "
                     "(write \\n)");
        return;
    }
    if (isprint((unsigned char)c))
        snprintf(msg, sizeof msg, "unexpected '%c'", c);
    else
        snprintf(msg, sizeof msg, "unexpected byte 0x%02x", (unsigned char)c);
    syntax_error(d, file, text, len, p, msg);
}

/* Depth limit before cJSON recurses: cJSON's own limit (1000) is far above
 * anything a scenario needs and its error would not say why. */
static bool check_depth(gs_diag_t *d, const char *file, const char *text, size_t len)
{
    int depth = 0;
    bool in_str = false;
    for (size_t i = 0; i < len; i++) {
        char c = text[i];
        if (in_str) {
            if (c == '\\')
                i++;
            else if (c == '"')
                in_str = false;
        } else if (c == '"') {
            in_str = true;
        } else if (c == '[' || c == '{') {
            if (++depth > GS_SCEN_MAX_JSON_DEPTH) {
                char msg[96];
                snprintf(msg, sizeof msg, "nested more than %d levels deep",
                         GS_SCEN_MAX_JSON_DEPTH);
                syntax_error(d, file, text, len, i, msg);
                return false;
            }
        } else if (c == ']' || c == '}') {
            depth--;
        }
    }
    return true;
}

/* ---- overrides ---------------------------------------------------------- */

int gs_override_parse(char *s, gs_override_t *o)
{
    if (!s || !o)
        return GS_EINVAL;
    char *eq = strchr(s, '=');
    if (!eq || eq == s)
        return GS_EINVAL;
    *eq = '\0';
    o->key = s;
    o->value = eq + 1;
    return 0;
}

static cJSON *override_value(const char *s)
{
    const char *end = NULL;
    cJSON *v = cJSON_ParseWithLengthOpts(s, strlen(s), &end, 0);
    if (v) {
        while (end && isspace((unsigned char)*end))
            end++;
        if (end && *end == '\0')
            return v;
        cJSON_Delete(v);
    }
    return cJSON_CreateString(s);
}

/* One segment of a path: a key, or an index [i]. */
typedef struct seg {
    bool is_index;
    int index;
    char key[128];
} seg_t;

/* Reads the segment at *pp; advances *pp. 0, or -1 with why. */
static int next_seg(const char **pp, seg_t *s, char *why, size_t n)
{
    const char *p = *pp;
    memset(s, 0, sizeof *s);
    if (*p == '[') {
        char *e;
        errno = 0;
        long v = strtol(p + 1, &e, 10);
        if (e == p + 1 || *e != ']' || v < 0 || v > 1000000 || errno) {
            snprintf(why, n, "expected an index like [0] at \"%.40s\"", p);
            return -1;
        }
        s->is_index = true;
        s->index = (int)v;
        *pp = e + 1;
        return 0;
    }
    size_t l = strcspn(p, ".[]");
    if (l == 0 || l >= sizeof s->key) {
        snprintf(why, n, "expected a key at \"%.40s\"", p);
        return -1;
    }
    memcpy(s->key, p, l);
    *pp = p + l;
    return 0;
}

/* One step of an override's path. */
typedef struct walk {
    const gs_override_t *o;
    char walked[256]; /* the path so far, for messages */
    char *why;
    size_t n;
} walk_t;

/* Sets the value at the end of the path; 1, or -1 when out of memory. */
static int set_value(walk_t *w, cJSON *cur, const seg_t *s, cJSON *child)
{
    cJSON *v = override_value(w->o->value);
    bool ok = v != NULL;
    if (ok && s->is_index)
        ok = cJSON_ReplaceItemInArray(cur, s->index, v);
    else if (ok)
        ok = child ? cJSON_ReplaceItemInObjectCaseSensitive(cur, s->key, v)
                   : cJSON_AddItemToObject(cur, s->key, v);
    if (!ok) {
        cJSON_Delete(v);
        snprintf(w->why, w->n, "out of memory");
        return -1;
    }
    return 1;
}

/* Steps into list entry [s->index] of cur: 0 with *next, 1 when set (last),
 * -1 with the reason. */
static int step_index(walk_t *w, cJSON *cur, const seg_t *s, bool last, cJSON **next)
{
    if (!cJSON_IsArray(cur)) {
        snprintf(w->why, w->n, "%s is not a list, so [%d] does not apply",
                 w->walked[0] ? w->walked : "the top level", s->index);
        return -1;
    }
    int size = cJSON_GetArraySize(cur);
    if (s->index >= size) {
        snprintf(w->why, w->n, "index %d is out of range: %s has %d entr%s", s->index, w->walked,
                 size, size == 1 ? "y" : "ies");
        return -1;
    }
    if (last)
        return set_value(w, cur, s, NULL);
    *next = cJSON_GetArrayItem(cur, s->index);
    size_t wl = strlen(w->walked);
    snprintf(w->walked + wl, sizeof w->walked - wl, "[%d]", s->index);
    return 0;
}

/* Steps into key s->key of cur (creating an object for "python.x" on a file
 * without "python"); as step_index. dotted: the key came after a '.', and
 * rest is what follows it in the path. */
static int step_key(walk_t *w, cJSON *cur, const seg_t *s, bool last, bool dotted,
                    const char *rest, cJSON **next)
{
    if (!cJSON_IsObject(cur)) {
        snprintf(w->why, w->n, "%s is not an object, so it has no key \"%s\"",
                 w->walked[0] ? w->walked : "the top level", s->key);
        return -1;
    }
    cJSON *child = cJSON_GetObjectItemCaseSensitive(cur, s->key);
    if (last)
        return set_value(w, cur, s, child);
    if (!child) {
        if (*rest == '[' || !dotted) {
            snprintf(w->why, w->n, "%s%s%s does not exist, so it has no entries", w->walked,
                     w->walked[0] ? "." : "", s->key);
            return -1;
        }
        child = cJSON_AddObjectToObject(cur, s->key); /* python.x on a file without python */
        if (!child) {
            snprintf(w->why, w->n, "out of memory");
            return -1;
        }
    }
    *next = child;
    size_t wl = strlen(w->walked);
    snprintf(w->walked + wl, sizeof w->walked - wl, "%s%s", wl ? "." : "", s->key);
    return 0;
}

int gs__scen_apply_override(cJSON *root, const gs_override_t *o, char *why, size_t n)
{
    const char *p = o->key;
    cJSON *cur = root;
    seg_t s;
    walk_t w = {.o = o, .walked = "", .why = why, .n = n};
    if (!*p) {
        snprintf(why, n, "empty key");
        return -1;
    }
    for (;;) {
        if (next_seg(&p, &s, why, n) < 0)
            return -1;
        bool last = *p == '\0';
        if (!last && *p == '.')
            p++;
        else if (!last && *p != '[') {
            snprintf(why, n, "unexpected \"%.20s\"", p);
            return -1;
        }
        cJSON *next = NULL;
        int r = s.is_index ? step_index(&w, cur, &s, last, &next)
                           : step_key(&w, cur, &s, last, !last && p[-1] == '.', p, &next);
        if (r != 0)
            return r < 0 ? -1 : 0;
        cur = next;
    }
}

/* ---- loading ------------------------------------------------------------ */

/* cJSON returns NULL both for bad JSON and when an allocation fails; its
 * allocations go through these hooks so that the loader can tell them apart
 * (out of memory is not an invalid file). */
static _Thread_local bool tl_cjson_oom;

static void *cjson_malloc(size_t n)
{
    void *p = malloc(n);
    if (!p)
        tl_cjson_oom = true;
    return p;
}

static void cjson_hooks(void)
{
    cJSON_Hooks h = {cjson_malloc, free};
    cJSON_InitHooks(&h);
}

static pthread_once_t cjson_once = PTHREAD_ONCE_INIT;

/* The text as one strict JSON document: *root, or an error in diag. */
static int parse_json(const char *file, const char *text, size_t len, cJSON **root,
                      gs_diag_t *diag)
{
    const char *end = NULL;
    size_t s = 0;
    while (s < len && isspace((unsigned char)text[s]))
        s++;
    if (s == len) {
        gs__scen_diag_add(diag, GS_ESYNTAX, file, 1, 1, "",
                          "the file is empty; a scenario is a JSON object like {\"threads\": "
                          "[{\"name\": \"t\", \"program\": [{\"cpu\": \"5ms\"}]}]}");
        return GS_ESYNTAX;
    }
    char strict[256];
    size_t bad = gs__scen_check_strict(text, len, strict, sizeof strict);
    if (bad != SIZE_MAX) {
        syntax_error(diag, file, text, len, bad, strict);
        return GS_ESYNTAX;
    }
    if (!check_depth(diag, file, text, len))
        return GS_ESYNTAX;
    pthread_once(&cjson_once, cjson_hooks);
    tl_cjson_oom = false;
    *root = cJSON_ParseWithLengthOpts(text, len, &end, 0);
    if (!*root && tl_cjson_oom) {
        gs__scen_diag_add(diag, GS_ENOMEM, file, 0, 0, "", "out of memory reading the JSON");
        return GS_ENOMEM;
    }
    if (!*root) {
        explain_syntax(diag, file, text, len, end ? (size_t)(end - text) : 0);
        return GS_ESYNTAX;
    }
    size_t rest = (size_t)(end - text);
    while (rest < len && isspace((unsigned char)text[rest]))
        rest++;
    if (rest < len) {
        syntax_error(diag, file, text, len, rest,
                     "unexpected text after the end of the JSON document");
        cJSON_Delete(*root);
        *root = NULL;
        return GS_ESYNTAX;
    }
    return 0;
}

/* --set KEY=VALUE applied to the tree; each one refused goes to diag. */
static void apply_overrides(cJSON *root, const char *file, const gs_override_t *ov, int n_ov,
                            gs_diag_t *diag)
{
    for (int i = 0; i < n_ov; i++) {
        char why[200];
        if (!ov[i].key || !ov[i].value) {
            gs__scen_diag_add(diag, GS_ESCENARIO, file, 0, 0, "", "an override without a key");
            continue;
        }
        if (gs__scen_apply_override(root, &ov[i], why, sizeof why) < 0) {
            char msg[300];
            snprintf(msg, sizeof msg, "cannot set %s=%.40s: %s", ov[i].key, ov[i].value, why);
            gs__scen_diag_add(diag, GS_ESCENARIO, file, 0, 0, ov[i].key, msg);
        }
    }
}

/* The model built from the tree, checked as the engine will check it. */
static int build_model(cJSON *root, const char *file, gs_model_t **out, gs_diag_t *diag)
{
    int rc = GS_ESCENARIO;
    gs__scen_t ld = {0};
    ld.file = file;
    ld.diag = diag;
    if (diag->n_total == 0 && (ld.m = gs_model_new()) != NULL) {
        gs__scen_build(&ld, root);
        if (!ld.nomem && !(ld.m->source = strdup(file)))
            ld.nomem = true;
    }
    if (!ld.m || ld.nomem) {
        gs__scen_diag_add(diag, GS_ENOMEM, file, 0, 0, "", "out of memory");
        rc = GS_ENOMEM;
    }
    gs_error_t chk;
    if (diag->n_total == 0 && gs_model_check(ld.m, &chk) < 0) {
        /* the loader let through what the engine refuses: a loader bug */
        char msg[300];
        snprintf(msg, sizeof msg, "internal: the model check refused it: %.250s", chk.msg);
        gs__scen_diag_add(diag, GS_ESCENARIO, file, 0, 0, chk.path, msg);
    }
    if (diag->n_total == 0) {
        *out = ld.m;
        ld.m = NULL;
        rc = 0;
    }
    gs_model_free(ld.m);
    gs__names_destroy(&ld.locks);
    gs__names_destroy(&ld.events);
    gs__names_destroy(&ld.queues);
    gs__names_destroy(&ld.threads);
    gs__names_destroy(&ld.procs);
    gs__names_destroy(&ld.bases);
    free(ld.decls);
    free(ld.started);
    return rc;
}

static int load_tree(const char *file, const char *text, size_t len, const gs_override_t *ov,
                     int n_ov, gs_model_t **out, gs_diag_t *diag)
{
    cJSON *root = NULL;
    int rc = parse_json(file, text, len, &root, diag);
    if (rc != 0)
        return rc;
    apply_overrides(root, file, ov, n_ov, diag);
    rc = build_model(root, file, out, diag);
    cJSON_Delete(root);
    return rc;
}

int gs_scenario_load_string(const char *name, const char *text, size_t len,
                            const gs_override_t *ov, int n_ov, gs_model_t **out, gs_diag_t *diag)
{
    gs_diag_t local;
    if (!diag)
        diag = &local;
    memset(diag, 0, sizeof *diag);
    if (!name)
        name = "<string>";
    if (!out || (!text && len > 0) || n_ov < 0 || (n_ov > 0 && !ov)) {
        gs__scen_diag_add(diag, GS_EINVAL, name, 0, 0, "", "invalid argument");
        return GS_EINVAL;
    }
    *out = NULL;
    if (len > GS_SCEN_MAX_BYTES) {
        char msg[96];
        snprintf(msg, sizeof msg, "the file is %zu bytes; the limit is %d bytes (4 MiB)", len,
                 GS_SCEN_MAX_BYTES);
        gs__scen_diag_add(diag, GS_ESCENARIO, name, 0, 0, "", msg);
        return GS_ESCENARIO;
    }
    char *copy = malloc(len + 1); /* cJSON and our scanners want a terminator */
    if (!copy) {
        gs__scen_diag_add(diag, GS_ENOMEM, name, 0, 0, "", "out of memory");
        return GS_ENOMEM;
    }
    if (len)
        memcpy(copy, text, len);
    copy[len] = '\0';
    int rc = load_tree(name, copy, len, ov, n_ov, out, diag);
    free(copy);
    return rc;
}

int gs_scenario_read_file(const char *path, char **text, size_t *len, gs_diag_t *diag)
{
    gs_diag_t local;
    if (!diag)
        diag = &local;
    memset(diag, 0, sizeof *diag);
    *text = NULL;
    char why[256];
    int rc = gs__scen_read_input(path, text, len, why, sizeof why);
    if (rc) {
        gs__scen_diag_add(diag, rc, path, 0, 0, "", why);
        return rc;
    }
    if (*len > GS_SCEN_MAX_BYTES) {
        char msg[96];
        snprintf(msg, sizeof msg, "the file is larger than the limit of %d bytes (4 MiB)",
                 GS_SCEN_MAX_BYTES);
        gs__scen_diag_add(diag, GS_ESCENARIO, path, 0, 0, "", msg);
        free(*text);
        *text = NULL;
        return GS_ESCENARIO;
    }
    return 0;
}

int gs_scenario_load_file(const char *path, const gs_override_t *ov, int n_ov, gs_model_t **out,
                          gs_diag_t *diag)
{
    gs_diag_t local;
    if (!diag)
        diag = &local;
    memset(diag, 0, sizeof *diag);
    if (out)
        *out = NULL;
    if (!path || !out) {
        gs__scen_diag_add(diag, GS_EINVAL, path ? path : "", 0, 0, "", "invalid argument");
        return GS_EINVAL;
    }
    char *buf = NULL;
    size_t len = 0;
    int rc = gs_scenario_read_file(path, &buf, &len, diag);
    if (rc == 0)
        rc = load_tree(strcmp(path, "-") == 0 ? "<stdin>" : path, buf, len, ov, n_ov, out, diag);
    free(buf);
    return rc;
}

/* ---- printing ----------------------------------------------------------- */

void gs_diag_print(const gs_diag_t *d, FILE *out)
{
    char buf[1024];
    for (int i = 0; i < d->n; i++) {
        const gs_error_t *e = &d->e[i];
        gs_error_format(e, buf, sizeof buf);
        gs_fput_escaped(out, buf, true); /* messages quote names from the file */
        fputc('\n', out);
        if (e->code == GS_ESYNTAX && e->line > 0 && d->excerpt[0]) {
            /* The line as it is, but with controls made visible; the caret
             * goes under the same character. */
            fputs("    ", out);
            gs_fput_escaped(out, d->excerpt, false);
            fputs("\n    ", out);
            for (int k = 0; k < d->excerpt_col && d->excerpt[k]; k++) {
                char one[2] = {d->excerpt[k], '\0'}, esc[8];
                size_t wide = strlen(gs_escape_controls(one, esc, sizeof esc, false));
                if ((d->excerpt[k] & 0xC0) == 0x80)
                    continue; /* a UTF-8 continuation byte: no column of its own */
                for (size_t c = 0; c < wide; c++)
                    fputc(' ', out);
            }
            fputs("^\n", out);
        }
    }
    if (d->n_total > d->n)
        fprintf(out, "... and %d more error%s\n", d->n_total - d->n,
                d->n_total - d->n == 1 ? "" : "s");
}
