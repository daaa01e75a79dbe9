/* text.h - DejaVu Sans through fontconfig, and a cache of rendered labels.
 *
 * Rendering a label with SDL_ttf costs ~6.6 us, drawing a cached texture
 * ~2.5 us (DESIGN.md, measured here), so every string is rendered once per
 * (style, colour, size) and kept as a texture until the cache fills up, when
 * it is flushed whole (a frame draws a few hundred labels at most). Widths
 * are cached too, as numbers. */
#ifndef GV_TEXT_H
#define GV_TEXT_H

#include <SDL.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

typedef enum gv_style {
    GV_REGULAR, /* body text */
    GV_BOLD,    /* names, headings */
    GV_TITLE,   /* the scenario name: bold, 1.35x */
    GV_SMALL,   /* 0.85x, for dense axis labels; still >= 15 px */
    GV_N_STYLES
} gv_style_t;

typedef struct gv_text gv_text_t;

/* Finds DejaVu Sans (regular and bold) with fontconfig. On failure returns
 * NULL with a message in err naming the package to install. */
gv_text_t *gv_text_new(SDL_Renderer *r, int body_px, char *err, size_t n_err);
void gv_text_free(gv_text_t *tx);

/* Changes the body size in pixels (other styles follow); flushes the cache. */
void gv_text_set_px(gv_text_t *tx, int body_px);
int gv_text_px(const gv_text_t *tx);
int gv_text_line(const gv_text_t *tx, gv_style_t st); /* line height, px */

/* Width of s in pixels; 0 for "". Measured once per (style, string) at a
 * size and then looked up (text.c): the side panel measures every row of
 * every process each frame. */
int gv_text_width(gv_text_t *tx, gv_style_t st, const char *s);
/* Draws s with its top-left at (x, y); returns the width drawn. */
int gv_text_draw(gv_text_t *tx, gv_style_t st, uint32_t rgb, int x, int y, const char *s);
/* Draws at most max_w pixels of s, ending with "..." when cut. */
int gv_text_draw_fit(gv_text_t *tx, gv_style_t st, uint32_t rgb, int x, int y, int max_w,
                     const char *s);
/* Textures rendered since creation; for tests of the cache. */
long gv_text_renders(const gv_text_t *tx);

/* A scrolled region (the side panel): until gv_text_unclip, a label is drawn
 * only when it lies wholly within the rows [top, bottom), never cut in half;
 * with top >= bottom nothing is drawn (a pass that only measures). */
void gv_text_clip(gv_text_t *tx, int top, int bottom);
void gv_text_unclip(gv_text_t *tx);
/* Would a label of style st at y be drawn (inside the window, if any)? */
bool gv_text_visible(const gv_text_t *tx, gv_style_t st, int y);
/* Is y at or below the window's bottom (nothing from there on is drawn)? */
bool gv_text_below(const gv_text_t *tx, int y);

/* Every label drawn while a record is set: its box and (the start of) its
 * text; for tests that check where text goes. marks NULL stops recording. */
typedef struct gv_text_mark {
    SDL_Rect box;
    char s[96];
} gv_text_mark_t;
void gv_text_record(gv_text_t *tx, gv_text_mark_t *marks, int cap, int *n);

/* Word-wraps s into at most max_lines lines of max_w pixels (the last one
 * cut with "..."), drawing them when draw is true. Returns the lines used. */
int gv_text_wrap(gv_text_t *tx, gv_style_t st, uint32_t rgb, int x, int y, int max_w,
                 const char *s, int max_lines, int draw);
#endif
