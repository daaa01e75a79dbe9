/* fitstate_int.h - fit.c's working state, shared with scan.c (fit-private).
 *
 * A recorded thread as fit.c sees it (tinfo_t: its holds, its outermost
 * spans and off intervals merged into items, its time on a core) and the
 * whole fit's state (fit_t). scan.c fills a tinfo_t from the thread's events
 * (fit_scan_thread); fit.c matches starts, joins, queues and waits across
 * threads and turns the items into ops. */
#ifndef GILSIM_FITSTATE_INT_H
#define GILSIM_FITSTATE_INT_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "fit_int.h"
#include "recfile_int.h"

typedef struct span_ref {
    int64_t t0, t1;
    int ev;        /* event index in the thread, or -1 for an unnamed off interval */
    int64_t off;   /* time off the GIL inside (voluntary release .. ask) */
    bool released; /* an off interval starts inside */
    int64_t rel, wake; /* the last one inside: its start (a release of the GIL)
                          and end (an ask for it again); an inferred C call's
                          rel: where it began (cstart.c), until scan.c takes it */
} span_ref_t;

typedef fit_iv_t hold_t; /* h .. r */

typedef struct tinfo {
    int64_t start, end;  /* first event; exit release, end event or last event */
    int *starts;         /* per event: the thread its Event.wait starts, or -1 */
    hold_t *holds;
    size_t n_holds;
    span_ref_t *items;
    size_t n_items;
    int *qop;            /* per item: its index in fit_t.q, or -1 */
    int *wq;             /* per item: the wake-up queue its wait gets from, or -1 */
    fwake_t *wk;         /* the puts it makes for other threads' waits */
    size_t n_wk;
    hold_t *cpu;         /* when it wanted a core: holds, and C without the GIL */
    size_t n_cpu;
} tinfo_t;

typedef struct fit {
    const gsr_recording_t *r;
    int64_t *dem_t; /* the program's demand for cores: from dem_t[k], dem[k] */
    int *dem;
    size_t n_dem;
    int64_t *req;  /* every thread's drop requests, sorted */
    size_t n_req;
    tinfo_t *ti;
    fscenario_t *f;
    fq_op_t *q;      /* every queue operation */
    size_t n_q;
    fwaits_t *w;     /* lock waits and the releases that ended them */
    fit_typical_t *typ; /* the median C call releasing the GIL, per name */
    size_t n_typ;
} fit_t;

/* A holder that leaves a drop request unanswered for FIT_LATE_NS is not in
 * the eval loop (which checks at every jump and call): it runs C code that
 * keeps the GIL (list.sort, a regular expression), or it has no core.
 * Without --calls all that call has no span; as gs_recording_load does, one
 * is inferred from the first unanswered request to the release
 * (fit_late_request), unless the kernel's account says it may have been a
 * lost core (drop_preempted), and fitted as a c_call keeping the GIL from
 * where the requester's timed wait began (cstart.c: the request comes one
 * interval after it; the hold before that stays Python work). */
#define EV_INFERRED_C (-2)

/* Holds, off intervals and outermost spans of thread i, into F->ti[i]
 * (scan.c). 0, or -1: out of memory. */
int fit_scan_thread(fit_t *F, int i);

#endif
