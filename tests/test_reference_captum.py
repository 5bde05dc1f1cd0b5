"""The gradient, CAM and DeepLIFT twins (xnn.reference) against Captum on
CNNs and MLPs, float64, to rounding. The torch copies leave out the output
softmax: the logit is explained."""
import warnings

import numpy as np
import pytest

from _deps import require
from _torchnet import conv1d_net, dense, gap_cnn, lenet5, small_cnn, torch_model, tt

from xnn import reference as R

torch = require("torch")
ca = require("captum.attr")
approx = require("captum.attr._utils.approximation_methods")


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def close(a, b, tol=1e-10):
    b = b.detach().numpy() if hasattr(b, "detach") else np.asarray(b)
    scale = max(float(np.max(np.abs(b))), 1e-300)
    np.testing.assert_allclose(a, b, rtol=0, atol=tol * scale)


def mlp(rng, acts=("relu", "tanh", "sigmoid")):
    sizes = (10, 9, 8, 6, 4)
    return [dense(rng, a, b, act) for a, b, act in zip(sizes, sizes[1:], acts + ("softmax",))]


NETS = {"cnn": (small_cnn, (4, 2, 10, 10)), "cnn1d": (conv1d_net, (4, 3, 23)), "gap": (gap_cnn, (4, 1, 9, 9)),
        "lenet": (lenet5, (3, 1, 28, 28)), "mlp": (mlp, (4, 10))}


def setup(rng, name, low=0.0):
    make, shape = NETS[name]
    net = make(rng)
    tm, outs = torch_model(net)
    X = rng.uniform(low, 1, size=shape)
    return net, tm, outs, X, np.arange(shape[0]) % 4


@pytest.mark.parametrize("name", ["cnn", "cnn1d", "lenet"])
def test_gradients_match_captum(name, rng):
    net, tm, _, X, t = setup(rng, name, low=-1.0)
    x, tg = tt(X), tt(t)
    close(np.abs(R.explain_gradient(net, X, t)), ca.Saliency(tm).attribute(x, target=tg, abs=True))
    close(R.explain_gradient(net, X, t, times_input=True), ca.InputXGradient(tm).attribute(x, target=tg))
    close(R.explain_gradient(net, X, t, mode="guided"), ca.GuidedBackprop(tm).attribute(x, target=tg))
    close(R.explain_gradient(net, X, t, mode="deconvnet"), ca.Deconvolution(tm).attribute(x, target=tg))


@pytest.mark.parametrize("name", ["cnn", "cnn1d"])
def test_integrated_gradients_match_captum(name, rng):
    net, tm, _, X, t = setup(rng, name)
    B = 0.2 * rng.uniform(size=X.shape)
    n = 9
    step_sizes, alphas = approx.approximation_parameters("gausslegendre")
    # Captum multiplies the gradients by its step sizes as float32 values
    weights = np.float32(step_sizes(n)).astype(np.float64)
    ours = R.explain_gradient_sum(net, X, B, t, alphas(n), weights, times_delta=True)
    theirs = ca.IntegratedGradients(tm).attribute(tt(X), baselines=tt(B), target=tt(t), n_steps=n)
    close(ours, theirs)


def layer_cases():
    # (net, twin layer): conv layers (their ReLU module) and pooling layers
    return [("cnn", 0), ("cnn", 1), ("cnn", 2), ("cnn", 3), ("cnn1d", 0), ("cnn1d", 3), ("lenet", 2),
            ("gap", 1)]


@pytest.mark.parametrize("name,layer", layer_cases())
def test_grad_cam_matches_captum(name, layer, rng):
    net, tm, outs, X, t = setup(rng, name)
    for relu in (True, False):
        theirs = ca.LayerGradCam(tm, outs[layer]).attribute(tt(X), target=tt(t), relu_attributions=relu)
        close(R.grad_cam(net, X, t, layer, relu=relu), theirs[:, 0])


@pytest.mark.parametrize("name,layer", [("cnn", 0), ("cnn", 2), ("cnn1d", 3), ("lenet", 1)])
@pytest.mark.parametrize("mode", ["nearest", "bilinear"])
def test_guided_grad_cam_matches_captum(name, layer, mode, rng):
    net, tm, outs, X, t = setup(rng, name)
    if mode == "bilinear" and X.ndim == 3:
        mode = "linear"
    theirs = ca.GuidedGradCam(tm, outs[layer]).attribute(tt(X), target=tt(t), interpolate_mode=mode)
    close(R.guided_grad_cam(net, X, t, layer, interpolate_mode=mode), theirs)
    if mode == "nearest":
        cam = ca.LayerGradCam(tm, outs[layer]).attribute(tt(X), target=tt(t), relu_attributions=True)
        up = ca.LayerAttribution.interpolate(cam, tuple(X.shape[2:]))
        size = X.shape[2:] if X.ndim == 4 else X.shape[2]
        close(R.upsample(R.grad_cam(net, X, t, layer), size, "nearest"), up[:, 0])


@pytest.mark.parametrize("name,layer", [("cnn", 0), ("cnn", 2), ("gap", 1)])
def test_grad_cam_plus_plus_follows_pytorch_grad_cam(name, layer, rng):
    """pytorch-grad-cam's GradCAMPlusPlus.get_cam_weights, on torch's own
    activations and gradients (its numpy code, as published)"""
    net, tm, outs, X, t = setup(rng, name)
    store = {}
    h = outs[layer].register_forward_hook(lambda m, i, o: store.update(a=o))
    out = tm(tt(X))
    h.remove()
    grads = torch.autograd.grad(out[torch.arange(len(t)), tt(t)].sum(), store["a"])[0].numpy()
    activations = store["a"].detach().numpy()
    grads_power_2 = grads**2
    grads_power_3 = grads_power_2 * grads
    sum_activations = np.sum(activations, axis=(2, 3))
    eps = 0.000001
    aij = grads_power_2 / (2 * grads_power_2 + sum_activations[:, :, None, None] * grads_power_3 + eps)
    aij = np.where(grads != 0, aij, 0)
    weights = np.maximum(grads, 0) * aij
    weights = np.sum(weights, axis=(2, 3))
    cam = np.maximum((weights[:, :, None, None] * activations).sum(axis=1), 0)
    close(R.grad_cam_plus_plus(net, X, t, layer), cam)


@pytest.mark.parametrize("name", ["mlp", "cnn", "cnn1d", "gap", "lenet"])
def test_deeplift_matches_captum(name, rng):
    net, tm, _, X, t = setup(rng, name)
    B = 0.3 * rng.uniform(size=X.shape)
    X[0, ..., :3] = B[0, ..., :3]           # some inputs equal to the baseline: the fallbacks
    attr, err = R.deeplift(net, X, B, t)
    theirs, delta = ca.DeepLift(tm).attribute(tt(X), baselines=tt(B), target=tt(t), return_convergence_delta=True)
    close(attr, theirs)
    np.testing.assert_allclose(err, delta.detach().numpy(), rtol=0, atol=1e-12)
    bg = rng.uniform(size=(3,) + X.shape[1:])
    attr, err = R.deep_shap(net, X, bg, t)
    theirs, delta = ca.DeepLiftShap(tm).attribute(tt(X), baselines=tt(bg), target=tt(t),
                                                  return_convergence_delta=True)
    close(attr, theirs)
    np.testing.assert_allclose(err, delta.detach().numpy(), rtol=0, atol=1e-12)


def test_captum_max_pool_after_relu_misses_the_score_difference(rng):
    """Captum's chaining of a max pool after a ReLU (maxpool="captum") does
    not sum to the score difference; "rescale" does"""
    net, tm, _, X, t = setup(rng, "cnn")
    B = 0.3 * rng.uniform(size=X.shape)
    _, err = R.deeplift(net, X, B, t)
    assert np.max(np.abs(err)) > 1e-4
    _, err = R.deeplift(net, X, B, t, maxpool="rescale")
    np.testing.assert_allclose(err, 0, atol=1e-13)
