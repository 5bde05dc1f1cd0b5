"""DeepLIFT with the rescale rule (Shrikumar et al. 2017) and DeepLIFT-SHAP,
as Captum (0.9) computes them, explaining the target's logit.

Multipliers flow back from the logit like a gradient, but through each
nonlinearity y = f(z) the local derivative is replaced by Δy / Δz (Δ: the
value at X minus the value at the baseline B). Captum runs X and B as one
batch of 2m rows and keeps two gradient streams, one per half, which agree
except where a fallback below is taken:

* ReLU, tanh, sigmoid (fused in dense/conv layers here): where
  |Δz| >= eps (eps = 1e-10), the multiplier is g Δy / Δz in both halves;
  where |Δz| < eps, each half takes its own plain gradient: g f'(z) at X,
  g_b f'(z_b) at B.
* Max pool (Captum's ``maxpool``): with y = maxpool(x), y_b = maxpool(x_b),
  y⁺ = max(y, y_b) elementwise, Δy is split in two parts routed by the two
  arg-maxes,
      U = unpool_x(g (y⁺ − y_b)) + unpool_b(g_b (y − y⁺))
  (unpool_x puts a window's value at X's arg-max, unpool_b at B's), and the
  multiplier M at input position i is U_i / Δx_i in both halves, or where
  |Δx_i| < eps the half's own plain max-pool gradient P (g routed to its
  arg-max).
* A max pool right after a nonlinearity (a ReLU/tanh/sigmoid module feeding
  the pool; here: a dense/conv layer with that activation, then the pool).
  Both modules hook the same tensor, and the nonlinearity's hook, registered
  first, keeps the gradient that autograd delivers *before* the pool's hook
  replaces it: its grad_output is P, not M. So with ``maxpool="captum"``
  (the default, Captum 0.9 exactly) the multiplier at that layer's
  pre-activation is P Δa / Δz (the original DeepLIFT's "gradient" mode for
  max pooling), and only the fallback where |Δz| < eps sees M
  (act'(z) M). This does not sum to the score difference. With
  ``maxpool="rescale"`` the pool's M flows on as every other multiplier
  (g = M Δa / Δz), which does. A max pool after a linear layer, or on
  the input, uses M in both modes. (Two max pools in a row share a tensor
  the same way; they raise with "captum".)
* Fallbacks reach the attribution only through positions where X = B
  (where (X − B) is 0 anyway), so their values rarely matter; Captum's
  max-pool fallback is written ``grad_input[0]``, which, the hook being
  given the gradient tensor itself, is the first row's plain gradient
  broadcast over all rows; the twin uses each row's own. Captum's unpool
  writes rather than adds, so overlapping windows (stride < kernel) are
  not supported there; the twin adds.
* Dense, conv, average pools and flatten are linear: the plain gradient.
* Softmax: Captum rescales then subtracts the mean of the whole gradient
  tensor (over all rows of both halves), which is not a per-row rule; a
  softmax output layer is not a nonlinearity here: the logit is explained
  (a torch model for comparison is built without its final softmax), and a
  hidden softmax raises.

The attribution is (X − B) ⊙ multipliers at X; its sum misses the score
difference z_t(X) − z_t(B) by the returned error (Captum's
``return_convergence_delta``): zero up to rounding on nets of ReLU, tanh,
sigmoid, linear layers and pools, except Captum's max pool after a
nonlinearity (above).
"""
import numpy as np

from .activation import activation_backward
from .network import PARAMETRIC, as_network, layer_backward, network_forward
from .pool import maxpool1d_backward, maxpool1d_forward, maxpool2d_backward, maxpool2d_forward

__all__ = ["deeplift", "deep_shap"]


def _maxpool(ly, x, xb, g, gb, eps):
    """Captum's max-pool multipliers for both halves, and the plain max-pool
    gradients of both halves (module docstring)."""
    fwd, bwd = ((maxpool2d_forward, maxpool2d_backward) if ly["op"] == "maxpool2d"
                else (maxpool1d_forward, maxpool1d_backward))
    y, arg = fwd(x, ly["kernel"], ly["stride"])
    yb, argb = fwd(xb, ly["kernel"], ly["stride"])
    ymax = np.maximum(y, yb)
    U = bwd(g * (ymax - yb), arg, x.shape) + bwd(gb * (y - ymax), argb, x.shape)
    dx = x - xb
    small = np.abs(dx) < eps
    plain, plain_b = bwd(g, arg, x.shape), bwd(gb, argb, x.shape)
    with np.errstate(divide="ignore", invalid="ignore"):
        ratio = U / dx
    return np.where(small, plain, ratio), np.where(small, plain_b, ratio), plain, plain_b


def _rescale(act, z, zb, a, ab, g, gb, eps, out=None):
    """The rescale rule through a = act(z) for both halves: g Δa / Δz, or
    where |Δz| < eps the half's plain gradient act'(z) g. out: the gradients
    (both halves) that Captum takes as the module's grad_output, when they
    differ from g, gb (a max pool right above, module docstring)."""
    if act == "softmax":
        raise ValueError("deeplift: softmax only as the output layer's activation (the logit is explained)")
    go, gob = (g, gb) if out is None else out
    dz, da = z - zb, a - ab
    small = np.abs(dz) < eps
    with np.errstate(divide="ignore", invalid="ignore"):
        gx = go * da / dz
        gbx = gob * da / dz
    return (np.where(small, activation_backward(a, g, act), gx),
            np.where(small, activation_backward(ab, gb, act), gbx))


def deeplift(net, X, B, targets, eps=1e-10, maxpool="captum"):
    """(attributions shaped like X, error (m,)) of the target's logit.

    B is a baseline per row (shaped like X) or one shared (X.shape[1:]).
    error = sum of a row's attributions − (z_t(X) − z_t(B)). maxpool:
    "captum" or "rescale", how a max pool after a nonlinearity chains
    (module docstring).
    """
    if maxpool not in ("captum", "rescale"):
        raise ValueError(f"maxpool: expected 'captum' or 'rescale', got {maxpool!r}")
    net = as_network(net)
    B = np.asarray(B, dtype=X.dtype)
    if B.shape == X.shape[1:]:
        B = np.broadcast_to(B, X.shape)
    if B.shape != X.shape:
        raise ValueError(f"B: expected shape {X.shape} or {X.shape[1:]}, got {B.shape}")
    Zx, Ax = network_forward(net, X)
    Zb, Ab = network_forward(net, B)
    m, n = Zx[-1].shape
    rows = np.arange(m)
    g = np.zeros((m, n), dtype=X.dtype)
    g[rows, targets] = 1
    gb = g.copy()
    for l in range(len(net) - 1, -1, -1):
        ly = net[l]
        x, xb = (X, B) if l == 0 else (Ax[l - 1], Ab[l - 1])
        out = None
        if ly["op"] in ("maxpool2d", "maxpool1d"):
            if maxpool == "captum" and l > 0 and net[l - 1]["op"] in ("maxpool2d", "maxpool1d"):
                raise ValueError("deeplift: two max pools in a row are not supported with maxpool='captum'")
            g, gb, plain, plain_b = _maxpool(ly, x, xb, g, gb, eps)
            if maxpool == "captum":
                out = (plain, plain_b)
        else:
            g, gb = layer_backward(ly, g, x)[0], layer_backward(ly, gb, xb)[0]
        if l == 0:
            break
        prev = net[l - 1]
        if prev["op"] in PARAMETRIC and prev["act"] != "linear":
            g, gb = _rescale(prev["act"], Zx[l - 1], Zb[l - 1], Ax[l - 1], Ab[l - 1], g, gb, eps, out)
    attr = (X - B) * g
    error = attr.reshape(m, -1).sum(axis=1) - (Zx[-1][rows, targets] - Zb[-1][rows, targets])
    return attr, error


def deep_shap(net, X, backgrounds, targets, eps=1e-10, maxpool="captum"):
    """DeepLIFT-SHAP (Captum's DeepLiftShap): deeplift of every row against
    every background row, averaged over the backgrounds. The pairs are laid
    out as Captum's: each input row repeated len(backgrounds) times, the
    backgrounds tiled. Returns (attributions shaped like X, error (m * k,)
    per pair, input-major)."""
    k = backgrounds.shape[0]
    m = X.shape[0]
    Xe = np.repeat(X, k, axis=0)
    Be = np.tile(backgrounds, (m,) + (1,) * (X.ndim - 1))
    attr, error = deeplift(net, Xe, Be, np.repeat(np.asarray(targets), k), eps, maxpool)
    return attr.reshape((m, k) + X.shape[1:]).mean(axis=1), error
