"""Convolutions (cross-correlations, as in PyTorch and ONNX), zero padding.

Layouts: images NCHW ``(m, C, H, W)``, sequences NCL ``(m, C, L)``; weights
OIHW ``(O, C, kh, kw)`` and OIL ``(O, C, k)``. ``stride`` and ``padding``
are an int or a pair (rows, columns). The output size along an axis of
size n is ``(n + 2 padding - k) // stride + 1``:

    Z[n, o, p, q] = b[o] + sum_{c, i, j} W[o, c, i, j] X[n, c, p s + i - pad, q s + j - pad]

(terms outside the image are zero). The 1-D twins are the 2-D ones on
images of height 1.
"""
import numpy as np

__all__ = ["im2col", "col2im", "conv2d_forward", "conv2d_backward", "conv1d_forward",
           "conv1d_backward", "conv2d_as_dense", "conv1d_as_dense", "conv_output_size"]


def _pair(v, name):
    """(a, b) from an int or a pair of non-negative ints."""
    if isinstance(v, (int, np.integer)):
        v = (int(v), int(v))
    v = tuple(int(x) for x in v)
    if len(v) != 2 or min(v) < 0:
        raise ValueError(f"{name}: expected an int or a pair of non-negative ints, got {v!r}")
    return v


def conv_output_size(n, k, stride, padding):
    """floor((n + 2 padding - k) / stride) + 1; raises when the kernel does not fit."""
    if stride < 1:
        raise ValueError(f"stride: expected >= 1, got {stride}")
    out = (n + 2 * padding - k) // stride + 1
    if k < 1 or out < 1:
        raise ValueError(f"kernel: {k} does not fit an input of size {n} with padding {padding}")
    return out


def im2col(X, kernel, stride=1, padding=0):
    """The patches of X as columns: X (m, C, H, W) -> (m, C*kh*kw, Ho*Wo).

    Row (c, i, j) (in that order, c slowest) of column (p, q) holds
    X[n, c, p sh + i - ph, q sw + j - pw], so that ``W.reshape(O, -1) @ cols``
    is the convolution.
    """
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel, "kernel"), _pair(stride, "stride"), _pair(padding, "padding")
    m, C, H, W = X.shape
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    Xp = np.zeros((m, C, H + 2 * ph, W + 2 * pw), dtype=X.dtype)
    Xp[:, :, ph:ph + H, pw:pw + W] = X
    cols = np.empty((m, C, kh, kw, Ho, Wo), dtype=X.dtype)
    for i in range(kh):
        for j in range(kw):
            cols[:, :, i, j] = Xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw]
    return cols.reshape(m, C * kh * kw, Ho * Wo)


def col2im(cols, in_shape, kernel, stride=1, padding=0):
    """The transpose of im2col: every column entry added back to the input
    position it was read from. cols (m, C*kh*kw, Ho*Wo) -> (m, C, H, W)."""
    (kh, kw), (sh, sw), (ph, pw) = _pair(kernel, "kernel"), _pair(stride, "stride"), _pair(padding, "padding")
    m, C, H, W = in_shape
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(W, kw, sw, pw)
    cols = cols.reshape(m, C, kh, kw, Ho, Wo)
    Xp = np.zeros((m, C, H + 2 * ph, W + 2 * pw), dtype=cols.dtype)
    for i in range(kh):
        for j in range(kw):
            Xp[:, :, i:i + sh * Ho:sh, j:j + sw * Wo:sw] += cols[:, :, i, j]
    return Xp[:, :, ph:ph + H, pw:pw + W].copy()


def conv2d_forward(X, W, b=None, stride=1, padding=0):
    """Z (m, O, Ho, Wo) = W * X + b (pre-activation);  X (m, C, H, W),
    W (O, C, kh, kw), b (O,) or None."""
    m, C, H, Wd = X.shape
    O, Cw, kh, kw = W.shape
    if Cw != C:
        raise ValueError(f"W: expected {C} input channels, got {Cw}")
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(Wd, kw, sw, pw)
    Z = W.reshape(O, -1) @ im2col(X, (kh, kw), stride, padding)      # (m, O, Ho*Wo)
    if b is not None:
        Z = Z + b[:, None]
    return Z.reshape(m, O, Ho, Wo)


def conv2d_backward(dZ, X, W, stride=1, padding=0):
    """(dX, dW, db) for Z = conv2d_forward(X, W, b):  dW = sum_n dZ_n cols_n^T,
    dX = col2im(W^T dZ), db = dZ summed over rows and positions."""
    m, O = dZ.shape[:2]
    kh, kw = W.shape[2:]
    cols = im2col(X, (kh, kw), stride, padding)                        # (m, CKK, P)
    dZr = dZ.reshape(m, O, -1)
    dW = np.einsum("nop,nkp->ok", dZr, cols).reshape(W.shape)
    dX = col2im(W.reshape(O, -1).T @ dZr, X.shape, (kh, kw), stride, padding)
    return dX, dW, dZ.sum(axis=(0, 2, 3))


def _single(v, name):
    """An int from an int or a 1-tuple of a non-negative int."""
    if not isinstance(v, (int, np.integer)):
        v = tuple(v)
        if len(v) != 1:
            raise ValueError(f"{name}: expected an int, got {v!r}")
        v = v[0]
    if v < 0:
        raise ValueError(f"{name}: expected a non-negative int, got {v!r}")
    return int(v)


def _as_2d(X, W, stride, padding):
    """A 1-D problem as a 2-D one of height 1."""
    return X[:, :, None, :], W[:, :, None, :], (1, _single(stride, "stride")), (0, _single(padding, "padding"))


def conv1d_forward(X, W, b=None, stride=1, padding=0):
    """Z (m, O, Lo) for X (m, C, L), W (O, C, k): conv2d on images of height 1."""
    X4, W4, s, p = _as_2d(X, W, stride, padding)
    return conv2d_forward(X4, W4, b, s, p)[:, :, 0, :]


def conv1d_backward(dZ, X, W, stride=1, padding=0):
    """(dX, dW, db) for Z = conv1d_forward(X, W, b)."""
    X4, W4, s, p = _as_2d(X, W, stride, padding)
    dX, dW, db = conv2d_backward(dZ[:, :, None, :], X4, W4, s, p)
    return dX[:, :, 0, :], dW[:, :, 0, :], db


def conv2d_as_dense(W, b, in_shape, stride=1, padding=0):
    """The convolution unrolled into a dense layer: (Wd (C*H*W, O*Ho*Wo),
    bd (O*Ho*Wo,)) with

        conv2d_forward(X, W, b).reshape(m, -1) == X.reshape(m, -1) @ Wd + bd.

    in_shape is (C, H, W) (a leading row count is ignored). Wd[(c, h, w),
    (o, p, q)] is the weight joining input pixel (h, w) to output (p, q), and
    exactly zero where they are not connected (outside the kernel's reach or
    in the padding), so rules that look at the weights see only the in-bounds
    taps. b None gives bd = 0.
    """
    C, H, Wi = in_shape[-3:]
    O, Cw, kh, kw = W.shape
    if Cw != C:
        raise ValueError(f"W: expected {C} input channels, got {Cw}")
    (sh, sw), (ph, pw) = _pair(stride, "stride"), _pair(padding, "padding")
    Ho, Wo = conv_output_size(H, kh, sh, ph), conv_output_size(Wi, kw, sw, pw)
    Wd = np.zeros((C, H, Wi, O, Ho, Wo), dtype=W.dtype)
    for p in range(Ho):
        for q in range(Wo):
            for i in range(kh):
                h = p * sh + i - ph
                if not 0 <= h < H:
                    continue
                for j in range(kw):
                    w = q * sw + j - pw
                    if 0 <= w < Wi:
                        Wd[:, h, w, :, p, q] = W[:, :, i, j].T
    bd = np.zeros(O * Ho * Wo, dtype=W.dtype) if b is None else np.repeat(b, Ho * Wo)
    return Wd.reshape(C * H * Wi, O * Ho * Wo), bd


def conv1d_as_dense(W, b, in_shape, stride=1, padding=0):
    """conv1d unrolled: (Wd (C*L, O*Lo), bd (O*Lo,)); in_shape (C, L)."""
    C, L = in_shape[-2:]
    _, W4, s, p = _as_2d(np.zeros((1, C, L)), W, stride, padding)
    return conv2d_as_dense(W4, b, (C, 1, L), s, p)
