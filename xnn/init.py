"""Weight initialisers: a registry from name to function.

Each initialiser is ``f(rng, fan_in, fan_out, shape=None) -> W`` with ``W``
shaped ``shape``, by default ``(fan_in, fan_out)`` (a dense layer's); a
convolution passes its weight shape ``(out, in, kh, kw)`` with fan_in =
in·kh·kw and fan_out = out·kh·kw. Biases always start at zero. A
callable of your own may take only ``(rng, fan_in, fan_out)`` for dense
layers; it needs ``shape=`` for convolutions. ``rng`` is a
``numpy.random.RandomState``, the legacy generator behind
``np.random.seed`` and ``np.random.randn``, so ``seed=42`` reproduces code
that called ``np.random.seed(42)`` and then drew each layer in order.

Textbook definitions
    ====================  ===========================================
    glorot_normal         N(0, 2 / (fan_in + fan_out))
    glorot_uniform        U(±sqrt(6 / (fan_in + fan_out)))
    he_normal             N(0, 2 / fan_in)
    he_uniform            U(±sqrt(6 / fan_in))
    lecun_normal          N(0, 1 / fan_in)
    lecun_uniform         U(±sqrt(3 / fan_in))
    zeros                 0
    ====================  ===========================================

``xavier_normal`` and ``xavier_uniform`` are the Glorot ones; ``xavier``,
``glorot``, ``he`` and ``lecun`` alone mean the uniform variants.

The reports' own variants (they differ from the textbook)
    ====================  ===========================================
    mnist_report          N(0, 1 / fan_in), drawn as randn / sqrt(fan_in)
                          (the MNIST report's "Xavier")
    lab_random            U(-0.05, 0.05)        (the lab report's "random")
    lab_lecun             U(±1 / sqrt(fan_in))
    lab_xavier            U(±sqrt(2 / (fan_in + fan_out)))
    lab_he                U(±sqrt(2 / fan_in))
    ====================  ===========================================
"""
import numpy as np


def _size(fan_in, fan_out, shape):
    return (fan_in, fan_out) if shape is None else tuple(shape)


def _normal(std):
    def init(rng, fan_in, fan_out, shape=None):
        return rng.normal(0.0, std(fan_in, fan_out), size=_size(fan_in, fan_out, shape))
    return init


def _uniform(limit):
    def init(rng, fan_in, fan_out, shape=None):
        a = limit(fan_in, fan_out)
        return rng.uniform(-a, a, size=_size(fan_in, fan_out, shape))
    return init


def mnist_report(rng, fan_in, fan_out, shape=None):
    """The MNIST report: ``np.random.randn(fan_in, fan_out) / np.sqrt(fan_in)``."""
    return rng.randn(*_size(fan_in, fan_out, shape)) / np.sqrt(fan_in)


def zeros(rng, fan_in, fan_out, shape=None):
    return np.zeros(_size(fan_in, fan_out, shape))


INITIALIZERS = {
    "glorot_normal": _normal(lambda i, o: np.sqrt(2.0 / (i + o))),
    "glorot_uniform": _uniform(lambda i, o: np.sqrt(6.0 / (i + o))),
    "he_normal": _normal(lambda i, o: np.sqrt(2.0 / i)),
    "he_uniform": _uniform(lambda i, o: np.sqrt(6.0 / i)),
    "lecun_normal": _normal(lambda i, o: np.sqrt(1.0 / i)),
    "lecun_uniform": _uniform(lambda i, o: np.sqrt(3.0 / i)),
    "zeros": zeros,
    "mnist_report": mnist_report,
    "lab_random": _uniform(lambda i, o: 0.05),
    "lab_lecun": _uniform(lambda i, o: 1.0 / np.sqrt(i)),
    "lab_xavier": _uniform(lambda i, o: np.sqrt(2.0 / (i + o))),
    "lab_he": _uniform(lambda i, o: np.sqrt(2.0 / i)),
}
ALIASES = {
    "xavier": "glorot_uniform", "glorot": "glorot_uniform",
    "xavier_normal": "glorot_normal", "xavier_uniform": "glorot_uniform",
    "he": "he_uniform", "lecun": "lecun_uniform",
}


def get(name):
    """The initialiser function for a name (or a callable, returned as is)."""
    if callable(name):
        return name
    if not isinstance(name, str):
        raise TypeError(f"init: expected a name or a callable, got {name!r}")
    key = ALIASES.get(name.lower(), name.lower())
    if key not in INITIALIZERS:
        names = sorted(set(INITIALIZERS) | set(ALIASES))
        raise ValueError(f"init: expected one of {names}, got {name!r}")
    return INITIALIZERS[key]
