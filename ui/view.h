/* view.h - gilsim-view's state, layout and input, independent of any window.
 *
 * A gv_view_t holds the loaded scenario (one run, or two in compare mode), the
 * visible time range, the playhead, the selection and the overlays. Input is
 * fed as SDL_Events (gv_view_event) and time as milliseconds (gv_view_tick),
 * so tests drive it without a display. gv_view_draw paints everything with
 * any SDL_Renderer: a window's, or a software one on a surface (--render). */
#ifndef GV_VIEW_H
#define GV_VIEW_H

#include <SDL.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>

#include "gilsim/gilsim.h"
#include "text.h"

#define GV_MAX_SET 32     /* --set overrides from the command line */
/* Runs shown at once: one; two in compare mode (A and B); beside a
 * recording three: A what happened, B the model at the recorded settings,
 * C the what-if (issue 14). */
#define GV_MAX_RUNS 3
#define GV_BANNER_MAX 2048

/* A run's queues at one instant (queues.c). */
typedef struct gv_queues gv_queues_t;
void gv_queues_free(gv_queues_t *q);

/* One simulation of the scenario: model, trace and its metrics. */
typedef struct gv_run {
    gs_model_t *model; /* owned */
    gs_trace_t *trace; /* owned; NULL when the run produced none */
    gs_stats_t stats;  /* valid when has_stats */
    bool has_stats;
    char label[160];   /* "cpython3 · interval 5 ms · 2 cores · cfs" */
    gs_instant_t *instants; /* owned: the trace's instants but annotations,
                               sorted by time (stable), for binary search */
    size_t n_instants;
    gv_queues_t *queues; /* owned: its queues at the instant the panel last
                            showed (queues.c); NULL until drawn */
    bool without_load; /* a what-if run without the fitted other load, as
                          gilsim replay runs a fifo one (sim/fit/whatif.c) */
} gv_run_t;

/* The what-if knobs. A knob the user changed becomes an override. */
typedef struct gv_knobs {
    int64_t interval_ns;
    int cores;
    int gil;    /* gs_gil_kind_t */
    int policy; /* gs_policy_t */
    int64_t timeslice_ns; /* rr and priority */
    bool one_cpu; /* the program confined (top-level "cpus"), as taskset -c 0 */
    bool set_interval, set_cores, set_gil, set_policy, set_timeslice, set_one_cpu;
} gv_knobs_t;

typedef enum gv_button {
    GV_BTN_INTERVAL_DOWN,
    GV_BTN_INTERVAL_UP,
    GV_BTN_CORES_DOWN,
    GV_BTN_CORES_UP,
    GV_BTN_GIL,
    GV_BTN_POLICY,
    GV_BTN_COMPARE,
    GV_BTN_OPEN,
    GV_BTN_RELOAD,
    GV_BTN_PLAY,
    GV_BTN_HELP,
    GV_N_BUTTONS
} gv_button_t;

typedef enum gv_row_kind {
    GV_ROW_HEADER, /* "process main", "cores", "A: cpython3 ..." */
    GV_ROW_LANE
} gv_row_kind_t;

typedef struct gv_row {
    gv_row_kind_t kind;
    int run;  /* 0 .. GV_MAX_RUNS - 1 */
    int lane; /* trace lane index for GV_ROW_LANE */
    int y, h; /* pixels */
    char text[128];
} gv_row_t;

typedef struct gv_layout {
    int w, h;          /* output pixels */
    int px;            /* body text size */
    int line;          /* body line height */
    SDL_Rect title, knobs, labels, lanes, axis, panel, footer;
    SDL_Rect btn[GV_N_BUTTONS];
    gv_row_t *rows;    /* owned */
    int n_rows, cap_rows;
    int scroll;        /* lanes scrolled up by this many pixels (kept across layouts) */
    int content_h;     /* height of all rows; scrolls when above lanes.h */
    int desc_lines;    /* the description's lines at most; 0: up to a quarter of h */
    bool fold_cores;   /* beside a recording, too many rows for a line each: the
                          models' core lanes fold into their "cores" header */
    int panel_scroll;  /* the side panel scrolled up by this many pixels (kept) */
    int panel_max_scroll; /* from the last draw: 0 when everything fits */
    SDL_Rect panel_view;  /* from the last draw: the panel's scrolled part */
    SDL_Rect panel_pinned; /* from the last draw: the summary pinned at the panel's
                              bottom (h 0: nothing pinned, it scrolls with the rest) */
} gv_layout_t;

typedef struct gv_picker {
    bool open;
    char dir[1024];
    char **files, **names, **descs; /* owned, n entries each */
    bool *is_dir;      /* owned: entry i is a folder (its parent first) */
    int n, sel, top;
    SDL_Rect box;      /* from the last draw, for clicks */
    int list_y, row_h, visible;
} gv_picker_t;

/* Predict, then reveal (E, exercise.c): the seeded variant of a lesson is
 * loaded with its answer hidden, a prediction is typed, Enter reveals. */
enum { GV_EX_OFF, GV_EX_ASK, GV_EX_REVEAL };
typedef struct gv_exercise_state {
    int state;            /* GV_EX_* */
    uint64_t seed;        /* of the exercise shown; E takes the next one */
    gs_exercise_t ex;     /* the variant (exercise.h) */
    char guess[32];       /* typed so far */
    bool bad_guess;       /* Enter on something that is not a figure */
    bool typed_e;         /* the text of the E key that started it has passed */
    int saved_future;     /* the V mode to restore at the reveal */
    char result[256];     /* "Answer: 4.95 ms. You predicted 5 ms: exact." */
} gv_exercise_state_t;

typedef struct gv_view {
    /* document */
    char *path;                 /* owned; NULL = the built-in default scenario */
    char *set[GV_MAX_SET];      /* owned "key=value" from --set */
    int n_set;
    gv_knobs_t knobs;           /* run A's (and the only run's) knob overrides */
    gv_knobs_t knobs_b;         /* run B's in compare mode; beside a recording, the
                                   what-if's (run C): B stays at the recorded settings */
    char *cmp_set[GV_MAX_SET];  /* owned "key=value": what makes run B differ
                                   (--compare); none: B has the other GIL model */
    int n_cmp_set;
    int target;                /* the run the knobs act on: 0 (A), 1 (B after Tab in
                                  compare mode), 2 (C, the what-if beside a recording) */
    gv_run_t run[GV_MAX_RUNS]; /* run[1] in compare mode; run[2] beside a recording
                                  once a knob or --set asks for a what-if */
    bool compare;
    int n_runs;                 /* 0 before the first successful load */
    struct timespec mtime;      /* of path when last loaded */
    uint32_t last_watch_ms;
    char banner[GV_BANNER_MAX]; /* errors, or a notice */
    bool banner_error;
    uint32_t banner_until_ms;   /* 0 = until dismissed (errors) */
    /* time */
    int64_t end_ns;             /* latest end over the runs */
    int64_t t0, t1;             /* visible range [t0, t1) */
    int64_t playhead;
    int future;                 /* GV_FUTURE_*: how the run after the playhead is drawn */
    bool color_by_thread;       /* M: running bars, GIL and cores in each thread's colour */
    struct gv_step *steps;      /* owned: every event in engine order (steps.c) */
    size_t n_steps;
    long step_at;               /* the step the playhead stands on, -1 none */
    bool playing;
    int speed_idx;              /* index into the playback rates */
    uint32_t last_tick_ms;
    /* interaction */
    int selected;               /* thread index in run sel_run, -1 = none; the same
                                   thread of another run is the one of that name */
    int sel_run;                /* gv_view_select sets both */
    int mouse_x, mouse_y;       /* output pixels */
    bool mouse_in;
    int drag;                   /* 0 none, 1 pan, 2 selection, 3 playhead */
    int drag_x0;
    int64_t drag_t0, drag_t1;
    bool help;
    gv_picker_t picker;
    double text_scale;          /* Ctrl +/- */
    float px_per_pt;            /* HiDPI: output pixels per window coordinate */
    bool quit;
    bool want_screenshot;
    char shot_dir[1024];
    char shot_last[4200];       /* where the last screenshot went */
    gv_exercise_state_t exercise;
    /* drawing */
    gv_layout_t lay;
    gv_text_t *text;            /* owned; created by gv_view_draw on first use */
    SDL_Renderer *text_r;       /* the renderer text belongs to */
    SDL_Texture *lanes_tex;     /* owned streaming texture of the lanes */
    int tex_w, tex_h;
    uint32_t *pixels;           /* owned, tex_w * tex_h */
    char font_err[256];
    /* loading (run.c, bg.c) */
    size_t memory_budget;       /* per run (--memory-budget); 0 = the default */
    bool background;            /* the window: loads run on a thread of their own */
    struct gv_bg *bg;           /* owned (bg.c): the load under way, if any */
    char *real;                 /* owned: a recording shown as run A beside the model
                                   (--replay, --compare-with); NULL otherwise */
    bool replay;                /* run B is fitted to `real` (else it is `path`) */
} gv_view_t;

/* What lies after the playhead (V cycles): the whole run is drawn, the
 * future dimmed (the default) or in full; or hidden, revealed as it plays. */
enum { GV_FUTURE_DIM, GV_FUTURE_SHOW, GV_FUTURE_HIDE, GV_FUTURE_MODES };
/* The time up to which the trace is drawn: the playhead when the future is
 * hidden, else the end. */
int64_t gv_reveal(const gv_view_t *v);
/* Where a newly opened run (scenario or recording) puts its playhead: the
 * scenario's open_at, else its first annotation, else the middle of its
 * first long GIL wait (or core wait: at least half the longest and 1/100 of
 * the run), else the middle of the run. *thread: the thread whose wait it
 * shows (selected, so that the panel says why), or -1. */
int64_t gv_view_opening(const gv_view_t *v, int *thread);

/* ---- view.c: state -------------------------------------------------------- */
void gv_view_init(gv_view_t *v);
void gv_view_destroy(gv_view_t *v);
/* Loads path (NULL = built-in default) with the --set overrides and the
 * knobs; on failure keeps what was shown and puts the errors in the banner.
 * Returns 0 or a GS_E* code. */
int gv_view_load(gv_view_t *v, const char *path);
int gv_view_reload(gv_view_t *v);
/* What gv_view_load and gv_view_reload return (besides 0 and GS_E*) when the
 * load goes on in the background (v->background): the result comes later. */
#define GV_PENDING 1
int gv_view_add_set(gv_view_t *v, const char *kv);
/* B's settings for compare mode: "KEY=VALUE[,KEY=VALUE]..." (--compare). 0,
 * or GS_EINVAL with nothing changed. */
int gv_view_set_compare_spec(gv_view_t *v, const char *spec);
/* The knobs of the run they act on (A, or B in compare mode after Tab). */
gv_knobs_t *gv_view_knobs(gv_view_t *v);
/* When a run stopped at the memory budget: "[A: ]FILE: simulation stopped
 * (limit): MESSAGE" in buf (as gilsim run says it) and 1; else 0 and buf
 * untouched. */
int gv_view_limit_text(const gv_view_t *v, char *buf, size_t n);
/* Selects thread th of run 0 (-1: none). */
void gv_view_select(gv_view_t *v, int th);
/* The selected thread's index in run `run` (the thread of the same name),
 * or -1. */
int gv_view_thread_in(const gv_view_t *v, int run);
/* Beside a recording, the index in run `run` (B or C) of the fit's process
 * of the machine's other load, which has no recorded thread to compare
 * (the lanes and the summary fold it); -1 if none, and always for run A. */
int gv_view_load_process(const gv_view_t *v, int run);
/* Beside a recording: true when run C, the what-if, is shown (a knob or
 * --set changed the model); false before, when its place says how. */
bool gv_view_has_what_if(const gv_view_t *v);
/* Drops the knob overrides of the run they act on and reloads (U). */
void gv_view_reset_knobs(gv_view_t *v);
/* "interval 1 ms, cores 4": the knob overrides of k, "" when none. */
void gv_knobs_text(const gv_knobs_t *k, char *buf, size_t n);
void gv_view_set_compare(gv_view_t *v, bool on);
void gv_view_fit(gv_view_t *v);
void gv_view_zoom(gv_view_t *v, double factor, int64_t around);
void gv_view_pan(gv_view_t *v, int64_t dt);
void gv_view_set_range(gv_view_t *v, int64_t a, int64_t b);
void gv_view_set_playhead(gv_view_t *v, int64_t t);
int64_t gv_view_next_event(const gv_view_t *v, int64_t t);
int64_t gv_view_prev_event(const gv_view_t *v, int64_t t);
void gv_view_notice(gv_view_t *v, bool error, const char *fmt, ...);

/* ---- bg.c: loading in the background (the window) ---------------------------- */
struct gv_spec;
/* Starts loading s (which it takes) on a thread of its own, cancelling the
 * load under way; waits a moment, so that a quick load is committed at once
 * (its result returned) and only a long one shows progress: GV_PENDING. */
int gv_bg_start(gv_view_t *v, struct gv_spec *s);
/* Polls the load under way: commits it when done, else refreshes the
 * progress line. True to redraw. */
bool gv_bg_tick(gv_view_t *v, uint32_t now_ms);
/* Esc while loading cancels it (the picture shown stays). True if taken. */
bool gv_bg_event(gv_view_t *v, const SDL_Event *e);
/* Waits for the load under way and commits it: its result (0 when none). */
int gv_bg_wait(gv_view_t *v);
/* True while a load is under way. */
bool gv_bg_busy(const gv_view_t *v);
/* Cancels the load under way and waits for its thread for at most
 * timeout_ms (< 0: for ever); frees the rest. False when the thread was
 * still running at the timeout (then left to the process's exit). */
bool gv_bg_stop(gv_view_t *v, int timeout_ms);

/* ---- view.c: input --------------------------------------------------------- */
/* Handles one event; returns true when the picture changed. */
bool gv_view_event(gv_view_t *v, const SDL_Event *e);
/* Advances playback and watches the file; returns true to redraw. */
bool gv_view_tick(gv_view_t *v, uint32_t now_ms);
int64_t gv_view_play_rate(const gv_view_t *v); /* simulated ns per second */

/* ---- layout.c ---------------------------------------------------------------- */
/* Computes the layout for an output of w x h pixels (text must exist). */
void gv_layout(gv_view_t *v, int w, int h);
int64_t gv_x_to_t(const gv_view_t *v, int x);
double gv_t_to_x(const gv_view_t *v, int64_t t);
const gv_row_t *gv_row_at(const gv_view_t *v, int y);

/* ---- draw.c ------------------------------------------------------------------- */
/* Draws the whole picture into r's target at w x h pixels. 0, or -1 when no
 * font could be loaded (message in v->font_err). */
int gv_view_draw(gv_view_t *v, SDL_Renderer *r, int w, int h);
void gv_draw_lanes(gv_view_t *v, SDL_Renderer *r);

/* A thread's own colour in thread-colour mode (M). */
uint32_t gv_thread_color(int thread);

/* ---- panels.c ----------------------------------------------------------------- */
void gv_draw_title(gv_view_t *v, SDL_Renderer *r);
void gv_draw_footer(gv_view_t *v, SDL_Renderer *r);
/* summary.c: the side panel ("At t =", the scrolled part, the pinned summary;
 * its queues: queues.c). */
void gv_draw_panel(gv_view_t *v, SDL_Renderer *r);
/* queues.c: the tooltip. */
void gv_draw_tooltip(gv_view_t *v, SDL_Renderer *r);
/* The tooltip for the mouse at (x, y): a marker (drop request, forced
 * switch, futile wake-up, preemption) within a few pixels, else the bar
 * under it. Fills up to GV_TIP_LINES lines, the first one the title;
 * returns how many (0: no tooltip there). */
#define GV_TIP_LINES 6
#define GV_TIP_WIDTH 192
int gv_tooltip_text(const gv_view_t *v, int x, int y, char lines[][GV_TIP_WIDTH]);
void gv_draw_banner(gv_view_t *v, SDL_Renderer *r);
void gv_draw_help(gv_view_t *v, SDL_Renderer *r);

/* ---- why.c --------------------------------------------------------------------- */
/* The causal chain of thread th in run at t as text (gs_explain_text),
 * malloc'ed; NULL for no thread or OOM. */
char *gv_why_text(const gv_view_t *v, int run, int th, int64_t t);
/* Draws "Why? NAME" and the selected thread's whole chain, word-wrapped in w
 * pixels (text outside gv_text_clip's window is skipped); returns the next y. */
int gv_draw_why(gv_view_t *v, SDL_Renderer *r, int run, int64_t t, int x, int y, int w);

/* ---- steps.c -------------------------------------------------------------------- */
/* Moves the playhead to the next (dir > 0) or previous event, one at a time
 * in engine order, also among the events of one instant. */
bool gv_step(gv_view_t *v, int dir);
/* "6.020 ms (2 of 3): server's wait for the GIL timed out..." when the
 * playhead stands on a step; false otherwise. */
bool gv_step_text(const gv_view_t *v, char *buf, size_t n);
void gv_steps_clear(gv_view_t *v); /* after a load: the runs changed */

/* ---- exercise.c ---------------------------------------------------------------- */
/* E: loads the next seed's variant (the seed picks the topic, as gilsim
 * exercise --seed N without --topic does), hides the run and asks. */
void gv_exercise_start(gv_view_t *v);
/* While asking: typing, Backspace, Enter (reveal), Esc (stop); every other
 * key and click is held back so nothing gives the answer away. True when
 * the event was the exercise's. */
bool gv_exercise_event(gv_view_t *v, const SDL_Event *e);
/* The answer from the run, the score of the guess, the run drawn again and
 * the playhead at the instant that shows the answer, its thread selected. */
void gv_exercise_reveal(gv_view_t *v);
/* The panel while asking (question, settings, the prediction typed) or the
 * result after the reveal; returns the next y. */
int gv_draw_exercise(gv_view_t *v, SDL_Renderer *r, int x, int y, int w, int bottom);

/* ---- picker.c ------------------------------------------------------------------ */
const char *gv_lessons_dir(void); /* $GILSIM_SCENARIOS, ./scenarios, or the built-in path */
void gv_picker_open(gv_view_t *v);   /* the current file's folder, else the lessons */
void gv_picker_lessons(gv_view_t *v); /* the lessons' folder (L) */
void gv_picker_close(gv_picker_t *p);
bool gv_picker_event(gv_view_t *v, const SDL_Event *e);
void gv_draw_picker(gv_view_t *v, SDL_Renderer *r);

/* ---- util.c --------------------------------------------------------------------- */
/* "12.5 ms", with as many decimals as step (the resolution) needs. */
void gv_fmt_time(char *buf, size_t n, int64_t t, int64_t step);
/* A point in time in the unit of its magnitude, resolved to res:
 * "201.978 ms" for res = 1 us. */
void gv_fmt_at(char *buf, size_t n, int64_t t, int64_t res);
/* "4.95 ms" with three significant digits. */
void gv_fmt_dur(char *buf, size_t n, int64_t d);
void gv_set_color(SDL_Renderer *r, uint32_t rgb, uint8_t a);
void gv_fill(SDL_Renderer *r, SDL_Rect rc, uint32_t rgb, uint8_t a);
void gv_frame(SDL_Renderer *r, SDL_Rect rc, uint32_t rgb, int thick);
/* State at t of a lane: the interval covering t, or NULL. */
const gs_interval_t *gv_lane_at(const gs_lane_t *lane, int64_t t);
/* S: reads back what r shows, saves it as a dated PNG in shot_dir and says
 * where (absolute path) in a notice. Returns true: draw again to show it. */
bool gv_view_screenshot(gv_view_t *v, SDL_Renderer *r, int w, int h);
/* Writes a PNG atomically (temporary file, then rename). 0 or -1 + message. */
int gv_save_png(SDL_Surface *s, const char *path, char *err, size_t n);

/* Colours of the picture (not states: those come from gs_state_color). */
#define GV_BG 0xFFFFFFu
#define GV_INK 0x1A1A1Au
#define GV_MUTED 0x555555u
#define GV_GRID 0xE4E4E4u
#define GV_PANEL 0xF4F4F2u
#define GV_ACCENT 0xCC79A7u /* reddish purple: instants */
#define GV_ERROR 0xB00020u

#endif
