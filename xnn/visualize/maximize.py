"""Activation maximization and Deep Dream: gradient ascent on the input.

Every step of the ascent is one call into C for the whole batch (one row
per unit, or per image): ``xnn.explain.gradient``'s kernel, which also
returns the score at the point it differentiates. The regularizers are
NumPy/SciPy on the batch (``regularizers``), with no loop over units.
"""

import numpy as np

from .. import _core
from .. import layers as layers_mod
from .. import _validate as V
from ..explain import _common as EC
from . import _common as C
from . import regularizers as R

__all__ = ["activation_maximization", "deep_dream", "Maximization"]

#: the keys an octave (a stage of the ascent) may set
OCTAVE_KEYS = ("steps", "lr", "l2", "tv", "blur_sigma", "blur_every", "jitter", "scale")
#: at most this many steps in all
MAX_STEPS = 1_000_000
#: rows of one Deep Dream gradient call (the helper layer has this many outputs)
DREAM_GROUP = 16


class Maximization:
    """The result of ``activation_maximization`` or ``deep_dream``.

    Attributes
    ----------
    images : (k,) + model.input_shape, the final images (one per row).
    trace : (steps, k) float64: the objective at the image each step
        differentiated (after that step's jitter), step by step over every
        octave.
    activations : (k,) float64, the objective at the final images.
    initial : the images the ascent started from, shaped like ``images``.
    layer : the layer index; units : (k,) the unit (channel, class) of
        each row, or None for Deep Dream.
    objective : "unit", "channel", "class" (activation maximization) or
        "half squared norm" (Deep Dream).
    """

    def __init__(self, images, trace, activations, initial, layer, units, objective):
        self.images = images
        self.trace = trace
        self.activations = activations
        self.initial = initial
        self.layer = layer
        self.units = units
        self.objective = objective

    def __repr__(self):
        return (f"Maximization({self.objective} of layer {self.layer}, "
                f"{self.images.shape[0]} images {self.images.shape[1:]}, "
                f"{self.trace.shape[0]} steps, activations {np.round(self.activations, 4)})")


# ---------------------------------------------------------------- objectives
class _UnitObjective:
    """Rows' units (channel means, class logits) and their gradients: one
    C call, ``xnn.explain.gradient(model, X, start_layer=node, unit=units)``."""

    def __init__(self, model, node, units):
        self.net = EC.network(model)
        self.node = node
        self.units = np.ascontiguousarray(units, dtype=np.int64)

    def __call__(self, X):
        """(d score / d X (m, n_in), score (m,)) at rows X."""
        return _core.explain_gradient(self.net, X, self.units, EC.STARTS["logit"],
                                      EC.GRAD_PLAIN, self.node)

    def score(self, X):
        return _core.explain_scores(self.net, X, self.units, EC.STARTS["logit"], self.node)[0]


def _copy_layer(layer, linear=False):
    cfg = dict(layer.config())
    if linear and "activation" in cfg:
        cfg["activation"] = "linear"
    return layers_mod.from_config(cfg)


class _LayerNormObjective:
    """½‖A_l(x)‖² per row and its gradient J_l(x)^T A_l(x), for ``deep_dream``.

    xnn's gradient kernels start from one unit; this one needs the start
    gradient A_l itself. It is made from what exists: a copy of layers
    0..l (the last layer's copy is linear: its values are the logits),
    a Flatten when layer l's output is an image, and a linear Dense head
    with one output per row of a group of rows. For a group, one forward
    gives A_l(x_i); the head's column i is set to A_l(x_i); then the
    gradient of head output i at row i is J_l(x_i)^T A_l(x_i), exact, for
    every row of the group in one C call. Each step is thus two C calls
    per group of ``DREAM_GROUP`` rows (a forward and a gradient), and the
    head adds ``n_l * group`` multiply-adds per row to each.

    A C gradient that starts from a given d score / d A_l (explain_gradient
    with a start gradient G at node l) would make it one call with no head;
    this class is the one place to change.
    """

    def __init__(self, model, layer, m):
        model = C.check_model(model)
        self.layer = layer
        last = len(model.layers) - 1
        group = min(m, DREAM_GROUP)
        copies = [_copy_layer(ly, linear=(i == last)) for i, ly in enumerate(model.layers[:layer + 1])]
        shape = tuple(model.layers[layer].output_shape_)
        width = int(np.prod(shape))
        if len(shape) > 1:
            copies.append(layers_mod.Flatten())
        from ..network import Sequential
        head = Sequential(copies + [layers_mod.Dense(width, group)], init="zeros",
                          dtype=model.dtype, input_shape=model.input_shape)
        n_params = sum(len(ly.params) for ly in model.layers[:layer + 1])
        head.set_weights(model.get_weights()[:n_params] + [np.zeros((width, group)),
                                                           np.zeros(group)])
        self.model = head
        self.W = head.layers[-1].W          # the head's weights: the network points at them
        self.net = EC.network(head)
        self.node = len(head.layers) - 1
        self.group = group
        self.width = width
        self.top = len(copies) - 1          # the index of layer l's values (flattened)
        self.targets = np.arange(group, dtype=np.int64)

    def _forward(self, X):
        outs = [np.empty((X.shape[0], int(np.prod(ly.output_shape_))), dtype=self.model.dtype)
                for ly in self.model.layers]
        self.net.forward(X, outs)
        return outs[self.top]

    def __call__(self, X):
        m = X.shape[0]
        G = np.empty_like(X)
        S = np.empty(m, dtype=X.dtype)
        for r0 in range(0, m, self.group):
            Xg = X[r0:r0 + self.group]
            g = Xg.shape[0]
            A = self._forward(Xg)
            self.W[...] = 0
            self.W[:, :g] = A.T
            Gg, Sg = _core.explain_gradient(self.net, Xg, self.targets[:g], EC.STARTS["logit"],
                                            EC.GRAD_PLAIN, self.node)
            G[r0:r0 + g] = Gg
            S[r0:r0 + g] = 0.5 * Sg           # the head's score at x_i is ‖A_l(x_i)‖²
        return G, S

    def score(self, X):
        A = self._forward(X) if X.shape[0] <= self.group else np.concatenate(
            [self._forward(X[r:r + self.group]) for r in range(0, X.shape[0], self.group)])
        A = A.astype(np.float64)
        return 0.5 * np.einsum("ij,ij->i", A, A)


def _dream_gradient(model, X, layer):
    """(d ½‖A_l‖² / dX, ½‖A_l‖²) for rows X (m, n_in) of the model's dtype."""
    model = C.check_model(model)
    layer = C.layer_index(model, layer)
    Xc = model._X(X)
    return _LayerNormObjective(model, layer, Xc.shape[0])(Xc)


# ---------------------------------------------------------------- settings
def _nonneg_int(v, name):
    return V.positive_int(v, name, minimum=0)


def _stage(settings, base, i):
    """One octave's settings: its dict over the function's arguments."""
    if not isinstance(settings, dict):
        raise TypeError(f"octaves[{i}]: expected a dict with keys from {list(OCTAVE_KEYS)}, "
                        f"got {type(settings).__name__}")
    extra = sorted(set(settings) - set(OCTAVE_KEYS))
    if extra:
        raise ValueError(f"octaves[{i}]: unknown keys {extra}; expected keys from "
                         f"{list(OCTAVE_KEYS)}")
    s = dict(base)
    s.update(settings)
    where = f"octaves[{i}]" if settings else ""
    return _checked(s, where)


def _checked(s, where=""):
    p = f"{where}." if where else ""
    out = {"steps": _nonneg_int(s["steps"], p + "steps"),
           "lr": V.finite_float(s["lr"], p + "lr", 0.0),
           "l2": V.finite_float(s["l2"], p + "l2", 0.0),
           "tv": V.finite_float(s["tv"], p + "tv", 0.0),
           "blur_sigma": V.finite_float(s["blur_sigma"], p + "blur_sigma", 0.0),
           "blur_every": _nonneg_int(s["blur_every"], p + "blur_every"),
           "scale": V.finite_float(s["scale"], p + "scale", 0.0, 1.0, low_open=True)}
    j = s["jitter"]
    out["jitter"] = _nonneg_int(j, p + "jitter")
    return out


def _stages(octaves, base):
    if octaves is None:
        return [_checked(base)]
    if isinstance(octaves, dict) or not isinstance(octaves, (list, tuple)) or not octaves:
        raise TypeError("octaves: expected None or a non-empty list of dicts (one per stage), "
                        f"got {octaves!r}")
    stages = [_stage(o, base, i) for i, o in enumerate(octaves)]
    if sum(s["steps"] for s in stages) > MAX_STEPS:
        raise ValueError(f"octaves: expected at most {MAX_STEPS} steps in all")
    return stages


def _clip(clip):
    if clip is None:
        return None
    try:
        lo, hi = clip
    except (TypeError, ValueError):
        raise TypeError(f"clip: expected None or a pair (low, high), got {clip!r}") from None
    lo, hi = V.finite_float(lo, "clip[0]"), V.finite_float(hi, "clip[1]")
    if not lo < hi:
        raise ValueError(f"clip: expected low < high, got {clip!r}")
    return lo, hi


def _rows(model, X, shape, name):
    """Rows (m, n_in) of the model's dtype; one image may also be given in
    the regularizers' layout without its channel ((28, 28) for (1, 28, 28))."""
    arr = X if isinstance(X, np.ndarray) else np.asarray(X)
    if arr.ndim >= 2 and shape[0] == 1 and arr.shape == tuple(shape[1:]):
        arr = arr.reshape(1, -1)
    return model._X(arr, name)


def _images(model, X, k, shape, name):
    """Rows (k, n_in) of the model's dtype from one image or k images."""
    rows = _rows(model, X, shape, name)
    if rows.shape[0] == 1 and k > 1:
        rows = np.repeat(rows, k, axis=0)
    if rows.shape[0] != k:
        raise ValueError(f"{name}: expected one image or {k} (one per unit), got {rows.shape[0]}")
    return np.ascontiguousarray(rows).reshape((k,) + shape).copy()


def _noise(model, k, shape, clip, rng):
    """The default start: N(centre, (0.1 · range)²) clipped to the box,
    centre and range of ``clip`` (N(0, 0.1²) without one)."""
    lo, hi = clip if clip is not None else (-0.5, 0.5)
    x = (lo + hi) / 2 + 0.1 * (hi - lo) * rng.standard_normal((k,) + shape)
    if clip is not None:
        np.clip(x, lo, hi, out=x)
    return x.astype(model.dtype)


# ---------------------------------------------------------------- the ascent
def _ascend(objective, x, stages, clip, rng, verbose, desc):
    """Projected, normalized gradient ascent on x (k, C, *spatial), in place.

    Each step: shift x by a random jitter (uniform in [-j, j] pixels per
    axis, the same for every row), take the gradient g of the objective
    there (one C call) and shift it back; normalise it per row by its root
    mean square, ĝ = g / rms(g); move x += lr (ĝ − l2 x − tv ∇TV(x));
    clip to the box. Before steps blur_every, 2 blur_every, ... of an
    octave, blur x (so the last operation is an ascent step). An octave
    with scale < 1 starts by resampling x down and up.
    """
    k = x.shape[0]
    n = int(np.prod(x.shape[1:]))
    spatial = x.ndim - 2
    flat = x.reshape(k, n)
    total = sum(s["steps"] for s in stages)
    trace = np.empty((total, k), dtype=np.float64)
    buf = np.empty_like(x)
    gbuf = np.empty_like(x)
    lo, hi = clip if clip is not None else (None, None)
    bar = C.progress(verbose, total, desc, unit="step")
    t = 0
    try:
        for s in stages:
            if s["scale"] < 1:
                x[...] = R.resample(x, s["scale"])
                if clip is not None:
                    np.clip(x, clip[0], clip[1], out=x)
            lr, l2, tv, j, steps = s["lr"], s["l2"], s["tv"], s["jitter"], s["steps"]
            every = s["blur_every"] if s["blur_sigma"] > 0 else 0
            mats = [R.gaussian_matrix(d, s["blur_sigma"], dtype=x.dtype)
                    for d in x.shape[2:]] if every else None
            shifts = rng.integers(-j, j + 1, size=(steps, spatial)).tolist() if j else None
            for i in range(steps):
                if every and i and i % every == 0:
                    x[...] = R._blur_with(x, mats)
                    if clip is not None:
                        np.maximum(flat, lo, out=flat)
                        np.minimum(flat, hi, out=flat)
                if j:
                    shift = shifts[i]
                    xj = R._roll(x, shift, buf).reshape(k, n)
                else:
                    xj = flat
                g, score = objective(xj)
                trace[t] = score
                g = g.reshape(x.shape)
                if j:
                    g = R._roll(g, [-v for v in shift], gbuf)
                # x += lr g / rms(g) - lr l2 x - lr tv grad TV(x), clipped (one C call)
                e = ((lr * tv) * R.total_variation_grad(x)).reshape(k, n) if tv else None
                _core.ascent_step(flat, np.ascontiguousarray(g.reshape(k, n)), e, lr, l2, clip)
                t += 1
                if bar is not None:
                    bar.update(1)
    finally:
        if bar is not None:
            bar.close()
    return trace


_DOC_REGULARIZERS = """
    steps : number of ascent steps (one C call each).
    lr : the step, in input units per step: every step moves the image by
        ``lr`` times the gradient normalised to a root mean square of 1 per
        row (so one lr fits units whose gradients differ in scale).
    l2 : L2 decay: ``- l2 * x`` is added to the normalised gradient (a pull
        towards 0, MNIST's black background).
    tv : weight of the total variation penalty TV_2 (``regularizers.
        total_variation``), its gradient subtracted as the L2 decay's.
    blur_every, blur_sigma : every ``blur_every`` steps the image is blurred
        by a Gaussian of ``blur_sigma`` pixels (0: never), before the step,
        so that the result ends on an ascent step.
    jitter : each step differentiates the image shifted circularly by up to
        ``jitter`` pixels along each axis (random, from ``seed``).
    clip : the box (low, high) the image is kept in after every step
        (None: unbounded).
    octaves : None (one stage with the settings above) or a list of stages,
        each a dict that may set ``steps``, ``lr``, ``l2``, ``tv``,
        ``blur_sigma``, ``blur_every``, ``jitter`` and ``scale`` (others
        taken from the arguments). ``scale`` < 1 resamples the image down
        by that factor and back up to the model's size at the stage's start
        (``scipy.ndimage.zoom``): a low-pass that brings out coarse
        structure first. The MFV thesis's octaves instead grew the image
        (a zoom) between stages; that needs a network whose input can grow
        (fully convolutional), and every xnn model has a fixed input size.
    image_shape : how the regularizers read a flat input row (default: a
        square image when the size is a square, e.g. 784 -> 28 x 28).
    seed : the start noise and the jitter (None: fresh randomness).
    verbose : a progress bar over the steps.
"""


def activation_maximization(model, layer=None, unit=None, init=None, steps=256, lr=0.02,
                            l2=0.1, blur_every=4, blur_sigma=1.0, jitter=1, tv=0.0,
                            clip=(0.0, 1.0), octaves=None, seed=None, target=None,
                            image_shape=None, verbose=False):
    """Activation maximization: the input that most excites a unit,
    found by gradient ascent from ``init``, with regularizers.

    The objective of a row is the score where ``xnn.explain.gradient(model,
    X, start_layer=layer, unit=u)`` starts: a dense neuron's output (after
    its activation), the mean over positions of a convolution or pooling
    channel, or for the last layer a class's logit (its pre-softmax score).

    Parameters
    ----------
    model : xnn.Sequential
    layer : the layer of the unit (an index of ``model.layers``; None: the
        last layer, a class).
    unit : the unit (neuron or channel) to maximize, or a list of them: row
        i of the batch is unit[i]'s image, and all rows ascend together, one
        C call per step. For the last layer, ``target=`` names the classes
        instead (either may be used).
    init : None (noise from ``seed``: N(centre, (0.1 range)²) in the clip
        box), one image (every row starts there) or one image per unit. With
        one unit and several images, each image makes a row of that unit
        (the facets of ``facets``).
    target : classes of the last layer (as ``unit`` for ``layer=None``).
    """ + _DOC_REGULARIZERS + """
    Returns
    -------
    Maximization : ``.images`` (k,) + model.input_shape, ``.trace`` (steps,
    k), ``.activations`` (k,).

    A ReLU unit that is 0 at the start has no gradient and stays where it
    started; start from an image that excites it (or other noise).
    """
    model = C.check_model(model)
    node, units, _, what = C.units_of(model, layer, unit, target)
    shape = C.layout(model, image_shape)
    clip = _clip(clip)
    rng = C.rng_of(seed)
    base = {"steps": steps, "lr": lr, "l2": l2, "tv": tv, "blur_sigma": blur_sigma,
            "blur_every": blur_every, "jitter": jitter, "scale": 1.0}
    stages = _stages(octaves, base)
    verbose = C.verbose_flag(verbose)
    k = units.size
    if init is None:
        x = _noise(model, k, shape, clip, rng)
    else:
        rows = _rows(model, init, shape, "init")
        if k == 1 and rows.shape[0] > 1:
            k = rows.shape[0]
            units = np.repeat(units, k)
        x = _images(model, rows, k, shape, "init")
    initial = x.reshape((k,) + tuple(model.input_shape)).copy()
    objective = _UnitObjective(model, node, units)
    trace = _ascend(objective, x, stages, clip, rng, verbose, "activation maximization")
    rows = x.reshape(k, -1)
    final = objective.score(rows).astype(np.float64)
    return Maximization(rows.reshape((k,) + tuple(model.input_shape)), trace, final, initial,
                        node, units, what)


def deep_dream(model, X, layer, steps=64, lr=0.02, octaves=None, l2=0.0, blur_every=0,
               blur_sigma=0.0, jitter=1, tv=0.0, clip=(0.0, 1.0), seed=None, image_shape=None,
               verbose=False):
    """Deep Dream (Mordvintsev et al. 2015): from images X, ascend
    ½‖A_l(x)‖², the squared norm of layer ``layer``'s output (the last
    layer's logits for the last layer), which amplifies whatever the layer
    already sees in each image.

    Its gradient is J_l(x)^T A_l(x), the gradient started at layer l with
    d score / d A_l = A_l (see ``_LayerNormObjective`` for how it is
    computed). Same regularizers and octaves as
    ``activation_maximization``:
    """ + _DOC_REGULARIZERS + """
    Returns a ``Maximization`` whose ``.trace`` and ``.activations`` are
    ½‖A_l‖² per image.
    """
    model = C.check_model(model)
    node = C.layer_index(model, layer)
    shape = C.layout(model, image_shape)
    clip = _clip(clip)
    rng = C.rng_of(seed)
    base = {"steps": steps, "lr": lr, "l2": l2, "tv": tv, "blur_sigma": blur_sigma,
            "blur_every": blur_every, "jitter": jitter, "scale": 1.0}
    stages = _stages(octaves, base)
    verbose = C.verbose_flag(verbose)
    rows = _rows(model, X, shape, "X")
    k = rows.shape[0]
    x = np.ascontiguousarray(rows).reshape((k,) + shape).copy()
    if clip is not None:
        np.clip(x, clip[0], clip[1], out=x)
    initial = x.reshape((k,) + tuple(model.input_shape)).copy()
    objective = _LayerNormObjective(model, node, k)
    trace = _ascend(objective, x, stages, clip, rng, verbose, "deep dream")
    rows = x.reshape(k, -1)
    final = objective.score(rows)
    return Maximization(rows.reshape((k,) + tuple(model.input_shape)), trace, final, initial,
                        node, None, "half squared norm")
