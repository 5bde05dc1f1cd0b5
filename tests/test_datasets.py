"""Tests of xnn.datasets. No network: OpenML is a server started on 127.0.0.1."""

import gzip
import hashlib
import json
import os
import socket
import threading
import time
import warnings
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer

import numpy as np
import pytest

from xnn import datasets as ds

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
    """http.server in a thread; ``routes[path] = (status, headers, body, length)``."""

    def __init__(self):
        self.routes = {}
        self.hits = []
        server = self

        class Handler(BaseHTTPRequestHandler):
            def log_message(self, *args):
                pass

            def do_GET(self):
                server.hits.append(self.path)
                status, headers, body, length = server.routes.get(
                    self.path, (404, {}, b'{"error": "not found"}', None))
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
                cut_to=None, arff=None):
        arff = make_arff(X, y) if arff is None else arff
        description = {"data_set_description": {
            "id": "554", "name": "mnist_784", "version": "1", "format": "ARFF",
            "upload_date": "2014-09-29T03:28:38", "licence": "Public",
            "url": self.url + ARFF_PATH, "file_id": str(FILE_ID),
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
    pytest.importorskip("tqdm")
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
    Xp, yp = ds._parse_arff(make_arff(X, y), "t.arff")
    assert Xp.dtype == np.uint8 and np.array_equal(Xp, X) and np.array_equal(yp, y)


def test_arff_parser_blank_lines_comments_double_quotes():
    arff = (b"@RELATION r\r\n@ATTRIBUTE p1 INTEGER\r\n@ATTRIBUTE p2 INTEGER\r\n"
            b'@ATTRIBUTE class {"3","8"}\r\n@DATA\r\n% first\r\n  \r\n'
            b'1,2,"8"\r\n\r\n% between\r\n3,4,"3"\r\n')
    Xp, yp = ds._parse_arff(arff, "t.arff")
    assert Xp.dtype == np.uint8
    np.testing.assert_array_equal(Xp, [[1, 2], [3, 4]])
    np.testing.assert_array_equal(yp, [8, 3])


def test_arff_parser_nominal_names_and_floats():
    arff = (b"@relation r\n@attribute 'a b' real\n@attribute x numeric\n"
            b"@attribute kind {cat, dog}\n@data\n0.5,2,dog\n% comment\n\n1e1,-3,'cat'\n")
    Xp, yp = ds._parse_arff(arff, "t.arff")
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
        ds._parse_arff(arff, "t.arff")


def test_arff_parser_target_attribute():
    arff = b"@attribute c {0,1}\n@attribute x numeric\n@data\n1,2\n"
    with pytest.raises(ds.DatasetError, match="'c' must be the last attribute, it is number 1"):
        ds._parse_arff(arff, "t.arff", target="c")
    with pytest.raises(ds.DatasetError, match="'z' is not declared"):
        ds._parse_arff(arff, "t.arff", target="z")


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
    pytest.importorskip("sklearn")
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
    model_selection = pytest.importorskip("sklearn.model_selection")
    X = np.arange(n * 3, dtype=np.float64).reshape(n, 3)
    y = np.arange(n) % 10
    ours = ds.split(X, y, test_size=test_size, seed=seed)
    theirs = model_selection.train_test_split(X, y, test_size=test_size, random_state=seed)
    assert len(ours) == 4
    for a, b in zip(ours, theirs, strict=True):
        assert a.dtype == b.dtype and np.array_equal(a, b)


def test_split_accepts_a_random_state():
    model_selection = pytest.importorskip("sklearn.model_selection")
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
    assert os.path.basename(ds.__file__) == "datasets.py"
