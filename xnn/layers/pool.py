"""Pooling: max and average pooling over windows, and global average
pooling, of images (C, H, W) and signals (C, L). Windows have no padding;
the stride defaults to the window, and the output size along each axis is
``(size - kernel) // stride + 1``."""
import numbers

from .. import _core
from .. import _validate as V
from .base import Layer, pair, shape_str


def _window(value, name, ndim):
    if ndim == 2:
        return pair(value, name)
    if isinstance(value, (tuple, list)) and len(value) == 1:
        value = value[0]
    if not isinstance(value, numbers.Integral) or isinstance(value, bool):
        raise TypeError(f"{name}: expected an integer, got {value!r}")
    return (V.positive_int(value, name),)


class _Pool(Layer):
    ndim = 2

    def __init__(self, kernel_size, stride=None):
        super().__init__()
        self.kernel_size = _window(kernel_size, "kernel_size", self.ndim)
        self.stride = self.kernel_size if stride is None else _window(stride, "stride", self.ndim)

    input_ndim = property(lambda self: self.ndim + 1)

    def output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_ndim(input_shape)
        out = [input_shape[0]]
        for axis, (size, k, s) in enumerate(zip(input_shape[1:], self.kernel_size, self.stride)):
            if size < k:
                raise ValueError(f"{self!r}: the window ({k}) is larger than the input ({size}) "
                                 f"along axis {axis + 1} of {shape_str(input_shape)}")
            out.append((size - k) // s + 1)
        return tuple(out)

    def _hyper(self):
        if self.ndim == 2:
            return self.kernel_size, self.stride, (0, 0)
        return (1,) + self.kernel_size, (1,) + self.stride, (0, 0)

    def config(self):
        return {"type": type(self).__name__, "kernel_size": list(self.kernel_size),
                "stride": list(self.stride)}

    def _describe(self):
        def one(t):
            return t[0] if len(set(t)) == 1 else t
        s = f"{one(self.kernel_size)}"
        if self.stride != self.kernel_size:
            s += f", stride={one(self.stride)}"
        return s


class MaxPool2d(_Pool):
    """Max pooling of images over ``kernel_size`` windows at ``stride``
    (default: the window). Its backward passes each gradient to the
    window's maximum (the first one in row-major order on ties)."""
    op = _core.OP_MAXPOOL
    ndim = 2


class MaxPool1d(_Pool):
    """Max pooling of signals (C, L)."""
    op = _core.OP_MAXPOOL
    ndim = 1


class AvgPool2d(_Pool):
    """Average pooling of images over ``kernel_size`` windows at ``stride``."""
    op = _core.OP_AVGPOOL
    ndim = 2


class AvgPool1d(_Pool):
    """Average pooling of signals (C, L)."""
    op = _core.OP_AVGPOOL
    ndim = 1


class _GlobalAvgPool(Layer):
    op = _core.OP_GLOBAL_AVGPOOL
    ndim = 2

    input_ndim = property(lambda self: self.ndim + 1)

    def output_shape(self, input_shape):
        input_shape = tuple(input_shape)
        self._check_ndim(input_shape)
        return (input_shape[0],)

    def config(self):
        return {"type": type(self).__name__}


class GlobalAvgPool2d(_GlobalAvgPool):
    """The mean of each channel over the image: (C, H, W) -> (C,), ready for
    a Dense layer (the CAM architecture: conv -> global average pool -> dense)."""
    ndim = 2


class GlobalAvgPool1d(_GlobalAvgPool):
    """The mean of each channel over the signal: (C, L) -> (C,)."""
    ndim = 1
