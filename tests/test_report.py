"""Full-batch training reproduces the MNIST report's algorithm exactly.

The report's NumPy algorithm is written out below from its description
(REPORTS.md, A): init N(0, 1/fan_in) after np.random.seed(42), full-batch
gradient descent, dZ3 = P - Y, every gradient divided by m, CE, SSR and
accuracy recorded from each epoch's forward pass before its update.
"""
import numpy as np
import pytest

import xnn


def report_algorithm(X, Y, hidden, epochs, lr, seed=42):
    np.random.seed(seed)
    sizes = [X.shape[1], *hidden, Y.shape[1]]
    params = []
    for fan_in, fan_out in zip(sizes[:-1], sizes[1:]):
        params.append((np.random.randn(fan_in, fan_out) / np.sqrt(fan_in), np.zeros((1, fan_out))))
    m = X.shape[0]
    rows = []
    for _ in range(epochs):
        # forward
        A = [X]
        Z = []
        for i, (W, b) in enumerate(params):
            z = A[-1] @ W + b
            Z.append(z)
            if i < len(params) - 1:
                A.append(np.maximum(0, z))
            else:
                e = np.exp(z - np.max(z, axis=1, keepdims=True))
                A.append(e / np.sum(e, axis=1, keepdims=True))
        P = A[-1]
        ce = -np.sum(Y * np.log(P)) / m
        ssr = 0.5 * np.sum((Y - P) ** 2) / m
        acc = np.mean(np.argmax(P, axis=1) == np.argmax(Y, axis=1))
        rows.append((ce, ssr, acc))
        # backward
        dZ = P - Y
        grads = []
        for i in range(len(params) - 1, -1, -1):
            W, b = params[i]
            dW = A[i].T @ dZ / m
            db = np.sum(dZ, axis=0, keepdims=True) / m
            grads.append((dW, db))
            if i > 0:
                dZ = (dZ @ W.T) * (Z[i - 1] > 0)
        grads.reverse()
        params = [(W - lr * dW, b - lr * db) for (W, b), (dW, db) in zip(params, grads)]
    return np.array(rows), params


@pytest.fixture(scope="module")
def digits_data():
    from sklearn.datasets import load_digits
    d = load_digits()
    X = d.data / 16.0
    Y = np.eye(10)[d.target]
    return X, Y, d.target


def test_full_batch_matches_report_float64(digits_data):
    X, Y, labels = digits_data
    epochs, hidden = 25, (32, 32)
    expected, params = report_algorithm(X, Y, hidden, epochs, lr=0.01)
    model = xnn.Sequential([
        xnn.layers.Dense(X.shape[1], 32, activation="relu"),
        xnn.layers.Dense(32, 32, activation="relu"),
        xnn.layers.Dense(32, 10, activation="softmax"),
    ], init="mnist_report", seed=42, dtype="float64")
    hist = model.fit(X, Y, epochs=epochs, batch_size=None, optimizer="sgd", lr=0.01,
                     loss="cross_entropy", verbose=0)
    got = np.column_stack([hist.history["loss"], hist.history["ssr"], hist.history["accuracy"]])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=0)
    for w, (W, b) in zip(model.get_weights()[::2], params):
        np.testing.assert_allclose(w, W, rtol=1e-9, atol=1e-12)


def test_full_batch_matches_report_on_mnist_shapes(rng):
    # the report's own widths 784-32-32-10 on MNIST-like data
    X = rng.random((300, 784))
    labels = rng.integers(0, 10, 300)
    Y = np.eye(10)[labels]
    expected, _ = report_algorithm(X, Y, (32, 32), 20, lr=0.01)
    model = xnn.Sequential([
        xnn.layers.Dense(784, 32, activation="relu"),
        xnn.layers.Dense(32, 32, activation="relu"),
        xnn.layers.Dense(32, 10, activation="softmax"),
    ], init="mnist_report", seed=42, dtype="float64")
    hist = model.fit(X, labels, epochs=20, lr=0.01, verbose=0)
    got = np.column_stack([hist.history["loss"], hist.history["ssr"], hist.history["accuracy"]])
    np.testing.assert_allclose(got, expected, rtol=1e-9, atol=0)


def test_full_batch_float32_tracks_report(digits_data):
    X, Y, labels = digits_data
    expected, _ = report_algorithm(X, Y, (32, 32), 10, lr=0.01)
    model = xnn.Sequential([
        xnn.layers.Dense(64, 32, activation="relu"),
        xnn.layers.Dense(32, 32, activation="relu"),
        xnn.layers.Dense(32, 10, activation="softmax"),
    ], init="mnist_report", seed=42, dtype="float32")
    hist = model.fit(X, labels, epochs=10, lr=0.01, verbose=0)
    np.testing.assert_allclose(hist.history["loss"], expected[:, 0], rtol=1e-5)
    np.testing.assert_allclose(hist.history["ssr"], expected[:, 1], rtol=1e-5)
