"""Low-level operations of the C core, for tests, benchmarks and the curious.

``matmul`` is the blocked GEMM every layer uses (csrc/gemm/): packed panels,
cache blocks and a register-tiled micro-kernel for the instruction set
``xnn.isa()`` reports. Transposed operands are read in place, never copied.
"""
import numpy as np

from . import _core

__all__ = ["matmul"]


def _operand(x, name):
    if not isinstance(x, np.ndarray):
        try:
            x = np.asarray(x)
        except Exception as e:
            raise TypeError(f"{name}: expected a 2-D float32 or float64 array, could not convert: {e}") from None
    if x.dtype not in (np.float32, np.float64):
        raise TypeError(f"{name}: expected dtype float32 or float64, got {x.dtype}")
    if x.ndim != 2:
        raise ValueError(f"{name}: expected a 2-D array, got shape {x.shape}")
    return np.ascontiguousarray(x)


def matmul(a, b, trans_a=False, trans_b=False):
    """op(a) @ op(b), where op(x) is x.T when the trans_ flag is set.

    a and b are 2-D float32 or float64 arrays of the same dtype (no silent
    casting: mixing them raises TypeError). The result is a new C-contiguous
    array. Every element is rounded the same way for any thread count.

    >>> a = np.arange(6, dtype=np.float32).reshape(2, 3)
    >>> matmul(a, a, trans_b=True)
    array([[ 5., 14.],
           [14., 50.]], dtype=float32)
    """
    a = _operand(a, "a")
    b = _operand(b, "b")
    if a.dtype != b.dtype:
        raise TypeError(f"b: expected dtype {a.dtype} like a, got {b.dtype}")
    ka = a.shape[0] if trans_a else a.shape[1]
    kb = b.shape[1] if trans_b else b.shape[0]
    if ka != kb:
        raise ValueError(f"b: op(b) must have {ka} rows to match the columns of op(a), "
                         f"got op(a) {a.shape[::-1] if trans_a else a.shape} and "
                         f"op(b) {b.shape[::-1] if trans_b else b.shape}")
    return _core.matmul(a, b, trans_a=bool(trans_a), trans_b=bool(trans_b))
