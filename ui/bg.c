/* bg.c - the window's loads run on a thread of their own (issue 18).
 *
 * A reload, a knob or a new file copies what the view says into a gv_spec_t
 * and hands it to a job (job.h): the job loads, simulates and measures run A
 * (and B), and the window thread goes on drawing and reading keys. A load
 * that ends within QUICK_MS is committed before gv_bg_start returns, so a
 * quick one (a lesson: ~10 ms) looks as it did in the foreground: no
 * progress line flashes and the callers' notices stay. A longer one returns
 * GV_PENDING; then every tick refreshes a progress line (simulated time of
 * until, events, bytes of the budget) until the job is done, and commits it.
 *
 * What survives what: a new load cancels the one under way (its runs are
 * dropped); Esc cancels it and the picture shown stays, with the knobs it
 * was made with; a load that fails keeps the picture too and puts its error
 * in the banner, as in the foreground. Quitting cancels the run, which stops
 * at its next event.
 *
 * Ownership: gv_bg_t is the window thread's. Its `load` (spec, runs, error
 * text) belongs to the job from gv_job_start until gv_job_wait says it is
 * done; the window thread touches it only after that. */
#include "view.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "job.h"
#include "run.h"

#define QUICK_MS 150   /* a load that takes less is committed in the foreground */
#define REFRESH_MS 100 /* progress line */

typedef struct load {
    gv_spec_t *spec; /* owned */
    gv_run_t fresh[GV_MAX_RUNS];
    char err[GV_BANNER_MAX];
} load_t;

typedef struct gv_bg {
    gv_job_t job;
    load_t *load;        /* owned; the job's while it runs */
    uint32_t started_ms; /* when the load under way began */
    uint32_t last_ms;    /* last progress line */
    bool user_cancel;    /* Esc */
    bool two;            /* the load makes runs A and B (for the progress line) */
    char name[256];      /* the file's name, for the progress line: the
                            window thread's own copy, as the spec is the job's */
    bool have_shown;     /* shown_k and shown_kb hold the picture's knobs */
    gv_knobs_t shown_k, shown_kb;
} gv_bg_t;

static int job_fn(gv_job_t *j, void *arg)
{
    load_t *l = arg;
    return gv_runs_make(l->spec, l->fresh, j, l->err, sizeof l->err);
}

static void load_free(load_t *l)
{
    if (!l)
        return;
    for (int i = 0; i < GV_MAX_RUNS; i++)
        gv_run_clear(&l->fresh[i]);
    gv_spec_destroy(l->spec);
    free(l->spec);
    free(l);
}

bool gv_bg_busy(const gv_view_t *v)
{
    return v->bg && v->bg->load;
}

/* "1 GiB", "312 MiB": the budget's words (limits.c says it the same way). */
static void fmt_bytes(char *buf, size_t n, size_t b)
{
    if (b >= (size_t)1 << 30)
        snprintf(buf, n, "%.3g GiB", (double)b / (double)((size_t)1 << 30));
    else
        snprintf(buf, n, "%.0f MiB", (double)b / (double)((size_t)1 << 20));
}

static size_t budget_of(const gv_view_t *v)
{
    if (v->memory_budget)
        return v->memory_budget;
    gs_run_opts_t o;
    gs_run_opts_init(&o); /* GILSIM_MEMORY_BUDGET, else the default */
    return o.memory_budget;
}

/* The progress line: which run, what it does, how far. */
static void progress_text(gv_view_t *v, uint32_t now_ms)
{
    gv_bg_t *b = v->bg;
    gv_job_progress_t p;
    gv_job_progress(&b->job, &p);
    bool two = b->two;
    const char *run = !two                   ? ""
                      : p.phase > GV_PHASE_C ? "run C: "
                      : p.phase > GV_PHASE_B ? "run B: "
                                             : "run A: ";
    int ph = p.phase > GV_PHASE_C   ? p.phase - GV_PHASE_C
             : p.phase > GV_PHASE_B ? p.phase - GV_PHASE_B
                                    : p.phase;
    char what[512], t[32], u[32], used[32], budget[32];
    if (ph == GV_PHASE_SIMULATE) {
        gv_fmt_dur(t, sizeof t, p.now_ns);
        gv_fmt_dur(u, sizeof u, p.until_ns);
        fmt_bytes(used, sizeof used, p.bytes);
        fmt_bytes(budget, sizeof budget, budget_of(v));
        snprintf(what, sizeof what,
                 "simulating: %s of %s simulated (%.0f%%), %.3g million events, the trace "
                 "takes %s of the %s memory budget",
                 t, u, p.until_ns > 0 ? 100.0 * (double)p.now_ns / (double)p.until_ns : 0.0,
                 (double)p.n_events / 1e6, used, budget);
    } else {
        snprintf(what, sizeof what, "%s",
                 ph == GV_PHASE_METRICS ? "computing the metrics" : "loading the file");
    }
    v->banner_error = false;
    v->banner_until_ms = 0;
    snprintf(v->banner, sizeof v->banner,
             "%s: %s%s \xC2\xB7 %.1f s so far. Esc cancels (the picture shown stays); Q quits.",
             b->name, run, what, (double)(now_ms - b->started_ms) / 1000.0);
}

/* The load is done (rc): commit it, or keep the picture. */
static int finish(gv_view_t *v, int rc, bool late)
{
    gv_bg_t *b = v->bg;
    load_t *l = b->load;
    b->load = NULL;
    bool cancelled = b->user_cancel && rc == GS_ESTOPPED;
    b->user_cancel = false;
    if (cancelled) {
        /* as a load that failed (a first file is still the one R reloads),
         * but said as what it is */
        gv_view_commit(v, l->spec, l->fresh, rc, l->err);
        gv_view_notice(v, false, "cancelled after %.1f s: %s",
                       (double)(SDL_GetTicks() - b->started_ms) / 1000.0,
                       v->n_runs ? "the picture shown stays" : "nothing is loaded (R loads it)");
    } else {
        if (late && v->banner[0] && !v->banner_error)
            v->banner[0] = 0; /* the progress line */
        rc = gv_view_commit(v, l->spec, l->fresh, rc, l->err);
        memset(l->fresh, 0, sizeof l->fresh); /* the view's now, or cleared */
    }
    if (rc == 0) {
        b->shown_k = v->knobs;
        b->shown_kb = v->knobs_b;
        b->have_shown = true;
        if (late && !v->banner[0]) {
            char a[520] = "";
            for (int i = 0; i < v->n_runs; i++) {
                size_t used = strlen(a);
                if (v->n_runs > 1)
                    snprintf(a + used, sizeof a - used, "%s%c: %s", i ? "; " : "", 'A' + i,
                             v->run[i].label);
                else
                    snprintf(a, sizeof a, "%s", v->run[0].label);
            }
            gv_view_notice(v, false, "simulated in %.1f s: %s",
                           (double)(SDL_GetTicks() - b->started_ms) / 1000.0, a);
        }
    } else if (late && b->have_shown) {
        /* the knobs the load was for did not make it: back to the picture's */
        v->knobs = b->shown_k;
        v->knobs_b = b->shown_kb;
    }
    load_free(l);
    return rc;
}

int gv_bg_start(gv_view_t *v, gv_spec_t *s)
{
    if (!v->bg && !(v->bg = calloc(1, sizeof *v->bg))) {
        gv_spec_destroy(s);
        free(s);
        return GS_ENOMEM;
    }
    gv_bg_t *b = v->bg;
    if (b->load) { /* superseded: it stops at its next event, its runs are dropped */
        gv_job_cancel(&b->job);
        gv_job_wait(&b->job, -1, NULL);
        load_free(b->load);
        b->load = NULL;
    }
    b->user_cancel = false;
    load_t *l = calloc(1, sizeof *l);
    if (!l) {
        gv_spec_destroy(s);
        free(s);
        return GS_ENOMEM;
    }
    l->spec = s;
    b->load = l;
    b->two = s->compare;
    const char *name = s->path ? s->path : "built-in default scenario";
    const char *slash = strrchr(name, '/');
    snprintf(b->name, sizeof b->name, "%s", slash ? slash + 1 : name);
    b->started_ms = SDL_GetTicks();
    int rc;
    if (gv_job_start(&b->job, job_fn, l) != 0) /* no thread: in the foreground then */
        return finish(v, gv_runs_make(s, l->fresh, NULL, l->err, sizeof l->err), false);
    if (gv_job_wait(&b->job, QUICK_MS, &rc))
        return finish(v, rc, false);
    b->last_ms = SDL_GetTicks();
    progress_text(v, b->last_ms);
    return GV_PENDING;
}

int gv_bg_wait(gv_view_t *v)
{
    gv_bg_t *b = v->bg;
    int rc;
    if (!b || !b->load)
        return 0;
    gv_job_wait(&b->job, -1, &rc);
    return finish(v, rc, true);
}

bool gv_bg_tick(gv_view_t *v, uint32_t now_ms)
{
    gv_bg_t *b = v->bg;
    if (!b || !b->load)
        return false;
    int rc;
    if (gv_job_wait(&b->job, 0, &rc)) {
        finish(v, rc, true);
        return true;
    }
    if (now_ms - b->last_ms < REFRESH_MS)
        return false;
    b->last_ms = now_ms;
    progress_text(v, now_ms);
    return true;
}

bool gv_bg_event(gv_view_t *v, const SDL_Event *e)
{
    if (!gv_bg_busy(v) || e->type != SDL_KEYDOWN || e->key.keysym.sym != SDLK_ESCAPE)
        return false;
    gv_job_cancel(&v->bg->job);
    v->bg->user_cancel = true;
    return true;
}

bool gv_bg_stop(gv_view_t *v, int timeout_ms)
{
    gv_bg_t *b = v->bg;
    if (!b)
        return true;
    if (b->load) {
        gv_job_cancel(&b->job);
        if (!gv_job_wait(&b->job, timeout_ms, NULL)) {
            /* still loading (a file is read in one go): leave the job its
             * memory and let the process end under it */
            gv_job_abandon(&b->job);
            v->bg = NULL;
            return false;
        }
        load_free(b->load);
    }
    free(b);
    v->bg = NULL;
    return true;
}
