"""xnn: explainable neural networks with a C core.

Train small networks on NumPy arrays and see why they decide what they
decide. The maths is hand-written C (``xnn._core``); this package arranges it.

    import xnn
    model = xnn.Sequential([
        xnn.layers.Dense(784, 128, activation="relu"),
        xnn.layers.Dense(128, 10, activation="softmax"),
    ], init="mnist_report", seed=42)
    hist = model.fit(X, y, epochs=10, batch_size=128, lr=0.1)
"""
from . import _core
from . import datasets, explain, init, layers, losses, ops, optim, plot, reference, visualize
from . import evaluate
from .network import History, Sequential, load

__version__ = "0.1.0"


def set_num_threads(n):
    """Use at most n threads in the kernels (default: the number of cores).
    Results are bitwise identical for any n."""
    from ._validate import positive_int
    _core.set_num_threads(positive_int(n, "n"))


def get_num_threads():
    """The number of threads the kernels use."""
    return _core.get_num_threads()


def isa():
    """The instruction set of the matrix kernels: 'ref', 'avx2' or 'avx512'."""
    return _core.isa()


def __getattr__(name):
    """``xnn.from_torch``, ``xnn.from_onnx``, ``xnn.interop`` and
    ``xnn.sklearn``, imported on first use (``import xnn`` imports neither
    torch, onnx, dask nor scikit-learn's estimators)."""
    import importlib
    if name in ("from_torch", "from_onnx"):
        return getattr(importlib.import_module(".interop", __name__), name)
    if name in ("interop", "sklearn"):
        return importlib.import_module("." + name, __name__)
    raise AttributeError(f"module 'xnn' has no attribute {name!r}")


__all__ = ["Sequential", "History", "load", "datasets", "explain", "evaluate", "layers", "init", "optim", "losses", "ops", "plot", "reference", "visualize",
           "set_num_threads", "get_num_threads", "isa", "__version__", "from_torch", "from_onnx",
           "interop", "sklearn"]
