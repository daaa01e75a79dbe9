/* program.c - the op interpreter: how a scenario thread runs its program.
 *
 * A thread whose model gives it a program rather than a C body has no
 * worker pthread. Whenever the engine resumes it (its last request done),
 * the baton holder, whichever pthread that is, calls gs__program_step: it
 * moves the thread's cursor to the next op, submits that op's request
 * through the same primitives a C body calls, and returns; the holder then
 * goes on with the engine. The engine sees the same requests in the same
 * order as from a body on a worker, so a run is the same, without a
 * hand-off between pthreads per request (docs/performance.md).
 *
 * The cursor is a stack of frames: the program, then one per repeat or
 * until loop being run. A repeat runs its body `count` times without
 * expanding it in memory (its frame counts the passes left); an until loop
 * runs it until its event is set, looked at (gs_event_is_set) before each
 * run as Python's `while not ev.is_set()` does, so a set lands at most one
 * body before the loop ends, and the poll's Python is the body's own. Each
 * duration is drawn from the thread's own stream when the op starts. */
#include "engine_int.h"

#include <stdlib.h>
#include <string.h>

/* The deepest nesting of repeats in ops, plus one for ops itself. */
static int depth(const gs_op_t *ops, int n)
{
    int d = 0;
    for (int i = 0; i < n; i++)
        if (ops[i].kind == GS_OP_REPEAT || ops[i].kind == GS_OP_UNTIL) {
            int b = depth(ops[i].body, ops[i].n_body);
            d = b > d ? b : d;
        }
    return d + 1;
}

/* Submits o's request (o is no repeat). */
static void run_op(gs_ctx_t *c, const gs_op_t *o)
{
    switch (o->kind) {
    case GS_OP_CPU:
        if (o->shared)
            gs_touch_cpu(c, gs_draw(c, &o->dur), o->shared - 1, o->writes, o->every_ns);
        else
            gs_cpu(c, gs_draw(c, &o->dur));
        break;
    case GS_OP_GC:
        gs_gc(c, gs_draw(c, &o->dur));
        break;
    case GS_OP_IMPORT:
        gs_import(c, gs_draw(c, &o->dur), o->every_ns != 0);
        break;
    case GS_OP_IO:
        gs_io(c, gs_draw(c, &o->dur));
        break;
    case GS_OP_SLEEP:
        gs_sleep(c, gs_draw(c, &o->dur));
        break;
    case GS_OP_C_CALL:
        gs_c_call(c, gs_draw(c, &o->dur), o->releases_gil);
        break;
    case GS_OP_ACQUIRE:
        gs_acquire(c, o->target);
        break;
    case GS_OP_RELEASE:
        gs_release(c, o->target);
        break;
    case GS_OP_WAIT:
        gs_event_wait(c, o->target);
        break;
    case GS_OP_SET:
        gs_event_set(c, o->target);
        break;
    case GS_OP_CLEAR:
        gs_event_clear(c, o->target);
        break;
    case GS_OP_PUT:
        gs_queue_put(c, o->target);
        break;
    case GS_OP_GET:
        gs_queue_get(c, o->target);
        break;
    case GS_OP_START:
        gs_thread_start(c, o->target);
        break;
    case GS_OP_JOIN:
        gs_thread_join(c, o->target);
        break;
    case GS_OP_REPEAT:
    case GS_OP_UNTIL:
        break; /* the cursor enters them (next_op) */
    }
}

/* Whether a repeat goes on for another pass. */
static bool repeat_again(gs_prog_frame_t *f)
{
    if (f->left <= 0)
        return false;
    f->left--;
    return true;
}

/* An until loop's look at its event. Each look counts against max_events;
 * the one that reaches it submits a request, and the engine stops the run
 * at its next turn (*limit: the step ends there, as a body would be left
 * inside gs_event_is_set). */
static bool polled_set(gs_thr_t *t, int event, bool *limit)
{
    bool set = gs_event_is_set(t, event);
    *limit = t->e->n_events >= t->e->max_events;
    return set;
}

/* Moves t's cursor to the next op that makes a request; NULL at the end of
 * the program, or with *limit when a poll reached max_events. Every op
 * passed sets the thread's op label, as it starts. */
static const gs_op_t *next_op(gs_thr_t *t, bool *limit)
{
    *limit = false;
    while (t->n_frames > 0) {
        gs_prog_frame_t *f = &t->frames[t->n_frames - 1];
        if (f->i == f->n) {
            if (f->until) {
                bool set = polled_set(t, f->until - 1, limit);
                if (*limit)
                    return NULL;
                if (!set) {
                    f->i = 0;
                    continue;
                }
                t->until_ev = f->outer_until;
                t->n_frames--;
            } else if (t->n_frames > 1 && repeat_again(f)) {
                f->i = 0;
            } else {
                t->n_frames--;
            }
            continue;
        }
        const gs_op_t *o = &f->ops[f->i++];
        gs_set_op(t, o->id);
        if (o->kind == GS_OP_REPEAT) {
            if (o->n_body > 0 && o->count > 0)
                t->frames[t->n_frames++] =
                    (gs_prog_frame_t){o->body, o->n_body, 0, o->count - 1, 0, 0};
        } else if (o->kind == GS_OP_UNTIL) {
            int outer = t->until_ev; /* the innermost loop is the one named at a stop */
            t->until_ev = o->target + 1;
            bool set = polled_set(t, o->target, limit);
            if (*limit)
                return NULL;
            if (set)
                t->until_ev = outer;
            else
                t->frames[t->n_frames++] =
                    (gs_prog_frame_t){o->body, o->n_body, 0, 0, o->target + 1, outer};
        } else {
            return o;
        }
    }
    return NULL;
}

static void submit_exit(gs_engine_t *e, gs_thr_t *t)
{
    memset(&t->req, 0, sizeof t->req);
    t->req.kind = RQ_EXIT;
    gs__submit(e, t);
}

void gs__program_step(gs_engine_t *e, gs_thr_t *t)
{
    /* the request it made has completed: a shared access ends with it
     * (gs_touch_cpu resets it on return for a body) */
    t->acc_obj = 0;
    if (!t->frames) {
        const gs_thread_spec_t *s = t->spec;
        t->frames = malloc((size_t)depth(s->program, s->n_program) * sizeof *t->frames);
        if (!t->frames) {
            e->fatal = GS_ENOMEM;
            gs__stop(e, GS_OUT_ERROR, "out of memory for %s's program", gs__thr_name(t));
            return;
        }
        t->frames[0] = (gs_prog_frame_t){s->program, s->n_program, 0, 0, 0, 0};
        t->n_frames = 1;
    }
    bool limit;
    const gs_op_t *o = next_op(t, &limit);
    if (limit)
        return; /* a poll's request is in: the engine stops the run */
    if (o)
        run_op(t, o);
    else
        submit_exit(e, t);
}
