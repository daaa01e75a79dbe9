/* view.c - the view's state: loading, knobs, compare mode, time range,
 * playhead and stepping between events. Input handling is in input.c.
 *
 * Invariants: 0 <= t0 < t1; t1 - t0 >= MIN_SPAN_NS; 0 <= playhead <= end_ns;
 * n_runs is 0 (nothing loaded yet), 1, or 2 exactly when compare is on; beside
 * a recording (real) 2, or 3 with the what-if. selected < n_threads of run
 * sel_run < n_runs. */
#include "view.h"
#include "gilsim/fit.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "run.h"

#define MIN_SPAN_NS 100

void gv_view_init(gv_view_t *v)
{
    memset(v, 0, sizeof *v);
    v->selected = -1;
    v->step_at = -1;
    v->text_scale = 1.0;
    v->px_per_pt = 1.0f;
    v->speed_idx = -1;
    v->t1 = 1000000;
    snprintf(v->shot_dir, sizeof v->shot_dir, ".");
}

void gv_view_destroy(gv_view_t *v)
{
    gv_bg_stop(v, -1);
    for (int i = 0; i < GV_MAX_RUNS; i++)
        gv_run_clear(&v->run[i]);
    gv_steps_clear(v);
    for (int i = 0; i < v->n_set; i++)
        free(v->set[i]);
    for (int i = 0; i < v->n_cmp_set; i++)
        free(v->cmp_set[i]);
    free(v->path);
    free(v->real);
    free(v->lay.rows);
    gv_picker_close(&v->picker);
    if (v->lanes_tex)
        SDL_DestroyTexture(v->lanes_tex);
    free(v->pixels);
    gv_text_free(v->text);
    memset(v, 0, sizeof *v);
}

void gv_view_notice(gv_view_t *v, bool error, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(v->banner, sizeof v->banner, fmt, ap);
    va_end(ap);
    v->banner_error = error;
    v->banner_until_ms = error ? 0 : SDL_GetTicks() + 4000;
}

int gv_view_add_set(gv_view_t *v, const char *kv)
{
    if (v->n_set >= GV_MAX_SET || !strchr(kv, '='))
        return GS_EINVAL;
    if (!(v->set[v->n_set] = strdup(kv)))
        return GS_ENOMEM;
    v->n_set++;
    return 0;
}

int gv_view_set_compare_spec(gv_view_t *v, const char *spec)
{
    char *copy = strdup(spec), *save = NULL;
    char *parts[GV_MAX_SET];
    int n = 0;
    if (!copy)
        return GS_ENOMEM;
    for (char *s = strtok_r(copy, ",", &save); s; s = strtok_r(NULL, ",", &save)) {
        if (n == GV_MAX_SET || !strchr(s, '=') || s[0] == '=') {
            free(copy);
            return GS_EINVAL;
        }
        parts[n++] = s;
    }
    if (n == 0) {
        free(copy);
        return GS_EINVAL;
    }
    for (int i = 0; i < v->n_cmp_set; i++)
        free(v->cmp_set[i]);
    v->n_cmp_set = 0;
    for (int i = 0; i < n; i++)
        if ((v->cmp_set[v->n_cmp_set] = strdup(parts[i])))
            v->n_cmp_set++;
    free(copy);
    return 0;
}

gv_knobs_t *gv_view_knobs(gv_view_t *v)
{
    return v->compare && v->target >= 1 ? &v->knobs_b : &v->knobs;
}

bool gv_view_has_what_if(const gv_view_t *v)
{
    return v->real && v->n_runs == 3;
}

void gv_view_select(gv_view_t *v, int th)
{
    v->selected = th;
    v->sel_run = 0;
}

/* Thread th of trace t's name. */
static const char *thread_name(const gs_trace_t *t, int th)
{
    return gs_trace_lane(t, gs_trace_thread_lane(t, th))->name;
}

int gv_view_load_process(const gv_view_t *v, int run)
{
    const gs_trace_t *t = v->run[run].trace;
    int np = t ? gs_trace_n_processes(t) : 0;
    for (int p = 0; v->real && run > 0 && p < np; p++)
        if (strcmp(gs_trace_process_name(t, p), GS_FIT_LOAD_PROCESS) == 0)
            return p;
    return -1;
}

int gv_view_thread_in(const gv_view_t *v, int run)
{
    if (v->selected < 0 || run < 0 || run >= v->n_runs || v->sel_run >= v->n_runs)
        return -1;
    const gs_trace_t *from = v->run[v->sel_run].trace, *to = v->run[run].trace;
    if (!from || !to || v->selected >= gs_trace_n_threads(from))
        return -1;
    if (run == v->sel_run)
        return v->selected;
    const char *name = thread_name(from, v->selected);
    if (v->selected < gs_trace_n_threads(to) && strcmp(thread_name(to, v->selected), name) == 0)
        return v->selected; /* the runs of one scenario, and a fit, keep the order */
    for (int th = 0; th < gs_trace_n_threads(to); th++) /* O(threads) when it moved */
        if (strcmp(thread_name(to, th), name) == 0)
            return th;
    return -1;
}

void gv_knobs_text(const gv_knobs_t *k, char *buf, size_t n)
{
    size_t used = 0;
    buf[0] = '\0';
#define GV_ADD_(...)                                                                           \
    do {                                                                                      \
        int w_ = snprintf(buf + used, used < n ? n - used : 0, "%s", used ? ", " : "");      \
        used += w_ > 0 ? (size_t)w_ : 0;                                                      \
        w_ = snprintf(buf + used, used < n ? n - used : 0, __VA_ARGS__);                      \
        used += w_ > 0 ? (size_t)w_ : 0;                                                      \
    } while (0)
    char d[32];
    if (k->set_interval) {
        gv_interval_name(d, sizeof d, k->interval_ns);
        GV_ADD_("interval %s", d);
    }
    if (k->set_cores)
        GV_ADD_("cores %d", k->cores);
    if (k->set_gil)
        GV_ADD_("GIL %s", gs_gil_name((gs_gil_kind_t)k->gil));
    if (k->set_policy)
        GV_ADD_("policy %s", gs_policy_name((gs_policy_t)k->policy));
    if (k->set_timeslice) {
        gv_interval_name(d, sizeof d, k->timeslice_ns);
        GV_ADD_("time slice %s", d);
    }
    if (k->set_one_cpu)
        GV_ADD_("%s", k->one_cpu ? "program on CPU 0" : "program on every CPU");
#undef GV_ADD_
    if (used >= n && n > 0)
        buf[n - 1] = '\0';
}

/* The knob values of model m (which overrides are set stays as it is). */
static void knobs_show(gv_knobs_t *k, const gs_model_t *m)
{
    k->interval_ns = m->processes[0].python.switch_interval_ns;
    k->cores = m->machine.cores;
    k->gil = m->processes[0].python.gil;
    k->policy = m->machine.policy;
    k->timeslice_ns = m->machine.timeslice_ns;
    k->one_cpu = gs_cpuset_any(&m->processes[0].cpus);
}

static int64_t runs_end(const gv_view_t *v)
{
    int64_t end = 0;
    for (int i = 0; i < v->n_runs; i++) {
        int64_t e = gs_trace_end_ns(v->run[i].trace);
        if (e > end)
            end = e;
    }
    return end > 0 ? end : 1000;
}

/* After a load: a new file is fitted and opens at its opening instant; a
 * reload keeps the view (refitted if it was fitted), the playhead and the
 * selection where they still exist. */
static void place_after_load(gv_view_t *v, bool same_file, int64_t old_end)
{
    if (!same_file || old_end == 0) {
        gv_view_fit(v);
        v->sel_run = 0;
        v->playhead = gv_view_opening(v, &v->selected); /* and whose wait it shows */
        v->playing = false;
        v->lay.panel_scroll = 0; /* a new file's panel starts at its top */
        return;
    }
    if (v->t0 == 0 && v->t1 == old_end + old_end / 50 + 1)
        gv_view_fit(v); /* it was fitted: fit the new length */
    else
        gv_view_set_range(v, v->t0, v->t1);
    if (v->playhead == old_end || v->playhead > v->end_ns)
        v->playhead = v->end_ns;
    if (v->sel_run >= v->n_runs) /* adopt moved it to A's, by name; kept as a guard */
        gv_view_select(v, -1);
    if (v->selected >= gs_trace_n_threads(v->run[v->sel_run].trace))
        v->selected = -1;
}

/* The runs made by a load replace the shown ones. */
static void adopt(gv_view_t *v, const char *path, bool same_file, gv_run_t fresh[GV_MAX_RUNS],
                  gv_knobs_t k, gv_knobs_t kb)
{
    if (v->sel_run > 0 && v->selected >= 0) { /* the thread of that name in A, if any */
        int th = gv_view_thread_in(v, 0);
        gv_view_select(v, th);
    }
    for (int i = 0; i < GV_MAX_RUNS; i++) {
        gv_run_clear(&v->run[i]);
        v->run[i] = fresh[i];
    }
    v->n_runs = !v->compare ? 1 : v->real && v->run[2].trace ? 3 : 2;
    /* the knobs show what the model says, overridden or not; B's, B's; the
     * what-if's, C's, or before there is one, the model's it starts from */
    knobs_show(&k, v->run[0].model);
    v->knobs = k;
    if (v->n_runs > 1) {
        knobs_show(&kb, v->run[v->n_runs - 1].model);
        v->knobs_b = kb;
    }
    if (!v->path || !path || strcmp(v->path, path) != 0) {
        char *p = path ? strdup(path) : NULL;
        free(v->path);
        v->path = p;
    }
    struct stat st;
    if (v->path && stat(v->path, &st) == 0)
        v->mtime = st.st_mtim;
    int64_t old_end = v->end_ns;
    v->end_ns = runs_end(v);
    gv_steps_clear(v);
    place_after_load(v, same_file, old_end);
    if (v->banner_error)
        v->banner[0] = 0;
    v->banner_error = false;
    if (gv_view_limit_text(v, v->banner, sizeof v->banner))
        v->banner_until_ms = 0; /* stays: the picture ends where the budget did */
}

/* A load failed: the banner says why. A file broken from the start is still
 * the file being edited, so it is watched and R reloads it (not the built-in
 * scenario). */
static void failed(gv_view_t *v, const char *path, const char *err)
{
    if (v->n_runs == 0 && path && (!v->path || strcmp(v->path, path) != 0)) {
        char *p = strdup(path);
        if (p) {
            free(v->path);
            v->path = p;
            struct stat st0;
            if (stat(p, &st0) == 0)
                v->mtime = st0.st_mtim;
        }
    }
    snprintf(v->banner, sizeof v->banner, "%s", err);
    v->banner_error = true;
    v->banner_until_ms = 0;
}

int gv_view_limit_text(const gv_view_t *v, char *buf, size_t n)
{
    int k = 0;
    for (int i = 0; i < v->n_runs; i++) {
        const gs_trace_t *t = v->run[i].trace;
        if (gs_trace_outcome(t) != GS_OUT_LIMIT)
            continue;
        const char *name = v->path ? v->path : "built-in default scenario";
        char run[4] = "";
        if (v->n_runs > 1)
            snprintf(run, sizeof run, "%c: ", 'A' + i);
        snprintf(buf, n, "%s%s: simulation stopped (limit): %s", run, name, gs_trace_message(t));
        k++;
        if (i == 0) /* A's first: one line */
            break;
    }
    return k;
}

/* Swaps in the runs a load of s made (rc 0), or keeps what was shown and
 * puts err in the banner. Returns rc. */
int gv_view_commit(gv_view_t *v, gv_spec_t *s, gv_run_t fresh[GV_MAX_RUNS], int rc, const char *err)
{
    if (rc != 0) {
        failed(v, s->path, err);
        return rc;
    }
    v->compare = s->compare;
    if (v->real && !s->real) { /* another file: no longer beside the recording */
        free(v->real);
        v->real = NULL;
        v->replay = false;
        v->target = 0;
    }
    adopt(v, s->path, s->same_file, fresh, s->k, s->kb);
    return 0;
}

/* Loads into fresh runs (run.c); swaps them in only when everything
 * succeeded. In the window (v->background) the work goes to a thread of its
 * own (bg.c): then GV_PENDING when it takes longer than a moment. */
static int load(gv_view_t *v, const char *path, bool same_file)
{
    gv_spec_t *s = calloc(1, sizeof *s);
    char *err = malloc(GV_BANNER_MAX);
    int rc = s && err ? gv_spec_make(s, v, path, same_file) : GS_ENOMEM;
    if (rc == 0 && v->background) {
        free(err);
        return gv_bg_start(v, s); /* takes s */
    }
    gv_run_t fresh[GV_MAX_RUNS];
    memset(fresh, 0, sizeof fresh);
    if (rc == 0)
        rc = gv_runs_make(s, fresh, NULL, err, GV_BANNER_MAX);
    else if (err)
        snprintf(err, GV_BANNER_MAX, "out of memory");
    if (s && err)
        rc = gv_view_commit(v, s, fresh, rc, err);
    if (s)
        gv_spec_destroy(s);
    free(s);
    free(err);
    return rc;
}

int gv_view_load(gv_view_t *v, const char *path)
{
    return load(v, path, false);
}

int gv_view_reload(gv_view_t *v)
{
    return load(v, v->path, true);
}

void gv_view_reset_knobs(gv_view_t *v)
{
    gv_knobs_t *k = gv_view_knobs(v), old = *k;
    k->set_interval = k->set_cores = k->set_gil = k->set_policy = k->set_timeslice = false;
    k->set_one_cpu = false;
    int rc = v->n_runs ? gv_view_reload(v) : 0;
    if (rc < 0)
        *k = old;
    else if (rc == 0 && v->real) /* GV_PENDING: bg.c says when it is done */
        gv_view_notice(v, false, "what-if (C): knobs reset%s",
                       gv_view_has_what_if(v) ? " (--set still applies)"
                                              : "; turn a knob for a what-if again");
    else if (rc == 0)
        gv_view_notice(v, false, "run %c: knob overrides reset to the file's settings",
                       v->compare ? 'A' + v->target : 'A');
}

void gv_view_set_compare(gv_view_t *v, bool on)
{
    if (v->real && !on) { /* issue 14: the point is the two side by side */
        gv_view_notice(v, false,
                       "the recording (A), %s (B) and the what-if (C) stay "
                       "stacked: open the file alone (O) for one run",
                       v->replay ? "its replay" : "the file as written");
        return;
    }
    if (v->compare == on)
        return;
    v->compare = on;
    if (v->n_runs == 0)
        return;
    /* the load copies compare; until it is committed, compare says what is
     * shown (n_runs is 2 exactly when compare is on) */
    if (load(v, v->path, true) != 0)
        v->compare = !on;
}

/* ---- time range ----------------------------------------------------------- */

void gv_view_set_range(gv_view_t *v, int64_t a, int64_t b)
{
    if (b < a) {
        int64_t t = a;
        a = b;
        b = t;
    }
    int64_t limit = v->end_ns + v->end_ns / 10 + MIN_SPAN_NS;
    if (b - a < MIN_SPAN_NS)
        b = a + MIN_SPAN_NS;
    if (b - a > limit) {
        a = 0;
        b = limit;
    }
    if (a < 0) {
        b -= a;
        a = 0;
    }
    if (b > limit) {
        a -= b - limit;
        b = limit;
    }
    v->t0 = a;
    v->t1 = b;
}

void gv_view_fit(gv_view_t *v)
{
    v->t0 = 0;
    v->t1 = v->end_ns + v->end_ns / 50 + 1;
    gv_view_set_range(v, v->t0, v->t1);
}

void gv_view_zoom(gv_view_t *v, double factor, int64_t around)
{
    if (around < v->t0 || around > v->t1)
        around = v->t0 + (v->t1 - v->t0) / 2;
    double a = (double)around - (double)(around - v->t0) * factor;
    double b = (double)around + (double)(v->t1 - around) * factor;
    if (b - a < MIN_SPAN_NS) {
        a = (double)around - MIN_SPAN_NS / 2.0;
        b = a + MIN_SPAN_NS;
    }
    gv_view_set_range(v, (int64_t)a, (int64_t)b);
}

void gv_view_pan(gv_view_t *v, int64_t dt)
{
    gv_view_set_range(v, v->t0 + dt, v->t1 + dt);
}

/* Keeps the playhead on screen, paging forward (or back) when it leaves. */
static void follow(gv_view_t *v)
{
    int64_t span = v->t1 - v->t0;
    if (v->playhead > v->t1 || v->playhead < v->t0)
        gv_view_set_range(v, v->playhead - span / 10, v->playhead - span / 10 + span);
}

/* The first wait in state st (by when it began, on any thread lane) that is
 * at least half as long as the longest one and 1/100 of the run: the first
 * that shows the lesson's point (a convoy's wait, not a wait at start-up).
 * A wait during which the waiter's own drop request was pending is taken
 * first, at the middle of that stretch, so that the panel shows the whole
 * chain; else the wait's middle. Its thread in *thread; -1 if none. */
static int64_t first_long_wait(const gs_trace_t *t, gs_state_t st, int *thread)
{
    int64_t longest = 0, at = -1, first[2] = {INT64_MAX, INT64_MAX}, mid[2] = {-1, -1};
    int who[2] = {-1, -1};
    for (int pass = 0; pass < 2; pass++)
        for (int th = 0; th < gs_trace_n_threads(t); th++) {
            const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, th));
            for (size_t i = 0; i < l->n; i++) {
                const gs_interval_t *iv = &l->iv[i];
                int64_t d = iv->end_ns - iv->start_ns, ra, rb;
                if (iv->state != st)
                    continue;
                if (pass == 0 && d > longest)
                    longest = d;
                if (pass == 0 || 2 * d < longest || 100 * d < gs_trace_end_ns(t))
                    continue;
                int k = gs_why_own_request(t, th, i, &ra, &rb) ? 0 : 1;
                if (iv->start_ns < first[k]) {
                    first[k] = iv->start_ns;
                    mid[k] = k == 0 ? ra + (rb - ra) / 2 : iv->start_ns + d / 2;
                    who[k] = th;
                }
            }
        }
    int k = mid[0] >= 0 ? 0 : 1;
    at = mid[k];
    if (at >= 0)
        *thread = who[k];
    return at;
}

/* The thread that has waited longest for the GIL (else for a core) at t, or
 * -1: the one whose "why" the opening instant is about. */
static int waiting_at(const gs_trace_t *t, int64_t at)
{
    int best = -1;
    int64_t since = INT64_MAX;
    for (int pass = 0; pass < 2 && best < 0; pass++)
        for (int th = 0; th < gs_trace_n_threads(t); th++) {
            const gs_interval_t *iv = gv_lane_at(gs_trace_lane(t, gs_trace_thread_lane(t, th)), at);
            if (iv && iv->state == (pass ? GS_ST_READY : GS_ST_WAIT_GIL) && iv->start_ns < since) {
                since = iv->start_ns;
                best = th;
            }
        }
    return best;
}

int64_t gv_view_opening(const gv_view_t *v, int *thread)
{
    const gs_trace_t *t = v->run[0].trace;
    const gs_model_t *m = v->run[0].model;
    int64_t at = -1;
    *thread = -1;
    if (m && m->open_at_ns >= 0)
        at = m->open_at_ns;
    else if (t && gs_trace_n_annotations(t) > 0)
        at = gs_trace_annotation_at(t, 0);
    else if (t && (at = first_long_wait(t, GS_ST_WAIT_GIL, thread)) < 0)
        at = first_long_wait(t, GS_ST_READY, thread);
    if (at < 0)
        at = v->end_ns / 2;
    if (at > v->end_ns)
        at = v->end_ns;
    if (*thread < 0 && t)
        *thread = waiting_at(t, at);
    return at;
}

int64_t gv_reveal(const gv_view_t *v)
{
    return v->future == GV_FUTURE_HIDE ? v->playhead : INT64_MAX;
}

void gv_view_set_playhead(gv_view_t *v, int64_t t)
{
    v->playhead = t < 0 ? 0 : t > v->end_ns ? v->end_ns : t;
    follow(v);
}

/* ---- stepping between events ---------------------------------------------- */

int64_t gv_view_next_event(const gv_view_t *v, int64_t t)
{
    int64_t best = v->end_ns;
    for (int r = 0; r < v->n_runs; r++) {
        const gs_trace_t *tr = v->run[r].trace;
        for (int l = 0; l < gs_trace_n_lanes(tr); l++) {
            const gs_lane_t *lane = gs_trace_lane(tr, l);
            size_t i = gs_lane_find(lane, t);
            if (i >= lane->n)
                continue;
            int64_t c = lane->iv[i].start_ns > t ? lane->iv[i].start_ns : lane->iv[i].end_ns;
            if (c > t && c < best)
                best = c;
        }
        size_t n = v->run[r].n_instants;
        const gs_instant_t *in = v->run[r].instants;
        size_t lo = 0, hi = n; /* first instant after t */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (in[mid].t_ns <= t)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo < n && in[lo].t_ns < best)
            best = in[lo].t_ns;
    }
    return best;
}

int64_t gv_view_prev_event(const gv_view_t *v, int64_t t)
{
    int64_t best = 0;
    if (t <= 0)
        return 0;
    for (int r = 0; r < v->n_runs; r++) {
        const gs_trace_t *tr = v->run[r].trace;
        for (int l = 0; l < gs_trace_n_lanes(tr); l++) {
            const gs_lane_t *lane = gs_trace_lane(tr, l);
            size_t i = gs_lane_find(lane, t - 1);
            int64_t c = -1;
            if (i < lane->n && lane->iv[i].start_ns <= t - 1)
                c = lane->iv[i].start_ns;
            else if (i > 0)
                c = lane->iv[i - 1].end_ns;
            if (c >= 0 && c < t && c > best)
                best = c;
        }
        size_t n = v->run[r].n_instants;
        const gs_instant_t *in = v->run[r].instants;
        size_t lo = 0, hi = n; /* first instant at or after t */
        while (lo < hi) {
            size_t mid = (lo + hi) / 2;
            if (in[mid].t_ns < t)
                lo = mid + 1;
            else
                hi = mid;
        }
        if (lo > 0 && in[lo - 1].t_ns > best)
            best = in[lo - 1].t_ns;
    }
    return best;
}
