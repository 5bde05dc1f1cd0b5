/* loss.c: losses over rows of class scores, their statistics and gradients.
 *
 * With y the one-hot row of the label and p a row of the output P:
 *   cross_entropy         L = -log p[label]
 *   binary_cross_entropy  L = -sum_j y_j log p_j + (1 - y_j) log(1 - p_j)
 *   ssr                   L = 0.5 sum_j (y_j - p_j)^2
 * Logarithms are taken of max(p, smallest normal), so a probability that
 * underflowed to 0 gives a large finite loss rather than infinity; a NaN
 * output (a diverged network) gives a NaN loss, never the clamp.
 * Sums are accumulated in double in row order for both dtypes.
 */
#ifndef XNN_T
#include "xnn.h"
#define XNN_SELF "train/loss.c"
#include "core/template.h"
#else

/* stats[3] += (sum of L, sum of SSR, number correct) over P (m,n), labels (m) */
int XNN_FN(xnn_loss_forward)(double stats[3], const XNN_T *P, const int64_t *labels,
                             int loss, size_t m, size_t n)
{
    if (loss < XNN_LOSS_CROSS_ENTROPY || loss > XNN_LOSS_SSR) return XNN_EINVAL;
    double s_loss = 0, s_ssr = 0, correct = 0;
    for (size_t i = 0; i < m; i++) {
        const XNN_T *p = P + i * n;
        int64_t t = labels[i];
        if (t < 0 || (size_t)t >= n) return XNN_EINVAL;
        size_t best = 0;
        double ssr = 0;
        for (size_t j = 0; j < n; j++) {
            if (p[j] > p[best]) best = j;
            double d = (j == (size_t)t ? 1.0 : 0.0) - (double)p[j];
            ssr += d * d;
        }
        ssr *= 0.5;
        double l;
        if (loss == XNN_LOSS_CROSS_ENTROPY) {
            XNN_T pt = p[t] < XNN_TINY ? XNN_TINY : p[t];    /* NaN stays NaN */
            l = -(double)XNN_M(log)(pt);
        } else if (loss == XNN_LOSS_BINARY_CROSS_ENTROPY) {
            l = 0;
            for (size_t j = 0; j < n; j++) {
                XNN_T q = j == (size_t)t ? p[j] : 1 - p[j];
                l -= (double)XNN_M(log)(q < XNN_TINY ? XNN_TINY : q);
            }
        } else {
            l = ssr;
        }
        s_loss += l;
        s_ssr += ssr;
        correct += best == (size_t)t;
    }
    stats[0] += s_loss;
    stats[1] += s_ssr;
    stats[2] += correct;
    return XNN_OK;
}

/* dZ (m,n) = scale * dL/dZ for P = act(Z) (m,n), labels (m) */
int XNN_FN(xnn_loss_backward)(XNN_T *dZ, const XNN_T *P, const int64_t *labels,
                              int loss, int act, double scale, size_t m, size_t n)
{
    if (loss < XNN_LOSS_CROSS_ENTROPY || loss > XNN_LOSS_SSR) return XNN_EINVAL;
    XNN_T s = (XNN_T)scale;
    int fused = (loss == XNN_LOSS_CROSS_ENTROPY && act == XNN_ACT_SOFTMAX) ||
                (loss == XNN_LOSS_BINARY_CROSS_ENTROPY && act == XNN_ACT_SIGMOID);
    for (size_t i = 0; i < m; i++) {
        const XNN_T *p = P + i * n;
        XNN_T *dz = dZ + i * n;
        int64_t t = labels[i];
        if (t < 0 || (size_t)t >= n) return XNN_EINVAL;
        for (size_t j = 0; j < n; j++) {
            XNN_T y = j == (size_t)t ? 1 : 0;
            XNN_T g;                     /* dL/dp_j, or dL/dz_j when fused */
            if (fused || loss == XNN_LOSS_SSR) {
                g = p[j] - y;
            } else if (loss == XNN_LOSS_CROSS_ENTROPY) {
                XNN_T pt = p[j] < XNN_TINY ? XNN_TINY : p[j];
                g = -y / pt;
            } else {
                XNN_T q = p[j] * (1 - p[j]);
                g = (p[j] - y) / (q < XNN_TINY ? XNN_TINY : q);
            }
            dz[j] = s * g;
        }
    }
    if (fused) return XNN_OK;
    return XNN_FN(xnn_activation_backward)(dZ, P, dZ, act, m, n);
}

#endif
