"""Speed of xnn.explain on MNIST: saliency, LRP-epsilon and integrated
gradients, against batched NumPy (numpy_explain.py) and Captum.

Network 784-128-64-10 (ReLU, ReLU, softmax), float32, trained for two
epochs of minibatch SGD on the 10,000 MNIST test images it then explains
(the weights only need to be realistic, not good). Rows:
  batch      10,000 images in one call: seconds and images/s
  latency    one image: median of many calls, microseconds
Captum runs the same weights (torch.nn.Sequential of Linear/ReLU, logits)
with torch.set_num_threads equal to xnn's thread count.

    python benchmarks/bench_explain.py [--quick]
"""
import argparse
import gzip
import os
import statistics
import sys
import time

if __name__ == "__main__":      # before NumPy loads its BLAS
    import blas_env
    blas_env.rerun_without_blas_vars()

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
sys.path.insert(1, os.path.dirname(HERE))
import numpy_explain as NE  # noqa: E402
from timing import timings  # noqa: E402

import xnn  # noqa: E402
import xnn.explain as E  # noqa: E402

MNIST = os.environ.get("XNN_MNIST", "/work/shared/data/mnist")


def read_idx(path):
    """An IDX file (gzip or not) as a NumPy array."""
    opener = gzip.open if path.endswith(".gz") else open
    with opener(path, "rb") as f:
        data = f.read()
    ndim = data[3]
    dims = [int.from_bytes(data[4 + 4 * i: 8 + 4 * i], "big") for i in range(ndim)]
    return np.frombuffer(data, dtype=np.uint8, offset=4 + 4 * ndim).reshape(dims)


def load_mnist_test():
    X = read_idx(os.path.join(MNIST, "t10k-images-idx3-ubyte.gz")).reshape(-1, 784)
    y = read_idx(os.path.join(MNIST, "t10k-labels-idx1-ubyte.gz"))
    return (X / 255.0).astype(np.float32), y.astype(np.int64)


def make_model(X, y, epochs=2):
    model = xnn.Sequential([
        xnn.layers.Dense(784, 128, activation="relu"),
        xnn.layers.Dense(128, 64, activation="relu"),
        xnn.layers.Dense(64, 10, activation="softmax"),
    ], init="xavier", seed=42, dtype="float32")
    model.fit(X, y, epochs=epochs, batch_size=128, lr=0.1, verbose=0)
    return model


PAUSE = 0.5   # seconds: idle worker threads of the previous library stop spinning


def median_time(fn, repeat):
    """median of max(3, repeat) timings, after a pause and one warm-up call"""
    time.sleep(PAUSE)
    return float(np.median(timings(fn, max(3, repeat))))


def median_us(fn, n):
    """median of n one-image calls, in microseconds"""
    time.sleep(PAUSE)
    return statistics.median(timings(fn, n, warmup=min(50, n))) * 1e6


def torch_model(model):
    import torch
    mods = []
    for i, ly in enumerate(model.layers):
        lin = torch.nn.Linear(ly.n_in, ly.n_out)
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(np.ascontiguousarray(ly.W.T)))
            lin.bias.copy_(torch.from_numpy(ly.b))
        mods.append(lin)
        if i < len(model.layers) - 1:
            mods.append(torch.nn.ReLU())
    return torch.nn.Sequential(*mods).eval()


def run(quick=False, captum=True):
    """Benchmark rows: dicts with method, impl, batch, seconds, per_second,
    latency_us, speedup (of xnn over that row's implementation)."""
    X, y = load_mnist_test()
    model = make_model(X, y, epochs=1 if quick else 2)
    threads = xnn.get_num_threads()
    net = [(ly.W, ly.b, ly.activation) for ly in model.layers]
    t = model.predict(X)
    m = X.shape[0]
    rep = 2 if quick else 5
    n_lat = 200 if quick else 2000
    rows = []

    def add(method, impl, batch, seconds=None, latency=None, ref=None):
        row = {"method": method, "impl": impl, "batch": batch, "threads": threads}
        if seconds is not None:
            row["seconds"] = seconds
            row["per_second"] = batch / seconds
        if latency is not None:
            row["latency_us"] = latency
        if ref is not None:
            row["xnn_speedup"] = ref
        rows.append(row)
        return row

    x1 = X[:1]
    t1 = t[:1]
    # xnn
    xs = median_time(lambda: E.saliency(model, X, t), rep)
    xl = median_time(lambda: E.lrp(model, X, t, rule="epsilon", epsilon=1e-6), rep)
    xi = median_time(lambda: E.integrated_gradients(model, X[:1000], t[:1000], steps=50), max(1, rep // 2))
    add("saliency", "xnn", m, xs, median_us(lambda: E.saliency(model, x1, t1), n_lat))
    add("lrp-epsilon", "xnn", m, xl, median_us(lambda: E.lrp(model, x1, t1), n_lat))
    add("ig-50", "xnn", 1000, xi, median_us(lambda: E.integrated_gradients(model, x1, t1, steps=50),
                                           n_lat // 10))
    # NumPy
    ns = median_time(lambda: NE.saliency(net, X, t), rep)
    nl = median_time(lambda: NE.lrp_epsilon(net, X, t), rep)
    ni = median_time(lambda: NE.integrated_gradients(net, X[:1000], t[:1000]), max(1, rep // 2))
    add("saliency", "numpy", m, ns, median_us(lambda: NE.saliency(net, x1, t1), n_lat), ns / xs)
    add("lrp-epsilon", "numpy", m, nl, median_us(lambda: NE.lrp_epsilon(net, x1, t1), n_lat), nl / xl)
    add("ig-50", "numpy", 1000, ni, None, ni / xi)
    if captum:
        try:
            import torch
            from captum.attr import LRP, IntegratedGradients, Saliency
        except ImportError:
            return rows
        torch.set_num_threads(threads)
        tm = torch_model(model)
        TX, Tt = torch.from_numpy(X), torch.from_numpy(t)
        sal, lrp = Saliency(tm), LRP(tm)
        ig = IntegratedGradients(tm)
        cs = median_time(lambda: sal.attribute(TX, target=Tt, abs=True), rep)
        cl = median_time(lambda: lrp.attribute(TX, target=Tt), rep)
        ci = median_time(lambda: ig.attribute(TX[:1000], target=Tt[:1000], n_steps=50,
                                            internal_batch_size=10000), max(1, rep // 2))
        tx1, tt1 = TX[:1], Tt[:1]
        add("saliency", "captum", m, cs,
            median_us(lambda: sal.attribute(tx1, target=tt1, abs=True), n_lat // 4), cs / xs)
        add("lrp-epsilon", "captum", m, cl, median_us(lambda: lrp.attribute(tx1, target=tt1),
                                                      n_lat // 4), cl / xl)
        add("ig-50", "captum", 1000, ci,
            median_us(lambda: ig.attribute(tx1, target=tt1, n_steps=50), n_lat // 20), ci / xi)
    return rows


def table(rows):
    lines = ["| method | impl | batch | threads | seconds | images/s | 1-image latency (µs) | xnn speed-up |",
             "|---|---|---|---|---|---|---|---|"]
    for r in rows:
        sec = f"{r['seconds']:.4f}" if "seconds" in r else ""
        ps = f"{r['per_second']:,.0f}" if "per_second" in r else ""
        lat = f"{r['latency_us']:.1f}" if "latency_us" in r else ""
        sp = f"{r['xnn_speedup']:.2f}x" if "xnn_speedup" in r else ""
        lines.append(f"| {r['method']} | {r['impl']} | {r['batch']} | {r['threads']} | {sec} | {ps} | {lat} | {sp} |")
    return "\n".join(lines)


if __name__ == "__main__":
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--no-captum", action="store_true")
    a = ap.parse_args()
    print(f"xnn isa={xnn.isa()} threads={xnn.get_num_threads()}")
    print(table(run(quick=a.quick, captum=not a.no_captum)))
