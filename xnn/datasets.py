"""Datasets for xnn: MNIST from OpenML, IDX and CSV files, and an offline default.

Every loader returns plain NumPy arrays ``(X, y)``: ``X`` has one flattened
image per row (float32 in [0, 1] by default, or the raw uint8 pixels with
``as_float=False``) and ``y`` holds integer class labels (int64).

Where does MNIST come from?
    :func:`load_mnist` downloads OpenML's ``mnist_784`` (version 1, data id
    554; 70,000 rows: the 60,000 training images, then the 10,000 test
    images) once, checks its MD5 checksum and keeps the parsed arrays in a
    cache file. Later calls read the cache and take well under a second.

Where is the cache?
    In the first of: the ``cache_dir`` argument, ``$XNN_DATA_HOME``,
    ``$XDG_CACHE_HOME/xnn``, ``~/.cache/xnn`` (``%LOCALAPPDATA%\\xnn`` on
    Windows). :func:`get_data_home` tells which directory is used. The cache
    is one ``.npz`` file per dataset (``mnist_784-v1.npz``); delete it to force
    a new download, or copy it to another machine to skip the download there.

How do I work offline?
    * :func:`load_digits` needs no download: scikit-learn's bundled 8x8 digits
      (1,797 images).
    * :func:`load_idx_dir` / :func:`load_idx` read the classic MNIST or
      Fashion-MNIST IDX files (``train-images-idx3-ubyte.gz`` ...) from a
      directory you downloaded once; ``load_idx_dir()`` with no argument uses
      ``$XNN_MNIST_DIR``.
    * :func:`load_csv` reads the label-first CSV layout of Kaggle's "digit
      recognizer" ``train.csv``.
    * A cache file made by :func:`load_mnist` on a machine with network access.

Another OpenML server (a mirror) can be used by setting ``$XNN_OPENML_URL``
(default ``https://api.openml.org``).

Preparing data: :func:`split` reproduces scikit-learn's
``train_test_split(X, y, test_size=..., random_state=seed)`` row for row, and
:func:`one_hot` turns labels into one-hot rows.
"""

from __future__ import annotations

import gzip
import hashlib
import http.client
import io
import json
import math
import os
import re
import socket
import sys
import tempfile
import urllib.error
import urllib.request
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

__all__ = [
    "DatasetError",
    "DownloadError",
    "get_data_home",
    "load_mnist",
    "load_idx",
    "load_idx_dir",
    "read_idx",
    "load_csv",
    "load_digits",
    "split",
    "one_hot",
]

OPENML_URL = "https://api.openml.org"
MNIST_DATA_ID = 554
MNIST_NAME = "mnist_784"
MNIST_VERSION = 1

_GZIP_MAGIC = b"\x1f\x8b"


class DatasetError(ValueError):
    """Data that cannot be trusted: a wrong checksum, a malformed file."""


class DownloadError(ConnectionError):
    """A download failed (offline, refused, timed out, cut off, HTTP error).

    The message names the offline alternatives.
    """


# ---------------------------------------------------------------------------
# where files live


def get_data_home(cache_dir=None):
    """Return the cache directory as a :class:`pathlib.Path` (not created).

    The first of: ``cache_dir``; ``$XNN_DATA_HOME``; ``$XDG_CACHE_HOME/xnn``;
    ``%LOCALAPPDATA%\\xnn`` on Windows; ``~/.cache/xnn``.
    """
    if cache_dir is not None:
        return Path(os.fspath(cache_dir)).expanduser()
    env = os.environ.get("XNN_DATA_HOME")
    if env:
        return Path(env).expanduser()
    xdg = os.environ.get("XDG_CACHE_HOME")
    if xdg:
        return Path(xdg).expanduser() / "xnn"
    if sys.platform == "win32" and os.environ.get("LOCALAPPDATA"):
        return Path(os.environ["LOCALAPPDATA"]) / "xnn"
    return Path.home() / ".cache" / "xnn"


def _openml_base():
    return os.environ.get("XNN_OPENML_URL", "").strip().rstrip("/") or OPENML_URL


def _offline_help(cache_file):
    return (
        f"No usable cached copy at {cache_file}.\n"
        "To work offline, use one of:\n"
        "  * xnn.datasets.load_digits()  - scikit-learn's bundled 8x8 digits, "
        "no download;\n"
        "  * xnn.datasets.load_idx_dir(directory) or "
        "xnn.datasets.load_idx(images, labels) - the classic MNIST IDX files "
        "(train-images-idx3-ubyte.gz, train-labels-idx1-ubyte.gz, "
        "t10k-images-idx3-ubyte.gz, t10k-labels-idx1-ubyte.gz); "
        "load_idx_dir() with no argument reads the directory $XNN_MNIST_DIR;\n"
        "  * xnn.datasets.load_csv(path) - a label-first CSV (Kaggle train.csv);\n"
        f"  * copy a {cache_file.name} made by load_mnist() on another machine "
        f"to {cache_file.parent} (or set $XNN_DATA_HOME).\n"
        "A mirror of OpenML can be used by setting $XNN_OPENML_URL."
    )


# ---------------------------------------------------------------------------
# small helpers


def _read_bytes(path, what):
    """Read a whole file, gunzipping it when it starts with the gzip magic."""
    path = Path(os.fspath(path)).expanduser()
    if not path.exists():
        raise FileNotFoundError(f"{what} file not found: {path}")
    if path.is_dir():
        raise IsADirectoryError(f"{what} must be a file, got the directory {path}")
    data = path.read_bytes()
    if data[:2] == _GZIP_MAGIC:
        try:
            data = gzip.decompress(data)
        except (EOFError, OSError, zlib.error) as exc:
            raise ValueError(
                f"{what} file {path} starts with the gzip magic bytes 1f 8b but "
                f"cannot be decompressed (truncated or corrupt?): {exc}"
            ) from None
    return path, data


def _float_dtype(dtype):
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def _to_float(X, scale, dtype=np.float32):
    """X / scale as ``dtype``, correctly rounded."""
    dtype = _float_dtype(dtype)
    if X.dtype == np.float64:  # divide first, round once
        return (X / scale if scale else X).astype(dtype)
    out = X.astype(dtype)  # integers: exact in dtype, so one rounding in the division
    if scale:
        out /= dtype.type(scale)
    return out


def _parse_table(data, source, *, comments=None, quotechar=None, skiprows=0,
                 converters=None):
    """Parse comma-separated numbers (bytes) into a 2-D array.

    Returns uint8 when every value is an integer in 0..255, float64 otherwise.
    NumPy's C ``loadtxt`` (NumPy >= 1.23) is used: it is faster than splitting
    the text in Python or ``np.fromstring``, checks that every row has the same
    number of columns and that uint8 values are in range.
    """
    # loadtxt skips empty lines but not lines of spaces: drop those first (the
    # search is cheap; the substitution runs only when there is something to drop)
    if re.match(rb"[ \t]+\r?(?:\n|$)", data) or re.search(rb"\n[ \t]+\r?(?=\n|$)", data):
        data = re.sub(rb"(?m)^[ \t]+\r?$", b"", data)
    kw = dict(delimiter=",", comments=comments, quotechar=quotechar, skiprows=skiprows,
              converters=converters, ndmin=2)
    try:
        return np.loadtxt(io.BytesIO(data), dtype=np.uint8, **kw)
    except ValueError:
        pass  # not all integers 0..255 (or malformed: the float parse says where)
    try:
        return np.loadtxt(io.BytesIO(data), dtype=np.float64, **kw)
    except ValueError as exc:
        raise DatasetError(f"{source}: {exc}") from None


# ---------------------------------------------------------------------------
# OpenML


class _Truncated(Exception):
    pass


def _http_get(url, timeout, verbose=False, desc=None):
    """GET ``url`` and return the body, gunzipped if it was compressed."""
    req = urllib.request.Request(
        url, headers={"Accept-Encoding": "gzip", "User-Agent": "xnn-datasets"}
    )
    with urllib.request.urlopen(req, timeout=timeout) as resp:
        encoding = (resp.headers.get("Content-Encoding") or "").strip().lower()
        try:
            total = int(resp.headers.get("Content-Length"))
        except (TypeError, ValueError):
            total = None
        bar = None
        if verbose:
            try:
                from tqdm import tqdm
            except ImportError:  # no progress bar; _fetch_openml printed the URL
                pass
            else:
                bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                           desc=desc or "download", leave=False)
        chunks = []
        received = 0
        try:
            while True:
                chunk = resp.read(1 << 16)
                if not chunk:
                    break
                chunks.append(chunk)
                received += len(chunk)
                if bar is not None:
                    bar.update(len(chunk))
        finally:
            if bar is not None:
                bar.close()
    if total is not None and received < total:
        raise _Truncated(f"the download was cut off: received {received} of {total} bytes")
    body = b"".join(chunks)
    compressed = body
    for _ in range(2):  # Content-Encoding: gzip, and/or a .gz file
        if not (encoding == "gzip" or body[:2] == _GZIP_MAGIC):
            break
        encoding = ""
        try:
            body = gzip.decompress(body)
        except (EOFError, OSError, zlib.error) as exc:
            raise _Truncated(
                f"the gzip-compressed download is incomplete or corrupt ({exc})") from None
    return body, compressed


def _download(url, timeout, cache_file, verbose=False, desc=None):
    """_http_get with every network failure turned into a DownloadError."""
    try:
        return _http_get(url, timeout, verbose=verbose, desc=desc)
    except urllib.error.HTTPError as exc:
        reason = f"the server answered HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        reason = str(exc.reason)
    except (TimeoutError, socket.timeout):
        reason = f"no answer within timeout={timeout} s"
    except _Truncated as exc:
        reason = str(exc)
    except http.client.IncompleteRead as exc:
        reason = (f"the download was cut off: received {len(exc.partial)} bytes, "
                  f"{exc.expected} more expected")
    except (http.client.HTTPException, OSError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    raise DownloadError(f"Could not download {url}: {reason}.\n" + _offline_help(cache_file))


def _parse_arff(data, source, target=None):
    """Parse a dense ARFF: numeric attributes and one nominal class attribute last.

    Returns ``(X, y)``: X uint8 (n, n_features) when every value is an integer
    in 0..255, else float64; y int64 (the class value itself when every class
    value is an integer, else its index in the declared list).
    """
    m = re.search(rb"^[ \t]*@data[ \t]*\r?$", data, re.IGNORECASE | re.MULTILINE)
    if m is None:
        raise DatasetError(f"{source}: not an ARFF file (no @DATA line)")
    header = data[:m.start()].decode("utf-8", "replace")
    attrs = []
    attr_re = re.compile(r"@attribute\s+('(?:[^'\\]|\\.)*'|\"(?:[^\"\\]|\\.)*\"|\S+)\s+(.+)$",
                         re.IGNORECASE)
    for line in header.splitlines():
        line = line.strip()
        if not line.lower().startswith("@attribute"):
            continue
        am = attr_re.match(line)
        if am is None:
            raise DatasetError(f"{source}: cannot read the attribute line {line[:80]!r}")
        name = am.group(1).strip("'\"")
        kind = am.group(2).strip()
        if kind.startswith("{"):
            if not kind.endswith("}"):
                raise DatasetError(f"{source}: unterminated nominal list in {line[:80]!r}")
            values = [v.strip().strip("'\"") for v in kind[1:-1].split(",")]
            attrs.append((name, "nominal", values))
        elif kind.lower() in ("numeric", "real", "integer"):
            attrs.append((name, "numeric", None))
        else:
            attrs.append((name, kind.split()[0].lower(), None))
    if len(attrs) < 2:
        raise DatasetError(f"{source}: expected feature attributes and a class attribute, "
                           f"found {len(attrs)} attribute(s)")
    names = [a[0] for a in attrs]
    if target is None:
        target = names[-1]
    if target not in names:
        raise DatasetError(f"{source}: the target attribute {target!r} is not declared")
    if names.index(target) != len(names) - 1:
        raise DatasetError(f"{source}: the target attribute {target!r} must be the last "
                           f"attribute, it is number {names.index(target) + 1} of {len(names)}")
    _, tkind, classes = attrs[-1]
    if tkind != "nominal":
        raise DatasetError(f"{source}: the target attribute {target!r} must be nominal, "
                           f"it is {tkind}")
    for name, kind, _ in attrs[:-1]:
        if kind != "numeric":
            raise DatasetError(f"{source}: attribute {name!r} is {kind}; only numeric "
                               "feature attributes are supported")
    try:
        class_values = [int(c) for c in classes]
    except ValueError:
        class_values = None
    n_attrs = len(attrs)

    body = data[m.end():]
    first = re.search(rb"^[ \t]*[^%\s][^\r\n]*", body, re.MULTILINE)
    if first is None:
        raise DatasetError(f"{source}: the @DATA section has no rows")
    if first.group(0).lstrip()[:1] == b"{":
        raise DatasetError(f"{source}: sparse ARFF rows ({{index value, ...}}) are "
                           "not supported")
    converters = None
    if class_values is None:  # named classes: y is the index in the declared list
        index = {c: i for i, c in enumerate(classes)}
        unknown = []

        def to_index(text):
            key = text.strip().strip("'\"")
            try:
                return index[key]
            except KeyError:
                unknown.append(key)
                raise ValueError(key) from None

        converters = {n_attrs - 1: to_index}
    quotechar = '"' if b'"' in first.group(0) else "'"
    try:
        table = _parse_table(body, source, comments="%", quotechar=quotechar,
                             converters=converters)
    except DatasetError:
        if converters and unknown:
            raise DatasetError(f"{source}: the class value {unknown[0]!r} is not one of "
                               f"the declared {classes}") from None
        raise
    if table.shape[1] != n_attrs:
        raise DatasetError(f"{source}: the data rows have {table.shape[1]} values, the "
                           f"header declares {n_attrs} attributes")
    labels = table[:, -1]
    if class_values is not None:
        known = np.isin(labels, class_values)
        if not known.all():
            i = int(np.argmin(known))
            raise DatasetError(f"{source}: data row {i + 1} has the class value "
                               f"{labels[i]:g}, not one of the declared {classes}")
    return np.ascontiguousarray(table[:, :-1]), labels.astype(np.int64)


def _read_cache(path):
    """Return (X, y) from a cache file, or raise DatasetError saying what is wrong."""
    try:
        with open(path, "rb") as f, np.load(f, allow_pickle=False) as npz:
            X = npz["X"]
            y = npz["y"]
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile) as exc:
        raise DatasetError(f"cannot read {path}: {type(exc).__name__}: {exc}") from None
    if X.dtype != np.uint8 or X.ndim != 2 or X.shape[0] == 0:
        raise DatasetError(f"{path}: X should be a non-empty 2-D uint8 array, "
                           f"got {X.dtype} with shape {X.shape}")
    if y.dtype != np.int64 or y.shape != (X.shape[0],):
        raise DatasetError(f"{path}: y should be int64 with shape ({X.shape[0]},), "
                           f"got {y.dtype} with shape {y.shape}")
    return X, y


def _write_cache(path, X, y, **meta):
    """Write the cache atomically: a temporary file in the same dir, then os.replace."""
    path = Path(path)
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.stem}-", suffix=".tmp")
    except OSError as exc:
        warnings.warn(f"cannot write the cache file {path} ({exc}); the data will be "
                      "downloaded again next time", stacklevel=3)
        return
    try:
        with os.fdopen(fd, "wb") as f:
            np.savez(f, X=X, y=y, **{k: np.asarray(v) for k, v in meta.items()})
        os.replace(tmp, path)
    except BaseException as exc:
        try:
            os.unlink(tmp)
        except OSError:
            pass
        if isinstance(exc, OSError):
            warnings.warn(f"cannot write the cache file {path} ({exc}); the data will "
                          "be downloaded again next time", stacklevel=3)
            return
        raise


def _fetch_openml(data_id, name, version, cache_dir, timeout, verbose):
    cache_file = get_data_home(cache_dir) / f"{name}-v{version}.npz"
    if cache_file.exists():
        try:
            return _read_cache(cache_file), cache_file
        except DatasetError as exc:
            warnings.warn(f"the cache file is corrupt and is downloaded again: {exc}",
                          stacklevel=3)
            try:
                cache_file.unlink()
            except OSError:
                pass

    base = _openml_base()
    desc_url = f"{base}/api/v1/json/data/{data_id}"
    body, _ = _download(desc_url, timeout, cache_file)
    try:
        desc = json.loads(body.decode("utf-8"))["data_set_description"]
        md5_expected = str(desc["md5_checksum"]).strip().lower()
    except (ValueError, KeyError, TypeError, UnicodeDecodeError) as exc:
        raise DatasetError(f"{desc_url} did not return an OpenML data set description "
                           f"with an md5_checksum ({type(exc).__name__}: {exc})") from None
    fmt = str(desc.get("format", "ARFF")).lower()
    if fmt != "arff":
        raise DatasetError(f"{desc_url}: data format {desc.get('format')!r} is not supported "
                           "(only dense ARFF)")
    if desc.get("url"):
        data_url = desc["url"]
    elif desc.get("file_id"):
        data_url = f"{base}/data/v1/download/{desc['file_id']}"
    else:
        raise DatasetError(f"{desc_url}: the description has neither 'url' nor 'file_id'")

    if verbose:
        print(f"Downloading {name} (OpenML data id {data_id}) from {data_url}; "
              f"it will be cached in {cache_file}", file=sys.stderr)
    arff, raw = _download(data_url, timeout, cache_file, verbose=verbose, desc=name)
    md5_arff = hashlib.md5(arff).hexdigest()
    if md5_arff != md5_expected and hashlib.md5(raw).hexdigest() != md5_expected:
        raise DatasetError(
            f"checksum mismatch for {data_url}: the description says md5 {md5_expected}, "
            f"the download has md5 {md5_arff}. The file is corrupt or was changed; "
            "nothing was cached. Try again later.")
    X, y = _parse_arff(arff, data_url, desc.get("default_target_attribute") or None)
    if X.dtype != np.uint8:
        raise DatasetError(f"{data_url}: expected integer pixel values 0..255, found values "
                           f"from {X.min()} to {X.max()}")
    _write_cache(cache_file, X, y, data_id=data_id, name=name, version=version,
                 md5_checksum=md5_expected)
    return (X, y), cache_file


def load_mnist(as_float=True, cache_dir=None, timeout=30.0, verbose=True, dtype=np.float32):
    """Load MNIST as OpenML's ``mnist_784`` version 1 (data id 554).

    The first call downloads the ARFF file (about 120 MB, or less when the
    server compresses it), checks its MD5 against OpenML's description, parses
    it and stores the arrays in ``<cache>/mnist_784-v1.npz``; later calls read
    that file (well under a second). The cache directory is the first of
    ``cache_dir``, ``$XNN_DATA_HOME``, ``$XDG_CACHE_HOME/xnn``, ``~/.cache/xnn``
    (see :func:`get_data_home`). ``$XNN_OPENML_URL`` selects another server.

    Parameters
    ----------
    as_float : bool
        True: ``X`` is float32 scaled to [0, 1] (pixel / 255).
        False: ``X`` is the raw uint8 pixels 0..255.
    cache_dir : str or path-like, optional
        Directory of the cache file.
    timeout : float
        Seconds to wait for the server on each network operation.
    verbose : bool
        Print where the data comes from and show a progress bar (tqdm) while
        downloading.
    dtype : float32 or float64
        dtype of ``X`` when ``as_float`` (float64 for exact teaching runs).

    Returns
    -------
    X : ndarray, shape (70000, 784)
        One image per row, rows 0..59999 are MNIST's training images and
        rows 60000..69999 its test images.
    y : ndarray of int64, shape (70000,)
        Labels 0..9.

    Raises
    ------
    DownloadError (a ConnectionError)
        No cache and the download failed (offline, timeout, cut off). The
        message lists the offline alternatives: :func:`load_digits`,
        :func:`load_idx_dir` / :func:`load_idx` with IDX files (e.g. in
        ``$XNN_MNIST_DIR``), :func:`load_csv`.
    DatasetError (a ValueError)
        The download does not match its checksum or cannot be parsed. Nothing
        is cached in that case.

    Examples
    --------
    >>> X, y = xnn.datasets.load_mnist()                         # doctest: +SKIP
    >>> X_train, X_test, y_train, y_test = xnn.datasets.split(X, y)  # doctest: +SKIP
    """
    (X, y), _ = _fetch_openml(MNIST_DATA_ID, MNIST_NAME, MNIST_VERSION,
                              cache_dir, timeout, verbose)
    if as_float:
        return _to_float(X, 255.0, dtype), y
    return X, y


# ---------------------------------------------------------------------------
# IDX files

_IDX_DTYPES = {
    0x08: np.dtype(np.uint8),
    0x09: np.dtype(np.int8),
    0x0B: np.dtype(">i2"),
    0x0C: np.dtype(">i4"),
    0x0D: np.dtype(">f4"),
    0x0E: np.dtype(">f8"),
}


def _parse_idx(data, path):
    if len(data) < 4:
        raise ValueError(f"{path} is not an IDX file: only {len(data)} bytes")
    magic = int.from_bytes(data[:4], "big")
    code, ndim = data[2], data[3]
    if data[:2] != b"\x00\x00" or code not in _IDX_DTYPES or ndim == 0:
        raise ValueError(f"{path} is not an IDX file: read the magic number 0x{magic:08X}, "
                         "expected 0x0000TTDD (TT a type code such as 08 for uint8, "
                         "DD the number of dimensions)")
    header = 4 + 4 * ndim
    if len(data) < header:
        raise ValueError(f"{path} is truncated: the {ndim}-D header needs {header} bytes, "
                         f"the file has {len(data)}")
    dims = tuple(int.from_bytes(data[4 + 4 * i:8 + 4 * i], "big") for i in range(ndim))
    dtype = _IDX_DTYPES[code]
    expected = header + math.prod(dims) * dtype.itemsize
    if len(data) != expected:
        state = "truncated" if len(data) < expected else "too long"
        raise ValueError(f"{path} is {state}: its header says shape {dims} of {dtype.name} "
                         f"({expected} bytes with the header), the file has {len(data)} bytes")
    arr = np.frombuffer(data, dtype=dtype, offset=header).reshape(dims)
    return magic, arr.astype(dtype.newbyteorder("="))


def read_idx(path):
    """Read any IDX file (gzip-compressed or raw) into an array of its header's shape.

    Compression is detected from the content (the gzip magic bytes 1f 8b), not
    from the file name. The header's type code gives the dtype (uint8, int8,
    int16, int32, float32, float64; big-endian on disk, native in the result).
    """
    path, data = _read_bytes(path, "IDX")
    return _parse_idx(data, path)[1]


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
    or image and label counts that differ.
    """
    ipath, data = _read_bytes(images, "images")
    magic, X = _parse_idx(data, ipath)
    if magic != 0x00000803:
        raise ValueError(f"images: {ipath} has the magic number 0x{magic:08X}, expected "
                         "0x00000803 (uint8, 3 dimensions: n, rows, cols)")
    X = X.reshape(X.shape[0], -1)
    y = None
    if labels is not None:
        lpath, data = _read_bytes(labels, "labels")
        magic, y = _parse_idx(data, lpath)
        if magic != 0x00000801:
            raise ValueError(f"labels: {lpath} has the magic number 0x{magic:08X}, "
                             "expected 0x00000801 (uint8, 1 dimension: n)")
        if y.shape[0] != X.shape[0]:
            raise ValueError(f"{ipath} holds {X.shape[0]} images but {lpath} holds "
                             f"{y.shape[0]} labels")
        y = y.astype(np.int64)
    if as_float:
        X = _to_float(X, 255.0, dtype)
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


# ---------------------------------------------------------------------------
# CSV


def load_csv(path, as_float=True, dtype=np.float32):
    """Load a label-first CSV: ``label,pixel0,...,pixel783`` (Kaggle's train.csv).

    The header line is optional (detected when its first field is not a
    number). The file may be gzip-compressed.

    Parameters
    ----------
    path : path
    as_float : bool
        True: X is float32 divided by its maximum (``X / X.max()``, as the lab
        report does), so in [0, 1] for non-negative pixels. False: the raw
        values, uint8 when they are all integers 0..255, else float32.
    dtype : float32 or float64
        dtype of ``X`` when ``as_float``.

    Returns
    -------
    X : ndarray, shape (n, n_columns - 1)
    y : ndarray of int64, shape (n,)
    """
    path, data = _read_bytes(path, "CSV")
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
    table = _parse_table(data, f"CSV file {path}", quotechar='"')
    if table.shape[1] < 2:
        raise ValueError(f"CSV file {path}: expected a label column and pixel columns, "
                         f"the data rows have {table.shape[1]} column")
    labels = table[:, 0]
    if table.dtype != np.uint8 and not np.all(labels == np.round(labels)):
        bad = labels[labels != np.round(labels)][0]
        raise ValueError(f"CSV file {path}: the first column holds labels and must be "
                         f"integers, found {bad}")
    y = labels.astype(np.int64)
    X = np.ascontiguousarray(table[:, 1:])
    if as_float:
        peak = float(X.max()) if X.size else 0.0
        return _to_float(X, peak if peak > 0 else None, dtype), y
    if X.dtype != np.uint8:
        X = X.astype(np.float32)
    return X, y


# ---------------------------------------------------------------------------
# offline default


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
        return _to_float(X, 16.0, dtype), y
    return X.astype(np.uint8), y


# ---------------------------------------------------------------------------
# preparing data


def split(X, y, test_size=0.2, seed=42):
    """Shuffle and split into training and test rows, like scikit-learn.

    Gives exactly the rows, in the same order, of
    ``sklearn.model_selection.train_test_split(X, y, test_size=test_size,
    random_state=seed)`` (without needing scikit-learn): a
    ``np.random.RandomState(seed)`` permutation whose first
    ``ceil(test_size * n)`` entries are the test rows and the rest the
    training rows.

    Parameters
    ----------
    X, y : array-like with the same number of rows
    test_size : float in (0, 1) or int in [1, n)
        Fraction or number of test rows.
    seed : int, None or numpy.random.RandomState
        Seed of the shuffle (as scikit-learn's ``random_state``); None gives a
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
        n_test = int(test_size)
    elif isinstance(test_size, (float, np.floating)):
        if not 0.0 < test_size < 1.0:
            raise ValueError(f"test_size={test_size} must be a float in (0, 1) or an int "
                             f"in [1, n - 1]")
        n_test = math.ceil(test_size * n)
    else:
        raise TypeError(f"test_size must be a float or an int, got {type(test_size).__name__}")
    n_train = n - n_test
    if n_train <= 0:
        raise ValueError(f"with {n} rows and test_size={test_size} the training set would "
                         "be empty")
    rng = seed if isinstance(seed, np.random.RandomState) else np.random.RandomState(seed)
    perm = rng.permutation(n)
    test_idx = perm[:n_test]
    train_idx = perm[n_test:]
    return X[train_idx], X[test_idx], y[train_idx], y[test_idx]


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
