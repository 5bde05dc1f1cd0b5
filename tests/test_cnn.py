"""Convolutional networks end to end: the C training step and every
explanation against the NumPy twins (xnn.reference) on CNNs and Conv1d
nets, in both dtypes; threads change no bit."""
import importlib

import numpy as np
import pytest

import xnn
import xnn.explain as E
from xnn import reference as R
from conftest import DTYPES, RTOL, assert_close, model_of, twin_of

L = xnn.layers


def w(rng, shape, fan_in):
    return rng.normal(size=shape) / np.sqrt(fan_in)


def cnn_twin(rng, bias=0.1, pool="maxpool2d", act="relu"):
    """conv-act-pool-conv-act-avgpool-flatten-dense-act-dense on (2, 10, 10)"""
    return [{"op": "conv2d", "W": w(rng, (4, 2, 3, 3), 18), "b": bias * rng.normal(size=4),
             "act": act, "stride": 1, "padding": 1},
            {"op": pool, "kernel": 2},
            {"op": "conv2d", "W": w(rng, (5, 4, 3, 3), 36), "b": bias * rng.normal(size=5),
             "act": act, "stride": 1, "padding": 0},
            {"op": "avgpool2d", "kernel": 3}, {"op": "flatten"},
            {"op": "dense", "W": w(rng, (5, 7), 5), "b": bias * rng.normal(size=7), "act": act},
            {"op": "dense", "W": w(rng, (7, 4), 7), "b": bias * rng.normal(size=4), "act": "softmax"}]


def conv1d_twin(rng, bias=0.1):
    """conv1d-relu-maxpool-conv1d-tanh(stride 2)-avgpool-flatten-dense on (3, 23)"""
    return [{"op": "conv1d", "W": w(rng, (4, 3, 5), 15), "b": bias * rng.normal(size=4),
             "act": "relu", "stride": 1, "padding": 2},
            {"op": "maxpool1d", "kernel": 2},
            {"op": "conv1d", "W": w(rng, (6, 4, 3), 12), "b": bias * rng.normal(size=6),
             "act": "tanh", "stride": 2, "padding": 0},
            {"op": "avgpool1d", "kernel": 2, "stride": 1}, {"op": "flatten"},
            {"op": "dense", "W": w(rng, (24, 5), 24), "b": bias * rng.normal(size=5),
             "act": "softmax"}]


def gap_twin(rng, bias=0.1):
    return [{"op": "conv2d", "W": w(rng, (3, 1, 3, 3), 9), "b": bias * rng.normal(size=3),
             "act": "relu", "stride": 1, "padding": 1},
            {"op": "conv2d", "W": w(rng, (5, 3, 3, 3), 27), "b": bias * rng.normal(size=5),
             "act": "relu", "stride": 2, "padding": 1},
            {"op": "gap2d"},
            {"op": "dense", "W": w(rng, (5, 4), 5), "b": bias * rng.normal(size=4),
             "act": "softmax"}]


def wide_twin(rng, bias=0.1):
    """convs of many taps (over 64 per output: the GEMM path) under max
    poolings, whose rules' transposes sum S's nonzeros alone: padding 1,
    then stride 2 with padding 1, on (8, 9, 9)"""
    return [{"op": "conv2d", "W": w(rng, (6, 8, 3, 3), 72), "b": bias * rng.normal(size=6),
             "act": "relu", "stride": 1, "padding": 1},
            {"op": "maxpool2d", "kernel": 2},
            {"op": "conv2d", "W": w(rng, (12, 6, 4, 4), 96), "b": bias * rng.normal(size=12),
             "act": "relu", "stride": 2, "padding": 1},
            {"op": "maxpool2d", "kernel": 2}, {"op": "flatten"},
            {"op": "dense", "W": w(rng, (12, 4), 12), "b": bias * rng.normal(size=4),
             "act": "softmax"}]


NETS = {"cnn": (cnn_twin, (2, 10, 10)), "conv1d": (conv1d_twin, (3, 23)),
        "gap": (gap_twin, (1, 9, 9)), "wide": (wide_twin, (8, 9, 9))}


def built(name, rng, dtype=np.float64, bias=0.1):
    make, shape = NETS[name]
    net = make(rng, bias=bias)
    return net, model_of(net, shape, np.dtype(dtype).name), shape


def close(a, b, dtype=np.float64, scale=None):
    assert_close(a, b, dtype, scale=scale)


# ---------------------------------------------------------------- training

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(NETS))
def test_training_step_matches_twin(name, dtype, rng):
    net, model, shape = built(name, rng, dtype)
    X = rng.uniform(size=(23,) + shape)
    y = rng.integers(0, model.n_out, 23)
    twin = twin_of(model)           # the model's own weights (rounded to its dtype)
    grads, stats = R.network_gradients(twin, X.astype(dtype).astype(float), y)
    before = model.get_weights()
    hist = model.fit(X, y, epochs=1, lr=0.5, verbose=0)
    after = model.get_weights()
    np.testing.assert_allclose(hist.history["loss"][0], stats[0] / 23, rtol=RTOL[dtype])
    for b0, b1, g in zip(before, after, grads):
        close((b0.astype(float) - b1) / 0.5, g.reshape(b0.shape), dtype,
              scale=max(1, np.abs(g).max()) * 4)


@pytest.mark.parametrize("dtype", DTYPES)
def test_minibatches_dropout_and_chunks_match_twin(dtype, rng):
    """a conv net with dropout after its conv layer, trained on a batch
    larger than a chunk of the step: the twin's gradients with the same
    dropout stream, and the same bits for 1 and 2 threads"""
    net = cnn_twin(rng)
    net[0]["keep"] = 0.8
    net[5]["keep"] = 0.7
    model = model_of(net, (2, 10, 10), np.dtype(dtype).name)
    X = rng.uniform(size=(300, 2, 10, 10)).astype(dtype)
    y = rng.integers(0, 4, 300)
    runs = []
    for threads in (1, 2):
        xnn.set_num_threads(threads)
        m = model_of(net, (2, 10, 10), np.dtype(dtype).name)
        m.seed = 5
        m.fit(X, y, epochs=2, batch_size=64, optimizer="adam", lr=0.01, verbose=0)
        runs.append(m.get_weights())
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    # one full-batch step through the C chunks against the twin with dropout
    from xnn import _core
    trainer = _core.Trainer(model._network(), 300, _core.LOSS_CROSS_ENTROPY, _core.OPT_SGD, 1.0,
                            seed=77)
    assert trainer.chunk_rows <= 300
    twin = twin_of(model)
    grads, stats = R.network_gradients(twin, X.astype(float).reshape(300, 2, 10, 10), y, seed=77,
                                       step=1)
    before = model.get_weights()
    got = trainer.step(X.reshape(300, -1), y.astype(np.int64))
    assert got[3]
    np.testing.assert_allclose(got[0], stats[0], rtol=RTOL[dtype] * 10)
    for b0, b1, g in zip(before, model.get_weights(), grads):
        close(b0.astype(float) - b1, g.reshape(b0.shape), dtype, scale=max(1, np.abs(g).max()) * 4)


# ---------------------------------------------------------------- explanations

MODES = {"plain": E.gradient, "guided": E.guided_backprop, "deconvnet": E.deconvnet}


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("mode", list(MODES))
@pytest.mark.parametrize("name", list(NETS))
def test_gradients_match_twin(name, mode, dtype, rng):
    net, model, shape = built(name, rng, dtype)
    X = rng.uniform(-0.2, 1, size=(7,) + shape)
    t = np.arange(7) % model.n_out
    twin = twin_of(model)
    got = MODES[mode](model, X, t, return_layers=True)
    want = R.explain_gradient(twin, X.astype(dtype).astype(float), t, mode=mode, return_layers=True)
    assert len(got) == len(want) == len(model.layers) + 1
    for g, e in zip(got, want):
        assert g.shape == e.shape, (g.shape, e.shape)
        close(g, e, dtype)
    gi = E.input_x_gradient(model, X, t, return_layers=True)
    for g, e in zip(gi, R.explain_gradient(twin, X.astype(dtype).astype(float), t, mode="plain",
                                           return_layers=True, times_input=True)):
        close(g, e, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(NETS))
@pytest.mark.parametrize("method", ["gradient", "guided_backprop", "deconvnet",
                                    "input_x_gradient"])
def test_unit_start_equals_full_start(name, dtype, method, rng):
    """A hidden conv start with one channel per row computes that channel
    alone (the convolution's unit path) unless every layer's gradient is
    asked; both give the twin's gradient and the same score, at the
    rounding of the other channels' zero terms and the GEMM's order"""
    net, model, shape = built(name, rng, dtype)
    X = rng.uniform(size=(7,) + shape)
    twin = twin_of(model)
    f = getattr(E, method)
    mode = {"gradient": "plain", "input_x_gradient": "plain", "guided_backprop": "guided",
            "deconvnet": "deconvnet"}[method]
    for s, layer in enumerate(model.layers[:-1]):
        if not isinstance(layer, (L.Conv1d, L.Conv2d)):
            continue
        units = (3 * np.arange(7) + 1) % layer.output_shape_[0]
        unit = f(model, X, start_layer=s, unit=units)
        full = f(model, X, start_layer=s, unit=units, return_layers=True)[0]
        close(unit, full, dtype)
        taps = layer.in_channels * int(np.prod(layer.kernel_size))
        if s == 0 and mode == "plain" and taps <= 64:
            # the same sums, channel for channel, where the full transpose
            # also runs the direct loops (64 taps per output or fewer)
            np.testing.assert_array_equal(unit, full)
        for u in range(min(layer.output_shape_[0], 3)):
            rows = units == u
            want = R.explain_gradient(twin, X.astype(dtype).astype(float), None, mode=mode,
                                      start_layer=s, unit=u,
                                      times_input=method == "input_x_gradient")
            close(unit[rows], want[rows], dtype)
        A = model.activations(X)[s].astype(float)
        expect = A.reshape(7, A.shape[1], -1).mean(axis=2)[np.arange(7), units]
        close(E.score(model, X, start_layer=s, unit=units), expect, dtype)
    with pytest.raises(ValueError, match="unit"):
        f(model, X, start_layer=0, unit=model.layers[0].output_shape_[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(NETS))
def test_hidden_start_matches_twin(name, dtype, rng):
    """start_layer/unit: a dense neuron or a channel's mean at any layer"""
    net, model, shape = built(name, rng, dtype)
    X = rng.uniform(size=(6,) + shape)
    twin = twin_of(model)
    for s in range(len(model.layers) - 1):
        n_units = model.layers[s].output_shape_[0]
        units = np.arange(6) % n_units
        many = E.gradient(model, X, start_layer=s, unit=units, return_layers=True)
        for u in range(min(n_units, 3)):
            rows = units == u
            got = E.gradient(model, X, start_layer=s, unit=u, return_layers=True)
            want = R.explain_gradient(twin, X.astype(dtype).astype(float), None, start_layer=s,
                                      unit=u, return_layers=True)
            for g, e, gm in zip(got, want, many):
                close(g, e, dtype)
                np.testing.assert_array_equal(gm[rows], g[rows])
        score = E.score(model, X, start_layer=s, unit=units)
        A = model.activations(X)[s].astype(float)
        expect = A.reshape(6, A.shape[1], -1).mean(axis=2)[np.arange(6), units]
        close(score, expect, dtype)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(NETS))
def test_path_sums_match_twin(name, dtype, rng):
    net, model, shape = built(name, rng, dtype)
    X = rng.uniform(size=(5,) + shape)
    B = rng.uniform(size=(5,) + shape) * 0.1
    twin = twin_of(model)
    Xd, Bd = X.astype(dtype).astype(float), B.astype(dtype).astype(float)
    t = E.score(model, X, return_targets=True)[1]
    ig = E.integrated_gradients(model, X, baseline=B, steps=9, return_layers=True)
    alphas, weights = E.gradients.ig_points("gausslegendre", 9)
    want = R.explain_gradient_sum(twin, Xd, Bd, t, alphas, weights, times_delta=True,
                                  return_layers=True)
    for g, e in zip(ig, want):
        close(g, e, dtype)
    n = 4
    sg = E.smoothgrad(model, X, n_samples=n, sigma=0.2, seed=3, return_layers=True)
    noises = [xnn._core.explain_noise(Xd.reshape(5, -1).astype(dtype), 0.2, 3, s).astype(float)
              .reshape(X.shape) for s in range(n)]
    want = R.explain_gradient_sum(twin, Xd, None, t, np.ones(n), np.full(n, 1 / n), noises=noises,
                                  return_layers=True)
    for g, e in zip(sg, want):
        close(g, e, dtype)


RULES = [dict(rule="zero"), dict(rule="epsilon", epsilon=0.01),
         dict(rule="gamma", gamma=0.25, epsilon=1e-6),
         dict(rule="gamma", gamma=0.5, epsilon=1e-6, generalized=True),
         dict(rule="alphabeta", alpha=2.0, beta=1.0, epsilon=1e-6),
         dict(rule="alphabeta", alpha=1.0, beta=0.0, epsilon=1e-6),
         dict(rule="flat", epsilon=1e-6), dict(rule="wsquare", epsilon=1e-6)]


def _rule(spec):
    spec = dict(spec)
    name = spec.pop("rule")
    gen = spec.pop("generalized", False)
    if name == "gamma":
        return E.rules.Gamma(generalized=gen, **spec)
    return E.rules.get(name, **spec)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("case", range(len(RULES)))
@pytest.mark.parametrize("name", list(NETS))
def test_lrp_rules_match_twin(name, case, bias, dtype, rng):
    net, model, shape = built(name, rng, dtype, bias=0.3)
    X = rng.uniform(-0.3, 1, size=(5,) + shape)
    t = np.arange(5) % model.n_out
    spec = RULES[case]
    rule = [_rule(spec) if isinstance(ly, (L.Dense, L.Conv1d, L.Conv2d)) else None
            for ly in model.layers]
    got = E.lrp(model, X, t, rule=rule, bias=bias, return_layers=True)
    twin = twin_of(model)
    specs = [dict(spec) if ly["op"] in R.PARAMETRIC else
             ({"epsilon": 1e-6} if ly["op"] in ("avgpool2d", "avgpool1d", "gap2d", "gap1d") else None)
             for ly in twin]
    want = R.lrp(twin, X.astype(dtype).astype(float), t, specs, bias=bias)
    # float32: a rule divides by sums that nearly cancel (no bias, inputs of
    # both signs), which amplifies float32's rounding of them: measured at
    # most 5e-5 of the scale, against 1e-7 with the bias
    for g, e in zip(got, want):
        close(g, e, dtype, scale=None if dtype == np.float64 else 10 * max(1, np.abs(e).max()))


@pytest.mark.parametrize("dtype", DTYPES)
def test_lrp_without_layers_keeps_the_bits_of_r0(dtype, rng):
    """Without return_layers the hidden layers' relevance stays in the
    plan's buffers (no array per layer); R_0 is the same bits, over several
    chunks of rows (300 rows of 28 x 28 images make more than one)"""
    model = xnn.Sequential([L.Conv2d(1, 32, 3, activation="relu"), L.MaxPool2d(2),
                            L.Conv2d(32, 64, 3, activation="relu"), L.MaxPool2d(2), L.Flatten(),
                            L.Dense(1600, 32, activation="relu"),
                            L.Dense(32, 10, activation="softmax")],
                           input_shape=(1, 28, 28), dtype=np.dtype(dtype).name, seed=2)
    X = rng.uniform(size=(300, 1, 28, 28)).astype(dtype)
    for kw in (dict(composite="epsilon-plus-flat"), dict(rule="epsilon", maxpool="norm"),
               dict(rule="epsilon", start_layer=2, unit=5)):
        alone = E.lrp(model, X, **kw)
        layers = E.lrp(model, X, return_layers=True, **kw)
        assert alone.shape == X.shape and len(layers) > 2
        np.testing.assert_array_equal(alone, layers[0])


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("pool", [(2, None), (3, None), (2, 3), ((2, 3), None), (3, 2)])
def test_pooling_backward_into_the_conv_keeps_the_bits(dtype, pool, rng):
    """A max pooling over a ReLU conv hands its gradient straight to the
    conv's transpose when no layer's gradient is kept: the same bits as
    the two nodes one after the other (return_layers keeps them apart), on
    the direct sums (1 -> 8 channels) and on Winograd tiles (8 -> 16), in
    2-D and 1-D, for windows apart and (3 at stride 2) overlapping"""
    k, s = pool
    kh, kw = k if isinstance(k, tuple) else (k, k)
    sh, sw = (s, s) if s else (kh, kw)
    h, w = ((24 - kh) // sh + 1) // 2, ((24 - kw) // sw + 1) // 2
    name = np.dtype(dtype).name
    nets = [(xnn.Sequential([L.Conv2d(1, 8, 3, activation="relu"), L.MaxPool2d(k, stride=s),
                             L.Conv2d(8, 16, 3, padding=1, activation="relu"),
                             L.MaxPool2d(2), L.Flatten(), L.Dense(16 * h * w, 10)],
                            input_shape=(1, 26, 26), dtype=name, seed=4), (1, 26, 26))]
    if not isinstance(k, tuple):
        n = 4 * k + 4 + sw
        nets.append((xnn.Sequential([L.Conv1d(2, 8, 5, activation="relu"),
                                     L.MaxPool1d(k, stride=s), L.Flatten(),
                                     L.Dense(8 * ((n - 4 - k) // sw + 1), 3)],
                                    input_shape=(2, n), dtype=name, seed=4), (2, n)))
    for model, shape in nets:
        X = rng.uniform(-0.3, 1, size=(40,) + shape).astype(dtype)
        for fn in (E.gradient, E.input_x_gradient, E.saliency):
            alone = fn(model, X)
            kept = fn(model, X, return_layers=True)[0]
            np.testing.assert_array_equal(alone, kept)
            assert np.count_nonzero(alone) > alone.size // 4
        two = E.gradient(model, X)
        xnn.set_num_threads(1)
        np.testing.assert_array_equal(E.gradient(model, X[:3]), two[:3])
        xnn.set_num_threads(2)


@pytest.mark.parametrize("maxpool", ["wta", "norm"])
@pytest.mark.parametrize("start", ["logit", "onehot", "probability"])
def test_lrp_pool_rules_starts_and_hidden_start_match_twin(maxpool, start, rng):
    net, model, shape = built("cnn", rng)
    X = rng.uniform(size=(4,) + shape)
    twin = twin_of(model)
    specs = [dict(rule="epsilon", epsilon=1e-6) if ly["op"] in R.PARAMETRIC else
             ({"epsilon": 1e-6} if ly["op"] in ("avgpool2d",) else None) for ly in twin]
    got = E.lrp(model, X, rule="epsilon", maxpool=maxpool, start=start, return_layers=True)
    t = E.score(model, X, return_targets=True)[1]
    want = R.lrp(twin, X, t, specs, start=start, maxpool=maxpool)
    for g, e in zip(got, want):
        close(g, e)
    for u in (0, 3):
        got = E.lrp(model, X, rule="epsilon", maxpool=maxpool, start_layer=2, unit=u,
                    return_layers=True)
        want = R.lrp(twin, X, None, specs, maxpool=maxpool, start_layer=2, unit=u)
        for g, e in zip(got, want):
            close(g, e)


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("above", ["alphabeta", "epsilon", "flat", "wsquare"])
@pytest.mark.parametrize("name", list(NETS))
def test_flat_under_a_max_pooling_in_one_pass_keeps_the_bits(name, above, dtype, rng):
    """Flat on a ReLU conv under a winner-take-all max pooling runs with the
    pooling as one pass (no relevance of the conv's output in memory) where
    the rule above the pooling leaves the windows of zero maximum no
    relevance (alpha-beta, epsilon: R = a (...)), and as two steps where it
    does not (flat, wsquare): the bits of the two steps apart
    (return_layers keeps every layer's relevance, so the conv's output's
    too), and the twin's values"""
    net, model, shape = built(name, rng, dtype, bias=0.3)
    X = rng.uniform(-0.3, 1, size=(6,) + shape).astype(dtype)
    t = np.arange(6) % model.n_out
    spec = [i for i in RULES if i["rule"] == above][-1]
    linear = [i for i, ly in enumerate(model.layers)
              if isinstance(ly, (L.Dense, L.Conv1d, L.Conv2d))]
    rule = [None] * len(model.layers)
    for i in linear:
        rule[i] = _rule(spec) if i != linear[0] else _rule(dict(rule="flat", epsilon=1e-6))
    got = E.lrp(model, X, t, rule=rule)
    layers = E.lrp(model, X, t, rule=rule, return_layers=True)
    np.testing.assert_array_equal(got, layers[0])
    twin = twin_of(model)
    specs = [(dict(spec) if i != linear[0] else dict(rule="flat", epsilon=1e-6))
             if i in linear else None for i in range(len(twin))]
    want = R.lrp(twin, X.astype(float), t, specs)[0]
    close(got, want, dtype)


@pytest.mark.parametrize("preset", ["epsilon-plus", "epsilon-plus-flat", "epsilon-gamma-box",
                                    "epsilon-alpha2-beta1", "epsilon-alpha2-beta1-flat"])
@pytest.mark.parametrize("name", list(NETS))
def test_presets_match_the_twins_zennit_preset(name, preset, rng):
    net, model, shape = built(name, rng, bias=0.2)
    X = rng.uniform(size=(4,) + shape)
    t = np.arange(4) % model.n_out
    kw = dict(low=-0.5, high=1.0) if preset == "epsilon-gamma-box" else {}
    got = E.lrp(model, X, t, composite=preset, **kw)
    twin = twin_of(model)
    want = R.lrp(twin, X, t, R.zennit_preset(twin, preset.replace("-", "_"), **kw))[0]
    close(got, want)


# ---------------------------------------------------------------- identities, threads, errors

def test_lrp0_is_gradient_times_input_and_conserves_on_zero_bias_avgpool_cnn(rng):
    model = xnn.Sequential([L.Conv2d(2, 4, 3, padding=1, activation="relu"), L.AvgPool2d(2),
                            L.Conv2d(4, 3, 3, activation="relu"), L.Flatten(), L.Dense(12, 4)],
                           input_shape=(2, 8, 8), seed=2, dtype="float64")
    model.set_weights([a if a.ndim > 1 else np.zeros_like(a) for a in model.get_weights()])
    X = rng.uniform(size=(6, 2, 8, 8))
    R0 = E.lrp(model, X, rule="zero")
    close(R0, E.input_x_gradient(model, X))
    assert E.conservation(R0, model, X).max_relative() < 1e-12
    Re = E.lrp(model, X, rule="epsilon", epsilon=1e-9)   # ε absorbs O(ε / |z|)
    assert E.conservation(Re, model, X).max_relative() < 1e-3
    # z+ from a non-negative start on non-negative inputs stays non-negative
    for R_ in E.lrp(model, X, rule="zplus", start="onehot", return_layers=True):
        assert R_.min() >= 0


@pytest.mark.parametrize("dtype", DTYPES)
def test_zplus_on_winograd_tiles_keeps_its_sign_and_matches_twin(dtype, rng):
    """a conv of 8 -> 16 channels runs z+'s product as Winograd tiles. Its
    weights are negative but at the centre, whose inputs are 1e-9 at every
    other pixel, so that z+ there is a sum of 1e-9 while the tiles also read
    inputs near 1 (through weights z+ sets to 0): they round that positive
    sum to either sign, and z+ (no bias in its denominator) must still
    divide by a positive stabiliser. From a non-negative start the relevance
    stays non-negative, and equals the twin's"""
    model = xnn.Sequential([L.Conv2d(1, 8, 1, activation="relu"),
                            L.Conv2d(8, 16, 3, padding=1, activation="relu"), L.Flatten(),
                            L.Dense(16 * 64, 5)], input_shape=(1, 8, 8), seed=3, dtype=dtype)
    ws = model.get_weights()
    ws[0], ws[1], ws[3] = np.abs(ws[0]), np.zeros_like(ws[1]), np.full_like(ws[3], 10.0)
    ws[2] = -np.abs(ws[2])
    ws[2][:, :, 1, 1] *= -1
    model.set_weights(ws)
    X = rng.uniform(0.5, 1, size=(7, 1, 8, 8))
    X[:, :, ::2, ::2] *= 1e-9
    twin = twin_of(model)
    Xd = X.astype(dtype).astype(float)
    zplus = dict(rule="alphabeta", alpha=1.0, beta=0.0, epsilon=1e-6)
    specs = [dict(rule="epsilon", epsilon=1e-6), zplus, None, zplus]
    rules = [None if sp is None else _rule(sp) for sp in specs]
    t = np.ones(7, int)
    for bias in (True, False):
        got = E.lrp(model, X, t, rule=rules, bias=bias, start="onehot", return_layers=True)
        assert min(r.min() for r in got[1:]) >= 0
        want = R.lrp(twin, Xd, t, specs, bias=bias, start="onehot")
        for g, e in zip(got, want):
            close(g, e, dtype)


def test_prepared_weights_follow_w_however_it_changes(rng):
    """inference and explanations keep the Winograd transforms of W between
    calls; written into, trained or set, W is what they use next"""
    L = xnn.layers

    def make():
        return xnn.Sequential([L.Conv2d(1, 8, 3, activation="relu"),
                               L.Conv2d(8, 8, 3, activation="relu"), L.MaxPool2d(2), L.Flatten(),
                               L.Dense(72, 5, activation="softmax")], input_shape=(1, 10, 10),
                              seed=4)

    model = make()
    X = rng.uniform(size=(3, 1, 10, 10)).astype(np.float32)
    y = np.arange(3) % 5

    def same_as_fresh():
        fresh = make()
        fresh.set_weights(model.get_weights())
        for m_ in (X, X[:1]):
            np.testing.assert_array_equal(model.predict_proba(m_), fresh.predict_proba(m_))
            np.testing.assert_array_equal(E.saliency(model, m_, 1), E.saliency(fresh, m_, 1))

    P0 = model.predict_proba(X)
    same_as_fresh()
    model.layers[1].W[:, :4] *= -1.5          # written into
    assert not np.array_equal(model.predict_proba(X), P0)
    same_as_fresh()
    model.fit(X, y, epochs=2, batch_size=2, lr=0.1, verbose=0)
    same_as_fresh()
    w_ = model.get_weights()
    w_[2] = w_[2][::-1].copy()
    model.set_weights(w_)
    same_as_fresh()


@pytest.mark.parametrize("dtype", DTYPES)
def test_gradient_over_fused_conv_and_pooling_keeps_its_bits(dtype, rng):
    """a plain gradient without the layers' gradients runs each conv + ReLU
    and its max pooling below the start as one forward pass (keeping the
    arg-max alone); with return_layers every node runs alone: the same bits"""
    L = xnn.layers
    model = xnn.Sequential([L.Conv2d(1, 4, 3, padding=1, activation="relu"), L.MaxPool2d(2),
                            L.Conv2d(4, 8, 3, activation="relu"), L.MaxPool2d(2, stride=1),
                            L.Flatten(), L.Dense(32, 3)], input_shape=(1, 10, 10), seed=5,
                           dtype=dtype)
    X = rng.uniform(-0.2, 1, size=(5, 1, 10, 10)).astype(dtype)
    for fn in (E.gradient, E.input_x_gradient):
        for x in (X, X[:1]):
            np.testing.assert_array_equal(fn(model, x), fn(model, x, return_layers=True)[0])
    np.testing.assert_array_equal(E.saliency(model, X, start_layer=4, unit=2),
                                  E.saliency(model, X, start_layer=4, unit=2,
                                             return_layers=True)[0])


def test_batch_equals_rows(rng):
    """explanations of a batch equal those of each row alone (the same
    kernels run per row, but one row takes the one-row products: float64
    to rounding)"""
    net, model, shape = built("cnn", rng)
    X = rng.uniform(size=(5,) + shape)
    for fn in (E.saliency, E.gradient, lambda m, x: E.lrp(m, x, composite="epsilon-plus-flat")):
        batch = fn(model, X)
        for i in range(5):
            close(fn(model, X[i:i + 1]), batch[i:i + 1])


def pooled_twin(rng, bias=0.1):
    """conv+maxpool pairs of every kind the forward fuses: relu 2x2/2 with
    and without bias, as direct sums and as Winograd tiles (odd output:
    the last row and column dropped), tanh 3x3/2 from Winograd tiles (odd
    channel counts), linear 2x2/1, then a strided conv (no fusion) before
    the dense layers, on (1, 22, 22)"""
    return [{"op": "conv2d", "W": w(rng, (8, 1, 3, 3), 9), "b": bias * rng.normal(size=8),
             "act": "relu", "stride": 1, "padding": 1},
            {"op": "maxpool2d", "kernel": 2},
            {"op": "conv2d", "W": w(rng, (10, 8, 3, 3), 72), "b": None,
             "act": "relu", "stride": 1, "padding": 0},
            {"op": "maxpool2d", "kernel": 2},
            {"op": "conv2d", "W": w(rng, (9, 10, 3, 3), 90), "b": bias * rng.normal(size=9),
             "act": "tanh", "stride": 1, "padding": 1},
            {"op": "maxpool2d", "kernel": 3, "stride": 2},
            {"op": "conv2d", "W": w(rng, (6, 9, 2, 2), 36), "b": bias * rng.normal(size=6),
             "act": "linear", "stride": 1, "padding": 1},
            {"op": "maxpool2d", "kernel": 2, "stride": 1},
            {"op": "conv2d", "W": w(rng, (4, 6, 3, 3), 54), "b": bias * rng.normal(size=4),
             "act": "relu", "stride": 2, "padding": 1},
            {"op": "flatten"},
            {"op": "dense", "W": w(rng, (4, 5), 4), "b": bias * rng.normal(size=5),
             "act": "softmax"}]


@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", ["pooled", "cnn", "conv1d", "gap"])
def test_forward_paths_equal_node_by_node(name, dtype, rng):
    """predict_proba runs a conv and the max pooling after it in one pass
    and, for batches of two images a thread or more, the nodes before the
    first dense one image by image; activations() asks for every node's
    output, so it runs each node alone over the batch: the same bits for
    the same rows at every thread count, and the twin's values"""
    if name == "pooled":
        net, shape = pooled_twin(rng), (1, 22, 22)
        model = model_of(net, shape, np.dtype(dtype).name)
    else:
        net, model, shape = built(name, rng, dtype)
    X = rng.uniform(-1, 1, size=(67,) + shape).astype(dtype)
    close(model.activations(X)[-1], R.network_forward(net, X.astype(np.float64))[1][-1], dtype)
    for m in (1, 2, 3, 5, 67):
        want = model.activations(X[:m])[-1]
        for threads in (1, 2, 3):
            xnn.set_num_threads(threads)
            np.testing.assert_array_equal(model.predict_proba(X[:m]), want)


@pytest.mark.parametrize("dtype", DTYPES)
def test_explanations_do_not_depend_on_threads(dtype, rng):
    net, model, shape = built("cnn", rng, dtype)
    X = rng.uniform(size=(50,) + shape)
    out = []
    for threads in (1, 2, 3):
        xnn.set_num_threads(threads)
        out.append([E.saliency(model, X), E.lrp(model, X, composite="epsilon-gamma-box"),
                    E.integrated_gradients(model, X, steps=5),
                    E.smoothgrad(model, X, n_samples=3, seed=1)])
    for run in out[1:]:
        for a, b in zip(out[0], run):
            np.testing.assert_array_equal(a, b)


@pytest.mark.parametrize("dtype", DTYPES)
def test_one_image_through_a_gemm_path_conv_does_not_depend_on_threads(dtype, rng):
    """A conv with 72 taps and 6 outputs runs its transpose as unfolded
    GEMM products; for one image the threads share its input channels:
    every thread count gives the same bits, and those of the image's row in
    a batch, for the gradient and for z+ (LRP's transposed W+)"""
    net = [{"op": "conv2d", "W": w(rng, (8, 1, 3, 3), 9), "b": 0.1 * rng.normal(size=8),
            "act": "relu", "stride": 1, "padding": 1},
           {"op": "maxpool2d", "kernel": 2},
           {"op": "conv2d", "W": w(rng, (6, 8, 3, 3), 72), "b": 0.1 * rng.normal(size=6),
            "act": "relu", "stride": 1, "padding": 0},
           {"op": "flatten"},
           {"op": "dense", "W": w(rng, (96, 4), 96), "b": 0.1 * rng.normal(size=4),
            "act": "softmax"}]
    model = model_of(net, (1, 12, 12), np.dtype(dtype).name)
    X = rng.uniform(size=(5, 1, 12, 12)).astype(dtype)
    methods = [lambda A: E.saliency(model, A),
               lambda A: E.lrp(model, A, composite="epsilon-plus-flat")]
    batch = [f(X) for f in methods]
    t = model.predict(X)
    twin = twin_of(model)
    want = R.lrp(twin, X.astype(np.float64), t, R.zennit_preset(twin, "epsilon_plus_flat"))[0]
    close(batch[1], want, dtype)
    for threads in (1, 2, 3):
        xnn.set_num_threads(threads)
        for f, want in zip(methods, batch):
            for i in range(len(X)):
                np.testing.assert_array_equal(f(X[i:i + 1]), want[i:i + 1])


def test_shapes_and_errors(rng):
    net, model, shape = built("cnn", rng)
    X = rng.uniform(size=(3,) + shape)
    assert E.saliency(model, X).shape == X.shape
    assert E.saliency(model, X.reshape(3, -1)).shape == (3, 200)
    assert E.saliency(model, X[0]).shape == X[0].shape
    with pytest.raises(ValueError, match=r"unit: expected the unit \(or channel\) of layer 2"):
        E.gradient(model, X, start_layer=2)
    with pytest.raises(ValueError, match=r"unit \(a channel of layer 0\): expected a class in \[0, 4\), got 4"):
        E.gradient(model, X, start_layer=0, unit=4)
    with pytest.raises(ValueError, match="target: a class of the last layer"):
        E.gradient(model, X, target=1, start_layer=0, unit=1)
    with pytest.raises(ValueError, match="start_layer: expected a layer index"):
        E.gradient(model, X, start_layer=9, unit=0)
    with pytest.raises(ValueError, match="output: a hidden unit's score is its value"):
        E.gradient(model, X, start_layer=0, unit=0, output="probability")
    with pytest.raises(ValueError, match=r"rule\[1\]: layer 1 \(MaxPool2d\) takes no rule"):
        E.lrp(model, X, rule=["epsilon"] * 7)
    with pytest.raises(ValueError, match="expected finite values"):
        E.saliency(model, np.full_like(X, np.nan))


# ---------------------------------------------------------------- class activation maps

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("name", list(NETS))
def test_cam_family_matches_twin(name, dtype, rng):
    RC = importlib.import_module("xnn.reference.cam")
    net, model, shape = built(name, rng, dtype)
    X = rng.uniform(size=(9,) + shape)
    t = np.arange(9) % model.n_out
    twin = twin_of(model)
    Xd = X.astype(dtype).astype(float)
    size = shape[1:] if len(shape) == 3 else shape[1]
    layers = [i for i, ly in enumerate(model.layers[:-1]) if len(ly.output_shape_) > 1
              and np.prod(ly.output_shape_[1:]) > 1]
    for layer in layers:
        g = E.grad_cam(model, X, t, layer=layer)
        close(g.maps, RC.grad_cam(twin, Xd, t, layer), dtype)
        # rows one at a time (one-row products above the layer) give the
        # same maps to rounding
        rows = [E.grad_cam(model, X[i:i + 1], t[i:i + 1], layer=layer).maps for i in range(9)]
        close(np.concatenate(rows), g.maps, dtype)
        close(g, RC.upsample(RC.grad_cam(twin, Xd, t, layer), size), dtype)
        close(E.grad_cam(model, X, t, layer=layer, relu=False, interpolate=None),
              RC.grad_cam(twin, Xd, t, layer, relu=False), dtype)
        close(E.grad_cam_plus_plus(model, X, t, layer=layer, interpolate=None),
              RC.grad_cam_plus_plus(twin, Xd, t, layer), dtype)
        close(E.guided_grad_cam(model, X, t, layer=layer), RC.guided_grad_cam(twin, Xd, t, layer),
              dtype)
    if name == "gap":
        c = E.cam(model, X, t, interpolate=None)
        close(c, RC.cam(twin, Xd, t, 1), dtype)
        # the mean of the map plus the bias is the logit
        logit = E.score(model, X, t)
        close(np.asarray(c).reshape(9, -1).mean(axis=1) + model.layers[-1].b[t], logit, dtype)


@pytest.mark.parametrize("mode", ["bilinear", "nearest"])
def test_upsample_matches_twin(mode, rng):
    RC = importlib.import_module("xnn.reference.cam")
    for hi, wi, ho, wo in [(5, 5, 28, 28), (3, 7, 10, 9), (13, 13, 28, 28), (4, 4, 8, 8), (1, 6, 5, 17)]:
        M = rng.normal(size=(3, hi, wi))
        close(E.upsample(M, (ho, wo), mode), RC.upsample(M, (ho, wo), mode))
    M = rng.normal(size=(2, 7))
    close(E.upsample(M, 23), RC.upsample(M, 23))
    close(E.upsample(M, 23, "nearest"), RC.upsample(M, 23, "nearest"))


def test_cam_errors(rng):
    net, model, shape = built("cnn", rng)
    X = rng.uniform(size=(2,) + shape)
    with pytest.raises(ValueError, match=r"layer: Grad-CAM needs a layer with an image or signal output.*layer 5 \(Dense"):
        E.grad_cam(model, X, layer=5)
    with pytest.raises(ValueError, match="CAM needs a network that ends with a global average"):
        E.cam(model, X)
    mlp = xnn.Sequential([L.Dense(4, 3, activation="relu"), L.Dense(3, 2)])
    with pytest.raises(ValueError, match="this model has none"):
        E.grad_cam(mlp, rng.uniform(size=(2, 4)))
    with pytest.raises(ValueError, match="mode: expected linear or nearest"):
        E.upsample(np.zeros((1, 3)), 6, "bilinear")
    assert E.grad_cam(model, X).layer == 2            # the last layer with positions


# ---------------------------------------------------------------- DeepLIFT

@pytest.mark.parametrize("dtype", DTYPES)
@pytest.mark.parametrize("maxpool", ["rescale", "captum"])
@pytest.mark.parametrize("name", list(NETS))
def test_deeplift_matches_twin(name, maxpool, dtype, rng):
    net, model, shape = built(name, rng, dtype)
    X = rng.uniform(size=(6,) + shape)
    B = rng.uniform(size=(6,) + shape) * 0.2
    X[0] = B[0]                                     # a row equal to its baseline
    t = np.arange(6) % model.n_out
    twin = twin_of(model)
    Xd, Bd = X.astype(dtype).astype(float), B.astype(dtype).astype(float)
    got = E.deeplift(model, X, B, t, maxpool=maxpool, return_error=True)
    want, err = R.deeplift(twin, Xd, Bd, t, maxpool=maxpool)
    close(got, want, dtype)
    close(got.error, err, dtype, scale=max(1, np.abs(got.delta).max()))
    if maxpool == "rescale":       # summation to delta
        assert np.abs(got.error).max() <= RTOL[dtype] * 100 * max(1, np.abs(got.delta).max())
    bg = rng.uniform(size=(3,) + shape) * 0.3
    got = E.deep_shap(model, X[:3], bg, t[:3], maxpool=maxpool)
    want, _ = R.deep_shap(twin, Xd[:3], bg.astype(dtype).astype(float), t[:3], maxpool=maxpool)
    close(got, want, dtype)


def test_deeplift_on_a_linear_model_is_gradient_times_difference(rng):
    model = xnn.Sequential([L.Dense(7, 3)], dtype="float64", seed=1)
    X, B = rng.normal(size=(4, 7)), rng.normal(size=(4, 7))
    close(E.deeplift(model, X, B, 1), E.gradient(model, X, 1) * (X - B))
