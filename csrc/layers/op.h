/* op.h: the interface every op of a node implements (one file per op:
 * dense.c conv.c pool.c flatten.c), and the table that finds them.
 *
 * For m rows of a node n (input rows of xnn_node_in(n) elements, output
 * rows of xnn_node_out(n)):
 *
 *   saved(n, m, flags)          bytes the forward keeps for the backward
 *   scratch(n, m, flags, T)     bytes of scratch a call needs with T threads
 *   forward(Y, Z, saved, work, X)
 *                               Y = act(Z), Z = op(X) (Z may be NULL, or Y)
 *   backward(dX, dW, db, work, dZ, saved, X, relu, update, add)
 *                               dX = d/dX (times [relu > 0] when relu is
 *                               given), dW, db stored or added; update,
 *                               when given, steps the optimizer on W and b
 *                               once their gradients are complete
 *
 * and, for the linear ops (dense, conv), the two products every relevance
 * rule is written over (explain/lrp.c):
 *
 *   product(Z, work, A, W, b)             Z = f(A; W) + b   (b may be NULL)
 *   transpose(C, work, S, A, W, abs)      C = f^T(S; W), times A when A is
 *                                         given, |C| when abs
 *
 * Pooling and flatten supply their own relevance pass instead:
 *
 *   relevance(Rin, work, R, X, Y, saved, pool, eps)
 *
 * and conv two shortcuts: one unit per row (unit_ok, unit_forward,
 * unit_transpose) and, for inference, the node and the max pooling after
 * it in one pass (pool_ok, pool_forward).
 *
 * work is `threads` slices of scratch; ops split rows, images or output
 * channels among threads, never a sum, so results do not depend on the
 * thread count.
 */
#ifndef XNN_OP_H
#define XNN_OP_H

#include "xnn.h"

/* the plane index of a max pool's saved arg-max (saved complemented where
   the maximum is not > 0, layers/pool.c) */
#define XNN_ARG(a) ((a) < 0 ? ~(a) : (a))

/* bytes of saved data and scratch of a node's op (see above) */
size_t xnn_op_saved_bytes(const xnn_node *n, size_t m, int flags, size_t elem);
size_t xnn_op_scratch_bytes(const xnn_node *n, size_t m, int flags, int threads, size_t elem);
/* the weights a node's op prepares from W once for many uses (node->prep):
   their bytes (0: none), and prepare writing them to prep */
size_t xnn_op_prep_bytes(const xnn_node *n, size_t elem);
void xnn_op_prepare(void *prep, const xnn_node *n, size_t elem, int threads);
/* the path a convolution node's forward takes, named as XNN_CONV names
   them: "winograd", "direct" or "gemm" (layers/conv.c) */
const char *xnn_conv_fwd_path(const xnn_node *n);

#define XNN_SELF "layers/op_typed.h"
#include "core/template.h"

#endif
