"""LRP rules. A rule object only chooses a kernel of ``csrc/explain/lrp.c``
and its parameters; the maths is in C, written once over a layer's product
f and its transpose, so every rule applies to Dense, Conv1d and Conv2d.

For a linear layer with inputs a_j, weights w_jk and bias b_k (input j = 0
of every denominator, as in the LRP poster's sums over "0, j"; for a
convolution, output k is one position of one channel, its inputs j the
taps of the kernel that fall on the image, its bias that channel's):

==============  ====================================================================
``Zero``        R_j = Σ_k a_j w_jk / Σ_{0,j} a_j w_jk · R_k
``Epsilon``     the same with ε·sign(z) added to each denominator (sign(0) = +1)
``Gamma``       w + γw⁺ in numerator and denominator, bias b + γb⁺;
                ``generalized=True``: Zennit's Gamma, which also uses w + γw⁻ for
                negative inputs and swaps the two for negative outputs
``AlphaBeta``   α (a_j w_jk)⁺ / (Σ_j (a_j w_jk)⁺ + b⁺) − β (a_j w_jk)⁻ / (Σ_j (a_j w_jk)⁻ + b⁻)
``ZPlus``       AlphaBeta(1, 0)
``ZBox``        a_j w_jk − l_j w⁺_jk − h_j w⁻_jk over its sum (the bias terms cancel);
                the layer reading the input, for inputs bounded by [low, high]
``Flat``        every connected input gets an equal share (inputs and weights 1, no bias)
``WSquare``     R_j = Σ_k w_jk² / (Σ_j w_jk² + b_k²) · R_k (the bias input is 1 too)
==============  ====================================================================

Every rule except Zero has a stabiliser ``epsilon`` (default 1e-6, Zennit's)
added with the sign of the denominator; a zero denominator under LRP-0
passes no relevance. A parameter a rule does not take is an error
(``Zero(epsilon=0.5)``, ``lrp(rule="epsilon", gamma=3)``).
"""
import numbers

import numpy as np

from .. import _core
from .. import _validate as V

ZERO, EPSILON, GAMMA, ALPHABETA, ZBOX, FLAT, WSQUARE = (
    _core.LRP_ZERO, _core.LRP_EPSILON, _core.LRP_GAMMA, _core.LRP_ALPHABETA, _core.LRP_ZBOX,
    _core.LRP_FLAT, _core.LRP_WSQUARE)
GENERALIZED_GAMMA = _core.LRP_GENERALIZED_GAMMA

__all__ = ["Rule", "Zero", "Epsilon", "Gamma", "AlphaBeta", "ZPlus", "ZBox", "Flat",
           "WSquare", "get", "RULES"]

DEFAULT_EPSILON = 1e-6


class Rule:
    """Base class: ``code`` (the C kernel) and its parameters."""
    code = None
    name = "rule"

    def __init__(self, epsilon=DEFAULT_EPSILON):
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

    def __init__(self, epsilon=DEFAULT_EPSILON):
        super().__init__(epsilon)


class Gamma(Rule):
    """LRP-γ: weights w + γw⁺ and bias b + γb⁺ in numerator and denominator.

    ``generalized=True`` is Zennit's ``Gamma``: for an output z_k > 0 the
    positive inputs weigh with w + γw⁺ and the negative ones with w + γw⁻
    (bias b + γb⁺); for z_k < 0 the two swap (bias b + γb⁻); z_k = 0 passes
    nothing. It equals the textbook rule where inputs are non-negative and
    outputs positive; Zennit's presets use it."""
    code = GAMMA
    name = "gamma"

    def __init__(self, gamma=0.25, epsilon=DEFAULT_EPSILON, generalized=False):
        super().__init__(epsilon)
        self.gamma = V.finite_float(gamma, "gamma", 0.0)
        if not isinstance(generalized, (bool, np.bool_)):
            raise TypeError(f"generalized: expected True or False, got {generalized!r}")
        self.generalized = bool(generalized)
        if self.generalized:
            self.code = GENERALIZED_GAMMA

    def params(self):
        p = {"gamma": self.gamma, "epsilon": self.epsilon}
        if self.generalized:
            p["generalized"] = True
        return p


class AlphaBeta(Rule):
    """LRP-αβ: α times the positive contributions over their sum plus b⁺,
    minus β times the negative ones over their sum plus b⁻, with (a w)⁺ =
    a⁺w⁺ + a⁻w⁻ for inputs of either sign. Conserves relevance when
    α − β = 1 (not enforced)."""
    code = ALPHABETA
    name = "alphabeta"

    def __init__(self, alpha=2.0, beta=1.0, epsilon=DEFAULT_EPSILON):
        super().__init__(epsilon)
        self.alpha = V.finite_float(alpha, "alpha", 0.0)
        self.beta = V.finite_float(beta, "beta", 0.0)

    def params(self):
        return {"alpha": self.alpha, "beta": self.beta, "epsilon": self.epsilon}


class ZPlus(AlphaBeta):
    """z⁺ = AlphaBeta(alpha=1, beta=0)."""
    name = "zplus"

    def __init__(self, epsilon=DEFAULT_EPSILON):
        super().__init__(1.0, 0.0, epsilon)

    def params(self):
        return {"epsilon": self.epsilon}


class ZBox(Rule):
    """z^B for the layer that reads the input, whose values lie in [low,
    high]: numbers, or arrays shaped like one input row (per pixel) or
    ``(channels,)`` (per channel); the bias terms b − b⁺ − b⁻ cancel."""
    code = ZBOX
    name = "zbox"

    def __init__(self, low=0.0, high=1.0, epsilon=DEFAULT_EPSILON):
        super().__init__(epsilon)
        self.low = _bound(low, "low")
        self.high = _bound(high, "high")

    def params(self):
        return {"low": self.low, "high": self.high, "epsilon": self.epsilon}

    def bounds(self, input_shape, dtype):
        """low and high as one flat input row of the model's dtype."""
        n = int(np.prod(input_shape))
        out = []
        for v, name in ((self.low, "low"), (self.high, "high")):
            a = np.asarray(v, dtype=np.float64)
            if a.size == 1:
                a = np.full(n, a.reshape(()))
            elif a.size == n:
                a = a.reshape(n)
            elif len(input_shape) > 1 and a.shape == (input_shape[0],):
                a = np.repeat(a, n // input_shape[0])       # one bound per channel
            else:
                raise ValueError(f"{name}: expected a number, {n} values (one input row "
                                 f"{tuple(input_shape)}) or one per channel, got shape {a.shape}")
            with np.errstate(over="ignore"):
                t = a.astype(dtype)
            if not np.all(np.isfinite(t)):
                raise ValueError(f"{name}: values too large for {np.dtype(dtype).name}")
            out.append(np.ascontiguousarray(t))
        return out


def _bound(v, name):
    if isinstance(v, numbers.Real) and not isinstance(v, bool):
        return V.finite_float(v, name)
    a = np.asarray(v, dtype=np.float64)
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name}: expected finite values")
    return a


class Flat(Rule):
    """Flat: every input of the layer that an output reads gets an equal
    share of it (inputs and weights replaced by 1, no bias, as in Zennit).
    Meant for the layer that reads the input: on hidden ReLU layers it also
    gives relevance to inactive units."""
    code = FLAT
    name = "flat"


class WSquare(Rule):
    """w²: R_j = Σ_k w_jk² / (Σ_j w_jk² + b_k²) · R_k, inputs replaced by 1
    (bias=False drops b_k²). Meant for the layer that reads the input."""
    code = WSQUARE
    name = "wsquare"


RULES = {"zero": Zero, "lrp0": Zero, "lrp-0": Zero, "epsilon": Epsilon, "eps": Epsilon,
         "gamma": Gamma, "alphabeta": AlphaBeta, "alpha-beta": AlphaBeta, "zplus": ZPlus,
         "z+": ZPlus, "alpha1beta0": ZPlus, "alpha2beta1": AlphaBeta, "zbox": ZBox, "flat": Flat,
         "wsquare": WSquare}


def _accepted():
    import inspect
    return {cls: frozenset(inspect.signature(cls.__init__).parameters) - {"self"}
            for cls in set(RULES.values())}


_ACCEPTED = _accepted()


def get(rule, **params):
    """A Rule from a Rule object or a name with its parameters. A parameter
    the rule does not take raises (``get("zero", epsilon=0.5)``); parameters
    left None are not given, so each rule applies its own default."""
    given = {k: v for k, v in params.items() if v is not None}
    if isinstance(rule, Rule):
        if given:
            raise ValueError(f"{', '.join(sorted(given))}: a rule object carries its own "
                             f"parameters, got {rule!r} and {given}")
        return rule
    if isinstance(rule, type) and issubclass(rule, Rule):
        rule = rule.name
    if not isinstance(rule, str) or rule.lower() not in RULES:
        raise ValueError(f"rule: expected an xnn.explain.rules.Rule or one of "
                         f"{sorted(set(RULES))}, got {rule!r}")
    key = rule.lower()
    cls = RULES[key]
    accepted = _ACCEPTED[cls] - ({"alpha", "beta"} if key == "alpha2beta1" else set())
    bad = sorted(set(given) - accepted)
    if bad:
        takes = ", ".join(sorted(accepted)) or "no parameters"
        raise ValueError(f"{', '.join(bad)}: rule {key!r} does not take "
                         f"{'it' if len(bad) == 1 else 'them'} (it takes {takes})")
    if key == "alpha2beta1":
        given.update(alpha=2.0, beta=1.0)
    return cls(**given)
