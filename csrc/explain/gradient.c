/* gradient.c: gradients of a score with respect to a network's input,
 * walking the nodes backwards from the start node s.
 *
 *   start     G = d score / d Z_s (forward.c)
 *   backward  for l = s .. 0:
 *               G_in = f_l^T(G; W_l)      linear nodes (dense, conv): the
 *                                         op's transpose
 *               G_in = node_l's backward  pooling (to the arg-max, or spread), flatten
 *               then through act_{l-1}':
 *                 plain      G * act'          (ReLU: G * [A > 0])
 *                 guided     ReLU: G * [A > 0] * [G > 0]
 *                 deconvnet  ReLU: G * [G > 0]
 *               other activations use act' in every mode
 *   layers    on request, d score / d (node l's input) for every node up to
 *             s and d score / d Z_s at the top, times the node's input (Z_s)
 *             when asked: the input x gradient of every node
 *
 * Path sums (SmoothGrad, integrated gradients) run the same forward and
 * backward once per step on x_s = B + alpha_s (X - B) + sigma noise_s and
 * add weight_s times each gradient. When the first node that is not a
 * flatten is linear (dense or conv), f say, its product is linear in x:
 * without noise, Z_f(x_s) = f(B) + alpha_s (f(X) - f(B)) from two products
 * made once, and the backward's last product is made once, on the
 * weighted sum of every step's d score / d Z_f.
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "core/parallel.h"
#include "explain/explain.h"

/* the index of the first node that is not a flatten, when it is linear
   (dense or conv), else n */
static size_t first_linear(const xnn_node *nodes, size_t n)
{
    size_t f = 0;
    while (f < n && nodes[f].op == XNN_OP_FLATTEN) f++;
    return f < n && xnn_node_linear(&nodes[f]) ? f : n;
}

/* whether node l's backward applies the ReLU of node l - 1 as it writes
   (the plain gradient, unless node l's input gradient is kept before it;
   one row through a dense node keeps its one-row product) */
static int relu_fused(const xnn_node *nodes, size_t l, size_t stop, int mode,
                      void *const *grads, size_t mc)
{
    return l > 0 && l != stop && mode == XNN_GRAD_PLAIN && nodes[l - 1].act == XNN_ACT_RELU &&
           !(grads && grads[l]) && (mc > 1 || nodes[l].op != XNN_OP_DENSE);
}

/* the elementwise passes of a path sum */
enum { PATH_POINT, PATH_FIRST, PATH_TIMES_DELTA };

#define XNN_SELF "explain/gradient.c"
#include "core/template.h"
#else

#define AT(off) ((XNN_T *)xnn_plan_at(arena, (off)))

/* dst (len) = src, times V (len) when V; accumulated as dst += w * that when acc */
static void XNN_FN(keep)(XNN_T *dst, const XNN_T *src, const XNN_T *V, XNN_T w, int acc,
                         size_t len)
{
    if (acc && V) for (size_t i = 0; i < len; i++) dst[i] += w * (src[i] * V[i]);
    else if (acc) for (size_t i = 0; i < len; i++) dst[i] += w * src[i];
    else if (V) for (size_t i = 0; i < len; i++) dst[i] = src[i] * V[i];
    else memcpy(dst, src, len * sizeof(XNN_T));
}

/* The backward of one chunk of mc rows (row r0 of the batch) after its
 * forward, from G = d score / d Z_s down to node stop: with stop = 0 to the
 * input, dX (mc, in_0), finished by times (x X) and absolute (|.|) when
 * asked; with stop > 0 down to node stop's input, whose gradient (before
 * the activation of the node below) *result then points at; with G0, down
 * to node f only: G0 += w d score / d Z_f instead of node f's transpose
 * (path sums). grads as in xnn_explain_gradient, the chunk's rows stored
 * (acc = 0) or added with weight w (acc = 1), times their node's value
 * when times. */
int XNN_FN(xnn_explain_backward)(XNN_T **result, XNN_T *dX, void *const *grads, XNN_T *G,
                                 XNN_T *G0, XNN_T w, int acc, int times, int absolute,
                                 const xnn_plan *plan, void *arena, const XNN_T *X,
                                 const xnn_node *nodes, size_t s, size_t f, size_t stop,
                                 int mode, int threads, size_t r0, size_t mc)
{
    void *work = xnn_plan_at(arena, plan->scratch);
    XNN_T *H = G == AT(plan->grad[0]) ? AT(plan->grad[1]) : AT(plan->grad[0]);
    for (size_t l = s + 1; l-- > stop;) {
        const xnn_node *a = &nodes[l];
        const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(a->op);
        size_t in = xnn_node_in(a);
        if (G0 && l == f) {
            /* path sums: keep d score / d Z_f, the last product comes later */
            XNN_FN(keep)(G0, G, NULL, w, 1, mc * xnn_node_out(a));
            return XNN_OK;
        }
        /* a max pooling over a ReLU conv that takes the pooling's dY
           (pool_transpose): both nodes in one pass, the pooling's dX never
           written; the rest of this step is the conv's */
        const xnn_node *pool = NULL;
        const void *pool_saved = NULL;
        if (a->op == XNN_OP_MAXPOOL && l > stop && !(G0 && l - 1 == f) &&
            relu_fused(nodes, l, stop, mode, grads, mc)) {
            const XNN_FN(xnn_op) *below = XNN_FN(xnn_op_get)(nodes[l - 1].op);
            if (below->pool_back_ok && below->pool_back_ok(&nodes[l - 1], a, 1)) {
                pool = a, pool_saved = xnn_plan_at(arena, plan->node[l].saved);
                l--, a = &nodes[l], op = below, in = xnn_node_in(a);
            }
        }
        const XNN_T *A = XNN_FN(xnn_explain_input)(plan, arena, X, l);
        /* a flatten passes G on in place (the ReLU mask below applied to
           it); every other node writes the other buffer */
        XNN_T *out = l == 0 ? dX : a->op == XNN_OP_FLATTEN ? G : H;
        /* the plain gradient through a ReLU node below: the op applies the
           derivative as it writes (the same [y > 0] as xnn_explain_act_back,
           so the same bits) */
        const int fused = relu_fused(nodes, l, stop, mode, grads, mc);
        const XNN_T *relu = fused ? AT(plan->node[l - 1].y) : NULL;
        const int fin = l == 0;
        int st;
        if (pool) {
            st = op->pool_transpose(out, work, G, pool_saved, NULL, fin && times ? A : NULL,
                                    relu, fin && absolute, a, pool, threads, mc);
        } else if (xnn_node_linear(a) && !fused) {
            st = op->transpose(out, work, G, fin && times ? A : NULL, (const XNN_T *)a->W,
                               fin && absolute, a, threads, mc);
        } else {
            st = op->backward(out, NULL, NULL, work, G, xnn_plan_at(arena, plan->node[l].saved), A,
                              relu, a, NULL, 0, threads, mc);
            if (st == XNN_OK && fin && (times || absolute)) {
                const size_t len = mc * in;
                if (times)
                    for (size_t i = 0; i < len; i++) out[i] *= A[i];
                if (absolute)
                    for (size_t i = 0; i < len; i++) out[i] = XNN_M(fabs)(out[i]);
            }
        }
        if (st != XNN_OK) return st;
        if (l == 0) break;
        if (grads && grads[l])
            XNN_FN(keep)((XNN_T *)grads[l] + r0 * in, out, times ? A : NULL, w, acc, mc * in);
        if (l == stop) {
            *result = out;
            return XNN_OK;
        }
        const xnn_node *b = &nodes[l - 1];
        if (!fused) {
            st = XNN_FN(xnn_explain_act_back)(out, AT(plan->node[l - 1].y), b->act, mode, mc,
                                              xnn_node_out(b));
            if (st != XNN_OK) return st;
        }
        if (out == H) {
            XNN_T *tmp = G;
            G = H;
            H = tmp;
        }
    }
    if (result) *result = dX;
    return XNN_OK;
}

/* The gradient of a unit start (xnn_explain_unit_start): d score / d Z_s
 * on row i's unit alone, its transpose, then the walk from node s - 1:
 * the same gradient as the full start, without the other units' products. */
static int XNN_FN(unit_chunk)(XNN_T *dX, XNN_T *score, const xnn_plan *plan, void *arena,
                              const XNN_T *Xc, const int64_t *targets, const xnn_node *nodes,
                              const xnn_start *start, int mode, int times, int absolute,
                              int threads, size_t r0, size_t mc)
{
    const size_t s = start->node;
    const xnn_node *a = &nodes[s];
    const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(a->op);
    const size_t P = xnn_node_out(a) / a->out_c;
    void *work = xnn_plan_at(arena, plan->scratch);
    int64_t *resolved = (int64_t *)xnn_plan_at(arena, plan->targets);
    int st = XNN_FN(xnn_explain_unit_forward)(score ? score + r0 : NULL, resolved, plan, arena,
                                              Xc, targets, nodes, start, threads, mc);
    if (st != XNN_OK) return st;
    const XNN_T *Y = AT(plan->node[s].y);
    XNN_T *G = AT(plan->grad[0]), *H = AT(plan->grad[1]);
    for (size_t q = 0; q < mc * P; q++) G[q] = P == 1 ? 1 : (XNN_T)1 / (XNN_T)P;
    st = XNN_FN(xnn_explain_act_back)(G, Y, a->act, mode, mc, P);
    if (st != XNN_OK) return st;
    const size_t in0 = xnn_node_in(&nodes[0]);
    if (s == 0)
        return op->unit_transpose(dX + r0 * in0, work, G, times ? Xc : NULL, resolved, absolute,
                                  a, threads, mc);
    st = op->unit_transpose(H, work, G, NULL, resolved, 0, a, threads, mc);
    if (st == XNN_OK)
        st = XNN_FN(xnn_explain_act_back)(H, AT(plan->node[s - 1].y), nodes[s - 1].act, mode, mc,
                                          xnn_node_out(&nodes[s - 1]));
    if (st == XNN_OK)
        st = XNN_FN(xnn_explain_backward)(NULL, dX + r0 * in0, NULL, H, NULL, 1, 0, times,
                                          absolute, plan, arena, Xc, nodes, s - 1, 0, 0, mode,
                                          threads, r0, mc);
    return st;
}

int XNN_FN(xnn_explain_gradient)(XNN_T *dX, XNN_T *score, void *const *grads,
                                 const xnn_plan *plan, void *arena, const XNN_T *X,
                                 const int64_t *targets, const xnn_node *nodes, size_t n,
                                 const xnn_start *start, int mode, int finish, size_t m)
{
    if (xnn_explain_check(plan, nodes, n, start, XNN_PLAN_EXPLAIN, sizeof(XNN_T)) != XNN_OK)
        return XNN_EINVAL;
    if (mode < XNN_GRAD_PLAIN || mode > XNN_GRAD_DECONVNET) return XNN_EINVAL;
    if (finish & ~(XNN_FINISH_TIMES | XNN_FINISH_ABS)) return XNN_EINVAL;
    if (start->output == XNN_START_ONEHOT) return XNN_EINVAL;
    const int times = (finish & XNN_FINISH_TIMES) != 0, absolute = (finish & XNN_FINISH_ABS) != 0;
    const int threads = XNN_FN(xnn_explain_threads)(plan);
    const size_t s = start->node, in0 = xnn_node_in(&nodes[0]);
    const size_t out = xnn_node_out(&nodes[s]);
    int64_t *resolved = (int64_t *)xnn_plan_at(arena, plan->targets);
    const int unit = XNN_FN(xnn_explain_unit_start)(nodes, n, start, grads);
    for (size_t r0 = 0; r0 < m; r0 += plan->rows) {
        const size_t mc = m - r0 < plan->rows ? m - r0 : plan->rows;
        const XNN_T *Xc = X + r0 * in0;
        if (unit) {
            int st = XNN_FN(unit_chunk)(dX, score, plan, arena, Xc, targets + r0, nodes, start,
                                        mode, times, absolute, threads, r0, mc);
            if (st != XNN_OK) return st;
            continue;
        }
        /* the plain gradient without the layers' gradients reads below the
           start only the nodes' outputs and the poolings' arg-max */
        int st = mode == XNN_GRAD_PLAIN && !grads
            ? XNN_FN(xnn_explain_forward_above)(plan, arena, Xc, nodes, s, s, 0, threads, mc)
            : XNN_FN(xnn_explain_forward_chunk)(plan, arena, Xc, nodes, s, 0, 0, threads, mc);
        if (st == XNN_OK)
            st = XNN_FN(xnn_explain_start_scores)(score ? score + r0 : NULL, resolved, plan,
                                                  arena, targets + r0, nodes, n, start, mc);
        XNN_T *G = AT(plan->grad[0]);
        XNN_T *top = grads && grads[s + 1] ? (XNN_T *)grads[s + 1] + r0 * out : NULL;
        if (st == XNN_OK)
            st = XNN_FN(xnn_explain_start_gradient)(G, top, plan, arena, resolved, nodes, n,
                                                    start, mode, mc);
        if (st == XNN_OK && top && times) {
            const XNN_T *V = AT(s + 1 == n ? plan->node[s].z : plan->node[s].y);
            for (size_t i = 0; i < mc * out; i++) top[i] *= V[i];
        }
        if (st == XNN_OK)
            st = XNN_FN(xnn_explain_backward)(NULL, dX + r0 * in0, grads, G, NULL, 1, 0, times,
                                              absolute, plan, arena, Xc, nodes, s, 0, 0, mode,
                                              threads, r0, mc);
        if (st != XNN_OK) return st;
    }
    return XNN_OK;
}

/* the elementwise passes of a path sum, over ranges of elements (every
   element on its own: the thread count changes no bit) */
typedef struct {
    int pass;
    XNN_T *G;
    const XNN_T *X, *B;
    XNN_T a;
    double sigma;
    uint64_t seed, stream, first;
} XNN_FN(path_ctx);

static void XNN_FN(path_range)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(path_ctx) *c = (const XNN_FN(path_ctx) *)p;
    const XNN_T *X = c->X, *B = c->B;
    XNN_T *G = c->G;
    switch (c->pass) {
    case PATH_POINT:    /* x_s = B + a (X - B) (+ noise of stream s) */
        if (B) for (size_t i = i0; i < i1; i++) G[i] = B[i] + c->a * (X[i] - B[i]);
        else for (size_t i = i0; i < i1; i++) G[i] = c->a * X[i];
        if (c->sigma > 0)
            for (size_t i = i0; i < i1; i++)
                G[i] += (XNN_T)xnn_normal(c->sigma, c->seed, c->stream, c->first + i);
        break;
    case PATH_FIRST:    /* Z_f = f(B) + a (f(X) - f(B)), X and B read as their
                           products (B absent: a f(X)) */
        if (B) for (size_t i = i0; i < i1; i++) G[i] = B[i] + c->a * (X[i] - B[i]);
        else for (size_t i = i0; i < i1; i++) G[i] = c->a * X[i];
        break;
    default:            /* PATH_TIMES_DELTA */
        for (size_t i = i0; i < i1; i++) G[i] *= B ? X[i] - B[i] : X[i];
        break;
    }
}

int XNN_FN(xnn_explain_gradient_sum)(XNN_T *G, void *const *grads, const xnn_plan *plan,
                                     void *arena, const XNN_T *X, const XNN_T *B,
                                     const int64_t *targets, const xnn_node *nodes, size_t n,
                                     const xnn_start *start, const double *alphas,
                                     const double *weights, size_t n_steps, double sigma,
                                     uint64_t seed, int mode, int times_delta, size_t m)
{
    if (xnn_explain_check(plan, nodes, n, start, XNN_PLAN_EXPLAIN | XNN_PLAN_PATH,
                          sizeof(XNN_T)) != XNN_OK)
        return XNN_EINVAL;
    if (mode < XNN_GRAD_PLAIN || mode > XNN_GRAD_DECONVNET) return XNN_EINVAL;
    if (start->output == XNN_START_ONEHOT || !(sigma >= 0)) return XNN_EINVAL;
    for (size_t i = 0; i < m; i++)
        if (targets[i] < 0) return XNN_EINVAL;
    const int threads = XNN_FN(xnn_explain_threads)(plan);
    const size_t s = start->node, in0 = xnn_node_in(&nodes[0]);
    size_t f = first_linear(nodes, n);
    if (f > s) f = n;               /* the start node comes first: no shortcut */
    const int linear_first = f < n;
    const int first_once = linear_first && !(sigma > 0);
    const size_t out = xnn_node_out(&nodes[s]);
    void *work = xnn_plan_at(arena, plan->scratch);
    int64_t *resolved = (int64_t *)xnn_plan_at(arena, plan->targets);
    XNN_T *Xs = AT(plan->path_x), *XW = AT(plan->path_xw), *BW = AT(plan->path_bw);
    XNN_T *G0 = AT(plan->path_g0);
    for (size_t r0 = 0; r0 < m; r0 += plan->rows) {
        const size_t mc = m - r0 < plan->rows ? m - r0 : plan->rows;
        const XNN_T *Xc = X + r0 * in0, *Bc = B ? B + r0 * in0 : NULL;
        XNN_T *Gc = G + r0 * in0;
        int st = XNN_OK;
        const xnn_node *nf = linear_first ? &nodes[f] : NULL;
        const XNN_FN(xnn_op) *opf = nf ? XNN_FN(xnn_op_get)(nf->op) : NULL;
        const size_t outf = nf ? xnn_node_out(nf) : 0, lenf = mc * outf, len = mc * in0;
        if (first_once) {
            st = opf->product(XW, work, Xc, (const XNN_T *)nf->W, NULL, nf, threads, mc);
            if (st == XNN_OK && Bc)
                st = opf->product(BW, work, Bc, (const XNN_T *)nf->W, NULL, nf, threads, mc);
            if (st != XNN_OK) return st;
        }
        memset(linear_first ? G0 : Gc, 0, (linear_first ? lenf : len) * sizeof(XNN_T));
        if (grads)
            for (size_t l = 1; l <= s + 1; l++) {
                if (!grads[l]) continue;
                const size_t w = l <= s ? xnn_node_in(&nodes[l]) : out;
                memset((XNN_T *)grads[l] + r0 * w, 0, mc * w * sizeof(XNN_T));
            }
        /* noise costs a log, a sqrt and a cos per element: count it heavier */
        const size_t cost = sigma > 0 ? 16 * len : len;
        for (size_t q = 0; q < n_steps; q++) {
            const XNN_T a = (XNN_T)alphas[q], w = (XNN_T)weights[q];
            if (first_once) {
                XNN_FN(path_ctx) c = {PATH_FIRST, AT(plan->node[f].z), XW, Bc ? BW : NULL, a,
                                      0, 0, 0, 0};
                xnn_parallel_range(XNN_FN(path_range), &c, lenf, lenf);
            } else {
                XNN_FN(path_ctx) c = {PATH_POINT, Xs, Xc, Bc, a, sigma, seed, (uint64_t)q,
                                      (uint64_t)(r0 * in0)};
                xnn_parallel_range(XNN_FN(path_range), &c, len, cost);
            }
            const XNN_T *xin = first_once ? Xc : Xs;
            st = XNN_FN(xnn_explain_forward_chunk)(plan, arena, xin, nodes, s, first_once, f,
                                                   threads, mc);
            if (st == XNN_OK)
                st = XNN_FN(xnn_explain_start_scores)(NULL, resolved, plan, arena, targets + r0,
                                                      nodes, n, start, mc);
            XNN_T *Gs = AT(plan->grad[0]);
            XNN_T *top = AT(plan->grad[1]);
            if (st == XNN_OK)
                st = XNN_FN(xnn_explain_start_gradient)(Gs, grads && grads[s + 1] ? top : NULL,
                                                        plan, arena, resolved, nodes, n, start,
                                                        mode, mc);
            if (st == XNN_OK && grads && grads[s + 1])
                XNN_FN(keep)((XNN_T *)grads[s + 1] + r0 * out, top, NULL, w, 1, mc * out);
            if (st != XNN_OK) return st;
            if (linear_first) {
                st = XNN_FN(xnn_explain_backward)(NULL, NULL, grads, Gs, G0, w, 1, 0, 0, plan, arena,
                                                  xin, nodes, s, f, 0, mode, threads, r0, mc);
            } else {
                /* no linear first node: the whole backward, every step */
                st = XNN_FN(xnn_explain_backward)(NULL, G0, grads, Gs, NULL, w, 1, 0, 0, plan, arena,
                                                  xin, nodes, s, 0, 0, mode, threads, r0, mc);
                if (st == XNN_OK)
                    for (size_t i = 0; i < len; i++) Gc[i] += w * G0[i];
            }
            if (st != XNN_OK) return st;
        }
        if (linear_first) {
            st = opf->transpose(Gc, work, G0, NULL, (const XNN_T *)nf->W, 0, nf, threads, mc);
            if (st != XNN_OK) return st;
            /* the flattens before node f pass it on unchanged */
            if (grads)
                for (size_t l = 1; l <= f; l++)
                    if (grads[l]) memcpy((XNN_T *)grads[l] + r0 * in0, Gc, len * sizeof(XNN_T));
        }
        if (times_delta) {
            XNN_FN(path_ctx) c = {PATH_TIMES_DELTA, Gc, Xc, Bc, 0, 0, 0, 0, 0};
            xnn_parallel_range(XNN_FN(path_range), &c, len, len);
        }
    }
    return XNN_OK;
}

#undef AT
#endif
