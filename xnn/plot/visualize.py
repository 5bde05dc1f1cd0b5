"""Figures of feature visualization: image grids, embeddings, facets."""
import math

import numpy as np

from ._common import _pyplot, _figure, _axes, _images, _labels, _bare, _grid


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
