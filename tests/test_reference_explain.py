"""The explanation twins on CNNs (xnn.reference): gradients against finite
differences, and the identities LRP, DeepLIFT and CAM must satisfy."""
import numpy as np
import pytest

from xnn import reference as R


def w(rng, *shape):
    fan_in = np.prod(shape[1:]) if len(shape) > 2 else shape[0]
    return rng.normal(size=shape) / np.sqrt(fan_in)


def cnn(rng, act="relu", bias=0.1, pool="maxpool2d"):
    """conv-act-pool-conv-act-avgpool-flatten-dense-act-dense on (2, 9, 9)"""
    return [{"op": "conv2d", "W": w(rng, 3, 2, 3, 3), "b": bias * rng.normal(size=3), "act": act, "padding": 1},
            {"op": pool, "kernel": 2, "stride": 1},
            {"op": "conv2d", "W": w(rng, 4, 3, 3, 3), "b": bias * rng.normal(size=4), "act": act, "stride": 2},
            {"op": "avgpool2d", "kernel": 2, "stride": 1}, {"op": "flatten"},
            {"op": "dense", "W": w(rng, 16, 5), "b": bias * rng.normal(size=5), "act": act},
            {"op": "dense", "W": w(rng, 5, 3), "b": bias * rng.normal(size=3), "act": "softmax"}]


def cnn1d(rng, act="relu", bias=0.1):
    return [{"op": "conv1d", "W": w(rng, 3, 2, 3), "b": bias * rng.normal(size=3), "act": act, "padding": 2},
            {"op": "maxpool1d", "kernel": 2}, {"op": "avgpool1d", "kernel": 2, "stride": 1},
            {"op": "conv1d", "W": w(rng, 4, 3, 3), "b": bias * rng.normal(size=4), "act": act},
            {"op": "gap1d"}, {"op": "dense", "W": w(rng, 4, 3), "b": bias * rng.normal(size=3), "act": "softmax"}]


def gap_net(rng, bias=0.1):
    return [{"op": "conv2d", "W": w(rng, 3, 1, 3, 3), "b": bias * rng.normal(size=3), "act": "relu", "padding": 1},
            {"op": "conv2d", "W": w(rng, 5, 3, 3, 3), "b": bias * rng.normal(size=5), "act": "relu"},
            {"op": "gap2d"}, {"op": "dense", "W": w(rng, 5, 4), "b": bias * rng.normal(size=4), "act": "softmax"}]


def fd(f, X, h=1e-6):
    """central differences of the per-row score f (m,) at X, row by row"""
    G = np.zeros_like(X)
    flat = X.reshape(X.shape[0], -1)
    for i in range(flat.shape[1]):
        d = np.zeros_like(flat)
        d[:, i] = h
        G.reshape(X.shape[0], -1)[:, i] = (f((flat + d).reshape(X.shape)) - f((flat - d).reshape(X.shape))) / (2 * h)
    return G


@pytest.mark.parametrize("make,shape", [(cnn, (3, 2, 9, 9)), (cnn1d, (3, 2, 11))])
@pytest.mark.parametrize("output", ["logit", "probability", "loss"])
def test_gradient_is_derivative(make, shape, output, rng):
    net = make(rng, act="tanh")
    X = rng.normal(size=shape)
    t = np.array([0, 1, 2])
    G = R.explain_gradient(net, X, t, output)
    np.testing.assert_allclose(G, fd(lambda x: R.explain_score(net, x, t, output), X), rtol=1e-6, atol=1e-8)


@pytest.mark.parametrize("layer,unit", [(0, 2), (1, 1), (2, 3), (3, 0), (5, 4)])
def test_gradient_of_a_unit_is_derivative(layer, unit, rng):
    """start_layer/unit: a dense neuron, or a channel's mean over positions"""
    net = cnn(rng, act="tanh")
    X = rng.normal(size=(2, 2, 9, 9))
    Gs = R.explain_gradient(net, X, None, start_layer=layer, unit=unit, return_layers=True)
    score = lambda x: R.explain_score(net, x, None, start_layer=layer, unit=unit)  # noqa: E731
    np.testing.assert_allclose(Gs[0], fd(score, X), rtol=1e-6, atol=1e-8)
    As = R.network_forward(net, X)[1]
    assert len(Gs) == layer + 2 and Gs[-1].shape == As[layer].shape
    for l in range(1, layer + 1):
        assert Gs[l].shape == As[l - 1].shape
    with pytest.raises(ValueError, match="output"):
        R.explain_gradient(net, X, None, "probability", start_layer=layer, unit=unit)
    with pytest.raises(ValueError, match="unit"):
        R.explain_gradient(net, X, None, start_layer=layer, unit=99)


def test_return_layers_shapes_and_times_input(rng):
    net = cnn(rng)
    X = rng.uniform(size=(2, 2, 9, 9))
    Gs = R.explain_gradient(net, X, [0, 1], return_layers=True)
    Zs, As = R.network_forward(net, X)
    assert [g.shape for g in Gs] == [X.shape] + [a.shape for a in As[:-1]] + [Zs[-1].shape]
    GxI = R.explain_gradient(net, X, [0, 1], return_layers=True, times_input=True)
    for a, b, v in zip(GxI, Gs, [X] + As[:-1] + [Zs[-1]]):
        np.testing.assert_array_equal(a, b * v)


@pytest.mark.parametrize("pool", ["maxpool2d", "avgpool2d"])
def test_lrp0_is_gradient_times_input_on_zero_bias_relu_cnn(pool, rng):
    net = cnn(rng, bias=0.0, pool=pool)
    X = rng.uniform(size=(3, 2, 9, 9))
    t = np.array([0, 1, 2])
    rules = [dict(rule="zero") if ly["op"] in R.PARAMETRIC else {"epsilon": 0.0} for ly in net]
    Rs = R.lrp(net, X, t, rules)
    np.testing.assert_allclose(Rs[0], R.explain_gradient(net, X, t, times_input=True), rtol=0, atol=1e-12)
    # and conservation, layer by layer, to the logit
    logit = R.network_forward(net, X)[0][-1][np.arange(3), t]
    for r in Rs:
        np.testing.assert_allclose(r.reshape(3, -1).sum(axis=1), logit, rtol=1e-12)


@pytest.mark.parametrize("make,shape", [(cnn, (3, 2, 9, 9)), (cnn1d, (3, 2, 11)), (gap_net, (3, 1, 9, 9))])
def test_lrp_epsilon_absorbs_exactly_its_share(make, shape, rng):
    """zero bias: each dense/conv layer passes sum_k R_k z_k / (z_k + ε sign z_k)
    and each average pool sum R f(a) / stab(f(a)); max pool and flatten all"""
    net = R.as_network(make(rng, bias=0.0))
    X = rng.uniform(size=shape)
    t = np.array([0, 1, 2])
    eps = 1e-3
    Rs = R.lrp(net, X, t, [dict(rule="epsilon", epsilon=eps) if ly["op"] in R.PARAMETRIC
                           else {"epsilon": eps} for ly in net])
    Zs, As = R.network_forward(net, X)
    for l, ly in enumerate(net):
        z = Zs[l] if ly["op"] in R.PARAMETRIC or "avg" in ly["op"] or "gap" in ly["op"] else None
        top = Rs[l + 1].reshape(3, -1)
        want = top.sum(1) if z is None else (top * z.reshape(3, -1) / (z.reshape(3, -1) + eps * np.where(
            z.reshape(3, -1) >= 0, 1, -1))).sum(1)
        np.testing.assert_allclose(Rs[l].reshape(3, -1).sum(1), want, rtol=1e-12, atol=1e-14)


def test_zplus_is_non_negative_on_non_negative_inputs(rng):
    net = cnn(rng)
    X = rng.uniform(size=(4, 2, 9, 9))
    rules = [dict(rule="alphabeta", alpha=1.0, beta=0.0) if ly["op"] in R.PARAMETRIC else None
             for ly in R.as_network(net)]
    for start in ("onehot", "probability"):
        for r in R.lrp(net, X, [0, 1, 2, 0], rules, start=start):
            assert r.min() >= 0
    r = R.lrp(net, X, [0, 1, 2, 0], rules, start="onehot")[0]
    assert r.sum() > 0


def test_lrp_from_a_unit_starts_at_its_values(rng):
    net = R.as_network(cnn(rng, bias=0.0, pool="avgpool2d"))
    X = rng.uniform(size=(2, 2, 9, 9))
    rules = [dict(rule="zero") if ly["op"] in R.PARAMETRIC else {"epsilon": 0.0} for ly in net]
    As = R.network_forward(net, X)[1]
    Rs = R.lrp(net, X, None, rules, start_layer=2, unit=1)
    assert len(Rs) == 4
    start = np.zeros_like(As[2])
    start[:, 1] = As[2][:, 1]
    np.testing.assert_array_equal(Rs[-1], start)
    # LRP-0 of a positive-homogeneous unit: gradient × input of its summed channel
    G = R.explain_gradient(net, X, None, start_layer=2, unit=1, times_input=True)
    np.testing.assert_allclose(Rs[0], G * As[2][0, 1].size, rtol=0, atol=1e-12)


def test_flat_on_conv_counts_only_in_bounds_taps(rng):
    net = cnn(rng)
    X = rng.uniform(size=(2, 2, 9, 9))
    rules = [dict(rule="flat")] + [dict(rule="epsilon") if ly["op"] in R.PARAMETRIC else None
                                   for ly in R.as_network(net)[1:]]
    Rs = R.lrp(net, X, [0, 1], rules)
    # a flat layer's relevance depends on nothing but the layer's connections
    conn = R.conv2d_as_dense(np.ones((3, 2, 3, 3)), None, (2, 9, 9), 1, 1)[0]
    top = Rs[1].reshape(2, -1)
    want = (top / (conn.sum(0) + 1e-6)) @ conn.T
    np.testing.assert_allclose(Rs[0].reshape(2, -1), want, rtol=1e-13)
    assert not np.allclose(Rs[0][:, :, 0, 0], Rs[0][:, :, 4, 4])    # corners have fewer taps


def test_zennit_preset_rules_by_layer(rng):
    net = cnn(rng)
    r = R.zennit_preset(net, "epsilon_gamma_box", low=0.0, high=1.0)
    assert r[0]["rule"] == "zbox" and r[2] == dict(rule="gamma", gamma=0.25, generalized=True, epsilon=1e-6)
    assert r[1] is None and r[3] == {"epsilon": 1e-6} and r[4] is None
    assert r[5] == r[6] == dict(rule="epsilon", epsilon=1e-6)
    mlp = [(w(rng, 4, 3), np.zeros(3), "relu"), (w(rng, 3, 2), np.zeros(2), "softmax")]
    assert R.zennit_preset(mlp, "epsilon-gamma-box", low=0, high=1) == [dict(rule="epsilon", epsilon=1e-6)] * 2
    assert R.zennit_preset(mlp, "epsilon_plus_flat")[0] == dict(rule="flat", epsilon=1e-6)
    assert R.zennit_preset(mlp, "epsilon_plus", zero_params=["bias"])[1] == dict(rule="epsilon", epsilon=1e-6,
                                                                                bias=False)
    with pytest.raises(ValueError, match="preset"):
        R.zennit_preset(mlp, "epsilon_gamma")


def test_generalized_gamma_is_the_textbook_rule_for_positive_inputs_and_outputs(rng):
    A = rng.uniform(size=(4, 6))
    W = rng.normal(size=(6, 5))
    b = 0.1 * rng.normal(size=5)
    W[:, 0] = np.abs(W[:, 0])       # output 0 surely positive, the rest of either sign
    Rt = rng.normal(size=(4, 5))
    pos = (A @ W + b) > 0
    g = R.lrp_layer(A, W, b, Rt * pos, "gamma", gamma=0.3, generalized=True)
    t = R.lrp_layer(A, W, b, Rt * pos, "gamma", gamma=0.3)
    np.testing.assert_allclose(g, t, rtol=1e-12, atol=1e-15)
    assert not np.allclose(R.lrp_layer(A, W, b, Rt, "gamma", generalized=True), R.lrp_layer(A, W, b, Rt, "gamma"))


# ---------------------------------------------------------------- DeepLIFT

def test_deeplift_on_a_linear_model_is_gradient_times_delta(rng):
    net = cnn(rng, act="linear", pool="avgpool2d")
    X, B = rng.normal(size=(3, 2, 9, 9)), rng.normal(size=(3, 2, 9, 9))
    t = np.array([0, 1, 2])
    attr, err = R.deeplift(net, X, B, t)
    np.testing.assert_allclose(attr, R.explain_gradient(net, X, t) * (X - B), rtol=0, atol=1e-14)
    np.testing.assert_allclose(err, 0, atol=1e-13)


@pytest.mark.parametrize("make,shape,mode", [(cnn, (3, 2, 9, 9), "rescale"), (cnn1d, (3, 2, 11), "rescale"),
                                             (gap_net, (3, 1, 9, 9), "captum")])
def test_deeplift_sums_to_the_score_difference(make, shape, mode, rng):
    net = make(rng)
    X, B = rng.uniform(size=shape), 0.3 * rng.uniform(size=shape)
    t = np.array([0, 1, 2])
    attr, err = R.deeplift(net, X, B, t, maxpool=mode)
    Z = R.network_forward(net, X)[0][-1][np.arange(3), t] - R.network_forward(net, B)[0][-1][np.arange(3), t]
    np.testing.assert_allclose(attr.reshape(3, -1).sum(1), Z, rtol=1e-12, atol=1e-14)
    np.testing.assert_allclose(err, 0, atol=1e-13)
    shap, errs = R.deep_shap(net, X, B, t, maxpool=mode)
    assert errs.shape == (9,)
    np.testing.assert_allclose(errs, 0, atol=1e-13)


# ---------------------------------------------------------------- CAM

def test_cam_and_grad_cam_on_a_gap_net(rng):
    net = gap_net(rng)
    X = rng.uniform(size=(3, 1, 9, 9))
    t = np.array([3, 1, 0])
    maps = R.cam(net, X, t, 1)
    assert maps.shape == (3, 7, 7)
    logit = R.network_forward(net, X)[0][-1][np.arange(3), t]
    np.testing.assert_allclose(maps.mean(axis=(1, 2)) + net[-1]["b"][t], logit, rtol=1e-12)
    # Grad-CAM's weights are the dense weights over the number of positions
    np.testing.assert_allclose(R.grad_cam(net, X, t, 1, relu=False), maps / 49, rtol=1e-12, atol=1e-15)
    with pytest.raises(ValueError, match="gap"):
        R.cam(net, X, t, 0)
    with pytest.raises(ValueError, match="spatial"):
        R.grad_cam(net, X, t, 2)
