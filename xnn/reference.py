"""Plain NumPy twins of xnn's C kernels.

Each function here is written straight from the definition, for reading and
for testing: the tests check these twins against finite differences, then
check the C kernels against the twins over many shapes and both dtypes.
They favour clarity over speed.

Names mirror the C kernels (``csrc/xnn.h``): ``dense_forward`` is the twin
of ``xnn_dense_forward_f32/_f64``, and so on. Activations and losses are
given by name: ``"linear"``, ``"relu"``, ``"tanh"``, ``"sigmoid"``,
``"softmax"``; ``"cross_entropy"``, ``"binary_cross_entropy"``, ``"ssr"``.
"""
import numpy as np

# ---------------------------------------------------------------- gemm


def gemm(a, b, trans_a=False, trans_b=False):
    """op(a) @ op(b), where op transposes when asked."""
    return (a.T if trans_a else a) @ (b.T if trans_b else b)


# ---------------------------------------------------------------- dense


def dense_forward(X, W, b, act="linear"):
    """Y = act(X W + b);  X (m,k), W (k,n), b (n,) or None."""
    Z = X @ W
    if b is not None:
        Z = Z + b
    return activation_forward(Z, act)


def dense_backward(dZ, X, W):
    """(dX, dW, db) for Z = X W + b:  dX = dZ W^T, dW = X^T dZ, db = sum_rows dZ."""
    return dZ @ W.T, X.T @ dZ, dZ.sum(axis=0)


# ---------------------------------------------------------------- activations


def softmax(Z):
    """Row-wise softmax, shifted by the row maximum for stability."""
    E = np.exp(Z - Z.max(axis=1, keepdims=True))
    return E / E.sum(axis=1, keepdims=True)


def sigmoid(Z):
    return 1.0 / (1.0 + np.exp(-Z))


def activation_forward(Z, act):
    if act == "linear":
        return Z.copy()
    if act == "relu":
        return np.maximum(Z, 0)
    if act == "tanh":
        return np.tanh(Z)
    if act == "sigmoid":
        return sigmoid(Z)
    if act == "softmax":
        return softmax(Z)
    raise ValueError(f"act: unknown activation {act!r}")


def activation_backward(Y, dY, act):
    """dZ from the saved output Y = act(Z) and the incoming gradient dY."""
    if act == "linear":
        return dY.copy()
    if act == "relu":
        return dY * (Y > 0)
    if act == "tanh":
        return dY * (1 - Y**2)
    if act == "sigmoid":
        return dY * (Y * (1 - Y))
    if act == "softmax":  # J^T dY with J = diag(y) - y y^T, row by row
        return Y * (dY - np.sum(Y * dY, axis=1, keepdims=True))
    raise ValueError(f"act: unknown activation {act!r}")


# ---------------------------------------------------------------- dropout

_M64 = np.uint64(0xFFFFFFFFFFFFFFFF)


def _mix64(z):
    """splitmix64's finaliser on uint64 arrays (arithmetic wraps mod 2^64)."""
    z = (z + np.uint64(0x9E3779B97F4A7C15)) & _M64
    z = ((z ^ (z >> np.uint64(30))) * np.uint64(0xBF58476D1CE4E5B9)) & _M64
    z = ((z ^ (z >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)) & _M64
    return z ^ (z >> np.uint64(31))


def uniform(seed, stream, index):
    """The counter-based stream behind dropout masks: uniform [0, 1) for
    each index, determined by (seed, stream, index) alone."""
    with np.errstate(over="ignore"):
        s = _mix64(np.uint64(seed) ^ _mix64(np.array([stream], dtype=np.uint64)))
        z = _mix64(s + np.asarray(index, dtype=np.uint64))
    return (z >> np.uint64(11)).astype(np.float64) * (1.0 / 9007199254740992.0)


def dropout_forward(X, keep, seed, stream):
    """(Y, mask): Y = X * mask / keep with mask = uniform(...) < keep."""
    mask = (uniform(seed, stream, np.arange(X.size)) < keep).reshape(X.shape)
    return np.where(mask, X * X.dtype.type(1.0 / keep), 0).astype(X.dtype), mask.astype(np.uint8)


def dropout_backward(mask, dY, keep):
    return np.where(mask.astype(bool), dY * dY.dtype.type(1.0 / keep), 0).astype(dY.dtype)


# ---------------------------------------------------------------- losses


def one_hot(labels, n):
    Y = np.zeros((len(labels), n))
    Y[np.arange(len(labels)), labels] = 1
    return Y


def loss_forward(P, labels, loss):
    """(sum of the loss, sum of 0.5 sum_j (y_j - p_j)^2, number correct) over rows."""
    Y = one_hot(labels, P.shape[1])
    tiny = np.finfo(P.dtype).tiny
    Pd = P.astype(np.float64)
    ssr = 0.5 * np.sum((Y - Pd) ** 2)
    if loss == "cross_entropy":
        total = -np.sum(np.log(np.maximum(P[np.arange(len(labels)), labels], tiny)))
    elif loss == "binary_cross_entropy":
        Q = np.where(Y == 1, P, 1 - P)
        total = -np.sum(np.log(np.maximum(Q, tiny)))
    elif loss == "ssr":
        total = ssr
    else:
        raise ValueError(f"loss: unknown loss {loss!r}")
    correct = np.sum(np.argmax(P, axis=1) == labels)
    return float(total), float(ssr), float(correct)


def loss_backward(P, labels, loss, act, scale):
    """scale * dL/dZ for P = act(Z): p - y for softmax + cross-entropy and
    sigmoid + binary cross-entropy, the chain rule otherwise."""
    Y = one_hot(labels, P.shape[1]).astype(P.dtype)
    tiny = np.finfo(P.dtype).tiny
    if (loss, act) in (("cross_entropy", "softmax"), ("binary_cross_entropy", "sigmoid")):
        return scale * (P - Y)
    if loss == "ssr":
        dP = P - Y
    elif loss == "cross_entropy":
        dP = -Y / np.maximum(P, tiny)
    elif loss == "binary_cross_entropy":
        dP = (P - Y) / np.maximum(P * (1 - P), tiny)
    else:
        raise ValueError(f"loss: unknown loss {loss!r}")
    return activation_backward(P, scale * dP, act)


def loss_value(P, labels, loss):
    """The mean loss over rows (what ``fit`` reports)."""
    return loss_forward(P, labels, loss)[0] / P.shape[0]


# ---------------------------------------------------------------- optimizers


def sgd_update(W, dW, lr):
    return W - lr * dW


def momentum_update(W, V, dW, lr, mu, nesterov=False):
    """(W, V) after one step: V = mu V + dW; W -= lr V (or lr (dW + mu V))."""
    V = mu * V + dW
    return (W - lr * (dW + mu * V) if nesterov else W - lr * V), V


def adam_update(W, M, V, dW, lr, beta1, beta2, eps, t):
    """(W, M, V) after Adam's step t >= 1."""
    M = beta1 * M + (1 - beta1) * dW
    V = beta2 * V + (1 - beta2) * dW**2
    m_hat = M / (1 - beta1**t)
    v_hat = V / (1 - beta2**t)
    return W - lr * m_hat / (np.sqrt(v_hat) + eps), M, V


# ---------------------------------------------------------------- networks


def mlp_forward(params, acts, X):
    """Every layer's output for X; params = [W1, b1, W2, b2, ...]."""
    outs = []
    A = X
    for (W, b), act in zip(zip(params[::2], params[1::2]), acts):
        A = dense_forward(A, W, b, act)
        outs.append(A)
    return outs


def mlp_loss(params, acts, X, labels, loss="cross_entropy"):
    """The mean loss of the network's output (used for gradient checks)."""
    return loss_value(mlp_forward(params, acts, X)[-1], labels, loss)


def mlp_gradients(params, acts, X, labels, loss="cross_entropy"):
    """(gradients [dW1, db1, ...] of the mean loss, (sum loss, sum SSR, correct))."""
    outs = mlp_forward(params, acts, X)
    m = X.shape[0]
    stats = loss_forward(outs[-1], labels, loss)
    dZ = loss_backward(outs[-1], labels, loss, acts[-1], 1.0 / m)
    grads = [None] * len(params)
    for l in range(len(acts) - 1, -1, -1):
        A_in = X if l == 0 else outs[l - 1]
        dX, dW, db = dense_backward(dZ, A_in, params[2 * l])
        grads[2 * l], grads[2 * l + 1] = dW, db
        if l > 0:
            dZ = activation_backward(outs[l - 1], dX, acts[l - 1])
    return grads, stats


def mlp_train_step(params, acts, X, labels, loss="cross_entropy", lr=0.01):
    """New params after one plain-SGD step, and the step's statistics.
    (Dropout and the other optimizers compose from the twins above.)"""
    grads, stats = mlp_gradients(params, acts, X, labels, loss)
    return [sgd_update(p, g, lr) for p, g in zip(params, grads)], stats


# ---------------------------------------------------------------- explanations
#
# Twins of csrc/saliency.c and csrc/relevance.c. A network is a list of
# (W (n_in, n_out), b (n_out,), act) tuples; targets are class indices per
# row. Written from the definitions, for reading and for the tests.

def explain_forward(net, X):
    """(Zs, As): every layer's pre-activation Z[l] = A[l-1] W + b and output A[l]."""
    Zs, As, a = [], [], X
    for W, b, act in net:
        Z = a @ W + b
        a = activation_forward(Z, act)
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


def explain_gradient(net, X, targets, output="logit", mode="plain", return_layers=False,
                     times_input=False):
    """d score / d X by the chain rule. mode "guided" passes a ReLU only
    where its output and the gradient are positive, "deconvnet" only where
    the gradient is positive. return_layers gives [dX, d/dA[0], ...,
    d/dA[L-2], d/dZ[L-1]] (each layer's input, then the last pre-activation);
    times_input multiplies each by its layer's value (X, A[l-1], Z[L-1])."""
    Zs, As = explain_forward(net, X)
    m, n = As[-1].shape
    onehot = np.zeros((m, n), dtype=X.dtype)
    onehot[np.arange(m), targets] = 1
    if output == "logit":
        G = onehot
    elif output == "loss":  # softmax + cross-entropy
        G = As[-1] - onehot
    elif output == "probability":
        G = activation_backward(As[-1], onehot, net[-1][2])
    else:
        raise ValueError(f"output: unknown {output!r}")
    values = [X] + As[:-1] + [Zs[-1]]      # the value of each layer the list covers
    layers = [G]
    for l in range(len(net) - 1, -1, -1):
        G = G @ net[l][0].T
        layers.insert(0, G)
        if l == 0:
            break
        act, A = net[l - 1][2], As[l - 1]
        if act == "relu" and mode == "guided":
            G = G * (A > 0) * (G > 0)
        elif act == "relu" and mode == "deconvnet":
            G = G * (G > 0)
        else:
            G = activation_backward(A, G, act)
    if times_input:
        layers = [g * v for g, v in zip(layers, values)]
    return layers if return_layers else layers[0]


def explain_gradient_sum(net, X, B, targets, alphas, weights, noises=None, output="logit",
                         mode="plain", times_delta=False, return_layers=False):
    """sum_s weights[s] * gradient(B + alphas[s] (X - B) + noises[s]);
    B None means zeros; times_delta multiplies by X - B (integrated gradients).
    return_layers: the same sums for every layer, as explain_gradient (only
    the first is multiplied by X - B)."""
    B = np.zeros_like(X) if B is None else B
    sums = None
    for s, (a, w) in enumerate(zip(alphas, weights)):
        Xs = B + a * (X - B)
        if noises is not None:
            Xs = Xs + noises[s]
        Gs = explain_gradient(net, Xs, targets, output, mode, return_layers=True)
        sums = [w * g for g in Gs] if sums is None else [t + w * g for t, g in zip(sums, Gs)]
    if times_delta:
        sums[0] = sums[0] * (X - B)
    return sums if return_layers else sums[0]


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
