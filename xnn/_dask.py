"""Explanations and predictions of ``dask.array`` rows, chunk by chunk.

Every ``xnn.explain`` function that returns one value (or one map) per row,
and ``Sequential.predict_proba``/``predict``, take a ``dask.array`` whose
first axis holds the rows and return a lazy ``dask.array``: one task per
chunk of rows, each the ordinary in-memory call on that chunk. The model is
one task of the graph (a ``dask.delayed`` value) that every chunk's task
depends on, so it is pickled once into the graph and sent once to each
worker that needs it, not once per chunk (a model pickles without its C
state, which each worker rebuilds once). dask is imported only when a dask
array is passed.

- Only the first axis may be chunked; other axes are rechunked whole.
- Per-row arguments (``target``, ``unit``, ``baseline`` with one row per
  row of X, as NumPy or dask arrays) are split with X's chunks.
- Each chunk is computed by the same kernels row by row, so the result
  equals the in-memory call on all rows, to the bit (for any thread count).
  SmoothGrad draws its noise by position in the call: chunked, each chunk
  gets the noise its own call would, which equals calling ``smoothgrad`` on
  each chunk, not one call on every row.
- ``return_layers``, ``return_error`` and ``return_targets`` give lists or
  annotated arrays and are refused for dask input; results that are
  annotated arrays otherwise (the CAM family's ``.maps``) come back as
  plain arrays.
"""
import functools
import inspect
import math
import threading

import numpy as np

#: arguments that may hold one value per row of X
PER_ROW = ("target", "unit", "baseline")
#: arguments whose results are not one array per row
NOT_LAZY = ("return_layers", "return_error", "return_targets")


def is_dask(x):
    return hasattr(x, "__dask_graph__") and hasattr(x, "chunks")


def rows_aware(fn):
    """fn(model, X, ...) that also takes a dask array X (see the module)."""
    try:
        signature = inspect.signature(fn)
    except (TypeError, ValueError):  # pragma: no cover - builtins
        signature = None

    @functools.wraps(fn)
    def wrapper(model, X, *args, **kwargs):
        if hasattr(X, "__dask_graph__"):
            if args and signature is not None:
                bound = signature.bind_partial(model, X, *args, **kwargs)
                kwargs = {k: v for k, v in bound.arguments.items() if k not in ("model", "X")}
                args = ()
            if args:
                raise TypeError(f"{fn.__name__}: give the arguments after X by name for a dask "
                                "array")
            return map_rows(fn, model, X, **kwargs)
        return fn(model, X, *args, **kwargs)

    wrapper.__wrapped__ = fn
    wrapper.__module__ = "xnn.explain"   # where it is public: pickles by that name
    return wrapper


_lock = threading.Lock()


def _usable(model):
    """The model with weights the C core takes. A model deserialised from
    pickle's out-of-band buffers (as distributed sends arrays) may hold
    read-only or unaligned arrays; those are copied, once per process."""
    for layer in model.layers:
        if not all(p.flags.c_contiguous and p.flags.aligned and p.flags.writeable
                   for p in layer.params):
            with _lock:
                params = layer.params
                if not all(p.flags.c_contiguous and p.flags.aligned and p.flags.writeable
                           for p in params):
                    layer._set_params([np.array(p, order="C") for p in params])
    return model


def _block(x, model, *rows, fn, names, kwargs):
    """One chunk: the in-memory call."""
    model = _usable(model)
    # arrays received from other processes may be unaligned views of a buffer
    kw = {k: np.require(v, requirements="CA") if isinstance(v, np.ndarray) else v
          for k, v in kwargs.items()}
    kw.update((k, np.require(r, requirements="CA")) for k, r in zip(names, rows))
    return np.asarray(fn(model, np.require(x, requirements="CA"), **kw))


def _per_row(value, name, m, row_chunks, n_in, da):
    """value as a dask array split like X's rows, or None when it is one
    value for every row."""
    if value is None or isinstance(value, (str, bytes)) or np.isscalar(value):
        return None
    if is_dask(value):
        arr = value
    else:
        arr = np.asarray(value)
        if arr.ndim == 0:
            return None
        if name == "baseline" and (arr.size == n_in and not (arr.ndim > 1 and arr.shape[0] == m
                                                             and m > 1)):
            return None          # one row for every row of X
    if arr.ndim == 0 or arr.shape[0] != m:
        raise ValueError(f"{name}: expected one value or one per row of X ({m} rows) with a "
                         f"dask array X, got shape {arr.shape}")
    chunks = (row_chunks,) + tuple((s,) for s in arr.shape[1:])
    if is_dask(arr):
        return arr.rechunk(chunks)
    return da.from_array(arr, chunks=chunks)


def map_rows(fn, model, X, **kwargs):
    """fn(model, X, **kwargs) for a dask array X, lazily, one task per chunk
    of rows (see the module)."""
    import dask
    import dask.array as da

    from .explain._common import check_model
    name = getattr(fn, "__name__", "function")
    model = check_model(model)
    for k in NOT_LAZY:
        if kwargs.get(k):
            raise ValueError(f"{k}: not available for a dask array X (it returns more than one "
                             "array per row); compute the rows you need and call "
                             f"{name} on them")
    if X.ndim < 1:
        raise ValueError(f"X: expected rows along the first axis, got a dask array of shape "
                         f"{X.shape}")
    if any(math.isnan(c) for c in X.chunks[0]):
        raise ValueError("X: a dask array whose row chunks have unknown sizes; call "
                         "X.compute_chunk_sizes() first")
    if X.ndim > 1 and any(len(c) > 1 for c in X.chunks[1:]):
        X = X.rechunk({i: -1 for i in range(1, X.ndim)})   # rows only
    m = X.shape[0]
    per_row = {}
    for k in PER_ROW:
        if k in kwargs:
            arr = _per_row(kwargs[k], k, m, X.chunks[0], model.n_in, da)
            if arr is not None:
                per_row[k] = arr
    rest = {k: v for k, v in kwargs.items() if k not in per_row}
    # the result's dtype and row shape, from the call on one row of zeros
    probe_kw = dict(rest)
    for k, arr in per_row.items():
        probe_kw[k] = np.zeros((1,) + arr.shape[1:], dtype=arr.dtype)
    probe = np.asarray(fn(model, np.zeros((1,) + X.shape[1:], dtype=X.dtype), **probe_kw))
    letters = "abcdefghjklmnopqrstuvwxyz"
    x_ind = "i" + letters[:X.ndim - 1]
    out_ind = "i" + letters[10:10 + probe.ndim - 1]   # letters[10:18]
    new_axes = {c: s for c, s in zip(out_ind[1:], probe.shape[1:])}
    model_d = dask.delayed(model, pure=False, traverse=False)
    args, free = [X, x_ind, model_d, None], 18     # letters[18:] for the per-row arrays
    for arr in per_row.values():
        args += [arr, "i" + letters[free:free + arr.ndim - 1]]
        free += arr.ndim - 1
    token = dask.base.tokenize(model_d.key, X.name, [a.name for a in per_row.values()], rest)
    return da.blockwise(_block, out_ind, *args, new_axes=new_axes, concatenate=True,
                        dtype=probe.dtype, meta=np.empty((0,) * probe.ndim, probe.dtype),
                        name=f"xnn-{name}-{token}", fn=fn, names=tuple(per_row), kwargs=rest)
