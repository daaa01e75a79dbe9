/* program.c - the op interpreter: the body of every scenario thread.
 *
 * It walks the thread's ops and calls the same primitives a C body would. A
 * repeat runs its body `count` times without expanding it in memory; an
 * until loop runs it until its event is set (gs_event_is_set), a consume
 * loop until its get takes an end marker (gs_queue_got_end). Each
 * duration is drawn from the thread's own stream when the op runs. Nothing
 * else it reads comes from the engine, except an until loop's flag and a
 * consume loop's item: so it may run ahead of the engine (worker.c), and
 * waits for it (gs__ahead_sync) before it enters an until loop; the poll
 * itself waits too (engine.c), as does the look at a got item (qend.c). */
#include "program.h"
#include "worker.h"

static void run_ops(gs_ctx_t *c, const gs_op_t *ops, int n);

/* `while not ev.is_set(): body`, as Python runs it: the flag is looked at
 * before each run of the body, so a set lands at most one body before the
 * loop ends. The poll's Python is in the body (a fitted loop's cpu). */
static void run_until(gs_ctx_t *c, const gs_op_t *o)
{
    gs__ahead_sync(c); /* until_ev is read by the engine (stops.c) */
    int outer = c->until_ev;
    c->until_ev = o->target + 1;
    while (!gs_event_is_set(c, o->target))
        run_ops(c, o->body, o->n_body);
    c->until_ev = outer;
}

/* `for item in iter(q.get, None): body`: the item is looked at once the
 * get has run; an end marker leaves the loop, with no body run for it. */
static void run_consume(gs_ctx_t *c, const gs_op_t *o)
{
    for (;;) {
        gs_set_op(c, o->id); /* the get is the loop's own op */
        gs_queue_get(c, o->target);
        if (gs_queue_got_end(c, o->target))
            break;
        run_ops(c, o->body, o->n_body);
    }
}

static void run_ops(gs_ctx_t *c, const gs_op_t *ops, int n)
{
    for (int i = 0; i < n; i++) {
        const gs_op_t *o = &ops[i];
        gs_set_op(c, o->id);
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
            if (o->posts)
                gs_c_call_post(c, gs_draw(c, &o->dur), o->releases_gil, o->posts - 1);
            else
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
            if (o->end)
                gs_queue_put_end(c, o->target);
            else
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
            for (int64_t k = 0; k < o->count; k++)
                run_ops(c, o->body, o->n_body);
            break;
        case GS_OP_UNTIL:
            run_until(c, o);
            break;
        case GS_OP_CONSUME:
            run_consume(c, o);
            break;
        }
    }
}

void gs__program_body(gs_ctx_t *c, void *user)
{
    const gs_thread_spec_t *s = user;
    run_ops(c, s->program, s->n_program);
}
