/* trace_priv.h - the trace's representation, shared by the files that
 * implement it (trace.c: creation and recording; trace_read.c: reading;
 * trace_check.c: names, dump and the invariant checker; trace_stash.c: arrays
 * kept between traces). Nothing outside sim/base includes it: the engine
 * goes through trace_int.h, everyone else through gilsim/trace.h. */
#ifndef GILSIM_TRACE_PRIV_H
#define GILSIM_TRACE_PRIV_H

#include "trace_int.h"
#include "trace_tally.h"

typedef struct lane_buf {
    gs_lane_t pub;
    gs_interval_t *iv; /* owned; pub.iv points here after finish */
    size_t n, cap;
    size_t counted; /* what the memory budget counts of cap: as grown from 64 */
    bool open;
    bool opened; /* metrics-only: a thread lane that has been open */
    gs_interval_t cur;
    gs_interval_t last; /* metrics-only: the last closed interval (iv is NULL) */
} lane_buf_t;

struct gs_trace {
    char *name, *description;
    uint64_t seed;
    lane_buf_t *lanes;
    int n_lanes;
    int n_threads, n_cores, n_processes;
    int *thread_lane;  /* per thread */
    int core_lane0;    /* lane of core 0 */
    char **process_names;
    int *process_gil;  /* gs_gil_kind_t */
    int *gil_lane;     /* -1 without a GIL */
    int64_t *switch_interval;
    char **process_version; /* python.version preset name ("3.13t"), "" if none */
    char **names[4];   /* locks, events, queues, threads (borrowed from lanes for threads) */
    int n_names[4];
    char **op_labels;
    uint32_t n_op_labels;
    gs_instant_t *inst;
    uint32_t *inst_seq; /* parallel to inst */
    size_t n_inst, cap_inst;
    size_t counted_inst; /* what the memory budget counts of cap_inst: as grown from 64 */
    uint32_t seq;       /* the next change's engine order */
    int64_t *ann_at;
    char **ann_text;
    int n_ann;
    gs_outcome_t outcome;
    char *msg;
    int64_t end_ns, events;
    gs_trace_growth_t growth; /* bytes allocated for intervals and instants, oom */
    /* facts (trace.h): n_processes drop-request tracks, then a track per lock */
    lane_buf_t *facts;
    int n_facts;
    unsigned fact_mask;
    int policy;
    bool per_core; /* the machine has a run queue per core (run_queues "per_core",
                      wake_affine > 0 or placement "previous") */
    int *queue_max;
    int *queue_init;
    /* metrics-only (gs__trace_new_for): no interval or instant is kept; they
       are summed into *tally as they become final (trace_tally.c) */
    gs_tally_t *tally;
    int tally_alive; /* thread lanes open or never opened */
    bool tally_late; /* GIL and core intervals are deferred from now on */
};

/* Do two intervals continue each other's state (merged when adjacent)? */
static inline bool gs__iv_same(const gs_interval_t *a, const gs_interval_t *b)
{
    return a->state == b->state && a->who == b->who && a->op == b->op && a->flags == b->flags;
}

/* trace_tally.c: recording a metrics-only trace */
bool gs__tally_attach(gs_trace_t *t, const gs_model_t *m); /* false on OOM */
void gs__tally_detach(gs_trace_t *t);
/* closes l's open interval at end (trace.c's append) */
void gs__tally_append(gs_trace_t *t, lane_buf_t *l, int64_t end);
/* a thread lane opens or closes */
void gs__tally_lane_open(gs_trace_t *t, lane_buf_t *l, bool open);
/* an instant: its count in the budget and its sums */
void gs__tally_push_instant(gs_trace_t *t, int64_t now, gs_instant_kind_t k, int thread,
                            int64_t arg);
/* gs__trace_finish's part: every lane's last interval summed or deferred */
void gs__tally_finish(gs_trace_t *t);

/* trace_stash.c: interval arrays kept between traces */
void gs__trace_stash_put(gs_interval_t *iv, size_t cap); /* takes iv (kept or freed) */
bool gs__trace_stash_take(lane_buf_t *l); /* gives l (iv NULL, cap 0) a kept array */
/* the same for the instants' two parallel arrays */
void gs__trace_stash_put_inst(gs_instant_t *inst, uint32_t *seq, size_t cap); /* takes both */
bool gs__trace_stash_take_inst(gs_trace_t *t); /* gives t (no instant arrays) kept ones */

#endif
