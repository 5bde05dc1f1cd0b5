/* module.c: xnn._core, the CPython binding of the C kernels.
 *
 * The only file that includes Python.h. Every entry point checks its
 * arguments strictly (type, dtype, C-contiguity, ndim, shape) and raises
 * TypeError or ValueError naming the argument; it never trusts the
 * caller. Arrays are allocated with the GIL held; only the kernel runs
 * without it. Friendly conversion (dtype, contiguity) is the Python
 * layer's job, not this file's.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include "xnn.h"

/* CPython calls every entry point with (self, args[, kw]) whether it uses
 * them or not. */
#if defined(__GNUC__)
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif

/* ---------------------------------------------------------------- checks */

#define ANY_DIM (-1)
#define FLOAT_ANY (-1)   /* float32 or float64, as the first array decides */

static const char *dtype_name(int typenum)
{
    switch (typenum) {
    case NPY_FLOAT32: return "float32";
    case NPY_FLOAT64: return "float64";
    case NPY_INT64: return "int64";
    case NPY_UINT8: return "uint8";
    default: return "?";
    }
}

/* Check that obj is an ndarray of dtype typenum (FLOAT_ANY: float32 or
 * float64), C-contiguous, aligned, with ndim dimensions whose sizes match
 * dims (ANY_DIM: any). Returns obj as a borrowed PyArrayObject* or NULL
 * with an exception set. */
static PyArrayObject *check_array(PyObject *obj, const char *name, int typenum, int ndim,
                                  const npy_intp *dims, int writeable)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a numpy.ndarray, got %s", name,
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    int t = PyArray_TYPE(a);
    if (typenum == FLOAT_ANY ? (t != NPY_FLOAT32 && t != NPY_FLOAT64) : t != typenum) {
        PyArray_Descr *d = PyArray_DESCR(a);
        PyObject *s = PyObject_Str((PyObject *)d);
        PyErr_Format(PyExc_TypeError, "%s: expected dtype %s, got %S", name,
                     typenum == FLOAT_ANY ? "float32 or float64" : dtype_name(typenum),
                     s ? s : Py_None);
        Py_XDECREF(s);
        return NULL;
    }
    if (!PyArray_IS_C_CONTIGUOUS(a) || !PyArray_ISALIGNED(a)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a C-contiguous, aligned array", name);
        return NULL;
    }
    if (writeable && !PyArray_ISWRITEABLE(a)) {
        PyErr_Format(PyExc_ValueError, "%s: expected a writeable array", name);
        return NULL;
    }
    if (PyArray_NDIM(a) != ndim) {
        PyErr_Format(PyExc_ValueError, "%s: expected %d dimension(s), got %d", name, ndim,
                     PyArray_NDIM(a));
        return NULL;
    }
    for (int i = 0; i < ndim; i++) {
        if (dims && dims[i] != ANY_DIM && PyArray_DIM(a, i) != dims[i]) {
            PyErr_Format(PyExc_ValueError, "%s: expected size %zd in dimension %d, got %zd",
                         name, (Py_ssize_t)dims[i], i, (Py_ssize_t)PyArray_DIM(a, i));
            return NULL;
        }
    }
    return a;
}

static int raise_status(int st)
{
    if (st == XNN_OK) return 0;
    if (st == XNN_ENOMEM) PyErr_NoMemory();
    else PyErr_SetString(PyExc_ValueError, "xnn kernel rejected an argument out of its domain");
    return -1;
}

static int check_enum(int v, int lo, int hi, const char *name)
{
    if (v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s: expected an integer in [%d, %d], got %d", name, lo,
                     hi, v);
        return -1;
    }
    return 0;
}

/* raise ValueError "<name>: expected <what>, got <v>" */
static int bad_number(const char *name, const char *what, double v)
{
    PyObject *f = PyFloat_FromDouble(v);
    if (f) {
        PyErr_Format(PyExc_ValueError, "%s: expected %s, got %R", name, what, f);
        Py_DECREF(f);
    }
    return -1;
}

static int check_finite(double v, const char *name)
{
    return isfinite(v) ? 0 : bad_number(name, "a finite number", v);
}

static PyArrayObject *new_array(int nd, const npy_intp *dims, int typenum)
{
    return (PyArrayObject *)PyArray_EMPTY(nd, (npy_intp *)dims, typenum, 0);
}

#define IS64(a) (PyArray_TYPE(a) == NPY_FLOAT64)
#define DATA(a) PyArray_DATA(a)
#define DIM(a, i) ((size_t)PyArray_DIM(a, i))
/* Run a kernel for the dtype of array a without the GIL, into int st. */
#define CALL(st, a, fn, ...) do {                                   \
        Py_BEGIN_ALLOW_THREADS                                      \
        st = IS64(a) ? fn##_f64(__VA_ARGS__) : fn##_f32(__VA_ARGS__); \
        Py_END_ALLOW_THREADS                                        \
    } while (0)
#define T64(p) ((double *)(p))
#define T32(p) ((float *)(p))

/* ---------------------------------------------------------------- gemm */

static PyObject *py_matmul(PyObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"a", "b", "trans_a", "trans_b", NULL};
    PyObject *oa, *ob;
    int ta = 0, tb = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|pp", kwlist, &oa, &ob, &ta, &tb))
        return NULL;
    PyArrayObject *a = check_array(oa, "a", FLOAT_ANY, 2, NULL, 0);
    if (!a) return NULL;
    PyArrayObject *b = check_array(ob, "b", PyArray_TYPE(a), 2, NULL, 0);
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
    PyArrayObject *c = new_array(2, dims, PyArray_TYPE(a));
    if (!c) return NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = IS64(a) ? xnn_gemm_f64(T64(DATA(c)), T64(DATA(a)), T64(DATA(b)), 0, ta, tb, m, n, k)
                 : xnn_gemm_f32(T32(DATA(c)), T32(DATA(a)), T32(DATA(b)), 0, ta, tb, m, n, k);
    Py_END_ALLOW_THREADS
    if (raise_status(st)) { Py_DECREF(c); return NULL; }
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
    Py_BEGIN_ALLOW_THREADS
    i = IS64(a) ? xnn_first_nonfinite_f64(T64(DATA(a)), n)
                : xnn_first_nonfinite_f32(T32(DATA(a)), n);
    Py_END_ALLOW_THREADS
    return PyLong_FromSsize_t(i < n ? (Py_ssize_t)i : -1);
}

/* ---------------------------------------------------------------- dense */

static PyObject *py_dense_forward(PyObject *self, PyObject *args)
{
    PyObject *ox, *ow, *ob;
    int act;
    if (!PyArg_ParseTuple(args, "OOOi", &ox, &ow, &ob, &act)) return NULL;
    if (check_enum(act, XNN_ACT_LINEAR, XNN_ACT_SOFTMAX, "act")) return NULL;
    PyArrayObject *X = check_array(ox, "X", FLOAT_ANY, 2, NULL, 0);
    if (!X) return NULL;
    npy_intp wd[2] = {PyArray_DIM(X, 1), ANY_DIM};
    PyArrayObject *W = check_array(ow, "W", PyArray_TYPE(X), 2, wd, 0);
    if (!W) return NULL;
    npy_intp bd[1] = {PyArray_DIM(W, 1)};
    PyArrayObject *b = NULL;
    if (ob != Py_None && !(b = check_array(ob, "b", PyArray_TYPE(X), 1, bd, 0))) return NULL;
    size_t m = DIM(X, 0), k = DIM(X, 1), n = DIM(W, 1);
    npy_intp yd[2] = {(npy_intp)m, (npy_intp)n};
    PyArrayObject *Y = new_array(2, yd, PyArray_TYPE(X));
    if (!Y) return NULL;
    void *bp = b ? DATA(b) : NULL;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = IS64(X) ? xnn_dense_forward_f64(T64(DATA(Y)), T64(DATA(X)), T64(DATA(W)), T64(bp), act, m, k, n)
                 : xnn_dense_forward_f32(T32(DATA(Y)), T32(DATA(X)), T32(DATA(W)), T32(bp), act, m, k, n);
    Py_END_ALLOW_THREADS
    if (raise_status(st)) { Py_DECREF(Y); return NULL; }
    return (PyObject *)Y;
}

static PyObject *py_dense_backward(PyObject *self, PyObject *args)
{
    PyObject *odz, *ox, *ow;
    if (!PyArg_ParseTuple(args, "OOO", &odz, &ox, &ow)) return NULL;
    PyArrayObject *dZ = check_array(odz, "dZ", FLOAT_ANY, 2, NULL, 0);
    if (!dZ) return NULL;
    int t = PyArray_TYPE(dZ);
    npy_intp xd[2] = {PyArray_DIM(dZ, 0), ANY_DIM};
    PyArrayObject *X = check_array(ox, "X", t, 2, xd, 0);
    if (!X) return NULL;
    npy_intp wd[2] = {PyArray_DIM(X, 1), PyArray_DIM(dZ, 1)};
    PyArrayObject *W = check_array(ow, "W", t, 2, wd, 0);
    if (!W) return NULL;
    size_t m = DIM(X, 0), k = DIM(X, 1), n = DIM(W, 1);
    npy_intp dxd[2] = {(npy_intp)m, (npy_intp)k}, dwd[2] = {(npy_intp)k, (npy_intp)n},
             dbd[1] = {(npy_intp)n};
    PyArrayObject *dX = new_array(2, dxd, t), *dW = new_array(2, dwd, t), *db = new_array(1, dbd, t);
    if (!dX || !dW || !db) goto fail;
    int st;
    CALL(st, dZ, xnn_dense_backward, DATA(dX), DATA(dW), DATA(db), DATA(dZ), DATA(X), DATA(W),
         m, k, n);
    if (raise_status(st)) goto fail;
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
    if (check_enum(act, XNN_ACT_LINEAR, XNN_ACT_SOFTMAX, "act")) return NULL;
    PyArrayObject *Z = check_array(oz, "Z", FLOAT_ANY, 2, NULL, 0);
    if (!Z) return NULL;
    PyArrayObject *Y = new_array(2, PyArray_DIMS(Z), PyArray_TYPE(Z));
    if (!Y) return NULL;
    int st;
    CALL(st, Z, xnn_activation_forward, DATA(Y), DATA(Z), act, DIM(Z, 0), DIM(Z, 1));
    if (raise_status(st)) { Py_DECREF(Y); return NULL; }
    return (PyObject *)Y;
}

static PyObject *py_activation_backward(PyObject *self, PyObject *args)
{
    PyObject *oy, *ody;
    int act;
    if (!PyArg_ParseTuple(args, "OOi", &oy, &ody, &act)) return NULL;
    if (check_enum(act, XNN_ACT_LINEAR, XNN_ACT_SOFTMAX, "act")) return NULL;
    PyArrayObject *Y = check_array(oy, "Y", FLOAT_ANY, 2, NULL, 0);
    if (!Y) return NULL;
    PyArrayObject *dY = check_array(ody, "dY", PyArray_TYPE(Y), 2, PyArray_DIMS(Y), 0);
    if (!dY) return NULL;
    PyArrayObject *dZ = new_array(2, PyArray_DIMS(Y), PyArray_TYPE(Y));
    if (!dZ) return NULL;
    int st;
    CALL(st, Y, xnn_activation_backward, DATA(dZ), DATA(Y), DATA(dY), act, DIM(Y, 0), DIM(Y, 1));
    if (raise_status(st)) { Py_DECREF(dZ); return NULL; }
    return (PyObject *)dZ;
}

static int check_keep(double keep)
{
    return keep > 0 && keep <= 1 ? 0 : bad_number("keep", "a probability in (0, 1]", keep);
}

static PyObject *py_dropout_forward(PyObject *self, PyObject *args)
{
    PyObject *ox;
    double keep;
    unsigned long long seed, stream;
    if (!PyArg_ParseTuple(args, "OdKK", &ox, &keep, &seed, &stream)) return NULL;
    if (check_keep(keep)) return NULL;
    PyArrayObject *X = check_array(ox, "X", FLOAT_ANY, 2, NULL, 0);
    if (!X) return NULL;
    PyArrayObject *Y = new_array(2, PyArray_DIMS(X), PyArray_TYPE(X));
    PyArrayObject *mask = new_array(2, PyArray_DIMS(X), NPY_UINT8);
    if (!Y || !mask) { Py_XDECREF(Y); Py_XDECREF(mask); return NULL; }
    int st;
    CALL(st, X, xnn_dropout_forward, DATA(Y), (uint8_t *)DATA(mask), DATA(X), keep, seed, stream,
         (uint64_t)0, (size_t)PyArray_SIZE(X));
    if (raise_status(st)) { Py_DECREF(Y); Py_DECREF(mask); return NULL; }
    return Py_BuildValue("NN", Y, mask);
}

static PyObject *py_dropout_backward(PyObject *self, PyObject *args)
{
    PyObject *om, *ody;
    double keep;
    if (!PyArg_ParseTuple(args, "OOd", &om, &ody, &keep)) return NULL;
    if (check_keep(keep)) return NULL;
    PyArrayObject *dY = check_array(ody, "dY", FLOAT_ANY, 2, NULL, 0);
    if (!dY) return NULL;
    PyArrayObject *mask = check_array(om, "mask", NPY_UINT8, 2, PyArray_DIMS(dY), 0);
    if (!mask) return NULL;
    PyArrayObject *dX = new_array(2, PyArray_DIMS(dY), PyArray_TYPE(dY));
    if (!dX) return NULL;
    int st;
    CALL(st, dY, xnn_dropout_backward, DATA(dX), (const uint8_t *)DATA(mask), DATA(dY), keep,
         (size_t)PyArray_SIZE(dY));
    if (raise_status(st)) { Py_DECREF(dX); return NULL; }
    return (PyObject *)dX;
}

/* ---------------------------------------------------------------- losses */

/* labels (m) int64 in [0, n) */
static PyArrayObject *check_labels(PyObject *o, size_t m, size_t n)
{
    npy_intp ld[1] = {(npy_intp)m};
    PyArrayObject *lab = check_array(o, "labels", NPY_INT64, 1, ld, 0);
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
    if (check_enum(loss, XNN_LOSS_CROSS_ENTROPY, XNN_LOSS_SSR, "loss")) return NULL;
    PyArrayObject *P = check_array(op, "P", FLOAT_ANY, 2, NULL, 0);
    if (!P) return NULL;
    PyArrayObject *lab = check_labels(ol, DIM(P, 0), DIM(P, 1));
    if (!lab) return NULL;
    double stats[3] = {0, 0, 0};
    int st;
    CALL(st, P, xnn_loss_forward, stats, DATA(P), (const int64_t *)DATA(lab), loss, DIM(P, 0),
         DIM(P, 1));
    if (raise_status(st)) return NULL;
    return Py_BuildValue("ddd", stats[0], stats[1], stats[2]);
}

static PyObject *py_loss_backward(PyObject *self, PyObject *args)
{
    PyObject *op, *ol;
    int loss, act;
    double scale;
    if (!PyArg_ParseTuple(args, "OOiid", &op, &ol, &loss, &act, &scale)) return NULL;
    if (check_enum(loss, XNN_LOSS_CROSS_ENTROPY, XNN_LOSS_SSR, "loss")) return NULL;
    if (check_enum(act, XNN_ACT_LINEAR, XNN_ACT_SOFTMAX, "act")) return NULL;
    if (check_finite(scale, "scale")) return NULL;
    PyArrayObject *P = check_array(op, "P", FLOAT_ANY, 2, NULL, 0);
    if (!P) return NULL;
    PyArrayObject *lab = check_labels(ol, DIM(P, 0), DIM(P, 1));
    if (!lab) return NULL;
    PyArrayObject *dZ = new_array(2, PyArray_DIMS(P), PyArray_TYPE(P));
    if (!dZ) return NULL;
    int st;
    CALL(st, P, xnn_loss_backward, DATA(dZ), DATA(P), (const int64_t *)DATA(lab), loss, act,
         scale, DIM(P, 0), DIM(P, 1));
    if (raise_status(st)) { Py_DECREF(dZ); return NULL; }
    return (PyObject *)dZ;
}

/* ---------------------------------------------------------------- optimizers */

static PyObject *py_sgd_update(PyObject *self, PyObject *args)
{
    PyObject *ow, *og;
    double lr;
    if (!PyArg_ParseTuple(args, "OOd", &ow, &og, &lr)) return NULL;
    if (check_finite(lr, "lr")) return NULL;
    PyArrayObject *W = check_array(ow, "W", FLOAT_ANY, PyArray_Check(ow) ? PyArray_NDIM((PyArrayObject *)ow) : 1, NULL, 1);
    if (!W) return NULL;
    PyArrayObject *G = check_array(og, "dW", PyArray_TYPE(W), PyArray_NDIM(W), PyArray_DIMS(W), 0);
    if (!G) return NULL;
    int st;
    CALL(st, W, xnn_sgd_update, DATA(W), DATA(G), lr, (size_t)PyArray_SIZE(W));
    if (raise_status(st)) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_momentum_update(PyObject *self, PyObject *args)
{
    PyObject *ow, *ov, *og;
    double lr, mu;
    int nesterov;
    if (!PyArg_ParseTuple(args, "OOOddp", &ow, &ov, &og, &lr, &mu, &nesterov)) return NULL;
    if (check_finite(lr, "lr") || check_finite(mu, "momentum")) return NULL;
    PyArrayObject *W = check_array(ow, "W", FLOAT_ANY, PyArray_Check(ow) ? PyArray_NDIM((PyArrayObject *)ow) : 1, NULL, 1);
    if (!W) return NULL;
    int t = PyArray_TYPE(W), nd = PyArray_NDIM(W);
    PyArrayObject *V = check_array(ov, "V", t, nd, PyArray_DIMS(W), 1);
    PyArrayObject *G = V ? check_array(og, "dW", t, nd, PyArray_DIMS(W), 0) : NULL;
    if (!G) return NULL;
    int st;
    CALL(st, W, xnn_momentum_update, DATA(W), DATA(V), DATA(G), lr, mu, nesterov,
         (size_t)PyArray_SIZE(W));
    if (raise_status(st)) return NULL;
    Py_RETURN_NONE;
}

static PyObject *py_adam_update(PyObject *self, PyObject *args)
{
    PyObject *ow, *om, *ov, *og;
    double lr, b1, b2, eps;
    long long t;
    if (!PyArg_ParseTuple(args, "OOOOddddL", &ow, &om, &ov, &og, &lr, &b1, &b2, &eps, &t))
        return NULL;
    if (check_finite(lr, "lr") || check_finite(b1, "beta1") || check_finite(b2, "beta2") ||
        check_finite(eps, "eps"))
        return NULL;
    if (t < 1) {
        PyErr_Format(PyExc_ValueError, "t: expected a step number >= 1, got %lld", t);
        return NULL;
    }
    PyArrayObject *W = check_array(ow, "W", FLOAT_ANY, PyArray_Check(ow) ? PyArray_NDIM((PyArrayObject *)ow) : 1, NULL, 1);
    if (!W) return NULL;
    int ty = PyArray_TYPE(W), nd = PyArray_NDIM(W);
    PyArrayObject *M = check_array(om, "M", ty, nd, PyArray_DIMS(W), 1);
    PyArrayObject *V = M ? check_array(ov, "V", ty, nd, PyArray_DIMS(W), 1) : NULL;
    PyArrayObject *G = V ? check_array(og, "dW", ty, nd, PyArray_DIMS(W), 0) : NULL;
    if (!G) return NULL;
    int st;
    CALL(st, W, xnn_adam_update, DATA(W), DATA(M), DATA(V), DATA(G), lr, b1, b2, eps,
         (int64_t)t, (size_t)PyArray_SIZE(W));
    if (raise_status(st)) return NULL;
    Py_RETURN_NONE;
}

/* ---------------------------------------------------------------- Network */

/* A network: the layers' descriptions and references to their parameter
 * arrays, which Python owns and updates in place. */
typedef struct {
    PyObject_HEAD
    int typenum;
    size_t n_layers;
    xnn_layer *layers;
    PyObject **params;       /* 2 * n_layers references: W0, b0, W1, b1, ... */
    void *work;              /* the explanations' workspace, kept between calls */
    size_t work_bytes;
    int work_busy;           /* lent to a call running without the GIL */
} NetworkObject;

static void Network_dealloc(NetworkObject *self)
{
    if (self->params) {
        for (size_t i = 0; i < 2 * self->n_layers; i++) Py_XDECREF(self->params[i]);
        PyMem_Free(self->params);
    }
    PyMem_Free(self->layers);
    PyMem_Free(self->work);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* Network(layers): layers is a sequence of (W, b, act, keep) */
static int Network_init(NetworkObject *self, PyObject *args, PyObject *kw)
{
    PyObject *seq;
    if (!PyArg_ParseTuple(args, "O", &seq)) return -1;
    if (self->layers) {
        PyErr_SetString(PyExc_RuntimeError, "Network is already initialised");
        return -1;
    }
    PyObject *fast = PySequence_Fast(seq, "layers: expected a sequence of (W, b, act, keep)");
    if (!fast) return -1;
    Py_ssize_t n = PySequence_Fast_GET_SIZE(fast);
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "layers: expected at least one layer, got 0");
        Py_DECREF(fast);
        return -1;
    }
    self->layers = PyMem_Calloc((size_t)n, sizeof(xnn_layer));
    self->params = PyMem_Calloc(2 * (size_t)n, sizeof(PyObject *));
    if (!self->layers || !self->params) { Py_DECREF(fast); PyErr_NoMemory(); return -1; }
    self->n_layers = (size_t)n;
    for (Py_ssize_t l = 0; l < n; l++) {
        PyObject *item = PySequence_Fast_GET_ITEM(fast, l), *ow, *ob;
        int act;
        double keep;
        if (!PyTuple_Check(item) || !PyArg_ParseTuple(item, "OOid", &ow, &ob, &act, &keep)) {
            if (!PyErr_Occurred())
                PyErr_Format(PyExc_TypeError, "layers[%zd]: expected a tuple (W, b, act, keep)", l);
            Py_DECREF(fast);
            return -1;
        }
        if (check_enum(act, XNN_ACT_LINEAR, XNN_ACT_SOFTMAX, "act") || check_keep(keep)) {
            Py_DECREF(fast);
            return -1;
        }
        npy_intp wd[2] = {l == 0 ? ANY_DIM : (npy_intp)self->layers[l - 1].n_out, ANY_DIM};
        PyArrayObject *W = check_array(ow, "W", l == 0 ? FLOAT_ANY : self->typenum, 2, wd, 1);
        if (!W) { Py_DECREF(fast); return -1; }
        if (l == 0) self->typenum = PyArray_TYPE(W);
        npy_intp bd[1] = {PyArray_DIM(W, 1)};
        PyArrayObject *b = check_array(ob, "b", self->typenum, 1, bd, 1);
        if (!b) { Py_DECREF(fast); return -1; }
        Py_INCREF(ow); Py_INCREF(ob);
        self->params[2 * l] = ow;
        self->params[2 * l + 1] = ob;
        xnn_layer *L = &self->layers[l];
        L->n_in = DIM(W, 0);
        L->n_out = DIM(W, 1);
        L->act = act;
        L->keep = keep;
        L->W = DATA(W);
        L->b = DATA(b);
    }
    Py_DECREF(fast);
    return 0;
}

static int network_ready(NetworkObject *self)
{
    if (!self->layers) {
        PyErr_SetString(PyExc_RuntimeError, "Network is not initialised");
        return -1;
    }
    return 0;
}

/* forward(X, outs): fill outs[l] (m, n_out_l) with each layer's output */
static PyObject *Network_forward(NetworkObject *self, PyObject *args)
{
    PyObject *ox, *oouts;
    if (network_ready(self) || !PyArg_ParseTuple(args, "OO", &ox, &oouts)) return NULL;
    npy_intp xd[2] = {ANY_DIM, (npy_intp)self->layers[0].n_in};
    PyArrayObject *X = check_array(ox, "X", self->typenum, 2, xd, 0);
    if (!X) return NULL;
    if (!PyList_Check(oouts) || (size_t)PyList_GET_SIZE(oouts) != self->n_layers) {
        PyErr_Format(PyExc_ValueError, "outs: expected a list of %zu arrays", self->n_layers);
        return NULL;
    }
    size_t m = DIM(X, 0);
    void *stack[16], **outs = self->n_layers <= 16 ? stack : PyMem_Malloc(self->n_layers * sizeof(void *));
    if (!outs) return PyErr_NoMemory();
    for (size_t l = 0; l < self->n_layers; l++) {
        npy_intp od[2] = {(npy_intp)m, (npy_intp)self->layers[l].n_out};
        PyArrayObject *o = check_array(PyList_GET_ITEM(oouts, l), "outs[l]", self->typenum, 2, od, 1);
        if (!o) { if (outs != stack) PyMem_Free(outs); return NULL; }
        outs[l] = DATA(o);
    }
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = self->typenum == NPY_FLOAT64
             ? xnn_mlp_forward_f64(outs, T64(DATA(X)), self->layers, self->n_layers, m)
             : xnn_mlp_forward_f32(outs, T32(DATA(X)), self->layers, self->n_layers, m);
    Py_END_ALLOW_THREADS
    if (outs != stack) PyMem_Free(outs);
    if (raise_status(st)) return NULL;
    Py_RETURN_NONE;
}

static PyMethodDef Network_methods[] = {
    {"forward", (PyCFunction)Network_forward, METH_VARARGS,
     "forward(X, outs): write each layer's output (no dropout) into the list outs."},
    {NULL, NULL, 0, NULL}};

static PyTypeObject NetworkType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "xnn._core.Network",
    .tp_basicsize = sizeof(NetworkObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Network(layers): a multi-layer perceptron over parameter arrays owned by Python.\n"
              "layers is a sequence of (W (n_in, n_out), b (n_out,), act, keep).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Network_init,
    .tp_dealloc = (destructor)Network_dealloc,
    .tp_methods = Network_methods,
};

/* ---------------------------------------------------------------- Trainer */

/* A trainer: a network, its workspaces for one batch size and the
 * optimizer's hyper-parameters; step() is one training step. The
 * workspaces hold at most XNN_TRAIN_CHUNK rows; a larger batch goes through
 * its step in chunks (network.c), summing their gradients. */
#define XNN_TRAIN_CHUNK 4096
typedef struct {
    PyObject_HEAD
    NetworkObject *net;
    xnn_workspace ws;
    xnn_train_config cfg;
    PyObject *buffers;       /* list of every workspace array, keeps them alive */
    void **ptrs;             /* storage behind ws's pointer arrays */
    void *xbuf;              /* (batch, n_in) rows gathered by step(..., rows), or NULL */
    int64_t *lbuf;           /* (batch) their labels */
} TrainerObject;

static void Trainer_dealloc(TrainerObject *self)
{
    Py_XDECREF(self->net);
    Py_XDECREF(self->buffers);
    PyMem_Free(self->ptrs);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* append a zeroed array of shape dims to self->buffers and return its data */
static void *workspace_array(TrainerObject *self, int nd, npy_intp *dims, int typenum)
{
    PyObject *a = PyArray_ZEROS(nd, dims, typenum, 0);
    if (!a) return NULL;
    int r = PyList_Append(self->buffers, a);
    Py_DECREF(a);
    return r ? NULL : DATA((PyArrayObject *)a);
}

static int Trainer_init(TrainerObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"network", "batch", "loss", "optimizer", "lr", "momentum",
                             "nesterov", "beta1", "beta2", "eps", "seed", NULL};
    NetworkObject *net;
    Py_ssize_t batch;
    int loss, opt, nesterov = 0;
    double lr, mu = 0, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    unsigned long long seed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O!niid|dpdddK", kwlist, &NetworkType, &net,
                                     &batch, &loss, &opt, &lr, &mu, &nesterov, &b1, &b2, &eps,
                                     &seed))
        return -1;
    if (self->net) {
        PyErr_SetString(PyExc_RuntimeError, "Trainer is already initialised");
        return -1;
    }
    if (network_ready(net)) return -1;
    if (batch < 1) {
        PyErr_Format(PyExc_ValueError, "batch: expected an integer >= 1, got %zd", batch);
        return -1;
    }
    if (check_enum(loss, XNN_LOSS_CROSS_ENTROPY, XNN_LOSS_SSR, "loss") ||
        check_enum(opt, XNN_OPT_SGD, XNN_OPT_ADAM, "optimizer") || check_finite(lr, "lr") ||
        check_finite(mu, "momentum") || check_finite(b1, "beta1") ||
        check_finite(b2, "beta2") || check_finite(eps, "eps"))
        return -1;
    Py_INCREF(net);
    self->net = net;
    self->cfg = (xnn_train_config){.loss = loss, .optimizer = opt, .lr = lr, .momentum = mu,
                                   .beta1 = b1, .beta2 = b2, .eps = eps, .nesterov = nesterov,
                                   .step = 0, .seed = seed};
    size_t L = net->n_layers;
    self->buffers = PyList_New(0);
    self->ptrs = PyMem_Calloc(9 * L, sizeof(void *));
    if (!self->buffers || !self->ptrs) { PyErr_NoMemory(); return -1; }
    xnn_workspace *ws = &self->ws;
    ws->batch = (size_t)batch;
    /* a larger batch goes through its step in chunks of this many rows */
    ws->rows = (size_t)batch < XNN_TRAIN_CHUNK ? (size_t)batch : XNN_TRAIN_CHUNK;
    const npy_intp rows = (npy_intp)ws->rows;
    ws->A = self->ptrs; ws->D = ws->A + L; ws->mask = (uint8_t **)(ws->D + L);
    ws->dW = (void **)(ws->mask + L); ws->db = ws->dW + L;
    ws->s1W = ws->db + L; ws->s1b = ws->s1W + L; ws->s2W = ws->s1b + L; ws->s2b = ws->s2W + L;
    int t = net->typenum;
    size_t widest = 0;
    for (size_t l = 0; l < L; l++) {
        const xnn_layer *ly = &net->layers[l];
        if (ly->n_out > widest) widest = ly->n_out;
        npy_intp ad[2] = {rows, (npy_intp)ly->n_out}, wd[2] = {(npy_intp)ly->n_in, (npy_intp)ly->n_out},
                 bd[1] = {(npy_intp)ly->n_out};
        if (!(ws->A[l] = workspace_array(self, 2, ad, t))) return -1;
        if (ly->keep < 1) {
            if (!(ws->D[l] = workspace_array(self, 2, ad, t))) return -1;
            if (!(ws->mask[l] = workspace_array(self, 2, ad, NPY_UINT8))) return -1;
        }
        if (!(ws->dW[l] = workspace_array(self, 2, wd, t))) return -1;
        if (!(ws->db[l] = workspace_array(self, 1, bd, t))) return -1;
        if (opt != XNN_OPT_SGD) {
            if (!(ws->s1W[l] = workspace_array(self, 2, wd, t))) return -1;
            if (!(ws->s1b[l] = workspace_array(self, 1, bd, t))) return -1;
        }
        if (opt == XNN_OPT_ADAM) {
            if (!(ws->s2W[l] = workspace_array(self, 2, wd, t))) return -1;
            if (!(ws->s2b[l] = workspace_array(self, 1, bd, t))) return -1;
        }
    }
    npy_intp dd[2] = {rows, (npy_intp)widest};
    if (!(ws->dA = workspace_array(self, 2, dd, t))) return -1;
    if (!(ws->dB = workspace_array(self, 2, dd, t))) return -1;
    return 0;
}

/* step(X, labels) -> (sum of loss, sum of SSR, number correct) */
/* step(X, labels[, rows]) -> (sum of loss, sum of SSR, number correct);
 * with rows, the step trains on X[rows], labels[rows] (gathered in C) */
static PyObject *Trainer_step(TrainerObject *self, PyObject *args)
{
    PyObject *ox, *ol, *orows = Py_None;
    if (!self->net) {
        PyErr_SetString(PyExc_RuntimeError, "Trainer is not initialised");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OO|O", &ox, &ol, &orows)) return NULL;
    NetworkObject *net = self->net;
    const size_t n_in = net->layers[0].n_in, n_out = net->layers[net->n_layers - 1].n_out;
    npy_intp xd[2] = {ANY_DIM, (npy_intp)n_in};
    PyArrayObject *X = check_array(ox, "X", net->typenum, 2, xd, 0);
    if (!X) return NULL;
    size_t m = DIM(X, 0);
    const void *xp = DATA(X);
    const int64_t *lp;
    if (orows == Py_None) {
        if (m < 1 || m > self->ws.batch) {
            PyErr_Format(PyExc_ValueError, "X: expected between 1 and %zu rows, got %zu",
                         self->ws.batch, m);
            return NULL;
        }
        PyArrayObject *lab = check_labels(ol, m, n_out);
        if (!lab) return NULL;
        lp = (const int64_t *)DATA(lab);
    } else {
        npy_intp ld[1] = {(npy_intp)m};
        PyArrayObject *lab = check_array(ol, "labels", NPY_INT64, 1, ld, 0);
        PyArrayObject *rows = lab ? check_array(orows, "rows", NPY_INT64, 1, NULL, 0) : NULL;
        if (!rows) return NULL;
        size_t k = DIM(rows, 0);
        if (k < 1 || k > self->ws.batch) {
            PyErr_Format(PyExc_ValueError, "rows: expected between 1 and %zu indices, got %zu",
                         self->ws.batch, k);
            return NULL;
        }
        if (!self->xbuf) {   /* made on first use: full-batch training never needs it */
            npy_intp bd[2] = {(npy_intp)self->ws.batch, (npy_intp)n_in};
            if (!(self->xbuf = workspace_array(self, 2, bd, net->typenum))) return NULL;
            if (!(self->lbuf = workspace_array(self, 1, bd, NPY_INT64))) return NULL;
        }
        const int64_t *r = (const int64_t *)DATA(rows), *l = (const int64_t *)DATA(lab);
        for (size_t i = 0; i < k; i++) {
            if (r[i] < 0 || (size_t)r[i] >= m) {
                PyErr_Format(PyExc_ValueError, "rows: expected indices in [0, %zu), got %lld at %zu",
                             m, (long long)r[i], i);
                return NULL;
            }
            if (l[r[i]] < 0 || (size_t)l[r[i]] >= n_out) {
                PyErr_Format(PyExc_ValueError,
                             "labels: expected integers in [0, %zu), got %lld at row %lld", n_out,
                             (long long)l[r[i]], (long long)r[i]);
                return NULL;
            }
        }
        int st;
        CALL(st, X, xnn_gather_rows, self->xbuf, self->lbuf, DATA(X), l, r, k, n_in);
        if (raise_status(st)) return NULL;
        xp = self->xbuf;
        lp = self->lbuf;
        m = k;
    }
    double stats[3] = {0, 0, 0};
    self->cfg.step++;
    int st;
    Py_BEGIN_ALLOW_THREADS
    st = net->typenum == NPY_FLOAT64
             ? xnn_mlp_train_step_f64(stats, &self->ws, T64(xp), lp, net->layers, net->n_layers,
                                      &self->cfg, m)
             : xnn_mlp_train_step_f32(stats, &self->ws, T32(xp), lp, net->layers, net->n_layers,
                                      &self->cfg, m);
    Py_END_ALLOW_THREADS
    if (raise_status(st)) return NULL;
    return Py_BuildValue("ddd", stats[0], stats[1], stats[2]);
}

static PyObject *Trainer_get_step(TrainerObject *self, void *closure)
{
    return PyLong_FromLongLong((long long)self->cfg.step);
}

static PyMethodDef Trainer_methods[] = {
    {"step", (PyCFunction)Trainer_step, METH_VARARGS,
     "step(X, labels[, rows]) -> (sum of loss, sum of SSR, number correct): one training\n"
     "step on X and labels, or on X[rows] and labels[rows] when rows (int64) is given."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Trainer_getset[] = {
    {"steps", (getter)Trainer_get_step, NULL, "number of steps taken", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject TrainerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "xnn._core.Trainer",
    .tp_basicsize = sizeof(TrainerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Trainer(network, batch, loss, optimizer, lr, momentum=0, nesterov=False,\n"
              "        beta1=0.9, beta2=0.999, eps=1e-8, seed=0)\n"
              "Workspaces for one batch size, allocated once; step() trains in one call.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Trainer_init,
    .tp_dealloc = (destructor)Trainer_dealloc,
    .tp_methods = Trainer_methods,
    .tp_getset = Trainer_getset,
};

/* ---------------------------------------------------------------- explanations */

static NetworkObject *check_network(PyObject *o)
{
    if (!PyObject_TypeCheck(o, &NetworkType)) {
        PyErr_Format(PyExc_TypeError, "net: expected an xnn._core.Network, got %s",
                     Py_TYPE(o)->tp_name);
        return NULL;
    }
    NetworkObject *net = (NetworkObject *)o;
    return network_ready(net) ? NULL : net;
}

static PyArrayObject *check_input(NetworkObject *net, PyObject *o, const char *name)
{
    npy_intp xd[2] = {ANY_DIM, (npy_intp)net->layers[0].n_in};
    return check_array(o, name, net->typenum, 2, xd, 0);
}

/* targets (m) int64 in [0, n_out of the last layer), or -1 (the predicted
 * class) when predicted */
static PyArrayObject *check_targets(NetworkObject *net, PyObject *o, size_t m, int predicted)
{
    size_t n = net->layers[net->n_layers - 1].n_out;
    npy_intp td[1] = {(npy_intp)m};
    PyArrayObject *t = check_array(o, "targets", NPY_INT64, 1, td, 0);
    if (!t) return NULL;
    const int64_t *v = (const int64_t *)DATA(t);
    for (size_t i = 0; i < m; i++) {
        if ((v[i] < 0 && !(predicted && v[i] == -1)) || (v[i] >= 0 && (size_t)v[i] >= n)) {
            PyErr_Format(PyExc_ValueError,
                         "targets: expected classes in [0, %zu)%s, got %lld at row %zu", n,
                         predicted ? " or -1 (the predicted class)" : "", (long long)v[i], i);
            return NULL;
        }
    }
    return t;
}

static int check_output(NetworkObject *net, int output, int allow_onehot, int allow_loss)
{
    if (check_enum(output, XNN_START_LOGIT, XNN_START_LOSS, "output")) return -1;
    if ((output == XNN_START_ONEHOT && !allow_onehot) || (output == XNN_START_LOSS && !allow_loss)) {
        PyErr_Format(PyExc_ValueError, "output: code %d is not available here", output);
        return -1;
    }
    if (output == XNN_START_LOSS && net->layers[net->n_layers - 1].act != XNN_ACT_SOFTMAX) {
        PyErr_SetString(PyExc_ValueError,
                        "output: the loss needs a softmax output layer");
        return -1;
    }
    return 0;
}

/* The workspace of an explanation, with the GIL held. The network keeps
 * it between calls (up to WORK_KEEP_BYTES), so that repeated explanations
 * reuse memory already mapped instead of faulting in fresh pages each
 * time; a call made while it is lent out (another thread's explanation)
 * gets memory of its own. Give it back with workspace_release. */
#define WORK_KEEP_BYTES ((size_t)256 << 20)

static void *workspace(NetworkObject *net, size_t elements)
{
    size_t size = net->typenum == NPY_FLOAT64 ? sizeof(double) : sizeof(float);
    size_t bytes = (elements ? elements : 1) * size;
    if (!net->work_busy && bytes <= WORK_KEEP_BYTES) {
        if (bytes > net->work_bytes) {
            PyMem_Free(net->work);
            net->work_bytes = 0;
            if (!(net->work = PyMem_Malloc(bytes))) return PyErr_NoMemory();
            net->work_bytes = bytes;
        }
        net->work_busy = 1;
        return net->work;
    }
    void *w = PyMem_Malloc(bytes);
    if (!w) PyErr_NoMemory();
    return w;
}

static void workspace_release(NetworkObject *net, void *w)
{
    if (w && w == net->work) net->work_busy = 0;
    else PyMem_Free(w);
}

/* explain_scores(net, X, targets, output) -> score (m,) */
static PyObject *py_explain_scores(PyObject *self, PyObject *args)
{
    PyObject *onet, *ox, *ot;
    int output;
    if (!PyArg_ParseTuple(args, "OOOi", &onet, &ox, &ot, &output)) return NULL;
    NetworkObject *net = check_network(onet);
    if (!net || check_output(net, output, 1, 1)) return NULL;
    PyArrayObject *X = check_input(net, ox, "X");
    if (!X) return NULL;
    size_t m = DIM(X, 0);
    PyArrayObject *T = check_targets(net, ot, m, 1);
    if (!T) return NULL;
    npy_intp sd[1] = {(npy_intp)m};
    PyArrayObject *S = new_array(1, sd, net->typenum);
    void *work = workspace(net, xnn_explain_forward_size(net->layers, net->n_layers, m));
    if (!S || !work) { Py_XDECREF(S); workspace_release(net, work); return NULL; }
    int st;
    CALL(st, X, xnn_explain_forward, DATA(S), work, DATA(X), (const int64_t *)DATA(T),
         net->layers, net->n_layers, output, m);
    workspace_release(net, work);
    if (raise_status(st)) { Py_DECREF(S); return NULL; }
    return (PyObject *)S;
}

/* The per-layer results of an explanation of m rows: a list [R_0, ..., R_L],
 * R_l (m, n_in_l) for l < L and R_L (m, n_out_last), R_0 = X0 (a reference
 * is taken) and the others new; ptrs[l] their data. */
static PyObject *layer_list(NetworkObject *net, PyArrayObject *X0, size_t m, void **ptrs)
{
    size_t L = net->n_layers;
    PyObject *out = PyList_New((Py_ssize_t)L + 1);
    if (!out) return NULL;
    Py_INCREF(X0);
    PyList_SET_ITEM(out, 0, (PyObject *)X0);
    ptrs[0] = DATA(X0);
    for (size_t l = 1; l <= L; l++) {
        npy_intp rd[2] = {(npy_intp)m, (npy_intp)(l < L ? net->layers[l].n_in
                                                         : net->layers[L - 1].n_out)};
        PyArrayObject *R = new_array(2, rd, net->typenum);
        if (!R) { Py_DECREF(out); return NULL; }
        PyList_SET_ITEM(out, (Py_ssize_t)l, (PyObject *)R);
        ptrs[l] = DATA(R);
    }
    return out;
}

/* explain_gradient(net, X, targets, output, mode, layers=False, times_input=False, abs=False)
 *   -> (dX (m, n_in), score (m,)), or ([dX, G_1, ..., G_L], score) with layers */
static PyObject *py_explain_gradient(PyObject *self, PyObject *args)
{
    PyObject *onet, *ox, *ot, *lst = NULL;
    int output, mode, layers = 0, times = 0, absolute = 0;
    void *stack[17], **grads = stack;
    if (!PyArg_ParseTuple(args, "OOOii|ppp", &onet, &ox, &ot, &output, &mode, &layers, &times,
                          &absolute))
        return NULL;
    NetworkObject *net = check_network(onet);
    if (!net || check_output(net, output, 0, 1) ||
        check_enum(mode, XNN_GRAD_PLAIN, XNN_GRAD_DECONVNET, "mode"))
        return NULL;
    PyArrayObject *X = check_input(net, ox, "X");
    if (!X) return NULL;
    size_t m = DIM(X, 0);
    PyArrayObject *T = check_targets(net, ot, m, 1);
    if (!T) return NULL;
    npy_intp sd[1] = {(npy_intp)m};
    PyArrayObject *G = new_array(2, PyArray_DIMS(X), net->typenum), *S = new_array(1, sd, net->typenum);
    void *work = workspace(net, xnn_gradient_workspace_size(net->layers, net->n_layers, m, 0));
    if (!G || !S || !work) goto fail;
    if (layers) {
        if (net->n_layers + 1 > 17 && !(grads = PyMem_Malloc((net->n_layers + 1) * sizeof(void *)))) {
            PyErr_NoMemory();
            goto fail;
        }
        if (!(lst = layer_list(net, G, m, grads))) goto fail;
    }
    int st;
    CALL(st, X, xnn_mlp_gradient, DATA(G), DATA(S), layers ? grads : NULL, work, DATA(X),
         (const int64_t *)DATA(T), net->layers, net->n_layers, output, mode,
         (times ? XNN_FINISH_TIMES : 0) | (absolute ? XNN_FINISH_ABS : 0), m);
    workspace_release(net, work);
    work = NULL;
    if (grads != stack) PyMem_Free(grads);
    grads = stack;
    if (raise_status(st)) goto fail;
    if (lst) { Py_DECREF(G); return Py_BuildValue("NN", lst, S); }
    return Py_BuildValue("NN", G, S);
fail:
    Py_XDECREF(G); Py_XDECREF(S); Py_XDECREF(lst); workspace_release(net, work);
    if (grads != stack) PyMem_Free(grads);
    return NULL;
}

/* explain_gradient_sum(net, X, B, targets, alphas, weights, sigma, seed, output, mode,
 *                      times_delta, layers=False) -> G (m, n_in), or [G, G_1, ..., G_L] */
static PyObject *py_explain_gradient_sum(PyObject *self, PyObject *args)
{
    PyObject *onet, *ox, *ob, *ot, *oa, *ow, *lst = NULL;
    double sigma;
    unsigned long long seed;
    int output, mode, times_delta, layers = 0;
    void *stack[17], **grads = stack;
    if (!PyArg_ParseTuple(args, "OOOOOOdKiip|p", &onet, &ox, &ob, &ot, &oa, &ow, &sigma, &seed,
                          &output, &mode, &times_delta, &layers))
        return NULL;
    NetworkObject *net = check_network(onet);
    if (!net || check_output(net, output, 0, 1) ||
        check_enum(mode, XNN_GRAD_PLAIN, XNN_GRAD_DECONVNET, "mode"))
        return NULL;
    if (!(sigma >= 0) || !isfinite(sigma)) {
        bad_number("sigma", "a finite number >= 0", sigma);
        return NULL;
    }
    PyArrayObject *X = check_input(net, ox, "X");
    if (!X) return NULL;
    PyArrayObject *B = NULL;
    if (ob != Py_None && !(B = check_array(ob, "baseline", net->typenum, 2, PyArray_DIMS(X), 0)))
        return NULL;
    size_t m = DIM(X, 0);
    PyArrayObject *T = check_targets(net, ot, m, 0);
    if (!T) return NULL;
    PyArrayObject *A = check_array(oa, "alphas", NPY_FLOAT64, 1, NULL, 0);
    if (!A) return NULL;
    PyArrayObject *W = check_array(ow, "weights", NPY_FLOAT64, 1, PyArray_DIMS(A), 0);
    if (!W) return NULL;
    size_t n_steps = DIM(A, 0);
    PyArrayObject *G = new_array(2, PyArray_DIMS(X), net->typenum);
    void *work = workspace(net, xnn_gradient_workspace_size(net->layers, net->n_layers, m, 1));
    if (!G || !work) goto fail;
    if (layers) {
        if (net->n_layers + 1 > 17 && !(grads = PyMem_Malloc((net->n_layers + 1) * sizeof(void *)))) {
            PyErr_NoMemory();
            goto fail;
        }
        if (!(lst = layer_list(net, G, m, grads))) goto fail;
    }
    void *bp = B ? DATA(B) : NULL;
    int st;
    CALL(st, X, xnn_mlp_gradient_sum, DATA(G), layers ? grads : NULL, work, DATA(X), bp,
         (const int64_t *)DATA(T), net->layers, net->n_layers, (const double *)DATA(A),
         (const double *)DATA(W), n_steps, sigma, seed, output, mode, times_delta, m);
    workspace_release(net, work);
    work = NULL;
    if (grads != stack) PyMem_Free(grads);
    grads = stack;
    if (raise_status(st)) goto fail;
    if (lst) { Py_DECREF(G); return lst; }
    return (PyObject *)G;
fail:
    Py_XDECREF(G); Py_XDECREF(lst); workspace_release(net, work);
    if (grads != stack) PyMem_Free(grads);
    return NULL;
}

/* explain_noise(like, sigma, seed, stream) -> the noise xnn_mlp_gradient_sum adds at step stream */
static PyObject *py_explain_noise(PyObject *self, PyObject *args)
{
    PyObject *olike;
    double sigma;
    unsigned long long seed, stream;
    if (!PyArg_ParseTuple(args, "OdKK", &olike, &sigma, &seed, &stream)) return NULL;
    PyArrayObject *like = check_array(olike, "like", FLOAT_ANY, 2, NULL, 0);
    if (!like) return NULL;
    if (check_finite(sigma, "sigma")) return NULL;
    PyArrayObject *N = new_array(2, PyArray_DIMS(like), PyArray_TYPE(like));
    if (!N) return NULL;
    int st;
    CALL(st, like, xnn_gaussian_noise, DATA(N), sigma, seed, stream, (size_t)PyArray_SIZE(like));
    if (raise_status(st)) { Py_DECREF(N); return NULL; }
    return (PyObject *)N;
}

/* lrp(net, X, targets, rules, low, high, start, bias) -> [R_0 (m, n_in_0), ..., R_L (m, n_out)]
 * rules: one (code, epsilon, gamma, alpha, beta) per layer; low, high (n_in_0) or None */
static PyObject *py_lrp(PyObject *self, PyObject *args)
{
    PyObject *onet, *ox, *ot, *orules, *olow, *ohigh;
    int start, bias;
    if (!PyArg_ParseTuple(args, "OOOOOOip", &onet, &ox, &ot, &orules, &olow, &ohigh, &start,
                          &bias))
        return NULL;
    NetworkObject *net = check_network(onet);
    if (!net || check_output(net, start, 1, 0)) return NULL;
    PyArrayObject *X = check_input(net, ox, "X");
    if (!X) return NULL;
    size_t m = DIM(X, 0), L = net->n_layers;
    PyArrayObject *T = check_targets(net, ot, m, 1);
    if (!T) return NULL;
    npy_intp bd[1] = {(npy_intp)net->layers[0].n_in};
    PyArrayObject *low = NULL, *high = NULL;
    if (olow != Py_None && !(low = check_array(olow, "low", net->typenum, 1, bd, 0))) return NULL;
    if (ohigh != Py_None && !(high = check_array(ohigh, "high", net->typenum, 1, bd, 0)))
        return NULL;
    if (!PyList_Check(orules) || (size_t)PyList_GET_SIZE(orules) != L) {
        PyErr_Format(PyExc_ValueError, "rules: expected a list of %zu rule tuples", L);
        return NULL;
    }
    xnn_lrp_rule *rules = PyMem_Calloc(L, sizeof(xnn_lrp_rule));
    void **rel = PyMem_Calloc(L + 1, sizeof(void *));
    PyObject *out = PyList_New((Py_ssize_t)L + 1);
    void *work = NULL;
    if (!rules || !rel || !out) { PyErr_NoMemory(); goto fail; }
    for (size_t l = 0; l < L; l++) {
        xnn_lrp_rule *r = &rules[l];
        if (!PyArg_ParseTuple(PyList_GET_ITEM(orules, l), "idddd;rules[l]: expected a tuple "
                              "(code, epsilon, gamma, alpha, beta)", &r->rule, &r->epsilon,
                              &r->gamma, &r->alpha, &r->beta))
            goto fail;
        if (check_enum(r->rule, XNN_LRP_ZERO, XNN_LRP_WSQUARE, "rules[l] code")) goto fail;
        if (!(r->epsilon >= 0) || !isfinite(r->epsilon)) {
            bad_number("rules[l] epsilon", "a finite number >= 0", r->epsilon);
            goto fail;
        }
        if (!(r->gamma >= 0) || !isfinite(r->gamma) || !(r->alpha >= 0) || !isfinite(r->alpha) ||
            !(r->beta >= 0) || !isfinite(r->beta)) {
            PyErr_Format(PyExc_ValueError, "rules[%zu]: expected finite gamma, alpha, beta >= 0", l);
            goto fail;
        }
        if (r->rule == XNN_LRP_ZBOX) {
            if (l != 0) {
                PyErr_Format(PyExc_ValueError, "rules[%zu]: zbox is for the input layer (0) only", l);
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
    for (size_t l = 0; l <= L; l++) {
        npy_intp rd[2] = {(npy_intp)m, (npy_intp)(l < L ? net->layers[l].n_in : net->layers[L - 1].n_out)};
        PyArrayObject *R = new_array(2, rd, net->typenum);
        if (!R) goto fail;
        PyList_SET_ITEM(out, (Py_ssize_t)l, (PyObject *)R);
        rel[l] = DATA(R);
    }
    work = workspace(net, xnn_lrp_workspace_size(net->layers, L, m));
    if (!work) goto fail;
    int st;
    CALL(st, X, xnn_mlp_lrp, rel, work, DATA(X), (const int64_t *)DATA(T), net->layers, rules, L,
         start, bias, m);
    if (raise_status(st)) goto fail;
    workspace_release(net, work); PyMem_Free(rules); PyMem_Free(rel);
    return out;
fail:
    workspace_release(net, work); PyMem_Free(rules); PyMem_Free(rel);
    Py_XDECREF(out);
    return NULL;
}

/* ---------------------------------------------------------------- settings */

static PyObject *py_isa(PyObject *self, PyObject *noargs)
{
    return PyUnicode_FromString(xnn_isa_name(xnn_isa()));
}

static PyObject *py_set_isa(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    for (int isa = XNN_ISA_REF; isa <= XNN_ISA_AVX512; isa++) {
        if (strcmp(name, xnn_isa_name(isa)) == 0) {
            if (xnn_set_isa(isa) != XNN_OK) {
                PyErr_Format(PyExc_ValueError, "isa: this processor does not support %s", name);
                return NULL;
            }
            Py_RETURN_NONE;
        }
    }
    PyErr_Format(PyExc_ValueError, "isa: expected 'ref', 'avx2' or 'avx512', got '%s'", name);
    return NULL;
}

static PyObject *py_cpu_has(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    for (int isa = XNN_ISA_REF; isa <= XNN_ISA_AVX512; isa++)
        if (strcmp(name, xnn_isa_name(isa)) == 0) return PyBool_FromLong(xnn_cpu_has(isa));
    PyErr_Format(PyExc_ValueError, "isa: expected 'ref', 'avx2' or 'avx512', got '%s'", name);
    return NULL;
}

static PyObject *py_set_num_threads(PyObject *self, PyObject *args)
{
    int n;
    if (!PyArg_ParseTuple(args, "i", &n)) return NULL;
    if (n < 1) {
        PyErr_Format(PyExc_ValueError, "n: expected an integer >= 1, got %d", n);
        return NULL;
    }
    xnn_set_num_threads(n);
    Py_RETURN_NONE;
}

static PyObject *py_get_num_threads(PyObject *self, PyObject *noargs)
{
    return PyLong_FromLong(xnn_get_num_threads());
}

static PyMethodDef methods[] = {
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
    {"momentum_update", py_momentum_update, METH_VARARGS,
     "momentum_update(W, V, dW, lr, momentum, nesterov): in place"},
    {"adam_update", py_adam_update, METH_VARARGS,
     "adam_update(W, M, V, dW, lr, beta1, beta2, eps, t): in place"},
    {"isa", py_isa, METH_NOARGS, "isa() -> the instruction set the kernels use"},
    {"set_isa", py_set_isa, METH_VARARGS, "set_isa(name): force 'ref', 'avx2' or 'avx512'"},
    {"cpu_has", py_cpu_has, METH_VARARGS, "cpu_has(name) -> whether the processor has it"},
    {"set_num_threads", py_set_num_threads, METH_VARARGS, "set_num_threads(n)"},
    {"get_num_threads", py_get_num_threads, METH_NOARGS, "get_num_threads() -> n"},
    {"explain_scores", py_explain_scores, METH_VARARGS,
     "explain_scores(net, X, targets, output) -> the start score of each row's target"},
    {"explain_gradient", py_explain_gradient, METH_VARARGS,
     "explain_gradient(net, X, targets, output, mode, layers=False, times_input=False, abs=False) -> "
     "(d score / d X, score); with layers ([d score / d X, d score / d A_0, ..., "
     "d score / d Z_last], score); times_input multiplies each by its layer's value"},
    {"explain_gradient_sum", py_explain_gradient_sum, METH_VARARGS,
     "explain_gradient_sum(net, X, baseline, targets, alphas, weights, sigma, seed, output, "
     "mode, times_delta, layers=False) -> sum_s weights[s] * gradient at x_s; with layers "
     "the list of it and every layer's weighted gradient sum, as explain_gradient"},
    {"explain_noise", py_explain_noise, METH_VARARGS,
     "explain_noise(like, sigma, seed, stream) -> the Gaussian noise of SmoothGrad's step stream"},
    {"lrp", py_lrp, METH_VARARGS,
     "lrp(net, X, targets, rules, low, high, start, bias) -> per-layer relevances [R_0, ..., R_L]"},
    {NULL, NULL, 0, NULL}};

static struct PyModuleDef moduledef = {
    PyModuleDef_HEAD_INIT,
    .m_name = "_core",
    .m_doc = "xnn's C kernels (see csrc/xnn.h).",
    .m_size = -1,
    .m_methods = methods,
};

PyMODINIT_FUNC PyInit__core(void)
{
    import_array();
    if (PyType_Ready(&NetworkType) < 0 || PyType_Ready(&TrainerType) < 0) return NULL;
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    Py_INCREF(&NetworkType);
    Py_INCREF(&TrainerType);
    if (PyModule_AddObject(m, "Network", (PyObject *)&NetworkType) < 0 ||
        PyModule_AddObject(m, "Trainer", (PyObject *)&TrainerType) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    PyModule_AddIntConstant(m, "ACT_LINEAR", XNN_ACT_LINEAR);
    PyModule_AddIntConstant(m, "ACT_RELU", XNN_ACT_RELU);
    PyModule_AddIntConstant(m, "ACT_TANH", XNN_ACT_TANH);
    PyModule_AddIntConstant(m, "ACT_SIGMOID", XNN_ACT_SIGMOID);
    PyModule_AddIntConstant(m, "ACT_SOFTMAX", XNN_ACT_SOFTMAX);
    PyModule_AddIntConstant(m, "LOSS_CROSS_ENTROPY", XNN_LOSS_CROSS_ENTROPY);
    PyModule_AddIntConstant(m, "LOSS_BINARY_CROSS_ENTROPY", XNN_LOSS_BINARY_CROSS_ENTROPY);
    PyModule_AddIntConstant(m, "LOSS_SSR", XNN_LOSS_SSR);
    PyModule_AddIntConstant(m, "OPT_SGD", XNN_OPT_SGD);
    PyModule_AddIntConstant(m, "OPT_MOMENTUM", XNN_OPT_MOMENTUM);
    PyModule_AddIntConstant(m, "OPT_ADAM", XNN_OPT_ADAM);
    return m;
}
