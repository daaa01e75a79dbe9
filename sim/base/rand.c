/* rand.c - seeded PRNG streams and duration draws.
 *
 * xoshiro256** (Blackman and Vigna), state filled by splitmix64 from
 * seed ^ golden * (stream + 1). Draws use double arithmetic from libm (log,
 * sqrt, cos); results are identical wherever the same libm is used. */
#include "rand.h"

#include <math.h>

static uint64_t splitmix64(uint64_t *x)
{
    uint64_t z = (*x += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

void gs__rng_seed(gs_rng_t *r, uint64_t seed, uint64_t stream)
{
    uint64_t x = seed ^ (0x9E3779B97F4A7C15ull * (stream + 1));
    for (int i = 0; i < 4; i++)
        r->s[i] = splitmix64(&x);
}

static uint64_t rotl(uint64_t x, int k)
{
    return (x << k) | (x >> (64 - k));
}

uint64_t gs__rng_next(gs_rng_t *r)
{
    uint64_t *s = r->s;
    uint64_t result = rotl(s[1] * 5, 7) * 9;
    uint64_t t = s[1] << 17;
    s[2] ^= s[0];
    s[3] ^= s[1];
    s[1] ^= s[2];
    s[0] ^= s[3];
    s[2] ^= t;
    s[3] = rotl(s[3], 45);
    return result;
}

double gs__rng_unit(gs_rng_t *r)
{
    return (double)(gs__rng_next(r) >> 11) * 0x1.0p-53;
}

static int64_t clamp_ns(double v)
{
    if (!(v > 0))
        return 0;
    if (v > 9.0e18)
        return INT64_C(9000000000000000000);
    return (int64_t)llround(v);
}

int64_t gs__rng_draw(gs_rng_t *r, const gs_dur_t *d)
{
    switch (d->dist) {
    case GS_DIST_FIXED:
        return d->a_ns < 0 ? 0 : d->a_ns;
    case GS_DIST_UNIFORM: {
        if (d->b_ns <= d->a_ns)
            return d->a_ns < 0 ? 0 : d->a_ns;
        uint64_t span = (uint64_t)(d->b_ns - d->a_ns) + 1;
        return d->a_ns + (int64_t)(gs__rng_next(r) % span);
    }
    case GS_DIST_EXP:
        return clamp_ns(-(double)d->a_ns * log(1.0 - gs__rng_unit(r)));
    case GS_DIST_NORMAL: {
        /* Box-Muller; one of the pair is thrown away to keep draws independent
         * of call history. */
        double u1 = 1.0 - gs__rng_unit(r), u2 = gs__rng_unit(r);
        double z = sqrt(-2.0 * log(u1)) * cos(2.0 * 3.14159265358979323846 * u2);
        return clamp_ns((double)d->a_ns + z * (double)d->b_ns);
    }
    }
    return 0;
}
