"""The explorer without Jupyter: a page served by the standard library.

``serve(session, port)`` starts a ``ThreadingHTTPServer`` on 127.0.0.1 that
serves the page (``/``), its module and style (``/explorer.js``,
``/explorer.css``) and answers the page's JSON messages at ``POST /api``
with ``Session.handle`` (one request at a time: the model's C calls are
serialised by a lock). The standard library has no WebSocket, and one POST
per update is all the page needs.
"""
import json
import threading
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

__all__ = ["serve", "PAGE", "STATIC"]

STATIC = Path(__file__).resolve().parent / "static"
#: the largest request body accepted (a 4096 x 4096 drawing in base64 and then some)
MAX_BODY = 24 * 1024 * 1024

PAGE = """<!doctype html>
<html lang="en">
<head>
<meta charset="utf-8">
<meta name="viewport" content="width=device-width, initial-scale=1">
<title>xnn explorer</title>
<link rel="stylesheet" href="/explorer.css">
<style>body { margin: 0; padding: 12px; background: #e9ecf0; }</style>
</head>
<body>
<div id="app"></div>
<script type="module">
import { mount, httpTransport } from "/explorer.js";
mount(document.getElementById("app"), httpTransport("/api"));
</script>
</body>
</html>
"""


def _handler(session, lock, quiet):
    files = {"/explorer.js": ("explorer.js", "text/javascript; charset=utf-8"),
             "/explorer.css": ("explorer.css", "text/css; charset=utf-8")}

    class Handler(BaseHTTPRequestHandler):
        protocol_version = "HTTP/1.1"       # keep-alive: one connection for every update
        disable_nagle_algorithm = True      # answers leave at once, not after a delayed ACK
        server_version = "xnn-explorer"

        def log_message(self, fmt, *args):
            if not quiet:
                super().log_message(fmt, *args)

        def _send(self, code, body, ctype):
            self.send_response(code)
            self.send_header("Content-Type", ctype)
            self.send_header("Content-Length", str(len(body)))
            self.send_header("Cache-Control", "no-store")
            self.end_headers()
            self.wfile.write(body)

        def _json(self, code, obj):
            self._send(code, json.dumps(obj, separators=(",", ":")).encode("utf-8"),
                       "application/json")

        def do_GET(self):
            path = self.path.split("?", 1)[0]
            if path in ("/", "/index.html"):
                self._send(200, PAGE.encode("utf-8"), "text/html; charset=utf-8")
            elif path == "/favicon.ico":
                self.send_response(204)
                self.send_header("Content-Length", "0")
                self.end_headers()
            elif path in files:
                name, ctype = files[path]
                self._send(200, (STATIC / name).read_bytes(), ctype)
            else:
                self._json(404, {"kind": "error", "message": f"no such page: {path}"})

        def do_POST(self):
            if self.path.split("?", 1)[0] != "/api":
                self._json(404, {"kind": "error", "message": f"no such endpoint: {self.path}"})
                return
            try:
                n = int(self.headers.get("Content-Length", ""))
            except ValueError:
                self._json(411, {"kind": "error", "message": "Content-Length: expected a number"})
                return
            if not 0 <= n <= MAX_BODY:
                self.close_connection = True
                self._json(413, {"kind": "error",
                                 "message": f"request: expected at most {MAX_BODY} bytes, got {n}"})
                return
            raw = self.rfile.read(n)
            try:
                msg = json.loads(raw)
            except (UnicodeDecodeError, json.JSONDecodeError) as e:
                self._json(400, {"kind": "error", "message": f"request: not JSON: {e}"})
                return
            with lock:
                answer = session.handle(msg)
            self._json(400 if answer.get("kind") == "error" else 200, answer)

    return Handler


def serve(session, port=0, host="127.0.0.1", quiet=True):
    """A started ``ThreadingHTTPServer`` answering the explorer's page for
    ``session`` (an ``xnn.widgets.Session``) on ``host:port`` (port 0: a
    free one; ``server.server_address`` tells which). It serves in a
    daemon thread; ``server.shutdown()`` stops it."""
    lock = threading.Lock()
    server = ThreadingHTTPServer((host, port), _handler(session, lock, quiet))
    server.daemon_threads = True
    thread = threading.Thread(target=server.serve_forever, name="xnn-explorer", daemon=True)
    thread.start()
    server.thread = thread
    return server


def url(server):
    """The page's address of a server made by ``serve``."""
    host, port = server.server_address[:2]
    return f"http://{host}:{port}/"
