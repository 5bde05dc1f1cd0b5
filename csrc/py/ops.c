/* ops.c: single kernels, for tests and the curious: the matrix product,
 * the non-finite check, dense, activations, dropout, losses and optimizer
 * updates, and one node of a Network forward and backward (every op,
 * through the same code the drivers call).
 */
#include "py/common.h"
#include "layers/op.h"

/* ---------------------------------------------------------------- gemm */

static PyObject *py_matmul(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"a", "b", "trans_a", "trans_b", NULL};
    PyObject *oa, *ob;
    int ta = 0, tb = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|pp", kwlist, &oa, &ob, &ta, &tb))
        return NULL;
    PyArrayObject *a = xnn_check_array(oa, "a", FLOAT_ANY, 2, NULL, 0);
    if (!a) return NULL;
    PyArrayObject *b = xnn_check_array(ob, "b", PyArray_TYPE(a), 2, NULL, 0);
    if (!b) return NULL;
    size_t m = ta ? DIM(a, 1) : DIM(a, 0), k = ta ? DIM(a, 0) : DIM(a, 1);
    size_t kb = tb ? DIM(b, 1) : DIM(b, 0), n = tb ? DIM(b, 0) : DIM(b, 1);
    if (kb != k) {
        PyErr_Format(PyExc_ValueError,
                     "b: expected %zu rows of op(b) to match the columns of op(a), got %zu",
                     k, kb);
        return NULL;
    }
    npy_intp dims[2] = {(npy_intp)m, (npy_intp)n};
    PyArrayObject *c = xnn_new_array(2, dims, PyArray_TYPE(a));
    if (!c) return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(a), xnn_gemm, DATA(c), DATA(a), DATA(b), 0, ta, tb, m, n, k);
    if (xnn_raise_status(st, NULL)) { Py_DECREF(c); return NULL; }
    return (PyObject *)c;
}

/* ---------------------------------------------------------------- checks */

/* first_nonfinite(a) -> flat index of the first NaN or infinity, or -1 */
static PyObject *py_first_nonfinite(PyObject *self, PyObject *arg)
{
    if (!PyArray_Check(arg)) {
        PyErr_Format(PyExc_TypeError, "a: expected a numpy.ndarray, got %s", Py_TYPE(arg)->tp_name);
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)arg;
    if ((PyArray_TYPE(a) != NPY_FLOAT32 && PyArray_TYPE(a) != NPY_FLOAT64) ||
        !PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a)) {
        PyErr_SetString(PyExc_TypeError,
                        "a: expected a C-contiguous, aligned float32 or float64 array");
        return NULL;
    }
    size_t n = (size_t)PyArray_SIZE(a), i;
    XNN_CALL(i, PyArray_TYPE(a), xnn_first_nonfinite, DATA(a), n);
    return PyLong_FromSsize_t(i < n ? (Py_ssize_t)i : -1);
}

/* ---------------------------------------------------------------- dense */

static PyObject *py_dense_forward(PyObject *self, PyObject *args)
{
    PyObject *ox, *ow, *ob;
    int act;
    if (!PyArg_ParseTuple(args, "OOOi", &ox, &ow, &ob, &act)) return NULL;
    if (xnn_check_enum(act, XNN_ACT_LINEAR, XNN_ACT_SOFTMAX, "act")) return NULL;
    PyArrayObject *X = xnn_check_array(ox, "X", FLOAT_ANY, 2, NULL, 0);
    if (!X) return NULL;
    npy_intp wd[2] = {PyArray_DIM(X, 1), ANY_DIM};
    PyArrayObject *W = xnn_check_array(ow, "W", PyArray_TYPE(X), 2, wd, 0);
    if (!W) return NULL;
    npy_intp bd[1] = {PyArray_DIM(W, 1)};
    PyArrayObject *b = NULL;
    if (ob != Py_None && !(b = xnn_check_array(ob, "b", PyArray_TYPE(X), 1, bd, 0))) return NULL;
    size_t m = DIM(X, 0), k = DIM(X, 1), n = DIM(W, 1);
    npy_intp yd[2] = {(npy_intp)m, (npy_intp)n};
    PyArrayObject *Y = xnn_new_array(2, yd, PyArray_TYPE(X));
    if (!Y) return NULL;
    void *bp = b ? DATA(b) : NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(X), xnn_dense_forward, DATA(Y), DATA(X), DATA(W), bp, act, m, k, n);
    if (xnn_raise_status(st, NULL)) { Py_DECREF(Y); return NULL; }
    return (PyObject *)Y;
}

static PyObject *py_dense_backward(PyObject *self, PyObject *args)
{
    PyObject *odz, *ox, *ow;
    if (!PyArg_ParseTuple(args, "OOO", &odz, &ox, &ow)) return NULL;
    PyArrayObject *dZ = xnn_check_array(odz, "dZ", FLOAT_ANY, 2, NULL, 0);
    if (!dZ) return NULL;
    int t = PyArray_TYPE(dZ);
    npy_intp xd[2] = {PyArray_DIM(dZ, 0), ANY_DIM};
    PyArrayObject *X = xnn_check_array(ox, "X", t, 2, xd, 0);
    if (!X) return NULL;
    npy_intp wd[2] = {PyArray_DIM(X, 1), PyArray_DIM(dZ, 1)};
    PyArrayObject *W = xnn_check_array(ow, "W", t, 2, wd, 0);
    if (!W) return NULL;
    size_t m = DIM(X, 0), k = DIM(X, 1), n = DIM(W, 1);
    npy_intp dxd[2] = {(npy_intp)m, (npy_intp)k}, dwd[2] = {(npy_intp)k, (npy_intp)n},
             dbd[1] = {(npy_intp)n};
    PyArrayObject *dX = xnn_new_array(2, dxd, t), *dW = xnn_new_array(2, dwd, t), *db = xnn_new_array(1, dbd, t);
    if (!dX || !dW || !db) goto fail;
    int st;
    XNN_CALL(st, PyArray_TYPE(dZ), xnn_dense_backward, DATA(dX), DATA(dW), DATA(db), DATA(dZ), DATA(X), DATA(W),
         m, k, n);
    if (xnn_raise_status(st, NULL)) goto fail;
    return Py_BuildValue("NNN", dX, dW, db);
fail:
    Py_XDECREF(dX); Py_XDECREF(dW); Py_XDECREF(db);
    return NULL;
}

/* ---------------------------------------------------------------- activations */

static PyObject *py_activation_forward(PyObject *self, PyObject *args)
{
    PyObject *oz;
    int act;
    if (!PyArg_ParseTuple(args, "Oi", &oz, &act)) return NULL;
    if (xnn_check_enum(act, XNN_ACT_LINEAR, XNN_ACT_SOFTMAX, "act")) return NULL;
    PyArrayObject *Z = xnn_check_array(oz, "Z", FLOAT_ANY, 2, NULL, 0);
    if (!Z) return NULL;
    PyArrayObject *Y = xnn_new_array(2, PyArray_DIMS(Z), PyArray_TYPE(Z));
    if (!Y) return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(Z), xnn_activation_forward, DATA(Y), DATA(Z), act, DIM(Z, 0), DIM(Z, 1));
    if (xnn_raise_status(st, NULL)) { Py_DECREF(Y); return NULL; }
    return (PyObject *)Y;
}

static PyObject *py_activation_backward(PyObject *self, PyObject *args)
{
    PyObject *oy, *ody;
    int act;
    if (!PyArg_ParseTuple(args, "OOi", &oy, &ody, &act)) return NULL;
    if (xnn_check_enum(act, XNN_ACT_LINEAR, XNN_ACT_SOFTMAX, "act")) return NULL;
    PyArrayObject *Y = xnn_check_array(oy, "Y", FLOAT_ANY, 2, NULL, 0);
    if (!Y) return NULL;
    PyArrayObject *dY = xnn_check_array(ody, "dY", PyArray_TYPE(Y), 2, PyArray_DIMS(Y), 0);
    if (!dY) return NULL;
    PyArrayObject *dZ = xnn_new_array(2, PyArray_DIMS(Y), PyArray_TYPE(Y));
    if (!dZ) return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(Y), xnn_activation_backward, DATA(dZ), DATA(Y), DATA(dY), act, DIM(Y, 0), DIM(Y, 1));
    if (xnn_raise_status(st, NULL)) { Py_DECREF(dZ); return NULL; }
    return (PyObject *)dZ;
}

static int check_keep(double keep)
{
    return keep > 0 && keep <= 1 ? 0 : xnn_bad_number("keep", "a probability in (0, 1]", keep);
}

static PyObject *py_dropout_forward(PyObject *self, PyObject *args)
{
    PyObject *ox;
    double keep;
    unsigned long long seed, stream;
    if (!PyArg_ParseTuple(args, "OdKK", &ox, &keep, &seed, &stream)) return NULL;
    if (check_keep(keep)) return NULL;
    PyArrayObject *X = xnn_check_array(ox, "X", FLOAT_ANY, 2, NULL, 0);
    if (!X) return NULL;
    PyArrayObject *Y = xnn_new_array(2, PyArray_DIMS(X), PyArray_TYPE(X));
    PyArrayObject *mask = xnn_new_array(2, PyArray_DIMS(X), NPY_UINT8);
    if (!Y || !mask) { Py_XDECREF(Y); Py_XDECREF(mask); return NULL; }
    int st;
    XNN_CALL(st, PyArray_TYPE(X), xnn_dropout_forward, DATA(Y), (uint8_t *)DATA(mask), DATA(X), keep, seed, stream,
         (uint64_t)0, (size_t)PyArray_SIZE(X));
    if (xnn_raise_status(st, NULL)) { Py_DECREF(Y); Py_DECREF(mask); return NULL; }
    return Py_BuildValue("NN", Y, mask);
}

static PyObject *py_dropout_backward(PyObject *self, PyObject *args)
{
    PyObject *om, *ody;
    double keep;
    if (!PyArg_ParseTuple(args, "OOd", &om, &ody, &keep)) return NULL;
    if (check_keep(keep)) return NULL;
    PyArrayObject *dY = xnn_check_array(ody, "dY", FLOAT_ANY, 2, NULL, 0);
    if (!dY) return NULL;
    PyArrayObject *mask = xnn_check_array(om, "mask", NPY_UINT8, 2, PyArray_DIMS(dY), 0);
    if (!mask) return NULL;
    PyArrayObject *dX = xnn_new_array(2, PyArray_DIMS(dY), PyArray_TYPE(dY));
    if (!dX) return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(dY), xnn_dropout_backward, DATA(dX), (const uint8_t *)DATA(mask), DATA(dY), keep,
         (size_t)PyArray_SIZE(dY));
    if (xnn_raise_status(st, NULL)) { Py_DECREF(dX); return NULL; }
    return (PyObject *)dX;
}

/* ---------------------------------------------------------------- losses */

/* labels (m) int64 in [0, n) */
static PyArrayObject *check_labels(PyObject *o, size_t m, size_t n)
{
    npy_intp ld[1] = {(npy_intp)m};
    PyArrayObject *lab = xnn_check_array(o, "labels", NPY_INT64, 1, ld, 0);
    if (!lab) return NULL;
    const int64_t *l = (const int64_t *)DATA(lab);
    for (size_t i = 0; i < m; i++) {
        if (l[i] < 0 || (size_t)l[i] >= n) {
            PyErr_Format(PyExc_ValueError, "labels: expected integers in [0, %zu), got %lld at row %zu",
                         n, (long long)l[i], i);
            return NULL;
        }
    }
    return lab;
}

static PyObject *py_loss_forward(PyObject *self, PyObject *args)
{
    PyObject *op, *ol;
    int loss;
    if (!PyArg_ParseTuple(args, "OOi", &op, &ol, &loss)) return NULL;
    if (xnn_check_enum(loss, XNN_LOSS_CROSS_ENTROPY, XNN_LOSS_SSR, "loss")) return NULL;
    PyArrayObject *P = xnn_check_array(op, "P", FLOAT_ANY, 2, NULL, 0);
    if (!P) return NULL;
    PyArrayObject *lab = check_labels(ol, DIM(P, 0), DIM(P, 1));
    if (!lab) return NULL;
    double stats[3] = {0, 0, 0};
    int st;
    XNN_CALL(st, PyArray_TYPE(P), xnn_loss_forward, stats, DATA(P), (const int64_t *)DATA(lab), loss, DIM(P, 0),
         DIM(P, 1));
    if (xnn_raise_status(st, NULL)) return NULL;
    return Py_BuildValue("ddd", stats[0], stats[1], stats[2]);
}

static PyObject *py_loss_backward(PyObject *self, PyObject *args)
{
    PyObject *op, *ol;
    int loss, act;
    double scale;
    if (!PyArg_ParseTuple(args, "OOiid", &op, &ol, &loss, &act, &scale)) return NULL;
    if (xnn_check_enum(loss, XNN_LOSS_CROSS_ENTROPY, XNN_LOSS_SSR, "loss")) return NULL;
    if (xnn_check_enum(act, XNN_ACT_LINEAR, XNN_ACT_SOFTMAX, "act")) return NULL;
    if (xnn_check_finite(scale, "scale")) return NULL;
    PyArrayObject *P = xnn_check_array(op, "P", FLOAT_ANY, 2, NULL, 0);
    if (!P) return NULL;
    PyArrayObject *lab = check_labels(ol, DIM(P, 0), DIM(P, 1));
    if (!lab) return NULL;
    PyArrayObject *dZ = xnn_new_array(2, PyArray_DIMS(P), PyArray_TYPE(P));
    if (!dZ) return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(P), xnn_loss_backward, DATA(dZ), DATA(P), (const int64_t *)DATA(lab), loss, act,
         scale, DIM(P, 0), DIM(P, 1));
    if (xnn_raise_status(st, NULL)) { Py_DECREF(dZ); return NULL; }
    return (PyObject *)dZ;
}

/* ---------------------------------------------------------------- optimizers */

static PyObject *py_sgd_update(PyObject *self, PyObject *args)
{
    PyObject *ow, *og;
    double lr;
    if (!PyArg_ParseTuple(args, "OOd", &ow, &og, &lr)) return NULL;
    if (xnn_check_finite(lr, "lr")) return NULL;
    PyArrayObject *W = xnn_check_array(ow, "W", FLOAT_ANY, PyArray_Check(ow) ? PyArray_NDIM((PyArrayObject *)ow) : 1, NULL, 1);
    if (!W) return NULL;
    PyArrayObject *G = xnn_check_array(og, "dW", PyArray_TYPE(W), PyArray_NDIM(W), PyArray_DIMS(W), 0);
    if (!G) return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(W), xnn_sgd_update, DATA(W), DATA(G), lr, (size_t)PyArray_SIZE(W));
    if (xnn_raise_status(st, NULL)) return NULL;
    Py_RETURN_NONE;
}

/* ascent_step(x, g, e, lr, l2, clip): x (k, n) in place; e None or (k, n);
   clip None or (lo, hi) */
static PyObject *py_ascent_step(PyObject *self, PyObject *args)
{
    PyObject *ox, *og, *oe, *oc;
    double lr, l2, lo = 0, hi = 0;
    if (!PyArg_ParseTuple(args, "OOOddO", &ox, &og, &oe, &lr, &l2, &oc)) return NULL;
    if (xnn_check_finite(lr, "lr") || xnn_check_finite(l2, "l2")) return NULL;
    const int clip = oc != Py_None;
    if (clip) {
        if (!PyArg_ParseTuple(oc, "dd", &lo, &hi)) return NULL;
        if (!(lo <= hi)) {
            PyErr_Format(PyExc_ValueError, "clip: expected (low, high) with low <= high, got (%g, %g)",
                         lo, hi);
            return NULL;
        }
    }
    PyArrayObject *x = xnn_check_array(ox, "x", FLOAT_ANY, 2, NULL, 1);
    if (!x) return NULL;
    PyArrayObject *g = xnn_check_array(og, "g", PyArray_TYPE(x), 2, PyArray_DIMS(x), 0);
    if (!g) return NULL;
    PyArrayObject *e = NULL;
    if (oe != Py_None && !(e = xnn_check_array(oe, "e", PyArray_TYPE(x), 2, PyArray_DIMS(x), 0)))
        return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(x), xnn_ascent_step, DATA(x), DATA(g), e ? DATA(e) : NULL, lr, l2,
             lo, hi, clip, DIM(x, 0), DIM(x, 1));
    if (xnn_raise_status(st, NULL)) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_momentum_update(PyObject *self, PyObject *args)
{
    PyObject *ow, *ov, *og;
    double lr, mu;
    int nesterov;
    if (!PyArg_ParseTuple(args, "OOOddp", &ow, &ov, &og, &lr, &mu, &nesterov)) return NULL;
    if (xnn_check_finite(lr, "lr") || xnn_check_finite(mu, "momentum")) return NULL;
    PyArrayObject *W = xnn_check_array(ow, "W", FLOAT_ANY, PyArray_Check(ow) ? PyArray_NDIM((PyArrayObject *)ow) : 1, NULL, 1);
    if (!W) return NULL;
    int t = PyArray_TYPE(W), nd = PyArray_NDIM(W);
    PyArrayObject *V = xnn_check_array(ov, "V", t, nd, PyArray_DIMS(W), 1);
    PyArrayObject *G = V ? xnn_check_array(og, "dW", t, nd, PyArray_DIMS(W), 0) : NULL;
    if (!G) return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(W), xnn_momentum_update, DATA(W), DATA(V), DATA(G), lr, mu, nesterov,
         (size_t)PyArray_SIZE(W));
    if (xnn_raise_status(st, NULL)) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_adam_update(PyObject *self, PyObject *args)
{
    PyObject *ow, *om, *ov, *og;
    double lr, b1, b2, eps;
    long long t;
    if (!PyArg_ParseTuple(args, "OOOOddddL", &ow, &om, &ov, &og, &lr, &b1, &b2, &eps, &t))
        return NULL;
    if (xnn_check_finite(lr, "lr") || xnn_check_finite(b1, "beta1") || xnn_check_finite(b2, "beta2") ||
        xnn_check_finite(eps, "eps"))
        return NULL;
    if (t < 1) {
        PyErr_Format(PyExc_ValueError, "t: expected a step number >= 1, got %lld", t);
        return NULL;
    }
    PyArrayObject *W = xnn_check_array(ow, "W", FLOAT_ANY, PyArray_Check(ow) ? PyArray_NDIM((PyArrayObject *)ow) : 1, NULL, 1);
    if (!W) return NULL;
    int ty = PyArray_TYPE(W), nd = PyArray_NDIM(W);
    PyArrayObject *M = xnn_check_array(om, "M", ty, nd, PyArray_DIMS(W), 1);
    PyArrayObject *V = M ? xnn_check_array(ov, "V", ty, nd, PyArray_DIMS(W), 1) : NULL;
    PyArrayObject *G = V ? xnn_check_array(og, "dW", ty, nd, PyArray_DIMS(W), 0) : NULL;
    if (!G) return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(W), xnn_adam_update, DATA(W), DATA(M), DATA(V), DATA(G), lr, b1, b2, eps,
         (int64_t)t, (size_t)PyArray_SIZE(W));
    if (xnn_raise_status(st, NULL)) return NULL;
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- nodes */

/* the node l of net, or NULL with an exception */
static const xnn_node *node_arg(NetworkObject *net, Py_ssize_t l)
{
    const size_t n = xnn_network_size(net);
    if (l < 0 || (size_t)l >= n) {
        PyErr_Format(PyExc_ValueError, "node: expected a node index in [0, %zu), got %zd", n, l);
        return NULL;
    }
    return &xnn_network_nodes(net)[l];
}

/* the scratch of node a's call on m rows, on the arena the network lends
   (kept between calls, as for the explanations: repeated calls touch no
   new pages); give it back with xnn_network_arena_release */
static int scratch_of(NetworkObject *net, const xnn_node *a, size_t m, int flags, int typenum,
                      void **work)
{
    const size_t bytes = xnn_op_scratch_bytes(a, m, flags, xnn_get_num_threads(),
                                              typenum == NPY_FLOAT64 ? 8 : 4);
    *work = xnn_network_arena(net, bytes);
    return *work ? 0 : -1;
}

static PyObject *or_none(PyArrayObject *a)
{
    if (a) return (PyObject *)a;
    Py_INCREF(Py_None);
    return Py_None;
}

/* node_forward(net, node, X, flags=0) -> (Y, Z, saved): node l of net on X
 * (m, in_l); Z the pre-activation (flags XNN_PLAN_EXPLAIN) or None, saved
 * the bytes the op keeps for its backward (uint8) or None */
/* conv_path(net, l): the path node l's forward takes */
static PyObject *py_conv_path(PyObject *self, PyObject *args)
{
    PyObject *onet;
    Py_ssize_t l;
    if (!PyArg_ParseTuple(args, "On", &onet, &l)) return NULL;
    NetworkObject *net = xnn_network_arg(onet);
    if (!net) return NULL;
    const xnn_node *a = node_arg(net, l);
    if (!a) return NULL;
    if (a->op != XNN_OP_CONV) {
        PyErr_Format(PyExc_ValueError, "l: expected a convolution node, got node %zd of op %d", l,
                     a->op);
        return NULL;
    }
    return PyUnicode_FromString(xnn_conv_fwd_path(a));
}

static PyObject *py_node_forward(PyObject *self, PyObject *args)
{
    PyObject *onet, *ox;
    Py_ssize_t l;
    int flags = 0;
    if (!PyArg_ParseTuple(args, "OnO|i", &onet, &l, &ox, &flags)) return NULL;
    NetworkObject *net = xnn_network_arg(onet);
    if (!net) return NULL;
    const xnn_node *a = node_arg(net, l);
    if (!a) return NULL;
    if (flags != 0 && flags != XNN_PLAN_TRAIN && flags != XNN_PLAN_EXPLAIN) {
        PyErr_Format(PyExc_ValueError, "flags: expected 0, %d or %d, got %d", XNN_PLAN_TRAIN,
                     XNN_PLAN_EXPLAIN, flags);
        return NULL;
    }
    const int t = xnn_network_typenum(net);
    npy_intp xd[2] = {ANY_DIM, (npy_intp)xnn_node_in(a)};
    PyArrayObject *X = xnn_check_array(ox, "X", t, 2, xd, 0);
    if (!X) return NULL;
    const size_t m = DIM(X, 0);
    npy_intp yd[2] = {(npy_intp)m, (npy_intp)xnn_node_out(a)};
    const size_t sb = xnn_op_saved_bytes(a, m, flags, t == NPY_FLOAT64 ? 8 : 4);
    npy_intp sd[1] = {(npy_intp)sb};
    PyArrayObject *Y = xnn_new_array(2, yd, t);
    PyArrayObject *Z = flags == XNN_PLAN_EXPLAIN ? xnn_new_array(2, yd, t) : NULL;
    PyArrayObject *S = sb ? xnn_new_array(1, sd, NPY_UINT8) : NULL;
    void *work = NULL;
    if (!Y || (flags == XNN_PLAN_EXPLAIN && !Z) || (sb && !S) ||
        scratch_of(net, a, m, flags, t, &work))
        goto fail;
    int st;
    Py_BEGIN_ALLOW_THREADS
    xnn_network_read_lock(net);
    XNN_DISPATCH(st, t, xnn_node_forward, DATA(Y), Z ? DATA(Z) : NULL, S ? DATA(S) : NULL, work,
                 DATA(X), a, flags, xnn_get_num_threads(), m);
    xnn_network_unlock(net);
    Py_END_ALLOW_THREADS
    xnn_network_arena_release(net, work);
    work = NULL;
    if (xnn_raise_status(st, "node_forward")) goto fail;
    return Py_BuildValue("NNN", Y, or_none(Z), or_none(S));
fail:
    xnn_network_arena_release(net, work);
    Py_XDECREF(Y);
    Py_XDECREF(Z);
    Py_XDECREF(S);
    return NULL;
}

/* node_backward(net, node, dZ, X, saved, relu=None, dx=True) -> (dX, dW, db):
 * the backward of node l from dZ (m, out_l), its input X and what its
 * training forward saved; dW, db None for ops without parameters; dx False
 * (a node with parameters only): dW and db alone, dX None, as a training
 * step runs its first layer */
static PyObject *py_node_backward(PyObject *self, PyObject *args)
{
    PyObject *onet, *odz, *ox, *osaved, *orelu = Py_None;
    Py_ssize_t l;
    int want_dx = 1;
    if (!PyArg_ParseTuple(args, "OnOOO|Op", &onet, &l, &odz, &ox, &osaved, &orelu, &want_dx))
        return NULL;
    NetworkObject *net = xnn_network_arg(onet);
    if (!net) return NULL;
    const xnn_node *a = node_arg(net, l);
    if (!a) return NULL;
    const int t = xnn_network_typenum(net);
    npy_intp xd[2] = {ANY_DIM, (npy_intp)xnn_node_in(a)};
    PyArrayObject *X = xnn_check_array(ox, "X", t, 2, xd, 0);
    if (!X) return NULL;
    const size_t m = DIM(X, 0);
    npy_intp zd[2] = {(npy_intp)m, (npy_intp)xnn_node_out(a)};
    PyArrayObject *dZ = xnn_check_array(odz, "dZ", t, 2, zd, 0);
    if (!dZ) return NULL;
    const size_t sb = xnn_op_saved_bytes(a, m, XNN_PLAN_TRAIN, t == NPY_FLOAT64 ? 8 : 4);
    PyArrayObject *S = NULL, *relu = NULL;
    if (sb) {
        npy_intp sd[1] = {(npy_intp)sb};
        if (!(S = xnn_check_array(osaved, "saved", NPY_UINT8, 1, sd, 0))) return NULL;
    }
    if (orelu != Py_None && !(relu = xnn_check_array(orelu, "relu", t, 2, PyArray_DIMS(X), 0)))
        return NULL;
    const int param = xnn_node_linear(a);
    if (!want_dx && !param) {
        PyErr_Format(PyExc_ValueError,
                     "dx: False needs a node with parameters, node %zd has none", l);
        return NULL;
    }
    npy_intp wd[1] = {(npy_intp)xnn_node_weights(a)}, bd[1] = {(npy_intp)a->out_c};
    PyArrayObject *dX = want_dx ? xnn_new_array(2, PyArray_DIMS(X), t) : NULL;
    PyArrayObject *dW = param ? xnn_new_array(1, wd, t) : NULL;
    PyArrayObject *db = param ? xnn_new_array(1, bd, t) : NULL;
    void *work = NULL;
    if ((want_dx && !dX) || (param && (!dW || !db)) ||
        scratch_of(net, a, m, XNN_PLAN_TRAIN, t, &work))
        goto fail;
    int st;
    Py_BEGIN_ALLOW_THREADS
    xnn_network_read_lock(net);
    XNN_DISPATCH(st, t, xnn_node_backward, dX ? DATA(dX) : NULL, dW ? DATA(dW) : NULL,
                 db ? DATA(db) : NULL,
                 work, DATA(dZ), S ? DATA(S) : NULL, DATA(X), relu ? DATA(relu) : NULL, a, 0,
                 xnn_get_num_threads(), m);
    xnn_network_unlock(net);
    Py_END_ALLOW_THREADS
    xnn_network_arena_release(net, work);
    work = NULL;
    if (xnn_raise_status(st, "node_backward")) goto fail;
    return Py_BuildValue("NNN", or_none(dX), or_none(dW), or_none(db));
fail:
    xnn_network_arena_release(net, work);
    Py_XDECREF(dX);
    Py_XDECREF(dW);
    Py_XDECREF(db);
    return NULL;
}

/* resize(A, height, width, mode) -> A (m, hi, wi) resampled to (m, height, width) */
static PyObject *py_resize(PyObject *self, PyObject *args)
{
    PyObject *oa;
    Py_ssize_t ho, wo;
    int mode;
    if (!PyArg_ParseTuple(args, "Onni", &oa, &ho, &wo, &mode)) return NULL;
    PyArrayObject *A = xnn_check_array(oa, "A", FLOAT_ANY, 3, NULL, 0);
    if (!A || xnn_check_enum(mode, XNN_RESIZE_LINEAR, XNN_RESIZE_NEAREST, "mode")) return NULL;
    if (ho < 1 || wo < 1 || DIM(A, 1) < 1 || DIM(A, 2) < 1) {
        PyErr_Format(PyExc_ValueError, "size: expected sizes >= 1, got (%zd, %zd) from (%zu, %zu)",
                     ho, wo, DIM(A, 1), DIM(A, 2));
        return NULL;
    }
    npy_intp od[3] = {PyArray_DIM(A, 0), ho, wo};
    PyArrayObject *O = xnn_new_array(3, od, PyArray_TYPE(A));
    if (!O) return NULL;
    int st;
    XNN_CALL(st, PyArray_TYPE(A), xnn_resize, DATA(O), DATA(A), mode, DIM(A, 0), DIM(A, 1),
             DIM(A, 2), (size_t)ho, (size_t)wo);
    if (xnn_raise_status(st, "resize")) {
        Py_DECREF(O);
        return NULL;
    }
    return (PyObject *)O;
}

PyMethodDef xnn_ops_methods[] = {
    {"conv_path", py_conv_path, METH_VARARGS,
     "conv_path(net, l) -> 'winograd', 'direct' or 'gemm': the path convolution node l's "
     "forward takes (XNN_CONV's names)"},
    {"first_nonfinite", py_first_nonfinite, METH_O,
     "first_nonfinite(a) -> flat index of the first NaN or infinity of a, or -1"},
    {"matmul", (PyCFunction)(void (*)(void))py_matmul, METH_VARARGS | METH_KEYWORDS,
     "matmul(a, b, trans_a=False, trans_b=False) -> op(a) @ op(b)"},
    {"dense_forward", py_dense_forward, METH_VARARGS, "dense_forward(X, W, b, act) -> Y"},
    {"dense_backward", py_dense_backward, METH_VARARGS, "dense_backward(dZ, X, W) -> (dX, dW, db)"},
    {"activation_forward", py_activation_forward, METH_VARARGS, "activation_forward(Z, act) -> Y"},
    {"activation_backward", py_activation_backward, METH_VARARGS,
     "activation_backward(Y, dY, act) -> dZ"},
    {"dropout_forward", py_dropout_forward, METH_VARARGS,
     "dropout_forward(X, keep, seed, stream) -> (Y, mask)"},
    {"dropout_backward", py_dropout_backward, METH_VARARGS, "dropout_backward(mask, dY, keep) -> dX"},
    {"loss_forward", py_loss_forward, METH_VARARGS,
     "loss_forward(P, labels, loss) -> (sum loss, sum SSR, correct)"},
    {"loss_backward", py_loss_backward, METH_VARARGS,
     "loss_backward(P, labels, loss, act, scale) -> dZ"},
    {"sgd_update", py_sgd_update, METH_VARARGS, "sgd_update(W, dW, lr): in place"},
    {"ascent_step", py_ascent_step, METH_VARARGS,
     "ascent_step(x, g, e, lr, l2, clip): x += lr g / rms(g) - lr l2 x - e per row, clipped; in place"},
    {"momentum_update", py_momentum_update, METH_VARARGS,
     "momentum_update(W, V, dW, lr, momentum, nesterov): in place"},
    {"adam_update", py_adam_update, METH_VARARGS,
     "adam_update(W, M, V, dW, lr, beta1, beta2, eps, t): in place"},
    {"resize", py_resize, METH_VARARGS,
     "resize(A, height, width, mode) -> A (m, h, w) resampled as torch's interpolate"},
    {"node_forward", py_node_forward, METH_VARARGS,
     "node_forward(net, node, X, flags=0) -> (Y, Z or None, saved or None)"},
    {"node_backward", py_node_backward, METH_VARARGS,
     "node_backward(net, node, dZ, X, saved, relu=None) -> (dX, dW or None, db or None)"},
    {NULL, NULL, 0, NULL}};
