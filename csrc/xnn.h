/* xnn.h: the C API of xnn's kernels.
 *
 * Plain C11, no Python. Every kernel returns XNN_OK or a negative XNN_E*
 * status and never prints or exits. Arrays are C-contiguous, row-major;
 * images are NCHW (one row of a batch is a (C, H, W) block), 1-D signals
 * NCL, stored as NCHW with H = 1. Names follow xnn_<op>_<pass>_<dtype>;
 * arguments come in the order outputs, saved values, inputs, weights,
 * hyper-parameters, sizes. Each typed kernel exists for float (_f32) and
 * double (_f64): xnn_typed.h declares them once and core/template.h
 * instantiates the declarations for both types.
 *
 * A network is an array of nodes (xnn_node). Each node's op supplies its
 * forward, backward and, for the linear ops (dense, conv), the product
 * Z = f(A; W, b) and its transpose f^T(S; W) on which every relevance rule
 * is written (layers/op.h). A plan (plan.c) lays out, once per network and
 * number of rows, every node's values, saved data and scratch in one
 * arena; the drivers (train/step.c, explain/) walk the nodes.
 */
#ifndef XNN_H
#define XNN_H

#include <stddef.h>
#include <stdint.h>

#define XNN_OK 0
#define XNN_EINVAL (-1)   /* an argument out of its domain */
#define XNN_ENOMEM (-2)   /* a workspace could not be allocated */

/* Activations fused into a node, applied element-wise (softmax: along a
 * row, last node only). */
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

/* The ops of a node. A 1-D op is its 2-D op with H = 1 (Conv1d is a
 * Conv2d with a 1 x k kernel, stride and padding 1 x s and 0 x p). */
enum { XNN_OP_DENSE = 0,     /* Y = act(X W + b), W (n_in, n_out)              */
       XNN_OP_CONV = 1,      /* Y = act(conv(X, W) + b), W (O, C, kh, kw)      */
       XNN_OP_MAXPOOL = 2,   /* max over kh x kw windows, stride sh x sw       */
       XNN_OP_AVGPOOL = 3,   /* mean over the windows                          */
       XNN_OP_GLOBAL_AVGPOOL = 4, /* mean over H x W: (C, H, W) -> (C, 1, 1)   */
       XNN_OP_FLATTEN = 5,   /* (C, H, W) -> (C H W, 1, 1), the same memory    */
       XNN_OP_COUNT = 6 };

/* The score an explanation starts from, for the target t of each row: the
 * last node's pre-activation logit z_t, 1 (onehot), its output p_t
 * (probability), or the cross-entropy -log p_t of a softmax output (loss;
 * gradients only). Started at a hidden node, the score is that node's
 * output (after its activation) at unit t, or the mean over positions of
 * channel t for an image-shaped output; the output code is then
 * XNN_START_LOGIT. */
enum { XNN_START_LOGIT = 0, XNN_START_ONEHOT = 1, XNN_START_PROBABILITY = 2,
       XNN_START_LOSS = 3 };
/* How a gradient passes a ReLU backwards: plain (its derivative), guided
 * backprop (derivative and positive gradient), deconvnet (positive gradient). */
enum { XNN_GRAD_PLAIN = 0, XNN_GRAD_GUIDED = 1, XNN_GRAD_DECONVNET = 2 };
/* What xnn_explain_gradient does to the input gradient last (flags). */
enum { XNN_FINISH_TIMES = 1, XNN_FINISH_ABS = 2 };
/* LRP rules of the linear ops (explain/lrp.c has their formulas). */
enum { XNN_LRP_ZERO = 0, XNN_LRP_EPSILON = 1, XNN_LRP_GAMMA = 2, XNN_LRP_ALPHABETA = 3,
       XNN_LRP_ZBOX = 4, XNN_LRP_FLAT = 5, XNN_LRP_WSQUARE = 6,
       XNN_LRP_GENERALIZED_GAMMA = 7 };
/* How LRP passes max pooling: all relevance of a window to its maximum
 * (winner takes all), or in proportion to the inputs (norm). */
enum { XNN_POOL_WTA = 0, XNN_POOL_NORM = 1 };
/* Class activation maps (explain/cam.c). */
enum { XNN_CAM_GRAD = 0,      /* Grad-CAM: channel weights the mean gradient       */
       XNN_CAM_GRAD_PLUS = 1, /* Grad-CAM++                                          */
       XNN_CAM_CLASS = 2 };   /* CAM: the weights of the dense layer after a global pool */
/* Resampling of maps (explain/cam.c), as torch.nn.functional.interpolate. */
enum { XNN_RESIZE_LINEAR = 0,  /* (bi)linear, align_corners = False */
       XNN_RESIZE_NEAREST = 1 };

/* ---- core/cpu.c: instruction set and threads --------------------------- */
/* the instruction set chosen once (XNN_ISA=ref|avx2|avx512 forces one the
 * machine has); the number of threads kernels may use */
int xnn_isa(void);
const char *xnn_isa_name(int isa);
int xnn_set_isa(int isa);            /* XNN_EINVAL if the CPU lacks it */
int xnn_cpu_has(int isa);
void xnn_set_num_threads(int n);     /* n <= 0: every core; releases extra workers */
int xnn_get_num_threads(void);

/* ---- core/random.c: counter-based random numbers ------------------------ */
/* a uniform double in [0, 1) determined by (seed, stream, index) alone, so
 * draws do not depend on thread count or call order */
double xnn_uniform(uint64_t seed, uint64_t stream, uint64_t index);
/* sigma * N(0, 1) from xnn_uniform(seed, stream, 2 index) and (..., 2 index + 1),
 * Box-Muller in double precision */
double xnn_normal(double sigma, uint64_t seed, uint64_t stream, uint64_t index);

/* ---- the network ------------------------------------------------------- */

/* A node of a network: its op, the shapes of one row of its input and
 * output (channels, height, width; a dense row is (n, 1, 1)), its fused
 * activation and dropout, its parameters and hyper-parameters. */
typedef struct xnn_node {
    int op;                     /* XNN_OP_* */
    int act;                    /* XNN_ACT_*; XNN_ACT_LINEAR for pooling, flatten */
    double keep;                /* dropout keep probability in (0, 1]; 1: none */
    size_t in_c, in_h, in_w;    /* the input of one row */
    size_t out_c, out_h, out_w; /* the output of one row */
    size_t kh, kw;              /* kernel (conv, pooling) */
    size_t sh, sw;              /* stride */
    size_t ph, pw;              /* zero padding (conv) */
    void *W;                    /* dense (in, out); conv (out_c, in_c, kh, kw); else NULL */
    void *b;                    /* (out_c) or NULL */
    /* the op's weights prepared from W (layers/op_typed.h: prep_bytes,
       prepare), or NULL: the kernels prepare what they need per call. A
       caller that sets it keeps it what prepare makes of the current W. */
    const void *prep;
} xnn_node;

size_t xnn_node_in(const xnn_node *n);        /* elements of one input row */
size_t xnn_node_out(const xnn_node *n);       /* elements of one output row */
size_t xnn_node_weights(const xnn_node *n);   /* elements of W (0 without) */
int xnn_node_linear(const xnn_node *n);       /* dense or conv */
/* XNN_OK when the node's shapes, hyper-parameters and parameters agree
 * (out follows from in, kernel, stride and padding); XNN_EINVAL else */
int xnn_node_check(const xnn_node *n);
/* XNN_OK when nodes[l] feeds nodes[l + 1] for every l and the network is
 * well formed (softmax only last, no dropout on the last node) */
int xnn_network_check(const xnn_node *nodes, size_t n);
/* Elements of scratch for xnn_explain_cam's fold (0: none applies): Grad-CAM
 * on node `layer` followed by a pooling, flattens and a dense node, whose
 * weights summed over each channel's pooled positions stand in for the
 * dense node's transpose. */
size_t xnn_explain_cam_fold(const xnn_node *nodes, size_t n, size_t layer, int kind);

/* ---- plan.c: where everything lives ------------------------------------ */

/* What a plan provides (flags). */
enum { XNN_PLAN_TRAIN = 1,      /* outputs, dropout, saved data, gradients   */
       XNN_PLAN_EXPLAIN = 2,    /* pre-activations and outputs, gradients    */
       XNN_PLAN_LRP = 4,        /* with EXPLAIN: the rules' buffers          */
       XNN_PLAN_PATH = 8 };     /* with EXPLAIN: the path sums' buffers      */

#define XNN_PLAN_NONE ((size_t)-1)   /* an offset of a buffer that is not there */

/* The buffers of one node, as byte offsets into the arena. y is the
 * output after the activation, z the pre-activation (XNN_PLAN_EXPLAIN;
 * z == y when the activation is linear), d the output after dropout and
 * mask its bits (training with dropout), saved what the op keeps for its
 * backward (conv's unfolded input, pooling's arg-max). Flatten's y is its
 * input's memory. */
typedef struct xnn_plan_node {
    size_t y, z, d, mask, saved;
} xnn_plan_node;

typedef struct xnn_plan {
    int flags;
    size_t elem;                /* bytes of one element: 4 or 8 */
    size_t rows;                /* rows of a chunk: larger batches run in chunks */
    size_t n;                   /* nodes */
    size_t grad[2];             /* two gradient buffers: rows x the widest node */
    size_t targets;             /* (rows) int64: the resolved targets of a chunk */
    size_t scratch;             /* the ops' scratch: scratch_bytes bytes, */
    size_t scratch_bytes;       /* in `threads` slices */
    int threads;
    /* XNN_PLAN_LRP: modified weights (2 x the largest W), biases (2 x the
       widest channel count), three (rows, widest output) and five (rows,
       widest input) buffers, a row of ones (widest input) and three
       output rows */
    size_t lrp_w, lrp_b, lrp_out, lrp_in, lrp_one;
    /* XNN_PLAN_PATH: x_s (rows, input), the first linear node's product of
       X and of the baseline, and the weighted sum of d score / d Z there
       (or of the input gradients, rows x the wider of the two) */
    size_t path_x, path_xw, path_bw, path_g0;
    /* a forward (flags 0): its leading nodes before the first dense one,
       when they hold a convolution, run one image at a time on each
       thread (train/step.c), in `threads` slices of front_slice bytes at
       front: two buffers of the widest of their outputs, then the scratch
       of one image; and, at front_prep, the weights their ops prepare
       once for all the images (layers/op_typed.h) */
    size_t front_n, front, front_slice, front_buf, front_prep;
    size_t bytes;               /* size of the arena */
    xnn_plan_node node[];       /* n of them */
} xnn_plan;

/* bytes of an xnn_plan for n nodes */
size_t xnn_plan_size(size_t n);
/* Fill plan for the network, rows of at most max_rows per chunk (chosen
 * so that the arena stays within budget bytes, at least 1 row), flags,
 * an element size of elem bytes and at most threads threads. */
int xnn_plan_make(xnn_plan *plan, const xnn_node *nodes, size_t n, size_t max_rows,
                  size_t budget, int flags, size_t elem, int threads);
/* Where the training step's backward puts d loss / d (node l's input),
 * for 0 < l < n: 2 = over node l-1's output y, which is then dead (node l
 * is a max pool, whose backward reads neither that output nor, through a
 * ReLU, the mask: the arg-max carries it; node l-1 is no flatten, has no
 * dropout, and a ReLU or linear activation), else 0 or 1 = that gradient
 * buffer, the one d loss / d (node l's output) is not in (*cur: 0, 1 or 2,
 * updated). The plan's two gradient buffers are sized by the same walk. */
int xnn_plan_grad_next(const xnn_node *nodes, size_t n, size_t l, int *cur);
/* the buffer at offset off of the arena, or NULL for XNN_PLAN_NONE */
static inline void *xnn_plan_at(void *arena, size_t off)
{
    return off == XNN_PLAN_NONE ? NULL : (char *)arena + off;
}

/* ---- training ---------------------------------------------------------- */

/* Hyper-parameters of one training step. */
typedef struct xnn_train_config {
    int loss;             /* XNN_LOSS_* */
    int optimizer;        /* XNN_OPT_* */
    double lr, momentum, beta1, beta2, eps;
    int nesterov;
    int64_t step;         /* 1-based step number (Adam's bias correction) */
    uint64_t seed;        /* dropout stream: mask bits depend on (seed, step, node, index) */
} xnn_train_config;

/* A parametric node's gradients and optimizer state, shaped as its W and
 * b (NULL for a node without parameters, and for unused states). */
typedef struct xnn_grads {
    void *dW, *db;
    void *s1W, *s1b;      /* momentum's V, Adam's M */
    void *s2W, *s2b;      /* Adam's V */
} xnn_grads;

/* Adam's bias corrections of step t: c = {1 / (1 - beta1^t), 1 / (1 - beta2^t)} */
void xnn_adam_corrections(double beta1, double beta2, int64_t t, double c[2]);

/* ---- explanations ------------------------------------------------------ */

/* The rule of one linear node and its parameters. */
typedef struct xnn_lrp_rule {
    int rule;             /* XNN_LRP_* */
    double epsilon;       /* stabiliser, added with the denominator's sign */
    double gamma;         /* gamma >= 0 */
    double alpha, beta;   /* alpha, beta >= 0 */
    const void *low;      /* zbox: lowest input values (one input row), the dtype */
    const void *high;     /* zbox: highest input values */
} xnn_lrp_rule;

/* Where an explanation starts: the node whose output gives the score
 * (n - 1 for the network's output) and the score (XNN_START_*). */
typedef struct xnn_start {
    size_t node;
    int output;
} xnn_start;

#define XNN_SELF "xnn_typed.h"
#include "core/template.h"

#endif /* XNN_H */
