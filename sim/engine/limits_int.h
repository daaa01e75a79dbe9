/* limits_int.h - limits.c's interface for the engine: the memory budget and the
 * thread preflight (not limits.h: the engine's include path would shadow
 * <limits.h>). */
#ifndef GILSIM_LIMITS_INT_H
#define GILSIM_LIMITS_INT_H

#include <stddef.h>

#include "gilsim/common.h"

/* limits.c */
size_t gs__budget_default(void); /* GILSIM_MEMORY_BUDGET, else the default */
void gs__format_bytes(size_t n, char *buf, size_t len); /* "1 GiB", "12 MiB" */
/* 0, or GS_ETHREAD with err->msg naming the kernel limit that cannot hold n
 * threads with stacks of stack_bytes. */
int gs__preflight_threads(int n, size_t stack_bytes, gs_error_t *err);

#endif
