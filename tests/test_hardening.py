"""Regression tests of the hardening audit: the binding does not trust its
caller, nothing is silently NaN, a model is safe to share between threads,
and resources are given back."""
import os
import threading
import time

import numpy as np
import pytest

import xnn
import xnn.explain as E
from xnn import _core
from conftest import dense_node, run_threads

L = xnn.layers


def mlp(dtype="float64", seed=0):
    return xnn.Sequential([L.Dense(6, 5, activation="relu"), L.Dense(5, 3, activation="softmax")],
                          seed=seed, dtype=dtype)


# ---------------------------------------------------------------- the binding

class Mutator:
    """A number whose conversion empties the list it is in (Python code run
    while the binding converts an item)."""

    def __init__(self, value, victim):
        self.value = value
        self.victim = victim

    def __index__(self):
        self.victim.clear()
        return int(self.value)

    def __float__(self):
        self.victim.clear()
        return float(self.value)


def test_network_copies_its_node_list_before_converting_it():
    W, b = np.ones((3, 2)), np.zeros(2)
    nodes = []
    node = list(dense_node(W, b, 0))
    node[0] = Mutator(_core.OP_DENSE, nodes)         # converting it clears `nodes`
    nodes.extend([tuple(node), dense_node(np.ones((2, 2)), np.zeros(2), 0)])
    net = _core.Network(nodes, "float64")            # no use-after-free: the copy is used
    assert nodes == [] and net.n_nodes == 2
    del W, b
    np.testing.assert_array_equal(net.forward(np.ones((1, 3))), [[6.0, 6.0]])


def test_lrp_copies_its_rule_list_before_converting_it():
    model = mlp()
    net = model._network()
    rules = []
    rules.extend([(1, Mutator(0, rules), 0.0, 0.0, 0.0), (1, 0.0, 0.0, 0.0, 0.0)])
    out = _core.lrp(net, np.ones((2, 6)), np.zeros(2, np.int64), rules, None, None, 0)
    assert rules == [] and len(out) == 3


def test_forward_outs_are_copied_and_referenced():
    model = mlp()
    net = model._network()
    outs = [np.empty((2, 5)), np.empty((2, 3))]
    view = list(outs)
    net.forward(np.ones((2, 6)), view)
    np.testing.assert_array_equal(outs[1], model.predict_proba(np.ones((2, 6))))


def test_zero_widths_are_refused_and_empty_kernels_are_safe():
    with pytest.raises(ValueError, match=">= 1"):
        _core.Network([dense_node(np.zeros((3, 0)), np.zeros(0), 4)], "float64")
    with pytest.raises(ValueError, match="n_out"):
        L.Dense(3, 0)
    # the softmax kernel on zero-width rows reads nothing
    assert _core.activation_forward(np.zeros((4, 0)), _core.ACT_SOFTMAX).shape == (4, 0)
    assert _core.activation_backward(np.zeros((4, 0)), np.zeros((4, 0)), _core.ACT_SOFTMAX).shape == (4, 0)


def _threads():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("Threads:"):
                return int(line.split()[1])
    return 0


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc")
def test_lowering_the_thread_count_releases_the_workers():
    xnn.set_num_threads(4)
    a = np.random.default_rng(0).normal(size=(512, 512))
    xnn.ops.matmul(a, a)
    busy = _threads()
    xnn.set_num_threads(1)
    deadline = time.time() + 5
    while _threads() > busy - 3 and time.time() < deadline:
        time.sleep(0.01)
    assert _threads() <= busy - 3


def _rss_kb():
    with open("/proc/self/status") as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0


@pytest.mark.skipif(not os.path.exists("/proc/self/status"), reason="needs Linux's /proc")
def test_short_lived_threads_do_not_leak_packing_buffers():
    """each thread that multiplies gets packing buffers; they are freed
    when it exits (a thread-per-request server stays flat)"""
    xnn.set_num_threads(1)
    a = np.random.default_rng(0).normal(size=(300, 300)).astype(np.float32)

    def work():
        xnn.ops.matmul(a, a)

    for _ in range(50):      # warm up: the allocator's own pools
        t = threading.Thread(target=work)
        t.start()
        t.join()
    before = _rss_kb()
    for _ in range(1000):
        t = threading.Thread(target=work)
        t.start()
        t.join()
    grown = _rss_kb() - before
    assert grown < 20 * 1024, f"RSS grew by {grown} KiB over 1,000 threads"


# ---------------------------------------------------------------- no silent NaN

def test_a_diverging_fit_stops_and_keeps_its_last_finite_weights(tmp_path):
    X = np.random.default_rng(0).normal(size=(64, 6)) * 1e30      # unscaled inputs
    y = np.arange(64) % 3
    model = mlp()
    with pytest.raises(FloatingPointError, match="NaN or infinite.*last finite weights"):
        model.fit(X, y, epochs=50, lr=10.0, verbose=0)
    for w in model.get_weights():
        assert np.all(np.isfinite(w))
    assert model.history_.stopped
    assert np.isfinite(model.history_.history["loss"]).all()
    model.save(tmp_path / "m.npz")                     # a file that can be read back
    xnn.load(tmp_path / "m.npz")
    model = mlp()
    with pytest.warns(RuntimeWarning, match="fit stopped"):
        hist = model.fit(X, y, epochs=50, lr=10.0, verbose=0, on_nan="stop")
    assert hist.stopped and all(np.all(np.isfinite(w)) for w in model.get_weights())
    model = mlp()
    model.fit(X, y, epochs=10, lr=10.0, verbose=0, on_nan="ignore")
    assert not np.isfinite(model.history_.history["loss"][-1])  # the true loss, not a clamp
    with pytest.raises(ValueError, match="NaN or infinite weights; not saving"):
        model.save(tmp_path / "bad.npz")
    assert not os.path.exists(tmp_path / "bad.npz")
    with pytest.raises(ValueError, match="on_nan"):
        mlp().fit(X[:4], y[:4], on_nan="sometimes", verbose=0)


def test_predict_and_explanations_refuse_nan_and_overflowing_parameters():
    model = mlp("float32")
    X = np.ones((2, 6))
    bad = X.copy()
    bad[1, 3] = np.nan
    for fn in (model.predict, model.predict_proba, E.saliency, E.lrp, E.integrated_gradients,
               E.smoothgrad, E.occlusion if False else E.gradient):
        with pytest.raises(ValueError, match="expected finite values"):
            fn(bad) if fn in (model.predict, model.predict_proba) else fn(model, bad)
    with pytest.raises(ValueError, match="baseline: 1e\\+39 is too large for the model's dtype float32"):
        E.integrated_gradients(model, X, baseline=1e39)
    with pytest.raises(ValueError, match="sigma: 1e\\+39 is too large"):
        E.smoothgrad(model, X, sigma=1e39)
    for k in ("gamma", "epsilon"):
        with pytest.raises(ValueError, match=f"{k}: 1e\\+39 is too large"):
            E.lrp(model, X, rule="gamma", **{k: 1e39})
    with pytest.raises(ValueError, match="alpha: 1e\\+39 is too large"):
        E.lrp(model, X, rule="alphabeta", alpha=1e39)
    with pytest.raises(ValueError, match="high: values too large for float32"):
        E.lrp(model, X, composite="mlp-epsilon-gamma-box", high=1e39)
    with pytest.raises(ValueError, match="baseline: expected finite values"):
        E.integrated_gradients(model, X, baseline=np.full(6, np.inf))


def test_unknown_or_meaningless_parameters_raise():
    model = mlp()
    X = np.ones((2, 6))
    with pytest.raises(ValueError, match="epsilon: rule 'zero' does not take it"):
        E.lrp(model, X, rule="zero", epsilon=0.5)
    with pytest.raises(ValueError, match="gamma: rule 'epsilon' does not take it"):
        E.lrp(model, X, rule="epsilon", gamma=3)
    with pytest.raises(ValueError, match="alpha, beta: rule 'alpha2beta1' does not take them"):
        E.lrp(model, X, rule="alpha2beta1", alpha=3, beta=2)
    with pytest.raises(ValueError, match="gamma: preset 'epsilon-plus' does not take it"):
        E.lrp(model, X, composite="epsilon-plus", gamma=0.5)
    with pytest.raises(ValueError, match="rule, composite: give one of them"):
        E.lrp(model, X, rule="zero", composite="epsilon-plus")
    with pytest.raises(ValueError, match="stabilizer: it parameterises a composite"):
        E.lrp(model, X, stabilizer=1e-3)
    with pytest.raises(TypeError, match="unexpected keyword"):
        E.saliency(model, X, epsilon=1)
    # not given, each rule applies its own default: epsilon 1e-6
    np.testing.assert_array_equal(E.lrp(model, X), E.lrp(model, X, rule="epsilon", epsilon=1e-6))


def test_integrated_gradients_steps_are_bounded_and_linear_in_memory():
    model = mlp()
    with pytest.raises(ValueError, match="steps: expected at most 100000"):
        E.integrated_gradients(model, np.ones((1, 6)), steps=10**6)
    a, w = E.gradients.ig_points("gausslegendre", 5000)   # no 5000 x 5000 matrix
    assert a.shape == w.shape == (5000,) and abs(w.sum() - 1) < 1e-12 and np.all(np.diff(a) > 0)


def test_target_none_is_the_arg_max_of_the_logits_everywhere():
    """with a linear output layer whose outputs are not probabilities: the
    explained class is the logits' arg-max for every method"""
    model = xnn.Sequential([L.Dense(6, 5, activation="relu"), L.Dense(5, 3, activation="sigmoid")],
                           seed=2, dtype="float64")
    X = np.random.default_rng(1).uniform(size=(8, 6))
    _, t = E.score(model, X, return_targets=True)
    logits = X.dot(model.layers[0].W) + model.layers[0].b
    logits = np.maximum(logits, 0).dot(model.layers[1].W) + model.layers[1].b
    np.testing.assert_array_equal(t, np.argmax(logits, axis=1))
    np.testing.assert_array_equal(E.integrated_gradients(model, X, return_error=True).targets, t)
    for fn in (E.saliency, E.lrp, E.smoothgrad, E.integrated_gradients, E.occlusion):
        kw = {"shape": (2, 3), "patch": 1} if fn is E.occlusion else {}
        np.testing.assert_array_equal(fn(model, X, **kw), fn(model, X, target=t, **kw))


def test_ctrl_c_keeps_the_partial_epoch_in_the_history():
    import _thread
    # one epoch of 300,000 single-row steps takes about a second: the
    # interrupt after 0.3 s lands inside it, whatever the machine's load
    X = np.random.default_rng(0).uniform(size=(300000, 6))
    y = np.arange(300000) % 3
    model = mlp()
    timer = threading.Timer(0.3, _thread.interrupt_main)
    timer.start()
    with pytest.raises(KeyboardInterrupt):
        model.fit(X, y, epochs=2, batch_size=1, verbose=0)
    timer.cancel()
    hist = model.history_
    assert hist.partial and len(hist.epoch) >= 1
    steps = model._trainer.steps
    assert sum(hist.batches) == steps            # every completed step is counted
    assert all(np.all(np.isfinite(w)) for w in model.get_weights())


# ---------------------------------------------------------------- threads

def test_a_model_is_safe_to_share_between_threads():
    """two fits serialise; explanations and set_weights during a fit see the
    weights between two steps"""
    rng = np.random.default_rng(0)
    X = rng.uniform(size=(4000, 6))
    y = np.arange(4000) % 3
    model = mlp()
    errors = []

    def fit():
        try:
            model.fit(X, y, epochs=3, batch_size=16, verbose=0)
        except Exception as e:          # pragma: no cover - reported below
            errors.append(e)

    threads = [threading.Thread(target=fit) for _ in range(2)]
    for t in threads:
        t.start()
    explanations = []
    while any(t.is_alive() for t in threads):
        explanations.append(E.lrp(model, X[:50]))
        model.set_weights(model.get_weights())
    for t in threads:
        t.join()
    assert not errors
    assert model._fits == 2 and len(model.history_.epoch) == 3
    for R in explanations:
        assert np.all(np.isfinite(R))
    # a fit of two threads gives the weights of two fits one after the other
    a, b = mlp(), mlp()
    a.seed = b.seed = 7
    a.fit(X[:200], y[:200], epochs=2, batch_size=16, verbose=0)
    a.fit(X[:200], y[:200], epochs=2, batch_size=16, verbose=0)
    run_threads(lambda: b.fit(X[:200], y[:200], epochs=2, batch_size=16, verbose=0), [()] * 2)
    for wa, wb in zip(a.get_weights(), b.get_weights()):
        np.testing.assert_array_equal(wa, wb)


def test_threads_sharing_a_cnn_get_the_bits_of_one_call():
    """concurrent inference and explanations of a CNN whose convolution runs
    as Winograd tiles (the transforms the model keeps are checked, made
    and read by many calls at once) give the bits of a call alone; a write
    into W between calls reaches every later call"""
    L = xnn.layers
    model = xnn.Sequential([L.Conv2d(1, 8, 3, activation="relu"),
                            L.Conv2d(8, 16, 3, activation="relu"), L.MaxPool2d(2), L.Flatten(),
                            L.Dense(144, 4, activation="softmax")], input_shape=(1, 10, 10),
                           seed=1)
    X = np.random.default_rng(0).uniform(size=(3, 1, 10, 10)).astype(np.float32)

    def run(want):
        for _ in range(30):
            for x, (P, S) in zip((X, X[:1]), want):
                np.testing.assert_array_equal(model.predict_proba(x), P)
                np.testing.assert_array_equal(E.saliency(model, x, 1), S)

    for step in range(2):
        want = [(model.predict_proba(x), E.saliency(model, x, 1)) for x in (X, X[:1])]
        run_threads(run, [(want,)] * 4)
        model.layers[1].W[::2] *= -1        # the second round sees the new W


def _unaligned(a):
    """a copy of a whose data pointer is not aligned to its item size"""
    buf = np.zeros(a.nbytes + 1, dtype=np.uint8)[1:]
    out = buf.view(a.dtype).reshape(a.shape)
    out[...] = a
    assert a.itemsize == 1 or not out.flags.aligned
    return out


def test_unaligned_inputs_targets_and_read_only_weights_are_accepted():
    import pickle
    rng = np.random.default_rng(0)
    model = xnn.Sequential([xnn.layers.Dense(6, 5, activation="relu"),
                            xnn.layers.Dense(5, 3, activation="softmax")], seed=1)
    X = rng.random((4, 6)).astype(np.float32)
    t = np.array([0, 1, 2, 1], dtype=np.int64)
    ref = xnn.explain.saliency(model, X, target=t)
    np.testing.assert_array_equal(xnn.explain.saliency(model, _unaligned(X), target=_unaligned(t)),
                                  ref)
    np.testing.assert_array_equal(model.predict_proba(_unaligned(X)), model.predict_proba(X))
    # weights that come back read-only and unaligned (pickle protocol 5 buffers, mmap)
    bufs = []
    data = pickle.dumps(model, protocol=5, buffer_callback=bufs.append)
    ro = [pickle.PickleBuffer(memoryview(_unaligned(np.frombuffer(b.raw(), np.uint8)))
                              .toreadonly()) for b in bufs]
    clone = pickle.loads(data, buffers=ro)
    assert all(p.flags.writeable and p.flags.aligned for ly in clone.layers for p in ly.params)
    np.testing.assert_array_equal(clone.predict_proba(X), model.predict_proba(X))
    clone.fit(X, t, epochs=1, verbose=0)               # trains in place without complaint
