"""The live explorer's Python side, without a browser: preprocessing of
drawings against results computed by hand, the messages and their answers
for every method, errors, the HTTP server, ``python -m xnn explore``, the
widget's message loop, and the page module's throttle under node."""
import base64
import json
import re
import subprocess
import sys
import textwrap
import urllib.error
import urllib.request
from pathlib import Path

import numpy as np
import pytest
from _deps import require

import xnn
from xnn import widgets
from xnn.widgets import methods as M
from xnn.widgets import preprocess as P
from xnn.widgets.session import Session, decode, encode, image_layout

from _deps import need_program, require as need_module
from conftest import subprocess_kwargs

STATIC = Path(widgets.__file__).parent / "static"


def mlp(sizes, seed=0, dtype="float32"):
    layers = [xnn.layers.Dense(a, b, activation="relu") for a, b in zip(sizes[:-2], sizes[1:-1])]
    layers.append(xnn.layers.Dense(sizes[-2], sizes[-1], activation="softmax"))
    model = xnn.Sequential(layers, init="glorot_uniform", seed=seed, dtype=dtype)
    rng = np.random.default_rng(seed)
    for layer in model.layers:   # non-zero biases, so that every method has work to do
        layer.b[...] = rng.normal(0, 0.1, layer.b.shape)
    return model


@pytest.fixture(scope="module")
def mnist_model():
    return mlp([784, 32, 16, 10])


@pytest.fixture(scope="module")
def digits_model():
    return mlp([64, 16, 10], seed=1)


def stroke_bitmap():
    """A 280 x 280 canvas with a 7-like stroke (a bar and a diagonal)."""
    bm = np.zeros((280, 280), np.uint8)
    bm[50:70, 60:220] = 255
    for r in range(70, 240):
        c = int(220 - (r - 70) * 0.5)
        bm[r, c - 9:c + 9] = 255
    return bm


def update_msg(bm, **kw):
    msg = {"kind": "update", "seq": 1, "bitmap": base64.b64encode(bm.tobytes()).decode(),
           "width": bm.shape[1], "height": bm.shape[0]}
    msg.update(kw)
    return msg


# ------------------------------------------------------------ preprocessing
def test_area_resize_against_repeat_and_block_mean(rng):
    """Area averaging by a non-integer factor equals repeating every pixel up
    to a common multiple of the sizes and taking block means."""
    a = rng.random((150, 60))
    got = P.area_resize(a, 20, 8)
    # 150 -> 300 (x2) -> 20 blocks of 15; 60 -> 120 (x2) -> 8 blocks of 15
    up = np.repeat(np.repeat(a, 2, axis=0), 2, axis=1)
    want = up.reshape(20, 15, 8, 15).mean(axis=(1, 3))
    np.testing.assert_allclose(got, want, rtol=1e-12, atol=1e-15)
    # upsampling: 3 -> 7 via 21 = lcm
    b = rng.random((3, 3))
    want = np.repeat(np.repeat(b, 7, 0), 7, 1).reshape(7, 3, 7, 3).mean(axis=(1, 3))
    np.testing.assert_allclose(P.area_resize(b, 7, 7), want, rtol=1e-12, atol=1e-15)


def test_mnist_bar_by_hand():
    """A 200 x 40 bar of full ink: fit 20 x 20 -> a 20 x 4 block of ones
    (each output pixel averages 10 x 10 inked pixels); its centre of mass
    (9.5, 1.5) goes to (14, 14): top = floor(14 - 9.5 + 0.5) = 5,
    left = floor(14 - 1.5 + 0.5) = 13."""
    bm = np.zeros((280, 280), np.uint8)
    bm[40:240, 100:140] = 255
    want = np.zeros((28, 28))
    want[5:25, 13:17] = 1.0
    np.testing.assert_allclose(P.mnist(bm), want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(P.mnist(bm, value_max=255.0), want * 255, rtol=0, atol=1e-9)


def test_mnist_l_shape_by_hand():
    """An L on a 100 x 100 canvas: the stem columns 0..19, the foot rows
    80..99. The box is 100 x 100 -> 20 x 20, 5 x 5 blocks: small[r, c] = 1
    for c < 4 or r >= 16. Mass 80 + 64 = 144; row moment 4 * (0+..+15) +
    20 * (16+..+19) = 480 + 1400, cy = 1880 / 144 = 13.06; column moment
    20 * (0+1+2+3) + 4 * (4+..+19) = 120 + 736, cx = 856 / 144 = 5.94;
    top = floor(14 - 13.06 + 0.5) = 1, left = floor(14 - 5.94 + 0.5) = 8."""
    bm = np.zeros((100, 100), np.uint8)
    bm[:, :20] = 255
    bm[80:, :] = 255
    small = np.zeros((20, 20))
    small[:, :4] = 1
    small[16:, :] = 1
    want = np.zeros((28, 28))
    want[1:21, 8:28] = small
    np.testing.assert_allclose(P.mnist(bm), want, rtol=0, atol=1e-12)


def test_mnist_grey_ink_against_an_independent_computation(rng):
    """Random grey ink in a 200 x 120 box (scale exactly 1/10): block means,
    scipy's centre of mass, a whole-pixel shift to (14, 14)."""
    ndimage = require("scipy.ndimage")
    bm = np.zeros((300, 300), np.uint8)
    ink = rng.integers(1, 256, (200, 120)).astype(np.uint8)
    bm[37:237, 91:211] = ink
    small = (ink / 255.0).reshape(20, 10, 12, 10).mean(axis=(1, 3))
    cy, cx = ndimage.center_of_mass(small)
    top, left = int(np.floor(14 - cy + 0.5)), int(np.floor(14 - cx + 0.5))
    want = np.zeros((28, 28))
    want[top:top + 20, left:left + 12] = small
    got = P.mnist(bm)
    np.testing.assert_allclose(got, want, rtol=0, atol=1e-12)
    com = ndimage.center_of_mass(got)
    assert abs(com[0] - 14) <= 0.5 and abs(com[1] - 14) <= 0.5


def test_mnist_empty_and_cut_off():
    assert not P.mnist(np.zeros((50, 50), np.uint8)).any()
    # a single column of ink: 20 x 1, centred at column 14
    bm = np.zeros((280, 280), np.uint8)
    bm[10:210, 5] = 255
    got = P.mnist(bm)
    assert got[:, 14].sum() == pytest.approx(20.0) and got.sum() == pytest.approx(20.0)


def test_digits_by_hand():
    """A 280 x 70 bar: fit 32 x 32 -> 32 x 8 ones, centred at columns
    12..19 = blocks 3 and 4, full (16 of 16 on pixels)."""
    bm = np.zeros((280, 280), np.uint8)
    bm[:, 100:170] = 255
    want = np.zeros((8, 8))
    want[:, 3:5] = 1.0
    np.testing.assert_allclose(P.digits(bm), want, rtol=0, atol=0)
    np.testing.assert_allclose(P.digits(bm, value_max=16.0), want * 16, rtol=0, atol=0)
    # 280 x 84 -> 32 x 9.6 -> 10 columns, 11..20: blocks 2 and 5 get one
    # column of four rows (4 of 16), blocks 3 and 4 are full
    bm = np.zeros((280, 280), np.uint8)
    bm[:, 100:184] = 255
    want = np.zeros((8, 8))
    want[:, 2] = want[:, 5] = 0.25
    want[:, 3:5] = 1.0
    np.testing.assert_allclose(P.digits(bm), want, rtol=0, atol=0)


def test_digits_scaling_matches_load_digits():
    """load_digits scales the 0..16 counts by /16: value_max 1 is its scale."""
    raw, _ = xnn.datasets.load_digits(as_float=False)
    X, _ = xnn.datasets.load_digits()
    assert raw.max() == 16
    np.testing.assert_array_equal(X, (raw / 16.0).astype(np.float32))


def test_ink_errors():
    with pytest.raises(ValueError, match="bitmap: expected a non-empty 2-D"):
        P.mnist(np.zeros(10, np.uint8))
    with pytest.raises(ValueError, match=r"bitmap: expected float ink in \[0, 1\]"):
        P.mnist(np.full((4, 4), 2.0))


# ------------------------------------------------------------ models
def test_image_layout(mnist_model, digits_model):
    assert image_layout(mnist_model) == (28, 28, (784,))
    assert image_layout(digits_model) == (8, 8, (64,))


def test_refuses_non_image_models():
    tab = mlp([30, 8, 2])
    with pytest.raises(ValueError, match="this model takes 30 inputs, which is not a square image"):
        Session(tab)
    with pytest.raises(ValueError, match="this model takes 9 inputs, an image smaller than 4 x 4"):
        Session(mlp([9, 4, 2]))
    with pytest.raises(TypeError, match="model: expected an xnn.Sequential, got str"):
        Session("model.npz")
    rgb = mlp([3 * 64, 8, 10])
    rgb.input_shape = (3, 8, 8)
    with pytest.raises(ValueError, match=r"one grayscale channel; this model's input_shape \(3, 8, 8\) has 3"):
        Session(rgb)


def test_session_arguments(mnist_model):
    with pytest.raises(ValueError, match="methods: expected names from"):
        Session(mnist_model, methods=["saliency", "nope"])
    with pytest.raises(ValueError, match="methods: 'grad_cam' does not apply"):
        Session(mnist_model, methods=["grad_cam"])
    with pytest.raises(ValueError, match="preprocess: expected one of"):
        Session(mnist_model, preprocess="lecun")
    with pytest.raises(ValueError, match="preprocess: 'digits' makes 8 x 8 images"):
        Session(mnist_model, preprocess="digits")
    with pytest.raises(ValueError, match="X: expected rows of 784 values"):
        Session(mnist_model, X=np.zeros((3, 64)))
    with pytest.raises(ValueError, match="y: expected 3 labels"):
        Session(mnist_model, X=np.zeros((3, 784)), y=[1, 2])
    s = Session(mnist_model)
    assert list(s.methods) == ["saliency", "input_x_gradient", "integrated_gradients", "lrp",
                               "occlusion"]
    assert s.preprocess == "mnist" and s.value_max == 1.0


# ------------------------------------------------------------ messages
def test_update_answers_every_method(mnist_model):
    """An update: the image is the preprocessed drawing, the probabilities
    are the model's, and every map equals the batched xnn.explain call on
    that one image (the same numbers: float32 through base64)."""
    s = Session(mnist_model)
    bm = stroke_bitmap()
    r = s.handle(update_msg(bm, seq=7))
    assert r["kind"] == "result", r
    json.dumps(r)      # JSON all the way
    assert r["seq"] == 7 and r["shape"] == [28, 28]
    img = decode(r["image"]).reshape(28, 28)
    want = P.mnist(bm)
    np.testing.assert_array_equal(img, want.astype(np.float32))
    x = want.reshape(1, 784).astype(np.float32)
    np.testing.assert_allclose(r["proba"], mnist_model.predict_proba(x)[0], rtol=1e-6)
    pred = int(mnist_model.predict(x)[0])
    assert r["pred"] == pred and r["target"] == pred
    E = xnn.explain
    expected = {
        "saliency": E.saliency(mnist_model, x, target=pred),
        "input_x_gradient": E.input_x_gradient(mnist_model, x, target=pred),
        "integrated_gradients": E.integrated_gradients(mnist_model, x, target=pred, steps=50),
        "lrp": E.lrp(mnist_model, x, target=pred, rule="epsilon"),
        "occlusion": E.occlusion(mnist_model, x, patch=4, stride=2, target=pred),
    }
    assert [m["name"] for m in r["maps"]] == list(expected)
    for m in r["maps"]:
        got = decode(m["data"])
        np.testing.assert_array_equal(got, np.asarray(expected[m["name"]], np.float32).ravel(),
                                      err_msg=m["name"])
        assert m["limit"] == pytest.approx(float(np.max(np.abs(got))), rel=1e-6)
        assert m["ms"] >= 0
    acts = mnist_model.activations(x)
    assert len(r["activations"]) == 3
    for a, want_a in zip(r["activations"], acts):
        np.testing.assert_array_equal(decode(a["data"]), want_a.ravel())
        assert a["min"] == pytest.approx(float(want_a.min()))
        assert a["max"] == pytest.approx(float(want_a.max()))
    assert set(r["ms"]) >= {"preprocess", "forward", "total", *expected}


def test_update_with_a_rectangle_of_the_canvas(mnist_model):
    """The page sends the rectangle that holds the ink and its place on the
    canvas: the same answer as the whole canvas (also over a sample)."""
    bm = stroke_bitmap()
    rows, cols = np.flatnonzero(bm.any(1)), np.flatnonzero(bm.any(0))
    top, left = int(rows[0]) - 3, int(cols[0]) - 2
    crop = bm[top:rows[-1] + 5, left:cols[-1] + 1]
    s = Session(mnist_model, X=np.zeros((2, 784)))
    for base in (None, 1):
        whole = s.handle(update_msg(bm, base=base))
        part = s.handle(update_msg(crop, base=base, left=left, top=top, canvas=[280, 280]))
        assert part["kind"] == "result", part
        assert part["image"] == whole["image"] and part["maps"][0]["data"] == whole["maps"][0]["data"]


def test_update_target_methods_and_lrp_menu(mnist_model):
    s = Session(mnist_model)
    bm = stroke_bitmap()
    x = P.mnist(bm).reshape(1, 784).astype(np.float32)
    for key, (_, kwargs) in M.LRP_CHOICES.items():
        r = s.handle(update_msg(bm, target=3, methods=["lrp"], lrp=key))
        assert r["kind"] == "result", (key, r)
        assert r["target"] == 3 and [m["name"] for m in r["maps"]] == ["lrp"]
        kw = dict(kwargs)
        if kw.get("composite") == "epsilon-gamma-box":
            kw.update(low=0.0, high=1.0)
        want = xnn.explain.lrp(mnist_model, x, target=3, **kw)
        np.testing.assert_array_equal(decode(r["maps"][0]["data"]), want.ravel(), err_msg=key)


def test_update_empty_canvas_and_digits(digits_model):
    X, y = xnn.datasets.load_digits()
    s = Session(digits_model, X[:50], y[:50])
    assert s.preprocess == "digits" and s.value_max == 1.0
    r = s.handle({"kind": "update", "seq": 0})
    assert r["kind"] == "result" and not decode(r["image"]).any()
    bm = np.zeros((280, 280), np.uint8)
    bm[:, 100:170] = 255
    r = s.handle(update_msg(bm))
    np.testing.assert_array_equal(decode(r["image"]).reshape(8, 8), P.digits(bm))
    # raw 0..16 data: value_max 16 from X
    raw, _ = xnn.datasets.load_digits(as_float=False)
    assert Session(digits_model, raw[:20].astype(np.float32)).value_max == 16.0


def test_update_over_a_sample(digits_model):
    """base: the drawing is area-averaged to 8 x 8, added to the row and
    clipped to [0, value_max]."""
    X, y = xnn.datasets.load_digits()
    s = Session(digits_model, X[:50], y[:50])
    r = s.handle({"kind": "update", "seq": 1, "base": 4})
    np.testing.assert_array_equal(decode(r["image"]), X[4])
    assert r["base"]["index"] == 4 and r["base"]["label"] == int(y[4])
    assert r["base"]["pred"] == int(digits_model.predict(X[4:5])[0])
    bm = np.zeros((80, 80), np.uint8)
    bm[0:10, :] = 255            # the top row of 8 x 8 pixels, full ink
    bm[10:15, 0:10] = 255        # half of pixel (1, 0)
    r = s.handle(update_msg(bm, base=4))
    want = X[4].reshape(8, 8).astype(np.float64)
    want[0] += 1.0
    want[1, 0] += 0.5
    np.testing.assert_allclose(decode(r["image"]).reshape(8, 8), np.clip(want, 0, 1),
                               rtol=0, atol=1e-7)
    assert s.config()["data"]["misclassified"] == np.flatnonzero(
        digits_model.predict(X[:50]) != y[:50]).tolist()


def test_image_models_with_an_input_shape(mnist_model):
    """A model with input_shape (1, 28, 28) gets NCHW batches (the layout
    of the coming CNNs)."""
    m = mlp([784, 16, 10], seed=3)
    m.input_shape = (1, 28, 28)
    s = Session(m)
    assert s.layout == (1, 28, 28)
    bm = stroke_bitmap()
    r = s.handle(update_msg(bm, methods=["saliency", "occlusion"]))
    assert r["kind"] == "result", r
    x = P.mnist(bm).reshape(1, 784).astype(np.float32)
    np.testing.assert_array_equal(decode(r["maps"][0]["data"]),
                                  xnn.explain.saliency(m, x, target=r["pred"]).ravel())
    np.testing.assert_array_equal(
        decode(r["maps"][1]["data"]),
        xnn.explain.occlusion(m, x, patch=4, stride=2, target=r["pred"]).ravel())


def test_feature_maps_keep_their_shape():
    """Activations go out with their shape: (n,) for dense layers, (C, H, W)
    for feature maps (tiled by the page)."""

    class FeatureMaps(xnn.Sequential):
        def activations(self, X):
            outs = super().activations(X)
            outs[0] = outs[0].reshape(-1, 2, 4, 4)
            return outs

    m = FeatureMaps([xnn.layers.Dense(64, 32, activation="relu"),
                     xnn.layers.Dense(32, 10, activation="softmax")], seed=0)
    r = Session(m).handle({"kind": "update", "seq": 0})
    assert [a["shape"] for a in r["activations"]] == [[2, 4, 4], [10]]


def test_grad_cam_entry(monkeypatch, mnist_model):
    """grad_cam is one entry of METHODS: it applies to models with a
    convolution once xnn.explain has grad_cam; a coarse grid is resized."""
    calls = []

    def fake_grad_cam(model, X, target=None, layer=None):
        calls.append((np.shape(X), target, layer))
        return np.arange(49, dtype=np.float32).reshape(1, 7, 7)

    monkeypatch.setattr(xnn.explain, "grad_cam", fake_grad_cam, raising=False)
    assert "convolutional" in M.METHODS["grad_cam"].available(mnist_model)
    monkeypatch.setattr(M, "_has_conv", lambda model: True)
    s = Session(mnist_model)
    assert "grad_cam" in s.methods
    r = s.handle(update_msg(stroke_bitmap(), methods=["grad_cam"], target=2))
    assert calls == [((1, 784), 2, 2)]      # the last layer when no convolution is named
    got = decode(r["maps"][0]["data"]).reshape(28, 28)
    np.testing.assert_array_equal(got, np.kron(np.arange(49.0).reshape(7, 7), np.ones((4, 4))))


@pytest.mark.parametrize("msg, match", [
    ({"kind": "draw"}, "kind: expected 'config' or 'update', got 'draw'"),
    ([1, 2], "message: expected a JSON object, got list"),
    ({"kind": "update", "bitmap": "AAAA", "width": 3, "height": 3},
     r"bitmap: expected width \* height = 9 bytes, got 3"),
    ({"kind": "update", "bitmap": "@@@", "width": 1, "height": 1}, "bitmap: not valid base64"),
    ({"kind": "update", "bitmap": "AA==", "width": 0, "height": 1},
     r"width: expected an integer in \[1, 4096\], got 0"),
    ({"kind": "update", "bitmap": "AA==", "width": 1, "height": 1, "canvas": [4, 4], "left": 4},
     r"left: expected an integer in \[0, 3\], got 4"),
    ({"kind": "update", "bitmap": "AA==", "width": 1, "height": 1, "canvas": [4]},
     r"canvas: expected \[width, height\], got \[4\]"),
    ({"kind": "update", "target": 10}, r"target: expected an integer in \[0, 10\), got 10"),
    ({"kind": "update", "target": "3"}, "target: expected an integer or null, got '3'"),
    ({"kind": "update", "methods": ["lime"]}, "methods: expected names from"),
    ({"kind": "update", "methods": "saliency"}, "methods: expected a list of names"),
    ({"kind": "update", "lrp": "beta"}, "lrp: expected one of"),
    ({"kind": "update", "base": 0}, r"base: this explorer has no data set \(X\)"),
])
def test_bad_messages_get_error_answers(mnist_model, msg, match):
    r = Session(mnist_model).handle(dict(msg, seq=5) if isinstance(msg, dict) else msg)
    assert r["kind"] == "error"
    assert re.search(match, r["message"]), r["message"]
    if isinstance(msg, dict):
        assert r["seq"] == 5


def test_config(mnist_model):
    c = Session(mnist_model).config()
    json.dumps(c)
    assert c["shape"] == [28, 28] and c["model"] == "784-32-16-10"
    assert c["output"] == "probability" and c["data"] is None
    assert [m["name"] for m in c["methods"]][:2] == ["saliency", "input_x_gradient"]
    assert next(m for m in c["methods"] if m["name"] == "occlusion")["detail"] == "patch 4, stride 2"
    for cmap in c["colormaps"].values():
        assert len(cmap) == 3 * 256 and 0 <= min(cmap) and max(cmap) <= 255


def test_encode_decode_roundtrip(rng):
    a = rng.normal(size=(3, 5)).astype(np.float32)
    np.testing.assert_array_equal(decode(encode(a)), a.ravel())


# ------------------------------------------------------------ the HTTP server
def _post(url, obj, raw=None):
    req = urllib.request.Request(url, data=raw if raw is not None else json.dumps(obj).encode(),
                                 headers={"Content-Type": "application/json"}, method="POST")
    try:
        with urllib.request.urlopen(req, timeout=30) as r:
            return r.status, json.loads(r.read())
    except urllib.error.HTTPError as e:
        return e.code, json.loads(e.read())


def test_server(digits_model):
    from xnn.widgets.server import serve, url
    server = serve(Session(digits_model))
    try:
        base = url(server)
        assert base.startswith("http://127.0.0.1:")
        with urllib.request.urlopen(base, timeout=30) as r:
            page = r.read().decode()
        assert 'from "/explorer.js"' in page and "httpTransport(\"/api\")" in page
        with urllib.request.urlopen(base + "explorer.js", timeout=30) as r:
            assert r.read() == (STATIC / "explorer.js").read_bytes()
            assert r.headers["Content-Type"].startswith("text/javascript")
        code, c = _post(base + "api", {"kind": "config"})
        assert code == 200 and c["shape"] == [8, 8]
        bm = np.zeros((280, 280), np.uint8)
        bm[:, 100:170] = 255
        code, r = _post(base + "api", update_msg(bm, seq=3))
        assert code == 200 and r["seq"] == 3
        np.testing.assert_array_equal(decode(r["image"]).reshape(8, 8), P.digits(bm))
        code, r = _post(base + "api", None, raw=b"{not json")
        assert code == 400 and r["message"].startswith("request: not JSON")
        code, r = _post(base + "api", {"kind": "nope"})
        assert code == 400 and "kind:" in r["message"]
        code, r = _post(base + "other", {"kind": "config"})
        assert code == 404
    finally:
        server.shutdown()
        server.server_close()


# ------------------------------------------------------------ python -m xnn explore
def _start_explore(args, tmp_path, env=None):
    kw = subprocess_kwargs(tmp_path)
    if env:
        kw["env"].update(env)
    p = subprocess.Popen([sys.executable, "-m", "xnn", "explore", "--port", "0", *args],
                         stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, **kw)
    lines = []
    for line in p.stdout:
        lines.append(line)
        m = re.search(r"xnn explorer: (http://127\.0\.0\.1:\d+/)", line)
        if m:
            return p, m.group(1), lines
    p.wait(30)
    raise AssertionError(f"no address printed: {''.join(lines)} {p.stderr.read()}")


def test_cli_explore_trains_on_the_digits(tmp_path):
    env = {"XNN_MNIST_DIR": ""}
    p, url, lines = _start_explore(["--digits", "--methods", "saliency,lrp"], tmp_path, env)
    try:
        assert "64-32-10" in "".join(lines)
        code, c = _post(url + "api", {"kind": "config"})
        assert code == 200 and c["shape"] == [8, 8]
        assert [m["name"] for m in c["methods"]] == ["saliency", "lrp"]
        assert c["data"]["n"] == 360
    finally:
        p.terminate()
        p.wait(30)
        p.stdout.close()
        p.stderr.close()


def _run_explore(args, tmp_path):
    return subprocess.run([sys.executable, "-m", "xnn", "explore", "--port", "0", *args],
                          capture_output=True, text=True, timeout=120, **subprocess_kwargs(tmp_path))


def test_cli_explore_bad_model_files(tmp_path):
    r = _run_explore(["--model", str(tmp_path / "missing.npz")], tmp_path)
    assert r.returncode == 2 and "error: --model: path: no such model file" in r.stderr
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"not a zip file")
    r = _run_explore(["--model", str(bad)], tmp_path)
    assert r.returncode == 2 and "is not a readable xnn model file" in r.stderr
    tab = tmp_path / "tabular.npz"
    mlp([30, 8, 2]).save(tab)
    r = _run_explore(["--model", str(tab)], tmp_path)
    assert r.returncode == 2
    assert "this model takes 30 inputs, which is not a square image" in r.stderr
    r = _run_explore(["--digits", "--methods", "saliency,shap"], tmp_path)
    assert r.returncode == 2 and "methods: expected names from" in r.stderr
    r = _run_explore(["--port", "70000"], tmp_path)
    assert r.returncode == 2 and "--port: expected an integer in [0, 65535]" in r.stderr


def test_cli_help_lists_explore():
    from xnn import __main__ as cli
    text = cli._parser().format_help()
    assert "explore" in text and "demo" in text


# ------------------------------------------------------------ the widget
def test_static_files_are_installed():
    for name in ("explorer.js", "explorer.css"):
        assert (STATIC / name).is_file(), f"{name} is not installed with xnn.widgets"


def test_widget_answers_messages(mnist_model):
    need_module("anywidget", "pip install 'xnn[widgets]'")
    from xnn.widgets import Explorer
    w = Explorer(mnist_model)
    # anywidget reads the module and the style from the package's static files
    assert str(w._esm) == (STATIC / "explorer.js").read_text()
    assert str(w._css) == (STATIC / "explorer.css").read_text()
    sent = []
    w.send = lambda content, buffers=None: sent.append(content)
    w._on_message(w, {"kind": "config", "id": 1}, [])
    w._on_message(w, dict(update_msg(stroke_bitmap(), seq=4), id=2), [])
    w._on_message(w, {"kind": "update", "id": 3, "target": 99}, [])
    assert [s["id"] for s in sent] == [1, 2, 3]
    assert sent[0]["kind"] == "config" and sent[1]["kind"] == "result" and sent[1]["seq"] == 4
    assert sent[2]["kind"] == "error" and "target" in sent[2]["message"]
    with pytest.raises(ValueError, match="not a square image"):
        Explorer(mlp([30, 4, 2]))


# ------------------------------------------------------------ the page module under node
NODE_TEST = textwrap.dedent("""
    import { LatestOnly, widgetTransport, f32FromBase64, base64FromBytes } from "MODULE";
    const out = {};
    // the throttle: one request in flight; while busy only the latest state
    const sends = [], answers = [];
    let release = [];
    const t = new LatestOnly((s) => { sends.push(s); return new Promise((r) => release.push(() => r(s))); },
                             (a) => answers.push(a));
    t.push(1); t.push(2); t.push(3); t.push(() => 4);
    out.inFlight1 = sends.slice();
    release.shift()();
    await new Promise((r) => setTimeout(r, 0));
    out.inFlight2 = sends.slice();
    t.push(5);
    out.afterPush5 = sends.slice();
    release.shift()();
    await new Promise((r) => setTimeout(r, 0));
    release.shift()();
    await new Promise((r) => setTimeout(r, 0));
    out.sends = sends; out.answers = answers; out.replaced = t.replaced; out.busy = t.busy;
    // an error answer still lets the next state go
    const errs = [];
    const t2 = new LatestOnly(() => Promise.reject(new Error("boom")), () => {}, (e) => errs.push(e.message));
    t2.push(1); t2.push(2);
    await new Promise((r) => setTimeout(r, 0)); await new Promise((r) => setTimeout(r, 0));
    out.errors = errs; out.sent2 = t2.sent;
    // the widget transport over a fake anywidget model
    const listeners = {}; const sent = [];
    const model = { on: (n, f) => { listeners[n] = f; }, off: (n) => { delete listeners[n]; },
                    send: (m) => sent.push(m) };
    const tr = widgetTransport(model);
    const p1 = tr.request({ kind: "config" });
    const p2 = tr.request({ kind: "update", seq: 1 });
    listeners["msg:custom"]({ id: 2, kind: "error", message: "bad" });
    listeners["msg:custom"]({ id: 1, kind: "config", shape: [28, 28] });
    out.config = await p1;
    out.error = await p2.then(() => "no error", (e) => e.message);
    out.sentMessages = sent;
    tr.close();
    out.closed = !("msg:custom" in listeners);
    out.floats = Array.from(f32FromBase64("AACAPwAAAMA="));
    out.b64 = base64FromBytes(new Uint8Array([0, 255, 7]));
    console.log(JSON.stringify(out));
""")


def test_page_module_throttle_and_transport_under_node(tmp_path):
    node = need_program("node", "apt-get install -y nodejs", env="XNN_NODE")
    script = tmp_path / "t.mjs"
    script.write_text(NODE_TEST.replace("MODULE", (STATIC / "explorer.js").as_uri()))
    r = subprocess.run([node, str(script)], capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    out = json.loads(r.stdout)
    assert out["inFlight1"] == [1]                 # 2, 3, 4 wait: only the latest is kept
    assert out["inFlight2"] == [1, 4]
    assert out["afterPush5"] == [1, 4]             # still one in flight
    assert out["sends"] == [1, 4, 5] and out["answers"] == [1, 4, 5]
    assert out["replaced"] == 2 and out["busy"] is False
    assert out["errors"] == ["boom", "boom"] and out["sent2"] == 2
    assert out["config"] == {"id": 1, "kind": "config", "shape": [28, 28]}
    assert out["error"] == "bad"
    assert out["sentMessages"] == [{"kind": "config", "id": 1}, {"kind": "update", "seq": 1, "id": 2}]
    assert out["closed"] is True
    assert out["floats"] == [1.0, -2.0] and out["b64"] == "AP8H"
