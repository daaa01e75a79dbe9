/* export_svg.c - the timeline as a standalone SVG for slides and papers.
 *
 * Layout, top to bottom: title and a line of facts; for each process a
 * heading, its GIL lane (holder names written on wide holds) and a lane per
 * thread; a heading "cores" and a lane per core; the time axis (1-2-5 steps,
 * readable units); the legend. Colours are gs_state_color(), the same as the
 * viewer's and the Perfetto export's cname choice.
 *
 * Level of detail: an interval one pixel wide or more becomes its own <rect>
 * (with a <title> tooltip); narrower ones are pooled per pixel column and the
 * state covering most of the column paints it; equal neighbouring columns
 * merge into one rect. Output size is therefore bounded by the picture, not
 * by the trace. */
#include "gilsim/export.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

#define LABEL_W 150.0
#define RIGHT_PAD 24.0
#define LANE_H 18.0
#define LANE_GAP 5.0
#define HEAD_H 22.0
#define FONT "DejaVu Sans, Verdana, Arial, sans-serif"

void gs_svg_opts_init(gs_svg_opts_t *o)
{
    memset(o, 0, sizeof *o);
    o->width_px = 1200;
}

void gs_xml_escape(FILE *out, const char *s)
{
    for (; s && *s; s++) {
        switch (*s) {
        case '&': fputs("&amp;", out); break;
        case '<': fputs("&lt;", out); break;
        case '>': fputs("&gt;", out); break;
        case '"': fputs("&quot;", out); break;
        case '\'': fputs("&apos;", out); break;
        default:
            /* Control characters are not allowed in XML 1.0. */
            if ((unsigned char)*s >= 0x20 || *s == '\t' || *s == '\n')
                putc(*s, out);
        }
    }
}

typedef struct view {
    FILE *out;
    const gs_trace_t *t;
    int64_t from, to;
    double x0, pw; /* plot left and width */
} view_t;

static double xof(const view_t *v, int64_t ns)
{
    return v->x0 + (double)(ns - v->from) * v->pw / (double)(v->to - v->from);
}

static const char *thread_name(const gs_trace_t *t, int i)
{
    if (i < 0 || i >= gs_trace_n_threads(t))
        return "";
    return gs_trace_lane(t, gs_trace_thread_lane(t, i))->name;
}

/* The k-th line of msg wrapped at MSG_COLS characters (at a space when
 * there is one; its own line breaks kept) into line; with k < 0 counts the
 * lines. Returns the number of lines (k < 0) or 0. */
#define MSG_COLS 150
static int wrap_line(const char *msg, int k, char *line)
{
    int n = 0;
    const char *p = msg;
    while (*p) {
        size_t len = strcspn(p, "\n");
        if (len > MSG_COLS) {
            len = MSG_COLS;
            while (len > MSG_COLS / 2 && p[len] != ' ')
                len--;
            if (p[len] != ' ')
                len = MSG_COLS;
        }
        if (n == k) {
            memcpy(line, p, len);
            line[len] = '\0';
            return 0;
        }
        n++;
        p += len;
        while (*p == ' ' || *p == '\n')
            p++;
    }
    return k < 0 ? n : 0;
}

/* The top of the lanes: below the title, the facts and the stop message. */
static double lanes_top(const gs_trace_t *t)
{
    return 64 + 16 * wrap_line(gs_trace_message(t), -1, NULL);
}

static bool dark(uint32_t rgb)
{
    int r = (int)(rgb >> 16) & 255, g = (int)(rgb >> 8) & 255, b = (int)rgb & 255;
    return r * 299 + g * 587 + b * 114 < 140000;
}

/* A run of pooled pixel columns waiting to be written. */
typedef struct pool {
    int col;                     /* column being filled, -1 none */
    int64_t cover[GS_ST_COUNT];  /* ns of each state in it */
    int run_state;               /* pending run of painted columns */
    int run_a, run_b;            /* [a, b) columns */
} pool_t;

static void run_flush(const view_t *v, pool_t *p, double y)
{
    if (p->run_state >= 0 && p->run_b > p->run_a)
        fprintf(v->out, "<rect x=\"%d\" y=\"%.1f\" width=\"%d\" height=\"%.0f\" fill=\"#%06X\"/>\n",
                p->run_a, y, p->run_b - p->run_a, LANE_H,
                (unsigned)gs_state_color((gs_state_t)p->run_state));
    p->run_state = -1;
}

static void col_flush(const view_t *v, pool_t *p, double y)
{
    if (p->col < 0)
        return;
    int best = -1;
    int64_t most = 0;
    for (int s = 0; s < GS_ST_COUNT; s++)
        if (p->cover[s] > most) {
            most = p->cover[s];
            best = s;
        }
    if (best >= 0) {
        if (p->run_state == best && p->run_b == p->col)
            p->run_b++;
        else {
            run_flush(v, p, y);
            p->run_state = best;
            p->run_a = p->col;
            p->run_b = p->col + 1;
        }
    }
    memset(p->cover, 0, sizeof p->cover);
    p->col = -1;
}

static void draw_lane(const view_t *v, const gs_lane_t *l, double y)
{
    FILE *out = v->out;
    pool_t pool;
    memset(&pool, 0, sizeof pool);
    pool.col = -1;
    pool.run_state = -1;
    char b1[32], b2[32], b3[32];
    for (size_t k = gs_lane_find(l, v->from); k < l->n; k++) {
        const gs_interval_t *iv = &l->iv[k];
        if (iv->start_ns >= v->to)
            break;
        if (iv->state >= GS_ST_COUNT || iv->state == GS_ST_DONE)
            continue;
        int64_t a = iv->start_ns > v->from ? iv->start_ns : v->from;
        int64_t b = iv->end_ns < v->to ? iv->end_ns : v->to;
        if (b <= a)
            continue;
        double xa = xof(v, a), xb = xof(v, b);
        if (xb - xa < 1.0) {
            int col = (int)floor(xa);
            if (col != pool.col) {
                col_flush(v, &pool, y);
                pool.col = col;
            }
            pool.cover[iv->state] += b - a;
            continue;
        }
        col_flush(v, &pool, y);
        run_flush(v, &pool, y);
        uint32_t rgb = gs_state_color((gs_state_t)iv->state);
        const char *who = l->kind == GS_LANE_THREAD ? "" : thread_name(v->t, iv->who);
        fprintf(out, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.0f\" fill=\"#%06X\">",
                xa, y, xb - xa, LANE_H, (unsigned)rgb);
        fputs("<title>", out);
        gs_xml_escape(out, l->kind == GS_LANE_THREAD ? l->name : who);
        fputs(": ", out);
        gs_xml_escape(out, l->kind == GS_LANE_GIL ? "holds the GIL" : gs_state_text((gs_state_t)iv->state));
        fprintf(out, ", %s to %s (%s)", gs_format_ns(iv->start_ns, b1, sizeof b1),
                gs_format_ns(iv->end_ns, b2, sizeof b2),
                gs_format_ns(iv->end_ns - iv->start_ns, b3, sizeof b3));
        if (iv->op != GS_NO_OP && *gs_trace_op_label(v->t, iv->op)) {
            fputs(", ", out);
            gs_xml_escape(out, gs_trace_op_label(v->t, iv->op));
        }
        fputs("</title></rect>\n", out);
        /* Ready or switching in while holding the GIL: a blue band along the
         * bottom third, as in the viewer and the legend. */
        if ((iv->flags & GS_IV_HOLDS_GIL) && (iv->state == GS_ST_READY || iv->state == GS_ST_SWITCH))
            fprintf(out, "<rect x=\"%.2f\" y=\"%.1f\" width=\"%.2f\" height=\"%.1f\" "
                         "fill=\"#%06X\" pointer-events=\"none\"/>\n",
                    xa, y + LANE_H * 2 / 3, xb - xa, LANE_H / 3,
                    (unsigned)gs_state_color(GS_ST_PY));
        /* Names on wide GIL and core bars, as in the viewer. */
        if (*who && xb - xa > 8.0 * (double)strlen(who) + 8) {
            fprintf(out,
                    "<text x=\"%.2f\" y=\"%.1f\" font-size=\"12\" fill=\"%s\" "
                    "pointer-events=\"none\">",
                    xa + 4, y + LANE_H - 5, dark(rgb) ? "#FFFFFF" : "#000000");
            gs_xml_escape(out, who);
            fputs("</text>\n", out);
        }
    }
    col_flush(v, &pool, y);
    run_flush(v, &pool, y);
}

static void lane_label(FILE *out, double y, const char *name, bool bold)
{
    fprintf(out, "<text x=\"%.0f\" y=\"%.1f\" font-size=\"13\" text-anchor=\"end\"%s>",
            LABEL_W - 10, y + LANE_H - 5, bold ? " font-weight=\"bold\"" : "");
    gs_xml_escape(out, name);
    fputs("</text>\n", out);
}

/* A thread or core lane's label, background and intervals; closes its <g>. */
static void lane_row(const view_t *v, const gs_lane_t *l, double y)
{
    FILE *out = v->out;
    lane_label(out, y, l->name, false);
    fprintf(out, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.2f\" height=\"%.0f\" fill=\"#F4F4F4\"/>\n",
            v->x0, y, v->pw, LANE_H);
    draw_lane(v, l, y);
    fputs("</g>\n", out);
}

static int64_t nice_step(int64_t span, int want)
{
    int64_t raw = span / (want > 0 ? want : 1);
    if (raw < 1)
        return 1;
    int64_t p = 1;
    while (p * 10 <= raw)
        p *= 10;
    if (raw >= 5 * p)
        return 5 * p;
    if (raw >= 2 * p)
        return 2 * p;
    return p;
}

/* Which instants get a marker, and on which lane row (thread lanes only). */
static bool marked(int kind)
{
    return kind == GS_IN_DROP_REQUEST || kind == GS_IN_FORCED_SWITCH ||
           kind == GS_IN_FUTILE_WAKEUP || kind == GS_IN_DEADLOCK;
}

/* The picture's height: title block, lanes with headings, axis, legend. */
static double svg_height(const gs_trace_t *t, int W)
{
    int np = gs_trace_n_processes(t), nt = gs_trace_n_threads(t), nc = gs_trace_n_cores(t);
    int n_lanes = 0, n_heads = 0;
    for (int p = 0; p < np; p++) {
        n_heads++;
        if (gs_trace_gil_lane(t, p) >= 0)
            n_lanes++;
    }
    n_lanes += nt + nc;
    n_heads += 1;
    int per_row = (W - 16) / 230 > 0 ? (W - 16) / 230 : 1;
    /* states but done, the GIL stripe, the markers */
    int legend_rows = (GS_ST_COUNT + 1 + per_row - 1) / per_row;
    return lanes_top(t) + n_heads * HEAD_H + n_lanes * (LANE_H + LANE_GAP) + 40 + legend_rows * 22 + 20;
}

/* The SVG header, the title and the line of facts. */
static void svg_title(const view_t *v, const gs_svg_opts_t *o, int W, double H)
{
    FILE *out = v->out;
    const gs_trace_t *t = v->t;
    int nt = gs_trace_n_threads(t), nc = gs_trace_n_cores(t);
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%d\" height=\"%.0f\" "
            "viewBox=\"0 0 %d %.0f\" font-family=\"%s\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#FFFFFF\"/>\n",
            W, H, W, H, FONT);
    const char *title = o->title ? o->title : gs_trace_name(t);
    fputs("<text x=\"16\" y=\"28\" font-size=\"20\" font-weight=\"bold\">", out);
    gs_xml_escape(out, *title ? title : "gilsim timeline");
    fputs("</text>\n", out);
    char b1[32], b2[32], vers[256], pv[300] = "";
    int nv;
    gs_trace_python_versions(t, vers, sizeof vers, &nv);
    if (nv) /* preset names are digits, dots and 't': nothing to escape */
        snprintf(pv, sizeof pv, "python %s (preset%s), ", vers, nv > 1 ? "s" : "");
    fprintf(out, "<text x=\"16\" y=\"50\" font-size=\"13\" fill=\"#333333\">%s%d thread%s, "
                 "%d core%s, seed %llu, %s (shown: %s to %s)</text>\n",
            pv, nt, nt == 1 ? "" : "s", nc, nc == 1 ? "" : "s",
            (unsigned long long)gs_trace_seed(t), gs_outcome_key(gs_trace_outcome(t)),
            gs_format_ns(v->from, b1, sizeof b1), gs_format_ns(v->to, b2, sizeof b2));
    /* Why a run stopped (a deadlock's cycle): its lines, wrapped to the width. */
    int n = wrap_line(gs_trace_message(t), -1, NULL);
    for (int k = 0; k < n; k++) {
        fprintf(out, "<text x=\"16\" y=\"%.0f\" font-size=\"13\" fill=\"#B00020\">",
                66.0 + 16 * k);
        char line[MSG_COLS + 1];
        wrap_line(gs_trace_message(t), k, line);
        gs_xml_escape(out, line);
        fputs("</text>\n", out);
    }
}

/* A process's heading, its GIL lane and its threads' lanes from y; returns
 * the y below them and fills thread_y for its threads. */
static double svg_process(const view_t *v, int p, double y, double *thread_y)
{
    FILE *out = v->out;
    const gs_trace_t *t = v->t;
    char b1[32];
    fprintf(out, "<text x=\"16\" y=\"%.1f\" font-size=\"14\" font-weight=\"bold\">process ",
            y + 15);
    gs_xml_escape(out, gs_trace_process_name(t, p));
    int gl = gs_trace_gil_lane(t, p);
    if (gl >= 0) {
        int64_t si = gs_trace_switch_interval_ns(t, p);
        if (si > 0)
            fprintf(out, " (switch interval %s)", gs_format_ns(si, b1, sizeof b1));
    } else
        fputs(" (no GIL)", out);
    fputs("</text>\n", out);
    y += HEAD_H;
    if (gl >= 0) {
        fprintf(out, "<g class=\"lane gil\" data-process=\"%d\">\n", p);
        lane_label(out, y, "GIL", true);
        fprintf(out, "<rect x=\"%.0f\" y=\"%.1f\" width=\"%.2f\" height=\"%.0f\" fill=\"#F4F4F4\"/>\n",
                v->x0, y, v->pw, LANE_H);
        draw_lane(v, gs_trace_lane(t, gl), y);
        fputs("</g>\n", out);
        y += LANE_H + LANE_GAP;
    }
    for (int i = 0; i < gs_trace_n_threads(t); i++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_thread_lane(t, i));
        if (l->process != p)
            continue;
        thread_y[i] = y;
        fprintf(out, "<g class=\"lane thread\" data-thread=\"%d\">\n", i);
        lane_row(v, l, y);
        y += LANE_H + LANE_GAP;
    }
    return y;
}

/* Every lane from y: the processes, then the cores. Returns the bottom. */
static double svg_lanes(const view_t *v, double y, double *thread_y)
{
    FILE *out = v->out;
    const gs_trace_t *t = v->t;
    for (int p = 0; p < gs_trace_n_processes(t); p++)
        y = svg_process(v, p, y, thread_y);
    fprintf(out, "<text x=\"16\" y=\"%.1f\" font-size=\"14\" font-weight=\"bold\">cores</text>\n",
            y + 15);
    y += HEAD_H;
    for (int c = 0; c < gs_trace_n_cores(t); c++) {
        const gs_lane_t *l = gs_trace_lane(t, gs_trace_core_lane(t, c));
        fprintf(out, "<g class=\"lane core\" data-core=\"%d\">\n", c);
        lane_row(v, l, y);
        y += LANE_H + LANE_GAP;
    }
    return y;
}

/* An annotation: a dashed line across the lanes, its text at the top. */
static void svg_annotation(const view_t *v, const gs_instant_t *x, double top, double bottom)
{
    FILE *out = v->out;
    double xx = xof(v, x->t_ns);
    fprintf(out, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#CC79A7\" "
                 "stroke-dasharray=\"4 3\"/>\n",
            xx, top, xx, bottom);
    fprintf(out, "<text x=\"%.2f\" y=\"%.1f\" font-size=\"12\" fill=\"#7A3B64\">", xx + 3,
            top - 4);
    if (x->arg >= 0 && x->arg < gs_trace_n_annotations(v->t))
        gs_xml_escape(out, gs_trace_annotation_text(v->t, (int)x->arg));
    fputs("</text>\n", out);
}

/* Instant markers: a small reddish-purple triangle above the thread's lane,
 * at most one per pixel column and kind; annotations across the lanes. */
static int svg_instants(const view_t *v, const double *thread_y, double top, double bottom)
{
    FILE *out = v->out;
    const gs_trace_t *t = v->t;
    int nt = gs_trace_n_threads(t);
    size_t ni = gs_trace_n_instants(t);
    const gs_instant_t *in = gs_trace_instants(t);
    /* last column drawn per (thread, kind), so markers stay one per pixel */
    int *last_col = malloc((size_t)(nt > 0 ? nt : 1) * GS_IN_COUNT * sizeof *last_col);
    if (!last_col)
        return GS_ENOMEM;
    for (int k = 0; k < (nt > 0 ? nt : 1) * GS_IN_COUNT; k++)
        last_col[k] = -1;
    char b1[32];
    fputs("<g class=\"instants\" fill=\"#CC79A7\">\n", out);
    for (size_t k = 0; k < ni; k++) {
        const gs_instant_t *x = &in[k];
        if (x->t_ns < v->from || x->t_ns > v->to || x->kind >= GS_IN_COUNT)
            continue;
        if (x->kind == GS_IN_ANNOTATION) {
            svg_annotation(v, x, top, bottom);
            continue;
        }
        if (!marked(x->kind) || x->thread < 0 || x->thread >= nt)
            continue;
        double xx = xof(v, x->t_ns);
        int col = (int)xx, *last = &last_col[x->thread * GS_IN_COUNT + x->kind];
        if (col == *last)
            continue;
        *last = col;
        double ty = thread_y[x->thread];
        fprintf(out, "<path d=\"M%.2f %.1f l-3 -5 h6 z\"><title>", xx, ty);
        gs_xml_escape(out, gs_instant_text((gs_instant_kind_t)x->kind));
        fprintf(out, " at %s</title></path>\n", gs_format_ns(x->t_ns, b1, sizeof b1));
    }
    fputs("</g>\n", out);
    free(last_col);
    return 0;
}

/* The time axis under the lanes, at y. */
static void svg_axis(const view_t *v, double y)
{
    FILE *out = v->out;
    char b1[32];
    fprintf(out, "<g class=\"axis\" font-size=\"12\" fill=\"#333333\">\n"
                 "<line x1=\"%.0f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#333333\"/>\n",
            v->x0, y, v->x0 + v->pw, y);
    int64_t step = nice_step(v->to - v->from, (int)(v->pw / 110));
    for (int64_t tk = (v->from + step - 1) / step * step; tk <= v->to; tk += step) {
        double xx = xof(v, tk);
        fprintf(out, "<line x1=\"%.2f\" y1=\"%.1f\" x2=\"%.2f\" y2=\"%.1f\" stroke=\"#333333\"/>",
                xx, y, xx, y + 5);
        fprintf(out, "<text x=\"%.2f\" y=\"%.1f\" text-anchor=\"middle\">%s</text>\n", xx, y + 18,
                gs_format_ns(tk, b1, sizeof b1));
    }
    fputs("</g>\n", out);
}

/* The legend from y: every state but done, then the markers. */
static void svg_legend(FILE *out, double y, int W)
{
    double lx = 16;
    fputs("<g class=\"legend\" font-size=\"12\">\n", out);
    for (int s = 0; s < GS_ST_COUNT; s++) {
        if (s == GS_ST_DONE)
            continue;
        if (lx + 230 > W) {
            lx = 16;
            y += 22;
        }
        fprintf(out, "<rect x=\"%.0f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"#%06X\" "
                     "stroke=\"#666666\" stroke-width=\"0.5\"/><text x=\"%.0f\" y=\"%.1f\">",
                lx, y, (unsigned)gs_state_color((gs_state_t)s), lx + 19, y + 12);
        gs_xml_escape(out, gs_state_text((gs_state_t)s));
        fputs("</text>\n", out);
        lx += 230;
    }
    if (lx + 230 > W) {
        lx = 16;
        y += 22;
    }
    fprintf(out, "<rect x=\"%.0f\" y=\"%.1f\" width=\"14\" height=\"14\" fill=\"#%06X\" "
                 "stroke=\"#666666\" stroke-width=\"0.5\"/><rect x=\"%.0f\" y=\"%.1f\" width=\"14\" "
                 "height=\"5\" fill=\"#%06X\"/><text x=\"%.0f\" y=\"%.1f\">ready, still holding the "
                 "GIL</text>\n",
            lx, y, (unsigned)gs_state_color(GS_ST_READY), lx, y + 9,
            (unsigned)gs_state_color(GS_ST_PY), lx + 19, y + 12);
    lx += 230;
    if (lx + 230 > W) {
        lx = 16;
        y += 22;
    }
    fprintf(out, "<path d=\"M%.0f %.1f l-5 -9 h10 z\" fill=\"#CC79A7\"/><text x=\"%.0f\" "
                 "y=\"%.1f\">drop request, forced switch, futile wake-up</text>\n",
            lx + 7, y + 13, lx + 19, y + 12);
    fputs("</g>\n</svg>\n", out);
}

int gs_export_svg(const gs_trace_t *t, const gs_svg_opts_t *o, FILE *out)
{
    gs_svg_opts_t def;
    if (!o) {
        gs_svg_opts_init(&def);
        o = &def;
    }
    int W = o->width_px > 400 ? o->width_px : 1200;
    view_t v = {out, t, o->from_ns, o->to_ns, LABEL_W, W - LABEL_W - RIGHT_PAD};
    if (v.from == 0 && v.to == 0)
        v.to = gs_trace_end_ns(t);
    if (v.to <= v.from)
        v.to = v.from + 1;
    int nt = gs_trace_n_threads(t);
    double *thread_y = calloc(nt > 0 ? (size_t)nt : 1, sizeof *thread_y);
    if (!thread_y)
        return GS_ENOMEM;
    svg_title(&v, o, W, svg_height(t, W));
    double top = lanes_top(t);
    double bottom = svg_lanes(&v, top, thread_y);
    int rc = svg_instants(&v, thread_y, top, bottom);
    free(thread_y);
    if (rc)
        return rc;
    svg_axis(&v, bottom + 4);
    svg_legend(out, bottom + 4 + 36, W);
    return ferror(out) ? GS_EIO : 0;
}
