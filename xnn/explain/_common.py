"""Argument handling shared by the explanation methods."""
import math
import numbers

import numpy as np

from .. import _core
from .. import _validate as V

#: score names -> the C codes (csrc/xnn.h, XNN_START_*)
STARTS = {"logit": _core.START_LOGIT, "onehot": _core.START_ONEHOT,
          "probability": _core.START_PROBABILITY, "loss": _core.START_LOSS}
#: how gradients pass a ReLU (XNN_GRAD_*)
GRAD_PLAIN, GRAD_GUIDED, GRAD_DECONVNET = _core.GRAD_PLAIN, _core.GRAD_GUIDED, _core.GRAD_DECONVNET


_MODEL_TYPES = set()   # classes already seen to look like xnn.Sequential


def check_model(model):
    """The xnn.Sequential behind model (a fitted xnn.sklearn estimator's
    ``model_``, for instance)."""
    t = type(model)
    if t in _MODEL_TYPES:
        return model
    inner = getattr(model, "model_", None)
    if inner is not None and not hasattr(model, "_network"):
        return check_model(inner)
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
        t = np.empty(m, dtype=np.int64)     # np.full's Python layer costs more than the fill
        t.fill(-1)
        return t
    if (type(target) is np.ndarray and target.dtype == np.int64 and target.shape == (m,)
            and target.flags.c_contiguous and target.flags.aligned):
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
        if (arr.dtype.kind == "f" and np.all(np.isfinite(arr)) and np.all(arr == np.round(arr))
                and np.all(np.abs(arr) < 2**62)):
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
    return np.require(arr, dtype=np.int64, requirements="CAE")


def layer_index(model, layer, name="layer"):
    """A layer index of model.layers (negative counts from the end)."""
    n = len(model.layers)
    if isinstance(layer, (bool, np.bool_)) or not isinstance(layer, numbers.Integral):
        raise TypeError(f"{name}: expected a layer index (an integer), got {layer!r}")
    i = int(layer)
    if i < 0:
        i += n
    if not 0 <= i < n:
        raise ValueError(f"{name}: expected a layer index in [{-n}, {n}), got {layer}")
    return i


def start_of(model, target, start_layer, unit, m):
    """(node, targets) where an explanation starts: the last layer's target
    classes, or with start_layer a hidden layer's unit (a dense neuron or a
    channel of an image-shaped output) per row."""
    last = len(model.layers) - 1
    if start_layer is None:
        if unit is not None:
            raise ValueError("unit: names a unit of start_layer; give start_layer too")
        return last, targets_of(target, m, model.n_out)
    s = layer_index(model, start_layer, "start_layer")
    if s == last:
        if unit is not None and target is not None:
            raise ValueError("target, unit: give one of them for the last layer")
        return last, targets_of(unit if unit is not None else target, m, model.n_out,
                                "unit" if unit is not None else "target")
    if target is not None:
        raise ValueError(f"target: a class of the last layer; with start_layer={start_layer} "
                         "name the hidden unit with unit=")
    if unit is None:
        raise ValueError(f"unit: expected the unit (or channel) of layer {s} to start from, "
                         "got None")
    layer = model.layers[s]
    n_units = layer.output_shape_[0]
    what = "channel" if len(layer.output_shape_) > 1 else "unit"
    return s, targets_of(unit, m, n_units, f"unit (a {what} of layer {s})")


def prepare(model, X, target, start_layer=None, unit=None):
    """(network, X as (m, n_in) of the model's dtype, start node, targets
    (m,), shape of X)."""
    model = check_model(model)
    if (type(X) is np.ndarray and X.ndim == 2 and X.dtype == model.dtype and X.shape[0] > 0
            and X.shape[1] == model.n_in and X.flags.c_contiguous and X.flags.aligned):
        Xc, shape = X, None      # already what the C kernels take
        if V.first_nonfinite(Xc) is not None:
            Xc = model._X(X)     # raises, naming the value
    else:
        shape = np.shape(X) if isinstance(X, np.ndarray) else None
        Xc = model._X(X)
    node, targets = start_of(model, target, start_layer, unit, Xc.shape[0])
    return network(model), Xc, node, targets, shape


def resolve(net, Xc, targets, node):
    """The targets with -1 (the predicted class) replaced by the arg-max of
    the logits, as the C explanations resolve them."""
    if targets.size == 0 or targets.min() >= 0:
        return targets
    _, resolved = _core.explain_scores(net, Xc, targets, STARTS["logit"], node)
    return resolved


def shaped(A, shape):
    """A (m, n_in) back in the caller's shape of X, when it had another one."""
    if shape is not None and len(shape) != 2 and math.prod(shape) == A.size:
        return A.reshape(shape)
    return A


def shaped_layers(model, arrays, shape, node):
    """A per-layer list [E_0, E_1, ..., E_top] in its layers' shapes: E_0 like
    X, E_l like layer l's input (the output of layer l - 1), E_top like the
    start layer's output."""
    out = [shaped(arrays[0], shape)]
    for l in range(1, len(arrays)):
        layer = model.layers[l - 1] if l <= node else model.layers[node]
        a = arrays[l]
        out.append(a.reshape((a.shape[0],) + tuple(layer.output_shape_)))
    return out


_GRADIENT_OUTPUTS = ("logit", "probability", "loss")


def output_code(output, allowed=_GRADIENT_OUTPUTS):
    if allowed is _GRADIENT_OUTPUTS and output in _GRADIENT_OUTPUTS:
        return STARTS[output]
    return STARTS[V.choice(output, "output", set(allowed))]


def representable(value, dtype, name):
    """A float parameter that must fit the model's dtype (1e39 is finite in
    float64 but infinite in float32)."""
    v = V.finite_float(value, name)
    with np.errstate(over="ignore"):
        cast = np.asarray(v, dtype=dtype)
    if not np.isfinite(cast):
        raise ValueError(f"{name}: {v!r} is too large for the model's dtype "
                         f"{np.dtype(dtype).name}")
    return v


def finite_array(arr, dtype, name):
    """arr converted to dtype, refusing NaN, infinity and overflow."""
    with np.errstate(over="ignore", invalid="ignore"):
        out = np.asarray(arr, dtype=dtype)
    if not np.all(np.isfinite(out)):
        src = np.asarray(arr, dtype=np.float64)
        why = "NaN or infinity" if not np.all(np.isfinite(src)) else \
            f"values too large for {np.dtype(dtype).name}"
        raise ValueError(f"{name}: expected finite values, got {why}")
    return out
