/* optim.c: in-place parameter updates.
 *
 *   sgd       w -= lr g
 *   momentum  v = mu v + g;  w -= lr v        (nesterov: w -= lr (g + mu v))
 *   adam      m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2;
 *             w -= lr (m / (1 - b1^t)) / (sqrt(v / (1 - b2^t)) + eps)
 *   ascent    x += lr g / rms(g) - lr l2 x - e, clipped, per row: an input's
 *             normalized gradient ascent (activation maximization)
 *
 * Each rule is one loop over elements, shared by the whole-array entry
 * points and by xnn_optimizer_step, which a training step calls on each
 * tile of dW as the GEMM finishes it, and by xnn_update_params, which steps a
 * whole node's W and b at once: every element is updated by the same
 * expression either way, so the bits do not depend on the route.
 */
#ifndef XNN_T
#include <math.h>
#include "xnn.h"
#include "layers/op.h"

void xnn_adam_corrections(double beta1, double beta2, int64_t t, double c[2])
{
    c[0] = 1.0 / (1.0 - pow(beta1, (double)t));
    c[1] = 1.0 / (1.0 - pow(beta2, (double)t));
}

#define XNN_SELF "train/optim.c"
#include "core/template.h"
#else

static inline void XNN_FN(sgd)(XNN_T *W, const XNN_T *dW, XNN_T a, size_t n)
{
    for (size_t i = 0; i < n; i++) W[i] -= a * dW[i];
}

static inline void XNN_FN(momentum)(XNN_T *W, XNN_T *V, const XNN_T *dW, XNN_T a, XNN_T u,
                                    int nesterov, size_t n)
{
    for (size_t i = 0; i < n; i++) {
        V[i] = u * V[i] + dW[i];
        W[i] -= nesterov ? a * (dW[i] + u * V[i]) : a * V[i];
    }
}

/* c: xnn_adam_corrections of the step */
static inline void XNN_FN(adam)(XNN_T *W, XNN_T *M, XNN_T *V, const XNN_T *dW, XNN_T a,
                                XNN_T b1, XNN_T b2, XNN_T e, const double c[2], size_t n)
{
    const XNN_T c1 = (XNN_T)c[0], c2 = (XNN_T)c[1];
    for (size_t i = 0; i < n; i++) {
        XNN_T g = dW[i];
        M[i] = b1 * M[i] + (1 - b1) * g;
        V[i] = b2 * V[i] + (1 - b2) * g * g;
        W[i] -= a * (M[i] * c1) / (XNN_M(sqrt)(V[i] * c2) + e);
    }
}

/* W (n) -= lr * dW (n) */
int XNN_FN(xnn_sgd_update)(XNN_T *W, const XNN_T *dW, double lr, size_t n)
{
    XNN_FN(sgd)(W, dW, (XNN_T)lr, n);
    return XNN_OK;
}

/* W, V, dW (n) */
int XNN_FN(xnn_momentum_update)(XNN_T *W, XNN_T *V, const XNN_T *dW, double lr,
                                double mu, int nesterov, size_t n)
{
    XNN_FN(momentum)(W, V, dW, (XNN_T)lr, (XNN_T)mu, nesterov, n);
    return XNN_OK;
}

/* W, M, V, dW (n); t >= 1 */
int XNN_FN(xnn_ascent_step)(XNN_T *x, const XNN_T *g, const XNN_T *e, double lr, double l2,
                            double lo, double hi, int clip, size_t k, size_t n)
{
    if (n == 0) return XNN_OK;
    if (clip && !(lo <= hi)) return XNN_EINVAL;
    const XNN_T a = (XNN_T)(lr * l2), tiny = XNN_TINY, L = (XNN_T)lo, H = (XNN_T)hi;
    for (size_t i = 0; i < k; i++) {
        XNN_T *xr = x + i * n;
        const XNN_T *gr = g + i * n, *er = e ? e + i * n : NULL;
        XNN_T lane[8] = {0};
        size_t j = 0;
        for (; j + 8 <= n; j += 8)
            for (int q = 0; q < 8; q++) lane[q] += gr[j + q] * gr[j + q];
        for (int q = 0; j < n; j++, q++) lane[q] += gr[j] * gr[j];
        const XNN_T ss = ((lane[0] + lane[4]) + (lane[2] + lane[6])) +
                         ((lane[1] + lane[5]) + (lane[3] + lane[7]));
        XNN_T rms = XNN_M(sqrt)(ss / (XNN_T)n);
        if (!(rms >= tiny)) rms = rms != rms ? rms : tiny;   /* NaN stays NaN */
        const XNN_T s = (XNN_T)lr / rms;
        for (j = 0; j < n; j++) {
            XNN_T v = s * gr[j];
            if (a != 0) v -= a * xr[j];
            if (er) v -= er[j];
            XNN_T y = xr[j] + v;
            if (clip) y = y < L ? L : (y > H ? H : y);
            xr[j] = y;
        }
    }
    return XNN_OK;
}

int XNN_FN(xnn_adam_update)(XNN_T *W, XNN_T *M, XNN_T *V, const XNN_T *dW, double lr,
                            double beta1, double beta2, double eps, int64_t t, size_t n)
{
    if (t < 1) return XNN_EINVAL;
    double c[2];
    xnn_adam_corrections(beta1, beta2, t, c);
    XNN_FN(adam)(W, M, V, dW, (XNN_T)lr, (XNN_T)beta1, (XNN_T)beta2, (XNN_T)eps, c, n);
    return XNN_OK;
}

/* cfg's optimizer on w, g, s1, s2 (n) */
int XNN_FN(xnn_optimizer_step)(const xnn_train_config *cfg, const double c[2], XNN_T *w,
                               const XNN_T *g, XNN_T *s1, XNN_T *s2, size_t n)
{
    switch (cfg->optimizer) {
    case XNN_OPT_SGD:
        XNN_FN(sgd)(w, g, (XNN_T)cfg->lr, n);
        return XNN_OK;
    case XNN_OPT_MOMENTUM:
        XNN_FN(momentum)(w, s1, g, (XNN_T)cfg->lr, (XNN_T)cfg->momentum, cfg->nesterov, n);
        return XNN_OK;
    case XNN_OPT_ADAM:
        if (cfg->step < 1) return XNN_EINVAL;
        XNN_FN(adam)(w, s1, s2, g, (XNN_T)cfg->lr, (XNN_T)cfg->beta1, (XNN_T)cfg->beta2,
                     (XNN_T)cfg->eps, c, n);
        return XNN_OK;
    default:
        return XNN_EINVAL;
    }
}

/* cfg's optimizer on a node's W and b from their complete gradients */
int XNN_FN(xnn_update_params)(const XNN_FN(xnn_update) *u, const xnn_node *n)
{
    const xnn_grads *g = u->g;
    int st = XNN_FN(xnn_optimizer_step)(u->cfg, u->corr, (XNN_T *)n->W, (const XNN_T *)g->dW,
                                        (XNN_T *)g->s1W, (XNN_T *)g->s2W, xnn_node_weights(n));
    if (st != XNN_OK) return st;
    return XNN_FN(xnn_optimizer_step)(u->cfg, u->corr, (XNN_T *)n->b, (const XNN_T *)g->db,
                                      (XNN_T *)g->s1b, (XNN_T *)g->s2b, n->out_c);
}

#endif
