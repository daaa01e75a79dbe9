/* emit.c - the fitted scenario as a readable scenario file.
 *
 * Built as a cJSON tree, printed by hand so that what is short stays on one
 * line (an op, a repeat of a few ops): a 10-second loop is tens of lines.
 * The description names the recording and says, thread by thread, what its
 * program was fitted from, and lists every approximation. */
#include "exittail.h"
#include "fit_int.h"
#include "recfile_int.h"

#include "gilsim/scenario.h"
#include "gilsim/units.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "queue" when there is one, else "queue-1", "queue-2"...; after those, the
 * queues carrying matched wake-ups (waits.c) by their own names. */
static const char *queue_name(const fscenario_t *f, int q, char *buf, size_t n)
{
    if (q >= f->n_queues)
        snprintf(buf, n, "%s", f->queue_names[q]);
    else if (f->n_queues <= 1)
        snprintf(buf, n, "queue");
    else
        snprintf(buf, n, "queue-%d", q + 1);
    return buf;
}
#define LINE_MAX_COLS 96

typedef struct sbuf {
    char *s;
    size_t n, cap;
    bool oom;
} sbuf_t;

static void sb_add(sbuf_t *b, const char *s, size_t n)
{
    if (b->oom)
        return;
    if (b->n + n + 1 > b->cap) {
        size_t nc = b->cap ? b->cap * 2 : 4096;
        while (nc < b->n + n + 1)
            nc *= 2;
        char *ns = realloc(b->s, nc);
        if (!ns) {
            b->oom = true;
            return;
        }
        b->s = ns;
        b->cap = nc;
    }
    memcpy(b->s + b->n, s, n);
    b->n += n;
    b->s[b->n] = 0;
}

static void sb_printf(sbuf_t *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void sb_printf(sbuf_t *b, const char *fmt, ...)
{
    char tmp[1024];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(tmp, sizeof tmp, fmt, ap);
    va_end(ap);
    if (n > 0)
        sb_add(b, tmp, (size_t)n < sizeof tmp ? (size_t)n : sizeof tmp - 1);
}

/* ---- JSON tree ------------------------------------------------------------ */

static cJSON *dur(int64_t ns)
{
    char buf[48];
    return cJSON_CreateString(gs_format_ns_exact(ns < 0 ? 0 : ns, buf, sizeof buf));
}

static cJSON *dur_of(const fop_t *op)
{
    if (op->dist == FD_UNIFORM) {
        cJSON *o = cJSON_CreateObject(), *a = cJSON_AddArrayToObject(o, "uniform");
        cJSON_AddItemToArray(a, dur(op->lo));
        cJSON_AddItemToArray(a, dur(op->hi));
        return o;
    }
    return dur(op->dur);
}

static cJSON *ops_json(const fscenario_t *f, const fop_t *v, int n)
{
    char qn[72];
    cJSON *a = cJSON_CreateArray();
    for (int i = 0; a && i < n; i++) {
        const fop_t *op = &v[i];
        cJSON *o = cJSON_CreateObject();
        switch (op->kind) {
        case FOP_CPU: cJSON_AddItemToObject(o, "cpu", dur_of(op)); break;
        case FOP_SLEEP: cJSON_AddItemToObject(o, "sleep", dur_of(op)); break;
        case FOP_IO: cJSON_AddItemToObject(o, "io", dur_of(op)); break;
        case FOP_CCALL:
            cJSON_AddItemToObject(o, "c_call", dur_of(op));
            cJSON_AddBoolToObject(o, "releases_gil", !op->keeps_gil);
            if (op->post)
                cJSON_AddStringToObject(o, "posts", queue_name(f, op->post - 1, qn, sizeof qn));
            break;
        case FOP_PUT:
            cJSON_AddStringToObject(o, "put", queue_name(f, op->target, qn, sizeof qn));
            if (op->end)
                cJSON_AddTrueToObject(o, "end");
            break;
        case FOP_GET: cJSON_AddStringToObject(o, "get", queue_name(f, op->target, qn, sizeof qn)); break;
        case FOP_ACQUIRE:
        case FOP_RELEASE:
            snprintf(qn, sizeof qn, "lock-%d", op->target + 1);
            cJSON_AddStringToObject(o, op->kind == FOP_ACQUIRE ? "acquire" : "release", qn);
            break;
        case FOP_START: cJSON_AddStringToObject(o, "start", f->th[op->target].name); break;
        case FOP_JOIN: cJSON_AddStringToObject(o, "join", f->th[op->target].name); break;
        case FOP_REPEAT:
            cJSON_AddNumberToObject(o, "repeat", (double)op->count);
            cJSON_AddItemToObject(o, "do", ops_json(f, op->body, op->n_body));
            break;
        case FOP_SET:
            cJSON_AddStringToObject(o, "set", fit_event_name(f, op->target, qn, sizeof qn));
            break;
        case FOP_UNTIL:
            cJSON_AddStringToObject(o, "until", fit_event_name(f, op->target, qn, sizeof qn));
            cJSON_AddItemToObject(o, "do", ops_json(f, op->body, op->n_body));
            break;
        case FOP_CONSUME:
            cJSON_AddStringToObject(o, "consume", queue_name(f, op->target, qn, sizeof qn));
            cJSON_AddItemToObject(o, "do", ops_json(f, op->body, op->n_body));
            break;
        default: break;
        }
        cJSON_AddItemToArray(a, o);
    }
    return a;
}

static const char *human(int64_t ns, char *buf, size_t n)
{
    return gs_format_ns(ns, buf, n);
}

/* One thread's line of the description. */
/* A thread's sends, and those of them that wake their reader themselves. */
static void send_note(sbuf_t *b, const fthread_stats_t *s)
{
    if (s->n_send)
        sb_printf(b, "; %" PRId64 " socket sends fitted as C calls releasing the GIL (a send "
                     "returns without sleeping: no wake-up after it)",
                  s->n_send);
    if (s->n_send_post)
        sb_printf(b, "; %" PRId64 " of them wake their reader at their end, off the GIL "
                     "(posts), as the kernel does inside the send",
                  s->n_send_post);
}

static void describe_thread(sbuf_t *b, const fscenario_t *f, int i)
{
    const fthread_t *t = &f->th[i];
    const fthread_stats_t *s = &t->st;
    char b1[32], b2[32];
    sb_printf(b, "\n- %s: ", t->name);
    if (t->starter >= 0)
        sb_printf(b, "started by %s; ", f->th[t->starter].name);
    else if (t->start_at > 0)
        sb_printf(b, "starts at %s (no starter seen); ", human(t->start_at, b1, sizeof b1));
    sb_printf(b, "Python %s in %" PRId64 " run%s", human(s->sum[FOP_CPU], b1, sizeof b1),
              s->n[FOP_CPU], s->n[FOP_CPU] == 1 ? "" : "s");
    if (s->n_forced)
        sb_printf(b, " (cut %" PRId64 " times by forced switches)", s->n_forced);
    static const struct {
        int k;
        const char *what;
    } kinds[] = {{FOP_SLEEP, "sleeps"}, {FOP_IO, "I/O calls"}, {FOP_CCALL, "C calls"}};
    for (size_t k = 0; k < sizeof kinds / sizeof kinds[0]; k++)
        if (s->n[kinds[k].k])
            sb_printf(b, ", %" PRId64 " %s (%s)", s->n[kinds[k].k], kinds[k].what,
                      human(s->sum[kinds[k].k], b2, sizeof b2));
    if (s->n[FOP_PUT] || s->n[FOP_GET])
        sb_printf(b, ", %" PRId64 " puts and %" PRId64 " gets", s->n[FOP_PUT], s->n[FOP_GET]);
    if (s->n[FOP_ACQUIRE] || s->n[FOP_RELEASE])
        sb_printf(b, ", %" PRId64 " Lock acquires and %" PRId64 " releases", s->n[FOP_ACQUIRE],
                  s->n[FOP_RELEASE]);
    if (s->n[FOP_START])
        sb_printf(b, ", starts %" PRId64 " threads", s->n[FOP_START]);
    if (s->n[FOP_JOIN])
        sb_printf(b, ", joins %" PRId64, s->n[FOP_JOIN]);
    if (s->n[FOP_SET])
        sb_printf(b, ", sets an event %" PRId64 " time%s", s->n[FOP_SET],
                  s->n[FOP_SET] == 1 ? "" : "s");
    if (s->os_cpu_ns > 0)
        sb_printf(b, "; the kernel ran it %s of its %s of Python and C (the rest it had no "
                     "core, while %.1f of its program's threads wanted one at once on "
                     "average, on %d): its cpu and c_call ops are scaled to that (x%.2f), "
                     "the model adds the time without a core",
                  human(s->os_cpu_ns, b1, sizeof b1), human(s->raw_cpu_ns, b2, sizeof b2),
                  s->demand, f->cores, s->cpu_scale);
    if (s->os_cpu_ns > 0 && s->c_late_ns > 0)
        sb_printf(b, "; of the time it had no core, %s came first from its C calls that ran "
                     "longer than their name's median (a C call runs as long beside others: "
                     "the excess was a wait for a core), the scaling takes the rest",
                  human(s->c_late_ns, b1, sizeof b1));
    if (s->n_matched_wait)
        sb_printf(b, "; %" PRId64 " lock/event/condition waits woken by another thread's "
                     "release (gets)", s->n_matched_wait);
    if (s->n_matched_recv)
        sb_printf(b, "; %" PRId64 " socket recvs woken by the peer's send (gets)",
                  s->n_matched_recv);
    send_note(b, s);
    if (s->n_io_c)
        sb_printf(b, "; %" PRId64 " I/O calls off the GIL for less than a wake-up fitted as C "
                     "calls releasing it (they did not sleep: no wake-up after them)",
                  s->n_io_c);
    if (s->send_late_ns > 0)
        sb_printf(b, "; its sends' time beyond their median (%s) was time without a core, "
                     "%s in all, which its kernel run delay covers: each is at most the median",
                  human(s->send_median_ns, b1, sizeof b1), human(s->send_late_ns, b2, sizeof b2));
    if (s->n_approx_wait)
        sb_printf(b, "; %" PRId64 " lock/event/condition waits fitted as sleeps",
                  s->n_approx_wait);
    if (s->n_unnamed)
        sb_printf(b, "; %" PRId64 " of its C calls unnamed", s->n_unnamed);
    if (s->n_inferred_c)
        sb_printf(b, "; %" PRId64 " C calls keeping the GIL inferred", s->n_inferred_c);
    if (s->n_preempted)
        sb_printf(b, "; %" PRId64 " drop requests unanswered for 1 to 12 ms left Python work "
                     "(its kernel run delay could be a lost core)", s->n_preempted);
    char note[400], cn[160];
    sb_printf(b, "%s%s", fit_consume_note(s, cn, sizeof cn), fit_until_note(f, i, note, sizeof note));
    sb_add(b, ".", 1);
}

/* description() step 1: the paragraph saying where the recording comes from,
 * how its ops were fitted, and where the machine costs come from. */
static void describe_origin(sbuf_t *b, const gsr_recording_t *r, const fscenario_t *f)
{
    char b1[32], costs[900], c1[32], c2[32], c3[32], c4[32], c5[32], c6[32], capped[300] = "";
    if (f->calibrated && f->timer_jitter_read_ns > f->timer_jitter_ns)
        snprintf(capped, sizeof capped,
                 " (measured %s, whose half is more than that median lateness: a long late "
                 "tail, which the model's even draw cannot have with the same median, so the "
                 "fit keeps the median and writes twice it)",
                 human(f->timer_jitter_read_ns, c6, sizeof c6));
    if (f->calibrated)
        snprintf(costs, sizeof costs,
                 "Machine costs measured on the host at record time: wake-up latency %s, "
                 "context switch %s; a 1 ms sleep ended %s late at the median: Linux's timer "
                 "slack (%s), half of a timer jitter of %s%s, and %s more (timer_late: a timer "
                 "wakes its sleeper on the CPU it slept on, and that CPU's idle exit is in it).",
                 human(f->wakeup_ns, c1, sizeof c1), human(f->context_switch_ns, c2, sizeof c2),
                 human(r->cal_wake_cold_ns, b1, sizeof b1), human(f->timer_slack_ns, c3, sizeof c3),
                 human(f->timer_jitter_ns, c4, sizeof c4), capped,
                 human(f->timer_late_ns, c5, sizeof c5));
    else
        snprintf(costs, sizeof costs,
                 "Machine costs (wake-up latency, context switch, timer slack) are gilsim's "
                 "defaults: the recording holds no calibration of them (recorded by an older "
                 "gilsim).");
    sb_printf(b, "Fitted by gilsim fit from the recording %s: `%.300s`, recorded %s with "
                 "Python %d.%d (%s) on %d cores, %s long. Each thread's Python work between "
                 "two voluntary releases is one cpu op; I/O, sleeps and C calls keep their "
                 "measured durations without the GIL wait after them (the model's part), "
                 "less what the model adds after each (after I/O the wake-up latency; "
                 "after a sleep the timer's slack, jitter and lateness).",
              r->path, r->command, *r->recorded_at ? r->recorded_at : "(no date)", r->py_major,
              r->py_minor, *r->executable ? r->executable : "?", r->cores ? r->cores : 1,
              human(r->duration_ns, b1, sizeof b1));
    sb_printf(b, " %s", costs); /* apart: both would pass sb_printf's 1024 bytes */
    if (f->n_wake_idle > 0) { /* machine.wakeup_idle, the recording's curve */
        sb_printf(b, " A woken thread's wake-up by how long its core had idled (measured too):");
        for (int k = 0; k < f->n_wake_idle; k++)
            sb_printf(b, "%s %s after %s", k ? "," : "", human(f->wake_idle_ns[k], c1, sizeof c1),
                      human(f->wake_idle_depth_ns[k], c2, sizeof c2));
        sb_printf(b, ".");
    }
    if (f->timer_arm_ns >= 0) /* machine.timer_arm, measured too */
        sb_printf(b,
                  " Arming a timer that is its core's first (a short timed wait's) cost "
                  "%s at record time.",
                  human(f->timer_arm_ns, c1, sizeof c1));
    char ipi[512];
    fit_wake_ipi_note(f, ipi, sizeof ipi);
    sb_add(b, ipi, strlen(ipi));
    char place[600];
    fit_wake_place_note(f, place, sizeof place);
    sb_add(b, place, strlen(place));
    char race[1400];
    fit_race_note(f, race, sizeof race);
    sb_add(b, race, strlen(race));
    char ends[500];
    fit_exit_note(r, f, ends, sizeof ends);
    sb_add(b, ends, strlen(ends));
    int n_new, n_old; /* read off the recording's starts (startdrop.c) */
    fit_start_drops(r, &n_new, &n_old);
    if (n_new + n_old > 0)
        sb_printf(b,
                  " At %d of the recording's %d Thread.starts beside a thread waiting for the "
                  "GIL the new thread took the GIL its starter dropped%s.",
                  n_new, n_new + n_old,
                  fit_behind_new_thread(n_new, n_old)
                      ? "; the fit's one run queue gives it to the waiter, `--set "
                        "machine.behind_new_thread=true` to the new thread as recorded (not "
                        "written: at 20 ms the real waiters won most such starts)"
                      : "; the waiter took it at the others, as the fit's one run queue gives it");
}

/* description() step 2: one line per thread while they fit in the scenario's
 * description (GS_SCEN_MAX_DESCRIPTION, with room left for the
 * approximations), then a count of the threads left out. */
static void describe_threads(sbuf_t *b, const fscenario_t *f)
{
    size_t keep = GS_SCEN_MAX_DESCRIPTION - 2000; /* room for the approximations */
    int shown = 0;
    for (int i = 0; i < f->n_threads; i++) {
        size_t before = b->n;
        describe_thread(b, f, i);
        if (b->n > keep - 200 && !b->oom) {
            b->n = before;
            b->s[b->n] = 0;
            break;
        }
        shown++;
    }
    if (shown < f->n_threads)
        sb_printf(b, "\n- ... and %d more threads.", f->n_threads - shown);
}

/* description() step 3a: what was approximated about the queues and the
 * other side of waits, C calls, starts and joins. */
static void describe_matching_approx(sbuf_t *b, const fscenario_t *f, int64_t approx,
                                     int64_t unnamed)
{
    if (f->n_queues == 1)
        sb_printf(b, " every Queue.put/get is on one queue \"queue\" (the recording does not "
                     "say which queue)%s;",
                  f->queue_maxsize[0] ? ", its maxsize the most items seen in it" : ", unbounded");
    if (f->n_queues > 1)
        sb_printf(b, " the recording does not say which queue a Queue.put/get was on: %d queues "
                     "are told apart by who woke whom (a get that blocked returned after another "
                     "thread's put, a full put after another thread's get), a maxsize is the most "
                     "items seen in a queue whose put blocked;", f->n_queues);
    for (int k = 0; k < f->n_queues && k < FIT_MAX_QUEUES; k++) { /* recheck.c */
        char qn[72], d[32];
        if (f->queue_recheck_ns[k] > 0)
            sb_printf(b, " a thread woken in a put/get on %s that found it still full or empty "
                         "held the GIL %s before it waited again (its recheck: the median of the "
                         "recording's %lld such holds);",
                      queue_name(f, k, qn, sizeof qn), human(f->queue_recheck_ns[k], d, sizeof d),
                      (long long)f->n_rechecks[k]);
    }
    if (f->n_queue_wakes) { /* qcut.c */
        char d[32];
        sb_printf(b,
                  " the GIL time of %lld wakes inside Queue calls (%s in all: a notify's "
                  "futex wake, a drop's signal, each at most machine.futex + wake_ipi) and of "
                  "their vain re-checks is not Python: the model charges its own;",
                  (long long)f->n_queue_wakes, human(f->queue_wake_ns, d, sizeof d));
    }
    if (f->n_wake_queues)
        sb_printf(b, " a wait on a lock, event or condition that the recording matches to the "
                     "release that ended it (the last release of the same semaphore by another "
                     "thread while it waited) is a get on a queue and that release a put on it, "
                     "so it moves in a what-if: one queue per waiting thread, \"lock-N for "
                     "THREAD\" for a lock's waits, \"THREAD API\" for a thread's "
                     "Condition/Event waits (one stream of wake-ups: which future or event it "
                     "was for is not kept), \"socket A to B\" for B's recvs on a socket that "
                     "A's sends on its peer ended (a socket and its peer are the pair whose "
                     "sends most often end each other's recvs);");
    char lg[32];
    if (f->n_locks)
        sb_printf(b, " with --lock-race, a wait on a Lock is an acquire of it (\"lock-N\") and "
                     "every recorded release of it that found a thread waiting a release, so "
                     "who takes it after a release is the model's race; the recording does not "
                     "see acquires and releases nobody waited for: %" PRId64 " were inserted to "
                     "pair them, an unseen acquire %s of Python after the thread's previous "
                     "release (%s), an unseen release as long before its next blocked "
                     "acquire;",
                  f->n_lock_fixes, human(f->lock_gap_ns, lg, sizeof lg),
                  f->lock_gap_n ? "the releaser's own time to its next try, read off the "
                                  "recorded hand-offs whose woken waiter ran on its CPU; each "
                                  "recorded release-to-try run is as much shorter"
                                : "the median from a release to the same thread's next blocked "
                                  "acquire");
    if (f->lock_refused)
        sb_printf(b, " --lock-race was not applied: paired, a thread would have held a lock "
                     "while it waited for another thread (a get, a join, another lock), which "
                     "the recorded order cannot promise to end, so the Lock keeps its recorded "
                     "order;");
    if (approx)
        sb_printf(b, " %" PRId64 " waits on locks, events or conditions whose other side the "
                     "recording does not show are sleeps of the time they blocked (they do "
                     "not move in a what-if);", approx);
    if (unnamed)
        sb_printf(b, " %" PRId64 " GIL releases by C code no call names are C calls "
                     "releasing the GIL;", unnamed);
    if (f->n_unmatched_starts)
        sb_printf(b, " %" PRId64 " threads with no Thread.start seen start at their recorded "
                     "time;", f->n_unmatched_starts);
    if (f->n_unmatched_joins)
        sb_printf(b, " %" PRId64 " Thread.join calls matched no ended thread and are sleeps;",
                  f->n_unmatched_joins);
    char until[300], pool[400];
    sb_printf(b, "%s", fit_until_approx(f, until, sizeof until));
    sb_printf(b, "%s", fit_pool_note(f, pool, sizeof pool));
    if (f->n_sentinel_queues)
        sb_printf(b, " the consumers of %d queue%s end on their producer's last puts, written "
                     "as end markers (--sentinels): how many items each takes is the run's;",
                  f->n_sentinel_queues, f->n_sentinel_queues == 1 ? "" : "s");
}

/* description() step 3b: what was approximated about durations (core
 * contention scaled out or kept) and about the recording itself (threads not
 * from threading, inferred C calls, a partial run). */
static void describe_recording_approx(sbuf_t *b, const gsr_recording_t *r,
                                      const fscenario_t *f, int64_t inferred)
{
    if (f->n_scaled)
        sb_printf(b, " the Python work and C calls of %d thread%s %s scaled down to the "
                     "kernel's CPU time of %s (the time without a core is the model's to add, "
                     "with the other load; --raw-cpu keeps every measured duration);",
                  f->n_scaled, f->n_scaled == 1 ? "" : "s", f->n_scaled == 1 ? "is" : "are",
                  f->n_scaled == 1 ? "it" : "each");
    if (r->threads_not_from_threading)
        sb_printf(b, " %d thread%s not started by threading (%s calls are unnamed);",
                  r->threads_not_from_threading,
                  r->threads_not_from_threading == 1 ? " was" : "s were",
                  r->threads_not_from_threading == 1 ? "its" : "their");
    if (!r->calls_all)
        sb_printf(b,
                  " C code that keeps the GIL is named only with --calls all: %" PRId64
                  " such calls were inferred where a drop request went unanswered for 1 ms "
                  "or more, from the start of the timed wait that set it (the hold before "
                  "that wait, and shorter ones, are Python work);",
                  inferred);
    if (r->partial)
        sb_printf(b, " the recording is partial (%.200s): the program did not run to its end;",
                  r->partial_reason);
    if (f->race_why == FIT_RACE_FITTED)
        sb_printf(b, " the race between a drop request and the drop is one chance for the whole "
                     "run (requester_first), the recorded interval's: a what-if at another "
                     "interval keeps it, where a real requester whose CPU idled less is asleep "
                     "at the signal less often;");
}

/* description() step 3: the "Approximated:" list, totals summed over the
 * threads, its last ';' turned into '.', or "nothing." when it is empty. */
static void describe_approximations(sbuf_t *b, const gsr_recording_t *r, const fscenario_t *f)
{
    int64_t approx = 0, unnamed = 0, inferred = 0;
    for (int i = 0; i < f->n_threads; i++) {
        approx += f->th[i].st.n_approx_wait;
        unnamed += f->th[i].st.n_unnamed;
        inferred += f->th[i].st.n_inferred_c;
    }
    sb_printf(b, "%s", "\nApproximated:");
    size_t n0 = b->n;
    describe_matching_approx(b, f, approx, unnamed);
    describe_recording_approx(b, r, f, inferred);
    if (b->n == n0)
        sb_printf(b, "%s", " nothing.");
    else
        b->s[b->n - 1] = '.';
}

/* The scenario's description: origin, threads, approximations, cut short of
 * GS_SCEN_MAX_DESCRIPTION on a UTF-8 character boundary so it never exceeds
 * the loader's limit.
 * Returns a malloc'd string, or NULL when out of memory. */
static char *description(const gsr_recording_t *r, const fscenario_t *f)
{
    sbuf_t b = {0};
    describe_origin(&b, r, f);
    char load[1800];
    fit_load_note(f, load, sizeof load);
    sb_add(&b, load, strlen(load));
    describe_threads(&b, f);
    describe_approximations(&b, r, f);
    if (b.n > GS_SCEN_MAX_DESCRIPTION - 10 && !b.oom) { /* never over the limit */
        b.n = GS_SCEN_MAX_DESCRIPTION - 10;
        while (b.n && ((unsigned char)b.s[b.n] & 0xC0) == 0x80)
            b.n--;
        b.s[b.n] = 0;
    }
    return b.oom ? (free(b.s), NULL) : b.s;
}

/* machine.wakeup_idle: the recording's wake-up curve, when the fit took it
 * (gilsim fit --wake-curve, fit_machine_costs). */
static void add_wake_curve(cJSON *mach, const fscenario_t *f)
{
    if (f->n_wake_idle <= 0)
        return;
    cJSON *curve = cJSON_AddArrayToObject(mach, "wakeup_idle");
    for (int k = 0; k < f->n_wake_idle; k++) {
        cJSON *pt = cJSON_CreateArray();
        cJSON_AddItemToArray(pt, dur(f->wake_idle_depth_ns[k]));
        cJSON_AddItemToArray(pt, dur(f->wake_idle_ns[k]));
        cJSON_AddItemToArray(curve, pt);
    }
}

/* The machine block (and the top-level cpus of a recording confined to
 * fewer CPUs than the host had): the host's cores and costs. */
static void add_machine(cJSON *root, const gsr_recording_t *r, const fscenario_t *f)
{
    int confined;
    cJSON *mach = cJSON_AddObjectToObject(root, "machine");
    cJSON_AddNumberToObject(mach, "cores", fit_machine_cores(r, f, &confined));
    if (confined == 1) {
        cJSON_AddNumberToObject(root, "cpus", 0);
    } else if (confined > 1) {
        char cpus[32];
        snprintf(cpus, sizeof cpus, "0-%d", confined - 1);
        cJSON_AddStringToObject(root, "cpus", cpus);
    }
    if (f->calibrated) {
        cJSON_AddItemToObject(mach, "context_switch", dur(f->context_switch_ns));
        cJSON_AddItemToObject(mach, "wakeup_latency", dur(f->wakeup_ns));
        cJSON_AddItemToObject(mach, "timer_slack", dur(f->timer_slack_ns));
        cJSON_AddItemToObject(mach, "timer_jitter", dur(f->timer_jitter_ns));
        if (f->timer_late_ns > 0) { /* one point: flat for every timer length */
            cJSON *late = cJSON_AddArrayToObject(mach, "timer_late"), *pt = cJSON_CreateArray();
            cJSON_AddItemToArray(pt, dur(1000000));
            cJSON_AddItemToArray(pt, dur(f->timer_late_ns));
            cJSON_AddItemToArray(late, pt);
        }
        if (f->timer_arm_ns >= 0)
            cJSON_AddItemToObject(mach, "timer_arm", dur(f->timer_arm_ns));
        if (f->eevdf_slice_ns > 0)
            cJSON_AddItemToObject(mach, "eevdf_slice", dur(f->eevdf_slice_ns));
        if (f->wake_ipi_ns >= 0) /* read off the recording (ipi.c) */
            cJSON_AddItemToObject(mach, "wake_ipi", dur(f->wake_ipi_ns));
        add_wake_curve(mach, f);
    }
    fit_race_json(mach, f); /* read off the recording (race.c, racecurve.c) */
    if (f->place_why == FIT_PLACE_FITTED && f->place_pct > 0) /* wakeplace.c */
        cJSON_AddNumberToObject(mach, "wake_affine", f->place_pct / 100.0);
    /* Said, not left to the default: a timer wakes its sleeper on the CPU
     * it slept on, its idle exit in the lateness above (docs/cli.md). */
    cJSON_AddStringToObject(mach, "timer_wake", "local");
    /* Said, not left to the default: which queue a fit uses is the fit's
     * choice (docs/cli.md, gilsim fit), whatever the lessons' machine has. */
    cJSON_AddStringToObject(mach, "run_queues", "shared");
}

static cJSON *build(const gsr_recording_t *r, const fscenario_t *f)
{
    cJSON *root = cJSON_CreateObject();
    char name[200];
    snprintf(name, sizeof name, "fitted to %.170s", *r->script ? r->script : r->path);
    cJSON_AddStringToObject(root, "name", name);
    char *desc = description(r, f);
    if (!desc) {
        cJSON_Delete(root);
        return NULL;
    }
    cJSON_AddStringToObject(root, "description", desc);
    free(desc);
    int64_t d = r->duration_ns, until = 10 * d + INT64_C(1000000000);
    until = until < INT64_C(60000000000) ? INT64_C(60000000000) : until;
    until = until > GS_MAX_DURATION_NS ? GS_MAX_DURATION_NS : until;
    cJSON_AddItemToObject(root, "until", dur(until));
    add_machine(root, r, f);
    cJSON *py = cJSON_AddObjectToObject(root, "python");
    if (r->py_major == 3 && r->py_minor >= 2 && r->py_minor <= 15) {
        char v[16];
        snprintf(v, sizeof v, "3.%d%s", r->py_minor,
                 r->gil_disabled && r->py_minor >= 13 ? "t" : "");
        cJSON_AddStringToObject(py, "version", v);
    }
    if (r->switch_interval_ns > 0)
        cJSON_AddItemToObject(py, "switch_interval", dur(r->switch_interval_ns));
    fit_exit_json(py, f); /* read off the recording's thread ends (exittail.c) */
    if (f->n_events) {
        cJSON *ev = cJSON_AddArrayToObject(root, "events");
        char en[24];
        for (int k = 0; k < f->n_events; k++)
            cJSON_AddItemToArray(ev, cJSON_CreateString(fit_event_name(f, k, en, sizeof en)));
    }
    if (f->n_locks) {
        cJSON *lk = cJSON_AddArrayToObject(root, "locks");
        char ln[24];
        for (int k = 0; k < f->n_locks; k++) {
            snprintf(ln, sizeof ln, "lock-%d", k + 1);
            cJSON_AddItemToArray(lk, cJSON_CreateString(ln));
        }
    }
    if (f->n_queues + f->n_wake_queues > 0 &&
        (f->n_queues + f->n_wake_queues >= 64 ||
         f->unused_queues != ((uint64_t)1 << (f->n_queues + f->n_wake_queues)) - 1)) {
        cJSON *q = cJSON_AddObjectToObject(root, "queues");
        char qn[72];
        for (int k = 0; k < f->n_queues + f->n_wake_queues; k++) {
            if (k < 64 && (f->unused_queues >> k & 1))
                continue; /* its waits became acquires (--lock-race) */
            cJSON *one = cJSON_AddObjectToObject(q, queue_name(f, k, qn, sizeof qn));
            cJSON_AddNumberToObject(one, "maxsize", (double)f->queue_maxsize[k]);
            if (k < f->n_queues && f->queue_recheck_ns[k] > 0) /* recheck.c */
                cJSON_AddItemToObject(one, "recheck", dur(f->queue_recheck_ns[k]));
        }
    }
    cJSON *ths = cJSON_AddArrayToObject(root, "threads");
    for (int i = 0; i < f->n_threads; i++) {
        const fthread_t *t = &f->th[i];
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "name", t->name);
        if (!t->autostart)
            cJSON_AddFalseToObject(o, "autostart");
        else if (t->start_at > 0)
            cJSON_AddItemToObject(o, "start_at", dur(t->start_at));
        cJSON_AddItemToObject(o, "program", ops_json(f, t->ops.v, t->ops.n));
        cJSON_AddItemToArray(ths, o);
    }
    cJSON *procs = fit_load_json(f, until);
    if (procs)
        cJSON_AddItemToObject(root, "processes", procs);
    return root;
}

/* ---- printing -------------------------------------------------------------- */

static void put_indent(sbuf_t *b, int n)
{
    static const char sp[] = "                                                                ";
    while (n > 0) {
        int k = n < 64 ? n : 64;
        sb_add(b, sp, (size_t)k);
        n -= k;
    }
}

/* x on one line when it fits in LINE_MAX_COLS from column col, else one
 * member or element per line. */
static void print_json(sbuf_t *b, const cJSON *x, int indent, int col)
{
    char *one = cJSON_PrintUnformatted(x);
    if (!one) {
        b->oom = true;
        return;
    }
    size_t n = strlen(one);
    bool container = cJSON_IsObject(x) || cJSON_IsArray(x);
    if (!container || (int)n + col <= LINE_MAX_COLS || !x->child) {
        sb_add(b, one, n);
        free(one);
        return;
    }
    free(one);
    bool obj = cJSON_IsObject(x);
    sb_add(b, obj ? "{\n" : "[\n", 2);
    for (const cJSON *c = x->child; c; c = c->next) {
        put_indent(b, indent + 2);
        int at = indent + 2;
        if (obj) {
            cJSON *k = cJSON_CreateString(c->string);
            char *ks = k ? cJSON_PrintUnformatted(k) : NULL;
            cJSON_Delete(k);
            if (!ks) {
                b->oom = true;
                return;
            }
            sb_add(b, ks, strlen(ks));
            sb_add(b, ": ", 2);
            at += (int)strlen(ks) + 2;
            free(ks);
        }
        print_json(b, c, indent + 2, at);
        sb_add(b, c->next ? ",\n" : "\n", c->next ? 2 : 1);
    }
    put_indent(b, indent);
    sb_add(b, obj ? "}" : "]", 1);
}

int fit_emit(const struct gsr_recording *r, const fscenario_t *f, char **json, size_t *len)
{
    cJSON *root = build(r, f);
    if (!root)
        return -1;
    sbuf_t b = {0};
    print_json(&b, root, 0, 0);
    sb_add(&b, "\n", 1);
    cJSON_Delete(root);
    if (b.oom) {
        free(b.s);
        return -1;
    }
    *json = b.s;
    *len = b.n;
    return 0;
}

int fit_model(const struct gsr_recording *r, const fscenario_t *f, const char *name,
              struct gs_model **m)
{
    char *json = NULL;
    size_t len = 0;
    gs_diag_t d;
    memset(&d, 0, sizeof d);
    *m = NULL;
    int rc = fit_emit(r, f, &json, &len);
    if (rc == 0 && gs_scenario_load_string(name, json, len, NULL, 0, m, &d) != 0)
        rc = -1;
    free(json);
    return rc;
}
