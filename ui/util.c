/* util.c - time formatting for the screen, colours, PNG output. Times typed
 * by the user are read by gs_parse_ns (gilsim/units.h), as everywhere. */
#include "view.h"

#include <SDL_image.h>
#include <errno.h>
#include <limits.h>
#include <time.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static const struct {
    const char *name;
    int64_t ns;
} units[] = {{"s", 1000000000}, {"ms", 1000000}, {"us", 1000}, {"ns", 1}};
static const char *const shown[] = {"s", "ms", "\xC2\xB5s", "ns"}; /* µs on screen */

void gv_fmt_time(char *buf, size_t n, int64_t t, int64_t step)
{
    if (step < 1)
        step = 1;
    /* the unit of 2 x step: ticks read 0.5 ms, 1 ms, 1.5 ms rather than 500 us */
    int u = 0;
    while (u < 3 && units[u].ns > step * 2)
        u++;
    int dec = 0;
    for (int64_t s = units[u].ns; s > step && dec < 3; s /= 10)
        dec++;
    snprintf(buf, n, "%.*f %s", dec, (double)t / (double)units[u].ns, shown[u]);
}

void gv_fmt_at(char *buf, size_t n, int64_t t, int64_t res)
{
    int64_t a = t < 0 ? -t : t;
    if (res < 1)
        res = 1;
    int u = 0;
    while (u < 3 && units[u].ns > (a > res ? a : res))
        u++;
    int dec = 0;
    for (int64_t s = units[u].ns; s > res && dec < 3; s /= 10)
        dec++;
    snprintf(buf, n, "%.*f %s", dec, (double)t / (double)units[u].ns, shown[u]);
}

void gv_fmt_dur(char *buf, size_t n, int64_t d)
{
    int64_t a = d < 0 ? -d : d;
    int u = 0;
    while (u < 3 && units[u].ns > a)
        u++;
    double v = (double)d / (double)units[u].ns;
    double av = fabs(v);
    int dec = av >= 100 ? 0 : av >= 10 ? 1 : 2;
    if (u == 3)
        dec = 0;
    snprintf(buf, n, "%.*f %s", dec, v, shown[u]);
}

void gv_set_color(SDL_Renderer *r, uint32_t rgb, uint8_t a)
{
    SDL_SetRenderDrawColor(r, (rgb >> 16) & 255, (rgb >> 8) & 255, rgb & 255, a);
}

void gv_fill(SDL_Renderer *r, SDL_Rect rc, uint32_t rgb, uint8_t a)
{
    SDL_SetRenderDrawBlendMode(r, a == 255 ? SDL_BLENDMODE_NONE : SDL_BLENDMODE_BLEND);
    gv_set_color(r, rgb, a);
    SDL_RenderFillRect(r, &rc);
}

void gv_frame(SDL_Renderer *r, SDL_Rect rc, uint32_t rgb, int thick)
{
    SDL_SetRenderDrawBlendMode(r, SDL_BLENDMODE_NONE);
    gv_set_color(r, rgb, 255);
    for (int i = 0; i < thick; i++) {
        SDL_Rect f = {rc.x + i, rc.y + i, rc.w - 2 * i, rc.h - 2 * i};
        if (f.w > 0 && f.h > 0)
            SDL_RenderDrawRect(r, &f);
    }
}

const gs_interval_t *gv_lane_at(const gs_lane_t *lane, int64_t t)
{
    size_t i = gs_lane_find(lane, t);
    if (i < lane->n && lane->iv[i].start_ns <= t && t < lane->iv[i].end_ns)
        return &lane->iv[i];
    return NULL;
}

int gv_save_png(SDL_Surface *s, const char *path, char *err, size_t n)
{
    size_t len = strlen(path);
    char *tmp = malloc(len + 32);
    if (!tmp) {
        snprintf(err, n, "out of memory");
        return -1;
    }
    snprintf(tmp, len + 32, "%s.%ld.tmp", path, (long)getpid());
    if (IMG_SavePNG(s, tmp) != 0) {
        snprintf(err, n, "cannot write %s: %s", path, IMG_GetError());
        remove(tmp);
        free(tmp);
        return -1;
    }
    if (rename(tmp, path) != 0) {
        snprintf(err, n, "cannot write %s: %s", path, strerror(errno));
        remove(tmp);
        free(tmp);
        return -1;
    }
    free(tmp);
    return 0;
}

bool gv_view_screenshot(gv_view_t *v, SDL_Renderer *r, int w, int h)
{
    v->want_screenshot = false;
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, w, h, 32, SDL_PIXELFORMAT_ARGB8888);
    if (!s || SDL_RenderReadPixels(r, NULL, SDL_PIXELFORMAT_ARGB8888, s->pixels, s->pitch) != 0) {
        gv_view_notice(v, true, "screenshot failed: %s", SDL_GetError());
        if (s)
            SDL_FreeSurface(s);
        return true;
    }
    char dir[4096], path[4160], err[512];
    if (!realpath(v->shot_dir, dir))
        snprintf(dir, sizeof dir, "%s", v->shot_dir);
    time_t now = time(NULL);
    struct tm tm;
    localtime_r(&now, &tm);
    snprintf(path, sizeof path, "%s/gilsim-%04d%02d%02d-%02d%02d%02d.png", dir,
             tm.tm_year + 1900, tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec);
    if (gv_save_png(s, path, err, sizeof err) == 0) {
        gv_view_notice(v, false, "screenshot saved to %s", path);
        snprintf(v->shot_last, sizeof v->shot_last, "%s", path);
    } else {
        gv_view_notice(v, true, "screenshot not saved: %s", err);
    }
    SDL_FreeSurface(s);
    return true;
}
