import glob
import os
import sys
import threading

# Test the installed package (``pip install .``). The source tree beside this
# folder shadows it on sys.path under ``python -m pytest``, so drop it unless
# it holds a compiled extension (an in-place or editable build).
_ROOT = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
if not glob.glob(os.path.join(_ROOT, "xnn", "_core*")):
    sys.path[:] = [p for p in sys.path if os.path.abspath(p or os.curdir) != _ROOT]

import numpy as np  # noqa: E402
import pytest  # noqa: E402

import xnn  # noqa: E402

#: shapes that exercise edges: 1, odd, primes and sizes past any blocking
SIZES = [1, 2, 3, 7, 13, 31, 64, 97, 257]
DTYPES = [np.float32, np.float64]
#: relative tolerance of a C kernel against its NumPy twin, per dtype
RTOL = {np.float32: 1e-5, np.float64: 1e-12}


def subprocess_kwargs(cwd):
    """Keyword arguments for subprocess.run of a Python that imports the same
    xnn as these tests (installed, or an in-place build), whatever the cwd."""
    env = dict(os.environ, MPLBACKEND="Agg")
    env["PYTHONPATH"] = os.pathsep.join(
        [os.path.dirname(os.path.dirname(xnn.__file__))] + [p for p in [env.get("PYTHONPATH")] if p])
    return {"env": env, "cwd": str(cwd)}


def assert_close(actual, expected, dtype, scale=None):
    """|actual - expected| <= rtol * max(1, scale) elementwise, where scale
    defaults to the largest |expected| (a norm-wise relative check)."""
    actual = np.asarray(actual, dtype=np.float64)
    expected = np.asarray(expected, dtype=np.float64)
    assert actual.shape == expected.shape
    if scale is None:
        scale = np.max(np.abs(expected)) if expected.size else 1.0
    tol = RTOL[dtype] * max(1.0, scale)
    err = np.max(np.abs(actual - expected)) if expected.size else 0.0
    assert err <= tol, f"max abs error {err:.3e} > {tol:.3e}"


@pytest.fixture
def rng():
    return np.random.default_rng(12345)


@pytest.fixture(autouse=True)
def _restore_threads():
    """every test may set the thread count and the instruction set freely:
    both are put back afterwards"""
    n, isa = xnn.get_num_threads(), xnn.isa()
    yield
    xnn.set_num_threads(n)
    xnn._core.set_isa(isa)


def run_threads(target, args_list):
    """target(*args) on one thread per tuple of args_list, all at once;
    raises the first exception any of them raised"""
    errors = []

    def wrapped(*args):
        try:
            target(*args)
        except BaseException as e:      # pragma: no cover - raised below
            errors.append(e)

    threads = [threading.Thread(target=wrapped, args=a) for a in args_list]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    if errors:
        raise errors[0]


def dense_node(W, b, act, keep=1.0):
    """The node tuple of a dense layer for ``_core.Network``."""
    n_in, n_out = W.shape
    return (xnn._core.OP_DENSE, act, keep, (n_in, 1, 1), (n_out, 1, 1), (1, 1), (1, 1), (0, 0),
            W, b)


def dense_network(layers, dtype=None):
    """``_core.Network`` of dense layers given as (W, b, act[, keep]) tuples."""
    if dtype is None:
        dtype = layers[0][0].dtype
    return xnn._core.Network([dense_node(*ly) for ly in layers], np.dtype(dtype).name)


def twin_of(model):
    """The NumPy twin (xnn.reference's layer dicts, float64) of a model."""
    L = xnn.layers
    net = []
    for ly in model.layers:
        f = lambda a: None if a is None else np.asarray(a, dtype=np.float64)
        if isinstance(ly, L.Dense):
            net.append({"op": "dense", "W": f(ly.W), "b": f(ly.b), "act": ly.activation,
                        "keep": ly.keep_prob})
        elif isinstance(ly, L.Conv2d):
            net.append({"op": "conv2d", "W": f(ly.W), "b": f(ly.b), "stride": ly.stride,
                        "padding": ly.padding, "act": ly.activation, "keep": ly.keep_prob})
        elif isinstance(ly, L.Conv1d):
            net.append({"op": "conv1d", "W": f(ly.W), "b": f(ly.b), "stride": ly.stride[0],
                        "padding": ly.padding[0], "act": ly.activation, "keep": ly.keep_prob})
        elif isinstance(ly, (L.MaxPool2d, L.AvgPool2d)):
            op = "maxpool2d" if isinstance(ly, L.MaxPool2d) else "avgpool2d"
            net.append({"op": op, "kernel": ly.kernel_size, "stride": ly.stride})
        elif isinstance(ly, (L.MaxPool1d, L.AvgPool1d)):
            op = "maxpool1d" if isinstance(ly, L.MaxPool1d) else "avgpool1d"
            net.append({"op": op, "kernel": ly.kernel_size[0], "stride": ly.stride[0]})
        elif isinstance(ly, L.GlobalAvgPool2d):
            net.append({"op": "gap2d"})
        elif isinstance(ly, L.GlobalAvgPool1d):
            net.append({"op": "gap1d"})
        else:
            net.append({"op": "flatten"})
    return net


def model_of(net, input_shape, dtype="float64"):
    """The xnn.Sequential of a twin network (xnn.reference layer dicts),
    with the same weights."""
    from xnn import reference as R
    L = xnn.layers
    layers, weights = [], []
    for ly in R.as_network(net):
        op = ly["op"]
        if op == "dense":
            layers.append(L.Dense(*ly["W"].shape, activation=ly["act"], keep_prob=ly["keep"]))
        elif op in ("conv2d", "conv1d"):
            O, C = ly["W"].shape[:2]
            cls = L.Conv2d if op == "conv2d" else L.Conv1d
            k = ly["W"].shape[2:] if op == "conv2d" else ly["W"].shape[2]
            layers.append(cls(C, O, k, stride=ly["stride"], padding=ly["padding"],
                              activation=ly["act"], keep_prob=ly["keep"]))
        elif op in ("maxpool2d", "avgpool2d", "maxpool1d", "avgpool1d"):
            cls = {"maxpool2d": L.MaxPool2d, "avgpool2d": L.AvgPool2d, "maxpool1d": L.MaxPool1d,
                   "avgpool1d": L.AvgPool1d}[op]
            layers.append(cls(ly["kernel"], ly["stride"]))
        elif op == "gap2d":
            layers.append(L.GlobalAvgPool2d())
        elif op == "gap1d":
            layers.append(L.GlobalAvgPool1d())
        else:
            layers.append(L.Flatten())
        if op in R.PARAMETRIC:
            weights += [ly["W"], ly["b"] if ly["b"] is not None else np.zeros(ly["W"].shape[-1 if op == "dense" else 0])]
    model = xnn.Sequential(layers, input_shape=input_shape, dtype=dtype, seed=0)
    model.set_weights(weights)
    return model


def mnist_dir():
    """The directory of the real MNIST test set: $XNN_MNIST_DIR, or
    ../shared/data/mnist beside the checkout. Under CI=true its absence is
    a failure with a clear message; elsewhere the test is skipped."""
    import os
    from pathlib import Path
    from _deps import missing
    env = os.environ.get("XNN_MNIST_DIR")
    candidates = [Path(env)] if env else []
    candidates.append(Path(_ROOT).parent / "shared" / "data" / "mnist")
    for d in candidates:
        if (d / "t10k-images-idx3-ubyte.gz").exists() or (d / "t10k-images-idx3-ubyte").exists():
            return d
    missing("the MNIST test set (t10k-images-idx3-ubyte.gz)",
            "set XNN_MNIST_DIR, or put it in ../shared/data/mnist")


@pytest.fixture(scope="session")
def mnist_test_set():
    """(X (10000, 784) float32 in [0, 1], y) of the real MNIST test set."""
    return xnn.datasets.load_idx_dir(mnist_dir(), kind="t10k")
