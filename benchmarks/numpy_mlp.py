"""The MNIST report's training algorithm in plain NumPy, for the benchmark.

Written from the report's description: Dense layers with ReLU, a softmax
output, dZ_last = P - Y, every gradient divided by m, plain gradient
descent. ``epoch`` runs one epoch in full batch or in minibatches.
"""
import numpy as np


def init(sizes, seed=42, dtype=np.float32):
    rng = np.random.RandomState(seed)
    return [(np.asarray(rng.randn(i, o) / np.sqrt(i), dtype=dtype), np.zeros((1, o), dtype=dtype))
            for i, o in zip(sizes[:-1], sizes[1:])]


def step(params, X, Y, lr):
    """One gradient-descent step on (X, Y one-hot); returns (CE, SSR, accuracy)."""
    m = X.shape[0]
    A, Z = [X], []
    for i, (W, b) in enumerate(params):
        z = A[-1] @ W + b
        Z.append(z)
        if i < len(params) - 1:
            A.append(np.maximum(0, z))
        else:
            e = np.exp(z - np.max(z, axis=1, keepdims=True))
            A.append(e / np.sum(e, axis=1, keepdims=True))
    P = A[-1]
    ce = -np.sum(Y * np.log(P + 1e-12)) / m
    ssr = 0.5 * np.sum((Y - P) ** 2) / m
    acc = np.mean(np.argmax(P, axis=1) == np.argmax(Y, axis=1))
    dZ = P - Y
    for i in range(len(params) - 1, -1, -1):
        W, b = params[i]
        dW = A[i].T @ dZ / m
        db = np.sum(dZ, axis=0, keepdims=True) / m
        if i > 0:
            dZ = (dZ @ W.T) * (Z[i - 1] > 0)
        W -= lr * dW
        b -= lr * db
    return ce, ssr, acc


def epoch(params, X, Y, lr=0.01, batch_size=None, rng=None):
    m = X.shape[0]
    if batch_size is None or batch_size >= m:
        return step(params, X, Y, lr)
    order = (rng or np.random.default_rng(0)).permutation(m)
    out = []
    for s in range(0, m, batch_size):
        idx = order[s:s + batch_size]
        out.append(step(params, X[idx], Y[idx], lr))
    return tuple(np.mean(out, axis=0))
