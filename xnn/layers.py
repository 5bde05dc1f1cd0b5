"""Layers of a network. For now: the fully connected layer, Dense."""

import numpy as np

from . import _core
from . import _validate as V

ACTIVATIONS = {
    "linear": _core.ACT_LINEAR, "relu": _core.ACT_RELU, "tanh": _core.ACT_TANH,
    "sigmoid": _core.ACT_SIGMOID, "softmax": _core.ACT_SOFTMAX,
}
ACTIVATION_ALIASES = {None: "linear", "identity": "linear", "none": "linear"}

#: refuse layers whose weight matrix alone would exceed this many elements
MAX_PARAMS = 2**30


class Dense:
    """A fully connected layer ``y = activation(x W + b)``, then dropout.

    Parameters
    ----------
    n_in, n_out : int
        Input and output widths; ``W`` is shaped ``(n_in, n_out)`` as in Keras.
    activation : str
        ``"linear"``, ``"relu"``, ``"tanh"``, ``"sigmoid"`` or ``"softmax"``.
    dropout : float, optional
        Fraction of this layer's outputs dropped during training (inverted
        dropout: kept outputs are divided by the keep probability).
    keep_prob : float, optional
        The same thing said the other way round: ``keep_prob = 1 - dropout``
        (the lab report uses ``keep_prob=0.9`` after a tanh layer).
    init : str or callable, optional
        This layer's initialiser; by default the model's.
    """

    def __init__(self, n_in, n_out, activation="linear", dropout=None, keep_prob=None, init=None):
        self.n_in = V.positive_int(n_in, "n_in")
        self.n_out = V.positive_int(n_out, "n_out")
        if self.n_in * self.n_out > MAX_PARAMS:
            raise ValueError(f"n_in * n_out: expected at most {MAX_PARAMS} weights, "
                             f"got {self.n_in} * {self.n_out} = {self.n_in * self.n_out}")
        act = ACTIVATION_ALIASES.get(activation, activation)
        self.activation = V.choice(act, "activation", ACTIVATIONS)
        if dropout is not None and keep_prob is not None:
            raise ValueError("dropout, keep_prob: give one of them, not both")
        if keep_prob is not None:
            keep = V.finite_float(keep_prob, "keep_prob", 0.0, 1.0, low_open=True)
        elif dropout is not None:
            keep = 1.0 - V.finite_float(dropout, "dropout", 0.0, 1.0, high_open=True)
        else:
            keep = 1.0
        self.keep_prob = keep
        self.init = init
        self.W = None
        self.b = None

    @property
    def dropout(self):
        return 1.0 - self.keep_prob

    @property
    def n_params(self):
        return self.n_in * self.n_out + self.n_out

    def build(self, init_fn, rng, dtype):
        """Allocate and initialise W and b (called by the model)."""
        try:
            W = init_fn(rng, self.n_in, self.n_out)
            self.W = np.ascontiguousarray(W, dtype=dtype)
            self.b = np.zeros(self.n_out, dtype=dtype)
        except MemoryError:
            raise MemoryError(f"Dense({self.n_in}, {self.n_out}): not enough memory for "
                              f"{self.n_params} parameters") from None
        if self.W.shape != (self.n_in, self.n_out):
            raise ValueError(f"init: expected an array of shape {(self.n_in, self.n_out)}, "
                             f"got {self.W.shape}")

    def config(self):
        return {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out,
                "activation": self.activation, "keep_prob": self.keep_prob}

    def __repr__(self):
        extra = f", keep_prob={self.keep_prob:g}" if self.keep_prob < 1 else ""
        return f"Dense({self.n_in}, {self.n_out}, activation={self.activation!r}{extra})"


def from_config(cfg):
    if not isinstance(cfg, dict) or cfg.get("type") != "Dense":
        raise ValueError(f"layer config: expected a Dense layer description, got {cfg!r}")
    return Dense(cfg["n_in"], cfg["n_out"], activation=cfg["activation"],
                 keep_prob=cfg.get("keep_prob", 1.0))


