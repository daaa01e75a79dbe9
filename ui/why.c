/* why.c - the side panel's "why is this thread not running?" section: the
 * causal chain of the selected thread at the playhead (gs_explain, from the
 * trace alone), word-wrapped, one paragraph per link, whole: the panel
 * scrolls (queues.c) rather than cut it. */
#include "view.h"

#include <stdlib.h>
#include <string.h>

/* The chain's text for thread th of run at t, malloc'ed; NULL on OOM. */
char *gv_why_text(const gv_view_t *v, int run, int th, int64_t t)
{
    const gs_trace_t *tr = v->run[run].trace;
    if (!tr || th < 0 || th >= gs_trace_n_threads(tr))
        return NULL;
    gs_why_link_t chain[GS_WHY_MAX_CHAIN];
    int n = gs_explain(tr, th, t, chain, GS_WHY_MAX_CHAIN);
    size_t need = gs_explain_text(tr, t, chain, n, NULL, 0) + 1;
    char *buf = malloc(need);
    if (buf)
        gs_explain_text(tr, t, chain, n, buf, need);
    return buf;
}

int gv_draw_why(gv_view_t *v, SDL_Renderer *r, int run, int64_t t, int x, int y, int w)
{
    (void)r;
    const gs_trace_t *tr = v->run[run].trace;
    int th = gv_view_thread_in(v, run); /* the selected thread, by name in this run */
    if (!tr || th < 0 || th >= gs_trace_n_threads(tr))
        return y;
    int line = v->lay.line;
    char head[160], which[8] = "";
    if (v->n_runs > 1)
        snprintf(which, sizeof which, "(%c) ", 'A' + run);
    snprintf(head, sizeof head, "Why? %s%s", which,
             gs_trace_lane(tr, gs_trace_thread_lane(tr, th))->name);
    y += v->lay.px / 4;
    int k = gv_text_wrap(v->text, GV_BOLD, GV_INK, x, y, w, head, 3, 1);
    y += (k > 0 ? k : 1) * line;
    char *txt = gv_why_text(v, run, th, t);
    if (!txt)
        return y;
    /* the whole chain: the panel scrolls when it is longer than the panel */
    for (char *s = txt; *s;) {
        char *nl = strchr(s, '\n');
        if (nl)
            *nl = '\0';
        bool detail = s[0] == ' ' && strncmp(s, "  ->", 4) != 0;
        while (*s == ' ')
            s++;
        int indent = detail ? v->lay.px : 0;
        k = gv_text_wrap(v->text, GV_REGULAR, detail ? GV_MUTED : GV_INK, x + indent, y,
                         w - indent, s, 64, 1);
        y += k * line;
        if (!nl)
            break;
        s = nl + 1;
    }
    free(txt);
    return y;
}
