/* scan.c - one recorded thread's events as holds, spans and off intervals.
 *
 * Step 1 of fit.c (see its header): one pass over a thread's events collects
 * its GIL holds (hold .. release), its spans (Python, C calls, waits, lock
 * waits, and C calls keeping the GIL inferred from late drop requests) and
 * its off intervals (a voluntary release .. the next ask). Step 2 closes
 * what the recording left open; step 3 keeps the outermost spans; step 4
 * merges the off intervals into them, in time order, as the thread's items
 * (tinfo_t, fitstate_int.h), which fit.c turns into ops. */
#include "fitstate_int.h"

#include <stdlib.h>
#include <string.h>

static int cmp_span(const void *a, const void *b)
{
    const span_ref_t *x = a, *y = b;
    if (x->t0 != y->t0)
        return x->t0 < y->t0 ? -1 : 1;
    return (x->t1 < y->t1) - (x->t1 > y->t1); /* the longer (outer) first */
}

/* fit_scan_thread()'s working state: the thread's spans (Python, C calls, waits,
 * inferred C calls) and off intervals (GIL released voluntarily until asked
 * again), plus what its events say about its end. */
typedef struct scan {
    span_ref_t *spans, *offs;
    size_t n_sp, n_off;
    int64_t hs, end_ev, exit_rel, last; /* hold start (-1: none), end, exit release, last stamp */
} scan_t;

/* A release of thread t at event e: closes the open hold (and infers a C
 * call keeping the GIL from a late drop request before it), notes an exit,
 * and opens an off interval unless the switch was forced. */
static void scan_release(const fit_t *F, int i, tinfo_t *t, scan_t *sc, const gsr_event_t *e)
{
    if (sc->hs >= 0 && e->t >= sc->hs) {
        t->holds[t->n_holds++] = (hold_t){sc->hs, e->t};
        int64_t q = F->r->calls_all ? -1 : fit_late_request(F->req, F->n_req, sc->hs, e->t);
        if (q >= 0) /* rel: where the call began (cstart.c), taken in drop_preempted */
            sc->spans[sc->n_sp++] = (span_ref_t){q, e->t, EV_INFERRED_C, 0, false,
                                                 fit_inferred_c_start(F->r, i, sc->hs, q), 0};
    }
    sc->hs = -1;
    if (e->why == GSR_WHY_EXIT)
        sc->exit_rel = e->t;
    else if (e->why != GSR_WHY_FORCED) {
        if (sc->n_off && sc->offs[sc->n_off - 1].t1 < 0)
            sc->offs[sc->n_off - 1].t1 = e->t; /* released twice without asking */
        sc->offs[sc->n_off++] = (span_ref_t){.t0 = e->t, .t1 = -1, .ev = -1};
    }
}

/* Step 1: one pass over thread i's events, collecting holds into t, spans
 * and off intervals into sc, and the start, end and exit stamps. */
static void scan_events(const fit_t *F, int i, tinfo_t *t, scan_t *sc)
{
    const gsr_thread_t *th = &F->r->threads[i];
    size_t n = th->n_ev;
    t->start = n ? th->ev[0].t : 0;
    for (size_t k = 0; k < n; k++) {
        const gsr_event_t *e = &th->ev[k];
        t->starts[k] = -1;
        sc->last = e->t1 > sc->last ? e->t1 : sc->last;
        switch (e->kind) {
        case GSR_START: t->start = e->t < t->start ? e->t : t->start; break;
        case GSR_END: sc->end_ev = e->t; break;
        case GSR_HOLD: sc->hs = e->t; break;
        case GSR_ASK:
            if (sc->n_off && sc->offs[sc->n_off - 1].t1 < 0)
                sc->offs[sc->n_off - 1].t1 = e->t;
            break;
        case GSR_RELEASE: scan_release(F, i, t, sc, e); break;
        case GSR_PY:
        case GSR_CALL:
        case GSR_WAIT:
        case GSR_LOCK_WAIT:
            sc->spans[sc->n_sp++] = (span_ref_t){e->t, e->t1, (int)k, 0, false, 0, 0};
            break;
        default: break;
        }
    }
}

/* Step 2: the thread's end, and what was still open at the end of the
 * recording (a hold, an off interval) closed there. */
static void scan_close(const fit_t *F, tinfo_t *t, scan_t *sc)
{
    /* the last release is the end a joiner sees (the "end" event may come
     * milliseconds later, when the OS thread goes, on a busy machine) */
    t->end = sc->exit_rel >= 0 ? sc->exit_rel : sc->end_ev >= 0 ? sc->end_ev : sc->last;
    if (sc->hs >= 0) /* held until the recording ended */
        t->holds[t->n_holds++] =
            (hold_t){sc->hs, F->r->duration_ns > sc->hs ? F->r->duration_ns : sc->last};
    if (sc->n_off && sc->offs[sc->n_off - 1].t1 < 0)
        sc->offs[sc->n_off - 1].t1 =
            t->end > sc->offs[sc->n_off - 1].t0 ? t->end : sc->offs[sc->n_off - 1].t0;
}

/* Step 3: sort the spans and keep the outermost ones (not inside a kept
 * one), in place; returns how many are kept. */
static size_t scan_outermost(const gsr_thread_t *th, scan_t *sc)
{
    span_ref_t *spans = sc->spans;
    if (sc->n_sp)
        qsort(spans, sc->n_sp, sizeof *spans, cmp_span);
    size_t n_out = 0;
    int64_t cover = -1;
    for (size_t k = 0; k < sc->n_sp; k++) { /* outermost: not inside a kept one */
        if (spans[k].ev >= 0 && th->ev[spans[k].ev].kind == GSR_PY) {
            /* Python inside the kept call (--calls all: runpy's exec around
             * the whole program, a callback): that call is a frame around
             * ops, not one op, so its inner spans are the ops. */
            if (n_out && spans[k].t1 <= cover && spans[n_out - 1].ev >= 0 &&
                th->ev[spans[n_out - 1].ev].kind == GSR_CALL) {
                n_out--;
                cover = n_out ? spans[n_out - 1].t1 : -1;
            }
            continue;
        }
        if (spans[k].t0 < cover)
            continue;
        spans[n_out++] = spans[k];
        cover = spans[k].t1;
    }
    return n_out;
}

/* Step 4: merge the off intervals into the outermost spans, in time order,
 * into t->items: an off interval inside a span adds its time to that span
 * (and marks it released, the latest one giving its release and wake-up);
 * one outside any span is C that no span named. The time on a core (t->cpu)
 * is the holds plus the off intervals spent in C code. -1: out of memory. */
static int scan_merge(const gsr_thread_t *th, tinfo_t *t, scan_t *sc, size_t n_out)
{
    span_ref_t *spans = sc->spans, *offs = sc->offs;
    t->cpu = malloc((t->n_holds + sc->n_off + 1) * sizeof *t->cpu);
    if (!t->cpu)
        return -1;
    memcpy(t->cpu, t->holds, t->n_holds * sizeof *t->cpu);
    t->n_cpu = t->n_holds;
    size_t s = 0;
    for (size_t k = 0; k < sc->n_off; k++) {
        while (s < n_out && spans[s].t1 <= offs[k].t0)
            t->items[t->n_items++] = spans[s++];
        /* the span it overlaps: CPython may release just before the span's
         * first stamp (a lock wait begins after the release it causes) */
        const gsr_event_t *se = s < n_out && spans[s].t0 <= offs[k].t1 && spans[s].ev >= 0
                                    ? &th->ev[spans[s].ev]
                                    : NULL;
        bool c_code = s < n_out && spans[s].t0 <= offs[k].t1
                          ? se && se->kind == GSR_CALL &&
                                (se->cat == GSR_CAT_C || se->cat == GSR_CAT_C_NOGIL)
                          : true; /* C without the GIL runs on a core */
        if (c_code)
            t->cpu[t->n_cpu++] = (hold_t){offs[k].t0, offs[k].t1};
        if (s < n_out && spans[s].t0 <= offs[k].t1) {
            spans[s].off += offs[k].t1 - offs[k].t0;
            spans[s].released = true;
            if (offs[k].t1 >= spans[s].wake) {
                spans[s].rel = offs[k].t0;
                spans[s].wake = offs[k].t1;
            }
        } else {
            offs[k].off = offs[k].t1 - offs[k].t0;
            t->items[t->n_items++] = offs[k]; /* C that no span named */
        }
    }
    while (s < n_out)
        t->items[t->n_items++] = spans[s++];
    if (t->n_items)
        qsort(t->items, t->n_items, sizeof *t->items, cmp_span);
    return 0;
}

/* The inferred C calls of thread i that the kernel's account cannot tell
 * from a holder without a core (fit_inferred_c_floor) are Python work. */
static void drop_preempted(fit_t *F, int i, scan_t *sc)
{
    int64_t sum = 0;
    size_t n = 0;
    for (size_t k = 0; k < sc->n_sp; k++)
        sum += sc->spans[k].ev == EV_INFERRED_C ? sc->spans[k].t1 - sc->spans[k].t0 : 0;
    int64_t floor = fit_inferred_c_floor(F->r->threads[i].os_run_delay_ns, sum);
    for (size_t k = 0; k < sc->n_sp; k++) {
        bool short_c = sc->spans[k].ev == EV_INFERRED_C && sc->spans[k].t1 - sc->spans[k].t0 < floor;
        F->f->th[i].st.n_preempted += short_c;
        if (!short_c && sc->spans[k].ev == EV_INFERRED_C) /* C before the request too */
            sc->spans[k].t0 = sc->spans[k].rel;
        if (!short_c)
            sc->spans[n++] = sc->spans[k];
    }
    sc->n_sp = n;
}

/* Holds, off intervals and outermost spans of thread i, into ti[i]: scan the
 * events, close what the recording left open, keep the outermost spans, and
 * merge the off intervals into them. */
int fit_scan_thread(fit_t *F, int i)
{
    const gsr_thread_t *th = &F->r->threads[i];
    tinfo_t *t = &F->ti[i];
    size_t n = th->n_ev;
    int rc = -1;
    scan_t sc = {.hs = -1, .end_ev = -1, .exit_rel = -1, .last = 0};
    t->holds = calloc(n + 1, sizeof *t->holds);
    sc.spans = calloc(2 * n + 1, sizeof *sc.spans);
    sc.offs = calloc(n + 1, sizeof *sc.offs);
    t->items = calloc(2 * n + 1, sizeof *t->items);
    t->starts = malloc((n + 1) * sizeof *t->starts);
    if (!t->holds || !sc.spans || !sc.offs || !t->items || !t->starts)
        goto done;
    scan_events(F, i, t, &sc);
    drop_preempted(F, i, &sc);
    scan_close(F, t, &sc);
    size_t n_out = scan_outermost(th, &sc);
    rc = scan_merge(th, t, &sc, n_out);
done:
    free(sc.spans);
    free(sc.offs);
    return rc;
}
