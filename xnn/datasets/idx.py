"""IDX files: the classic MNIST and Fashion-MNIST distribution format.

A file is read in one pass and never beyond what its header declares: the
product of the dimensions times the element size, plus the header. A header
that declares more than the file can hold (its size, or for gzip its size
times deflate's largest compression ratio) is refused before anything is
allocated, and a file that goes on after the declared end is refused as soon
as the first extra byte arrives.
"""

from __future__ import annotations

import math
import os
from pathlib import Path

import numpy as np

from ._common import ByteSource, to_float

__all__ = ["read_idx", "load_idx", "load_idx_dir"]

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _read_idx_file(path, what):
    """Return ``(path, magic, array)`` of an IDX file (gzip or raw), reading at most
    the bytes its header declares (plus one, to tell a file that is too long)."""
    with ByteSource(path, what) as src:
        path = src.path
        head = src.read(4)
        if len(head) < 4:
            raise ValueError(f"{path} is not an IDX file: only {len(head)} bytes")
        magic = int.from_bytes(head, "big")
        code, ndim = head[2], head[3]
        if head[:2] != b"\x00\x00" or code not in _IDX_DTYPES or ndim == 0:
            raise ValueError(f"{path} is not an IDX file: read the magic number 0x{magic:08X}, "
                             "expected 0x0000TTDD (TT a type code such as 08 for uint8, "
                             "DD the number of dimensions)")
        header = 4 + 4 * ndim
        dims_bytes = src.read(4 * ndim)
        if len(dims_bytes) < 4 * ndim:
            raise ValueError(f"{path} is truncated: the {ndim}-D header needs {header} bytes, "
                             f"the file has {4 + len(dims_bytes)}")
        dims = tuple(int.from_bytes(dims_bytes[4 * i:4 * i + 4], "big") for i in range(ndim))
        dtype = _IDX_DTYPES[code]
        n_data = math.prod(dims) * dtype.itemsize
        expected = header + n_data
        declared = (f"its header says shape {dims} of {dtype.name} ({expected:,} bytes "
                    "with the header)")
        if not src.gzip and src.size != expected:
            state = "truncated" if src.size < expected else "too long"
            raise ValueError(f"{path} is {state}: {declared}, the file has {src.size:,} bytes")
        if expected > src.max_size:
            raise ValueError(f"{path} is truncated or its header is corrupt: {declared}, but a "
                             f"gzip file of {src.size:,} bytes decompresses to at most "
                             f"{src.max_size:,} bytes")
        try:
            data = np.empty(n_data, dtype=np.uint8)
        except MemoryError:
            raise ValueError(f"{path}: {declared}, more memory than is available") from None
        got = src.readinto(data)
        if got < n_data:
            raise ValueError(f"{path} is truncated: {declared}, the file has "
                             f"{header + got:,} bytes")
        if src.read(1):
            raise ValueError(f"{path} is too long: {declared}, the file has more")
    arr = data.view(dtype).reshape(dims)
    if not dtype.isnative:  # big-endian on disk: swap in place, no second copy
        arr = arr.byteswap(inplace=True).view(dtype.newbyteorder("="))
    return path, magic, arr


def read_idx(path):
    """Read any IDX file (gzip-compressed or raw) into an array of its header's shape.

    Compression is detected from the content (the gzip magic bytes 1f 8b), not
    from the file name. The header's type code gives the dtype (uint8, int8,
    int16, int32, float32, float64; big-endian on disk, native in the result).
    The file is read up to the size its header declares and no further: a
    header that declares more than the file can hold, or a file longer than
    its header says, raises ValueError before more is read or allocated.
    """
    return _read_idx_file(path, "IDX")[2]


def load_idx(images, labels=None, as_float=True, dtype=np.float32):
    """Load MNIST-style IDX files: an image file and, optionally, a label file.

    Parameters
    ----------
    images : path
        ``*-images-idx3-ubyte`` (gzip-compressed or raw): magic 0x00000803,
        uint8, shape (n, rows, cols).
    labels : path, optional
        ``*-labels-idx1-ubyte`` (gzip-compressed or raw): magic 0x00000801,
        uint8, shape (n,). Must hold as many labels as there are images.
    as_float : bool
        True: X is float32 in [0, 1] (pixel / 255); False: the raw uint8.
    dtype : float32 or float64
        dtype of ``X`` when ``as_float``.

    Returns
    -------
    X : ndarray, shape (n, rows * cols)
    y : ndarray of int64, shape (n,), or None when ``labels`` is None

    Raises
    ------
    FileNotFoundError for a missing file; ValueError (naming the file and what
    was read) for a wrong magic number, a truncated file or too long a file,
    or image and label counts that differ. Each file is read only up to the
    size its header declares (see :func:`read_idx`).
    """
    ipath, magic, X = _read_idx_file(images, "images")
    if magic != 0x00000803:
        raise ValueError(f"images: {ipath} has the magic number 0x{magic:08X}, "
                         "expected 0x00000803 (uint8, 3 dimensions: n, rows, cols)")
    X = X.reshape(X.shape[0], -1)
    y = None
    if labels is not None:
        lpath, magic, y = _read_idx_file(labels, "labels")
        if magic != 0x00000801:
            raise ValueError(f"labels: {lpath} has the magic number "
                             f"0x{magic:08X}, expected 0x00000801 (uint8, 1 dimension: n)")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{ipath} holds {X.shape[0]} images but {lpath} holds "
                             f"{y.shape[0]} labels")
        y = y.astype(np.int64)
    if as_float:
        X = to_float(X, 255.0, dtype)
    return X, y


def _find_idx(directory, kind, what, idx):
    for sep in ("-", "."):
        for ext in (".gz", ""):
            p = directory / f"{kind}-{what}{sep}idx{idx}-ubyte{ext}"
            if p.is_file():
                return p
    return None


def load_idx_dir(directory=None, kind="all", as_float=True, dtype=np.float32):
    """Load MNIST (or Fashion-MNIST) from a directory of the standard IDX files.

    Looks for ``{kind}-images-idx3-ubyte`` and ``{kind}-labels-idx1-ubyte``
    (also ``.gz``, and the ``images.idx3-ubyte`` spelling) for kind ``train``
    and ``t10k``.

    Parameters
    ----------
    directory : path, optional
        Defaults to ``$XNN_MNIST_DIR``.
    kind : {"all", "train", "t10k"}
        ``"train"`` or ``"t10k"`` (also ``"test"``) load that pair of files;
        ``"all"`` loads every pair present, training rows first, then test
        rows (for MNIST, the order of OpenML's ``mnist_784``).
    as_float : bool
        True: X is float32 in [0, 1]; False: the raw uint8.
    dtype : float32 or float64
        dtype of ``X`` when ``as_float``.

    Returns
    -------
    X : ndarray, shape (n, rows * cols)
    y : ndarray of int64, shape (n,)
    """
    if directory is None:
        directory = os.environ.get("XNN_MNIST_DIR")
        if not directory:
            raise ValueError("directory is None and $XNN_MNIST_DIR is not set; pass the "
                             "directory that holds the IDX files")
    directory = Path(os.fspath(directory)).expanduser()
    if not directory.is_dir():
        raise FileNotFoundError(f"directory not found: {directory}")
    aliases = {"all": ("train", "t10k"), "train": ("train",), "t10k": ("t10k",),
               "test": ("t10k",)}
    if kind not in aliases:
        raise ValueError(f"kind must be one of {sorted(aliases)}, got {kind!r}")
    parts = []
    for k in aliases[kind]:
        img = _find_idx(directory, k, "images", 3)
        lab = _find_idx(directory, k, "labels", 1)
        if img is None and lab is None and kind == "all":
            continue
        if img is None or lab is None:
            missing = f"{k}-images-idx3-ubyte" if img is None else f"{k}-labels-idx1-ubyte"
            raise FileNotFoundError(f"{missing}[.gz] not found in {directory}")
        parts.append(load_idx(img, lab, as_float=as_float, dtype=dtype))
    if not parts:
        raise FileNotFoundError(f"no MNIST IDX files (train-images-idx3-ubyte[.gz], "
                                f"t10k-images-idx3-ubyte[.gz], ...) in {directory}")
    if len(parts) == 1:
        return parts[0]
    if parts[0][0].shape[1] != parts[1][0].shape[1]:
        raise ValueError(f"{directory}: training images have {parts[0][0].shape[1]} pixels, "
                         f"test images {parts[1][0].shape[1]}")
    return (np.concatenate([p[0] for p in parts]), np.concatenate([p[1] for p in parts]))
