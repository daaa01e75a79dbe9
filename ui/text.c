/* text.c - fonts found through fontconfig; rendered labels cached as textures,
 * measured widths cached as numbers.
 *
 * The label cache is an open-addressing table keyed by (style, colour,
 * string). It is flushed whole when it is 3/4 full or when the size changes:
 * simpler than an LRU and cheap, because one frame draws far fewer labels
 * than it holds.
 *
 * Widths have a table of their own, keyed by (style, string): SDL_ttf shapes
 * a string with HarfBuzz to measure it (1-2 us), and the side panel, which
 * scrolls, lays out every row of every process each frame to know its
 * height, though it draws only the few in view (8 000 processes: tens of
 * thousands of widths a frame, 0.25 s). A width is measured once per font
 * size and looked up after. The table doubles at 3/4 full up to
 * WIDTH_SLOTS_MAX, past which it is flushed whole (its memory stays bounded:
 * ~30 MB), and it is flushed when the size changes. */
#include "text.h"

#include <SDL_ttf.h>
#include <fontconfig/fontconfig.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CACHE_SLOTS 4096 /* power of two */
#define WIDTH_SLOTS_MIN 4096        /* powers of two */
#define WIDTH_SLOTS_MAX (1 << 19)

typedef struct entry {
    uint64_t hash;    /* 0 = empty slot */
    char *s;          /* owned */
    uint32_t rgb;
    uint8_t style;
    SDL_Texture *tex; /* owned; NULL for "" */
    int w, h;
} entry_t;

typedef struct width_entry {
    uint64_t hash; /* 0 = empty slot */
    char *s;       /* owned */
    uint8_t style;
    int w;
} width_entry_t;

struct gv_text {
    SDL_Renderer *r; /* borrowed */
    char *path[2];   /* owned: regular, bold font files */
    TTF_Font *font[GV_N_STYLES];
    int px;
    entry_t *slots; /* CACHE_SLOTS */
    int n_used;
    long n_renders;
    width_entry_t *wslots; /* owned: n_wslots of them, NULL until the first width */
    size_t n_wslots, n_wused;
    bool clip;               /* gv_text_clip: draw only within [top, bottom) */
    int clip_top, clip_bottom;
    gv_text_mark_t *marks;   /* borrowed: gv_text_record, NULL = off */
    int mark_cap, *n_marks;
};

static const int style_pct[GV_N_STYLES] = {100, 100, 135, 85};

/* Asks fontconfig for pattern; returns a malloc'd file name when the match is
 * DejaVu Sans (any other face would make the pictures differ from the docs). */
static char *find_font(const char *pattern)
{
    char *out = NULL;
    FcPattern *pat = FcNameParse((const FcChar8 *)pattern);
    if (!pat)
        return NULL;
    FcConfigSubstitute(NULL, pat, FcMatchPattern);
    FcDefaultSubstitute(pat);
    FcResult res;
    FcPattern *m = FcFontMatch(NULL, pat, &res);
    FcChar8 *file = NULL, *family = NULL;
    if (m && FcPatternGetString(m, FC_FILE, 0, &file) == FcResultMatch &&
        FcPatternGetString(m, FC_FAMILY, 0, &family) == FcResultMatch &&
        strcmp((const char *)family, "DejaVu Sans") == 0)
        out = strdup((const char *)file);
    if (m)
        FcPatternDestroy(m);
    FcPatternDestroy(pat);
    return out;
}

static void close_fonts(gv_text_t *tx)
{
    for (int i = 0; i < GV_N_STYLES; i++) {
        if (tx->font[i])
            TTF_CloseFont(tx->font[i]);
        tx->font[i] = NULL;
    }
}

static void flush(gv_text_t *tx)
{
    for (int i = 0; i < CACHE_SLOTS; i++) {
        entry_t *e = &tx->slots[i];
        if (!e->hash)
            continue;
        free(e->s);
        if (e->tex)
            SDL_DestroyTexture(e->tex);
        memset(e, 0, sizeof *e);
    }
    tx->n_used = 0;
}

static void flush_widths(gv_text_t *tx)
{
    for (size_t i = 0; i < tx->n_wslots; i++)
        free(tx->wslots[i].s);
    free(tx->wslots);
    tx->wslots = NULL;
    tx->n_wslots = tx->n_wused = 0;
}

static int open_fonts(gv_text_t *tx, int px, char *err, size_t n_err)
{
    close_fonts(tx);
    for (int i = 0; i < GV_N_STYLES; i++) {
        int size = px * style_pct[i] / 100;
        if (i == GV_SMALL && size < 15)
            size = px < 15 ? px : 15;
        const char *file = tx->path[i == GV_REGULAR || i == GV_SMALL ? 0 : 1];
        tx->font[i] = TTF_OpenFont(file, size);
        if (!tx->font[i]) {
            snprintf(err, n_err, "cannot open font %s: %s", file, TTF_GetError());
            return -1;
        }
    }
    tx->px = px;
    return 0;
}

gv_text_t *gv_text_new(SDL_Renderer *r, int body_px, char *err, size_t n_err)
{
    if (!TTF_WasInit() && TTF_Init() != 0) {
        snprintf(err, n_err, "SDL_ttf: %s", TTF_GetError());
        return NULL;
    }
    gv_text_t *tx = calloc(1, sizeof *tx);
    if (!tx || !(tx->slots = calloc(CACHE_SLOTS, sizeof *tx->slots))) {
        free(tx);
        snprintf(err, n_err, "out of memory");
        return NULL;
    }
    tx->r = r;
    if (!FcInit()) {
        snprintf(err, n_err, "fontconfig could not be initialised");
        gv_text_free(tx);
        return NULL;
    }
    tx->path[0] = find_font("DejaVu Sans:style=Book");
    tx->path[1] = find_font("DejaVu Sans:style=Bold");
    if (!tx->path[0] || !tx->path[1]) {
        snprintf(err, n_err,
                 "font DejaVu Sans not found by fontconfig (fc-match \"DejaVu Sans\"); "
                 "install it with: apt-get install fonts-dejavu-core");
        gv_text_free(tx);
        return NULL;
    }
    if (open_fonts(tx, body_px, err, n_err) != 0) {
        gv_text_free(tx);
        return NULL;
    }
    return tx;
}

void gv_text_free(gv_text_t *tx)
{
    if (!tx)
        return;
    if (tx->slots)
        flush(tx);
    free(tx->slots);
    flush_widths(tx);
    close_fonts(tx);
    free(tx->path[0]);
    free(tx->path[1]);
    free(tx);
}

void gv_text_set_px(gv_text_t *tx, int body_px)
{
    char err[256];
    if (body_px < 8)
        body_px = 8;
    if (body_px == tx->px)
        return;
    flush(tx);
    flush_widths(tx);
    int old = tx->px;
    if (open_fonts(tx, body_px, err, sizeof err) != 0) {
        SDL_Log("%s", err);
        open_fonts(tx, old, err, sizeof err); /* the old size opened before */
    }
}

int gv_text_px(const gv_text_t *tx)
{
    return tx->px;
}

int gv_text_line(const gv_text_t *tx, gv_style_t st)
{
    return TTF_FontLineSkip(tx->font[st]);
}

long gv_text_renders(const gv_text_t *tx)
{
    return tx->n_renders;
}

/* FNV-1a over the key; never 0 so that 0 can mark an empty slot. */
static uint64_t key_hash(gv_style_t st, uint32_t rgb, const char *s)
{
    uint64_t h = 1469598103934665603ull ^ ((uint64_t)st << 32 | rgb);
    for (const unsigned char *p = (const unsigned char *)s; *p; p++)
        h = (h ^ *p) * 1099511628211ull;
    return h ? h : 1;
}

static entry_t *lookup(gv_text_t *tx, gv_style_t st, uint32_t rgb, const char *s)
{
    uint64_t h = key_hash(st, rgb, s);
    for (;;) {
        size_t i = h & (CACHE_SLOTS - 1);
        for (;;) {
            entry_t *e = &tx->slots[i];
            if (!e->hash)
                break;
            if (e->hash == h && e->style == st && e->rgb == rgb && strcmp(e->s, s) == 0)
                return e;
            i = (i + 1) & (CACHE_SLOTS - 1);
        }
        if (tx->n_used < CACHE_SLOTS * 3 / 4) {
            entry_t *e = &tx->slots[i];
            e->s = strdup(s);
            if (!e->s)
                return NULL;
            e->hash = h;
            e->style = (uint8_t)st;
            e->rgb = rgb;
            tx->n_used++;
            if (*s) {
                SDL_Color c = {(rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255, 255};
                SDL_Surface *sf = TTF_RenderUTF8_Blended(tx->font[st], s, c);
                if (sf) {
                    e->tex = SDL_CreateTextureFromSurface(tx->r, sf);
                    e->w = sf->w;
                    e->h = sf->h;
                    SDL_FreeSurface(sf);
                }
                tx->n_renders++;
            }
            return e;
        }
        flush(tx);
    }
}

static int measure(gv_text_t *tx, gv_style_t st, const char *s)
{
    int w = 0, h = 0;
    if (TTF_SizeUTF8(tx->font[st], s, &w, &h) != 0)
        return 0;
    return w;
}

/* The table of widths twice as big (or, at WIDTH_SLOTS_MAX, emptied). False
 * when out of memory: the table stays as it was. */
static bool grow_widths(gv_text_t *tx)
{
    size_t n = tx->n_wslots ? tx->n_wslots * 2 : WIDTH_SLOTS_MIN;
    if (n > WIDTH_SLOTS_MAX) {
        flush_widths(tx);
        n = WIDTH_SLOTS_MIN;
    }
    width_entry_t *t = calloc(n, sizeof *t);
    if (!t)
        return false;
    for (size_t i = 0; i < tx->n_wslots; i++) {
        width_entry_t *e = &tx->wslots[i];
        if (!e->hash)
            continue;
        size_t j = e->hash & (n - 1);
        while (t[j].hash)
            j = (j + 1) & (n - 1);
        t[j] = *e;
    }
    free(tx->wslots);
    tx->wslots = t;
    tx->n_wslots = n;
    return true;
}

int gv_text_width(gv_text_t *tx, gv_style_t st, const char *s)
{
    if (!*s)
        return 0;
    if (tx->n_wused >= tx->n_wslots / 4 * 3 && !grow_widths(tx))
        return measure(tx, st, s);
    uint64_t h = key_hash(st, 0, s);
    size_t i = h & (tx->n_wslots - 1);
    for (;; i = (i + 1) & (tx->n_wslots - 1)) {
        width_entry_t *e = &tx->wslots[i];
        if (!e->hash)
            break;
        if (e->hash == h && e->style == st && strcmp(e->s, s) == 0)
            return e->w;
    }
    int w = measure(tx, st, s);
    width_entry_t *e = &tx->wslots[i];
    if ((e->s = strdup(s)) != NULL) {
        e->hash = h;
        e->style = (uint8_t)st;
        e->w = w;
        tx->n_wused++;
    }
    return w;
}

void gv_text_clip(gv_text_t *tx, int top, int bottom)
{
    tx->clip = true;
    tx->clip_top = top;
    tx->clip_bottom = bottom;
}

bool gv_text_visible(const gv_text_t *tx, gv_style_t st, int y)
{
    return !tx->clip || (y >= tx->clip_top && y + TTF_FontHeight(tx->font[st]) <= tx->clip_bottom);
}

bool gv_text_below(const gv_text_t *tx, int y)
{
    return tx->clip && y >= tx->clip_bottom;
}

void gv_text_unclip(gv_text_t *tx)
{
    tx->clip = false;
}

void gv_text_record(gv_text_t *tx, gv_text_mark_t *marks, int cap, int *n)
{
    tx->marks = marks;
    tx->mark_cap = cap;
    tx->n_marks = n;
    if (marks && n)
        *n = 0;
}

int gv_text_draw(gv_text_t *tx, gv_style_t st, uint32_t rgb, int x, int y, const char *s)
{
    if (!gv_text_visible(tx, st, y))
        return gv_text_width(tx, st, s); /* outside the window, or cut by its edge */
    entry_t *e = lookup(tx, st, rgb, s);
    if (!e || !e->tex)
        return 0;
    SDL_Rect dst = {x, y, e->w, e->h};
    SDL_RenderCopy(tx->r, e->tex, NULL, &dst);
    if (tx->marks && *tx->n_marks < tx->mark_cap) {
        gv_text_mark_t *m = &tx->marks[(*tx->n_marks)++];
        m->box = dst;
        snprintf(m->s, sizeof m->s, "%s", s);
    }
    return e->w;
}

int gv_text_draw_fit(gv_text_t *tx, gv_style_t st, uint32_t rgb, int x, int y, int max_w,
                     const char *s)
{
    if (max_w <= 0)
        return 0;
    int w = gv_text_width(tx, st, s);
    if (w <= max_w)
        return gv_text_draw(tx, st, rgb, x, y, s);
    /* Longest prefix (cut on a UTF-8 boundary) that fits with the ellipsis. */
    char buf[512];
    size_t len = strlen(s);
    if (len > sizeof buf - 4)
        len = sizeof buf - 4;
    size_t lo = 0, hi = len;
    while (lo < hi) {
        size_t mid = (lo + hi + 1) / 2;
        while (mid > 0 && ((unsigned char)s[mid] & 0xC0) == 0x80)
            mid--;
        if (mid <= lo) {
            hi = lo;
            break;
        }
        memcpy(buf, s, mid);
        memcpy(buf + mid, "\xE2\x80\xA6", 4);
        if (gv_text_width(tx, st, buf) <= max_w)
            lo = mid;
        else
            hi = mid - 1;
    }
    while (lo > 0 && ((unsigned char)s[lo] & 0xC0) == 0x80)
        lo--;
    if (lo == 0)
        return 0;
    memcpy(buf, s, lo);
    memcpy(buf + lo, "\xE2\x80\xA6", 4);
    return gv_text_draw(tx, st, rgb, x, y, buf);
}

int gv_text_wrap(gv_text_t *tx, gv_style_t st, uint32_t rgb, int x, int y, int max_w,
                 const char *s, int max_lines, int draw)
{
    char buf[512];
    int lines = 0, lh = gv_text_line(tx, st);
    while (*s && lines < max_lines) {
        while (*s == ' ')
            s++;
        const char *nl = strchr(s, '\n');
        size_t avail = nl ? (size_t)(nl - s) : strlen(s);
        if (avail > sizeof buf - 1)
            avail = sizeof buf - 1;
        /* the longest run of whole words that fits */
        size_t take = 0, i = 0;
        while (i <= avail) {
            if (i == avail || s[i] == ' ') {
                memcpy(buf, s, i);
                buf[i] = 0;
                if (take > 0 && gv_text_width(tx, st, buf) > max_w)
                    break;
                take = i;
                if (gv_text_width(tx, st, buf) > max_w)
                    break;
            }
            i++;
        }
        if (take == 0)
            take = avail; /* one word longer than the line: cut by draw_fit */
        bool last = lines == max_lines - 1;
        const char *rest = s + take;
        while (*rest == ' ')
            rest++;
        if (last && *rest && *rest != '\n') {
            take = avail; /* the last line carries the remainder, cut with ... */
            if (!nl)
                take = strlen(s) > sizeof buf - 1 ? sizeof buf - 1 : strlen(s);
        }
        memcpy(buf, s, take);
        buf[take] = 0;
        if (draw)
            gv_text_draw_fit(tx, st, rgb, x, y + lines * lh, max_w, buf);
        lines++;
        s += take;
        if (*s == '\n')
            s++;
    }
    return lines;
}
