/* trainer.c: the Trainer type: a network, one plan and arena for its batch
 * size, the gradients and optimizer state of every node, and step(), one
 * training step in one call.
 *
 *   Trainer(network, batch, loss, optimizer, lr, momentum=0, nesterov=False,
 *           beta1=0.9, beta2=0.999, eps=1e-8, seed=0)
 *   step(X, labels) -> (sum of loss, sum of SSR, number correct, finite)
 *   step(X, labels, rows): the step trains on X[rows], labels[rows],
 *       gathered in C
 *
 * With guard (the default), a step first copies the parameters and the
 * optimizer state, and when the step's loss or any parameter comes out
 * NaN or infinite it puts the copy back and returns finite = False: a
 * diverging fit keeps its last finite weights.
 *
 * The arena holds at most TRAIN_CHUNK rows (fewer when a row of the
 * network's buffers is large); a larger batch goes through its step in
 * chunks (train/step.c), summing their gradients.
 */
#include "py/common.h"

#define TRAIN_CHUNK 4096
#define TRAIN_BUDGET ((size_t)128 << 20)

typedef struct {
    PyObject_HEAD
    NetworkObject *net;
    xnn_train_config cfg;
    xnn_plan *plan;
    void *arena;
    xnn_grads *grads;        /* one per node */
    PyObject *buffers;       /* list of the gradient and state arrays, kept alive */
    size_t batch;
    void *xbuf;              /* (batch, in_0) rows gathered by step(..., rows), or NULL */
    int64_t *lbuf;           /* (batch) their labels */
    int guard;
    double last[4];          /* the last step's statistics and whether it was finite */
    size_t last_rows;
    size_t n_guarded;        /* arrays the guard copies */
    void **guarded;          /* each array's data */
    size_t *guarded_bytes;
    char *backup;            /* their copies, end to end */
} TrainerObject;

static void Trainer_dealloc(TrainerObject *self)
{
    Py_XDECREF(self->net);
    Py_XDECREF(self->buffers);
    PyMem_Free(self->plan);
    PyMem_Free(self->arena);
    PyMem_Free(self->grads);
    PyMem_Free(self->guarded);
    PyMem_Free(self->guarded_bytes);
    PyMem_Free(self->backup);
    Py_TYPE(self)->tp_free((PyObject *)self);
}

/* a zeroed array of shape dims, kept in self->buffers; its data */
static void *buffer(TrainerObject *self, int nd, const npy_intp *dims, int typenum)
{
    PyObject *a = PyArray_ZEROS(nd, (npy_intp *)dims, typenum, 0);
    if (!a) return NULL;
    const int r = PyList_Append(self->buffers, a);
    Py_DECREF(a);
    return r ? NULL : DATA((PyArrayObject *)a);
}

static int Trainer_init(TrainerObject *self, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"network", "batch", "loss", "optimizer", "lr", "momentum",
                             "nesterov", "beta1", "beta2", "eps", "seed", "guard", NULL};
    PyObject *onet;
    Py_ssize_t batch;
    int loss, opt, nesterov = 0, guard = 1;
    double lr, mu = 0, b1 = 0.9, b2 = 0.999, eps = 1e-8;
    unsigned long long seed = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "Oniid|dpdddKp", kwlist, &onet, &batch, &loss,
                                     &opt, &lr, &mu, &nesterov, &b1, &b2, &eps, &seed, &guard))
        return -1;
    if (self->net) {
        PyErr_SetString(PyExc_RuntimeError, "Trainer is already initialised");
        return -1;
    }
    NetworkObject *net = xnn_network_arg(onet);
    if (!net) return -1;
    if (batch < 1) {
        PyErr_Format(PyExc_ValueError, "batch: expected an integer >= 1, got %zd", batch);
        return -1;
    }
    if (xnn_check_enum(loss, XNN_LOSS_CROSS_ENTROPY, XNN_LOSS_SSR, "loss") ||
        xnn_check_enum(opt, XNN_OPT_SGD, XNN_OPT_ADAM, "optimizer") ||
        xnn_check_finite(lr, "lr") || xnn_check_finite(mu, "momentum") ||
        xnn_check_finite(b1, "beta1") || xnn_check_finite(b2, "beta2") ||
        xnn_check_finite(eps, "eps"))
        return -1;
    Py_INCREF(net);
    self->net = net;
    self->batch = (size_t)batch;
    self->cfg = (xnn_train_config){.loss = loss, .optimizer = opt, .lr = lr, .momentum = mu,
                                   .beta1 = b1, .beta2 = b2, .eps = eps, .nesterov = nesterov,
                                   .step = 0, .seed = seed};
    const size_t n = xnn_network_size(net);
    const int t = xnn_network_typenum(net);
    const xnn_node *nodes = xnn_network_nodes(net);
    self->buffers = PyList_New(0);
    self->plan = PyMem_Malloc(xnn_plan_size(n));
    self->grads = PyMem_Calloc(n, sizeof(xnn_grads));
    if (!self->buffers || !self->plan || !self->grads) {
        PyErr_NoMemory();
        return -1;
    }
    const size_t rows = (size_t)batch < TRAIN_CHUNK ? (size_t)batch : TRAIN_CHUNK;
    if (xnn_raise_status(xnn_plan_make(self->plan, nodes, n, rows, TRAIN_BUDGET, XNN_PLAN_TRAIN,
                                       t == NPY_FLOAT64 ? 8 : 4, xnn_get_num_threads()),
                         "Trainer"))
        return -1;
    if (!(self->arena = PyMem_Malloc(self->plan->bytes))) {
        PyErr_Format(PyExc_MemoryError, "Trainer: no memory for the %zu bytes of a step's buffers",
                     self->plan->bytes);
        return -1;
    }
    for (size_t l = 0; l < n; l++) {
        const xnn_node *a = &nodes[l];
        if (!xnn_node_linear(a)) continue;
        npy_intp wd[1] = {(npy_intp)xnn_node_weights(a)}, bd[1] = {(npy_intp)a->out_c};
        xnn_grads *g = &self->grads[l];
        if (!(g->dW = buffer(self, 1, wd, t)) || !(g->db = buffer(self, 1, bd, t))) return -1;
        if (opt != XNN_OPT_SGD &&
            (!(g->s1W = buffer(self, 1, wd, t)) || !(g->s1b = buffer(self, 1, bd, t))))
            return -1;
        if (opt == XNN_OPT_ADAM &&
            (!(g->s2W = buffer(self, 1, wd, t)) || !(g->s2b = buffer(self, 1, bd, t))))
            return -1;
    }
    self->guard = guard;
    if (guard) {
        /* what a step changes: W, b and their optimizer state */
        const size_t elem = t == NPY_FLOAT64 ? 8 : 4;
        self->guarded = PyMem_Calloc(6 * n, sizeof(void *));
        self->guarded_bytes = PyMem_Calloc(6 * n, sizeof(size_t));
        if (!self->guarded || !self->guarded_bytes) {
            PyErr_NoMemory();
            return -1;
        }
        size_t total = 0;
        for (size_t l = 0; l < n; l++) {
            const xnn_node *a = &nodes[l];
            if (!xnn_node_linear(a)) continue;
            const xnn_grads *g = &self->grads[l];
            void *arr[6] = {a->W, a->b, g->s1W, g->s1b, g->s2W, g->s2b};
            const size_t sz[6] = {xnn_node_weights(a), a->out_c, xnn_node_weights(a), a->out_c,
                                  xnn_node_weights(a), a->out_c};
            for (int i = 0; i < 6; i++) {
                if (!arr[i]) continue;
                self->guarded[self->n_guarded] = arr[i];
                self->guarded_bytes[self->n_guarded++] = sz[i] * elem;
                total += sz[i] * elem;
            }
        }
        if (!(self->backup = PyMem_Malloc(total ? total : 1))) {
            PyErr_NoMemory();
            return -1;
        }
    }
    return 0;
}

/* copy the guarded arrays to the backup (save) or back (restore) */
static void guard_copy(TrainerObject *self, int save)
{
    char *p = self->backup;
    for (size_t i = 0; i < self->n_guarded; i++) {
        if (save) memcpy(p, self->guarded[i], self->guarded_bytes[i]);
        else memcpy(self->guarded[i], p, self->guarded_bytes[i]);
        p += self->guarded_bytes[i];
    }
}

/* whether the step's loss and every guarded parameter are finite */
static int guard_finite(TrainerObject *self, int typenum, const double stats[3])
{
    if (!isfinite(stats[0]) || !isfinite(stats[1])) return 0;
    const size_t elem = typenum == NPY_FLOAT64 ? 8 : 4;
    for (size_t i = 0; i < self->n_guarded; i++) {
        const size_t len = self->guarded_bytes[i] / elem;
        size_t bad;
        XNN_DISPATCH(bad, typenum, xnn_first_nonfinite, self->guarded[i], len);
        if (bad < len) return 0;
    }
    return 1;
}

/* check labels (m) int64 in [0, n_out) */
static PyArrayObject *check_labels(PyObject *o, size_t m, size_t n_out)
{
    npy_intp ld[1] = {(npy_intp)m};
    PyArrayObject *lab = xnn_check_array(o, "labels", NPY_INT64, 1, ld, 0);
    if (!lab) return NULL;
    const int64_t *l = (const int64_t *)DATA(lab);
    for (size_t i = 0; i < m; i++)
        if (l[i] < 0 || (size_t)l[i] >= n_out) {
            PyErr_Format(PyExc_ValueError, "labels: expected integers in [0, %zu), got %lld at %zu",
                         n_out, (long long)l[i], i);
            return NULL;
        }
    return lab;
}

static PyObject *Trainer_step(TrainerObject *self, PyObject *args)
{
    PyObject *ox, *ol, *orows = Py_None;
    if (!self->net) {
        PyErr_SetString(PyExc_RuntimeError, "Trainer is not initialised");
        return NULL;
    }
    if (!PyArg_ParseTuple(args, "OO|O", &ox, &ol, &orows)) return NULL;
    NetworkObject *net = self->net;
    const size_t n = xnn_network_size(net);
    const int t = xnn_network_typenum(net);
    xnn_node *nodes = xnn_network_nodes(net);
    const size_t in0 = xnn_node_in(&nodes[0]), n_out = xnn_node_out(&nodes[n - 1]);
    PyArrayObject *X = xnn_network_input(net, ox, "X");
    if (!X) return NULL;
    size_t m = DIM(X, 0);
    const void *xp = DATA(X);
    const int64_t *lp;
    if (orows == Py_None) {
        if (m < 1 || m > self->batch) {
            PyErr_Format(PyExc_ValueError, "X: expected between 1 and %zu rows, got %zu",
                         self->batch, m);
            return NULL;
        }
        PyArrayObject *lab = check_labels(ol, m, n_out);
        if (!lab) return NULL;
        lp = (const int64_t *)DATA(lab);
    } else {
        npy_intp ld[1] = {(npy_intp)m};
        PyArrayObject *lab = xnn_check_array(ol, "labels", NPY_INT64, 1, ld, 0);
        PyArrayObject *rows = lab ? xnn_check_array(orows, "rows", NPY_INT64, 1, NULL, 0) : NULL;
        if (!rows) return NULL;
        const size_t k = DIM(rows, 0);
        if (k < 1 || k > self->batch) {
            PyErr_Format(PyExc_ValueError, "rows: expected between 1 and %zu indices, got %zu",
                         self->batch, k);
            return NULL;
        }
        if (!self->xbuf) {   /* made on first use: full-batch training never needs it */
            npy_intp bd[2] = {(npy_intp)self->batch, (npy_intp)in0};
            if (!(self->xbuf = buffer(self, 2, bd, t))) return NULL;
            if (!(self->lbuf = buffer(self, 1, bd, NPY_INT64))) return NULL;
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
        XNN_CALL(st, t, xnn_gather_rows, self->xbuf, self->lbuf, DATA(X), l, r, k, in0);
        if (xnn_raise_status(st, "step")) return NULL;
        xp = self->xbuf;
        lp = self->lbuf;
        m = k;
    }
    double stats[3] = {0, 0, 0};
    self->cfg.step++;
    int st, finite = 1;
    Py_BEGIN_ALLOW_THREADS
    xnn_network_write_lock(net);
    if (self->guard) guard_copy(self, 1);
    XNN_DISPATCH(st, t, xnn_train_step, stats, self->plan, self->arena, self->grads, xp, lp, nodes,
                 n, &self->cfg, m);
    if (st == XNN_OK && self->guard && !(finite = guard_finite(self, t, stats))) guard_copy(self, 0);
    xnn_network_unlock(net);
    Py_END_ALLOW_THREADS
    if (xnn_raise_status(st, "step")) return NULL;
    self->last[0] = stats[0], self->last[1] = stats[1], self->last[2] = stats[2];
    self->last[3] = finite;
    self->last_rows = m;
    return Py_BuildValue("dddO", stats[0], stats[1], stats[2], finite ? Py_True : Py_False);
}

static PyObject *Trainer_get_step(TrainerObject *self, void *closure)
{
    return PyLong_FromLongLong((long long)self->cfg.step);
}

static PyObject *Trainer_get_last(TrainerObject *self, void *closure)
{
    if (self->cfg.step == 0) Py_RETURN_NONE;
    return Py_BuildValue("dddOn", self->last[0], self->last[1], self->last[2],
                         self->last[3] ? Py_True : Py_False, (Py_ssize_t)self->last_rows);
}

static PyObject *Trainer_get_rows(TrainerObject *self, void *closure)
{
    return PyLong_FromSize_t(self->plan ? self->plan->rows : 0);
}

static PyMethodDef Trainer_methods[] = {
    {"step", (PyCFunction)Trainer_step, METH_VARARGS,
     "step(X, labels[, rows]) -> (sum of loss, sum of SSR, number correct, finite)"},
    {NULL, NULL, 0, NULL}};

static PyGetSetDef Trainer_getset[] = {
    {"steps", (getter)Trainer_get_step, NULL, "number of steps taken", NULL},
    {"chunk_rows", (getter)Trainer_get_rows, NULL, "rows of one chunk of a step", NULL},
    {"last", (getter)Trainer_get_last, NULL,
     "the last step's (sum of loss, sum of SSR, number correct, finite, rows), or None", NULL},
    {NULL, NULL, NULL, NULL, NULL}};

static PyTypeObject TrainerType = {
    PyVarObject_HEAD_INIT(NULL, 0)
    .tp_name = "xnn._core.Trainer",
    .tp_basicsize = sizeof(TrainerObject),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "Trainer(network, batch, loss, optimizer, lr, ...): the workspaces of one batch "
              "size; step() trains in one call.",
    .tp_new = PyType_GenericNew,
    .tp_init = (initproc)Trainer_init,
    .tp_dealloc = (destructor)Trainer_dealloc,
    .tp_methods = Trainer_methods,
    .tp_getset = Trainer_getset,
};

int xnn_add_trainer(PyObject *m)
{
    if (PyType_Ready(&TrainerType) < 0) return -1;
    Py_INCREF(&TrainerType);
    if (PyModule_AddObject(m, "Trainer", (PyObject *)&TrainerType) < 0) {
        Py_DECREF(&TrainerType);
        return -1;
    }
    return 0;
}
