/* step.c: a network's inference and training step, walking its nodes.
 *
 * One call runs every node, so Python crosses into C once per batch.
 *
 *   inference for l: Y_l = node_l(Y_{l-1}); a conv and the max pooling
 *             after it in one pass (pool_forward: the conv's output is
 *             never stored); with two images a thread or more, the nodes
 *             before the first dense one image by image on each thread,
 *             so that an image's values stay in its core's cache (the
 *             dense layers then take the whole chunk)
 *   forward   for l: Y_l = node_l(In_l); D_l = dropout(Y_l); a conv
 *             (ReLU or linear, no dropout) and its max pooling in one
 *             pass too: the backward reads the pooling's arg-max, never
 *             the conv's output
 *             where In_0 = X and In_l = D_{l-1} (Y_{l-1} without dropout)
 *   loss      statistics of Y_{n-1}; dZ = (1/m) d loss / d Z_{n-1}
 *   backward  for l = n-1 .. 0:
 *                 dIn, dW_l, db_l = node_l's backward of dZ, then its update
 *                 dZ = act'_{l-1}(dropout'(dIn))
 *
 * An op applies the ReLU derivative of the node below to the dIn it makes
 * (when that node has no dropout), and steps the optimizer on its W and b
 * in the last chunk of the step once their gradients are complete (dense
 * does it per finished block of dW, inside the GEMM). A batch larger than
 * the plan's rows goes through in chunks, their gradients summed; every
 * chunk runs with the weights of before the step: a node's dIn is made
 * before its W changes, and W changes only in the last chunk.
 */
#ifndef XNN_T
#include <string.h>
#include "xnn.h"
#include "core/atomic.h"
#include "core/parallel.h"
#include "layers/op.h"
#define XNN_SELF "train/step.c"
#include "core/template.h"
#else

typedef struct {
    XNN_T *Y;
    int64_t *ly;
    const XNN_T *X;
    const int64_t *labels, *rows;
    size_t n;
} XNN_FN(gather_ctx);

/* rows [i0, i1) of a gather; the next row is fetched while one is copied
   (the rows are scattered over X, so the hardware cannot guess it) */
static void XNN_FN(gather_range)(void *p, size_t i0, size_t i1)
{
    const XNN_FN(gather_ctx) *c = (const XNN_FN(gather_ctx) *)p;
    const size_t n = c->n;
    for (size_t i = i0; i < i1; i++) {
#if defined(__GNUC__) || defined(__clang__)
        if (i + 1 < i1) {
            const char *next = (const char *)(c->X + (size_t)c->rows[i + 1] * n);
            for (size_t b = 0; b < n * sizeof(XNN_T); b += 64) __builtin_prefetch(next + b);
        }
#endif
        memcpy(c->Y + i * n, c->X + (size_t)c->rows[i] * n, n * sizeof(XNN_T));
        c->ly[i] = c->labels[c->rows[i]];
    }
}

/* Y (k, n) = X[rows], ly (k) = labels[rows]: a shuffled minibatch, gathered
   by every thread (a range of rows each) */
int XNN_FN(xnn_gather_rows)(XNN_T *Y, int64_t *ly, const XNN_T *X, const int64_t *labels,
                            const int64_t *rows, size_t k, size_t n)
{
    XNN_FN(gather_ctx) c = {Y, ly, X, labels, rows, n};
    xnn_parallel_range(XNN_FN(gather_range), &c, k, k * n);
    return XNN_OK;
}

#define AT(off) ((XNN_T *)xnn_plan_at(arena, (off)))

static int XNN_FN(threads_of)(const xnn_plan *plan)
{
    const int t = xnn_get_num_threads();
    return t < plan->threads ? t : plan->threads;
}

/* whether node l and the max pooling after it (before node `end`) run as
   one pass (op's pool_forward); in training (train) only where the
   backward never reads node l's output: without dropout, its activation
   ReLU (whose derivative the pooling's arg-max carries) or linear */
static int XNN_FN(pool_next)(const XNN_FN(xnn_op) *op, const xnn_node *nodes, size_t l, size_t end,
                             int train)
{
    const xnn_node *a = &nodes[l];
    if (train && (a->keep < 1 || (a->act != XNN_ACT_RELU && a->act != XNN_ACT_LINEAR))) return 0;
    return l + 1 < end && op->pool_ok && op->pool_ok(a, &nodes[l + 1]);
}

/* The leading nodes [0, f) of a forward, image by image: each of the T
   slices claims FRONT_CLAIM images at a time until none are left (a
   thread that starts late or runs slower takes fewer) and takes each
   through every node in the slice's two buffers (its values stay in the
   core's cache), the last node's output in Y. Every op computes an image
   alone the same way in a batch, so the values are those of the
   node-by-node forward, whichever thread made them. */
#define FRONT_CLAIM 4

typedef struct {
    XNN_T *Y;
    char *slices, *prep;        /* the slices; the weights prepared for the front */
    const XNN_T *X;
    const xnn_node *nodes;
    size_t f, mc, T, slice, buf;
    size_t in0, outf, last;     /* a row of X and of Y; the last node that computes */
    XNN_ATOMIC_SIZE next;       /* the first image not yet claimed */
    int status;                 /* written by slices on failure only */
} XNN_FN(front_job);

/* image i through the front's nodes [0, last) in the two buffers */
static void XNN_FN(front_image)(XNN_FN(front_job) *jb, XNN_T *const buf[2], void *work, size_t i)
{
    const size_t last = jb->last;
    const XNN_T *in = jb->X + i * jb->in0;
    const char *prep = jb->prep;
    int k = 0;                  /* the buffer the next output goes to */
    for (size_t l = 0; l < last; l++) {
        const xnn_node *a = &jb->nodes[l];
        if (a->op == XNN_OP_FLATTEN) continue;
        const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(a->op);
        const int pooled = XNN_FN(pool_next)(op, jb->nodes, l, last, 0);
        l += (size_t)pooled;
        XNN_T *y = l + 1 == last ? jb->Y + i * jb->outf : buf[k];
        int st;
        if (op->image_forward) {
            st = op->image_forward(y, a->prep ? a->prep : prep, work, in, a,
                                   pooled ? a + 1 : NULL);
            prep += op->prep_bytes(a);
        } else {
            st = pooled ? op->pool_forward(y, NULL, work, in, a, a + 1, 1, 1)
                        : op->forward(y, NULL, NULL, work, in, a, 0, 1, 1);
        }
        if (st != XNN_OK) jb->status = st;
        in = y;
        k ^= 1;
    }
}

static void XNN_FN(front_slice)(void *p, size_t t)
{
    XNN_FN(front_job) *jb = (XNN_FN(front_job) *)p;
    char *slice = jb->slices + t * jb->slice;
    XNN_T *const buf[2] = {(XNN_T *)slice, (XNN_T *)(slice + jb->buf)};
    void *work = slice + 2 * jb->buf;
    for (;;) {
        const size_t i0 = xnn_atomic_add_size(&jb->next, FRONT_CLAIM);
        if (i0 >= jb->mc) break;
        const size_t i1 = jb->mc - i0 < FRONT_CLAIM ? jb->mc : i0 + FRONT_CLAIM;
        for (size_t i = i0; i < i1; i++) XNN_FN(front_image)(jb, buf, work, i);
    }
}

#undef FRONT_CLAIM

/* outs[l] (m, out_l) where given; chunks of plan->rows rows */
int XNN_FN(xnn_network_forward)(void *const *outs, const xnn_plan *plan, void *arena,
                                const XNN_T *X, const xnn_node *nodes, size_t n, size_t m)
{
    if (n == 0 || plan->n != n || plan->elem != sizeof(XNN_T)) return XNN_EINVAL;
    const int threads = XNN_FN(threads_of)(plan);
    void *work = xnn_plan_at(arena, plan->scratch);
    const size_t in0 = xnn_node_in(&nodes[0]);
    /* the front image by image: when no output inside it is asked for and
       every thread gets two images or more (fewer: the nodes split their
       channels) */
    size_t f = plan->front_n;
    for (size_t l = 0; l + 1 < f; l++)
        if (outs && outs[l]) f = 0;
    for (size_t r0 = 0; r0 < m; r0 += plan->rows) {
        const size_t mc = m - r0 < plan->rows ? m - r0 : plan->rows;
        const XNN_T *in = X + r0 * in0;
        size_t l0 = 0;
        if (f && mc >= 2 * (size_t)threads) {
            const size_t out = xnn_node_out(&nodes[f - 1]);
            XNN_FN(front_job) jb;
            jb.Y = outs && outs[f - 1] ? (XNN_T *)outs[f - 1] + r0 * out
                                       : AT(plan->node[f - 1].y);
            jb.slices = (char *)xnn_plan_at(arena, plan->front);
            jb.prep = (char *)xnn_plan_at(arena, plan->front_prep);
            char *prep = jb.prep;
            for (size_t l = 0; l < f; l++) {
                const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(nodes[l].op);
                if (!op->prepare) continue;
                if (!nodes[l].prep) op->prepare(prep, &nodes[l], threads);
                prep += op->prep_bytes(&nodes[l]);
            }
            jb.X = in, jb.nodes = nodes, jb.f = f, jb.mc = mc, jb.T = (size_t)threads;
            jb.slice = plan->front_slice, jb.buf = plan->front_buf, jb.status = XNN_OK;
            jb.in0 = in0, jb.outf = out, jb.last = f;
            while (jb.last > 0 && nodes[jb.last - 1].op == XNN_OP_FLATTEN) jb.last--;
            xnn_atomic_store(&jb.next, 0);
            xnn_parallel_for(XNN_FN(front_slice), &jb, jb.T, threads);
            if (jb.status != XNN_OK) return jb.status;
            in = jb.Y;
            l0 = f;
        }
        for (size_t l = l0; l < n; l++) {
            const xnn_node *a = &nodes[l];
            const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(a->op);
            /* a node and its max pooling in one pass, where its own output
               is not asked for */
            const int pooled = !(outs && outs[l]) && XNN_FN(pool_next)(op, nodes, l, n, 0);
            l += (size_t)pooled;
            const size_t out = xnn_node_out(&nodes[l]);
            XNN_T *Y = outs && outs[l] ? (XNN_T *)outs[l] + r0 * out : AT(plan->node[l].y);
            if (a->op == XNN_OP_FLATTEN && !(outs && outs[l])) Y = (XNN_T *)in;
            int st = pooled ? op->pool_forward(Y, NULL, work, in, a, a + 1, threads, mc)
                            : op->forward(Y, NULL, xnn_plan_at(arena, plan->node[l].saved), work,
                                          in, a, 0, threads, mc);
            if (st != XNN_OK) return st;
            in = Y;
        }
    }
    return XNN_OK;
}

/* Forward, loss and backward of rows [r0, r0 + mc) of a step of m rows:
 * dW and db get these rows' part of the gradient (stored when first, added
 * otherwise); when last, each node's parameters are updated as soon as
 * their gradients are complete. */
static int XNN_FN(step_chunk)(double stats[3], const xnn_plan *plan, void *arena,
                              const xnn_grads *grads, const XNN_T *X, const int64_t *labels,
                              const xnn_node *nodes, size_t n, const xnn_train_config *cfg,
                              const double corr[2], int threads, size_t m, size_t r0,
                              size_t mc, int first, int last)
{
    void *work = xnn_plan_at(arena, plan->scratch);
    int st;
    /* forward */
    const XNN_T *in = X;
    for (size_t l = 0; l < n; l++) {
        const xnn_node *a = &nodes[l];
        const XNN_FN(xnn_op) *op = XNN_FN(xnn_op_get)(a->op);
        const int pooled = XNN_FN(pool_next)(op, nodes, l, n, 1);
        l += (size_t)pooled;
        const xnn_plan_node *pn = &plan->node[l];
        XNN_T *y = AT(pn->y);
        st = pooled ? op->pool_forward(y, xnn_plan_at(arena, pn->saved), work, in, a, a + 1,
                                       threads, mc)
                    : op->forward(y, NULL, xnn_plan_at(arena, pn->saved), work, in, a,
                                  XNN_PLAN_TRAIN, threads, mc);
        if (st != XNN_OK) return st;
        if (pn->d != XNN_PLAN_NONE) {
            /* mask bits by (step, node, element of the whole batch) */
            const uint64_t stream = (uint64_t)cfg->step * 4096u + l;
            const size_t out = xnn_node_out(&nodes[l]);
            st = XNN_FN(xnn_dropout_forward)(AT(pn->d), (uint8_t *)xnn_plan_at(arena, pn->mask),
                                             y, nodes[l].keep, cfg->seed, stream, r0 * out,
                                             mc * out);
            if (st != XNN_OK) return st;
            in = AT(pn->d);
        } else {
            in = y;
        }
    }

    /* loss */
    const xnn_node *top = &nodes[n - 1];
    const XNN_T *P = AT(plan->node[n - 1].y);
    const size_t n_out = xnn_node_out(top);
    st = XNN_FN(xnn_loss_forward)(stats, P, labels, cfg->loss, mc, n_out);
    if (st != XNN_OK) return st;
    XNN_T *const gbuf[2] = {AT(plan->grad[0]), AT(plan->grad[1])};
    XNN_T *dZ = gbuf[0];
    int cur = 0;   /* where dZ is: gbuf[0], gbuf[1], or 2, a node's y (xnn_plan_grad_next) */
    st = XNN_FN(xnn_loss_backward)(dZ, P, labels, cfg->loss, top->act, 1.0 / (double)m, mc,
                                   n_out);
    if (st != XNN_OK) return st;

    /* backward, last node first */
    for (size_t l = n; l-- > 0;) {
        const xnn_node *a = &nodes[l];
        const xnn_plan_node *below = l > 0 ? &plan->node[l - 1] : NULL;
        const XNN_T *lin = l == 0 ? X : AT(below->d != XNN_PLAN_NONE ? below->d : below->y);
        /* below a ReLU node without dropout the op applies its derivative */
        const int fused = l > 0 && nodes[l - 1].act == XNN_ACT_RELU && below->d == XNN_PLAN_NONE;
        const XNN_FN(xnn_update) u = {cfg, corr, &grads[l]};
        const int param = xnn_node_linear(a);
        XNN_T *dIn = NULL;
        if (l > 0) {
            const int at = xnn_plan_grad_next(nodes, n, l, &cur);
            dIn = at == 2 ? AT(below->y) : gbuf[at];
        }
        st = XNN_FN(xnn_op_get)(a->op)->backward(
            l > 0 ? dIn : NULL, param ? (XNN_T *)grads[l].dW : NULL,
            param ? (XNN_T *)grads[l].db : NULL, work, dZ, xnn_plan_at(arena, plan->node[l].saved),
            lin, fused ? AT(below->y) : NULL, a, param && last ? &u : NULL, !first, threads, mc);
        if (st != XNN_OK) return st;
        if (l == 0) break;
        const xnn_node *b = &nodes[l - 1];
        const size_t len = mc * xnn_node_out(b);
        if (below->d != XNN_PLAN_NONE) {
            st = XNN_FN(xnn_dropout_backward)(dIn, (const uint8_t *)xnn_plan_at(arena, below->mask),
                                              dIn, b->keep, len);
            if (st != XNN_OK) return st;
        }
        if (!fused && b->act != XNN_ACT_LINEAR) {
            st = XNN_FN(xnn_activation_backward)(dIn, AT(below->y), dIn, b->act, mc,
                                                 xnn_node_out(b));
            if (st != XNN_OK) return st;
        }
        dZ = dIn;
    }
    return XNN_OK;
}

int XNN_FN(xnn_train_step)(double stats[3], const xnn_plan *plan, void *arena,
                           const xnn_grads *grads, const XNN_T *X, const int64_t *labels,
                           const xnn_node *nodes, size_t n, const xnn_train_config *cfg,
                           size_t m)
{
    if (n == 0 || m == 0 || plan->n != n || plan->rows == 0 || !(plan->flags & XNN_PLAN_TRAIN) ||
        plan->elem != sizeof(XNN_T))
        return XNN_EINVAL;
    double corr[2] = {1.0, 1.0};
    if (cfg->optimizer == XNN_OPT_ADAM) {
        if (cfg->step < 1) return XNN_EINVAL;
        xnn_adam_corrections(cfg->beta1, cfg->beta2, cfg->step, corr);
    }
    const int threads = XNN_FN(threads_of)(plan);
    const size_t in0 = xnn_node_in(&nodes[0]);
    for (size_t r0 = 0; r0 < m; r0 += plan->rows) {
        const size_t mc = m - r0 < plan->rows ? m - r0 : plan->rows;
        int st = XNN_FN(step_chunk)(stats, plan, arena, grads, X + r0 * in0, labels + r0, nodes,
                                    n, cfg, corr, threads, m, r0, mc, r0 == 0, r0 + mc >= m);
        if (st != XNN_OK) return st;
    }
    return XNN_OK;
}

#undef AT
#endif
