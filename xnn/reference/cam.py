"""Class activation maps on the network twin: CAM, Grad-CAM, Grad-CAM++,
Guided Grad-CAM, and the upsampling that brings a map to the input's size.

``layer`` indexes the net (pooling and flatten count); A_l is that layer's
output after its fused activation, (m, C, H', W') or (m, C, L'); the score
is the target's logit. Maps come back as (m, H', W') or (m, L').
"""
import numpy as np

from .explain import explain_gradient
from .network import as_network, network_forward

__all__ = ["grad_cam", "grad_cam_plus_plus", "cam", "upsample", "guided_grad_cam"]


def _layer_map(net, X, targets, layer):
    """(A_l, d logit_t / d A_l) for a layer with a spatial output."""
    net = as_network(net)
    if not 0 <= layer < len(net) - 1:
        raise ValueError(f"layer: expected 0 <= layer < {len(net) - 1}, got {layer}")
    A = network_forward(net, X)[1][layer]
    if A.ndim not in (3, 4):
        raise ValueError(f"layer: layer {layer} ({net[layer]['op']}) has no spatial output (shape {A.shape})")
    G = explain_gradient(net, X, targets, "logit", return_layers=True)[layer + 1]
    return A, G


def grad_cam(net, X, targets, layer, relu=True):
    """Grad-CAM (Selvaraju et al. 2017): α_c = mean over positions of
    d z_t / d A_l[c], map = ReLU(Σ_c α_c A_l[c]) (no ReLU with relu=False).
    Equals Captum's ``LayerGradCam(model, module).attribute(x, target,
    relu_attributions=relu)`` squeezed, where module gives A_l (the ReLU
    module after that conv, or the pooling module)."""
    A, G = _layer_map(net, X, targets, layer)
    axes = tuple(range(2, A.ndim))
    alpha = G.mean(axis=axes, keepdims=True)
    cam = np.sum(alpha * A, axis=1)
    return np.maximum(cam, 0) if relu else cam


def grad_cam_plus_plus(net, X, targets, layer, eps=1e-6):
    """Grad-CAM++ (Chattopadhyay et al. 2018, eq. 19) as pytorch-grad-cam's
    ``GradCAMPlusPlus.get_cam_weights`` computes it: with g = d z_t / d A_l,

        α = g² / (2 g² + (Σ_ij A_l[c]) g³ + eps),  α = 0 where g = 0,
        w_c = Σ_ij α ReLU(g),   map = ReLU(Σ_c w_c A_l[c])

    (eps = 1e-6 as there; pytorch-grad-cam then rescales the map to [0, 1]
    and resizes it, which this returns before).
    """
    A, g = _layer_map(net, X, targets, layer)
    axes = tuple(range(2, A.ndim))
    g2 = g**2
    g3 = g2 * g
    sum_a = A.sum(axis=axes, keepdims=True)
    alpha = np.where(g != 0, g2 / (2 * g2 + sum_a * g3 + eps), 0)
    w = np.sum(alpha * np.maximum(g, 0), axis=axes, keepdims=True)
    return np.maximum(np.sum(w * A, axis=1), 0)


def cam(net, X, targets, layer):
    """CAM (Zhou et al. 2016) for a net that ends layer → global average
    pool → dense: map = Σ_k W[k, t] A_l[k], with W the dense layer's weights
    (n_channels, n_classes) and t the target. No bias and no ReLU: the map's
    mean over positions plus the bias is the logit."""
    net = as_network(net)
    ops = [ly["op"] for ly in net[layer + 1:]]
    if ops not in (["gap2d", "dense"], ["gap1d", "dense"]):
        raise ValueError(f"layer: CAM needs the net to end layer {layer} -> gap -> dense, got {ops}")
    A = network_forward(net, X)[1][layer]
    Wt = net[-1]["W"][:, targets].T                      # (m, C)
    Wt = Wt.reshape(Wt.shape + (1,) * (A.ndim - 2))
    return np.sum(Wt * A, axis=1)


def _linear_axis(x, n_out, axis):
    """torch's linear interpolation along one axis (align_corners=False):
    source = max(scale (i + 0.5) - 0.5, 0), scale = n_in / n_out."""
    n_in = x.shape[axis]
    scale = n_in / n_out
    src = np.maximum(scale * (np.arange(n_out) + 0.5) - 0.5, 0.0)
    i0 = src.astype(np.int64)
    i1 = np.minimum(i0 + 1, n_in - 1)
    lam1 = src - i0
    lam0 = 1.0 - lam1
    shape = [1] * x.ndim
    shape[axis] = n_out
    return (np.take(x, i0, axis=axis) * lam0.reshape(shape)
            + np.take(x, i1, axis=axis) * lam1.reshape(shape))


def _nearest_axis(x, n_out, axis):
    """torch's nearest (legacy 'nearest'): source = min(floor(i * scale),
    n_in - 1), with scale = n_in / n_out and the product in float32, as its
    CPU kernel computes it (n_out = n_in and 2 n_in are exact)."""
    n_in = x.shape[axis]
    if n_out == n_in:
        src = np.arange(n_out)
    elif n_out == 2 * n_in:
        src = np.arange(n_out) >> 1
    else:
        scale = np.float32(n_in) / np.float32(n_out)
        src = np.floor(np.arange(n_out).astype(np.float32) * scale).astype(np.int64)
        src = np.minimum(src, n_in - 1)
    return np.take(x, src, axis=axis)


def upsample(maps, size, mode=None):
    """maps resized to size over the last axes: size a pair (H, W) resizes
    the last two axes ("bilinear", the default, or "nearest"), an int the
    last one ("linear", the default, or "nearest"). Equal to ``torch.nn.functional.interpolate``
    with align_corners=False (bilinear/linear) and its "nearest", which
    Captum's LayerAttribution.interpolate uses by default."""
    two = not isinstance(size, (int, np.integer))
    sizes = tuple(int(s) for s in size) if two else (int(size),)
    if two and len(sizes) != 2:
        raise ValueError(f"size: expected an int or a pair, got {size!r}")
    mode = ("bilinear" if two else "linear") if mode is None else mode
    ok = {"nearest": True, "bilinear": two, "linear": not two}
    if not ok.get(mode, False):
        raise ValueError(f"mode: {mode!r} does not fit size {size!r}; expected "
                         f"{'bilinear or nearest' if two else 'linear or nearest'}")
    step = _nearest_axis if mode == "nearest" else _linear_axis
    out = maps
    for k, n in enumerate(sizes):
        out = step(out, n, maps.ndim - len(sizes) + k)
    return out


def guided_grad_cam(net, X, targets, layer, interpolate_mode="nearest"):
    """Guided Grad-CAM (Selvaraju et al. 2017): guided backprop (shaped like
    X) times the Grad-CAM map upsampled to X's spatial size, every channel
    alike; equal to Captum's GuidedGradCam(model, module)."""
    gb = explain_gradient(net, X, targets, "logit", mode="guided")
    m = grad_cam(net, X, targets, layer, relu=True)
    size = X.shape[2:] if X.ndim == 4 else X.shape[2]
    return gb * upsample(m, size, interpolate_mode)[:, None]
