"""Time series: the UCR/UEA archive's ``.ts`` files, read into NCL arrays.

:func:`load_ts` reads one ``.ts`` file (the format of the UCR/UEA archive
and of aeon's bundled data sets) into ``X`` of shape ``(m, channels,
length)``, what a Conv1d model takes. :func:`load_ucr` loads a data set by
name: from the copies that the ``aeon`` package ships (``pip install
"xnn[timeseries]"``), or from a directory of downloaded archive files.

The ``.ts`` format, as written by aeon and sktime:

* ``#`` lines describe the data set and are skipped (so are ``%`` lines);
* ``@`` lines are the header, case-insensitive: ``@problemName``,
  ``@timeStamps``, ``@missing``, ``@univariate``, ``@dimensions``,
  ``@equalLength``, ``@seriesLength``, ``@classLabel true <names...>`` or
  ``@classLabel false``, ``@targetLabel true`` (regression); ``@data`` ends it;
* then one case per line: the channels separated by ``:``, each a ``,``
  separated series, and the label last (``1.0,2.0,3.0:4.0,5.0,6.0:walking``).
  ``?`` and ``NaN`` mark missing values.
"""

from __future__ import annotations

import importlib.util
import os
import re
from pathlib import Path

import numpy as np

from ._common import (
    DEFAULT_MAX_BYTES,
    DatasetError,
    check_max_bytes,
    float_dtype,
    read_limited,
)

__all__ = ["load_ts", "load_ucr"]

_BOOLEAN_KEYS = ("timestamps", "missing", "univariate", "equallength", "targetlabel")
_EXTRA = 'pip install "xnn[timeseries]"'


class _UnequalLength(DatasetError):
    pass


def _header(lines, source):
    """Parse the header; return (meta, index of the first data line)."""
    meta = {"problemname": None, "timestamps": False, "missing": False, "univariate": None,
            "equallength": True, "classlabel": None, "targetlabel": False,
            "dimensions": None, "serieslength": None}
    for i, raw in enumerate(lines):
        line = raw.strip()
        if not line or line.startswith(("#", "%")):
            continue
        if not line.startswith("@"):
            raise DatasetError(f"{source}, line {i + 1}: expected a @ header line or a # "
                               f"comment before @data, found {line[:60]!r}")
        tokens = line.split()
        key = tokens[0][1:].lower()
        values = tokens[1:]
        where = f"{source}, line {i + 1} ({tokens[0]})"
        if key == "data":
            if values:
                raise DatasetError(f"{where}: @data takes no value, found {values[0]!r}")
            if meta["classlabel"] is None and not meta["targetlabel"]:
                raise DatasetError(f"{source}: the header has no @classLabel (true with the "
                                   "class names, or false) and no @targetLabel")
            return meta, i + 1
        if key in _BOOLEAN_KEYS:
            if len(values) != 1 or values[0].lower() not in ("true", "false"):
                raise DatasetError(f"{where}: expected true or false, found "
                                   f"{' '.join(values)!r}")
            meta[key] = values[0].lower() == "true"
        elif key == "classlabel":
            if not values or values[0].lower() not in ("true", "false"):
                raise DatasetError(f"{where}: expected true followed by the class names, or "
                                   f"false, found {' '.join(values)!r}")
            if values[0].lower() == "false":
                meta["classlabel"] = False
            else:
                names = values[1:]
                if not names:
                    raise DatasetError(f"{where}: @classLabel true must be followed by the "
                                       "class names")
                if len(set(names)) != len(names):
                    raise DatasetError(f"{where}: the class names {names} repeat")
                meta["classlabel"] = names
        elif key in ("dimensions", "serieslength"):
            if len(values) != 1 or not values[0].isdigit() or int(values[0]) < 1:
                raise DatasetError(f"{where}: expected a positive integer, found "
                                   f"{' '.join(values)!r}")
            meta[key] = int(values[0])
        elif key == "problemname":
            meta[key] = " ".join(values)
        # other tags are descriptive and ignored, as aeon does
    raise DatasetError(f"{source}: no @data line: not a .ts file")


def _class_order(names):
    """The declared names, sorted by value when they are all numbers."""
    try:
        values = [float(n) for n in names]
    except ValueError:
        return list(names)
    if any(v != v for v in values):
        return list(names)
    return [n for _, n in sorted(zip(values, names), key=lambda t: t[0])]


def load_ts(path, dtype=np.float32, max_bytes=DEFAULT_MAX_BYTES):
    """Read a ``.ts`` time-series file into ``(X, y, classes)``.

    Parameters
    ----------
    path : path
        A ``.ts`` file (gzip-compressed or not, detected from the content).
    dtype : float32 or float64
        dtype of ``X``.
    max_bytes : int, default 1 GiB
        The largest (decompressed) text read; beyond it a ValueError is raised
        at once, having held at most ``max_bytes`` bytes.

    Returns
    -------
    X : ndarray, shape (m, channels, length)
        One case per row, channels first (NCL, what Conv1d takes). Missing
        values (``?`` or ``NaN`` in the file) are NaN.
    y : ndarray or None
        With ``@classLabel true``: int64 class indices 0..k-1 into
        ``classes``. With ``@targetLabel true``: the float64 targets. With
        ``@classLabel false``: None.
    classes : list of str or None
        The class names of ``@classLabel``, in the header's order, or sorted
        by value when they are all numbers (so ``"1", "2", ..., "10"`` are
        classes 0..9); None without class labels.

    Raises
    ------
    FileNotFoundError for a missing file; ValueError naming the file and the
    line for: text beyond ``max_bytes``, a header without ``@data`` or
    without ``@classLabel``/``@targetLabel``, timestamps (not supported),
    values that are not numbers, infinite or beyond ``dtype``'s range, cases
    whose number of channels differs, series of unequal length (xnn needs one
    length; the archive's ``_eq`` versions are equal-length), and class
    labels that the header does not declare.
    """
    dtype = float_dtype(dtype)
    max_bytes = check_max_bytes(max_bytes)
    path, data = read_limited(path, ".ts", max_bytes, text=True)
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        raise DatasetError(f".ts file {path} is not UTF-8 text: {exc}") from None
    del data
    lines = text.splitlines()
    del text
    source = f".ts file {path}"
    meta, start = _header(lines, source)
    if meta["timestamps"]:
        raise DatasetError(f"{source}: @timeStamps true (values as (time,value) pairs) is "
                           "not supported; only plain series are")
    names = meta["classlabel"] if isinstance(meta["classlabel"], list) else None
    labelled = names is not None or meta["targetlabel"]
    classes = _class_order(names) if names is not None else None
    index = {n: k for k, n in enumerate(classes)} if classes is not None else None
    folded = {}
    if index is not None:
        for n, k in index.items():
            folded.setdefault(n.lower(), []).append(k)

    top = float(np.finfo(dtype).max)
    rows = [i for i in range(start, len(lines)) if lines[i].strip()]
    if not rows:
        raise DatasetError(f"{source}: no cases after @data")
    cases = []  # (channels, length) float64 arrays; X is allocated once they are known
    targets = np.empty(len(rows), dtype=np.int64 if names is not None else np.float64)
    for case, i in enumerate(rows):
        where = f"{source}, line {i + 1} (case {case + 1})"
        fields = lines[i].strip().split(":")
        if labelled:
            if len(fields) < 2:
                raise DatasetError(f"{where}: expected the channels and a label separated "
                                   "by ':', found no ':'")
            label = fields.pop().strip()
            if names is not None:
                k = index.get(label)
                if k is None:
                    matches = folded.get(label.lower(), [])
                    if len(matches) != 1:
                        raise DatasetError(f"{where}: the class label {label!r} is not one "
                                           f"of the declared {names}")
                    k = matches[0]
                targets[case] = k
            else:
                try:
                    targets[case] = float(label)
                except ValueError:
                    raise DatasetError(f"{where}: the target {label!r} is not a number"
                                       ) from None
        if not cases:  # the first case fixes the shape
            n_channels = len(fields)
            if meta["dimensions"] is not None and n_channels != meta["dimensions"]:
                raise DatasetError(f"{where}: {n_channels} channel(s), the header says "
                                   f"@dimensions {meta['dimensions']}")
            if meta["univariate"] and n_channels != 1:
                raise DatasetError(f"{where}: {n_channels} channels, the header says "
                                   "@univariate true")
            length = fields[0].count(",") + 1
        elif len(fields) != n_channels:
            raise DatasetError(f"{where}: {len(fields)} channel(s), the first case has "
                               f"{n_channels}")
        x = np.empty((n_channels, length), dtype=np.float64)
        for c, series in enumerate(fields):
            values = series.replace("?", "NaN").split(",")
            if len(values) != length:
                raise _UnequalLength(
                    f"{where}, channel {c + 1}: a series of length {len(values)}, the first "
                    f"has length {length}; xnn returns (m, channels, length) arrays, so "
                    "every series must have the same length (the archive's _eq versions "
                    "do)")
            try:
                v = np.array(values, dtype=np.float64)
            except ValueError as exc:
                raise DatasetError(f"{where}, channel {c + 1}: {exc}") from None
            with np.errstate(invalid="ignore"):
                if (np.abs(v) > top).any():  # False for NaN: missing values are kept
                    raise DatasetError(f"{where}, channel {c + 1}: a value beyond the "
                                       f"{dtype.name} range (an infinite one, or above "
                                       f"{top:.3g} in magnitude); values must be finite "
                                       "numbers (or ? / NaN for missing ones)")
            x[c] = v
        cases.append(x)
    X = np.empty((len(cases), n_channels, length), dtype=dtype)
    for k, x in enumerate(cases):
        X[k] = x
    del cases
    if not labelled:
        return X, None, None
    return X, targets, classes


# ---------------------------------------------------------------------------
# the UCR/UEA archive by name


def _aeon_data_dir():
    """The directory of the data sets aeon ships, found without importing aeon."""
    spec = importlib.util.find_spec("aeon")
    if spec is None or not spec.submodule_search_locations:
        return None
    return Path(list(spec.submodule_search_locations)[0]) / "datasets" / "data"


def _available(root):
    """{lower-case name: (directory, name)} of every <name>_TRAIN.ts in root and
    its sub-directories (one level, the archive's layout)."""
    found = {}
    dirs = [root] + sorted(p for p in root.iterdir() if p.is_dir())
    for d in dirs:
        for f in sorted(d.glob("*_TRAIN.ts")):
            name = f.name[:-len("_TRAIN.ts")]
            found.setdefault(name.lower(), (d, name))
    return found


def load_ucr(name, split=None, *, data_dir=None, dtype=np.float32,
             max_bytes=DEFAULT_MAX_BYTES):
    """Load a UCR/UEA time-series classification data set by name.

    Without ``data_dir``, the data set is one of those the ``aeon`` package
    ships (GunPoint, ItalyPowerDemand, ArrowHead, BasicMotions, OSULeaf,
    ACSF1, ..., JapaneseVowels_eq; ``pip install "xnn[timeseries]"``), read
    from aeon's files by :func:`load_ts` (aeon itself is not imported).
    With ``data_dir``, a directory of downloaded archive files
    (``<data_dir>/<name>/<name>_TRAIN.ts`` or ``<data_dir>/<name>_TRAIN.ts``),
    and aeon is not needed.

    Parameters
    ----------
    name : str
        The data set, e.g. ``"GunPoint"`` (case does not matter).
    split : {"train", "test", None}
        The archive's training or test cases; None: both, training cases
        first.
    data_dir : path, optional
        Where the ``.ts`` files are; default: aeon's bundled data.
    dtype : float32 or float64
        dtype of ``X``.
    max_bytes : int, default 1 GiB
        The largest file read (see :func:`load_ts`).

    Returns
    -------
    X : ndarray, shape (m, channels, length)
    y : ndarray of int64, shape (m,)
        Class indices 0..k-1.
    classes : list of str
        ``classes[y[i]]`` is case i's class name as the file writes it.

    Raises
    ------
    ImportError without ``data_dir`` when aeon is not installed (the message
    names the ``xnn[timeseries]`` extra); ValueError for an unknown name
    (listing the available ones), a regression or unlabelled data set, or
    series of unequal length (pointing to the ``_eq`` version when there is
    one); what :func:`load_ts` raises.

    Examples
    --------
    >>> X, y, classes = xnn.datasets.load_ucr("GunPoint", "train")  # doctest: +SKIP
    >>> X.shape, classes                                             # doctest: +SKIP
    ((50, 1, 150), ['1', '2'])
    """
    if not isinstance(name, str) or not re.fullmatch(r"[A-Za-z0-9][A-Za-z0-9_\-]*", name):
        raise ValueError(f"name must be a data set name such as 'GunPoint' (letters, "
                         f"digits, _ and -), got {name!r}")
    splits = {"train": ("TRAIN",), "test": ("TEST",), None: ("TRAIN", "TEST")}
    key = split.lower() if isinstance(split, str) else split
    if key not in splits:
        raise ValueError(f"split must be 'train', 'test' or None (both), got {split!r}")
    if data_dir is None:
        root = _aeon_data_dir()
        if root is None:
            raise ImportError(f"load_ucr({name!r}) reads the data sets that the aeon package "
                              f"ships, and aeon is not installed: {_EXTRA} (or pass "
                              "data_dir= with downloaded UCR .ts files, or read a file with "
                              "xnn.datasets.load_ts)")
        origin = "aeon's bundled data"
    else:
        root = Path(os.fspath(data_dir)).expanduser()
        origin = f"data_dir={str(root)!r}"
    if not root.is_dir():
        raise FileNotFoundError(f"{origin}: the directory {root} does not exist")
    available = _available(root)
    if name.lower() not in available:
        raise ValueError(f"no data set {name!r} in {origin} ({root}); available: "
                         f"{', '.join(sorted(n for _, n in available.values())) or 'none'}")
    directory, name = available[name.lower()]
    parts = []
    for part in splits[key]:
        path = directory / f"{name}_{part}.ts"
        try:
            X, y, classes = load_ts(path, dtype=dtype, max_bytes=max_bytes)
        except _UnequalLength as exc:
            eq = f"{name}_eq"
            hint = (f"; load_ucr({eq!r}) is its equal-length version"
                    if eq.lower() in available else "")
            raise DatasetError(f"{exc}{hint}") from None
        if classes is None:
            kind = "a regression problem (@targetLabel)" if y is not None else "unlabelled"
            raise ValueError(f"{path} is {kind}, not classification; read it with "
                             "xnn.datasets.load_ts")
        parts.append((X, y, classes))
    if len(parts) == 1:
        return parts[0]
    (X1, y1, c1), (X2, y2, c2) = parts
    if c1 != c2:
        raise DatasetError(f"{name}: the training file declares the classes {c1}, the test "
                           f"file {c2}")
    if X1.shape[1:] != X2.shape[1:]:
        raise DatasetError(f"{name}: training cases have shape {X1.shape[1:]} (channels, "
                           f"length), test cases {X2.shape[1:]}")
    return np.concatenate([X1, X2]), np.concatenate([y1, y2]), c1
