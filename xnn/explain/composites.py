"""Composites: which LRP rule each layer uses.

Two kinds, as in Zennit:

``LayerMap`` chooses a rule by the layer's type (Zennit's layer-map
composites): a list of (type, rule) pairs, the first match wins; the
first linear layer (Dense or convolution) that matches a type of
``first_map`` gets that rule instead; ``layers={index: rule}`` overrides
single layers. Types are layer classes or the names ``"dense"``,
``"conv"`` (Conv1d and Conv2d) and ``"linear"`` (all of them).

``Composite`` chooses by position among the linear layers: ``first``
(the layer reading the input), ``last`` (the output layer) and
``middle`` (the others), with ``layers`` overrides.

Pooling and flatten have their own passes in every composite: max pooling
gives a window's relevance to its maximum (winner takes all, the
gradient's choice, as Zennit leaves MaxPool alone), average and global
average pooling pass it in proportion to the inputs (Zennit's ``Norm``),
flatten passes it on.

The presets (names as Zennit's composites, with Zennit's defaults ε = 1e-6,
stabiliser 1e-6, γ = 0.25):

==========================  ====================  =========  ==================================
preset                      convolutions          Dense      first linear layer
==========================  ====================  =========  ==================================
``epsilon-plus``            z⁺                    ε          (none)
``epsilon-plus-flat``       z⁺                    ε          flat (Dense or conv)
``epsilon-gamma-box``       γ (Zennit's Gamma)    ε          z^B(low, high), if a convolution
``epsilon-alpha2-beta1``    α2β1                  ε          (none)
``epsilon-alpha2-beta1-flat`` α2β1                ε          flat (Dense or conv)
==========================  ====================  =========  ==================================

so on an MLP every layer gets ε but the first of the ``-flat`` presets.
The rules of the convolutions, flat and z^B take the stabiliser as their
ε, the dense layers' ε rule takes ``epsilon``.

Positional presets, for MLPs as xnn had them before its composites went
by layer type (z⁺/γ/α2β1 on the hidden dense layers):

=============================  ===================  =============  ============
preset                         first layer          middle layers  last layer
=============================  ===================  =============  ============
``mlp-epsilon-plus``           z⁺                   z⁺             ε
``mlp-epsilon-plus-flat``      flat                 z⁺             ε
``mlp-epsilon-gamma-box``      z^B(low, high)       γ = 0.25       ε
``mlp-epsilon-alpha2-beta1``   α2β1                 α2β1           ε
``poster``                     α2β1                 ε              LRP-0
=============================  ===================  =============  ============

``poster`` is our reading of the LRP poster's composite: LRP-0 at the top,
LRP-ε in between and the α-β rule next to the pixels.
"""
from .. import layers as L
from . import rules as R

__all__ = ["Composite", "LayerMap", "PRESETS", "get"]

_TYPES = {"dense": (L.Dense,), "conv": (L.Conv1d, L.Conv2d),
          "linear": (L.Dense, L.Conv1d, L.Conv2d)}
LINEAR = _TYPES["linear"]


def _types(t):
    if isinstance(t, str):
        if t.lower() not in _TYPES:
            raise ValueError(f"layer type: expected a layer class or one of {sorted(_TYPES)}, "
                             f"got {t!r}")
        return _TYPES[t.lower()]
    if isinstance(t, type):
        return (t,)
    if isinstance(t, tuple) and all(isinstance(c, type) for c in t):
        return t
    raise TypeError(f"layer type: expected a layer class, a tuple of them or a name, got {t!r}")


def _pairs(mapping, name):
    if mapping is None:
        return []
    items = mapping.items() if isinstance(mapping, dict) else mapping
    out = []
    for entry in items:
        if not isinstance(entry, (tuple, list)) or len(entry) != 2:
            raise TypeError(f"{name}: expected (type, rule) pairs, got {entry!r}")
        out.append((_types(entry[0]), R.get(entry[1])))
    return out


def _overrides(layers, n):
    out = {}
    for k, v in (layers or {}).items():
        i = int(k)
        if not -n <= i < n:
            raise ValueError(f"layers: expected layer indices in [{-n}, {n}), got {k}")
        out[i % n] = R.get(v)
    return out


class LayerMap:
    """Rules by layer type (Zennit's layer-map composites); see the module."""

    def __init__(self, layer_map, first_map=None, layers=None, name=None):
        self.layer_map = _pairs(layer_map, "layer_map")
        self.first_map = _pairs(first_map, "first_map")
        self.layers = dict(layers or {})
        self.name = name

    def rules(self, model):
        """One rule per layer of model (None for pooling and flatten)."""
        n = len(model.layers)
        over = _overrides(self.layers, n)
        out, first_done = [], False
        for i, layer in enumerate(model.layers):
            rule = None
            if isinstance(layer, LINEAR):
                if not first_done:
                    for types, r in self.first_map:
                        if isinstance(layer, types):
                            rule, first_done = r, True
                            break
                if rule is None:
                    for types, r in self.layer_map:
                        if isinstance(layer, types):
                            rule = r
                            break
                if rule is None:
                    rule = R.Epsilon()
            if i in over:
                rule = over[i]
            out.append(rule)
        return out

    def __repr__(self):
        return f"LayerMap({self.name!r})" if self.name else \
            f"LayerMap({self.layer_map!r}, first_map={self.first_map!r})"


class Composite:
    """Rules by position among the linear layers: ``first``, ``middle``,
    ``last`` and overrides ``layers={index: rule}`` (indices of
    model.layers; negative count from the end). In a network with one
    linear layer the first-layer rule wins."""

    def __init__(self, middle="epsilon", first=None, last=None, layers=None, name=None):
        self.middle = R.get(middle)
        self.first = R.get(first) if first is not None else None
        self.last = R.get(last) if last is not None else None
        self.layers = dict(layers or {})
        self.name = name

    def rules(self, model):
        n = len(model.layers)
        over = _overrides(self.layers, n)
        linear = [i for i, layer in enumerate(model.layers) if isinstance(layer, LINEAR)]
        out = [None] * n
        for i in linear:
            rule = self.middle
            if i == linear[-1] and self.last is not None:
                rule = self.last
            if i == linear[0] and self.first is not None:
                rule = self.first
            out[i] = rule
        for i, rule in over.items():
            out[i] = rule
        return out

    def __repr__(self):
        if self.name:
            return f"Composite({self.name!r})"
        return (f"Composite(first={self.first!r}, middle={self.middle!r}, last={self.last!r}, "
                f"layers={self.layers!r})")


def _presets(epsilon=1e-6, stabilizer=1e-6, gamma=0.25, low=0.0, high=1.0):
    eps = R.Epsilon(epsilon)
    zplus = R.ZPlus(stabilizer)
    ab = R.AlphaBeta(2, 1, stabilizer)
    flat = R.Flat(stabilizer)
    return {
        "epsilon-plus": LayerMap([("conv", zplus), ("dense", eps)], name="epsilon-plus"),
        "epsilon-plus-flat": LayerMap([("conv", zplus), ("dense", eps)],
                                      first_map=[("linear", flat)], name="epsilon-plus-flat"),
        "epsilon-gamma-box": LayerMap(
            [("conv", R.Gamma(gamma, stabilizer, generalized=True)), ("dense", eps)],
            first_map=[("conv", R.ZBox(low, high, stabilizer))], name="epsilon-gamma-box"),
        "epsilon-alpha2-beta1": LayerMap([("conv", ab), ("dense", eps)],
                                         name="epsilon-alpha2-beta1"),
        "epsilon-alpha2-beta1-flat": LayerMap([("conv", ab), ("dense", eps)],
                                              first_map=[("linear", flat)],
                                              name="epsilon-alpha2-beta1-flat"),
        "mlp-epsilon-plus": Composite(middle=R.ZPlus(), first=R.ZPlus(), last=eps,
                                      name="mlp-epsilon-plus"),
        "mlp-epsilon-plus-flat": Composite(middle=R.ZPlus(), first=R.Flat(), last=eps,
                                           name="mlp-epsilon-plus-flat"),
        "mlp-epsilon-gamma-box": Composite(middle=R.Gamma(gamma), first=R.ZBox(low, high),
                                           last=eps, name="mlp-epsilon-gamma-box"),
        "mlp-epsilon-alpha2-beta1": Composite(middle=R.AlphaBeta(2, 1), first=R.AlphaBeta(2, 1),
                                              last=eps, name="mlp-epsilon-alpha2-beta1"),
        "poster": Composite(middle=eps, first=R.AlphaBeta(2, 1), last=R.Zero(), name="poster"),
    }


PRESETS = tuple(_presets())
#: the parameters each preset takes
_PARAMS = {name: {"epsilon"} | ({"stabilizer"} if not name.startswith(("mlp", "poster")) else set())
           | ({"gamma", "low", "high"} if "gamma" in name else set())
           for name in PRESETS}


def get(composite, **params):
    """A composite from an object or a preset name; ``epsilon``,
    ``stabilizer``, ``gamma``, ``low``, ``high`` parameterise the presets
    that use them (others raise)."""
    given = {k: v for k, v in params.items() if v is not None}
    if isinstance(composite, (Composite, LayerMap)):
        if given:
            raise ValueError(f"{', '.join(sorted(given))}: a composite object carries its own "
                             "rules' parameters")
        return composite
    if not isinstance(composite, str) or composite.lower() not in PRESETS:
        raise ValueError(f"composite: expected an xnn.explain.composites.LayerMap or Composite, "
                         f"or one of {list(PRESETS)}, got {composite!r}")
    name = composite.lower()
    bad = sorted(set(given) - _PARAMS[name])
    if bad:
        raise ValueError(f"{', '.join(bad)}: preset {name!r} does not take "
                         f"{'it' if len(bad) == 1 else 'them'} (it takes "
                         f"{', '.join(sorted(_PARAMS[name]))})")
    return _presets(**given)[name]
