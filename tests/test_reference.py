"""The NumPy twins against central finite differences (float64).

Each twin's backward must be the derivative of its forward; once that
holds, the C kernels are checked against the twins (test_kernels.py).
"""
import numpy as np
import pytest

from xnn import reference as ref

EPS = 1e-6


def numeric_grad(f, x):
    """Central differences of the scalar f at x (x is perturbed in place)."""
    g = np.zeros_like(x)
    it = np.nditer(x, flags=["multi_index"])
    for _ in it:
        i = it.multi_index
        old = x[i]
        x[i] = old + EPS
        fp = f()
        x[i] = old - EPS
        fm = f()
        x[i] = old
        g[i] = (fp - fm) / (2 * EPS)
    return g


@pytest.mark.parametrize("act", ["linear", "relu", "tanh", "sigmoid", "softmax"])
def test_activation_backward_is_derivative(act, rng):
    Z = rng.normal(size=(4, 5))
    Z[np.abs(Z) < 1e-3] = 0.5  # keep clear of relu's kink
    V = rng.normal(size=(4, 5))  # random projection of the output

    def f():
        return np.sum(V * ref.activation_forward(Z, act))

    expected = numeric_grad(f, Z)
    Y = ref.activation_forward(Z, act)
    np.testing.assert_allclose(ref.activation_backward(Y, V, act), expected, rtol=1e-6, atol=1e-8)


def test_dense_backward_is_derivative(rng):
    X, W, b = rng.normal(size=(3, 4)), rng.normal(size=(4, 2)), rng.normal(size=2)
    V = rng.normal(size=(3, 2))
    dX, dW, db = ref.dense_backward(V, X, W)

    def f():
        return np.sum(V * ref.dense_forward(X, W, b))

    np.testing.assert_allclose(dX, numeric_grad(f, X), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(dW, numeric_grad(f, W), rtol=1e-6, atol=1e-8)
    np.testing.assert_allclose(db, numeric_grad(f, b), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("loss,act", [
    ("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid"), ("ssr", "softmax"),
    ("ssr", "sigmoid"), ("ssr", "linear"), ("cross_entropy", "sigmoid"),
    ("binary_cross_entropy", "softmax"),
])
def test_loss_backward_is_derivative(loss, act, rng):
    Z = rng.normal(size=(5, 4))
    labels = rng.integers(0, 4, 5)
    scale = 1 / 5

    def f():
        return scale * ref.loss_forward(ref.activation_forward(Z, act), labels, loss)[0]

    P = ref.activation_forward(Z, act)
    np.testing.assert_allclose(ref.loss_backward(P, labels, loss, act, scale),
                               numeric_grad(f, Z), rtol=1e-6, atol=1e-8)


def test_ssr_statistic_is_the_reports():
    P = np.array([[0.7, 0.2, 0.1], [0.1, 0.1, 0.8]])
    labels = np.array([0, 1])
    loss, ssr, correct = ref.loss_forward(P, labels, "cross_entropy")
    Y = np.eye(3)[labels]
    assert ssr == pytest.approx(0.5 * np.sum((Y - P) ** 2), rel=1e-15)
    assert loss == pytest.approx(-np.log(0.7) - np.log(0.1), rel=1e-15)
    assert correct == 1


@pytest.mark.parametrize("acts,loss", [
    (["relu", "relu", "softmax"], "cross_entropy"),
    (["tanh", "sigmoid"], "binary_cross_entropy"),
    (["sigmoid", "linear"], "ssr"),
])
def test_network_gradients_are_derivatives(acts, loss, rng):
    widths = [6, 5, 4, 3][: len(acts) + 1]
    params = []
    for i, o in zip(widths[:-1], widths[1:]):
        params += [rng.normal(size=(i, o)), rng.normal(size=o) * 0.1]
    X = rng.normal(size=(7, widths[0]))
    labels = rng.integers(0, widths[-1], 7)
    grads, _ = ref.mlp_gradients(params, acts, X, labels, loss)
    for p, g in zip(params, grads):
        num = numeric_grad(lambda: ref.mlp_loss(params, acts, X, labels, loss), p)
        np.testing.assert_allclose(g, num, rtol=1e-5, atol=1e-7)


def test_optimizer_twins_follow_their_definitions():
    W, g = np.array([1.0, -2.0]), np.array([0.5, 0.25])
    np.testing.assert_allclose(ref.sgd_update(W, g, 0.1), [0.95, -2.025])
    W2, V2 = ref.momentum_update(W, np.array([1.0, 1.0]), g, 0.1, 0.9)
    np.testing.assert_allclose(V2, [1.4, 1.15])
    np.testing.assert_allclose(W2, W - 0.1 * V2)
    W3, M3, V3 = ref.adam_update(W, np.zeros(2), np.zeros(2), g, 0.1, 0.9, 0.999, 1e-8, 1)
    # the first Adam step moves each weight by lr against the gradient's sign
    np.testing.assert_allclose(W3, W - 0.1 * np.sign(g), rtol=1e-6)


def test_uniform_stream_is_uniform_and_deterministic():
    u = ref.uniform(7, 3, np.arange(200000))
    assert 0 <= u.min() and u.max() < 1
    assert abs(u.mean() - 0.5) < 0.005
    np.testing.assert_array_equal(u[:10], ref.uniform(7, 3, np.arange(10)))
    assert not np.array_equal(u[:10], ref.uniform(7, 4, np.arange(10)))
