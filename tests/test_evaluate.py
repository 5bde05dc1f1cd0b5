"""xnn.evaluate: pixel flipping and region perturbation on models whose
curves are known exactly, faithfulness correlation, infidelity and
sensitivity_max (against closed forms and Captum, float64), the
randomisation sanity checks, and their plots."""
import warnings

import numpy as np
import pytest
from _deps import require

import xnn
import xnn.evaluate as EV
from xnn.explain import _perturb

W6 = np.array([6.0, 5, 4, 3, 2, 1])


def linear_two_class(w=W6, hidden=False):
    """Logits (x.w, 0): the class-0 logit is linear in x. hidden=True puts
    an identity ReLU layer in front (the same function on x >= 0), so the
    removal curves run through the first-layer path."""
    d = len(w)
    out = np.stack([w, np.zeros(d)], axis=1)
    if not hidden:
        model = xnn.Sequential([xnn.layers.Dense(d, 2, activation="softmax")], dtype="float64")
        model.set_weights([out, np.zeros(2)])
        return model
    model = xnn.Sequential([xnn.layers.Dense(d, d, activation="relu"),
                            xnn.layers.Dense(d, 2, activation="softmax")], dtype="float64")
    model.set_weights([np.eye(d), np.zeros(d), out, np.zeros(2)])
    return model


def softmax2(z0):
    p0 = 1 / (1 + np.exp(-z0))
    return np.stack([p0, 1 - p0], axis=-1)


def confidence(P):
    s = np.sort(P, axis=-1)
    return (s[..., -1] - s[..., -2]) / s[..., -1]


@pytest.fixture(scope="module")
def digits_model():
    X, y = xnn.datasets.load_digits(dtype=np.float64)
    model = xnn.Sequential([xnn.layers.Dense(64, 32, activation="relu"),
                            xnn.layers.Dense(32, 16, activation="relu"),
                            xnn.layers.Dense(16, 10, activation="softmax")], seed=0, dtype="float64")
    model.fit(X[:1000], y[:1000], epochs=15, batch_size=64, lr=0.1, verbose=0)
    return model, X[1000:1040]


# ---------------------------------------------------------------- pixel flipping
@pytest.mark.parametrize("hidden", [False, True])
def test_pixel_flipping_exact_curves(hidden):
    model = linear_two_class(hidden=hidden)
    x = np.ones((1, 6))
    R = W6 * x                                       # input x gradient: the order 0, 1, ..., 5
    c = EV.pixel_flipping(model, x, R, target=0)
    z = np.array([21.0, 15, 10, 6, 3, 1, 0])         # sum of the weights still present
    np.testing.assert_allclose(c.logits[0], z, rtol=0, atol=1e-12)
    P = softmax2(z)
    np.testing.assert_allclose(c.probabilities[0], P[:, 0], rtol=0, atol=1e-15)
    np.testing.assert_allclose(c.confidence[0], confidence(P), rtol=0, atol=1e-14)
    with np.errstate(divide="ignore", invalid="ignore"):
        np.testing.assert_allclose(c.confidence_logits[0, :-1], 1.0, rtol=0, atol=0)  # (z - 0) / z
    np.testing.assert_array_equal(c.removed, np.arange(7))
    np.testing.assert_allclose(c.fraction, np.arange(7) / 6)
    np.testing.assert_array_equal(c.predictions[0], [0] * 6 + [0])   # ties go to class 0
    lerf = EV.pixel_flipping(model, x, R, target=0, order="lerf")
    np.testing.assert_allclose(lerf.logits[0], [21.0, 20, 18, 15, 11, 6, 0], rtol=0, atol=1e-12)
    two = EV.pixel_flipping(model, x, R, target=0, pixels_per_step=2)
    np.testing.assert_allclose(two.logits[0], [21.0, 10, 3, 0], rtol=0, atol=1e-12)
    assert two.aopc("logit") == pytest.approx(np.mean(21.0 - np.array([21.0, 10, 3, 0])), abs=1e-12)
    np.testing.assert_allclose(two.aopc("logit", per_image=True), [two.aopc("logit")])
    short = EV.pixel_flipping(model, x, R, target=0, pixels_per_step=4, steps=1)
    np.testing.assert_allclose(short.logits[0], [21.0, 3], rtol=0, atol=1e-12)
    half = EV.pixel_flipping(model, x, R, target=0, baseline=0.5)
    np.testing.assert_allclose(half.logits[0], 0.5 * 21 + 0.5 * z, rtol=0, atol=1e-12)


def test_pixel_flipping_paths_agree_on_a_trained_model(digits_model, monkeypatch):
    model, X = digits_model
    R = xnn.explain.lrp(model, X, rule="epsilon")
    a = EV.pixel_flipping(model, X, R, pixels_per_step=4)
    monkeypatch.setattr(_perturb, "USE_FIRST_LAYER", False)
    b = EV.pixel_flipping(model, X, R, pixels_per_step=4)
    for k in ("logit", "probability", "confidence"):
        np.testing.assert_allclose(a.curve(k), b.curve(k), rtol=0, atol=1e-12)
    np.testing.assert_allclose(a.logits[:, 0], xnn.explain.score(model, X), rtol=0, atol=1e-12)
    r = EV.pixel_flipping(model, X, R, pixels_per_step=4, order="random", seed=1)
    assert a.aopc() > r.aopc() > EV.pixel_flipping(model, X, R, pixels_per_step=4,
                                                   order="lerf").aopc()


def test_region_perturbation_exact_curve():
    w = np.arange(16.0)
    model = linear_two_class(w)
    x = np.ones((1, 4, 4))
    # patches of 2 x 2: sums of w 10, 18, 42, 50 -> MoRF removes 3, 2, 1, 0
    c = EV.region_perturbation(model, x, w.reshape(1, 4, 4), target=0, patch=2, baseline=0.0)
    np.testing.assert_allclose(c.logits[0], [120.0, 70, 28, 10, 0], rtol=0, atol=1e-12)
    np.testing.assert_array_equal(c.removed, [0, 4, 8, 12, 16])
    c2 = EV.region_perturbation(model, x.reshape(1, 16), w, target=0, patch=(2, 4), baseline=0.0,
                                shape=(4, 4))
    np.testing.assert_allclose(c2.logits[0], [120.0, 28, 0], rtol=0, atol=1e-12)  # halves: 28, 92
    noise = EV.region_perturbation(model, x, w.reshape(1, 4, 4), target=0, patch=2, seed=3)
    u = np.random.default_rng(3).uniform(0, 1, size=16)
    np.testing.assert_allclose(noise.logits[0, -1], u @ w, rtol=0, atol=1e-12)


def test_removal_curves_seeded_and_thread_independent(digits_model):
    model, X = digits_model
    R = xnn.explain.gradient(model, X)
    runs = []
    for n in (1, 2):
        xnn.set_num_threads(n)
        runs.append([EV.pixel_flipping(model, X, R, pixels_per_step=8, order="random",
                                       baseline="uniform", seed=4).probabilities,
                     EV.region_perturbation(model, X, R, patch=2, seed=4).logits,
                     EV.faithfulness_correlation(model, X, R, n_subsets=20, seed=4).correlation,
                     EV.infidelity(model, X, R, seed=4, normalize=True),
                     EV.sensitivity_max("gradient", model, X, radius=0.2, seed=4),
                     EV.randomization_check(model, X[:5], "saliency", seed=4).ssim])
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)
    other = EV.pixel_flipping(model, X, R, pixels_per_step=8, order="random", seed=5)
    assert not np.array_equal(other.probabilities, runs[0][0])


def test_removal_curves_bad_inputs(digits_model):
    model, X = digits_model
    R = np.ones_like(X)
    with pytest.raises(ValueError, match="R"):
        EV.pixel_flipping(model, X, R[:3])
    with pytest.raises(ValueError, match="R"):
        EV.pixel_flipping(model, X, R[:, :10])
    with pytest.raises(ValueError, match="finite"):
        EV.pixel_flipping(model, X, np.full_like(X, np.nan))
    with pytest.raises(ValueError, match="does not divide"):
        EV.pixel_flipping(model, X, R, pixels_per_step=7)
    with pytest.raises(ValueError, match="steps"):
        EV.pixel_flipping(model, X, R, pixels_per_step=7, steps=10)
    with pytest.raises(ValueError, match="pixels_per_step"):
        EV.pixel_flipping(model, X, R, pixels_per_step=65)
    with pytest.raises(ValueError, match="order"):
        EV.pixel_flipping(model, X, R, order="best")
    with pytest.raises(ValueError, match="baseline"):
        EV.pixel_flipping(model, X, R, baseline=np.zeros(5))
    with pytest.raises(ValueError, match="baseline"):
        EV.pixel_flipping(model, X, R, baseline="gaussian")
    with pytest.raises(ValueError, match="noise_range"):
        EV.pixel_flipping(model, X, R, noise_range=(0, 2))
    with pytest.raises(ValueError, match="noise_range"):
        EV.pixel_flipping(model, X, R, baseline="uniform", noise_range=(1, 0))
    with pytest.raises(ValueError, match="patch"):
        EV.region_perturbation(model, X, R, patch=3)
    with pytest.raises(ValueError, match="does not divide"):
        EV.region_perturbation(model, X, R, patch=2, regions_per_step=3)
    with pytest.raises(ValueError, match="shape"):
        EV.region_perturbation(model, X, R, shape=(4, 4))
    with pytest.raises(ValueError, match="kind"):
        EV.pixel_flipping(model, X, R).curve("loss")


# ---------------------------------------------------------------- faithfulness correlation
def test_faithfulness_correlation_is_one_for_exact_attributions():
    """A linear logit with R = x * w and baseline 0: each score drop is the
    attribution sum of the subset."""
    rng = np.random.default_rng(0)
    w = rng.normal(size=20)
    model = linear_two_class(w)
    X = rng.random((3, 20))
    fc = EV.faithfulness_correlation(model, X, X * w, target=0, n_subsets=30, subset_size=5)
    np.testing.assert_allclose(fc.score_drops, fc.attribution_sums, rtol=0, atol=1e-12)
    np.testing.assert_allclose(fc.correlation, 1.0, rtol=0, atol=1e-12)
    assert fc.subsets.shape == (3, 30, 5) and fc.mean == pytest.approx(1.0)
    assert all(len(set(s)) == 5 for s in fc.subsets.reshape(-1, 5).tolist())
    neg = EV.faithfulness_correlation(model, X, -X * w, target=0, n_subsets=30, subset_size=0.25)
    np.testing.assert_allclose(neg.correlation, -1.0, rtol=0, atol=1e-12)
    with pytest.raises(ValueError, match="subset_size"):
        EV.faithfulness_correlation(model, X, X, subset_size=21)
    with pytest.raises(ValueError, match="subset_size"):
        EV.faithfulness_correlation(model, X, X, subset_size=1.5)
    with pytest.raises(ValueError, match="n_subsets"):
        EV.faithfulness_correlation(model, X, X, n_subsets=1)
    with pytest.raises(ValueError, match="output"):
        EV.faithfulness_correlation(model, X, X, output="loss")


# ---------------------------------------------------------------- infidelity, sensitivity
def test_infidelity_and_sensitivity_closed_forms(digits_model):
    rng = np.random.default_rng(1)
    w = rng.normal(size=12)
    model = linear_two_class(w)
    X = rng.random((4, 12))
    G = np.broadcast_to(w, X.shape)                  # the exact gradient of the class-0 logit
    assert np.all(EV.infidelity(model, X, G, target=0) < 1e-24)
    I = rng.normal(size=(5, 12))
    np.testing.assert_allclose(EV.infidelity(model, X, 2 * G, target=0, perturbations=I),
                               ((I @ w) ** 2).mean(), rtol=1e-12)
    scale = ((I @ w) ** 2).sum()          # the expansion cancels terms of this size
    np.testing.assert_allclose(EV.infidelity(model, X, 2 * G, target=0, perturbations=I,
                                             normalize=True), 0.0, atol=1e-14 * scale)
    np.testing.assert_array_equal(EV.sensitivity_max("gradient", model, X, target=0), 0.0)
    model, Xd = digits_model
    Gd = xnn.explain.gradient(model, Xd)
    a = EV.infidelity(model, Xd, Gd, normalize=True, seed=2)
    np.testing.assert_allclose(EV.infidelity(model, Xd, 3 * Gd, normalize=True, seed=2), a, rtol=1e-10)
    np.testing.assert_array_equal(a, EV.infidelity(model, Xd, Gd, normalize=True, seed=2))
    s = EV.sensitivity_max("saliency", model, Xd, radius=0.2, seed=1)
    assert s.shape == (40,) and np.all(s >= 0) and s.max() > 0
    calls = []

    def method(model, X, target):
        calls.append(X.shape[0])
        return xnn.explain.gradient(model, X, target)
    np.testing.assert_array_equal(EV.sensitivity_max(method, model, Xd, radius=0.2, seed=1),
                                  EV.sensitivity_max("gradient", model, Xd, radius=0.2, seed=1))
    assert calls == [40, 400]                         # the clean rows, then every perturbed row at once


def test_infidelity_and_sensitivity_bad_inputs(digits_model):
    model, X = digits_model
    G = np.zeros_like(X)
    with pytest.raises(ValueError, match="noise_std"):
        EV.infidelity(model, X, G, perturbations=np.zeros((3, 64)), noise_std=0.1)
    with pytest.raises(ValueError, match="n_perturb"):
        EV.infidelity(model, X, G, perturbations=np.zeros((3, 64)), n_perturb=3)
    with pytest.raises(ValueError, match="perturbations"):
        EV.infidelity(model, X, G, perturbations=np.zeros((3, 10)))
    with pytest.raises(TypeError, match="normalize"):
        EV.infidelity(model, X, G, normalize="yes")
    with pytest.raises(ValueError, match="R"):
        EV.infidelity(model, X, G[:2])
    with pytest.raises(ValueError, match="radius"):
        EV.sensitivity_max("gradient", model, X, perturbations=np.zeros((2, 64)), radius=0.1)
    with pytest.raises(ValueError, match="method"):
        EV.sensitivity_max("gradcam", model, X)
    with pytest.raises(TypeError, match="method"):
        EV.sensitivity_max(3, model, X)
    with pytest.raises(ValueError, match="norm"):
        EV.sensitivity_max("gradient", model, X, norm="nuc")
    with pytest.raises(ValueError, match="shaped like X"):
        EV.sensitivity_max(lambda model, X, target: np.zeros(3), model, X)


def torch_twin(model):
    torch = require("torch")
    mods = []
    for i, ly in enumerate(model.layers):
        lin = torch.nn.Linear(ly.n_in, ly.n_out).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(ly.W.T.copy()))
            lin.bias.copy_(torch.from_numpy(ly.b.copy()))
        mods.append(lin)
        if i < len(model.layers) - 1:
            mods.append(torch.nn.ReLU())
    return torch, torch.nn.Sequential(*mods).eval()


@pytest.mark.parametrize("normalize", [False, True])
def test_infidelity_equals_captum(digits_model, normalize):
    model, X = digits_model
    torch, tm = torch_twin(model)
    metrics = require("captum.metrics")
    G = xnn.explain.gradient(model, X) * np.random.default_rng(0).random(X.shape)
    t = model.predict(X)
    I = np.random.default_rng(5).normal(0, 0.1, size=(40, 7, 64))

    def perturb(inputs):
        It = torch.from_numpy(I.reshape(-1, 64))
        return It, inputs - It
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = metrics.infidelity(tm, perturb, torch.from_numpy(X), torch.from_numpy(G),
                                 target=torch.from_numpy(t), n_perturb_samples=7,
                                 normalize=normalize).numpy()
    ours = EV.infidelity(model, X, G, perturbations=I, normalize=normalize)
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


def test_sensitivity_max_equals_captum(digits_model):
    model, X = digits_model
    torch, tm = torch_twin(model)
    metrics = require("captum.metrics")
    attr = require("captum.attr")
    t = model.predict(X)
    D = np.random.default_rng(6).uniform(-0.3, 0.3, size=(40, 5, 64))
    sal = attr.Saliency(tm)
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        ref = metrics.sensitivity_max(
            lambda inputs, target: sal.attribute(inputs, target=target, abs=False),
            torch.from_numpy(X), perturb_func=lambda inputs: inputs + torch.from_numpy(D.reshape(-1, 64)),
            n_perturb_samples=5, target=torch.from_numpy(t)).numpy()
    ours = EV.sensitivity_max("gradient", model, X, perturbations=D)
    assert ref.max() > 0
    np.testing.assert_allclose(ours, ref, rtol=1e-12, atol=1e-15)


# ---------------------------------------------------------------- sanity checks
def test_randomization_check_similarity_falls(digits_model):
    model, X = digits_model
    before = [w.copy() for w in model.get_weights()]
    rc = EV.randomization_check(model, X, "gradient")
    for a, b in zip(before, model.get_weights()):
        np.testing.assert_array_equal(a, b)                   # the user's model is untouched
    assert rc.maps.shape == (4, 40, 64) and rc.labels == ["original", "layer 2", "layers 1-2",
                                                          "layers 0-2"]
    np.testing.assert_array_equal(rc.maps[0], xnn.explain.gradient(model, X))
    for metric in ("spearman", "spearman_abs", "ssim"):
        m = rc.mean(metric)
        assert m.shape == (3,) and m[-1] < 0.3 and np.all(m < 0.9)
    same = EV.randomization_check(model, X, lambda model, X, target: np.tile(X[:1], (len(X), 1)))
    np.testing.assert_allclose(same.spearman, 1.0, atol=1e-12)  # a method blind to the weights
    np.testing.assert_allclose(same.ssim, 1.0, atol=1e-12)
    ind = EV.randomization_check(model, X, "saliency", mode="independent", seed=1)
    assert ind.labels == ["original", "layer 2", "layer 1", "layer 0"] and np.all(ind.mean() < 0.9)
    again = EV.randomization_check(model, X, "saliency", mode="independent", seed=1)
    np.testing.assert_array_equal(again.maps, ind.maps)
    lrp = EV.randomization_check(model, X[:5], "lrp", method_kwargs={"rule": "epsilon"})
    assert lrp.spearman.shape == (3, 5)


def test_randomization_check_bad_inputs(digits_model):
    model, X = digits_model
    with pytest.raises(ValueError, match="mode"):
        EV.randomization_check(model, X, mode="all")
    with pytest.raises(ValueError, match="method"):
        EV.randomization_check(model, X, "cam")
    with pytest.raises(ValueError, match="init"):
        EV.randomization_check(model, X, init="orthogonal")
    with pytest.raises(ValueError, match="shape"):
        EV.randomization_check(model, X, shape=(4, 4))
    with pytest.raises(TypeError, match="method_kwargs"):
        EV.randomization_check(model, X, method_kwargs=[1])


# ---------------------------------------------------------------- plots
def test_plots(digits_model):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    model, X = digits_model
    R = xnn.explain.lrp(model, X)
    curves = {"LRP": EV.pixel_flipping(model, X, R, pixels_per_step=8),
              "random": EV.pixel_flipping(model, X, R, pixels_per_step=8, order="random")}
    fig = xnn.plot.perturbation_curves(curves, curve="confidence", band="sem")
    ax = fig.axes[0]
    assert len(ax.lines) == 2 and "AOPC" in ax.get_legend().get_texts()[0].get_text()
    np.testing.assert_allclose(ax.lines[0].get_ydata(), curves["LRP"].mean("confidence"))
    fig2, ax2 = plt.subplots()
    assert xnn.plot.perturbation_curves(curves["LRP"], ax=ax2, x="step") is fig2
    rc = EV.randomization_check(model, X[:4], "gradient")
    fig3 = xnn.plot.randomization(rc, images=X[:4], n=2)
    assert len(fig3.axes) == 2 * 5 + 1
    with pytest.raises(TypeError, match="PerturbationCurves"):
        xnn.plot.perturbation_curves({"x": 3})
    with pytest.raises(ValueError, match="band"):
        xnn.plot.perturbation_curves(curves, band="iqr")
    with pytest.raises(TypeError, match="RandomizationCheck"):
        xnn.plot.randomization(curves["LRP"])
    plt.close("all")
