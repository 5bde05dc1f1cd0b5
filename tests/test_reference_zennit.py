"""The LRP twin (xnn.reference.lrp, zennit_preset) against Zennit's rules
and composites on CNNs and MLPs, float64, to rounding."""
import warnings

import numpy as np
import pytest

from _torchnet import conv1d_net, dense, gap_cnn, small_cnn, torch_model, tt
from _zennit import import_zennit

from xnn import reference as R

import_zennit()
import torch  # noqa: E402
from zennit import rules as ZR  # noqa: E402
from zennit.attribution import Gradient  # noqa: E402
from zennit.composites import (COMPOSITES, LayerMapComposite, SpecialFirstLayerMapComposite,  # noqa: E402
                               layer_map_base)
from zennit.types import AvgPool, Convolution, Linear  # noqa: E402

RTOL = 1e-10


@pytest.fixture(autouse=True)
def _quiet():
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")
        yield


def zennit_lrp(net, X, t, composite, start="logit"):
    tm, _ = torch_model(net)
    n = R.network_forward(net, X[:1])[0][-1].shape[1]
    onehot = torch.eye(n, dtype=torch.float64)[tt(t)]
    x = tt(X).requires_grad_(True)
    with Gradient(model=tm, composite=composite) as attributor:
        _, rel = attributor(x, (lambda out: onehot * out) if start == "logit" else onehot)
    return rel.detach().numpy()


def close(a, b):
    scale = float(np.max(np.abs(b)))
    assert scale > 0
    np.testing.assert_allclose(a, b, rtol=0, atol=RTOL * scale)


def mlp(rng, bias=0.2):
    return [dense(rng, 12, 9, bias=bias), dense(rng, 9, 7, "tanh", bias=bias), dense(rng, 7, 4, "softmax", bias=bias)]


NETS = {"cnn": (small_cnn, (4, 2, 10, 10)), "cnn1d": (conv1d_net, (4, 3, 23)), "gap": (gap_cnn, (4, 1, 9, 9)),
        "mlp": (mlp, (4, 12))}


def data(rng, shape, low=0.0):
    return rng.uniform(low, 1.0, size=shape)


@pytest.mark.parametrize("netname", list(NETS))
@pytest.mark.parametrize("preset", ["epsilon_plus", "epsilon_plus_flat", "epsilon_gamma_box",
                                    "epsilon_alpha2_beta1", "epsilon_alpha2_beta1_flat"])
def test_presets_match_zennit(netname, preset, rng):
    make, shape = NETS[netname]
    net = make(rng, bias=0.2)
    X = data(rng, shape)
    t = np.array([0, 1, 2, 3])
    kwargs = {}
    if preset == "epsilon_gamma_box":
        low = -0.5 * rng.uniform(size=shape[1:])        # bounds per input position
        kwargs = dict(low=low, high=1.0)
        comp = COMPOSITES[preset](low=tt(low[None]), high=1.0)
    else:
        comp = COMPOSITES[preset]()
    ours = R.lrp(net, X, t, R.zennit_preset(net, preset, **kwargs))[0]
    close(ours, zennit_lrp(net, X, t, comp))


@pytest.mark.parametrize("preset", ["epsilon_plus_flat", "epsilon_gamma_box"])
def test_presets_with_other_parameters_and_no_bias(preset, rng):
    net = small_cnn(rng, bias=0.2)
    X = data(rng, (3, 2, 10, 10), low=-0.5)
    t = np.array([3, 2, 1])
    p = dict(epsilon=1e-3, stabilizer=1e-4, zero_params=["bias"])
    if preset == "epsilon_gamma_box":
        p.update(gamma=0.5, low=-1.0, high=1.0)
    ours = R.lrp(net, X, t, R.zennit_preset(net, preset, **p), start="onehot")[0]
    close(ours, zennit_lrp(net, X, t, COMPOSITES[preset](**p), start="onehot"))


def single(conv_rule, first=None):
    """a composite: conv_rule on every convolution (first on the first
    Linear if given), Epsilon(1e-6) on dense layers, Norm on average pools"""
    layer_map = layer_map_base() + [(Convolution, conv_rule), (torch.nn.Linear, ZR.Epsilon(1e-6))]
    if first is None:
        return LayerMapComposite(layer_map=layer_map)
    return SpecialFirstLayerMapComposite(layer_map=layer_map, first_map=[(Linear, first)])


@pytest.mark.parametrize("kind", ["epsilon", "zero", "zplus", "alphabeta", "gamma", "flat", "wsquare", "zbox"])
@pytest.mark.parametrize("netname", ["cnn", "cnn1d"])
def test_rules_on_conv_layers_match_zennit(kind, netname, rng):
    """every rule on convolutions, through the unrolled matrix; tanh layers
    and inputs of both signs, so negative inputs and outputs are met"""
    make, shape = NETS[netname]
    net = make(rng, bias=0.2)
    for ly in net[:-1]:
        if ly["op"] in R.PARAMETRIC:
            ly["act"] = "tanh"
    X = data(rng, shape, low=-1.0)
    t = np.array([0, 1, 2, 3])
    eps = dict(rule="epsilon", epsilon=1e-6)
    conv = {"epsilon": (ZR.Epsilon(1e-6), eps),
            "zero": (ZR.Epsilon(0.0), dict(rule="zero")),
            "zplus": (ZR.ZPlus(), dict(rule="alphabeta", alpha=1.0, beta=0.0, epsilon=1e-6)),
            "alphabeta": (ZR.AlphaBeta(2.0, 1.0), dict(rule="alphabeta", alpha=2.0, beta=1.0, epsilon=1e-6)),
            "gamma": (ZR.Gamma(0.3), dict(rule="gamma", gamma=0.3, generalized=True, epsilon=1e-6))}
    first = {"flat": (ZR.Flat(), dict(rule="flat", epsilon=1e-6)),
             "wsquare": (ZR.WSquare(), dict(rule="wsquare", epsilon=1e-6)),
             "zbox": (ZR.ZBox(low=-1.0, high=tt(np.full((1,) + shape[1:], 1.5))),
                      dict(rule="zbox", low=-1.0, high=np.full(shape[1:], 1.5), epsilon=1e-6))}
    if kind in conv:
        comp = single(conv[kind][0])
        rules = [conv[kind][1] if ly["op"].startswith("conv") else eps if ly["op"] == "dense" else None
                 for ly in net]
    else:
        comp = single(ZR.Epsilon(1e-6), first[kind][0])
        rules = [first[kind][1]] + [eps if ly["op"] in R.PARAMETRIC else None for ly in net[1:]]
    close(R.lrp(net, X, t, rules)[0], zennit_lrp(net, X, t, comp))


def test_pool_rules_match_zennit_norm(rng):
    """average pools: Norm; maxpool="norm" is Norm over the average pool of
    the max pool's windows; Zennit's Norm on a MaxPool module is the
    winner-takes-all scaled by a_max / stab(a_max)"""
    A = rng.uniform(size=(3, 2, 9, 9))
    A[0, 0, :4, :4] = 0                               # a dead window
    pools = [({"op": "avgpool2d", "kernel": 3, "stride": 2}, torch.nn.AvgPool2d(3, 2)),
             ({"op": "maxpool2d", "kernel": 3, "stride": 2}, torch.nn.AvgPool2d(3, 2)),
             ({"op": "gap2d"}, torch.nn.AdaptiveAvgPool2d(1))]
    for spec, mod in pools:
        Y = R.layer_forward({"op": "avgpool2d", "kernel": 3, "stride": 2} if spec["op"] == "maxpool2d" else spec,
                            A)[1]
        Rt = rng.normal(size=Y.shape)
        x = tt(A).requires_grad_(True)
        comp = LayerMapComposite(layer_map=[(AvgPool, ZR.Norm())])
        grad_out = tt(Rt.reshape(Rt.shape + (1, 1))) if spec["op"] == "gap2d" else tt(Rt)
        with Gradient(model=mod, composite=comp) as attributor:
            _, rel = attributor(x, grad_out)
        close(R.lrp_pool(spec, A, Rt, maxpool="norm"), rel.detach().numpy())
    spec = {"op": "maxpool2d", "kernel": 2}
    Y = R.maxpool2d_forward(A, 2)[0]
    Rt = rng.normal(size=Y.shape)
    x = tt(A).requires_grad_(True)
    comp = LayerMapComposite(layer_map=[(torch.nn.MaxPool2d, ZR.Norm())])
    with Gradient(model=torch.nn.MaxPool2d(2), composite=comp) as attributor:
        _, rel = attributor(x, tt(Rt))
    close(R.lrp_pool(spec, A, Rt * Y / (Y + 1e-6)), rel.detach().numpy())
