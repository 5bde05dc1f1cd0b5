"""Flatten: (C, H, W) or (C, L) -> one flat row, in C order (the memory
does not move)."""
import numpy as np

from .. import _core
from .base import Layer


class Flatten(Layer):
    """Flatten each row: ``(C, H, W)`` -> ``(C·H·W,)`` in C order (as
    PyTorch's ``nn.Flatten`` and Keras's ``Flatten`` on channels-first
    data)."""

    op = _core.OP_FLATTEN

    def output_shape(self, input_shape):
        return (int(np.prod(tuple(input_shape))),)

    def config(self):
        return {"type": "Flatten"}
