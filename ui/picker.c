/* picker.c - the in-app scenario picker (O): a folder browser. A folder's
 * sub-folders (its parent first) and its .json files with their names and
 * descriptions, read through the loader (a file that does not load shows its
 * first error instead). Enter on a folder opens it, Backspace goes up, and L
 * (or the first row) goes back to the lessons from anywhere. */
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
    free(p->is_dir);
    memset(p, 0, sizeof *p);
}

/* Folders first (the parent ".." before all), then files; by name. */
static int cmp_entry(const void *a, const void *b)
{
    const char *x = *(char *const *)a, *y = *(char *const *)b;
    size_t nx = strlen(x), ny = strlen(y);
    bool dx = nx && x[nx - 1] == '/', dy = ny && y[ny - 1] == '/';
    if (dx != dy)
        return dx ? -1 : 1;
    bool px = dx && nx >= 3 && strcmp(x + nx - 3, "../") == 0;
    bool py = dy && ny >= 3 && strcmp(y + ny - 3, "../") == 0;
    if (px != py)
        return px ? -1 : 1;
    return strcmp(x, y);
}

const char *gv_lessons_dir(void)
{
    const char *env = getenv("GILSIM_SCENARIOS");
    if (env && *env)
        return env;
    DIR *d = opendir("scenarios");
    if (d) {
        closedir(d);
        return "scenarios";
    }
    return GV_SCENARIOS_DIR;
}

static bool is_json(const char *n)
{
    size_t k = strlen(n);
    return k > 5 && strcmp(n + k - 5, ".json") == 0 && n[0] != '.';
}

static bool is_folder(const char *dir, const char *name)
{
    if (name[0] == '.' && strcmp(name, "..") != 0)
        return false; /* hidden, and "." */
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", dir, name);
    DIR *d = opendir(path);
    if (d)
        closedir(d);
    return d != NULL;
}

/* The sub-folders (names ending in '/') and .json files of dir, sorted;
 * returns the number of .json files. */
static int scan(gv_picker_t *p, const char *dir)
{
    DIR *d = opendir(dir);
    if (!d)
        return 0;
    int cap = 0, n_json = 0;
    struct dirent *e;
    while ((e = readdir(d))) {
        bool folder = is_folder(dir, e->d_name);
        if (!folder && !is_json(e->d_name))
            continue;
        n_json += !folder;
        if (p->n == cap) {
            cap = cap ? cap * 2 : 32;
            char **f = realloc(p->files, (size_t)cap * sizeof *f);
            if (!f)
                break;
            p->files = f;
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 3;
        if (!(p->files[p->n] = malloc(len)))
            break;
        snprintf(p->files[p->n], len, "%s/%s%s", dir, e->d_name, folder ? "/" : "");
        p->n++;
    }
    closedir(d);
    if (p->n)
        qsort(p->files, (size_t)p->n, sizeof *p->files, cmp_entry);
    snprintf(p->dir, sizeof p->dir, "%s", dir);
    return n_json;
}

static void describe(gv_picker_t *p)
{
    static gs_diag_t diag;
    p->names = calloc((size_t)p->n, sizeof *p->names);
    p->descs = calloc((size_t)p->n, sizeof *p->descs);
    p->is_dir = calloc((size_t)p->n, sizeof *p->is_dir);
    if (!p->names || !p->descs || !p->is_dir)
        return;
    for (int i = 0; i < p->n; i++) {
        gs_model_t *m = NULL;
        char buf[1024];
        size_t len = strlen(p->files[i]);
        if (len && p->files[i][len - 1] == '/') {
            p->is_dir[i] = true;
            bool up = len >= 3 && strcmp(p->files[i] + len - 3, "../") == 0;
            p->names[i] = strdup(up ? "\xE2\x86\x91 parent folder" : "folder");
            p->descs[i] = strdup(up ? "Backspace" : "Enter opens it");
            continue;
        }
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

/* Shows folder dir (its .json files and sub-folders); false if unreadable. */
static bool show(gv_view_t *v, const char *dir, const char *select)
{
    gv_picker_t *p = &v->picker;
    char *d = strdup(dir);
    gv_picker_close(p);
    if (!d)
        return false;
    scan(p, d);
    free(d);
    if (p->n == 0 && !p->dir[0]) {
        gv_picker_close(p);
        return false;
    }
    describe(p);
    for (int i = 0; i < p->n; i++)
        if (select && strcmp(p->files[i], select) == 0)
            p->sel = i;
    p->open = true;
    return true;
}

void gv_picker_lessons(gv_view_t *v)
{
    if (!show(v, gv_lessons_dir(), v->path))
        gv_view_notice(v, true, "no lessons found: looked in $GILSIM_SCENARIOS, ./scenarios "
                                "and %s", GV_SCENARIOS_DIR);
}

void gv_picker_open(gv_view_t *v)
{
    char here[1024] = "", tmp[1024];
    if (v->path) {
        snprintf(tmp, sizeof tmp, "%s", v->path);
        snprintf(here, sizeof here, "%s", dirname(tmp));
    }
    /* the current file's folder, else the lessons */
    if (here[0] && show(v, here, v->path))
        return;
    gv_picker_lessons(v);
}

/* The parent of the folder shown. */
static void go_up(gv_view_t *v)
{
    char up[1100];
    snprintf(up, sizeof up, "%s/..", v->picker.dir);
    char real[4096];
    if (realpath(up, real))
        show(v, real, NULL);
}

static void choose(gv_view_t *v, int i)
{
    if (i < 0 || i >= v->picker.n)
        return;
    char *path = strdup(v->picker.files[i]);
    bool dir = v->picker.is_dir && v->picker.is_dir[i];
    if (dir && path) {
        char real[4096];
        if (realpath(path, real))
            show(v, real, NULL);
        free(path);
        return;
    }
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
        case SDLK_BACKSPACE: go_up(v); return true;
        case SDLK_l: gv_picker_lessons(v); return true;
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
                     "up/down and Enter, or click; Backspace: parent folder; L: the lessons; "
                     "Esc closes");
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
