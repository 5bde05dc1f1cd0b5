/* plan.c: where every node's values, saved data and scratch live.
 *
 * One arena holds everything a training step or an explanation needs for
 * a chunk of `rows` rows, at offsets fixed once per (network, rows, what
 * is needed): the caller allocates plan->bytes and every kernel finds its
 * buffers by name (plan->node[l].y, plan->grad[0], ...), never by walking
 * pointers. Per node l:
 *
 *   y      (rows, out_l)   the output after the activation; flatten's is the
 *                          memory of its input (no copy)
 *   z      (rows, out_l)   the pre-activation (explanations), y itself when
 *                          the activation is linear
 *   d, mask                the output after dropout and its bits (training)
 *   saved                  what the op keeps for its backward (max
 *                          pooling's arg-max)
 *
 * then two gradient buffers (of the widest node, or in training of the
 * widest node of each parity, see layout), the resolved targets of
 * a chunk, the ops' scratch (the
 * largest any node needs, in `threads` slices), and the buffers of the LRP
 * rules and of path sums when asked for. rows is the largest number for
 * which everything but the scratch fits the budget (at least 1); it does
 * not depend on the thread count, so neither do the results.
 */
#include <string.h>
#include "xnn.h"
#include "layers/op.h"

static size_t align64(size_t b) { return (b + 63) & ~(size_t)63; }

size_t xnn_plan_size(size_t n) { return sizeof(xnn_plan) + n * sizeof(xnn_plan_node); }

int xnn_plan_grad_next(const xnn_node *nodes, size_t n, size_t l, int *cur)
{
    int at = *cur == 0 ? 1 : 0;
    if (l > 0 && l < n && nodes[l].op == XNN_OP_MAXPOOL) {
        const xnn_node *b = &nodes[l - 1];
        if (b->op != XNN_OP_FLATTEN && !(b->keep < 1) &&
            (b->act == XNN_ACT_RELU || b->act == XNN_ACT_LINEAR))
            at = 2;
    }
    *cur = at;
    return at;
}

/* bytes of the buffers a plan holds for m rows, without the scratch;
   fill the offsets when plan is not NULL */
static size_t layout(xnn_plan *plan, const xnn_node *nodes, size_t n, size_t m, int flags,
                     size_t elem)
{
    size_t off = 0;
#define TAKE(bytes) (off += align64(bytes), off - align64(bytes))
    size_t widest = 0, wmax = 0, cmax = 0, inmax = 0, outmax = 0;
    for (size_t l = 0; l < n; l++) {
        const xnn_node *a = &nodes[l];
        const size_t in = xnn_node_in(a), out = xnn_node_out(a);
        if (in > widest) widest = in;
        if (out > widest) widest = out;
        if (in > inmax) inmax = in;
        if (out > outmax) outmax = out;
        if (xnn_node_weights(a) > wmax) wmax = xnn_node_weights(a);
        if (a->out_c > cmax) cmax = a->out_c;
        xnn_plan_node pn = {XNN_PLAN_NONE, XNN_PLAN_NONE, XNN_PLAN_NONE, XNN_PLAN_NONE,
                            XNN_PLAN_NONE};
        const size_t bytes = m * out * elem;
        if (a->op == XNN_OP_FLATTEN && l > 0) {
            /* the input of node l: node l-1's output after dropout */
            const xnn_plan_node *p = plan ? &plan->node[l - 1] : NULL;
            pn.y = p ? (p->d != XNN_PLAN_NONE ? p->d : p->y) : 0;
        } else {
            pn.y = TAKE(bytes);
        }
        if (flags & XNN_PLAN_EXPLAIN)
            pn.z = (a->act == XNN_ACT_LINEAR || a->op == XNN_OP_FLATTEN) ? pn.y : TAKE(bytes);
        if ((flags & XNN_PLAN_TRAIN) && a->keep < 1) {
            pn.d = TAKE(bytes);
            pn.mask = TAKE(m * out);
        }
        const size_t saved = xnn_op_saved_bytes(a, m, flags, elem);
        if (saved) pn.saved = TAKE(saved);
        if (plan) plan->node[l] = pn;
    }
    /* the two gradients a backward alternates between: the training step
       (train/step.c) starts in grad[0] with d loss / d (node n-1's output)
       and puts each node's input gradient where xnn_plan_grad_next says;
       the explanations start anywhere and take the widest for both */
    size_t gw[3] = {widest, widest, 0};
    if ((flags & XNN_PLAN_TRAIN) && !(flags & XNN_PLAN_EXPLAIN) && n > 0) {
        gw[0] = xnn_node_out(&nodes[n - 1]), gw[1] = 0;
        int cur = 0;
        for (size_t l = n - 1; l > 0; l--) {
            const int at = xnn_plan_grad_next(nodes, n, l, &cur);
            const size_t in = xnn_node_in(&nodes[l]);
            if (in > gw[at]) gw[at] = in;
        }
    }
    if (!(flags & (XNN_PLAN_TRAIN | XNN_PLAN_EXPLAIN))) gw[0] = gw[1] = 0;  /* a forward */
    const size_t g0 = gw[0] ? TAKE(m * gw[0] * elem) : XNN_PLAN_NONE;
    const size_t g1 = gw[1] ? TAKE(m * gw[1] * elem) : XNN_PLAN_NONE;
    const size_t tg = (flags & (XNN_PLAN_TRAIN | XNN_PLAN_EXPLAIN)) ? TAKE(m * sizeof(int64_t))
                                                                   : XNN_PLAN_NONE;
    if (plan) {
        plan->grad[0] = g0;
        plan->grad[1] = g1;
        plan->targets = tg;
        plan->lrp_w = plan->lrp_b = plan->lrp_out = plan->lrp_in = plan->lrp_one = XNN_PLAN_NONE;
        plan->path_x = plan->path_xw = plan->path_bw = plan->path_g0 = XNN_PLAN_NONE;
    }
    if ((flags & XNN_PLAN_EXPLAIN) && (flags & XNN_PLAN_LRP)) {
        const size_t w = TAKE(2 * wmax * elem), b = TAKE(2 * cmax * elem);
        const size_t o = TAKE(3 * m * outmax * elem), i = TAKE(5 * m * inmax * elem);
        const size_t one = TAKE((inmax + 3 * outmax) * elem);
        if (plan) {
            plan->lrp_w = w, plan->lrp_b = b, plan->lrp_out = o, plan->lrp_in = i;
            plan->lrp_one = one;
        }
    }
    if ((flags & XNN_PLAN_EXPLAIN) && (flags & XNN_PLAN_PATH)) {
        /* the first node that is not a flatten makes the products */
        size_t f = 0;
        while (f + 1 < n && nodes[f].op == XNN_OP_FLATTEN) f++;
        const size_t in0 = xnn_node_in(&nodes[0]), outf = xnn_node_out(&nodes[f]);
        const size_t w = outf > in0 ? outf : in0;
        const size_t x = TAKE(m * in0 * elem), xw = TAKE(m * outf * elem);
        const size_t bw = TAKE(m * outf * elem), g = TAKE(m * w * elem);
        if (plan) plan->path_x = x, plan->path_xw = xw, plan->path_bw = bw, plan->path_g0 = g;
    }
#undef TAKE
    return off;
}

int xnn_plan_make(xnn_plan *plan, const xnn_node *nodes, size_t n, size_t max_rows,
                  size_t budget, int flags, size_t elem, int threads)
{
    if (!plan || xnn_network_check(nodes, n) != XNN_OK) return XNN_EINVAL;
    if (elem != sizeof(float) && elem != sizeof(double)) return XNN_EINVAL;
    if (max_rows == 0) max_rows = 1;
    if (threads < 1) threads = 1;
    /* the bytes of one row (every buffer is linear in the rows, up to
       alignment), then as many rows as the budget holds */
    const size_t fixed = layout(NULL, nodes, n, 0, flags, elem);
    const size_t one = layout(NULL, nodes, n, 1, flags, elem);
    const size_t per_row = one > fixed ? one - fixed : 1;
    size_t rows = budget > fixed ? (budget - fixed) / per_row : 1;
    if (rows < 1) rows = 1;
    if (rows > max_rows) rows = max_rows;
    memset(plan, 0, sizeof(*plan));
    plan->flags = flags;
    plan->elem = elem;
    plan->rows = rows;
    plan->n = n;
    plan->threads = threads;
    size_t off = layout(plan, nodes, n, rows, flags, elem);
    size_t scratch = 0;
    for (size_t l = 0; l < n; l++) {
        size_t s = xnn_op_scratch_bytes(&nodes[l], rows, flags, threads, elem);
        if (s > scratch) scratch = s;
    }
    plan->scratch = off;
    plan->scratch_bytes = scratch;
    off += align64(scratch);
    /* a forward's leading image-local nodes, one image at a time */
    size_t front = 0, widest = 0, image = 0, prep = 0;
    int conv = 0;
    while (flags == 0 && front < n && nodes[front].op != XNN_OP_DENSE) {
        const xnn_node *a = &nodes[front++];
        conv |= a->op == XNN_OP_CONV;
        if (xnn_node_out(a) > widest) widest = xnn_node_out(a);
        const size_t s = xnn_op_scratch_bytes(a, 1, 0, 1, elem);
        if (s > image) image = s;
        prep += align64(xnn_op_prep_bytes(a, elem));
    }
    plan->front_n = conv ? front : 0;
    plan->front = plan->front_n ? off : XNN_PLAN_NONE;
    plan->front_buf = align64(widest * elem);
    plan->front_slice = 2 * plan->front_buf + align64(image);
    if (plan->front_n) off += (size_t)threads * plan->front_slice;
    plan->front_prep = plan->front_n ? off : XNN_PLAN_NONE;
    if (plan->front_n) off += prep;
    plan->bytes = off + 64;
    return XNN_OK;
}
