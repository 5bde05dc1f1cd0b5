/* network.c: a whole multi-layer perceptron, forward and training step.
 *
 * One call runs every layer, so Python crosses into C once per batch.
 *
 *   forward   for l: A[l] = act_l(In[l] W_l + b_l); D[l] = dropout(A[l])
 *             where In[0] = X and In[l] = D[l-1] (or A[l-1] without dropout)
 *   loss      statistics of A[L-1]; dZ = (1/m) dL/dZ_{L-1}
 *   backward  for l = L-1 .. 0:
 *                 dW_l = In[l]^T dZ, db_l = sum_rows dZ, dIn = dZ W_l^T
 *                 update W_l, b_l
 *                 dZ = act'_{l-1}(dropout'(dIn))
 *             (below a ReLU layer without dropout the GEMM that makes dIn
 *             applies the ReLU derivative to each tile, in its epilogue)
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "gemm/gemm_internal.h"
#define XNN_SELF "network.c"
#include "template.h"
#else

/* Y (k, n) = X[rows], ly (k) = labels[rows]: a shuffled minibatch */
int XNN_FN(xnn_gather_rows)(XNN_T *Y, int64_t *ly, const XNN_T *X, const int64_t *labels,
                            const int64_t *rows, size_t k, size_t n)
{
    for (size_t i = 0; i < k; i++) {
        memcpy(Y + i * n, X + (size_t)rows[i] * n, n * sizeof(XNN_T));
        ly[i] = labels[rows[i]];
    }
    return XNN_OK;
}

/* outs[l] (m, n_out_l) for X (m, n_in_0); inference, no dropout */
int XNN_FN(xnn_mlp_forward)(void *const *outs, const XNN_T *X, const xnn_layer *layers,
                            size_t n_layers, size_t m)
{
    const XNN_T *in = X;
    for (size_t l = 0; l < n_layers; l++) {
        const xnn_layer *L = &layers[l];
        XNN_T *out = (XNN_T *)outs[l];
        int st = XNN_FN(xnn_dense_forward)(out, in, (const XNN_T *)L->W, (const XNN_T *)L->b,
                                           L->act, m, L->n_in, L->n_out);
        if (st != XNN_OK) return st;
        in = out;
    }
    return XNN_OK;
}

static int XNN_FN(update)(const xnn_train_config *cfg, XNN_T *w, XNN_T *g, XNN_T *s1,
                          XNN_T *s2, size_t n)
{
    switch (cfg->optimizer) {
    case XNN_OPT_SGD:
        return XNN_FN(xnn_sgd_update)(w, g, cfg->lr, n);
    case XNN_OPT_MOMENTUM:
        return XNN_FN(xnn_momentum_update)(w, s1, g, cfg->lr, cfg->momentum, cfg->nesterov, n);
    case XNN_OPT_ADAM:
        return XNN_FN(xnn_adam_update)(w, s1, s2, g, cfg->lr, cfg->beta1, cfg->beta2,
                                       cfg->eps, cfg->step, n);
    default:
        return XNN_EINVAL;
    }
}

/* One step on X (m, n_in_0), labels (m); stats[3] as in xnn_loss_forward */
int XNN_FN(xnn_mlp_train_step)(double stats[3], const xnn_workspace *ws,
                               const XNN_T *X, const int64_t *labels,
                               const xnn_layer *layers, size_t n_layers,
                               const xnn_train_config *cfg, size_t m)
{
    int st;
    if (n_layers == 0 || m == 0 || m > ws->batch) return XNN_EINVAL;

    /* forward */
    const XNN_T *in = X;
    for (size_t l = 0; l < n_layers; l++) {
        const xnn_layer *L = &layers[l];
        XNN_T *a = (XNN_T *)ws->A[l];
        st = XNN_FN(xnn_dense_forward)(a, in, (const XNN_T *)L->W, (const XNN_T *)L->b,
                                       L->act, m, L->n_in, L->n_out);
        if (st != XNN_OK) return st;
        if (ws->D[l]) {
            uint64_t stream = (uint64_t)cfg->step * 4096u + l;
            st = XNN_FN(xnn_dropout_forward)((XNN_T *)ws->D[l], ws->mask[l], a, L->keep,
                                             cfg->seed, stream, m * L->n_out);
            if (st != XNN_OK) return st;
            in = (const XNN_T *)ws->D[l];
        } else {
            in = a;
        }
    }

    /* loss */
    const xnn_layer *last = &layers[n_layers - 1];
    const XNN_T *P = (const XNN_T *)ws->A[n_layers - 1];
    st = XNN_FN(xnn_loss_forward)(stats, P, labels, cfg->loss, m, last->n_out);
    if (st != XNN_OK) return st;
    XNN_T *dZ = (XNN_T *)ws->dA, *dIn = (XNN_T *)ws->dB;
    st = XNN_FN(xnn_loss_backward)(dZ, P, labels, cfg->loss, last->act, 1.0 / (double)m,
                                   m, last->n_out);
    if (st != XNN_OK) return st;

    /* backward and update, last layer first */
    for (size_t l = n_layers; l-- > 0;) {
        const xnn_layer *L = &layers[l];
        const XNN_T *lin = l == 0 ? X
                         : (const XNN_T *)(ws->D[l - 1] ? ws->D[l - 1] : ws->A[l - 1]);
        XNN_T *dW = (XNN_T *)ws->dW[l], *db = (XNN_T *)ws->db[l];
        /* below a ReLU layer without dropout, dIn = (dZ W^T) * [A > 0]
           with the derivative applied to each tile in the GEMM epilogue */
        const int fused = l > 0 && layers[l - 1].act == XNN_ACT_RELU && !ws->D[l - 1];
        if (fused) {
            st = XNN_FN(xnn_gemm_epilogue)(dIn, dZ, (const XNN_T *)L->W, 0, 0, 1, m, L->n_in,
                                           L->n_out, NULL, XNN_EPI_RELU_GRAD,
                                           (const XNN_T *)ws->A[l - 1]);
            if (st != XNN_OK) return st;
        }
        st = XNN_FN(xnn_dense_backward)(l > 0 && !fused ? dIn : NULL, dW, db, dZ, lin,
                                        (const XNN_T *)L->W, m, L->n_in, L->n_out);
        if (st != XNN_OK) return st;
        st = XNN_FN(update)(cfg, (XNN_T *)L->W, dW, (XNN_T *)ws->s1W[l], (XNN_T *)ws->s2W[l],
                            L->n_in * L->n_out);
        if (st != XNN_OK) return st;
        st = XNN_FN(update)(cfg, (XNN_T *)L->b, db, (XNN_T *)ws->s1b[l], (XNN_T *)ws->s2b[l],
                            L->n_out);
        if (st != XNN_OK) return st;
        if (l == 0) break;
        const xnn_layer *P_ = &layers[l - 1];
        size_t len = m * P_->n_out;
        if (ws->D[l - 1]) {
            st = XNN_FN(xnn_dropout_backward)(dIn, ws->mask[l - 1], dIn, P_->keep, len);
            if (st != XNN_OK) return st;
        }
        if (!fused) {
            st = XNN_FN(xnn_activation_backward)(dIn, (const XNN_T *)ws->A[l - 1], dIn,
                                                 P_->act, m, P_->n_out);
            if (st != XNN_OK) return st;
        }
        XNN_T *tmp = dZ; dZ = dIn; dIn = tmp;
    }
    return XNN_OK;
}

#endif
