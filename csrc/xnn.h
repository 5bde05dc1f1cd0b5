/* xnn.h: the C API of xnn's kernels.
 *
 * Plain C11, no Python. Every kernel returns XNN_OK or a negative XNN_E*
 * status and never prints or exits. Arrays are C-contiguous, row-major.
 * Names follow xnn_<op>_<pass>_<dtype>; arguments come in the order
 * outputs, saved values, inputs, weights, hyper-parameters, sizes.
 * Each kernel exists for float (_f32) and double (_f64); the declarations
 * below are written once and instantiated for both types.
 */
#ifndef XNN_DECLARE_PASS
#ifndef XNN_H
#define XNN_H

#include <stddef.h>
#include <stdint.h>

#define XNN_OK 0
#define XNN_EINVAL (-1)   /* an argument out of its domain */
#define XNN_ENOMEM (-2)   /* a workspace could not be allocated */

/* Activations, applied element-wise (softmax: along each row). */
enum { XNN_ACT_LINEAR = 0, XNN_ACT_RELU = 1, XNN_ACT_TANH = 2,
       XNN_ACT_SIGMOID = 3, XNN_ACT_SOFTMAX = 4 };

/* Losses over rows of class scores P (after the output activation). */
enum { XNN_LOSS_CROSS_ENTROPY = 0,   /* -log p[label], softmax outputs      */
       XNN_LOSS_BINARY_CROSS_ENTROPY = 1, /* -sum y log p + (1-y) log(1-p)  */
       XNN_LOSS_SSR = 2 };            /* 0.5 * sum (y - p)^2                */

/* Optimizers. */
enum { XNN_OPT_SGD = 0, XNN_OPT_MOMENTUM = 1, XNN_OPT_ADAM = 2 };

/* Instruction sets of the GEMM micro-kernels. */
enum { XNN_ISA_REF = 0, XNN_ISA_AVX2 = 1, XNN_ISA_AVX512 = 2 };

/* cpu.c: the instruction set chosen once (XNN_ISA=ref|avx2|avx512 forces
 * one the machine has); the number of threads kernels may use. */
int xnn_isa(void);
const char *xnn_isa_name(int isa);
int xnn_set_isa(int isa);            /* XNN_EINVAL if the CPU lacks it */
int xnn_cpu_has(int isa);
void xnn_set_num_threads(int n);
int xnn_get_num_threads(void);

/* A dense layer of a network: Y = act(X W + b), then dropout. */
typedef struct xnn_layer {
    size_t n_in, n_out;
    int act;              /* XNN_ACT_* */
    double keep;          /* dropout keep probability in (0, 1]; 1 = none */
    void *W;              /* (n_in, n_out) */
    void *b;              /* (n_out) */
} xnn_layer;

/* Workspaces of one network for one batch size, allocated once by the
 * caller and reused by every training step. */
typedef struct xnn_workspace {
    size_t batch;         /* the largest batch of a step                   */
    size_t rows;          /* rows the buffers hold: a step runs in chunks  */
    void **A;             /* A[l]: (rows, n_out_l), activation of layer l   */
    void **D;             /* D[l]: (rows, n_out_l), A[l] after dropout,
                             or NULL when layer l has no dropout            */
    uint8_t **mask;       /* mask[l]: (rows, n_out_l), or NULL likewise     */
    void *dA, *dB;        /* (rows, widest layer) gradient ping-pong        */
    void **dW, **db;      /* gradients, shaped as W[l] and b[l]             */
    void **s1W, **s1b;    /* optimizer state 1 (momentum or Adam m)         */
    void **s2W, **s2b;    /* optimizer state 2 (Adam v)                     */
} xnn_workspace;

/* Hyper-parameters of one training step. */
typedef struct xnn_train_config {
    int loss;             /* XNN_LOSS_* */
    int optimizer;        /* XNN_OPT_* */
    double lr, momentum, beta1, beta2, eps;
    int nesterov;
    int64_t step;         /* 1-based step number (Adam's bias correction) */
    uint64_t seed;        /* dropout stream: mask bits depend on (seed, step, layer, index) */
} xnn_train_config;

/* The stream of dropout bits: a counter-based generator, so masks do not
 * depend on thread count or call order. Returns a uniform double in [0, 1). */
double xnn_uniform(uint64_t seed, uint64_t stream, uint64_t index);

/* Adam's bias corrections of step t: c = {1 / (1 - beta1^t), 1 / (1 - beta2^t)} */
void xnn_adam_corrections(double beta1, double beta2, int64_t t, double c[2]);

/* Explanations (saliency.c, relevance.c). The score an explanation starts
 * from, for the target class t of each row: the last layer's pre-activation
 * logit z_t, 1 (onehot), its output p_t (probability), or the cross-entropy
 * -log p_t of a softmax output (loss; gradients only). */
enum { XNN_START_LOGIT = 0, XNN_START_ONEHOT = 1, XNN_START_PROBABILITY = 2,
       XNN_START_LOSS = 3 };
/* How a gradient passes a ReLU backwards: plain (its derivative), guided
 * backprop (derivative and positive gradient), deconvnet (positive gradient). */
enum { XNN_GRAD_PLAIN = 0, XNN_GRAD_GUIDED = 1, XNN_GRAD_DECONVNET = 2 };
/* What xnn_mlp_gradient does to the input gradient last (flags). */
enum { XNN_FINISH_TIMES = 1, XNN_FINISH_ABS = 2 };
/* LRP rules (see relevance.c for their formulas). */
enum { XNN_LRP_ZERO = 0, XNN_LRP_EPSILON = 1, XNN_LRP_GAMMA = 2, XNN_LRP_ALPHABETA = 3,
       XNN_LRP_ZBOX = 4, XNN_LRP_FLAT = 5, XNN_LRP_WSQUARE = 6 };

/* The rule of one dense layer and its parameters. */
typedef struct xnn_lrp_rule {
    int rule;             /* XNN_LRP_* */
    double epsilon;       /* stabiliser, added with the denominator's sign */
    double gamma;         /* gamma >= 0 */
    double alpha, beta;   /* alpha, beta >= 0 */
    const void *low;      /* zbox: lowest input values (n_in), the layer's dtype */
    const void *high;     /* zbox: highest input values (n_in) */
} xnn_lrp_rule;

/* Workspace sizes, in elements of the network's dtype, for m rows:
 * the forward of an explanation (Z and A of every layer), a gradient
 * (path = 1 for xnn_mlp_gradient_sum) and LRP. */
size_t xnn_explain_forward_size(const xnn_layer *layers, size_t n_layers, size_t m);
size_t xnn_gradient_workspace_size(const xnn_layer *layers, size_t n_layers, size_t m,
                                   int path);
size_t xnn_lrp_workspace_size(const xnn_layer *layers, size_t n_layers, size_t m);

#define XNN_DECLARE_PASS
#define XNN_T float
#define XNN_FN(f) f##_f32
#include "xnn.h"
#undef XNN_T
#undef XNN_FN
#define XNN_T double
#define XNN_FN(f) f##_f64
#include "xnn.h"
#undef XNN_T
#undef XNN_FN
#undef XNN_DECLARE_PASS

#endif /* XNN_H */
#else  /* XNN_DECLARE_PASS: the typed declarations, read once per dtype */

/* ---- check.c ---------------------------------------------------------- */
/* the index of the first NaN or infinity of x (n), or n when all are finite */
size_t XNN_FN(xnn_first_nonfinite)(const XNN_T *x, size_t n);

/* ---- gemm/ ------------------------------------------------------------ */
/* C (m,n) = op(A) (m,k) . op(B) (k,n) + beta * C
 * op(A) = A stored (m,k), or A^T with A stored (k,m) when trans_a;
 * op(B) = B stored (k,n), or B^T with B stored (n,k) when trans_b.
 * beta = 0 overwrites C (its old contents may be NaN). */
int XNN_FN(xnn_gemm)(XNN_T *C, const XNN_T *A, const XNN_T *B, XNN_T beta,
                     int trans_a, int trans_b, size_t m, size_t n, size_t k);

/* ---- dense.c ---------------------------------------------------------- */
/* Y (m,n) = act(X (m,k) . W (k,n) + b (n)); b may be NULL */
int XNN_FN(xnn_dense_forward)(XNN_T *Y, const XNN_T *X, const XNN_T *W,
                              const XNN_T *b, int act, size_t m, size_t k, size_t n);
/* db (n) = sum over rows of dZ (m,n), row by row in increasing order;
 * add: db += that sum, continuing the same order of additions */
void XNN_FN(xnn_bias_grad)(XNN_T *db, const XNN_T *dZ, size_t m, size_t n, int add);
/* dX (m,k) = dZ . W^T   (skipped when dX is NULL)
 * dW (k,n) = X^T . dZ
 * db (n)   = sum over rows of dZ   (skipped when db is NULL)
 * from dZ (m,n), X (m,k), W (k,n) */
int XNN_FN(xnn_dense_backward)(XNN_T *dX, XNN_T *dW, XNN_T *db, const XNN_T *dZ,
                               const XNN_T *X, const XNN_T *W,
                               size_t m, size_t k, size_t n);

/* ---- activation.c ----------------------------------------------------- */
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

/* ---- loss.c ----------------------------------------------------------- */
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

/* ---- optim.c ---------------------------------------------------------- */
/* W (n) -= lr * dW (n) */
int XNN_FN(xnn_sgd_update)(XNN_T *W, const XNN_T *dW, double lr, size_t n);
/* V = mu V + dW; W -= lr V   (nesterov: W -= lr (dW + mu V)); V, W (n) */
int XNN_FN(xnn_momentum_update)(XNN_T *W, XNN_T *V, const XNN_T *dW, double lr,
                                double mu, int nesterov, size_t n);
/* Adam (Kingma & Ba), step t >= 1: M, V (n) moments, W (n) */
int XNN_FN(xnn_adam_update)(XNN_T *W, XNN_T *M, XNN_T *V, const XNN_T *dW, double lr,
                            double beta1, double beta2, double eps, int64_t t, size_t n);
/* One step of cfg's optimizer on w (n) with gradient g (n) and its state
 * s1 (momentum's V, Adam's M) and s2 (Adam's V), unused ones may be NULL;
 * c from xnn_adam_corrections(cfg->beta1, cfg->beta2, cfg->step, c). The
 * same bits as the whole-array updates above, for any split of the range. */
int XNN_FN(xnn_optimizer_step)(const xnn_train_config *cfg, const double c[2], XNN_T *w,
                               const XNN_T *g, XNN_T *s1, XNN_T *s2, size_t n);

/* ---- network.c -------------------------------------------------------- */
/* Y (k, n) = X[rows] and ly (k) = labels[rows] for rows (k) of X (m, n),
 * labels (m); the caller has checked 0 <= rows[i] < m */
int XNN_FN(xnn_gather_rows)(XNN_T *Y, int64_t *ly, const XNN_T *X, const int64_t *labels,
                            const int64_t *rows, size_t k, size_t n);
/* Inference: outs[l] (m, n_out_l) = output of layer l for X (m, n_in_0),
 * no dropout. outs[l] may be the same buffer for alternate layers only if
 * the caller needs just the last one (ping-pong). */
int XNN_FN(xnn_mlp_forward)(void *const *outs, const XNN_T *X, const xnn_layer *layers,
                            size_t n_layers, size_t m);
/* One training step on X (m, n_in_0) with labels (m): forward with
 * dropout, loss statistics added to stats[3] (see xnn_loss_forward),
 * backward with every gradient divided by m, optimizer update of every
 * W and b in place. m <= ws->batch; the rows go through in chunks of
 * ws->rows, their gradients summed before the update. Should a product
 * fail for lack of memory during the update, some blocks of that layer's W
 * (and higher layers) are updated and others are not. */
int XNN_FN(xnn_mlp_train_step)(double stats[3], const xnn_workspace *ws,
                               const XNN_T *X, const int64_t *labels,
                               const xnn_layer *layers, size_t n_layers,
                               const xnn_train_config *cfg, size_t m);

/* ---- saliency.c ------------------------------------------------------- */
/* the class explained in row i: targets[i] (m), or when it is negative the
 * arg-max of row i of the logits Z (m, n) */
int64_t XNN_FN(xnn_explain_target)(const int64_t *targets, size_t i, const XNN_T *Z, size_t n);
/* C (m, n) = X (m, k) . W (k, n) + beta C: xnn_gemm, or for m = 1 a sum
 * over the non-zero x_p in increasing p */
int XNN_FN(xnn_times_w)(XNN_T *C, const XNN_T *X, const XNN_T *W, XNN_T beta,
                        size_t m, size_t n, size_t k);
/* C (m, k) = S (m, n) . W^T + beta C, W (k, n): xnn_gemm, or k dot products
 * over W's rows when m = 1 */
int XNN_FN(xnn_times_wt)(XNN_T *C, const XNN_T *S, const XNN_T *W, XNN_T beta,
                         size_t m, size_t k, size_t n);
/* C (m, k) = A (m, k) * (S (m, n) . W^T), W (k, n); one row skips a_j = 0 */
int XNN_FN(xnn_times_wt_scaled)(XNN_T *C, const XNN_T *S, const XNN_T *W, const XNN_T *A,
                                size_t m, size_t k, size_t n);
/* Forward of an explanation: work (xnn_explain_forward_size) holds, layer
 * after layer, Z[l] (m, n_out_l) = A[l-1] W_l + b_l and A[l] = act_l(Z[l]);
 * score (m) = the start score of targets (m) (XNN_START_*), or NULL. */
int XNN_FN(xnn_explain_forward)(XNN_T *score, XNN_T *work, const XNN_T *X,
                                const int64_t *targets, const xnn_layer *layers,
                                size_t n_layers, int output, size_t m);
/* dX (m, n_in_0) = d score / d X for X (m, n_in_0), targets (m); score (m)
 * or NULL; output XNN_START_LOGIT/PROBABILITY/LOSS; mode XNN_GRAD_*.
 * grads: NULL, or n_layers + 1 pointers of which grads[l] (m, n_in_l), 1 <=
 * l < n_layers, receives d score / d A[l-1] (layer l's input) and
 * grads[n_layers] (m, n_out_last) d score / d Z[L-1]; grads[0] is unused.
 * finish: XNN_FINISH_TIMES multiplies each by its layer's value (X, A[l-1],
 * Z[L-1]); XNN_FINISH_ABS then takes the absolute value of dX (a saliency
 * map), as each block of it is computed.
 * work: xnn_gradient_workspace_size(layers, n_layers, m, 0) elements. */
int XNN_FN(xnn_mlp_gradient)(XNN_T *dX, XNN_T *score, void *const *grads, XNN_T *work,
                             const XNN_T *X, const int64_t *targets, const xnn_layer *layers,
                             size_t n_layers, int output, int mode, int finish, size_t m);
/* noise (n) = sigma * N(0,1) from xnn_uniform(seed, stream, 2i), (.., 2i+1) */
int XNN_FN(xnn_gaussian_noise)(XNN_T *noise, double sigma, uint64_t seed, uint64_t stream,
                               size_t n);
/* G (m, n_in_0) = sum_s weights[s] * gradient(x_s), s < n_steps, where
 * x_s = B + alphas[s] (X - B) (B (m, n_in_0) or NULL for zeros) plus, when
 * sigma > 0, xnn_gaussian_noise(sigma, seed, stream s); then G *= X - B
 * when times_delta. grads: NULL or as in xnn_mlp_gradient, receiving the
 * same weighted sums of every layer's gradient (never times_delta).
 * work: xnn_gradient_workspace_size(.., m, 1) elements. */
int XNN_FN(xnn_mlp_gradient_sum)(XNN_T *G, void *const *grads, XNN_T *work, const XNN_T *X,
                                 const XNN_T *B, const int64_t *targets,
                                 const xnn_layer *layers, size_t n_layers,
                                 const double *alphas, const double *weights, size_t n_steps,
                                 double sigma, uint64_t seed, int output, int mode,
                                 int times_delta, size_t m);

/* ---- relevance.c ------------------------------------------------------ */
/* LRP of X (m, n_in_0) for targets (m): rel[l] (m, n_in_l) the relevance
 * of layer l's input for l < n_layers, rel[n_layers] (m, n_out_last) the
 * start relevance (XNN_START_LOGIT/ONEHOT/PROBABILITY of the target, zero
 * elsewhere); rules[l] the rule of layer l (zbox only for l = 0); bias = 0
 * drops the bias from every denominator. work: xnn_lrp_workspace_size. */
int XNN_FN(xnn_mlp_lrp)(void *const *rel, XNN_T *work, const XNN_T *X, const int64_t *targets,
                        const xnn_layer *layers, const xnn_lrp_rule *rules, size_t n_layers,
                        int start, int bias, size_t m);

#endif /* XNN_DECLARE_PASS */
