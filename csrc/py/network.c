/* network.c: the Network type, a network's nodes over parameter arrays
 * owned by Python, and its inference.
 *
 *   Network(nodes, dtype="float32")
 *       nodes: a sequence of tuples
 *         (op, act, keep, (in_c, in_h, in_w), (out_c, out_h, out_w),
 *          (kh, kw), (sh, sw), (ph, pw), W, b)
 *       with W (in, out) for dense, (out_c, in_c, kh, kw) (or (out_c, in_c,
 *       kw) when kh = 1) for conv, b (out_c), None for ops without them.
 *   forward(X, outs=None)
 *
 * The sequence is copied into a tuple before anything in it is converted,
 * and every array is referenced for the Network's life, so nothing the
 * caller does to its list (from another thread, or from an item's own
 * conversion method) reaches memory the kernels read. A readers-writer lock
 * makes a Network safe to share between threads: inference and
 * explanations read, a training step writes.
 *
 * Inference and explanations run on the nodes with their prepared weights
 * (node->prep: a convolution's Winograd transforms), kept with a copy of
 * the W they were made from and made again at the first call that finds
 * W changed (a training step, or the caller writing into W): between
 * calls the bits of W are all that matter, however they changed.
 */
#if defined(__unix__) || defined(__APPLE__)
#define _POSIX_C_SOURCE 200809L
#include <pthread.h>
#define RWLOCK pthread_rwlock_t
#define RW_INIT(l) pthread_rwlock_init((l), NULL)
#define RW_FREE(l) pthread_rwlock_destroy(l)
#define RW_READ(l) pthread_rwlock_rdlock(l)
#define RW_WRITE(l) pthread_rwlock_wrlock(l)
#define RW_UNLOCK(l, w) pthread_rwlock_unlock(l)
#elif defined(_WIN32)
#include <windows.h>
#define RWLOCK SRWLOCK
#define RW_INIT(l) (InitializeSRWLock(l), 0)
#define RW_FREE(l) ((void)0)
#define RW_READ(l) AcquireSRWLockShared(l)
#define RW_WRITE(l) AcquireSRWLockExclusive(l)
#define RW_UNLOCK(l, w) ((w) ? ReleaseSRWLockExclusive(l) : ReleaseSRWLockShared(l))
#else
#define RWLOCK int
#define RW_INIT(l) (*(l) = 0)
#define RW_FREE(l) ((void)0)
#define RW_READ(l) ((void)0)
#define RW_WRITE(l) ((void)0)
#define RW_UNLOCK(l, w) ((void)0)
#endif
#include "core/atomic.h"
#include "layers/op.h"
#include "py/common.h"

/* the explanations' arena kept between calls, at most this many bytes */
#define ARENA_KEEP_BYTES ((size_t)256 << 20)
/* rows of one chunk of inference: its buffers within this many bytes */
#define FORWARD_BUDGET ((size_t)64 << 20)

struct NetworkObject {
    PyObject_HEAD
    int typenum;
    size_t n;
    xnn_node *nodes;
    PyObject *params;        /* tuple (W_0, b_0, W_1, b_1, ...), None where there are none */
    void *arena;             /* kept between explanations */
    size_t arena_bytes;
    int arena_busy;          /* lent to a call running without the GIL */
    RWLOCK lock;
    int lock_ok;
    int writer;              /* the lock is held for writing (Windows needs to know) */
    /* the nodes with their prepared weights (prep set once all are made) */
    xnn_node *pnodes;
    void **prep;             /* per node: prep bytes, then the W they were made from
                                (PyMem_Raw: made without the GIL), or NULL */
    XNN_ATOMIC_INT prep_busy;  /* a call is checking or making them */
    int prepared;            /* every node's prep made at least once */
};

NetworkObject *xnn_network_arg(PyObject *o)
{
    if (!PyObject_TypeCheck(o, &XnnNetworkType)) {
        PyErr_Format(PyExc_TypeError, "net: expected an xnn._core.Network, got %s",
                     Py_TYPE(o)->tp_name);
        return NULL;
    }
    NetworkObject *net = (NetworkObject *)o;
    if (!net->nodes) {
        PyErr_SetString(PyExc_RuntimeError, "net: the Network is not initialised");
        return NULL;
    }
    return net;
}

int xnn_network_typenum(const NetworkObject *net) { return net->typenum; }
size_t xnn_network_size(const NetworkObject *net) { return net->n; }

xnn_node *xnn_network_nodes(NetworkObject *net)
{
    for (size_t l = 0; l < net->n; l++) {
        PyObject *W = PyTuple_GET_ITEM(net->params, 2 * l), *b = PyTuple_GET_ITEM(net->params, 2 * l + 1);
        net->nodes[l].W = W == Py_None ? NULL : DATA((PyArrayObject *)W);
        net->nodes[l].b = b == Py_None ? NULL : DATA((PyArrayObject *)b);
    }
    return net->nodes;
}

void xnn_network_read_lock(NetworkObject *net)
{
    if (net->lock_ok) RW_READ(&net->lock);
}

/* whether the caller took the preparation (no other call holds it) */
static int prep_take(NetworkObject *net)
{
#if XNN_THREADED
    int free_ = 0;
    return atomic_compare_exchange_strong(&net->prep_busy, &free_, 1);
#else
    if (net->prep_busy) return 0;
    net->prep_busy = 1;
    return 1;
#endif
}

const xnn_node *xnn_network_read_prepared(NetworkObject *net)
{
    xnn_network_read_lock(net);
    if (!net->prep || !prep_take(net)) return net->nodes;
    const size_t elem = net->typenum == NPY_FLOAT64 ? 8 : 4;
    for (size_t l = 0; l < net->n; l++) {
        const xnn_node *a = &net->nodes[l];
        const size_t pb = xnn_op_prep_bytes(a, elem), wb = xnn_node_weights(a) * elem;
        if (pb == 0) continue;
        /* made at the first call that wants them (training alone never does) */
        if (!net->prep[l] && !(net->prep[l] = PyMem_RawMalloc(pb + wb))) {
            xnn_atomic_store(&net->prep_busy, 0);
            return net->nodes;      /* no memory for them: the kernels make their own */
        }
        char *copy = (char *)net->prep[l] + pb;
        if (net->prepared && memcmp(copy, a->W, wb) == 0) continue;
        xnn_op_prepare(net->prep[l], a, elem, xnn_get_num_threads());
        memcpy(copy, a->W, wb);
    }
    if (!net->prepared) {
        for (size_t l = 0; l < net->n; l++) net->pnodes[l].prep = net->prep[l];
        net->prepared = 1;
    }
    xnn_atomic_store(&net->prep_busy, 0);
    return net->pnodes;
}

void xnn_network_write_lock(NetworkObject *net)
{
    if (net->lock_ok) RW_WRITE(&net->lock);
    net->writer = 1;
}

void xnn_network_unlock(NetworkObject *net)
{
    const int w = net->writer;
    net->writer = 0;
    if (net->lock_ok) RW_UNLOCK(&net->lock, w);
    (void)w;
}

PyArrayObject *xnn_network_input(NetworkObject *net, PyObject *o, const char *name)
{
    npy_intp xd[2] = {ANY_DIM, (npy_intp)xnn_node_in(&net->nodes[0])};
    return xnn_check_array(o, name, net->typenum, 2, xd, 0);
}

void *xnn_network_arena(NetworkObject *net, size_t bytes)
{
    if (bytes == 0) bytes = 64;
    if (!net->arena_busy && bytes <= ARENA_KEEP_BYTES) {
        if (bytes > net->arena_bytes) {
            PyMem_Free(net->arena);
            net->arena_bytes = 0;
            if (!(net->arena = PyMem_Malloc(bytes))) return PyErr_NoMemory();
            net->arena_bytes = bytes;
        }
        net->arena_busy = 1;
        return net->arena;
    }
    void *w = PyMem_Malloc(bytes);
    if (!w) PyErr_NoMemory();
    return w;
}

void xnn_network_arena_release(NetworkObject *net, void *arena)
{
    if (arena && arena == net->arena) net->arena_busy = 0;
    else PyMem_Free(arena);
}

static void Network_dealloc(NetworkObject *self)
{
    Py_XDECREF(self->params);
    if (self->prep)
        for (size_t l = 0; l < self->n; l++) PyMem_RawFree(self->prep[l]);
    PyMem_Free(self->prep);
    PyMem_Free(self->pnodes);
    PyMem_Free(self->nodes);
    PyMem_Free(self->arena);
    if (self->lock_ok) RW_FREE(&self->lock);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

static int parse_dtype(PyObject *o, int *typenum)
{
    PyArray_Descr *d = NULL;
    if (!PyArray_DescrConverter(o, &d)) return -1;
    const int t = d->type_num;
    Py_DECREF(d);
    if (t != NPY_FLOAT32 && t != NPY_FLOAT64) {
        PyErr_SetString(PyExc_ValueError, "dtype: expected float32 or float64");
        return -1;
    }
    *typenum = t;
    return 0;
}

/* the parameter array `what` of node l, or NULL with an exception */
static PyArrayObject *param(PyObject *o, Py_ssize_t l, const char *what, int typenum, int ndim,
                            const npy_intp *dims)
{
    char name[64];
    PyOS_snprintf(name, sizeof(name), "nodes[%zd] %s", l, what);
    return xnn_check_array(o, name, typenum, ndim, dims, 1);
}

/* the table of the prepared weights (none when no node has any; each
   node's buffer is made at its first use); -1 with MemoryError */
static int make_prep(NetworkObject *self, const xnn_node *nodes, size_t n, int typenum)
{
    const size_t elem = typenum == NPY_FLOAT64 ? 8 : 4;
    int any = 0;
    for (size_t l = 0; l < n; l++) any |= xnn_op_prep_bytes(&nodes[l], elem) > 0;
    if (!any) return 0;
    self->prep = PyMem_Calloc(n, sizeof(void *));
    self->pnodes = PyMem_Malloc(n * sizeof(xnn_node));
    if (!self->prep || !self->pnodes) {
        PyMem_Free(self->prep);
        PyMem_Free(self->pnodes);
        self->prep = NULL;
        self->pnodes = NULL;
        PyErr_NoMemory();
        return -1;
    }
    memcpy(self->pnodes, nodes, n * sizeof(xnn_node));
    return 0;
}

static int Network_init(NetworkObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"nodes", "dtype", NULL};
    PyObject *seq, *odt = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O", kwlist, &seq, &odt)) return -1;
    if (self->nodes) {
        PyErr_SetString(PyExc_RuntimeError, "Network is already initialised");
        return -1;
    }
    int typenum = NPY_FLOAT32;
    if (odt && odt != Py_None && parse_dtype(odt, &typenum)) return -1;
    /* a tuple copy: the caller's sequence is never read again */
    PyObject *items = PySequence_Tuple(seq);
    if (!items) {
        if (PyErr_ExceptionMatches(PyExc_TypeError)) {
            PyErr_Clear();
            PyErr_Format(PyExc_TypeError, "nodes: expected a sequence of node tuples, got %s",
                         Py_TYPE(seq)->tp_name);
        }
        return -1;
    }
    const Py_ssize_t n = PyTuple_GET_SIZE(items);
    xnn_node *nodes = NULL;
    PyObject *params = NULL;
    if (n < 1) {
        PyErr_SetString(PyExc_ValueError, "nodes: expected at least one node, got 0");
        goto fail;
    }
    nodes = PyMem_Calloc((size_t)n, sizeof(xnn_node));
    params = PyTuple_New(2 * n);
    if (!nodes || !params) {
        PyErr_NoMemory();
        goto fail;
    }
    for (Py_ssize_t l = 0; l < n; l++) {
        PyObject *item = PyTuple_GET_ITEM(items, l), *ow, *ob;
        xnn_node *a = &nodes[l];
        Py_ssize_t s[12];
        if (!PyTuple_Check(item) || PyTuple_GET_SIZE(item) != 10) {
            PyErr_Format(PyExc_TypeError,
                         "nodes[%zd]: expected a tuple (op, act, keep, in_shape, out_shape, "
                         "kernel, stride, padding, W, b), got %s", l, Py_TYPE(item)->tp_name);
            goto fail;
        }
        /* the item is a tuple held by `items`: converting its numbers may
           run Python code, which can change neither it nor what it holds */
        if (!PyArg_ParseTuple(item, "iid(nnn)(nnn)(nn)(nn)(nn)OO", &a->op, &a->act, &a->keep,
                              &s[0], &s[1], &s[2], &s[3], &s[4], &s[5], &s[6], &s[7], &s[8],
                              &s[9], &s[10], &s[11], &ow, &ob))
            goto fail;
        for (int i = 0; i < 12; i++)
            if (i < 10 ? s[i] < 1 : s[i] < 0) {
                PyErr_Format(PyExc_ValueError,
                             "nodes[%zd]: expected shapes, kernel and stride >= 1 and padding "
                             ">= 0, got %zd", l, s[i]);
                goto fail;
            }
        a->in_c = (size_t)s[0], a->in_h = (size_t)s[1], a->in_w = (size_t)s[2];
        a->out_c = (size_t)s[3], a->out_h = (size_t)s[4], a->out_w = (size_t)s[5];
        a->kh = (size_t)s[6], a->kw = (size_t)s[7], a->sh = (size_t)s[8], a->sw = (size_t)s[9];
        a->ph = (size_t)s[10], a->pw = (size_t)s[11];
        if (xnn_check_enum(a->op, 0, XNN_OP_COUNT - 1, "op") ||
            xnn_check_enum(a->act, XNN_ACT_LINEAR, XNN_ACT_SOFTMAX, "act"))
            goto fail;
        if (!(a->keep > 0 && a->keep <= 1)) {
            xnn_bad_number("keep", "a keep probability in (0, 1]", a->keep);
            goto fail;
        }
        PyArrayObject *W = NULL, *b = NULL;
        if (a->op == XNN_OP_DENSE || a->op == XNN_OP_CONV) {
            if (a->op == XNN_OP_DENSE) {
                npy_intp wd[2] = {(npy_intp)a->in_c, (npy_intp)a->out_c};
                W = param(ow, l, "W", typenum, 2, wd);
            } else if (PyArray_Check(ow) && PyArray_NDIM((PyArrayObject *)ow) == 3 && a->kh == 1) {
                npy_intp wd[3] = {(npy_intp)a->out_c, (npy_intp)a->in_c, (npy_intp)a->kw};
                W = param(ow, l, "W", typenum, 3, wd);
            } else {
                npy_intp wd[4] = {(npy_intp)a->out_c, (npy_intp)a->in_c, (npy_intp)a->kh,
                                  (npy_intp)a->kw};
                W = param(ow, l, "W", typenum, 4, wd);
            }
            if (!W) goto fail;
            npy_intp bd[1] = {(npy_intp)a->out_c};
            if (!(b = param(ob, l, "b", typenum, 1, bd))) goto fail;
            a->W = DATA(W);
            a->b = DATA(b);
        } else if (ow != Py_None || ob != Py_None) {
            PyErr_Format(PyExc_ValueError, "nodes[%zd]: this op has no parameters, expected W "
                         "and b None", l);
            goto fail;
        }
        if (xnn_node_check(a) != XNN_OK) {
            PyErr_Format(PyExc_ValueError,
                         "nodes[%zd]: the output shape (%zu, %zu, %zu) does not follow from the "
                         "input shape (%zu, %zu, %zu), kernel, stride and padding of op %d",
                         l, a->out_c, a->out_h, a->out_w, a->in_c, a->in_h, a->in_w, a->op);
            goto fail;
        }
        Py_INCREF(W ? (PyObject *)W : Py_None);
        PyTuple_SET_ITEM(params, 2 * l, W ? (PyObject *)W : Py_None);
        Py_INCREF(b ? (PyObject *)b : Py_None);
        PyTuple_SET_ITEM(params, 2 * l + 1, b ? (PyObject *)b : Py_None);
    }
    if (xnn_network_check(nodes, (size_t)n) != XNN_OK) {
        PyErr_SetString(PyExc_ValueError,
                        "nodes: each node's output shape must be the next node's input shape, "
                        "softmax only on the last node, and no dropout on it");
        goto fail;
    }
    Py_DECREF(items);
    if (make_prep(self, nodes, (size_t)n, typenum)) goto fail_prep;
    self->typenum = typenum;
    self->n = (size_t)n;
    self->nodes = nodes;
    self->params = params;
    self->lock_ok = RW_INIT(&self->lock) == 0;
    return 0;
fail_prep:
    Py_XDECREF(params);
    PyMem_Free(nodes);
    return -1;
fail:
    Py_DECREF(items);
    Py_XDECREF(params);
    PyMem_Free(nodes);
    return -1;
}

/* forward(X, outs=None): the last node's output (m, out), or with outs (a
 * sequence of one array (m, out_l) or None per node) each given output */
static PyObject *Network_forward(NetworkObject *self, PyObject *args)
{
    PyObject *ox, *oouts = Py_None;
    if (!PyArg_ParseTuple(args, "O|O", &ox, &oouts)) return NULL;
    NetworkObject *net = xnn_network_arg((PyObject *)self);
    if (!net) return NULL;
    PyArrayObject *X = xnn_network_input(net, ox, "X");
    if (!X) return NULL;
    const size_t m = DIM(X, 0), n = net->n;
    PyObject *outs = NULL, *result = NULL;
    void *stack[16], **ptrs = n <= 16 ? stack : PyMem_Calloc(n, sizeof(void *));
    if (!ptrs) return PyErr_NoMemory();
    memset(ptrs, 0, n * sizeof(void *));
    if (oouts == Py_None) {
        npy_intp od[2] = {(npy_intp)m, (npy_intp)xnn_node_out(&net->nodes[n - 1])};
        PyArrayObject *Y = xnn_new_array(2, od, net->typenum);
        if (!Y) goto done;
        result = (PyObject *)Y;
        ptrs[n - 1] = DATA(Y);
    } else {
        outs = PySequence_Tuple(oouts);
        if (!outs) goto done;
        if ((size_t)PyTuple_GET_SIZE(outs) != n) {
            PyErr_Format(PyExc_ValueError, "outs: expected %zu arrays (one per node), got %zd", n,
                         PyTuple_GET_SIZE(outs));
            goto done;
        }
        for (size_t l = 0; l < n; l++) {
            PyObject *o = PyTuple_GET_ITEM(outs, l);
            if (o == Py_None) continue;
            npy_intp od[2] = {(npy_intp)m, (npy_intp)xnn_node_out(&net->nodes[l])};
            char name[32];
            PyOS_snprintf(name, sizeof(name), "outs[%zu]", l);
            PyArrayObject *a = xnn_check_array(o, name, net->typenum, 2, od, 1);
            if (!a) goto done;
            ptrs[l] = DATA(a);
        }
        Py_INCREF(Py_None);
        result = Py_None;
    }
    const xnn_node *nodes = xnn_network_nodes(net);
    const size_t elem = net->typenum == NPY_FLOAT64 ? 8 : 4;
    char pbuf[1024];
    xnn_plan *plan = xnn_plan_size(n) <= sizeof(pbuf) ? (xnn_plan *)pbuf
                                                       : PyMem_Malloc(xnn_plan_size(n));
    if (!plan) {
        PyErr_NoMemory();
        Py_CLEAR(result);
        goto done;
    }
    int st = xnn_plan_make(plan, nodes, n, m ? m : 1, FORWARD_BUDGET, 0, elem,
                           xnn_get_num_threads());
    void *arena = st == XNN_OK ? xnn_network_arena(net, plan->bytes) : NULL;
    if (arena) {
        Py_BEGIN_ALLOW_THREADS
        nodes = xnn_network_read_prepared(net);
        XNN_DISPATCH(st, net->typenum, xnn_network_forward, ptrs, plan, arena, DATA(X), nodes, n, m);
        xnn_network_unlock(net);
        Py_END_ALLOW_THREADS
        xnn_network_arena_release(net, arena);
    }
    if ((void *)plan != (void *)pbuf) PyMem_Free(plan);
    if (!arena || xnn_raise_status(st, "forward")) Py_CLEAR(result);
done:
    Py_XDECREF(outs);
    if (ptrs != stack) PyMem_Free(ptrs);
    return result;
}

/* assign(i, A): copy A into parameter array i (W_0, b_0, W_1, ...) under
 * the write lock, so that a training step or explanation running in
 * another thread sees all of it or none of it */
static PyObject *Network_assign(NetworkObject *self, PyObject *args)
{
    Py_ssize_t i;
    PyObject *oa;
    if (!PyArg_ParseTuple(args, "nO", &i, &oa)) return NULL;
    NetworkObject *net = xnn_network_arg((PyObject *)self);
    if (!net) return NULL;
    if (i < 0 || i >= PyTuple_GET_SIZE(net->params) || PyTuple_GET_ITEM(net->params, i) == Py_None) {
        PyErr_Format(PyExc_ValueError, "i: expected the index of a parameter array, got %zd", i);
        return NULL;
    }
    PyArrayObject *dst = (PyArrayObject *)PyTuple_GET_ITEM(net->params, i);
    PyArrayObject *src = xnn_check_array(oa, "A", net->typenum, PyArray_NDIM(dst),
                                         PyArray_DIMS(dst), 0);
    if (!src) return NULL;
    const size_t bytes = (size_t)PyArray_NBYTES(dst);
    Py_BEGIN_ALLOW_THREADS
    xnn_network_write_lock(net);
    memmove(DATA(dst), DATA(src), bytes);
    xnn_network_unlock(net);
    Py_END_ALLOW_THREADS
    Py_RETURN_NONE;
}

static PyObject *Network_get_dtype(NetworkObject *self, void *closure)
{
    return PyUnicode_FromString(xnn_dtype_name(self->typenum));
}

static PyObject *Network_get_n(NetworkObject *self, void *closure)
{
    return PyLong_FromSize_t(self->n);
}

static PyObject *Network_get_params(NetworkObject *self, void *closure)
{
    if (!self->params) Py_RETURN_NONE;
    Py_INCREF(self->params);
    return self->params;
}

static PyMethodDef Network_methods[] = {
    {"forward", (PyCFunction)Network_forward, METH_VARARGS,
     "forward(X, outs=None): the last node's output, or each node's into outs (no dropout)."},
    {"assign", (PyCFunction)Network_assign, METH_VARARGS,
     "assign(i, A): copy A into parameter array i under the write lock."},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Network_getset[] = {
    {"dtype", (getter)Network_get_dtype, NULL, "the dtype of the parameters", NULL},
    {"n_nodes", (getter)Network_get_n, NULL, "the number of nodes", NULL},
    {"params", (getter)Network_get_params, NULL, "the parameter arrays (W, b per node)", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

PyTypeObject XnnNetworkType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "xnn._core.Network",
    .tp_basicsize = sizeof(NetworkObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Network(nodes, dtype='float32'): a network of nodes over parameter arrays owned "
              "by Python.\nnodes: tuples (op, act, keep, in_shape, out_shape, kernel, stride, "
              "padding, W, b).",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Network_init,
    .tp_dealloc = (destructor)Network_dealloc,
    .tp_methods = Network_methods,
    .tp_getset = Network_getset,
};

int xnn_add_network(PyObject *m)
{
    if (PyType_Ready(&XnnNetworkType) < 0) return -1;
    Py_INCREF(&XnnNetworkType);
    if (PyModule_AddObject(m, "Network", (PyObject *)&XnnNetworkType) < 0) {
        Py_DECREF(&XnnNetworkType);
        return -1;
    }
    return 0;
}
