"""The figures of the reports, drawn with matplotlib.

Every function imports matplotlib when it is called (``import xnn`` does not
need it), takes ``ax=`` (one Axes) or ``fig=`` (a Figure to draw several
axes into), returns the Figure it drew on and never calls ``plt.show()``.
Images may be any square size (28x28 MNIST, 8x8 digits): the side is the
square root of the number of features, or pass ``shape=(rows, cols)``.

===================  ======================================================
``history``          loss/SSR/accuracy over epochs (MNIST report, fig. 6);
                     ``kind="curves"``: train/test loss and accuracy side
                     by side (the lab report)
``predictions``      grid of images titled "True: t / Pred: p" (fig. 8)
``saliency``         image beside its saliency heat map (fig. 9), overlay
``activations``      input image and every layer's activations (fig. 10)
``relevance``        LRP heat maps, diverging colormap centred at zero
``digits``           the lab report's 5x5 grid of digits
``compare_inits``    loss and accuracy curves per initialiser
``perturbation_curves``  pixel-flipping / region-perturbation curves of
                     several methods: mean with a band
``randomization``    the sanity check's maps per randomised layer and the
                     similarity curves (Adebayo et al. 2018)
===================  ======================================================

>>> hist = model.fit(X, y, epochs=100)                      # doctest: +SKIP
>>> xnn.plot.history(hist).savefig("history.png")          # doctest: +SKIP
"""
import math

import numpy as np

__all__ = ["history", "predictions", "saliency", "activations", "relevance", "digits",
           "compare_inits", "perturbation_curves", "randomization"]

#: colour of the title of a misclassified image
WRONG = "red"
RIGHT = "black"


# ---------------------------------------------------------------- helpers
def _pyplot():
    try:
        import matplotlib.pyplot as plt
    except ImportError:  # a dependency, but say what to do if it is missing
        raise ImportError("xnn.plot needs matplotlib: pip install matplotlib") from None
    return plt


def _figure(fig, figsize):
    """The Figure to draw on: ``fig`` (cleared of nothing) or a new one."""
    if fig is not None:
        return fig
    return _pyplot().figure(figsize=figsize)


def _axes(ax, figsize):
    if ax is not None:
        return ax.figure, ax
    fig = _pyplot().figure(figsize=figsize)
    return fig, fig.add_subplot(1, 1, 1)


def _history_dict(hist, name="hist"):
    h = getattr(hist, "history", hist)
    if not isinstance(h, dict):
        raise TypeError(f"{name}: expected an xnn History or its .history dict, "
                        f"got {type(hist).__name__}")
    return h


def _image_shape(n, shape, name):
    if shape is not None:
        shape = tuple(int(s) for s in shape)
        if len(shape) != 2 or shape[0] * shape[1] != n:
            raise ValueError(f"shape: expected (rows, cols) with rows * cols == {n} "
                             f"(the size of {name}), got {shape}")
        return shape
    side = math.isqrt(n)
    if side * side != n:
        raise ValueError(f"{name}: {n} values do not make a square image; "
                         "pass shape=(rows, cols)")
    return side, side


def _image(x, shape=None, name="image"):
    """One image as a 2-D array: a flat row (n,), a (1, n) row or a 2-D image."""
    arr = np.asarray(x)
    if arr.ndim == 2 and arr.shape[0] == 1 and shape is None and arr.shape[1] > 1:
        arr = arr[0]
    if arr.ndim == 2 and shape is None:
        return arr
    if arr.ndim not in (1, 2):
        raise ValueError(f"{name}: expected a flat image (n,) or a 2-D image, "
                         f"got shape {arr.shape}")
    flat = arr.reshape(-1)
    return flat.reshape(_image_shape(flat.size, shape, name))


def _images(X, shape=None, name="X"):
    """A batch of images as a 3-D array (k, rows, cols)."""
    arr = np.asarray(X)
    if arr.ndim == 1:
        return _image(arr, shape, name)[None]
    if arr.ndim == 2:
        return arr.reshape((arr.shape[0],) + _image_shape(arr.shape[1], shape, name))
    if arr.ndim == 3:
        if shape is not None and tuple(shape) != arr.shape[1:]:
            raise ValueError(f"shape: expected {arr.shape[1:]} for {name} of shape "
                             f"{arr.shape}, got {tuple(shape)}")
        return arr
    raise ValueError(f"{name}: expected images as (k, n) rows or (k, rows, cols), "
                     f"got shape {arr.shape}")


def _labels(y, name="y"):
    y = np.asarray(y)
    if y.ndim == 2:  # one-hot rows
        return np.argmax(y, axis=1)
    if y.ndim != 1:
        raise ValueError(f"{name}: expected labels (m,) or one-hot rows (m, k), got shape {y.shape}")
    return y


def _bare(ax):
    ax.set_xticks([])
    ax.set_yticks([])


def _grid(n, ncols):
    ncols = max(1, min(n, ncols))
    return math.ceil(n / ncols), ncols


# ---------------------------------------------------------------- history
def history(hist, kind="metrics", ax=None, val_label="test"):
    """Training curves of a History (or its ``.history`` dict).

    kind="metrics" (the MNIST report's figure 6): cross-entropy and SSR on
        the left axis, accuracy on a twin right axis with limits 0..1, title
        "Model Performance Metrics Over Epochs", one legend for all lines.
        ``ax``: the Axes to draw on (the twin is added beside it).
    kind="curves" (the lab report): loss (left) and accuracy (right) over
        epochs, the training curve and, if the history has ``val_*`` values,
        the ``val_label`` curve. ``ax``: a pair of Axes, or None.

    Returns the Figure.
    """
    h = _history_dict(hist)
    if "loss" not in h or "accuracy" not in h:
        raise ValueError(f"hist: expected 'loss' and 'accuracy' values, got keys {sorted(h)}")
    epochs = np.arange(len(h["loss"]))
    if kind == "metrics":
        fig, left = _axes(ax, (8, 5))
        lines = left.plot(epochs, h["loss"], color="tab:blue", label="Cross-entropy (CE)")
        if "ssr" in h:
            lines += left.plot(epochs, h["ssr"], color="tab:orange", label="SSR")
        left.set_xlabel("Epoch")
        left.set_ylabel("Loss")
        left.set_ylim(bottom=0)
        right = left.twinx()
        lines += right.plot(epochs, h["accuracy"], color="tab:green", label="Accuracy")
        right.set_ylim(0, 1)
        right.set_ylabel("Accuracy")
        left.set_title("Model Performance Metrics Over Epochs")
        left.legend(lines, [line.get_label() for line in lines], loc="center right")
        left.grid(True, alpha=0.3)
        return fig
    if kind == "curves":
        if ax is None:
            fig = _figure(None, (11, 4))
            axes = fig.subplots(1, 2)
        else:
            axes = list(ax)
            if len(axes) != 2:
                raise ValueError(f"ax: expected two Axes for kind='curves', got {len(axes)}")
            fig = axes[0].figure
        for a, key, title in ((axes[0], "loss", "Loss"), (axes[1], "accuracy", "Accuracy")):
            a.plot(epochs, h[key], label="train")
            if "val_" + key in h:
                a.plot(np.arange(len(h["val_" + key])), h["val_" + key], label=val_label)
            a.set_title(f"{title} vs epochs")
            a.set_xlabel("Epoch")
            a.set_ylabel(title)
            a.grid(True, alpha=0.3)
            a.legend()
        axes[1].set_ylim(0, 1)
        return fig
    raise ValueError(f"kind: expected 'metrics' or 'curves', got {kind!r}")


# ---------------------------------------------------------------- images
def predictions(model, X, y, n=10, ncols=5, shape=None, fig=None, cmap="gray"):
    """The MNIST report's figure 8: the first ``n`` images of X in a grid
    (2x5 for n=10), each titled "True: t / Pred: p"; misclassified titles are
    red and end with " ✗".

    ``model`` is anything with ``predict(X)``; ``y`` integer labels or
    one-hot rows. Returns the Figure.
    """
    X = np.asarray(X)
    n = min(int(n), X.shape[0])
    if n < 1:
        raise ValueError("n: expected at least one image")
    images = _images(X[:n], shape)
    true = _labels(y)[:n]
    pred = np.asarray(model.predict(X[:n]))
    rows, cols = _grid(n, ncols)
    fig = _figure(fig, (2.0 * cols, 2.3 * rows))
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(images[i], cmap=cmap)
        ok = int(true[i]) == int(pred[i])
        ax.set_title(f"True: {int(true[i])} / Pred: {int(pred[i])}" + ("" if ok else " ✗"),
                     color=RIGHT if ok else WRONG, fontsize=10)
        _bare(ax)
    fig.tight_layout()
    return fig


def saliency(image, saliency_map, overlay=False, shape=None, fig=None, cmap="hot",
             alpha=0.5, title=None):
    """The MNIST report's figure 9: the original image (gray) beside its
    saliency heat map (``cmap``, default "hot", with a colour bar).

    overlay=True adds a third panel: the heat map drawn over the gray image
    with transparency ``alpha``. Returns the Figure.
    """
    img = _image(image, shape, "image")
    sal = _image(saliency_map, shape if shape is not None else img.shape, "saliency_map")
    if sal.shape != img.shape:
        raise ValueError(f"saliency_map: expected the image's shape {img.shape}, got {sal.shape}")
    panels = 3 if overlay else 2
    fig = _figure(fig, (4.0 * panels, 3.6))
    axes = fig.subplots(1, panels)
    axes[0].imshow(img, cmap="gray")
    axes[0].set_title("Original image")
    im = axes[1].imshow(sal, cmap=cmap)
    axes[1].set_title("Saliency map")
    fig.colorbar(im, ax=axes[1], fraction=0.046, pad=0.04)
    if overlay:
        axes[2].imshow(img, cmap="gray")
        axes[2].imshow(sal, cmap=cmap, alpha=alpha)
        axes[2].set_title("Overlay")
    for a in axes:
        _bare(a)
    if title:
        fig.suptitle(title)
    return fig


def activations(model, x, shape=None, fig=None, cmap="viridis"):
    """The MNIST report's figure 10: the input as an image, then every
    layer's activations for it as a heat strip (the last one the output
    probabilities, with the classes as ticks). Returns the Figure.

    ``x`` is one input row (n,) (or (1, n)); ``model`` an ``xnn.Sequential``
    (anything with ``activations(X)`` and ``layers``).
    """
    row = np.asarray(x).reshape(1, -1)
    img = _image(row[0], shape, "x")
    acts = [np.asarray(a)[0] for a in model.activations(row)]
    layers = getattr(model, "layers", [None] * len(acts))
    fig = _figure(fig, (10, 1.0 + 1.4 * len(acts)))
    gs = fig.add_gridspec(len(acts), 2, width_ratios=[1, 3], hspace=1.0)
    ax_in = fig.add_subplot(gs[:, 0])
    ax_in.imshow(img, cmap="gray")
    ax_in.set_title("Input")
    _bare(ax_in)
    for i, a in enumerate(acts):
        ax = fig.add_subplot(gs[i, 1])
        last = i == len(acts) - 1
        act = getattr(layers[i], "activation", "")
        if last:
            name = "Output probabilities" if act == "softmax" else f"Output ({act})"
        else:
            name = f"Hidden layer {i + 1} ({act}, {a.size} units)"
        im = ax.imshow(a[None, :], cmap=cmap, aspect="auto",
                       vmin=0 if last and act == "softmax" else None,
                       vmax=1 if last and act == "softmax" else None)
        ax.set_title(name, fontsize=10)
        ax.set_yticks([])
        if last and a.size <= 20:
            ax.set_xticks(range(a.size))
        fig.colorbar(im, ax=ax, fraction=0.03, pad=0.02)
    return fig


def relevance(images, relevances, titles=None, shape=None, fig=None, cmap="bwr", ncols=6):
    """Relevance heat maps side by side (the LRP poster's comparison of rules).

    images : one image (n,) for every map (e.g. one digit under several
        rules: drawn once, as the first panel), or one image per map (k, n)
        (drawn in a row above the maps), or None (maps only).
    relevances : (k, n) maps (or (k, rows, cols), or one map (n,)).
    titles : k titles for the maps (e.g. the rule names).

    Each map uses the diverging colormap ``cmap`` centred at zero with
    symmetric limits ``(-v, v)``, v = max |R| of that map: red is evidence
    for the class, blue against it. Returns the Figure.
    """
    R = _images(relevances, shape, "relevances")
    k = R.shape[0]
    if titles is not None:
        titles = list(titles)
        if len(titles) != k:
            raise ValueError(f"titles: expected {k} titles (one per map), got {len(titles)}")
    imgs = None
    if images is not None:
        imgs = _images(images, R.shape[1:], "images")
        if imgs.shape[0] not in (1, k):
            raise ValueError(f"images: expected 1 or {k} images (one per map), got {imgs.shape[0]}")
        if imgs.shape[1:] != R.shape[1:]:
            raise ValueError(f"images: expected images of shape {R.shape[1:]}, got {imgs.shape[1:]}")
    single = imgs is not None and imgs.shape[0] == 1
    panels = k + (1 if single else 0)
    if imgs is not None and not single:
        rows, cols = 2, k
    else:
        rows, cols = _grid(panels, ncols)
    fig = _figure(fig, (2.4 * cols, 2.5 * rows))
    pos = 1
    if single:
        ax = fig.add_subplot(rows, cols, pos)
        ax.imshow(imgs[0], cmap="gray")
        ax.set_title("Input")
        _bare(ax)
        pos += 1
    elif imgs is not None:
        for i in range(k):
            ax = fig.add_subplot(rows, cols, i + 1)
            ax.imshow(imgs[i], cmap="gray")
            _bare(ax)
        pos = k + 1
    for i in range(k):
        ax = fig.add_subplot(rows, cols, pos + i)
        v = float(np.max(np.abs(R[i]))) if R[i].size else 0.0
        v = v if v > 0 and np.isfinite(v) else 1.0
        ax.imshow(R[i], cmap=cmap, vmin=-v, vmax=v)
        if titles is not None:
            ax.set_title(str(titles[i]))
        _bare(ax)
    fig.tight_layout()
    return fig


def digits(X, y=None, n=25, shape=None, fig=None, seed=None, cmap="gray"):
    """The lab report's grid of digits: ``n`` images (5x5 for n=25), the
    first ``n`` rows of X, or ``n`` random rows when ``seed`` is given; titled
    with their labels if ``y`` is given. Returns the Figure."""
    X = np.asarray(X)
    n = min(int(n), X.shape[0])
    if n < 1:
        raise ValueError("n: expected at least one image")
    if seed is None:
        idx = np.arange(n)
    else:
        idx = np.random.RandomState(seed).choice(X.shape[0], n, replace=False)
    images = _images(X[idx], shape)
    labels = _labels(y)[idx] if y is not None else None
    rows, cols = _grid(n, math.ceil(math.sqrt(n)))
    fig = _figure(fig, (1.6 * cols, 1.7 * rows))
    for i in range(n):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(images[i], cmap=cmap)
        if labels is not None:
            ax.set_title(str(int(labels[i])), fontsize=9)
        _bare(ax)
    fig.tight_layout()
    return fig


def compare_inits(results, fig=None, val_label="test"):
    """Loss and accuracy over epochs for several initialisers on two axes:
    one colour per initialiser, the training curve solid and the
    ``val_label`` (``val_*``) curve dashed.

    results : dict name -> History (or its ``.history`` dict).
    Returns the Figure.
    """
    if not isinstance(results, dict) or not results:
        raise TypeError("results: expected a non-empty dict name -> History")
    fig = _figure(fig, (12, 4.5))
    axes = fig.subplots(1, 2)
    colors = [f"C{i % 10}" for i in range(len(results))]
    for color, (name, hist) in zip(colors, results.items()):
        h = _history_dict(hist, f"results[{name!r}]")
        for ax, key in ((axes[0], "loss"), (axes[1], "accuracy")):
            ax.plot(np.arange(len(h[key])), h[key], color=color, label=f"{name} train")
            if "val_" + key in h:
                ax.plot(np.arange(len(h["val_" + key])), h["val_" + key], color=color,
                        linestyle="--", label=f"{name} {val_label}")
    for ax, title in ((axes[0], "Loss"), (axes[1], "Accuracy")):
        ax.set_title(f"{title} per initialisation")
        ax.set_xlabel("Epoch")
        ax.set_ylabel(title)
        ax.grid(True, alpha=0.3)
        ax.legend(fontsize=8)
    fig.tight_layout()
    return fig


# ---------------------------------------------------------------- evaluation
_CURVE_LABELS = {"probability": "target probability", "logit": "target logit",
                 "confidence": "confidence (max - 2nd) / max of the probabilities",
                 "confidence_logits": "confidence (max - 2nd) / max of the logits"}


def perturbation_curves(results, curve="probability", band="std", ax=None, title=None,
                        x="fraction"):
    """Perturbation curves of several explanation methods on one Axes: for
    each, the mean over the images of ``curve`` after every step, with a
    band of one standard deviation (``band="std"``), of the standard error
    (``"sem"``) or none (None); the legend gives each method's AOPC.

    results : ``xnn.evaluate.PerturbationCurves``, a list of them, or a dict
        label -> PerturbationCurves.
    curve : ``"probability"``, ``"logit"``, ``"confidence"`` or
        ``"confidence_logits"``.
    x : ``"fraction"`` (of the pixels removed) or ``"step"``.
    Returns the Figure.
    """
    if isinstance(results, dict):
        items = list(results.items())
    elif isinstance(results, (list, tuple)):
        items = [(f"{getattr(r, 'method', 'curve')} ({getattr(r, 'order', '')})", r) for r in results]
    else:
        items = [(f"{getattr(results, 'method', 'curve')} ({getattr(results, 'order', '')})", results)]
    if not items:
        raise ValueError("results: expected at least one PerturbationCurves")
    for name, r in items:
        if not hasattr(r, "curve") or not hasattr(r, "fraction"):
            raise TypeError(f"results[{name!r}]: expected xnn.evaluate.PerturbationCurves, "
                            f"got {type(r).__name__}")
    if band not in ("std", "sem", None):
        raise ValueError(f"band: expected 'std', 'sem' or None, got {band!r}")
    if x not in ("fraction", "step"):
        raise ValueError(f"x: expected 'fraction' or 'step', got {x!r}")
    fig, ax = _axes(ax, (7, 4.5))
    for i, (name, r) in enumerate(items):
        c = np.asarray(r.curve(curve), dtype=np.float64)
        mean = np.nanmean(c, axis=0)
        xs = r.fraction if x == "fraction" else np.arange(c.shape[1])
        color = f"C{i % 10}"
        ax.plot(xs, mean, color=color, label=f"{name} (AOPC {r.aopc(curve):.3f})")
        if band is not None and c.shape[0] > 1:
            spread = np.nanstd(c, axis=0)
            if band == "sem":
                spread = spread / np.sqrt(c.shape[0])
            ax.fill_between(xs, mean - spread, mean + spread, color=color, alpha=0.2, linewidth=0)
    ax.set_xlabel("fraction of pixels removed" if x == "fraction" else "step")
    ax.set_ylabel(_CURVE_LABELS.get(curve, curve))
    ax.set_title(title if title is not None else "Perturbation curves")
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig


def randomization(result, images=None, n=3, fig=None, cmap="bwr", abs=False):
    """The model parameter randomisation test as in Adebayo et al. (2018):
    rows of maps (one row per image, one column per stage: the trained
    model, then each randomised layer) above the mean similarity curves
    (Spearman of the signed and the absolute maps, SSIM) per stage.

    result : ``xnn.evaluate.RandomizationCheck``.
    images : the explained inputs, drawn as a first column (optional).
    n : how many images to draw (the first n).
    abs : draw |map| (with the "hot" colormap unless ``cmap`` is given).
    Returns the Figure.
    """
    for attr in ("maps", "labels", "spearman", "spearman_abs", "ssim"):
        if not hasattr(result, attr):
            raise TypeError("result: expected xnn.evaluate.RandomizationCheck, "
                            f"got {type(result).__name__}")
    maps = np.asarray(result.maps)
    stages, m, d = maps.shape
    n = max(1, min(int(n), m))
    hw = getattr(result, "shape", None) or _image_shape(d, None, "maps")
    imgs = None
    if images is not None:
        imgs = _images(np.asarray(images)[:n], hw, "images")
    cols = stages + (1 if imgs is not None else 0)
    fig = _figure(fig, (1.7 * cols + 1, 1.8 * n + 3.2))
    gs = fig.add_gridspec(n + 1, cols, height_ratios=[1] * n + [1.8], hspace=0.45)
    if abs and cmap == "bwr":
        cmap = "hot"
    for i in range(n):
        c0 = 0
        if imgs is not None:
            a = fig.add_subplot(gs[i, 0])
            a.imshow(imgs[i], cmap="gray")
            _bare(a)
            if i == 0:
                a.set_title("input", fontsize=9)
            c0 = 1
        for s in range(stages):
            a = fig.add_subplot(gs[i, c0 + s])
            mp = maps[s, i].reshape(hw)
            if abs:
                mp = np.abs(mp)
                a.imshow(mp, cmap=cmap)
            else:
                v = float(np.max(np.abs(mp))) or 1.0
                a.imshow(mp, cmap=cmap, vmin=-v, vmax=v)
            _bare(a)
            if i == 0:
                a.set_title(result.labels[s], fontsize=9)
    ax = fig.add_subplot(gs[n, :])
    xs = np.arange(stages)
    for key, label in (("spearman", "Spearman"), ("spearman_abs", "Spearman (abs)"),
                       ("ssim", "SSIM")):
        vals = np.asarray(getattr(result, key), dtype=np.float64)
        # the trained model's map is identical to itself: similarity 1
        mean = np.concatenate([[1.0], np.nanmean(vals, axis=1)])
        sd = np.concatenate([[0.0], np.nanstd(vals, axis=1)])
        line, = ax.plot(xs, mean, marker="o", label=label)
        ax.fill_between(xs, mean - sd, mean + sd, color=line.get_color(), alpha=0.15, linewidth=0)
    ax.axhline(1.0, color="gray", linewidth=0.8, linestyle=":")
    ax.set_xticks(xs)
    ax.set_xticklabels(result.labels, fontsize=8)
    ax.set_xlabel(f"{getattr(result, 'mode', '')} randomisation, from the output layer down")
    ax.set_ylabel("similarity to the trained model's map")
    ax.set_ylim(-0.5, 1.05)
    ax.grid(True, alpha=0.3)
    ax.legend(fontsize=8)
    return fig
