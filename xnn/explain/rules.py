"""LRP rules. A rule object only chooses a kernel of ``csrc/relevance.c`` and
its parameters; the maths is in C.

For a dense layer with inputs a_j, weights w_jk and bias b_k (input j = 0
of every denominator, as in the LRP poster's sums over "0, j"):

==============  ====================================================================
``Zero``        R_j = Σ_k a_j w_jk / Σ_{0,j} a_j w_jk · R_k
``Epsilon``     the same with ε·sign(z) added to each denominator (sign(0) = +1)
``Gamma``       w + γw⁺ in numerator and denominator, bias b + γb⁺
``AlphaBeta``   α (a_j w_jk)⁺ / (Σ_j (a_j w_jk)⁺ + b⁺) − β (a_j w_jk)⁻ / (Σ_j (a_j w_jk)⁻ + b⁻)
``ZPlus``       AlphaBeta(1, 0)
``ZBox``        a_j w_jk − l_j w⁺_jk − h_j w⁻_jk over its sum (the bias terms cancel);
                input layer only, for inputs bounded by [low, high]
``Flat``        every input gets an equal share: R_j = Σ_k R_k / n_in (no bias)
``WSquare``     R_j = Σ_k w_jk² / (Σ_j w_jk² + b_k²) · R_k (the bias input is 1 too)
==============  ====================================================================

Every rule except Zero has a stabiliser ``epsilon`` (default 1e-6, Zennit's)
added with the sign of the denominator; a zero denominator under LRP-0
passes no relevance.
"""
import numbers

import numpy as np

from .. import _validate as V

ZERO, EPSILON, GAMMA, ALPHABETA, ZBOX, FLAT, WSQUARE = range(7)   # XNN_LRP_*

__all__ = ["Rule", "Zero", "Epsilon", "Gamma", "AlphaBeta", "ZPlus", "ZBox", "Flat",
           "WSquare", "get", "RULES"]


class Rule:
    """Base class: ``code`` (the C kernel) and its parameters."""
    code = None
    name = "rule"

    def __init__(self, epsilon=1e-6):
        self.epsilon = V.finite_float(epsilon, "epsilon", 0.0)

    def params(self):
        return {"epsilon": self.epsilon}

    def _tuple(self):
        return (self.code, float(self.epsilon), float(getattr(self, "gamma", 0.0)),
                float(getattr(self, "alpha", 0.0)), float(getattr(self, "beta", 0.0)))

    def __eq__(self, other):
        return type(self) is type(other) and self._tuple() == other._tuple()

    def __hash__(self):
        return hash(self._tuple())

    def __repr__(self):
        args = ", ".join(f"{k}={v!r}" for k, v in self.params().items())
        return f"{type(self).__name__}({args})"


class Zero(Rule):
    """LRP-0: R_j = Σ_k a_j w_jk / Σ_{0,j} a_j w_jk · R_k."""
    code = ZERO
    name = "zero"

    def __init__(self):
        super().__init__(0.0)

    def params(self):
        return {}


class Epsilon(Rule):
    """LRP-ε: ε·sign(z) added to every denominator (sign(0) = +1)."""
    code = EPSILON
    name = "epsilon"

    def __init__(self, epsilon=1e-6):
        super().__init__(epsilon)


class Gamma(Rule):
    """LRP-γ: weights w + γw⁺ and bias b + γb⁺ in numerator and denominator
    (the original rule; Zennit's generalised Gamma equals it where the layer's
    inputs are non-negative and its output z is positive)."""
    code = GAMMA
    name = "gamma"

    def __init__(self, gamma=0.25, epsilon=1e-6):
        super().__init__(epsilon)
        self.gamma = V.finite_float(gamma, "gamma", 0.0)

    def params(self):
        return {"gamma": self.gamma, "epsilon": self.epsilon}


class AlphaBeta(Rule):
    """LRP-αβ: α times the positive contributions over their sum plus b⁺,
    minus β times the negative ones over their sum plus b⁻. Conserves
    relevance when α − β = 1 (not enforced)."""
    code = ALPHABETA
    name = "alphabeta"

    def __init__(self, alpha=2.0, beta=1.0, epsilon=1e-6):
        super().__init__(epsilon)
        self.alpha = V.finite_float(alpha, "alpha", 0.0)
        self.beta = V.finite_float(beta, "beta", 0.0)

    def params(self):
        return {"alpha": self.alpha, "beta": self.beta, "epsilon": self.epsilon}


class ZPlus(AlphaBeta):
    """z⁺ = AlphaBeta(alpha=1, beta=0)."""
    name = "zplus"

    def __init__(self, epsilon=1e-6):
        super().__init__(1.0, 0.0, epsilon)

    def params(self):
        return {"epsilon": self.epsilon}


class ZBox(Rule):
    """z^B for the input layer, whose inputs lie in [low, high] (numbers or
    arrays of n_in values); the bias terms b − b⁺ − b⁻ cancel."""
    code = ZBOX
    name = "zbox"

    def __init__(self, low=0.0, high=1.0, epsilon=1e-6):
        super().__init__(epsilon)
        self.low = _bound(low, "low")
        self.high = _bound(high, "high")

    def params(self):
        return {"low": self.low, "high": self.high, "epsilon": self.epsilon}

    def bounds(self, n_in, dtype):
        out = []
        for v, name in ((self.low, "low"), (self.high, "high")):
            a = np.asarray(v, dtype=dtype)
            if a.size == 1:
                a = np.full(n_in, a.reshape(()), dtype=dtype)
            elif a.size == n_in:
                a = a.reshape(n_in)
            else:
                raise ValueError(f"{name}: expected a number or {n_in} values, got shape {a.shape}")
            out.append(np.ascontiguousarray(a))
        return out


def _bound(v, name):
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        return V.finite_float(v, name)
    a = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite values")
    return a


class Flat(Rule):
    """Flat: every input of the layer gets R_j = Σ_k R_k / n_in (no bias, as
    in Zennit). Meant for the input layer: on hidden ReLU layers it also gives
    relevance to inactive units (Zennit's ReLU gradient would drop it)."""
    code = FLAT
    name = "flat"


class WSquare(Rule):
    """w²: R_j = Σ_k w_jk² / (Σ_j w_jk² + b_k²) · R_k, inputs replaced by 1
    (bias=False drops b_k²). Meant for the input layer: on hidden ReLU layers
    it also gives relevance to inactive units."""
    code = WSQUARE
    name = "wsquare"


RULES = {"zero": Zero, "lrp0": Zero, "lrp-0": Zero, "epsilon": Epsilon, "eps": Epsilon,
         "gamma": Gamma, "alphabeta": AlphaBeta, "alpha-beta": AlphaBeta, "zplus": ZPlus,
         "z+": ZPlus, "alpha1beta0": ZPlus, "alpha2beta1": AlphaBeta, "zbox": ZBox, "flat": Flat,
         "wsquare": WSquare}


def get(rule, **params):
    """A Rule from a Rule object or a name with its parameters; parameters
    a rule does not take are ignored (``lrp``'s defaults are passed to all)."""
    if isinstance(rule, Rule):
        return rule
    if isinstance(rule, type) and issubclass(rule, Rule):
        rule = rule.name
    if not isinstance(rule, str) or rule.lower() not in RULES:
        raise ValueError(f"rule: expected an xnn.explain.rules.Rule or one of "
                         f"{sorted(set(RULES))}, got {rule!r}")
    key = rule.lower()
    cls = RULES[key]
    accepted = _ACCEPTED[cls]
    kw = {k: v for k, v in params.items() if k in accepted and v is not None}
    if key == "alpha2beta1":
        kw.update(alpha=2.0, beta=1.0)
    return cls(**kw)


def _accepted():
    import inspect
    return {cls: frozenset(inspect.signature(cls.__init__).parameters) - {"self"}
            for cls in set(RULES.values())}


_ACCEPTED = _accepted()
