"""The outputs of many perturbed copies of inputs, batched through the C forward.

Perturbation methods (LIME, KernelSHAP, pixel flipping, region perturbation,
faithfulness correlation) switch *groups* of input columns (superpixels,
features, the pixels of a flipping step) between an input row x and a base
row b (a baseline, noise, or a background row). A copy is described by a
0/1 mask over the groups: 1 keeps x's columns, 0 takes b's.

Two ways to compute the same numbers (to rounding):

copies
    build the perturbed rows, a few thousand at a time, and run each chunk
    through the model's C forward (``model.activations``).
first layer
    when the first layer is Dense, its pre-activation of a copy is linear in
    the mask: ``z1 = b W1 + b1 + sum_g mask_g G_g`` with
    ``G_g = ((x - b) restricted to group g) W1``. The d-wide first product is
    made once per group (a sparse product over the columns) instead of once
    per copy; a copy then costs a product over the groups (or, for the
    nested copies of a flipping curve, one addition). The rest of the network
    runs in C on those pre-activations. Everything is in the model's dtype:
    float64 models agree with the copies to float64 rounding, float32 models
    to float32 rounding.

Logits are the last layer's pre-activation, computed from the input of the
last layer; outputs are the last layer's values (probabilities for a softmax).
"""
import numpy as np

from .. import layers as layers_mod
from .. import ops

#: perturbed rows per C call
CHUNK_ROWS = 8192
#: use the first-layer path where it applies (tests switch it off for twins)
USE_FIRST_LAYER = True

_NUMPY_ACTIVATIONS = ("linear", "relu", "tanh", "sigmoid")


def _last_layer(model):
    last = model.layers[-1]
    return np.ascontiguousarray(last.W), np.ascontiguousarray(last.b)


def _from_acts(acts, rows, W_L, b_L):
    """(logits, outputs) from a list of every layer's output."""
    A = acts[-2] if len(acts) > 1 else rows
    Z = ops.matmul(np.ascontiguousarray(A), W_L)
    Z += b_L
    return Z, acts[-1]


def forward(model, rows, W_L=None, b_L=None):
    """(logits, outputs) of rows (n, d) of the model's dtype, chunked."""
    if W_L is None:
        W_L, b_L = _last_layer(model)
    n = rows.shape[0]
    C = model.n_out
    Z = np.empty((n, C), dtype=model.dtype)
    P = np.empty((n, C), dtype=model.dtype)
    for i0 in range(0, n, CHUNK_ROWS):
        i1 = min(n, i0 + CHUNK_ROWS)
        part = rows[i0:i1]
        z, p = _from_acts(model.activations(part), part, W_L, b_L)
        Z[i0:i1] = z
        P[i0:i1] = p
    return Z, P


class _FirstLayer:
    """The model split after its first (Dense) layer: W1 and b1, the first
    activation in NumPy and the rest of the network as an ``xnn.Sequential``
    of copies of the later layers (same weights)."""

    def __init__(self, model):
        from ..network import Sequential
        first = model.layers[0]
        self.dtype = model.dtype
        self.W1 = np.ascontiguousarray(first.W, dtype=model.dtype)
        self.b1 = np.asarray(first.b, dtype=model.dtype)
        self.activation = first.activation
        tail_layers = [layers_mod.Dense(ly.n_in, ly.n_out, activation=ly.activation)
                       for ly in model.layers[1:]]
        self.tail = Sequential(tail_layers, init="zeros", dtype=model.dtype)
        weights = []
        for ly in model.layers[1:]:
            weights += [ly.W, ly.b]
        self.tail.set_weights(weights)
        self.W_L, self.b_L = _last_layer(model)

    def outputs(self, Z1):
        """(logits, outputs) from first-layer pre-activations (n, h1) of the
        model's dtype (a contiguous input is overwritten by the activation)."""
        A1 = np.ascontiguousarray(Z1, dtype=self.dtype)
        if self.activation == "relu":
            np.maximum(A1, 0, out=A1)
        elif self.activation == "tanh":
            np.tanh(A1, out=A1)
        elif self.activation == "sigmoid":
            from scipy.special import expit
            expit(A1, out=A1)
        acts = self.tail.activations(A1)
        return _from_acts(acts, A1, self.W_L, self.b_L)


def first_layer_applies(model):
    """Whether the first-layer path can run this model: Dense layers only,
    at least two, the first with an activation NumPy applies."""
    if not USE_FIRST_LAYER:
        return False
    ls = model.layers
    return (len(ls) >= 2 and all(type(ly) is layers_mod.Dense for ly in ls)
            and ls[0].activation in _NUMPY_ACTIVATIONS)


def _blocks(m, n, K):
    """Blocks of rows (i0, i1), each with its blocks of copies [(j0, j1)],
    of about CHUNK_ROWS perturbed rows each (K base rows per copy)."""
    per_row = n * K
    if per_row <= CHUNK_ROWS:
        step = max(1, CHUNK_ROWS // per_row)
        for i0 in range(0, m, step):
            yield i0, min(m, i0 + step), [(0, n)]
    else:
        step = max(1, CHUNK_ROWS // K)
        for i in range(m):
            yield i, i + 1, [(j0, min(n, j0 + step)) for j0 in range(0, n, step)]


def grouped(model, X, base, labels, n_groups, masks=None):
    """Logits and outputs of masked copies of the rows of X.

    Parameters
    ----------
    X : (m, d) rows of the model's dtype.
    base : (m, K, d) base rows per row (K = 1 for a baseline, K background
        rows for KernelSHAP).
    labels : (m, d) int64, the group of each column for each row, in
        [0, n_groups), or -1 for a column that always keeps x.
    masks : (m, n, n_groups) bool, 1 keeps the group's columns from x; or
        None for the nested copies of a removal curve: n = n_groups + 1 and
        copy s takes the groups 0..s-1 from the base.

    Returns (logits, outputs), each (m, n, K, n_classes) of the model's dtype.
    """
    m, d = X.shape
    K = base.shape[1]
    n = n_groups + 1 if masks is None else masks.shape[1]
    C = model.n_out
    Z = np.empty((m, n, K, C), dtype=model.dtype)
    P = np.empty((m, n, K, C), dtype=model.dtype)
    fast = first_layer_applies(model) and (masks is None or n_groups < d)
    if fast:
        _grouped_first_layer(model, X, base, labels, n_groups, masks, Z, P)
    else:
        _grouped_copies(model, X, base, labels, n_groups, masks, Z, P)
    return Z, P


def _grouped_copies(model, X, base, labels, G, masks, Z, P):
    m, d = X.shape
    K = base.shape[1]
    n = Z.shape[1]
    W_L, b_L = _last_layer(model)
    ext = np.where(labels < 0, G, labels)            # column G: always kept
    steps = np.arange(n)[:, None]
    for i0, i1, j0, j1 in ((i0, i1, j0, j1) for i0, i1, js in _blocks(m, n, K) for j0, j1 in js):
        if masks is None:
            keep = ext[i0:i1, None, :] >= steps[None, j0:j1]          # (b, nj, d)
        else:
            full = np.concatenate([masks[i0:i1, j0:j1],
                                   np.ones((i1 - i0, j1 - j0, 1), dtype=bool)], axis=2)
            keep = np.take_along_axis(full, ext[i0:i1, None, :], axis=2)
        rows = np.where(keep[:, :, None, :], X[i0:i1, None, None, :], base[i0:i1, None, :, :])
        rows = np.ascontiguousarray(rows.reshape(-1, d), dtype=model.dtype)
        z, p = forward(model, rows, W_L, b_L)
        shape = (i1 - i0, j1 - j0, K, -1)
        Z[i0:i1, j0:j1] = z.reshape(shape)
        P[i0:i1, j0:j1] = p.reshape(shape)


def _group_terms(fl, X, base, labels, G):
    """c (b, K, h1) = b' W1 + b1 and terms (b, G, K, h1) = G_g for a block of
    rows, in the model's dtype; b' is the base with x in the columns of no
    group."""
    from scipy import sparse
    b, d = X.shape
    K = base.shape[1]
    h = fl.W1.shape[1]
    xb = X[:, None, :]
    free = (labels < 0)[:, None, :]
    b_eff = np.where(free, xb, base).astype(fl.dtype, copy=False)   # (b, K, d)
    c = ops.matmul(np.ascontiguousarray(b_eff.reshape(b * K, d)), fl.W1)
    c += fl.b1
    diff = xb - b_eff                                               # 0 in free columns
    on = np.broadcast_to(~free, diff.shape)
    ii, kk, pp = np.nonzero(on)
    rows = (ii * G + labels[ii, pp]) * K + kk
    S = sparse.csr_matrix((diff[ii, kk, pp], (rows, pp)), shape=(b * G * K, d))
    terms = np.asarray(S @ fl.W1).reshape(b, G, K, h)
    return c.reshape(b, K, h), terms


def _grouped_first_layer(model, X, base, labels, G, masks, Z, P):
    fl = _FirstLayer(model)
    m, d = X.shape
    K = base.shape[1]
    n = Z.shape[1]
    h = fl.W1.shape[1]
    dt = fl.dtype
    base = base.astype(dt, copy=False)
    for i0, i1, js in _blocks(m, n, K):
        c, terms = _group_terms(fl, X[i0:i1], base[i0:i1], labels[i0:i1], G)
        b = i1 - i0
        if masks is None:
            # copy s keeps groups s..G-1: the base's pre-activation plus
            # their terms, added back from the last group on
            Z1all = np.empty((b, G + 1, K, h), dtype=dt)
            Z1all[:, G] = c
            for g in range(G - 1, -1, -1):
                np.add(Z1all[:, g + 1], terms[:, g], out=Z1all[:, g])
        for j0, j1 in js:
            if masks is None:
                Z1 = Z1all[:, j0:j1].reshape(-1, h)
            else:
                # a copy's pre-activation: its mask times the group terms, plus c
                Z1 = np.empty((b, j1 - j0, K, h), dtype=dt)
                for r in range(b):
                    mk = np.ascontiguousarray(masks[i0 + r, j0:j1], dtype=dt)
                    Z1[r] = ops.matmul(mk, terms[r].reshape(G, K * h)).reshape(j1 - j0, K, h)
                    Z1[r] += c[r][None]
                Z1 = Z1.reshape(-1, h)
            z, p = fl.outputs(Z1)
            shape = (b, j1 - j0, K, -1)
            Z[i0:i1, j0:j1] = z.reshape(shape)
            P[i0:i1, j0:j1] = p.reshape(shape)


def pick(A, targets):
    """A[..., targets[i]] for each row i of A (m, ..., C) -> (m, ...)."""
    t = np.asarray(targets).reshape((-1,) + (1,) * (A.ndim - 1))
    return np.take_along_axis(A, t, axis=-1)[..., 0]
