/* deeplift.c: DeepLIFT with the rescale rule (Shrikumar et al. 2017), as
 * Captum computes it, explaining the target's logit.
 *
 * The rows X and their baselines B run through the forward as one batch of
 * 2 m rows (X first), and two streams of multipliers g (for X) and gb (for
 * B) flow back from onehot(t) like gradients: linear nodes (dense, conv,
 * average pooling, flatten) pass them through their transpose; through an
 * activation a = f(z) each is multiplied by da / dz (d: X's value minus
 * B's) where |dz| >= eps, and where |dz| < eps each takes its own plain
 * gradient, f'(z) g at X and f'(z_b) gb at B. Max pooling, with y, y_b the
 * two outputs, y+ = max(y, y_b) and unpool_x, unpool_b putting a window's
 * value at X's and B's arg-max:
 *
 *     U = unpool_x(g (y+ - y_b)) + unpool_b(gb (y - y+)),   M = U / dx
 *
 * in both streams, or where |dx| < eps each stream's plain max-pool
 * gradient P (g routed to its arg-max). With captum set, an activation
 * right below a max pool rescales the plain gradients P instead of M (as
 * Captum 0.9's hooks deliver them), except where |dz| < eps; without it
 * M flows on like every other multiplier, so that the attributions sum to
 * the score difference. The attribution is (X - B) g.
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "core/parallel.h"
#include "explain/explain.h"
#define XNN_SELF "explain/deeplift.c"
#include "core/template.h"
#else

#define AT(off) ((XNN_T *)xnn_plan_at(arena, (off)))

/* the rescale rule through node b's activation, in place on G (2 mc, out)
   from Z, Y (2 mc, out): go, gob (mc, out each) are what the rule rescales
   (G's halves, or a max pool's plain gradients) */
static int XNN_FN(rescale)(XNN_T *G, const XNN_T *go, const XNN_T *Z, const XNN_T *Y, int act,
                           XNN_T eps, size_t mc, size_t out)
{
    const size_t half = mc * out;
    for (size_t i = 0; i < half; i++) {
        const XNN_T dz = Z[i] - Z[i + half], da = Y[i] - Y[i + half];
        XNN_T *g = &G[i], *gb = &G[i + half];
        if (XNN_M(fabs)(dz) >= eps) {
            const XNN_T r = da / dz;
            *g = go[i] * r;
            *gb = go[i + half] * r;
            continue;
        }
        /* each half its own plain gradient */
        const XNN_T y = Y[i], yb = Y[i + half];
        switch (act) {
        case XNN_ACT_RELU:
            *g = y > 0 ? *g : 0;
            *gb = yb > 0 ? *gb : 0;
            break;
        case XNN_ACT_TANH:
            *g = *g * (1 - y * y);
            *gb = *gb * (1 - yb * yb);
            break;
        case XNN_ACT_SIGMOID:
            *g = *g * (y * (1 - y));
            *gb = *gb * (yb * (1 - yb));
            break;
        default:
            return XNN_EINVAL;
        }
    }
    return XNN_OK;
}

/* A max pool's multipliers: out (2 mc, in) from g (2 mc, out) as in the
   head comment; P (2 mc, in) receives the plain gradients of both halves */
static void XNN_FN(maxpool)(XNN_T *out, XNN_T *P, const XNN_T *g, const XNN_T *x, const XNN_T *y,
                            const int32_t *arg, const xnn_node *a, XNN_T eps, size_t mc)
{
    const size_t in = xnn_node_in(a), n_out = xnn_node_out(a);
    const size_t C = a->in_c, HW = a->in_h * a->in_w, Q = a->out_h * a->out_w;
    const size_t hin = mc * in, hout = mc * n_out;
    memset(out, 0, 2 * hin * sizeof(XNN_T));
    memset(P, 0, 2 * hin * sizeof(XNN_T));
    for (size_t i = 0; i < mc; i++)
        for (size_t c = 0; c < C; c++) {
            const size_t po = i * n_out + c * Q, pi = i * in + c * HW;
            XNN_T *U = out + pi, *Px = P + pi, *Pb = P + hin + pi;
            for (size_t q = 0; q < Q; q++) {
                const XNN_T yx = y[po + q], yb = y[hout + po + q];
                const XNN_T ymax = yx > yb ? yx : yb;
                const size_t ax = (size_t)XNN_ARG(arg[po + q]), ab = (size_t)XNN_ARG(arg[hout + po + q]);
                const XNN_T gx = g[po + q], gb = g[hout + po + q];
                U[ax] += gx * (ymax - yb);
                U[ab] += gb * (yx - ymax);
                Px[ax] += gx;
                Pb[ab] += gb;
            }
        }
    for (size_t j = 0; j < hin; j++) {
        const XNN_T dx = x[j] - x[hin + j];
        if (XNN_M(fabs)(dx) >= eps) {
            const XNN_T M = out[j] / dx;
            out[j] = M;
            out[hin + j] = M;
        } else {
            out[j] = P[j];
            out[hin + j] = P[hin + j];
        }
    }
}

int XNN_FN(xnn_explain_deeplift)(XNN_T *attr, const xnn_plan *plan, void *arena, const XNN_T *X,
                                 const XNN_T *B, const int64_t *targets, const xnn_node *nodes,
                                 size_t n, double eps, int captum, size_t m)
{
    const xnn_start top = {n - 1, XNN_START_LOGIT};
    const int need = XNN_PLAN_EXPLAIN | XNN_PLAN_PATH | XNN_PLAN_LRP;
    if (xnn_explain_check(plan, nodes, n, &top, need, sizeof(XNN_T)) != XNN_OK) return XNN_EINVAL;
    if (plan->rows < 2 || !(eps >= 0)) return XNN_EINVAL;
    for (size_t l = 0; l + 1 < n; l++) {
        if (nodes[l].act == XNN_ACT_SOFTMAX) return XNN_EINVAL;
        if (captum && nodes[l].op == XNN_OP_MAXPOOL && l > 0 && nodes[l - 1].op == XNN_OP_MAXPOOL)
            return XNN_EINVAL;
    }
    for (size_t i = 0; i < m; i++)
        if (targets[i] < 0) return XNN_EINVAL;
    const int threads = XNN_FN(xnn_explain_threads)(plan);
    void *work = xnn_plan_at(arena, plan->scratch);
    const size_t in0 = xnn_node_in(&nodes[0]), nl = xnn_node_out(&nodes[n - 1]);
    const size_t half_rows = plan->rows / 2;
    const XNN_T teps = (XNN_T)eps;
    XNN_T *S = AT(plan->path_x), *P = AT(plan->lrp_in);
    for (size_t r0 = 0; r0 < m; r0 += half_rows) {
        const size_t mc = m - r0 < half_rows ? m - r0 : half_rows, rows = 2 * mc;
        memcpy(S, X + r0 * in0, mc * in0 * sizeof(XNN_T));
        memcpy(S + mc * in0, B + r0 * in0, mc * in0 * sizeof(XNN_T));
        int st = XNN_FN(xnn_explain_forward_chunk)(plan, arena, S, nodes, n - 1, 0, 0, threads,
                                                   rows);
        if (st != XNN_OK) return st;
        XNN_T *G = AT(plan->grad[0]), *H = AT(plan->grad[1]);
        memset(G, 0, rows * nl * sizeof(XNN_T));
        for (size_t i = 0; i < mc; i++) {
            const size_t t = (size_t)targets[r0 + i];
            G[i * nl + t] = 1;
            G[(mc + i) * nl + t] = 1;
        }
        for (size_t l = n; l-- > 0;) {
            const xnn_node *a = &nodes[l];
            const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(a->op);
            const XNN_T *A = XNN_FN(xnn_explain_input)(plan, arena, S, l);
            int pooled = 0;
            if (a->op == XNN_OP_MAXPOOL) {
                XNN_FN(maxpool)(H, P, G, A, AT(plan->node[l].y),
                                (const int32_t *)xnn_plan_at(arena, plan->node[l].saved), a, teps,
                                mc);
                pooled = 1;
            } else if (xnn_node_linear(a)) {
                st = op->transpose(H, work, G, NULL, (const XNN_T *)a->W, 0, a, threads, rows);
            } else {
                st = op->backward(H, NULL, NULL, work, G, xnn_plan_at(arena, plan->node[l].saved),
                                  A, NULL, a, NULL, 0, threads, rows);
            }
            if (st != XNN_OK) return st;
            if (l == 0) break;
            const xnn_node *b = &nodes[l - 1];
            if (b->act != XNN_ACT_LINEAR) {
                const XNN_T *go = pooled && captum ? P : H;
                st = XNN_FN(rescale)(H, go, AT(plan->node[l - 1].z), AT(plan->node[l - 1].y),
                                     b->act, teps, mc, xnn_node_out(b));
                if (st != XNN_OK) return st;
            }
            XNN_T *tmp = G;
            G = H;
            H = tmp;
        }
        /* H holds the multipliers at the input */
        const XNN_T *Xc = X + r0 * in0, *Bc = B + r0 * in0;
        XNN_T *out = attr + r0 * in0;
        for (size_t j = 0; j < mc * in0; j++) out[j] = (Xc[j] - Bc[j]) * H[j];
    }
    return XNN_OK;
}

#undef AT
#endif
