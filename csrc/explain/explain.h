/* explain.h: what the explanation drivers (forward.c, gradient.c, lrp.c,
 * cam.c) share: the forward of a chunk, which keeps every node's
 * pre-activation and output in the plan, and the start of a backward pass
 * at a node's score.
 */
#ifndef XNN_EXPLAIN_H
#define XNN_EXPLAIN_H

#include "xnn.h"
#include "layers/op.h"

/* the nodes whose output an explanation started at node s reaches: s + 1 */
int xnn_explain_check(const xnn_plan *plan, const xnn_node *nodes, size_t n,
                      const xnn_start *start, int need_flags, size_t elem);

#define XNN_SELF "explain/explain_typed.h"
#include "core/template.h"

#endif
