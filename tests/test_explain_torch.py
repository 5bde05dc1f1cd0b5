"""Cross-checks against Captum and Zennit (skipped without torch, captum or
zennit, except under CI=true, where they must run). A float64 torch copy
of the network must give the same numbers to float64 rounding where the
conventions coincide (xnn.explain's docstring)."""
import warnings

import numpy as np
import pytest

from _deps import require
from _zennit import import_zennit

import xnn
import xnn.explain as E
from xnn.explain import rules

torch = require("torch")

SIZES = (30, 24, 16, 6)


def make(bias=0.2, seed=3):
    layers = [xnn.layers.Dense(a, b, activation="relu") for a, b in zip(SIZES[:-2], SIZES[1:-1])]
    layers.append(xnn.layers.Dense(SIZES[-2], SIZES[-1], activation="softmax"))
    model = xnn.Sequential(layers, seed=seed, dtype="float64")
    rng = np.random.RandomState(seed)
    w = []
    for ly in model.layers:
        w += [rng.randn(ly.n_in, ly.n_out) / np.sqrt(ly.n_in), bias * rng.randn(ly.n_out)]
    model.set_weights(w)
    mods = []
    for i, ly in enumerate(model.layers):
        lin = torch.nn.Linear(ly.n_in, ly.n_out).double()
        with torch.no_grad():
            lin.weight.copy_(torch.from_numpy(ly.W.T.copy()))
            lin.bias.copy_(torch.from_numpy(ly.b.copy()))
        mods.append(lin)
        if i < len(model.layers) - 1:
            mods.append(torch.nn.ReLU())
    tm = torch.nn.Sequential(*mods).double().eval()
    X = np.random.RandomState(seed + 1).uniform(0, 1, size=(8, SIZES[0]))
    t = np.arange(8) % SIZES[-1]
    return model, tm, X, t


def tt(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def close(a, b):
    np.testing.assert_allclose(a, b, rtol=1e-10, atol=1e-12)


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


# ---------------------------------------------------------------- Captum

def test_captum_gradients():
    ca = require("captum.attr")
    model, tm, X, t = make()
    close(E.saliency(model, X, t), ca.Saliency(tm).attribute(tt(X), target=tt(t), abs=True).detach().numpy())
    close(E.input_x_gradient(model, X, t), ca.InputXGradient(tm).attribute(tt(X), target=tt(t)).detach().numpy())
    close(E.guided_backprop(model, X, t), ca.GuidedBackprop(tm).attribute(tt(X), target=tt(t)).detach().numpy())
    close(E.deconvnet(model, X, t), ca.Deconvolution(tm).attribute(tt(X), target=tt(t)).detach().numpy())


@pytest.mark.parametrize("method", ["gausslegendre", "riemann_trapezoid", "riemann_left",
                                    "riemann_right", "riemann_middle"])
def test_captum_integrated_gradients(method):
    ca = require("captum.attr")
    model, tm, X, t = make()
    B = np.full(SIZES[0], 0.1)
    ours = E.integrated_gradients(model, X, t, baseline=B, steps=17, method=method, return_error=True)
    theirs, delta = ca.IntegratedGradients(tm).attribute(
        tt(X), baselines=tt(np.tile(B, (8, 1))), target=tt(t), n_steps=17, method=method,
        return_convergence_delta=True)
    # Captum's points and step weights are float32 values: 1e-7 relative;
    # its trapezoid weights sum to (n - 1) / n instead of 1
    scale = 16 / 17 if method == "riemann_trapezoid" else 1.0
    np.testing.assert_allclose(scale * np.asarray(ours), theirs.detach().numpy(), rtol=1e-6,
                               atol=1e-9)
    if method != "riemann_trapezoid":
        np.testing.assert_allclose(ours.error, delta.detach().numpy(), rtol=1e-6, atol=1e-7)


@pytest.mark.parametrize("kind", ["epsilon", "gamma", "zplus"])
def test_captum_lrp(kind):
    require("captum.attr")
    from captum.attr import LRP
    from captum.attr._utils import lrp_rules as CR
    model, tm, X, t = make()
    if kind == "epsilon":
        make_rule, ours = (lambda: CR.EpsilonRule(epsilon=1e-6)), dict(rule="epsilon", epsilon=1e-6)
    elif kind == "gamma":
        make_rule = lambda: CR.GammaRule(gamma=0.25, set_bias_to_zero=True)  # noqa: E731
        ours = dict(rule=rules.Gamma(0.25, epsilon=1e-9), bias=False)
    else:
        make_rule = lambda: CR.Alpha1_Beta0_Rule(set_bias_to_zero=True)  # noqa: E731
        ours = dict(rule=rules.ZPlus(epsilon=1e-9), bias=False)
    for mod in tm:
        if isinstance(mod, torch.nn.Linear):
            mod.rule = make_rule()
    theirs = LRP(tm).attribute(tt(X), target=tt(t)).detach().numpy()
    np.testing.assert_allclose(E.lrp(model, X, t, **ours), theirs, rtol=1e-7, atol=1e-10)


# ---------------------------------------------------------------- Zennit

@pytest.mark.parametrize("kind", ["epsilon", "zplus", "alphabeta", "flat", "wsquare", "box"])
def test_zennit_rules(kind):
    import_zennit()
    from zennit import rules as ZR
    from zennit.attribution import Gradient
    from zennit.composites import LayerMapComposite, SpecialFirstLayerMapComposite
    from zennit.types import Linear
    model, tm, X, t = make()
    first = {"box": (ZR.ZBox(low=0.0, high=1.0), rules.ZBox(0.0, 1.0)),
             "flat": (ZR.Flat(), rules.Flat()), "wsquare": (ZR.WSquare(), rules.WSquare())}
    if kind in first:  # input-layer rules, epsilon above
        comp = SpecialFirstLayerMapComposite(layer_map=[(Linear, ZR.Epsilon(1e-6))],
                                             first_map=[(Linear, first[kind][0])])
        ours = [first[kind][1], rules.Epsilon(1e-6), rules.Epsilon(1e-6)]
    else:
        zr, ours = {"epsilon": (ZR.Epsilon(1e-6), rules.Epsilon(1e-6)),
                    "zplus": (ZR.ZPlus(), rules.ZPlus()),
                    "alphabeta": (ZR.AlphaBeta(2.0, 1.0), rules.AlphaBeta(2.0, 1.0))}[kind]
        comp = LayerMapComposite(layer_map=[(Linear, zr)])
    x = tt(X).requires_grad_(True)
    with Gradient(model=tm, composite=comp) as attributor:
        _, R = attributor(x, torch.eye(SIZES[-1], dtype=torch.float64)[tt(t)])
    close(E.lrp(model, X, t, rule=ours, start="onehot"), R.detach().numpy())
    if kind in ("zplus", "alphabeta"):  # negative inputs: (a w)+ = a+ w+ + a- w-
        Xn = X - 0.5
        x = tt(Xn).requires_grad_(True)
        with Gradient(model=tm, composite=comp) as attributor:
            _, R = attributor(x, torch.eye(SIZES[-1], dtype=torch.float64)[tt(t)])
        close(E.lrp(model, Xn, t, rule=ours, start="onehot"), R.detach().numpy())
