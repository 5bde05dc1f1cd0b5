"""Perturbation methods: occlusion."""
import numbers

import numpy as np

from .. import _core
from .. import _validate as V
from . import _common as C

__all__ = ["occlusion"]

#: rows of patched copies per C call, to bound memory
CHUNK_ROWS = 8192


def _pair(v, name):
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        v = (v, v)
    if not isinstance(v, (tuple, list)) or len(v) != 2:
        raise TypeError(f"{name}: expected an integer or a pair of integers, got {v!r}")
    return tuple(V.positive_int(x, name) for x in v)


def occlusion(model, X, patch=4, stride=None, baseline=0.0, target=None, shape=None,
              output="logit"):
    """Occlusion sensitivity (Zeiler & Fergus 2014): slide a patch over each
    image, replace the covered pixels by ``baseline`` and record how much the
    target's score drops, f(x) − f(x with the patch occluded). A pixel's
    attribution is the mean drop of the patches covering it (as Captum's
    Occlusion); pixels no patch covers get 0.

    Parameters
    ----------
    X : images (m, H, W), or rows (m, H*W) with ``shape=(H, W)``; square
        rows (e.g. 784 = 28 x 28) need no shape.
    patch, stride : an integer or (height, width); stride defaults to patch.
    baseline : the value of occluded pixels (a number, or one image).
    output : the score (``"logit"``, ``"probability"`` or ``"loss"``).

    All patched copies go through the batched C forward, a few thousand
    rows per call. Returns an array shaped like X.
    """
    net, Xc, targets, xshape = C.prepare(model, X, target)
    m, d = Xc.shape
    if shape is None:
        if xshape is not None and len(xshape) == 3:
            shape = xshape[1:]
        else:
            side = int(round(np.sqrt(d)))
            if side * side != d:
                raise ValueError(f"shape: rows of {d} values are not square images; pass shape=(H, W)")
            shape = (side, side)
    H, W = _pair(tuple(shape), "shape")
    if H * W != d:
        raise ValueError(f"shape: expected H * W = {d}, got {shape}")
    ph, pw = _pair(patch, "patch")
    sh, sw = _pair(stride if stride is not None else (ph, pw), "stride")
    if ph > H or pw > W:
        raise ValueError(f"patch: expected at most the image size {(H, W)}, got {(ph, pw)}")
    code = C.output_code(output)
    targets = C.resolve(model, Xc, targets)
    base = np.asarray(baseline, dtype=Xc.dtype)
    if base.size == 1:
        base = np.full(d, base.reshape(()), dtype=Xc.dtype)
    elif base.size == d:
        base = base.reshape(d)
    else:
        raise ValueError(f"baseline: expected a number or one image ({d} values), got shape {base.shape}")
    # masks (P, d): 1 where patch p covers the pixel
    tops = range(0, H - ph + 1, sh)
    lefts = range(0, W - pw + 1, sw)
    masks = np.zeros((len(tops) * len(lefts), H, W), dtype=bool)
    p = 0
    for t in tops:
        for l in lefts:
            masks[p, t:t + ph, l:l + pw] = True
            p += 1
    masks = masks.reshape(p, d)
    f0 = _core.explain_scores(net, Xc, targets, code)
    drops = np.empty((m, p), dtype=np.float64)
    rows_per = max(1, CHUNK_ROWS // p)
    for i0 in range(0, m, rows_per):
        i1 = min(m, i0 + rows_per)
        copies = np.where(masks[None, :, :], base[None, None, :], Xc[i0:i1, None, :])
        copies = np.ascontiguousarray(copies.reshape(-1, d))
        s = _core.explain_scores(net, copies, np.repeat(targets[i0:i1], p), code)
        drops[i0:i1] = f0[i0:i1, None] - s.reshape(i1 - i0, p)
    counts = masks.sum(axis=0)
    attr = (drops @ masks) / np.maximum(counts, 1)
    return C.shaped(attr.astype(Xc.dtype), xshape)
