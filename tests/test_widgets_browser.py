"""The live explorer in a real browser: headless Chromium (Debian's
``chromium``) driven by Playwright for Python.

Needs ``pip install playwright`` and ``apt-get install -y chromium`` (the
browser's path may be given as $XNN_CHROMIUM); skipped without them, a
failure under CI=true. The screenshots are written to pytest's tmp dir and
copied to $XNN_TEST_ARTIFACTS, or else to benchmarks/_out/ of this
checkout."""
import os
import re
import shutil
import subprocess
import sys
from pathlib import Path

import numpy as np
import pytest

import xnn
from xnn.widgets import Session
from xnn.widgets import preprocess as P
from xnn.widgets.session import decode

from _deps import need_program, require as need_module
from conftest import subprocess_kwargs

STATIC = Path(xnn.widgets.__file__).parent / "static"
ROOT = Path(__file__).resolve().parent.parent
MNIST = os.environ.get("XNN_MNIST_DIR")

API = "document.querySelector('.xnn-explorer').xnn"
#: the page has answered its latest state and nothing is in flight
SETTLED = f"""() => {{
  const r = document.querySelector('.xnn-explorer');
  const a = r && r.xnn;
  return !!(a && a.last && a.state && a.state.strokeEnd === null && !a.throttle.busy
            && a.last.seq === a.state.edit);
}}"""


def artifact(path):
    """Copy a file made by a test to $XNN_TEST_ARTIFACTS or benchmarks/_out/."""
    out = Path(os.environ.get("XNN_TEST_ARTIFACTS") or ROOT / "benchmarks" / "_out")
    try:
        out.mkdir(parents=True, exist_ok=True)
        shutil.copy(path, out / Path(path).name)
    except OSError as e:   # a read-only checkout: the tmp dir copy is still there
        print(f"could not copy {path} to {out}: {e}")


@pytest.fixture(scope="module")
def browser():
    sync_api = need_module("playwright.sync_api", "pip install playwright")
    chromium = need_program("chromium", "apt-get install -y chromium", env="XNN_CHROMIUM")
    with sync_api.sync_playwright() as pw:
        b = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
        yield b
        b.close()


@pytest.fixture
def page(browser):
    p = browser.new_page(viewport={"width": 1280, "height": 860})
    errors = []
    p.on("pageerror", lambda e: errors.append(str(e)))
    yield p
    p.close()
    assert not errors, f"errors in the page: {errors}"


@pytest.fixture(scope="module")
def model_file(tmp_path_factory):
    """784-32-10: trained for a second on MNIST when $XNN_MNIST_DIR has it,
    else the glorot initialisation (seed 0)."""
    model = xnn.Sequential([xnn.layers.Dense(784, 32, activation="relu"),
                            xnn.layers.Dense(32, 10, activation="softmax")], seed=0)
    if MNIST:
        X, y = xnn.datasets.load_idx_dir(MNIST)
        model.fit(X[:4000], y[:4000], epochs=2, batch_size=64, optimizer="adam", lr=1e-3, verbose=0)
    return model.save(tmp_path_factory.mktemp("model") / "m.npz")


def _start(model_file, cwd):
    p = subprocess.Popen([sys.executable, "-m", "xnn", "explore", "--model", model_file,
                          "--port", "0"], stdout=subprocess.PIPE, stderr=subprocess.STDOUT,
                         text=True, **subprocess_kwargs(cwd))
    lines = []
    for line in p.stdout:
        lines.append(line)
        m = re.search(r"xnn explorer: (http://127\.0\.0\.1:\d+/)", line)
        if m:
            return p, m.group(1)
    p.wait(30)
    pytest.fail("python -m xnn explore printed no address:\n" + "".join(lines))


def _stop(p):
    p.terminate()
    p.wait(30)
    p.stdout.close()


@pytest.fixture(scope="module")
def server(model_file, tmp_path_factory):
    p, url = _start(model_file, tmp_path_factory.mktemp("explore"))
    yield url
    _stop(p)


@pytest.fixture(scope="module")
def digits_file(tmp_path_factory):
    """64-16-10 trained on the digits' training split: the page then browses
    the test split (360 rows)."""
    X, y = xnn.datasets.load_digits()
    X_tr, _, y_tr, _ = xnn.datasets.split(X, y, test_size=0.2, seed=42)
    model = xnn.Sequential([xnn.layers.Dense(64, 16, activation="relu"),
                            xnn.layers.Dense(16, 10, activation="softmax")], seed=0)
    model.fit(X_tr, y_tr, epochs=10, batch_size=32, lr=0.2, verbose=0)
    return model.save(tmp_path_factory.mktemp("digits") / "digits.npz")


@pytest.fixture(scope="module")
def digits_server(digits_file, tmp_path_factory):
    p, url = _start(digits_file, tmp_path_factory.mktemp("explore-digits"))
    yield url
    _stop(p)


def draw(page, points, steps=8, selector=".xnn-ink"):
    """Press, move through points (canvas pixels, interpolated), release."""
    box = page.locator(selector).bounding_box()
    sx, sy = box["width"] / 280, box["height"] / 280
    at = lambda x, y: (box["x"] + x * sx, box["y"] + y * sy)
    page.mouse.move(*at(*points[0]))
    page.mouse.down()
    for (x0, y0), (x1, y1) in zip(points[:-1], points[1:]):
        for t in range(1, steps + 1):
            page.mouse.move(*at(x0 + (x1 - x0) * t / steps, y0 + (y1 - y0) * t / steps))
    page.mouse.up()


SEVEN = [(70, 60), (210, 60), (150, 230)]


def settle(page):
    page.wait_for_function(SETTLED, timeout=30000)
    return page.evaluate(f"() => {API}.last")


def map_pixels(page):
    return page.evaluate("""() => Object.fromEntries([...document.querySelectorAll('canvas.xnn-map')]
        .map((c) => [c.dataset.method, c.toDataURL()]))""")


def ink_bitmap(page):
    """The drawing as the page holds it: the alpha channel of the ink canvas."""
    data = page.evaluate("""() => { const c = document.querySelector('.xnn-ink');
        return Array.from(c.getContext('2d').getImageData(0, 0, c.width, c.height).data
                          .filter((_, i) => i % 4 === 3)); }""")
    return np.array(data, dtype=np.uint8).reshape(280, 280)


def test_standalone_page(page, server, model_file, tmp_path):
    model = xnn.load(model_file)
    # count requests in flight at once, around the page's fetch
    page.add_init_script("""(() => { const f = window.fetch; window.__flight = 0; window.__maxFlight = 0;
        window.fetch = async (...a) => { window.__flight++; window.__maxFlight = Math.max(window.__maxFlight, window.__flight);
          try { return await f(...a); } finally { window.__flight--; } }; })()""")
    page.goto(server)
    blank = settle(page)
    assert not decode(blank["image"]).any()
    before = map_pixels(page)
    bars_before = page.evaluate("() => [...document.querySelectorAll('.xnn-bar-fill')].map((e) => e.style.width)")
    draw(page, SEVEN, steps=12)
    last = settle(page)
    # the class shown is the model's prediction of the image the page reports
    img = decode(last["image"]).reshape(28, 28)
    assert img.any() and img.min() >= 0 and img.max() <= 1
    pred = int(model.predict(img.reshape(1, 784))[0])
    assert last["pred"] == pred
    assert page.locator(".xnn-pred-big").inner_text() == str(pred)
    assert page.locator(".xnn-bar.xnn-pred").get_attribute("data-class") == str(pred)
    # that image is the MNIST preprocessing of what the canvas holds
    np.testing.assert_allclose(img, P.mnist(ink_bitmap(page)), rtol=0, atol=1e-6)
    # the bars and every heat map changed
    bars = page.evaluate("() => [...document.querySelectorAll('.xnn-bar-fill')].map((e) => e.style.width)")
    assert bars != bars_before
    after = map_pixels(page)
    assert set(after) == {"saliency", "input_x_gradient", "integrated_gradients", "lrp", "occlusion"}
    assert all(after[k] != before[k] for k in after), "a heat map did not change"
    # never more than one request in flight; several updates during the stroke
    assert page.evaluate("() => window.__maxFlight") == 1
    assert page.evaluate(f"() => {API}.throttle.sent") >= 3
    shot = tmp_path / "explorer.png"
    page.screenshot(path=str(shot), full_page=True)
    artifact(shot)

    # a class clicked is explained instead of the prediction
    other = (pred + 3) % 10
    page.locator(f".xnn-bar[data-class='{other}']").click()
    r = settle(page)
    assert r["target"] == other and r["pred"] == pred
    assert f"class {other} (chosen)" in page.locator(".xnn-explaining").inner_text()
    page.locator(f".xnn-bar[data-class='{other}']").click()
    assert settle(page)["target"] == pred

    # the LRP menu
    page.select_option(".xnn-lrp", "zplus")
    r = settle(page)
    x = img.reshape(1, 784).astype(np.float32)
    lrp = next(m for m in r["maps"] if m["name"] == "lrp")
    np.testing.assert_allclose(decode(lrp["data"]), xnn.explain.lrp(model, x, rule="zplus").ravel(),
                               rtol=1e-6, atol=1e-7)

    # a method switched off is no longer asked for
    page.locator(".xnn-toggles label", has_text="occlusion").locator("input").uncheck()
    r = settle(page)
    assert [m["name"] for m in r["maps"]] == ["saliency", "input_x_gradient",
                                               "integrated_gradients", "lrp"]

    # undo and clear
    draw(page, [(40, 250), (240, 250)])
    two = settle(page)
    page.click(".xnn-undo")
    r = settle(page)
    np.testing.assert_array_equal(decode(r["image"]), decode(last["image"]))
    assert decode(two["image"]).tolist() != decode(r["image"]).tolist()
    page.click(".xnn-clear")
    assert not decode(settle(page)["image"]).any()


def test_standalone_page_data_browser(page, digits_server, digits_file, tmp_path):
    model = xnn.load(digits_file)
    page.goto(digits_server)
    settle(page)
    assert "preprocessing: digits" in page.locator(".xnn-draw .xnn-note").inner_text()
    X, y = xnn.datasets.load_digits()
    _, X_te, _, y_te = xnn.datasets.split(X, y, test_size=0.2, seed=42)
    wrong = np.flatnonzero(model.predict(X_te) != y_te)
    assert f"only misclassified ({len(wrong)})" in page.locator(".xnn-data").inner_text()
    page.locator(".xnn-only-wrong").check()
    r = settle(page)
    i = r["base"]["index"]
    assert i == wrong[0] and r["base"]["label"] == y_te[i] != r["base"]["pred"]
    np.testing.assert_array_equal(decode(r["image"]), X_te[i])
    assert r["pred"] == int(model.predict(X_te[i:i + 1])[0])
    assert f"#{i} of {len(X_te)}: true {y_te[i]}" in page.locator(".xnn-data-info").inner_text()
    # the slider walks the misclassified rows
    page.locator(".xnn-slider").fill("1")
    r = settle(page)
    assert r["base"]["index"] == wrong[1]
    # a stroke over the sample is added to it
    draw(page, [(40, 140), (240, 140)])
    r = settle(page)
    assert r["base"]["index"] == wrong[1]
    img = decode(r["image"])
    assert (img >= X_te[wrong[1]] - 1e-7).all() and img.sum() > X_te[wrong[1]].sum()
    np.testing.assert_allclose(
        img.reshape(8, 8),
        np.clip(X_te[wrong[1]].reshape(8, 8) + P.direct(ink_bitmap(page), (8, 8)), 0, 1),
        rtol=0, atol=1e-6)
    shot = tmp_path / "explorer-data.png"
    page.screenshot(path=str(shot), full_page=True)
    artifact(shot)
    page.click("text=Blank canvas")
    r = settle(page)
    assert r["base"] is None and not decode(r["image"]).any()


HARNESS = """<!doctype html>
<html><head><meta charset="utf-8"><link rel="stylesheet" href="/explorer.css"></head>
<body><div id="app"></div>
<script type="module">
import widget from "/explorer.js";
// a fake anywidget model: custom messages go to Python (pyHandle) and back
const listeners = {};
window.sent = [];
const model = {
  get() { return null; }, set() {}, save_changes() {},
  on(name, f) { (listeners[name] = listeners[name] || []).push(f); },
  off(name, f) { listeners[name] = (listeners[name] || []).filter((g) => f && g !== f); },
  send(msg) {
    window.sent.push(msg);
    window.pyHandle(msg).then((answer) => {
      answer.id = msg.id;
      for (const f of listeners["msg:custom"] || []) f(answer, []);
    });
  },
};
window.listeners = listeners;
window.cleanup = widget.render({ model, el: document.getElementById("app") });
</script></body></html>"""


def test_widget_module_in_a_harness(page, tmp_path):
    """The widget's ES module, rendered by anywidget's `render` with a fake
    model whose messages a Session answers."""
    model = xnn.Sequential([xnn.layers.Dense(64, 16, activation="relu"),
                            xnn.layers.Dense(16, 10, activation="softmax")], seed=2)
    X, y = xnn.datasets.load_digits()
    session = Session(model, X[:40], y[:40], methods=["saliency", "lrp"])
    files = {"/harness.html": (HARNESS.encode(), "text/html"),
             "/explorer.js": ((STATIC / "explorer.js").read_bytes(), "text/javascript"),
             "/explorer.css": ((STATIC / "explorer.css").read_bytes(), "text/css")}

    def route(r):
        path = "/" + r.request.url.split("/", 3)[3]
        body, ctype = files.get(path, (b"", "text/plain"))
        r.fulfill(status=200 if path in files else 404, body=body, content_type=ctype)

    page.route("http://xnn.test/**", route)
    page.expose_function("pyHandle", session.handle)
    page.goto("http://xnn.test/harness.html")
    settle(page)
    sent = page.evaluate("() => window.sent")
    assert sent[0] == {"kind": "config", "id": 1}
    assert sent[1]["kind"] == "update" and "bitmap" not in sent[1]
    assert page.locator(".xnn-bar").count() == 10
    assert page.locator(".xnn-card").count() == 2
    assert page.locator(".xnn-data").count() == 1
    draw(page, [(140, 30), (140, 250)])
    r = settle(page)
    sent = page.evaluate("() => window.sent")
    last = sent[-1]
    assert last["kind"] == "update" and last["canvas"] == [280, 280] and len(last["bitmap"]) > 0
    # the rectangle of the ink, not the whole canvas
    assert last["width"] < 280 and last["left"] > 0
    img = decode(r["image"]).reshape(8, 8)
    np.testing.assert_array_equal(img, P.digits(ink_bitmap(page)).astype(np.float32))
    assert page.locator(".xnn-pred-big").inner_text() == str(int(model.predict(img.reshape(1, 64))[0]))
    shot = tmp_path / "explorer-widget.png"
    page.screenshot(path=str(shot), full_page=True)
    artifact(shot)
    page.evaluate("() => window.cleanup()")
    page.wait_for_function("() => !document.querySelector('.xnn-explorer')")
    assert page.evaluate("() => (window.listeners['msg:custom'] || []).length") == 0
