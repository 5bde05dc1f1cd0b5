"""scikit-learn's bundled 8x8 digits: the offline default."""

from __future__ import annotations

import numpy as np

from ._common import to_float

__all__ = ["load_digits"]


def load_digits(as_float=True, dtype=np.float32):
    """scikit-learn's bundled 8x8 digits: 1,797 images, no download needed.

    Returns ``X`` (1797, 64), float32 in [0, 1] (pixel / 16) or the raw uint8
    0..16 with ``as_float=False``, and ``y`` int64 labels 0..9. ``dtype``
    (float32 or float64) is the dtype of ``X`` when ``as_float``. Needs
    scikit-learn.
    """
    try:
        from sklearn.datasets import load_digits as _sk_load_digits
    except ImportError:
        raise ImportError("load_digits needs scikit-learn: pip install scikit-learn") from None
    X, y = _sk_load_digits(return_X_y=True)
    y = y.astype(np.int64)
    if as_float:
        return to_float(X, 16.0, dtype), y
    return X.astype(np.uint8), y
