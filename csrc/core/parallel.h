/* parallel.h: the one thread pool (pool.c), used by every kernel.
 *
 *     static void chunk(void *ctx, size_t i) { ... chunk i ... }
 *     xnn_parallel_for(chunk, &ctx, n, threads);
 *
 * runs chunk(ctx, i) for every i in [0, n) on the calling thread and up to
 * threads - 1 workers and returns when all have run. Chunks must be
 * independent (no reduction across them), so that results never depend on
 * the thread count. A call made while the pool is busy (another thread's
 * product, or a call from inside a chunk) runs its chunks on the caller.
 *
 *     static void body(void *ctx, size_t i0, size_t i1) { ... items i0..i1 ... }
 *     xnn_parallel_range(body, &ctx, count, cost);
 *
 * runs body over [0, count) split into one contiguous range per thread
 * when the pass touches at least XNN_PAR_MIN elements (cost), else in one
 * call on the calling thread.
 */
#ifndef XNN_PARALLEL_H
#define XNN_PARALLEL_H

#include <stddef.h>

#define XNN_PAR_MIN 65536

void xnn_parallel_for(void (*fn)(void *ctx, size_t i), void *ctx, size_t n, int threads);
void xnn_parallel_range(void (*body)(void *ctx, size_t i0, size_t i1), void *ctx,
                        size_t count, size_t cost);
/* let every idle worker exit (they are made again when needed) */
void xnn_pool_release(void);

#endif
