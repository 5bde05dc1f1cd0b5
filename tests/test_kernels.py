"""Each C kernel against its NumPy twin over many shapes, both dtypes."""
import itertools

import numpy as np
import pytest

from xnn import _core
from xnn import reference as ref
from conftest import DTYPES, assert_close, dense_network

ACTS = {"linear": _core.ACT_LINEAR, "relu": _core.ACT_RELU, "tanh": _core.ACT_TANH,
        "sigmoid": _core.ACT_SIGMOID, "softmax": _core.ACT_SOFTMAX}
LOSSES = {"cross_entropy": _core.LOSS_CROSS_ENTROPY,
          "binary_cross_entropy": _core.LOSS_BINARY_CROSS_ENTROPY, "ssr": _core.LOSS_SSR}

SHAPES = [(1, 1, 1), (1, 7, 3), (3, 1, 5), (13, 31, 7), (64, 97, 10), (97, 257, 31),
          (257, 64, 97), (300, 784, 32)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("trans_a,trans_b", list(itertools.product([False, True], repeat=2)))
def test_gemm(m, k, n, trans_a, trans_b, dtype, rng):
    a = rng.normal(size=(k, m) if trans_a else (m, k)).astype(dtype)
    b = rng.normal(size=(n, k) if trans_b else (k, n)).astype(dtype)
    got = _core.matmul(a, b, trans_a=trans_a, trans_b=trans_b)
    expected = ref.gemm(a.astype(np.float64), b.astype(np.float64), trans_a, trans_b)
    assert got.dtype == dtype
    assert_close(got, expected, dtype, scale=np.sqrt(k) * 4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", SHAPES)
@pytest.mark.parametrize("act", list(ACTS))
def test_dense_forward(m, k, n, act, dtype, rng):
    X = rng.normal(size=(m, k)).astype(dtype)
    W = (rng.normal(size=(k, n)) / np.sqrt(k)).astype(dtype)
    b = rng.normal(size=n).astype(dtype)
    expected = ref.dense_forward(X.astype(np.float64), W.astype(np.float64),
                                 b.astype(np.float64), act)
    assert_close(_core.dense_forward(X, W, b, ACTS[act]), expected, dtype, scale=4)
    expected = ref.dense_forward(X.astype(np.float64), W.astype(np.float64), None, act)
    assert_close(_core.dense_forward(X, W, None, ACTS[act]), expected, dtype, scale=4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m,k,n", SHAPES)
def test_dense_backward(m, k, n, dtype, rng):
    dZ = rng.normal(size=(m, n)).astype(dtype)
    X = rng.normal(size=(m, k)).astype(dtype)
    W = rng.normal(size=(k, n)).astype(dtype)
    got = _core.dense_backward(dZ, X, W)
    expected = ref.dense_backward(dZ.astype(np.float64), X.astype(np.float64), W.astype(np.float64))
    for g, e, depth in zip(got, expected, (n, m, m)):
        assert g.dtype == dtype
        assert_close(g, e, dtype, scale=4 * np.sqrt(depth))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [1, 3, 31, 257])
@pytest.mark.parametrize("n", [1, 2, 10, 97])
@pytest.mark.parametrize("act", list(ACTS))
def test_activations(m, n, act, dtype, rng):
    Z = (3 * rng.normal(size=(m, n))).astype(dtype)
    dY = rng.normal(size=(m, n)).astype(dtype)
    Y = _core.activation_forward(Z, ACTS[act])
    assert_close(Y, ref.activation_forward(Z.astype(np.float64), act), dtype)
    # the backward twin from the same saved output
    assert_close(_core.activation_backward(Y, dY, ACTS[act]),
                 ref.activation_backward(Y.astype(np.float64), dY.astype(np.float64), act), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_softmax_is_stable_for_huge_scores(dtype):
    Z = np.array([[1000.0, 0.0, -1000.0], [-1e4, -1e4, -1e4]], dtype=dtype)
    P = _core.activation_forward(Z, _core.ACT_SOFTMAX)
    assert np.all(np.isfinite(P))
    np.testing.assert_allclose(P, [[1, 0, 0], [1 / 3, 1 / 3, 1 / 3]], rtol=1e-6)
    sig = _core.activation_forward(Z, _core.ACT_SIGMOID)
    assert np.all(np.isfinite(sig)) and sig[0, 0] == 1 and sig[0, 2] == 0


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("n", [1, 17, 1000])
@pytest.mark.parametrize("keep", [0.1, 0.5, 0.9, 1.0])
def test_dropout(n, keep, dtype, rng):
    X = rng.normal(size=(3, n)).astype(dtype)
    Y, mask = _core.dropout_forward(X, keep, 1234, 5)
    eY, emask = ref.dropout_forward(X, keep, 1234, 5)
    np.testing.assert_array_equal(mask, emask)
    assert_close(Y, eY, dtype)
    dY = rng.normal(size=(3, n)).astype(dtype)
    assert_close(_core.dropout_backward(mask, dY, keep), ref.dropout_backward(mask, dY, keep), dtype)


def test_dropout_keeps_the_expected_fraction():
    X = np.ones((100, 1000))
    _, mask = _core.dropout_forward(X, 0.9, 1, 0)
    assert abs(mask.mean() - 0.9) < 0.005


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("m", [1, 7, 128])
@pytest.mark.parametrize("n", [2, 10, 31])
@pytest.mark.parametrize("loss,act", [("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid"),
                                      ("ssr", "softmax"), ("ssr", "linear"),
                                      ("cross_entropy", "sigmoid"), ("binary_cross_entropy", "softmax")])
def test_losses(m, n, loss, act, dtype, rng):
    P = ref.activation_forward(rng.normal(size=(m, n)), act).astype(dtype)
    labels = rng.integers(0, n, m)
    got = _core.loss_forward(P, labels, LOSSES[loss])
    expected = ref.loss_forward(P, labels, loss)
    np.testing.assert_allclose(got, expected, rtol={np.float32: 1e-5, np.float64: 1e-12}[dtype])
    dZ = _core.loss_backward(P, labels, LOSSES[loss], ACTS[act], 1.0 / m)
    assert_close(dZ, ref.loss_backward(P.astype(np.float64), labels, loss, act, 1.0 / m), dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("shape", [(1,), (7,), (31, 13)])
def test_optimizers(shape, dtype, rng):
    W = rng.normal(size=shape).astype(dtype)
    g = rng.normal(size=shape).astype(dtype)
    V = rng.normal(size=shape).astype(dtype)
    M = rng.normal(size=shape).astype(dtype)
    w = W.copy()
    _core.sgd_update(w, g, 0.1)
    assert_close(w, ref.sgd_update(W.astype(float), g.astype(float), 0.1), dtype)
    for nesterov in (False, True):
        w, v = W.copy(), V.copy()
        _core.momentum_update(w, v, g, 0.1, 0.9, nesterov)
        ew, ev = ref.momentum_update(W.astype(float), V.astype(float), g.astype(float), 0.1, 0.9, nesterov)
        assert_close(w, ew, dtype)
        assert_close(v, ev, dtype)
    for t in (1, 10):
        w, mm, v = W.copy(), M.copy(), np.abs(V)
        ew, em, ev = ref.adam_update(W.astype(float), M.astype(float), np.abs(V).astype(float),
                                     g.astype(float), 0.01, 0.9, 0.999, 1e-8, t)
        _core.adam_update(w, mm, v, g, 0.01, 0.9, 0.999, 1e-8, t)
        assert_close(w, ew, dtype)
        assert_close(mm, em, dtype)
        assert_close(v, ev, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k, n", [(1, 1), (3, 7), (10, 784), (4, 1000)])
def test_ascent_step(k, n, dtype, rng):
    """activation maximization's step: x += lr g / rms(g) - lr l2 x - e, clipped"""
    x = rng.uniform(size=(k, n)).astype(dtype)
    g = rng.normal(size=(k, n)).astype(dtype)
    g[0] *= 1e-3                                  # rows of other scales
    e = (0.01 * rng.normal(size=(k, n))).astype(dtype)
    tiny = np.finfo(dtype).tiny
    for ee, l2, clip in [(None, 0.0, None), (e, 0.1, (0.0, 1.0)), (None, 0.5, (0.2, 0.7))]:
        got = x.copy()
        _core.ascent_step(got, g, ee, 0.05, l2, clip)
        want = ref.ascent_step(x.astype(float), g.astype(float),
                               None if ee is None else ee.astype(float), 0.05, l2, clip, tiny)
        assert_close(got, want, dtype)
        if clip is not None:
            assert got.min() >= clip[0] and got.max() <= clip[1]
    zero = x.copy()                               # a zero gradient: only the decay moves x
    _core.ascent_step(zero, np.zeros_like(g), None, 0.05, 0.1, None)
    assert_close(zero, x * (1 - 0.05 * 0.1), dtype)


def test_ascent_step_refuses_bad_arguments(rng):
    x = rng.uniform(size=(2, 5)).astype(np.float32)
    with pytest.raises(ValueError, match="clip: expected"):
        _core.ascent_step(x, x.copy(), None, 0.1, 0.0, (1.0, 0.0))
    with pytest.raises(ValueError, match="lr"):
        _core.ascent_step(x, x.copy(), None, float("nan"), 0.0, None)
    with pytest.raises(ValueError, match="g"):
        _core.ascent_step(x, x[:1].copy(), None, 0.1, 0.0, None)
    with pytest.raises(TypeError, match="x: expected a C-contiguous"):  # in place: no copy
        _core.ascent_step(x[:, ::2], x[:, ::2].copy(), None, 0.1, 0.0, None)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("acts,loss", [(["relu", "relu", "softmax"], "cross_entropy"),
                                       (["tanh", "sigmoid"], "binary_cross_entropy"),
                                       (["sigmoid", "linear"], "ssr")])
@pytest.mark.parametrize("m", [1, 13, 100])
def test_network_train_step(acts, loss, m, dtype, rng):
    widths = [37, 19, 11, 5][: len(acts) + 1]
    params = []
    for i, o in zip(widths[:-1], widths[1:]):
        params += [(rng.normal(size=(i, o)) / np.sqrt(i)).astype(dtype), rng.normal(size=o).astype(dtype)]
    X = rng.normal(size=(m, widths[0])).astype(dtype)
    labels = rng.integers(0, widths[-1], m)
    expected_params, expected_stats = ref.mlp_train_step([p.astype(float) for p in params], acts, X.astype(float),
                                                         labels, loss, lr=0.1)
    live = [p.copy() for p in params]
    net = dense_network([(live[2 * l], live[2 * l + 1], ACTS[a], 1.0) for l, a in enumerate(acts)])
    outs = [np.empty((m, o), dtype) for o in widths[1:]]
    net.forward(X, outs)
    for o, e in zip(outs, ref.mlp_forward([p.astype(float) for p in params], acts, X.astype(float))):
        assert_close(o, e, dtype, scale=4)
    trainer = _core.Trainer(net, 128, LOSSES[loss], _core.OPT_SGD, 0.1)
    stats = trainer.step(X, labels)[:3]
    np.testing.assert_allclose(stats, expected_stats, rtol={np.float32: 1e-5, np.float64: 1e-12}[dtype])
    for p, e in zip(live, expected_params):
        assert_close(p, e, dtype, scale=4)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("optimizer", ["sgd", "momentum", "adam"])
def test_train_step_in_chunks(optimizer, dtype, rng):
    """a batch larger than the trainer's buffers (4096 rows) goes through
    its step in chunks whose gradients are summed before one update: the
    same step as the twin's on the whole batch, for every optimizer"""
    m, widths, acts = 9000, [23, 17, 9, 4], ["relu", "relu", "softmax"]
    params = []
    for i, o in zip(widths[:-1], widths[1:]):
        params += [(rng.normal(size=(i, o)) / np.sqrt(i)).astype(dtype), rng.normal(size=o).astype(dtype)]
    X = rng.normal(size=(m, widths[0])).astype(dtype)
    labels = rng.integers(0, widths[-1], m)
    live = [p.copy() for p in params]
    net = dense_network([(live[2 * l], live[2 * l + 1], ACTS[a], 1.0) for l, a in enumerate(acts)])
    code, kw = {"sgd": (_core.OPT_SGD, {}), "momentum": (_core.OPT_MOMENTUM, {"momentum": 0.9}),
                "adam": (_core.OPT_ADAM, {})}[optimizer]
    trainer = _core.Trainer(net, m, LOSSES["cross_entropy"], code, 0.05, **kw)
    state = [np.zeros_like(p, dtype=float) for p in params]
    expected = [p.astype(float) for p in params]
    for step in (1, 2):
        grads, stats = ref.mlp_gradients(expected, acts, X.astype(float), labels)
        got = trainer.step(X, labels)[:3]
        np.testing.assert_allclose(got, stats, rtol={np.float32: 1e-4, np.float64: 1e-11}[dtype])
        if optimizer == "sgd":
            expected = [ref.sgd_update(p, g, 0.05) for p, g in zip(expected, grads)]
        elif optimizer == "momentum":
            pairs = [ref.momentum_update(p, v, g, 0.05, 0.9) for p, v, g in zip(expected, state, grads)]
            expected, state = [w for w, _ in pairs], [v for _, v in pairs]
        else:
            if step == 1:
                state = [(np.zeros_like(p), np.zeros_like(p)) for p in expected]
            triples = [ref.adam_update(p, mm, v, g, 0.05, 0.9, 0.999, 1e-8, step)
                       for p, (mm, v), g in zip(expected, state, grads)]
            expected, state = [w for w, _, _ in triples], [(mm, v) for _, mm, v in triples]
        for p, e in zip(live, expected):
            assert_close(p, e, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_train_step_in_chunks_with_dropout_and_rows(dtype, rng):
    """dropout in a chunked step draws element i of the whole batch from
    stream (step, layer), as one unchunked pass would (the twin below); and
    step(X, labels, rows) with more rows than a chunk gathers them all"""
    m, keep, seed, lr = 9000, 0.7, 99, 0.05
    W1 = (rng.normal(size=(11, 13)) / np.sqrt(11)).astype(dtype)
    b1 = (0.1 * rng.normal(size=13)).astype(dtype)
    W2 = (rng.normal(size=(13, 4)) / np.sqrt(13)).astype(dtype)
    b2 = (0.1 * rng.normal(size=4)).astype(dtype)
    X = rng.normal(size=(m, 11)).astype(dtype)
    labels = rng.integers(0, 4, m)
    live = [W1.copy(), b1.copy(), W2.copy(), b2.copy()]
    net = dense_network([(live[0], live[1], ACTS["relu"], keep), (live[2], live[3], ACTS["softmax"], 1.0)])
    trainer = _core.Trainer(net, m, LOSSES["cross_entropy"], _core.OPT_SGD, lr, seed=seed)
    trainer.step(X, labels)
    # the twin, in float64 on the whole batch: step 1, layer 0 -> stream 4096
    f = [a.astype(float) for a in (W1, b1, W2, b2)]
    x = X.astype(float)
    A1 = np.maximum(x @ f[0] + f[1], 0)
    _, mask = ref.dropout_forward(A1, keep, seed, 1 * 4096 + 0)
    D1 = A1 * mask / keep
    Z2 = D1 @ f[2] + f[3]
    P = np.exp(Z2 - Z2.max(axis=1, keepdims=True))
    P /= P.sum(axis=1, keepdims=True)
    dZ2 = (P - np.eye(4)[labels]) / m
    dZ1 = (dZ2 @ f[2].T) * mask / keep * (A1 > 0)
    want = [f[0] - lr * (x.T @ dZ1), f[1] - lr * dZ1.sum(0), f[2] - lr * (D1.T @ dZ2), f[3] - lr * dZ2.sum(0)]
    for p, e in zip(live, want):
        assert_close(p, e, dtype)

    # rows: a shuffled batch of 9000 rows out of 12000, gathered in C
    Xbig = rng.normal(size=(12000, 11)).astype(dtype)
    lbig = rng.integers(0, 4, 12000)
    rows = rng.permutation(12000)[:m].astype(np.int64)
    a = [p.copy() for p in (W1, b1, W2, b2)]
    b = [p.copy() for p in (W1, b1, W2, b2)]
    ta = _core.Trainer(dense_network([(a[0], a[1], ACTS["relu"], 1.0), (a[2], a[3], ACTS["softmax"], 1.0)]),
                       m, LOSSES["cross_entropy"], _core.OPT_SGD, lr)
    tb = _core.Trainer(dense_network([(b[0], b[1], ACTS["relu"], 1.0), (b[2], b[3], ACTS["softmax"], 1.0)]),
                       m, LOSSES["cross_entropy"], _core.OPT_SGD, lr)
    assert ta.step(Xbig, lbig, rows) == tb.step(np.ascontiguousarray(Xbig[rows]), lbig[rows])
    for p, q in zip(a, b):
        np.testing.assert_array_equal(p, q)


@pytest.mark.parametrize("dtype", DTYPES)
def test_first_nonfinite(dtype, rng):
    """the first NaN or infinity of an array (flat index), or -1: against
    NumPy, at block edges and with several bad values, for 1 and 2 threads"""
    for threads in (1, 2):      # the conftest fixture restores the count
        _core.set_num_threads(threads)
        for n in (1, 15, 16, 17, 4095, 4096, 4097, 70001):
            a = rng.normal(size=(n, 1)).astype(dtype)
            a[0, 0] = -0.0
            assert _core.first_nonfinite(a) == -1
            big = np.finfo(dtype).max
            a[n // 2, 0] = big  # large but finite
            assert _core.first_nonfinite(a) == -1
            for bad in (np.nan, np.inf, -np.inf):
                for where in sorted({0, n // 3, n - 1}):
                    b = a.copy()
                    b[where, 0] = bad
                    if n > 10:
                        b[n - 1 - where // 2, 0] = np.nan   # a later one too
                    want = int(np.argmax(~np.isfinite(b.ravel())))
                    assert _core.first_nonfinite(b) == want
    with pytest.raises(TypeError, match="a: expected a C-contiguous"):
        _core.first_nonfinite(np.zeros((3, 4))[:, ::2])
    with pytest.raises(TypeError, match="a: expected a numpy.ndarray"):
        _core.first_nonfinite([1.0])
