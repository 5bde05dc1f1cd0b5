/* activation.c: element-wise activations and dropout, forward and backward.
 *
 *   relu     y = max(z, 0)              dz = dy * [y > 0]
 *   tanh     y = tanh z                 dz = dy * (1 - y^2)
 *   sigmoid  y = 1 / (1 + e^-z)         dz = dy * y (1 - y)
 *   softmax  y_j = e^(z_j - max z) / sum_i e^(z_i - max z)   (row-wise)
 *                                       dz_j = y_j (dy_j - sum_i y_i dy_i)
 *   dropout  y = x * mask / keep        dx = dy * mask / keep
 *
 * The backward passes need only the saved output y, never z. Empty
 * rows (n = 0) are left alone.
 */
#ifndef XNN_T
#include "xnn.h"
#define XNN_SELF "layers/activation.c"
#include "core/template.h"
#else

/* Y (m,n) = act(Z (m,n)); Y may alias Z */
int XNN_FN(xnn_activation_forward)(XNN_T *Y, const XNN_T *Z, int act, size_t m, size_t n)
{
    size_t len = m * n;
    if (len == 0) return act >= XNN_ACT_LINEAR && act <= XNN_ACT_SOFTMAX ? XNN_OK : XNN_EINVAL;
    switch (act) {
    case XNN_ACT_LINEAR:
        if (Y != Z) for (size_t i = 0; i < len; i++) Y[i] = Z[i];
        return XNN_OK;
    case XNN_ACT_RELU:
        for (size_t i = 0; i < len; i++) Y[i] = Z[i] < 0 ? 0 : Z[i];
        return XNN_OK;
    case XNN_ACT_TANH:
        for (size_t i = 0; i < len; i++) Y[i] = XNN_M(tanh)(Z[i]);
        return XNN_OK;
    case XNN_ACT_SIGMOID:
        for (size_t i = 0; i < len; i++) {
            XNN_T z = Z[i];
            if (z >= 0) {
                Y[i] = 1 / (1 + XNN_M(exp)(-z));
            } else {
                XNN_T e = XNN_M(exp)(z);
                Y[i] = e / (1 + e);
            }
        }
        return XNN_OK;
    case XNN_ACT_SOFTMAX:
        for (size_t r = 0; r < m; r++) {
            const XNN_T *z = Z + r * n;
            XNN_T *y = Y + r * n;
            XNN_T zmax = z[0];
            for (size_t j = 1; j < n; j++) if (z[j] > zmax) zmax = z[j];
            XNN_T sum = 0;
            for (size_t j = 0; j < n; j++) { y[j] = XNN_M(exp)(z[j] - zmax); sum += y[j]; }
            for (size_t j = 0; j < n; j++) y[j] /= sum;
        }
        return XNN_OK;
    default:
        return XNN_EINVAL;
    }
}

/* dZ (m,n) from the saved output Y (m,n) and dY (m,n); dZ may alias dY */
int XNN_FN(xnn_activation_backward)(XNN_T *dZ, const XNN_T *Y, const XNN_T *dY,
                                    int act, size_t m, size_t n)
{
    size_t len = m * n;
    if (len == 0) return act >= XNN_ACT_LINEAR && act <= XNN_ACT_SOFTMAX ? XNN_OK : XNN_EINVAL;
    switch (act) {
    case XNN_ACT_LINEAR:
        if (dZ != dY) for (size_t i = 0; i < len; i++) dZ[i] = dY[i];
        return XNN_OK;
    case XNN_ACT_RELU:
        for (size_t i = 0; i < len; i++) dZ[i] = Y[i] > 0 ? dY[i] : 0;
        return XNN_OK;
    case XNN_ACT_TANH:
        for (size_t i = 0; i < len; i++) dZ[i] = dY[i] * (1 - Y[i] * Y[i]);
        return XNN_OK;
    case XNN_ACT_SIGMOID:
        for (size_t i = 0; i < len; i++) dZ[i] = dY[i] * (Y[i] * (1 - Y[i]));
        return XNN_OK;
    case XNN_ACT_SOFTMAX:
        for (size_t r = 0; r < m; r++) {
            const XNN_T *y = Y + r * n, *dy = dY + r * n;
            XNN_T *dz = dZ + r * n;
            XNN_T dot = 0;
            for (size_t j = 0; j < n; j++) dot += y[j] * dy[j];
            for (size_t j = 0; j < n; j++) dz[j] = y[j] * (dy[j] - dot);
        }
        return XNN_OK;
    default:
        return XNN_EINVAL;
    }
}

/* Y (n) = X (n) * mask / keep, mask[i] = [uniform(seed, stream, i) < keep] */
int XNN_FN(xnn_dropout_forward)(XNN_T *Y, uint8_t *mask, const XNN_T *X, double keep,
                                uint64_t seed, uint64_t stream, uint64_t first, size_t n)
{
    if (!(keep > 0 && keep <= 1)) return XNN_EINVAL;
    XNN_T inv = (XNN_T)(1.0 / keep);
    for (size_t i = 0; i < n; i++) {
        mask[i] = xnn_uniform(seed, stream, first + i) < keep;
        Y[i] = mask[i] ? X[i] * inv : 0;
    }
    return XNN_OK;
}

/* dX (n) = dY (n) * mask / keep */
int XNN_FN(xnn_dropout_backward)(XNN_T *dX, const uint8_t *mask, const XNN_T *dY,
                                 double keep, size_t n)
{
    if (!(keep > 0 && keep <= 1)) return XNN_EINVAL;
    XNN_T inv = (XNN_T)(1.0 / keep);
    for (size_t i = 0; i < n; i++) dX[i] = mask[i] ? dY[i] * inv : 0;
    return XNN_OK;
}

#endif
