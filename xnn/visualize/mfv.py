"""Multifaceted feature visualization (MFV) and embeddings of hidden codes.

MFV (Nguyen, Yosinski & Clune 2016; the MFV thesis): a class is seen by a
network in several ways ("facets"). For the images of one class, take each
image's code at a late hidden layer, reduce it with PCA to 50 dimensions,
embed it in 2-D with t-SNE, cluster the embedding with k-means (k = 10),
average the m = 15 images nearest each centroid into a mean image, and run
activation maximization of the class from each mean image: one facet each.
PCA, t-SNE and k-means are scikit-learn's (t-SNE: openTSNE's when it is
installed, several times faster on 1,000 points); activation maximization
runs all facets in one batch.
"""
import importlib
import time

import numpy as np

from .. import _validate as V
from . import _common as C
from .maximize import activation_maximization

__all__ = ["hidden_codes", "embedding", "facets", "Facets", "TSNE_BACKENDS", "FACET_AM"]

TSNE_BACKENDS = ("auto", "sklearn", "opentsne")
#: the ascent from a facet's mean image: short and gentle, so that the
#: result keeps the facet (``facets(am=...)`` overrides any of these)
FACET_AM = {"steps": 64, "lr": 0.01, "l2": 0.0, "blur_sigma": 0.5, "blur_every": 4, "jitter": 1}
#: rows per forward of hidden_codes
BATCH = 2048


def hidden_codes(model, X, layer, batch_size=BATCH, verbose=False):
    """Layer ``layer``'s output (after its activation) for every row of X,
    flattened to (m, width), in the model's dtype; in chunks of
    ``batch_size`` rows through the C forward."""
    model = C.check_model(model)
    node = C.layer_index(model, layer)
    batch_size = V.positive_int(batch_size, "batch_size")
    Xc = model._X(X)
    m = Xc.shape[0]
    width = int(np.prod(model.layers[node].output_shape_))
    out = np.empty((m, width), dtype=model.dtype)
    bar = C.progress(C.verbose_flag(verbose), m, "hidden codes", unit="row")
    try:
        for r0 in range(0, m, batch_size):
            acts = model.activations(Xc[r0:r0 + batch_size])
            out[r0:r0 + acts[node].shape[0]] = acts[node].reshape(acts[node].shape[0], -1)
            if bar is not None:
                bar.update(acts[node].shape[0])
    finally:
        if bar is not None:
            bar.close()
    return out


def _opentsne():
    try:
        return importlib.import_module("openTSNE")
    except ImportError:
        return None


def _backend(tsne):
    tsne = V.choice(tsne, "tsne", set(TSNE_BACKENDS))
    if tsne == "auto":
        return "opentsne" if _opentsne() is not None else "sklearn"
    if tsne == "opentsne" and _opentsne() is None:
        raise ImportError("tsne='opentsne' needs openTSNE: pip install openTSNE "
                          "(or use tsne='sklearn')")
    return tsne


def _perplexity(perplexity, n):
    p = V.finite_float(perplexity, "perplexity", 0.0, low_open=True)
    # both libraries need 3 * perplexity < n (the neighbours each point gets)
    return min(p, max(1.0, (n - 1) / 3.0))


def _one_thread():
    """A context in which OpenMP and BLAS use one thread (threadpoolctl,
    scikit-learn's dependency): PCA, t-SNE and k-means give the same result
    on any machine, and a busy machine does not stall their thread barriers
    (PCA of 800 x 400 codes took 0.3 s on two busy threads, 0.02 s on one)."""
    from threadpoolctl import threadpool_limits
    return threadpool_limits(1)


def _tsne(Z, perplexity, seed, backend, options):
    """(n, 2) t-SNE embedding of Z, on one thread (openTSNE's threads split
    sums and change the result; scikit-learn's were no faster on 1,000
    points)."""
    n = Z.shape[0]
    if n < 4:
        raise ValueError(f"X: t-SNE needs at least 4 rows, got {n}")
    p = _perplexity(perplexity, n)
    options = dict(options or {})
    if backend == "opentsne":
        ot = _opentsne()
        kw = {"perplexity": p, "random_state": seed, "n_jobs": 1, "verbose": False}
        kw.update(options)
        with _one_thread():
            return np.asarray(ot.TSNE(**kw).fit(np.ascontiguousarray(Z, dtype=np.float64)),
                              dtype=np.float64)
    from sklearn.manifold import TSNE
    kw = {"n_components": 2, "perplexity": p, "init": "pca", "learning_rate": "auto",
          "random_state": seed}
    kw.update(options)
    with _one_thread():
        return np.asarray(TSNE(**kw).fit_transform(Z), dtype=np.float64)


def _pca(H, pca, seed):
    from sklearn.decomposition import PCA
    n, width = H.shape
    if pca is None:
        return H.astype(np.float64)
    pca = V.positive_int(pca, "pca")
    dims = min(pca, width, n)
    with _one_thread():
        return PCA(n_components=dims, random_state=seed).fit_transform(H.astype(np.float64))


def _seed(seed):
    if seed is None:
        return None
    C.rng_of(seed)  # checks it
    return int(seed) % 2**32


def embedding(model, X, layer, method="tsne", seed=None, pca=50, perplexity=30.0,
              n_components=2, tsne="auto", options=None, verbose=False):
    """A 2-D (or ``n_components``-D) map of layer ``layer``'s codes for X,
    (m, n_components) float64: nearby points are rows the layer codes alike.

    method : ``"tsne"`` (PCA to ``pca`` dimensions first, then t-SNE with
        ``perplexity``; ``tsne`` picks openTSNE or scikit-learn's, "auto":
        openTSNE when installed), ``"pca"`` (the first principal
        components) or ``"umap"`` (umap-learn's UMAP on the PCA codes, when
        umap-learn is installed).
    options : more keyword arguments for the t-SNE or UMAP object.
    seed : makes the map reproducible (None: fresh randomness).
    """
    model = C.check_model(model)
    method = V.choice(method, "method", {"tsne", "pca", "umap"})
    n_components = V.positive_int(n_components, "n_components")
    seed = _seed(seed)
    if method == "umap":
        try:
            umap = importlib.import_module("umap")
        except ImportError:
            raise ImportError("method='umap' needs umap-learn: pip install umap-learn "
                              "(or use method='tsne' or 'pca')") from None
    backend = _backend(tsne) if method == "tsne" else None
    if method == "tsne" and n_components != 2:
        raise ValueError(f"n_components: t-SNE maps to 2 dimensions here, got {n_components}")
    H = hidden_codes(model, X, layer, verbose=verbose)
    if method == "pca":
        from sklearn.decomposition import PCA
        dims = min(n_components, H.shape[1], H.shape[0])
        if dims < n_components:
            raise ValueError(f"n_components: expected at most {dims} (the layer's width and the "
                             f"rows), got {n_components}")
        with _one_thread():
            return PCA(n_components=n_components, random_state=seed).fit_transform(
                H.astype(np.float64))
    Z = _pca(H, pca, seed)
    if method == "umap":
        kw = {"n_components": n_components, "random_state": seed}
        kw.update(options or {})
        return np.asarray(umap.UMAP(**kw).fit_transform(Z), dtype=np.float64)
    return _tsne(Z, perplexity, seed, backend, options)


class Facets:
    """The result of ``facets``.

    Attributes
    ----------
    cls, layer : the class and the layer whose codes were clustered.
    indices : (n,) the rows of X of the class, in X's order.
    embedding : (n, 2) their t-SNE map (row i is X[indices[i]]).
    labels : (n,) the k-means facet of each row.
    centroids : (k, 2) the facets' centres in the map.
    nearest : (k, m) rows of X: the m nearest each centroid in the map,
        nearest first.
    mean_images : (k,) + model.input_shape: X[nearest[j]].mean(axis=0).
    visualizations : the ``Maximization`` from the mean images (one row
        per facet), or None with ``am=False``.
    times : seconds of each part: "codes", "pca", "tsne", "kmeans", "am".
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def __repr__(self):
        t = ", ".join(f"{k} {v:.2f} s" for k, v in self.times.items())
        return (f"Facets(class {self.cls}, layer {self.layer}: {len(self.indices)} images, "
                f"{self.centroids.shape[0]} facets of {self.nearest.shape[1]} images; {t})")


def facets(model, X, y, cls, layer, k=10, m=15, pca=50, seed=None, perplexity=30.0,
           tsne="auto", options=None, am=None, am_layer=None, am_unit=None, verbose=False):
    """Multifaceted feature visualization of one class.

    Parameters
    ----------
    model : xnn.Sequential
    X, y : images and their labels (integers or one-hot rows).
    cls : the class; its rows of X are the ones clustered.
    layer : the hidden layer whose codes (outputs) are embedded.
    k : facets (k-means clusters); m : images averaged per facet (the m
        nearest each centroid in the t-SNE map, from all rows of the class).
    pca : PCA dimensions before t-SNE (at most the layer's width and the
        number of rows; None: no PCA).
    perplexity, tsne, options : the t-SNE (``embedding``).
    am : settings of the activation maximization (a dict of
        ``activation_maximization``'s keyword arguments over ``FACET_AM``:
        64 steps of lr 0.01, blur 0.5 every 4, jitter 1, no decay, gentle
        enough to keep each facet), or False for none.
        It maximizes the class's logit (or ``am_unit`` of ``am_layer``)
        from each facet's mean image, all facets in one batch.
    seed : PCA, t-SNE, k-means and the ascent's jitter are reproducible.

    Returns ``Facets``.
    """
    from sklearn.cluster import KMeans
    model = C.check_model(model)
    node = C.layer_index(model, layer)
    k = V.positive_int(k, "k")
    m = V.positive_int(m, "m")
    seed = _seed(seed)
    backend = _backend(tsne)
    verbose = C.verbose_flag(verbose)
    if am is not None and am is not False and not isinstance(am, dict):
        raise TypeError(f"am: expected None, False or a dict of activation_maximization "
                        f"arguments, got {am!r}")
    Xc = model._X(X)
    labels = np.asarray(y)
    if labels.ndim == 2:          # one-hot rows
        labels = np.argmax(labels, axis=1)
    if labels.shape != (Xc.shape[0],):
        raise ValueError(f"y: expected one label per row of X ({Xc.shape[0]},), got shape "
                         f"{np.shape(y)}")
    if isinstance(cls, (bool, np.bool_)) or not isinstance(cls, (int, np.integer)):
        raise TypeError(f"cls: expected a class label (an integer), got {cls!r}")
    idx = np.flatnonzero(labels == cls)
    if idx.size < max(k, 4):
        raise ValueError(f"cls: class {cls} has {idx.size} rows in X; expected at least "
                         f"{max(k, 4)} (k={k} facets)")
    if m > idx.size:
        raise ValueError(f"m: expected at most {idx.size} (the rows of class {cls}), got {m}")
    am_target = None
    if am is not False:
        last = len(model.layers) - 1
        if am_unit is None and (am_layer is None or C.layer_index(model, am_layer, "am_layer") == last):
            am_target = int(cls)
        C.units_of(model, am_layer, am_unit, am_target)   # checks them now, not after t-SNE
    times = {}
    t0 = time.perf_counter()
    H = hidden_codes(model, Xc[idx], node)
    times["codes"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    Z = _pca(H, pca, seed)
    times["pca"] = time.perf_counter() - t0
    t0 = time.perf_counter()
    bar = C.progress(verbose, 3 if am is not False else 2, f"facets of class {cls}", unit="part")
    try:
        E = _tsne(Z, perplexity, seed, backend, options)
        times["tsne"] = time.perf_counter() - t0
        if bar is not None:
            bar.update(1)
        t0 = time.perf_counter()
        with _one_thread():
            km = KMeans(n_clusters=k, n_init=10, random_state=seed).fit(E)
        times["kmeans"] = time.perf_counter() - t0
        if bar is not None:
            bar.update(1)
        centroids = km.cluster_centers_
        d = ((E[None, :, :] - centroids[:, None, :]) ** 2).sum(axis=2)     # (k, n)
        near = np.argsort(d, axis=1, kind="stable")[:, :m]
        nearest = idx[near]
        shape = (k,) + tuple(model.input_shape)
        means = Xc[nearest].astype(np.float64).mean(axis=1).reshape(shape)
        vis = None
        t0 = time.perf_counter()
        if am is not False:
            kw = dict(FACET_AM)
            kw.update(am or {})
            kw.setdefault("seed", seed)
            for key in ("layer", "unit", "target", "init"):
                if key in kw:
                    raise ValueError(f"am: {key!r} is set by facets (use am_layer/am_unit)")
            vis = activation_maximization(model, layer=am_layer, unit=am_unit, target=am_target,
                                          init=means.astype(model.dtype), **kw)
            if bar is not None:
                bar.update(1)
        times["am"] = time.perf_counter() - t0
    finally:
        if bar is not None:
            bar.close()
    return Facets(cls=cls, layer=node, indices=idx, embedding=E, labels=km.labels_.astype(np.int64),
                  centroids=centroids, nearest=nearest, mean_images=means,
                  visualizations=vis, times=times)
