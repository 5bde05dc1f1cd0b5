/* cam.c: class activation maps, and the resampling that brings a map to
 * the input's size.
 *
 * For the output A (C, P) of a node (after its activation; P positions)
 * and g = d z_t / d A, the gradient of the target's logit:
 *
 *   Grad-CAM     w_c = mean_p g[c, p] (16 lanes),    map_p = ReLU(sum_c w_c A[c, p])
 *                through a pooling after the node (max, average, global),
 *                whose backward moves each of its gradients to one of the
 *                node's positions or spreads it evenly over some,
 *                sum_p g[c, p] = the sum of the pooling's own gradient
 *                over its Q outputs: w_c = (sum_q g_pool[c, q]) / P, and
 *                the backward stops above the pooling; where flattens and
 *                a dense node d follow the node or its pooling, the
 *                gradient dZ_d W_d^T summed over a channel's Q = in_d / C
 *                positions is w_c = (sum_j dZ_d[j] S[j, c]) / P with
 *                S[j, c] = sum_q W_d[c Q + q, j] (made once per call, for
 *                any number of rows), and
 *                the backward stops at dZ_d (d's transpose never made)
 *   Grad-CAM++   a = g^2 / (2 g^2 + (sum_p A[c, p]) g^3 + 1e-6), 0 where g = 0,
 *                w_c = sum_p a relu(g),              map_p = ReLU(sum_c w_c A[c, p])
 *                (Chattopadhay et al. 2018, as pytorch-grad-cam computes it)
 *   CAM          w_c = W[c, t] of the dense layer after a global average pool,
 *                map_p = sum_c w_c A[c, p]           (no bias, no ReLU: the map's
 *                mean over positions plus the bias is the logit)
 *
 * Resampling follows torch.nn.functional.interpolate: linear (bilinear
 * for 2-D) with align_corners = False, source = max((i + 0.5) in / out -
 * 0.5, 0), and nearest, source = min(floor(i in / out), in - 1) with the
 * scale computed in float (as its CPU kernel does). Rows of maps are
 * independent: threads split them.
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "core/lanes.h"
#include "core/parallel.h"
#include "explain/explain.h"

/* the widest channel count that the fold's weights on the stack hold */
#define XNN_CAM_FOLD_C 1024

/* whether op is a pooling whose backward keeps each channel's gradient sum */
static int cam_pooling(int op)
{
    return op == XNN_OP_MAXPOOL || op == XNN_OP_AVGPOOL || op == XNN_OP_GLOBAL_AVGPOOL;
}

/* the dense node after node `layer`, a pooling (or none) and flattens (n:
   none) */
static size_t cam_dense(const xnn_node *nodes, size_t n, size_t layer)
{
    size_t d = layer + 1;
    if (d < n && cam_pooling(nodes[d].op)) d++;
    while (d < n && nodes[d].op == XNN_OP_FLATTEN) d++;
    return d < n && nodes[d].op == XNN_OP_DENSE ? d : n;
}

size_t xnn_explain_cam_fold(const xnn_node *nodes, size_t n, size_t layer, int kind)
{
    if (kind != XNN_CAM_GRAD || layer + 1 >= n || nodes[layer].out_c > XNN_CAM_FOLD_C) return 0;
    const size_t d = cam_dense(nodes, n, layer);
    return d < n ? 2 * nodes[d].out_c * nodes[layer].out_c : 0;
}

#define XNN_SELF "explain/cam.c"
#include "core/template.h"
#else

#define AT(off) ((XNN_T *)xnn_plan_at(arena, (off)))

/* maps and weights of rows [i0, i1) of a chunk */
typedef struct {
    XNN_T *maps, *weights;
    const XNN_T *A, *G, *Wd;     /* Wd: the dense weights (C, classes) for CAM */
    const XNN_T *S;              /* the folded dense weights S (units, C), or NULL */
    const int64_t *t;
    size_t C, P, classes;
    size_t Q;                    /* G's positions per channel: P, the pooling's, or
                                    (S) the dense node's units */
    int kind, relu;
} XNN_FN(cam_ctx);

/* the sum of x (n) in 16 lanes (core/lanes.h) */
static XNN_T XNN_FN(lane_sum)(const XNN_T *x, size_t n)
{
    XNN_T a[16] = {0};
    XNN_FN(xnn_lanes_add)(a, x, n);
    return XNN_FN(xnn_lanes_total)(a);
}

static void XNN_FN(cam_rows)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(cam_ctx) *c = (const XNN_FN(cam_ctx) *)p;
    const size_t C = c->C, P = c->P;
    for (size_t i = i0; i < i1; i++) {
        const XNN_T *A = c->A + i * C * P;
        XNN_T *w = c->weights ? c->weights + i * C : NULL;
        XNN_T *map = c->maps + i * P;
        XNN_T wf[XNN_CAM_FOLD_C];
        if (c->S) {
            /* wf = dZ_d S over the units in order, each channel its own sum */
            const XNN_T *dz = c->G + i * c->Q;
            for (size_t ch = 0; ch < C; ch++) wf[ch] = 0;
            for (size_t j = 0; j < c->Q; j++) {
                const XNN_T g = dz[j], *s = c->S + j * C;
                if (g != 0)
                    for (size_t ch = 0; ch < C; ch++) wf[ch] += g * s[ch];
            }
        }
        const XNN_T *G = c->G && !c->S ? c->G + i * C * c->Q : NULL;
        for (size_t q = 0; q < P; q++) map[q] = 0;
        for (size_t ch = 0; ch < C; ch++) {
            const XNN_T *a = A + ch * P;
            XNN_T wc = 0;
            if (c->S) {
                wc = wf[ch] / (XNN_T)P;
            } else if (c->kind == XNN_CAM_CLASS) {
                wc = c->Wd[ch * c->classes + (size_t)c->t[i]];
            } else if (c->kind == XNN_CAM_GRAD) {
                wc = XNN_FN(lane_sum)(G + ch * c->Q, c->Q) / (XNN_T)P;
            } else {
                const XNN_T *g = G + ch * P, sa = XNN_FN(lane_sum)(a, P);
                for (size_t q = 0; q < P; q++) {
                    const XNN_T g1 = g[q], g2 = g1 * g1, g3 = g2 * g1;
                    const XNN_T alpha = g1 != 0 ? g2 / (2 * g2 + sa * g3 + (XNN_T)1e-6) : 0;
                    wc += alpha * (g1 > 0 ? g1 : 0);
                }
            }
            if (w) w[ch] = wc;
            for (size_t q = 0; q < P; q++) map[q] += wc * a[q];
        }
        if (c->relu)
            for (size_t q = 0; q < P; q++) map[q] = map[q] > 0 ? map[q] : 0;
    }
}

/* S (units, C): S[j, c] = sum_q W[c Q + q, j] of dense node d, W (C Q, units),
   by way of its transpose St (C, units) in the rest of the scratch: whole
   rows of W added in q order (St's rows contiguous, as W's) */
static void XNN_FN(fold_weights)(XNN_T *restrict S, const xnn_node *d, size_t C)
{
    const size_t u = d->out_c, Q = xnn_node_in(d) / C;
    const XNN_T *W = (const XNN_T *)d->W;
    XNN_T *restrict St = S + u * C;
    for (size_t ch = 0; ch < C; ch++) {
        XNN_T *t = St + ch * u;
        const XNN_T *w = W + ch * Q * u;
        for (size_t j = 0; j < u; j++) t[j] = w[j];
        for (size_t q = 1; q < Q; q++)
            for (size_t j = 0; j < u; j++) t[j] += w[q * u + j];
    }
    for (size_t j = 0; j < u; j++)
        for (size_t ch = 0; ch < C; ch++) S[j * C + ch] = St[ch * u + j];
}

int XNN_FN(xnn_explain_cam)(XNN_T *maps, XNN_T *weights, int64_t *explained, XNN_T *fold,
                            const xnn_plan *plan, void *arena, const XNN_T *X,
                            const int64_t *targets, const xnn_node *nodes, size_t n,
                            size_t layer, int kind, int relu, size_t m)
{
    const xnn_start top = {n - 1, XNN_START_LOGIT};
    if (xnn_explain_check(plan, nodes, n, &top, XNN_PLAN_EXPLAIN, sizeof(XNN_T)) != XNN_OK)
        return XNN_EINVAL;
    if (layer + 1 >= n || kind < XNN_CAM_GRAD || kind > XNN_CAM_CLASS) return XNN_EINVAL;
    const xnn_node *a = &nodes[layer];
    if (a->out_h * a->out_w < 1 || (a->out_h == 1 && a->out_w == 1 && kind != XNN_CAM_CLASS))
        return XNN_EINVAL;      /* no positions: a dense or pooled-away output */
    if (kind == XNN_CAM_CLASS &&
        !(layer + 2 == n - 1 && nodes[layer + 1].op == XNN_OP_GLOBAL_AVGPOOL &&
          nodes[n - 1].op == XNN_OP_DENSE))
        return XNN_EINVAL;
    const int threads = XNN_FN(xnn_explain_threads)(plan);
    const size_t in0 = xnn_node_in(&nodes[0]), C = a->out_c, P = a->out_h * a->out_w;
    /* Grad-CAM through a pooling: its gradient summed (above) */
    const int pooled = kind == XNN_CAM_GRAD && layer + 2 < n && cam_pooling(nodes[layer + 1].op);
    /* ... and through the dense node d after it (d = n: none) */
    const size_t d = fold && xnn_explain_cam_fold(nodes, n, layer, kind)
                         ? cam_dense(nodes, n, layer)
                         : n;
    if (d < n) XNN_FN(fold_weights)(fold, &nodes[d], C);
    const size_t Q = d < n ? nodes[d].out_c : pooled ? xnn_node_out(&nodes[layer + 1]) / C : P;
    /* the backward's last node (none for CAM: every node's arg-max unread;
       with d: the node above d, none when d is the top) */
    const size_t stop = kind == XNN_CAM_CLASS ? n : d < n ? d + 1 : layer + 1 + (size_t)pooled;
    int64_t *resolved = (int64_t *)xnn_plan_at(arena, plan->targets);
    for (size_t r0 = 0; r0 < m; r0 += plan->rows) {
        const size_t mc = m - r0 < plan->rows ? m - r0 : plan->rows;
        const XNN_T *Xc = X + r0 * in0;
        /* the nodes below the layer are needed for their outputs alone,
           and the poolings' arg-max only where the backward runs */
        int st = XNN_FN(xnn_explain_forward_above)(plan, arena, Xc, nodes, n - 1, layer, stop,
                                                   threads, mc);
        if (st == XNN_OK)
            st = XNN_FN(xnn_explain_start_scores)(NULL, resolved, plan, arena, targets + r0, nodes,
                                                  n, &top, mc);
        XNN_T *G = NULL;
        if (st == XNN_OK && kind != XNN_CAM_CLASS) {
            XNN_T *G0 = AT(plan->grad[0]);
            st = XNN_FN(xnn_explain_start_gradient)(G0, NULL, plan, arena, resolved, nodes, n,
                                                    &top, XNN_GRAD_PLAIN, mc);
            if (st == XNN_OK && stop < n)
                st = XNN_FN(xnn_explain_backward)(&G, NULL, NULL, G0, NULL, 1, 0, 0, 0, plan,
                                                  arena, Xc, nodes, n - 1, 0, stop,
                                                  XNN_GRAD_PLAIN, threads, 0, mc);
            else
                G = G0;   /* d the top: its dZ */
            /* dY_d to dZ_d */
            if (st == XNN_OK && d + 1 < n)
                st = XNN_FN(xnn_explain_act_back)(G, AT(plan->node[d].y), nodes[d].act,
                                                  XNN_GRAD_PLAIN, mc, nodes[d].out_c);
        }
        if (st != XNN_OK) return st;
        if (explained) memcpy(explained + r0, resolved, mc * sizeof(int64_t));
        XNN_FN(cam_ctx) c = {maps + r0 * P, weights ? weights + r0 * C : NULL,
                             AT(plan->node[layer].y), G,
                             kind == XNN_CAM_CLASS ? (const XNN_T *)nodes[n - 1].W : NULL,
                             d < n ? fold : NULL, resolved, C, P, nodes[n - 1].out_c, Q, kind, relu};
        xnn_parallel_range(XNN_FN(cam_rows), &c, mc, mc * C * P);
    }
    return XNN_OK;
}

/* torch's source coordinates of an output axis: index lo, hi and the
   weight of hi, for align_corners = False (linear) */
static void XNN_FN(linear_src)(size_t in, size_t out, size_t i, size_t *lo, size_t *hi, XNN_T *w)
{
    const XNN_T scale = (XNN_T)in / (XNN_T)out;
    XNN_T src = scale * ((XNN_T)i + (XNN_T)0.5) - (XNN_T)0.5;
    if (src < 0) src = 0;
    size_t i0 = (size_t)src;
    if (i0 > in - 1) i0 = in - 1;
    *lo = i0;
    *hi = i0 + 1 < in ? i0 + 1 : in - 1;
    *w = src - (XNN_T)i0;
}

static size_t XNN_FN(nearest_src)(size_t in, size_t out, size_t i)
{
    const float scale = (float)in / (float)out;
    size_t s = (size_t)floorf((float)i * scale);
    return s < in ? s : in - 1;
}

typedef struct {
    XNN_T *out;
    const XNN_T *in;
    int mode;
    size_t hi, wi, ho, wo;
} XNN_FN(resize_ctx);

/* the columns' sources come in blocks of RESIZE_COLS, made once for all
   the rows */
#define RESIZE_COLS 64

static void XNN_FN(resize_rows)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(resize_ctx) *c = (const XNN_FN(resize_ctx) *)p;
    const size_t hi = c->hi, wi = c->wi, ho = c->ho, wo = c->wo;
    size_t x0[RESIZE_COLS], x1[RESIZE_COLS];
    XNN_T lx[RESIZE_COLS];
    for (size_t xb = 0; xb < wo; xb += RESIZE_COLS) {
        const size_t nb = wo - xb < RESIZE_COLS ? wo - xb : RESIZE_COLS;
        for (size_t x = 0; x < nb; x++) {
            if (c->mode == XNN_RESIZE_NEAREST)
                x0[x] = XNN_FN(nearest_src)(wi, wo, xb + x);
            else
                XNN_FN(linear_src)(wi, wo, xb + x, &x0[x], &x1[x], &lx[x]);
        }
        for (size_t r = i0; r < i1; r++) {
            const XNN_T *src = c->in + r * hi * wi;
            XNN_T *dst = c->out + r * ho * wo + xb;
            for (size_t y = 0; y < ho; y++) {
                if (c->mode == XNN_RESIZE_NEAREST) {
                    const XNN_T *row = src + XNN_FN(nearest_src)(hi, ho, y) * wi;
                    for (size_t x = 0; x < nb; x++) dst[y * wo + x] = row[x0[x]];
                    continue;
                }
                size_t y0, y1;
                XNN_T ly;
                XNN_FN(linear_src)(hi, ho, y, &y0, &y1, &ly);
                const XNN_T hy = 1 - ly;
                const XNN_T *r0 = src + y0 * wi, *r1 = src + y1 * wi;
                for (size_t x = 0; x < nb; x++) {
                    const XNN_T hx = 1 - lx[x];
                    dst[y * wo + x] = hy * (hx * r0[x0[x]] + lx[x] * r0[x1[x]]) +
                                      ly * (hx * r1[x0[x]] + lx[x] * r1[x1[x]]);
                }
            }
        }
    }
}

int XNN_FN(xnn_resize)(XNN_T *out, const XNN_T *in, int mode, size_t m, size_t hi, size_t wi,
                       size_t ho, size_t wo)
{
    if (mode != XNN_RESIZE_LINEAR && mode != XNN_RESIZE_NEAREST) return XNN_EINVAL;
    if (hi == 0 || wi == 0 || ho == 0 || wo == 0) return m == 0 ? XNN_OK : XNN_EINVAL;
    XNN_FN(resize_ctx) c = {out, in, mode, hi, wi, ho, wo};
    xnn_parallel_range(XNN_FN(resize_rows), &c, m, m * ho * wo);
    return XNN_OK;
}

#undef AT
#endif
