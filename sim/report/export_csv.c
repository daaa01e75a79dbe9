/* export_csv.c - every interval of every lane as one CSV row (RFC 4180).
 *
 * Columns: lane_kind (gil, thread, core), lane (its name), process (its
 * process's name; empty for cores), thread (the lane's thread, or the holder
 * or runner for GIL and core lanes; empty when none), state (gs_state_key;
 * "gil_held" on GIL lanes), start_ns, end_ns, op (the op label, may be
 * empty). Rows come lane by lane in trace order, sorted by start within a
 * lane. Fields holding a comma, quote or line break are quoted. */
#include "gilsim/export.h"

#include <string.h>

void gs_csv_field(FILE *out, const char *s)
{
    if (!s)
        s = "";
    if (strpbrk(s, ",\"\r\n") == NULL) {
        fputs(s, out);
        return;
    }
    putc('"', out);
    for (; *s; s++) {
        if (*s == '"')
            putc('"', out);
        putc(*s, out);
    }
    putc('"', out);
}

int gs_export_csv(const gs_trace_t *t, FILE *out)
{
    int nt = gs_trace_n_threads(t);
    fputs("lane_kind,lane,process,thread,state,start_ns,end_ns,op\n", out);
    int nl = gs_trace_n_lanes(t);
    for (int li = 0; li < nl && !ferror(out); li++) {
        const gs_lane_t *l = gs_trace_lane(t, li);
        const char *kind = l->kind == GS_LANE_GIL ? "gil" : l->kind == GS_LANE_THREAD ? "thread"
                                                                                     : "core";
        const char *proc = l->process >= 0 ? gs_trace_process_name(t, l->process) : "";
        for (size_t k = 0; k < l->n; k++) {
            const gs_interval_t *iv = &l->iv[k];
            const char *who = "";
            if (l->kind == GS_LANE_THREAD)
                who = l->name;
            else if (iv->who >= 0 && iv->who < nt)
                who = gs_trace_lane(t, gs_trace_thread_lane(t, iv->who))->name;
            const char *st = l->kind == GS_LANE_GIL ? "gil_held"
                             : iv->state < GS_ST_COUNT ? gs_state_key((gs_state_t)iv->state)
                                                       : "unknown";
            fputs(kind, out);
            putc(',', out);
            gs_csv_field(out, l->name);
            putc(',', out);
            gs_csv_field(out, proc);
            putc(',', out);
            gs_csv_field(out, who);
            fprintf(out, ",%s,%lld,%lld,", st, (long long)iv->start_ns, (long long)iv->end_ns);
            gs_csv_field(out, iv->op != GS_NO_OP ? gs_trace_op_label(t, iv->op) : "");
            putc('\n', out);
        }
    }
    return ferror(out) ? GS_EIO : 0;
}

void gs_metrics_csv_header(FILE *out)
{
    int n;
    const gs_metric_t *ms = gs_metrics_run(&n);
    fputs(",outcome", out);
    for (int i = 0; i < n; i++) {
        putc(',', out);
        gs_csv_field(out, ms[i].key);
    }
}

void gs_metrics_csv_row(FILE *out, const gs_stats_t *s)
{
    int n;
    const gs_metric_t *ms = gs_metrics_run(&n);
    fprintf(out, ",%s", s ? gs_outcome_key(s->outcome) : "error");
    for (int i = 0; i < n; i++) {
        char v[64] = "";
        if (s)
            gs_metric_format(&ms[i], s, v, sizeof v);
        fprintf(out, ",%s", v);
    }
}
