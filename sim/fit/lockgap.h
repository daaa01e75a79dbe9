/* lockgap.h - the releaser's own gap from a Lock release to its next try,
 * read off a recording's hand-offs on one CPU (lockgap.c). */
#ifndef GILSIM_FIT_LOCKGAP_H
#define GILSIM_FIT_LOCKGAP_H
#include <stdint.h>

/* Fewer same-CPU hand-offs than this: the gap is not read (lockrace.c keeps
 * its median of the fitted Python). */
#define FIT_LOCKGAP_MIN 8

/* The median, over the recording's Lock releases whose woken waiter ran on
 * the releaser's CPU and took the Lock while the releaser then blocked on
 * it, of the releaser's time from getting its CPU back (the waiter's GIL
 * ask plus one context switch, cs_ns) to its GIL drop before blocking; *n
 * such releases. -1 when not read (no CPUs recorded, an unreadable file,
 * fewer than FIT_LOCKGAP_MIN), -2 out of memory. */
int64_t fit_lock_gap_read(const char *rec_path, int64_t cs_ns, int64_t *n);

#endif
