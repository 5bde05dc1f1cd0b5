"""Models in and out of PyTorch and ONNX.

``from_torch(module, input_shape)`` and ``from_onnx(path)`` read a
feed-forward network into an ``xnn.Sequential``; ``model.to_torch()`` and
``model.to_onnx(path)`` write one back. torch and onnx are imported inside
these functions only (``pip install xnn[torch]`` / ``xnn[onnx]``), never by
``import xnn``.

Both readers turn the source into a list of steps (dense, conv, pool,
flatten, activation, dropout, batch norm, ...) and one builder makes xnn
layers from it:

- an activation joins the Linear/Conv before it (xnn's layers carry their
  activation). Max pooling commutes with every increasing activation
  (max σ(x) = σ(max x)), so Conv → MaxPool → ReLU is read as
  Conv(relu) → MaxPool, with the same outputs; average pooling does not,
  and an activation after an average pooling is refused;
- BatchNorm (eval-mode running statistics) is folded into the Linear/Conv
  before it: W' = W·s, b' = b·s + t with s = γ/√(var + ε), t = β − mean·s;
- Dropout becomes the keep probability of the layer before it (identity
  at inference); a dropout with no layer before it (on the input) is
  dropped, as it does nothing at inference;
- ONNX files exported from Keras/TensorFlow (tf2onnx) read NHWC images
  behind a leading Transpose to NCHW: the xnn model reads NCHW
  (``X.transpose(0, 3, 1, 2)``), and a Flatten after a Transpose back to
  NHWC is read as xnn's Flatten with the next dense layer's rows permuted
  to match.

Anything else raises ``ValueError`` naming the layer or op and listing what
is supported.
"""
import math

import numpy as np

from . import layers as L

__all__ = ["from_torch", "to_torch", "from_onnx", "to_onnx", "TORCH_MODULES", "ONNX_OPS"]

TORCH_MODULES = ("Linear", "Conv1d", "Conv2d", "MaxPool1d", "MaxPool2d", "AvgPool1d",
                 "AvgPool2d", "AdaptiveAvgPool1d(1)", "AdaptiveAvgPool2d(1)", "Flatten",
                 "ReLU", "Tanh", "Sigmoid", "Softmax (last)", "Dropout", "BatchNorm1d",
                 "BatchNorm2d", "Identity", "Sequential (nested)")
ONNX_OPS = ("Gemm", "MatMul", "Add", "Conv", "MaxPool", "AveragePool", "GlobalAveragePool",
            "Flatten", "Reshape", "Relu", "Tanh", "Sigmoid", "Softmax", "Dropout",
            "BatchNormalization", "Identity", "Transpose (NHWC <-> NCHW)", "Constant")
_ELEMENTWISE = ("relu", "tanh", "sigmoid")


def _need(name, extra):
    import importlib
    try:
        return importlib.import_module(name)
    except ImportError as e:
        raise ImportError(f"{name} is needed for this conversion: pip install 'xnn[{extra}]' "
                          f"({e})") from None


# ---------------------------------------------------------------- the builder

class _Builder:
    """xnn layers from steps, tracking the row shape. ``where`` names the
    source layer or node in messages."""

    def __init__(self, input_shape, dtype):
        self.shape = tuple(int(s) for s in input_shape)
        self.dtype = np.dtype(dtype)
        self.layers = []
        self.permute = None   # (C, H, W) of a channels-last flatten awaiting its dense
        self.pending_keep = 1.0

    def _err(self, where, why):
        return ValueError(f"{where}: {why}")

    def _add(self, layer, where):
        try:
            self.shape = layer.output_shape(self.shape)
        except ValueError as e:
            raise self._err(where, str(e)) from None
        layer.input_shape = None
        self.layers.append(layer)
        return layer

    def _check_permute(self, where):
        if self.permute is not None:
            raise self._err(where, "a flatten of channels-last (NHWC) data must be followed by a "
                                   "dense layer (Gemm/MatMul), whose rows xnn permutes")

    def dense(self, W, b, where):
        """W (in, out), b (out,) or None."""
        W = np.asarray(W, dtype=np.float64)
        if W.ndim != 2:
            raise self._err(where, f"expected a 2-D weight, got shape {W.shape}")
        if len(self.shape) != 1:
            raise self._err(where, f"a dense layer reads flat rows, got shape {self.shape}; "
                                   "add a Flatten before it")
        if self.permute is not None:
            C, *sp = self.permute
            n_sp = math.prod(sp)
            if W.shape[0] != C * n_sp:
                raise self._err(where, f"expected {C * n_sp} inputs after the flatten, got "
                                       f"{W.shape[0]}")
            # rows in (spatial..., C) order -> xnn's (C, spatial...) order
            W = W.reshape(n_sp, C, W.shape[1]).transpose(1, 0, 2).reshape(C * n_sp, W.shape[1])
            self.permute = None
        b = np.zeros(W.shape[1]) if b is None else np.asarray(b, dtype=np.float64).reshape(-1)
        if b.shape != (W.shape[1],):
            raise self._err(where, f"expected a bias of {W.shape[1]} values, got {b.size}")
        layer = self._add(L.Dense(W.shape[0], W.shape[1]), where)
        layer._pending = (W, b)
        return layer

    def conv(self, W, b, stride, padding, where):
        self._check_permute(where)
        W = np.asarray(W, dtype=np.float64)
        nd = W.ndim - 2
        if nd not in (1, 2):
            raise self._err(where, f"expected a 1-D or 2-D convolution, got a weight of shape "
                                   f"{W.shape}")
        if len(self.shape) != nd + 1:
            raise self._err(where, f"a {nd}-D convolution reads rows of {nd + 1} axes, got "
                                   f"shape {self.shape}")
        Conv = L.Conv2d if nd == 2 else L.Conv1d
        k = tuple(W.shape[2:])
        one = (lambda t: tuple(t)) if nd == 2 else (lambda t: int(t[0]))
        layer = self._add(Conv(W.shape[1], W.shape[0], one(k), stride=one(stride),
                               padding=one(padding)), where)
        b = np.zeros(W.shape[0]) if b is None else np.asarray(b, dtype=np.float64).reshape(-1)
        if b.shape != (W.shape[0],):
            raise self._err(where, f"expected a bias of {W.shape[0]} values, got {b.size}")
        layer._pending = (W, b)
        return layer

    def pool(self, kind, kernel, stride, where):
        self._check_permute(where)
        nd = len(kernel)
        if len(self.shape) != nd + 1:
            raise self._err(where, f"a {nd}-D pooling reads rows of {nd + 1} axes, got shape "
                                   f"{self.shape}")
        cls = {("max", 2): L.MaxPool2d, ("max", 1): L.MaxPool1d, ("avg", 2): L.AvgPool2d,
               ("avg", 1): L.AvgPool1d}[kind, nd]
        one = (lambda t: tuple(int(v) for v in t)) if nd == 2 else (lambda t: int(t[0]))
        self._add(cls(one(kernel), stride=one(stride)), where)

    def global_pool(self, where):
        self._check_permute(where)
        if len(self.shape) == 3:
            self._add(L.GlobalAvgPool2d(), where)
        elif len(self.shape) == 2:
            self._add(L.GlobalAvgPool1d(), where)
        else:
            raise self._err(where, f"global average pooling reads images or signals, got shape "
                                   f"{self.shape}")

    def flatten(self, where, channels_last=False):
        self._check_permute(where)
        if len(self.shape) == 1:
            return                      # already flat (after a global pooling)
        if channels_last and any(s != 1 for s in self.shape[1:]):
            self.permute = self.shape
        self._add(L.Flatten(), where)

    def _last_parametric(self, where, what):
        """The Dense/Conv that an activation after max pools and flattens joins."""
        for layer in reversed(self.layers):
            if isinstance(layer, (L.Dense, L.Conv1d, L.Conv2d)):
                return layer
            if isinstance(layer, (L.AvgPool1d, L.AvgPool2d, L.GlobalAvgPool1d,
                                  L.GlobalAvgPool2d)):
                raise self._err(where, f"{what} after an average pooling ({layer!r}) does not "
                                       "commute with it, and xnn's pooling layers carry no "
                                       "activation; put the activation before the pooling")
        raise self._err(where, f"{what} with no Linear/Conv layer before it is not supported")

    def activation(self, name, where):
        if name == "softmax":
            last = self.layers[-1] if self.layers else None
            if not isinstance(last, L.Dense) or last.activation != "linear":
                raise self._err(where, "softmax is supported only directly after the last "
                                       "dense (Linear/Gemm) layer")
            last.activation = "softmax"
            return
        layer = self._last_parametric(where, name)
        if layer.activation == "linear":
            layer.activation = name
        elif not (layer.activation == name == "relu"):   # ReLU twice is ReLU
            raise self._err(where, f"{name} after {layer!r}, which already has the activation "
                                   f"{layer.activation!r}: two activations in a row are not "
                                   "supported")

    def dropout(self, p, where):
        if not 0 <= p < 1:
            raise self._err(where, f"expected a dropout probability in [0, 1), got {p}")
        if p == 0:
            return
        for layer in reversed(self.layers):
            if isinstance(layer, (L.Dense, L.Conv1d, L.Conv2d)):
                layer.keep_prob = layer.keep_prob * (1.0 - p)
                return
        # input dropout: identity at inference, nothing to keep

    def batchnorm(self, gamma, beta, mean, var, eps, where):
        last = self.layers[-1] if self.layers else None
        if not isinstance(last, (L.Dense, L.Conv1d, L.Conv2d)) or last.activation != "linear" \
                or last.keep_prob < 1:
            raise self._err(where, "batch normalization is folded into the Linear/Conv layer "
                                   "directly before it (no activation, pooling or dropout in "
                                   "between); here it follows "
                                   f"{last!r}" if last is not None else "nothing")
        W, b = last._pending
        scale = np.asarray(gamma, np.float64) / np.sqrt(np.asarray(var, np.float64) + eps)
        shift = np.asarray(beta, np.float64) - np.asarray(mean, np.float64) * scale
        n = W.shape[1] if isinstance(last, L.Dense) else W.shape[0]
        if scale.shape != (n,):
            raise self._err(where, f"expected {n} channels, got {scale.size}")
        if isinstance(last, L.Dense):
            W = W * scale[None, :]
        else:
            W = W * scale.reshape((-1,) + (1,) * (W.ndim - 1))
        last._pending = (W, b * scale + shift)

    def add_bias(self, value, where):
        last = self.layers[-1] if self.layers else None
        if not isinstance(last, (L.Dense, L.Conv1d, L.Conv2d)) or last.activation != "linear" \
                or last.keep_prob < 1:
            raise self._err(where, "Add is supported as the bias of the MatMul/Conv directly "
                                   "before it")
        W, b = last._pending
        v = np.asarray(value, dtype=np.float64)
        if v.size != b.size:
            raise self._err(where, f"expected a bias of {b.size} values, got shape {v.shape}")
        last._pending = (W, b + v.reshape(-1))

    def build(self, input_shape, where="model"):
        from .network import Sequential
        self._check_permute(where)
        if not self.layers:
            raise self._err(where, "no layers to convert")
        for layer in self.layers:
            layer.input_shape = None
        model = Sequential(self.layers, init="zeros", dtype=self.dtype.name,
                           input_shape=tuple(input_shape))
        weights = []
        for layer in self.layers:
            if hasattr(layer, "_pending"):
                weights.extend(layer._pending)
                del layer._pending
        model.set_weights(weights)
        return model


# ---------------------------------------------------------------- PyTorch

def _pair(v, nd):
    if isinstance(v, (tuple, list)):
        return tuple(int(x) for x in v)
    return (int(v),) * nd


def _torch_modules(module, prefix=""):
    import torch.nn as nn
    if isinstance(module, nn.Sequential):
        for name, child in module.named_children():
            yield from _torch_modules(child, f"{prefix}{name}.")
    else:
        yield prefix.rstrip(".") or type(module).__name__, module


def from_torch(module, input_shape, dtype=None):
    """An ``xnn.Sequential`` equal to a PyTorch ``nn.Sequential`` in eval mode.

    Parameters
    ----------
    module : torch.nn.Sequential of the modules in ``TORCH_MODULES``
        (nested Sequentials are read in order). Convolutions: zero padding
        (an integer, a pair, "valid", or "same" for odd kernels), any
        stride, no dilation or groups. Pools: no padding, ceil_mode=False.
        BatchNorm uses its running statistics (as ``module.eval()``).
    input_shape : the shape of one input row without the batch axis,
        ``(C, H, W)``, ``(C, L)`` or ``(n,)``.
    dtype : "float32" or "float64"; None takes the module's parameter dtype.

    Returns an ``xnn.Sequential`` whose ``predict_proba`` equals the module's
    output to float rounding (with a final Softmax; without one, xnn's last
    layer is linear and gives the logits).
    """
    torch = _need("torch", "torch")
    nn = torch.nn
    if not isinstance(module, nn.Module):
        raise TypeError(f"module: expected a torch.nn.Sequential, got {type(module).__name__}")
    if not isinstance(module, nn.Sequential):
        raise TypeError(f"module: expected a torch.nn.Sequential (a feed-forward stack of "
                        f"modules), got {type(module).__name__}")
    if dtype is None:
        p = next(iter(module.parameters()), None)
        dtype = "float64" if p is not None and p.dtype == torch.float64 else "float32"
    if isinstance(input_shape, int):
        input_shape = (input_shape,)
    b = _Builder(input_shape, dtype)

    def arr(t):
        return None if t is None else t.detach().cpu().double().numpy()

    mods = list(_torch_modules(module))
    for i, (name, m) in enumerate(mods):
        where = f"module {name} ({type(m).__name__})"
        if isinstance(m, nn.Linear):
            b.dense(arr(m.weight).T, arr(m.bias), where)
        elif isinstance(m, (nn.Conv1d, nn.Conv2d)):
            nd = 2 if isinstance(m, nn.Conv2d) else 1
            if any(d != 1 for d in _pair(m.dilation, nd)):
                raise ValueError(f"{where}: dilation {m.dilation} is not supported (xnn's "
                                 "convolutions have dilation 1)")
            if m.groups != 1:
                raise ValueError(f"{where}: groups={m.groups} is not supported (xnn's "
                                 "convolutions have groups=1)")
            if m.padding_mode != "zeros":
                raise ValueError(f"{where}: padding_mode={m.padding_mode!r} is not supported "
                                 "(zero padding only)")
            k, stride = _pair(m.kernel_size, nd), _pair(m.stride, nd)
            pad = m.padding
            if pad == "valid":
                pad = (0,) * nd
            elif pad == "same":
                if any(v % 2 == 0 for v in k):
                    raise ValueError(f"{where}: padding='same' with an even kernel {k} pads "
                                     "unevenly, which xnn does not support")
                pad = tuple((v - 1) // 2 for v in k)
            b.conv(arr(m.weight), arr(m.bias), stride, _pair(pad, nd), where)
        elif isinstance(m, (nn.MaxPool1d, nn.MaxPool2d, nn.AvgPool1d, nn.AvgPool2d)):
            nd = 2 if isinstance(m, (nn.MaxPool2d, nn.AvgPool2d)) else 1
            if any(p != 0 for p in _pair(m.padding, nd)):
                raise ValueError(f"{where}: padding {m.padding} is not supported (pooling "
                                 "windows have no padding in xnn)")
            if m.ceil_mode:
                raise ValueError(f"{where}: ceil_mode=True is not supported")
            is_max = isinstance(m, (nn.MaxPool1d, nn.MaxPool2d))
            if is_max and (any(d != 1 for d in _pair(m.dilation, nd)) or m.return_indices):
                raise ValueError(f"{where}: dilation and return_indices are not supported")
            if not is_max and getattr(m, "divisor_override", None) is not None:
                raise ValueError(f"{where}: divisor_override is not supported")
            k = _pair(m.kernel_size, nd)
            stride = k if m.stride is None else _pair(m.stride, nd)
            b.pool("max" if is_max else "avg", k, stride, where)
        elif isinstance(m, (nn.AdaptiveAvgPool1d, nn.AdaptiveAvgPool2d)):
            out = _pair(m.output_size, 2 if isinstance(m, nn.AdaptiveAvgPool2d) else 1)
            if any(o != 1 for o in out):
                raise ValueError(f"{where}: only output_size=1 (global average pooling) is "
                                 f"supported, got {m.output_size}")
            b.global_pool(where)
        elif isinstance(m, nn.Flatten):
            if m.start_dim != 1 or m.end_dim != -1:
                raise ValueError(f"{where}: only Flatten(start_dim=1, end_dim=-1) is supported")
            b.flatten(where)
        elif isinstance(m, (nn.ReLU, nn.Tanh, nn.Sigmoid)):
            b.activation({nn.ReLU: "relu", nn.Tanh: "tanh", nn.Sigmoid: "sigmoid"}[type(m)],
                         where)
        elif isinstance(m, nn.Softmax):
            if m.dim not in (1, -1, None) or i != len(mods) - 1:
                raise ValueError(f"{where}: Softmax is supported as the last module, over dim 1")
            b.activation("softmax", where)
        elif isinstance(m, nn.Dropout):
            b.dropout(float(m.p), where)
        elif isinstance(m, (nn.BatchNorm1d, nn.BatchNorm2d)):
            if m.running_mean is None or m.running_var is None:
                raise ValueError(f"{where}: needs running statistics (track_running_stats=True)")
            n = m.num_features
            gamma = arr(m.weight) if m.weight is not None else np.ones(n)
            beta = arr(m.bias) if m.bias is not None else np.zeros(n)
            b.batchnorm(gamma, beta, arr(m.running_mean), arr(m.running_var), float(m.eps),
                        where)
        elif isinstance(m, nn.Identity):
            continue
        else:
            raise ValueError(f"{where}: not supported; xnn reads {', '.join(TORCH_MODULES)}")
    return b.build(tuple(int(s) for s in input_shape))


def to_torch(model):
    """An ``nn.Sequential`` computing ``model.predict_proba`` (in eval mode;
    dropout as ``nn.Dropout`` after the layer it belongs to), in the
    model's dtype."""
    torch = _need("torch", "torch")
    nn = torch.nn
    from .explain._common import check_model
    model = check_model(model)
    tdtype = torch.float64 if np.dtype(model.dtype) == np.float64 else torch.float32
    acts = {"relu": nn.ReLU, "tanh": nn.Tanh, "sigmoid": nn.Sigmoid}
    mods = []
    for layer in model.layers:
        if isinstance(layer, L.Dense):
            m = nn.Linear(layer.n_in, layer.n_out)
            w = layer.W.T
        elif isinstance(layer, (L.Conv1d, L.Conv2d)):
            cls = nn.Conv2d if isinstance(layer, L.Conv2d) else nn.Conv1d
            m = cls(layer.in_channels, layer.out_channels, layer.kernel_size, stride=layer.stride,
                    padding=layer.padding)
            w = layer.W
        elif isinstance(layer, (L.MaxPool1d, L.MaxPool2d, L.AvgPool1d, L.AvgPool2d)):
            cls = {L.MaxPool1d: nn.MaxPool1d, L.MaxPool2d: nn.MaxPool2d, L.AvgPool1d: nn.AvgPool1d,
                   L.AvgPool2d: nn.AvgPool2d}[type(layer)]
            mods.append(cls(layer.kernel_size, stride=layer.stride))
            continue
        elif isinstance(layer, (L.GlobalAvgPool1d, L.GlobalAvgPool2d)):
            mods.append(nn.AdaptiveAvgPool2d(1) if isinstance(layer, L.GlobalAvgPool2d)
                        else nn.AdaptiveAvgPool1d(1))
            mods.append(nn.Flatten())
            continue
        elif isinstance(layer, L.Flatten):
            mods.append(nn.Flatten())
            continue
        else:
            raise ValueError(f"{layer!r}: no PyTorch equivalent")
        m = m.to(tdtype)
        with torch.no_grad():
            m.weight.copy_(torch.from_numpy(np.ascontiguousarray(w)))
            m.bias.copy_(torch.from_numpy(np.ascontiguousarray(layer.b)))
        mods.append(m)
        if layer.activation in acts:
            mods.append(acts[layer.activation]())
        elif layer.activation == "softmax":
            mods.append(nn.Softmax(dim=1))
        if layer.keep_prob < 1:
            mods.append(nn.Dropout(1.0 - layer.keep_prob))
    return nn.Sequential(*mods).to(tdtype).eval()


# ---------------------------------------------------------------- ONNX

def _attrs(node):
    from onnx import helper
    return {a.name: helper.get_attribute_value(a) for a in node.attribute}


def from_onnx(path, dtype=None):
    """An ``xnn.Sequential`` from an ONNX file (or ``onnx.ModelProto``) of a
    feed-forward network: one input, one output, a chain of the ops in
    ``ONNX_OPS`` (PyTorch exports, NCHW; Keras/tf2onnx exports with their
    NHWC Transposes, see the module's docstring).

    dtype : "float32" or "float64"; None takes the input's element type.
    """
    onnx = _need("onnx", "onnx")
    from onnx import numpy_helper
    if isinstance(path, onnx.ModelProto):
        proto = path
    else:
        import os
        path = os.fspath(path)
        if not os.path.exists(path):
            raise FileNotFoundError(f"path: no such ONNX file: {path!r}")
        try:
            proto = onnx.load(path)
        except Exception as e:
            raise ValueError(f"path: {path!r} is not a readable ONNX model: {e}") from None
    graph = proto.graph
    consts = {t.name: numpy_helper.to_array(t) for t in graph.initializer}
    inputs = [i for i in graph.input if i.name not in consts]
    if len(inputs) != 1 or len(graph.output) != 1:
        raise ValueError(f"model: expected one input and one output, got {len(inputs)} inputs and "
                         f"{len(graph.output)} outputs")
    inp = inputs[0]
    tt = inp.type.tensor_type
    dims = [d.dim_value if d.HasField("dim_value") else None for d in tt.shape.dim]
    if len(dims) < 2 or any(d is None or d < 1 for d in dims[1:]):
        raise ValueError(f"input {inp.name!r}: expected a batch axis and fixed row dimensions, "
                         f"got {dims}")
    if dtype is None:
        dtype = "float64" if tt.elem_type == onnx.TensorProto.DOUBLE else "float32"
    nodes = list(graph.node)
    # Constant nodes are values, not steps
    chain = []
    for n in nodes:
        if n.op_type == "Constant":
            a = _attrs(n)
            if "value" not in a:
                raise ValueError(f"node {n.name or n.output[0]!r} (Constant): only a tensor "
                                 "'value' is supported")
            consts[n.output[0]] = numpy_helper.to_array(a["value"])
        else:
            chain.append(n)
    shape = tuple(dims[1:])
    layout = "first"   # channels-first (NCHW) or "last" (NHWC)
    # a leading Transpose from channels-last to channels-first: xnn reads the transposed rows
    if chain and chain[0].op_type == "Transpose" and chain[0].input[0] == inp.name:
        perm = list(_attrs(chain[0]).get("perm", []))
        r = len(dims)
        if r in (3, 4) and perm == [0, r - 1] + list(range(1, r - 1)):
            shape = tuple(shape[p - 1] for p in perm[1:])
            current = chain[0].output[0]
            chain = chain[1:]
        else:
            raise ValueError(f"node {chain[0].name!r} (Transpose): only a leading NHWC -> NCHW "
                             f"transpose (perm=[0, {r - 1}, 1, ...]) is supported, got {perm}")
    else:
        current = inp.name
    b = _Builder(shape, dtype)
    input_shape = shape
    pending_matmul = False
    for k, n in enumerate(chain):
        op = n.op_type
        where = f"node {n.name!r} ({op})" if n.name else f"node {k} ({op})"
        data = [x for x in n.input if x and x not in consts]
        if data != [current]:
            raise ValueError(f"{where}: xnn reads a chain of ops, each reading the previous "
                             f"one's output; this one reads {list(n.input)}")
        params = [consts.get(x) if x else None for x in n.input[1:]]
        a = _attrs(n)
        if op != "Add":
            pending_matmul = False
        if op == "Gemm":
            if a.get("transA", 0):
                raise ValueError(f"{where}: transA=1 is not supported")
            W = params[0]
            if W is None:
                raise ValueError(f"{where}: the weight must be an initializer")
            W = W.T if a.get("transB", 0) else W
            W = W * a.get("alpha", 1.0)
            bias = params[1] if len(params) > 1 else None
            if bias is not None:
                bias = np.broadcast_to(bias * a.get("beta", 1.0), (W.shape[1],)) \
                    if bias.size in (1, W.shape[1]) else bias
            b.dense(W, bias, where)
        elif op == "MatMul":
            if n.input[0] != current or params[0] is None:
                raise ValueError(f"{where}: expected MatMul(x, W) with W an initializer")
            b.dense(params[0], None, where)
            pending_matmul = True
        elif op == "Add":
            if not pending_matmul and not (b.layers and isinstance(b.layers[-1], (L.Conv1d, L.Conv2d))):
                raise ValueError(f"{where}: Add is supported as the bias after a MatMul or Conv")
            if params[0] is None:
                raise ValueError(f"{where}: the added value must be an initializer or Constant")
            b.add_bias(params[0], where)
            pending_matmul = False
        elif op == "Conv":
            W = params[0]
            if W is None:
                raise ValueError(f"{where}: the weight must be an initializer")
            nd = W.ndim - 2
            if a.get("group", 1) != 1:
                raise ValueError(f"{where}: group={a['group']} is not supported")
            if any(d != 1 for d in a.get("dilations", [1] * nd)):
                raise ValueError(f"{where}: dilations {a['dilations']} are not supported")
            k_ = tuple(a.get("kernel_shape", W.shape[2:]))
            strides = tuple(a.get("strides", [1] * nd))
            pad = _pads(a, k_, strides, where)
            bias = params[1] if len(params) > 1 else None
            b.conv(W, bias, strides, pad, where)
        elif op in ("MaxPool", "AveragePool"):
            if len([o for o in n.output if o]) > 1:
                raise ValueError(f"{where}: the Indices output is not supported")
            k_ = tuple(a["kernel_shape"])
            strides = tuple(a.get("strides", [1] * len(k_)))
            if any(p != 0 for p in _pads(a, k_, strides, where)) or a.get("ceil_mode", 0):
                raise ValueError(f"{where}: padding and ceil_mode are not supported for pooling")
            if any(d != 1 for d in a.get("dilations", [1] * len(k_))):
                raise ValueError(f"{where}: dilations are not supported")
            if a.get("storage_order", 0):
                raise ValueError(f"{where}: storage_order=1 is not supported")
            b.pool("max" if op == "MaxPool" else "avg", k_, strides, where)
        elif op == "GlobalAveragePool":
            b.global_pool(where)
        elif op in ("Flatten", "Reshape"):
            if op == "Flatten" and a.get("axis", 1) != 1:
                raise ValueError(f"{where}: only axis=1 is supported")
            if op == "Reshape":
                target = [int(v) for v in np.asarray(params[0]).reshape(-1)]
                n_row = math.prod(b.shape)
                if not (len(target) == 2 and target[0] in (0, -1, 1)
                        and target[1] in (-1, n_row) and target != [-1, -1]):
                    raise ValueError(f"{where}: only a reshape to (N, -1) (a flatten) is "
                                     f"supported, got {target}")
            b.flatten(where, channels_last=(layout == "last"))
            layout = "first"
        elif op == "Transpose":
            perm = list(a.get("perm", []))
            r = len(b.shape) + 1
            to_last = [0] + list(range(2, r)) + [1]
            to_first = [0, r - 1] + list(range(1, r - 1))
            if layout == "first" and perm == to_last and r > 2:
                layout = "last"
            elif layout == "last" and perm == to_first:
                layout = "first"
            else:
                raise ValueError(f"{where}: only NCHW <-> NHWC transposes before a flatten are "
                                 f"supported, got perm={perm} on rows of shape {b.shape}")
        elif op in ("Relu", "Tanh", "Sigmoid"):
            b.activation(op.lower(), where)
        elif op == "Softmax":
            if k != len(chain) - 1 or a.get("axis", -1) not in (1, -1):
                raise ValueError(f"{where}: Softmax is supported as the last op, over axis 1")
            b.activation("softmax", where)
        elif op == "Dropout":
            if len(n.input) > 2 and n.input[2]:
                mode = consts.get(n.input[2])
                if mode is None or bool(np.asarray(mode)):
                    raise ValueError(f"{where}: training_mode must be a constant False")
            ratio = params[0] if params and params[0] is not None else a.get("ratio", 0.5)
            ratio = np.asarray(ratio)
            if ratio.size != 1:
                raise ValueError(f"{where}: expected one dropout ratio, got shape {ratio.shape}")
            b.dropout(float(ratio.reshape(())), where)
        elif op == "BatchNormalization":
            if any(p is None for p in params[:4]):
                raise ValueError(f"{where}: scale, bias, mean and var must be initializers")
            if len([o for o in n.output if o]) > 1:
                raise ValueError(f"{where}: training mode (running statistics outputs) is not "
                                 "supported")
            b.batchnorm(*params[:4], float(a.get("epsilon", 1e-5)), where)
        elif op == "Identity":
            pass
        else:
            raise ValueError(f"{where}: op not supported; xnn reads {', '.join(ONNX_OPS)}")
        if layout == "last" and op not in ("Transpose", "Relu", "Tanh", "Sigmoid", "Dropout",
                                           "Identity"):
            raise ValueError(f"{where}: only an activation or a flatten may follow a transpose "
                             "to NHWC")
        current = n.output[0]
    if current != graph.output[0].name:
        raise ValueError(f"model: the chain ends at {current!r}, not at the output "
                         f"{graph.output[0].name!r}")
    if layout == "last":
        raise ValueError("model: ends in an NHWC transpose, which xnn's flat output has not")
    return b.build(input_shape)


def _pads(a, kernel, strides, where):
    """Symmetric zero padding per axis from ONNX pads / auto_pad."""
    nd = len(kernel)
    auto = a.get("auto_pad", b"NOTSET")
    auto = auto.decode() if isinstance(auto, bytes) else auto
    if auto in ("SAME_UPPER", "SAME_LOWER"):
        if any(s != 1 for s in strides) or any(k % 2 == 0 for k in kernel):
            raise ValueError(f"{where}: auto_pad={auto} is supported with stride 1 and odd "
                             "kernels only")
        return tuple((k - 1) // 2 for k in kernel)
    if auto not in ("NOTSET", "VALID"):
        raise ValueError(f"{where}: auto_pad={auto!r} is not supported")
    pads = list(a.get("pads", [0] * (2 * nd)))
    if auto == "VALID":
        pads = [0] * (2 * nd)
    if pads[:nd] != pads[nd:]:
        raise ValueError(f"{where}: asymmetric pads {pads} are not supported")
    return tuple(int(p) for p in pads[:nd])


def to_onnx(model, path, opset=13):
    """Write ``model`` as an ONNX file (opset ``opset`` >= 13) computing
    ``predict_proba``: input ``"input"`` of shape (N,) + input_shape, output
    ``"output"``; dropout as Dropout nodes (identity at inference). Returns
    the path."""
    onnx = _need("onnx", "onnx")
    from onnx import TensorProto, helper, numpy_helper
    import os
    from .explain._common import check_model
    model = check_model(model)
    if not isinstance(opset, int) or opset < 13:
        raise ValueError(f"opset: expected an integer >= 13, got {opset!r}")
    path = os.fspath(path)
    dt = np.dtype(model.dtype)
    etype = TensorProto.DOUBLE if dt == np.float64 else TensorProto.FLOAT
    nodes, inits = [], []
    current = "input"
    count = [0]

    def name(prefix):
        count[0] += 1
        return f"{prefix}_{count[0]}"

    def node(op, inputs, **attrs):
        out = name(op.lower())
        nodes.append(helper.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def init(arr, prefix):
        n = name(prefix)
        inits.append(numpy_helper.from_array(np.array(arr, order="C"), n))
        return n

    for layer in model.layers:
        if isinstance(layer, L.Dense):
            current = node("Gemm", [current, init(layer.W, "W"), init(layer.b, "b")])
        elif isinstance(layer, (L.Conv1d, L.Conv2d)):
            current = node("Conv", [current, init(layer.W, "W"), init(layer.b, "b")],
                           kernel_shape=list(layer.kernel_size), strides=list(layer.stride),
                           pads=list(layer.padding) * 2)
        elif isinstance(layer, (L.MaxPool1d, L.MaxPool2d, L.AvgPool1d, L.AvgPool2d)):
            op = "MaxPool" if isinstance(layer, (L.MaxPool1d, L.MaxPool2d)) else "AveragePool"
            current = node(op, [current], kernel_shape=list(layer.kernel_size),
                           strides=list(layer.stride))
            continue
        elif isinstance(layer, (L.GlobalAvgPool1d, L.GlobalAvgPool2d)):
            current = node("Flatten", [node("GlobalAveragePool", [current])], axis=1)
            continue
        elif isinstance(layer, L.Flatten):
            current = node("Flatten", [current], axis=1)
            continue
        else:
            raise ValueError(f"{layer!r}: no ONNX equivalent")
        act = {"relu": "Relu", "tanh": "Tanh", "sigmoid": "Sigmoid"}.get(layer.activation)
        if act:
            current = node(act, [current])
        elif layer.activation == "softmax":
            current = node("Softmax", [current], axis=1)
        if layer.keep_prob < 1:
            current = node("Dropout", [current, init(np.array(1.0 - layer.keep_prob), "ratio")])
    nodes[-1].output[0] = "output"
    graph = helper.make_graph(
        nodes, "xnn", [helper.make_tensor_value_info("input", etype, ["N", *model.input_shape])],
        [helper.make_tensor_value_info("output", etype, ["N", model.n_out])], inits)
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)],
                              producer_name="xnn")
    proto.ir_version = min(proto.ir_version, 8)
    onnx.checker.check_model(proto)
    onnx.save(proto, path)
    return path
