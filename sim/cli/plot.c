/* plot.c - the sweep chart: a metric against the first swept parameter,
 * one line per value of the second, as a standalone SVG.
 *
 * Points with the same (x, series) are averaged (repeats, other parameters).
 * x is numeric when every value reads as a number, optionally with a unit
 * (ns, us, ms, s), and drawn on a log scale when it spans two decades or
 * more (switch intervals 0.1 ms .. 50 ms); otherwise the values are evenly
 * spaced categories in the order given. Ticks on x are the values as
 * written. Lines use the Okabe-Ito palette. */
#include "cli.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

static const char *const palette[] = {"#0072B2", "#D55E00", "#009E73", "#E69F00",
                                      "#CC79A7", "#56B4E9", "#F0E442", "#000000"};


static bool number(const char *s, double *v)
{
    char *end;
    double x = strtod(s, &end);
    if (end == s)
        return false;
    if (*end == '"')
        return false;
    if (strcmp(end, "") == 0 || strcmp(end, "s") == 0)
        *v = strcmp(end, "s") == 0 ? x * 1e9 : x;
    else if (strcmp(end, "ms") == 0)
        *v = x * 1e6;
    else if (strcmp(end, "us") == 0)
        *v = x * 1e3;
    else if (strcmp(end, "ns") == 0)
        *v = x;
    else
        return false;
    return isfinite(*v);
}

static int index_of(const char **v, int n, const char *s)
{
    for (int i = 0; i < n; i++)
        if ((v[i] == NULL && s == NULL) || (v[i] && s && strcmp(v[i], s) == 0))
            return i;
    return -1;
}

static double nice(double span)
{
    double raw = span / 5, p = pow(10, floor(log10(raw)));
    if (raw >= 5 * p)
        return 5 * p;
    if (raw >= 2 * p)
        return 2 * p;
    return p;
}

/* A metric in nanoseconds: "makespan_ns", and the latency percentiles
 * "io_to_gil_ns.p50" .. ".max" of the sweep's CSV (but ".n", a count). */
static bool ns_metric(const char *y)
{
    size_t n = strlen(y);
    const char *dot = strstr(y, "_ns.");
    return (n > 3 && strcmp(y + n - 3, "_ns") == 0) || (dot && strcmp(dot, "_ns.n") != 0);
}

/* Writes s as SVG text lines of at most cols characters (broken at spaces),
 * from baseline y, dy apart; returns the number of lines. */
static int text_lines(FILE *out, const char *s, double x, double y, double dy, int cols,
                      const char *attrs)
{
    int n = 0;
    size_t len = strlen(s);
    for (size_t at = 0; at < len; n++) {
        size_t k = len - at;
        if (k > (size_t)cols) {
            k = (size_t)cols;
            while (k > (size_t)cols / 2 && s[at + k] != ' ')
                k--;
            if (s[at + k] != ' ')
                k = (size_t)cols;
        }
        char *part = malloc(k + 1);
        if (!part)
            return n;
        memcpy(part, s + at, k);
        part[k] = '\0';
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" %s>", x, y + dy * n, attrs);
        gs_xml_escape(out, part);
        fputs("</text>\n", out);
        free(part);
        at += k;
        while (at < len && s[at] == ' ')
            at++;
    }
    return n;
}

static void ylabel(char *buf, size_t n, double v, bool ns)
{
    if (ns)
        gs_format_ns((int64_t)llround(v), buf, n);
    else
        snprintf(buf, n, "%.4g", v);
}

/* The chart being drawn: the distinct x values and series, the mean of
 * each (x, series) cell, the scales and the page geometry. */
typedef struct plot {
    const char **xs, **ss; /* distinct x values and series, in order of appearance */
    int nx, ns;
    double *sum, *xv;      /* sum[x * ns + s]; xv: x's position value */
    int *cnt;
    bool logx, yns;
    double xmin, xmax, ymin, ymax, step;
    double L, T, R, B, W, H, pw, ph;
} plot_t;

static void plot_free(plot_t *p)
{
    free(p->xs), free(p->ss), free(p->sum), free(p->cnt), free(p->xv);
}

/* Distinct x values and series, and each cell's sum and count. */
static int plot_collect(plot_t *p, const plot_point_t *pts, int n)
{
    size_t one = (size_t)(n > 0 ? n : 1);
    p->xs = calloc(one, sizeof *p->xs);
    p->ss = calloc(one, sizeof *p->ss);
    for (int i = 0; p->xs && p->ss && i < n; i++) {
        if (index_of(p->xs, p->nx, pts[i].x) < 0)
            p->xs[p->nx++] = pts[i].x;
        if (index_of(p->ss, p->ns, pts[i].series) < 0)
            p->ss[p->ns++] = pts[i].series;
    }
    size_t cells = (size_t)(p->nx * p->ns > 0 ? p->nx * p->ns : 1);
    p->sum = calloc(cells, sizeof *p->sum);
    p->cnt = calloc(cells, sizeof *p->cnt);
    p->xv = calloc((size_t)(p->nx > 0 ? p->nx : 1), sizeof *p->xv);
    if (!p->xs || !p->ss || !p->sum || !p->cnt || !p->xv)
        return GS_ENOMEM;
    for (int i = 0; i < n; i++) {
        int k = index_of(p->xs, p->nx, pts[i].x) * p->ns + index_of(p->ss, p->ns, pts[i].series);
        p->sum[k] += pts[i].y;
        p->cnt[k]++;
    }
    return 0;
}

/* x: numbers (log scale over two decades or more) or evenly spaced
 * categories; y: from 0 (or below) to a round step above the largest mean. */
static void plot_scale(plot_t *p)
{
    bool numeric = p->nx > 0;
    p->xmin = INFINITY, p->xmax = -INFINITY;
    for (int i = 0; i < p->nx && numeric; i++) {
        numeric = number(p->xs[i], &p->xv[i]);
        if (numeric) {
            p->xmin = fmin(p->xmin, p->xv[i]);
            p->xmax = fmax(p->xmax, p->xv[i]);
        }
    }
    p->logx = numeric && p->xmin > 0 && p->xmax / p->xmin >= 100;
    if (!numeric || p->xmax <= p->xmin) {
        p->logx = false;
        for (int i = 0; i < p->nx; i++)
            p->xv[i] = i;
        p->xmin = 0;
        p->xmax = p->nx > 1 ? p->nx - 1 : 1;
    }
    p->ymin = 0, p->ymax = 0;
    for (int k = 0; k < p->nx * p->ns; k++)
        if (p->cnt[k]) {
            double y = p->sum[k] / p->cnt[k];
            p->ymin = fmin(p->ymin, y);
            p->ymax = fmax(p->ymax, y);
        }
    if (p->ymax <= p->ymin)
        p->ymax = p->ymin + 1;
    p->step = nice(p->ymax - p->ymin);
    p->ymax = ceil(p->ymax / p->step) * p->step;
    p->ymin = floor(p->ymin / p->step) * p->step;
}

static double px(const plot_t *p, double v)
{
    double f = p->logx ? (log10(v) - log10(p->xmin)) / (log10(p->xmax) - log10(p->xmin))
                       : (v - p->xmin) / (p->xmax - p->xmin);
    return p->L + f * p->pw;
}

static double py(const plot_t *p, double v)
{
    return p->T + p->ph - (v - p->ymin) / (p->ymax - p->ymin) * p->ph;
}

/* The page: the legend's width follows its longest entry (about 7.5 px a
 * character at 13 px), so nothing is cut; the title wraps (bold 18 px:
 * about 10.5 px a character). Writes the SVG head and the title. */
static int plot_page(FILE *out, plot_t *p, const char *title, const char *xname,
                     const char *sname, const char *yname)
{
    size_t longest = 0;
    for (int s = 0; s < p->ns; s++) {
        size_t k = strlen(p->ss[s] ? p->ss[s] : yname) + (sname ? strlen(sname) + 3 : 0);
        longest = k > longest ? k : longest;
    }
    p->L = 100, p->B = 70, p->R = fmax(200, 60 + 7.5 * (double)longest);
    p->W = 660 + p->R;
    char *head = malloc(strlen(yname) + strlen(xname) + (title ? strlen(title) : 0) + 16);
    if (!head)
        return GS_ENOMEM;
    sprintf(head, "%s against %s%s%s", yname, xname, title && *title ? " - " : "",
            title && *title ? title : "");
    int head_cols = (int)((p->W - 32) / 10.5);
    int head_lines = (int)((strlen(head) + (size_t)head_cols - 1) / (size_t)head_cols);
    p->T = 36 + 22.0 * (head_lines > 0 ? head_lines : 1), p->H = 460 + p->T;
    p->pw = p->W - p->L - p->R, p->ph = p->H - p->T - p->B;
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#FFFFFF\"/>\n",
            p->W, p->H, p->W, p->H);
    text_lines(out, head, 16, 30, 22, head_cols, "font-size=\"18\" font-weight=\"bold\"");
    free(head);
    return 0;
}

/* Grid, ticks and axis names. */
static void plot_axes(FILE *out, const plot_t *p, const char *xname, const char *yname)
{
    double L = p->L, T = p->T, pw = p->pw, ph = p->ph;
    fprintf(out, "<g font-size=\"12\" fill=\"#333333\">\n");
    char buf[64];
    for (double y = p->ymin; y <= p->ymax + p->step / 2; y += p->step) {
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#DDDDDD\"/>",
                L, py(p, y), L + pw, py(p, y));
        ylabel(buf, sizeof buf, y, p->yns);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 6,
                py(p, y) + 4, buf);
    }
    for (int i = 0; i < p->nx; i++) {
        double x = px(p, p->xv[i]);
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>",
                x, T + ph, x, T + ph + 5);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", x, T + ph + 20);
        gs_xml_escape(out, p->xs[i]);
        fputs("</text>\n", out);
    }
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n"
                 "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n",
            L, T + ph, L + pw, T + ph, L, T, L, T + ph);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\">",
            L + pw / 2, p->H - 20);
    gs_xml_escape(out, xname);
    fputs(p->logx ? " (log scale)" : "", out);
    fprintf(out, "</text>\n<text transform=\"translate(22 %.1f) rotate(-90)\" "
                 "text-anchor=\"middle\" font-size=\"14\">",
            T + ph / 2);
    gs_xml_escape(out, yname);
    fputs(" (mean)", out);
    fputs("</text>\n</g>\n", out);
}

/* Series s: its line, a marker per point (with the value as a tooltip) and
 * its legend entry. */
static void plot_series(FILE *out, const plot_t *p, int s, const char *sname, const char *yname)
{
    const char *col = palette[s % 8];
    int ns = p->ns;
    char buf[64];
    fprintf(out, "<g class=\"series\" stroke=\"%s\" fill=\"%s\">\n<polyline fill=\"none\" "
                 "stroke-width=\"2.5\" points=\"",
            col, col);
    for (int i = 0; i < p->nx; i++)
        if (p->cnt[i * ns + s])
            fprintf(out, "%.1f,%.1f ", px(p, p->xv[i]),
                    py(p, p->sum[i * ns + s] / p->cnt[i * ns + s]));
    fputs("\"/>\n", out);
    for (int i = 0; i < p->nx; i++)
        if (p->cnt[i * ns + s]) {
            double y = p->sum[i * ns + s] / p->cnt[i * ns + s];
            ylabel(buf, sizeof buf, y, p->yns);
            fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>", px(p, p->xv[i]),
                    py(p, y));
            gs_xml_escape(out, p->xs[i]);
            fprintf(out, ": %s</title></circle>\n", buf);
        }
    double lx = p->L + p->pw, ly = p->T + 10 + 24 * s;
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke-width=\"3\"/>"
                 "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" stroke=\"none\" fill=\"#000000\">",
            lx + 20, ly, lx + 44, ly, lx + 50, ly + 4);
    if (sname) {
        gs_xml_escape(out, sname);
        fputs(" = ", out);
    }
    gs_xml_escape(out, p->ss[s] ? p->ss[s] : yname);
    fputs("</text>\n</g>\n", out);
}

int cli_plot_svg(FILE *out, const char *title, const char *xname, const char *sname,
                 const char *yname, const plot_point_t *pts, int n)
{
    plot_t p = {.yns = ns_metric(yname)};
    int rc = plot_collect(&p, pts, n);
    if (rc == 0) {
        plot_scale(&p);
        rc = plot_page(out, &p, title, xname, sname, yname);
    }
    if (rc == 0) {
        plot_axes(out, &p, xname, yname);
        for (int s = 0; s < p.ns; s++)
            plot_series(out, &p, s, sname, yname);
        fputs("</svg>\n", out);
        rc = ferror(out) ? GS_EIO : 0;
    }
    plot_free(&p);
    return rc;
}
