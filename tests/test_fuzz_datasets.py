"""Property-based fuzzing of the file readers: IDX, CSV, ARFF, the npz cache, .ts.

The contract: whatever the bytes (valid, truncated, corrupted, with oversized
headers, random, decompression bombs), a reader returns valid arrays or
raises a ValueError or an OSError with a message, never another exception
type, and never takes more memory than a bound set by its input and limits.

The default run is sized for well under a minute; ``XNN_FUZZ_LONG=1`` runs
twenty times as many examples, with a random seed (the default run is
derandomized, so that it is the same on every machine).
"""

import gzip
import io
import os
import tracemalloc
import zipfile
import zlib

import numpy as np
import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from xnn import datasets as ds
from xnn.datasets.openml import _parse_arff, _read_cache

LONG = os.environ.get("XNN_FUZZ_LONG", "").strip() not in ("", "0")
FACTOR = 20 if LONG else 1
#: the most memory (tracemalloc's peak) one reader call may take on these inputs
MEMORY_BOUND = 48 << 20
#: the text limit the CSV and .ts readers get here (bombs inflate beyond it)
TEXT_LIMIT = 1 << 20


def fuzz(n):
    return settings(max_examples=n * FACTOR, deadline=None, derandomize=not LONG,
                    database=None, print_blob=True,
                    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large,
                                           HealthCheck.filter_too_much])


@pytest.fixture(scope="module")
def fuzz_dir(tmp_path_factory):
    return tmp_path_factory.mktemp("fuzz")


def run(reader, *args, **kwargs):
    """Call a reader under the contract; return its result or None if it refused."""
    tracemalloc.start()
    try:
        return reader(*args, **kwargs)
    except (ValueError, OSError) as exc:
        message = str(exc)
        assert len(message) >= 10, f"{type(exc).__name__} without a clear message: {message!r}"
        return None
    finally:
        peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()
        assert peak < MEMORY_BOUND, f"{reader.__name__} took {peak:,} bytes"


def put(directory, data, name="f"):
    path = directory / name
    path.write_bytes(data)
    return path


# ---------------------------------------------------------------------------
# mutations shared by the formats


@st.composite
def mutated(draw, data, pack=True):
    """``data`` as it is, truncated, with bytes changed, inserted or appended,
    or replaced by random bytes; then perhaps gzip-compressed, and that gzip
    perhaps truncated or corrupted."""
    kind = draw(st.sampled_from(["same"] * 4 + ["cut", "flip", "insert", "append", "random"]))
    if kind == "cut" and data:
        data = data[:draw(st.integers(0, len(data) - 1))]
    elif kind == "flip" and data:
        buf = bytearray(data)
        for _ in range(draw(st.integers(1, 4))):
            buf[draw(st.integers(0, len(buf) - 1))] = draw(st.integers(0, 255))
        data = bytes(buf)
    elif kind == "insert":
        at = draw(st.integers(0, len(data)))
        data = data[:at] + draw(st.binary(min_size=1, max_size=8)) + data[at:]
    elif kind == "append":
        data = data + draw(st.binary(min_size=1, max_size=64))
    elif kind == "random":
        data = draw(st.binary(max_size=512))
    packing = draw(st.sampled_from(["raw"] * 5 + ["gzip"] * 2 + ["gzip-cut", "gzip-flip",
                                                                 "gzip2"]))
    if packing == "raw" or not pack:
        return data
    packed = gzip.compress(data, compresslevel=draw(st.integers(1, 9)))
    if packing == "gzip-cut":
        packed = packed[:draw(st.integers(0, len(packed) - 1))]
    elif packing == "gzip-flip":
        buf = bytearray(packed)
        buf[draw(st.integers(0, len(buf) - 1))] ^= draw(st.integers(1, 255))
        packed = bytes(buf)
    elif packing == "gzip2":  # two members, or a member and junk
        packed += draw(st.sampled_from([gzip.compress(b"1,2\n"), b"\x1f", b"\x00\x00", b"xyz"]))
    return packed


def gzip_of(prefix, n_zeros, fill=b"\x00"):
    """gzip of ``prefix`` followed by ``n_zeros`` copies of ``fill``, built in
    pieces (a bomb: small compressed, large decompressed)."""
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [co.compress(prefix)]
    block = fill * (1 << 16)
    for _ in range(n_zeros >> 16):
        out.append(co.compress(block))
    out += [co.compress(fill * (n_zeros & 0xFFFF)), co.flush()]
    return b"".join(out)


# ---------------------------------------------------------------------------
# IDX

IDX_CODES = {0x08: ">u1", 0x09: ">i1", 0x0B: ">i2", 0x0C: ">i4", 0x0D: ">f4", 0x0E: ">f8"}


@st.composite
def idx_files(draw):
    code = draw(st.sampled_from(sorted(IDX_CODES)))
    dims = draw(st.lists(st.integers(0, 6), min_size=1, max_size=4))
    n = int(np.prod(dims)) * np.dtype(IDX_CODES[code]).itemsize
    head = bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    if draw(st.booleans()):  # an oversized or random header
        big = draw(st.lists(st.integers(0, 2**32 - 1), min_size=1, max_size=5))
        head = bytes([0, 0, code, len(big)]) + b"".join(d.to_bytes(4, "big") for d in big)
    return draw(mutated(head + draw(st.binary(min_size=n, max_size=n))))


@st.composite
def idx_bombs(draw):
    dims = draw(st.lists(st.integers(1, 64), min_size=1, max_size=3))
    head = bytes([0, 0, 0x08, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)
    return gzip_of(head, draw(st.integers(0, 8 << 20)))


def check_idx(arr):
    assert isinstance(arr, np.ndarray) and arr.dtype.isnative
    assert arr.dtype in [np.dtype(t).newbyteorder("=") for t in IDX_CODES.values()]


@fuzz(250)
@given(data=st.one_of(idx_files(), idx_bombs()))
def test_fuzz_read_idx(fuzz_dir, data):
    arr = run(ds.read_idx, put(fuzz_dir, data))
    if arr is not None:
        check_idx(arr)


@fuzz(100)
@given(images=idx_files(), labels=idx_files(), as_float=st.booleans())
def test_fuzz_load_idx(fuzz_dir, images, labels, as_float):
    out = run(ds.load_idx, put(fuzz_dir, images, "i"), put(fuzz_dir, labels, "l"),
              as_float=as_float)
    if out is not None:
        X, y = out
        assert X.ndim == 2 and y.shape == (X.shape[0],) and y.dtype == np.int64
        if as_float:
            assert X.dtype == np.float32 and (X.size == 0 or 0 <= X.min() <= X.max() <= 1)
        else:
            assert X.dtype == np.uint8


# ---------------------------------------------------------------------------
# CSV

CSV_TOKENS = ["0", "1", "7", "255", "256", "-1", "2.5", "1e30", "nan", "inf", "-inf", "x",
              '"3"', "", " 4 ", "1e400", "0x10", "9" * 30, "-3e38", "1e-300"]


@st.composite
def csv_files(draw):
    n_cols = draw(st.integers(1, 6))
    hostile = draw(st.integers(0, 3)) == 0  # else well-formed values and rows
    token = (st.sampled_from(CSV_TOKENS) if hostile else
             st.one_of(st.integers(0, 255).map(str),
                       st.floats(-1e3, 1e3, allow_nan=False).map(repr)))
    label = st.sampled_from(CSV_TOKENS) if hostile else st.integers(0, 9).map(str)
    rows = draw(st.lists(st.tuples(label, st.lists(token, min_size=n_cols - 1,
                                                   max_size=n_cols - 1 + (1 if hostile else 0))
                                   ).map(lambda t: [t[0]] + t[1]),
                         min_size=0 if hostile else 1, max_size=8))
    lines = [",".join(r) for r in rows]
    if draw(st.booleans()):
        lines.insert(0, "label," + ",".join(f"p{i}" for i in range(n_cols - 1)))
    if draw(st.booleans()):
        lines.insert(draw(st.integers(0, len(lines))), draw(st.sampled_from(["", "  ", "\t"])))
    newline = draw(st.sampled_from(["\n", "\r\n"]))
    text = (draw(st.sampled_from(["", "\ufeff"])) + newline.join(lines) + newline).encode()
    return draw(mutated(text))


@st.composite
def csv_bombs(draw):
    line = draw(st.sampled_from([b"1,0,0,0\n", b"0", b"\x00", b"7,", b"\n"]))
    return gzip_of(b"", draw(st.integers(1 << 20, 8 << 20)) // len(line), fill=line)


@fuzz(300)
@given(data=st.one_of(csv_files(), csv_bombs()), as_float=st.booleans())
def test_fuzz_load_csv(fuzz_dir, data, as_float):
    out = run(ds.load_csv, put(fuzz_dir, data), as_float=as_float, max_bytes=TEXT_LIMIT)
    if out is not None:
        X, y = out
        assert X.ndim == 2 and y.shape == (X.shape[0],) and y.dtype == np.int64
        assert (y >= 0).all() and np.isfinite(X).all()
        assert X.dtype in (np.float32, np.uint8)


# ---------------------------------------------------------------------------
# ARFF

ARFF_KINDS = ["NUMERIC", "numeric", "REAL", "INTEGER", "STRING", "DATE", "{0,1,2}",
              "{'a','b'}", "{cat, dog}", "{", "{1e5,2}", "relational"]
ARFF_VALUES = ["0", "1", "2", "255", "-3", "0.5", "?", "'a'", "b", "cat", "dog", "1e5",
               "nan", "", "'x y'", '"2"']


@st.composite
def arff_files(draw):
    n = draw(st.integers(0, 4))
    hostile = draw(st.integers(0, 3)) == 0  # else a valid dense ARFF
    names = [draw(st.sampled_from(["p", "'a b'", '"q"', "class", "x"])) + str(i)
             for i in range(n)]
    kind = st.sampled_from(ARFF_KINDS) if hostile else st.sampled_from(["NUMERIC", "real",
                                                                        "INTEGER"])
    classes = draw(st.sampled_from(["{0,1,2}", "{'a','b'}", "{cat, dog}"]))
    lines = ["% fuzz", "@RELATION r"]
    lines += [f"@ATTRIBUTE {nm} {draw(kind)}" for nm in names]
    lines.append(f"@ATTRIBUTE class {draw(st.sampled_from(ARFF_KINDS)) if hostile else classes}")
    lines.append(draw(st.sampled_from(["@DATA", "@data", " @data ", "@DATA x"])
                      if hostile else st.just("@DATA")))
    labels = [v.strip(" '") for v in classes[1:-1].split(",")]
    value = (st.sampled_from(ARFF_VALUES) if hostile else
             st.one_of(st.integers(0, 255).map(str), st.floats(-9, 9, allow_nan=False).map(repr)))
    for _ in range(draw(st.integers(0 if hostile else 1, 5))):
        row = draw(st.lists(value, min_size=n, max_size=n + (2 if hostile else 0)))
        row.append(draw(st.sampled_from(ARFF_VALUES if hostile else labels)))
        lines.append(",".join(row))
        if draw(st.booleans()):
            lines.append(draw(st.sampled_from(["% c", "", "{0 1, 1 0}", "  "] if hostile
                                              else ["% c", ""])))
    text = draw(st.sampled_from(["\n", "\r\n"])).join(lines).encode()
    # the parser gets bytes the HTTP client has already decompressed: no gzip here
    target = draw(st.sampled_from([None, None, None, "class", "p0", "nope"]))
    return draw(mutated(text, pack=False)), target


@fuzz(300)
@given(case=arff_files())
def test_fuzz_parse_arff(case):
    data, target = case
    out = run(_parse_arff, data, "fuzz.arff", target)
    if out is not None:
        X, y = out
        assert X.ndim == 2 and y.shape == (X.shape[0],) and y.dtype == np.int64
        assert X.dtype in (np.uint8, np.float64)


# ---------------------------------------------------------------------------
# the npz cache


def npy(arr, header=None):
    buf = io.BytesIO()
    np.save(buf, arr)
    data = buf.getvalue()
    if header is None:
        return data
    n = int.from_bytes(data[8:10], "little")
    head = header.encode("latin1")[:n - 1]
    return data[:10] + head + b" " * (n - 1 - len(head)) + b"\n" + data[10 + n:]


@st.composite
def npz_files(draw):
    n = draw(st.integers(1, 5))
    X = np.asarray(draw(st.lists(st.integers(0, 255), min_size=n * 3, max_size=n * 3)),
                   dtype=np.uint8).reshape(n, 3)
    y = np.arange(n, dtype=np.int64)
    members = {"X.npy": npy(X), "y.npy": npy(y)}
    key = draw(st.sampled_from(["X.npy", "y.npy"]))
    change = draw(st.sampled_from(["none", "shape", "dtype", "header", "data", "drop", "name"]))
    if change == "shape":
        shape = tuple(draw(st.lists(st.integers(0, 2**62), min_size=0, max_size=3)))
        members[key] = npy(X if key == "X.npy" else y,
                           f"{{'descr': '|u1', 'fortran_order': False, 'shape': {shape!r}, }}"
                           if key == "X.npy" else
                           f"{{'descr': '<i8', 'fortran_order': False, 'shape': {shape!r}, }}")
    elif change == "dtype":
        descr = draw(st.sampled_from(["<f8", "|O", ">i8", "<i8", "|u1", "V0", "<U3", "x"]))
        members[key] = npy(X, f"{{'descr': '{descr}', 'fortran_order': False, "
                              f"'shape': {X.shape!r}, }}")
    elif change == "header":
        members[key] = npy(X, draw(st.sampled_from(["{", "[1, 2]", "{'descr': 1}", "__import__",
                                                    "{'descr': '|u1', 'shape': (3,)}"])))
    elif change == "data":
        members[key] = draw(mutated(members[key]))
    elif change == "drop":
        del members[key]
    elif change == "name":
        members["Z.npy"] = members.pop(key)
    compression = draw(st.sampled_from([zipfile.ZIP_STORED, zipfile.ZIP_DEFLATED]))
    buf = io.BytesIO()
    with zipfile.ZipFile(buf, "w", compression=compression) as zf:
        for name, data in members.items():
            zf.writestr(name, data)
    data = buf.getvalue()
    if draw(st.booleans()):
        data = draw(mutated(data))
    return data


@fuzz(300)
@given(data=npz_files())
def test_fuzz_read_cache(fuzz_dir, data):
    out = run(_read_cache, put(fuzz_dir, data, "c.npz"))
    if out is not None:
        X, y = out
        assert X.dtype == np.uint8 and X.ndim == 2 and X.shape[0] > 0
        assert y.dtype == np.int64 and y.shape == (X.shape[0],)


# ---------------------------------------------------------------------------
# .ts

TS_HEADERS = ["@problemName p", "@timeStamps false", "@timeStamps true", "@missing true",
              "@univariate true", "@univariate false", "@dimensions 2", "@dimensions x",
              "@equalLength false", "@seriesLength 3", "@classLabel true a b",
              "@classLabel true 1 2 10", "@classLabel false", "@classLabel true",
              "@targetLabel true", "# comment", "% comment", "", "junk"]
TS_VALUES = ["1", "2.5", "-3e2", "?", "NaN", "inf", "", "x", "1e400", "-1e300"]


@st.composite
def ts_files(draw):
    hostile = draw(st.integers(0, 3)) == 0  # else a valid file
    if hostile:
        lines = draw(st.lists(st.sampled_from(TS_HEADERS), max_size=6))
        lines.append(draw(st.sampled_from(["@data", "@DATA", "@data 1"])))
    else:
        lines = ["# fuzz", "@problemName p", draw(st.sampled_from(
            ["@classLabel true a b", "@classLabel true 1 2 10", "@targetLabel true",
             "@classLabel false"])), "@data"]
    labels = {"@classLabel true a b": ["a", "b", "A"], "@classLabel true 1 2 10": ["1", "10"],
              "@targetLabel true": ["0.5", "-2"], "@classLabel false": None}.get(lines[-2:][0])
    value = (st.sampled_from(TS_VALUES) if hostile else
             st.one_of(st.floats(-1e3, 1e3, allow_nan=False).map(repr), st.just("?")))
    n_ch, length = draw(st.integers(1, 3)), draw(st.integers(1, 4))
    for _ in range(draw(st.integers(0 if hostile else 1, 5))):
        extra = draw(st.integers(0, 1)) if hostile else 0
        chans = [",".join(draw(st.lists(value, min_size=length, max_size=length + extra)))
                 for _ in range(n_ch + extra)]
        if hostile:
            label = draw(st.sampled_from(["a", "b", "1", "10", "A", "0.5", "c", ""]))
            lines.append(":".join(chans) + (":" + label if draw(st.booleans()) else ""))
        else:
            lines.append(":".join(chans + ([draw(st.sampled_from(labels))] if labels else [])))
    return draw(mutated("\n".join(lines).encode()))


@fuzz(250)
@given(data=st.one_of(ts_files(), csv_bombs()))
def test_fuzz_load_ts(fuzz_dir, data):
    out = run(ds.load_ts, put(fuzz_dir, data, "f.ts"), max_bytes=TEXT_LIMIT)
    if out is not None:
        X, y, classes = out
        assert X.ndim == 3 and X.dtype == np.float32 and not np.isinf(X).any()
        if y is not None:
            assert y.shape == (X.shape[0],)
        if classes is not None:
            assert y.dtype == np.int64 and ((0 <= y) & (y < len(classes))).all()
