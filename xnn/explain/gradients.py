"""Gradient methods: saliency, gradient, input x gradient, SmoothGrad,
integrated gradients, guided backprop and deconvnet, on dense and
convolutional networks.

Each is one call into C for the whole batch (``csrc/explain/gradient.c``):
a forward that keeps every layer's pre-activation and output, then the
backward from the score to the input through every dense, convolution,
pooling and flatten layer.
"""
import functools

import numpy as np

from .. import _core
from .. import _validate as V
from . import _common as C

__all__ = ["gradient", "saliency", "input_x_gradient", "guided_backprop", "deconvnet",
           "smoothgrad", "integrated_gradients", "IntegratedGradients", "score"]

#: integration rules take at most this many steps (each is a forward and a
#: backward of the whole batch)
MAX_STEPS = 100_000


_LAYERS_DOC = """
    return_layers : return the list ``[G_0, G_1, ..., G_L]`` instead, laid
        out as ``lrp(..., return_layers=True)``: ``G_0`` the result for X
        (shaped like X, what ``return_layers=False`` returns), ``G_l`` for
        0 < l < L the same quantity for layer l's input (the output of layer
        l − 1, after its activation, in that layer's shape, e.g. (m, C, H,
        W)), ``G_L`` for the start: the last layer's pre-activation z
        (d score / d z is one-hot at the target for ``output="logit"``,
        P − onehot for ``"loss"``), or the start layer's output.
    start_layer, unit : start at a hidden layer instead of a class: the
        score is that layer's output (after its activation) at ``unit``, a
        neuron of a dense layer or, for an image-shaped output, the mean of
        channel ``unit`` over its positions (what a filter responds to).
        ``unit`` is one index or one per row; ``target`` is then not given."""


def _layers_doc(fn, what):
    fn.__doc__ = fn.__doc__.rstrip() + "\n" + _LAYERS_DOC + ("\n        " + what if what else "")
    return fn


def _check_output(model, node, code, output):
    if node != len(model.layers) - 1 and code != C.STARTS["logit"]:
        raise ValueError(f"output: a hidden unit's score is its value; output={output!r} is for "
                         "the last layer")
    if code == C.STARTS["loss"] and model.layers[-1].activation != "softmax":
        raise ValueError("output: 'loss' (cross-entropy) needs a softmax output layer, "
                         f"got {model.layers[-1].activation!r}")


def _gradient(model, X, target, output, mode, return_layers=False, times_input=False,
              absolute=False, start_layer=None, unit=None):
    """The C gradient; with absolute, |G_0| is taken in C as it is computed."""
    model = C.check_model(model)
    net, Xc, node, targets, shape = C.prepare(model, X, target, start_layer, unit)
    code = C.output_code(output)
    _check_output(model, node, code, output)
    G, _ = _core.explain_gradient(net, Xc, targets, code, mode, node, bool(return_layers),
                                  bool(times_input), bool(absolute))
    if isinstance(G, list):
        return C.shaped_layers(model, G, shape, node), shape
    return G, shape


def _finish(G, shape, abs=False, first_done=False):
    """Shape the result like X (a layer list is shaped already); abs in
    place, of every array but G_0 when C took G_0's absolute value already
    (first_done)."""
    if isinstance(G, list):
        if abs:
            for g in G[1:] if first_done else G:
                np.abs(g, out=g)
        return G
    if abs and not first_done:
        np.abs(G, out=G)
    return C.shaped(G, shape)


def _bool(v, name):
    if not isinstance(v, (bool, np.bool_)):
        raise TypeError(f"{name}: expected True or False, got {v!r}")
    return bool(v)


def gradient(model, X, target=None, output="logit", return_layers=False, start_layer=None,
             unit=None):
    """The signed gradient d score / d x, one row per row of X.

    Parameters
    ----------
    model : xnn.Sequential
    X : rows (m, n_in), images (m, C, H, W) or (m, H, W), signals (m, C, L),
        or one of them
    target : None (each row's predicted class: the arg-max of the logits),
        a class index, or an array of one class per row.
    output : the score that is differentiated:
        ``"logit"`` (default) the target's pre-softmax score z_t;
        ``"probability"`` the output layer's value p_t;
        ``"loss"`` the cross-entropy -log p_t of a softmax output (the MNIST
        report's saliency, whose start is dZ = P - onehot(target)).

    Returns an array shaped like X.
    """
    G, shape = _gradient(model, X, target, output, C.GRAD_PLAIN, return_layers,
                         start_layer=start_layer, unit=unit)
    return _finish(G, shape)


def saliency(model, X, target=None, output="logit", abs=True, return_layers=False,
             start_layer=None, unit=None):
    """Saliency map: ``|d score / d x|`` (``abs=False`` keeps the sign).

    ``output="logit"`` differentiates the target's pre-softmax score;
    ``output="loss"`` gives the MNIST report's variant, the gradient of the
    cross-entropy for the target class (dZ_last = P - onehot(target), back
    through the ReLU masks), whose absolute value is the same map up to the
    softmax's coupling of the classes. See ``gradient`` for the arguments.
    """
    abs = _bool(abs, "abs")
    G, shape = _gradient(model, X, target, output, C.GRAD_PLAIN, return_layers, absolute=abs,
                         start_layer=start_layer, unit=unit)
    return _finish(G, shape, abs, first_done=True)


def input_x_gradient(model, X, target=None, output="logit", return_layers=False,
                     start_layer=None, unit=None):
    """``x * d score / d x``. On a ReLU network without biases this equals
    LRP-0 and sums to the target's logit."""
    G, shape = _gradient(model, X, target, output, C.GRAD_PLAIN, return_layers, True,
                         start_layer=start_layer, unit=unit)
    return _finish(G, shape)


def guided_backprop(model, X, target=None, output="logit", return_layers=False,
                    start_layer=None, unit=None):
    """Guided backpropagation (Springenberg et al. 2015): the gradient, but a
    ReLU passes it back only where both its output and the incoming gradient
    are positive. Other activations use their derivative."""
    G, shape = _gradient(model, X, target, output, C.GRAD_GUIDED, return_layers,
                         start_layer=start_layer, unit=unit)
    return _finish(G, shape)


def deconvnet(model, X, target=None, output="logit", return_layers=False, start_layer=None,
              unit=None):
    """DeconvNet (Zeiler & Fergus 2014): a ReLU passes back the positive part
    of the incoming gradient, whatever its forward input was."""
    G, shape = _gradient(model, X, target, output, C.GRAD_DECONVNET, return_layers,
                         start_layer=start_layer, unit=unit)
    return _finish(G, shape)


def score(model, X, target=None, output="logit", start_layer=None, unit=None,
          return_targets=False):
    """The score explanations start from, per row: the target's logit,
    probability, cross-entropy (``"loss"``) or 1 (``"onehot"``); with
    ``start_layer``, that layer's unit (or channel mean). ``return_targets``
    also returns the classes explained (target=None: the arg-max of the
    logits)."""
    model = C.check_model(model)
    net, Xc, node, targets, _ = C.prepare(model, X, target, start_layer, unit)
    code = C.output_code(output, ("logit", "probability", "loss", "onehot"))
    _check_output(model, node, code, output)
    s, resolved = _core.explain_scores(net, Xc, targets, code, node)
    return (s, resolved) if return_targets else s


def _seed(seed):
    if seed is None:
        return int(np.random.SeedSequence().generate_state(1, np.uint64)[0])
    return V.positive_int(seed, "seed", minimum=0) % 2**64


def smoothgrad(model, X, target=None, n_samples=50, sigma=0.15, seed=0, output="logit",
               abs=False, return_layers=False, start_layer=None, unit=None):
    """SmoothGrad (Smilkov et al. 2017): the mean gradient over ``n_samples``
    noisy copies ``x + N(0, sigma^2)`` of each row.

    ``sigma`` is the noise's standard deviation in input units (for pixels
    scaled to [0, 1] it is the paper's fraction of the input range).
    ``target=None`` explains the class predicted for the clean input (the
    arg-max of its logits, as every method). ``abs=True`` returns the
    absolute value of the mean. The noise comes from a counter-based
    generator in C: the same seed gives the same result on any machine and
    thread count (``seed=None`` draws a fresh seed).
    """
    abs = _bool(abs, "abs")
    model = C.check_model(model)
    net, Xc, node, targets, shape = C.prepare(model, X, target, start_layer, unit)
    n_samples = V.positive_int(n_samples, "n_samples")
    if n_samples > MAX_STEPS:
        raise ValueError(f"n_samples: expected at most {MAX_STEPS}, got {n_samples}")
    sigma = C.representable(V.finite_float(sigma, "sigma", 0.0), model.dtype, "sigma")
    seed = _seed(seed)
    code = C.output_code(output)
    _check_output(model, node, code, output)
    targets = C.resolve(net, Xc, targets, node)
    alphas = np.ones(n_samples)
    weights = np.full(n_samples, 1.0 / n_samples)
    G = _core.explain_gradient_sum(net, Xc, None, targets, alphas, weights, sigma, seed, code,
                                   C.GRAD_PLAIN, False, node, bool(return_layers))
    if isinstance(G, list):
        G = C.shaped_layers(model, G, shape, node)
    return _finish(G, shape, abs)


IG_METHODS = ("gausslegendre", "riemann_trapezoid", "riemann_left", "riemann_right",
              "riemann_middle")
_IG_ALIASES = {"trapezoid": "riemann_trapezoid", "left": "riemann_left",
               "right": "riemann_right", "middle": "riemann_middle",
               "gauss_legendre": "gausslegendre", "gauss": "gausslegendre"}


def ig_points(method, steps):
    """(alphas, weights) of an integration rule on [0, 1], as in Captum.
    Memory is linear in steps: Gauss-Legendre points come from NumPy (as
    Captum's) up to 100 steps and from SciPy's O(steps) roots beyond. The
    points are made once per (method, steps) and kept (read-only)."""
    return _ig_points(method, steps)


@functools.lru_cache(maxsize=64)
def _ig_points(method, steps):
    a, w = _make_points(method, steps)
    a, w = np.ascontiguousarray(a, dtype=np.float64), np.ascontiguousarray(w, dtype=np.float64)
    a.flags.writeable = False
    w.flags.writeable = False
    return a, w


def _make_points(method, steps):
    if method == "gausslegendre":
        if steps <= 100:
            x, w = np.polynomial.legendre.leggauss(steps)
        else:
            from scipy.special import roots_legendre
            x, w = roots_legendre(steps)
        return 0.5 * (x + 1), 0.5 * w
    if method == "riemann_trapezoid":
        if steps < 2:
            raise ValueError(f"steps: riemann_trapezoid needs at least 2 steps, got {steps}")
        w = np.full(steps, 1.0 / (steps - 1))
        w[0] = w[-1] = 0.5 / (steps - 1)
        return np.linspace(0, 1, steps), w
    w = np.full(steps, 1.0 / steps)
    if method == "riemann_left":
        return np.linspace(0, 1 - 1 / steps, steps), w
    if method == "riemann_right":
        return np.linspace(1 / steps, 1, steps), w
    if method == "riemann_middle":
        return np.linspace(0.5 / steps, 1 - 0.5 / steps, steps), w
    raise ValueError(f"method: expected one of {list(IG_METHODS)}, got {method!r}")


class IntegratedGradients(np.ndarray):
    """What ``integrated_gradients(..., return_error=True)`` returns: the
    attributions (an ndarray shaped like X) with ``.error`` (m,) the
    completeness error Σ attribution − (f(x) − f(baseline)), ``.delta``
    f(x) − f(baseline) and ``.targets`` the explained classes."""

    def __array_finalize__(self, obj):
        if obj is None:
            return
        self.error = getattr(obj, "error", None)
        self.delta = getattr(obj, "delta", None)
        self.targets = getattr(obj, "targets", None)


def _baseline(baseline, Xc):
    if baseline is None:
        return None
    if isinstance(baseline, (int, float, np.integer, np.floating)) and not isinstance(baseline, bool):
        v = C.representable(baseline, Xc.dtype, "baseline")
        return None if v == 0 else np.full_like(Xc, v)
    try:
        B = np.asarray(baseline)
    except Exception as e:
        raise TypeError(f"baseline: expected a number or an array of numbers: {e}") from None
    if B.dtype.kind not in "fiub":
        raise TypeError(f"baseline: expected numbers, got dtype {B.dtype}")
    B = C.finite_array(B, Xc.dtype, "baseline")
    m, d = Xc.shape
    if B.size == d:
        B = np.broadcast_to(B.reshape(1, d), (m, d))
    elif B.size == m * d:
        B = B.reshape(m, d)
    else:
        raise ValueError(f"baseline: expected a number, one row ({d} values) or one row per "
                         f"row of X ({m}, {d}), got shape {np.shape(baseline)}")
    return np.ascontiguousarray(B)


def integrated_gradients(model, X, target=None, baseline=None, steps=50,
                         method="gausslegendre", output="logit", return_error=False,
                         return_layers=False, start_layer=None, unit=None):
    """Integrated gradients (Sundararajan et al. 2017):
    ``(x - x') * ∫_0^1 d score / d x (x' + α (x - x')) dα``.

    Parameters
    ----------
    baseline : None (zeros, a black image), a number, one row (like one row
        of X), or one row per row of X.
    steps : number of points of the integration rule (at most 100,000).
    method : ``"gausslegendre"`` (default, as in Captum), ``"riemann_trapezoid"``,
        ``"riemann_left"``, ``"riemann_right"``, ``"riemann_middle"`` (Captum's
        points; the short names ``"trapezoid"``, ``"left"``, ... are
        accepted). The trapezoid weights are 1/(n-1), halved at the ends, and
        sum to 1 (Captum's sum to (n-1)/n).
    target : None explains the class predicted for x (the arg-max of its
        logits), on the whole path.
    return_error : also report completeness: the result is then an
        ``IntegratedGradients`` array with ``.error`` (m,) = Σ attribution −
        (f(x) − f(baseline)), which shrinks as steps grow.

    All steps run in one C call: forward, backward and the weighted sum.
    The first layer (dense or convolution) being linear, its two large
    products (f(x_s) and the backward's last one) are made once for all
    steps, not once per step.
    """
    model = C.check_model(model)
    net, Xc, node, targets, shape = C.prepare(model, X, target, start_layer, unit)
    steps = V.positive_int(steps, "steps")
    if steps > MAX_STEPS:
        raise ValueError(f"steps: expected at most {MAX_STEPS}, got {steps}")
    if not isinstance(method, str):
        raise TypeError(f"method: expected one of {list(IG_METHODS)}, got {method!r}")
    method = _IG_ALIASES.get(method.lower(), method.lower())
    alphas, weights = ig_points(method, steps)
    code = C.output_code(output)
    _check_output(model, node, code, output)
    return_error = _bool(return_error, "return_error")
    B = _baseline(baseline, Xc)
    targets = C.resolve(net, Xc, targets, node)
    A = _core.explain_gradient_sum(net, Xc, B, targets, alphas, weights, 0.0, 0, code,
                                   C.GRAD_PLAIN, True, node, bool(return_layers))
    layers = None
    if return_layers:
        layers, A = C.shaped_layers(model, A, shape, node), A[0]
    if not return_error:
        return layers if layers is not None else C.shaped(A, shape)
    fx, _ = _core.explain_scores(net, Xc, targets, code, node)
    fb, _ = _core.explain_scores(net, np.zeros_like(Xc) if B is None else B, targets, code, node)
    delta = fx.astype(np.float64) - fb
    out = C.shaped(A, shape).view(IntegratedGradients)
    out.delta = delta
    out.error = A.sum(axis=1, dtype=np.float64) - delta
    out.targets = targets
    if layers is not None:
        layers[0] = out
        return layers
    return out


_layers_doc(gradient, "")
_layers_doc(saliency, "With ``abs=True`` every G_l is an absolute value.")
_layers_doc(input_x_gradient, "Each G_l is multiplied by its layer's value (x, the activations,\n"
            "        z at the top): on a ReLU network without biases the list equals LRP-0's.")
_layers_doc(guided_backprop, "Each G_l is the guided signal reaching that layer.")
_layers_doc(deconvnet, "Each G_l is the deconvnet signal reaching that layer.")
_layers_doc(smoothgrad, "Each G_l is the mean over the noisy copies (its absolute value with\n"
            "        ``abs=True``).")
_layers_doc(integrated_gradients,
            "G_0 is the attribution (with ``return_error``, the\n"
            "        ``IntegratedGradients`` array); G_l for l > 0 is the path-weighted\n"
            "        gradient Σ_s w_s d score / d a_l(x_s) along the input path (not\n"
            "        multiplied by a_l(x) − a_l(x')).")
