/* recording_int.h - what the recording's loader shares between its two
 * files (layer-private): recording.c reads the file into per-thread points,
 * recording_lanes.c sweeps the points into the trace's lanes. */
#ifndef GILSIM_RECORDING_INT_H
#define GILSIM_RECORDING_INT_H

#include "gilsim/model.h"
#include "gilsim/trace.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

enum gsr_pk { /* point kinds, in the order they apply at equal times */
    P_END_SPAN,
    P_ASK,
    P_HOLD,
    P_RELEASE,
    P_REQUEST,
    P_TIMEOUT,
    P_FUTILE,
    P_SIGNAL,
    P_START,
    P_BEGIN_SPAN,
    P_END,
    P_SKIP
};

enum gsr_sk { S_CALL, S_WAIT, S_LOCK, S_PY }; /* span kinds: call, wait, lock_wait, py */

/* One moment of a thread: an event, or a span's begin or end. */
typedef struct gsr_point {
    int64_t t;
    uint8_t kind, span_kind, cat;
    bool forced;    /* release: the eval loop dropped it on a drop request */
    bool last;      /* release: the thread's last ("exit") */
    uint32_t label; /* op label id or GS_NO_OP */
    int32_t arg;    /* signal: woken thread; span end: begin point index */
    uint32_t seq;
} gsr_point_t;

/* Orders points by time, then kind (enum gsr_pk), then seq. */
int gsr_cmp_point(const void *a, const void *b);

/* A change of the GIL, or a drop request, at t (sorted by cmp_gil). */
typedef struct gsr_gil_ev {
    int64_t t;
    int32_t holder; /* the new holder; -1 = released (by thread), -2 = a request */
    int32_t thread; /* who took, released or requested it */
    bool last;      /* a release that is the thread's last */
    uint32_t seq;
} gsr_gil_ev_t;

/* A holder that leaves a drop request unanswered for GSR_LATE_NS is not in
 * the eval loop (which checks at every jump and call): it is in C code
 * keeping the GIL, or without a core. Without a profile function that C
 * call has no span; this adds one (labelled label) from the first
 * unanswered request to the release. req: every drop request, sorted.
 * GS_ENOMEM if the points cannot grow. */
#define GSR_LATE_NS 1000000
int gsr_infer_c_holds(gsr_point_t **pp, size_t *np, const int64_t *req, size_t n_req,
                      uint32_t label);

/* Thread i's lane from its sorted points; its GIL takes, releases and drop
 * requests are appended to gil (room for one per point, plus one). */
void gsr_thread_lane(gs_trace_t *t, int i, const gsr_point_t *pts, size_t n, int64_t t_end,
                     gsr_gil_ev_t *gil, size_t *n_gil);

/* The GIL lane and the drop-request fact track from every thread's GIL
 * events (sorted here). */
void gsr_gil_and_facts(gs_trace_t *t, gsr_gil_ev_t *gil, size_t n);

#endif
