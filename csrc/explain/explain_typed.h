/* explain_typed.h: the typed part of explain.h. */

/* the threads an explanation uses: the plan's scratch has slices for
   plan->threads */
int XNN_FN(xnn_explain_threads)(const xnn_plan *plan);

/* the input of node l for the chunk whose input is X: X itself for l = 0,
   else node l - 1's output in the plan */
const XNN_T *XNN_FN(xnn_explain_input)(const xnn_plan *plan, void *arena, const XNN_T *X,
                                       size_t l);

/* Forward of mc rows through nodes [0, upto]: z and y of each in the plan,
 * max pooling's arg-max in its saved buffer. With first_done, node f's
 * pre-activation already holds f(X; W) without the bias (a path sum made
 * it from products computed once); the nodes before f are flattens. */
int XNN_FN(xnn_explain_forward_chunk)(const xnn_plan *plan, void *arena, const XNN_T *X,
                                      const xnn_node *nodes, size_t upto, int first_done,
                                      size_t f, int threads, size_t mc);
/* the same forward (first_done 0) for a pass that reads only the values
 * of nodes keep and above (and every node's output as the next one's
 * input): a node before keep - 1 and the max pooling after it run as one
 * pass (layers/op_typed.h: pool_forward), which writes the pooling's
 * output alone, the same bits; where a plain gradient runs back through
 * them (no layer's gradient kept; the backward runs down to node back)
 * only a node with a ReLU, and the pass keeps the pooling's arg-max, all
 * that gradient reads; a max pooling below back keeps no arg-max; only
 * node upto keeps its pre-activation (the logits, at the top), the nodes
 * below write their outputs alone */
int XNN_FN(xnn_explain_forward_above)(const xnn_plan *plan, void *arena, const XNN_T *X,
                                      const xnn_node *nodes, size_t upto, size_t keep,
                                      size_t back, int threads, size_t mc);
/* the forward of LRP up to node upto: every node's output; the
 * pre-activations of node upto and of the linear nodes whose rule reads
 * it (the others' are not kept). With pool = XNN_POOL_WTA a ReLU node
 * followed by a max pooling it can join (and whose rule does not read its
 * pre-activation) keeps neither output: the pooling's output and arg-max
 * alone */
int XNN_FN(xnn_explain_forward_lrp)(const xnn_plan *plan, void *arena, const XNN_T *X,
                                    const xnn_node *nodes, size_t upto,
                                    const xnn_lrp_rule *rules, int pool, int threads, size_t mc);

/* after a forward: per row the target (targets[i], or the arg-max of the
   last node's pre-activation when negative) into resolved (mc), and the
   start score into score (mc) when not NULL */
int XNN_FN(xnn_explain_start_scores)(XNN_T *score, int64_t *resolved, const xnn_plan *plan,
                                     void *arena, const int64_t *targets, const xnn_node *nodes,
                                     size_t n, const xnn_start *start, size_t mc);

/* A hidden start whose op has a path for one unit per row (unit_ok, no
   per-node gradients asked): the start's forward makes row i's unit
   alone, its transpose takes the gradient on that unit alone */
int XNN_FN(xnn_explain_unit_start)(const xnn_node *nodes, size_t n, const xnn_start *start,
                                   void *const *grads);

/* the forward of such a start for mc rows: nodes [0, s) as usual, then the
   start's unit targets[i] of row i alone into its y, as (mc, P) rows;
   resolved (mc) = targets, score (mc) = each unit's mean when not NULL
   (the same sums as xnn_explain_start_scores) */
int XNN_FN(xnn_explain_unit_forward)(XNN_T *score, int64_t *resolved, const xnn_plan *plan,
                                     void *arena, const XNN_T *X, const int64_t *targets,
                                     const xnn_node *nodes, const xnn_start *start, int threads,
                                     size_t mc);

/* G (mc, out_s) = d score / d (the start node's pre-activation) for the
   resolved targets; top (mc, out_s) receives d score / d (its
   pre-activation, or output at a hidden node) when not NULL; mode
   XNN_GRAD_* for a hidden ReLU start node */
int XNN_FN(xnn_explain_start_gradient)(XNN_T *G, XNN_T *top, const xnn_plan *plan, void *arena,
                                       const int64_t *resolved, const xnn_node *nodes, size_t n,
                                       const xnn_start *start, int mode, size_t mc);

/* G (len) through the activation act of a node whose output is Y, in
   place, with ReLU passed as mode says (XNN_GRAD_*) */
int XNN_FN(xnn_explain_act_back)(XNN_T *G, const XNN_T *Y, int act, int mode, size_t mc,
                                 size_t out);

/* the backward of a chunk from G = d score / d Z_s (gradient.c): to the
   input (stop = 0, into dX), or to node stop's input (*result then points
   at d score / d (that input)); G0 and f for path sums */
int XNN_FN(xnn_explain_backward)(XNN_T **result, XNN_T *dX, void *const *grads, XNN_T *G,
                                 XNN_T *G0, XNN_T w, int acc, int times, int absolute,
                                 const xnn_plan *plan, void *arena, const XNN_T *X,
                                 const xnn_node *nodes, size_t s, size_t f, size_t stop,
                                 int mode, int threads, size_t r0, size_t mc);
