"""Convolutional networks on MNIST against PyTorch, Captum and Zennit.

    python benchmarks/bench_cnn.py [--quick]

Two networks, float32, the same weights in xnn and in a torch.nn.Sequential
(copied from ``get_weights()``), 2 threads for xnn and for PyTorch:

  LeNet-5    Conv2d(1,6,5,pad 2) relu, MaxPool 2, Conv2d(6,16,5) relu, MaxPool 2,
             Flatten, Dense 400-120 relu, 120-84 relu, 84-10 softmax
  Keras CNN  Conv2d(1,32,3) relu, MaxPool 2, Conv2d(32,64,3) relu, MaxPool 2,
             Flatten, Dense 1600-128 relu, 128-10 softmax

Rows (every figure a median of repeats, every ratio taken within this run):

  epoch      one training epoch of 60,000 rows (the 10,000 MNIST test images
             tiled 6 times), SGD lr 0.01, batch 128, shuffled: xnn's fit against
             the same network and SGD in PyTorch (cross-entropy on the logits).
             Each figure comes from a fresh process; the frameworks take turns
             in rounds, and a figure is the median over the rounds.
  memory     the epoch's own peak resident memory (the peak during a short
             warm-up and the epoch minus the resident size just before them),
             from the same fresh processes.
  conv       forward, dX and dW of every convolution at batch 128, in GFLOP/s,
             beside the 2048^3 float32 GEMM rate of xnn.ops.matmul and NumPy.
  forward    predict_proba of the 10,000 test images against PyTorch (no_grad,
             softmax), and one image's latency.
  explain    the Keras CNN trained for one epoch: saliency, Grad-CAM at the
             second convolution and LRP epsilon-plus-flat of the 10,000 test
             images and of one image, against Captum and Zennit, each beside the
             floor of the products it must make.

FLOP counts are 2 x multiply-adds. A training epoch counts 3x the forward's
(forward, dX and dW of every layer).
"""
import argparse
import os
import statistics
import sys
import tempfile
import time
import warnings
from pathlib import Path

if __name__ == "__main__":      # before NumPy loads its BLAS
    import blas_env
    blas_env.rerun_without_blas_vars()

import numpy as np

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.dirname(HERE)
sys.path.insert(0, HERE)
try:
    import xnn  # noqa: E402  (installed)
except ImportError:  # an in-place build in this checkout
    sys.path.insert(0, ROOT)
    import xnn  # noqa: E402
from xnn import _core  # noqa: E402
from blas_env import BLAS_VARS, removed as blas_env_removed  # noqa: E402
from timing import timings, worker  # noqa: E402

THREADS = 2
LR = 0.01
BATCH = 128
EPOCH_ROWS = 60000
EPOCH_ROUNDS = 3
WARM_ROWS = 10 * BATCH       # a short warm-up fit before the timed epochs
PEER_BATCH = 500             # images per call for PyTorch, Captum and Zennit
LATENCY_CALLS = 2000
PAUSE = 0.5                  # seconds: the other library's idle threads stop spinning
NETS = ("lenet5", "keras")
TITLES = {"lenet5": "LeNet-5", "keras": "Keras CNN"}
CAM_LAYER = 2                # the Keras CNN's second convolution


# ------------------------------------------------------------------ data, networks

def mnist_dir():
    """$XNN_MNIST_DIR, else the first shared/data/mnist beside this checkout
    or one of its parents."""
    d = os.environ.get("XNN_MNIST_DIR")
    if d and os.path.isdir(d):
        return d
    for p in Path(HERE).parents:
        c = p / "shared" / "data" / "mnist"
        if c.is_dir():
            return str(c)
    raise SystemExit("no MNIST data: set XNN_MNIST_DIR to a directory with the IDX files")


def load_mnist_test():
    """The 10,000 MNIST test images (m, 1, 28, 28) float32 in [0, 1], labels."""
    from xnn import datasets
    X, y = datasets.load_idx_dir(mnist_dir(), kind="t10k")
    return np.ascontiguousarray(X.reshape(-1, 1, 28, 28), dtype=np.float32), y.astype(np.int64)


def xnn_net(name, seed=0):
    L = xnn.layers
    if name == "lenet5":
        layers = [L.Conv2d(1, 6, 5, padding=2, activation="relu"), L.MaxPool2d(2),
                  L.Conv2d(6, 16, 5, activation="relu"), L.MaxPool2d(2), L.Flatten(),
                  L.Dense(400, 120, activation="relu"), L.Dense(120, 84, activation="relu"),
                  L.Dense(84, 10, activation="softmax")]
    elif name == "keras":
        layers = [L.Conv2d(1, 32, 3, activation="relu"), L.MaxPool2d(2),
                  L.Conv2d(32, 64, 3, activation="relu"), L.MaxPool2d(2), L.Flatten(),
                  L.Dense(1600, 128, activation="relu"), L.Dense(128, 10, activation="softmax")]
    else:
        raise ValueError(f"name: expected one of {NETS}, got {name!r}")
    return xnn.Sequential(layers, input_shape=(1, 28, 28), seed=seed, dtype="float32")


def torch_net(model):
    """The same network in PyTorch with xnn's weights, logits out (the softmax
    of xnn's last layer goes into the loss or is applied after). Returns
    (torch.nn.Sequential, {xnn layer index: the module whose output is that
    layer's output})."""
    import torch
    nn = torch.nn
    mods, out_of = [], {}
    weights = model.get_weights()
    k = 0
    for i, ly in enumerate(model.layers):
        if isinstance(ly, xnn.layers.Conv2d):
            m = nn.Conv2d(ly.in_channels, ly.out_channels, ly.kernel_size, stride=ly.stride,
                          padding=ly.padding)
            W, b = weights[k], weights[k + 1]
            k += 2
        elif isinstance(ly, xnn.layers.Dense):
            m = nn.Linear(ly.n_in, ly.n_out)
            W, b = weights[k].T, weights[k + 1]      # xnn's Dense W is (in, out)
            k += 2
        elif isinstance(ly, xnn.layers.MaxPool2d):
            m, W = nn.MaxPool2d(ly.kernel_size, ly.stride), None
        elif isinstance(ly, xnn.layers.Flatten):
            m, W = nn.Flatten(), None
        else:
            raise TypeError(f"layer {i}: no PyTorch twin for {type(ly).__name__}")
        if W is not None:
            with torch.no_grad():
                m.weight.copy_(torch.from_numpy(np.ascontiguousarray(W)))
                m.bias.copy_(torch.from_numpy(b))
        mods.append(m)
        if ly.activation == "relu":
            mods.append(nn.ReLU())
        elif ly.activation not in ("linear", "softmax"):
            raise ValueError(f"layer {i}: activation {ly.activation!r} not mapped")
        out_of[i] = mods[-1]
    return nn.Sequential(*mods).float(), out_of


FWD_PATHS = {"winograd": "Winograd F(2x2,3x3)", "direct": "direct", "gemm": "unfold + GEMM"}


def fwd_path(model, l):
    """the path of layer l's forward, as layers/conv.c chooses it (and as
    XNN_CONV forces it)"""
    return FWD_PATHS[_core.conv_path(model._network(), l)]


def layer_macs(model):
    """Multiply-adds per image of each layer's forward product (0 for pooling
    and flatten)."""
    out = []
    for ly in model.layers:
        if isinstance(ly, xnn.layers.Conv2d):
            O, Ho, Wo = ly.output_shape_
            out.append(O * Ho * Wo * ly.in_channels * ly.kernel_size[0] * ly.kernel_size[1])
        elif isinstance(ly, xnn.layers.Dense):
            out.append(ly.n_in * ly.n_out)
        else:
            out.append(0)
    return out


def epoch_flops(model, rows):
    """FLOPs of a training epoch: 3x the forward's multiply-adds (forward, dX
    and dW of every layer) x 2 per row."""
    return 3.0 * sum(layer_macs(model)) * 2 * rows


def floors(model, layer=CAM_LAYER):
    """FLOP per image of the products each explanation must make, with what is counted."""
    macs = layer_macs(model)
    F = sum(macs)
    linear = [i for i, v in enumerate(macs) if v]
    first = linear[0]
    convs = [i for i in linear if isinstance(model.layers[i], xnn.layers.Conv2d) and i != first]
    dense = [i for i in linear if isinstance(model.layers[i], xnn.layers.Dense)]
    C, H, W = model.layers[layer].output_shape_
    # Grad-CAM's weights need each channel's gradient summed over its
    # positions alone: through a pooling and flatten, the first dense layer
    # above the maps folds into its weights summed per channel (units x C
    # MACs) instead of its transposed product
    above = [i for i in linear if i > layer]
    fold = above and isinstance(model.layers[above[0]], xnn.layers.Dense) and all(
        type(ly).__name__.endswith(("Pool2d", "Flatten"))
        for ly in model.layers[layer + 1:above[0]])
    back = sum(macs[i] for i in above)
    if fold:
        back += model.layers[above[0]].n_out * C - macs[above[0]]

    def winners(i):
        """The share of conv i's outputs that carry relevance: under a
        winner-take-all max pooling whose windows are apart, one per window
        (LRP's default pooling rule); else all of them."""
        nxt = model.layers[i + 1] if i + 1 < len(model.layers) else None
        if not isinstance(nxt, xnn.layers.MaxPool2d) or any(
                s < k for s, k in zip(nxt.stride, nxt.kernel_size)):
            return 1.0
        return np.prod(nxt.output_shape_[1:]) / np.prod(model.layers[i].output_shape_[1:])
    return {
        "saliency": (2.0 * 2 * F, "forward + the input gradient through every conv and dense "
                                  "layer (its transposed product), no dW: 2x forward MACs"),
        "grad-cam": (2.0 * (F + back + C * H * W),
                     f"forward + the gradient down to layer {layer}'s output (the transposed "
                     f"products of the layers above it"
                     + (", the first dense one's folded into its weights summed over each "
                        "channel's positions: units x channels" if fold else "")
                     + f") + the channel-weighted sum of its {C} maps of {H}x{W}"),
        "lrp-epf": (2.0 * (F + macs[first] * winners(first)
                           + 2 * sum(macs[i] * winners(i) for i in convs)
                           + sum(macs[i] for i in dense)),
                    "forward + flat on the first conv (one transposed product) + z+ on the "
                    "other convs (a forward with W+ and its transpose) + epsilon on the dense "
                    "layers (the transpose; z is the forward's); a conv under a max pooling "
                    "whose windows are apart counts its rule's products at the windows' winners "
                    "alone (winner-take-all: the other outputs carry no relevance)"),
    }


def median_time(fn, repeats, warmup=1, pause=PAUSE):
    if pause:
        time.sleep(pause)
    return float(np.median(timings(fn, repeats, warmup)))


def median_us(fn, n, pause=PAUSE):
    """median of n calls, in microseconds"""
    if pause:
        time.sleep(pause)
    return statistics.median(timings(fn, n, warmup=min(50, n))) * 1e6


def set_threads(n=THREADS):
    xnn.set_num_threads(n)
    try:
        import torch
    except ImportError:
        return
    torch.set_num_threads(n)


# ------------------------------------------------------------------ environment

def numpy_blas():
    """threadpoolctl's report of NumPy's BLAS: internal_api, version,
    architecture, num_threads (the libraries loaded from NumPy's wheel first)."""
    try:
        from threadpoolctl import threadpool_info
    except ImportError:
        return "threadpoolctl not installed"
    blas = [p for p in threadpool_info() if p.get("user_api") == "blas"]
    mine = [p for p in blas if "numpy" in str(p.get("filepath", ""))] or blas
    return "; ".join(f"internal_api={p.get('internal_api')}, version={p.get('version')}, "
                     f"architecture={p.get('architecture')}, num_threads={p.get('num_threads')}"
                     for p in mine) or "no BLAS found"


def versions():
    info = {"xnn": xnn.__version__, "xnn isa": xnn.isa(), "numpy": np.__version__,
            "numpy BLAS (threadpoolctl)": numpy_blas()}
    from importlib.metadata import PackageNotFoundError, version
    for mod in ("torch", "captum", "zennit", "threadpoolctl"):
        try:   # the installed distribution's version, without importing it
            info[mod] = version(mod)
        except PackageNotFoundError:
            info[mod] = "not installed"
    removed = blas_env_removed()
    info["OpenBLAS variables"] = (f"{removed} removed from the environment for this run"
                                  if removed else f"none set ({', '.join(BLAS_VARS)})")
    return info


def import_zennit():
    """zennit through tests/_zennit.py (a torchvision stand-in when the real one
    cannot load), or None."""
    tests = os.path.join(ROOT, "tests")
    if tests not in sys.path:
        sys.path.insert(0, tests)
    try:
        from _zennit import import_zennit as imp
        return imp()
    except (KeyboardInterrupt, SystemExit):
        raise
    except BaseException:   # ImportError, or pytest's skip for a missing module
        return None


# ------------------------------------------------------------------ GEMM rate

def gemm_rate(repeats=9):
    """{"xnn", "numpy"}: GFLOP/s of 2048^3 float32 products, bench_gemm's way
    (xnn.ops.matmul and numpy.matmul in turn, with pauses)."""
    import bench_gemm
    r = bench_gemm.run(repeats=repeats, shapes=[bench_gemm.SHAPES[0]], dtypes=(np.float32,))[0]
    return {"xnn": r["xnn_gflops"], "numpy": r["numpy_gflops"], "source": "measured in this section"}


# ------------------------------------------------------------------ epochs (fresh processes)

def _status_mb(key):
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith(key):
                return int(line.split()[1]) / 1024.0
    return float("nan")


def _torch_trainer(model, X, y):
    """(warm-up, epoch) functions of PyTorch SGD on a copy of model's weights."""
    import torch
    tm, _ = torch_net(model)
    opt = torch.optim.SGD(tm.parameters(), lr=LR)
    loss_fn = torch.nn.CrossEntropyLoss()
    Xt, yt = torch.from_numpy(X), torch.from_numpy(y)

    def epoch(m=X.shape[0]):
        perm = torch.randperm(m)
        for s in range(0, m, BATCH):
            idx = perm[s:s + BATCH]
            opt.zero_grad(set_to_none=True)
            loss_fn(tm(Xt[idx]), yt[idx]).backward()
            opt.step()
    return (lambda: epoch(WARM_ROWS)), epoch


def _epoch_worker(fw, name, base, rows, repeats, threads):
    """'seconds own_MB before_MB' of fw training name on rows rows, in this
    fresh process: a short warm-up, then the median of repeats epochs. The
    memory figures: resident size just before the warm-up, and the peak
    over the warm-up and the epochs minus it."""
    X = np.load(base + "_X.npy")[:rows]
    y = np.load(base + "_y.npy")[:rows]
    model = xnn_net(name)
    if fw == "xnn":
        xnn.set_num_threads(threads)
        warm = lambda: model.fit(X[:WARM_ROWS], y[:WARM_ROWS], epochs=1, batch_size=BATCH,  # noqa: E731
                                 lr=LR, verbose=0)
        epoch = lambda: model.fit(X, y, epochs=1, batch_size=BATCH, lr=LR, verbose=0)  # noqa: E731
    else:
        import torch
        torch.set_num_threads(threads)
        warm, epoch = _torch_trainer(model, X, y)
    memory = os.path.exists("/proc/self/clear_refs")
    if memory:
        with open("/proc/self/clear_refs", "w") as f:
            f.write("5")   # reset the peak to the current resident size
        before = _status_mb("VmRSS:")
    warm()
    t = float(np.median(timings(epoch, repeats, warmup=0)))
    if memory:
        return t, _status_mb("VmHWM:") - before, before
    return t, float("nan"), float("nan")


def _in_subprocess(args):
    """``bench_cnn.py --worker args`` in a fresh process: its numbers, or None
    when the framework is not installed."""
    words = worker(os.path.abspath(__file__), args)
    return None if words is None else [float(v) for v in words[-3:]]


def epoch_rows(X, y, rows=EPOCH_ROWS, rounds=EPOCH_ROUNDS, repeats=1, threads=THREADS):
    """(epoch rows, memory rows). Each figure from a fresh process; the
    frameworks take turns, `rounds` rounds of `repeats` epochs each, and a
    figure is the median over the rounds. Memory: the median over the
    rounds of each fresh process's own peak."""
    reps = int(np.ceil(rows / X.shape[0]))
    X60 = np.ascontiguousarray(np.tile(X, (reps, 1, 1, 1))[:rows])
    y60 = np.tile(y, reps)[:rows]
    erows, mrows = [], []
    with tempfile.TemporaryDirectory() as tmp:
        base = os.path.join(tmp, "data")
        np.save(base + "_X.npy", X60)
        np.save(base + "_y.npy", y60)
        del X60
        for name in NETS:
            runs = {"xnn": [], "torch": []}
            for _ in range(rounds):
                for fw in runs:
                    runs[fw].append(_in_subprocess(["epoch", fw, name, base, rows, repeats, threads]))
            res = {}
            for fw, v in runs.items():
                res[fw] = None if None in v else np.median(np.array(v), axis=0)
            flops = epoch_flops(xnn_net(name), rows)
            tx = res["xnn"][0]
            tt = res["torch"][0] if res["torch"] is not None else None
            row = {"network": TITLES[name], "rows": rows, "GFLOP per epoch": flops / 1e9,
                   "xnn s": tx, "torch s": tt, "xnn/torch": tx / tt if tt else None,
                   "xnn GFLOP/s": flops / tx / 1e9,
                   "torch GFLOP/s": flops / tt / 1e9 if tt else None}
            erows.append(row)
            mx = res["xnn"][1]
            mt = res["torch"][1] if res["torch"] is not None else None
            mrows.append({"network": TITLES[name], "xnn before MB": res["xnn"][2], "xnn own MB": mx,
                          "torch before MB": res["torch"][2] if mt is not None else None,
                          "torch own MB": mt,
                          "xnn/torch (own)": mx / mt if mt and np.isfinite(mx) else None})
    return erows, mrows


# ------------------------------------------------------------------ per-layer rates

def _one_conv(model, l):
    """Layer l of model alone (a convolution, then Flatten), on the same weights."""
    ly = model.layers[l]
    shape = model.input_shape if l == 0 else model.layers[l - 1].output_shape_
    one = xnn.Sequential([xnn.layers.Conv2d(ly.in_channels, ly.out_channels, ly.kernel_size,
                                            stride=ly.stride, padding=ly.padding,
                                            activation=ly.activation),
                          xnn.layers.Flatten()], input_shape=shape, dtype="float32")
    one.set_weights([ly.W, ly.b])
    return one


def rotated_medians(fns, repeats, warmup=2, pause=0.0):
    """{name: median seconds}: the calls take turns, one timing each per round
    (each after `pause` seconds: the other library's idle threads stop
    spinning), so that a change of the machine's load falls on all of them
    alike."""
    for f in fns.values():
        for _ in range(warmup):
            f()
    times = {k: [] for k in fns}
    for _ in range(repeats):
        for k, f in fns.items():
            if pause:
                time.sleep(pause)
            times[k].extend(timings(f, 1, warmup=0))
    return {k: float(np.median(v)) for k, v in times.items()}


def conv_rows(models, X, rate, batch=BATCH, repeats=21):
    """Forward, dX and dW of every convolution on `batch` real images (each
    layer's input is the real output of the layers below), through the
    binding's one-node calls, in turns (rotated_medians):

      fwd        node_forward(net, l, X_l, training), what a training step runs
      predict    node_forward(net, l, X_l), inference
      dX+dW      node_backward(net, l, dZ, X_l, saved): dX, dW and db in one call
                 (for the first layer too, whose dX a training step skips)
      dX         the layer alone (a one-convolution network on the same
                 weights, then Flatten): explain_gradient from one output
                 element per row minus explain_scores (the same explain
                 forward and workspace)
      dW         node_backward(..., dx=False): dW and db alone, as a training
                 step makes them for its first layer
    """
    TRAIN = 1
    rows = []
    rng = np.random.default_rng(1)
    for name, model in models.items():
        net = model._network()
        ins = [np.ascontiguousarray(X[:batch].reshape(batch, -1))]
        for l in range(len(model.layers)):
            ins.append(_core.node_forward(net, l, ins[-1], 0)[0])
        macs = layer_macs(model)
        for l, ly in enumerate(model.layers):
            if not isinstance(ly, xnn.layers.Conv2d):
                continue
            Xl = ins[l]
            Y, _, saved = _core.node_forward(net, l, Xl, TRAIN)
            dZ = rng.standard_normal(Y.shape).astype(np.float32)
            below = model.layers[l - 1] if l else None
            relu = Xl if below is not None and below.activation == "relu" else None
            onet = _one_conv(model, l)._network()
            # the start: one output element per row at the top (the Flatten),
            # so that the gradient runs the whole transposed product (a
            # channel start would make that channel alone)
            units = np.arange(batch, dtype=np.int64) * 7 % int(np.prod(ly.output_shape_))
            time.sleep(PAUSE)
            t = rotated_medians({
                "fwd": lambda: _core.node_forward(net, l, Xl, TRAIN),
                "predict": lambda: _core.node_forward(net, l, Xl, 0),
                "bwd": lambda: _core.node_backward(net, l, dZ, Xl, saved, relu),
                "dw": lambda: _core.node_backward(net, l, dZ, Xl, saved, relu, False),
                "grad": lambda: _core.explain_gradient(onet, Xl, units, _core.START_LOGIT,
                                                       _core.GRAD_PLAIN, 1),
                "scores": lambda: _core.explain_scores(onet, Xl, units, _core.START_LOGIT, 1),
            }, repeats)
            t_dx = t["grad"] - t["scores"]
            t_dw = t["dw"]
            flops = 2.0 * batch * macs[l]
            C, H, W = ly.output_shape_
            k = ly.kernel_size
            row = {"network": TITLES[name], "layer": l,
                   "conv": f"{ly.in_channels}->{ly.out_channels}, {k[0]}x{k[1]}, out {H}x{W}",
                   "taps C kh kw": ly.in_channels * k[0] * k[1], "fwd path": fwd_path(model, l),
                   "MFLOP each": flops / 1e6,
                   "fwd ms": t["fwd"] * 1e3, "dX ms": t_dx * 1e3, "dW ms": t_dw * 1e3,
                   "dX+dW ms": t["bwd"] * 1e3,
                   "predict GFLOP/s": flops / t["predict"] / 1e9,
                   "fwd GFLOP/s": flops / t["fwd"] / 1e9,
                   "dX GFLOP/s": flops / t_dx / 1e9 if t_dx > 0 else None,
                   "dW GFLOP/s": flops / t_dw / 1e9 if t_dw > 0 else None}
            for what in ("fwd", "dX", "dW"):
                g = row[f"{what} GFLOP/s"]
                row[f"{what} % of 2048^3"] = g / rate["xnn"] if g else None
            rows.append(row)
    return rows


def gemm_rows(rate):
    return [{"product": "2048^3 float32", "xnn.ops.matmul GFLOP/s": rate["xnn"],
             "numpy.matmul GFLOP/s": rate["numpy"], "xnn / numpy": rate["xnn"] / rate["numpy"],
             "from": rate.get("source", "")}]


# ------------------------------------------------------------------ forward

def torch_forward(tm, batch=PEER_BATCH):
    import torch

    def run(Xt):
        with torch.no_grad():
            return torch.cat([torch.softmax(tm(Xt[s:s + batch]), 1)
                              for s in range(0, Xt.shape[0], batch)])
    return run


def trained(name, X, y, rows, cache={}):
    """The network trained for one epoch on rows rows of the tiled test set
    (SGD lr 0.01, batch 128), made once per process."""
    key = (name, rows)
    if key not in cache:
        reps = int(np.ceil(rows / X.shape[0]))
        Xt = np.ascontiguousarray(np.tile(X, (reps, 1, 1, 1))[:rows])
        model = xnn_net(name)
        model.fit(Xt, np.tile(y, reps)[:rows], epochs=1, batch_size=BATCH, lr=LR, verbose=0)
        cache[key] = model
    return cache[key]


def forward_rows(models, X, repeats=5, n_lat=LATENCY_CALLS):
    """(forward rows, cross-check rows): predict_proba of X against PyTorch
    in batches of PEER_BATCH (the two taking turns), one image's latency."""
    rows, checks = [], []
    try:
        import torch
    except ImportError:
        torch = None
    m = X.shape[0]
    x1 = X[:1]
    for name, model in models.items():
        gflop = 2.0 * sum(layer_macs(model)) * m / 1e9
        tm = None
        if torch is not None:
            tm, _ = torch_net(model)
            tm.eval()
            fwd = torch_forward(tm)
            Xt, xt1 = torch.from_numpy(X), torch.from_numpy(x1)
            t = rotated_medians({"xnn": lambda: model.predict_proba(X),
                                 "torch": lambda: fwd(Xt)}, repeats, warmup=1, pause=PAUSE)
            tx, tt = t["xnn"], t["torch"]
        else:
            tx = median_time(lambda: model.predict_proba(X), repeats)
        lx = median_us(lambda: model.predict_proba(x1), n_lat)
        rows.append({"network": TITLES[name], "impl": "xnn", "images": m, "batch": m,
                     "GFLOP": gflop, "seconds": tx, "images/s": m / tx, "GFLOP/s": gflop / tx,
                     "1-image latency us": lx})
        if tm is None:
            continue

        def one():
            with torch.no_grad():
                return torch.softmax(tm(xt1), 1)
        lt = median_us(one, n_lat)
        rows.append({"network": TITLES[name], "impl": "torch", "images": m, "batch": PEER_BATCH,
                     "GFLOP": gflop, "seconds": tt, "images/s": m / tt, "GFLOP/s": gflop / tt,
                     "1-image latency us": lt, "xnn speed-up": tt / tx, "xnn latency speed-up": lt / lx})
        P, Pt = model.predict_proba(X), fwd(Xt).numpy()
        checks.append({"check": f"{TITLES[name]} forward, {m} images",
                       "max abs diff": float(np.max(np.abs(P - Pt))),
                       "scale (max abs torch)": float(np.max(np.abs(Pt))),
                       "same predicted class": float(np.mean(P.argmax(1) == Pt.argmax(1)))})
    return rows, checks


# ------------------------------------------------------------------ explanations

def explain_rows(model, X, rate, repeats=3, n_lat=LATENCY_CALLS, layer=CAM_LAYER):
    """(rows, floor rows, cross-check rows) of saliency, Grad-CAM at `layer`
    and LRP epsilon-plus-flat of X: xnn against Captum and Zennit on the same
    weights; the peers take PEER_BATCH images per call, the target is the
    predicted class."""
    import xnn.explain as E
    m = X.shape[0]
    x1 = X[:1]
    H, W = model.input_shape[1:]
    fl = floors(model, layer)
    rows, checks = [], []

    def add(method, impl, batch, seconds, latency, ref=None):
        f = fl[method][0]
        row = {"method": method, "impl": impl, "images": m, "batch": batch, "seconds": seconds,
               "images/s": m / seconds, "floor GFLOP/s": f * m / seconds / 1e9,
               "1-image latency us": latency}
        if ref is not None:
            row["xnn speed-up"] = seconds / ref["seconds"]
            row["xnn latency speed-up"] = latency / ref["1-image latency us"]
        rows.append(row)
        return row

    ours = {
        "saliency": lambda A: E.saliency(model, A),
        "grad-cam": lambda A: E.grad_cam(model, A, layer=layer),
        "lrp-epf": lambda A: E.lrp(model, A, composite="epsilon-plus-flat"),
    }
    zennit = import_zennit()
    try:
        import torch
        from captum.attr import LayerAttribution, LayerGradCam, Saliency
        captum = True
    except ImportError:
        captum = False
    # a method with a peer is timed in turns with it (peer() below); alone otherwise
    paired = {"saliency": captum, "grad-cam": captum, "lrp-epf": captum and zennit is not None}
    xr = {k: add(k, "xnn", m, float("nan") if paired[k] else median_time(lambda: f(X), repeats),
                 median_us(lambda: f(x1), n_lat)) for k, f in ours.items()}
    floor_rows = [{"method": k, "MFLOP per image": f / 1e6,
                   f"floor s, {m} images": f * m / (rate["xnn"] * 1e9),
                   "floor us, 1 image": f / (rate["xnn"] * 1e9) * 1e6, "counted": what}
                  for k, (f, what) in fl.items()]
    if not captum:
        return rows, floor_rows, checks
    tm, out_of = torch_net(model)
    tm.eval()
    for p in tm.parameters():
        p.requires_grad_(False)    # the peers differentiate w.r.t. the input only
    t = model.predict(X)
    Xt, Tt = torch.from_numpy(X), torch.from_numpy(t)
    b = PEER_BATCH
    sal = Saliency(tm)
    cam = LayerGradCam(tm, out_of[layer])

    def captum_sal(A, T):
        return torch.cat([sal.attribute(A[s:s + b], target=T[s:s + b], abs=True)
                          for s in range(0, A.shape[0], b)])

    def captum_cam(A, T):
        return torch.cat([LayerAttribution.interpolate(
            cam.attribute(A[s:s + b], target=T[s:s + b], relu_attributions=True), (H, W), "bilinear")
            for s in range(0, A.shape[0], b)])

    xt1, tt1 = Xt[:1], Tt[:1]
    n_peer = max(50, n_lat // 4)
    n = min(m, 500)

    def peer(method, impl, f):
        # xnn's call and the peer's take turns; xnn's row gets its figure
        # from these rounds
        t = rotated_medians({"xnn": lambda: ours[method](X), impl: lambda: f(Xt, Tt)}, repeats,
                            warmup=1, pause=PAUSE)
        ref = xr[method]
        ref["seconds"], ref["images/s"] = t["xnn"], m / t["xnn"]
        ref["floor GFLOP/s"] = fl[method][0] * m / t["xnn"] / 1e9
        lat = median_us(lambda: f(xt1, tt1), n_peer)
        add(method, impl, b, t[impl], lat, ref)
        a = ours[method](X[:n]).reshape(n, -1)
        p = f(Xt[:n], Tt[:n]).detach().numpy().reshape(n, -1)
        d = np.abs(a - p)
        scale = float(np.max(np.abs(p)))
        # an image whose max pooling ties (to rounding) routes its gradient
        # through another window element than the peer's: count the images
        # that agree to 1e-5 of the scale
        checks.append({"check": f"{method}: xnn vs {impl}, {n} images",
                       "max abs diff": float(np.max(d)), "scale (max abs peer)": scale,
                       "images within 1e-5 of the scale":
                           f"{int(np.sum(d.max(axis=1) <= 1e-5 * scale))} / {n}",
                       "max abs diff of those": float(np.max(
                           d[d.max(axis=1) <= 1e-5 * scale], initial=0.0))})

    with warnings.catch_warnings():
        warnings.simplefilter("ignore")     # Captum's notes on hooks and in-place ReLUs
        peer("saliency", "captum", captum_sal)
        peer("grad-cam", "captum", captum_cam)
    if zennit is not None:
        # the composite's hooks stay on tm inside the context: Zennit runs last
        from zennit.attribution import Gradient
        from zennit.composites import EpsilonPlusFlat

        def onehot_logit(out):
            return torch.nn.functional.one_hot(out.argmax(1), out.shape[1]).to(out.dtype) * out

        with Gradient(model=tm, composite=EpsilonPlusFlat()) as attributor:
            def zennit_lrp(A, T=None):
                return torch.cat([attributor(A[s:s + b], onehot_logit)[1]
                                  for s in range(0, A.shape[0], b)])
            peer("lrp-epf", "zennit", zennit_lrp)
    if zennit is None:
        rows.append({"method": "lrp-epf", "impl": "zennit (not installed)"})
    return rows, floor_rows, checks


# ------------------------------------------------------------------ targets

def targets(measured):
    """(target, measured, met) rows of the CNN issues, from the rows that ran."""
    rows = []

    def add(name, value, ok, fmt="{:.2f}"):
        rows.append({"target": name, "measured": fmt.format(value) if value is not None else "n/a",
                     "met": None if value is None else bool(ok)})

    ep = {r["network"]: r for r in measured.get("cnn-epoch", [])}
    for net, lim in (("LeNet-5", 0.5), ("Keras CNN", 0.65)):
        r = ep.get(net)
        if r:
            add(f"{net} epoch <= {lim}x PyTorch's time", r["xnn/torch"],
                r["xnn/torch"] is not None and r["xnn/torch"] <= lim)
    conv = [r for r in measured.get("cnn-conv", []) if r["network"] == "Keras CNN"]
    if len(conv) >= 2:
        r = conv[1]
        for what in ("fwd", "dX", "dW"):
            v = r[f"{what} % of 2048^3"]
            add(f"Keras CNN conv 2 (layer {r['layer']}) {what} >= 75% of the 2048^3 rate", v,
                v is not None and v >= 0.75, "{:.0%}")
    for r in measured.get("cnn-memory", []):
        add(f"{r['network']} epoch peak memory (own) <= 0.5x PyTorch's", r["xnn/torch (own)"],
            r["xnn/torch (own)"] is not None and r["xnn/torch (own)"] <= 0.5)
    fw = {(r["network"], r["impl"]): r for r in measured.get("cnn-forward", [])}
    for net, lim in (("Keras CNN", 5), ("LeNet-5", 3)):
        r = fw.get((net, "torch"))
        if r:
            add(f"{net} forward throughput >= {lim}x PyTorch's", r["xnn speed-up"],
                r["xnn speed-up"] >= lim)
    r = fw.get(("Keras CNN", "xnn"))
    if r:
        add("Keras CNN one-image forward < 60 us", r["1-image latency us"],
            r["1-image latency us"] < 60, "{:.1f} us")
    ex = {(r["method"], r["impl"]): r for r in measured.get("cnn-explain", []) if "seconds" in r}
    for method, peer, lim in (("lrp-epf", "zennit", 10), ("saliency", "captum", 5),
                              ("grad-cam", "captum", 5)):
        r = ex.get((method, peer))
        if r:
            add(f"{method} throughput >= {lim}x {peer.capitalize()}'s", r["xnn speed-up"],
                r["xnn speed-up"] >= lim)
    for method, lim in (("saliency", 150), ("grad-cam", 150), ("lrp-epf", 250)):
        r = ex.get((method, "xnn"))
        if r:
            add(f"{method} one image < {lim} us", r["1-image latency us"],
                r["1-image latency us"] < lim, "{:.1f} us")
    return rows


def target_notes(measured):
    """Why each missed CNN target is missed, with this run's own figures."""
    notes = []
    rate = measured.get("cnn-rate")
    g = rate["xnn"] if rate else None
    conv = {(r["network"], r["layer"]): r for r in measured.get("cnn-conv", [])}
    steps = int(np.ceil(EPOCH_ROWS / BATCH))
    for r in measured.get("cnn-epoch", []):
        lim = 0.5 if r["network"] == "LeNet-5" else 0.65
        if r["xnn/torch"] is None or r["xnn/torch"] <= lim:
            continue
        need = r["torch s"] * lim
        flops = r["GFLOP per epoch"] * 1e9
        text = (f"**{r['network']} epoch vs PyTorch**: {lim}x PyTorch's {r['torch s']:.2f} s is "
                f"{need:.2f} s for {r['GFLOP per epoch']:.0f} GFLOP, {flops / need / 1e9:.0f} GFLOP/s"
                + (f" ({flops / need / 1e9 / g:.0%} of this run's 2048^3 rate, {g:.0f} GFLOP/s)" if g else "")
                + f"; xnn took {r['xnn s']:.2f} s ({r['xnn GFLOP/s']:.0f} GFLOP/s).")
        layers = [c for (n, _), c in conv.items() if n == r["network"]]
        if layers and r["rows"] == EPOCH_ROWS:
            parts, total = [], 0.0
            for c in layers:
                s = (c["fwd ms"] + (c["dX+dW ms"] if c["layer"] else c["dW ms"])) * steps / 1e3
                total += s
                parts.append(f"layer {c['layer']} {s:.2f} s")
            text += (f" At the batch-128 rates of the conv table, the convolutions alone take "
                     f"{total:.2f} s of it over {steps} steps ({', '.join(parts)}; the first layer "
                     "without dX, as training runs it).")
        notes.append(text)
    keras = [c for (n, _), c in conv.items() if n == "Keras CNN"]
    if len(keras) >= 2 and g:
        c = keras[1]
        low = [w for w in ("fwd", "dX", "dW") if c[f"{w} % of 2048^3"] is None or c[f"{w} % of 2048^3"] < 0.75]
        if low:
            need = c["MFLOP each"] / 1e3 / (0.75 * g) * 1e3
            notes.append(
                f"**Keras CNN conv 2 rate**: 75% of {g:.0f} GFLOP/s is {0.75 * g:.0f} GFLOP/s, "
                f"{need:.2f} ms for each {c['MFLOP each']:.0f} MFLOP product of batch 128; measured "
                + ", ".join(f"{w} {c[f'{w} ms']:.2f} ms ({c[f'{w} GFLOP/s'] or 0:.0f} GFLOP/s)" for w in low)
                + (". Its forward, dX and dW run as Winograd F(2x2,3x3) tiles (16 multiply-adds "
                   "per channel pair and 2x2 tile instead of 36); dX's output, the layer's odd-sized "
                   "input, takes whole tiles past its edge and saves less than 2.25x. The rates "
                   "count the direct convolution's FLOPs; the times hold the channels-last copies "
                   "and the transforms, and dX (explain_gradient - explain_scores of a one-layer "
                   "network) the start's elementwise passes."
                   if c["fwd path"].startswith("Winograd") else
                   f". With {c['taps C kh kw']} taps (more than 64) the layer's backward takes the "
                   f"GEMM path (its forward: {c['fwd path']}): dX multiplies groups of dZ by W^T and "
                   "folds the columns back; dW unfolds each group's input again into (taps, "
                   "positions) columns and sums the groups' products. The gathering, unfolding and "
                   "folding are in these times, not in the FLOP count."))
    for r in measured.get("cnn-memory", []):
        v = r["xnn/torch (own)"]
        if v is not None and v > 0.5:
            name = next(k for k, t in TITLES.items() if t == r["network"])
            outs = sum(int(np.prod(ly.output_shape_)) for ly in xnn_net(name).layers) * BATCH * 4 / 2**20
            notes.append(
                f"**{r['network']} epoch memory**: xnn's epoch took {r['xnn own MB']:.1f} MB above its "
                f"resident {r['xnn before MB']:.0f} MB, PyTorch's {r['torch own MB']:.1f} MB above "
                f"{r['torch before MB']:.0f} MB; 0.5x is {0.5 * r['torch own MB']:.1f} MB. One batch's "
                f"layer outputs alone, float32, are {outs:.1f} MB.")
    fw = {(r["network"], r["impl"]): r for r in measured.get("cnn-forward", [])}
    for net, lim in (("Keras CNN", 5), ("LeNet-5", 3)):
        t, x = fw.get((net, "torch")), fw.get((net, "xnn"))
        if t and x and t["xnn speed-up"] < lim:
            need = t["seconds"] / lim
            notes.append(
                f"**{net} forward vs PyTorch**: {lim}x PyTorch's {t['seconds']:.3f} s for "
                f"{x['images']:,} images is {need:.3f} s, {x['GFLOP'] / need:.0f} GFLOP/s"
                + (f" ({x['GFLOP'] / need / g:.0%} of the 2048^3 rate"
                   + (", above it" if x["GFLOP"] / need > g else "") + ")" if g else "")
                + f"; xnn took {x['seconds']:.3f} s ({x['GFLOP/s']:.0f} GFLOP/s).")
    x = fw.get(("Keras CNN", "xnn"))
    if x and x["1-image latency us"] >= 60:
        f = x["GFLOP"] / x["images"] * 1e9
        notes.append(
            f"**Keras CNN one-image latency**: {x['1-image latency us']:.1f} us (median of "
            f"{measured.get('cnn-latency-calls', LATENCY_CALLS):,} calls) for {f / 1e6:.2f} MFLOP, "
            f"{f / x['1-image latency us'] / 1e3:.0f} GFLOP/s"
            + (f"; at the 2048^3 rate the products alone take {f / (g * 1e9) * 1e6:.1f} us"
               + (", more than 60 us" if f / (g * 1e9) * 1e6 > 60 else "") if g else "")
            + (f"; PyTorch's call took {fw[('Keras CNN', 'torch')]['1-image latency us']:.0f} us"
               if ("Keras CNN", "torch") in fw else "") + ".")
    ex = {(r["method"], r["impl"]): r for r in measured.get("cnn-explain", []) if "seconds" in r}
    fl = {r["method"]: r for r in measured.get("cnn-floors", [])}
    for method, peer, lim in (("lrp-epf", "zennit", 10), ("saliency", "captum", 5),
                              ("grad-cam", "captum", 5)):
        p, x = ex.get((method, peer)), ex.get((method, "xnn"))
        if p and x and p["xnn speed-up"] < lim:
            need = p["seconds"] / lim
            f = fl.get(method)
            fs = next((v for k, v in f.items() if k.startswith("floor s")), None) if f else None
            notes.append(
                f"**{method} vs {peer.capitalize()}**: {lim}x {peer.capitalize()}'s {p['seconds']:.2f} s "
                f"for {x['images']:,} images is {need:.3f} s"
                + (f"; the floor ({f['MFLOP per image']:.1f} MFLOP per image) takes {fs:.3f} s at "
                   "the 2048^3 rate" + (", more than that budget" if fs > need else "")
                   if fs is not None else "")
                + f"; xnn took {x['seconds']:.3f} s ({x['floor GFLOP/s']:.0f} GFLOP/s on the "
                  "floor's count).")
    peer_of = {"saliency": "Captum", "grad-cam": "Captum", "lrp-epf": "Zennit"}
    for method, lim in (("saliency", 150), ("grad-cam", 150), ("lrp-epf", 250)):
        x = ex.get((method, "xnn"))
        if x and x["1-image latency us"] >= lim:
            f = fl.get(method)
            notes.append(
                f"**{method} one image**: {x['1-image latency us']:.0f} us against {lim} us"
                + (f"; its floor, {f['MFLOP per image']:.1f} MFLOP, takes {f['floor us, 1 image']:.1f} "
                   f"us at the 2048^3 rate{' (more than the target)' if f['floor us, 1 image'] > lim else ''}, "
                   "so the call runs at "
                   f"{f['MFLOP per image'] / x['1-image latency us'] * 1e3:.0f} GFLOP/s on the floor's "
                   "count" if f else "")
                + (f"; {peer_of[method]}'s call took {ex[(method, peer_of[method].lower())]['1-image latency us']:.0f} us"
                   if (method, peer_of[method].lower()) in ex else "") + ".")
    return notes


# ------------------------------------------------------------------ driver

def run_cnn(X, y, rate=None, quick=False, repeats=5):
    """The CNN tables: {"cnn-rate", "cnn-gemm", "cnn-epoch", "cnn-memory",
    "cnn-conv", "cnn-forward", "cnn-checks"}."""
    set_threads()
    out = {}
    rows = 12800 if quick else EPOCH_ROWS
    out["cnn-epoch"], out["cnn-memory"] = epoch_rows(X, y, rows=rows, rounds=1 if quick else EPOCH_ROUNDS)
    set_threads()
    if rate is None:    # measured here, just before the convolutions it is compared with
        rate = gemm_rate(5 if quick else 9)
    out["cnn-rate"] = rate
    out["cnn-gemm"] = gemm_rows(rate)
    for r in out["cnn-epoch"]:
        r["xnn % of 2048^3"] = r["xnn GFLOP/s"] / rate["xnn"]
    models = {name: trained(name, X, y, 10000 if quick else EPOCH_ROWS) for name in NETS}
    out["cnn-conv"] = conv_rows(models, X, rate, repeats=7 if quick else 21)
    out["cnn-latency-calls"] = 200 if quick else LATENCY_CALLS
    out["cnn-forward"], out["cnn-checks"] = forward_rows(models, X, repeats=2 if quick else repeats,
                                                         n_lat=out["cnn-latency-calls"])
    return out


def run_explain(X, y, rate=None, quick=False, repeats=3):
    """{"cnn-explain", "cnn-floors", "cnn-explain-checks", "cnn-rate"}, and
    "cnn-gemm" when the rate is measured here."""
    set_threads()
    out = {}
    if rate is None:
        rate = gemm_rate(5 if quick else 9)
        out["cnn-gemm"] = gemm_rows(rate)
    model = trained("keras", X, y, 10000 if quick else EPOCH_ROWS)
    rows, fl, checks = explain_rows(model, X[:2000] if quick else X, rate,
                                    repeats=2 if quick else repeats,
                                    n_lat=200 if quick else LATENCY_CALLS)
    out.update({"cnn-rate": rate, "cnn-explain": rows, "cnn-floors": fl, "cnn-explain-checks": checks})
    return out


EPOCH_NOTE = (
    "One epoch of {rows:,} rows (the 10,000 MNIST test images tiled), SGD lr 0.01, batch 128, "
    "shuffled; PyTorch: the same torch.nn.Sequential on the same initial weights, "
    "CrossEntropyLoss on the logits. Each figure from a fresh process (a {warm}-row warm-up fit, "
    "then the timed epoch), the frameworks in turn, the median over {rounds} rounds. GFLOP per "
    "epoch = 3 x forward multiply-adds x 2 x rows (xnn skips the first layer's dX, which the "
    "count includes). Ratio < 1: xnn is faster.\n\n")
MEMORY_NOTE = (
    "From the same fresh processes: \"own\" is the peak resident size during the warm-up and the "
    "epoch minus the resident size just before them (the process already holds the data, "
    "{mb:.0f} MB of float32 images, the network and, for PyTorch, the imported library); median "
    "over the rounds.\n\n")
CONV_NOTE = (
    "Batch 128 of real images, each layer's input the real output of the layers below; the "
    "calls of a layer take turns, median of {n} rounds. Through the binding's one-node calls: "
    "fwd = node_forward in training mode (what a training step runs), predict = in inference "
    "mode; dX+dW = node_backward, which makes dX, dW and db in one call (for the first layer "
    "too, although a training step skips its dX); dX = the layer alone (a one-convolution "
    "network on the same weights, then Flatten): explain_gradient from one output element per "
    "row minus explain_scores (the same explain forward and workspace), so it also holds the "
    "start's elementwise passes (the seed, the ReLU mask): a slight overestimate of dX; dW = "
    "node_backward(..., dx=False), dW and db alone, as a training step makes them for its "
    "first layer. Each call allocates its outputs (its scratch is the network's kept arena), "
    "which a training step, working in its own workspace, does not. FLOPs of each "
    "product: 2 x batch x the layer's multiply-adds of the direct convolution, whatever the "
    "path (fwd path: where the forward runs as Winograd F(2x2,3x3) tiles it makes 16 of those "
    "36 multiply-adds per tile, so its GFLOP/s is the direct convolution's work over its "
    "time, an effective rate that may pass the GEMM's); % of 2048^3: of xnn.ops.matmul's rate "
    "in the GEMM table.\n\n")
FORWARD_NOTE = (
    "predict_proba of the test images in one call against torch.no_grad() model(X) + softmax in "
    f"batches of {PEER_BATCH}, the two taking turns (median of the rounds, each call after a "
    f"{PAUSE} s pause); the networks trained one epoch. 1-image latency: median of "
    "{n:,} calls on one image. xnn speed-up: PyTorch's time / xnn's.\n\n")
EXPLAIN_NOTE = (
    "The Keras CNN trained one epoch; target = the predicted class. xnn: explain.saliency(model, "
    f"X), grad_cam(model, X, layer={CAM_LAYER}), lrp(model, X, composite=\"epsilon-plus-flat\"), "
    "one call for all images. Captum: Saliency(abs=True); LayerGradCam on the ReLU after the "
    "second convolution, relu_attributions=True, then LayerAttribution.interpolate to 28x28 "
    "bilinear. Zennit: the EpsilonPlusFlat composite with the Gradient attributor, output = "
    f"one-hot of the predicted class times the logits. Peers: {PEER_BATCH} images per call, "
    "parameters without gradients, the targets given; xnn's call and the peer's take turns "
    f"(median of the rounds, each call after a {PAUSE} s pause). floor GFLOP/s: the method's floor count "
    "(table below) / time. 1-image latency: median of {n:,} calls for xnn, a quarter of that "
    "for the peers.\n\n")


def sections(out, quick=False):
    """(title, rows, note) of every table in out."""
    lat = 200 if quick else LATENCY_CALLS
    s = []
    if "cnn-gemm" in out:
        s.append(("CNN: the 2048^3 float32 GEMM rate of this run", out["cnn-gemm"], ""))
    if "cnn-epoch" in out:
        rows = out["cnn-epoch"][0]["rows"] if out["cnn-epoch"] else EPOCH_ROWS
        s.append(("CNN: one training epoch, xnn vs PyTorch", out["cnn-epoch"],
                  EPOCH_NOTE.format(rows=rows, warm=WARM_ROWS, rounds=1 if quick else EPOCH_ROUNDS)))
        s.append(("CNN: peak memory of one training epoch", out["cnn-memory"],
                  MEMORY_NOTE.format(mb=rows * 784 * 4 / 2**20)))
    if "cnn-conv" in out:
        s.append(("CNN: convolutions at batch 128, forward, dX and dW", out["cnn-conv"],
                  CONV_NOTE.format(n=7 if quick else 21)))
    if "cnn-forward" in out:
        s.append(("CNN: forward of the test images", out["cnn-forward"], FORWARD_NOTE.format(n=lat)))
        s.append(("CNN: cross-check, xnn and PyTorch on the same weights", out["cnn-checks"], ""))
    if "cnn-explain" in out:
        s.append(("CNN explanations: the Keras CNN, xnn vs Captum and Zennit", out["cnn-explain"],
                  EXPLAIN_NOTE.format(n=lat)))
        s.append(("CNN explanations: FLOP floors", out["cnn-floors"],
                  "The products each method must make for one image (2 x multiply-adds) and the "
                  "time they take at this run's xnn.ops.matmul 2048^3 float32 rate.\n\n"))
        s.append(("CNN explanations: cross-check against the peers", out["cnn-explain-checks"], ""))
    return s


def main(argv=None):
    argv = sys.argv[1:] if argv is None else argv
    if argv and argv[0] == "--worker":
        kind, fw, name, base, rows, repeats, threads = argv[1:]
        if kind != "epoch":
            raise SystemExit(f"--worker: expected kind 'epoch', got {kind!r}")
        try:
            t = _epoch_worker(fw, name, base, int(rows), int(repeats), int(threads))
        except ImportError as e:
            print(e, file=sys.stderr)
            sys.exit(3)
        print(*t)
        return
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--quick", action="store_true",
                    help="a smoke run: 12,800-row epochs, one round, 2,000 images explained")
    args = ap.parse_args(argv)
    warnings.simplefilter("ignore")
    from run import table   # noqa: E402  (the benchmark's Markdown tables)
    print(table([{"item": k, "value": v} for k, v in versions().items()]))
    X, y = load_mnist_test()
    out = {}
    for part in (run_cnn, run_explain):
        res = part(X, y, rate=out.get("cnn-rate"), quick=args.quick)
        for title, rows, note in sections(res, args.quick):
            print(f"## {title}\n\n{note}{table(rows)}", flush=True)
        out.update(res)
    print("## CNN targets\n\n" + table(targets(out)))
    notes = target_notes(out)
    if notes:
        print("\n".join(f"- {t}" for t in notes))


if __name__ == "__main__":
    main()
