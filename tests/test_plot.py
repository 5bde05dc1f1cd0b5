"""xnn.plot: each figure's axes, titles, image data, colormaps and limits
(not pixels), on the Agg backend."""
import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402

import xnn  # noqa: E402
from xnn import plot  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _hist(epochs=5, val=True):
    h = {"loss": list(np.linspace(2.3, 0.5, epochs)), "ssr": list(np.linspace(0.45, 0.1, epochs)),
         "accuracy": list(np.linspace(0.1, 0.9, epochs))}
    if val:
        h.update({"val_loss": list(np.linspace(2.3, 0.6, epochs)),
                  "val_ssr": list(np.linspace(0.45, 0.12, epochs)),
                  "val_accuracy": list(np.linspace(0.1, 0.85, epochs))})
    return h


class _FixedModel:
    """predict() returns the given labels: exercises predictions() without training."""

    def __init__(self, pred):
        self.pred = np.asarray(pred)

    def predict(self, X):
        return self.pred[: len(X)]


def _image_axes(fig):
    return [ax for ax in fig.axes if ax.images]


@pytest.fixture(scope="module")
def small_model():
    model = xnn.Sequential([
        xnn.layers.Dense(64, 12, activation="relu"),
        xnn.layers.Dense(12, 7, activation="relu"),
        xnn.layers.Dense(7, 10, activation="softmax"),
    ], init="mnist_report", seed=42)
    return model


# ---------------------------------------------------------------- history
def test_history_metrics_is_figure_6():
    h = _hist()
    fig = plot.history(h)
    assert isinstance(fig, matplotlib.figure.Figure)
    assert len(fig.axes) == 2
    left, right = fig.axes
    assert left.get_title() == "Model Performance Metrics Over Epochs"
    assert right.get_ylim() == (0.0, 1.0)
    np.testing.assert_allclose(left.lines[0].get_ydata(), h["loss"])
    np.testing.assert_allclose(left.lines[1].get_ydata(), h["ssr"])
    np.testing.assert_allclose(right.lines[0].get_ydata(), h["accuracy"])
    np.testing.assert_array_equal(left.lines[0].get_xdata(), np.arange(5))
    legend = left.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == ["Cross-entropy (CE)", "SSR", "Accuracy"]


def test_history_accepts_a_history_object_and_an_axes():
    hist = xnn.History()
    for e, values in enumerate([{"loss": 1.0, "ssr": 0.3, "accuracy": 0.5},
                                {"loss": 0.8, "ssr": 0.2, "accuracy": 0.6}]):
        hist._append(e, values)
    fig, ax = plt.subplots()
    out = plot.history(hist, ax=ax)
    assert out is fig
    assert fig.axes[0] is ax and len(fig.axes) == 2
    np.testing.assert_allclose(ax.lines[0].get_ydata(), [1.0, 0.8])


def test_history_curves_is_the_lab_reports():
    h = _hist()
    fig = plot.history(h, kind="curves")
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "Loss vs epochs"
    assert acc_ax.get_title() == "Accuracy vs epochs"
    assert [line.get_label() for line in loss_ax.lines] == ["train", "test"]
    np.testing.assert_allclose(loss_ax.lines[1].get_ydata(), h["val_loss"])
    np.testing.assert_allclose(acc_ax.lines[0].get_ydata(), h["accuracy"])
    assert acc_ax.get_ylim() == (0.0, 1.0)


def test_history_curves_without_validation_and_errors():
    fig = plot.history(_hist(val=False), kind="curves")
    assert [len(ax.lines) for ax in fig.axes] == [1, 1]
    with pytest.raises(ValueError, match="kind"):
        plot.history(_hist(), kind="bars")
    with pytest.raises(TypeError, match="hist"):
        plot.history([1, 2, 3])
    with pytest.raises(ValueError, match="loss"):
        plot.history({"ssr": [1.0]})


# ---------------------------------------------------------------- predictions
def test_predictions_grid_titles_and_images():
    rng = np.random.default_rng(0)
    X = rng.random((12, 784))
    y = np.arange(12) % 10
    pred = y.copy()
    pred[3] = (pred[3] + 1) % 10
    fig = plot.predictions(_FixedModel(pred), X, y)
    axes = _image_axes(fig)
    assert len(axes) == 10
    assert axes[0].get_subplotspec().get_geometry()[:2] == (2, 5)
    assert axes[0].get_title() == "True: 0 / Pred: 0"
    assert axes[3].get_title().startswith("True: 3 / Pred: 4")
    assert matplotlib.colors.same_color(axes[3].title.get_color(), "red")
    assert matplotlib.colors.same_color(axes[0].title.get_color(), "black")
    np.testing.assert_array_equal(axes[5].images[0].get_array(), X[5].reshape(28, 28))


def test_predictions_with_a_model_one_hot_labels_and_8x8(small_model):
    X, y = np.random.default_rng(1).random((6, 64)), np.arange(6)
    onehot = np.eye(10)[y]
    fig = plot.predictions(small_model, X, onehot, n=6, ncols=3)
    axes = _image_axes(fig)
    assert len(axes) == 6
    assert axes[0].images[0].get_array().shape == (8, 8)
    pred = small_model.predict(X)
    for ax, t, p in zip(axes, y, pred):
        assert ax.get_title().startswith(f"True: {t} / Pred: {p}")


# ---------------------------------------------------------------- saliency
def test_saliency_side_by_side():
    rng = np.random.default_rng(2)
    img, sal = rng.random(784), rng.random(784)
    fig = plot.saliency(img, sal)
    axes = _image_axes(fig)
    assert [ax.get_title() for ax in axes] == ["Original image", "Saliency map"]
    np.testing.assert_array_equal(axes[0].images[0].get_array(), img.reshape(28, 28))
    np.testing.assert_array_equal(axes[1].images[0].get_array(), sal.reshape(28, 28))
    assert axes[0].images[0].get_cmap().name == "gray"
    assert axes[1].images[0].get_cmap().name == "hot"
    assert len(fig.axes) == 3  # two images and the heat map's colour bar


def test_saliency_overlay_and_shape():
    rng = np.random.default_rng(3)
    img, sal = rng.random((1, 12)), rng.random(12)
    fig = plot.saliency(img, sal, overlay=True, shape=(3, 4), alpha=0.4)
    axes = _image_axes(fig)
    assert [ax.get_title() for ax in axes] == ["Original image", "Saliency map", "Overlay"]
    over = axes[2].images
    assert len(over) == 2
    assert over[1].get_cmap().name == "hot" and over[1].get_alpha() == 0.4
    np.testing.assert_array_equal(over[0].get_array(), img.reshape(3, 4))
    with pytest.raises(ValueError, match="square"):
        plot.saliency(np.zeros(12), np.zeros(12))
    with pytest.raises(ValueError, match="saliency_map"):
        plot.saliency(np.zeros(16), np.zeros(64))


# ---------------------------------------------------------------- activations
def test_activations_is_figure_10(small_model):
    x = np.random.default_rng(4).random(64)
    fig = plot.activations(small_model, x)
    axes = _image_axes(fig)
    assert len(axes) == 4  # input + 3 layers
    assert axes[0].get_title() == "Input"
    np.testing.assert_array_equal(axes[0].images[0].get_array(), x.reshape(8, 8))
    acts = small_model.activations(x[None])
    for ax, a in zip(axes[1:], acts):
        np.testing.assert_allclose(ax.images[0].get_array(), a)
    assert axes[1].get_title() == "Hidden layer 1 (relu, 12 units)"
    assert axes[2].get_title() == "Hidden layer 2 (relu, 7 units)"
    assert axes[3].get_title() == "Output probabilities"
    assert axes[3].images[0].get_clim() == (0, 1)


# ---------------------------------------------------------------- relevance
def test_relevance_one_image_several_rules():
    rng = np.random.default_rng(5)
    img = rng.random(784)
    R = rng.normal(size=(4, 784))
    R[2] *= 10
    fig = plot.relevance(img, R, titles=["LRP-0", "LRP-ε", "LRP-γ", "composite"])
    axes = _image_axes(fig)
    assert len(axes) == 5
    assert [ax.get_title() for ax in axes] == ["Input", "LRP-0", "LRP-ε", "LRP-γ", "composite"]
    np.testing.assert_array_equal(axes[0].images[0].get_array(), img.reshape(28, 28))
    for ax, r in zip(axes[1:], R):
        im = ax.images[0]
        assert im.get_cmap().name == "bwr"
        lo, hi = im.get_clim()
        assert lo == -hi
        assert hi == pytest.approx(np.abs(r).max())
        np.testing.assert_array_equal(im.get_array(), r.reshape(28, 28))


def test_relevance_one_image_per_map_and_no_images():
    rng = np.random.default_rng(6)
    imgs, R = rng.random((3, 64)), rng.normal(size=(3, 8, 8))
    fig = plot.relevance(imgs, R, cmap="seismic")
    axes = _image_axes(fig)
    assert len(axes) == 6
    np.testing.assert_array_equal(axes[1].images[0].get_array(), imgs[1].reshape(8, 8))
    assert axes[4].images[0].get_cmap().name == "seismic"
    fig = plot.relevance(None, np.zeros(64))  # all-zero map: limits stay symmetric
    (ax,) = _image_axes(fig)
    lo, hi = ax.images[0].get_clim()
    assert lo == -hi and hi > 0
    with pytest.raises(ValueError, match="titles"):
        plot.relevance(None, R, titles=["a"])
    with pytest.raises(ValueError, match="images"):
        plot.relevance(rng.random((2, 64)), R)


# ---------------------------------------------------------------- digits
def test_digits_grid():
    X = np.random.default_rng(7).random((40, 784))
    y = np.arange(40) % 10
    fig = plot.digits(X, y)
    axes = _image_axes(fig)
    assert len(axes) == 25
    assert axes[0].get_subplotspec().get_geometry()[:2] == (5, 5)
    assert axes[7].get_title() == "7"
    np.testing.assert_array_equal(axes[7].images[0].get_array(), X[7].reshape(28, 28))
    fig = plot.digits(X[:, :64], n=9, seed=0)
    axes = _image_axes(fig)
    assert len(axes) == 9 and axes[0].get_title() == ""
    idx = np.random.RandomState(0).choice(40, 9, replace=False)
    np.testing.assert_array_equal(axes[0].images[0].get_array(), X[idx[0], :64].reshape(8, 8))


# ---------------------------------------------------------------- compare_inits
def test_compare_inits():
    results = {"lab_random": _hist(), "lab_lecun": _hist(val=False)}
    hist = xnn.History()
    hist._append(0, {"loss": 1.0, "ssr": 0.2, "accuracy": 0.5})
    results["lab_he"] = hist
    fig = plot.compare_inits(results)
    assert len(fig.axes) == 2
    loss_ax, acc_ax = fig.axes
    assert loss_ax.get_title() == "Loss per initialisation"
    assert acc_ax.get_title() == "Accuracy per initialisation"
    labels = [line.get_label() for line in acc_ax.lines]
    assert labels == ["lab_random train", "lab_random test", "lab_lecun train", "lab_he train"]
    np.testing.assert_allclose(acc_ax.lines[1].get_ydata(), results["lab_random"]["val_accuracy"])
    assert acc_ax.lines[1].get_linestyle() == "--"
    with pytest.raises(TypeError):
        plot.compare_inits({})


def test_no_pyplot_show_and_lazy_import(tmp_path):
    import subprocess
    import sys

    from conftest import subprocess_kwargs
    code = ("import sys, xnn, xnn.plot; "
            "assert 'matplotlib' not in sys.modules, 'matplotlib imported eagerly'")
    kwargs = subprocess_kwargs(tmp_path)
    kwargs["env"].pop("MPLBACKEND")
    subprocess.run([sys.executable, "-c", code], check=True, **kwargs)


# ---------------------------------------------------------------- CNNs
@pytest.fixture(scope="module")
def small_cnn():
    return xnn.Sequential([
        xnn.layers.Conv2d(1, 10, 3, activation="relu"),
        xnn.layers.MaxPool2d(2),
        xnn.layers.Flatten(),
        xnn.layers.Dense(10 * 3 * 3, 4, activation="softmax"),
    ], input_shape=(1, 8, 8), seed=3)


def test_activations_of_a_cnn_are_feature_map_grids(small_cnn):
    x = np.random.default_rng(5).random(64)
    fig = plot.activations(small_cnn, x.reshape(1, 8, 8), max_channels=9)
    axes = _image_axes(fig)
    acts = [a[0] for a in small_cnn.activations(x[None])]
    # input, 9 conv maps, 9 pooled maps, the flattened strip, the output
    assert len(axes) == 1 + 9 + 9 + 2
    np.testing.assert_array_equal(axes[0].images[0].get_array(), x.reshape(8, 8))
    conv, pool = axes[1:10], axes[10:19]
    for c in range(9):
        np.testing.assert_allclose(conv[c].images[0].get_array(), acts[0][c])
        np.testing.assert_allclose(pool[c].images[0].get_array(), acts[1][c])
    # one colour scale per layer, from min(0, lowest) to the highest map value
    assert conv[4].images[0].get_clim() == (0.0, pytest.approx(float(acts[0][:9].max())))
    assert conv[0].get_title(loc="left") == "Conv2d 0 (relu, 10 x 6 x 6, first 9)"
    assert pool[0].get_title(loc="left") == "MaxPool2d 1 (10 x 3 x 3, first 9)"
    assert axes[19].get_title() == "Flatten 2 (90 values)"
    assert axes[20].get_title() == "Output probabilities"
    np.testing.assert_allclose(axes[20].images[0].get_array()[0], acts[3])


def test_cam_overlays_upsampled_normalised_maps():
    rng = np.random.default_rng(6)
    imgs = rng.random((3, 1, 8, 8))
    maps = rng.random((3, 4, 4))
    maps[2] = 0.0                                   # an all-zero CAM: drawn as nothing
    fig = plot.cam(imgs, maps, titles=["a", "b", "c"])
    axes = _image_axes(fig)
    assert [ax.get_title() for ax in axes] == ["a", "b", "c"]
    up = xnn.explain.upsample(maps, (8, 8))
    for i, ax in enumerate(axes):
        base, over = ax.images
        np.testing.assert_array_equal(base.get_array(), imgs[i, 0])
        v = up[i].max()
        expect = up[i] / v if v > 0 else np.zeros((8, 8))
        np.testing.assert_allclose(over.get_array(), expect, rtol=1e-12, atol=1e-15)
        assert over.get_clim() == (0, 1)
        np.testing.assert_allclose(over.get_alpha(), 0.5 * expect)   # opacity follows the map
    with pytest.raises(ValueError, match="maps: expected one map per image"):
        plot.cam(imgs, maps[:2])
    with pytest.raises(ValueError, match="titles: expected 3 titles"):
        plot.cam(imgs, maps, titles=["a"])


def test_cam_of_grad_cam_on_a_cnn(small_cnn):
    X = np.random.default_rng(7).random((2, 64))
    res = xnn.explain.grad_cam(small_cnn, X, layer=0)
    fig = plot.cam(X, res.maps)
    assert len(_image_axes(fig)) == 2


def test_timeseries_colours_the_signal_by_its_attribution():
    t = np.linspace(0, 2 * np.pi, 50)
    x, a = np.sin(t), np.cos(t) * 3.0
    fig = plot.timeseries(x, a, title="GunPoint")
    ax = fig.axes[0]
    (lc,) = ax.collections
    assert len(lc.get_segments()) == 49
    np.testing.assert_allclose(lc.get_array(), 0.5 * (a[:-1] + a[1:]))
    assert lc.get_clim() == (pytest.approx(-3.0), pytest.approx(3.0))   # symmetric, centred at 0
    assert ax.get_title() == "GunPoint" and ax.get_xlabel() == "time step"
    assert ax.get_xlim() == (0, 49)
    assert len(ax.lines) == 1                       # the gray signal under the colours
    np.testing.assert_array_equal(ax.lines[0].get_ydata(), x)
    # two channels, one Grad-CAM over time broadcast to both: non-negative, limits (0, v)
    fig = plot.timeseries(np.stack([x, -x]), np.abs(a), colorbar=False, cmap="Reds")
    assert len(fig.axes[0].collections) == 2
    assert fig.axes[0].collections[0].get_clim() == (0.0, pytest.approx(3.0))
    fig = plot.timeseries(np.stack([x, -x]), np.stack([a, a]), channel=1)
    assert len(fig.axes[0].collections) == 1
    with pytest.raises(ValueError, match=r"channel: expected an integer in \[0, 2\)"):
        plot.timeseries(np.stack([x, -x]), np.stack([a, a]), channel=2)
    with pytest.raises(ValueError, match="attribution: expected the shape of x"):
        plot.timeseries(x, a[:10])
