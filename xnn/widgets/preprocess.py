"""From a drawing to the image a model sees.

The explorer's page sends the raw canvas: a grayscale bitmap (uint8, 0 =
no ink, 255 = full ink) at the canvas's own resolution. Everything else
happens here, in NumPy, so that one piece of code decides what the model
sees, in Jupyter and in the browser alike:

``mnist`` (LeCun et al.'s MNIST preprocessing, for 28 x 28 models)
    crop the ink's bounding box, area-average it into a 20 x 20 box keeping
    its aspect ratio (the longer side becomes 20 pixels), and paste it into
    the 28 x 28 field so that its centre of mass falls on pixel (14, 14)
    (row and column index; the MNIST test set's mean centre of mass is
    (13.99, 14.01), spread 0.29 pixel, the spread of a whole-pixel shift).
    Other image sizes use the same recipe with a box of
    ``round(side * 20 / 28)`` pixels.
``digits`` (scikit-learn's 8 x 8 digits, UCI optdigits)
    crop the ink's bounding box, area-average it to fit a 32 x 32 box
    keeping its aspect ratio, centre it, threshold at one half (the NIST
    bitmaps are binary), and count the on pixels of each 4 x 4 block: 8 x 8
    values 0..16.
``direct``
    area-average the whole canvas to the model's size, without cropping or
    centring (used to draw over an image of the data set).

Each returns values scaled to ``[0, value_max]``: ``value_max = 1`` for
data loaded as xnn's loaders do (``load_idx_dir`` and ``load_mnist`` divide
by 255, ``load_digits`` by 16), 255 or 16 for raw pixel values.
"""
import numpy as np

__all__ = ["area_resize", "mnist", "digits", "direct", "ink", "MNIST_BOX", "MNIST_SIDE",
           "DIGITS_BITMAP", "DIGITS_BLOCK"]

#: MNIST's digits fit a 20 x 20 box inside the 28 x 28 field
MNIST_BOX, MNIST_SIDE = 20, 28
#: optdigits: 32 x 32 binary bitmaps, 4 x 4 blocks counted
DIGITS_BITMAP, DIGITS_BLOCK = 32, 4


def _area_matrix(n_in, n_out):
    """(n_out, n_in): output pixel i averages the input interval
    [i s, (i + 1) s), s = n_in / n_out, weighting each input pixel by the
    length of its overlap. Rows sum to 1."""
    s = n_in / n_out
    lo = np.arange(n_out, dtype=np.float64)[:, None] * s
    j = np.arange(n_in, dtype=np.float64)[None, :]
    overlap = np.minimum(lo + s, j + 1.0) - np.maximum(lo, j)
    return np.clip(overlap, 0.0, None) / s


def area_resize(image, height, width):
    """Resize a 2-D array by area averaging (box filter with fractional
    pixel coverage, like PIL's BOX or OpenCV's INTER_AREA): every output
    pixel is the mean of the input area it covers. Two matrix products."""
    image = np.asarray(image, dtype=np.float64)
    if image.ndim != 2 or image.size == 0:
        raise ValueError(f"image: expected a non-empty 2-D array, got shape {image.shape}")
    return _area_matrix(image.shape[0], height) @ image @ _area_matrix(image.shape[1], width).T


def ink(bitmap):
    """The bitmap as float64 ink in [0, 1] (uint8 / 255; floats are taken as
    they are), checked to be 2-D."""
    a = np.asarray(bitmap)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"bitmap: expected a non-empty 2-D array, got shape {a.shape}")
    if a.dtype == np.uint8:
        return a.astype(np.float64) / 255.0
    if a.dtype.kind not in "fiu":
        raise TypeError(f"bitmap: expected uint8 or float values, got dtype {a.dtype}")
    a = a.astype(np.float64)
    if not np.all(np.isfinite(a)) or a.min() < 0 or a.max() > 1:
        raise ValueError("bitmap: expected float ink in [0, 1]")
    return a


def _crop(bitmap):
    """The ink (``ink``) of the bounding box of the pixels with ink (> 0),
    or None. The box is found on the raw values, so only it is converted."""
    a = np.asarray(bitmap)
    if a.ndim != 2 or a.size == 0:
        raise ValueError(f"bitmap: expected a non-empty 2-D array, got shape {a.shape}")
    if a.dtype != np.uint8:
        a = ink(a)
    rows = np.flatnonzero(a.any(axis=1))
    if rows.size == 0:
        return None
    cols = np.flatnonzero(a.any(axis=0))
    return ink(a[rows[0]:rows[-1] + 1, cols[0]:cols[-1] + 1])


def _fit(crop, box):
    """Area-average crop so that its longer side is box pixels, keeping the
    aspect ratio (the shorter side is rounded, at least 1 pixel)."""
    h, w = crop.shape
    scale = box / max(h, w)
    nh = max(1, int(np.floor(h * scale + 0.5)))
    nw = max(1, int(np.floor(w * scale + 0.5)))
    return area_resize(crop, nh, nw)


def _paste(small, side, top, left):
    """small placed with its top-left corner at (top, left) of a side x side
    field of zeros; what falls outside is cut off."""
    out = np.zeros((side, side), dtype=np.float64)
    h, w = small.shape
    r0, c0 = max(top, 0), max(left, 0)
    r1, c1 = min(top + h, side), min(left + w, side)
    if r0 < r1 and c0 < c1:
        out[r0:r1, c0:c1] = small[r0 - top:r1 - top, c0 - left:c1 - left]
    return out


def mnist(bitmap, side=MNIST_SIDE, box=None, value_max=1.0):
    """MNIST's preprocessing of a drawing: crop, fit a ``box`` x ``box``
    square by area averaging (``box`` defaults to ``round(side * 20 / 28)``,
    20 for 28), paste into ``side`` x ``side`` with the centre of mass on
    pixel (side / 2, side / 2), rounded to whole pixels. Returns
    ``(side, side)`` float64 in ``[0, value_max]``; an empty drawing gives
    zeros."""
    if box is None:
        box = max(1, int(np.floor(side * MNIST_BOX / MNIST_SIDE + 0.5)))
    crop = _crop(bitmap)
    if crop is None:
        return np.zeros((side, side))
    small = _fit(crop, box)
    mass = small.sum()
    cy = small.sum(axis=1) @ np.arange(small.shape[0]) / mass
    cx = small.sum(axis=0) @ np.arange(small.shape[1]) / mass
    top = int(np.floor(side / 2 - cy + 0.5))
    left = int(np.floor(side / 2 - cx + 0.5))
    return _paste(small, side, top, left) * value_max


def digits(bitmap, value_max=1.0):
    """scikit-learn's digits preprocessing of a drawing: crop, fit a 32 x 32
    box by area averaging keeping the aspect ratio, centre it, threshold at
    0.5, count the on pixels of every 4 x 4 block (0..16) and scale:
    ``count / 16 * value_max``. Returns (8, 8) float64."""
    n, k = DIGITS_BITMAP, DIGITS_BLOCK
    crop = _crop(bitmap)
    if crop is None:
        return np.zeros((n // k, n // k))
    small = _fit(crop, n)
    h, w = small.shape
    field = _paste(small, n, (n - h) // 2, (n - w) // 2)
    counts = (field >= 0.5).reshape(n // k, k, n // k, k).sum(axis=(1, 3))
    return counts / float(k * k) * value_max


def direct(bitmap, shape, value_max=1.0):
    """The whole canvas area-averaged to ``shape`` (H, W), no crop, no
    centring, scaled to ``[0, value_max]``."""
    a = ink(bitmap)
    return area_resize(a, int(shape[0]), int(shape[1])) * value_max
