/* reccpu_gen.c - random spools through the recorder's writer, for
 * check_reccpu.c (reccpu_gen.h). */
#include "reccpu_gen.h"

#include "recorder_int.h"

#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

typedef struct gen {
    gsr_rthread_t th;
    reccpu_want_t *want;
    size_t n_want;
    uint64_t rng;
    int64_t t;
} gen_t;

static uint32_t rnd(gen_t *g, uint32_t n)
{
    g->rng = g->rng * 6364136223846793005ull + 1442695040888963407ull;
    return (uint32_t)(g->rng >> 33) % n;
}

/* A raw event at the next time; cpu < 0: none (arg or cat 0). */
static gsr_event_t *push(gen_t *g, int kind, int cpu)
{
    gsr_rthread_t *th = &g->th;
    if (th->n == th->cap) {
        th->cap = th->cap ? th->cap * 2 : 64;
        th->ev = realloc(th->ev, th->cap * sizeof *th->ev);
        ck_assert_ptr_nonnull(th->ev);
    }
    gsr_rev_t *r = &th->ev[th->n];
    memset(r, 0, sizeof *r);
    r->seq = (uint32_t)th->n++;
    r->e.t = (g->t += 1 + rnd(g, 1000));
    r->e.kind = (uint8_t)kind;
    if (kind == GSR_EV_SEM_POST)
        r->e.cat = GSR_CPU_CAT(cpu);
    else if (cpu >= 0)
        r->e.arg = (uint32_t)cpu + 1;
    return &r->e;
}

static void expect(gen_t *g, int64_t t, const char *kind, int cpu)
{
    g->want = realloc(g->want, (g->n_want + 1) * sizeof *g->want);
    ck_assert_ptr_nonnull(g->want);
    g->want[g->n_want++] = (reccpu_want_t){t, kind, cpu};
}

/* A random CPU: none, small, or large (above what lock_post's cat holds). */
static int rnd_cpu(gen_t *g)
{
    uint32_t c = rnd(g, 10);
    return c == 0 ? -1 : c < 8 ? (int)rnd(g, 4) : 250 + (int)rnd(g, 8000);
}

/* A point event, written as it is. */
static void point(gen_t *g, int raw, const char *kind)
{
    const gsr_event_t *e = push(g, raw, rnd_cpu(g));
    expect(g, e->t, kind, gsr_event_cpu(e));
}

/* A span: its begin, then its end; the reader has it at its start with its
 * end's CPU (a call: none). */
static void span(gen_t *g, int begin, int end, const char *kind)
{
    gsr_event_t *b = push(g, begin, -1);
    int64_t t0 = b->t;
    if (begin == GSR_EV_CALL || begin == GSR_EV_CTX)
        b->arg = 1; /* the name's id */
    if (begin == GSR_EV_CALL) {
        b->cat = GSR_CAT_SLEEP;
        expect(g, t0, kind, -1);
        push(g, end, -1); /* the shim writes no CPU at a call's end */
        return;
    }
    const gsr_event_t *e = push(g, end, rnd_cpu(g));
    expect(g, t0, kind, gsr_event_cpu(e));
}

static void gen_thread(gen_t *g)
{
    point(g, GSR_EV_START, "start");
    for (int n = 10 + (int)rnd(g, 40); n > 0; n--) {
        switch (rnd(g, 8)) {
        case 0:
            point(g, GSR_EV_ASK, "ask");
            break;
        case 1:
            point(g, GSR_EV_HOLD, "hold");
            break;
        case 2:
            point(g, GSR_EV_RELEASE, "release");
            break;
        case 3:
            point(g, GSR_EV_SIGNAL, "signal");
            break;
        case 4:
            point(g, GSR_EV_SEM_POST, "lock_post");
            break;
        case 5:
            span(g, GSR_EV_SEM_WAIT, GSR_EV_SEM_DONE, "lock_wait");
            break;
        case 6:
            span(g, GSR_EV_CTX, GSR_EV_CTX_END, "wait");
            break;
        default:
            span(g, GSR_EV_CALL, GSR_EV_CALL_END, "call");
            break;
        }
    }
    point(g, GSR_EV_END, "end");
}

size_t reccpu_write_random(uint64_t seed, const char *path, reccpu_want_t **want)
{
    gen_t g = {.rng = seed * 0x9e3779b97f4a7c15ull};
    gen_thread(&g);
    static gsr_hdr_t hdr;
    static char name[] = "Queue.get";
    char *strs[2] = {NULL, name};
    gsr_spool_t s = {
        .h = &hdr, .str = strs, .n_str = 2, .th = &g.th, .n_th = 1, .n_events = (int64_t)g.th.n};
    gsr_pyinfo_t pi = {.json = cJSON_CreateObject(), .exe = "/usr/bin/python3"};
    gs_record_opts_t o = {.target = "prog.py"};
    gsr_writer_t w = {.s = &s, .pi = &pi, .o = &o, .t0 = 0, .t_end = g.t + 1, .others_ns = -1};
    FILE *f = fopen(path, "w");
    ck_assert_ptr_nonnull(f);
    ck_assert_int_eq(gsr_write_recording(f, &w), 0);
    fclose(f);
    cJSON_Delete(pi.json);
    free(g.th.ev);
    *want = g.want;
    return g.n_want;
}
