"""xnn.interop: models from and to PyTorch and ONNX. ONNX files are built
here with onnx.helper and run by onnxruntime for comparison."""
import numpy as np
import pytest

from _deps import require

import xnn

L = xnn.layers


def rel(a, b):
    a, b = np.asarray(a, np.float64), np.asarray(b, np.float64)
    return np.max(np.abs(a - b)) / max(np.max(np.abs(b)), 1e-300)


# ---------------------------------------------------------------- PyTorch

def _torch():
    return require("torch")


def _randomize(net, seed=0):
    """Non-trivial parameters and batch-norm statistics."""
    torch = _torch()
    g = torch.Generator().manual_seed(seed)
    with torch.no_grad():
        for m in net.modules():
            if isinstance(m, (torch.nn.BatchNorm1d, torch.nn.BatchNorm2d)):
                m.running_mean.copy_(torch.randn(m.num_features, generator=g) * 0.3)
                m.running_var.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.weight.copy_(torch.rand(m.num_features, generator=g) + 0.5)
                m.bias.copy_(torch.randn(m.num_features, generator=g) * 0.2)
            elif hasattr(m, "bias") and m.bias is not None:
                m.bias.copy_(torch.randn(m.bias.shape, generator=g) * 0.1)
    return net.eval()


def torch_nets():
    nn = _torch().nn
    mlp = nn.Sequential(nn.Linear(20, 16), nn.ReLU(), nn.Dropout(0.25), nn.Linear(16, 12),
                        nn.Tanh(), nn.Linear(12, 5), nn.Softmax(dim=1))
    lenet = nn.Sequential(
        nn.Conv2d(1, 6, 5, padding=2), nn.BatchNorm2d(6), nn.ReLU(), nn.AvgPool2d(2),
        nn.Conv2d(6, 16, 5), nn.MaxPool2d(2), nn.ReLU(),          # ReLU after a max pool
        nn.Flatten(), nn.Linear(400, 120), nn.BatchNorm1d(120), nn.ReLU(), nn.Dropout(0.5),
        nn.Linear(120, 84), nn.Sigmoid(), nn.Linear(84, 10))
    conv1d = nn.Sequential(
        nn.Conv1d(3, 8, 5, stride=2, padding="valid"), nn.ReLU(), nn.MaxPool1d(3, stride=2),
        nn.Conv1d(8, 8, 3, padding="same"), nn.Tanh(), nn.AdaptiveAvgPool1d(1), nn.Flatten(),
        nn.Linear(8, 4), nn.Softmax(dim=-1))
    strided = nn.Sequential(nn.Conv2d(2, 4, (3, 2), stride=(2, 1), padding=(1, 0)), nn.ReLU(),
                            nn.AdaptiveAvgPool2d((1, 1)), nn.Flatten(), nn.Linear(4, 3))
    return {"mlp": (mlp, (20,)), "lenet5": (lenet, (1, 28, 28)), "conv1d": (conv1d, (3, 40)),
            "strided": (strided, (2, 9, 7))}


@pytest.mark.parametrize("name", ["mlp", "lenet5", "conv1d", "strided"])
@pytest.mark.parametrize("dtype", ["float64", "float32"])
def test_torch_round_trip(name, dtype):
    torch = _torch()
    net, shape = torch_nets()[name]
    net = _randomize(net).to(torch.float64 if dtype == "float64" else torch.float32)
    model = xnn.from_torch(net, shape)
    assert model.dtype == np.dtype(dtype)
    X = np.random.RandomState(1).normal(size=(7,) + shape).astype(dtype)
    with torch.no_grad():
        want = net(torch.from_numpy(X)).numpy()
    got = model.predict_proba(X)
    tol = 1e-12 if dtype == "float64" else 2e-6
    assert rel(got, want) < tol
    back = model.to_torch()
    with torch.no_grad():
        again = back(torch.from_numpy(X)).numpy()
    assert again.dtype == np.dtype(dtype)
    assert rel(again, got) < tol
    # and into xnn once more: the same weights
    model2 = xnn.from_torch(back, shape)
    for a, b in zip(model.get_weights(), model2.get_weights()):
        np.testing.assert_array_equal(a, b)
    assert [ly.keep_prob for ly in model.layers] == [ly.keep_prob for ly in model2.layers]


def test_torch_fusion_details():
    nn = _torch().nn
    net, shape = torch_nets()["lenet5"]
    model = xnn.from_torch(_randomize(net).double(), shape)
    kinds = [(type(ly).__name__, ly.activation if ly.params else None) for ly in model.layers]
    assert kinds == [("Conv2d", "relu"), ("AvgPool2d", None), ("Conv2d", "relu"),
                     ("MaxPool2d", None), ("Flatten", None), ("Dense", "relu"),
                     ("Dense", "sigmoid"), ("Dense", "linear")]
    assert model.layers[5].keep_prob == 0.5          # dropout joins the layer before it
    mlp = xnn.from_torch(_randomize(torch_nets()["mlp"][0]), (20,))
    assert [ly.keep_prob for ly in mlp.layers] == [0.75, 1.0, 1.0]
    assert mlp.layers[-1].activation == "softmax"
    # input dropout and Identity do nothing at inference
    m = xnn.from_torch(nn.Sequential(nn.Dropout(0.2), nn.Identity(), nn.Linear(3, 2)), (3,))
    assert len(m.layers) == 1


@pytest.mark.parametrize("mods, match", [
    (lambda nn: [nn.Conv2d(1, 2, 3), nn.AvgPool2d(2), nn.ReLU(), nn.Flatten(), nn.Linear(2, 2)],
     "average pooling"),
    (lambda nn: [nn.Conv2d(1, 2, 3, dilation=2), nn.Flatten(), nn.Linear(8, 2)], "dilation"),
    (lambda nn: [nn.Conv2d(2, 2, 3, groups=2), nn.Flatten(), nn.Linear(72, 2)], "groups"),
    (lambda nn: [nn.Conv2d(1, 2, 3, padding_mode="reflect", padding=1), nn.Flatten(),
                 nn.Linear(200, 2)], "padding_mode"),
    (lambda nn: [nn.MaxPool2d(2, padding=1), nn.Flatten(), nn.Linear(36, 2)], "padding"),
    (lambda nn: [nn.AvgPool2d(3, ceil_mode=True), nn.Flatten(), nn.Linear(16, 2)], "ceil_mode"),
    (lambda nn: [nn.AdaptiveAvgPool2d(2), nn.Flatten(), nn.Linear(4, 2)], "output_size=1"),
    (lambda nn: [nn.Flatten(), nn.Linear(100, 4), nn.GELU(), nn.Linear(4, 2)],
     "GELU.*not supported; xnn reads Linear, Conv1d"),
    (lambda nn: [nn.Flatten(), nn.Linear(100, 4), nn.ReLU(), nn.BatchNorm1d(4),
                 nn.Linear(4, 2)], "folded into the Linear/Conv layer directly before"),
    (lambda nn: [nn.Flatten(), nn.Linear(100, 4), nn.Softmax(dim=1), nn.Linear(4, 2)],
     "last module"),
    (lambda nn: [nn.Flatten(), nn.Linear(100, 4), nn.Tanh(), nn.ReLU(), nn.Linear(4, 2)],
     "two activations"),
    (lambda nn: [nn.Linear(100, 4)], "dense layer reads flat rows"),
])
def test_torch_refusals(mods, match):
    nn = _torch().nn
    with pytest.raises(ValueError, match=match):
        xnn.from_torch(nn.Sequential(*mods(nn)), (1, 10, 10))


def test_torch_argument_errors():
    nn = _torch().nn
    with pytest.raises(TypeError, match="nn.Sequential"):
        xnn.from_torch(nn.Linear(3, 2), (3,))
    with pytest.raises(TypeError, match="nn.Sequential"):
        xnn.from_torch([1, 2], (3,))


# ---------------------------------------------------------------- ONNX

def _onnx():
    onnx = require("onnx")
    ort = require("onnxruntime")
    return onnx, ort


def _model(nodes, inits, in_shape, out_shape, elem=None, opset=13):
    onnx, _ = _onnx()
    from onnx import TensorProto, helper, numpy_helper
    elem = TensorProto.FLOAT if elem is None else elem
    graph = helper.make_graph(
        nodes, "g", [helper.make_tensor_value_info("x", elem, in_shape)],
        [helper.make_tensor_value_info("y", elem, out_shape)],
        [numpy_helper.from_array(np.asarray(v), k) for k, v in inits.items()])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", opset)])
    proto.ir_version = 8
    onnx.checker.check_model(proto)
    return proto


def _run(proto, X):
    _, ort = _onnx()
    sess = ort.InferenceSession(proto.SerializeToString(), providers=["CPUExecutionProvider"])
    return sess.run(None, {sess.get_inputs()[0].name: X})[0]


def _w(rng, *shape):
    return (rng.normal(size=shape) / np.sqrt(np.prod(shape[1:]) if len(shape) > 1 else 1)
            ).astype(np.float32)


def test_onnx_pytorch_style_cnn(tmp_path):
    onnx, _ = _onnx()
    from onnx import helper
    rng = np.random.RandomState(0)
    inits = {"W1": _w(rng, 4, 1, 3, 3), "B1": _w(rng, 4) * 0.1,
             "W2": _w(rng, 6, 4, 3, 3), "B2": _w(rng, 6) * 0.1,
             "g": np.float32(rng.rand(6) + 0.5), "be": _w(rng, 6) * 0.2,
             "mu": _w(rng, 6) * 0.3, "var": np.float32(rng.rand(6) + 0.5),
             "W3": _w(rng, 16, 24), "B3": _w(rng, 16) * 0.1,    # Gemm transB=1: (out, in)
             "W4": _w(rng, 16, 5), "B4": _w(rng, 5) * 0.1, "ratio": np.float32(0.3)}
    n = helper.make_node
    nodes = [n("Conv", ["x", "W1", "B1"], ["c1"], kernel_shape=[3, 3], pads=[1, 1, 1, 1]),
             n("Relu", ["c1"], ["r1"]),
             n("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             n("Conv", ["p1", "W2"], ["c2"], kernel_shape=[3, 3], strides=[2, 2]),
             n("Add", ["c2", "B2r"], ["c2b"]),
             n("BatchNormalization", ["c2b", "g", "be", "mu", "var"], ["bn"], epsilon=1e-3),
             n("Relu", ["bn"], ["r2"]),
             n("AveragePool", ["r2"], ["p2"], kernel_shape=[1, 1]),
             n("Identity", ["p2"], ["id"]),
             n("Flatten", ["id"], ["f"], axis=1),
             n("Gemm", ["f", "W3", "B3"], ["d1"], transB=1),
             n("Relu", ["d1"], ["r3"]),
             n("Dropout", ["r3", "ratio"], ["dr"]),
             n("Gemm", ["dr", "W4", "B4"], ["d2"], alpha=0.5, beta=2.0),
             n("Softmax", ["d2"], ["y"], axis=1)]
    nodes.insert(0, n("Constant", [], ["B2r"], value=onnx.numpy_helper.from_array(
        inits.pop("B2").reshape(1, 6, 1, 1), "B2r")))
    proto = _model(nodes, inits, ["N", 1, 10, 10], ["N", 5])
    path = tmp_path / "cnn.onnx"
    onnx.save(proto, str(path))
    model = xnn.from_onnx(path)
    assert [type(ly).__name__ for ly in model.layers] == [
        "Conv2d", "MaxPool2d", "Conv2d", "AvgPool2d", "Flatten", "Dense", "Dense"]
    assert model.layers[5].keep_prob == pytest.approx(0.7)
    X = rng.rand(9, 1, 10, 10).astype(np.float32)
    assert rel(model.predict_proba(X), _run(proto, X)) < 2e-6


def test_onnx_tf2onnx_style_nhwc(tmp_path):
    """Keras's layout: NHWC input, a Transpose to NCHW for the convolution,
    back to NHWC before Reshape and MatMul + Add."""
    from onnx import helper
    rng = np.random.RandomState(1)
    inits = {"W1": _w(rng, 5, 2, 3, 3), "B1": _w(rng, 5) * 0.1,
             "shape": np.array([-1, 5 * 3 * 3], np.int64),
             "W2": _w(rng, 45, 7), "B2": _w(rng, 7) * 0.1}
    n = helper.make_node
    nodes = [n("Transpose", ["x"], ["t0"], perm=[0, 3, 1, 2]),
             n("Conv", ["t0", "W1", "B1"], ["c1"], kernel_shape=[3, 3], auto_pad="VALID"),
             n("Relu", ["c1"], ["r1"]),
             n("MaxPool", ["r1"], ["p1"], kernel_shape=[2, 2], strides=[2, 2]),
             n("Transpose", ["p1"], ["t1"], perm=[0, 2, 3, 1]),
             n("Reshape", ["t1", "shape"], ["f"]),
             n("MatMul", ["f", "W2"], ["m"]),
             n("Add", ["m", "B2"], ["a"]),
             n("Softmax", ["a"], ["y"], axis=-1)]
    proto = _model(nodes, inits, ["N", 8, 8, 2], ["N", 7])
    model = xnn.from_onnx(proto)
    assert model.input_shape == (2, 8, 8)
    X = rng.rand(6, 8, 8, 2).astype(np.float32)
    want = _run(proto, X)
    assert rel(model.predict_proba(X.transpose(0, 3, 1, 2)), want) < 2e-6


def test_onnx_conv1d_gap_and_float64(tmp_path):
    from onnx import TensorProto, helper
    rng = np.random.RandomState(2)
    inits = {"W1": _w(rng, 4, 3, 5).astype(np.float64), "B1": np.full(4, 0.1),
             "W2": _w(rng, 4, 3).astype(np.float64), "B2": np.zeros(3)}
    n = helper.make_node
    nodes = [n("Conv", ["x", "W1", "B1"], ["c"], kernel_shape=[5], strides=[2], pads=[2, 2]),
             n("Tanh", ["c"], ["t"]),
             n("GlobalAveragePool", ["t"], ["g"]),
             n("Flatten", ["g"], ["f"]),
             n("Gemm", ["f", "W2", "B2"], ["y"])]
    proto = _model(nodes, inits, ["N", 3, 30], ["N", 3], elem=TensorProto.DOUBLE)
    model = xnn.from_onnx(proto)
    assert model.dtype == np.float64
    assert [type(ly).__name__ for ly in model.layers] == ["Conv1d", "GlobalAvgPool1d", "Dense"]
    X = rng.normal(size=(5, 3, 30))
    # the same network by hand, in NumPy
    Xp = np.pad(X, ((0, 0), (0, 0), (2, 2)))
    cols = np.stack([Xp[:, :, s:s + 5] for s in range(0, 30, 2)], axis=1)   # (m, 15, 3, 5)
    Z = np.einsum("mpck,ock->mop", cols, inits["W1"]) + 0.1
    want = np.tanh(Z).mean(axis=2) @ inits["W2"]
    assert rel(model.predict_proba(X), want) < 1e-12


@pytest.mark.parametrize("dtype", ["float32", "float64"])
def test_to_onnx_round_trip(tmp_path, dtype):
    model = xnn.Sequential([
        L.Conv2d(1, 4, 3, padding=1, activation="relu"), L.MaxPool2d(2),
        L.Conv2d(4, 6, 3, stride=2, activation="tanh"), L.AvgPool2d(1),
        L.Flatten(), L.Dense(24, 10, activation="relu", dropout=0.2),
        L.Dense(10, 4, activation="softmax")], input_shape=(1, 10, 10), seed=3, dtype=dtype)
    gap = xnn.Sequential([L.Conv1d(2, 3, 3, activation="sigmoid"), L.GlobalAvgPool1d(),
                          L.Dense(3, 2)], input_shape=(2, 12), seed=4, dtype=dtype)
    for m, shape in ((model, (1, 10, 10)), (gap, (2, 12))):
        path = m.to_onnx(tmp_path / "m.onnx")
        back = xnn.from_onnx(path)
        assert back.dtype == np.dtype(dtype) and back.input_shape == shape
        for a, b in zip(m.get_weights(), back.get_weights()):
            np.testing.assert_array_equal(a, b)
        assert [ly.keep_prob for ly in back.layers] == [ly.keep_prob for ly in m.layers]
        X = np.random.RandomState(0).rand(8, *shape).astype(dtype)
        np.testing.assert_array_equal(back.predict_proba(X), m.predict_proba(X))
        if dtype == "float32":
            onnx, _ = _onnx()
            assert rel(_run(onnx.load(path), X), m.predict_proba(X)) < 2e-6


@pytest.mark.parametrize("make, match", [
    (lambda h: [h.make_node("LeakyRelu", ["x"], ["y"])], "LeakyRelu.*not supported; xnn reads Gemm"),
    (lambda h: [h.make_node("Transpose", ["x"], ["y"], perm=[0, 2, 1, 3])], "Transpose"),
    (lambda h: [h.make_node("Conv", ["x", "W"], ["y"], kernel_shape=[1, 1], pads=[0, 0, 1, 1])],
     "asymmetric pads"),
    (lambda h: [h.make_node("MaxPool", ["x"], ["y"], kernel_shape=[2, 2], ceil_mode=1)],
     "ceil_mode"),
    (lambda h: [h.make_node("Conv", ["x", "W"], ["c"], kernel_shape=[1, 1]),
                h.make_node("Add", ["c", "x"], ["y"])], "chain"),
])
def test_onnx_refusals(make, match):
    from onnx import helper
    onnx, _ = _onnx()
    nodes = make(helper)
    inits = {"W": np.ones((1, 1, 1, 1), np.float32)} if nodes[0].op_type == "Conv" else {}
    from onnx import TensorProto, numpy_helper
    graph = helper.make_graph(nodes, "g", [helper.make_tensor_value_info(
        "x", TensorProto.FLOAT, ["N", 1, 4, 4])], [helper.make_tensor_value_info(
            "y", TensorProto.FLOAT, None)],
        [numpy_helper.from_array(v, k) for k, v in inits.items()])
    proto = helper.make_model(graph, opset_imports=[helper.make_opsetid("", 13)])
    with pytest.raises(ValueError, match=match):
        xnn.from_onnx(proto)


def test_onnx_file_errors(tmp_path):
    _onnx()
    with pytest.raises(FileNotFoundError, match="path"):
        xnn.from_onnx(tmp_path / "missing.onnx")
    bad = tmp_path / "bad.onnx"
    bad.write_bytes(b"not a model")
    with pytest.raises(ValueError, match="not a readable ONNX model"):
        xnn.from_onnx(bad)
    with pytest.raises(ValueError, match="opset"):
        xnn.Sequential([L.Dense(2, 2)]).to_onnx(tmp_path / "m.onnx", opset=9)


def test_import_xnn_imports_no_optional_library():
    """Neither import xnn nor predictions and explanations of NumPy arrays
    import torch, onnx, dask or scikit-learn's estimators."""
    import subprocess
    import sys
    code = ("import sys, numpy as np, xnn; m = xnn.Sequential([xnn.layers.Dense(4, 2)]); "
            "m.predict(np.ones((3, 4))); xnn.explain.lrp(m, np.ones((3, 4))); "
            "bad = [m for m in ('torch', 'onnx', 'onnxruntime', 'dask', "
            "'distributed', 'sklearn.neural_network', 'xnn.sklearn', 'xnn.interop') "
            "if m in sys.modules]; print(bad)")
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert out.stdout.strip() == "[]"


@pytest.mark.parametrize("name", ["mlp", "lenet5", "conv1d", "strided"])
def test_onnx_exported_by_pytorch(tmp_path, name):
    """Files written by torch.onnx.export (its TorchScript exporter, which
    leaves batch norm after Gemm as BatchNormalization), read back against
    PyTorch and onnxruntime."""
    import warnings
    torch = _torch()
    onnx, _ = _onnx()
    net, shape = torch_nets()[name]
    net = _randomize(net)
    path = tmp_path / f"{name}.onnx"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        torch.onnx.export(net, (torch.zeros(2, *shape),), str(path), dynamo=False,
                          input_names=["x"], output_names=["y"], opset_version=13,
                          dynamic_axes={"x": {0: "N"}, "y": {0: "N"}})
    model = xnn.from_onnx(path)
    X = np.random.RandomState(3).rand(6, *shape).astype(np.float32)
    with torch.no_grad():
        want = net(torch.from_numpy(X)).numpy()
    got = model.predict_proba(X)
    assert rel(got, want) < 2e-6
    assert rel(got, _run(onnx.load(str(path)), X)) < 2e-6
