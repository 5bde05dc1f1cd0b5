"""OpenML: ``load_mnist`` downloads ``mnist_784`` once and caches the arrays.

The client trusts OpenML as little as it can:

* it fetches only http(s) URLs on OpenML's hosts (``openml.org`` and its
  subdomains) or on the server that ``$XNN_OPENML_URL`` names; a data set
  description (or a redirect) that points anywhere else, ``file://`` paths
  included, is refused;
* a whole load, the description and the data file, ends by ``deadline``
  seconds (600 by default), however slowly the server sends;
* it reads at most 1 MiB of description and ``MNIST_MAX_BYTES`` (256 MiB,
  about twice the ARFF file) of data, compressed or decompressed (OpenML's
  description declares an MD5 but no size); ``Content-Encoding: gzip`` is
  decoded once, nested compression refused;
* the download must match the description's MD5 before it is parsed;
* the cache is an ``.npz`` read with ``allow_pickle=False``, whose arrays'
  declared shapes must match the bytes the file holds; a cache that does
  not is downloaded again.
"""

from __future__ import annotations

import functools
import http.client
import json
import math
import os
import re
import socket
import sys
import tempfile
import time
import urllib.error
import urllib.parse
import warnings
import zipfile
import zlib
from pathlib import Path

import numpy as np

from . import _http
from ._common import (
    DEFLATE_MAX_RATIO,
    DatasetError,
    DownloadError,
    check_seconds,
    float_dtype,
    parse_table,
    to_float,
)

__all__ = ["get_data_home", "load_mnist"]

OPENML_URL = "https://api.openml.org"
MNIST_DATA_ID = 554
MNIST_NAME = "mnist_784"
MNIST_VERSION = 1
#: the most bytes read for mnist_784's ARFF file (about 120 MB), compressed or not
MNIST_MAX_BYTES = 256 << 20
#: the most bytes read for a data set description (a few KB of JSON)
DESCRIPTION_MAX_BYTES = 1 << 20
#: the hosts trusted without configuration: openml.org and its subdomains
OPENML_DOMAIN = "openml.org"


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
    """The server: ``$XNN_OPENML_URL`` (an http or https URL) or OpenML's."""
    env = os.environ.get("XNN_OPENML_URL", "").strip().rstrip("/")
    if not env:
        return OPENML_URL
    try:
        parts = urllib.parse.urlsplit(env)
        host = parts.hostname
        parts.port  # noqa: B018  (raises ValueError for a malformed port)
    except ValueError as exc:
        raise DatasetError(f"$XNN_OPENML_URL={env!r} is not a valid URL: {exc}") from None
    if parts.scheme not in ("http", "https") or not host:
        raise DatasetError(f"$XNN_OPENML_URL must be an http or https URL of an OpenML "
                           f"server, got {env!r}")
    return env


def _is_openml_host(host):
    return host == OPENML_DOMAIN or host.endswith("." + OPENML_DOMAIN)


def _check_url(url, redirected_from=None, *, base):
    """Raise DatasetError unless ``url`` is http(s) on OpenML or on ``base``'s host."""
    where = f" (a redirect from {redirected_from})" if redirected_from else ""
    try:
        parts = urllib.parse.urlsplit(str(url))
        host = (parts.hostname or "").lower()
        port = parts.port
    except ValueError as exc:
        raise DatasetError(f"refusing to download {url!r}{where}: not a valid URL ({exc})"
                           ) from None
    if parts.scheme not in ("http", "https") or not host:
        raise DatasetError(f"refusing to download {url!r}{where}: only http and https URLs "
                           "are fetched")
    if _is_openml_host(host):
        return
    defaults = {"http": 80, "https": 443}
    b = urllib.parse.urlsplit(base)
    if host == (b.hostname or "").lower() and \
            (port or defaults[parts.scheme]) == (b.port or defaults.get(b.scheme)):
        return
    configured = (f"the server of $XNN_OPENML_URL ({base})" if base != OPENML_URL
                  else "a server set by $XNN_OPENML_URL")
    raise DatasetError(f"refusing to download {url!r}{where}: its host {host} is neither "
                       f"OpenML's ({OPENML_DOMAIN} and its subdomains) nor {configured}")


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


def _download(url, *, timeout, end, deadline, max_bytes, base, cache_file, what,
              verbose=False):
    """_http.http_get with every network failure turned into a DownloadError.

    Refused URLs, limits and encodings raise DatasetError as they are.
    """
    try:
        return _http.http_get(url, timeout=timeout, deadline=end, max_bytes=max_bytes,
                              check_url=functools.partial(_check_url, base=base),
                              what=what, text=True, verbose=verbose)
    except _http.DeadlineExceeded:
        reason = (f"it did not finish within deadline={deadline:g} s (the limit on the "
                  "whole load; pass a larger deadline= for a slow connection)")
    except urllib.error.HTTPError as exc:
        reason = f"the server answered HTTP {exc.code} {exc.reason}"
    except urllib.error.URLError as exc:
        reason = str(exc.reason)
    except (TimeoutError, socket.timeout):
        reason = f"no answer within timeout={timeout} s"
    except _http.Truncated as exc:
        reason = str(exc)
    except http.client.IncompleteRead as exc:
        reason = (f"the download was cut off: received {len(exc.partial)} bytes, "
                  f"{exc.expected} more expected")
    except (http.client.HTTPException, OSError) as exc:
        reason = f"{type(exc).__name__}: {exc}"
    raise DownloadError(f"Could not download {url}: {reason}.\n" + _offline_help(cache_file))


# ---------------------------------------------------------------------------
# ARFF


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
        table = parse_table(body, source, comments="%", quotechar=quotechar,
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


# ---------------------------------------------------------------------------
# the cache


def _read_member(zf, key, path, expect):
    """The array ``key`` of an open npz, checked against ``expect(shape, dtype)``
    (a message or None) and against the bytes the member holds before reading."""
    name = key + ".npy"
    try:
        info = zf.getinfo(name)
    except KeyError:
        raise DatasetError(f"{path} has no array {key!r}") from None
    if info.flag_bits & 0x1:
        raise DatasetError(f"{path}: {name} is encrypted")
    if info.compress_type == zipfile.ZIP_STORED:
        possible = info.compress_size
    elif info.compress_type == zipfile.ZIP_DEFLATED:
        possible = DEFLATE_MAX_RATIO * info.compress_size + 4096
    else:
        raise DatasetError(f"{path}: {name} uses zip compression method "
                           f"{info.compress_type}; np.savez writes stored members")
    if info.compress_size > os.path.getsize(path) or info.file_size > possible:
        raise DatasetError(f"{path}: {name} declares {info.file_size:,} bytes, more than "
                           "its file can hold")
    with zf.open(info) as f:
        version = np.lib.format.read_magic(f)
        if version not in ((1, 0), (2, 0)):
            raise DatasetError(f"{path}: {name} has .npy format version {version}, "
                               "expected 1.0 or 2.0")
        read_header = (np.lib.format.read_array_header_1_0 if version == (1, 0)
                       else np.lib.format.read_array_header_2_0)
        try:
            shape, fortran, dtype = read_header(f)
        except Exception as exc:  # NumPy parses the header text: any failure is a bad file
            raise DatasetError(f"{path}: {name} has an unreadable .npy header "
                               f"({type(exc).__name__}: {exc})") from None
        held = info.file_size - f.tell()
    problem = expect(shape, dtype)
    if problem:
        raise DatasetError(f"{path}: {key} should be {problem}, got {dtype} with shape "
                           f"{shape}")
    declared = math.prod(shape) * dtype.itemsize
    if declared != held:
        raise DatasetError(f"{path}: {name} declares shape {shape} of {dtype} "
                           f"({declared:,} bytes) but holds {held:,} bytes")
    with zf.open(info) as f:
        return np.lib.format.read_array(f, allow_pickle=False)


def _read_cache(path):
    """Return (X, y) from a cache file, or raise DatasetError saying what is wrong.

    Every array's header is checked against what the file can hold before
    anything is allocated, so a damaged or hostile file cannot make NumPy
    allocate more than the file's own size (or raise from its internals).
    """
    def expect_X(shape, dtype):
        if dtype != np.uint8 or len(shape) != 2 or shape[0] == 0:
            return "a non-empty 2-D uint8 array"
        return None

    try:
        with zipfile.ZipFile(path) as zf:
            X = _read_member(zf, "X", path, expect_X)
            n = X.shape[0]
            y = _read_member(zf, "y", path, lambda shape, dtype: None
                             if dtype == np.int64 and tuple(shape) == (n,)
                             else f"int64 with shape ({n},)")
    except DatasetError:
        raise
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error,
            RuntimeError, OverflowError, MemoryError, SyntaxError, TypeError) as exc:
        raise DatasetError(f"cannot read {path}: {type(exc).__name__}: {exc}") from None
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


def _fetch_openml(data_id, name, version, cache_dir, timeout, verbose, deadline=600.0,
                  max_bytes=None):
    """((X, y), cache file) of an OpenML data set, from the cache or downloaded.

    ``max_bytes`` bounds the data file (default ``MNIST_MAX_BYTES``).
    """
    if max_bytes is None:
        max_bytes = MNIST_MAX_BYTES
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
    end = time.monotonic() + deadline
    get = functools.partial(_download, timeout=timeout, end=end, deadline=deadline,
                            base=base, cache_file=cache_file)
    desc_url = f"{base}/api/v1/json/data/{data_id}"
    body = get(desc_url, max_bytes=DESCRIPTION_MAX_BYTES,
               what=f"the description of {name}").body
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
        if not isinstance(data_url, str):
            raise DatasetError(f"{desc_url}: the description's 'url' is not a string: "
                               f"{data_url!r}")
    elif desc.get("file_id"):
        file_id = str(desc["file_id"]).strip()
        if not file_id.isdigit():
            raise DatasetError(f"{desc_url}: the description's file_id {file_id!r} is not "
                               "a number")
        data_url = f"{base}/data/v1/download/{file_id}"
    else:
        raise DatasetError(f"{desc_url}: the description has neither 'url' nor 'file_id'")
    _check_url(data_url, base=base)

    if verbose:
        print(f"Downloading {name} (OpenML data id {data_id}) from {data_url}; "
              f"it will be cached in {cache_file}", file=sys.stderr)
    resp = get(data_url, max_bytes=max_bytes, what=name, verbose=verbose)
    if md5_expected not in (resp.md5_body, resp.md5_file):
        raise DatasetError(
            f"checksum mismatch for {data_url}: the description says md5 {md5_expected}, "
            f"the download has md5 {resp.md5_body}. The file is corrupt or was changed; "
            "nothing was cached. Try again later.")
    X, y = _parse_arff(resp.body, data_url, desc.get("default_target_attribute") or None)
    del resp
    if X.dtype != np.uint8:
        raise DatasetError(f"{data_url}: expected integer pixel values 0..255, found values "
                           f"from {X.min()} to {X.max()}")
    _write_cache(cache_file, X, y, data_id=data_id, name=name, version=version,
                 md5_checksum=md5_expected)
    return (X, y), cache_file


def load_mnist(as_float=True, cache_dir=None, timeout=30.0, verbose=True, dtype=np.float32,
               deadline=600.0):
    """Load MNIST as OpenML's ``mnist_784`` version 1 (data id 554).

    The first call downloads the ARFF file (about 120 MB, or less when the
    server compresses it), checks its MD5 against OpenML's description, parses
    it and stores the arrays in ``<cache>/mnist_784-v1.npz``; later calls read
    that file (well under a second). The cache directory is the first of
    ``cache_dir``, ``$XNN_DATA_HOME``, ``$XDG_CACHE_HOME/xnn``, ``~/.cache/xnn``
    (see :func:`get_data_home`). ``$XNN_OPENML_URL`` selects another server.

    Only http(s) URLs on OpenML (``openml.org`` and its subdomains) or on the
    ``$XNN_OPENML_URL`` server are fetched, at most 256 MiB
    (``MNIST_MAX_BYTES``) of data and 1 MiB of description are read, and the
    whole download ends within ``deadline`` seconds.

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
    deadline : float, default 600
        Seconds the whole download (description and data file, connecting
        and reading) may take, however slowly the server sends.

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
        No cache and the download failed (offline, timeout, deadline, cut
        off). The
        message lists the offline alternatives: :func:`load_digits`,
        :func:`load_idx_dir` / :func:`load_idx` with IDX files (e.g. in
        ``$XNN_MNIST_DIR``), :func:`load_csv`.
    DatasetError (a ValueError)
        The download does not match its checksum or cannot be parsed, is
        larger than its limit, comes compressed twice, or the description
        names a URL that is not OpenML's (or ``$XNN_OPENML_URL``'s). Nothing
        is cached in that case.

    Examples
    --------
    >>> X, y = xnn.datasets.load_mnist()                         # doctest: +SKIP
    >>> X_train, X_test, y_train, y_test = xnn.datasets.split(X, y)  # doctest: +SKIP
    """
    timeout = check_seconds(timeout, "timeout")
    deadline = check_seconds(deadline, "deadline")
    if as_float:
        float_dtype(dtype)
    (X, y), _ = _fetch_openml(MNIST_DATA_ID, MNIST_NAME, MNIST_VERSION,
                              cache_dir, timeout, verbose, deadline)
    if as_float:
        return to_float(X, 255.0, dtype), y
    return X, y
