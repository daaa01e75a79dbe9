/* check_bg.c - the window's loads in the background (ui/bg.c, issue 18),
 * without a window: a long run is pending while the view goes on answering
 * events, shows its progress, can be cancelled (the picture stays), is
 * superseded by a knob, and a memory bomb ends with the budget's message.
 * SDL's dummy video driver, a software renderer on a surface. */
#include <SDL.h>
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "uitest.h"
#include "view.h"
#include "tu_main.h"

#define W 1280
#define H 720

static char dir[64];

/* ~20 s to reach the default budget here: every op is a hand-off. */
static const char *LONG_RUN =
    "{\"name\": \"long\", \"until\": \"1000s\", \"max_events\": 1000000000000, \"threads\": ["
    "{\"name\": \"a\", \"program\": [{\"repeat\": 1000000000, \"do\": [{\"cpu\": \"1us\"}, "
    "{\"io\": \"1us\"}]}]},"
    "{\"name\": \"b\", \"program\": [{\"repeat\": 1000000000, \"do\": [{\"cpu\": \"1us\"}, "
    "{\"io\": \"1us\"}]}]}]}";
/* The 160-byte memory bomb. */
static const char *BOMB = "{\"until\":\"1000s\",\"max_events\":1000000000000,\"queues\":{\"q\":{}},"
                          "\"threads\":[{\"name\":\"p\",\"program\":[{\"repeat\":1000000000,"
                          "\"do\":[{\"put\":\"q\"}]}]}]}";

static void setup(void)
{
    ui_open(W, H);
    V.background = true; /* as in the window */
    snprintf(dir, sizeof dir, "/tmp/gilsim-bg-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof cmd, "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
    ui_close();
}

static const char *file(const char *name, const char *text)
{
    static char path[4][128];
    static int k;
    char *p = path[k++ % 4];
    snprintf(p, 128, "%s/%s", dir, name);
    FILE *f = fopen(p, "w");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    return p;
}

/* Ticks (as the window loop does) until the load is done or max_s passed. */
static bool tick_until_idle(double max_s)
{
    uint32_t t0 = SDL_GetTicks();
    while (gv_bg_busy(&V) && SDL_GetTicks() - t0 < (uint32_t)(max_s * 1000)) {
        gv_view_tick(&V, SDL_GetTicks());
        SDL_Delay(10);
    }
    return !gv_bg_busy(&V);
}

/* Ticks until the progress line shows simulated events. */
static void tick_until_simulating(void)
{
    uint32_t t0 = SDL_GetTicks();
    while (SDL_GetTicks() - t0 < 60000) {
        gv_view_tick(&V, SDL_GetTicks());
        if (strstr(V.banner, "million events") && !strstr(V.banner, " 0 million"))
            return;
        SDL_Delay(20);
    }
    ck_abort_msg("no progress in 60 s: %s", V.banner);
}

/* ---- core ------------------------------------------------------------------- */

START_TEST(test_bg_quick_load_is_committed_before_it_returns)
{
    ck_assert_int_eq(gv_view_load(&V, NULL), 0);
    ck_assert_int_eq(V.n_runs, 1);
    ck_assert(!gv_bg_busy(&V));
    ck_assert_str_eq(V.banner, "");
    /* a knob: the same, and the callers' notice */
    ui_key(SDLK_k, 0);
    ck_assert(!gv_bg_busy(&V));
    ck_assert_int_eq(V.knobs.cores, 3);
    ck_assert_ptr_nonnull(strstr(V.banner, "cores"));
}
END_TEST

START_TEST(test_bg_long_run_shows_progress_and_esc_keeps_the_picture)
{
    ck_assert_int_eq(gv_view_load(&V, NULL), 0);
    const gs_trace_t *before = V.run[0].trace;
    int64_t end = V.end_ns;
    const char *p = file("long.json", LONG_RUN);
    ck_assert_int_eq(gv_view_load(&V, p), GV_PENDING);
    ck_assert(gv_bg_busy(&V));
    tick_until_simulating();
    ck_assert_ptr_nonnull(strstr(V.banner, "long.json: simulating: "));
    ck_assert_ptr_nonnull(strstr(V.banner, " of 1000 s simulated"));
    ck_assert_ptr_nonnull(strstr(V.banner, "memory budget"));
    ck_assert_ptr_nonnull(strstr(V.banner, "Esc cancels"));
    /* the window answers meanwhile: it draws the old picture and zooms */
    ck_assert_ptr_eq(V.run[0].trace, before);
    ui_draw(W, H);
    if (getenv("GILSIM_BG_PNG")) { /* to look at the progress line */
        char err[256];
        gv_save_png(S, getenv("GILSIM_BG_PNG"), err, sizeof err);
    }
    int64_t span = V.t1 - V.t0;
    ui_key(SDLK_PLUS, 0);
    ck_assert_int_lt(V.t1 - V.t0, span);
    ui_key(SDLK_ESCAPE, 0);
    ck_assert(tick_until_idle(20));
    ck_assert_ptr_eq(V.run[0].trace, before);
    ck_assert_int_eq(V.end_ns, end);
    ck_assert_ptr_null(V.path); /* R reloads what is shown */
    ck_assert_msg(strstr(V.banner, "cancelled") && strstr(V.banner, "picture shown stays"), "%s",
                  V.banner);
    ui_draw(W, H);
}
END_TEST

START_TEST(test_bg_knobs_pressed_during_a_run_add_up)
{
    const char *p = file("long.json", LONG_RUN);
    V.memory_budget = (size_t)32 << 20; /* ends on its own, in seconds */
    int rc = gv_view_load(&V, p);
    ck_assert(rc == 0 || rc == GV_PENDING);
    ck_assert(tick_until_idle(120));
    ck_assert_int_eq(V.n_runs, 1);
    int cores = V.knobs.cores;
    /* three presses, each superseding the run under way (or after it) */
    ui_key(SDLK_k, 0);
    ui_key(SDLK_k, 0);
    ui_key(SDLK_k, 0);
    ck_assert(tick_until_idle(120));
    ck_assert_int_eq(V.knobs.cores, cores + 3);
    ck_assert(V.knobs.set_cores);
    ck_assert_int_eq(V.run[0].model->machine.cores, cores + 3);
    ck_assert_msg(strstr(V.banner, "memory budget of 32 MiB") != NULL, "%s", V.banner);
}
END_TEST

START_TEST(test_bg_esc_during_a_knob_run_puts_the_knob_back)
{
    ck_assert_int_eq(gv_view_load(&V, file("long.json", LONG_RUN)), GV_PENDING);
    ui_key(SDLK_ESCAPE, 0);
    ck_assert(tick_until_idle(20));
    ck_assert_int_eq(V.n_runs, 0);
    ck_assert_ptr_nonnull(V.path); /* the first file: R loads it */
    ck_assert_ptr_nonnull(strstr(V.banner, "nothing is loaded"));
    /* a quick run of it (until 5 ms), then a knob with the whole length:
     * long, cancelled: the knob goes back, the picture stays */
    ck_assert_int_eq(gv_view_add_set(&V, "until=5ms"), 0);
    ck_assert_int_eq(gv_view_reload(&V), 0);
    ck_assert_int_eq(V.n_runs, 1);
    const gs_trace_t *before = V.run[0].trace;
    int cores = V.knobs.cores;
    free(V.set[0]);
    V.n_set = 0;
    ui_key(SDLK_k, 0);
    ck_assert(gv_bg_busy(&V));
    ck_assert_int_eq(V.knobs.cores, cores + 1); /* pending: the knob shows where it goes */
    ui_key(SDLK_ESCAPE, 0);
    ck_assert(tick_until_idle(20));
    ck_assert_int_eq(V.knobs.cores, cores);
    ck_assert(!V.knobs.set_cores);
    ck_assert_ptr_eq(V.run[0].trace, before);
}
END_TEST

/* ---- limits ------------------------------------------------------------------ */

START_TEST(test_bg_memory_bomb_ends_with_the_budget_message)
{
    V.memory_budget = (size_t)64 << 20;
    const char *p = file("bomb.json", BOMB);
    int rc = gv_view_load(&V, p);
    ck_assert(rc == 0 || rc == GV_PENDING);
    ck_assert(tick_until_idle(120));
    ck_assert_int_eq(V.n_runs, 1);
    ck_assert_int_eq(gs_trace_outcome(V.run[0].trace), GS_OUT_LIMIT);
    /* gilsim run's words, and they stay */
    ck_assert_msg(strstr(V.banner, "bomb.json: simulation stopped (limit): stopped at the memory "
                                   "budget of 64 MiB") &&
                      strstr(V.banner, "raise it with --memory-budget SIZE"),
                  "%s", V.banner);
    ck_assert(!V.banner_error);
    ck_assert_uint_eq(V.banner_until_ms, 0);
    ui_draw(W, H);
}
END_TEST

START_TEST(test_bg_quit_during_a_long_run_stops_it)
{
    ck_assert_int_eq(gv_view_load(&V, file("long.json", LONG_RUN)), GV_PENDING);
    tick_until_simulating();
    ui_key(SDLK_q, 0);
    ck_assert(V.quit);
    /* the run would go on for ~20 s more; cancelled, it stops at its next event */
    uint32_t t0 = SDL_GetTicks();
    ck_assert(gv_bg_stop(&V, 10000));
    fprintf(stderr, "check_bg: stopped %u ms after Q\n", SDL_GetTicks() - t0);
}
END_TEST

static Suite *bg_suite(void)
{
    Suite *s = suite_create("bg");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_set_timeout(core, 300);
    tcase_add_test(core, test_bg_quick_load_is_committed_before_it_returns);
    tcase_add_test(core, test_bg_long_run_shows_progress_and_esc_keeps_the_picture);
    tcase_add_test(core, test_bg_knobs_pressed_during_a_run_add_up);
    tcase_add_test(core, test_bg_esc_during_a_knob_run_puts_the_knob_back);
    suite_add_tcase(s, core);
    TCase *limits = tcase_create("limits");
    tcase_add_checked_fixture(limits, setup, teardown);
    tcase_set_timeout(limits, 300);
    tcase_add_test(limits, test_bg_memory_bomb_ends_with_the_budget_message);
    tcase_add_test(limits, test_bg_quit_during_a_long_run_stops_it);
    suite_add_tcase(s, limits);
    return s;
}

int main(void)
{
    return tu_main(bg_suite());
}
