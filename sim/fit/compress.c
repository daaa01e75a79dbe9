/* compress.c - repeated runs of ops folded into repeat blocks.
 *
 * A recording of a loop is the same few ops thousands of times with
 * durations that differ a little each time. Ops have a shape (verb, target,
 * whether a C call keeps the GIL) and a duration; from each position i the
 * fold looks for the period p (1 to MAX_PERIOD ops) whose run of identical
 * shapes, repeated k >= MIN_REPS times, covers the most ops (the smallest p
 * on a tie), and replaces the run with {"repeat": k, "do": [p ops]}. Each of
 * the p durations becomes a distribution over its k values with their mean:
 * fixed when they vary by less than 5 %, else uniform around the mean, as
 * wide as keeps their standard deviation but never below their minimum.
 * So a replay keeps every op's count and, in expectation, every sum.
 * fit_compress_thread leaves a started thread's first turn out as recorded
 * when it begins with the thread's bootstrap (below).
 * Cost: O(n * MAX_PERIOD^2) shape compares in the worst case (no run). */
#include "fit_int.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define MAX_PERIOD 32
#define MIN_REPS 3

bool fop_has_duration(const fop_t *op)
{
    return op->kind == FOP_CPU || op->kind == FOP_SLEEP || op->kind == FOP_IO ||
           op->kind == FOP_CCALL;
}

int fop_push(fop_list_t *l, const fop_t *op)
{
    if (l->n == l->cap) {
        int nc = l->cap ? l->cap * 2 : 64;
        fop_t *nv = realloc(l->v, (size_t)nc * sizeof *nv);
        if (!nv)
            return -1;
        l->v = nv;
        l->cap = nc;
    }
    l->v[l->n++] = *op;
    return 0;
}

void fop_list_free(fop_t *v, int n)
{
    for (int i = 0; i < n; i++)
        if (v[i].kind == FOP_REPEAT || v[i].kind == FOP_UNTIL || v[i].kind == FOP_CONSUME)
            fop_list_free(v[i].body, v[i].n_body);
    free(v);
}

static bool same_shape(const fop_t *a, const fop_t *b)
{
    return a->kind == b->kind && a->target == b->target && a->keeps_gil == b->keeps_gil &&
           a->post == b->post && a->end == b->end && a->kind != FOP_REPEAT &&
           a->kind != FOP_UNTIL && a->kind != FOP_CONSUME;
}

static bool same_run(const fop_t *v, int a, int b, int p)
{
    for (int j = 0; j < p; j++)
        if (!same_shape(&v[a + j], &v[b + j]))
            return false;
    return true;
}

/* The distribution of durations v[first + r*p] for r in [0, k). */
static void fit_dist(const fop_t *v, int first, int p, int64_t k, fop_t *out)
{
    long double sum = 0, sq = 0;
    int64_t lo = INT64_MAX, hi = 0;
    for (int64_t r = 0; r < k; r++) {
        int64_t d = v[first + r * p].dur;
        sum += d;
        sq += (long double)d * d;
        lo = d < lo ? d : lo;
        hi = d > hi ? d : hi;
    }
    long double mean = sum / k, var = sq / k - mean * mean;
    double sd = var > 0 ? sqrtl(var) : 0;
    out->dur = (int64_t)llroundl(mean);
    out->dist = FD_FIXED;
    if (lo == hi || sd < 0.05 * (double)mean)
        return;
    /* uniform [m-a, m+a] keeps the mean m; a = sqrt(3) sd keeps the standard
     * deviation too, but never reaches below the smallest value seen (a few
     * long outliers above a floor, such as sleeps, must not make short ones) */
    int64_t a = (int64_t)llround(sqrt(3.0) * sd);
    a = a < out->dur - lo ? a : out->dur - lo;
    out->dist = FD_UNIFORM;
    out->lo = out->dur - a;
    out->hi = out->dur + a;
}

/* May the thread let the GIL go in op? (Not in Python, nor in C that keeps
 * it: a run of those is one hold.) */
static bool lets_go(const fop_t *op)
{
    return op->kind != FOP_CPU && !(op->kind == FOP_CCALL && op->keeps_gil);
}

/* Folds l; with peel, a fold that would start at the first op, and whose
 * first turn ends that Python run where the thread may let the GIL go,
 * starts one turn later (when it keeps MIN_REPS turns), that turn's ops
 * staying as they are. */
static int fold(fop_list_t *l, bool peel)
{
    fop_list_t out = {0};
    const fop_t *v = l->v;
    int n = l->n, i = 0;
    while (i < n) {
        int best_p = 0;
        int64_t best_k = 0;
        for (int p = 1; p <= MAX_PERIOD && i + p * MIN_REPS <= n; p++) {
            int64_t k = 1;
            while (i + (k + 1) * p <= n && same_run(v, i, i + (int)k * p, p))
                k++;
            if (k >= MIN_REPS && k * p > best_k * best_p) {
                best_k = k;
                best_p = p;
            }
        }
        if (!best_p) {
            if (fop_push(&out, &v[i]) != 0)
                goto oom;
            i++;
            continue;
        }
        if (peel && i == 0 && best_k > MIN_REPS && lets_go(&v[1])) {
            /* the first turn, as recorded; the rest fold from the next */
            for (; i < best_p; i++)
                if (fop_push(&out, &v[i]) != 0)
                    goto oom;
            continue;
        }
        fop_t rep = {.kind = FOP_REPEAT, .count = best_k, .n_body = best_p, .target = -1};
        rep.body = calloc((size_t)best_p, sizeof *rep.body);
        if (!rep.body)
            goto oom;
        for (int j = 0; j < best_p; j++) {
            rep.body[j] = v[i + j];
            if (fop_has_duration(&v[i + j]))
                fit_dist(v, i + j, best_p, best_k, &rep.body[j]);
        }
        if (fop_push(&out, &rep) != 0) {
            free(rep.body);
            goto oom;
        }
        i += (int)(best_k * best_p);
    }
    free(l->v);
    *l = out;
    return 0;
oom:
    for (int j = 0; j < out.n; j++) /* the bodies made here; the ops stay l's */
        if (out.v[j].kind == FOP_REPEAT)
            free(out.v[j].body);
    free(out.v);
    return -1;
}

int fit_compress(fop_list_t *l)
{
    return fold(l, false);
}

/* A started thread's first Python run is its bootstrap, not a turn of its
 * loop: threading's _bootstrap_inner sets the Event its starter waits on in
 * Thread.start and runs on, holding the GIL, into its target up to the
 * first op (15 to 110 us in convoy.py's I/O thread before its first sleep,
 * where a turn of its loop holds 1 to 4 us). While it holds, the starter
 * it woke and a thread that lost the GIL to it (a forced dropper woken from
 * switch_cond) both ask for the GIL, and the one that asked first takes it
 * at the release: in the real convoy the CPU thread, so the starter waits a
 * switch interval more. Folded into a repeat, that run is drawn like any
 * turn, the new thread lets the GIL go before either asks, and the starter
 * takes it unopposed (tests/reality/replay_notes.md, point 22). So the
 * first turn of a fold that would begin with it stays as recorded, and the
 * fold begins one turn later, in the same phase: the thread's last run
 * (its end, which a joiner waits for) stays out of the repeat as before.
 * A run that goes on into Python or C keeping the GIL (a pure Python loop
 * that a loaded machine cut with inferred C calls: until.c takes such a
 * repeat for the loop's Python) is one hold whatever its parts: folded. */
int fit_compress_thread(fthread_t *t)
{
    return fold(&t->ops, t->starter >= 0 && t->ops.n > 0 && t->ops.v[0].kind == FOP_CPU);
}
