/* picker.c - the in-app scenario picker (O): every .json file of the
 * scenarios folder with its name and description, read through the loader
 * (a file that does not load shows its first error instead). */
#include "view.h"

#include <dirent.h>
#include <libgen.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#ifndef GV_SCENARIOS_DIR
#define GV_SCENARIOS_DIR "scenarios"
#endif

void gv_picker_close(gv_picker_t *p)
{
    for (int i = 0; i < p->n; i++) {
        free(p->files[i]);
        free(p->names[i]);
        free(p->descs[i]);
    }
    free(p->files);
    free(p->names);
    free(p->descs);
    memset(p, 0, sizeof *p);
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

static bool is_json(const char *n)
{
    size_t k = strlen(n);
    return k > 5 && strcmp(n + k - 5, ".json") == 0 && n[0] != '.';
}

/* The .json files of dir, sorted; 0 when there are none. */
static int scan(gv_picker_t *p, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int cap = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        if (!is_json(e->d_name))
            continue;
        if (p->n == cap) {
            cap = cap ? cap * 2 : 32;
            char **f = realloc(p->files, (size_t)cap * sizeof *f);
            if (!f)
                break;
            p->files = f;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        if (!(p->files[p->n] = malloc(len)))
            break;
        snprintf(p->files[p->n], len, "%s/%s", dir, e->d_name);
        p->n++;
    }
    closedir(d);
    if (p->n)
        qsort(p->files, (size_t)p->n, sizeof *p->files, cmp_str);
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    return p->n;
}

static void describe(gv_picker_t *p)
{
    static gs_diag_t diag;
    p->names = calloc((size_t)p->n, sizeof *p->names);
    p->descs = calloc((size_t)p->n, sizeof *p->descs);
    if (!p->names || !p->descs)
        return;
    for (int i = 0; i < p->n; i++) {
        gs_model_t *m = NULL;
        char buf[1024];
        if (gs_scenario_load_file(p->files[i], NULL, 0, &m, &diag) == 0 && m) {
            p->names[i] = strdup(m->name && *m->name ? m->name : "(unnamed)");
            p->descs[i] = strdup(m->description ? m->description : "");
            gs_model_free(m);
        } else {
            snprintf(buf, sizeof buf, "does not load: %s", diag.n ? diag.e[0].msg : "?");
            p->names[i] = strdup("(invalid scenario)");
            p->descs[i] = strdup(buf);
        }
    }
}

void gv_picker_open(gv_view_t *v)
{
    gv_picker_t *p = &v->picker;
    gv_picker_close(p);
    char here[1024] = "";
    if (v->path) {
        snprintf(here, sizeof here, "%s", v->path);
        snprintf(here, sizeof here, "%s", dirname(here));
    }
    const char *env = getenv("GILSIM_SCENARIOS");
    const char *dirs[] = {env, here[0] ? here : NULL, "scenarios", GV_SCENARIOS_DIR};
    for (size_t i = 0; i < sizeof dirs / sizeof dirs[0]; i++)
        if (dirs[i] && scan(p, dirs[i]) > 0)
            break;
    if (p->n == 0) {
        gv_picker_close(p);
        gv_view_notice(v, true, "no scenarios found: looked in $GILSIM_SCENARIOS, the current "
                                "file's folder, ./scenarios and %s", GV_SCENARIOS_DIR);
        return;
    }
    describe(p);
    for (int i = 0; i < p->n; i++)
        if (v->path && strcmp(p->files[i], v->path) == 0)
            p->sel = i;
    p->open = true;
}

static void choose(gv_view_t *v, int i)
{
    if (i < 0 || i >= v->picker.n)
        return;
    char *path = strdup(v->picker.files[i]);
    gv_picker_close(&v->picker);
    if (path)
        gv_view_load(v, path);
    free(path);
}

static void keep_visible(gv_picker_t *p)
{
    if (p->sel < 0)
        p->sel = 0;
    if (p->sel >= p->n)
        p->sel = p->n - 1;
    int vis = p->visible > 0 ? p->visible : 1;
    if (p->sel < p->top)
        p->top = p->sel;
    if (p->sel >= p->top + vis)
        p->top = p->sel - vis + 1;
}

bool gv_picker_event(gv_view_t *v, const SDL_Event *e)
{
    gv_picker_t *p = &v->picker;
    switch (e->type) {
    case SDL_KEYDOWN:
        switch (e->key.keysym.sym) {
        case SDLK_ESCAPE:
        case SDLK_o: gv_picker_close(p); return true;
        case SDLK_UP: p->sel--; break;
        case SDLK_DOWN: p->sel++; break;
        case SDLK_PAGEUP: p->sel -= p->visible; break;
        case SDLK_PAGEDOWN: p->sel += p->visible; break;
        case SDLK_HOME: p->sel = 0; break;
        case SDLK_END: p->sel = p->n - 1; break;
        case SDLK_RETURN:
        case SDLK_KP_ENTER: choose(v, p->sel); return true;
        default: return true;
        }
        keep_visible(p);
        return true;
    case SDL_MOUSEWHEEL:
        p->top -= e->wheel.y;
        if (p->top > p->n - p->visible)
            p->top = p->n - p->visible;
        if (p->top < 0)
            p->top = 0;
        return true;
    case SDL_MOUSEBUTTONDOWN: {
        int x = (int)(e->button.x * v->px_per_pt), y = (int)(e->button.y * v->px_per_pt);
        SDL_Rect b = p->box;
        if (x < b.x || x >= b.x + b.w || y < b.y || y >= b.y + b.h) {
            gv_picker_close(p);
            return true;
        }
        if (y >= p->list_y && p->row_h > 0)
            choose(v, p->top + (y - p->list_y) / p->row_h);
        return true;
    }
    case SDL_MOUSEBUTTONUP:
    case SDL_MOUSEMOTION: return true;
    default: return false;
    }
}

void gv_draw_picker(gv_view_t *v, SDL_Renderer *r)
{
    gv_picker_t *p = &v->picker;
    gv_layout_t *l = &v->lay;
    int pad = l->px;
    SDL_Rect b = {l->w / 10, l->h / 12, l->w * 8 / 10, l->h * 10 / 12};
    p->box = b;
    gv_fill(r, (SDL_Rect){0, 0, l->w, l->h}, 0x000000u, 90);
    gv_fill(r, b, GV_BG, 255);
    gv_frame(r, b, GV_INK, 2);
    char head[1200];
    snprintf(head, sizeof head, "Open a scenario \xE2\x80\x94 %s", p->dir);
    gv_text_draw_fit(v->text, GV_TITLE, GV_INK, b.x + pad, b.y + pad / 2, b.w - 2 * pad, head);
    int y = b.y + pad / 2 + gv_text_line(v->text, GV_TITLE);
    gv_text_draw_fit(v->text, GV_REGULAR, GV_MUTED, b.x + pad, y, b.w - 2 * pad,
                     "up/down and Enter, or click; Esc closes");
    y += l->line + pad / 2;
    p->list_y = y;
    p->row_h = 2 * l->line + pad / 3;
    p->visible = (b.y + b.h - y - pad / 2) / p->row_h;
    if (p->visible < 1)
        p->visible = 1;
    keep_visible(p);
    for (int i = p->top; i < p->n && i < p->top + p->visible; i++, y += p->row_h) {
        if (i == p->sel)
            gv_fill(r, (SDL_Rect){b.x + 4, y, b.w - 8, p->row_h - 2}, 0xD6E9F8u, 255);
        const char *base = strrchr(p->files[i], '/');
        base = base ? base + 1 : p->files[i];
        int nw = gv_text_draw_fit(v->text, GV_BOLD, GV_INK, b.x + pad, y, b.w / 2,
                                  p->names ? p->names[i] : base);
        gv_text_draw_fit(v->text, GV_REGULAR, GV_MUTED, b.x + pad + nw + pad, y,
                         b.w - nw - 3 * pad, base);
        gv_text_draw_fit(v->text, GV_REGULAR, GV_INK, b.x + pad, y + l->line, b.w - 2 * pad,
                         p->descs && p->descs[i] ? p->descs[i] : "");
    }
}
