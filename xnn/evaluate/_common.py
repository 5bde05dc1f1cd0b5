"""Argument handling shared by the evaluation metrics."""
import numpy as np

from .. import _validate as V
from ..explain import _common as EC

#: explanation methods that may be named by a string
METHODS = ("gradient", "saliency", "input_x_gradient", "smoothgrad", "integrated_gradients",
           "guided_backprop", "deconvnet", "lrp", "occlusion")


def rows_targets(model, X, target):
    """(rows (m, d) of the model's dtype, targets (m,) resolved to classes)."""
    EC.check_model(model)
    net, Xc, node, targets, _ = EC.prepare(model, X, target)
    return Xc, EC.resolve(net, Xc, targets, node)


def relevance(R, m, d, name="R"):
    """R as float64 (m, d): any shape with m * d values whose first axis is m."""
    try:
        arr = np.asarray(R, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name}: expected an array of numbers shaped like X: {e}") from None
    if arr.size != m * d or (m > 1 and arr.shape[0] != m):
        raise ValueError(f"{name}: expected one relevance per input value of X, {m} rows of "
                         f"{d} values, got shape {arr.shape}")
    arr = arr.reshape(m, d)
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got NaN or infinity")
    return arr


def method_fn(method, method_kwargs=None):
    """A callable (model, X, target) -> explanations of X."""
    if method_kwargs is not None and not isinstance(method_kwargs, dict):
        raise TypeError(f"method_kwargs: expected a dict, got {type(method_kwargs).__name__}")
    kw = {} if method_kwargs is None else dict(method_kwargs)
    if isinstance(method, str):
        if method not in METHODS:
            raise ValueError(f"method: expected one of {list(METHODS)} or a callable, got {method!r}")
        from .. import explain
        fn = getattr(explain, method)
    elif callable(method):
        fn = method
    else:
        raise TypeError(f"method: expected a method name or a callable (model, X, target), "
                        f"got {type(method).__name__}")

    def call(model, X, target):
        E = np.asarray(fn(model, X, target=target, **kw), dtype=np.float64)
        if E.size != X.shape[0] * X.shape[1]:
            raise ValueError(f"method: expected explanations shaped like X {X.shape}, got {E.shape}")
        return E.reshape(X.shape[0], -1)
    return call


def score_name(output):
    if not isinstance(output, str) or output not in ("logit", "probability"):
        raise ValueError(f"output: expected 'logit' or 'probability', got {output!r}")
    return output


def rng_of(seed):
    if seed is None:
        return np.random.default_rng()
    return np.random.default_rng(V.positive_int(seed, "seed", minimum=0))


def perturbations(value, X64, rng, name, default):
    """(m, n, d) float64 perturbations: ``value`` an array (n, d) (or (n, H, W))
    shared by every row, an array (m, n, d) (or (m, n, H, W)), or a callable
    (X (m, d) float64, rng) -> such an array; None: ``default(rng)``."""
    m, d = X64.shape
    if value is None:
        arr = default(rng)
    elif callable(value):
        arr = value(X64.copy(), rng)
    else:
        arr = value
    try:
        arr = np.asarray(arr, dtype=np.float64)
    except (TypeError, ValueError) as e:
        raise TypeError(f"{name}: expected an array of numbers: {e}") from None
    if arr.ndim >= 3 and arr.shape[0] == m and int(np.prod(arr.shape[2:])) == d:
        arr = arr.reshape(m, arr.shape[1], d)
    elif arr.ndim >= 2 and int(np.prod(arr.shape[1:])) == d:
        arr = np.broadcast_to(arr.reshape(1, arr.shape[0], d), (m, arr.shape[0], d))
    else:
        raise ValueError(f"{name}: expected (n, {d}) perturbations shared by every row or "
                         f"({m}, n, {d}), got shape {arr.shape}")
    if arr.shape[1] < 1:
        raise ValueError(f"{name}: expected at least one perturbation per row, got shape {arr.shape}")
    if not np.all(np.isfinite(arr)):
        raise ValueError(f"{name}: expected finite values, got NaN or infinity")
    return arr
