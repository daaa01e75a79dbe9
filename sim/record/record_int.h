/* record_int.h - what the record layer's files share (layer-private). */
#ifndef GILSIM_RECORD_INT_H
#define GILSIM_RECORD_INT_H

#include <stddef.h>
#include <stdint.h>

/* Reads fd to its end into a malloc'ed, NUL-terminated buffer (*n bytes
 * before the NUL); NULL on a read error (errno) or OOM. */
char *gsr_read_all(int fd, size_t *n);

/* The index of the first of v[0..n) (sorted) that is greater than t; n if
 * none. O(log n). */
size_t gsr_first_after(const int64_t *v, size_t n, int64_t t);

#endif
