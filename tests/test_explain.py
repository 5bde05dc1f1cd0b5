"""Explanations: the C kernels against their NumPy twins (xnn.reference),
the twins against finite differences, and the properties of the methods."""
import numpy as np
import pytest

import xnn
import xnn.explain as E
from xnn import reference as ref
from xnn.explain import composites, rules
from conftest import run_threads

TOL = {np.float64: 1e-11, np.float32: 2e-6}


def make_model(sizes, acts, dtype=np.float64, seed=0, bias=0.1):
    layers = [xnn.layers.Dense(a, b, activation=act) for a, b, act in zip(sizes, sizes[1:], acts)]
    model = xnn.Sequential(layers, init="glorot_uniform", seed=seed, dtype=dtype)
    rng = np.random.RandomState(seed + 100)
    w = []
    for ly in model.layers:
        w += [rng.randn(ly.n_in, ly.n_out) / np.sqrt(ly.n_in), bias * rng.randn(ly.n_out)]
    model.set_weights(w)
    return model


def twin(model):
    return [(ly.W.astype(np.float64), ly.b.astype(np.float64), ly.activation) for ly in model.layers]


def data(m, d, seed=1, low=0.0):
    return np.random.RandomState(seed).uniform(low, 1.0, size=(m, d))


def close(a, b, dtype):
    scale = max(1.0, float(np.max(np.abs(b))))
    np.testing.assert_allclose(a, b, rtol=0, atol=TOL[dtype] * scale)


SHAPES = [((1, 3, 1), ("linear",)),
          ((7, 5, 3), ("relu", "softmax")),
          ((13, 17, 11, 4), ("relu", "tanh", "softmax")),
          ((31, 67, 29, 10), ("relu", "relu", "linear")),
          ((5, 4, 6, 3), ("sigmoid", "relu", "sigmoid"))]


# ---------------------------------------------------------------- gradients

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sizes,acts", SHAPES)
@pytest.mark.parametrize("mode", ["plain", "guided", "deconvnet"])
def test_gradient_matches_twin(sizes, acts, dtype, mode):
    model = make_model(sizes, acts, dtype)
    X = data(9, sizes[0], low=-1)
    t = np.arange(9) % sizes[-1]
    fn = {"plain": E.gradient, "guided": E.guided_backprop, "deconvnet": E.deconvnet}[mode]
    outputs = ["logit", "probability"] + (["loss"] if acts[-1] == "softmax" else [])
    for output in outputs:
        G = fn(model, X.astype(dtype), target=t, output=output)
        assert G.dtype == dtype and G.shape == X.shape
        close(G, ref.explain_gradient(twin(model), X, t, output, mode), dtype)


def _layer_shapes(model, m):
    return [(m, ly.n_in) for ly in model.layers] + [(m, model.n_out)]


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("sizes,acts", SHAPES)
@pytest.mark.parametrize("mode", ["plain", "guided", "deconvnet", "saliency", "ixg"])
def test_gradient_layers_match_twin(sizes, acts, dtype, mode):
    model = make_model(sizes, acts, dtype)
    X = data(9, sizes[0], low=-1)
    t = np.arange(9) % sizes[-1]
    fn = {"plain": E.gradient, "guided": E.guided_backprop, "deconvnet": E.deconvnet,
          "saliency": E.saliency, "ixg": E.input_x_gradient}[mode]
    kind = mode if mode in ("guided", "deconvnet") else "plain"
    outputs = ["logit", "probability"] + (["loss"] if acts[-1] == "softmax" else [])
    for output in outputs:
        got = fn(model, X.astype(dtype), target=t, output=output, return_layers=True)
        want = ref.explain_gradient(twin(model), X, t, output, kind, return_layers=True,
                                    times_input=mode == "ixg")
        if mode == "saliency":
            want = [np.abs(w) for w in want]
        assert [g.shape for g in got] == _layer_shapes(model, 9)
        assert all(g.dtype == dtype for g in got)
        for g, w in zip(got, want):
            close(g, w, dtype)
        np.testing.assert_array_equal(got[0], fn(model, X.astype(dtype), target=t, output=output))


def test_gradient_layers_are_the_chain_rule():
    """G_L = d z_t / d z is one-hot; G_l = (G_{l+1} masked by ReLU') W_l^T."""
    model = make_model((12, 9, 7, 4), ("relu", "relu", "softmax"))
    X = data(6, 12)
    G = E.gradient(model, X, return_layers=True)
    acts = model.activations(X)
    t = model.predict(X)
    L = len(model.layers)
    np.testing.assert_array_equal(G[L], np.eye(4)[t])
    for l, ly in enumerate(model.layers):
        up = G[l + 1] if l + 1 == L else G[l + 1] * (acts[l] > 0)
        np.testing.assert_allclose(G[l], up @ ly.W.T, atol=1e-12)


def test_input_x_gradient_layers_equal_lrp0_layers_on_zero_bias_relu():
    model = make_model((20, 30, 15, 6), ("relu", "relu", "softmax"), bias=0.0)
    X = data(8, 20)
    R = E.lrp(model, X, rule="zero", return_layers=True)
    A = E.input_x_gradient(model, X, return_layers=True)
    for r, a in zip(R, A):
        np.testing.assert_allclose(a, r, atol=1e-12)


def test_gradient_layers_keep_the_image_shape():
    model = make_model((16, 5, 3), ("relu", "softmax"))
    X = data(4, 16).reshape(4, 4, 4)
    for fn in (E.gradient, E.saliency, E.input_x_gradient, E.guided_backprop, E.deconvnet,
               E.smoothgrad, E.integrated_gradients):
        got = fn(model, X, return_layers=True)
        assert got[0].shape == (4, 4, 4) and got[1].shape == (4, 5) and got[2].shape == (4, 3)


@pytest.mark.parametrize("output", ["logit", "probability", "loss"])
def test_twin_gradient_matches_finite_differences(output):
    model = make_model((6, 8, 7, 4), ("tanh", "sigmoid", "softmax"), bias=0.3)
    net = twin(model)
    X = data(3, 6, low=-1)
    t = np.array([0, 3, 1])
    G = ref.explain_gradient(net, X, t, output)
    h = 1e-6
    for j in range(6):
        dX = np.zeros_like(X)
        dX[:, j] = h
        fd = (ref.explain_score(net, X + dX, t, output) - ref.explain_score(net, X - dX, t, output)) / (2 * h)
        np.testing.assert_allclose(G[:, j], fd, rtol=1e-6, atol=1e-8)


def test_saliency_loss_is_the_mnist_report_variant():
    model = make_model((10, 8, 6, 4), ("relu", "relu", "softmax"))
    X = data(5, 10)
    t = np.array([0, 1, 2, 3, 0])
    P = model.predict_proba(X)
    dZ = P - np.eye(4)[t]
    A1, A2, _ = model.activations(X)
    g = dZ @ model.layers[2].W.T * (A2 > 0)
    g = g @ model.layers[1].W.T * (A1 > 0)
    g = g @ model.layers[0].W.T
    np.testing.assert_allclose(E.saliency(model, X, t, output="loss"), np.abs(g), atol=1e-12)
    np.testing.assert_allclose(E.gradient(model, X, t, output="loss"), g, atol=1e-12)


def test_target_none_is_the_prediction_and_int_broadcasts():
    model = make_model((12, 9, 5), ("relu", "softmax"))
    X = data(8, 12)
    pred = model.predict(X)
    np.testing.assert_array_equal(E.gradient(model, X), E.gradient(model, X, pred))
    np.testing.assert_array_equal(E.lrp(model, X), E.lrp(model, X, target=pred))
    np.testing.assert_array_equal(E.saliency(model, X, 2), E.saliency(model, X, np.full(8, 2)))


def test_input_x_gradient_and_shapes():
    model = make_model((16, 6, 3), ("relu", "softmax"))
    X = data(4, 16)
    np.testing.assert_allclose(E.input_x_gradient(model, X, 1), X * E.gradient(model, X, 1))
    imgs = X.reshape(4, 4, 4)
    assert E.saliency(model, imgs).shape == (4, 4, 4)
    assert E.lrp(model, imgs).shape == (4, 4, 4)
    one = E.gradient(model, X[0], 1)
    np.testing.assert_allclose(one.reshape(1, -1), E.gradient(model, X[:1], 1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_batch_equals_row_by_row(dtype):
    model = make_model((23, 19, 7, 5), ("relu", "relu", "softmax"), dtype)
    X = data(6, 23).astype(dtype)
    t = np.array([4, 0, 1, 2, 3, 4])
    for fn in (E.gradient, E.guided_backprop, lambda m, x, t: E.lrp(m, x, t, rule="gamma"),
               lambda m, x, t: E.lrp(m, x, t, composite="epsilon-plus")):
        whole = fn(model, X, t)
        rows = np.vstack([fn(model, X[i:i + 1], t[i:i + 1]) for i in range(6)])
        np.testing.assert_allclose(whole, rows, rtol=0, atol=TOL[dtype])


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_saliency_is_abs_of_gradient_exactly(dtype):
    """abs is taken in C as the last product finishes each block (one row:
    after the row kernel); the bits are those of |gradient|, layers too"""
    model = make_model((300, 40, 10), ("relu", "softmax"), dtype)
    for m in (1, 7, 301):
        X = data(m, 300, seed=m).astype(dtype)
        g = E.gradient(model, X)
        np.testing.assert_array_equal(E.saliency(model, X), np.abs(g))
        np.testing.assert_array_equal(E.saliency(model, X, abs=False), g)
        got = E.saliency(model, X, return_layers=True)
        for a, b in zip(got, E.gradient(model, X, return_layers=True)):
            np.testing.assert_array_equal(a, np.abs(b))
    with pytest.raises(TypeError, match="abs: expected True or False, got 'yes'"):
        E.saliency(model, X, abs="yes")
    with pytest.raises(TypeError, match="abs: expected True or False, got 1"):
        E.smoothgrad(model, X, n_samples=2, abs=1)
    np.testing.assert_array_equal(E.smoothgrad(model, X, n_samples=2, abs=np.True_),
                                  np.abs(E.smoothgrad(model, X, n_samples=2)))


def test_explanations_from_threads_share_a_model():
    """the network lends its kept workspace to one call at a time; calls
    from other threads meanwhile get their own, so results are unchanged"""
    model = make_model((200, 64, 32, 10), ("relu", "relu", "softmax"))
    X = data(400, 200)
    want_g, want_r = E.gradient(model, X), E.lrp(model, X)
    out = {}

    def work(i):
        for _ in range(5):
            out[i] = (E.gradient(model, X), E.lrp(model, X))
    run_threads(work, [(i,) for i in range(4)])
    assert len(out) == 4
    for g, r in out.values():
        np.testing.assert_array_equal(g, want_g)
        np.testing.assert_array_equal(r, want_r)


# ---------------------------------------------------------------- SmoothGrad, IG

@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_smoothgrad_matches_twin(dtype):
    model = make_model((11, 13, 4), ("relu", "softmax"), dtype)
    X = data(5, 11).astype(dtype)
    t = model.predict(X)
    n, sigma, seed = 7, 0.2, 123
    S = E.smoothgrad(model, X, n_samples=n, sigma=sigma, seed=seed)
    noises = [xnn._core.explain_noise(X, sigma, seed, s).astype(np.float64) for s in range(n)]
    want = ref.explain_gradient_sum(twin(model), X.astype(np.float64), None, t, np.ones(n),
                                    np.full(n, 1 / n), noises)
    close(S, want, dtype)
    np.testing.assert_array_equal(S, E.smoothgrad(model, X, n_samples=n, sigma=sigma, seed=seed))
    assert not np.array_equal(S, E.smoothgrad(model, X, n_samples=n, sigma=sigma, seed=seed + 1))


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("abs_", [False, True])
def test_smoothgrad_layers_match_twin(dtype, abs_):
    model = make_model((11, 13, 6, 4), ("relu", "tanh", "softmax"), dtype)
    X = data(5, 11).astype(dtype)
    t = model.predict(X)
    n, sigma, seed = 6, 0.2, 9
    got = E.smoothgrad(model, X, n_samples=n, sigma=sigma, seed=seed, abs=abs_, return_layers=True)
    noises = [xnn._core.explain_noise(X, sigma, seed, s).astype(np.float64) for s in range(n)]
    want = ref.explain_gradient_sum(twin(model), X.astype(np.float64), None, t, np.ones(n),
                                    np.full(n, 1 / n), noises, return_layers=True)
    assert [g.shape for g in got] == _layer_shapes(model, 5)
    for g, w in zip(got, want):
        close(g, np.abs(w) if abs_ else w, dtype)
    np.testing.assert_array_equal(got[0], E.smoothgrad(model, X, n_samples=n, sigma=sigma, seed=seed,
                                                       abs=abs_))


def test_noise_is_standard_normal():
    z = xnn._core.explain_noise(np.zeros((200, 500)), 1.0, 5, 0).ravel()
    assert abs(z.mean()) < 0.01 and abs(z.std() - 1) < 0.01


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_trapezoid", "riemann_left",
                                    "riemann_right", "riemann_middle"])
def test_integrated_gradients_matches_twin(method):
    model = make_model((9, 12, 8, 3), ("relu", "tanh", "softmax"))
    X = data(4, 9)
    B = data(1, 9, seed=7) * 0.1
    t = np.array([0, 1, 2, 1])
    from xnn.explain.gradients import ig_points
    a, w = ig_points(method, 10)
    A = E.integrated_gradients(model, X, t, baseline=B[0], steps=10, method=method)
    want = ref.explain_gradient_sum(twin(model), X, np.repeat(B, 4, 0), t, a, w, times_delta=True)
    close(A, want, np.float64)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_integrated_gradients_layers_match_twin(dtype):
    model = make_model((9, 12, 8, 3), ("relu", "tanh", "softmax"), dtype)
    X = data(4, 9)
    B = data(1, 9, seed=7) * 0.1
    t = np.array([0, 1, 2, 1])
    from xnn.explain.gradients import ig_points
    a, w = ig_points("gausslegendre", 8)
    got = E.integrated_gradients(model, X.astype(dtype), t, baseline=B[0], steps=8,
                                 return_layers=True)
    want = ref.explain_gradient_sum(twin(model), X, np.repeat(B, 4, 0), t, a, w,
                                    times_delta=True, return_layers=True)
    assert [g.shape for g in got] == _layer_shapes(model, 4)
    for g, v in zip(got, want):
        close(g, v, dtype)
    with_err = E.integrated_gradients(model, X.astype(dtype), t, baseline=B[0], steps=8,
                                      return_layers=True, return_error=True)
    assert isinstance(with_err[0], E.IntegratedGradients) and with_err[0].error.shape == (4,)
    np.testing.assert_array_equal(with_err[0], got[0])


def test_integrated_gradients_completeness_error_shrinks():
    model = make_model((10, 16, 12, 4), ("tanh", "sigmoid", "softmax"), bias=0.5)
    X = data(6, 10, low=-1)
    errs = [np.max(np.abs(E.integrated_gradients(model, X, steps=s, method="riemann_trapezoid",
                                                  return_error=True).error)) for s in (4, 16, 64)]
    assert errs[0] > errs[1] > errs[2]
    assert errs[2] < errs[0] / 50
    gl = E.integrated_gradients(model, X, steps=32, return_error=True)
    assert np.max(np.abs(gl.error)) < 1e-8
    np.testing.assert_allclose(gl.delta, E.score(model, X, gl.targets)
                               - E.score(model, np.zeros_like(X), gl.targets))


# ---------------------------------------------------------------- LRP

RULE_CASES = [
    [dict(rule="zero")],
    [dict(rule="epsilon", epsilon=0.1)],
    [dict(rule="gamma", gamma=0.25, epsilon=1e-6)],
    [dict(rule="alphabeta", alpha=2.0, beta=1.0, epsilon=1e-6)],
    [dict(rule="alphabeta", alpha=1.0, beta=0.0, epsilon=1e-6)],
    [dict(rule="flat", epsilon=1e-6)],
    [dict(rule="wsquare", epsilon=1e-6)],
]


def _rule_obj(d):
    d = dict(d)
    name = d.pop("rule")
    return rules.get(name, **d)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
@pytest.mark.parametrize("case", range(len(RULE_CASES)))
@pytest.mark.parametrize("bias", [True, False])
@pytest.mark.parametrize("low", [0.0, -1.0])
def test_lrp_rules_match_twin(case, dtype, bias, low):
    model = make_model((13, 17, 11, 4), ("relu", "tanh", "softmax"), dtype, bias=0.2)
    X = data(6, 13, low=low)
    t = np.array([0, 1, 2, 3, 0, 1])
    spec = RULE_CASES[case][0]
    rels = E.lrp(model, X.astype(dtype), t, rule=_rule_obj(spec), bias=bias, return_layers=True)
    want = ref.lrp(twin(model), X, t, [spec] * 3, bias=bias)
    assert len(rels) == 4
    # LRP-0 and LRP-γ (ε = 1e-6) divide by sums that can nearly cancel (a
    # tanh layer's outputs have both signs); float32's rounding of such a
    # sum is amplified by R / z (measured up to 1.3e-3 of the scale here),
    # so for them float32 is checked at 2e-3; every stabilised rule at 2e-6
    tol = 1000 if spec["rule"] in ("zero", "gamma") and dtype == np.float32 else 1
    for got, exp in zip(rels, want):
        assert got.dtype == dtype
        scale = max(1.0, float(np.max(np.abs(exp))))
        np.testing.assert_allclose(got, exp, rtol=0, atol=tol * TOL[dtype] * scale)


@pytest.mark.parametrize("start", ["logit", "onehot", "probability"])
def test_lrp_composites_and_starts_match_twin(start):
    model = make_model((16, 20, 12, 9, 5), ("relu", "relu", "relu", "softmax"), bias=0.2)
    X = data(5, 16)
    t = np.array([4, 3, 2, 1, 0])
    specs = [dict(rule="zbox", low=np.zeros(16), high=np.ones(16), epsilon=1e-6),
             dict(rule="gamma", gamma=0.25, epsilon=1e-6), dict(rule="gamma", gamma=0.25, epsilon=1e-6),
             dict(rule="epsilon", epsilon=1e-6)]
    got = E.lrp(model, X, t, composite="mlp-epsilon-gamma-box", start=start, return_layers=True)
    for g, w in zip(got, ref.lrp(twin(model), X, t, specs, start=start)):
        close(g, w, np.float64)
    # Zennit's preset by layer type: on an MLP every dense layer gets epsilon
    got = E.lrp(model, X, t, composite="epsilon-gamma-box", start=start)
    close(got, ref.lrp(twin(model), X, t, [dict(rule="epsilon", epsilon=1e-6)] * 4, start=start)[0],
          np.float64)
    mixed = [rules.Flat(), rules.ZPlus(), rules.WSquare(), rules.Zero()]
    specs = [dict(rule="flat", epsilon=1e-6), dict(rule="alphabeta", alpha=1.0, beta=0.0, epsilon=1e-6),
             dict(rule="wsquare", epsilon=1e-6), dict(rule="zero")]
    close(E.lrp(model, X, t, rule=mixed, start=start), ref.lrp(twin(model), X, t, specs, start=start)[0],
          np.float64)


def _mlp(n):
    return make_model(tuple(range(3 + n, 2, -1)), ("relu",) * (n - 1) + ("softmax",))


def test_composite_rules_per_layer():
    names = lambda rs: [type(x).__name__ if x is not None else None for x in rs]
    assert names(composites.get("mlp-epsilon-gamma-box").rules(_mlp(4))) == \
        ["ZBox", "Gamma", "Gamma", "Epsilon"]
    assert names(composites.get("poster").rules(_mlp(3))) == ["AlphaBeta", "Epsilon", "Zero"]
    assert names(composites.get("mlp-epsilon-plus").rules(_mlp(1))) == ["ZPlus"]
    c = composites.Composite(middle="epsilon", first="flat", layers={-1: rules.Zero()})
    assert names(c.rules(_mlp(3))) == ["Flat", "Epsilon", "Zero"]
    # Zennit's presets go by layer type: on an MLP, epsilon but the first of -flat
    assert names(composites.get("epsilon-plus").rules(_mlp(3))) == ["Epsilon"] * 3
    assert names(composites.get("epsilon-plus-flat").rules(_mlp(3))) == ["Flat", "Epsilon", "Epsilon"]
    assert names(composites.get("epsilon-gamma-box").rules(_mlp(2))) == ["Epsilon"] * 2
    L = xnn.layers
    cnn = xnn.Sequential([L.Conv2d(1, 2, 3, activation="relu"), L.MaxPool2d(2), L.Conv2d(2, 2, 1),
                          L.AvgPool2d(2), L.Flatten(), L.Dense(2, 3, activation="relu"),
                          L.Dense(3, 2)], input_shape=(1, 6, 6))
    assert names(composites.get("epsilon-gamma-box").rules(cnn)) == \
        ["ZBox", None, "Gamma", None, None, "Epsilon", "Epsilon"]
    assert composites.get("epsilon-gamma-box").rules(cnn)[2].generalized
    assert names(composites.get("epsilon-plus-flat").rules(cnn)) == \
        ["Flat", None, "ZPlus", None, None, "Epsilon", "Epsilon"]
    assert names(composites.get("epsilon-alpha2-beta1").rules(cnn)) == \
        ["AlphaBeta", None, "AlphaBeta", None, None, "Epsilon", "Epsilon"]
    for name in composites.PRESETS:
        model = make_model((16, 8, 6, 3), ("relu", "relu", "softmax"))
        R = E.lrp(model, data(3, 16), composite=name)
        assert R.shape == (3, 16) and np.all(np.isfinite(R))


def test_lrp0_is_gradient_times_input_on_zero_bias_relu():
    model = make_model((20, 30, 15, 6), ("relu", "relu", "softmax"), bias=0.0)
    X = data(8, 20)
    R = E.lrp(model, X, rule="zero")
    np.testing.assert_allclose(R, E.input_x_gradient(model, X), atol=1e-12)
    c = E.conservation(R, model, X)
    assert c.max_relative() < 1e-12
    np.testing.assert_allclose(c.start, E.score(model, X), atol=1e-12)


def test_epsilon_approaches_lrp0():
    model = make_model((20, 30, 15, 6), ("relu", "relu", "softmax"), bias=0.1)
    X = data(5, 20)
    R0 = E.lrp(model, X, rule="zero")
    errs = [np.max(np.abs(E.lrp(model, X, rule="epsilon", epsilon=e) - R0)) for e in (1e-1, 1e-3, 1e-6)]
    assert errs[0] > errs[1] > errs[2] and errs[2] < 1e-4 * np.max(np.abs(R0))


def test_conservation_epsilon_and_bias():
    model = make_model((20, 30, 15, 6), ("relu", "relu", "linear"), bias=0.0)
    X = data(5, 20)
    for bias in (True, False):
        R = E.lrp(model, X, rule="epsilon", epsilon=1e-9, bias=bias)
        assert E.conservation(R, model, X).max_relative() < 1e-6
    biased = make_model((20, 30, 15, 6), ("relu", "relu", "linear"), bias=0.3)
    rels = E.lrp(biased, X, rule="zero", return_layers=True)
    # per layer: what is lost is exactly the bias share sum_k b_k R_k / z_k
    assert abs(rels[0].sum() - rels[-1].sum()) > 1e-6


def test_zplus_nonnegative_and_conserving():
    model = make_model((20, 30, 15, 6), ("relu", "relu", "softmax"), bias=0.2)
    X = data(7, 20)
    t = np.arange(7) % 6
    for r in ("zplus", "alpha1beta0"):
        rels = E.lrp(model, X, t, rule=r, epsilon=0.0, start="onehot", bias=False,
                         return_layers=True)
        for R in rels:
            assert np.all(R >= 0)
        np.testing.assert_allclose(rels[0].sum(1), 1.0, atol=1e-9)


def test_gamma_zero_is_lrp0():
    model = make_model((12, 10, 4), ("relu", "softmax"), bias=0.2)
    X = data(4, 12)
    np.testing.assert_allclose(E.lrp(model, X, rule=rules.Gamma(0.0, epsilon=0.0)),
                               E.lrp(model, X, rule="zero"), atol=1e-12)


# ---------------------------------------------------------------- occlusion

def test_occlusion():
    model = make_model((16, 10, 3), ("relu", "softmax"))
    X = data(3, 16)
    t = np.array([0, 1, 2])
    A = E.occlusion(model, X, patch=2, stride=2, target=t)
    # by hand: each 2x2 block's drop, spread over its 4 pixels
    f = ref.explain_score(twin(model), X, t)
    want = np.zeros_like(X)
    for top in (0, 2):
        for left in (0, 2):
            mask = np.zeros((4, 4), bool)
            mask[top:top + 2, left:left + 2] = True
            Xo = X.copy()
            Xo[:, mask.ravel()] = 0
            want[:, mask.ravel()] = (f - ref.explain_score(twin(model), Xo, t))[:, None]
    np.testing.assert_allclose(A, want, atol=1e-12)
    A2 = E.occlusion(model, X.reshape(3, 4, 4), patch=(2, 1), stride=1, target=t, baseline=0.5)
    assert A2.shape == (3, 4, 4)


# ---------------------------------------------------------------- errors

def test_errors_are_clear():
    model = make_model((8, 5, 3), ("relu", "softmax"))
    X = data(4, 8)
    with pytest.raises(ValueError, match=r"target: expected a class in \[0, 3\), got 3"):
        E.saliency(model, X, target=3)
    with pytest.raises(ValueError, match=r"target: expected one class per row"):
        E.lrp(model, X, target=[0, 1])
    with pytest.raises(ValueError, match=r"target: expected classes in \[0, 3\), got -1"):
        E.lrp(model, X, target=[0, 1, 2, -1])
    with pytest.raises(TypeError, match="target"):
        E.lrp(model, X, target=1.5)
    with pytest.raises(ValueError, match="rule: expected"):
        E.lrp(model, X, rule="nope")
    with pytest.raises(ValueError, match="zbox is for the layer that reads the input"):
        E.lrp(model, X, rule="zbox")
    with pytest.raises(ValueError, match="rule: expected one entry per layer"):
        E.lrp(model, X, rule=["zero"])
    with pytest.raises(ValueError, match="composite: expected"):
        E.lrp(model, X, composite="nope")
    with pytest.raises(ValueError, match="start: expected"):
        E.lrp(model, X, start="loss")
    with pytest.raises(ValueError, match="epsilon: expected a number >= 0"):
        E.lrp(model, X, rule="epsilon", epsilon=-1)
    with pytest.raises(ValueError, match="X: expected 8 columns"):
        E.saliency(model, np.zeros((2, 7)))
    with pytest.raises(ValueError, match="output: expected"):
        E.gradient(model, X, output="nope")
    with pytest.raises(ValueError, match="baseline"):
        E.integrated_gradients(model, X, baseline=np.zeros(5))
    with pytest.raises(ValueError, match="method: expected"):
        E.integrated_gradients(model, X, method="simpson")
    lin = make_model((8, 3), ("linear",))
    with pytest.raises(ValueError, match="softmax output"):
        E.saliency(lin, X, output="loss")
    with pytest.raises(TypeError, match="model: expected an xnn.Sequential"):
        E.lrp("model", X)
    # the binding itself is strict
    net = model._network()
    core = xnn._core
    with pytest.raises(TypeError, match="X: expected dtype float64"):
        core.explain_gradient(net, X.astype(np.float32), np.zeros(4, np.int64), 0, 0)
    with pytest.raises(ValueError, match="targets: expected size 4"):
        core.explain_gradient(net, X, np.zeros(3, np.int64), 0, 0)
    with pytest.raises(ValueError, match=r"targets: expected classes in \[0, 3\)"):
        core.lrp(net, X, np.full(4, 7, np.int64), [(1, 0.0, 0.0, 0.0, 0.0)] * 2, None, None, 0, bias=True)
    with pytest.raises(ValueError, match=r"rules: expected one rule tuple per node \(2\)"):
        core.lrp(net, X, np.zeros(4, np.int64), [(1, 0.0, 0.0, 0.0, 0.0)], None, None, 0, bias=True)
    with pytest.raises(ValueError, match="zbox needs both bounds"):
        core.lrp(net, X, np.zeros(4, np.int64), [(4, 0.0, 0.0, 0.0, 0.0), (1, 0.0, 0.0, 0.0, 0.0)],
                 None, None, 0, bias=True)
    with pytest.raises(ValueError, match="targets: expected classes in"):
        core.explain_gradient_sum(net, X, None, np.full(4, -1, np.int64), np.ones(2), np.ones(2),
                                  0.0, 0, 0, 0, False)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_one_row_products_same_bits_on_every_isa(dtype):
    """The one-row paths are compiled for the baseline and AVX2; same bits."""
    model = make_model((37, 21, 10), ("relu", "softmax"), dtype)
    X = data(1, 37).astype(dtype)
    X[0, ::3] = 0
    got = {}
    for name in ("ref", "avx2"):    # the conftest fixture restores the ISA
        if not xnn._core.cpu_has(name):
            continue
        xnn._core.set_isa(name)
        got[name] = (E.saliency(model, X), E.lrp(model, X), E.input_x_gradient(model, X))
    for v in got.values():
        for a, b in zip(v, got["ref"]):
            np.testing.assert_array_equal(a, b)


def test_cached_network_follows_the_model():
    """Explanations reuse the model's C Network: in-place updates (fit,
    set_weights) are seen, replaced arrays or activations make a new one,
    and copies of the model carry no C object."""
    import copy
    import pickle
    model = make_model((6, 5, 3), ("relu", "softmax"))
    X = data(4, 6)
    t = np.array([0, 1, 2, 0])
    want = lambda: ref.explain_gradient(twin(model), X, t)  # noqa: E731
    close(E.gradient(model, X, t), want(), np.float64)
    model.set_weights([w * 2 for w in model.get_weights()])
    close(E.gradient(model, X, t), want(), np.float64)
    model.layers[0].W = model.layers[0].W[::-1].copy()
    close(E.gradient(model, X, t), want(), np.float64)
    model.layers[0].activation = "tanh"
    close(E.gradient(model, X, t), want(), np.float64)
    for other in (copy.deepcopy(model), pickle.loads(pickle.dumps(model))):
        np.testing.assert_array_equal(E.gradient(other, X, t), E.gradient(model, X, t))
        other.layers[1].W[...] = 0
        assert np.all(E.gradient(other, X, t) == 0) and np.any(E.gradient(model, X, t) != 0)


@pytest.mark.parametrize("dtype", [np.float64, np.float32])
def test_same_bits_for_any_thread_count(dtype):
    """Large batches run the elementwise passes in threads: rows are split,
    nothing is reduced across threads, so the bits do not change."""
    model = make_model((300, 64, 32, 10), ("relu", "relu", "softmax"), dtype)
    X = data(1200, 300).astype(dtype)
    got = []
    for threads in (1, 2, 3):       # the conftest fixture restores the count
        xnn.set_num_threads(threads)
        got.append((E.saliency(model, X), E.lrp(model, X), E.guided_backprop(model, X),
                    E.input_x_gradient(model, X)))
    for other in got[1:]:
        for a, b in zip(other, got[0]):
            np.testing.assert_array_equal(a, b)
