"""xnn's C kernels on convolutional networks against PyTorch, Captum and
Zennit on the same weights, float64: LeNet-5's and a Conv1d net's forward
and training gradients to 1e-10, the gradient methods against Captum, the
LRP presets against Zennit's."""
import warnings

import numpy as np
import pytest

from _deps import require
from _torchnet import conv1d_net, gap_cnn, lenet5, small_cnn, torch_model, tt
from _zennit import import_zennit
from conftest import model_of

import xnn.explain as E

torch = require("torch")

TOL = 1e-10


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def close(a, b, tol=TOL):
    scale = max(1e-300, float(np.max(np.abs(b))))
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


NETS = {"lenet5": (lenet5, (1, 28, 28)), "conv1d": (conv1d_net, (3, 23)),
        "cnn": (small_cnn, (2, 10, 10)), "gap": (gap_cnn, (1, 9, 9))}


def pair(name, rng, bias=0.1):
    make, shape = NETS[name]
    net = make(rng, bias=bias)
    tm, outputs = torch_model(net)
    return net, model_of(net, shape), tm, outputs, shape


@pytest.mark.parametrize("name", ["lenet5", "conv1d"])
def test_forward_and_training_gradients_equal_pytorch(name, rng):
    net, model, tm, _, shape = pair(name, rng)
    X = rng.uniform(size=(17,) + shape)
    y = rng.integers(0, model.n_out, 17)
    logits = tm(tt(X))
    close(model.predict_proba(X), torch.softmax(logits, 1).detach().numpy())
    loss = torch.nn.functional.cross_entropy(logits, tt(y))
    loss.backward()
    params = [p for p in tm.parameters()]
    before = model.get_weights()
    hist = model.fit(X, y, epochs=1, lr=1.0, verbose=0)
    close(np.array(hist.history["loss"][0]), np.array(loss.item()))
    for b0, b1, p in zip(before, model.get_weights(), params):
        g = p.grad.numpy()
        if b0.ndim == 2 and g.shape == b0.shape[::-1]:       # Linear: (out, in)
            g = g.T
        close(b0 - b1, g)


@pytest.mark.parametrize("name", list(NETS))
def test_gradient_methods_equal_captum(name, rng):
    ca = require("captum.attr")
    net, model, tm, _, shape = pair(name, rng)
    X = rng.uniform(size=(6,) + shape)
    t = np.arange(6) % model.n_out
    x = tt(X)
    close(E.saliency(model, X, t), ca.Saliency(tm).attribute(x, target=tt(t), abs=True).detach().numpy())
    close(E.input_x_gradient(model, X, t),
          ca.InputXGradient(tm).attribute(x, target=tt(t)).detach().numpy())
    close(E.guided_backprop(model, X, t),
          ca.GuidedBackprop(tm).attribute(x, target=tt(t)).detach().numpy())
    close(E.deconvnet(model, X, t), ca.Deconvolution(tm).attribute(x, target=tt(t)).detach().numpy())
    B = np.full(shape, 0.1)
    ours = E.integrated_gradients(model, X, t, baseline=B, steps=11)
    theirs = ca.IntegratedGradients(tm).attribute(x, baselines=tt(np.broadcast_to(B, X.shape).copy()),
                                                  target=tt(t), n_steps=11)
    # Captum keeps its Gauss-Legendre weights in float32: 1e-7 relative
    close(ours, theirs.detach().numpy(), tol=1e-6)


def zennit_lrp(tm, X, t, n, composite):
    from zennit.attribution import Gradient
    onehot = torch.eye(n, dtype=torch.float64)[tt(t)]
    x = tt(X).requires_grad_(True)
    with Gradient(model=tm, composite=composite) as attributor:
        _, rel = attributor(x, lambda out: onehot * out)
    return rel.detach().numpy()


@pytest.mark.parametrize("preset", ["epsilon-plus", "epsilon-plus-flat", "epsilon-gamma-box",
                                    "epsilon-alpha2-beta1", "epsilon-alpha2-beta1-flat"])
@pytest.mark.parametrize("name", list(NETS))
def test_lrp_presets_equal_zennit(name, preset, rng):
    import_zennit()
    from zennit.composites import COMPOSITES
    net, model, tm, _, shape = pair(name, rng, bias=0.2)
    X = rng.uniform(size=(4,) + shape)
    t = np.arange(4) % model.n_out
    key = preset.replace("-", "_")
    if preset == "epsilon-gamma-box":
        low = -0.5 * rng.uniform(size=shape)
        comp = COMPOSITES[key](low=tt(low[None]), high=1.0)
        ours = E.lrp(model, X, t, composite=preset, low=low, high=1.0)
    else:
        comp = COMPOSITES[key]()
        ours = E.lrp(model, X, t, composite=preset)
    close(ours, zennit_lrp(tm, X, t, model.n_out, comp))


def test_lrp_presets_on_an_mlp_equal_zennit(rng):
    """on an MLP Zennit's presets give ε to every dense layer but the first
    of the -flat ones, which gets flat"""
    import_zennit()
    from zennit.composites import COMPOSITES
    from _torchnet import dense
    net = [dense(rng, 12, 9, bias=0.2), dense(rng, 9, 7, "tanh", bias=0.2),
           dense(rng, 7, 4, "softmax", bias=0.2)]
    model = model_of(net, (12,))
    tm, _ = torch_model(net)
    X = rng.uniform(size=(4, 12))
    t = np.arange(4)
    for preset in ("epsilon-plus", "epsilon-plus-flat", "epsilon-gamma-box",
                   "epsilon-alpha2-beta1"):
        comp = COMPOSITES[preset.replace("-", "_")](**({"low": -1.0, "high": 1.0}
                                                      if "gamma" in preset else {}))
        kw = {"low": -1.0, "high": 1.0} if "gamma" in preset else {}
        close(E.lrp(model, X, t, composite=preset, **kw), zennit_lrp(tm, X, t, 4, comp))


@pytest.mark.parametrize("name", ["lenet5", "cnn", "conv1d"])
def test_grad_cam_and_guided_grad_cam_equal_captum(name, rng):
    ca = require("captum.attr")
    net, model, tm, outputs, shape = pair(name, rng)
    X = rng.uniform(size=(5,) + shape)
    t = np.arange(5) % model.n_out
    x = tt(X)
    for layer, ly in enumerate(model.layers[:-1]):
        if len(ly.output_shape_) < 2 or np.prod(ly.output_shape_[1:]) == 1:
            continue
        module = outputs[layer]
        theirs = ca.LayerGradCam(tm, module).attribute(x, target=tt(t), relu_attributions=True)
        ours = E.grad_cam(model, X, t, layer=layer, interpolate=None)
        close(ours, theirs.detach().numpy().reshape(np.shape(ours)))
        mode = "bilinear" if len(shape) == 3 else "linear"
        up = ca.LayerAttribution.interpolate(theirs, shape[1:], interpolate_mode=mode)
        close(E.grad_cam(model, X, t, layer=layer), up.detach().numpy().reshape((5,) + shape[1:]))
        if len(shape) == 3:
            ggc = ca.GuidedGradCam(tm, module).attribute(x, target=tt(t))
            close(E.guided_grad_cam(model, X, t, layer=layer), ggc.detach().numpy())


@pytest.mark.parametrize("name", list(NETS))
def test_deeplift_and_deeplift_shap_equal_captum(name, rng):
    ca = require("captum.attr")
    net, model, tm, _, shape = pair(name, rng)
    X = rng.uniform(size=(4,) + shape)
    B = rng.uniform(size=(4,) + shape) * 0.2
    t = np.arange(4) % model.n_out
    theirs = ca.DeepLift(tm).attribute(tt(X), baselines=tt(B), target=tt(t)).detach().numpy()
    close(E.deeplift(model, X, B, t, maxpool="captum"), theirs)
    bg = rng.uniform(size=(3,) + shape) * 0.3
    theirs = ca.DeepLiftShap(tm).attribute(tt(X), baselines=tt(bg), target=tt(t)).detach().numpy()
    close(E.deep_shap(model, X, bg, t, maxpool="captum"), theirs)
