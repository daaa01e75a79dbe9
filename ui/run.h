/* run.h - load a scenario, simulate it and compute its metrics, for the view.
 *
 * A load is computed from a gv_spec_t, a copy of what the view's settings say
 * (file, --set, --compare, knobs, budget), so that it can run on another
 * thread than the window's (bg.c) while the view goes on changing. */
#ifndef GV_RUN_H
#define GV_RUN_H

#include "job.h"
#include "view.h"

/* What one load makes: run A, and run B in compare mode. */
typedef struct gv_spec {
    char *path;                  /* owned copy; NULL = the built-in default scenario */
    char *set[GV_MAX_SET];       /* owned copies of the view's --set */
    int n_set;
    char *cmp_set[GV_MAX_SET];   /* owned copies of the view's --compare settings */
    int n_cmp_set;
    gv_knobs_t k, kb;            /* the knobs for A and B; gv_runs_make fills kb.gil
                                    when B has the other GIL model */
    bool compare;                /* make run B too */
    bool same_file;              /* a reload: keep the knobs, range and selection */
    size_t memory_budget;        /* per run; 0 = the default (GILSIM_MEMORY_BUDGET, 1 GiB) */
    char *real;                  /* owned copy of v->real: run A is this recording, run B
                                    the model beside it at the recorded settings, run C
                                    the what-if (--set and kb) when it has any (compare
                                    is then on) */
    bool replay;                 /* B is fitted to `real` (--replay), not the file path */
} gv_spec_t;

/* The phases of a load, as gv_job_set_phase numbers them: run A's, then B's
 * (GV_PHASE_B + the same), then C's (GV_PHASE_C + the same). */
enum { GV_PHASE_LOAD = 1, GV_PHASE_SIMULATE, GV_PHASE_METRICS, GV_PHASE_B = 3, GV_PHASE_C = 6 };

/* A copy of what v says a load of path must make (knobs zeroed unless
 * same_file). 0 or GS_ENOMEM (then s holds nothing). */
int gv_spec_make(gv_spec_t *s, const gv_view_t *v, const char *path, bool same_file);
void gv_spec_destroy(gv_spec_t *s);

/* Loads, runs and measures A (and B when s->compare, and C beside a
 * recording when --set or a knob asks for a what-if) into fresh (zeroed).
 * job (may be NULL) gets the progress and can cancel: then GS_ESTOPPED and
 * "cancelled" in err. On failure fresh is left empty and err holds every
 * diagnostic, one per line. 0 or GS_E*. */
int gv_runs_make(gv_spec_t *s, gv_run_t fresh[GV_MAX_RUNS], gv_job_t *job, char *err, size_t n_err);
/* True when the load of s makes a what-if beside its recording: --set, or
 * a knob of kb set. */
bool gv_spec_what_if(const gv_spec_t *s);

/* Real beside simulated (issue 14): run A is the recording rec, run B the
 * model beside it, at its own settings (the trust check): the scenario
 * fitted to rec (replay, `gilsim-view REC --replay`) or the file loaded
 * next (`--compare-with REC SCENARIO.json`); run C, on which the knobs and
 * --set act, the what-if of the same model. Before the first load; 0 or
 * GS_ENOMEM. */
int gv_view_set_real(gv_view_t *v, const char *rec, bool replay);

/* view.c: swaps in the runs a load of s made (rc 0), or keeps what was
 * shown and puts err in the banner. Returns rc. */
int gv_view_commit(gv_view_t *v, gv_spec_t *s, gv_run_t fresh[GV_MAX_RUNS], int rc,
                   const char *err);

/* Loads path (NULL = built-in default scenario) with overrides, runs it and
 * computes the stats into r (which must be zeroed or cleared). On failure r
 * is left empty and err holds every diagnostic, one per line. 0 or GS_E*. A
 * run that stops early (deadlock, limit) still succeeds: its trace says why.
 * budget 0 = the default; job as for gv_runs_make; phase0 is added to the
 * phases it reports. */
int gv_run_make(gv_run_t *r, const char *path, const gs_override_t *ov, int n_ov, size_t budget,
                gv_job_t *job, int phase0, char *err, size_t n_err);
void gv_run_clear(gv_run_t *r);

/* "interval 5 ms" style value names for the knob bar. */
void gv_interval_name(char *buf, size_t n, int64_t ns);

#endif
