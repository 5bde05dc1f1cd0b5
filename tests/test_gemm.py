"""The blocked GEMM (csrc/gemm/) against NumPy, for every micro-kernel this
machine can run, both dtypes, all transpose combinations and edge shapes;
and its determinism across thread counts and runs."""
import contextlib
import gc

import numpy as np
import pytest

from xnn import _core

ISAS = [isa for isa in ("ref", "avx2", "avx512") if _core.cpu_has(isa)]
TOL = {np.float32: 1e-5, np.float64: 1e-12}

# (m, n, k): ones, odd and prime sizes, sizes around the register tiles
# (4x8, 6x16, 12x32 ...) and larger than the cache blocks (MC <= 144,
# KC = 256, NC <= 4080)
SHAPES = [
    (1, 1, 1), (1, 7, 1), (5, 1, 3), (1, 1, 300), (2, 3, 4),
    (6, 16, 8), (7, 17, 9), (12, 32, 5), (13, 33, 31), (11, 13, 17),
    (31, 37, 41), (97, 89, 83), (64, 10, 128), (128, 64, 128),
    (149, 23, 257), (151, 257, 263), (300, 31, 515), (5, 4099, 3),
    (37, 1031, 300), (149, 521, 259),  # B block too big for L2: A packed
    (29, 300, 2000),                   # several groups of packed k blocks
    (97, 121, 83), (50, 61, 300),      # few rows: op(B) rows up to 512 bytes in place
]


@contextlib.contextmanager
def isa(name):
    old = _core.isa()
    _core.set_isa(name)
    try:
        yield
    finally:
        _core.set_isa(old)


@contextlib.contextmanager
def threads(n):
    old = _core.get_num_threads()
    _core.set_num_threads(n)
    try:
        yield
    finally:
        _core.set_num_threads(old)


def operands(rng, m, n, k, ta, tb, dtype):
    a = rng.standard_normal((k, m) if ta else (m, k)).astype(dtype)
    b = rng.standard_normal((n, k) if tb else (k, n)).astype(dtype)
    return a, b


def check(c, a, b, ta, tb, dtype):
    """|C - op(A) op(B)| <= tol * max(|op(A)| |op(B)|), reference in float64"""
    oa = (a.T if ta else a).astype(np.float64)
    ob = (b.T if tb else b).astype(np.float64)
    assert c.dtype == dtype
    assert c.shape == (oa.shape[0], ob.shape[1])
    ref = oa @ ob
    scale = max((np.abs(oa) @ np.abs(ob)).max(), np.finfo(np.float64).tiny)
    err = np.abs(c.astype(np.float64) - ref).max() if c.size else 0.0
    assert np.all(np.isfinite(c))
    assert err <= TOL[dtype] * scale, (err / scale, c.shape)


def test_isas_listed():
    assert "ref" in ISAS
    assert _core.isa() in ISAS


@pytest.mark.parametrize("name", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
@pytest.mark.parametrize("ta,tb", [(0, 0), (1, 0), (0, 1), (1, 1)])
def test_matmul_matches_numpy(name, dtype, ta, tb):
    rng = np.random.default_rng(1000 * ta + 100 * tb + (dtype == np.float64))
    with isa(name):
        for m, n, k in SHAPES:
            a, b = operands(rng, m, n, k, ta, tb, dtype)
            c = _core.matmul(a, b, trans_a=bool(ta), trans_b=bool(tb))
            check(c, a, b, ta, tb, dtype)


@pytest.mark.parametrize("name", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_threaded_shapes_match_numpy(name, dtype):
    """shapes big enough to run on several threads, split by rows and by
    columns, with edges on every side"""
    rng = np.random.default_rng(7)
    with isa(name), threads(2):
        for (m, n, k), ta, tb in [((301, 67, 259), 0, 0), ((67, 301, 259), 1, 0),
                                  ((157, 149, 139), 0, 1), ((41, 1031, 33), 1, 1)]:
            a, b = operands(rng, m, n, k, ta, tb, dtype)
            check(_core.matmul(a, b, trans_a=bool(ta), trans_b=bool(tb)), a, b, ta, tb, dtype)


@pytest.mark.parametrize("name", ISAS)
def test_special_values(name):
    """zeros, exact integers and signed zeros come out exactly"""
    with isa(name):
        for dtype in (np.float32, np.float64):
            a = np.arange(-20, 19, dtype=dtype).reshape(3, 13)
            b = np.arange(13 * 5, dtype=dtype).reshape(13, 5) - 30
            np.testing.assert_array_equal(_core.matmul(a, b), a @ b)
            z = _core.matmul(np.zeros((9, 4), dtype), np.zeros((4, 7), dtype))
            np.testing.assert_array_equal(z, np.zeros((9, 7), dtype))


@pytest.mark.parametrize("name", ISAS)
def test_beta_zero_overwrites_nan(name):
    """C's old contents are never read: recycle NaN-filled memory of the
    exact size of C, then multiply into it"""
    rng = np.random.default_rng(3)
    with isa(name):
        for dtype in (np.float32, np.float64):
            for m, n, k in [(7, 9, 5), (37, 29, 300), (6, 16, 4)]:
                a, b = operands(rng, m, n, k, 0, 0, dtype)
                for _ in range(3):
                    junk = np.full((m, n), np.nan, dtype)
                    del junk
                    gc.collect()
                    c = _core.matmul(a, b)
                    check(c, a, b, 0, 0, dtype)


@pytest.mark.parametrize("name", ISAS)
def test_dense_uses_transposed_products(name):
    """dense backward: dX = dZ W^T and dW = X^T dZ through the transposed
    packing paths"""
    rng = np.random.default_rng(5)
    with isa(name):
        for dtype in (np.float32, np.float64):
            for m, k, n in [(1, 1, 1), (13, 29, 10), (128, 97, 64)]:
                X = rng.standard_normal((m, k)).astype(dtype)
                W = rng.standard_normal((k, n)).astype(dtype)
                dZ = rng.standard_normal((m, n)).astype(dtype)
                out = _core.dense_backward(dZ, X, W)
                dX, dW = out[0], out[1]
                check(dX, dZ, W, 0, 1, dtype)
                check(dW, X, dZ, 1, 0, dtype)


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_vector_isas_give_the_same_bits(dtype):
    """AVX2 and AVX-512 add the same FMAs in the same order over the same k
    blocks, whatever their tiles: every product is the same bits (which is
    why AVX-512 may give a product at most one of its vectors wide to
    AVX2's tiles)."""
    vector = [i for i in ISAS if i != "ref"]
    if len(vector) < 2:
        pytest.skip("this processor runs one vector instruction set")
    rng = np.random.default_rng(5)
    for (m, n, k), ta, tb in [(s, t % 2, t // 2) for s in SHAPES for t in range(4)]:
        a, b = operands(rng, m, n, k, ta, tb, dtype)
        runs = []
        for name in vector:
            with isa(name), threads(2):
                runs.append(_core.matmul(a, b, trans_a=bool(ta), trans_b=bool(tb)))
        for c in runs[1:]:
            assert c.tobytes() == runs[0].tobytes(), (m, n, k, ta, tb)


@pytest.mark.parametrize("name", ISAS)
@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_deterministic_across_threads_and_runs(name, dtype):
    rng = np.random.default_rng(11)
    with isa(name):
        for (m, n, k), ta, tb in [((389, 131, 521), 0, 0), ((131, 389, 521), 1, 0),
                                  ((263, 263, 300), 0, 1), ((97, 1201, 77), 1, 1),
                                  ((150, 300, 2000), 0, 0), ((200, 40, 17000), 1, 0)]:
            a, b = operands(rng, m, n, k, ta, tb, dtype)
            runs = []
            for nt in (1, 2, 1, 2, 3):
                with threads(nt):
                    runs.append(_core.matmul(a, b, trans_a=bool(ta), trans_b=bool(tb)))
            for c in runs[1:]:
                assert c.tobytes() == runs[0].tobytes()


def test_thread_setting_restored():
    old = _core.get_num_threads()
    with threads(1):
        assert _core.get_num_threads() == 1
    assert _core.get_num_threads() == old


@pytest.mark.parametrize("name", ISAS)
def test_dense_forward_fused_epilogue(name):
    """bias and ReLU applied in the GEMM's epilogue give the same bits as
    the product followed by the bias and the activation; shapes with
    several k blocks, edges and threads"""
    rng = np.random.default_rng(9)
    with isa(name):
        for dtype in (np.float32, np.float64):
            for m, k, n in [(1, 1, 1), (7, 5, 3), (128, 784, 128), (301, 263, 67), (13, 300, 1031)]:
                X = rng.standard_normal((m, k)).astype(dtype)
                W = rng.standard_normal((k, n)).astype(dtype)
                b = rng.standard_normal(n).astype(dtype)
                for nt in (1, 2):
                    with threads(nt):
                        z = _core.matmul(X, W) + b
                        relu = _core.dense_forward(X, W, b, _core.ACT_RELU)
                        np.testing.assert_array_equal(relu, np.where(z < 0, 0, z).astype(dtype))
                        lin = _core.dense_forward(X, W, b, _core.ACT_LINEAR)
                        np.testing.assert_array_equal(lin, z)
                        nob = _core.dense_forward(X, W, None, _core.ACT_RELU)
                        z0 = _core.matmul(X, W)
                        np.testing.assert_array_equal(nob, np.where(z0 < 0, 0, z0))
                        sig = _core.dense_forward(X, W, b, _core.ACT_SIGMOID)
                        np.testing.assert_allclose(sig, 1 / (1 + np.exp(-z.astype(np.float64))),
                                                   rtol=1e-5, atol=1e-6)


def test_concurrent_callers_get_the_same_bits():
    """products called at once from several Python threads (the GIL is
    released) share the thread pool or run alone, with unchanged results"""
    import threading

    rng = np.random.default_rng(13)
    cases = []
    with threads(1):
        for m, n, k, ta, tb in [(300, 70, 260, 0, 0), (64, 200, 129, 1, 0), (131, 129, 300, 0, 1)]:
            for dtype in (np.float32, np.float64):
                a, b = operands(rng, m, n, k, ta, tb, dtype)
                cases.append((a, b, bool(ta), bool(tb),
                              _core.matmul(a, b, trans_a=bool(ta), trans_b=bool(tb)).tobytes()))
    failures = []

    def work(seed):
        r = np.random.default_rng(seed)
        for _ in range(40):
            a, b, ta, tb, ref = cases[int(r.integers(len(cases)))]
            if _core.matmul(a, b, trans_a=ta, trans_b=tb).tobytes() != ref:
                failures.append((a.shape, b.shape, ta, tb))

    with threads(2):
        workers = [threading.Thread(target=work, args=(s,)) for s in range(4)]
        for w in workers:
            w.start()
        work(99)
        for w in workers:
            w.join()
    assert not failures


@pytest.mark.parametrize("dtype", [np.float32, np.float64])
def test_public_matmul(dtype):
    """xnn.ops.matmul: every transpose form against NumPy; views and lists
    of the right dtype are accepted (copied to C order first)"""
    import xnn
    rng = np.random.default_rng(3)
    for (m, n, k) in [(1, 1, 1), (7, 13, 5), (128, 128, 784), (61, 10, 64)]:
        for ta in (False, True):
            for tb in (False, True):
                a, b = operands(rng, m, n, k, ta, tb, dtype)
                check(xnn.ops.matmul(a, b, trans_a=ta, trans_b=tb), a, b, ta, tb, dtype)
    a = rng.standard_normal((20, 30)).astype(dtype)
    b = rng.standard_normal((20, 30)).astype(dtype)
    check(xnn.ops.matmul(a[::2], b[::2].T), a[::2], b[::2].T, 0, 0, dtype)  # non-contiguous views
    if dtype == np.float64:  # a nested list converts to float64
        np.testing.assert_array_equal(xnn.ops.matmul(np.eye(2), [[1.5, 2], [3, 4]]), [[1.5, 2], [3, 4]])


def test_public_matmul_errors():
    import xnn
    a = np.ones((2, 3), np.float32)
    with pytest.raises(ValueError, match=r"b: op\(b\) must have 3 rows"):
        xnn.ops.matmul(a, a)
    with pytest.raises(TypeError, match="b: expected dtype float32 like a, got float64"):
        xnn.ops.matmul(a, np.ones((3, 2)))
    with pytest.raises(TypeError, match="a: expected dtype float32 or float64, got int64"):
        xnn.ops.matmul(np.ones((2, 3), np.int64), a.T)
    with pytest.raises(ValueError, match=r"a: expected a 2-D array, got shape \(3,\)"):
        xnn.ops.matmul(np.ones(3, np.float32), a)
    with pytest.raises(TypeError, match="b: expected a 2-D float32 or float64 array"):
        xnn.ops.matmul(a, [[1, 2], [3]])
    assert np.array_equal(xnn.ops.matmul(a, a, trans_b=True), np.full((2, 2), 3, np.float32))
