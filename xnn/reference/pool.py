"""Pooling and flatten. No padding; ``stride`` defaults to the kernel; the
output size along an axis of size n is ``(n - k) // stride + 1``.

Max pooling returns the arg-max of every window as the flat index
``h * W + w`` into the input plane ``X[n, c]`` (int64, shaped like the
output). Ties go to the first maximum in row-major window order (rows,
then columns), which is what PyTorch's CPU ``max_pool2d`` does (its loop
keeps a value only when it is strictly greater; tested). The 1-D twins are
the 2-D ones on images of height 1; their arg-max indexes the sequence.

``in_shape`` of a backward is the full input shape, rows included.
"""
import numpy as np

from .conv import _pair, _single

__all__ = ["maxpool2d_forward", "maxpool2d_backward", "avgpool2d_forward", "avgpool2d_backward",
           "global_avgpool2d_forward", "global_avgpool2d_backward",
           "maxpool1d_forward", "maxpool1d_backward", "avgpool1d_forward", "avgpool1d_backward",
           "global_avgpool1d_forward", "global_avgpool1d_backward",
           "flatten_forward", "flatten_backward"]


def _windows(shape, kernel, stride):
    """(kh, kw, sh, sw, Ho, Wo) for a pool over planes of shape (..., H, W)."""
    kh, kw = _pair(kernel, "kernel")
    sh, sw = (kh, kw) if stride is None else _pair(stride, "stride")
    H, W = shape[-2:]
    if kh < 1 or kw < 1 or kh > H or kw > W:
        raise ValueError(f"kernel: {(kh, kw)} does not fit an input of size {(H, W)}")
    if sh < 1 or sw < 1:
        raise ValueError(f"stride: expected >= 1, got {(sh, sw)}")
    return kh, kw, sh, sw, (H - kh) // sh + 1, (W - kw) // sw + 1


def maxpool2d_forward(X, kernel, stride=None):
    """(Y (m, C, Ho, Wo), argmax): the maximum of each window and its flat
    index h * W + w in the plane X[n, c]; X (m, C, H, W)."""
    kh, kw, sh, sw, Ho, Wo = _windows(X.shape, kernel, stride)
    W = X.shape[3]
    Y = arg = None
    rows = np.arange(Ho)[:, None] * sh
    cols = np.arange(Wo)[None, :] * sw
    for i in range(kh):                 # row-major order over the window:
        for j in range(kw):             # a later value wins only if strictly greater
            v = X[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]
            idx = np.broadcast_to((rows + i) * W + (cols + j), v.shape)
            if Y is None:
                Y, arg = v.copy(), idx.astype(np.int64)
            else:
                better = v > Y
                Y = np.where(better, v, Y)
                arg = np.where(better, idx, arg)
    return Y, arg


def maxpool2d_backward(dY, argmax, in_shape):
    """dX: each output's gradient added to its window's arg-max."""
    m, C, H, W = in_shape
    dX = np.zeros((m * C, H * W), dtype=dY.dtype)
    rows = np.repeat(np.arange(m * C), dY[0, 0].size)
    np.add.at(dX, (rows, argmax.reshape(-1)), dY.reshape(-1))
    return dX.reshape(in_shape)


def avgpool2d_forward(X, kernel, stride=None):
    """Y (m, C, Ho, Wo): the mean of each window."""
    kh, kw, sh, sw, Ho, Wo = _windows(X.shape, kernel, stride)
    Y = np.zeros(X.shape[:2] + (Ho, Wo), dtype=X.dtype)
    for i in range(kh):
        for j in range(kw):
            Y += X[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]
    return Y / (kh * kw)


def avgpool2d_backward(dY, in_shape, kernel, stride=None):
    """dX: each output's gradient spread evenly, 1/(kh kw), over its window."""
    kh, kw, sh, sw, Ho, Wo = _windows(in_shape, kernel, stride)
    dX = np.zeros(in_shape, dtype=dY.dtype)
    for i in range(kh):
        for j in range(kw):
            dX[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += dY / (kh * kw)
    return dX


def global_avgpool2d_forward(X):
    """(m, C): the mean of every channel's plane."""
    return X.mean(axis=(2, 3))


def global_avgpool2d_backward(dY, in_shape):
    """dX (m, C, H, W) = dY / (H W) at every position."""
    H, W = in_shape[2:]
    return np.broadcast_to((dY / (H * W))[:, :, None, None], in_shape).copy()


def _k1(kernel, stride):
    return (1, _single(kernel, "kernel")), None if stride is None else (1, _single(stride, "stride"))


def maxpool1d_forward(X, kernel, stride=None):
    """(Y (m, C, Lo), argmax into the sequence) for X (m, C, L)."""
    k, s = _k1(kernel, stride)
    Y, arg = maxpool2d_forward(X[:, :, None, :], k, s)
    return Y[:, :, 0, :], arg[:, :, 0, :]


def maxpool1d_backward(dY, argmax, in_shape):
    m, C, L = in_shape
    return maxpool2d_backward(dY[:, :, None, :], argmax[:, :, None, :], (m, C, 1, L))[:, :, 0, :]


def avgpool1d_forward(X, kernel, stride=None):
    k, s = _k1(kernel, stride)
    return avgpool2d_forward(X[:, :, None, :], k, s)[:, :, 0, :]


def avgpool1d_backward(dY, in_shape, kernel, stride=None):
    k, s = _k1(kernel, stride)
    m, C, L = in_shape
    return avgpool2d_backward(dY[:, :, None, :], (m, C, 1, L), k, s)[:, :, 0, :]


def global_avgpool1d_forward(X):
    """(m, C): the mean of every channel's sequence."""
    return X.mean(axis=2)


def global_avgpool1d_backward(dY, in_shape):
    return np.broadcast_to((dY / in_shape[2])[:, :, None], in_shape).copy()


def flatten_forward(X):
    """(m, prod of the other axes), C order (channels slowest)."""
    return X.reshape(X.shape[0], -1)


def flatten_backward(dY, in_shape):
    return dY.reshape(in_shape)
