"""Speed of xnn.visualize: activation maximization, MFV facets, Deep Dream.

    python benchmarks/bench_visualize.py [--repeats 5] [--quick]

Measures, each the median of several repeats:

- activation maximization of the 10 class logits of the MNIST MLP
  784-128-64-10, 256 steps with blur (every 4 steps) and jitter; beside
  it the 256 C gradient calls alone, so the difference is the Python and
  regularizer overhead per step (target: under 50 ms);
- the same for the 64 channels of the second convolution of the Keras
  MNIST CNN (Conv2d(1,32,3) MaxPool Conv2d(32,64,3) MaxPool Flatten
  Dense(1600,128) Dense(128,10)) (target: under 3 s);
- the regularizers' kernels on ten 28x28 images (SciPy's ndimage filter
  against its matrix form, jitter, total variation gradient);
- ``facets`` for one MNIST class of the test set (about 1,000 images),
  each part (codes, PCA, t-SNE, k-means, AM), with scikit-learn's t-SNE
  and with openTSNE when installed (target: under 10 s);
- Deep Dream's gradient per step: the head construction used by
  ``deep_dream`` against the sum over units of a_u ∇a_u (one batched call
  of m x units rows).

Data: the MNIST test set in $XNN_MNIST_DIR or ../shared/data/mnist (the
MLP is trained on it for two epochs first), else random images.
"""
import argparse
import os
import sys
import time

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
try:
    import xnn  # noqa: E402  (installed)
except ImportError:  # an in-place build in this checkout
    sys.path.insert(0, os.path.dirname(HERE))
    import xnn  # noqa: E402
from timing import timings  # noqa: E402
from xnn import _core  # noqa: E402
from xnn.explain import _common as EC  # noqa: E402
from xnn.visualize import regularizers as R  # noqa: E402
from xnn.visualize.maximize import _LayerNormObjective  # noqa: E402

L = xnn.layers
V = xnn.visualize
TARGETS = {"mlp": 0.050, "cnn": 3.0, "facets": 10.0}


def median(fn, repeats, warmup=1):
    return float(np.median(timings(fn, repeats, warmup)))


def load():
    """The MNIST test set from $XNN_MNIST_DIR or a shared/ folder beside the
    checkout (or beside its parent, for a worktree), else random images."""
    for d in (os.environ.get("XNN_MNIST_DIR"),
              os.path.join(HERE, "..", "..", "shared", "data", "mnist"),
              os.path.join(HERE, "..", "..", "..", "shared", "data", "mnist")):
        if d and os.path.isdir(d):
            try:
                X, y = xnn.datasets.load_idx_dir(d)
                return X, y, f"MNIST IDX files in {os.path.abspath(d)}"
            except (FileNotFoundError, ValueError):
                continue
    rng = np.random.default_rng(0)
    return (rng.uniform(size=(10000, 784)).astype(np.float32), rng.integers(0, 10, 10000),
            "random images (no MNIST found)")


def mlp_model():
    return xnn.Sequential([L.Dense(784, 128, activation="relu"),
                           L.Dense(128, 64, activation="relu"),
                           L.Dense(64, 10, activation="softmax")], seed=0)


def cnn_model():
    return xnn.Sequential([L.Conv2d(1, 32, 3, activation="relu"), L.MaxPool2d(2),
                           L.Conv2d(32, 64, 3, activation="relu"), L.MaxPool2d(2), L.Flatten(),
                           L.Dense(1600, 128, activation="relu"),
                           L.Dense(128, 10, activation="softmax")],
                          input_shape=(1, 28, 28), seed=0)


def c_only(model, node, units, steps, x0):
    """The C gradient calls of the ascent alone (the same rows each step)."""
    net = EC.network(model)
    Xc = model._X(x0)
    units = np.ascontiguousarray(units, dtype=np.int64)

    def run():
        for _ in range(steps):
            _core.explain_gradient(net, Xc, units, EC.STARTS["logit"], EC.GRAD_PLAIN, node)
    return run


ROWS = []          # every row printed, for run.py: {part, measurement, seconds, target, note}
_PART = [""]


def begin(title):
    _PART[0] = title
    print(f"\n{title}:")


def row(name, seconds, target=None, note=""):
    t = f"{seconds * 1e3:10.2f} ms" if seconds < 1 else f"{seconds:10.3f} s "
    goal = ""
    if target is not None:
        goal = f"target {target * 1e3:.0f} ms" if target < 1 else f"target {target:.0f} s"
        goal += " (ok)" if seconds <= target else " (over)"
    print(f"  {name:<52}{t}   {goal:<22}{note}")
    ROWS.append({"part": _PART[0], "measurement": name.strip(), "seconds": seconds,
                 "target s": target, "note": note})


def bench_regularizers(repeats):
    from scipy import ndimage
    begin("regularizers on ten 28x28 images (float32)")
    x = np.random.default_rng(0).uniform(size=(10, 1, 28, 28)).astype(np.float32)
    n = 200

    def loop(f):
        return lambda: [f() for _ in range(n)]
    t = median(loop(lambda: ndimage.gaussian_filter1d(
        ndimage.gaussian_filter1d(x, 1.0, axis=-2, mode="constant"), 1.0, axis=-1,
        mode="constant")), repeats) / n
    row("blur, scipy.ndimage.gaussian_filter1d x 2", t)
    t = median(loop(lambda: R.gaussian_blur(x, 1.0)), repeats) / n
    row("blur, its matrices (regularizers.gaussian_blur)", t)
    out = np.empty_like(x)
    t = median(loop(lambda: R.jitter(x, (1, -1), out=out)), repeats) / n
    row("jitter (four block copies)", t)
    t = median(loop(lambda: np.roll(x, (1, -1), axis=(2, 3))), repeats) / n
    row("jitter, np.roll", t)
    t = median(loop(lambda: R.total_variation_grad(x)), repeats) / n
    row("total variation gradient", t)


def bench_am(mlp, cnn, repeats, quick):
    begin("activation maximization, 256 steps, blur every 4 (sigma 1), jitter 1")
    rng = np.random.default_rng(0)
    x0 = rng.uniform(size=(10, 784)).astype(np.float32)
    am = lambda: V.activation_maximization(mlp, target=np.arange(10), init=x0, steps=256, seed=0)  # noqa: E731
    t_am = median(am, repeats)
    t_c = median(c_only(mlp, 2, np.arange(10), 256, x0), repeats)
    row("MLP, 10 class logits (one batch)", t_am, TARGETS["mlp"])
    row("  of which the 256 C gradient calls", t_c, note=f"overhead {(t_am - t_c) / 256 * 1e6:.0f} µs/step")
    t_plain = median(lambda: V.activation_maximization(mlp, target=np.arange(10), init=x0,
                                                       steps=256, blur_every=0, jitter=0), repeats)
    row("MLP, no blur, no jitter", t_plain)
    x1 = rng.uniform(size=(64, 1, 28, 28)).astype(np.float32)
    reps = 1 if quick else max(1, repeats // 2)
    t_cnn = median(lambda: V.activation_maximization(cnn, layer=2, unit=np.arange(64), init=x1,
                                                     steps=256, seed=0), reps, warmup=0)
    steps = 16
    t_cc = median(c_only(cnn, 2, np.arange(64), steps, x1), reps) * 256 / steps
    row("CNN, 64 channels of layer 2 (one batch)", t_cnn, TARGETS["cnn"])
    row("  of which the 256 C gradient calls", t_cc, note=f"{t_cc / 256 * 1e3:.1f} ms/step")


def bench_facets(mlp, X, y, cls, repeats):
    from xnn.visualize import mfv as F
    begin(f"facets of class {cls} ({int((y == cls).sum())} images), layer 1, k=10, m=15, pca=50")
    backends = ["sklearn"] + (["opentsne"] if F._opentsne() is not None else [])
    for b in backends:
        runs = [V.facets(mlp, X, y, cls=cls, layer=1, seed=0, tsne=b) for _ in range(max(1, repeats // 2))]
        total = [sum(r.times.values()) for r in runs]
        i = int(np.argsort(total)[len(total) // 2])
        t = runs[i].times
        row(f"facets, t-SNE by {b}", total[i], TARGETS["facets"])
        for part in ("codes", "pca", "tsne", "kmeans", "am"):
            row(f"  {part}", t[part])
    if len(backends) == 1:
        print("  (openTSNE is not installed: pip install openTSNE to compare)")


def bench_dream(mlp, cnn, repeats):
    begin("Deep Dream gradient per step (d ½‖A_l‖² / dx), one image")
    rng = np.random.default_rng(0)
    for name, model, layer in (("MLP layer 1 (64 units)", mlp, 1),
                               ("MLP layer 0 (128 units)", mlp, 0),
                               ("CNN layer 2 (64 x 11 x 11)", cnn, 2)):
        x = model._X(rng.uniform(size=(1, model.n_in)).astype(np.float32))
        obj = _LayerNormObjective(model, layer, 1)
        t_head = median(lambda: obj(x), repeats * 4)
        row(f"{name}: forward + head gradient", t_head)
        shape = model.layers[layer].output_shape_
        if len(shape) == 1:
            n = shape[0]
            net = EC.network(model)
            Xr = np.repeat(x, n, axis=0)
            units = np.arange(n, dtype=np.int64)

            def by_units():
                A = model.activations(x)[layer]
                G, _ = _core.explain_gradient(net, Xr, units, EC.STARTS["logit"], EC.GRAD_PLAIN,
                                              layer)
                return (A.reshape(n, 1) * G).sum(axis=0)
            t_units = median(by_units, repeats * 4)
            row(f"{name}: Σ_u a_u ∇a_u ({n} rows)", t_units)
        else:
            print(f"  {name}: Σ over units needs a per-position start (not in the API)")


def run(repeats=5, quick=False):
    """Every part, printed; returns the rows (ROWS)."""
    del ROWS[:]
    X, y, source = load()
    print(f"xnn {xnn.__version__}, kernels {xnn.isa()}, {xnn.get_num_threads()} threads; "
          f"data: {source}")
    mlp = mlp_model()
    t0 = time.perf_counter()
    mlp.fit(X, y, epochs=2, batch_size=64, lr=0.1, verbose=0)
    print(f"MLP trained for 2 epochs in {time.perf_counter() - t0:.1f} s "
          f"(accuracy {mlp.evaluate(X, y)['accuracy']:.3f} on those rows)")
    cnn = cnn_model()
    bench_regularizers(repeats)
    bench_am(mlp, cnn, repeats, quick)
    cls = 3     # 1,010 images of the MNIST test set
    bench_facets(mlp, X, y, cls, repeats)
    bench_dream(mlp, cnn, repeats)
    return list(ROWS)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--repeats", type=int, default=5)
    ap.add_argument("--quick", action="store_true", help="fewer repeats of the CNN")
    args = ap.parse_args()
    run(args.repeats, args.quick)


if __name__ == "__main__":
    main()
