"""The explanation methods the explorer can show, one entry each.

A ``Method`` names a label, a function ``compute(model, x, target,
options)`` that explains one image (``x`` is a batch of one in the model's
input layout, ``target`` a class) with ONE call of a batched
``xnn.explain`` function, and ``available(model)``, which says whether it
applies to a model (``None`` if it does, else the reason). Adding a method
is adding an entry to ``METHODS`` (or calling ``register``); ``grad_cam``
is one, available for models with convolutions once ``xnn.explain``
has ``grad_cam``.
"""
import numpy as np

from .. import explain

__all__ = ["Method", "METHODS", "DEFAULT_METHODS", "LRP_CHOICES", "register", "get"]

#: the LRP menu: key -> (label, keyword arguments of xnn.explain.lrp)
LRP_CHOICES = {
    "epsilon": ("LRP-ε (ε = 1e-6)", {"rule": "epsilon"}),
    "zero": ("LRP-0", {"rule": "zero"}),
    "gamma": ("LRP-γ (γ = 0.25)", {"rule": "gamma"}),
    "alpha2beta1": ("LRP-α2β1", {"rule": "alpha2beta1"}),
    "zplus": ("LRP-z⁺", {"rule": "zplus"}),
    "epsilon-plus": ("composite ε-plus", {"composite": "epsilon-plus"}),
    "epsilon-plus-flat": ("composite ε-plus-flat", {"composite": "epsilon-plus-flat"}),
    "epsilon-gamma-box": ("composite ε-γ-box", {"composite": "epsilon-gamma-box"}),
    "epsilon-alpha2-beta1": ("composite ε-α2β1", {"composite": "epsilon-alpha2-beta1"}),
    "poster": ("composite poster (LRP-0 / ε / α2β1)", {"composite": "poster"}),
}

#: integrated gradients' number of steps (Gauss-Legendre points)
IG_STEPS = 50


class Method:
    """One explanation method of the explorer.

    Parameters
    ----------
    name : key used in messages and in ``Explorer(methods=[...])``
    label : title shown above the heat map (short: one line)
    detail : a second line under it, a string or ``f((H, W)) -> str``
    compute : ``f(model, x, target, options) -> array`` of the image's size
        (or a smaller map, e.g. a Grad-CAM grid, which is resized); one
        batched call into ``xnn.explain``. ``options`` holds the page's
        settings (``"lrp"``: a key of ``LRP_CHOICES``; ``"value_max"``: the
        largest pixel value of the data).
    available : ``f(model) -> None`` or the reason the method does not apply
    description : one sentence for the page's tooltip
    """

    def __init__(self, name, label, compute, available=None, description="", detail=""):
        self.name = name
        self.label = label
        self.detail = detail
        self.compute = compute
        self.available = available or (lambda model: None)
        self.description = description

    def detail_for(self, shape):
        return self.detail(shape) if callable(self.detail) else str(self.detail)

    def __repr__(self):
        return f"Method({self.name!r})"


def _conv_layers(model):
    """Indices of the model's convolutional layers (Conv1d, Conv2d, ...)."""
    return [i for i, layer in enumerate(model.layers)
            if type(layer).__name__.lower().startswith("conv")]


def _has_conv(model):
    return bool(_conv_layers(model))


def _saliency(model, x, target, options):
    return explain.saliency(model, x, target=target)


def _input_x_gradient(model, x, target, options):
    return explain.input_x_gradient(model, x, target=target)


def _integrated_gradients(model, x, target, options):
    return explain.integrated_gradients(model, x, target=target, steps=IG_STEPS)


def _lrp(model, x, target, options):
    key = options.get("lrp", "epsilon")
    if key not in LRP_CHOICES:
        raise ValueError(f"lrp: expected one of {list(LRP_CHOICES)}, got {key!r}")
    kwargs = dict(LRP_CHOICES[key][1])
    if kwargs.get("composite") == "epsilon-gamma-box":
        kwargs.update(low=0.0, high=float(options.get("value_max", 1.0)))
    return explain.lrp(model, x, target=target, **kwargs)


def _occlusion_patch(side):
    patch = max(2, int(round(side / 7)))
    return patch, max(1, patch // 2)


def _occlusion(model, x, target, options):
    H, W = options["shape"]
    patch, stride = _occlusion_patch(min(H, W))
    kwargs = {"shape": (H, W)} if np.ndim(x) == 2 else {}
    return explain.occlusion(model, x, patch=patch, stride=stride, target=target, **kwargs)


def _grad_cam(model, x, target, options):
    convs = _conv_layers(model)
    layer = convs[-1] if convs else len(model.layers) - 1
    return explain.grad_cam(model, x, target=target, layer=layer)


def _grad_cam_available(model):
    if not hasattr(explain, "grad_cam"):
        return "this version of xnn.explain has no grad_cam"
    if not _has_conv(model):
        return "Grad-CAM needs a convolutional layer"
    return None


METHODS = {}


def register(method):
    """Add (or replace) a method of the explorer; returns it."""
    if not isinstance(method, Method):
        raise TypeError(f"method: expected an xnn.widgets.methods.Method, got "
                        f"{type(method).__name__}")
    METHODS[method.name] = method
    return method


for _m in [
    Method("saliency", "saliency", _saliency, detail="|∂z/∂x|",
           description="absolute gradient of the class's logit z with respect to each pixel"),
    Method("input_x_gradient", "gradient × input", _input_x_gradient, detail="x · ∂z/∂x",
           description="pixel value times the gradient of the class's logit"),
    Method("integrated_gradients", "integrated gradients", _integrated_gradients,
           detail=f"{IG_STEPS} steps from black",
           description=f"(x − 0) times the mean gradient along the path from a black image, "
                       f"{IG_STEPS} Gauss-Legendre points"),
    Method("lrp", "LRP", _lrp, detail="rule menu",
           description="layer-wise relevance propagation of the class's logit"),
    Method("occlusion", "occlusion", _occlusion,
           detail=lambda shape: "patch {0}, stride {1}".format(*_occlusion_patch(min(shape))),
           description="drop of the class's logit when a patch is set to 0 (mean over the "
                       "patches covering a pixel)"),
    Method("grad_cam", "Grad-CAM", _grad_cam, available=_grad_cam_available,
           detail="last convolution",
           description="class-weighted activation map of the last convolution"),
]:
    register(_m)
del _m

#: what Explorer shows when methods=None (those that apply to the model)
DEFAULT_METHODS = ("saliency", "input_x_gradient", "integrated_gradients", "lrp", "occlusion",
                   "grad_cam")


def get(name):
    """The method called name, or a ValueError listing the known ones."""
    if isinstance(name, Method):
        return name
    if not isinstance(name, str) or name not in METHODS:
        raise ValueError(f"methods: expected names from {list(METHODS)}, got {name!r}")
    return METHODS[name]
