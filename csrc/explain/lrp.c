/* lrp.c: layer-wise relevance propagation (LRP) through a network's nodes.
 *
 * Relevance starts at the start node's score (the target's pre-activation
 * logit, 1 or its output probability; at a hidden node the unit's or
 * channel's output values) and flows back one node at a time. It passes
 * activations unchanged. A linear node (dense or conv) with input a, the
 * product f (Z = f(a; W) + b: every output c sums the contributions
 * a_j w_jc of the inputs j connected to it) and its transpose f^T has one
 * rule, written once over f and f^T, so that every rule applies to dense
 * and conv nodes alike:
 *
 *     z_c   = sum_{0,j} a'_j w'_jc      (the bias is input j = 0: a_0 = 1, w'_0c = b'_c,
 *                                        for every output position of a conv channel)
 *     s_c   = R_c / stab(z_c)           stab(z) = z + eps sign(z), sign(0) = +1;
 *                                        with eps = 0 a zero denominator gives s = 0
 *     R_j   = a'_j sum_c w'_jc s_c      R = a' * f^T(s; W')
 *
 *   zero       a' = a, w' = w, b' = b,  eps = 0
 *   epsilon    a' = a, w' = w, b' = b
 *   gamma      w' = w + gamma w+,  b' = b + gamma b+
 *   alphabeta  R_j = alpha sum_c (a_j w_jc)+ s+_c - beta sum_c (a_j w_jc)- s-_c
 *              with z+_c = sum_j (a_j w_jc)+ + b+_c and z-_c = sum_j (a_j w_jc)- + b-_c,
 *              (a w)+ = a+ w+ + a- w-,  (a w)- = a+ w- + a- w+
 *   generalized gamma (Zennit's Gamma): for outputs z_c > 0 of the node,
 *              a+ weighs with w + gamma w+ and a- with w + gamma w-, bias b + gamma b+;
 *              for z_c < 0 the two swap and the bias is b + gamma b-; z_c = 0 passes none
 *   zbox       z_c = sum_j a_j w_jc - l_j w+_jc - h_j w-_jc (the bias terms
 *              b - b+ - b- cancel), R_j = a_j (f^T s)_j - l_j (f^T+ s)_j - h_j (f^T- s)_j
 *   flat       a' = 1, w' = 1, no bias: every connected input gets an equal share
 *   wsquare    a' = 1, w' = w^2, b' = b^2 (the bias input is 1 as well)
 *
 * bias = 0 drops b' from every denominator. Pooling and flatten pass
 * relevance by their own rules (layers/pool.c, layers/flatten.c).
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "core/atomic.h"
#include "core/parallel.h"
#include "explain/explain.h"
/* flat_pooled's answer where the fused pass does not apply */
#define XNN_EAGAIN 1
#define XNN_SELF "explain/lrp.c"
#include "core/template.h"
#else

#define AT(off) ((XNN_T *)xnn_plan_at(arena, (off)))

/* r / stab(z): z + eps with z's sign (z >= 0 counts as positive), and 0
   where that is 0; written as selects, so that loops of it vectorize
   (setup.py compiles this file with -fno-trapping-math for that) */
static inline XNN_T XNN_FN(sdiv)(XNN_T r, XNN_T z, XNN_T eps)
{
    const XNN_T d = z + (z >= 0 ? eps : -eps);
    const XNN_T q = r / d;
    return d == 0 ? 0 : q;
}

/* S = scale * R / stab(Z - b), rows [i0, i1) of (m, out); Z broadcast from
   one row when one_row, the bias of each output's channel subtracted when
   b is not NULL */
typedef struct {
    XNN_T *S;
    const XNN_T *R, *Z, *b;
    const XNN_T *own;         /* with sign: S = 0 where sign(own) differs */
    size_t out, P;
    XNN_T eps, scale;
    int one_row, sign;
} XNN_FN(stab_ctx);

static void XNN_FN(stab_rows)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(stab_ctx) *c = (const XNN_FN(stab_ctx) *)p;
    const size_t out = c->out, P = c->P;
    const XNN_T eps = c->eps, scale = c->scale, *b = c->b;
    for (size_t i = i0; i < i1; i++) {
        XNN_T *s = c->S + i * out;
        const XNN_T *r = c->R + i * out, *z = c->one_row ? c->Z : c->Z + i * out;
        if (b) {
            for (size_t o = 0; o < out / P; o++)
                for (size_t q = 0; q < P; q++) {
                    const size_t j = o * P + q;
                    s[j] = scale * XNN_FN(sdiv)(r[j], z[j] - b[o], eps);
                }
        } else if (scale == 1) {
            for (size_t j = 0; j < out; j++) s[j] = XNN_FN(sdiv)(r[j], z[j], eps);
        } else {
            for (size_t j = 0; j < out; j++) s[j] = scale * XNN_FN(sdiv)(r[j], z[j], eps);
        }
        if (c->sign) {
            const XNN_T *w = c->own + i * out;
            for (size_t j = 0; j < out; j++)
                if (!(c->sign > 0 ? w[j] > 0 : w[j] < 0)) s[j] = 0;
        }
    }
}

static void XNN_FN(stab)(XNN_T *S, const XNN_T *R, const XNN_T *Z, const XNN_T *b, XNN_T eps,
                         XNN_T scale, int one_row, const xnn_node *a, size_t m)
{
    const size_t out = xnn_node_out(a);
    XNN_FN(stab_ctx) c = {S, R, Z, b, NULL, out, a->out_h * a->out_w, eps, scale, one_row, 0};
    xnn_parallel_range(XNN_FN(stab_rows), &c, m, m * out);
}

/* S = R / stab(Z) where sign(own) = sign (+1 or -1), 0 elsewhere */
static void XNN_FN(stab_signed)(XNN_T *S, const XNN_T *R, const XNN_T *Z, const XNN_T *own,
                                int sign, XNN_T eps, const xnn_node *a, size_t m)
{
    const size_t out = xnn_node_out(a);
    XNN_FN(stab_ctx) c = {S, R, Z, NULL, own, out, a->out_h * a->out_w, eps, 1, 0, sign};
    xnn_parallel_range(XNN_FN(stab_rows), &c, m, m * out);
}

typedef int (*XNN_FN(transpose_fn))(XNN_T *, void *, const XNN_T *, const XNN_T *,
                                    const XNN_T *, int, const xnn_node *, int, size_t);

/* the transpose of node a for the rules' own weights: summed over S's
   nonzeros alone where S has few (sparse: R comes from a winner-take-all
   max pooling whose windows are apart) and the op has that path; the
   node's own weights keep transpose, which runs them as the forward's
   tiles where they apply */
static XNN_FN(transpose_fn) XNN_FN(rule_transpose)(const XNN_FN(xnn_op) *op, int sparse)
{
    return sparse && op->transpose_sparse ? op->transpose_sparse : op->transpose;
}

/* Z (m, out) += bias of each output's channel */
static void XNN_FN(add_bias)(XNN_T *Z, const XNN_T *b, const xnn_node *a, size_t m)
{
    const size_t out = xnn_node_out(a), P = a->out_h * a->out_w;
    for (size_t i = 0; i < m; i++)
        for (size_t o = 0; o < a->out_c; o++) {
            XNN_T *z = Z + i * out + o * P;
            for (size_t q = 0; q < P; q++) z[q] += b[o];
        }
}

/* The rules that treat positive and negative contributions apart, over
 * two weight variants P (lrp_w) and N (after it) and biases bP, bN (lrp_b):
 *
 *   z1 = f(a+; P) + f(a-; N) + bP      z2 = f(a+; N) + f(a-; P) + bN
 *   s1 = c1 R / stab(z1)               s2 = c2 R / stab(z2)
 *   R_in = a+ (f^T(s1; P) + f^T(s2; N)) + a- (f^T(s1; N) + f^T(s2; P))
 *
 * alpha-beta: P = W+, N = W-, bP = b+, bN = b-, c1 = alpha, c2 = -beta;
 * generalized gamma (own = the node's pre-activation): P = W + g W+, N =
 * W + g W-, bP = b + g b+, bN = b + g b-, s1 only where own > 0 and s2 only
 * where own < 0, c1 = c2 = 1. */
static int XNN_FN(two_sided)(XNN_T *Rin, const xnn_plan *plan, void *arena, const XNN_T *A,
                             const XNN_T *own, const XNN_T *R, const xnn_node *a, int bias,
                             XNN_T c1, XNN_T c2, XNN_T eps, int sparse, int threads, size_t m)
{
    const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(a->op);
    const XNN_FN(transpose_fn) tr = XNN_FN(rule_transpose)(op, sparse);
    void *work = xnn_plan_at(arena, plan->scratch);
    const size_t in = xnn_node_in(a), out = xnn_node_out(a), nw = xnn_node_weights(a);
    const size_t mi = m * in, mo = m * out;
    XNN_T *P = AT(plan->lrp_w), *N = P + nw;
    XNN_T *bP = AT(plan->lrp_b), *bN = bP + a->out_c;
    XNN_T *Z1 = AT(plan->lrp_out), *Z2 = Z1 + mo, *T = Z2 + mo;
    XNN_T *Ap = AT(plan->lrp_in), *An = Ap + mi, *Cp = An + mi, *Cn = Cp + mi, *T2 = Cn + mi;
    const int second = own != NULL || c2 != 0;      /* alpha-beta with beta = 0 skips z2 */
    int neg = 0;
    for (size_t i = 0; i < mi && !neg; i++) neg = A[i] < 0;
    const XNN_T *Apos = A;
    if (neg) {
        for (size_t i = 0; i < mi; i++) {
            Ap[i] = A[i] > 0 ? A[i] : 0;
            An[i] = A[i] < 0 ? A[i] : 0;
        }
        Apos = Ap;
    }
    /* the bias in the product's own pass where no second product adds to it */
    const int fuse_b = bias && !neg;
    /* alpha-beta's z1 >= 0 and z2 <= 0 (sums of products of one sign):
       made as the forward makes its products, then clamped to their sign
       (the clamp changes no bit of product's sums) */
    int (*const product)(XNN_T *, void *, const XNN_T *, const XNN_T *, const XNN_T *,
                         const xnn_node *, int, size_t) =
        !own && op->product_tiles ? op->product_tiles : op->product;
    int st = product(Z1, work, Apos, P, fuse_b ? bP : NULL, a, threads, m);
    if (st == XNN_OK && second)
        st = product(Z2, work, Apos, N, fuse_b ? bN : NULL, a, threads, m);
    if (st != XNN_OK) return st;
    if (neg) {
        st = op->product(T, work, An, N, NULL, a, threads, m);
        if (st != XNN_OK) return st;
        for (size_t i = 0; i < mo; i++) Z1[i] += T[i];
        if (second) {
            st = op->product(T, work, An, P, NULL, a, threads, m);
            if (st != XNN_OK) return st;
            for (size_t i = 0; i < mo; i++) Z2[i] += T[i];
        }
    }
    if (bias && !fuse_b) {
        XNN_FN(add_bias)(Z1, bP, a, m);
        if (second) XNN_FN(add_bias)(Z2, bN, a, m);
    }
    if (!own && product != op->product) {
        for (size_t i = 0; i < mo; i++) Z1[i] = Z1[i] < 0 ? 0 : Z1[i];
        for (size_t i = 0; second && i < mo; i++) Z2[i] = Z2[i] > 0 ? 0 : Z2[i];
    }
    if (own) {
        XNN_FN(stab_signed)(Z1, R, Z1, own, 1, eps, a, m);
        XNN_FN(stab_signed)(Z2, R, Z2, own, -1, eps, a, m);
    } else {
        XNN_FN(stab)(Z1, R, Z1, NULL, eps, c1, 0, a, m);
        if (second) XNN_FN(stab)(Z2, R, Z2, NULL, eps, -c2, 0, a, m);
    }
    /* R_in = a (f^T s1), the product by a in a conv's transpose pass (a
       dense node's one-row transpose skips a's zeros, which sets +0 where
       a * (f^T s1) is -0: there the product stays apart) */
    if (!neg && !second && a->op == XNN_OP_CONV)
        return tr(Rin, work, Z1, A, P, 0, a, threads, m);
    st = tr(Cp, work, Z1, NULL, P, 0, a, threads, m);
    if (st == XNN_OK && second) {
        st = tr(T2, work, Z2, NULL, N, 0, a, threads, m);
        for (size_t i = 0; st == XNN_OK && i < mi; i++) Cp[i] += T2[i];
    }
    if (st != XNN_OK) return st;
    if (!neg) {
        for (size_t i = 0; i < mi; i++) Rin[i] = A[i] * Cp[i];
        return XNN_OK;
    }
    st = tr(Cn, work, Z1, NULL, N, 0, a, threads, m);
    if (st == XNN_OK && second) {
        st = tr(T2, work, Z2, NULL, P, 0, a, threads, m);
        for (size_t i = 0; st == XNN_OK && i < mi; i++) Cn[i] += T2[i];
    }
    if (st != XNN_OK) return st;
    for (size_t i = 0; i < mi; i++) Rin[i] = Ap[i] * Cp[i] + An[i] * Cn[i];
    return XNN_OK;
}

/* flat and wsquare: inputs 1, weights 1 (flat, no bias) or w^2 (wsquare,
   bias b^2) into lrp_w, and their denominator, one row the same for every
   row, into *row (in lrp_one) */
static int XNN_FN(square_row)(XNN_T **row, const xnn_plan *plan, void *arena, const xnn_node *a,
                              int flat, int bias, int threads)
{
    const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(a->op);
    const size_t in = xnn_node_in(a), nw = xnn_node_weights(a);
    const XNN_T *W = (const XNN_T *)a->W, *b = (const XNN_T *)a->b;
    XNN_T *Wp = AT(plan->lrp_w), *bp = AT(plan->lrp_b), *one = AT(plan->lrp_one);
    for (size_t i = 0; i < nw; i++) Wp[i] = flat ? 1 : W[i] * W[i];
    for (size_t c = 0; c < a->out_c; c++) bp[c] = b[c] * b[c];
    for (size_t j = 0; j < in; j++) one[j] = 1;
    *row = one + in;
    return op->product(*row, xnn_plan_at(arena, plan->scratch), one, Wp,
                       !flat && bias ? bp : NULL, a, threads, 1);
}

/* R_in (m, in) of a linear node from R (m, out); A (m, in) its input, Z
 * (m, out) = f(A; W) + b its saved pre-activation */
static int XNN_FN(lrp_linear)(XNN_T *Rin, const xnn_plan *plan, void *arena, const XNN_T *A,
                              const XNN_T *Z, const XNN_T *R, const xnn_node *a,
                              const xnn_lrp_rule *r, int bias, int sparse, int threads, size_t m)
{
    const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(a->op);
    const XNN_FN(transpose_fn) tr = XNN_FN(rule_transpose)(op, sparse);
    void *work = xnn_plan_at(arena, plan->scratch);
    const size_t in = xnn_node_in(a), out = xnn_node_out(a), nw = xnn_node_weights(a);
    const size_t C = a->out_c, mi = m * in;
    const XNN_T *W = (const XNN_T *)a->W, *b = (const XNN_T *)a->b;
    XNN_T *Wp = AT(plan->lrp_w), *Wn = Wp + nw;
    XNN_T *bp = AT(plan->lrp_b), *bn = bp + C;
    XNN_T *Zp = AT(plan->lrp_out), *Zn = Zp + m * out;
    XNN_T *Cp = AT(plan->lrp_in) + 2 * mi, *Cn = Cp + mi;
    XNN_T *one = AT(plan->lrp_one), *v1 = one + in, *v2 = v1 + out, *v3 = v2 + out;
    XNN_T eps = (XNN_T)r->epsilon;
    int st = XNN_OK;
    if (!(r->epsilon >= 0)) return XNN_EINVAL;

    switch (r->rule) {
    case XNN_LRP_ZERO:
    case XNN_LRP_EPSILON:
        if (r->rule == XNN_LRP_ZERO) eps = 0;
        /* S = R / stab(z) in one pass over the saved pre-activations */
        XNN_FN(stab)(Zp, R, Z, bias ? NULL : b, eps, 1, 0, a, m);
        return op->transpose(Rin, work, Zp, A, W, 0, a, threads, m);
    case XNN_LRP_GAMMA: {
        if (!(r->gamma >= 0)) return XNN_EINVAL;
        const XNN_T g = (XNN_T)r->gamma;
        for (size_t i = 0; i < nw; i++) Wp[i] = W[i] + g * (W[i] > 0 ? W[i] : 0);
        for (size_t c = 0; c < C; c++) bp[c] = b[c] + g * (b[c] > 0 ? b[c] : 0);
        st = op->product(Zp, work, A, Wp, bias ? bp : NULL, a, threads, m);
        if (st != XNN_OK) return st;
        XNN_FN(stab)(Zp, R, Zp, NULL, eps, 1, 0, a, m);
        return tr(Rin, work, Zp, A, Wp, 0, a, threads, m);
    }
    case XNN_LRP_ALPHABETA:
        if (!(r->alpha >= 0) || !(r->beta >= 0)) return XNN_EINVAL;
        for (size_t i = 0; i < nw; i++) {
            Wp[i] = W[i] > 0 ? W[i] : 0;
            Wn[i] = W[i] < 0 ? W[i] : 0;
        }
        for (size_t c = 0; c < C; c++) {
            bp[c] = b[c] > 0 ? b[c] : 0;
            bn[c] = b[c] < 0 ? b[c] : 0;
        }
        return XNN_FN(two_sided)(Rin, plan, arena, A, NULL, R, a, bias, (XNN_T)r->alpha,
                                 (XNN_T)r->beta, eps, sparse, threads, m);
    case XNN_LRP_GENERALIZED_GAMMA: {
        if (!(r->gamma >= 0)) return XNN_EINVAL;
        const XNN_T g = (XNN_T)r->gamma;
        for (size_t i = 0; i < nw; i++) {
            Wp[i] = W[i] + g * (W[i] > 0 ? W[i] : 0);
            Wn[i] = W[i] + g * (W[i] < 0 ? W[i] : 0);
        }
        for (size_t c = 0; c < C; c++) {
            bp[c] = b[c] + g * (b[c] > 0 ? b[c] : 0);
            bn[c] = b[c] + g * (b[c] < 0 ? b[c] : 0);
        }
        return XNN_FN(two_sided)(Rin, plan, arena, A, Z, R, a, bias, 1, 1, eps, sparse,
                                 threads, m);
    }
    case XNN_LRP_ZBOX: {
        const XNN_T *lo = (const XNN_T *)r->low, *hi = (const XNN_T *)r->high;
        if (!lo || !hi) return XNN_EINVAL;
        for (size_t i = 0; i < nw; i++) {
            Wp[i] = W[i] > 0 ? W[i] : 0;
            Wn[i] = W[i] < 0 ? W[i] : 0;
        }
        /* v (one row) = f(l; W+) + f(h; W-) */
        st = op->product(v1, work, lo, Wp, NULL, a, threads, 1);
        if (st == XNN_OK) st = op->product(v2, work, hi, Wn, NULL, a, threads, 1);
        if (st != XNN_OK) return st;
        for (size_t j = 0; j < out; j++) v3[j] = v1[j] + v2[j];
        /* z = (Z - b) - v */
        const size_t P = a->out_h * a->out_w;
        for (size_t i = 0; i < m; i++)
            for (size_t o = 0; o < C; o++)
                for (size_t q = 0; q < P; q++) {
                    const size_t j = o * P + q;
                    Zn[i * out + j] = (Z[i * out + j] - b[o]) - v3[j];
                }
        XNN_FN(stab)(Zp, R, Zn, NULL, eps, 1, 0, a, m);
        st = op->transpose(Rin, work, Zp, A, W, 0, a, threads, m);
        if (st == XNN_OK) st = tr(Cp, work, Zp, NULL, Wp, 0, a, threads, m);
        if (st == XNN_OK) st = tr(Cn, work, Zp, NULL, Wn, 0, a, threads, m);
        if (st != XNN_OK) return st;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < in; j++) {
                const size_t q = i * in + j;
                Rin[q] = Rin[q] - lo[j] * Cp[q] - hi[j] * Cn[q];
            }
        return XNN_OK;
    }
    case XNN_LRP_FLAT:
    case XNN_LRP_WSQUARE: {
        XNN_T *row;
        st = XNN_FN(square_row)(&row, plan, arena, a, r->rule == XNN_LRP_FLAT, bias, threads);
        if (st != XNN_OK) return st;
        XNN_FN(stab)(Zp, R, row, NULL, eps, 1, 1, a, m);
        return tr(Rin, work, Zp, NULL, Wp, 0, a, threads, m);
    }
    default:
        return XNN_EINVAL;
    }
}

/* The flat rule of a ReLU node c under the winner-take-all max pooling p
 * (pool_back_ok), both in one pass: R_p (m, out of p) divided at each
 * window's arg-max by c's flat denominator, then p's backward and c's
 * transpose of ones as one (pool_transpose), without c's relevance in
 * memory. The same bits as the two steps apart: there every position but
 * the arg-maxes gets +0 / stab(count) = +0, which the fused pass leaves
 * there, and an arg-max gets 0 + R_p before the division, as here. The
 * fused pass writes nothing to a window whose maximum is not > 0 (the ReLU's
 * mask), so it runs only where those windows' R_p are zero; XNN_EAGAIN
 * where not (nothing written: the caller runs the two steps). */
typedef struct {
    XNN_T *Sp;
    const XNN_T *R, *v1;
    const int32_t *arg;
    size_t C, P, HW;
    XNN_T eps;
    XNN_ATOMIC_INT bad;       /* a window whose maximum is not > 0 has R_p != 0 */
} XNN_FN(flat_pool_ctx);

/* planes [p0, p1) (image i, channel ch) of Sp */
static void XNN_FN(flat_pool_planes)(void *p, size_t p0, size_t p1)
{
    XNN_FN(flat_pool_ctx) *c = (XNN_FN(flat_pool_ctx) *)p;
    const size_t P = c->P;
    const XNN_T eps = c->eps;
    int bad = 0;
    for (size_t pl = p0; pl < p1; pl++) {
        const XNN_T *v = c->v1 + (pl % c->C) * c->HW, *R = c->R + pl * P;
        const int32_t *arg = c->arg + pl * P;
        XNN_T *Sp = c->Sp + pl * P;
        for (size_t q = 0; q < P; q++) {
            const XNN_T r = 0 + R[q];
            if (arg[q] < 0) {  /* the fused pass leaves the window unread */
                bad |= R[q] != 0;
                Sp[q] = 0;
            } else {
                Sp[q] = XNN_FN(sdiv)(r, v[arg[q]], eps);
            }
        }
    }
    if (bad) xnn_atomic_store(&c->bad, 1);
}

static int XNN_FN(flat_pooled)(XNN_T *Rin, const xnn_plan *plan, void *arena, const XNN_T *R,
                               const int32_t *arg, const xnn_node *c, const xnn_node *p,
                               XNN_T eps, int threads, size_t m)
{
    const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(c->op);
    void *work = xnn_plan_at(arena, plan->scratch);
    const size_t po = xnn_node_out(p);
    XNN_T *v1, *ones = AT(plan->lrp_w);
    int st = XNN_FN(square_row)(&v1, plan, arena, c, 1, 0, threads);
    if (st != XNN_OK) return st;
    XNN_FN(flat_pool_ctx) fc;
    fc.Sp = AT(plan->lrp_out), fc.R = R, fc.v1 = v1, fc.arg = arg, fc.C = p->out_c;
    fc.P = po / p->out_c, fc.HW = c->out_h * c->out_w, fc.eps = eps;
    xnn_atomic_store(&fc.bad, 0);
    xnn_parallel_range(XNN_FN(flat_pool_planes), &fc, m * p->out_c, 4 * m * po);
    if (xnn_atomic_load(&fc.bad)) return XNN_EAGAIN;
    return op->pool_transpose(Rin, work, fc.Sp, arg, ones, NULL, NULL, 0, c, p, threads, m);
}

int XNN_FN(xnn_explain_lrp)(void *const *rel, const xnn_plan *plan, void *arena,
                            const XNN_T *X, const int64_t *targets, const xnn_node *nodes,
                            size_t n, const xnn_lrp_rule *rules, const xnn_start *start,
                            int pool, double eps, int bias, size_t m)
{
    if (xnn_explain_check(plan, nodes, n, start, XNN_PLAN_EXPLAIN | XNN_PLAN_LRP,
                          sizeof(XNN_T)) != XNN_OK)
        return XNN_EINVAL;
    if (!rel || !rel[0] || start->output == XNN_START_LOSS || pool < XNN_POOL_WTA ||
        pool > XNN_POOL_NORM || !(eps >= 0))
        return XNN_EINVAL;
    for (size_t l = 0; l <= start->node; l++)
        if (xnn_node_linear(&nodes[l]) &&
            (rules[l].rule < XNN_LRP_ZERO || rules[l].rule > XNN_LRP_GENERALIZED_GAMMA))
            return XNN_EINVAL;
    const int threads = XNN_FN(xnn_explain_threads)(plan);
    const size_t s = start->node, in0 = xnn_node_in(&nodes[0]), out = xnn_node_out(&nodes[s]);
    void *work = xnn_plan_at(arena, plan->scratch);
    int64_t *resolved = (int64_t *)xnn_plan_at(arena, plan->targets);
    for (size_t r0 = 0; r0 < m; r0 += plan->rows) {
        const size_t mc = m - r0 < plan->rows ? m - r0 : plan->rows;
        const XNN_T *Xc = X + r0 * in0;
        int st = XNN_FN(xnn_explain_forward_lrp)(plan, arena, Xc, nodes, s, rules, pool,
                                                 threads, mc);
        if (st == XNN_OK)
            st = XNN_FN(xnn_explain_start_scores)(NULL, resolved, plan, arena, targets + r0, nodes,
                                                  n, start, mc);
        if (st != XNN_OK) return st;
        /* the start relevance: the target's score, zero elsewhere; at a
           hidden node the unit's or channel's output values */
        /* a node's relevance the caller does not keep: the chunk's rows in
           the plan's two gradient buffers, by turns (LRP uses them for
           nothing else) */
        XNN_T *R = rel[s + 1] ? (XNN_T *)rel[s + 1] + r0 * out : AT(plan->grad[0]);
        const XNN_T *Zs = AT(plan->node[s].z), *Ys = AT(plan->node[s].y);
        const size_t P = out / nodes[s].out_c;
        memset(R, 0, mc * out * sizeof(XNN_T));
        for (size_t i = 0; i < mc; i++) {
            const size_t t = (size_t)resolved[i];
            XNN_T *ri = R + i * out;
            if (s + 1 < n) {
                for (size_t q = 0; q < P; q++) ri[t * P + q] = Ys[i * out + t * P + q];
                continue;
            }
            switch (start->output) {
            case XNN_START_LOGIT: ri[t] = Zs[i * out + t]; break;
            case XNN_START_PROBABILITY: ri[t] = Ys[i * out + t]; break;
            default: ri[t] = 1; break;
            }
        }
        for (size_t l = s + 1; l-- > 0;) {
            const xnn_node *a = &nodes[l];
            const XNN_T *A = XNN_FN(xnn_explain_input)(plan, arena, Xc, l);
            XNN_T *Rin = rel[l] ? (XNN_T *)rel[l] + r0 * xnn_node_in(a)
                                : AT(plan->grad[R == AT(plan->grad[0])]);
            if (a->op == XNN_OP_MAXPOOL && pool == XNN_POOL_WTA && l > 0 && !rel[l] &&
                xnn_node_linear(&nodes[l - 1]) && rules[l - 1].rule == XNN_LRP_FLAT &&
                rules[l - 1].epsilon >= 0) {
                /* this pooling and the flat node below it in one pass */
                const xnn_node *c = &nodes[l - 1];
                const XNN_FN(xnn_op) *below = XNN_FN(xnn_op_get)(c->op);
                XNN_T *Rc = rel[l - 1] ? (XNN_T *)rel[l - 1] + r0 * xnn_node_in(c) : Rin;
                if (below->pool_back_ok && below->pool_back_ok(c, a, 0)) {
                    st = XNN_FN(flat_pooled)(Rc, plan, arena, R,
                                             (const int32_t *)xnn_plan_at(arena,
                                                                          plan->node[l].saved),
                                             c, a, (XNN_T)rules[l - 1].epsilon, threads, mc);
                    if (st != XNN_EAGAIN) {
                        if (st != XNN_OK) return st;
                        R = Rc;
                        l--;
                        continue;
                    }
                }
            }
            if (xnn_node_linear(a)) {
                /* z^B needs bounds of the network's input */
                for (size_t q = 0; rules[l].rule == XNN_LRP_ZBOX && q < l; q++)
                    if (nodes[q].op != XNN_OP_FLATTEN) return XNN_EINVAL;
                /* R under a winner-take-all max pooling whose windows are
                   apart: one value in each window (kh kw values) or fewer
                   is nonzero */
                const xnn_node *up = l < s ? &nodes[l + 1] : NULL;
                const int sparse = up && up->op == XNN_OP_MAXPOOL && pool == XNN_POOL_WTA &&
                                   up->sh >= up->kh && up->sw >= up->kw;
                st = XNN_FN(lrp_linear)(Rin, plan, arena, A, AT(plan->node[l].z), R, a, &rules[l],
                                        bias, sparse, threads, mc);
            } else {
                st = XNN_FN(xnn_op_get)(a->op)->relevance(Rin, work, R, A, AT(plan->node[l].y),
                                                          xnn_plan_at(arena, plan->node[l].saved),
                                                          a, pool, (XNN_T)eps, threads, mc);
            }
            if (st != XNN_OK) return st;
            R = Rin;
        }
    }
    return XNN_OK;
}

#undef AT
#endif
