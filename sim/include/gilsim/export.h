/* export.h - a trace and its metrics as files: JSON summary, Chrome/Perfetto
 * trace events, CSV intervals and a standalone SVG timeline.
 *
 * Every exporter writes to a stdio stream and returns 0, GS_EIO (the stream
 * reported an error) or GS_ENOMEM. gs_export_file() wraps any of them so
 * that the file appears complete or not at all: it writes a temporary file in
 * the same folder and renames it over the target. The formats are described
 * in docs/cli.md and the metric names in docs/metrics.md. This module uses
 * cJSON for everything JSON. */
#ifndef GILSIM_EXPORT_H
#define GILSIM_EXPORT_H

#include <stdint.h>
#include <stdio.h>

#include "common.h"
#include "stats.h"
#include "trace.h"
#include "units.h" /* gs_format_ns, declared here before */

/* The JSON summary (docs/metrics.md) as a malloc'ed, pretty-printed string
 * ending in a newline; NULL on OOM. */
GS_API char *gs_summary_json(const gs_trace_t *t, const gs_stats_t *s);
GS_API int gs_export_summary(const gs_trace_t *t, const gs_stats_t *s, FILE *out);

/* Chrome Trace Event JSON (object form) for ui.perfetto.dev and
 * chrome://tracing: one process per simulated process holding its GIL track
 * and its threads' tracks, one process "cores" holding a track per core;
 * states as complete ("X") events, instants as "i" events. Times are
 * microseconds with a fractional part. */
GS_API int gs_export_chrome(const gs_trace_t *t, FILE *out);

/* CSV, one interval per row after a header line:
 * lane_kind,lane,process,thread,state,start_ns,end_ns,op */
GS_API int gs_export_csv(const gs_trace_t *t, FILE *out);
/* Writes one CSV field: as it is, or in double quotes (quotes doubled) when
 * it holds a comma, a quote or a line break (RFC 4180). NULL is empty. */
GS_API void gs_csv_field(FILE *out, const char *s);

/* The run metrics as CSV columns after the caller's own: the header
 * ",outcome,makespan_ns,..." (the keys of GS_METRIC_MAP, gilsim/stats.h) and
 * a row of s in the same order; with s NULL, a run that has no metrics:
 * outcome "error" and empty fields. No newline. */
GS_API void gs_metrics_csv_header(FILE *out);
GS_API void gs_metrics_csv_row(FILE *out, const gs_stats_t *s);

typedef struct gs_svg_opts {
    int width_px;       /* whole picture; 0 = 1200 */
    int64_t from_ns;    /* visible range; from = to = 0 means the whole trace */
    int64_t to_ns;
    const char *title;  /* NULL = the scenario's name */
} gs_svg_opts_t;

GS_API void gs_svg_opts_init(gs_svg_opts_t *o);
/* Writes s as XML text or attribute content (&<>"' escaped, control
 * characters that XML 1.0 forbids dropped). */
GS_API void gs_xml_escape(FILE *out, const char *s);
/* A standalone SVG timeline: title, per process a GIL lane and its threads'
 * lanes, then the cores, a time axis and a legend, in gs_state_color()s.
 * Intervals narrower than a pixel are merged (the state covering most of the
 * pixel wins), so a million intervals still give a small file. o may be NULL. */
GS_API int gs_export_svg(const gs_trace_t *t, const gs_svg_opts_t *o, FILE *out);

/* Writes path through fn(out, ctx): to a temporary file next to path, then
 * renamed over it, so path is either complete or untouched. "-" writes to
 * stdout. Returns 0, or GS_EIO with err (may be NULL) naming the file and the
 * system's reason; a failing fn leaves no file behind. */
typedef int (*gs_export_fn)(FILE *out, void *ctx);
GS_API int gs_export_file(const char *path, gs_export_fn fn, void *ctx, gs_error_t *err);
/* The same, without the fsync before the rename: still complete or untouched
 * for any reader, but a power cut may lose it. For a file that holds nothing
 * a crash could lose (a sweep's --out before its first row). */
GS_API int gs_export_file_nosync(const char *path, gs_export_fn fn, void *ctx, gs_error_t *err);

/* Several outputs committed together (what gs_export_file does for one).
 * gs_output_open classifies path: a regular file or a new name gets a
 * temporary file renamed over it at commit (symlinks followed); a character
 * device or a FIFO is written in place; "-", /dev/stdout and /dev/fd/N are
 * written through that descriptor; a directory, block device or socket is
 * refused (GS_EIO, err says what it is). Write to gs_output_stream, then
 * gs_output_commit all of them: every temporary is renamed only if every
 * output was written without error; otherwise none is, all temporaries are
 * removed and err names the first failure. Commit and abort free the
 * outputs. gs_output_fail marks an output whose writer failed.
 * gs_output_remove_temps() is async-signal-safe: it unlinks every temporary
 * not yet committed, for a signal handler that exits at once. */
typedef struct gs_output gs_output_t;
GS_API int gs_output_open(const char *path, gs_output_t **out, gs_error_t *err);
GS_API FILE *gs_output_stream(gs_output_t *o);
GS_API void gs_output_fail(gs_output_t *o);
GS_API int gs_output_commit(gs_output_t **list, int n, gs_error_t *err);
GS_API void gs_output_abort(gs_output_t *o);
GS_API void gs_output_remove_temps(void);

#endif
