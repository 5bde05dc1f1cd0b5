/* network.c: a whole multi-layer perceptron, forward and training step.
 *
 * One call runs every layer, so Python crosses into C once per batch.
 *
 *   forward   for l: A[l] = act_l(In[l] W_l + b_l); D[l] = dropout(A[l])
 *             where In[0] = X and In[l] = D[l-1] (or A[l-1] without dropout)
 *   loss      statistics of A[L-1]; dZ = (1/m) dL/dZ_{L-1}
 *   backward  for l = L-1 .. 0:
 *                 dIn = dZ W_l^T, dW_l = In[l]^T dZ, db_l = sum_rows dZ
 *                 update W_l, b_l
 *                 dZ = act'_{l-1}(dropout'(dIn))
 *             (below a ReLU layer without dropout the GEMM that makes dIn
 *             applies the ReLU derivative to each tile, in its epilogue;
 *             the GEMM that makes dW_l updates each tile of W_l as soon
 *             as it is finished, on the thread that computed it)
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "gemm/gemm_internal.h"
#include "parallel.h"
/* the status of a tile callback: tiles may finish on any thread, and an
   error (which none of the optimizers can report once checked) is kept */
#if !defined(__STDC_NO_ATOMICS__)
#include <stdatomic.h>
#define XNN_ATOMIC_STATUS atomic_int
#else
#define XNN_ATOMIC_STATUS volatile int
#endif
#define XNN_SELF "network.c"
#include "template.h"
#else

typedef struct {
    XNN_T *Y;
    int64_t *ly;
    const XNN_T *X;
    const int64_t *labels, *rows;
    size_t n;
} XNN_FN(gather_ctx);

/* rows [i0, i1) of a gather; the next row is fetched while one is copied
   (the rows are scattered over X, so the hardware cannot guess it) */
static void XNN_FN(gather_range)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(gather_ctx) *c = (const XNN_FN(gather_ctx) *)p;
    const size_t n = c->n;
    for (size_t i = i0; i < i1; i++) {
#if defined(__GNUC__) || defined(__clang__)
        if (i + 1 < i1) {
            const char *next = (const char *)(c->X + (size_t)c->rows[i + 1] * n);
            for (size_t b = 0; b < n * sizeof(XNN_T); b += 64) __builtin_prefetch(next + b);
        }
#endif
        memcpy(c->Y + i * n, c->X + (size_t)c->rows[i] * n, n * sizeof(XNN_T));
        c->ly[i] = c->labels[c->rows[i]];
    }
}

/* Y (k, n) = X[rows], ly (k) = labels[rows]: a shuffled minibatch, gathered
   by every thread (a range of rows each) */
int XNN_FN(xnn_gather_rows)(XNN_T *Y, int64_t *ly, const XNN_T *X, const int64_t *labels,
                            const int64_t *rows, size_t k, size_t n)
{
    XNN_FN(gather_ctx) c = {Y, ly, X, labels, rows, n};
    xnn_parallel_range(XNN_FN(gather_range), &c, k, k * n);
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

/* the optimizer applied to the blocks of dW (n_in, n_out) of one layer as
   the GEMM finishes them, while they are in cache */
typedef struct {
    const xnn_train_config *cfg;
    const double *c;            /* Adam's corrections */
    XNN_T *W, *s1, *s2;
    const XNN_T *dW;
    size_t n;                   /* n_out, the row length */
    XNN_ATOMIC_STATUS *status;
} XNN_FN(update_ctx);

static void XNN_FN(update_tile)(void *p, size_t i, size_t j, size_t mr, size_t nr)
{
    const XNN_FN(update_ctx) *u = (const XNN_FN(update_ctx) *)p;
    if (nr == u->n) {               /* whole rows: one range */
        nr *= mr;
        mr = 1;
    }
    for (size_t r = 0; r < mr; r++) {
        const size_t o = (i + r) * u->n + j;
        int st = XNN_FN(xnn_optimizer_step)(u->cfg, u->c, u->W + o, u->dW + o,
                                            u->s1 ? u->s1 + o : NULL, u->s2 ? u->s2 + o : NULL,
                                            nr);
        if (st != XNN_OK) *u->status = st;
    }
}

/* Forward, loss and backward of rows [r0, r0 + mc) of a step of m rows:
 * dW and db get these rows' part of the gradient (stored when first, added
 * otherwise); when last, each finished block of dW, then db, updates its
 * parameters. Every chunk of a step runs with the weights of before the
 * step: a layer's dIn is computed before its W changes, and W changes only
 * in the last chunk. */
static int XNN_FN(step_chunk)(double stats[3], const xnn_workspace *ws, const XNN_T *X,
                              const int64_t *labels, const xnn_layer *layers, size_t n_layers,
                              const xnn_train_config *cfg, const double corr[2], size_t m,
                              size_t r0, size_t mc, int first, int last)
{
    int st;
    /* forward */
    const XNN_T *in = X;
    for (size_t l = 0; l < n_layers; l++) {
        const xnn_layer *L = &layers[l];
        XNN_T *a = (XNN_T *)ws->A[l];
        st = XNN_FN(xnn_dense_forward)(a, in, (const XNN_T *)L->W, (const XNN_T *)L->b,
                                       L->act, mc, L->n_in, L->n_out);
        if (st != XNN_OK) return st;
        if (ws->D[l]) {
            /* mask bits by (step, layer, element of the whole batch) */
            uint64_t stream = (uint64_t)cfg->step * 4096u + l;
            st = XNN_FN(xnn_dropout_forward)((XNN_T *)ws->D[l], ws->mask[l], a, L->keep,
                                             cfg->seed, stream, r0 * L->n_out, mc * L->n_out);
            if (st != XNN_OK) return st;
            in = (const XNN_T *)ws->D[l];
        } else {
            in = a;
        }
    }

    /* loss */
    const xnn_layer *top = &layers[n_layers - 1];
    const XNN_T *P = (const XNN_T *)ws->A[n_layers - 1];
    st = XNN_FN(xnn_loss_forward)(stats, P, labels, cfg->loss, mc, top->n_out);
    if (st != XNN_OK) return st;
    XNN_T *dZ = (XNN_T *)ws->dA, *dIn = (XNN_T *)ws->dB;
    st = XNN_FN(xnn_loss_backward)(dZ, P, labels, cfg->loss, top->act, 1.0 / (double)m,
                                   mc, top->n_out);
    if (st != XNN_OK) return st;

    /* backward, last layer first: dIn with the old W, then dW, each
       finished block of which updates its block of W in the last chunk */
    for (size_t l = n_layers; l-- > 0;) {
        const xnn_layer *L = &layers[l];
        const XNN_T *lin = l == 0 ? X
                         : (const XNN_T *)(ws->D[l - 1] ? ws->D[l - 1] : ws->A[l - 1]);
        XNN_T *W = (XNN_T *)L->W, *dW = (XNN_T *)ws->dW[l], *db = (XNN_T *)ws->db[l];
        /* below a ReLU layer without dropout, dIn = (dZ W^T) * [A > 0]
           with the derivative applied to each tile in the GEMM epilogue */
        const int fused = l > 0 && layers[l - 1].act == XNN_ACT_RELU && !ws->D[l - 1];
        if (l > 0) {
            st = XNN_FN(xnn_gemm_epilogue)(dIn, dZ, W, 0, 0, 1, mc, L->n_in, L->n_out, NULL,
                                           fused ? XNN_EPI_RELU_GRAD : XNN_EPI_NONE,
                                           fused ? (const XNN_T *)ws->A[l - 1] : NULL);
            if (st != XNN_OK) return st;
        }
        XNN_ATOMIC_STATUS ust = XNN_OK;
        XNN_FN(update_ctx) u = {cfg, corr, W, (XNN_T *)ws->s1W[l], (XNN_T *)ws->s2W[l], dW,
                                L->n_out, &ust};
        const XNN_FN(xnn_epi) e = {NULL, XNN_EPI_NONE, NULL, XNN_FN(update_tile), &u};
        st = XNN_FN(xnn_gemm_epi)(dW, lin, dZ, first ? 0 : 1, 1, 0, L->n_in, L->n_out, mc,
                                  last ? &e : NULL);
        if (st != XNN_OK) return st;
        if (ust != XNN_OK) return ust;
        XNN_FN(xnn_bias_grad)(db, dZ, mc, L->n_out, !first);
        if (last) {
            st = XNN_FN(xnn_optimizer_step)(cfg, corr, (XNN_T *)L->b, db, (XNN_T *)ws->s1b[l],
                                            (XNN_T *)ws->s2b[l], L->n_out);
            if (st != XNN_OK) return st;
        }
        if (l == 0) break;
        const xnn_layer *P_ = &layers[l - 1];
        size_t len = mc * P_->n_out;
        if (ws->D[l - 1]) {
            st = XNN_FN(xnn_dropout_backward)(dIn, ws->mask[l - 1], dIn, P_->keep, len);
            if (st != XNN_OK) return st;
        }
        if (!fused) {
            st = XNN_FN(xnn_activation_backward)(dIn, (const XNN_T *)ws->A[l - 1], dIn,
                                                 P_->act, mc, P_->n_out);
            if (st != XNN_OK) return st;
        }
        XNN_T *tmp = dZ; dZ = dIn; dIn = tmp;
    }
    return XNN_OK;
}

/* One step on X (m, n_in_0), labels (m); stats[3] as in xnn_loss_forward.
 * The rows go through in chunks of ws->rows (a full batch of 60,000 rows
 * needs buffers for a few thousand only, and they stay in cache), their
 * gradients summed in dW and db; then the update. */
int XNN_FN(xnn_mlp_train_step)(double stats[3], const xnn_workspace *ws,
                               const XNN_T *X, const int64_t *labels,
                               const xnn_layer *layers, size_t n_layers,
                               const xnn_train_config *cfg, size_t m)
{
    if (n_layers == 0 || m == 0 || m > ws->batch || ws->rows == 0) return XNN_EINVAL;
    double corr[2] = {1.0, 1.0};
    if (cfg->optimizer == XNN_OPT_ADAM) {
        if (cfg->step < 1) return XNN_EINVAL;
        xnn_adam_corrections(cfg->beta1, cfg->beta2, cfg->step, corr);
    }
    const size_t n_in = layers[0].n_in;
    for (size_t r0 = 0; r0 < m; r0 += ws->rows) {
        const size_t mc = m - r0 < ws->rows ? m - r0 : ws->rows;
        int st = XNN_FN(step_chunk)(stats, ws, X + r0 * n_in, labels + r0, layers, n_layers,
                                    cfg, corr, m, r0, mc, r0 == 0, r0 + mc >= m);
        if (st != XNN_OK) return st;
    }
    return XNN_OK;
}

#endif
