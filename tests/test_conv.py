"""The convolution, pooling and flatten ops in C against their NumPy twins
(xnn.reference), over a sample of kernels, strides, paddings, channels and
sizes (odd, prime, one, larger than any blocking), both dtypes; threads
change no bit."""

import numpy as np
import pytest

import xnn
from xnn import _core
from xnn import reference as R
from conftest import DTYPES, assert_close

L = xnn.layers

#: (C, H, W, O, k, stride, padding): a sample of the grid, not its full product
CONV_CASES = [
    (1, 5, 5, 1, 1, 1, 0), (3, 7, 7, 2, 3, 1, 1), (1, 28, 28, 6, 5, 1, 2), (6, 14, 14, 16, 5, 1, 0),
    (2, 13, 11, 3, 3, 2, 1), (5, 17, 19, 4, 7, 3, 2), (3, 9, 9, 5, 3, 3, 0), (4, 11, 7, 3, 5, 2, 2),
    (1, 31, 29, 7, 3, 1, 0), (7, 8, 8, 9, 1, 2, 0), (2, 6, 6, 3, 7, 1, 2), (3, 23, 5, 2, 5, 1, 2),
    (32, 13, 13, 64, 3, 1, 0), (1, 1, 1, 4, 1, 1, 0), (2, 5, 5, 3, 5, 1, 1),
    (9, 10, 7, 17, 3, 1, 2), (16, 6, 5, 3, 3, 1, 1), (8, 3, 3, 8, 3, 1, 0),
]
#: rows: one, odd, and more than a group of unfolded images
ROWS = [1, 3, 37]


def node(op, in_shape, out_shape, act=0, kernel=(1, 1), stride=(1, 1), padding=(0, 0), W=None,
         b=None):
    return (op, act, 1.0, in_shape, out_shape, kernel, stride, padding, W, b)


def conv_net(C, H, W, O, k, s, p, dtype, rng, act=_core.ACT_LINEAR, kh=None):
    kh = k if kh is None else kh
    Ho, Wo = (H + 2 * p - kh) // s + 1, (W + 2 * p - k) // s + 1
    Wt = (rng.normal(size=(O, C, kh, k)) / np.sqrt(C * kh * k)).astype(dtype)
    b = rng.normal(size=O).astype(dtype)
    ph = p if kh == k else 0
    sh = s if kh == k else 1
    n = node(_core.OP_CONV, (C, H, W), (O, Ho, Wo), act, (kh, k), (sh, s), (ph, p), Wt, b)
    return _core.Network([n], np.dtype(dtype).name), Wt, b, (O, Ho, Wo)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", CONV_CASES)
def test_conv2d_forward_backward_match_twin(case, dtype, rng):
    C, H, W, O, k, s, p = case
    net, Wt, b, out = conv_net(C, H, W, O, k, s, p, dtype, rng, act=_core.ACT_RELU)
    for m in ROWS:
        X = rng.normal(size=(m, C, H, W)).astype(dtype)
        Z64 = R.conv2d_forward(X.astype(float), Wt.astype(float), b.astype(float), s, p)
        Y, Z, saved = _core.node_forward(net, 0, X.reshape(m, -1), _core.PLAN_EXPLAIN if hasattr(_core, "PLAN_EXPLAIN") else 2)
        assert_close(Z.reshape(Z64.shape), Z64, dtype)
        assert_close(Y.reshape(Z64.shape), np.maximum(Z64, 0), dtype)
        Yt, _, saved = _core.node_forward(net, 0, X.reshape(m, -1), 1)   # training
        if s == 1 and p < k and C * k * k > 64:
            # a many-tap layer trains through unfolding + GEMM (which keeps the
            # unfolded input for dW) and predicts through the direct loops:
            # the two agree to rounding
            assert_close(Yt.reshape(Z64.shape), np.maximum(Z64, 0), dtype)
        else:
            np.testing.assert_array_equal(Yt, Y)
        dZ = rng.normal(size=Z64.shape).astype(dtype)
        dX, dW, db = _core.node_backward(net, 0, dZ.reshape(m, -1), X.reshape(m, -1), saved)
        edX, edW, edb = R.conv2d_backward(dZ.astype(float), X.astype(float), Wt.astype(float), s, p)
        scale = np.sqrt(m * np.prod(out))        # the sums grow with the rows and positions
        assert_close(dX.reshape(edX.shape), edX, dtype)
        assert_close(dW.reshape(edW.shape), edW, dtype, scale=scale * np.abs(edW).max() / max(1, scale))
        assert_close(db, edb, dtype, scale=np.abs(edb).max())
        # without dX, as a training step's first layer: the same dW and db
        none, dW1, db1 = _core.node_backward(net, 0, dZ.reshape(m, -1), X.reshape(m, -1), saved,
                                             None, False)
        assert none is None
        np.testing.assert_array_equal(dW1, dW)
        np.testing.assert_array_equal(db1, db)


def test_backward_without_dx_needs_parameters():
    net = _core.Network([node(_core.OP_MAXPOOL, (2, 4, 4), (2, 2, 2), 0, (2, 2), (2, 2))],
                        "float32")
    X = np.ones((3, 32), np.float32)
    _, _, saved = _core.node_forward(net, 0, X, 1)
    with pytest.raises(ValueError, match="dx: False needs a node with parameters, node 0"):
        _core.node_backward(net, 0, np.ones((3, 8), np.float32), X, saved, None, False)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [(3, 40, 4, 5, 2, 1), (1, 7, 2, 7, 1, 3), (5, 101, 8, 3, 3, 0),
                                  (2, 1, 3, 1, 1, 0)])
def test_conv1d_matches_twin(case, dtype, rng):
    C, Ln, O, k, s, p = case
    Lo = (Ln + 2 * p - k) // s + 1
    Wt = rng.normal(size=(O, C, k)).astype(dtype)
    b = rng.normal(size=O).astype(dtype)
    net = _core.Network([node(_core.OP_CONV, (C, 1, Ln), (O, 1, Lo), 0, (1, k), (1, s), (0, p), Wt, b)],
                        np.dtype(dtype).name)
    m = 5
    X = rng.normal(size=(m, C, Ln)).astype(dtype)
    Y, _, saved = _core.node_forward(net, 0, X.reshape(m, -1), 1)
    e = R.conv1d_forward(X.astype(float), Wt.astype(float), b.astype(float), s, p)
    assert_close(Y.reshape(e.shape), e, dtype)
    dZ = rng.normal(size=e.shape).astype(dtype)
    dX, dW, db = _core.node_backward(net, 0, dZ.reshape(m, -1), X.reshape(m, -1), saved)
    edX, edW, edb = R.conv1d_backward(dZ.astype(float), X.astype(float), Wt.astype(float), s, p)
    assert_close(dX.reshape(edX.shape), edX, dtype)
    assert_close(dW.reshape(edW.shape), edW, dtype)
    assert_close(db, edb, dtype)


POOL_CASES = [(1, 4, 4, 2, 2), (3, 7, 7, 2, 2), (2, 9, 11, 3, 2), (4, 13, 13, 3, 3), (1, 5, 5, 5, 1),
              (3, 8, 6, 1, 1), (2, 12, 12, 4, 3)]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("kind", ["max", "avg"])
@pytest.mark.parametrize("case", POOL_CASES)
def test_pooling_matches_twin(case, kind, dtype, rng):
    C, H, W, k, s = case
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    op = _core.OP_MAXPOOL if kind == "max" else _core.OP_AVGPOOL
    net = _core.Network([node(op, (C, H, W), (C, Ho, Wo), 0, (k, k), (s, s))], np.dtype(dtype).name)
    for m in ROWS:
        # ties (repeated values) test the first-maximum rule
        X = rng.integers(-3, 4, size=(m, C, H, W)).astype(dtype) if kind == "max" else \
            rng.normal(size=(m, C, H, W)).astype(dtype)
        Y, _, saved = _core.node_forward(net, 0, X.reshape(m, -1), 1)
        dY = rng.normal(size=(m, C, Ho, Wo)).astype(dtype)
        dX, dW, db = _core.node_backward(net, 0, dY.reshape(m, -1), X.reshape(m, -1), saved)
        assert dW is None and db is None
        if kind == "max":
            eY, arg = R.maxpool2d_forward(X.astype(float), k, s)
            edX = R.maxpool2d_backward(dY.astype(float), arg, X.shape)
            np.testing.assert_array_equal(Y.reshape(eY.shape), eY)
            # the arg-max, complemented where the maximum is not > 0
            got = saved.view(np.int32).reshape(arg.shape)
            np.testing.assert_array_equal(np.where(got < 0, ~got, got), arg)
            np.testing.assert_array_equal(got < 0, ~(eY > 0))
        else:
            eY = R.avgpool2d_forward(X.astype(float), k, s)
            edX = R.avgpool2d_backward(dY.astype(float), X.shape, k, s)
            assert_close(Y.reshape(eY.shape), eY, dtype)
        assert_close(dX.reshape(edX.shape), edX, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
def test_global_average_pooling_and_flatten_match_twins(dtype, rng):
    C, H, W, m = 5, 7, 3, 4
    X = rng.normal(size=(m, C, H, W)).astype(dtype)
    net = _core.Network([node(_core.OP_GLOBAL_AVGPOOL, (C, H, W), (C, 1, 1)),
                         node(_core.OP_FLATTEN, (C, 1, 1), (C, 1, 1))], np.dtype(dtype).name)
    Y, _, _ = _core.node_forward(net, 0, X.reshape(m, -1))
    assert_close(Y, R.global_avgpool2d_forward(X.astype(float)), dtype)
    dY = rng.normal(size=(m, C)).astype(dtype)
    dX, _, _ = _core.node_backward(net, 0, dY, X.reshape(m, -1), None)
    assert_close(dX.reshape(X.shape), R.global_avgpool2d_backward(dY.astype(float), X.shape), dtype)
    F, _, _ = _core.node_forward(net, 1, Y)
    np.testing.assert_array_equal(F, Y)
    dF, _, _ = _core.node_backward(net, 1, dY, Y, None)
    np.testing.assert_array_equal(dF, dY)


@pytest.mark.parametrize("dtype", DTYPES)
def test_fused_relu_derivative_of_the_node_below(dtype, rng):
    """backward(relu=A) multiplies dX by [A > 0], for conv and pools"""
    net, Wt, b, out = conv_net(3, 9, 9, 4, 3, 1, 1, dtype, rng)
    m = 6
    X = rng.normal(size=(m, 3 * 81)).astype(dtype)
    _, _, saved = _core.node_forward(net, 0, X, 1)
    dZ = rng.normal(size=(m, int(np.prod(out)))).astype(dtype)
    relu = np.maximum(rng.normal(size=X.shape), 0).astype(dtype)
    plain, _, _ = _core.node_backward(net, 0, dZ, X, saved)
    fused, _, _ = _core.node_backward(net, 0, dZ, X, saved, relu)
    np.testing.assert_array_equal(fused, np.where(relu > 0, plain, 0))


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("k, s", [(2, 2), (3, 2), (3, 1)])
def test_max_pool_relu_from_its_arg_max(k, s, dtype, rng):
    """Through a ReLU that is the pool's own input, max pooling's backward
    takes the mask from the arg-max's sign (it reads no input, so training
    writes dX over it): the plain gradient times [X > 0]"""
    C, H, W = 3, 9, 9
    Ho, Wo = (H - k) // s + 1, (W - k) // s + 1
    net = _core.Network([node(_core.OP_MAXPOOL, (C, H, W), (C, Ho, Wo), 0, (k, k), (s, s))],
                        np.dtype(dtype).name)
    m = 5
    X = np.maximum(rng.integers(-2, 3, size=(m, C * H * W)), 0).astype(dtype)  # ties and zeros
    _, _, saved = _core.node_forward(net, 0, X, 1)
    dY = rng.normal(size=(m, C * Ho * Wo)).astype(dtype)
    own, _, _ = _core.node_backward(net, 0, dY, X, saved, X)
    copy, _, _ = _core.node_backward(net, 0, dY, X, saved, X.copy())
    plain, _, _ = _core.node_backward(net, 0, dY, X, saved)
    np.testing.assert_array_equal(own, copy)
    np.testing.assert_array_equal(own, np.where(X > 0, plain, 0))


def _max_2x2_by_the_rule(X, C, H, W):
    """2 x 2 windows at stride 2, the values in the order (0,0) (0,1) (1,0)
    (1,1), each taken when greater (NaN only when first); the arg-max
    index in the plane, all bits flipped where the maximum is not > 0"""
    Ho, Wo = H // 2, W // 2
    m = X.shape[0]
    Y = np.empty((m, C, Ho, Wo), X.dtype)
    A = np.empty((m, C, Ho, Wo), np.int32)
    P = X.reshape(m, C, H, W)
    for oh in range(Ho):
        for ow in range(Wo):
            cand = [(2 * oh + i, 2 * ow + j) for i in (0, 1) for j in (0, 1)]
            v = P[:, :, cand[0][0], cand[0][1]].copy()
            k = np.full(v.shape, cand[0][0] * W + cand[0][1], np.int32)
            for h, w in cand[1:]:
                e = P[:, :, h, w]
                take = e > v
                v = np.where(take, e, v)
                k = np.where(take, np.int32(h * W + w), k)
            Y[:, :, oh, ow] = v
            A[:, :, oh, ow] = np.where(v > 0, k, ~k)
    return Y.reshape(m, -1), A.reshape(m, -1)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pooling_2x2_keeps_the_order_of_its_comparisons_on_every_isa(dtype, rng):
    """The 2 x 2, stride 2 rows of every instruction set (gemm/pool_body.h,
    vectors of windows with a masked end) against the rule, bit for bit:
    ties, zeros, -0, infinities and NaN at every place of a window, widths
    around the vector lengths"""
    isas = [i for i in ("ref", "avx2", "avx512") if _core.cpu_has(i)]
    old = _core.isa()
    special = np.array([0.0, -0.0, 1.0, 1.0, -1.0, 2.0, np.inf, -np.inf, np.nan], dtype)
    try:
        for C, H, W in [(3, 2, 2), (2, 5, 7), (2, 4, 17), (1, 6, 32), (2, 3, 33), (1, 2, 66)]:
            Ho, Wo = H // 2, W // 2
            net = _core.Network([node(_core.OP_MAXPOOL, (C, H, W), (C, Ho, Wo), 0, (2, 2),
                                      (2, 2))], np.dtype(dtype).name)
            X = special[rng.integers(0, special.size, size=(4, C * H * W))]
            eY, eA = _max_2x2_by_the_rule(X, C, H, W)
            for name in isas:
                _core.set_isa(name)
                Y, _, saved = _core.node_forward(net, 0, X, 1)
                assert Y.tobytes() == eY.tobytes(), (name, C, H, W)
                assert np.array_equal(saved.view(np.int32).reshape(eA.shape), eA), name
    finally:
        _core.set_isa(old)


@pytest.mark.parametrize("dtype", DTYPES)
def test_max_pooling_2x2_backward_sets_each_arg_max_on_every_isa(dtype, rng):
    """The backward's 2 x 2, stride 2 rows of every instruction set (vectors
    of windows, their four inputs set at once, a masked end) against the
    rule, bit for bit: 0 + dY at each window's arg-max and 0 elsewhere,
    also in a last row or column no window reads; through the ReLU below
    (the arg-max's sign) a window whose maximum is not > 0 passes 0. dY
    holds -0, infinities and NaN."""
    isas = [i for i in ("ref", "avx2", "avx512") if _core.cpu_has(i)]
    old = _core.isa()
    special = np.array([0.0, -0.0, 1.0, -2.5, 3.0, np.inf, -np.inf, np.nan], dtype)
    try:
        for C, H, W in [(3, 2, 2), (2, 5, 7), (2, 4, 17), (1, 6, 32), (2, 3, 33), (1, 2, 66)]:
            Ho, Wo = H // 2, W // 2
            net = _core.Network([node(_core.OP_MAXPOOL, (C, H, W), (C, Ho, Wo), 0, (2, 2),
                                      (2, 2))], np.dtype(dtype).name)
            X = rng.integers(-3, 4, size=(4, C * H * W)).astype(dtype)
            dY = special[rng.integers(0, special.size, size=(4, C * Ho * Wo))]
            _, A = _max_2x2_by_the_rule(X, C, H, W)
            arg = np.where(A < 0, ~A, A).reshape(4, C, Ho * Wo)
            plain = np.zeros((4, C, H * W), dtype)
            relu = np.zeros((4, C, H * W), dtype)
            g = dY.reshape(4, C, Ho * Wo)
            for i in range(4):
                for c in range(C):
                    plain[i, c, arg[i, c]] = dtype(0) + g[i, c]
                    keep = A.reshape(4, C, -1)[i, c] >= 0
                    relu[i, c, arg[i, c][keep]] = dtype(0) + g[i, c][keep]
            for name in isas:
                _core.set_isa(name)
                _, _, saved = _core.node_forward(net, 0, X, 1)
                got, _, _ = _core.node_backward(net, 0, dY, X, saved)
                assert got.tobytes() == plain.reshape(4, -1).tobytes(), (name, C, H, W)
                got, _, _ = _core.node_backward(net, 0, dY, X, saved, np.maximum(X, 0))
                assert got.tobytes() == relu.reshape(4, -1).tobytes(), (name, C, H, W)
    finally:
        _core.set_isa(old)


@pytest.mark.parametrize("dtype", DTYPES)
def test_gemm_path_fold_puts_every_tap_in_place_on_every_isa(dtype, rng):
    """The GEMM path's dX (many taps: C k k > 64, fewer than 8 output
    channels, so neither the direct sums nor Winograd) folds its unfolded
    rows into each plane through the instruction set's fold (a row of
    pixels in a register, each tap's row added at its shift, masked to the
    pixels it reads). On small integers every product and sum is exact, so
    each ISA must give the twin's dX bit for bit: rows and columns around
    the vector lengths, taps that reach past the edges, pixels no tap
    reads."""
    isas = [i for i in ("ref", "avx2", "avx512") if _core.cpu_has(i)]
    old = _core.isa()
    try:
        for C, H, W, O, k, p in [(3, 9, 9, 2, 5, 2), (8, 7, 8, 3, 3, 1), (2, 5, 17, 4, 7, 3),
                                 (65, 4, 16, 1, 1, 0), (3, 6, 33, 5, 5, 4), (2, 12, 15, 3, 7, 0)]:
            net, Wt, b, out = conv_net(C, H, W, O, k, 1, p, dtype, rng)
            Wt = rng.integers(-3, 4, size=Wt.shape).astype(dtype)
            net = _core.Network([node(_core.OP_CONV, (C, H, W), out, 0, (k, k), (1, 1), (p, p),
                                      Wt, b)], np.dtype(dtype).name)
            X = rng.integers(-2, 3, size=(3, C * H * W)).astype(dtype)
            dZ = rng.integers(-3, 4, size=(3, int(np.prod(out)))).astype(dtype)
            want, _, _ = R.conv2d_backward(dZ.reshape((3,) + out).astype(float),
                                           X.reshape(3, C, H, W).astype(float), Wt.astype(float),
                                           1, p)
            want = want.reshape(3, -1).astype(dtype)
            for name in isas:
                _core.set_isa(name)
                _, _, saved = _core.node_forward(net, 0, X, 1)
                got, _, _ = _core.node_backward(net, 0, dZ, X, saved)
                assert got.tobytes() == want.tobytes(), (name, C, H, W, O, k, p)
    finally:
        _core.set_isa(old)


@pytest.mark.parametrize("dtype", DTYPES)
def test_threads_change_no_bit(dtype, rng):
    net, Wt, b, out = conv_net(8, 15, 15, 16, 3, 1, 1, dtype, rng, act=_core.ACT_RELU)
    m = 64
    X = rng.normal(size=(m, 8 * 225)).astype(dtype)
    dZ = rng.normal(size=(m, int(np.prod(out)))).astype(dtype)
    results = []
    for t in (1, 2, 3):
        xnn.set_num_threads(t)
        Y, _, saved = _core.node_forward(net, 0, X, 1)
        results.append((Y,) + _core.node_backward(net, 0, dZ, X, saved))
    for r in results[1:]:
        for a, b_ in zip(results[0], r):
            np.testing.assert_array_equal(a, b_)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("case", [(32, 13, 13, 64, 0), (64, 12, 12, 64, 1)])
def test_winograd_tiles_round_as_well_as_the_direct_sums(case, dtype):
    """a 3x3 stride-1 convolution with 8 channels or more runs its forward,
    dX and dW as Winograd tiles; against the float64 twin each error
    relative to the largest value is what README states (float32: forward
    2.1e-7 and 3.0e-7, dX 3.5e-7 and 3.7e-7, dW 3.6e-7 and 3.1e-7 measured,
    where the direct sums make 5.3e-7 and 1.0e-6 and the GEMM path's dX and
    dW 2.0e-7 and 3.0e-7 to 4.7e-7; float64 about 1e-15): within twice that"""
    C, H, W, O, p = case
    rng = np.random.default_rng(1)
    net, Wt, b, shape = conv_net(C, H, W, O, 3, 1, p, dtype, rng)
    m = 128
    X = rng.normal(size=(m, C * H * W)).astype(dtype)
    dZ = rng.normal(size=(m, int(np.prod(shape)))).astype(dtype)
    Y, _, saved = _core.node_forward(net, 0, X, 1)
    dX, dW, _ = _core.node_backward(net, 0, dZ, X, saved)
    X4 = X.reshape(m, C, H, W).astype(float)
    Z64 = R.conv2d_forward(X4, Wt.astype(float), b.astype(float), 1, p)
    edX, edW, _ = R.conv2d_backward(dZ.reshape(Z64.shape).astype(float), X4, Wt.astype(float),
                                    1, p)
    for got, want, f32 in ((Y, Z64, 6e-7), (dX, edX, 8e-7), (dW, edW, 8e-7)):
        err = np.abs(got.reshape(want.shape) - want).max() / np.abs(want).max()
        assert err <= (f32 if dtype == np.float32 else 3e-15), err


def test_bad_nodes_are_refused():
    W = np.zeros((2, 1, 3, 3), np.float32)
    b = np.zeros(2, np.float32)
    with pytest.raises(ValueError, match=r"nodes\[0\]: the output shape"):
        _core.Network([node(_core.OP_CONV, (1, 5, 5), (2, 4, 4), 0, (3, 3), (1, 1), (0, 0), W, b)])
    with pytest.raises(ValueError, match=r"nodes\[0\] W: expected size"):
        _core.Network([node(_core.OP_CONV, (1, 5, 5), (2, 3, 3), 0, (3, 3), (1, 1), (0, 0),
                            np.zeros((2, 1, 2, 2), np.float32), b)])
    with pytest.raises(ValueError, match="no parameters"):
        _core.Network([node(_core.OP_FLATTEN, (1, 2, 2), (4, 1, 1), W=W, b=b)])
    with pytest.raises(ValueError, match=">= 1"):
        _core.Network([node(_core.OP_FLATTEN, (0, 2, 2), (0, 1, 1))])
    with pytest.raises(ValueError, match="next node's input"):
        _core.Network([node(_core.OP_FLATTEN, (1, 2, 2), (4, 1, 1)),
                       node(_core.OP_FLATTEN, (2, 2, 1), (4, 1, 1))])
    with pytest.raises(TypeError, match=r"nodes\[0\]: expected a tuple"):
        _core.Network([[1, 2, 3]])


def test_conv_path_names_the_forward_path(rng):
    """conv_path reports the path conv.c takes (with XNN_CONV unset): tiles
    for a 3x3 stride-1 convolution of 8 channels or more in and out, the
    direct loops for other stride-1 ones, unfolding + GEMM for a stride of 2"""
    for case, path in (((32, 13, 13, 64, 3, 1, 0), "winograd"), ((1, 28, 28, 6, 5, 1, 2), "direct"),
                       ((4, 7, 7, 8, 3, 1, 1), "direct"), ((2, 13, 11, 3, 3, 2, 1), "gemm")):
        net = conv_net(*case, np.float32, rng)[0]
        assert _core.conv_path(net, 0) == path
    pool = _core.Network([node(_core.OP_MAXPOOL, (1, 4, 4), (1, 2, 2), 0, (2, 2), (2, 2))])
    with pytest.raises(ValueError, match="convolution node"):
        _core.conv_path(pool, 0)
