"""DeepLIFT (the rescale rule of Shrikumar et al. 2017) and DeepLIFT-SHAP,
on dense and convolutional networks; one C call for the batch and its
baselines (``csrc/explain/deeplift.c``).

Multipliers flow back from the target's logit like a gradient, but through
each activation a = f(z) the derivative is replaced by Δa / Δz (Δ: the
value at x minus the value at the baseline); linear layers, average pooling
and flatten pass them through; max pooling routes the two inputs' parts of
Δy to the two arg-maxes. The attribution (x − x') · multipliers sums to
z_t(x) − z_t(x') up to rounding (``return_error=True`` reports the
difference) — with ``maxpool="rescale"``, the default.

``maxpool="captum"`` reproduces Captum 0.9's ``DeepLift`` on a max pool
that follows an activation: there the activation's rule rescales the
pool's plain gradient instead of its multipliers, and the attributions no
longer sum to the score difference. Everything else equals Captum's
``DeepLift``/``DeepLiftShap`` in both modes (a torch model explaining the
logit, i.e. without its final softmax).
"""
import numpy as np

from .. import _core
from .. import _validate as V
from . import _common as C
from .gradients import IntegratedGradients, _baseline

__all__ = ["deeplift", "deep_shap", "DeepLift"]

MAXPOOL = ("rescale", "captum")


class DeepLift(IntegratedGradients):
    """What ``deeplift``/``deep_shap`` return with ``return_error=True``: the
    attributions with ``.error`` (m,) Σ attribution − (z_t(x) − z_t(x')),
    ``.delta`` z_t(x) − z_t(x') and ``.targets`` (for ``deep_shap``, the
    mean over the background of both)."""


def _prepare(model, X, target, maxpool, eps):
    model = C.check_model(model)
    maxpool = V.choice(maxpool, "maxpool", set(MAXPOOL))
    eps = V.finite_float(eps, "eps", 0.0)
    net, Xc, node, targets, shape = C.prepare(model, X, target)
    targets = C.resolve(net, Xc, targets, node)
    return model, net, Xc, targets, shape, maxpool == "captum", eps


def _finish(net, A, Xc, B, targets, shape, return_error, k=1):
    m = Xc.shape[0] // k
    if not return_error:
        if k > 1:
            A = A.reshape(m, k, -1).mean(axis=1)
        return C.shaped(A, shape)
    code = C.STARTS["logit"]
    fx, _ = _core.explain_scores(net, Xc, targets, code)
    fb, _ = _core.explain_scores(net, B, targets, code)
    delta = fx.astype(np.float64) - fb
    error = A.sum(axis=1, dtype=np.float64) - delta
    if k > 1:
        A = A.reshape(m, k, -1).mean(axis=1)
        delta = delta.reshape(m, k).mean(axis=1)
        error = error.reshape(m, k).mean(axis=1)
        targets = targets.reshape(m, k)[:, 0]
    out = C.shaped(A, shape).view(DeepLift)
    out.delta, out.error, out.targets = delta, error, targets
    return out


def deeplift(model, X, baseline=None, target=None, maxpool="rescale", eps=1e-10,
             return_error=False):
    """DeepLIFT with the rescale rule: (x − x') times the multipliers of the
    target's logit.

    Parameters
    ----------
    X : rows, images (m, C, H, W) or (m, H, W), signals (m, C, L), or one
    baseline : None (zeros), a number, one row, or one row per row of X
    target : None (the class predicted for x: the arg-max of its logits), a
        class, or one per row
    maxpool : "rescale" (default: the attributions sum to the score
        difference) or "captum" (Captum 0.9's result on a max pool after an
        activation; see the module)
    eps : below this |Δz| a unit takes its plain gradient (Captum's 1e-10)
    return_error : return a ``DeepLift`` array with ``.error`` (the
        summation-to-delta error per row), ``.delta`` and ``.targets``
    """
    model, net, Xc, targets, shape, captum, eps = _prepare(model, X, target, maxpool, eps)
    B = _baseline(baseline, Xc)
    B = np.zeros_like(Xc) if B is None else B
    A = _core.deeplift(net, Xc, B, targets, eps, captum)
    return _finish(net, A, Xc, B, targets, shape, bool(return_error))


def deep_shap(model, X, background, target=None, maxpool="rescale", eps=1e-10,
              return_error=False):
    """DeepLIFT-SHAP (Lundberg & Lee 2017; Captum's ``DeepLiftShap``): the
    mean over the rows of ``background`` of DeepLIFT with each as the
    baseline, all pairs in one C call. ``background`` is (k,) + the input's
    shape (or k flat rows). With ``return_error`` the ``.error`` and
    ``.delta`` are the means over the background."""
    model, net, Xc, targets, shape, captum, eps = _prepare(model, X, target, maxpool, eps)
    Bg = model._X(background, "background")
    m, k = Xc.shape[0], Bg.shape[0]
    if m * k > 2**31:
        raise ValueError(f"background: {m} rows x {k} background rows is too many pairs")
    Xe = np.repeat(Xc, k, axis=0)
    Be = np.ascontiguousarray(np.tile(Bg, (m, 1)))
    te = np.repeat(targets, k)
    A = _core.deeplift(net, Xe, Be, te, eps, captum)
    return _finish(net, A, Xe, Be, te, shape, bool(return_error), k)
