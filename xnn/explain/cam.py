"""Class activation maps: CAM, Grad-CAM, Grad-CAM++ and Guided Grad-CAM,
for 2-D and 1-D convolutional networks, and ``upsample``.

One C call (``csrc/explain/cam.c``) runs the forward, the backward from the
target's logit down to the chosen layer, the channel weights and the
weighted sum, for the whole batch; ``upsample`` resamples in C too.

A layer's feature maps A are its output after its fused activation (in
PyTorch terms, the output of the ReLU module that follows the conv);
``layer`` may also name a pooling layer. Maps come back upsampled to the
input's size with ``torch.nn.functional.interpolate``'s conventions,
align_corners=False: bilinear for images and linear for signals by
default, ``interpolate="nearest"`` as Captum's
``LayerAttribution.interpolate`` defaults to, or ``interpolate=None`` for
the layer's resolution. The result also carries ``.maps`` (the layer's
resolution), ``.weights`` (the channel weights) and ``.targets``.
"""
import math

import numpy as np

from .. import _core
from .. import _validate as V
from .. import layers as L
from . import _common as C
from .gradients import guided_backprop

__all__ = ["grad_cam", "grad_cam_plus_plus", "guided_grad_cam", "cam", "upsample", "CAM"]

_MODES = {"linear": _core.RESIZE_LINEAR, "bilinear": _core.RESIZE_LINEAR,
          "nearest": _core.RESIZE_NEAREST}


class CAM(np.ndarray):
    """A class activation map (an ndarray, upsampled to the input unless
    ``interpolate=None``) with ``.maps`` at the layer's resolution,
    ``.weights`` (m, channels), ``.layer`` and ``.targets``."""

    maps = weights = layer = targets = None     # a view of another array: none

    def __array_finalize__(self, obj):
        if isinstance(obj, CAM):                # a view or copy of a CAM keeps them
            self.maps, self.weights, self.layer, self.targets = \
                obj.maps, obj.weights, obj.layer, obj.targets


def _spatial(model, i):
    shape = model.layers[i].output_shape_
    return len(shape) >= 2 and math.prod(shape[1:]) > 1


def _layer(model, layer, what):
    """The index of the feature-map layer: given, or the last layer with an
    image or signal output."""
    n = len(model.layers)
    if layer is None:
        found = [i for i in range(n - 1) if _spatial(model, i)]
        if not found:
            raise ValueError(f"model: {what} needs a layer with an image or signal output (a "
                             "convolution or pooling); this model has none")
        return found[-1]
    i = C.layer_index(model, layer)
    if i == n - 1 or not _spatial(model, i):
        ly = model.layers[i]
        raise ValueError(f"layer: {what} needs a layer with an image or signal output (a "
                         f"convolution or pooling), got layer {i} ({type(ly).__name__}, output "
                         f"{ly.output_shape_})")
    return i


def _input_size(model):
    shape = model.input_shape
    if len(shape) == 3:
        return shape[1:]
    if len(shape) == 2:
        return (shape[1],)
    raise ValueError("model: its input is a flat row; maps can only be upsampled to an image "
                     "or signal input")


def upsample(maps, size, mode=None):
    """maps (m, H', W') (or (m, L')) resized to ``size`` ((H, W), or L) as
    ``torch.nn.functional.interpolate`` with align_corners=False does it:
    ``mode`` "bilinear" (default for pairs), "linear" (default for one
    length) or "nearest" (torch's legacy nearest, Captum's default)."""
    A = np.asarray(maps)
    if A.dtype not in (np.float32, np.float64):
        A = A.astype(np.float64)
    two = not isinstance(size, (int, np.integer))
    sizes = tuple(V.positive_int(int(s), "size") for s in size) if two else \
        (V.positive_int(int(size), "size"),)
    if two and len(sizes) != 2:
        raise ValueError(f"size: expected an int or a pair, got {size!r}")
    mode = ("bilinear" if two else "linear") if mode is None else mode
    if mode not in _MODES or (mode == "bilinear" and not two) or (mode == "linear" and two):
        raise ValueError(f"mode: expected {'bilinear or nearest' if two else 'linear or nearest'} "
                         f"for size {size!r}, got {mode!r}")
    if A.ndim != len(sizes) + 1:
        raise ValueError(f"maps: expected (m,) + {len(sizes)} spatial axes, got shape {A.shape}")
    src = A.reshape(A.shape[0], 1, A.shape[1]) if not two else A
    out = _core.resize(np.ascontiguousarray(src), *(sizes if two else (1,) + sizes),
                       _MODES[mode])
    return out.reshape((A.shape[0],) + sizes)


def _run(model, X, target, layer, kind, relu, interpolate, what):
    model = C.check_model(model)
    i = _layer(model, layer, what)
    net, Xc, node, targets, _ = C.prepare(model, X, target)
    maps, weights, targets = _core.cam(net, Xc, targets, i, kind, bool(relu))
    fshape = model.layers[i].output_shape_[1:]
    maps = maps.reshape((maps.shape[0],) + tuple(fshape))
    if interpolate is None:
        out = maps.copy()
    else:
        size = _input_size(model)
        mode = interpolate if interpolate != "bilinear" or len(size) == 2 else "linear"
        if mode not in _MODES:
            upsample(maps, size if len(size) == 2 else size[0], mode)   # raises, naming mode
        src = maps if len(size) == 2 else maps.reshape(maps.shape[0], 1, -1)
        out = _core.resize(src, *(size if len(size) == 2 else (1,) + size),
                           _MODES[mode]).reshape((maps.shape[0],) + tuple(size))
    out = out.view(CAM)
    out.maps, out.weights, out.layer, out.targets = maps, weights, i, targets
    return out


def grad_cam(model, X, target=None, layer=None, relu=True, interpolate="bilinear"):
    """Grad-CAM (Selvaraju et al. 2017): the channel weights are the mean
    gradient of the target's logit over the layer's positions, the map the
    ReLU of the weighted sum of the layer's feature maps.

    Parameters
    ----------
    model : an xnn.Sequential with convolutions (2-D or 1-D)
    X : images (m, C, H, W) (or (m, H, W)), signals (m, C, L), or one
    target : None (each row's predicted class), a class, or one per row
    layer : the feature-map layer (a convolution or pooling); default the
        last one with an image or signal output
    relu : False keeps the negative part (Captum's relu_attributions=False)
    interpolate : "bilinear" (default; "linear" for signals), "nearest",
        or None for the map at the layer's resolution

    Returns a ``CAM`` array, (m, H, W) or (m, L). Equal to Captum's
    ``LayerGradCam(model, relu_module).attribute(x, target,
    relu_attributions=True)`` followed by ``LayerAttribution.interpolate``
    with the same mode.
    """
    return _run(model, X, target, layer, _core.CAM_GRAD, relu, interpolate, "Grad-CAM")


def grad_cam_plus_plus(model, X, target=None, layer=None, interpolate="bilinear"):
    """Grad-CAM++ (Chattopadhay et al. 2018), as pytorch-grad-cam computes
    its weights: with g the gradient of the target's logit, α = g² / (2g² +
    (Σ_positions A) g³ + 1e-6) (0 where g = 0) and w_c = Σ α ReLU(g); the
    map is ReLU(Σ_c w_c A_c) (before pytorch-grad-cam's rescaling to
    [0, 1]). Arguments as ``grad_cam``."""
    return _run(model, X, target, layer, _core.CAM_GRAD_PLUS, True, interpolate, "Grad-CAM++")


def cam(model, X, target=None, layer=None, interpolate="bilinear"):
    """CAM (Zhou et al. 2016) for a network that ends convolution →
    global average pooling → Dense: the map is Σ_k W[k, t] A_k, with W the
    dense layer's weights and A the feature maps before the pooling; no
    bias and no ReLU, so its mean over positions plus the bias is the
    logit. ``layer`` defaults to the layer before the global pooling."""
    model = C.check_model(model)
    n = len(model.layers)
    ok = (n >= 3 and isinstance(model.layers[-1], L.Dense) and
          isinstance(model.layers[-2], (L.GlobalAvgPool2d, L.GlobalAvgPool1d)))
    if not ok:
        raise ValueError("model: CAM needs a network that ends with a global average pooling "
                         "layer and a Dense layer (conv -> GlobalAvgPool -> Dense); use "
                         "grad_cam for other networks")
    if layer is None:
        layer = n - 3
    if C.layer_index(model, layer) != n - 3:
        raise ValueError(f"layer: CAM reads the layer before the global pooling ({n - 3}), got "
                         f"{layer}")
    return _run(model, X, target, layer, _core.CAM_CLASS, False, interpolate, "CAM")


def guided_grad_cam(model, X, target=None, layer=None, interpolate="nearest"):
    """Guided Grad-CAM (Selvaraju et al. 2017): guided backpropagation
    (shaped like X) times the Grad-CAM map upsampled to the input, every
    channel alike; equal to Captum's ``GuidedGradCam`` (whose default
    upsampling is nearest, as here)."""
    model = C.check_model(model)
    g = grad_cam(model, X, target, layer, True, interpolate)
    gb = guided_backprop(model, X, g.targets)
    shape = gb.shape
    flat = gb.reshape(shape[0], model.input_shape[0], -1)
    out = flat * np.asarray(g).reshape(shape[0], 1, -1)
    return out.reshape(shape)
