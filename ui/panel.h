/* panel.h - the side panel's pen, shared by queues.c (the queues at the
 * playhead) and summary.c (the figures, and the panel's scrolling). */
#ifndef GV_PANEL_H
#define GV_PANEL_H

#include <stdint.h>

#include "view.h"

/* Everything is laid out, whole, one line under the other; what is drawn
 * is what lies in the scrolled window (gv_text_clip and the renderer's clip
 * rectangle, set by gv_draw_panel). */
typedef struct gv_pen {
    gv_view_t *v;
    SDL_Renderer *r; /* NULL: the pass that only measures */
    int x, y, w;
} gv_pen_t;

/* A bold heading, wrapped, not cut. */
void gv_pen_heading(gv_pen_t *p, const char *s);
/* "name ...... value", value right-aligned; a swatch when rgb != 0. */
void gv_pen_kv(gv_pen_t *p, uint32_t swatch, const char *k, const char *val);
/* Run r's queues at `at`: the cores, each GIL with its waiters, the ready
 * and blocked threads, the locks and queues. Who is in which list is found
 * once per instant and kept by the run (r->queues). */
void gv_pen_queues(gv_pen_t *p, gv_run_t *r, int64_t at);

#endif
