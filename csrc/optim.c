/* optim.c: in-place parameter updates.
 *
 *   sgd       w -= lr g
 *   momentum  v = mu v + g;  w -= lr v        (nesterov: w -= lr (g + mu v))
 *   adam      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *             w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 */
#ifndef XNN_T
#include <math.h>
#include "xnn.h"
#define XNN_SELF "optim.c"
#include "template.h"
#else

/* W (n) -= lr * dW (n) */
int XNN_FN(xnn_sgd_update)(XNN_T *W, const XNN_T *dW, double lr, size_t n)
{
    XNN_T a = (XNN_T)lr;
    for (size_t i = 0; i < n; i++) W[i] -= a * dW[i];
    return XNN_OK;
}

/* W, V, dW (n) */
int XNN_FN(xnn_momentum_update)(XNN_T *W, XNN_T *V, const XNN_T *dW, double lr,
                                double mu, int nesterov, size_t n)
{
    XNN_T a = (XNN_T)lr, u = (XNN_T)mu;
    for (size_t i = 0; i < n; i++) {
        V[i] = u * V[i] + dW[i];
        W[i] -= nesterov ? a * (dW[i] + u * V[i]) : a * V[i];
    }
    return XNN_OK;
}

/* W, M, V, dW (n); t >= 1 */
int XNN_FN(xnn_adam_update)(XNN_T *W, XNN_T *M, XNN_T *V, const XNN_T *dW, double lr,
                            double beta1, double beta2, double eps, int64_t t, size_t n)
{
    if (t < 1) return XNN_EINVAL;
    XNN_T b1 = (XNN_T)beta1, b2 = (XNN_T)beta2, e = (XNN_T)eps;
    XNN_T c1 = (XNN_T)(1.0 / (1.0 - pow(beta1, (double)t)));
    XNN_T c2 = (XNN_T)(1.0 / (1.0 - pow(beta2, (double)t)));
    XNN_T a = (XNN_T)lr;
    for (size_t i = 0; i < n; i++) {
        XNN_T g = dW[i];
        M[i] = b1 * M[i] + (1 - b1) * g;
        V[i] = b2 * V[i] + (1 - b2) * g * g;
        W[i] -= a * (M[i] * c1) / (XNN_M(sqrt)(V[i] * c2) + e);
    }
    return XNN_OK;
}

#endif
