"""Latency of the live explorer in a real browser: from the end of a stroke
to the updated heat maps.

    python benchmarks/bench_explorer.py [--strokes 60] [--random]

Starts ``python -m xnn explore`` with the MNIST report's network
784-128-64-10 (trained for one epoch on MNIST when $XNN_MNIST_DIR or
../shared/data/mnist has it, else random weights; ``--random`` forces
them) showing saliency, LRP-ε and integrated gradients (50 steps), drives
the page in headless Chromium (Debian's ``chromium``, or $XNN_CHROMIUM)
with Playwright, draws ``--strokes`` strokes, and prints the median and
95th percentile of the time from the pointer's release to the moment the
page has painted the answer to the state that includes the whole stroke.
That time includes waiting for an update still in flight when the stroke
ends (the page keeps one request in flight at most). Targets: median under
30 ms, p95 under 60 ms.

Needs ``pip install playwright`` and ``apt-get install -y chromium``.
"""
import argparse
import os
import re
import subprocess
import sys
import tempfile

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
try:
    import xnn  # noqa: E402  (installed)
except ImportError:  # an in-place build in this checkout
    sys.path.insert(0, os.path.dirname(HERE))
    import xnn  # noqa: E402

METHODS = "saliency,lrp,integrated_gradients"
TARGET_MEDIAN_MS, TARGET_P95_MS = 30.0, 60.0
SETTLED = """() => { const r = document.querySelector('.xnn-explorer'); const a = r && r.xnn;
  return !!(a && a.last && a.state && a.state.strokeEnd === null && !a.throttle.busy
            && a.last.seq === a.state.edit); }"""


def mnist_dir():
    for d in (os.environ.get("XNN_MNIST_DIR"), os.path.join(HERE, "..", "..", "shared", "data", "mnist"),
              "/work/shared/data/mnist"):
        if d and os.path.isdir(d):
            return d
    return None


def make_model(path, random_weights):
    model = xnn.Sequential([xnn.layers.Dense(784, 128, activation="relu"),
                            xnn.layers.Dense(128, 64, activation="relu"),
                            xnn.layers.Dense(64, 10, activation="softmax")],
                           init="glorot_uniform", seed=0)
    d = None if random_weights else mnist_dir()
    if d is None:
        how = "random weights (glorot_uniform, seed 0)"
    else:
        X, y = xnn.datasets.load_idx_dir(d)
        model.fit(X[:8000], y[:8000], epochs=1, batch_size=64, optimizer="adam", lr=1e-3, verbose=0)
        acc = model.evaluate(X[8000:], y[8000:])["accuracy"]
        how = f"trained 1 epoch (Adam) on 8,000 MNIST rows, accuracy {acc:.3f} on the other 2,000"
    model.save(path)
    return how


def strokes(n, seed=0):
    """n strokes of 3 to 5 points on the 280 x 280 canvas."""
    rng = np.random.default_rng(seed)
    out = []
    for _ in range(n):
        k = int(rng.integers(3, 6))
        out.append([(float(x), float(y)) for x, y in rng.uniform(40, 240, (k, 2))])
    return out


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--strokes", type=int, default=60, help="strokes drawn (default 60)")
    ap.add_argument("--steps", type=int, default=6, help="mouse moves per segment (default 6)")
    ap.add_argument("--random", action="store_true", help="random weights, no training")
    args = ap.parse_args(argv)
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        sys.exit("bench_explorer needs Playwright: pip install playwright")
    chromium = os.environ.get("XNN_CHROMIUM") or "/usr/bin/chromium"
    if not os.path.exists(chromium):
        sys.exit(f"bench_explorer needs Chromium at {chromium}: apt-get install -y chromium "
                 "(or set $XNN_CHROMIUM)")

    tmp = tempfile.mkdtemp(prefix="xnn-bench-explorer-")
    model_path = os.path.join(tmp, "mlp.npz")
    how = make_model(model_path, args.random)
    env = dict(os.environ)
    env["PYTHONPATH"] = os.pathsep.join([os.path.dirname(os.path.dirname(xnn.__file__))] +
                                        ([env["PYTHONPATH"]] if env.get("PYTHONPATH") else []))
    server = subprocess.Popen([sys.executable, "-m", "xnn", "explore", "--model", model_path,
                               "--port", "0", "--methods", METHODS],
                              stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                              env=env, cwd=tmp)
    url = None
    for line in server.stdout:
        m = re.search(r"xnn explorer: (http://\S+)", line)
        if m:
            url = m.group(1)
            break
    if url is None:
        server.wait(30)
        sys.exit("python -m xnn explore did not start")
    try:
        with sync_playwright() as pw:
            browser = pw.chromium.launch(executable_path=chromium, args=["--no-sandbox"])
            page = browser.new_page(viewport={"width": 1280, "height": 860})
            page.goto(url)
            page.wait_for_function(SETTLED, timeout=60000)
            box = page.locator(".xnn-ink").bounding_box()
            at = lambda x, y: (box["x"] + x * box["width"] / 280, box["y"] + y * box["height"] / 280)
            api = "document.querySelector('.xnn-explorer').xnn"
            for i, pts in enumerate(strokes(5, seed=1) + strokes(args.strokes, seed=2)):
                if i == 5:
                    # the first five strokes warm up, uncounted
                    page.evaluate(f"() => {{ {api}.latencies = []; {api}.stats = {{ rtt: [], python: [] }}; }}")
                page.click(".xnn-clear")
                page.wait_for_function(SETTLED, timeout=30000)
                page.mouse.move(*at(*pts[0]))
                page.mouse.down()
                for (x0, y0), (x1, y1) in zip(pts[:-1], pts[1:]):
                    for t in range(1, args.steps + 1):
                        page.mouse.move(*at(x0 + (x1 - x0) * t / args.steps,
                                            y0 + (y1 - y0) * t / args.steps))
                page.mouse.up()
                page.wait_for_function(SETTLED, timeout=30000)
            res = page.evaluate(f"() => ({{ lat: {api}.latencies, sent: {api}.throttle.sent,"
                                f" replaced: {api}.throttle.replaced, stats: {api}.stats }})")
            browser.close()
    finally:
        server.terminate()
        server.wait(30)
        server.stdout.close()

    lat = np.array([x["ms"] for x in res["lat"] if x["what"] == "stroke"])
    stats = res["stats"]
    py = np.array(stats["python"])
    rtt = np.array(stats["rtt"])
    print(f"xnn explorer latency, {len(lat)} strokes, model 784-128-64-10: {how}")
    print(f"methods: {METHODS.replace(',', ', ')} (integrated gradients: 50 steps)")
    print(f"requests sent {res['sent']}, states replaced while one was in flight {res['replaced']}")
    print(f"stroke end -> heat maps painted: median {np.median(lat):.1f} ms, "
          f"p95 {np.percentile(lat, 95):.1f} ms, max {lat.max():.1f} ms "
          f"(targets: median < {TARGET_MEDIAN_MS:g} ms, p95 < {TARGET_P95_MS:g} ms)")
    print(f"per request: round trip median {np.median(rtt):.1f} ms, p95 {np.percentile(rtt, 95):.1f} ms; "
          f"Python's share median {np.median(py):.2f} ms, p95 {np.percentile(py, 95):.2f} ms")
    ok = np.median(lat) < TARGET_MEDIAN_MS and np.percentile(lat, 95) < TARGET_P95_MS
    print("targets met" if ok else "targets NOT met (a shared machine? see the caveat in the docstring)")
    return 0


if __name__ == "__main__":
    sys.exit(main())
