/* program.h - program.c's interface for the engine: the op interpreter. */
#ifndef GILSIM_PROGRAM_H
#define GILSIM_PROGRAM_H

#include "gilsim/engine.h"

/* program.c */
void gs__program_body(gs_ctx_t *c, void *user);

#endif
