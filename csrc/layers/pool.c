/* pool.c: max, average and global average pooling of NCHW planes.
 *
 * For a plane x (H, W) of one channel, windows of kh x kw at stride sh x sw
 * (no padding), y (Ho, Wo):
 *
 *   max      y_c = max over the window,  a_c = its flat index h W + w in the
 *            plane (the first maximum in row-major window order), saved
 *            as ~a_c (negative) where y_c is not > 0 (XNN_ARG decodes)
 *            backward  dx[a_c] += dy_c; through a ReLU below (relu given:
 *            x is that ReLU's output) only where y_c > 0, which reads no
 *            x: the training step then writes dx over x
 *            (xnn_plan_grad_next)
 *   avg      y_c = (sum over the window) / (kh kw)
 *            backward  dx_j += dy_c / (kh kw) for each j of the window
 *   global   y = (sum over the plane) / (H W);  dx_j = dy / (H W)
 *
 * Relevance (LRP), with stab(z) = z + eps sign(z), sign(0) = +1:
 *
 *   max, winner takes all (XNN_POOL_WTA)  R_in[a_c] += R_c
 *   max, proportional (XNN_POOL_NORM)     R_in[j] += x_j R_c / (k stab(mean of the window's x)):
 *                                         the avg rule over the same windows
 *   avg, global                           R_in[j] += x_j R_c / (k stab(y_c)), k the window's
 *                                         size: Zennit's Norm rule, a * f^T(R / stab(f(a)))
 *
 * Threads split the planes (rows times channels): within a plane the
 * windows add into dx in a fixed order.
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "core/parallel.h"
#include "gemm/gemm.h"
#include "layers/op.h"
#define XNN_SELF "layers/pool.c"
#include "core/template.h"
#else

/* stab(z) = z + eps sign(z), and r / stab(z), 0 where that is 0 */
static inline XNN_T XNN_FN(pool_sdiv)(XNN_T r, XNN_T z, XNN_T eps)
{
    const XNN_T d = z + (z >= 0 ? eps : -eps);
    return d == 0 ? 0 : r / d;
}

typedef struct {
    XNN_T *out;               /* Y (forward), dX or R_in (backward, relevance) */
    int32_t *arg;             /* arg-max (max pooling), or NULL */
    const int32_t *carg;
    const XNN_T *in;          /* X (forward), dY or R (backward, relevance) */
    const XNN_T *X;           /* relevance: the input */
    const XNN_T *Y;           /* relevance: the output */
    const XNN_T *relu;        /* backward: the ReLU output of the node below, or NULL */
    const xnn_node *n;
    int rule;                 /* relevance of max pooling: XNN_POOL_* */
    XNN_T eps;
} XNN_FN(pool_job);

/* ---- forward: planes [p0, p1) ---- */

/* x read through a ReLU conv's bias b when rb (conv.c: max(x + b, 0), the
   bits of its wide rows' activation) */
static inline XNN_T XNN_FN(rd)(XNN_T x, int rb, XNN_T b)
{
    if (!rb) return x;
    const XNN_T v = x + b;
    return v < 0 ? 0 : v;
}

/* 2 x 2 windows at stride 2, the common case, go through the instruction
   set's rows (gemm/pool_body.h); float planes of 2^24 pixels or more
   through the portable rows, which make the arg-max in integers */
static int XNN_FN(by_rows)(const xnn_node *n)
{
    return n->kh == 2 && n->kw == 2 && n->sh == 2 && n->sw == 2;
}

static const XNN_FN(xnn_gemm_cfg) *XNN_FN(rows_cfg)(const xnn_node *n)
{
    const int big = XNN_IS_F32 && (double)n->in_h * (double)n->in_w >= 16777216.0;
    return XNN_FN(xnn_gemm_config)(big ? XNN_ISA_REF : xnn_isa());
}

/* y (Ho, Wo) = the max pooling of one plane x whose rows are ld apart
   (ld = W, or a convolution's wide rows, conv.c), a (Ho, Wo) its arg-max
   when not NULL; relu_bias: x read as max(x + *relu_bias, 0) (a ReLU
   convolution's rows before their bias and activation) */
void XNN_FN(xnn_maxpool_plane)(XNN_T *restrict y, int32_t *restrict a, const XNN_T *x, size_t ld,
                               const xnn_node *n, const XNN_T *relu_bias)
{
    const size_t W = n->in_w, Ho = n->out_h, Wo = n->out_w;
    const int rb = relu_bias != NULL;
    const XNN_T b = rb ? *relu_bias : 0;
    if (XNN_FN(by_rows)(n)) {
        /* the same comparisons in the same order as the general loop */
        XNN_FN(rows_cfg)(n)->maxpool_rows(y, a, x, ld, Ho, Wo, (int32_t)W, rb, b);
        return;
    }
    for (size_t oh = 0; oh < Ho; oh++)
        for (size_t ow = 0; ow < Wo; ow++) {
            const size_t h0 = oh * n->sh, w0 = ow * n->sw;
            size_t best = h0 * W + w0;
            XNN_T v = XNN_FN(rd)(x[h0 * ld + w0], rb, b);
            for (size_t i = 0; i < n->kh; i++)
                for (size_t q = 0; q < n->kw; q++) {
                    const XNN_T e = XNN_FN(rd)(x[(h0 + i) * ld + w0 + q], rb, b);
                    if (e > v) {
                        v = e;
                        best = (h0 + i) * W + w0 + q;
                    }
                }
            y[oh * Wo + ow] = v;
            if (a) a[oh * Wo + ow] = (int32_t)best ^ -(int32_t)!(v > 0);
        }
}

void XNN_FN(xnn_maxunpool_plane)(XNN_T *restrict dx, size_t rs, const XNN_T *restrict dy,
                                 const int32_t *restrict a, const xnn_node *n, int relu)
{
    const size_t H = n->in_h, W = n->in_w, Ho = n->out_h, Wo = n->out_w;
    size_t r0 = 0, c0 = W;   /* from row r0 on every column is zeroed, above it from c0 on */
    if (XNN_FN(by_rows)(n)) {
        /* the windows apart, each input set once */
        XNN_FN(rows_cfg)(n)->unpool_rows(dx, rs, dy, a, Ho, Wo, (int32_t)W, relu);
        r0 = 2 * Ho, c0 = 2 * Wo;
    }
    for (size_t h = 0; h < H; h++) {
        const size_t w0 = h < r0 ? c0 : 0;
        if (w0 < W) memset(dx + h * rs + w0, 0, (W - w0) * sizeof(XNN_T));
    }
    if (r0) return;
    /* any windows: each arg-max's gradient added to the zeroed plane */
    const size_t P = Ho * Wo;
    for (size_t q = 0; q < P; q++) {
        if (relu && a[q] < 0) continue;
        const size_t k = (size_t)XNN_ARG(a[q]);
        dx[k / W * rs + k % W] += dy[q];
    }
}

static void XNN_FN(max_fwd)(void *ctx, size_t p0, size_t p1)
{
    const XNN_FN(pool_job) *j = (const XNN_FN(pool_job) *)ctx;
    const xnn_node *n = j->n;
    const size_t H = n->in_h, W = n->in_w, P = n->out_h * n->out_w;
    for (size_t p = p0; p < p1; p++)
        XNN_FN(xnn_maxpool_plane)(j->out + p * P, j->arg ? j->arg + p * P : NULL,
                                  j->in + p * H * W, W, n, NULL);
}

static void XNN_FN(avg_fwd)(void *ctx, size_t p0, size_t p1)
{
    const XNN_FN(pool_job) *j = (const XNN_FN(pool_job) *)ctx;
    const xnn_node *n = j->n;
    const size_t H = n->in_h, W = n->in_w, Ho = n->out_h, Wo = n->out_w;
    const XNN_T k = (XNN_T)(n->kh * n->kw);
    for (size_t p = p0; p < p1; p++) {
        const XNN_T *x = j->in + p * H * W;
        XNN_T *y = j->out + p * Ho * Wo;
        for (size_t oh = 0; oh < Ho; oh++)
            for (size_t ow = 0; ow < Wo; ow++) {
                const size_t h0 = oh * n->sh, w0 = ow * n->sw;
                XNN_T s = 0;
                for (size_t i = 0; i < n->kh; i++)
                    for (size_t q = 0; q < n->kw; q++) s += x[(h0 + i) * W + w0 + q];
                y[oh * Wo + ow] = s / k;
            }
    }
}

static void XNN_FN(gap_fwd)(void *ctx, size_t p0, size_t p1)
{
    const XNN_FN(pool_job) *j = (const XNN_FN(pool_job) *)ctx;
    const size_t P = j->n->in_h * j->n->in_w;
    for (size_t p = p0; p < p1; p++) {
        const XNN_T *x = j->in + p * P;
        XNN_T s = 0;
        for (size_t i = 0; i < P; i++) s += x[i];
        j->out[p] = s / (XNN_T)P;
    }
}

/* ---- backward: planes [p0, p1) of dX from dY ---- */

static void XNN_FN(relu_plane)(XNN_T *dx, const XNN_T *relu, size_t len)
{
    if (relu)
        for (size_t i = 0; i < len; i++) dx[i] = relu[i] > 0 ? dx[i] : 0;
}

static void XNN_FN(max_bwd)(void *ctx, size_t p0, size_t p1)
{
    const XNN_FN(pool_job) *j = (const XNN_FN(pool_job) *)ctx;
    const xnn_node *n = j->n;
    const size_t HW = n->in_h * n->in_w, P = n->out_h * n->out_w;
    /* through the ReLU below, whose output is this node's input: [x > 0]
       at an arg-max is [maximum > 0], the arg-max's sign, so no x is read
       (dX may be x's own buffer, in training) */
    for (size_t p = p0; p < p1; p++)
        XNN_FN(xnn_maxunpool_plane)(j->out + p * HW, n->in_w, j->in + p * P, j->carg + p * P, n,
                                    j->relu != NULL);
}

static void XNN_FN(avg_bwd)(void *ctx, size_t p0, size_t p1)
{
    const XNN_FN(pool_job) *j = (const XNN_FN(pool_job) *)ctx;
    const xnn_node *n = j->n;
    const size_t W = n->in_w, HW = n->in_h * W, Ho = n->out_h, Wo = n->out_w;
    const XNN_T k = (XNN_T)(n->kh * n->kw);
    for (size_t p = p0; p < p1; p++) {
        XNN_T *dx = j->out + p * HW;
        const XNN_T *dy = j->in + p * Ho * Wo;
        memset(dx, 0, HW * sizeof(XNN_T));
        for (size_t oh = 0; oh < Ho; oh++)
            for (size_t ow = 0; ow < Wo; ow++) {
                const XNN_T g = dy[oh * Wo + ow] / k;
                const size_t h0 = oh * n->sh, w0 = ow * n->sw;
                for (size_t i = 0; i < n->kh; i++)
                    for (size_t q = 0; q < n->kw; q++) dx[(h0 + i) * W + w0 + q] += g;
            }
        XNN_FN(relu_plane)(dx, j->relu ? j->relu + p * HW : NULL, HW);
    }
}

static void XNN_FN(gap_bwd)(void *ctx, size_t p0, size_t p1)
{
    const XNN_FN(pool_job) *j = (const XNN_FN(pool_job) *)ctx;
    const size_t HW = j->n->in_h * j->n->in_w;
    for (size_t p = p0; p < p1; p++) {
        XNN_T *dx = j->out + p * HW;
        const XNN_T g = j->in[p] / (XNN_T)HW;
        for (size_t i = 0; i < HW; i++) dx[i] = g;
        XNN_FN(relu_plane)(dx, j->relu ? j->relu + p * HW : NULL, HW);
    }
}

/* ---- relevance: planes [p0, p1) of R_in from R ---- */

static void XNN_FN(max_rel)(void *ctx, size_t p0, size_t p1)
{
    const XNN_FN(pool_job) *j = (const XNN_FN(pool_job) *)ctx;
    const xnn_node *n = j->n;
    const size_t W = n->in_w, HW = n->in_h * W, Ho = n->out_h, Wo = n->out_w, P = Ho * Wo;
    for (size_t p = p0; p < p1; p++) {
        XNN_T *r = j->out + p * HW;
        const XNN_T *R = j->in + p * P;
        memset(r, 0, HW * sizeof(XNN_T));
        if (j->rule == XNN_POOL_WTA) {
            const int32_t *a = j->carg + p * P;
            for (size_t c = 0; c < P; c++) r[XNN_ARG(a[c])] += R[c];
            continue;
        }
        const XNN_T *x = j->X + p * HW;
        const XNN_T k = (XNN_T)(n->kh * n->kw);
        for (size_t oh = 0; oh < Ho; oh++)
            for (size_t ow = 0; ow < Wo; ow++) {
                const size_t h0 = oh * n->sh, w0 = ow * n->sw;
                XNN_T z = 0;
                for (size_t i = 0; i < n->kh; i++)
                    for (size_t q = 0; q < n->kw; q++) z += x[(h0 + i) * W + w0 + q];
                const XNN_T s = XNN_FN(pool_sdiv)(R[oh * Wo + ow], z / k, j->eps) / k;
                for (size_t i = 0; i < n->kh; i++)
                    for (size_t q = 0; q < n->kw; q++) {
                        const size_t at = (h0 + i) * W + w0 + q;
                        r[at] += x[at] * s;
                    }
            }
    }
}

static void XNN_FN(avg_rel)(void *ctx, size_t p0, size_t p1)
{
    const XNN_FN(pool_job) *j = (const XNN_FN(pool_job) *)ctx;
    const xnn_node *n = j->n;
    const size_t W = n->in_w, HW = n->in_h * W, Ho = n->out_h, Wo = n->out_w;
    const XNN_T k = (XNN_T)(n->kh * n->kw);
    for (size_t p = p0; p < p1; p++) {
        XNN_T *r = j->out + p * HW;
        const XNN_T *R = j->in + p * Ho * Wo, *x = j->X + p * HW, *y = j->Y + p * Ho * Wo;
        memset(r, 0, HW * sizeof(XNN_T));
        for (size_t oh = 0; oh < Ho; oh++)
            for (size_t ow = 0; ow < Wo; ow++) {
                const XNN_T s = XNN_FN(pool_sdiv)(R[oh * Wo + ow], y[oh * Wo + ow], j->eps) / k;
                const size_t h0 = oh * n->sh, w0 = ow * n->sw;
                for (size_t i = 0; i < n->kh; i++)
                    for (size_t q = 0; q < n->kw; q++) {
                        const size_t at = (h0 + i) * W + w0 + q;
                        r[at] += x[at] * s;
                    }
            }
    }
}

static void XNN_FN(gap_rel)(void *ctx, size_t p0, size_t p1)
{
    const XNN_FN(pool_job) *j = (const XNN_FN(pool_job) *)ctx;
    const size_t HW = j->n->in_h * j->n->in_w;
    for (size_t p = p0; p < p1; p++) {
        XNN_T *r = j->out + p * HW;
        const XNN_T *x = j->X + p * HW;
        const XNN_T s = XNN_FN(pool_sdiv)(j->in[p], j->Y[p], j->eps) / (XNN_T)HW;
        for (size_t i = 0; i < HW; i++) r[i] = x[i] * s;
    }
}

/* ---- the ops ---- */

/* the cost of a pass for xnn_parallel_range: each input element is read,
   compared and (max pooling) its arg-max kept, some elementwise
   operations' worth (one image's 32 x 26 x 26 plane split in two measured
   faster than on one thread) */
#define POOL_COST 8

static size_t XNN_FN(max_saved)(const xnn_node *n, size_t m, int flags)
{
    return (flags & (XNN_PLAN_TRAIN | XNN_PLAN_EXPLAIN)) ? m * xnn_node_out(n) * sizeof(int32_t)
                                                          : 0;
}

static size_t XNN_FN(no_saved)(const xnn_node *n, size_t m, int flags)
{
    (void)n, (void)m, (void)flags;
    return 0;
}

static size_t XNN_FN(no_scratch)(const xnn_node *n, size_t m, int flags, int threads)
{
    (void)n, (void)m, (void)flags, (void)threads;
    return 0;
}

/* run body over the m C planes, copy Y to Z when both are wanted */
static int XNN_FN(pool_forward)(void (*body)(void *, size_t, size_t), XNN_T *Y, XNN_T *Z,
                                int32_t *arg, const XNN_T *X, const xnn_node *n, size_t m)
{
    XNN_FN(pool_job) j;
    memset(&j, 0, sizeof(j));
    j.out = Y, j.arg = arg, j.in = X, j.n = n;
    const size_t planes = m * n->in_c;
    xnn_parallel_range(body, &j, planes, POOL_COST * m * xnn_node_in(n));
    if (Z && Z != Y) memcpy(Z, Y, m * xnn_node_out(n) * sizeof(XNN_T));
    return XNN_OK;
}

static int XNN_FN(max_forward)(XNN_T *Y, XNN_T *Z, void *saved, void *work, const XNN_T *X,
                               const xnn_node *n, int flags, int threads, size_t m)
{
    (void)work, (void)flags, (void)threads;
    return XNN_FN(pool_forward)(XNN_FN(max_fwd), Y, Z, (int32_t *)saved, X, n, m);
}

static int XNN_FN(avg_forward)(XNN_T *Y, XNN_T *Z, void *saved, void *work, const XNN_T *X,
                               const xnn_node *n, int flags, int threads, size_t m)
{
    (void)saved, (void)work, (void)flags, (void)threads;
    return XNN_FN(pool_forward)(XNN_FN(avg_fwd), Y, Z, NULL, X, n, m);
}

static int XNN_FN(gap_forward)(XNN_T *Y, XNN_T *Z, void *saved, void *work, const XNN_T *X,
                               const xnn_node *n, int flags, int threads, size_t m)
{
    (void)saved, (void)work, (void)flags, (void)threads;
    return XNN_FN(pool_forward)(XNN_FN(gap_fwd), Y, Z, NULL, X, n, m);
}

static int XNN_FN(pool_backward)(void (*body)(void *, size_t, size_t), XNN_T *dX,
                                 const int32_t *arg, const XNN_T *dY, const XNN_T *relu,
                                 const xnn_node *n, size_t m)
{
    if (!dX) return XNN_OK;
    XNN_FN(pool_job) j;
    memset(&j, 0, sizeof(j));
    j.out = dX, j.carg = arg, j.in = dY, j.relu = relu, j.n = n;
    xnn_parallel_range(body, &j, m * n->in_c, POOL_COST * m * xnn_node_in(n));
    return XNN_OK;
}

static int XNN_FN(max_backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, void *work, const XNN_T *dZ,
                                const void *saved, const XNN_T *X, const XNN_T *relu,
                                const xnn_node *n, const XNN_FN(xnn_update) *update, int add,
                                int threads, size_t m)
{
    (void)dW, (void)db, (void)work, (void)X, (void)update, (void)add, (void)threads;
    if (!saved) return XNN_EINVAL;
    return XNN_FN(pool_backward)(XNN_FN(max_bwd), dX, (const int32_t *)saved, dZ, relu, n, m);
}

static int XNN_FN(avg_backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, void *work, const XNN_T *dZ,
                                const void *saved, const XNN_T *X, const XNN_T *relu,
                                const xnn_node *n, const XNN_FN(xnn_update) *update, int add,
                                int threads, size_t m)
{
    (void)dW, (void)db, (void)work, (void)saved, (void)X, (void)update, (void)add, (void)threads;
    return XNN_FN(pool_backward)(XNN_FN(avg_bwd), dX, NULL, dZ, relu, n, m);
}

static int XNN_FN(gap_backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, void *work, const XNN_T *dZ,
                                const void *saved, const XNN_T *X, const XNN_T *relu,
                                const xnn_node *n, const XNN_FN(xnn_update) *update, int add,
                                int threads, size_t m)
{
    (void)dW, (void)db, (void)work, (void)saved, (void)X, (void)update, (void)add, (void)threads;
    return XNN_FN(pool_backward)(XNN_FN(gap_bwd), dX, NULL, dZ, relu, n, m);
}

static int XNN_FN(pool_relevance)(void (*body)(void *, size_t, size_t), XNN_T *Rin,
                                  const XNN_T *R, const XNN_T *X, const XNN_T *Y,
                                  const int32_t *arg, const xnn_node *n, int rule, XNN_T eps,
                                  size_t m)
{
    XNN_FN(pool_job) j;
    memset(&j, 0, sizeof(j));
    j.out = Rin, j.carg = arg, j.in = R, j.X = X, j.Y = Y, j.n = n, j.rule = rule, j.eps = eps;
    xnn_parallel_range(body, &j, m * n->in_c, POOL_COST * m * xnn_node_in(n));
    return XNN_OK;
}

static int XNN_FN(max_relevance)(XNN_T *Rin, void *work, const XNN_T *R, const XNN_T *X,
                                 const XNN_T *Y, const void *saved, const xnn_node *n, int pool,
                                 XNN_T eps, int threads, size_t m)
{
    (void)work, (void)threads;
    if (pool != XNN_POOL_WTA && pool != XNN_POOL_NORM) return XNN_EINVAL;
    if (pool == XNN_POOL_WTA && !saved) return XNN_EINVAL;
    return XNN_FN(pool_relevance)(XNN_FN(max_rel), Rin, R, X, Y, (const int32_t *)saved, n, pool,
                                  eps, m);
}

static int XNN_FN(avg_relevance)(XNN_T *Rin, void *work, const XNN_T *R, const XNN_T *X,
                                 const XNN_T *Y, const void *saved, const xnn_node *n, int pool,
                                 XNN_T eps, int threads, size_t m)
{
    (void)work, (void)saved, (void)pool, (void)threads;
    return XNN_FN(pool_relevance)(XNN_FN(avg_rel), Rin, R, X, Y, NULL, n, 0, eps, m);
}

static int XNN_FN(gap_relevance)(XNN_T *Rin, void *work, const XNN_T *R, const XNN_T *X,
                                 const XNN_T *Y, const void *saved, const xnn_node *n, int pool,
                                 XNN_T eps, int threads, size_t m)
{
    (void)work, (void)saved, (void)pool, (void)threads;
    return XNN_FN(pool_relevance)(XNN_FN(gap_rel), Rin, R, X, Y, NULL, n, 0, eps, m);
}

const XNN_FN(xnn_op) XNN_FN(xnn_maxpool_op) = {
    XNN_FN(max_saved), XNN_FN(no_scratch), XNN_FN(max_forward), XNN_FN(max_backward),
    NULL, NULL, XNN_FN(max_relevance), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL,
};

const XNN_FN(xnn_op) XNN_FN(xnn_avgpool_op) = {
    XNN_FN(no_saved), XNN_FN(no_scratch), XNN_FN(avg_forward), XNN_FN(avg_backward),
    NULL, NULL, XNN_FN(avg_relevance), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL,
};

const XNN_FN(xnn_op) XNN_FN(xnn_global_avgpool_op) = {
    XNN_FN(no_saved), XNN_FN(no_scratch), XNN_FN(gap_forward), XNN_FN(gap_backward),
    NULL, NULL, XNN_FN(gap_relevance), NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL, NULL,
    NULL, NULL,
};

#endif
