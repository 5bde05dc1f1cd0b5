/* flatten.c: (C, H, W) -> (C H W, 1, 1), the same memory.
 *
 *   forward    Y = X            backward   dX = dY
 *   relevance  R_in = R
 *
 * A plan gives flatten's output the memory of its input, so these copy
 * only when they are handed different buffers.
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "layers/op.h"
#define XNN_SELF "layers/flatten.c"
#include "core/template.h"
#else

static void XNN_FN(copy)(XNN_T *dst, const XNN_T *src, const XNN_T *relu, size_t len)
{
    if (!dst) return;
    if (relu)
        for (size_t i = 0; i < len; i++) {
            const XNN_T v = src[i]; /* read always: a select, not a branch */
            dst[i] = relu[i] > 0 ? v : 0;
        }
    else if (dst != src)
        memcpy(dst, src, len * sizeof(XNN_T));
}

static size_t XNN_FN(flatten_saved)(const xnn_node *n, size_t m, int flags)
{
    (void)n, (void)m, (void)flags;
    return 0;
}

static size_t XNN_FN(flatten_scratch)(const xnn_node *n, size_t m, int flags, int threads)
{
    (void)n, (void)m, (void)flags, (void)threads;
    return 0;
}

static int XNN_FN(flatten_forward)(XNN_T *Y, XNN_T *Z, void *saved, void *work, const XNN_T *X,
                                   const xnn_node *n, int flags, int threads, size_t m)
{
    (void)saved, (void)work, (void)flags, (void)threads;
    XNN_FN(copy)(Y, X, NULL, m * xnn_node_in(n));
    if (Z && Z != Y) XNN_FN(copy)(Z, X, NULL, m * xnn_node_in(n));
    return XNN_OK;
}

static int XNN_FN(flatten_backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, void *work,
                                    const XNN_T *dZ, const void *saved, const XNN_T *X,
                                    const XNN_T *relu, const xnn_node *n,
                                    const XNN_FN(xnn_update) *update, int add, int threads,
                                    size_t m)
{
    (void)dW, (void)db, (void)work, (void)saved, (void)X, (void)update, (void)add, (void)threads;
    XNN_FN(copy)(dX, dZ, relu, m * xnn_node_in(n));
    return XNN_OK;
}

static int XNN_FN(flatten_relevance)(XNN_T *Rin, void *work, const XNN_T *R, const XNN_T *X,
                                     const XNN_T *Y, const void *saved, const xnn_node *n,
                                     int pool, XNN_T eps, int threads, size_t m)
{
    (void)work, (void)X, (void)Y, (void)saved, (void)pool, (void)eps, (void)threads;
    XNN_FN(copy)(Rin, R, NULL, m * xnn_node_in(n));
    return XNN_OK;
}

const XNN_FN(xnn_op) XNN_FN(xnn_flatten_op) = {
    XNN_FN(flatten_saved), XNN_FN(flatten_scratch), XNN_FN(flatten_forward),
    XNN_FN(flatten_backward), NULL, NULL, XNN_FN(flatten_relevance), NULL, NULL, NULL,
    NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
};

#endif
