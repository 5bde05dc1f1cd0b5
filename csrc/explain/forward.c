/* forward.c: the forward of an explanation and the score it starts from.
 *
 *   forward   for every node l up to the start node s: Z_l = op_l(A_{l-1}),
 *             A_l = act_l(Z_l), both kept (A_{-1} = X)
 *   score     at the last node, for the target t of each row:
 *               logit        z_t                 d score / d Z = onehot(t)
 *               probability  a_t                 act'(onehot(t))
 *               loss         -log a_t (softmax)  A - onehot(t)
 *               onehot       1
 *             at a hidden node s, unit (or channel) t of its output A_s:
 *               a_t, or the mean over positions of channel t for an
 *               image-shaped output; d score / d A_s is 1 (1 / positions)
 *               there and 0 elsewhere, then through act_s'
 *   target    a negative target is the predicted class: the arg-max of the
 *             last node's pre-activation (the logits), for every method
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "core/parallel.h"
#include "explain/explain.h"

int xnn_explain_check(const xnn_plan *plan, const xnn_node *nodes, size_t n,
                      const xnn_start *start, int need_flags, size_t elem)
{
    if (!plan || n == 0 || plan->n != n || plan->elem != elem) return XNN_EINVAL;
    if ((plan->flags & need_flags) != need_flags) return XNN_EINVAL;
    if (!start || start->node >= n) return XNN_EINVAL;
    if (start->output < XNN_START_LOGIT || start->output > XNN_START_LOSS) return XNN_EINVAL;
    if (start->node + 1 < n && start->output != XNN_START_LOGIT) return XNN_EINVAL;
    if (start->output == XNN_START_LOSS && nodes[n - 1].act != XNN_ACT_SOFTMAX) return XNN_EINVAL;
    return XNN_OK;
}

#define XNN_SELF "explain/forward.c"
#include "core/template.h"
#else

#define AT(off) ((XNN_T *)xnn_plan_at(arena, (off)))

int XNN_FN(xnn_explain_threads)(const xnn_plan *plan)
{
    const int t = xnn_get_num_threads();
    return t < plan->threads ? t : plan->threads;
}

const XNN_T *XNN_FN(xnn_explain_input)(const xnn_plan *plan, void *arena, const XNN_T *X,
                                       size_t l)
{
    return l == 0 ? X : AT(plan->node[l - 1].y);
}

/* rows of Z (mc, out) += the bias of their channel, then Y = act(Z) */
static int XNN_FN(bias_act)(XNN_T *Y, XNN_T *Z, const xnn_node *a, size_t mc)
{
    const XNN_T *b = (const XNN_T *)a->b;
    const size_t P = a->out_h * a->out_w, out = xnn_node_out(a);
    for (size_t i = 0; i < mc; i++)
        for (size_t o = 0; o < a->out_c; o++) {
            XNN_T *z = Z + i * out + o * P;
            for (size_t p = 0; p < P; p++) z[p] = z[p] + b[o];
        }
    if (Y == Z && a->act == XNN_ACT_LINEAR) return XNN_OK;
    return XNN_FN(xnn_activation_forward)(Y, Z, a->act, mc, out);
}

/* whether LRP reads linear node a's pre-activation under its rule
   (explain/lrp.c: LRP-0, epsilon, generalized gamma and z-box divide by
   it; the others make their own products) */
static int XNN_FN(reads_z)(const xnn_node *a, const xnn_lrp_rule *r)
{
    return xnn_node_linear(a) && (r->rule == XNN_LRP_ZERO || r->rule == XNN_LRP_EPSILON ||
                                  r->rule == XNN_LRP_GENERALIZED_GAMMA || r->rule == XNN_LRP_ZBOX);
}

/* the forward up to node upto; nodes before `keep` are needed for their
   output alone, so a node there and the max pooling after it (also before
   keep) run as one pass that keeps the pooling's output only, and where
   a plain gradient runs back through them (from node `back` up) its
   arg-max too, for a node with a ReLU: the backward through a max pooling
   over a ReLU reads the arg-max, whose sign is the ReLU's mask, and never
   the ReLU's output (layers/pool.c, max_bwd); a max pooling below `back`
   keeps no arg-max (no backward reads it); the pre-activations of the
   nodes before zfrom are not kept (their ops then write the output alone,
   a dense one through its fused GEMM epilogue: the same values); with
   rules (LRP) a node whose rule reads its pre-activation never joins its
   pooling */
static int XNN_FN(forward_nodes)(const xnn_plan *plan, void *arena, const XNN_T *X,
                                 const xnn_node *nodes, size_t upto, int first_done, size_t f,
                                 size_t keep, size_t zfrom, const xnn_lrp_rule *rules,
                                 size_t back, int threads, size_t mc)
{
    void *work = xnn_plan_at(arena, plan->scratch);
    const XNN_T *in = X;
    for (size_t l = 0; l <= upto; l++) {
        const xnn_node *a = &nodes[l];
        const xnn_plan_node *pn = &plan->node[l];
        XNN_T *Y = AT(pn->y), *Z = l >= zfrom || (rules && XNN_FN(reads_z)(a, &rules[l]))
                                       ? AT(pn->z) : NULL;
        const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(a->op);
        int st;
        if (first_done && l < f) {
            continue;            /* flattens before node f: X is their output */
        } else if (first_done && l == f) {
            st = XNN_FN(bias_act)(Y, Z, a, mc);
        } else if (l + 1 < keep && l + 1 <= upto && op->pool_ok && op->pool_ok(a, a + 1) &&
                   (l + 1 < back || a->act == XNN_ACT_RELU) &&
                   !(rules && XNN_FN(reads_z)(a, &rules[l]))) {
            l++;
            Y = AT(plan->node[l].y);
            st = op->pool_forward(Y, l >= back ? xnn_plan_at(arena, plan->node[l].saved) : NULL,
                                  work, in, a, a + 1, threads, mc);
        } else {
            if (a->op == XNN_OP_FLATTEN && l > 0) Y = Z = (XNN_T *)in;
            void *saved = a->op == XNN_OP_MAXPOOL && l < back ? NULL
                                                              : xnn_plan_at(arena, pn->saved);
            st = op->forward(Y, Z, saved, work, in, a, XNN_PLAN_EXPLAIN, threads, mc);
        }
        if (st != XNN_OK) return st;
        in = Y;
    }
    return XNN_OK;
}

int XNN_FN(xnn_explain_forward_chunk)(const xnn_plan *plan, void *arena, const XNN_T *X,
                                      const xnn_node *nodes, size_t upto, int first_done,
                                      size_t f, int threads, size_t mc)
{
    return XNN_FN(forward_nodes)(plan, arena, X, nodes, upto, first_done, f, 0, 0, NULL, 0,
                                 threads, mc);
}

int XNN_FN(xnn_explain_forward_above)(const xnn_plan *plan, void *arena, const XNN_T *X,
                                      const xnn_node *nodes, size_t upto, size_t keep,
                                      size_t back, int threads, size_t mc)
{
    return XNN_FN(forward_nodes)(plan, arena, X, nodes, upto, 0, 0, keep, upto, NULL, back,
                                 threads, mc);
}

int XNN_FN(xnn_explain_forward_lrp)(const xnn_plan *plan, void *arena, const XNN_T *X,
                                    const xnn_node *nodes, size_t upto,
                                    const xnn_lrp_rule *rules, int pool, int threads, size_t mc)
{
    /* winner-take-all pooling reads its arg-max alone, never its input: a
       ReLU node whose rule does not read its pre-activation and the max
       pooling after it run as one pass */
    const size_t keep = pool == XNN_POOL_WTA ? upto + 1 : 0;
    return XNN_FN(forward_nodes)(plan, arena, X, nodes, upto, 0, 0, keep, upto, rules, 0,
                                 threads, mc);
}

/* a hidden unit's score: the mean of its P values (P = 1: the value) */
static XNN_T XNN_FN(unit_mean)(const XNN_T *y, size_t P)
{
    XNN_T sum = 0;
    for (size_t p = 0; p < P; p++) sum += y[p];
    return P == 1 ? sum : sum / (XNN_T)P;
}

int XNN_FN(xnn_explain_start_scores)(XNN_T *score, int64_t *resolved, const xnn_plan *plan,
                                     void *arena, const int64_t *targets, const xnn_node *nodes,
                                     size_t n, const xnn_start *start, size_t mc)
{
    const size_t s = start->node;
    const xnn_node *a = &nodes[s];
    const size_t out = xnn_node_out(a);
    const XNN_T *Z = AT(plan->node[s].z), *Y = AT(plan->node[s].y);
    const size_t nl = xnn_node_out(&nodes[n - 1]);
    const int top = s + 1 == n;
    const XNN_T *logits = top ? Z : NULL;
    for (size_t i = 0; i < mc; i++) {
        int64_t t = targets[i];
        if (t < 0) {
            /* the predicted class: the arg-max of the logits (a hidden
               start names its unit) */
            if (!top) return XNN_EINVAL;
            const XNN_T *z = logits + i * nl;
            size_t best = 0;
            for (size_t j = 1; j < nl; j++)
                if (z[j] > z[best]) best = j;
            t = (int64_t)best;
        }
        if (top ? (size_t)t >= out : (size_t)t >= a->out_c) return XNN_EINVAL;
        resolved[i] = t;
        if (!score) continue;
        if (!top) {
            const size_t P = out / a->out_c;
            score[i] = XNN_FN(unit_mean)(Y + i * out + (size_t)t * P, P);
            continue;
        }
        switch (start->output) {
        case XNN_START_LOGIT: score[i] = Z[i * out + t]; break;
        case XNN_START_PROBABILITY: score[i] = Y[i * out + t]; break;
        case XNN_START_ONEHOT: score[i] = 1; break;
        case XNN_START_LOSS: {
            const XNN_T q = Y[i * out + t];
            score[i] = -XNN_M(log)(q > XNN_TINY ? q : XNN_TINY);
            break;
        }
        default: return XNN_EINVAL;
        }
    }
    return XNN_OK;
}

int XNN_FN(xnn_explain_unit_start)(const xnn_node *nodes, size_t n, const xnn_start *start,
                                   void *const *grads)
{
    const size_t s = start->node;
    if (s + 1 >= n || grads) return 0;
    const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(nodes[s].op);
    return op->unit_ok && op->unit_ok(&nodes[s]);
}

int XNN_FN(xnn_explain_unit_forward)(XNN_T *score, int64_t *resolved, const xnn_plan *plan,
                                     void *arena, const XNN_T *X, const int64_t *targets,
                                     const xnn_node *nodes, const xnn_start *start, int threads,
                                     size_t mc)
{
    const size_t s = start->node;
    const xnn_node *a = &nodes[s];
    const size_t P = xnn_node_out(a) / a->out_c;
    for (size_t i = 0; i < mc; i++) {
        if (targets[i] < 0 || (size_t)targets[i] >= a->out_c) return XNN_EINVAL;
        resolved[i] = targets[i];
    }
    int st = s > 0 ? XNN_FN(xnn_explain_forward_chunk)(plan, arena, X, nodes, s - 1, 0, 0,
                                                       threads, mc)
                   : XNN_OK;
    if (st != XNN_OK) return st;
    XNN_T *Y = AT(plan->node[s].y);
    st = XNN_FN(xnn_op_get)(a->op)->unit_forward(Y, NULL, xnn_plan_at(arena, plan->scratch),
                                                 XNN_FN(xnn_explain_input)(plan, arena, X, s),
                                                 resolved, a, threads, mc);
    if (st != XNN_OK || !score) return st;
    for (size_t i = 0; i < mc; i++) score[i] = XNN_FN(unit_mean)(Y + i * P, P);
    return XNN_OK;
}

/* elements [i0, i1) of a gradient through a ReLU whose output is A */
typedef struct {
    XNN_T *G;
    const XNN_T *A;
    int mode;
} XNN_FN(relu_ctx);

static void XNN_FN(relu_back)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(relu_ctx) *c = (const XNN_FN(relu_ctx) *)p;
    XNN_T *G = c->G;
    const XNN_T *A = c->A;
    if (c->mode == XNN_GRAD_GUIDED)
        for (size_t i = i0; i < i1; i++) G[i] = (A[i] > 0 && G[i] > 0) ? G[i] : 0;
    else if (c->mode == XNN_GRAD_DECONVNET)
        for (size_t i = i0; i < i1; i++) G[i] = G[i] > 0 ? G[i] : 0;
    else
        for (size_t i = i0; i < i1; i++) G[i] = A[i] > 0 ? G[i] : 0;
}

int XNN_FN(xnn_explain_act_back)(XNN_T *G, const XNN_T *Y, int act, int mode, size_t mc,
                                 size_t out)
{
    const size_t len = mc * out;
    if (act == XNN_ACT_LINEAR) return XNN_OK;
    if (act == XNN_ACT_RELU) {
        XNN_FN(relu_ctx) c = {G, Y, mode};
        xnn_parallel_range(XNN_FN(relu_back), &c, len, len);
        return XNN_OK;
    }
    return XNN_FN(xnn_activation_backward)(G, Y, G, act, mc, out);
}

int XNN_FN(xnn_explain_start_gradient)(XNN_T *G, XNN_T *top, const xnn_plan *plan, void *arena,
                                       const int64_t *resolved, const xnn_node *nodes, size_t n,
                                       const xnn_start *start, int mode, size_t mc)
{
    const size_t s = start->node;
    const xnn_node *a = &nodes[s];
    const size_t out = xnn_node_out(a);
    const XNN_T *Y = AT(plan->node[s].y);
    memset(G, 0, mc * out * sizeof(XNN_T));
    if (s + 1 < n) {
        /* a hidden unit or channel: d score / d A_s, then through act_s' */
        const size_t P = out / a->out_c;
        for (size_t i = 0; i < mc; i++) {
            XNN_T *g = G + i * out + (size_t)resolved[i] * P;
            for (size_t p = 0; p < P; p++) g[p] = P == 1 ? 1 : (XNN_T)1 / (XNN_T)P;
        }
        if (top) memcpy(top, G, mc * out * sizeof(XNN_T));
        return XNN_FN(xnn_explain_act_back)(G, Y, a->act, mode, mc, out);
    }
    for (size_t i = 0; i < mc; i++) {
        const int64_t t = resolved[i];
        XNN_T *g = G + i * out;
        if (start->output == XNN_START_LOSS) {
            const XNN_T *y = Y + i * out;
            for (size_t j = 0; j < out; j++) g[j] = y[j];
            g[t] -= 1;
        } else {
            g[t] = 1;
        }
    }
    int st = XNN_OK;
    if (start->output == XNN_START_PROBABILITY)
        st = XNN_FN(xnn_activation_backward)(G, Y, G, a->act, mc, out);
    if (top) memcpy(top, G, mc * out * sizeof(XNN_T));
    return st;
}

/* score (m), resolved (m) for targets (m) */
int XNN_FN(xnn_explain_scores)(XNN_T *score, int64_t *resolved, const xnn_plan *plan,
                               void *arena, const XNN_T *X, const int64_t *targets,
                               const xnn_node *nodes, size_t n, const xnn_start *start,
                               size_t m)
{
    if (xnn_explain_check(plan, nodes, n, start, XNN_PLAN_EXPLAIN, sizeof(XNN_T)) != XNN_OK)
        return XNN_EINVAL;
    const int threads = XNN_FN(xnn_explain_threads)(plan);
    const size_t in0 = xnn_node_in(&nodes[0]);
    int64_t *tbuf = (int64_t *)xnn_plan_at(arena, plan->targets);
    const int unit = XNN_FN(xnn_explain_unit_start)(nodes, n, start, NULL);
    for (size_t r0 = 0; r0 < m; r0 += plan->rows) {
        const size_t mc = m - r0 < plan->rows ? m - r0 : plan->rows;
        int st;
        if (unit) {
            st = XNN_FN(xnn_explain_unit_forward)(score ? score + r0 : NULL,
                                                  resolved ? resolved + r0 : tbuf, plan, arena,
                                                  X + r0 * in0, targets + r0, nodes, start,
                                                  threads, mc);
            if (st != XNN_OK) return st;
            continue;
        }
        st = XNN_FN(xnn_explain_forward_chunk)(plan, arena, X + r0 * in0, nodes, start->node,
                                               0, 0, threads, mc);
        if (st == XNN_OK)
            st = XNN_FN(xnn_explain_start_scores)(score ? score + r0 : NULL,
                                                  resolved ? resolved + r0 : tbuf, plan, arena,
                                                  targets + r0, nodes, n, start, mc);
        if (st != XNN_OK) return st;
    }
    return XNN_OK;
}

#undef AT
#endif
