"""The public API: weights, files, and clear errors for bad input."""
import os

import numpy as np
import pytest

import xnn
from conftest import dense_network
from xnn import _core


def report_net(h=(128, 64), dtype="float32", seed=42):
    return xnn.Sequential([
        xnn.layers.Dense(784, h[0], activation="relu"),
        xnn.layers.Dense(h[0], h[1], activation="relu"),
        xnn.layers.Dense(h[1], 10, activation="softmax"),
    ], init="mnist_report", seed=seed, dtype=dtype)


def small(dtype="float32", seed=0):
    return xnn.Sequential([xnn.layers.Dense(5, 4, activation="relu"),
                           xnn.layers.Dense(4, 3, activation="softmax")], seed=seed, dtype=dtype)


def test_parameter_counts_of_the_reports_table_2():
    model = report_net()
    assert [layer.n_params for layer in model.layers] == [100480, 8256, 650]
    assert model.count_params() == 109386
    assert "100,480" in model.summary() and "109,386" in model.summary()


def test_weights_in_keras_order_and_report_init():
    model = report_net(dtype="float64")
    w = model.get_weights()
    assert [a.shape for a in w] == [(784, 128), (128,), (128, 64), (64,), (64, 10), (10,)]
    np.random.seed(42)
    expected = np.random.randn(784, 128) / np.sqrt(784)
    np.testing.assert_array_equal(w[0], expected)
    np.testing.assert_array_equal(w[2], np.random.randn(128, 64) / np.sqrt(128))
    assert not np.any(w[1])
    # get_weights returns copies
    w[0][0, 0] = 99
    assert model.get_weights()[0][0, 0] != 99


@pytest.mark.parametrize("name,check", [
    ("glorot_uniform", lambda W, i, o: np.abs(W).max() <= np.sqrt(6 / (i + o))),
    ("he_uniform", lambda W, i, o: np.abs(W).max() <= np.sqrt(6 / i)),
    ("lecun_uniform", lambda W, i, o: np.abs(W).max() <= np.sqrt(3 / i)),
    ("lab_random", lambda W, i, o: np.abs(W).max() <= 0.05),
    ("lab_lecun", lambda W, i, o: np.abs(W).max() <= 1 / np.sqrt(i)),
    ("lab_xavier", lambda W, i, o: np.abs(W).max() <= np.sqrt(2 / (i + o))),
    ("lab_he", lambda W, i, o: np.abs(W).max() <= np.sqrt(2 / i)),
    ("glorot_normal", lambda W, i, o: abs(W.std() - np.sqrt(2 / (i + o))) < 0.05 * np.sqrt(2 / (i + o))),
    ("he_normal", lambda W, i, o: abs(W.std() - np.sqrt(2 / i)) < 0.05 * np.sqrt(2 / i)),
    ("lecun_normal", lambda W, i, o: abs(W.std() - np.sqrt(1 / i)) < 0.05 * np.sqrt(1 / i)),
    ("mnist_report", lambda W, i, o: abs(W.std() - np.sqrt(1 / i)) < 0.05 * np.sqrt(1 / i)),
    ("zeros", lambda W, i, o: not np.any(W)),
])
def test_initialisers(name, check):
    model = xnn.Sequential([xnn.layers.Dense(400, 300, activation="relu")], init=name, seed=1,
                           dtype="float64")
    W = model.get_weights()[0]
    assert check(W, 400, 300)
    if name != "zeros":  # a uniform init fills its interval
        assert len(np.unique(W)) > 1000


def test_set_weights_round_trip_and_report_bias_shape():
    model = small(dtype="float64")
    w = [np.arange(a.size, dtype=float).reshape(a.shape) / 10 for a in model.get_weights()]
    w[1] = w[1].reshape(1, -1)  # the reports keep b as (1, out)
    model.set_weights(w)
    got = model.get_weights()
    np.testing.assert_array_equal(got[0], w[0])
    np.testing.assert_array_equal(got[1], w[1].ravel())


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_save_load_round_trips_bit_exactly(tmp_path, dtype):
    model = small(dtype=dtype, seed=3)
    X = np.random.default_rng(0).random((20, 5))
    model.fit(X, np.arange(20) % 3, epochs=3, lr=0.5, verbose=0)
    path = model.save(tmp_path / "m.npz")
    loaded = xnn.load(path)
    assert loaded.dtype == model.dtype
    assert [layer.activation for layer in loaded.layers] == ["relu", "softmax"]
    for a, b in zip(model.get_weights(), loaded.get_weights()):
        assert a.dtype == b.dtype
        np.testing.assert_array_equal(a, b)
    np.testing.assert_array_equal(model.predict_proba(X), loaded.predict_proba(X))
    # no pickle inside
    with np.load(path, allow_pickle=False) as data:
        assert set(data.files) == {"config", "W0", "b0", "W1", "b1"}


def test_save_keeps_dropout_and_replaces_atomically(tmp_path):
    model = xnn.Sequential([xnn.layers.Dense(5, 4, activation="tanh", keep_prob=0.9),
                            xnn.layers.Dense(4, 3, activation="softmax")], seed=1)
    path = tmp_path / "m.npz"
    model.save(path)
    assert xnn.load(path).layers[0].keep_prob == 0.9
    assert os.listdir(tmp_path) == ["m.npz"]  # no temporary file left behind
    assert model.save(tmp_path / "noext") == str(tmp_path / "noext.npz")


def test_missing_and_corrupt_model_files(tmp_path):
    with pytest.raises(FileNotFoundError, match="no such model file"):
        xnn.load(tmp_path / "nope.npz")
    bad = tmp_path / "bad.npz"
    bad.write_bytes(b"this is not a zip file")
    with pytest.raises(ValueError, match="not a readable xnn model file"):
        xnn.load(bad)
    good = small().save(tmp_path / "good.npz")
    data = dict(np.load(good))
    data.pop("W1")
    np.savez(tmp_path / "missing.npz", **data)
    with pytest.raises(ValueError, match="not a valid xnn model file"):
        xnn.load(tmp_path / "missing.npz")
    data = dict(np.load(good))
    data["W0"] = np.zeros((3, 3))
    np.savez(tmp_path / "shape.npz", **data)
    with pytest.raises(ValueError, match="expected shape"):
        xnn.load(tmp_path / "shape.npz")
    np.savez(tmp_path / "other.npz", a=np.zeros(3))
    with pytest.raises(ValueError, match="not a valid xnn model file"):
        xnn.load(tmp_path / "other.npz")


# ------------------------------------------------------------------ bad input

X5 = np.random.default_rng(0).random((6, 5))
Y5 = np.array([0, 1, 2, 0, 1, 2])


@pytest.mark.parametrize("X,y,exc,match", [
    (np.zeros((6, 4)), Y5, ValueError, "expected 5 columns"),
    (np.zeros((0, 5)), Y5[:0], ValueError, "at least one row"),
    (X5, Y5[:5], ValueError, "expected 6 labels"),
    (X5, np.array([0, 1, 2, 3, 0, 1]), ValueError, r"labels in \[0, 3\), got 3"),
    (X5, np.array([0, 1, -1, 0, 1, 2]), ValueError, r"labels in \[0, 3\), got -1"),
    (X5, np.array([0, 1, 0.5, 0, 1, 2]), ValueError, "integer labels"),
    (X5, np.ones((6, 3)), ValueError, "one-hot rows"),
    (X5, np.zeros((6, 4)), ValueError, "one-hot rows with 3 columns"),
    (X5.astype(object), Y5, TypeError, "array of numbers"),
    (np.array([["a"] * 5] * 6), Y5, TypeError, "array of numbers"),
    (X5, np.array(["a"] * 6), TypeError, "integer labels"),
    ([[1, 2], [3]], Y5, TypeError, "could not convert"),
    (np.zeros((6, 5, 2)), Y5, ValueError, "2-D array"),
    (np.where(np.eye(6, 5) > 0, np.nan, X5), Y5, ValueError, "X: expected finite values, got nan at row 0"),
    (np.full((6, 5), np.inf), Y5, ValueError, "finite values"),
])
def test_bad_training_data(X, y, exc, match):
    with pytest.raises(exc, match=match):
        small().fit(X, y, verbose=0)


@pytest.mark.parametrize("kwargs,exc,match", [
    ({"batch_size": 0}, ValueError, "batch_size: expected an integer >= 1, got 0"),
    ({"batch_size": 2.5}, TypeError, "batch_size"),
    ({"epochs": -1}, ValueError, "epochs"),
    ({"lr": float("nan")}, ValueError, "lr: expected a finite number, got nan"),
    ({"lr": -0.1}, ValueError, "lr: expected a number > 0"),
    ({"lr": "fast"}, TypeError, "lr"),
    ({"optimizer": "rmsprop"}, ValueError, "optimizer: expected one of"),
    ({"loss": "hinge"}, ValueError, "loss: expected one of"),
    ({"loss": "binary_cross_entropy"}, ValueError, "expects a sigmoid output"),
    ({"validation_data": X5}, TypeError, "validation_data"),
    ({"validation_data": (X5, Y5[:3])}, ValueError, "validation_data\\[1\\]"),
    ({"verbose": -1}, ValueError, "verbose"),
])
def test_bad_fit_arguments(kwargs, exc, match):
    with pytest.raises(exc, match=match):
        small().fit(X5, Y5, **{"verbose": 0, **kwargs})


def test_bad_hyper_parameters_of_optimizers():
    with pytest.raises(ValueError, match="momentum"):
        xnn.optim.SGD(0.1, momentum=1.5)
    with pytest.raises(ValueError, match="beta1"):
        xnn.optim.Adam(beta1=float("nan"))
    with pytest.raises(ValueError, match="nesterov"):
        xnn.optim.SGD(0.1, nesterov=True)


@pytest.mark.parametrize("make,exc,match", [
    (lambda: xnn.layers.Dense(0, 3), ValueError, "n_in: expected an integer >= 1, got 0"),
    (lambda: xnn.layers.Dense(3, -2), ValueError, "n_out"),
    (lambda: xnn.layers.Dense(3.5, 2), TypeError, "n_in"),
    (lambda: xnn.layers.Dense(3, 2, activation="gelu"), ValueError, "activation: expected one of"),
    (lambda: xnn.layers.Dense(3, 2, dropout=1.0), ValueError, "dropout"),
    (lambda: xnn.layers.Dense(3, 2, keep_prob=0), ValueError, "keep_prob"),
    (lambda: xnn.layers.Dense(3, 2, keep_prob=float("nan")), ValueError, "keep_prob"),
    (lambda: xnn.layers.Dense(3, 2, dropout=0.1, keep_prob=0.9), ValueError, "not both"),
    (lambda: xnn.layers.Dense(10**6, 10**6), ValueError, "at most"),
    (lambda: xnn.Sequential([]), ValueError, "at least one layer"),
    (lambda: xnn.Sequential("dense"), TypeError, "layers"),
    (lambda: xnn.Sequential([xnn.layers.Dense(3, 4), xnn.layers.Dense(5, 2)]), ValueError,
     r"layers\[1\]: Dense\(5, 2.*expected n_in = 4"),
    (lambda: xnn.Sequential([xnn.layers.Dense(3, 4), "relu"]), TypeError, r"layers\[1\]"),
    (lambda: xnn.Sequential([xnn.layers.Dense(3, 4, keep_prob=0.5)]), ValueError, "output layer"),
    (lambda: xnn.Sequential([xnn.layers.Dense(3, 4)], init="magic"), ValueError, "init: expected one of"),
    (lambda: xnn.Sequential([xnn.layers.Dense(3, 4)], dtype="int32"), ValueError, "dtype"),
    (lambda: xnn.Sequential([xnn.layers.Dense(3, 4)], seed=-1), ValueError, "seed"),
])
def test_bad_model_construction(make, exc, match):
    with pytest.raises(exc, match=match):
        make()


def test_absurd_sizes_raise_memory_error_not_crash():
    with pytest.raises(ValueError, match="at most"):
        xnn.layers.Dense(10**6, 10**5)
    with pytest.raises(ValueError, match="at most"):
        xnn.layers.Dense(2**40, 1)


@pytest.mark.parametrize("weights,exc,match", [
    ("nope", TypeError, "weights: expected a list"),
    ([np.zeros((5, 4))], ValueError, "expected 4 arrays"),
    ([np.zeros((4, 5)), np.zeros(4), np.zeros((4, 3)), np.zeros(3)], ValueError, r"weights\[0\].*expected shape \(5, 4\)"),
    ([np.zeros((5, 4)), np.zeros(4), np.zeros((4, 3)), np.full(3, np.nan)], ValueError, "finite"),
    ([np.zeros((5, 4)), np.zeros(4), np.zeros((4, 3)), np.array(["a"] * 3)], TypeError, "numbers"),
])
def test_bad_weight_lists_change_nothing(weights, exc, match):
    model = small()
    before = model.get_weights()
    with pytest.raises(exc, match=match):
        model.set_weights(weights)
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_predict_errors_name_the_argument():
    with pytest.raises(ValueError, match="X: expected 5 columns, got shape"):
        small().predict(np.zeros((2, 7)))
    with pytest.raises(ValueError, match=r"y: expected labels in \[0, 3\)"):
        small().evaluate(X5, Y5 + 5)


def test_binding_rejects_what_python_would_have_converted():
    W = np.zeros((3, 2), np.float32)
    with pytest.raises(TypeError, match="W: expected dtype float64, got float32"):
        _core.dense_forward(np.zeros((4, 3)), W, None, 0)  # X decides the dtype
    with pytest.raises(TypeError, match="X: expected dtype float32 or float64, got int64"):
        _core.dense_forward(np.zeros((4, 3), np.int64), W, None, 0)
    with pytest.raises(TypeError, match="C-contiguous"):
        _core.dense_forward(np.zeros((3, 4), np.float32).T, W, None, 0)
    with pytest.raises(ValueError, match="W: expected size 3 in dimension 0, got 5"):
        _core.dense_forward(np.zeros((4, 3), np.float32), np.zeros((5, 2), np.float32), None, 0)
    with pytest.raises(ValueError, match="act"):
        _core.dense_forward(np.zeros((4, 3), np.float32), W, None, 9)
    with pytest.raises(TypeError, match="numpy.ndarray"):
        _core.matmul([[1.0]], np.zeros((1, 1)))
    with pytest.raises(ValueError, match="labels"):
        _core.loss_forward(np.zeros((2, 3)), np.array([0, 3]), 0)
    with pytest.raises(ValueError, match="keep"):
        _core.dropout_forward(np.zeros((2, 3)), 1.5, 0, 0)
    with pytest.raises(ValueError, match="writeable"):
        W.flags.writeable = False
        _core.sgd_update(W, W.copy(), 0.1)
    net = dense_network([(np.zeros((3, 2)), np.zeros(2), 0, 1.0)])
    with pytest.raises(ValueError, match="rows"):
        _core.Trainer(net, 4, 0, 0, 0.1).step(np.zeros((5, 3)), np.zeros(5, np.int64))
    with pytest.raises(ValueError, match="batch"):
        _core.Trainer(net, 0, 0, 0, 0.1)
    with pytest.raises(RuntimeError, match="not initialised"):
        _core.Network.__new__(_core.Network).forward(np.zeros((1, 3)), [])


def test_threads_setting():
    xnn.set_num_threads(1)
    assert xnn.get_num_threads() == 1
    with pytest.raises(ValueError, match="n: expected an integer >= 1, got 0"):
        xnn.set_num_threads(0)
    assert xnn.isa() in ("ref", "avx2", "avx512")


def test_trainer_rows_are_checked():
    net = dense_network([(np.zeros((3, 2)), np.zeros(2), 4, 1.0)])
    tr = _core.Trainer(net, 4, 0, 0, 0.1)
    X, lab = np.zeros((6, 3)), np.zeros(6, np.int64)
    with pytest.raises(ValueError, match=r"rows: expected indices in \[0, 6\), got 6"):
        tr.step(X, lab, np.array([0, 6]))
    with pytest.raises(ValueError, match="rows: expected between 1 and 4 indices, got 5"):
        tr.step(X, lab, np.arange(5))
    with pytest.raises(ValueError, match=r"labels: expected integers in \[0, 2\), got 7 at row 1"):
        tr.step(X, np.array([0, 7, 0, 0, 0, 0]), np.array([1]))
    with pytest.raises(TypeError, match="rows: expected dtype int64"):
        tr.step(X, lab, np.array([0.5]))
    # the gathered step equals the step on the gathered rows
    rng = np.random.default_rng(0)
    X, lab = rng.random((6, 3)), np.array([0, 1, 1, 0, 1, 0])
    a = [np.ones((3, 2)), np.zeros(2)]
    b = [np.ones((3, 2)), np.zeros(2)]
    ta = _core.Trainer(dense_network([(a[0], a[1], 4, 1.0)]), 4, 0, 0, 0.1)
    tb = _core.Trainer(dense_network([(b[0], b[1], 4, 1.0)]), 4, 0, 0, 0.1)
    rows = np.array([5, 0, 3])
    assert ta.step(X, lab, rows) == tb.step(X[rows], lab[rows])
    np.testing.assert_array_equal(a[0], b[0])


def test_a_fitted_model_copies_and_pickles_without_its_c_objects():
    import copy
    import pickle
    model = small(dtype="float64")
    model.fit(X5, Y5, epochs=2, lr=0.5, verbose=0)
    assert model._trainer.steps == 2
    for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        assert other._trainer is None
        np.testing.assert_array_equal(other.predict_proba(X5), model.predict_proba(X5))
        other.layers[0].W[...] = 0  # the copy owns its arrays
        assert np.any(model.get_weights()[0] != 0)
