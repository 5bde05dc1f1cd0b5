"""What the figures share: matplotlib imported on demand, the Figure or
Axes to draw on, images read from rows or NCHW blocks."""
import math

import numpy as np

#: colour of the title of a misclassified image
WRONG = "red"
RIGHT = "black"


def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # a dependency, but say what to do if it is missing
        raise ImportError("xnn.plot needs matplotlib: pip install matplotlib") from None
    return plt


def _figure(fig, figsize):
    """The Figure to draw on: ``fig`` (cleared of nothing) or a new one."""
    if fig is not None:
        return fig
    return _pyplot().figure(figsize=figsize)


def _axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = _pyplot().figure(figsize=figsize)
    return fig, fig.add_subplot(1, 1, 1)


def _history_dict(hist, name="hist"):
    h = getattr(hist, "history", hist)
    if not isinstance(h, dict):
        raise TypeError(f"{name}: expected an xnn History or its .history dict, "
                        f"got {type(hist).__name__}")
    return h


def _image_shape(n, shape, name):
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2 or shape[0] * shape[1] != n:
            raise ValueError(f"shape: expected (rows, cols) with rows * cols == {n} "
                             f"(the size of {name}), got {shape}")
        return shape
    side = math.isqrt(n)
    if side * side != n:
        raise ValueError(f"{name}: {n} values do not make a square image; "
                         "pass shape=(rows, cols)")
    return side, side


def _image(x, shape=None, name="image"):
    """One image as a 2-D array: a flat row (n,), a (1, n) row or a 2-D image."""
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[0] == 1 and shape is None and arr.shape[1] > 1:
        arr = arr[0]
    if arr.ndim == 2 and shape is None:
        return arr
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name}: expected a flat image (n,) or a 2-D image, "
                         f"got shape {arr.shape}")
    flat = arr.reshape(-1)
    return flat.reshape(_image_shape(flat.size, shape, name))


def _images(X, shape=None, name="X"):
    """A batch of images as a 3-D array (k, rows, cols); NCHW blocks (k, C,
    rows, cols) lose their channel axis (summed when there are several)."""
    arr = np.asarray(X)
    if arr.ndim == 4:
        arr = arr[:, 0] if arr.shape[1] == 1 else arr.sum(axis=1)
    if arr.ndim == 1:
        return _image(arr, shape, name)[None]
    if arr.ndim == 2:
        return arr.reshape((arr.shape[0],) + _image_shape(arr.shape[1], shape, name))
    if arr.ndim == 3:
        if shape is not None and tuple(shape) != arr.shape[1:]:
            raise ValueError(f"shape: expected {arr.shape[1:]} for {name} of shape "
                             f"{arr.shape}, got {tuple(shape)}")
        return arr
    raise ValueError(f"{name}: expected images as (k, n) rows or (k, rows, cols), "
                     f"got shape {arr.shape}")


def _labels(y, name="y"):
    y = np.asarray(y)
    if y.ndim == 2:  # one-hot rows
        return np.argmax(y, axis=1)
    if y.ndim != 1:
        raise ValueError(f"{name}: expected labels (m,) or one-hot rows (m, k), got shape {y.shape}")
    return y


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def _grid(n, ncols):
    ncols = max(1, min(n, ncols))
    return math.ceil(n / ncols), ncols
