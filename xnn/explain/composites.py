"""Composites: which LRP rule each dense layer uses.

Layers are counted from the input: layer 0 is the *first* (input) layer,
layer L-1 the *last* (output) layer, the others are *middle* layers. A
composite names a rule for each group (the first layer is special: it sees
the raw input, which may be negative or bounded), and ``layers`` overrides
single layers. In a one-layer network the first-layer rule wins.

Presets for dense networks (hidden dense layers play the part Zennit's
presets give to convolutions; on an all-Linear network Zennit's presets
use Epsilon for every layer but the first):

=========================  =======================  =============  ============
preset                     first layer              middle layers  last layer
=========================  =======================  =============  ============
``epsilon-plus``           z⁺                       z⁺             ε
``epsilon-plus-flat``      flat                     z⁺             ε
``epsilon-gamma-box``      z^B(low, high)           γ = 0.25       ε
``epsilon-alpha2-beta1``   α2β1                     α2β1           ε
``poster``                 α2β1                     ε              LRP-0
=========================  =======================  =============  ============

``poster`` is our reading of the LRP poster's composite: LRP-0 at the top,
LRP-ε in between and the α-β rule next to the pixels.
"""
from . import rules as R

__all__ = ["Composite", "PRESETS", "get"]


class Composite:
    """Rules per layer: ``first``, ``middle``, ``last`` and overrides
    ``layers={index: rule}`` (negative indices count from the output)."""

    def __init__(self, middle="epsilon", first=None, last=None, layers=None, name=None):
        self.middle = R.get(middle)
        self.first = R.get(first) if first is not None else None
        self.last = R.get(last) if last is not None else None
        self.layers = {int(k): R.get(v) for k, v in (layers or {}).items()}
        self.name = name

    def rules(self, n_layers):
        out = []
        for l in range(n_layers):
            rule = self.middle
            if l == n_layers - 1 and self.last is not None:
                rule = self.last
            if l == 0 and self.first is not None:
                rule = self.first
            for key in (l, l - n_layers):
                if key in self.layers:
                    rule = self.layers[key]
            out.append(rule)
        return out

    def __repr__(self):
        if self.name:
            return f"Composite({self.name!r})"
        return (f"Composite(first={self.first!r}, middle={self.middle!r}, last={self.last!r}, "
                f"layers={self.layers!r})")


def _presets(epsilon=1e-6, gamma=0.25, low=0.0, high=1.0):
    eps = R.Epsilon(epsilon)
    return {
        "epsilon-plus": Composite(middle=R.ZPlus(), first=R.ZPlus(), last=eps,
                                  name="epsilon-plus"),
        "epsilon-plus-flat": Composite(middle=R.ZPlus(), first=R.Flat(), last=eps,
                                       name="epsilon-plus-flat"),
        "epsilon-gamma-box": Composite(middle=R.Gamma(gamma), first=R.ZBox(low, high), last=eps,
                                       name="epsilon-gamma-box"),
        "epsilon-alpha2-beta1": Composite(middle=R.AlphaBeta(2, 1), first=R.AlphaBeta(2, 1),
                                          last=eps, name="epsilon-alpha2-beta1"),
        "poster": Composite(middle=eps, first=R.AlphaBeta(2, 1), last=R.Zero(), name="poster"),
    }


PRESETS = tuple(_presets())


def get(composite, **params):
    """A Composite from an object or a preset name (``epsilon``, ``gamma``,
    ``low``, ``high`` parameterise the presets)."""
    if isinstance(composite, Composite):
        return composite
    if not isinstance(composite, str) or composite.lower() not in PRESETS:
        raise ValueError(f"composite: expected an xnn.explain.composites.Composite or one of "
                         f"{list(PRESETS)}, got {composite!r}")
    kw = {k: v for k, v in params.items() if v is not None}
    return _presets(**kw)[composite.lower()]
