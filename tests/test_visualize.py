"""xnn.visualize: activation maximization, Deep Dream, MFV facets,
embeddings, max/min activating images, and the regularizers' kernels
against their definitions and finite differences."""
import numpy as np
import pytest
from scipy import ndimage

import xnn
from xnn import reference as ref
from xnn.visualize import regularizers as R
from xnn.visualize.maximize import _dream_gradient

from _deps import require

V = xnn.visualize
L = xnn.layers


# ---------------------------------------------------------------- models
def mlp(sizes=(16, 12, 8, 3), acts=("tanh", "tanh", "softmax"), seed=0, dtype="float64"):
    layers = [L.Dense(a, b, activation=f) for a, b, f in zip(sizes, sizes[1:], acts)]
    model = xnn.Sequential(layers, seed=seed, dtype=dtype)
    rng = np.random.RandomState(seed + 7)
    model.set_weights([rng.randn(*w.shape) / np.sqrt(w.shape[0]) if w.ndim == 2
                       else 0.1 * rng.randn(*w.shape) for w in model.get_weights()])
    return model


def cnn(act="tanh", seed=0, dtype="float64"):
    """conv(1->3, pad 1)-maxpool-conv(3->4)-flatten-dense-dense on (1, 8, 8)"""
    model = xnn.Sequential([L.Conv2d(1, 3, 3, padding=1, activation=act), L.MaxPool2d(2),
                            L.Conv2d(3, 4, 3, activation=act), L.Flatten(),
                            L.Dense(16, 6, activation=act), L.Dense(6, 3, activation="softmax")],
                           input_shape=(1, 8, 8), seed=seed, dtype=dtype)
    rng = np.random.RandomState(seed + 11)
    model.set_weights([rng.randn(*w.shape) / np.sqrt(np.prod(w.shape[1:]) if w.ndim == 4
                                                      else w.shape[0]) if w.ndim > 1
                       else 0.1 * rng.randn(*w.shape) for w in model.get_weights()])
    return model


def twin(model):
    """The model as xnn.reference's network (a list of layer dicts)."""
    out = []
    for ly in model.layers:
        name = type(ly).__name__
        if name == "Dense":
            out.append({"op": "dense", "W": ly.W.astype(np.float64), "b": ly.b.astype(np.float64),
                        "act": ly.activation})
        elif name == "Conv2d":
            out.append({"op": "conv2d", "W": ly.W.astype(np.float64), "b": ly.b.astype(np.float64),
                        "act": ly.activation, "stride": ly.stride[0], "padding": ly.padding[0]})
        elif name == "MaxPool2d":
            out.append({"op": "maxpool2d", "kernel": ly.kernel_size[0], "stride": ly.stride[0]})
        elif name == "Flatten":
            out.append({"op": "flatten"})
        else:
            raise AssertionError(name)
    return out


def twin_dream_gradient(net, X, layer):
    """J_l^T A_l by the twin's chain rule from the start gradient A_l (the
    last layer: its logits Z)."""
    net = ref.network.as_network(net)
    Zs, As = ref.network_forward(net, X)
    last = len(net) - 1
    top = Zs[last] if layer == last else As[layer]
    G = top if layer == last else ref.network.activation_grad(net[layer], As[layer], top)
    for l in range(layer, -1, -1):
        G, _ = ref.network.layer_backward(net[l], G, X if l == 0 else As[l - 1])
        if l:
            G = ref.network.activation_grad(net[l - 1], As[l - 1], G)
    half = 0.5 * (top.reshape(len(X), -1) ** 2).sum(axis=1)
    return G, half


def fd(f, X, h=1e-6):
    """Central differences of the per-row score f at X."""
    G = np.zeros_like(X)
    flat, gflat = X.reshape(X.shape[0], -1), G.reshape(X.shape[0], -1)
    for i in range(flat.shape[1]):
        d = np.zeros_like(flat)
        d[:, i] = h
        gflat[:, i] = (f((flat + d).reshape(X.shape)) - f((flat - d).reshape(X.shape))) / (2 * h)
    return G


@pytest.fixture
def rng():
    return np.random.default_rng(0)


# ---------------------------------------------------------------- regularizers
@pytest.mark.parametrize("mode", ["constant", "nearest", "reflect"])
@pytest.mark.parametrize("sigma", [0.7, 1.5])
def test_blur_is_ndimage_gaussian_filter(mode, sigma, rng):
    X = rng.normal(size=(3, 2, 9, 7))
    want = ndimage.gaussian_filter1d(ndimage.gaussian_filter1d(X, sigma, axis=-2, mode=mode),
                                     sigma, axis=-1, mode=mode)
    np.testing.assert_allclose(R.gaussian_blur(X, sigma, mode=mode), want, rtol=0, atol=1e-14)
    S = rng.normal(size=(2, 3, 11))
    np.testing.assert_allclose(R.gaussian_blur(S, sigma, mode=mode),
                               ndimage.gaussian_filter1d(S, sigma, axis=-1, mode=mode),
                               rtol=0, atol=1e-14)
    assert np.array_equal(R.gaussian_blur(X, 0.0), X)


@pytest.mark.parametrize("mode", ["constant", "reflect"])
def test_blur_gradient_against_finite_differences(mode, rng):
    X = rng.normal(size=(2, 1, 6, 5))
    G = rng.normal(size=X.shape)
    grad = R.gaussian_blur_grad(G, 1.0, mode=mode)
    # linear in X: central differences are exact up to rounding, with any step
    num = fd(lambda x: (G * R.gaussian_blur(x, 1.0, mode=mode)).reshape(2, -1).sum(axis=1), X,
             h=1e-2)
    np.testing.assert_allclose(grad, num, rtol=0, atol=1e-12)
    if mode == "constant":   # zero padding: the blur is its own adjoint
        np.testing.assert_allclose(grad, R.gaussian_blur(G, 1.0), rtol=0, atol=1e-14)


def test_jitter_is_np_roll(rng):
    X = rng.normal(size=(2, 3, 7, 5))
    for s in [(0, 0), (1, -2), (-3, 4), (9, -11)]:
        J = R.jitter(X, s)
        assert np.array_equal(J, np.roll(X, s, axis=(2, 3)))
        assert np.array_equal(R.jitter(J, (-s[0], -s[1])), X)
    S = rng.normal(size=(2, 1, 9))
    assert np.array_equal(R.jitter(S, 4), np.roll(S, 4, axis=2))
    with pytest.raises(ValueError, match="shift"):
        R.jitter(X, 1)


def tv_by_definition(x, beta, eps=1e-8):
    m, c, h, w = x.shape
    out = np.zeros(m)
    for r in range(m):
        for ch in range(c):
            for i in range(h):
                for j in range(w):
                    dh = x[r, ch, i + 1, j] - x[r, ch, i, j] if i + 1 < h else 0.0
                    dw = x[r, ch, i, j + 1] - x[r, ch, i, j] if j + 1 < w else 0.0
                    sq = dh * dh + dw * dw
                    out[r] += sq if beta == 2 else (sq + eps) ** (beta / 2)
    return out


@pytest.mark.parametrize("beta", [2.0, 1.5])
def test_total_variation_is_its_definition_and_gradient(beta, rng):
    X = rng.normal(size=(2, 2, 5, 4))
    np.testing.assert_allclose(R.total_variation(X, beta), tv_by_definition(X, beta),
                               rtol=1e-13, atol=0)
    num = fd(lambda x: R.total_variation(x, beta), X)
    np.testing.assert_allclose(R.total_variation_grad(X, beta), num, rtol=0, atol=1e-7)
    S = rng.normal(size=(2, 1, 7))
    np.testing.assert_allclose(R.total_variation(S), (np.diff(S, axis=-1) ** 2).sum(axis=(1, 2)),
                               rtol=1e-13)
    np.testing.assert_allclose(R.total_variation_grad(S), fd(R.total_variation, S), atol=1e-7)


def test_resample_is_a_low_pass_of_the_same_size(rng):
    X = rng.uniform(size=(2, 1, 28, 28))
    Y = R.resample(X, 0.5)
    assert Y.shape == X.shape
    assert np.abs(np.diff(Y, axis=-1)).mean() < np.abs(np.diff(X, axis=-1)).mean()
    np.testing.assert_allclose(R.resample(np.full((1, 1, 28, 28), 0.3), 0.25), 0.3, atol=1e-12)
    assert np.array_equal(R.resample(X, 1.0), X)
    with pytest.raises(ValueError, match="scale"):
        R.resample(X, 1.5)


# ---------------------------------------------------------------- activation maximization
def test_linear_unit_reaches_the_corner_of_the_box(rng):
    """For w.x + b in the box [0, 1], the maximiser is x_j = [w_j > 0]."""
    d = 25
    W = np.sign(rng.normal(size=(d, 3))) * rng.uniform(0.5, 1.5, size=(d, 3))
    model = xnn.Sequential([L.Dense(d, 3)], dtype="float64")
    model.set_weights([W, rng.normal(size=3)])
    r = V.activation_maximization(model, target=[0, 1, 2], steps=100, lr=0.05, l2=0, blur_every=0,
                                  jitter=0, seed=0)
    assert np.array_equal(r.images, (W.T > 0).astype(float))
    np.testing.assert_allclose(r.activations, np.maximum(W, 0).sum(axis=0) + model.layers[0].b,
                               rtol=1e-13)
    # a hidden linear unit: the same corner for its weight column
    model = xnn.Sequential([L.Dense(d, 4), L.Dense(4, 2, activation="softmax")], dtype="float64")
    W4 = np.sign(rng.normal(size=(d, 4))) * rng.uniform(0.5, 1.5, size=(d, 4))
    model.set_weights([W4, np.zeros(4), rng.normal(size=(4, 2)), np.zeros(2)])
    r = V.activation_maximization(model, layer=0, unit=np.arange(4), steps=100, lr=0.05, l2=0,
                                  blur_every=0, jitter=0, seed=1)
    assert np.array_equal(r.images, (W4.T > 0).astype(float))


@pytest.mark.parametrize("make,layer,units", [(mlp, 1, [0, 3, 7]), (mlp, -1, [0, 1, 2]),
                                              (cnn, 2, [0, 1, 2, 3]), (cnn, 0, [1, 2])])
def test_smooth_ascent_raises_the_unit_monotonically(make, layer, units):
    model = make()
    r = V.activation_maximization(model, layer=layer, unit=units, steps=60, lr=0.002, l2=0,
                                  blur_every=0, jitter=0, seed=3)
    assert r.trace.shape == (60, len(units))
    assert np.all(np.diff(r.trace, axis=0) > 0)
    assert np.all(r.activations > r.trace[-1])
    assert np.all(r.activations > r.trace[0] + 1e-3)
    # the trace is the unit's score at each step's image, as xnn.explain.score
    for j, u in enumerate(units):
        s = xnn.explain.score(model, r.images[j:j + 1], start_layer=layer, unit=u)
        np.testing.assert_allclose(r.activations[j], s[0], rtol=1e-13)


@pytest.mark.parametrize("layer,units", [(2, [0, 3]), (5, [2, 1]), (4, [5, 0])])
def test_one_step_is_the_normalised_explain_gradient(layer, units, rng):
    """x1 = clip(x0 + lr g / rms(g)) with g = xnn.explain.gradient(start_layer, unit)."""
    model = cnn()
    x0 = rng.uniform(0.2, 0.8, size=(2, 1, 8, 8))
    r = V.activation_maximization(model, layer=layer, unit=units, init=x0, steps=1, lr=0.05,
                                  l2=0, blur_every=0, jitter=0)
    g = xnn.explain.gradient(model, x0, start_layer=layer, unit=np.array(units))
    rms = np.sqrt((g.reshape(2, -1) ** 2).mean(axis=1)).reshape(2, 1, 1, 1)
    np.testing.assert_allclose(r.images, np.clip(x0 + 0.05 * g / rms, 0, 1), rtol=0, atol=1e-14)
    s0 = xnn.explain.score(model, x0, start_layer=layer, unit=np.array(units))
    np.testing.assert_allclose(r.trace[0], s0, rtol=1e-14)


def test_units_in_one_batch_are_independent_rows(rng):
    model = cnn()
    init = rng.uniform(size=(3, 1, 8, 8))
    kw = dict(steps=20, lr=0.01, blur_every=2, blur_sigma=0.5, jitter=0, l2=0.05, tv=0.1)
    batch = V.activation_maximization(model, layer=2, unit=[0, 2, 3], init=init, **kw)
    for j, u in enumerate([0, 2, 3]):
        one = V.activation_maximization(model, layer=2, unit=u, init=init[j], **kw)
        np.testing.assert_allclose(batch.images[j], one.images[0], rtol=0, atol=1e-12)
        np.testing.assert_allclose(batch.trace[:, j], one.trace[:, 0], rtol=0, atol=1e-12)


def test_regularized_ascent_with_octaves_is_reproducible_and_shaped():
    model = cnn(act="relu", dtype="float32")
    octaves = [{"steps": 10, "scale": 0.5, "blur_sigma": 1.0, "jitter": 2},
               {"steps": 15, "lr": 0.01, "tv": 0.05}]
    a = V.activation_maximization(model, layer=2, unit=[0, 1], octaves=octaves, seed=5)
    b = V.activation_maximization(model, layer=2, unit=[0, 1], octaves=octaves, seed=5)
    c = V.activation_maximization(model, layer=2, unit=[0, 1], octaves=octaves, seed=6)
    assert a.images.shape == (2, 1, 8, 8) and a.images.dtype == np.float32
    assert a.trace.shape == (25, 2) and a.activations.shape == (2,)
    assert a.initial.shape == (2, 1, 8, 8)
    assert np.array_equal(a.images, b.images) and np.array_equal(a.trace, b.trace)
    assert not np.array_equal(a.images, c.images)
    assert a.images.min() >= 0 and a.images.max() <= 1
    # a progress bar on request
    import io
    import contextlib
    err = io.StringIO()
    with contextlib.redirect_stderr(err):
        V.activation_maximization(model, target=0, steps=3, verbose=True)
    assert "activation maximization" in err.getvalue()
    # one image for several units, and several images for one unit
    r = V.activation_maximization(model, layer=2, unit=[0, 1, 2], init=np.zeros((8, 8)), steps=2)
    assert np.array_equal(r.initial, np.zeros((3, 1, 8, 8)))
    r = V.activation_maximization(model, target=1, init=np.zeros((4, 64)), steps=2)
    assert r.units.tolist() == [1, 1, 1, 1]
    # an MLP's flat rows are regularized as square images and come back flat
    r = V.activation_maximization(mlp(sizes=(16, 5, 3), acts=("relu", "softmax")), target=[0, 2],
                                  steps=5, seed=0)
    assert r.images.shape == (2, 16)


def test_bad_layer_or_unit_raises_clearly():
    model = cnn()
    AM = V.activation_maximization
    with pytest.raises(ValueError, match=r"layer: expected a layer index in \[-6, 6\)"):
        AM(model, layer=6, unit=0)
    with pytest.raises(TypeError, match="layer"):
        AM(model, layer=1.5, unit=0)
    with pytest.raises(ValueError, match=r"4 channels; a unit names a channel \(the mean of its "
                                         r"2 x 2 positions\) in \[0, 4\), got 9"):
        AM(model, layer=2, unit=9)
    with pytest.raises(ValueError, match=r"layer 4 \(Dense, output \(6,\)\) has 6 units"):
        AM(model, layer=4, unit=[1, 6])
    with pytest.raises(ValueError, match="not a position"):
        AM(model, layer=2, unit=[[0, 1, 1]])
    with pytest.raises(TypeError, match="unit"):
        AM(model, layer=2, unit=1.0)
    with pytest.raises(ValueError, match="unit: expected a unit"):
        AM(model, layer=2)
    with pytest.raises(ValueError, match="target: names a class"):
        AM(model, layer=2, target=1)
    with pytest.raises(ValueError, match="target: expected the class"):
        AM(model)
    with pytest.raises(ValueError, match=r"classes of the last layer in \[0, 3\), got 3"):
        AM(model, target=3)
    with pytest.raises(ValueError, match="init: expected one image or 2"):
        AM(model, layer=2, unit=[0, 1], init=np.zeros((3, 1, 8, 8)))
    with pytest.raises(ValueError, match=r"octaves\[1\]: unknown keys \['zoom'\]"):
        AM(model, target=0, octaves=[{"steps": 1}, {"zoom": 2}])
    with pytest.raises(ValueError, match="scale"):
        AM(model, target=0, octaves=[{"scale": 2.0}])
    with pytest.raises(ValueError, match="clip"):
        AM(model, target=0, clip=(1, 0))
    with pytest.raises(TypeError, match="seed"):
        AM(model, target=0, seed=-1)


# ---------------------------------------------------------------- Deep Dream
@pytest.mark.parametrize("layer", [0, 1, 2, 4, 5])
def test_dream_gradient_is_the_twins_and_finite_differences(layer, rng):
    model = cnn()
    X = rng.uniform(size=(3, 1, 8, 8))
    G, S = _dream_gradient(model, X, layer)
    Gt, St = twin_dream_gradient(twin(model), X, layer)
    np.testing.assert_allclose(G, Gt.reshape(3, -1), rtol=0, atol=1e-12 * max(1, np.abs(Gt).max()))
    np.testing.assert_allclose(S, St, rtol=1e-12)
    num = fd(lambda x: twin_dream_gradient(twin(model), x, layer)[1], X)
    np.testing.assert_allclose(G, num.reshape(3, -1), rtol=0, atol=1e-7 * max(1, np.abs(num).max()))


def test_dream_gradient_of_a_dense_layer_is_the_sum_of_unit_gradients(rng):
    """Σ_u a_u ∇a_u = ∇ ½‖a‖², with the twin's unit gradients."""
    model = mlp()
    X = rng.uniform(size=(20, 16))       # more rows than one head group
    G, S = _dream_gradient(model, X, 1)
    net = twin(model)
    A = ref.network_forward(net, X)[1][1]
    want = sum(A[:, [u]] * ref.explain_gradient(net, X, None, start_layer=1, unit=u)
               for u in range(A.shape[1]))
    np.testing.assert_allclose(G, want, rtol=0, atol=1e-12)
    np.testing.assert_allclose(S, 0.5 * (A ** 2).sum(axis=1), rtol=1e-12)


def test_deep_dream_raises_the_norm_of_the_layer(rng):
    model = cnn(act="relu", dtype="float32")
    X = rng.uniform(size=(2, 1, 8, 8)).astype(np.float32)
    d = V.deep_dream(model, X, layer=2, steps=30, lr=0.01, jitter=0, seed=0)
    assert d.images.shape == X.shape and d.objective == "half squared norm"
    assert np.all(d.activations > d.trace[0])
    np.testing.assert_allclose(d.trace[0], _dream_gradient(model, X, 2)[1], rtol=1e-6)
    np.testing.assert_array_equal(d.initial, X)
    e = V.deep_dream(model, X, layer=2, steps=3, octaves=[{"steps": 3, "scale": 0.5}, {}], seed=0)
    assert e.trace.shape == (6, 2)
    with pytest.raises(ValueError, match="layer"):
        V.deep_dream(model, X, layer=7)


# ---------------------------------------------------------------- facets and embeddings
def planted(rng, per=40, k=4, d=12):
    """Class 0 in k well separated blobs (the planted facets), class 1 noise."""
    centres = 6 * rng.normal(size=(k, d))
    X0 = np.concatenate([c + 0.3 * rng.normal(size=(per, d)) for c in centres])
    truth = np.repeat(np.arange(k), per)
    order = rng.permutation(len(X0))
    X = np.concatenate([X0[order], rng.normal(size=(30, d))])
    y = np.concatenate([np.zeros(len(X0), int), np.ones(30, int)])
    model = xnn.Sequential([L.Dense(d, d), L.Dense(d, 2, activation="softmax")], dtype="float64")
    model.set_weights([np.eye(d), np.zeros(d), rng.normal(size=(d, 2)), np.zeros(2)])
    return model, X, y, truth[order]


@pytest.mark.parametrize("tsne", ["sklearn", "opentsne"])
def test_facets_recover_planted_clusters(tsne, rng):
    from sklearn.metrics import adjusted_rand_score
    if tsne == "opentsne":
        require("openTSNE")
    model, X, y, truth = planted(rng)
    f = V.facets(model, X, y, cls=0, layer=0, k=4, m=5, pca=8, seed=0, perplexity=15, tsne=tsne,
                 am={"steps": 3})
    assert np.array_equal(f.indices, np.flatnonzero(y == 0))
    assert f.embedding.shape == (160, 2) and f.labels.shape == (160,)
    assert adjusted_rand_score(truth, f.labels) > 0.99
    assert f.nearest.shape == (4, 5)
    assert set(f.nearest.ravel()) <= set(f.indices)
    for j in range(4):
        np.testing.assert_allclose(f.mean_images[j], X[f.nearest[j]].mean(axis=0), rtol=1e-13)
        # the nearest rows, nearest first, are the facet's own
        pos = np.searchsorted(f.indices, f.nearest[j])
        d = ((f.embedding[pos] - f.centroids[j]) ** 2).sum(axis=1)
        assert np.all(np.diff(d) >= 0)
        assert np.all(f.labels[pos] == j)
    vis = f.visualizations
    assert vis.images.shape == (4, 12) and vis.units.tolist() == [0] * 4
    np.testing.assert_allclose(vis.initial, f.mean_images, rtol=1e-13)
    assert set(f.times) == {"codes", "pca", "tsne", "kmeans", "am"}
    g = V.facets(model, X, y, cls=0, layer=0, k=4, m=5, pca=8, seed=0, perplexity=15, tsne=tsne,
                 am={"steps": 3})
    assert np.array_equal(f.embedding, g.embedding) and np.array_equal(f.labels, g.labels)
    assert np.array_equal(f.visualizations.images, g.visualizations.images)


def test_facets_bad_arguments(rng):
    model, X, y, _ = planted(rng, per=5)
    with pytest.raises(ValueError, match="class 3 has 0 rows"):
        V.facets(model, X, y, cls=3, layer=0)
    with pytest.raises(ValueError, match="m: expected at most 20"):
        V.facets(model, X, y, cls=0, layer=0, k=4, m=21)
    with pytest.raises(ValueError, match="y: expected one label per row"):
        V.facets(model, X, y[:-1], cls=0, layer=0)
    with pytest.raises(ValueError, match="tsne"):
        V.facets(model, X, y, cls=0, layer=0, tsne="umap")
    with pytest.raises(ValueError, match="am: 'init' is set by facets"):
        V.facets(model, X, y, cls=0, layer=0, k=4, m=3, am={"init": None})


def test_embedding_methods(rng, monkeypatch):
    from sklearn.decomposition import PCA
    model, X, y, _ = planted(rng, per=10)
    E = V.embedding(model, X, layer=0, method="pca", seed=0)
    np.testing.assert_allclose(E, PCA(2, random_state=0).fit_transform(X), atol=1e-10)
    T = V.embedding(model, X, layer=0, method="tsne", seed=0, perplexity=5, tsne="sklearn")
    assert T.shape == (70, 2)
    assert np.array_equal(T, V.embedding(model, X, layer=0, seed=0, perplexity=5, tsne="sklearn"))
    monkeypatch.setitem(__import__("sys").modules, "umap", None)
    with pytest.raises(ImportError, match="pip install umap-learn"):
        V.embedding(model, X, layer=0, method="umap")
    with pytest.raises(ValueError, match="method"):
        V.embedding(model, X, layer=0, method="lle")


# ---------------------------------------------------------------- max/min activating
@pytest.mark.parametrize("layer,unit", [(1, 2), (2, 3), (4, 5), (5, 1)])
def test_max_and_min_activating_are_the_argsort(layer, unit, rng):
    model = cnn(act="relu")
    X = rng.uniform(size=(50, 1, 8, 8))
    X[7] = X[3]                                   # a tie: X's order decides
    A = ref.network_forward(twin(model), X)
    a = (A[0][-1] if layer == 5 else A[1][layer])[:, unit]
    a = a if a.ndim == 1 else a.reshape(50, -1).mean(axis=1)
    top = V.max_activating(model, X, layer=layer, unit=unit, k=9, batch_size=7)
    low = V.min_activating(model, X, layer=layer, unit=unit, k=9)
    assert top.indices.tolist() == np.argsort(-a, kind="stable")[:9].tolist()
    assert low.indices.tolist() == np.argsort(a, kind="stable")[:9].tolist()
    np.testing.assert_allclose(top.values, a[top.indices], rtol=1e-12, atol=1e-14)
    assert np.array_equal(top.images, X[top.indices])
    np.testing.assert_allclose(V.unit_activations(model, X, layer, unit), a, rtol=1e-12, atol=1e-14)
    with pytest.raises(TypeError, match="one unit"):
        V.max_activating(model, X, layer=layer, unit=[0, 1])


# ---------------------------------------------------------------- plots
def test_plots_return_figures(rng):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    model, X, y, _ = planted(rng, per=10, d=16)
    fig = xnn.plot.image_grid(X[:5], titles=[0.5, 1, "a", 2.0, 3])
    assert len(fig.axes) == 5
    with pytest.raises(ValueError, match="titles"):
        xnn.plot.image_grid(X[:5], titles=[1, 2])
    assert len(xnn.plot.image_grid(rng.uniform(size=(3, 1, 4, 4))).axes) == 3
    E = V.embedding(model, X, layer=0, method="pca")
    fig = xnn.plot.embedding(E, y, images=X, n_images=4)
    assert fig.axes[0].get_legend() is not None
    with pytest.raises(ValueError, match="images"):
        xnn.plot.embedding(E, y, images=X[:3])
    f = V.facets(model, X, y, cls=0, layer=0, k=4, m=3, seed=0, perplexity=5, tsne="sklearn",
                 am={"steps": 2})
    fig = xnn.plot.facets(f)
    assert len(fig.axes) == 1 + 2 * 4
    plt.close("all")
