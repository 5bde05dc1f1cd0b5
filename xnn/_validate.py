"""Argument checks shared by the Python layer.

Every message names the argument, what was expected and what was given,
so a mistake in a notebook reads as a sentence rather than a traceback
from C.
"""
import math
import numbers

import numpy as np

from ._core import first_nonfinite as _first_nonfinite   # flat index, or -1

DTYPES = {"float32": np.float32, "float64": np.float64}


def dtype(value, name="dtype"):
    """Return np.float32 or np.float64 for a dtype given as a name or type."""
    try:
        dt = np.dtype(value)
    except TypeError:
        raise TypeError(f"{name}: expected 'float32' or 'float64', got {value!r}") from None
    if dt not in (np.float32, np.float64):
        raise ValueError(f"{name}: expected 'float32' or 'float64', got {dt.name!r}")
    return dt.type


def positive_int(value, name, minimum=1, allow_none=False):
    if value is None and allow_none:
        return None
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Integral):
        raise TypeError(f"{name}: expected an integer >= {minimum}, got {value!r}")
    if value < minimum:
        raise ValueError(f"{name}: expected an integer >= {minimum}, got {value}")
    return int(value)


def finite_float(value, name, low=None, high=None, low_open=False, high_open=False):
    """A finite real number in [low, high] (open ends when asked)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, numbers.Real):
        raise TypeError(f"{name}: expected a real number, got {value!r}")
    v = float(value)
    if not math.isfinite(v):
        raise ValueError(f"{name}: expected a finite number, got {v}")
    if low is not None and (v < low or (low_open and v == low)):
        raise ValueError(f"{name}: expected a number {'>' if low_open else '>='} {low}, got {v}")
    if high is not None and (v > high or (high_open and v == high)):
        raise ValueError(f"{name}: expected a number {'<' if high_open else '<='} {high}, got {v}")
    return v


def choice(value, name, options):
    if not isinstance(value, str) or value.lower() not in options:
        raise ValueError(f"{name}: expected one of {sorted(options)}, got {value!r}")
    return value.lower()


def features(X, name, n_features, dt, finite=False, shape=None):
    """X as a C-contiguous (m, n_features) array of dtype dt, m >= 1; with
    finite=True, NaN and infinity are refused. X may be rows (m,
    n_features), one row (n_features,), or blocks whose trailing axes hold
    n_features values ((m, 28, 28) images); with ``shape`` (the shape of
    one row, e.g. (1, 28, 28)) also one row of that shape."""
    if type(X) is np.ndarray and X.dtype == dt and X.flags.c_contiguous and X.flags.aligned \
            and X.ndim >= 2 and X.shape[0] > 0 and n_features is not None:
        # the common case, already what the kernels read: no copy, one check
        if X.ndim == 2:
            out = X if X.shape[1] == n_features else None
        elif shape is not None and len(shape) > 1 and X.shape == tuple(shape):
            out = X.reshape(1, -1)
        else:
            out = X.reshape(X.shape[0], -1) if math.prod(X.shape[1:]) == n_features else None
        if out is not None and not (finite and _first_nonfinite(out) >= 0):
            return out
    if isinstance(X, np.ndarray) and X.dtype.kind in "fiub" and X.ndim == 2:
        arr = X
    else:
        try:
            arr = np.asarray(X)
        except Exception as e:  # ragged lists and the like
            raise TypeError(f"{name}: expected a 2-D array of numbers, could not convert: {e}") from None
        if arr.dtype.kind not in "fiub":
            raise TypeError(f"{name}: expected a 2-D array of numbers, got dtype {arr.dtype}")
    if shape is not None and len(shape) > 1 and arr.shape == tuple(shape):
        arr = arr.reshape(1, -1)                 # one image or signal
    elif arr.ndim == 1 and n_features is not None and arr.shape[0] == n_features:
        arr = arr.reshape(1, -1)
    elif arr.ndim > 2 and n_features is not None and math.prod(arr.shape[1:]) == n_features:
        arr = arr.reshape(arr.shape[0], -1)  # e.g. images (m, 28, 28)
    def image():
        return f" (or blocks (m,) + {tuple(shape)})" if shape is not None and len(shape) > 1 else ""
    if arr.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array (rows, {n_features}){image()}, got shape "
                         f"{arr.shape}")
    if n_features is not None and arr.shape[1] != n_features:
        raise ValueError(f"{name}: expected {n_features} columns{image()}, got shape "
                         f"{np.shape(X)}")
    if arr.shape[0] == 0:
        raise ValueError(f"{name}: expected at least one row, got shape {arr.shape}")
    if type(arr) is np.ndarray and arr.dtype == dt and arr.flags.c_contiguous \
            and arr.flags.aligned:
        out = arr
    else:
        with np.errstate(over="ignore", invalid="ignore"):
            out = np.require(arr, dtype=dt, requirements="CAE")   # C-contiguous, aligned, ndarray
    if finite and out.dtype.kind == "f":
        bad = first_nonfinite(out)
        if bad is not None:
            src = arr[bad]
            why = f"{src!r}, too large for {np.dtype(dt).name}" if np.isfinite(src) else f"{out[bad]}"
            raise ValueError(f"{name}: expected finite values, got {why} at row {bad[0]}, "
                             f"column {bad[1]} (of the row's {out.shape[1]} values)")
    return out


def first_nonfinite(a):
    """(row, column) of the first NaN or infinity of a C-contiguous 2-D
    float array, or None. One pass in C on every thread, with no temporary
    (a NumPy isfinite would allocate a boolean array of X's size)."""
    i = _first_nonfinite(a)
    return None if i < 0 else divmod(i, a.shape[1])



def labels(y, name, m, n_classes):
    """Integer labels (m,) int64 in [0, n_classes) from labels or one-hot rows."""
    try:
        arr = np.asarray(y)
    except Exception as e:
        raise TypeError(f"{name}: expected integer labels or one-hot rows, could not convert: {e}") from None
    if arr.dtype.kind not in "fiub":
        raise TypeError(f"{name}: expected integer labels or one-hot rows, got dtype {arr.dtype}")
    if arr.ndim == 2:
        if arr.shape[1] != n_classes:
            raise ValueError(
                f"{name}: expected one-hot rows with {n_classes} columns, got shape {arr.shape}")
        ok = np.all((arr == 0) | (arr == 1), axis=1) & (np.sum(arr == 1, axis=1) == 1)
        if not np.all(ok):
            bad = int(np.flatnonzero(~ok)[0])
            raise ValueError(f"{name}: expected one-hot rows (a single 1, zeros elsewhere), "
                             f"row {bad} is {arr[bad].tolist()}")
        arr = np.argmax(arr, axis=1)
    elif arr.ndim != 1:
        raise ValueError(f"{name}: expected shape ({m},) or ({m}, {n_classes}), got {arr.shape}")
    if arr.shape[0] != m:
        raise ValueError(f"{name}: expected {m} labels to match the rows of X, got {arr.shape[0]}")
    if arr.dtype.kind == "f":
        if not np.all(np.isfinite(arr)) or not np.all(arr == np.round(arr)):
            raise ValueError(f"{name}: expected integer labels, got non-integer values")
    if arr.size and (arr.min() < 0 or arr.max() >= n_classes):
        bad = arr[(arr < 0) | (arr >= n_classes)][0]
        raise ValueError(f"{name}: expected labels in [0, {n_classes}), got {bad}")
    return np.require(arr, dtype=np.int64, requirements="CAE")
