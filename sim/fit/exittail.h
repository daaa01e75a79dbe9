/* exittail.h - a thread's end woke its joiner before its final GIL drop
 * (exittail.c; fit-private): python.exit_posts_early and exit_tail read
 * off the recording. */
#ifndef GILSIM_FIT_EXITTAIL_H
#define GILSIM_FIT_EXITTAIL_H

#include <stddef.h>

#include "fit_int.h"

struct gsr_recording;

/* f->exit_n, exit_tail_ns and its range from r's thread ends that woke a
 * waiting joiner (0 of them: nothing written). After fit_wake_ipi (the
 * post's cost uses f->wake_ipi_ns). 0, or -1 out of memory. */
int fit_exit_tail(const struct gsr_recording *r, fscenario_t *f);
/* exit_posts_early and exit_tail into the python block (a cJSON *) when
 * read. */
void fit_exit_json(void *python, const fscenario_t *f);
/* Its sentence for the description ("" none). */
const char *fit_exit_note(const struct gsr_recording *r, const fscenario_t *f, char *buf, size_t n);

#endif
