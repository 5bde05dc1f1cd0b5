"""placeholder"""


# ---------------------------------------------------------------- explanations
#
# Twins of csrc/saliency.c and csrc/relevance.c. A network is a list of
# (W (n_in, n_out), b (n_out,), act) tuples; targets are class indices per
# row. Written from the definitions, for reading and for the tests.

import numpy as np  # noqa: E402 (this section stands on its own)


def _xp_act(Z, act):
    if act == "linear":
        return Z.copy()
    if act == "relu":
        return np.maximum(Z, 0)
    if act == "tanh":
        return np.tanh(Z)
    if act == "sigmoid":
        return 1.0 / (1.0 + np.exp(-Z))
    if act == "softmax":
        E = np.exp(Z - Z.max(axis=1, keepdims=True))
        return E / E.sum(axis=1, keepdims=True)
    raise ValueError(f"act: unknown activation {act!r}")


def _xp_act_backward(A, G, act):
    """d/dZ from the saved output A = act(Z) and the gradient G w.r.t. A."""
    if act == "linear":
        return G.copy()
    if act == "relu":
        return G * (A > 0)
    if act == "tanh":
        return G * (1 - A**2)
    if act == "sigmoid":
        return G * A * (1 - A)
    if act == "softmax":
        return A * (G - np.sum(A * G, axis=1, keepdims=True))
    raise ValueError(f"act: unknown activation {act!r}")


def explain_forward(net, X):
    """(Zs, As): every layer's pre-activation Z[l] = A[l-1] W + b and output A[l]."""
    Zs, As, a = [], [], X
    for W, b, act in net:
        Z = a @ W + b
        a = _xp_act(Z, act)
        Zs.append(Z)
        As.append(a)
    return Zs, As


def explain_score(net, X, targets, output="logit"):
    """The score each explanation starts from: the target's logit z_t,
    probability p_t (the output layer's value), cross-entropy -log p_t, or 1."""
    Zs, As = explain_forward(net, X)
    rows = np.arange(X.shape[0])
    if output == "logit":
        return Zs[-1][rows, targets]
    if output == "probability":
        return As[-1][rows, targets]
    if output == "loss":
        return -np.log(As[-1][rows, targets])
    if output == "onehot":
        return np.ones(X.shape[0], dtype=X.dtype)
    raise ValueError(f"output: unknown {output!r}")


def explain_gradient(net, X, targets, output="logit", mode="plain"):
    """d score / d X by the chain rule. mode "guided" passes a ReLU only
    where its output and the gradient are positive, "deconvnet" only where
    the gradient is positive."""
    Zs, As = explain_forward(net, X)
    m, n = As[-1].shape
    onehot = np.zeros((m, n), dtype=X.dtype)
    onehot[np.arange(m), targets] = 1
    if output == "logit":
        G = onehot
    elif output == "loss":  # softmax + cross-entropy
        G = As[-1] - onehot
    elif output == "probability":
        G = _xp_act_backward(As[-1], onehot, net[-1][2])
    else:
        raise ValueError(f"output: unknown {output!r}")
    for l in range(len(net) - 1, -1, -1):
        G = G @ net[l][0].T
        if l == 0:
            break
        act, A = net[l - 1][2], As[l - 1]
        if act == "relu" and mode == "guided":
            G = G * (A > 0) * (G > 0)
        elif act == "relu" and mode == "deconvnet":
            G = G * (G > 0)
        else:
            G = _xp_act_backward(A, G, act)
    return G


def explain_gradient_sum(net, X, B, targets, alphas, weights, noises=None, output="logit",
                         mode="plain", times_delta=False):
    """sum_s weights[s] * gradient(B + alphas[s] (X - B) + noises[s]);
    B None means zeros; times_delta multiplies by X - B (integrated gradients)."""
    B = np.zeros_like(X) if B is None else B
    G = np.zeros_like(X)
    for s, (a, w) in enumerate(zip(alphas, weights)):
        Xs = B + a * (X - B)
        if noises is not None:
            Xs = Xs + noises[s]
        G = G + w * explain_gradient(net, Xs, targets, output, mode)
    return G * (X - B) if times_delta else G


def _stab_divide(R, Z, eps):
    """R / (Z + eps sign(Z)), sign(0) = +1; 0 where that denominator is 0."""
    D = np.where(Z >= 0, Z + eps, Z - eps)
    safe = np.where(D == 0, 1, D)
    return np.where(D == 0, 0, R / safe)


def lrp_layer(A, W, b, R, rule="epsilon", epsilon=1e-6, gamma=0.25, alpha=1.0, beta=0.0,
              low=None, high=None, bias=True):
    """Relevance of the inputs A (m, k) of one dense layer from the relevance
    R (m, n) of its outputs, with the contributions z_ijc = a_ij w_jc written
    out as an (m, k, n) array and the bias as input j = 0."""
    b = b if bias else np.zeros_like(b)
    if rule in ("zero", "epsilon", "gamma"):
        eps = 0.0 if rule == "zero" else epsilon
        Wm = W + gamma * np.maximum(W, 0) if rule == "gamma" else W
        bm = b + gamma * np.maximum(b, 0) if rule == "gamma" else b
        C = A[:, :, None] * Wm[None, :, :]                    # (m, k, n)
        Z = C.sum(axis=1) + bm
        return np.sum(C * _stab_divide(R, Z, eps)[:, None, :], axis=2)
    if rule == "alphabeta":
        C = A[:, :, None] * W[None, :, :]
        Cp, Cn = np.maximum(C, 0), np.minimum(C, 0)
        Zp = Cp.sum(axis=1) + np.maximum(b, 0)
        Zn = Cn.sum(axis=1) + np.minimum(b, 0)
        Sp = _stab_divide(R, Zp, epsilon)
        Sn = _stab_divide(R, Zn, epsilon)
        return (alpha * np.sum(Cp * Sp[:, None, :], axis=2)
                - beta * np.sum(Cn * Sn[:, None, :], axis=2))
    if rule == "zbox":
        C = (A[:, :, None] * W[None, :, :] - low[None, :, None] * np.maximum(W, 0)[None]
             - high[None, :, None] * np.minimum(W, 0)[None])   # the bias cancels
        Z = C.sum(axis=1)
        return np.sum(C * _stab_divide(R, Z, epsilon)[:, None, :], axis=2)
    if rule in ("flat", "wsquare"):
        Wm = np.ones_like(W) if rule == "flat" else W**2
        Z = Wm.sum(axis=0) + (0 if rule == "flat" else b**2)  # flat: no bias
        return _stab_divide(R, np.broadcast_to(Z, R.shape), epsilon) @ Wm.T
    raise ValueError(f"rule: unknown {rule!r}")


def lrp(net, X, targets, rules, start="logit", bias=True):
    """Layer-wise relevance propagation. rules[l] is a dict of lrp_layer's
    keyword arguments for layer l. Returns [R_0, ..., R_L]: R_l the relevance
    of layer l's input (R_0 that of X), R_L the start relevance (the target's
    logit, 1 or probability; zero for the other classes)."""
    Zs, As = explain_forward(net, X)
    m, n = Zs[-1].shape
    R = np.zeros((m, n), dtype=X.dtype)
    rows = np.arange(m)
    R[rows, targets] = {"logit": Zs[-1], "probability": As[-1],
                        "onehot": np.ones_like(Zs[-1])}[start][rows, targets]
    out = [R]
    for l in range(len(net) - 1, -1, -1):
        A = X if l == 0 else As[l - 1]
        W, b, _ = net[l]
        R = lrp_layer(A, W, b, R, bias=bias, **rules[l])
        out.insert(0, R)
    return out
