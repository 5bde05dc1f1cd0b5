/* module.c: xnn._core, the CPython binding of the C kernels: the module,
 * its constants (every enum code the Python side uses, exported from
 * xnn.h), the settings (instruction set, threads) and the checks the
 * binding's files share. The types and families live beside it:
 * network.c (Network), trainer.c (Trainer), explain.c (explanations),
 * ops.c (single kernels, for tests and the curious).
 */
#define XNN_PY_MODULE
#include "py/common.h"

/* ---------------------------------------------------------------- checks */

const char *xnn_dtype_name(int typenum)
{
    switch (typenum) {
    case NPY_FLOAT32: return "float32";
    case NPY_FLOAT64: return "float64";
    case NPY_INT64: return "int64";
    case NPY_UINT8: return "uint8";
    default: return "?";
    }
}

PyArrayObject *xnn_check_array(PyObject *obj, const char *name, int typenum, int ndim,
                               const npy_intp *dims, int writeable)
{
    if (!PyArray_Check(obj)) {
        PyErr_Format(PyExc_TypeError, "%s: expected a numpy.ndarray, got %s", name,
                     Py_TYPE(obj)->tp_name);
        return NULL;
    }
    PyArrayObject *a = (PyArrayObject *)obj;
    const int t = PyArray_TYPE(a);
    if (typenum == FLOAT_ANY ? (t != NPY_FLOAT32 && t != NPY_FLOAT64) : t != typenum) {
        PyObject *s = PyObject_Str((PyObject *)PyArray_DESCR(a));
        PyErr_Format(PyExc_TypeError, "%s: expected dtype %s, got %S", name,
                     typenum == FLOAT_ANY ? "float32 or float64" : xnn_dtype_name(typenum),
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
    for (int i = 0; i < ndim; i++)
        if (dims && dims[i] != ANY_DIM && PyArray_DIM(a, i) != dims[i]) {
            PyErr_Format(PyExc_ValueError, "%s: expected size %zd in dimension %d, got %zd",
                         name, (Py_ssize_t)dims[i], i, (Py_ssize_t)PyArray_DIM(a, i));
            return NULL;
        }
    return a;
}

int xnn_raise_status(int st, const char *what)
{
    if (st == XNN_OK) return 0;
    if (st == XNN_ENOMEM) PyErr_NoMemory();
    else
        PyErr_Format(PyExc_ValueError, "%s: the kernel rejected an argument out of its domain",
                     what ? what : "xnn");
    return -1;
}

int xnn_check_enum(int v, int lo, int hi, const char *name)
{
    if (v < lo || v > hi) {
        PyErr_Format(PyExc_ValueError, "%s: expected an integer in [%d, %d], got %d", name, lo,
                     hi, v);
        return -1;
    }
    return 0;
}

int xnn_bad_number(const char *name, const char *what, double v)
{
    PyObject *f = PyFloat_FromDouble(v);
    if (f) {
        PyErr_Format(PyExc_ValueError, "%s: expected %s, got %R", name, what, f);
        Py_DECREF(f);
    }
    return -1;
}

int xnn_check_finite(double v, const char *name)
{
    return isfinite(v) ? 0 : xnn_bad_number(name, "a finite number", v);
}

PyArrayObject *xnn_new_array(int nd, const npy_intp *dims, int typenum)
{
    return (PyArrayObject *)PyArray_EMPTY(nd, (npy_intp *)dims, typenum, 0);
}

/* ---------------------------------------------------------------- settings */

static int isa_code(const char *name)
{
    for (int isa = XNN_ISA_REF; isa <= XNN_ISA_AVX512; isa++)
        if (strcmp(name, xnn_isa_name(isa)) == 0) return isa;
    return -1;
}

static PyObject *py_isa(PyObject *self, PyObject *noargs)
{
    return PyUnicode_FromString(xnn_isa_name(xnn_isa()));
}

static PyObject *py_set_isa(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    const int isa = isa_code(name);
    if (isa < 0) {
        PyErr_Format(PyExc_ValueError, "isa: expected 'ref', 'avx2' or 'avx512', got '%s'", name);
        return NULL;
    }
    if (xnn_set_isa(isa) != XNN_OK) {
        PyErr_Format(PyExc_ValueError, "isa: this processor does not support '%s'", name);
        return NULL;
    }
    Py_RETURN_NONE;
}

static PyObject *py_cpu_has(PyObject *self, PyObject *args)
{
    const char *name;
    if (!PyArg_ParseTuple(args, "s", &name)) return NULL;
    const int isa = isa_code(name);
    if (isa < 0) {
        PyErr_Format(PyExc_ValueError, "isa: expected 'ref', 'avx2' or 'avx512', got '%s'", name);
        return NULL;
    }
    return PyBool_FromLong(xnn_cpu_has(isa));
}

static PyObject *py_set_num_threads(PyObject *self, PyObject *args)
{
    int n;
    if (!PyArg_ParseTuple(args, "i", &n)) return NULL;
    if (n < 1) {
        PyErr_Format(PyExc_ValueError, "n: expected an integer >= 1, got %d", n);
        return NULL;
    }
    Py_BEGIN_ALLOW_THREADS
    xnn_set_num_threads(n);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *py_get_num_threads(PyObject *self, PyObject *noargs)
{
    return PyLong_FromLong(xnn_get_num_threads());
}

static PyMethodDef settings_methods[] = {
    {"isa", py_isa, METH_NOARGS, "isa() -> the instruction set the kernels use"},
    {"set_isa", py_set_isa, METH_VARARGS, "set_isa(name): force 'ref', 'avx2' or 'avx512'"},
    {"cpu_has", py_cpu_has, METH_VARARGS, "cpu_has(name) -> whether the processor has it"},
    {"set_num_threads", py_set_num_threads, METH_VARARGS,
     "set_num_threads(n): at most n threads; lowering it releases idle workers"},
    {"get_num_threads", py_get_num_threads, METH_NOARGS, "get_num_threads() -> n"},
    {NULL, NULL, 0, NULL}};

/* ---------------------------------------------------------------- module */

static struct PyModuleDef moduledef = {PyModuleDef_HEAD_INIT, "_core",
                                       "xnn's C kernels (see csrc/xnn.h).", -1, NULL,
                                       NULL, NULL, NULL, NULL};

#define CONST(name) {#name, XNN_##name}
static const struct {
    const char *name;
    int value;
} constants[] = {
    CONST(ACT_LINEAR), CONST(ACT_RELU), CONST(ACT_TANH), CONST(ACT_SIGMOID), CONST(ACT_SOFTMAX),
    CONST(LOSS_CROSS_ENTROPY), CONST(LOSS_BINARY_CROSS_ENTROPY), CONST(LOSS_SSR),
    CONST(OPT_SGD), CONST(OPT_MOMENTUM), CONST(OPT_ADAM),
    CONST(ISA_REF), CONST(ISA_AVX2), CONST(ISA_AVX512),
    CONST(OP_DENSE), CONST(OP_CONV), CONST(OP_MAXPOOL), CONST(OP_AVGPOOL),
    CONST(OP_GLOBAL_AVGPOOL), CONST(OP_FLATTEN),
    CONST(START_LOGIT), CONST(START_ONEHOT), CONST(START_PROBABILITY), CONST(START_LOSS),
    CONST(GRAD_PLAIN), CONST(GRAD_GUIDED), CONST(GRAD_DECONVNET),
    CONST(FINISH_TIMES), CONST(FINISH_ABS),
    CONST(LRP_ZERO), CONST(LRP_EPSILON), CONST(LRP_GAMMA), CONST(LRP_ALPHABETA),
    CONST(LRP_ZBOX), CONST(LRP_FLAT), CONST(LRP_WSQUARE), CONST(LRP_GENERALIZED_GAMMA),
    CONST(POOL_WTA), CONST(POOL_NORM), CONST(CAM_GRAD), CONST(CAM_GRAD_PLUS), CONST(CAM_CLASS),
    CONST(RESIZE_LINEAR), CONST(RESIZE_NEAREST),
};
#undef CONST

PyMODINIT_FUNC PyInit__core(void)
{
    import_array();
    PyObject *m = PyModule_Create(&moduledef);
    if (!m) return NULL;
    if (PyModule_AddFunctions(m, settings_methods) || PyModule_AddFunctions(m, xnn_ops_methods) ||
        PyModule_AddFunctions(m, xnn_explain_methods) || xnn_add_network(m) || xnn_add_trainer(m))
        goto fail;
    for (size_t i = 0; i < sizeof(constants) / sizeof(constants[0]); i++)
        if (PyModule_AddIntConstant(m, constants[i].name, constants[i].value) < 0) goto fail;
    return m;
fail:
    Py_DECREF(m);
    return NULL;
}
