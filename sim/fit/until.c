/* until.c - loops that run until another thread sets an Event.
 *
 * `while not stop.is_set(): work()` runs as long as the thread that sets
 * `stop` takes, not a fixed number of times: at a shorter switch interval
 * the setter finishes sooner and the loop does less work, at a longer one
 * more. A fit that replays the recorded amount of work cannot move with the
 * setting, so such a loop is fitted as {"until": EVENT, "do": [...]}.
 *
 * What the recording shows (boot.py wraps threading.Event): every
 * Event.set as a call named "Event.set" with the event's identity (`obj`),
 * and, per thread and event, only the first Event.is_set that returned True,
 * as a call named "Event.is_set" of no length, with the count of the polls
 * that returned False before it (not each of them: they would slow every
 * turn of the loop). Recordings made before the count was written have
 * none.
 *
 * The fit:
 *  1. fit_until_events: an event qualifies when a thread's first True
 *     is_set follows a set of the same object by another thread; each gets
 *     a name ("event", or "event-1", "event-2"...).
 *  2. fit_until_op (from fit.c's item_op): a set of a qualifying event is a
 *     set op; its first True is_set a marker (FOP_POLL); the other sets and
 *     polls are nothing (a few microseconds of Python).
 *  3. fit_until_loops (after the folding into repeats): the ops before a
 *     marker become the loop. A repeat block just before it (the program's
 *     loop with I/O or sleeps in it: the ticker of c_call_ticker.py) becomes
 *     the until loop over the same body, its last Python run absorbed,
 *     when its turns can be the loop's polls (a repeat of 3 turns before
 *     5000 polls is not: a loaded recording cuts a pure Python loop with
 *     inferred C calls keeping the GIL, and such a repeat's Python and C
 *     joins the Python run after it); else
 *     the Python run just before it (a pure Python loop: the CPU thread of
 *     convoy.py) becomes an until loop over cpu ops of that Python over the
 *     False polls (the recorded Python between two polls), at least
 *     UNTIL_MIN_CHUNK_NS; without a count, of UNTIL_CHUNK_NS.
 *     The thread's Python after the marker stays as it was. */
#include "fit_int.h"
#include "recfile_int.h"

#include "gilsim/units.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAME_SET "Event.set"
#define NAME_IS_SET "Event.is_set"

/* The Python work between two polls of a pure Python until loop, when the
 * recording has no count of the polls: a fixed chunk, small beside the
 * switch intervals of interest (a set ends the loop within one chunk) and
 * large enough that a second of loop is 10 000 ops to simulate. With a
 * count, the recorded period, but no less than UNTIL_MIN_CHUNK_NS: a tight
 * loop polls every few hundred ns, and a replay of it poll by poll would
 * cost millions of ops per second of program for nothing a switch interval
 * sees (a set ends the loop at most that much later). */
#define UNTIL_CHUNK_NS 100000
#define UNTIL_MIN_CHUNK_NS 50000

static bool call_named(const gsr_event_t *e, const char *name)
{
    return e->kind == GSR_CALL && e->obj != 0 && e->name && strcmp(e->name, name) == 0;
}

static int event_of(const fscenario_t *f, uint64_t obj)
{
    for (int k = 0; k < f->n_events; k++)
        if (f->event_obj[k] == obj)
            return k;
    return -1;
}

/* ---- which events -------------------------------------------------------- */

/* Every Event.set of the recording, sorted by event then time: the sets of
 * one event are found by a binary search (a recording may hold thousands
 * of first True polls: Thread.join checks `_started.is_set()`). */
typedef struct set_ev {
    uint64_t obj;
    int64_t t;
    int thread;
} set_ev_t;

static int cmp_set(const void *a, const void *b)
{
    const set_ev_t *x = a, *y = b;
    if (x->obj != y->obj)
        return x->obj < y->obj ? -1 : 1;
    return (x->t > y->t) - (x->t < y->t);
}

static set_ev_t *collect_sets(const gsr_recording_t *r, size_t *n)
{
    size_t k = 0;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t j = 0; j < r->threads[i].n_ev; j++)
            k += call_named(&r->threads[i].ev[j], NAME_SET);
    set_ev_t *v = malloc((k + 1) * sizeof *v);
    if (!v)
        return NULL;
    *n = 0;
    for (int i = 0; i < r->n_threads; i++)
        for (size_t j = 0; j < r->threads[i].n_ev; j++) {
            const gsr_event_t *e = &r->threads[i].ev[j];
            if (call_named(e, NAME_SET))
                v[(*n)++] = (set_ev_t){e->obj, e->t, i};
        }
    if (*n)
        qsort(v, *n, sizeof *v, cmp_set);
    return v;
}

/* The first set of obj by a thread other than i, no later than t: its
 * index in sets, or -1. */
static long first_set_by_other(const set_ev_t *sets, size_t n, uint64_t obj, int i, int64_t t)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the first entry of obj */
        size_t mid = (lo + hi) / 2;
        if (sets[mid].obj < obj)
            lo = mid + 1;
        else
            hi = mid;
    }
    for (size_t k = lo; k < n && sets[k].obj == obj && sets[k].t <= t; k++)
        if (sets[k].thread != i)
            return (long)k;
    return -1;
}

/* A thread's spans (calls, waits, lock waits, Python inside a call; not the
 * polls themselves) sorted by start, each with the latest end so far: a
 * poll is inside one when a span starting no later ends no earlier. A span
 * is written when it ends, so the file is not in start order. */
typedef struct span_ix {
    int64_t t0, max_t1;
} span_ix_t;

static int cmp_span_ix(const void *a, const void *b)
{
    const span_ix_t *x = a, *y = b;
    return (x->t0 > y->t0) - (x->t0 < y->t0);
}

static span_ix_t *index_spans(const gsr_thread_t *th, size_t *n)
{
    span_ix_t *v = malloc((th->n_ev + 1) * sizeof *v);
    if (!v)
        return NULL;
    *n = 0;
    for (size_t j = 0; j < th->n_ev; j++) {
        const gsr_event_t *e = &th->ev[j];
        if ((e->kind == GSR_CALL || e->kind == GSR_WAIT || e->kind == GSR_LOCK_WAIT ||
             e->kind == GSR_PY) &&
            !call_named(e, NAME_IS_SET))
            v[(*n)++] = (span_ix_t){e->t, e->t1};
    }
    if (*n)
        qsort(v, *n, sizeof *v, cmp_span_ix);
    for (size_t j = 1; j < *n; j++)
        if (v[j].max_t1 < v[j - 1].max_t1)
            v[j].max_t1 = v[j - 1].max_t1;
    return v;
}

/* Is the poll p inside one of the spans? Then it is part of that op, not of
 * the thread's own loop: Thread.join's `self._started.is_set()`. */
static bool inside_span(const span_ix_t *v, size_t n, const gsr_event_t *p)
{
    size_t lo = 0, hi = n;
    while (lo < hi) { /* the spans starting no later than p */
        size_t mid = (lo + hi) / 2;
        if (v[mid].t0 <= p->t)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo > 0 && v[lo - 1].max_t1 >= p->t1;
}

/* Thread i's first True polls of events another thread set before. */
static int events_of_thread(const gsr_recording_t *r, int i, const set_ev_t *sets, size_t n_sets,
                            fscenario_t *f)
{
    const gsr_thread_t *th = &r->threads[i];
    span_ix_t *spans = NULL;
    size_t n_spans = 0;
    for (size_t k = 0; k < th->n_ev && f->n_events < FIT_MAX_EVENTS; k++) {
        const gsr_event_t *e = &th->ev[k];
        long s;
        if (!call_named(e, NAME_IS_SET) || event_of(f, e->obj) >= 0 ||
            (s = first_set_by_other(sets, n_sets, e->obj, i, e->t1)) < 0)
            continue;
        if (!spans && !(spans = index_spans(th, &n_spans)))
            return -1;
        if (inside_span(spans, n_spans, e))
            continue;
        f->event_obj[f->n_events] = e->obj;
        f->event_setter[f->n_events] = sets[s].thread;
        f->event_set_ns[f->n_events] = sets[s].t;
        f->n_events++;
    }
    free(spans);
    return 0;
}

int fit_until_events(const gsr_recording_t *r, fscenario_t *f)
{
    f->n_events = 0;
    size_t n_sets = 0;
    set_ev_t *sets = collect_sets(r, &n_sets);
    if (!sets)
        return -1;
    int rc = 0;
    for (int i = 0; i < r->n_threads && rc == 0; i++)
        rc = events_of_thread(r, i, sets, n_sets, f);
    free(sets);
    return rc;
}

const char *fit_event_name(const fscenario_t *f, int k, char *buf, size_t n)
{
    if (f->n_events <= 1)
        snprintf(buf, n, "event");
    else
        snprintf(buf, n, "event-%d", k + 1);
    return buf;
}

int fit_until_op(const fscenario_t *f, const gsr_event_t *e, int64_t since, fop_t *op)
{
    bool is_set = call_named(e, NAME_IS_SET), set = call_named(e, NAME_SET);
    if (!is_set && !set)
        return -1;
    int k = event_of(f, e->obj);
    if (k < 0)
        return 0; /* a set nobody polls, a poll nobody's set ended */
    /* a marker keeps when the event was set and when the Python run before
     * the poll began: a run that began after the set is not a loop that
     * polled in vain (make_loop) */
    *op = (fop_t){.kind = set ? FOP_SET : FOP_POLL,
                  .target = k,
                  .lo = f->event_set_ns[k],
                  .hi = since,
                  .count = set ? 0 : e->arg}; /* the False polls, -1 unknown */
    return 1;
}

/* ---- the loops ----------------------------------------------------------- */

/* Removes v[a..b) from the list (freeing bodies) and puts op in their place. */
static void replace_ops(fop_list_t *l, int a, int b, const fop_t *op)
{
    for (int k = a; k < b; k++)
        if (l->v[k].kind == FOP_REPEAT || l->v[k].kind == FOP_UNTIL || l->v[k].kind == FOP_CONSUME)
            fop_list_free(l->v[k].body, l->v[k].n_body);
    l->v[a] = *op;
    memmove(&l->v[a + 1], &l->v[b], (size_t)(l->n - b) * sizeof *l->v);
    l->n -= b - a - 1;
}

static void remove_op(fop_list_t *l, int a)
{
    memmove(&l->v[a], &l->v[a + 1], (size_t)(l->n - a - 1) * sizeof *l->v);
    l->n--;
}

/* Can a repeat of count turns be the loop whose first True poll followed
 * polls False ones (-1: not counted)? A loop polls once a turn, so its
 * turns are its polls, give or take the first and last; a repeat with far
 * fewer turns (a loaded recording: a pure Python loop cut by three
 * inferred C calls, lost cores, folds into 3 x [cpu, c_call]) is
 * something else inside the loop's time. */
static bool turns_match(int64_t count, int64_t polls)
{
    return polls < 0 || polls <= 2 * (count + 1);
}

/* The Python a repeat of Python and C calls keeping the GIL held, in all
 * (its turns times its body's mean durations), or -1 when its body does
 * anything else (a sleep, I/O, a call that lets the GIL go). */
static int64_t held_work(const fop_t *rep)
{
    int64_t turn = 0;
    for (int k = 0; k < rep->n_body; k++) {
        const fop_t *b = &rep->body[k];
        if (b->kind != FOP_CPU && !(b->kind == FOP_CCALL && b->keeps_gil))
            return -1;
        turn += b->dur;
    }
    return turn * rep->count;
}

/* The loop that ends at the marker l->v[p]: its ops replaced by an until
 * op (1), or the marker dropped when nothing before it looks like a loop
 * (0); -1 out of memory. */
static int make_loop(fop_list_t *l, int p, fthread_stats_t *st)
{
    int ev = l->v[p].target, q = p - 1;
    bool tail_cpu = q >= 0 && l->v[q].kind == FOP_CPU;
    int r = tail_cpu ? q - 1 : q;
    fop_t loop = {.kind = FOP_UNTIL, .target = ev};
    int64_t polls = l->v[p].count, held = -1;
    if (r >= 0 && l->v[r].kind == FOP_REPEAT && !turns_match(l->v[r].count, polls) &&
        (held = held_work(&l->v[r])) >= 0) {
        /* a pure Python loop the load cut: its Python, the repeat's C calls
           keeping the GIL included (time it held the GIL polling), in turns
           from the polls, below */
    } else if (r >= 0 && l->v[r].kind == FOP_REPEAT) {
        loop.body = l->v[r].body; /* moved: the repeat's body, its count dropped */
        loop.n_body = l->v[r].n_body;
        l->v[r].body = NULL;
        l->v[r].kind = FOP_CPU;
        st->until_kind = 2;
        st->until_count = l->v[r].count;
        replace_ops(l, r, p + 1, &loop);
        return 1;
    }
    if (held < 0 && (!tail_cpu || l->v[p].hi > l->v[p].lo)) {
        remove_op(l, p); /* no loop, or one whose first poll came after the set */
        return 0;
    }
    int64_t work = (tail_cpu ? l->v[q].dur : 0) + (held > 0 ? held : 0);
    int first = held >= 0 ? r : q;
    fop_t chunk = {.kind = FOP_CPU, .target = -1, .dist = FD_FIXED};
    chunk.dur = polls > 0 ? work / polls : UNTIL_CHUNK_NS;
    if (polls > 0 && chunk.dur < UNTIL_MIN_CHUNK_NS)
        chunk.dur = UNTIL_MIN_CHUNK_NS;
    if (chunk.dur > work)
        chunk.dur = work > 0 ? work : 1000;
    loop.body = malloc(sizeof *loop.body);
    if (!loop.body)
        return -1;
    loop.body[0] = chunk;
    loop.n_body = 1;
    st->until_kind = 1;
    st->until_work_ns = work;
    st->until_count = polls;
    st->until_chunk_ns = chunk.dur;
    st->until_absorbed = held >= 0 ? l->v[r].count : 0;
    replace_ops(l, first, p + 1, &loop);
    return 1;
}

/* Markers inside repeat bodies (a thread polling many events in a pattern):
 * dropped, and a body left empty with them. */
static void drop_inner_markers(fop_list_t *l)
{
    for (int k = 0; k < l->n; k++) {
        fop_t *op = &l->v[k];
        if (op->kind != FOP_REPEAT && op->kind != FOP_UNTIL)
            continue;
        fop_list_t body = {op->body, op->n_body, op->n_body};
        drop_inner_markers(&body);
        for (int j = 0; j < body.n;)
            if (body.v[j].kind == FOP_POLL)
                remove_op(&body, j);
            else
                j++;
        op->n_body = body.n;
        if (body.n == 0) {
            free(body.v);
            remove_op(l, k--);
        }
    }
}

int fit_until_loops(fthread_t *t)
{
    t->st.until_event = -1;
    if (fit_consume_loops(t) != 0)
        return -1;
    drop_inner_markers(&t->ops);
    for (int p = 0; p < t->ops.n; p++) {
        if (t->ops.v[p].kind != FOP_POLL)
            continue;
        int ev = t->ops.v[p].target, made = make_loop(&t->ops, p, &t->st);
        if (made < 0)
            return -1;
        if (made) {
            t->st.until_event = ev;
            t->st.n_until++;
        }
        p = -1; /* the list moved: look again from the start */
    }
    return 0;
}

/* ---- the description ------------------------------------------------------ */

const char *fit_until_note(const fscenario_t *f, int i, char *buf, size_t n)
{
    const fthread_stats_t *s = &f->th[i].st;
    char en[24], d1[32], d2[32], polls[64] = "";
    buf[0] = '\0';
    if (s->n_until == 0 || s->until_event < 0)
        return buf;
    int ev = s->until_event, setter = f->event_setter[ev];
    fit_event_name(f, ev, en, sizeof en);
    if (s->until_kind == 2) {
        snprintf(buf, n,
                 "; its loop (%" PRId64 " turns recorded) runs until %s is set (by %s: "
                 "Event.is_set returned True after that)",
                 s->until_count, en, f->th[setter].name);
    } else {
        if (s->until_count >= 0)
            snprintf(polls, sizeof polls, ", after %" PRId64 " that returned False,",
                     s->until_count);
        snprintf(buf, n,
                 "; its %s of Python before Event.is_set returned True%s is a loop of %s "
                 "cpu ops until %s is set (by %s)",
                 gs_format_ns(s->until_work_ns, d1, sizeof d1), polls,
                 gs_format_ns(s->until_chunk_ns, d2, sizeof d2), en, f->th[setter].name);
        if (s->until_absorbed)
            snprintf(buf + strlen(buf), n - strlen(buf),
                     " (a repeat of %" PRId64 " turns with C keeping the GIL, far fewer than "
                     "the polls, taken as part of its Python)",
                     s->until_absorbed);
    }
    if (s->n_until > 1)
        snprintf(buf + strlen(buf), n - strlen(buf), ", and %" PRId64 " more such loops",
                 s->n_until - 1);
    return buf;
}

const char *fit_until_approx(const fscenario_t *f, char *buf, size_t n)
{
    char d1[32], d2[32];
    int64_t loops = 0;
    bool uncounted = false, counted = false;
    for (int i = 0; i < f->n_threads; i++) {
        const fthread_stats_t *s = &f->th[i].st;
        loops += s->n_until;
        uncounted |= s->n_until && s->until_kind == 1 && s->until_count < 0;
        counted |= s->n_until && s->until_kind == 1 && s->until_count >= 0;
    }
    buf[0] = '\0';
    if (!loops)
        return buf;
    size_t k = (size_t)snprintf(buf, n,
                                " %" PRId64 " loop%s until an Event is set run as long as the "
                                "setter takes (they move in a what-if)",
                                loops, loops == 1 ? "" : "s");
    if (counted && k < n)
        k += (size_t)snprintf(buf + k, n - k,
                              ", a pure Python one in turns of its recorded Python over its "
                              "polls, at least %s",
                              gs_format_ns(UNTIL_MIN_CHUNK_NS, d1, sizeof d1));
    if (uncounted && k < n)
        k += (size_t)snprintf(buf + k, n - k,
                              ", a pure Python one whose polls the recording does not count "
                              "in turns of a fixed %s",
                              gs_format_ns(UNTIL_CHUNK_NS, d2, sizeof d2));
    if (k < n)
        snprintf(buf + k, n - k, ";");
    return buf;
}
