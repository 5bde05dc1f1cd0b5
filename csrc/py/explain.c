/* explain.c: the explanation entry points (explain/ in C). Each explains a
 * whole batch in one call, in chunks of rows that fit the plan's budget,
 * on an arena the Network lends (kept between calls).
 *
 *   explain_scores(net, X, targets, output, node=-1) -> (score, resolved targets)
 *   explain_gradient(net, X, targets, output, mode, node=-1, layers=False,
 *                    times=False, abs=False) -> (dX or [dX, G_1, ..., G_top], score)
 *   explain_gradient_sum(net, X, B, targets, alphas, weights, sigma, seed, output,
 *                        mode, times_delta, node=-1, layers=False) -> G or [G, ...]
 *   explain_noise(like, sigma, seed, stream) -> the noise a path sum adds at a step
 *   lrp(net, X, targets, rules, low, high, start, node=-1, pool=0, eps=1e-6,
 *       bias=True, layers=True) -> [R_0, ..., R_top], or [R_0] when not layers
 *   cam(net, X, targets, layer, kind, relu=True) -> (maps, channel weights, classes)
 *
 * node is the start node (-1: the last); targets are classes of the last
 * node (-1: the predicted class) or units (channels) of a hidden start
 * node. Per-node lists hold, for l <= node, the quantity for node l's
 * input, shaped (m, in_l), then (m, out_node) at the start.
 */
#include "py/common.h"

/* explanations keep their buffers for a chunk within this many bytes */
#define EXPLAIN_BUDGET ((size_t)64 << 20)

/* the start node from the argument (-1: the last) */
static int start_node(NetworkObject *net, Py_ssize_t node, size_t *s)
{
    const size_t n = xnn_network_size(net);
    if (node == -1) node = (Py_ssize_t)n - 1;
    if (node < 0 || (size_t)node >= n) {
        PyErr_Format(PyExc_ValueError, "node: expected a node index in [0, %zu) or -1, got %zd",
                     n, node);
        return -1;
    }
    *s = (size_t)node;
    return 0;
}

static int check_output(NetworkObject *net, size_t s, int output, int allow_onehot,
                        int allow_loss)
{
    const size_t n = xnn_network_size(net);
    if (xnn_check_enum(output, XNN_START_LOGIT, XNN_START_LOSS, "output")) return -1;
    if ((output == XNN_START_ONEHOT && !allow_onehot) || (output == XNN_START_LOSS && !allow_loss)) {
        PyErr_Format(PyExc_ValueError, "output: code %d is not available here", output);
        return -1;
    }
    if (output == XNN_START_LOSS && xnn_network_nodes(net)[n - 1].act != XNN_ACT_SOFTMAX) {
        PyErr_SetString(PyExc_ValueError, "output: the loss needs a softmax output layer");
        return -1;
    }
    if (s + 1 < n && output != XNN_START_LOGIT) {
        PyErr_SetString(PyExc_ValueError,
                        "output: a hidden start node's score is its output value (logit code)");
        return -1;
    }
    return 0;
}

/* targets (m) int64: classes of the last node, or -1 (predicted) when
   predicted; units (channels) of a hidden start node s */
static PyArrayObject *check_targets(NetworkObject *net, PyObject *o, size_t m, size_t s,
                                    int predicted)
{
    const size_t n = xnn_network_size(net);
    const xnn_node *a = &xnn_network_nodes(net)[s];
    const int top = s + 1 == n;
    const size_t k = top ? xnn_node_out(a) : a->out_c;
    npy_intp td[1] = {(npy_intp)m};
    PyArrayObject *t = xnn_check_array(o, "targets", NPY_INT64, 1, td, 0);
    if (!t) return NULL;
    const int64_t *v = (const int64_t *)DATA(t);
    predicted = predicted && top;
    for (size_t i = 0; i < m; i++)
        if ((v[i] < 0 && !(predicted && v[i] == -1)) || (v[i] >= 0 && (size_t)v[i] >= k)) {
            PyErr_Format(PyExc_ValueError, "targets: expected %s in [0, %zu)%s, got %lld at row %zu",
                         top ? "classes" : "units", k,
                         predicted ? " or -1 (the predicted class)" : "", (long long)v[i], i);
            return NULL;
        }
    return t;
}

/* a plan (PyMem) for the network and m rows, with its arena; NULL with an
   exception. Release with done(). */
typedef struct {
    xnn_plan *plan;
    void *arena;
} planned;

static int make(planned *p, NetworkObject *net, size_t m, int flags)
{
    const size_t n = xnn_network_size(net);
    p->arena = NULL;
    if (!(p->plan = PyMem_Malloc(xnn_plan_size(n)))) {
        PyErr_NoMemory();
        return -1;
    }
    const size_t elem = xnn_network_typenum(net) == NPY_FLOAT64 ? 8 : 4;
    int st = xnn_plan_make(p->plan, xnn_network_nodes(net), n, m ? m : 1, EXPLAIN_BUDGET, flags,
                           elem, xnn_get_num_threads());
    if (xnn_raise_status(st, "plan")) return -1;
    if (!(p->arena = xnn_network_arena(net, p->plan->bytes))) return -1;
    return 0;
}

static void done(planned *p, NetworkObject *net)
{
    if (p->arena) xnn_network_arena_release(net, p->arena);
    PyMem_Free(p->plan);
    p->plan = NULL;
    p->arena = NULL;
}

/* the list [X0, G_1 (m, in_1), ..., G_s (m, in_s), G_top (m, out_s)] with
   X0 referenced as its first item (new arrays for the others); ptrs (n + 1)
   their data, NULL beyond s + 1 */
static PyObject *layer_list(NetworkObject *net, PyArrayObject *X0, size_t m, size_t s,
                            void **ptrs)
{
    const size_t n = xnn_network_size(net);
    const xnn_node *nodes = xnn_network_nodes(net);
    PyObject *out = PyList_New((Py_ssize_t)s + 2);
    if (!out) return NULL;
    for (size_t l = 0; l <= n; l++) ptrs[l] = NULL;
    Py_INCREF(X0);
    PyList_SET_ITEM(out, 0, (PyObject *)X0);
    ptrs[0] = DATA(X0);
    for (size_t l = 1; l <= s + 1; l++) {
        npy_intp rd[2] = {(npy_intp)m, (npy_intp)(l <= s ? xnn_node_in(&nodes[l])
                                                          : xnn_node_out(&nodes[s]))};
        PyArrayObject *R = xnn_new_array(2, rd, xnn_network_typenum(net));
        if (!R) {
            Py_DECREF(out);
            return NULL;
        }
        PyList_SET_ITEM(out, (Py_ssize_t)l, (PyObject *)R);
        ptrs[l] = DATA(R);
    }
    return out;
}

static PyObject *py_explain_scores(PyObject *self, PyObject *args)
{
    PyObject *onet, *ox, *ot;
    int output;
    Py_ssize_t node = -1;
    if (!PyArg_ParseTuple(args, "OOOi|n", &onet, &ox, &ot, &output, &node)) return NULL;
    NetworkObject *net = xnn_network_arg(onet);
    size_t s;
    if (!net || start_node(net, node, &s) || check_output(net, s, output, 1, 1)) return NULL;
    PyArrayObject *X = xnn_network_input(net, ox, "X");
    if (!X) return NULL;
    const size_t m = DIM(X, 0);
    PyArrayObject *T = check_targets(net, ot, m, s, 1);
    if (!T) return NULL;
    npy_intp sd[1] = {(npy_intp)m};
    PyArrayObject *S = xnn_new_array(1, sd, xnn_network_typenum(net));
    PyArrayObject *Rz = xnn_new_array(1, sd, NPY_INT64);
    planned p = {NULL, NULL};
    if (!S || !Rz || make(&p, net, m, XNN_PLAN_EXPLAIN)) goto fail;
    const xnn_start start = {s, output};
    const xnn_node *nodes = xnn_network_nodes(net);
    int st;
    Py_BEGIN_ALLOW_THREADS
    nodes = xnn_network_read_prepared(net);
    XNN_DISPATCH(st, xnn_network_typenum(net), xnn_explain_scores, DATA(S), DATA(Rz), p.plan,
                 p.arena, DATA(X), (const int64_t *)DATA(T), nodes, xnn_network_size(net),
                 &start, m);
    xnn_network_unlock(net);
    Py_END_ALLOW_THREADS
    done(&p, net);
    if (xnn_raise_status(st, "explain_scores")) goto fail;
    return Py_BuildValue("NN", S, Rz);
fail:
    done(&p, net);
    Py_XDECREF(S);
    Py_XDECREF(Rz);
    return NULL;
}

static PyObject *py_explain_gradient(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"net", "X", "targets", "output", "mode", "node", "layers", "times",
                             "abs", NULL};
    PyObject *onet, *ox, *ot, *lst = NULL;
    int output, mode, layers = 0, times = 0, absolute = 0;
    Py_ssize_t node = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOii|nppp", kwlist, &onet, &ox, &ot, &output,
                                     &mode, &node, &layers, &times, &absolute))
        return NULL;
    NetworkObject *net = xnn_network_arg(onet);
    size_t s;
    if (!net || start_node(net, node, &s) || check_output(net, s, output, 0, 1) ||
        xnn_check_enum(mode, XNN_GRAD_PLAIN, XNN_GRAD_DECONVNET, "mode"))
        return NULL;
    PyArrayObject *X = xnn_network_input(net, ox, "X");
    if (!X) return NULL;
    const size_t m = DIM(X, 0), n = xnn_network_size(net);
    PyArrayObject *T = check_targets(net, ot, m, s, 1);
    if (!T) return NULL;
    npy_intp sd[1] = {(npy_intp)m};
    PyArrayObject *G = xnn_new_array(2, PyArray_DIMS(X), xnn_network_typenum(net));
    PyArrayObject *S = xnn_new_array(1, sd, xnn_network_typenum(net));
    void **grads = PyMem_Calloc(n + 1, sizeof(void *));
    planned p = {NULL, NULL};
    if (!G || !S || !grads) {
        if (!grads) PyErr_NoMemory();
        goto fail;
    }
    if (layers && !(lst = layer_list(net, G, m, s, grads))) goto fail;
    if (make(&p, net, m, XNN_PLAN_EXPLAIN)) goto fail;
    const xnn_start start = {s, output};
    const xnn_node *nodes = xnn_network_nodes(net);
    const int finish = (times ? XNN_FINISH_TIMES : 0) | (absolute ? XNN_FINISH_ABS : 0);
    int st;
    Py_BEGIN_ALLOW_THREADS
    nodes = xnn_network_read_prepared(net);
    XNN_DISPATCH(st, xnn_network_typenum(net), xnn_explain_gradient, DATA(G), DATA(S),
                 layers ? grads : NULL, p.plan, p.arena, DATA(X), (const int64_t *)DATA(T), nodes,
                 n, &start, mode, finish, m);
    xnn_network_unlock(net);
    Py_END_ALLOW_THREADS
    done(&p, net);
    PyMem_Free(grads);
    grads = NULL;
    if (xnn_raise_status(st, "explain_gradient")) goto fail;
    if (lst) {
        Py_DECREF(G);
        return Py_BuildValue("NN", lst, S);
    }
    return Py_BuildValue("NN", G, S);
fail:
    done(&p, net);
    PyMem_Free(grads);
    Py_XDECREF(G);
    Py_XDECREF(S);
    Py_XDECREF(lst);
    return NULL;
}

static PyObject *py_explain_gradient_sum(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"net", "X", "B", "targets", "alphas", "weights", "sigma", "seed",
                             "output", "mode", "times_delta", "node", "layers", NULL};
    PyObject *onet, *ox, *ob, *ot, *oa, *ow, *lst = NULL;
    double sigma;
    unsigned long long seed;
    int output, mode, times_delta, layers = 0;
    Py_ssize_t node = -1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOOdKiip|np", kwlist, &onet, &ox, &ob, &ot,
                                     &oa, &ow, &sigma, &seed, &output, &mode, &times_delta,
                                     &node, &layers))
        return NULL;
    NetworkObject *net = xnn_network_arg(onet);
    size_t s;
    if (!net || start_node(net, node, &s) || check_output(net, s, output, 0, 1) ||
        xnn_check_enum(mode, XNN_GRAD_PLAIN, XNN_GRAD_DECONVNET, "mode"))
        return NULL;
    if (!(sigma >= 0) || !isfinite(sigma)) {
        xnn_bad_number("sigma", "a finite number >= 0", sigma);
        return NULL;
    }
    PyArrayObject *X = xnn_network_input(net, ox, "X");
    if (!X) return NULL;
    const int t = xnn_network_typenum(net);
    PyArrayObject *B = NULL;
    if (ob != Py_None && !(B = xnn_check_array(ob, "baseline", t, 2, PyArray_DIMS(X), 0)))
        return NULL;
    const size_t m = DIM(X, 0), n = xnn_network_size(net);
    PyArrayObject *T = check_targets(net, ot, m, s, 0);
    if (!T) return NULL;
    PyArrayObject *A = xnn_check_array(oa, "alphas", NPY_FLOAT64, 1, NULL, 0);
    if (!A) return NULL;
    PyArrayObject *W = xnn_check_array(ow, "weights", NPY_FLOAT64, 1, PyArray_DIMS(A), 0);
    if (!W) return NULL;
    const size_t n_steps = DIM(A, 0);
    for (size_t i = 0; i < n_steps; i++)
        if (!isfinite(((double *)DATA(A))[i]) || !isfinite(((double *)DATA(W))[i])) {
            PyErr_SetString(PyExc_ValueError, "alphas, weights: expected finite numbers");
            return NULL;
        }
    PyArrayObject *G = xnn_new_array(2, PyArray_DIMS(X), t);
    void **grads = PyMem_Calloc(n + 1, sizeof(void *));
    planned p = {NULL, NULL};
    if (!G || !grads) {
        if (!grads) PyErr_NoMemory();
        goto fail;
    }
    if (layers && !(lst = layer_list(net, G, m, s, grads))) goto fail;
    if (make(&p, net, m, XNN_PLAN_EXPLAIN | XNN_PLAN_PATH)) goto fail;
    const xnn_start start = {s, output};
    const xnn_node *nodes = xnn_network_nodes(net);
    void *bp = B ? DATA(B) : NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    nodes = xnn_network_read_prepared(net);
    XNN_DISPATCH(st, t, xnn_explain_gradient_sum, DATA(G), layers ? grads : NULL, p.plan, p.arena,
                 DATA(X), bp, (const int64_t *)DATA(T), nodes, n, &start, (const double *)DATA(A),
                 (const double *)DATA(W), n_steps, sigma, seed, mode, times_delta, m);
    xnn_network_unlock(net);
    Py_END_ALLOW_THREADS
    done(&p, net);
    PyMem_Free(grads);
    grads = NULL;
    if (xnn_raise_status(st, "explain_gradient_sum")) goto fail;
    if (lst) {
        Py_DECREF(G);
        return lst;
    }
    return (PyObject *)G;
fail:
    done(&p, net);
    PyMem_Free(grads);
    Py_XDECREF(G);
    Py_XDECREF(lst);
    return NULL;
}

static PyObject *py_explain_noise(PyObject *self, PyObject *args)
{
    PyObject *olike;
    double sigma;
    unsigned long long seed, stream;
    if (!PyArg_ParseTuple(args, "OdKK", &olike, &sigma, &seed, &stream)) return NULL;
    PyArrayObject *like = xnn_check_array(olike, "like", FLOAT_ANY, 2, NULL, 0);
    if (!like) return NULL;
    if (xnn_check_finite(sigma, "sigma")) return NULL;
    PyArrayObject *N = xnn_new_array(2, PyArray_DIMS(like), PyArray_TYPE(like));
    if (!N) return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(like), xnn_gaussian_noise, DATA(N), sigma, seed, stream,
             (size_t)PyArray_SIZE(like));
    if (xnn_raise_status(st, "explain_noise")) {
        Py_DECREF(N);
        return NULL;
    }
    return (PyObject *)N;
}

static PyObject *py_lrp(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"net", "X", "targets", "rules", "low", "high", "start", "node",
                             "pool", "eps", "bias", "layers", NULL};
    PyObject *onet, *ox, *ot, *orules, *olow, *ohigh;
    int start_code, pool = XNN_POOL_WTA, bias = 1, layers = 1;
    Py_ssize_t node = -1;
    double eps = 1e-6;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOOOOi|nidpp", kwlist, &onet, &ox, &ot,
                                     &orules, &olow, &ohigh, &start_code, &node, &pool, &eps,
                                     &bias, &layers))
        return NULL;
    NetworkObject *net = xnn_network_arg(onet);
    size_t s;
    if (!net || start_node(net, node, &s) || check_output(net, s, start_code, 1, 0) ||
        xnn_check_enum(pool, XNN_POOL_WTA, XNN_POOL_NORM, "pool"))
        return NULL;
    if (!(eps >= 0) || !isfinite(eps)) {
        xnn_bad_number("eps", "a finite number >= 0", eps);
        return NULL;
    }
    PyArrayObject *X = xnn_network_input(net, ox, "X");
    if (!X) return NULL;
    const int t = xnn_network_typenum(net);
    const size_t m = DIM(X, 0), n = xnn_network_size(net);
    const xnn_node *nodes = xnn_network_nodes(net);
    PyArrayObject *T = check_targets(net, ot, m, s, 1);
    if (!T) return NULL;
    npy_intp bd[1] = {(npy_intp)xnn_node_in(&nodes[0])};
    PyArrayObject *low = NULL, *high = NULL;
    if (olow != Py_None && !(low = xnn_check_array(olow, "low", t, 1, bd, 0))) return NULL;
    if (ohigh != Py_None && !(high = xnn_check_array(ohigh, "high", t, 1, bd, 0))) return NULL;
    /* a tuple copy of the rules: the caller's sequence is never read again */
    PyObject *rules_t = PySequence_Tuple(orules);
    if (!rules_t) return NULL;
    xnn_lrp_rule *rules = NULL;
    PyObject *out = NULL;
    void **rel = NULL;
    planned p = {NULL, NULL};
    if ((size_t)PyTuple_GET_SIZE(rules_t) != n) {
        PyErr_Format(PyExc_ValueError, "rules: expected one rule tuple per node (%zu), got %zd", n,
                     PyTuple_GET_SIZE(rules_t));
        goto fail;
    }
    rules = PyMem_Calloc(n, sizeof(xnn_lrp_rule));
    rel = PyMem_Calloc(n + 1, sizeof(void *));
    if (!rules || !rel) {
        PyErr_NoMemory();
        goto fail;
    }
    for (size_t l = 0; l < n; l++) {
        xnn_lrp_rule *r = &rules[l];
        PyObject *item = PyTuple_GET_ITEM(rules_t, l);
        if (!PyTuple_Check(item) ||
            !PyArg_ParseTuple(item, "idddd;rules[l]: expected a tuple (code, epsilon, gamma, "
                                    "alpha, beta)", &r->rule, &r->epsilon, &r->gamma, &r->alpha,
                              &r->beta)) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "rules[%zu]: expected a tuple (code, epsilon, gamma, "
                             "alpha, beta)", l);
            goto fail;
        }
        if (xnn_check_enum(r->rule, XNN_LRP_ZERO, XNN_LRP_GENERALIZED_GAMMA, "rules[l] code")) goto fail;
        if (!(r->epsilon >= 0) || !isfinite(r->epsilon) || !(r->gamma >= 0) ||
            !isfinite(r->gamma) || !(r->alpha >= 0) || !isfinite(r->alpha) || !(r->beta >= 0) ||
            !isfinite(r->beta)) {
            PyErr_Format(PyExc_ValueError,
                         "rules[%zu]: expected finite epsilon, gamma, alpha, beta >= 0", l);
            goto fail;
        }
        if (r->rule == XNN_LRP_ZBOX && xnn_node_linear(&nodes[l]) && l <= s) {
            for (size_t q = 0; q < l; q++)
                if (nodes[q].op != XNN_OP_FLATTEN) {
                    PyErr_Format(PyExc_ValueError,
                                 "rules[%zu]: zbox is for the node that reads the input", l);
                    goto fail;
                }
            if (!low || !high) {
                PyErr_SetString(PyExc_ValueError, "low, high: zbox needs both bounds");
                goto fail;
            }
            r->low = DATA(low);
            r->high = DATA(high);
        }
    }
    PyArrayObject *R0 = xnn_new_array(2, PyArray_DIMS(X), t);
    if (!R0) goto fail;
    if (layers) {
        out = layer_list(net, R0, m, s, rel);
    } else if ((out = PyList_New(1))) { /* R_0 alone; the others stay in the plan */
        Py_INCREF(R0);
        PyList_SET_ITEM(out, 0, (PyObject *)R0);
        rel[0] = DATA(R0);
    }
    Py_DECREF(R0);
    if (!out || make(&p, net, m, XNN_PLAN_EXPLAIN | XNN_PLAN_LRP)) goto fail;
    const xnn_start start = {s, start_code};
    int st;
    Py_BEGIN_ALLOW_THREADS
    nodes = xnn_network_read_prepared(net);
    XNN_DISPATCH(st, t, xnn_explain_lrp, rel, p.plan, p.arena, DATA(X), (const int64_t *)DATA(T),
                 nodes, n, rules, &start, pool, eps, bias, m);
    xnn_network_unlock(net);
    Py_END_ALLOW_THREADS
    if (xnn_raise_status(st, "lrp")) goto fail;
    done(&p, net);
    PyMem_Free(rules);
    PyMem_Free(rel);
    Py_DECREF(rules_t);
    return out;
fail:
    done(&p, net);
    PyMem_Free(rules);
    PyMem_Free(rel);
    Py_DECREF(rules_t);
    Py_XDECREF(out);
    return NULL;
}

/* cam(net, X, targets, layer, kind, relu=True) -> (maps (m, P), weights (m, C),
   the classes explained (m,): -1 resolved to the arg-max of the logits) */
static PyObject *py_cam(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"net", "X", "targets", "layer", "kind", "relu", NULL};
    PyObject *onet, *ox, *ot;
    Py_ssize_t layer;
    int kind, relu = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOni|p", kwlist, &onet, &ox, &ot, &layer, &kind,
                                     &relu))
        return NULL;
    NetworkObject *net = xnn_network_arg(onet);
    if (!net || xnn_check_enum(kind, XNN_CAM_GRAD, XNN_CAM_CLASS, "kind")) return NULL;
    const size_t n = xnn_network_size(net);
    const xnn_node *nodes = xnn_network_nodes(net);
    if (layer < 0 || (size_t)layer + 1 >= n) {
        PyErr_Format(PyExc_ValueError, "layer: expected a node index in [0, %zu), got %zd", n - 1,
                     layer);
        return NULL;
    }
    const xnn_node *a = &nodes[layer];
    if (a->out_h * a->out_w == 1) {
        PyErr_Format(PyExc_ValueError, "layer: node %zd has no positions (output %zu x %zu x %zu)",
                     layer, a->out_c, a->out_h, a->out_w);
        return NULL;
    }
    if (kind == XNN_CAM_CLASS &&
        !((size_t)layer + 2 == n - 1 && nodes[layer + 1].op == XNN_OP_GLOBAL_AVGPOOL &&
          nodes[n - 1].op == XNN_OP_DENSE)) {
        PyErr_SetString(PyExc_ValueError,
                        "layer: CAM needs the network to end layer -> global average pool -> dense");
        return NULL;
    }
    PyArrayObject *X = xnn_network_input(net, ox, "X");
    if (!X) return NULL;
    const size_t m = DIM(X, 0);
    PyArrayObject *T = check_targets(net, ot, m, n - 1, 1);
    if (!T) return NULL;
    const int t = xnn_network_typenum(net);
    npy_intp md[2] = {(npy_intp)m, (npy_intp)(a->out_h * a->out_w)}, wd[2] = {(npy_intp)m,
                                                                             (npy_intp)a->out_c};
    npy_intp rd[1] = {(npy_intp)m};
    PyArrayObject *M = xnn_new_array(2, md, t), *Wt = xnn_new_array(2, wd, t);
    PyArrayObject *Rt = xnn_new_array(1, rd, NPY_INT64);
    planned p = {NULL, NULL};
    /* Grad-CAM's folded dense weights (explain/cam.c) */
    const size_t nf = xnn_explain_cam_fold(nodes, n, (size_t)layer, kind);
    void *fold = NULL;
    if (!M || !Wt || !Rt || make(&p, net, m, XNN_PLAN_EXPLAIN)) goto fail;
    if (nf && !(fold = PyMem_Malloc(nf * (size_t)PyArray_ITEMSIZE(M)))) {
        PyErr_NoMemory();
        goto fail;
    }
    int st;
    Py_BEGIN_ALLOW_THREADS
    nodes = xnn_network_read_prepared(net);
    XNN_DISPATCH(st, t, xnn_explain_cam, DATA(M), DATA(Wt), (int64_t *)DATA(Rt), fold, p.plan,
                 p.arena, DATA(X), (const int64_t *)DATA(T), nodes, n, (size_t)layer, kind,
                 relu, m);
    xnn_network_unlock(net);
    Py_END_ALLOW_THREADS
    done(&p, net);
    PyMem_Free(fold);
    fold = NULL;
    if (xnn_raise_status(st, "cam")) goto fail;
    return Py_BuildValue("NNN", M, Wt, Rt);
fail:
    done(&p, net);
    PyMem_Free(fold);
    Py_XDECREF(M);
    Py_XDECREF(Wt);
    Py_XDECREF(Rt);
    return NULL;
}

/* deeplift(net, X, B, targets, eps=1e-10, captum=True) -> attributions (m, in_0) */
static PyObject *py_deeplift(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"net", "X", "B", "targets", "eps", "captum", NULL};
    PyObject *onet, *ox, *ob, *ot;
    double eps = 1e-10;
    int captum = 1;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOOO|dp", kwlist, &onet, &ox, &ob, &ot, &eps,
                                     &captum))
        return NULL;
    NetworkObject *net = xnn_network_arg(onet);
    if (!net) return NULL;
    if (!(eps >= 0) || !isfinite(eps)) {
        xnn_bad_number("eps", "a finite number >= 0", eps);
        return NULL;
    }
    const size_t n = xnn_network_size(net);
    const xnn_node *nodes = xnn_network_nodes(net);
    for (size_t l = 0; l + 1 < n; l++) {
        if (nodes[l].act == XNN_ACT_SOFTMAX) {
            PyErr_SetString(PyExc_ValueError, "net: DeepLIFT takes softmax only on the last node");
            return NULL;
        }
        if (captum && nodes[l].op == XNN_OP_MAXPOOL && l > 0 && nodes[l - 1].op == XNN_OP_MAXPOOL) {
            PyErr_SetString(PyExc_ValueError,
                            "net: two max pools in a row are not supported with captum=True");
            return NULL;
        }
    }
    PyArrayObject *X = xnn_network_input(net, ox, "X");
    if (!X) return NULL;
    const int t = xnn_network_typenum(net);
    PyArrayObject *B = xnn_check_array(ob, "baseline", t, 2, PyArray_DIMS(X), 0);
    if (!B) return NULL;
    const size_t m = DIM(X, 0);
    PyArrayObject *T = check_targets(net, ot, m, n - 1, 0);
    if (!T) return NULL;
    PyArrayObject *G = xnn_new_array(2, PyArray_DIMS(X), t);
    planned p = {NULL, NULL};
    if (!G || make(&p, net, 2 * (m ? m : 1), XNN_PLAN_EXPLAIN | XNN_PLAN_PATH | XNN_PLAN_LRP))
        goto fail;
    if (p.plan->rows < 2) {
        PyErr_SetString(PyExc_MemoryError, "deeplift: the plan holds fewer than 2 rows");
        goto fail;
    }
    int st;
    Py_BEGIN_ALLOW_THREADS
    nodes = xnn_network_read_prepared(net);
    XNN_DISPATCH(st, t, xnn_explain_deeplift, DATA(G), p.plan, p.arena, DATA(X), DATA(B),
                 (const int64_t *)DATA(T), nodes, n, eps, captum, m);
    xnn_network_unlock(net);
    Py_END_ALLOW_THREADS
    done(&p, net);
    if (xnn_raise_status(st, "deeplift")) goto fail;
    return (PyObject *)G;
fail:
    done(&p, net);
    Py_XDECREF(G);
    return NULL;
}

PyMethodDef xnn_explain_methods[] = {
    {"explain_scores", py_explain_scores, METH_VARARGS,
     "explain_scores(net, X, targets, output, node=-1) -> (score (m,), targets used (m,))"},
    {"explain_gradient", (PyCFunction)(void (*)(void))py_explain_gradient,
     METH_VARARGS | METH_KEYWORDS,
     "explain_gradient(net, X, targets, output, mode, node=-1, layers=False, times=False, "
     "abs=False) -> (dX or the per-node list, score)"},
    {"explain_gradient_sum", (PyCFunction)(void (*)(void))py_explain_gradient_sum,
     METH_VARARGS | METH_KEYWORDS,
     "explain_gradient_sum(net, X, B, targets, alphas, weights, sigma, seed, output, mode, "
     "times_delta, node=-1, layers=False) -> G or the per-node list"},
    {"explain_noise", py_explain_noise, METH_VARARGS,
     "explain_noise(like, sigma, seed, stream) -> the noise a path sum adds at step stream"},
    {"cam", (PyCFunction)(void (*)(void))py_cam, METH_VARARGS | METH_KEYWORDS,
     "cam(net, X, targets, layer, kind, relu=True) -> (maps (m, positions), channel weights "
     "(m, C), the classes explained (m,))"},
    {"deeplift", (PyCFunction)(void (*)(void))py_deeplift, METH_VARARGS | METH_KEYWORDS,
     "deeplift(net, X, B, targets, eps=1e-10, captum=True) -> attributions (m, in_0)"},
    {"lrp", (PyCFunction)(void (*)(void))py_lrp, METH_VARARGS | METH_KEYWORDS,
     "lrp(net, X, targets, rules, low, high, start, node=-1, pool=0, eps=1e-6, bias=True, "
     "layers=True) -> [R_0, ..., R_top] ([R_0] when not layers)"},
    {NULL, NULL, 0, NULL}};
