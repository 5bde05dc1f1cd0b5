/* op_typed.h: the typed part of op.h (instantiated by core/template.h). */

/* the optimizer step a backward applies to W and b once dW and db are
   complete (the last chunk of a training step) */
typedef struct XNN_FN(xnn_update) {
    const xnn_train_config *cfg;
    const double *corr;           /* Adam's corrections of the step */
    const xnn_grads *g;           /* the node's gradients and optimizer state */
} XNN_FN(xnn_update);

typedef struct XNN_FN(xnn_op) {
    size_t (*saved)(const xnn_node *n, size_t m, int flags);
    size_t (*scratch)(const xnn_node *n, size_t m, int flags, int threads);
    int (*forward)(XNN_T *Y, XNN_T *Z, void *saved, void *work, const XNN_T *X,
                   const xnn_node *n, int flags, int threads, size_t m);
    int (*backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, void *work, const XNN_T *dZ,
                    const void *saved, const XNN_T *X, const XNN_T *relu, const xnn_node *n,
                    const XNN_FN(xnn_update) *update, int add, int threads, size_t m);
    int (*product)(XNN_T *Z, void *work, const XNN_T *A, const XNN_T *W, const XNN_T *b,
                   const xnn_node *n, int threads, size_t m);
    int (*transpose)(XNN_T *C, void *work, const XNN_T *S, const XNN_T *A, const XNN_T *W,
                     int absolute, const xnn_node *n, int threads, size_t m);
    int (*relevance)(XNN_T *Rin, void *work, const XNN_T *R, const XNN_T *X, const XNN_T *Y,
                     const void *saved, const xnn_node *n, int pool, XNN_T eps, int threads,
                     size_t m);
    /* one unit per row (row i's channel units[i] of a conv), where only
       that unit is wanted; NULL, or unit_ok(n) false, where the op has no
       such path.
         unit_forward    Y (m, P) = act(Z), Z (m, P) (Z NULL: not kept):
                         unit units[i] of row i alone
         unit_transpose  C (m, in) = the product's transpose on that unit
                         alone, from S (m, P); times A (m, in) when A, |.| */
    int (*unit_ok)(const xnn_node *n);
    int (*unit_forward)(XNN_T *Y, XNN_T *Z, void *work, const XNN_T *X, const int64_t *units,
                        const xnn_node *n, int threads, size_t m);
    int (*unit_transpose)(XNN_T *C, void *work, const XNN_T *S, const XNN_T *A,
                          const int64_t *units, int absolute, const xnn_node *n, int threads,
                          size_t m);
    /* the node and the max pooling p after it in one pass, which never
       stores the node's own output: Y (m, out of p) = p(act(f(X))), and
       the pooling's saved arg-max in `saved` when not NULL (training);
       NULL, or pool_ok(n, p) false, where the op has none */
    int (*pool_ok)(const xnn_node *n, const xnn_node *p);
    int (*pool_forward)(XNN_T *Y, void *saved, void *work, const XNN_T *X, const xnn_node *n,
                        const xnn_node *p, int threads, size_t m);
    /* weights prepared from W once for many uses: prep_bytes(n) bytes (a
       multiple of 64; 0: nothing to prepare) made by prepare(prep, n,
       threads). The forward, pool_forward and backward use n->prep when
       it is set (the binding keeps it for the network's W between calls);
       image_forward(Y, prep, ...), one image on one thread (the forward's
       front, train/step.c), is forward (p NULL) or pool_forward of one
       image from prep; NULL where the op has no such path */
    size_t (*prep_bytes)(const xnn_node *n);
    void (*prepare)(void *prep, const xnn_node *n, int threads);
    int (*image_forward)(XNN_T *Y, const void *prep, void *work, const XNN_T *X,
                         const xnn_node *n, const xnn_node *p);
    /* the max pooling p after the node and the node's transpose in one
       pass (explanations' gradients, LRP's flat rule), which never stores
       p's dX: C (m, in) = f^T(p's backward of S (m, out of p) to its
       arg-max `saved`, through the node's ReLU; W, or the node's own
       weights when NULL), times [relu > 0] when relu, times A when A, |.|
       when absolute; NULL, or pool_back_ok(n, p, own) false (own: for the
       node's own weights, else for others), where the op has none */
    int (*pool_back_ok)(const xnn_node *n, const xnn_node *p, int own);
    int (*pool_transpose)(XNN_T *C, void *work, const XNN_T *S, const void *saved,
                          const XNN_T *W, const XNN_T *A, const XNN_T *relu, int absolute,
                          const xnn_node *n, const xnn_node *p, int threads, size_t m);
    /* the product as the forward makes it (a conv's Winograd tiles where
       they apply), whose rounding may carry a sum of products of one sign
       that is 0 or near 0 to the other sign (product's never does); NULL
       where it is product */
    int (*product_tiles)(XNN_T *Z, void *work, const XNN_T *A, const XNN_T *W, const XNN_T *b,
                         const xnn_node *n, int threads, size_t m);
    /* transpose, summed over S's nonzeros alone: for an S of few nonzeros
       (one in each window or fewer: under a winner-take-all max pooling
       whose windows are apart); NULL where the op has none */
    int (*transpose_sparse)(XNN_T *C, void *work, const XNN_T *S, const XNN_T *A,
                            const XNN_T *W, int absolute, const xnn_node *n, int threads,
                            size_t m);
} XNN_FN(xnn_op);

/* the op of code op (XNN_OP_*), or NULL */
const XNN_FN(xnn_op) *XNN_FN(xnn_op_get)(int op);

extern const XNN_FN(xnn_op) XNN_FN(xnn_dense_op);
extern const XNN_FN(xnn_op) XNN_FN(xnn_conv_op);
extern const XNN_FN(xnn_op) XNN_FN(xnn_maxpool_op);
extern const XNN_FN(xnn_op) XNN_FN(xnn_avgpool_op);
extern const XNN_FN(xnn_op) XNN_FN(xnn_global_avgpool_op);
extern const XNN_FN(xnn_op) XNN_FN(xnn_flatten_op);

/* y (Ho, Wo) = node n's max pooling of one plane x whose rows are ld
   apart; its arg-max in a (Ho, Wo) when a is not NULL; x read as
   max(x + *relu_bias, 0) when relu_bias is not NULL (layers/pool.c) */
void XNN_FN(xnn_maxpool_plane)(XNN_T *restrict y, int32_t *restrict a, const XNN_T *x, size_t ld,
                               const xnn_node *n, const XNN_T *relu_bias);
/* its backward: the plane dx (in_h, in_w), rows rs apart, set from dy (Ho,
   Wo) at the arg-max a (the pooling's saved data), 0 elsewhere; relu: the
   pooling reads a ReLU's output, an arg-max < 0 passes 0 (layers/pool.c) */
void XNN_FN(xnn_maxunpool_plane)(XNN_T *restrict dx, size_t rs, const XNN_T *restrict dy,
                                 const int32_t *restrict a, const xnn_node *n, int relu);

/* the optimizer's step on a node's W and b (train/optim.c) */
int XNN_FN(xnn_update_params)(const XNN_FN(xnn_update) *u, const xnn_node *n);
