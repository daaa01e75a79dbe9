/* uitest.c - the viewer tests' shared set-up (uitest.h). */
#include "uitest.h"

#include <check.h>
#include <string.h>

gv_view_t V;
SDL_Surface *S;
SDL_Renderer *R;

void ui_open(int w, int h)
{
    SDL_SetHint(SDL_HINT_VIDEODRIVER, "dummy");
    ck_assert_int_eq(SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS), 0);
    gv_view_init(&V);
    S = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    ck_assert_ptr_nonnull(S);
    R = SDL_CreateSoftwareRenderer(S);
    ck_assert_ptr_nonnull(R);
}

void ui_close(void)
{
    gv_view_destroy(&V);
    SDL_DestroyRenderer(R);
    SDL_FreeSurface(S);
    R = NULL;
    S = NULL;
    SDL_Quit();
}

void ui_send(SDL_Event e)
{
    ck_assert_int_eq(SDL_PushEvent(&e), 1);
    SDL_Event got;
    while (SDL_PollEvent(&got))
        gv_view_event(&V, &got);
}

void ui_key(SDL_Keycode k, uint16_t mod)
{
    SDL_Event e;
    memset(&e, 0, sizeof e);
    e.type = SDL_KEYDOWN;
    e.key.state = SDL_PRESSED;
    e.key.keysym.sym = k;
    e.key.keysym.mod = mod;
    ui_send(e);
}

void ui_draw(int w, int h)
{
    ck_assert_msg(gv_view_draw(&V, R, w, h) == 0, "draw failed: %s", V.font_err);
    SDL_RenderPresent(R);
}

uint32_t ui_pixel(int x, int y)
{
    const uint32_t *row = (const uint32_t *)((const uint8_t *)S->pixels + (size_t)y * S->pitch);
    return row[x] & 0xFFFFFFu;
}

bool ui_region_has(SDL_Rect r, uint32_t rgb)
{
    for (int y = r.y; y < r.y + r.h && y < S->h; y++)
        for (int x = r.x; x < r.x + r.w && x < S->w; x++)
            if (x >= 0 && y >= 0 && ui_pixel(x, y) == rgb)
                return true;
    return false;
}
