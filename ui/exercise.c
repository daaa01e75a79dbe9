/* exercise.c - predict, then reveal, in the viewer (E).
 *
 * The same exercise as `gilsim exercise --seed N` (exercise.h): E loads the
 * next seed's variant of a lesson (the lesson with the variant's settings
 * and its seed as --set overrides), hides the run (the future mode "hidden"
 * with the playhead at 0, the panel's figures replaced by the question) and
 * holds back every key and click but typing, Backspace, Enter and Esc, so
 * nothing gives the answer away. Enter reads the prediction (or none), reads
 * the answer from the run, says by how much the prediction missed, draws the
 * run again and puts the playhead where the answer shows, with its thread
 * selected: the panel's "Why?" tells the causal chain there. */
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void gv_exercise_start(gv_view_t *v)
{
    gv_exercise_state_t *x = &v->exercise;
    uint64_t seed = x->seed + 1;
    gs_exercise_t ex;
    if (gs_exercise_make(NULL, seed, &ex) != 0)
        return;
    char path[2048];
    snprintf(path, sizeof path, "%s/%s", gv_lessons_dir(), ex.lesson);
    /* the variant's settings replace the command line's and the knobs' */
    for (int i = 0; i < v->n_set; i++)
        free(v->set[i]);
    v->n_set = 0;
    gv_knobs_t none = {0};
    v->knobs = v->knobs_b = none;
    v->compare = false;
    char seed_set[48];
    snprintf(seed_set, sizeof seed_set, "seed=%llu", (unsigned long long)seed);
    gv_view_add_set(v, ex.set[0]);
    gv_view_add_set(v, ex.set[1]);
    gv_view_add_set(v, seed_set);
    int rc = gv_view_load(v, path);
    if (rc == GV_PENDING) /* the window, a slow machine: the question needs the run */
        rc = gv_bg_wait(v);
    if (rc != 0)
        return; /* the banner says why; nothing is asked */
    int future = x->state == GV_EX_ASK ? x->saved_future : v->future;
    memset(x, 0, sizeof *x);
    x->state = GV_EX_ASK;
    x->seed = seed;
    x->ex = ex;
    x->saved_future = future;
    v->future = GV_FUTURE_HIDE;
    v->playing = false;
    v->playhead = 0;
    gv_view_select(v, -1);
    v->help = false;
    v->banner[0] = '\0';
    SDL_StartTextInput();
}

static void stop(gv_view_t *v)
{
    v->future = v->exercise.saved_future;
    v->exercise.state = GV_EX_OFF;
}

void gv_exercise_reveal(gv_view_t *v)
{
    gv_exercise_state_t *x = &v->exercise;
    double guess = 0;
    bool has_guess = x->guess[0] != '\0';
    if (has_guess && !gs_exercise_read_guess(&x->ex, x->guess, &guess)) {
        x->bad_guess = true;
        return;
    }
    const gv_run_t *run = &v->run[0];
    if (v->n_runs == 0 || !run->has_stats) {
        stop(v);
        return;
    }
    int64_t at;
    int th;
    double answer = gs_exercise_answer(&x->ex, run->trace, &run->stats, &at, &th);
    char a[32], g[32], score[64];
    gs_exercise_format(&x->ex, answer, a, sizeof a);
    if (has_guess) {
        gs_exercise_format(&x->ex, guess, g, sizeof g);
        gs_exercise_score(guess, answer, score, sizeof score);
        snprintf(x->result, sizeof x->result, "Answer: %s. You predicted %s: %s.", a, g, score);
    } else {
        snprintf(x->result, sizeof x->result, "Answer: %s.", a);
    }
    x->state = GV_EX_REVEAL;
    v->future = x->saved_future;
    gv_view_set_playhead(v, at);
    if (th >= 0)
        gv_view_select(v, th);
}

/* Typing while asked: figures, units, a point, 'x'. */
static void type(gv_exercise_state_t *x, const char *s)
{
    size_t n = strlen(x->guess);
    for (; *s && n + 1 < sizeof x->guess; s++)
        if ((*s >= '0' && *s <= '9') || *s == '.' || *s == ' ' || (*s >= 'a' && *s <= 'z')) {
            x->guess[n++] = *s;
            x->guess[n] = '\0';
            x->bad_guess = false;
        }
}

bool gv_exercise_event(gv_view_t *v, const SDL_Event *e)
{
    gv_exercise_state_t *x = &v->exercise;
    if (x->state != GV_EX_ASK)
        return false;
    switch (e->type) {
    case SDL_TEXTINPUT:
        /* a window sends the E that started the exercise as text too */
        if (!x->typed_e && (strcmp(e->text.text, "e") == 0 || strcmp(e->text.text, "E") == 0)) {
            x->typed_e = true;
            return true;
        }
        x->typed_e = true;
        type(x, e->text.text);
        return true;
    case SDL_KEYDOWN:
        x->typed_e = true; /* the E's own text, if any, came before this key */
        switch (e->key.keysym.sym) {
        case SDLK_RETURN:
        case SDLK_KP_ENTER: gv_exercise_reveal(v); break;
        case SDLK_BACKSPACE:
            if (x->guess[0])
                x->guess[strlen(x->guess) - 1] = '\0';
            break;
        case SDLK_ESCAPE: stop(v); break;
        default: break; /* held back: a key must not show the run */
        }
        return true;
    case SDL_MOUSEBUTTONDOWN:
    case SDL_MOUSEBUTTONUP:
    case SDL_FINGERDOWN:
    case SDL_DROPFILE:
        return true;
    default:
        return false;
    }
}

static int wrap(gv_view_t *v, gv_style_t st, uint32_t rgb, int x, int y, int w, int bottom,
                const char *s)
{
    int line = gv_text_line(v->text, st);
    int room = (bottom - y) / line;
    if (room <= 0)
        return y;
    return y + line * gv_text_wrap(v->text, st, rgb, x, y, w, s, room, 1);
}

int gv_draw_exercise(gv_view_t *v, SDL_Renderer *r, int x, int y, int w, int bottom)
{
    gv_exercise_state_t *ex = &v->exercise;
    char buf[512];
    if (ex->state == GV_EX_REVEAL) {
        y += v->lay.px / 4;
        gv_fill(r, (SDL_Rect){x - 4, y - 2, w + 8, 1}, GV_ACCENT, 255);
        y = wrap(v, GV_BOLD, GV_INK, x, y, w, bottom, ex->result);
        snprintf(buf, sizeof buf, "Exercise %llu (%s; gilsim exercise --seed %llu). E: the next "
                 "one, Esc: close.", (unsigned long long)ex->seed, ex->ex.topic,
                 (unsigned long long)ex->seed);
        return wrap(v, GV_REGULAR, GV_MUTED, x, y, w, bottom, buf);
    }
    if (ex->state != GV_EX_ASK)
        return y;
    snprintf(buf, sizeof buf, "Exercise %llu: predict, then reveal", (unsigned long long)ex->seed);
    y = wrap(v, GV_TITLE, GV_INK, x, y, w, bottom, buf);
    char q[400];
    snprintf(q, sizeof q, "%s", ex->ex.question);
    for (char *c = q; *c; c++)
        *c = *c == '\n' ? ' ' : *c;
    y = wrap(v, GV_REGULAR, GV_INK, x, y + v->lay.px / 2, w, bottom, q);
    char set[320];
    gs_exercise_settings(&ex->ex, set, sizeof set);
    snprintf(buf, sizeof buf, "The settings: %s.", set);
    y = wrap(v, GV_REGULAR, GV_MUTED, x, y + v->lay.px / 2, w, bottom, buf);
    snprintf(buf, sizeof buf, "Your prediction: %s_", ex->guess);
    y = wrap(v, GV_BOLD, GV_INK, x, y + v->lay.px, w, bottom, buf);
    snprintf(buf, sizeof buf, "%s Enter reveals the answer (with no prediction too); Esc stops.",
             ex->bad_guess ? (ex->ex.figure == GS_EX_SPEEDUP ? "Write a factor such as 1.5x."
                                                             : "Write a time such as 5ms.")
                           : (ex->ex.figure == GS_EX_SPEEDUP ? "Type a factor such as 1.5x."
                                                             : "Type a time such as 5ms."));
    return wrap(v, GV_REGULAR, ex->bad_guess ? GV_ERROR : GV_MUTED, x, y, w, bottom, buf);
}
