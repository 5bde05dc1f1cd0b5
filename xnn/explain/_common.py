"""Argument handling shared by the explanation methods."""
import numbers

import numpy as np

from .. import _validate as V

#: score names -> the C codes (csrc/xnn.h, XNN_START_*)
STARTS = {"logit": 0, "onehot": 1, "probability": 2, "loss": 3}
#: how gradients pass a ReLU (XNN_GRAD_*)
GRAD_PLAIN, GRAD_GUIDED, GRAD_DECONVNET = 0, 1, 2


_MODEL_TYPES = set()   # classes already seen to look like xnn.Sequential


def check_model(model):
    t = type(model)
    if t in _MODEL_TYPES:
        return model
    if not (hasattr(model, "_network") and hasattr(model, "_X") and hasattr(model, "layers")):
        raise TypeError(f"model: expected an xnn.Sequential, got {type(model).__name__}")
    _MODEL_TYPES.add(t)
    return model


def network(model):
    """The model's ``_core.Network`` (made once and reused by the model)."""
    return model._network()


def targets_of(target, m, n_classes, name="target"):
    """int64 (m,) class per row; -1 for target=None (the predicted class)."""
    if target is None:
        return np.full(m, -1, dtype=np.int64)
    if (type(target) is np.ndarray and target.dtype == np.int64 and target.shape == (m,)
            and target.flags.c_contiguous):
        # the common case of one class per row, already int64
        if m == 1:
            if 0 <= target.item(0) < n_classes:
                return target
        elif m <= 16:
            if all(0 <= v < n_classes for v in target.tolist()):
                return target
        elif target.min() >= 0 and target.max() < n_classes:
            return target
    if isinstance(target, (bool, np.bool_)):
        raise TypeError(f"{name}: expected a class index or an array of them, got {target!r}")
    if isinstance(target, numbers.Integral):
        t = int(target)
        if not 0 <= t < n_classes:
            raise ValueError(f"{name}: expected a class in [0, {n_classes}), got {t}")
        return np.full(m, t, dtype=np.int64)
    try:
        arr = np.asarray(target)
    except Exception as e:
        raise TypeError(f"{name}: expected a class index or an array of them: {e}") from None
    if arr.ndim == 0 and arr.dtype.kind in "iu":
        return targets_of(int(arr), m, n_classes, name)
    if arr.dtype.kind not in "iu":
        if arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr)):
            arr = arr.astype(np.int64)
        else:
            raise TypeError(f"{name}: expected integer class indices, got dtype {arr.dtype}")
    if arr.ndim != 1 or arr.shape[0] != m:
        raise ValueError(f"{name}: expected one class per row, shape ({m},), got {arr.shape}")
    if arr.size <= 16:  # small batches: a Python loop beats two reductions
        bad = [v for v in arr.tolist() if not 0 <= v < n_classes]
        if bad:
            raise ValueError(f"{name}: expected classes in [0, {n_classes}), got {bad[0]}")
    elif arr.min() < 0 or arr.max() >= n_classes:
        bad = arr[(arr < 0) | (arr >= n_classes)][0]
        raise ValueError(f"{name}: expected classes in [0, {n_classes}), got {bad}")
    return np.ascontiguousarray(arr, dtype=np.int64)


def prepare(model, X, target):
    """(network, X as (m, n_in) of the model's dtype, targets (m,), shape of X)."""
    check_model(model)
    layers = model.layers
    if (type(X) is np.ndarray and X.ndim == 2 and X.dtype == model.dtype and X.shape[0] > 0
            and X.shape[1] == layers[0].n_in and X.flags.c_contiguous and X.flags.aligned):
        Xc, shape = X, None      # already what the C kernels take
    else:
        shape = np.shape(X) if isinstance(X, np.ndarray) else None
        Xc = model._X(X)
    targets = targets_of(target, Xc.shape[0], layers[-1].n_out)
    return network(model), Xc, targets, shape


def resolve(model, X, targets):
    """Replace -1 (the predicted class) by the model's prediction."""
    if targets.size == 0 or targets.min() >= 0:
        return targets
    pred = model.predict(X)
    return np.ascontiguousarray(np.where(targets < 0, pred, targets), dtype=np.int64)


def shaped(A, shape):
    """A (m, n_in) back in the caller's shape of X, when it had another one."""
    if shape is not None and len(shape) != 2 and int(np.prod(shape)) == A.size:
        return A.reshape(shape)
    return A


_GRADIENT_OUTPUTS = ("logit", "probability", "loss")


def output_code(output, allowed=_GRADIENT_OUTPUTS):
    if allowed is _GRADIENT_OUTPUTS and output in _GRADIENT_OUTPUTS:
        return STARTS[output]
    return STARTS[V.choice(output, "output", set(allowed))]
