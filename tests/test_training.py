"""Training behaviour: learning, reproducibility, dropout, optimizers, Ctrl-C."""
import _thread
import threading
import time

import numpy as np
import pytest

import xnn


@pytest.fixture(scope="module")
def digits():
    from sklearn.datasets import load_digits
    from sklearn.model_selection import train_test_split
    d = load_digits()
    return train_test_split(d.data / 16.0, d.target, test_size=0.25, random_state=0)


def mlp(n_in=64, hidden=32, n_out=10, seed=0, dtype="float32", keep=None, init="glorot_uniform"):
    return xnn.Sequential([
        xnn.layers.Dense(n_in, hidden, activation="relu", keep_prob=keep),
        xnn.layers.Dense(hidden, n_out, activation="softmax"),
    ], init=init, seed=seed, dtype=dtype)


@pytest.mark.parametrize("optimizer,lr", [("sgd", 0.2), ("momentum", 0.05), ("adam", 0.005)])
def test_minibatch_training_learns_digits(digits, optimizer, lr):
    X_tr, X_te, y_tr, y_te = digits
    model = mlp(seed=1)
    hist = model.fit(X_tr, y_tr, epochs=40, batch_size=32, optimizer=optimizer, lr=lr,
                     validation_data=(X_te, y_te), verbose=0)
    acc = model.evaluate(X_te, y_te)["accuracy"]
    assert acc >= 0.95, acc
    assert hist.history["val_accuracy"][-1] == pytest.approx(acc)
    assert hist.history["loss"][-1] < hist.history["loss"][0] / 5
    assert set(hist.history) == {"loss", "ssr", "accuracy", "val_loss", "val_ssr", "val_accuracy"}
    assert all(len(v) == 40 for v in hist.history.values())


def test_history_is_mean_of_batch_metrics(digits):
    X_tr, _, y_tr, _ = digits
    X, y = X_tr[:100], y_tr[:100]
    model = mlp(seed=3, dtype="float64")
    w0 = model.get_weights()
    hist = model.fit(X, y, epochs=1, batch_size=40, shuffle=False, lr=0.1, verbose=0)
    # replay the three batches (40, 40, 20) by hand with full-batch steps
    replay = mlp(seed=3, dtype="float64")
    replay.set_weights(w0)
    per_batch = []
    for start in (0, 40, 80):
        h = replay.fit(X[start:start + 40], y[start:start + 40], epochs=1, lr=0.1, verbose=0)
        per_batch.append([h.history[k][0] for k in ("loss", "ssr", "accuracy")])
    np.testing.assert_allclose([hist.history[k][0] for k in ("loss", "ssr", "accuracy")],
                               np.mean(per_batch, axis=0), rtol=1e-12)
    for a, b in zip(model.get_weights(), replay.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_same_seed_same_bits_dropout_and_shuffle(digits):
    X_tr, _, y_tr, _ = digits
    runs = []
    for _ in range(2):
        model = mlp(seed=7, keep=0.8)
        hist = model.fit(X_tr, y_tr, epochs=3, batch_size=50, lr=0.1, verbose=0)
        runs.append((model.get_weights(), hist.history["loss"]))
    for a, b in zip(runs[0][0], runs[1][0]):
        np.testing.assert_array_equal(a, b)
    assert runs[0][1] == runs[1][1]
    other = mlp(seed=8, keep=0.8)
    other.fit(X_tr, y_tr, epochs=3, batch_size=50, lr=0.1, verbose=0)
    assert not np.array_equal(other.get_weights()[0], runs[0][0][0])


def test_dropout_changes_training_but_not_inference(digits):
    X_tr, X_te, y_tr, y_te = digits
    a = mlp(seed=5, keep=0.5)
    b = mlp(seed=5)
    np.testing.assert_array_equal(a.predict_proba(X_te), b.predict_proba(X_te))
    ha = a.fit(X_tr, y_tr, epochs=1, lr=0.1, verbose=0)
    hb = b.fit(X_tr, y_tr, epochs=1, lr=0.1, verbose=0)
    assert ha.history["loss"][0] != hb.history["loss"][0]
    # inference is deterministic: no dropout outside training
    np.testing.assert_array_equal(a.predict_proba(X_te), a.predict_proba(X_te))


def test_lab_report_network_trains(digits):
    X_tr, X_te, y_tr, y_te = digits
    model = xnn.Sequential([
        xnn.layers.Dense(64, 100, activation="tanh", keep_prob=0.9),
        xnn.layers.Dense(100, 10, activation="softmax"),
    ], init="lab_xavier", seed=0)
    hist = model.fit(X_tr, y_tr, epochs=100, lr=0.2, verbose=0)
    assert hist.history["accuracy"][-1] > 0.85
    assert model.evaluate(X_te, y_te)["accuracy"] > 0.85


def test_bce_and_ssr_losses_train(digits):
    X_tr, X_te, y_tr, y_te = digits
    for act, loss in (("sigmoid", "binary_cross_entropy"), ("softmax", "ssr"), ("sigmoid", "ssr")):
        model = xnn.Sequential([xnn.layers.Dense(64, 32, activation="relu"),
                                xnn.layers.Dense(32, 10, activation=act)], seed=0)
        hist = model.fit(X_tr, y_tr, epochs=30, batch_size=32, lr=0.5, loss=loss, verbose=0)
        assert hist.history["loss"][-1] < hist.history["loss"][0]
        assert model.evaluate(X_te, y_te, loss=loss)["accuracy"] > 0.85, (act, loss)


def test_float64_and_float32_agree(digits):
    X_tr, _, y_tr, _ = digits
    h32 = mlp(seed=2).fit(X_tr, y_tr, epochs=5, lr=0.1, verbose=0)
    h64 = mlp(seed=2, dtype="float64").fit(X_tr, y_tr, epochs=5, lr=0.1, verbose=0)
    np.testing.assert_allclose(h32.history["loss"], h64.history["loss"], rtol=1e-5)


def test_thread_count_does_not_change_bits(digits):
    X_tr, _, y_tr, _ = digits
    results = []
    for n in (1, 2):
        xnn.set_num_threads(n)
        model = mlp(seed=4, hidden=96)
        model.fit(X_tr, y_tr, epochs=2, batch_size=64, lr=0.1, verbose=0)
        results.append(model.get_weights())
    for a, b in zip(*results):
        np.testing.assert_array_equal(a, b)


def test_ctrl_c_stops_within_a_step_and_keeps_the_last_completed_step(digits):
    X_tr, _, y_tr, _ = digits
    X = np.tile(X_tr, (4, 1))
    y = np.tile(y_tr, 4)
    model = mlp(seed=6, hidden=64, dtype="float64")
    w0 = model.get_weights()
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    t0 = time.perf_counter()
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y, epochs=100000, lr=0.01, verbose=0)  # full batch: one step per epoch
    stopped = time.perf_counter() - t0
    timer.cancel()
    steps = model._trainer.steps
    assert steps >= 1 and stopped < 5
    assert len(model.history_.history["loss"]) in (steps, steps - 1)
    # the weights are exactly those of `steps` completed full-batch steps
    replay = mlp(seed=6, hidden=64, dtype="float64")
    replay.set_weights(w0)
    replay.fit(X, y, epochs=steps, lr=0.01, verbose=0)
    for a, b in zip(model.get_weights(), replay.get_weights()):
        np.testing.assert_array_equal(a, b)


def test_fortran_ordered_and_strided_inputs_work(digits):
    X_tr, X_te, y_tr, _ = digits
    model = mlp(seed=9)
    expected = model.predict_proba(X_te)
    np.testing.assert_array_equal(model.predict_proba(np.asfortranarray(X_te)), expected)
    wide = np.zeros((X_te.shape[0], 128))
    wide[:, ::2] = X_te
    np.testing.assert_array_equal(model.predict_proba(wide[:, ::2]), expected)
    np.testing.assert_array_equal(model.predict_proba(X_te.reshape(-1, 8, 8)), expected)
    h1 = mlp(seed=9).fit(np.asfortranarray(X_tr), y_tr.astype(np.int32), epochs=2, lr=0.1, verbose=0)
    h2 = mlp(seed=9).fit(X_tr, np.eye(10)[y_tr], epochs=2, lr=0.1, verbose=0)
    assert h1.history == h2.history


def test_predict_matches_activations_and_chunking(digits, monkeypatch):
    X_tr, X_te, y_tr, _ = digits
    model = mlp(seed=10)
    acts = model.activations(X_te)
    assert [a.shape for a in acts] == [(len(X_te), 32), (len(X_te), 10)]
    np.testing.assert_array_equal(model.predict_proba(X_te), acts[-1])
    np.testing.assert_array_equal(model.predict(X_te), np.argmax(acts[-1], axis=1))
    from xnn import network
    monkeypatch.setattr(network, "PREDICT_CHUNK", 7)
    np.testing.assert_array_equal(model.predict_proba(X_te), acts[-1])


def test_verbose_progress_and_lines(digits, capsys):
    X_tr, _, y_tr, _ = digits
    mlp().fit(X_tr, y_tr, epochs=2, lr=0.1, verbose=2)
    out = capsys.readouterr().out
    assert "epoch 1/2" in out and "epoch 2/2" in out and "accuracy=" in out
    mlp().fit(X_tr, y_tr, epochs=2, batch_size=100, lr=0.1, verbose=1)
    assert "step" in capsys.readouterr().err


def test_repeated_training_gives_the_same_bits_every_time(digits):
    # back-to-back products of different sizes on the thread pool: a worker
    # late from one product must never run a chunk of the next
    X_tr, _, y_tr, _ = digits
    X, y = np.tile(X_tr, (3, 1)), np.tile(y_tr, 3)
    xnn.set_num_threads(2)

    def run():
        model = mlp(seed=6, hidden=64, dtype="float64")
        model.fit(X, y, epochs=5, lr=0.01, verbose=0)
        return model.get_weights()

    first = run()
    for _ in range(60):
        for a, b in zip(first, run()):
            np.testing.assert_array_equal(a, b)
