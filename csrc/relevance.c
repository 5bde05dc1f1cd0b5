/* relevance.c: layer-wise relevance propagation (LRP) through a dense network.
 *
 * Relevance starts at the target's score of the last layer (its
 * pre-activation logit, 1, or its output probability) and flows back one
 * dense layer at a time. For a layer with input a (m, k), weights W (k, n),
 * bias b (n) and output relevance R (m, n), every rule is
 *
 *     z_c   = sum_{0,j} a'_j w'_jc      (the bias is input j = 0: a_0 = 1, w'_0c = b'_c)
 *     s_c   = R_c / stab(z_c)           stab(z) = z + eps sign(z), sign(0) = +1;
 *                                        with eps = 0 a zero denominator gives s = 0
 *     R_j   = a'_j sum_c w'_jc s_c
 *
 *   zero       a' = a, w' = w, b' = b,  eps = 0
 *   epsilon    a' = a, w' = w, b' = b
 *   gamma      w' = w + gamma w+,  b' = b + gamma b+
 *   alphabeta  R_j = alpha sum_c (a_j w_jc)+ s+_c - beta sum_c (a_j w_jc)- s-_c
 *              with z+_c = sum_j (a_j w_jc)+ + b+_c and z-_c = sum_j (a_j w_jc)- + b-_c,
 *              (a w)+ = a+ w+ + a- w-,  (a w)- = a+ w- + a- w+
 *   zbox       z_c = sum_j a_j w_jc - l_j w+_jc - h_j w-_jc (the bias terms
 *              b - b+ - b- cancel), R_j = a_j (W s)_j - l_j (W+ s)_j - h_j (W- s)_j
 *   flat       a' = 1, w' = 1, no bias:  R_j = sum_c R_c / stab(k)
 *   wsquare    a' = 1, w' = w^2, b' = b^2 (the bias input is 1 as well)
 *
 * bias = 0 drops b' from every denominator.
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"

size_t xnn_lrp_workspace_size(const xnn_layer *layers, size_t n_layers, size_t m)
{
    size_t wmax = 0, omax = 0, imax = 0;
    for (size_t l = 0; l < n_layers; l++) {
        const xnn_layer *L = &layers[l];
        if (L->n_in * L->n_out > wmax) wmax = L->n_in * L->n_out;
        if (L->n_out > omax) omax = L->n_out;
        if (L->n_in > imax) imax = L->n_in;
    }
    return xnn_explain_forward_size(layers, n_layers, m) + 2 * wmax + 2 * omax
         + 2 * m * omax + 4 * m * imax;
}

#include "parallel.h"

#define XNN_SELF "relevance.c"
#include "template.h"
#else

/* r / stab(z): z + eps with z's sign (z >= 0 counts as positive), and 0
   where that is 0; written as selects, so that loops of it vectorize
   (setup.py compiles this file with -fno-trapping-math for that) */
static inline XNN_T XNN_FN(sdiv)(XNN_T r, XNN_T z, XNN_T eps)
{
    const XNN_T d = z + (z >= 0 ? eps : -eps);
    const XNN_T q = r / d;
    return d == 0 ? 0 : q;
}

/* S (m, n) = scale * R / stab(Z), in place over Z */
static void XNN_FN(divide)(XNN_T *Z, const XNN_T *R, XNN_T eps, XNN_T scale, size_t len)
{
    for (size_t i = 0; i < len; i++) Z[i] = scale * XNN_FN(sdiv)(R[i], Z[i], eps);
}

/* S = R / stab(z) on rows [i0, i1), z the saved pre-activation (minus the
   bias when b is not NULL) */
typedef struct {
    XNN_T *S;
    const XNN_T *R, *Zpre, *b;
    size_t n;
    XNN_T eps;
} XNN_FN(stab_ctx);

static void XNN_FN(stab_rows)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(stab_ctx) *c = (const XNN_FN(stab_ctx) *)p;
    const size_t n = c->n;
    const XNN_T eps = c->eps, *b = c->b;
    for (size_t i = i0; i < i1; i++) {
        XNN_T *s = c->S + i * n;
        const XNN_T *r = c->R + i * n, *z = c->Zpre + i * n;
        if (b)
            for (size_t j = 0; j < n; j++) s[j] = XNN_FN(sdiv)(r[j], z[j] - b[j], eps);
        else
            for (size_t j = 0; j < n; j++) s[j] = XNN_FN(sdiv)(r[j], z[j], eps);
    }
}

/* Z (m, n) += bias (n) on every row */
static void XNN_FN(add_rows)(XNN_T *Z, const XNN_T *bias, size_t m, size_t n)
{
    for (size_t i = 0; i < m; i++)
        for (size_t c = 0; c < n; c++) Z[i * n + c] += bias[c];
}

/* Rin (m, k) from R (m, n) for one layer; A (m, k) its input, Zpre (m, n)
 * = A W + b its pre-activation, ws the layer workspace */
static int XNN_FN(lrp_layer)(XNN_T *Rin, XNN_T *ws, const XNN_T *A, const XNN_T *Zpre,
                             const XNN_T *R, const XNN_T *W, const XNN_T *b,
                             const xnn_lrp_rule *r, int bias, size_t wmax, size_t omax,
                             size_t m, size_t k, size_t n)
{
    XNN_T *Wp = ws, *Wn = Wp + wmax, *bp = Wn + wmax, *bn = bp + omax;
    XNN_T *Zp = bn + omax, *Zn = Zp + m * omax;
    XNN_T *Ap = Zn + m * omax, *An = Ap + m * k, *Cp = An + m * k, *Cn = Cp + m * k;
    size_t mn = m * n, mk = m * k, kn = k * n;
    XNN_T eps = (XNN_T)r->epsilon;
    int st = XNN_OK;
    if (!(r->epsilon >= 0)) return XNN_EINVAL;

    switch (r->rule) {
    case XNN_LRP_ZERO:
    case XNN_LRP_EPSILON: {
        if (r->rule == XNN_LRP_ZERO) eps = 0;
        /* S = R / stab(z) in one pass over the saved pre-activations */
        XNN_FN(stab_ctx) c = {Zp, R, Zpre, bias ? NULL : b, n, eps};
        xnn_parallel_range(XNN_FN(stab_rows), &c, m, mn);
        return XNN_FN(xnn_times_wt_scaled)(Rin, Zp, W, A, m, k, n);
    }
    case XNN_LRP_GAMMA: {
        if (!(r->gamma >= 0)) return XNN_EINVAL;
        XNN_T g = (XNN_T)r->gamma;
        for (size_t i = 0; i < kn; i++) Wp[i] = W[i] + g * (W[i] > 0 ? W[i] : 0);
        st = XNN_FN(xnn_times_w)(Zp, A, Wp, 0, m, n, k);
        if (st != XNN_OK) return st;
        if (bias) {
            for (size_t c = 0; c < n; c++) bp[c] = b[c] + g * (b[c] > 0 ? b[c] : 0);
            XNN_FN(add_rows)(Zp, bp, m, n);
        }
        XNN_FN(divide)(Zp, R, eps, 1, mn);
        return XNN_FN(xnn_times_wt_scaled)(Rin, Zp, Wp, A, m, k, n);
    }
    case XNN_LRP_ALPHABETA: {
        if (!(r->alpha >= 0) || !(r->beta >= 0)) return XNN_EINVAL;
        XNN_T alpha = (XNN_T)r->alpha, beta = (XNN_T)r->beta;
        for (size_t i = 0; i < kn; i++) {
            Wp[i] = W[i] > 0 ? W[i] : 0;
            Wn[i] = W[i] < 0 ? W[i] : 0;
        }
        int neg = 0;
        for (size_t i = 0; i < mk && !neg; i++) neg = A[i] < 0;
        const XNN_T *Apos = A;
        if (neg) {
            for (size_t i = 0; i < mk; i++) {
                Ap[i] = A[i] > 0 ? A[i] : 0;
                An[i] = A[i] < 0 ? A[i] : 0;
            }
            Apos = Ap;
        }
        /* z+ = a+ W+ + a- W- + b+,  z- = a+ W- + a- W+ + b- */
        st = XNN_FN(xnn_times_w)(Zp, Apos, Wp, 0, m, n, k);
        if (st == XNN_OK && neg) st = XNN_FN(xnn_times_w)(Zp, An, Wn, 1, m, n, k);
        if (st == XNN_OK && beta != 0) {
            st = XNN_FN(xnn_times_w)(Zn, Apos, Wn, 0, m, n, k);
            if (st == XNN_OK && neg) st = XNN_FN(xnn_times_w)(Zn, An, Wp, 1, m, n, k);
        }
        if (st != XNN_OK) return st;
        if (bias) {
            for (size_t c = 0; c < n; c++) {
                bp[c] = b[c] > 0 ? b[c] : 0;
                bn[c] = b[c] < 0 ? b[c] : 0;
            }
            XNN_FN(add_rows)(Zp, bp, m, n);
            if (beta != 0) XNN_FN(add_rows)(Zn, bn, m, n);
        }
        /* s+ = alpha R / stab(z+),  s- = -beta R / stab(z-) */
        XNN_FN(divide)(Zp, R, eps, alpha, mn);
        if (beta != 0) XNN_FN(divide)(Zn, R, eps, -beta, mn);
        /* R_j = a+_j (W+ s+ + W- s-)_j + a-_j (W- s+ + W+ s-)_j */
        XNN_T *C = neg ? Cp : Rin;
        st = XNN_FN(xnn_times_wt)(C, Zp, Wp, 0, m, k, n);
        if (st == XNN_OK && beta != 0) st = XNN_FN(xnn_times_wt)(C, Zn, Wn, 1, m, k, n);
        if (st != XNN_OK) return st;
        if (!neg) {
            for (size_t i = 0; i < mk; i++) Rin[i] *= A[i];
            return XNN_OK;
        }
        st = XNN_FN(xnn_times_wt)(Cn, Zp, Wn, 0, m, k, n);
        if (st == XNN_OK && beta != 0) st = XNN_FN(xnn_times_wt)(Cn, Zn, Wp, 1, m, k, n);
        if (st != XNN_OK) return st;
        for (size_t i = 0; i < mk; i++) Rin[i] = Ap[i] * Cp[i] + An[i] * Cn[i];
        return XNN_OK;
    }
    case XNN_LRP_ZBOX: {
        const XNN_T *lo = (const XNN_T *)r->low, *hi = (const XNN_T *)r->high;
        if (!lo || !hi) return XNN_EINVAL;
        for (size_t i = 0; i < kn; i++) {
            Wp[i] = W[i] > 0 ? W[i] : 0;
            Wn[i] = W[i] < 0 ? W[i] : 0;
        }
        /* v (n) = l W+ + h W- */
        st = XNN_FN(xnn_gemm)(bp, lo, Wp, 0, 0, 0, 1, n, k);
        if (st == XNN_OK) st = XNN_FN(xnn_gemm)(bp, hi, Wn, 1, 0, 0, 1, n, k);
        if (st != XNN_OK) return st;
        for (size_t i = 0; i < m; i++)
            for (size_t c = 0; c < n; c++)
                Zp[i * n + c] = (Zpre[i * n + c] - b[c]) - bp[c];
        XNN_FN(divide)(Zp, R, eps, 1, mn);
        st = XNN_FN(xnn_times_wt)(Rin, Zp, W, 0, m, k, n);
        if (st == XNN_OK) st = XNN_FN(xnn_times_wt)(Cp, Zp, Wp, 0, m, k, n);
        if (st == XNN_OK) st = XNN_FN(xnn_times_wt)(Cn, Zp, Wn, 0, m, k, n);
        if (st != XNN_OK) return st;
        for (size_t i = 0; i < m; i++)
            for (size_t j = 0; j < k; j++) {
                size_t q = i * k + j;
                Rin[q] = A[q] * Rin[q] - lo[j] * Cp[q] - hi[j] * Cn[q];
            }
        return XNN_OK;
    }
    case XNN_LRP_FLAT: {
        XNN_T d = XNN_FN(sdiv)(1, (XNN_T)k, eps);
        for (size_t i = 0; i < m; i++) {
            XNN_T s = 0;
            for (size_t c = 0; c < n; c++) s += R[i * n + c];
            s *= d;
            for (size_t j = 0; j < k; j++) Rin[i * k + j] = s;
        }
        return XNN_OK;
    }
    case XNN_LRP_WSQUARE: {
        for (size_t i = 0; i < kn; i++) Wp[i] = W[i] * W[i];
        for (size_t c = 0; c < n; c++) bp[c] = bias ? b[c] * b[c] : 0;
        for (size_t j = 0; j < k; j++)
            for (size_t c = 0; c < n; c++) bp[c] += Wp[j * n + c];
        for (size_t i = 0; i < m; i++)
            for (size_t c = 0; c < n; c++) Zp[i * n + c] = bp[c];
        XNN_FN(divide)(Zp, R, eps, 1, mn);
        return XNN_FN(xnn_times_wt)(Rin, Zp, Wp, 0, m, k, n);
    }
    default:
        return XNN_EINVAL;
    }
}

int XNN_FN(xnn_mlp_lrp)(void *const *rel, XNN_T *work, const XNN_T *X, const int64_t *targets,
                        const xnn_layer *layers, const xnn_lrp_rule *rules, size_t n_layers,
                        int start, int bias, size_t m)
{
    if (n_layers == 0) return XNN_EINVAL;
    if (m == 0) return XNN_OK;
    int st = XNN_FN(xnn_explain_forward)(NULL, work, X, targets, layers, n_layers,
                                         XNN_START_LOGIT, m);
    if (st != XNN_OK) return st;
    size_t wmax = 0, omax = 0;
    for (size_t l = 0; l < n_layers; l++) {
        if (layers[l].n_in * layers[l].n_out > wmax) wmax = layers[l].n_in * layers[l].n_out;
        if (layers[l].n_out > omax) omax = layers[l].n_out;
    }
    XNN_T *ws = work + xnn_explain_forward_size(layers, n_layers, m);

    /* the start relevance: the target's score, zero elsewhere */
    const xnn_layer *last = &layers[n_layers - 1];
    size_t n = last->n_out;
    const XNN_T *Zl = work, *Al;
    for (size_t l = 0; l + 1 < n_layers; l++) Zl += 2 * m * layers[l].n_out;
    Al = Zl + m * n;
    XNN_T *RL = (XNN_T *)rel[n_layers];
    for (size_t i = 0; i < m; i++) {
        int64_t t = XNN_FN(xnn_explain_target)(targets, i, Zl, n);
        if ((size_t)t >= n) return XNN_EINVAL;
        XNN_T *r = RL + i * n;
        for (size_t c = 0; c < n; c++) r[c] = 0;
        switch (start) {
        case XNN_START_LOGIT: r[t] = Zl[i * n + t]; break;
        case XNN_START_PROBABILITY: r[t] = Al[i * n + t]; break;
        case XNN_START_ONEHOT: r[t] = 1; break;
        default: return XNN_EINVAL;
        }
    }

    const XNN_T *Z = Zl;
    for (size_t l = n_layers; l-- > 0;) {
        const xnn_layer *L = &layers[l];
        const XNN_T *A = l == 0 ? X : Z - m * layers[l - 1].n_out;   /* A[l-1] */
        if (rules[l].rule == XNN_LRP_ZBOX && l != 0) return XNN_EINVAL;
        st = XNN_FN(lrp_layer)((XNN_T *)rel[l], ws, A, Z, (const XNN_T *)rel[l + 1],
                               (const XNN_T *)L->W, (const XNN_T *)L->b, &rules[l], bias,
                               wmax, omax, m, L->n_in, L->n_out);
        if (st != XNN_OK) return st;
        if (l > 0) Z -= 2 * m * layers[l - 1].n_out;
    }
    return XNN_OK;
}

#endif
