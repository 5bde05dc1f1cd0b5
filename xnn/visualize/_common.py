"""Argument handling shared by the visualizations: layers and units, the
image layout of a model's input, progress bars."""
import math
import numbers

import numpy as np

from ..explain import _common as EC

__all__ = ["check_model", "layer_index", "units_of", "layout", "progress", "rng_of"]

check_model = EC.check_model


def layer_index(model, layer, name="layer"):
    """A layer index of model.layers (negative counts from the end)."""
    return EC.layer_index(model, layer, name)


def describe(model, i):
    ly = model.layers[i]
    return f"layer {i} ({type(ly).__name__}, output {tuple(ly.output_shape_)})"


def _int_array(value, name):
    """int64 (k,) from an integer or a 1-D array of integers."""
    if isinstance(value, (bool, np.bool_)):
        raise TypeError(f"{name}: expected an integer index or a list of them, got {value!r}")
    if isinstance(value, numbers.Integral):
        return np.array([int(value)], dtype=np.int64), True
    try:
        arr = np.asarray(value)
    except Exception as e:
        raise TypeError(f"{name}: expected an integer index or a list of them: {e}") from None
    if arr.dtype.kind not in "iu":
        raise TypeError(f"{name}: expected integer indices, got {value!r} (dtype {arr.dtype})")
    if arr.ndim == 0:
        return np.array([int(arr)], dtype=np.int64), True
    if arr.ndim != 1:
        raise ValueError(f"{name}: expected one index per row, a 1-D list, got shape {arr.shape}"
                         " (a unit of a convolution is a channel, not a position)")
    if arr.size == 0:
        raise ValueError(f"{name}: expected at least one index, got an empty list")
    return arr.astype(np.int64), False


def units_of(model, layer, unit, target, what="unit"):
    """(node, units int64 (k,), scalar, label): where a score starts.

    layer None or the last layer: a class logit (``target=`` or ``unit=``);
    a hidden layer: ``unit=`` a neuron of a flat output or a channel of an
    image-shaped one (its mean over positions, as
    ``xnn.explain.gradient(..., start_layer=, unit=)``).
    """
    model = check_model(model)
    last = len(model.layers) - 1
    node = last if layer is None else layer_index(model, layer)
    if node == last:
        if unit is not None and target is not None:
            raise ValueError("target, unit: give one of them for the last layer (a class)")
        value, name = (unit, "unit") if unit is not None else (target, "target")
        if value is None:
            raise ValueError(f"target: expected the class (or classes) to maximize, got None; "
                             f"the last layer has {model.n_out} classes")
        units, scalar = _int_array(value, name)
        bad = units[(units < 0) | (units >= model.n_out)]
        if bad.size:
            raise ValueError(f"{name}: expected classes of the last layer in [0, {model.n_out}), "
                             f"got {int(bad[0])}")
        return node, units, scalar, "class"
    if target is not None:
        raise ValueError(f"target: names a class of the last layer; for {describe(model, node)} "
                         "name the unit with unit=")
    if unit is None:
        raise ValueError(f"unit: expected a unit (or channel) of {describe(model, node)}, got None")
    units, scalar = _int_array(unit, "unit")
    shape = tuple(model.layers[node].output_shape_)
    n = shape[0]
    bad = units[(units < 0) | (units >= n)]
    if bad.size:
        if len(shape) > 1:
            pos = " x ".join(str(s) for s in shape[1:])
            raise ValueError(f"unit: {describe(model, node)} has {n} channels; a unit names a "
                             f"channel (the mean of its {pos} positions) in [0, {n}), got "
                             f"{int(bad[0])}")
        raise ValueError(f"unit: {describe(model, node)} has {n} units; expected a unit in "
                         f"[0, {n}), got {int(bad[0])}")
    return node, units, scalar, "channel" if len(shape) > 1 else "unit"


def layout(model, image_shape=None):
    """The shape (C, *spatial) in which the regularizers see one input row:
    the model's input shape for images and signals; for flat rows a square
    one-channel image when the size is a square (784 -> (1, 28, 28)), else
    a one-channel signal; ``image_shape`` overrides it."""
    n = model.n_in
    if image_shape is not None:
        try:
            shape = tuple(int(s) for s in image_shape)
        except (TypeError, ValueError):
            raise TypeError(f"image_shape: expected a tuple of integers, got {image_shape!r}") \
                from None
        if int(np.prod(shape)) != n or len(shape) not in (1, 2, 3) or min(shape) < 1:
            raise ValueError(f"image_shape: expected (H, W), (C, H, W) or (L,) with {n} values "
                             f"(the model's input), got {image_shape!r}")
        return (1,) + shape if len(shape) < 3 else shape
    s = tuple(model.input_shape)
    if len(s) in (2, 3):
        return s
    side = math.isqrt(n)
    return (1, side, side) if side * side == n else (1, n)


def rng_of(seed):
    if seed is not None and (isinstance(seed, (bool, np.bool_)) or
                             not isinstance(seed, numbers.Integral) or seed < 0):
        raise TypeError(f"seed: expected None or a non-negative integer, got {seed!r}")
    return np.random.default_rng(seed)


def verbose_flag(verbose):
    if isinstance(verbose, (bool, np.bool_)):
        return bool(verbose)
    if isinstance(verbose, numbers.Integral) and verbose >= 0:
        return verbose > 0
    raise TypeError(f"verbose: expected True/False (or 0/1), got {verbose!r}")


def progress(verbose, total, desc, unit="it"):
    """A tqdm bar when verbose, else None."""
    if not verbose:
        return None
    try:
        from tqdm.auto import tqdm
    except ImportError:  # a dependency, but a bar is not worth failing for
        return None
    return tqdm(total=total, desc=desc, unit=unit, leave=True, mininterval=0.2)
