"""Dense: the fully connected layer."""
import numpy as np

from .. import _core
from .. import _validate as V
from .base import MAX_PARAMS, Layer, activation, keep_probability


class Dense(Layer):
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

    op = _core.OP_DENSE
    input_ndim = 1

    def __init__(self, n_in, n_out, activation="linear", dropout=None, keep_prob=None, init=None):
        super().__init__()
        self.n_in = V.positive_int(n_in, "n_in")
        self.n_out = V.positive_int(n_out, "n_out")
        if self.n_in * self.n_out > MAX_PARAMS:
            raise ValueError(f"n_in * n_out: expected at most {MAX_PARAMS} weights, "
                             f"got {self.n_in} * {self.n_out} = {self.n_in * self.n_out}")
        self.activation = _activation(activation)
        self.keep_prob = keep_probability(dropout, keep_prob)
        self.init = init
        self.W = None
        self.b = None

    def output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        if len(input_shape) != 1:
            n = int(np.prod(input_shape))
            hint = (f"; add Flatten() before it (which gives {n} values)"
                    if n == self.n_in else f"; add Flatten() before it, which gives {n} values, "
                    f"and make n_in {n}")
            raise ValueError(f"{self!r}: expected a flat input of {self.n_in} values, got shape "
                             f"{input_shape}{hint}")
        if input_shape[0] != self.n_in:
            raise ValueError(f"{self!r}: expected n_in = {input_shape[0]} (the width of its "
                             f"input), got n_in = {self.n_in}")
        return (self.n_out,)

    @property
    def fan_in(self):
        return self.n_in

    @property
    def fan_out(self):
        return self.n_out

    @property
    def params(self):
        return [] if self.W is None else [self.W, self.b]

    def _allocate(self, init_fn, rng, dtype):
        try:
            W = init_fn(rng, self.n_in, self.n_out)
            self.W = np.ascontiguousarray(W, dtype=dtype)
            self.b = np.zeros(self.n_out, dtype=dtype)
        except MemoryError:
            raise MemoryError(f"{self!r}: not enough memory for "
                              f"{self.n_in * self.n_out + self.n_out} parameters") from None
        if self.W.shape != (self.n_in, self.n_out):
            raise ValueError(f"init: expected an array of shape {(self.n_in, self.n_out)}, "
                             f"got {self.W.shape}")

    def _set_params(self, arrays):
        self.W, self.b = arrays

    def config(self):
        return {"type": "Dense", "n_in": self.n_in, "n_out": self.n_out,
                "activation": self.activation, "keep_prob": self.keep_prob}

    def _describe(self):
        extra = f", keep_prob={self.keep_prob:g}" if self.keep_prob < 1 else ""
        return f"{self.n_in}, {self.n_out}, activation={self.activation!r}{extra}"


def _activation(value):
    return activation(value)
