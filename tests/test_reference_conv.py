"""The convolution, pooling, flatten and network twins (xnn.reference):
against their definitions, central finite differences (float64) and
PyTorch (float64, to rounding)."""
import numpy as np
import pytest

from xnn import reference as R

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


def fd_close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-6, atol=1e-8)


def conv2d_by_definition(X, W, b, stride, padding):
    """Z[n, o, p, q] = b[o] + sum_{c,i,j} W[o, c, i, j] X[n, c, p s + i - pad, q s + j - pad]."""
    (sh, sw), (ph, pw) = stride, padding
    m, C, H, Wd = X.shape
    O, _, kh, kw = W.shape
    Ho, Wo = (H + 2 * ph - kh) // sh + 1, (Wd + 2 * pw - kw) // sw + 1
    Z = np.zeros((m, O, Ho, Wo))
    for p in range(Ho):
        for q in range(Wo):
            for i in range(kh):
                for j in range(kw):
                    h, w = p * sh + i - ph, q * sw + j - pw
                    if 0 <= h < H and 0 <= w < Wd:
                        Z[:, :, p, q] += X[:, :, h, w] @ W[:, :, i, j].T
    return Z + b[:, None, None]


# a sample of the grid: kernels 1/3/5, strides 1/2/3, paddings 0/1/2, odd and
# prime sizes, 1 and 3 channels, square and not
CONV2D = [  # (m, C, H, W, O, kernel, stride, padding)
    (2, 1, 7, 7, 2, 3, 1, 0), (1, 3, 5, 7, 2, 3, 2, 1), (2, 3, 11, 13, 1, 5, 3, 2),
    (3, 1, 5, 5, 3, 1, 1, 0), (1, 3, 7, 11, 2, (3, 1), (2, 1), (1, 0)), (2, 1, 13, 7, 2, 5, 1, 2),
    (1, 3, 6, 5, 2, (1, 5), (3, 2), (0, 2)), (2, 1, 3, 3, 1, 3, 3, 1),
]


@pytest.mark.parametrize("case", CONV2D)
def test_conv2d_forward_is_the_definition_and_im2col_rows_match_the_weights(case, rng):
    m, C, H, W, O, k, s, p = case
    k, s, p = R.conv._pair(k, "k"), R.conv._pair(s, "s"), R.conv._pair(p, "p")
    X, Wt, b = rng.normal(size=(m, C, H, W)), rng.normal(size=(O, C) + k), rng.normal(size=O)
    Z = R.conv2d_forward(X, Wt, b, s, p)
    np.testing.assert_allclose(Z, conv2d_by_definition(X, Wt, b, s, p), rtol=1e-13, atol=1e-13)
    cols = R.im2col(X, k, s, p)
    assert cols.shape == (m, C * k[0] * k[1], Z.shape[2] * Z.shape[3])
    np.testing.assert_allclose((Wt.reshape(O, -1) @ cols).reshape(Z.shape) + b[:, None, None], Z,
                               rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("case", CONV2D)
def test_conv2d_backward_is_derivative(case, rng):
    m, C, H, W, O, k, s, p = case
    k = R.conv._pair(k, "k")
    X, Wt, b = rng.normal(size=(m, C, H, W)), rng.normal(size=(O, C) + k), rng.normal(size=O)
    V = rng.normal(size=R.conv2d_forward(X, Wt, b, s, p).shape)
    dX, dW, db = R.conv2d_backward(V, X, Wt, s, p)

    def f():
        return np.sum(V * R.conv2d_forward(X, Wt, b, s, p))

    fd_close(dX, numeric_grad(f, X))
    fd_close(dW, numeric_grad(f, Wt))
    fd_close(db, numeric_grad(f, b))


@pytest.mark.parametrize("m,C,L,O,k,s,p", [(2, 1, 7, 2, 3, 1, 0), (1, 3, 13, 2, 5, 3, 2),
                                           (3, 3, 5, 1, 1, 2, 1), (2, 1, 11, 3, 3, 2, 2)])
def test_conv1d_backward_is_derivative_and_as_dense(m, C, L, O, k, s, p, rng):
    X, Wt, b = rng.normal(size=(m, C, L)), rng.normal(size=(O, C, k)), rng.normal(size=O)
    Z = R.conv1d_forward(X, Wt, b, s, p)
    np.testing.assert_allclose(Z, conv2d_by_definition(X[:, :, None], Wt[:, :, None], b, (1, s), (0, p))[:, :, 0],
                               rtol=1e-13, atol=1e-13)
    V = rng.normal(size=Z.shape)
    dX, dW, db = R.conv1d_backward(V, X, Wt, s, p)

    def f():
        return np.sum(V * R.conv1d_forward(X, Wt, b, s, p))

    fd_close(dX, numeric_grad(f, X))
    fd_close(dW, numeric_grad(f, Wt))
    fd_close(db, numeric_grad(f, b))
    Wd, bd = R.conv1d_as_dense(Wt, b, (C, L), s, p)
    np.testing.assert_allclose(X.reshape(m, -1) @ Wd + bd, Z.reshape(m, -1), rtol=1e-13, atol=1e-13)


@pytest.mark.parametrize("case", CONV2D[:5])
def test_conv2d_as_dense(case, rng):
    m, C, H, W, O, k, s, p = case
    k = R.conv._pair(k, "k")
    X, Wt, b = rng.normal(size=(m, C, H, W)), rng.normal(size=(O, C) + k), rng.normal(size=O)
    Wd, bd = R.conv2d_as_dense(Wt, b, (C, H, W), s, p)
    Z = R.conv2d_forward(X, Wt, b, s, p)
    assert Wd.shape == (C * H * W, Z[0].size)
    np.testing.assert_allclose(X.reshape(m, -1) @ Wd + bd, Z.reshape(m, -1), rtol=1e-13, atol=1e-13)
    # every weight appears once per output position it reaches, the rest is exactly 0
    ones = R.conv2d_as_dense(np.ones_like(Wt), None, (C, H, W), s, p)[0]
    assert set(np.unique(ones)) <= {0.0, 1.0}
    np.testing.assert_array_equal(ones.sum(axis=0), R.conv2d_forward(np.ones((1, C, H, W)), np.ones_like(Wt),
                                                                     None, s, p).reshape(-1))


POOLS = [  # (m, C, H, W, kernel, stride)
    (2, 1, 7, 7, 2, None), (1, 3, 5, 7, 3, 2), (2, 3, 11, 13, 3, 1), (1, 1, 5, 5, 5, None),
    (2, 3, 7, 11, (2, 3), (1, 2)), (1, 1, 13, 7, 1, 3),
]


@pytest.mark.parametrize("case", POOLS)
def test_pool2d_backward_is_derivative(case, rng):
    m, C, H, W, k, s = case
    X = rng.normal(size=(m, C, H, W))
    Y, arg = R.maxpool2d_forward(X, k, s)
    assert arg.dtype == np.int64 and arg.shape == Y.shape
    np.testing.assert_array_equal(np.take_along_axis(X.reshape(m, C, -1), arg.reshape(m, C, -1), 2),
                                  Y.reshape(m, C, -1))
    V = rng.normal(size=Y.shape)
    fd_close(R.maxpool2d_backward(V, arg, X.shape),
             numeric_grad(lambda: np.sum(V * R.maxpool2d_forward(X, k, s)[0]), X))
    fd_close(R.avgpool2d_backward(V, X.shape, k, s),
             numeric_grad(lambda: np.sum(V * R.avgpool2d_forward(X, k, s)), X))
    Vg = rng.normal(size=(m, C))
    fd_close(R.global_avgpool2d_backward(Vg, X.shape),
             numeric_grad(lambda: np.sum(Vg * R.global_avgpool2d_forward(X)), X))
    Vf = rng.normal(size=(m, C * H * W))
    np.testing.assert_array_equal(R.flatten_backward(Vf, X.shape), Vf.reshape(X.shape))
    np.testing.assert_array_equal(R.flatten_forward(X), X.reshape(m, -1))


@pytest.mark.parametrize("m,C,L,k,s", [(2, 1, 7, 2, None), (1, 3, 13, 3, 2), (2, 3, 11, 5, 1), (1, 1, 5, 5, 3)])
def test_pool1d_backward_is_derivative(m, C, L, k, s, rng):
    X = rng.normal(size=(m, C, L))
    Y, arg = R.maxpool1d_forward(X, k, s)
    np.testing.assert_array_equal(np.take_along_axis(X, arg, 2), Y)
    V = rng.normal(size=Y.shape)
    fd_close(R.maxpool1d_backward(V, arg, X.shape),
             numeric_grad(lambda: np.sum(V * R.maxpool1d_forward(X, k, s)[0]), X))
    fd_close(R.avgpool1d_backward(V, X.shape, k, s),
             numeric_grad(lambda: np.sum(V * R.avgpool1d_forward(X, k, s)), X))
    Vg = rng.normal(size=(m, C))
    fd_close(R.global_avgpool1d_backward(Vg, X.shape),
             numeric_grad(lambda: np.sum(Vg * R.global_avgpool1d_forward(X)), X))


def test_maxpool_ties_go_to_the_first_in_row_major_order():
    X = np.array([[[[1.0, 3.0, 3.0, 0.0],
                    [3.0, 2.0, 0.0, 0.0],
                    [5.0, 5.0, 4.0, 4.0],
                    [5.0, 5.0, 4.0, 4.0]]]])
    Y, arg = R.maxpool2d_forward(X, 2)
    np.testing.assert_array_equal(Y[0, 0], [[3, 3], [5, 4]])
    np.testing.assert_array_equal(arg[0, 0], [[1, 2], [8, 10]])


def test_bad_shapes_raise():
    X = np.zeros((1, 2, 5, 5))
    with pytest.raises(ValueError, match="kernel"):
        R.conv2d_forward(X, np.zeros((1, 2, 7, 7)))
    with pytest.raises(ValueError, match="input channels"):
        R.conv2d_forward(X, np.zeros((1, 3, 3, 3)))
    with pytest.raises(ValueError, match="kernel"):
        R.maxpool2d_forward(X, 6)
    with pytest.raises(ValueError, match="stride"):
        R.conv2d_forward(X, np.zeros((1, 2, 3, 3)), stride=0)


# ---------------------------------------------------------------- networks

def tiny_cnn_nodeps(rng, act="tanh"):
    def w(*shape):
        return rng.normal(size=shape) / np.sqrt(np.prod(shape[1:]) if len(shape) > 2 else shape[0])
    return [{"op": "conv2d", "W": w(3, 2, 3, 3), "b": 0.1 * rng.normal(size=3), "act": act, "padding": 1},
            {"op": "maxpool2d", "kernel": 2, "stride": 1},
            {"op": "conv2d", "W": w(2, 3, 3, 3), "b": 0.1 * rng.normal(size=2), "act": act, "stride": 2},
            {"op": "avgpool2d", "kernel": 2}, {"op": "flatten"},
            {"op": "dense", "W": w(2, 3), "b": 0.1 * rng.normal(size=3), "act": act},
            {"op": "dense", "W": w(3, 3), "b": 0.1 * rng.normal(size=3), "act": "softmax"}]


def tiny_conv1d(rng):
    def w(*shape):
        return rng.normal(size=shape) / np.sqrt(np.prod(shape[1:]) if len(shape) > 2 else shape[0])
    return [{"op": "conv1d", "W": w(3, 2, 3), "b": 0.1 * rng.normal(size=3), "act": "sigmoid", "padding": 2},
            {"op": "maxpool1d", "kernel": 2}, {"op": "avgpool1d", "kernel": 3, "stride": 1},
            {"op": "conv1d", "W": w(2, 3, 1), "b": 0.1 * rng.normal(size=2), "act": "tanh"},
            {"op": "gap1d"}, {"op": "dense", "W": w(2, 3), "b": 0.1 * rng.normal(size=3), "act": "softmax"}]


@pytest.mark.parametrize("make,shape", [(tiny_cnn_nodeps, (3, 2, 7, 7)), (tiny_conv1d, (3, 2, 11))])
def test_network_gradients_are_derivatives(make, shape, rng):
    net = make(rng)
    X = rng.normal(size=shape)
    labels = np.array([0, 2, 1])
    grads, stats = R.network_gradients(net, X, labels)
    params = [p for ly in net if ly["op"] in R.PARAMETRIC for p in (ly["W"], ly["b"])]
    assert len(grads) == len(params)
    for p, g in zip(params, grads):
        assert g.shape == p.shape
        fd_close(g, numeric_grad(lambda: R.network_loss(net, X, labels), p))
    P = R.network_forward(net, X)[1][-1]
    assert stats == R.loss_forward(P, labels, "cross_entropy")


def test_mlp_tuples_and_layer_checks(rng):
    W1, b1, W2, b2 = rng.normal(size=(4, 3)), rng.normal(size=3), rng.normal(size=(3, 2)), rng.normal(size=2)
    X = rng.normal(size=(5, 4))
    tup = R.network_forward([(W1, b1, "relu"), (W2, b2, "softmax")], X)
    dicts = R.network_forward([{"op": "dense", "W": W1, "b": b1, "act": "relu"},
                               {"op": "dense", "W": W2, "b": b2, "act": "softmax"}], X)
    for a, b in zip(tup[1], dicts[1]):
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(R.mlp_forward([W1, b1, W2, b2], ["relu", "softmax"], X)[1], tup[1][1])
    with pytest.raises(ValueError, match="unknown op"):
        R.network_forward([{"op": "conv3d"}], X)
    with pytest.raises(ValueError, match="unknown keys"):
        R.network_forward([{"op": "flatten", "kernel": 2}], X)
    with pytest.raises(ValueError, match="flatten"):
        R.network_forward([{"op": "dense", "W": W1, "b": b1}], X.reshape(5, 1, 2, 2))


def test_network_gradients_with_dropout_follow_the_training_step(rng):
    """a layer's output is dropped with stream step * 4096 + layer (as the C step)"""
    W1, b1, W2, b2 = rng.normal(size=(6, 5)), rng.normal(size=5), rng.normal(size=(5, 3)), rng.normal(size=3)
    X, labels, keep, seed = rng.normal(size=(7, 6)), rng.integers(0, 3, 7), 0.6, 11
    net = [(W1, b1, "relu", keep), (W2, b2, "softmax")]
    grads, _ = R.network_gradients(net, X, labels, seed=seed, step=2)
    A1 = np.maximum(X @ W1 + b1, 0)
    _, mask = R.dropout_forward(A1, keep, seed, 2 * 4096 + 0)
    D1 = A1 * mask / keep
    P = R.softmax(D1 @ W2 + b2)
    dZ2 = (P - np.eye(3)[labels]) / 7
    dZ1 = (dZ2 @ W2.T) * mask / keep * (A1 > 0)
    for g, e in zip(grads, [X.T @ dZ1, dZ1.sum(0), D1.T @ dZ2, dZ2.sum(0)]):
        np.testing.assert_allclose(g, e, rtol=1e-13, atol=1e-15)
    # without a seed there is no dropout
    np.testing.assert_allclose(R.network_gradients(net, X, labels)[0][0],
                               R.mlp_gradients([W1, b1, W2, b2], ["relu", "softmax"], X, labels)[0][0])
