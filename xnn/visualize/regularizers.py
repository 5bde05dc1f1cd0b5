"""The regularizers of activation maximization, on batches of images.

Every function takes a batch ``X`` shaped ``(m, C, H, W)`` (images) or
``(m, C, L)`` (signals): the regularizers act on the last two axes (images)
or the last one (signals), the same way on every row and channel.

=======================  ===================================================
``gaussian_blur``        separable Gaussian filter (``scipy.ndimage``'s
                         ``gaussian_filter1d`` along each spatial axis)
``gaussian_blur_grad``   its adjoint: d <G, blur(X)> / dX
``jitter``               circular shift by (dy, dx) pixels (``np.roll``)
``total_variation``      TV_β(x) per row
``total_variation_grad`` d TV_β / dX
``resample``             down-and-up resampling (``scipy.ndimage.zoom``): a
                         low-pass that keeps the image's size
=======================  ===================================================

The Gaussian filter of ``scipy.ndimage`` along one axis of length n is a
linear map, an n × n matrix B (``gaussian_filter1d`` applied to the
identity). ``gaussian_blur`` applies these matrices as two small matrix
products, ``B_H X B_W^T``, which equals ``gaussian_filter1d`` along both
axes to rounding and is several times faster on small images (for ten
28 × 28 images about 25 µs against 100 µs). With the default
``mode="constant"`` (zero padding) the kernel's symmetry makes B symmetric,
so the blur is its own adjoint; ``gaussian_blur_grad`` uses B^T and is
right for every mode.
"""
import functools
import numbers

import numpy as np

from .. import _validate as V

__all__ = ["gaussian_blur", "gaussian_blur_grad", "gaussian_matrix", "jitter",
           "total_variation", "total_variation_grad", "resample"]

MODES = ("constant", "nearest", "reflect", "mirror", "wrap")


def _batch(X, name="X"):
    """X as a float array (m, C, *spatial) with one or two spatial axes."""
    X = np.asarray(X)
    if X.dtype.kind != "f":
        X = X.astype(np.float64)
    if X.ndim not in (3, 4):
        raise ValueError(f"{name}: expected images (m, C, H, W) or signals (m, C, L), "
                         f"got shape {X.shape}")
    return X


def _sigma(sigma):
    return V.finite_float(sigma, "sigma", 0.0)


@functools.lru_cache(maxsize=64)
def _matrix(n, sigma, mode, truncate, dtype):
    from scipy import ndimage
    B = ndimage.gaussian_filter1d(np.eye(n), sigma, axis=0, mode=mode, truncate=truncate)
    B = np.ascontiguousarray(B, dtype=dtype)
    B.flags.writeable = False
    return B


def gaussian_matrix(n, sigma, mode="constant", truncate=4.0, dtype=np.float64):
    """The n × n matrix B of ``scipy.ndimage.gaussian_filter1d`` along an
    axis of length n: ``gaussian_filter1d(x, sigma, mode=mode) == B @ x``
    for a column x. Made once per arguments and kept (read-only)."""
    n = V.positive_int(n, "n")
    sigma = _sigma(sigma)
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {list(MODES)}, got {mode!r}")
    truncate = V.finite_float(truncate, "truncate", 0.0)
    return _matrix(n, float(sigma), mode, float(truncate), np.dtype(dtype).name)


def _blur(X, sigma, mode, truncate, transpose):
    X = _batch(X)
    sigma = _sigma(sigma)
    if sigma == 0:
        return X.copy()
    spatial = X.shape[2:]
    mats = [gaussian_matrix(n, sigma, mode, truncate, X.dtype) for n in spatial]
    return _blur_with(X, mats, transpose)


def gaussian_blur(X, sigma, mode="constant", truncate=4.0):
    """Gaussian blur with standard deviation ``sigma`` (pixels) along each
    spatial axis: ``scipy.ndimage.gaussian_filter1d`` along H then W (or
    along L), applied as its matrix (see the module's notes). ``sigma=0``
    returns a copy. ``mode``: how the border is extended (ndimage's modes);
    "constant" pads with zeros."""
    return _blur(X, sigma, mode, truncate, False)


def gaussian_blur_grad(G, sigma, mode="constant", truncate=4.0):
    """The gradient of ``<G, gaussian_blur(X)>`` with respect to X (the
    blur's adjoint ``B_H^T G B_W``). For ``mode="constant"`` it equals
    ``gaussian_blur(G)``."""
    return _blur(G, sigma, mode, truncate, True)


def _shift(v, name):
    if isinstance(v, (bool, np.bool_)) or not isinstance(v, numbers.Integral):
        raise TypeError(f"{name}: expected an integer number of pixels, got {v!r}")
    return int(v)


def jitter(X, shift, out=None):
    """X shifted circularly by ``shift`` pixels along the spatial axes (a
    pair (dy, dx) for images, one integer for signals), as
    ``np.roll(X, shift, axis=spatial axes)``; ``jitter(jitter(X, s), -s)``
    is X. ``out``: an array like X to write to (not X itself)."""
    X = _batch(X)
    spatial = X.shape[2:]
    shifts = (shift,) if isinstance(shift, numbers.Integral) else tuple(shift)
    if len(shifts) != len(spatial):
        raise ValueError(f"shift: expected {len(spatial)} integer(s), one per spatial axis of "
                         f"X {X.shape}, got {shift!r}")
    shifts = [_shift(s, "shift") for s in shifts]
    if out is None:
        out = np.empty_like(X)
    elif out.shape != X.shape or out is X:
        raise ValueError(f"out: expected a separate array of shape {X.shape}")
    return _roll(X, shifts, out)


def _roll(X, shifts, out):
    """np.roll of X by integer shifts along its spatial axes, into out."""
    spatial = X.shape[2:]
    if len(spatial) == 1:
        n = spatial[0]
        d = shifts[0] % n
        out[..., d:] = X[..., :n - d]
        out[..., :d] = X[..., n - d:]
        return out
    h, w = spatial
    dy, dx = shifts[0] % h, shifts[1] % w
    # four block copies: np.roll on two axes, without its temporaries
    out[..., dy:, dx:] = X[..., :h - dy, :w - dx]
    out[..., :dy, dx:] = X[..., h - dy:, :w - dx]
    out[..., dy:, :dx] = X[..., :h - dy, w - dx:]
    out[..., :dy, :dx] = X[..., h - dy:, w - dx:]
    return out


def _blur_with(X, mats, transpose=False):
    """X blurred by the per-axis matrices mats (gaussian_matrix)."""
    if transpose:
        mats = [B.T for B in mats]
    if len(mats) == 1:
        return X @ mats[0].T
    return mats[0] @ X @ mats[1].T


def _differences(X):
    """Forward differences along each spatial axis, zero at the last index
    (the border is extended by its last value)."""
    out = []
    for axis in range(2, X.ndim):
        d = np.zeros_like(X)
        n = X.shape[axis]
        hi = [slice(None)] * X.ndim
        lo = [slice(None)] * X.ndim
        hi[axis], lo[axis] = slice(1, n), slice(0, n - 1)
        d[tuple(lo)] = X[tuple(hi)] - X[tuple(lo)]
        out.append(d)
    return out


def _beta(beta):
    beta = V.finite_float(beta, "beta", 1.0)
    return beta


def total_variation(X, beta=2.0, eps=1e-8):
    """Total variation per row (Mahendran & Vedaldi 2015):

        TV_β(x) = Σ_{c, i, j} ((x[c, i+1, j] − x[c, i, j])² + (x[c, i, j+1] − x[c, i, j])²)^(β/2)

    with forward differences that are 0 past the last row and column (for
    signals the one difference along L). β = 2 (default) is the sum of
    squared differences; for 1 ≤ β < 2 the power is taken of
    (squared differences + eps), which keeps it differentiable where the
    differences vanish. Returns an array (m,) in float64.
    """
    X = _batch(X)
    beta = _beta(beta)
    sq = sum(d.astype(np.float64) ** 2 for d in _differences(X))
    if beta != 2:
        sq = (sq + V.finite_float(eps, "eps", 0.0)) ** (beta / 2)
    return sq.reshape(X.shape[0], -1).sum(axis=1)


def total_variation_grad(X, beta=2.0, eps=1e-8):
    """d TV_β / dX (``total_variation``), an array like X."""
    X = _batch(X)
    beta = _beta(beta)
    ds = _differences(X)
    if beta == 2:
        w = 2.0
    else:
        sq = sum(d ** 2 for d in ds) + V.finite_float(eps, "eps", 0.0)
        w = beta * sq ** (beta / 2 - 1)
    G = np.zeros_like(X)
    for axis, d in zip(range(2, X.ndim), ds):
        wd = w * d
        # d/dx[k] of f(x[k+1] - x[k]): -f' at k, +f' at k + 1
        G -= wd
        n = X.shape[axis]
        hi = [slice(None)] * X.ndim
        lo = [slice(None)] * X.ndim
        hi[axis], lo[axis] = slice(1, n), slice(0, n - 1)
        G[tuple(hi)] += wd[tuple(lo)]
    return G


def resample(X, scale, order=1):
    """Down-and-up resampling: each image zoomed by ``scale`` < 1 and back
    to its size (``scipy.ndimage.zoom``, spline ``order``), a low-pass that
    keeps the coarse structure. ``scale=1`` returns a copy."""
    from scipy import ndimage
    X = _batch(X)
    scale = V.finite_float(scale, "scale", 0.0)
    if not 0 < scale <= 1:
        raise ValueError(f"scale: expected 0 < scale <= 1 (the model's input size is fixed), "
                         f"got {scale}")
    if scale == 1:
        return X.copy()
    spatial = X.shape[2:]
    small = tuple(max(1, int(round(n * scale))) for n in spatial)
    lo = ndimage.zoom(X, (1, 1) + tuple(s / n for s, n in zip(small, spatial)), order=order,
                      grid_mode=True, mode="nearest")
    up = ndimage.zoom(lo, (1, 1) + tuple(n / s for s, n in zip(lo.shape[2:], spatial)),
                      order=order, grid_mode=True, mode="nearest")
    if up.shape != X.shape:  # rounding of the zoomed size
        raise RuntimeError(f"resample: got shape {up.shape} for {X.shape}")
    return up.astype(X.dtype, copy=False)
