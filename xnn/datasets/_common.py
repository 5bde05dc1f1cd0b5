"""What the loaders share: the error types, bounded reading of (gzip) files,
comma-separated tables and the conversion to floats.

Every file is read through :class:`ByteSource`, which gunzips on the fly when
the content starts with the gzip magic bytes and never produces more bytes
than the caller asks for, so a reader can stop at its limit: a small gzip
file that inflates to gigabytes costs no more memory than the limit.
"""

from __future__ import annotations

import io
import os
import re
import zlib
from pathlib import Path

import numpy as np

GZIP_MAGIC = b"\x1f\x8b"
#: deflate's largest possible compression ratio (zlib's technical notes): a
#: gzip file of n bytes decompresses to at most about 1032 * n bytes
DEFLATE_MAX_RATIO = 1032
#: the default limit of the text readers (CSV, .ts): 1 GiB of (decompressed) text
DEFAULT_MAX_BYTES = 1 << 30

_IN_CHUNK = 1 << 16   # compressed bytes read at a time
_OUT_CHUNK = 1 << 20  # most decompressed bytes produced at a time


class DatasetError(ValueError):
    """Data that cannot be trusted: a wrong checksum, a malformed file, a
    file or download beyond its size limit."""


class DownloadError(ConnectionError):
    """A download failed (offline, refused, timed out, cut off, HTTP error).

    The message names the offline alternatives.
    """


class GzipError(DatasetError):
    """gzip data that cannot be decompressed: truncated or corrupt."""


def format_bytes(n):
    """``n`` bytes in words: ``'1 GiB'``, ``'256 MiB'``, ``'1,234 bytes'``."""
    n = int(n)
    for unit, shift in (("GiB", 30), ("MiB", 20), ("KiB", 10)):
        if n >= 1 << shift:
            value = n / (1 << shift)
            return f"{value:.0f} {unit}" if value == int(value) else f"{value:.1f} {unit}"
    return f"{n:,} bytes"


def check_max_bytes(max_bytes, name="max_bytes"):
    """``max_bytes`` as a positive int, or a TypeError/ValueError naming it."""
    if isinstance(max_bytes, (bool, np.bool_)) or not isinstance(max_bytes, (int, np.integer)):
        raise TypeError(f"{name} must be a positive int (a number of bytes), got {max_bytes!r}")
    if max_bytes < 1:
        raise ValueError(f"{name} must be a positive number of bytes, got {max_bytes}")
    return int(max_bytes)


def check_seconds(value, name):
    """``value`` as a positive finite float, or a TypeError/ValueError naming it."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, float, np.integer,
                                                                     np.floating)):
        raise TypeError(f"{name} must be a number of seconds, got {value!r}")
    value = float(value)
    if not 0.0 < value < float("inf"):
        raise ValueError(f"{name} must be a positive finite number of seconds, got {value}")
    return value


# ---------------------------------------------------------------------------
# gzip, incrementally and bounded


class Inflater:
    """Incremental gunzip: :meth:`feed` compressed bytes, get decompressed pieces.

    Each piece holds at most 1 MiB, whatever the compression ratio, so the
    caller decides after every piece whether to go on. Several gzip members
    one after another (what ``cat a.gz b.gz`` makes), with zero bytes of
    padding between or after them, are decompressed like :func:`gzip.decompress`
    does; anything else after the last member is an error, and so is a stream
    that ends inside a member (:meth:`close`).
    ``source`` names the data in the messages.
    """

    def __init__(self, source):
        self.source = source
        self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
        self._between = b""  # bytes after a member's end, not yet known to start another

    def _error(self, detail):
        return GzipError(f"{self.source} starts with the gzip magic bytes 1f 8b but cannot "
                         f"be decompressed (truncated or corrupt?): {detail}")

    def feed(self, data):
        """Yield the decompressed pieces of ``data`` (the next compressed bytes)."""
        while data:
            if self._d is None:  # between two members (zero padding is allowed, as in gzip)
                data = (self._between + data).lstrip(b"\x00")
                self._between = b""
                if not data:
                    return
                if len(data) < 2:
                    self._between = data
                    return
                if data[:2] != GZIP_MAGIC:
                    raise self._error(f"{len(data)} or more bytes after the end of the "
                                      "gzip data are not another gzip member")
                self._d = zlib.decompressobj(16 + zlib.MAX_WBITS)
            try:
                out = self._d.decompress(data, _OUT_CHUNK)
            except zlib.error as exc:
                raise self._error(exc) from None
            if out:
                yield out
            if self._d.eof:
                data = self._d.unused_data
                self._d = None
                continue
            tail = self._d.unconsumed_tail
            if tail and not out and len(tail) == len(data):  # no progress: never loop
                raise self._error("the decompressor made no progress")
            data = tail

    def close(self):
        """Yield what the decompressor still holds; raise if the data ended early."""
        if self._d is not None:
            while True:
                try:
                    out = self._d.decompress(b"", _OUT_CHUNK)
                except zlib.error as exc:
                    raise self._error(exc) from None
                if not out:
                    break
                yield out
            if not self._d.eof:
                raise self._error("the data ends inside a gzip member")
        if self._between:
            raise self._error("a stray byte after the end of the gzip data")


class ByteSource:
    """The bytes of a file, gunzipped on the fly when it starts with 1f 8b.

    Compression is detected from the content, not from the file name.
    :meth:`read` and :meth:`readinto` never decompress more than they were
    asked for (plus at most one 1 MiB piece held back for the next call).
    Use as a context manager.
    """

    def __init__(self, path, what):
        path = Path(os.fspath(path)).expanduser()
        if not path.exists():
            raise FileNotFoundError(f"{what} file not found: {path}")
        if path.is_dir():
            raise IsADirectoryError(f"{what} must be a file, got the directory {path}")
        self.path = path
        self.what = what
        self._f = open(path, "rb")
        try:
            self.size = os.fstat(self._f.fileno()).st_size
            self.gzip = self._f.read(2) == GZIP_MAGIC
            self._f.seek(0)
        except BaseException:
            self._f.close()
            raise
        self._held = b""
        self._pieces = self._generate()
        self.produced = 0  # bytes handed out so far

    def __enter__(self):
        return self

    def __exit__(self, *exc):
        self.close()

    def close(self):
        self._pieces.close()
        self._f.close()

    @property
    def max_size(self):
        """The most bytes this file can produce: its size, or for gzip the size
        times deflate's largest compression ratio."""
        if self.gzip:
            return DEFLATE_MAX_RATIO * self.size + 4096
        return self.size

    def _generate(self):
        if not self.gzip:
            while True:
                data = self._f.read(_IN_CHUNK)
                if not data:
                    return
                yield data
        inflater = Inflater(f"{self.what} file {self.path}")
        while True:
            data = self._f.read(_IN_CHUNK)
            if not data:
                break
            yield from inflater.feed(data)
        yield from inflater.close()

    def _next_piece(self):
        if self._held:
            piece, self._held = self._held, b""
            return piece
        return next(self._pieces, b"")

    def read(self, n):
        """Up to ``n`` bytes; fewer only at the end of the data."""
        parts, got = [], 0
        while got < n:
            piece = self._next_piece()
            if not piece:
                break
            if got + len(piece) > n:
                piece, self._held = piece[:n - got], piece[n - got:]
            parts.append(piece)
            got += len(piece)
        self.produced += got
        return b"".join(parts)

    def readinto(self, buffer):
        """Fill ``buffer`` (a writable buffer of bytes); return the bytes written."""
        view = memoryview(buffer).cast("B")
        n, got = len(view), 0
        if not self.gzip and not self._held:  # straight from the file
            while got < n:
                k = self._f.readinto(view[got:])
                if not k:
                    break
                got += k
        else:
            while got < n:
                piece = self._next_piece()
                if not piece:
                    break
                if got + len(piece) > n:
                    piece, self._held = piece[:n - got], piece[n - got:]
                view[got:got + len(piece)] = piece
                got += len(piece)
        self.produced += got
        return got


def read_limited(path, what, max_bytes, limit_name="max_bytes", text=False):
    """Return ``(path, data)``: the whole (decompressed) file, at most ``max_bytes``.

    Raises a :class:`DatasetError` naming the limit as soon as the file turns
    out larger, without holding more than ``max_bytes`` bytes; with
    ``text=True`` also at the first NUL byte (a binary file, or a gzip of
    zeros, is not text).
    """
    def too_big():
        return DatasetError(
            f"{what} file {src.path} is larger than {limit_name}={max_bytes:,} bytes "
            f"({format_bytes(max_bytes)}){' once decompressed' if src.gzip else ''}; "
            f"pass a larger {limit_name}= to read it")

    def check_text(piece, offset):
        nul = piece.find(b"\x00") if text else -1
        if nul >= 0:
            raise DatasetError(f"{what} file {src.path} holds a NUL byte at "
                               f"{'decompressed ' if src.gzip else ''}offset "
                               f"{offset + nul:,}: it is not a text file")

    with ByteSource(path, what) as src:
        if not src.gzip and src.size > max_bytes:
            raise too_big()
        if not src.gzip and Path(src.path).is_file():  # one read of the known size
            data = src._f.read(src.size + 1)
            if len(data) > src.size:
                raise DatasetError(f"{what} file {src.path} grew while it was read")
            check_text(data, 0)
            return src.path, data
        parts, total = [], 0  # gzip, or a pipe or device without a size
        while True:
            piece = src.read(min(_OUT_CHUNK, max_bytes + 1 - total))
            if not piece:
                break
            check_text(piece, total)
            total += len(piece)
            if total > max_bytes:
                raise too_big()
            parts.append(piece)
        data = b"".join(parts)
        del parts
        return src.path, data


# ---------------------------------------------------------------------------
# tables and floats


def float_dtype(dtype):
    dt = np.dtype(dtype)
    if dt not in (np.float32, np.float64):
        raise ValueError(f"dtype must be float32 or float64, got {dt}")
    return dt


def to_float(X, scale, dtype=np.float32):
    """X / scale as ``dtype``, correctly rounded."""
    dtype = float_dtype(dtype)
    if X.dtype == np.float64:  # divide first, round once
        return (X / scale if scale else X).astype(dtype)
    out = X.astype(dtype)  # integers: exact in dtype, so one rounding in the division
    if scale:
        out /= dtype.type(scale)
    return out


def parse_table(data, source, *, comments=None, quotechar=None, skiprows=0,
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
