/* xnn_typed.h: the typed kernels of xnn.h, declared once for XNN_T
 * (instantiated for float and double by core/template.h; never included
 * directly). Shapes are per call: m rows; a node's input row has
 * xnn_node_in(n) elements, its output row xnn_node_out(n). */

/* ---- core/check.c ---------------------------------------------------- */
/* the index of the first NaN or infinity of x (n), or n when all are finite */
size_t XNN_FN(xnn_first_nonfinite)(const XNN_T *x, size_t n);

/* ---- core/random.c --------------------------------------------------- */
/* noise (n) = xnn_normal(sigma, seed, stream, i) for i < n */
int XNN_FN(xnn_gaussian_noise)(XNN_T *noise, double sigma, uint64_t seed, uint64_t stream,
                               size_t n);

/* ---- gemm/ ----------------------------------------------------------- */
/* C (m,n) = op(A) (m,k) . op(B) (k,n) + beta * C
 * op(A) = A stored (m,k), or A^T with A stored (k,m) when trans_a;
 * op(B) = B stored (k,n), or B^T with B stored (n,k) when trans_b.
 * beta = 0 overwrites C (its old contents may be NaN). */
int XNN_FN(xnn_gemm)(XNN_T *C, const XNN_T *A, const XNN_T *B, XNN_T beta,
                     int trans_a, int trans_b, size_t m, size_t n, size_t k);

/* ---- layers/activation.c --------------------------------------------- */
/* Y (m,n) = act(Z (m,n)); Y may alias Z. softmax is row-wise and stable. */
int XNN_FN(xnn_activation_forward)(XNN_T *Y, const XNN_T *Z, int act, size_t m, size_t n);
/* dZ (m,n) = d loss / d Z from the saved output Y (m,n) and dY (m,n);
 * dZ may alias dY. */
int XNN_FN(xnn_activation_backward)(XNN_T *dZ, const XNN_T *Y, const XNN_T *dY,
                                    int act, size_t m, size_t n);
/* Dropout: Y (n) = X (n) * mask / keep with mask ~ Bernoulli(keep), element
 * i drawn from xnn_uniform(seed, stream, first + i); Y may alias X. */
int XNN_FN(xnn_dropout_forward)(XNN_T *Y, uint8_t *mask, const XNN_T *X, double keep,
                                uint64_t seed, uint64_t stream, uint64_t first, size_t n);
/* dX (n) = dY (n) * mask / keep; dX may alias dY */
int XNN_FN(xnn_dropout_backward)(XNN_T *dX, const uint8_t *mask, const XNN_T *dY,
                                 double keep, size_t n);

/* ---- layers/ (dense.c conv.c pool.c flatten.c) ------------------------ */
/* One node's forward on m rows: Y (m, out) after the activation, Z (m,
 * out) the pre-activation or NULL (Z may equal Y for a linear activation),
 * saved: xnn_op_saved_bytes(n, m, flags) bytes or NULL (training keeps
 * conv's unfolded input, explanations pooling's arg-max), work: scratch of
 * xnn_op_scratch_bytes(n, m, flags, threads) bytes for `threads` threads.
 * X (m, in). flags: XNN_PLAN_TRAIN, XNN_PLAN_EXPLAIN or 0 (inference). */
int XNN_FN(xnn_node_forward)(XNN_T *Y, XNN_T *Z, void *saved, void *work, const XNN_T *X,
                             const xnn_node *n, int flags, int threads, size_t m);
/* One node's backward on m rows from dZ (m, out), d loss / d Z (for
 * pooling and flatten d loss / d Y), X (m, in) its input, saved as the
 * training forward left it: dX (m, in) (NULL: not needed), times
 * [relu > 0] when relu (m, in) is not NULL (the ReLU derivative of the
 * node below, fused: relu is that node's output, X itself; max pooling
 * reads the mask from its arg-max instead); dW, db (shaped as W, b)
 * stored, or added when add. dX may not alias dZ. */
int XNN_FN(xnn_node_backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, void *work, const XNN_T *dZ,
                              const void *saved, const XNN_T *X, const XNN_T *relu,
                              const xnn_node *n, int add, int threads, size_t m);

/* Kernels of the ops, for tests and the curious (the drivers reach them
 * through xnn_node_forward/backward, which is the same code). */
/* dense: Y (m,n) = act(X (m,k) . W (k,n) + b (n)); b may be NULL */
int XNN_FN(xnn_dense_forward)(XNN_T *Y, const XNN_T *X, const XNN_T *W,
                              const XNN_T *b, int act, size_t m, size_t k, size_t n);
/* dense: dX (m,k) = dZ . W^T (skipped when NULL), dW (k,n) = X^T . dZ,
 * db (n) = sum over rows of dZ (skipped when NULL) */
int XNN_FN(xnn_dense_backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, const XNN_T *dZ,
                               const XNN_T *X, const XNN_T *W, size_t m, size_t k, size_t n);
/* db (n) = sum over rows of dZ (m,n), row by row in increasing order;
 * add: db += that sum, continuing the same order of additions */
void XNN_FN(xnn_bias_grad)(XNN_T *db, const XNN_T *dZ, size_t m, size_t n, int add);

/* ---- train/loss.c ---------------------------------------------------- */
/* stats[0] += sum over rows of the loss, stats[1] += sum over rows of
 * 0.5 * sum_j (y_j - p_j)^2 (the reports' SSR, before dividing by m),
 * stats[2] += number of rows whose arg-max equals the label;
 * from P (m,n) and labels (m) in [0, n). */
int XNN_FN(xnn_loss_forward)(double stats[3], const XNN_T *P, const int64_t *labels,
                             int loss, size_t m, size_t n);
/* dZ (m,n) = scale * d loss / d Z, where P = act(Z): the fused p - y for
 * softmax + cross-entropy and sigmoid + binary cross-entropy, the chain
 * rule through act otherwise. */
int XNN_FN(xnn_loss_backward)(XNN_T *dZ, const XNN_T *P, const int64_t *labels,
                              int loss, int act, double scale, size_t m, size_t n);

/* ---- train/optim.c --------------------------------------------------- */
/* W (n) -= lr * dW (n) */
int XNN_FN(xnn_sgd_update)(XNN_T *W, const XNN_T *dW, double lr, size_t n);
/* V = mu V + dW; W -= lr V   (nesterov: W -= lr (dW + mu V)); V, W (n) */
int XNN_FN(xnn_momentum_update)(XNN_T *W, XNN_T *V, const XNN_T *dW, double lr,
                                double mu, int nesterov, size_t n);
/* One step of normalized gradient ascent on x (k, n), row by row (the
 * rows of xnn.visualize's activation maximization): x += lr g / rms(g)
 * - lr l2 x - e (e (k, n) may be NULL), rms(g) = sqrt(sum of g^2 / n), at
 * least the dtype's smallest normal; then x clipped to [lo, hi] when clip.
 * The squares are summed in 8 lanes in a fixed order. */
int XNN_FN(xnn_ascent_step)(XNN_T *x, const XNN_T *g, const XNN_T *e, double lr, double l2,
                            double lo, double hi, int clip, size_t k, size_t n);
/* Adam (Kingma & Ba), step t >= 1: M, V (n) moments, W (n) */
int XNN_FN(xnn_adam_update)(XNN_T *W, XNN_T *M, XNN_T *V, const XNN_T *dW, double lr,
                            double beta1, double beta2, double eps, int64_t t, size_t n);
/* One step of cfg's optimizer on w (n) with gradient g (n) and its state
 * s1 (momentum's V, Adam's M) and s2 (Adam's V), unused ones may be NULL;
 * c from xnn_adam_corrections(cfg->beta1, cfg->beta2, cfg->step, c). The
 * same bits as the whole-array updates above, for any split of the range. */
int XNN_FN(xnn_optimizer_step)(const xnn_train_config *cfg, const double c[2], XNN_T *w,
                               const XNN_T *g, XNN_T *s1, XNN_T *s2, size_t n);

/* ---- train/step.c ---------------------------------------------------- */
/* Y (k, n) = X[rows] and ly (k) = labels[rows] for rows (k) of X (m, n),
 * labels (m); the caller has checked 0 <= rows[i] < m */
int XNN_FN(xnn_gather_rows)(XNN_T *Y, int64_t *ly, const XNN_T *X, const int64_t *labels,
                            const int64_t *rows, size_t k, size_t n);
/* Inference on X (m, in_0), no dropout: outs[l] (m, out_l) receives node
 * l's output where outs[l] is not NULL; plan (any flags) and its arena
 * hold the rest, a chunk of plan->rows rows at a time. */
int XNN_FN(xnn_network_forward)(void *const *outs, const xnn_plan *plan, void *arena,
                                const XNN_T *X, const xnn_node *nodes, size_t n, size_t m);
/* One training step on X (m, in_0) with labels (m): forward with dropout,
 * loss statistics added to stats[3] (see xnn_loss_forward), backward with
 * every gradient divided by m, optimizer update of every W and b in place.
 * grads[l] holds node l's gradients and optimizer state. The rows go
 * through in chunks of plan->rows (plan made with XNN_PLAN_TRAIN), their
 * gradients summed before the update. Should a product fail for lack of
 * memory during the update, some parameters are updated and others not. */
int XNN_FN(xnn_train_step)(double stats[3], const xnn_plan *plan, void *arena,
                           const xnn_grads *grads, const XNN_T *X, const int64_t *labels,
                           const xnn_node *nodes, size_t n, const xnn_train_config *cfg,
                           size_t m);

/* ---- explain/ -------------------------------------------------------- */
/* Every explanation takes a plan made with XNN_PLAN_EXPLAIN (| LRP, PATH as
 * it needs) and its arena, runs m rows in chunks of plan->rows, and starts
 * at start (XNN_START_*; start->node < n). targets (m): the class (or unit,
 * for a hidden start node) of each row; a negative target means the
 * predicted class, the arg-max of the last node's pre-activation. */

/* score (m) = the start score of each row; resolved (m) the targets used
 * (either may be NULL) */
int XNN_FN(xnn_explain_scores)(XNN_T *score, int64_t *resolved, const xnn_plan *plan,
                               void *arena, const XNN_T *X, const int64_t *targets,
                               const xnn_node *nodes, size_t n, const xnn_start *start,
                               size_t m);
/* dX (m, in_0) = d score / d X; score (m) or NULL; mode XNN_GRAD_*.
 * grads: NULL, or n + 1 pointers of which grads[l] (m, in_l), 1 <= l <=
 * start->node, receives d score / d (node l's input) and grads[start->node
 * + 1] (m, out) d score / d (the start node's pre-activation, or output
 * for a hidden start); other entries are unused and may be NULL.
 * finish: XNN_FINISH_TIMES multiplies each by its value (X, the input of
 * node l, the pre-activation); XNN_FINISH_ABS then takes the absolute
 * value of dX (a saliency map), as each block of it is computed. */
int XNN_FN(xnn_explain_gradient)(XNN_T *dX, XNN_T *score, void *const *grads,
                                 const xnn_plan *plan, void *arena, const XNN_T *X,
                                 const int64_t *targets, const xnn_node *nodes, size_t n,
                                 const xnn_start *start, int mode, int finish, size_t m);
/* G (m, in_0) = sum_s weights[s] * gradient(x_s), s < n_steps, where
 * x_s = B + alphas[s] (X - B) (B (m, in_0) or NULL for zeros) plus, when
 * sigma > 0, xnn_gaussian_noise(sigma, seed, stream s) over the chunk's
 * elements counted in the whole batch; then G *= X - B when times_delta.
 * Targets must be resolved (>= 0). grads: NULL or as in
 * xnn_explain_gradient, receiving the same weighted sums (never times_delta).
 * plan: XNN_PLAN_EXPLAIN | XNN_PLAN_PATH. */
int XNN_FN(xnn_explain_gradient_sum)(XNN_T *G, void *const *grads, const xnn_plan *plan,
                                     void *arena, const XNN_T *X, const XNN_T *B,
                                     const int64_t *targets, const xnn_node *nodes, size_t n,
                                     const xnn_start *start, const double *alphas,
                                     const double *weights, size_t n_steps, double sigma,
                                     uint64_t seed, int mode, int times_delta, size_t m);
/* LRP of X (m, in_0): rel[l] (m, in_l) the relevance of node l's input for
 * l <= start->node, rel[start->node + 1] (m, out) the start relevance (the
 * target's score, zero elsewhere: XNN_START_LOGIT/ONEHOT/PROBABILITY; at a
 * hidden start node the unit's or channel's output values); rules[l] the
 * rule of linear node l (ignored for others); pool: XNN_POOL_* for max
 * pooling, eps its stabiliser and that of average pooling's proportional
 * rule; bias = 0 drops the bias from every denominator. rel[0] is
 * required; rel[l] NULL for l > 0: that relevance goes through the plan's
 * gradient buffers and is not kept.
 * plan: XNN_PLAN_EXPLAIN | XNN_PLAN_LRP. */
int XNN_FN(xnn_explain_lrp)(void *const *rel, const xnn_plan *plan, void *arena,
                            const XNN_T *X, const int64_t *targets, const xnn_node *nodes,
                            size_t n, const xnn_lrp_rule *rules, const xnn_start *start,
                            int pool, double eps, int bias, size_t m);
/* Class activation maps of the output A (m, C, H', W') of node `layer`
 * (after its activation; 1-D: H' = 1), for the targets' logits: maps (m,
 * H' W') and, when not NULL, the channel weights (m, C) and the classes
 * explained (m) (targets with -1 resolved to the arg-max of the logits);
 * kind XNN_CAM_*; relu applies ReLU to the weighted sum (Grad-CAM,
 * Grad-CAM++). For XNN_CAM_CLASS the network must end layer -> global
 * average pool -> dense. fold: NULL, or xnn_explain_cam_fold(...) elements
 * of scratch for Grad-CAM's folded dense weights (explain/cam.c); the
 * maps are the same sums either way up to rounding. plan: XNN_PLAN_EXPLAIN. */
int XNN_FN(xnn_explain_cam)(XNN_T *maps, XNN_T *weights, int64_t *explained, XNN_T *fold,
                            const xnn_plan *plan, void *arena, const XNN_T *X,
                            const int64_t *targets, const xnn_node *nodes, size_t n,
                            size_t layer, int kind, int relu, size_t m);
/* out (m, Ho, Wo) = in (m, Hi, Wi) resampled (XNN_RESIZE_*), as
 * torch.nn.functional.interpolate with align_corners = False (1-D: Hi = Ho = 1) */
int XNN_FN(xnn_resize)(XNN_T *out, const XNN_T *in, int mode, size_t m, size_t hi, size_t wi,
                       size_t ho, size_t wo);
/* DeepLIFT (rescale rule, explain/deeplift.c) of the targets' logits
 * (resolved, >= 0): attr (m, in_0) = (X - B) * multipliers for X, B (m,
 * in_0); eps the threshold below which a difference takes the plain
 * gradient; captum: a max pool's plain gradients feed the activation
 * below it, as Captum does (else its multipliers, which sum to the score
 * difference). plan: XNN_PLAN_EXPLAIN | XNN_PLAN_PATH | XNN_PLAN_LRP, rows >= 2
 * (a chunk of rows / 2 rows runs with its baselines). */
int XNN_FN(xnn_explain_deeplift)(XNN_T *attr, const xnn_plan *plan, void *arena, const XNN_T *X,
                                 const XNN_T *B, const int64_t *targets, const xnn_node *nodes,
                                 size_t n, double eps, int captum, size_t m);
