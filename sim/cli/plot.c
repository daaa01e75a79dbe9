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

int cli_plot_svg(FILE *out, const char *title, const char *xname, const char *sname,
                 const char *yname, const plot_point_t *pts, int n)
{
    const char **xs = calloc((size_t)(n > 0 ? n : 1), sizeof *xs);
    const char **ss = calloc((size_t)(n > 0 ? n : 1), sizeof *ss);
    int nx = 0, ns = 0;
    for (int i = 0; xs && ss && i < n; i++) {
        if (index_of(xs, nx, pts[i].x) < 0)
            xs[nx++] = pts[i].x;
        if (index_of(ss, ns, pts[i].series) < 0)
            ss[ns++] = pts[i].series;
    }
    double *sum = calloc((size_t)(nx * ns > 0 ? nx * ns : 1), sizeof *sum);
    int *cnt = calloc((size_t)(nx * ns > 0 ? nx * ns : 1), sizeof *cnt);
    double *xv = calloc((size_t)(nx > 0 ? nx : 1), sizeof *xv);
    if (!xs || !ss || !sum || !cnt || !xv) {
        free(xs), free(ss), free(sum), free(cnt), free(xv);
        return GS_ENOMEM;
    }
    for (int i = 0; i < n; i++) {
        int k = index_of(xs, nx, pts[i].x) * ns + index_of(ss, ns, pts[i].series);
        sum[k] += pts[i].y;
        cnt[k]++;
    }
    bool numeric = nx > 0, logx = false;
    double xmin = INFINITY, xmax = -INFINITY;
    for (int i = 0; i < nx && numeric; i++) {
        numeric = number(xs[i], &xv[i]);
        if (numeric) {
            xmin = fmin(xmin, xv[i]);
            xmax = fmax(xmax, xv[i]);
        }
    }
    if (numeric && xmin > 0 && xmax / xmin >= 100)
        logx = true;
    if (!numeric || xmax <= xmin) {
        numeric = false;
        for (int i = 0; i < nx; i++)
            xv[i] = i;
        xmin = 0;
        xmax = nx > 1 ? nx - 1 : 1;
    }
    double ymin = 0, ymax = 0;
    for (int k = 0; k < nx * ns; k++)
        if (cnt[k]) {
            double y = sum[k] / cnt[k];
            ymin = fmin(ymin, y);
            ymax = fmax(ymax, y);
        }
    if (ymax <= ymin)
        ymax = ymin + 1;
    double step = nice(ymax - ymin);
    ymax = ceil(ymax / step) * step;
    ymin = floor(ymin / step) * step;

    /* The legend's width follows its longest entry (about 7.5 px a
     * character at 13 px), so nothing is cut; the title wraps. */
    size_t longest = 0;
    for (int s = 0; s < ns; s++) {
        size_t k = strlen(ss[s] ? ss[s] : yname) + (sname ? strlen(sname) + 3 : 0);
        longest = k > longest ? k : longest;
    }
    const double L = 100, B = 70, R = fmax(200, 60 + 7.5 * (double)longest);
    const double W = 660 + R;
    char *head = malloc(strlen(yname) + strlen(xname) + (title ? strlen(title) : 0) + 16);
    if (!head) {
        free(xs), free(ss), free(sum), free(cnt), free(xv);
        return GS_ENOMEM;
    }
    sprintf(head, "%s against %s%s%s", yname, xname, title && *title ? " - " : "",
            title && *title ? title : "");
    int head_cols = (int)((W - 32) / 10.5); /* bold 18 px: about 10.5 px a character */
    int head_lines = (int)((strlen(head) + (size_t)head_cols - 1) / (size_t)head_cols);
    const double T = 36 + 22.0 * (head_lines > 0 ? head_lines : 1), H = 460 + T;
    double pw = W - L - R, ph = H - T - B;
#define PX(v) (L + (logx ? (log10(v) - log10(xmin)) / (log10(xmax) - log10(xmin))     \
                         : ((v) - xmin) / (xmax - xmin)) * pw)
#define PY(v) (T + ph - ((v) - ymin) / (ymax - ymin) * ph)
    bool yns = ns_metric(yname);
    fprintf(out,
            "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
            "<svg xmlns=\"http://www.w3.org/2000/svg\" width=\"%.0f\" height=\"%.0f\" "
            "viewBox=\"0 0 %.0f %.0f\" font-family=\"DejaVu Sans, Verdana, Arial, sans-serif\">\n"
            "<rect width=\"100%%\" height=\"100%%\" fill=\"#FFFFFF\"/>\n",
            W, H, W, H);
    text_lines(out, head, 16, 30, 22, head_cols, "font-size=\"18\" font-weight=\"bold\"");
    free(head);
    /* Axes and grid. */
    fprintf(out, "<g font-size=\"12\" fill=\"#333333\">\n");
    char buf[64];
    for (double y = ymin; y <= ymax + step / 2; y += step) {
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#DDDDDD\"/>",
                L, PY(y), L + pw, PY(y));
        ylabel(buf, sizeof buf, y, yns);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"end\">%s</text>\n", L - 6,
                PY(y) + 4, buf);
    }
    for (int i = 0; i < nx; i++) {
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>",
                PX(xv[i]), T + ph, PX(xv[i]), T + ph + 5);
        fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\">", PX(xv[i]),
                T + ph + 20);
        gs_xml_escape(out, xs[i]);
        fputs("</text>\n", out);
    }
    fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n"
                 "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke=\"#333333\"/>\n",
            L, T + ph, L + pw, T + ph, L, T, L, T + ph);
    fprintf(out, "<text x=\"%.1f\" y=\"%.1f\" text-anchor=\"middle\" font-size=\"14\">",
            L + pw / 2, H - 20);
    gs_xml_escape(out, xname);
    fputs(logx ? " (log scale)" : "", out);
    fprintf(out, "</text>\n<text transform=\"translate(22 %.1f) rotate(-90)\" "
                 "text-anchor=\"middle\" font-size=\"14\">",
            T + ph / 2);
    gs_xml_escape(out, yname);
    fputs(" (mean)", out);
    fputs("</text>\n</g>\n", out);
    /* Lines, markers and legend. */
    for (int s = 0; s < ns; s++) {
        const char *col = palette[s % 8];
        fprintf(out, "<g class=\"series\" stroke=\"%s\" fill=\"%s\">\n<polyline fill=\"none\" "
                     "stroke-width=\"2.5\" points=\"",
                col, col);
        for (int i = 0; i < nx; i++)
            if (cnt[i * ns + s])
                fprintf(out, "%.1f,%.1f ", PX(xv[i]), PY(sum[i * ns + s] / cnt[i * ns + s]));
        fputs("\"/>\n", out);
        for (int i = 0; i < nx; i++)
            if (cnt[i * ns + s]) {
                double y = sum[i * ns + s] / cnt[i * ns + s];
                ylabel(buf, sizeof buf, y, yns);
                fprintf(out, "<circle cx=\"%.1f\" cy=\"%.1f\" r=\"4\"><title>", PX(xv[i]), PY(y));
                gs_xml_escape(out, xs[i]);
                fprintf(out, ": %s</title></circle>\n", buf);
            }
        double ly = T + 10 + 24 * s;
        fprintf(out, "<line x1=\"%.1f\" y1=\"%.1f\" x2=\"%.1f\" y2=\"%.1f\" stroke-width=\"3\"/>"
                     "<text x=\"%.1f\" y=\"%.1f\" font-size=\"13\" stroke=\"none\" fill=\"#000000\">",
                L + pw + 20, ly, L + pw + 44, ly, L + pw + 50, ly + 4);
        if (sname) {
            gs_xml_escape(out, sname);
            fputs(" = ", out);
        }
        gs_xml_escape(out, ss[s] ? ss[s] : yname);
        fputs("</text>\n</g>\n", out);
    }
    fputs("</svg>\n", out);
#undef PX
#undef PY
    free(xs), free(ss), free(sum), free(cnt), free(xv);
    return ferror(out) ? GS_EIO : 0;
}
