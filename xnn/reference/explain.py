"""Twins of the explanations: gradients and LRP, generic over the network
twin (any list of layers, network.py). Targets are class indices per row.

A layer's output is after its fused activation; the score of a class is
the last layer's pre-activation (the logit). ``start_layer=l, unit=u``
starts a method at layer l's output instead: the neuron u of a dense layer,
or channel u of a conv/pool layer (all its positions).
"""
import numpy as np

from .activation import activation_backward
from .conv import conv1d_as_dense, conv2d_as_dense
from .network import (PARAMETRIC, activation_grad, as_network, layer_backward, layer_spec,
                      network_forward)
from .pool import (avgpool1d_backward, avgpool1d_forward, avgpool2d_backward, avgpool2d_forward,
                   global_avgpool1d_backward, global_avgpool1d_forward, global_avgpool2d_backward,
                   global_avgpool2d_forward)

__all__ = ["explain_forward", "explain_score", "explain_gradient", "explain_gradient_sum",
           "lrp_layer", "lrp_pool", "lrp", "zennit_preset", "ZENNIT_PRESETS"]


def explain_forward(net, X):
    """(Zs, As): every layer's pre-activation and output (network_forward)."""
    return network_forward(net, X)


def _check_unit(net, As, start_layer, unit):
    if not 0 <= start_layer < len(net):
        raise ValueError(f"start_layer: expected 0 <= start_layer < {len(net)}, got {start_layer}")
    n = As[start_layer].shape[1]
    if unit is None or not 0 <= unit < n:
        raise ValueError(f"unit: expected 0 <= unit < {n} (units or channels of layer {start_layer}), got {unit}")


def _unit_seed(A, unit):
    """d score / d A for the score "layer output at unit": 1 at the neuron of a
    dense layer, 1 / positions on every position of a channel."""
    S = np.zeros_like(A)
    S[:, unit] = 1.0 if A.ndim == 2 else 1.0 / A[0, 0].size
    return S


def explain_score(net, X, targets, output="logit", start_layer=None, unit=None):
    """The score each explanation starts from: the target's logit z_t,
    probability p_t (the output layer's value), cross-entropy -log p_t, or 1.
    With start_layer/unit: layer l's output at unit u, averaged over the
    positions of a channel (output must be "logit", the value itself)."""
    Zs, As = explain_forward(net, X)
    if start_layer is not None:
        _check_unit(net, As, start_layer, unit)
        if output != "logit":
            raise ValueError(f"output: must be 'logit' (the unit's value) with start_layer, got {output!r}")
        A = As[start_layer][:, unit]
        return A if A.ndim == 1 else A.reshape(A.shape[0], -1).mean(axis=1)
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
                     times_input=False, start_layer=None, unit=None):
    """d score / d X by the chain rule.

    mode "guided" passes a ReLU (fused in a dense or conv layer) only where
    its output and the gradient are positive, "deconvnet" only where the
    gradient is positive; max pooling routes to the arg-max, average pools
    spread evenly, flatten reshapes. return_layers gives [G_0 (like X),
    G_1 (layer 1's input, in its shape), ..., G_{L-1}, G_L (m, n_out) at the
    last pre-activation]; with start_layer=l the list ends [..., G_l (layer
    l's input), S (at layer l's output: the seed of the unit's score)].
    times_input multiplies each by its layer's value (X, A[0], ..., the
    logits or layer l's output).
    """
    net = as_network(net)
    Zs, As = explain_forward(net, X)
    if start_layer is None:
        top = len(net) - 1
        m, n = As[-1].shape
        onehot = np.zeros((m, n), dtype=X.dtype)
        onehot[np.arange(m), targets] = 1
        if output == "logit":
            G = onehot
        elif output == "loss":  # softmax + cross-entropy
            G = As[-1] - onehot
        elif output == "probability":
            G = activation_backward(As[-1], onehot, net[-1].get("act", "linear"))
        else:
            raise ValueError(f"output: unknown {output!r}")
        layers, top_value = [G], Zs[-1]
    else:
        _check_unit(net, As, start_layer, unit)
        if output != "logit":
            raise ValueError(f"output: must be 'logit' (the unit's value) with start_layer, got {output!r}")
        top = start_layer
        S = _unit_seed(As[top], unit)
        layers, top_value = [S], As[top]
        G = activation_grad(net[top], As[top], S, mode)
    for l in range(top, -1, -1):
        G, _ = layer_backward(net[l], G, X if l == 0 else As[l - 1])
        layers.insert(0, G)
        if l == 0:
            break
        G = activation_grad(net[l - 1], As[l - 1], G, mode)
    if times_input:
        values = [X] + As[:top] + [top_value]
        layers = [g * v for g, v in zip(layers, values)]
    return layers if return_layers else layers[0]


def explain_gradient_sum(net, X, B, targets, alphas, weights, noises=None, output="logit",
                         mode="plain", times_delta=False, return_layers=False, start_layer=None,
                         unit=None):
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
        Gs = explain_gradient(net, Xs, targets, output, mode, return_layers=True,
                              start_layer=start_layer, unit=unit)
        sums = [w * g for g in Gs] if sums is None else [t + w * g for t, g in zip(sums, Gs)]
    if times_delta:
        sums[0] = sums[0] * (X - B)
    return sums if return_layers else sums[0]


# ---------------------------------------------------------------- LRP

def _stab(Z, eps):
    """Z + eps sign(Z), sign(0) = +1 (Zennit's stabiliser)."""
    return np.where(Z >= 0, Z + eps, Z - eps)


def _stab_divide(R, Z, eps):
    """R / (Z + eps sign(Z)), sign(0) = +1; 0 where that denominator is 0."""
    D = _stab(Z, eps)
    safe = np.where(D == 0, 1, D)
    return np.where(D == 0, 0, R / safe)


def lrp_layer(A, W, b, R, rule="epsilon", epsilon=1e-6, gamma=0.25, alpha=1.0, beta=0.0,
              low=None, high=None, bias=True, generalized=False, connected=None):
    """Relevance of the inputs A (m, k) of one dense layer from the relevance
    R (m, n) of its outputs, with the contributions z_ijc = a_ij w_jc written
    out as an (m, k, n) array and the bias as input j = 0.

    rule: "zero", "epsilon", "gamma" (w + γw⁺ and b + γb⁺ in numerator and
    denominator; ``generalized=True``: Zennit's Gamma, below), "alphabeta"
    (α (a w)⁺ / (Σ (a w)⁺ + b⁺) − β (a w)⁻ / (Σ (a w)⁻ + b⁻); (a w)⁺ =
    a⁺w⁺ + a⁻w⁻ for inputs of any sign, as Zennit), "zbox" (low, high:
    scalars or (k,) arrays; the bias cancels), "flat" (ones for the
    connected weights, no bias), "wsquare" (w², the bias squared too).
    epsilon is the stabiliser added with the denominator's sign (sign(0) =
    +1) for every rule but "zero". bias=False (or b None) drops the bias.
    connected (k, n) bool: the weights that exist (for a convolution's
    unrolled matrix; "flat" counts only those); default all.

    Zennit's generalised Gamma (``zennit.rules.Gamma``): with z = a W + b the
    layer's output, for every output k

        z_k > 0:  c_jk = a⁺_j (w + γw⁺)_jk + a⁻_j (w + γw⁻)_jk,   d_k = Σ_j c_jk + b_k + γb⁺_k
        z_k < 0:  c_jk = a⁺_j (w + γw⁻)_jk + a⁻_j (w + γw⁺)_jk,   d_k = Σ_j c_jk + b_k + γb⁻_k
        z_k = 0:  no relevance passes

    and R_j = Σ_k c_jk R_k / stab(d_k); the sign of z_k is that of the
    layer's own output, bias included even with bias=False (so is Zennit's,
    whose zero_params do not reach it). For a⁺ inputs and z > 0 it is the
    textbook γ-rule; it differs where z < 0 (the negative parts are
    strengthened) and where inputs are negative.
    """
    b_layer = np.zeros(W.shape[1], dtype=W.dtype) if b is None else b
    b = b_layer if bias else np.zeros_like(b_layer)
    if rule in ("zero", "epsilon") or (rule == "gamma" and not generalized):
        eps = 0.0 if rule == "zero" else epsilon
        Wm = W + gamma * np.maximum(W, 0) if rule == "gamma" else W
        bm = b + gamma * np.maximum(b, 0) if rule == "gamma" else b
        C = A[:, :, None] * Wm[None, :, :]                    # (m, k, n)
        Z = C.sum(axis=1) + bm
        return np.sum(C * _stab_divide(R, Z, eps)[:, None, :], axis=2)
    if rule == "gamma":                                       # Zennit's generalised Gamma
        Ap, An = np.maximum(A, 0)[:, :, None], np.minimum(A, 0)[:, :, None]
        Wup, Wdn = W + gamma * np.maximum(W, 0), W + gamma * np.minimum(W, 0)
        z = A @ W + b_layer                                    # the layer's own output
        Cpos = Ap * Wup[None] + An * Wdn[None]                 # for z > 0
        Cneg = Ap * Wdn[None] + An * Wup[None]                 # for z < 0
        Spos = (z > 0) * R / _stab(Cpos.sum(axis=1) + b + gamma * np.maximum(b, 0), epsilon)
        Sneg = (z < 0) * R / _stab(Cneg.sum(axis=1) + b + gamma * np.minimum(b, 0), epsilon)
        return np.sum(Cpos * Spos[:, None, :] + Cneg * Sneg[:, None, :], axis=2)
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
        if low is None or high is None:
            raise ValueError("zbox: low and high are required")
        k = W.shape[0]
        low = np.broadcast_to(np.asarray(low, dtype=W.dtype), (k,))
        high = np.broadcast_to(np.asarray(high, dtype=W.dtype), (k,))
        C = (A[:, :, None] * W[None, :, :] - low[None, :, None] * np.maximum(W, 0)[None]
             - high[None, :, None] * np.minimum(W, 0)[None])   # the bias cancels
        Z = C.sum(axis=1)
        return np.sum(C * _stab_divide(R, Z, epsilon)[:, None, :], axis=2)
    if rule in ("flat", "wsquare"):
        if rule == "flat":
            Wm = np.ones_like(W) if connected is None else connected.astype(W.dtype)
        else:
            Wm = W**2
        Z = Wm.sum(axis=0) + (0 if rule == "flat" else b**2)  # flat: no bias
        return _stab_divide(R, np.broadcast_to(Z, R.shape), epsilon) @ Wm.T
    raise ValueError(f"rule: unknown {rule!r}")


_AVG = {"avgpool2d": (avgpool2d_forward, avgpool2d_backward),
        "avgpool1d": (avgpool1d_forward, avgpool1d_backward)}


def _norm(A, R, f, fT, eps):
    """Zennit's Norm rule: R_in = A ⊙ f^T(R / stab(f(A))) (0 where stab(f(A)) is 0)."""
    return A * fT(_stab_divide(R, f(A), eps))


def _lrp_through(ly, A, R, rule, bias, maxpool):
    """The relevance of layer ly's input A from that of its output R (the
    fused activation passes relevance unchanged, Zennit's Pass)."""
    op = ly["op"]
    m = A.shape[0]
    if op in PARAMETRIC:
        if rule is None:
            raise ValueError(f"rules: layer {op} needs a rule (a dict of lrp_layer's arguments)")
        kw = {"bias": bias, **rule}
        if op == "dense":
            return lrp_layer(A, ly["W"], ly["b"], R, **kw)
        unroll = conv2d_as_dense if op == "conv2d" else conv1d_as_dense
        Wd, bd = unroll(ly["W"], ly["b"], A.shape[1:], ly["stride"], ly["padding"])
        if kw.get("rule") == "zbox":        # bounds per input (C, H, W), or scalars
            kw["low"] = np.broadcast_to(np.asarray(kw["low"], dtype=A.dtype), A.shape[1:]).reshape(-1)
            kw["high"] = np.broadcast_to(np.asarray(kw["high"], dtype=A.dtype), A.shape[1:]).reshape(-1)
        if kw.get("rule") == "flat":
            kw["connected"] = unroll(np.ones_like(ly["W"]), None, A.shape[1:], ly["stride"],
                                     ly["padding"])[0] != 0
        return lrp_layer(A.reshape(m, -1), Wd, bd, R.reshape(m, -1), **kw).reshape(A.shape)
    return lrp_pool(ly, A, R, **{"maxpool": maxpool, **({} if rule is None else rule)})


def lrp_pool(layer, A, R, maxpool="wta", epsilon=1e-6):
    """Relevance of the input A of a pooling or flatten layer from that of
    its output R (see lrp): max pool "wta" (to the arg-max)
    or "norm", average and global average pools Zennit's Norm
    R_in = A ⊙ f^T(R / stab(f(A))) with stabiliser epsilon, flatten a
    reshape."""
    ly = layer_spec(layer)
    op = ly["op"]
    if op == "flatten":
        return R.reshape(A.shape)
    if op in ("maxpool2d", "maxpool1d"):
        if maxpool == "wta":
            return layer_backward(ly, R, A)[0]
        if maxpool != "norm":
            raise ValueError(f"maxpool: expected 'wta' or 'norm', got {maxpool!r}")
        op = "avgpool2d" if op == "maxpool2d" else "avgpool1d"
    if op in _AVG:
        f, fT = _AVG[op]
        return _norm(A, R, lambda a: f(a, ly["kernel"], ly["stride"]),
                     lambda s: fT(s, A.shape, ly["kernel"], ly["stride"]), epsilon)
    if op == "gap2d":
        return _norm(A, R, global_avgpool2d_forward, lambda s: global_avgpool2d_backward(s, A.shape), epsilon)
    if op == "gap1d":
        return _norm(A, R, global_avgpool1d_forward, lambda s: global_avgpool1d_backward(s, A.shape), epsilon)
    raise ValueError(f"layer: {op} is not a pooling or flatten layer")


def lrp(net, X, targets, rules, start="logit", bias=True, maxpool="wta", start_layer=None,
        unit=None):
    """Layer-wise relevance propagation over any layer list.

    rules[l] (one entry per layer) is a dict of lrp_layer's keyword
    arguments for a dense or conv layer (a convolution is treated as the
    dense layer of its unrolled matrix, conv2d_as_dense, so every rule
    applies; zbox's low/high may be scalars or arrays shaped like the
    layer's input (C, H, W); flat and wsquare see only the in-bounds taps),
    and None (or a dict of lrp_pool's ``epsilon``/``maxpool``) for pooling and flatten:

    * max pool: maxpool="wta" gives all relevance to each window's arg-max
      (the gradient, as Zennit leaves MaxPool); "norm" shares it in
      proportion to the inputs of the window: Zennit's Norm over the
      average pool of the same windows, R_in = a ⊙ f^T(R / stab(f(a))).
      (Zennit's Norm put on a MaxPool module itself is not that: its f^T
      routes to the arg-max, giving R a_max / stab(a_max), a stabilised WTA.)
    * average pools and global average pools: Zennit's Norm with f the pool.
    * flatten: a reshape. A fused activation passes relevance unchanged.

    The stabiliser of the pools is epsilon (default 1e-6, Zennit's).
    Returns [R_0, ..., R_L]: R_l the relevance of layer l's input (R_0 that of
    X), R_L the start relevance: the target's logit, 1 or probability, zero
    for the other classes. With start_layer=l, unit=u the relevance starts
    at layer l's output: that neuron's value (dense), or the values of
    channel u at every position (conv/pool), zero elsewhere; the list is
    then [R_0, ..., R_l, R_start].
    """
    net = as_network(net)
    if len(rules) != len(net):
        raise ValueError(f"rules: expected one entry per layer ({len(net)}), got {len(rules)}")
    Zs, As = explain_forward(net, X)
    if start_layer is None:
        top = len(net) - 1
        m, n = Zs[-1].shape
        R = np.zeros((m, n), dtype=X.dtype)
        rows = np.arange(m)
        if start not in ("logit", "probability", "onehot"):
            raise ValueError(f"start: unknown {start!r}")
        R[rows, targets] = {"logit": Zs[-1], "probability": As[-1],
                            "onehot": np.ones_like(Zs[-1])}[start][rows, targets]
    else:
        _check_unit(net, As, start_layer, unit)
        top = start_layer
        R = np.zeros_like(As[top])
        R[:, unit] = As[top][:, unit]
    out = [R]
    for l in range(top, -1, -1):
        R = _lrp_through(net[l], X if l == 0 else As[l - 1], R, rules[l], bias, maxpool)
        out.insert(0, R)
    return out


# ---------------------------------------------------------------- Zennit's presets

ZENNIT_PRESETS = ("epsilon_plus", "epsilon_plus_flat", "epsilon_gamma_box", "epsilon_alpha2_beta1",
                  "epsilon_alpha2_beta1_flat")


def zennit_preset(net, name, epsilon=1e-6, stabilizer=1e-6, gamma=0.25, low=None, high=None,
                  zero_params=None):
    """The per-layer rules of one of Zennit's composites, for ``lrp``.

    From ``zennit/composites.py`` (0.5): every built-in composite puts
    ``layer_map_base(stabilizer)`` first:

    * Activation (ReLU, Tanh, Sigmoid, ...): ``Pass`` (relevance unchanged);
    * AvgPool (AvgPool1d/2d/3d and AdaptiveAvgPool1d/2d/3d, so a global
      average pool too): ``Norm(stabilizer)``;
    * Sum: Norm; BatchNorm: Pass.

    MaxPool, Flatten and Softmax have no rule: their plain gradient is used
    (max pool: winner takes all; flatten: a reshape). Then, by layer type
    (Convolution = Conv1d/2d/3d and their transposes; Linear in ``first_map``
    = Convolution or torch.nn.Linear):

    ==========================  ==================================  ==================
    composite                   Convolution                         torch.nn.Linear
    ==========================  ==================================  ==================
    EpsilonPlus                 ZPlus(stabilizer)                   Epsilon(epsilon)
    EpsilonAlpha2Beta1          AlphaBeta(2, 1, stabilizer)         Epsilon(epsilon)
    EpsilonGammaBox             Gamma(gamma, stabilizer)            Epsilon(epsilon)
    EpsilonPlusFlat             ZPlus(stabilizer)                   Epsilon(epsilon)
    EpsilonAlpha2Beta1Flat      AlphaBeta(2, 1, stabilizer)         Epsilon(epsilon)
    ==========================  ==================================  ==================

    The first layer (SpecialFirstLayerMapComposite: the first module, in
    ``named_modules`` order, that matches ``first_map``):

    * EpsilonGammaBox: the first *Convolution* gets ZBox(low, high,
      stabilizer); its first_map has no torch.nn.Linear, so on a pure MLP
      every layer gets Epsilon(epsilon) and low/high are unused;
    * EpsilonPlusFlat, EpsilonAlpha2Beta1Flat: the first *Linear* (conv or
      dense) gets Flat(stabilizer), so an MLP's first dense layer too;
    * EpsilonPlus, EpsilonAlpha2Beta1: no special first layer (an MLP gets
      Epsilon everywhere).

    Defaults: epsilon = stabilizer = 1e-6, gamma = 0.25, zero_params None:
    every rule uses the layer's bias (ZPlus and AlphaBeta add b⁺ to the
    positive and b⁻ to the negative denominator, Gamma b + γb^±, ZBox's
    bias terms cancel, WSquare adds b², Flat always drops the bias);
    ``zero_params=["bias"]`` drops the bias everywhere (bias=False here),
    except from the output that Gamma reads the sign of z from.
    Every stabiliser is Zennit's ``x + ε sign(x)`` with sign(0) = +1. Gamma
    is Zennit's generalised Gamma (lrp_layer's ``generalized=True``), ZPlus
    is AlphaBeta(1, 0) with (a w)⁺ = a⁺w⁺ + a⁻w⁻ (inputs of any sign).
    ZBox's low/high are scalars or arrays shaped like the layer's input.

    Returns a list with one entry per layer: a dict for dense/conv layers,
    {"epsilon": stabilizer} for average and global average pools, None for
    max pools and flatten (use lrp's default maxpool="wta").
    """
    key = name.replace("-", "_")
    if key not in ZENNIT_PRESETS:
        raise ValueError(f"name: unknown preset {name!r}; expected one of {ZENNIT_PRESETS}")
    if zero_params not in (None, [], "bias", ["bias"], ("bias",)):
        raise ValueError(f"zero_params: only 'bias' can be zeroed here, got {zero_params!r}")
    extra = {"bias": False} if zero_params else {}
    net = as_network(net)
    conv = {"epsilon_plus": dict(rule="alphabeta", alpha=1.0, beta=0.0),
            "epsilon_plus_flat": dict(rule="alphabeta", alpha=1.0, beta=0.0),
            "epsilon_alpha2_beta1": dict(rule="alphabeta", alpha=2.0, beta=1.0),
            "epsilon_alpha2_beta1_flat": dict(rule="alphabeta", alpha=2.0, beta=1.0),
            "epsilon_gamma_box": dict(rule="gamma", gamma=gamma, generalized=True)}[key]
    if key == "epsilon_gamma_box":
        if low is None or high is None:
            raise ValueError("epsilon_gamma_box: low and high are required")
        first_ops = ("conv2d", "conv1d")
        first = dict(rule="zbox", low=low, high=high, epsilon=stabilizer)
    elif key.endswith("_flat"):
        first_ops = PARAMETRIC
        first = dict(rule="flat", epsilon=stabilizer)
    else:
        first_ops, first = (), None
    rules, first_done = [], False
    for ly in net:
        op = ly["op"]
        if not first_done and op in first_ops:
            rules.append({**first, **extra})
            first_done = True
        elif op == "dense":
            rules.append(dict(rule="epsilon", epsilon=epsilon, **extra))
        elif op in PARAMETRIC:
            rules.append({**conv, "epsilon": stabilizer, **extra})
        elif op in ("avgpool2d", "avgpool1d", "gap2d", "gap1d"):
            rules.append({"epsilon": stabilizer})
        else:
            rules.append(None)
    return rules
