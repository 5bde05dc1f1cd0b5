"""Layer-wise relevance propagation: ``lrp`` and ``conservation``.

One C call (``csrc/relevance.c``) runs the forward, sets the start
relevance and propagates it back through every layer with that layer's
rule, for the whole batch.
"""
from collections import namedtuple

import numpy as np

from .. import _core
from .. import _validate as V
from . import _common as C
from . import composites as CP
from . import rules as R

__all__ = ["lrp", "conservation", "Conservation"]

LRP_STARTS = ("logit", "onehot", "probability")


def _rules(model, rule, composite, params):
    L = len(model.layers)
    if composite is not None:
        rules = CP.get(composite, **{k: params.get(k) for k in ("epsilon", "gamma", "low", "high")}
                       ).rules(L)
    elif isinstance(rule, (list, tuple)):
        if len(rule) != L:
            raise ValueError(f"rule: expected one rule per layer ({L}), got {len(rule)}")
        rules = [R.get(r, **params) for r in rule]
    else:
        rules = [R.get(rule, **params)] * L
    for l, r in enumerate(rules):
        if r.code == R.ZBOX and l != 0:
            raise ValueError(f"rule: zbox is for the input layer only, got it for layer {l}; "
                             "use a composite, e.g. composite='epsilon-gamma-box'")
    return rules


#: (rule name, number of layers, parameters) -> the C rule tuples, for rules
#: given by name with hashable parameters (the common call lrp(model, x))
_RULE_TUPLES = {}


def _rule_tuples(model, rule, composite, params):
    """[(code, epsilon, gamma, alpha, beta)] per layer, and the rule of layer 0."""
    key = None
    if composite is None and isinstance(rule, str) and "low" not in params and "high" not in params:
        key = (rule, len(model.layers), tuple(sorted(params.items())))
        try:
            hit = _RULE_TUPLES.get(key)
        except TypeError:       # unhashable parameters: no cache
            key = hit = None
        if hit is not None:
            return hit
    rules = _rules(model, rule, composite, params)
    out = ([r._tuple() for r in rules], rules[0])
    if key is not None and len(_RULE_TUPLES) < 256:
        _RULE_TUPLES[key] = out
    return out


def lrp(model, X, target=None, rule="epsilon", epsilon=1e-6, composite=None, bias=True,
        start="logit", return_layers=False, gamma=None, alpha=None, beta=None, low=None,
        high=None):
    """Layer-wise relevance propagation (Bach et al. 2015; Montavon et al. 2019).

    Parameters
    ----------
    model : xnn.Sequential
    X : array (m, n_in) (or images (m, 28, 28), or one row)
    target : None (each row's predicted class), a class, or one class per row.
    rule : a rule name (``"zero"``, ``"epsilon"``, ``"gamma"``, ``"alphabeta"``,
        ``"zplus"``, ``"alpha2beta1"``, ``"flat"``, ``"wsquare"``), an
        ``xnn.explain.rules`` object, or a list of them, one per layer.
        ``"zbox"`` only in a list or composite, for layer 0.
    epsilon, gamma, alpha, beta, low, high : parameters of a rule given by name
        (defaults: ε = 1e-6, γ = 0.25, α = 2, β = 1, low = 0, high = 1).
    composite : None, a preset name (``"epsilon-plus"``, ``"epsilon-plus-flat"``,
        ``"epsilon-gamma-box"``, ``"epsilon-alpha2-beta1"``, ``"poster"``) or an
        ``xnn.explain.composites.Composite``; overrides ``rule``.
    bias : True counts the bias as input j = 0 of every denominator (the LRP
        poster's Σ_{0,j}); False drops it, so that relevance is conserved
        exactly by LRP-0/ε up to the stabiliser.
    start : the relevance put on the target of the last layer (zero on the
        other classes): ``"logit"`` its pre-softmax score z_t (default),
        ``"onehot"`` 1, ``"probability"`` the output layer's value p_t.
    return_layers : return the list ``[R_0, R_1, ..., R_L]`` instead, R_l the
        relevance of layer l's input (R_0 that of X, shaped like X) and R_L
        the start relevance (m, n_out).

    Returns the input relevance, shaped like X.
    """
    net, Xc, targets, shape = C.prepare(model, X, target)
    if not isinstance(bias, (bool, np.bool_)):
        raise TypeError(f"bias: expected True or False, got {bias!r}")
    code = C.STARTS[V.choice(start, "start", set(LRP_STARTS))]
    params = {"epsilon": epsilon, "gamma": gamma, "alpha": alpha, "beta": beta, "low": low,
              "high": high}
    params = {k: v for k, v in params.items() if v is not None}
    tuples, first = _rule_tuples(model, rule, composite, params)
    lo = hi = None
    if first.code == R.ZBOX:
        lo, hi = first.bounds(model.n_in, Xc.dtype)
    rels = _core.lrp(net, Xc, targets, tuples, lo, hi, code, bool(bias))
    rels[0] = C.shaped(rels[0], shape)
    return rels if return_layers else rels[0]


class Conservation(namedtuple("Conservation", "total start error relative")):
    """Per row: ``total`` Σ R, ``start`` the score relevance started from,
    ``error`` total − start, ``relative`` |error| / |start|."""

    def max_relative(self):
        return float(np.max(self.relative)) if self.relative.size else 0.0


def conservation(R_, model, X, target=None, start="logit"):
    """How much relevance a row's explanation kept: Σ_i R_i against the start
    value (the target's logit by default). On a ReLU network without biases,
    LRP-0 and LRP-ε (with ``bias`` either way) conserve it to rounding; biases
    and stabilisers absorb some, α-β with α − β = 1 and z⁺ conserve it when no
    denominator is clipped.

    ``R_`` is an explanation of X (any shape with one leading row axis),
    ``target`` must be the explained classes (None = predicted).
    Returns a ``Conservation`` of arrays (m,)."""
    net, Xc, targets, _ = C.prepare(model, X, target)
    code = C.STARTS[V.choice(start, "start", set(LRP_STARTS))]
    m = Xc.shape[0]
    arr = np.asarray(R_, dtype=np.float64)
    if arr.ndim == 1 and m == 1:
        arr = arr.reshape(1, -1)
    if arr.ndim < 1 or arr.shape[0] != m or arr.size != Xc.size:
        raise ValueError(f"R: expected a relevance of X's shape {Xc.shape}, got {arr.shape}")
    total = arr.reshape(m, -1).sum(axis=1)
    s = _core.explain_scores(net, Xc, targets, code).astype(np.float64)
    err = total - s
    rel = np.abs(err) / np.maximum(np.abs(s), np.finfo(np.float64).tiny)
    return Conservation(total, s, err, rel)
