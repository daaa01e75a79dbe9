/* trace_int.h - how the engine records a trace (library-private).
 *
 * Recording is a log of state changes: "from now on, thread 3 is READY". The
 * trace closes the lane's open interval at now and opens the new one; an equal
 * state continues the open interval, and a zero-length interval is dropped.
 * Tests and tools may use this to fabricate traces. */
#ifndef GILSIM_TRACE_INT_H
#define GILSIM_TRACE_INT_H

#include "gilsim/model.h"
#include "gilsim/trace.h"

/* A trace with one lane per thread, per core and per GIL of m (copies every
 * name it needs; m may be freed afterwards). NULL on OOM. */
gs_trace_t *gs__trace_new(const gs_model_t *m);
/* The same, or with metrics_only a trace that keeps no interval nor instant
 * but sums the metrics as they become final (trace_tally.h): what the budget
 * counts (gs__trace_bytes) is the same either way, so a run stops at the
 * same event; the finished trace has empty lanes and no instants, and
 * gs_stats_compute gives its figures byte for byte as from the full one. */
gs_trace_t *gs__trace_new_for(const gs_model_t *m, bool metrics_only);

/* Thread lane: from now on in state st (GS_ST_COUNT = no interval, e.g. not
 * started or finished). */
void gs__trace_thread(gs_trace_t *t, int thread, int64_t now, gs_state_t st, int32_t who,
                      uint32_t op, uint8_t flags);
/* Core lane: from now on running thread (-1 = idle) in state st. */
void gs__trace_core(gs_trace_t *t, int core, int64_t now, int32_t thread, gs_state_t st,
                    uint8_t flags);
/* The same two for a caller that made the no-change test itself (the engine
 * keeps what it last gave each lane, kernel.c): the lane is closed, st is
 * GS_ST_COUNT, or st, who, op or flags differ from its open interval's. Only
 * that test is skipped; what is recorded is the same. */
void gs__trace_thread_change(gs_trace_t *t, int thread, int64_t now, gs_state_t st, int32_t who,
                             uint32_t op, uint8_t flags);
void gs__trace_core_change(gs_trace_t *t, int core, int64_t now, int32_t thread, gs_state_t st,
                           uint8_t flags);
/* GIL lane of process p: from now on held by holder (-1 = free). */
void gs__trace_gil(gs_trace_t *t, int p, int64_t now, int32_t holder);
void gs__trace_instant(gs_trace_t *t, int64_t now, gs_instant_kind_t k, int thread, int process,
                       int64_t arg);
/* The same for an instant about a lock, event or queue obj. */
void gs__trace_instant_obj(gs_trace_t *t, int64_t now, gs_instant_kind_t k, int thread, int obj,
                           int64_t arg);
/* Fact tracks: the drop request of process p's GIL is set by requester from
 * now on (-1: cleared); lock is held by owner from now on (-1: free). */
void gs__trace_drop_request(gs_trace_t *t, int p, int64_t now, int32_t requester);
void gs__trace_lock_owner(gs_trace_t *t, int lock, int64_t now, int32_t owner);
/* Which facts are complete (GS_FACT_*); a new trace has all of them. */
void gs__trace_set_facts(gs_trace_t *t, unsigned facts);
/* Closes every open interval at now and records the outcome. */
void gs__trace_finish(gs_trace_t *t, int64_t now, gs_outcome_t o, const char *msg,
                      int64_t events);
/* Bytes the recording holds (interval and instant arrays, counted twice for
 * the instants: finishing copies them once). */
size_t gs__trace_bytes(const gs_trace_t *t);
/* True once an allocation failed; the trace is then incomplete. */
bool gs__trace_oom(const gs_trace_t *t);
/* The same two, read in place: the engine checks them after every event
 * (stops.c), which a call each made a few per cent of a run. */
typedef struct gs_trace_growth {
    size_t bytes; /* gs__trace_bytes */
    bool oom;     /* gs__trace_oom */
} gs_trace_growth_t;
const gs_trace_growth_t *gs__trace_growth(const gs_trace_t *t);

#endif
