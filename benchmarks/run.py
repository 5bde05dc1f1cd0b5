"""xnn's benchmark: one command, every comparison measured side by side.

    python benchmarks/run.py            # print the tables
    python benchmarks/run.py --write    # and write benchmarks/RESULTS.md

Sections: matrix products against NumPy's BLAS; one training epoch of the
MNIST report's 784-128-64-10 network against the report's NumPy algorithm,
PyTorch and scikit-learn; sustained GFLOP/s against NumPy's 2048^3 rate;
peak memory; 1 vs 2 threads; per-step overhead; explanations (saliency,
LRP, integrated gradients) against NumPy and Captum; convolutional networks
(LeNet-5 and the Keras MNIST CNN: training epochs and their memory against
PyTorch, every convolution's forward, dX and dW rates, forward throughput
and latency) and their explanations (saliency, Grad-CAM, LRP
epsilon-plus-flat) against Captum and Zennit, from benchmarks/bench_cnn.py;
feature visualization (activation maximization, facets, Deep Dream) from
benchmarks/bench_visualize.py; Dask's overhead on a local two-worker cluster
from benchmarks/bench_dask.py. Every figure is the median of several repeats, and every ratio is taken
within this run.

    python benchmarks/run.py --only cnn cnn-explain    # some sections

PyTorch, Captum, Zennit and scikit-learn are optional (``pip install
".[bench]"``); missing ones are reported as such. Data: full MNIST from the
OpenML cache when present, otherwise the 10,000-image MNIST test set found in
$XNN_MNIST_DIR or shared/data/mnist beside this checkout or a parent
directory, tiled six times to 60,000 rows; the CNN sections use the test set
(tiled for their epochs). When OPENBLAS_CORETYPE or OPENBLAS_L2_SIZE is set,
the benchmark runs itself again without them (they change NumPy's BLAS
kernel) and says so.
"""
import argparse
import datetime
import os
import platform
import subprocess
import sys
import tempfile
import time
import warnings

if __name__ == "__main__":      # before NumPy loads its BLAS
    import blas_env
    blas_env.rerun_without_blas_vars()

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, HERE)
import blas_env  # noqa: E402
try:
    import xnn  # noqa: E402  (installed)
except ImportError:  # an in-place build in this checkout
    sys.path.insert(0, os.path.dirname(HERE))
    import xnn  # noqa: E402
import numpy_mlp  # noqa: E402
from timing import timings, worker  # noqa: E402

SIZES = [784, 128, 64, 10]
LR = 0.01


# ------------------------------------------------------------------ helpers

def median_time(fn, repeats, warmup=1):
    return float(np.median(timings(fn, repeats, warmup)))


def epoch_flops(m, sizes=SIZES):
    """Multiply-adds x 2 of one epoch: forward, dW of every layer, dX of all but the first."""
    p = [i * o for i, o in zip(sizes[:-1], sizes[1:])]
    return 2.0 * m * (2 * sum(p) + sum(p[1:]))


def load_data():
    """(X float32 (60000, 784), labels, description)."""
    from xnn import datasets
    cache = os.path.join(datasets.get_data_home(), "mnist_784-v1.npz")
    if os.path.exists(cache):
        X, y = datasets.load_mnist(verbose=False)
        return X[:60000], y[:60000], "OpenML mnist_784 (cache), first 60,000 rows"
    import bench_cnn
    d = bench_cnn.mnist_dir()
    X, y = datasets.load_idx_dir(d, kind="t10k")
    return (np.ascontiguousarray(np.tile(X, (6, 1))), np.tile(y, 6),
            f"MNIST test set (10,000 images from {os.path.normpath(d)}) tiled 6 times")


def machine():
    cpu = platform.processor() or platform.machine()
    try:
        with open("/proc/cpuinfo") as f:
            for line in f:
                if line.startswith("model name"):
                    cpu = line.split(":", 1)[1].strip()
                    break
    except OSError:
        pass
    import bench_cnn
    info = {"cpu": cpu, "cores": os.cpu_count(), "python": platform.python_version()}
    info.update(bench_cnn.versions())   # xnn, its isa, numpy and its BLAS, torch, captum, zennit
    try:
        info["sklearn"] = __import__("sklearn").__version__
    except ImportError:
        info["sklearn"] = "not installed"
    return info


# ------------------------------------------------------------------ sections

GEMM_REPEATS = 9   # short timings on a shared machine: more of them


def gemm_section(repeats):
    """bench_gemm's rows (xnn and numpy.matmul timed in turn, with pauses)."""
    import bench_gemm
    rows, rate2048 = [], {}
    for r in bench_gemm.run(repeats=max(GEMM_REPEATS, repeats)):
        if r["shape"] == "2048^3" and r["dtype"] == "float32":
            rate2048["xnn float32"] = r["xnn_gflops"]
        dims = f"{r['m']}x{r['n']}x{r['k']}" + (" (A^T)" if r["trans_a"] else "") + (" (B^T)" if r["trans_b"] else "")
        rows.append({"product": r["shape"], "m x n x k": dims, "dtype": r["dtype"],
                     "xnn GFLOP/s": r["xnn_gflops"], "numpy GFLOP/s": r["numpy_gflops"],
                     "xnn / numpy": r["ratio"], "(best runs)": r["ratio_best"]})
        if r["shape"] == "2048^3":
            rate2048[r["dtype"]] = r["numpy_gflops"]
    return rows, rate2048


def xnn_model(dtype, seed=42):
    return xnn.Sequential([xnn.layers.Dense(i, o, activation="relu" if o != 10 else "softmax")
                           for i, o in zip(SIZES[:-1], SIZES[1:])], init="mnist_report", seed=seed,
                          dtype=dtype)


def torch_epoch_fn(X, y, bs, threads):
    import torch
    torch.set_num_threads(threads)
    dt = torch.float64 if X.dtype == np.float64 else torch.float32
    torch.manual_seed(0)
    layers = []
    for i, o in zip(SIZES[:-1], SIZES[1:]):
        layers.append(torch.nn.Linear(i, o).to(dt))
        if o != 10:
            layers.append(torch.nn.ReLU())
    net = torch.nn.Sequential(*layers)
    opt = torch.optim.SGD(net.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)
    m = X.shape[0]

    def epoch():
        perm = torch.randperm(m) if bs < m else None
        for s in range(0, m, bs):
            if perm is None:
                xb, yb = Xt, yt
            else:
                idx = perm[s:s + bs]
                xb, yb = Xt[idx], yt[idx]
            opt.zero_grad(set_to_none=True)
            loss = loss_fn(net(xb), yb)
            loss.backward()
            opt.step()
    return epoch


def sklearn_epoch_fn(X, y, bs):
    from sklearn.exceptions import ConvergenceWarning
    from sklearn.neural_network import MLPClassifier

    def epoch():
        clf = MLPClassifier(hidden_layer_sizes=tuple(SIZES[1:-1]), solver="sgd", batch_size=bs,
                            learning_rate_init=LR, momentum=0.0, nesterovs_momentum=False, alpha=0.0,
                            max_iter=1, shuffle=True, random_state=0)
        with warnings.catch_warnings():
            warnings.simplefilter("ignore", ConvergenceWarning)
            clf.fit(X, y)
    return epoch


def _epoch_worker(framework, dtype, bs, base, repeats, threads):
    """Median time of one epoch of one framework, in this (fresh) process."""
    X = np.load(base + "_X.npy").astype(dtype)
    y = np.load(base + "_y.npy")
    bs = None if bs == 0 else bs
    if framework == "xnn":
        xnn.set_num_threads(threads)
        model = xnn_model(dtype)
        fn = lambda: model.fit(X, y, epochs=1, batch_size=bs, lr=LR, verbose=0)  # noqa: E731
    elif framework == "numpy":
        Y = np.eye(10, dtype=dtype)[y]
        params = numpy_mlp.init(SIZES, dtype=dtype)
        rng = np.random.default_rng(0)
        fn = lambda: numpy_mlp.epoch(params, X, Y, LR, bs, rng)  # noqa: E731
    elif framework == "torch":
        fn = torch_epoch_fn(X, y, bs or X.shape[0], threads)
    else:
        fn = sklearn_epoch_fn(X, y, bs)
        repeats = max(1, repeats // 2)
    return median_time(fn, repeats, warmup=0 if framework == "sklearn" else 1)


def _in_subprocess(args):
    """Run ``run.py --worker args`` in a fresh process; its median time, or
    None when the framework is not installed."""
    words = worker(os.path.abspath(__file__), args)
    return None if words is None else float(words[-1])


EPOCH_ROUNDS = 3


def epoch_section(X32, y, repeats, threads):
    """Each figure in its own process, so no library's idle threads (OpenMP
    spinning after PyTorch, say) slow another's. The frameworks take turns:
    EPOCH_ROUNDS rounds each run every framework once (median of its
    repeats), and a figure is the median over the rounds, so that a slow
    spell of a shared machine falls on all of them alike."""
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "data")
        np.save(base + "_X.npy", X32)
        np.save(base + "_y.npy", y)
        for dtype in ("float32", "float64"):
            for label, bs in (("full batch", 0), ("minibatch 128", 128)):
                fws = ("xnn", "numpy", "torch", "sklearn") if bs else ("xnn", "numpy", "torch")
                runs = {fw: [] for fw in fws}
                for _ in range(EPOCH_ROUNDS):
                    for fw in fws:
                        runs[fw].append(_in_subprocess([fw, dtype, bs, base, repeats, threads]))
                t = {fw: None if None in v else float(np.median(v)) for fw, v in runs.items()}
                row = {"epoch": f"{label}, {dtype}", "xnn s": t["xnn"], "numpy s": t["numpy"],
                       "xnn/numpy": t["xnn"] / t["numpy"]}
                row["torch s"] = t["torch"]
                row["xnn/torch"] = t["xnn"] / t["torch"] if t["torch"] else None
                if bs:
                    row["sklearn s"] = t["sklearn"]
                    row["xnn/sklearn"] = t["xnn"] / t["sklearn"] if t["sklearn"] else None
                row["xnn GFLOP/s"] = epoch_flops(X32.shape[0]) / t["xnn"] / 1e9
                rows.append(row)
    return rows


MEMORY_SCRIPT = r"""
import sys, numpy as np
sys.path[:0] = [{here!r}, {root!r}]
which, path = sys.argv[1], sys.argv[2]
X = np.load(path + "_X.npy"); y = np.load(path + "_y.npy")
if which == "xnn":
    import xnn
    model = xnn.Sequential([xnn.layers.Dense(784, 128, activation="relu"),
                            xnn.layers.Dense(128, 64, activation="relu"),
                            xnn.layers.Dense(64, 10, activation="softmax")], init="mnist_report", seed=42)
    run = lambda: model.fit(X, y, epochs=1, lr=0.01, verbose=0)
else:
    import numpy_mlp
    params = numpy_mlp.init([784, 128, 64, 10])
    Y = np.eye(10, dtype=np.float32)[y]
    run = lambda: numpy_mlp.epoch(params, X, Y, 0.01)
def status(key):
    for line in open("/proc/self/status"):
        if line.startswith(key):
            return int(line.split()[1]) / 1024.0
with open("/proc/self/clear_refs", "w") as f:
    f.write("5")   # reset the peak to the current resident size
before = status("VmRSS:")
run()
print(before, status("VmHWM:"))
"""


def memory_section(X, y):
    """Peak resident memory of one full-batch float32 epoch, each in its own process."""
    if not os.path.exists("/proc/self/clear_refs"):
        return []
    rows = []
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "data")
        np.save(base + "_X.npy", X.astype(np.float32))
        np.save(base + "_y.npy", y)
        script = MEMORY_SCRIPT.format(here=HERE, root=os.path.dirname(HERE))
        res = {}
        for which in ("xnn", "numpy"):
            out = subprocess.run([sys.executable, "-c", script, which, base], capture_output=True,
                                 text=True, check=True).stdout.split()
            before, peak = float(out[0]), float(out[1])
            res[which] = (before, peak)
        for which, (before, peak) in res.items():
            rows.append({"process": which, "resident before epoch MB": before, "peak MB": peak,
                         "epoch's own MB": peak - before,
                         "ratio to numpy (own)": (peak - before) / (res["numpy"][1] - res["numpy"][0]),
                         "ratio to numpy (peak)": peak / res["numpy"][1]})
    return rows


def thread_section(X, y, repeats):
    rows = []
    ncores = os.cpu_count() or 1
    weights = {}
    for label, bs in (("full batch", None), ("minibatch 128", 128)):
        times = {}
        for n in sorted({1, min(2, ncores)}):
            xnn.set_num_threads(n)
            model = xnn_model(np.float32)
            times[n] = median_time(lambda: model.fit(X, y, epochs=1, batch_size=bs, lr=LR, verbose=0),
                                   max(3, repeats))
            fresh = xnn_model(np.float32)
            fresh.fit(X, y, epochs=1, batch_size=bs, lr=LR, verbose=0)
            weights[(label, n)] = fresh.get_weights()
        same = all(np.array_equal(a, b) for a, b in zip(weights[(label, 1)], weights[(label, max(times))]))
        rows.append({"epoch (float32)": label, "1 thread s": times[1], "2 threads s": times[max(times)],
                     "speed-up": times[1] / times[max(times)], "identical weights": same})
    xnn.set_num_threads(ncores)
    return rows


def overhead_section():
    """The cost of one training step where the maths is negligible."""
    from xnn import _core
    rows = []
    X = np.random.default_rng(0).random((1, 4)).astype(np.float32)
    lab = np.zeros(1, np.int64)
    model = xnn.Sequential([xnn.layers.Dense(4, 4, activation="relu"),
                            xnn.layers.Dense(4, 4, activation="relu"),
                            xnn.layers.Dense(4, 4, activation="softmax")], seed=0)
    trainer = _core.Trainer(model._network(), 1, _core.LOSS_CROSS_ENTROPY, _core.OPT_SGD, 0.01)
    n = 200000
    t0 = time.perf_counter()
    for _ in range(n):
        trainer.step(X, lab)
    rows.append({"what": "Trainer.step, 3-layer 4-4-4-4 network, batch 1 (Python->C->Python)",
                 "us per step": (time.perf_counter() - t0) / n * 1e6})
    Xs = np.random.default_rng(0).random((20000, 4)).astype(np.float32)
    ys = np.zeros(20000, np.int64)
    t0 = time.perf_counter()
    model.fit(Xs, ys, epochs=1, batch_size=1, lr=0.01, verbose=0)
    rows.append({"what": "fit(batch_size=1) per step, incl. shuffling and bookkeeping",
                 "us per step": (time.perf_counter() - t0) / 20000 * 1e6})
    return rows


def explain_section(repeats):
    import bench_explain
    return bench_explain.run()


# ------------------------------------------------------------------ targets

def target_notes(measured, rate2048):
    """Why each missed target is missed, with this run's figures."""
    notes = []
    rate = rate2048.get("float32")
    gemm = measured.get("gemm", [])
    low = [r for r in gemm if r["xnn / numpy"] < (0.9 if r["product"] == "2048^3" else 1.0)]
    if low:
        names = "; ".join(f"{r['product']} {r['dtype']} {r['xnn / numpy']:.2f} (best runs "
                          f"{r['(best runs)']:.2f})" for r in low)
        notes.append(
            "**Matrix products below target**: " + names + ". On this shared 2-core virtual "
            "machine the same product moves by 15-30% between timings (compare the median "
            "with the best-runs column, and a row between runs). The batch-128 products of "
            "the 64- and 10-wide layers (at most 2 MFLOP, 10-40 us) spend a visible part of "
            "their time splitting the work between two threads and packing narrow panels; "
            "the X^T dZ rows pack a transposed A, for which OpenBLAS has a dedicated copy "
            "kernel and xnn a portable loop.")
    ep = {r["epoch"]: r for r in measured.get("epoch", [])}
    mb = ep.get("minibatch 128, float32")
    if mb and mb.get("xnn/torch") is not None and mb["xnn/torch"] > 0.33 and rate:
        flops = epoch_flops(60000)
        need = mb["torch s"] * 0.33
        xw = next((r for r in gemm if r["product"] == "X W, batch 128" and r["dtype"] == "float32"), None)
        notes.append(
            f"**Minibatch epoch vs PyTorch**: 0.33x PyTorch's {mb['torch s']:.3f} s is "
            f"{need:.3f} s, that is {flops / need / 1e9:.0f} GFLOP/s or "
            f"{flops / need / 1e9 / rate:.0%} of this run's NumPy 2048^3 rate ({rate:.0f} GFLOP/s) "
            "sustained over 469 steps whose largest products are 128 x 128 x 784"
            + (f" (alone they run at {xw['xnn GFLOP/s']:.0f} GFLOP/s here)" if xw else "")
            + f". xnn's epoch takes {mb['xnn s']:.3f} s ({mb['xnn GFLOP/s']:.0f} GFLOP/s). In a "
            "step the products also read data the other core has just written (the gathered "
            "rows, the updated W), which alone they do not.")
    fb = ep.get("full batch, float32")
    if fb and fb.get("fraction of numpy 2048^3 rate") is not None and fb["fraction of numpy 2048^3 rate"] < 0.75:
        notes.append(
            f"**Sustained rate**: {fb['fraction of numpy 2048^3 rate']:.0%} of the 2048^3 rate. The "
            "epoch's products are tall and thin (n = 128, 64, 10); the 64- and 10-wide layers "
            "and the checks and elementwise passes run well below the 2048^3 rate.")
    ex = {(r["method"], r["impl"]): r for r in measured.get("explain") or []}
    for method in ("saliency", "lrp-epsilon"):
        x, c = ex.get((method, "xnn")), ex.get((method, "captum"))
        if x and c and c["xnn_speedup"] < 20 and rate:
            floor = 2 * 2.0 * 10000 * 784 * 128 / (rate * 1e9)
            notes.append(
                f"**{method} vs Captum**: 20x Captum's {c['seconds']:.3f} s is {c['seconds'] / 20 * 1e3:.1f} ms. "
                f"The two first-layer products of 10,000 images (forward and backward, 2 GFLOP "
                f"each) alone take {floor * 1e3:.1f} ms at this run's NumPy 2048^3 rate: a floor "
                f"for dense products on this machine,{' above' if floor > c['seconds'] / 20 else ' near'} "
                f"that budget. xnn takes {x['seconds'] * 1e3:.1f} ms. (Skipping the zero pixels "
                "of a digit, as xnn does for one image, was slower than the GEMM for a batch.)")
        if x and x.get("latency_us") is not None and x["latency_us"] > 20:
            n = ex.get((method, "numpy"))
            notes.append(
                f"**{method} latency**: {x['latency_us']:.1f} us, the median of 2,000 calls. "
                "One image is a forward and a backward of about 0.4 MFLOP through W_0 (400 KB, "
                "read twice from L2); the figure moves with the load of this shared machine"
                + (f" (NumPy's same call took {n['latency_us']:.0f} us in this run)" if n and n.get("latency_us") else "")
                + ".")
    import bench_cnn
    notes += bench_cnn.target_notes(measured)
    if notes and xnn.isa() != "avx512":
        notes.append(
            f"**Instruction set**: the targets are set for a 2-core AVX-512 machine; this one "
            f"runs xnn's {xnn.isa()} kernels (the AVX-512 micro-kernels, twice as wide, are built "
            "and chosen at run time where the processor has them).")
    if not notes:
        return ""
    return "\n### Why the missed targets are missed\n\n" + "\n".join(f"- {t}" for t in notes) + "\n"


def targets(measured):
    """(target, measured, met) rows from the sections that ran."""
    rows = []

    def add(name, value, ok, fmt="{:.2f}"):
        rows.append({"target": name, "measured": fmt.format(value) if value is not None else "n/a",
                     "met": None if value is None else bool(ok)})

    for r in measured.get("gemm", []):
        if r["product"] == "2048^3":
            add(f"matmul 2048^3 {r['dtype']} >= 0.9x numpy", r["xnn / numpy"], r["xnn / numpy"] >= 0.9)
        else:
            add(f"matmul {r['product']} {r['dtype']} >= 1.0x numpy", r["xnn / numpy"],
                r["xnn / numpy"] >= 1.0)
    ep = {r["epoch"]: r for r in measured.get("epoch", [])}
    mb, fb = ep.get("minibatch 128, float32"), ep.get("full batch, float32")
    if mb:
        add("minibatch-128 float32 epoch <= 0.75x numpy's time", mb["xnn/numpy"], mb["xnn/numpy"] <= 0.75)
        if mb.get("xnn/torch") is not None:
            add("minibatch-128 float32 epoch <= 0.33x PyTorch's time", mb["xnn/torch"], mb["xnn/torch"] <= 0.33)
    if fb:
        add("full-batch float32 epoch <= 1.0x numpy's time", fb["xnn/numpy"], fb["xnn/numpy"] <= 1.0)
        f = fb.get("fraction of numpy 2048^3 rate")
        if f is not None:
            add("full-batch float32 epoch >= 75% of numpy's 2048^3 rate", f, f >= 0.75, "{:.0%}")
    for r in measured.get("memory", []):
        if r["process"] == "xnn":
            add("peak memory <= 0.6x numpy's (epoch's own)", r["ratio to numpy (own)"],
                r["ratio to numpy (own)"] <= 0.6)
            add("peak memory <= 0.6x numpy's (whole process)", r["ratio to numpy (peak)"],
                r["ratio to numpy (peak)"] <= 0.6)
    for r in measured.get("threads", []):
        if r["epoch (float32)"] == "full batch":
            add("2 threads >= 1.7x 1 thread, full batch", r["speed-up"], r["speed-up"] >= 1.7)
        add(f"identical weights 1 vs 2 threads, {r['epoch (float32)']}", 1.0 if r["identical weights"] else 0.0,
            r["identical weights"], "{:.0f}")
    ex = {(r["method"], r["impl"]): r for r in measured.get("explain") or []}
    for method in ("saliency", "lrp-epsilon", "ig-50"):
        x, n, c = ex.get((method, "xnn")), ex.get((method, "numpy")), ex.get((method, "captum"))
        if x and n and method != "ig-50":
            ratio = x["seconds"] / n["seconds"]
            add(f"{method} batch time <= 0.7x numpy's", ratio, ratio <= 0.7)
        if x and c:
            add(f"{method} throughput >= 20x Captum's", c["xnn_speedup"], c["xnn_speedup"] >= 20)
        if x and method != "ig-50" and x.get("latency_us") is not None:
            add(f"{method} single-image latency <= 20 us", x["latency_us"], x["latency_us"] <= 20, "{:.1f} us")
    import bench_cnn
    for r in measured.get("dask", []):
        add(f"Dask throughput >= 0.8x in-process, chunks of {r['chunk']:,}", r["dask / in-process"],
            r["dask / in-process"] >= 0.8)
    for r in measured.get("visualize", []):
        if r["target s"] is not None:
            unit = 1e3 if r["target s"] < 1 else 1
            add(f"{r['measurement']} ({r['part'].split(',')[0]}) <= "
                f"{r['target s'] * unit:.0f} {'ms' if unit > 1 else 's'}",
                r["seconds"] * unit, r["seconds"] <= r["target s"],
                "{:.1f} ms" if unit > 1 else "{:.2f} s")
    return rows + bench_cnn.targets(measured)


# ------------------------------------------------------------------ output

def fmt(v):
    if v is None:
        return "n/a"
    if isinstance(v, bool):
        return "yes" if v else "NO"
    if isinstance(v, float):
        if v == 0:
            return "0"
        if abs(v) >= 100:
            return f"{v:,.0f}"
        if abs(v) >= 1:
            return f"{v:.2f}"
        return f"{v:.3g}"
    return str(v)


def table(rows):
    if not rows:
        return "(nothing measured)\n"
    keys = list(rows[0])
    for r in rows[1:]:
        keys += [k for k in r if k not in keys]
    lines = ["| " + " | ".join(keys) + " |", "|" + "---|" * len(keys)]
    for r in rows:
        lines.append("| " + " | ".join(fmt(r.get(k)) for k in keys) + " |")
    return "\n".join(lines) + "\n"


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        fw, dtype, bs, base, repeats, threads = argv[1:]
        try:
            t = _epoch_worker(fw, np.dtype(dtype).type, int(bs), base, int(repeats), int(threads))
        except ImportError as e:
            print(e, file=sys.stderr)
            sys.exit(3)
        print(t)
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--repeats", type=int, default=3, help="timed repeats per figure (median), >= 3")
    ap.add_argument("--write", action="store_true", help="write benchmarks/RESULTS.md")
    ap.add_argument("--only", nargs="*", default=None,
                    help="sections: gemm epoch memory threads overhead explain cnn cnn-explain "
                         "visualize dask")
    args = ap.parse_args(argv)
    repeats = max(3, args.repeats)
    threads = os.cpu_count() or 1
    xnn.set_num_threads(threads)
    names = ["gemm", "epoch", "memory", "threads", "overhead", "explain", "cnn", "cnn-explain",
             "visualize", "dask"]
    want = set(args.only or names)
    unknown = want - set(names)
    if unknown:
        ap.error(f"--only: unknown sections {sorted(unknown)}; expected some of {names}")
    import bench_cnn
    info = machine()
    X, y, data_desc = load_data()
    out = ["# xnn benchmark results\n",
           f"Measured {datetime.datetime.now().strftime('%Y-%m-%d %H:%M')} by `python benchmarks/run.py --write`; "
           f"median of {repeats} repeats (epochs: median over {EPOCH_ROUNDS} interleaved rounds of "
           f"{repeats} repeats each), {threads} threads for xnn, NumPy's BLAS and PyTorch.\n",
           "## Machine and versions\n", table([{"item": k, "value": v} for k, v in info.items()]),
           f"Data: {data_desc}.\n"]
    if blas_env.removed():
        out.append(f"NumPy ran without {blas_env.removed()}, removed from the environment of "
                   "the whole run.\n")
    print("\n".join(out[2:]), flush=True)

    def section(title, rows, note=""):
        block = f"## {title}\n\n{note}{table(rows)}"
        print(block, flush=True)
        out.append(block)

    rate2048 = {}
    measured = {}
    if "gemm" in want:
        rows, rate2048 = gemm_section(repeats)
        measured["gemm"] = rows
        section("Matrix products: xnn vs numpy.matmul", rows,
                f"GFLOP/s = 2 m n k / time, median of {max(GEMM_REPEATS, repeats)} timings of ~20 ms "
                "each, the libraries in turn. Ratio > 1: xnn is faster.\n\n")
    if "epoch" in want:
        rows = epoch_section(X, y, repeats, threads)
        if rate2048:
            for r in rows:
                dt = r["epoch"].split(", ")[1]
                r["fraction of numpy 2048^3 rate"] = r["xnn GFLOP/s"] / rate2048[dt]
        measured["epoch"] = rows
        section("One training epoch of 784-128-64-10 on 60,000 rows", rows,
                "Times in seconds; ratios < 1: xnn is faster. numpy = the MNIST report's algorithm "
                "(benchmarks/numpy_mlp.py); torch = the same network and SGD in PyTorch; sklearn = "
                "MLPClassifier(solver='sgd', batch_size=128, max_iter=1, momentum=0).\n\n")
    if "memory" in want:
        measured["memory"] = memory_section(X, y)
        section("Peak resident memory, one full-batch float32 epoch on 60,000 rows",
                measured["memory"],
                "Each in a fresh process holding the same data (X float32, 188 MB); "
                "\"epoch's own\" is the peak during the epoch minus the resident size just before it.\n\n")
    if "threads" in want:
        measured["threads"] = thread_section(X, y, repeats)
        section("Threads", measured["threads"])
    if "overhead" in want:
        section("Per-step overhead", overhead_section())
    if "explain" in want:
        rows = explain_section(repeats)
        measured["explain"] = rows
        section("Explanations: 10,000 MNIST test images, 784-128-64-10, float32", rows,
                "seconds: median time for the batch; latency: median for one image; "
                "xnn_speedup: that implementation's time / xnn's (> 1: xnn is faster).\n\n")
    if "cnn" in want or "cnn-explain" in want:
        Xt, yt = bench_cnn.load_mnist_test()
        rate = None
        if "xnn float32" in rate2048:
            rate = {"xnn": rate2048["xnn float32"], "numpy": rate2048["float32"],
                    "source": "the matrix-product section"}
        for name, run_part in (("cnn", bench_cnn.run_cnn), ("cnn-explain", bench_cnn.run_explain)):
            if name in want:
                part = run_part(Xt, yt, rate=rate, repeats=max(5, repeats) if name == "cnn" else repeats)
                rate = part["cnn-rate"]
                for title, rows, note in bench_cnn.sections(part):
                    section(title, rows, note)
                measured.update(part)
        xnn.set_num_threads(threads)
    if "visualize" in want:
        import bench_visualize
        rows = bench_visualize.run(max(5, repeats))
        measured["visualize"] = rows
        section("Feature visualization: activation maximization, facets, Deep Dream",
                [{"part": r["part"], "measurement": r["measurement"],
                  "time": (f"{r['seconds'] * 1e3:.2f} ms" if r["seconds"] < 1
                           else f"{r['seconds']:.3f} s"),
                  "note": r["note"]} for r in rows],
                "benchmarks/bench_visualize.py: the MLP 784-128-64-10 trained two epochs on the "
                "test set, the Keras MNIST CNN untrained (its second convolution's 64 channels); "
                "each figure the median of several repeats; \"of which\" rows: the C gradient "
                "calls of the same ascent alone.\n\n")
        xnn.set_num_threads(threads)
    if "dask" in want:
        try:
            import bench_dask
            rows = [{"chunk": c, "chunks": k, "in-process rows/s": a, "dask rows/s": b,
                     "dask / in-process": r, "equal to the bit": e}
                    for c, k, a, b, r, e in bench_dask.run(threads=threads)]
        except ImportError as err:      # dask[distributed] is an optional extra
            rows = []
            print(f"dask section skipped: {err}")
        if rows:
            measured["dask"] = rows
            section("Dask: LRP-epsilon of 1,000,000 lazily generated rows on two local workers",
                    rows, "benchmarks/bench_dask.py: the 784-128-64-10 network, float32; "
                    "in-process = one call per chunk on 2 threads; dask = "
                    "distributed.LocalCluster(n_workers=2, threads_per_worker=1) on 127.0.0.1, "
                    "xnn on one thread per worker, the same chunks as one lazy dask.array; "
                    "median of 3 interleaved rounds.\n\n")
        xnn.set_num_threads(threads)
    section("Targets", targets(measured),
            "Each target of the speed and explanation issues against this run's figures.\n\n")
    out.append(target_notes(measured, rate2048))
    print(out[-1], flush=True)
    text = "\n".join(out)
    if args.write:
        with open(os.path.join(HERE, "RESULTS.md"), "w") as f:
            f.write(text)
        print(f"wrote {os.path.join(HERE, 'RESULTS.md')}")


if __name__ == "__main__":
    main()
