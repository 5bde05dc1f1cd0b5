"""Figures of explanations: saliency, activations, relevance, CAM, time
series."""
import math

import numpy as np

from ._common import _pyplot, _figure, _axes, _image, _images, _bare, _grid


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
        from ..explain.cam import upsample
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
