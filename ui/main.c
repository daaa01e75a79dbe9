/* main.c - gilsim-view: command line, the window loop, and --render.
 *
 * Exit codes, as the gilsim CLI's (gs_exit_status, gilsim/common.h): 0 ok;
 * 1 usage error or a scenario that does not load; 2 the simulation could not
 * run (out of memory or threads); 3 I/O error (the scenario cannot be read,
 * the PNG cannot be written, no font, no display). */
#include <SDL.h>
#include <errno.h>
#include <SDL_image.h>
#include <SDL_ttf.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "run.h"
#include "view.h"


typedef struct args {
    const char *file, *render, *at, *range, *select;
    const char *compare_with; /* --compare-with REC */
    bool replay;              /* --replay */
    int w, h;
    bool compare, timing;
    double text_scale;
    long quit_after_ms; /* window mode, for tests; -1 = never */
} args_t;

static void usage(FILE *f)
{
    fprintf(f,
            "usage: gilsim-view [options] [FILE]\n"
            "  Shows a gilsim scenario as a timeline; without FILE the built-in default\n"
            "  scenario (the convoy effect lesson).\n"
            "options:\n"
            "  --render OUT.png  draw the picture without a display, write OUT.png, exit\n"
            "  --size WxH        picture size in pixels (default 1920x1080)\n"
            "  --at TIME         playhead at TIME, e.g. 12ms (queues panel at that time)\n"
            "  --range A:B       visible time range, e.g. 0ms:20ms\n"
            "  --set KEY=VALUE   override a scenario setting, e.g. machine.cores=4 (repeatable)\n"
            "  --compare [K=V,...]  also run B, stacked on one time axis: the file with\n"
            "                    these settings (e.g. python.switch_interval=1ms), or\n"
            "                    without them the other GIL model\n"
            "  --replay          FILE is a recording (gilsim record): show it (A), the\n"
            "                    scenario fitted to it at the recorded settings (B, as\n"
            "                    gilsim replay) and the what-if (C), stacked; the knobs\n"
            "                    and --set act on C\n"
            "  --compare-with REC  the recording REC (A) beside FILE simulated as written\n"
            "                    (B) and with the knobs and --set (C)\n"
            "  --select NAME     select the thread NAME (its metrics in the panel)\n"
            "  --memory-budget SIZE  the most each run's trace may take (e.g. 512M, 4G;\n"
            "                    default GILSIM_MEMORY_BUDGET or 1G): at the bound the run\n"
            "                    stops and the window says so\n"
            "  --colour MODE     state (default) or thread: bars in each thread's colour (M)\n"
            "  --text-scale F    text size factor (default 1; Ctrl +/- in the window)\n"
            "  --quit-after MS   close the window after MS milliseconds (tests)\n"
            "  --timing          print the time to the first frame on stderr\n"
            "  --help, --version\n"
            "keys: press H in the window; a long run shows its progress, Esc cancels it.\n"
            "exit codes: 0 ok, 1 usage or invalid scenario, 2 the simulation could not\n"
            "run or (--render) stopped at the memory budget, 3 I/O error (scenario not\n"
            "read, PNG not written, font or display missing).\n");
}

static int parse_size(const char *s, int *w, int *h)
{
    char x;
    if (sscanf(s, "%d%c%d", w, &x, h) != 3 || (x != 'x' && x != 'X') || *w < 320 || *h < 240 ||
        *w > 16384 || *h > 16384)
        return -1;
    return 0;
}

/* --compare or --compare=K=V...: sets a->compare and, when given, B's
 * settings. val is the next argument (or NULL); *takes says whether it was
 * used as the spec. 0, or -1 with the reason printed. */
static int compare_option(const char *o, const char *val, args_t *a, gv_view_t *v, bool *takes)
{
    /* --compare alone: B has the other GIL model; --compare K=V[,K=V]
     * (or --compare=K=V...): B is the file with those settings */
    a->compare = true;
    const char *spec = o[9] == '=' ? o + 10 : (val && strchr(val, '=') && val[0] != '-') ? val : NULL;
    *takes = spec == val && spec != NULL;
    if (spec && gv_view_set_compare_spec(v, spec) != 0) {
        fprintf(stderr, "gilsim-view: --compare %s: expected KEY=VALUE[,KEY=VALUE...], e.g. "
                        "python.switch_interval=1ms,machine.cores=8\n", spec);
        return -1;
    }
    return 0;
}

/* The options that change the view itself (--memory-budget, --colour,
 * --set) with their value val. 1 if o is none of them, else 0, or -1 with
 * the reason printed. */
static int view_option(const char *o, const char *val, gv_view_t *v)
{
    if (strcmp(o, "--memory-budget") == 0) {
        /* as gilsim run and sweep read it */
        if (gs_parse_bytes(val, &v->memory_budget) != 0 || v->memory_budget < 1024 * 1024) {
            fprintf(stderr, "gilsim-view: --memory-budget wants a size of at least 1M, "
                            "a whole number with K, M, G or T (e.g. 512M, 4G), got '%s'\n",
                    val);
            return -1;
        }
    } else if (strcmp(o, "--colour") == 0 || strcmp(o, "--color") == 0) {
        if (strcmp(val, "thread") != 0 && strcmp(val, "state") != 0) {
            fprintf(stderr, "gilsim-view: %s %s: expected thread or state\n", o, val);
            return -1;
        }
        v->color_by_thread = strcmp(val, "thread") == 0;
    } else if (strcmp(o, "--set") == 0) {
        if (gv_view_add_set(v, val) != 0) {
            fprintf(stderr, "gilsim-view: --set %s: expected KEY=VALUE, e.g. "
                            "python.switch_interval=1ms (at most %d)\n", val, GV_MAX_SET);
            return -1;
        }
    } else
        return 1;
    return 0;
}

/* An option "--NAME" that takes a value: val, the next argument (NULL if
 * there is none), goes into a or v. 0, or -1 with the reason printed (no
 * value, a bad value, or an unknown option). */
static int value_option(const char *o, const char *val, args_t *a, gv_view_t *v)
{
    if (!val) {
        fprintf(stderr, "gilsim-view: %s needs a value (see --help)\n", o);
        return -1;
    }
    char *end;
    if (strcmp(o, "--render") == 0)
        a->render = val;
    else if (strcmp(o, "--size") == 0) {
        if (parse_size(val, &a->w, &a->h) != 0) {
            fprintf(stderr, "gilsim-view: --size %s: expected WxH between 320x240 and "
                            "16384x16384, e.g. 1920x1080\n", val);
            return -1;
        }
    } else if (strcmp(o, "--at") == 0)
        a->at = val;
    else if (strcmp(o, "--range") == 0)
        a->range = val;
    else if (strcmp(o, "--select") == 0)
        a->select = val;
    else if (strcmp(o, "--compare-with") == 0)
        a->compare_with = val;
    else if (strcmp(o, "--text-scale") == 0) {
        a->text_scale = strtod(val, &end);
        if (*end || a->text_scale < 0.5 || a->text_scale > 4) {
            fprintf(stderr, "gilsim-view: --text-scale %s: expected a number from 0.5 "
                            "to 4\n", val);
            return -1;
        }
    } else if (strcmp(o, "--quit-after") == 0) {
        a->quit_after_ms = strtol(val, &end, 10);
        if (*end || a->quit_after_ms < 0) {
            fprintf(stderr, "gilsim-view: --quit-after %s: expected milliseconds\n", val);
            return -1;
        }
    } else {
        int rc = view_option(o, val, v);
        if (rc <= 0)
            return rc;
        fprintf(stderr, "gilsim-view: unknown option %s (see --help)\n", o);
        return -1;
    }
    return 0;
}

/* The command line into a (defaults first) and v; --help and --version
 * print and exit 0. 0, or -1 with the reason printed. */
static int parse_args(int argc, char **argv, args_t *a, gv_view_t *v)
{
    memset(a, 0, sizeof *a);
    a->w = 1920;
    a->h = 1080;
    a->text_scale = 1.0;
    a->quit_after_ms = -1;
    for (int i = 1; i < argc; i++) {
        const char *o = argv[i];
        const char *val = i + 1 < argc ? argv[i + 1] : NULL;
        bool takes = true;
        if (strcmp(o, "--help") == 0 || strcmp(o, "-h") == 0) {
            usage(stdout);
            exit(0);
        } else if (strcmp(o, "--version") == 0) {
            printf("gilsim-view %s\n", GS_VERSION);
            exit(0);
        } else if (strcmp(o, "--compare") == 0 || strncmp(o, "--compare=", 10) == 0) {
            if (compare_option(o, val, a, v, &takes) != 0)
                return -1;
        } else if (strcmp(o, "--timing") == 0) {
            a->timing = true;
            takes = false;
        } else if (strcmp(o, "--replay") == 0) {
            a->replay = true;
            takes = false;
        } else if (o[0] == '-' && o[1] == '-') {
            if (value_option(o, val, a, v) != 0)
                return -1;
        } else if (o[0] == '-' && o[1]) {
            fprintf(stderr, "gilsim-view: unknown option %s (see --help)\n", o);
            return -1;
        } else {
            if (a->file) {
                fprintf(stderr, "gilsim-view: one FILE only (got %s and %s)\n", a->file, o);
                return -1;
            }
            a->file = o;
            takes = false;
        }
        if (takes)
            i++;
    }
    return 0;
}

/* --replay and --compare-with REC: which file is the recording (issue 14).
 * 0, or -1 with the reason printed. */
static int real_args(const args_t *a, gv_view_t *v)
{
    if (!a->replay && !a->compare_with)
        return 0;
    const char *flag = a->replay ? "--replay" : "--compare-with";
    if (a->replay && a->compare_with) {
        fprintf(stderr, "gilsim-view: --replay and --compare-with: one or the other (--replay "
                        "fits a scenario to FILE; --compare-with REC shows REC beside FILE)\n");
        return -1;
    }
    if (a->compare) {
        fprintf(stderr, "gilsim-view: %s and --compare: one or the other (%s already stacks two "
                        "runs: the recording and %s)\n", flag, flag,
                a->replay ? "its replay" : "FILE simulated as written");
        return -1;
    }
    const char *rec = a->replay ? a->file : a->compare_with;
    if (!rec || (a->compare_with && !a->file)) {
        fprintf(stderr, "gilsim-view: %s\n",
                a->replay ? "--replay needs a recording: gilsim-view REC --replay (make one with "
                            "gilsim record -o REC -- python3 PROGRAM.py)"
                          : "--compare-with REC needs the scenario to show beside it: "
                            "gilsim-view --compare-with REC SCENARIO.json");
        return -1;
    }
    FILE *f = fopen(rec, "rb");
    if (!f) {
        fprintf(stderr, "gilsim-view: %s %s: cannot read it: %s\n", flag, rec, strerror(errno));
        return -1;
    }
    fclose(f);
    if (!gs_recording_sniff(rec)) {
        fprintf(stderr, "gilsim-view: %s %s: not a recording (gilsim record -o REC -- python3 "
                        "PROGRAM.py makes one)\n", flag, rec);
        return -1;
    }
    if (a->compare_with && gs_recording_sniff(a->file)) {
        fprintf(stderr, "gilsim-view: --compare-with %s %s: %s is a recording too; give the "
                        "scenario to simulate beside it (or gilsim-view %s --replay)\n",
                rec, a->file, a->file, rec);
        return -1;
    }
    return gv_view_set_real(v, rec, a->replay) == 0 ? 0 : -1;
}

/* --at, --range and --select, once the scenario is loaded. */
static int apply_view_args(const args_t *a, gv_view_t *v)
{
    int64_t t, t2;
    if (a->range) {
        const char *colon = strchr(a->range, ':');
        char first[64];
        if (!colon || (size_t)(colon - a->range) >= sizeof first) {
            fprintf(stderr, "gilsim-view: --range %s: expected A:B, e.g. 0ms:20ms\n", a->range);
            return -1;
        }
        memcpy(first, a->range, (size_t)(colon - a->range));
        first[colon - a->range] = 0;
        char why[160];
        if (gs_parse_ns(first, &t, why, sizeof why) != 0 ||
            gs_parse_ns(colon + 1, &t2, why, sizeof why) != 0) {
            fprintf(stderr, "gilsim-view: --range %s: %s\n", a->range, why);
            return -1;
        }
        if (t2 <= t) {
            fprintf(stderr, "gilsim-view: --range %s: expected A:B with A < B, e.g. 0ms:20ms\n",
                    a->range);
            return -1;
        }
        gv_view_set_range(v, t, t2);
    }
    if (a->at) {
        char why[160];
        if (gs_parse_ns(a->at, &t, why, sizeof why) != 0) {
            fprintf(stderr, "gilsim-view: --at %s: %s\n", a->at, why);
            return -1;
        }
        int64_t t0 = v->t0, t1 = v->t1;
        gv_view_set_playhead(v, t);
        if (a->range)
            gv_view_set_range(v, t0, t1); /* an explicit range wins over following */
    }
    if (a->select) {
        const gs_trace_t *tr = v->run[0].trace;
        gv_view_select(v, -1); /* not the thread the opening instant selected */
        for (int i = 0; i < gs_trace_n_threads(tr); i++)
            if (strcmp(gs_trace_lane(tr, gs_trace_thread_lane(tr, i))->name, a->select) == 0)
                v->selected = i;
        if (v->selected < 0) {
            fprintf(stderr, "gilsim-view: --select %s: no thread of that name\n", a->select);
            return -1;
        }
    }
    return 0;
}

static int render(const args_t *a, gv_view_t *v)
{
    SDL_Surface *s = SDL_CreateRGBSurfaceWithFormat(0, a->w, a->h, 32, SDL_PIXELFORMAT_ARGB8888);
    SDL_Renderer *r = s ? SDL_CreateSoftwareRenderer(s) : NULL;
    if (!r) {
        fprintf(stderr, "gilsim-view: cannot create a %dx%d picture: %s\n", a->w, a->h,
                SDL_GetError());
        if (s)
            SDL_FreeSurface(s);
        return GS_EXIT_IO;
    }
    int rc = 0;
    if (gv_view_draw(v, r, a->w, a->h) != 0) {
        fprintf(stderr, "gilsim-view: %s\n", v->font_err);
        rc = GS_EXIT_IO;
    } else {
        SDL_RenderPresent(r);
        char err[512];
        if (gv_save_png(s, a->render, err, sizeof err) != 0) {
            fprintf(stderr, "gilsim-view: %s\n", err);
            rc = GS_EXIT_IO;
        }
    }
    gv_view_destroy(v); /* its textures belong to r */
    SDL_DestroyRenderer(r);
    SDL_FreeSurface(s);
    return rc;
}

static double ms_since(const struct timespec *t0)
{
    struct timespec t;
    clock_gettime(CLOCK_MONOTONIC, &t);
    return (t.tv_sec - t0->tv_sec) * 1e3 + (t.tv_nsec - t0->tv_nsec) / 1e6;
}

static const char *renderer_name(SDL_Renderer *r)
{
    SDL_RendererInfo info;
    return SDL_GetRendererInfo(r, &info) == 0 ? info.name : "?";
}

/* Starts SDL's video, preferring the software renderer; a display that is
 * SDL's offscreen or dummy driver, unless asked for by name, is no display.
 * 0, or GS_EXIT_IO with the reason printed (SDL is then shut down). */
static int open_display(const args_t *a, const struct timespec *t_start)
{
    SDL_SetHint(SDL_HINT_VIDEO_X11_NET_WM_BYPASS_COMPOSITOR, "0");
    /* The lanes are drawn into our own pixel buffer, so the software renderer
     * keeps a frame well under 16 ms, and it starts at once: creating an
     * OpenGL context (also behind the software renderer's window surface,
     * unless framebuffer acceleration is off) took 250-400 ms under Xvfb and
     * Mesa, most of the 300 ms start-up budget. SDL_RENDER_DRIVER and
     * SDL_FRAMEBUFFER_ACCELERATION in the environment still win. */
    SDL_SetHintWithPriority(SDL_HINT_RENDER_DRIVER, "software", SDL_HINT_DEFAULT);
    SDL_SetHintWithPriority(SDL_HINT_FRAMEBUFFER_ACCELERATION, "0", SDL_HINT_DEFAULT);
    if (SDL_Init(SDL_INIT_VIDEO | SDL_INIT_EVENTS) != 0) {
        fprintf(stderr, "gilsim-view: no display (%s); use --render OUT.png to draw headless\n",
                SDL_GetError());
        return GS_EXIT_IO;
    }
    /* Without X11 or Wayland, SDL falls back to its "offscreen" driver: a
     * window nobody sees, and the loop would wait for ever. Unless asked for
     * by name (SDL_VIDEODRIVER), that is no display. */
    const char *drv = SDL_GetCurrentVideoDriver(), *asked = getenv("SDL_VIDEODRIVER");
    if (drv && (strcmp(drv, "offscreen") == 0 || strcmp(drv, "dummy") == 0) &&
        !(asked && strcmp(asked, drv) == 0)) {
        fprintf(stderr, "gilsim-view: no display (no X11 or Wayland: DISPLAY and "
                        "WAYLAND_DISPLAY are unset or unusable); use --render OUT.png to draw "
                        "headless\n");
        SDL_Quit();
        return GS_EXIT_IO;
    }
    if (a->timing)
        fprintf(stderr, "gilsim-view: video initialised %.1f ms after start\n", ms_since(t_start));
    return 0;
}

/* Opens the window (nine tenths of the usable display, at least 640x480)
 * and its renderer into *win and *r. 0, or GS_EXIT_IO with the reason
 * printed (SDL is then shut down). */
static int open_window(const args_t *a, const struct timespec *t_start, SDL_Window **win,
                       SDL_Renderer **r)
{
    SDL_EventState(SDL_DROPFILE, SDL_ENABLE);
    SDL_Rect disp = {0, 0, 1600, 900};
    SDL_GetDisplayUsableBounds(0, &disp);
    int ww = disp.w * 9 / 10, wh = disp.h * 9 / 10;
    *win = SDL_CreateWindow("gilsim-view", SDL_WINDOWPOS_CENTERED, SDL_WINDOWPOS_CENTERED,
                            ww > 640 ? ww : 640, wh > 480 ? wh : 480,
                            SDL_WINDOW_RESIZABLE | SDL_WINDOW_ALLOW_HIGHDPI);
    *r = *win ? SDL_CreateRenderer(*win, -1, 0) : NULL;
    if (!*r) {
        fprintf(stderr, "gilsim-view: cannot open a window: %s\n", SDL_GetError());
        if (*win)
            SDL_DestroyWindow(*win);
        SDL_Quit();
        return GS_EXIT_IO;
    }
    if (a->timing)
        fprintf(stderr, "gilsim-view: window and renderer (%s) %.1f ms after start\n",
                renderer_name(*r), ms_since(t_start));
    return 0;
}

/* Waits for events (not at all when dirty; else up to 10 ms while playing,
 * 50 ms while a load runs in the background, 100 ms otherwise) and hands
 * each to the view. True if one changed what is shown. */
static bool handle_events(gv_view_t *v, bool dirty)
{
    SDL_Event e;
    bool changed = false;
    int timeout = v->playing ? 10 : gv_bg_busy(v) ? 50 : 100; /* progress: 10/s */
    if (SDL_WaitEventTimeout(&e, dirty ? 0 : timeout)) {
        do {
            if (gv_view_event(v, &e))
                changed = true;
            if (e.type == SDL_DROPFILE)
                SDL_free(e.drop.file);
        } while (SDL_PollEvent(&e));
    }
    return changed;
}

/* Draws one frame at the window's pixel size and shows it, taking a
 * screenshot if one was asked for. 0 with *again true when the frame must
 * be drawn again at once, or GS_EXIT_IO with the reason printed. */
static int draw_frame(gv_view_t *v, SDL_Window *win, SDL_Renderer *r, bool *again)
{
    int w, h, pw, ph;
    SDL_GetWindowSize(win, &w, &h);
    SDL_GetRendererOutputSize(r, &pw, &ph);
    v->px_per_pt = w > 0 ? (float)pw / (float)w : 1.0f;
    if (gv_view_draw(v, r, pw, ph) != 0) {
        fprintf(stderr, "gilsim-view: %s\n", v->font_err);
        return GS_EXIT_IO;
    }
    /* after a screenshot, draw again at once: the notice says where it went */
    bool shot = v->want_screenshot && gv_view_screenshot(v, r, pw, ph);
    SDL_RenderPresent(r);
    *again = shot;
    return 0;
}

/* The event loop until the view quits (Q, closing the window, or
 * --quit-after): applies --at/--range/--select once a background first load
 * ends, redraws when something changed. The exit status. */
static int event_loop(const args_t *a, gv_view_t *v, SDL_Window *win, SDL_Renderer *r,
                      const struct timespec *t_start)
{
    int rc = 0;
    bool dirty = true, first = true, applied = v->n_runs > 0;
    uint32_t first_ms = 0;
    while (!v->quit) {
        if (handle_events(v, dirty))
            dirty = true;
        uint32_t now = SDL_GetTicks();
        if (gv_view_tick(v, now))
            dirty = true;
        if (!applied && v->n_runs) { /* the first load ended in the background */
            applied = true;
            dirty = true;
            if (apply_view_args(a, v) != 0) {
                rc = GS_EXIT_USAGE;
                break;
            }
        }
        if (!applied && !a->file && !gv_bg_busy(v)) { /* the built-in scenario failed */
            fprintf(stderr, "gilsim-view: %s\n", v->banner);
            rc = GS_EXIT_STOPPED;
            break;
        }
        if (a->quit_after_ms >= 0 && !first && now - first_ms >= (uint32_t)a->quit_after_ms)
            v->quit = true;
        if (!dirty)
            continue;
        if ((rc = draw_frame(v, win, r, &dirty)) != 0)
            break;
        if (first) {
            first = false;
            first_ms = SDL_GetTicks();
            if (a->timing)
                fprintf(stderr, "gilsim-view: first frame %.1f ms after start\n",
                        ms_since(t_start));
        }
    }
    return rc;
}

/* The window mode: opens the display and the window, runs the event loop,
 * then stops a background load and tears everything down. The exit status. */
static int window_loop(const args_t *a, gv_view_t *v, const struct timespec *t_start)
{
    SDL_Window *win = NULL;
    SDL_Renderer *r = NULL;
    int rc = open_display(a, t_start);
    if (rc == 0)
        rc = open_window(a, t_start, &win, &r);
    if (rc != 0)
        return rc;
    rc = event_loop(a, v, win, r, t_start);
    /* Q during a long run: it stops at its next event; a file still being
     * read is left to the process's exit */
    gv_bg_stop(v, 1000);
    gv_view_destroy(v);
    SDL_DestroyRenderer(r);
    SDL_DestroyWindow(win);
    SDL_Quit();
    return rc;
}

int main(int argc, char **argv)
{
    struct timespec ts0;
    clock_gettime(CLOCK_MONOTONIC, &ts0);
    static gv_view_t view;
    gv_view_init(&view);
    args_t a;
    if (parse_args(argc, argv, &a, &view) != 0) {
        gv_view_destroy(&view);
        return GS_EXIT_USAGE;
    }
    view.text_scale = a.text_scale;
    if (a.render) {
        /* no display needed: a software renderer on a surface */
        SDL_SetHint(SDL_HINT_VIDEODRIVER, "dummy");
    } else {
        /* the window: loads run on a thread of their own (bg.c); one that
         * takes long shows its progress and opens the window meanwhile */
        view.background = true;
    }
    view.compare = a.compare; /* the first load makes both runs */
    if (real_args(&a, &view) != 0) {
        gv_view_destroy(&view);
        return GS_EXIT_USAGE;
    }
    int load_rc = gv_view_load(&view, a.file);
    if (load_rc < 0) {
        if (a.render || !a.file) {
            fprintf(stderr, "gilsim-view: %s\n", view.banner);
            gv_view_destroy(&view);
            return gs_exit_status(load_rc);
        }
        /* in a window: show the errors, let the user pick another file */
    }
    if (view.n_runs && apply_view_args(&a, &view) != 0) {
        gv_view_destroy(&view);
        return GS_EXIT_USAGE;
    }
    if (a.render) {
        /* a run cut by the memory budget: the picture up to there, and the
         * message and exit status of gilsim run */
        char limit[GV_BANNER_MAX];
        bool cut = gv_view_limit_text(&view, limit, sizeof limit) > 0;
        if (cut)
            fprintf(stderr, "gilsim-view: %s\n", limit);
        int rc = render(&a, &view);
        return rc ? rc : cut ? GS_EXIT_STOPPED : GS_EXIT_OK;
    }
    if (a.timing)
        fprintf(stderr, "gilsim-view: loaded and simulated %.1f ms after start\n", ms_since(&ts0));
    return window_loop(&a, &view, &ts0);
}
