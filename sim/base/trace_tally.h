/* trace_tally.h - the metrics' running sums, fed one closed interval and one
 * instant at a time (base-private; the report layer's stats.c uses it too).
 *
 * stats.c computes every metric (docs/metrics.md) by feeding a finished
 * trace's intervals and instants, in lane order, through these functions. A
 * metrics-only run (gs_run_opts.metrics_only: `gilsim sweep`) feeds the same
 * functions the same intervals while the run goes, as each becomes final
 * (trace.c: when the next one on its lane does not merge into it), and keeps
 * no interval: the same code on the same sequence, so the same figures.
 *
 * Two things are not known until the run ends: the makespan, which clips the
 * GIL's held time and the cores' busy time, and whether a GIL hold ended
 * before the run did (a hold cut by the end of a stopped run is not a
 * release). A GIL or core interval that ended at time b is final as soon as
 * the run is later than b while a thread lane is still open or not yet
 * opened: the makespan is then at least that late (the open thread ends
 * later or the run ends later), so clipping leaves the interval whole and it
 * counts as a release. Those are summed at once (clip = run_end =
 * INT64_MAX); the others (the last ones, after every thread has finished,
 * and those closed by the trace's end) are kept, in order, for stats.c to
 * sum with the real makespan. */
#ifndef GILSIM_TRACE_TALLY_H
#define GILSIM_TRACE_TALLY_H

#include <stdbool.h>
#include <stdint.h>

#include "gilsim/trace.h"

/* One thread lane's sums (stats.c's gs_thread_stats_t, as far as its lane
 * alone decides them). */
typedef struct gs_tally_thread {
    int64_t st_ns[GS_ST_COUNT]; /* time in each state */
    int64_t started_ns, response_ns, finished_ns; /* -1: not (yet) known */
    int64_t gil_held_ns;
    int64_t gil_ask_ns;     /* asking for the GIL until holding it (in_ask) */
    int64_t cur_ask;        /* of it, the current wait's so far */
    int64_t ops;            /* ops started (a new op label) */
    int64_t forced_switches; /* GS_IN_FORCED_SWITCH instants naming it */
    int64_t last_end;       /* end of the last interval fed; valid when n > 0 */
    int64_t io_end;         /* an I/O or sleep ended here and the thread has not
                               held the GIL since (io_pending) */
    int64_t *samples;       /* I/O-to-GIL latencies, in order */
    int64_t n_samples, cap_samples;
    size_t n;               /* intervals fed */
    uint32_t last_op;
    /* from when its process has a GIL (gil_held_ns counts only after it):
     * 0 for a GIL build, INT64_MAX for none (yet); in a free-threaded
     * process, the GS_IN_GIL_ENABLED instant (an import switched it on) */
    int64_t gil_from_ns;
    int32_t process; /* its process, -1 if none */
    bool io_pending;
    bool in_ask; /* in a GIL wait: a WAIT_GIL and since then only READY or
                    SWITCH without the GIL (a wait that has no core) */
} gs_tally_thread_t;

/* A GIL or core interval kept until the makespan is known. */
typedef struct gs_tally_late {
    gs_interval_t iv;
    int32_t lane; /* the process (GIL lane) or core (core lane) */
    bool core;
} gs_tally_late_t;

typedef struct gs_tally {
    int n_threads, n_processes;
    gs_tally_thread_t *thr; /* per thread */
    /* GIL lanes */
    int32_t *gil_prev; /* per process: the holder of its last hold fed, -1 */
    int64_t *gil_from; /* per process: as gs_tally_thread_t.gil_from_ns */
    int64_t *releases; /* per thread */
    int64_t gil_held_ns, gil_switches;
    /* core lanes */
    int64_t core_busy_ns;
    /* instants */
    int64_t drop_requests, forced_switches, futile_wakeups, preemptions,
        preemptions_of_gil_holder;
    int64_t deadlock_ns; /* the earliest GS_IN_DEADLOCK, INT64_MAX none */
    /* GIL and core intervals not summed yet, in the order they closed */
    gs_tally_late_t *late;
    size_t n_late, cap_late;
    bool oom;
} gs_tally_t;

/* Sums of zero for n_threads threads and n_processes GIL lanes; process[i]
 * is thread i's process (-1 none) and gil_from[p] from when process p has a
 * GIL (0 a GIL build, INT64_MAX none; a free-threaded process's GIL may come
 * later, with its GS_IN_GIL_ENABLED instant). false when out of memory (then
 * gs__tally_free is still safe). */
bool gs__tally_init(gs_tally_t *ty, int n_threads, int n_processes, const int32_t *process,
                    const int64_t *gil_from);
void gs__tally_free(gs_tally_t *ty);

bool gs__tally_io(gs_tally_thread_t *tt, const gs_interval_t *iv, uint32_t bit);

#define GS_TALLY_BIT(st) (1u << (st))
#define GS_TALLY_ON_CORE (GS_TALLY_BIT(GS_ST_PY) | GS_TALLY_BIT(GS_ST_C_GIL) | GS_TALLY_BIT(GS_ST_C_NOGIL))
#define GS_TALLY_IO (GS_TALLY_BIT(GS_ST_IO) | GS_TALLY_BIT(GS_ST_SLEEP))
#define GS_TALLY_HOLD (GS_TALLY_BIT(GS_ST_PY) | GS_TALLY_BIT(GS_ST_C_GIL))
#define GS_TALLY_HOLD_FLAGGED (GS_TALLY_BIT(GS_ST_READY) | GS_TALLY_BIT(GS_ST_SWITCH))

/* Thread i's next interval (lane order, merged as the trace merges). false
 * when out of memory (an I/O sample could not be kept). Inline: a run feeds
 * it every closed interval of its thread lanes (about 12 000 in a run of the
 * fitted producer_consumer.py), as a kept trace's stats do afterwards. */
static inline bool gs__tally_thread(gs_tally_t *ty, int i, const gs_interval_t *iv)
{
    gs_tally_thread_t *tt = &ty->thr[i];
    int64_t d = iv->end_ns - iv->start_ns;
    unsigned st = iv->state;
    uint32_t bit = 0;
    if (st < GS_ST_COUNT) {
        bit = GS_TALLY_BIT(st);
        tt->st_ns[st] += d;
    }
    if (tt->n++ == 0)
        tt->started_ns = iv->start_ns;
    tt->last_end = iv->end_ns;
    uint32_t flag = iv->flags & GS_IV_HOLDS_GIL ? ~0u : 0;
    /* PY and C_GIL hold the GIL, READY and SWITCH when flagged; only the part
     * after its process has one (a free-threaded build: none before) */
    if (iv->end_ns > tt->gil_from_ns && (bit & (GS_TALLY_HOLD | (GS_TALLY_HOLD_FLAGGED & flag))))
        tt->gil_held_ns += iv->end_ns - (iv->start_ns > tt->gil_from_ns ? iv->start_ns
                                                                          : tt->gil_from_ns);
    /* ask to hold: a recording sees the whole wait as WAIT_GIL; a simulation
     * shows the part without a core as READY and SWITCH. A forced dropper's
     * switch_cond wait is WAIT_GIL too, but it comes before the ask (the
     * recording's READY): the READY/SWITCH after it say so, and take it back */
    if (st == GS_ST_WAIT_GIL) {
        tt->in_ask = true;
    } else if (iv->flags & GS_IV_BEFORE_ASK) {
        if (tt->in_ask)
            tt->gil_ask_ns -= tt->cur_ask;
        tt->in_ask = false;
    } else if (flag || !(bit & (GS_TALLY_BIT(GS_ST_READY) | GS_TALLY_BIT(GS_ST_SWITCH)))) {
        tt->in_ask = false;
    }
    if (tt->in_ask) {
        tt->gil_ask_ns += d;
        tt->cur_ask += d;
    } else {
        tt->cur_ask = 0;
    }
    if (tt->response_ns < 0 && (bit & GS_TALLY_ON_CORE))
        tt->response_ns = iv->start_ns - tt->started_ns;
    if (st == GS_ST_DONE && tt->finished_ns < 0)
        tt->finished_ns = iv->start_ns;
    if (iv->op != tt->last_op && iv->op != GS_NO_OP && st != GS_ST_DONE)
        tt->ops++;
    tt->last_op = iv->op;
    if (tt->io_pending || (bit & GS_TALLY_IO))
        return gs__tally_io(tt, iv, bit);
    return true;
}
/* Process p's next GIL hold, clipped at clip; a release unless it ends at or
 * after run_end and its holder never finished (finished_ns: per thread, or
 * NULL when run_end is INT64_MAX). */
void gs__tally_gil(gs_tally_t *ty, int p, const gs_interval_t *iv, int64_t clip, int64_t run_end,
                   const int64_t *finished_ns);
/* A core lane's next interval, clipped at clip. */
void gs__tally_core(gs_tally_t *ty, const gs_interval_t *iv, int64_t clip);
/* Keeps a GIL (core false) or core interval for later. false when out of
 * memory. */
bool gs__tally_defer(gs_tally_t *ty, int32_t lane, bool core, const gs_interval_t *iv);
/* The next instant (time order). */
void gs__tally_instant(gs_tally_t *ty, int64_t t_ns, gs_instant_kind_t kind, int32_t thread,
                       int64_t arg);

/* The tally of a trace recorded metrics-only (gs__trace_new_for), NULL for a
 * trace that keeps its intervals. */
const gs_tally_t *gs__trace_tally(const gs_trace_t *t);

#endif
