"""The Layer base class: what every layer of a Sequential model provides.

A layer maps the shape of one input row to the shape of one output row
(``output_shape``), owns its parameters (``params``, in ``get_weights``
order), knows how it is initialised (``fan_in``, ``fan_out``) and how it is
described in a saved file (``config``). The model builds each layer for
the shape it receives and hands the C core one node per layer
(``_node``); the maths of every op is in ``csrc/layers/``.

Shapes are per row, as tuples: ``(n,)`` for a flat row, ``(C, L)`` for a
1-D signal, ``(C, H, W)`` for an image.
"""
import numbers

import numpy as np

from .. import _core
from .. import _validate as V

ACTIVATIONS = {
    "linear": _core.ACT_LINEAR, "relu": _core.ACT_RELU, "tanh": _core.ACT_TANH,
    "sigmoid": _core.ACT_SIGMOID, "softmax": _core.ACT_SOFTMAX,
}
ACTIVATION_ALIASES = {None: "linear", "identity": "linear", "none": "linear"}

#: refuse layers whose weights alone would exceed this many elements
MAX_PARAMS = 2**30


def activation(value, name="activation"):
    """The canonical activation name."""
    act = ACTIVATION_ALIASES.get(value, value)
    return V.choice(act, name, ACTIVATIONS)


def keep_probability(dropout, keep_prob):
    """keep = 1 - dropout, from whichever of the two is given."""
    if dropout is not None and keep_prob is not None:
        raise ValueError("dropout, keep_prob: give one of them, not both")
    if keep_prob is not None:
        return V.finite_float(keep_prob, "keep_prob", 0.0, 1.0, low_open=True)
    if dropout is not None:
        return 1.0 - V.finite_float(dropout, "dropout", 0.0, 1.0, high_open=True)
    return 1.0


def pair(value, name, minimum=1):
    """(a, b) from an integer or a pair of integers, each >= minimum."""
    if isinstance(value, numbers.Integral) and not isinstance(value, (bool, np.bool_)):
        value = (value, value)
    if not isinstance(value, (tuple, list)) or len(value) != 2:
        raise TypeError(f"{name}: expected an integer or a pair of integers, got {value!r}")
    return tuple(V.positive_int(v, name, minimum=minimum) for v in value)


def shape_str(shape):
    return "(" + ", ".join(str(s) for s in shape) + (",)" if len(shape) == 1 else ")")


class Layer:
    """Base class of the layers. Subclasses set ``op`` (the C op code) and
    implement ``output_shape``; parametric ones also ``_allocate``."""

    op = None
    #: the number of dimensions of the input row this layer reads (None: any)
    input_ndim = None
    activation = "linear"
    keep_prob = 1.0
    #: bumped by every attribute set on any layer (a new W, another
    #: activation, ...): a model whose C network was made at the same count
    #: knows without looking that its layers are unchanged
    _changes = 0

    def __setattr__(self, name, value):
        object.__setattr__(self, name, value)
        Layer._changes += 1

    def __init__(self):
        self.input_shape = None
        self.output_shape_ = None
        self.init = None

    # ---------------------------------------------------------------- shapes
    def output_shape(self, input_shape):
        """The shape of one output row for an input row of ``input_shape``;
        ValueError naming the layer when this layer cannot read it."""
        raise NotImplementedError

    def _check_ndim(self, input_shape):
        if self.input_ndim is not None and len(input_shape) != self.input_ndim:
            kind = {1: "a flat row (n,)", 2: "a signal (channels, length)",
                    3: "an image (channels, height, width)"}[self.input_ndim]
            raise ValueError(f"{self!r}: expected {kind} as input, got shape "
                             f"{shape_str(input_shape)}")

    # ---------------------------------------------------------------- parameters
    @property
    def params(self):
        """The parameter arrays, in ``get_weights`` order (none by default)."""
        return []

    @property
    def n_params(self):
        return sum(int(p.size) for p in self.params)

    @property
    def dropout(self):
        return 1.0 - self.keep_prob

    def build(self, input_shape, init_fn, rng, dtype):
        """Fix the layer to ``input_shape`` and allocate its parameters."""
        out = self.output_shape(tuple(input_shape))
        self.input_shape = tuple(input_shape)
        self.output_shape_ = tuple(out)
        self._allocate(init_fn, rng, dtype)
        return self.output_shape_

    def _allocate(self, init_fn, rng, dtype):
        """Allocate and initialise the parameters (parametric layers)."""

    def _set_params(self, arrays):
        """Replace the parameter arrays (load, copies)."""

    # ---------------------------------------------------------------- C
    @staticmethod
    def _chw(shape):
        """A row shape as the C core's (channels, height, width)."""
        if len(shape) == 1:
            return (shape[0], 1, 1)
        if len(shape) == 2:
            return (shape[0], 1, shape[1])
        return tuple(shape)

    def _hyper(self):
        """(kernel, stride, padding) as (kh, kw) pairs for the C node."""
        return (1, 1), (1, 1), (0, 0)

    def _node(self):
        """The node tuple of ``_core.Network``."""
        kernel, stride, padding = self._hyper()
        params = self.params
        W = params[0] if params else None
        b = params[1] if params else None
        return (self.op, ACTIVATIONS[self.activation], float(self.keep_prob),
                self._chw(self.input_shape), self._chw(self.output_shape_), kernel, stride,
                padding, W, b)

    # ---------------------------------------------------------------- files
    def config(self):
        """The layer's description in a saved model (a JSON-able dict)."""
        raise NotImplementedError

    def _describe(self):
        return ""

    def __repr__(self):
        return f"{type(self).__name__}({self._describe()})"
