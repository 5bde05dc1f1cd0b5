/* parallel.h: large elementwise passes on the GEMM's thread pool.
 *
 *     static void body(void *ctx, size_t i0, size_t i1) { ... rows i0..i1 ... }
 *     xnn_parallel_range(body, &ctx, m, m * n);
 *
 * runs body over [0, count) split into one contiguous range per thread
 * when the pass touches at least XNN_PAR_MIN elements (cost), else in one
 * call on the calling thread. Use it only for independent iterations (no
 * reduction across them), so results do not depend on the thread count.
 * The pool is the one of gemm/pool.c: no second set of threads competes
 * with the GEMM's for the cores.
 */
#ifndef XNN_PARALLEL_H
#define XNN_PARALLEL_H

#include <stddef.h>

#define XNN_PAR_MIN 65536

void xnn_parallel_range(void (*body)(void *ctx, size_t i0, size_t i1), void *ctx,
                        size_t count, size_t cost);

#endif
