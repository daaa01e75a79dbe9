/* uitest.h - what every viewer test (tests/ui/check_*.c but check_job) sets
 * up the same way: SDL's dummy video driver, one gv_view_t, and a software
 * renderer drawing on a w x h surface whose pixels the test reads; SDL
 * events pushed through SDL's queue into the view. The globals are the
 * tests' (check forks per test: each test has its own). */
#ifndef GV_UITEST_H
#define GV_UITEST_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>

#include "view.h"

extern gv_view_t V;   /* the view under test */
extern SDL_Surface *S; /* what R draws on */
extern SDL_Renderer *R;

/* SDL (dummy driver), V initialised, a w x h surface and its renderer. */
void ui_open(int w, int h);
/* Undoes ui_open: V destroyed, the renderer and surface freed, SDL quit. */
void ui_close(void);
/* Pushes e through SDL's event queue and hands what comes out to the view. */
void ui_send(SDL_Event e);
/* A key press with modifiers mod (KMOD_*), through ui_send. */
void ui_key(SDL_Keycode k, uint16_t mod);
/* The whole picture drawn at w x h (the surface must be as large). */
void ui_draw(int w, int h);
/* The colour (0xRRGGBB) of the surface's pixel at (x, y). */
uint32_t ui_pixel(int x, int y);
/* True when some pixel of r (clipped to the surface) has colour rgb. */
bool ui_region_has(SDL_Rect r, uint32_t rgb);

#endif
