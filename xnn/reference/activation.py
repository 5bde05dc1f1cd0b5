"""Activations by name ("linear", "relu", "tanh", "sigmoid", "softmax"),
dropout and the counter-based uniform stream behind its masks.

Elementwise activations work on arrays of any shape; softmax normalises
over axis 1 (the units of a dense row, the channels of an NCHW map)."""
import numpy as np

__all__ = ["softmax", "sigmoid", "activation_forward", "activation_backward", "uniform",
           "dropout_forward", "dropout_backward"]


def softmax(Z):
    """Row-wise softmax, shifted by the row maximum for stability."""
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def sigmoid(Z):
    return 1.0 / (1.0 + np.exp(-Z))


def activation_forward(Z, act):
    if act == "linear":
        return Z.copy()
    if act == "relu":
        return np.maximum(Z, 0)
    if act == "tanh":
        return np.tanh(Z)
    if act == "sigmoid":
        return sigmoid(Z)
    if act == "softmax":
        return softmax(Z)
    raise ValueError(f"act: unknown activation {act!r}")


def activation_backward(Y, dY, act):
    """dZ from the saved output Y = act(Z) and the incoming gradient dY."""
    if act == "linear":
        return dY.copy()
    if act == "relu":
        return dY * (Y > 0)
    if act == "tanh":
        return dY * (1 - Y**2)
    if act == "sigmoid":
        return dY * (Y * (1 - Y))
    if act == "softmax":  # J^T dY with J = diag(y) - y y^T, row by row
        return Y * (dY - np.sum(Y * dY, axis=1, keepdims=True))
    raise ValueError(f"act: unknown activation {act!r}")


_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix64(z):
    """splitmix64's finaliser on uint64 arrays (arithmetic wraps mod 2^64)."""
    z = (z + np.uint64(0x9E3779B97F4A7C15)) & _M64
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _M64
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _M64
    return z ^ (z >> np.uint64(31))


def uniform(seed, stream, index):
    """The counter-based stream behind dropout masks: uniform [0, 1) for
    each index, determined by (seed, stream, index) alone."""
    with np.errstate(over="ignore"):
        s = _mix64(np.uint64(seed) ^ _mix64(np.array([stream], dtype=np.uint64)))
        z = _mix64(s + np.asarray(index, dtype=np.uint64))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def dropout_forward(X, keep, seed, stream):
    """(Y, mask): Y = X * mask / keep with mask = uniform(...) < keep."""
    mask = (uniform(seed, stream, np.arange(X.size)) < keep).reshape(X.shape)
    return np.where(mask, X * X.dtype.type(1.0 / keep), 0).astype(X.dtype), mask.astype(np.uint8)


def dropout_backward(mask, dY, keep):
    return np.where(mask.astype(bool), dY * dY.dtype.type(1.0 / keep), 0).astype(dY.dtype)
