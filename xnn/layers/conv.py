"""Convolutions: Conv2d on images (C, H, W) and Conv1d on signals (C, L).

Weights are OIHW ``(out_channels, in_channels, kh, kw)`` for Conv2d and OIL
``(out_channels, in_channels, k)`` for Conv1d, as in PyTorch and ONNX, so
models move between them unchanged. Padding is with zeros; the output
size along each axis is ``(size + 2 padding - kernel) // stride + 1``.
"""
import numbers

import numpy as np

from .. import _core
from .. import _validate as V
from .base import MAX_PARAMS, Layer, activation, keep_probability, pair, shape_str


def _padding(padding, kernel, stride, name="padding"):
    """Padding per axis from an integer, a pair, "valid" (0) or "same"
    (the output as large as the input: odd kernels, stride 1)."""
    if isinstance(padding, str):
        p = padding.lower()
        if p == "valid":
            return tuple(0 for _ in kernel)
        if p == "same":
            if any(s != 1 for s in stride) or any(k % 2 == 0 for k in kernel):
                raise ValueError(f"{name}: 'same' needs stride 1 and odd kernel sizes, got "
                                 f"kernel {kernel}, stride {stride}")
            return tuple((k - 1) // 2 for k in kernel)
        raise ValueError(f"{name}: expected an integer, a pair, 'valid' or 'same', got {padding!r}")
    if len(kernel) == 1:
        if isinstance(padding, (tuple, list)) and len(padding) == 1:
            padding = padding[0]
        return (V.positive_int(padding, name, minimum=0),)
    return pair(padding, name, minimum=0)


class _Conv(Layer):
    op = _core.OP_CONV
    ndim = 2

    def __init__(self, in_channels, out_channels, kernel_size, stride=1, padding=0,
                 activation="linear", dropout=None, keep_prob=None, init=None):
        super().__init__()
        self.in_channels = V.positive_int(in_channels, "in_channels")
        self.out_channels = V.positive_int(out_channels, "out_channels")
        if self.ndim == 2:
            self.kernel_size = pair(kernel_size, "kernel_size")
            self.stride = pair(stride, "stride")
        else:
            self.kernel_size = (_single(kernel_size, "kernel_size"),)
            self.stride = (_single(stride, "stride"),)
        self.padding = _padding(padding, self.kernel_size, self.stride)
        k = int(np.prod(self.kernel_size))
        if self.in_channels * self.out_channels * k > MAX_PARAMS:
            raise ValueError(f"{type(self).__name__}: expected at most {MAX_PARAMS} weights, got "
                             f"{self.in_channels * self.out_channels * k}")
        self.activation = activation_name(activation)
        self.keep_prob = keep_probability(dropout, keep_prob)
        self.init = init
        self.W = None
        self.b = None

    input_ndim = property(lambda self: self.ndim + 1)

    def output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_ndim(input_shape)
        if input_shape[0] != self.in_channels:
            raise ValueError(f"{self!r}: expected {self.in_channels} input channels, got shape "
                             f"{shape_str(input_shape)} with {input_shape[0]}")
        out = [self.out_channels]
        for axis, (size, k, s, p) in enumerate(zip(input_shape[1:], self.kernel_size, self.stride,
                                                   self.padding)):
            if size + 2 * p < k:
                raise ValueError(f"{self!r}: the kernel ({k}) is larger than the padded input "
                                 f"({size} + 2 * {p}) along axis {axis + 1} of "
                                 f"{shape_str(input_shape)}")
            out.append((size + 2 * p - k) // s + 1)
        return tuple(out)

    @property
    def fan_in(self):
        return self.in_channels * int(np.prod(self.kernel_size))

    @property
    def fan_out(self):
        return self.out_channels * int(np.prod(self.kernel_size))

    @property
    def weight_shape(self):
        return (self.out_channels, self.in_channels) + self.kernel_size

    @property
    def params(self):
        return [] if self.W is None else [self.W, self.b]

    def _allocate(self, init_fn, rng, dtype):
        shape = self.weight_shape
        try:
            try:
                W = init_fn(rng, self.fan_in, self.fan_out, shape=shape)
            except TypeError as e:
                if "shape" not in str(e):
                    raise
                raise TypeError(f"init: an initialiser of a convolution takes "
                                f"(rng, fan_in, fan_out, shape=...), {init_fn!r} does not") from None
            self.W = np.ascontiguousarray(W, dtype=dtype)
            self.b = np.zeros(self.out_channels, dtype=dtype)
        except MemoryError:
            raise MemoryError(f"{self!r}: not enough memory for its parameters") from None
        if self.W.shape != shape:
            raise ValueError(f"init: expected an array of shape {shape}, got {self.W.shape}")

    def _set_params(self, arrays):
        self.W, self.b = arrays

    def _hyper(self):
        if self.ndim == 2:
            return self.kernel_size, self.stride, self.padding
        return (1,) + self.kernel_size, (1,) + self.stride, (0,) + self.padding

    def config(self):
        return {"type": type(self).__name__, "in_channels": self.in_channels,
                "out_channels": self.out_channels, "kernel_size": list(self.kernel_size),
                "stride": list(self.stride), "padding": list(self.padding),
                "activation": self.activation, "keep_prob": self.keep_prob}

    def _describe(self):
        one = (lambda t: t[0]) if self.ndim == 1 else (lambda t: t if t[0] != t[1] else t[0])
        s = f"{self.in_channels}, {self.out_channels}, {one(self.kernel_size)}"
        if any(v != 1 for v in self.stride):
            s += f", stride={one(self.stride)}"
        if any(self.padding):
            s += f", padding={one(self.padding)}"
        s += f", activation={self.activation!r}"
        if self.keep_prob < 1:
            s += f", keep_prob={self.keep_prob:g}"
        return s


def _single(value, name):
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an integer, got {value!r}")
    return V.positive_int(value, name)


def activation_name(value):
    return activation(value)


class Conv2d(_Conv):
    """A 2-D convolution ``y = activation(conv(x, W) + b)`` of images
    ``(in_channels, H, W)``, then dropout.

    Parameters
    ----------
    in_channels, out_channels : int
    kernel_size, stride : int or (int, int)
    padding : int, (int, int), "valid" or "same" (zeros)
    activation, dropout, keep_prob, init : as for ``Dense``; the
        initialiser sees fan_in = in_channels·kh·kw, fan_out = out_channels·kh·kw.

    ``W`` is ``(out_channels, in_channels, kh, kw)``, ``b`` ``(out_channels,)``.
    """
    ndim = 2


class Conv1d(_Conv):
    """A 1-D convolution of signals ``(in_channels, length)`` (time series),
    ``W`` shaped ``(out_channels, in_channels, kernel_size)``; otherwise as
    ``Conv2d``."""
    ndim = 1
