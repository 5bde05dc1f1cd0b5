/* dense.c: the fully connected layer, forward and backward.
 *
 *   forward   Z = X W + b,  Y = act(Z)
 *   backward  dX = dZ W^T,  dW = X^T dZ,  db = sum_rows dZ
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "gemm/gemm_internal.h"
#define XNN_SELF "dense.c"
#include "template.h"
#else

/* Y (m,n) = act(X (m,k) . W (k,n) + b (n)) */
int XNN_FN(xnn_dense_forward)(XNN_T *Y, const XNN_T *X, const XNN_T *W,
                              const XNN_T *b, int act, size_t m, size_t k, size_t n)
{
    /* bias and ReLU are applied by the GEMM to each tile while it is in
       cache; other activations run afterwards */
    const int fused = act == XNN_ACT_RELU || act == XNN_ACT_LINEAR;
    int st = XNN_FN(xnn_gemm_epilogue)(Y, X, W, 0, 0, 0, m, n, k, b,
                                       act == XNN_ACT_RELU ? XNN_EPI_RELU : XNN_EPI_NONE, NULL);
    if (st != XNN_OK || fused) return st;
    return XNN_FN(xnn_activation_forward)(Y, Y, act, m, n);
}

/* dX (m,k) = dZ (m,n) . W^T;  dW (k,n) = X (m,k)^T . dZ;  db (n) = sum_i dZ[i,:] */
int XNN_FN(xnn_dense_backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, const XNN_T *dZ,
                               const XNN_T *X, const XNN_T *W,
                               size_t m, size_t k, size_t n)
{
    int st;
    if (dX) {
        st = XNN_FN(xnn_gemm)(dX, dZ, W, 0, 0, 1, m, k, n);
        if (st != XNN_OK) return st;
    }
    if (dW) {
        st = XNN_FN(xnn_gemm)(dW, X, dZ, 0, 1, 0, k, n, m);
        if (st != XNN_OK) return st;
    }
    if (db) XNN_FN(xnn_bias_grad)(db, dZ, m, n, 0);
    return XNN_OK;
}

void XNN_FN(xnn_bias_grad)(XNN_T *db, const XNN_T *dZ, size_t m, size_t n, int add)
{
    if (!add) memset(db, 0, n * sizeof(XNN_T));
    for (size_t i = 0; i < m; i++) {
        const XNN_T *dz = dZ + i * n;
        for (size_t j = 0; j < n; j++) db[j] += dz[j];
    }
}

#endif
