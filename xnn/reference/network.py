"""A network twin over any list of layers.

A layer is a dict (an MLP's ``(W, b, act)`` or ``(W, b, act, keep)`` tuple
is read as a dense layer):

==========================================  ==========================================
``{"op": "dense", "W", "b", "act", "keep"}``  W (n_in, n_out), b (n_out,) or None
``{"op": "conv2d", "W", "b", "stride",``      W (O, C, kh, kw); X (m, C, H, W)
``"padding", "act", "keep"}``
``{"op": "conv1d", ...}``                     W (O, C, k); X (m, C, L)
``{"op": "maxpool2d", "kernel", "stride"}``   also ``"avgpool2d"``, ``"maxpool1d"``,
                                              ``"avgpool1d"``
``{"op": "gap2d"}``, ``{"op": "gap1d"}``      global average pooling: (m, C)
``{"op": "flatten"}``                         (m, prod)
==========================================  ==========================================

``act`` (default "linear") and ``keep`` (the dropout keep probability,
default 1) belong to dense and conv layers only; stride defaults to 1 for
a convolution and to the kernel for a pool, padding to 0. A dense layer
takes flat rows: put a flatten (or a global pool) before it.

Every layer has a pre-activation Z and an output A = act(Z); for pooling
and flatten Z = A.
"""
from .activation import activation_backward, activation_forward, dropout_backward, dropout_forward
from .conv import conv1d_backward, conv1d_forward, conv2d_backward, conv2d_forward
from .loss import loss_backward, loss_forward, loss_value
from .optim import sgd_update
from .pool import (avgpool1d_backward, avgpool1d_forward, avgpool2d_backward, avgpool2d_forward,
                   flatten_backward, flatten_forward, global_avgpool1d_backward,
                   global_avgpool1d_forward, global_avgpool2d_backward, global_avgpool2d_forward,
                   maxpool1d_backward, maxpool1d_forward, maxpool2d_backward, maxpool2d_forward)

__all__ = ["PARAMETRIC", "layer_spec", "as_network", "layer_forward", "layer_backward",
           "activation_grad", "network_forward", "network_gradients", "network_loss",
           "mlp_forward", "mlp_loss", "mlp_gradients", "mlp_train_step"]

#: the ops with weights (and a fused activation)
PARAMETRIC = ("dense", "conv2d", "conv1d")
_POOL = {"kernel", "stride"}
_KEYS = {"dense": {"W", "b", "act", "keep"},
         "conv2d": {"W", "b", "stride", "padding", "act", "keep"},
         "conv1d": {"W", "b", "stride", "padding", "act", "keep"},
         "maxpool2d": _POOL, "avgpool2d": _POOL, "maxpool1d": _POOL, "avgpool1d": _POOL,
         "gap2d": set(), "gap1d": set(), "flatten": set()}
_ACTS = ("linear", "relu", "tanh", "sigmoid", "softmax")


def layer_spec(layer):
    """The layer as a dict with every default filled in (a copy)."""
    if isinstance(layer, (tuple, list)):
        if len(layer) not in (3, 4):
            raise ValueError(f"layer: expected a dict or (W, b, act[, keep]), got {len(layer)} items")
        layer = dict(zip(("W", "b", "act", "keep"), layer), op="dense")
    if not isinstance(layer, dict) or layer.get("op") not in _KEYS:
        op = layer.get("op") if isinstance(layer, dict) else layer
        raise ValueError(f"layer: unknown op {op!r}; expected one of {sorted(_KEYS)}")
    op = layer["op"]
    extra = set(layer) - _KEYS[op] - {"op"}
    if extra:
        raise ValueError(f"layer {op}: unknown keys {sorted(extra)}; expected {sorted(_KEYS[op])}")
    spec = dict(layer)
    if op in PARAMETRIC:
        spec.setdefault("b", None)
        spec.setdefault("act", "linear")
        spec.setdefault("keep", 1.0)
        if spec["act"] not in _ACTS:
            raise ValueError(f"act: unknown activation {spec['act']!r}")
        if op != "dense":
            spec.setdefault("stride", 1)
            spec.setdefault("padding", 0)
    elif op in ("maxpool2d", "avgpool2d", "maxpool1d", "avgpool1d"):
        if "kernel" not in spec:
            raise ValueError(f"layer {op}: missing 'kernel'")
        spec.setdefault("stride", None)
    return spec


def as_network(net):
    """Every layer of net as a full dict (layer_spec)."""
    return [layer_spec(ly) for ly in net]


def _pre_activation(ly, A):
    """Z of one layer for its input A (the output itself for pool/flatten)."""
    op = ly["op"]
    if op == "dense":
        if A.ndim != 2:
            raise ValueError(f"dense: expected flat rows (m, n_in), got shape {A.shape}; add a flatten")
        Z = A @ ly["W"]
        return Z if ly["b"] is None else Z + ly["b"]
    if op == "conv2d":
        return conv2d_forward(A, ly["W"], ly["b"], ly["stride"], ly["padding"])
    if op == "conv1d":
        return conv1d_forward(A, ly["W"], ly["b"], ly["stride"], ly["padding"])
    if op == "maxpool2d":
        return maxpool2d_forward(A, ly["kernel"], ly["stride"])[0]
    if op == "maxpool1d":
        return maxpool1d_forward(A, ly["kernel"], ly["stride"])[0]
    if op == "avgpool2d":
        return avgpool2d_forward(A, ly["kernel"], ly["stride"])
    if op == "avgpool1d":
        return avgpool1d_forward(A, ly["kernel"], ly["stride"])
    if op == "gap2d":
        return global_avgpool2d_forward(A)
    if op == "gap1d":
        return global_avgpool1d_forward(A)
    return flatten_forward(A)


def layer_forward(layer, A):
    """(Z, act(Z)) of one layer for its input A (Z itself twice for pool/flatten)."""
    ly = layer_spec(layer)
    Z = _pre_activation(ly, A)
    return Z, (activation_forward(Z, ly["act"]) if ly["op"] in PARAMETRIC else Z)


def layer_backward(layer, dZ, A):
    """(dA, grads) from the gradient dZ at the layer's pre-activation and its
    input A: grads is [dW, db] (db left out when b is None) for dense/conv,
    [] otherwise. Max pool routes to the arg-max, average pools spread
    evenly, flatten reshapes."""
    ly = layer_spec(layer)
    op = ly["op"]
    if op == "dense":
        dA, dW, db = dZ @ ly["W"].T, A.T @ dZ, dZ.sum(axis=0)
    elif op == "conv2d":
        dA, dW, db = conv2d_backward(dZ, A, ly["W"], ly["stride"], ly["padding"])
    elif op == "conv1d":
        dA, dW, db = conv1d_backward(dZ, A, ly["W"], ly["stride"], ly["padding"])
    else:
        if op == "maxpool2d":
            dA = maxpool2d_backward(dZ, maxpool2d_forward(A, ly["kernel"], ly["stride"])[1], A.shape)
        elif op == "maxpool1d":
            dA = maxpool1d_backward(dZ, maxpool1d_forward(A, ly["kernel"], ly["stride"])[1], A.shape)
        elif op == "avgpool2d":
            dA = avgpool2d_backward(dZ, A.shape, ly["kernel"], ly["stride"])
        elif op == "avgpool1d":
            dA = avgpool1d_backward(dZ, A.shape, ly["kernel"], ly["stride"])
        elif op == "gap2d":
            dA = global_avgpool2d_backward(dZ, A.shape)
        elif op == "gap1d":
            dA = global_avgpool1d_backward(dZ, A.shape)
        else:
            dA = flatten_backward(dZ, A.shape)
        return dA, []
    return dA, ([dW] if ly["b"] is None else [dW, db])


def activation_grad(layer, A, G, mode="plain"):
    """The gradient at a layer's pre-activation from G at its output A.
    mode "guided" passes a ReLU only where its output and G are positive,
    "deconvnet" only where G is positive; other activations, and pooling
    and flatten (no activation), are not changed by the mode."""
    ly = layer_spec(layer)
    if ly["op"] not in PARAMETRIC:
        return G
    act = ly["act"]
    if act == "relu" and mode == "guided":
        return G * (A > 0) * (G > 0)
    if act == "relu" and mode == "deconvnet":
        return G * (G > 0)
    if mode not in ("plain", "guided", "deconvnet"):
        raise ValueError(f"mode: unknown {mode!r}")
    return activation_backward(A, G, act)


def network_forward(net, X):
    """(Zs, As): every layer's pre-activation and output (inference, no dropout)."""
    Zs, As, a = [], [], X
    for ly in as_network(net):
        Z, a = layer_forward(ly, a)
        Zs.append(Z)
        As.append(a)
    return Zs, As


def network_gradients(net, X, labels, loss="cross_entropy", seed=None, step=1):
    """(grads, (sum loss, sum SSR, correct)): the gradients of the mean loss
    over the rows, [dW, db] for each dense/conv layer in order, and the
    step's statistics. The output layer's activation and the loss pair as in
    loss_backward (softmax + cross-entropy gives p - y).

    With a seed, a layer with keep < 1 drops its output (after the
    activation) as dropout_forward with stream ``step * 4096 + l`` (l the
    layer's index), as the training step does; without one, no dropout.
    """
    net = as_network(net)
    m = X.shape[0]
    inputs, outs, masks = [], [], []
    a = X
    for l, ly in enumerate(net):
        inputs.append(a)
        _, A = layer_forward(ly, a)
        outs.append(A)
        mask = None
        if seed is not None and ly["op"] in PARAMETRIC and ly["keep"] < 1:
            if l == len(net) - 1:
                raise ValueError("net: the output layer cannot have dropout (keep < 1)")
            A, mask = dropout_forward(A, ly["keep"], seed, step * 4096 + l)
        masks.append(mask)
        a = A
    P = a
    if P.ndim != 2:
        raise ValueError(f"net: the last layer must give (m, n_out), got shape {P.shape}")
    last = net[-1]
    act = last["act"] if last["op"] in PARAMETRIC else "linear"
    stats = loss_forward(P, labels, loss)
    dZ = loss_backward(P, labels, loss, act, 1.0 / m)
    grads = []
    for l in range(len(net) - 1, -1, -1):
        dA, g = layer_backward(net[l], dZ, inputs[l])
        grads[:0] = g
        if l > 0:
            prev = net[l - 1]
            if masks[l - 1] is not None:
                dA = dropout_backward(masks[l - 1], dA, prev["keep"])
            dZ = activation_grad(prev, outs[l - 1], dA)
    return grads, stats


def network_loss(net, X, labels, loss="cross_entropy"):
    """The mean loss of the network's output (for gradient checks)."""
    return loss_value(network_forward(net, X)[1][-1], labels, loss)


def _mlp(params, acts):
    return [(W, b, act) for W, b, act in zip(params[::2], params[1::2], acts)]


def mlp_forward(params, acts, X):
    """Every layer's output for X; params = [W1, b1, W2, b2, ...]."""
    return network_forward(_mlp(params, acts), X)[1]


def mlp_loss(params, acts, X, labels, loss="cross_entropy"):
    """The mean loss of the network's output (used for gradient checks)."""
    return network_loss(_mlp(params, acts), X, labels, loss)


def mlp_gradients(params, acts, X, labels, loss="cross_entropy"):
    """(gradients [dW1, db1, ...] of the mean loss, (sum loss, sum SSR, correct))."""
    return network_gradients(_mlp(params, acts), X, labels, loss)


def mlp_train_step(params, acts, X, labels, loss="cross_entropy", lr=0.01):
    """New params after one plain-SGD step, and the step's statistics.
    (Dropout and the other optimizers compose from the twins above.)"""
    grads, stats = mlp_gradients(params, acts, X, labels, loss)
    return [sgd_update(p, g, lr) for p, g in zip(params, grads)], stats
