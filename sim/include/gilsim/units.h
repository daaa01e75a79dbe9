/* units.h - durations: the exact parser and the formatters (base layer).
 *
 * One language for durations everywhere: a non-negative decimal number and
 * a unit, ns, us, ms or s, with no space ("5ms", "1.5us", "0.25s"). */
#ifndef GILSIM_UNITS_H
#define GILSIM_UNITS_H

#include <stddef.h>
#include <stdint.h>

#include "common.h"

#define GS_MAX_DURATION_NS INT64_C(86400000000000) /* 1 day: the longest duration */

/* Parses s exactly into *ns. 0, or -1 with why (n bytes; may be NULL when n
 * is 0) saying what was wrong and what would be valid. */
GS_API int gs_parse_ns(const char *s, int64_t *ns, char *why, size_t n);

/* "1.5ms", "250us", "7ns": the largest unit that keeps it exact; what
 * gs_parse_ns reads back to the same ns. Returns buf. */
GS_API char *gs_format_ns_exact(int64_t ns, char *buf, size_t n);

/* A duration for people: "950 ns", "12.5 us", "3.25 ms", "1.5 s". Returns buf. */
GS_API char *gs_format_ns(int64_t ns, char *buf, size_t n);

#endif
