"""The explorer's Python side: one message in, one answer out.

``Session`` holds a model (and optionally a data set) and answers the
page's messages. The page (in Jupyter through the widget's comm, in the
browser through HTTP POST) sends JSON; arrays travel as base64 of
little-endian float32 (images, maps, activations) or uint8 (the drawing).

Messages
--------
``{"kind": "config"}``
    the model's description, the methods, the LRP menu, the colour maps
    and the data set's size and misclassified rows.
``{"kind": "update", "seq": n, "bitmap": b64 uint8, "width": w, "height": h,
"left": x, "top": y, "canvas": [W, H], "base": null or row, "target": null or
class, "methods": [...], "lrp": key}``
    rebuild the drawing (a w x h rectangle at (x, y) of an empty W x H
    canvas; without ``canvas`` the bitmap is the whole canvas), preprocess
    it (``base`` given: draw over row ``base`` of X, without cropping or
    centring), run the model once, then one batched ``xnn.explain`` call
    per method; answers ``{"kind": "result", ...}``.
Any error is answered as ``{"kind": "error", "seq": n, "message": ...}``.
"""
import base64
import math
import time

import numpy as np

from . import methods as M
from . import preprocess as P

__all__ = ["Session", "image_layout", "encode", "decode"]

#: the largest drawing accepted, in pixels per side
MAX_BITMAP_SIDE = 4096
#: the smallest image side of a model with flat square rows
MIN_SIDE = 4
PREPROCESSING = ("auto", "mnist", "digits", "direct")


def encode(a):
    """base64 of an array as little-endian float32 (flattened)."""
    return base64.b64encode(np.ascontiguousarray(a, dtype="<f4").tobytes()).decode("ascii")


def decode(s, dtype="<f4"):
    """The flat array of a base64 string (float32 by default)."""
    return np.frombuffer(base64.b64decode(s), dtype=dtype)


def _is_model(model):
    return all(hasattr(model, a) for a in ("layers", "predict_proba", "activations", "dtype"))


def image_layout(model):
    """(H, W, layout) of an image model; layout is the shape of one input
    row as the model takes it: ``input_shape`` when the model has one
    (1, H, W)), or ``(n_in,)`` for a flat square row.

    Raises ValueError for models whose input is not a grayscale image."""
    if not _is_model(model):
        raise TypeError(f"model: expected an xnn.Sequential, got {type(model).__name__}")
    shape = getattr(model, "input_shape", None)
    if shape is not None and len(shape) > 1:
        shape = tuple(int(s) for s in shape)
        if len(shape) == 3 and shape[0] == 1:
            return shape[1], shape[2], shape
        if len(shape) == 3:
            raise ValueError(f"model: the explorer draws one grayscale channel; this model's "
                             f"input_shape {shape} has {shape[0]} channels")
        raise ValueError(f"model: the explorer needs an image model, input_shape (1, H, W) or "
                         f"square rows; this model's input_shape {shape} is a signal "
                         "(channels, length)")
    n = int(np.prod(shape)) if shape is not None else int(model.layers[0].n_in)
    side = math.isqrt(n)
    if side * side != n or side < MIN_SIDE:
        why = "which is not a square image" if side * side != n else \
            f"an image smaller than {MIN_SIDE} x {MIN_SIDE}"
        raise ValueError(
            f"model: the explorer needs an image model (square rows such as 784 = 28 x 28 or "
            f"64 = 8 x 8, or an input_shape (1, H, W)); this model takes {n} inputs, {why}")
    return side, side, (n,)


def _value_max(X):
    """1, 16 or 255: the pixel scale of a data set (its maximum, rounded up
    to the nearest of those), or its maximum when larger."""
    top = float(np.max(X)) if X.size else 1.0
    for v in (1.0, 16.0, 255.0):
        if top <= v * (1 + 1e-6):
            return v
    return top


def _int_or_none(v, name, low, high):
    if v is None:
        return None
    if isinstance(v, bool) or not isinstance(v, (int, np.integer)):
        raise TypeError(f"{name}: expected an integer or null, got {v!r}")
    if not low <= v < high:
        raise ValueError(f"{name}: expected an integer in [{low}, {high}), got {v}")
    return int(v)


def _colormap(name, n=256):
    """n RGB triples (0..255) of a matplotlib colour map, flattened."""
    import matplotlib
    cmap = matplotlib.colormaps[name]
    rgb = (cmap(np.linspace(0.0, 1.0, n))[:, :3] * 255 + 0.5).astype(np.uint8)
    return rgb.reshape(-1).tolist()


class Session:
    """The model side of the explorer, without any display.

    Parameters
    ----------
    model : an image model (``xnn.Sequential``): flat square rows (784 =
        28 x 28, 64 = 8 x 8) or an ``input_shape`` (1, H, W).
    X, y : optional data to browse (rows or images in the model's units) and
        their labels (integers or one-hot).
    methods : names from ``xnn.widgets.methods.METHODS`` (or ``Method``
        objects); None: every default method that applies to the model.
    preprocess : ``"auto"`` (8 x 8: ``"digits"``, other square images:
        ``"mnist"``), ``"mnist"``, ``"digits"`` or ``"direct"``; see
        ``xnn.widgets.preprocess``.
    value_max : the data's largest pixel value; None: from X (1, 16 or 255),
        else 1 (xnn's loaders scale pixels to [0, 1]).
    """

    def __init__(self, model, X=None, y=None, methods=None, preprocess="auto",
                 value_max=None):
        self.model = model
        self.height, self.width, self.layout = image_layout(model)
        self.n_classes = int(model.layers[-1].n_out)
        self.dtype = np.dtype(model.dtype)
        if methods is None:
            chosen = [M.METHODS[n] for n in M.DEFAULT_METHODS
                      if n in M.METHODS and M.METHODS[n].available(model) is None]
        else:
            if isinstance(methods, (str, M.Method)):
                methods = [methods]
            chosen = [M.get(n) for n in methods]
            if not chosen:
                raise ValueError("methods: expected at least one method, got an empty list")
            for m in chosen:
                why = m.available(model)
                if why is not None:
                    raise ValueError(f"methods: {m.name!r} does not apply to this model: {why}")
        self.methods = {m.name: m for m in chosen}
        if not isinstance(preprocess, str) or preprocess not in PREPROCESSING:
            raise ValueError(f"preprocess: expected one of {list(PREPROCESSING)}, "
                             f"got {preprocess!r}")
        if preprocess == "auto":
            if (self.height, self.width) == (8, 8):
                preprocess = "digits"
            elif self.height == self.width:
                preprocess = "mnist"
            else:
                preprocess = "direct"
        if preprocess in ("mnist", "digits") and self.height != self.width:
            raise ValueError(f"preprocess: {preprocess!r} needs square images, the model's "
                             f"are {self.height} x {self.width}")
        if preprocess == "digits" and (self.height, self.width) != (8, 8):
            raise ValueError(f"preprocess: 'digits' makes 8 x 8 images, the model takes "
                             f"{self.height} x {self.width}")
        self.preprocess = preprocess
        self.X = self.y = self.pred = None
        if X is not None:
            self._set_data(X, y)
        elif y is not None:
            raise ValueError("y: given without X")
        if value_max is None:
            value_max = _value_max(self.X) if self.X is not None else 1.0
        elif isinstance(value_max, bool) or not isinstance(value_max, (int, float)) \
                or not value_max > 0 or not math.isfinite(value_max):
            raise ValueError(f"value_max: expected a number > 0, got {value_max!r}")
        self.value_max = float(value_max)

    # ------------------------------------------------------------ data
    def _set_data(self, X, y):
        n_pix = self.height * self.width
        arr = np.asarray(X)
        if arr.dtype.kind not in "fiu":
            raise TypeError(f"X: expected an array of numbers, got dtype {arr.dtype}")
        if arr.ndim < 1 or arr.size == 0 or arr.size % n_pix or arr.shape[0] * n_pix != arr.size:
            raise ValueError(f"X: expected rows of {n_pix} values ({self.height} x {self.width} "
                             f"images), got shape {arr.shape}")
        X = np.ascontiguousarray(arr.reshape(arr.shape[0], self.height, self.width),
                                 dtype=self.dtype)
        if not np.all(np.isfinite(X)):
            raise ValueError("X: expected finite values, got NaN or infinity")
        self.X = X
        self.pred = self.model.predict(self._batch(X))
        if y is not None:
            from .._validate import labels
            self.y = labels(y, "y", X.shape[0], self.n_classes)

    def _batch(self, images):
        """images (m, H, W) -> the model's input layout (m, *layout)."""
        images = np.asarray(images)
        return np.ascontiguousarray(images.reshape((images.shape[0],) + self.layout),
                                    dtype=self.dtype)

    def misclassified(self):
        """Rows of X whose prediction differs from y (empty without y)."""
        if self.X is None or self.y is None:
            return np.zeros(0, dtype=np.int64)
        return np.flatnonzero(self.pred != self.y)

    # ------------------------------------------------------------ pieces
    def image_of(self, bitmap, base=None):
        """The image the model sees for a drawing (uint8 (h, w) bitmap),
        (H, W) float64 in [0, value_max]: the session's preprocessing, or,
        with ``base`` (a row of X), the drawing area-averaged to the image's
        size and added to that row, clipped to [0, value_max]."""
        if base is not None:
            if self.X is None:
                raise ValueError("base: this explorer has no data set (X)")
            img = self.X[base].astype(np.float64)
            if bitmap is not None:
                img = np.clip(img + P.direct(bitmap, (self.height, self.width), self.value_max),
                              0.0, self.value_max)
            return img
        if bitmap is None:
            return np.zeros((self.height, self.width))
        if self.preprocess == "mnist":
            return P.mnist(bitmap, side=self.height, value_max=self.value_max)
        if self.preprocess == "digits":
            return P.digits(bitmap, value_max=self.value_max)
        return P.direct(bitmap, (self.height, self.width), self.value_max)

    def analyse(self, image, target=None, methods=None, lrp="epsilon"):
        """Everything the page shows for one image (H, W) in the model's
        units: ``{"image", "proba", "pred", "target", "maps": {name: (H, W)},
        "activations": [each layer's output for the image, without the batch
        axis], "ms": {name: milliseconds}}``. One forward
        (``model.activations``) and one ``xnn.explain`` call per method."""
        t0 = time.perf_counter()
        img = np.asarray(image, dtype=np.float64).reshape(self.height, self.width)
        x = self._batch(img[None])
        target = _int_or_none(target, "target", 0, self.n_classes)
        names = list(self.methods) if methods is None else list(methods)
        for n in names:
            if n not in self.methods:
                raise ValueError(f"methods: expected names from {list(self.methods)}, got {n!r}")
        if lrp not in M.LRP_CHOICES:
            raise ValueError(f"lrp: expected one of {list(M.LRP_CHOICES)}, got {lrp!r}")
        acts = self.model.activations(x)
        out = np.asarray(acts[-1], dtype=np.float64).reshape(-1)
        pred = int(np.argmax(out))
        t = pred if target is None else target
        ms = {"forward": (time.perf_counter() - t0) * 1e3}
        options = {"lrp": lrp, "value_max": self.value_max, "shape": (self.height, self.width)}
        maps = {}
        for n in names:
            t1 = time.perf_counter()
            r = np.asarray(self.methods[n].compute(self.model, x, t, options), dtype=np.float64)
            maps[n] = self._as_image(r, n)
            ms[n] = (time.perf_counter() - t1) * 1e3
        return {"image": img, "proba": out, "pred": pred, "target": t, "maps": maps,
                "activations": [np.asarray(a, dtype=np.float64)[0] for a in acts],
                "ms": ms}

    def _as_image(self, r, name):
        H, W = self.height, self.width
        if r.size == H * W:
            r = r.reshape(H, W)
        else:   # a coarser map (a Grad-CAM grid): resized to the image
            r = np.squeeze(r)
            if r.ndim != 2:
                raise ValueError(f"{name}: expected a map of {H} x {W} values or a 2-D grid, "
                                 f"got shape {r.shape}")
            r = P.area_resize(r, H, W)
        return np.nan_to_num(r, nan=0.0, posinf=0.0, neginf=0.0)

    # ------------------------------------------------------------ messages
    def config(self):
        """What the page needs once: sizes, labels, methods, menus, colour maps."""
        layers = []
        for i, layer in enumerate(self.model.layers):
            n_out = getattr(layer, "n_out", None)
            act = getattr(layer, "activation", "")
            layers.append({"index": i, "type": type(layer).__name__,
                           "units": int(n_out) if n_out is not None else None,
                           "activation": act})
        last = getattr(self.model.layers[-1], "activation", "")
        data = None
        if self.X is not None:
            data = {"n": int(self.X.shape[0]), "labels": self.y is not None,
                    "misclassified": self.misclassified().tolist()}
        desc = "-".join([str(int(np.prod(self.layout)))] +
                        [str(l["units"]) for l in layers if l["units"] is not None])
        return {
            "kind": "config",
            "shape": [self.height, self.width],
            "classes": [str(c) for c in range(self.n_classes)],
            "output": "probability" if last == "softmax" else "output",
            "preprocess": self.preprocess,
            "value_max": self.value_max,
            "model": desc,
            "layers": layers,
            "methods": [{"name": m.name, "label": m.label, "description": m.description,
                         "detail": m.detail_for((self.height, self.width))}
                        for m in self.methods.values()],
            "lrp": [{"key": k, "label": v[0]} for k, v in M.LRP_CHOICES.items()],
            "data": data,
            "colormaps": {"diverging": _colormap("RdBu_r"), "sequential": _colormap("viridis"),
                          "gray": _colormap("gray")},
        }

    def _bitmap(self, msg):
        """The drawing of an update: ``bitmap`` (base64 uint8, ``height`` rows
        of ``width``), optionally a rectangle of a larger empty canvas
        (``canvas`` [width, height], at ``left``, ``top``), which is
        rebuilt here."""
        b = msg.get("bitmap")
        if b is None:
            return None

        def size(name, v, low, high):
            if isinstance(v, bool) or not isinstance(v, int) or not low <= v <= high:
                raise ValueError(f"{name}: expected an integer in [{low}, {high}], got {v!r}")
            return v

        w = size("width", msg.get("width"), 1, MAX_BITMAP_SIDE)
        h = size("height", msg.get("height"), 1, MAX_BITMAP_SIDE)
        if not isinstance(b, str):
            raise TypeError(f"bitmap: expected a base64 string, got {type(b).__name__}")
        try:
            raw = base64.b64decode(b, validate=True)
        except ValueError as e:
            raise ValueError(f"bitmap: not valid base64: {e}") from None
        if len(raw) != w * h:
            raise ValueError(f"bitmap: expected width * height = {w * h} bytes, got {len(raw)}")
        a = np.frombuffer(raw, dtype=np.uint8).reshape(h, w)
        canvas = msg.get("canvas")
        if canvas is None:
            return a
        if not isinstance(canvas, list) or len(canvas) != 2:
            raise ValueError(f"canvas: expected [width, height], got {canvas!r}")
        cw = size("canvas[0]", canvas[0], 1, MAX_BITMAP_SIDE)
        ch = size("canvas[1]", canvas[1], 1, MAX_BITMAP_SIDE)
        left = size("left", msg.get("left", 0), 0, cw - w)
        top = size("top", msg.get("top", 0), 0, ch - h)
        full = np.zeros((ch, cw), dtype=np.uint8)
        full[top:top + h, left:left + w] = a
        return full

    def update(self, msg):
        """Answer an ``update`` message (see the module's docstring)."""
        t0 = time.perf_counter()
        n = self.X.shape[0] if self.X is not None else 0
        base = msg.get("base")
        if base is not None and self.X is None:
            raise ValueError("base: this explorer has no data set (X)")
        base = _int_or_none(base, "base", 0, n)
        bitmap = self._bitmap(msg)
        img = self.image_of(bitmap, base)
        t_pre = (time.perf_counter() - t0) * 1e3
        methods = msg.get("methods")
        if methods is not None and not isinstance(methods, list):
            raise TypeError(f"methods: expected a list of names, got {methods!r}")
        r = self.analyse(img, msg.get("target"), methods, msg.get("lrp", "epsilon"))
        maps = []
        for name, a in r["maps"].items():
            lim = float(np.max(np.abs(a))) if a.size else 0.0
            maps.append({"name": name, "label": self.methods[name].label, "data": encode(a),
                         "limit": lim, "ms": r["ms"][name]})
        # rows of units (dense layers) or (C, H, W) feature maps (convolutions)
        acts = [{"data": encode(a), "shape": list(a.shape), "min": float(a.min()),
                 "max": float(a.max())} for a in r["activations"]]
        reply = {"kind": "result", "seq": msg.get("seq"), "shape": [self.height, self.width],
                 "image": encode(img), "proba": r["proba"].tolist(), "pred": r["pred"],
                 "target": r["target"], "maps": maps, "activations": acts, "base": None}
        if base is not None:
            reply["base"] = {"index": base, "image": encode(self.X[base]),
                             "label": int(self.y[base]) if self.y is not None else None,
                             "pred": int(self.pred[base])}
        ms = dict(r["ms"], preprocess=t_pre)
        ms["total"] = (time.perf_counter() - t0) * 1e3
        reply["ms"] = ms
        return reply

    def handle(self, msg):
        """One message in, one answer out; never raises (errors are answers)."""
        seq = msg.get("seq") if isinstance(msg, dict) else None
        try:
            if not isinstance(msg, dict):
                raise TypeError(f"message: expected a JSON object, got {type(msg).__name__}")
            kind = msg.get("kind")
            if kind == "config":
                return self.config()
            if kind == "update":
                return self.update(msg)
            raise ValueError(f"kind: expected 'config' or 'update', got {kind!r}")
        except (TypeError, ValueError) as e:
            return {"kind": "error", "seq": seq, "message": str(e)}
        except Exception as e:  # a failure of a method: told to the page, not raised
            return {"kind": "error", "seq": seq, "message": f"{type(e).__name__}: {e}"}
