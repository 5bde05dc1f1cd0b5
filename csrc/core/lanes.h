/* lanes.h: sums in 16 lanes, without the latency of one long chain of
 * additions: term q of a run goes to lane q mod 16 (whole vectors for the
 * compiler), then the lanes are added as a tree, (l, l + 8), (l, l + 4),
 * then (a0 + a2) + (a1 + a3). The order is fixed, so the bits do not
 * depend on threads or on the instruction set.
 *
 *     XNN_T a[16] = {0};
 *     xnn_lanes_add(a, x, n);      (for each run, in order)
 *     sum = xnn_lanes_total(a);
 *
 * (with the dtype suffix, XNN_FN). gemm/gemv_body.h's dot products use the
 * same tree on products, compiled per instruction set. */
#ifndef XNN_T
#ifndef XNN_LANES_H
#define XNN_LANES_H
#include <stddef.h>
#define XNN_SELF "core/lanes.h"
#include "core/template.h"
#endif
#else

/* a[q mod 16] += x[q] for q < n (the lanes held in a local copy, so
   that the compiler keeps them in vector registers) */
static inline void XNN_FN(xnn_lanes_add)(XNN_T *a, const XNN_T *x, size_t n)
{
    XNN_T s[16];
    for (int l = 0; l < 16; l++) s[l] = a[l];
    size_t q = 0;
    for (; q + 16 <= n; q += 16)
        for (int l = 0; l < 16; l++) s[l] += x[q + l];
    for (int l = 0; q + (size_t)l < n; l++) s[l] += x[q + l];
    for (int l = 0; l < 16; l++) a[l] = s[l];
}

/* the 16 lanes added as the tree above (a is overwritten) */
static inline XNN_T XNN_FN(xnn_lanes_total)(XNN_T *a)
{
    for (int l = 0; l < 8; l++) a[l] += a[l + 8];
    for (int l = 0; l < 4; l++) a[l] += a[l + 4];
    return (a[0] + a[2]) + (a[1] + a[3]);
}

#endif
