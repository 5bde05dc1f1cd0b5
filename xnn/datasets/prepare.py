"""Preparing data: a train/test split and one-hot labels."""

from __future__ import annotations

import math

import numpy as np

__all__ = ["split", "one_hot"]


def split(X, y, test_size=0.2, seed=42):
    """Shuffle and split into training and test rows with scikit-learn.

    Calls ``sklearn.model_selection.train_test_split(X, y,
    test_size=test_size, random_state=seed)`` (so the rows, and their order,
    are scikit-learn's: a ``np.random.RandomState(seed)`` permutation whose
    first ``ceil(test_size * n)`` entries are the test rows), after checking
    the arguments with messages that name them.

    Parameters
    ----------
    X, y : array-like with the same number of rows
        Converted with ``np.asarray``, so the four results are arrays.
    test_size : float in (0, 1) or int in [1, n)
        Fraction or number of test rows.
    seed : int, None or numpy.random.RandomState
        Seed of the shuffle (scikit-learn's ``random_state``); None gives a
        different split each call.

    Returns
    -------
    X_train, X_test, y_train, y_test
    """
    X = np.asarray(X)
    y = np.asarray(y)
    if X.ndim == 0 or y.ndim == 0:
        raise ValueError(f"X and y must be arrays with one row per sample, got X with "
                         f"shape {X.shape} and y with shape {y.shape}")
    n = X.shape[0]
    if y.shape[0] != n:
        raise ValueError(f"X and y must have the same number of rows, got X {n} and "
                         f"y {y.shape[0]}")
    if isinstance(test_size, (bool, np.bool_)):
        raise TypeError(f"test_size must be a float or an int, got {test_size!r}")
    if isinstance(test_size, (int, np.integer)):
        if not 0 < test_size < n:
            raise ValueError(f"test_size={test_size} must be an int in [1, {n - 1}] "
                             f"(n = {n} rows) or a float in (0, 1)")
        test_size = int(test_size)
        n_test = test_size
    elif isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size={test_size} must be a float in (0, 1) or an int "
                             f"in [1, n - 1]")
        test_size = float(test_size)
        n_test = math.ceil(test_size * n)
    else:
        raise TypeError(f"test_size must be a float or an int, got {type(test_size).__name__}")
    if n - n_test <= 0:
        raise ValueError(f"with {n} rows and test_size={test_size} the training set would "
                         "be empty")
    try:
        from sklearn.model_selection import train_test_split
    except ImportError:
        raise ImportError("split needs scikit-learn: pip install scikit-learn") from None
    X_train, X_test, y_train, y_test = train_test_split(X, y, test_size=test_size,
                                                        random_state=seed)
    return X_train, X_test, y_train, y_test


def one_hot(y, n_classes=None, dtype=np.float32):
    """One-hot rows from integer labels: ``out[i, y[i]] = 1``.

    Parameters
    ----------
    y : array-like of int, shape (n,)
        Labels in 0..n_classes-1 (integral floats are accepted).
    n_classes : int, optional
        Number of columns; default ``y.max() + 1``.
    dtype : NumPy dtype, default float32

    Returns
    -------
    ndarray of shape (n, n_classes)
    """
    y = np.asarray(y)
    if y.ndim != 1:
        raise ValueError(f"y must be a 1-D array of labels, got shape {y.shape}")
    if y.dtype.kind == "f":
        if not np.all(np.isfinite(y)) or not np.all(y == np.round(y)):
            raise ValueError("y must hold integer labels, got non-integer floats")
        y = y.astype(np.int64)
    elif y.dtype.kind not in "iu":
        raise TypeError(f"y must hold integer labels, got dtype {y.dtype}")
    if y.size and y.min() < 0:
        raise ValueError(f"y must hold labels >= 0, found {y.min()}")
    if n_classes is None:
        n_classes = int(y.max()) + 1 if y.size else 0
    else:
        if isinstance(n_classes, bool) or not isinstance(n_classes, (int, np.integer)):
            raise TypeError(f"n_classes must be an int, got {n_classes!r}")
        if n_classes < 1:
            raise ValueError(f"n_classes must be >= 1, got {n_classes}")
        if y.size and y.max() >= n_classes:
            raise ValueError(f"y holds the label {y.max()}, which does not fit "
                             f"n_classes={n_classes} (labels 0..{n_classes - 1})")
    out = np.zeros((y.shape[0], int(n_classes)), dtype=dtype)
    out[np.arange(y.shape[0]), y] = 1
    return out
