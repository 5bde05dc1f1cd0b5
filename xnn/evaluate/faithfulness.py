"""Faithfulness: does removing what an explanation calls relevant change the
decision?

``pixel_flipping``        remove pixels in order of relevance, step by step
                          (Bach et al. 2015; the LRP poster's experiment)
``region_perturbation``   the same with square patches (Samek et al. 2017)
``faithfulness_correlation``  correlation of attribution sums and score drops
                          of random subsets (Bhatt et al. 2020)
``infidelity``            Yeh et al. 2019, as Captum's ``infidelity``

Every perturbed copy of every image goes through the batched C forward, a
few thousand rows per call; the nested copies of a removal curve use the
first layer's linearity (``xnn/explain/_perturb.py``).
"""
import math
import numbers

import numpy as np

from .. import _validate as V
from ..explain import _perturb
from . import _common as C

__all__ = ["pixel_flipping", "region_perturbation", "PerturbationCurves",
           "faithfulness_correlation", "FaithfulnessCorrelation", "infidelity"]

ORDERS = ("morf", "lerf", "random")
CURVES = ("probability", "logit", "confidence", "confidence_logits")


class PerturbationCurves:
    """What ``pixel_flipping`` and ``region_perturbation`` return: per image
    and step (step 0 is the unperturbed image, step s has s steps removed).

    Attributes
    ----------
    logits : (m, S+1) the target's logit (the last layer's pre-activation).
    probabilities : (m, S+1) the target's output (probability for softmax).
    confidence : (m, S+1) ``(max - second max) / max`` of the class
        probabilities (the LRP poster's confidence, on probabilities).
    confidence_logits : (m, S+1) the same of the logits; it has the
        poster's meaning only while the largest logit is positive.
    predictions : (m, S+1) the predicted class after each step.
    targets : (m,) the class whose scores are recorded.
    removed : (S+1,) pixels removed after each step; ``fraction`` of all.
    order, method : ``"morf"`` / ``"lerf"`` / ``"random"``, and
        ``"pixel flipping"`` or ``"region perturbation"``.
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def curve(self, kind="probability"):
        """(m, S+1) values of one curve: ``"probability"``, ``"logit"``,
        ``"confidence"`` or ``"confidence_logits"``."""
        if kind not in CURVES:
            raise ValueError(f"kind: expected one of {list(CURVES)}, got {kind!r}")
        return {"probability": self.probabilities, "logit": self.logits,
                "confidence": self.confidence, "confidence_logits": self.confidence_logits}[kind]

    def mean(self, kind="probability"):
        """The mean curve over the images, (S+1,)."""
        return self.curve(kind).mean(axis=0)

    def aopc(self, kind="probability", per_image=False):
        """Area over the perturbation curve (Samek et al. 2017):
        ``1/(S+1) sum_{k=0..S} (f(x^(0)) - f(x^(k)))``, the mean over the
        images (or per image). For MoRF larger is better, for LeRF smaller."""
        c = self.curve(kind)
        a = (c[:, :1] - c).mean(axis=1)
        return a if per_image else float(a.mean())

    def __repr__(self):
        m, n = self.logits.shape
        return (f"PerturbationCurves({self.method}, order={self.order!r}, {m} images x {n - 1} "
                f"steps, AOPC(probability)={self.aopc():.4f})")


def _confidence(V_):
    """(max - second max) / max over the last axis (NaN with one class)."""
    if V_.shape[-1] < 2:
        return np.full(V_.shape[:-1], np.nan)
    top2 = np.sort(V_, axis=-1)[..., -2:]
    with np.errstate(divide="ignore", invalid="ignore"):
        return (top2[..., 1] - top2[..., 0]) / top2[..., 1]


def _base(baseline, m, d, rng, noise_range):
    if isinstance(baseline, str):
        if baseline != "uniform":
            raise ValueError(f"baseline: expected a number, an image, one image per row or "
                             f"'uniform', got {baseline!r}")
        lo, hi = noise_range
        return rng.uniform(lo, hi, size=(m, 1, d))
    if noise_range != (0.0, 1.0):
        raise ValueError("noise_range: only with baseline='uniform'")
    b = np.asarray(baseline, dtype=np.float64)
    if b.size == 1:
        return np.full((m, 1, d), float(b.reshape(())))
    if b.size == d:
        return np.broadcast_to(b.reshape(1, 1, d), (m, 1, d))
    if b.size == m * d:
        return b.reshape(m, 1, d)
    raise ValueError(f"baseline: expected a number, 'uniform', one image ({d} values) or one "
                     f"per row ({m} x {d}), got shape {b.shape}")


def _noise_range(noise_range):
    if not isinstance(noise_range, (tuple, list)) or len(noise_range) != 2:
        raise TypeError(f"noise_range: expected (low, high), got {noise_range!r}")
    lo = V.finite_float(noise_range[0], "noise_range[0]")
    hi = V.finite_float(noise_range[1], "noise_range[1]")
    if lo >= hi:
        raise ValueError(f"noise_range: expected low < high, got {tuple(noise_range)}")
    return lo, hi


def _ranking(values, order, rng):
    """(m, n) indices of the units in removal order."""
    order = order.lower() if isinstance(order, str) else order
    if order == "morf":
        return np.argsort(-values, axis=1, kind="stable")
    if order == "lerf":
        return np.argsort(values, axis=1, kind="stable")
    if order == "random":
        return np.argsort(rng.random(values.shape), axis=1, kind="stable")
    raise ValueError(f"order: expected one of {list(ORDERS)}, got {order!r}")


def _steps(n_units, per_step, steps, unit):
    per_step = V.positive_int(per_step, f"{unit}s_per_step")
    if per_step > n_units:
        raise ValueError(f"{unit}s_per_step: expected at most the {n_units} {unit}s, got {per_step}")
    if steps is None:
        if n_units % per_step:
            raise ValueError(f"{unit}s_per_step: {per_step} does not divide the {n_units} "
                             f"{unit}s; pick a divisor or give steps=")
        return per_step, n_units // per_step
    steps = V.positive_int(steps, "steps")
    if steps * per_step > n_units:
        raise ValueError(f"steps: {steps} steps of {per_step} {unit}s remove more than the "
                         f"{n_units} {unit}s")
    return per_step, steps


def _curves(model, rows, targets, base, labels, steps, removed, d, order, method):
    Z, P = _perturb.grouped(model, rows, base, labels, steps)
    Z = Z[:, :, 0].astype(np.float64)
    P = P[:, :, 0].astype(np.float64)
    return PerturbationCurves(
        logits=_perturb.pick(Z, targets), probabilities=_perturb.pick(P, targets),
        confidence=_confidence(P), confidence_logits=_confidence(Z),
        predictions=np.argmax(Z, axis=2), targets=targets, removed=removed,
        fraction=removed / d, order=order.lower(), method=method)


def pixel_flipping(model, X, R, target=None, pixels_per_step=1, steps=None, order="morf",
                   baseline=0.0, seed=0, noise_range=(0.0, 1.0)):
    """Pixel flipping (Bach et al. 2015): remove the pixels in order of
    relevance, ``pixels_per_step`` at a time, and record the target's scores
    after every step.

    Parameters
    ----------
    X : images (m, H, W) or rows (m, d).
    R : relevances shaped like X (one per pixel).
    target : None (the class predicted for each unperturbed image), a class
        or one per image; its scores are recorded at every step.
    pixels_per_step : pixels removed per step; must divide the pixel count
        when ``steps`` is None (every pixel is then removed).
    steps : stop after this many steps.
    order : ``"morf"`` (most relevant first), ``"lerf"`` (least relevant
        first) or ``"random"`` (a baseline order); ties keep pixel order.
    baseline : the value of removed pixels: a number (0: black, Quantus's
        "black"), an image, one image per row, or ``"uniform"`` (noise in
        ``noise_range`` drawn once per image).
    seed : for ``order="random"`` and ``baseline="uniform"``.

    Returns ``PerturbationCurves``; ``confidence`` is the LRP poster's
    ``(max - second max) / max`` of the class probabilities,
    ``confidence_logits`` the same of the logits.
    """
    rows, targets = C.rows_targets(model, X, target)
    m, d = rows.shape
    Rm = C.relevance(R, m, d)
    k, steps = _steps(d, pixels_per_step, steps, "pixel")
    noise_range = _noise_range(noise_range)
    rng = C.rng_of(seed)
    rank = _ranking(Rm, order, rng)
    labels = np.full((m, d), -1, dtype=np.int64)
    n_rm = k * steps
    np.put_along_axis(labels, rank[:, :n_rm], np.broadcast_to(np.arange(n_rm) // k, (m, n_rm)), axis=1)
    base = _base(baseline, m, d, rng, noise_range)
    removed = np.arange(steps + 1) * k
    return _curves(model, rows, targets, base, labels, steps, removed, d, order, "pixel flipping")


def _pair(v, name):
    if isinstance(v, numbers.Integral) and not isinstance(v, bool):
        v = (v, v)
    if not isinstance(v, (tuple, list)) or len(v) != 2:
        raise TypeError(f"{name}: expected an integer or (height, width), got {v!r}")
    return tuple(V.positive_int(x, name) for x in v)


def region_perturbation(model, X, R, target=None, patch=4, regions_per_step=1, steps=None,
                        order="morf", baseline="uniform", seed=0, shape=None,
                        noise_range=(0.0, 1.0)):
    """Region perturbation (Samek et al. 2017): the image is tiled by square
    patches; patches are removed in order of their summed relevance,
    ``regions_per_step`` at a time, and the target's scores recorded.

    Parameters
    ----------
    patch : the patch side (or (height, width)); must divide the image's
        height and width.
    shape : (H, W) of rows (square rows need none).
    baseline : ``"uniform"`` (Samek et al.'s noise, U(noise_range) drawn once
        per image; default), a number, an image or one image per row.
    regions_per_step, steps, order, seed, target : as in ``pixel_flipping``
        (``regions_per_step`` must divide the number of patches when
        ``steps`` is None).

    Returns ``PerturbationCurves`` (``removed`` counts pixels).
    """
    rows, targets = C.rows_targets(model, X, target)
    m, d = rows.shape
    Rm = C.relevance(R, m, d)
    xshape = np.shape(X)
    if shape is not None:
        H, W = _pair(tuple(shape), "shape")
        if H * W != d:
            raise ValueError(f"shape: expected H * W = {d}, got {tuple(shape)}")
    elif len(xshape) == 3 and xshape[1] * xshape[2] == d:
        H, W = xshape[1:]
    else:
        H = W = math.isqrt(d)
        if H * W != d:
            raise ValueError(f"shape: rows of {d} values are not square images; pass shape=(H, W)")
    ph, pw = _pair(patch, "patch")
    if H % ph or W % pw:
        raise ValueError(f"patch: {(ph, pw)} does not divide the image size {(H, W)}")
    nr_h, nr_w = H // ph, W // pw
    n_regions = nr_h * nr_w
    k, steps = _steps(n_regions, regions_per_step, steps, "region")
    noise_range = _noise_range(noise_range)
    rng = C.rng_of(seed)
    region_of = ((np.arange(H)[:, None] // ph) * nr_w + np.arange(W)[None, :] // pw).ravel()
    sums = Rm.reshape(m, nr_h, ph, nr_w, pw).sum(axis=(2, 4)).reshape(m, n_regions)
    rank = _ranking(sums, order, rng)
    step_of = np.full((m, n_regions), -1, dtype=np.int64)
    n_rm = k * steps
    np.put_along_axis(step_of, rank[:, :n_rm], np.broadcast_to(np.arange(n_rm) // k, (m, n_rm)), axis=1)
    labels = step_of[:, region_of]
    base = _base(baseline, m, d, rng, noise_range)
    removed = np.arange(steps + 1) * k * ph * pw
    return _curves(model, rows, targets, base, labels, steps, removed, d, order,
                   "region perturbation")


# ---------------------------------------------------------------- correlation
class FaithfulnessCorrelation:
    """What ``faithfulness_correlation`` returns.

    Attributes
    ----------
    correlation : (m,) Pearson correlation per image between the attribution
        sums of the subsets and the score drops (NaN when either is constant).
    attribution_sums, score_drops : (m, n_subsets) the paired values.
    subsets : (m, n_subsets, subset_size) the pixel indices of each subset.
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    @property
    def mean(self):
        """The mean correlation over the images (NaNs left out)."""
        return float(np.nanmean(self.correlation))

    def __repr__(self):
        return f"FaithfulnessCorrelation({len(self.correlation)} images, mean={self.mean:.4f})"


def _pearson(a, b):
    a = a - a.mean(axis=1, keepdims=True)
    b = b - b.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (a * b).sum(axis=1) / np.sqrt((a * a).sum(axis=1) * (b * b).sum(axis=1))


def faithfulness_correlation(model, X, R, target=None, n_subsets=100, subset_size=0.1,
                             baseline=0.0, output="logit", seed=0):
    """Faithfulness correlation (Bhatt et al. 2020): for ``n_subsets`` random
    subsets S of pixels per image, the Pearson correlation between
    ``sum_{i in S} R_i`` and the score drop ``f(x) - f(x with S set to the
    baseline)``.

    Parameters
    ----------
    R : relevances shaped like X.
    subset_size : pixels per subset: an integer, or a fraction of the pixels
        in (0, 1) (default 0.1).
    baseline : a number, an image, or one image per row.
    output : the score f: ``"logit"`` (default) or ``"probability"``.
    seed : subsets are drawn with ``numpy.random.default_rng(seed)``.

    Returns a ``FaithfulnessCorrelation``.
    """
    rows, targets = C.rows_targets(model, X, target)
    m, d = rows.shape
    Rm = C.relevance(R, m, d)
    n = V.positive_int(n_subsets, "n_subsets", minimum=2)
    if isinstance(subset_size, numbers.Integral) and not isinstance(subset_size, bool):
        size = V.positive_int(subset_size, "subset_size")
    else:
        frac = V.finite_float(subset_size, "subset_size", 0.0, 1.0, low_open=True, high_open=True)
        size = max(1, int(round(frac * d)))
    if size > d:
        raise ValueError(f"subset_size: expected at most the {d} pixels, got {size}")
    output = C.score_name(output)
    rng = C.rng_of(seed)
    base = _base(baseline, m, d, rng, (0.0, 1.0))
    subsets = np.empty((m, n, size), dtype=np.int64)
    for i in range(m):       # image by image: the draws do not depend on blocks
        subsets[i] = np.argsort(rng.random((n, d)), axis=1, kind="stable")[:, :size]
    Z0, P0 = _perturb.forward(model, rows)
    f0 = _perturb.pick(P0 if output == "probability" else Z0, targets).astype(np.float64)
    drops = np.empty((m, n))
    labels = np.broadcast_to(np.arange(d, dtype=np.int64), (m, d))
    block = max(1, _perturb.CHUNK_ROWS // n)
    for i0 in range(0, m, block):
        i1 = min(m, i0 + block)
        keep = np.ones((i1 - i0, n, d), dtype=bool)
        np.put_along_axis(keep, subsets[i0:i1], False, axis=2)
        Z, P = _perturb.grouped(model, rows[i0:i1], base[i0:i1], labels[i0:i1], d, masks=keep)
        f = _perturb.pick((P if output == "probability" else Z)[:, :, 0], targets[i0:i1])
        drops[i0:i1] = f0[i0:i1, None] - f
    sums = np.take_along_axis(Rm[:, None, :], subsets, axis=2).sum(axis=2)
    return FaithfulnessCorrelation(correlation=_pearson(sums, drops), attribution_sums=sums,
                                   score_drops=drops, subsets=subsets, targets=targets)


# ---------------------------------------------------------------- infidelity
def infidelity(model, X, R, target=None, perturbations=None, n_perturb=10, noise_std=None,
               output="logit", normalize=False, seed=0):
    """Infidelity (Yeh et al. 2019), as Captum's ``infidelity``:
    ``E_I[(I . R - (f(x) - f(x - I)))^2]`` over perturbations I, the mean
    over the perturbations of each row.

    Parameters
    ----------
    R : attributions shaped like X.
    perturbations : the perturbations I: an array (n, d) shared by every
        row, an array (m, n, d), or a callable (X (m, d), rng) -> one of
        those. Default: Gaussian noise N(0, noise_std^2), ``n_perturb`` per
        row, ``noise_std`` 0.1 (refused together with perturbations).
        Captum's ``perturb_func`` returns (I, x - I): give it the same I
        and both agree.
    output : the score f of the target: ``"logit"`` or ``"probability"``.
    normalize : scale the attributions by Captum's
        ``beta = E[(I . R)(f(x) - f(x - I))] / E[(I . R)^2]`` first, so the
        value does not change when R is scaled (with Captum's expansion
        ``(beta^2 E[(I.R)^2] - 2 beta E[(I.R) df] + E[df^2])``; beta uses a
        denominator of 1 when E[(I.R)^2] is 0).
    seed : the default noise's ``numpy.random.default_rng(seed)``, also
        handed to a callable.

    Returns an array (m,).
    """
    rows, targets = C.rows_targets(model, X, target)
    m, d = rows.shape
    Rm = C.relevance(R, m, d)
    output = C.score_name(output)
    if not isinstance(normalize, (bool, np.bool_)):
        raise TypeError(f"normalize: expected True or False, got {normalize!r}")
    if perturbations is not None and noise_std is not None:
        raise ValueError("noise_std: only for the default Gaussian perturbations, not with perturbations=")
    if perturbations is not None and n_perturb != 10:
        raise ValueError("n_perturb: the number of perturbations is that of perturbations=")
    std = 0.1 if noise_std is None else V.finite_float(noise_std, "noise_std", 0.0, low_open=True)
    n_perturb = V.positive_int(n_perturb, "n_perturb")
    rng = C.rng_of(seed)
    X64 = rows.astype(np.float64)
    I = C.perturbations(perturbations, X64, rng, "perturbations",
                        lambda r: r.normal(0.0, std, size=(m, n_perturb, d)))
    n = I.shape[1]
    Xp = np.ascontiguousarray((X64[:, None, :] - I).reshape(m * n, d), dtype=model.dtype)
    Z0, P0 = _perturb.forward(model, rows)
    Zp, Pp = _perturb.forward(model, Xp)
    pick = (lambda Z, P: P) if output == "probability" else (lambda Z, P: Z)
    f0 = _perturb.pick(pick(Z0, P0), targets).astype(np.float64)
    fp = _perturb.pick(pick(Zp, Pp), np.repeat(targets, n)).astype(np.float64).reshape(m, n)
    df = f0[:, None] - fp
    IR = np.einsum("mnd,md->mn", I, Rm)
    if normalize:
        a = (IR * IR).sum(axis=1)
        b = (IR * df).sum(axis=1)
        c = (df * df).sum(axis=1)
        beta = b / np.where(a == 0, 1.0, a)
        return (beta * beta * a - 2 * beta * b + c) / n
    return ((IR - df) ** 2).sum(axis=1) / n
