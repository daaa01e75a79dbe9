/* rand.h - seeded PRNG streams (xoshiro256**, seeded by splitmix64).
 *
 * One stream per thread (and per GIL), derived from (seed, stream id) alone, so
 * adding a thread does not change the others' draws. */
#ifndef GILSIM_RAND_H
#define GILSIM_RAND_H

#include <stdint.h>

#include "gilsim/model.h"

typedef struct gs_rng {
    uint64_t s[4];
} gs_rng_t;

void gs__rng_seed(gs_rng_t *r, uint64_t seed, uint64_t stream);
uint64_t gs__rng_next(gs_rng_t *r);
double gs__rng_unit(gs_rng_t *r); /* [0, 1) with 53 random bits */
int64_t gs__rng_draw(gs_rng_t *r, const gs_dur_t *d); /* >= 0 */

#endif
