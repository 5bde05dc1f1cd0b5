"""Model-agnostic explanations: LIME (images, tables, text), KernelSHAP and
counterfactuals. Oracles: closed forms on linear models, brute-force
Shapley values, and the lime and shap packages given the same samples
(float64 models: the numbers agree to rounding)."""
import itertools
import math
import warnings

import numpy as np
import pytest

import xnn
import xnn.explain as E
from _deps import require
from xnn.explain import _perturb


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore", DeprecationWarning)
        warnings.simplefilter("ignore", FutureWarning)
        warnings.simplefilter("ignore", PendingDeprecationWarning)     # shap's colormaps
        yield


def dense(sizes, acts, seed=0, dtype="float64", bias=0.1):
    layers = [xnn.layers.Dense(a, b, activation=c) for a, b, c in zip(sizes[:-1], sizes[1:], acts)]
    model = xnn.Sequential(layers, seed=seed, dtype=dtype)
    rng = np.random.RandomState(seed)
    w = []
    for ly in model.layers:
        w += [rng.randn(ly.n_in, ly.n_out) / np.sqrt(ly.n_in), bias * rng.randn(ly.n_out)]
    model.set_weights(w)
    return model


@pytest.fixture(scope="module")
def digits_model():
    X, y = xnn.datasets.load_digits(dtype=np.float64)
    model = xnn.Sequential([xnn.layers.Dense(64, 32, activation="relu"),
                            xnn.layers.Dense(32, 16, activation="relu"),
                            xnn.layers.Dense(16, 10, activation="softmax")], seed=0, dtype="float64")
    model.fit(X[:1000], y[:1000], epochs=15, batch_size=64, lr=0.1, verbose=0)
    return model, X[1000:]


# ---------------------------------------------------------------- the engine
@pytest.mark.parametrize("act", ["relu", "tanh", "sigmoid", "linear"])
def test_first_layer_path_equals_copies(act, monkeypatch):
    model = dense((30, 12, 8, 5), (act, "relu", "softmax"), seed=3)
    rng = np.random.default_rng(0)
    X = rng.random((3, 30))
    base = rng.random((3, 4, 30))
    labels = rng.integers(-1, 6, (3, 30))
    masks = rng.random((3, 9, 6)) < 0.5
    for mk in (masks, None):
        Zf, Pf = _perturb.grouped(model, X, base, labels, 6, mk)
        monkeypatch.setattr(_perturb, "USE_FIRST_LAYER", False)
        Zc, Pc = _perturb.grouped(model, X, base, labels, 6, mk)
        monkeypatch.setattr(_perturb, "USE_FIRST_LAYER", True)
        np.testing.assert_allclose(Zf, Zc, rtol=0, atol=1e-12 * np.abs(Zc).max())
        np.testing.assert_allclose(Pf, Pc, rtol=0, atol=1e-12)


def test_copies_are_the_rows_they_describe(monkeypatch):
    monkeypatch.setattr(_perturb, "CHUNK_ROWS", 7)        # several chunks and blocks
    model = dense((10, 6, 3), ("relu", "softmax"), seed=1)
    rng = np.random.default_rng(1)
    X = rng.random((2, 10))
    base = rng.random((2, 3, 10))
    labels = np.array([[0, 0, 1, 1, 2, 2, -1, 3, 3, 3], [3, 2, 1, 0, -1, -1, 0, 1, 2, 3]])
    masks = rng.random((2, 5, 4)) < 0.5
    Z, P = _perturb.grouped(model, X, base, labels, 4, masks)
    Zn, Pn = _perturb.grouped(model, X, base, labels, 4, None)
    for i, j, k in itertools.product(range(2), range(5), range(3)):
        keep = np.where(labels[i] < 0, True, masks[i, j][np.maximum(labels[i], 0)])
        row = np.where(keep, X[i], base[i, k])[None]
        np.testing.assert_allclose(P[i, j, k], model.predict_proba(row)[0], rtol=0, atol=1e-15)
        np.testing.assert_allclose(Z[i, j, k, 2], E.score(model, row, 2)[0], rtol=0, atol=1e-14)
        row = np.where((labels[i] < 0) | (labels[i] >= j), X[i], base[i, k])[None]
        np.testing.assert_allclose(Pn[i, j, k], model.predict_proba(row)[0], rtol=0, atol=1e-15)


def test_float32_first_layer_path_within_float32_rounding(monkeypatch):
    model = dense((50, 16, 4), ("relu", "softmax"), seed=2, dtype="float32")
    rng = np.random.default_rng(2)
    X = rng.random((4, 50)).astype(np.float32)
    labels = np.argsort(rng.random((4, 50)), axis=1) // 5
    base = np.zeros((4, 1, 50))
    Zf, _ = _perturb.grouped(model, X, base, labels, 10)
    monkeypatch.setattr(_perturb, "USE_FIRST_LAYER", False)
    Zc, _ = _perturb.grouped(model, X, base, labels, 10)
    assert np.abs(Zf - Zc).max() <= 2e-6 * max(1.0, np.abs(Zc).max())


# ---------------------------------------------------------------- superpixels
def test_superpixels_grid_and_skimage():
    g = E.superpixels(np.zeros((28, 28)), "grid", n_segments=49)
    np.testing.assert_array_equal(g, (np.arange(28)[:, None] // 4) * 7 + np.arange(28)[None] // 4)
    g = E.superpixels(np.zeros(64), "grid", grid=(2, 4))
    assert g.shape == (8, 8) and g.max() == 7 and g[0, 0] == 0 and g[7, 7] == 7
    require("skimage")
    img = np.random.default_rng(0).random((28, 28))
    for method in ("slic", "quickshift"):
        s = E.superpixels(img, method)
        assert s.shape == (28, 28) and s.dtype == np.int64
        np.testing.assert_array_equal(np.unique(s), np.arange(s.max() + 1))
    from skimage.segmentation import slic
    ref = slic(img, n_segments=30, compactness=0.3, channel_axis=None, start_label=0)
    np.testing.assert_array_equal(E.superpixels(img, "slic", n_segments=30),
                                  np.unique(ref, return_inverse=True)[1].reshape(28, 28))


def test_superpixels_bad_inputs():
    with pytest.raises(ValueError, match="method"):
        E.superpixels(np.zeros((4, 4)), "watershed")
    with pytest.raises(ValueError, match="image"):
        E.superpixels(np.zeros((2, 4, 4)))
    with pytest.raises(ValueError, match="not square"):
        E.superpixels(np.zeros(10), "grid")
    with pytest.raises(TypeError, match="grid"):
        E.superpixels(np.zeros((4, 4)), "grid", grid=3)
    with pytest.raises(TypeError, match="unexpected"):
        E.superpixels(np.zeros((4, 4)), "grid", compactness=2)


# ---------------------------------------------------------------- LIME images
def test_lime_on_a_linear_model_recovers_its_coefficients():
    """f(z) = f(base) + sum_k z_k sum_{p in k} (x_p - b_p) W[p, t] is linear in
    the mask: the unpenalised surrogate is exact, in logit units."""
    model = xnn.Sequential([xnn.layers.Dense(36, 3, activation="linear")], seed=4, dtype="float64")
    rng = np.random.default_rng(4)
    model.set_weights([rng.normal(size=(36, 3)), rng.normal(size=3)])
    x = rng.random((6, 6))
    seg = E.superpixels(x, "grid", grid=(3, 2))
    r = E.lime(model, x, target=1, segmentation=seg, n_samples=300, baseline=0.25, alpha=0.0,
               output="logit", seed=1)
    W = model.get_weights()[0][:, 1]
    expected = np.bincount(seg.ravel(), weights=(x.ravel() - 0.25) * W)
    np.testing.assert_allclose(r.weights, expected, rtol=1e-10, atol=1e-12)
    base_score = 0.25 * W.sum() + model.get_weights()[1][1]
    assert abs(r.intercept - base_score) < 1e-10 and abs(r.score - 1) < 1e-12
    np.testing.assert_allclose(r.map, expected[seg], rtol=1e-10, atol=1e-12)
    assert r.map.shape == (6, 6) and r.target == 1 and r.prediction == pytest.approx(r.local_pred)


def test_lime_equals_the_lime_package(digits_model):
    lime_image = require("lime.lime_image")
    model, X = digits_model
    x = X[7].reshape(8, 8)
    seg = E.superpixels(x, "grid", grid=(4, 4))
    r = E.lime(model, x, segmentation=seg, n_samples=400, seed=5)
    ex = lime_image.LimeImageExplainer(random_state=5)
    e = ex.explain_instance(x, lambda imgs: model.predict_proba(imgs[..., 0].reshape(len(imgs), -1)),
                            labels=(r.target,), top_labels=None, hide_color=0, num_samples=400,
                            batch_size=400, segmentation_fn=lambda img: seg, random_seed=0)
    w = np.zeros(16)
    for k, v in e.local_exp[r.target]:
        w[k] = v
    np.testing.assert_allclose(r.weights, w, rtol=0, atol=1e-12)
    assert abs(r.score - e.score) < 1e-12 and abs(r.intercept - e.intercept[r.target]) < 1e-12
    np.testing.assert_array_equal(r.top(5), np.argsort(-w, kind="stable")[:5])


def test_lime_batches_seeds_and_baselines(digits_model):
    model, X = digits_model
    seg = E.superpixels(np.zeros((8, 8)), "grid", grid=(4, 4))
    out = E.lime(model, X[:3], segmentation=seg, n_samples=200, seed=2)
    assert isinstance(out, E.Explanations) and len(out) == 3 and out.maps.shape == (3, 8, 8)
    first = E.lime(model, X[0], segmentation=seg, n_samples=200, seed=2)
    np.testing.assert_array_equal(first.weights, out[0].weights)   # the stream starts the same
    again = E.lime(model, X[:3], segmentation=seg, n_samples=200, seed=2)
    for a, b in zip(out, again):
        np.testing.assert_array_equal(a.weights, b.weights)
    other = E.lime(model, X[0], segmentation=seg, n_samples=200, seed=3)
    assert not np.array_equal(other.weights, first.weights)
    mean = E.lime(model, X[0], segmentation=seg, n_samples=200, baseline="mean", seed=2)
    assert mean.weights.shape == (16,) and not np.array_equal(mean.weights, first.weights)
    logit = E.lime(model, X[0], segmentation=seg, n_samples=200, output="logit", seed=2)
    assert logit.prediction == pytest.approx(E.score(model, X[:1])[0], abs=1e-12)


def test_lime_bad_inputs(digits_model):
    model, X = digits_model
    seg = np.zeros((8, 8), dtype=np.int64)
    with pytest.raises(ValueError, match="n_samples"):
        E.lime(model, X[0], segmentation=seg, n_samples=1)
    with pytest.raises(ValueError, match="kernel_width"):
        E.lime(model, X[0], segmentation=seg, kernel_width=0)
    with pytest.raises(ValueError, match="output"):
        E.lime(model, X[0], segmentation=seg, output="loss")
    with pytest.raises(ValueError, match="segmentation"):
        E.lime(model, X[0], segmentation=np.zeros((4, 4), dtype=int))
    with pytest.raises(TypeError, match="segmentation"):
        E.lime(model, X[0], segmentation=np.zeros((8, 8)))
    with pytest.raises(TypeError, match="segmentation_kwargs"):
        E.lime(model, X[0], segmentation=seg, segmentation_kwargs={"n_segments": 3})
    with pytest.raises(ValueError, match="baseline"):
        E.lime(model, X[0], segmentation=seg, baseline=np.zeros(5))
    with pytest.raises(ValueError, match="baseline"):
        E.lime(model, X[0], segmentation=seg, baseline="median")
    with pytest.raises(ValueError, match="target"):
        E.lime(model, X[0], segmentation=seg, target=10)
    with pytest.raises(ValueError, match="shape"):
        E.lime(model, X[0], segmentation=seg, shape=(4, 4))
    with pytest.raises(TypeError, match="model"):
        E.lime(object(), X[0], segmentation=seg)


# ---------------------------------------------------------------- LIME tables
@pytest.fixture(scope="module")
def wine_model():
    from sklearn.datasets import load_wine
    ds = load_wine()
    X = (ds.data - ds.data.mean(0)) / ds.data.std(0)
    model = xnn.Sequential([xnn.layers.Dense(13, 16, activation="relu"),
                            xnn.layers.Dense(16, 3, activation="softmax")], seed=0, dtype="float64")
    model.fit(X, ds.target, epochs=30, batch_size=32, lr=0.05, verbose=0)
    return model, X, list(ds.feature_names)


@pytest.mark.parametrize("discretize", [True, False])
def test_lime_tabular_equals_the_lime_package(wine_model, discretize):
    lt = require("lime.lime_tabular")
    model, X, names = wine_model
    r = E.lime_tabular(model, X[5], X, n_samples=1500, seed=4, feature_names=names,
                       discretize=discretize)
    ex = lt.LimeTabularExplainer(X, feature_names=names, random_state=4,
                                 discretize_continuous=discretize)
    e = ex.explain_instance(X[5], model.predict_proba, labels=(r.target,), num_features=13,
                            num_samples=1500)
    w = np.zeros(13)
    for j, v in e.local_exp[r.target]:
        w[j] = v
    np.testing.assert_allclose(r.weights, w, rtol=0, atol=1e-12)
    assert abs(r.score - e.score) < 1e-12
    lime_top = [n for n, _ in e.as_list(label=r.target)[:5]]
    assert [n for n, _ in r.as_list()[:5]] == lime_top            # same top-5 conditions


def test_lime_tabular_linear_model_and_bad_inputs(wine_model):
    model, X, names = wine_model
    r = E.lime_tabular(model, X[:2], X, n_samples=300, seed=0)
    assert len(r) == 2 and r.maps.shape == (2, 13) and r[0].feature_names[0].startswith("0")
    with pytest.raises(ValueError, match="training_data"):
        E.lime_tabular(model, X[0], X[:, :5])
    with pytest.raises(ValueError, match="training_data"):
        E.lime_tabular(model, X[0], X[:1])
    with pytest.raises(ValueError, match="feature_names"):
        E.lime_tabular(model, X[0], X, feature_names=["a"])
    with pytest.raises(TypeError, match="discretize"):
        E.lime_tabular(model, X[0], X, discretize="quartile")
    with pytest.raises(ValueError, match="X"):
        E.lime_tabular(model, X[0, :5], X)


# ---------------------------------------------------------------- LIME text
TEXTS = ["a good fine film", "bad awful movie", "good acting and a great story",
         "terrible bad plot", "great fun", "awful boring film", "a fine story", "boring and bad"] * 4
LABELS = [1, 0, 1, 0, 1, 0, 1, 0] * 4


@pytest.mark.parametrize("kind", ["count", "tfidf"])
def test_text_pipeline_and_lime_text(kind):
    from sklearn.feature_extraction.text import CountVectorizer, TfidfVectorizer
    vec = (CountVectorizer() if kind == "count" else TfidfVectorizer()).fit(TEXTS)
    model = xnn.Sequential([xnn.layers.Dense(len(vec.vocabulary_), 8, activation="relu"),
                            xnn.layers.Dense(8, 2, activation="softmax")], seed=0, dtype="float64")
    pipe = E.TextPipeline(vec, model)
    model.fit(pipe.transform(TEXTS), LABELS, epochs=150, lr=0.2, verbose=0)
    np.testing.assert_array_equal(pipe.predict(["a great story", "awful bad plot"]), [1, 0])
    F = vec.transform(["a great story"]).toarray()
    np.testing.assert_array_equal(pipe.predict_proba(["a great story"]), model.predict_proba(F))
    text = "a good film with a bad plot, good acting"
    r = E.lime_text(pipe, text, n_samples=800, seed=1)
    assert set(r.feature_names) == {"a", "good", "film", "with", "bad", "plot", "acting"}
    words = dict(r.as_list())
    assert words["good"] > 0 > words["bad"]                       # the evidence the model learned
    if kind == "count":
        lt = require("lime.lime_text")
        e = lt.LimeTextExplainer(random_state=1).explain_instance(
            text, pipe.predict_proba, labels=(r.target,), num_features=10, num_samples=800)
        lw = dict(e.as_list(label=r.target))
        assert max(abs(lw[w] - v) for w, v in r.as_list()) < 1e-12
        assert r.texts[1] != text and "," in r.texts[0]
    many = E.lime_text(pipe.predict_proba, [text, "bad boring film"], n_samples=100, seed=1)
    assert len(many) == 2 and many[0].weights.shape == (7,)


def test_text_bad_inputs():
    from sklearn.feature_extraction.text import CountVectorizer
    vec = CountVectorizer().fit(TEXTS)
    model = xnn.Sequential([xnn.layers.Dense(len(vec.vocabulary_), 2, activation="softmax")])
    with pytest.raises(ValueError, match="fitted"):
        E.TextPipeline(CountVectorizer(), model)
    with pytest.raises(ValueError, match="inputs"):
        E.TextPipeline(vec, xnn.Sequential([xnn.layers.Dense(3, 2, activation="softmax")]))
    with pytest.raises(TypeError, match="vectorizer"):
        E.TextPipeline(object(), model)
    pipe = E.TextPipeline(vec, model)
    with pytest.raises(TypeError, match="list of strings"):
        pipe.predict_proba("a good film")
    with pytest.raises(TypeError, match=r"texts\[1\]"):
        pipe.predict_proba(["good", 3])
    with pytest.raises(ValueError, match="no words"):
        E.lime_text(pipe, "  ,, ")
    with pytest.raises(TypeError, match="predict_proba"):
        E.lime_text(3, "good film")
    with pytest.raises(ValueError, match="expected an array"):
        E.lime_text(lambda texts: np.zeros(len(texts)), "good film", n_samples=10)


# ---------------------------------------------------------------- KernelSHAP
def brute_force_shapley(value, M):
    phi = np.zeros(M)
    for i in range(M):
        others = [j for j in range(M) if j != i]
        for k in range(M):
            for S in itertools.combinations(others, k):
                w = math.factorial(k) * math.factorial(M - k - 1) / math.factorial(M)
                phi[i] += w * (value(S + (i,)) - value(S))
    return phi


@pytest.mark.parametrize("output", ["probability", "logit"])
def test_kernel_shap_exact_equals_brute_force_columns(output):
    model = dense((7, 5, 3), ("relu", "softmax"), seed=2, bias=0.5)
    rng = np.random.RandomState(0)
    model.set_weights([rng.randn(*w.shape) for w in model.get_weights()])
    bg, x = rng.rand(6, 7), rng.rand(7)

    def value(S):
        rows = bg.copy()
        rows[:, list(S)] = x[list(S)]
        Z, P = _perturb.forward(model, rows)
        return (P if output == "probability" else Z)[:, 1].mean()
    r = E.kernel_shap(model, x, bg, target=1, output=output)
    assert r.exact and r.n_coalitions == 2 ** 7 - 2
    np.testing.assert_allclose(r.values, brute_force_shapley(value, 7), rtol=0, atol=1e-10)
    assert abs(r.additivity_error) < 1e-12
    assert r.base_value == pytest.approx(value(()), abs=1e-15)
    assert r.prediction == pytest.approx(value(tuple(range(7))), abs=1e-15)


def test_kernel_shap_exact_equals_brute_force_superpixels():
    model = dense((36, 10, 8, 4), ("relu", "tanh", "softmax"), seed=5)
    rng = np.random.RandomState(1)
    x, bg = rng.rand(6, 6), rng.rand(3, 36)
    seg = E.superpixels(x, "grid", grid=(2, 4))                  # 8 superpixels

    def value(S):
        keep = np.isin(seg.ravel(), S)
        rows = np.where(keep, x.ravel(), bg)
        return model.predict_proba(rows)[:, 2].mean()
    r = E.kernel_shap(model, x, bg, target=2, segmentation=seg)
    np.testing.assert_allclose(r.values, brute_force_shapley(value, 8), rtol=0, atol=1e-10)
    np.testing.assert_allclose(r.map, r.values[seg], rtol=0, atol=0)


def test_kernel_shap_sampled_equals_the_shap_package():
    shap = require("shap")
    model = dense((20, 8, 3), ("relu", "softmax"), seed=2)
    rng = np.random.RandomState(3)
    bg, x = rng.rand(5, 20), rng.rand(20)
    r = E.kernel_shap(model, x, bg, target=2, n_samples=300, exact=0, seed=7)
    assert not r.exact and r.n_coalitions == 300
    np.random.seed(7)
    ke = shap.KernelExplainer(lambda Z: model.predict_proba(Z)[:, 2], bg)
    sv = np.ravel(ke.shap_values(x[None], nsamples=300, l1_reg=False, silent=True))
    np.testing.assert_allclose(r.values, sv, rtol=0, atol=1e-10)
    assert abs(r.additivity_error) < 1e-12


def test_kernel_shap_top_features_agree_with_shap_on_a_trained_model(digits_model):
    shap = require("shap")
    model, X = digits_model
    bg = X[100:120]
    r = E.kernel_shap(model, X[3], bg, n_samples=600, seed=11)
    np.random.seed(11)
    ke = shap.KernelExplainer(lambda Z: model.predict_proba(Z)[:, r.target], bg)
    sv = np.ravel(ke.shap_values(X[3:4], nsamples=600, l1_reg=False, silent=True))
    np.testing.assert_array_equal(r.top(5), np.argsort(-sv, kind="stable")[:5])
    np.testing.assert_allclose(r.values, sv, rtol=0, atol=1e-10)


def test_kernel_shap_features_that_never_vary():
    model = dense((5, 4, 2), ("relu", "softmax"), seed=1)
    bg = np.array([[0.0, 1, 2, 3, 0.5], [0.0, 1, 2, 3, 0.7]])
    x = np.array([0.0, 1, 2, 3, 0.9])                              # only feature 4 varies
    r = E.kernel_shap(model, x, bg, target=0)
    assert np.count_nonzero(r.values) == 1 and r.varying.tolist() == [False] * 4 + [True]
    assert r.values[4] == pytest.approx(r.prediction - r.base_value, abs=1e-15)
    r = E.kernel_shap(model, x, x[None], target=0)                 # nothing varies
    np.testing.assert_array_equal(r.values, np.zeros(5))
    r = E.kernel_shap(model, np.full(5, 0.3), 0.0, target=1)       # a constant background row
    assert abs(r.additivity_error) < 1e-12 and r.exact


def test_kernel_shap_batches_and_bad_inputs(digits_model):
    model, X = digits_model
    out = E.kernel_shap(model, X[:2], X[50:55], n_samples=200, exact=0, seed=1)
    assert len(out) == 2 and out.maps.shape == (2, 64)
    with pytest.raises(ValueError, match="background"):
        E.kernel_shap(model, X[0], X[:5, :10])
    with pytest.raises(ValueError, match="exact"):
        E.kernel_shap(model, X[0], X[:5], exact=-1)
    with pytest.raises(ValueError, match="n_samples"):
        E.kernel_shap(model, X[0], X[:5], n_samples=0)
    with pytest.raises(ValueError, match="output"):
        E.kernel_shap(model, X[0], X[:5], output="loss")
    with pytest.raises(TypeError, match="segmentation_kwargs"):
        E.kernel_shap(model, X[0], X[:5], segmentation_kwargs={"n_segments": 4})
    with pytest.raises(TypeError, match="shape"):
        E.kernel_shap(model, X[0], X[:5], shape=(8, 8))
    with pytest.raises(ValueError, match="background"):
        E.kernel_shap(model, X[0], np.full((2, 64), np.nan))


# ---------------------------------------------------------------- reproducibility
def test_results_do_not_depend_on_the_thread_count(digits_model):
    model, X = digits_model
    seg = E.superpixels(np.zeros((8, 8)), "grid", grid=(4, 8))
    runs = []
    for n in (1, 2):
        xnn.set_num_threads(n)
        runs.append((E.lime(model, X[:2], segmentation=seg, n_samples=300, seed=3).maps,
                     E.kernel_shap(model, X[4], X[20:40], segmentation=seg, n_samples=400,
                                   exact=0, seed=3).values,
                     E.counterfactual(model, X[0], 3, steps=40, refinements=1).x_cf))
    for a, b in zip(*runs):
        np.testing.assert_array_equal(a, b)


# ---------------------------------------------------------------- counterfactuals
def test_counterfactual_on_a_linear_model_reaches_the_boundary_at_the_projection():
    rng = np.random.default_rng(0)
    model = xnn.Sequential([xnn.layers.Dense(6, 2, activation="softmax")], dtype="float64")
    W = rng.normal(size=(6, 2))
    b = np.array([0.3, -0.2])
    model.set_weights([W, b])
    x = np.full(6, 0.5)
    t = 1 - int(model.predict(x[None])[0])
    w = W[:, t] - W[:, 1 - t]
    c = b[t] - b[1 - t]
    proj = x - (x @ w + c) / (w @ w) * w                         # the closest point of the boundary
    assert np.all((proj > 0) & (proj < 1))
    r = E.counterfactual(model, x, t, distance="l2", steps=400, lr=0.02, refinements=3)
    assert r.found and int(np.argmax(r.proba)) == t and r.x_cf.shape == (6,)
    gap = np.linalg.norm(x - proj)
    # the distance is within 1% of the minimum; near the minimum it is flat along
    # the boundary, so the point itself is within a few percent of the projection
    assert gap <= r.l2 < 1.01 * gap
    assert np.linalg.norm(r.x_cf - proj) < 0.06 * gap
    assert 0.5 < r.proba[t] < 0.51                               # just across the boundary


def test_counterfactual_on_a_trained_network_and_a_prototype(digits_model):
    model, X = digits_model
    x = X[0]
    src = int(model.predict(x[None])[0])
    t = (src + 1) % 10
    r = E.counterfactual(model, x, t, steps=150)
    assert r.found and model.predict(r.x_cf[None])[0] == t
    assert np.all(r.x_cf >= 0) and np.all(r.x_cf <= 1)
    assert r.l1 == pytest.approx(np.abs(r.x_cf - x).sum()) and r.distance == pytest.approx(r.l1)
    Xd, yd = xnn.datasets.load_digits(dtype=np.float64)
    p = E.counterfactual(model, x, t, steps=150, prototype=(Xd[:1000], yd[:1000]), theta=1.0)
    proto = Xd[:1000][yd[:1000] == t].mean(axis=0)
    assert p.found and np.linalg.norm(p.x_cf - proto) < np.linalg.norm(r.x_cf - proto)
    same = E.counterfactual(model, x, src)
    assert same.found and same.distance == 0 and np.array_equal(same.x_cf, x)


def test_counterfactual_not_found_is_reported():
    model = xnn.Sequential([xnn.layers.Dense(4, 3, activation="softmax")], dtype="float64")
    model.set_weights([np.zeros((4, 3)), np.array([0.0, 0.0, -50.0])])   # class 2 never wins
    with pytest.warns(E.CounterfactualNotFound, match="not found within the budget"):
        r = E.counterfactual(model, np.full(4, 0.5), 2, steps=20, refinements=0)
    assert not r.found and r.x_cf is None and r.proba is None
    assert "not found" in r.status and r.closest.shape == (4,) and "not found" in repr(r)


def test_counterfactual_bad_inputs(digits_model):
    model, X = digits_model
    with pytest.raises(ValueError, match="target_class"):
        E.counterfactual(model, X[0], 10)
    with pytest.raises(ValueError, match="distance"):
        E.counterfactual(model, X[0], 1, distance="l3")
    with pytest.raises(ValueError, match="theta"):
        E.counterfactual(model, X[0], 1, theta=0.5)
    with pytest.raises(ValueError, match="clip"):
        E.counterfactual(model, X[0] + 2, 1)
    with pytest.raises(ValueError, match="x"):
        E.counterfactual(model, X[:2], 1)
    with pytest.raises(TypeError, match="clip"):
        E.counterfactual(model, X[0], 1, clip=1.0)
    with pytest.raises(ValueError, match="prototype"):
        E.counterfactual(model, X[0], 1, prototype=np.zeros(3))
    with pytest.raises(ValueError, match="steps"):
        E.counterfactual(model, X[0], 1, steps=0)
