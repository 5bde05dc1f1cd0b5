/* dense.c: the fully connected layer.
 *
 *   forward    Z = X W + b,  Y = act(Z)          X (m, k), W (k, n), b (n)
 *   backward   dX = dZ W^T,  dW = X^T dZ,  db = sum over rows of dZ
 *   product    Z = A W + b                       (the relevance rules' f)
 *   transpose  C = S W^T, times A, |.|           (their f^T)
 *
 * The op's fused paths: bias and ReLU are applied by the GEMM to each tile
 * while it is in cache; the ReLU derivative of the node below is applied
 * in the epilogue of the product that makes dX; the optimizer updates each
 * block of W as soon as the product that makes its gradient has finished
 * it, on the thread that computed it; an explanation's x * gradient and
 * |gradient| are taken on each block of C likewise. One row (an
 * explanation of one image) goes through the one-row products instead,
 * which skip the zeros of x (most pixels of a digit, half of a ReLU
 * layer's outputs).
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "core/atomic.h"
#include "core/parallel.h"
#include "gemm/gemm.h"
#include "layers/op.h"
#define XNN_SELF "layers/dense.c"
#include "core/template.h"
#else

#define N_IN(n) ((n)->in_c)
#define N_OUT(n) ((n)->out_c)

/* ---- the kernels ---- */

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
                               const XNN_T *X, const XNN_T *W, size_t m, size_t k, size_t n)
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

/* ---- the op ---- */

static size_t XNN_FN(dense_saved)(const xnn_node *n, size_t m, int flags)
{
    (void)n, (void)m, (void)flags;
    return 0;
}

/* one row through a large W: its rows in ROW_PARTS fixed halves, each
   half's sums apart (the threads take halves, never a share of one sum) */
#define ROW_PARTS 2

static int XNN_FN(row_split)(const xnn_node *n)
{
    return N_IN(n) >= ROW_PARTS && N_IN(n) * N_OUT(n) >= XNN_PAR_MIN;
}

static size_t XNN_FN(dense_scratch)(const xnn_node *n, size_t m, int flags, int threads)
{
    (void)m, (void)flags, (void)threads;
    return XNN_FN(row_split)(n) ? (ROW_PARTS - 1) * N_OUT(n) * sizeof(XNN_T) : 0;
}

/* half t of z = x W: rows [k t / 2, k (t + 1) / 2) of W, into z (t = 0)
   or the scratch */
typedef struct {
    XNN_T *z, *part;
    const XNN_T *x, *W;
    size_t k, n;
} XNN_FN(half_job);

static void XNN_FN(half_part)(void *p, size_t t)
{
    const XNN_FN(half_job) *h = (const XNN_FN(half_job) *)p;
    const size_t p0 = h->k * t / ROW_PARTS, p1 = h->k * (t + 1) / ROW_PARTS;
    XNN_FN(xnn_gemv_xw)(t ? h->part + (t - 1) * h->n : h->z, h->x + p0, h->W + p0 * h->n, 0,
                        h->n, p1 - p0);
}

/* Z (m, n) = A (m, k) W + b; one row: x W as the sum of its halves (a
   fixed split: the same bits on any thread count), each half one thread
   streaming its rows of W */
static int XNN_FN(dense_product)(XNN_T *Z, void *work, const XNN_T *A, const XNN_T *W,
                                 const XNN_T *b, const xnn_node *node, int threads, size_t m)
{
    const size_t k = N_IN(node), n = N_OUT(node);
    if (m != 1)
        return XNN_FN(xnn_gemm_epilogue)(Z, A, W, 0, 0, 0, m, n, k, b, XNN_EPI_NONE, NULL);
    if (XNN_FN(row_split)(node)) {
        XNN_FN(half_job) h = {Z, (XNN_T *)work, A, W, k, n};
        xnn_parallel_for(XNN_FN(half_part), &h, ROW_PARTS, threads);
        for (size_t t = 1; t < ROW_PARTS; t++)
            for (size_t j = 0; j < n; j++) Z[j] = Z[j] + h.part[(t - 1) * n + j];
    } else {
        XNN_FN(xnn_gemv_xw)(Z, A, W, 0, n, k);
    }
    if (b)
        for (size_t j = 0; j < n; j++) Z[j] = Z[j] + b[j];
    return XNN_OK;
}

/* rows [i0, i1) of the output: Y = act(Z) for ReLU or a linear activation */
typedef struct {
    XNN_T *Y;
    const XNN_T *Z;
    size_t n;
    int relu;
} XNN_FN(act_ctx);

static void XNN_FN(act_rows)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(act_ctx) *c = (const XNN_FN(act_ctx) *)p;
    const XNN_T *z = c->Z + i0 * c->n;
    XNN_T *y = c->Y + i0 * c->n;
    const size_t len = (i1 - i0) * c->n;
    if (c->relu)
        for (size_t i = 0; i < len; i++) y[i] = z[i] < 0 ? 0 : z[i];
    else
        memcpy(y, z, len * sizeof(XNN_T));
}

/* Y (m, n) = act(Z) after Z was made: in parallel for ReLU and linear */
static int XNN_FN(dense_activate)(XNN_T *Y, const XNN_T *Z, int act, size_t m, size_t n)
{
    if (Y == Z && (act == XNN_ACT_LINEAR)) return XNN_OK;
    if (act == XNN_ACT_RELU || act == XNN_ACT_LINEAR) {
        XNN_FN(act_ctx) c = {Y, Z, n, act == XNN_ACT_RELU};
        xnn_parallel_range(XNN_FN(act_rows), &c, m, m * n);
        return XNN_OK;
    }
    return XNN_FN(xnn_activation_forward)(Y, Z, act, m, n);
}

static int XNN_FN(dense_forward_op)(XNN_T *Y, XNN_T *Z, void *saved, void *work, const XNN_T *X,
                                    const xnn_node *node, int flags, int threads, size_t m)
{
    (void)saved, (void)flags;
    const size_t k = N_IN(node), n = N_OUT(node);
    const XNN_T *W = (const XNN_T *)node->W, *b = (const XNN_T *)node->b;
    if (Z || m == 1) {
        /* keep the pre-activation (an explanation), or one row */
        XNN_T *P = Z ? Z : Y;
        int st = XNN_FN(dense_product)(P, work, X, W, b, node, threads, m);
        if (st != XNN_OK) return st;
        return XNN_FN(dense_activate)(Y, P, node->act, m, n);
    }
    return XNN_FN(xnn_dense_forward)(Y, X, W, b, node->act, m, k, n);
}

/* the optimizer applied to the blocks of dW (k, n) as the GEMM finishes
   them, while they are in cache */
typedef struct {
    const XNN_FN(xnn_update) *u;
    XNN_T *W, *s1, *s2;
    const XNN_T *dW;
    size_t n;                   /* the row length */
    XNN_ATOMIC_INT *status;
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
        int st = XNN_FN(xnn_optimizer_step)(u->u->cfg, u->u->corr, u->W + o, u->dW + o,
                                            u->s1 ? u->s1 + o : NULL, u->s2 ? u->s2 + o : NULL,
                                            nr);
        if (st != XNN_OK) xnn_atomic_store(u->status, st);
    }
}

/* dX = dZ W^T (times [relu > 0]) with the old W, then dW = X^T dZ whose
   finished blocks update W when update is given, then db (and b) */
static int XNN_FN(dense_backward_op)(XNN_T *dX, XNN_T *dW, XNN_T *db, void *work,
                                     const XNN_T *dZ, const void *saved, const XNN_T *X,
                                     const XNN_T *relu, const xnn_node *node,
                                     const XNN_FN(xnn_update) *update, int add, int threads,
                                     size_t m)
{
    (void)work, (void)saved, (void)threads;
    const size_t k = N_IN(node), n = N_OUT(node);
    XNN_T *W = (XNN_T *)node->W;
    int st;
    if (dX) {
        st = XNN_FN(xnn_gemm_epilogue)(dX, dZ, W, 0, 0, 1, m, k, n, NULL,
                                       relu ? XNN_EPI_RELU_GRAD : XNN_EPI_NONE, relu);
        if (st != XNN_OK) return st;
    }
    if (dW) {
        XNN_ATOMIC_INT ust;
        xnn_atomic_store(&ust, XNN_OK);
        XNN_FN(update_ctx) u = {update, W, NULL, NULL, dW, n, &ust};
        if (update) {
            u.s1 = (XNN_T *)update->g->s1W;
            u.s2 = (XNN_T *)update->g->s2W;
        }
        const XNN_FN(xnn_epi) e = {NULL, 0, XNN_EPI_NONE, NULL, XNN_FN(update_tile), &u};
        st = XNN_FN(xnn_gemm_epi)(dW, X, dZ, add ? 1 : 0, 1, 0, k, n, m, update ? &e : NULL);
        if (st != XNN_OK) return st;
        if (xnn_atomic_load(&ust) != XNN_OK) return xnn_atomic_load(&ust);
    }
    if (db) {
        XNN_FN(xnn_bias_grad)(db, dZ, m, n, add);
        if (update)
            return XNN_FN(xnn_optimizer_step)(update->cfg, update->corr, (XNN_T *)node->b, db,
                                              (XNN_T *)update->g->s1b, (XNN_T *)update->g->s2b,
                                              n);
    }
    return XNN_OK;
}

/* on the block (i, j, mr, nr) of C (ld columns): C *= A when A, then |C| */
typedef struct {
    XNN_T *C;
    const XNN_T *A;
    size_t ld;
    int absolute;
} XNN_FN(finish_ctx);

static void XNN_FN(finish_block)(void *p, size_t i, size_t j, size_t mr, size_t nr)
{
    const XNN_FN(finish_ctx) *c = (const XNN_FN(finish_ctx) *)p;
    for (size_t r = i; r < i + mr; r++) {
        XNN_T *cr = c->C + r * c->ld + j;
        if (c->A) {
            const XNN_T *ar = c->A + r * c->ld + j;
            for (size_t q = 0; q < nr; q++) cr[q] *= ar[q];
        }
        if (c->absolute)
            for (size_t q = 0; q < nr; q++) cr[q] = XNN_M(fabs)(cr[q]);
    }
}

/* one row: c[j] for the rows j of W in [k t / T, k (t + 1) / T) of c = s W^T
   (times a, |.|), each thread reading its rows of W only */
typedef struct {
    XNN_T *c;
    const XNN_T *s, *W, *a;
    size_t k, n, parts;
    int absolute;
} XNN_FN(row_job);

static void XNN_FN(row_part)(void *p, size_t t)
{
    const XNN_FN(row_job) *r = (const XNN_FN(row_job) *)p;
    const size_t j0 = r->k * t / r->parts, j1 = r->k * (t + 1) / r->parts;
    XNN_FN(xnn_gemv_wt)(r->c + j0, r->s, r->W + j0 * r->n, r->a ? r->a + j0 : NULL, 0, j1 - j0,
                        r->n);
    if (r->absolute)
        for (size_t j = j0; j < j1; j++) r->c[j] = XNN_M(fabs)(r->c[j]);
}

/* C (m, k) = S (m, n) W^T, times A (m, k) when given, then |C| when
   absolute: the finish applied to each block while it is in cache */
static int XNN_FN(dense_transpose)(XNN_T *C, void *work, const XNN_T *S, const XNN_T *A,
                                   const XNN_T *W, int absolute, const xnn_node *node,
                                   int threads, size_t m)
{
    (void)work;
    const size_t k = N_IN(node), n = N_OUT(node);
    if (m != 1) {
        XNN_FN(finish_ctx) c = {C, A, k, absolute};
        const XNN_FN(xnn_epi) e = {NULL, 0, XNN_EPI_NONE, NULL, XNN_FN(finish_block), &c};
        return XNN_FN(xnn_gemm_epi)(C, S, W, 0, 0, 1, m, k, n, (A || absolute) ? &e : NULL);
    }
    /* one row: each output is one dot product, so a large W is split by
       rows among the threads (the same sums) */
    XNN_FN(row_job) r = {C, S, W, A, k, n, 1, absolute};
    if (threads > 1 && k * n >= XNN_PAR_MIN) r.parts = (size_t)threads < k ? (size_t)threads : k;
    xnn_parallel_for(XNN_FN(row_part), &r, r.parts, threads);
    return XNN_OK;
}

const XNN_FN(xnn_op) XNN_FN(xnn_dense_op) = {
    XNN_FN(dense_saved),   XNN_FN(dense_scratch), XNN_FN(dense_forward_op),
    XNN_FN(dense_backward_op), XNN_FN(dense_product), XNN_FN(dense_transpose), NULL,
    NULL,                  NULL,                  NULL,
    NULL,                  NULL,                  NULL,
    NULL,                  NULL,                  NULL,
    NULL,                  NULL,                  NULL,
};

#undef ROW_PARTS
#undef N_IN
#undef N_OUT
#endif
