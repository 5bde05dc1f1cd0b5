"""Tests of xnn.datasets. No network: OpenML is a server started on 127.0.0.1."""

import gzip
import hashlib
import io
import json
import os
import socket
import threading
import time
import tracemalloc
import warnings
import zipfile
import zlib
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest
from _deps import require

from xnn import datasets as ds
from xnn.datasets.openml import _parse_arff

# ---------------------------------------------------------------------------
# a small OpenML-shaped server

N_ROWS, N_PIXELS = 30, 20
FILE_ID = 52667
DESC_PATH = "/api/v1/json/data/554"
ARFF_PATH = f"/data/v1/download/{FILE_ID}/mnist_784.arff"


def make_data(n=N_ROWS, d=N_PIXELS, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.integers(0, 256, size=(n, d), dtype=np.uint8)
    X[0, :] = 0
    X[1, :] = 255
    y = np.arange(n, dtype=np.int64) % 10
    rng.shuffle(y)
    return X, y


def make_arff(X, y, quote_labels=True, newline="\n"):
    q = "'" if quote_labels else ""
    lines = ["% the digits, as OpenML serves mnist_784", "@RELATION mnist_784", ""]
    lines += [f"@ATTRIBUTE pixel{i + 1} NUMERIC" for i in range(X.shape[1])]
    lines.append("@ATTRIBUTE class {" + ",".join(f"{q}{c}{q}" for c in range(10)) + "}")
    lines += ["", "@DATA"]
    lines += [",".join(map(str, row.tolist())) + f",{q}{lab}{q}"
              for row, lab in zip(X, y, strict=True)]
    return (newline.join(lines) + newline).encode()


class OpenMLServer:
    """http.server in a thread; ``routes[path] = (status, headers, body, length)``,
    or a function of the request handler that writes the answer itself."""

    def __init__(self):
        self.routes = {}
        self.hits = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.hits.append(self.path)
                route = server.routes.get(self.path, (404, {}, b'{"error": "not found"}', None))
                if callable(route):  # a route that writes its own answer
                    route(self)
                    return
                status, headers, body, length = route
                self.send_response(status)
                for k, v in headers.items():
                    self.send_header(k, v)
                self.send_header("Content-Length", str(len(body) if length is None else length))
                self.end_headers()
                self.wfile.write(body)

        self.httpd = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.httpd.daemon_threads = True
        self.url = f"http://127.0.0.1:{self.httpd.server_port}"
        self.thread = threading.Thread(target=self.httpd.serve_forever, args=(0.02,), daemon=True)
        self.thread.start()
        self.running = True

    def publish(self, X, y, *, gzip_file=False, content_encoding=False, md5=None,
                cut_to=None, arff=None, url=None):
        arff = make_arff(X, y) if arff is None else arff
        description = {"data_set_description": {
            "id": "554", "name": "mnist_784", "version": "1", "format": "ARFF",
            "upload_date": "2014-09-29T03:28:38", "licence": "Public",
            "url": self.url + ARFF_PATH if url is None else url, "file_id": str(FILE_ID),
            "default_target_attribute": "class", "visibility": "public",
            "status": "active", "md5_checksum": md5 or hashlib.md5(arff).hexdigest(),
        }}
        self.routes[DESC_PATH] = (200, {"Content-Type": "application/json"},
                                  json.dumps(description).encode(), None)
        body = gzip.compress(arff) if (gzip_file or content_encoding) else arff
        headers = {"Content-Type": "text/plain"}
        if content_encoding:
            headers["Content-Encoding"] = "gzip"
        length = None
        if cut_to is not None:
            length, body = len(body), body[:cut_to]
        self.routes[ARFF_PATH] = (200, headers, body, length)

    def stop(self):
        if self.running:
            self.httpd.shutdown()
            self.httpd.server_close()
            self.running = False


@pytest.fixture
def clean_env(monkeypatch, tmp_path):
    for var in ("http_proxy", "HTTP_PROXY", "https_proxy", "HTTPS_PROXY", "all_proxy",
                "ALL_PROXY", "XNN_DATA_HOME", "XNN_OPENML_URL", "XNN_MNIST_DIR"):
        monkeypatch.delenv(var, raising=False)
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setenv("XDG_CACHE_HOME", str(tmp_path / "xdg"))
    return monkeypatch


@pytest.fixture
def server(clean_env):
    srv = OpenMLServer()
    clean_env.setenv("XNN_OPENML_URL", srv.url + "/")
    yield srv
    srv.stop()


@pytest.fixture
def cache(tmp_path):
    return tmp_path / "cache"


def closed_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def files_in(directory):
    return sorted(p.name for p in directory.iterdir()) if directory.exists() else []


# ---------------------------------------------------------------------------
# load_mnist over HTTP


def test_mnist_download_then_cache(server, cache):
    X, y = make_data()
    server.publish(X, y)
    Xf, yf = ds.load_mnist(cache_dir=cache, verbose=False, timeout=5)
    assert Xf.dtype == np.float32 and Xf.shape == (N_ROWS, N_PIXELS)
    assert yf.dtype == np.int64 and np.array_equal(yf, y)
    np.testing.assert_array_equal(Xf, X.astype(np.float32) / np.float32(255))
    assert Xf.min() == 0.0 and Xf.max() == 1.0
    assert files_in(cache) == ["mnist_784-v1.npz"]
    assert server.hits == [DESC_PATH, ARFF_PATH]

    server.stop()
    t = time.perf_counter()
    Xu, yu = ds.load_mnist(as_float=False, cache_dir=cache, verbose=False, timeout=1)
    assert time.perf_counter() - t < 1.0
    assert Xu.dtype == np.uint8 and np.array_equal(Xu, X) and np.array_equal(yu, y)
    X64, _ = ds.load_mnist(cache_dir=cache, verbose=False, dtype=np.float64)
    np.testing.assert_array_equal(X64, X / 255.0)


@pytest.mark.parametrize("how", ["gzip_file", "content_encoding"])
def test_mnist_gzip_compressed_arff(server, cache, how):
    X, y = make_data(seed=1)
    server.publish(X, y, **{how: True})
    Xu, yu = ds.load_mnist(as_float=False, cache_dir=cache, verbose=False)
    assert np.array_equal(Xu, X) and np.array_equal(yu, y)


def test_mnist_unquoted_labels_crlf_and_progress_bar(server, cache, capsys):
    require("tqdm")
    X, y = make_data(seed=2)
    server.publish(X, y, arff=make_arff(X, y, quote_labels=False, newline="\r\n"))
    Xu, yu = ds.load_mnist(as_float=False, cache_dir=cache, verbose=True)
    assert np.array_equal(Xu, X) and np.array_equal(yu, y)
    err = capsys.readouterr().err
    assert "mnist_784" in err and str(cache) in err


def test_mnist_cache_dir_from_environment(server, clean_env, tmp_path):
    X, y = make_data()
    server.publish(X, y)
    clean_env.setenv("XNN_DATA_HOME", str(tmp_path / "home"))
    ds.load_mnist(verbose=False)
    assert files_in(tmp_path / "home") == ["mnist_784-v1.npz"]
    clean_env.delenv("XNN_DATA_HOME")
    ds.load_mnist(verbose=False)
    assert files_in(tmp_path / "xdg" / "xnn") == ["mnist_784-v1.npz"]


def test_get_data_home_order(clean_env, tmp_path):
    assert ds.get_data_home() == tmp_path / "xdg" / "xnn"
    clean_env.setenv("XNN_DATA_HOME", str(tmp_path / "h"))
    assert ds.get_data_home() == tmp_path / "h"
    assert ds.get_data_home(tmp_path / "c") == tmp_path / "c"
    clean_env.delenv("XNN_DATA_HOME")
    clean_env.delenv("XDG_CACHE_HOME")
    clean_env.setenv("HOME", str(tmp_path / "user"))
    assert ds.get_data_home() == tmp_path / "user" / ".cache" / "xnn"


def test_mnist_wrong_checksum_writes_no_cache(server, cache):
    X, y = make_data()
    server.publish(X, y, md5="0" * 32)
    with pytest.raises(ds.DatasetError, match="checksum") as excinfo:
        ds.load_mnist(cache_dir=cache, verbose=False)
    assert isinstance(excinfo.value, ValueError)
    assert "0" * 32 in str(excinfo.value)
    assert files_in(cache) == []


@pytest.mark.parametrize("gz", [False, True])
def test_mnist_cut_off_download_writes_no_cache(server, cache, gz):
    X, y = make_data()
    server.publish(X, y, gzip_file=gz, cut_to=200)
    t = time.perf_counter()
    with pytest.raises(ConnectionError, match="cut off") as excinfo:
        ds.load_mnist(cache_dir=cache, verbose=False, timeout=5)
    assert time.perf_counter() - t < 4
    assert "load_digits" in str(excinfo.value)
    assert files_in(cache) == []


def test_mnist_unreachable_server_is_a_clear_offline_error(clean_env, cache):
    clean_env.setenv("XNN_OPENML_URL", f"http://127.0.0.1:{closed_port()}")
    t = time.perf_counter()
    with pytest.raises(ConnectionError) as excinfo:
        ds.load_mnist(cache_dir=cache, verbose=False, timeout=2)
    assert time.perf_counter() - t < 3
    err = excinfo.value
    assert isinstance(err, ds.DownloadError)
    msg = str(err)
    for name in ("load_digits()", "load_idx", "XNN_MNIST_DIR", "mnist_784-v1.npz"):
        assert name in msg
    assert err.__cause__ is None and err.__context__ is None
    assert files_in(cache) == []


def test_mnist_silent_server_times_out(clean_env, cache):
    listener = socket.socket()
    listener.bind(("127.0.0.1", 0))
    listener.listen(1)  # accepts the connection in the kernel, never answers
    try:
        clean_env.setenv("XNN_OPENML_URL", f"http://127.0.0.1:{listener.getsockname()[1]}")
        t = time.perf_counter()
        with pytest.raises(ConnectionError, match="load_digits"):
            ds.load_mnist(cache_dir=cache, verbose=False, timeout=0.3)
        assert time.perf_counter() - t < 3
    finally:
        listener.close()


def test_mnist_http_error(server, cache):
    with pytest.raises(ConnectionError, match="HTTP 404"):
        ds.load_mnist(cache_dir=cache, verbose=False)
    server.routes[DESC_PATH] = (200, {}, b"<html>not json</html>", None)
    with pytest.raises(ds.DatasetError, match="description"):
        ds.load_mnist(cache_dir=cache, verbose=False)
    assert files_in(cache) == []


def test_mnist_corrupt_cache_is_refetched(server, cache):
    X, y = make_data()
    server.publish(X, y)
    cache.mkdir()
    (cache / "mnist_784-v1.npz").write_bytes(b"PK\x03\x04 not really a zip file")
    with pytest.warns(UserWarning, match="corrupt"):
        Xu, yu = ds.load_mnist(as_float=False, cache_dir=cache, verbose=False)
    assert np.array_equal(Xu, X) and np.array_equal(yu, y)
    server.stop()
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        Xu, _ = ds.load_mnist(as_float=False, cache_dir=cache, verbose=False)
    assert np.array_equal(Xu, X)


def test_mnist_cache_with_wrong_shapes_and_no_server(clean_env, cache):
    clean_env.setenv("XNN_OPENML_URL", f"http://127.0.0.1:{closed_port()}")
    cache.mkdir()
    np.savez(cache / "mnist_784-v1.npz", X=np.zeros((3, 4), np.uint8), y=np.zeros(5, np.int64))
    with pytest.warns(UserWarning, match="shape"), pytest.raises(ConnectionError):
        ds.load_mnist(cache_dir=cache, verbose=False, timeout=2)
    assert files_in(cache) == []


def test_mnist_malformed_arff_writes_no_cache(server, cache):
    X, y = make_data()
    arff = make_arff(X, y).replace(b",255,", b",255,,", 1)
    server.publish(X, y, arff=arff)
    with pytest.raises(ds.DatasetError, match="number of columns changed from 21 to 22"):
        ds.load_mnist(cache_dir=cache, verbose=False)
    assert files_in(cache) == []


# ---------------------------------------------------------------------------
# the ARFF parser


def test_arff_parser_rows_and_labels():
    X, y = make_data(n=50, d=7, seed=3)
    Xp, yp = _parse_arff(make_arff(X, y), "t.arff")
    assert Xp.dtype == np.uint8 and np.array_equal(Xp, X) and np.array_equal(yp, y)


def test_arff_parser_blank_lines_comments_double_quotes():
    arff = (b"@RELATION r\r\n@ATTRIBUTE p1 INTEGER\r\n@ATTRIBUTE p2 INTEGER\r\n"
            b'@ATTRIBUTE class {"3","8"}\r\n@DATA\r\n% first\r\n  \r\n'
            b'1,2,"8"\r\n\r\n% between\r\n3,4,"3"\r\n')
    Xp, yp = _parse_arff(arff, "t.arff")
    assert Xp.dtype == np.uint8
    np.testing.assert_array_equal(Xp, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(yp, [8, 3])


def test_arff_parser_nominal_names_and_floats():
    arff = (b"@relation r\n@attribute 'a b' real\n@attribute x numeric\n"
            b"@attribute kind {cat, dog}\n@data\n0.5,2,dog\n% comment\n\n1e1,-3,'cat'\n")
    Xp, yp = _parse_arff(arff, "t.arff")
    assert Xp.dtype == np.float64
    np.testing.assert_array_equal(Xp, [[0.5, 2.0], [10.0, -3.0]])
    np.testing.assert_array_equal(yp, [1, 0])


@pytest.mark.parametrize("arff, message", [
    (b"@relation r\n@attribute x numeric\n@attribute c {0,1}\n", "no @DATA"),
    (b"@attribute x numeric\n@attribute c {0,1}\n@data\n{0 1, 1 0}\n", "sparse"),
    (b"@attribute x string\n@attribute c {0,1}\n@data\nab,1\n", "string"),
    (b"@attribute x numeric\n@attribute c numeric\n@data\n1,2\n", "must be nominal"),
    (b"@attribute x numeric\n@attribute c {0,1}\n@data\n1,1\n1,7\n",
     r"row 2 has the class value 7, not one of the declared \['0', '1'\]"),
    (b"@attribute x numeric\n@attribute c {a,b}\n@data\n1,a\n1,cow\n",
     "the class value 'cow' is not one of the declared"),
    (b"@attribute x numeric\n@attribute c {0,1}\n@data\n?,1\n", "could not convert string '\\?'"),
    (b"@attribute x numeric\n@attribute c {0,1}\n@data\n1,2,1\n",
     "the data rows have 3 values, the header declares 2 attributes"),
    (b"@attribute x numeric\n@attribute c {0,1}\n@data\n1,1\n2,3,1\n",
     "number of columns changed from 2 to 3"),
    (b"@attribute x numeric\n@attribute c {0,1}\n@data\n% only a comment\n", "no rows"),
])
def test_arff_parser_rejects(arff, message):
    with pytest.raises(ds.DatasetError, match=message):
        _parse_arff(arff, "t.arff")


def test_arff_parser_target_attribute():
    arff = b"@attribute c {0,1}\n@attribute x numeric\n@data\n1,2\n"
    with pytest.raises(ds.DatasetError, match="'c' must be the last attribute, it is number 1"):
        _parse_arff(arff, "t.arff", target="c")
    with pytest.raises(ds.DatasetError, match="'z' is not declared"):
        _parse_arff(arff, "t.arff", target="z")


# ---------------------------------------------------------------------------
# IDX files


def idx_bytes(arr, magic=None):
    arr = np.asarray(arr)
    if magic is None:
        magic = (0x08 << 8) | arr.ndim
    head = magic.to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in arr.shape)
    return head + arr.astype(arr.dtype.newbyteorder(">")).tobytes()


def write(path, data, gz=False):
    path.write_bytes(gzip.compress(data) if gz else data)
    return path


@pytest.fixture
def digits_idx():
    rng = np.random.default_rng(5)
    images = rng.integers(0, 256, size=(12, 4, 3), dtype=np.uint8)
    labels = rng.integers(0, 10, size=12).astype(np.uint8)
    return images, labels


@pytest.mark.parametrize("gz", [False, True])
def test_idx_round_trip(tmp_path, digits_idx, gz):
    images, labels = digits_idx
    # compression is detected from the bytes: the names deliberately lie
    ipath = write(tmp_path / ("imgs.raw" if gz else "imgs.gz"), idx_bytes(images), gz)
    lpath = write(tmp_path / "labs", idx_bytes(labels), gz)
    X, y = ds.load_idx(ipath, lpath)
    assert X.dtype == np.float32 and X.shape == (12, 12)
    np.testing.assert_array_equal(X, images.reshape(12, -1) / np.float32(255))
    assert y.dtype == np.int64 and np.array_equal(y, labels)
    Xu, yn = ds.load_idx(str(ipath), as_float=False)
    assert Xu.dtype == np.uint8 and np.array_equal(Xu, images.reshape(12, -1)) and yn is None


def test_read_idx_other_types(tmp_path):
    a = np.arange(-6, 6, dtype=np.int32).reshape(3, 4)
    np.testing.assert_array_equal(ds.read_idx(write(tmp_path / "i", idx_bytes(a, 0x0C02))), a)
    f = np.linspace(-1, 1, 5, dtype=np.float32)
    out = ds.read_idx(write(tmp_path / "f", idx_bytes(f, 0x0D01), gz=True))
    assert out.dtype == np.float32 and np.array_equal(out, f)


def test_idx_bad_magic(tmp_path, digits_idx):
    images, labels = digits_idx
    good = write(tmp_path / "images", idx_bytes(images))
    labs = write(tmp_path / "labels", idx_bytes(labels))
    with pytest.raises(ValueError, match=r"labels.*0x00000801, expected 0x00000803"):
        ds.load_idx(labs)
    with pytest.raises(ValueError, match=r"0x00000803, expected 0x00000801"):
        ds.load_idx(good, good)
    bad = write(tmp_path / "bad", b"\x12\x34\x56\x78" + bytes(20))
    with pytest.raises(ValueError, match=r"bad is not an IDX file.*0x12345678"):
        ds.load_idx(bad)
    with pytest.raises(ValueError, match="only 2 bytes"):
        ds.load_idx(write(tmp_path / "tiny", b"\x00\x00"))


def test_idx_truncated_and_too_long(tmp_path, digits_idx):
    images, labels = digits_idx
    data = idx_bytes(images)
    with pytest.raises(ValueError, match=r"truncated.*\(12, 4, 3\)"):
        ds.load_idx(write(tmp_path / "cut", data[:-5]))
    with pytest.raises(ValueError, match="truncated: the 3-D header"):
        ds.load_idx(write(tmp_path / "head", data[:9]))
    with pytest.raises(ValueError, match="too long"):
        ds.load_idx(write(tmp_path / "long", data + b"\x00"))
    gz = gzip.compress(data)
    with pytest.raises(ValueError, match="cannot be decompressed"):
        ds.load_idx(write(tmp_path / "cut.gz", gz[: len(gz) // 2]))


def test_idx_count_mismatch_and_missing(tmp_path, digits_idx):
    images, labels = digits_idx
    ipath = write(tmp_path / "images", idx_bytes(images))
    lpath = write(tmp_path / "labels", idx_bytes(labels[:-1]))
    with pytest.raises(ValueError, match="12 images but .* 11 labels"):
        ds.load_idx(ipath, lpath)
    missing = tmp_path / "nope-images-idx3-ubyte.gz"
    with pytest.raises(FileNotFoundError, match="nope-images-idx3-ubyte.gz"):
        ds.load_idx(missing)


def test_idx_dir(tmp_path, clean_env, digits_idx):
    images, labels = digits_idx
    d = tmp_path / "mnist"
    d.mkdir()
    write(d / "train-images-idx3-ubyte.gz", idx_bytes(images[:8]), gz=True)
    write(d / "train-labels-idx1-ubyte.gz", idx_bytes(labels[:8]), gz=True)
    write(d / "t10k-images.idx3-ubyte", idx_bytes(images[8:]))
    write(d / "t10k-labels.idx1-ubyte", idx_bytes(labels[8:]))
    X, y = ds.load_idx_dir(d, as_float=False)
    assert np.array_equal(X, images.reshape(12, -1)) and np.array_equal(y, labels)
    Xt, yt = ds.load_idx_dir(d, kind="t10k")
    assert Xt.shape == (4, 12) and np.array_equal(yt, labels[8:])
    clean_env.setenv("XNN_MNIST_DIR", str(d))
    Xtr, _ = ds.load_idx_dir(kind="train", as_float=False)
    assert np.array_equal(Xtr, images[:8].reshape(8, -1))
    (d / "train-labels-idx1-ubyte.gz").unlink()
    with pytest.raises(FileNotFoundError, match="train-labels-idx1-ubyte"):
        ds.load_idx_dir(d)
    with pytest.raises(ValueError, match="kind must be one of"):
        ds.load_idx_dir(d, kind="val")
    with pytest.raises(FileNotFoundError, match="no MNIST IDX files"):
        ds.load_idx_dir(tmp_path)
    clean_env.delenv("XNN_MNIST_DIR")
    with pytest.raises(ValueError, match="XNN_MNIST_DIR"):
        ds.load_idx_dir()


# ---------------------------------------------------------------------------
# CSV


def csv_bytes(X, y, header=True):
    lines = []
    if header:
        lines.append("label," + ",".join(f"pixel{i}" for i in range(X.shape[1])))
    lines += [f"{lab}," + ",".join(map(str, row.tolist())) for row, lab in zip(X, y, strict=True)]
    return ("\n".join(lines) + "\n").encode()


@pytest.mark.parametrize("header", [True, False])
@pytest.mark.parametrize("gz", [False, True])
def test_csv(tmp_path, header, gz):
    X, y = make_data(n=9, d=6, seed=6)
    X[1, :] = 200  # the maximum, not 255: the scale is X.max()
    X[X > 200] = 7
    path = write(tmp_path / "train.csv", csv_bytes(X, y, header), gz)
    Xf, yf = ds.load_csv(path)
    assert Xf.dtype == np.float32 and yf.dtype == np.int64
    np.testing.assert_array_equal(Xf, X.astype(np.float32) / np.float32(200))
    assert np.array_equal(yf, y)
    Xu, _ = ds.load_csv(path, as_float=False)
    assert Xu.dtype == np.uint8 and np.array_equal(Xu, X)


def test_csv_float_values_and_crlf(tmp_path):
    path = write(tmp_path / "f.csv", b"label,a,b\r\n1,0.5,2\r\n0,1.5,4.0\r\n")
    Xf, y = ds.load_csv(path)
    np.testing.assert_allclose(Xf, [[0.125, 0.5], [0.375, 1.0]])
    np.testing.assert_array_equal(y, [1, 0])
    Xr, _ = ds.load_csv(path, as_float=False)
    assert Xr.dtype == np.float32


@pytest.mark.parametrize("text, message", [
    (b"label,p0,p1\n1,2,3\n4,5\n", "number of columns changed from 3 to 2"),
    (b"1,2,3\n4,x,6\n", "bad.csv: could not convert string 'x'"),
    (b"1.5,2,3\n", "must be integers, found 1.5"),
    (b"label,p0\n", "no data rows"),
    (b"\n\n", "is empty"),
    (b"1\n2\n", "the data rows have 1 column"),
])
def test_csv_rejects(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        ds.load_csv(write(tmp_path / "bad.csv", text))


def test_csv_missing_file(tmp_path):
    with pytest.raises(FileNotFoundError, match="train.csv"):
        ds.load_csv(tmp_path / "train.csv")


# ---------------------------------------------------------------------------
# digits, split, one_hot


def test_digits():
    require("sklearn")
    X, y = ds.load_digits()
    assert X.shape == (1797, 64) and X.dtype == np.float32
    assert X.min() == 0.0 and X.max() == 1.0
    assert y.dtype == np.int64 and set(np.unique(y)) == set(range(10))
    Xu, _ = ds.load_digits(as_float=False)
    assert Xu.dtype == np.uint8 and Xu.max() == 16
    np.testing.assert_array_equal(X, Xu.astype(np.float32) / np.float32(16))
    with pytest.raises(ValueError, match="float32 or float64"):
        ds.load_digits(dtype=np.int32)


@pytest.mark.parametrize("n", [2, 5, 37, 100, 1001])
@pytest.mark.parametrize("test_size", [0.2, 0.25, 0.33, 0.5, 1])
@pytest.mark.parametrize("seed", [0, 42])
def test_split_equals_train_test_split(n, test_size, seed):
    model_selection = require("sklearn.model_selection")
    X = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    y = np.arange(n) % 10
    ours = ds.split(X, y, test_size=test_size, seed=seed)
    theirs = model_selection.train_test_split(X, y, test_size=test_size, random_state=seed)
    assert len(ours) == 4
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_split_accepts_a_random_state():
    model_selection = require("sklearn.model_selection")
    X, y = np.arange(40).reshape(20, 2), np.arange(20)
    ours = ds.split(X, y, 0.3, seed=np.random.RandomState(3))
    theirs = model_selection.train_test_split(X, y, test_size=0.3,
                                              random_state=np.random.RandomState(3))
    for a, b in zip(ours, theirs, strict=True):
        assert np.array_equal(a, b)


def test_split_mnist_sizes_and_lists():
    X = np.zeros((70000, 1), np.uint8)
    X_train, X_test, y_train, y_test = ds.split(X, np.zeros(70000))
    assert (len(X_train), len(X_test), len(y_train), len(y_test)) == (56000, 14000, 56000, 14000)
    X_train, X_test, _, _ = ds.split([[1], [2], [3], [4], [5]], [1, 2, 3, 4, 5], 0.4, seed=1)
    assert sorted(X_train.ravel().tolist() + X_test.ravel().tolist()) == [1, 2, 3, 4, 5]


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"test_size": 0.0}, ValueError, r"test_size=0.0"),
    ({"test_size": 1.0}, ValueError, r"test_size=1.0"),
    ({"test_size": 10}, ValueError, r"test_size=10 must be an int in \[1, 9\]"),
    ({"test_size": "0.2"}, TypeError, "test_size must be a float or an int"),
    ({"test_size": True}, TypeError, "test_size must be a float or an int"),
])
def test_split_rejects(kwargs, exc, message):
    with pytest.raises(exc, match=message):
        ds.split(np.zeros((10, 2)), np.zeros(10), **kwargs)


def test_split_length_mismatch():
    with pytest.raises(ValueError, match="X 10 and y 9"):
        ds.split(np.zeros((10, 2)), np.zeros(9))


def test_one_hot():
    out = ds.one_hot([2, 0, 1, 2])
    assert out.dtype == np.float32
    np.testing.assert_array_equal(out, [[0, 0, 1], [1, 0, 0], [0, 1, 0], [0, 0, 1]])
    out = ds.one_hot(np.array([1.0, 3.0]), n_classes=5, dtype=np.float64)
    assert out.dtype == np.float64 and out.shape == (2, 5)
    np.testing.assert_array_equal(out.argmax(1), [1, 3])
    assert ds.one_hot(np.array([], dtype=np.int64), n_classes=3).shape == (0, 3)


@pytest.mark.parametrize("y, kwargs, exc, message", [
    ([[1, 2]], {}, ValueError, r"1-D .* shape \(1, 2\)"),
    ([0, 10], {"n_classes": 10}, ValueError, "label 10, which does not fit n_classes=10"),
    ([-1, 0], {}, ValueError, "found -1"),
    ([0.5], {}, ValueError, "non-integer"),
    (["a"], {}, TypeError, "dtype <U1"),
    ([0], {"n_classes": 0}, ValueError, "n_classes must be >= 1"),
    ([0], {"n_classes": 2.0}, TypeError, "n_classes must be an int"),
])
def test_one_hot_rejects(y, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        ds.one_hot(y, **kwargs)


def test_module_documents_cache_and_offline_use():
    doc = ds.__doc__
    for word in ("XNN_DATA_HOME", "XDG_CACHE_HOME", "load_digits", "XNN_MNIST_DIR",
                 "XNN_OPENML_URL", "offline"):
        assert word in doc
    for name in ds.__all__:
        assert getattr(ds, name).__doc__, name
    # a package with one module per source
    assert os.path.basename(ds.__file__) == "__init__.py"
    import importlib
    for module in ("_http", "openml", "idx", "csv", "digits", "prepare", "ucr"):
        assert importlib.import_module(f"xnn.datasets.{module}").__doc__, module
    assert ds.split.__module__ == "xnn.datasets.prepare" and callable(ds.split)


# ---------------------------------------------------------------------------
# bounded inputs: decompression bombs, slow servers, foreign URLs, bad caches

from xnn.datasets import openml  # noqa: E402


def gzip_zeros(n_bytes, prefix=b"", suffix=b"", layers=1):
    """gzip of ``prefix + n_bytes zeros + suffix``, compressed ``layers`` times,
    without ever holding the zeros (a decompression bomb)."""
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    out = [co.compress(prefix)]
    block = bytes(1 << 20)
    for _ in range(n_bytes >> 20):
        out.append(co.compress(block))
    out += [co.compress(bytes(n_bytes & ((1 << 20) - 1))), co.compress(suffix), co.flush()]
    data = b"".join(out)
    for _ in range(layers - 1):
        data = gzip.compress(data)
    return data


def gzip_text(line, n_lines):
    co = zlib.compressobj(9, zlib.DEFLATED, 31)
    block = line * max(1, (1 << 20) // len(line))
    per = (1 << 20) // len(line)
    out = [co.compress(block) for _ in range(n_lines // per)]
    return b"".join(out + [co.compress(line * (n_lines % per)), co.flush()])


class peak_memory:
    """tracemalloc's high-water mark (bytes) of the block; NumPy reports its
    buffers to tracemalloc too."""

    def __enter__(self):
        tracemalloc.start()
        tracemalloc.reset_peak()
        return self

    def __exit__(self, *exc):
        self.peak = tracemalloc.get_traced_memory()[1]
        tracemalloc.stop()


def test_idx_gzip_bomb_stops_at_the_declared_size(tmp_path):
    head = (0x0803).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big") for d in (10, 28, 28))
    path = write(tmp_path / "bomb", gzip_zeros(64 << 20, prefix=head))  # 64 MiB inside
    t = time.perf_counter()
    with peak_memory() as mem, pytest.raises(ValueError, match=r"too long: its header says "
                                                 r"shape \(10, 28, 28\) of uint8 \(7,856 bytes"):
        ds.load_idx(path)
    assert time.perf_counter() - t < 2.0
    assert mem.peak < 8 << 20


@pytest.mark.parametrize("gz", [False, True])
def test_idx_oversized_header_is_refused_before_allocating(tmp_path, gz):
    head = (0x0803).to_bytes(4, "big") + b"".join(d.to_bytes(4, "big")
                                                  for d in (2**31, 2**16, 2**16))
    path = write(tmp_path / "huge", head + bytes(1000), gz)
    message = "at most" if gz else "the file has 1,016 bytes"
    with peak_memory() as mem, pytest.raises(ValueError, match=message):
        ds.read_idx(path)
    assert mem.peak < 1 << 20


def test_idx_header_within_the_gzip_bound_but_truncated(tmp_path):
    # 1 MiB declared, the gzip file could hold it (1032:1), but the data stops early
    head = (0x0801).to_bytes(4, "big") + (1 << 20).to_bytes(4, "big")
    noise = np.random.default_rng(0).bytes(2000)  # incompressible: a 2 KB gzip file
    path = write(tmp_path / "short", head + noise, gz=True)
    with pytest.raises(ValueError, match=r"truncated: .*\(1048576,\) of uint8 .* the file has "
                                         r"2,008 bytes"):
        ds.load_idx(path, as_float=False)


def test_idx_multi_byte_types_round_trip_in_place(tmp_path):
    a = np.arange(-50, 50, dtype=np.float64).reshape(4, 25) / 7
    out = ds.read_idx(write(tmp_path / "f8", idx_bytes(a.astype(">f8"), 0x0E02), gz=True))
    assert out.dtype == np.float64 and out.dtype.isnative and np.array_equal(out, a)
    i2 = np.array([-32768, -1, 0, 1, 32767], dtype=np.int16)
    out = ds.read_idx(write(tmp_path / "i2", idx_bytes(i2.astype(">i2"), 0x0B01)))
    assert out.dtype == np.int16 and np.array_equal(out, i2)


def test_idx_concatenated_gzip_members_and_trailing_garbage(tmp_path, digits_idx):
    images, _ = digits_idx
    data = idx_bytes(images)
    two = gzip.compress(data[:100]) + bytes(3) + gzip.compress(data[100:]) + bytes(5)
    X, _ = ds.load_idx(write(tmp_path / "two", two), as_float=False)  # zero padding too
    assert np.array_equal(X, images.reshape(12, -1))
    with pytest.raises(ValueError, match="not another gzip member"):
        ds.load_idx(write(tmp_path / "junk", gzip.compress(data) + b"junk"))


def test_csv_gzip_of_zeros_fails_at_once(tmp_path):
    path = write(tmp_path / "zeros.csv.gz", gzip_zeros(64 << 20))  # 64 MiB of NUL bytes
    t = time.perf_counter()
    with peak_memory() as mem, pytest.raises(ValueError, match="NUL byte at decompressed "
                                                                "offset 0: it is not a text"):
        ds.load_csv(path)
    assert time.perf_counter() - t < 2.0
    assert mem.peak < 8 << 20


def test_csv_max_bytes_stops_a_text_bomb(tmp_path):
    path = write(tmp_path / "bomb.csv.gz", gzip_text(b"1,0,0,0\n", 8 << 20))  # 64 MiB text
    with peak_memory() as mem, pytest.raises(ValueError, match=r"larger than max_bytes="
                                                                r"1,048,576 bytes \(1 MiB\) once "
                                                                "decompressed"):
        ds.load_csv(path, max_bytes=1 << 20)
    assert mem.peak < 4 << 20
    raw = write(tmp_path / "big.csv", b"1,0,0,0\n" * 1000)
    with pytest.raises(ValueError, match=r"larger than max_bytes=7,999 bytes"):
        ds.load_csv(raw, max_bytes=7999)
    X, y = ds.load_csv(raw, max_bytes=8000, as_float=False)
    assert X.shape == (1000, 3) and np.all(y == 1)


@pytest.mark.parametrize("max_bytes, exc", [(0, ValueError), (-1, ValueError),
                                            ("1GB", TypeError), (1.5, TypeError),
                                            (True, TypeError)])
def test_csv_max_bytes_is_checked(tmp_path, max_bytes, exc):
    with pytest.raises(exc, match="max_bytes"):
        ds.load_csv(write(tmp_path / "a.csv", b"1,2\n"), max_bytes=max_bytes)


@pytest.mark.parametrize("text, message", [
    (b"label,a,b\n1,2,3\ninf,4,5\n", r"found inf in data row 2, column 1"),
    (b"1,2,3\n-1,4,5\n", r"found -1 in data row 2, column 1"),
    (b"1,2,3\n1e30,4,5\n", r"found 1e\+30 in data row 2, column 1 \(labels are class "
                           r"indices 0\.\.2147483647\)"),
    (b"2147483648,0.5\n", "found 2.14748e\\+09 in data row 1"),
    (b"nan,2,3\n", "found nan in data row 1, column 1"),
    (b"-inf,2,3\n", "found -inf in data row 1"),
    (b"1,2,3\n0,nan,5\n", r"data row 2, column 2 holds nan; pixel values must be finite"),
    (b"1,2,3\n0,4,-inf\n", r"data row 2, column 3 holds -inf"),
    (b"1,2,1e39\n", r"data row 1, column 3 holds 1e\+39; .*float32 range"),
    (b"1,-3e38,1e-300\n", r"dividing by the largest pixel value 1e-300 takes the smallest, "
                          r"-3e\+38, beyond the float32 range"),
])
def test_csv_rejects_bad_labels_and_pixels(tmp_path, text, message):
    with pytest.raises(ValueError, match=message):
        ds.load_csv(write(tmp_path / "bad.csv", text))


def test_csv_large_valid_labels_and_negative_pixels(tmp_path):
    X, y = ds.load_csv(write(tmp_path / "ok.csv", b"2147483647,-1.5,3\n0,0,-2\n"),
                       as_float=False)
    np.testing.assert_array_equal(y, [2147483647, 0])
    np.testing.assert_array_equal(X, np.array([[-1.5, 3], [0, -2]], np.float32))


def slow_route(*, header_delay=0.0, body_delay=0.1, length=10**6, limit=300):
    """A route that sends its status line (or its body) one byte at a time."""
    def route(handler):
        head = (f"HTTP/1.0 200 OK\r\nContent-Length: {length}\r\n\r\n").encode()
        try:
            for i in range(limit):
                if header_delay:
                    if i < len(head):
                        handler.wfile.write(head[i:i + 1])
                    time.sleep(header_delay)
                else:
                    if i == 0:
                        handler.wfile.write(head)
                    handler.wfile.write(b"0")
                    time.sleep(body_delay)
                handler.wfile.flush()
        except OSError:
            pass  # the client hung up
    return route


@pytest.mark.parametrize("where", ["body", "headers"])
def test_mnist_deadline_on_a_server_that_drips(server, cache, where):
    X, y = make_data()
    server.publish(X, y)
    if where == "body":
        server.routes[ARFF_PATH] = slow_route(body_delay=0.1)
    else:
        server.routes[ARFF_PATH] = slow_route(header_delay=0.1)
    t = time.perf_counter()
    with pytest.raises(ds.DownloadError, match=r"did not finish within deadline=1\.5 s"):
        ds.load_mnist(cache_dir=cache, verbose=False, timeout=5, deadline=1.5)
    assert 1.4 < time.perf_counter() - t < 3.5
    assert files_in(cache) == []


@pytest.mark.parametrize("kwargs, exc, message", [
    ({"deadline": 0}, ValueError, "deadline must be a positive finite"),
    ({"deadline": float("inf")}, ValueError, "deadline must be a positive finite"),
    ({"deadline": "10"}, TypeError, "deadline must be a number of seconds"),
    ({"timeout": -1}, ValueError, "timeout must be a positive"),
    ({"timeout": None}, TypeError, "timeout must be a number"),
])
def test_mnist_checks_timeout_and_deadline(cache, kwargs, exc, message):
    with pytest.raises(exc, match=message):
        ds.load_mnist(cache_dir=cache, verbose=False, **kwargs)


def test_mnist_double_gzip_is_refused(server, cache):
    X, y = make_data()
    server.publish(X, y)
    bomb = gzip_zeros(64 << 20, layers=2)  # 64 MiB inside two layers of gzip
    server.routes[ARFF_PATH] = (200, {"Content-Encoding": "gzip"}, bomb, None)
    with peak_memory() as mem, pytest.raises(ds.DatasetError, match="a gzip file inside "
                                                  "Content-Encoding: gzip; nested"):
        ds.load_mnist(cache_dir=cache, verbose=False)
    assert mem.peak < 8 << 20
    assert files_in(cache) == []


@pytest.mark.parametrize("encoding", ["gzip, gzip", "br", "deflate", "gzip, deflate"])
def test_mnist_other_content_encodings_are_refused(server, cache, encoding):
    X, y = make_data()
    server.publish(X, y, content_encoding=True)
    status, headers, body, length = server.routes[ARFF_PATH]
    server.routes[ARFF_PATH] = (status, {**headers, "Content-Encoding": encoding}, body, length)
    with pytest.raises(ds.DatasetError, match="only a single gzip encoding is accepted"):
        ds.load_mnist(cache_dir=cache, verbose=False)


def test_mnist_download_limit(server, cache, clean_env):
    X, y = make_data()
    server.publish(X, y)
    clean_env.setattr(openml, "MNIST_MAX_BYTES", 1 << 20)
    # Content-Encoding: gzip of 64 MiB of text: refused once 1 MiB is decompressed
    bomb = gzip_text(b"0,0,0,0\n", 8 << 20)
    server.routes[ARFF_PATH] = (200, {"Content-Encoding": "gzip"}, bomb, None)
    with peak_memory() as mem, pytest.raises(ds.DatasetError, match=r"decompresses to more "
                                                  r"than 1 MiB \(1,048,576 bytes\), the limit "
                                                  "for mnist_784"):
        ds.load_mnist(cache_dir=cache, verbose=False)
    assert mem.peak < 6 << 20
    # a Content-Length above the limit is refused before the body is read
    server.routes[ARFF_PATH] = (200, {}, b"", 2 << 20)
    with pytest.raises(ds.DatasetError, match="announces 2,097,152 bytes, more than 1 MiB"):
        ds.load_mnist(cache_dir=cache, verbose=False, timeout=5)
    # and a body without a length is cut at the limit
    server.routes[ARFF_PATH] = lambda h: (h.wfile.write(b"HTTP/1.0 200 OK\r\n\r\n"),
                                          h.wfile.write(b"1,2,3\n" * 400000))
    with pytest.raises(ds.DatasetError, match="sends more than 1 MiB"):
        ds.load_mnist(cache_dir=cache, verbose=False, timeout=5)
    # a gzip of zeros stops at its first NUL byte
    server.routes[ARFF_PATH] = (200, {}, gzip_zeros(16 << 20), None)
    with pytest.raises(ds.DatasetError, match="NUL byte at offset 0"):
        ds.load_mnist(cache_dir=cache, verbose=False)
    assert files_in(cache) == []


def test_mnist_description_limit(server, cache):
    server.routes[DESC_PATH] = (200, {}, b" " * (1 << 20) + b"{}", None)
    with pytest.raises(ds.DatasetError, match="more than 1 MiB .* the limit for the "
                                              "description of mnist_784"):
        ds.load_mnist(cache_dir=cache, verbose=False)


@pytest.mark.parametrize("url, message", [
    ("file:///etc/passwd", "only http and https URLs are fetched"),
    ("ftp://127.0.0.1/mnist.arff", "only http and https URLs"),
    ("http://data.example.com/mnist.arff", "its host data.example.com is neither OpenML's"),
    ("http://openml.org.example.com/x", "host openml.org.example.com is neither"),
    ("http://api.openml.org@localhost/x", "its host localhost is neither"),
    ("/data/v1/download/1/x.arff", "only http and https"),
])
def test_mnist_refuses_urls_outside_openml(server, cache, url, message):
    X, y = make_data()
    server.publish(X, y, url=url)
    with pytest.raises(ds.DatasetError, match=message):
        ds.load_mnist(cache_dir=cache, verbose=False)
    assert server.hits == [DESC_PATH]
    assert files_in(cache) == []


def test_mnist_refuses_a_port_or_redirect_elsewhere(server, cache):
    X, y = make_data()
    server.publish(X, y, url=f"http://127.0.0.1:{closed_port()}{ARFF_PATH}")
    with pytest.raises(ds.DatasetError, match="its host 127.0.0.1 is neither"):
        ds.load_mnist(cache_dir=cache, verbose=False)
    server.publish(X, y)
    port = server.httpd.server_port
    server.routes[ARFF_PATH] = (302, {"Location": f"http://localhost:{port}/x.arff"}, b"", None)
    with pytest.raises(ds.DatasetError, match=r"localhost.* \(a redirect from http://127"):
        ds.load_mnist(cache_dir=cache, verbose=False)
    assert server.hits[-1] == ARFF_PATH  # the redirect was not followed
    # a redirect on the same server is followed
    server.routes["/moved.arff"] = server.routes[ARFF_PATH] = None
    server.publish(X, y)
    server.routes["/moved.arff"] = server.routes[ARFF_PATH]
    server.routes[ARFF_PATH] = (302, {"Location": "/moved.arff"}, b"", None)
    Xu, yu = ds.load_mnist(as_float=False, cache_dir=cache, verbose=False)
    assert np.array_equal(Xu, X) and np.array_equal(yu, y)
    assert server.hits[-2:] == [ARFF_PATH, "/moved.arff"]


def test_mnist_file_id_and_server_url_are_checked(server, cache, clean_env):
    X, y = make_data()
    server.publish(X, y, url="")
    desc = json.loads(server.routes[DESC_PATH][2])
    desc["data_set_description"]["file_id"] = "../../etc/passwd"
    server.routes[DESC_PATH] = (200, {}, json.dumps(desc).encode(), None)
    with pytest.raises(ds.DatasetError, match="file_id '../../etc/passwd' is not a number"):
        ds.load_mnist(cache_dir=cache, verbose=False)
    for bad in ("file:///tmp/openml", "ftp://mirror.example.com", "http://"):
        clean_env.setenv("XNN_OPENML_URL", bad)
        with pytest.raises(ds.DatasetError, match="XNN_OPENML_URL"):
            ds.load_mnist(cache_dir=cache, verbose=False)


def test_openml_hosts_are_trusted_without_configuration():
    check = openml._check_url
    for url in ("https://api.openml.org/data/v1/download/1", "http://openml.org/x",
                "https://data.openml.org:8443/datasets/0000/0554/dataset_554.pq"):
        check(url, base=openml.OPENML_URL)
    with pytest.raises(ds.DatasetError, match="a server set by \\$XNN_OPENML_URL"):
        check("https://example.org/x", base=openml.OPENML_URL)


def npy_bytes(arr, shape=None):
    """``np.save`` of ``arr``, its header optionally declaring another shape."""
    buf = io.BytesIO()
    np.save(buf, arr)
    data = buf.getvalue()
    if shape is None:
        return data
    n = int.from_bytes(data[8:10], "little")
    head = data[10:10 + n].replace(repr(arr.shape).encode(), repr(shape).encode())
    head = head.rstrip(b" \n")
    head += b" " * (n - 1 - len(head)) + b"\n"
    assert len(head) == n
    return data[:10] + head + data[10 + n:]


def write_npz(path, members, compression=zipfile.ZIP_STORED):
    with zipfile.ZipFile(path, "w", compression=compression) as zf:
        for key, data in members.items():
            zf.writestr(key + ".npy", data)
    return path


@pytest.mark.parametrize("shape", [(2**40, 784), (2**26, 784), (4, 784)])
def test_mnist_cache_declaring_another_size_is_refetched(server, cache, shape):
    X, y = make_data()
    server.publish(X, y)
    cache.mkdir()
    write_npz(cache / "mnist_784-v1.npz", {"X": npy_bytes(np.zeros((3, 784), np.uint8), shape),
                                            "y": npy_bytes(np.zeros(3, np.int64))})
    with peak_memory() as mem, pytest.warns(UserWarning, match=r"declares shape .* but holds "
                                                                 "2,352 bytes"):
        Xu, yu = ds.load_mnist(as_float=False, cache_dir=cache, verbose=False)
    assert np.array_equal(Xu, X) and np.array_equal(yu, y)
    assert mem.peak < 8 << 20


@pytest.mark.parametrize("members, message", [
    ({"X": npy_bytes(np.zeros((3, 4), np.uint8))}, "has no array 'y'"),
    ({"X": npy_bytes(np.zeros((3, 4), np.float32)), "y": npy_bytes(np.zeros(3, np.int64))},
     "X should be a non-empty 2-D uint8 array, got float32"),
    ({"X": npy_bytes(np.zeros((3, 4), np.uint8)), "y": npy_bytes(np.zeros(2, np.int64))},
     r"y should be int64 with shape \(3,\)"),
    ({"X": npy_bytes(np.array([[None]], dtype=object)), "y": npy_bytes(np.zeros(1))},
     "X should be a non-empty 2-D uint8 array, got object"),
    ({"X": b"\x93NUMPY\x03\x00" + bytes(20), "y": b""}, r"format version \(3, 0\)"),
    ({"X": b"not an npy", "y": b""}, "cannot read"),
])
def test_cache_reader_rejects(tmp_path, members, message):
    with pytest.raises(ds.DatasetError, match=message):
        openml._read_cache(write_npz(tmp_path / "c.npz", members))


def test_cache_reader_bounds_compressed_members(tmp_path):
    X, y = np.arange(12, dtype=np.uint8).reshape(3, 4), np.arange(3, dtype=np.int64)
    good = write_npz(tmp_path / "z.npz", {"X": npy_bytes(X), "y": npy_bytes(y)},
                     zipfile.ZIP_DEFLATED)
    Xc, yc = openml._read_cache(good)
    assert np.array_equal(Xc, X) and np.array_equal(yc, y)
    # a deflated member whose directory entry claims more than 1032:1
    with zipfile.ZipFile(good) as zf:
        info = zf.getinfo("X.npy")
    data = bytearray(good.read_bytes())
    for offset in range(len(data) - 4):  # the uncompressed size, in both headers
        if int.from_bytes(data[offset:offset + 4], "little") == info.file_size and \
                int.from_bytes(data[offset - 4:offset], "little") == info.compress_size:
            data[offset:offset + 4] = (10**9).to_bytes(4, "little")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(bytes(data))
    with pytest.raises(ds.DatasetError, match="more than its file can hold|cannot read"):
        openml._read_cache(bad)


def test_split_calls_scikit_learn(monkeypatch):
    model_selection = require("sklearn.model_selection")
    calls = []
    original = model_selection.train_test_split

    def spy(*args, **kwargs):
        calls.append(kwargs)
        return original(*args, **kwargs)

    monkeypatch.setattr(model_selection, "train_test_split", spy)
    X, y = np.arange(20).reshape(10, 2), np.arange(10)
    ds.split(X, y, test_size=0.3, seed=7)
    assert calls == [{"test_size": 0.3, "random_state": 7}]
