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
``activations``      input image and every layer's activations (fig. 10);
                     for a CNN, each conv and pooling layer's feature maps
``cam``              class activation maps over their images
``relevance``        LRP heat maps, diverging colormap centred at zero
``digits``           the lab report's 5x5 grid of digits
``compare_inits``    loss and accuracy curves per initialiser
``perturbation_curves``  pixel-flipping / region-perturbation curves of
                     several methods: mean with a band
``randomization``    the sanity check's maps per randomised layer and the
                     similarity curves (Adebayo et al. 2018)
``timeseries``       a signal coloured by its attribution (1-D CNNs)
``image_grid``       a grid of images with titles (max/min activating
                     images, activation maximization)
``embedding``        a 2-D map of hidden codes coloured by class, with a
                     few images as thumbnails (t-SNE of representations)
``facets``           the MFV figure: the t-SNE map with its k-means facets,
                     each facet's mean image and its visualization
===================  ======================================================

Images may also come as NCHW blocks ``(k, 1, H, W)``; maps of several
channels ``(k, C, H, W)`` are summed over the channels.

>>> hist = model.fit(X, y, epochs=100)                      # doctest: +SKIP
>>> xnn.plot.history(hist).savefig("history.png")          # doctest: +SKIP
"""
import math

import numpy as np

__all__ = ["history", "predictions", "saliency", "activations", "relevance", "digits",
           "compare_inits", "perturbation_curves", "randomization", "cam", "timeseries",
           "image_grid", "embedding", "facets"]

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
    """A batch of images as a 3-D array (k, rows, cols); NCHW blocks (k, C,
    rows, cols) lose their channel axis (summed when there are several)."""
    arr = np.asarray(X)
    if arr.ndim == 4:
        arr = arr[:, 0] if arr.shape[1] == 1 else arr.sum(axis=1)
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


def _input_image(model, x, shape):
    """(one input row (1, n), its image (rows, cols) or None for a signal)."""
    arr = np.asarray(x)
    in_shape = tuple(getattr(model, "input_shape", ()) or ())
    row = arr.reshape(1, -1)
    if len(in_shape) == 3:
        img = row[0].reshape(in_shape)
        return row, (img[0] if in_shape[0] == 1 else img.mean(axis=0))
    if len(in_shape) == 2:
        return row, None
    return row, _image(row[0], shape, "x")


def activations(model, x, shape=None, fig=None, cmap="viridis", max_channels=16):
    """The MNIST report's figure 10: the input as an image, then every
    layer's activations for it: dense layers as heat strips (the last one
    the output probabilities, with the classes as ticks), convolution and
    pooling layers of a CNN as a grid of their feature maps (the first
    ``max_channels`` channels; signals as one heat row per channel) — the
    survey's first method. Returns the Figure.

    ``x`` is one input (a row, or one image/signal of the model's input
    shape); ``model`` an ``xnn.Sequential``.
    """
    row, img = _input_image(model, x, shape)
    acts = [np.asarray(a)[0] for a in model.activations(row)]
    layers = getattr(model, "layers", [None] * len(acts))
    maps = [a.ndim == 3 and a.shape[1] * a.shape[2] > 1 for a in acts]
    per_row = 8
    grid_rows = [math.ceil(min(a.shape[0], max_channels) / per_row) if mp else 0
                 for a, mp in zip(acts, maps)]
    heights = [1.25 * r + 0.35 if mp else 0.9 for r, mp in zip(grid_rows, maps)]
    fig = _figure(fig, (11, 0.9 + 1.15 * sum(heights)))
    gs = fig.add_gridspec(len(acts), 2, width_ratios=[1, 3], height_ratios=heights, hspace=0.9)
    ax_in = fig.add_subplot(gs[:min(2, len(acts)), 0])
    if img is not None:
        ax_in.imshow(img, cmap="gray")
    else:
        ax_in.imshow(row[0].reshape(model.input_shape), cmap="gray", aspect="auto")
    ax_in.set_title("Input")
    _bare(ax_in)
    for i, a in enumerate(acts):
        last = i == len(acts) - 1
        ly = layers[i]
        act = getattr(ly, "activation", "")
        kind = type(ly).__name__ if ly is not None else "layer"
        if getattr(ly, "kind", None) in ("pool", "flatten") or "Pool" in kind or kind == "Flatten":
            act = ""    # no activation of their own
        if maps[i]:
            C = min(a.shape[0], max_channels)
            sub = gs[i, 1].subgridspec(grid_rows[i], per_row, wspace=0.05, hspace=0.08)
            lo, hi = min(0.0, float(a[:C].min())), float(a[:C].max())
            for c in range(C):
                ax = fig.add_subplot(sub[c // per_row, c % per_row])
                ax.imshow(a[c], cmap=cmap, vmin=lo, vmax=hi if hi > lo else lo + 1.0)
                _bare(ax)
                if c == 0:
                    ax.set_title(f"{kind} {i} ({act + ', ' if act else ''}{a.shape[0]} x "
                                 f"{a.shape[1]} x {a.shape[2]}"
                                 f"{', first ' + str(C) if C < a.shape[0] else ''})",
                                 fontsize=10, loc="left")
            continue
        ax = fig.add_subplot(gs[i, 1])
        if a.ndim == 2:          # a signal's channels, one heat row each
            im = ax.imshow(a, cmap=cmap, aspect="auto")
            ax.set_title(f"{kind} {i} ({a.shape[0]} channels x {a.shape[1]})", fontsize=10)
        else:
            a = a.reshape(-1)
            if last:
                name = "Output probabilities" if act == "softmax" else f"Output ({act})"
            else:
                name = f"Hidden layer {i + 1} ({act}, {a.size} units)" if act else \
                    f"{kind} {i} ({a.size} values)"
            im = ax.imshow(a[None, :], cmap=cmap, aspect="auto",
                           vmin=0 if last and act == "softmax" else None,
                           vmax=1 if last and act == "softmax" else None)
            ax.set_title(name, fontsize=10)
            if last and a.size <= 20:
                ax.set_xticks(range(a.size))
        ax.set_yticks([])
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


# ---------------------------------------------------------------- CNNs
def cam(images, maps, titles=None, alpha=0.5, cmap="jet", ncols=6, fig=None, shape=None):
    """Class activation maps (``xnn.explain.grad_cam``, ``cam``, ...) over
    their images: each map, upsampled to its image's size, drawn with
    ``cmap`` at ``alpha`` over the grayscale image, scaled to its own
    maximum; only its positive part is drawn (Grad-CAM's ReLU makes it
    non-negative; CAM's negative evidence is left out, as Grad-CAM leaves
    it out). images (k, H, W) or NCHW; maps (k, H, W) or (k, H', W')
    at the layer's resolution (upsampled bilinearly here). Returns the
    Figure."""
    imgs = _images(images, shape, "images")
    M = np.asarray(maps, dtype=np.float64)
    if M.ndim == 2 and imgs.shape[0] == 1 and M.shape != imgs.shape[1:]:
        M = M[None]
    if M.ndim == 2:
        M = M[None]
    if M.ndim != 3 or M.shape[0] != imgs.shape[0]:
        raise ValueError(f"maps: expected one map per image ({imgs.shape[0]}, H, W), got shape "
                         f"{np.shape(maps)}")
    if M.shape[1:] != imgs.shape[1:]:
        from .explain.cam import upsample
        M = upsample(M, imgs.shape[1:])
    k = imgs.shape[0]
    if titles is not None and len(titles) != k:
        raise ValueError(f"titles: expected {k} titles, got {len(titles)}")
    rows, cols = _grid(k, ncols)
    fig = _figure(fig, (2.4 * cols, 2.5 * rows))
    for i in range(k):
        ax = fig.add_subplot(rows, cols, i + 1)
        ax.imshow(imgs[i], cmap="gray")
        m = np.maximum(M[i], 0.0)
        v = float(m.max()) if m.size else 0.0
        m = m / v if v > 0 and np.isfinite(v) else np.zeros_like(m)
        # opacity follows the map: the digit stays visible where the map is 0
        ax.imshow(m, cmap=cmap, alpha=alpha * m, vmin=0, vmax=1)
        if titles is not None:
            ax.set_title(str(titles[i]), fontsize=10)
        _bare(ax)
    fig.tight_layout()
    return fig


def timeseries(x, attribution, ax=None, cmap="bwr", channel=None, title=None, colorbar=True):
    """A signal coloured by its attribution: ``x`` (L,) or (C, L) (one row
    of a Conv1d model's input), ``attribution`` the same shape (or (L,), a
    Grad-CAM over time); a diverging colormap centred at zero with
    symmetric limits ``(-v, v)``, v = max |attribution| (red: evidence for
    the class), or limits ``(0, v)`` when the attribution is non-negative
    (a Grad-CAM; pass a sequential ``cmap`` such as "Reds"). A thin gray
    line under the colours keeps the signal visible where the attribution
    is zero. With several channels, each is drawn (``channel=`` picks one).
    Returns the Figure."""
    own = ax is None
    plt = _pyplot()
    from matplotlib.collections import LineCollection
    xs = np.asarray(x, dtype=np.float64)
    A = np.asarray(attribution, dtype=np.float64)
    if xs.ndim == 1:
        xs = xs[None]
    if A.ndim == 1 and xs.ndim == 2 and A.shape[0] == xs.shape[1]:
        A = np.broadcast_to(A, xs.shape)
    if xs.ndim != 2 or A.shape != xs.shape:
        raise ValueError(f"attribution: expected the shape of x {xs.shape} (or its length), got "
                         f"{np.shape(attribution)}")
    if channel is not None and not (isinstance(channel, (int, np.integer))
                                    and 0 <= channel < xs.shape[0]):
        raise ValueError(f"channel: expected an integer in [0, {xs.shape[0]}), got {channel!r}")
    chans = range(xs.shape[0]) if channel is None else [int(channel)]
    fig, ax = _axes(ax, (9, 3))
    v = float(np.max(np.abs(A))) if A.size else 1.0
    v = v if v > 0 and np.isfinite(v) else 1.0
    norm = plt.Normalize(0.0 if A.size and float(A.min()) >= 0 else -v, v)
    t = np.arange(xs.shape[1])
    lc = None
    for c in chans:
        ax.plot(t, xs[c], color="0.75", linewidth=0.8, zorder=1)
        pts = np.stack([t, xs[c]], axis=1)
        segs = np.stack([pts[:-1], pts[1:]], axis=1)
        lc = LineCollection(segs, cmap=cmap, norm=norm, linewidth=2.5, zorder=2)
        lc.set_array(0.5 * (A[c, :-1] + A[c, 1:]))
        ax.add_collection(lc)
    ax.set_xlim(0, max(1, xs.shape[1] - 1))
    lo, hi = float(xs[list(chans)].min()), float(xs[list(chans)].max())
    pad = 0.05 * (hi - lo or 1.0)
    ax.set_ylim(lo - pad, hi + pad)
    ax.set_xlabel("time step")
    if title:
        ax.set_title(title)
    if colorbar and lc is not None:
        fig.colorbar(lc, ax=ax, label="attribution")
    if own:
        fig.tight_layout()
    return fig


# ---------------------------------------------------------------- feature visualization
def _grid_images(images, shape=None, name="images"):
    """A batch as (k, rows, cols) gray or (k, rows, cols, 3) colour images:
    flat rows, (k, rows, cols), or NCHW with 1 or 3 channels."""
    arr = np.asarray(images)
    if arr.ndim == 4:
        if arr.shape[1] == 1:
            return arr[:, 0]
        if arr.shape[1] == 3:
            return np.moveaxis(arr, 1, -1)
        raise ValueError(f"{name}: expected 1 or 3 channels in (k, C, H, W), got shape {arr.shape}")
    return _images(arr, shape, name)


def _show(ax, img, cmap, vmin, vmax):
    if img.ndim == 3:   # colour: scale each image into [0, 1]
        lo, hi = (img.min(), img.max()) if vmin is None or vmax is None else (vmin, vmax)
        img = np.clip((img - lo) / (hi - lo if hi > lo else 1.0), 0, 1)
        ax.imshow(img)
    else:
        ax.imshow(img, cmap=cmap, vmin=vmin, vmax=vmax)
    _bare(ax)


def image_grid(images, titles=None, ncols=8, shape=None, fig=None, cmap="gray", vmin=None,
               vmax=None, title=None, size=1.5):
    """Images in a grid, each with its title (e.g. the max/min activating
    images of a unit with their activations, or one activation
    maximization image per unit).

    images : (k, n) flat rows, (k, rows, cols) or (k, C, rows, cols) with 1
        or 3 channels. titles : k strings (or numbers), or None.
    vmin, vmax : the gray scale's limits (None: each image's own range; for
        pixels in [0, 1] pass 0 and 1 to compare images).
    title : the figure's title. size : inches per image.
    Returns the Figure.
    """
    imgs = _grid_images(images, shape)
    k = imgs.shape[0]
    if k < 1:
        raise ValueError("images: expected at least one image")
    if titles is not None:
        titles = list(titles)
        if len(titles) != k:
            raise ValueError(f"titles: expected {k} titles (one per image), got {len(titles)}")
    rows, cols = _grid(k, int(ncols))
    fig = _figure(fig, (size * cols, (size + (0.25 if titles is not None else 0)) * rows +
                        (0.4 if title else 0)))
    for i in range(k):
        ax = fig.add_subplot(rows, cols, i + 1)
        _show(ax, imgs[i], cmap, vmin, vmax)
        if titles is not None:
            t = titles[i]
            ax.set_title(f"{t:.3g}" if isinstance(t, (float, np.floating)) else str(t), fontsize=8)
    if title:
        fig.suptitle(title)
    fig.tight_layout()
    return fig


def _spread(emb, n, seed=0, labels=None):
    """Indices of n points of emb spread over the map: with labels, first
    the point nearest each class's median (one per class, while n lasts),
    then farthest-point sampling (from a seeded first point without
    labels)."""
    m = emb.shape[0]
    n = min(n, m)
    if labels is not None:
        chosen = []
        for c in np.unique(labels)[:n]:
            idx = np.flatnonzero(labels == c)
            med = np.median(emb[idx], axis=0)
            chosen.append(int(idx[np.argmin(((emb[idx] - med) ** 2).sum(axis=1))]))
    else:
        chosen = [int(np.random.RandomState(seed).randint(m))]
    d = np.min([((emb - emb[i]) ** 2).sum(axis=1) for i in chosen], axis=0)
    for _ in range(n - len(chosen)):
        i = int(np.argmax(d))
        chosen.append(i)
        d = np.minimum(d, ((emb - emb[i]) ** 2).sum(axis=1))
    return np.array(chosen)


def embedding(emb, y=None, images=None, n_images=12, ax=None, shape=None, cmap="tab10",
              point_size=8, zoom=None, title=None, seed=0, legend=True):
    """A 2-D map of hidden codes (``xnn.visualize.embedding``): one point
    per row, coloured by its class ``y`` (integers or one-hot rows), with
    ``n_images`` of the rows drawn as thumbnails at their points
    (``images`` are X's rows in emb's order): one near the middle of each
    class, the others spread over the map.

    zoom : the thumbnails' scale (points per pixel; default: about 0.4
        inch each).
    Returns the Figure.
    """
    from matplotlib.offsetbox import AnnotationBbox, OffsetImage
    E = np.asarray(emb, dtype=np.float64)
    if E.ndim != 2 or E.shape[1] != 2:
        raise ValueError(f"emb: expected a 2-D map (m, 2), got shape {E.shape}")
    m = E.shape[0]
    fig, ax = _axes(ax, (7.5, 6.5))
    if y is not None:
        lab = _labels(y)
        if lab.shape != (m,):
            raise ValueError(f"y: expected one label per point ({m},), got shape {lab.shape}")
        classes = np.unique(lab)
        cm = _pyplot().get_cmap(cmap)
        for i, c in enumerate(classes):
            sel = lab == c
            ax.scatter(E[sel, 0], E[sel, 1], s=point_size, color=cm(i % cm.N), label=str(c),
                       alpha=0.8, linewidths=0)
        if legend and len(classes) <= 20:
            ax.legend(title="class", markerscale=2.5, fontsize=8, loc="best", framealpha=0.8)
    else:
        ax.scatter(E[:, 0], E[:, 1], s=point_size, alpha=0.8, linewidths=0)
    if images is not None and n_images:
        imgs = _grid_images(images, shape)
        if imgs.shape[0] != m:
            raise ValueError(f"images: expected one image per point ({m}), got {imgs.shape[0]}")
        # OffsetImage draws a pixel as zoom points: about 0.4 inch per thumbnail
        z = zoom if zoom is not None else 0.4 * 72 / max(imgs.shape[1:3])
        for i in _spread(E, int(n_images), seed, lab if y is not None else None):
            img = imgs[i]
            box = OffsetImage(img, cmap="gray_r" if img.ndim == 2 else None, zoom=z)
            ax.add_artist(AnnotationBbox(box, E[i], frameon=True, pad=0.05, alpha=0.9,
                                         bboxprops={"edgecolor": "0.6", "linewidth": 0.5}))
    ax.set_xticks([])
    ax.set_yticks([])
    if title:
        ax.set_title(title)
    return fig


def facets(result, noise=None, fig=None, cmap="gray", vmin=None, vmax=None, title=None):
    """The MFV figure of ``xnn.visualize.facets``: left, the class's t-SNE
    map coloured by facet with the centroids numbered; right, per facet its
    mean image (top row) and the activation maximization started from it
    (bottom row, when there is one).

    noise : optional images of plain activation maximization from noise
        (e.g. ``activation_maximization(...).images``), drawn in a last
        column "from noise" for comparison.
    Returns the Figure."""
    E, lab, cen = result.embedding, result.labels, result.centroids
    k = cen.shape[0]
    means = _grid_images(result.mean_images)
    vis = result.visualizations
    vimgs = _grid_images(vis.images) if vis is not None else None
    rows = 2 if vimgs is not None else 1
    ncols = min(k, 5) if k > 6 else k        # the images in rows of at most 5 facets
    blocks = math.ceil(k / ncols)
    img_rows = rows * blocks
    nimgs = None
    if noise is not None:
        arr = np.asarray(noise)
        if arr.ndim == 1 or arr.shape == means.shape[1:] or (arr.ndim == 3 and arr.shape[0] in (1, 3)
                                                             and arr.shape[1:] == means.shape[1:3]):
            arr = arr[None]                     # one image
        nimgs = _grid_images(arr, means.shape[1:3], "noise")
    extra = 0 if nimgs is None else 1
    fig = _figure(fig, (3.2 + 1.05 * (ncols + 1.2 * extra), max(3.2, 1.1 * img_rows + 0.4)))
    ratios = [3.0, 1.05 * ncols] + ([1.05] if extra else [])
    outer = fig.add_gridspec(1, 2 + extra, width_ratios=ratios, wspace=0.08)
    inner = outer[0, 1].subgridspec(img_rows, ncols, hspace=0.35, wspace=0.08)
    if nimgs is not None:
        side = outer[0, 2].subgridspec(img_rows, 1, hspace=0.35)
        for i in range(min(len(nimgs), img_rows)):
            a = fig.add_subplot(side[i, 0])
            _show(a, nimgs[i], cmap, vmin, vmax)
            if i == 0:
                a.set_title("from noise", fontsize=8, pad=2)
    ax = fig.add_subplot(outer[0, 0])
    cm = _pyplot().get_cmap("tab10" if k <= 10 else "tab20")
    for j in range(k):
        sel = lab == j
        ax.scatter(E[sel, 0], E[sel, 1], s=5, color=cm(j % cm.N), alpha=0.8, linewidths=0)
        ax.text(cen[j, 0], cen[j, 1], str(j), fontsize=9, weight="bold", ha="center",
                va="center", bbox={"boxstyle": "round,pad=0.15", "fc": "white", "alpha": 0.8,
                                   "ec": cm(j % cm.N)})
    ax.set_xticks([])
    ax.set_yticks([])
    ax.set_title(f"class {result.cls}: t-SNE of layer {result.layer}, {k} facets", fontsize=9)
    for j in range(k):
        r, c = divmod(j, ncols)
        a = fig.add_subplot(inner[r * rows, c])
        _show(a, means[j], cmap, vmin, vmax)
        a.set_title(f"facet {j}", fontsize=8, color=cm(j % cm.N), pad=2)
        if c == 0:
            a.set_ylabel("mean", fontsize=8)
        if vimgs is not None:
            b = fig.add_subplot(inner[r * rows + 1, c])
            _show(b, vimgs[j], cmap, vmin, vmax)
            if c == 0:
                b.set_ylabel("AM", fontsize=8)
    if title:
        fig.suptitle(title)
    return fig
