/* saliency.c: gradients of a dense network's class score w.r.t. its input.
 *
 *   forward   Z[l] = A[l-1] W_l + b_l,  A[l] = act_l(Z[l])   (A[-1] = X)
 *             every layer keeps Z and A; Z[L-1] are the logits
 *   score     s_i = Z[L-1][i, t_i]              output = logit
 *                   A[L-1][i, t_i]              output = probability
 *                   -log A[L-1][i, t_i]         output = loss (softmax)
 *                   1                           output = onehot
 *   start     G = d s / d Z[L-1]: onehot(t) (logit), P - onehot(t) (loss),
 *             act'(onehot(t)) (probability)
 *   backward  G_in = G W_l^T, then through layer l-1's activation:
 *               plain      G * act'            (ReLU: G * [A > 0])
 *               guided     ReLU layers: G * [A > 0] * [G > 0]
 *               deconvnet  ReLU layers: G * [G > 0]
 *             non-ReLU layers use act' in every mode.
 *   layers    on request, d score / d A[l-1] (the gradient w.r.t. layer l's
 *             input, before layer l-1's activation derivative) for every
 *             hidden layer and d score / d Z[L-1] at the top, optionally
 *             times A[l-1] (Z[L-1]): the input x gradient of every layer.
 *
 * Path sums (SmoothGrad, integrated gradients) run the same forward and
 * backward once per step s on x_s = B + alpha_s (X - B) + sigma noise_s,
 * and add weight_s * gradient(x_s). The first layer is linear, so without
 * noise its products X W_0 and B W_0 are made once (x_s W_0 = B W_0 +
 * alpha_s (X W_0 - B W_0)), and the backward's last product is made once on
 * the weighted sum of d score / d Z[0] of every step.
 */
#ifndef XNN_T
#include <math.h>
#include <string.h>
#include "xnn.h"

size_t xnn_explain_forward_size(const xnn_layer *layers, size_t n_layers, size_t m)
{
    size_t n = 0;
    for (size_t l = 0; l < n_layers; l++) n += 2 * m * layers[l].n_out;
    return n;
}

/* the widest gradient the backward keeps: every layer's output (its
   input is the previous layer's output; layer 0's goes to dX directly) */
static size_t widest_layer(const xnn_layer *layers, size_t n_layers)
{
    size_t w = 0;
    for (size_t l = 0; l < n_layers; l++)
        if (layers[l].n_out > w) w = layers[l].n_out;
    return w;
}

size_t xnn_gradient_workspace_size(const xnn_layer *layers, size_t n_layers, size_t m,
                                   int path)
{
    size_t n = xnn_explain_forward_size(layers, n_layers, m)
             + 2 * m * widest_layer(layers, n_layers);
    /* x_s (with noise), X W_0 and B W_0 (without), the weighted sum of
       d score / d Z[0] */
    if (path) n += m * layers[0].n_in + 3 * m * layers[0].n_out;
    return n;
}

#include "parallel.h"
#include "gemm/gemm_internal.h"

/* the elementwise passes of a path sum (SmoothGrad, integrated gradients) */
enum { PATH_POINT, PATH_FIRST, PATH_ADD, PATH_TIMES_DELTA };

/* The loops of the one-row products (an explanation of one image), written
 * so that the compiler vectorizes them. On x86-64 with GCC or Clang they are
 * compiled twice, for the baseline and for AVX2, and xnn_isa() chooses at
 * run time. Both use the same lanes and the same order of additions and ISO
 * C forbids contracting them into FMAs, so both give the same bits. */
#if defined(__x86_64__) && (defined(__GNUC__) || defined(__clang__))
#define XNN_ROW_AVX2 1
#endif

/* C (n) = beta C + sum over p of x_p W[p, :], increasing p, skipping x_p = 0 */
#define XNN_ROW_W_BODY                                                      \
    if (beta == 0) for (size_t j = 0; j < n; j++) C[j] = 0;                 \
    else if (beta != 1) for (size_t j = 0; j < n; j++) C[j] *= beta;        \
    for (size_t p = 0; p < k; p++) {                                        \
        XNN_T a = X[p];                                                     \
        if (a == 0) continue;                                               \
        const XNN_T *w = W + p * n;                                         \
        for (size_t j = 0; j < n; j++) C[j] += a * w[j];                    \
    }

/* C[j] (k) = A[j] * (W[j, :] . S) (A NULL: 1; rows with A[j] = 0 are 0),
 * plus beta C[j]: 16 partial sums per dot product, added as a tree */
#define XNN_ROW_WT_BODY                                                     \
    for (size_t j = 0; j < k; j++) {                                        \
        if (A && A[j] == 0) { C[j] = beta == 0 ? 0 : beta * C[j]; continue; } \
        const XNN_T *w = W + j * n;                                         \
        XNN_T acc[16] = {0};                                                \
        size_t c = 0;                                                       \
        for (; c + 16 <= n; c += 16)                                        \
            for (size_t q = 0; q < 16; q++) acc[q] += w[c + q] * S[c + q];  \
        for (size_t q = 0; q < 8; q++) acc[q] += acc[q + 8];                \
        for (size_t q = 0; q < 4; q++) acc[q] += acc[q + 4];                \
        XNN_T sum = (acc[0] + acc[2]) + (acc[1] + acc[3]);                  \
        for (; c < n; c++) sum += w[c] * S[c];                              \
        if (A) sum *= A[j];                                                 \
        C[j] = beta == 0 ? sum : sum + beta * C[j];                         \
    }

#define XNN_SELF "saliency.c"
#include "template.h"
#else

/* the target of row i: targets[i], or the arg-max of the logits Z (m, n) when negative */
int64_t XNN_FN(xnn_explain_target)(const int64_t *targets, size_t i, const XNN_T *Z, size_t n)
{
    int64_t t = targets[i];
    if (t >= 0) return t;
    const XNN_T *z = Z + i * n;
    size_t best = 0;
    for (size_t j = 1; j < n; j++) if (z[j] > z[best]) best = j;
    return (int64_t)best;
}

static void XNN_FN(row_w)(XNN_T *C, const XNN_T *X, const XNN_T *W, XNN_T beta, size_t n,
                          size_t k)
{
    XNN_ROW_W_BODY
}

static void XNN_FN(row_wt)(XNN_T *C, const XNN_T *S, const XNN_T *W, const XNN_T *A,
                           XNN_T beta, size_t k, size_t n)
{
    XNN_ROW_WT_BODY
}

#ifdef XNN_ROW_AVX2
__attribute__((target("avx2")))
static void XNN_FN(row_w_avx2)(XNN_T *C, const XNN_T *X, const XNN_T *W, XNN_T beta,
                               size_t n, size_t k)
{
    XNN_ROW_W_BODY
}

__attribute__((target("avx2")))
static void XNN_FN(row_wt_avx2)(XNN_T *C, const XNN_T *S, const XNN_T *W, const XNN_T *A,
                                XNN_T beta, size_t k, size_t n)
{
    XNN_ROW_WT_BODY
}
#endif

/* C (m, n) = X (m, k) . W (k, n) + beta C: xnn_gemm, or for one row the sum
 * over p of x_p W[p, :] in increasing p that skips x_p = 0 (most pixels of a
 * digit, about half of a ReLU layer's outputs). */
int XNN_FN(xnn_times_w)(XNN_T *C, const XNN_T *X, const XNN_T *W, XNN_T beta,
                        size_t m, size_t n, size_t k)
{
    if (m != 1) return XNN_FN(xnn_gemm)(C, X, W, beta, 0, 0, m, n, k);
#ifdef XNN_ROW_AVX2
    if (xnn_isa() >= XNN_ISA_AVX2) {
        XNN_FN(row_w_avx2)(C, X, W, beta, n, k);
        return XNN_OK;
    }
#endif
    XNN_FN(row_w)(C, X, W, beta, n, k);
    return XNN_OK;
}

/* C (m, k) = S (m, n) . W^T + beta C for W (k, n): the backward product of a
 * dense layer. One row (an explanation of one image) is k dot products over
 * W's contiguous rows, with 16 partial sums each, instead of a GEMM that
 * would first copy W^T; more rows go to xnn_gemm. */
int XNN_FN(xnn_times_wt)(XNN_T *C, const XNN_T *S, const XNN_T *W, XNN_T beta,
                         size_t m, size_t k, size_t n)
{
    if (m != 1) return XNN_FN(xnn_gemm)(C, S, W, beta, 0, 1, m, k, n);
#ifdef XNN_ROW_AVX2
    if (xnn_isa() >= XNN_ISA_AVX2) {
        XNN_FN(row_wt_avx2)(C, S, W, NULL, beta, k, n);
        return XNN_OK;
    }
#endif
    XNN_FN(row_wt)(C, S, W, NULL, beta, k, n);
    return XNN_OK;
}

/* Elementwise passes over blocks of rows (or blocks of a GEMM's output, as
 * it finishes them): C (rows, ld) and its companions at the same offsets */
typedef struct {
    XNN_T *C;
    XNN_T *out;                 /* bias_act: the activation written from C */
    const XNN_T *A;             /* finish: the factor; relu_back: the saved A */
    const XNN_T *b;             /* bias_act: the bias (ld) */
    size_t ld;
    int mode;                   /* finish: |.|; relu_back: XNN_GRAD_*; bias_act: ReLU */
} XNN_FN(block_ctx);

/* on the block (i, j, mr, nr): C *= A when A, then C = |C| when mode */
static void XNN_FN(finish_block)(void *p, size_t i, size_t j, size_t mr, size_t nr)
{
    const XNN_FN(block_ctx) *c = (const XNN_FN(block_ctx) *)p;
    for (size_t r = i; r < i + mr; r++) {
        XNN_T *cr = c->C + r * c->ld + j;
        if (c->A) {
            const XNN_T *ar = c->A + r * c->ld + j;
            for (size_t q = 0; q < nr; q++) cr[q] *= ar[q];
        }
        if (c->mode)
            for (size_t q = 0; q < nr; q++) cr[q] = XNN_M(fabs)(cr[q]);
    }
}

/* C (m, k) = S (m, n) . W^T, times A (m, k) when A is not NULL, then its
 * absolute value when absolute: the last product of a backward pass, with
 * the elementwise finish applied to each block while it is in cache */
static int XNN_FN(times_wt_finish)(XNN_T *C, const XNN_T *S, const XNN_T *W, const XNN_T *A,
                                   int absolute, size_t m, size_t k, size_t n)
{
    if (m != 1) {
        XNN_FN(block_ctx) c = {C, NULL, A, NULL, k, absolute};
        const XNN_FN(xnn_epi) e = {NULL, XNN_EPI_NONE, NULL, XNN_FN(finish_block), &c};
        return XNN_FN(xnn_gemm_epi)(C, S, W, 0, 0, 1, m, k, n, &e);
    }
    int st = A ? XNN_FN(xnn_times_wt_scaled)(C, S, W, A, 1, k, n)
               : XNN_FN(xnn_times_wt)(C, S, W, 0, 1, k, n);
    if (absolute)
        for (size_t j = 0; j < k; j++) C[j] = XNN_M(fabs)(C[j]);
    return st;
}

/* rows [i0, i1) of Z (C) += b, then the output A = Z or ReLU(Z) */
static void XNN_FN(bias_act_rows)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(block_ctx) *c = (const XNN_FN(block_ctx) *)p;
    const size_t n = c->ld;
    for (size_t i = i0; i < i1; i++) {
        XNN_T *z = c->C + i * n, *a = c->out + i * n;
        for (size_t j = 0; j < n; j++) {
            XNN_T v = z[j] + c->b[j];
            z[j] = v;
            a[j] = c->mode ? (v > 0 ? v : 0) : v;
        }
    }
}

/* elements [i0, i1) of the gradient C through a ReLU with saved output A */
static void XNN_FN(relu_back_range)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(block_ctx) *c = (const XNN_FN(block_ctx) *)p;
    XNN_T *H = c->C;
    const XNN_T *A = c->A;
    if (c->mode == XNN_GRAD_GUIDED)
        for (size_t i = i0; i < i1; i++) H[i] = (A[i] > 0 && H[i] > 0) ? H[i] : 0;
    else if (c->mode == XNN_GRAD_DECONVNET)
        for (size_t i = i0; i < i1; i++) H[i] = H[i] > 0 ? H[i] : 0;
    else
        for (size_t i = i0; i < i1; i++) H[i] = A[i] > 0 ? H[i] : 0;
}

/* C (m, k) = A (m, k) * (S (m, n) . W^T): the backward of LRP's rules and of
 * input x gradient. One row skips the dot products of the inputs a_j = 0. */
int XNN_FN(xnn_times_wt_scaled)(XNN_T *C, const XNN_T *S, const XNN_T *W, const XNN_T *A,
                                size_t m, size_t k, size_t n)
{
    if (m != 1) return XNN_FN(times_wt_finish)(C, S, W, A, 0, m, k, n);
#ifdef XNN_ROW_AVX2
    if (xnn_isa() >= XNN_ISA_AVX2) {
        XNN_FN(row_wt_avx2)(C, S, W, A, 0, k, n);
        return XNN_OK;
    }
#endif
    XNN_FN(row_wt)(C, S, W, A, 0, k, n);
    return XNN_OK;
}

/* Z[l], A[l] inside the forward workspace */
static XNN_T *XNN_FN(zbuf)(XNN_T *work, const xnn_layer *layers, size_t l, size_t m)
{
    size_t off = 0;
    for (size_t i = 0; i < l; i++) off += 2 * m * layers[i].n_out;
    return work + off;
}

/* work: xnn_explain_forward_size elements, filled with Z[l], A[l];
 * score (m) or NULL; targets (m) in [0, n_out_{L-1}) */
static int XNN_FN(forward_from)(XNN_T *score, XNN_T *work, const XNN_T *X, int first_done,
                                const int64_t *targets, const xnn_layer *layers,
                                size_t n_layers, int output, size_t m);

int XNN_FN(xnn_explain_forward)(XNN_T *score, XNN_T *work, const XNN_T *X,
                                const int64_t *targets, const xnn_layer *layers,
                                size_t n_layers, int output, size_t m)
{
    return XNN_FN(forward_from)(score, work, X, 0, targets, layers, n_layers, output, m);
}

/* xnn_explain_forward; with first_done, Z[0] already holds X W_0 (without
   the bias) and X is not read */
static int XNN_FN(forward_from)(XNN_T *score, XNN_T *work, const XNN_T *X, int first_done,
                                const int64_t *targets, const xnn_layer *layers,
                                size_t n_layers, int output, size_t m)
{
    if (n_layers == 0) return XNN_EINVAL;
    const XNN_T *in = X;
    XNN_T *p = work;
    for (size_t l = 0; l < n_layers; l++) {
        const xnn_layer *L = &layers[l];
        XNN_T *Z = p, *A = p + m * L->n_out;
        int st = XNN_OK;
        if (l > 0 || !first_done)
            st = XNN_FN(xnn_times_w)(Z, in, (const XNN_T *)L->W, 0, m, L->n_out, L->n_in);
        if (st != XNN_OK) return st;
        const XNN_T *b = (const XNN_T *)L->b;
        size_t n = L->n_out;
        if (L->act == XNN_ACT_RELU || L->act == XNN_ACT_LINEAR) {
            /* bias and activation in one pass */
            XNN_FN(block_ctx) c = {Z, A, NULL, b, n, L->act == XNN_ACT_RELU};
            xnn_parallel_range(XNN_FN(bias_act_rows), &c, m, m * n);
        } else {
            for (size_t i = 0; i < m; i++)
                for (size_t j = 0; j < n; j++) Z[i * n + j] += b[j];
            st = XNN_FN(xnn_activation_forward)(A, Z, L->act, m, n);
            if (st != XNN_OK) return st;
        }
        in = A;
        p = A + m * L->n_out;
    }
    if (!score) return XNN_OK;
    const xnn_layer *last = &layers[n_layers - 1];
    size_t n = last->n_out;
    XNN_T *Z = XNN_FN(zbuf)(work, layers, n_layers - 1, m), *A = Z + m * n;
    for (size_t i = 0; i < m; i++) {
        int64_t t = XNN_FN(xnn_explain_target)(targets, i, Z, n);
        if ((size_t)t >= n) return XNN_EINVAL;
        switch (output) {
        case XNN_START_LOGIT: score[i] = Z[i * n + t]; break;
        case XNN_START_PROBABILITY: score[i] = A[i * n + t]; break;
        case XNN_START_ONEHOT: score[i] = 1; break;
        case XNN_START_LOSS: {
            XNN_T q = A[i * n + t];
            score[i] = -XNN_M(log)(q > XNN_TINY ? q : XNN_TINY);
            break;
        }
        default: return XNN_EINVAL;
        }
    }
    return XNN_OK;
}

/* G (m, n_out_{L-1}) = d score / d Z[L-1] after xnn_explain_forward */
static int XNN_FN(start_gradient)(XNN_T *G, const XNN_T *work, const int64_t *targets,
                                  const xnn_layer *layers, size_t n_layers, int output,
                                  size_t m)
{
    const xnn_layer *last = &layers[n_layers - 1];
    size_t n = last->n_out;
    const XNN_T *Z = XNN_FN(zbuf)((XNN_T *)work, layers, n_layers - 1, m), *A = Z + m * n;
    for (size_t i = 0; i < m; i++) {
        int64_t t = XNN_FN(xnn_explain_target)(targets, i, Z, n);
        if ((size_t)t >= n) return XNN_EINVAL;
        XNN_T *g = G + i * n;
        if (output == XNN_START_LOSS) {
            if (last->act != XNN_ACT_SOFTMAX) return XNN_EINVAL;
            for (size_t j = 0; j < n; j++) g[j] = A[i * n + j];
            g[t] -= 1;
        } else {
            for (size_t j = 0; j < n; j++) g[j] = 0;
            g[t] = 1;
        }
    }
    switch (output) {
    case XNN_START_LOGIT:
    case XNN_START_LOSS:
        return XNN_OK;
    case XNN_START_PROBABILITY:
        return XNN_FN(xnn_activation_backward)(G, A, G, last->act, m, n);
    default:
        return XNN_EINVAL;
    }
}

/* dst (len) = src, times V (len) when V; accumulated as dst += w * that when acc */
static void XNN_FN(keep)(XNN_T *dst, const XNN_T *src, const XNN_T *V, XNN_T w, int acc,
                         size_t len)
{
    if (acc && V) for (size_t i = 0; i < len; i++) dst[i] += w * (src[i] * V[i]);
    else if (acc) for (size_t i = 0; i < len; i++) dst[i] += w * src[i];
    else if (V) for (size_t i = 0; i < len; i++) dst[i] = src[i] * V[i];
    else memcpy(dst, src, len * sizeof(XNN_T));
}

static inline XNN_T XNN_FN(noise_at)(double sigma, uint64_t seed, uint64_t stream, size_t i)
{
    const double two_pi = 6.283185307179586476925286766559;
    double u1 = 1.0 - xnn_uniform(seed, stream, 2 * (uint64_t)i);   /* (0, 1] */
    double u2 = xnn_uniform(seed, stream, 2 * (uint64_t)i + 1);
    return (XNN_T)(sigma * sqrt(-2.0 * log(u1)) * cos(two_pi * u2));
}

/* the elementwise passes of a path sum, over ranges of elements (every
   element on its own: the thread count changes no bit) */
typedef struct {
    int pass;
    XNN_T *G, *Xs;
    const XNN_T *Gs, *X, *B;
    XNN_T a, w;
    double sigma;
    uint64_t seed, stream;
} XNN_FN(path_ctx);

static void XNN_FN(path_range)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(path_ctx) *c = (const XNN_FN(path_ctx) *)p;
    const XNN_T *X = c->X, *B = c->B;
    switch (c->pass) {
    case PATH_POINT:    /* x_s = B + a (X - B) (+ noise of stream s) */
        if (B) for (size_t i = i0; i < i1; i++) c->Xs[i] = B[i] + c->a * (X[i] - B[i]);
        else for (size_t i = i0; i < i1; i++) c->Xs[i] = c->a * X[i];
        if (c->sigma > 0)
            for (size_t i = i0; i < i1; i++)
                c->Xs[i] += XNN_FN(noise_at)(c->sigma, c->seed, c->stream, i);
        break;
    case PATH_FIRST:    /* Z[0] = x_s W_0 = B W_0 + a (X W_0 - B W_0), X and B read as
                           their products X W_0, B W_0 (or B absent: a X W_0) */
        if (B) for (size_t i = i0; i < i1; i++) c->G[i] = B[i] + c->a * (X[i] - B[i]);
        else for (size_t i = i0; i < i1; i++) c->G[i] = c->a * X[i];
        break;
    case PATH_ADD:
        for (size_t i = i0; i < i1; i++) c->G[i] += c->w * c->Gs[i];
        break;
    default:            /* PATH_TIMES_DELTA */
        for (size_t i = i0; i < i1; i++) c->G[i] *= B ? X[i] - B[i] : X[i];
        break;
    }
}

/* dX (m, n_in_0) = d score / d X; work: xnn_gradient_workspace_size(.., 0).
 * grads (NULL or n_layers + 1 pointers): grads[l] (m, n_in_l) = d score / d A[l-1]
 * for 1 <= l < n_layers, grads[n_layers] (m, n_out_{L-1}) = d score / d Z[L-1],
 * each multiplied by A[l-1] (Z[L-1]) when times, stored (acc = 0) or added
 * with weight w (acc = 1); grads[0] is not used. times also multiplies dX by X;
 * absolute then takes its absolute value (dX only). With first_done, Z[0] in
 * work already holds X W_0 (see forward_from). With G0 (m, n_out_0), the
 * backward stops before the product with W_0: G0 += w d score / d Z[0]
 * (dX is not written). */
static int XNN_FN(gradient)(XNN_T *dX, XNN_T *score, void *const *grads, XNN_T w, int acc,
                            int times, int absolute, int first_done, XNN_T *G0,
                            XNN_T *work, const XNN_T *X, const int64_t *targets,
                            const xnn_layer *layers, size_t n_layers, int output, int mode,
                            size_t m)
{
    int st = XNN_FN(forward_from)(score, work, X, first_done, targets, layers, n_layers,
                                  output, m);
    if (st != XNN_OK) return st;
    XNN_T *G = work + xnn_explain_forward_size(layers, n_layers, m);
    XNN_T *H = G + m * widest_layer(layers, n_layers);
    st = XNN_FN(start_gradient)(G, work, targets, layers, n_layers, output, m);
    if (st != XNN_OK) return st;
    if (grads) {
        size_t n = layers[n_layers - 1].n_out;
        const XNN_T *Z = XNN_FN(zbuf)(work, layers, n_layers - 1, m);
        XNN_FN(keep)((XNN_T *)grads[n_layers], G, times ? Z : NULL, w, acc, m * n);
    }
    for (size_t l = n_layers; l-- > 0;) {
        const xnn_layer *L = &layers[l];
        if (l == 0 && G0) {
            XNN_FN(path_ctx) c = {PATH_ADD, G0, NULL, G, NULL, NULL, 0, w, 0, 0, 0};
            xnn_parallel_range(XNN_FN(path_range), &c, m * L->n_out, m * L->n_out);
            break;
        }
        XNN_T *out = l == 0 ? dX : H;
        if (l == 0 && (times || absolute))
            st = XNN_FN(times_wt_finish)(dX, G, (const XNN_T *)L->W, times ? X : NULL, absolute,
                                         m, L->n_in, L->n_out);
        else
            st = XNN_FN(xnn_times_wt)(out, G, (const XNN_T *)L->W, 0, m, L->n_in, L->n_out);
        if (st != XNN_OK) return st;
        if (l == 0) break;
        const xnn_layer *P = &layers[l - 1];
        const XNN_T *A = XNN_FN(zbuf)(work, layers, l - 1, m) + m * P->n_out;
        size_t len = m * P->n_out;
        if (grads) XNN_FN(keep)((XNN_T *)grads[l], H, times ? A : NULL, w, acc, len);
        if (P->act == XNN_ACT_RELU) {
            XNN_FN(block_ctx) c = {H, NULL, A, NULL, 0, mode};
            xnn_parallel_range(XNN_FN(relu_back_range), &c, len, len);
        } else {
            st = XNN_FN(xnn_activation_backward)(H, A, H, P->act, m, P->n_out);
            if (st != XNN_OK) return st;
        }
        XNN_T *tmp = G; G = H; H = tmp;
    }
    return XNN_OK;
}

int XNN_FN(xnn_mlp_gradient)(XNN_T *dX, XNN_T *score, void *const *grads, XNN_T *work,
                             const XNN_T *X, const int64_t *targets, const xnn_layer *layers,
                             size_t n_layers, int output, int mode, int finish, size_t m)
{
    if (n_layers == 0 || mode < XNN_GRAD_PLAIN || mode > XNN_GRAD_DECONVNET) return XNN_EINVAL;
    if (finish & ~(XNN_FINISH_TIMES | XNN_FINISH_ABS)) return XNN_EINVAL;
    if (m == 0) return XNN_OK;
    return XNN_FN(gradient)(dX, score, grads, 1, 0, (finish & XNN_FINISH_TIMES) != 0,
                            (finish & XNN_FINISH_ABS) != 0, 0, NULL, work, X, targets, layers,
                            n_layers, output, mode, m);
}

/* noise (n) = sigma * N(0, 1) from xnn_uniform(seed, stream, 2i) and (.., 2i+1),
 * Box-Muller in double precision */

int XNN_FN(xnn_gaussian_noise)(XNN_T *noise, double sigma, uint64_t seed, uint64_t stream,
                               size_t n)
{
    for (size_t i = 0; i < n; i++) noise[i] = XNN_FN(noise_at)(sigma, seed, stream, i);
    return XNN_OK;
}

int XNN_FN(xnn_mlp_gradient_sum)(XNN_T *G, void *const *grads, XNN_T *work, const XNN_T *X,
                                 const XNN_T *B, const int64_t *targets, const xnn_layer *layers,
                                 size_t n_layers, const double *alphas, const double *weights,
                                 size_t n_steps, double sigma, uint64_t seed, int output,
                                 int mode, int times_delta, size_t m)
{
    if (n_layers == 0 || mode < XNN_GRAD_PLAIN || mode > XNN_GRAD_DECONVNET) return XNN_EINVAL;
    if (m == 0) return XNN_OK;
    const xnn_layer *L0 = &layers[0];
    const XNN_T *W0 = (const XNN_T *)L0->W;
    const size_t d = L0->n_in, n0 = L0->n_out, len = m * d, len0 = m * n0;
    XNN_T *Xs = work + xnn_gradient_workspace_size(layers, n_layers, m, 0);
    XNN_T *XW = Xs + len, *BW = XW + len0, *G0 = BW + len0;
    XNN_T *Z0 = work;       /* Z[0] of the forward workspace (forward_from) */
    /* The first layer is linear in x: without noise, x_s W_0 = B W_0 +
       a_s (X W_0 - B W_0) from two products made once; with noise, x_s is
       built and multiplied each step. The last product of the backward is
       linear too: sum_s w_s (G_s W_0^T) = (sum_s w_s G_s) W_0^T, one product
       at the end. */
    const int first_once = !(sigma > 0);
    int st;
    if (first_once) {
        st = XNN_FN(xnn_times_w)(XW, X, W0, 0, m, n0, d);
        if (st == XNN_OK && B) st = XNN_FN(xnn_times_w)(BW, B, W0, 0, m, n0, d);
        if (st != XNN_OK) return st;
    }
    memset(G0, 0, len0 * sizeof(XNN_T));
    if (grads) {
        for (size_t l = 1; l < n_layers; l++)
            memset(grads[l], 0, m * layers[l].n_in * sizeof(XNN_T));
        memset(grads[n_layers], 0, m * layers[n_layers - 1].n_out * sizeof(XNN_T));
    }
    /* noise costs a log, a sqrt and a cos per element: count it heavier */
    const size_t cost = sigma > 0 ? 16 * len : len;
    for (size_t s = 0; s < n_steps; s++) {
        const XNN_T a = (XNN_T)alphas[s], w = (XNN_T)weights[s];
        if (first_once) {
            XNN_FN(path_ctx) c = {PATH_FIRST, Z0, NULL, NULL, XW, B ? BW : NULL, a, w, 0, 0, 0};
            xnn_parallel_range(XNN_FN(path_range), &c, len0, len0);
        } else {
            XNN_FN(path_ctx) c = {PATH_POINT, NULL, Xs, NULL, X, B, a, w, sigma, seed,
                                  (uint64_t)s};
            xnn_parallel_range(XNN_FN(path_range), &c, len, cost);
        }
        st = XNN_FN(gradient)(NULL, NULL, grads, w, 1, 0, 0, first_once, G0, work,
                              first_once ? NULL : Xs, targets, layers, n_layers, output, mode, m);
        if (st != XNN_OK) return st;
    }
    st = XNN_FN(xnn_times_wt)(G, G0, W0, 0, m, d, n0);
    if (st != XNN_OK) return st;
    if (times_delta) {
        XNN_FN(path_ctx) c = {PATH_TIMES_DELTA, G, NULL, NULL, X, B, 0, 0, 0, 0, 0};
        xnn_parallel_range(XNN_FN(path_range), &c, len, len);
    }
    return XNN_OK;
}

#endif
