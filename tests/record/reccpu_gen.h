/* reccpu_gen.h - random spools written by the recorder's writer
 * (reccpu_gen.c), for check_reccpu.c: the two sides cannot share a
 * translation unit (spool.h and recfile_int.h both name gsr_event_t). */
#ifndef GILSIM_RECCPU_GEN_H
#define GILSIM_RECCPU_GEN_H

#include <stddef.h>
#include <stdint.h>

typedef struct reccpu_want {
    int64_t t;        /* where the reader has it: a span's start */
    const char *kind; /* as the file names it: "hold", "lock_wait"... (static) */
    int cpu;          /* the CPU the reader must give, -1 none */
} reccpu_want_t;

/* Writes a recording of one thread of random events (seeded) to path with
 * gsr_write_recording; *want (malloc'ed, the caller frees it) gets what
 * each event of the file must read back as. Returns their count. */
size_t reccpu_write_random(uint64_t seed, const char *path, reccpu_want_t **want);

#endif
