/* report.c - what `gilsim run` prints: the summary table and a text timeline.
 *
 * The table has a row per thread and a block of totals; the timeline a line
 * per thread with one character per time bucket, the state that covers most
 * of the bucket. Colour (ANSI, the gs_state_color palette as 24-bit
 * backgrounds) only when the caller says the stream is a terminal. */
#include "cli.h"

#include <stdlib.h>
#include <string.h>

#define BOLD(c) ((c) ? "\033[1m" : "")
#define RESET(c) ((c) ? "\033[0m" : "")

static const char *fmt(int64_t ns, char *buf, size_t n)
{
    return gs_format_ns(ns, buf, n);
}

void cli_print_summary(FILE *out, const gs_trace_t *t, const gs_stats_t *s, bool color)
{
    char b[8][32], nb[1300], esc[400];
    const char *name = gs_escape_controls(gs_trace_name(t), nb, sizeof nb, false);
    fprintf(out, "%s%s%s  (seed %llu, %d thread%s, %d core%s)", BOLD(color),
            *name ? name : "scenario", RESET(color), (unsigned long long)gs_trace_seed(t),
            s->n_threads, s->n_threads == 1 ? "" : "s", s->n_cores, s->n_cores == 1 ? "" : "s");
    /* The python.version presets in effect: the run is that version's model. */
    char vers[256];
    int nv;
    gs_trace_python_versions(t, vers, sizeof vers, &nv);
    if (nv)
        fprintf(out, "  python %s (preset%s)", vers, nv > 1 ? "s" : "");
    putc('\n', out);
    int w = 6;
    for (int i = 0; i < s->n_threads; i++) {
        int l = (int)strlen(gs_escape_controls(s->threads[i].name, esc, sizeof esc, false));
        if (l > w)
            w = l < 24 ? l : 24;
    }
    fprintf(out, "\n%s%-*s %9s %9s %9s %9s %9s %9s %9s %9s%s\n", BOLD(color), w, "thread", "CPU",
            "GIL held", "GIL wait", "core wait", "I/O", "I/O>GIL", "p99", "releases", RESET(color));
    fprintf(out, "%-*s %9s %9s %9s %9s %9s %9s %9s %9s\n", w, "", "", "", "", "", "+sleep",
            "p50", "", "vol/forc");
    for (int i = 0; i < s->n_threads; i++) {
        const gs_thread_stats_t *ts = &s->threads[i];
        char sw[32];
        snprintf(sw, sizeof sw, "%lld/%lld", (long long)ts->voluntary_switches,
                 (long long)ts->forced_switches);
        fprintf(out, "%-*.*s %9s %9s %9s %9s %9s %9s %9s %9s\n", w, w,
                gs_escape_controls(ts->name, esc, sizeof esc, false),
                fmt(ts->cpu_ns, b[0], 32), fmt(ts->gil_held_ns, b[1], 32),
                fmt(ts->gil_wait_ns, b[2], 32), fmt(ts->core_wait_ns, b[3], 32),
                fmt(ts->io_ns + ts->sleep_ns, b[4], 32),
                ts->io_to_gil.n ? fmt(ts->io_to_gil.p50, b[5], 32) : "-",
                ts->io_to_gil.n ? fmt(ts->io_to_gil.p99, b[6], 32) : "-", sw);
    }
    /* A recording has no core lanes (the kernel's scheduler is not read):
     * its cores' utilisation is unknown, not 0%. */
    char cores[32] = "not recorded";
    if (gs_trace_facts(t) & GS_FACT_CORES)
        snprintf(cores, sizeof cores, "%.1f%%", 100 * s->cores_utilisation);
    fprintf(out, "\n%smakespan%s %s   GIL utilisation %.1f%%   cores %s   "
                 "speed-up vs serial %.2fx   fairness (Jain) %.2f\n",
            BOLD(color), RESET(color), fmt(s->makespan_ns, b[0], 32), 100 * s->gil_utilisation,
            cores, s->speedup_vs_serial, s->fairness_jain);
    fprintf(out, "GIL switches %lld (forced %lld, drop requests %lld)   preemptions %lld   "
                 "events %lld\n",
            (long long)s->gil_switches, (long long)s->gil_forced_switches,
            (long long)s->gil_drop_requests, (long long)s->preemptions, (long long)s->events);
    /* The OS textbook's view: from arrival (start) to finish, to first
     * running, and the time runnable but not running (core + GIL waits). */
    int wo = w > 7 ? w : 7;
    fprintf(out, "\n%-*s %10s %9s %9s\n", wo, "OS view", "turnaround", "response", "waiting");
    for (int i = 0; i < s->n_threads; i++) {
        const gs_thread_stats_t *ts = &s->threads[i];
        fprintf(out, "%-*.*s %10s %9s %9s\n", wo, wo, ts->name,
                ts->turnaround_ns >= 0 ? fmt(ts->turnaround_ns, b[0], 32) : "-",
                ts->response_ns >= 0 ? fmt(ts->response_ns, b[1], 32) : "-",
                ts->started_ns >= 0 ? fmt(ts->waiting_ns, b[2], 32) : "-");
    }
    if (s->n_threads > 1)
        fprintf(out, "%-*s %10s %9s %9s\n", wo, "mean",
                s->turnaround_mean_ns >= 0 ? fmt(s->turnaround_mean_ns, b[0], 32) : "-",
                s->response_mean_ns >= 0 ? fmt(s->response_mean_ns, b[1], 32) : "-",
                s->waiting_mean_ns >= 0 ? fmt(s->waiting_mean_ns, b[2], 32) : "-");
    const char *msg = gs_trace_message(t);
    bool ok = s->outcome == GS_OUT_DONE;
    fprintf(out, "outcome: %s%s%s%s", color ? (ok ? "\033[32m" : "\033[1;31m") : "",
            gs_trace_outcome_words(t), RESET(color), *msg ? " - " : "");
    gs_fput_escaped(out, msg, true); /* it quotes names from the scenario */
    putc('\n', out);
}

/* One character per state in the text timeline. */
static char state_char(int st)
{
    switch (st) {
    case GS_ST_PY: return 'P';
    case GS_ST_C_GIL: return 'C';
    case GS_ST_C_NOGIL: return 'c';
    case GS_ST_WAIT_GIL: return 'w';
    case GS_ST_READY: return 'r';
    case GS_ST_IO: return 'i';
    case GS_ST_SLEEP: return 's';
    case GS_ST_WAIT_LOCK:
    case GS_ST_WAIT_EVENT:
    case GS_ST_WAIT_QUEUE:
    case GS_ST_WAIT_JOIN: return 'l';
    case GS_ST_SWITCH: return '~';
    default: return ' ';
    }
}

void cli_print_timeline(FILE *out, const gs_trace_t *t, int width, bool color)
{
    char esc[400];
    int64_t end = gs_trace_end_ns(t);
    int nt = gs_trace_n_threads(t);
    if (end <= 0 || nt == 0 || width < 10)
        return;
    int64_t bucket = (end + width - 1) / width;
    int w = 6;
    for (int i = 0; i < nt; i++) {
        int l = (int)strlen(gs_escape_controls(gs_trace_lane(t, gs_trace_thread_lane(t, i))->name,
                                               esc, sizeof esc, false));
        if (l > w)
            w = l < 16 ? l : 16;
    }
    char b1[32], b2[32];
    fprintf(out, "\n%stimeline%s 0 to %s, %s per character\n", BOLD(color), RESET(color),
            gs_format_ns(end, b1, sizeof b1), gs_format_ns(bucket, b2, sizeof b2));
    int64_t cover[GS_ST_COUNT];
    for (int i = 0; i < nt; i++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
        fprintf(out, "%-*.*s |", w, w, gs_escape_controls(l->name, esc, sizeof esc, false));
        size_t k = 0;
        int prev = -1;
        for (int c = 0; c < width; c++) {
            int64_t a = (int64_t)c * bucket, b = a + bucket;
            memset(cover, 0, sizeof cover);
            while (k < l->n && l->iv[k].end_ns <= a)
                k++;
            for (size_t j = k; j < l->n && l->iv[j].start_ns < b; j++) {
                int64_t x = l->iv[j].start_ns > a ? l->iv[j].start_ns : a;
                int64_t y = l->iv[j].end_ns < b ? l->iv[j].end_ns : b;
                if (y > x && l->iv[j].state < GS_ST_COUNT)
                    cover[l->iv[j].state] += y - x;
            }
            int best = GS_ST_DONE;
            int64_t most = 0;
            for (int s = 0; s < GS_ST_COUNT; s++)
                if (cover[s] > most) {
                    most = cover[s];
                    best = s;
                }
            if (color && best != prev) {
                uint32_t rgb = gs_state_color((gs_state_t)best);
                if (best == GS_ST_DONE)
                    fputs("\033[0m", out);
                else
                    fprintf(out, "\033[48;2;%u;%u;%um\033[38;2;0;0;0m", (rgb >> 16) & 255u,
                            (rgb >> 8) & 255u, rgb & 255u);
                prev = best;
            }
            fputc(state_char(best), out);
        }
        fprintf(out, "%s|\n", RESET(color));
    }
    fputs("key: P Python  C C holding the GIL  c C without the GIL  w waiting for the GIL\n"
          "     r ready (waiting for a core)  i I/O  s sleep  l lock/event/queue/join wait\n"
          "     ~ context switch  (blank) not started or finished\n",
          out);
}
