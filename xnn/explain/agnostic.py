"""Model-agnostic explanations: LIME (images, tables) and KernelSHAP.

Both look at the model only through its outputs on perturbed copies of the
input. Every copy goes through the batched C forward, thousands of rows per
call (``xnn/explain/_perturb.py``); nothing is evaluated one sample at a time.

``lime``          superpixels switched off to a baseline, a weighted ridge
                  surrogate (Ribeiro et al. 2016; the lime package's
                  LimeImageExplainer)
``lime_tabular``  samples from training-data statistics with quartile bins
                  (lime's LimeTabularExplainer)
``kernel_shap``   the Shapley kernel's constrained weighted least squares
                  over features or superpixels (Lundberg & Lee 2017; shap's
                  KernelExplainer)
``superpixels``   the segmentations both use (scikit-image's SLIC and
                  quickshift, or a regular grid)

Random draws come from ``numpy.random.RandomState(seed)`` in the order the
lime and shap packages draw them, so the same seed gives the same perturbed
samples as those packages (and, with the same model, the same numbers).
"""
import contextlib
import itertools
import math
import numbers

import numpy as np

from .. import _validate as V
from .. import ops
from . import _common as C
from . import _perturb

__all__ = ["lime", "lime_tabular", "kernel_shap", "superpixels", "LimeExplanation",
           "ShapExplanation", "Explanations"]

#: perturbed rows (coalitions x background rows) per call of the forward engine
SHAP_ROWS_PER_CALL = 262144
#: the scores a surrogate or the Shapley values can explain
OUTPUTS = ("probability", "logit")

#: default parameters of each segmentation (28x28 grayscale digits in [0, 1])
SEGMENTATION_DEFAULTS = {
    "slic": {"n_segments": 50, "compactness": 0.3},
    "quickshift": {"kernel_size": 1, "max_dist": 5, "ratio": 0.2},
    "grid": {"n_segments": 49},
}


# ---------------------------------------------------------------- results
class Explanations(list):
    """A list of per-row explanations; ``maps`` stacks their ``map``."""

    @property
    def maps(self):
        return np.stack([e.map for e in self])


class LimeExplanation:
    """What ``lime`` and ``lime_tabular`` return for one row.

    Attributes
    ----------
    weights : (M,) the surrogate's coefficient per superpixel (or per
        feature): the change of the score when that superpixel is switched
        on, in the units of the score (a probability or a logit).
    intercept, score : the surrogate's intercept and weighted R^2.
    local_pred : the surrogate's prediction for the unperturbed row.
    prediction : the model's score of the target for the unperturbed row.
    target, output : the explained class and score (``"probability"`` or
        ``"logit"``).
    segments : (H, W) superpixel labels 0..M-1 (images), else None.
    map : per-pixel weights (the weight of each pixel's superpixel), or the
        weights themselves for tabular rows.
    samples, scores, kernel_weights : the perturbed samples' 0/1 masks
        (n_samples, M), the model's scores on them and their kernel weights,
        the data of the surrogate's fit (the first sample is the row itself).
    feature_names : tabular rows: the name of each feature's condition
        (``"mean radius <= 13.37"``), else None.
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def top(self, k=5, positive=True):
        """Indices of the k largest weights (``positive=False``: largest |weight|)."""
        w = self.weights if positive else np.abs(self.weights)
        return np.argsort(-w, kind="stable")[:k]

    def as_list(self):
        """[(name, weight)] sorted by decreasing |weight|."""
        names = self.feature_names or [str(i) for i in range(len(self.weights))]
        order = np.argsort(-np.abs(self.weights), kind="stable")
        return [(names[i], float(self.weights[i])) for i in order]

    def __repr__(self):
        return (f"LimeExplanation(target={self.target}, {len(self.weights)} weights, "
                f"R^2={self.score:.4f}, output={self.output!r})")


class ShapExplanation:
    """What ``kernel_shap`` returns for one row.

    Attributes
    ----------
    values : (M,) Shapley values per feature (or superpixel); features that
        equal every background row get 0 and are not sampled.
    base_value : E[f], the mean score over the background.
    prediction : f(x), the score of the row.
    additivity_error : sum(values) + base_value - prediction (0 up to
        rounding: the efficiency constraint is solved exactly).
    exact : True when every coalition was evaluated (the values are then
        the exact Shapley values of the model with this background).
    n_coalitions : coalitions evaluated (each over every background row).
    segments, map : superpixel labels and per-pixel values (images); for
        columns, segments is None and map equals values.
    target, output : the explained class and score.
    """

    def __init__(self, **kw):
        self.__dict__.update(kw)

    def top(self, k=5, positive=True):
        """Indices of the k largest values (``positive=False``: largest |value|)."""
        v = self.values if positive else np.abs(self.values)
        return np.argsort(-v, kind="stable")[:k]

    def __repr__(self):
        return (f"ShapExplanation(target={self.target}, {len(self.values)} values, "
                f"exact={self.exact}, additivity error={self.additivity_error:.2e})")


# ---------------------------------------------------------------- inputs
def _single(model, X):
    """Whether X is one row or one image rather than a batch."""
    arr = X if isinstance(X, np.ndarray) else np.asarray(X)
    n_in = model.n_in
    return arr.ndim == 1 or (arr.ndim == 2 and arr.shape[1] != n_in and arr.size == n_in)


def _rows(model, X, target):
    """(rows (m, d) of the model's dtype, resolved targets (m,), X's shape,
    single)."""
    C.check_model(model)
    single = _single(model, X)
    if single:
        X = np.asarray(X).reshape(1, -1)
    net, Xc, node, targets, shape = C.prepare(model, X, target)
    targets = C.resolve(net, Xc, targets, node)
    return Xc, targets, shape, single


def _image_shape(d, xshape, shape, single):
    if shape is not None:
        try:
            H, W = (int(s) for s in shape)
        except (TypeError, ValueError):
            raise TypeError(f"shape: expected (H, W), got {shape!r}") from None
        if H * W != d:
            raise ValueError(f"shape: expected H * W = {d}, got {tuple(shape)}")
        return H, W
    if xshape is not None:
        if single and len(xshape) == 2 and xshape[0] * xshape[1] == d:
            return tuple(xshape)
        if not single and len(xshape) == 3:
            return tuple(xshape[1:])
    side = math.isqrt(d)
    if side * side != d:
        raise ValueError(f"shape: rows of {d} values are not square images; pass shape=(H, W)")
    return side, side


def _choice(value, name, options):
    if not isinstance(value, str) or value not in options:
        raise ValueError(f"{name}: expected one of {list(options)}, got {value!r}")
    return value


def _seed(seed):
    if seed is None:
        return np.random.RandomState()
    if isinstance(seed, np.random.RandomState):
        return seed
    return np.random.RandomState(V.positive_int(seed, "seed", minimum=0) % 2**32)


def _pick(Z, P, targets, output):
    return _perturb.pick(P if output == "probability" else Z, targets)


# ---------------------------------------------------------------- segmentation
def superpixels(image, method="slic", shape=None, **kwargs):
    """Segment one image into superpixels labelled 0..M-1.

    Parameters
    ----------
    image : (H, W) grayscale image, or a flat row with ``shape=(H, W)``
        (square rows need no shape).
    method : ``"slic"`` (scikit-image's SLIC, defaults ``n_segments=50,
        compactness=0.3``), ``"quickshift"`` (scikit-image's quickshift on
        the gray image as RGB, defaults ``kernel_size=1, max_dist=5,
        ratio=0.2``) or ``"grid"`` (a regular grid of about ``n_segments``
        cells, default 49, or ``grid=(rows, cols)``).
    kwargs : passed to the scikit-image function (or ``n_segments``/``grid``).

    The defaults suit 28x28 digits with pixels in [0, 1]. Returns an int64
    (H, W) array.
    """
    img = np.asarray(image, dtype=np.float64)
    if img.ndim == 1:
        H, W = _image_shape(img.size, None, shape, True)
        img = img.reshape(H, W)
    elif img.ndim != 2:
        raise ValueError(f"image: expected one grayscale image (H, W) or a flat row, got shape {img.shape}")
    elif shape is not None and tuple(shape) != img.shape:
        raise ValueError(f"shape: expected {img.shape} for an image of that shape, got {tuple(shape)}")
    method = _choice(method, "method", tuple(SEGMENTATION_DEFAULTS))
    opts = dict(SEGMENTATION_DEFAULTS[method])
    opts.update(kwargs)
    if method == "grid":
        grid = opts.pop("grid", None)
        n = opts.pop("n_segments")
        if opts:
            raise TypeError(f"superpixels: unexpected arguments for 'grid': {sorted(opts)}")
        if grid is None:
            n = V.positive_int(n, "n_segments")
            rows = max(1, min(img.shape[0], round(math.sqrt(n * img.shape[0] / img.shape[1]))))
            cols = max(1, min(img.shape[1], round(n / rows)))
        else:
            if not isinstance(grid, (tuple, list)) or len(grid) != 2:
                raise TypeError(f"grid: expected (rows, cols), got {grid!r}")
            rows, cols = (V.positive_int(g, "grid") for g in grid)
            if rows > img.shape[0] or cols > img.shape[1]:
                raise ValueError(f"grid: expected at most {img.shape} cells, got {(rows, cols)}")
        r = np.arange(img.shape[0]) * rows // img.shape[0]
        c = np.arange(img.shape[1]) * cols // img.shape[1]
        return (r[:, None] * cols + c[None, :]).astype(np.int64)
    try:
        from skimage import segmentation as skseg
    except ImportError:
        raise ImportError(f"superpixels: method {method!r} needs scikit-image: "
                          "pip install scikit-image (or use method='grid')") from None
    if method == "slic":
        labels = skseg.slic(img, channel_axis=None, start_label=0, **opts)
    else:
        labels = skseg.quickshift(np.repeat(img[:, :, None], 3, axis=2), **opts)
    return np.unique(labels, return_inverse=True)[1].reshape(img.shape).astype(np.int64)


def _segments(segmentation, rows, hw, segmentation_kwargs):
    """A list of (H, W) label arrays 0..M-1, one per row."""
    m = rows.shape[0]
    kw = {} if segmentation_kwargs is None else dict(segmentation_kwargs)
    if isinstance(segmentation, str):
        return [superpixels(rows[i].reshape(hw), segmentation, **kw) for i in range(m)]
    if segmentation_kwargs is not None:
        raise TypeError("segmentation_kwargs: only for a segmentation given by name")
    seg = np.asarray(segmentation)
    if seg.dtype.kind not in "iu":
        raise TypeError(f"segmentation: expected a method name or integer labels, got dtype {seg.dtype}")
    if seg.shape == hw or seg.shape == (hw[0] * hw[1],):
        seg = np.broadcast_to(seg.reshape(hw), (m,) + hw)
    elif seg.shape != (m,) + hw:
        raise ValueError(f"segmentation: expected labels shaped {hw} or {(m,) + hw}, got {seg.shape}")
    return [np.unique(s, return_inverse=True)[1].reshape(hw).astype(np.int64) for s in seg]


def _base_image(baseline, x, seg, M, name="baseline"):
    d = x.size
    if isinstance(baseline, str):
        if baseline != "mean":
            raise ValueError(f"{name}: expected a number, an image or 'mean', got {baseline!r}")
        flat = seg.ravel()
        sums = np.bincount(flat, weights=x.astype(np.float64), minlength=M)
        return (sums / np.bincount(flat, minlength=M))[flat]
    base = np.asarray(baseline, dtype=np.float64)
    if base.size == 1:
        return np.full(d, float(base.reshape(())))
    if base.size != d:
        raise ValueError(f"{name}: expected a number, 'mean' or one image of {d} values, "
                         f"got shape {base.shape}")
    return base.reshape(d)


_BLAS = None


def one_blas_thread():
    """A context in which BLAS runs on one thread. The surrogates' products
    are small; BLAS threads that must wake up (or compete with the C
    kernels' pool, which has just run) cost far more than the products."""
    global _BLAS
    if _BLAS is None:
        try:
            import scipy.linalg  # noqa: F401  (load every BLAS before listing them)
            from threadpoolctl import ThreadpoolController
            _BLAS = ThreadpoolController()
        except ImportError:            # threadpoolctl comes with scikit-learn
            _BLAS = False
    if _BLAS is False:
        return contextlib.nullcontext()
    return _BLAS.limit(limits=1, user_api="blas")


def _ridge(data, y, weights, alpha):
    """scikit-learn's Ridge (with an intercept) fitted with sample weights;
    (coef, intercept, weighted R^2, prediction for the first row)."""
    from sklearn.linear_model import Ridge
    reg = Ridge(alpha=alpha, fit_intercept=True)
    with one_blas_thread():
        reg.fit(data, y, sample_weight=weights)
    coef = reg.coef_.astype(np.float64)
    intercept = float(reg.intercept_)
    pred = data @ coef + intercept
    ybar = np.average(y, weights=weights)
    score = 1.0 - np.sum(weights * (y - pred) ** 2) / np.sum(weights * (y - ybar) ** 2)
    return coef, intercept, float(score), float(pred[0])


def _cosine_to_ones(data):
    """Cosine distance of 0/1 rows to the all-ones row (1 for an all-zero
    row, as scikit-learn's pairwise cosine distance)."""
    s = data.sum(axis=1, dtype=np.float64)
    with np.errstate(divide="ignore", invalid="ignore"):
        cos = np.where(s > 0, s / (np.sqrt(s) * np.sqrt(data.shape[1])), 0.0)
    return np.clip(1.0 - cos, 0.0, 2.0)


def _kernel(distances, width):
    return np.sqrt(np.exp(-(distances ** 2) / width ** 2))


# ---------------------------------------------------------------- LIME images
def lime(model, X, target=None, segmentation="slic", n_samples=1000, baseline=0.0,
         kernel_width=0.25, alpha=1.0, output="probability", seed=0, shape=None,
         segmentation_kwargs=None):
    """LIME for images (Ribeiro et al. 2016), as the lime package's
    ``LimeImageExplainer``.

    The image is cut into superpixels; ``n_samples`` perturbed copies switch
    random superpixels off (their pixels take the ``baseline``'s values);
    the model scores every copy; a ridge regression on the 0/1 masks,
    weighted by the exponential kernel ``sqrt(exp(-d^2 / width^2))`` of the
    cosine distance d between a mask and the all-on mask, is the local
    surrogate whose coefficients explain the decision.

    Parameters
    ----------
    X : one image (H, W) or flat row, or a batch (m, H, W) / (m, d).
    target : None (the predicted class), a class, or one class per image.
    segmentation : ``"slic"``, ``"quickshift"``, ``"grid"`` (see
        ``superpixels``; options in ``segmentation_kwargs``), or integer
        labels (H, W) shared by all images or (m, H, W).
    n_samples : perturbed copies per image; the first is the image itself
        (all superpixels on), as in lime.
    baseline : the value of switched-off pixels: a number, an image, or
        ``"mean"`` (each superpixel's mean, lime's ``hide_color=None``).
    kernel_width : 0.25, lime's default for images.
    alpha : the ridge penalty (lime: 1.0; 0 gives the weighted least squares).
    output : ``"probability"`` (lime explains ``predict_proba``) or
        ``"logit"`` (the pre-softmax score).
    seed : masks are ``RandomState(seed).randint(0, 2, n_samples * M)``, the
        draws of lime's ``LimeImageExplainer(random_state=seed)``; several
        images continue the same stream in order.
    shape : (H, W) of rows that are not square images.

    Returns a ``LimeExplanation`` for one image, an ``Explanations`` list
    for a batch.
    """
    rows, targets, xshape, single = _rows(model, X, target)
    n_samples = V.positive_int(n_samples, "n_samples", minimum=2)
    width = V.finite_float(kernel_width, "kernel_width", 0.0, low_open=True)
    alpha = V.finite_float(alpha, "alpha", 0.0)
    output = _choice(output, "output", OUTPUTS)
    m, d = rows.shape
    hw = _image_shape(d, xshape, shape, single)
    segs = _segments(segmentation, rows, hw, segmentation_kwargs)
    rs = _seed(seed)
    out = Explanations()
    for i in range(m):
        seg = segs[i]
        M = int(seg.max()) + 1
        x = rows[i]
        base = _base_image(baseline, x, seg, M)
        data = rs.randint(0, 2, n_samples * M).reshape(n_samples, M)
        data[0, :] = 1
        Z, P = _perturb.grouped(model, x[None], base[None, None], seg.reshape(1, -1), M,
                                masks=data[None].astype(bool))
        y = _pick(Z[0, :, 0], P[0, :, 0], np.full(n_samples, targets[i]), output).astype(np.float64)
        kw = _kernel(_cosine_to_ones(data), width)
        coef, intercept, score, local = _ridge(data, y, kw, alpha)
        out.append(LimeExplanation(
            weights=coef, intercept=intercept, score=score, local_pred=local,
            prediction=float(y[0]), target=int(targets[i]), output=output, segments=seg,
            map=coef[seg], samples=data, scores=y, kernel_weights=kw, feature_names=None,
            n_samples=n_samples))
    return out[0] if single else out


# ---------------------------------------------------------------- LIME tables
class _Quartiles:
    """lime's QuartileDiscretizer: bins at the 25/50/75 percentiles, with
    each bin's mean, standard deviation, minimum and maximum."""

    def __init__(self, data, names):
        self.bins, self.names = [], []
        self.means, self.stds, self.mins, self.maxs = [], [], [], []
        self.values, self.freqs = [], []
        for f in range(data.shape[1]):
            col = data[:, f]
            qts = np.unique(np.percentile(col, [25, 50, 75]))
            self.bins.append(qts)
            name = names[f]
            labels = [f"{name} <= {qts[0]:.2f}"]
            labels += [f"{qts[i]:.2f} < {name} <= {qts[i + 1]:.2f}" for i in range(len(qts) - 1)]
            labels.append(f"{name} > {qts[-1]:.2f}")
            self.names.append(labels)
            disc = np.searchsorted(qts, col)
            means, stds = [], []
            for b in range(len(qts) + 1):
                sel = col[disc == b]
                means.append(0.0 if sel.size == 0 else float(np.mean(sel)))
                stds.append((0.0 if sel.size == 0 else float(np.std(sel))) + 1e-11)
            self.means.append(np.array(means))
            self.stds.append(np.array(stds))
            self.mins.append(np.array([col.min()] + qts.tolist()))
            self.maxs.append(np.array(qts.tolist() + [col.max()]))
            vals, counts = np.unique(disc, return_counts=True)
            self.values.append(vals)
            self.freqs.append(counts / counts.sum())

    def discretize(self, x):
        return np.array([np.searchsorted(q, v) for q, v in zip(self.bins, x)])

    def undiscretize(self, f, bins, rs):
        """Values drawn in the bins from a normal truncated to each bin, as
        lime draws them (a bin of zero width gives its single value)."""
        from scipy.stats import truncnorm
        mins, maxs = self.mins[f][bins], self.maxs[f][bins]
        means, stds = self.means[f][bins], self.stds[f][bins]
        minz, maxz = (mins - means) / stds, (maxs - means) / stds
        out = mins.astype(np.float64).copy()
        u = minz != maxz
        out[u] = truncnorm.rvs(minz[u], maxz[u], loc=means[u], scale=stds[u], random_state=rs)
        return out


def lime_tabular(model, X, training_data, target=None, n_samples=5000, discretize=True,
                 kernel_width=None, alpha=1.0, feature_names=None, output="probability", seed=0):
    """LIME for tabular rows, as the lime package's ``LimeTabularExplainer``
    with its defaults.

    With ``discretize=True`` (lime's default) every feature is cut into
    quartiles of the training data; a perturbed sample draws each feature's
    bin from the training frequencies and a value inside it from a
    truncated normal with the bin's mean and standard deviation; the
    surrogate's inputs are 1 where the sample's bin is the row's own bin.
    With ``discretize=False`` samples are N(mean, std) of the training data
    and the surrogate sees them standardised. The kernel is exponential on
    the Euclidean distance with width ``0.75 * sqrt(n_features)`` (lime's
    default), the surrogate a ridge regression (``alpha=1``) on all features.

    Parameters
    ----------
    X : one row (d,) or rows (m, d).
    training_data : (n, d) rows whose statistics define the sampling.
    feature_names : d names (default "0", "1", ...), used in
        ``feature_names`` of the result (e.g. ``"mean radius <= 13.37"``).
    seed : the draws of ``LimeTabularExplainer(random_state=seed)``
        (RandomState), in lime's order; several rows continue the stream.

    Returns a ``LimeExplanation`` per row (``Explanations`` for a batch);
    its ``map`` is the weights; ``perturbed`` holds the sampled rows.

    One difference from lime: a quartile bin of zero width (a feature whose
    quartiles coincide, e.g. many zeros) gives sampled rows that bin's value;
    lime puts the bin's z-score there instead.
    """
    rows, targets, _, single = _rows(model, X, target)
    m, d = rows.shape
    train = V.features(training_data, "training_data", d, np.float64, finite=True)
    if train.shape[0] < 2:
        raise ValueError(f"training_data: expected at least 2 rows, got {train.shape[0]}")
    n_samples = V.positive_int(n_samples, "n_samples", minimum=2)
    if not isinstance(discretize, (bool, np.bool_)):
        raise TypeError(f"discretize: expected True or False, got {discretize!r}")
    width = (0.75 * math.sqrt(d) if kernel_width is None
             else V.finite_float(kernel_width, "kernel_width", 0.0, low_open=True))
    alpha = V.finite_float(alpha, "alpha", 0.0)
    output = _choice(output, "output", OUTPUTS)
    if feature_names is None:
        names = [str(i) for i in range(d)]
    else:
        names = [str(n) for n in feature_names]
        if len(names) != d:
            raise ValueError(f"feature_names: expected {d} names, got {len(names)}")
    from sklearn.metrics import pairwise_distances
    from sklearn.preprocessing import StandardScaler
    scaler = StandardScaler(with_mean=False).fit(train)
    quart = _Quartiles(train, names) if discretize else None
    rs = _seed(seed)
    out = Explanations()
    for i in range(m):
        x = rows[i].astype(np.float64)
        if discretize:
            own = quart.discretize(x)
            data = np.zeros((n_samples, d))
            inverse = np.zeros((n_samples, d))
            for f in range(d):
                col = rs.choice(quart.values[f], size=n_samples, replace=True, p=quart.freqs[f])
                binary = (col == own[f]).astype(int)
                binary[0] = 1
                data[:, f] = binary
                inverse[:, f] = col
            for f in range(d):
                inverse[1:, f] = quart.undiscretize(f, inverse[1:, f].astype(int), rs)
            inverse[0] = x
            scaled = data
            fnames = [quart.names[f][own[f]] for f in range(d)]
        else:
            data = rs.normal(0, 1, n_samples * d).reshape(n_samples, d) * scaler.scale_ + scaler.mean_
            data[0] = x
            inverse = data.copy()
            scaled = (data - scaler.mean_) / scaler.scale_
            fnames = list(names)
        Z, P = _perturb.forward(model, np.ascontiguousarray(inverse, dtype=model.dtype))
        y = _pick(Z, P, np.full(n_samples, targets[i]), output).astype(np.float64)
        dist = pairwise_distances(scaled, scaled[0].reshape(1, -1), metric="euclidean").ravel()
        kw = _kernel(dist, width)
        coef, intercept, score, local = _ridge(scaled, y, kw, alpha)
        out.append(LimeExplanation(
            weights=coef, intercept=intercept, score=score, local_pred=local,
            prediction=float(y[0]), target=int(targets[i]), output=output, segments=None,
            map=coef, samples=scaled, scores=y, kernel_weights=kw, feature_names=fnames,
            n_samples=n_samples, perturbed=inverse))
    return out[0] if single else out


# ---------------------------------------------------------------- KernelSHAP
def _shapley_kernel_masks(M, n_samples, rs):
    """(masks (n, M) float64, weights (n,), exact) of shap's KernelExplainer
    sampler: subset sizes from both ends enumerated completely while the
    budget allows, the rest sampled with their complements (paired), a
    repeated sample adding to the weight of the first."""
    max_samples = 2 ** M - 2 if M <= 30 else 2 ** 30
    n = min(n_samples, max_samples)
    masks = np.zeros((n, M))
    weights = np.zeros(n)
    added = 0
    num_subset_sizes = int(np.ceil((M - 1) / 2.0))
    num_paired = int(np.floor((M - 1) / 2.0))
    wv = np.array([(M - 1.0) / (i * (M - i)) for i in range(1, num_subset_sizes + 1)])
    wv[:num_paired] *= 2
    wv /= wv.sum()
    num_full = 0
    left = n
    rem = wv.copy()
    for size in range(1, num_subset_sizes + 1):
        nsub = math.comb(M, size) * (2 if size <= num_paired else 1)
        if left * rem[size - 1] / nsub < 1.0 - 1e-8:
            break
        num_full += 1
        left -= nsub
        if rem[size - 1] < 1.0:
            rem /= 1 - rem[size - 1]
        w = wv[size - 1] / math.comb(M, size)
        if size <= num_paired:
            w /= 2.0
        for inds in itertools.combinations(range(M), size):
            masks[added, list(inds)] = 1.0
            weights[added] = w
            added += 1
            if size <= num_paired:
                masks[added] = 1.0 - masks[added - 1]
                weights[added] = w
                added += 1
    n_fixed = added
    left = n - n_fixed
    if num_full != num_subset_sizes:
        rem = wv.copy()
        rem[:num_paired] /= 2
        rem = rem[num_full:]
        rem /= rem.sum()
        ind_set = rs.choice(len(rem), 4 * left, p=rem)
        pos = 0
        used = {}
        while left > 0 and pos < len(ind_set):
            size = ind_set[pos] + num_full + 1
            pos += 1
            mk = np.zeros(M)
            mk[rs.permutation(M)[:size]] = 1.0
            key = mk.tobytes()
            new = key not in used
            if new:
                used[key] = added
                left -= 1
                masks[added] = mk
                weights[added] = 1.0
                added += 1
            else:
                weights[used[key]] += 1.0
            if left > 0 and size <= num_paired:
                if new:
                    left -= 1
                    masks[added] = 1.0 - mk
                    weights[added] = 1.0
                    added += 1
                else:
                    weights[used[key] + 1] += 1.0
        weights[n_fixed:added] *= wv[num_full:].sum() / weights[n_fixed:added].sum()
    return masks[:added], weights[:added], num_full == num_subset_sizes


def _all_coalitions(M):
    """Every coalition but the empty and the full one, with the Shapley
    kernel weight (M - 1) / (C(M, s) s (M - s))."""
    codes = np.arange(1, 2 ** M - 1, dtype=np.int64)
    masks = ((codes[:, None] >> np.arange(M)) & 1).astype(np.float64)
    s = masks.sum(axis=1).astype(np.int64)
    comb = np.array([math.comb(M, k) for k in range(M + 1)], dtype=np.float64)
    return masks, (M - 1.0) / (comb[s] * s * (M - s))


def _shap_solve(masks, weights, ey, fx, fnull):
    """The Shapley kernel's weighted least squares with sum(phi) = fx - fnull
    (the last feature eliminated through the constraint, as in shap)."""
    delta = fx - fnull
    y = (ey - fnull) - masks[:, -1] * delta
    A = masks[:, :-1] - masks[:, -1:]
    WA = weights[:, None] * A
    with one_blas_thread():
        try:
            w = np.linalg.solve(ops.matmul(A, WA, trans_a=True), WA.T @ y)
        except np.linalg.LinAlgError:
            sw = np.sqrt(weights)
            w = np.linalg.lstsq(sw[:, None] * A, sw * y, rcond=None)[0]
    phi = np.empty(masks.shape[1])
    phi[:-1] = w
    phi[-1] = delta - w.sum()
    return phi


def _background(background, d):
    if isinstance(background, numbers.Real) and not isinstance(background, bool):
        return np.full((1, d), float(background), dtype=np.float64)
    return V.features(background, "background", d, np.float64, finite=True)


def kernel_shap(model, X, background, target=None, n_samples=None, segmentation=None,
                output="probability", exact=16, seed=0, shape=None, segmentation_kwargs=None):
    """KernelSHAP (Lundberg & Lee 2017), as shap's ``KernelExplainer``.

    The value of a coalition S of features is the mean score over the
    background rows of the row with S taken from x and the other features
    from the background row. The Shapley values solve the weighted least
    squares of the Shapley kernel over the evaluated coalitions, with the
    efficiency constraint sum(phi) = f(x) - E[f] imposed exactly.

    Parameters
    ----------
    X : one row (or image) or a batch.
    background : (K, d) rows (or images), one row, or a number (a constant
        row). Every coalition is evaluated over every background row.
    target : None (the predicted class), a class, or one class per row.
    n_samples : coalitions to evaluate (default shap's ``2 M + 2048``, at
        most ``2^M - 2``).
    segmentation : None (features are the input columns) or superpixels as
        in ``lime`` (a method name or labels); a superpixel takes all its
        pixels from x or from the background row.
    output : ``"probability"`` (shap with ``predict_proba``; default) or
        ``"logit"`` (the pre-softmax score).
    exact : evaluate every coalition (2^M - 2 of them, each over the
        background; ``n_samples`` is then not used) when M <= exact; the
        values are then exact. ``exact=0`` always samples.
    seed : the sampler draws from ``RandomState(seed)`` in shap's order
        (``np.random.seed(seed)`` before shap gives the same coalitions);
        several rows continue the stream.
    shape : (H, W) of rows that are not square images (with a segmentation).

    Features that equal every background row cannot matter; as in shap,
    they get 0 and M counts only the others. Returns a ``ShapExplanation``
    for one row, an ``Explanations`` list for a batch.
    """
    rows, targets, xshape, single = _rows(model, X, target)
    m, d = rows.shape
    output = _choice(output, "output", OUTPUTS)
    exact = V.positive_int(exact, "exact", minimum=0)
    if n_samples is not None:
        n_samples = V.positive_int(n_samples, "n_samples")
    bg = _background(background, d)
    K = bg.shape[0]
    if segmentation is None:
        if segmentation_kwargs is not None:
            raise TypeError("segmentation_kwargs: only with a segmentation")
        if shape is not None:
            raise TypeError("shape: only with a segmentation (images)")
        segs = [None] * m
    else:
        hw = _image_shape(d, xshape, shape, single)
        segs = _segments(segmentation, rows, hw, segmentation_kwargs)
    rs = _seed(seed)
    bg_rows = np.ascontiguousarray(bg, dtype=model.dtype)
    Zb, Pb = _perturb.forward(model, bg_rows)
    Zx, Px = _perturb.forward(model, rows)
    out = Explanations()
    for i in range(m):
        seg = segs[i]
        labels = np.arange(d) if seg is None else seg.ravel()
        M = int(labels.max()) + 1
        x = rows[i].astype(np.float64)
        t = int(targets[i])
        fx = float(_pick(Zx[i:i + 1], Px[i:i + 1], [t], output)[0])
        fnull = float(np.mean(_pick(Zb, Pb, np.full(K, t), output).astype(np.float64)))
        differs = np.zeros(M, dtype=bool)
        np.logical_or.at(differs, labels, np.any(bg != x[None, :], axis=0))
        vary = np.flatnonzero(differs)
        Mv = vary.size
        phi = np.zeros(M)
        n_coal, is_exact = 0, True
        if Mv == 1:
            phi[vary[0]] = fx - fnull
        elif Mv > 1:
            budget = 2 * Mv + 2048 if n_samples is None else n_samples
            if Mv <= exact or (Mv <= 30 and budget >= 2 ** Mv - 2):
                masks, weights = _all_coalitions(Mv)
            else:
                masks, weights, is_exact = _shapley_kernel_masks(Mv, budget, rs)
            relabel = np.full(M, -1, dtype=np.int64)
            relabel[vary] = np.arange(Mv)
            lab = relabel[labels]
            ey = np.empty(masks.shape[0])
            per_call = max(1, SHAP_ROWS_PER_CALL // K)
            for j0 in range(0, masks.shape[0], per_call):
                part = masks[j0:j0 + per_call]
                Z, P = _perturb.grouped(model, rows[i:i + 1], bg[None], lab[None], Mv,
                                        masks=part[None].astype(bool))
                ey[j0:j0 + part.shape[0]] = _pick(Z[0], P[0], np.full(part.shape[0], t),
                                                  output).astype(np.float64).mean(axis=1)
            phi[vary] = _shap_solve(masks, weights, ey, fx, fnull)
            n_coal = masks.shape[0]
        err = float(phi.sum() + fnull - fx)
        out.append(ShapExplanation(
            values=phi, base_value=fnull, prediction=fx, additivity_error=err,
            exact=bool(is_exact), n_coalitions=n_coal, segments=seg,
            map=phi if seg is None else phi[seg], target=t, output=output, varying=differs))
    return out[0] if single else out
