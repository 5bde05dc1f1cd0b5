"""Label-first CSV files: Kaggle's "digit recognizer" ``train.csv`` layout."""

from __future__ import annotations

import re

import numpy as np

from ._common import (
    DEFAULT_MAX_BYTES,
    DatasetError,
    check_max_bytes,
    parse_table,
    read_limited,
    to_float,
)

__all__ = ["load_csv"]

#: the largest label load_csv accepts: labels are class indices
MAX_LABEL = 2**31 - 1
_FLOAT32_MAX = float(np.finfo(np.float32).max)


def load_csv(path, as_float=True, dtype=np.float32, max_bytes=DEFAULT_MAX_BYTES):
    """Load a label-first CSV: ``label,pixel0,...,pixel783`` (Kaggle's train.csv).

    The header line is optional (detected when its first field is not a
    number). The file may be gzip-compressed (detected from its content).

    Parameters
    ----------
    path : path
    as_float : bool
        True: X is float32 divided by its maximum (``X / X.max()``, as the lab
        report does), so in [0, 1] for non-negative pixels. False: the raw
        values, uint8 when they are all integers 0..255, else float32.
    dtype : float32 or float64
        dtype of ``X`` when ``as_float``.
    max_bytes : int, default 1 GiB
        The largest (decompressed) text read. A larger file, or a gzip file
        that inflates beyond it, raises ValueError as soon as the limit is
        passed, having held at most ``max_bytes`` bytes.

    Returns
    -------
    X : ndarray, shape (n, n_columns - 1)
    y : ndarray of int64, shape (n,)

    Raises
    ------
    FileNotFoundError for a missing file. ValueError naming the file, and the
    data row and column where one is at fault, for: text beyond ``max_bytes``;
    a NUL byte (not a text file); rows of different lengths or values that are
    not numbers; labels that are not integers in 0..2**31-1 (non-integer,
    negative, infinite, NaN or too large); pixel values that are NaN,
    infinite or beyond the float32 range.
    """
    max_bytes = check_max_bytes(max_bytes)
    path, data = read_limited(path, "CSV", max_bytes, text=True)
    if data.startswith(b"\xef\xbb\xbf"):  # UTF-8 byte order mark
        data = data[3:]
    first = re.search(rb"^[ \t]*[^\s][^\r\n]*", data, re.MULTILINE)
    if first is None:
        raise ValueError(f"CSV file {path} is empty")
    try:
        float(first.group(0).split(b",", 1)[0].strip().strip(b"'\""))
    except ValueError:  # a header line
        data = data[first.end():]
        if not data.strip():
            raise ValueError(f"CSV file {path} has a header but no data rows") from None
    table = parse_table(data, f"CSV file {path}", quotechar='"')
    del data
    if table.shape[1] < 2:
        raise ValueError(f"CSV file {path}: expected a label column and pixel columns, "
                         f"the data rows have {table.shape[1]} column")
    labels = table[:, 0]
    X = np.ascontiguousarray(table[:, 1:])
    if table.dtype != np.uint8:  # uint8 tables hold integers 0..255 only
        with np.errstate(invalid="ignore"):
            bad = ~((labels >= 0) & (labels <= MAX_LABEL) & (labels == np.floor(labels)))
        if bad.any():
            i = int(np.argmax(bad))
            raise DatasetError(f"CSV file {path}: the first column holds labels and must be "
                               f"integers, found {labels[i]:g} in data row {i + 1}, column 1 "
                               f"(labels are class indices 0..{MAX_LABEL})")
        with np.errstate(invalid="ignore"):
            fits = np.abs(X) <= _FLOAT32_MAX  # False for NaN and infinities
        if not fits.all():
            i, j = (int(k) for k in np.argwhere(~fits)[0])
            raise DatasetError(f"CSV file {path}: data row {i + 1}, column {j + 2} holds "
                               f"{X[i, j]:g}; pixel values must be finite numbers (of at "
                               f"most {_FLOAT32_MAX:.3g} in magnitude, the float32 range)")
        del fits
    y = labels.astype(np.int64)
    del table, labels
    if as_float:
        peak = float(X.max()) if X.size else 0.0
        with np.errstate(over="ignore"):
            out = to_float(X, peak if peak > 0 else None, dtype)
        if X.dtype != np.uint8 and not np.isfinite(out).all():
            raise DatasetError(f"CSV file {path}: dividing by the largest pixel value "
                               f"{peak:g} takes the smallest, {float(X.min()):g}, beyond the "
                               f"{np.dtype(dtype).name} range; pass as_float=False for the "
                               "raw values")
        return out, y
    if X.dtype != np.uint8:
        X = X.astype(np.float32)
    return X, y
