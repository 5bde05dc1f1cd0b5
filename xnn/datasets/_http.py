"""A small, bounded HTTP(S) GET for the downloaders.

What it guarantees, whatever the server does:

* every URL, the first and each redirect, passes the caller's ``check_url``
  (and is http or https: there are no file, ftp or data handlers at all);
* the whole request (connecting, the headers, the body) ends by a deadline:
  a watchdog shuts the socket down when it passes, so a server that sends a
  byte every half second cannot hold the download open;
* no more than ``max_bytes`` are received or produced: a ``Content-Length``
  above the limit is refused before the body is read, a body is refused as
  soon as it passes the limit, and so is its decompressed content;
* ``Content-Encoding: gzip`` is decoded once; any other or nested encoding
  is refused. A body that is itself a gzip file (``.arff.gz`` served as it
  is) is decompressed once, within the same limit, and a gzip file inside
  ``Content-Encoding: gzip`` is refused.

Proxies from the environment (``https_proxy``, ``no_proxy``, ...) are used
as by :mod:`urllib`.
"""

from __future__ import annotations

import hashlib
import http.client
import socket
import threading
import time
import urllib.request

from ._common import GZIP_MAGIC, DatasetError, GzipError, Inflater, format_bytes

_READ = 1 << 16


class Truncated(Exception):
    """The body ended early or its compression is incomplete."""


class DeadlineExceeded(Exception):
    """The request did not finish by its deadline."""


class Response:
    """A finished download: the MD5s of the file as served (after the
    Content-Encoding) and of the body (after a file's own gzip), and ``body``
    (decoded), whose pieces are joined only when it is first asked for, so a
    checksum can be compared before the body takes twice its size."""

    def __init__(self, parts, md5_file, md5_body):
        self._parts = parts
        self._body = None
        self.md5_file = md5_file
        self.md5_body = md5_body

    @property
    def body(self):
        if self._body is None:
            self._body = b"".join(self._parts)
            self._parts = None
        return self._body


class _Watchdog:
    """Shuts down every socket of a request when its deadline passes."""

    def __init__(self, seconds):
        self.expired = False
        self._socks = []
        self._lock = threading.Lock()
        self._timer = threading.Timer(max(seconds, 0.0), self._fire)
        self._timer.daemon = True
        self._timer.start()

    def _fire(self):
        with self._lock:
            self.expired = True
            socks = list(self._socks)
        for sock in socks:
            _shutdown(sock)

    def register(self, sock):
        with self._lock:
            self._socks.append(sock)
            expired = self.expired
        if expired:
            _shutdown(sock)
        return sock

    def cancel(self):
        self._timer.cancel()


def _shutdown(sock):
    try:
        sock.shutdown(socket.SHUT_RDWR)
    except (OSError, ValueError):
        pass


def _watched(base, watchdog):
    """``base`` (an HTTP(S)Connection class) whose sockets the watchdog knows:
    the TCP socket as soon as it exists (so a TLS handshake or a proxy's
    CONNECT answer is watched too) and the socket the connection then uses."""

    class Connection(base):
        def __init__(self, *args, **kwargs):
            super().__init__(*args, **kwargs)
            create = getattr(self, "_create_connection", None)
            if create is not None:
                self._create_connection = lambda *a, **k: watchdog.register(create(*a, **k))

        def connect(self):
            super().connect()
            watchdog.register(self.sock)

    return Connection


class _HTTPHandler(urllib.request.HTTPHandler):
    def __init__(self, watchdog):
        super().__init__()
        self._connection = _watched(http.client.HTTPConnection, watchdog)

    def http_open(self, req):
        return self.do_open(self._connection, req)


class _HTTPSHandler(urllib.request.HTTPSHandler):
    def __init__(self, watchdog):
        super().__init__()
        self._connection = _watched(http.client.HTTPSConnection, watchdog)

    def https_open(self, req):
        return self.do_open(self._connection, req)


class _RedirectHandler(urllib.request.HTTPRedirectHandler):
    max_redirections = 5

    def __init__(self, check_url):
        super().__init__()
        self._check_url = check_url

    def redirect_request(self, req, fp, code, msg, headers, newurl):
        self._check_url(newurl, redirected_from=req.full_url)
        return super().redirect_request(req, fp, code, msg, headers, newurl)


def _opener(watchdog, check_url):
    """An opener with only what a GET of an http(s) URL needs."""
    opener = urllib.request.OpenerDirector()
    handlers = [urllib.request.ProxyHandler(), urllib.request.UnknownHandler(),
                _HTTPHandler(watchdog), urllib.request.HTTPDefaultErrorHandler(),
                _RedirectHandler(check_url), urllib.request.HTTPErrorProcessor()]
    if hasattr(http.client, "HTTPSConnection"):
        handlers.append(_HTTPSHandler(watchdog))
    for handler in handlers:
        opener.add_handler(handler)
    return opener


def _content_encoding(value, url):
    """True for gzip, False for none; DatasetError for anything else."""
    codings = [c.strip().lower() for c in (value or "").split(",")]
    codings = [c for c in codings if c and c != "identity"]
    if not codings:
        return False
    if codings in (["gzip"], ["x-gzip"]):
        return True
    raise DatasetError(f"{url}: the server sent Content-Encoding {value!r}; only a single "
                       "gzip encoding is accepted (nested or other encodings are refused)")


def http_get(url, *, timeout, deadline, max_bytes, check_url, what="download",
             text=False, verbose=False):
    """GET ``url`` and return a :class:`Response`, within the limits above.

    Parameters
    ----------
    url : str
    timeout : float
        Seconds to wait on each network operation (connecting, each read).
    deadline : float
        ``time.monotonic()`` by which the whole request must have finished.
    max_bytes : int
        The most bytes received, and the most bytes of the decoded body.
    check_url : callable(url, redirected_from=None)
        Raises when ``url`` may not be fetched; called for every redirect.
    what : str
        Names the download in messages and on the progress bar.
    text : bool
        The body is text: a NUL byte in it is refused at once.
    verbose : bool
        Show a tqdm progress bar.

    Raises
    ------
    DeadlineExceeded, Truncated, DatasetError (limits, encodings, URLs), and
    what urllib and http.client raise for network failures.
    """
    check_url(url)
    remaining = deadline - time.monotonic()
    if remaining <= 0:
        raise DeadlineExceeded()
    watchdog = _Watchdog(remaining)
    try:
        return _get(url, timeout, deadline, max_bytes, check_url, what, text, verbose,
                    watchdog)
    except (DatasetError, DeadlineExceeded):
        raise
    except Exception:
        if watchdog.expired or time.monotonic() >= deadline:
            raise DeadlineExceeded() from None
        raise
    finally:
        watchdog.cancel()


def _get(url, timeout, deadline, max_bytes, check_url, what, text, verbose, watchdog):
    limit = f"{format_bytes(max_bytes)} ({max_bytes:,} bytes), the limit for {what}"
    req = urllib.request.Request(url, headers={"Accept-Encoding": "gzip",
                                               "User-Agent": "xnn-datasets"})
    opener = _opener(watchdog, check_url)
    with opener.open(req, timeout=min(timeout, max(deadline - time.monotonic(), 1e-3))) as resp:
        encoded = _content_encoding(resp.headers.get("Content-Encoding"), url)
        try:
            total = int(resp.headers.get("Content-Length"))
        except (TypeError, ValueError):
            total = None
        if total is not None and total > max_bytes:
            raise DatasetError(f"{url}: the server announces {total:,} bytes, more than "
                               f"{limit}")
        bar = None
        if verbose:
            try:
                from tqdm import tqdm
            except ImportError:  # no progress bar; the caller printed the URL
                pass
            else:
                bar = tqdm(total=total, unit="B", unit_scale=True, unit_divisor=1024,
                           desc=what, leave=False)
        body = _Body(url, encoded, max_bytes, limit, text)
        received = 0
        try:
            while True:
                chunk = resp.read1(_READ)
                if watchdog.expired or time.monotonic() >= deadline:
                    raise DeadlineExceeded()
                if not chunk:
                    break
                received += len(chunk)
                if received > max_bytes:
                    raise DatasetError(f"{url}: the server sends more than {limit}")
                if bar is not None:
                    bar.update(len(chunk))
                body.feed(chunk)
        finally:
            if bar is not None:
                bar.close()
    if total is not None and received < total:
        raise Truncated(f"the download was cut off: received {received} of {total} bytes")
    return body.finish()


class _Body:
    """Decodes a body as it arrives: Content-Encoding, then a gzip file."""

    def __init__(self, url, encoded, max_bytes, limit, text):
        self.url = url
        self.max_bytes = max_bytes
        self.limit = limit
        self.text = text
        self.transport = Inflater(f"{url} (Content-Encoding: gzip)") if encoded else None
        self.file_gzip = None      # None: not known yet (fewer than 2 bytes seen)
        self.inflater = None
        self.head = b""
        self.md5_file = hashlib.md5()
        self.md5_body = hashlib.md5()
        self.parts = []
        self.size = 0

    def feed(self, chunk):
        try:
            if self.transport is None:
                self._file(chunk)
            else:
                for piece in self.transport.feed(chunk):
                    self._file(piece)
        except GzipError as exc:
            raise Truncated(f"the gzip-compressed download is incomplete or corrupt ({exc})"
                            ) from None

    def _file(self, piece):
        """The bytes of the file as served."""
        self.md5_file.update(piece)
        if self.file_gzip is None:
            self.head += piece
            if len(self.head) < 2:
                return
            piece, self.head = self.head, b""
            self.file_gzip = piece[:2] == GZIP_MAGIC
            if self.file_gzip:
                if self.transport is not None:
                    raise DatasetError(f"{self.url}: a gzip file inside Content-Encoding: "
                                       "gzip; nested compression is refused")
                self.inflater = Inflater(f"{self.url} (a gzip file)")
        if self.inflater is None:
            self._body(piece)
        else:
            for out in self.inflater.feed(piece):
                self._body(out)

    def _body(self, piece):
        if self.text:
            nul = piece.find(b"\x00")
            if nul >= 0:
                raise DatasetError(f"{self.url}: the download holds a NUL byte at offset "
                                   f"{self.size + nul:,}; it is not a text file")
        self.size += len(piece)
        if self.size > self.max_bytes:
            raise DatasetError(f"{self.url}: the download decompresses to more than "
                               f"{self.limit}")
        self.md5_body.update(piece)
        self.parts.append(piece)

    def finish(self):
        try:
            if self.transport is not None:
                for piece in self.transport.close():
                    self._file(piece)
            if self.file_gzip is None and self.head:  # a 1-byte body
                piece, self.head = self.head, b""
                self.file_gzip = False
                self._body(piece)
            if self.inflater is not None:
                for out in self.inflater.close():
                    self._body(out)
        except GzipError as exc:
            raise Truncated(f"the gzip-compressed download is incomplete or corrupt ({exc})"
                            ) from None
        parts, self.parts = self.parts, []
        return Response(parts, self.md5_file.hexdigest(), self.md5_body.hexdigest())
