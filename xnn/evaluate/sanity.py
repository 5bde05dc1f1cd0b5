"""Sanity checks for saliency maps (Adebayo et al. 2018): an explanation
that does not change when the model's weights are randomised cannot be
explaining what the model learned."""
import copy

import numpy as np

from .. import _validate as V
from .. import init as initializers
from . import _common as C

__all__ = ["randomization_check", "RandomizationCheck"]

MODES = ("cascading", "independent")


class RandomizationCheck:
    """What ``randomization_check`` returns.

    Attributes
    ----------
    mode : ``"cascading"`` or ``"independent"``.
    layers : (L,) the index in ``model.layers`` of the layer randomised at
        each stage, from the top (output) layer down; in cascading mode
        stage s has that layer and every layer above it randomised, in
        independent mode that layer only.
    labels : ("original", then one label per stage) for plots.
    maps : (L+1, m, d) the explanations: the original model's, then each
        stage's.
    spearman, spearman_abs : (L, m) Spearman rank correlation between the
        original and each stage's map, of the signed maps and of their
        absolute values (NaN when a map is constant).
    ssim : (L, m) structural similarity (scikit-image) of the absolute maps,
        each scaled by its maximum to [0, 1] (data_range 1).
    targets : (m,) the explained classes (the original model's predictions
        unless given).
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def mean(self, metric="spearman_abs"):
        """The mean over the images of one similarity, per stage (L,)."""
        if metric not in ("spearman", "spearman_abs", "ssim"):
            raise ValueError(f"metric: expected 'spearman', 'spearman_abs' or 'ssim', got {metric!r}")
        return np.nanmean(getattr(self, metric), axis=1)

    def __repr__(self):
        return (f"RandomizationCheck({self.mode}, {len(self.layers)} stages, {self.maps.shape[1]} "
                f"images, last stage spearman_abs={self.mean()[-1]:.3f})")


def _spearman(A, B):
    """Spearman's rho per row (scipy's definition: Pearson of average ranks)."""
    from scipy.stats import rankdata
    ra = rankdata(A, axis=1)
    rb = rankdata(B, axis=1)
    ra -= ra.mean(axis=1, keepdims=True)
    rb -= rb.mean(axis=1, keepdims=True)
    with np.errstate(divide="ignore", invalid="ignore"):
        return (ra * rb).sum(axis=1) / np.sqrt((ra * ra).sum(axis=1) * (rb * rb).sum(axis=1))


def _scaled_abs(A):
    a = np.abs(A)
    top = a.max(axis=1, keepdims=True)
    return a / np.where(top > 0, top, 1.0)


def _ssim(A, B, hw):
    try:
        from skimage.metrics import structural_similarity
    except ImportError:
        raise ImportError("randomization_check: SSIM needs scikit-image: pip install scikit-image") from None
    win = min(7, hw[0], hw[1])
    win -= 1 - win % 2          # odd
    if win < 3:
        raise ValueError(f"shape: SSIM needs images of at least 3 x 3 pixels, got {hw}")
    a, b = _scaled_abs(A), _scaled_abs(B)
    return np.array([structural_similarity(a[i].reshape(hw), b[i].reshape(hw), data_range=1.0,
                                           win_size=win) for i in range(A.shape[0])])


def _image_shape(d, X, shape):
    if shape is not None:
        H, W = (V.positive_int(s, "shape") for s in shape)
        if H * W != d:
            raise ValueError(f"shape: expected H * W = {d}, got {tuple(shape)}")
        return H, W
    xs = np.shape(X)
    if len(xs) == 3 and xs[1] * xs[2] == d:
        return xs[1], xs[2]
    side = int(round(np.sqrt(d)))
    if side * side != d:
        raise ValueError(f"shape: rows of {d} values are not square images; pass shape=(H, W)")
    return side, side


def randomization_check(model, X, method="gradient", target=None, mode="cascading", seed=0,
                        init=None, shape=None, method_kwargs=None):
    """Model parameter randomisation test (Adebayo et al. 2018).

    Copies of the model get re-initialised weights layer by layer, from the
    output layer down (``cascading``: each stage randomises one more layer;
    ``independent``: one layer at a time, the others trained); each copy
    explains the same rows and classes, and its maps are compared with the
    trained model's by Spearman rank correlation (signed and absolute) and
    SSIM. The user's model is never modified: the copies are made with
    ``copy.deepcopy`` and ``set_weights``.

    Parameters
    ----------
    method : an explanation method's name (``"gradient"``, ``"saliency"``,
        ``"lrp"``, ``"integrated_gradients"``, ...) or a callable
        ``method(model, X, target=...)``; ``method_kwargs`` are passed on.
    target : None (the trained model's predicted classes), a class or one
        per row; every copy explains these classes.
    init : the initialiser of the new weights (a name of ``xnn.init`` or a
        callable ``f(rng, fan_in, fan_out)``); default the model's own
        (Glorot uniform if the model has none). Biases are reset to 0.
    seed : new weights are drawn from ``numpy.random.RandomState(seed)``,
        layer by layer from the top; both modes use the same draws.
    shape : (H, W) for the SSIM of non-square rows.

    Returns a ``RandomizationCheck``.
    """
    fn = C.method_fn(method, method_kwargs)
    rows, targets = C.rows_targets(model, X, target)
    m, d = rows.shape
    if mode not in MODES:
        raise ValueError(f"mode: expected one of {list(MODES)}, got {mode!r}")
    hw = _image_shape(d, X, shape)
    if init is None:
        own = getattr(model, "init", None)
        init = own if callable(own) or (isinstance(own, str) and own != "zeros") else "glorot_uniform"
    init_fn = initializers.get(init)
    seed = V.positive_int(seed, "seed", minimum=0)
    rng = np.random.RandomState(seed % 2**32)
    trained = model.get_weights()
    n_param = len(trained) // 2
    param_layers = [i for i, ly in enumerate(model.layers) if ly.params]
    fresh = {}
    for j in reversed(range(n_param)):
        W = trained[2 * j]
        ly = model.layers[param_layers[j]]
        if W.ndim == 2:        # dense: the initialiser's own (fan_in, fan_out) draw
            draw = init_fn(rng, ly.fan_in, ly.fan_out)
        else:                  # a convolution: drawn in its weight shape
            draw = init_fn(rng, ly.fan_in, ly.fan_out, shape=W.shape)
        fresh[j] = (np.asarray(draw).reshape(W.shape), np.zeros_like(trained[2 * j + 1]))
    twin = copy.deepcopy(model)
    E0 = fn(model, rows, targets)
    maps = [E0]
    layers, labels = [], ["original"]
    for s, j in enumerate(reversed(range(n_param))):
        weights = [w.copy() for w in trained]
        chosen = range(j, n_param) if mode == "cascading" else [j]
        for k in chosen:
            weights[2 * k], weights[2 * k + 1] = fresh[k]
        twin.set_weights(weights)
        maps.append(fn(twin, rows, targets))
        li = param_layers[j] if j < len(param_layers) else j
        top = param_layers[-1] if param_layers else n_param - 1
        layers.append(li)
        labels.append(f"layers {li}-{top}" if mode == "cascading" and li != top else f"layer {li}")
    maps = np.stack(maps)
    sp = np.stack([_spearman(E0, maps[s]) for s in range(1, len(maps))])
    spa = np.stack([_spearman(np.abs(E0), np.abs(maps[s])) for s in range(1, len(maps))])
    ss = np.stack([_ssim(E0, maps[s], hw) for s in range(1, len(maps))])
    return RandomizationCheck(mode=mode, layers=np.array(layers), labels=labels, maps=maps,
                              spearman=sp, spearman_abs=spa, ssim=ss, targets=targets,
                              shape=hw)
