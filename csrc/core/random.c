/* random.c: counter-based random numbers.
 *
 *   xnn_uniform(seed, stream, i)   splitmix64 of (seed, stream, i): a double in [0, 1)
 *   xnn_normal(sigma, ...)         Box-Muller from the uniforms 2i and 2i + 1
 *
 * A draw is a function of its coordinates alone, so dropout masks and
 * noise do not depend on the thread count, the chunking or call order.
 */
#ifndef XNN_T
#include <math.h>
#include "xnn.h"

/* splitmix64: a small, well-mixed generator of 64-bit words */
static uint64_t mix64(uint64_t z)
{
    z += 0x9E3779B97F4A7C15ull;
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

double xnn_uniform(uint64_t seed, uint64_t stream, uint64_t index)
{
    uint64_t z = mix64(mix64(seed ^ mix64(stream)) + index);
    return (double)(z >> 11) * (1.0 / 9007199254740992.0);   /* 53 bits */
}

double xnn_normal(double sigma, uint64_t seed, uint64_t stream, uint64_t index)
{
    const double two_pi = 6.283185307179586476925286766559;
    const double u1 = 1.0 - xnn_uniform(seed, stream, 2 * index);   /* (0, 1] */
    const double u2 = xnn_uniform(seed, stream, 2 * index + 1);
    return sigma * sqrt(-2.0 * log(u1)) * cos(two_pi * u2);
}

#define XNN_SELF "core/random.c"
#include "core/template.h"
#else

/* noise (n) */
int XNN_FN(xnn_gaussian_noise)(XNN_T *noise, double sigma, uint64_t seed, uint64_t stream,
                               size_t n)
{
    for (size_t i = 0; i < n; i++) noise[i] = (XNN_T)xnn_normal(sigma, seed, stream, i);
    return XNN_OK;
}

#endif
