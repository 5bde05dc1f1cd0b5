"""Figures of training and data: the MNIST and lab reports' curves and
grids."""
import math

import numpy as np

from ._common import _figure, _axes, _history_dict, _images, _labels, _bare, _grid, WRONG, RIGHT


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
