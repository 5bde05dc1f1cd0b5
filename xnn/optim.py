"""Optimizers: small objects that only carry hyper-parameters.

The update itself runs in C inside each training step (``csrc/optim.c``):

    SGD        w -= lr g
    SGD with momentum
               v = momentum v + g;  w -= lr v   (nesterov: w -= lr (g + momentum v))
    Adam       m = b1 m + (1 - b1) g;  v = b2 v + (1 - b2) g^2
               w -= lr m_hat / (sqrt(v_hat) + eps)
"""
from . import _core
from . import _validate as V


class Optimizer:
    code = None

    def params(self):
        return {}


class SGD(Optimizer):
    """Plain or momentum SGD (``momentum=0`` is plain gradient descent)."""

    def __init__(self, lr=0.01, momentum=0.0, nesterov=False):
        self.lr = V.finite_float(lr, "lr", 0.0, low_open=True)
        self.momentum = V.finite_float(momentum, "momentum", 0.0, 1.0, high_open=True)
        self.nesterov = bool(nesterov)
        if self.nesterov and self.momentum == 0:
            raise ValueError("nesterov: needs momentum > 0, got momentum=0")
        self.code = _core.OPT_MOMENTUM if self.momentum > 0 else _core.OPT_SGD

    def params(self):
        return {"lr": self.lr, "momentum": self.momentum, "nesterov": self.nesterov}

    def __repr__(self):
        return f"SGD(lr={self.lr:g}, momentum={self.momentum:g}, nesterov={self.nesterov})"


class Adam(Optimizer):
    def __init__(self, lr=0.001, beta1=0.9, beta2=0.999, eps=1e-8):
        self.lr = V.finite_float(lr, "lr", 0.0, low_open=True)
        self.beta1 = V.finite_float(beta1, "beta1", 0.0, 1.0, high_open=True)
        self.beta2 = V.finite_float(beta2, "beta2", 0.0, 1.0, high_open=True)
        self.eps = V.finite_float(eps, "eps", 0.0, low_open=True)
        self.code = _core.OPT_ADAM

    def params(self):
        return {"lr": self.lr, "beta1": self.beta1, "beta2": self.beta2, "eps": self.eps}

    def __repr__(self):
        return f"Adam(lr={self.lr:g}, beta1={self.beta1:g}, beta2={self.beta2:g}, eps={self.eps:g})"


def get(optimizer, lr):
    """An Optimizer from a name (``"sgd"``, ``"momentum"``, ``"nesterov"``,
    ``"adam"``) and a learning rate, or an Optimizer instance as is."""
    if isinstance(optimizer, Optimizer):
        return optimizer
    name = V.choice(optimizer, "optimizer", {"sgd", "momentum", "nesterov", "adam"})
    if name == "sgd":
        return SGD(lr)
    if name == "momentum":
        return SGD(lr, momentum=0.9)
    if name == "nesterov":
        return SGD(lr, momentum=0.9, nesterov=True)
    return Adam(lr)
