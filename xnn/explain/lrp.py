"""Layer-wise relevance propagation: ``lrp`` and ``conservation``.

One C call (``csrc/explain/lrp.c``) runs the forward, sets the start
relevance and propagates it back through every layer with that layer's
rule (dense and convolution layers), pooling rule or flatten, for the
whole batch.
"""
from collections import namedtuple

import numpy as np

from .. import _core
from .. import _validate as V
from .. import layers as L
from . import _common as C
from . import composites as CP
from . import rules as R

__all__ = ["lrp", "conservation", "Conservation"]

LRP_STARTS = ("logit", "onehot", "probability")
MAXPOOL = {"wta": _core.POOL_WTA, "norm": _core.POOL_NORM}
_LINEAR = CP.LINEAR


def _rules(model, rule, composite, params):
    """One Rule per layer (None for pooling and flatten)."""
    n = len(model.layers)
    linear = [isinstance(layer, _LINEAR) for layer in model.layers]
    if composite is not None:
        if rule is not None:
            raise ValueError("rule, composite: give one of them, not both")
        rules = CP.get(composite, **params).rules(model)
    elif isinstance(rule, (list, tuple)):
        if len(rule) != n:
            raise ValueError(f"rule: expected one entry per layer ({n}, None for pooling and "
                             f"flatten), got {len(rule)}")
        rules = []
        for i, (r, lin) in enumerate(zip(rule, linear)):
            if not lin:
                if r is not None:
                    raise ValueError(f"rule[{i}]: layer {i} ({type(model.layers[i]).__name__}) "
                                     f"takes no rule (expected None), got {r!r}")
                rules.append(None)
            else:
                rules.append(R.get("epsilon" if r is None else r, **params))
    else:
        one = R.get("epsilon" if rule is None else rule, **params)
        rules = [one if lin else None for lin in linear]
    first = next((i for i, lin in enumerate(linear) if lin), None)
    for i, r in enumerate(rules):
        if r is not None and r.code == R.ZBOX and (i != first or any(
                not isinstance(model.layers[q], L.Flatten) for q in range(i))):
            raise ValueError(f"rule: zbox is for the layer that reads the input, got it for "
                             f"layer {i}; use a composite, e.g. composite='epsilon-gamma-box'")
    return rules


#: (rule name, preset name, model's layer types, parameters) -> the C rule
#: tuples, for rules and presets given by name with hashable parameters (the
#: common calls lrp(model, x) and lrp(model, x, composite="epsilon-plus-flat"))
_RULE_TUPLES = {}


def _rule_tuples(model, rule, composite, params):
    """[(code, epsilon, gamma, alpha, beta)] per layer, and the z^B rule if any."""
    key = None
    named = (composite is None and (rule is None or isinstance(rule, str))) or \
        (rule is None and isinstance(composite, str))
    if named and "low" not in params and "high" not in params:
        key = (rule, composite.lower() if isinstance(composite, str) else None,
               tuple(type(ly) for ly in model.layers), tuple(sorted(params.items())))
        try:
            hit = _RULE_TUPLES.get(key)
        except TypeError:       # unhashable parameters: no cache
            key = hit = None
        if hit is not None:
            return hit
    rules = _rules(model, rule, composite, params)
    tuples = [r._tuple() if r is not None else (R.EPSILON, 0.0, 0.0, 0.0, 0.0) for r in rules]
    zbox = next((r for r in rules if r is not None and r.code == R.ZBOX), None)
    out = (tuples, zbox)
    if key is not None and len(_RULE_TUPLES) < 256:
        _RULE_TUPLES[key] = out
    return out


def lrp(model, X, target=None, rule=None, epsilon=None, composite=None, bias=True,
        start="logit", return_layers=False, gamma=None, alpha=None, beta=None, low=None,
        high=None, stabilizer=None, maxpool="wta", start_layer=None, unit=None):
    """Layer-wise relevance propagation (Bach et al. 2015; Montavon et al. 2019).

    Parameters
    ----------
    model : xnn.Sequential (dense and convolutional)
    X : rows, images (m, C, H, W) or (m, H, W), signals (m, C, L), or one
    target : None (each row's predicted class), a class, or one class per row.
    rule : a rule name (``"zero"``, ``"epsilon"`` (the default), ``"gamma"``,
        ``"alphabeta"``, ``"zplus"``, ``"alpha2beta1"``, ``"flat"``,
        ``"wsquare"``), an ``xnn.explain.rules`` object, or a list with one
        entry per layer (None for pooling and flatten, which have their own
        passes, and for a layer that takes the default). ``"zbox"`` only in
        a list or composite, for the layer that reads the input.
    epsilon, gamma, alpha, beta, low, high : parameters of a rule given by
        name, or of a preset; a parameter the rule does not take raises.
        Not given, each rule uses its own default (ε = 1e-6, γ = 0.25, α =
        2, β = 1, low = 0, high = 1).
    stabilizer : the stabiliser of a Zennit preset's non-ε rules (1e-6).
    composite : None, a preset name (``"epsilon-plus"``, ``"epsilon-plus-flat"``,
        ``"epsilon-gamma-box"``, ``"epsilon-alpha2-beta1"``,
        ``"epsilon-alpha2-beta1-flat"`` (Zennit's, by layer type),
        ``"mlp-epsilon-plus"``, ... (by position, xnn's earlier MLP
        presets), ``"poster"``) or an ``xnn.explain.composites`` object;
        replaces ``rule``.
    bias : True counts the bias as input j = 0 of every denominator (the LRP
        poster's Σ_{0,j}; for a convolution, the channel's bias in each
        position's); False drops it, so that relevance is conserved
        exactly by LRP-0/ε up to the stabiliser.
    start : the relevance put on the target of the last layer (zero on the
        other classes): ``"logit"`` its pre-softmax score z_t (default),
        ``"onehot"`` 1, ``"probability"`` the output layer's value p_t.
    maxpool : ``"wta"`` (default) gives each window's relevance to its
        maximum (as the gradient, and Zennit, do); ``"norm"`` shares it in
        proportion to the window's inputs. Average pooling always shares in
        proportion (Zennit's Norm rule), stabilised by the composite's
        stabiliser, or by the ε of the one rule given for every layer (0
        for LRP-0, which then stays exact), else 1e-6.
    start_layer, unit : start at a hidden layer: the relevance is the
        output values of that layer's ``unit`` (a neuron, or all positions
        of a channel), zero elsewhere, for conditional relevance maps.
    return_layers : return the list ``[R_0, R_1, ..., R_L]`` instead, R_l the
        relevance of layer l's input in that layer's shape (R_0 that of X,
        shaped like X) and R_L the start relevance.

    Returns the input relevance, shaped like X.
    """
    model = C.check_model(model)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias: expected True or False, got {bias!r}")
    code = C.STARTS[V.choice(start, "start", set(LRP_STARTS))]
    pool = MAXPOOL[V.choice(maxpool, "maxpool", set(MAXPOOL))]
    net, Xc, node, targets, shape = C.prepare(model, X, target, start_layer, unit)
    if node != len(model.layers) - 1 and code != C.STARTS["logit"]:
        raise ValueError(f"start: a hidden layer starts from its output values; start={start!r} "
                         "is for the last layer")
    params = {"epsilon": epsilon, "gamma": gamma, "alpha": alpha, "beta": beta, "low": low,
              "high": high, "stabilizer": stabilizer}
    for k in ("epsilon", "gamma", "alpha", "beta", "stabilizer"):
        if params[k] is not None:
            params[k] = C.representable(params[k], model.dtype, k)
    if stabilizer is not None and composite is None:
        raise ValueError("stabilizer: it parameterises a composite's rules; give the rule's "
                         "epsilon instead")
    params = {k: v for k, v in params.items() if v is not None}
    tuples, zbox = _rule_tuples(model, rule, composite, params)
    # average pooling's stabiliser: the composite's, or that of the one rule
    # given for every layer (so LRP-0 stays exact through it), else 1e-6
    if composite is not None:
        pool_eps = params.get("stabilizer", R.DEFAULT_EPSILON)
    elif not isinstance(rule, (list, tuple)):
        pool_eps = next((t[1] for t, ly in zip(tuples, model.layers) if isinstance(ly, _LINEAR)),
                        R.DEFAULT_EPSILON)
    else:
        pool_eps = R.DEFAULT_EPSILON
    lo = hi = None
    if zbox is not None:
        lo, hi = zbox.bounds(model.input_shape, Xc.dtype)
    rels = _core.lrp(net, Xc, targets, tuples, lo, hi, code, node, pool, pool_eps, bool(bias),
                     bool(return_layers))
    rels = C.shaped_layers(model, rels, shape, node)
    return rels if return_layers else rels[0]


class Conservation(namedtuple("Conservation", "total start error relative")):
    """Per row: ``total`` Σ R, ``start`` the score relevance started from,
    ``error`` total − start, ``relative`` |error| / |start|."""

    def max_relative(self):
        return float(np.max(self.relative)) if self.relative.size else 0.0

    def __repr__(self):
        n = self.relative.size
        if n == 0:
            return "Conservation(0 rows)"
        return (f"Conservation({n} row{'s' if n != 1 else ''}: relative error "
                f"|sum R - start| / |start| median {float(np.median(self.relative)):.3g}, "
                f"max {self.max_relative():.3g})")


def conservation(R_, model, X, target=None, start="logit"):
    """How much relevance a row's explanation kept: Σ_i R_i against the start
    value (the target's logit by default). On a ReLU network without biases,
    LRP-0 and LRP-ε (with ``bias`` either way) conserve it to rounding; biases
    and stabilisers absorb some, α-β with α − β = 1 and z⁺ conserve it when no
    denominator is clipped.

    ``R_`` is an explanation of X (any shape with one leading row axis),
    ``target`` must be the explained classes (None = predicted).
    Returns a ``Conservation`` of arrays (m,)."""
    model = C.check_model(model)
    net, Xc, node, targets, _ = C.prepare(model, X, target)
    code = C.STARTS[V.choice(start, "start", set(LRP_STARTS))]
    m = Xc.shape[0]
    arr = np.asarray(R_, dtype=np.float64)
    if arr.ndim >= 1 and m == 1 and arr.size == Xc.size and arr.shape[0] != 1:
        arr = arr.reshape(1, -1)
    if arr.ndim < 1 or arr.shape[0] != m or arr.size != Xc.size:
        raise ValueError(f"R: expected a relevance of X's shape {Xc.shape}, got {arr.shape}")
    total = arr.reshape(m, -1).sum(axis=1)
    s, _ = _core.explain_scores(net, Xc, targets, code, node)
    s = s.astype(np.float64)
    err = total - s
    rel = np.abs(err) / np.maximum(np.abs(s), np.finfo(np.float64).tiny)
    return Conservation(total, s, err, rel)
