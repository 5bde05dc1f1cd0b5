/* common.h: what every file of the binding shares (the only files with
 * Python.h are in csrc/py/).
 *
 * The binding is strict: every entry point checks its arguments (type,
 * dtype, C-contiguity, alignment, ndim, shape, ranges) and raises
 * TypeError or ValueError naming the argument, the expected and the actual
 * value; it never trusts the caller. Arrays are allocated with the GIL
 * held; only kernels run without it. Friendly conversion is the Python
 * layer's job.
 */
#ifndef XNN_PY_COMMON_H
#define XNN_PY_COMMON_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>
#ifndef XNN_PY_MODULE
#define NO_IMPORT_ARRAY
#endif
#define PY_ARRAY_UNIQUE_SYMBOL xnn_ARRAY_API
#define NPY_NO_DEPRECATED_API NPY_1_7_API_VERSION
#include <numpy/arrayobject.h>
#include "xnn.h"

#if defined(__GNUC__)
/* CPython calls every entry point with (self, args[, kw]) whether it uses them or not */
#pragma GCC diagnostic ignored "-Wunused-parameter"
#endif

#define ANY_DIM (-1)
#define FLOAT_ANY (-1)   /* float32 or float64, as the first array decides */

#define IS64(a) (PyArray_TYPE(a) == NPY_FLOAT64)
#define DATA(a) PyArray_DATA(a)
#define DIM(a, i) ((size_t)PyArray_DIM(a, i))

/* Run the kernel fn for dtype typenum (NPY_FLOAT32 or NPY_FLOAT64) into int
   st, arguments as given: the one dtype dispatch of the binding. */
#define XNN_DISPATCH(st, typenum, fn, ...) \
    ((st) = (typenum) == NPY_FLOAT64 ? fn##_f64(__VA_ARGS__) : fn##_f32(__VA_ARGS__))
/* the same without the GIL */
#define XNN_CALL(st, typenum, fn, ...)                  \
    do {                                                \
        Py_BEGIN_ALLOW_THREADS                          \
        XNN_DISPATCH(st, typenum, fn, __VA_ARGS__);     \
        Py_END_ALLOW_THREADS                            \
    } while (0)

/* obj as an ndarray of dtype typenum (FLOAT_ANY: float32 or float64),
   C-contiguous, aligned, with ndim dimensions of sizes dims (ANY_DIM: any;
   dims may be NULL), writeable when asked; a borrowed reference or NULL
   with an exception set */
PyArrayObject *xnn_check_array(PyObject *obj, const char *name, int typenum, int ndim,
                               const npy_intp *dims, int writeable);
/* 0 for XNN_OK, else -1 with MemoryError or ValueError set */
int xnn_raise_status(int st, const char *what);
/* -1 with ValueError "<name>: expected an integer in [lo, hi], got v" when out of range */
int xnn_check_enum(int v, int lo, int hi, const char *name);
/* -1 with ValueError "<name>: expected <what>, got <v>" */
int xnn_bad_number(const char *name, const char *what, double v);
/* -1 unless v is finite (ValueError naming it) */
int xnn_check_finite(double v, const char *name);
/* a new uninitialised array */
PyArrayObject *xnn_new_array(int nd, const npy_intp *dims, int typenum);
const char *xnn_dtype_name(int typenum);

/* ---- network.c ---- */

/* A network: its nodes and references to their parameter arrays, which
 * Python owns and updates in place. A readers-writer lock makes it safe to
 * share between threads: explanations and inference read, a training
 * step writes, each taken without the GIL around the kernel. */
typedef struct NetworkObject NetworkObject;
extern PyTypeObject XnnNetworkType;

NetworkObject *xnn_network_arg(PyObject *o);      /* type check, or NULL */
int xnn_network_typenum(const NetworkObject *net);
size_t xnn_network_size(const NetworkObject *net);
xnn_node *xnn_network_nodes(NetworkObject *net);  /* W and b pointers refreshed */
void xnn_network_read_lock(NetworkObject *net);   /* call without the GIL */
/* the read lock, then the nodes with their prepared weights (checked
   against W, made again where it changed), or the plain nodes while
   another call is preparing them; without the GIL */
const xnn_node *xnn_network_read_prepared(NetworkObject *net);
void xnn_network_write_lock(NetworkObject *net);
void xnn_network_unlock(NetworkObject *net);
/* X as (m, in_0) rows of the network's dtype */
PyArrayObject *xnn_network_input(NetworkObject *net, PyObject *o, const char *name);
/* the arena of a plan of `bytes` bytes, lent by the network (kept between
   calls, up to a limit) or allocated; give it back with release */
void *xnn_network_arena(NetworkObject *net, size_t bytes);
void xnn_network_arena_release(NetworkObject *net, void *arena);

/* ---- module.c ---- */
int xnn_add_network(PyObject *m);
int xnn_add_trainer(PyObject *m);
extern PyMethodDef xnn_ops_methods[];
extern PyMethodDef xnn_explain_methods[];

#endif
