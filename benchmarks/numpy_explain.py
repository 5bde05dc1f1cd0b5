"""Batched NumPy implementations of saliency, LRP-epsilon and integrated
gradients for a dense network, the baseline of bench_explain.py.

A network is a list of (W (n_in, n_out), b (n_out,), act) with act "relu"
for hidden layers; the last layer's linear part gives the logits. Every
function works on a whole batch with matrix products (NumPy's BLAS), in the
dtype of its inputs.
"""
import numpy as np


def forward(net, X):
    """Pre-activations Z[l] and outputs A[l] (ReLU for hidden layers)."""
    Zs, As, a = [], [], X
    for l, (W, b, act) in enumerate(net):
        z = a @ W + b
        Zs.append(z)
        a = np.maximum(z, 0) if (act == "relu" and l < len(net) - 1) else z
        As.append(a)
    return Zs, As


def logit_gradient(net, Zs, targets):
    """d z_t / d x for each row, from the forward's pre-activations Zs."""
    G = np.zeros_like(Zs[-1])
    G[np.arange(G.shape[0]), targets] = 1
    for l in range(len(net) - 1, -1, -1):
        G = G @ net[l][0].T
        if l > 0:
            G *= Zs[l - 1] > 0
    return G


def saliency(net, X, targets):
    """|d z_t / d x| for each row."""
    Zs, _ = forward(net, X)
    return np.abs(logit_gradient(net, Zs, targets))


def lrp_epsilon(net, X, targets, epsilon=1e-6):
    """LRP-epsilon with the bias in the denominator, starting at the logit."""
    Zs, As = forward(net, X)
    m = X.shape[0]
    R = np.zeros_like(Zs[-1])
    rows = np.arange(m)
    R[rows, targets] = Zs[-1][rows, targets]
    for l in range(len(net) - 1, -1, -1):
        A = X if l == 0 else As[l - 1]
        Z = Zs[l]
        S = R / (Z + epsilon * np.where(Z >= 0, 1, -1).astype(Z.dtype))
        R = A * (S @ net[l][0].T)
    return R


def integrated_gradients(net, X, targets, steps=50):
    """IG from a zero baseline with Gauss-Legendre points, steps one batch each."""
    x, w = np.polynomial.legendre.leggauss(steps)
    alphas, weights = 0.5 * (x + 1), 0.5 * w
    total = np.zeros_like(X)
    for a, wt in zip(alphas, weights):
        Zs, _ = forward(net, (a * X).astype(X.dtype))
        total += X.dtype.type(wt) * logit_gradient(net, Zs, targets)
    return X * total
