"""Figures of the evaluation of explanations: perturbation curves and the
randomization sanity check."""

import numpy as np

from ._common import _figure, _axes, _image_shape, _images, _bare


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
