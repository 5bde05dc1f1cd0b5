"""Peak memory of the dataset loaders on hostile inputs (decompression bombs,
oversized headers, a double-gzip HTTP answer).

    python benchmarks/dataset_limits.py                 # 1 GiB bombs
    python benchmarks/dataset_limits.py --size 256      # 256 MiB bombs
    python benchmarks/dataset_limits.py --pythonpath DIR   # another xnn tree

Every case runs in a fresh Python process: it imports xnn, notes its resident
set size, calls the loader and reports the RSS high-water mark
(``resource.getrusage``) above that baseline, the time and what the loader
raised. HTTP cases are answered by a server in this (the parent) process on
127.0.0.1, so its memory is not counted. The bombs are built without holding
their decompressed content: one compressed block, repeated.
"""
import argparse
import json
import os
import subprocess
import sys
import tempfile
import threading
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

HERE = os.path.dirname(os.path.abspath(__file__))
MIB = 1 << 20

CHILD = r"""
import json, os, resource, sys, time
import numpy as np
from xnn import datasets
try:
    from xnn.datasets import openml
except ImportError:  # a tree where datasets is one module
    openml = datasets

def rss():
    with open("/proc/self/statm") as f:
        return int(f.read().split()[1]) * os.sysconf("SC_PAGE_SIZE")

case = json.loads(sys.argv[1])
call = {
    "load_idx": lambda: datasets.load_idx(case["path"]),
    "read_idx": lambda: datasets.read_idx(case["path"]),
    "load_csv": lambda: datasets.load_csv(case["path"]),
    "load_ts": lambda: datasets.load_ts(case["path"]),
    "load_mnist": lambda: datasets.load_mnist(cache_dir=case["cache"], verbose=False,
                                              timeout=30),
    "read_cache": lambda: openml._read_cache(case["path"]),
}[case["loader"]]
base = rss()
t = time.perf_counter()
try:
    call()
    outcome = "returned"
except BaseException as exc:
    outcome = f"{type(exc).__name__}: {str(exc).splitlines()[0]}"
seconds = time.perf_counter() - t
peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss * 1024  # KiB on Linux
print(json.dumps({"outcome": outcome, "seconds": seconds, "peak": peak - base,
                  "base": base}))
"""


def gzip_repeated(block, n_blocks, prefix=b""):
    """gzip of ``prefix + block * n_blocks``: ``block`` is compressed once and its
    (full-flushed, so self-contained) deflate output repeated."""
    raw = zlib.compressobj(9, zlib.DEFLATED, -15)
    head = raw.compress(prefix) + raw.flush(zlib.Z_FULL_FLUSH)
    body = raw.compress(block) + raw.flush(zlib.Z_FULL_FLUSH)
    tail = raw.flush()
    crc = zlib.crc32(prefix)
    for _ in range(n_blocks):
        crc = zlib.crc32(block, crc)
    size = (len(prefix) + len(block) * n_blocks) & 0xFFFFFFFF
    header = b"\x1f\x8b\x08\x00\x00\x00\x00\x00\x02\xff"
    return b"".join([header, head, body * n_blocks, tail, crc.to_bytes(4, "little"),
                     size.to_bytes(4, "little")])


def idx_header(dims, code=0x08):
    return bytes([0, 0, code, len(dims)]) + b"".join(d.to_bytes(4, "big") for d in dims)


class Server:
    """Serves a description naming ``/data.arff`` and the given answer for it."""

    def __init__(self):
        self.answer = (b"", {})
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                if self.path.startswith("/api/v1/json/data/"):
                    body = json.dumps({"data_set_description": {
                        "format": "ARFF", "md5_checksum": "0" * 32,
                        "url": server.url + "/data.arff"}}).encode()
                    headers = {}
                else:
                    body, headers = server.answer
                self.send_response(200)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                try:
                    self.wfile.write(body)
                except OSError:
                    pass

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        threading.Thread(target=self.httpd.serve_forever, daemon=True).start()


def cases(size, tmp, server):
    """(name, child arguments, compressed size, what it inflates to)."""
    n_blocks = size // MIB
    zeros, text = bytes(MIB), b"1,0,0,0\n" * (MIB // 8)
    n_text = 2 * n_blocks  # beyond load_csv's default limit of 1 GiB for --size 1024

    def put(name, data):
        path = os.path.join(tmp, name)
        with open(path, "wb") as f:
            f.write(data)
        return path, len(data)

    out = []
    path, n = put("idx.gz", gzip_repeated(zeros, n_blocks, idx_header((10, 28, 28))))
    out.append(("IDX gzip of zeros after a (10, 28, 28) header", {"loader": "load_idx",
                                                                  "path": path}, n, size))
    huge = idx_header((2**31, 2**16, 2**16))
    path, n = put("huge.idx.gz", gzip_repeated(zeros, 1, huge))
    out.append(("IDX gzip, header declaring 2^63 bytes", {"loader": "read_idx", "path": path},
                n, MIB))
    path, n = put("huge.idx", huge + zeros)
    out.append(("IDX raw, header declaring 2^63 bytes", {"loader": "read_idx", "path": path},
                n, n))
    path, n = put("zeros.csv.gz", gzip_repeated(zeros, n_blocks))
    out.append(("CSV gzip of zeros", {"loader": "load_csv", "path": path}, n, size))
    path, n = put("text.csv.gz", gzip_repeated(text, n_text))
    out.append(("CSV gzip of text (limit max_bytes = 1 GiB)", {"loader": "load_csv",
                                                               "path": path}, n, 2 * size))
    path, n = put("zeros.ts.gz", gzip_repeated(zeros, n_blocks))
    out.append((".ts gzip of zeros", {"loader": "load_ts", "path": path}, n, size))
    cache = os.path.join(tmp, "cache")
    double = gzip_repeated(zeros, n_blocks)
    double = zlib.compress(double, 9, wbits=31)
    out.append(("HTTP Content-Encoding gzip of a gzip of zeros (double)",
                {"loader": "load_mnist", "cache": cache,
                 "answer": [double, {"Content-Encoding": "gzip"}]}, len(double), size))
    single = gzip_repeated(text, n_blocks)
    out.append(("HTTP Content-Encoding gzip of text (limit 256 MiB)",
                {"loader": "load_mnist", "cache": cache,
                 "answer": [single, {"Content-Encoding": "gzip"}]}, len(single), size))
    zeros_ce = gzip_repeated(zeros, n_blocks)
    out.append(("HTTP Content-Encoding gzip of zeros",
                {"loader": "load_mnist", "cache": cache,
                 "answer": [zeros_ce, {"Content-Encoding": "gzip"}]}, len(zeros_ce), size))
    import io
    import zipfile

    import numpy as np
    buf = io.BytesIO()
    np.save(buf, np.zeros((3, 784), np.uint8))
    npy = buf.getvalue().replace(b"(3, 784)", b"(2**26, 784)".replace(b"2**26", b"67108864"))
    n_head = int.from_bytes(npy[8:10], "little")
    head = npy[10:10 + n_head].rstrip(b" \n")
    npy = npy[:10] + head + b" " * (n_head - 1 - len(head)) + b"\n" + npy[10 + n_head:-9]
    ybuf = io.BytesIO()
    np.save(ybuf, np.zeros(3, np.int64))
    path = os.path.join(tmp, "mnist_784-v1.npz")
    with zipfile.ZipFile(path, "w") as zf:
        zf.writestr("X.npy", npy)
        zf.writestr("y.npy", ybuf.getvalue())
    out.append(("npz cache declaring (2^26, 784) uint8 (49 GiB)",
                {"loader": "read_cache", "path": path}, os.path.getsize(path), 49 << 30))
    return out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--size", type=int, default=1024,
                        help="MiB inside each bomb (default 1024)")
    parser.add_argument("--pythonpath", default=os.path.dirname(HERE),
                        help="the xnn tree to measure (default: this checkout)")
    parser.add_argument("--only", default="", help="run the cases whose name holds this")
    args = parser.parse_args()
    server = Server()
    env = dict(os.environ, XNN_OPENML_URL=server.url, no_proxy="127.0.0.1",
               NO_PROXY="127.0.0.1", OPENBLAS_NUM_THREADS="1",
               PYTHONPATH=os.pathsep.join([args.pythonpath, os.environ.get("PYTHONPATH", "")]))
    print(f"| case ({args.size} MiB bombs) | file | inflates to | outcome | s | peak RSS |")
    print("|---|---:|---:|---|---:|---:|")
    with tempfile.TemporaryDirectory() as tmp:
        for name, case, n_in, n_out in cases(args.size * MIB, tmp, server):
            if args.only and args.only not in name:
                continue
            answer = case.pop("answer", None)
            if answer is not None:
                server.answer = (answer[0], answer[1])
            proc = subprocess.run([sys.executable, "-c", CHILD, json.dumps(case)], env=env,
                                  capture_output=True, text=True, cwd=tmp)
            if proc.returncode != 0:
                print(f"| {name} | | | child failed: {proc.stderr.strip().splitlines()[-1]} | "
                      "| |")
                continue
            r = json.loads(proc.stdout.strip().splitlines()[-1])
            outcome = r["outcome"].replace("|", "/")
            if len(outcome) > 90:
                outcome = outcome[:87] + "..."
            print(f"| {name} | {n_in / 1e6:.2f} MB | {n_out / MIB:,.0f} MiB | {outcome} | "
                  f"{r['seconds']:.2f} | {max(r['peak'], 0) / MIB:,.1f} MiB |", flush=True)
    server.httpd.shutdown()


if __name__ == "__main__":
    main()
