"""Float64 PyTorch copies of the NumPy network twins (xnn.reference) and a
few random networks, for the cross-checks against PyTorch, Captum and
Zennit."""
import numpy as np

from _deps import require

from xnn import reference as R

torch = require("torch")

ACT_MODULES = {"relu": torch.nn.ReLU, "tanh": torch.nn.Tanh, "sigmoid": torch.nn.Sigmoid}


def tt(a):
    return torch.from_numpy(np.ascontiguousarray(a))


def torch_model(net, final_act=False):
    """(model, outputs): a torch.nn.Sequential computing net in float64, and
    for every twin layer l the module whose output is A_l (its activation
    module, if any). The last layer's activation is left out unless
    final_act (the model then returns the logits)."""
    net = R.as_network(net)
    mods, outputs = [], []
    for l, ly in enumerate(net):
        op = ly["op"]
        if op == "dense":
            m = torch.nn.Linear(*ly["W"].shape, bias=ly["b"] is not None)
            w = ly["W"].T
        elif op in ("conv2d", "conv1d"):
            cls = torch.nn.Conv2d if op == "conv2d" else torch.nn.Conv1d
            O, C = ly["W"].shape[:2]
            m = cls(C, O, ly["W"].shape[2:], stride=ly["stride"], padding=ly["padding"],
                    bias=ly["b"] is not None)
            w = ly["W"]
        elif op in ("maxpool2d", "maxpool1d", "avgpool2d", "avgpool1d"):
            cls = {"maxpool2d": torch.nn.MaxPool2d, "maxpool1d": torch.nn.MaxPool1d,
                   "avgpool2d": torch.nn.AvgPool2d, "avgpool1d": torch.nn.AvgPool1d}[op]
            m = cls(ly["kernel"], ly["stride"])
        elif op == "gap2d":
            mods.append(torch.nn.AdaptiveAvgPool2d(1))
            m = torch.nn.Flatten()
        elif op == "gap1d":
            mods.append(torch.nn.AdaptiveAvgPool1d(1))
            m = torch.nn.Flatten()
        else:
            m = torch.nn.Flatten()
        if op in R.PARAMETRIC:
            m = m.double()
            with torch.no_grad():
                m.weight.copy_(tt(w))
                if ly["b"] is not None:
                    m.bias.copy_(tt(ly["b"]))
        mods.append(m)
        act = ly.get("act", "linear")
        if act in ACT_MODULES and (l < len(net) - 1 or final_act):
            mods.append(ACT_MODULES[act]())
        elif act == "softmax" and final_act:
            mods.append(torch.nn.Softmax(dim=1))
        outputs.append(mods[-1])
    return torch.nn.Sequential(*mods).double().eval(), outputs


def _w(rng, shape, fan_in):
    return rng.normal(size=shape) / np.sqrt(fan_in)


def dense(rng, n_in, n_out, act="relu", bias=0.1):
    return {"op": "dense", "W": _w(rng, (n_in, n_out), n_in), "b": bias * rng.normal(size=n_out),
            "act": act}


def conv2d(rng, c_in, c_out, k, act="relu", stride=1, padding=0, bias=0.1):
    return {"op": "conv2d", "W": _w(rng, (c_out, c_in, k, k), c_in * k * k),
            "b": bias * rng.normal(size=c_out), "act": act, "stride": stride, "padding": padding}


def conv1d(rng, c_in, c_out, k, act="relu", stride=1, padding=0, bias=0.1):
    return {"op": "conv1d", "W": _w(rng, (c_out, c_in, k), c_in * k),
            "b": bias * rng.normal(size=c_out), "act": act, "stride": stride, "padding": padding}


def lenet5(rng, bias=0.1):
    """LeNet-5 on (1, 28, 28): 6c5 pad 2, maxpool 2, 16c5, maxpool 2, 120, 84, 10."""
    return [conv2d(rng, 1, 6, 5, padding=2, bias=bias), {"op": "maxpool2d", "kernel": 2},
            conv2d(rng, 6, 16, 5, bias=bias), {"op": "maxpool2d", "kernel": 2}, {"op": "flatten"},
            dense(rng, 400, 120, bias=bias), dense(rng, 120, 84, bias=bias),
            dense(rng, 84, 10, "softmax", bias=bias)]


def small_cnn(rng, bias=0.1, pool="maxpool2d", act="relu"):
    """conv-act-pool-conv-act-avgpool-flatten-dense-act-dense on (2, 10, 10)."""
    return [conv2d(rng, 2, 4, 3, act, padding=1, bias=bias), {"op": pool, "kernel": 2},
            conv2d(rng, 4, 5, 3, act, bias=bias), {"op": "avgpool2d", "kernel": 3},
            {"op": "flatten"}, dense(rng, 5, 7, act, bias=bias), dense(rng, 7, 4, "softmax", bias=bias)]


def conv1d_net(rng, bias=0.1):
    """conv1d-relu-maxpool-conv1d-relu-avgpool-flatten-dense-dense on (3, 23)."""
    return [conv1d(rng, 3, 4, 5, padding=2, bias=bias), {"op": "maxpool1d", "kernel": 2},
            conv1d(rng, 4, 6, 3, stride=2, bias=bias), {"op": "avgpool1d", "kernel": 2, "stride": 1},
            {"op": "flatten"}, dense(rng, 6 * 4, 8, bias=bias), dense(rng, 8, 5, "softmax", bias=bias)]


def gap_cnn(rng, bias=0.1):
    """conv-relu-conv-relu-gap-dense on (1, 9, 9), the net CAM is defined for."""
    return [conv2d(rng, 1, 3, 3, padding=1, bias=bias), conv2d(rng, 3, 5, 3, bias=bias),
            {"op": "gap2d"}, dense(rng, 5, 4, "softmax", bias=bias)]
