"""Perturbation methods: occlusion."""
import numpy as np

from .. import _core
from .. import _validate as V
from ..layers.base import pair
from . import _common as C

__all__ = ["occlusion"]

#: rows of patched copies per C call, to bound memory
CHUNK_ROWS = 8192


def _image_shape(model, xshape, shape, d):
    """(C, H, W) of one input row."""
    if shape is not None:
        shape = tuple(shape)
        if len(shape) == 2:
            shape = (1,) + shape
    elif len(model.input_shape) == 3:
        shape = model.input_shape
    elif len(model.input_shape) == 2:
        shape = (model.input_shape[0], 1, model.input_shape[1])
    elif xshape is not None and len(xshape) == 3:
        shape = (1,) + tuple(xshape[1:])
    else:
        side = int(round(np.sqrt(d)))
        if side * side != d:
            raise ValueError(f"shape: rows of {d} values are not square images; pass shape=(H, W)")
        shape = (1, side, side)
    if len(shape) != 3 or int(np.prod(shape)) != d:
        raise ValueError(f"shape: expected (H, W) or (C, H, W) with {d} values, got {shape}")
    return tuple(V.positive_int(s, "shape") for s in shape)


def occlusion(model, X, patch=4, stride=None, baseline=0.0, target=None, shape=None,
              output="logit", per_channel=False):
    """Occlusion sensitivity (Zeiler & Fergus 2014): slide a patch over each
    image, replace the covered pixels by ``baseline`` and record how much the
    target's score drops, f(x) − f(x with the patch occluded). A pixel's
    attribution is the mean drop of the patches covering it (as Captum's
    Occlusion); pixels no patch covers get 0.

    Parameters
    ----------
    X : images shaped like the model's input (m, C, H, W) (or (m, H, W)),
        signals (m, C, L), or flat rows (m, n_in); an MLP's square rows
        (784 = 28 x 28) need no ``shape``, others ``shape=(H, W)``.
    patch, stride : an integer or (height, width) (for signals, height 1);
        stride defaults to patch.
    baseline : the value of occluded pixels (a number, or one input row).
    output : the score (``"logit"``, ``"probability"`` or ``"loss"``).
    per_channel : False (default) occludes every channel of a patch at
        once; True occludes each channel's patch apart, giving each channel
        its own map.
    target : None explains the class predicted for the unoccluded input
        (the arg-max of its logits).

    All patched copies go through the batched C forward, a few thousand
    rows per call. Returns an array shaped like X.
    """
    model = C.check_model(model)
    net, Xc, node, targets, xshape = C.prepare(model, X, target)
    m, d = Xc.shape
    ch, H, W = _image_shape(model, xshape, shape, d)
    if isinstance(patch, (int, np.integer)) and ch and H == 1:
        patch = (1, patch)
    ph, pw = pair(patch, "patch")
    if stride is not None and isinstance(stride, (int, np.integer)) and H == 1:
        stride = (1, stride)
    sh, sw = pair(stride if stride is not None else (ph, pw), "stride")
    if ph > H or pw > W:
        raise ValueError(f"patch: expected at most the image size {(H, W)}, got {(ph, pw)}")
    if not isinstance(per_channel, (bool, np.bool_)):
        raise TypeError(f"per_channel: expected True or False, got {per_channel!r}")
    code = C.output_code(output)
    targets = C.resolve(net, Xc, targets, node)
    base = np.asarray(baseline)
    if base.dtype.kind not in "fiub":
        raise TypeError(f"baseline: expected numbers, got dtype {base.dtype}")
    base = C.finite_array(base, Xc.dtype, "baseline")
    if base.size == 1:
        base = np.full(d, base.reshape(()), dtype=Xc.dtype)
    elif base.size == d:
        base = base.reshape(d)
    else:
        raise ValueError(f"baseline: expected a number or one input row ({d} values), got "
                         f"shape {base.shape}")
    # masks (P, d): True where patch p covers the value
    tops = range(0, H - ph + 1, sh)
    lefts = range(0, W - pw + 1, sw)
    channels = [[c] for c in range(ch)] if per_channel else [list(range(ch))]
    masks = np.zeros((len(channels) * len(tops) * len(lefts), ch, H, W), dtype=bool)
    p = 0
    for cs in channels:
        for t in tops:
            for l in lefts:
                masks[p, cs, t:t + ph, l:l + pw] = True
                p += 1
    masks = masks.reshape(p, d)
    f0, _ = _core.explain_scores(net, Xc, targets, code, node)
    drops = np.empty((m, p), dtype=np.float64)
    rows_per = max(1, CHUNK_ROWS // p)
    for i0 in range(0, m, rows_per):
        i1 = min(m, i0 + rows_per)
        copies = np.where(masks[None, :, :], base[None, None, :], Xc[i0:i1, None, :])
        copies = np.ascontiguousarray(copies.reshape(-1, d))
        s, _ = _core.explain_scores(net, copies, np.repeat(targets[i0:i1], p), code, node)
        drops[i0:i1] = f0[i0:i1, None] - s.reshape(i1 - i0, p)
    counts = masks.sum(axis=0)
    attr = (drops @ masks) / np.maximum(counts, 1)
    return C.shaped(attr.astype(Xc.dtype), xshape)
