/* node.c: a node's sizes and checks, and the table of ops.
 *
 * The output shape of each op follows from its input shape and
 * hyper-parameters:
 *
 *   dense            (n_in, 1, 1) -> (n_out, 1, 1)
 *   conv             (C, H, W) -> (O, (H + 2 ph - kh) / sh + 1, (W + 2 pw - kw) / sw + 1)
 *   max/avg pooling  (C, H, W) -> (C, (H - kh) / sh + 1, (W - kw) / sw + 1)
 *   global avg pool  (C, H, W) -> (C, 1, 1)
 *   flatten          (C, H, W) -> (C H W, 1, 1)
 *
 * (divisions rounding down). xnn_node_forward and xnn_node_backward reach
 * an op through its table (layers/op.h).
 */
#ifndef XNN_T
#include "xnn.h"
#include "layers/op.h"

size_t xnn_node_in(const xnn_node *n) { return n->in_c * n->in_h * n->in_w; }
size_t xnn_node_out(const xnn_node *n) { return n->out_c * n->out_h * n->out_w; }

int xnn_node_linear(const xnn_node *n) { return n->op == XNN_OP_DENSE || n->op == XNN_OP_CONV; }

size_t xnn_node_weights(const xnn_node *n)
{
    if (n->op == XNN_OP_DENSE) return xnn_node_in(n) * xnn_node_out(n);
    if (n->op == XNN_OP_CONV) return n->out_c * n->in_c * n->kh * n->kw;
    return 0;
}

/* a / b + 1 when a >= 0 (a given as x + 2p - k, which must not be negative) */
static int window_out(size_t x, size_t pad, size_t k, size_t s, size_t *out)
{
    if (k == 0 || s == 0 || x + 2 * pad < k) return XNN_EINVAL;
    *out = (x + 2 * pad - k) / s + 1;
    return XNN_OK;
}

int xnn_node_check(const xnn_node *n)
{
    if (n->op < 0 || n->op >= XNN_OP_COUNT) return XNN_EINVAL;
    if (n->act < XNN_ACT_LINEAR || n->act > XNN_ACT_SOFTMAX) return XNN_EINVAL;
    if (!(n->keep > 0 && n->keep <= 1)) return XNN_EINVAL;
    if (n->in_c == 0 || n->in_h == 0 || n->in_w == 0) return XNN_EINVAL;
    if (n->out_c == 0 || n->out_h == 0 || n->out_w == 0) return XNN_EINVAL;
    size_t oh, ow;
    switch (n->op) {
    case XNN_OP_DENSE:
        if (n->in_h != 1 || n->in_w != 1 || n->out_h != 1 || n->out_w != 1) return XNN_EINVAL;
        return n->W && n->b ? XNN_OK : XNN_EINVAL;
    case XNN_OP_CONV:
        if (window_out(n->in_h, n->ph, n->kh, n->sh, &oh) || window_out(n->in_w, n->pw, n->kw, n->sw, &ow))
            return XNN_EINVAL;
        if (oh != n->out_h || ow != n->out_w) return XNN_EINVAL;
        return n->W && n->b ? XNN_OK : XNN_EINVAL;
    case XNN_OP_MAXPOOL:
    case XNN_OP_AVGPOOL:
        if (n->act != XNN_ACT_LINEAR || n->ph || n->pw) return XNN_EINVAL;
        if (window_out(n->in_h, 0, n->kh, n->sh, &oh) || window_out(n->in_w, 0, n->kw, n->sw, &ow))
            return XNN_EINVAL;
        return oh == n->out_h && ow == n->out_w && n->out_c == n->in_c ? XNN_OK : XNN_EINVAL;
    case XNN_OP_GLOBAL_AVGPOOL:
        if (n->act != XNN_ACT_LINEAR) return XNN_EINVAL;
        return n->out_c == n->in_c && n->out_h == 1 && n->out_w == 1 ? XNN_OK : XNN_EINVAL;
    case XNN_OP_FLATTEN:
        if (n->act != XNN_ACT_LINEAR) return XNN_EINVAL;
        return n->out_c == xnn_node_in(n) && n->out_h == 1 && n->out_w == 1 ? XNN_OK : XNN_EINVAL;
    default:
        return XNN_EINVAL;
    }
}

int xnn_network_check(const xnn_node *nodes, size_t n)
{
    if (n == 0) return XNN_EINVAL;
    for (size_t l = 0; l < n; l++) {
        const xnn_node *a = &nodes[l];
        if (xnn_node_check(a) != XNN_OK) return XNN_EINVAL;
        if (a->act == XNN_ACT_SOFTMAX && l + 1 != n) return XNN_EINVAL;
        if (l + 1 == n) {
            if (a->keep < 1) return XNN_EINVAL;
            break;
        }
        const xnn_node *b = &nodes[l + 1];
        if (a->out_c != b->in_c || a->out_h != b->in_h || a->out_w != b->in_w) return XNN_EINVAL;
    }
    return XNN_OK;
}

size_t xnn_op_saved_bytes(const xnn_node *n, size_t m, int flags, size_t elem)
{
    return elem == sizeof(double) ? xnn_op_get_f64(n->op)->saved(n, m, flags)
                                  : xnn_op_get_f32(n->op)->saved(n, m, flags);
}

size_t xnn_op_scratch_bytes(const xnn_node *n, size_t m, int flags, int threads, size_t elem)
{
    return elem == sizeof(double) ? xnn_op_get_f64(n->op)->scratch(n, m, flags, threads)
                                  : xnn_op_get_f32(n->op)->scratch(n, m, flags, threads);
}

size_t xnn_op_prep_bytes(const xnn_node *n, size_t elem)
{
    if (elem == sizeof(double)) {
        const xnn_op_f64 *op = xnn_op_get_f64(n->op);
        return op->prep_bytes ? op->prep_bytes(n) : 0;
    }
    const xnn_op_f32 *op = xnn_op_get_f32(n->op);
    return op->prep_bytes ? op->prep_bytes(n) : 0;
}

void xnn_op_prepare(void *prep, const xnn_node *n, size_t elem, int threads)
{
    if (elem == sizeof(double)) {
        const xnn_op_f64 *op = xnn_op_get_f64(n->op);
        if (op->prepare) op->prepare(prep, n, threads);
        return;
    }
    const xnn_op_f32 *op = xnn_op_get_f32(n->op);
    if (op->prepare) op->prepare(prep, n, threads);
}

#define XNN_SELF "layers/node.c"
#include "core/template.h"
#else

const XNN_FN(xnn_op) *XNN_FN(xnn_op_get)(int op)
{
    switch (op) {
    case XNN_OP_DENSE: return &XNN_FN(xnn_dense_op);
    case XNN_OP_CONV: return &XNN_FN(xnn_conv_op);
    case XNN_OP_MAXPOOL: return &XNN_FN(xnn_maxpool_op);
    case XNN_OP_AVGPOOL: return &XNN_FN(xnn_avgpool_op);
    case XNN_OP_GLOBAL_AVGPOOL: return &XNN_FN(xnn_global_avgpool_op);
    case XNN_OP_FLATTEN: return &XNN_FN(xnn_flatten_op);
    default: return &XNN_FN(xnn_flatten_op);   /* never reached after xnn_node_check */
    }
}

int XNN_FN(xnn_node_forward)(XNN_T *Y, XNN_T *Z, void *saved, void *work, const XNN_T *X,
                             const xnn_node *n, int flags, int threads, size_t m)
{
    if (xnn_node_check(n) != XNN_OK) return XNN_EINVAL;
    if (m == 0) return XNN_OK;
    return XNN_FN(xnn_op_get)(n->op)->forward(Y, Z, saved, work, X, n, flags, threads, m);
}

int XNN_FN(xnn_node_backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, void *work, const XNN_T *dZ,
                              const void *saved, const XNN_T *X, const XNN_T *relu,
                              const xnn_node *n, int add, int threads, size_t m)
{
    if (xnn_node_check(n) != XNN_OK) return XNN_EINVAL;
    if (m == 0) return XNN_OK;
    return XNN_FN(xnn_op_get)(n->op)->backward(dX, dW, db, work, dZ, saved, X, relu, n, NULL,
                                               add, threads, m);
}

#endif
